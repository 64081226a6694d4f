-- nn modules (lua/luagan/nn.lua): layers and their PyTorch weight layouts,
-- default and explicit initialisation, custom modules, parameter naming,
-- state dicts, train/eval, printing, errors.  Reference values marked
-- "torch" were computed once with PyTorch 1.13 and pasted as literals.
local lg = require "luagan"
local nn = lg.nn

local function shape(t) return t.shape end

local function flat(t)
  local out = {}
  local function walk(v)
    if type(v) == "table" then for _, x in ipairs(v) do walk(x) end
    else out[#out + 1] = v end
  end
  walk(t:totable())
  return out
end

local function stats(t)
  local m = t:mean():item()
  local var = ((t - m) ^ 2):mean():item()
  return m, math.sqrt(var), t:max():item(), (-t):max():item() * -1
end

local function count(tbl)
  local n = 0
  for _ in pairs(tbl) do n = n + 1 end
  return n
end

local function names_of(m)
  local out = {}
  for k in m:named_parameters() do out[#out + 1] = k end
  return out
end

-- {====================================================== layers

test("Linear: [out,in] weight, values match lg.linear, bias optional", function()
  lg.manual_seed(1)
  local m = nn.Linear(5, 3)
  eq(m.weight.shape, {3, 5})
  eq(m.bias.shape, {3})
  assert(m.weight.requires_grad and m.bias.requires_grad)
  local x = lg.randn(4, 5)
  local y = m(x)
  eq(y.shape, {4, 3})
  eq(y:totable(), lg.linear(x, m.weight, m.bias):totable())
  -- by hand: y = x W^T + b
  near(y:totable(), (x:matmul(m.weight:t()) + m.bias):totable(), 1e-5)
  local nb = nn.Linear(5, 3, {bias = false})
  eq(nb.bias, nil)
  eq(#nb:parameters(), 1)
  eq(nb(x).shape, {4, 3})
  eq(nb(x):totable(), lg.linear(x, nb.weight):totable())
end)

test("Linear: gradients reach weight and bias through the module", function()
  local m = nn.Linear(3, 2)
  lg.no_grad(function()
    m.weight:copy_(lg.tensor{{1, 2, 3}, {4, 5, 6}})
    m.bias:copy_(lg.tensor{0.5, -0.5})
  end)
  local x = lg.tensor{{1, 0, -1}, {2, 1, 0}}
  m(x):sum():backward()
  eq(m.bias.grad:totable(), {2, 2})
  eq(m.weight.grad:totable(), {{3, 1, -1}, {3, 1, -1}})
  m:zero_grad()
  eq(m.weight.grad, nil)
  eq(m.bias.grad, nil)
end)

test("Conv2d: [cout,cin,kh,kw] weight, values match lg.conv2d and torch", function()
  lg.manual_seed(2)
  local m = nn.Conv2d(3, 8, 5, {stride = 2, padding = 1})
  eq(m.weight.shape, {8, 3, 5, 5})
  eq(m.bias.shape, {8})
  local x = lg.randn(2, 3, 17, 15)
  local y = m(x)
  eq(y.shape, {2, 8, 8, 7})    -- floor((17+2-5)/2)+1, floor((15+2-5)/2)+1
  eq(y:totable(), lg.conv2d(x, m.weight, m.bias, {stride = 2, padding = 1}):totable())
  -- rectangular kernel and per-axis stride/padding
  local r = nn.Conv2d(1, 2, {3, 1}, {stride = {1, 2}, padding = {0, 1}})
  eq(r.weight.shape, {2, 1, 3, 1})
  eq(r(lg.randn(1, 1, 6, 6)).shape, {1, 2, 4, 4})
  -- torch: conv2d(x2, w2, b, stride=2, padding=1), cin=2, cout=3, k=2
  local c = nn.Conv2d(2, 3, 2, {stride = 2, padding = 1})
  lg.no_grad(function()
    c.weight:copy_(lg.arange(24):reshape(3, 2, 2, 2) / 10 - 1)
    c.bias:copy_(lg.tensor{0.1, 0.2, 0.3})
  end)
  local x2 = lg.arange(18):reshape(1, 2, 3, 3) / 9 - 0.5
  near(c(x2):totable(), {{{{0.29999998211860657, 0.14444443583488464},
    {-0.6333333849906921, -2.411111354827881}}, {{0.3999999761581421, 0.7777777314186096},
    {1.066666603088379, 1.9555555582046509}}, {{0.5, 1.4111111164093018},
    {2.7666664123535156, 6.3222222328186035}}}}, 1e-5)
  local nb = nn.Conv2d(2, 3, 2, {bias = false})
  eq(nb.bias, nil)
  eq(#nb:parameters(), 1)
end)

test("ConvTranspose2d: [cin,cout,kh,kw] weight, values match lg.conv_transpose2d and torch", function()
  lg.manual_seed(3)
  local m = nn.ConvTranspose2d(4, 6, 4, {stride = 2, padding = 1})
  eq(m.weight.shape, {4, 6, 4, 4})
  eq(m.bias.shape, {6})
  local x = lg.randn(2, 4, 7, 7)
  local y = m(x)
  eq(y.shape, {2, 6, 14, 14})     -- (7-1)*2 - 2 + 4
  eq(y:totable(), lg.conv_transpose2d(x, m.weight, m.bias, {stride = 2, padding = 1}):totable())
  local op = nn.ConvTranspose2d(2, 1, 3, {stride = 2, padding = 1, output_padding = 1})
  eq(op(lg.randn(1, 2, 5, 5)).shape, {1, 1, 10, 10})
  -- torch: conv_transpose2d(x, w, b, stride=2) with cin=2, cout=3, k=2
  local t = nn.ConvTranspose2d(2, 3, 2, {stride = 2})
  lg.no_grad(function()
    t.weight:copy_(lg.arange(24):reshape(2, 3, 2, 2) / 10 - 1)
    t.bias:copy_(lg.tensor{0.1, 0.2, 0.3})
  end)
  local xt = lg.arange(8):reshape(1, 2, 2, 2) / 4 - 0.5
  near(t(xt):totable(), {{{{0.7, 0.7, 0.5, 0.55}, {0.7, 0.7, 0.6, 0.65}, {0.3, 0.4, 0.1, 0.25},
    {0.5, 0.6, 0.4, 0.55}}, {{0.8, 0.8, 0.8, 0.85}, {0.8, 0.8, 0.9, 0.95}, {0.8, 0.9, 0.8, 0.95},
    {1.0, 1.1, 1.1, 1.25}}, {{0.9, 0.9, 1.1, 1.15}, {0.9, 0.9, 1.2, 1.25}, {1.3, 1.4, 1.5, 1.65},
    {1.5, 1.6, 1.8, 1.95}}}}, 1e-5)
end)

test("BatchNorm1d: training output, running stats and eval output match torch", function()
  local X = lg.tensor{{1.0, 2.0, -1.0}, {0.5, -1.5, 2.0}, {-0.3, 0.8, 0.1}, {1.2, -0.7, 0.4}}
  local bn = nn.BatchNorm1d(3)
  eq(bn.weight:totable(), {1, 1, 1})
  eq(bn.bias:totable(), {0, 0, 0})
  eq(bn.running_mean:totable(), {0, 0, 0})
  eq(bn.running_var:totable(), {1, 1, 1})
  eq(bn.num_batches_tracked:item(), 0)
  lg.no_grad(function()
    bn.weight:copy_(lg.tensor{1.0, 2.0, 0.5})
    bn.bias:copy_(lg.tensor{0.0, 0.1, -0.2})
  end)
  assert(bn.training)
  near(bn(X):totable(), {{0.6910843849182129, 2.840733051300049, -0.8405722379684448},
    {-0.17277109622955322, -2.344437599182129, 0.5570399761199951},
    {-1.554939866065979, 1.0629603862762451, -0.32811444997787476},
    {1.0366266965866089, -1.1592557430267334, -0.18835322558879852}}, 1e-5, "train output")
  near(bn.running_mean:totable(), {0.06, 0.015, 0.0375}, 1e-6, "running_mean")
  near(bn.running_var:totable(), {0.9446666240692139, 1.1430000066757202, 1.0535832643508911}, 1e-6,
       "running_var (unbiased batch variance)")
  eq(bn.num_batches_tracked:item(), 1)
  bn(X * 2)
  near(bn.running_mean:totable(), {0.174, 0.0435, 0.10875}, 1e-6)
  near(bn.running_var:totable(), {1.0288666486740112, 2.000699996948242, 1.5625582933425903}, 1e-6)
  eq(bn.num_batches_tracked:item(), 2)
  bn:eval()
  local rm, rv = bn.running_mean:totable(), bn.running_var:totable()
  near(bn(X):totable(), {{0.8143261075019836, 2.86641788482666, -0.6434903144836426},
    {0.32139262557029724, -2.082451343536377, 0.5564835071563721},
    {-0.4673009514808655, 1.1696627140045166, -0.2034999281167984},
    {1.0114995241165161, -0.9512811899185181, -0.08350254595279694}}, 1e-5, "eval output")
  -- evaluation leaves the running statistics and the counter alone
  eq(bn.running_mean:totable(), rm)
  eq(bn.running_var:totable(), rv)
  eq(bn.num_batches_tracked:item(), 2)
  -- eval is per-sample: one row alone gives the same answer as in the batch
  near(bn(X:narrow(1, 2, 1)):totable()[1], bn(X):totable()[2], 1e-6)
  -- 3-D input [N, C, L] is accepted by BatchNorm1d
  bn:train()
  eq(bn(lg.randn(4, 3, 5)).shape, {4, 3, 5})
end)

test("BatchNorm2d: per-channel statistics in training, running values in eval", function()
  lg.manual_seed(4)
  local bn = nn.BatchNorm2d(3)
  eq(bn.weight.shape, {3})
  local x = lg.randn(8, 3, 5, 5) * 3 + 2
  local y = bn(x)
  eq(y.shape, {8, 3, 5, 5})
  -- each channel of the output has mean 0 and (biased) variance 1
  local per = y:permute(2, 1, 3, 4):reshape(3, -1)
  local mean = per:mean(2):totable()
  local var = ((per - per:mean(2, true)) ^ 2):mean(2):totable()
  near(mean, {0, 0, 0}, 1e-5)
  near(var, {1, 1, 1}, 1e-3)
  -- running stats: momentum 0.1 of the batch mean and unbiased variance
  local xc = x:permute(2, 1, 3, 4):reshape(3, -1)
  local bm = xc:mean(2)
  local n = xc:size(2)
  local bv = ((xc - xc:mean(2, true)) ^ 2):sum(2) / (n - 1)
  near(bn.running_mean:totable(), (bm * 0.1):totable(), 1e-5)
  near(bn.running_var:totable(), (bv * 0.1 + 0.9):totable(), 1e-5)
  eq(bn.num_batches_tracked:item(), 1)
  -- eval: (x - running_mean) / sqrt(running_var + eps), nothing updated
  bn:eval()
  local before = {bn.running_mean:totable(), bn.running_var:totable()}
  local ye = bn(x)
  local rm = bn.running_mean:reshape(1, 3, 1, 1)
  local rv = bn.running_var:reshape(1, 3, 1, 1)
  near(ye:totable(), ((x - rm) / (rv + 1e-5):sqrt()):totable(), 1e-4)
  eq({bn.running_mean:totable(), bn.running_var:totable()}, before)
  eq(bn.num_batches_tracked:item(), 1)
  -- training under no_grad still updates the running statistics (as PyTorch)
  bn:train()
  lg.no_grad(function() bn(x) end)
  eq(bn.num_batches_tracked:item(), 2)
  raises(function() bn(lg.randn(4, 3)) end, "BatchNorm2d: expected a 4-D input, got shape [4,3]")
  raises(function() nn.BatchNorm1d(3)(lg.randn(2, 3, 4, 4)) end, "BatchNorm1d")
end)

test("BatchNorm options: affine=false, track_running_stats=false, eps and momentum", function()
  local a = nn.BatchNorm1d(4, {affine = false})
  eq(#a:parameters(), 0)
  eq(count(a:state_dict()), 3)
  local x = lg.randn(6, 4)
  eq(a(x).shape, {6, 4})
  local t = nn.BatchNorm1d(4, {track_running_stats = false})
  eq(t.running_mean, nil)
  eq(count(t:state_dict()), 2)
  t:eval()
  -- without running statistics, evaluation normalises by the batch
  near(t(x):mean(1):totable(), {0, 0, 0, 0}, 1e-5)
  local m = nn.BatchNorm1d(2, {momentum = 0.5, eps = 1e-3})
  m(lg.tensor{{1, 2}, {3, 6}})
  near(m.running_mean:totable(), {1, 2}, 1e-6)
  near(m.running_var:totable(), {0.5 + 0.5 * 2, 0.5 + 0.5 * 8}, 1e-6)
end)

test("activations: ReLU, LeakyReLU, Tanh, Sigmoid, Identity", function()
  local x = lg.tensor{{-2, -0.5, 0, 0.5, 3}}
  eq(nn.ReLU()(x):totable(), {{0, 0, 0, 0.5, 3}})
  near(nn.LeakyReLU(0.2)(x):totable(), {{-0.4, -0.1, 0, 0.5, 3}}, 1e-6)
  near(nn.LeakyReLU()(x):totable(), {{-0.02, -0.005, 0, 0.5, 3}}, 1e-6)   -- default slope 0.01
  local th, sg = {}, {}
  for i, v in ipairs({-2, -0.5, 0, 0.5, 3}) do
    local e = math.exp(2 * v)
    th[i] = (e - 1) / (e + 1)
    sg[i] = 1 / (1 + math.exp(-v))
  end
  near(nn.Tanh()(x):totable(), {th}, 1e-6)
  near(nn.Sigmoid()(x):totable(), {sg}, 1e-6)
  eq(nn.Identity()(x):totable(), x:totable())
  for _, m in ipairs({nn.ReLU(), nn.LeakyReLU(0.2), nn.Tanh(), nn.Sigmoid(), nn.Identity()}) do
    eq(#m:parameters(), 0)
    eq(count(m:state_dict()), 0)
    eq(m(lg.randn(2, 3, 4)).shape, {2, 3, 4})
  end
end)

test("Dropout: zeroes about p and rescales in training, identity in eval", function()
  lg.manual_seed(5)
  local d = nn.Dropout(0.3)
  local x = lg.ones(200, 100)
  local y = d(x)
  eq(y.shape, {200, 100})
  local zeros, kept = 0, 0
  for _, v in ipairs(flat(y)) do
    if v == 0 then zeros = zeros + 1
    else
      near(v, 1 / 0.7, 1e-6)
      kept = kept + 1
    end
  end
  near(zeros / 20000, 0.3, 0.02)
  near(y:mean():item(), 1, 0.03)
  d:eval()
  eq(d(x):totable(), x:totable())
  eq(nn.Dropout().p, 0.5)
  eq(nn.Dropout(0)(x):totable(), x:totable())
  raises(function() nn.Dropout(1) end, "Dropout: p must be a number in [0, 1)")
  raises(function() nn.Dropout(-0.1) end, "Dropout: p must be a number in [0, 1)")
  raises(function() nn.Dropout("a") end, "Dropout: p must be a number")
end)

test("Flatten, Reshape, Upsample", function()
  local x = lg.arange(120):reshape(2, 3, 4, 5)
  local f = nn.Flatten()(x)
  eq(f.shape, {2, 60})
  eq(f:totable()[2][1], 60)
  local r = nn.Reshape(3, 4, 5)(f)
  eq(r.shape, {2, 3, 4, 5})
  eq(r:totable(), x:totable())
  eq(nn.Reshape{128, 7, 7}(lg.zeros(5, 6272)).shape, {5, 128, 7, 7})
  eq(nn.Reshape(-1)(x).shape, {2, 60})
  raises(function() nn.Reshape(7)(x) end, "reshape: shape [2,3,4,5] (120 elements) cannot become [2,7]")
  local u = nn.Upsample(2)(lg.tensor{{{{1, 2}, {3, 4}}}})
  eq(u.shape, {1, 1, 4, 4})
  eq(u:totable(), {{{{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}}}})
  eq(nn.Upsample(3)(lg.zeros(2, 3, 5, 4)).shape, {2, 3, 15, 12})
  raises(function() nn.Upsample(1.5) end, "Upsample: scale_factor must be an integer >= 1")
  raises(function() nn.Upsample(0) end, "Upsample: scale_factor must be an integer >= 1")
end)

test("Sequential: runs children in order, indexes from 1, names from 0", function()
  lg.manual_seed(6)
  local s = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Sigmoid())
  eq(#s, 4)
  eq(s[1].__name, "Linear")
  eq(s[4].__name, "Sigmoid")
  local x = lg.randn(3, 4)
  local y = s(x)
  eq(y:totable(), s[4](s[3](s[2](s[1](x)))):totable())
  eq(names_of(s), {"0.weight", "0.bias", "2.weight", "2.bias"})
  s:add(nn.Identity())
  eq(#s, 5)
  eq(s(x):totable(), y:totable())
  local empty = nn.Sequential()
  eq(empty(x):totable(), x:totable())
  -- a DCGAN-style generator: shapes flow through every kind of layer
  local G = nn.Sequential(nn.Linear(10, 16 * 7 * 7), nn.BatchNorm1d(16 * 7 * 7), nn.ReLU(),
    nn.Reshape(16, 7, 7), nn.ConvTranspose2d(16, 8, 4, {stride = 2, padding = 1}), nn.BatchNorm2d(8),
    nn.ReLU(), nn.Upsample(2), nn.Conv2d(8, 1, 3, {padding = 1}), nn.Tanh())
  eq(G(lg.randn(4, 10)).shape, {4, 1, 28, 28})
  local D = nn.Sequential(nn.Conv2d(1, 4, 4, {stride = 2, padding = 1}), nn.LeakyReLU(0.2),
    nn.Dropout(0.25), nn.Flatten(), nn.Linear(4 * 14 * 14, 1))
  eq(D(lg.randn(4, 1, 28, 28)).shape, {4, 1})
end)

test("Sequential errors name the failing module's index and class", function()
  local s = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 2))
  local err = raises(function() s(lg.randn(2, 3)) end, "Sequential, module 3 (Linear)")
  assert(err:find("[2,4]", 1, true), "inner error keeps the shapes: " .. err)
  -- nested: the outer index is named too
  local outer = nn.Sequential(nn.Identity(), s)
  raises(function() outer(lg.randn(2, 3)) end, "Sequential, module 2 (Sequential)")
  raises(function() nn.Sequential(nn.ReLU(), 3) end, "Sequential: argument 2 is a number, a module is expected")
  raises(function() nn.Sequential(nn.ReLU(), {}) end, "Sequential: argument 2 is a table")
end)

test("constructors refuse unknown option keys and bad sizes", function()
  raises(function() nn.Linear(3, 4, {baias = false}) end, "Linear: unknown option 'baias' (valid: bias)")
  raises(function() nn.Conv2d(1, 2, 3, {strid = 2}) end, "Conv2d: unknown option 'strid'")
  raises(function() nn.Conv2d(1, 2, 3, {output_padding = 1}) end, "Conv2d: unknown option 'output_padding'")
  raises(function() nn.ConvTranspose2d(1, 2, 3, {pad = 1}) end, "ConvTranspose2d: unknown option 'pad'")
  raises(function() nn.BatchNorm2d(3, {momentun = 0.1}) end, "BatchNorm2d: unknown option 'momentun'")
  raises(function() nn.BatchNorm1d(3, {afine = false}) end, "BatchNorm1d: unknown option 'afine'")
  raises(function() nn.Linear(3, 4, 5) end, "Linear: bias must be a boolean, got 5")
  raises(function() nn.Linear(0, 4) end, "Linear: in_features must be an integer >= 1, got 0")
  raises(function() nn.Linear(3, 2.5) end, "Linear: out_features must be an integer >= 1, got 2.5")
  raises(function() nn.Conv2d(1, 2, 0) end, "Conv2d: kernel_size must be a positive integer or {kh, kw}, got 0")
  raises(function() nn.BatchNorm2d(0) end, "BatchNorm2d: num_features must be an integer >= 1")
end)

-- }======================================================

-- {====================================================== initialisation

test("default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases", function()
  lg.manual_seed(7)
  local cases = {
    {nn.Linear(100, 256), 100},
    {nn.Conv2d(3, 64, 5), 3 * 25},
    {nn.ConvTranspose2d(32, 16, 4), 16 * 16},   -- PyTorch: fan_in of [cin,cout,k,k] is cout*k*k
  }
  for i, c in ipairs(cases) do
    local m, bound = c[1], 1 / math.sqrt(c[2])
    for _, t in ipairs({m.weight, m.bias}) do
      local mean, std, hi, lo = stats(t)
      assert(hi <= bound and lo >= -bound, ("case %d: values within +-%g, got [%g, %g]"):format(i, bound, lo, hi))
      if t:numel() > 1000 then
        assert(hi > 0.95 * bound and lo < -0.95 * bound, ("case %d: fills the range"):format(i))
        near(std, bound / math.sqrt(3), 0.03, "uniform std")
        near(mean, 0, 0.02 * bound)
      end
    end
  end
end)

test("nn.init: normal_, uniform_, constant_, zeros_, ones_", function()
  lg.manual_seed(8)
  local t = lg.zeros(400, 500)
  local r = nn.init.normal_(t, 2, 0.5)
  assert(rawequal(r, t), "returns its argument")
  local m, s = stats(t)
  near(m, 2, 0.005)
  near(s, 0.5, 0.005)
  m, s = stats(nn.init.normal_(t))
  near(m, 0, 0.005)
  near(s, 1, 0.01)
  local _, hi, lo
  m, s, hi, lo = stats(nn.init.uniform_(t, -3, 1))
  assert(hi < 1 and lo >= -3)
  near(m, -1, 0.01)
  near(s, 4 / math.sqrt(12), 0.005)
  m, _, hi, lo = stats(nn.init.uniform_(t))
  assert(hi < 1 and lo >= 0)
  near(m, 0.5, 0.005)
  eq(nn.init.constant_(lg.zeros(2, 2), 3):totable(), {{3, 3}, {3, 3}})
  eq(nn.init.zeros_(lg.ones(3)):totable(), {0, 0, 0})
  eq(nn.init.ones_(lg.zeros(3)):totable(), {1, 1, 1})
  -- works on a parameter (a leaf that requires grad) and keeps it a leaf
  local p = nn.Linear(3, 2).weight
  nn.init.constant_(p, 0.25)
  eq(p:totable(), {{0.25, 0.25, 0.25}, {0.25, 0.25, 0.25}})
  assert(p.requires_grad)
end)

test("nn.init: xavier and kaiming follow PyTorch's formulas", function()
  lg.manual_seed(9)
  local t = lg.zeros(300, 200, 3, 3)     -- fan_in = 1800, fan_out = 2700
  local fi, fo = 200 * 9, 300 * 9
  local _, s, hi, lo = stats(nn.init.xavier_uniform_(t))
  local b = math.sqrt(6 / (fi + fo))
  assert(hi <= b and lo >= -b and hi > 0.99 * b)
  near(s, math.sqrt(2 / (fi + fo)), 0.01)
  _, s = stats(nn.init.xavier_uniform_(t, 2))
  near(s, 2 * math.sqrt(2 / (fi + fo)), 0.01)
  _, s = stats(nn.init.xavier_normal_(t))
  near(s, math.sqrt(2 / (fi + fo)), 0.01)
  -- kaiming defaults: a=0, fan_in, leaky_relu -> gain sqrt 2
  _, s, hi = stats(nn.init.kaiming_uniform_(t))
  near(s, math.sqrt(2 / fi), 0.01)
  assert(hi <= math.sqrt(6 / fi))
  _, s = stats(nn.init.kaiming_normal_(t))
  near(s, math.sqrt(2 / fi), 0.01)
  _, s = stats(nn.init.kaiming_normal_(t, {mode = "fan_out", nonlinearity = "relu"}))
  near(s, math.sqrt(2 / fo), 0.01)
  _, s = stats(nn.init.kaiming_normal_(t, {a = 0.2}))
  near(s, math.sqrt(2 / (1 + 0.04)) / math.sqrt(fi), 0.01)
  _, s = stats(nn.init.kaiming_normal_(t, {nonlinearity = "tanh"}))
  near(s, 5 / 3 / math.sqrt(fi), 0.01)
  near(nn.init.calculate_gain("relu"), math.sqrt(2), 1e-12)
  near(nn.init.calculate_gain("leaky_relu", 0.2), math.sqrt(2 / 1.04), 1e-12)
  near(nn.init.calculate_gain("tanh"), 5 / 3, 1e-12)
  eq(nn.init.calculate_gain("sigmoid"), 1)
  raises(function() nn.init.calculate_gain("swish") end, "calculate_gain: unknown nonlinearity 'swish'")
  raises(function() nn.init.xavier_uniform_(lg.zeros(5)) end, "at least 2 dims")
end)

test("nn.init.dcgan via apply: conv/linear N(0,0.02), BN weight N(1,0.02), biases 0", function()
  lg.manual_seed(10)
  local m = nn.Sequential(nn.ConvTranspose2d(64, 128, 4), nn.BatchNorm2d(4096), nn.ReLU(),
    nn.Conv2d(128, 64, 4), nn.BatchNorm1d(4096), nn.Linear(300, 200))
  m:apply(nn.init.dcgan)
  for _, i in ipairs({1, 4, 6}) do
    local mean, std = stats(m[i].weight)
    near(mean, 0, 0.001, "weight mean of module " .. i)
    near(std, 0.02, 0.001, "weight std of module " .. i)
    eq(m[i].bias:abs():max():item(), 0)
  end
  for _, i in ipairs({2, 5}) do
    local mean, std = stats(m[i].weight)
    near(mean, 1, 0.002)
    near(std, 0.02, 0.002)
    eq(m[i].bias:abs():max():item(), 0)
    -- buffers untouched
    eq(m[i].running_var:mean():item(), 1)
  end
end)

-- }======================================================

-- {====================================================== custom modules, naming, state

local Net = nn.Module:extend("Net")
function Net:init(nin, nout)
  self.fc = nn.Linear(nin, 8)
  self.bn = nn.BatchNorm1d(8)
  self.body = nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(0.2), nn.Linear(8, nout))
  self.scale = lg.ones(nout)
  self.scale.requires_grad = true               -- a bare tensor parameter
  self:register_buffer("step", lg.zeros{})
  self.fixed = lg.full({nout}, 2)               -- plain tensor: neither parameter nor buffer
end
function Net:forward(x)
  return self.body(self.bn(self.fc(x)):relu()) * self.scale + self.fixed
end

test("custom modules: extend, init, forward, nested and auto-registered parameters", function()
  lg.manual_seed(11)
  local n = Net(5, 3)
  eq(n.__name, "Net")
  local y = n(lg.randn(4, 5))
  eq(y.shape, {4, 3})
  -- PyTorch's order: a module's own parameters, then its children's, depth first
  eq(names_of(n), {"scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias", "body.0.weight",
                   "body.0.bias", "body.2.weight", "body.2.bias"})
  local ps = n:parameters()
  eq(#ps, 9)
  assert(rawequal(ps[1], n.scale) and rawequal(ps[2], n.fc.weight))
  -- named_parameters yields the same tensors in the same order
  local i = 0
  for name, p in n:named_parameters() do
    i = i + 1
    assert(rawequal(p, ps[i]), name)
  end
  eq(n:num_parameters(), 5 * 8 + 8 + 8 + 8 + 64 + 8 + 24 + 3 + 3)
  -- gradients reach every parameter
  y:sum():backward()
  for name, p in n:named_parameters() do assert(p.grad, "grad of " .. name) end
  n:zero_grad()
  for name, p in n:named_parameters() do eq(p.grad, nil, name) end
  -- a module without forward says so
  local Empty = nn.Module:extend("Empty")
  raises(function() Empty()(lg.zeros(1)) end, "Empty: forward is not defined")
  raises(function() nn.Module:extend(3) end, "extend: a class name (string) is expected")
end)

test("custom modules: subclasses inherit init/forward; fields added later are registered", function()
  local Base = nn.Module:extend("Base")
  function Base:init(n) self.lin = nn.Linear(n, n) end
  function Base:forward(x) return self.lin(x) end
  local Child = Base:extend("Child")
  function Child:init(n)
    Child.super.init(self, n)
    self.extra = nn.Linear(n, 1)
  end
  function Child:forward(x) return self.extra(Base.forward(self, x)) end
  local c = Child(4)
  eq(c.__name, "Child")
  eq(c(lg.randn(2, 4)).shape, {2, 1})
  eq(names_of(c), {"lin.weight", "lin.bias", "extra.weight", "extra.bias"})
  assert(tostring(c):find("^Child %(25 parameters%)"), tostring(c))
  -- a module attached after construction is a child like any other
  c.head = nn.Linear(1, 2)
  eq(names_of(c)[5], "head.weight")
  -- a class whose init takes no argument
  local Plain = nn.Module:extend("Plain")
  function Plain:forward(x) return x * 2 end
  eq(Plain()(lg.ones(2)):totable(), {2, 2})
end)

test("a module reused twice contributes its parameters once (as PyTorch)", function()
  local Tied = nn.Module:extend("Tied")
  function Tied:init()
    self.enc = nn.Linear(4, 4)
    self.dec = self.enc
  end
  function Tied:forward(x) return self.dec(self.enc(x)) end
  local t = Tied()
  -- torch.nn.Module.parameters() de-duplicates shared parameters; an optimizer
  -- given duplicates would update the shared tensor twice per step.
  eq(#t:parameters(), 2)
  eq(t:num_parameters(), 20)
end)

test("replacing a field keeps one entry in parameters()", function()
  local Holder = nn.Module:extend("Holder")
  function Holder:init() self.fc = nn.Linear(3, 3) end
  local h = Holder()
  h.fc = nn.Linear(3, 5)       -- plain reassignment
  eq(names_of(h), {"fc.weight", "fc.bias"})
  eq(h.fc.weight.shape, {5, 3})
  h.fc = nil                   -- removal, then a new value under the same name
  eq(#h:parameters(), 0)
  h.fc = nn.Linear(3, 2)
  eq(names_of(h), {"fc.weight", "fc.bias"})
  eq(h:num_parameters(), 8)
end)

test("state_dict: PyTorch keys, parameters and buffers, live tensors", function()
  local n = Net(5, 3)
  local sd = n:state_dict()
  local want = {"fc.weight", "fc.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                "bn.num_batches_tracked", "body.0.weight", "body.0.bias", "body.2.weight",
                "body.2.bias", "scale", "step"}
  for _, k in ipairs(want) do assert(lg.is_tensor(sd[k]), "state_dict has " .. k) end
  eq(count(sd), #want)
  eq(sd["fixed"], nil)
  assert(rawequal(sd["fc.weight"], n.fc.weight))
  eq(sd["bn.running_var"].shape, {8})
  eq(sd["bn.num_batches_tracked"]:dim(), 0)
  -- buffers are not parameters
  for name in n:named_parameters() do assert(not name:find("running")) end
  local s = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Linear(3, 1))
  local keys = {}
  for k in pairs(s:state_dict()) do keys[#keys + 1] = k end
  table.sort(keys)
  eq(keys, {"0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean",
            "1.running_var", "1.weight", "3.bias", "3.weight"})
end)

test("load_state_dict: copies values (no aliasing), round trip reproduces outputs", function()
  lg.manual_seed(12)
  local a, b = Net(5, 3), Net(5, 3)
  local x = lg.randn(6, 5)
  a(x)                                    -- moves a's running stats
  a:eval(); b:eval()
  assert(a(x):totable()[1][1] ~= b(x):totable()[1][1])
  local r = b:load_state_dict(a:state_dict())
  assert(rawequal(r, b))
  eq(b(x):totable(), a(x):totable())
  eq(b.bn.running_mean:totable(), a.bn.running_mean:totable())
  eq(b.bn.num_batches_tracked:item(), 1)
  -- values were copied: changing a afterwards does not change b
  assert(not rawequal(b.fc.weight, a.fc.weight))
  local before = b.fc.weight:totable()
  lg.no_grad(function() a.fc.weight:fill_(0) end)
  eq(b.fc.weight:totable(), before)
  -- the destination stays a parameter (leaf, requires grad)
  assert(b.fc.weight.requires_grad)
  b(x):sum():backward()
  assert(b.fc.weight.grad)
  -- a dict of fresh tensors (as lg.load returns) works the same
  local copy = {}
  for k, v in pairs(a:state_dict()) do copy[k] = v:clone():detach() end
  b:load_state_dict(copy)
  eq(b(x):totable(), a(x):totable())
end)

test("load_state_dict: strict errors name missing/unexpected keys and mismatched shapes", function()
  local m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
  local sd = {}
  for k, v in pairs(m:state_dict()) do sd[k] = v:clone() end
  sd["1.running_var"] = nil
  raises(function() m:load_state_dict(sd) end, "missing keys {1.running_var}")
  sd["1.running_var"] = lg.ones(4)
  sd["2.weight"] = lg.ones(1)
  raises(function() m:load_state_dict(sd) end, "unexpected keys {2.weight}")
  -- non-strict: extra keys ignored, missing keys left as they are
  sd["0.bias"] = nil
  local old_bias = m[1].bias:totable()
  sd["0.weight"] = lg.full({4, 3}, 0.5)
  m:load_state_dict(sd, false)
  eq(m[1].weight:totable()[1], {0.5, 0.5, 0.5})
  eq(m[1].bias:totable(), old_bias)
  -- a shape mismatch names the key and both shapes, and copies nothing
  local good = {}
  for k, v in pairs(m:state_dict()) do good[k] = v:clone() end
  good["0.weight"] = lg.zeros(3, 4)
  local before = m[1].weight:totable()
  raises(function() m:load_state_dict(good) end,
         "load_state_dict: '0.weight' has shape [3,4] in the state dict but [4,3] in the model")
  eq(m[1].weight:totable(), before)
  good["0.weight"] = 7
  raises(function() m:load_state_dict(good) end, "'0.weight' is a number, a tensor is expected")
end)

test("train()/eval() are recursive; apply() visits children before parents", function()
  local n = Net(5, 3)
  for _, m in ipairs(n:modules()) do assert(m.training) end
  local r = n:eval()
  assert(rawequal(r, n))
  for _, m in ipairs(n:modules()) do eq(m.training, false, m.__name) end
  n:train()
  for _, m in ipairs(n:modules()) do eq(m.training, true, m.__name) end
  n:train(false)
  eq(n.body[2].training, false)
  n:train(true)
  local seen = {}
  eq(rawequal(n:apply(function(m) seen[#seen + 1] = m.__name end), n), true)
  eq(seen, {"Linear", "LeakyReLU", "Linear", "Sequential", "BatchNorm1d", "Linear", "Net"})
  -- apply with an init function reaches nested parameters
  n:apply(function(m) if m.__name == "Linear" then nn.init.zeros_(m.weight) end end)
  eq(n.body[3].weight:abs():max():item(), 0)
  eq(n.fc.weight:abs():max():item(), 0)
end)

test("tostring shows the architecture and parameter counts", function()
  local G = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
  local s = tostring(G)
  assert(s:find("Sequential (227,344 parameters)", 1, true), s)
  assert(s:find("(0): Linear(100 -> 256)", 1, true), s)
  assert(s:find("25,856", 1, true), s)
  assert(s:find("(2): Linear(256 -> 784)", 1, true), s)
  assert(s:find("201,488", 1, true), s)
  assert(s:find("(1): ReLU()", 1, true) and s:find("(3): Tanh()", 1, true), s)
  eq(G:num_parameters(), 227344)
  local D = nn.Sequential(nn.Conv2d(1, 64, 4, {stride = 2, padding = 1}), nn.LeakyReLU(0.2),
    nn.BatchNorm2d(64), nn.Dropout(0.3), nn.Flatten(), nn.Linear(64 * 14 * 14, 1, {bias = false}))
  local d = tostring(D)
  assert(d:find("Conv2d(1 -> 64, k4x4, s2x2, p1x1)", 1, true), d)
  assert(d:find("LeakyReLU(0.2)", 1, true), d)
  assert(d:find("BatchNorm2d(64, eps=1e-05, momentum=0.1)", 1, true), d)
  assert(d:find("Dropout(p=0.3)", 1, true), d)
  assert(d:find("no bias", 1, true), d)
  assert(d:find(("Sequential (%s parameters)"):format("13,760"), 1, true), d)   -- 1088 + 128 + 12544
  eq(tostring(nn.Linear(3, 2)), "Linear(3 -> 2)")
  eq(tostring(nn.Upsample(2)), "Upsample(scale_factor=2, nearest)")
  eq(tostring(nn.ConvTranspose2d(2, 3, 4, {stride = 2})), "ConvTranspose2d(2 -> 3, k4x4, s2x2, p0x0, op0x0)")
  -- nested containers indent and give their own totals
  local n = tostring(Net(5, 3))
  assert(n:find("^Net %(%d+ parameters%)"), n)
  assert(n:find("  (body): Sequential (99 parameters)", 1, true), n)
  assert(n:find("    (0): Linear(8 -> 8)", 1, true), n)
end)

-- }======================================================

test("conv2d / conv_transpose2d: a table third is the options, no bias", function()
  lg.manual_seed(7)
  local x, w = lg.randn(1, 2, 5, 5), lg.randn(3, 2, 3, 3)
  local y = lg.conv2d(x, w, {stride = 2, padding = 1})
  eq(y.shape, {1, 3, 3, 3})
  eq(y:totable(), lg.conv2d(x, w, nil, {stride = 2, padding = 1}):totable())
  local wt = lg.randn(2, 3, 3, 3)
  local z = lg.conv_transpose2d(x, wt, {stride = 2, output_padding = 1})
  eq(z.shape, {1, 3, 12, 12})
  eq(z:totable(), lg.conv_transpose2d(x, wt, nil, {stride = 2, output_padding = 1}):totable())
  raises(function() return lg.conv2d(x, w, {stride = 2}, {padding = 1}) end,
         "conv2d: give the options as the last argument")
  raises(function() return lg.conv2d(x, w, {strides = 2}) end, "strides")
  raises(function() return lg.conv_transpose2d(x, wt, {stride = 0}) end, "stride")
end)
