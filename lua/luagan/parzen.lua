-- luagan.parzen: Gaussian Parzen-window (kernel density) log-likelihood, the
-- evaluation protocol of Goodfellow et al. 2014 (Table 1), after Breuleux,
-- Bengio and Vincent 2011 and goodfeli/adversarial parzen_ll.py.
--
--   local parzen = require "luagan.parzen"
--   local r = parzen.evaluate{samples = S, valid = V, test = T}
--   print(r.sigma, r.mean, r.se)
--
-- A density is put on d-dimensional space from M model samples s_j:
--   p(x) = 1/M sum_j N(x; s_j, sigma^2 I)
--   log p(x) = logsumexp_j(-||x - s_j||^2 / (2 sigma^2)) - log M - d log(sigma sqrt(2 pi))
-- The pairwise squared distances come from one matrix product per chunk of
-- points, ||x||^2 + ||s||^2 - 2 x.s (clamped at 0 against rounding), and the
-- log-sum-exp subtracts each row's maximum first, so no exponent overflows or
-- underflows to a wrong answer however small sigma is.  One pass over the
-- distances serves every sigma of a grid.  The mean is reported with its
-- standard error std / sqrt(N) (population std, as numpy.std in parzen_ll.py).
--
-- The paper's protocol (parzen_ll.py): 10,000 samples, sigma chosen on the
-- grid logspace(-1, 0, 10) by the mean log-likelihood of 1,000 validation
-- digits (MNIST train[50000:51000], held out from training), then the mean
-- over the 10,000 test digits, on real-valued MNIST in [0, 1].  The caller
-- chooses the subset sizes; parzen.PAPER_SIGMAS is the paper's grid.
-- All work is tensor ops under lg.no_grad; no Lua loop touches elements.
local lg = require "luagan"

local parzen = {}

local LOG_2PI = math.log(2 * math.pi)

local function check_points(op, what, x)
  if not lg.is_tensor(x) then
    error(("parzen.%s: %s must be a tensor, got %s"):format(op, what, type(x)), 3)
  end
  if x:dim() < 1 or x:numel() == 0 then
    error(("parzen.%s: %s must be a non-empty tensor [N, ...]"):format(op, what), 3)
  end
  local n = x:size(1)
  return x:reshape(n, x:numel() // n):detach()
end

local function check_sigmas(op, sigmas)
  if type(sigmas) == "number" then sigmas = {sigmas} end
  if type(sigmas) ~= "table" or #sigmas == 0 then
    error(("parzen.%s: sigma must be a positive number or a list of them"):format(op), 3)
  end
  for _, s in ipairs(sigmas) do
    if type(s) ~= "number" or not (s > 0) or s == math.huge then
      error(("parzen.%s: every sigma must be a finite positive number, got %s")
        :format(op, tostring(s)), 3)
    end
  end
  return sigmas
end

local function chunk_of(op, opts)
  local c = opts and opts.chunk or 250
  if math.type(c) ~= "integer" or c < 1 then
    error(("parzen.%s: chunk must be a positive integer, got %s"):format(op, tostring(c)), 3)
  end
  return c
end

--- parzen.logspace(lo, hi, n) -> {number, ...}
-- n numbers 10^lo .. 10^hi evenly spaced in the exponent (numpy.logspace).
-- @usage local sigmas = parzen.logspace(-1, 0, 10)
function parzen.logspace(lo, hi, n)
  if type(lo) ~= "number" or type(hi) ~= "number" or math.type(n) ~= "integer" or n < 1 then
    error("parzen.logspace: expected (lo, hi, n >= 1)", 2)
  end
  local t = {}
  for i = 1, n do
    local e = n == 1 and lo or lo + (hi - lo) * (i - 1) / (n - 1)
    t[i] = 10 ^ e
  end
  return t
end

--- parzen.PAPER_SIGMAS: {number, ...}
-- The sigma grid of Goodfellow et al.'s parzen_ll.py, numpy.logspace(-1, 0,
-- num=10): ten values from 0.1 to 1.
-- @usage local best = parzen.select_sigma(valid, samples, parzen.PAPER_SIGMAS)
parzen.PAPER_SIGMAS = parzen.logspace(-1, 0, 10)

