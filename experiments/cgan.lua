-- cgan.lua: Mirza and Osindero, "Conditional Generative Adversarial Nets" (arXiv 1411.1784,
-- 2014), with the projection discriminator of Miyato and Koyama, "cGANs with Projection
-- Discriminator" (ICLR 2018) as the other way of giving D the label.
--
-- G and D both see the digit's class y: G(z, y) takes a label embedding concatenated with z;
-- D either concatenates a hidden layer of x with one of y (--cond concat, the paper's MNIST D)
-- or adds the inner product of a class embedding with its features to an
-- unconditional logit (--cond projection, Miyato and Koyama); --cond none ignores y (the
-- unconditional baseline). The label enters through nn.Embedding (a linear layer on the one-hot
-- vector). Evaluation: the image-metrics MNIST classifier's agreement with the requested class,
-- and intra-class diversity against real digits of each class. Notes: notes/cgan.md.
--
--   luagan experiments/cgan.lua [--cond concat|projection|none] [--iters N] [--dataset mnist10k|mnist]
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local im = require "luagan.image_metrics"
local M = require "lib.cond_mlp"

local run = lg.experiment{
  name = "cgan", iters = 6000, batch = 100, dataset = {"mnist10k", "mnist"},
  cond = {"concat", "projection", "none"},
  nz = 100, gy = 10, g_hidden = 256, g_hidden2 = 512, dx = 240, dy = 50, d_hidden = 240,
  lr = 2e-4, dropout = 0.5,
  eval_every = 500, eval_per_class = 100, sample_every = 2000, checkpoint_every = 2000,
  doc = {cond = "how D sees the label: concat (the paper), projection (Miyato and Koyama) or none (unconditional G and D)",
         nz = "noise dimension", gy = "size of G's label embedding, concatenated with z",
         g_hidden = "G's first hidden layer", g_hidden2 = "G's second hidden layer", dx = "D's hidden layer of x", dy = "D's hidden layer of y (concat)",
         d_hidden = "D's joint hidden layer (the features projected on with --cond projection)",
         lr = "Adam learning rate (beta1 0.5) of G and D", dropout = "dropout on D's hidden layers",
         eval_every = "evaluate every N iterations", eval_per_class = "generated digits per class at an evaluation",
         dataset = "mnist10k (shipped) or mnist"},
}
local cfg = run.config
if cfg.eval_per_class < 2 then run:fail("--eval_per_class must be >= 2") end

-- {---------------------------------------------------------- data: digits in [0, 1], classes 1..10
local ok, train = pcall(lg.data.load, cfg.dataset, "train", {range = {0, 1}})
if not ok then run:fail(train) end
local K = 10
local loader = lg.data.Loader({train.images:view(train.n, 784), train.labels}, {batch = cfg.batch})
local test = lg.data.load(cfg.dataset, "test", {range = {0, 1}})
-- }

-- {---------------------------------------------------------- models
-- G: [z, embed(y)] -> g_hidden -> g_hidden2 (batch norm, ReLU) -> 784 sigmoid (lib/cond_mlp.lua): the
-- label is concatenated with the noise at the input (the paper combines z and y in a joint hidden
-- representation; where is a design choice). The paper's separate hidden layers of
-- z (200) and y (1000) were tried first and G ignored z (notes/cgan.md). --cond none: z alone.
-- D (the paper's widths 240, 50, 240; its maxout units as LeakyReLU 0.2, dropout): x -> dx;
-- concat: y -> dy, concatenated, -> d_hidden -> logit; projection: x's branch -> d_hidden = phi(x), logit
-- psi(phi) + <embed(y), phi> (Miyato and Koyama's projection).
local conditional = cfg.cond ~= "none"
local netG = M.G{nz = cfg.nz, hidden = {cfg.g_hidden, cfg.g_hidden2}, ncond = cfg.gy,
  cond = conditional and function() return nn.Embedding(K, cfg.gy) end or nil,
  mean = train.images:view(train.n, 784):mean(1)}
local netD = M.D{dx = cfg.dx, dy = cfg.dy, hidden = cfg.d_hidden, dropout = cfg.dropout, cond = cfg.cond,
  classes = K, y = function() return nn.Sequential(nn.Embedding(K, cfg.dy), nn.LeakyReLU(0.2)) end}   -- no dropout on the label
local optG = optim.Adam(netG:parameters(), {lr = cfg.lr, betas = {0.5, 0.999}})
local optD = optim.Adam(netD:parameters(), {lr = cfg.lr, betas = {0.5, 0.999}})
local loss = gan.non_saturating
local function labels(n) return lg.randint(1, K + 1, {n}) end
-- }

-- {---------------------------------------------------------- evaluation
-- Fixed noise and labels: eval_per_class digits of each class, drawn once, so evaluations
-- draw nothing from the training's random stream.
local per = cfg.eval_per_class
local z_eval = lg.randn(K * per, cfg.nz)
local function class_list(n, of_row)
  local t = {}
  for i = 1, n do t[i] = of_row(i - 1) + 1 end
  return lg.tensor(t)
end
local y_eval = class_list(K * per, function(i) return i // per end)
local oracle, why = im.for_dataset(cfg.dataset)
if not oracle then print("cgan: no classifier (" .. why .. "): cond_acc and diversity are logged as -1") end

-- mean L2 distance between distinct rows of f [n, d]
local function mean_pairwise(f)
  local n, sq = f:size(1), (f * f):sum(2, true)
  local d2 = (sq + sq:t() - f:matmul(f:t()) * 2):clamp(0, math.huge)
  return (d2:sqrt():sum():item()) / (n * (n - 1))   -- the zero diagonal adds nothing
end

-- per class: the real test digits' features and their mean pairwise distance
local real_class = {}
if oracle then
  local f = oracle:features(test.images, {range = {0, 1}})
  for c = 1, K do
    local idx = lg.nonzero(test.labels:eq(c)):view(-1)
    local fc = f:index_select(1, idx)
    real_class[c] = {f = fc, spread = mean_pairwise(fc), stats = nil}
  end
end

local function evaluate()
  if not oracle then return {cond_acc = -1, diversity = -1, class_fid = -1, fid = -1} end
  return lg.no_grad(function()
    netG:eval()
    local x = netG(z_eval, y_eval)
    netG:train()
    local row = {cond_acc = oracle:accuracy(x, y_eval, {range = {0, 1}})}
    local f = oracle:features(x, {range = {0, 1}})
    local ratio, cfid = 0, 0
    for c = 1, K do
      local fc = f:narrow(1, (c - 1) * per + 1, per)
      ratio = ratio + mean_pairwise(fc) / real_class[c].spread
      local rc = real_class[c]
      rc.stats = rc.stats or oracle:feature_stats(test.images:index_select(1,
        lg.nonzero(test.labels:eq(c)):view(-1)), {range = {0, 1}})
      cfid = cfid + oracle:fid(x:narrow(1, (c - 1) * per + 1, per), rc.stats, {range = {0, 1}})
    end
    row.diversity, row.class_fid = ratio / K, cfid / K
    row.fid = oracle:fid(x, nil, {range = {0, 1}})
    return row
  end)
end
-- }

run:track{G = netG, D = netD, optG = optG, optD = optD, data = loader}
-- the grid: a row per noise vector, a column per class
local z_show = z_eval:narrow(1, 1, 8):unsqueeze(2):expand(8, K, cfg.nz):reshape(8 * K, cfg.nz)
local y_show = class_list(80, function(i) return i % K end)
run:sampler(function()
  netG:eval()
  local x = netG(z_show, y_show):view(80, 1, 28, 28)
  netG:train()
  return x
end, {range = {0, 1}, nrow = K})

print(("cgan: %s (%d digits), --cond %s, G %d / D %d parameters, batch %d"):format(cfg.dataset, train.n,
  cfg.cond, netG:num_parameters(), netD:num_parameters(), cfg.batch))
for it in run:iterations() do
  local x, y = table.unpack(loader:next())
  local yf = labels(cfg.batch)
  local fake = netG(lg.randn(cfg.batch, cfg.nz), yf)
  local sr, sf = netD(x, y), netD(fake:detach(), yf)
  local lossD = loss.d(sr, sf)
  optD:zero_grad()
  lossD:backward()
  optD:step()
  local lossG = loss.g(netD(fake, yf))
  optG:zero_grad()
  lossG:backward()
  optG:step()
  local row = {lossD = lossD, lossG = lossG, D_real = sr:sigmoid():mean(), D_fake = sf:sigmoid():mean()}
  if it == 1 then for _, k in ipairs{"cond_acc", "diversity", "class_fid", "fid"} do row[k] = "" end end
  if it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
  end
  run:log(row)
end
