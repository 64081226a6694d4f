-- lg.conv3d, lg.conv_transpose3d, nn.Conv3d, nn.ConvTranspose3d and
-- nn.BatchNorm3d from Lua: values by hand, options, gradients of every input
-- against central finite differences to first and second order, a
-- gradient penalty on a small 3-D critic, errors with 1-based dims.
local lg = require "luagan"
local nn = lg.nn

local function flat(t) return t:reshape(-1):totable() end

-- {---------------------------------------------------------- finite differences

-- The gradient of sum(f(xs) .* w) with respect to xs[i], by central
-- differences over its (float32) values, summed in double by :item().
local function numgrad(f, xs, i, w, h)
  h = h or 1e-2
  local vals, shape, g = flat(xs[i]), xs[i].shape, {}
  local function loss(v)
    local args = {table.unpack(xs)}
    args[i] = lg.tensor(v):reshape(shape)
    return (f(table.unpack(args)) * w):sum():item()
  end
  for k = 1, #vals do
    local p, m = {table.unpack(vals)}, {table.unpack(vals)}
    p[k], m[k] = p[k] + h, m[k] - h
    g[k] = (loss(p) - loss(m)) / (2 * h)
  end
  return g
end

-- leaves of xs (fresh copies that require grad)
local function leaves(xs)
  local ls = {}
  for i, x in ipairs(xs) do
    ls[i] = x:detach():clone()
    ls[i].requires_grad = true
  end
  return ls
end

-- first order: every input of f
local function gradcheck(msg, f, xs)
  local w = lg.randn(table.unpack(f(table.unpack(xs)).shape))
  local ls = leaves(xs)
  local gs = lg.grad((f(table.unpack(ls)) * w):sum(), ls)
  for i = 1, #xs do near(flat(gs[i]), numgrad(f, xs, i, w), 2e-2, msg .. " input " .. i) end
end

-- second order: H(xs) = sum_i sum(g_i .* w2_i), g_i the first-order gradients
-- (create_graph); its gradient with respect to each input against
-- differences of H
local function gradgradcheck(msg, f, xs)
  local w = lg.randn(table.unpack(f(table.unpack(xs)).shape))
  local w2 = {}
  for i, x in ipairs(xs) do w2[i] = lg.randn(table.unpack(x.shape)) end
  local function H(graph, ...)
    local ls = {...}
    if not graph then ls = leaves(ls) end
    local gs = lg.grad((f(table.unpack(ls)) * w):sum(), ls, {create_graph = graph})
    local h = (gs[1] * w2[1]):sum()
    for i = 2, #gs do h = h + (gs[i] * w2[i]):sum() end
    return h
  end
  local ls = leaves(xs)
  local an = lg.grad(H(true, table.unpack(ls)), ls)
  for i = 1, #xs do
    local num = numgrad(function(...) return H(false, ...) end, xs, i, lg.tensor(1))
    near(flat(an[i]), num, 3e-2, msg .. " input " .. i .. " (second order)")
  end
end

-- }----------------------------------------------------------

test("conv3d: a 1x1x1 kernel mixes channels, a 2x2x2 box sums neighbours", function()
  local x = lg.arange(16):view(1, 2, 2, 2, 2)
  local y = lg.conv3d(x, lg.tensor{1, 10}:view(1, 2, 1, 1, 1), lg.tensor{0.5})
  eq(y.shape, {1, 1, 2, 2, 2})
  eq(flat(y), {80.5, 91.5, 102.5, 113.5, 124.5, 135.5, 146.5, 157.5})
  -- x[t,h,w] = 9t + 3h + w: 8 (9t + 3h + w) + 52
  local cube = lg.arange(27):view(1, 1, 3, 3, 3)
  eq(flat(lg.conv3d(cube, lg.ones(1, 1, 2, 2, 2))), {52, 60, 76, 84, 124, 132, 148, 156})
  -- stride 2, padding 1: each dim's windows cover {1} and {2, 3} (1-based)
  eq(flat(lg.conv3d(cube, lg.ones(1, 1, 2, 2, 2), {stride = 2, padding = 1})),
     {0, 3, 9, 24, 27, 60, 72, 156})
end)

