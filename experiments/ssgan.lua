-- ssgan.lua: semi-supervised GANs on MNIST with few labels. Salimans, Goodfellow, Zaremba,
-- Cheung, Radford and Chen, "Improved Techniques for Training GANs" (NIPS 2016, sec. 5):
-- a K-class D whose fake class is implicit (D(x) = Z/(Z+1), Z = sum_k exp l_k), trained on
-- cross-entropy over the labelled batch plus the GAN loss, G by feature matching (sec. 3.1);
-- Gaussian noise and weight normalisation in D, Polyak-averaged weights at test. Odena,
-- "Semi-Supervised Learning with GANs" (2016): an explicit (K+1)-th class, G non-saturating.
-- --method supervised is the baseline: the same D trained on the labelled images alone.
-- Every arm has the same D, schedule and test-time averaging; test_acc is the accuracy of
-- the averaged D on the held-out test split. Notes: experiments/notes/ssgan.md.
--
--   luagan experiments/ssgan.lua [--method salimans|odena|supervised] [--labels N]
--          [--iters N] [--dataset mnist10k|mnist] [--hidden 250,125,125] ... (--help)
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local run = lg.experiment{
  name = "ssgan", iters = 1000, batch = 100, dataset = {"mnist10k", "mnist"},
  sample_every = 500, checkpoint_every = 500,
  method = {"salimans", "odena", "supervised"}, labels = 100,
  hidden = "250,125,125", g_hidden = 250, nz = 100,
  lr = 3e-3, beta1 = 0.5, unl_weight = 1.0, noise_in = 0.3, noise_hidden = 0.5,
  polyak = 0.995, data_init = true, eval_every = 100,
  doc = {method = "salimans (implicit fake class, feature matching), odena (K+1 classes) or supervised (labels only)",
         labels = "labelled training images, the same number per class, chosen by the seed",
         hidden = "widths of D's hidden layers, comma separated (feature matching uses the last)",
         g_hidden = "width of G's two hidden layers", nz = "noise dimension (U(0,1) noise)",
         lr = "Adam learning rate of D and G", beta1 = "Adam beta1",
         unl_weight = "weight of the unsupervised (GAN) term in D's loss",
         noise_in = "sigma of D's input noise", noise_hidden = "sigma of the noise after D's hidden layers",
         polyak = "decay of the Polyak average of D's weights used at test (0: the weights themselves)",
         data_init = "data-dependent init of D's weight-normalised layers (Salimans and Kingma 2016, sec. 3)",
         eval_every = "test accuracy every N iterations",
         dataset = "mnist10k (shipped: 9,001 train / 999 test) or mnist (datasets/mnist)"},
}
local cfg = run.config
local K = 10
local hidden = {}
for w in cfg.hidden:gmatch("[^,]+") do hidden[#hidden + 1] = math.tointeger(tonumber(w)) or run:fail("--hidden: integers separated by commas") end
if #hidden < 1 then run:fail("--hidden needs at least one width") end
if cfg.labels < K or cfg.labels % K ~= 0 then run:fail(("--labels must be a positive multiple of %d, got %d"):format(K, cfg.labels)) end
if cfg.polyak < 0 or cfg.polyak >= 1 then run:fail("--polyak must be in [0, 1)") end

-- {---------------------------------------------------------- data
-- Pixels in [0, 1], flat (the permutation-invariant task). The labelled set: labels/K images
-- per class from a seeded permutation of the training split; every training image is
-- unlabelled data. The test split is used for test_acc only.
local ok, train = pcall(lg.data.load, cfg.dataset, "train")
if not ok then run:fail(train) end
local test = lg.data.load(cfg.dataset, "test")
local function flat01(x) return ((x + 1) / 2):reshape(x:size(1), 784) end
local x_train, x_test = flat01(train.images), flat01(test.images)
local y_train, y_test = train.labels:reshape(train.n), test.labels:reshape(test.n)

local function pick_labelled(per_class)
  local _, perm = lg.rand(train.n):sort()
  local ys, take, count = y_train:totable(), {}, {}
  for _, i in ipairs(perm:totable()) do
    local c = ys[i]
    count[c] = (count[c] or 0) + 1
    if count[c] <= per_class then take[#take + 1] = i end
  end
  if #take < per_class * K then run:fail("the training split has too few images of some class") end
  table.sort(take)
  return lg.tensor(take)
end
local lab_idx = pick_labelled(cfg.labels // K)
local x_lab, y_lab = x_train:index_select(1, lab_idx), y_train:index_select(1, lab_idx)
-- batches of cfg.batch drawn from copies of the labelled set (the authors' code cycles it)
local function tiled(t, n)
  local parts = {}
  for i = 1, n do parts[i] = t end
  return lg.cat(parts, 1)
end
local copies = -(-cfg.batch // cfg.labels)
local lab_loader = lg.data.Loader({tiled(x_lab, copies), tiled(y_lab, copies)}, {batch = cfg.batch})
local unl_loader = lg.data.Loader(x_train, {batch = cfg.batch})
local fm_loader = lg.data.Loader(x_train, {batch = cfg.batch})   -- G's real batch, drawn apart
-- }

-- {---------------------------------------------------------- models
-- D (the authors' MNIST code at reduced widths): noise 0.3 on the input, then weight-normalised
-- ReLU layers each followed by noise 0.5, then the logits: K (salimans, supervised) or K + 1
-- (odena). D:forward returns the logits and the last hidden layer (feature matching's f).
local Disc = nn.Module:extend("SSLDiscriminator")
function Disc:init(nout)
  self.body = nn.Sequential(nn.GaussianNoise(cfg.noise_in))
  local nin = 784
  for i, w in ipairs(hidden) do
    if i > 1 then self.body:add(nn.GaussianNoise(cfg.noise_hidden)) end
    self.body:add(nn.weight_norm(nn.Linear(nin, w))):add(nn.ReLU())
    nin = w
  end
  self.head = nn.Sequential(nn.GaussianNoise(cfg.noise_hidden), nn.weight_norm(nn.Linear(nin, nout)))
end
function Disc:forward(x)
  local f = self.body(x)
  return self.head(f), f
end

-- Data-dependent init (Salimans and Kingma 2016, sec. 3; the authors' code on 500 images):
-- each weight-normalised layer in turn gets g = 1 / sd and b = -mean / sd of its
-- pre-activations over x, so that they start standardised.
local function data_init(net, x)
  lg.no_grad(function()
    local h = x
    for _, seq in ipairs{net.body, net.head} do
      for i = 1, #seq do
        local m = seq[i]
        if m._weight_norm then
          local t = m(h)
          local mu, sd = t:mean(1), (t:var(1) + 1e-8):sqrt()
          m.weight_g:copy_(m.weight_g / sd:view(-1, 1))
          m.bias:copy_(-mu / sd)
        end
        h = m(h)
      end
    end
  end)
end

local nout = cfg.method == "odena" and K + 1 or K
local D = Disc(nout)
local D_test = Disc(nout)     -- holds the Polyak average at evaluation
-- G (the authors' code): U(0,1) noise, two softplus layers with batch norm, a weight-normalised
-- sigmoid output.
local G = nn.Sequential(nn.Linear(cfg.nz, cfg.g_hidden), nn.BatchNorm1d(cfg.g_hidden), nn.Softplus(),
  nn.Linear(cfg.g_hidden, cfg.g_hidden), nn.BatchNorm1d(cfg.g_hidden), nn.Softplus(),
  nn.weight_norm(nn.Linear(cfg.g_hidden, 784)), nn.Sigmoid())
if cfg.data_init then data_init(D, unl_loader:next()) end
local function adam(m) return optim.Adam(m:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}}) end
local optD, optG = adam(D), adam(G)
local ema = optim.EMA(D, cfg.polyak)
local function noise(n) return lg.rand(n, cfg.nz) end
-- }

-- {---------------------------------------------------------- losses
-- log sum_k exp l_k over the classes (dim 2), stable
local function lse(l)
  local m = l:detach():max(2):view(-1, 1)
  return (l - m):exp():sum(2):log():view(-1) + m:view(-1)
end
local function real_part(l) return l:narrow(2, 1, K) end   -- odena: the K real classes

-- salimans (the authors' code): L_unl = -log D(x) - log(1 - D(G(z))) with D = sigma(lse(l)),
-- halved; odena: cross-entropy over K + 1 classes, unlabelled real images on -log(1 - p_fake)
local unsup = {
  salimans = function(l_unl, l_fake)
    local a, b = lse(l_unl), lse(l_fake)
    return ((-a):mean() + a:softplus():mean() + b:softplus():mean()) * 0.5
  end,
  odena = function(l_unl, l_fake)
    local real = (lse(l_unl) - lse(real_part(l_unl))):mean()            -- -log(1 - p_{K+1}(x))
    local fake = (lse(l_fake) - l_fake:narrow(2, K + 1, 1):view(-1)):mean()   -- -log p_{K+1}(G(z))
    return (real + fake) * 0.5
  end,
}

local function d_step()
  local xl, yl = table.unpack(lab_loader:next())
  local l_lab = D(xl)
  local loss_lab = lg.cross_entropy(l_lab, yl)   -- odena: over K + 1 classes, labels in 1..K
  local loss, loss_unl = loss_lab, nil
  if cfg.method ~= "supervised" then
    local fake = lg.no_grad(function() return G(noise(cfg.batch)) end)
    loss_unl = unsup[cfg.method](D(unl_loader:next()), D(fake))
    loss = loss + loss_unl * cfg.unl_weight
  end
  optD:zero_grad()
  loss:backward()
  optD:step()
  ema:update()
  local _, pred = real_part(l_lab):detach():max(2)
  return loss_lab:item(), loss_unl and loss_unl:item() or 0.0, 1 - pred:view(-1):eq(yl):mean():item()
end

-- G: feature matching on D's last hidden layer (salimans), or non-saturating on the fake
-- class, -log(1 - p_{K+1}(G(z))) (odena). D's gradients from this step are discarded.
local function g_step()
  local l_fake, f_fake = D(G(noise(cfg.batch)))
  local loss
  if cfg.method == "salimans" then
    local f_real = lg.no_grad(function() return select(2, D(fm_loader:next())) end)
    local d = f_fake:mean(1) - f_real:mean(1)
    loss = (d * d):mean()
  else
    loss = (lse(l_fake) - lse(real_part(l_fake))):mean()
  end
  optG:zero_grad()
  loss:backward()
  optG:step()
  D:zero_grad()
  return loss:item()
end
-- }

-- {---------------------------------------------------------- evaluation
local function accuracy(net)
  return lg.no_grad(function()
    net:eval()
    local _, pred = real_part(net(x_test)):max(2)
    net:train()
    return pred:view(-1):eq(y_test):mean():item()
  end)
end
local function evaluate()
  local acc_raw = accuracy(D)
  if cfg.polyak == 0 then return acc_raw, acc_raw end
  ema:copy_to(D_test)
  return accuracy(D_test), acc_raw
end
-- }

run:track{D = D, G = G, optD = optD, optG = optG, ema = ema, lab = lab_loader, unl = unl_loader,
          fm = fm_loader}
local z_fixed = noise(64)
run:sampler(function()
  G:eval()
  local x = G(z_fixed)
  G:train()
  return x:view(64, 1, 28, 28)
end, {range = {0, 1}})

print(("ssgan: %s, %s, %d labels, %d unlabelled / %d test images, D %s (%d parameters), G %d parameters, %d iterations")
  :format(cfg.method, train.name, cfg.labels, train.n, test.n, cfg.hidden, D:num_parameters(),
          G:num_parameters(), cfg.iters))
for it in run:iterations() do
  local row = {}
  row.loss_lab, row.loss_unl, row.train_err = d_step()
  row.loss_g = cfg.method ~= "supervised" and g_step() or 0.0
  if it == 1 then row.test_acc, row.test_acc_raw = "", "" end   -- name the columns up front
  if it % cfg.eval_every == 0 or it == cfg.iters then
    row.test_acc, row.test_acc_raw = evaluate()
  end
  run:log(row)
end
local rows = run:rows()
print(("ssgan: final test accuracy %.4f (Polyak), %.4f (last weights); %s, %d labels, seed %d")
  :format(tonumber(rows[#rows].test_acc), tonumber(rows[#rows].test_acc_raw), cfg.method, cfg.labels, cfg.seed))
