-- gan_mnist.lua: the MLP GAN of Goodfellow et al., "Generative Adversarial
-- Nets" (NIPS 2014), on MNIST, with the paper's Parzen-window evaluation
-- (Table 1) and its saturating vs non-saturating G loss comparison (sec. 3).
--
--   luagan experiments/gan_mnist.lua                      the demo (make demo): 6,000 iterations
--   luagan experiments/gan_mnist.lua --parzen             + Parzen log-likelihood of the test digits
--   luagan experiments/gan_mnist.lua --loss minimax       the saturating G loss log(1 - D(G(z)))
--   luagan experiments/gan_mnist.lua --k 2                two D steps per G step (Algorithm 1)
--   luagan experiments/gan_mnist.lua --resume DIR --parzen   Parzen evaluation of a finished run
--
-- What follows the paper, the deviations and the metrics: experiments/notes/gan_mnist.md.
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local nets = require "lib.nets"

local run = lg.experiment{
  name = "gan_mnist", iters = 6000, batch = 100, dataset = "mnist",
  sample_every = 1000, checkpoint_every = 5000,
  loss = {"nonsat", "minimax"}, k = 1, nz = 100, g_hidden = 256, g_hidden2 = 512,
  d_arch = {"leaky", "maxout"}, d_units = 512, d_units2 = 256, pieces = 5,
  optim = {"adam", "sgd"}, lr = 0.0, lr_decay = 1.000004, momentum = 0.5, momentum_final = 0.7,
  momentum_epochs = 250, dropout = true, holdout = 1000,
  parzen = false, parzen_samples = 10000, grad_both = false, g_bn = true,
  doc = {loss = "G loss: nonsat (-log D(G(z))) or minimax (log(1 - D(G(z))), saturating)",
         k = "D steps per G step (Algorithm 1)", nz = "noise dimension",
         g_hidden = "G's first hidden layer", g_hidden2 = "G's second hidden layer",
         d_arch = "D's hidden units: leaky (LeakyReLU 0.2) or maxout (the paper's)",
         d_units = "D's first hidden layer (maxout: units)",
         d_units2 = "D's second hidden layer (maxout: same as d_units)",
         pieces = "maxout: pieces per unit",
         g_bn = "batch normalisation after G's hidden layers",
         optim = "adam (Adam 2e-4, beta1 0.5, PyTorch init) or sgd (the paper's SGD + momentum schedule and init)",
         lr = "learning rate; 0: 2e-4 for adam, 0.1 for sgd", lr_decay = "sgd: lr divided by this every update",
         momentum = "sgd: initial momentum", momentum_final = "sgd: momentum reached at --momentum_epochs",
         momentum_epochs = "sgd: epoch where the momentum ramp ends", dropout = "dropout in D (keep 0.8 input, 0.5 hidden)",
         holdout = "last N training digits held out (Parzen validation split)",
         parzen = "at the end, Parzen-window log-likelihood of the test digits",
         parzen_samples = "generated samples for the Parzen window",
         grad_both = "also log both losses' G gradient norms (gnorm_ns, gnorm_mm) at each G step"},
}
local cfg = run.config
local loss = ({nonsat = gan.non_saturating, minimax = gan.minimax})[cfg.loss]
if cfg.k < 1 then run:fail("--k must be >= 1") end
if cfg.holdout < 0 then run:fail("--holdout must be >= 0") end
if cfg.parzen and cfg.holdout < 1 then run:fail("--parzen needs a validation split: --holdout > 0") end
if cfg.parzen_samples < 1 then run:fail("--parzen_samples must be >= 1") end
local sgd = cfg.optim == "sgd"
local lr = cfg.lr > 0 and cfg.lr or (sgd and 0.1 or 2e-4)

-- data in [0, 1], as the paper's; the last --holdout digits are the validation split
local train = lg.data.load(cfg.dataset, "train", {range = {0, 1}})
local ntrain = train.n - cfg.holdout
if ntrain < cfg.batch then run:fail(("only %d training digits for batches of %d"):format(ntrain, cfg.batch)) end
local all = train.images:view(train.n, 784)
local xtrain = all:narrow(1, 1, ntrain)
local loader = lg.data.Loader(xtrain, {batch = cfg.batch})
local epoch_iters = loader:batches()

local function uniform_init(net, r)
  for _, p in ipairs(net:parameters()) do nn.init.uniform_(p, -r, r) end
end

local G = nn.Sequential(nn.Linear(cfg.nz, cfg.g_hidden))
if cfg.g_bn then G:add(nn.BatchNorm1d(cfg.g_hidden)) end
G:add(nn.ReLU())
G:add(nn.Linear(cfg.g_hidden, cfg.g_hidden2))
if cfg.g_bn then G:add(nn.BatchNorm1d(cfg.g_hidden2)) end
G:add(nn.ReLU())
local G_out = nn.Linear(cfg.g_hidden2, 784)
G:add(G_out)
G:add(nn.Sigmoid())
if sgd then uniform_init(G, 0.05) end
-- output bias = logit of the mean training image (pixel marginals, mnist.yaml)
lg.no_grad(function()
  local m = xtrain:mean(1):clamp(1e-3, 1 - 1e-3)
  G_out.bias:copy_((m / (1 - m)):log())
end)