test("conv3d: per-dim {t, h, w} options give PyTorch's output sizes", function()
  local x, w = lg.randn(2, 3, 5, 7, 9), lg.randn(4, 3, 3, 2, 4)
  local y = lg.conv3d(x, w, nil, {stride = {1, 2, 3}, padding = {1, 0, 2}})
  -- floor((5+2-3)/1)+1, floor((7-2)/2)+1, floor((9+4-4)/3)+1
  eq(y.shape, {2, 4, 5, 3, 4})
  eq(lg.conv3d(x, w, {stride = {1, 2, 3}, padding = {1, 0, 2}}).shape, y.shape)
  local t = lg.conv_transpose3d(y, lg.randn(4, 3, 3, 2, 4), nil,
    {stride = {1, 2, 3}, padding = {1, 0, 2}, output_padding = {0, 1, 2}})
  -- (5-1) - 2 + 3 + 0, (3-1) 2 + 2 + 1, (4-1) 3 - 4 + 4 + 2
  eq(t.shape, {2, 3, 5, 7, 11})
end)

test("conv_transpose3d: stride 2 places copies of the kernel side by side", function()
  local x, w = lg.tensor{1, 10}:view(1, 1, 2, 1, 1), lg.tensor{1, 2}:view(1, 1, 2, 1, 1)
  eq(flat(lg.conv_transpose3d(x, w, lg.tensor{0.25}, {stride = {2, 1, 1}})), {1.25, 2.25, 10.25, 20.25})
  eq(flat(lg.conv_transpose3d(x, w, {stride = {2, 1, 1}, output_padding = {1, 0, 0}})),
     {1, 2, 10, 20, 0})
end)

test("conv3d and conv_transpose3d gradients match finite differences, first and second order", function()
  lg.manual_seed(11)
  local R = lg.randn
  local conv = function(o) return function(x, w, b) return lg.conv3d(x, w, b, o) end end
  local convt = function(o) return function(x, w, b) return lg.conv_transpose3d(x, w, b, o) end end
  gradcheck("conv3d k3 p1", conv{padding = 1}, {R(2, 2, 3, 3, 3), R(2, 2, 3, 3, 3), R(2)})
  gradcheck("conv3d odd", conv{stride = {2, 1, 3}, padding = {1, 0, 1}},
            {R(1, 2, 4, 3, 5), R(2, 2, 3, 2, 2), R(2)})
  gradcheck("conv_transpose3d s2", convt{stride = 2, padding = 1},
            {R(1, 2, 2, 2, 2), R(2, 3, 4, 4, 4), R(3)})
  gradcheck("conv_transpose3d outpad", convt{stride = {2, 1, 3}, padding = {0, 1, 1},
            output_padding = {1, 0, 2}}, {R(1, 2, 2, 3, 2), R(2, 2, 2, 3, 3), R(2)})
  -- through tanh, so that second-order terms mix x and w
  local function tanh_of(f) return function(...) return f(...):tanh() end end
  local U = function(...) return lg.rand(...) - 0.5 end
  gradgradcheck("conv3d s2", tanh_of(conv{stride = 2, padding = 1}),
                {U(1, 2, 4, 4, 4), U(2, 2, 3, 3, 3) * 0.6, U(2) * 0.6})
  gradgradcheck("conv_transpose3d", tanh_of(convt{stride = {2, 1, 2}, padding = {1, 0, 0},
                output_padding = {1, 0, 1}}), {U(1, 2, 2, 2, 2), U(2, 2, 3, 2, 3), U(2) * 0.6})
end)

