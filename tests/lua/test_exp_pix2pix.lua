-- experiments/pix2pix.lua and its libraries (experiments/lib/edges.lua, lib/unet.lua):
-- edge maps, rotation and precision@k on known values, the U-Net's and PatchGAN's shapes,
-- a smoke run of each arm on the shipped MNIST subset with tiny nets (columns, evaluations,
-- retrieval at the end), resume, and bad flags.
local lg = require "luagan"

local edges = dofile(ROOT .. "/experiments/lib/edges.lua")
local unet = dofile(ROOT .. "/experiments/lib/unet.lua")
local tmp = temp_dir()
local run = experiment_runner("pix2pix.lua", tmp)

-- {---------------------------------------------------------- edges and retrieval

test("edges: Sobel magnitude of a vertical step and its thresholded map", function()
  -- rows of 0 0 1 1 on [0, 1] pixels: d/dx = 4 on the two middle columns (weights 1, 2, 1
  -- down the rows, replicated borders), 0 on the outer ones; d/dy = 0
  local x = lg.tensor{{{{-1, -1, 1, 1}, {-1, -1, 1, 1}, {-1, -1, 1, 1}}}}
  near(edges.sobel(x):view(-1):totable(), {0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0}, 1e-6)
  eq(edges.map(x, 0.5):view(-1):totable(), {-1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1})
  -- a flat image has no edges at any threshold
  eq(edges.map(lg.full({1, 1, 4, 4}, 0.3), 0.1):eq(-1):sum():item(), 16)
end)

test("edges: rotation by 0 and 90 degrees moves pixels exactly, other angles fill outside", function()
  local x = lg.arange(1, 10):view(1, 1, 3, 3)
  near(edges.rotate(x, 0):view(-1):totable(), x:view(-1):totable(), 1e-6)
  -- 90 degrees clockwise on screen: the left column, read upwards, becomes the top row
  near(edges.rotate(x, 90):view(-1):totable(), {7, 4, 1, 8, 5, 2, 9, 6, 3}, 1e-5)
  near(edges.rotate(x, -90):view(-1):totable(), {3, 6, 9, 2, 5, 8, 1, 4, 7}, 1e-5)
  -- 7x7 by 45 degrees: the corner's source is 4.24 px left of the centre column, outside
  local r = edges.rotate(lg.ones(1, 1, 7, 7), 45, -1)
  near(r[{1, 1, 1, 1}]:item(), -1, 1e-6, "corner outside the rotated square takes the fill")
  near(r[{1, 1, 4, 4}]:item(), 1, 1e-6, "the centre stays")
end)

test("edges: precision@k counts the k nearest gallery rows of the query's class", function()
  local g = lg.tensor{{0, 0}, {0, 1}, {5, 5}, {5, 6}, {9, 9}}
  local gy = lg.tensor{1, 1, 2, 2, 1}
  local q = lg.tensor{{0, 0.2}, {5, 5.2}}
  -- query 1: nearest 0,0 and 0,1 (class 1, 1); query 2: 5,5 and 5,6 (class 2, 2) -> 1
  near(edges.precision_at_k(q, lg.tensor{1, 2}, g, gy, 2), 1, 1e-6)
  -- k = 3: query 1 adds 5,5 (class 2), query 2 adds 0,1 (class 1) -> 4 / 6
  near(edges.precision_at_k(q, lg.tensor{1, 2}, g, gy, 3), 4 / 6, 1e-6)
  -- query 2 labelled 1: its two nearest are class 2 -> (2 + 0) / 4
  near(edges.precision_at_k(q, lg.tensor{1, 1}, g, gy, 2), 0.5, 1e-6)
end)

test("unet: G keeps the 32 px shape in [-1, 1], D gives a 16x16 map of logits", function()
  lg.manual_seed(1)
  local G, D = unet.G{ngf = 4, levels = 5, dropout = 2}, unet.D{ndf = 4}
  local e = lg.randn(3, 1, 32, 32)
  local y = G(e)
  eq(y.shape, {3, 1, 32, 32})
  assert(y:abs():max():item() <= 1, "tanh output")
  eq(D(lg.cat({e, y}, 2)).shape, {3, 1, 16, 16})
  local f = unet.features(D, lg.cat({e, y}, 2))
  eq(#f, 2)
  eq(f[1].shape, {3, 4, 16, 16})
  eq(f[2].shape, {3, 8, 16, 16})
  -- the skips: the output depends on the input through the outermost level's concat, so a
  -- change of one input pixel changes the output near it
  G:eval()
  local e2 = e:clone()
  e2[{1, 1, 16, 16}] = e2[{1, 1, 16, 16}] + 5
  assert((G(e2) - G(e)):abs():max():item() > 0, "the output follows the input")
  -- dropout levels: 2 of the 4 inner decoder levels
  local drops = 0
  G:apply(function(m) if m.__name == "Dropout" then drops = drops + 1 end end)
  eq(drops, 2)
  raises(function() unet.G{levels = 1} end, "levels must be >= 2")
end)
-- }

-- {---------------------------------------------------------- the script

local TINY = "--dataset mnist10k --ngf 4 --ndf 4 --batch 8 --eval_n 32 --queries 20 --gallery 40 "
  .. "--k 5 --sample_every 0 --checkpoint_every 0 "
local EVAL = {"l1", "fid", "acc", "acc_real", "sharp"}
local RETRIEVAL = {"p10_pixels", "p10_D", "p10_gen_pixels", "p10_oracle", "p10_pixels_rot", "p10_D_rot"}

test("pix2pix: L1 + cGAN, evaluations and retrieval at the end", function()
  local out = tmp .. "/smoke"
  local code, stdout, stderr = run(TINY .. "--iters 6 --eval_every 3 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 6)
  local all = table.concat(cols, ",")
  for _, c in ipairs{"lossD", "D_real", "D_fake", "lossG_gan", "l1_train"} do assert(all:find(c, 1, true), c) end
  for i, r in ipairs(rows) do
    assert(r.lossD and r.lossG_gan and r.l1_train, "losses in row " .. i)
    local evaluated = i == 1 or i % 3 == 0
    for _, c in ipairs(EVAL) do eq(r[c] ~= nil, evaluated, c .. " in row " .. i) end
    for _, c in ipairs(RETRIEVAL) do eq(r[c] ~= nil, i == 6, c .. " in row " .. i) end
  end
  local last = rows[6]
  for _, c in ipairs(RETRIEVAL) do assert(last[c] >= 0 and last[c] <= 1, c) end
  -- the classifier on the targets themselves: the ceiling of acc
  assert(last.acc_real > 0.9, "the classifier on the targets: " .. last.acc_real)
  assert(stdout:find("precision@5 pixels", 1, true), stdout)
end)

test("pix2pix: the L1-only and cGAN-only arms", function()
  local a, b = tmp .. "/l1", tmp .. "/cgan"
  local code, _, err = run(TINY .. "--iters 4 --eval_every 2 --gan false --seed 2 --out " .. a)
  eq(code, 0, err)
  local rows = read_csv(a .. "/metrics.csv")
  eq(rows[1].lossD, nil, "no D step without the GAN term")
  eq(rows[1].lossG_gan, nil)
  assert(rows[4].l1 and rows[4].p10_D, "evaluation and retrieval with the untrained D")
  code, _, err = run(TINY .. "--iters 4 --eval_every 2 --lambda 0 --seed 2 --out " .. b)
  eq(code, 0, err)
  local c = read_csv(b .. "/metrics.csv")
  assert(c[1].lossD and c[1].lossG_gan, "cGAN arm trains D")
  -- the pixel baseline reads edge maps only: equal in both arms
  near(c[4].p10_pixels, rows[4].p10_pixels, 1e-9)
  near(c[4].p10_pixels_rot, rows[4].p10_pixels_rot, 1e-9)
end)

test("pix2pix: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 6 --eval_every 2 --seed 5 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 3 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("pix2pix: bad flags exit 2 with a message", function()
  local code, _, err = run("--dataset nope")
  eq(code, 2); assert(err:find("fashion", 1, true) and err:find("mnist10k", 1, true), err)
  code, _, err = run("--dataset mnist10k --lambda 0 --gan false")
  eq(code, 2); assert(err:find("trains nothing", 1, true), err)
  code, _, err = run("--dataset mnist10k --lambda -1")
  eq(code, 2); assert(err:find("--lambda must be >= 0", 1, true), err)
  code, _, err = run("--dataset mnist10k --edge_frac 1")
  eq(code, 2); assert(err:find("--edge_frac must be in (0, 1)", 1, true), err)
  code, _, err = run("--dataset mnist10k --queries 900 --gallery 900")
  eq(code, 2); assert(err:find("must fit in the", 1, true), err)
  code, _, err = run("--dataset mnist10k --k 50 --queries 20 --gallery 20 --eval_n 32")
  eq(code, 2); assert(err:find("--k must be <= --gallery", 1, true), err)
end)
-- }
