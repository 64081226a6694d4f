-- More nn modules (lua/luagan/nn.lua): Conv1d, dilation, Embedding,
-- LayerNorm, GroupNorm, InstanceNorm, ModuleList, ModuleDict, and PyTorch's
-- positional constructor arguments with their error messages.  Reference
-- values are closed forms computed in the test (no PyTorch needed);
-- gradients are checked against central finite differences, to second order
-- for the norm layers (gradient penalties differentiate through them).
local lg = require "luagan"
local nn = lg.nn

local function flat(t)
  local out = {}
  local function walk(v)
    if type(v) == "table" then for _, x in ipairs(v) do walk(x) end
    else out[#out + 1] = v end
  end
  walk(lg.is_tensor(t) and t:totable() or t)
  return out
end

local function sorted(keys_of)
  local out = {}
  for k in pairs(keys_of) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function set(t, values) lg.no_grad(function() t:copy_(values) end) end

-- The gradient-penalty shape: sum((d weighted(m(x)) / dx)^2), as a function
-- to be differentiated once more.
local function penalty(m, x)
  local gx = lg.grad(weighted(m(x)), x, {create_graph = true})
  return (gx * gx):sum()
end

local function leaf(t) t.requires_grad = true return t end

-- saves m's state dict, loads it into fresh (a module of the same class
-- built with other random values) and checks the outputs then agree
local function round_trip(m, fresh, x)
  local path = temp_dir() .. "/m.safetensors"
  lg.save(path, m:state_dict())
  local sd = lg.load(path)
  eq(sorted(sd), sorted(m:state_dict()))
  fresh:load_state_dict(sd)
  m:eval()
  fresh:eval()
  eq(fresh(x):totable(), m(x):totable())
  for k, t in pairs(m:state_dict()) do eq(fresh:state_dict()[k]:totable(), t:totable(), k) end
end