--- parzen.sqdist(x, s [, s2]) -> Tensor
-- Squared Euclidean distances between the rows of x and s, as
-- ||x||^2 + ||s||^2 - 2 x.s from one matrix product, clamped at 0 against
-- rounding.  s2: the squared row norms of s as [1, M], when already computed.
-- Samples of more dims are flattened per row.
-- Shapes: x [N, d], s [M, d] -> [N, M].
-- @usage local d2 = parzen.sqdist(lg.randn(5, 3), lg.randn(7, 3))   -- [5, 7]
function parzen.sqdist(x, s, s2)
  x = check_points("sqdist", "x", x)
  s = check_points("sqdist", "s", s)
  if x:size(2) ~= s:size(2) then
    error(("parzen.sqdist: dimensions differ: x has %d, s has %d"):format(x:size(2), s:size(2)), 2)
  end
  return lg.no_grad(function()
    s2 = s2 or (s * s):sum(2):view(1, s:size(1))
    local x2 = (x * x):sum(2, true)
    return (x2 + s2 - x:matmul(s:t()) * 2):clamp(0, 3e38)
  end)
end

--- parzen.logsumexp_rows(a) -> Tensor
-- log(sum_j exp(a[i][j])) of each row, stable: the row's maximum is
-- subtracted before exp, so nothing overflows or underflows to a wrong answer.
-- Shapes: a [N, M] -> [N].
-- @usage local l = parzen.logsumexp_rows(lg.tensor{{1000, 1000}})   -- 1000 + log 2
function parzen.logsumexp_rows(a)
  if not lg.is_tensor(a) or a:dim() ~= 2 then
    error("parzen.logsumexp_rows: a 2-D tensor is expected", 2)
  end
  return lg.no_grad(function()
    local m = a:max(2)
    return (a - m:view(a:size(1), 1)):exp():sum(2):log() + m
  end)
end

