-- experiments/lib/ae_disc.lua: the autoencoder discriminator of EBGAN (Zhao,
-- Mathieu and LeCun, ICLR 2017, sec. 2.3) and BEGAN (Berthelot, Schumm and
-- Metz 2017, sec. 3.1), and the energies and the regulariser they use.
--
--   local ae = require "lib.ae_disc"
--   local D = ae.AE{nin = 784, hidden = 256, code = 64, act = "relu"|"lrelu"|"elu"}
--   local recon, code = D(x)          x [N, nin] -> reconstruction [N, nin], code [N, code]
--   ae.energy(x, recon, "l2"|"l1")    per-image mean squared / absolute error [N]
--   ae.pulling_away(S)                EBGAN's pulling-away term of codes S [N, d] (eq. 9)
--   ae.ELU()                          ELU(x) = x for x > 0, e^x - 1 else (BEGAN's unit)
--   ae.images(G, z)                   G's images [n, 1, 28, 28] of noise rows z, G in eval mode
--   ae.evaluator(name, dataset, G, z) () -> the columns both scripts log at an evaluation
--   ae.evaluate(clf, sample, z)       those columns, from a classifier and a sampler
--   ae.PENDING                        those columns, all -1 (no classifier)
--   ae.spearman(a, b)                 Spearman's rank correlation of two lists
--
-- An MLP: nin -> hidden -> code (linear) -> hidden -> nin (linear).  The code
-- has no unit so that the pulling-away term sees signed directions; the
-- output is linear because the energies compare it with images in [-1, 1]
-- (BEGAN's decoder ends with a conv, no tanh).  Everything is composed of
-- differentiable tensor ops: no new backward to get wrong.
local lg = require "luagan"
local nn = lg.nn

local ae = {}

-- ELU (Clevert et al. 2016) from relu and exp: relu(x) + exp(min(x, 0)) - 1
local ELU = nn.Module:extend("ELU")
function ELU:forward(x) return x:relu() + (-(-x):relu()):exp() - 1 end
ae.ELU = ELU

local ACTS = {relu = nn.ReLU, elu = ELU, lrelu = function() return nn.LeakyReLU(0.2) end}

local AE = nn.Module:extend("AEDisc")
ae.AE = AE

function AE:init(o)
  local act = ACTS[o.act or "relu"]
  if not act then error("ae_disc: act must be relu, lrelu or elu, got " .. tostring(o.act), 3) end
  for _, k in ipairs{"nin", "hidden", "code"} do
    if math.type(o[k]) ~= "integer" or o[k] < 1 then
      error(("ae_disc: %s must be a positive integer, got %s"):format(k, tostring(o[k])), 3)
    end
  end
  self.nin = o.nin
  self.enc = nn.Sequential(nn.Linear(o.nin, o.hidden), act(), nn.Linear(o.hidden, o.code))
  self.dec = nn.Sequential(nn.Linear(o.code, o.hidden), act(), nn.Linear(o.hidden, o.nin))
end

-- x [N, nin] (or any [N, ...] of nin values) -> reconstruction [N, nin], code [N, code]
function AE:forward(x)
  local code = self.enc(x:reshape(x:size(1), self.nin))
  return self.dec(code), code
end

-- Per-image reconstruction error of x against recon (both [N, ...] of equal
-- size): the mean over pixels of the squared ("l2", EBGAN's MSE) or the
-- absolute ("l1", BEGAN's eta = 1) difference.  -> [N]
function ae.energy(x, recon, kind)
  local n = x:size(1)
  local d = x:reshape(n, -1) - recon:reshape(n, -1)
  if kind == "l1" then return d:abs():mean(2) end
  if kind == "l2" then return (d * d):mean(2) end
  error("ae_disc.energy: kind must be l1 or l2, got " .. tostring(kind), 2)
end

-- EBGAN's pulling-away term (sec. 2.4, eq. 9) on the codes S [N, d] of a
-- generated batch: the mean squared cosine similarity over the N (N - 1)
-- ordered pairs i ~= j.  The N diagonal entries of the squared cosine matrix
-- are 1 (up to the eps that keeps a zero code finite), subtracted as such.
function ae.pulling_away(S)
  local n = S:size(1)
  if n < 2 then error(("ae_disc.pulling_away: needs at least 2 codes, got %d"):format(n), 2) end
  local u = S / ((S * S):sum(2, true) + 1e-12):sqrt()
  local c = u:matmul(u:t())
  return ((c * c):sum() - (u * u):sum(2):pow(2):sum()) / (n * (n - 1))
end

-- {---------------------------------------------------------- evaluation

-- Mean Euclidean distance between the classifier features [n, d] of distinct
-- samples: the spread of the samples as the classifier sees them (BEGAN's
-- diversity, sec. 3.3, measured).
local function mean_pairwise(f)
  local n = f:size(1)
  local sq = (f * f):sum(2, true)
  local d2 = sq + sq:t() - f:matmul(f:t()) * 2
  return (d2:clamp(0, math.huge):sqrt():sum():item()) / (n * (n - 1))
end

ae.DIVERSITY_N = 500   -- samples of the pairwise distance (n^2 / 2 pairs)

-- The evaluation columns of G on fixed noise z: sample(z rows) -> images
-- [n, 1, 28, 28] in [-1, 1], scored by an image_metrics classifier:
-- luagan.image_metrics' classes, top_share, mode_score, fid, inception, and
-- hy = H(p(y)) in nats (the entropy of the mean predicted class
-- distribution: class diversity) and diversity = ae.mean_pairwise of the
-- first ae.DIVERSITY_N samples' classifier features.
function ae.evaluate(clf, sample, z)
  local x = lg.no_grad(function()
    local parts = {}
    for s = 1, z:size(1), 500 do parts[#parts + 1] = sample(z:narrow(1, s, math.min(500, z:size(1) - s + 1))) end
    return lg.cat(parts, 1)
  end)
  local r = clf:evaluate(x)
  local top = 0
  for _, v in ipairs(r.shares) do top = math.max(top, v) end
  local py = clf:predict(x):mean(1)
  local hy = -(py * py:clamp(1e-30, 1):log()):sum():item()
  local m = math.min(ae.DIVERSITY_N, x:size(1))
  local div = lg.no_grad(function() return mean_pairwise(clf:features(x:narrow(1, 1, m))) end)
  return {classes = r.classes, top_share = top, mode_score = r.mode, fid = r.fid, inception = r.is,
          hy = hy, diversity = div}
end
ae.mean_pairwise = mean_pairwise

ae.PENDING = {classes = -1, top_share = -1, mode_score = -1, fid = -1, inception = -1, hy = -1, diversity = -1}

-- G's images of noise rows z (G maps them to 784 values), with batch norm in
-- eval mode, as [n, 1, 28, 28]
function ae.images(G, z)
  G:eval()
  local x = G(z):view(z:size(1), 1, 28, 28)
  G:train()
  return x
end

-- A function of no argument giving G's evaluation columns on the fixed noise
-- z, with the classifier of `dataset`; without one (weights missing) it says
-- so once on stderr under `name` and gives ae.PENDING.
function ae.evaluator(name, dataset, G, z)
  local im = require "luagan.image_metrics"
  local clf, why = im.for_dataset(dataset)
  if not clf then
    io.stderr:write(name, ": image metrics pending (", why, ")\n")
    return function() return ae.PENDING end
  end
  return function() return ae.evaluate(clf, function(rows) return ae.images(G, rows) end, z) end
end

-- ranks 1..n of a list, ties given their mean rank
local function ranks(a)
  local idx = {}
  for i = 1, #a do idx[i] = i end
  table.sort(idx, function(i, j) return a[i] < a[j] end)
  local r, i = {}, 1
  while i <= #idx do
    local j = i
    while j < #idx and a[idx[j + 1]] == a[idx[i]] do j = j + 1 end
    for k = i, j do r[idx[k]] = (i + j) / 2 end
    i = j + 1
  end
  return r
end

-- Spearman's rho of two equal-length lists: Pearson's r of their ranks; NaN
-- when either is constant
function ae.spearman(a, b)
  assert(#a == #b, "ae_disc.spearman: lists of equal length are expected")
  local ra, rb, n = ranks(a), ranks(b), #a
  local ma, mb = (n + 1) / 2, (n + 1) / 2
  local sab, saa, sbb = 0, 0, 0
  for i = 1, n do
    sab = sab + (ra[i] - ma) * (rb[i] - mb)
    saa, sbb = saa + (ra[i] - ma) ^ 2, sbb + (rb[i] - mb) ^ 2
  end
  if saa == 0 or sbb == 0 then return 0 / 0 end
  return sab / math.sqrt(saa * sbb)
end
-- }

return ae
