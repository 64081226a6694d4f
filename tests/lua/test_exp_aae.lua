-- experiments/aae.lua and experiments/lib/aae.lua: the priors (densities,
-- moments), the MMD statistic, a smoke run of each method on the shipped
-- MNIST subset with tiny nets (phases, columns, Parzen, the code picture),
-- resume, and bad flags.
local lg = require "luagan"

package.path = ROOT .. "/experiments/?.lua;" .. package.path   -- lib.aae requires lib.toy
local A = require "lib.aae"
local tmp = temp_dir()
local run = experiment_runner("aae.lua", tmp)

-- {---------------------------------------------------------- priors and statistics

test("aae priors: densities integrate to 1, samples have the stated sd", function()
  lg.manual_seed(1)
  local g = A.prior("gauss", 3, 2)
  near(g.log_prob(lg.zeros(1, 3)):item(), -3 * (math.log(2) + 0.5 * math.log(2 * math.pi)), 1e-5)
  local m = A.prior("mix10", 2, 5)
  -- the mixture's density summed on a grid over [-10, 10]^2 (step 0.05)
  local step, n = 0.05, 400
  local t = lg.arange(n) * step - 10 + step / 2
  local xs = t:view(n, 1):expand(n, n):reshape(n * n, 1)
  local ys = t:view(1, n):expand(n, n):reshape(n * n, 1)
  local mass = m.log_prob(lg.cat({xs, ys}, 2)):exp():sum():item() * step * step
  near(mass, 1, 2e-3, "mix10 mass")
  -- samples: per-dim mean 0 and the analytic sd; their density agrees with the centres
  local s = m.sample(20000)
  local mean_dev, sd_dev = A.moments(s, m.sd)
  assert(mean_dev < 0.03 and sd_dev < 0.03, ("mix10 moments %g %g"):format(mean_dev, sd_dev))
  local c = m.centres
  eq({c:size(1), c:size(2)}, {10, 2})
  near((c * c):sum(2):sqrt():totable(), lg.full({10}, 5):totable(), 1e-5, "centres on the circle")
  -- at 0 all 10 components are 4 radial sd away (each 8 nats below its centre); at a centre one
  -- component counts (the others are far): log p(centre) - log p(0) = 8 - log 10
  near(m.log_prob(c):min():item() - m.log_prob(lg.zeros(1, 2)):item(), 8 - math.log(10), 1e-3, "centre against 0")
  raises(function() A.prior("mix10", 8, 5) end, "mix10 is a 2-D prior, the code has 8 dims")
  raises(function() A.prior("cauchy", 2, 5) end, "unknown prior 'cauchy'")
  raises(function() A.prior("gauss", 2, 0) end, "the scale must be > 0")
end)

test("aae mmd2: near 0 for one distribution, large for a shift; moments of a known set", function()
  lg.manual_seed(2)
  local a, b = lg.randn(500, 4), lg.randn(500, 4)
  local same = A.mmd2(a, b)
  assert(math.abs(same) < 0.01, "same distribution: " .. same)
  local shifted = A.mmd2(a, b + 1)
  assert(shifted > 20 * math.abs(same) and shifted > 0.1, "shift by 1 sd: " .. shifted)
  -- exact value on two one-point-pair sets: x = {0, 0}, y = {1, 1} in 1-D: kxx = kyy = 1,
  -- kxy = exp(-1 / (2 c)) per bandwidth c
  local want = 0
  for _, c in ipairs(A.BANDWIDTHS) do want = want + 2 - 2 * math.exp(-1 / (2 * c)) end
  near(A.mmd2(lg.zeros(2, 1), lg.ones(2, 1)), want, 1e-5)
  local mean_dev, sd_dev = A.moments(lg.tensor{{1, 0}, {3, 0}}, 2)   -- means 2, 0; sds 1, 0
  near(mean_dev, 1, 1e-6)
  near(sd_dev, 1, 1e-6)
end)
-- }