--- parzen.log_likelihoods(x, samples, sigmas [, opts]) -> {Tensor, ...}
-- Log-likelihoods of the points x under the Parzen window on samples, for
-- each sigma of a list (or one number): log p(x) = logsumexp_j(-||x -
-- s_j||^2 / (2 sigma^2)) - log M - d log(sigma sqrt(2 pi)).  One pass over
-- the distances serves every sigma.  opts.chunk: points per distance block
-- (250).
-- Shapes: x [N, ...], samples [M, ...] with the same d per row -> one [N] per sigma.
-- @usage local lls = parzen.log_likelihoods(test, samples, {0.1, 0.2})
function parzen.log_likelihoods(x, samples, sigmas, opts)
  x = check_points("log_likelihoods", "x", x)
  samples = check_points("log_likelihoods", "samples", samples)
  sigmas = check_sigmas("log_likelihoods", sigmas)
  local chunk = chunk_of("log_likelihoods", opts)
  local n, d, m = x:size(1), x:size(2), samples:size(1)
  if samples:size(2) ~= d then
    error(("parzen.log_likelihoods: points have %d dimensions, samples %d"):format(d,
      samples:size(2)), 2)
  end
  return lg.no_grad(function()
    local s2 = (samples * samples):sum(2):view(1, m)
    local parts = {}
    for i = 1, #sigmas do parts[i] = {} end
    for start = 1, n, chunk do
      local len = math.min(chunk, n - start + 1)
      local d2 = parzen.sqdist(x:narrow(1, start, len), samples, s2)
      for i, sigma in ipairs(sigmas) do
        local lse = parzen.logsumexp_rows(d2 * (-0.5 / (sigma * sigma)))
        parts[i][#parts[i] + 1] = lse - (math.log(m) + d * (math.log(sigma) + 0.5 * LOG_2PI))
      end
    end
    local out = {}
    for i = 1, #sigmas do
      out[i] = #parts[i] == 1 and parts[i][1] or lg.cat(parts[i], 1)
    end
    return out
  end)
end

--- parzen.log_likelihood(x, samples, sigma [, opts]) -> Tensor
-- The log-likelihoods of the points x for one sigma, as
-- parzen.log_likelihoods.
-- Shapes: x [N, ...], samples [M, ...] -> [N].
-- @usage local ll = parzen.log_likelihood(test, samples, 0.2)
function parzen.log_likelihood(x, samples, sigma, opts)
  if type(sigma) ~= "number" then
    error("parzen.log_likelihood: sigma must be a number", 2)
  end
  return parzen.log_likelihoods(x, samples, {sigma}, opts)[1]
end

--- parzen.mean_se(ll) -> number, number
-- Mean and standard error (population std / sqrt(N), as numpy.std in
-- parzen_ll.py) of the values of a tensor, as numbers.
-- @usage local mean, se = parzen.mean_se(ll)
function parzen.mean_se(ll)
  if not lg.is_tensor(ll) or ll:numel() == 0 then
    error("parzen.mean_se: a non-empty tensor is expected", 2)
  end
  return lg.no_grad(function()
    local v = ll:reshape(ll:numel())
    local mean = v:mean()
    local var = ((v - mean) ^ 2):mean():item()
    return mean:item(), math.sqrt(var / v:numel())
  end)
end

--- parzen.select_sigma(valid, samples [, sigmas] [, opts]) -> number, table
-- The sigma of the grid (default parzen.PAPER_SIGMAS) with the highest mean
-- log-likelihood of the validation points; also returns the curve
-- {{sigma =, mean =}, ...}.
-- @usage local sigma, curve = parzen.select_sigma(valid, samples)
function parzen.select_sigma(valid, samples, sigmas, opts)
  sigmas = check_sigmas("select_sigma", sigmas or parzen.PAPER_SIGMAS)
  local lls = parzen.log_likelihoods(valid, samples, sigmas, opts)
  local best, best_mean, curve = nil, -math.huge, {}
  for i, s in ipairs(sigmas) do
    local mean = lls[i]:mean():item()
    curve[i] = {sigma = s, mean = mean}
    if mean > best_mean or best == nil then best, best_mean = s, mean end
  end
  return best, curve
end

--- parzen.evaluate(t) -> table
-- The whole protocol of Goodfellow et al. 2014, Table 1: sigma chosen on
-- the validation points, then the mean test log-likelihood with its
-- standard error.  t = {samples =, valid =, test =, sigmas = (the paper's
-- grid), chunk =}.  Returns {sigma =, mean =, se =, n = #test, m = #samples,
-- curve = validation means per sigma, ll = the test log-likelihoods [N]}.
-- @usage local r = parzen.evaluate{samples = S, valid = V, test = T}; print(r.mean, r.se)
function parzen.evaluate(t)
  if type(t) ~= "table" then error("parzen.evaluate: a table {samples, valid, test} is expected", 2) end
  for k in pairs(t) do
    if k ~= "samples" and k ~= "valid" and k ~= "test" and k ~= "sigmas" and k ~= "chunk" then
      error(("parzen.evaluate: unknown key '%s' (valid: chunk, samples, sigmas, test, valid)")
        :format(tostring(k)), 2)
    end
  end
  for _, k in ipairs{"samples", "valid", "test"} do
    if not lg.is_tensor(t[k]) then error("parzen.evaluate: '" .. k .. "' must be a tensor", 2) end
  end
  local opts = {chunk = t.chunk}
  local sigma, curve = parzen.select_sigma(t.valid, t.samples, t.sigmas or parzen.PAPER_SIGMAS, opts)
  local ll = parzen.log_likelihood(t.test, t.samples, sigma, opts)
  local mean, se = parzen.mean_se(ll)
  return {sigma = sigma, mean = mean, se = se, n = ll:numel(), m = t.samples:size(1),
          curve = curve, ll = ll}
end

return parzen
