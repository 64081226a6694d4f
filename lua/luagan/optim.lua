-- luagan.optim: SGD, Adam, AdamW, RMSprop over a list of parameter tensors.
--
-- Each optimizer's formula (PyTorch's, weight decay included as an L2 term
-- added to the gradient) is written once with differentiable tensor ops in
-- optim.update, which unrolled GANs differentiate through; opt:step() runs
-- the same formula as a fused in-place C kernel (core/optim.c), one pass
-- over memory instead of a dozen temporaries.  test_optim.lua checks that the
-- two agree for every optimizer and option.  Optimizer state (moments, step
-- counts) lives in tensors so that it can be checkpointed with lg.save and
-- restored bit-identically.
local lg = require "luagan"
local util = require "luagan.util"

local optim = {}


-- Merges opts over defaults, refusing unknown keys and values of the wrong type.
local function config(name, opts, defaults)
  local c = util.options(name, opts, defaults)
  for k, v in pairs(c) do
    if type(v) ~= type(defaults[k]) then
      error(("%s: option '%s' must be a %s, got %s"):format(name, k, type(defaults[k]), type(v)), 3)
    end
  end
  -- as torch.optim: rates, decays and eps are never negative (nor NaN)
  for _, k in ipairs{"lr", "momentum", "weight_decay", "eps", "alpha", "initial_square_avg"} do
    local v = c[k]
    if v ~= nil and not (v >= 0) then
      error(("%s: %s must be >= 0, got %s"):format(name, k, tostring(v)), 3)
    end
  end
  return c
end

local function check_params(name, params)
  if type(params) ~= "table" or #params == 0 then
    error(name .. ": a non-empty list of parameter tensors is expected", 3)
  end
  for i, p in ipairs(params) do
    if not lg.is_tensor(p) then error(("%s: parameter %d is not a tensor"):format(name, i), 3) end
    if not p.requires_grad then
      error(("%s: parameter %d does not require grad"):format(name, i), 3)
    end
  end
end

-- {====================================================== the formulas

-- opt:step()'s kernels: the formulas of optim.update in place, st.step
-- already counting this step
local fused = {
  SGD = function(c, p, g, st)
    lg.sgd_step(p, g, st.momentum_buffer, c.lr, c.momentum, c.dampening, c.weight_decay,
                c.nesterov, st.step == 1)
  end,
  Adam = function(c, p, g, st)
    lg.adam_step(p, g, st.exp_avg, st.exp_avg_sq, c.lr, c.betas[1], c.betas[2], c.eps,
                 c.weight_decay, st.step)
  end,
  -- the decay first, on p alone, then Adam's step (which does not read p)
  AdamW = function(c, p, g, st)
    if c.weight_decay ~= 0 then lg.no_grad(function() p:mul_(1 - c.lr * c.weight_decay) end) end
    lg.adam_step(p, g, st.exp_avg, st.exp_avg_sq, c.lr, c.betas[1], c.betas[2], c.eps, 0, st.step)
  end,
  RMSprop = function(c, p, g, st)
    lg.rmsprop_step(p, g, st.square_avg, st.grad_avg, st.momentum_buffer, c.lr, c.alpha, c.eps,
                    c.weight_decay, c.momentum, c.centered)
  end,
}

-- sqrt(v + 1e-30) instead of sqrt(v): the same value in float32 unless v is
-- 0, where it keeps a second-order gradient finite (sqrt's derivative is
-- infinite at 0).
local function safe_sqrt(v) return (v + 1e-30):sqrt() end

-- grad + weight_decay * p, the L2 term of every optimizer here
local function decayed(c, p, g)
  return c.weight_decay ~= 0 and g + p * c.weight_decay or g
end

optim.update = {}

--- optim.update.SGD(config, p, grad, state) -> Tensor, table
-- One SGD step (the formula of optim.SGD) written with differentiable tensor
-- ops, for unrolled optimization: returns the new parameter and the new
-- state, leaving p and state untouched, so that autograd can go through the
-- step (gan.unrolled_g_loss).  config as opt.config, state as opt.state[i]
-- ({step = steps done so far, momentum_buffer = ...}).  opt:step() runs the
-- same formula as a fused C kernel; the two agree to float rounding.
-- @usage local p1, st1 = optim.update.SGD(opt.config, p, g, opt.state[1])
function optim.update.SGD(c, p, g, st)
  local d = decayed(c, p, g)
  local t = st.step + 1
  if c.momentum == 0 then return p - d * c.lr, {step = t} end
  local buf = st.step == 0 and d or st.momentum_buffer * c.momentum + d * (1 - c.dampening)
  local dir = c.nesterov and d + buf * c.momentum or buf
  return p - dir * c.lr, {step = t, momentum_buffer = buf}
end

--- optim.update.Adam(config, p, grad, state) -> Tensor, table
-- One Adam step (the formula of optim.Adam) with differentiable tensor ops:
-- m = b1 m + (1-b1) d, v = b2 v + (1-b2) d^2,
-- p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), d = grad +
-- weight_decay * p.  Returns the new parameter and state {step, exp_avg,
-- exp_avg_sq}; p and state are left untouched.  See optim.update.SGD.
-- @usage local p1, st1 = optim.update.Adam(opt.config, p, g, opt.state[1])
function optim.update.Adam(c, p, g, st)
  local b1, b2 = c.betas[1], c.betas[2]
  local d = decayed(c, p, g)
  local t = st.step + 1
  local m = st.exp_avg * b1 + d * (1 - b1)
  local v = st.exp_avg_sq * b2 + d * d * (1 - b2)
  local bc1, bc2 = 1 - b1 ^ t, 1 - b2 ^ t
  local denom = safe_sqrt(v) / math.sqrt(bc2) + c.eps
  return p - m / denom * (c.lr / bc1), {step = t, exp_avg = m, exp_avg_sq = v}
