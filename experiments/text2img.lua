-- text2img.lua: Reed, Akata, Yan, Logeswaran, Schiele and Lee, "Generative Adversarial Text to
-- Image Synthesis" (ICML 2016): GAN-CLS (the matching-aware discriminator) and GAN-INT (text
-- embeddings interpolated for G), on MNIST digits with generated captions.
--
-- Each digit gets template captions naming its class, its thickness and its slant, measured on
-- the image (lib/captions.lua: "a bold 7 , slanted"). A bag-of-words text encoder is trained
-- first, with an image encoder, on a matching loss (a scaled joint embedding), then frozen; G
-- and D are experiments/cgan.lua's MLPs (lib/cond_mlp.lua) conditioned on its embedding.
-- --method plain: D sees (real, right text) and (fake, right text); cls adds (real, wrong text)
-- as fake; int adds to cls interpolated embeddings (beta 0.5) for G. Some (digit, thickness,
-- slant) combinations are held out of all training and asked for at evaluation. Evaluation:
-- the share of generated digits whose class (the MNIST classifier), thickness and slant match
-- the caption; D's score of real test digits with right against wrong captions (notes/text2img.md).
--
--   luagan experiments/text2img.lua [--method cls|int|plain] [--iters N] [--heldout LIST]
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim
local im = require "luagan.image_metrics"
local M = require "lib.cond_mlp"
local C = require "lib.captions"
local E = require "lib.text_encoder"

