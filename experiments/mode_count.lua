-- mode_count.lua: the VEEGAN / PacGAN mode-counting protocol (Srivastava et al.,
-- NeurIPS 2017; Lin et al., "PacGAN", NeurIPS 2018).
--
-- A plain GAN against PacGAN (D judges m packed samples, m = 2, 3) over several
-- seeds: modes captured and high-quality share on the 2-D ring and grid
-- (PacGAN Table 1), modes and KL to uniform on Stacked MNIST (Table 2).
--
--   luagan experiments/mode_count.lua [--dataset ring8|grid25|stacked_mnist] [--seeds 3]
--                                     [--packs 1,2,3] [--iters N] ... (--help)
--
-- The protocol, the authors' setups, the scaling and the output: experiments/notes/mode_count.md.
local lg = require "luagan"
local nets = require "lib.nets"
local toy = require "lib.toy"
local sm = require "lib.stacked_mnist"
local optim, gan, experiment = lg.optim, lg.gan, lg.experiment

local defaults = {
  name = "mode_count", iters = 3000, batch = 100, dataset = {"ring8", "grid25", "stacked_mnist"},
  sample_every = 1000, checkpoint_every = 1000, threads = 1,
  seeds = 3, packs = "1,2,3", pack = 1, g_hidden = 128, g_layers = 4, d_units = 128,
  d_layers = 3, pieces = 5, nz = 2, lr = 1e-4, beta1 = 0.8, init_std = 0.02, eval_every = 250,
  ngf = 16, ndf = 16, eval_n = 26000, g_steps = 2,
  doc = {seeds = "runs per packing degree: seeds --seed .. --seed + seeds - 1",
         packs = "packing degrees to compare, comma-separated (1 = plain GAN)",
         pack = "packing degree of one run (set by the driver from --packs)",
         g_hidden = "G hidden units (paper 400)", g_layers = "G hidden layers (BN + ReLU)",
         d_units = "D maxout units (paper 200)", d_layers = "D maxout layers",
         pieces = "pieces per maxout unit", nz = "noise dimension (stacked_mnist: 100, U[-1, 1])",
         lr = "Adam lr (stacked_mnist: 2e-4)",
         beta1 = "Adam beta1 (stacked_mnist: 0.5)", init_std = "weights ~ N(0, init_std) (2-D nets)",
         eval_every = "evaluate modes / hq (kl) every N iterations (stacked_mnist: 1000)",
         iters = "training iterations (stacked_mnist: 3000)",
         batch = "batch size in packed items (stacked_mnist: 64)",
         sample_every = "write samples every N iterations (stacked_mnist: 1000)",
         dataset = "ring8, grid25 or stacked_mnist (3 MNIST digits as channels, 1000 modes)",
         ngf = "stacked_mnist: G width multiple (paper 64)",
         ndf = "stacked_mnist: D width multiple (paper 64)",
         eval_n = "stacked_mnist: generated samples per evaluation (PacGAN: 26000)",
         g_steps = "stacked_mnist: G steps per D step (PacGAN's code: 2)",
         threads = "compute threads (1: small matrices; see unrolled_gan.lua)"},
}

