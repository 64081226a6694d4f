-- stack, chunk, split, tile, flip, logsumexp, linspace, pad, var, std, cumsum, sort, topk from Lua.  Expected
-- values are worked out by hand with PyTorch's rules; dims and positions
-- are 1-based (negative from the end) as everywhere in the API.
local lg = require "luagan"

local nan, inf = 0 / 0, math.huge

local function T(t) return t:totable() end
local function close_now(t) local v <close> = t end
local function hostile_opts(hook, values)
  return setmetatable({}, {__index = function(_, k) hook(); return values and values[k] end})
end

-- d/dx of sum(f(x) .* w) by central differences over x's flat values
local function numgrad(f, x, w, h)
  h = h or 1e-2
  local vals, shape, g = x:reshape(-1):totable(), x.shape, {}
  local function loss(v) return (f(lg.tensor(v):reshape(shape)) * w):sum():item() end
  for i = 1, #vals do
    local p, m = {table.unpack(vals)}, {table.unpack(vals)}
    p[i], m[i] = p[i] + h, m[i] - h
    g[i] = (loss(p) - loss(m)) / (2 * h)
  end
  return g
end

-- analytic gradient of sum(f(x) .* w), as a flat list
local function analytic(f, x, w)
  local l = x:detach()
  l.requires_grad = true
  return lg.grad((f(l) * w):sum(), l):reshape(-1):totable()
end

local function gradcheck(f, x, msg)
  local w = lg.randn(table.unpack(f(x).shape))
  near(analytic(f, x, w), numgrad(f, x, w), 2e-2, msg)
end

-- second order: the gradient of sum(grad(x) .* w2), where grad(x) is the
-- first-order gradient with create_graph, against differences of it
local function gradgradcheck(f, x, msg)
  local w, w2 = lg.randn(table.unpack(f(x).shape)), lg.randn(table.unpack(x.shape))
  local function first(v, graph)
    local l = v:detach()
    l.requires_grad = true
    return lg.grad((f(l) * w):sum(), l, {create_graph = graph}), l
  end
  local g, l = first(x, true)
  local an = lg.grad((g * w2):sum(), l):reshape(-1):totable()
  local num = numgrad(function(v) return first(v, false) end, x, w2)
  near(an, num, 3e-2, msg)
end

