-- wgan_gp.lua: WGAN with gradient penalty (Gulrajani, Ahmed, Arjovsky, Dumoulin
-- and Courville, "Improved Training of Wasserstein GANs", NeurIPS 2017).
--
-- The critic's gradient penalty (eq. 3, Algorithm 1) on the 2-D toys (8 and 25
-- Gaussians, swiss roll: modes covered), and on MNIST / Fashion-MNIST against
-- weight clipping and the plain DCGAN loss (gan_mnist.py's three modes).
--
--   luagan experiments/wgan_gp.lua [--dataset ring8|grid25|swissroll] [--iters N] ... (--help)
--   luagan experiments/wgan_gp.lua --dataset mnist|mnist10k|fashion [--mode wgan-gp|wgan|dcgan]
--                                  [--dim N] [--iters N] [--eval_every N] [--eval_n N] ...
--   gan_toy.py's recipe on the toys: --lambda 0.1 --beta1 0.5
--
-- The recipes, the nets, the deviations and the metrics: experiments/notes/wgan_gp.md.
local lg = require "luagan"
local toy = require "lib.toy"
local nets = require "lib.nets"
local optim, gan = lg.optim, lg.gan

local DEFAULTS = {
  name = "wgan_gp", iters = 500, batch = 256,
  dataset = {"ring8", "grid25", "swissroll", "mnist", "mnist10k", "fashion"},
  sample_every = 250, checkpoint_every = 250, threads = 1,
  lambda = 10.0, n_critic = 5, lr = 1e-4, beta1 = 0.0, beta2 = 0.9, hidden = 512, layers = 3,
  nz = 2, eval_every = 100,
  mode = {"wgan-gp", "wgan", "dcgan"}, dim = 64, eval_n = 2000, clip = 0.01,
  bn = {"auto", "true", "false"},
  doc = {lambda = "gradient penalty weight (paper 10; gan_toy.py 0.1)",
         n_critic = "critic steps per generator step (images: 5, dcgan 1)",
         lr = "learning rate of G and D (Adam; images: per --mode, RMSprop in wgan)",
         iters = "generator iterations (images: 2000)", batch = "batch size (images: 50)",
         beta1 = "Adam beta1 (paper 0; gan_toy.py 0.5; images: 0.5)", beta2 = "Adam beta2",
         hidden = "2-D: hidden units per layer (gan_toy.py DIM 512)",
         layers = "2-D: hidden ReLU layers",
         nz = "noise dimension (images: 128)",
         eval_every = "evaluate every N iterations (images: 250)",
         dataset = "ring8 (8 Gaussians), grid25 (25 Gaussians), swissroll, mnist, mnist10k or fashion",
         threads = "compute threads (1: small matrices; see unrolled_gan.lua)",
         mode = "wgan-gp; images also wgan (weight clipping); dcgan: the plain GAN (images: gan_mnist.py's MODE)",
         dim = "images: width DIM of the nets (gan_mnist.py 64)",
         eval_n = "images: samples for the classifier metrics",
         clip = "images, --mode wgan: critic weights clipped to [-clip, clip]",
         bn = "images: batch norm, auto (only in --mode wgan, as gan_mnist.py), true or false"},
}
-- images: flags not given on the command line take these (then the mode's)
local IMAGE = {iters = 2000, batch = 50, nz = 128, eval_every = 250, sample_every = 500,
               checkpoint_every = 1000}
local MODES = {
  ["wgan-gp"] = {lr = 1e-4, beta1 = 0.5, beta2 = 0.9, n_critic = 5},
  wgan = {lr = 5e-5, n_critic = 5},
  dcgan = {lr = 2e-4, beta1 = 0.5, beta2 = 0.999, n_critic = 1},
}
local IMAGE_SETS = {mnist = true, mnist10k = true, fashion = true}

local run = lg.experiment(DEFAULTS)
local cfg = run.config
local given = run.given   -- the flags on the command line
local images = IMAGE_SETS[cfg.dataset]
local function refuse(keys, what)
  for _, k in ipairs(keys) do
    if given[k] then run:fail(("--%s applies %s"):format(k, what)) end
  end
end
if cfg.mode ~= "wgan-gp" then refuse({"lambda"}, "to --mode wgan-gp only") end
if images then
  refuse({"hidden", "layers"}, "to the 2-D datasets only")
  local m = MODES[cfg.mode]
  if cfg.resume == "" then
    for k, v in pairs(IMAGE) do if not given[k] then cfg[k] = v end end
    for k, v in pairs(m) do if not given[k] then cfg[k] = v end end
  end
  if cfg.mode ~= "wgan" then refuse({"clip"}, "to --mode wgan only") end
  if cfg.mode == "wgan" then refuse({"beta1", "beta2"}, "to Adam (--mode wgan-gp, dcgan)") end
  if cfg.dim < 1 then run:fail("--dim must be >= 1") end
  if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2") end
  if cfg.nz < 1 then run:fail("--nz must be >= 1") end
elseif cfg.mode == "wgan" then
  run:fail("--mode wgan is an image baseline here (weight clipping on 2-D data: experiments/wgan.lua)")
else
  refuse({"dim", "eval_n", "clip", "bn"}, "to the image datasets (mnist, mnist10k, fashion) only")
  if cfg.mode == "dcgan" and cfg.resume == "" and not given.n_critic then cfg.n_critic = MODES.dcgan.n_critic end
end
if cfg.eval_every < 1 then run:fail("--eval_every must be >= 1") end
if cfg.n_critic < 1 then run:fail("--n_critic must be >= 1") end

if not images then
  -- {-------------------------------------------------------- 2-D toys
  local ok, ds = pcall(toy.dataset, cfg.dataset, "wgangp")
  if not ok then run:fail(ds) end

  local G = nets.mlp{nin = cfg.nz, nout = 2, hidden = cfg.hidden, layers = cfg.layers, act = "relu",
                     init = "he"}
  local D = nets.mlp{nin = 2, nout = 1, hidden = cfg.hidden, layers = cfg.layers, act = "relu",
                     init = "he"}
  local betas = {cfg.beta1, cfg.beta2}
  local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = betas})
  local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = betas})
  local schedule = gan.schedule.alternating(cfg.n_critic)
  -- --mode dcgan: the plain GAN in the same harness (same nets, data and Adam;
  -- sigmoid cross-entropy D, non-saturating G loss, n_critic 1 unless given)
  local gp = cfg.mode == "wgan-gp"

  print(("wgan_gp: %s, %s, n_critic %d, Adam %g (%g, %g), %dx%d ReLU, batch %d, seed %d")
    :format(cfg.dataset, gp and ("lambda %g"):format(cfg.lambda) or "plain GAN (--mode dcgan)",
            cfg.n_critic, cfg.lr, cfg.beta1, cfg.beta2, cfg.layers, cfg.hidden, cfg.batch, cfg.seed))
  toy.train(run, {
    G = G, D = D, optG = optG, optD = optD, ds = ds, nz = cfg.nz, eval_every = cfg.eval_every,
    log_keys = gp and {gp = "gp", grad_norm = "grad_norm"} or nil,
    step = function(it)
      return gan.step{G = G, D = D, optG = optG, optD = optD, it = it,
        loss = gp and gan.wasserstein or gan.non_saturating, schedule = schedule, gp = gp and cfg.lambda,
        real = function() return ds:sample(cfg.batch) end,
        z = function() return lg.randn(cfg.batch, cfg.nz) end}
    end,
  })
  return
  -- }
