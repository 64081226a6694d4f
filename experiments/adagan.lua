-- adagan.lua: AdaGAN (Tolstikhin, Gelly, Bousquet, Simon-Gabriel, Schoelkopf,
-- "AdaGAN: Boosting Generative Models", NIPS 2017, arXiv 1701.02386) on a
-- 2-D mixture of 10 Gaussians: a mixture of T GANs grown one at a time, each
-- trained on the data reweighted towards what the mixture so far misses,
-- against one GAN (vanilla) and the uniform mixture of T independent GANs
-- (ensemble).  Shows that boosting covers the modes a single GAN misses.
--
--   luagan experiments/adagan.lua --method adagan|ensemble|vanilla [--T 10]
--       [--modes 10] [--points 64000] [--epochs 15] [--beta uniform|constant] ... (--help)
--
-- One iteration is one GAN step; component t runs iterations (t - 1) S + 1
-- .. t S, S = epochs * points / batch.  metrics.csv: lossD, lossG every step;
-- coverage C, loglik, modes of the mixture (and comp_* of the component) at
-- each component's end, its weight and data-weight statistics at its start;
-- the last row is the whole mixture.  Provenance: experiments/notes/adagan.md.
local lg = require "luagan"
local A = require "lib.adagan"
local gan = lg.gan

local run = lg.experiment{
  name = "adagan", dataset = "gmm", threads = 1, checkpoint_every = 0, sample_every = 0,
  method = {"adagan", "ensemble", "vanilla"}, T = 10, epochs = 15, modes = 10, points = 64000,
  max_val = 15.0, data_seed = 821, nz = 5, hidden = 16, init_std = 0.8, lr_d = 0.004,
  lr_g = 0.01, lr_c = 0.008, c_epochs = 5, beta = {"uniform", "constant"}, beta_constant = 0.5,
  pool = 5000, eval_fake = 1000, eval_valid = 500, eval_real = 500,
  doc = {method = "adagan (boosting), ensemble (T independent GANs, uniform mixture) or vanilla (one GAN)",
         T = "mixture components (vanilla: 1)", epochs = "passes over the data per component",
         modes = "Gaussians in the toy", points = "training points",
         max_val = "means uniform in [-max_val, max_val]^2", data_seed = "seed of the toy data set",
         nz = "noise dimension (N(0, I))", hidden = "units of the two ReLU layers of G, D and C",
         init_std = "N(0, std) initial weights", lr_d = "D's SGD lr", lr_g = "G's SGD lr",
         lr_c = "the reweighting classifier's SGD lr", c_epochs = "the classifier's passes",
         beta = "weight of component t: uniform 1/t or constant --beta_constant",
         beta_constant = "beta of every component after the first with --beta constant",
         pool = "samples kept per component to sample the mixture",
         eval_fake = "mixture samples for the KDE and mode count",
         eval_valid = "more mixture samples choosing the KDE bandwidth",
         eval_real = "training points whose coverage is measured (the first ones)",
         dataset = "gmm (the only one)",
         iters = "set from --T, --epochs, --points and --batch (S steps per component)",
         sample_every = "a picture every N steps (0: at the end of every component)"},
}
local cfg, given = run.config, run.given

-- {------------------------------------------------------ flags
if cfg.dataset ~= "gmm" then run:fail("--dataset must be gmm, got " .. cfg.dataset) end
if cfg.method == "vanilla" then
  if given.T and cfg.T ~= 1 then
    run:fail("--method vanilla trains one GAN: --T must be 1 (train it longer with --epochs)")
  end
  cfg.T = 1
end
if cfg.method ~= "adagan" and given.beta then
  run:fail("--beta applies to --method adagan (an ensemble is a uniform mixture)")
end
for _, k in ipairs{"T", "epochs", "modes", "nz", "hidden", "c_epochs", "pool", "eval_real",
                   "eval_valid", "batch"} do
  if cfg[k] < 1 then run:fail(("--%s must be >= 1, got %d"):format(k, cfg[k])) end
end
if cfg.eval_fake < 100 then run:fail("--eval_fake must be >= 100 (modes need 1% of it)") end
if cfg.points < cfg.batch then run:fail("--points must be >= --batch") end
if cfg.eval_real > cfg.points then run:fail("--eval_real must be <= --points") end
if not (cfg.max_val > 0) then run:fail("--max_val must be > 0") end
if not (cfg.beta_constant > 0 and cfg.beta_constant <= 1) then
  run:fail("--beta_constant must be in (0, 1]")
end
local E = cfg.points // cfg.batch                         -- GAN steps per epoch
local S = cfg.epochs * E                                  -- per component
if given.iters and cfg.iters ~= cfg.T * S then
  run:fail(("--iters is set by the other flags: %d components x %d steps = %d"):format(cfg.T, S,
    cfg.T * S))
end
cfg.iters = cfg.T * S
if cfg.sample_every == 0 then cfg.sample_every = S end
-- }------------------------------------------------------