-- {---------------------------------------------------------- stack, chunk, split

test("stack: a new dim at d, negative d, errors count from 1", function()
  local a, b = lg.tensor{1, 2}, lg.tensor{3, 4}
  eq(T(lg.stack({a, b})), {{1, 2}, {3, 4}})
  eq(T(lg.stack({a, b}, 2)), {{1, 3}, {2, 4}})
  eq(T(lg.stack({a, b}, -1)), {{1, 3}, {2, 4}})
  eq(lg.stack({lg.zeros(0, 3), lg.zeros(0, 3)}, 2).shape, {0, 2, 3})
  raises(function() return lg.stack({a, lg.zeros(3)}) end, "stack: tensor 2 has shape [3], tensor 1 has [2]")
  raises(function() return lg.stack({a, b}, 3) end, "stack: dim 3 out of range for shape [2] (valid: 1..2")
  raises(function() return lg.stack({}) end, "needs at least one tensor")
  raises(function() return lg.stack({a, 5}) end, "element 2 of the list is a number")
end)

test("chunk: ceil-sized pieces, possibly fewer than n, as views", function()
  local x = lg.arange(1, 6)   -- 1..5
  local sizes = {}
  for i, p in ipairs(x:chunk(3)) do sizes[i] = p.shape[1] end
  eq(sizes, {2, 2, 1})
  local parts = lg.arange(1, 7):chunk(4)   -- 6 into 4: 2, 2, 2
  eq(#parts, 3)
  eq(T(parts[3]), {5, 6})
  local m = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  local c = lg.chunk(m, 2, -1)
  eq(T(c[1]), {{1, 2}, {4, 5}})
  eq(T(c[2]), {{3}, {6}})
  eq(#lg.zeros(0, 2):chunk(3), 3)   -- an empty dim: n empty pieces
  raises(function() return x:chunk(0) end, "chunk: n 0 is out of range")
  raises(function() return x:chunk(2, 2) end, "chunk: dim 2 out of range for shape [5]")
  raises(function() return lg.tensor(1):chunk(2) end, "cannot cut a 0-dim tensor")
end)

test("split: an int size or a list of sizes; sizes must cover the dim", function()
  local x = lg.tensor{{1, 2, 3, 4, 5}}
  local p = x:split(2, 2)
  eq(#p, 3)
  eq(T(p[3]), {{5}})
  local q = x:split({1, 4}, -1)
  eq(T(q[1]), {{1}})
  eq(T(q[2]), {{2, 3, 4, 5}})
  eq(#lg.zeros(0):split(0), 1)
  raises(function() return x:split({1, 2}, 2) end, "split: sizes summing to 3 do not cover dim 2 of size 5")
  raises(function() return x:split(0, 2) end, "split: size 0 can only split a dim of size 0, dim 2")
  raises(function() return x:split({2, -1, 4}, 2) end, "split: size -1 is out of range")
  raises(function() return x:split({}, 2) end, "the list of sizes is empty")
  raises(function() return x:split("2") end, "number or list of sizes")
end)

test("stack, chunk and split are differentiable (views share the gradient)", function()
  local x = lg.randn(5, 3)
  gradcheck(function(v) return lg.stack(v:chunk(2), 1) * 1 end, lg.randn(4, 3), "chunk+stack")
  gradcheck(function(v)
    local a = v:split({1, 2}, 2)
    return lg.stack({a[1]:sum(2), a[2]:sum(2)}, 2) * a[1]
  end, x, "split")
  local l = x:detach()
  l.requires_grad = true
  local parts = l:split(2)
  ;(parts[1]:sum() + parts[3]:sum() * 3):backward()
  eq(T(l.grad:sum(2):reshape(-1)), {3, 3, 0, 0, 9})
end)

test("tile: PyTorch's repeat, fewer or more repeats than dims, always a copy", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  eq(T(x:tile(2, 1)), {{1, 2, 3}, {4, 5, 6}, {1, 2, 3}, {4, 5, 6}})
  eq(T(x:tile(1, 2)), {{1, 2, 3, 1, 2, 3}, {4, 5, 6, 4, 5, 6}})
  eq(T(x:tile{2}), T(x:tile(1, 2)))                        -- fewer: the last dims
  eq(T(lg.tensor{1, 2}:tile(2, 2)), {{1, 2, 1, 2}, {1, 2, 1, 2}})   -- more: leading dims
  eq(lg.tile(x, 3, 1, 1).shape, {3, 2, 3})
  eq(x:tile(0, 2).shape, {0, 6})
  local y = x:tile(1, 1)
  y[{1, 1}] = 9                                          -- a copy, not a view
  eq(T(x)[1][1], 1)
  raises(function() return x:tile() end, "tile: give the repeats, one per dim")
  raises(function() return x:tile(-1, 1) end, "tile: negative size -1")
  raises(function() return x:tile(2, 1.5) end, "bad argument #2 to 'tile'")
  raises(function() return x:tile(1, 1, 1, 1, 1, 1, 1, 1, 1) end, "at most 8")
  raises(function() return x:tile(2 ^ 20, 2 ^ 20) end, "too large")
end)

test("tile: the gradient sums the copies (finite differences, second order)", function()
  eq(T((function()
    local l = lg.tensor{1, 2}
    l.requires_grad = true
    ;(l:tile(3) * lg.tensor{1, 2, 3, 4, 5, 6}):sum():backward()
    return l.grad
  end)()), {9, 12})
  gradcheck(function(v) return v:tile(2, 3) end, lg.randn(2, 3), "tile")
  gradcheck(function(v) return v:tile(2, 1, 2) end, lg.randn(2, 3), "tile new dim")
  gradgradcheck(function(v) return v:tile(2, 1) * v:tile(2, 1) end, lg.randn(2, 2), "tile second order")
end)

test("flip, logsumexp and linspace: values, gradients, errors", function()
  local x = lg.arange(6):view(2, 3)
  eq(T(x:flip(2)), {{2, 1, 0}, {5, 4, 3}})
  eq(T(lg.flip(x, {1, -1})), {{5, 4, 3}, {2, 1, 0}})
  raises(function() return x:flip() end, "flip: give the dims to flip")
  raises(function() return x:flip(2, -1) end, "flip: dim 2 is given twice")
  raises(function() return x:flip(3) end, "flip: dim 3 out of range")
  raises(function() return x:flip(1, 1, 1, 1, 1, 1, 1, 1, 1) end, "flip: 9 dims for a 2-dim tensor")
  raises(function() return x:flip(setmetatable({}, {__len = function() return 2 end})) end,
         "flip: give the dims to flip")   -- the list is read raw
  gradcheck(function(v) return v:flip(1, 2) * v end, lg.randn(2, 3), "flip")
  near(T(lg.tensor{{1e4, 1e4}, {0, math.log(3)}}:logsumexp(2)), {1e4 + math.log(2), math.log(4)}, 1e-3)
  eq(lg.randn(2, 3, 4):logsumexp(2, true).shape, {2, 1, 4})
  gradcheck(function(v) return v:logsumexp(2) end, lg.randn(3, 4), "logsumexp")
  gradgradcheck(function(v) return v:logsumexp(1) end, lg.randn(3, 2), "logsumexp second order")
  raises(function() return x:logsumexp(3) end, "logsumexp: dim 3 out of range")
  near(T(lg.linspace(0, 1, 5)), {0, 0.25, 0.5, 0.75, 1}, 1e-7)
  eq(T(lg.linspace(2, 7, 1)), {2})
  eq(lg.linspace(0, 1, 0).shape, {0})
  raises(function() return lg.linspace(0, 1, -1) end, "linspace: steps -1 is out of range")
  raises(function() return lg.linspace(0, inf, 3) end, "linspace: start and stop must be finite")
end)

-- {---------------------------------------------------------- pad

test("pad: F.pad order, constant/reflect/replicate, negative pads crop", function()
  local x = lg.tensor{{1, 2, 3}}
  eq(T(lg.pad(x, {2, 1}, {value = 9})), {{9, 9, 1, 2, 3, 9}})
  eq(T(x:pad({2, 2}, {mode = "reflect"})), {{3, 2, 1, 2, 3, 2, 1}})
  eq(T(lg.pad(x, {2, 1}, {mode = "replicate"})), {{1, 1, 1, 2, 3, 3}})
  eq(T(lg.pad(x, {-1, 0})), {{2, 3}})
  local y = lg.tensor{{1, 2}, {3, 4}}
  eq(T(lg.pad(y, {1, 0, 0, 1})), {{0, 1, 2}, {0, 3, 4}, {0, 0, 0}})
  eq(T(lg.pad(y, {0, 1, 1, 0}, {mode = "reflect"})), {{3, 4, 3}, {1, 2, 1}, {3, 4, 3}})
  eq(lg.pad(lg.zeros(1, 2, 3, 3), {1, 1, 1, 1}).shape, {1, 2, 5, 5})
  eq(T(lg.pad(lg.zeros(2, 0), {1, 1}, {value = 5})), {{5, 5}, {5, 5}})
  raises(function() return lg.pad(x, {3, 0}, {mode = "reflect"}) end,
         "reflect padding (3, 0) must be less than the dim's size 3 in shape [1,3]")
  raises(function() return lg.pad(x, {1}) end, "pad: 1 pads for shape [1,3]")
  raises(function() return lg.pad(x, {1, 1, 1, 1, 1, 1}) end, "6 pads")
  raises(function() return lg.pad(x, {-2, -2}) end, "negative")
  raises(function() return lg.pad(x, {1, 1}, {mode = "circular"}) end, "unknown mode 'circular'")
  raises(function() return lg.pad(x, {1, 1}, {mode = "reflect", value = 2}) end, "only used by mode 'constant'")
  raises(function() return lg.pad(x, {1, 1}, {valu = 2}) end, "unknown option 'valu'")
  raises(function() return lg.pad(x, {1.5, 1}) end, "pad must be an integer")
  raises(function() return lg.pad(lg.zeros(2, 0), {1, 0}, {mode = "replicate"}) end, "size 0")
  raises(function() return lg.pad(x, {2 ^ 40, 0}) end, "too large")
end)

test("pad: gradients of first and second order in every mode", function()
  for _, mode in ipairs{"constant", "reflect", "replicate"} do
    local pads = mode == "constant" and {1, 2, -1, 1} or {2, 1, 1, 1}
    local f = function(v) local p = lg.pad(v, pads, {mode = mode}); return p * p end
    gradcheck(f, lg.randn(2, 3, 4), "pad " .. mode)
    gradgradcheck(f, lg.randn(2, 3, 4), "pad " .. mode .. " second order")
  end
  local x = lg.tensor{1, 2, 3}
  x.requires_grad = true
  lg.pad(x, {2, 2}, {mode = "reflect"}):sum():backward()
  eq(T(x.grad), {2, 3, 2})   -- each copy adds its gradient
end)

-- {---------------------------------------------------------- var, std

test("var and std: PyTorch's defaults, dims, keepdim, correction", function()
  local x = lg.tensor{{1, 2, 3}, {2, 4, 9}}
  near(T(x:var(2)), {1, 13})
  near(T(x:var(1, {unbiased = false, keepdim = true})), {{0.25, 1, 9}})
  near(x:var():item(), 8.3)
  eq(x:var().shape, {})
  eq(x:var({keepdim = true}).shape, {1, 1})
  near(T(x:std(-1)), {1, math.sqrt(13)})
  near(T(lg.std(x, 2, {correction = 0})), {math.sqrt(2 / 3), math.sqrt(26 / 3)})
  near(lg.tensor{1e6 + 1, 1e6 + 2, 1e6 + 3}:var():item(), 1)   -- two passes
  local one = lg.tensor{5}:var():item()
  assert(one ~= one, "var of one element, unbiased, is NaN")
  local bad = lg.tensor{1, nan, inf}:std():item()
  assert(bad ~= bad)
  local e = lg.zeros(0, 2):var(1):totable()
  assert(e[1] ~= e[1], "var over an empty dim is NaN")
  raises(function() return x:var(3) end, "var: dim 3 out of range for shape [2,3]")
  raises(function() return x:std(1, {unbiased = 1}) end, "option 'unbiased' must be a boolean")
  raises(function() return x:var(1, {ddof = 1}) end, "unknown option 'ddof'")
  raises(function() return x:var({}, {}) end, "give the options as the last argument")
end)

test("var and std: gradients of first and second order", function()
  local f = function(v) return v:var(2) end
  gradcheck(f, lg.randn(3, 4), "var")
  gradgradcheck(f, lg.randn(3, 4), "var second order")
  gradgradcheck(function(v) return v:var({unbiased = false}) end, lg.randn(2, 3), "var all")
  gradcheck(function(v) return v:std(1) end, lg.randn(4, 3), "std")
end)

-- {---------------------------------------------------------- cumsum

test("cumsum: running sums, gradient a reversed cumsum", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  eq(T(x:cumsum(2)), {{1, 3, 6}, {4, 9, 15}})
  eq(T(lg.cumsum(x, -2)), {{1, 2, 3}, {5, 7, 9}})
  eq(lg.zeros(0, 3):cumsum(1).shape, {0, 3})
  local c = lg.tensor{1, inf, nan}:cumsum(1):totable()
  assert(c[1] == 1 and c[2] == inf and c[3] ~= c[3])
  raises(function() return x:cumsum(3) end, "cumsum: dim 3 out of range")
  raises(function() return x:cumsum() end, "number expected")
  local l = lg.tensor{1, 2, 3}
  l.requires_grad = true
  l:cumsum(1):sum():backward()
  eq(T(l.grad), {3, 2, 1})
  gradcheck(function(v) local s = v:cumsum(1); return s * s end, lg.randn(4, 2), "cumsum")
  gradgradcheck(function(v) local s = v:cumsum(2); return s * s end, lg.randn(2, 4), "cumsum 2")
end)

-- {---------------------------------------------------------- sort, topk

test("sort: stable, NaN as the largest, 1-based indices", function()
  local x = lg.tensor{3, nan, 1, 3, -inf, 1}
  local v, i = x:sort()
  eq(T(i), {5, 3, 6, 1, 4, 2})
  local vv = T(v)
  assert(vv[1] == -inf and vv[2] == 1 and vv[6] ~= vv[6])
  local _, j = x:sort(1, {descending = true})
  eq(T(j), {2, 1, 4, 3, 6, 5})
  local _, k = lg.sort(x, {descending = true})   -- options in d's place
  eq(T(k), {2, 1, 4, 3, 6, 5})
  local m = lg.tensor{{5, 1}, {2, 2}, {8, 0}}
  local mv, mi = m:sort(1)
  eq(T(mv), {{2, 0}, {5, 1}, {8, 2}})
  eq(T(mi), {{2, 3}, {1, 1}, {3, 2}})
  eq(T(select(2, m:sort())), {{2, 1}, {1, 2}, {2, 1}})   -- default: the last dim
  eq(lg.zeros(2, 0):sort().shape, {2, 0})
  raises(function() return m:sort(3) end, "sort: dim 3 out of range for shape [3,2]")
  raises(function() return lg.tensor(1):sort() end, "0-dim tensor has no dim")
  raises(function() return m:sort(1, {descend = true}) end, "unknown option 'descend'")
end)

test("topk: largest or smallest k, indices, gradient to the source", function()
  local x = lg.tensor{1, 4, 2, 3}
  local v, i = x:topk(2)
  eq(T(v), {4, 3})
  eq(T(i), {2, 4})
  local s, si = x:topk(3, 1, {largest = false})
  eq(T(s), {1, 2, 3})
  eq(T(si), {1, 3, 4})
  local _, ni = lg.tensor{1, nan, 5}:topk(1)
  eq(T(ni), {2})
  eq(x:topk(0).shape, {0})
  local m = lg.tensor{{5, 1}, {2, 2}, {8, 0}}
  local mv, mi = lg.topk(m, 1, 2, {largest = false})
  eq(T(mv), {{1}, {2}, {0}})
  eq(T(mi), {{2}, {1}, {2}})
  raises(function() return x:topk(5) end, "topk: k 5 is larger than dim 1 of size 4 in shape [4]")
  raises(function() return x:topk(-1) end, "topk: k -1 is out of range")
  local l = x:detach()
  l.requires_grad = true
  ;(l:topk(2) * lg.tensor{10, 20}):sum():backward()
  eq(T(l.grad), {0, 10, 0, 20})
  -- spread values: no tie within a finite-difference step
  local spread = lg.tensor{{0.3, -1.2, 2.0, 0.9}, {1.4, -0.5, -2.1, 0.1}}
  gradcheck(function(v) return (v:sort(2, {descending = true})) end, spread, "sort")
  gradcheck(function(v) return (v:topk(2, 2)) end, spread, "topk")
end)

-- {---------------------------------------------------------- hostile callers

test("options whose __index frees the input raise instead of using freed memory", function()
  local FREED = "attempt to use a freed tensor"
  local x = lg.randn(2, 3)
  raises(function() return lg.pad(x, {1, 1}, hostile_opts(function() close_now(x) end)) end, FREED)
  x = lg.randn(2, 3)
  raises(function() return x:var(1, hostile_opts(function() close_now(x) end)) end, FREED)
  x = lg.randn(2, 3)
  raises(function() return x:sort(1, hostile_opts(function() close_now(x) end)) end, FREED)
  x = lg.randn(2, 3)
  raises(function() return x:topk(1, 1, hostile_opts(function() close_now(x) end)) end, FREED)
  x = lg.randn(2, 3)
  local y = lg.pad(x, {1, 1}, hostile_opts(function() end, {mode = "replicate"}))
  eq(y.shape, {2, 5})
end)

-- A finalizer that frees an argument can run at any allocation inside a
-- call: the call must then raise FREED or return what it returns untouched.
test("a finalizer freeing an argument mid-call gives an error or the right result", function()
  local FREED = "attempt to use a freed tensor"
  local function m23() return lg.tensor{{1, 5, 2}, {4, 3, 6}} end
  local calls = {
    {"stack", function() return lg.stack, {m23(), m23() * 2}, 2 end},
    {"chunk", function() return lg.Tensor.chunk, m23(), 2, 2 end},
    {"split", function() return lg.Tensor.split, m23(), {1, 2}, 2 end},
    {"split int", function() return lg.Tensor.split, m23(), 1 end},
    {"pad", function() return lg.pad, m23(), {1, 2, 1, 0}, {mode = "reflect"} end},
    {"var", function() return lg.Tensor.var, m23(), 2, {keepdim = true} end},
    {"std", function() return lg.Tensor.std, m23() end},
    {"cumsum", function() return lg.Tensor.cumsum, m23(), 1 end},
    {"sort", function() return lg.Tensor.sort, m23(), 2, {descending = true} end},
    {"topk", function() return lg.Tensor.topk, m23(), 2, 2 end},
  }
  local function tensors(args)
    local found = {}
    for i = 1, args.n do
      if lg.is_tensor(args[i]) then found[#found + 1] = args[i]
      elseif type(args[i]) == "table" then
        for _, v in ipairs(args[i]) do if lg.is_tensor(v) then found[#found + 1] = v end end
      end
    end
    return found
  end
  local function summary(out)
    local parts = {}
    local function add(v)
      if type(v) == "table" and not lg.is_tensor(v) then for _, e in ipairs(v) do add(e) end
      else parts[#parts + 1] = tostring(v) end
    end
    for i = 1, out.n do add(out[i]) end
    return parts
  end
  local function prepare(setup)
    local t = table.pack(setup())
    local args = table.pack(table.unpack(t, 2, t.n))
    args.f = t[1]
    return args
  end
  local function run(args) return table.pack(args.f(table.unpack(args, 1, args.n))) end
  for _, c in ipairs(calls) do
    local name, setup = c[1], c[2]
    local want = summary(run(prepare(setup)))
    for v = 1, #tensors(prepare(setup)) do
      local inside, fired = false, 0
      collectgarbage("incremental", 1, 1000, 20)
      collectgarbage("collect")
      for _ = 1, 3 do
        local args = prepare(setup)
        do
          local victim = tensors(args)[v]
          coroutine.wrap(function()
            setmetatable({}, {__gc = function()
              if inside then fired = fired + 1 end
              local t <close> = victim
            end})
          end)()
        end
        inside = true
        local ok, out = pcall(run, args)
        inside = false
        if not ok then
          if not tostring(out):find(FREED, 1, true) then error(name .. ": " .. tostring(out)) end
        else
          local got = summary(out)
          eq(#got, #want, name .. ": parts")
          for i = 1, #want do if got[i] ~= "tensor(freed)" then eq(got[i], want[i], name) end end
        end
      end
      collectgarbage("incremental", 200, 100, 13)
      collectgarbage("collect")
      assert(fired > 0, name .. ": the finalizer never ran inside the call")
    end
  end
end)