end

-- {---------------------------------------------------------- images: data, nets, optimisers
local okd, train = pcall(lg.data.load, cfg.dataset, "train", {range = {0, 1}})
if not okd then run:fail(tostring(train)) end
local loader = lg.data.Loader(train.images, {batch = cfg.batch})
local mode, nz = cfg.mode, cfg.nz
local bn = cfg.bn == "true" or (cfg.bn == "auto" and mode == "wgan")
local G = nets.wgangp_mnist_G{dim = cfg.dim, nz = nz, bn = bn}
local D = nets.wgangp_mnist_D{dim = cfg.dim, bn = bn}
G:apply(nets.tflib_init)
D:apply(nets.tflib_init)
local optG, optD
if mode == "wgan" then
  local function rmsprop(params)   -- as TF 1.x's: mean square started at 1
    return optim.RMSprop(params, {lr = cfg.lr, alpha = 0.9, eps = 1e-10, initial_square_avg = 1})
  end
  optG, optD = rmsprop(G:parameters()), rmsprop(D:parameters())
else
  local betas = {cfg.beta1, cfg.beta2}
  optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = betas})
  optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = betas})
end
local loss = mode == "dcgan" and gan.non_saturating or gan.wasserstein
local schedule = gan.schedule.alternating(cfg.n_critic)
local function noise(n) return lg.randn(n, nz) end
local function real_batch() return loader:next() end
-- }

