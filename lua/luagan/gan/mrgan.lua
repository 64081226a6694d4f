-- luagan.gan.mrgan: mode-regularized GANs, MRGAN and MDGAN (Che et al.
-- 2017; part of luagan.gan).
local lg = require "luagan"
local common = require "luagan.gan.common"
local losses = require "luagan.gan.loss"

local check_tensor, options, NONE, source = common.check_tensor, common.options, common.NONE,
                                            common.source
local item, set_grads, require_options = common.item, common.set_grads, common.require_options
local loss_of = losses.loss

local function mean(x) return x:mean() end
local function softplus(x) return x:softplus() end

local gan = {}

-- Che et al. 2017 (Mode Regularized GANs), sec. 3 (equation numbers not
-- verified here).  With an encoder E: X -> Z, G(E(x)) is an autoencoder and
--   T_G = -E_z[log D(G(z))] + E_x[lambda1 d(x, G(E(x))) + lambda2 * MODE(x)]
--   T_E =                     E_x[lambda1 d(x, G(E(x))) + lambda2 * MODE(x)]
-- D keeps the unregularised GAN loss.
gan.mrgan = {}
gan.mdgan = {}

local distances = {
  -- mean over all elements of (x - y)^2: the reimplementations' choice
  mse = function(x, y) return lg.mse(y, x) end,
  -- per-sample squared L2 norm ||x - y||^2, averaged over the batch
  sse = function(x, y) return ((x - y) ^ 2):reshape(x:size(1), -1):sum(2):mean() end,
}

local function distance_fn(d)
  if type(d) == "function" then return d end
  local f = distances[d or "mse"]
  if not f then
    error(("mrgan: unknown distance '%s' (valid: mse, sse, or a function)"):format(tostring(d)), 3)
  end
  return f
end

--- gan.mrgan.geometric(x, recon [, lambda1] [, distance]) -> Tensor
-- The geometric regulariser of Che et al. 2017 (sec. 3),
-- lambda1 * d(x, G(E(x))): d is a pixel-space L2 in the paper; distance
-- "mse" (default: the mean over all elements), "sse" (per-sample squared L2,
-- averaged) or a function(x, recon).  lambda1 defaults to 0.2.
-- Shapes: x and recon [N, ...] -> scalar.
-- @usage local geo = gan.mrgan.geometric(x, G(E(x)), 0.2)
function gan.mrgan.geometric(x, recon, lambda1, distance)
  check_tensor("mrgan.geometric", "x", x)
  check_tensor("mrgan.geometric", "recon", recon)
  return distance_fn(distance)(x, recon) * (lambda1 or 0.2)
end

