-- Stacked MNIST mode counting (experiments/lib/stacked_mnist.lua and
-- experiments/mode_count.lua --dataset stacked_mnist): the evaluator on real
-- stacked digits and on a one-mode set, the KL formula, packing of images,
-- and a few seeded training iterations at pack 1 and 2 in a child process.
local expdir = ROOT .. "/experiments/"
local sm = dofile(expdir .. "lib/stacked_mnist.lua")
local im = require "luagan.image_metrics"

local tmp = temp_dir()
local read = read_file
local LOG1000 = math.log(1000)


test("stacked_mnist: modes and KL(p || uniform) from a histogram", function()
  local counts = {}
  for j = 1, 1000 do counts[j] = 3 end
  local m, kl = sm.score_counts(counts)
  eq(m, 1000)
  near(kl, 0, 1e-12)
  for j = 1, 1000 do counts[j] = 0 end
  counts[17] = 26000
  m, kl = sm.score_counts(counts)
  eq(m, 1)
  near(kl, LOG1000, 1e-12)
  -- two modes, 3:1: sum p log(1000 p)
  counts[18] = 26000 / 3
  m, kl = sm.score_counts(counts)
  eq(m, 2)
  near(kl, 0.75 * math.log(750) + 0.25 * math.log(250), 1e-12)
end)

test("stacked_mnist: data are 3 independent digits; the evaluator finds nearly all 1000 modes", function()
  lg.manual_seed(5)
  local ds = sm.dataset{}
  local ev = sm.Evaluator(im.load("mnist"), {chunk = 1000})
  local N = 5000
  local x, triples = ds:sample_labelled(N)
  eq(x.shape, {N, 3, 28, 28})
  assert(x:abs():max():item() <= 1, "images in [-1, 1]")
  -- what an exact classifier would give: the true triples' histogram
  local counts = {}
  for j = 1, 1000 do counts[j] = 0 end
  for _, t in ipairs(triples) do
    local j = 100 * t[1] + 10 * t[2] + t[3] + 1
    counts[j] = counts[j] + 1
  end
  local true_modes, true_kl = sm.score_counts(counts)
  -- expectation under the pool's digit frequencies f: sum_j 1 - (1 - p_j)^N,
  -- p_j = f_a f_b f_c.  With uniform digits: 1000 (1 - e^-5) = 993.3 modes.
  local f = {}
  for d = 1, 10 do f[d] = 0 end
  for _, l in ipairs(ds.labels:totable()) do f[l] = f[l] + 1 end
  local expected = 0
  for a = 1, 10 do for b = 1, 10 do for c = 1, 10 do
    local p = f[a] * f[b] * f[c] / ds.n ^ 3
    expected = expected + 1 - (1 - p) ^ N
  end end end
  assert(expected > 985 and expected < 994, "expected modes " .. expected)
  -- sd of the count is about 3 here: the true triples sit within 15 of the expectation
  assert(math.abs(true_modes - expected) < 15,
    ("true modes %d vs expected %.1f"):format(true_modes, expected))
  -- the classifier (98.7% per digit) moves a few samples between modes only
  local c = ev:score(x)
  eq(c.n, N)
  assert(c.modes > 970 and math.abs(c.modes - true_modes) <= 10,
    ("classifier modes %d, true %d, expected %.1f"):format(c.modes, true_modes, expected))
  -- KL floor at finite N: about 999 / (2 N) = 0.1 for uniform modes (plug-in bias)
  assert(c.kl > 0.05 and c.kl < 0.2 and math.abs(c.kl - true_kl) < 0.03,
    ("kl %.4f (true triples %.4f)"):format(c.kl, true_kl))
  assert(c.conf > 0.95 and c.top_share < 0.005, ("conf %.3f, top share %.4f"):format(c.conf, c.top_share))
  -- channel k of item i is the pool's digit: fresh draws differ between calls
  local y = ds:sample(4)
  eq(y.shape, {4, 3, 28, 28})
  assert((y - ds:sample(4)):abs():sum():item() > 0, "fresh triples per call")
end)

test("stacked_mnist: a one-mode set gives 1 mode and KL = log 1000", function()
  lg.manual_seed(2)
  local ds = sm.dataset{}
  local ev = sm.Evaluator(im.load("mnist"), {chunk = 128})
  local one = ds:sample(1):expand(300, 3, 28, 28):contiguous()
  local c = ev:score(one)
  eq(c.modes, 1)
  near(c.kl, LOG1000, 1e-9)
  near(c.top_share, 1, 1e-12)
  -- a generator with one output (zero weights in its last layer: tanh(bias)) too
  local G = sm.G{nz = 8, ngf = 2}
  lg.no_grad(function() for _, p in ipairs(G:parameters()) do p:copy_(p * 0) end end)
  local g = ev:score_generator(G, lg.rand(250, 8) * 2 - 1)
  eq(g.modes, 1)
  near(g.kl, LOG1000, 1e-9)
end)

