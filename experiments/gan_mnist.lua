-- gan_mnist.lua: the MLP GAN of Goodfellow et al. 2014 on the shipped MNIST subset.
--
--   luagan experiments/gan_mnist.lua [--iters N] [--loss nonsat|minimax] [--k N] ... (--help)
--
-- The paper's MNIST setup (goodfeli/adversarial mnist.yaml, as read in
-- /work/shared/research/papers/core.md section 1):
--   G: z (100-d Gaussian) -> ReLU 1200 -> ReLU 1200 -> sigmoid 784, uniform init
--      in +-0.05, output bias from the pixel marginals;
--   D: maxout 240 units x 5 pieces -> maxout 240 x 5 -> sigmoid 1, init +-0.005,
--      dropout keeping 0.8 of the inputs and 0.5 of the hidden units;
--   D loss 0.5 [BCE(D(x),1) + BCE(D(G(z)),0)], G loss non-saturating BCE(D(G(z)),1);
--   SGD, batch 100, lr 0.1 divided by 1.000004 every update (floor 1e-6),
--   momentum 0.5 rising linearly to 0.7 between epochs 1 and 250; k = 1;
--   data in [0, 1].
-- Deviations, so that the default run takes a few minutes on 2 cores:
--   widths G 512, D 128 x 5 (core.md section 9.1's scaled setup; --g_hidden
--   1200 --d_units 240 gives the paper's), the 9,001-digit shipped subset
--   instead of MNIST train[0:50000] (--dataset mnist uses full MNIST when it is
--   in datasets/mnist/), 2,000 iterations (22 epochs of the subset), and
--   Adam (lr 2e-4, beta1 0.5) with PyTorch's default init instead of the SGD
--   schedule and +-0.05 / +-0.005 init, which in a short run barely move D
--   from 0.5 (--optim sgd restores the paper's).
-- --loss minimax trains G on the saturating log(1 - D(G(z))) instead; --k
-- sets the number of D steps per G step (Algorithm 1).
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local run = lg.experiment{
  name = "gan_mnist", iters = 2000, batch = 100, dataset = "mnist10k",
  sample_every = 500, checkpoint_every = 1000,
  loss = "nonsat", k = 1, nz = 100, g_hidden = 512, d_units = 128, pieces = 5,
  optim = "adam", lr = 0.0, lr_decay = 1.000004, momentum = 0.5, momentum_final = 0.7,
  momentum_epochs = 250, dropout = true,
  doc = {loss = "G loss: nonsat (-log D(G(z))) or minimax (log(1 - D(G(z))))",
         k = "D steps per G step", nz = "noise dimension", g_hidden = "G hidden units",
         d_units = "D maxout units", pieces = "pieces per maxout unit",
         optim = "adam (default: DCGAN's Adam, beta1 0.5) or sgd (the paper's SGD + momentum schedule and init)",
         lr = "learning rate; 0: 2e-4 for adam, 0.1 for sgd", lr_decay = "sgd: lr divided by this every update",
         momentum = "sgd: initial momentum", momentum_final = "momentum reached at --momentum_epochs",
         momentum_epochs = "epoch where the momentum ramp ends", dropout = "dropout in D"},
}
local cfg = run.config
if cfg.loss ~= "nonsat" and cfg.loss ~= "minimax" then
  io.stderr:write("gan_mnist: --loss must be nonsat or minimax\n")
  os.exit(2)
end
if cfg.optim ~= "adam" and cfg.optim ~= "sgd" then
  io.stderr:write("gan_mnist: --optim must be adam or sgd\n")
  os.exit(2)
end
local sgd = cfg.optim == "sgd"
local lr = cfg.lr > 0 and cfg.lr or (sgd and 0.1 or 2e-4)
if cfg.k < 1 then io.stderr:write("gan_mnist: --k must be >= 1\n") os.exit(2) end

-- data in [0, 1], as the paper's
local train = lg.data.load(cfg.dataset, "train", {range = {0, 1}})
local loader = lg.data.Loader(train.images:view(train.n, 784), {batch = cfg.batch})
local epoch_iters = loader:batches()

-- pylearn2's maxout: a linear layer whose outputs come in groups of `pieces`
-- consecutive units, each group reduced by max
local Maxout = nn.Module:extend("Maxout")
function Maxout:init(nin, units, pieces)
  self.units, self.pieces = units, pieces
  self.linear = nn.Linear(nin, units * pieces)
end
function Maxout:forward(x)
  local v = self.linear(x):view(x:size(1), self.units, self.pieces):max(3)
  return v
end

local function uniform_init(net, r)
  for _, p in ipairs(net:parameters()) do nn.init.uniform_(p, -r, r) end
end

local G = nn.Sequential(
  nn.Linear(cfg.nz, cfg.g_hidden), nn.ReLU(),
  nn.Linear(cfg.g_hidden, cfg.g_hidden), nn.ReLU(),
  nn.Linear(cfg.g_hidden, 784), nn.Sigmoid())
if sgd then uniform_init(G, 0.05) end
-- output bias = logit of the mean training image (pixel marginals)
lg.no_grad(function()
  local m = train.images:view(train.n, 784):mean(1):clamp(1e-3, 1 - 1e-3)
  G[5].bias:copy_((m / (1 - m)):log())
end)

local pin, ph = cfg.dropout and 0.2 or 0, cfg.dropout and 0.5 or 0
local D = nn.Sequential(
  nn.Dropout(pin), Maxout(784, cfg.d_units, cfg.pieces),
  nn.Dropout(ph), Maxout(cfg.d_units, cfg.d_units, cfg.pieces),
  nn.Dropout(ph), nn.Linear(cfg.d_units, 1))
if sgd then uniform_init(D, 0.005) end

local function make_optim(params)
  if sgd then return optim.SGD(params, {lr = lr, momentum = cfg.momentum}) end
  return optim.Adam(params, {lr = lr, betas = {0.5, 0.999}})
end
local optG, optD = make_optim(G:parameters()), make_optim(D:parameters())

-- schedules: functions of the update count, so a resumed run follows them exactly
local function schedule(opt, updates)
  if not sgd then return end
  local epoch = updates / epoch_iters
  local t = math.min(1, math.max(0, (epoch - 1) / (cfg.momentum_epochs - 1)))
  opt.config.lr = math.max(1e-6, lr / cfg.lr_decay ^ updates)
  opt.config.momentum = cfg.momentum + t * (cfg.momentum_final - cfg.momentum)
end

local z_fixed = lg.randn(64, cfg.nz)
local ones, zeros = lg.ones(cfg.batch, 1), lg.zeros(cfg.batch, 1)

run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
run:sampler(function()
  G:eval()
  local x = G(z_fixed):view(64, 1, 28, 28)
  G:train()
  return x
end, {range = {0, 1}})

for it in run:iterations() do
  local lossD, realD, fakeD
  for j = 1, cfg.k do
    schedule(optD, (it - 1) * cfg.k + j - 1)
    local real = loader:next()
    local fake = G(lg.randn(cfg.batch, cfg.nz)):detach()
    local sr, sf = D(real), D(fake)
    lossD = (lg.bce_with_logits(sr, ones) + lg.bce_with_logits(sf, zeros)) * 0.5
    optD:zero_grad()
    lossD:backward()
    optD:step()
    realD, fakeD = sr:sigmoid():mean(), sf:sigmoid():mean()
  end
  schedule(optG, it - 1)
  local s = D(G(lg.randn(cfg.batch, cfg.nz)))
  local lossG = cfg.loss == "nonsat" and lg.bce_with_logits(s, ones)
                or -lg.bce_with_logits(s, zeros)
  optG:zero_grad()
  lossG:backward()
  optG:step()
  D:zero_grad()                 -- G's backward reached D's parameters too
  run:log{lossD = lossD, lossG = lossG, D_real = realD, D_fake = fakeD}
end
