-- lg.linalg: known values, reconstructions, errors, empty matrices, the double
-- table path of eigh, and gradients against central finite differences.
local lg = require "luagan"
local la = lg.linalg

local function max_abs_diff(a, b)
  local m = 0
  for i = 1, #a do
    if type(a[i]) == "table" then m = math.max(m, max_abs_diff(a[i], b[i]))
    else m = math.max(m, math.abs(a[i] - b[i])) end
  end
  return m
end

local function eye(n)
  local t = {}
  for i = 1, n do
    t[i] = {}
    for j = 1, n do t[i][j] = i == j and 1 or 0 end
  end
  return lg.tensor(t)
end

test("eigh: known 2x2 and 3x3 spectra, vectors in columns, lower triangle read", function()
  local w, V = la.eigh(lg.tensor{{2, 1}, {1, 2}})
  near(w:totable(), {1, 3})
  local v = V:totable()
  near(math.abs(v[1][1]), 1 / math.sqrt(2))
  near(v[1][1] * v[2][1], -0.5)   -- column 1 ~ (1, -1) / sqrt 2
  near(v[1][2] * v[2][2], 0.5)    -- column 2 ~ (1, 1) / sqrt 2
  local r2 = math.sqrt(2)
  -- the upper triangle holds junk: only the lower one counts, as in PyTorch
  near(la.eigh(lg.tensor{{4, 99, 7}, {1, 4, -5}, {0, 1, 4}}):totable(), {4 - r2, 4, 4 + r2})
end)

