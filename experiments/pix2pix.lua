-- pix2pix.lua: Isola, Zhu, Zhou and Efros, "Image-to-Image Translation with Conditional
-- Adversarial Networks" (CVPR 2017), and sketch retrieval with the trained discriminator's
-- features as in Creswell and Bharath, "Adversarial Training for Sketch Retrieval" (ECCV 2016
-- workshops).
--
-- A U-Net G translates edge maps of Fashion-MNIST images into the images, trained with
-- lambda * L1 plus a conditional PatchGAN loss (eq. 4); --gan false is the L1-only arm,
-- --lambda 0 the cGAN-only arm (Table 1's rows). Evaluated on test images: L1 to the target,
-- FID-lite and the image-metrics classifier's accuracy on the outputs (the FCN-score's role),
-- sharpness. At the end, retrieval: edge maps of test images query a gallery of other test
-- images' edge maps, ranked by raw pixels or by D's features; precision@10, also for rotated
-- queries.
-- Notes: notes/pix2pix.md.
--
--   luagan experiments/pix2pix.lua [--lambda X] [--gan true|false] [--iters N] [--dataset fashion|mnist10k|mnist]
local lg = require "luagan"
local nn, optim, gan = lg.nn, lg.optim, lg.gan
local im = require "luagan.image_metrics"
local nets = require "lib.nets"
local unet = require "lib.unet"
local edges = require "lib.edges"

local run = lg.experiment{
  name = "pix2pix", iters = 1500, batch = 32, dataset = {"fashion", "mnist10k", "mnist"},
  sample_every = 1000, checkpoint_every = 1000,
  lambda = 100, gan = true, lr = 2e-4, ngf = 16, levels = 5, dropout = 2, ndf = 16,
  edge_frac = 0.25, eval_every = 250, eval_n = 1000,
  queries = 1000, gallery = 2000, k = 10, rotate = 15,
  doc = {lambda = "weight of the L1 term (mean per pixel, as the authors' AbsCriterion); 0: the cGAN-only arm",
         gan = "train with the conditional adversarial term (false: the L1-only arm, D stays at its initialisation)",
         lr = "Adam learning rate of G and D (beta1 0.5)", ngf = "U-Net's first width (then x2, capped at x4)",
         levels = "U-Net levels (5: 32 px down to 1x1)", dropout = "innermost decoder levels with dropout 0.5",
         ndf = "PatchGAN's first width", edge_frac = "edge threshold, a fraction of each image's largest Sobel magnitude",
         eval_every = "evaluate every N iterations", eval_n = "test images per evaluation",
         queries = "retrieval queries (test images 1..queries)", gallery = "gallery (the next test images)",
         k = "precision@k", rotate = "queries rotated by +- this many degrees for the robustness test",
         dataset = "fashion (make datasets), mnist10k (shipped) or mnist"},
}
local cfg = run.config
if cfg.lambda < 0 then run:fail("--lambda must be >= 0") end
if cfg.lambda == 0 and not cfg.gan then run:fail("--lambda 0 with --gan false trains nothing") end
if cfg.edge_frac <= 0 or cfg.edge_frac >= 1 then run:fail("--edge_frac must be in (0, 1)") end
if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2") end

-- {---------------------------------------------------------- data: (edge map, image) pairs, 32 px
local ok, train = pcall(lg.data.load, cfg.dataset, "train")
if not ok then run:fail(train) end
local test = lg.data.load(cfg.dataset, "test")
if cfg.queries + cfg.gallery > test.n or cfg.eval_n > test.n then
  run:fail(("--queries + --gallery (%d) and --eval_n must fit in the %d test images")
    :format(cfg.queries + cfg.gallery, test.n))
end
if cfg.k > cfg.gallery then run:fail("--k must be <= --gallery") end
local function pairs32(images) return {nets.to_size(edges.map(images, cfg.edge_frac), 32), nets.to_size(images, 32)} end
local loader = lg.data.Loader(pairs32(train.images), {batch = cfg.batch})
local eval_x = test.images:narrow(1, 1, cfg.eval_n)
local eval_e = pairs32(eval_x)[1]
local eval_y = test.labels:narrow(1, 1, cfg.eval_n)
-- }

-- {---------------------------------------------------------- models (lib/unet.lua)
local G = unet.G{ngf = cfg.ngf, levels = cfg.levels, dropout = cfg.dropout}
local D = unet.D{ndf = cfg.ndf, cin = 2}   -- sees (edge map, image): the conditional GAN
local adam = {lr = cfg.lr, betas = {0.5, 0.999}}
local optG, optD = optim.Adam(G:parameters(), adam), optim.Adam(D:parameters(), adam)
local loss = gan.non_saturating   -- G trained with the "real" label on D(x, G(x)), as the authors' code
-- }

