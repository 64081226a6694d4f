-- wgan.lua: Wasserstein GAN (Arjovsky, Chintala and Bottou, ICML 2017).
--
-- Algorithm 1, a weight-clipped critic trained with RMSprop, and the claim of
-- Figs. 3-4: the critic's estimate of W1 tracks the true distance (the exact
-- W1 between 2-D samples) and sample quality (a classifier's MODE score on
-- MNIST), where a standard GAN's discriminator loss does not.
--
--   luagan experiments/wgan.lua [--dataset grid25|ring8|mnist|mnist10k|fashion]
--                               [--loss wgan|gan] [--arch dcgan|mlp|mlp512] [--iters N] ... (--help)
--
-- The recipe, the nets, the metrics and the summary: experiments/notes/wgan.md.
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local nets = require "lib.nets"
local toy = require "lib.toy"

local run = lg.experiment{
  name = "wgan", iters = 10000, batch = 64,
  dataset = {"grid25", "ring8", "mnist", "mnist10k", "fashion"},
  sample_every = 1000, checkpoint_every = 2000,
  loss = {"wgan", "gan"}, lr = 5e-5, clip = 0.01, n_critic = 5, warmup = true,
  nz = 0, hidden = 128, layers = 3,
  arch = {"dcgan", "mlp", "mlp512"}, critic = {"dcgan", "mlp", "auto", default = "auto"}, size = 32, ngf = 16, ndf = 16, critic_bn = true,
  eval_every = 250, w1_n = 512, w1_reps = 8, est_n = 4096, eval_n = 2000,
  doc = {loss = "wgan (Algorithm 1) or gan (the standard-GAN baseline, Adam 2e-4/0.5)",
         lr = "RMSprop learning rate (wgan); the gan baseline uses 2e-4",
         clip = "critic weights clipped to [-clip, clip]", n_critic = "critic steps per G step",
         warmup = "100 critic steps for the first 25 G iterations and every 500th",
         nz = "noise dimension (0: 2 for 2-D data, 100 for images)",
         hidden = "2-D MLP width", layers = "2-D MLP hidden layers",
         arch = "images: G dcgan, mlp (3 x 256 ReLU, Tanh out) or mlp512 (the authors' MLP_G)",
         critic = "images: dcgan or mlp; auto: mlp with --arch mlp, dcgan otherwise (the authors' MLP run)",
         size = "image size of the dcgan G and critic (32 or 64)",
         ngf = "G width multiple", ndf = "critic width multiple",
         critic_bn = "batch norm in the DCGAN critic (the authors' code has it)",
         eval_every = "evaluate every N generator iterations",
         w1_n = "points per side of the exact W1 (2-D)",
         w1_reps = "independent draws the exact W1 is averaged over (2-D)",
         est_n = "held-out real and generated points for the evaluation-time critic estimate (2-D)",
         eval_n = "samples for the image metrics",
         dataset = "grid25, ring8, mnist, mnist10k or fashion"},
}
local cfg = run.config
local is2d = cfg.dataset == "grid25" or cfg.dataset == "ring8"
local mlp_g = cfg.arch == "mlp" or cfg.arch == "mlp512"
local critic = cfg.critic == "auto" and (cfg.arch == "mlp" and "mlp" or "dcgan") or cfg.critic
if critic == "mlp" and not mlp_g then run:fail("--critic mlp needs --arch mlp or mlp512") end
local flat = critic == "mlp"      -- images as [N, 784] rows, else [N, 1, size, size]
if cfg.w1_n < 2 or cfg.w1_n > 1024 then run:fail("--w1_n must be in 2..1024") end
if cfg.w1_reps < 1 then run:fail("--w1_reps must be >= 1") end
if cfg.est_n < 1 then run:fail("--est_n must be >= 1") end
local wgan = cfg.loss == "wgan"
local nz = cfg.nz > 0 and cfg.nz or (is2d and 2 or 100)