test("batch_norm and nn.BatchNorm3d on [N,C,T,H,W]: statistics per channel, gradients", function()
  lg.manual_seed(12)
  local bn = nn.BatchNorm3d(3)
  local x = lg.randn(4, 3, 2, 3, 3) * 2 + 1
  local y = bn(x)
  eq(y.shape, {4, 3, 2, 3, 3})
  local m = y:permute(2, 1, 3, 4, 5):reshape(3, -1)
  near(flat(m:mean(2)), {0, 0, 0}, 1e-5)
  near(flat((m * m):mean(2)), {1, 1, 1}, 1e-3)
  local mean = flat(x:permute(2, 1, 3, 4, 5):reshape(3, -1):mean(2))
  near(flat(bn.running_mean), {mean[1] * 0.1, mean[2] * 0.1, mean[3] * 0.1}, 1e-5)
  eq(bn.num_batches_tracked:item(), 1)
  bn:eval()
  eq(bn(x).shape, x.shape)
  raises(function() bn(lg.randn(2, 3, 4, 4)) end, "BatchNorm3d: expected a 5-D input, got shape [2,3,4,4]")
  raises(function() bn(lg.randn(2, 4, 1, 2, 2)) end, "4 channels of input [2,4,1,2,2]")
  local f = function(v, w, b) return lg.batch_norm(v, nil, nil, w, b, true):tanh() end
  gradcheck("batch_norm 5-D", f, {lg.randn(2, 2, 2, 1, 3), lg.rand(2) + 0.5, lg.randn(2) * 0.3})
  gradgradcheck("batch_norm 5-D", f, {lg.randn(2, 2, 2, 1, 3), lg.rand(2) + 0.5, lg.randn(2) * 0.3})
  raises(function() lg.batch_norm(lg.randn(2, 2, 1, 1, 1, 2), nil, nil, nil, nil, true) end,
         "batch_norm: input must be [N,C], [N,C,L], [N,C,H,W] or [N,C,T,H,W], got [2,2,1,1,1,2]")
end)

test("nn.Conv3d and nn.ConvTranspose3d: shapes, PyTorch's init bounds, options, repr", function()
  lg.manual_seed(13)
  local c = nn.Conv3d(3, 8, 4, 2, 1)
  eq(c.weight.shape, {8, 3, 4, 4, 4})
  eq(c.bias.shape, {8})
  local bound = 1 / math.sqrt(3 * 64)   -- kaiming_uniform(a = sqrt 5) = U(-1/sqrt(fan_in), ..)
  assert(c.weight:abs():max():item() <= bound and c.weight:abs():max():item() > 0.9 * bound)
  assert(c.bias:abs():max():item() <= bound)
  eq(c(lg.randn(2, 3, 8, 16, 16)).shape, {2, 8, 4, 8, 8})
  eq(tostring(c), "Conv3d(3 -> 8, k4x4x4, s2x2x2, p1x1x1)")
  local t = nn.ConvTranspose3d(8, 3, {4, 3, 3}, {stride = {2, 1, 1}, padding = {1, 1, 1},
                               output_padding = {1, 0, 0}, bias = false})
  eq(t.weight.shape, {8, 3, 4, 3, 3})
  eq(t.bias, nil)
  bound = 1 / math.sqrt(3 * 36)   -- PyTorch's fan_in of a transposed weight: size(2) * k
  assert(t.weight:abs():max():item() <= bound)
  eq(t(lg.randn(2, 8, 4, 8, 8)).shape, {2, 3, 9, 8, 8})
  eq(tostring(t), "ConvTranspose3d(8 -> 3, k4x3x3, s2x1x1, p1x1x1, op1x0x0, no bias)")
  -- dilation as a dense kernel with zeros between the taps equals the taps alone
  local d = nn.Conv3d(2, 1, 2, {dilation = {2, 1, 1}, bias = false})
  local x = lg.randn(1, 2, 3, 2, 2)
  local taps = lg.conv3d(x:narrow(3, 1, 1), d.weight:narrow(3, 1, 1)) +
               lg.conv3d(x:narrow(3, 3, 1), d.weight:narrow(3, 2, 1))
  near(flat(d(x)), flat(taps), 1e-5)
  raises(function() nn.Conv3d(3, 8, {4, 4}) end,
         "Conv3d: kernel_size must be a positive integer or {kt, kh, kw}, got {4, 4}")
  raises(function() nn.ConvTranspose3d(3, 8, 4, {stride = {2, 2}}) end,
         "ConvTranspose3d: stride must be a positive integer or {t, h, w}, got {2, 2}")
  raises(function() nn.Conv3d(3, 8, 3, {groups = 2}) end,
         "Conv3d: in_channels (3) and out_channels (8) must both be divisible by groups (2)")
end)

