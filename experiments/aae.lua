-- aae.lua: Makhzani, Shlens, Jaitly, Goodfellow and Frey, "Adversarial Autoencoders"
-- (ICLR 2016 workshop, arXiv 1511.05644), on MNIST.
--
-- A deterministic encoder E and a decoder D_x are trained per minibatch in the paper's two
-- phases (sec. 2): reconstruction (E and D_x on the cross-entropy of x against D_x(E(x))), then
-- regularisation (a discriminator on codes learns prior samples against E(x), then E learns to
-- fool it), so that the aggregated posterior q(z) matches the prior p(z) and D_x(z), z ~ p(z),
-- generates digits. --method ae drops the regularisation phase, --method vae replaces it by a
-- Gaussian encoder with the KL term (the paper's Fig. 2 comparison). Evaluations: the MMD of
-- the test codes against the prior, their moments, the reconstruction error; at the end the
-- Parzen log-likelihood of the test digits under decoded prior samples (Table 1) and a
-- picture of the code space (codes.png). Notes: notes/aae.md.
--
--   luagan experiments/aae.lua [--method aae|ae|vae] [--prior gauss|mix10] [--nz N]
--          [--prior_std S] [--iters N] [--parzen false] ...
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim
local nets = require "lib.nets"
local A = require "lib.aae"
local parzen = require "luagan.parzen"

local run = lg.experiment{
  name = "aae", iters = 2700, batch = 100, dataset = {"mnist10k", "mnist"},
  sample_every = 900, checkpoint_every = 900,
  method = {"aae", "ae", "vae", "ssl", "sup"}, prior = {"gauss", "mix10"}, nz = 8, prior_std = 5,
  hidden = 256, d_hidden = 256, lr = 1e-3, lr_reg = 2e-4, holdout = 1000,
  eval_every = 150, parzen = true, parzen_samples = 10000, labels = 100,
  doc = {method = "aae (two phases), ae (reconstruction only), vae (Gaussian encoder + KL to the prior), "
           .. "ssl (sec. 5: class + style codes, a third, supervised phase) or sup (ssl's classifier on the labels alone)",
         labels = "ssl, sup: labelled training digits (the same number per class)",
         prior = "gauss: N(0, prior_std^2 I); mix10: 10 Gaussians on a circle of radius prior_std (2-D)",
         nz = "code size", prior_std = "the prior's scale", hidden = "units of E's and D_x's two hidden layers",
         d_hidden = "units of the code discriminator's two hidden layers",
         lr = "Adam rate of the reconstruction phase (and the VAE)", lr_reg = "Adam rate of the regularisation phase",
         holdout = "last N training digits held out (Parzen validation split)",
         eval_every = "evaluate the test codes every N iterations",
         parzen = "at the end, Parzen log-likelihood of the test digits under decoded prior samples",
         parzen_samples = "decoded prior samples for the Parzen window",
         dataset = "mnist10k (shipped) or mnist"},
}
local cfg = run.config
if cfg.nz < 1 then run:fail("--nz must be >= 1") end
if cfg.holdout < 1 then run:fail("--holdout must be >= 1 (the Parzen validation split)") end
if cfg.parzen_samples < 1 then run:fail("--parzen_samples must be >= 1") end
local ssl, sup = cfg.method == "ssl", cfg.method == "sup"
if (ssl or sup) and (cfg.labels < 10 or cfg.labels % 10 ~= 0) then run:fail("--labels must be a positive multiple of 10") end
local ok, prior = pcall(A.prior, cfg.prior, cfg.nz, cfg.prior_std)
if not ok then run:fail((tostring(prior):gsub("^.-aae%.prior: ", ""))) end

-- {---------------------------------------------------------- data
local ok2, train = pcall(lg.data.load, cfg.dataset, "train", {range = {0, 1}})
if not ok2 then run:fail(train) end
local test = lg.data.load(cfg.dataset, "test", {range = {0, 1}})
local ntrain = train.n - cfg.holdout
if ntrain < cfg.batch then run:fail(("only %d training digits for batches of %d"):format(ntrain, cfg.batch)) end
local all = train.images:view(train.n, 784)
local xtrain, valid = all:narrow(1, 1, ntrain), all:narrow(1, ntrain + 1, cfg.holdout)
local xtest = test.images:view(test.n, 784)
local loader = lg.data.Loader(xtrain, {batch = cfg.batch})
-- ssl, sup: the first --labels / 10 training digits of each class carry their labels
local labelled
if ssl or sup then
  local per, count, idx = cfg.labels // 10, {}, {}
  local ys = train.labels:narrow(1, 1, ntrain):totable()
  for i, y in ipairs(ys) do
    count[y] = (count[y] or 0) + 1
    if count[y] <= per then idx[#idx + 1] = i end
  end
  if #idx < cfg.labels then run:fail(("only %d labelled digits available"):format(#idx)) end
  local ix = lg.tensor(idx)
  labelled = lg.data.Loader({xtrain:index_select(1, ix), train.labels:index_select(1, ix)},
                            {batch = math.min(cfg.batch, cfg.labels)})
end
-- fixed prior samples: the MMD's reference, its noise floor, the sample grid
local ref, ref2, z_grid = prior.sample(test.n), prior.sample(test.n), prior.sample(64)
-- }

-- {---------------------------------------------------------- models
-- ssl, sup: E's first 10 outputs are the class logits y, the rest the style z; D_x reads
-- softmax(y) and z (sec. 5, Fig. 8), and a second discriminator Dy sees softmax(y)
local vae, ny = cfg.method == "vae", (ssl or sup) and 10 or 0
local E = nets.mlp{nin = 784, hidden = cfg.hidden, nout = ny + (vae and 2 * cfg.nz or cfg.nz)}
local Dx = nets.mlp{nin = ny + cfg.nz, hidden = cfg.hidden, nout = 784}   -- logits; sigmoid gives pixels
local Dz = nets.mlp{nin = cfg.nz, hidden = cfg.d_hidden, nout = 1}
local Dy = ssl and nets.mlp{nin = 10, hidden = cfg.d_hidden, nout = 1} or nil
lg.no_grad(function()   -- output bias = logit of the mean training image
  local m = xtrain:mean(1):clamp(1e-3, 1 - 1e-3)
  Dx[#Dx].bias:copy_((m / (1 - m)):log())
end)
local Eparams = E:parameters()
local ae_params = {}
for _, p in ipairs(Eparams) do ae_params[#ae_params + 1] = p end
for _, p in ipairs(Dx:parameters()) do ae_params[#ae_params + 1] = p end
local optAE = optim.Adam(ae_params, {lr = cfg.lr, betas = {0.9, 0.999}})
local d_params = Dz:parameters()
if ssl then for _, p in ipairs(Dy:parameters()) do d_params[#d_params + 1] = p end end
local optD = optim.Adam(d_params, {lr = cfg.lr_reg, betas = {0.5, 0.999}})
local optE = optim.Adam(Eparams, {lr = cfg.lr_reg, betas = {0.5, 0.999}})
local optC = optim.Adam(Eparams, {lr = cfg.lr, betas = {0.9, 0.999}})   -- the supervised phase
-- }

-- {---------------------------------------------------------- steps
-- codes of x: deterministic for aae/ae; for the vae a draw from q(z|x) (the aggregated
-- posterior is the mixture of those Gaussians) and its mean and log-variance
local function encode(x)
  local h = E(x)
  if ny > 0 then   -- style z first (what the prior's statistics see), then the class logits
    return h:narrow(2, ny + 1, cfg.nz), h:narrow(2, 1, ny)
  end
  if not vae then return h end
  local mu, logvar = h:narrow(2, 1, cfg.nz), h:narrow(2, cfg.nz + 1, cfg.nz)
  return mu + (logvar * 0.5):exp() * lg.randn(x:size(1), cfg.nz), mu, logvar
end

-- D_x's input: the code, for ssl with softmax(y) before it
local function dec_in(z, y) return y and lg.cat({y:softmax(2), z}, 2) or z end

-- reconstruction error in nats per image: the Bernoulli cross-entropy summed over pixels
local function recon_nats(x, z, y) return lg.bce_with_logits(Dx(dec_in(z, y)), x) * 784 end

-- KL(q(z|x) || p(z)) per image: closed form for the Gaussian prior, one-sample estimate
-- log q(z|x) - log p(z) for the mixture
local function kl(z, mu, logvar)
  if cfg.prior == "gauss" then
    local v = cfg.prior_std ^ 2
    return ((logvar:exp() + mu * mu) / v - 1 - logvar + math.log(v)):sum(2):mean() * 0.5
  end
  local e = (z - mu) / (logvar * 0.5):exp()
  local logq = (-(e * e) * 0.5 - logvar * 0.5):sum(2) - cfg.nz * 0.5 * math.log(2 * math.pi)
  return (logq - prior.log_prob(z)):mean()
end

local function ae_step(x)
  if sup then return lg.tensor(0), lg.tensor(0) end   -- sup: the supervised phase only
  local z, mu, logvar = encode(x)
  local rec = recon_nats(x, z, ny > 0 and mu or nil)
  local loss = vae and rec + kl(z, mu, logvar) or rec
  optAE:zero_grad()
  loss:backward()
  optAE:step()
  return rec, loss
end

-- the regularisation phase: Dz learns prior samples ("real") against codes ("fake"), then E
-- moves its codes towards what Dz calls real (the non-saturating loss)
-- (ssl: and Dy one-hot draws of Categorical(10) against softmax(y), in the same steps)
local function one_hots(n) return lg.one_hot(lg.randint(1, 11, {n}), 10) end
local function reg_step(x)
  local z, y = lg.no_grad(function() return encode(x) end)
  local n = x:size(1)
  local sp, sq = Dz(prior.sample(n)), Dz(z)
  local lossD = lg.bce_with_logits(sp, 1) + lg.bce_with_logits(sq, 0)
  if ssl then lossD = lossD + lg.bce_with_logits(Dy(one_hots(n)), 1) + lg.bce_with_logits(Dy(y:softmax(2)), 0) end
  optD:zero_grad()
  lossD:backward()
  optD:step()
  local ze, ye = encode(x)
  local lossE = lg.bce_with_logits(Dz(ze), 1)
  if ssl then lossE = lossE + lg.bce_with_logits(Dy(ye:softmax(2)), 1) end
  optE:zero_grad()
  lossE:backward()
  optE:step()
  return lossD, lossE, sp:sigmoid():mean(), sq:sigmoid():mean()
end

-- the semi-supervised phase (sec. 5): E's class logits on a labelled minibatch
local function sup_step()
  local xl, yl = table.unpack(labelled:next())
  local _, y = encode(xl)
  local loss = lg.cross_entropy(y, yl)
  optC:zero_grad()
  loss:backward()
  optC:step()
  return loss
end
-- }

-- {---------------------------------------------------------- evaluation
local function test_codes()
  return lg.no_grad(function()
    E:eval()
    local z, y = encode(xtest)
    E:train()
    return z, y
  end)
end

local mmd_null = A.mmd2(ref2 / prior.sd, ref / prior.sd)
local function evaluate()
  local z, y = test_codes()
  if ny == 0 then y = nil end
  local mean_dev, sd_dev = A.moments(z, prior.sd)
  local row = {mmd = A.mmd2(z / prior.sd, ref / prior.sd), mmd_null = mmd_null, mean_dev = mean_dev,
               sd_dev = sd_dev, recon_test = lg.no_grad(function() return recon_nats(xtest, z, y) end)}
  if y then   -- the class code as a classifier: error on the test digits
    local _, pred = y:max(2)
    row.test_err = 1 - pred:view(-1):eq(test.labels):mean():item()
  end
  return row
end

-- prior draws of D_x's whole input (ssl: a uniform class as a one-hot before the style)
local function prior_input(n)
  local z = prior.sample(n)
  return ny > 0 and lg.cat({one_hots(n), z}, 2) or z
end
local function decode(z) return lg.no_grad(function() return Dx(z):sigmoid() end) end

-- the test codes coloured by class over prior samples (grey): codes.png (the paper's Fig. 2)
local function draw_codes()
  lg.image.save(run.dir .. "/codes.png", A.render(test_codes(), test.labels, ref, prior.extent))
end
-- }

if ny > 0 then   -- the grid's classes in turn
  local classes = {}
  for i = 1, 64 do classes[i] = (i - 1) % 10 + 1 end
  z_grid = lg.cat({lg.one_hot(classes, 10), z_grid}, 2)
end
run:track{E = E, Dx = Dx, Dz = Dz, Dy = Dy, optAE = optAE, optD = optD, optE = optE, optC = optC, data = loader,
          labelled = labelled}
run:sampler(function() return decode(z_grid):view(64, 1, 28, 28) end, {range = {0, 1}})
print(("aae: %s, %s prior (%d-D, scale %g), %d training / %d validation / %d test digits, E %d / D_x %d / "
  .. "Dz %d parameters"):format(cfg.method, cfg.prior, cfg.nz, cfg.prior_std, ntrain, cfg.holdout, test.n,
  E:num_parameters(), Dx:num_parameters(), Dz:num_parameters()))

for it in run:iterations() do
  local x = loader:next()
  local rec, loss = ae_step(x)
  local row = {recon = rec, loss = loss}
  if it == 1 then   -- the first row fixes metrics.csv's columns: name them all
    for _, k in ipairs{"lossD", "lossE", "D_prior", "D_code", "mmd", "mmd_null", "mean_dev", "sd_dev",
                       "recon_test", "lossC", "test_err"} do row[k] = "" end
  end
  if cfg.method == "aae" or ssl then row.lossD, row.lossE, row.D_prior, row.D_code = reg_step(x) end
  if ssl or sup then row.lossC = sup_step() end
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
    print(("aae: iter %d  recon %.1f  mmd %.4f (null %.4f)  mean_dev %.3f  sd_dev %.3f%s")
      :format(it, row.recon_test:item(), row.mmd, mmd_null, row.mean_dev, row.sd_dev,
              type(row.test_err) == "number" and ("  test error %.4f"):format(row.test_err) or ""))
  end
  run:log(row)
end

draw_codes()
if cfg.parzen and not sup then   -- Table 1's protocol, luagan.parzen: sigma on the validation digits
  local t0 = lg.clock()
  local parts = {}
  for s = 1, cfg.parzen_samples, 1000 do
    parts[#parts + 1] = decode(prior_input(math.min(1000, cfg.parzen_samples - s + 1)))
  end
  local r = parzen.evaluate{samples = #parts == 1 and parts[1] or lg.cat(parts, 1), valid = valid, test = xtest}
  local summary = ("parzen: test log-likelihood %.1f +- %.1f nats (%d test digits, %d decoded prior samples, "
    .. "sigma %.4f chosen on %d validation digits; paper, Table 1: 340 +- 2 on MNIST) [%.1f s]")
    :format(r.mean, r.se, r.n, r.m, r.sigma, cfg.holdout, lg.clock() - t0)
  -- the same estimator with training digits as the samples: what a model that reproduces
  -- the data would score here (the scale for the number above)
  local nref = math.min(cfg.parzen_samples, ntrain)
  local real = parzen.evaluate{samples = xtrain:narrow(1, 1, nref), valid = valid, test = xtest}
  summary = summary .. ("\nreference: %d training digits as the samples score %.1f +- %.1f nats (sigma %.4f)")
    :format(nref, real.mean, real.se, real.sigma)
  run:write("parzen.txt", summary .. "\n")
  print(summary)
end
print(("code space: %s/codes.png"):format(run.dir))
