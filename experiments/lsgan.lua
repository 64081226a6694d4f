-- lsgan.lua: Least Squares GAN (Mao, Li, Xie, Lau, Wang, Smolley, ICCV 2017,
-- arXiv 1611.04076): the least-squares loss against the sigmoid cross-entropy
-- GAN with the same nets and optimiser, in the paper's two stability
-- comparisons: the 2-D ring of 8 Gaussians (the default) and DCGAN image
-- models without batch norm (--dataset mnist|mnist10k|fashion|DIR: "Images"
-- below).
--
--   luagan experiments/lsgan.lua [--loss ls|bce] [--coding 01|chi2] [--iters N] ... (--help)
--   luagan experiments/lsgan.lua --dataset mnist [--loss ls|bce] [--bn g|gd|all] ...
--
-- 2-D.  Claim reproduced (the paper's mixture-of-Gaussians stability comparison,
-- Fig. 7, qualitative there: "regular GANs suffer from mode collapse
-- starting at step 15k" while LSGAN learns all modes; papers/core.md
-- section 5, [3P]/[M]): LSGAN keeps more ring modes than the sigmoid GAN.
-- Measured with the VEEGAN / PacGAN mode protocol (metrics.mode_coverage:
-- 2,500 samples, 3 std): metrics.csv columns modes, hq, rev_kl, hops, modeset.
--
-- Setup: the authors' stability_comparison/mixture_gaussian/{ls,sig}.py
-- (xudonmao/LSGAN @3b13d36, read in core.md section 5 [C]; "based on
-- poolio/unrolled_gan"):
--   data: sample_mog(n_mixture=9, std=0.01, radius=1.0), whose first and last
--         angles coincide: 8 distinct modes on the unit ring (lg.data.ring8);
--   G: z ~ N(0, I_256) -> tanh 128 -> tanh 128 -> 2;  D: 2 -> tanh 128 -> tanh 128 -> 1
--      (no sigmoid); orthogonal init, gain 1.4, zero biases;
--   Adam, D lr 1e-4, G lr 1e-3, beta1 0.5, eps 1e-8; batch 512; G and D
--   updated simultaneously (one sess.run);
--   ls.py: the 0-1 coding a = 0, b = c = 1 (gan.lsgan); sig.py: sigmoid CE for
--   D and -log D for G (gan.non_saturating);
--   35,000 iterations, 10 runs per loss (batch_cmp.sh).
-- Deviations: the code's losses are batch sums (tf.nn.l2_loss, and sig.py's
-- unreduced G loss); ours are means.  Adam is invariant to that scale up to
-- eps, so the steps match.  5,000 iterations by default to fit minutes on 2
-- cores (--iters 35000 for the paper's length; the collapse the paper
-- reports starts at 15k).  --coding chi2 runs a = -1, b = 1, c = 0 (the
-- Pearson chi^2 scheme, gan.lsgan_chi2).
-- High-quality share: with the code's D lr 1e-4 both losses give a diffuse
-- G (hq < 2% at 5k, 0-6% at 35k): length is not the cause.  The same nets
-- and rates in unrolled_gan.lua (the notebook this code is based on) leave
-- D at chance in PyTorch too, and --lr_d 1e-3 makes that G concentrate
-- (hq ~0.9 at 10k).  Mode counts at lr_d 1e-4 rest on a few stray samples;
-- use --lr_d 1e-3 to compare the losses on a G that lands on the modes.
-- One such pair (seed 1, 35k iterations, runs/reproduce-long/lsgan-*_fastD-s1)
-- reverses the paper's picture: LS holds 8/8 from 6k to 12k (one dip), then
-- drops two modes for good (mostly 6/8 with dips to 4-5; 6/8, HQ 0.88 at
-- 35k); sigmoid ends at 8/8, HQ 0.88, with
-- brief collapses (HQ < 0.1 and 2-6 modes for 1-2 evaluations at 16.5k,
-- 19.5k, 22.75k, 26.5k and 33.25k), each back to 8/8 within 500
-- iterations.  One seed: not a verdict.
--
-- Images.  The paper's other stability test: DCGAN nets made hard to train by
-- removing batch norm (BN).  Read (not copied): the authors' code,
-- xudonmao/LSGAN @97e0b8d (the commit of the files read),
-- stability_comparison/BN_G_{ls,sigmoid}_adam and BN_GD_{ls,sigmoid}_rms
-- ({train.py, dcgan64.py, ops.py}):
--   LSUN bedrooms at 64 px; G: linear z -> 4x4x512, 5x5 stride-2 deconvs to
--   256, 128, 64, 3 channels, ReLU, tanh output; D: 5x5 stride-2 convs 64,
--   128, 256, 512, LeakyReLU 0.2, a linear logit; biases on every layer,
--   N(0, 0.02) weights; z 1024-d U(-1, 1); batch 64; each step one D update,
--   then one G update on the same z batch (two sess.run, one batch_z);
--   "sigmoid": sigmoid CE for D, CE(D(G(z)), 1) = -log D(G(z)) for G
--   (gan.non_saturating);
--   BN_G: no BN in G, BN on D's convs 2-4 (eps 1e-5, decay 0.9); Adam lr 2e-4,
--     beta1 0.5 for both; the LS loss is dcgan64.py's loss_l2, whose copy in
--     the ls directory is missing from the snapshot we could read: the
--     sigmoid directory's codes it 0-1 (a = 0, b = c = 1: gan.lsgan);
--   BN_GD: no BN at all; TF 1.x RMSProp lr 2e-4 for both (decay 0.9, eps
--     1e-10, mean square started at 1); its loss_l2 codes a = -1, b = 1,
--     c = 0 (gan.lsgan_chi2).
-- The paper's result, as papers/core.md section 5 reports it (sec. 4.2, Fig.
-- 5): without BN in G (and in G and D), with Adam (or RMSProp), LSGAN still
-- converges where the regular GAN fails (mode collapse).  NOT verified: only the abstracts could be read (arXiv
-- 1611.04076: "two comparison experiments between LSGANs and regular GANs to
-- illustrate the stability"; the journal version, arXiv 1712.06391, lists
-- "difficult architectures" among its stability experiments); the section's
-- wording and the BN_GD/RMSProp outcome are unknown to us.
-- Scaled down (defaults): MNIST (the shipped 10k subset unless full MNIST is
-- installed) or Fashion-MNIST padded to 32 px (nets.to_size) or a folder of
-- images (--size 28|32|64); nets.dcgan_G / dcgan_D with biases, widths
-- --ngf/--ndf 16 (the paper's shape: --size 64 --ngf 64 --ndf 64);
-- --bn g (BN_G), gd (BN_GD: --optim rmsprop and --coding chi2 unless given)
-- or all (BN in both: a DCGAN control); z 1024-d U(-1, 1); batch 64; lr 2e-4;
-- 10,000 iterations.  Deviations: 32 px and 4x4 kernels (nets.lua's plan:
-- three stride-2 layers and a 4x4 "valid" conv instead of 5x5 and a linear
-- logit), 4x narrower nets, N(0, 0.02) instead of truncated normals for D's
-- convs, and losses that are means (TF's are means for the sigmoid GAN and
-- batch sums for LS: Adam and RMSProp are scale-invariant up to eps).
-- Metrics at iteration 1, every --eval_every and at the end, on --eval_n
-- samples of a fixed z (so evaluating draws nothing from the training
-- stream), from the pretrained classifier of luagan.image_metrics (-1 when
-- its weights are missing, or for a folder): classes (predicted classes
-- holding >= 1% of the samples), top_share (the largest class's share),
-- mode_score, fid (Frechet distance of the classifier's 128-d features to its
-- training set's; 2,000 real training digits score 1.9, the 999 test digits
-- 7.3 (2,000 Fashion test images: 1.2).  Every row: lossD, lossG and d_real
-- / d_fake (mean D output on the real and the generated batch before D's
-- step).  it/s and the final evaluation go to stdout and summary.txt.
-- Claim tested: with BN_G and Adam the sigmoid GAN collapses (classes < 9 or
-- top_share > 0.4, high FID) while LSGAN covers >= 9 classes with a lower
-- FID, in most of 3 seeds.
-- First results (MNIST 10k subset, defaults, 2,000 samples):
--   BN_G, seed 1, 6,000 iterations: LS 10/10 classes, top share 0.15, FID 90;
--     sigmoid 10/10, 0.19, FID 143.  Seed 2, 10,000 iterations: LS 10/10,
--     0.15, FID 46; sigmoid 10/10, 0.19, FID 79.  LSGAN's FID is lower at
--     every evaluation of the second half, but the sigmoid GAN does not
--     collapse at this scale: both pass through 1-7-class phases before
--     ~2,500 iterations, then cover all 10 (no collapsed evaluation in the
--     second half of any of the four runs).  Both FIDs still fall at the
--     end.  Two seeds: not a verdict.
--   BN_GD, seed 1, 5,000 iterations: both losses fail the same way: by
--     iteration 500 G draws a blank image (all -1, tanh saturated; FID 946,
--     one class) and never recovers; so do LS with Adam and LS at width 32
--     (--ngf 32 --ndf 32, 1,500 iterations).  Not a comparison of the losses
--     on MNIST, whose background is most of every image.
-- Speed at one thread (--threads 1): 25 it/s alone beside two other
-- one-thread jobs on the 2-core machine (14 it/s with two of these runs and
-- two other jobs), i.e. 7-12 minutes for the default 10,000 iterations.
local here = (arg and arg[0] or ""):match("(.*/)") or "./"
local toy = dofile(here .. "lib/toy.lua")
local nets = dofile(here .. "lib/nets.lua")
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan

local defaults = {
  name = "lsgan", iters = 5000, batch = 512, dataset = "ring8",
  sample_every = 1000, checkpoint_every = 1000, threads = 1,
  loss = {"ls", "bce"}, coding = {"01", "chi2"}, nz = 256, hidden = 128, lr_d = 1e-4, lr_g = 1e-3, beta1 = 0.5,
  gain = 1.4, updates = {"simultaneous", "alternating"}, eval_every = 250,
  bn = {"g", "gd", "all"}, optim = {"adam", "rmsprop"}, size = {28, 32, 64, default = 32}, ngf = 16, ndf = 16, eval_n = 2000,
  doc = {loss = "ls (least squares) or bce (sigmoid cross-entropy, -log D for G)",
         coding = "ls codes: 01 (a=0, b=c=1, the paper's) or chi2 (a=-1, b=1, c=0; "
                  .. "images with --bn gd: chi2, as the authors' BN_GD code)",
         iters = "training iterations (images: 10000)",
         batch = "batch size (images: 64)",
         nz = "noise dimension (images: 1024, z ~ U[-1, 1])",
         hidden = "2-D: hidden units (2 tanh layers in G and D)",
         lr_d = "D's lr (images: 2e-4)", lr_g = "G's lr (images: 2e-4)",
         beta1 = "Adam beta1",
         gain = "2-D: orthogonal init gain",
         updates = "2-D: simultaneous (the authors' code) or alternating (one D step, then G)",
         eval_every = "evaluate every N iterations",
         dataset = "ring8 (the paper's), grid25, swissroll; images: mnist, mnist10k, fashion "
                   .. "or a directory of PNG/JPEG images",
         threads = "compute threads (1: small matrices; see unrolled_gan.lua)",
         bn = "images: batch norm in g = D only (the paper's BN_G), gd = neither (BN_GD), "
              .. "all = G and D (DCGAN)",
         optim = "images: adam or rmsprop (--bn gd: rmsprop, as the authors' BN_GD code)",
         size = "images: 28, 32 or 64 px", ngf = "images: G width multiple",
         ndf = "images: D width multiple",
         eval_n = "images: samples for the classifier metrics (classes, top_share, mode_score, fid)"},
}
local run = lg.experiment(defaults)
local cfg = run.config
local given = run.given   -- the flags on the command line
if cfg.eval_every < 1 then run:fail("--eval_every must be >= 1") end
local images = not ({ring8 = true, grid25 = true, swissroll = true})[cfg.dataset]
-- the other kind of data's flags: refused when given, left out of config.lua
local other = images and {"hidden", "gain", "updates"}
              or {"bn", "optim", "size", "ngf", "ndf", "eval_n"}
for _, k in ipairs(other) do
  if given[k] then
    run:fail(("--%s applies to %s, not to --dataset %s"):format(k, images and
      "the 2-D data sets (ring8, grid25, swissroll)" or "image data sets", cfg.dataset))
  end
  cfg[k] = nil
end
if images and cfg.resume == "" then
  -- the image setting's defaults (stored resolved in config.lua, so --resume keeps them)
  local function default(k, v) if not given[k] then cfg[k] = v end end
  default("iters", 10000)
  default("batch", 64)
  default("nz", 1024)
  default("lr_d", 2e-4)
  default("lr_g", 2e-4)
  if cfg.bn == "gd" then
    default("optim", "rmsprop")
    default("coding", "chi2")
  end
end
local loss = gan.non_saturating
if cfg.loss == "ls" then loss = ({["01"] = gan.lsgan, chi2 = gan.lsgan_chi2})[cfg.coding] end

-- {---------------------------------------------------------- 2-D data
local function train_toy()
  local G, D, optG, optD, schedule = toy.notebook_gan(cfg)
  if not G then run:fail(D) end
  local ok, ds = pcall(toy.dataset, cfg.dataset, "pacgan")
  if not ok then run:fail(ds) end

  print(("lsgan: %s, %s updates, batch %d, seed %d"):format(tostring(loss), cfg.updates,
    cfg.batch, cfg.seed))
  toy.train(run, {
    G = G, D = D, optG = optG, optD = optD, ds = ds, nz = cfg.nz, eval_every = cfg.eval_every,
    step = function(it)
      return gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss, it = it,
        schedule = schedule,
        real = function() return ds:sample(cfg.batch) end,
        z = function() return lg.randn(cfg.batch, cfg.nz) end}
    end,
  })
end
-- }

-- {---------------------------------------------------------- images

-- an optimiser as the authors' TF code builds it: Adam (eps 1e-8) or TF 1.x's
-- RMSProp (decay 0.9, eps 1e-10, mean square started at 1, not 0)
local function make_optim(params, lr)
  if cfg.optim == "adam" then
    return optim.Adam(params, {lr = lr, betas = {cfg.beta1, 0.999}, eps = 1e-8})
  end
  return optim.RMSprop(params, {lr = lr, alpha = 0.9, eps = 1e-10, initial_square_avg = 1})
end

local function train_images()
  if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2 (FID needs a covariance)") end
  if cfg.ngf < 1 or cfg.ndf < 1 or cfg.nz < 1 then run:fail("--ngf, --ndf and --nz must be >= 1") end

  local labelled = ({mnist = true, mnist10k = true, fashion = true})[cfg.dataset]
  local ok, train = pcall(labelled and lg.data.load or lg.data.image_folder, cfg.dataset,
    labelled and "train" or {size = cfg.size})
  if not ok then
    run:fail(("--dataset %s: %s (valid: ring8, grid25, swissroll, mnist, mnist10k, fashion or a "
      .. "directory of images)"):format(cfg.dataset, tostring(train)))
  end
  if labelled then train.images = nets.to_size(train.images, cfg.size) end
  local channels = train.images:size(2)
  local loader = lg.data.Loader(train.images, {batch = cfg.batch})

  -- the DCGAN nets with the authors' biases on every layer (without BN they matter)
  local G = nets.dcgan_G{size = cfg.size, nz = cfg.nz, ngf = cfg.ngf, channels = channels,
                         bn = cfg.bn == "all", bias = true}
  local D = nets.dcgan_D{size = cfg.size, ndf = cfg.ndf, channels = channels,
                         bn = cfg.bn ~= "gd", bias = true}
  G:apply(nn.init.dcgan)
  D:apply(nn.init.dcgan)
  local optG, optD = make_optim(G:parameters(), cfg.lr_g), make_optim(D:parameters(), cfg.lr_d)
  local function noise(n) return lg.rand(n, cfg.nz) * 2 - 1 end
  local z_fixed = noise(64)
  local z_eval = noise(cfg.eval_n)   -- fixed: evaluations draw nothing from the training stream
  local im = require "luagan.image_metrics"
  local classifier, why = im.for_dataset(cfg.dataset)
  if not classifier then io.stderr:write("lsgan: image metrics pending (", why, ")\n") end

  local function evaluate(row)
    local cols = im.PENDING
    if classifier then
      G:eval()
      cols = classifier:score(function(z) return nets.to_28(G(z)) end, z_eval)
      G:train()
    end
    for k, v in pairs(cols) do row[k] = v end
  end

  run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
  run:sampler(function()
    G:eval()
    local x = G(z_fixed)
    G:train()
    return x
  end)
  print(("lsgan: %s at %d px (%d images), %s, bn %s, %s lr D %g G %g, nz %d, G %d / D %d "
    .. "parameters, batch %d, seed %d"):format(cfg.dataset, cfg.size, train.n, tostring(loss),
    cfg.bn, cfg.optim, cfg.lr_d, cfg.lr_g, cfg.nz, G:num_parameters(), D:num_parameters(),
    cfg.batch, cfg.seed))
  local Gparams = optG.params
  for it in run:iterations() do
    -- one D step, then one G step on the same z (train.py: two sess.run with one batch_z)
    local fake = G(noise(cfg.batch))
    local sr, sf = D(loader:next()), D(fake:detach())
    local lossD = loss.d(sr, sf)
    optD:zero_grad()
    lossD:backward()
    optD:step()
    local lossG = loss.g(D(fake))
    local gs = lg.grad(lossG, Gparams)
    for i, p in ipairs(Gparams) do p.grad = gs[i] end
    optG:step()
    local row = {lossD = lossD, lossG = lossG, d_real = sr:mean(), d_fake = sf:mean()}
    if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then evaluate(row) end
    run:log(row)
  end
  -- the harness printed the speed; summary.txt keeps it beside the results
  local n, seconds, ips = run:speed()
  local summary = {("lsgan: %d iterations in %.1f s, %s it/s"):format(n, seconds,
    ips and ("%.2f"):format(ips) or "--")}
  local function say(s) print(s) summary[#summary + 1] = s end
  -- the final evaluation and the collapsed share of the second half's evaluations
  local rows, evals, collapsed, last = run:rows(), 0, 0, nil
  for _, r in ipairs(rows) do
    if r.classes ~= "" and tonumber(r.classes) >= 0 then
      last = r
      if tonumber(r.iter) > cfg.iters / 2 then
        evals = evals + 1
        if tonumber(r.classes) < 9 or tonumber(r.top_share) > 0.4 then collapsed = collapsed + 1 end
      end
    end
  end
  if last then
    say(("lsgan: final classes %s/10, top class share %.3f, MODE score %.3f, FID %.2f (%d samples);"
      .. " collapsed (classes < 9 or top share > 0.4) at %d of %d evaluations in the second half")
      :format(last.classes, tonumber(last.top_share), tonumber(last.mode_score), tonumber(last.fid),
        cfg.eval_n, collapsed, evals))
  else
    say("lsgan: classes / FID pending (" .. tostring(why) .. ")")
  end
  run:write("summary.txt", table.concat(summary, "\n") .. "\n")
end
-- }

if images then train_images() else train_toy() end
