-- experiments/lib/adagan.lua: the pieces of AdaGAN (Tolstikhin et al. 2017)
-- that experiments/adagan.lua composes and tests/lua/test_exp_adagan.lua
-- checks one by one.
--
--   adagan.gmm{modes =, points =, max_val =, seed =}   the 2-D toy mixture
--   adagan.mlp(nin, nout, hidden, std)                  the toy nets, N(0, std) init
--   adagan.beta(t, rule, constant)                      weight of the t-th component
--   adagan.mix(weights, beta)                           P <- (1 - beta) P + beta Q
--   adagan.theory_star(h, beta)                         data weights of the next GAN
--   adagan.draw(w, m)                                   m indices drawn with probabilities w
--   adagan.mixture_sample(pool, per, weights, n)        n points of the current mixture
--   adagan.density_ratios{...}                          h = (1 - C) / C from a trained classifier
--   adagan.render(fake, data, w, extent)                samples over data, data by weight
--
-- Everything on data points is tensor ops; Lua only sees scalars and the
-- list of the T mixture weights.
local lg = require "luagan"
local nn = lg.nn

local adagan = {}

-- {====================================================== data and nets

-- The variance of each mode, datahandler.py's _load_gmm: max_val / factor
-- with factor 3, 3, 8, 20, 10 (to the power 2 / dim) for 1..5 modes and
-- 3 K^2 from 6 modes on.
function adagan.variance(modes, max_val, dim)
  dim = dim or 2
  local small = {3, 3, 8, 20, 10}
  local factor = small[modes] and small[modes] ^ (2 / dim) or 3.0 * modes * modes
  return max_val / factor
end

-- The toy of the authors' code: `modes` isotropic Gaussians with equal
-- weights, means uniform in [-max_val, max_val]^2, variance adagan.variance;
-- `points` points.  Means and points come from lg's generator seeded with
-- `seed`; the caller's generator state is restored afterwards, so the data
-- set is the same whatever the run's seed.
-- Returns {x = [N, 2], labels = [N] (1..K), centres = [K, 2], std =, modes =}.
function adagan.gmm(o)
  local saved = lg.get_rng_state()
  lg.manual_seed(o.seed)
  local k, n = o.modes, o.points
  local centres = (lg.rand(k, 2) * 2 - 1) * o.max_val
  local std = math.sqrt(adagan.variance(k, o.max_val, 2))
  local labels = lg.randint(1, k + 1, {n})
  local x = centres:index_select(1, labels) + lg.randn(n, 2) * std
  lg.set_rng_state(saved)
  return {x = x, labels = labels, centres = centres, std = std, modes = k}
end

-- The nets of gan.py's ToyGan: nin -> Linear hidden -> ReLU -> Linear hidden
-- -> ReLU -> Linear nout (G: z -> 2, D and the classifier: 2 -> 1 logit).
function adagan.mlp(nin, nout, hidden)
  return nn.Sequential(nn.Linear(nin, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                       nn.Linear(hidden, nout))
end

-- ops.py's linear: weights N(0, std) (init_std 0.8 in adagan_gmm.py), biases 0.
-- In place, so a net tracked by the run is reset for the next component.
function adagan.init_(net, std)
  for _, m in ipairs(net:modules()) do
    if m.weight and m.bias then
      nn.init.normal_(m.weight, 0, std)
      nn.init.zeros_(m.bias)
    end
  end
  return net
end

-- }======================================================

-- {====================================================== the mixture

-- adagan.py's _next_mixture_weight: 1 for the first component; then
-- 1 / t ("uniform": the mixture stays the uniform average of its
-- components) or a constant.
function adagan.beta(t, rule, constant)
  if t == 1 then return 1.0 end
  if rule == "uniform" then return 1.0 / t end
  if rule == "constant" then return constant end
  error("adagan.beta: rule must be uniform or constant, got " .. tostring(rule), 2)
end

-- Mixture weights after adding a component of weight beta: the old ones
-- times (1 - beta), then beta (adagan.py, make_step).  A new list.
function adagan.mix(weights, beta)
  local out = {}
  for i, v in ipairs(weights) do out[i] = v * (1 - beta) end
  out[#weights + 1] = beta
  return out
end

-- m indices in 1..N drawn independently with probabilities w (a [N] tensor,
-- >= 0, not all 0; it need not sum to 1).  Inverse CDF without a Lua loop:
-- the draws u are sorted together with the CDF (stably, the CDF first), so
-- the j-th smallest draw, at position p_j of the merged order, has p_j - j
-- CDF values at or below it and falls on point p_j - j + 1.  A point of
-- weight 0 owns an empty interval and is never drawn.  The draws come back
-- in random order.
function adagan.draw(w, m)
  local n = w:numel()
  local cdf = w:reshape(n):cumsum(1)
  local total = cdf[n]:item()
  if not (total > 0 and total < math.huge) then
    error(("adagan.draw: the weights must have a positive finite sum, got %s"):format(total), 2)
  end
  local u = lg.rand(m) * total
  local _, order = lg.cat({cdf, u}, 1):sort()
  local at = lg.arange(1, n + m + 1):masked_select(order:gt(n))     -- p_j, increasing
  local idx = (at - lg.arange(m)):clamp(1, n)
  return idx:index_select(1, lg.randperm(m))
end

-- n points of the mixture whose component i is represented by rows
-- (i - 1) per + 1 .. i per of pool: a component drawn by the weights, then a
-- uniform row of its block (adagan.py's sample_mixture keeps such a sample
-- of every trained generator rather than the generators).
function adagan.mixture_sample(pool, per, weights, n)
  local comp = adagan.draw(lg.tensor(weights), n)
  local row = (comp - 1) * per + lg.randint(1, per + 1, {n})
  return pool:index_select(1, row)
end

-- }======================================================

-- {====================================================== reweighting

-- The "theory_star" data weights of the next component (paper sec. 3.1,
-- the closed form around eqs. (16)-(18) of the arXiv version; adagan.py's
-- _compute_data_weights_theory_star): with h_i the estimated
-- dP_model / dP_data at the training point X_i and beta the next
-- component's weight,
--   w_i = (lambda* - (1 - beta) h_i)_+ / (N beta),
-- lambda* solving sum_i w_i = 1.  Over the sorted h (ascending, partial sums
-- S_i), lambda_i = (beta N + (1 - beta) S_i) / i; the points kept are a
-- prefix, and lambda* = lambda_k for the largest k with
-- lambda_k >= (1 - beta) h_(k) (the condition holds on a prefix, for k = 1
-- always).  In exact arithmetic this is the lambda the authors' scan finds
-- (the first i with (1 - beta) h_(i) <= lambda_i <= (1 - beta) h_(i+1));
-- the prefix count cannot miss it through rounding.  The weights are then
-- renormalised, as the authors do.  When no lambda is found or the weights
-- do not sum to a positive finite number (a NaN h: the classifier
-- diverged), the weights are uniform and lambda is nil.
-- Returns w [N] and lambda*.
function adagan.theory_star(h, beta)
  local n = h:numel()
  h = h:reshape(n)
  local uniform = lg.ones(n) / n
  local sorted = h:sort()
  local lambda = (sorted:cumsum(1) * (1 - beta) + beta * n) / lg.arange(1, n + 1)
  local kept = lambda:ge(sorted * (1 - beta)):sum():item()
  if not (kept >= 1) then return uniform, nil end
  local lam = lambda[math.tointeger(kept)]:item()
  local w = ((h * -(1 - beta)) + lam):clamp(0, math.huge) / (n * beta)
  local total = w:sum():item()
  if not (total > 0 and total < math.huge) then return uniform, nil end
  return w / total, lam
end

-- The reweighting classifier (adagan.py's _get_prob_real_data, gan.py's
-- _train_mixture_discriminator_internal): C, D's architecture freshly
-- initialised, learns to tell training points (label 1) from points of the
-- current mixture (0): t.epochs passes of N / t.batch SGD steps (lr t.lr),
-- each on t.batch uniform training points and t.batch mixture points, the
-- loss BCE(real, 1) + BCE(fake, 0).  Then h_i = (1 - C(X_i)) / C(X_i) =
-- exp(-logit), capped at 1e8 (the authors divide by C + 1e-8).
-- t = {net =, x = [N, 2], fake = [M, 2], epochs =, batch =, lr =, std =}.
-- Returns h [N] and C's accuracy on the training points and the fake points.
function adagan.density_ratios(t)
  local C, x, fake = adagan.init_(t.net, t.std), t.x, t.fake
  local n, m, b = x:size(1), fake:size(1), t.batch
  local opt = lg.optim.SGD(C:parameters(), {lr = t.lr})
  for _ = 1, t.epochs * (n // b) do
    local real = x:index_select(1, lg.randint(1, n + 1, {b}))
    local f = fake:index_select(1, lg.randint(1, m + 1, {b}))
    local loss = (-C(real)):softplus():mean() + C(f):softplus():mean()
    opt:zero_grad()
    loss:backward()
    opt:step()
  end
  return lg.no_grad(function()
    local s = C(x):reshape(n)
    local acc_real = s:gt(0):mean():item()
    local acc_fake = C(fake):le(0):mean():item()
    return (-s):clamp(-80, math.log(1e8)):exp(), acc_real, acc_fake
  end)
end

-- }======================================================

-- {====================================================== pictures

-- [R, R] histogram of the rows of points [N, 2] over [-e, e]^2 (y up), each
-- point adding its weight (a [N] tensor, or 1); points off the canvas add 0.
local function histogram(points, weight, e, res)
  local n = points:size(1)
  local cell = ((points + e) * (res / (2 * e))):floor()              -- [N, 2], 0-based
  local inside = cell:ge(0) * cell:lt(res)
  inside = inside:narrow(2, 1, 1) * inside:narrow(2, 2, 1)            -- [N, 1]
  cell = cell:clamp(0, res - 1)
  local col, row = cell:narrow(2, 1, 1), (res - 1) - cell:narrow(2, 2, 1)
  local flat = (row * res + col + 1):reshape(n)
  local w = inside:reshape(n) * (weight or 1)
  return lg.zeros(res * res):scatter_add(1, flat, w):view(res, res)
end

-- Two panels [2, 3, R, R] in [0, 1] on white, for run:sampler: left, the
-- mixture's samples (red) over the training points (blue); right, the
-- training points by the weight w the last component trained on: grey
-- where it is 0, blue darkening with w relative to uniform (navy at 4x).
function adagan.render(fake, data, w, extent, res)
  res = res or 192
  local f = histogram(fake, nil, extent, res):clamp(0, 2) / 2
  local r = histogram(data, nil, extent, res):clamp(0, 2) / 2
  local left = lg.stack({1 - r * 0.8, (1 - (f + r) * 0.8):clamp(0, 1), 1 - f * 0.8}, 1)
  local count = histogram(data, nil, extent, res)
  local empty = count:le(0)
  local rel = histogram(data, w * data:size(1), extent, res) / count:clamp(1, math.huge)
  local t = (rel / 4):clamp(0, 1)
  local pos, zero = rel:gt(0), (1 - empty) * rel:le(0)
  local function channel(a, b) return empty + zero * 0.8 + pos * (t * -b + a) end
  local right = lg.stack({channel(0.6, 0.6), channel(0.7, 0.7), channel(1, 0.6)}, 1)
  return lg.stack({left, right}, 1)
end

-- }======================================================

return adagan
