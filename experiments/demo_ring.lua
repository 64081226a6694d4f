-- demo_ring.lua: a small GAN on a ring of 8 Gaussians, written with raw
-- tensors and autodiff only (no nn / optim modules, no experiment harness), to
-- show the core works end to end.  `make demo` runs it.
--
--   luagan experiments/demo_ring.lua [--steps N] [--seed N] [--batch N]
--                                    [--lr X] [--threads N] [--out DIR] [--help]
--
-- Data: 8 Gaussians on a circle of radius 2, std 0.02 (WGAN-GP's gan_toy.py
-- `8gaussians` before its scaling); a real batch holds batch/8 points per mode.
-- G: z ~ N(0, I_2) -> 128 -> 128 -> 2, D: 2 -> 128 -> 128 -> 1, ReLU, He-scaled
-- weights; non-saturating loss, one D step then one G step, each with an Adam
-- written below in tensor ops.  Reports the modes covered (/8) and the share of
-- high-quality samples (the VEEGAN / PacGAN protocol, lg.metrics.mode_coverage)
-- of 2,500 samples, written to OUT/samples.csv.
local lg = rawget(_G, "lg") or require "luagan"

-- ------------------------------------------------------------ options
local defaults = {
  steps = 3000, seed = 1, batch = 256, lr = 1e-3, threads = 1, out = "runs/demo_ring",
}
local kinds = { steps = "int", seed = "int", batch = "int", lr = "number", threads = "int", out = "string" }
local order = { "steps", "seed", "batch", "lr", "threads", "out" }