end

--- optim.update.AdamW(config, p, grad, state) -> Tensor, table
-- One AdamW step (the formula of optim.AdamW) with differentiable tensor
-- ops: optim.update.Adam without the L2 term, applied to p (1 - lr
-- weight_decay).  See optim.update.SGD.
-- @usage local p1, st1 = optim.update.AdamW(opt.config, p, g, opt.state[1])
function optim.update.AdamW(c, p, g, st)
  local plain = {lr = c.lr, betas = c.betas, eps = c.eps, weight_decay = 0}
  return optim.update.Adam(plain, p * (1 - c.lr * c.weight_decay), g, st)
end

--- optim.update.RMSprop(config, p, grad, state) -> Tensor, table
-- One RMSprop step (the formula of optim.RMSprop) with differentiable tensor
-- ops: s = a s + (1-a) d^2, p - lr d / (sqrt(s [- g_avg^2]) + eps), with
-- centered and momentum as there.  Returns the new parameter and state
-- {step, square_avg [, grad_avg] [, momentum_buffer]}; p and state are left
-- untouched.  See optim.update.SGD.
-- @usage local p1, st1 = optim.update.RMSprop(opt.config, p, g, opt.state[1])
function optim.update.RMSprop(c, p, g, st)
  local d = decayed(c, p, g)
  local a = c.alpha
  local new = {step = st.step + 1}
  new.square_avg = st.square_avg * a + d * d * (1 - a)
  local var = new.square_avg
  if c.centered then
    new.grad_avg = st.grad_avg * a + d * (1 - a)
    var = (var - new.grad_avg * new.grad_avg):relu()
  end
  local step = d / (safe_sqrt(var) + c.eps)
  if c.momentum > 0 then
    step = st.momentum_buffer * c.momentum + step
    new.momentum_buffer = step
  end
  return p - step * c.lr, new
end

-- }======================================================

local Optimizer = {}
Optimizer.__index = Optimizer

local function new(name, params, cfg, slots)
  check_params(name, params)
  local self = setmetatable({name = name, params = params, config = cfg, state = {}}, Optimizer)
  for i, p in ipairs(params) do
    local st = {step = 0}
    for _, s in ipairs(slots) do st[s] = lg.zeros(p.shape) end
    self.state[i] = st
  end
  return self
