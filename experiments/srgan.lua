-- srgan.lua: Ledig, Theis, Huszar, Caballero, Cunningham, Acosta, Aitken, Tejani, Totz, Wang
-- and Shi, "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial
-- Network" (SRGAN, CVPR 2017).
--
-- 4x super-resolution of Fashion-MNIST (7x7 -> 28x28; the low-resolution image is the 4x4
-- average of the target). A residual generator with sub-pixel upsampling (SRResNet) is trained
-- on pixel MSE; from its weights at --pretrain steps, SRGAN continues with a content loss on the
-- feature maps of a classifier trained here plus --adv_weight x the adversarial loss, while the
-- SRResNet copy continues on MSE for as many steps. Both are judged against bicubic upsampling
-- on PSNR, SSIM and the perceptual side: FID-lite (luagan.image_metrics), the oracle's accuracy
-- and the high-frequency energy. Notes: notes/srgan.md.
--
--   luagan experiments/srgan.lua [--dataset fashion|mnist10k|mnist] [--iters N] [--pretrain N]
--          [--content features|mse] [--adv_weight X] [--width N] [--blocks N] ...
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local im = require "luagan.image_metrics"
local SR = require "lib.sr_metrics"

local run = lg.experiment{
  name = "srgan", iters = 2000, batch = 16, dataset = {"fashion", "mnist10k", "mnist"},
  sample_every = 500, checkpoint_every = 1000,
  pretrain = 1000, width = 16, blocks = 4, lr = 1e-3, decay = true, adv_weight = 1e-3,
  content = {"features", "mse"}, phi_steps = 400,
  eval_every = 200, eval_n = 1000,
  doc = {iters = "generator steps of each arm: --pretrain on MSE, then SRGAN and SRResNet side by side",
         pretrain = "SRResNet steps on pixel MSE before SRGAN starts from its weights",
         width = "generator channels", blocks = "generator residual blocks",
         lr = "Adam learning rate of every net (beta1 0.9, the paper's)",
         decay = "the paper's schedule: the second half of the SRGAN phase at --lr / 10, every net",
         adv_weight = "weight of the adversarial loss in SRGAN's perceptual loss (eq. 3)",
         content = "SRGAN's content loss: the classifier's feature maps (VGG54's analogue) or pixel MSE",
         phi_steps = "Adam steps of the content-loss classifier, trained before the loop",
         eval_every = "evaluate every N steps", eval_n = "test images per evaluation",
         dataset = "fashion (make datasets), mnist10k (shipped) or mnist"},
}
local cfg = run.config
local SCALE = 4
if cfg.pretrain < 1 or cfg.pretrain >= cfg.iters then
  run:fail(("--pretrain must be in [1, --iters), got %d with --iters %d"):format(cfg.pretrain, cfg.iters))
end
if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2") end

