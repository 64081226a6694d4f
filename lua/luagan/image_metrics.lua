-- luagan.image_metrics: GAN quality numbers for 28x28 grey images (MNIST, Fashion-MNIST),
-- from a small CNN classifier trained by luagan (experiments/classifier.lua).
--
--   local im = require "luagan.image_metrics"
--   local m = im.load("mnist")               -- or "fashion", or a .safetensors path
--   m:inception_score(x, {splits = 10})       -> mean, std over the splits
--   m:mode_score(x)                           -> score, {cond = E KL(p(y|x) || p*), marg = KL(p* || p(y))}
--   m:fid(x, reference)                       -> Frechet distance on the 128-d penultimate features
--   m:classes_covered(x, {threshold = 0.01})  -> number of classes, shares {10 numbers}
--   m:evaluate(x, reference)                  -> {is=, is_std=, mode=, fid=, classes=, shares=}
--                                                (one classifier pass for all four)
--   m:predict(x) -> probabilities [N,10];  m:features(x) -> [N,128];  m:accuracy(x, labels)
--
-- Inputs: images [N,1,28,28] (or [N,784], or [N,28,28]) in [-1, 1], the range of a
-- tanh generator and of lg.data's default.  {range = {0, 1}} (in any of the opts
-- tables above) says the images are in [0, 1] (a sigmoid generator); they are
-- mapped linearly onto [-1, 1], the range the classifier was trained on.
--
-- Definitions (p(y|x): the classifier's softmax; p(y) = mean over the samples of
-- p(y|x); p*(y): the label frequencies of the classifier's training set):
--   Inception score (Salimans et al. 2016):  exp(E_x KL(p(y|x) || p(y))).  As in the
--     authors' code, the N samples are cut into `splits` consecutive parts
--     (part i = rows floor((i-1) N/splits)+1 .. floor(i N/splits)), the score is
--     computed per part, and the mean and standard deviation over the parts are
--     returned.  Default splits = 10 (the official setting, on 50,000 samples);
--     the value depends on the part size, so compare scores at equal N and splits.
--   MODE score (Che et al. 2017, MRGAN):
--     exp(E_x KL(p(y|x) || p*(y)) - KL(p*(y) || p(y))).
--     The order of the second KL follows the paper (two independent
--     transcriptions of it agree); some later surveys print
--     KL(p(y) || p*(y)) instead.
--     Xu et al.'s GAN-Metrics code (metric.py, mode_score) subtracts KL(p* || p)
--     as here, after E_x KL(p(y|x) || p(y)) (the Inception term): that variant
--     is ours minus KL(p || p*) in the exponent, since E_x KL(p(y|x) || p*) =
--     E_x KL(p(y|x) || p) + KL(p || p*).  (With KL(p || p*) second, ours would
--     reduce to the Inception score.)  The paper's own text was not found.
--     Both terms are returned, so either variant is one line away.  The maximum
--     is exp(H(p*)), about 10 for balanced classes.
--   FID (Heusel et al. 2017, on this classifier's features instead of Inception's):
--     |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)) with means and
--     covariances (N - 1 normalisation) of the 128 ReLU outputs feeding the last
--     layer.  tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)),
--     a symmetric PSD matrix with the eigenvalues of S1 S2; both eigenproblems are
--     solved in double precision by LAPACK (lg.linalg.eigh on tables, M.symeig
--     below: float32 eigenvectors would move the FID by ~2e-3, e.g. 7.2666 for
--     7.2645).  reference: images (a tensor),
--     precomputed {mu=, sigma=} (M:feature_stats), or nil for the statistics of
--     the classifier's training set stored with its weights.  Like any FID, the
--     value is biased upwards at small N: compare at equal N.
--   Classes covered: the number of classes whose share of the samples' predicted
--     (arg-max) labels is at least `threshold`, default 0.01 (1% of the samples,
--     a tenth of a balanced class's share).
--
-- The classifier: Conv 1->32 k3 + ReLU + maxpool 2, Conv 32->64 k3 + ReLU + maxpool 2,
-- Linear 1600->128 + ReLU (the penultimate features), Linear 128->10.  Weights live in
-- models/<name>.safetensors (M.weights_dir) with, under "stats.*", the
-- training set's label frequencies and feature mean/covariance.
local lg = require "luagan"
local nn = lg.nn

local M = {}

-- {====================================================== the classifier

--- image_metrics.Classifier([opts]) -> Module
-- The small CNN the image metrics are computed with, for 28x28 grey images
-- in [-1, 1]: Conv 1->32 k3 + ReLU + max-pool 2, Conv 32->64 k3 + ReLU +
-- max-pool 2, Linear 1600->128 + ReLU (the penultimate features),
-- opts.dropout (default 0), Linear 128->10 (logits).  Trained by
-- experiments/classifier.lua; image_metrics.load reads its weights.
-- Shapes: x [N, 1, 28, 28] -> logits [N, 10].
-- @usage local im = require "luagan.image_metrics"
-- local net = im.Classifier{dropout = 0.5}
-- local logits = net(lg.randn(4, 1, 28, 28))   -- [4, 10]
local Classifier = nn.Module:extend("ImageClassifier")
M.Classifier = Classifier

function Classifier:init(opts)
  opts = opts or {}
  self.conv1 = nn.Conv2d(1, 32, 3)
  self.conv2 = nn.Conv2d(32, 64, 3)
  self.fc1 = nn.Linear(64 * 5 * 5, 128)
  self.drop = nn.Dropout(opts.dropout or 0)
  self.fc2 = nn.Linear(128, 10)
end

-- [N,1,28,28] in [-1, 1] -> [N,128] penultimate features
--- image_metrics.Classifier:features(x) -> Tensor
-- The 128 ReLU outputs feeding the classifier's last layer, on which the FID
-- is computed.
-- Shapes: x [N, 1, 28, 28] -> [N, 128].
-- @usage local im = require "luagan.image_metrics"
-- local f = im.Classifier():features(lg.randn(4, 1, 28, 28))   -- [4, 128]
function Classifier:features(x)
  local h = lg.max_pool2d(self.conv1(x):relu(), 2)      -- [N,32,13,13]
  h = lg.max_pool2d(self.conv2(h):relu(), 2)            -- [N,64,5,5]
  return self.fc1(h:reshape(x:size(1), 64 * 5 * 5)):relu()
end

function Classifier:forward(x)
  return self.fc2(self.drop(self:features(x)))
end

-- }======================================================

-- {====================================================== dense symmetric linear algebra
-- Small dense matrices as Lua tables of rows of numbers (1-based), in double
-- precision: the FID is a difference of traces of 128 x 128 matrices, which
-- float32 would blur.  The eigenproblems are LAPACK's; the products here are
-- the one place in the Lua side with loops over numbers, O(d^3), ~0.1 s.

-- A tensor [d,d] or [d], or a table, -> table(s) of numbers
local function to_table(a)
  if lg.is_tensor(a) then return a:totable() end
  return a
end

--- image_metrics.symeig(a [, vectors]) -> values [, V]
-- Eigen-decomposition of a symmetric matrix in double precision (LAPACK via
-- lg.linalg.eigh on a table): a is a tensor [d, d] or a table of rows, of
-- which the lower triangle is read; returns the eigenvalues ascending and,
-- unless vectors is false, the table V whose columns are the unit
-- eigenvectors, A = V diag(values) V^T.  Raises for a non-square matrix.
-- @usage local im = require "luagan.image_metrics"
-- local values, V = im.symeig({{2, 1}, {1, 2}})   -- values {1, 3}
function M.symeig(a, vectors)
  local values, vecs = lg.linalg.eigh(to_table(a))
  if vectors == false then return values end
  return values, vecs
end

local matmul = lg.linalg.matmul   -- tables of rows, in double precision

--- image_metrics.sqrtm_psd(a) -> table
-- The symmetric square root V diag(sqrt(max(l, 0))) V^T of a symmetric
-- positive semi-definite matrix (tensor or table of rows), in double
-- precision (lg.linalg.sqrtm_psd; the lower triangle is read); negative
-- eigenvalues (rounding noise) count as zero.
-- @usage local im = require "luagan.image_metrics"
-- local R = im.sqrtm_psd({{4, 0}, {0, 9}})   -- {{2, 0}, {0, 3}}
function M.sqrtm_psd(a)
  return lg.linalg.sqrtm_psd(to_table(a))
end

-- tr((S1 S2)^(1/2)) for symmetric PSD S1, S2
--- image_metrics.trace_sqrt_product(s1, s2) -> number
-- tr((S1 S2)^(1/2)) for symmetric PSD S1 and S2, as the sum of the square
-- roots of the eigenvalues of S1^(1/2) S2 S1^(1/2), in double precision.
-- @usage local im = require "luagan.image_metrics"
-- local t = im.trace_sqrt_product({{1, 0}, {0, 4}}, {{1, 0}, {0, 1}})   -- 3
function M.trace_sqrt_product(s1, s2)
  s1, s2 = to_table(s1), to_table(s2)
  local A = M.sqrtm_psd(s1)
  local P = matmul(matmul(A, s2), A)
  local values = M.symeig(P, false)
  local t = 0.0
  for _, v in ipairs(values) do if v > 0 then t = t + math.sqrt(v) end end
  return t
end

-- Frechet distance between N(mu1, s1) and N(mu2, s2); tensors or tables.
--- image_metrics.frechet_distance(mu1, s1, mu2, s2) -> number
-- The Frechet distance between Gaussians N(mu1, S1) and N(mu2, S2) of the FID
-- (Heusel et al. 2017): |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)),
-- in double precision; means [d] and covariances [d, d] as tensors or tables.
-- Raises when the dimensions differ.
-- @usage local im = require "luagan.image_metrics"
-- local d = im.frechet_distance({0, 0}, {{1, 0}, {0, 1}}, {3, 4}, {{1, 0}, {0, 1}})   -- 25
function M.frechet_distance(mu1, s1, mu2, s2)
  mu1, mu2, s1, s2 = to_table(mu1), to_table(mu2), to_table(s1), to_table(s2)
  local n = #mu1
  if #mu2 ~= n or #s1 ~= n or #s2 ~= n then
    error(("image_metrics.frechet_distance: dimensions %d, %d, %d, %d differ"):format(
      n, #mu2, #s1, #s2), 2)
  end
  local dist = 0.0
  for i = 1, n do
    local dm = mu1[i] - mu2[i]
    dist = dist + dm * dm + s1[i][i] + s2[i][i]
  end
  return dist - 2 * M.trace_sqrt_product(s1, s2)
end

-- }======================================================

-- {====================================================== metrics object

local Metrics = {}
Metrics.__index = Metrics
Metrics.__name = "ImageMetrics"

-- The directory of this file: lua/luagan in the source tree,
-- <prefix>/share/lua/5.4/luagan when installed.
local function here_dir()
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  return (here:gsub("/[^/]+/%.%./", "/"))           -- build/../lua -> lua
end

local function is_dir(path)
  local ok, names = pcall(lg.fs.list, path)
  return ok and names ~= nil
end

-- Where the cached weights live: $LUAGAN_MODELS (or the older
-- $LUAGAN_CLASSIFIER_DIR), else models/ beside the installed package (where
-- `make install` and the rockspec put them), else <source tree>/models.
--- image_metrics.weights_dir() -> string
-- The directory of the cached classifier weights: $LUAGAN_MODELS (or the
-- older $LUAGAN_CLASSIFIER_DIR) when set, else models/ beside the installed
-- package, else models/ of the source tree.
-- @usage print(require("luagan.image_metrics").weights_dir())
function M.weights_dir()
  for _, var in ipairs{"LUAGAN_MODELS", "LUAGAN_CLASSIFIER_DIR"} do
    local env = os.getenv(var)
    if env and env ~= "" then return env end
  end
  local here = here_dir()
  if is_dir(here .. "/models") then return here .. "/models" end
  return (here:match("^(.*)/[^/]*/[^/]*$") or ".") .. "/models"
end

--- image_metrics.weights_path(name) -> string
-- The path of the weights file for a classifier name ("mnist", "fashion"):
-- weights_dir()/NAME.safetensors.
-- @usage print(require("luagan.image_metrics").weights_path("mnist"))
function M.weights_path(name)
  return M.weights_dir() .. "/" .. name .. ".safetensors"
end

-- m = M.load("mnist" | "fashion" | path.safetensors, {batch = 500})
--- image_metrics.load(name [, opts]) -> Metrics
-- The metrics object of a trained classifier: name is "mnist", "fashion" or
-- a .safetensors path, holding the weights and, under stats.*, the training
-- set's label frequencies and feature mean and covariance.  opts.batch
-- (default 500) is the classifier's batch size.  Raises with the command
-- that trains the weights when the file is missing.
-- @usage local im = require "luagan.image_metrics"
-- local ok, m = pcall(im.load, "mnist")
function M.load(name, opts)
  opts = opts or {}
  if type(name) ~= "string" then error("image_metrics.load: a name or a path is expected", 2) end
  local path = name:find("%.safetensors$") and name or M.weights_path(name)
  local f = io.open(path, "rb")
  if not f then
    error(("image_metrics.load: %s not found (train it: luagan experiments/classifier.lua "
      .. "--dataset %s)"):format(path, name:match("([^/]*)%.safetensors$") or name), 2)
  end
  f:close()
  local tensors, meta = lg.load(path)
  local sd, stats = {}, {}
  for k, v in pairs(tensors) do
    local s = k:match("^stats%.(.*)$")
    if s then stats[s] = v else sd[k] = v end
  end
  if not (stats.p_train and stats.mu and stats.sigma) then
    error("image_metrics.load: " .. path .. " lacks stats.p_train / stats.mu / stats.sigma", 2)
  end
  local net = Classifier()
  net:load_state_dict(sd)
  net:eval()
  return M.new(net, {p_train = stats.p_train, mu = stats.mu, sigma = stats.sigma,
                     meta = meta, path = path, batch = opts.batch})
end

-- The classifier for a dataset of lg.data ("mnist", "mnist10k", "fashion"), or
-- nil and why (weights not trained yet, or no classifier for that data, e.g. a
-- folder of images): the experiments log -1 ("pending") metrics then.
--- image_metrics.for_dataset(dataset) -> Metrics | nil, message
-- The metrics object for a data set of lg.data ("mnist" and "mnist10k" share
-- the MNIST classifier, "fashion"), or nil and why (no classifier for that
-- data, weights not trained yet): the experiments then log
-- image_metrics.PENDING.
-- @usage local m, why = require("luagan.image_metrics").for_dataset("mnist10k")
function M.for_dataset(dataset)
  local name = ({mnist = "mnist", mnist10k = "mnist", fashion = "fashion"})[dataset]
  if not name then
    return nil, ("no classifier for dataset '%s' (mnist, mnist10k and fashion have one)"):format(tostring(dataset))
  end
  local ok, m = pcall(M.load, name)
  if not ok then return nil, tostring(m) end
  return m
end

-- Wraps a classifier (anything with :features(x) and .fc2, in eval mode) with
-- p_train [10] and the reference feature statistics mu [128], sigma [128,128].
--- image_metrics.new(net, info) -> Metrics
-- Wraps a classifier (anything with :features(x) and .fc2, in eval mode)
-- into a metrics object, with info.p_train (label frequencies [10]),
-- info.mu [128] and info.sigma [128, 128] (the reference feature
-- statistics), and optionally info.meta, info.path and info.batch (500).
-- @usage local im = require "luagan.image_metrics"
-- local m = im.new(im.Classifier():eval(), {p_train = lg.full({10}, 0.1)})
function M.new(net, info)
  return setmetatable({net = net, p_train = info.p_train, train_stats = {mu = info.mu, sigma = info.sigma},
                       meta = info.meta or {}, path = info.path, batch = info.batch or 500}, Metrics)
end

-- [N,...] images in `range` -> [N,1,28,28] in [-1, 1]
local function prepare(op, x, opts)
  if not lg.is_tensor(x) then error(op .. ": a tensor of images is expected", 3) end
  local n = x:size(1)
  if x:numel() ~= n * 784 or n == 0 then
    error(("%s: images [N,1,28,28] expected, got [%s]"):format(op, table.concat(x.shape, ",")), 3)
  end
  x = x:detach():reshape(n, 1, 28, 28)
  local r = opts and opts.range
  if r then
    if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or r[1] >= r[2] then
      error(op .. ": range must be {lo, hi} with lo < hi", 3)
    end
    if r[1] ~= -1 or r[2] ~= 1 then x = (x - r[1]) * (2 / (r[2] - r[1])) - 1 end
  end
  return x, n
end

-- one classifier pass: log-probabilities [N,10] and features [N,128]
function Metrics:_outputs(op, x, opts)
  local n
  x, n = prepare(op, x, opts)
  local logps, feats = {}, {}
  lg.no_grad(function()
    for start = 1, n, self.batch do
      local b = x:narrow(1, start, math.min(self.batch, n - start + 1))
      local f = self.net:features(b)
      feats[#feats + 1] = f
      logps[#logps + 1] = lg.log_softmax(self.net.fc2(f), 2)
    end
  end)
  return lg.cat(logps, 1), lg.cat(feats, 1), n
end

--- Metrics:predict(x [, opts]) -> Tensor
-- The classifier's class probabilities p(y|x), without autograd.  x holds
-- images in [-1, 1] ([N, 1, 28, 28], [N, 28, 28] or [N, 784]);
-- opts.range = {0, 1} (in every method's opts) says they are in [0, 1].
-- Raises for other shapes.
-- Shapes: x [N, 1, 28, 28] -> [N, 10].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local p = m:predict(lg.rand(8, 1, 28, 28), {range = {0, 1}})
function Metrics:predict(x, opts)
  local logp = self:_outputs("predict", x, opts)
  return logp:exp()
end

--- Metrics:features(x [, opts]) -> Tensor
-- The classifier's 128 penultimate features of the images, without autograd.
-- Shapes: x [N, 1, 28, 28] -> [N, 128].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local f = m:features(lg.rand(8, 1, 28, 28) * 2 - 1)
function Metrics:features(x, opts)
  local _, f = self:_outputs("features", x, opts)
  return f
end

-- labels: tensor [N] of 1-based classes
--- Metrics:accuracy(x, labels [, opts]) -> number
-- The fraction of images whose arg-max class equals its label (1-based).
-- Shapes: x [N, 1, 28, 28], labels [N].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local d = lg.data.mnist10k("test", {limit = 100})
-- print(m:accuracy(d.images, d.labels))
function Metrics:accuracy(x, labels, opts)
  local logp, _, n = self:_outputs("accuracy", x, opts)
  local _, idx = logp:max(2)
  local wrong = idx:ne(labels:view(n)):sum():item()
  return 1 - wrong / n
end

-- mean and covariance (N - 1) of features [N,D], as tensors
local function feature_stats(f)
  local n = f:size(1)
  if n < 2 then error("image_metrics: at least 2 samples are needed for a covariance", 3) end
  local mu = f:mean(1, true)
  local c = f - mu
  return {mu = mu:view(f:size(2)), sigma = c:t():matmul(c) / (n - 1)}
end

--- Metrics:feature_stats(x [, opts]) -> {mu, sigma}
-- The mean and covariance (N - 1 normalisation) of the images' features, to
-- pass as a precomputed FID reference; at least 2 images.
-- Shapes: x [N, 1, 28, 28] -> mu [128], sigma [128, 128].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local ref = m:feature_stats(lg.data.mnist10k("test", {limit = 200}).images)
function Metrics:feature_stats(x, opts)
  return feature_stats(self:features(x, opts))
end

local function log_clamped(p) return p:clamp(1e-30, 1):log() end

-- E_x KL(p(y|x) || q) for log p(y|x) [N,K] and log q [1,K]
local function mean_kl(logp, logq)
  return (logp:exp() * (logp - logq)):sum(2):mean():item()
end

local function inception(logp)
  local py = logp:exp():mean(1, true)
  return math.exp(mean_kl(logp, log_clamped(py)))
end

local function is_from(logp, n, splits)
  splits = splits or 10
  if math.type(splits) ~= "integer" or splits < 1 or splits > n then
    error(("inception_score: splits must be an integer in 1..%d"):format(n), 3)
  end
  local scores, sum = {}, 0.0
  for i = 1, splits do
    local a, b = (i - 1) * n // splits, i * n // splits
    scores[i] = inception(logp:narrow(1, a + 1, b - a))
    sum = sum + scores[i]
  end
  local mean, var = sum / splits, 0.0
  for i = 1, splits do var = var + (scores[i] - mean) ^ 2 end
  return mean, math.sqrt(var / splits), scores
end

--- Metrics:inception_score(x [, opts]) -> mean, std, scores
-- The Inception score of Salimans et al. 2016, exp(E_x KL(p(y|x) || p(y))),
-- on this classifier: as in the authors' code, the N images are cut into
-- opts.splits (default 10) consecutive parts, the score computed per part,
-- and the mean, the standard deviation and the list of part scores
-- returned.  The value depends on the part size: compare at equal N and
-- splits.
-- Shapes: x [N, 1, 28, 28], splits <= N.
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local is, is_std = m:inception_score(lg.data.mnist10k("test").images, {splits = 10})
function Metrics:inception_score(x, opts)
  opts = opts or {}
  local logp, _, n = self:_outputs("inception_score", x, opts)
  return is_from(logp, n, opts.splits)
end

local function mode_from(self, logp)
  local pstar = self.p_train:view(1, -1)
  local logpstar = log_clamped(pstar)
  local cond = mean_kl(logp, logpstar)
  local py = logp:exp():mean(1, true)
  local marg = (pstar * (logpstar - log_clamped(py))):sum():item()
  return math.exp(cond - marg), {cond = cond, marg = marg}
end

--- Metrics:mode_score(x [, opts]) -> score, {cond, marg}
-- The MODE score of Che et al. 2017 (MRGAN):
-- exp(E_x KL(p(y|x) || p*(y)) - KL(p*(y) || p(y))), p* the label frequencies
-- of the classifier's training set, p(y) the mean prediction; both terms are
-- returned (cond and marg).  At most about 10 for balanced classes.
-- Shapes: x [N, 1, 28, 28].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local score, terms = m:mode_score(lg.data.mnist10k("test", {limit = 500}).images)
function Metrics:mode_score(x, opts)
  local logp = self:_outputs("mode_score", x, opts)
  return mode_from(self, logp)
end

function Metrics:_reference(reference, opts)
  if reference == nil then return self.train_stats end
  if lg.is_tensor(reference) then return self:feature_stats(reference, opts) end
  if type(reference) == "table" and reference.mu and reference.sigma then return reference end
  error("fid: reference must be images (a tensor), {mu=, sigma=} or nil (the training set)", 3)
end

local function fid_from(stats, ref)
  return M.frechet_distance(stats.mu, stats.sigma, ref.mu, ref.sigma)
end

-- opts.range applies to x and, when images, to the reference
--- Metrics:fid(x [, reference] [, opts]) -> number
-- The Frechet distance (Heusel et al. 2017) between the feature statistics
-- of x and of reference: images (a tensor; opts.range applies to them too),
-- precomputed {mu, sigma} (feature_stats) or nil for the classifier's
-- training set.  On this classifier's 128 features, not Inception's; biased
-- upwards at small N, so compare at equal N.
-- Shapes: x [N, 1, 28, 28], N >= 2.
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local fid = m:fid(lg.data.mnist10k("test", {limit = 500}).images)
function Metrics:fid(x, reference, opts)
  local _, f = self:_outputs("fid", x, opts)
  return fid_from(feature_stats(f), self:_reference(reference, opts))
end

local function classes_from(logp, n, threshold)
  threshold = threshold or 0.01
  local k = logp:size(2)
  local _, idx = logp:max(2)
  local onehot = lg.one_hot(idx:view(n), k)
  local shares = (onehot:sum(1) / n):totable()
  local covered = 0
  for c = 1, k do if shares[c] >= threshold then covered = covered + 1 end end
  return covered, shares
end

--- Metrics:classes_covered(x [, opts]) -> count, shares
-- The number of classes whose share of the images' predicted (arg-max)
-- labels is at least opts.threshold (default 0.01), and the 10 shares; a
-- mode-collapse measure.
-- Shapes: x [N, 1, 28, 28].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local n, shares = m:classes_covered(lg.data.mnist10k("test", {limit = 500}).images)
function Metrics:classes_covered(x, opts)
  opts = opts or {}
  local logp, _, n = self:_outputs("classes_covered", x, opts)
  return classes_from(logp, n, opts.threshold)
end

-- All four from one classifier pass.  opts: range, splits, threshold.
--- Metrics:evaluate(x [, reference] [, opts]) -> {n, is, is_std, mode, mode_terms, fid, classes, shares}
-- All four metrics from one classifier pass: inception score (opts.splits,
-- default min(10, N)), MODE score, FID against reference (as in m:fid; nil
-- when N < 2) and classes covered (opts.threshold).
-- Shapes: x [N, 1, 28, 28].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local r = m:evaluate(lg.data.mnist10k("test", {limit = 500}).images)
-- print(r.is, r.mode, r.fid, r.classes)
function Metrics:evaluate(x, reference, opts)
  opts = opts or {}
  local logp, f, n = self:_outputs("evaluate", x, opts)
  local r = {n = n}
  r.is, r.is_std = is_from(logp, n, opts.splits or math.min(10, n))
  r.mode, r.mode_terms = mode_from(self, logp)
  r.fid = n >= 2 and fid_from(feature_stats(f), self:_reference(reference, opts)) or nil
  r.classes, r.shares = classes_from(logp, n, opts.threshold)
  return r
end

-- Scores a generator on fixed noise z [n, ...] (fixed, so that scoring draws
-- nothing from a training's random stream): gen(z rows) -> images, `chunk`
-- (500) rows at a time, without autograd.  Returns the columns the experiments
-- log, {classes, top_share, mode_score, fid, inception}; M.PENDING when there is no
-- classifier.  opts: range of the images (as for evaluate), chunk, threshold.
--- Metrics:score(gen, z [, opts]) -> {classes, top_share, mode_score, fid, inception}
-- Scores a generator on fixed noise z (so that scoring draws nothing from
-- the training's random stream): gen(rows of z) -> images, opts.chunk (500)
-- rows at a time under lg.no_grad, then evaluate; returns the columns the
-- experiments log.  opts: range of the images, chunk, threshold.
-- Shapes: z [n, ...] -> gen(z) [n, 1, 28, 28].
-- @usage local m = require("luagan.image_metrics").load("mnist")
-- local G = nn.Sequential(nn.Linear(16, 784), nn.Tanh())
-- local cols = m:score(G, lg.randn(100, 16))
function Metrics:score(gen, z, opts)
  opts = opts or {}
  local n, chunk = z:size(1), opts.chunk or 500
  return lg.no_grad(function()
    local parts = {}
    for s = 1, n, chunk do parts[#parts + 1] = gen(z:narrow(1, s, math.min(chunk, n - s + 1))) end
    local r = self:evaluate(lg.cat(parts, 1), nil, opts)
    local top = 0
    for _, v in ipairs(r.shares) do top = math.max(top, v) end
    return {classes = r.classes, top_share = top, mode_score = r.mode, fid = r.fid, inception = r.is}
  end)
end
--- image_metrics.PENDING: {classes, top_share, mode_score, fid, inception}
-- The columns Metrics:score returns, all -1: what the experiments log when no
-- classifier is available (see image_metrics.for_dataset).
-- @usage local cols = require("luagan.image_metrics").PENDING
M.PENDING = {classes = -1, top_share = -1, mode_score = -1, fid = -1, inception = -1}

-- }======================================================

return M