end

--- Optimizer:zero_grad()
-- Clears the gradient of every parameter (sets p.grad to nil), so that the
-- next backward() starts from zero rather than adding to the last one.
-- @usage optD:zero_grad(); lossD:backward(); optD:step()
function Optimizer:zero_grad()
  for _, p in ipairs(self.params) do p.grad = nil end
end

--- Optimizer:step()
-- One update of every parameter that has a gradient, with the optimizer's
-- formula and its config (opt.config, which may be changed between steps to
-- schedule the learning rate).  A parameter whose .grad is nil is skipped and
-- its step count does not advance, as in PyTorch.
-- @usage optG:step()
function Optimizer:step()
  local kernel, c = fused[self.name], self.config
  for i, p in ipairs(self.params) do
    local g = p.grad
    if g then
      local st = self.state[i]
      st.step = st.step + 1
      kernel(c, p, g, st)
    end
  end
end

--- Optimizer:state_dict() -> table
-- The optimizer's state as a flat name -> tensor table: "I.KEY" for parameter
-- I (in the order given to the constructor) and state KEY ("3.exp_avg",
-- "3.step"; the step count as a 0-dim tensor), ready for lg.save.  The
-- moment tensors are the live ones, not copies.
-- @usage lg.save("opt.safetensors", opt:state_dict())
function Optimizer:state_dict()
  local sd = {}
  for i, st in ipairs(self.state) do
    for k, v in pairs(st) do
      sd[i .. "." .. k] = k == "step" and lg.tensor(v) or v
    end
  end
  return sd
end

