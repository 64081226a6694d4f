-- lsgan.lua: Least Squares GAN (Mao, Li, Xie, Lau, Wang and Smolley, ICCV 2017).
--
-- The least-squares loss against the sigmoid cross-entropy GAN, same nets and
-- optimiser, in the paper's two stability comparisons: modes kept on the 2-D
-- ring of 8 Gaussians (Fig. 7), and DCGAN nets without batch norm on images
-- (sec. 4.2: collapse of the sigmoid GAN, not of LSGAN).
--
--   luagan experiments/lsgan.lua [--loss ls|bce] [--coding 01|chi2] [--iters N] ... (--help)
--   luagan experiments/lsgan.lua --dataset mnist [--loss ls|bce] [--bn g|gd|all] ...
--
-- The authors' setups, the deviations and the metrics: experiments/notes/lsgan.md.
local lg = require "luagan"
local toy = require "lib.toy"
local nets = require "lib.nets"
local nn, optim, gan = lg.nn, lg.optim, lg.gan

local defaults = {
  name = "lsgan", iters = 5000, batch = 512, dataset = "ring8",
  sample_every = 1000, checkpoint_every = 1000, threads = 1,
  loss = {"ls", "bce"}, coding = {"01", "chi2"}, nz = 256, hidden = 128, lr_d = 1e-4, lr_g = 1e-3, beta1 = 0.5,
  gain = 1.4, updates = {"simultaneous", "alternating"}, eval_every = 250,
  bn = {"g", "gd", "all"}, optim = {"adam", "rmsprop"}, size = {28, 32, 64, default = 32}, ngf = 16, ndf = 16, eval_n = 2000,
  doc = {loss = "ls (least squares) or bce (sigmoid cross-entropy, -log D for G)",
         coding = "ls codes: 01 (a=0, b=c=1, the paper's) or chi2 (a=-1, b=1, c=0; "
                  .. "images with --bn gd: chi2, as the authors' BN_GD code)",
         iters = "training iterations (images: 10000)",
         batch = "batch size (images: 64)",
         nz = "noise dimension (images: 1024, z ~ U[-1, 1])",
         hidden = "2-D: hidden units (2 tanh layers in G and D)",
         lr_d = "D's lr (images: 2e-4)", lr_g = "G's lr (images: 2e-4)",
         beta1 = "Adam beta1",
         gain = "2-D: orthogonal init gain",
         updates = "2-D: simultaneous (the authors' code) or alternating (one D step, then G)",
         eval_every = "evaluate every N iterations",
         dataset = "ring8 (the paper's), grid25, swissroll; images: mnist, mnist10k, fashion "
                   .. "or a directory of PNG/JPEG images",
         threads = "compute threads (1: small matrices; see unrolled_gan.lua)",
         bn = "images: batch norm in g = D only (the paper's BN_G), gd = neither (BN_GD), "
              .. "all = G and D (DCGAN)",
         optim = "images: adam or rmsprop (--bn gd: rmsprop, as the authors' BN_GD code)",
         size = "images: 28, 32 or 64 px", ngf = "images: G width multiple",
         ndf = "images: D width multiple",
         eval_n = "images: samples for the classifier metrics (classes, top_share, mode_score, fid)"},
}
local run = lg.experiment(defaults)
local cfg = run.config
local given = run.given   -- the flags on the command line
if cfg.eval_every < 1 then run:fail("--eval_every must be >= 1") end
local images = not ({ring8 = true, grid25 = true, swissroll = true})[cfg.dataset]
-- the other kind of data's flags: refused when given, left out of config.lua
local other = images and {"hidden", "gain", "updates"}
              or {"bn", "optim", "size", "ngf", "ndf", "eval_n"}
for _, k in ipairs(other) do
  if given[k] then
    run:fail(("--%s applies to %s, not to --dataset %s"):format(k, images and
      "the 2-D data sets (ring8, grid25, swissroll)" or "image data sets", cfg.dataset))
  end
  cfg[k] = nil
end
if images and cfg.resume == "" then
  -- the image setting's defaults (stored resolved in config.lua, so --resume keeps them)
  local function default(k, v) if not given[k] then cfg[k] = v end end
  default("iters", 10000)
  default("batch", 64)
  default("nz", 1024)
  default("lr_d", 2e-4)
  default("lr_g", 2e-4)
  if cfg.bn == "gd" then
    default("optim", "rmsprop")
    default("coding", "chi2")
  end
end
local loss = gan.non_saturating
if cfg.loss == "ls" then loss = ({["01"] = gan.lsgan, chi2 = gan.lsgan_chi2})[cfg.coding] end

-- {---------------------------------------------------------- 2-D data
local function train_toy()
  local G, D, optG, optD, schedule = toy.notebook_gan(cfg)
  local ok, ds = pcall(toy.dataset, cfg.dataset, "pacgan")
  if not ok then run:fail(ds) end

  print(("lsgan: %s, %s updates, batch %d, seed %d"):format(tostring(loss), cfg.updates,
    cfg.batch, cfg.seed))
  toy.train(run, {
    G = G, D = D, optG = optG, optD = optD, ds = ds, nz = cfg.nz, eval_every = cfg.eval_every,
    step = function(it)
      return gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss, it = it,
        schedule = schedule,
        real = function() return ds:sample(cfg.batch) end,
        z = function() return lg.randn(cfg.batch, cfg.nz) end}
    end,
  })
end
-- }

