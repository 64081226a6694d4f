-- luagan.optim_ema: Polyak averaging of a module's parameters, a part of
-- luagan.optim (optim.EMA).
--
-- The average is an exponential moving average, updated in place after each
-- optimizer step (one fused lerp_ per tensor), and copied into a module of
-- the same architecture for evaluation.  It is a checkpointable object
-- (state_dict / load_state_dict), so lg.experiment's run:track resumes it.
local lg = require "luagan"

local EMA = {}
EMA.__index = EMA

local is_module = require("luagan.util").is_module

--- optim.EMA(module [, decay]) -> EMA
-- Polyak averaging of module's parameters for test time (Salimans et al.
-- 2016 evaluate their semi-supervised classifier with averaged weights): a
-- copy of every parameter, moved towards it by ema:update() as avg = decay
-- avg + (1 - decay) p.  decay (default 0.999) is a number in [0, 1).  The
-- average starts at the parameters' current values, as PyTorch's
-- torch.optim.swa_utils.AveragedModel after its first update.
-- @usage local ema = optim.EMA(D, 0.999); optD:step(); ema:update()
local function new(model, decay)
  if not is_module(model) then
    error("EMA: a module is expected, got " .. type(model), 2)
  end
  if decay == nil then decay = 0.999 end
  if type(decay) ~= "number" or not (decay >= 0 and decay < 1) then
    error("EMA: decay must be a number in [0, 1), got " .. tostring(decay), 2)
  end
  local self = setmetatable({model = model, decay = decay, names = {}, params = {}, average = {},
                             num_updates = 0}, EMA)
  lg.no_grad(function()
    for name, p in model:named_parameters() do
      self.names[#self.names + 1] = name
      self.params[name] = p
      self.average[name] = p:detach():clone()
    end
  end)
  if #self.names == 0 then error("EMA: the module has no parameters", 2) end
  return self
end

--- EMA:update() -> EMA
-- One step of the average: avg = avg + (1 - decay) (p - avg) for every
-- parameter, in place and outside the graph.  Call it after each
-- optimizer step.  Returns the EMA.
-- @usage optD:step(); ema:update()
function EMA:update()
  local w = 1 - self.decay
  lg.no_grad(function()
    for _, name in ipairs(self.names) do self.average[name]:lerp_(self.params[name], w) end
  end)
  self.num_updates = self.num_updates + 1
  return self
end

--- EMA:copy_to(target) -> Module
-- Copies the averaged parameters into target, a module of the averaged one's
-- architecture (its parameters named as in its state_dict), and the
-- averaged module's buffers (batch norm's running statistics) as they are.
-- A missing parameter or a shape mismatch is an error naming it.  Returns
-- target, ready to evaluate.
-- @usage ema:copy_to(D_test); D_test:eval(); local acc = accuracy(D_test)
function EMA:copy_to(target)
  if not is_module(target) then
    error("EMA:copy_to: a module is expected, got " .. type(target), 2)
  end
  local own = target:state_dict()
  local function copy(name, src)
    local dst = own[name]
    if dst == nil then
      error(("EMA:copy_to: the target has no '%s'"):format(name), 3)
    end
    if table.concat(dst.shape, ",") ~= table.concat(src.shape, ",") then
      error(("EMA:copy_to: '%s' has shape [%s] in the average but [%s] in the target"):format(
        name, table.concat(src.shape, ","), table.concat(dst.shape, ",")), 3)
    end
    lg.no_grad(function() dst:copy_(src) end)
  end
  for _, name in ipairs(self.names) do copy(name, self.average[name]) end
  local params = self.params
  for name, t in pairs(self.model:state_dict()) do
    if params[name] == nil then copy(name, t) end   -- a buffer
  end
  return target
end

--- EMA:state_dict() -> table
-- The averages under their parameter names and the update count
-- ("num_updates", a 0-dim tensor), for lg.save or run:track.  The live
-- tensors, not copies.
-- @usage lg.save("ema.safetensors", ema:state_dict())
function EMA:state_dict()
  local sd = {num_updates = lg.tensor(self.num_updates)}
  for _, name in ipairs(self.names) do sd[name] = self.average[name] end
  return sd
end

--- EMA:load_state_dict(sd) -> EMA
-- Copies a state_dict back into the averages; a missing key or a shape
-- mismatch is an error naming it.  Returns the EMA.
-- @usage ema:load_state_dict((lg.load("ema.safetensors")))
function EMA:load_state_dict(sd)
  for _, name in ipairs(self.names) do
    local src, dst = sd[name], self.average[name]
    if not lg.is_tensor(src) then error(("EMA.load_state_dict: missing '%s'"):format(name), 2) end
    if table.concat(src.shape, ",") ~= table.concat(dst.shape, ",") then
      error(("EMA.load_state_dict: '%s' has shape [%s], expected [%s]"):format(name,
        table.concat(src.shape, ","), table.concat(dst.shape, ",")), 2)
    end
    lg.no_grad(function() dst:copy_(src) end)
  end
  if sd.num_updates then self.num_updates = math.tointeger(sd.num_updates:item()) or 0 end
  return self
end

return new