--- Optimizer:load_state_dict(sd) -> Optimizer
-- Copies a state_dict back into the optimizer in place.  Every entry must
-- exist with the same shape: a missing key, an entry for a parameter the
-- optimizer does not have, or a shape mismatch is an error naming it.
-- Returns the optimizer.
-- @usage opt:load_state_dict((lg.load("opt.safetensors")))
function Optimizer:load_state_dict(sd)
  for k in pairs(sd) do   -- state for more parameters than we have is a mismatch
    local i = math.tointeger(tonumber(tostring(k):match("^(%d+)%.")))
    if not i or i > #self.state then
      error(("%s.load_state_dict: entry '%s' does not belong to an optimizer over %d parameters")
            :format(self.name, tostring(k), #self.state), 2)
    end
  end
  for i, st in ipairs(self.state) do
    for k, v in pairs(st) do
      local src = sd[i .. "." .. k]
      if src == nil then
        error(("%s.load_state_dict: missing '%d.%s'"):format(self.name, i, k), 2)
      end
      if k == "step" then
        st.step = math.tointeger(src:item()) or error(self.name .. ".load_state_dict: bad step", 2)
      else
        if table.concat(src.shape, ",") ~= table.concat(v.shape, ",") then
          error(("%s.load_state_dict: '%d.%s' has shape [%s], expected [%s]"):format(self.name,
            i, k, table.concat(src.shape, ","), table.concat(v.shape, ",")), 2)
        end
        v:copy_(src)
      end
    end
  end
  return self
end

--- optim.SGD(params [, opts]) -> Optimizer
-- Stochastic gradient descent as torch.optim.SGD: with momentum mu the
-- buffer is b = mu b + (1 - dampening) g (b = g on the first step) and the
-- update p = p - lr b (Nesterov: p - lr (g + mu b)); weight_decay adds
-- weight_decay * p to g first.  Options: lr (1e-2), momentum (0), dampening
-- (0), weight_decay (0), nesterov (false; needs momentum > 0 and dampening 0).
-- Unknown options and negative rates are errors.
-- @param params list of tensors with requires_grad (a module's :parameters())
-- @param opts table of options
-- @usage local opt = optim.SGD(net:parameters(), {lr = 0.1, momentum = 0.5})
function optim.SGD(params, opts)
  local c = config("SGD", opts, {lr = 1e-2, momentum = 0, dampening = 0, weight_decay = 0,
                                  nesterov = false})
  if c.nesterov and (c.momentum <= 0 or c.dampening ~= 0) then
    error("SGD: nesterov needs momentum > 0 and dampening 0", 2)
  end
  return new("SGD", params, c, c.momentum ~= 0 and {"momentum_buffer"} or {})
end

-- Adam and AdamW: betas checked, the two moments as state
local function adam_like(name, params, c)
  local b1, b2 = c.betas[1], c.betas[2]
  if type(b1) ~= "number" or type(b2) ~= "number" or b1 < 0 or b1 >= 1 or b2 < 0 or b2 >= 1 then
    error(name .. ": betas must be two numbers in [0, 1)", 3)
  end
  return new(name, params, c, {"exp_avg", "exp_avg_sq"})
end

--- optim.Adam(params [, opts]) -> Optimizer
-- Adam (Kingma and Ba 2015, Algorithm 1) with PyTorch's placement of eps:
-- m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, then
-- p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).  Options:
-- lr (1e-3), betas ({0.9, 0.999}, each in [0, 1)), eps (1e-8), weight_decay
-- (0, an L2 term added to the gradient, not AdamW's decoupled decay).  The
-- moments are tensors in opt.state, saved by opt:state_dict().
-- @param params list of tensors with requires_grad (a module's :parameters())
-- @param opts table of options
-- @usage local optG = optim.Adam(G:parameters(), {lr = 2e-4, betas = {0.5, 0.999}})
function optim.Adam(params, opts)
  local c = config("Adam", opts, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0})
  return adam_like("Adam", params, c)
end

--- optim.AdamW(params [, opts]) -> Optimizer
-- Adam with decoupled weight decay (Loshchilov and Hutter 2019, Algorithm
-- 2), as torch.optim.AdamW: p = p (1 - lr weight_decay), then optim.Adam's
-- step on the plain gradient.  Options: lr (1e-3), betas ({0.9, 0.999}), eps
-- (1e-8), weight_decay (1e-2, PyTorch's default).
-- @param params list of tensors with requires_grad (a module's :parameters())
-- @param opts table of options
-- @usage local opt = optim.AdamW(net:parameters(), {lr = 1e-3, weight_decay = 0.05})
function optim.AdamW(params, opts)
  local c = config("AdamW", opts, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2})
  return adam_like("AdamW", params, c)
end

--- optim.RMSprop(params [, opts]) -> Optimizer
-- RMSprop (Tieleman and Hinton 2012) as torch.optim.RMSprop, eps outside the
-- sqrt: s = alpha s + (1 - alpha) g^2, p = p - lr g / (sqrt(s) + eps);
-- centered subtracts the squared running mean of g from s, momentum > 0
-- accumulates the step in a buffer.  Options: lr (1e-2), alpha (0.99), eps
-- (1e-8), weight_decay (0), momentum (0), centered (false), and
-- initial_square_avg (0 as PyTorch; TF 1.x's RMSPropOptimizer starts the
-- running mean square at 1, which makes its first steps small).  WGAN
-- (Arjovsky et al. 2017) trains with RMSprop, lr 5e-5.
-- @param params list of tensors with requires_grad (a module's :parameters())
-- @param opts table of options
-- @usage local optD = optim.RMSprop(D:parameters(), {lr = 5e-5})
function optim.RMSprop(params, opts)
  local c = config("RMSprop", opts, {lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0,
                                      momentum = 0, centered = false, initial_square_avg = 0})
  local slots = {"square_avg"}
  if c.centered then slots[#slots + 1] = "grad_avg" end
  if c.momentum > 0 then slots[#slots + 1] = "momentum_buffer" end
  local self = new("RMSprop", params, c, slots)
  if c.initial_square_avg ~= 0 then
    for _, st in ipairs(self.state) do st.square_avg:fill_(c.initial_square_avg) end
  end
  return self
end

-- Polyak averaging (optim.EMA) and the learning-rate schedules live in files of their own
optim.EMA = require "luagan.optim_ema"
require("luagan.optim_schedule")(optim)

return optim