test("stacked_mnist: PacGAN's DCGAN shapes and packing of images along channels", function()
  lg.manual_seed(1)
  local G = sm.G{nz = 100, ngf = 4}
  local z = lg.rand(6, 100) * 2 - 1
  local x = G(z)
  eq(x.shape, {6, 3, 28, 28})
  for _, m in ipairs{1, 2, 3} do
    local D = lg.gan.Packed(sm.D{ndf = 4, channels = 3 * m}, m)
    eq(D(x).shape, {6 // m, 1})
  end
  -- packed item i holds samples (i-1) m + 1 .. i m as channels 1-3, 4-6
  local p = lg.gan.pack(x, 2)
  eq(p.shape, {3, 6, 28, 28})
  near((p:narrow(1, 2, 1):narrow(2, 4, 3) - x:narrow(1, 4, 1)):abs():max():item(), 0, 0)
end)

local function run(flags) return run_experiment(tmp, "mode_count.lua", flags) end
local csv = read_csv

test("mode_count --dataset stacked_mnist: pack 1 and 2 train, modes / kl columns, exact resume", function()
  local flags = "--dataset stacked_mnist --iters 12 --batch 16 --ngf 4 --ndf 4 --eval_n 300 " ..
                "--eval_every 5 --sample_every 0 --checkpoint_every 0 --seeds 1 --packs 1,2 --threads 1"
  local code, out = run(flags .. " --out s")
  eq(code, 0)
  assert(out:find("PacGAN2", 1, true) and out:find("kl", 1, true), out)
  local summary = assert(read(tmp .. "/s/summary.csv"))
  assert(summary:find("^dataset,pack,seed,modes,modes_total,kl,"), summary)
  local n = 0
  for _ in summary:gmatch("\nstacked_mnist,%d,1,%d+,1000,") do n = n + 1 end
  eq(n, 2, "2 runs in summary.csv")
  for _, m in ipairs{1, 2} do
    local dir = ("%s/s/stacked_mnist-pac%d-seed1"):format(tmp, m)
    local rows, header = csv(dir .. "/metrics.csv")
    eq(#rows, 12, "one row per iteration")
    eq(header, {"iter", "conf", "kl", "lossD", "lossG", "modes", "top_share"})
    local evals = 0
    for _, r in ipairs(rows) do
      assert(finite(r.lossD) and finite(r.lossG), ("pack %d: loss not finite at iter %d"):format(m, r.iter))
      if r.modes then
        evals = evals + 1
        assert(r.modes >= 1 and r.modes <= 300 and r.kl >= 0 and r.kl <= LOG1000 + 1e-6 and
               r.conf >= 0.1 - 1e-6 and r.conf <= 1 + 1e-6 and r.top_share > 0 and r.top_share <= 1,
          "evaluation out of range")
      end
    end
    eq(evals, 4, "evaluations at 1, 5, 10, 12")
    -- D's first convolution sees 3 m channels
    local cfg = assert(load(read(dir .. "/config.lua")))()
    eq(cfg.pack, m)
    eq(cfg.lr, 2e-4, "stacked_mnist defaults (PacGAN): lr")
    eq(cfg.nz, 100, "nz")
    local t = lg.load(dir .. "/checkpoint.safetensors")
    local found = false
    for k, v in pairs(t) do
      if k:match("^D%.") and v:dim() == 4 and v:size(2) == 3 * m then found = true end
    end
    assert(found, "a D conv with " .. 3 * m .. " input channels")
  end
  -- stopped at 7 and resumed: the same metrics.csv
  eq(run(flags:gsub("--packs 1,2", "--packs 2") .. " --out r --stop_at 7"), 0)
  eq(run(flags:gsub("--packs 1,2", "--packs 2") .. " --resume r"), 0)
  eq(read(tmp .. "/r/stacked_mnist-pac2-seed1/metrics.csv"),
     read(tmp .. "/s/stacked_mnist-pac2-seed1/metrics.csv"), "resumed metrics.csv")
  eq((run("--dataset stacked_mnist --eval_n 0")), 2)
end)

os.execute("rm -rf " .. sh_quote(tmp))