test("eigh on a table of rows stays in double precision", function()
  local w, V = la.eigh({{2, 1}, {1, 2}})
  near(w, {1, 3}, 1e-15)
  near(V[1][2] * V[2][2], 0.5, 1e-15)
  -- 1 + 1e-9 is not a float32: the table path resolves the gap, a tensor would not
  local wt = la.eigh({{1, 0}, {0, 1 + 1e-9}})
  near(wt[2] - wt[1], 1e-9, 1e-6)
  local w0, V0 = la.eigh({})
  eq(#w0, 0)
  eq(#V0, 0)
  raises(function() la.eigh({{1, 2}, {3}}) end, "linalg.eigh: a square matrix is expected")
  raises(function() la.eigh({{1, "x"}, {3, 4}}) end, "entry [1][2] is not a number")
  raises(function() la.eigh({{0 / 0, 0}, {0, 1}}) end, "linalg.eigh: the matrix contains NaN or Inf")
end)

test("svd: known singular values, reduced and full shapes, options", function()
  local U, S, Vh = la.svd(lg.tensor{{3, 0}, {4, 5}})
  near(S:totable(), {math.sqrt(45), math.sqrt(5)})
  eq(U.shape, {2, 2})
  eq(Vh.shape, {2, 2})
  lg.manual_seed(3)
  local a = lg.randn(5, 3)
  U, S, Vh = la.svd(a)
  eq({U.shape, S.shape, Vh.shape}, {{5, 3}, {3}, {3, 3}})
  assert(max_abs_diff((U * S):matmul(Vh):totable(), a:totable()) < 1e-5, "A = U S Vh")
  local Uf, Sf, Vhf = la.svd(a, {full_matrices = true})
  eq({Uf.shape, Sf.shape, Vhf.shape}, {{5, 5}, {3}, {3, 3}})
  assert(max_abs_diff(Uf:t():matmul(Uf):totable(), eye(5):totable()) < 1e-5, "U^T U = I")
  near(Sf:totable(), S:totable())
  U, S, Vh = la.svd(a:t(), {full_matrices = false})
  eq({U.shape, S.shape, Vh.shape}, {{3, 3}, {3}, {3, 5}})
  raises(function() la.svd(a, {full = true}) end, "linalg.svd: unknown option 'full' (valid: full_matrices)")
end)

test("cholesky, solve, inv, det, slogdet: hand-computed values", function()
  near(la.cholesky(lg.tensor{{4, 2}, {2, 3}}):totable(), {{2, 0}, {1, math.sqrt(2)}})
  local A = lg.tensor{{3, 1}, {1, 2}}
  near(la.solve(A, lg.tensor{9, 8}):totable(), {2, 3})
  near(la.solve(A, lg.tensor{{9, 1}, {8, 2}}):totable(), {{2, 0}, {3, 1}})
  near(la.inv(lg.tensor{{4, 7}, {2, 6}}):totable(), {{0.6, -0.7}, {-0.2, 0.4}})
  local d = la.det(lg.tensor{{1, 2}, {3, 4}})
  eq(d.shape, {})
  near(d:item(), -2)
  local sign, logabs = la.slogdet(lg.tensor{{1, 2}, {3, 4}})
  eq(sign:item(), -1)
  near(logabs:item(), math.log(2))
  near(la.det(lg.tensor{{0, 3, 0}, {2, 0, 0}, {0, 0, 4}}):item(), -24)
  -- singular: det 0, slogdet (0, -inf)
  eq(la.det(lg.tensor{{1, 2}, {2, 4}}):item(), 0)
  sign, logabs = la.slogdet(lg.tensor{{1, 2}, {2, 4}})
  eq(sign:item(), 0)
  eq(logabs:item(), -math.huge)
  -- batches: one value per matrix
  local batch = lg.tensor{{{2, 0}, {0, 3}}, {{1, 2}, {3, 4}}}
  near(la.det(batch):totable(), {6, -2})
  near(la.inv(batch):totable()[1], {{0.5, 0}, {0, 1 / 3}})
end)

test("reconstructions: A = Q diag(w) Q^T, L L^T = A, A x = b, A A^-1 = I", function()
  lg.manual_seed(11)
  local b = lg.randn(8, 8)
  local S = b + b:t()
  local w, Q = la.eigh(S)
  local wt = w:totable()
  for i = 2, 8 do assert(wt[i] >= wt[i - 1], "ascending") end
  assert(max_abs_diff((Q * w):matmul(Q:t()):totable(), S:totable()) < 1e-4, "Q diag(w) Q^T")
  assert(max_abs_diff(Q:t():matmul(Q):totable(), eye(8):totable()) < 1e-5, "Q^T Q = I")
  local A = b:matmul(b:t()) + eye(8)
  local L = la.cholesky(A)
  assert(max_abs_diff(L:matmul(L:t()):totable(), A:totable()) < 1e-4, "L L^T")
  local rhs = lg.randn(8)
  local x = la.solve(A, rhs)
  assert(max_abs_diff(A:matmul(x):totable(), rhs:totable()) < 1e-4, "A x = b")
  assert(max_abs_diff(A:matmul(la.inv(A)):totable(), eye(8):totable()) < 1e-4, "A A^-1")
  local sign, logabs = la.slogdet(A)
  local dl = 0
  for i, row in ipairs(L:totable()) do dl = dl + 2 * math.log(row[i]) end
  eq(sign:item(), 1)
  near(logabs:item(), dl, 1e-5)
end)

test("errors: non-square, singular, not positive definite, NaN, mismatched B", function()
  local r = lg.zeros(2, 3)
  raises(function() la.inv(r) end, "linalg.inv: A must be a square matrix or a batch of them [..., n, n], got [2,3]")
  raises(function() la.eigh(r) end, "linalg.eigh: A must be a square matrix")
  raises(function() la.det(lg.zeros(3)) end, "linalg.det: A must be a square matrix")
  raises(function() la.svd(lg.zeros(3)) end, "linalg.svd: A must be a matrix or a batch of them [..., m, n], got [3]")
  raises(function() la.solve(lg.tensor{{1, 2}, {2, 4}}, lg.tensor{1, 1}) end, "linalg.solve: A is singular")
  raises(function() la.inv(lg.tensor{{1, 2}, {2, 4}}) end, "linalg.inv: A is singular")
  raises(function() la.inv(lg.tensor{{{1, 0}, {0, 1}}, {{1, 2}, {2, 4}}}) end,
         "linalg.inv: A is singular (batch entry 2)")
  raises(function() la.cholesky(lg.tensor{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}}) end,
         "linalg.cholesky: matrix is not positive definite (leading minor 3)")
  raises(function() la.solve(eye(2), lg.zeros(3)) end, "linalg.solve: A [2,2] and B [3] do not match")
  local nan = lg.tensor{{1, 0 / 0}, {0 / 0, 1}}
  for _, name in ipairs{"eigh", "svd", "cholesky", "inv", "det", "slogdet"} do
    raises(function() la[name](nan) end, "linalg." .. name .. ": A contains NaN or Inf")
  end
  raises(function() la.solve(eye(2), lg.tensor{1, math.huge}) end, "linalg.solve: B contains NaN or Inf")
  raises(function() la.eigh("x") end, "tensor expected")
end)

test("empty 0x0 matrices", function()
  local e = lg.zeros(0, 0)
  local w, V = la.eigh(e)
  eq({w.shape, V.shape}, {{0}, {0, 0}})
  eq(la.det(e):item(), 1)
  local sign, logabs = la.slogdet(e)
  eq({sign:item(), logabs:item()}, {1, 0})
  eq(la.inv(e).shape, {0, 0})
  eq(la.cholesky(e).shape, {0, 0})
  eq(la.solve(e, lg.zeros(0)).shape, {0})
  local U, S, Vh = la.svd(e)
  eq({U.shape, S.shape, Vh.shape}, {{0, 0}, {0}, {0, 0}})
end)

-- {------------------------------------------------ gradients

-- Central differences (4-point, h = 1/64) of f at the values `flat` viewed as
-- `shape`, against backward's gradient: |analytic - numeric| <= tol * max(1, |numeric|).
-- f returns a scalar tensor.
local function gradcheck(what, f, flat, shape, tol)
  tol = tol or 1e-2
  local function at(values)   -- a leaf that requires grad: f may call lg.grad
    local x = lg.tensor(values):view(table.unpack(shape)):detach()
    x.requires_grad = true
    return x
  end
  local x = at(flat)
  f(x):backward()
  local analytic = x.grad:reshape(#flat):totable()
  local h = 1 / 64
  for i = 1, #flat do
    local function fx(d)
      local c = table.move(flat, 1, #flat, 1, {})
      c[i] = c[i] + d
      return f(at(c)):item()
    end
    local numeric = (8 * (fx(h / 2) - fx(-h / 2)) - (fx(h) - fx(-h))) / (6 * h)
    if not (math.abs(analytic[i] - numeric) <= tol * math.max(1, math.abs(numeric))) then
      error(("%s: element %d: analytic %.6g, numeric %.6g"):format(what, i, analytic[i], numeric), 2)
    end
  end
end

-- 0.3 N(0,1) plus 1.5 (k, k-1, ..., 1) on the diagonal, as a flat table: well
-- separated eigen/singular values, well conditioned
local function spread(m, n)
  local t, k = (lg.randn(m, n) * 0.3):reshape(m * n):totable(), math.min(m, n)
  for i = 1, k do t[(i - 1) * n + i] = t[(i - 1) * n + i] + 1.5 * (k - i + 1) end
  return t
end

-- fixed weights, so that every output element matters
local function weights(...)
  lg.manual_seed(99)
  return lg.randn(...)
end

test("gradients of eigh and svd (distinct values) match finite differences", function()
  lg.manual_seed(5)
  local wl, wv = weights(3), weights(3, 3)
  -- eigh reads one triangle: check it on A = X + X^T; V * V is sign-invariant
  gradcheck("eigh", function(x)
    local w, V = la.eigh(x + x:t())
    return (w * wl):sum() + (V * V * wv):sum()
  end, spread(3, 3), {3, 3})
  gradcheck("eigh values", function(x) return (la.eigh(x + x:t()) * wl):sum() end, spread(3, 3), {3, 3})
  for _, mn in ipairs{{3, 3}, {4, 2}, {2, 4}} do
    local m, n = mn[1], mn[2]
    local k = math.min(m, n)
    local wu, ws, wh = weights(m, k), weights(k), weights(k, n)
    gradcheck(("svd %dx%d"):format(m, n), function(x)
      local U, S, Vh = la.svd(x)
      return (U * U * wu):sum() + (S * ws):sum() + (Vh * Vh * wh):sum()
    end, spread(m, n), {m, n})
  end
end)

test("gradients of cholesky, solve, inv, det, slogdet match finite differences", function()
  lg.manual_seed(6)
  local w33, w3 = weights(3, 3), weights(3)
  gradcheck("cholesky", function(x) return (la.cholesky(x:matmul(x:t())) * w33):sum() end,
            spread(3, 3), {3, 3})
  local a, bvec = spread(3, 3), lg.randn(3)
  gradcheck("solve wrt A", function(x) return (la.solve(x, bvec) * w3):sum() end, a, {3, 3})
  local A = lg.tensor(a):view(3, 3)
  gradcheck("solve wrt B", function(x) return (la.solve(A, x) * w33):sum() end,
            lg.randn(9):totable(), {3, 3})
  gradcheck("inv", function(x) return (la.inv(x) * w33):sum() end, a, {3, 3})
  gradcheck("det", function(x) return la.det(x) end, a, {3, 3})
  gradcheck("slogdet", function(x)
    local _, l = la.slogdet(x)
    return l
  end, a, {3, 3})
  -- d det / dA = det(A) A^-T, by hand for [[1,2],[3,4]]: [[4,-3],[-2,1]]
  local x = lg.tensor{{1, 2}, {3, 4}}
  x.requires_grad = true
  la.det(x):backward()
  near(x.grad:totable(), {{4, -3}, {-2, 1}})
end)

test("second order: a gradient penalty through solve and eigh", function()
  -- grad of sum(solve(A, b)) wrt b is A^-T 1; its squared norm is differentiable in A
  lg.manual_seed(7)
  local a = spread(3, 3)
  local b = lg.randn(3)
  b.requires_grad = true
  local function penalty(x)
    local bb = b:detach()
    bb.requires_grad = true
    local g = lg.grad({la.solve(x, bb):sum()}, {bb}, {create_graph = true})[1]
    return (g * g):sum()
  end
  gradcheck("solve penalty", penalty, a, {3, 3})
  local wl = weights(3)
  gradcheck("eigh penalty", function(x)
    local s = x + x:t()
    local g = lg.grad({(la.eigh(s) * wl):sum()}, {s}, {create_graph = true})[1]
    return (g * g * weights(3, 3)):sum()
  end, spread(3, 3), {3, 3})
end)

test("det at singular matrices: the cofactors, first and second order; slogdet refuses", function()
  -- d det / dA is the cofactor matrix, not zero: [[1,2],[2,4]] -> [[4,-2],[-2,1]]
  local x = lg.tensor{{1, 2}, {2, 4}}
  x.requires_grad = true
  la.det(x):backward()
  eq(x.grad:totable(), {{4, -2}, {-2, 1}})
  -- rank 2 of 3 (row 2 = 2 row 1): cofactors by hand; rank 1: every 2x2 minor is 0
  local r2 = {1, 2, 3, 2, 4, 6, 1, 1, 1}
  x = lg.tensor(r2):view(3, 3):detach()
  x.requires_grad = true
  la.det(x):backward()
  eq(x.grad:totable(), {{-2, 4, -2}, {1, -2, 1}, {0, 0, 0}})
  gradcheck("det rank 2", function(y) return la.det(y) end, r2, {3, 3})
  gradcheck("det rank 1", function(y) return la.det(y) end, {1, 2, 3, 2, 4, 6, 3, 6, 9}, {3, 3})
  -- 4x4 of rank 2 (row 2 = 2 row 1, row 4 = 2 row 3): singular minors inside, the recursion
  local r4 = {1, 2, 0, 1, 2, 4, 0, 2, 0, 1, 1, 0, 0, 2, 2, 0}
  gradcheck("det 4x4 rank 2", function(y) return la.det(y) * 3 end, r4, {4, 4})
  -- a batch with one singular matrix: each gets its own gradient
  local b = lg.tensor{{{1, 2}, {2, 4}}, {{1, 2}, {3, 4}}}
  b.requires_grad = true
  la.det(b):sum():backward()
  eq(b.grad:totable(), {{{4, -2}, {-2, 1}}, {{4, -3}, {-2, 1}}})
  -- second order at a singular point: |d det / dA|^2 is differentiable
  gradcheck("det penalty, rank 2", function(y)
    local g = lg.grad({la.det(y)}, {y}, {create_graph = true})[1]
    return (g * g):sum()
  end, r2, {3, 3})
  local s = lg.tensor{{1, 2}, {2, 4}}
  s.requires_grad = true
  local _, l = la.slogdet(s)
  raises(function() l:backward() end, "linalg.slogdet: log|det(A)| has no gradient at a singular A")
end)

-- }------------------------------------------------

test("linalg.sqrtm_psd and linalg.matmul: tables of doubles, known values, errors", function()
  local R = lg.linalg.sqrtm_psd{{4, 0}, {0, 9}}
  eq(R, {{2, 0}, {0, 3}})
  -- the root of [[2, 1], [1, 2]] squares back to it, in double precision
  local S = lg.linalg.sqrtm_psd{{2, 1}, {1, 2}}
  local P = lg.linalg.matmul(S, S)
  for i = 1, 2 do for j = 1, 2 do near(P[i][j], i == j and 2 or 1, 1e-14) end end
  -- closed form: sqrt of [[a, b], [b, a]] has eigenvalues sqrt(a +- b)
  near(S[1][1], (math.sqrt(3) + 1) / 2, 1e-14)
  near(S[1][2], (math.sqrt(3) - 1) / 2, 1e-14)
  -- rounding noise below zero counts as zero: a rank-1 PSD matrix
  local Z = lg.linalg.sqrtm_psd{{1, 1}, {1, 1 - 1e-17}}
  near(Z[1][1], math.sqrt(2) / 2, 1e-12)
  eq(lg.linalg.matmul({{1, 2, 3}}, {{1}, {2}, {3}}), {{14}})
  eq(lg.linalg.matmul({{1}, {2}}, {{3, 4}}), {{3, 4}, {6, 8}})
  eq(lg.linalg.matmul({}, {}), {})
  raises(function() lg.linalg.matmul({{1, 2}}, {{1, 2}}) end, "A is 1 x 2 but B has 1 rows")
  raises(function() lg.linalg.matmul(lg.ones(2, 2), {{1}}) end, "for tensors: lg.matmul")
  raises(function() lg.linalg.matmul({{1, 2}, {3}}, {{1}}) end, "rows of equal length are expected")
  raises(function() lg.linalg.sqrtm_psd{{1, 2}} end, "a square matrix is expected")
  raises(function() lg.linalg.sqrtm_psd{{1, "x"}, {0, 1}} end, "entry [1][2] is not a number")
  raises(function() lg.linalg.sqrtm_psd{{0 / 0, 0}, {0, 1}} end, "NaN or Inf")
end)
