-- mrgan.lua: Mode Regularized GAN (Che, Li, Jacob, Bengio and Li, ICLR 2017).
--
-- The regularised GAN (an encoder E, geometric and mode regularisers in G's
-- loss) and the manifold-diffusion GAN (MDGAN), against the plain GAN with the
-- same nets: modes captured on the 2-D grid (Fig. 9), MODE score on MNIST
-- (sec. 4.1).
--
--   luagan experiments/mrgan.lua [--reg none|mrgan|mdgan] [--dataset grid25|ring8|mnist|mnist10k|fashion]
--                                [--iters N] ... (--help)
--   on images pass --batch 64
--
-- The settings, their sources and the metrics: experiments/notes/mrgan.md.
local lg = require "luagan"
local optim, gan = lg.optim, lg.gan
local nets = require "lib.nets"
local toy = require "lib.toy"
local im = require "luagan.image_metrics"

local run = lg.experiment{
  name = "mrgan", iters = 10000, batch = 256,
  dataset = {"grid25", "ring8", "mnist", "mnist10k", "fashion"},
  sample_every = 2000, checkpoint_every = 5000,
  reg = {"none", "mrgan", "mdgan", default = "mrgan"}, lambda1 = 0.2, lambda2 = 0.4, lambda = 1e-2,
  distance = {"", "sse", "mse"},
  nz = 0, lr_g = 0.0, lr_d = 0.0, beta1 = 0.5,
  eval_every = 500, eval_n = 5000, bn = false,
  doc = {bn = "images: batch norm after G's hidden layers (the settings grid runs with and without)",
         batch = "batch size (the 2-D toy's 256; the image runs below use --batch 64)",
         reg = "none (plain GAN), mrgan (Reg-GAN) or mdgan (manifold-diffusion)",
         lambda1 = "Reg-GAN geometric regulariser weight", lambda2 = "Reg-GAN mode regulariser weight",
         lambda = "MDGAN: weight of the manifold step's adversarial term",
         distance = "d(x, G(E(x))): sse (per-sample squared L2) or mse ('': sse 2-D, mse images)",
         nz = "noise dimension (0: 64 for 2-D, 100 for images)",
         lr_g = "Adam lr of G and E (0: 1e-3 for 2-D, 2e-4 for images)",
         lr_d = "Adam lr of D (and D2) (0: 1e-4 for 2-D, 2e-4 for images)",
         beta1 = "Adam beta1", eval_every = "evaluate every N iterations",
         eval_n = "samples for the image metrics",
         dataset = "grid25, ring8, mnist, mnist10k or fashion"},
}
local cfg = run.config
local is2d = cfg.dataset == "grid25" or cfg.dataset == "ring8"
if is2d and cfg.bn then run:fail("--bn applies to the image datasets only") end
local batch = cfg.batch
local nz = cfg.nz > 0 and cfg.nz or (is2d and 64 or 100)
local lr_g = cfg.lr_g > 0 and cfg.lr_g or (is2d and 1e-3 or 2e-4)
local lr_d = cfg.lr_d > 0 and cfg.lr_d or (is2d and 1e-4 or 2e-4)
local distance = cfg.distance ~= "" and cfg.distance or (is2d and "sse" or "mse")

-- {---------------------------------------------------------- data and nets
local mix, loader
if is2d then
  mix = lg.data[cfg.dataset]()
else
  local train = lg.data.load(cfg.dataset, "train")
  loader = lg.data.Loader(train.images:reshape(train.n, 784), {batch = batch})
end
local function real_batch() if is2d then return mix:sample(batch) end return loader:next() end
local function noise(n) return lg.randn(n, nz) end

local function make_D()
  if is2d then return nets.mlp{nin = 2, hidden = 128, layers = 2, nout = 1, act = "tanh"} end
  return nets.mlp{nin = 784, hidden = 256, layers = 2, nout = 1, act = "lrelu"}
end
local G = is2d and nets.mlp{nin = nz, hidden = 128, layers = 2, nout = 2, act = "tanh"}
              or nets.mlp{nin = nz, hidden = 256, layers = 2, nout = 784, out_act = "tanh", bn = cfg.bn}
local E = is2d and nets.mlp{nin = 2, hidden = 128, layers = 2, nout = nz, act = "tanh"}
              or nets.mlp{nin = 784, hidden = 256, layers = 1, nout = nz}
local D = make_D()
local D2 = cfg.reg == "mdgan" and make_D() or nil
local function adam(m, lr) return optim.Adam(m:parameters(), {lr = lr, betas = {cfg.beta1, 0.999}}) end
local optG, optE, optD = adam(G, lr_g), adam(E, lr_g), adam(D, lr_d)
local optD2 = D2 and adam(D2, lr_d) or nil
local loss = gan.non_saturating
-- }

