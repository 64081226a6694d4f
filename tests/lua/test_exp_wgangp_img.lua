-- Smoke tests of the image side of experiments/wgan_gp.lua (gan_mnist.py's
-- three modes on MNIST) and of its nets in experiments/lib/nets.lua
-- (wgangp_mnist_G / _D, tflib_init).  Each run is a few seeded iterations at
-- --dim 4 in a child process; the checks read metrics.csv, config.lua and the
-- final checkpoint.  The 2-D path is covered by test_exp_toy.lua.
local lg = require "luagan"

local nets = dofile(ROOT .. "/experiments/lib/nets.lua")

local tmp = temp_dir()
local read = read_file
local run = experiment_runner("wgan_gp.lua", tmp)   -- code, stdout, stderr

local TINY = "--dataset mnist10k --dim 4 --batch 16 --eval_n 50 --sample_every 0 --checkpoint_every 0 "
local EVAL_COLS = {"classes", "top_share", "mode_score", "fid"}
local have_classifier = read(ROOT .. "/models/mnist.safetensors") ~= nil

local function has(header, col)
  for _, h in ipairs(header) do if h == col then return true end end
  return false
end

local function config(dir) return assert(loadfile(dir .. "/config.lua"))() end

-- the final checkpoint as name -> tensor
local function checkpoint(dir) return (lg.load(dir .. "/checkpoint.safetensors")) end

local function has_bn(ck, net)
  for k in pairs(ck) do
    if k:match("^" .. net .. "%.%d+%.running_mean$") then return true end
  end
  return false
end

