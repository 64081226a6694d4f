-- luagan.gan.unrolled: unrolled GANs (Metz et al. 2017) and the functional
-- parameters they run D with (part of luagan.gan).
local lg = require "luagan"
local optim = require "luagan.optim"
local common = require "luagan.gan.common"
local loss_of = require("luagan.gan.loss").loss

local options, NONE = common.options, common.NONE

local gan = {}

-- D's distinct parameter tensors with the (module, field) slots holding them,
-- in D:parameters() order.
local function param_slots(D)
  local params, index, slots = {}, {}, {}
  for _, m in ipairs(D:modules()) do
    local seen = {}
    for _, k in ipairs(rawget(m, "_order")) do
      local v = rawget(m, k)
      if not seen[k] and lg.is_tensor(v) and not m._buffers[k] and v.requires_grad then
        seen[k] = true
        if not index[v] then
          params[#params + 1] = v
          index[v] = #params
        end
        slots[#slots + 1] = {m, k, index[v]}
      end
    end
  end
  return params, slots
end

--- gan.with_parameters(module, values, fn, ...) -> ...
-- Calls fn(...) with the module's parameters (the list gan.parameters(module)
-- returns, same order) replaced by the tensors in values, which may carry a
-- graph, and returns fn's results; the original fields are restored
-- afterwards, also when fn raises.  This is how an unrolled D runs with
-- parameters that are functions of G's parameters.
-- @usage local out = gan.with_parameters(D, new_params, function() return D(x) end)
function gan.with_parameters(module, values, fn, ...)
  local params, slots = param_slots(module)
  if #values ~= #params then
    error(("with_parameters: %d tensors given for %d parameters"):format(#values, #params), 2)
  end
  for _, s in ipairs(slots) do rawset(s[1], s[2], values[s[3]]) end
  local res = table.pack(pcall(fn, ...))
  for _, s in ipairs(slots) do rawset(s[1], s[2], params[s[3]]) end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

--- gan.parameters(module) -> {Tensor, ...}
-- The module's distinct parameters (a tensor shared by two layers once), in
-- the order gan.with_parameters expects; the same set as module:parameters().
-- @usage local theta = gan.parameters(D)
function gan.parameters(module) return (param_slots(module)) end

-- (config, per-parameter state) of the optimiser to unroll: a lg.optim
-- optimiser over exactly these parameters (its current moments and step
-- count are the starting point, as in the reference notebook, where the
-- unrolled Adam updates start from D's optimiser variables), or a spec
-- {name = "Adam" | "SGD" | "RMSprop", lr = ..., ...} starting from zero state
-- (a fresh lg.optim optimiser of that kind: its defaults and option checks).
-- The updates are optim.update's, the formulas opt:step() runs fused.
local function unroll_optimizer(opt, params)
  if type(opt) ~= "table" then
    error("unrolled: 'opt' must be a lg.optim optimiser of D or a spec {name = 'Adam', lr = ...}", 3)
  end
  local name = opt.name
  if not optim.update[name] then
    error(("unrolled: optimiser '%s' cannot be unrolled (Adam, SGD, RMSprop)"):format(
      tostring(name)), 3)
  end
  if not opt.config then   -- a spec
    local opts = {}
    for k, v in pairs(opt) do
      if k ~= "name" then opts[k] = v end
    end
    opt = optim[name](params, opts)
  end
  local pos = {}
  for i, p in ipairs(opt.params) do pos[p] = i end
  local state = {}
  for i, p in ipairs(params) do
    local j = pos[p]
    if not j then error("unrolled: the optimiser does not hold all of D's parameters", 3) end
    state[i] = opt.state[j]
  end
  return opt.config, state
end

-- G's objective at the unrolled parameters, from D's logits there (s_r on
-- the real batch, s_f on the fakes).  Metz et al. 2017, sec. 2.2: G
-- minimises f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)),
-- f the whole value function E log D(x) + E log(1 - D(G(z))); the authors'
-- notebook minimises -loss_d at theta_D^K.  E log D_K(x) depends on theta_G
-- through theta_D^K (every unrolled D gradient saw G's fakes), so "full" keeps
-- it: G's own fake term loss.g(s_f) plus the real term of -loss.d, taken
-- relative to logit 0 so that the fake term needs no splitting out of loss.d:
--   loss.g(s_f) - (loss.d(s_r, 0) - loss.d(0, 0)) = loss.g(s_f) - (l_r(s_r) - l_r(0))
-- for a loss.d = l_r(real) + l_f(fake).  For gan.minimax this is f_K + log 2
-- (-loss.d at theta_D^K plus a constant), for gan.wasserstein exactly
-- -loss.d; for a non-zero-sum G loss (ns, hinge, lsgan) it is G's loss with
-- the real term of f_K added, which the paper leaves undefined (it unrolls
-- the minimax value only).  "fake_only" drops the real term: loss.g(s_f),
-- the surrogate of several reimplementations; its gradient misses the
-- d E log D_K(x) / d theta_G part.
local g_objectives = {
  full = function(loss, s_r, s_f)
    local zr, zf = lg.zeros(s_r.shape), lg.zeros(s_f.shape)
    return loss.g(s_f) - (loss.d(s_r, zf) - loss.d(zr, zf))
  end,
  fake_only = function(loss, _, s_f) return loss.g(s_f) end,
}

--- gan.unrolled_g_loss(t) -> Tensor
-- Metz et al. 2017, sec. 2.2: the surrogate generator loss
--   f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)),
--   theta_D^0 = theta_D,  theta_D^{k+1} = theta_D^k + eta^k df(theta_G, theta_D^k)/dtheta_D^k
-- (the update written for the optimiser D really uses).  Its gradient w.r.t.
-- theta_G has the extra term df/dtheta_D^K * dtheta_D^K/dtheta_G: how D would
-- react to a change of G.  The K updates run on graph-carrying copies of D's
-- parameters (gan.with_parameters), differentiated to second order through
-- the optimiser's moments; D itself, its optimiser state and its buffers
-- (batch-norm statistics) are left as they were.  K = 0 is the plain G loss.
-- Only G uses this loss; D keeps its ordinary update.
-- t: G, D, loss, real (tensor), z (tensor) or fake (G's output, with graph),
--    K, opt (D's lg.optim optimiser or a spec), second_order (true; false
--    blocks the gradient through the unrolled updates: a first-order
--    diagnostic that tells what the second-order term contributes),
--    objective ("full", default: the whole f at theta_D^K, its real-data
--    term E log D_K(x) included, which depends on G through the unrolled
--    updates; the value is loss.g(D_K(fake)) - (l_r(D_K(real)) - l_r(0)) with
--    l_r loss.d's real-data term, f_K + log 2 for gan.minimax.  "fake_only":
--    loss.g(D_K(fake)) alone, the reimplementations' surrogate).
-- Returns the unrolled G loss (a scalar tensor; take its gradient w.r.t. G's
-- parameters with lg.grad: a backward() would also fill D's .grad).
-- @usage local l = gan.unrolled_g_loss{G = G, D = D, loss = gan.non_saturating, real = x, z = z, K = 5, opt = optD}
function gan.unrolled_g_loss(t)
  local o = options("unrolled_g_loss", t, {G = NONE, D = NONE, loss = NONE, real = NONE,
    z = NONE, fake = NONE, K = NONE, opt = NONE, second_order = true, objective = "full"})
  common.require_options("unrolled_g_loss", o, {"D", "loss", "real", "K"})
  local loss, D, K = loss_of(o.loss), o.D, o.K
  if math.type(K) ~= "integer" or K < 0 then
    error("unrolled_g_loss: K must be an integer >= 0, got " .. tostring(K), 2)
  end
  local objective = g_objectives[o.objective]
  if not objective then
    error(("unrolled_g_loss: objective must be 'full' or 'fake_only', got '%s'"):format(
      tostring(o.objective)), 2)
  end
  local fake = o.fake
  if fake == NONE then
    if o.G == NONE or o.z == NONE then error("unrolled_g_loss: give 'fake', or 'G' and 'z'", 2) end
    fake = o.G(o.z)
  end
  if K == 0 then return loss.g(D(fake)) end
  if o.opt == NONE then error("unrolled_g_loss: 'opt' is required when K > 0", 2) end
  local params = gan.parameters(D)
  local config, state = unroll_optimizer(o.opt, params)
  local update = optim.update[o.opt.name]
  -- batch-norm running statistics move on every forward in training mode
  local saved = {}
  for name, v in pairs(D:state_dict()) do
    if not v.requires_grad then saved[name] = v:clone() end
  end
  local real = o.real
  local ok, res = pcall(function()
    local theta = params
    for _ = 1, K do
      local lossD = gan.with_parameters(D, theta, function() return loss.d(D(real), D(fake)) end)
      local grads = lg.grad(lossD, theta, {create_graph = o.second_order})
      local nt, ns = {}, {}
      for i = 1, #theta do nt[i], ns[i] = update(config, theta[i], grads[i], state[i]) end
      theta, state = nt, ns
    end
    return gan.with_parameters(D, theta, function()
      return objective(loss, D(real), D(fake))
    end)
  end)
  local live = D:state_dict()
  lg.no_grad(function()
    for name, v in pairs(saved) do live[name]:copy_(v) end
  end)
  if not ok then error(res, 0) end
  return res
end

return gan