-- {====================================================== convolutions

test("Conv1d: [cout,cin,k] weight, known values with padding, stride, dilation", function()
  local m = nn.Conv1d(1, 1, 3, {padding = 1})
  eq(m.weight.shape, {1, 1, 3})
  eq(m.bias.shape, {1})
  set(m.weight, lg.tensor{{{1, 0, -1}}})
  set(m.bias, lg.tensor{0.5})
  local x = lg.tensor{{{1, 2, 3, 4, 5}}}
  -- y_j = x_{j-1} - x_{j+1} + 0.5 with zeros outside
  eq(m(x):totable(), {{{-1.5, -1.5, -1.5, -1.5, 4.5}}})
  local s = nn.Conv1d(1, 1, 3, {stride = 2, padding = 1})
  set(s.weight, m.weight)
  set(s.bias, m.bias)
  eq(s(x):totable(), {{{-1.5, -1.5, 4.5}}})
  -- dilation 2: y_j = x_j + 10 x_{j+2} + 100 x_{j+4}
  local d = nn.Conv1d(1, 1, 3, {dilation = 2, bias = false})
  eq(d.bias, nil)
  set(d.weight, lg.tensor{{{1, 10, 100}}})
  eq(d(lg.tensor{{{1, 2, 3, 4, 5, 6, 7}}}):totable(), {{{531, 642, 753}}})
  -- out length floor((L + 2p - d(k-1) - 1) / s) + 1
  eq(nn.Conv1d(3, 5, 4, {stride = 3, padding = 2, dilation = 2})(lg.randn(2, 3, 20)).shape,
     {2, 5, 6})
end)

test("Conv1d equals conv2d on [N,C,1,L] with the weight viewed [cout,cin,1,k]", function()
  lg.manual_seed(11)
  local m = nn.Conv1d(3, 4, 5, 2, 1)
  local x = lg.randn(2, 3, 12)
  local w = m.weight
  local ref = lg.conv2d(x:view(2, 3, 1, 12), w:view(4, 3, 1, 5), m.bias,
                        {stride = {1, 2}, padding = {0, 1}})
  eq(m(x).shape, {2, 4, 5})
  eq(m(x):totable(), ref:view(2, 4, 5):totable())
  raises(function() m(lg.randn(2, 3, 1, 12)) end,
         "Conv1d: expected a 3-D input [N,C,L], got shape [2,3,1,12]")
  -- default init as PyTorch: U(-1/sqrt(cin k), 1/sqrt(cin k))
  local big = nn.Conv1d(16, 32, 4)
  local bound = 1 / math.sqrt(16 * 4)
  assert(big.weight:abs():max():item() <= bound)
  assert(big.weight:abs():max():item() > 0.9 * bound)
end)

test("Conv1d: gradients of input, weight and bias match central differences", function()
  lg.manual_seed(12)
  local m = nn.Conv1d(2, 3, 3, {stride = 2, padding = 1, dilation = 2})
  local x = leaf(lg.randn(2, 2, 9))
  gradcheck_leaf(function() return weighted(m(x)) end, x)
  gradcheck_leaf(function() return weighted(m(x)) end, m.weight)
  gradcheck_leaf(function() return weighted(m(x)) end, m.bias)
end)

test("Conv2d dilation: the taps d apart, by hand; gradients by differences", function()
  local m = nn.Conv2d(1, 1, 2, {dilation = 2, bias = false})
  set(m.weight, lg.tensor{{{{1, 2}, {3, 4}}}})
  -- x[i][j] = 4i + j: y = x + 2 x(j+2) + 3 x(i+2) + 4 x(i+2, j+2) = 10 x + 68
  local y = m(lg.arange(16):reshape(1, 1, 4, 4))
  eq(y:totable(), {{{{68, 78}, {108, 118}}}})
  -- per-axis dilation {1, 3} on a 3x2 kernel: height 3, width 4
  local r = nn.Conv2d(2, 3, {3, 2}, {dilation = {1, 3}, padding = {1, 0}})
  eq(r(lg.randn(1, 2, 6, 9)).shape, {1, 3, 6, 6})
  lg.manual_seed(13)
  local g = nn.Conv2d(2, 2, 2, {dilation = {2, 1}, stride = 1, padding = 1})
  local x = leaf(lg.randn(1, 2, 4, 4))
  gradcheck_leaf(function() return weighted(g(x)) end, x)
  gradcheck_leaf(function() return weighted(g(x)) end, g.weight)
end)

test("ConvTranspose2d dilation is the adjoint of dilated Conv2d", function()
  -- <conv_t(y; w), x> = <y, conv(x; w)> for the same w, stride, padding, dilation
  lg.manual_seed(14)
  local c = nn.Conv2d(3, 2, 3, {stride = 2, padding = 2, dilation = 2, bias = false})
  local t = nn.ConvTranspose2d(2, 3, 3, {stride = 2, padding = 2, dilation = 2, bias = false})
  set(t.weight, c.weight)
  local x, y = lg.randn(1, 3, 9, 9), lg.randn(1, 2, 5, 5)
  eq(c(x).shape, {1, 2, 5, 5})       -- floor((9 + 4 - 2 (3 - 1) - 1) / 2) + 1
  eq(t(y).shape, {1, 3, 9, 9})       -- (5 - 1) 2 - 4 + 2 (3 - 1) + 1
  near((t(y) * x):sum():item(), (y * c(x)):sum():item(), 1e-4)
  -- output_padding 1 reaches the 10x10 inputs that also give 5x5
  -- (positional: stride, padding, output_padding, groups, bias, dilation)
  local tp = nn.ConvTranspose2d(2, 3, 3, 2, 2, 1, 1, false, 2)
  set(tp.weight, c.weight)
  local x10 = lg.randn(1, 3, 10, 10)
  eq(c(x10).shape, {1, 2, 5, 5})
  eq(tp(y).shape, {1, 3, 10, 10})
  near((tp(y) * x10):sum():item(), (y * c(x10)):sum():item(), 1e-4)
  assert(tostring(tp):find("d2x2", 1, true), tostring(tp))
  lg.manual_seed(15)
  local g = nn.ConvTranspose2d(2, 2, 2, {stride = 2, dilation = 2})
  local yl = leaf(lg.randn(1, 2, 3, 3))
  gradcheck_leaf(function() return weighted(g(yl)) end, yl)
  gradcheck_leaf(function() return weighted(g(yl)) end, g.weight)
end)

-- The dense weight of a grouped layer: block g of dim 1 (output channels
-- for a conv, input channels transposed) holds the grouped weight's rows of
-- group g at columns (dim 2) g*per .. g*per+per-1; zeros elsewhere.
local function block_diagonal(w, groups, per)
  local shape = {table.unpack(w.shape)}
  shape[2] = per * groups
  local dense = lg.zeros(shape)
  local rows = w.shape[1] // groups
  lg.no_grad(function()
    for g = 0, groups - 1 do
      dense:narrow(1, g * rows + 1, rows):narrow(2, g * per + 1, per)
           :copy_(w:narrow(1, g * rows + 1, rows))
    end
  end)
  return dense
end

test("groups: each block of channels sees only its own inputs (a block-diagonal dense layer)", function()
  lg.manual_seed(31)
  local cases = {
    {nn.Conv2d, nn.Conv2d, {6, 4, 3, {stride = 2, padding = 1, groups = 2}}, {2, 6, 7, 7}},
    {nn.Conv2d, nn.Conv2d, {4, 8, 3, {padding = 1, dilation = 2, groups = 4}}, {2, 4, 6, 6}},  -- depthwise
    {nn.ConvTranspose2d, nn.ConvTranspose2d, {6, 9, 4, {stride = 2, padding = 1, groups = 3}}, {2, 6, 3, 3}},
    {nn.Conv1d, nn.Conv1d, {4, 6, 3, {padding = 1, groups = 2}}, {3, 4, 9}},
    {nn.Conv3d, nn.Conv3d, {4, 2, 3, {padding = 1, groups = 2}}, {1, 4, 3, 4, 4}},
    {nn.ConvTranspose3d, nn.ConvTranspose3d, {4, 6, 2, {stride = 2, groups = 2}}, {1, 4, 2, 2, 2}},
  }
  for _, case in ipairs(cases) do
    local cls, args, xshape = case[1], case[3], case[4]
    local m = cls(table.unpack(args))
    local cin, cout, groups = args[1], args[2], args[4].groups
    local transposed = cls == nn.ConvTranspose2d or cls == nn.ConvTranspose3d
    eq(m.weight.shape[1], transposed and cin or cout)
    eq(m.weight.shape[2], transposed and cout // groups or cin // groups)
    eq(m.groups, groups)
    local dense_args = {table.unpack(args)}
    dense_args[4] = {}
    for k, v in pairs(args[4]) do dense_args[4][k] = v end
    dense_args[4].groups = 1
    local d = cls(table.unpack(dense_args))
    set(d.weight, block_diagonal(m.weight, groups, m.weight.shape[2]))
    set(d.bias, m.bias)
    local x = leaf(lg.randn(table.unpack(xshape)))
    local y = m(x)
    near(flat(y), flat(d(x)), 1e-5)
    -- gradients: the input's equal, the weight's the dense one's blocks
    local gx, gw = table.unpack(lg.grad(weighted(y), {x, m.weight}))
    local dgx, dgw = table.unpack(lg.grad(weighted(d(x)), {x, d.weight}))
    near(flat(gx), flat(dgx), 1e-5)
    local rows, per = m.weight.shape[1] // groups, m.weight.shape[2]
    for g = 0, groups - 1 do
      near(flat(gw:narrow(1, g * rows + 1, rows)),
           flat(dgw:narrow(1, g * rows + 1, rows):narrow(2, g * per + 1, per)), 1e-5)
    end
    assert(tostring(m):find("groups " .. groups, 1, true), tostring(m))
  end
  -- finite differences through a grouped conv, and the fused activation with
  -- a residual: relu(conv(x) + r) group by group is relu of the whole
  local m = nn.Conv2d(4, 4, 3, {padding = 1, groups = 2})
  local x = leaf(lg.randn(1, 4, 5, 5))
  gradcheck_leaf(function() return weighted(m(x)) end, x)
  gradcheck_leaf(function() return weighted(m(x)) end, m.weight)
  local r = lg.randn(1, 4, 5, 5)
  near(flat(m(x, {act = "relu", add = r})), flat((m(x) + r):relu()), 1e-6)
  near(flat(nn.Sequential(m, nn.LeakyReLU(0.2))(x)), flat(lg.leaky_relu(m(x), 0.2)), 1e-6)
  round_trip(m, nn.Conv2d(4, 4, 3, {padding = 1, groups = 2}), x:detach())
  raises(function() m(lg.randn(1, 6, 5, 5)) end,
         "Conv2d: expected an input with 4 channels (dim 2), got shape [1,6,5,5]")
  raises(function() nn.ConvTranspose2d(6, 4, 3, {groups = 4}) end,
         "ConvTranspose2d: in_channels (6) and out_channels (4) must both be divisible by groups (4)")
end)

-- }======================================================

-- {====================================================== Embedding

test("Embedding: [num, dim] weight from N(0,1), rows by 1-based index, any input shape", function()
  lg.manual_seed(21)
  local big = nn.Embedding(1000, 20)
  eq(big.weight.shape, {1000, 20})
  assert(big.weight.requires_grad)
  local w = big.weight
  local mean = w:mean():item()
  local std = math.sqrt(((w - mean) ^ 2):mean():item())
  near(mean, 0, 0.02)
  near(std, 1, 0.02)
  local e = nn.Embedding(5, 3)
  set(e.weight, lg.arange(15):reshape(5, 3))
  local y = e(lg.tensor{{3, 1}, {5, 3}})
  eq(y.shape, {2, 2, 3})
  eq(y:totable(), {{{6, 7, 8}, {0, 1, 2}}, {{12, 13, 14}, {6, 7, 8}}})
  eq(e({2, 4}):totable(), {{3, 4, 5}, {9, 10, 11}})             -- a Lua list
  eq(e(lg.tensor(4)):totable(), {9, 10, 11})                     -- 0-dim -> [dim]
  eq(e(lg.zeros(0)).shape, {0, 3})
  eq(e(lg.ones(2, 1, 2)).shape, {2, 1, 2, 3})
  eq(sorted(e:state_dict()), {"weight"})
  eq(tostring(e), "Embedding(5, 3)")
end)

test("Embedding: gradient accumulates into the rows used", function()
  local e = nn.Embedding(4, 2)
  local y = e(lg.tensor{1, 3, 1})
  ;(y * lg.tensor{{1, 2}, {3, 4}, {5, 6}}):sum():backward()
  eq(e.weight.grad:totable(), {{6, 8}, {0, 0}, {3, 4}, {0, 0}})
  lg.manual_seed(22)
  local idx = lg.tensor{{2, 4}, {4, 1}}
  gradcheck_leaf(function() return weighted(e(idx)) end, e.weight)
end)

test("Embedding: padding_idx row starts at zero and gets no gradient", function()
  lg.manual_seed(23)
  local e = nn.Embedding(4, 3, 2)
  eq(e.padding_idx, 2)
  eq(e.weight:narrow(1, 2, 1):totable(), {{0, 0, 0}})
  assert(e.weight:narrow(1, 1, 1):abs():sum():item() > 0)
  -- a value put there is returned (as PyTorch), yet receives no gradient
  lg.no_grad(function() e.weight:narrow(1, 2, 1):fill_(7) end)
  local y = e(lg.tensor{2, 1, 2})
  eq(y:totable()[1], {7, 7, 7})
  y:sum():backward()
  eq(e.weight.grad:totable(), {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}})
  local last = nn.Embedding(4, 3, {padding_idx = -1})
  eq(last.padding_idx, 4)
  eq(last.weight:narrow(1, 4, 1):totable(), {{0, 0, 0}})
  eq(tostring(last), "Embedding(4, 3, padding_idx=4)")
  raises(function() nn.Embedding(4, 3, 0) end,
         "Embedding: padding_idx must be an integer in 1..4 (or -4..-1 from the end), got 0")
  raises(function() nn.Embedding(4, 3, 5) end, "padding_idx must be an integer in 1..4")
end)

test("Embedding: bad indices are named, 1-based, with the range", function()
  local e = nn.Embedding(10, 2)
  raises(function() e(lg.tensor{1, 11, 3}) end, "Embedding: index 11 is out of range 1..10")
  raises(function() e(lg.tensor{{0, 1}}) end, "Embedding: index 0 is out of range 1..10")
  raises(function() e(lg.tensor{-3}) end, "Embedding: index -3 is out of range 1..10")
  raises(function() e(lg.tensor{2, 2.5}) end, "Embedding: index 2.5 is not an integer")
  raises(function() e("1") end, "Embedding: input must be a tensor of 1-based indices, got string")
  raises(function() nn.Embedding(0, 2) end,
         "Embedding: num_embeddings must be an integer >= 1, got 0")
  raises(function() nn.Embedding(3, 2, {max_norm = 1}) end,
         "Embedding: unknown option 'max_norm' (valid: padding_idx)")
end)

-- }======================================================

