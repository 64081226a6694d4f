-- unrolled_gan.lua: Unrolled GAN (Metz, Poole, Pfau and Sohl-Dickstein, ICLR 2017).
--
-- G trained against D unrolled K Adam steps ahead, differentiated through the
-- steps (gan.unrolled_g_loss), on the ring of 8 Gaussians: with K = 0 G
-- collapses or rotates through the modes, with K = 5 or 10 it covers the ring
-- (sec. 3.1, Fig. 1).
--
--   luagan experiments/unrolled_gan.lua [--unroll 0|5|10] [--iters N] [--lr_d X] [--seed N] ... (--help)
--
-- The notebook's setup, the deviations and the metrics: experiments/notes/unrolled_gan.md.
local lg = require "luagan"
local toy = require "lib.toy"
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
