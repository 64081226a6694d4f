-- luagan.gan.schedule: how many D steps precede each G step (part of luagan.gan).
--
-- A schedule is a value: sched(it) is the number of D steps before the it-th
-- generator step (it counts from 1), sched.simultaneous marks the
-- simultaneous-update scheme, which gan.step acts on.
local common = require "luagan.gan.common"

local options = common.options

local gan = {}

local ScheduleMT = {}
ScheduleMT.__index = ScheduleMT
ScheduleMT.__call = function(self, it) return self.d_steps(it) end
ScheduleMT.__tostring = function(self) return "gan.schedule(" .. self.name .. ")" end

local function schedule(name, d_steps, simultaneous)
  return setmetatable({name = name, d_steps = d_steps, simultaneous = simultaneous or false},
                      ScheduleMT)
end

gan.schedule = {}

--- gan.schedule.alternating([k]) -> schedule
-- k discriminator steps per generator step (Goodfellow et al. 2014,
-- Algorithm 1; "we used k = 1"); k defaults to 1.  A schedule is called with
-- the generator iteration (from 1) and returns the number of D steps.
-- @usage local sched = gan.schedule.alternating(5); print(sched(1))
function gan.schedule.alternating(k)
  k = k or 1
  if math.type(k) ~= "integer" or k < 0 then
    error("schedule.alternating: k must be an integer >= 0, got " .. tostring(k), 2)
  end
  return schedule("alternating(" .. k .. ")", function() return k end)
end

--- gan.schedule.wgan([n_critic] [, opts]) -> schedule
-- WGAN's critic schedule (Arjovsky et al. 2017, Algorithm 1 with n_critic = 5,
-- plus the warm-up of the authors' main.py, which their README says the
-- paper forgot): 100 critic iterations for the first 25 generator iterations
-- and every 500th, else n_critic.  The code reads
--   if gen_iterations < 25 or gen_iterations % 500 == 0: Diters = 100
-- with gen_iterations the number of generator steps done so far (from 0).
-- Here `it` counts generator iterations from 1 (it = gen_iterations + 1), so
-- the warm-up covers it = 1..25 and it = 501, 1001, ... (not 500).
-- opts: warmup (25), every (500), warmup_steps (100).
-- @usage local sched = gan.schedule.wgan(5); print(sched(1), sched(26), sched(501))
function gan.schedule.wgan(n_critic, opts)
  n_critic = n_critic or 5
  local o = options("schedule.wgan", opts, {warmup = 25, every = 500, warmup_steps = 100})
  return schedule(("wgan(%d)"):format(n_critic), function(it)
    local done = it - 1
    if done < o.warmup or (o.every > 0 and done % o.every == 0) then return o.warmup_steps end
    return n_critic
  end)
end

--- gan.schedule.simultaneous() -> schedule
-- Simultaneous updates: D's and G's gradients come from the same forward pass
-- at the same parameters, then both take a step (the reference code of the
-- LSGAN and unrolled-GAN toy experiments updates both in one sess.run).
-- The schedule's field simultaneous is true; gan.step acts on it.
-- @usage gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.lsgan, real = x, z = z, schedule = gan.schedule.simultaneous()}
function gan.schedule.simultaneous()
  return schedule("simultaneous", function() return 1 end, true)
end

return gan