-- {---------------------------------------------------------- the script

local TINY = "--dataset mnist10k --hidden 16 --d_hidden 16 --batch 20 --eval_every 4 --parzen_samples 200 "
  .. "--sample_every 0 --checkpoint_every 0 "
local COLS = {"recon", "loss", "lossD", "lossE", "D_prior", "D_code", "mmd", "mmd_null", "mean_dev", "sd_dev",
              "recon_test", "lossC", "test_err"}

test("aae: two phases, evaluations, Parzen and the code picture", function()
  local out = tmp .. "/aae"
  local code, stdout, stderr = run(TINY .. "--iters 8 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 8)
  local have = table.concat(cols, ",")
  for _, c in ipairs(COLS) do assert(have:find(c, 1, true), "column " .. c) end
  local evals = 0
  for _, r in ipairs(rows) do
    assert(r.lossD and r.lossE and r.D_prior > 0 and r.D_prior < 1, "the regularisation phase runs every iteration")
    if r.mmd then
      evals = evals + 1
      near(r.mmd_null, rows[1].mmd_null, 1e-9, "the noise floor is fixed")
      assert(math.abs(r.mmd_null) < r.mmd, "untrained codes are far from the prior")
      assert(r.recon_test > 0)
    end
  end
  eq(evals, 3)   -- iterations 1, 4, 8
  local pz = read_file(out .. "/parzen.txt")
  assert(pz:match("test log%-likelihood %-?[%d.]+"), pz)
  assert(stdout:find("200 decoded prior samples", 1, true), stdout)
  assert(lg.fs.kind(out .. "/codes.png") == "file", "codes.png")
end)

test("aae: the ae has no regularisation phase, the vae a KL term, mix10 2-D codes", function()
  local out = tmp .. "/ae"
  local code, _, stderr = run(TINY .. "--iters 4 --method ae --parzen false --out " .. out)
  eq(code, 0, stderr)
  local rows = read_csv(out .. "/metrics.csv")
  for _, r in ipairs(rows) do eq(r.lossD, nil); near(r.loss, r.recon, 1e-4) end
  eq(lg.fs.kind(out .. "/parzen.txt"), nil)
  out = tmp .. "/vae"
  code, _, stderr = run(TINY .. "--iters 4 --method vae --prior mix10 --nz 2 --parzen false --out " .. out)
  eq(code, 0, stderr)
  rows = read_csv(out .. "/metrics.csv")
  for _, r in ipairs(rows) do assert(r.loss ~= r.recon, "the vae's loss adds the KL") end
  assert(rows[4].mmd, "evaluated at the end")
end)

test("aae: ssl has class and style codes, three phases and a test error; sup the classifier alone", function()
  local out = tmp .. "/ssl"
  local code, stdout, stderr = run(TINY .. "--iters 8 --method ssl --labels 20 --parzen_samples 100 --out " .. out)
  eq(code, 0, stderr)
  local rows = read_csv(out .. "/metrics.csv")
  for _, r in ipairs(rows) do
    assert(r.lossD and r.lossE and r.lossC, "three phases every iteration")
    if r.mmd then assert(r.test_err >= 0 and r.test_err <= 1, "test error at evaluations") end
  end
  assert(rows[8].test_err < 0.9, "20 labels already beat chance: " .. rows[8].test_err)
  assert(stdout:find("test error", 1, true), stdout)
  assert(read_file(out .. "/parzen.txt"):find("100 decoded prior samples", 1, true))
  out = tmp .. "/sup"
  code, _, stderr = run(TINY .. "--iters 4 --method sup --labels 20 --out " .. out)
  eq(code, 0, stderr)
  rows = read_csv(out .. "/metrics.csv")
  for _, r in ipairs(rows) do eq(r.lossD, nil); eq(r.recon, 0); assert(r.lossC > 0) end
  eq(lg.fs.kind(out .. "/parzen.txt"), nil, "sup has no decoder to sample")
  code, _, stderr = run("--method ssl --labels 15")
  eq(code, 2); assert(stderr:find("--labels must be a positive multiple of 10", 1, true), stderr)
end)

test("aae: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 8 --seed 5 --parzen false --method ssl --labels 20 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 5 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("aae: bad flags exit 2 with a message", function()
  local code, _, err = run("--method gan")
  eq(code, 2); assert(err:find("aae", 1, true) and err:find("vae", 1, true), err)
  code, _, err = run("--prior mix10 --nz 8")
  eq(code, 2); assert(err:find("mix10 is a 2-D prior, the code has 8 dims", 1, true), err)
  code, _, err = run("--nz 0")
  eq(code, 2); assert(err:find("--nz must be >= 1", 1, true), err)
  code, _, err = run("--holdout 0")
  eq(code, 2); assert(err:find("--holdout must be >= 1", 1, true), err)
end)
-- }
