-- luagan.gan.step: one generator iteration of any loss, schedule, penalty,
-- clipping or unrolling (part of luagan.gan).
local lg = require "luagan"
local common = require "luagan.gan.common"
local loss_of = require("luagan.gan.loss").loss
local gradient_penalty = require("luagan.gan.penalty").gradient_penalty
local alternating = require("luagan.gan.schedule").schedule.alternating
local unrolled_g_loss = require("luagan.gan.unrolled").unrolled_g_loss

local options, NONE, source = common.options, common.NONE, common.source
local item, set_grads = common.item, common.set_grads

local gan = {}

-- D's loss (+ penalty) on a real batch and a fake batch; returns total,
-- D loss, penalty (or nil), mean gradient norm (or nil)
local function d_objective(loss, D, real, fake, gp)
  local lossD = loss.d(D(real), D(fake))
  if not gp then return lossD, lossD end
  local penalty, norm = gradient_penalty(D, real, fake, gp)
  return lossD + penalty, lossD, penalty, norm
end

local function gp_opts(gp)
  if gp == nil or gp == false then return nil end
  if type(gp) == "number" then return {lambda = gp} end
  if type(gp) == "table" then return gp end
  error("step: gp must be a number (lambda) or a table of gradient_penalty options", 3)
end

--- gan.step(t) -> table
-- gan.step{G =, D =, optG =, optD =, loss =, real =, z =, ...}: one generator
-- iteration: schedule(it) D steps, then one G step (or one simultaneous
-- update).  real and z are tensors (reused) or functions returning a fresh
-- batch (each D step draws its own, as in the reference code).
-- Options: it (generator iteration, from 1; default 1), schedule
-- (gan.schedule.alternating(1)), gp (lambda or gradient_penalty options),
-- clip (c: D's parameters are clamped to [-c, c] before each D step, the
-- order of Arjovsky et al.'s code), unroll (K, with optD's optimiser,
-- second_order and unroll_objective = "full" | "fake_only", the objective
-- option of gan.unrolled_g_loss).
-- Returns {d = D loss (last D step, penalty excluded), g = G loss, gp =
-- penalty, grad_norm = mean critic gradient norm at the interpolates, d_steps}.
-- @usage local r = gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.wasserstein, real = function() return loader:next() end, z = function() return lg.randn(64, 100) end, gp = 10, it = it, schedule = gan.schedule.alternating(5)}
function gan.step(t)
  local o = options("step", t, {G = NONE, D = NONE, optG = NONE, optD = NONE, loss = NONE,
    real = NONE, z = NONE, it = 1, schedule = NONE, gp = false, clip = false, unroll = 0,
    second_order = true, unroll_objective = "full"})
  common.require_options("step", o, {"G", "D", "optG", "optD", "loss", "real", "z"})
  local G, D, optG, optD, loss = o.G, o.D, o.optG, o.optD, loss_of(o.loss)
  local sched = o.schedule ~= NONE and o.schedule or alternating(1)
  local real_of, z_of = source("step", "real", o.real), source("step", "z", o.z)
  local gp = gp_opts(o.gp)
  local Dparams, Gparams = optD.params, optG.params
  local function clip()
    if o.clip then lg.clip_(Dparams, -o.clip, o.clip) end
  end
  local function g_loss(real, fake)
    if o.unroll > 0 then
      return unrolled_g_loss{D = D, loss = loss, real = real, fake = fake, K = o.unroll,
                                 opt = optD, second_order = o.second_order,
                                 objective = o.unroll_objective}
    end
    return loss.g(D(fake))
  end
  local out = {}

  if sched.simultaneous then
    clip()
    local real, fake = real_of(), G(z_of())
    local lossG
    if o.unroll > 0 then lossG = g_loss(real, fake) end
    local d_fake = D(fake)
    local lossD = loss.d(D(real), d_fake)
    if not lossG then lossG = loss.g(d_fake) end
    local total = lossD
    if gp then
      local penalty, norm = gradient_penalty(D, real, fake, gp)
      total, out.gp, out.grad_norm = lossD + penalty, item(penalty), norm
    end
    set_grads(Dparams, total, true)     -- both gradients before either step
    set_grads(Gparams, lossG)
    optD:step()
    optG:step()
    out.d, out.g, out.d_steps = item(lossD), item(lossG), 1
    return out
  end

  local k = sched(o.it)
  for _ = 1, k do
    clip()
    local real = real_of()
    local fake = lg.no_grad(function() return G(z_of()) end)
    local total, lossD, penalty, norm = d_objective(loss, D, real, fake, gp)
    optD:zero_grad()
    total:backward()
    optD:step()
    out.d, out.gp, out.grad_norm = item(lossD), item(penalty), norm
  end
  local lossG = g_loss(o.unroll > 0 and real_of() or nil, G(z_of()))
  set_grads(Gparams, lossG)
  optG:step()
  out.g, out.d_steps = item(lossG), k
  return out
end

return gan
