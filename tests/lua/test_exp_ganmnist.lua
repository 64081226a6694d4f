-- experiments/gan_mnist.lua (smoke run) and lua/luagan/parzen.lua (known answers).
local parzen = require "luagan.parzen"

-- {---------------------------------------------------------- Parzen window

local LOG_2PI = math.log(2 * math.pi)

-- log of (1/M) sum_j N(x; s_j, sigma^2), one dimension, by hand
local function kde1(x, samples, sigma)
  local s = 0
  for _, mu in ipairs(samples) do
    s = s + math.exp(-(x - mu) ^ 2 / (2 * sigma * sigma)) / (sigma * math.sqrt(2 * math.pi))
  end
  return math.log(s / #samples)
end

test("parzen: 1-D Gaussian kernel density by hand", function()
  local samples = {-1.0, 0.0, 0.5, 2.0}
  local xs = {-2.0, 0.25, 1.0, 3.5}
  local S, X = lg.tensor{{-1}, {0}, {0.5}, {2}}, lg.tensor{{-2}, {0.25}, {1}, {3.5}}
  for _, sigma in ipairs{0.3, 1.0, 2.5} do
    local ll = parzen.log_likelihood(X, S, sigma):totable()
    for i, x in ipairs(xs) do near(ll[i], kde1(x, samples, sigma), 1e-5, "x=" .. x) end
  end
  -- several sigmas in one pass agree with one at a time
  local lls = parzen.log_likelihoods(X, S, {0.3, 1.0})
  near(lls[2]:totable(), parzen.log_likelihood(X, S, 1.0):totable(), 1e-6)
end)

test("parzen: d-dimensional, one sample at the point: -d log(sigma sqrt(2 pi))", function()
  local d, sigma = 784, 0.05
  lg.manual_seed(3)
  local x = lg.rand(5, d)
  -- samples = the points themselves, far apart: each point sees only its own kernel
  local ll = parzen.log_likelihood(x, x, sigma, {chunk = 2}):totable()
  local want = -math.log(5) - d * (math.log(sigma) + 0.5 * LOG_2PI)
  for i = 1, 5 do near(ll[i], want, 1e-4) end
  assert(want > 1000, "a small sigma on the points themselves gives a high likelihood")
end)

test("parzen: stable for tiny sigma and far points (log-sum-exp)", function()
  local S = lg.tensor{{0}, {1}}
  local ll = parzen.log_likelihood(lg.tensor{{10}}, S, 0.01):item()
  -- the nearest kernel (at 1, distance 9) dominates
  local want = -81 / (2 * 1e-4) - math.log(2) - (math.log(0.01) + 0.5 * LOG_2PI)
  near(ll, want, 1e-5)
  assert(ll == ll and ll > -math.huge, "finite")
end)

test("parzen: chunking, sqdist, mean_se", function()
  lg.manual_seed(4)
  local x, s = lg.randn(7, 3), lg.randn(11, 3)
  near(parzen.log_likelihood(x, s, 0.7, {chunk = 3}):totable(),
       parzen.log_likelihood(x, s, 0.7, {chunk = 100}):totable(), 1e-5)
  local d2 = parzen.sqdist(x, s):totable()
  local xt, st = x:totable(), s:totable()
  local want = 0
  for k = 1, 3 do want = want + (xt[2][k] - st[5][k]) ^ 2 end
  near(d2[2][5], want, 1e-4)
  local m, se = parzen.mean_se(lg.tensor{1, 2, 3, 4})
  near(m, 2.5)
  near(se, math.sqrt(1.25 / 4))
  near(parzen.PAPER_SIGMAS[1], 0.1)
  near(parzen.PAPER_SIGMAS[10], 1.0)
  eq(#parzen.PAPER_SIGMAS, 10)
end)

test("parzen: sigma selection finds the data's scale", function()
  -- samples and validation points from N(0, 0.3^2) in 1-D: the best sigma of
  -- a grid is neither the smallest nor the largest
  lg.manual_seed(5)
  local samples, valid, test = lg.randn(2000, 1) * 0.3, lg.randn(500, 1) * 0.3, lg.randn(500, 1) * 0.3
  local sigmas = parzen.logspace(-3, 1, 9)
  local r = parzen.evaluate{samples = samples, valid = valid, test = test, sigmas = sigmas}
  assert(r.sigma > sigmas[1] and r.sigma < sigmas[#sigmas], "sigma " .. r.sigma)
  -- the true density's mean log-likelihood is -0.5 log(2 pi 0.09) - 0.5 ~ -0.2149
  near(r.mean, -0.5 * math.log(2 * math.pi * 0.09) - 0.5, 0.15)
  assert(r.se > 0 and r.se < 0.1)
  eq(r.n, 500)
  eq(r.m, 2000)
  eq(#r.curve, 9)
end)

test("parzen: argument errors", function()
  local x = lg.zeros(2, 3)
  raises(function() parzen.log_likelihood(x, lg.zeros(2, 4), 1) end, "dimensions")
  raises(function() parzen.log_likelihood(x, x, -1) end, "positive")
  raises(function() parzen.log_likelihood(x, x, 1, {chunk = 0}) end, "chunk")
  raises(function() parzen.evaluate{samples = x, valid = x} end, "'test'")
  raises(function() parzen.evaluate{samples = x, valid = x, test = x, bogus = 1} end, "unknown key")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- smoke run

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

test("gan_mnist: a tiny run logs finite metrics and writes samples, plot, Parzen", function()
  local tmp = os.tmpname()
  os.remove(tmp)
  local out = tmp .. "/run"
  local cmd = ("%s %s --iters 6 --batch 20 --g_hidden 16 --g_hidden2 16 --d_units 16 "
    .. "--d_units2 16 --sample_every 3 --checkpoint_every 0 --threads 1 --grad_both "
    .. "--parzen --parzen_samples 300 --holdout 200 --out %s > %s 2>&1")
    :format(sh_quote(LUAGAN), sh_quote(ROOT .. "/experiments/gan_mnist.lua"), sh_quote(out),
            sh_quote(tmp .. ".log"))
  local ok = os.execute(cmd)
  local f = io.open(tmp .. ".log")
  local log = f and f:read("a") or ""
  if f then f:close() end
  assert(ok, "gan_mnist.lua failed:\n" .. log)
  local lines = {}
  for l in io.lines(out .. "/metrics.csv") do lines[#lines + 1] = l end
  eq(#lines, 7, "header + 6 rows")
  local cols = {}
  for c in lines[1]:gmatch("[^,]+") do cols[#cols + 1] = c end
  for _, want in ipairs{"lossD", "lossG", "D_real", "D_fake", "D_gz", "gnorm_G", "gnorm_ns", "gnorm_mm"} do
    local found = false
    for _, c in ipairs(cols) do found = found or c == want end
    assert(found, "metrics.csv lacks " .. want .. ": " .. lines[1])
  end
  for i = 2, #lines do
    for v in lines[i]:gmatch("[^,]+") do
      local x = tonumber(v)
      assert(x and x == x and math.abs(x) < math.huge, "not finite: " .. lines[i])
    end
  end
  assert(exists(out .. "/samples/iter-000003.png"), "sample grid at iteration 3")
  assert(exists(out .. "/samples/iter-000006.png"), "sample grid at the end")
  assert(exists(out .. "/config.lua"))
  assert(exists(out .. "/checkpoint.safetensors"))
  -- the loss plot needs gnuplot; without it the harness writes only the script
  if os.execute("command -v gnuplot >/dev/null 2>&1") then
    assert(exists(out .. "/loss.png"), "loss plot")
  end
  assert(exists(out .. "/parzen.txt") and exists(out .. "/parzen_sigma.csv"))
  local ll = log:match("parzen: test log%-likelihood (%-?[%d.]+) %+%- ([%d.]+)")
  assert(ll and tonumber(ll), "parzen line printed:\n" .. log)
  assert(log:find("sample grid: " .. out, 1, true), "the grid's path is printed at the end:\n" .. log)
  if exists(out .. "/loss.png") then
    assert(log:find("loss plot: " .. out, 1, true), "the plot's path is printed:\n" .. log)
  end
  os.execute("rm -rf " .. sh_quote(tmp) .. " " .. sh_quote(tmp .. ".log"))
end)

test("gan_mnist: stop + resume gives the same metrics as a straight run", function()
  local tmp = os.tmpname()
  os.remove(tmp)
  local base = ("%s %s --iters 8 --batch 20 --g_hidden 16 --g_hidden2 16 --d_units 16 "
    .. "--d_units2 16 --sample_every 0 --checkpoint_every 0 --threads 1")
    :format(sh_quote(LUAGAN), sh_quote(ROOT .. "/experiments/gan_mnist.lua"))
  local function sh(flags) return os.execute(base .. " " .. flags .. " >/dev/null 2>&1") end
  assert(sh("--out " .. sh_quote(tmp .. "/a")))
  assert(sh("--out " .. sh_quote(tmp .. "/b") .. " --stop_at 4"))
  assert(sh("--resume " .. sh_quote(tmp .. "/b")))
  local function read(p) local f = assert(io.open(p, "rb")) local s = f:read("a") f:close() return s end
  local a, b = read(tmp .. "/a/metrics.csv"), read(tmp .. "/b/metrics.csv")
  eq(select(2, a:gsub("\n", "")), 9, "header + 8 rows")
  assert(a == b, "resumed metrics differ:\n" .. a .. "\n---\n" .. b)
  os.execute("rm -rf " .. sh_quote(tmp))
end)

-- }----------------------------------------------------------
