-- experiments/adagan.lua, experiments/lib/adagan.lua and metrics.kde_coverage:
-- the data weights against hand-computed values and the authors' scan, the
-- mixture weights, weighted draws, the coverage C on known cases, and small
-- runs of the script (columns, reweighting, exact resume, flag errors).
local A = dofile(ROOT .. "/experiments/lib/adagan.lua")
local tmp = temp_dir()
local run = experiment_runner("adagan.lua", tmp)

local function list(t) return t:totable() end

local function near_list(a, b, tol, msg)
  eq(#a, #b, msg)
  for i = 1, #a do near(a[i], b[i], tol, (msg or "") .. " [" .. i .. "]") end
end

-- {------------------------------------------------------ data weights

test("theory_star: hand-computed lambda* and weights, zero-weight points", function()
  -- N = 4, beta = 1/2: lambda_i = (2 + S_i / 2) / i over the sorted h
  -- h = 0 0 2 2: lambda = 2, 1, 1, 1; kept while lambda_i >= h_(i) / 2: all four,
  -- lambda* = 1, w = (1 - h / 2)_+ / 2
  local w, lambda = A.theory_star(lg.tensor{0, 0, 2, 2}, 0.5)
  near(lambda, 1, 1e-6)
  near_list(list(w), {0.5, 0.5, 0, 0}, 1e-6, "ties")
  -- h = 1.5 0.5 3 1 (sorted 0.5 1 1.5 3, S = 0.5 1.5 3 6): lambda = 2.25, 1.375,
  -- 7/6, 1.25 against h / 2 = 0.25 0.5 0.75 1.5: three kept, lambda* = 7/6; the
  -- point with h = 3 gets 0, the others (7/6 - h / 2) / 2, summing to 1
  w, lambda = A.theory_star(lg.tensor{1.5, 0.5, 3, 1}, 0.5)
  near(lambda, 7 / 6, 1e-6)
  near_list(list(w), {(7 / 6 - 0.75) / 2, (7 / 6 - 0.25) / 2, 0, (7 / 6 - 0.5) / 2}, 1e-6, "unsorted")
  -- equal ratios: lambda* = beta + (1 - beta) c, uniform weights
  w, lambda = A.theory_star(lg.full(3, 2), 1 / 3)
  near(lambda, 1 / 3 + 2 / 3 * 2, 1e-6)
  near_list(list(w), {1 / 3, 1 / 3, 1 / 3}, 1e-6, "equal")
end)

test("theory_star: no lambda* (NaN ratios) falls back to uniform weights", function()
  local w, lambda = A.theory_star(lg.tensor{0 / 0, 0 / 0, 0 / 0, 0 / 0}, 0.5)
  eq(lambda, nil)
  near_list(list(w), {0.25, 0.25, 0.25, 0.25}, 0, "uniform")
end)

-- adagan.py's loop: the first i with (1 - beta) h_(i) <= lambda_i <= (1 - beta) h_(i+1)
local function authors_lambda(h, beta)
  local s = {}
  for i, v in ipairs(h) do s[i] = v end
  table.sort(s)
  local n, cum = #s, 0
  for i = 1, n do
    cum = cum + s[i]
    local lam = beta * n * (1 + (1 - beta) / beta / n * cum) / i
    if i == n then if lam >= (1 - beta) * s[n] then return lam end
    elseif lam <= (1 - beta) * s[i + 1] and lam >= (1 - beta) * s[i] then return lam end
  end
end

test("theory_star: lambda* and weights as the authors' scan on random ratios", function()
  lg.manual_seed(4)
  for _, beta in ipairs{0.5, 0.2, 0.1} do
    local h = (lg.randn(200) * 1.5):exp()               -- spread ratios, mean above 1
    local w, lambda = A.theory_star(h, beta)
    local ref = authors_lambda(list(h), beta)
    near(lambda, ref, 1e-4 * ref, "lambda beta " .. beta)
    local expect = ((h * -(1 - beta)) + ref):clamp(0, math.huge)
    near((w - expect / expect:sum()):abs():max():item(), 0, 1e-6, "weights beta " .. beta)
    near(w:sum():item(), 1, 1e-5)
    assert(w:le(0):sum():item() > 0, "some points get weight 0 at beta " .. beta)
  end
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ the mixture

test("mixture weights: beta 1/t keeps a uniform mixture, constant 1/2 halves the old ones", function()
  local uni, const = {}, {}
  for t = 1, 4 do
    uni = A.mix(uni, A.beta(t, "uniform", 0.5))
    const = A.mix(const, A.beta(t, "constant", 0.5))
  end
  near_list(uni, {0.25, 0.25, 0.25, 0.25}, 1e-12, "uniform")
  near_list(const, {0.125, 0.125, 0.25, 0.5}, 1e-12, "constant")
  eq(A.beta(1, "constant", 0.3), 1.0)
  raises(function() A.beta(2, "harmonic", 0.5) end, "rule must be uniform or constant")
end)

test("draw: frequencies follow the weights, a weight-0 point is never drawn", function()
  lg.manual_seed(2)
  local idx = A.draw(lg.tensor{1, 0, 6, 3}, 50000)        -- unnormalised weights
  local freq = lg.zeros(4):scatter_add(1, idx, lg.ones(50000)) / 50000
  near_list(list(freq), {0.1, 0, 0.6, 0.3}, 0.01, "freq")
  eq(freq[2]:item(), 0)
  raises(function() A.draw(lg.zeros(3), 5) end, "positive finite sum")
end)

test("mixture_sample: components by weight, rows of their pool block", function()
  lg.manual_seed(3)
  local pool = lg.cat({lg.zeros(50, 2), lg.ones(50, 2)}, 1)
  local x = A.mixture_sample(pool, 50, {0.25, 0.75}, 4000)
  near(x:mean():item(), 0.75, 0.03)
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ coverage

test("kde_coverage: the data's own samples cover 95%, samples on half the modes 50%", function()
  lg.manual_seed(5)
  local d = A.gmm{modes = 10, points = 3000, max_val = 15, seed = 7}
  local real, fake, valid = d.x:narrow(1, 1, 1000), d.x:narrow(1, 1001, 1000), d.x:narrow(1, 2001, 500)
  -- samples equal to the data: C is the share above the 5% quantile of itself
  local same = lg.metrics.kde_coverage(fake, fake, valid)
  near(same.coverage, 0.95, 0.002)
  -- fresh samples of the same mixture
  local fresh = lg.metrics.kde_coverage(real, fake, valid)
  near(fresh.coverage, 0.95, 0.03)
  -- about the true mean log-density, -log 10 - log(2 pi var) - 1 = -2.16 (KDE bias below it)
  assert(fresh.loglik < -2.0 and fresh.loglik > -3.0, "loglik " .. fresh.loglik)
  -- the model on modes 1..5 only: the real points of the other modes are not covered
  local half = d.labels:le(5)
  local function on_half(x, labels)
    local keep = labels:le(5)
    local rows = lg.arange(1, x:size(1) + 1):masked_select(keep)
    return x:index_select(1, rows)
  end
  local lab = d.labels
  local hf = on_half(fake, lab:narrow(1, 1001, 1000))
  local hv = on_half(valid, lab:narrow(1, 2001, 500))
  local r = lg.metrics.kde_coverage(real, hf, hv)
  local share = half:narrow(1, 1, 1000):mean():item()        -- real points on modes 1..5
  near(r.coverage, share * 0.95, 0.03)
  near(share, 0.5, 0.05)
  assert(r.loglik < fresh.loglik - 10, "uncovered modes cost log-likelihood")
  raises(function() lg.metrics.kde_coverage(real, lg.randn(10, 3), valid) end, "differ in D")
  raises(function() lg.metrics.kde_coverage(real, fake:narrow(1, 1, 1), valid) end, "at least 2")
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ the script

local SMALL = "--T 2 --epochs 2 --points 320 --pool 400 --eval_fake 200 --eval_valid 100 " ..
              "--eval_real 200 --c_epochs 1 --seed 3"
local S = 10                                             -- 2 epochs of 320 / 64 steps per component

local function rows_of(dir) return read_csv(tmp .. "/" .. dir .. "/metrics.csv") end
local function out(dir) return " --out " .. sh_quote(tmp .. "/" .. dir) end

test("adagan.lua: columns, one row per step, the reweighting moves the data weights", function()
  local code, stdout = run("--method adagan " .. SMALL .. out("a"))
  eq(code, 0, stdout)
  local rows, header = rows_of("a")
  eq(#rows, 2 * S)
  local cols = {}
  for _, h in ipairs(header) do cols[h] = true end
  for _, k in ipairs{"component", "coverage", "modes", "loglik", "lossD", "lossG", "beta",
                     "lambda", "w_zero", "w_max", "comp_modes", "comp_coverage"} do
    assert(cols[k], "column " .. k)
  end
  for _, r in ipairs(rows) do assert(finite(r.lossD) and finite(r.lossG), "losses at " .. r.iter) end
  local first, last = rows[S + 1], rows[2 * S]
  eq(rows[1].beta, 1)
  near(rows[1].w_max, 1, 1e-6)                          -- uniform for the first GAN
  eq(first.component, 2)
  near(first.beta, 0.5, 1e-9)
  assert(finite(first.lambda), "lambda* of the second component")
  assert(first.w_max > 1.01 or first.w_zero > 0, "the second GAN's weights are not uniform")
  for _, r in ipairs{rows[S], last} do
    assert(r.coverage >= 0 and r.coverage <= 1 and finite(r.loglik), "evaluation")
    assert(r.modes >= 0 and r.modes <= 10, "modes")
  end
  eq(rows[2].coverage, nil)
  assert(read_file(tmp .. "/a/samples/iter-000010.png") and read_file(tmp .. "/a/samples/iter-000020.png"),
         "a picture per component")
end)

test("adagan.lua: the ensemble keeps uniform data weights; vanilla is its first component", function()
  eq(run("--method ensemble " .. SMALL .. out("e")), 0)
  eq(run("--method vanilla " .. SMALL:gsub("%-%-T 2 ", "") .. out("v")), 0)
  local e, v, a = rows_of("e"), rows_of("v"), rows_of("a")
  eq(#v, S)
  near(e[S + 1].w_max, 1, 1e-6)
  eq(e[S + 1].lambda, nil)
  for i = 1, S do       -- the same first GAN whatever the method
    eq(v[i].lossD, e[i].lossD)
    eq(a[i].lossG, e[i].lossG)
  end
  near(v[S].coverage, e[S].coverage, 0)
end)

test("adagan.lua: stopped inside the second component and resumed, the same metrics", function()
  eq(run("--method adagan " .. SMALL .. out("r") .. " --stop_at 14"), 0)
  eq(run("--resume " .. tmp .. "/r"), 0)
  eq(read_file(tmp .. "/r/metrics.csv"), read_file(tmp .. "/a/metrics.csv"))
end)

test("adagan.lua: bad flag combinations exit 2 with a message", function()
  for flags, msg in pairs{
    ["--method boost"] = "--method must be adagan, ensemble or vanilla",
    ["--method vanilla --T 3"] = "--T must be 1",
    ["--method ensemble --beta constant"] = "--beta applies to --method adagan",
    ["--iters 5"] = "--iters is set by the other flags",
    ["--beta_constant 0"] = "--beta_constant must be in (0, 1]",
    ["--points 10"] = "--points must be >= --batch",
  } do
    local code, _, err = run(flags .. out("bad"))
    eq(code, 2, flags)
    assert(err:find(msg, 1, true), flags .. ": " .. err)
  end
end)

-- }------------------------------------------------------
