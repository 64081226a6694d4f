-- simgan.lua: Shrivastava, Pfister, Tuzel, Susskind, Wang and Webb, "Learning from Simulated
-- and Unsupervised Images through Adversarial Training" (SimGAN, CVPR 2017).
--
-- A refiner R makes simulator images look real, using unlabelled real images, while keeping
-- the simulator's labels: a local (per-patch) adversarial loss plus lambda * |R(x) - x|_1
-- (the paper's eq. 4), with D trained on a history of refined images (sec. 2.3). The
-- simulator is a known degradation of Fashion-MNIST (blur, low contrast), so how close R gets
-- to the clean image can be measured; at the end a classifier trained on refined images and
-- one trained on synthetic images are tested on the real test set. Notes: notes/simgan.md.
--
--   luagan experiments/simgan.lua [--dataset fashion|mnist10k|mnist] [--iters N]
--          [--lambda X] [--history true|false] [--local_d true|false] [--kg N] [--kd N] ...
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local im = require "luagan.image_metrics"
local History = require "lib.history"

local run = lg.experiment{
  name = "simgan", iters = 2700, batch = 64, dataset = {"fashion", "mnist10k", "mnist"},
  sample_every = 500, checkpoint_every = 1000,
  width = 16, blocks = 3, lambda = 0.5, lr = 2e-4, opt = {"adam", "sgd"},
  kg = 2, kd = 1, pretrain_r = 1000, pretrain_d = 200,
  history = true, history_size = 6400, local_d = true,
  blur = 1.0, contrast = 0.6, offset = 0.2,
  eval_every = 250, eval_n = 500, clf_steps = 1000, clf_images = 0,
  doc = {iters = "all steps: pretrain_r + pretrain_d, then adversarial rounds of kg R and kd D steps",
         width = "refiner channels", blocks = "refiner residual blocks (two 3x3 convs each)",
         lambda = "weight of the self-regularisation L1 (mean per pixel); 0 is the ablation",
         lr = "learning rate of R and D", opt = "adam (beta1 0.5) or sgd (as the paper is quoted)",
         kg = "refiner steps per round (K_g)", kd = "discriminator steps per round (K_d)",
         pretrain_r = "first steps: R on the L1 term alone", pretrain_d = "then D steps alone",
         history = "half of D's refined batch from a buffer of earlier refined images",
         history_size = "images in the history buffer", local_d = "per-patch logits (false: one logit per image)",
         blur = "simulator: Gaussian blur sigma in pixels", contrast = "simulator: contrast factor",
         offset = "simulator: grey offset (on [0, 1] pixels)",
         eval_every = "evaluate the refinement error every N steps", eval_n = "images in the evaluation batch",
         clf_steps = "Adam steps of each downstream classifier", clf_images = "synthetic training images (0: all)",
         dataset = "fashion (make datasets), mnist10k (shipped) or mnist"},
}
local cfg = run.config
if cfg.iters < cfg.pretrain_r + cfg.pretrain_d then
  run:fail(("--iters %d is below --pretrain_r + --pretrain_d (%d)"):format(cfg.iters, cfg.pretrain_r + cfg.pretrain_d))
end
if cfg.kg < 1 or cfg.kd < 1 then run:fail("--kg and --kd must be >= 1") end
if cfg.batch < 2 or cfg.batch % 2 ~= 0 then run:fail("--batch must be even") end
if cfg.history and cfg.history_size < cfg.batch then run:fail("--history_size must be >= --batch") end

-- {---------------------------------------------------------- data and the simulator
-- Real images: the first half of the training split (labels unused). Synthetic images: the
-- simulator applied to the second half, which keeps its labels.
local ok, train = pcall(lg.data.load, cfg.dataset, "train")
if not ok then run:fail(train) end
local test = lg.data.load(cfg.dataset, "test")
local half = train.n // 2
local real = train.images:narrow(1, 1, half)
local clean = train.images:narrow(1, half + 1, train.n - half)
local labels = train.labels:narrow(1, half + 1, train.n - half)

local function gaussian_kernel(sigma)
  local r = math.max(1, math.ceil(2 * sigma))
  local k = lg.arange(-r, r + 1)
  k = (-(k * k) / (2 * sigma * sigma)):exp()
  k = k / k:sum()
  return k:view(2 * r + 1, 1):matmul(k:view(1, 2 * r + 1)):view(1, 1, 2 * r + 1, 2 * r + 1), r
end
local kernel, radius = gaussian_kernel(cfg.blur)

-- images in [-1, 1] -> their degraded version, blurred and shifted on [0, 1] pixels
local function simulate(x)
  return lg.no_grad(function()
    local p = (x + 1) / 2
    if cfg.blur > 0 then p = lg.conv2d(p, kernel, nil, {padding = radius}) end
    return (p * cfg.contrast + cfg.offset) * 2 - 1
  end)
end
local synthetic = simulate(clean)
local real_loader = lg.data.Loader(real, {batch = cfg.batch})
local syn_loader = lg.data.Loader({synthetic, clean}, {batch = cfg.batch})
local eval_idx = lg.arange(1, math.min(cfg.eval_n, synthetic:size(1)) + 1)
local eval_syn, eval_clean = synthetic:index_select(1, eval_idx), clean:index_select(1, eval_idx)
local eval_labels = labels:index_select(1, eval_idx)
-- }

-- {---------------------------------------------------------- models
-- R: fully convolutional, no striding (sec. 3.1): conv 3x3, residual blocks, conv 1x1, tanh.
local Block = nn.Module:extend("ResBlock")
function Block:init(c)
  self.conv1, self.conv2 = nn.Conv2d(c, c, 3, {padding = 1}), nn.Conv2d(c, c, 3, {padding = 1})
end
-- (x + conv2(relu(conv1(x)))):relu(), the adds and ReLUs fused into the convs
function Block:forward(x)
  return self.conv2(self.conv1(x, {act = "relu"}), {add = x, act = "relu"})
end

local R = nn.Sequential(nn.Conv2d(1, cfg.width, 3, {padding = 1}), nn.ReLU())
for _ = 1, cfg.blocks do R:add(Block(cfg.width)) end
R:add(nn.Conv2d(cfg.width, 1, 1)):add(nn.Tanh())

-- D: the paper's layer plan (conv s2, conv s2, max-pool 3x3, conv, 1x1 convs) at a quarter of
-- its widths; a 7x7 map of logits, one per patch, or with --local_d false one per image.
local D = nn.Sequential(
  nn.Conv2d(1, 24, 3, {stride = 2, padding = 1}), nn.ReLU(),     -- 14x14
  nn.Conv2d(24, 16, 3, {stride = 2, padding = 1}), nn.ReLU(),    -- 7x7
  nn.MaxPool2d(3, {stride = 1, padding = 1}),
  nn.Conv2d(16, 8, 3, {padding = 1}), nn.ReLU(),
  nn.Conv2d(8, 8, 1), nn.ReLU(),
  nn.Conv2d(8, 1, 1))
if not cfg.local_d then D:add(nn.Flatten()):add(nn.Linear(49, 1)) end

local function make_opt(params)
  if cfg.opt == "sgd" then return optim.SGD(params, {lr = cfg.lr}) end
  return optim.Adam(params, {lr = cfg.lr, betas = {0.5, 0.999}})
end
local optR, optD = make_opt(R:parameters()), make_opt(D:parameters())
local loss = gan.non_saturating   -- D's logit says "real"; R minimises -log D(R(x)) (eq. 2)
-- D's refined batch: half current, half from the history of refined images (sec. 2.3)
local hist = History(cfg.history_size, {1, 28, 28})
-- }

-- {---------------------------------------------------------- evaluation
local oracle = im.for_dataset(cfg.dataset)
local function evaluate()
  return lg.no_grad(function()
    R:eval()
    local refined = R(eval_syn)
    R:train()
    local row = {l1_synthetic = (eval_syn - eval_clean):abs():mean(),
                 l1_refined = (refined - eval_clean):abs():mean(),
                 keep_clean = -1, keep_synthetic = -1, keep_refined = -1}   -- -1: no oracle classifier
    if oracle then
      row.keep_clean = oracle:accuracy(eval_clean, eval_labels)
      row.keep_synthetic = oracle:accuracy(eval_syn, eval_labels)
      row.keep_refined = oracle:accuracy(refined, eval_labels)
    end
    return row
  end)
end

-- a classifier (image_metrics' CNN) trained on images with labels, tested on the real test set
local function downstream(images, ys)
  local net = im.Classifier()
  local opt = optim.Adam(net:parameters(), {lr = 1e-3})
  local loader = lg.data.Loader({images, ys}, {batch = 64})
  for _ = 1, cfg.clf_steps do
    local x, y = table.unpack(loader:next())
    local l = lg.cross_entropy(net(x), y)
    opt:zero_grad()
    l:backward()
    opt:step()
  end
  net:eval()
  return lg.no_grad(function()
    local _, pred = net(test.images):max(2)
    return pred:view(-1):eq(test.labels):mean():item()
  end)
end

local function refine_all(x)
  return lg.no_grad(function()
    R:eval()
    local parts = {}
    for s = 1, x:size(1), 500 do parts[#parts + 1] = R(x:narrow(1, s, math.min(500, x:size(1) - s + 1))) end
    R:train()
    return lg.cat(parts, 1)
  end)
end
-- }

run:track{R = R, D = D, optR = optR, optD = optD, real = real_loader, syn = syn_loader, hist = hist}
local show = eval_syn:narrow(1, 1, 16)
run:sampler(function()   -- rows: synthetic, refined, clean
  R:eval()
  local x = lg.cat({show, R(show), eval_clean:narrow(1, 1, 16)}, 1)
  R:train()
  return x
end)

print(("simgan: %s, %d real / %d synthetic images, R %d / D %d parameters, batch %d, lambda %g, %s")
  :format(train.name, real:size(1), synthetic:size(1), R:num_parameters(), D:num_parameters(),
          cfg.batch, cfg.lambda, cfg.history and "history" or "no history"))

local function r_step(adversarial)
  local x = syn_loader:next()[1]
  local refined = R(x)
  local reg = (refined - x):abs():mean()
  local lossR = cfg.lambda * reg
  local adv
  if adversarial then
    adv = loss.g(D(refined))
    lossR = lossR + adv
  end
  optR:zero_grad()
  lossR:backward()
  optR:step()
  return reg, adv, refined
end

local function d_step()
  local refined = lg.no_grad(function() return R(syn_loader:next()[1]) end)
  local sr, sf = D(real_loader:next()), D(cfg.history and hist:mix(refined) or refined)
  local lossD = loss.d(sr, sf)
  optD:zero_grad()
  lossD:backward()
  optD:step()
  return lossD, sr:sigmoid():mean(), sf:sigmoid():mean()
end

local adv_start = cfg.pretrain_r + cfg.pretrain_d
local COLUMNS = {"reg", "lossR", "lossD", "D_real", "D_refined", "l1_synthetic", "l1_refined",
                 "keep_clean", "keep_synthetic", "keep_refined", "acc_synthetic", "acc_refined"}
for it in run:iterations() do
  local row = {phase = it <= cfg.pretrain_r and 0 or it <= adv_start and 1 or 2}
  if it == 1 then   -- the first row fixes metrics.csv's columns: name them all
    for _, k in ipairs(COLUMNS) do row[k] = "" end
  end
  if it <= cfg.pretrain_r then
    row.reg = r_step(false)
  elseif it <= adv_start then
    row.lossD, row.D_real, row.D_refined = d_step()
  else
    for _ = 1, cfg.kg do row.reg, row.lossR = r_step(true) end
    for _ = 1, cfg.kd do row.lossD, row.D_real, row.D_refined = d_step() end
  end
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
  end
  if it == cfg.iters then   -- Training on refined images (sec. 4.1, Table 2), scaled down
    local n = cfg.clf_images > 0 and math.min(cfg.clf_images, synthetic:size(1)) or synthetic:size(1)
    local xs, ys = synthetic:narrow(1, 1, n), labels:narrow(1, 1, n)
    row.acc_synthetic = downstream(xs, ys)
    row.acc_refined = downstream(refine_all(xs), ys)
    print(("simgan: test accuracy of a classifier trained on synthetic %.4f, on refined %.4f")
      :format(row.acc_synthetic, row.acc_refined))
  end
  run:log(row)
end
