-- The layers of the semi-supervised GAN (Salimans et al. 2016):
-- nn.weight_norm / nn.remove_weight_norm (lua/luagan/nn_weight_norm.lua),
-- nn.GaussianNoise (lua/luagan/nn_noise.lua) and optim.EMA
-- (lua/luagan/optim_ema.lua).  Known values computed here, gradients against
-- central finite differences, train/eval behaviour, state_dict round trips,
-- argument errors.  The comparison with PyTorch is in test_vs_torch.lua.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local function set(t, values) lg.no_grad(function() t:copy_(values) end) end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- {====================================================== weight_norm

test("weight_norm: g and v replace the weight; the layer computes what it did", function()
  lg.manual_seed(1)
  local fc = nn.Linear(4, 3)
  local x = lg.randn(5, 4)
  local before = fc(x):totable()
  local w = fc.weight:detach():clone()
  nn.weight_norm(fc)
  eq(sorted_keys(fc:state_dict()), {"bias", "weight_g", "weight_v"})
  eq(fc.weight_g.shape, {3, 1})
  -- parameters in PyTorch's order: the bias, then g, then v
  local names = {}
  for name in fc:named_parameters() do names[#names + 1] = name end
  eq(names, {"bias", "weight_g", "weight_v"})
  near(fc.weight_v:totable(), w:totable(), 0)
  near(fc.weight_g:totable(), (w * w):sum(2, true):sqrt():totable(), 1e-6)
  near(fc(x):totable(), before, 1e-5)
end)

test("weight_norm: w = g v / ||v|| per output row, by hand", function()
  local fc = nn.weight_norm(nn.Linear(2, 2, false))
  set(fc.weight_v, lg.tensor{{3, 4}, {0, 2}})
  set(fc.weight_g, lg.tensor{{10}, {-1}})
  -- rows: 10 * (3, 4) / 5 = (6, 8); -1 * (0, 2) / 2 = (0, -1)
  near(fc(lg.tensor{{1, 1}, {2, 0}}):totable(), {{14, -1}, {12, 0}}, 1e-6)
  near(fc.weight:totable(), {{6, 8}, {0, -1}}, 1e-6)
  -- dim 2: one length per input column; false: one for the whole tensor
  local by_col = nn.weight_norm(nn.Linear(2, 2, false), "weight", 2)
  eq(by_col.weight_g.shape, {1, 2})
  set(by_col.weight_v, lg.tensor{{3, 0}, {4, 2}})
  set(by_col.weight_g, lg.tensor{{10, -1}})
  near(by_col(lg.tensor{{1, 0}}):totable(), {{6, 8}}, 1e-6)
  local whole = nn.weight_norm(nn.Linear(2, 2, false), "weight", false)
  eq(whole.weight_g.shape, {})
  set(whole.weight_v, lg.tensor{{1, 1}, {1, 1}})
  set(whole.weight_g, lg.tensor(4))
  whole(lg.zeros(1, 2))   -- the weight is formed by the forward
  near(whole.weight:totable(), {{2, 2}, {2, 2}}, 1e-6)
end)

test("weight_norm: gradients of g, v, bias and x match central differences", function()
  lg.manual_seed(2)
  local fc = nn.weight_norm(nn.Linear(4, 3))
  local x = lg.randn(5, 4)
  x.requires_grad = true
  local f = function() return weighted(fc(x):tanh()) end
  gradcheck_leaf(f, fc.weight_g)
  gradcheck_leaf(f, fc.weight_v)
  gradcheck_leaf(f, fc.bias)
  gradcheck_leaf(f, x)
  local conv = nn.weight_norm(nn.Conv2d(2, 3, 3, 1, 1))
  local xc = lg.randn(2, 2, 4, 4)
  local fconv = function() return weighted(conv(xc)) end
  eq(conv.weight_g.shape, {3, 1, 1, 1})
  gradcheck_leaf(fconv, conv.weight_g)
  gradcheck_leaf(fconv, conv.weight_v)
end)

test("weight_norm: second order, as under a gradient penalty", function()
  lg.manual_seed(3)
  local net = nn.Sequential(nn.weight_norm(nn.Linear(3, 4)), nn.Softplus(), nn.weight_norm(nn.Linear(4, 1)))
  local x = lg.randn(5, 3)
  x.requires_grad = true
  local function penalty()
    local g = lg.grad(net(x):sum(), x, {create_graph = true})
    return (g * g):sum()
  end
  gradcheck_leaf(penalty, net[1].weight_g, 5e-3)
  gradcheck_leaf(penalty, net[3].weight_v, 5e-3)
end)

test("weight_norm: state_dict round trip into a fresh weight-normed net", function()
  lg.manual_seed(4)
  local function make()
    return nn.Sequential(nn.weight_norm(nn.Linear(4, 3)), nn.ReLU(), nn.weight_norm(nn.Linear(3, 2)))
  end
  local a, b = make(), make()
  local path = temp_dir() .. "/wn.safetensors"
  lg.save(path, a:state_dict())
  local sd = lg.load(path)
  eq(sorted_keys(sd), {"0.bias", "0.weight_g", "0.weight_v", "2.bias", "2.weight_g", "2.weight_v"})
  b:load_state_dict(sd)
  local x = lg.randn(6, 4)
  eq(b(x):totable(), a(x):totable())
end)

test("weight_norm: an optimizer step moves g and v; remove_weight_norm keeps the function", function()
  lg.manual_seed(5)
  local fc = nn.weight_norm(nn.Linear(4, 3))
  local opt = optim.SGD(fc:parameters(), {lr = 0.1})
  local x = lg.randn(5, 4)
  local g0 = fc.weight_g:clone()
  fc(x):pow(2):sum():backward()
  opt:step()
  local moved = (fc.weight_g - g0):abs():sum():item()
  assert(moved > 0, "g did not move")
  local y = fc(x):totable()
  nn.remove_weight_norm(fc)
  eq(sorted_keys(fc:state_dict()), {"bias", "weight"})
  eq(fc.weight.requires_grad, true)
  near(fc(x):totable(), y, 1e-5)
end)

test("weight_norm: bad arguments give clear errors", function()
  raises(function() nn.weight_norm(lg.zeros(2)) end, "weight_norm: a module is expected, got userdata")
  raises(function() nn.weight_norm(nn.ReLU()) end, "weight_norm: ReLU has no parameter 'weight'")
  raises(function() nn.weight_norm(nn.Linear(2, 2), "bais") end, "Linear has no parameter 'bais'")
  raises(function() nn.weight_norm(nn.Linear(2, 2), "weight", 3) end,
         "weight_norm: dim must be an integer in 1..2 (or -2..-1), or false, got 3")
  raises(function() nn.weight_norm(nn.Linear(2, 2), "weight", 0) end, "dim must be an integer in 1..2")
  local fc = nn.weight_norm(nn.Linear(2, 2))
  raises(function() nn.weight_norm(fc) end, "weight_norm: Linear already has weight normalisation on 'weight'")
  raises(function() nn.remove_weight_norm(nn.Linear(2, 2)) end,
         "remove_weight_norm: Linear has no weight normalisation")
  -- a negative dim counts from the end
  eq(nn.weight_norm(nn.Linear(2, 3), "weight", -1).weight_g.shape, {1, 2})
end)

-- }======================================================

-- {====================================================== GaussianNoise

test("GaussianNoise: N(0, sigma^2) added in training, identity in eval", function()
  lg.manual_seed(6)
  local noise = nn.GaussianNoise(0.5)
  local x = lg.full({200, 100}, 3)
  local d = noise(x) - x
  near(d:mean():item(), 0, 0.01)
  near(d:std():item(), 0.5, 0.02)
  eq(noise:num_parameters(), 0)
  eq(next(noise:state_dict()), nil)
  noise:eval()
  assert(noise(x) == x, "eval mode must return its input")
  noise:train()
  assert(nn.GaussianNoise(0)(x) == x, "sigma 0 must return its input")
  eq(tostring(noise), "GaussianNoise(sigma=0.5)")
end)

test("GaussianNoise: seeded draws repeat; the gradient passes through unchanged", function()
  local x = lg.randn(3, 4)
  lg.manual_seed(7)
  local a = nn.GaussianNoise(0.3)(x):totable()
  lg.manual_seed(7)
  eq(nn.GaussianNoise(0.3)(x):totable(), a)
  x.requires_grad = true
  local g = lg.grad((nn.GaussianNoise(0.3)(x) * 2):sum(), x)
  eq(g:totable(), lg.full({3, 4}, 2):totable())
end)

test("GaussianNoise: bad sigma and input give clear errors", function()
  raises(function() nn.GaussianNoise(-1) end, "GaussianNoise: sigma must be a finite number >= 0, got -1")
  raises(function() nn.GaussianNoise("a") end, "GaussianNoise: sigma must be a finite number >= 0, got a")
  raises(function() nn.GaussianNoise(0 / 0) end, "sigma must be a finite number >= 0")
  raises(function() nn.GaussianNoise(0.1)({1, 2}) end, "GaussianNoise: a tensor is expected, got table")
  eq(nn.GaussianNoise().sigma, 1)
end)

-- }======================================================

-- {====================================================== EMA

test("EMA: avg = decay avg + (1 - decay) p, starting at the parameters", function()
  local fc = nn.Linear(2, 1)
  set(fc.weight, lg.tensor{{0, 4}})
  set(fc.bias, lg.tensor{8})
  local ema = optim.EMA(fc, 0.75)
  eq(ema.average.weight:totable(), {{0, 4}})
  set(fc.weight, lg.tensor{{4, 0}})
  set(fc.bias, lg.tensor{0})
  ema:update()
  near(ema.average.weight:totable(), {{1, 3}}, 1e-6)
  near(ema.average.bias:totable(), {6}, 1e-6)
  ema:update()
  near(ema.average.weight:totable(), {{1.75, 2.25}}, 1e-6)
  eq(ema.num_updates, 2)
  eq(fc.weight:totable(), {{4, 0}})    -- the model itself is untouched
end)

test("EMA: copy_to gives a module the averages and the buffers", function()
  lg.manual_seed(8)
  local function make() return nn.Sequential(nn.weight_norm(nn.Linear(3, 4)), nn.BatchNorm1d(4)) end
  local net, test_net = make(), make()
  local ema = optim.EMA(net, 0.5)
  local opt = optim.SGD(net:parameters(), {lr = 0.5})
  for _ = 1, 3 do
    opt:zero_grad()
    net(lg.randn(8, 3)):pow(2):sum():backward()
    opt:step()
    ema:update()
  end
  ema:copy_to(test_net)
  local sd, own = test_net:state_dict(), net:state_dict()
  for k, avg in pairs(ema.average) do eq(sd[k]:totable(), avg:totable(), k) end
  eq(sd["1.running_mean"]:totable(), own["1.running_mean"]:totable())
  local diff = (sd["0.weight_v"] - own["0.weight_v"]):abs():sum():item()
  assert(diff > 0, "the average should differ from the last parameters")
end)

test("EMA: state_dict round trip through a file", function()
  lg.manual_seed(9)
  local fc = nn.Linear(3, 2)
  local ema = optim.EMA(fc, 0.9)
  set(fc.weight, lg.randn(2, 3))
  ema:update()
  local path = temp_dir() .. "/ema.safetensors"
  lg.save(path, ema:state_dict())
  local other = optim.EMA(nn.Linear(3, 2), 0.9)
  other:load_state_dict((lg.load(path)))
  eq(other.average.weight:totable(), ema.average.weight:totable())
  eq(other.average.bias:totable(), ema.average.bias:totable())
  eq(other.num_updates, 1)
end)

test("EMA: bad arguments give clear errors", function()
  raises(function() optim.EMA({}) end, "EMA: a module is expected, got table")
  raises(function() optim.EMA(nn.Linear(2, 2), 1) end, "EMA: decay must be a number in [0, 1), got 1")
  raises(function() optim.EMA(nn.Linear(2, 2), -0.1) end, "decay must be a number in [0, 1)")
  raises(function() optim.EMA(nn.ReLU()) end, "EMA: the module has no parameters")
  local ema = optim.EMA(nn.Linear(2, 2))
  raises(function() ema:copy_to(nn.Linear(2, 3)) end,
         "EMA:copy_to: 'weight' has shape [2,2] in the average but [3,2] in the target")
  raises(function() ema:copy_to(nn.Linear(2, 2, false)) end, "EMA:copy_to: the target has no 'bias'")
  raises(function() ema:copy_to(3) end, "EMA:copy_to: a module is expected, got number")
  raises(function() ema:load_state_dict({}) end, "EMA.load_state_dict: missing 'weight'")
  raises(function() ema:load_state_dict({weight = lg.zeros(1), bias = lg.zeros(2)}) end,
         "EMA.load_state_dict: 'weight' has shape [1], expected [2,2]")
end)

-- }======================================================
