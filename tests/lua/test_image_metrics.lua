-- luagan.image_metrics: the dense eigen-solver, the Frechet distance, and the
-- classifier-based scores on the shipped MNIST subset (cached classifier weights
-- in models/mnist.safetensors).
local im = require "luagan.image_metrics"

local function max_abs_diff(a, b)
  local m = 0
  for i = 1, #a do
    if type(a[i]) == "table" then m = math.max(m, max_abs_diff(a[i], b[i]))
    else m = math.max(m, math.abs(a[i] - b[i])) end
  end
  return m
end

-- (A + A^T) / 2: a float32 product B B^T need not be exactly symmetric
local function symmetric(a)
  local s = {}
  for i = 1, #a do
    s[i] = {}
    for j = 1, #a do s[i][j] = 0.5 * (a[i][j] + a[j][i]) end
  end
  return s
end

local function add_diag(a, v)
  for i = 1, #a do a[i][i] = a[i][i] + v end
  return a
end

-- a random symmetric positive definite d x d matrix (B B^T / d + 0.1 I) as a table
local function random_spd(d, seed)
  lg.manual_seed(seed)
  local b = lg.randn(d, d)
  return add_diag(symmetric((b:matmul(b:t()) / d):totable()), 0.1)
end

test("symeig: known 2x2 and 3x3 spectra and eigenvectors", function()
  local vals, vecs = im.symeig({{2, 1}, {1, 2}})
  near(vals, {1, 3}, 1e-12)
  local s = 1 / math.sqrt(2)
  -- columns are unit eigenvectors, up to sign
  near(math.abs(vecs[1][1]), s, 1e-12)
  near(vecs[1][1] * vecs[2][1], -0.5, 1e-12)
  near(vecs[1][2] * vecs[2][2], 0.5, 1e-12)
  local r2 = math.sqrt(2)
  near(im.symeig({{4, 1, 0}, {1, 4, 1}, {0, 1, 4}}, false), {4 - r2, 4, 4 + r2}, 1e-12)
  -- diagonal with a repeated and a zero eigenvalue
  near(im.symeig({{3, 0, 0}, {0, 0, 0}, {0, 0, 3}}, false), {0, 3, 3}, 1e-12)
  near(im.symeig({{7}}, false), {7}, 0)
end)

test("symeig: A = V diag(l) V^T and V^T V = I on a 40x40 matrix", function()
  local a = random_spd(40, 5)
  local vals, V = im.symeig(a)
  local n = #a
  local rec, gram = {}, {}
  for i = 1, n do
    rec[i], gram[i] = {}, {}
    for j = 1, n do
      local s, g = 0, 0
      for k = 1, n do
        s = s + V[i][k] * vals[k] * V[j][k]
        g = g + V[k][i] * V[k][j]
      end
      rec[i][j], gram[i][j] = s, g
    end
  end
  assert(max_abs_diff(rec, a) < 1e-10, "reconstruction " .. max_abs_diff(rec, a))
  local err = 0
  for i = 1, n do
    for j = 1, n do err = math.max(err, math.abs(gram[i][j] - (i == j and 1 or 0))) end
  end
  assert(err < 1e-12, "orthonormality " .. err)
  for i = 2, n do assert(vals[i] >= vals[i - 1], "ascending order") end
end)

test("sqrtm_psd: known square root, and R R = A on random matrices", function()
  near(im.sqrtm_psd({{5, 4}, {4, 5}}), {{2, 1}, {1, 2}}, 1e-12)
  near(im.sqrtm_psd({{4, 0}, {0, 0}}), {{2, 0}, {0, 0}}, 1e-12)
  local a = random_spd(30, 6)
  local r = im.sqrtm_psd(a)
  assert(max_abs_diff(lg.linalg.matmul(r, r), a) < 1e-10, "R R = A")
  -- rank-deficient PSD (a 30x30 matrix of rank 5): still R R = A
  lg.manual_seed(7)
  local b = lg.randn(30, 5)
  local low = symmetric(b:matmul(b:t()):totable())
  local rl = im.sqrtm_psd(low)
  assert(max_abs_diff(lg.linalg.matmul(rl, rl), low) < 1e-4, "rank-deficient R R = A")
end)

test("frechet_distance: identical Gaussians ~0, shifted means |mu1-mu2|^2, diagonal closed form", function()
  local d = 32
  local s = random_spd(d, 8)
  local mu1, mu2 = {}, {}
  local shift2 = 0
  for i = 1, d do
    mu1[i] = math.sin(i)
    mu2[i] = mu1[i] + 0.1 * i
    shift2 = shift2 + (0.1 * i) ^ 2
  end
  assert(math.abs(im.frechet_distance(mu1, s, mu1, s)) < 1e-9, "identical")
  near(im.frechet_distance(mu1, s, mu2, s), shift2, 1e-9)
  -- diagonal covariances: sum (sqrt(a) - sqrt(b))^2
  local a, b, want = {}, {}, 0
  for i = 1, d do
    a[i], b[i] = {}, {}
    for j = 1, d do a[i][j], b[i][j] = 0, 0 end
    a[i][i], b[i][i] = i, 2 * i + 1
    want = want + (math.sqrt(i) - math.sqrt(2 * i + 1)) ^ 2
  end
  near(im.frechet_distance(mu1, a, mu1, b), want, 1e-9)
  -- tensors are accepted, and the distance is symmetric
  local t1, t2 = lg.tensor(s), lg.tensor(add_diag(random_spd(d, 9), 0.5))
  near(im.frechet_distance(lg.tensor(mu1), t1, lg.tensor(mu2), t2),
       im.frechet_distance(lg.tensor(mu2), t2, lg.tensor(mu1), t1), 1e-6)
  raises(function() im.frechet_distance({1, 2}, {{1, 0}, {0, 1}}, {1}, {{1}}) end, "differ")
end)