local pin, ph = cfg.dropout and 0.2 or 0, cfg.dropout and 0.5 or 0
local D
if cfg.d_arch == "maxout" then
  D = nn.Sequential(
    nn.Dropout(pin), nets.Maxout(784, cfg.d_units, cfg.pieces),
    nn.Dropout(ph), nets.Maxout(cfg.d_units, cfg.d_units, cfg.pieces),
    nn.Dropout(ph), nn.Linear(cfg.d_units, 1))
else
  D = nn.Sequential(
    nn.Dropout(pin), nn.Linear(784, cfg.d_units), nn.LeakyReLU(0.2),
    nn.Dropout(ph), nn.Linear(cfg.d_units, cfg.d_units2), nn.LeakyReLU(0.2),
    nn.Dropout(ph), nn.Linear(cfg.d_units2, 1))
end
if sgd then uniform_init(D, 0.005) end

local function make_optim(params)
  if sgd then return optim.SGD(params, {lr = lr, momentum = cfg.momentum}) end
  return optim.Adam(params, {lr = lr, betas = {0.5, 0.999}})
end
local Gparams = G:parameters()
local optG, optD = make_optim(Gparams), make_optim(D:parameters())

-- the paper's SGD schedule, a function of the update count so that a resumed
-- run follows it exactly
local function schedule(opt, updates)
  if not sgd then return end
  local epoch = updates / epoch_iters
  local t = math.min(1, math.max(0, (epoch - 1) / (cfg.momentum_epochs - 1)))
  opt.config.lr = math.max(1e-6, lr / cfg.lr_decay ^ updates)
  opt.config.momentum = cfg.momentum + t * (cfg.momentum_final - cfg.momentum)
end

local z_fixed = lg.randn(64, cfg.nz)

run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
run:sampler(function()
  G:eval()
  local x = G(z_fixed):view(64, 1, 28, 28)
  G:train()
  return x
end, {range = {0, 1}})

-- L2 norm of a list of gradients (one reduction per parameter tensor)
local function norm(grads)
  local s = 0
  for _, g in ipairs(grads) do s = s + (g * g):sum():item() end
  return math.sqrt(s)
end

for it in run:iterations() do
  local lossD, realD, fakeD
  for j = 1, cfg.k do
    schedule(optD, (it - 1) * cfg.k + j - 1)
    local real = loader:next()
    local fake = lg.no_grad(function() return G(lg.randn(cfg.batch, cfg.nz)) end)
    local sr, sf = D(real), D(fake)
    lossD = loss.d(sr, sf) * 0.5
    optD:zero_grad()
    lossD:backward()
    optD:step()
    realD, fakeD = sr:sigmoid():mean(), sf:sigmoid():mean()
  end
  schedule(optG, it - 1)
  local s = D(G(lg.randn(cfg.batch, cfg.nz)))
  local lossG = loss.g(s)
  local row = {lossD = lossD, lossG = lossG, D_real = realD, D_fake = fakeD,
               D_gz = lg.no_grad(function() return s:sigmoid():mean() end)}
  if cfg.grad_both then
    -- both objectives' gradients at the same (G, D); the one of --loss trains
    local other = cfg.loss == "nonsat" and gan.minimax or gan.non_saturating
    local go = lg.grad(other.g(s), Gparams, {retain_graph = true})
    local key = cfg.loss == "nonsat" and "gnorm_mm" or "gnorm_ns"
    row[key] = norm(go)
  end
  local grads = lg.grad(lossG, Gparams)    -- G's parameters only: D's .grad stays clean
  for i, p in ipairs(Gparams) do p.grad = grads[i] end
  optG:step()
  row.gnorm_G = norm(grads)
  if cfg.grad_both then row[cfg.loss == "nonsat" and "gnorm_ns" or "gnorm_mm"] = row.gnorm_G end
  run:log(row)
end

if cfg.parzen then
  local parzen = require "luagan.parzen"
  local t0 = lg.clock()
  local parts = {}
  G:eval()
  lg.no_grad(function()
    for start = 1, cfg.parzen_samples, 1000 do
      parts[#parts + 1] = G(lg.randn(math.min(1000, cfg.parzen_samples - start + 1), cfg.nz))
    end
  end)
  local samples = #parts == 1 and parts[1] or lg.cat(parts, 1)
  local test = lg.data.load(cfg.dataset, "test", {range = {0, 1}})
  local valid = all:narrow(1, ntrain + 1, cfg.holdout)
  local r = parzen.evaluate{samples = samples, valid = valid, test = test.images:view(test.n, 784)}
  local lines = {"sigma,valid_mean_ll"}
  for _, c in ipairs(r.curve) do lines[#lines + 1] = ("%.9g,%.9g"):format(c.sigma, c.mean) end
  run:write("parzen_sigma.csv", table.concat(lines, "\n") .. "\n")
  local summary = ("parzen: test log-likelihood %.1f +- %.1f nats (%d test digits, %d samples, "
    .. "sigma %.4f chosen on %d validation digits; paper, Table 1: 225 +- 2 on 10,000 test digits) "
    .. "[%.1f s]"):format(r.mean, r.se, r.n, r.m, r.sigma, cfg.holdout, lg.clock() - t0)
  run:write("parzen.txt", summary .. "\n")
  print(summary)
end
if run.last_sample then print(("sample grid: %s"):format(run.last_sample)) end
if run.last_plot then print(("loss plot: %s"):format(run.last_plot)) end
