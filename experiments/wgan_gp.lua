-- wgan_gp.lua: WGAN with gradient penalty (Gulrajani, Ahmed, Arjovsky,
-- Dumoulin, Courville, "Improved Training of Wasserstein GANs", NeurIPS 2017,
-- arXiv 1704.00028) on the 2-D toys (8 Gaussians, 25 Gaussians, swiss roll)
-- and on MNIST / Fashion-MNIST with the weight-clipping WGAN and DCGAN baselines.
--
--   luagan experiments/wgan_gp.lua [--dataset ring8|grid25|swissroll] [--iters N] ... (--help)
--   luagan experiments/wgan_gp.lua --dataset mnist|mnist10k|fashion [--mode wgan-gp|wgan|dcgan]
--                                  [--dim N] [--iters N] [--eval_every N] [--eval_n N] ...
--
-- Objective (eq. 3): the critic minimises
--   E[D(G(z))] - E[D(x)] + lambda E[(||grad_xhat D(xhat)||_2 - 1)^2],
--   xhat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample
-- (gan.wasserstein + gan.gradient_penalty, the gradient of a gradient);
-- G minimises -E[D(G(z))].  Algorithm 1: n_critic critic steps (each on a
-- fresh real batch and noise) per generator step.
--
-- 2-D toys.  Claim reproduced (paper sec. 4 / Fig. 1 shows the toy critics; core.md
-- 9.5 sets the target): the generator covers the 8-Gaussian ring (>= 7/8
-- modes; core.md asks 8/8 with >= 90% high-quality samples) and the 25-grid
-- (>= 24/25, >= 80% HQ).  Measured with the VEEGAN / PacGAN mode protocol
-- (metrics.mode_coverage: 2,500 samples, 3 std of the data actually
-- generated): columns modes, hq, rev_kl, hops, modeset, plus gp (the
-- penalty) and grad_norm (mean critic gradient norm at xhat; ~1 when the
-- penalty holds) in metrics.csv.  -lossD estimates W1.  On the swiss roll,
-- "modes" counts which of 20 equal-probability arcs of the roll hold a
-- sample within 3 noise std of the curve (toy.lua), hq the share of such samples.
--
-- Toy defaults: the paper's Algorithm 1 values lambda = 10, n_critic = 5, Adam
-- lr 1e-4, beta1 = 0, beta2 = 0.9 [P]; the toy architecture of the authors'
-- gan_toy.py (igul222/improved_wgan_training @fa66c57 [C]): G 2-d N(0, I)
-- noise -> 3 ReLU layers of 512 -> 2, D 2 -> 3 ReLU layers of 512 -> 1, He
-- init (N(0, 2 / fan_in), zero biases), batch 256, and its data: 8 Gaussians
-- radius 2 std 0.02, 25 Gaussians at (2i, 2j) std 0.05, divided by 1.414 and
-- 2.828; swiss roll sklearn noise 0.25, / 7.5.
--
-- The gan_toy.py recipe: `--lambda 0.1 --beta1 0.5` (the other defaults
-- already match it).  gan_toy.py (igul222/improved_wgan_training, read
-- again @3c8ba3c) sets DIM = 512, LAMBDA = .1 ("smaller lambda makes things
-- faster for toy tasks"), CRITIC_ITERS = 5, BATCH_SIZE = 256, ITERS =
-- 100000 generator iterations, Adam lr 1e-4, beta1 0.5, beta2 0.9 for both
-- nets.  Small differences that remain: it does its G step before the
-- critic steps (gan.step does the critic steps first: the same sequence but
-- for the first G step); tflib's "he" init is uniform with std
-- sqrt(2 / fan_in) and its output layers use tflib's default (Glorot
-- uniform), ours N(0, 2 / fan_in) on every layer.
-- Deviation for CPU time: 500 generator iterations (2,500 critic steps) by
-- default, far from converged.  With the paper's lambda 10 and beta1 0 the
-- ring takes a while: 0-5 modes, none HQ, up to 3,000 iterations (width 512), then
-- 8/8 at 10,000 in seeds 1-3 (HQ 62%, 16%, 28%; 22 minutes a run at 1
-- thread); at width 128, 4-7/8 and HQ <= 7% at 10,000 (a PyTorch copy of
-- the loop at width 128 is unconverged at 5,000 too).  With the gan_toy.py
-- recipe one run (seed 1, width 512, 11-12 it/s at 1 thread: 10,000
-- iterations in 14 minutes) holds 8/8 modes at every evaluation from 3,000
-- iterations on, while HQ swings between 15% and 61% from one evaluation to
-- the next from 5,000 on (2k-window means 18%, 26%, 42%, 38% over 2k-10k;
-- 15% at 10,000): G puts a blob at every mode, but much of each blob lies
-- beyond 3 std (3 x 0.014 = 0.042) of the centre.  Coverage (>= 7/8) comes quickly;
-- concentration on the modes (core.md 9.5's >= 90% HQ) does not at 10k of
-- gan_toy.py's 100k.  Continued to 30,000 (seeds 1-3) the ring stays at 8/8
-- and HQ rises slowly to about two thirds (5k-window means 0.63 / 0.70 /
-- 0.68 over 25-30k; seed 1 flat from 15k on).  --hidden 128 is core.md
-- 9.5's cheaper net (about 10x faster per iteration).
-- --mode dcgan on the toys: the plain GAN in the same harness (same nets,
-- data and Adam; sigmoid cross-entropy D, non-saturating G loss, one D step
-- unless --n_critic).  With gan_toy's recipe (--beta1 0.5), 10k iterations,
-- seeds 1-3: 8 / 7 / 7 ring modes (HQ 36-64%), so the ring does not make it
-- collapse; 18 / 17 / 14 of the 25 grid modes, where WGAN-GP covers 24-25.
--
-- Images (--dataset mnist | mnist10k | fashion) follow the authors' gan_mnist.py
-- (igul222/improved_wgan_training, read @4fde7f3 and @a3029cc [C]: they differ only
-- in the default MODE and a missing line of the dcgan branch), with its three modes
-- as --mode:
--   wgan-gp (default)  the penalty above, lambda 10, 5 critic steps, Adam lr 1e-4,
--                      betas (0.5, 0.9) for both nets: the code's beta1 0.5, not
--                      Algorithm 1's 0; no batch norm
--   wgan               weight clipping to [-0.01, 0.01], 5 critic steps, RMSprop 5e-5
--                      as tf.train.RMSPropOptimizer (decay 0.9, eps 1e-10, mean square
--                      started at 1); BN in G (all but the output) and in the
--                      critic's layers 2 and 3
--   dcgan              sigmoid cross-entropy with the non-saturating G loss
--                      (gan.non_saturating), Adam 2e-4, betas (0.5, 0.999), one D step;
--                      no BN: gan_mnist.py has BN under MODE == 'wgan' only (--bn true
--                      adds it where 'wgan' has it)
-- Nets (experiments/lib/nets.lua: wgangp_mnist_G / _D, DIM = --dim, 64 in the code):
--   G z 128-d N(0, I) -> Linear 4*4*4 DIM -> ReLU -> [4 DIM, 4, 4] -> deconv 5x5/2 to
--   2 DIM (8x8) -> ReLU -> crop to 7x7 -> deconv to DIM (14) -> ReLU -> deconv to 1 (28)
--   -> sigmoid; critic conv 5x5/2 to DIM (14) -> LReLU 0.2 -> 2 DIM (7) -> LReLU -> 4 DIM
--   (4) -> LReLU -> Linear 1.  Data and samples in [0, 1]; batch 50; each critic step
--   on a fresh real batch (shuffled epochs of the training split); eps ~ U[0, 1] per
--   sample.  Init: tflib's scheme itself (nets.tflib_init: uniform, convolutions std
--   sqrt(4 / (fan_in + fan_out)) with the stride in the fans, Linear Glorot, zero biases).
-- Claim: the paper's Fig. 3 (CIFAR-10 Inception score against generator iterations:
--   WGAN-GP with Adam above weight clipping) carried to MNIST, where the paper shows
--   samples only: at equal generator iterations WGAN-GP gives better samples than
--   clipping.  Every --eval_every iterations (and at 1 and the last), on --eval_n
--   samples, the MNIST (Fashion) classifier of luagan.image_metrics (told that the
--   images are in [0, 1]: it maps them onto its [-1, 1]) gives classes
--   (classes with >= 1% of the samples), top_share (the largest class's share),
--   mode_score and fid (to the classifier's training-set features; biased upwards at
--   small eval_n: compare at equal eval_n); -1 when its weights are missing.  Every
--   iteration: lossD (the last critic step's loss without the penalty: -lossD
--   estimates W1 in the WGAN modes; in dcgan mode twice gan_mnist.py's disc_cost,
--   which halves the sum), lossG, and in wgan-gp mode gp and grad_norm (mean
--   ||grad D(xhat)||, ~1 when the penalty holds).  Iterations/s on stdout.
-- Image defaults (taken by the flags not given; --resume keeps the run's): batch 50,
--   nz 128, lr / beta1 / beta2 / n_critic of the mode, iters 2000, eval_every 250,
--   eval_n 2000, sample_every 500, checkpoint_every 1000, dim 64.
-- Deviations: 2,000 generator iterations by default instead of 200,000 (CPU time, see
--   below); gan.step runs the critic steps before the G step (the code skips G at
--   iteration 0, then puts it first: the same sequence but for one G step at the
--   end) and clips before each critic step (the code after: the same sequence but
--   for the first step and the G step, which here sees a critic up to one RMSprop
--   step outside the box); TF's SAME padding puts the extra pixel at the bottom and
--   right, ours is symmetric (same sizes); BN always normalises with batch
--   statistics, as tflib's Batchnorm does (G is never put in eval mode, also not for
--   samples); "mnist" is full MNIST (60k training digits; the code uses
--   mnist.pkl.gz's 50k) when its IDX files are in datasets/mnist, else the shipped
--   9,001; Adam's eps is PyTorch's form, RMSprop's sits outside the sqrt (both
--   negligible here).
-- Speed, generator iterations/s at 1 thread (batch 50, 20-iteration runs, dcgan 60;
--   CPU-time rate, the wall rate on the loaded shared machine in brackets):
--     --dim   wgan-gp       wgan          dcgan
--     64      1.11 (0.73)   1.58 (1.05)   5.45 (3.59)     gan_mnist.py's 200k: ~50 h
--     32      3.55 (2.33)   4.87 (3.21)   17.4 (11.4)
--     16      9.13 (6.31)   11.9 (8.51)   44.8 (29.7)
--   Reproduction size (3 seeds x 3 modes, each <= 15 min at 1 thread): --dim 16 --iters
--   5000 --eval_every 250 --eval_n 5000 (wgan-gp ~10-13 min, wgan ~7-10, dcgan ~3).
-- Result (mnist10k, --dim 16, 2,000 iterations, seed 1, eval_n 2000; real digits score
--   classes 10, mode_score 9.3, fid 7 (the 999 test digits)): wgan-gp classes 10,
--   top_share 0.17, mode_score 4.15, fid 163, legible digits; wgan 8, 0.28, 2.37, 489,
--   blurred strokes on a grid pattern; WGAN-GP is ahead at every evaluation
--   (fid 542 / 261 / 180 at 500 / 1000 / 1500 against clipping's 770 / 640 / 586).
--   dcgan: 1 class, fid 930: within ~200 iterations D wins (lossD -> 0) and G's
--   sigmoid saturates at 0 (black images) and stays there (seeds 1 and 2); a
--   throwaway PyTorch transcription of this mode does the same (DIM 16 seeds 1-2, DIM
--   64 seed 1: mean pixel 0.000 by iteration 300), so it is gan_mnist.py's BN-free
--   dcgan mode that fails here; with --bn true it trains (DIM 16, 500 iterations:
--   10 classes, fid 487).
local here = (arg and arg[0] or ""):match("(.*/)") or "./"
local toy = dofile(here .. "lib/toy.lua")
local nets = dofile(here .. "lib/nets.lua")
local lg = require "luagan"
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

  local G = toy.mlp{nin = cfg.nz, nout = 2, hidden = cfg.hidden, layers = cfg.layers, act = "relu",
                    init = "he"}
  local D = toy.mlp{nin = 2, nout = 1, hidden = cfg.hidden, layers = cfg.layers, act = "relu",
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
