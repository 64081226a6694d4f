-- unrolled_gan.lua: Unrolled GAN (Metz, Poole, Pfau, Sohl-Dickstein, ICLR 2017,
-- arXiv 1611.02163) on the 2-D mixture of Gaussians: G is trained on the
-- surrogate loss f_K(theta_G, theta_D) = f(theta_G, theta_D^K), theta_D^K
-- being K Adam steps of D from its current parameters, differentiated
-- through the K steps (second order: gan.unrolled_g_loss); D keeps its
-- ordinary update.
--
--   luagan experiments/unrolled_gan.lua [--unroll 0|5|10] [--iters N] [--seed N] ... (--help)
--
-- Claim reproduced (paper sec. 3.1, Fig. 1; qualitative there): with K = 0
-- (a plain GAN) the generator collapses onto one mode or rotates through the
-- modes; with K = 5 or 10 it covers the ring.  Measured with the VEEGAN /
-- PacGAN mode protocol (metrics.mode_coverage, 2,500 samples, 3 std):
-- columns modes, hq, rev_kl, hops (evaluations at which the set of captured
-- modes changed: mode hopping), modeset in metrics.csv.
--
-- Setup: the authors' reference notebook (poolio/unrolled_gan @67e2c7a, read
-- in papers/core.md section 7 [C]), which says its settings "are not
-- identical to the one in the paper":
--   data: ring of 8 Gaussians, radius 1, std 0.01 (the notebook's
--         linspace(0, 2 pi, 8) repeats a mode, giving 7; we use 8 distinct
--         angles, as LSGAN's copy of the notebook does);
--   G: z ~ N(0, I_256) -> tanh 128 -> tanh 128 -> 2;  D: 2 -> tanh 128 -> tanh 128 -> 1 logit;
--      orthogonal init with gain 1.4 (tf's orthogonal_initializer; zero biases);
--   Adam, D lr 1e-4, G lr 1e-3, beta1 0.5, eps 1e-8; batch 512;
--   G and D updated simultaneously from one forward pass;
--   G minimises f at the unrolled D, the real-data term included (the
--   notebook minimises -unrolled_loss; --g_objective fake_only keeps G's loss
--   alone, --loss ns gives -log D);
--   unrolling_steps 5 through D's Adam, moments included.
-- The paper's own appendix (radius 2, std 0.02, ReLU G 2x128, D with input
-- scaled by 1/4 and one hidden ReLU layer, Adam 1e-4 for both, alternating
-- updates) is NOT verified: it is recalled in core.md section 7 as [M] and
-- the appendix text could not be retrieved; --data_variant paper2 gives
-- that ring, --updates alternating that schedule.
-- Deviation for CPU time: 2,000 iterations by default (notebook: 25,000;
-- core.md 9.8 suggests 10,000); --iters restores longer runs.
-- High-quality share: with the notebook's D lr 1e-4, D stays at chance
-- (loss ~ log 4) and G never concentrates on the modes: hq is 1-3%
-- (2.5k-iteration window means) at 10k and at 25k here, and the same loop
-- in PyTorch gives hq 0.004 at 10k and 0.15 at 25k.  Training longer does
-- not fix that; D's learning rate does: with --lr_d 1e-3 K = 0 reaches
-- 8/8 modes with hq ~0.9 at 10k in PyTorch and here.  So judge hq (the
-- >= 50% HQ target of core.md 9.8) with --lr_d 1e-3; with the notebook's
-- rates only mode counts of a diffuse G can be compared.  With --lr_d 1e-3,
-- 10k iterations, seeds 1-3 (runs/reproduce-long/unrolled_gan-k*_fastD-s*):
-- K = 5 and K = 10 hold 8/8 from 1.75k on, hq ~0.9 from 6.5k but for
-- single-evaluation dips; K = 0 gets there too by 1.25-2.5k but partially
-- collapses once in every seed between 7.75k and 9.75k (down to 3-6 modes,
-- hq < 0.2) and recovers: it neither collapses for good nor rotates.
local here = (arg and arg[0] or ""):match("(.*/)") or "./"
local toy = dofile(here .. "lib/toy.lua")
local lg = require "luagan"
local gan = lg.gan

local run = lg.experiment{
  name = "unrolled_gan", iters = 2000, batch = 512, dataset = "ring8",
  sample_every = 500, checkpoint_every = 1000, threads = 1,
  unroll = 5, nz = 256, hidden = 128, lr_d = 1e-4, lr_g = 1e-3, beta1 = 0.5,
  gain = 1.4, loss = {"minimax", "ns"}, updates = {"simultaneous", "alternating"}, second_order = true,
  data_variant = {"pacgan", "paper2"}, eval_every = 250, g_objective = {"full", "fake_only"},
  doc = {unroll = "K: D steps unrolled in G's loss (0 = plain GAN)", nz = "noise dimension",
         hidden = "hidden units (2 tanh layers in G and D)", lr_d = "D's Adam lr",
         lr_g = "G's Adam lr", beta1 = "Adam beta1", gain = "orthogonal init gain",
         loss = "minimax (saturating, the notebook's) or ns (-log D)",
         updates = "simultaneous (the notebook) or alternating (one D step, then G)",
         second_order = "differentiate through the unrolled updates (false: stop-gradient, a diagnostic)",
         data_variant = "pacgan (radius 1, std 0.01) or paper2 (radius 2, std 0.02, unverified)",
         eval_every = "evaluate modes / hq every N iterations",
         g_objective = "full (f at the unrolled D, E log D_K(x) included: the paper's f_K) or fake_only (G's loss at the unrolled D alone)",
         dataset = "ring8 (the paper's), grid25 or swissroll",
         threads = "compute threads (1: these matrices are small, and a second OpenMP thread on a loaded 2-core machine costs 10x)"},
}
local cfg = run.config
if cfg.unroll < 0 then run:fail("--unroll must be >= 0") end
if cfg.eval_every < 1 then run:fail("--eval_every must be >= 1") end
local losses = {minimax = gan.minimax, ns = gan.non_saturating}
local loss = losses[cfg.loss]
local G, D, optG, optD, schedule = toy.notebook_gan(cfg)
if not G then run:fail(D) end
local ok, ds = pcall(toy.dataset, cfg.dataset, cfg.data_variant)
if not ok then run:fail(ds) end

print(("unrolled_gan: K = %d, %s updates, %s loss, batch %d, seed %d"):format(cfg.unroll,
  cfg.updates, cfg.loss, cfg.batch, cfg.seed))
toy.train(run, {
  G = G, D = D, optG = optG, optD = optD, ds = ds, nz = cfg.nz, eval_every = cfg.eval_every,
  step = function(it)
    return gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss, it = it,
      schedule = schedule, unroll = cfg.unroll, second_order = cfg.second_order,
      unroll_objective = cfg.g_objective,
      real = function() return ds:sample(cfg.batch) end,
      z = function() return lg.randn(cfg.batch, cfg.nz) end}
  end,
})