-- {---------------------------------------------------------- data and nets
local mix, loader
if is2d then
  mix = lg.data[cfg.dataset]()
else
  local train = lg.data.load(cfg.dataset, "train")
  local x = flat and train.images:reshape(train.n, 784) or nets.to_size(train.images, cfg.size)
  loader = lg.data.Loader(x, {batch = cfg.batch})
end
local function real_batch(n)
  if is2d then return mix:sample(n or cfg.batch) end
  return loader:next()
end

local G, D
if is2d then
  G = nets.mlp{nin = nz, hidden = cfg.hidden, layers = cfg.layers, nout = 2}
  D = nets.mlp{nin = 2, hidden = cfg.hidden, layers = cfg.layers, nout = 1}
else
  local width = cfg.arch == "mlp512" and 512 or 256
  local pixels = flat and 784 or cfg.size * cfg.size
  if mlp_g then
    G = nets.mlp{nin = nz, hidden = width, layers = 3, nout = pixels,
                 out_act = cfg.arch == "mlp" and "tanh" or nil}
    if not flat then G:add(nn.Reshape(1, cfg.size, cfg.size)) end
  else
    G = nets.dcgan_G{size = cfg.size, nz = nz, ngf = cfg.ngf, channels = 1}
    G:apply(nn.init.dcgan)
  end
  if flat then
    D = nets.mlp{nin = 784, hidden = width, layers = 3, nout = 1}
  else
    D = nets.dcgan_D{size = cfg.size, ndf = cfg.ndf, channels = 1, bn = cfg.critic_bn}
    D:apply(nn.init.dcgan)
  end
end
local optG, optD, loss, schedule
if wgan then
  optG = optim.RMSprop(G:parameters(), {lr = cfg.lr})
  optD = optim.RMSprop(D:parameters(), {lr = cfg.lr})
  loss = gan.wasserstein
  schedule = cfg.warmup and gan.schedule.wgan(cfg.n_critic) or gan.schedule.alternating(cfg.n_critic)
else
  optG = optim.Adam(G:parameters(), {lr = 2e-4, betas = {0.5, 0.999}})
  optD = optim.Adam(D:parameters(), {lr = 2e-4, betas = {0.5, 0.999}})
  loss = gan.non_saturating
  schedule = gan.schedule.alternating(1)
end
local function noise(n) return lg.randn(n, nz) end
-- data-parallel under mpirun (docs/distributed.md): batch norm over the global
-- batch, rank 0's weights on every rank, gradients averaged before each step
local dG, dD = lg.dist.wrap(lg.dist.sync_batchnorm(G)), lg.dist.wrap(lg.dist.sync_batchnorm(D))
-- }

-- {---------------------------------------------------------- image metrics
local im = require "luagan.image_metrics"
local classifier, why_pending
if not is2d then
  classifier, why_pending = im.for_dataset(cfg.dataset)
  if not classifier then io.stderr:write("wgan: image metrics pending (", why_pending, ")\n") end
end

-- }

local z_fixed = noise(is2d and 512 or 64)
local state = {w_sum = 0.0, w_count = 0}
run:track{G = G, D = D, optG = optG, optD = optD, state = state, data = loader}
local real_fixed = is2d and mix:sample(512) or nil
if is2d then
  -- real points blue, generated red
  local extent = cfg.dataset == "grid25" and 5.5 or 1.6
  run:sampler(function()
    return toy.render({{real_fixed, toy.BLUE}, {G(z_fixed), toy.RED}}, extent, 128)
  end, {range = {0, 1}, nrow = 1})
else
  run:sampler(function()
    G:eval()
    local x = G(z_fixed)
    G:train()
    return flat and x:view(64, 1, 28, 28) or x
  end)
end

-- estimate of the distance from a D loss: W_hat = -loss_D (critic), or the
-- GAN's JS estimate log 2 - loss_D / 2
local function estimate(d)
  if wgan then return -d end
  return math.log(2) - d / 2
end

print(("wgan: %s, loss %s, G %s %d / D %s %d parameters, batch %d"):format(cfg.dataset, cfg.loss,
  is2d and "mlp" or cfg.arch, G:num_parameters(), is2d and "mlp" or critic, D:num_parameters(), cfg.batch))
for it in run:iterations() do
  -- every rank draws the global batch and keeps its share (all of it in one process)
  local out = gan.step{G = G, D = D, optG = dG:optimizer(optG), optD = dD:optimizer(optD), loss = loss,
    real = function() return lg.dist.shard(real_batch()) end,
    z = function() return lg.dist.shard(noise(cfg.batch)) end, it = it,
    schedule = schedule, clip = wgan and cfg.clip or false}
  state.w_sum, state.w_count = state.w_sum + estimate(out.d), state.w_count + 1
  local row = {lossD = out.d, lossG = out.g, d_steps = out.d_steps}
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    row.w_train = state.w_sum / state.w_count
    row.w_est = row.w_train      -- images: the training average (2-D: replaced below)
    state.w_sum, state.w_count = 0.0, 0
    lg.no_grad(function()
      if is2d then
        G:eval()
        D:eval()
        local cov = lg.metrics.mode_coverage(G(noise(2500)), mix)
        row.modes, row.hq = cov.modes, cov.hq
        -- the current critic's estimate on fresh held-out points (no step)
        row.w_est = estimate(loss.d(D(mix:sample(cfg.est_n)), D(G(noise(cfg.est_n)))):item())
        -- exact W1 averaged over w1_reps independent draws; w1_se its standard error
        local s, ss, R = 0, 0, cfg.w1_reps
        for _ = 1, R do
          local w = nets.exact_w1(mix:sample(cfg.w1_n), G(noise(cfg.w1_n)))
          s, ss = s + w, ss + w * w
        end
        row.w1 = s / R
        row.w1_se = R > 1 and math.sqrt(math.max(0, (ss - s * s / R) / (R - 1)) / R) or 0
        D:train()
        G:train()
      else
        local cols = im.PENDING
        if classifier then
          G:eval()
          cols = classifier:score(function(z) return nets.to_28(G(z)) end, noise(cfg.eval_n))
          G:train()
        end
        row.classes, row.top_share, row.mode_score = cols.classes, cols.top_share, cols.mode_score
      end
    end)
  end
  run:log(row)