local function usage()
  local parts = {}
  for _, k in ipairs(order) do parts[#parts + 1] = ("--%s %s (default %s)"):format(k, kinds[k], tostring(defaults[k])) end
  return "usage: luagan experiments/demo_ring.lua [options]\n  " .. table.concat(parts, "\n  ")
end

local cfg = {}
for k, v in pairs(defaults) do cfg[k] = v end
do
  local args = arg or {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--help" or a == "-h" then print(usage()); os.exit(0) end
    local key, inline = a:match("^%-%-([%w_]+)=(.*)$")
    if not key then key = a:match("^%-%-([%w_]+)$") end
    if not key or not kinds[key] then
      io.stderr:write(("demo_ring: unknown option '%s'\n%s\n"):format(a, usage()))
      os.exit(2)
    end
    local val = inline
    if val == nil then i = i + 1; val = args[i] end
    if val == nil then
      io.stderr:write(("demo_ring: --%s needs a value\n"):format(key)); os.exit(2)
    end
    if kinds[key] ~= "string" then
      local n = tonumber(val)
      if not n or (kinds[key] == "int" and (n ~= math.floor(n) or n < 0)) then
        io.stderr:write(("demo_ring: --%s expects %s, got '%s'\n"):format(key, kinds[key] == "int" and "a non-negative integer" or "a number", val))
        os.exit(2)
      end
      val = kinds[key] == "int" and math.tointeger(n) or n
    end
    cfg[key] = val
    i = i + 1
  end
end
if cfg.threads < 1 then
  io.stderr:write("demo_ring: --threads must be at least 1\n"); os.exit(2)
end
-- One thread by default: these matrices are small ([256,128]), and on the
-- 2-core machine a second OpenMP thread mostly waits at barriers.
lg.set_num_threads(cfg.threads)
if cfg.batch < 8 or cfg.batch % 8 ~= 0 then
  io.stderr:write("demo_ring: --batch must be a positive multiple of 8 (one share per mode)\n"); os.exit(2)
end

-- ------------------------------------------------------------ data
local NMODES, RADIUS, STD = 8, 2.0, 0.02
local centres_list = {}
for k = 0, NMODES - 1 do
  local th = 2 * math.pi * k / NMODES
  centres_list[k + 1] = { RADIUS * math.cos(th), RADIUS * math.sin(th) }
end
local centres = lg.tensor(centres_list)                       -- [8,2]

-- batch/8 copies of each centre, built once: [batch,2]
local function repeated_centres(n)
  local rows = {}
  for i = 1, n do rows[i] = centres_list[(i - 1) % NMODES + 1] end
  return lg.tensor(rows)
end

lg.manual_seed(cfg.seed)
local real_means = repeated_centres(cfg.batch)
local function real_batch() return real_means + lg.randn(cfg.batch, 2) * STD end

-- ------------------------------------------------------------ models
local function param(t) t.requires_grad = true; return t end
local function layer(nin, nout)
  return { w = param(lg.randn(nout, nin) * math.sqrt(2 / nin)), b = param(lg.zeros(nout)) }
end
local G = { layer(2, 128), layer(128, 128), layer(128, 2) }
local D = { layer(2, 128), layer(128, 128), layer(128, 1) }

local function mlp(net, x)
  for i, l in ipairs(net) do
    x = lg.linear(x, l.w, l.b)
    if i < #net then x = x:relu() end
  end
  return x
end

local function params_of(net)
  local ps = {}
  for _, l in ipairs(net) do ps[#ps + 1] = l.w; ps[#ps + 1] = l.b end
  return ps
end

-- ------------------------------------------------------------ Adam (tensor ops only)
local function adam(params, lr, b1, b2, eps)
  local st = { t = 0, m = {}, v = {} }
  for i, p in ipairs(params) do
    st.m[i] = lg.zeros(p.shape)
    st.v[i] = lg.zeros(p.shape)
  end
  return function()
    st.t = st.t + 1
    local c1 = 1 - b1 ^ st.t
    local c2 = 1 - b2 ^ st.t
    lg.no_grad(function()
      for i, p in ipairs(params) do
        local g = p.grad
        if g then
          local m, v = st.m[i], st.v[i]
          m:copy_(m * b1 + g * (1 - b1))
          v:copy_(v * b2 + g * g * (1 - b2))
          local mhat = m / c1
          local vhat = v / c2
          p:copy_(p - lr * mhat / (vhat:sqrt() + eps))
        end
        p.grad = nil
      end
    end)
  end
end

local d_params, g_params = params_of(D), params_of(G)
local d_step = adam(d_params, cfg.lr, 0.5, 0.999, 1e-8)
local g_step = adam(g_params, cfg.lr, 0.5, 0.999, 1e-8)

local ones = lg.ones(cfg.batch, 1)
local zeros = lg.zeros(cfg.batch, 1)

-- ------------------------------------------------------------ training
print(("demo_ring: ring of %d Gaussians (radius %g, std %g); steps=%d batch=%d lr=%g seed=%d threads=%d"):format(
  NMODES, RADIUS, STD, cfg.steps, cfg.batch, cfg.lr, cfg.seed, cfg.threads))
local t_start = lg.clock()
local every = math.max(1, cfg.steps // 10)
for step = 1, cfg.steps do
  -- D step: real -> 1, fake (detached) -> 0
  local fake = mlp(G, lg.randn(cfg.batch, 2)):detach()
  local d_loss = lg.bce_with_logits(mlp(D, real_batch()), ones)
               + lg.bce_with_logits(mlp(D, fake), zeros)
  for _, p in ipairs(d_params) do p.grad = nil end
  d_loss:backward()
  d_step()

  -- G step, non-saturating: make D call the fakes real
  local g_loss = lg.bce_with_logits(mlp(D, mlp(G, lg.randn(cfg.batch, 2))), ones)
  for _, p in ipairs(g_params) do p.grad = nil end
  g_loss:backward()
  g_step()
  for _, p in ipairs(d_params) do p.grad = nil end   -- G's backward also reached D

  if step % every == 0 or step == 1 or step == cfg.steps then
    print(("step %6d  D loss %.4f  G loss %.4f"):format(step, d_loss:item(), g_loss:item()))
  end
end
local elapsed = lg.clock() - t_start

-- ------------------------------------------------------------ evaluation
local NEVAL = 2500
local samples
lg.no_grad(function() samples = mlp(G, lg.randn(NEVAL, 2)) end)
local cov = lg.metrics.mode_coverage(samples, {centres = centres, std = STD})
local counts, covered, hq = cov.counts, cov.modes, math.floor(cov.hq * NEVAL + 0.5)
local st = samples:totable()

os.execute(("mkdir -p '%s'"):format((cfg.out:gsub("'", "'\\''"))))
local path = cfg.out .. "/samples.csv"
local csv = {"x,y\n"}
for i = 1, NEVAL do csv[#csv + 1] = ("%.6f,%.6f\n"):format(st[i][1], st[i][2]) end
lg.fs.write_atomic(path, table.concat(csv))

print(("trained %d steps in %.1f s (%.2f ms/step)"):format(cfg.steps, elapsed, elapsed / cfg.steps * 1e3))
print(("modes covered: %d / %d (a mode counts when at least one of %d samples lies within 3 std = %.2f of it)"):format(
  covered, NMODES, NEVAL, 3 * STD))
print(("high-quality samples: %.1f%% (%d / %d)"):format(100 * hq / NEVAL, hq, NEVAL))
local per = {}
for k = 1, NMODES do per[k] = tostring(counts[k]) end
print("HQ samples per mode: " .. table.concat(per, " "))
print("samples: " .. path)
