-- Autograd from Lua: known gradients, accumulation, grad properties,
-- no_grad, detach, lg.grad to first and second order.
local lg = require "luagan"

local function leaf(t)
  local x = lg.tensor(t)
  x.requires_grad = true
  return x
end

test("requires_grad, is_leaf, grad_fn", function()
  local x = lg.ones(2)
  assert(not x.requires_grad and x.is_leaf and x.grad_fn == nil)
  x.requires_grad = true
  assert(x.requires_grad and x.is_leaf)
  local y = x * 2
  assert(y.requires_grad and not y.is_leaf)
  eq(y.grad_fn, "mul")
  eq((x + x).grad_fn, "add")
  x.requires_grad = false
  assert(not (x * 2).requires_grad)
  local z = lg.ones(2):requires_grad_()
  assert(z.requires_grad)
end)

test("backward gives known gradients", function()
  -- d/dx sum(x^2) = 2x
  local x = leaf{1, -2, 3}
  ;(x ^ 2):sum():backward()
  near(x.grad:totable(), {2, -4, 6})
  -- d/dx sum(exp(x)) = exp(x)
  local e = leaf{0, 1}
  e:exp():sum():backward()
  near(e.grad:totable(), {1, math.exp(1)})
  -- d/da sum(a*b) = b, d/db = a
  local a, b = leaf{1, 2}, leaf{3, 4}
  ;(a * b):sum():backward()
  near(a.grad:totable(), {3, 4})
  near(b.grad:totable(), {1, 2})
  -- division
  local p, q = leaf{1, 2}, leaf{4, 8}
  ;(p / q):sum():backward()
  near(p.grad:totable(), {0.25, 0.125})
  near(q.grad:totable(), {-1 / 16, -2 / 64})
  -- number / tensor and tensor / number
  local r = leaf{2}
  ;(1 / r + r / 4):sum():backward()
  near(r.grad:totable(), {-0.25 + 0.25})
  -- 2^x
  local s = leaf{1}
  ;(2 ^ s):sum():backward()
  near(s.grad:totable(), {2 * math.log(2)}, 1e-5)
end)

test("matmul and linear gradients", function()
  local a = leaf{{1, 2}, {3, 4}}
  local b = leaf{{5, 6}, {7, 8}}
  a:matmul(b):sum():backward()
  -- d sum(AB)/dA = 1 B^T: row sums of B
  near(a.grad:totable(), {{11, 15}, {11, 15}})
  near(b.grad:totable(), {{4, 4}, {6, 6}})
  local x = lg.tensor{{1, 2}, {3, 4}}
  local w, bias = leaf{{1, 1}}, leaf{0.5}
  lg.linear(x, w, bias):relu():sum():backward()
  near(w.grad:totable(), {{4, 6}})
  near(bias.grad:totable(), {2})
end)

test("gradients accumulate over backward calls and x.grad = nil clears", function()
  local x = leaf{1, 2}
  ;(x * 3):sum():backward()
  ;(x * 3):sum():backward()
  near(x.grad:totable(), {6, 6})
  -- a tensor used twice in one graph
  local y = leaf{2}
  ;(y * y + y):sum():backward()
  near(y.grad:totable(), {5})
  x.grad = nil
  eq(x.grad, nil)
  ;(x * 1):sum():backward()
  near(x.grad:totable(), {1, 1})
  x.grad = lg.zeros(2)
  ;(x * 2):sum():backward()
  near(x.grad:totable(), {2, 2})
end)

test("backward with an explicit gradient and retain_graph", function()
  local x = leaf{1, 2, 3}
  local y = x * 2
  y:backward(lg.tensor{1, 0, -1}, {retain_graph = true})
  near(x.grad:totable(), {2, 0, -2})
  y:backward(lg.tensor{1, 1, 1})
  near(x.grad:totable(), {4, 2, 0})
  local z = leaf{1}
  local s = (z * z):sum()
  s:backward{retain_graph = true}
  s:backward()
  near(z.grad:totable(), {4})
end)

test("views carry gradients", function()
  local x = leaf{{1, 2, 3}, {4, 5, 6}}
  local y = x:narrow(2, 2, 2):t():reshape(4) * lg.tensor{1, 2, 3, 4}
  y:sum():backward()
  near(x.grad:totable(), {{0, 1, 3}, {0, 2, 4}})
  local c = leaf{1, 2}
  lg.cat({c, c * 2}, 1):sum():backward()
  near(c.grad:totable(), {3, 3})
end)

