-- Comparisons and discrete ops from Lua: gt ge lt le eq ne, where,
-- masked_fill, masked_select, nonzero, argmax, argmin, min, rounding,
-- randint, one_hot, eye, equal, and Tensor == Tensor.  Expected values are
-- worked out by hand with PyTorch's rules (torch was not available to
-- compute them); positions and dims are 1-based as everywhere in the API.
local lg = require "luagan"

local nan, inf = 0 / 0, math.huge

local function T(t) return t:totable() end

-- like eq, but NaN equals NaN and -0 equals 0 (totable gives numbers)
local function same(a, b, msg)
  local function walk(x, y)
    if type(x) == "table" then
      if type(y) ~= "table" or #x ~= #y then return false end
      for i = 1, #x do if not walk(x[i], y[i]) then return false end end
      return true
    end
    return x == y or (x ~= x and y ~= y)
  end
  if not walk(a, b) then
    local function show(v)
      if type(v) ~= "table" then return tostring(v) end
      local p = {}
      for i, x in ipairs(v) do p[i] = show(x) end
      return "{" .. table.concat(p, ",") .. "}"
    end
    error(("%s: expected %s, got %s"):format(msg or "same", show(b), show(a)), 2)
  end
end

-- d/dx of sum(f(x) .* w) by central differences in x's flat values
-- (f is piecewise linear here, so the step only has to stay off the kinks)
local function numgrad(f, vals, shape, w, h)
  h = h or 1e-2
  local g = {}
  local function loss(v) return (f(lg.tensor(v):reshape(shape)) * w):sum():item() end
  for i = 1, #vals do
    local p, m = {table.unpack(vals)}, {table.unpack(vals)}
    p[i], m[i] = p[i] + h, m[i] - h
    g[i] = (loss(p) - loss(m)) / (2 * h)
  end
  return g
end

local function analytic(f, vals, shape, w)
  local x = lg.tensor(vals):reshape(shape):detach()
  x.requires_grad = true
  ;(f(x) * w):sum():backward()
  return x.grad:reshape(-1):totable()
end

local function gradcheck(f, vals, shape, w, msg)
  near(analytic(f, vals, shape, w), numgrad(f, vals, shape, w), 1e-3, msg)
end

