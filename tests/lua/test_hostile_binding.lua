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

-- Every binding function, each with fixed arguments: setup() returns the
-- function and its arguments.
local function m22() return lg.tensor{{1, 2}, {3, 4}} end
local function spd() return lg.tensor{{2, 1}, {1, 2}} end
local function img() return lg.tensor{{{0, 0.25}, {0.5, 1}}} end
local function leaf(t) t.requires_grad = true; return t end
local function with_grad(t, g) t.grad = g; return t end
local TMP = os.tmpname()   -- lg.save writes it; image.save writes TMP .. ".png"
local calls = {
  {"exp", function() return lg.exp, m22() end},
  {"log", function() return lg.log, m22() end},
  {"sqrt", function() return lg.sqrt, m22() end},
  {"abs", function() return lg.abs, m22() end},
  {"sign", function() return lg.sign, m22() end},
  {"relu", function() return lg.relu, m22() end},
  {"sigmoid", function() return lg.sigmoid, m22() end},
  {"tanh", function() return lg.tanh, m22() end},
  {"softplus", function() return lg.softplus, m22() end},
  {"sin", function() return lg.sin, m22() end},
  {"cos", function() return lg.cos, m22() end},
  {"neg", function() return lg.neg, m22() end},
  {"leaky_relu", function() return lg.leaky_relu, m22(), 0.1 end},
  {"clamp", function() return lg.clamp, m22(), 1.5, 3 end},
  {"softmax", function() return lg.softmax, m22(), 2 end},
  {"log_softmax", function() return lg.log_softmax, m22() end},
  {"sum", function() return lg.sum, m22() end},
  {"sum dim", function() return lg.sum, m22(), 1, true end},
  {"mean dim", function() return lg.mean, m22(), 2 end},
  {"max", function() return lg.max, m22() end},
  {"max dim", function() return lg.max, m22(), 2 end},
  {"index_select", function() return lg.index_select, m22(), 1, {2} end},
  {"index_select tensor", function() return lg.index_select, m22(), 2, lg.tensor{2, 1} end},
  {"matmul", function() return lg.matmul, m22(), m22() end},
  {"linear", function() return lg.linear, m22(), m22(), lg.ones(2) end},
  {"add", function() return lg.add, m22(), m22() end},
  {"add number", function() return lg.add, m22(), 1 end},
  {"sub number", function() return lg.sub, 1, m22() end},
  {"mul", function() return lg.mul, m22(), m22() end},
  {"div number", function() return lg.div, m22(), 3 end},
  {"rdiv", function() return lg.div, 2, m22() end},
  {"pow", function() return lg.pow, m22(), 2 end},
  {"number pow", function() return lg.pow, 2, m22() end},
  {"view", function() return lg.view, m22(), 4 end},
  {"reshape", function() return lg.reshape, m22(), {4} end},
  {"expand", function() return lg.Tensor.expand, lg.ones(1, 2), 3, 2 end},
  {"t", function() return lg.Tensor.t, m22() end},
  {"transpose", function() return lg.transpose, m22(), 1, 2 end},
  {"permute", function() return lg.permute, m22(), {2, 1} end},
  {"narrow", function() return lg.narrow, m22(), 1, 2, 1 end},
  {"squeeze", function() return lg.squeeze, lg.ones(1, 2) end},
  {"squeeze dim", function() return lg.squeeze, lg.ones(1, 2), 1 end},
  {"unsqueeze", function() return lg.unsqueeze, m22(), 1 end},
  {"contiguous", function() return lg.Tensor.contiguous, m22():t() end},
  {"clone", function() return lg.clone, m22() end},
  {"cat", function() return lg.cat, {m22(), m22()}, 2 end},
  {"detach", function() return lg.detach, m22() end},
  {"tensor of a tensor", function() return lg.tensor, m22() end},
  {"zeros_like", function() return lg.zeros_like, m22() end},
  {"ones_like", function() return lg.ones_like, m22() end},
  {"size", function() return lg.Tensor.size, m22() end},
  {"size dim", function() return lg.Tensor.size, m22(), 2 end},
  {"item", function() return lg.Tensor.item, lg.tensor{5} end},
  {"totable", function() return lg.Tensor.totable, m22() end},
  {"tostring", function() return tostring, m22() end},
  {"#", function() return function(x) return #x end, m22() end},
  {".shape", function() return function(x) return x.shape end, m22() end},
  {".grad", function() return function(x) return x.grad end, with_grad(m22(), m22()) end},
  {".grad_fn", function() return function(x) return x.grad_fn, x.is_leaf, x.ndim end, leaf(m22()) * 2 end},
  {".requires_grad =", function()
    return function(x) x.requires_grad = true; return x.requires_grad end, m22() end},
  {"dim, numel, is_contiguous", function()
    return function(x) return x:dim(), x:numel(), x:is_contiguous() end, m22() end},
  {"sub", function() return lg.sub, m22(), lg.ones(2) end},
  {"div", function() return lg.div, m22(), m22() end},
  {"mean", function() return lg.mean, m22() end},
  {".grad =", function() return function(x, g) x.grad = g; return x.grad end, m22(), m22() end},
  {"copy_", function() return lg.Tensor.copy_, m22(), lg.tensor{5, 6} end},
  {"fill_", function() return lg.Tensor.fill_, m22(), 3 end},
  {"zero_", function() return lg.Tensor.zero_, m22() end},
  {"requires_grad_", function() return lg.Tensor.requires_grad_, m22() end},
  {"bce_with_logits", function() return lg.bce_with_logits, m22(), 1 end},
  {"mse", function() return lg.mse, m22(), lg.ones(2, 2) end},
  {"l1", function() return lg.l1, m22(), lg.ones(2, 2) end},
  {"cross_entropy", function() return lg.cross_entropy, m22(), {1, 2} end},
  {"cross_entropy tensor", function() return lg.cross_entropy, m22(), lg.tensor{2, 1} end},
  {"conv2d", function()
    return lg.conv2d, m22():view(1, 1, 2, 2), lg.ones(1, 1, 2, 2), lg.ones(1), {padding = 1} end},
  {"conv_transpose2d", function()
    return lg.conv_transpose2d, m22():view(1, 1, 2, 2), lg.ones(1, 1, 2, 2), nil, {stride = 2} end},
  {"batch_norm", function()
    return lg.batch_norm, m22(), lg.zeros(2), lg.ones(2), lg.ones(2), lg.zeros(2), true, 0.1, 1e-5 end},
  {"avg_pool2d", function() return lg.avg_pool2d, m22():view(1, 1, 2, 2), 2 end},
  {"max_pool2d", function() return lg.max_pool2d, m22():view(1, 1, 2, 2), 1, {stride = 1} end},
  {"upsample_nearest", function() return lg.upsample_nearest, m22():view(1, 1, 2, 2), 2 end},
  {"dropout", function() return lg.dropout, m22(), 0, true end},
  {"backward", function()
    local p = leaf(m22())
    return function(y, q) y:backward(); return q.grad end, (p * p):sum(), p end},
  {"backward options", function()
    local p = leaf(m22())
    return function(y, q) y:backward{retain_graph = true}; return q.grad end, (p * 3):sum(), p end},
  {"grad", function()
    local p = leaf(m22())
    return lg.grad, (p * p):sum(), {p} end},
  {"sgd_step", function()
    return lg.sgd_step, m22(), lg.ones(2, 2), lg.zeros(2, 2), 0.1, 0.9, 0, 0, false, false end},
  {"adam_step", function()
    return lg.adam_step, m22(), lg.ones(2, 2), lg.zeros(2, 2), lg.zeros(2, 2), 0.1, 0.9, 0.999,
      1e-8, 0, 1 end},
  {"rmsprop_step", function()
    return lg.rmsprop_step, m22(), lg.ones(2, 2), lg.zeros(2, 2), lg.zeros(2, 2), lg.zeros(2, 2),
      0.01, 0.99, 1e-8, 0, 0.9, true end},
  {"clip_", function() return lg.clip_, {m22(), m22()}, 1.5, 3 end},
  {"clip_grad_norm_", function()
    return lg.clip_grad_norm_, {with_grad(m22(), m22()), with_grad(m22(), m22())}, 1 end},
  {"save", function()
    return function(t, k) lg.save(TMP, t, k); return (lg.load(TMP)) end, {a = m22(), b = m22()},
      {n = 1.5} end},
  {"image.save", function()
    return function(x) lg.image.save(TMP .. ".png", x); return lg.image.load(TMP .. ".png") end,
      img() end},
  {"image.grid", function() return lg.image.grid, img():view(1, 1, 2, 2), {padding = 1} end},
  {"image.resize", function() return lg.image.resize, img(), 3, 3 end},
  {"linalg.eigh", function() return lg.linalg.eigh, spd() end},
  {"linalg.svd", function() return lg.linalg.svd, m22(), {full_matrices = true} end},
  {"linalg.slogdet", function() return lg.linalg.slogdet, m22() end},
  {"linalg.solve", function() return lg.linalg.solve, spd(), lg.tensor{1, 2} end},
  {"linalg.cholesky", function() return lg.linalg.cholesky, spd() end},
  {"linalg.inv", function() return lg.linalg.inv, m22() end},
  {"linalg.det", function() return lg.linalg.det, m22() end},
  {"gt", function() return lg.gt, m22(), lg.tensor{2, 2} end},
  {"eq number", function() return lg.eq, m22(), 3 end},
  {"where", function() return lg.where, lg.tensor{1, 0}, m22(), m22() * 2 end},
  {"masked_fill", function() return lg.Tensor.masked_fill, m22(), lg.tensor{0, 1}, 7 end},
  {"masked_select", function() return lg.Tensor.masked_select, m22(), lg.tensor{0, 1} end},
  {"nonzero", function() return lg.Tensor.nonzero, lg.tensor{{0, 1}, {2, 0}} end},
  {"argmax dim", function() return lg.Tensor.argmax, m22(), 2, true end},
  {"min dim", function() return lg.Tensor.min, m22(), 1 end},
  {"floor", function() return lg.Tensor.floor, m22() / 3 end},
  {"one_hot", function() return lg.one_hot, lg.tensor{2, 1}, 3 end},
  {"equal", function() return lg.equal, m22(), m22() end},
}

-- The tensors among the arguments, including those in lists and maps.
local function tensor_args(args)
  local found = {}
  for i = 1, args.n do
    local a = args[i]
    if lg.is_tensor(a) then found[#found + 1] = a
    elseif type(a) == "table" then
      for _, v in pairs(a) do if lg.is_tensor(v) then found[#found + 1] = v end end
    end
  end
  return found
end

-- What a call did: its results and its arguments afterwards, as strings.
local function summary(out, args)
  local parts = {}
  local function add(v)
    if lg.is_tensor(v) then parts[#parts + 1] = tostring(v)
    elseif type(v) == "table" then
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k); add(v[k]) end
    else parts[#parts + 1] = tostring(v) end
  end
  for i = 1, out.n do add(out[i]) end
  for i = 1, args.n do add(args[i]) end
  return parts
end

test("a finalizer freeing an argument inside any binding call gives an error or the right result", function()
  for _, c in ipairs(calls) do
    local name, setup = c[1], c[2]
    local function run(args) return table.pack(args.f(table.unpack(args, 1, args.n))) end
    local function prepare()
      local t = table.pack(setup())
      local args = table.pack(table.unpack(t, 2, t.n))
      args.f = t[1]
      return args
    end
    local ref = prepare()
    local want = summary(run(ref), ref)
    for v = 1, #tensor_args(ref) do
      local inside, fired = false, 0
      under_busy_gc(3, function()
        local args = prepare()
        do
          local victim = tensor_args(args)[v]
          on_gc(function()
            if inside then fired = fired + 1 end
            close_now(victim)
          end)
        end
        inside = true
        local ok, out = pcall(run, args)
        inside = false
        if not ok then
          if not tostring(out):find(FREED, 1, true) then error(name .. ": " .. tostring(out)) end
        else
          local got = summary(out, args)
          eq(#got, #want, name .. ": parts")
          for i = 1, #want do   -- a tensor freed after its last use shows as freed
            if got[i] ~= "tensor(freed)" then eq(got[i], want[i], name) end
          end
        end
      end)
      assert(fired > 0, name .. ": the finalizer never ran inside the call")
    end
  end
  os.remove(TMP)
  os.remove(TMP .. ".png")
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