test("reductions and losses have gradients", function()
  local x = leaf{{1, 5}, {3, 2}}
  local v = x:max(2)
  v:sum():backward()
  near(x.grad:totable(), {{0, 1}, {1, 0}})
  local m = leaf{1, 2, 3, 4}
  m:mean():backward()
  near(m.grad:totable(), {0.25, 0.25, 0.25, 0.25})
  local a = leaf{1, 2}
  lg.mse(a, lg.tensor{0, 0}):backward()
  near(a.grad:totable(), {1, 2})
  local z = leaf{{0, 0}}
  lg.cross_entropy(z, {2}):backward()
  near(z.grad:totable(), {{0.5, -0.5}})
end)

test("no_grad disables recording and restores the mode even on error", function()
  local x = leaf{1}
  local y, extra = lg.no_grad(function(a) return x * a, "more" end, 3)
  assert(not y.requires_grad)
  eq(extra, "more")
  assert(lg.is_grad_enabled())
  local ok, err = pcall(lg.no_grad, function() error("boom") end)
  assert(not ok and tostring(err):find("boom", 1, true))
  assert(lg.is_grad_enabled(), "restored after an error")
  -- in-place updates of parameters are fine under no_grad
  lg.no_grad(function() x:fill_(5) end)
  eq(x:totable(), {5})
  eq(lg.set_grad_enabled(false), true)
  assert(not (x * 2).requires_grad)
  eq(lg.set_grad_enabled(true), false)
end)

test("detach", function()
  local x = leaf{1, 2}
  local d = (x * 2):detach()
  assert(not d.requires_grad and d.is_leaf)
  eq(d:totable(), {2, 4})
  local e = x:detach()
  lg.no_grad(function() e:fill_(9) end)
  eq(x:totable(), {9, 9}, "detach shares storage")
end)

test("lg.grad first order, with lists", function()
  local x, y = leaf{1, 2}, leaf{3}
  local out = (x * x):sum() + (y * 2):sum()
  local gx = lg.grad(out, x, {retain_graph = true})
  near(gx:totable(), {2, 4})
  local gs = lg.grad({out}, {x, y})
  near(gs[1]:totable(), {2, 4})
  near(gs[2]:totable(), {2})
  eq(x.grad, nil, "lg.grad does not touch .grad")
  -- grad_outputs
  local z = leaf{1, 2}
  local g = lg.grad(z * 3, z, {grad_outputs = lg.tensor{1, 10}})
  near(g:totable(), {3, 30})
  -- an input the output does not depend on gets zeros
  local u = leaf{7}
  local gu = lg.grad((z * 1):sum(), {z, u})
  near(gu[2]:totable(), {0})
end)

test("lg.grad second order: d/dx sum((d/dx sum(x^3))^2)", function()
  -- g = d/dx sum(x^3) = 3x^2;  sum(g^2) = 9 sum(x^4);  d/dx = 36 x^3
  local x = leaf{1, -2, 0.5}
  local g = lg.grad((x ^ 3):sum(), x, {create_graph = true})
  assert(g.requires_grad)
  near(g:totable(), {3, 12, 0.75})
  local gg = lg.grad((g * g):sum(), x)
  near(gg:totable(), {36, -288, 36 * 0.125}, 1e-4)
  -- the same through backward()
  local x2 = leaf{2}
  local g2 = lg.grad((x2 ^ 3):sum(), x2, {create_graph = true})
  ;(g2 * g2):sum():backward()
  near(x2.grad:totable(), {36 * 8}, 1e-4)
end)

test("gradient penalty style: grad of a sigmoid net w.r.t. its input", function()
  local w = leaf{{0.5, -1}}
  local x = leaf{{1, 2}}
  local d = lg.linear(x, w):sigmoid():sum()
  local gx = lg.grad(d, x, {create_graph = true})
  local s = 1 / (1 + math.exp(-(0.5 - 2)))
  near(gx:totable(), {{s * (1 - s) * 0.5, s * (1 - s) * -1}})
  local penalty = ((gx * gx):sum() - 1) ^ 2
  penalty:backward()
  assert(w.grad ~= nil, "penalty reaches the weights")
end)

test("sign hands back a zero gradient, like the rounding ops", function()
  local x = lg.tensor{-2, 0.5, 3}
  x.requires_grad = true
  x:sign():sum():backward()
  eq(x.grad:totable(), {0, 0, 0})
  x.grad = nil
  ((x:sign() + x:floor()) * 3 + x):sum():backward()
  eq(x.grad:totable(), {1, 1, 1})
end)