-- the defaults of --dataset stacked_mnist where they differ from the 2-D ones
-- (PacGAN's stacked-MNIST config; iters and the evaluation schedule scaled to a CPU)
local STACKED = {batch = 64, lr = 2e-4, beta1 = 0.5, nz = 100, iters = 3000, eval_every = 1000,
                 sample_every = 1000}

-- {====================================================== one run

-- Stacked MNIST: PacGAN's DCGAN; D sees m stacked images as 3 m channels
local function train_stacked(run)
  local cfg = run.config
  local ok, metrics = pcall(require("luagan.image_metrics").load, "mnist")
  if not ok then run:fail(metrics) end
  local ds = sm.dataset{name = "mnist", split = "all"}
  local m = cfg.pack
  local G = sm.G{nz = cfg.nz, ngf = cfg.ngf, out_channels = 3}
  local D = gan.Packed(sm.D{ndf = cfg.ndf, channels = 3 * m}, m)
  local betas = {cfg.beta1, 0.999}
  local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = betas})
  local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = betas})
  local function noise(n) return lg.rand(n, cfg.nz) * 2 - 1 end
  local z_eval = noise(cfg.eval_n)          -- fixed for the run, drawn once (PacGAN's test_samples)
  print(("mode_count: stacked_mnist (%d %s digits), PacGAN m = %d (D input %d channels), G %d / D %d "
    .. "parameters, seed %d, %d iterations, %d samples per evaluation"):format(ds.n, ds.name, m, 3 * m,
    G:num_parameters(), D:num_parameters(), cfg.seed, cfg.iters, cfg.eval_n))
  return sm.train(run, {G = G, D = D, optG = optG, optD = optD, ds = ds, noise = noise, pack = m,
    batch = cfg.batch, g_steps = cfg.g_steps, eval_every = cfg.eval_every, z_eval = z_eval,
    ev = sm.Evaluator(metrics, {n = cfg.eval_n})})
end

local function train_one(argv)
  local ok, run = pcall(experiment, defaults, argv)
  if not ok then experiment.fail("mode_count", run) end
  local cfg = run.config
  if cfg.dataset == "stacked_mnist" then return train_stacked(run) end
  local ds = toy.dataset(cfg.dataset, "pacgan")
  local m = cfg.pack
  local G = nets.mlp{nin = cfg.nz, nout = 2, hidden = cfg.g_hidden, layers = cfg.g_layers,
                     act = "relu", bn = true, init = "normal", std = cfg.init_std}
  local Dnet = nets.mlp{nin = 2 * m, nout = 1, hidden = cfg.d_units, layers = cfg.d_layers,
                        act = "maxout", pieces = cfg.pieces, init = "normal", std = cfg.init_std}
  local D = gan.Packed(Dnet, m)
  local betas = {cfg.beta1, 0.999}
  local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = betas})
  local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = betas})
  local n = m * cfg.batch
  print(("mode_count: %s, PacGAN m = %d (D input %d), seed %d, %d iterations"):format(
    cfg.dataset, m, 2 * m, cfg.seed, cfg.iters))
  return toy.train(run, {
    G = G, D = D, optG = optG, optD = optD, ds = ds, nz = cfg.nz, eval_every = cfg.eval_every,
    step = function(it)
      return gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.non_saturating,
        it = it, real = function() return ds:sample(n) end,
        z = function() return lg.randn(n, cfg.nz) end}
    end,
  })
end

-- }======================================================