local data = A.gmm{modes = cfg.modes, points = cfg.points, max_val = cfg.max_val,
                   seed = cfg.data_seed}
local X, N = data.x, cfg.points
local real_eval = X:narrow(1, 1, cfg.eval_real)
local G = A.mlp(cfg.nz, 2, cfg.hidden)
local D = A.mlp(2, 1, cfg.hidden)
local C = A.mlp(2, 1, cfg.hidden)
local optG = lg.optim.SGD(G:parameters(), {lr = cfg.lr_g})
local optD = lg.optim.SGD(D:parameters(), {lr = cfg.lr_d})
-- mix: weights of the finished components; pool: their samples, cfg.pool
-- rows each; w: the data weights of the current component; draws: its
-- minibatch indices for the current epoch
local state = {mix = {}, w = lg.ones(N) / N}
run:track{G = G, D = D, optG = optG, optD = optD, state = state}

local picture     -- the last evaluation's mixture samples
run:sampler(function()
  return A.render(picture or G(lg.randn(cfg.eval_fake, cfg.nz)), X, state.w, cfg.max_val + 2)
end, {range = {0, 1}, nrow = 2})

-- every column, so that the first row fixes them all
local COLUMNS = {"component", "lossD", "lossG", "beta", "w_zero", "w_max", "lambda", "c_acc",
                 "coverage", "loglik", "modes", "bandwidth", "comp_coverage", "comp_modes"}

local function evaluate(sample)
  local fake, valid = sample(cfg.eval_fake), sample(cfg.eval_valid)
  local kde = lg.metrics.kde_coverage(real_eval, fake, valid)
  local mc = lg.metrics.mode_coverage(fake, data, {min_hq = math.ceil(0.01 * cfg.eval_fake)})
  return kde, mc.modes, fake
end

-- The start of component t: fresh nets, its weight beta and, for AdaGAN
-- after the first, the data weights from the classifier.
local function start_component(t, row)
  A.init_(G, cfg.init_std)
  A.init_(D, cfg.init_std)
  local beta = A.beta(t, cfg.method == "adagan" and cfg.beta or "uniform", cfg.beta_constant)
  state.beta = beta
  row.beta = beta
  if cfg.method == "adagan" and t > 1 then
    local fake = A.mixture_sample(state.pool, cfg.pool, state.mix, N)
    local h, acc_real, acc_fake = A.density_ratios{net = C, x = X, fake = fake,
      epochs = cfg.c_epochs, batch = cfg.batch, lr = cfg.lr_c, std = cfg.init_std}
    local w, lambda = A.theory_star(h, beta)
    state.w = w
    row.lambda = lambda or ""
    row.c_acc = (acc_real + acc_fake) / 2
    if not lambda then print(("adagan: component %d: no lambda*, uniform weights"):format(t)) end
  end
  row.w_zero = state.w:le(0):mean():item()
  row.w_max = state.w:max():item() * N
end

-- The end of component t: keep its sample, add it to the mixture, evaluate.
local function end_component(t, row)
  local sample = lg.no_grad(function() return G(lg.randn(cfg.pool, cfg.nz)) end)
  state.pool = t == 1 and sample or lg.cat({state.pool, sample}, 1)
  state.mix = A.mix(state.mix, state.beta)
  local kde, modes, fake = evaluate(function(n) return A.mixture_sample(state.pool, cfg.pool,
    state.mix, n) end)
  local own, own_modes = evaluate(function(n)
    return sample:index_select(1, lg.randint(1, cfg.pool + 1, {n})) end)
  picture = fake
  row.coverage, row.loglik, row.modes, row.bandwidth = kde.coverage, kde.loglik, modes,
    kde.bandwidth
  row.comp_coverage, row.comp_modes = own.coverage, own_modes
  print(("adagan: %s component %d/%d (beta %.3f): mixture C %.3f, loglik %.2f, modes %d/%d; "
    .. "component C %.3f, modes %d"):format(cfg.method, t, cfg.T, state.beta, kde.coverage,
    kde.loglik, modes, cfg.modes, own.coverage, own_modes))
  io.stdout:flush()
end

print(("adagan: %s, T %d, %d modes (std %.4f), %d points, %d steps per component, seed %d")
  :format(cfg.method, cfg.T, cfg.modes, data.std, N, S, cfg.seed))
local loss = gan.non_saturating
for it in run:iterations() do
  local t, s = (it - 1) // S + 1, (it - 1) % S + 1
  local row = {}
  for _, k in ipairs(COLUMNS) do row[k] = "" end
  row.component = t
  if s == 1 then start_component(t, row) end
  local e = (s - 1) % E                                     -- step within the epoch, from 0
  if e == 0 then state.draws = A.draw(state.w, E * cfg.batch) end
  local real = X:index_select(1, state.draws:narrow(1, e * cfg.batch + 1, cfg.batch))
  local out = gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss, real = real,
                       z = lg.randn(cfg.batch, cfg.nz)}
  row.lossD, row.lossG = out.d, out.g
  if s == S then end_component(t, row) end
  run:log(row)
end