-- Values from PyTorch 1.13.
test("std at a constant row: zero gradient, and it differentiates again", function()
  local x = leaf{{2, 2, 2}, {1, 2, 4}}
  local g = lg.grad(x:std(2):sum(), x, {create_graph = true})
  near(g:totable(), {{0, 0, 0}, {-0.4364358, -0.1091089, 0.5455447}}, 1e-5)
  local penalty = (g * g):sum() + (g * x):sum()
  penalty:backward()
  near(x.grad:totable(), {{0, 0, 0}, {-0.4364358, -0.1091089, 0.5455447}}, 1e-5)
end)

test("max() and min() over all elements split the gradient among ties, to second order", function()
  local x = leaf{1, -1, 0.5}
  local g = lg.grad((x * x):max(), x, {create_graph = true})
  eq(g:totable(), {1, -1, 0})
  local penalty = (g * g):sum()
  penalty:backward()
  eq(x.grad:totable(), {2, -2, 0})
  local y = leaf{{3, -2, 5}, {-2, 5, 0}}
  local gy = lg.grad(y:min() * 3 + y:max() * 2, y, {create_graph = true})
  eq(gy:totable(), {{0, 1.5, 1}, {1.5, 1, 0}})
end)

test("x ^ 0 has a zero gradient at 0, x ^ 0.5 an infinite one", function()
  local x = leaf{-1, 0, 2}
  eq(lg.grad((x ^ 0):sum(), x):totable(), {0, 0, 0})
  local g = lg.grad((x ^ 0.5):sum(), x):totable()
  assert(g[1] ~= g[1] and g[2] == math.huge, "NaN at -1, inf at 0")
end)

-- {------------------------------------------------------------ saved tensors
-- A node keeps only what its backward reads: add, sub and scaling keep their
-- inputs' shapes (a ghost), relu its output, so activations that nothing
-- reads again are freed during the forward pass, as in PyTorch.

local MB4 = 1024 * 1024     -- floats in 4 MB

test("a chain of adds and scalings holds no intermediate activation", function()
  collectgarbage(); collectgarbage()
  local x = lg.zeros(MB4)
  x.requires_grad = true
  local live0 = lg.memory().live
  local h = x
  for _ = 1, 10 do h = (h + 1) * 0.5 - x end
  collectgarbage(); collectgarbage()
  local held = (lg.memory().live - live0) / (4 * MB4)
  -- h itself, plus at most a pooled buffer: 30 intermediates were made
  assert(held <= 2, ("%.1f activations of 4 MB held"):format(held))
  h:sum():backward()
  -- dh/dx = 0.5^10 - sum_{k<10} 0.5^k = 0.5^10 - (2 - 2 * 0.5^10)
  near(x.grad[1]:item(), 3 * 0.5 ^ 10 - 2, 1e-6)
end)

test("relu keeps its output, not its input", function()
  collectgarbage(); collectgarbage()
  local x = lg.randn(MB4)
  x.requires_grad = true
  local live0 = lg.memory().live
  local y = (x * 2):relu()       -- x * 2 is read by nothing but relu
  collectgarbage(); collectgarbage()
  local held = (lg.memory().live - live0) / (4 * MB4)
  assert(held < 1.5, ("%.1f activations of 4 MB held"):format(held))
  y:sum():backward()
  local want = x:detach():gt(0) * 2
  near(x.grad:totable(), want:totable(), 0)
end)

test("lg.grad with respect to a tensor that add and relu consumed", function()
  local x = lg.tensor{-1, 2, 3}
  x.requires_grad = true
  local y = x * 3
  local z = ((y + 1):relu() + y:leaky_relu(0.1)):sum()
  local gy = lg.grad(z, y)
  -- y = {-3, 6, 9}: relu(y + 1) passes where y > -1; leaky_relu gives 0.1 below 0
  near(gy:totable(), {0.1, 2, 2}, 1e-6)
end)

test("in place: writing into what add or relu read is allowed, into relu's output is not", function()
  local x = lg.tensor{-1, 2}
  x.requires_grad = true
  local a = x * 1
  local y = (a + 1):relu()
  a:detach():add_(100)                -- add read only a's shape (PyTorch accepts this too)
  y:sum():backward()
  near(x.grad:totable(), {0, 1}, 0)
  local b = x * 1
  local r = b:relu()
  r:detach():mul_(2)                  -- relu's backward reads its output
  raises(function() r:sum():backward() end, "modified by an in-place operation")
end)
-- }