-- {====================================================== the driver

local cfg, usage = (function()
  local ok, c, u = pcall(experiment.parse, defaults, arg)
  if not ok then experiment.fail("mode_count", c) end
  return c, u
end)()
if cfg == nil then print(usage) os.exit(0) end
local stacked = cfg.dataset == "stacked_mnist"
if stacked then
  for k, v in pairs(STACKED) do if not usage[k] then cfg[k] = v end end    -- usage: the given flags
  if cfg.eval_n < 1 then experiment.fail("mode_count", "--eval_n must be >= 1") end
  if cfg.g_steps < 1 then experiment.fail("mode_count", "--g_steps must be >= 1") end
  if cfg.ngf < 1 or cfg.ndf < 1 then experiment.fail("mode_count", "--ngf and --ndf must be >= 1") end
end
if cfg.seeds < 1 then experiment.fail("mode_count", "--seeds must be >= 1") end
if cfg.eval_every < 1 then experiment.fail("mode_count", "--eval_every must be >= 1") end
local packs = {}
for p in cfg.packs:gmatch("[^,%s]+") do
  local v = math.tointeger(tonumber(p))
  if not v or v < 1 then experiment.fail("mode_count", "--packs must list integers >= 1, got '" .. cfg.packs .. "'") end
  packs[#packs + 1] = v
end
if #packs == 0 then experiment.fail("mode_count", "--packs is empty") end

local out = cfg.resume ~= "" and cfg.resume or
            (cfg.out ~= "" and cfg.out or "runs/mode_count-" .. cfg.dataset .. "-" .. os.date("%Y%m%d-%H%M%S"))
os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() return true end
  return false
end

-- the flags of one run: every resolved flag but the driver's own
local function run_argv(m, seed, dir)
  if exists(dir .. "/checkpoint.safetensors") and exists(dir .. "/config.lua") then
    local a = {"--resume", dir, "--iters", tostring(cfg.iters)}
    if cfg.stop_at > 0 then a[#a + 1] = "--stop_at" a[#a + 1] = tostring(cfg.stop_at) end
    return a
  end
  local a = {}
  for k, v in pairs(cfg) do
    if k ~= "resume" and k ~= "out" and k ~= "seed" and k ~= "pack" and k ~= "seeds" then
      a[#a + 1] = "--" .. k
      a[#a + 1] = tostring(v)
    end
  end
  for _, kv in ipairs{{"--seed", seed}, {"--pack", m}, {"--seeds", 1}, {"--out", dir}} do
    a[#a + 1] = kv[1]
    a[#a + 1] = tostring(kv[2])
  end
  return a
end

local results = {}
local lines = {stacked and "dataset,pack,seed,modes,modes_total,kl,top_share,conf,evals,seconds,ips"
                       or "dataset,pack,seed,modes,modes_total,hq,rev_kl,hops,evals,seconds"}
local t0 = lg.clock()
for _, m in ipairs(packs) do
  results[m] = {}
  for s = cfg.seed, cfg.seed + cfg.seeds - 1 do
    local dir = ("%s/%s-pac%d-seed%d"):format(out, cfg.dataset, m, s)
    local r = train_one(run_argv(m, s, dir))
    results[m][#results[m] + 1] = r
    if stacked then
      lines[#lines + 1] = ("%s,%d,%d,%d,%d,%.4f,%.4f,%.4f,%d,%.1f,%.3f"):format(cfg.dataset, m, s,
        r.modes, r.modes_total, r.kl, r.top_share, r.conf, r.evals, r.seconds, r.ips or 0)
    else
      lines[#lines + 1] = ("%s,%d,%d,%d,%d,%.4f,%.4f,%d,%d,%.1f"):format(cfg.dataset, m, s, r.modes,
        r.modes_total, r.hq, r.rev_kl, r.hops, r.evals, r.seconds)
    end
  end
end

local function stats(list, key)
  local n, sum, lo, hi = #list, 0, math.huge, -math.huge
  for _, r in ipairs(list) do
    sum = sum + r[key]
    lo, hi = math.min(lo, r[key]), math.max(hi, r[key])
  end
  local mean, ss = sum / n, 0
  for _, r in ipairs(list) do ss = ss + (r[key] - mean) ^ 2 end
  return mean, n > 1 and math.sqrt(ss / (n - 1)) or 0, lo, hi
end

lg.fs.write_atomic(out .. "/summary.csv", table.concat(lines, "\n") .. "\n")
local total = results[packs[1]][1].modes_total
print(("\nmode_count: %s, %d seeds (%d..%d), %d iterations each, %.0f s in all")
  :format(cfg.dataset, cfg.seeds, cfg.seed, cfg.seed + cfg.seeds - 1, cfg.iters, lg.clock() - t0))
if stacked then
  print("method     modes (mean +- sd [min, max])        kl (mean +- sd)    it/s (mean)")
  for _, m in ipairs(packs) do
    local mm, ms, lo, hi = stats(results[m], "modes")
    local km, ks = stats(results[m], "kl")
    local ips = 0
    for _, r in ipairs(results[m]) do ips = ips + (r.ips or 0) / #results[m] end
    print(("%-9s  %6.1f +- %5.1f [%d, %d] / %d    %.3f +- %.3f      %.3f"):format(
      m == 1 and "GAN" or "PacGAN" .. m, mm, ms, lo, hi, total, km, ks, ips))
  end
else
  print("method     modes (mean +- sd [min, max])    hq % (mean +- sd)    rev_kl (mean)")
  for _, m in ipairs(packs) do
    local mm, ms, lo, hi = stats(results[m], "modes")
    local hm, hs = stats(results[m], "hq")
    local km = stats(results[m], "rev_kl")
    print(("%-9s  %5.2f +- %4.2f [%d, %d] / %d        %5.1f +- %4.1f         %.3f"):format(
      m == 1 and "GAN" or "PacGAN" .. m, mm, ms, lo, hi, total, hm * 100, hs * 100, km))
  end
end
print("summary: " .. out .. "/summary.csv")

-- }======================================================