test("a gradient penalty through a small 3-D critic differentiates twice", function()
  lg.manual_seed(14)
  local D = nn.Sequential(nn.Conv3d(1, 2, 3, 2, 1), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 8, 1))
  local params = D:parameters()
  local function penalty(...)
    local ws = {...}
    local x = ws[#ws]
    local h = lg.conv3d(x, ws[1], ws[2], {stride = 2, padding = 1}):tanh():reshape(x:size(1), -1)
    local out = lg.linear(h, ws[3], ws[4]):sum()
    local g = lg.grad(out, x, {create_graph = true})
    return ((g * g):sum() - 1) ^ 2
  end
  local x = lg.rand(2, 1, 4, 4, 4) - 0.5
  local xs = {params[1]:detach(), params[2]:detach(), params[3]:detach(), params[4]:detach(), x}
  for i = 1, 4 do xs[i].requires_grad = false end
  -- the penalty's gradient with respect to the conv weight and bias
  local ls = leaves(xs)
  local an = lg.grad(penalty(table.unpack(ls)), {ls[1], ls[2]})
  local function P(...)
    local args = {...}
    args[5] = args[5]:detach()
    args[5].requires_grad = true
    return penalty(table.unpack(args))
  end
  near(flat(an[1]), numgrad(P, xs, 1, lg.tensor(1)), 3e-2, "penalty wrt conv weight")
  near(flat(an[2]), numgrad(P, xs, 2, lg.tensor(1)), 3e-2, "penalty wrt conv bias")
end)

test("errors name the op and the shapes; options are checked before tensors", function()
  local x, w = lg.randn(1, 3, 4, 5, 5), lg.randn(2, 3, 3, 3, 3)
  raises(function() lg.conv3d(lg.randn(1, 3, 5, 5), w) end,
         "conv3d: input must be 5-D [N,C,T,H,W], got [1,3,5,5]")
  raises(function() lg.conv3d(x, lg.randn(2, 2, 3, 3, 3)) end,
         "conv3d: input has 3 channels but weight [2,2,3,3,3] expects 2")
  raises(function() lg.conv3d(x, lg.randn(2, 3, 7, 3, 3), nil, {padding = 1}) end, "along t")
  raises(function() lg.conv3d(x, w, lg.randn(3)) end, "conv3d: bias must be [2], got [3]")
  raises(function() lg.conv3d(x, w, {stride = {1, 2}}) end,
         "conv3d: stride must be an integer or a triple {t, h, w}, got a table of 2 entries")
  raises(function() lg.conv3d(x, w, {stride = 0}) end, "stride")
  raises(function() lg.conv3d(x, w, {output_padding = 1}) end, "output_padding")
  raises(function() lg.conv3d(x, w, {padding = 1}, {}) end, "give the options as the last argument")
  local wt = lg.randn(3, 2, 3, 3, 3)
  raises(function() lg.conv_transpose3d(x, wt, nil, {stride = 2, output_padding = {0, 2, 0}}) end,
         "conv_transpose3d: output_padding (0,2,0) must be >= 0 and smaller than stride (2,2,2)")
  raises(function() lg.conv_transpose3d(x, wt, nil, {padding = 5}) end, "is not positive")
  raises(function() lg.conv3d(x, w, nil, {padding = 2 ^ 31 - 1}) end, "too large")
end)
