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

test("x[t] with a tensor t raises and names the methods to use (mask and indices look alike)", function()
  local x = lg.tensor{10, 20, 30}
  local mask = x:gt(15)
  raises(function() return x[mask] end,
         "index: x[t] with a tensor t is not supported (a mask and a list of indices look alike): "
         .. "use x:masked_select(mask) or x:index_select(d, index)")
  raises(function() x[mask] = 0 end, "use x:masked_fill(mask, v), lg.where(mask, v, x) or x:index_copy_")
  raises(function() return x[lg.tensor{1, 3}] end, "x[t] with a tensor t is not supported")
  eq(x:totable(), {10, 20, 30})                   -- the refused write changed nothing
  eq(x:masked_select(mask):totable(), {20, 30})   -- what the message points to
  eq(x:index_select(1, lg.tensor{3, 1}):totable(), {30, 10})
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

-- {------------------------------------------------------ in-place arithmetic

test("add_ sub_ mul_ div_ with tensors (broadcast) and numbers return x", function()
  local x = lg.tensor{{1, 2}, {3, 4}}
  eq(rawequal(x:add_(lg.tensor{10, 20}), x), true)
  eq(x:totable(), {{11, 22}, {13, 24}})
  x:add_(lg.tensor{1, 1}, -2)
  eq(x:totable(), {{9, 20}, {11, 22}})
  x:sub_(1)
  eq(x:totable(), {{8, 19}, {10, 21}})
  x:sub_(lg.tensor{{1}, {2}}, 3)
  eq(x:totable(), {{5, 16}, {4, 15}})
  x:mul_(lg.tensor{2, 0.5})
  eq(x:totable(), {{10, 8}, {8, 7.5}})
  x:div_(2)
  eq(x:totable(), {{5, 4}, {4, 3.75}})
  x:div_(lg.tensor{{5}, {4}})
  near(x:totable(), {{1, 0.8}, {1, 0.9375}})
  local z = lg.tensor{1, -1}
  z:div_(0)
  eq(z:totable(), {math.huge, -math.huge})
  -- through views: a strided column
  local m = lg.zeros(3, 2)
  m[{{}, 2}]:add_(lg.tensor{1, 2, 3})
  eq(m:totable(), {{0, 1}, {0, 2}, {0, 3}})
  m:t():mul_(lg.tensor{{2}, {3}})
  eq(m:totable(), {{0, 3}, {0, 6}, {0, 9}})
  raises(function() m:add_(lg.ones(2, 2)) end,
         "add_: shape [2,2] cannot broadcast to the destination's shape [3,2]")
  raises(function() m:sub_(lg.ones(4)) end, "sub_: shape [4] cannot broadcast")
  raises(function() m:mul_(lg.ones(1, 3, 2)) end, "mul_: shape [1,3,2] cannot broadcast")
  raises(function() m:add_("x") end, "tensor or number expected")
  raises(function() m:mul_() end, "mul_: needs an operand")
  raises(function() m:mul_(2, 3) end, "mul_: takes one operand")
end)

test("fill_, zero_, clamp_ and lerp_ in place", function()
  local x = lg.tensor{-2, 0.5, 3, 0 / 0}
  x:clamp_(-1, 1)
  local t = x:totable()
  eq({t[1], t[2], t[3]}, {-1, 0.5, 1})
  eq(t[4] ~= t[4], true)                               -- NaN stays NaN
  x:clamp_(nil, 0)
  eq(x[1]:item(), -1)
  eq(x[2]:item(), 0)
  raises(function() x:clamp_() end, "clamp_: give at least one of min and max")
  raises(function() x:clamp_(2, 1) end, "clamp_: min 2 is greater than max 1")
  local a = lg.tensor{0, 10, 100}
  a:lerp_(lg.tensor{10, 20, 300}, 0.25)
  eq(a:totable(), {2.5, 12.5, 150})
  a:lerp_(lg.tensor{1, 2, 3}, 1)                       -- exact at 1
  eq(a:totable(), {1, 2, 3})
  a:lerp_(lg.tensor{3, 4, 5}, lg.tensor{0, 0.5, 1})    -- tensor weight
  eq(a:totable(), {1, 3, 5})
  a:lerp_(7, 0.5)
  eq(a:totable(), {4, 5, 6})
  raises(function() a:lerp_(lg.ones(2), 0.5) end, "lerp_: shape [2] cannot broadcast")
  raises(function() a:lerp_(lg.ones(3)) end, "lerp_: needs an end and a weight")
  a:fill_(2)
  eq(a:totable(), {2, 2, 2})
  a:zero_()
  eq(a:totable(), {0, 0, 0})
end)

test("in-place ops refuse graphs, and the EMA idiom works under no_grad", function()
  local p = leaf{1, 2}
  for _, call in ipairs{function() p:add_(1) end, function() p:mul_(2) end,
                        function() p:lerp_(lg.zeros(2), 0.5) end,
                        function() p:clamp_(0, 1) end} do
    raises(call, "a leaf tensor that requires grad cannot be modified in place; use lg.no_grad")
  end
  local y = p * 2
  raises(function() y:sub_(1) end, "sub_: a tensor computed by 'mul'")
  local acc = lg.zeros(2)
  raises(function() acc:add_(y) end, "add_: the operand requires grad")
  acc:add_(y:detach())
  eq(acc:totable(), {2, 4})
  -- exponential moving average of a generator's weights
  lg.manual_seed(1)
  local G, ema = lg.nn.Linear(3, 2), lg.nn.Linear(3, 2)
  local params, avg = G:parameters(), ema:parameters()
  local before = {}
  for i, q in ipairs(avg) do before[i] = q:clone():detach() end
  lg.no_grad(function()
    for i, q in ipairs(avg) do q:lerp_(params[i], 0.001) end
  end)
  for i, q in ipairs(avg) do
    local want = (before[i] + (params[i]:detach() - before[i]) * 0.001):totable()
    near(q:detach():totable(), want, 1e-6)
    eq(q.requires_grad, true)
  end
  -- grad mode is back on afterwards: the refusal applies again
  raises(function() avg[1]:lerp_(params[1], 0.5) end, "lerp_: a leaf tensor that requires grad")
end)

test("every in-place op bumps the version: backward refuses values changed since", function()
  for name, write in pairs{
    add_ = function(t) t:add_(1) end, sub_ = function(t) t:sub_(1, 2) end,
    mul_ = function(t) t:mul_(2) end, div_ = function(t) t:div_(2) end,
    lerp_ = function(t) t:lerp_(lg.zeros(2), 0.5) end,
    clamp_ = function(t) t:clamp_(0, 1) end,
    index = function(t) t[1] = 0 end,
    scatter_ = function(t) t:scatter_(1, lg.tensor{1}, lg.tensor{0}) end,
    scatter_add_ = function(t) t:scatter_add_(1, lg.tensor{2}, lg.tensor{1}) end,
    index_copy_ = function(t) t:index_copy_(1, lg.tensor{1}, lg.tensor{0}) end,
    index_add_ = function(t) t:index_add_(1, lg.tensor{1}, lg.tensor{5}) end,
  } do
    local x = leaf{0.1, 0.2}
    local y = x:exp()
    write(y:detach())
    raises(function() y:sum():backward() end, STALE)
    eq(x.grad, nil, name)
  end
end)

test("aliasing: the result is the out-of-place op's", function()
  local x = lg.tensor{{1, 2}, {3, 4}}
  x:add_(x)
  eq(x:totable(), {{2, 4}, {6, 8}})
  x:add_(x:t())                                        -- overlaps at another geometry
  eq(x:totable(), {{4, 10}, {10, 16}})
  local y = lg.tensor{{1, 2}, {3, 4}}
  y:mul_(y[1])                                         -- a broadcast row of y itself
  eq(y:totable(), {{1, 4}, {3, 8}})
  local v = lg.arange(5)
  v[{{2, 5}}]:add_(v[{{1, 4}}])                        -- shifted overlap
  eq(v:totable(), {0, 1, 3, 5, 7})
  local w = lg.arange(4)
  w[{{1, 3}}] = w[{{2, 4}}]                            -- copy with overlap
  eq(w:totable(), {1, 2, 3, 3})
  local l = lg.tensor{0, 0.5}
  l:lerp_(lg.tensor{2, 2}, l)                          -- the weight is l itself
  eq(l:totable(), {0, 1.25})
  local r = lg.tensor{1, 2}
  r:lerp_(lg.tensor{5, 6}, r[{{1}}])                   -- weight a broadcast view of r
  eq(r:totable(), {5, 6})                              -- (22 if read after the writes)
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ scatter, gather

test("scatter_, scatter_add_ with 1-based indices; gather is their read", function()
  local x = lg.zeros(2, 4)
  x:scatter_(2, lg.tensor{{1, 3}, {4, 2}}, lg.tensor{{5, 6}, {7, 8}})
  eq(x:totable(), {{5, 0, 6, 0}, {0, 8, 0, 7}})
  x:scatter_(2, lg.tensor{{2}, {1}}, 9)
  eq(x:totable(), {{5, 9, 6, 0}, {9, 8, 0, 7}})
  local c = lg.zeros(3)
  c:scatter_add_(1, lg.tensor{1, 3, 3, 3}, lg.ones(4))
  eq(c:totable(), {1, 0, 3})
  -- one-hot rows, along dim 1 with a larger source
  local o = lg.zeros(3, 2)
  o:scatter_(1, lg.tensor{{3, 1}}, lg.tensor{{1, 2}, {3, 4}})
  eq(o:totable(), {{0, 2}, {0, 0}, {1, 0}})
  local g = lg.tensor{{1, 2, 3}, {4, 5, 6}}:gather(2, lg.tensor{{3, 1}, {2, 2}})
  eq(g:totable(), {{3, 1}, {5, 5}})
  eq(lg.gather(lg.tensor{10, 20, 30}, 1, lg.tensor{3, 3, 1}):totable(), {30, 30, 10})
  -- gather is differentiable in x
  local p = leaf{{1, 2, 3}, {4, 5, 6}}
  p:gather(2, lg.tensor{{3, 3}, {1, 2}}):sum():backward()
  eq(p.grad:totable(), {{0, 0, 2}, {1, 1, 0}})
end)

test("scatter_ and gather validate indices and shapes with 1-based messages", function()
  local x = lg.zeros(2, 3)
  raises(function() x:scatter_(2, lg.tensor{{4}}, lg.tensor{{1}}) end,
         "scatter_: index 4 at position [1,1] out of range 1..3 for dim 2 of shape [2,3]")
  raises(function() x:scatter_(2, lg.tensor{{1, 0 / 0}}, lg.tensor{{1, 1}}) end,
         "scatter_: index nan at position [1,2] out of range 1..3")
  raises(function() x:scatter_add_(1, lg.tensor{{1.5}}, lg.tensor{{1}}) end,
         "scatter_add_: index 1.5 at position [1,1] out of range 1..2 for dim 1")
  raises(function() x:scatter_(1, lg.tensor{{0}}, lg.tensor{{1}}) end,
         "scatter_: index 0 at position [1,1] out of range 1..2")
  raises(function() x:scatter_(2, lg.tensor{1}, lg.tensor{1}) end,
         "scatter_: index of shape [1] must have the 2 dims of shape [2,3]")
  raises(function() x:scatter_(2, lg.ones(3, 1), lg.ones(3, 1)) end,
         "scatter_: index of shape [3,1] is larger than shape [2,3] on dim 1")
  raises(function() x:scatter_(2, lg.ones(1, 2), lg.ones(1, 1)) end,
         "scatter_: index of shape [1,2] is larger than the source of shape [1,1] on dim 2")
  raises(function() x:scatter_(3, lg.ones(1, 1), lg.ones(1, 1)) end,
         "scatter_: dim 3 out of range for shape [2,3]")
  raises(function() x:gather(2, lg.tensor{{4}}) end,
         "gather: index 4 at position [1,1] out of range 1..3 for dim 2 of shape [2,3]")
  eq(x:totable(), {{0, 0, 0}, {0, 0, 0}}, "a refused write changes nothing")
  local p = leaf{1, 2}
  raises(function() p:scatter_(1, lg.tensor{1}, lg.tensor{5}) end,
         "scatter_: a leaf tensor that requires grad")
end)

test("index_copy_ and index_add_ write whole slices at 1-based positions", function()
  local x = lg.zeros(3, 2)
  x:index_copy_(1, lg.tensor{3, 1}, lg.tensor{{1, 2}, {3, 4}})
  eq(x:totable(), {{3, 4}, {0, 0}, {1, 2}})
  x:index_add_(1, lg.tensor{1, 1}, lg.tensor{{1, 1}, {10, 10}})
  eq(x:totable(), {{14, 15}, {0, 0}, {1, 2}})
  x:index_add_(2, lg.tensor{2}, lg.tensor{{1}, {2}, {3}})
  eq(x:totable(), {{14, 16}, {0, 2}, {1, 5}})
  -- source overlapping the destination: read before writing
  local y = lg.tensor{{1, 2}, {3, 4}}
  y:index_copy_(1, lg.tensor{2, 1}, y)
  eq(y:totable(), {{3, 4}, {1, 2}})
  raises(function() x:index_copy_(1, lg.tensor{4}, lg.ones(1, 2)) end,
         "index_copy_: index 4 at position [1] out of range 1..3 for dim 1 of shape [3,2]")
  raises(function() x:index_add_(1, lg.tensor{{1}}, lg.ones(1, 2)) end,
         "index_add_: index must be 1-D, got shape [1,1]")
  raises(function() x:index_copy_(1, lg.tensor{1}, lg.ones(1, 3)) end,
         "index_copy_: source of shape [1,3] does not fit shape [3,2] with 1 indices along dim 1")
  raises(function() x:index_copy_(1, lg.tensor{1, 2}, lg.ones(1, 2)) end,
         "index_copy_: source of shape [1,2] does not fit")
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ hostile finalizers

local FREED = "attempt to use a freed tensor"
local function close_now(t) local v <close> = t end
-- a garbage object whose finalizer calls fn (made on a coroutine's stack, so
-- that no register of ours keeps it alive)
local function on_gc(fn) coroutine.wrap(function() setmetatable({}, {__gc = fn}) end)() end

local function show(ok, r)
  if not ok then return "error" end
  if not lg.is_tensor(r) then return tostring(r) end
  local fine, t = pcall(function() return r:totable() end)
  if not fine then return tostring(t):find(FREED, 1, true) and "freed" or tostring(t) end
  return table.concat(lg.tensor(t):view(-1):totable(), ",")
end

test("a finalizer freeing an argument inside an indexing call: an error or the right result", function()
  local function m() return lg.tensor{{1, 2}, {3, 4}} end
  local cases = {
    {"x[i]", function(a) return a[2] end, m},
    {"x[{}]", function(a) return a[{{}, {2}}] end, m},
    {"x[i] = t", function(a, b) a[1] = b; return a end, m, function() return lg.tensor{7, 8} end},
    {"x[{}] = n", function(a) a[{{}, 2}] = 5; return a end, m},
    {"select", function(a) return a:select(2, -1) end, m},
    {"add_", function(a) return a:add_(1, 2) end, m},
    {"mul_", function(a) return a:mul_(3) end, m},
    {"lerp_", function(a, b) return a:lerp_(b, 0.25) end, m, function() return lg.zeros(2) end},
    {"scatter_", function(a, i, s) return a:scatter_(2, i, s) end, m,
     function() return lg.tensor{{2}, {1}} end, function() return lg.tensor{{9}, {8}} end},
    {"scatter_ n", function(a, i) return a:scatter_(1, i, 6) end, m,
     function() return lg.tensor{{2, 1}} end},
    {"index_add_", function(a, i, s) return a:index_add_(1, i, s) end, m,
     function() return lg.tensor{2} end, function() return lg.tensor{{1, 1}} end},
    {"gather", function(a, i) return a:gather(2, i) end, m, function() return lg.tensor{{2}, {2}} end},
  }
  for _, c in ipairs(cases) do
    local name, f = c[1], c[2]
    local function args() local t = {} for k = 3, #c do t[#t + 1] = c[k]() end return t end
    local ref = args()
    local want = show(pcall(f, table.unpack(ref)))
    for v = 1, #c - 2 do
      local fired = 0
      collectgarbage("incremental", 1, 1000, 20)     -- a full cycle at every allocation
      collectgarbage("collect")
      local ok, err = pcall(function()
        for _ = 1, 3 do
          local a, inside = args(), false
          do
            local victim = a[v]
            on_gc(function() if inside then fired = fired + 1 end; close_now(victim) end)
          end
          inside = true
          local fine, r = pcall(f, table.unpack(a))
          inside = false
          if not fine then
            if not tostring(r):find(FREED, 1, true) then error(name .. ": " .. tostring(r)) end
          else
            local got = show(true, r)
            if got ~= "freed" then eq(got, want, name) end
          end
        end
      end)
      collectgarbage("incremental", 200, 100, 13)
      collectgarbage("collect")
      if not ok then error(err, 0) end
      assert(fired > 0, name .. ": the finalizer never ran inside the call")
    end
  end
end)

-- }------------------------------------------------------

test("scatter_add and index_add out of place: values and gradients into x and src", function()
  local x = lg.zeros(2, 3)
  x.requires_grad = true
  local src = lg.tensor{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}   -- larger than the index: its top part is used
  src.requires_grad = true
  local idx = lg.tensor{{2, 1, 2}, {1, 1, 1}}
  local y = x:scatter_add(1, idx, src)
  eq(y:totable(), {{4, 7, 6}, {1, 0, 3}})
  local w = lg.tensor{{1, 10, 100}, {1000, 1, 1}}
  ;(y * w):sum():backward()
  eq(x.grad:totable(), w:totable())
  eq(src.grad:totable(), {{1000, 10, 1}, {1, 10, 100}, {0, 0, 0}})
  eq(lg.scatter_add(lg.zeros(4), 1, lg.tensor{2, 2, 4}, lg.ones(3)):totable(), {0, 2, 0, 1})

  local rows = lg.tensor{{1, 1}, {2, 2}, {3, 3}}
  rows.requires_grad = true
  local r = lg.ones(3, 2):index_add(1, lg.tensor{1, 3, 1}, rows)
  eq(r:totable(), {{5, 5}, {1, 1}, {3, 3}})
  ;(r * lg.tensor{{1, 2}, {3, 4}, {5, 6}}):sum():backward()
  eq(rows.grad:totable(), {{1, 2}, {5, 6}, {1, 2}})
  eq(lg.index_add(lg.zeros(2, 3), 2, lg.tensor{3, 1}, lg.ones(2, 2)):totable(), {{1, 0, 1}, {1, 0, 1}})
  raises(function() lg.index_add(lg.zeros(3, 2), 1, lg.tensor{1, 4}, lg.ones(2, 2)) end,
         "index_add: index 4 at position [2] out of range 1..3")
  raises(function() lg.index_add(lg.zeros(3, 2), 1, lg.tensor{1}, lg.ones(2, 2)) end,
         "index_add: source of shape [2,2] does not fit")
  raises(function() x:scatter_add(1, lg.tensor{{0, 1, 1}}, src) end, "scatter_add: index 0")
end)