-- {---------------------------------------------------------- comparisons

test("comparisons: known values, broadcasting, numbers on either side", function()
  local a = lg.tensor{{1, 5, 3}, {4, 2, 6}}
  local b = lg.tensor{3, 2, 6}
  same(T(a:gt(b)), {{0, 1, 0}, {1, 0, 0}})
  same(T(a:ge(b)), {{0, 1, 0}, {1, 1, 1}})
  same(T(a:lt(b)), {{1, 0, 1}, {0, 0, 0}})
  same(T(a:le(b)), {{1, 0, 1}, {0, 1, 1}})
  same(T(a:eq(b)), {{0, 0, 0}, {0, 1, 1}})
  same(T(a:ne(b)), {{1, 1, 1}, {1, 0, 0}})
  same(T(lg.gt(a, 3)), {{0, 1, 0}, {1, 0, 1}})
  same(T(lg.lt(3, a)), {{0, 1, 0}, {1, 0, 1}}, "3 < a is a > 3")
  same(T(a:eq(2)), {{0, 0, 0}, {0, 1, 0}})
  -- a column against a row: [2,1] x [3] -> [2,3]
  same(T(lg.tensor{{1}, {4}}:ge(lg.tensor{0, 1, 4})), {{1, 1, 0}, {1, 1, 1}})
  local r = a:gt(0)
  eq(r.shape, {2, 3})
end)

test("comparisons: NaN is unordered, infinities order, -0 equals 0", function()
  local x = lg.tensor{nan, inf, -inf, -0.0, 1}
  same(T(x:gt(0)), {0, 1, 0, 0, 1})
  same(T(x:le(0)), {0, 0, 1, 1, 0})
  same(T(x:eq(x)), {0, 1, 1, 1, 1}, "NaN ~= NaN")
  same(T(x:ne(x)), {1, 0, 0, 0, 0})
  same(T(x:eq(0)), {0, 0, 0, 1, 0})
  -- a number is rounded to float32 first, as torch does with a Python number
  same(T(lg.tensor{0.1}:eq(0.1)), {1})
  same(T(lg.tensor{3e38, inf}:lt(1e300)), {1, 0}, "1e300 becomes inf")
end)

test("comparisons record no gradient", function()
  local x = lg.randn(3)
  x.requires_grad = true
  local m = x:gt(0)
  assert(not m.requires_grad and m.grad_fn == nil)
  assert(not lg.eq(x, x).requires_grad)
end)

test("comparison errors name shapes and arguments", function()
  local a, b = lg.zeros(2, 3), lg.zeros(2)
  raises(function() return a:gt(b) end, "gt: shapes [2,3] and [2] cannot broadcast (dim 2: 3 vs 2)")
  raises(function() return lg.le(1, 2) end, "le: at least one operand must be a tensor")
  raises(function() return a:eq("x") end, "tensor or number expected, got string")
  raises(function() return lg.ne({1}, a) end, "tensor or number expected, got table")
end)

test("lg.equal: same shape and every element equal, as torch.equal", function()
  local a = lg.tensor{{1, 2}, {3, -0.0}}
  eq(lg.equal(a, lg.tensor{{1, 2}, {3, 0}}), true)
  eq(a:equal(a:t():t()), true)
  eq(lg.equal(a, lg.tensor{1, 2, 3, 0}), false, "same values, other shape")
  eq(lg.equal(a, lg.tensor{{1, 2}, {3, 1}}), false)
  local n = lg.tensor{nan}
  eq(lg.equal(n, n), false, "NaN equals nothing")
  raises(function() return lg.equal(a, 1) end, "tensor expected, got number")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- where and masks

test("where: broadcasting, numbers, NaN condition counts as true", function()
  local c = lg.tensor{{1}, {0}}
  same(T(lg.where(c, lg.tensor{1, 2, 3}, -1)), {{1, 2, 3}, {-1, -1, -1}})
  same(T(lg.where(lg.tensor{nan, 0, -2}, 1, 0)), {1, 0, 1})
  -- an Inf or NaN in the branch not taken does not leak
  same(T(lg.where(lg.tensor{1, 0}, lg.tensor{5, nan}, lg.tensor{inf, 7})), {5, 7})
  raises(function() return lg.where(lg.zeros(2, 3), lg.zeros(2), 0) end,
         "where: shapes [2,3], [2] and [] cannot broadcast")
  raises(function() return lg.where(1, 2, 3) end, "tensor expected, got number")
end)

test("where: gradient masked by the condition, against finite differences", function()
  local c = lg.tensor{{1, 0, 0}, {1, 1, 0}}
  local w = lg.tensor{{0.5, -1, 2}, {1.5, 0.25, -0.75}}
  local other = lg.tensor{10, 20, 30}
  local vals = {0.3, -1.2, 2.0, 0.7, -0.4, 1.1}
  gradcheck(function(x) return lg.where(c, x, other) end, vals, {2, 3}, w, "d/da")
  gradcheck(function(x) return lg.where(c, other, x) end, vals, {2, 3}, w, "d/db")
  -- b broadcast [3] -> [2,3]: its gradient sums the rows where c is 0
  local b = lg.tensor{1, 2, 3}
  b.requires_grad = true
  lg.where(c, lg.zeros(2, 3), b):sum():backward()
  same(T(b.grad), {0, 1, 2})
  gradcheck(function(x) return lg.where(c, 0, x) end, {0.1, 0.2, 0.3}, {3}, w, "broadcast b")
end)

test("masked_fill: values, a 0-dim tensor value, -inf, gradient", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  same(T(x:masked_fill(x:gt(3), 0)), {{1, 2, 3}, {0, 0, 0}})
  same(T(x:masked_fill(lg.tensor{1, 0, 1}, -inf)), {{-inf, 2, -inf}, {-inf, 5, -inf}})
  same(T(x:masked_fill(lg.tensor{0, 1, 0}, lg.tensor(9))), {{1, 9, 3}, {4, 9, 6}})
  same(T(lg.tensor{1, 2}:masked_fill(lg.tensor{0, 1}, nan)), {1, nan})
  raises(function() return x:masked_fill(x:gt(3), 1e300) end, "number out of float range")
  raises(function() return x:masked_fill(x:gt(3), lg.tensor{1, 2}) end,
         "masked_fill: the value must be a number or a 0-dim tensor, got shape [2]")
  raises(function() return x:masked_fill(lg.ones(2), 0) end, "cannot broadcast")
  local mask = lg.tensor{{0, 1, 0}, {1, 0, 0}}
  local w = lg.tensor{{1, 2, 3}, {-1, 0.5, 4}}
  gradcheck(function(t) return t:masked_fill(mask, 7) end, {1, 2, 3, 4, 5, 6}, {2, 3}, w)
  local v = lg.tensor(2)
  v.requires_grad = true
  ;(x:masked_fill(mask, v) * w):sum():backward()
  near(v.grad:item(), 2 + -1, 1e-6, "value gradient sums the filled places")
end)

test("masked_select: row-major, broadcasting, empty, gradient", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  local s = x:masked_select(x:gt(2))
  eq(s.shape, {4})
  same(T(s), {3, 4, 5, 6})
  same(T(x:masked_select(lg.tensor{1, 0, nan})), {1, 3, 4, 6})
  same(T(lg.tensor{7, 8}:masked_select(lg.tensor{{1, 1}, {0, 1}})), {7, 8, 8})
  eq(x:masked_select(lg.zeros(2, 3)).shape, {0})
  local m = lg.tensor{{1, 0, 1}, {1, 1, 0}}
  gradcheck(function(t) return t:masked_select(m) end, {1, 2, 3, 4, 5, 6}, {2, 3},
            lg.tensor{0.5, -1, 2, 3})
  gradcheck(function(t) return t:masked_select(m) end, {1, 2, 3}, {3},
            lg.tensor{0.5, -1, 2, 3}, "x broadcast by the mask")
end)

test("nonzero: 1-based positions, one row each", function()
  local x = lg.tensor{{0, nan, 0}, {-1, 0, inf}}
  local z = x:nonzero()
  eq(z.shape, {3, 2})
  same(T(z), {{1, 2}, {2, 1}, {2, 3}})
  same(T(lg.tensor{0, 3, 0, 4}:nonzero()), {{2}, {4}})
  eq(lg.zeros(4):nonzero().shape, {0, 1})
  eq(lg.tensor(5):nonzero().shape, {1, 0})
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- argmax, argmin, min

test("argmax/argmin: 1-based, first of ties, keepdim, flattened", function()
  local x = lg.tensor{{3, 1, 3, 1}, {2, 7, 5, 7}}
  same(T(x:argmax(2)), {1, 2})
  same(T(x:argmin(2)), {2, 1})
  same(T(x:argmax(1)), {1, 2, 2, 2})
  same(T(x:argmin(-2)), {2, 1, 1, 1})
  local k = x:argmax(2, true)
  eq(k.shape, {2, 1})
  same(T(k), {{1}, {2}})
  local f = x:argmax()
  eq(f.shape, {})
  eq(f:item(), 6, "flattened: the first 7")
  eq(x:argmin():item(), 2)
  eq(x:argmax(nil, true).shape, {1, 1})
  eq(lg.argmax(lg.tensor(4)):item(), 1, "a 0-dim tensor")
  assert(not x:argmax(1).requires_grad)
end)

test("NaN propagates: max/min of a row with NaN is NaN and arg* points at it", function()
  local x = lg.tensor{{1, nan, 3, nan}, {-inf, 2, inf, 0}}
  same(T(x:argmax(2)), {2, 3})
  same(T(x:argmin(2)), {2, 1})
  local v, i = x:min(2)
  same(T(v), {nan, -inf})
  same(T(i), {2, 1})
  local mv, mi = x:max(2)
  same(T(mv), {nan, inf})
  same(T(mi), {2, 3})
  same(x:min():item(), nan)
  eq(lg.tensor{nan, nan}:argmin():item(), 1)
end)

test("min mirrors max: forms, shapes, values, indices", function()
  local x = lg.tensor{{3, 1, 4}, {1, 5, 9}}
  local v = x:min()
  eq(v.shape, {})
  eq(v:item(), 1)
  eq(x:min(nil, true).shape, {1, 1})
  local vals, idx = x:min(2)
  same(T(vals), {1, 1})
  same(T(idx), {2, 1})
  local kv, ki = x:min(1, true)
  eq(kv.shape, {1, 3})
  same(T(kv), {{1, 1, 4}})
  same(T(ki), {{2, 1, 1}})
  -- the same as -max(-x), index for index
  local r = lg.randn(5, 7)
  for d = 1, 2 do
    local a, ai = r:min(d)
    local b, bi = (-r):max(d)
    same(T(a), T(-b))
    same(T(ai), T(bi))
  end
  eq(select("#", x:min(1)), select("#", x:max(1)), "as many results as max")
  eq(select("#", x:min()), select("#", x:max()))
end)

test("min() of more than 2^24 elements: exact value and gradient position", function()
  -- the minimum at 2^24 + 1 (1-based 2^24 + 2), a position floats round
  local n = 2 ^ 24 + 1
  local x = lg.cat({lg.zeros(n), lg.tensor{-1}, lg.zeros(1)})
  x.requires_grad = true
  local m = x:min()
  eq(m:item(), -1)
  m:backward()
  eq(x.grad:sum():item(), 1)
  eq(x.grad:narrow(1, n + 1, 1):item(), 1)
end)

test("min(d) and min(): gradients go to the picked element", function()
  local vals = {0.3, -1.2, 2.0, 0.7, -0.4, 1.1}
  local w2 = lg.tensor{1.5, -2}
  gradcheck(function(t) return (t:min(2)) end, vals, {2, 3}, w2, "min(2)")
  gradcheck(function(t) return (t:min(1, true)) end, vals, {2, 3}, lg.tensor{{1, 2, 3}}, "min(1, true)")
  gradcheck(function(t) return t:min() end, vals, {2, 3}, lg.tensor(3), "min()")
  local x = lg.tensor{2, 1, 1, 3}
  x.requires_grad = true
  x:min():backward()
  same(T(x.grad), {0, 0.5, 0.5, 0}, "a tie: min() splits it evenly, as max() and torch")
end)

test("argmax/argmin/min errors count dims from 1", function()
  local x = lg.zeros(3, 0)
  raises(function() return x:argmax(2) end, "argmax: cannot take the argmax over dim 2 of size 0 in shape [3,0]")
  raises(function() return x:min(2) end, "min: cannot take the min over dim 2 of size 0 in shape [3,0]")
  raises(function() return x:argmin() end, "argmin: cannot take the argmin of an empty tensor of shape [3,0]")
  raises(function() return x:min() end, "min: cannot take the min of an empty tensor of shape [3,0]")
  raises(function() return lg.zeros(2, 3):argmax(3) end,
         "argmax: dim 3 out of range for shape [2,3] (valid: 1..2 or -2..-1)")
  raises(function() return lg.zeros(2):min(1, 1) end, "min: keepdim must be a boolean, got number")
  eq(x:argmax(1).shape, {0})
  -- float positions stop being exact past 2^24: refused, not rounded
  -- (an expanded view: no memory behind the 2^24 + 1 elements)
  local long = lg.zeros(1):expand(2 ^ 24 + 1)
  raises(function() return long:argmax(1) end, "argmax: dim 1 of shape [16777217] is longer than 2^24")
  raises(function() return long:argmin() end, "argmin: a tensor of 16777217 elements is longer than 2^24")
  raises(function() return long:nonzero() end, "nonzero: shape [16777217] has a dim longer than 2^24")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- rounding, sign

test("floor ceil round trunc: PyTorch's values, round half to even", function()
  local x = lg.tensor{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 1.2, inf, nan}
  same(T(x:round()), {-2, -2, -0.0, 0, 2, 2, -2, 1, inf, nan})
  same(T(x:floor()), {-3, -2, -1, 0, 1, 2, -2, 1, inf, nan})
  same(T(x:ceil()), {-2, -1, -0.0, 1, 2, 3, -1, 2, inf, nan})
  same(T(lg.trunc(x)), {-2, -1, -0.0, 0, 1, 2, -1, 1, inf, nan})
  eq(1 / x:round():totable()[3], -inf, "round(-0.5) is -0")
  same(T(lg.round(lg.tensor{{0.5}, {3.5}})), {{0}, {4}})
end)

test("rounding gradients are zero, as torch", function()
  for _, op in ipairs{"floor", "ceil", "round", "trunc"} do
    local x = lg.tensor{0.3, -1.7, 2.5}
    x.requires_grad = true
    local y = x[op](x)
    assert(y.requires_grad, op .. " stays in the graph")
    y:sum():backward()
    same(T(x.grad), {0, 0, 0}, op)
  end
  -- in a straight-through estimator only the identity path carries gradient
  local x = lg.tensor{0.3, 1.6}
  x.requires_grad = true
  ;(x + (x:round() - x):detach()):sum():backward()
  same(T(x.grad), {1, 1})
end)

test("sign: torch's values (NaN gives 0, as torch.sign on CPU)", function()
  same(T(lg.tensor{-3, -0.0, 0, 2, inf, -inf, nan}:sign()), {-1, 0, 0, 1, 1, -1, 0})
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- creation

test("randint: half-open [low, high), reproducible under manual_seed", function()
  lg.manual_seed(3)
  local a = lg.randint(-2, 3, {40, 50})
  lg.manual_seed(3)
  local b = lg.randint(-2, 3, {40, 50})
  eq(lg.equal(a, b), true)
  eq(a.shape, {40, 50})
  local counts = {}
  for _, row in ipairs(T(a)) do
    for _, v in ipairs(row) do
      assert(v >= -2 and v <= 2 and v == math.floor(v), "value " .. v)
      counts[v] = (counts[v] or 0) + 1
    end
  end
  for v = -2, 2 do assert(counts[v] > 300 and counts[v] < 500, "value " .. v .. " drawn " .. counts[v] .. " times") end
  local c = lg.randint(10, 5)
  eq(c.shape, {5})
  for _, v in ipairs(T(c)) do assert(v >= 0 and v < 10) end
  same(T(lg.randint(4, 5, {3})), {4, 4, 4})
  eq(lg.randint(0, 2, {}).shape, {})
  raises(function() return lg.randint(3, 3, {2}) end, "randint: high 3 must be greater than low 3")
  raises(function() return lg.randint(0, 2.5, {2}) end, "randint: high must be an integer, got 2.5")
  raises(function() return lg.randint(0, 2 ^ 25, {2}) end, "randint: high 33554432 is out of range")
  raises(function() return lg.randint(0, 2, 3, 4) end, "give the shape as a table")
  raises(function() return lg.randint(5) end, "randint: expected (high, shape) or (low, high, shape)")
  raises(function() return lg.randint(0, 2, {-1}) end, "randint: negative size -1")
  raises(function() return lg.randint(0, nan, {2}) end, "randint: high must be an integer")
  raises(function() return lg.randint(-inf, 2, {2}) end, "randint: low must be an integer")
end)

test("one_hot: 1-based labels of any shape -> [..., C]", function()
  same(T(lg.one_hot(lg.tensor{1, 3, 2}, 4)), {{1, 0, 0, 0}, {0, 0, 1, 0}, {0, 1, 0, 0}})
  same(T(lg.one_hot({2, 1})), {{0, 1}, {1, 0}}, "a list, C inferred")
  local h = lg.one_hot(lg.tensor{{1, 2}, {2, 2}}, 3)
  eq(h.shape, {2, 2, 3})
  same(T(h:sum(3)), {{1, 1}, {1, 1}})
  eq(lg.one_hot(lg.tensor(2), 3).shape, {3})
  raises(function() return lg.one_hot(lg.tensor{1, nan}, 3) end,
         "one_hot: label nan at position [2] is not a class number in 1..3")
  raises(function() return lg.one_hot(lg.tensor{{1, 4}}, 3) end, "label 4 at position [1,2]")
  raises(function() return lg.one_hot(lg.tensor{1, 0}, 3) end, "label 0 at position [2]")
  raises(function() return lg.one_hot(lg.tensor{1.5}, 3) end, "label 1.5 at position [1]")
  raises(function() return lg.one_hot(lg.tensor{inf}) end, "label inf at position [1] is not a class number")
  raises(function() return lg.one_hot(lg.zeros(0)) end, "one_hot: cannot infer num_classes from empty labels")
  raises(function() return lg.one_hot({1, "a"}, 2) end, "one_hot: label at position 2 is a string")
  raises(function() return lg.one_hot({1}, 0) end, "one_hot: num_classes 0 is out of range")
end)

test("eye", function()
  same(T(lg.eye(3)), {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}})
  same(T(lg.eye(2, 3)), {{1, 0, 0}, {0, 1, 0}})
  eq(lg.eye(0).shape, {0, 0})
  raises(function() return lg.eye(-1) end, "eye: n -1 is out of range")
  raises(function() return lg.eye(2, 1.5) end, "eye: m must be an integer, got 1.5")
  raises(function() return lg.eye(inf) end, "eye: n must be an integer")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- Tensor == Tensor

test("a == b between two tensors raises; identity stays available", function()
  local a, b = lg.ones(2), lg.ones(2)
  local msg = raises(function() return a == b end, "Tensor == Tensor is not elementwise")
  assert(msg:find("a:eq(b)", 1, true) and msg:find("lg.equal(a, b)", 1, true) and
         msg:find("rawequal(a, b)", 1, true), msg)
  raises(function() return a ~= b end, "Tensor == Tensor is not elementwise")
  assert(a == a and not (a ~= a), "the same tensor is equal without the metamethod")
  assert(a ~= nil and a ~= 1 and a ~= "x" and a ~= {})
  assert(rawequal(a, a) and not rawequal(a, b))
  assert(a ~= io.stdout, "another userdata type compares unequal")
  local t = {[a] = 1, [b] = 2}
  eq(t[a] + t[b], 3, "tensors as table keys")
  eq(lg.equal(a, b), true)
end)

test("a < b, a > b, a <= b and a >= b on tensors raise and name the methods", function()
  local a, b = lg.ones(2), lg.zeros(2)
  local lt = "a < b and a > b on tensors are not elementwise: use a:lt(b) or a:gt(b)"
  local le = "a <= b and a >= b on tensors are not elementwise: use a:le(b) or a:ge(b)"
  raises(function() return a < b end, lt)
  raises(function() return a > b end, lt)
  raises(function() return a < 1 end, lt)
  raises(function() return 0 > a end, lt)
  raises(function() return a <= b end, le)
  raises(function() return a >= 0 end, le)
  eq(a:gt(b):totable(), {1, 1})
end)

-- }----------------------------------------------------------

test("isnan, isinf, isfinite: 0/1 tensors outside the graph", function()
  local x = lg.tensor{1, 0 / 0, math.huge, -math.huge, -0.0}
  x.requires_grad = true
  eq(x:isnan():totable(), {0, 1, 0, 0, 0})
  eq(lg.isinf(x):totable(), {0, 0, 1, 1, 0})
  eq(x:isfinite():totable(), {1, 0, 0, 0, 1})
  eq(x:isnan().requires_grad, false)
end)