-- {---------------------------------------------------------- evaluation
-- G runs in training mode at test time too (batch statistics, dropout as the noise z), as the
-- paper does (sec. 3.1 and 6.1.1).
local function translate(e)
  return lg.no_grad(function()
    local parts = {}
    for s = 1, e:size(1), 500 do parts[#parts + 1] = G(e:narrow(1, s, math.min(500, e:size(1) - s + 1))) end
    return lg.cat(parts, 1)
  end)
end

local oracle = im.for_dataset(cfg.dataset)
local function sharpness(x) return edges.sobel(x):mean():item() end
local function evaluate()
  local out = nets.to_28(translate(eval_e))
  local row = {l1 = (out - eval_x):abs():mean():item(), sharp = sharpness(out) / sharpness(eval_x),
               fid = -1, acc = -1, acc_real = -1}   -- -1: no classifier for this dataset
  if oracle then
    row.fid = oracle:fid(out, eval_x)
    row.acc, row.acc_real = oracle:accuracy(out, eval_y), oracle:accuracy(eval_x, eval_y)
  end
  return row
end

local function unit(f) return f / ((f * f):sum(2, true):sqrt() + 1e-8) end
-- D's features of (edge map, image) pairs: every hidden layer's activations
-- max-pooled to 4x4 and normalised, concatenated (Radford et al. 2016, sec. 5.1)
local function d_features(e, y)
  return lg.no_grad(function()
    D:eval()
    local parts = {}
    for _, h in ipairs(unet.features(D, lg.cat({e, y}, 2))) do
      parts[#parts + 1] = unit(lg.max_pool2d(h, h:size(3) // 4):reshape(e:size(1), -1))
    end
    D:train()
    return lg.cat(parts, 2)
  end)
end

-- Retrieval (Creswell and Bharath, scaled): the edge maps of test images 1..queries query
-- the next `gallery` test images, whose edge maps are known (as in sketch-based retrieval);
-- relevant = same class. Cosine distance on: pixels (query edge map against the gallery's
-- edge maps), D (D's features of (edge map, G's translation) on both sides: D is trained to
-- tell real pairs from generated ones, so a real gallery pair would sit apart from every
-- query), gen_pixels (G's translation against the gallery images), oracle (the classifier's
-- features of G's translation and of the gallery images; trained with labels, a reference).
local function retrieval()
  local q = test.images:narrow(1, 1, cfg.queries)
  local qy = test.labels:narrow(1, 1, cfg.queries)
  local g = test.images:narrow(1, cfg.queries + 1, cfg.gallery)
  local gy = test.labels:narrow(1, cfg.queries + 1, cfg.gallery)
  local ge = pairs32(g)[1]
  local gal = {pixels = unit(nets.to_28(ge):reshape(cfg.gallery, -1)), D = d_features(ge, translate(ge)),
               gen_pixels = unit(g:reshape(cfg.gallery, -1)), oracle = oracle and unit(oracle:features(g))}
  local function scores(qe)   -- qe: query edge maps [N,1,28,28]
    local e32 = nets.to_size(qe, 32)
    local out = translate(e32)
    local feats = {pixels = unit(qe:reshape(cfg.queries, -1)), D = d_features(e32, out),
                   gen_pixels = unit(nets.to_28(out):reshape(cfg.queries, -1)),
                   oracle = oracle and unit(oracle:features(nets.to_28(out)))}
    local r = {}
    for name, f in pairs(feats) do r[name] = edges.precision_at_k(f, qy, gal[name], gy, cfg.k) end
    return r
  end
  local qe = edges.map(q, cfg.edge_frac)
  local row, plain = {}, scores(qe)
  local plus = scores(edges.rotate(qe, cfg.rotate):gt(0) * 2 - 1)   -- re-binarised after bilinear rotation
  local minus = scores(edges.rotate(qe, -cfg.rotate):gt(0) * 2 - 1)
  for _, name in ipairs{"pixels", "D", "gen_pixels", "oracle"} do
    row["p10_" .. name] = plain[name] or -1
    row["p10_" .. name .. "_rot"] = plain[name] and (plus[name] + minus[name]) / 2 or -1
  end
  return row
end
-- }

run:track{G = G, D = D, optG = optG, optD = optD, loader = loader}
local show_e, show_x = eval_e:narrow(1, 1, 16), eval_x:narrow(1, 1, 16)
run:sampler(function()   -- rows: input edges, output, target
  return lg.cat({nets.to_28(show_e), nets.to_28(G(show_e)), show_x}, 1)
end, {nrow = 16})

print(("pix2pix: %s, %d training pairs, G %d / D %d parameters, batch %d, lambda %g, %s")
  :format(train.name, train.n, G:num_parameters(), D:num_parameters(), cfg.batch, cfg.lambda,
          cfg.gan and "L1 + cGAN" or "L1 only"))

-- one step: D on (x, y) against (x, G(x)) with its loss halved, then G (the authors' train.lua)
local function step()
  local e, y = table.unpack(loader:next())
  local fake = G(e)
  local row = {}
  if cfg.gan then
    local sr, sf = D(lg.cat({e, y}, 2)), D(lg.cat({e, fake:detach()}, 2))
    local lossD = loss.d(sr, sf) * 0.5
    optD:zero_grad()
    lossD:backward()
    optD:step()
    row.lossD, row.D_real, row.D_fake = lossD, sr:sigmoid():mean(), sf:sigmoid():mean()
  end
  local l1 = (fake - y):abs():mean()
  local lossG = l1 * cfg.lambda
  if cfg.gan then
    row.lossG_gan = loss.g(D(lg.cat({e, fake}, 2)))
    lossG = lossG + row.lossG_gan
  end
  optG:zero_grad()
  lossG:backward()
  optG:step()
  row.l1_train = l1
  return row
end

local COLUMNS = {"lossD", "D_real", "D_fake", "lossG_gan", "l1", "fid", "acc", "acc_real", "sharp",
                 "p10_pixels", "p10_D", "p10_gen_pixels", "p10_oracle", "p10_pixels_rot", "p10_D_rot",
                 "p10_gen_pixels_rot", "p10_oracle_rot"}
for it in run:iterations() do
  local row = step()
  if it == 1 then   -- the first row fixes metrics.csv's columns: name them all
    for _, k in ipairs(COLUMNS) do if row[k] == nil then row[k] = "" end end
  end
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
  end
  if it == cfg.iters then
    for k, v in pairs(retrieval()) do row[k] = v end
    print(("pix2pix: precision@%d pixels %.3f, D features %.3f; rotated +-%g deg: %.3f, %.3f")
      :format(cfg.k, row.p10_pixels, row.p10_D, cfg.rotate, row.p10_pixels_rot, row.p10_D_rot))
  end
  run:log(row)
end
