-- nn.spectral_norm / nn.remove_spectral_norm (lua/luagan/nn_spectral_norm.lua):
-- the power iteration and sigma by hand, convergence to the largest singular
-- value, gradients against central finite differences (first and second
-- order), two forwards before one backward, train/eval, state_dict round
-- trips, argument errors.  The comparison with PyTorch's
-- torch.nn.utils.spectral_norm is in test_vs_torch.lua.
local lg = require "luagan"
local nn = lg.nn

local function set(t, values) lg.no_grad(function() t:copy_(values) end) end

local sorted_keys = require("luagan.util").sorted_keys

-- m after enough training forwards that u and v are near W's singular
-- vectors, in eval mode: sigma is then W's largest singular value, not the
-- arbitrary (even near-zero) u^T W v of the random start
local function settled(m, x)
  for _ = 1, 20 do m(x) end
  return m:eval()
end

local function top_singular_value(w)
  local _, s = lg.linalg.svd(w:detach())
  return s[1]:item()
end

test("spectral_norm: weight_orig, weight_u and weight_v replace the weight (PyTorch's keys)", function()
  lg.manual_seed(1)
  local fc = nn.Linear(5, 4)
  local w0 = fc.weight:detach():clone()
  nn.spectral_norm(fc)
  eq(sorted_keys(fc:state_dict()), {"bias", "weight_orig", "weight_u", "weight_v"})
  eq(#fc:parameters(), 2)
  eq(fc.weight_orig:totable(), w0:totable())
  eq(fc.weight_u.shape, {4})
  eq(fc.weight_v.shape, {5})
  near((fc.weight_u * fc.weight_u):sum():item(), 1, 1e-6)    -- unit vectors at the start
  near((fc.weight_v * fc.weight_v):sum():item(), 1, 1e-6)
  eq(fc.weight.shape, {4, 5})                                 -- readable before a forward
  -- the rows are dim 1, or dim 2 (the output channels) for a transposed conv
  local conv = nn.spectral_norm(nn.Conv2d(3, 8, 4, 2, 1))
  eq({conv.weight_u.shape[1], conv.weight_v.shape[1]}, {8, 48})
  local convt = nn.spectral_norm(nn.ConvTranspose2d(8, 3, 4, 2, 1))
  eq({convt.weight_u.shape[1], convt.weight_v.shape[1]}, {3, 128})
  eq(convt(lg.randn(2, 8, 5, 5)).shape, {2, 3, 10, 10})
  local rows = nn.spectral_norm(nn.Linear(5, 4), {dim = 2})
  eq({rows.weight_u.shape[1], rows.weight_v.shape[1]}, {5, 4})
end)

test("spectral_norm: one power iteration and sigma = u^T W v, by hand", function()
  local fc = nn.spectral_norm(nn.Linear(2, 2, false))
  set(fc.weight_orig, lg.tensor{{1, 2}, {3, 4}})
  set(fc.weight_u, lg.tensor{1, 0})
  set(fc.weight_v, lg.tensor{0, 1})
  fc:eval()                          -- no iteration: sigma = u^T W v = W[1][2] = 2
  fc(lg.zeros(1, 2))
  near(fc.weight:totable(), {{0.5, 1}, {1.5, 2}}, 1e-6)
  eq(fc.weight_u:totable(), {1, 0})
  fc:train()
  fc(lg.zeros(1, 2))
  -- v = W^T u / |W^T u| = (1, 2) / sqrt 5; u = W v / |W v| = (5, 11) / sqrt 146;
  -- sigma = u^T W v = 146 / sqrt 730
  local s5, s146 = math.sqrt(5), math.sqrt(146)
  near(fc.weight_v:totable(), {1 / s5, 2 / s5}, 1e-6)
  near(fc.weight_u:totable(), {5 / s146, 11 / s146}, 1e-6)
  local sigma = 146 / math.sqrt(730)
  near(fc.weight:totable(), {{1 / sigma, 2 / sigma}, {3 / sigma, 4 / sigma}}, 1e-5)
end)

test("spectral_norm: the iteration converges to the largest singular value", function()
  lg.manual_seed(2)
  local fc = nn.spectral_norm(nn.Linear(6, 5), {n_power_iterations = 2})
  local x = lg.randn(3, 6)
  for _ = 1, 40 do fc(x) end
  local sigma = top_singular_value(fc.weight_orig)
  near(top_singular_value(fc.weight), 1, 1e-4)
  near((fc.weight_orig / fc.weight)[1][1]:item(), sigma, 1e-3 * sigma)
  -- a conv's weight is normalised as its [cout, cin*kh*kw] matrix
  local conv = nn.spectral_norm(nn.Conv2d(2, 4, 3, 1, 1))
  for _ = 1, 40 do conv(lg.randn(1, 2, 3, 3)) end
  near(top_singular_value(conv.weight:reshape(4, -1)), 1, 1e-4)
end)

test("spectral_norm: gradients of weight_orig, bias and x match central differences", function()
  lg.manual_seed(3)
  local x = lg.randn(5, 4)
  local fc = settled(nn.spectral_norm(nn.Linear(4, 3)), x)   -- eval: u and v stay fixed
  x.requires_grad = true
  local f = function() return weighted(fc(x):tanh()) end
  gradcheck_leaf(f, fc.weight_orig)
  gradcheck_leaf(f, fc.bias)
  gradcheck_leaf(f, x)
  local xt = lg.randn(2, 2, 3, 3)
  local convt = settled(nn.spectral_norm(nn.ConvTranspose2d(2, 3, 3, 2, 1)), xt)
  gradcheck_leaf(function() return weighted(convt(xt)) end, convt.weight_orig)
end)

test("spectral_norm: second order, as under a gradient penalty", function()
  lg.manual_seed(4)
  local x = lg.randn(5, 3)
  local net = settled(nn.Sequential(nn.spectral_norm(nn.Linear(3, 4)), nn.Softplus(),
                                    nn.spectral_norm(nn.Linear(4, 1))), x)
  x.requires_grad = true
  local function penalty()
    local g = lg.grad(net(x):sum(), x, {create_graph = true})
    return (g * g):sum()
  end
  gradcheck_leaf(penalty, net[1].weight_orig, 5e-3)
  gradcheck_leaf(penalty, net[3].weight_orig, 5e-3)
end)

test("spectral_norm: two forwards before one backward (D on real and fake)", function()
  lg.manual_seed(5)
  local D = nn.Sequential(nn.spectral_norm(nn.Linear(3, 4)), nn.LeakyReLU(0.2),
                          nn.spectral_norm(nn.Linear(4, 1)))
  local real, fake = lg.randn(6, 3), lg.randn(6, 3)
  local start = {}
  for k, t in pairs(D:state_dict()) do start[k] = t:clone() end
  local loss = D(real):sum() - D(fake):sum()
  loss:backward()
  assert(not lg.equal(start["0.weight_u"], D[1].weight_u), "each training forward iterates")
  local both = D[1].weight_orig.grad:clone()
  -- the same two forwards, each with its own backward, from the same start: the
  -- first graph kept the u and v of its own forward, so the sums agree
  D:load_state_dict(start)
  D[1].weight_orig.grad, D[3].weight_orig.grad = nil, nil
  D(real):sum():backward()
  ;(-D(fake):sum()):backward()
  near(D[1].weight_orig.grad:totable(), both:totable(), 1e-5)
end)

test("spectral_norm: state_dict round trip, remove_spectral_norm keeps the function", function()
  lg.manual_seed(6)
  local a = nn.spectral_norm(nn.Linear(4, 3))
  local x = lg.randn(2, 4)
  for _ = 1, 3 do a(x) end
  a:eval()
  local b = nn.spectral_norm(nn.Linear(4, 3)):eval()
  b:load_state_dict(a:state_dict())
  eq(b(x):totable(), a(x):totable())
  local y = a(x)
  nn.remove_spectral_norm(a)
  eq(sorted_keys(a:state_dict()), {"bias", "weight"})
  assert(a.weight.requires_grad)
  near(a(x):totable(), y:totable(), 1e-6)
  nn.spectral_norm(a)   -- can be applied again
  eq(sorted_keys(a:state_dict()), {"bias", "weight_orig", "weight_u", "weight_v"})
end)

test("spectral_norm: argument errors", function()
  raises(function() nn.spectral_norm(42) end, "spectral_norm: a module is expected, got number")
  raises(function() nn.spectral_norm(nn.ReLU()) end, "spectral_norm: ReLU has no parameter 'weight'")
  raises(function() nn.spectral_norm(nn.Linear(2, 2), "bias2") end, "has no parameter 'bias2'")
  raises(function() nn.spectral_norm(nn.spectral_norm(nn.Linear(2, 2))) end,
         "spectral_norm: Linear already has spectral normalisation on 'weight'")
  raises(function() nn.spectral_norm(nn.Linear(2, 2), {n_power_iterations = 0}) end,
         "n_power_iterations must be an integer >= 1, got 0")
  raises(function() nn.spectral_norm(nn.Linear(2, 2), {eps = -1}) end, "eps must be a positive number")
  raises(function() nn.spectral_norm(nn.Linear(2, 2), {dim = 3}) end,
         "dim must be an integer in 1..2 (or -2..-1), got 3")
  raises(function() nn.spectral_norm(nn.Linear(2, 2), {iters = 2}) end, "unknown option 'iters'")
  raises(function() nn.remove_spectral_norm(nn.Linear(2, 2)) end,
         "remove_spectral_norm: Linear has no spectral normalisation")
end)
