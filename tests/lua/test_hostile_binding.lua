-- The binding against hostile Lua code: metamethods and finalizers that run
-- in the middle of a binding function and free tensors or change tables,
-- integers that do not fit the core's int, reference cycles through .grad,
-- and messages that must count from 1.  Run it under the sanitizer build too.

local FREED = "attempt to use a freed tensor"

local function close_now(t) local v <close> = t end

-- An options table with nothing in it: every option comes from __index,
-- which first runs hook().
local function hostile_opts(hook, values)
  return setmetatable({}, {__index = function(_, k)
    hook()
    return values and values[k]
  end})
end

-- {---------------------------------------------------------- option tables

test("an options table's __index that frees the input gives an error, not a use after free", function()
  local x, w = lg.randn(1, 1, 6, 6), lg.randn(1, 1, 3, 3)
  raises(function() return lg.conv2d(x, w, nil, hostile_opts(function() close_now(x) end)) end, FREED)
  x = lg.randn(1, 1, 6, 6)
  raises(function() return lg.conv2d(x, w, nil, hostile_opts(function() close_now(w) end)) end, FREED)
  w = lg.randn(1, 1, 3, 3)
  local b = lg.zeros(1)
  raises(function() return lg.conv_transpose2d(x, w, b, hostile_opts(function() close_now(b) end)) end, FREED)
  raises(function() return lg.max_pool2d(x, 2, hostile_opts(function() close_now(x) end)) end, FREED)
  x = lg.randn(1, 1, 6, 6)
  raises(function() return lg.avg_pool2d(x, 2, hostile_opts(function() close_now(x) end)) end, FREED)
  local batch = lg.rand(2, 1, 3, 3)
  raises(function() return lg.image.grid(batch, hostile_opts(function() close_now(batch) end)) end, FREED)
  local p = lg.ones(2)
  p.requires_grad = true
  local y = (p * 3):sum()
  raises(function() return y:backward(hostile_opts(function() close_now(y) end)) end, FREED)
end)

test("options given by __index are honoured", function()
  local x, w = lg.ones(1, 1, 4, 4), lg.ones(1, 1, 3, 3)
  local calls = 0
  local y = lg.conv2d(x, w, nil, hostile_opts(function() calls = calls + 1 end, {padding = 1}))
  eq(y.shape, {1, 1, 4, 4})
  eq(y:totable()[1][1][1], {4, 6, 6, 4})
  assert(calls >= 2, "stride and padding read through __index")
  eq(lg.max_pool2d(x, 2, hostile_opts(function() end, {stride = 1})).shape, {1, 1, 3, 3})
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- lists and __len

-- A list of tensors whose __len says 1 the first time and 1000 afterwards,
-- and whose __index invents tensors: the binding must read it raw, once.
local function lying_list(items)
  local reads = 0
  local list = setmetatable(items, {
    __len = function() reads = reads + 1; return reads == 1 and 1 or 1000 end,
    __index = function() reads = reads + 1; return lg.zeros(1) end,
  })
  return list, function() return reads end
end

test("lg.clip_ reads a list raw and its length once", function()
  local a, b = lg.tensor{-2, 0.25, 2}, lg.tensor{5}
  local list, reads = lying_list({a, b})
  lg.clip_(list, -0.5, 0.5)
  eq(a:totable(), {-0.5, 0.25, 0.5})
  eq(b:totable(), {0.5})
  eq(reads(), 0, "metamethod calls")
  raises(function() lg.clip_({a, "x"}, 0, 1) end, "clip_: element 2 of the list is not a tensor")
  eq(a:totable(), {-0.5, 0.25, 0.5}, "nothing clipped when an element is bad")
end)

test("lg.clip_grad_norm_ reads a list raw and its length once", function()
  local a, b = lg.zeros(2), lg.zeros(1)
  a.grad, b.grad = lg.tensor{3, 0}, lg.tensor{4}
  local list, reads = lying_list({a, b})
  near(lg.clip_grad_norm_(list, 1), 5)
  near(a.grad:totable(), {0.6, 0}, 1e-5)
  near(b.grad:totable(), {0.8}, 1e-5)
  eq(reads(), 0, "metamethod calls")
  near(lg.clip_grad_norm_(a, 10), 0.6, 1e-5)   -- one tensor, not a list
end)

test("lg.cat, lg.grad, permute and shapes read lists raw", function()
  local list, reads = lying_list({lg.ones(2), lg.zeros(1)})
  eq(lg.cat(list):totable(), {1, 1, 0})
  local x = lg.ones(2)
  x.requires_grad = true
  local ins = lying_list({x})
  local g = lg.grad((x * 3):sum(), ins)
  eq(#g, 1)
  eq(g[1]:totable(), {3, 3})
  local order = setmetatable({2, 1}, {__len = function() reads = reads + 1; return 7 end})
  eq(lg.zeros(2, 3):permute(order).shape, {3, 2})
  eq(lg.zeros(setmetatable({2, 3}, getmetatable(order))).shape, {2, 3})
  eq(reads(), 0, "metamethod calls")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- finalizers

-- Runs body(i) n times under a collector that runs a whole cycle, with
-- every pending finalizer, at each allocation (pause 0, huge steps; the new
-- pause takes effect at the end of the full collection).  So a finalizer
-- made garbage just before a binding call fires at the call's first
-- allocation.
local function under_busy_gc(n, body)
  collectgarbage("incremental", 1, 1000, 20)
  collectgarbage("collect")
  local ok, err = pcall(function() for i = 1, n do body(i) end end)
  collectgarbage("incremental", 200, 100, 13)   -- Lua's defaults, as main.c sets
  collectgarbage("collect")
  if not ok then error(err, 0) end
end

-- A garbage object whose finalizer calls fn.  Made on a coroutine's stack:
-- a stale copy left in a register of ours would keep it alive.
local function on_gc(fn)
  coroutine.wrap(function() setmetatable({}, {__gc = fn}) end)()
end

test("a finalizer freeing an argument during a call gives an error or the right result", function()
  local cases = {
    {"exp", function(x) return lg.exp(x) end, function(r) return r:totable()[1] end, math.exp(2)},
    {"add", function(x) return x + x end, function(r) return r:totable()[3] end, 4},
    {"mul number", function(x) return 3 * x end, function(r) return r:totable()[1] end, 6},
    {"matmul", function(x) return x:view(1, 4):matmul(x:view(4, 1)) end,
      function(r) return r:item() end, 16},
    {"sum dim", function(x) return x:sum(1) end, function(r) return r:item() end, 8},
    {"view", function(x) return x:view(2, 2) end, function(r) return r:totable()[2][2] end, 2},
    {"narrow", function(x) return x:narrow(1, 2, 2) end, function(r) return r:numel() end, 2},
    {"cat", function(x) return lg.cat({x, x}) end, function(r) return r:numel() end, 8},
    {"clone", function(x) return x:clone() end, function(r) return r:totable()[4] end, 2},
    {"tostring", function(x) return tostring(x) end, function(r) return r end,
      "tensor({2., 2., 2., 2.})"},
    {"totable", function(x) return x:totable() end, function(r) return r[4] end, 2},
    {"shape", function(x) return x.shape end, function(r) return r[1] end, 4},
    {"index_select", function(x) return x:index_select(1, {4, 1}) end,
      function(r) return r:numel() end, 2},
    {"cross_entropy", function(x) return lg.cross_entropy(x:view(1, 4), {2}) end,
      function(r) return r:item() end, math.log(4)},
    {"mse", function(x) return lg.mse(x, 2) end, function(r) return r:item() end, 0},
    {"clip_", function(x) lg.clip_({x}, 0, 1); return x end,
      function(r) return r:totable()[1] end, 1},
    {"conv2d", function(x) return lg.conv2d(x:view(1, 1, 2, 2), lg.ones(1, 1, 2, 2), nil, {}) end,
      function(r) return r:item() end, 8},
    {"save", function(x)
        local path = os.tmpname()
        lg.save(path, {x = x}, {n = 1})
        local t = lg.load(path)
        os.remove(path)
        return t.x
      end, function(r) return r:totable()[1] end, 2},
  }
  cases[10][4] = tostring(lg.full({4}, 2))
  for _, c in ipairs(cases) do
    local name, call, get, want = c[1], c[2], c[3], c[4]
    local inside, fired = false, 0
    under_busy_gc(10, function()
      local x = lg.full({4}, 2)
      do
        local victim = x
        on_gc(function()
          if inside then fired = fired + 1 end
          close_now(victim)
        end)
      end
      inside = true
      local ok, r = pcall(call, x)
      inside = false
      if ok and r ~= "tensor(freed)" then
        local v = get(r)
        if type(want) == "number" then near(v, want, 1e-5, name)
        else eq(v, want, name) end
      elseif not ok and not tostring(r):find(FREED, 1, true) then
        error(name .. ": " .. tostring(r))
      end
    end)
    assert(fired > 0, name .. ": the finalizer never ran inside the call")
  end
end)

test("a finalizer dropping x.grad while x.grad is read", function()
  local cleared = 0
  under_busy_gc(10, function()
    local x = lg.zeros(3)
    x.grad = lg.full({3}, 7)
    on_gc(function() x.grad = nil end)
    local g = x.grad
    if g ~= nil then eq(g:totable(), {7, 7, 7}) else cleared = cleared + 1 end
  end)
  assert(cleared > 0, "the finalizer ran inside the read")
end)

test("a finalizer adding entries to the tables lg.save reads: an error or a complete file", function()
  local dir = temp_dir()
  local path = dir .. "/t.safetensors"
  local saved, changed = 0, 0
  under_busy_gc(40, function(i)
    local tensors, meta = {a = lg.ones(2), b = lg.zeros(3)}, {step = i, note = "x"}
    if i % 2 == 0 then meta = nil end   -- then the tensors' table changes
    on_gc(function()
      for k = 1, 40 do tensors["extra" .. k] = lg.full({1}, k) end
      for k = 1, 40 do if meta then meta["m" .. k] = k end end
    end)
    local ok, err = pcall(lg.save, path, tensors, meta)
    if ok then
      saved = saved + 1
      local t, m = lg.load(path)
      eq(t.a:totable(), {1, 1})
      eq(t.b:totable(), {0, 0, 0})
      if meta then eq(m.step, tostring(i)) end
      for k, v in pairs(t) do if k:sub(1, 5) == "extra" then eq(v:item(), tonumber(k:sub(6))) end end
    else
      changed = changed + 1
      if not tostring(err):find("changed while it was read", 1, true) then error(err) end
    end
  end)
  assert(changed > 0, "the finalizer ran inside lg.save")
  os.execute("rm -rf " .. sh_quote(dir))
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- integers

test("integer options out of the core's int range are refused, not truncated", function()
  local x, w = lg.ones(1, 1, 4, 4), lg.ones(1, 1, 3, 3)
  local big = 4294967297   -- 2^32 + 1: 1 once truncated to 32 bits
  raises(function() return lg.conv2d(x, w, nil, {padding = big}) end,
         "conv2d: padding 4294967297 is out of range (0..2^31-1)")
  raises(function() return lg.conv2d(x, w, nil, {padding = (1 << 32) + 1}) end,
         "conv2d: padding 4294967297 is out of range (0..2^31-1)")
  raises(function() return lg.conv2d(x, w, nil, {stride = {1, big}}) end,
         "conv2d: stride 4294967297 is out of range (1..2^31-1)")
  raises(function() return lg.conv_transpose2d(x, w, nil, {output_padding = -big}) end,
         "conv_transpose2d: output_padding -4294967297 is out of range (0..2^31-1)")
  raises(function() return lg.max_pool2d(x, 2, {stride = big}) end,
         "max_pool2d: stride 4294967297 is out of range (1..2^31-1)")
  raises(function() return lg.avg_pool2d(x, 2, {padding = big}) end,
         "avg_pool2d: padding 4294967297 is out of range (0..2^31-1)")
  raises(function() return lg.max_pool2d(x, big) end,
         "max_pool2d: kernel size 4294967297 is out of range (1..65536)")
  raises(function() return lg.upsample_nearest(x, big) end,
         "upsample_nearest: scale 4294967297 is out of range (1..4096)")
  raises(function() return lg.image.grid(lg.ones(2, 1, 2, 2), {nrow = big}) end,
         "image.grid: nrow 4294967297 is out of range (1..2^31-1)")
  raises(function() return lg.image.resize(lg.ones(1, 2, 2), big, 2) end,
         "image.resize: height 4294967297 is out of range (1..2^31-1)")
  raises(function() return lg.conv2d(x, w, nil, {padding = 2^63}) end,
         "conv2d: padding must be an integer, got 9.2233720368548e+18")
end)

test("fractional integers are refused; whole floats are integers", function()
  local x, w = lg.ones(1, 1, 4, 4), lg.ones(1, 1, 3, 3)
  raises(function() return lg.max_pool2d(x, 2.5) end, "max_pool2d: kernel size must be an integer, got 2.5")
  raises(function() return lg.max_pool2d(x, 2, {stride = 1.5}) end, "max_pool2d: stride must be an integer, got 1.5")
  raises(function() return lg.conv2d(x, w, nil, {padding = 0.5}) end, "conv2d: padding must be an integer, got 0.5")
  raises(function() return lg.conv2d(x, w, nil, {padding = {1, 0.5}}) end, "conv2d: padding must be an integer, got 0.5")
  raises(function() return lg.conv2d(x, w, nil, {padding = "1"}) end, "conv2d: padding must be an integer, got string")
  raises(function() return lg.conv2d(x, w, nil, {padding = {1}}) end, "conv2d: padding must be an integer or a pair {h, w}")
  raises(function() return lg.upsample_nearest(x, 1.5) end, "upsample_nearest: scale must be an integer, got 1.5")
  raises(function() return lg.image.grid(lg.ones(2, 1, 2, 2), {padding = 0.5}) end, "image.grid: padding must be an integer, got 0.5")
  eq(lg.conv2d(x, w, nil, {padding = 1.0}).shape, {1, 1, 4, 4})
  eq(lg.max_pool2d(x, 2.0).shape, {1, 1, 2, 2})
end)

test("index lists beyond 2^24 are refused: floats would round them", function()
  raises(function() return lg.zeros(4):index_select(1, {16777217}) end,
         "index_select: index 16777217 at position 1 is beyond 2^24")
  raises(function() return lg.cross_entropy(lg.zeros(1, 3), {-16777217}) end,
         "cross_entropy: label -16777217 at position 1 is beyond 2^24")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- .grad cycles

test("x.grad = y; y.grad = x is refused: the cycle would never be freed", function()
  collectgarbage("collect")
  local live = lg.memory().live
  do
    local x, y = lg.zeros(1000), lg.ones(1000)
    x.grad = y
    raises(function() y.grad = x end, "grad: the assigned gradient has a .grad of its own")
    local z = lg.zeros(1000)
    y.grad = z                       -- a chain is fine
    raises(function() z.grad = x end, "grad: the assigned gradient has a .grad of its own")
    eq(x.grad:totable()[1], 1)
  end
  collectgarbage("collect")
  collectgarbage("collect")
  eq(lg.memory().live, live, "bytes live after the tensors went away")
end)

test("a gradient that requires grad (a result of the graph) is refused", function()
  local x = lg.ones(3)
  x.requires_grad = true
  local y = x * 2
  raises(function() x.grad = y end, "grad: the assigned gradient requires grad")
  local p = lg.ones(3)
  p.requires_grad = true
  raises(function() x.grad = p end, "grad: the assigned gradient requires grad")
  x.grad = y:detach()
  eq(x.grad:totable(), {2, 2, 2})
  raises(function() x.grad = x end, "grad: a tensor cannot be its own gradient")
  raises(function() x.grad = lg.ones(2) end, "grad: assigned gradient of shape [2] does not match tensor of shape [3]")
  raises(function() x.grad = lg.ones(3, 1) end, "does not match tensor of shape [3]")
  x.grad = nil
  eq(x.grad, nil)
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- 1-based messages

test("messages count dims and positions from 1", function()
  local a = lg.zeros(3, 4)
  raises(function() return a:narrow(1, 2, math.maxinteger) end,
         "narrow: start 2 and length 9223372036854775807 out of range for dim 1 of size 3")
  raises(function() return a:narrow(2, -1, math.maxinteger) end, "for dim 2 of size 4")
  local v = lg.zeros(4)
  raises(function() return v:index_select(1, lg.tensor{0 / 0}) end,
         "index_select: index nan out of range 1..4 for dim 1 of shape [4] (at position 1")
  raises(function() return v:index_select(1, lg.tensor{1, 2.5}) end,
         "index_select: index 2.5 out of range 1..4 for dim 1 of shape [4] (at position 2")
  raises(function() return v:index_select(1, lg.tensor{1e30}) end, "index 1.00000002e+30 out of range 1..4")
  raises(function() return v:index_select(1, lg.ones(1, 1)) end, "index_select: index must be 1-D, got shape [1,1]")
  raises(function() return lg.zeros(2, 0):max(2) end, "max: cannot take the max over dim 2 of size 0 in shape [2,0]")
  local s = lg.tensor(3)   -- a 0-dim tensor: the core would speak of dim -1 and dim 0
  raises(function() return lg.softmax(s) end, "softmax: a 0-dim tensor has no dim to take it over")
  raises(function() return s:log_softmax() end, "log_softmax: a 0-dim tensor has no dim to take it over")
  raises(function() return lg.cat({lg.ones(1), s}) end, "cat: tensor 2 is 0-dim and cannot be joined")
  eq(lg.tensor{{1, 5}, {7, 2}}:index_select(2, lg.tensor{2}):totable(), {{5}, {2}})
end)

-- }----------------------------------------------------------
