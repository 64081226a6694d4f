-- x:register_post_accumulate_grad_hook(fn): called once per leaf and
-- backward, when the leaf's .grad is final (after the last node feeding it
-- ran); not for leaves without a gradient; removal; errors inside a hook.
local lg = require "luagan"

-- a hook that records, on each call, the leaf's name and its grad then
local function recorder(log, name)
  return function(p) log[#log + 1] = {name, p.grad:totable()} end
end

test("a leaf feeding several nodes: one call, with the complete gradient", function()
  local w = lg.tensor{1, 2, 3}:requires_grad_()
  local log = {}
  w:register_post_accumulate_grad_hook(recorder(log, "w"))
  -- w feeds mul, exp and (through a view) sum: d/dw (sum(w*w) + sum(exp(w)) + w[2]*4)
  local y = (w * w):sum() + w:exp():sum() + w:narrow(1, 2, 1):sum() * 4
  y:backward()
  eq(#log, 1, "calls")
  local e = {math.exp(1), math.exp(2), math.exp(3)}
  near(log[1][2], {2 + e[1], 4 + e[2] + 4, 6 + e[3]}, 1e-5, "the grad the hook saw is final")
  near(w.grad:totable(), log[1][2], 0)
  y = (w * 2):sum()
  y:backward()
  eq(#log, 2, "once per backward")
  near(log[2][2], {4 + e[1], 10 + e[2], 8 + e[3]}, 1e-5, "accumulated over the passes")
end)

test("hooks run as each leaf is done, before the leaves nearer the input", function()
  local a = lg.tensor{{1, 2}, {3, 4}}:requires_grad_()
  local b = lg.tensor{{0.5}, {-1}}:requires_grad_()
  local x = lg.tensor{{1, 1}}
  local log = {}
  a:register_post_accumulate_grad_hook(recorder(log, "a"))
  b:register_post_accumulate_grad_hook(function(p)
    -- a's gradient needs b's node to have run first: a is not done yet
    log[#log + 1] = {"b", p.grad:totable(), a.grad == nil}
  end)
  x:matmul(a):relu():matmul(b):sum():backward()
  eq({log[1][1], log[2][1]}, {"b", "a"}, "order")
  eq(log[1][3], true, "a.grad not yet written when b's hook ran")
  near(log[1][2], {{4}, {6}}, 1e-6)
  near(log[2][2], {{0.5, -1}, {0.5, -1}}, 1e-6)
end)

test("no call for a leaf without a gradient, nor for lg.grad", function()
  local used = lg.tensor{1, 2}:requires_grad_()
  local unused = lg.tensor{3, 4}:requires_grad_()
  local frozen = lg.tensor{5, 6}
  local calls = {}
  used:register_post_accumulate_grad_hook(function() calls[#calls + 1] = "used" end)
  unused:register_post_accumulate_grad_hook(function() calls[#calls + 1] = "unused" end)
  ;((used * frozen):sum() + (unused * 0):sum():detach()):backward()
  eq(calls, {"used"})
  eq(unused.grad, nil)
  lg.grad((used * used):sum(), used)
  eq(calls, {"used"}, "lg.grad accumulates into no .grad")
  -- a leaf that is its own output
  local leaf = lg.tensor{7}:requires_grad_()
  leaf:register_post_accumulate_grad_hook(function() calls[#calls + 1] = "leaf" end)
  leaf:backward()
  eq(calls, {"used", "leaf"})
end)

test("uses of a leaf outside the loss's graph do not count as consumers", function()
  -- w feeds two nodes, one of them only through a branch detached from the loss
  local w = lg.tensor{1, 2}:requires_grad_()
  local n = 0
  w:register_post_accumulate_grad_hook(function(p) n = n + 1; near(p.grad:totable(), {3, 3}, 0) end)
  local early = w * 3
  local late = w + 1
  ;(early:sum() + late:detach():sum()):backward()
  eq(n, 1)
end)

test("removal, several hooks, registration order, retain_graph", function()
  local w = lg.tensor{1}:requires_grad_()
  local calls = {}
  local h1 = w:register_post_accumulate_grad_hook(function() calls[#calls + 1] = 1 end)
  local h2 = w:register_post_accumulate_grad_hook(function() calls[#calls + 1] = 2 end)
  local y = w * 2
  y:backward{retain_graph = true}
  eq(calls, {1, 2})
  h1:remove()
  h1:remove()   -- twice is harmless
  y:backward()
  eq(calls, {1, 2, 2})
  h2.remove()
  ;(w * 2):backward()
  eq(calls, {1, 2, 2}, "no hook left")
  eq(w.grad:totable(), {6})
end)

test("refused on non-leaves and tensors without requires_grad", function()
  local w = lg.tensor{1}:requires_grad_()
  raises(function() (w * 2):register_post_accumulate_grad_hook(print) end,
         "register_post_accumulate_grad_hook: only on a leaf tensor; this one was computed by 'mul'")
  raises(function() lg.tensor{1}:register_post_accumulate_grad_hook(print) end,
         "register_post_accumulate_grad_hook: the tensor does not require grad")
  raises(function() w:register_post_accumulate_grad_hook(42) end, "function expected")
end)

test("an error in a hook is raised by backward, and leaves no state behind", function()
  local w = lg.tensor{1, 2}:requires_grad_()
  local v = lg.tensor{3}:requires_grad_()
  local h = w:register_post_accumulate_grad_hook(function() error("hook failure on purpose") end)
  raises(function() (w * v):sum():backward() end, "hook failure on purpose")
  h:remove()
  local obj = {}   -- any error value, as raised
  local h2 = v:register_post_accumulate_grad_hook(function() error(obj) end)
  local ok, err = pcall(function() (w * v):sum():backward() end)
  assert(not ok and rawequal(err, obj), "the error value itself: " .. tostring(err))
  h2:remove()
  -- nothing pending: the next backward runs, and errors of the engine are its own
  w.grad, v.grad = nil, nil
  ;(w * v):sum():backward()
  eq(w.grad:totable(), {3, 3})
  raises(function() lg.ones(2):backward() end, "backward: output 1 does not require grad")
  -- a hook may not start another pass
  local inner
  h = w:register_post_accumulate_grad_hook(function() inner = pcall(function()
    (v * 2):sum():backward() end) end)
  ;(w * 2):sum():backward()
  eq(inner, false)
  raises(function()
    local h3 = v:register_post_accumulate_grad_hook(function() (v * 2):sum():backward() end)
    local ok3, e3 = pcall(function() (v * 2):sum():backward() end)
    h3:remove()
    error(e3)
  end, "backward: a gradient hook cannot run backward")
  h:remove()
end)

test("a hook dies with its tensor", function()
  local calls = 0
  do
    local w = lg.tensor{1}:requires_grad_()
    w:register_post_accumulate_grad_hook(function() calls = calls + 1 end)
  end
  collectgarbage(); collectgarbage()
  local x = lg.tensor{2}:requires_grad_()
  ;(x * 2):backward()
  eq(calls, 0)
end)
