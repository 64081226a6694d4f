-- Torch7-style indexing (x[i], x[{...}], select) and in-place arithmetic
-- (add_ sub_ mul_ div_ lerp_ clamp_, scatter_ index_copy_ ...): values,
-- views sharing storage, gradients against finite differences, the storage
-- version that makes backward refuse overwritten values, aliasing, and
-- 1-based error messages.
local STALE = "modified by an in-place operation"

local function leaf(t)
  local x = lg.tensor(t)
  x.requires_grad = true
  return x
end

-- central differences of the scalar f() in every element of x (float64 sums
-- over float32 values: a step of 1e-2 keeps the rounding error small)
local function numgrad(f, x)
  local flat, g = x:view(-1), {}
  for i = 1, flat:numel() do
    local v = flat[i]:item()
    lg.no_grad(function() flat[i] = v + 1e-2 end)
    local up = f():item()
    lg.no_grad(function() flat[i] = v - 1e-2 end)
    local down = f():item()
    lg.no_grad(function() flat[i] = v end)
    g[i] = (up - down) / 2e-2
  end
  return g
end

-- {------------------------------------------------------ reading

test("x[i] is the i-th slice along dim 1; negative counts from the end", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  eq(x[1]:totable(), {1, 2, 3})
  eq(x[2]:totable(), {4, 5, 6})
  eq(x[-1]:totable(), {4, 5, 6})
  eq(x[-2]:totable(), {1, 2, 3})
  eq(x[2].shape, {3})
  local e = x[2][3]                        -- 1-D: a 0-dim tensor, as PyTorch
  eq(e:dim(), 0)
  eq(e:item(), 6)
  eq(x[1][-1]:item(), 3)
  -- methods and properties still resolve through __index
  eq(x:size(2), 3)
  eq(x.ndim, 2)
  eq(x.requires_grad, false)
  eq(x.nosuchfield, nil)
  eq(x[true], nil)
end)

test("x[i] out of range, fractions, NaN and 0-dim tensors raise with 1-based ranges", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  raises(function() return x[3] end,
         "index: index 3 out of range for dim 1 of size 2 in shape [2,3] (valid: 1..2 or -2..-1)")
  raises(function() return x[0] end, "index: index 0 out of range for dim 1 of size 2")
  raises(function() return x[-3] end, "index: index -3 out of range for dim 1")
  raises(function() return x[1.5] end, "index: index must be an integer, got 1.5")
  raises(function() return x[0 / 0] end, "index: index must be an integer, got")
  raises(function() return x[math.huge] end, "index: index must be an integer, got inf")
  raises(function() return lg.tensor(3)[1] end, "index: a 0-dim tensor has no dims to index")
  raises(function() return lg.zeros(0, 2)[1] end,
         "index: index 1 out of range for dim 1 of shape [0,2] (the dim is empty)")
end)

test("select(d, i) removes dim d; errors speak 1-based", function()
  local x = lg.arange(24):view(2, 3, 4)
  local s = x:select(2, 3)
  eq(s.shape, {2, 4})
  eq(s:totable(), {{8, 9, 10, 11}, {20, 21, 22, 23}})
  eq(x:select(3, -1):totable(), {{3, 7, 11}, {15, 19, 23}})
  eq(lg.select(x, 1, 2):totable(), x[2]:totable())
  raises(function() return x:select(2, 4) end,
         "select: index 4 out of range for dim 2 of size 3 in shape [2,3,4] (valid: 1..3 or -3..-1)")
  raises(function() return x:select(4, 1) end, "select: dim 4 out of range for shape [2,3,4]")
end)

test("table indexing: integers select, {a, b} narrows inclusively, {} keeps a dim", function()
  local x = lg.arange(24):view(2, 3, 4)
  eq(x[{2, 3, 4}]:item(), 23)
  eq(x[{2, 3, 4}]:dim(), 0)
  eq(x[{{}, 2}]:totable(), {{4, 5, 6, 7}, {16, 17, 18, 19}})
  eq(x[{{}, 2}].shape, {2, 4})
  eq(x[{1, {2, 3}, {-2, -1}}]:totable(), {{6, 7}, {10, 11}})
  eq(x[{{2}, 1, 1}]:totable(), {12})                 -- {i} keeps the dim
  eq(x[{{1, -1}}].shape, {2, 3, 4})
  eq(x[{}].shape, {2, 3, 4})
  eq(x[{2}]:totable(), x[2]:totable())
  local s = lg.tensor(5)
  eq(s[{}]:item(), 5)                                 -- {} on a 0-dim tensor
end)

test("table indexing errors: reversed ranges, too many entries, bad entries", function()
  local x = lg.arange(6):view(2, 3)
  raises(function() return x[{{3, 2}}] end, "index: range start 3 out of range for dim 1 of size 2")
  raises(function() return x[{{}, {3, 2}}] end,
         "index: range {3, 2} is reversed for dim 2 of size 3")
  raises(function() return x[{1, 2, 3}] end, "index: 3 entries for shape [2,3], which has 2 dims")
  raises(function() return x[{{}, 4}] end,
         "index: index 4 out of range for dim 2 of size 3 in shape [2,3] (valid: 1..3 or -3..-1)")
  raises(function() return x[{{}, {1, 4}}] end, "index: range end 4 out of range for dim 2")
  raises(function() return x[{{1, 2, 3}}] end, "index: the range for dim 1 has 3 entries")
  raises(function() return x[{"a"}] end,
         "index: entry 1 must be an integer, a {first, last} range or {}, got string")
  raises(function() return x[{{1.5, 2}}] end, "index: range start must be an integer, got 1.5")
  raises(function() return x[{{1, 0 / 0}}] end, "index: range end must be an integer, got")
end)

test("index views share storage with x", function()
  local x = lg.zeros(2, 3)
  local row, col = x[2], x[{{}, 3}]
  row:fill_(1)
  eq(x:totable(), {{0, 0, 0}, {1, 1, 1}})
  col:fill_(7)
  eq(x:totable(), {{0, 0, 7}, {1, 1, 7}})
  x[1][2]:fill_(5)
  eq(x[1]:totable(), {0, 5, 7})
end)

test("gradients through x[i], x[{...}] and select match finite differences", function()
  lg.manual_seed(3)
  local x = lg.randn(3, 4)
  x.requires_grad = true
  local w = lg.randn(2)
  local function f()
    local a = (x[{{2, 3}, -2}]:tanh() * w):sum()
    local b = x[1]:pow(2):sum() + x:select(2, 1):sin():sum() + x[{3, 4}] * 3
    return a + b
  end
  f():backward()
  near(x.grad:view(-1):totable(), numgrad(f, x), 2e-2)
  -- second order through the views: d/dx sum(grad^2) of f = x[1]^2 summed
  local y = lg.randn(2, 3)
  y.requires_grad = true
  local g = lg.grad(y[2]:pow(3):sum(), y, {create_graph = true})
  local gg = lg.grad(g[{2, {}}]:sum(), y)
  near(gg:totable(), {{0, 0, 0}, (y[2] * 6):detach():totable()}, 1e-4)
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ writing

test("x[i] = v and x[{...}] = v copy a tensor (broadcast) or a number into the view", function()
  local x = lg.zeros(2, 3)
  x[1] = 4
  eq(x:totable(), {{4, 4, 4}, {0, 0, 0}})
  x[2] = lg.tensor{1, 2, 3}
  eq(x:totable(), {{4, 4, 4}, {1, 2, 3}})
  x[{{}, 2}] = lg.tensor{9, 8}
  eq(x:totable(), {{4, 9, 4}, {1, 8, 3}})
  x[{{1, 2}, {2, 3}}] = lg.tensor{{-1}, {-2}}          -- broadcast [2,1] to [2,2]
  eq(x:totable(), {{4, -1, -1}, {1, -2, -2}})
  x[{2, 1}] = 0.5
  eq(x[2][1]:item(), 0.5)
  x[-1][-1] = 6                                        -- through a view of a view
  eq(x[2]:totable(), {0.5, -2, 6})
  raises(function() x[1] = lg.tensor{1, 2} end, "copy: cannot copy shape [2] into shape [3]")
  raises(function() x[1] = "a" end, "index: the assigned value must be a tensor or a number, got string")
  raises(function() x[3] = 1 end, "index: index 3 out of range for dim 1 of size 2")
  raises(function() x[1] = 1e300 end, "number out of float range")
  raises(function() x.foo = 1 end, "tensor: cannot set field 'foo'")
end)

test("indexed writes refuse graphs as copy_ does, and bump the storage version", function()
  local p = leaf{1, 2, 3}
  raises(function() p[1] = 0 end, "indexed assignment: a leaf tensor that requires grad "
         .. "cannot be modified in place; use lg.no_grad")
  lg.no_grad(function() p[1] = 0 end)
  eq(p:detach():totable(), {0, 2, 3})
  local x = leaf{1, 2}
  local y = x:exp()
  raises(function() y[1] = 5 end, "indexed assignment: a tensor computed by 'exp'")
  -- through an alias: caught at backward by the version counter
  local alias = y:detach()
  alias[1] = 5
  raises(function() y:sum():backward() end, "exp backward: a tensor saved for backward was "
         .. STALE)
  -- the same under no_grad
  local y2 = x:exp()
  lg.no_grad(function() y2[{{2, 2}}] = 0 end)
  raises(function() y2:sum():backward() end, STALE)
  -- a value that requires grad would lose its gradient: refused
  local z = lg.zeros(2)
  raises(function() z[1] = x[1] end, "indexed assignment: the operand requires grad")
  z[1] = x[1]:detach()
  eq(z:totable(), {1, 0})
end)

test("an expanded tensor cannot be written through an index", function()
  local e = lg.tensor{1, 2}:view(1, 2):expand(3, 2)
  raises(function() e[{{}, 1}] = 0 end,
         "indexed assignment: cannot write into the expanded tensor of shape [3]")
  raises(function() e:add_(1) end, "add_: cannot write into the expanded tensor of shape [3,2]")
end)

-- }------------------------------------------------------
