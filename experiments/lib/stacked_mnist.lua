-- experiments/lib/stacked_mnist.lua: the Stacked MNIST mode-counting benchmark of
-- VEEGAN (Srivastava et al. 2017) as run by PacGAN (Lin et al. 2018), for
-- experiments/mode_count.lua --dataset stacked_mnist.
--
--   local sm = require "lib.stacked_mnist"
--   local ds = sm.dataset{split = "all"}     3 independent MNIST digits as the channels
--   ds:sample(n) -> [n, 3, 28, 28] in [-1, 1];  ds:sample_labelled(n) -> images, labels {n x 3}
--   sm.G{nz =, ngf =, out_channels = 3}      PacGAN's DCGAN (carpedm20 DCGAN-tensorflow)
--   sm.D{ndf =, channels = 3 m}              its discriminator (input: m packed samples)
--   ev = sm.Evaluator(metrics, {n = 26000})  modes / KL of images or of a generator
--   ev:score(images) / ev:score_generator(G, z) -> {modes=, kl=, counts={1000}, n=, top_share=, conf=}
--   sm.score_counts(counts) -> modes, kl     from a histogram of the 1000 triples
--   sm.train(run, t)                         the training loop (metrics.csv: lossD, lossG,
--                                            modes, kl, top_share, conf) -> final summary
--
-- Protocol (VEEGAN sec. 5.2, PacGAN sec. 5; the PacGAN authors' code,
-- fjxmlzn/PacGAN @b331f4f stacked_MNIST_experiments/VEEGAN_experiment/
-- model.py and config.py [C]):
--   data: each training image is 28 x 28 x 3, channel k an independent uniformly
--     drawn MNIST digit (PacGAN pools MNIST train + test and draws a fixed set of
--     128,000 such triples; here the pool is the shipped subset's train + test
--     digits, or full MNIST's when present, and triples are drawn afresh for
--     every batch, the same distribution without a fixed finite sample);
--     images in [-1, 1], G's tanh range (PacGAN's code feeds D real images
--     in [0, 1] (X / 255) against a tanh G; we do not copy that mismatch);
--   evaluation: a fixed set of noise vectors (26,000 in PacGAN, drawn once per
--     run), G in inference mode (batch norm with running statistics, PacGAN's
--     `sampler`); each channel is classified by a pretrained MNIST classifier
--     (ours: luagan.image_metrics, the small CNN in
--     models/mnist.safetensors, 98.7% test accuracy),
--     arg-max label; a sample's mode is the triple (d1, d2, d3), one of 1000;
--   modes = number of triples predicted for at least one sample;
--   kl = KL(p || u) = sum_j p_j log(p_j / (1/1000)), p = the normalised histogram
--     of predicted triples, u = uniform over the 1000 triples, natural log, terms
--     with p_j = 0 omitted.  This is the direction of PacGAN's code
--     (log_metrics: `kl = JSD().KLD(p, q)`, q = [1/1000] * 1000; KLD(p, q) =
--     sum p log(p / q)), printed as "KL" in PacGAN's Tables 2 and 3: the
--     generated distribution against the true (uniform) one.
--     It equals log(1000) - H(p): 0 for a perfectly uniform histogram,
--     log(1000) = 6.908 when all samples fall in one mode.  Note its
--     finite-sample floor: even exact real data scores E[kl] ~ 999 / (2 N)
--     (0.019 at N = 26,000), and fewer than 1000 modes at small N.  Real
--     stacked digits through our classifier (seed 5): 1000 modes, kl 0.025 at
--     N = 26,000; 991 modes, kl 0.117 at N = 5,000 (the true labels: 993, 0.113;
--     expected from the pool's digit frequencies: 992.1 modes).
local lg = require "luagan"
local nn = lg.nn

local sm = {}

sm.MODES = 1000

-- {====================================================== data

-- sm.dataset{split = "all" | "train" | "test", name = "mnist"}: the digit pool
-- (lg.data.load; "all" = train + test, PacGAN's pool) as [N, 1, 28, 28] in [-1, 1].
function sm.dataset(o)
  o = o or {}
  local name, split = o.name or "mnist", o.split or "all"
  local images, labels
  if split == "all" then
    local a, b = lg.data.load(name, "train"), lg.data.load(name, "test")
    images = lg.cat({a.images, b.images}, 1)
    labels = lg.cat({a.labels, b.labels}, 1)
    name = a.name
  else
    local d = lg.data.load(name, split)
    images, labels, name = d.images, d.labels, d.name
  end
  local ds = {images = images, labels = labels, n = images:size(1), name = name,
              modes_total = sm.MODES}
  -- 3 n uniform indices into the pool, as a Lua list (the Loader's way of indexing)
  local function indices(n)
    local u, idx, N = lg.rand(3 * n):totable(), {}, ds.n
    for i = 1, 3 * n do idx[i] = math.min(N, math.floor(u[i] * N) + 1) end
    return idx
  end
  function ds:sample(n)
    return self.images:index_select(1, indices(n)):reshape(n, 3, 28, 28)
  end
  -- the images and their true triples (labels 0..9 per channel, a Lua list of {a, b, c})
  function ds:sample_labelled(n)
    local idx = indices(n)
    local lab = self.labels:index_select(1, idx):totable()
    local triples = {}
    for i = 1, n do
      triples[i] = {lab[3 * i - 2] - 1, lab[3 * i - 1] - 1, lab[3 * i] - 1}
    end
    return self.images:index_select(1, idx):reshape(n, 3, 28, 28), triples
  end
  return ds
end

-- }======================================================

-- {====================================================== networks

-- PacGAN's stacked-MNIST networks, the DCGAN of carpedm20/DCGAN-tensorflow at
-- 28 px (model.py: `generator`, `discriminator`; ops.py conv2d / deconv2d are
-- 5 x 5, stride 2, 'SAME', with biases; N(0, 0.02) weights; BN eps 1e-5).
--   D: conv ndf -> LReLU(0.2), conv 2 ndf -> BN -> LReLU, conv 4 ndf -> BN ->
--      LReLU, conv 8 ndf -> BN -> LReLU (28 -> 14 -> 7 -> 4 -> 2), linear -> 1 logit.
--   G: linear z -> 8 ngf x 2 x 2 -> BN -> ReLU, deconv 4 ngf (4 x 4), 2 ngf (7 x 7),
--      ngf (14 x 14) each BN + ReLU, deconv -> out_channels (28 x 28), tanh.
-- TF's 'SAME' padding for k5 s2 is asymmetric (0 before, 1 after at 28 px);
-- here padding 2 on both sides, with output_padding in G to hit the sizes.
-- The paper's width is ngf = ndf = 64 (gf_dim, df_dim).
function sm.G(o)
  local nz, ngf, c = o.nz or 100, o.ngf or 64, o.out_channels or 3
  local G = nn.Sequential(
    nn.Linear(nz, ngf * 8 * 2 * 2), nn.Reshape(ngf * 8, 2, 2), nn.BatchNorm2d(ngf * 8), nn.ReLU())
  local plan = {{ngf * 4, 1}, {ngf * 2, 0}, {ngf, 1}, {c, 1}}   -- {cout, output_padding}
  local cin = ngf * 8
  for i, p in ipairs(plan) do
    G:add(nn.ConvTranspose2d(cin, p[1], 5, {stride = 2, padding = 2, output_padding = p[2]}))
    if i < #plan then
      G:add(nn.BatchNorm2d(p[1]))
      G:add(nn.ReLU())
    else
      G:add(nn.Tanh())
    end
    cin = p[1]
  end
  G:apply(nn.init.dcgan)
  return G
end

function sm.D(o)
  local ndf, c = o.ndf or 64, o.channels or 3
  local D = nn.Sequential()
  local cin = c
  for i = 1, 4 do
    local cout = ndf * 2 ^ (i - 1) // 1
    cout = math.tointeger(cout)
    D:add(nn.Conv2d(cin, cout, 5, {stride = 2, padding = 2}))
    if i > 1 then D:add(nn.BatchNorm2d(cout)) end
    D:add(nn.LeakyReLU(0.2))
    cin = cout
  end
  D:add(nn.Flatten())
  D:add(nn.Linear(cin * 2 * 2, 1))
  D:apply(nn.init.dcgan)
  return D
end

-- }======================================================

-- {====================================================== evaluation

-- modes and KL(p || uniform) from a histogram {1000 counts}
function sm.score_counts(counts)
  local total, modes = 0, 0
  for _, c in ipairs(counts) do total = total + c end
  if total == 0 then return 0, math.log(#counts) end
  local kl = 0
  for _, c in ipairs(counts) do
    if c > 0 then
      modes = modes + 1
      local p = c / total
      kl = kl + p * math.log(p * #counts)
    end
  end
  return modes, kl
end

-- [n] 1-based labels (float tensor) -> one-hot [n, 10]
local function onehot(idx, n)
  return lg.one_hot(idx:view(n), 10)
end

-- ev = sm.Evaluator(metrics, {n = 26000, chunk = 500})
--   metrics: a luagan.image_metrics object (im.load("mnist")).
function sm.Evaluator(metrics, o)
  o = o or {}
  local ev = {metrics = metrics, n = o.n or 26000, chunk = o.chunk or 500}
  -- histogram [1000] (as a [100, 10] tensor) of the predicted triples of x [b, 3, 28, 28]
  -- and the sum over its samples and channels of the classifier's top probability
  function ev:_hist(x)
    local b = x:size(1)
    local oh, conf = {}, 0
    for k = 1, 3 do
      local ch = x:narrow(2, k, 1):contiguous()
      local top, idx = self.metrics:predict(ch):max(2)
      oh[k] = onehot(idx, b)
      conf = conf + top:sum():item()
    end
    -- joint counts: [b, 100] outer product of channels 1 and 2, times channel 3
    local ab = (oh[1]:view(b, 10, 1) * oh[2]:view(b, 1, 10)):reshape(b, 100)
    return ab:t():matmul(oh[3]), conf       -- [100, 10]: (10 a + b, c)
  end
  -- {modes, kl, counts, n, top_share = largest mode's share, conf = mean top
  -- probability of the classifier over samples and channels (not part of the
  -- protocol: a rough quality signal, as the protocol labels any image)}
  function ev:_finish(hist, conf, n)
    local t = hist:reshape(1000):totable()
    local counts = {}
    for j = 1, 1000 do counts[j] = math.floor(t[j] + 0.5) end
    local modes, kl = sm.score_counts(counts)
    local top = 0
    for j = 1, 1000 do top = math.max(top, counts[j]) end
    return {modes = modes, kl = kl, counts = counts, n = n, top_share = top / n, conf = conf / (3 * n)}
  end
  function ev:_accumulate(n, batch_of)
    local hist, conf = lg.zeros(100, 10), 0
    lg.no_grad(function()
      for s = 1, n, self.chunk do
        local h, c = self:_hist(batch_of(s, math.min(self.chunk, n - s + 1)))
        hist, conf = hist + h, conf + c
      end
    end)
    return self:_finish(hist, conf, n)
  end
  -- images [N, 3, 28, 28] in [-1, 1]
  function ev:score(x)
    x = x:detach()
    return self:_accumulate(x:size(1), function(s, len) return x:narrow(1, s, len) end)
  end
  -- G's samples on the noise z [N, nz], in chunks, G in eval mode
  function ev:score_generator(G, z)
    local was = G.training
    G:eval()
    local ok, r = pcall(self._accumulate, self, z:size(1), function(s, len) return G(z:narrow(1, s, len)) end)
    if was then G:train() end
    if not ok then error(r, 0) end
    return r
  end
  return ev
end

-- }======================================================

-- {====================================================== the loop

-- sm.train(run, t) -> summary.  t: G, D (packed), optG, optD, ds, noise(n),
-- pack, batch, g_steps, eval_every, ev (sm.Evaluator), z_eval (fixed noise).
-- One iteration (PacGAN's code, model.py train): one D step on a pure-real and
-- a pure-fake batch of `batch` packed items (pack x batch samples each), then
-- g_steps G steps on the same noise (the code runs g_optim twice, "to make sure
-- that d_loss does not go to zero"); non-saturating G loss.  Evaluations at
-- iteration 1, every eval_every and at the last.
function sm.train(run, t)
  local cfg = run.config
  local G, D, optG, optD, ds = t.G, t.D, t.optG, t.optD, t.ds
  local loss = lg.gan.non_saturating
  local n = t.pack * t.batch
  local eval_state = {evals = 0}
  run:track{G = G, D = D, optG = optG, optD = optD, eval = eval_state}
  local z_show = t.z_eval:narrow(1, 1, math.min(64, t.z_eval:size(1)))
  run:sampler(function()
    local was = G.training
    G:eval()
    local x = G(z_show)
    if was then G:train() end
    return x
  end)
  local last
  for it in run:iterations() do
    local z = t.noise(n)
    local real = ds:sample(n)
    local fake = lg.no_grad(function() return G(z) end)
    local lossD = loss.d(D(real), D(fake))
    optD:zero_grad()
    lossD:backward()
    optD:step()
    local lossG
    for _ = 1, t.g_steps do
      lossG = loss.g(D(G(z)))
      local gs = lg.grad(lossG, optG.params)
      for i, p in ipairs(optG.params) do p.grad = gs[i] end
      optG:step()
    end
    local row = {lossD = lossD:item(), lossG = lossG:item()}
    if it == 1 or it % t.eval_every == 0 or it == cfg.iters then
      local now = lg.clock()
      local _, _, rate = run:speed()   -- the run's it/s so far, evaluations included
      local c = t.ev:score_generator(G, t.z_eval)
      eval_state.evals = eval_state.evals + 1
      row.modes, row.kl, row.top_share, row.conf = c.modes, c.kl, c.top_share, c.conf
      print(("%s: iter %d  modes %d/1000  kl %.3f  top mode %.1f%%  conf %.3f  (eval %.1f s)%s"):format(
        run.name, it, c.modes, c.kl, 100 * c.top_share, c.conf, lg.clock() - now,
        rate and ("  %.2f it/s"):format(rate) or ""))
      io.stdout:flush()
      last = c
    end
    run:log(row)
  end
  local done, seconds, ips = run:speed()
  local c = last or t.ev:score_generator(G, t.z_eval)
  local s = {modes = c.modes, kl = c.kl, top_share = c.top_share, conf = c.conf, evals = eval_state.evals,
             modes_total = sm.MODES, seconds = seconds,
             ips = done > 0 and ips or nil}
  print(("%s: final  modes %d/1000  kl %.3f"):format(run.name, s.modes, s.kl))
  return s
end

-- }======================================================

return sm