end

-- {---------------------------------------------------------- correlation over the run
local function ranks(xs)
  local idx = {}
  for i = 1, #xs do idx[i] = i end
  table.sort(idx, function(a, b) return xs[a] < xs[b] end)
  local r = {}
  local i = 1
  while i <= #idx do
    local j = i
    while j < #idx and xs[idx[j + 1]] == xs[idx[i]] do j = j + 1 end
    for k = i, j do r[idx[k]] = (i + j) / 2 end
    i = j + 1
  end
  return r
end
local function pearson(a, b)
  local n, ma, mb = #a, 0, 0
  for i = 1, n do ma, mb = ma + a[i] / n, mb + b[i] / n end
  local sab, saa, sbb = 0, 0, 0
  for i = 1, n do
    sab = sab + (a[i] - ma) * (b[i] - mb)
    saa, sbb = saa + (a[i] - ma) ^ 2, sbb + (b[i] - mb) ^ 2
  end
  if saa == 0 or sbb == 0 then return 0 / 0 end
  return sab / math.sqrt(saa * sbb)
end

-- the evaluations, read back from metrics.csv (complete also after a resume)
local rows = run:rows()
local lines = {}
for _, row in ipairs(rows) do
  if row.w_est ~= "" then lines[#lines + 1] = row end
end
local summary = {}
local function say(s) print(s) summary[#summary + 1] = s end
local last = lines[#lines]
-- Spearman and Pearson of an estimate column c with column target over the
-- evaluations after the 25 warm-up iterations and up to iteration hi
local function corr(c, target, hi, label)
  local we, wt = {}, {}
  for _, row in ipairs(lines) do
    local i, t = tonumber(row.iter), tonumber(row[target])
    if i > 25 and i <= hi and t and t >= 0 then we[#we + 1], wt[#wt + 1] = tonumber(row[c]), t end
  end
  if #we >= 3 then
    say(("wgan: over %d evaluations %s: Spearman rho(%s, %s) = %.3f, Pearson r = %.3f")
      :format(#we, label, c, ({w1 = "W1", mode_score = "MODE score"})[target], pearson(ranks(we), ranks(wt)),
        pearson(we, wt)))
  end
end
local half = ("in the first half (iterations 26-%d)"):format(cfg.iters // 2)
if is2d then
  -- the first line is the headline (the reproduction driver reads it): the held-out estimate
  corr("w_est", "w1", math.huge, "after the warm-up")
  corr("w_est", "w1", cfg.iters // 2, half)
  corr("w_train", "w1", math.huge, "after the warm-up, training average")
  corr("w_train", "w1", cfg.iters // 2, half .. ", training average")
  if last then
    say(("wgan: final W1 %.4f, w_est %.4g, modes %s/%d, hq %.3f"):format(tonumber(last.w1),
      tonumber(last.w_est), last.modes, mix.modes, tonumber(last.hq)))
  end
elseif last then
  -- the paper's Fig. 3 on images: the estimate falls as the samples improve
  -- (here the training-average estimate against the classifier's MODE score)
  corr("w_est", "mode_score", math.huge, "after the warm-up")
  if tonumber(last.classes) < 0 then
    say("wgan: classes covered pending (no classifier weights: " .. tostring(why_pending) .. ")")
  else
    say(("wgan: final classes covered %s/10, top class share %.3f, MODE score %.3f (%d samples)")
      :format(last.classes, tonumber(last.top_share), tonumber(last.mode_score), cfg.eval_n))
  end
end
-- a dead critic (see the notes)
local dead_from = lg.metrics.dead_since(rows, "lossD")
if dead_from then
  say(("wgan: critic dead since iteration %d (loss_D exactly 0 to the end: constant D, no gradient for G)")
    :format(dead_from))
end
run:write("summary.txt", table.concat(summary, "\n") .. "\n")
-- }
