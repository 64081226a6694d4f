-- luagan.gan.penalty: the WGAN-GP gradient penalty (part of luagan.gan).
local lg = require "luagan"
local common = require "luagan.gan.common"

local check_tensor, options, NONE = common.check_tensor, common.options, common.NONE

local gan = {}

-- Per-sample L2 norm of g [N, ...] -> [N].  sqrt(s + 1e-12): the derivative of
-- sqrt is infinite at 0, and a zero gradient (a dead critic) must give a
-- finite penalty gradient; the shift changes the norm by at most 1e-6.
local function per_sample_norm(g)
  return ((g * g):reshape(g:size(1), -1):sum(2) + 1e-12):sqrt()
end

--- gan.gradient_penalty(D, real, fake [, opts]) -> Tensor, number
-- WGAN-GP, Gulrajani et al. 2017, eq. 3:
--   lambda * E_xhat[(||grad_xhat D(xhat)||_2 - 1)^2],  xhat = eps x + (1 - eps) x~,
-- eps ~ U[0, 1] per sample.  The gradient is taken with create_graph, so the
-- returned penalty trains D when added to its loss.  real and fake are
-- detached here (the penalty trains D only).
-- opts: lambda (10, the paper's value), center (1; 0 gives a zero-centred
--       penalty), eps (a given [N] or [N,1,...] tensor instead of U[0, 1]).
-- Returns the penalty (scalar tensor) and the mean gradient norm (a number,
-- for logging: WGAN-GP keeps it near `center`).
-- Shapes: real and fake [N, ...] (the same shape), D(x) [N] or [N,1].
-- @usage local gp, norm = gan.gradient_penalty(D, real, fake, {lambda = 10})
function gan.gradient_penalty(D, real, fake, opts)
  check_tensor("gradient_penalty", "real", real)
  check_tensor("gradient_penalty", "fake", fake)
  local o = options("gradient_penalty", opts, {lambda = 10, center = 1, eps = NONE})
  local n = real:size(1)
  if table.concat(real.shape, ",") ~= table.concat(fake.shape, ",") then
    error(("gradient_penalty: real [%s] and fake [%s] differ in shape"):format(
      table.concat(real.shape, ","), table.concat(fake.shape, ",")), 2)
  end
  local bshape = {n}
  for i = 2, real:dim() do bshape[i] = 1 end
  local eps = o.eps ~= NONE and o.eps:reshape(bshape) or lg.rand(bshape)
  local xhat = (real:detach() * eps + fake:detach() * (1 - eps)):detach()
  xhat.requires_grad = true
  local g = lg.grad(D(xhat):sum(), xhat, {create_graph = true})
  local norm = per_sample_norm(g)
  local penalty = ((norm - o.center) ^ 2):mean() * o.lambda
  return penalty, lg.no_grad(function() return norm:mean():item() end)
end

return gan