-- {---------------------------------------------------------- data
-- HR: the images in [-1, 1]; LR: their 4x4 averages (7x7). Metrics on [0, 1] pixels.
local ok, train = pcall(lg.data.load, cfg.dataset, "train")
if not ok then run:fail(train) end
local test = lg.data.load(cfg.dataset, "test")
local function down(x) return lg.avg_pool2d(x, SCALE) end
local function unit(x) return ((x + 1) / 2):clamp(0, 1) end
local loader = lg.data.Loader(train.images, {batch = cfg.batch})
local n_eval = math.min(cfg.eval_n, test.n // 2)
local hr = test.images:narrow(1, 1, n_eval)
local lr_img = down(hr)
local bicubic = SR.bicubic(lr_img, SCALE):clamp(-1, 1)
-- }

-- {---------------------------------------------------------- models
-- residual block (Fig. 4): conv-BN-PReLU-conv-BN plus the input
local Block = nn.Module:extend("SRBlock")
function Block:init(c)
  self.body = nn.Sequential(nn.Conv2d(c, c, 3, {padding = 1}), nn.BatchNorm2d(c), nn.PReLU(c),
                            nn.Conv2d(c, c, 3, {padding = 1}), nn.BatchNorm2d(c))
end
function Block:forward(x) return x + self.body(x) end

-- sub-pixel upsampling (Shi et al. 2016): conv to 4c maps, pixel shuffle x2, PReLU
local Up = nn.Module:extend("SubPixel")
function Up:init(c)
  self.conv, self.shuffle, self.act = nn.Conv2d(c, 4 * c, 3, {padding = 1}), nn.PixelShuffle(2), nn.PReLU(c)
end
function Up:forward(x) return self.act(self.shuffle(self.conv(x))) end

-- G (Fig. 4, scaled): conv-PReLU, residual blocks, conv-BN + the global skip, two x2 stages, conv, tanh
local Generator = nn.Module:extend("SRResNet")
function Generator:init(c, blocks)
  self.head = nn.Sequential(nn.Conv2d(1, c, 5, {padding = 2}), nn.PReLU(c))
  self.body = nn.Sequential()
  for _ = 1, blocks do self.body:add(Block(c)) end
  self.body:add(nn.Conv2d(c, c, 3, {padding = 1})):add(nn.BatchNorm2d(c))
  self.tail = nn.Sequential(Up(c), Up(c), nn.Conv2d(c, 1, 5, {padding = 2}), nn.Tanh())
end
function Generator:forward(x)
  local h = self.head(x)
  return self.tail(h + self.body(h))
end

-- D (Fig. 4, scaled): 3x3 convs 16, 16 (s2), 32, 32 (s2), LeakyReLU 0.2, BN after the first;
-- dense 64, LeakyReLU, dense 1 (a logit)
local D = nn.Sequential(
  nn.Conv2d(1, 16, 3, {padding = 1}), nn.LeakyReLU(0.2),
  nn.Conv2d(16, 16, 3, {stride = 2, padding = 1}), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),   -- 14
  nn.Conv2d(16, 32, 3, {padding = 1}), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
  nn.Conv2d(32, 32, 3, {stride = 2, padding = 1}), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),   -- 7
  nn.Flatten(), nn.Linear(32 * 49, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

local G, Gg = Generator(cfg.width, cfg.blocks), Generator(cfg.width, cfg.blocks)   -- SRResNet, SRGAN
local function adam(m) return optim.Adam(m:parameters(), {lr = cfg.lr, betas = {0.9, 0.999}}) end
local optG, optGg, optD = adam(G), adam(Gg), adam(D)

-- phi: the content loss's network, VGG's stand-in: a small CNN trained here on the labels of
-- the training split (conv 16, pool, conv 32; phi = the ReLU map of the last conv before the
-- last max-pool, as VGG54); not the evaluation's classifier, so FID-lite is not its own loss.
local Phi = nn.Module:extend("ContentNet")
function Phi:init()
  self.conv1, self.conv2 = nn.Conv2d(1, 16, 3, {padding = 1}), nn.Conv2d(16, 32, 3, {padding = 1})
  self.fc = nn.Linear(32 * 49, 10)
end
function Phi:features(x)
  return self.conv2(lg.max_pool2d(self.conv1(x):relu(), 2)):relu()    -- [N,32,14,14]
end
function Phi:forward(x) return self.fc(lg.max_pool2d(self:features(x), 2):reshape(x:size(1), -1)) end
local phi = Phi()
do
  local opt = optim.Adam(phi:parameters(), {lr = 1e-3})
  local labelled = lg.data.Loader({train.images, train.labels}, {batch = 64})
  for _ = 1, cfg.phi_steps do
    local x, y = table.unpack(labelled:next())
    local l = lg.cross_entropy(phi(x), y)
    opt:zero_grad()
    l:backward()
    opt:step()
  end
  phi:eval()
  for _, p in ipairs(phi:parameters()) do p.requires_grad = false end
end
local state = {phi_scale = 0}   -- the feature loss's rescaling, set when SRGAN starts
-- }

-- {---------------------------------------------------------- evaluation
local oracle = im.for_dataset(cfg.dataset)
local hr_unit = unit(hr)
local ref_stats = oracle and oracle:feature_stats(hr)
local hf_hr = SR.hf_energy(hr_unit)

local function measure(x, row, arm)   -- x: SR images in [-1, 1]
  local u = unit(x)
  row["psnr_" .. arm] = SR.psnr(u, hr_unit)
  row["ssim_" .. arm] = SR.ssim(u, hr_unit, {window = 7})
  row["ssim11_" .. arm] = SR.ssim(u, hr_unit, {window = 11})
  row["hf_" .. arm] = SR.hf_energy(u) / hf_hr
  row["fid_" .. arm] = oracle and oracle:fid(x, ref_stats) or -1
  row["acc_" .. arm] = oracle and oracle:accuracy(x, test.labels:narrow(1, 1, n_eval)) or -1
end

local function upscale(net, x)
  return lg.no_grad(function()
    net:eval()
    local parts = {}
    for s = 1, x:size(1), 500 do parts[#parts + 1] = net(x:narrow(1, s, math.min(500, x:size(1) - s + 1))) end
    net:train()
    return lg.cat(parts, 1)
  end)
end

local fixed = {}   -- bicubic's numbers and the floor (test images against other test images)
lg.no_grad(function()
  measure(bicubic, fixed, "bicubic")
  fixed.fid_hr = oracle and oracle:fid(test.images:narrow(1, n_eval + 1, n_eval), ref_stats) or -1
end)
-- }

run:track{G = G, Gg = Gg, D = D, optG = optG, optGg = optGg, optD = optD, data = loader, state = state}
local show = 8
run:sampler(function()   -- per row: LR (nearest), bicubic, SRResNet, SRGAN, HR
  local x = lr_img:narrow(1, 1, show)
  local cols = {lg.upsample_nearest(x, SCALE), bicubic:narrow(1, 1, show), upscale(G, x), upscale(Gg, x),
                hr:narrow(1, 1, show)}
  return lg.stack(cols, 2):reshape(show * #cols, 1, 28, 28)
end, {nrow = 5})

print(("srgan: %s, %d training images, LR %dx%d -> HR 28x28, G %d / D %d parameters, batch %d, "
  .. "content %s, adversarial weight %g"):format(train.name, train.n, 28 // SCALE, 28 // SCALE,
  G:num_parameters(), D:num_parameters(), cfg.batch, cfg.content, cfg.adv_weight))

local function mse_step(net, opt, x, y)
  local l = lg.mse(net(x), y)
  opt:zero_grad()
  l:backward()
  opt:step()
  return l
end

local function content_loss(sr, y)
  if cfg.content == "mse" then return lg.mse(sr, y) end
  return lg.mse(phi:features(sr), phi:features(y)) * state.phi_scale
end

local loss = gan.non_saturating   -- l_Gen = -log D(G(I_LR)) (eq. 6)
local function gan_step(x, y)
  local sr = Gg(x)
  local sd_real, sd_fake = D(y), D(sr:detach())
  local lossD = loss.d(sd_real, sd_fake)
  optD:zero_grad()
  lossD:backward()
  optD:step()
  local content = content_loss(sr, y)
  local adv = loss.g(D(sr))
  local lossG = content + adv * cfg.adv_weight
  optGg:zero_grad()
  lossG:backward()
  optGg:step()
  return content, adv, lossD, sd_real:sigmoid():mean(), sd_fake:sigmoid():mean()
end

local COLUMNS = {"mse", "content", "adv", "lossD", "D_real", "D_fake", "phi_scale", "fid_hr"}
for _, m in ipairs{"psnr", "ssim", "ssim11", "hf", "fid", "acc"} do
  for _, arm in ipairs{"bicubic", "srresnet", "srgan"} do COLUMNS[#COLUMNS + 1] = m .. "_" .. arm end
end
for it in run:iterations() do
  local row = {}
  if it == 1 then for _, k in ipairs(COLUMNS) do row[k] = "" end end
  local y = loader:next()
  local x = down(y)
  local lr = (cfg.decay and it > (cfg.pretrain + cfg.iters) // 2) and cfg.lr / 10 or cfg.lr
  for _, o in ipairs{optG, optGg, optD} do o.config.lr = lr end
  if it == cfg.pretrain + 1 then   -- SRGAN starts from SRResNet (sec. 3.2)
    Gg:load_state_dict(G:state_dict())
    lg.no_grad(function()   -- the feature loss at the pixel loss's scale, as the paper's 1/12.75
      local sr = upscale(G, x)
      state.phi_scale = lg.mse(sr, y):item() / lg.mse(phi:features(sr), phi:features(y)):item()
    end)
  end
  row.mse = mse_step(G, optG, x, y)
  if it > cfg.pretrain then
    row.content, row.adv, row.lossD, row.D_real, row.D_fake = gan_step(x, y)
    row.phi_scale = state.phi_scale
  end
  if it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(fixed) do row[k] = v end
    measure(upscale(G, lr_img), row, "srresnet")
    if it > cfg.pretrain then measure(upscale(Gg, lr_img), row, "srgan") end
  end
  run:log(row)
end
