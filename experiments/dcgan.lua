-- dcgan.lua: DCGAN (Radford, Metz and Chintala, "Unsupervised Representation
-- Learning with Deep Convolutional Generative Adversarial Networks", ICLR 2016).
--
-- The DCGAN architecture and training recipe on MNIST-sized images, and the
-- paper's use of the trained D as a feature extractor (sec. 5.1): a linear
-- probe on D's features against a random D and raw pixels.
--
--   luagan experiments/dcgan.lua [--dataset mnist|mnist10k|fashion|DIR] [--size 28|32|64]
--                                [--iters N] [--probe] ... (--help)
--
-- The recipe, its scaling to a CPU and the probe: experiments/notes/dcgan.md.
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local nets = require "lib.nets"

local run = lg.experiment{
  name = "dcgan", iters = 2000, batch = 128, dataset = "mnist",
  sample_every = 500, checkpoint_every = 1000,
  size = {28, 32, 64, default = 32}, nz = 100, ngf = 16, ndf = 16, lr = 2e-4, beta1 = 0.5,
  noise = {"uniform", "normal"},
  bn_everywhere = false,
  probe = false, probe_labels = 1000, probe_steps = 300,
  doc = {size = "image size: 28, 32 or 64", nz = "noise dimension", ngf = "G width multiple",
         ndf = "D width multiple", lr = "Adam learning rate (G and D)", beta1 = "Adam beta1",
         noise = "z distribution: uniform (U[-1,1], the paper) or normal (dcgan.torch)",
         bn_everywhere = "ablation: BN also on G's output and D's input (the paper: oscillation)",
         probe = "after training, linear-probe D's features on labelled data",
         probe_labels = "labelled training images for the probe",
         probe_steps = "full-batch Adam steps of the probe classifier",
         dataset = "mnist, mnist10k, fashion, or a directory of PNG images"},
}
local cfg = run.config

-- {---------------------------------------------------------- data
local labelled = ({mnist = true, mnist10k = true, fashion = true})[cfg.dataset]
local train
if labelled then
  train = lg.data.load(cfg.dataset, "train")
  train.images = nets.to_size(train.images, cfg.size)
else
  local ok, d = pcall(lg.data.image_folder, cfg.dataset, {size = cfg.size})
  if not ok then run:fail(("--dataset %s: %s"):format(cfg.dataset, d)) end
  train = d
end
local channels = train.images:size(2)
local loader = lg.data.Loader(train.images, {batch = cfg.batch})
-- }

-- {---------------------------------------------------------- models
local G = nets.dcgan_G{size = cfg.size, nz = cfg.nz, ngf = cfg.ngf, channels = channels}
local D = nets.dcgan_D{size = cfg.size, ndf = cfg.ndf, channels = channels}
if cfg.bn_everywhere then
  -- the ablation of sec. 3: BN right after G's last conv (before Tanh) and D's first
  local function insert_after(seq, pos, m)
    local list = {}
    for i = 1, #seq do list[#list + 1] = seq[i] if i == pos then list[#list + 1] = m end end
    return nn.Sequential(table.unpack(list))
  end
  G = insert_after(G, #G - 1, nn.BatchNorm2d(channels))
  D = insert_after(D, 1, nn.BatchNorm2d(cfg.ndf))
end
G:apply(nn.init.dcgan)
D:apply(nn.init.dcgan)
-- data-parallel under mpirun (docs/distributed.md): batch norm over the global
-- batch, rank 0's weights on every rank, gradients averaged before each step
local dG, dD = lg.dist.wrap(lg.dist.sync_batchnorm(G)), lg.dist.wrap(lg.dist.sync_batchnorm(D))
local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local loss = gan.non_saturating

local function noise(n)
  if cfg.noise == "uniform" then return lg.rand(n, cfg.nz) * 2 - 1 end
  return lg.randn(n, cfg.nz)
end
local z_fixed = noise(64)
-- }

run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
run:sampler(function()
  G:eval()
  local x = G(z_fixed)
  G:train()
  return x
end)

print(("dcgan: %s at %d px (%d images), G %d / D %d parameters, batch %d"):format(cfg.dataset,
  cfg.size, train.n, G:num_parameters(), D:num_parameters(), cfg.batch))
for it in run:iterations() do
  -- D: a pure-real batch and a pure-fake batch (dcgan.torch), loss BCE(real, 1) + BCE(fake, 0)
  -- every rank draws the global batch and keeps its share (all of it in one process)
  local real = lg.dist.shard(loader:next())
  local fake = G(lg.dist.shard(noise(cfg.batch)))
  local sr, sf = D(real), D(fake:detach())
  local lossD = loss.d(sr, sf)
  optD:zero_grad()
  lossD:backward()
  dD:sync_grads()
  optD:step()
  -- G: non-saturating -log D(G(z)) on the same fake batch, D re-run after its step
  local sg = D(fake)
  local lossG = loss.g(sg)
  optG:zero_grad()
  lossG:backward()
  dG:sync_grads()
  optG:step()
  run:log{lossD = lossD, lossG = lossG, D_real = sr:sigmoid():mean(), D_fake = sf:sigmoid():mean()}
end

-- {---------------------------------------------------------- linear probe
if not cfg.probe then return end
if not labelled then
  print("dcgan: --probe needs a labelled data set (mnist, mnist10k or fashion); skipped")
  return
end

-- max-pool a [N,C,H,W] map to at most 4x4 and flatten it
local function pooled(x)
  local h = x:size(3)
  if h > 4 then
    local k = (h + 3) // 4
    local pad = math.max(0, (4 * k - h + 1) // 2)
    x = lg.max_pool2d(x, k, {stride = k, padding = pad})
  end
  return x:reshape(x:size(1), -1)
end

-- features of images [N,...] in chunks: kind "all", "last" or "pixels"
local function features(net, images, kind)
  local n, parts = images:size(1), {}
  lg.no_grad(function()
    for s = 1, n, 500 do
      local x = images:narrow(1, s, math.min(500, n - s + 1))
      if kind == "pixels" then
        parts[#parts + 1] = x:reshape(x:size(1), -1)
      else
        local f = nets.features(net, x)
        if kind == "last" then
          parts[#parts + 1] = f[#f]:reshape(x:size(1), -1)
        else
          local cols = {}
          for i, t in ipairs(f) do cols[i] = pooled(t) end
          parts[#parts + 1] = lg.cat(cols, 2)
        end
      end
    end
  end)
  return lg.cat(parts, 1)
end

-- accuracy of logits [N,K] against labels [N] (1-based), in tensor ops
local function accuracy(logits, labels)
  local _, pred = logits:max(2)
  return pred:view(-1):eq(labels):mean():item()
end

-- L2-regularised multinomial logistic regression, full-batch Adam
local function fit(xtr, ytr, wd)
  local clf = nn.Linear(xtr:size(2), 10)
  local opt = optim.Adam(clf:parameters(), {lr = 1e-2, weight_decay = wd})
  for _ = 1, cfg.probe_steps do
    local l = lg.cross_entropy(clf(xtr), ytr)
    opt:zero_grad()
    l:backward()
    opt:step()
  end
  return clf
end

local function probe(ftr, ytr, fte, yte)
  -- standardise with the labelled set's statistics
  local mu, sd = ftr:mean(1, true), ((ftr - ftr:mean(1, true)) ^ 2):mean(1, true):sqrt() + 1e-6
  ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
  local n = ftr:size(1)
  local nval = n // 5
  local best, best_wd = -1, nil
  for _, wd in ipairs{1e-4, 1e-3, 1e-2} do
    local clf = fit(ftr:narrow(1, nval + 1, n - nval), ytr:narrow(1, nval + 1, n - nval), wd)
    local acc = lg.no_grad(function() return accuracy(clf(ftr:narrow(1, 1, nval)), ytr:narrow(1, 1, nval)) end)
    if acc > best then best, best_wd = acc, wd end
  end
  local clf = fit(ftr, ytr, best_wd)
  return lg.no_grad(function() return accuracy(clf(fte), yte) end), best_wd
end

local nl = math.min(cfg.probe_labels, train.n)
local test = lg.data.load(cfg.dataset, "test")
local xtr, ytr = train.images:narrow(1, 1, nl), train.labels:narrow(1, 1, nl)
local xte, yte = nets.to_size(test.images, cfg.size), test.labels
D:eval()
local Drand = nets.dcgan_D{size = cfg.size, ndf = cfg.ndf, channels = channels}
Drand:apply(nn.init.dcgan)
Drand:eval()
local rows = {}
local function entry(name, net, kind)
  local t = lg.clock()
  local acc, wd = probe(features(net, xtr, kind), ytr, features(net, xte, kind), yte)
  rows[#rows + 1] = {name, kind, acc, wd}
  print(("probe: %-9s %-6s features: test accuracy %.2f%% (L2 %g; %d labels, %d test; %.1f s)")
    :format(name, kind, 100 * acc, wd, nl, test.n, lg.clock() - t))
end
entry("trained_D", D, "all")
entry("random_D", Drand, "all")
entry("trained_D", D, "last")
entry("random_D", Drand, "last")
entry("pixels", nil, "pixels")
local probe = {"features,kind,test_accuracy,l2\n"}
for _, r in ipairs(rows) do probe[#probe + 1] = ("%s,%s,%.6f,%g\n"):format(r[1], r[2], r[3], r[4]) end
run:write("probe.csv", table.concat(probe))
print("probe: " .. run.dir .. "/probe.csv")
