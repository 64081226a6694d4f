-- mode_count.lua: the VEEGAN / PacGAN mode-counting protocol on the 2-D ring
-- and grid and on Stacked MNIST: a plain GAN against PacGAN (packing m = 2,
-- 3), several seeds in one invocation, mean and spread of the captured modes
-- and the share of high-quality samples (2-D) or the KL to uniform (Stacked MNIST).
--
--   luagan experiments/mode_count.lua [--dataset ring8|grid25|stacked_mnist] [--seeds 3]
--                                     [--packs 1,2,3] [--iters N] ... (--help)
--
-- Papers: Srivastava, Valkov, Russell, Gutmann, Sutton, "VEEGAN" (NeurIPS 2017)
-- for the protocol; Lin, Khetan, Fanti, Oh, "PacGAN" (NeurIPS 2018) for
-- packing: D judges m samples at once, concatenated (all real or all
-- fake), so its input is 2m-dimensional and G draws m samples per packed
-- item (gan.Packed).  Protocol (papers/core.md section 8): 2,500 samples; a
-- sample is high quality (HQ) within 3 std of its nearest mode; a mode is
-- captured when it is the nearest mode of at least one HQ sample
-- (metrics.mode_coverage).  Claim reproduced (PacGAN Table 1 [T], 10 runs,
-- mean +- SE, 400 epochs): ring GAN 6.3 +- 0.5 modes, 98.2% HQ vs PacGAN2
-- 7.9 +- 0.1, 95.6% and PacGAN3 7.8 +- 0.1, 97.7%; grid GAN 17.3 +- 0.8,
-- 94.8% vs PacGAN2 23.8 +- 0.7, 91.3% and PacGAN3 24.6 +- 0.4, 94.2%.
-- That is: packing captures more modes than the same GAN unpacked.
--
-- Setup (PacGAN's 2-D configs, fjxmlzn/PacGAN @190853e [C], "same as
-- VEEGAN/ALI"): ring radius 1 std 0.01, grid (2i, 2j), i, j in -2..2, std
-- 0.05; G z 2-d N(0, I) -> 4 hidden layers of 400 with BN + ReLU -> 2;
-- D 3 maxout layers of 200 units x 5 pieces -> 1; N(0, 0.02) init; Adam lr
-- 1e-4, beta1 0.8; batch 100 (packed items, so G draws m x 100 samples);
-- non-saturating G loss; 400 epochs of 100,000 points (~400k updates).
-- Deviations for CPU time (core.md 9.9's scaled setup): G 4 x 128, D 3 x 128
-- x 5 (--g_hidden 400 --d_units 200 restore the paper's) and 3,000
-- iterations (--iters); the data is drawn fresh each batch instead of from
-- a fixed set of 100,000 points.
--
-- Stacked MNIST (--dataset stacked_mnist; experiments/lib/stacked_mnist.lua
-- documents the protocol and its sources): each sample is 28 x 28 x 3, three
-- independent MNIST digits as channels, 1000 modes (the digit triples).
-- Evaluation (PacGAN's code, VEEGAN_experiment/model.py log_metrics [C]):
-- --eval_n fixed noise vectors (26,000 as in PacGAN), each channel of G's
-- sample classified by our MNIST CNN (luagan.image_metrics); modes = triples
-- hit at least once; kl = KL(p || uniform over the 1000 triples), natural log,
-- p the predicted-triple histogram (log 1000 = 6.91 for one mode).  Claim
-- (PacGAN Table 2 [T], VEEGAN setting, 10 trials, mean +- SE): DCGAN 78.9 +-
-- 6.46 modes, KL 4.50 +- 0.13 vs PacDCGAN2 1000.0 +- 0.0, KL 0.06 +- 0.003
-- (PacDCGAN3 1000 / 0.06, PacDCGAN4 1000 / 0.07).  Networks: PacGAN's DCGAN
-- (carpedm20 DCGAN-tensorflow: D conv5x5/2 ndf, 2 ndf, 4 ndf, 8 ndf with BN from
-- the second, LReLU 0.2, linear logit; G its mirror, BN + ReLU, tanh), z 100-d
-- U[-1, 1], Adam 2e-4, beta1 0.5, batch 64, 2 G steps per D step (the code's
-- g_optim run twice), 50 epochs of 128,000 images (100k iterations).  For
-- packing, D's input has 3 m channels: m stacked images concatenated along
-- the channel axis (gan.Packed).  When --dataset stacked_mnist is given, the
-- flags not given on the command line take these values instead of the 2-D
-- defaults: batch 64, lr 2e-4, beta1 0.5, nz 100, iters 3000, eval_every
-- 1000, sample_every 1000.  Deviations for CPU time: --ngf / --ndf 16 (paper
-- 64, which runs ~1.3 it/s at pack 1 on one thread here; width 16 ~6-9 it/s;
-- an evaluation of 26,000 samples takes ~20 s) and 3,000 iterations
-- (paper ~100k); triples drawn afresh per batch instead of a fixed set of
-- 128,000; digits from the shipped 10k subset (train + test, as PacGAN pools
-- MNIST's train + test), or full MNIST when present.
--
-- Each (m, seed) is one run of the lg.experiment harness in OUT/<dataset>-pac<m>-seed<s>
-- (metrics.csv with modes, hq, rev_kl, hops, modeset (2-D) or modes, kl,
-- top_share, conf (Stacked MNIST: the largest mode's share of the samples and
-- the classifier's mean top probability, a rough quality signal outside the
-- protocol); samples; checkpoints); OUT/summary.csv holds the
-- final numbers.  --resume OUT (with the same --dataset) continues the
-- unfinished runs and re-evaluates the finished ones.
local here = (arg and arg[0] or ""):match("(.*/)") or "./"
local toy = dofile(here .. "lib/toy.lua")
local sm = dofile(here .. "lib/stacked_mnist.lua")
local lg = require "luagan"
local optim, gan, experiment = lg.optim, lg.gan, lg.experiment

local defaults = {
  name = "mode_count", iters = 3000, batch = 100, dataset = {"ring8", "grid25", "stacked_mnist"},
  sample_every = 1000, checkpoint_every = 1000, threads = 1,
  seeds = 3, packs = "1,2,3", pack = 1, g_hidden = 128, g_layers = 4, d_units = 128,
  d_layers = 3, pieces = 5, nz = 2, lr = 1e-4, beta1 = 0.8, init_std = 0.02, eval_every = 250,
  ngf = 16, ndf = 16, eval_n = 26000, g_steps = 2,
  doc = {seeds = "runs per packing degree: seeds --seed .. --seed + seeds - 1",
         packs = "packing degrees to compare, comma-separated (1 = plain GAN)",
         pack = "packing degree of one run (set by the driver from --packs)",
         g_hidden = "G hidden units (paper 400)", g_layers = "G hidden layers (BN + ReLU)",
         d_units = "D maxout units (paper 200)", d_layers = "D maxout layers",
         pieces = "pieces per maxout unit", nz = "noise dimension (stacked_mnist: 100, U[-1, 1])",
         lr = "Adam lr (stacked_mnist: 2e-4)",
         beta1 = "Adam beta1 (stacked_mnist: 0.5)", init_std = "weights ~ N(0, init_std) (2-D nets)",
         eval_every = "evaluate modes / hq (kl) every N iterations (stacked_mnist: 1000)",
         iters = "training iterations (stacked_mnist: 3000)",
         batch = "batch size in packed items (stacked_mnist: 64)",
         sample_every = "write samples every N iterations (stacked_mnist: 1000)",
         dataset = "ring8, grid25 or stacked_mnist (3 MNIST digits as channels, 1000 modes)",
         ngf = "stacked_mnist: G width multiple (paper 64)",
         ndf = "stacked_mnist: D width multiple (paper 64)",
         eval_n = "stacked_mnist: generated samples per evaluation (PacGAN: 26000)",
         g_steps = "stacked_mnist: G steps per D step (PacGAN's code: 2)",
         threads = "compute threads (1: small matrices; see unrolled_gan.lua)"},
}

local function fail(msg) experiment.fail("mode_count", msg) end

-- the defaults of --dataset stacked_mnist where they differ from the 2-D ones
-- (PacGAN's stacked-MNIST config; iters and the evaluation schedule scaled to a CPU)
local STACKED = {batch = 64, lr = 2e-4, beta1 = 0.5, nz = 100, iters = 3000, eval_every = 1000,
                 sample_every = 1000}

-- {====================================================== one run

-- Stacked MNIST: PacGAN's DCGAN; D sees m stacked images as 3 m channels
local function train_stacked(run)
  local cfg = run.config
  local ok, metrics = pcall(require("luagan.image_metrics").load, "mnist")
  if not ok then fail(metrics) end
  local ds = sm.dataset{name = "mnist", split = "all"}
  local m = cfg.pack
  local G = sm.G{nz = cfg.nz, ngf = cfg.ngf, out_channels = 3}
  local D = gan.Packed(sm.D{ndf = cfg.ndf, channels = 3 * m}, m)
  local betas = {cfg.beta1, 0.999}
  local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = betas})
  local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = betas})
  local function noise(n) return lg.rand(n, cfg.nz) * 2 - 1 end
  local z_eval = noise(cfg.eval_n)          -- fixed for the run, drawn once (PacGAN's test_samples)
  print(("mode_count: stacked_mnist (%d %s digits), PacGAN m = %d (D input %d channels), G %d / D %d "
    .. "parameters, seed %d, %d iterations, %d samples per evaluation"):format(ds.n, ds.name, m, 3 * m,
    G:num_parameters(), D:num_parameters(), cfg.seed, cfg.iters, cfg.eval_n))
  return sm.train(run, {G = G, D = D, optG = optG, optD = optD, ds = ds, noise = noise, pack = m,
    batch = cfg.batch, g_steps = cfg.g_steps, eval_every = cfg.eval_every, z_eval = z_eval,
    ev = sm.Evaluator(metrics, {n = cfg.eval_n})})
end

local function train_one(argv)
  local ok, run = pcall(experiment, defaults, argv)
  if not ok then fail(run) end
  local cfg = run.config
  if cfg.dataset == "stacked_mnist" then return train_stacked(run) end
  local ds = toy.dataset(cfg.dataset, "pacgan")
  local m = cfg.pack
  local G = toy.mlp{nin = cfg.nz, nout = 2, hidden = cfg.g_hidden, layers = cfg.g_layers,
                    act = "relu", bn = true, init = "normal", std = cfg.init_std}
  local Dnet = toy.mlp{nin = 2 * m, nout = 1, hidden = cfg.d_units, layers = cfg.d_layers,
                       act = "maxout", pieces = cfg.pieces, init = "normal", std = cfg.init_std}
  local D = gan.Packed(Dnet, m)
  local betas = {cfg.beta1, 0.999}
  local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = betas})
  local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = betas})
  local n = m * cfg.batch
  print(("mode_count: %s, PacGAN m = %d (D input %d), seed %d, %d iterations"):format(
    cfg.dataset, m, 2 * m, cfg.seed, cfg.iters))
  return toy.train(run, {
    G = G, D = D, optG = optG, optD = optD, ds = ds, nz = cfg.nz, eval_every = cfg.eval_every,
    step = function(it)
      return gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.non_saturating,
        it = it, real = function() return ds:sample(n) end,
        z = function() return lg.randn(n, cfg.nz) end}
    end,
  })
