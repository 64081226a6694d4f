-- wgan.lua: Arjovsky, Chintala and Bottou, "Wasserstein GAN" (ICML 2017).
--
--   luagan experiments/wgan.lua [--dataset grid25|ring8|mnist|mnist10k|fashion]
--                               [--loss wgan|gan] [--iters N] ... (--help)
--
-- Reproduces Algorithm 1 (weight-clipped critic trained with RMSprop) and the
-- claim of Figs. 3-4 that the critic's estimate of the Wasserstein distance
-- tracks the true distance and sample quality, where a standard GAN's
-- discriminator loss does not (core.md 9.4a: Spearman rho(-loss_D, exact W1)
-- over checkpoints >= 0.8 for WGAN, markedly lower for the GAN's JS estimate);
-- on MNIST, that WGAN shows no mode collapse (9.4b: >= 9/10 classes covered).
--
-- Defaults (Algorithm 1, "all experiments in the paper used the default
-- values alpha = 0.00005, c = 0.01, m = 64, n_critic = 5" [P]):
--   RMSprop lr 5e-5 (PyTorch defaults otherwise: alpha 0.99, eps 1e-8, as the
--   authors' main.py), weight clipping to [-0.01, 0.01] before each critic
--   step (main.py's order; the paper clamps after: the same sequence of
--   steps but for the first), batch 64, n_critic 5 with the authors'
--   warm-up (100 critic steps for the first 25 generator iterations and every
--   500th: gan.schedule.wgan), each critic step on a fresh real batch.
--   Critic loss E[D(G(z))] - E[D(x)] (gan.wasserstein), so -loss_D is the
--   estimate W_hat of W1 (up to the critic's Lipschitz constant, which the
--   clipping fixes only up to a scale: W_hat is K * W1 for some K).
-- Nets.  2-D data (core.md 9.4a): critic 2 -> 3 x 128 ReLU -> 1, G 2-d
--   Gaussian noise -> 3 x 128 ReLU -> 2.  Images: the authors' DCGAN critic
--   (martinarjovsky/WassersteinGAN models/dcgan.py DCGAN_D: BN in the
--   pyramid layers, no bias, no sigmoid) and DCGAN G at 32 px (their code
--   needs a multiple of 16: MNIST is padded 28 -> 32), widths --ngf/--ndf 16
--   instead of 64; --critic_bn false drops the critic's BN; --arch mlp gives
--   core.md 9.4b's MLPs (G 100 -> 3 x 256 ReLU -> 784 Tanh, critic 784 ->
--   3 x 256 ReLU -> 1).
-- Baseline: --loss gan trains the same nets as a standard GAN (non-saturating,
--   Adam 2e-4 beta1 0.5, one D step, no clipping); its D loss gives the JS
--   estimate log 2 - loss_D / 2 (Goodfellow et al. 2014, Theorem 1).
--
-- Metrics (every --eval_every generator iterations and at iteration 1):
--   w_est     -loss_D of the critic (or the JS estimate), averaged over the
--             critic steps since the last evaluation (the paper's curves are
--             median-filtered instead);
--   w1        2-D data only: exact W1 between --w1_n real and --w1_n generated
--             points: with equal-size point clouds and uniform weights the
--             optimal transport plan is a permutation, found here with the
--             Hungarian algorithm (O(n^3) on an n x n cost matrix of numbers);
--   modes, hq 2-D data: lg.metrics.mode_coverage on 2,500 samples;
--   classes, top_share, mode_score   images: a pretrained MNIST classifier
--             (luagan.image_metrics, experiments/results/classifier/) on
--             --eval_n samples, when its weights exist (else -1: pending).
-- At the end: Spearman and Pearson correlation of w_est with w1 over the
-- evaluations after the warm-up, printed and written to OUT/summary.txt.
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local nets = dofile(here .. "/lib/nets.lua")

local run = lg.experiment{
  name = "wgan", iters = 10000, batch = 64, dataset = "grid25",
  sample_every = 1000, checkpoint_every = 2000,
  loss = "wgan", lr = 5e-5, clip = 0.01, n_critic = 5, warmup = true,
  nz = 0, hidden = 128, layers = 3,
  arch = "dcgan", size = 32, ngf = 16, ndf = 16, critic_bn = true,
  eval_every = 250, w1_n = 256, eval_n = 2000,
  doc = {loss = "wgan (Algorithm 1) or gan (the standard-GAN baseline, Adam 2e-4/0.5)",
         lr = "RMSprop learning rate (wgan); the gan baseline uses 2e-4",
         clip = "critic weights clipped to [-clip, clip]", n_critic = "critic steps per G step",
         warmup = "100 critic steps for the first 25 G iterations and every 500th",
         nz = "noise dimension (0: 2 for 2-D data, 100 for images)",
         hidden = "2-D MLP width", layers = "2-D MLP hidden layers",
         arch = "images: dcgan or mlp", size = "image size for dcgan (32 or 64)",
         ngf = "G width multiple", ndf = "critic width multiple",
         critic_bn = "batch norm in the DCGAN critic (the authors' code has it)",
         eval_every = "evaluate every N generator iterations",
         w1_n = "points per side of the exact W1 (2-D)", eval_n = "samples for the image metrics",
         dataset = "grid25, ring8, mnist, mnist10k or fashion"},
}
local cfg = run.config
local function fail(msg) io.stderr:write("wgan: ", msg, "\n") os.exit(2) end
if cfg.loss ~= "wgan" and cfg.loss ~= "gan" then fail("--loss must be wgan or gan") end
local toy = cfg.dataset == "grid25" or cfg.dataset == "ring8"
local images = ({mnist = true, mnist10k = true, fashion = true})[cfg.dataset]
if not toy and not images then fail("--dataset must be grid25, ring8, mnist, mnist10k or fashion") end
if cfg.arch ~= "dcgan" and cfg.arch ~= "mlp" then fail("--arch must be dcgan or mlp") end
if cfg.w1_n < 2 or cfg.w1_n > 1024 then fail("--w1_n must be in 2..1024") end
local wgan = cfg.loss == "wgan"
local nz = cfg.nz > 0 and cfg.nz or (toy and 2 or 100)

-- {---------------------------------------------------------- data and nets
local mix, loader
if toy then
  mix = lg.data[cfg.dataset]()
else
  local train = lg.data.load(cfg.dataset, "train")
  local x = cfg.arch == "mlp" and train.images:reshape(train.n, 784) or nets.to_size(train.images, cfg.size)
  loader = lg.data.Loader(x, {batch = cfg.batch})
end
local function real_batch(n)
  if toy then return mix:sample(n or cfg.batch) end
  return loader:next()
end

local G, D
if toy then
  G = nets.mlp{nin = nz, hidden = cfg.hidden, layers = cfg.layers, nout = 2}
  D = nets.mlp{nin = 2, hidden = cfg.hidden, layers = cfg.layers, nout = 1}
elseif cfg.arch == "mlp" then
  G = nets.mlp{nin = nz, hidden = 256, layers = 3, nout = 784, out_act = "tanh"}
  D = nets.mlp{nin = 784, hidden = 256, layers = 3, nout = 1}
else
  G = nets.dcgan_G{size = cfg.size, nz = nz, ngf = cfg.ngf, channels = 1}
  D = nets.dcgan_D{size = cfg.size, ndf = cfg.ndf, channels = 1, bn = cfg.critic_bn}
  G:apply(nn.init.dcgan)
  D:apply(nn.init.dcgan)
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
-- }

-- {---------------------------------------------------------- image metrics
local classifier, why_pending
if images then
  local ok, im = pcall(require, "luagan.image_metrics")
  if ok then
    local ok2, m = pcall(im.load, cfg.dataset == "fashion" and "fashion" or "mnist")
    if ok2 then classifier = m else why_pending = tostring(m) end
  else
    why_pending = "no luagan.image_metrics"
  end
  if not classifier then
    io.stderr:write("wgan: image metrics pending (", why_pending, ")\n")
  end
end

-- generated images as [N,1,28,28] in [-1, 1] for the classifier
local function as28(x)
  if x:dim() == 2 then return x:view(x:size(1), 1, 28, 28) end
  if x:size(3) == 64 then x = lg.avg_pool2d(x, 2) end
  if x:size(3) == 32 then x = x:narrow(3, 3, 28):narrow(4, 3, 28) end
  return x:contiguous()
end
-- }

local z_fixed = noise(toy and 512 or 64)
local state = {w_sum = 0.0, w_count = 0}
run:track{G = G, D = D, optG = optG, optD = optD, state = state, data = loader}
local real_fixed = toy and mix:sample(512) or nil
if toy then
  -- 2-D samples as a 128 x 128 scatter picture: real points red, generated green
  -- (each point splatted bilinearly: tensor ops only)
  local res, lim = 128, cfg.dataset == "grid25" and 5.5 or 1.6
  local function raster(p) return nets.raster(p, lim, res) end
  run:sampler(function()
    return lg.cat({raster(real_fixed), raster(G(z_fixed)), lg.zeros(1, 1, res, res)}, 2)
  end, {range = {0, 1}, nrow = 1})
else
  run:sampler(function()
    G:eval()
    local x = G(z_fixed)
    G:train()
    return cfg.arch == "mlp" and x:view(64, 1, 28, 28) or x
  end)
end

-- estimate of the distance from a D loss: W_hat = -loss_D (critic), or the
-- GAN's JS estimate log 2 - loss_D / 2
local function estimate(d)
  if wgan then return -d end
  return math.log(2) - d / 2
end

print(("wgan: %s, loss %s, G %d / D %d parameters, batch %d"):format(cfg.dataset, cfg.loss,
  G:num_parameters(), D:num_parameters(), cfg.batch))
local t0, it0 = lg.clock(), nil   -- it0: the iteration before the first one run here (resume)
for it in run:iterations() do
  if not it0 then t0, it0 = lg.clock(), it - 1 end
  local out = gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss,
    real = real_batch, z = function() return noise(cfg.batch) end, it = it,
    schedule = schedule, clip = wgan and cfg.clip or false}
  state.w_sum, state.w_count = state.w_sum + estimate(out.d), state.w_count + 1
  local row = {lossD = out.d, lossG = out.g, d_steps = out.d_steps}
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    row.w_est = state.w_sum / state.w_count
    state.w_sum, state.w_count = 0.0, 0
    lg.no_grad(function()
      if toy then
        G:eval()
        local cov = lg.metrics.mode_coverage(G(noise(2500)), mix)
        row.modes, row.hq = cov.modes, cov.hq
        row.w1 = nets.exact_w1(mix:sample(cfg.w1_n), G(noise(cfg.w1_n)))
        G:train()
      else
        if classifier then
          G:eval()
          local parts = {}
          for s = 1, cfg.eval_n, 500 do parts[#parts + 1] = as28(G(noise(math.min(500, cfg.eval_n - s + 1)))) end
          G:train()
          local r = classifier:evaluate(lg.cat(parts, 1))
          local top = 0
          for _, v in ipairs(r.shares) do top = math.max(top, v) end
          row.classes, row.top_share, row.mode_score = r.classes, top, r.mode
        else
          row.classes, row.top_share, row.mode_score = -1, -1, -1
        end
      end
    end)
  end
  run:log(row)
end
local elapsed = lg.clock() - t0
if it0 and run.iter > it0 then
  print(("wgan: %d generator iterations in %.1f s, %.2f it/s"):format(run.iter - it0, elapsed,
    (run.iter - it0) / elapsed))
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

-- read the evaluations back from metrics.csv (complete also after a resume)
local f = assert(io.open(run.dir .. "/metrics.csv"))
local header = {}
for c in f:read("l"):gmatch("[^,]+") do header[#header + 1] = c end
local col = {}
for i, c in ipairs(header) do col[c] = i end
local lines = {}
for line in f:lines() do
  local cells = {}
  for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
  if cells[col.w_est] ~= "" then lines[#lines + 1] = cells end
end
f:close()
local summary = {}
local function say(s) print(s) summary[#summary + 1] = s end
local last = lines[#lines]
if toy then
  local we, w1 = {}, {}
  for _, cells in ipairs(lines) do
    if tonumber(cells[col.iter]) > 25 then
      we[#we + 1], w1[#w1 + 1] = tonumber(cells[col.w_est]), tonumber(cells[col.w1])
    end
  end
  if #we >= 3 then
    say(("wgan: over %d evaluations after the warm-up: Spearman rho(w_est, W1) = %.3f, Pearson r = %.3f")
      :format(#we, pearson(ranks(we), ranks(w1)), pearson(we, w1)))
  end
  if last then
    say(("wgan: final W1 %.4f, w_est %.4g, modes %s/%d, hq %.3f"):format(tonumber(last[col.w1]),
      tonumber(last[col.w_est]), last[col.modes], mix.modes, tonumber(last[col.hq])))
  end
elseif last then
  if tonumber(last[col.classes]) < 0 then
    say("wgan: classes covered pending (no classifier weights: " .. tostring(why_pending) .. ")")
  else
    say(("wgan: final classes covered %s/10, top class share %.3f, MODE score %.3f (%d samples)")
      :format(last[col.classes], tonumber(last[col.top_share]), tonumber(last[col.mode_score]), cfg.eval_n))
  end
end
local sf = assert(io.open(run.dir .. "/summary.txt", "w"))
sf:write(table.concat(summary, "\n"), "\n")
sf:close()
-- }
