-- ebgan.lua: Energy-Based GAN (Zhao, Mathieu and LeCun, "Energy-based
-- Generative Adversarial Network", ICLR 2017).
--
-- D is an autoencoder whose energy is its reconstruction error (sec. 2.3):
-- L_D = D(x) + [m - D(G(z))]^+, L_G = D(G(z)) (eqs. 1-2), optionally plus the
-- pulling-away term on the encoder's codes of the fake batch (sec. 2.4).
-- --loss gan trains the same G against a classifier D of the same encoder
-- (non-saturating BCE), the paper's GAN baseline at equal iterations.
-- Evaluations score G with the MNIST classifier (luagan.image_metrics).
--
--   luagan experiments/ebgan.lua [--loss ebgan|gan] [--margin M] [--pt W] [--iters N] ... (--help)
--
-- The paper's setup, our scaling and the deviations: experiments/notes/ebgan.md.
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local nets = require "lib.nets"
local ae = require "lib.ae_disc"

local run = lg.experiment{
  name = "ebgan", iters = 3000, batch = 64, dataset = "mnist10k", threads = 1,
  sample_every = 1000, checkpoint_every = 1000,
  loss = {"ebgan", "gan"}, margin = 1.0, pt = 0.0, nz = 64, g_hidden = 256,
  d_hidden = 256, code = 64, lr = 1e-3, beta1 = 0.5, eval_every = 250, eval_n = 2000,
  doc = {loss = "ebgan (autoencoder D, energy = reconstruction MSE) or gan (classifier D, BCE)",
         margin = "ebgan: the margin m of [m - D(G(z))]^+ (energy = mean squared pixel error)",
         pt = "ebgan: weight of the pulling-away term in G's loss (the paper: 0.1)",
         nz = "noise dimension (z ~ N(0, I))", g_hidden = "G's two hidden layers",
         d_hidden = "D's hidden layer (encoder and decoder)", code = "D's code size",
         lr = "Adam learning rate (G and D)", beta1 = "Adam beta1",
         eval_every = "evaluate every N iterations", eval_n = "samples per evaluation",
         dataset = "mnist or mnist10k (the classifier metrics need MNIST)"},
}
local cfg = run.config
if cfg.eval_every < 1 then run:fail("--eval_every must be >= 1") end
if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2 (FID needs a covariance)") end
if cfg.margin <= 0 then run:fail("--margin must be > 0") end
if cfg.pt < 0 then run:fail("--pt must be >= 0") end
if cfg.loss == "gan" and (run.given.pt or run.given.margin) then
  run:fail("--pt and --margin apply to --loss ebgan")
end
if cfg.batch < 2 then run:fail("--batch must be >= 2 (the pulling-away term needs pairs)") end
if cfg.dataset ~= "mnist" and cfg.dataset ~= "mnist10k" then
  run:fail(("--dataset must be mnist or mnist10k, got %s"):format(cfg.dataset))
end
local ebgan = cfg.loss == "ebgan"

local train = lg.data.load(cfg.dataset, "train")
local loader = lg.data.Loader(train.images:view(train.n, 784), {batch = cfg.batch})

local G = nets.mlp{nin = cfg.nz, hidden = cfg.g_hidden, layers = 2, nout = 784, bn = true, out_act = "tanh"}
local D
if ebgan then
  D = ae.AE{nin = 784, hidden = cfg.d_hidden, code = cfg.code, act = "relu"}
else
  D = nn.Sequential(nn.Linear(784, cfg.d_hidden), nn.ReLU(), nn.Linear(cfg.d_hidden, cfg.code), nn.ReLU(),
    nn.Linear(cfg.code, 1))
end
local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local Gparams = optG.params
local z_fixed = lg.randn(64, cfg.nz)
local evaluate = ae.evaluator("ebgan", cfg.dataset, G, lg.randn(cfg.eval_n, cfg.nz))

run:track{G = G, D = D, optG = optG, optD = optD, data = loader}
run:sampler(function() return ae.images(G, z_fixed) end)
print(("ebgan: %s, %s%s, G %d / D %d parameters, batch %d, lr %g, seed %d"):format(cfg.dataset, cfg.loss,
  ebgan and (", margin %g, PT weight %g"):format(cfg.margin, cfg.pt) or "", G:num_parameters(),
  D:num_parameters(), cfg.batch, cfg.lr, cfg.seed))

local function step_ebgan()
  local real, fake = loader:next(), G(lg.randn(cfg.batch, cfg.nz))
  local e_real = ae.energy(real, (D(real)), "l2"):mean()
  local e_fake = ae.energy(fake:detach(), (D(fake:detach())), "l2"):mean()
  local lossD = e_real + (cfg.margin - e_fake):relu()
  optD:zero_grad()
  lossD:backward()
  optD:step()
  -- G: the energy D (after its step) gives the same fake batch, + PT on its codes
  local recon, code = D(fake)
  local e_g = ae.energy(fake, recon, "l2"):mean()
  local pt = ae.pulling_away(code)
  local lossG = cfg.pt > 0 and e_g + pt * cfg.pt or e_g
  local gs = lg.grad(lossG, Gparams)
  for i, p in ipairs(Gparams) do p.grad = gs[i] end
  optG:step()
  return {lossD = lossD, lossG = lossG, e_real = e_real, e_fake = e_fake, pt = pt}
end

local loss = gan.non_saturating
local function step_gan()
  local real, fake = loader:next(), G(lg.randn(cfg.batch, cfg.nz))
  local sr, sf = D(real), D(fake:detach())
  local lossD = loss.d(sr, sf)
  optD:zero_grad()
  lossD:backward()
  optD:step()
  local lossG = loss.g(D(fake))
  local gs = lg.grad(lossG, Gparams)
  for i, p in ipairs(Gparams) do p.grad = gs[i] end
  optG:step()
  return {lossD = lossD, lossG = lossG, d_real = sr:sigmoid():mean(), d_fake = sf:sigmoid():mean()}
end

for it in run:iterations() do
  local row = ebgan and step_ebgan() or step_gan()
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
  end
  run:log(row)
end

local last
for _, r in ipairs(run:rows()) do if r.classes ~= "" then last = r end end
if last and tonumber(last.classes) >= 0 then
  local s = ("ebgan: final classes %s/10, top class share %.3f, inception %.3f, MODE score %.3f, FID %.2f, "
    .. "H(p(y)) %.3f nats, diversity %.3f (%d samples)"):format(last.classes, tonumber(last.top_share),
    tonumber(last.inception), tonumber(last.mode_score), tonumber(last.fid), tonumber(last.hy),
    tonumber(last.diversity), cfg.eval_n)
  print(s)
  run:write("summary.txt", s .. "\n")
end
