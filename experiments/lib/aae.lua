-- experiments/lib/aae.lua: the priors of the adversarial autoencoder
-- (Makhzani et al. 2016) and the statistics that say how well a cloud of
-- codes matches one.
--
--   local A = require "lib.aae"
--   A.prior(name, nz, scale)   "gauss": N(0, scale^2 I) in nz dims; "mix10": the
--                              paper's 2-D mixture of 10 Gaussians (Fig. 2b, 4)
--                              -> {sample(n), log_prob(z), sd, extent}
--   A.mmd2(x, y, dims)         unbiased squared MMD, Gaussian kernels (in prior-sd units)
--   A.moments(codes, sd)       worst per-dim |mean| / sd and |sd_codes / sd - 1|
--   A.render(codes, labels, prior_points, extent)   codes coloured by class
local lg = require "luagan"
local parzen = require "luagan.parzen"
local toy = require "lib.toy"

local A = {}

local LOG_2PI = math.log(2 * math.pi)

-- log sum_k exp(a[i][k]) per row, differentiable (parzen.logsumexp_rows is not)
local function logsumexp_rows(a)
  local m = lg.no_grad(function() return a:max(2):view(a:size(1), 1) end)
  return (a - m):exp():sum(2):log() + m:view(a:size(1))
end

-- 10 components evenly spaced on a circle of radius `scale`, each elongated
-- along its radius (sd scale/4 along the radius, scale/16 across it), the
-- shape of the paper's Fig. 2b / 4a mixture; equal weights.
local MIX_K = 10

local function mix10(scale)
  local r, sr, st = scale, scale / 4, scale / 16
  local cos, sin = {}, {}
  for k = 1, MIX_K do
    local th = 2 * math.pi * (k - 1) / MIX_K
    cos[k], sin[k] = math.cos(th), math.sin(th)
  end
  local radial = lg.tensor{cos, sin}                 -- [2, K]: unit radial direction per component
  local tangent = lg.tensor{sin, cos} * lg.tensor{{-1}, {1}}   -- [2, K]: (-sin, cos)
  local p = {name = "mix10", nz = 2, centres = radial:t() * r}
  -- per dim: E[z_1^2] = (r^2 + sr^2 + st^2) / 2 over the evenly spaced angles; mean 0
  p.sd = math.sqrt((r * r + sr * sr + st * st) / 2)
  p.extent = r + 3 * sr
  function p.sample(n)
    local k = lg.one_hot(lg.randint(1, MIX_K + 1, {n}), MIX_K)    -- [n, K]
    local u = lg.randn(n, 1) * sr + r
    local v = lg.randn(n, 1) * st
    return k:matmul(radial:t()) * u + k:matmul(tangent:t()) * v
  end
  -- log density of z [N, 2] -> [N]
  function p.log_prob(z)
    local a = z:matmul(radial) - r                    -- [N, K] radial offsets
    local t = z:matmul(tangent)
    local l = -(a * a) / (2 * sr * sr) - (t * t) / (2 * st * st) - (LOG_2PI + math.log(sr * st))
    return logsumexp_rows(l) - math.log(MIX_K)
  end
  return p
end

local function gauss(nz, scale)
  local p = {name = "gauss", nz = nz, sd = scale, extent = 3 * scale}
  function p.sample(n) return lg.randn(n, nz) * scale end
  function p.log_prob(z)
    return (z * z):sum(2) * (-0.5 / (scale * scale)) - nz * (math.log(scale) + 0.5 * LOG_2PI)
  end
  return p
end

-- A.prior(name, nz, scale) -> prior table (see the header); errors name the problem
function A.prior(name, nz, scale)
  if not (type(scale) == "number" and scale > 0) then error("aae.prior: the scale must be > 0", 2) end
  if name == "gauss" then return gauss(nz, scale) end
  if name == "mix10" then
    if nz ~= 2 then error(("aae.prior: mix10 is a 2-D prior, the code has %d dims"):format(nz), 2) end
    return mix10(scale)
  end
  error(("aae.prior: unknown prior '%s' (gauss, mix10)"):format(tostring(name)), 2)
end

-- Bandwidths of the MMD's kernel, as h^2 / dims: one sd-scale kernel and a
-- narrower and wider one, so that both the overall spread and local shape
-- (holes, modes) count.  Points are in units of the prior's sd per dim.
A.BANDWIDTHS = {0.25, 1, 4}

-- A.mmd2(x, y, dims) -> number: the unbiased estimate of the squared maximum
-- mean discrepancy (Gretton et al. 2012, eq. 3) between the rows of x [N, d]
-- and y [M, d], with the sum of Gaussian kernels exp(-|a - b|^2 / (2 h^2)),
-- h^2 = c * d for c in A.BANDWIDTHS.  0 in expectation when x and y come from
-- one distribution; the diagonals (self-pairs) are left out.
function A.mmd2(x, y)
  return lg.no_grad(function()
    local n, m, d = x:size(1), y:size(1), x:size(2)
    local dxx, dyy, dxy = parzen.sqdist(x, x), parzen.sqdist(y, y), parzen.sqdist(x, y)
    local s = 0
    for _, c in ipairs(A.BANDWIDTHS) do
      local g = -1 / (2 * c * d)
      local kxx = ((dxx * g):exp():sum():item() - n) / (n * (n - 1))
      local kyy = ((dyy * g):exp():sum():item() - m) / (m * (m - 1))
      s = s + kxx + kyy - 2 * (dxy * g):exp():mean():item()
    end
    return s
  end)
end

-- A.moments(codes, sd) -> worst |mean_i| / sd, worst |sd_i / sd - 1| over dims i:
-- how far the codes' per-dim mean and spread are from a prior with mean 0 and
-- sd `sd` in every dim
function A.moments(codes, sd)
  return lg.no_grad(function()
    local mean = codes:mean(1)
    local dev = ((codes - mean) ^ 2):mean(1):sqrt()
    return (mean:abs() / sd):max():item(), ((dev / sd) - 1):abs():max():item()
  end)
end

-- ten distinguishable colours, one per class
A.COLOURS = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
             {0.58, 0.4, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.3, 0.3, 0.3},
             {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}}

-- A.render(codes, labels, prior_points, extent) -> [3, 256, 256] in [0, 1]: the
-- first two code dims, prior samples light grey under the codes of each class
-- (labels 1..10) in its colour
function A.render(codes, labels, prior_points, extent)
  local sets = {{prior_points:narrow(2, 1, 2), {0.85, 0.85, 0.85}}}
  for c = 1, #A.COLOURS do
    local idx = labels:eq(c):nonzero()
    if idx:numel() > 0 then
      sets[#sets + 1] = {codes:index_select(1, idx:view(-1)):narrow(2, 1, 2), A.COLOURS[c]}
    end
  end
  local img = lg.upsample_nearest(toy.render(sets, extent, 128), 2)   -- 2x2 px dots
  return img:view(3, 256, 256)
end

return A