--- gan.mrgan.mode(recon_logits [, lambda2]) -> Tensor
-- The mode regulariser of Che et al. 2017, from D's logits on G(E(x)):
-- lambda2 * softplus(-s) = -lambda2 log D(G(E(x))), lambda2 defaulting to 0.4.
-- Shapes: recon_logits [N] or [N,1] -> scalar.
--
-- SIGN.  The paper prints "+ lambda2 log D(G(E(x)))" inside objectives that
-- G and E minimise; taken literally that drives D(G(E(x))) to 0, i.e. pushes
-- the reconstructions towards what D calls fake, against the paper's stated
-- purpose: G(E(x)) lies near the data point x, including x from modes G
-- misses, and rewarding D for judging it real pulls G's mass onto those
-- modes (mode coverage).  We therefore minimise
--   -lambda2 * log D(G(E(x))) = lambda2 * softplus(-s)
-- (the non-saturating form, like T_G's first term).  Reimplementations
-- disagree (+lambda2 D(.) without log; lambda2 BCE(., 0)).  The gradient
-- w.r.t. the logits is negative: G and E are pushed to make D(G(E(x))) larger.
-- @usage local mode = gan.mrgan.mode(D(G(E(x))), 0.4)
function gan.mrgan.mode(recon_logits, lambda2)
  check_tensor("mrgan.mode", "recon_logits", recon_logits)
  return mean(softplus(-recon_logits)) * (lambda2 or 0.4)
end

-- one step of G (o.optG) and E (o.optE) on `total`: one gradient over both
local function step_g_and_e(o, total)
  local params, nG = {}, #o.optG.params
  for i, p in ipairs(o.optG.params) do params[i] = p end
  for i, p in ipairs(o.optE.params) do params[nG + i] = p end
  set_grads(params, total)
  o.optG:step()
  o.optE:step()
end

--- gan.mrgan.step(t) -> table
-- One Reg-GAN iteration: a D step with the plain loss on x vs G(z), then one
-- step of G and E on T_G (T_E is T_G without its first term, which does not
-- depend on E, so one gradient of T_G serves both).
-- t: G, E, D, optG, optE, optD, loss (non_saturating), real, z (tensors or
--    functions), lambda1 (0.2), lambda2 (0.4), distance ("mse").
-- lambda1 = 0.2, lambda2 = 0.4 are the MNIST values a reimplementation
-- attributes to the paper's sec. 4.1.1 (not verified against the paper).
-- Returns {d =, g =, geometric =, mode =} as numbers.
-- @usage local r = gan.mrgan.step{G = G, E = E, D = D, optG = optG, optE = optE, optD = optD, real = x, z = z}
function gan.mrgan.step(t)
  local o = options("mrgan.step", t, {G = NONE, E = NONE, D = NONE, optG = NONE, optE = NONE,
    optD = NONE, loss = losses.non_saturating, real = NONE, z = NONE, lambda1 = 0.2,
    lambda2 = 0.4, distance = "mse"})
  require_options("mrgan.step", o, {"G", "E", "D", "optG", "optE", "optD", "real", "z"})
  local G, E, D, loss = o.G, o.E, o.D, loss_of(o.loss)
  local real_of, z_of = source("mrgan.step", "real", o.real), source("mrgan.step", "z", o.z)
  local x = real_of()
  local fake = lg.no_grad(function() return G(z_of()) end)
  local lossD = loss.d(D(x), D(fake))
  o.optD:zero_grad()
  lossD:backward()
  o.optD:step()

  local recon = G(E(x))
  local adv = loss.g(D(G(z_of())))
  local geo = gan.mrgan.geometric(x, recon, o.lambda1, o.distance)
  local mode = gan.mrgan.mode(D(recon), o.lambda2)
  local total = adv + geo + mode
  step_g_and_e(o, total)
  return {d = item(lossD), g = item(adv), geometric = item(geo), mode = item(mode)}
end

--- gan.mdgan.step(t) -> table
-- MDGAN, Che et al. 2017 sec. 3.3 (manifold-diffusion training, two
-- discriminators), one iteration:
--   manifold step:  (1) D1 separates x (real) from G(E(x)) (fake);
--                   (2) G and E minimise lambda * [-log D1(G(E(x)))] + d(x, G(E(x)));
--   diffusion step: (3) D2 separates G(E(x)) (taken as real) from G(z);
--                   (4) G minimises -log D2(G(z)).
-- The manifold step fits G to the data manifold through the autoencoder,
-- the diffusion step spreads G(z)'s mass over what G(E(x)) covers.  The
-- -log D forms are written with `loss` (default non_saturating: loss.d is
-- the D BCE, loss.g is -log D).  lambda = 1e-2 is a reimplementation's
-- default (the paper's value was not verified).  The exact signs of the
-- paper's Algorithm 1 were not retrieved; the ones above follow its intent
-- (each D separates its two sets, G/E fool them).
-- t: G, E, D1, D2, optG, optE, optD1, optD2, loss, real, z, lambda (1e-2),
--    distance ("mse").  Returns {d1, g1, recon, d2, g2} as numbers.
-- @usage local r = gan.mdgan.step{G = G, E = E, D1 = D1, D2 = D2, optG = optG, optE = optE, optD1 = optD1, optD2 = optD2, real = x, z = z}
function gan.mdgan.step(t)
  local o = options("mdgan.step", t, {G = NONE, E = NONE, D1 = NONE, D2 = NONE, optG = NONE,
    optE = NONE, optD1 = NONE, optD2 = NONE, loss = losses.non_saturating, real = NONE,
    z = NONE, lambda = 1e-2, distance = "mse"})
  require_options("mdgan.step", o, {"G", "E", "D1", "D2", "optG", "optE", "optD1", "optD2",
                                    "real", "z"})
  local G, E, D1, D2, loss = o.G, o.E, o.D1, o.D2, loss_of(o.loss)
  local real_of, z_of = source("mdgan.step", "real", o.real), source("mdgan.step", "z", o.z)
  local dist = distance_fn(o.distance)
  local out = {}

  -- manifold step
  local x = real_of()
  local recon = lg.no_grad(function() return G(E(x)) end)
  local l1 = loss.d(D1(x), D1(recon))
  o.optD1:zero_grad()
  l1:backward()
  o.optD1:step()
  recon = G(E(x))
  local adv1 = loss.g(D1(recon))
  local rec = dist(x, recon)
  step_g_and_e(o, adv1 * o.lambda + rec)
  out.d1, out.g1, out.recon = item(l1), item(adv1), item(rec)

  -- diffusion step
  x = real_of()
  local target, fake = lg.no_grad(function() return G(E(x)), G(z_of()) end)
  local l2 = loss.d(D2(target), D2(fake))
  o.optD2:zero_grad()
  l2:backward()
  o.optD2:step()
  local adv2 = loss.g(D2(G(z_of())))
  set_grads(o.optG.params, adv2)
  o.optG:step()
  out.d2, out.g2 = item(l2), item(adv2)
  return out
end

return gan