-- {====================================================== normalization

-- (v - mean) / sqrt(var + eps) of a Lua list, biased variance
local function standardized(v, eps)
  local m, s = 0, 0
  for _, x in ipairs(v) do m = m + x end
  m = m / #v
  for _, x in ipairs(v) do s = s + (x - m) ^ 2 end
  local out = {}
  for i, x in ipairs(v) do out[i] = (x - m) / math.sqrt(s / #v + (eps or 1e-5)) end
  return out
end

test("LayerNorm: a known row, affine, several normalized dims", function()
  local ln = nn.LayerNorm(4)
  eq(ln.weight:totable(), {1, 1, 1, 1})
  eq(ln.bias:totable(), {0, 0, 0, 0})
  -- mean 2.5, biased variance 1.25
  local d = math.sqrt(1.25 + 1e-5)
  near(ln(lg.tensor{{1, 2, 3, 4}}):totable(), {{-1.5 / d, -0.5 / d, 0.5 / d, 1.5 / d}}, 1e-6)
  set(ln.weight, lg.tensor{1, 2, 3, 4})
  set(ln.bias, lg.tensor{0, 0.5, 0, -1})
  near(ln(lg.tensor{1, 2, 3, 4}):totable(), {-1.5 / d, -1 / d + 0.5, 1.5 / d, 6 / d - 1}, 1e-6)
  -- over the last two dims of [2, 2, 3], eps 0.1
  local two = nn.LayerNorm({2, 3}, 0.1)
  eq(two.weight.shape, {2, 3})
  local x = lg.tensor{{{1, 2, 3}, {4, 5, 6}}, {{0, 0, 0}, {0, 0, 6}}}
  local want = {}
  for _, s in ipairs(x:totable()) do
    local r = standardized(flat(s), 0.1)
    want[#want + 1] = {{r[1], r[2], r[3]}, {r[4], r[5], r[6]}}
  end
  near(two(x):totable(), want, 1e-6)
  local plain = nn.LayerNorm(3, {elementwise_affine = false})
  eq(plain.weight, nil)
  eq(#plain:parameters(), 0)
  near(plain(lg.tensor{3, 3, 6}):totable(), standardized({3, 3, 6}), 1e-6)
  local nobias = nn.LayerNorm(3, 1e-5, true, false)
  eq(sorted(nobias:state_dict()), {"weight"})
  eq(tostring(two), "LayerNorm({2, 3}, eps=0.1, elementwise_affine=true)")
  raises(function() two(lg.randn(2, 3, 2)) end,
         "LayerNorm: expected an input whose last dims are [2,3], got shape [2,3,2]")
  raises(function() nn.LayerNorm(0) end,
         "LayerNorm: normalized_shape must be a positive integer or a list of them, got 0")
  raises(function() nn.LayerNorm({}) end, "normalized_shape must be a positive integer")
  raises(function() nn.LayerNorm(4, {eps = -1}) end,
         "LayerNorm: eps must be a positive number, got -1")
end)

test("LayerNorm: first and second order gradients match central differences", function()
  lg.manual_seed(31)
  local ln = nn.LayerNorm(5)
  set(ln.weight, lg.randn(5))
  set(ln.bias, lg.randn(5))
  local x = leaf(lg.randn(3, 5))
  gradcheck_leaf(function() return weighted(ln(x)) end, x)
  gradcheck_leaf(function() return weighted(ln(x)) end, ln.weight)
  gradcheck_leaf(function() return weighted(ln(x)) end, ln.bias)
  gradcheck_leaf(function() return penalty(ln, x) end, x, 5e-3)
  gradcheck_leaf(function() return penalty(ln, x) end, ln.weight, 5e-3)
end)

test("GroupNorm: known values; groups = 1 is LayerNorm over C,H,W", function()
  local gn = nn.GroupNorm(2, 4)
  eq(gn.weight:totable(), {1, 1, 1, 1})
  eq(gn.bias:totable(), {0, 0, 0, 0})
  set(gn.weight, lg.tensor{1, 2, 3, 4})
  set(gn.bias, lg.tensor{0, 1, 0, -1})
  -- [1, 4, 1, 2]: group 1 = channels 1, 2, group 2 = channels 3, 4
  local x = lg.tensor{{{{1, 2}}, {{3, 5}}, {{0, 0}}, {{2, 6}}}}
  local g1, g2 = standardized({1, 2, 3, 5}), standardized({0, 0, 2, 6})
  near(gn(x):totable(), {{{{g1[1], g1[2]}}, {{2 * g1[3] + 1, 2 * g1[4] + 1}},
    {{3 * g2[1], 3 * g2[2]}}, {{4 * g2[3] - 1, 4 * g2[4] - 1}}}}, 1e-5)
  lg.manual_seed(32)
  local one = nn.GroupNorm(1, 3, {eps = 1e-3})
  local ln = nn.LayerNorm({3, 4, 5}, 1e-3, false)
  local x2 = lg.randn(2, 3, 4, 5)
  near(flat(one(x2)), flat(ln(x2)), 1e-5)
  eq(gn(lg.randn(2, 4)).shape, {2, 4})          -- [N, C] works too
  eq(tostring(gn), "GroupNorm(2, 4, eps=1e-05, affine=true)")
  eq(#nn.GroupNorm(2, 4, 1e-5, false):parameters(), 0)
  raises(function() nn.GroupNorm(4, 6) end,
         "GroupNorm: num_channels 6 is not divisible by num_groups 4")
  raises(function() gn(lg.randn(2, 3, 4, 4)) end,
         "GroupNorm: expected an input [N,4,...], got shape [2,3,4,4]")
end)

test("GroupNorm: first and second order gradients match central differences", function()
  lg.manual_seed(33)
  local gn = nn.GroupNorm(2, 4)
  set(gn.weight, lg.randn(4))
  set(gn.bias, lg.randn(4))
  local x = leaf(lg.randn(2, 4, 2, 2))
  gradcheck_leaf(function() return weighted(gn(x)) end, x)
  gradcheck_leaf(function() return weighted(gn(x)) end, gn.weight)
  gradcheck_leaf(function() return weighted(gn(x)) end, gn.bias)
  gradcheck_leaf(function() return penalty(gn, x) end, x, 5e-3)
  gradcheck_leaf(function() return penalty(gn, x) end, gn.weight, 5e-3)
end)

test("InstanceNorm2d: per sample and channel; equals GroupNorm with groups = C", function()
  local m = nn.InstanceNorm2d(2)
  eq(#m:parameters(), 0)
  eq(m.running_mean, nil)
  local x = lg.tensor{{{{1, 2}, {3, 4}}, {{0, 0}, {0, 8}}}, {{{5, 5}, {5, 9}}, {{1, 3}, {5, 7}}}}
  local want = {}
  for n, sample in ipairs(x:totable()) do
    want[n] = {}
    for c, plane in ipairs(sample) do
      local r = standardized(flat(plane))
      want[n][c] = {{r[1], r[2]}, {r[3], r[4]}}
    end
  end
  near(m(x):totable(), want, 1e-5)
  m:eval()                                         -- no running stats: eval is the same
  near(m(x):totable(), want, 1e-5)
  lg.manual_seed(34)
  local x2 = lg.randn(3, 4, 5, 6)
  near(flat(nn.InstanceNorm2d(4)(x2)), flat(nn.GroupNorm(4, 4, {affine = false})(x2)), 1e-5)
  -- affine
  local a = nn.InstanceNorm2d(2, {affine = true})
  eq(sorted(a:state_dict()), {"bias", "weight"})
  set(a.weight, lg.tensor{2, 3})
  set(a.bias, lg.tensor{1, 0})
  local y = a(x):totable()
  near(y[2][1][2][2], 2 * want[2][1][2][2] + 1, 1e-5)
  near(y[1][2][1][1], 3 * want[1][2][1][1], 1e-5)
  eq(tostring(m), "InstanceNorm2d(2, eps=1e-05, momentum=0.1, affine=false, track_running_stats=false)")
  raises(function() m(lg.randn(2, 3, 4, 4)) end,
         "InstanceNorm2d: expected a 4-D input [N,2,...], got shape [2,3,4,4]")
  raises(function() m:train()(lg.randn(2, 2, 1, 1)) end,
         "InstanceNorm2d: expected more than 1 spatial element when training")
  local one = nn.InstanceNorm1d(3)
  local x1 = lg.randn(2, 3, 4)
  near(flat(one(x1)), flat(nn.GroupNorm(3, 3, {affine = false})(x1)), 1e-5)
end)

test("InstanceNorm2d: running stats update as PyTorch's and are used in eval", function()
  local m = nn.InstanceNorm2d(2, 1e-5, 0.5, false, true)
  eq(sorted(m:state_dict()), {"num_batches_tracked", "running_mean", "running_var"})
  -- instances (n, c): means and unbiased variances over the 4 positions
  local x = lg.tensor{{{{1, 2}, {3, 4}}, {{0, 0}, {0, 8}}}, {{{5, 5}, {5, 9}}, {{1, 3}, {5, 7}}}}
  m(x)
  -- channel 1: means 2.5, 6; unbiased vars 5/3, 4.  channel 2: means 2, 4; vars 16, 20/3
  near(m.running_mean:totable(), {0.5 * (2.5 + 6) / 2, 0.5 * (2 + 4) / 2}, 1e-6)
  near(m.running_var:totable(), {0.5 + 0.5 * (5 / 3 + 4) / 2, 0.5 + 0.5 * (16 + 20 / 3) / 2}, 1e-5)
  eq(m.num_batches_tracked:item(), 1)
  m:eval()
  local rm, rv = m.running_mean:totable(), m.running_var:totable()
  local y = m(x):totable()
  near(y[1][1][1][1], (1 - rm[1]) / math.sqrt(rv[1] + 1e-5), 1e-5)
  near(y[2][2][2][2], (7 - rm[2]) / math.sqrt(rv[2] + 1e-5), 1e-5)
  eq(m.num_batches_tracked:item(), 1, "eval does not count")
end)

test("InstanceNorm2d: first and second order gradients match central differences", function()
  lg.manual_seed(35)
  local m = nn.InstanceNorm2d(2, {affine = true})
  set(m.weight, lg.randn(2))
  set(m.bias, lg.randn(2))
  local x = leaf(lg.randn(2, 2, 2, 3))
  gradcheck_leaf(function() return weighted(m(x)) end, x)
  gradcheck_leaf(function() return weighted(m(x)) end, m.weight)
  gradcheck_leaf(function() return penalty(m, x) end, x, 5e-3)
end)

-- }======================================================

-- {====================================================== containers

test("Identity: no parameters, returns its input, ignores arguments as PyTorch's", function()
  local x = lg.randn(2, 3)
  local m = nn.Identity(54, "unused")
  eq(m(x):totable(), x:totable())
  eq(#m:parameters(), 0)
end)

test("ModuleList: registers children, 1-based indexing, PyTorch's 0-based keys", function()
  lg.manual_seed(41)
  local l = nn.ModuleList{nn.Linear(2, 3), nn.ReLU()}
  l:add(nn.Linear(3, 1))
  l:append(nn.Tanh())
  eq(#l, 4)
  eq(l[1].__name, "Linear")
  eq(l[3].__name, "Linear")
  local names = {}
  for i, m in ipairs(l) do names[i] = m.__name end
  eq(names, {"Linear", "ReLU", "Linear", "Tanh"})
  local keys = {}
  for k in l:named_parameters() do keys[#keys + 1] = k end
  eq(keys, {"0.weight", "0.bias", "2.weight", "2.bias"})
  eq(#l:parameters(), 4)
  eq(l:num_parameters(), 9 + 4)
  -- an owner runs them as it likes; its keys nest
  local Net = nn.Module:extend("ListNet")
  function Net:init() self.blocks = nn.ModuleList{nn.Linear(2, 2), nn.Linear(2, 2)} end
  function Net:forward(x)
    for _, b in ipairs(self.blocks) do x = x + b(x) end
    return x
  end
  local n = Net()
  eq(sorted(n:state_dict()), {"blocks.0.bias", "blocks.0.weight", "blocks.1.bias", "blocks.1.weight"})
  local x = lg.randn(3, 2)
  local b1, b2 = n.blocks[1], n.blocks[2]
  local h = x + b1(x)
  eq(n(x):totable(), (h + b2(h)):totable())
  round_trip(n, Net(), x)
  eq(tostring(l):match("^[^\n]*"), "ModuleList (13 parameters)")
  raises(function() l(x) end, "ModuleList: a container, not a layer")
  raises(function() l:add(3) end, "ModuleList: element 5 is a number, a module is expected")
  raises(function() nn.ModuleList{nn.ReLU(), "x"} end, "ModuleList: element 2 is a string")
  raises(function() nn.ModuleList(nn.ReLU()) end,
         "ModuleList: a list of modules is expected, got a module")
  eq(#nn.ModuleList(), 0)
end)

test("ModuleDict: modules by name, keys nest, names must not hide methods", function()
  lg.manual_seed(42)
  local d = nn.ModuleDict{gen = nn.Linear(2, 3), disc = nn.Linear(3, 1)}
  d:add("extra", nn.Linear(1, 1))
  eq(d:keys(), {"disc", "gen", "extra"})          -- sorted constructor table, then insertion
  eq(d.gen.__name, "Linear")
  eq(d["disc"].out_features, 1)
  local seen = {}
  for k, m in d:items() do seen[#seen + 1] = k .. ":" .. m.in_features end
  eq(seen, {"disc:3", "gen:2", "extra:1"})
  eq(sorted(d:state_dict()), {"disc.bias", "disc.weight", "extra.bias", "extra.weight",
                              "gen.bias", "gen.weight"})
  local path = temp_dir() .. "/d.safetensors"
  lg.save(path, d:state_dict())
  local fresh = nn.ModuleDict{gen = nn.Linear(2, 3), disc = nn.Linear(3, 1), extra = nn.Linear(1, 1)}
  fresh:load_state_dict(lg.load(path))
  eq(fresh.gen.weight:totable(), d.gen.weight:totable())
  eq(fresh.extra.bias:totable(), d.extra.bias:totable())
  raises(function() d:add("parameters", nn.ReLU()) end,
         "ModuleDict: the name 'parameters' would hide a field or method of the module")
  raises(function() d:add("a.b", nn.ReLU()) end,
         "ModuleDict: a name must be a non-empty string without '.'")
  raises(function() d:add("x", 5) end, "ModuleDict: 'x' is a number, a module is expected")
  raises(function() d(lg.randn(1, 2)) end, "ModuleDict: a container, not a layer")
end)

-- }======================================================

-- {====================================================== state dicts

test("state_dict keys and lg.save / lg.load round trips of the new modules", function()
  lg.manual_seed(51)
  local cases = {
    {function() return nn.Conv1d(3, 4, 3, 2, 1) end, {"bias", "weight"}, lg.randn(2, 3, 9)},
    {function() return nn.Conv2d(2, 3, 3, {dilation = 2}) end, {"bias", "weight"}, lg.randn(1, 2, 7, 7)},
    {function() return nn.Embedding(6, 4, 1) end, {"weight"}, lg.tensor{{1, 6}, {3, 1}}},
    {function() return nn.LayerNorm({2, 3}) end, {"bias", "weight"}, lg.randn(4, 2, 3)},
    {function() return nn.GroupNorm(2, 4) end, {"bias", "weight"}, lg.randn(2, 4, 3, 3)},
    {function() return nn.InstanceNorm2d(3, {affine = true, track_running_stats = true}) end,
     {"bias", "num_batches_tracked", "running_mean", "running_var", "weight"}, lg.randn(2, 3, 4, 4)},
    {function() return nn.Sequential(nn.Conv1d(2, 2, 1), nn.ModuleList{nn.LayerNorm(5)}) end,
     {"0.bias", "0.weight", "1.0.bias", "1.0.weight"}, nil},
  }
  for _, c in ipairs(cases) do
    local m = c[1]()
    eq(sorted(m:state_dict()), c[2], m.__name)
    -- give every tensor values that a fresh module would not have
    lg.no_grad(function()
      for _, t in pairs(m:state_dict()) do t:copy_(t + lg.rand(t.shape) + 0.5) end
    end)
    if c[3] then round_trip(m, c[1](), c[3]) end
  end
end)

-- }======================================================

-- {====================================================== constructor arguments

test("PyTorch's positional constructor arguments", function()
  local c = nn.Conv2d(1, 64, 4, 2, 1)
  eq(c.stride, {2, 2})
  eq(c.padding, {1, 1})
  eq(c.dilation, {1, 1})
  eq(c(lg.randn(1, 1, 28, 28)).shape, {1, 64, 14, 14})
  local nb = nn.Conv2d(1, 8, 3, 1, 1, 1, 1, false)        -- ..., dilation, groups, bias
  eq(nb.bias, nil)
  local mixed = nn.Conv2d(1, 8, {3, 5}, {2, 1}, {1, 2}, {bias = false})
  eq(mixed.kernel_size, {3, 5})
  eq(mixed.stride, {2, 1})
  eq(mixed.bias, nil)
  eq(mixed(lg.randn(1, 1, 8, 8)).shape, {1, 8, 4, 8})
  local t = nn.ConvTranspose2d(8, 4, 3, 2, 1, 1)           -- stride, padding, output_padding
  eq(t.output_padding, {1, 1})
  eq(t(lg.randn(1, 8, 5, 5)).shape, {1, 4, 10, 10})
  eq(nn.ConvTranspose2d(8, 4, 4, 2, 1, 0, 1, false).bias, nil)
  local c1 = nn.Conv1d(3, 5, 3, 2, 1)
  eq(c1.stride, {2})
  eq(c1.padding, {1})
  eq(nn.Linear(3, 4, false).bias, nil)
  assert(nn.Linear(3, 4, true).bias)
  local bn = nn.BatchNorm2d(8, 1e-3, 0.2)
  eq(bn.eps, 1e-3)
  eq(bn.momentum, 0.2)
  local bn1 = nn.BatchNorm1d(4, 1e-5, 0.1, false, false)
  eq(#bn1:parameters(), 0)
  eq(bn1.running_mean, nil)
  eq(nn.LeakyReLU(0.2, true).slope, 0.2)                   -- inplace accepted
  eq(nn.LeakyReLU{negative_slope = 0.1}.slope, 0.1)
  eq(nn.ReLU(true)(lg.tensor{-1, 2}):totable(), {0, 2})
  eq(nn.GroupNorm(2, 4, 1e-3).eps, 1e-3)
  eq(nn.InstanceNorm2d(3, 1e-3, 0.1, true).affine, true)
end)

test("a wrong constructor argument names itself", function()
  raises(function() nn.Conv2d(1, 64, "4") end,
         "Conv2d: kernel_size must be a positive integer or {kh, kw}, got string")
  raises(function() nn.Conv2d(1, 64, {4, 0}) end,
         "Conv2d: kernel_size must be a positive integer or {kh, kw}, got {4, 0}")
  raises(function() nn.Conv2d(1, 64, 4, "2") end,
         "Conv2d: stride must be a positive integer or {h, w}, got string")
  raises(function() nn.Conv2d(1, 64, 4, 0) end,
         "Conv2d: stride must be a positive integer or {h, w}, got 0")
  raises(function() nn.Conv2d(1, 64, 4, 1, -1) end,
         "Conv2d: padding must be a non-negative integer or {h, w}, got -1")
  raises(function() nn.Conv2d(1, 64, 4, 1, 1.5) end,
         "Conv2d: padding must be a non-negative integer or {h, w}, got 1.5")
  raises(function() nn.Conv2d(1, 64, 4, 1, 1, 1, 2) end,
         "Conv2d: in_channels (1) and out_channels (64) must both be divisible by groups (2)")
  raises(function() nn.Conv2d(4, 64, 4, 1, 1, 1, 0) end,
         "Conv2d: groups must be a positive integer, got 0")
  raises(function() nn.Conv2d(1, 64, 4, 1, 1, 1, 1, "no") end,
         "Conv2d: bias must be a boolean, got string")
  raises(function() nn.Conv2d(1, 64, 4, 2, 1, 1, 1, true, "zeros") end,
         "Conv2d: too many arguments: 9, at most 8 (in_channels, out_channels, kernel_size, " ..
         "stride, padding, dilation, groups, bias), then an options table")
  raises(function() nn.Conv2d(1, 64, 4, 2, {stride = 2}) end,
         "Conv2d: stride is given both as argument 4 and as an option")
  raises(function() nn.Conv2d(1, 64, 4, {strde = 2}) end,
         "Conv2d: unknown option 'strde' (valid: bias, dilation, groups, padding, stride)")
  raises(function() nn.Conv2d(0, 64, 4) end, "Conv2d: in_channels must be an integer >= 1, got 0")
  raises(function() nn.ConvTranspose2d(1, 2, 4, 2, 1, -1) end,
         "ConvTranspose2d: output_padding must be a non-negative integer or {h, w}, got -1")
  raises(function() nn.ConvTranspose2d(1, 2, 4, {output_pad = 1}) end,
         "ConvTranspose2d: unknown option 'output_pad' (valid: bias, dilation, groups, output_padding, padding, stride)")
  raises(function() nn.Conv1d(1, 2, {3, 3}) end,
         "Conv1d: kernel_size must be a positive integer, got {3, 3}")
  raises(function() nn.Conv1d(1, 2, 3, {2, 2}) end,
         "Conv1d: stride must be a positive integer, got {2, 2}")
  raises(function() nn.Linear(3, 4, 5) end, "Linear: bias must be a boolean, got 5")
  -- a table whose __index never answers nil (the API fuzzer's): an error, not an endless loop
  local reads = 0
  local endless = setmetatable({}, {__index = function() reads = reads + 1 return reads > 1 and 0 / 0 or nil end})
  raises(function() nn.Linear(3, 4, endless) end, "Linear: bias must be a boolean, got table")
  raises(function() nn.Linear(3, 4, true, 1) end,
         "Linear: too many arguments: 4, at most 3 (in_features, out_features, bias)")
  raises(function() nn.BatchNorm2d(8, -1) end, "BatchNorm2d: eps must be a positive number, got -1")
  raises(function() nn.BatchNorm2d(8, 1e-5, 2) end,
         "BatchNorm2d: momentum must be a number in [0, 1], got 2")
  raises(function() nn.BatchNorm1d(8, 1e-5, 0.1, "yes") end,
         "BatchNorm1d: affine must be a boolean, got string")
  raises(function() nn.LeakyReLU("0.2") end,
         "LeakyReLU: negative_slope must be a number, got string")
  raises(function() nn.ReLU(1) end, "ReLU: inplace must be a boolean, got 1")
  -- the message points at the line that built the module, not inside nn.lua
  local err = raises(function() nn.Conv2d(1, 64, "4") end, "kernel_size")
  assert(err:find("test_nn_more.lua:%d+:"), err)
end)

-- }======================================================

test("MaxPool2d and AvgPool2d: known values, PyTorch's defaults and argument errors", function()
  local x = lg.arange(1, 17):view(1, 1, 4, 4)
  -- stride defaults to the kernel size: 2x2 windows of 1..16
  eq(flat(nn.MaxPool2d(2)(x)), {6, 8, 14, 16})
  eq(flat(nn.AvgPool2d(2)(x)), {3.5, 5.5, 11.5, 13.5})
  -- 3x3, stride 1, padding 1 keeps the size; the corner's window is {1, 2, 5, 6}
  local y = nn.MaxPool2d(3, 1, 1)(x)
  eq(y.shape, {1, 1, 4, 4})
  eq(y:view(-1):totable()[1], 6)
  eq(#flat(nn.MaxPool2d(2, {stride = 1})(x)), 9)
  eq(tostring(nn.MaxPool2d(3, 1, 1)), "MaxPool2d(kernel_size=3, stride=1, padding=1)")
  -- the gradient of max pooling goes to each window's maximum
  local xg = x:clone():requires_grad_()
  nn.MaxPool2d(2)(xg):sum():backward()
  eq(flat(xg.grad), {0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1})
  raises(function() nn.MaxPool2d(0) end, "kernel_size must be an integer >= 1")
  raises(function() nn.AvgPool2d(2, 1, 1, 1) end, "too many arguments")
  raises(function() nn.AvgPool2d(2, {dilation = 2}) end, "unknown option 'dilation'")
  eq(#nn.Sequential(nn.MaxPool2d(2)):parameters(), 0)
end)

test("PReLU, ELU, SiLU, Softmax, LogSoftmax, PixelShuffle: known values and errors", function()
  local p = nn.PReLU(3)
  eq(p.weight:totable(), {0.25, 0.25, 0.25})
  eq(p(lg.tensor{{-1, 2, -4}, {1, -2, 4}}):totable(), {{-0.25, 2, -1}, {1, -0.5, 4}})
  eq(nn.PReLU({init = 0.5})(lg.tensor{-2, 2}):totable(), {-1, 2})
  eq(nn.PReLU(2)(lg.full({1, 2, 1, 1}, -4)):view(2):totable(), {-1, -1})
  raises(function() p(lg.ones(2, 4)) end, "PReLU: 3 slopes for an input of shape [2,4]")
  raises(function() nn.PReLU(0) end, "PReLU: num_parameters must be a positive integer, got 0")
  eq(tostring(nn.PReLU(3)), "PReLU(num_parameters=3)")
  near(nn.ELU()(lg.tensor{-1, 0, 2}):totable(), {math.exp(-1) - 1, 0, 2}, 1e-6)
  near(nn.ELU(0.5)(lg.tensor{-1}):item(), 0.5 * (math.exp(-1) - 1), 1e-6)
  near(nn.SiLU()(lg.tensor{-1, 0, 1}):totable(), {-1 / (1 + math.exp(1)), 0, 1 / (1 + math.exp(-1))}, 1e-6)
  near(nn.Softmax()(lg.tensor{{0, math.log(3)}}):totable(), {{0.25, 0.75}}, 1e-6)
  near(nn.LogSoftmax(1)(lg.tensor{{0}, {0}}):totable(), {{-math.log(2)}, {-math.log(2)}}, 1e-6)
  raises(function() nn.Softmax(1.5) end, "Softmax: dim must be an integer, got 1.5")
  -- torch.nn.functional.pixel_shuffle(torch.arange(16.).view(1, 4, 2, 2), 2)
  local y = nn.PixelShuffle(2)(lg.arange(16):view(1, 4, 2, 2))
  eq(y:view(4, 4):totable(), {{0, 4, 1, 5}, {8, 12, 9, 13}, {2, 6, 3, 7}, {10, 14, 11, 15}})
  eq(nn.PixelShuffle(2)(lg.zeros(2, 8, 3, 5)).shape, {2, 2, 6, 10})
  raises(function() nn.PixelShuffle(2)(lg.zeros(1, 6, 2, 2)) end,
         "PixelShuffle: x must be [N, C*4, H, W], got [1,6,2,2]")
  raises(function() nn.PixelShuffle(0) end, "PixelShuffle: upscale_factor must be an integer >= 1, got 0")
  -- gradients, the slope's included (the comparison with PyTorch is in test_vs_torch)
  local x = lg.randn(2, 3, 2, 2)
  x.requires_grad = true
  local pr = nn.PReLU(3)
  gradcheck_leaf(function() return weighted(pr(x)) end, pr.weight)
  gradcheck_leaf(function() return weighted(nn.ELU()(x) + nn.SiLU()(x)) end, x)
  gradcheck_leaf(function() return weighted(nn.PixelShuffle(1)(x) + nn.LogSoftmax()(x)) end, x)
end)

test("Upsample bilinear, AdaptiveAvgPool2d and the padding modules: known values and errors", function()
  -- F.interpolate(torch.tensor([[[[1., 2], [3, 4]]]]), scale_factor=2, mode="bilinear")
  eq(nn.Upsample(2, {mode = "bilinear"})(lg.tensor{{{{1, 2}, {3, 4}}}}):view(4, 4):totable(),
     {{1, 1.25, 1.75, 2}, {1.5, 1.75, 2.25, 2.5}, {2.5, 2.75, 3.25, 3.5}, {3, 3.25, 3.75, 4}})
  eq(nn.Upsample(2)(lg.tensor{{{{1, 2}}}}):view(2, 4):totable(), {{1, 1, 2, 2}, {1, 1, 2, 2}})
  raises(function() nn.Upsample(2, {mode = "bicubic"}) end, 'Upsample: mode must be "nearest" or "bilinear"')
  raises(function() nn.Upsample(2, {mode = "bilinear"})(lg.ones(2, 3)) end, "bilinear mode takes [N, C, H, W]")
  -- bins floor(i W / w) .. ceil((i + 1) W / w) - 1: 5 columns into 3 are 0-1, 1-3, 3-4
  near(nn.AdaptiveAvgPool2d({2, 3})(lg.arange(20):view(1, 1, 4, 5)):view(2, 3):totable(),
       {{3, 4.5, 6}, {13, 14.5, 16}}, 1e-5)
  eq(nn.AdaptiveAvgPool2d(1)(lg.arange(8):view(1, 2, 2, 2)):view(2):totable(), {1.5, 5.5})
  raises(function() nn.AdaptiveAvgPool2d(0) end, "AdaptiveAvgPool2d: output_size must be a positive integer or {h, w}")
  eq(nn.ReflectionPad2d(1)(lg.arange(4):view(1, 1, 2, 2)):view(4, 4):totable(),
     {{3, 2, 3, 2}, {1, 0, 1, 0}, {3, 2, 3, 2}, {1, 0, 1, 0}})
  eq(nn.ReplicationPad2d({1, 0, 0, 1})(lg.arange(4):view(1, 1, 2, 2)):view(3, 3):totable(),
     {{0, 0, 1}, {2, 2, 3}, {2, 2, 3}})
  eq(nn.ZeroPad2d({0, 1, 0, 0})(lg.ones(1, 1, 1, 1)):view(2):totable(), {1, 0})
  raises(function() nn.ZeroPad2d({1, 2}) end, "ZeroPad2d: padding must be an integer or {left, right, top, bottom}")
  local x = lg.randn(1, 2, 3, 4)
  x.requires_grad = true
  gradcheck_leaf(function()
    return weighted(nn.Upsample(2, {mode = "bilinear"})(x):sum(2) + nn.AdaptiveAvgPool2d({2, 3})(x):mean())
  end, x)
end)
