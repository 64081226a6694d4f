-- Tensors from Lua: creation, shapes, views, printing, arithmetic,
-- reductions, matmul, losses, seeding.
local lg = require "luagan"

test("tensor from nested tables round-trips through totable", function()
  local t = {{1, 2, 3}, {4, 5, 6}}
  local x = lg.tensor(t)
  eq(x.shape, {2, 3})
  eq(x:totable(), t)
  eq(lg.tensor{1.5}:totable(), {1.5})
  eq(lg.tensor(2.5):totable(), 2.5)
  eq(lg.tensor(2.5):dim(), 0)
  eq(lg.tensor{{{1}, {2}}}.shape, {1, 2, 1})
  eq(lg.tensor{}.shape, {0})
end)

test("shape accessors", function()
  local x = lg.zeros(2, 3, 4)
  eq(x.shape, {2, 3, 4})
  eq(x:size(), {2, 3, 4})
  eq(x:size(1), 2)
  eq(x:size(-1), 4)
  eq(x:dim(), 3)
  eq(x:numel(), 24)
  eq(#x, 2)
  eq(x.ndim, 3)
  -- shape is a fresh table each time
  local s = x.shape
  s[1] = 99
  eq(x.shape, {2, 3, 4})
end)

test("creation functions", function()
  eq(lg.zeros{2, 2}:totable(), {{0, 0}, {0, 0}})
  eq(lg.ones(3):totable(), {1, 1, 1})
  eq(lg.full({2}, 7):totable(), {7, 7})
  eq(lg.full(3, -1):totable(), {-1, -1, -1})
  eq(lg.arange(4):totable(), {0, 1, 2, 3})
  eq(lg.arange(2, 5):totable(), {2, 3, 4})
  eq(lg.arange(0, 1, 0.25):totable(), {0, 0.25, 0.5, 0.75})
  eq(lg.arange(5, 0, -2):totable(), {5, 3, 1})
  eq(lg.arange(3, 1):numel(), 0)
  eq(lg.zeros():dim(), 0)
  eq(lg.zeros(0, 3).shape, {0, 3})
  eq(lg.zeros_like(lg.ones(2, 3)).shape, {2, 3})
  eq(lg.ones_like(lg.zeros(2)):totable(), {1, 1})
  local r = lg.rand(1000)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(r:totable()) do lo = math.min(lo, v); hi = math.max(hi, v) end
  assert(lo >= 0 and hi < 1, "rand in [0,1)")
  local n = lg.randn(10000)
  near(n:mean():item(), 0, 0.05)
  near((n * n):mean():item(), 1, 0.05)
  assert(lg.is_tensor(n) and not lg.is_tensor({}) and not lg.is_tensor(1))
end)

test("manual_seed makes randn and rand repeat exactly", function()
  lg.manual_seed(123)
  local a, u = lg.randn(5, 7):totable(), lg.rand(3):totable()
  lg.manual_seed(123)
  eq(lg.randn(5, 7):totable(), a)
  eq(lg.rand(3):totable(), u)
  lg.manual_seed(124)
  assert(lg.randn(5, 7):totable()[1][1] ~= a[1][1])
end)

test("item", function()
  eq(lg.tensor{{3}}:item(), 3)
  eq(lg.tensor(4):item(), 4)
end)

test("views share storage with their base", function()
  local x = lg.zeros(2, 3)
  local v = x:view(3, 2)
  v:fill_(5)
  eq(x:totable(), {{5, 5, 5}, {5, 5, 5}})
  local n = x:narrow(2, 2, 2)
  eq(n.shape, {2, 2})
  n:zero_()
  eq(x:totable(), {{5, 0, 0}, {5, 0, 0}})
  local t = x:t()
  eq(t.shape, {3, 2})
  assert(not t:is_contiguous())
  t:copy_(lg.tensor{{1, 2}, {3, 4}, {5, 6}})
  eq(x:totable(), {{1, 3, 5}, {2, 4, 6}})
  assert(t:contiguous():is_contiguous())
  -- the base may be collected: the view keeps the storage alive
  local y = lg.arange(6):view(2, 3):narrow(1, 2, 1)
  collectgarbage(); collectgarbage()
  eq(y:totable(), {{3, 4, 5}})
end)

test("view, reshape, transpose, permute, squeeze, unsqueeze, expand", function()
  local x = lg.arange(6)
  eq(x:view(2, 3):totable(), {{0, 1, 2}, {3, 4, 5}})
  eq(x:view{3, -1}.shape, {3, 2})
  eq(x:view(2, 3):t():reshape(6):totable(), {0, 3, 1, 4, 2, 5})
  local y = lg.arange(24):view(2, 3, 4)
  eq(y:transpose(1, 3).shape, {4, 3, 2})
  eq(y:transpose(-1, 1).shape, {4, 3, 2})
  eq(y:permute(3, 1, 2).shape, {4, 2, 3})
  eq(y:permute{-1, 1, 2}:totable()[2][1], {1, 5, 9})
  eq(lg.zeros(1, 3, 1):squeeze().shape, {3})
  eq(lg.zeros(1, 3, 1):squeeze(1).shape, {3, 1})
  eq(lg.zeros(1, 3, 1):squeeze(-1).shape, {1, 3})
  eq(lg.zeros(2, 3):squeeze(1).shape, {2, 3})
  eq(lg.zeros(3):unsqueeze(1).shape, {1, 3})
  eq(lg.zeros(3):unsqueeze(-1).shape, {3, 1})
  eq(lg.zeros(3):unsqueeze(2).shape, {3, 1})
  eq(lg.tensor{{1}, {2}}:expand(2, 3):totable(), {{1, 1, 1}, {2, 2, 2}})
  eq(lg.tensor{{1}, {2}}:expand(-1, 2):totable(), {{1, 1}, {2, 2}})
  local c = x:clone()
  c:fill_(1)
  eq(x:totable()[1], 0)
  eq(x:narrow(1, -2, 2):totable(), {4, 5})
end)

test("cat", function()
  local a, b = lg.tensor{{1, 2}}, lg.tensor{{3, 4}, {5, 6}}
  eq(lg.cat({a, b}):totable(), {{1, 2}, {3, 4}, {5, 6}})
  eq(lg.cat({a, a}, 2):totable(), {{1, 2, 1, 2}})
  eq(lg.cat({a, a}, -1):totable(), {{1, 2, 1, 2}})
end)

test("tostring shows values, shape and autograd state", function()
  local s = tostring(lg.tensor{{1, 2}, {3, 4}})
  assert(s:find("1.0000, 2.0000", 1, true), s)
  assert(s:find("shape={2,2}", 1, true), s)
  assert(tostring(lg.tensor(3.14159)) == "tensor(3.1416)", tostring(lg.tensor(3.14159)))
  local w = lg.ones(2)
  w.requires_grad = true
  assert(tostring(w):find("requires_grad=true", 1, true))
  assert(tostring(w * 2):find("grad_fn=mul", 1, true))
  -- aligned: the widest value sets the width
  assert(tostring(lg.tensor{1, -10}):find("{  1.0000, -10.0000}", 1, true))
  assert(tostring(lg.tensor{1e-6, 1}):find("e-06", 1, true))
end)

test("tostring abbreviates big tensors", function()
  local s = tostring(lg.arange(10000):view(100, 100))
  assert(s:find("...", 1, true), "has an ellipsis")
  assert(s:find("shape={100,100}", 1, true))
  assert(#s < 2000, "short: " .. #s)
  assert(s:find("9.9990e+03", 1, true), "shows the last element")
  local small = tostring(lg.arange(20))
  assert(not small:find("...", 1, true), small)
end)

test("arithmetic with known values", function()
  local a, b = lg.tensor{1, 2, 3}, lg.tensor{4, 5, 6}
  eq((a + b):totable(), {5, 7, 9})
  eq((a - b):totable(), {-3, -3, -3})
  eq((a * b):totable(), {4, 10, 18})
  near((a / b):totable(), {0.25, 0.4, 0.5})
  eq((-a):totable(), {-1, -2, -3})
  eq((a ^ 2):totable(), {1, 4, 9})
  eq((a + 1):totable(), {2, 3, 4})
  eq((1 + a):totable(), {2, 3, 4})
  eq((2 - a):totable(), {1, 0, -1})
  eq((a - 1):totable(), {0, 1, 2})
  eq((a * 2):totable(), {2, 4, 6})
  eq((2 * a):totable(), {2, 4, 6})
  near((6 / a):totable(), {6, 3, 2})
  near((2 ^ a):totable(), {2, 4, 8}, 1e-5)
  eq(lg.add(a, b):totable(), {5, 7, 9})
  eq(a:mul(b):totable(), {4, 10, 18})
end)

test("division by a number is true division", function()
  local x = lg.tensor{1, 2, 3, 10, 0.1}
  local want = {}
  for i, v in ipairs(x:totable()) do
    -- float32 division, as in C: string.pack rounds through float
    want[i] = string.unpack("f", string.pack("f", string.unpack("f", string.pack("f", v)) / 3))
  end
  eq((x / 3):totable(), want)
  eq((x / 2):totable(), {0.5, 1, 1.5, 5, string.unpack("f", string.pack("f", 0.1)) / 2})
end)

test("broadcasting", function()
  local m = lg.tensor{{1, 2, 3}, {4, 5, 6}}
  eq((m + lg.tensor{10, 20, 30}):totable(), {{11, 22, 33}, {14, 25, 36}})
  eq((m * lg.tensor{{2}, {3}}):totable(), {{2, 4, 6}, {12, 15, 18}})
  eq((lg.tensor{{1}, {2}} + lg.tensor{10, 20}):totable(), {{11, 21}, {12, 22}})
  eq((m + lg.tensor(1)):totable(), {{2, 3, 4}, {5, 6, 7}})
end)

test("elementwise math", function()
  local x = lg.tensor{-1, 0, 2}
  near(x:exp():totable(), {math.exp(-1), 1, math.exp(2)})
  near(lg.tensor{1, 4}:log():totable(), {0, math.log(4)})
  near(lg.tensor{4, 9}:sqrt():totable(), {2, 3})
  eq(x:abs():totable(), {1, 0, 2})
  eq(x:relu():totable(), {0, 0, 2})
  near(x:leaky_relu():totable(), {-0.01, 0, 2})
  near(x:leaky_relu(0.2):totable(), {-0.2, 0, 2})
  near(x:sigmoid():totable(), {1 / (1 + math.exp(1)), 0.5, 1 / (1 + math.exp(-2))})
  local th = {}
  for i, v in ipairs{-1, 0, 2} do th[i] = (math.exp(v) - math.exp(-v)) / (math.exp(v) + math.exp(-v)) end
  near(x:tanh():totable(), th)
  near(x:softplus():totable(), {math.log(1 + math.exp(-1)), math.log(2), math.log(1 + math.exp(2))})
  eq(x:clamp(0, 1):totable(), {0, 0, 1})
  eq(x:clamp(nil, 1):totable(), {-1, 0, 1})
  eq(x:clamp(0):totable(), {0, 0, 2})
  eq(x:pow(3):totable(), {-1, 0, 8})
  near(lg.exp(x):totable(), x:exp():totable())
  local s = lg.tensor{{1, 2, 3}}:softmax(2):totable()[1]
  local z = math.exp(1) + math.exp(2) + math.exp(3)
  near(s, {math.exp(1) / z, math.exp(2) / z, math.exp(3) / z})
  near(lg.log_softmax(lg.tensor{{1, 2, 3}}, -1):totable()[1],
       {1 - math.log(z), 2 - math.log(z), 3 - math.log(z)})
end)

test("reductions", function()
  local m = lg.tensor{{1, 2, 3}, {4, 5, 9}}
  eq(m:sum():item(), 24)
  eq(m:sum(1):totable(), {5, 7, 12})
  eq(m:sum(2):totable(), {6, 18})
  eq(m:sum(-1, true):totable(), {{6}, {18}})
  eq(m:sum(nil, true).shape, {1, 1})
  eq(m:mean():item(), 4)
  eq(m:mean(1):totable(), {2.5, 3.5, 6})
  eq(m:max():item(), 9)
  local v, i = m:max(2)
  eq(v:totable(), {3, 9})
  eq(i:totable(), {3, 3})
  v, i = m:max(1)
  eq(v:totable(), {4, 5, 9})
  eq(i:totable(), {2, 2, 2})
  v, i = m:max(2, true)
  eq(v.shape, {2, 1})
  eq(i:totable(), {{3}, {3}})
  eq(lg.sum(m):item(), 24)
end)

test("matmul and linear with known values", function()
  local a = lg.tensor{{1, 2}, {3, 4}}
  local b = lg.tensor{{5, 6}, {7, 8}}
  eq(a:matmul(b):totable(), {{19, 22}, {43, 50}})
  eq(lg.matmul(a, lg.tensor{1, 1}):totable(), {3, 7})
  local x = lg.tensor{{1, 2}}
  local w = lg.tensor{{1, 0}, {0, 1}, {1, 1}}
  eq(lg.linear(x, w, lg.tensor{10, 20, 30}):totable(), {{11, 22, 33}})
  eq(lg.linear(x, w):totable(), {{1, 2, 3}})
  local bm = lg.ones(4, 2, 3):matmul(lg.ones(4, 3, 5))
  eq(bm.shape, {4, 2, 5})
  eq(bm:totable()[4][2][5], 3)
end)

test("losses match hand-computed values", function()
  local a, b = lg.tensor{1, 2, 3}, lg.tensor{1, 4, 0}
  near(lg.mse(a, b):item(), (0 + 4 + 9) / 3)
  near(lg.l1(a, b):item(), (0 + 2 + 3) / 3)
  local z, y = lg.tensor{0.5, -1, 2}, lg.tensor{1, 0, 1}
  local function bce(x, t) return math.max(x, 0) - x * t + math.log(1 + math.exp(-math.abs(x))) end
  near(lg.bce_with_logits(z, y):item(), (bce(0.5, 1) + bce(-1, 0) + bce(2, 1)) / 3)
  near(lg.bce_with_logits(z, 1):item(), (bce(0.5, 1) + bce(-1, 1) + bce(2, 1)) / 3)
  local logits = lg.tensor{{1, 2, 3}, {1, 1, 1}}
  local function ce(row, k)
    local s = 0
    for _, v in ipairs(row) do s = s + math.exp(v) end
    return math.log(s) - row[k]
  end
  local want = (ce({1, 2, 3}, 3) + ce({1, 1, 1}, 1)) / 2
  near(lg.cross_entropy(logits, {3, 1}):item(), want)
  near(lg.cross_entropy(logits, lg.tensor{3, 1}):item(), want)
end)

test("in-place ops return self", function()
  local x = lg.zeros(2)
  assert(rawequal(x:fill_(3), x))
  eq(x:totable(), {3, 3})
  assert(rawequal(x:zero_(), x))
  eq(x:copy_(lg.tensor{1, 2}):totable(), {1, 2})
  eq(x:copy_(lg.tensor(7)):totable(), {7, 7})
  eq(x:copy_(4):totable(), {4, 4})
end)

test("methods can be added from Lua through lg.Tensor", function()
  function lg.Tensor.double_it(x) return x * 2 end
  eq(lg.tensor{1, 2}:double_it():totable(), {2, 4})
  lg.Tensor.double_it = nil
end)

test("memory statistics", function()
  local m = lg.memory()
  assert(type(m.live) == "number" and m.peak >= m.live and m.cached >= 0)
  collectgarbage(); collectgarbage()
  local before = lg.memory().live
  local x = lg.zeros(1024, 256)   -- 1 MB
  assert(lg.memory().live >= before + 1024 * 256 * 4)
  x = nil
  collectgarbage(); collectgarbage()
  assert(lg.memory().live <= before + 4096)
end)

test("threads", function()
  local n = lg.get_num_threads()
  assert(n >= 1)
  lg.set_num_threads(1)
  eq(lg.get_num_threads(), 1)
  lg.set_num_threads(n)
end)

test("to-be-closed tensors free their memory at scope exit", function()
  collectgarbage(); collectgarbage()
  local before = lg.memory().live
  do
    local x <close> = lg.zeros(1024, 1024)
    assert(lg.memory().live >= before + 4 * 1024 * 1024)
  end
  assert(lg.memory().live <= before + 4096)
end)

test("index_select picks 1-based rows and columns, and checks the range", function()
  local x = lg.arange(12):view(4, 3)
  eq(x:index_select(1, {4, 1}):totable(), {{9, 10, 11}, {0, 1, 2}})
  eq(x:index_select(-1, lg.tensor{3}):totable(), {{2}, {5}, {8}, {11}})
  raises(function() return x:index_select(1, {5}) end, "index_select: index 5 out of range 1..4 for dim 1")
  raises(function() return x:index_select(1, {1.5}) end, "index_select: index at position 1 must be an integer")
  local w = lg.tensor{{1, 2}, {3, 4}}
  w.requires_grad = true
  w:index_select(1, {2, 2, 1}):sum():backward()
  eq(w.grad:totable(), {{1, 1}, {2, 2}})
end)

test("randperm is a seeded permutation of 1..n", function()
  lg.manual_seed(3)
  local p = lg.randperm(10)
  local seen = {}
  for _, v in ipairs(p:totable()) do seen[v] = true end
  for i = 1, 10 do assert(seen[i], "missing " .. i) end
  lg.manual_seed(3)
  eq(lg.randperm(10):totable(), p:totable())
end)

test("sin and cos: values and gradients to second order", function()
  local x = lg.tensor{0.5, 1}
  x.requires_grad = true
  near(x:sin():totable(), {math.sin(0.5), math.sin(1)}, 1e-6)
  local g = lg.grad(x:sin():sum(), x, {create_graph = true})
  near(g:totable(), {math.cos(0.5), math.cos(1)}, 1e-6)
  near(lg.grad(g:sum(), x):totable(), {-math.sin(0.5), -math.sin(1)}, 1e-6)
  near(lg.grad(x:cos():sum(), x):totable(), {-math.sin(0.5), -math.sin(1)}, 1e-6)
end)
