-- luagan.optim_schedule: learning-rate schedules, a part of luagan.optim
-- (optim.LambdaLR, StepLR, ExponentialLR, LinearLR, CosineAnnealingLR).
--
-- As torch.optim.lr_scheduler: a schedule reads the optimizer's lr when it is
-- made (the base rate), sets opt.config.lr for epoch 0 at once, and
-- sched:step() moves to the next epoch (call it once per epoch, or per
-- iteration, after opt:step()).  Each lr is a closed form of the epoch count,
-- so a schedule restored from its state_dict continues exactly.
local lg = require "luagan"
local util = require "luagan.util"

local Schedule = {}
Schedule.__index = Schedule

local function check_optimizer(name, opt)
  if type(opt) ~= "table" or type(opt.config) ~= "table" or type(opt.config.lr) ~= "number" then
    error(name .. ": an optimizer (optim.SGD, Adam, AdamW, RMSprop) is expected", 3)
  end
end

local function check_count(name, what, v)
  if math.type(v) ~= "integer" or v < 1 then
    error(("%s: %s must be an integer >= 1, got %s"):format(name, what, tostring(v)), 3)
  end
end

local function check_number(name, what, v, ok, expected)
  if type(v) ~= "number" or v ~= v or not ok(v) then
    error(("%s: %s must be %s, got %s"):format(name, what, expected, tostring(v)), 3)
  end
end

-- lr_at(base, epoch) -> the rate at that epoch
local function new(name, opt, lr_at)
  local self = setmetatable({name = name, optimizer = opt, base_lr = opt.config.lr,
                             lr_at = lr_at, last_epoch = 0}, Schedule)
  opt.config.lr = lr_at(self.base_lr, 0)
  return self
end

--- Schedule:step()
-- The next epoch: sets the optimizer's lr to the schedule's value there.
-- @usage for epoch = 1, 100 do train_one_epoch(); sched:step() end
function Schedule:step()
  self.last_epoch = self.last_epoch + 1
  self.optimizer.config.lr = self.lr_at(self.base_lr, self.last_epoch)
end

--- Schedule:get_last_lr() -> number
-- The lr the schedule set last (the optimizer's current one).
-- @usage print(sched:get_last_lr())
function Schedule:get_last_lr() return self.lr_at(self.base_lr, self.last_epoch) end

--- Schedule:state_dict() -> table
-- {last_epoch = 0-dim tensor}, ready for lg.save beside the optimizer's.  The
-- base rate is not in it: it is the optimizer's lr when the schedule is made,
-- so a resumed run rebuilds both with the same options, then loads.
-- @usage lg.save(path, sched:state_dict())
function Schedule:state_dict()
  return {last_epoch = lg.tensor(self.last_epoch)}
end

--- Schedule:load_state_dict(sd) -> Schedule
-- Restores last_epoch and sets the optimizer's lr to the schedule's value there.
-- @usage sched:load_state_dict((lg.load(path)))
function Schedule:load_state_dict(sd)
  local epoch = type(sd) == "table" and lg.is_tensor(sd.last_epoch) and math.tointeger(sd.last_epoch:item())
  if not epoch or epoch < 0 then
    error(self.name .. ".load_state_dict: expected last_epoch, an integer >= 0", 2)
  end
  self.last_epoch = epoch
  self.optimizer.config.lr = self.lr_at(self.base_lr, epoch)
  return self
end

return function(optim)
  --- optim.LambdaLR(opt, fn) -> Schedule
  -- lr = base_lr * fn(epoch), fn(0) at once.  CycleGAN's schedule (Zhu et
  -- al. 2017: the rate kept for 100 epochs, then decayed linearly to zero over
  -- 100 more) is fn = function(e) return 1 - math.max(0, e + 1 - 100) / 101 end.
  -- @usage local sched = optim.LambdaLR(optG, function(e) return 0.95 ^ e end)
  function optim.LambdaLR(opt, fn)
    check_optimizer("LambdaLR", opt)
    if type(fn) ~= "function" then error("LambdaLR: fn must be a function of the epoch", 2) end
    return new("LambdaLR", opt, function(base, e)
      local f = fn(e)
      if type(f) ~= "number" then
        error(("LambdaLR: fn(%d) returned %s, expected a number"):format(e, type(f)), 3)
      end
      return base * f
    end)
  end

  --- optim.StepLR(opt, step_size [, gamma]) -> Schedule
  -- lr = base_lr * gamma^floor(epoch / step_size); gamma 0.1.
  -- @usage local sched = optim.StepLR(opt, 30, 0.1)
  function optim.StepLR(opt, step_size, gamma)
    check_optimizer("StepLR", opt)
    check_count("StepLR", "step_size", step_size)
    gamma = gamma or 0.1
    check_number("StepLR", "gamma", gamma, function(v) return v >= 0 end, "a number >= 0")
    return new("StepLR", opt, function(base, e) return base * gamma ^ (e // step_size) end)
  end

  --- optim.ExponentialLR(opt, gamma) -> Schedule
  -- lr = base_lr * gamma^epoch.
  -- @usage local sched = optim.ExponentialLR(opt, 0.99)
  function optim.ExponentialLR(opt, gamma)
    check_optimizer("ExponentialLR", opt)
    check_number("ExponentialLR", "gamma", gamma, function(v) return v >= 0 end, "a number >= 0")
    return new("ExponentialLR", opt, function(base, e) return base * gamma ^ e end)
  end

  --- optim.LinearLR(opt [, {start_factor = 1/3, end_factor = 1, total_iters = 5}]) -> Schedule
  -- The factor goes linearly from start_factor to end_factor over total_iters
  -- epochs, then stays: a warm-up (the defaults, PyTorch's) or, with
  -- start_factor 1 and end_factor 0, a linear decay to zero.
  -- @usage local sched = optim.LinearLR(opt, {start_factor = 1, end_factor = 0, total_iters = 100})
  function optim.LinearLR(opt, opts)
    check_optimizer("LinearLR", opt)
    local o = util.options("LinearLR", opts,
      {start_factor = 1 / 3, end_factor = 1, total_iters = 5})
    check_number("LinearLR", "start_factor", o.start_factor, function(v) return v > 0 and v <= 1 end,
      "in (0, 1]")
    check_number("LinearLR", "end_factor", o.end_factor, function(v) return v >= 0 and v <= 1 end,
      "in [0, 1]")
    check_count("LinearLR", "total_iters", o.total_iters)
    return new("LinearLR", opt, function(base, e)
      local t = math.min(e, o.total_iters) / o.total_iters
      return base * (o.start_factor + (o.end_factor - o.start_factor) * t)
    end)
  end

  --- optim.CosineAnnealingLR(opt, T_max [, eta_min]) -> Schedule
  -- lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2
  -- (Loshchilov and Hutter 2017, eq. 5 without restarts); eta_min 0.  Past
  -- T_max the cosine continues, as PyTorch's closed form.
  -- @usage local sched = optim.CosineAnnealingLR(opt, 100)
  function optim.CosineAnnealingLR(opt, T_max, eta_min)
    check_optimizer("CosineAnnealingLR", opt)
    check_count("CosineAnnealingLR", "T_max", T_max)
    eta_min = eta_min or 0
    check_number("CosineAnnealingLR", "eta_min", eta_min, function(v) return v >= 0 end, "a number >= 0")
    return new("CosineAnnealingLR", opt, function(base, e)
      return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2
    end)
  end
end
