-- luagan.metrics: numbers for GAN quality.
--
--   lg.metrics.mode_coverage(samples, mixture, opts) -> {modes=, hq=, counts=, ...}
--       modes captured and share of high-quality samples on a 2-D mixture
--   lg.metrics.dead_since(rows, col, min_span) -> iteration or nil
--       where a logged loss went exactly 0 for good (a dead critic)
--
-- All work on samples is tensor ops; Lua only sees per-mode totals.
local lg = require "luagan"

local metrics = {}

-- {====================================================== 2-D mixtures

-- 0/1 step: 1 where x > 0, else 0; NaN stays NaN (a NaN sample makes the
-- coverage NaN rather than silently not high-quality)
local function step(x) return lg.where(x:eq(x), x:gt(0), x) end

--- metrics.mode_coverage(samples, mixture [, opts]) -> table
-- Modes captured and share of high-quality samples on a 2-D mixture, the
-- VEEGAN / PacGAN protocol (Srivastava et al. 2017, Lin et al. 2018): each
-- sample is assigned to its nearest mixture mean; it is high quality (HQ)
-- when it lies within
-- `threshold` = 3 standard deviations of that mean (PacGAN's code:
-- sqrt(sum(delta^2 / std^2)) < 3); a mode is captured when it is the nearest
-- mean of at least `min_hq` = 1 HQ samples ("the number of mixture components
-- whose mean is nearest to at least one high quality sample", VEEGAN).  Both
-- papers draw 2,500 samples.
--
-- Returns
--   modes   number of captured modes          hq      HQ samples / N
--   counts  HQ samples per mode (list of K)    n       N, K = number of modes
--   rev_kl  KL(q || uniform) of q = counts / sum(counts), over the modes
--           (our reading of PacGAN's "reverse KL" column; nil when there is
--           no HQ sample)
-- mixture is {centres = tensor [K,D], std = number}, e.g. lg.data.ring8() or
-- lg.data.grid25(); opts: threshold (3), min_hq (1).
-- Shapes: samples [N, D] (D = 2 for the toys), centres [K, D].
-- @usage local r = metrics.mode_coverage(G(lg.randn(2500, 2)), lg.data.ring8()); print(r.modes, r.hq)
function metrics.mode_coverage(samples, mixture, opts)
  opts = opts or {}
  if not lg.is_tensor(samples) or samples:dim() ~= 2 then
    error("metrics.mode_coverage: samples [N,D] expected", 2)
  end
  if type(mixture) ~= "table" or not lg.is_tensor(mixture.centres) or type(mixture.std) ~= "number" then
    error("metrics.mode_coverage: a mixture {centres = [K,D] tensor, std = number} expected", 2)
  end
  local centres = mixture.centres
  local n, d, k = samples:size(1), samples:size(2), centres:size(1)
  if centres:dim() ~= 2 or centres:size(2) ~= d then
    error(("metrics.mode_coverage: samples are [%d,%d] but centres [%s]"):format(n, d,
      table.concat(centres.shape, ",")), 2)
  end
  if n == 0 then error("metrics.mode_coverage: no samples", 2) end
  local threshold, min_hq = opts.threshold or 3, opts.min_hq or 1
  local x = samples:detach()
  local d2 = ((x:view(n, 1, d) - centres:view(1, k, d)) ^ 2):sum(3)        -- [N,K]
  local dmin = d2:min(2):view(n, 1)                                         -- [N,1]
  -- the nearest mean (1 where d2 equals the row's minimum), HQ rows only
  local nearest = step(dmin - d2 + 1e-20)                                   -- [N,K]
  local hq = step((threshold * mixture.std) ^ 2 - dmin)                     -- [N,1]
  local counts = (nearest * hq):sum(1):totable()
  local modes, total = 0, 0
  for j = 1, k do
    counts[j] = math.tointeger(counts[j]) or counts[j]
    if counts[j] >= min_hq then modes = modes + 1 end
    total = total + counts[j]
  end
  local rev_kl
  if total > 0 then
    rev_kl = 0
    for j = 1, k do
      local q = counts[j] / total
      if q > 0 then rev_kl = rev_kl + q * math.log(q * k) end
    end
  end
  return {modes = modes, hq = total / n, counts = counts, n = n, k = k, rev_kl = rev_kl}
end

-- }======================================================

-- {====================================================== image data
-- The classifier-based image metrics (Inception score, the MRGAN paper's
-- MODE score, a Fréchet distance on the classifier's penultimate features,
-- classes covered) live in luagan/image_metrics.lua, loaded on first use:
--   local m = lg.metrics.classifier("mnist")   -- or "fashion", or a path
--   m:evaluate(x)  -- {is=, mode=, fid=, classes=} for x [N,1,28,28] in [-1,1]

--- metrics.classifier(name) -> Metrics
-- The image metrics object of a cached classifier: name is "mnist",
-- "fashion" or a path to a weights file (experiments/classifier.lua trains
-- them; see luagan.image_metrics).  Its methods give the Inception score,
-- the MODE score, FID and classes covered for generated images.
-- Shapes: the methods take x [N, 1, 28, 28] in [-1, 1].
-- @usage local m = lg.metrics.classifier("mnist"); local r = m:evaluate(G(z))
function metrics.classifier(name)
  return require("luagan.image_metrics").load(name)
end

--- metrics.frechet_distance(mu1, s1, mu2, s2) -> number
-- The Frechet distance between the Gaussians N(mu1, s1) and N(mu2, s2),
-- ||mu1 - mu2||^2 + tr(s1 + s2 - 2 (s1 s2)^(1/2)), the formula of FID
-- (Heusel et al. 2017); luagan.image_metrics computes it.
-- Shapes: mu [D], s [D, D].
-- @usage local d = lg.metrics.frechet_distance(mu1, s1, mu2, s2)
function metrics.frechet_distance(...)
  return require("luagan.image_metrics").frechet_distance(...)
end
-- }======================================================

-- {====================================================== training logs

--- metrics.dead_since(rows, col [, min_span]) -> integer or nil
-- The iteration from which column `col` of the metrics rows (run:rows():
-- strings or numbers, an `iter` column) is exactly 0 in every row to the end
-- of the log, when that tail spans at least min_span iterations (default
-- 50); else nil.  A critic whose ReLUs are all off for every input outputs
-- its last bias for real and fake alike: the Wasserstein loss is then exactly
-- 0 (a live critic's never is) and G gets no gradient from that iteration on.
-- @usage local it = metrics.dead_since(run:rows(), "lossD")
function metrics.dead_since(rows, col, min_span)
  min_span = min_span or 50
  local from
  for i = #rows, 1, -1 do
    if tonumber(rows[i][col]) ~= 0 then break end
    from = tonumber(rows[i].iter)
  end
  if from and tonumber(rows[#rows].iter) - from >= min_span then return from end
  return nil
end
-- }======================================================

-- {====================================================== coverage of a density (AdaGAN)

-- The q-quantile of the values of a 1-D tensor with numpy.percentile's
-- default linear interpolation: position q (n - 1) in the sorted values.
local function quantile(v, q)
  local n = v:numel()
  local sorted = v:reshape(n):sort()
  local pos = q * (n - 1)
  local lo = math.floor(pos)
  local a = sorted[lo + 1]:item()
  if lo + 1 >= n then return a end
  return a + (pos - lo) * (sorted[lo + 2]:item() - a)
end

--- metrics.kde_coverage(real, fake, valid [, opts]) -> table
-- The coverage C of Tolstikhin et al. 2017 (AdaGAN, sec. 4), as the
-- authors' code computes it (tolstikhin/adagan, metrics.py): a Gaussian
-- kernel density estimate is put on the model samples `fake`; its
-- bandwidth is the median distance between consecutive rows of fake times
-- 2^k, k = -7..6 (opts.grid = 14 powers), the one giving the highest mean
-- log-density of the other model samples `valid`.  C is the share of real
-- points whose model log-density exceeds the opts.quantile (0.05) quantile
-- of the log-densities at the model samples themselves: the mass of the
-- data inside the model's 95% level set.  Also the mean log-density of the
-- real points (loglik).
-- Returns {coverage =, loglik =, bandwidth =, threshold = the log-density
-- quantile, base = the median distance}.  The densities are those of
-- luagan.parzen.
-- Shapes: real [N, D], fake [M, D] (M >= 2), valid [V, D].
-- @usage local r = lg.metrics.kde_coverage(data, G(lg.randn(1000, 5)), G(lg.randn(500, 5)))
-- print(r.coverage, r.loglik)
function metrics.kde_coverage(real, fake, valid, opts)
  opts = opts or {}
  local parzen = require "luagan.parzen"
  for what, x in pairs{real = real, fake = fake, valid = valid} do
    if not lg.is_tensor(x) or x:dim() ~= 2 then
      error(("metrics.kde_coverage: %s must be a tensor [N, D]"):format(what), 2)
    end
  end
  local m, d = fake:size(1), fake:size(2)
  if m < 2 then error("metrics.kde_coverage: fake needs at least 2 samples", 2) end
  if real:size(2) ~= d or valid:size(2) ~= d then
    error(("metrics.kde_coverage: real [%d,%d], fake [%d,%d] and valid [%d,%d] differ in D")
      :format(real:size(1), real:size(2), m, d, valid:size(1), valid:size(2)), 2)
  end
  local q, grid = opts.quantile or 0.05, opts.grid or 14
  if type(q) ~= "number" or not (q >= 0 and q <= 1) then
    error("metrics.kde_coverage: quantile must be in [0, 1]", 2)
  end
  if math.type(grid) ~= "integer" or grid < 1 then
    error("metrics.kde_coverage: grid must be a positive integer", 2)
  end
  return lg.no_grad(function()
    local x = fake:detach()
    local step = ((x:narrow(1, 1, m - 1) - x:narrow(1, 2, m - 1)) ^ 2):sum(2):sqrt()
    local base = quantile(step, 0.5)
    if not (base > 0) then
      error("metrics.kde_coverage: consecutive fake samples coincide (median distance 0)", 3)
    end
    local sigmas = {}
    for k = 1, grid do sigmas[k] = base * 2.0 ^ (k - 1 - grid // 2) end
    local h = parzen.select_sigma(valid, x, sigmas)
    local at_fake = parzen.log_likelihood(x, x, h)
    local at_real = parzen.log_likelihood(real, x, h)
    local threshold = quantile(at_fake, q)
    return {coverage = at_real:gt(threshold):mean():item(), loglik = at_real:mean():item(),
            bandwidth = h, threshold = threshold, base = base}
  end)
end

-- }======================================================

return metrics