-- common checks of an image run: one row per iteration, finite losses,
-- evaluations exactly at 1, every eval_every and the last iteration
local function check_run(dir, iters, eval_every, extra)
  local rows, header = read_csv(dir .. "/metrics.csv")
  eq(#rows, iters, dir .. ": one row per iteration")
  for _, c in ipairs{"iter", "lossD", "lossG", table.unpack(EVAL_COLS)} do
    assert(has(header, c), dir .. ": column " .. c .. " missing from " .. table.concat(header, ","))
  end
  for _, c in ipairs(extra or {}) do assert(has(header, c), dir .. ": column " .. c .. " missing") end
  for i, r in ipairs(rows) do
    eq(r.iter, i)
    assert(finite(r.lossD) and finite(r.lossG), ("%s: loss not finite at iter %d"):format(dir, i))
    local evaluated = i == 1 or i % eval_every == 0 or i == iters
    eq(r.classes ~= nil, evaluated, ("%s: evaluation at iter %d"):format(dir, i))
    if evaluated then
      if have_classifier then
        assert(r.classes >= 1 and r.classes <= 10, "classes in 1..10, got " .. tostring(r.classes))
        assert(r.top_share >= 0.1 - 1e-6 and r.top_share <= 1, "top_share in [0.1, 1]")
        assert(finite(r.mode_score) and r.mode_score > 0, "mode_score positive")
        assert(finite(r.fid) and r.fid > 0, "fid positive")
      else
        eq(r.classes, -1, "classes pending without classifier weights")
      end
    end
  end
  assert(read(dir .. "/samples/iter-" .. ("%06d"):format(iters) .. ".png"), dir .. ": final sample grid")
  return rows, header
end

-- {---------------------------------------------------------- nets

test("wgangp_mnist nets: shapes, [0, 1] output, BN placement, tflib init", function()
  lg.manual_seed(1)
  for _, bn in ipairs{false, true} do
    local G = nets.wgangp_mnist_G{dim = 8, nz = 16, bn = bn}
    local D = nets.wgangp_mnist_D{dim = 8, bn = bn}
    G:apply(nets.tflib_init)
    D:apply(nets.tflib_init)
    local x = G(lg.randn(6, 16))
    eq(x.shape, {6, 1, 28, 28}, "G output")
    assert(-(-x):max():item() > 0 and x:max():item() < 1, "sigmoid output in (0, 1)")
    eq(D(x).shape, {6, 1}, "critic output")
    local nbn = {G = 0, D = 0}
    for name, m in pairs{G = G, D = D} do
      for _, sub in ipairs(m:modules()) do
        if sub.__name:match("^BatchNorm") then nbn[name] = nbn[name] + 1 end
      end
    end
    eq(nbn, bn and {G = 3, D = 2} or {G = 0, D = 0}, "batch-norm layers")
    eq(D[2].__name, "LeakyReLU", "no BN after the critic's first conv")
    eq(G[#G].__name, "Sigmoid")
  end
  -- tflib's standard deviations: Glorot for Linear, sqrt(4 / (fan_in + fan_out))
  -- with the stride in the fans for (transposed) convolutions; zero biases
  local dim = 16
  local G = nets.wgangp_mnist_G{dim = dim, nz = 128}
  local D = nets.wgangp_mnist_D{dim = dim}
  G:apply(nets.tflib_init)
  D:apply(nets.tflib_init)
  local function sd_near(w, want, what)
    local got = ((w * w):mean():sqrt()):item()
    assert(math.abs(got / want - 1) < 0.03, ("%s: weight sd %g, tflib's %g"):format(what, got, want))
    -- uniform: the largest weight sits just inside sqrt(3) sd
    local m = w:abs():max():item()
    assert(m <= want * math.sqrt(3) * 1.001 and m > want * math.sqrt(3) * 0.97, what .. ": uniform bounds")
  end
  sd_near(G[1].weight, math.sqrt(2 / (128 + 64 * dim)), "G input Linear")
  -- first transposed conv: 4 dim -> 2 dim, fan_in 4 dim * 25 / 4, fan_out 2 dim * 25
  sd_near(G[4].weight, math.sqrt(4 / (dim * 25 + 2 * dim * 25)), "G deconv")
  -- second conv of D: dim -> 2 dim, fan_in dim * 25, fan_out 2 dim * 25 / 4
  sd_near(D[3].weight, math.sqrt(4 / (dim * 25 + 2 * dim * 25 / 4)), "D conv")
  eq(G[4].bias:abs():sum():item(), 0, "zero bias")
  -- the crop keeps the top-left corner
  local c = nets.Crop(2, 3)(lg.arange(16):view(1, 1, 4, 4))
  eq(c:totable(), {{{{0, 1, 2}, {4, 5, 6}}}})   -- arange counts from 0
end)

-- }

-- {---------------------------------------------------------- the three modes

test("wgan_gp mnist, --mode wgan-gp: penalty, gradient norm, critic learns, defaults", function()
  local dir = tmp .. "/gp"
  local code, out = run(TINY .. "--iters 6 --eval_every 3 --out " .. sh_quote(dir))
  eq(code, 0, "exit status")
  local rows = check_run(dir, 6, 3, {"gp", "grad_norm"})
  for _, r in ipairs(rows) do
    assert(finite(r.gp) and r.gp >= 0, "gp finite")
    assert(finite(r.grad_norm) and r.grad_norm > 0, "grad_norm finite and positive")
  end
  -- the critic separates real from fake: -lossD (the W1 estimate) grows
  assert(rows[6].lossD < rows[1].lossD, ("lossD falls: %g -> %g"):format(rows[1].lossD, rows[6].lossD))
  -- gan_mnist.py's values for the flags not given
  local c = config(dir)
  eq({c.mode, c.nz, c.n_critic, c.lr, c.beta1, c.beta2, c.lambda, c.batch},
     {"wgan-gp", 128, 5, 1e-4, 0.5, 0.9, 10.0, 16})
  local ck = checkpoint(dir)
  eq(ck["optD.1.step"]:item(), 30, "5 critic steps per generator step")
  eq(ck["optG.1.step"]:item(), 6, "one G step per iteration")
  assert(not has_bn(ck, "G") and not has_bn(ck, "D"), "no batch norm in wgan-gp mode")
  assert(out:find("it/s", 1, true), "logs iterations/s")
end)

test("wgan_gp mnist, --mode wgan: clipped critic, TF RMSprop, batch norm", function()
  local dir = tmp .. "/clip"
  local code = run(TINY .. "--mode wgan --iters 4 --n_critic 2 --eval_every 2 --out " .. sh_quote(dir))
  eq(code, 0, "exit status")
  local _, header = check_run(dir, 4, 2)
  assert(not has(header, "gp") and not has(header, "grad_norm"), "no penalty columns without a penalty")
  local c = config(dir)
  eq({c.lr, c.n_critic, c.clip}, {5e-5, 2, 0.01})
  local ck = checkpoint(dir)
  assert(has_bn(ck, "G") and has_bn(ck, "D"), "batch norm in G and D in wgan mode")
  -- every critic parameter (BN scales and shifts included, as tf's clip_ops)
  -- inside the box, up to the last RMSprop step after the last clipping
  local worst = 0
  for k, v in pairs(ck) do
    if k:match("^D%.") and not k:match("running_") and not k:match("num_batches") then
      worst = math.max(worst, v:abs():max():item())
    end
  end
  assert(worst > 0 and worst < 0.012, "critic parameters clipped to 0.01, max " .. worst)
  -- TF's mean square starts at 1 (decay 0.9): after 4 G steps it is still >= 0.9^4
  local lo = math.huge
  for k, v in pairs(ck) do
    if k:match("^optG%.%d+%.square_avg$") then lo = math.min(lo, -(-v):max():item()) end
  end
  assert(lo > 0.6 and lo < 1, "RMSprop mean square started at 1, min " .. lo)
  eq(ck["optD.1.step"]:item(), 8, "--n_critic 2")
end)

test("wgan_gp mnist, --mode dcgan: one D step, BCE losses, no BN unless asked", function()
  local dir = tmp .. "/dcgan"
  eq((run(TINY .. "--mode dcgan --iters 4 --eval_every 2 --out " .. sh_quote(dir))), 0, "exit status")
  local rows, header = check_run(dir, 4, 2)
  assert(not has(header, "gp"), "no penalty column")
  for _, r in ipairs(rows) do assert(r.lossD > 0 and r.lossG > 0, "cross-entropies are positive") end
  local c = config(dir)
  eq({c.lr, c.beta1, c.beta2, c.n_critic}, {2e-4, 0.5, 0.999, 1})
  local ck = checkpoint(dir)
  eq(ck["optD.1.step"]:item(), 4, "one D step per iteration")
  assert(not has_bn(ck, "G") and not has_bn(ck, "D"), "gan_mnist.py's dcgan mode has no BN")
  dir = tmp .. "/dcgan_bn"
  eq((run(TINY .. "--mode dcgan --bn true --iters 2 --out " .. sh_quote(dir))), 0, "--bn true")
  ck = checkpoint(dir)
  assert(has_bn(ck, "G") and has_bn(ck, "D"), "--bn true adds batch norm")
end)

test("wgan_gp mnist: an interrupted run resumes bit-identically with its own flags", function()
  -- --batch 16 and --nz 32 are not image defaults: the resumed process must keep them
  local flags = TINY .. "--iters 4 --eval_every 2 --nz 32 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  eq((run(flags .. "--out " .. sh_quote(a))), 0)
  eq((run(flags .. "--stop_at 3 --out " .. sh_quote(b))), 0)
  eq((run("--resume " .. sh_quote(b))), 0)
  local ma = assert(read(a .. "/metrics.csv"))
  eq(read(b .. "/metrics.csv"), ma, "metrics.csv")
  eq(config(b).nz, 32)
  -- evaluations use fixed noise: how often they run does not change the training
  local c = tmp .. "/evals"
  eq((run(TINY .. "--iters 4 --eval_every 3 --nz 32 --out " .. sh_quote(c))), 0)
  local ra, rc = read_csv(a .. "/metrics.csv"), read_csv(c .. "/metrics.csv")
  for i = 1, 4 do
    eq({rc[i].lossD, rc[i].lossG, rc[i].gp}, {ra[i].lossD, ra[i].lossG, ra[i].gp}, "losses at iter " .. i)
  end
  eq(rc[3].classes ~= nil and ra[3].classes == nil, true, "different evaluation iterations")
end)

test("wgan_gp fashion: Fashion-MNIST with its own classifier", function()
  if not pcall(lg.data.load, "fashion", "test", {limit = 1}) then
    io.stderr:write("skip: Fashion-MNIST not installed\n")
    return
  end
  local dir = tmp .. "/fashion"
  local code, out = run(TINY:gsub("mnist10k", "fashion") .. "--iters 2 --eval_every 1 --out " .. sh_quote(dir))
  eq(code, 0, "exit status")
  check_run(dir, 2, 1, {"gp", "grad_norm"})
  if have_classifier then
    assert(out:find("from the fashion classifier", 1, true), "evaluated with the Fashion-MNIST classifier")
  end
end)

-- }

-- {---------------------------------------------------------- flag errors

test("wgan_gp: bad modes and flag combinations are refused with exit status 2", function()
  local cases = {
    {"--dataset mnist10k --mode wgangp", "--mode must be wgan-gp, wgan or dcgan"},
    {"--dataset ring8 --mode wgan", "--mode wgan is an image baseline here"},
    {"--dataset ring8 --mode dcgan --lambda 1", "--lambda applies to --mode wgan-gp only"},
    {"--dataset ring8 --mode foo", "--mode must be"},
    {"--dataset ring8 --dim 8", "--dim applies to the image datasets"},
    {"--dataset mnist10k --hidden 8", "--hidden applies to the 2-D datasets only"},
    {"--dataset mnist10k --clip 0.02", "--clip applies to --mode wgan only"},
    {"--dataset mnist10k --mode dcgan --lambda 5", "--lambda applies to --mode wgan-gp only"},
    {"--dataset mnist10k --mode wgan --beta1 0.5", "--beta1 applies to Adam"},
    {"--dataset mnist10k --bn maybe", "--bn must be auto, true or false"},
    {"--dataset cifar", "--dataset must be ring8, grid25, swissroll, mnist, mnist10k or fashion"},
  }
  for i, c in ipairs(cases) do
    local dir = ("%s/bad%d"):format(tmp, i)
    local code, _, err = run(c[1] .. " --iters 1 --out " .. sh_quote(dir))
    eq(code, 2, c[1] .. ": exit status")
    assert(err:find(c[2], 1, true), ("%s: expected %q in stderr, got %q"):format(c[1], c[2], err))
    assert(not read(dir .. "/metrics.csv"), c[1] .. ": no run directory left behind")
  end
  -- --mode wgan-gp on a 2-D dataset is what it trains anyway: accepted
  local dir = tmp .. "/toy_gp"
  eq((run("--dataset ring8 --mode wgan-gp --iters 2 --hidden 8 --batch 16 --eval_every 1 "
    .. "--sample_every 0 --checkpoint_every 0 --out " .. sh_quote(dir))), 0)
end)

-- }

os.execute("rm -rf " .. sh_quote(tmp))