-- {------------------------------------------------ classifier-based scores

local m = im.load("mnist")
local test_set = lg.data.mnist10k("test")
local real = test_set.images                      -- [999,1,28,28] in [-1, 1]
local n = test_set.n

-- test digits of class 2 ("1"): rows chosen from the label list
local function one_class(label)
  local labels, rows = test_set.labels:totable(), {}
  for i = 1, n do
    if labels[i] == label then rows[#rows + 1] = real:narrow(1, i, 1) end
  end
  return lg.cat(rows, 1)
end

lg.manual_seed(21)
local noise = lg.rand(n, 1, 28, 28) * 2 - 1       -- uniform noise in [-1, 1]
local ones = one_class(2)                         -- the 113 test "1"s
-- one classifier pass per sample set
local r_real, r_noise, r_one = m:evaluate(real), m:evaluate(noise), m:evaluate(ones, nil, {splits = 1})

test("image metrics: the cached MNIST classifier is accurate on the held-out digits", function()
  local acc = m:accuracy(real, test_set.labels)
  assert(acc >= 0.97, "accuracy " .. acc)
  eq(r_real.n, n)
end)

test("image metrics: Inception score ranks real digits above noise and one class", function()
  assert(r_real.is > 8.5 and r_real.is <= 10, "IS real " .. r_real.is)
  assert(r_real.is_std >= 0 and r_real.is_std < 1, "IS std " .. r_real.is_std)
  assert(r_noise.is < r_real.is - 3, ("IS noise %g vs real %g"):format(r_noise.is, r_real.is))
  assert(r_one.is < 1.5, "IS one class " .. r_one.is)
end)

test("image metrics: MODE score ranks real above one class and noise", function()
  assert(r_real.mode > 8.5 and r_real.mode <= 10.01, "MODE real " .. r_real.mode)
  assert(r_real.mode_terms.marg >= 0 and r_real.mode_terms.marg < 0.02,
         "KL(p* || p(y)) real " .. r_real.mode_terms.marg)
  assert(r_one.mode < 1, "MODE one class " .. r_one.mode)
  assert(r_noise.mode < r_real.mode - 3, "MODE noise " .. r_noise.mode)
end)

test("image metrics: FID(test, train) < FID(noise, train) and < FID(one class, train)", function()
  -- reference: the training set's statistics stored with the weights
  assert(r_real.fid >= 0 and r_real.fid < r_noise.fid / 10,
         ("FID real %g, noise %g"):format(r_real.fid, r_noise.fid))
  assert(r_one.fid > r_real.fid, ("FID one class %g, real %g"):format(r_one.fid, r_real.fid))
end)

test("image metrics: classes covered", function()
  eq(r_real.classes, 10)
  eq(r_one.classes, 1)
  local total = 0
  for _, s in ipairs(r_real.shares) do total = total + s end
  near(total, 1, 1e-6)
  -- a stricter threshold: no class holds half of the real digits
  eq((m:classes_covered(real:narrow(1, 1, 200), {threshold = 0.5})), 0)
end)

test("image metrics: single methods agree with evaluate; references; range; errors", function()
  local x, y = real:narrow(1, 1, 300), real:narrow(1, 301, 300)
  local r = m:evaluate(x, y, {splits = 3})
  local is = m:inception_score(x, {splits = 3})
  near(r.is, is, 1e-9)
  near(r.mode, (m:mode_score(x)), 1e-9)
  eq(r.classes, (m:classes_covered(x)))
  local ref = m:feature_stats(y)
  near(m:fid(x, ref), r.fid, 1e-9)                  -- images or {mu, sigma} as the reference
  assert(math.abs(m:fid(x, m:feature_stats(x))) < 1e-3 * r_noise.fid, "FID(x, x) ~ 0")
  -- images in [0, 1] with range {0, 1} score as the same images in [-1, 1]
  near(m:inception_score((x + 1) / 2, {range = {0, 1}, splits = 3}), is, 1e-5)
  local p = m:predict(x:narrow(1, 1, 5))
  eq(p.shape, {5, 10})
  near(p:sum(2):totable(), {1, 1, 1, 1, 1}, 1e-5)
  eq(m:features(x:narrow(1, 1, 3):view(3, 784)).shape, {3, 128})
  raises(function() m:inception_score(x, {splits = 0}) end, "splits")
  raises(function() m:fid(lg.zeros(4, 10)) end, "images [N,1,28,28] expected")
  raises(function() im.load("no-such-classifier") end, "not found")
end)

test("image metrics: for_dataset picks the classifier of a dataset, or says why there is none", function()
  local x = lg.data.load("mnist", "test").images:narrow(1, 1, 20)
  for _, name in ipairs{"mnist", "mnist10k"} do
    local c = assert(im.for_dataset(name), name)
    near(c:predict(x):totable(), m:predict(x):totable(), 0, name .. " uses the MNIST weights")
  end
  local f, why = im.for_dataset("fashion")
  if f then
    assert(f.path:find("fashion", 1, true), "fashion uses its own weights: " .. f.path)
  else
    assert(why:find("not found", 1, true), why)
  end
  local none, why2 = im.for_dataset("datasets/some-folder")
  eq(none, nil)
  assert(why2:find("no classifier for dataset 'datasets/some-folder'", 1, true), why2)
end)