-- {---------------------------------------------------------- image metrics
local classifier, why_pending
if not is2d then
  classifier, why_pending = im.for_dataset(cfg.dataset)
  if not classifier then io.stderr:write("mrgan: image metrics pending (", why_pending, ")\n") end
end
-- }

local tracked = {G = G, E = E, D = D, optG = optG, optE = optE, optD = optD, data = loader}
if D2 then tracked.D2, tracked.optD2 = D2, optD2 end
run:track(tracked)
local z_fixed = noise(is2d and 512 or 64)
if is2d then
  local real_fixed = mix:sample(512)
  local extent = cfg.dataset == "grid25" and 5.5 or 1.6
  -- real points blue, generated red, reconstructions G(E(x)) green
  run:sampler(function()
    return toy.render({{real_fixed, toy.BLUE}, {G(z_fixed), toy.RED}, {G(E(real_fixed)), toy.GREEN}},
                      extent, 128)
  end, {range = {0, 1}, nrow = 1})
else
  run:sampler(function() return G(z_fixed):view(64, 1, 28, 28) end)
end

print(("mrgan: %s, reg %s, batch %d, nz %d, lr G/E %g D %g, lambda1 %g lambda2 %g, distance %s%s")
  :format(cfg.dataset, cfg.reg, batch, nz, lr_g, lr_d, cfg.lambda1, cfg.lambda2, distance,
          cfg.bn and ", BN in G" or ""))
local z_of = function() return noise(batch) end
for it in run:iterations() do
  local row
  if cfg.reg == "none" then
    local out = gan.step{G = G, D = D, optG = optG, optD = optD, loss = loss, real = real_batch,
                         z = z_of, it = it}
    row = {lossD = out.d, lossG = out.g, recon = 0.0}
  elseif cfg.reg == "mrgan" then
    local out = gan.mrgan.step{G = G, E = E, D = D, optG = optG, optE = optE, optD = optD,
      loss = loss, real = real_batch, z = z_of, lambda1 = cfg.lambda1, lambda2 = cfg.lambda2,
      distance = distance}
    row = {lossD = out.d, lossG = out.g, recon = out.geometric / cfg.lambda1}
  else
    local out = gan.mdgan.step{G = G, E = E, D1 = D, D2 = D2, optG = optG, optE = optE,
      optD1 = optD, optD2 = optD2, loss = loss, real = real_batch, z = z_of,
      lambda = cfg.lambda, distance = distance}
    row = {lossD = out.d2, lossG = out.g2, recon = out.recon}
  end
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    lg.no_grad(function()
      if is2d then
        local cov = lg.metrics.mode_coverage(G(noise(2500)), mix)
        row.modes, row.hq = cov.modes, cov.hq
      else
        local cols = classifier and classifier:score(G, noise(cfg.eval_n)) or im.PENDING
        row.mode_score, row.classes, row.inception = cols.mode_score, cols.classes, cols.inception
      end
    end)
  end
  run:log(row)
end
-- the final evaluation, from the last row of metrics.csv
local rows = run:rows()
local final = rows[#rows]
if is2d then
  print(("mrgan: final modes %s/%d, hq %.3f (reg %s, seed %d)"):format(final.modes, mix.modes,
    tonumber(final.hq), cfg.reg, cfg.seed))
elseif tonumber(final.mode_score) < 0 then
  print("mrgan: MODE score pending (no classifier weights: " .. tostring(why_pending) .. ")")
else
  print(("mrgan: final MODE score %.3f, classes %s/10, Inception score %.3f (reg %s, seed %d)")
    :format(tonumber(final.mode_score), final.classes, tonumber(final.inception), cfg.reg, cfg.seed))
end
