-- Hostile input for the core: every op of the Lua API on tensors holding
-- NaN, +Inf and -Inf (with backward, and second order where the op is used
-- under a gradient penalty), index-taking ops given NaN, Inf and
-- out-of-range indices, and the shape requests whose arithmetic used to
-- overflow.  Each call must return or raise a Lua error; nothing may crash.
-- The point of the file is the sanitizer build, where undefined behaviour
-- (a NaN converted to an int, a wrapped size) aborts the run:
--   build-san/luagan tests/lua/run.lua test_hostile_core
local lg = require "luagan"

local NAN, INF = 0 / 0, math.huge

local function isnan(v) return v ~= v end

-- A tensor of the given shape cycling through NaN, +-Inf and ordinary values.
local SPECIALS = {NAN, INF, -INF, 1.5, -0.5, 0, 3, -2}
local function hostile(...)
  local shape, n = {...}, 1
  for _, s in ipairs(shape) do n = n * s end
  local flat = {}
  for i = 1, n do flat[i] = SPECIALS[(i - 1) % #SPECIALS + 1] end
  return lg.tensor(flat):view(table.unpack(shape))
end

local function leaf(...)
  local x = hostile(...)
  x.requires_grad = true
  return x
end

-- Runs fn(); a raised error must be a message (a string), never a crash.
-- Returns ok and the first result.
local function attempt(what, fn)
  local ok, r = pcall(fn)
  if not ok then
    assert(type(r) == "string" and #r > 0, what .. ": error is not a message: " .. tostring(r))
  end
  return ok, r
end

-- y's backward, and when `second` the gradient's own backward (create_graph).
local function backward_all(what, y, x, second)
  if not (lg.is_tensor(y) and y.requires_grad) then return end
  local s = y:numel() == 1 and y or y:sum()
  if second then
    local ok, g = attempt(what .. " grad", function()
      return lg.grad(s, x, {create_graph = true, retain_graph = true})
    end)
    if ok and g and g.requires_grad then
      attempt(what .. " second order", function() (g * g):sum():backward() end)
    end
  end
  x.grad = nil
  attempt(what .. " backward", function() s:backward() end)
end

-- op(x) on a fresh hostile leaf of `shape`, then backward.
local function run_unary(what, shape, op, second)
  local x = leaf(table.unpack(shape))
  local ok, y = attempt(what, function() return op(x) end)
  if ok then backward_all(what, y, x, second) end
  return ok, y
end

-- {---------------------------------------------------------- NaN and Inf

test("elementwise ops on NaN and +-Inf, forward and backward", function()
  local unary = {
    neg = function(x) return -x end,
    exp = function(x) return x:exp() end,
    log = function(x) return x:log() end,
    sqrt = function(x) return x:sqrt() end,
    abs = function(x) return x:abs() end,
    sign = function(x) return x:sign() end,
    relu = function(x) return x:relu() end,
    leaky_relu = function(x) return x:leaky_relu(0.2) end,
    sigmoid = function(x) return x:sigmoid() end,
    tanh = function(x) return x:tanh() end,
    softplus = function(x) return x:softplus() end,
    sin = function(x) return x:sin() end,
    cos = function(x) return x:cos() end,
    square = function(x) return x:pow(2) end,
    pow_half = function(x) return x ^ 0.5 end,
    pow_neg = function(x) return x ^ -1 end,
    pow_nan = function(x) return x ^ NAN end,
    pow_inf = function(x) return x ^ INF end,
    clamp = function(x) return x:clamp(-1, 1) end,
    clamp_lo = function(x) return x:clamp(0) end,
    clamp_nan = function(x) return x:clamp(NAN, 1) end,
    clamp_inf = function(x) return x:clamp(-INF, INF) end,
    add_nan = function(x) return x + NAN end,
    sub_inf = function(x) return INF - x end,
    mul_inf = function(x) return x * INF end,
    div_zero = function(x) return x / 0 end,
    rdiv = function(x) return 1 / x end,
    div_nan = function(x) return x / NAN end,
    number_pow = function(x) return 2 ^ x end,
    add = function(x) return x + hostile(2, 4) end,
    sub = function(x) return x - hostile(1, 4) end,
    mul = function(x) return x * hostile(2, 1) end,
    div = function(x) return x / hostile(4) end,
  }
  for name, op in pairs(unary) do run_unary(name, {2, 4}, op, true) end
  -- the kernels' known values: the specials map as in IEEE / torch
  local x = lg.tensor{NAN, INF, -INF, 0}
  local e = x:exp():totable()
  assert(isnan(e[1]), "exp(nan)") eq({e[2], e[3], e[4]}, {INF, 0, 1}, "exp")
  local t = x:tanh():totable()
  assert(isnan(t[1]), "tanh(nan)") eq({t[2], t[3], t[4]}, {1, -1, 0}, "tanh")
  local s = x:sigmoid():totable()
  assert(isnan(s[1]), "sigmoid(nan)") eq({s[2], s[3], s[4]}, {1, 0, 0.5}, "sigmoid")
  local sp = x:softplus():totable()
  assert(isnan(sp[1]), "softplus(nan)") eq({sp[2], sp[3]}, {INF, 0}, "softplus")
  local c = x:clamp(-1, 1):totable()
  assert(isnan(c[1]), "clamp keeps nan") eq({c[2], c[3], c[4]}, {1, -1, 0}, "clamp")
  eq(x:sign():totable()[2], 1, "sign(inf)")
end)

test("reductions, softmax and matmul on NaN and +-Inf", function()
  local ops = {
    sum = function(x) return x:sum() end,
    sum_dim = function(x) return x:sum(2, true) end,
    mean = function(x) return x:mean() end,
    mean_dim = function(x) return x:mean(1) end,
    max = function(x) return x:max() end,
    max_dim = function(x) return (x:max(2)) end,
    max_dim1 = function(x) return (x:max(1, true)) end,
    softmax = function(x) return x:softmax(2) end,
    softmax1 = function(x) return x:softmax(1) end,
    log_softmax = function(x) return x:log_softmax(2) end,
    log_softmax1 = function(x) return x:log_softmax(1) end,
    matmul = function(x) return x:matmul(hostile(4, 3)) end,
    matvec = function(x) return x:matmul(hostile(4)) end,
    bmm = function(x) return x:view(1, 2, 4):matmul(hostile(1, 4, 2)) end,
    linear = function(x) return lg.linear(x, hostile(3, 4), hostile(3)) end,
    index_select = function(x) return x:index_select(2, {4, 1, 1}) end,
  }
  for name, op in pairs(ops) do run_unary(name, {2, 4}, op, true) end
  -- NaN wins a max, as in torch; its index is that of the first NaN
  local m, i = lg.tensor{{1, NAN, INF}, {-INF, 2, 0}}:max(2)
  local mv = m:totable()
  assert(isnan(mv[1]), "max keeps nan") eq(mv[2], 2, "max") eq(i:totable(), {2, 2}, "argmax")
  assert(isnan(lg.tensor{1, NAN}:max():item()), "max of all keeps nan")
  local sm = lg.tensor{INF, 1}:softmax():totable()
  assert(isnan(sm[1]), "softmax(inf - inf) is nan")
end)

test("losses on NaN and +-Inf logits and targets", function()
  local ops = {
    bce = function(x) return lg.bce_with_logits(x, hostile(2, 4)) end,
    bce_number = function(x) return lg.bce_with_logits(x, 1) end,
    mse = function(x) return lg.mse(x, hostile(2, 4)) end,
    l1 = function(x) return lg.l1(x, INF) end,
    cross_entropy = function(x) return lg.cross_entropy(x, {1, 4}) end,
    cross_entropy_t = function(x) return lg.cross_entropy(x, lg.tensor{2, 3}) end,
  }
  for name, op in pairs(ops) do run_unary(name, {2, 4}, op, true) end
  assert(isnan(lg.mse(lg.tensor{NAN}, lg.tensor{0}):item()), "mse(nan)")
  eq(lg.l1(lg.tensor{INF}, lg.tensor{0}):item(), INF, "l1(inf)")
end)

test("layers on NaN and +-Inf: conv, pools, batch norm, upsample, dropout", function()
  local ops = {
    conv2d = function(x) return lg.conv2d(x, hostile(3, 2, 3, 3), hostile(3), {padding = 1}) end,
    conv2d_s2 = function(x) return lg.conv2d(x, hostile(3, 2, 2, 2), nil, {stride = 2}) end,
    conv_t = function(x)
      return lg.conv_transpose2d(x, hostile(2, 3, 3, 3), hostile(3),
                                 {stride = 2, padding = 1, output_padding = 1})
    end,
    avg_pool = function(x) return lg.avg_pool2d(x, 2) end,
    avg_pool_pad = function(x) return lg.avg_pool2d(x, 3, {stride = 1, padding = 1}) end,
    max_pool = function(x) return lg.max_pool2d(x, 2) end,
    max_pool_pad = function(x) return lg.max_pool2d(x, 3, {stride = 2, padding = 1}) end,
    upsample = function(x) return lg.upsample_nearest(x, 2) end,
    bn_train = function(x)
      return lg.batch_norm(x, lg.zeros(2), lg.ones(2), hostile(2), hostile(2), true, 0.1, 1e-5)
    end,
    bn_eval = function(x)
      return lg.batch_norm(x, hostile(2), lg.full({2}, INF), nil, nil, false)
    end,
    bn_2d = function(x) return lg.batch_norm(x:view(4, 18), nil, nil, nil, nil, true) end,
    dropout = function(x) return lg.dropout(x, 0.5, true) end,
    dropout_eval = function(x) return lg.dropout(x, 0.5, false) end,
  }
  for name, op in pairs(ops) do run_unary(name, {2, 2, 6, 3}, op, true) end
  raises(function() return lg.dropout(hostile(2), NAN) end, "dropout: p must be in [0, 1)")
  raises(function() return lg.batch_norm(hostile(2, 2), nil, nil, nil, nil, true, 0.1, NAN) end,
         "batch_norm: eps must be >= 0")
  -- a NaN in a pooling window wins, as in torch
  local p = lg.max_pool2d(lg.tensor{{{{1, NAN}, {INF, 0}}}}, 2):item()
  assert(isnan(p), "max_pool keeps nan")
end)

test("shape ops, copies and creation with NaN and +-Inf", function()
  local ops = {
    view = function(x) return x:view(4, 2) end,
    reshape = function(x) return x:t():reshape(8) end,
    expand = function(x) return x:view(2, 1, 4):expand(2, 3, 4) end,
    t = function(x) return x:t() end,
    transpose = function(x) return x:transpose(1, 2) end,
    permute = function(x) return x:permute(2, 1) end,
    narrow = function(x) return x:narrow(2, 2, 2) end,
    squeeze = function(x) return x:view(2, 1, 4):squeeze(2) end,
    unsqueeze = function(x) return x:unsqueeze(1) end,
    contiguous = function(x) return x:t():contiguous() end,
    clone = function(x) return x:clone() end,
    cat = function(x) return lg.cat({x, hostile(1, 4), x}, 1) end,
    detach = function(x) return x:detach() * 2 end,
  }
  for name, op in pairs(ops) do run_unary(name, {2, 4}, op, false) end
  local y = lg.zeros(2, 4)
  y:copy_(hostile(2, 4))
  local v = y:totable()[1]
  assert(isnan(v[1]), "copy_ keeps nan") eq({v[2], v[3]}, {INF, -INF}, "copy_")
  y:fill_(NAN)
  assert(isnan(y:totable()[2][4]), "fill_(nan)")
  y:zero_()
  eq(y:sum():item(), 0, "zero_")
  assert(tostring(hostile(3)):find("nan"), "tostring shows nan")
  assert(isnan(lg.full({2}, NAN):totable()[1]), "full(nan)")
  eq(lg.tensor{INF, -INF}:totable(), {INF, -INF}, "tensor{inf}")
  raises(function() return lg.arange(0, NAN) end, "arange: bounds must be finite")
  raises(function() return lg.arange(0, 1, NAN) end, "arange: step must be a nonzero number")
  raises(function() return lg.arange(0, INF) end, "arange: bounds must be finite")
end)

test("optimizers and clipping on NaN and +-Inf", function()
  local p, g = hostile(8), hostile(8)
  lg.sgd_step(p, g, lg.zeros(8), 0.1, 0.9, 0, 1e-4, true, false)
  lg.adam_step(p, g, lg.zeros(8), lg.zeros(8), NAN, 0.9, 0.999, 1e-8, 0, 3)
  lg.rmsprop_step(p, g, lg.zeros(8), lg.zeros(8), lg.zeros(8), 0.01, 0.99, 1e-8, 0, 0.9, true)
  raises(function() lg.adam_step(p, g, lg.zeros(8), lg.zeros(8), 0.1, 0.9, 0.999, 1e-8, 0, 0) end,
         "adam: step must be >= 1")
  raises(function() lg.clip_(p, NAN, 1) end, "is greater than max 1")   -- "nan" or "-nan"
  lg.clip_(p, -1, 1)
  local c = p:totable()
  for i = 1, 8 do assert(isnan(c[i]) or (c[i] >= -1 and c[i] <= 1), "clip_ range") end
  local w = hostile(4)
  w.requires_grad = true
  w:sum():backward()
  w.grad:fill_(INF)
  eq(lg.clip_grad_norm_({w}, 1), INF, "clip_grad_norm_ reports inf")
end)

test("image grid and resize on NaN and +-Inf", function()
  attempt("grid", function() return lg.image.grid(hostile(3, 1, 4, 4), {nrow = 2, pad_value = NAN}) end)
  attempt("resize down", function() return lg.image.resize(hostile(1, 6, 6), 3, 2) end)
  attempt("resize up", function() return lg.image.resize(hostile(3, 2, 2), 5, 7) end)
  local path = temp_dir() .. "/nan.png"
  lg.image.save(path, hostile(3, 4, 4))   -- NaN saves as black
  eq(lg.image.load(path).shape, {3, 4, 4}, "saved")
end)

test("the rest of the API on NaN and +-Inf: properties, creation, autograd switches, checkpoints", function()
  local x = hostile(2, 3)
  eq({x:size(1), x:size(-1), x:dim(), x:numel(), #x, x:is_contiguous()}, {2, 3, 2, 6, 2, true})
  eq(x.shape, {2, 3})
  assert(lg.is_tensor(x) and not lg.is_tensor(NAN), "is_tensor")
  local copy = lg.tensor(x):totable()
  assert(isnan(copy[1][1]) and copy[1][2] == INF and copy[1][3] == -INF, "tensor(t) copies specials")
  eq(lg.zeros_like(x):sum():item(), 0, "zeros_like")
  eq(lg.ones_like(x):sum():item(), 6, "ones_like")
  local y = lg.no_grad(function() return leaf(2, 3):exp() end)
  assert(not y.requires_grad, "no_grad")
  local prev = lg.set_grad_enabled(false)
  assert(not lg.is_grad_enabled(), "grad mode off")
  lg.set_grad_enabled(prev)
  local z = hostile(3):requires_grad_()
  local zz = z:detach():tanh()
  assert(z.requires_grad and not zz.requires_grad, "requires_grad_ and detach")
  -- a cached normal whose bits are a NaN: randn returns it, nothing converts it
  local state = lg.get_rng_state()
  lg.set_rng_state({state[1], state[2], state[3], state[4], -1})   -- all ones: a NaN
  assert(isnan(lg.randn(1):item()), "the cached NaN comes out")
  lg.set_rng_state(state)
  local path = temp_dir() .. "/nan.safetensors"
  lg.save(path, {w = hostile(2, 4)})
  local t = lg.load(path)
  local w = t.w:totable()
  assert(isnan(w[1][1]) and w[1][2] == INF and w[1][3] == -INF, "NaN and Inf round trip")
end)

test("an nn model on NaN input, forward, backward and a gradient penalty", function()
  local net = nn.Sequential(nn.Conv2d(2, 4, 3, {padding = 1}), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                            nn.Upsample(2), nn.Flatten(), nn.Linear(4 * 12 * 6, 1), nn.Sigmoid())
  local x = leaf(2, 2, 6, 3)
  local y = net:forward(x)
  backward_all("model", y, x, true)
  local ps = net:parameters()
  assert(#ps > 0 and ps[1].grad, "the model got gradients")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- indices

test("index-taking ops reject NaN, Inf and out-of-range indices", function()
  local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  raises(function() return x:index_select(2, lg.tensor{1, NAN}) end, "index_select: index")
  raises(function() return x:index_select(2, lg.tensor{1, NAN}) end, "out of range 1..3 for dim 2")
  raises(function() return x:index_select(2, lg.tensor{INF}) end, "index_select: index inf out of range")
  raises(function() return x:index_select(2, lg.tensor{-INF}) end, "index_select: index -inf out of range")
  raises(function() return x:index_select(1, lg.tensor{1e30}) end, "out of range 1..2 for dim 1")
  raises(function() return x:index_select(1, {3}) end, "index_select: index 3 out of range 1..2")
  raises(function() return x:index_select(1, lg.tensor{1.5}) end, "index_select: index 1.5 out of range 1..2")
  local logits = lg.zeros(2, 3)
  raises(function() return lg.cross_entropy(logits, lg.tensor{1, NAN}) end,
         "nan at position 2 is not a class number")
  raises(function() return lg.cross_entropy(logits, lg.tensor{INF, 1}) end,
         "cross_entropy: label inf at position 1 is out of range 1..3")
  raises(function() return lg.cross_entropy(logits, lg.tensor{1, -INF}) end,
         "cross_entropy: label -inf at position 2 is out of range 1..3")
  raises(function() return lg.cross_entropy(logits, lg.tensor{4, 1}) end, "out of range 1..3")
  raises(function() return lg.cross_entropy(logits, lg.tensor{1e30, 1}) end, "out of range 1..3")
  raises(function() return lg.cross_entropy(logits, {0, 1}) end, "label 0 at position 1")
end)

-- The core checks the labels again in backward (tests/core/test_overflow.c);
-- from Lua the storage version refuses the write first.
test("cross_entropy labels written after the forward pass are refused in backward", function()
  local logits = lg.zeros(2, 3)
  logits.requires_grad = true
  local labels = lg.tensor{1, 2}
  local loss = lg.cross_entropy(logits, labels)
  labels:fill_(NAN)
  raises(function() loss:backward() end, "cross_entropy backward: a tensor saved for backward was modified")
  labels:copy_(lg.tensor{3, 1})
  local loss2 = lg.cross_entropy(logits, labels)
  labels:copy_(lg.tensor{1, 1e9})
  raises(function() loss2:backward() end, "modified by an in-place operation")
  eq(logits.grad, nil, "no gradient from a refused backward")
end)

test("cross_entropy: a label just past a class count that float rounds up", function()
  -- (float)16777219 is 16777220: the label 16777220 passed a float check
  -- and read one past the row
  local c = 16777219
  local logits = lg.zeros(1, c)
  raises(function() return lg.cross_entropy(logits, lg.tensor{c + 1}) end,
         "label 16777220 at position 1 is out of range 1..16777219")
  near(lg.cross_entropy(logits, lg.tensor{c - 1}):item(), math.log(c), 1e-4)
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- overflowing sizes

test("conv2d with padding 2^31-1 after an earlier conv: too large, not a write past the workspace", function()
  lg.conv2d(lg.zeros(1, 1, 4, 4), lg.zeros(1, 1, 3, 3))   -- leaves a workspace behind
  raises(function()
    return lg.conv2d(lg.zeros(1, 1, 2, 2), lg.zeros(0, 1, 1, 1), nil, {padding = 2147483647})
  end, "conv2d: image [1,1,2,2] and grid [1,0,4294967296,4294967296] (kernel 1x1, stride (1,1), " ..
       "padding (2147483647,2147483647)) are too large for the im2col workspace or one sgemm")
  raises(function()
    return lg.conv2d(lg.zeros(1, 1, 2, 2), lg.zeros(1, 1, 1, 1), nil, {padding = 1 << 20})
  end, "too large for the im2col workspace or one sgemm")
  raises(function()
    return lg.conv2d(lg.zeros(1, 1, 2, 2), lg.zeros(1, 1, 1, 1), nil, {padding = (1 << 32) + 1})
  end, "conv2d: padding 4294967297 is out of range")
  -- (2^20 - 1)(2^31 - 1) + 1 rows: no overflow, but no allocation either
  raises(function()
    return lg.conv_transpose2d(lg.zeros(1, 1, 1 << 20, 2), lg.zeros(1, 1, 1, 1), nil,
                               {stride = {2147483647, 1}})
  end, "conv_transpose2d: shape [1,1,2251797665153026,2] is too large")
  -- (2^33 - 1)(2^31 - 1) rows overflow int64 itself
  local tall = lg.zeros(1, 1, 1, 1):expand(1, 1, 1 << 33, 1)
  raises(function()
    return lg.conv_transpose2d(tall, lg.zeros(1, 1, 1, 1), nil, {stride = {2147483647, 1}})
  end, "conv_transpose2d: the output of input [1,1,8589934592,1] with stride (2147483647,1) is too large")
  raises(function() return lg.conv2d(tall, lg.zeros(1, 1, 1, 1), nil, {padding = 3}) end,
         "conv2d: image [1,1,8589934592,1] and grid [1,1,8589934598,7]")
  -- an empty output with sane sizes is still fine
  eq(lg.conv2d(lg.zeros(1, 1, 2, 2), lg.zeros(0, 1, 1, 1), nil, {padding = 3}).shape, {1, 0, 8, 8})
end)

test("pools and upsampling with sizes that overflow", function()
  local huge = lg.zeros(1, 1, 1, 1):expand(1, 1, 1 << 62, 1)
  raises(function() return lg.max_pool2d(huge, 2, {padding = 1}) end, "max_pool2d: shape [1,1,4611686018427387904,1] is too large")
  raises(function() return lg.avg_pool2d(huge, 3, {padding = 1}) end, "avg_pool2d: shape")
  local edge = lg.zeros(1, 1, 1, 1):expand(1, 1, math.maxinteger, 1)
  raises(function() return lg.avg_pool2d(edge, 3, {padding = 1}) end,
         "avg_pool2d: the padded input is too large (padding 1)")
  local wide = lg.zeros(1, 1, 1, 1):expand(1, 1, 1 << 20, 1 << 10)
  raises(function() return lg.upsample_nearest(wide, 4096) end,
         "upsample_nearest: [1,1,1048576,1024] scaled by 4096 is too large")
end)

test("cat of expanded views whose sizes sum past 2^63", function()
  local v = lg.zeros(1):expand(1 << 62)
  raises(function() return lg.cat({v, v, v, lg.zeros(1)}) end,
         "cat: the joined size is too large (it passes 2^63 at tensor 2 of 4)")
  local w = lg.zeros(1):expand((1 << 62) - 1)
  raises(function() return lg.cat({w, lg.zeros(1)}) end, "cat: shape [4611686018427387904] is too large")
  -- many views, grouped under autograd (more than a node's inputs)
  local x = lg.zeros(1)
  x.requires_grad = true
  local parts = {}
  for i = 1, 9 do parts[i] = x:expand(1 << 60) end
  raises(function() return lg.cat(parts) end, "cat: the joined size is too large")
end)

test("shapes whose product overflows though the tensor is empty", function()
  raises(function() return lg.zeros(0, 2^40, 2^40) end,
         "zeros: shape [0,1099511627776,1099511627776] is too large")
  raises(function() return lg.zeros(0, 1 << 40, 1 << 40) end,
         "zeros: shape [0,1099511627776,1099511627776] is too large (its nonzero sizes multiply past 2^36 elements)")
  raises(function() return lg.full({1 << 40, 0, 1 << 40}, NAN) end, "full: shape [1099511627776,0,1099511627776] is too large")
  raises(function() return lg.zeros(1 << 37) end, "zeros: shape [137438953472] is too large (its sizes multiply past 2^36 elements)")
  raises(function() return lg.zeros(0):view(1 << 40, 1 << 40, 0) end,
         "view: shape [1099511627776,1099511627776,0] is too large (its sizes multiply past 2^63)")
  raises(function() return lg.zeros(0):reshape(-1, 1 << 40, 1 << 40) end, "reshape: shape [-1,1099511627776,1099511627776] is too large")
  raises(function() return lg.zeros(4):view(1 << 32, 1 << 32) end, "view: shape [4294967296,4294967296] is too large")
  raises(function() return lg.zeros(4):view(1 << 31, 1 << 31) end, "view: shape [4] (4 elements) cannot become [2147483648,2147483648]")
  raises(function() return lg.zeros(1, 1):expand(1 << 32, 1 << 32, 1 << 32) end,
         "expand: shape [4294967296,4294967296,4294967296] is too large (its sizes multiply past 2^63)")
  -- a view may be larger than any allocation; materialising it is refused
  local e = lg.zeros(1, 1):expand(1 << 31, 1 << 31)
  eq(e:numel(), 1 << 62)
  raises(function() return e:contiguous() end, "contiguous: shape [2147483648,2147483648] is too large")
  raises(function() return e + 1 end, "add: shape [2147483648,2147483648] is too large")
  raises(function() return e * e end, "mul: shape [2147483648,2147483648] is too large")
  raises(function() return e:exp() end, "exp: shape [2147483648,2147483648] is too large")
  raises(function() return e:copy_(lg.zeros(1)) end,
         "copy: destination shape [2147483648,2147483648] is too large")
  eq(lg.zeros(0, 3):view(3, 0).shape, {3, 0})
end)

test("narrow with start + length past math.maxinteger", function()
  local x = lg.zeros(3, 4)
  raises(function() return x:narrow(2, 2, math.maxinteger) end,
         "narrow: start 2 and length 9223372036854775807 out of range for dim 2 of size 4")
  raises(function() return x:narrow(1, math.maxinteger, 1) end, "narrow: start 9223372036854775807")
  raises(function() return x:narrow(1, math.mininteger, 1) end, "out of range for dim 1 of size 3")
  raises(function() return lg.zeros(4):narrow(1, 2, math.maxinteger) end,
         "narrow: start 2 and length 9223372036854775807 out of range for dim 1 of size 4")
  eq(x:narrow(2, 2, 3).shape, {3, 3})
end)

-- }----------------------------------------------------------

test("image.grid of an expanded batch or with a huge padding: too large, no overflow", function()
  raises(function() return lg.image.grid(lg.zeros(1, 1, 1, 1):expand(1, 1, math.maxinteger, 1)) end,
         "image.grid: shape [1,1,9223372036854775807,1] is too large")
  raises(function() return lg.image.grid(lg.zeros(3, 1, 1, 1), {padding = 2^31 - 1}) end,
         "image.grid: shape [1,4294967295,8589934591] is too large")
  eq(lg.image.grid(lg.zeros(4, 1, 2, 2), {nrow = 2, padding = 1}).shape, {1, 7, 7})
end)