local run = lg.experiment{
  name = "text2img", iters = 3000, batch = 100, dataset = {"mnist10k", "mnist"},
  method = {"cls", "int", "plain"}, cls_weight = 0.5, interp_weight = 1.0, beta = 0.5,
  heldout = "28,14,3,39", captions = 4,
  emb = 32, enc_hidden = 256, enc_iters = 1500, enc_lr = 1e-3,
  nz = 100, gt = 32, g_hidden = 256, g_hidden2 = 512, dx = 240, dt = 50, d_hidden = 240,
  lr = 2e-4, dropout = 0.5,
  eval_every = 250, eval_per_combo = 25, sample_every = 1000, checkpoint_every = 1000,
  doc = {method = "cls: matching-aware D (GAN-CLS); int: cls and interpolated embeddings for G (GAN-INT-CLS); "
           .. "plain: the conditional GAN on the same embeddings",
         cls_weight = "weight of (real, wrong text) in D's loss; (fake, right text) gets 1 - it (cls, int)",
         interp_weight = "weight of the interpolated fakes in G's loss (int)",
         beta = "interpolation beta * t1 + (1 - beta) * t2 (int)",
         heldout = "combos (1..40, lib/captions.lua) left out of all training, comma-separated",
         captions = "captions averaged into one embedding per digit and step",
         emb = "text embedding size", enc_hidden = "hidden width of the text and image encoders",
         enc_iters = "Adam steps of the encoders before the GAN", enc_lr = "their learning rate",
         nz = "noise dimension", gt = "G's text projection, concatenated with z",
         g_hidden = "G's first hidden layer", g_hidden2 = "G's second hidden layer",
         dx = "D's hidden layer of x", dt = "D's hidden layer of the text", d_hidden = "D's joint hidden layer",
         lr = "Adam learning rate (beta1 0.5) of G and D", dropout = "dropout on D's hidden layers of x",
         eval_every = "evaluate every N iterations", eval_per_combo = "generated digits per combo at an evaluation",
         dataset = "mnist10k (shipped) or mnist"},
}
local cfg = run.config
if cfg.batch < 2 or cfg.batch % 2 ~= 0 then run:fail("--batch must be even (GAN-INT pairs its halves)") end
if cfg.captions < 1 or cfg.captions > C.VARIANTS then run:fail(("--captions must be in 1..%d"):format(C.VARIANTS)) end
if cfg.cls_weight < 0 or cfg.cls_weight >= 1 then run:fail("--cls_weight must be in [0, 1)") end
if cfg.eval_per_combo < 1 then run:fail("--eval_per_combo must be >= 1") end
local held, is_held = {}, {}
for s in cfg.heldout:gmatch("[^,%s]+") do
  local k = math.tointeger(tonumber(s))
  if not k or k < 1 or k > C.COMBOS then run:fail(("--heldout: '%s' is not a combo 1..%d"):format(s, C.COMBOS)) end
  held[#held + 1], is_held[k] = k, true
end
local seen = {}
for k = 1, C.COMBOS do if not is_held[k] then seen[#seen + 1] = k end end

-- {---------------------------------------------------------- data: digits in [0, 1] and their combos
local ok, train = pcall(lg.data.load, cfg.dataset, "train", {range = {0, 1}})
if not ok then run:fail(train) end
local test = lg.data.load(cfg.dataset, "test", {range = {0, 1}})
local xtrain = train.images:view(train.n, 784)
local th = C.fit(xtrain, train.labels)
-- the rows of x whose combo is (not) held out: x [n,784], combo [n]
local function split(x, labels, keep_held)
  local combo = C.combos(x, labels, th)
  local mask = lg.zeros(combo:size(1))
  for _, k in ipairs(held) do mask = mask + combo:eq(k) end
  if not keep_held then mask = 1 - mask end
  local idx = lg.nonzero(mask):view(-1)
  return x:index_select(1, idx), combo:index_select(1, idx)
end
local xs, cs = split(xtrain, train.labels, false)
local xtest, ctest = split(test.images:view(test.n, 784), test.labels, false)
local xtest_h, ctest_h = split(test.images:view(test.n, 784), test.labels, true)
local loader = lg.data.Loader({xs, cs}, {batch = cfg.batch})
-- every caption of every combo: caption (combo - 1) * VARIANTS + variant
local strings = {}
for k = 1, C.COMBOS do
  for v = 1, C.VARIANTS do strings[#strings + 1] = C.caption(k, v) end
end
local bow = C.bow(strings)
-- combos [n] -> caption rows [n * m], m random variants each
local function caption_rows(combo, m)
  local n = combo:size(1)
  local v = lg.randint(1, C.VARIANTS + 1, {n, m})
  return ((combo:view(n, 1) - 1) * C.VARIANTS + v):reshape(n * m)
end
-- }

-- {---------------------------------------------------------- the text encoder
-- A scaled version of Reed et al.'s deep symmetric structured joint embedding
-- (lib/text_encoder.lua): a bag-of-words text encoder and a pixel image encoder, trained on
-- a matching loss with the combos as the paper's classes, then frozen.
local enc = E.Encoders(#C.vocab, cfg.enc_hidden, cfg.emb)
local txt_enc, img_enc = enc.txt, enc.img
local function train_encoders()
  local enc_loader = lg.data.Loader({xs, cs}, {batch = cfg.batch})
  return E.train(enc, function()
    local x, combo = table.unpack(enc_loader:next())
    return x, bow:index_select(1, caption_rows(combo, 1)), combo
  end, cfg.enc_iters, cfg.enc_lr, C.COMBOS)
end
-- every combo's embedding: the mean over its captions [40, emb]
local function combo_embeddings(all)
  return all:view(C.COMBOS, C.VARIANTS, cfg.emb):mean(2)
end
-- the share of digits x whose combo's captions score highest among the candidate combos
local function retrieval(x, combo, candidates, temb)
  if x:size(1) == 0 then return -1 end
  local cand = lg.tensor(candidates)
  local scores = img_enc(x):matmul(temb:index_select(1, cand):t())
  local pick = cand:index_select(1, scores:argmax(2):view(-1))
  return pick:eq(combo):mean():item()
end
-- }

-- {---------------------------------------------------------- models: experiments/cgan.lua's nets on text
local netG = M.G{nz = cfg.nz, hidden = {cfg.g_hidden, cfg.g_hidden2}, ncond = cfg.gt,
  cond = function() return nn.Sequential(nn.Linear(cfg.emb, cfg.gt), nn.LeakyReLU(0.2)) end,
  mean = xs:mean(1)}
local netD = M.D{dx = cfg.dx, dy = cfg.dt, hidden = cfg.d_hidden, dropout = cfg.dropout, cond = "concat",
  y = function() return nn.Sequential(nn.Linear(cfg.emb, cfg.dt), nn.LeakyReLU(0.2)) end}
local optG = optim.Adam(netG:parameters(), {lr = cfg.lr, betas = {0.5, 0.999}})
local optD = optim.Adam(netD:parameters(), {lr = cfg.lr, betas = {0.5, 0.999}})
local bce = lg.bce_with_logits
run:track{G = netG, D = netD, optG = optG, optD = optD, data = loader}
-- }

-- {---------------------------------------------------------- evaluation
local oracle, why = im.for_dataset(cfg.dataset)
if not oracle then run:fail("text2img needs the MNIST classifier (" .. why .. ")") end
local per = cfg.eval_per_combo
-- fixed noise and captions (one variant per digit) for every combo, drawn once
local z_eval = lg.randn(C.COMBOS * per, cfg.nz)
local combo_eval = ((lg.arange(0, C.COMBOS * per) / per):floor() + 1)
local cap_eval = caption_rows(combo_eval, 1)
local temb   -- every caption's embedding, after the encoders are trained
-- wrong combos: for each combo of a batch, another seen combo drawn uniformly (the code's
-- "wrong" pairs are images of another class; here captions of another combo)
local seen_t = lg.tensor(seen)
local pos = {}
for k = 1, C.COMBOS do pos[k] = 0 end
for i, k in ipairs(seen) do pos[k] = i - 1 end
local pos_of = lg.tensor(pos)
local function wrong_combos(combo)
  local q = pos_of:index_select(1, combo) + lg.randint(1, #seen, {combo:size(1)})
  q = q - q:ge(#seen) * #seen
  return seen_t:index_select(1, q + 1)
end

-- combo -> digit, thick, slant (tensors, as C.split)
local function parts(combo)
  local k = combo - 1
  local digit = (k / 4):floor()
  local r = k - digit * 4
  local thick = (r / 2):floor()
  return digit + 1, thick + 1, r - thick * 2 + 1
end
-- agreement of generated digits x with the combos asked for: digit, thick, slant, all three
local function agreement(x, combo)
  local digit, want_t, want_s = parts(combo)
  local pred = oracle:predict(x, {range = {0, 1}}):argmax(2):view(-1)
  local thick, slant = C.attributes(x, digit, th)
  local d, t, s = pred:eq(digit), thick:eq(want_t), slant:eq(want_s)
  return {d:mean():item(), t:mean():item(), s:mean():item(), (d * t * s):mean():item()}
end
-- the rows of combos in list ks, of the evaluation batch
local function rows_of(ks)
  local mask = lg.zeros(combo_eval:size(1))
  for _, k in ipairs(ks) do mask = mask + combo_eval:eq(k) end
  return lg.nonzero(mask):view(-1)
end
local eval_seen, eval_held = rows_of(seen), #held > 0 and rows_of(held) or nil
-- the embedding of rows of caption indices, averaged over m captions per digit
local function embed(rows, m)
  local n = rows:size(1) // m
  return temb:index_select(1, rows):view(n, m, cfg.emb):mean(2)
end
-- D's mean probability on real test digits with a right and a wrong caption
local function d_gap()
  local rr, ww = lg.no_grad(function()
    netD:eval()
    local right = netD(xtest, embed(caption_rows(ctest, 1), 1)):sigmoid():mean():item()
    local wrong = netD(xtest, embed(caption_rows(wrong_combos(ctest), 1), 1)):sigmoid():mean():item()
    netD:train()
    return right, wrong
  end)
  return rr, ww
end

local function evaluate()
  return lg.no_grad(function()
    netG:eval()
    local x = netG(z_eval, embed(cap_eval, 1))
    netG:train()
    local a = agreement(x:index_select(1, eval_seen), combo_eval:index_select(1, eval_seen))
    local row = {digit_acc = a[1], thick_acc = a[2], slant_acc = a[3], attr_acc = a[4]}
    if eval_held then
      local h = agreement(x:index_select(1, eval_held), combo_eval:index_select(1, eval_held))
      row.ho_digit_acc, row.ho_thick_acc, row.ho_slant_acc, row.ho_acc = h[1], h[2], h[3], h[4]
    else
      row.ho_digit_acc, row.ho_thick_acc, row.ho_slant_acc, row.ho_acc = -1, -1, -1, -1
    end
    row.d_right, row.d_wrong = d_gap()
    row.d_gap = row.d_right - row.d_wrong
    return row
  end)
end
-- }

-- {---------------------------------------------------------- the encoders, then the GAN
-- trained anew on --resume too: the same seed gives the same encoders, and the harness restores
-- the random stream after this point
local enc_loss = train_encoders()
-- standardised per dimension over all captions: the encoder's outputs are small (norm about
-- 0.5 against the image side's tens) and would weigh nothing beside z at G's input
local raw = lg.no_grad(function() return txt_enc(bow) end)
temb = (raw - raw:mean(1, true)) / (raw:std(1, {keepdim = true}) + 1e-6)
local cemb = combo_embeddings(raw)   -- retrieval scores use the encoder's own outputs
local enc = lg.no_grad(function()
  return {enc_acc = retrieval(xtest, ctest, seen, cemb), enc_ho_acc = retrieval(xtest_h, ctest_h, held, cemb),
          enc_ho_any = retrieval(xtest_h, ctest_h, lg.arange(1, C.COMBOS + 1):totable(), cemb)}
end)

-- the grid: a row per caption (captions.txt), a column per noise vector
local show = {}
for d = 1, 10 do show[#show + 1] = (d - 1) * 4 + 1 end   -- thin upright 0..9
for _, k in ipairs{9, 10, 11, 12} do show[#show + 1] = k end   -- the four 2s
for _, k in ipairs(held) do show[#show + 1] = k end
local ncol = 8
local show_combo, lines = {}, {}
for i, k in ipairs(show) do
  local text = C.caption(k, 1) .. (is_held[k] and "   (held out)" or "")
  lines[#lines + 1] = ("row %d: %s"):format(i, text)
  for _ = 1, ncol do show_combo[#show_combo + 1] = (k - 1) * C.VARIANTS + 1 end
end
local captions_txt = table.concat(lines, "\n") .. "\n"   -- written into the run directory by the loop
local show_rows = lg.tensor(show_combo)
local z_show = z_eval:narrow(1, 1, ncol):unsqueeze(1):expand(#show, ncol, cfg.nz):reshape(#show * ncol, cfg.nz)
run:sampler(function()
  netG:eval()
  local x = netG(z_show, embed(show_rows, 1)):view(#show * ncol, 1, 28, 28)
  netG:train()
  return x
end, {range = {0, 1}, nrow = ncol})

print(("text2img: %s (%d training digits of %d seen combos, %d held out), --method %s, G %d / D %d parameters;"
  .. " encoders: match loss %.3f, test retrieval %.3f, held-out %.3f"):format(cfg.dataset, xs:size(1), #seen,
  #held, cfg.method, netG:num_parameters(), netD:num_parameters(), enc_loss, enc.enc_acc, enc.enc_ho_acc))
local cls = cfg.method ~= "plain" and cfg.cls_weight or 0
local half = cfg.batch // 2
for it in run:iterations() do
  if captions_txt then run:write("captions.txt", captions_txt); captions_txt = nil end
  local x, combo = table.unpack(loader:next())
  local t = embed(caption_rows(combo, cfg.captions), cfg.captions)
  local fake = netG(lg.randn(cfg.batch, cfg.nz), t)
  local ones, zeros = lg.ones(cfg.batch, 1), lg.zeros(cfg.batch, 1)
  -- D: Algorithm 1's three terms, weighted as main_cls_int.lua (cls_weight 0: the plain GAN)
  local sr, sf = netD(x, t), netD(fake:detach(), t)
  local lossD = bce(sr, ones) + bce(sf, zeros) * (1 - cls)
  local sw
  if cls > 0 then
    sw = netD(x, embed(caption_rows(wrong_combos(combo), cfg.captions), cfg.captions))
    lossD = lossD + bce(sw, zeros) * cls
  end
  optD:zero_grad()
  lossD:backward()
  optD:step()
  -- G: non-saturating; int adds fakes of beta t1 + (1 - beta) t2, t1 and t2 the batch's halves
  local lossG = bce(netD(fake, t), ones)
  if cfg.method == "int" then
    local ti = t:narrow(1, 1, half) * cfg.beta + t:narrow(1, half + 1, half) * (1 - cfg.beta)
    local fi = netG(lg.randn(half, cfg.nz), ti)
    lossG = (lossG * 2 + bce(netD(fi, ti), lg.ones(half, 1)) * cfg.interp_weight) / 3
  end
  optG:zero_grad()
  lossG:backward()
  optG:step()
  local row = {lossD = lossD, lossG = lossG, D_real = sr:sigmoid():mean(), D_fake = sf:sigmoid():mean(),
               D_wrong = sw and sw:sigmoid():mean() or -1}
  local evals = {"digit_acc", "thick_acc", "slant_acc", "attr_acc", "ho_digit_acc", "ho_thick_acc", "ho_slant_acc",
                 "ho_acc", "d_right", "d_wrong", "d_gap", "enc_acc", "enc_ho_acc", "enc_ho_any"}
  if it == 1 then for _, k in ipairs(evals) do row[k] = "" end end
  if it % cfg.eval_every == 0 or it == cfg.iters then
    for k, v in pairs(evaluate()) do row[k] = v end
    for k, v in pairs(enc) do row[k] = v end
  end
  run:log(row)
end
