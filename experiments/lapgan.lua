-- lapgan.lua: Denton, Chintala, Szlam and Fergus, "Deep Generative Image Models using a
-- Laplacian Pyramid of Adversarial Networks" (LAPGAN, NIPS 2015), on MNIST.
--
-- A three-level Laplacian pyramid 28 -> 14 -> 7 (2x2 average pooling down, bilinear up): an
-- MLP GAN makes the 7x7 base; at 14 and 28 px a conditional convolutional G_k(z_k, l_k) makes
-- the band-pass image h_k = I_k - u(I_{k+1}) from the upsampled coarser image l_k, judged by
-- D_k(h_k + l_k) (sec. 3). The levels are trained independently on real pyramids, one
-- step of each per iteration; sampling runs coarse to fine (sec. 3, Fig. 1). --method gan is the
-- comparison: one MLP GAN at 28x28, with as many iterations as give it the same training
-- time. Evaluations: the Parzen log-likelihood of the test digits (the paper's Table 1) and
-- the MNIST classifier's metrics. Notes: notes/lapgan.md.
--
--   luagan experiments/lapgan.lua [--method lapgan|gan] [--iters N] [--optim adam|sgd]
--          [--width C] [--eval_every N] [--parzen_samples N] ...
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local im = require "luagan.image_metrics"
local parzen = require "luagan.parzen"
local pyr = require "lib.pyramid"   -- d: 2x2 average pooling, u: bilinear x2
local up = pyr.up

local run = lg.experiment{
  name = "lapgan", method = {"lapgan", "gan"}, iters = 1500, batch = 64,
  dataset = {"mnist10k", "mnist"}, sample_every = 1000, checkpoint_every = 1000,
  nz = 100, g_hidden = 600, d_hidden = 300, g_bn = true, width = 8, dropout = 0.5,
  optim = {"adam", "sgd"}, lr = 0.0, momentum = 0.5, momentum_final = 0.7,
  eval_every = 500, eval_n = 2000, parzen_samples = 10000, holdout = 1000,
  doc = {method = "lapgan (the 3-level pyramid) or gan (one MLP GAN at 28x28, the baseline)",
         iters = "iterations; lapgan: one D and one G step at each of the 3 levels per iteration",
         nz = "noise of the MLP generators (7x7 base, the 28x28 baseline)",
         g_hidden = "MLP G's two hidden layers", d_hidden = "MLP D's two hidden layers",
         g_bn = "batch normalisation after MLP G's hidden layers",
         width = "channels of the conditional convnets (levels 1 and 0)",
         dropout = "dropout after the hidden layers of every D",
         optim = "adam (2e-4, beta1 0.5) or sgd (the authors' lr 0.02, momentum 0.5 -> 0.7)",
         lr = "learning rate; 0: 2e-4 for adam, 0.02 for sgd",
         momentum = "sgd: initial momentum", momentum_final = "sgd: cap of the momentum, +0.0008 per epoch",
         eval_every = "evaluate every N iterations (and at the first and last)",
         eval_n = "samples for the classifier metrics (fixed noise)",
         parzen_samples = "samples of the Parzen window (fixed noise); 0: no Parzen estimate",
         holdout = "last N training digits held out: the Parzen sigma's validation split"},
}
local cfg = run.config
if cfg.holdout < 1 then run:fail("--holdout must be >= 1 (Parzen's validation split)") end
if cfg.parzen_samples < 0 then run:fail("--parzen_samples must be >= 0") end
if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2") end
if cfg.width < 1 or cfg.nz < 1 then run:fail("--width and --nz must be >= 1") end
if cfg.dropout < 0 or cfg.dropout >= 1 then run:fail("--dropout must be in [0, 1)") end
local sgd = cfg.optim == "sgd"
local lr = cfg.lr > 0 and cfg.lr or (sgd and 0.02 or 2e-4)
local lap = cfg.method == "lapgan"

-- {---------------------------------------------------------- data in [0, 1] and its pyramids
local ok, train = pcall(lg.data.load, cfg.dataset, "train", {range = {0, 1}})
if not ok then run:fail(train) end
local ntrain = train.n - cfg.holdout
if ntrain < cfg.batch then run:fail(("only %d training digits for batches of %d"):format(ntrain, cfg.batch)) end
local all = train.images:view(train.n, 1, 28, 28)
local I0 = all:narrow(1, 1, ntrain)
local valid = all:narrow(1, ntrain + 1, cfg.holdout):reshape(cfg.holdout, 784)
local test = lg.data.load(cfg.dataset, "test", {range = {0, 1}})
test = test.images:reshape(test.n, 784)
local loader
if lap then   -- the real pyramid of every training digit: I2, then (l1, h1) and (l0, h0)
  local I1, I2, l1, l0 = lg.no_grad(function()
    local g = pyr.gaussian(I0, 3)
    return g[2], g[3], up(g[3]), up(g[2])
  end)
  loader = lg.data.Loader({I2:reshape(ntrain, 49), l1, I1 - l1, l0, I0 - l0}, {batch = cfg.batch})
else
  loader = lg.data.Loader(I0:reshape(ntrain, 784), {batch = cfg.batch})
end
local epoch_iters = loader:batches()
-- }

-- {---------------------------------------------------------- models
local function mlp_G(nout)   -- nz -> 2 ReLU layers [with BN] -> nout pixels in [0, 1]
  local h = cfg.g_hidden
  local G = nn.Sequential(nn.Linear(cfg.nz, h))
  if cfg.g_bn then G:add(nn.BatchNorm1d(h)) end
  G:add(nn.ReLU()):add(nn.Linear(h, h))
  if cfg.g_bn then G:add(nn.BatchNorm1d(h)) end
  return G:add(nn.ReLU()):add(nn.Linear(h, nout)):add(nn.Sigmoid())
end
local function mlp_D(nin)    -- nin pixels -> 2 LeakyReLU layers with dropout -> a logit
  local h = cfg.d_hidden
  return nn.Sequential(nn.Linear(nin, h), nn.LeakyReLU(0.2), nn.Dropout(cfg.dropout), nn.Linear(h, h),
    nn.LeakyReLU(0.2), nn.Dropout(cfg.dropout), nn.Linear(h, 1))
end

-- G_k(z_k, l_k): the noise is a plane beside l_k (the authors' code joins them as channels),
-- three 3x3 convolutions, the last to the band image (no squashing: bands are signed)
local function cond_G()
  local w = cfg.width
  return nn.Sequential(nn.Conv2d(2, w, 3, {padding = 1}), nn.ReLU(), nn.Conv2d(w, w, 3, {padding = 1}),
    nn.ReLU(), nn.Conv2d(w, 1, 3, {padding = 1}))
end
-- D_k sees h + l_k (the authors' code adds them first), then conv 3x3, conv 3x3 stride 2, linear
local function cond_D(size)
  local w, half = cfg.width, size // 2
  return nn.Sequential(nn.Conv2d(1, w, 3, {padding = 1}), nn.ReLU(), nn.Conv2d(w, w, 3, {stride = 2, padding = 1}),
    nn.ReLU(), nn.Dropout(cfg.dropout), nn.Flatten(), nn.Linear(w * half * half, 1))
end

local function make_optim(params)
  if sgd then return optim.SGD(params, {lr = lr, momentum = cfg.momentum}) end
  return optim.Adam(params, {lr = lr, betas = {0.5, 0.999}})
end
-- the authors' SGD schedule (per epoch: momentum + 0.0008 up to the cap; per update: lr /
-- 1.000004), a function of the update count so that a resumed run follows it exactly
local function schedule(opt, updates)
  if not sgd then return end
  opt.config.lr = math.max(1e-6, lr / 1.000004 ^ updates)
  opt.config.momentum = math.min(cfg.momentum_final, cfg.momentum + 0.0008 * (updates // epoch_iters))
end

-- levels[k + 1] is level k: 0 is 28x28, 2 the 7x7 base; the gan method has level 0 only
local levels = {}
local function level(k, G, D) levels[k + 1] = {k = k, G = G, D = D, optG = make_optim(G:parameters()),
                                              optD = make_optim(D:parameters())} end
if lap then
  level(2, mlp_G(49), mlp_D(49))
  level(1, cond_G(), cond_D(14))
  level(0, cond_G(), cond_D(28))
else
  level(0, mlp_G(784), mlp_D(784))
end
local loss = gan.non_saturating
local function noise(...) return lg.rand(...) * 2 - 1 end   -- uniform [-1, 1], the authors'
-- }

-- {---------------------------------------------------------- sampling, coarse to fine
-- one row of z per sample: nz numbers for the base, then the 14x14 and 28x28 noise planes
local ZDIM = lap and cfg.nz + 196 + 784 or cfg.nz
local function refine(L, l, z)   -- I_k = l_k + G_k(z_k, l_k)
  return l + L.G(lg.cat({l, z}, 2))
end
local function pyramid_sample(z)   -- -> I2 [n,1,7,7], I1 [n,1,14,14], I0 [n,1,28,28]
  local n = z:size(1)
  if not lap then return nil, nil, levels[1].G(z):view(n, 1, 28, 28) end
  local i2 = levels[3].G(z:narrow(2, 1, cfg.nz)):view(n, 1, 7, 7)
  local i1 = refine(levels[2], up(i2), z:narrow(2, cfg.nz + 1, 196):reshape(n, 1, 14, 14))
  return i2, i1, refine(levels[1], up(i1), z:narrow(2, cfg.nz + 197, 784):reshape(n, 1, 28, 28))
end
local function eval_mode(on)
  for _, L in pairs(levels) do
    if on then L.G:eval() L.D:eval() else L.G:train() L.D:train() end
  end
end
-- the 28x28 samples, clamped to the data's range [0, 1] (the base is a sigmoid's; bands add to it)
local function sample(z)
  local _, _, i0 = pyramid_sample(z)
  return i0:clamp(0, 1)
end
-- }

-- {---------------------------------------------------------- evaluation
local classifier, why = im.for_dataset(cfg.dataset)
if not classifier then io.stderr:write("lapgan: image metrics pending (", why, ")\n") end
local z_eval, z_parzen = noise(cfg.eval_n, ZDIM), cfg.parzen_samples > 0 and noise(cfg.parzen_samples, ZDIM)
-- seconds spent in training steps (the comparison's compute budget), kept by checkpoints
local state = {train_s = 0}

local function evaluate(row)
  eval_mode(true)
  local cols = classifier and classifier:score(sample, z_eval, {range = {0, 1}}) or im.PENDING
  for k, v in pairs(cols) do row[k] = v end
  if z_parzen then
    local t0 = lg.clock()
    local parts = {}
    lg.no_grad(function()
      for s = 1, cfg.parzen_samples, 500 do
        parts[#parts + 1] = sample(z_parzen:narrow(1, s, math.min(500, cfg.parzen_samples - s + 1)))
      end
    end)
    local r = parzen.evaluate{samples = lg.cat(parts, 1):reshape(cfg.parzen_samples, 784), valid = valid, test = test}
    row.parzen, row.parzen_se, row.parzen_sigma, row.parzen_s = r.mean, r.se, r.sigma, lg.clock() - t0
  end
  eval_mode(false)
  row.train_s = state.train_s
end
-- }

local track = {data = loader, state = state}
for _, L in pairs(levels) do
  track["G" .. L.k], track["D" .. L.k], track["optG" .. L.k], track["optD" .. L.k] = L.G, L.D, L.optG, L.optD
end
run:track(track)
-- the sample grid: per column one sample; rows: the 7x7 base, the 14x14 and the 28x28 image
-- (nearest-neighbour enlarged), so each level's contribution shows
local z_show = noise(16, ZDIM)
run:sampler(function()
  eval_mode(true)
  local i2, i1, i0 = pyramid_sample(z_show)
  eval_mode(false)
  if not lap then return i0:clamp(0, 1) end
  return lg.cat({lg.upsample_nearest(i2, 4), lg.upsample_nearest(i1, 2), i0}, 1):clamp(0, 1)
end, {range = {0, 1}, nrow = 16})

local nparams = 0
for _, L in pairs(levels) do nparams = nparams + L.G:num_parameters() + L.D:num_parameters() end
print(("lapgan: %s, %s, %d training digits, %d parameters, batch %d, %s lr %g, seed %d"):format(cfg.method,
  cfg.dataset, ntrain, nparams, cfg.batch, cfg.optim, lr, cfg.seed))

-- one D step and one G step of a level: real images x (level 0 of gan, level 2: flat pixels;
-- else the band h with its condition l)
local function step(L, it, x, l)
  schedule(L.optD, it - 1)
  schedule(L.optG, it - 1)
  local n = x:size(1)
  local function fake_of()
    if not l then return L.G(noise(n, cfg.nz)) end
    return L.G(lg.cat({l, noise(n, 1, l:size(3), l:size(4))}, 2))
  end
  local function judge(h) return L.D(l and h + l or h) end
  local sr, sf = judge(x), judge(lg.no_grad(fake_of))
  local lossD = loss.d(sr, sf)
  L.optD:zero_grad()
  lossD:backward()
  L.optD:step()
  local lossG = loss.g(judge(fake_of()))
  L.optG:zero_grad()
  lossG:backward()
  L.optG:step()
  return lossD, lossG
end

for it in run:iterations() do
  local row = {}
  if it == 1 then   -- the first row fixes metrics.csv's columns: name them all
    for _, k in ipairs{"lossD2", "lossG2", "lossD1", "lossG1", "parzen", "parzen_se", "parzen_sigma", "parzen_s"} do
      row[k] = ""
    end
  end
  local t0 = lg.clock()
  if lap then
    local b = loader:next()
    row.lossD2, row.lossG2 = step(levels[3], it, b[1])
    row.lossD1, row.lossG1 = step(levels[2], it, b[3], b[2])
    row.lossD0, row.lossG0 = step(levels[1], it, b[5], b[4])
  else
    row.lossD0, row.lossG0 = step(levels[1], it, loader:next())
  end
  state.train_s = state.train_s + (lg.clock() - t0)
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then evaluate(row) end
  run:log(row)
end
