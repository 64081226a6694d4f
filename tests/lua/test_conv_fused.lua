-- The fused convolution + activation from Lua: lg.conv2d's act option,
-- nn.Conv2d's second argument and nn.Sequential's fusion of a Conv2d with the
-- ReLU or LeakyReLU after it.  Values and gradients must be those of the
-- unfused modules run one by one, exactly; the option errors.
local lg = require "luagan"
local nn = lg.nn

-- max |a - b| over every element (0 when identical)
local function maxdiff(a, b) return (a - b):abs():max():item() end

-- The Sequential's output and parameter gradients, fused (calling it) and
-- unfused (its modules' forwards one by one), for the same input.
local function both_ways(S, x)
  local out = {}
  for k, run in ipairs {function() return S(x) end,
                        function()
                          local h = x
                          for i = 1, #S do h = S[i]:forward(h) end
                          return h
                        end} do
    for _, p in ipairs(S:parameters()) do p.grad = nil end
    local y = run();
    (y * y):sum():backward()
    local grads = {}
    for i, p in ipairs(S:parameters()) do grads[i] = p.grad:clone() end
    out[k] = {y = y, grads = grads}
  end
  return out[1], out[2]
end

test("Sequential fuses Conv2d + ReLU / LeakyReLU with identical values and gradients", function()
  lg.manual_seed(3)
  -- a direct-path conv (stride 1, 28 wide), a column-path one (stride 2),
  -- a 1x1 one, a negative slope (not fused) and a conv with nothing after it
  local S = nn.Sequential(nn.Conv2d(1, 16, 3, {padding = 1}), nn.ReLU(),
    nn.Conv2d(16, 16, 3, {padding = 1}), nn.LeakyReLU(0.2),
    nn.Conv2d(16, 8, 3, {stride = 2, padding = 1}), nn.ReLU(),
    nn.Conv2d(8, 8, 1), nn.LeakyReLU(-0.5), nn.Conv2d(8, 2, 1))
  local fused, plain = both_ways(S, lg.randn(3, 1, 28, 28))
  eq(maxdiff(fused.y, plain.y), 0)
  eq(#fused.grads, 10)
  for i = 1, #fused.grads do eq(maxdiff(fused.grads[i], plain.grads[i]), 0, "parameter " .. i) end
end)

test("the fused op is recorded as conv2d_act; an overridden forward is not fused", function()
  local conv = nn.Conv2d(2, 6, 3, {padding = 1})
  local x = lg.randn(1, 2, 5, 30)
  local y = nn.Sequential(conv, nn.ReLU())(x)
  eq(tostring(y.grad_fn), "conv2d_act")
  local seen = 0
  local Noisy = nn.Conv2d:extend("Noisy")
  function Noisy:forward(x) seen = seen + 1; return nn.Conv2d.forward(self, x) * 2 end
  local n = Noisy(2, 6, 3, {padding = 1})
  local z = nn.Sequential(n, nn.ReLU())(x)
  eq(seen, 1)
  eq(tostring(z.grad_fn), "relu")
  eq(maxdiff(z, (n:forward(x)):relu()), 0)
end)

test("Conv2d(x, {act = ...}) and lg.conv2d's act option", function()
  lg.manual_seed(4)
  local conv = nn.Conv2d(3, 12, 3, {padding = 1})
  local x = lg.randn(2, 3, 9, 28)
  eq(maxdiff(conv(x, {act = "relu"}), conv(x):relu()), 0)
  eq(maxdiff(conv(x, {act = "leaky_relu", negative_slope = 0.1}), conv(x):leaky_relu(0.1)), 0)
  -- leaky_relu's default slope, as x:leaky_relu()
  local w, b = conv.weight, conv.bias
  eq(maxdiff(lg.conv2d(x, w, b, {padding = 1, act = "leaky_relu"}),
             lg.conv2d(x, w, b, {padding = 1}):leaky_relu(0.01)), 0)
  eq(maxdiff(lg.conv2d(x, w, {stride = 2, act = "relu"}), lg.conv2d(x, w, {stride = 2}):relu()), 0)
end)

test("a residual block with add = x matches (x + conv(h)):relu(), values and gradients", function()
  lg.manual_seed(6)
  local c1, c2 = nn.Conv2d(16, 16, 3, {padding = 1}), nn.Conv2d(16, 16, 3, {padding = 1})
  local x0 = lg.randn(2, 16, 6, 28)
  local function block(fused)
    local x = x0:clone()
    x.requires_grad = true
    for _, p in ipairs {c1.weight, c1.bias, c2.weight, c2.bias} do p.grad = nil end
    local y = fused and c2(c1(x, {act = "relu"}), {add = x, act = "relu"})
              or (x + c2(c1(x):relu())):relu()
    ;(y * y):sum():backward()
    return y, x.grad, c1.weight.grad, c2.bias.grad
  end
  local a, b = {block(true)}, {block(false)}
  eq(tostring(a[1].grad_fn), "conv2d_act")
  for i = 1, 4 do eq(maxdiff(a[i], b[i]), 0, "result " .. i) end
  -- add alone: no activation
  local h = lg.randn(2, 16, 6, 28)
  eq(maxdiff(c2(h, {add = x0}), c2(h) + x0), 0)
end)

test("second-order gradients through the fused op match the unfused ones", function()
  lg.manual_seed(5)
  local conv = nn.Conv2d(2, 8, 3, {padding = 1})
  local x = lg.randn(2, 2, 4, 26)
  local function penalty(fused)
    local xi = x:clone()
    xi.requires_grad = true
    local y = fused and conv(xi, {act = "leaky_relu", negative_slope = 0.2})
              or conv(xi):leaky_relu(0.2)
    local g = lg.grad((y * y):sum(), xi, {create_graph = true})
    conv.weight.grad = nil
    ;(g * g):sum():backward()
    return conv.weight.grad:clone()
  end
  eq(maxdiff(penalty(true), penalty(false)), 0)
end)

-- backward masks the activation's gradient in place when only the pass holds
-- it (core: lg_act_grad): the same values as into a new tensor, and a
-- gradient the caller passed in, or a leaf's .grad that shares it, is never
-- written.  Two sizes: 1,600 values (one thread) and 163,840 (above
-- LG_PAR_MIN: split over two threads).
local function masked_in_place(n, h, w)
  lg.manual_seed(9)
  local conv = nn.Conv2d(3, 8, 3, {padding = 1})
  local x0, k = lg.randn(n, 3, h, w), lg.randn(n, 8, h, w)
  local function run(how)
    local x = x0:clone()
    x.requires_grad = true
    conv.weight.grad, conv.bias.grad = nil, nil
    local y = how == "leaky" and lg.leaky_relu(conv(x) * 1, 0.2)
              or how == "relu" and lg.relu(conv(x) * 1)
              or conv(x, {act = "relu"})
    local g = k:clone()
    if how == "given" then
      y:backward(g)                       -- the caller's g: not the pass's own
      eq(maxdiff(g, k), 0, "the caller's gradient was written")
    else
      (y * k):sum():backward()            -- mul's backward makes the pass's own copy of k
    end
    return {x.grad, conv.weight.grad, conv.bias.grad}
  end
  local given, own = run("given"), run("fused")
  for i = 1, 3 do eq(maxdiff(given[i], own[i]), 0, "gradient " .. i) end
  -- the standalone relu and leaky_relu, against their unfused value
  local r = run("relu")
  for i = 1, 3 do eq(maxdiff(r[i], own[i]), 0, "relu gradient " .. i) end
  local x = x0:clone()
  x.requires_grad = true
  conv.weight.grad = nil
  local z = conv(x) * 1;
  (lg.where(z:gt(0), z, z * 0.2) * k):sum():backward()
  local want = conv.weight.grad:clone()
  eq(maxdiff(run("leaky")[2], want), 0, "leaky_relu weight gradient")
  -- a leaf and the activation sharing one gradient tensor (add hands both the same)
  local b = lg.zeros(n, 8, h, w)
  b.requires_grad = true
  x = x0:clone()
  local y = conv(x, {act = "relu"});
  ((y + b) * k):sum():backward()
  eq(maxdiff(b.grad, k), 0, "the leaf's .grad was masked")
end

test("the activation's gradient is masked in place only when nobody else holds it", function()
  masked_in_place(2, 5, 20)
end)

test("the in-place mask split over two threads gives the one-thread values", function()
  local threads = lg.get_num_threads()
  lg.set_num_threads(2)
  local ok, err = pcall(masked_in_place, 4, 64, 80)
  lg.set_num_threads(threads)
  assert(ok, err)
end)

test("act option errors", function()
  local x, w = lg.randn(1, 2, 5, 5), lg.randn(3, 2, 3, 3)
  raises(function() lg.conv2d(x, w, {act = "tanh"}) end,
         'conv2d: act must be "relu" or "leaky_relu", got tanh')
  raises(function() lg.conv2d(x, w, {act = true}) end, "got boolean")
  raises(function() lg.conv2d(x, w, {negative_slope = 0.2}) end,
         'conv2d: negative_slope needs act = "leaky_relu"')
  raises(function() lg.conv2d(x, w, {act = "leaky_relu", negative_slope = -1}) end,
         "conv2d: negative_slope must be >= 0 to fuse")
  raises(function() lg.conv2d(x, w, {activation = "relu"}) end, "unknown option 'activation'")
  raises(function() nn.Conv2d(2, 3, 3)(x, "relu") end, "Conv2d: the second argument must be a table")
  raises(function() lg.conv2d(x, w, {act = "relu", add = 1}) end, "conv2d: add must be a tensor, got number")
  raises(function() lg.conv2d(x, w, {add = lg.zeros(1, 3, 3, 4)}) end,
         "add must have the output's shape [1,3,3,3], got [1,3,3,4]")
end)