-- {---------------------------------------------------------- images

-- an optimiser as the authors' TF code builds it: Adam (eps 1e-8) or TF 1.x's
-- RMSProp (decay 0.9, eps 1e-10, mean square started at 1, not 0)
local function make_optim(params, lr)
  if cfg.optim == "adam" then
    return optim.Adam(params, {lr = lr, betas = {cfg.beta1, 0.999}, eps = 1e-8})
  end
  return optim.RMSprop(params, {lr = lr, alpha = 0.9, eps = 1e-10, initial_square_avg = 1})
end

local function train_images()
  if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2 (FID needs a covariance)") end
  if cfg.ngf < 1 or cfg.ndf < 1 or cfg.nz < 1 then run:fail("--ngf, --ndf and --nz must be >= 1") end

  local labelled = ({mnist = true, mnist10k = true, fashion = true})[cfg.dataset]
  local ok, train = pcall(labelled and lg.data.load or lg.data.image_folder, cfg.dataset,
    labelled and "train" or {size = cfg.size})
  if not ok then
    run:fail(("--dataset %s: %s (valid: ring8, grid25, swissroll, mnist, mnist10k, fashion or a "
      .. "directory of images)"):format(cfg.dataset, tostring(train)))
  end
  if labelled then train.images = nets.to_size(train.images, cfg.size) end
  local channels = train.images:size(2)
  local loader = lg.data.Loader(train.images, {batch = cfg.batch})

  -- the DCGAN nets with the authors' biases on every layer (without BN they matter)
  local G = nets.dcgan_G{size = cfg.size, nz = cfg.nz, ngf = cfg.ngf, channels = channels,
                         bn = cfg.bn == "all", bias = true}
  local D = nets.dcgan_D{size = cfg.size, ndf = cfg.ndf, channels = channels,
                         bn = cfg.bn ~= "gd", bias = true}
  G:apply(nn.init.dcgan)
  D:apply(nn.init.dcgan)
  local optG, optD = make_optim(G:parameters(), cfg.lr_g), make_optim(D:parameters(), cfg.lr_d)
  local function noise(n) return lg.rand(n, cfg.nz) * 2 - 1 end
  local z_fixed = noise(64)
  local z_eval = noise(cfg.eval_n)   -- fixed: evaluations draw nothing from the training stream
  local im = require "luagan.image_metrics"
  local classifier, why = im.for_dataset(cfg.dataset)
  if not classifier then io.stderr:write("lsgan: image metrics pending (", why, ")\n") end

  local function evaluate(row)
    local cols = im.PENDING
    if classifier then
      G:eval()
      cols = classifier:score(function(z) return nets.to_28(G(z)) end, z_eval)
      G:train()
    end
    for k, v in pairs(cols) do row[k] = v end
  end

  run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
  run:sampler(function()
    G:eval()
    local x = G(z_fixed)
    G:train()
    return x
  end)
  print(("lsgan: %s at %d px (%d images), %s, bn %s, %s lr D %g G %g, nz %d, G %d / D %d "
    .. "parameters, batch %d, seed %d"):format(cfg.dataset, cfg.size, train.n, tostring(loss),
    cfg.bn, cfg.optim, cfg.lr_d, cfg.lr_g, cfg.nz, G:num_parameters(), D:num_parameters(),
    cfg.batch, cfg.seed))
  local Gparams = optG.params
  for it in run:iterations() do
    -- one D step, then one G step on the same z (train.py: two sess.run with one batch_z)
    local fake = G(noise(cfg.batch))
    local sr, sf = D(loader:next()), D(fake:detach())
    local lossD = loss.d(sr, sf)
    optD:zero_grad()
    lossD:backward()
    optD:step()
    local lossG = loss.g(D(fake))
    local gs = lg.grad(lossG, Gparams)
    for i, p in ipairs(Gparams) do p.grad = gs[i] end
    optG:step()
    local row = {lossD = lossD, lossG = lossG, d_real = sr:mean(), d_fake = sf:mean()}
    if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then evaluate(row) end
    run:log(row)
  end
  -- the harness printed the speed; summary.txt keeps it beside the results
  local n, seconds, ips = run:speed()
  local summary = {("lsgan: %d iterations in %.1f s, %s it/s"):format(n, seconds,
    ips and ("%.2f"):format(ips) or "--")}
  local function say(s) print(s) summary[#summary + 1] = s end
  -- the final evaluation and the collapsed share of the second half's evaluations
  local rows, evals, collapsed, last = run:rows(), 0, 0, nil
  for _, r in ipairs(rows) do
    if r.classes ~= "" and tonumber(r.classes) >= 0 then
      last = r
      if tonumber(r.iter) > cfg.iters / 2 then
        evals = evals + 1
        if tonumber(r.classes) < 9 or tonumber(r.top_share) > 0.4 then collapsed = collapsed + 1 end
      end
    end
  end
  if last then
    say(("lsgan: final classes %s/10, top class share %.3f, MODE score %.3f, FID %.2f (%d samples);"
      .. " collapsed (classes < 9 or top share > 0.4) at %d of %d evaluations in the second half")
      :format(last.classes, tonumber(last.top_share), tonumber(last.mode_score), tonumber(last.fid),
        cfg.eval_n, collapsed, evals))
  else
    say("lsgan: classes / FID pending (" .. tostring(why) .. ")")
  end
  run:write("summary.txt", table.concat(summary, "\n") .. "\n")
end
-- }

if images then train_images() else train_toy() end