-- {---------------------------------------------------------- images: classifier metrics
local classifier_name = cfg.dataset == "fashion" and "fashion" or "mnist"
local im = require "luagan.image_metrics"
local classifier, why_pending = im.for_dataset(cfg.dataset)
if not classifier then io.stderr:write("wgan_gp: image metrics pending (", why_pending, ")\n") end

-- classes, top_share, mode_score, fid of eval_n samples from fixed noise (so that
-- --eval_every does not change the training's random stream; G stays in training
-- mode: its BN, if any, uses batch statistics as tflib's does)
local z_eval = noise(cfg.eval_n)
local function evaluate(row)
  local cols = classifier and classifier:score(G, z_eval, {range = {0, 1}}) or im.PENDING
  for k, v in pairs(cols) do row[k] = v end
end
-- }

local z_fixed = noise(64)
run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
run:sampler(function() return G(z_fixed) end, {range = {0, 1}})

print(("wgan_gp: %s (%d training images), mode %s, DIM %d%s, G %d / D %d parameters, batch %d, "
  .. "%d critic step(s), %s %g%s, seed %d"):format(train.name, train.n, mode, cfg.dim,
  bn and " with BN" or "", G:num_parameters(), D:num_parameters(), cfg.batch, cfg.n_critic,
  mode == "wgan" and "RMSprop" or "Adam", cfg.lr,
  mode == "wgan" and (", clip %g"):format(cfg.clip) or (" (%g, %g)"):format(cfg.beta1, cfg.beta2)
    .. (mode == "wgan-gp" and (", lambda %g"):format(cfg.lambda) or ""), cfg.seed))
if classifier then print("wgan_gp: image metrics from the " .. classifier_name .. " classifier") end
for it in run:iterations() do
  local out = gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss, it = it,
    schedule = schedule, real = real_batch, z = function() return noise(cfg.batch) end,
    gp = mode == "wgan-gp" and cfg.lambda or false, clip = mode == "wgan" and cfg.clip or false}
  local row = {lossD = out.d, lossG = out.g}
  if mode == "wgan-gp" then row.gp, row.grad_norm = out.gp, out.grad_norm end
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    local _, _, ips = run:speed()   -- evaluations included
    evaluate(row)
    print(("wgan_gp: iter %d  classes %d  top_share %.3f  mode_score %.3f  fid %.2f  lossD %.4f%s"
      .. "  %.2f it/s"):format(it, row.classes, row.top_share, row.mode_score, row.fid or -1,
      out.d, row.gp and ("  gp %.4f  grad_norm %.3f"):format(row.gp, row.grad_norm) or "", ips or 0))
    io.stdout:flush()
  end
  run:log(row)
end
local rows = run:rows()
local last = rows[#rows]
if last and tonumber(last.classes) and tonumber(last.classes) >= 0 then
  print(("wgan_gp: final classes %s/10, top_share %.3f, mode_score %.3f, fid %.2f (%s, %s, %d samples)")
    :format(last.classes, tonumber(last.top_share), tonumber(last.mode_score),
            tonumber(last.fid) or -1, cfg.dataset, mode, cfg.eval_n))
elseif last then
  print("wgan_gp: classifier metrics pending (" .. tostring(why_pending) .. ")")
end
