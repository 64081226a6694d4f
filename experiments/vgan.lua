-- vgan.lua: VGAN (Vondrick, Pirsiavash and Torralba, "Generating Videos with Scene
-- Dynamics", NIPS 2016).
--
-- The two-stream video generator G(z) = m * f + (1 - m) * b (sec. 2.2): a 3-D
-- transposed-conv stream gives a video f (tanh) and a mask m (sigmoid, L1-penalised), a
-- 2-D stream one static background b repeated over time; against a one-stream G (3-D
-- stream only), both with a 3-D conv D (sec. 2.3). Data: a digit moving over a static
-- texture (lib/moving_digits.lua), whose moving region is known. Evaluations: the mask's
-- IoU with where generated frames change, frame-to-frame motion against real clips; at
-- the end a linear probe of frozen D features for the motion direction, against a random D.
--
--   luagan experiments/vgan.lua [--streams 2|1] [--size 32|16] [--iters N] [--width C] ...
--
-- The setup, our scaling and the metrics' definitions: experiments/notes/vgan.md.
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local MD = require "lib.moving_digits"

local run = lg.experiment{
  name = "vgan", iters = 600, batch = 32, streams = {2, 1, default = 2},
  size = {32, 16, default = 32}, frames = 8, nz = 100, width = 16,
  lr = 2e-4, beta1 = 0.5, lambda = 0.1, tau = 0.2,
  sample_every = 200, checkpoint_every = 0,
  eval_every = 100, eval_n = 64, probe = true, probe_clips = 400, probe_steps = 300,
  doc = {streams = "2: foreground video + mask + static background (the paper); 1: 3-D stream only",
         size = "frame size: 32 or 16 px", frames = "frames per clip (8)", nz = "noise dimension",
         width = "channels of the widest layer / 4 (the paper: 128)",
         lr = "Adam learning rate (G and D)", beta1 = "Adam beta1",
         lambda = "weight of the mask's L1 penalty (mean over the mask)",
         tau = "change threshold on [-1,1] pixels for the moving region of a clip",
         eval_every = "evaluate every N steps", eval_n = "generated and real clips per evaluation",
         probe = "after training, linear-probe frozen D features for the motion direction",
         probe_clips = "labelled real clips for the probe (as many again to test it)",
         probe_steps = "full-batch Adam steps of the probe classifier"},
}
local cfg = run.config
if cfg.frames ~= 8 then run:fail("--frames: only 8 is supported (the nets' time strides)") end
if cfg.width < 1 then run:fail("--width must be >= 1") end
if cfg.batch < 2 then run:fail("--batch must be >= 2 (batch norm)") end
local S, T, c = cfg.size, cfg.frames, cfg.width

-- {---------------------------------------------------------- data
local train = lg.data.load("mnist10k", "train")
local test = lg.data.load("mnist10k", "test")
local src = MD.new{digits = train.images, labels = train.labels, seed = cfg.seed, frames = T, size = S}
local held = MD.new{digits = test.images, labels = test.labels, seed = cfg.seed + 7777, frames = T, size = S}
-- training clip i of step `it` is clip (it - 1) * batch + i of the stream: no loader state
local function real_batch(it) return src:clips((it - 1) * cfg.batch + 1, cfg.batch).x end
-- }

-- {---------------------------------------------------------- models
local function bnrelu3(ch) return nn.BatchNorm3d(ch), nn.ReLU() end
-- 3-D stream up to the heads: z -> [c, 8, 16, 16] at 32 px, [2c, 4, 8, 8] at 16 px
local function video_trunk()
  local l = {nn.ConvTranspose3d(cfg.nz, 4 * c, {2, 4, 4}), nn.BatchNorm3d(4 * c), nn.ReLU(),
             nn.ConvTranspose3d(4 * c, 2 * c, 4, 2, 1), bnrelu3(2 * c)}
  if S == 32 then
    for _, m in ipairs{nn.ConvTranspose3d(2 * c, c, 4, 2, 1), bnrelu3(c)} do l[#l + 1] = m end
  end
  return nn.Sequential(table.unpack(l)), S == 32 and c or 2 * c
end
-- a head to one channel at [T, S, S]: time is full at 32 px, doubled at 16 px
local function head(ch)
  if S == 32 then return nn.ConvTranspose3d(ch, 1, {3, 4, 4}, {1, 2, 2}, {1, 1, 1}) end
  return nn.ConvTranspose3d(ch, 1, 4, 2, 1)
end
-- 2-D stream: z -> one [1, S, S] image
local function image_stream()
  local l = {nn.ConvTranspose2d(cfg.nz, 4 * c, 4), nn.BatchNorm2d(4 * c), nn.ReLU(),
             nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1), nn.BatchNorm2d(2 * c), nn.ReLU()}
  local ch = 2 * c
  if S == 32 then
    for _, m in ipairs{nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.BatchNorm2d(c), nn.ReLU()} do l[#l + 1] = m end
    ch = c
  end
  l[#l + 1] = nn.ConvTranspose2d(ch, 1, 4, 2, 1)
  l[#l + 1] = nn.Tanh()
  return nn.Sequential(table.unpack(l))
end

local trunk, hc = video_trunk()
local fg, mask_head = head(hc), head(hc)
local bg = cfg.streams == 2 and image_stream() or nil
-- a container for the parameters and the train/eval mode
local G = cfg.streams == 2 and nn.Sequential(trunk, fg, mask_head, bg) or nn.Sequential(trunk, fg)

-- G(z) -> video [N,1,T,S,S] and, two-stream, the mask [N,1,T,S,S] and background [N,1,S,S]
local function generate(z)
  local n = z:size(1)
  local h = trunk(z:view(n, cfg.nz, 1, 1, 1))
  local f = fg(h):tanh()
  if cfg.streams == 1 then return f end
  local m = mask_head(h):sigmoid()
  local b = bg(z:view(n, cfg.nz, 1, 1))
  return m * f + (1 - m) * b:view(n, 1, 1, S, S), m, b
end

local function make_D()
  local l = {nn.Conv3d(1, c, 4, 2, 1), nn.LeakyReLU(0.2),
             nn.Conv3d(c, 2 * c, 4, 2, 1), nn.BatchNorm3d(2 * c, 1e-3), nn.LeakyReLU(0.2)}
  local ch = 2 * c
  if S == 32 then   -- [2c, 2, 8, 8] -> [4c, 2, 4, 4]
    for _, m in ipairs{nn.Conv3d(2 * c, 4 * c, {1, 4, 4}, {1, 2, 2}, {0, 1, 1}), nn.BatchNorm3d(4 * c, 1e-3),
                       nn.LeakyReLU(0.2)} do l[#l + 1] = m end
    ch = 4 * c
  end
  l[#l + 1] = nn.Conv3d(ch, 1, {2, 4, 4})   -- one logit per clip
  return nn.Sequential(table.unpack(l))
end
-- the authors' init: conv weights N(0, 0.01), biases 0, BN scales N(1, 0.02)
local function init(m)
  nn.init.dcgan(m)
  if m.__name:find("Conv") then nn.init.normal_(m.weight, 0, 0.01) end
end
local D = make_D()
G:apply(init)
D:apply(init)
local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local loss = gan.non_saturating
local z_fixed = lg.randn(6, cfg.nz)
-- }

run:track{G = G, D = D, optG = optG, optD = optD}
-- frame strips: one clip per row, its T frames side by side (two-stream: then its mask)
run:sampler(function()
  G:eval()
  local x, m = lg.no_grad(function() return generate(z_fixed) end)
  G:train()
  local n = x:size(1)
  if m then x = lg.cat({x, m * 2 - 1}, 3) end
  local rows = x:size(3)
  return x:permute(1, 3, 2, 4, 5):reshape(n * rows, 1, S, S)
end, {nrow = T})

-- {---------------------------------------------------------- evaluation
local eval_real = held:clips(1, cfg.eval_n)
local z_eval = lg.randn(cfg.eval_n, cfg.nz)
-- mean |x_{t+1} - x_t| over pixels, frames and clips
local function motion(x) return (x:narrow(3, 2, T - 1) - x:narrow(3, 1, T - 1)):abs():mean():item() end
local motion_real = motion(eval_real.x)
local _, detector_iou = MD.iou(MD.changed(eval_real.x, cfg.tau), eval_real.mask)

local function evaluate()
  G:eval()
  local x, m = lg.no_grad(function() return generate(z_eval) end)
  G:train()
  local changed = MD.changed(x, cfg.tau)
  local v = {motion_fake = motion(x), motion_real = motion_real, detector_iou = detector_iou,
             changed_fake = changed:mean():item(), changed_real = MD.changed(eval_real.x, cfg.tau):mean():item()}
  v.motion_ratio = v.motion_fake / motion_real
  if m then
    local fgm = m:select(2, 1):gt(0.5)
    v.mask_mean, v.mask_area = m:mean():item(), fgm:mean():item()
    local _, iou = MD.iou(fgm, changed)
    v.mask_iou = iou
    -- threshold-free: the mask's mean where the frames change minus its mean elsewhere
    local mv, inside = m:select(2, 1), changed:sum():item()
    if inside > 0 and inside < changed:numel() then
      v.mask_contrast = (mv * changed):sum():item() / inside
        - (mv * (1 - changed)):sum():item() / (changed:numel() - inside)
    else
      v.mask_contrast = 0
    end
  end
  return v
end
-- }

print(("vgan: %d-stream G (%d parameters), 3-D D (%d), %d frames of %d px, batch %d"):format(
  cfg.streams, G:num_parameters(), D:num_parameters(), T, S, cfg.batch))
for it in run:iterations() do
  -- D: BCE(D(real), 1) + BCE(D(fake), 0), then G: non-saturating on the same fake batch
  local real = real_batch(it)
  local fake, m = generate(lg.randn(cfg.batch, cfg.nz))
  local sr, sf = D(real), D(fake:detach())
  local lossD = loss.d(sr, sf)
  optD:zero_grad()
  lossD:backward()
  optD:step()
  local lossG = loss.g(D(fake))
  local row = {lossD = lossD, lossG = lossG, D_real = sr:sigmoid():mean(), D_fake = sf:sigmoid():mean()}
  if it == 1 and cfg.probe then   -- the first row fixes metrics.csv's columns: name them all
    row.probe_trained, row.probe_random, row.probe_gain = "", "", ""
  end
  if m then   -- the sparsity prior on the mask (the authors' L1Penalty, size-averaged)
    row.l1_mask = m:mean()
    lossG = lossG + cfg.lambda * row.l1_mask
  end
  optG:zero_grad()
  lossG:backward()
  optG:step()
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
  end
  if it == cfg.iters and cfg.probe then
    -- {------------------------------------------------------ motion-direction probe
    -- features: every LeakyReLU output of D, max-pooled over time and space per channel
    local function features(net, x)
      local parts = {}
      lg.no_grad(function()
        for i = 1, #net do
          x = net[i](x)
          if net[i].__name == "LeakyReLU" then
            parts[#parts + 1] = x:reshape(x:size(1), x:size(2), -1):max(3)
          end
        end
      end)
      return lg.cat(parts, 2)
    end
    local function probe(net, xtr, ytr, xte, yte)
      net:eval()
      local ftr, fte = features(net, xtr), features(net, xte)
      local mu = ftr:mean(1, true)
      local sd = ((ftr - mu) ^ 2):mean(1, true):sqrt() + 1e-6
      ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
      local clf = nn.Linear(ftr:size(2), 8)
      local opt = optim.Adam(clf:parameters(), {lr = 1e-2, weight_decay = 1e-3})
      for _ = 1, cfg.probe_steps do
        local l = lg.cross_entropy(clf(ftr), ytr)
        opt:zero_grad()
        l:backward()
        opt:step()
      end
      local acc = lg.no_grad(function()
        local _, pred = clf(fte):max(2)
        return pred:view(-1):eq(yte):mean():item()
      end)
      net:train()
      return acc
    end
    local a = held:clips(100001, cfg.probe_clips)
    local b = held:clips(200001, cfg.probe_clips)
    local rand_D = make_D()
    rand_D:apply(init)
    row.probe_trained = probe(D, a.x, a.dir, b.x, b.dir)
    row.probe_random = probe(rand_D, a.x, a.dir, b.x, b.dir)
    row.probe_gain = row.probe_trained - row.probe_random
    print(("probe: motion direction (8 classes) from frozen D features: trained D %.1f%%, random D %.1f%%")
      :format(100 * row.probe_trained, 100 * row.probe_random))
    -- }
  end
  run:log(row)
end