end

-- }======================================================

-- {====================================================== the driver

local cfg, usage = (function()
  local ok, c, u = pcall(experiment.parse, defaults, arg)
  if not ok then fail(c) end
  return c, u
end)()
if cfg == nil then print(usage) os.exit(0) end
local stacked = cfg.dataset == "stacked_mnist"
if stacked then
  for k, v in pairs(STACKED) do if not usage[k] then cfg[k] = v end end    -- usage: the given flags
  if cfg.eval_n < 1 then fail("--eval_n must be >= 1") end
  if cfg.g_steps < 1 then fail("--g_steps must be >= 1") end
  if cfg.ngf < 1 or cfg.ndf < 1 then fail("--ngf and --ndf must be >= 1") end
end
if cfg.seeds < 1 then fail("--seeds must be >= 1") end
if cfg.eval_every < 1 then fail("--eval_every must be >= 1") end
local packs = {}
for p in cfg.packs:gmatch("[^,%s]+") do
  local v = math.tointeger(tonumber(p))
  if not v or v < 1 then fail("--packs must list integers >= 1, got '" .. cfg.packs .. "'") end
  packs[#packs + 1] = v
end
if #packs == 0 then fail("--packs is empty") end

local out = cfg.resume ~= "" and cfg.resume or
            (cfg.out ~= "" and cfg.out or "runs/mode_count-" .. cfg.dataset .. "-" .. os.date("%Y%m%d-%H%M%S"))
os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")

local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() return true end
  return false
end

-- the flags of one run: every resolved flag but the driver's own
local function run_argv(m, seed, dir)
  if exists(dir .. "/checkpoint.safetensors") and exists(dir .. "/config.lua") then
    local a = {"--resume", dir, "--iters", tostring(cfg.iters)}
    if cfg.stop_at > 0 then a[#a + 1] = "--stop_at" a[#a + 1] = tostring(cfg.stop_at) end
    return a
  end
  local a = {}
  for k, v in pairs(cfg) do
    if k ~= "resume" and k ~= "out" and k ~= "seed" and k ~= "pack" and k ~= "seeds" then
      a[#a + 1] = "--" .. k
      a[#a + 1] = tostring(v)
    end
  end
  for _, kv in ipairs{{"--seed", seed}, {"--pack", m}, {"--seeds", 1}, {"--out", dir}} do
    a[#a + 1] = kv[1]
    a[#a + 1] = tostring(kv[2])
  end
  return a
end

local results = {}
local lines = {stacked and "dataset,pack,seed,modes,modes_total,kl,top_share,conf,evals,seconds,ips"
                       or "dataset,pack,seed,modes,modes_total,hq,rev_kl,hops,evals,seconds"}
local t0 = lg.clock()
for _, m in ipairs(packs) do
  results[m] = {}
  for s = cfg.seed, cfg.seed + cfg.seeds - 1 do
    local dir = ("%s/%s-pac%d-seed%d"):format(out, cfg.dataset, m, s)
    local r = train_one(run_argv(m, s, dir))
    results[m][#results[m] + 1] = r
    if stacked then
      lines[#lines + 1] = ("%s,%d,%d,%d,%d,%.4f,%.4f,%.4f,%d,%.1f,%.3f"):format(cfg.dataset, m, s,
        r.modes, r.modes_total, r.kl, r.top_share, r.conf, r.evals, r.seconds, r.ips or 0)
    else
      lines[#lines + 1] = ("%s,%d,%d,%d,%d,%.4f,%.4f,%d,%d,%.1f"):format(cfg.dataset, m, s, r.modes,
        r.modes_total, r.hq, r.rev_kl, r.hops, r.evals, r.seconds)
    end
  end
end

local function stats(list, key)
  local n, sum, lo, hi = #list, 0, math.huge, -math.huge
  for _, r in ipairs(list) do
    sum = sum + r[key]
    lo, hi = math.min(lo, r[key]), math.max(hi, r[key])
  end
  local mean, ss = sum / n, 0
  for _, r in ipairs(list) do ss = ss + (r[key] - mean) ^ 2 end
  return mean, n > 1 and math.sqrt(ss / (n - 1)) or 0, lo, hi
end

lg.fs.write_atomic(out .. "/summary.csv", table.concat(lines, "\n") .. "\n")
local total = results[packs[1]][1].modes_total
print(("\nmode_count: %s, %d seeds (%d..%d), %d iterations each, %.0f s in all")
  :format(cfg.dataset, cfg.seeds, cfg.seed, cfg.seed + cfg.seeds - 1, cfg.iters, lg.clock() - t0))
if stacked then
  print("method     modes (mean +- sd [min, max])        kl (mean +- sd)    it/s (mean)")
  for _, m in ipairs(packs) do
    local mm, ms, lo, hi = stats(results[m], "modes")
    local km, ks = stats(results[m], "kl")
    local ips = 0
    for _, r in ipairs(results[m]) do ips = ips + (r.ips or 0) / #results[m] end
    print(("%-9s  %6.1f +- %5.1f [%d, %d] / %d    %.3f +- %.3f      %.3f"):format(
      m == 1 and "GAN" or "PacGAN" .. m, mm, ms, lo, hi, total, km, ks, ips))
  end
else
print("method     modes (mean +- sd [min, max])    hq % (mean +- sd)    rev_kl (mean)")
for _, m in ipairs(packs) do
  local mm, ms, lo, hi = stats(results[m], "modes")
  local hm, hs = stats(results[m], "hq")
  local km = stats(results[m], "rev_kl")
  print(("%-9s  %5.2f +- %4.2f [%d, %d] / %d        %5.1f +- %4.1f         %.3f"):format(
    m == 1 and "GAN" or "PacGAN" .. m, mm, ms, lo, hi, total, hm * 100, hs * 100, km))
end
end
print("summary: " .. out .. "/summary.csv")

-- }======================================================
