-- experiments/lapgan.lua: a smoke run of each method on the shipped MNIST subset with tiny
-- nets (per-level losses, evaluations with the Parzen estimate and the classifier metrics,
-- the sample grid of the three levels), resume, and bad flags.
local tmp = temp_dir()
local run = experiment_runner("lapgan.lua", tmp)

local TINY = "--dataset mnist10k --g_hidden 16 --d_hidden 16 --nz 8 --width 2 --batch 8 --eval_n 16 "
  .. "--parzen_samples 20 --holdout 30 --eval_every 3 --checkpoint_every 0 "

local function columns(cols) return "," .. table.concat(cols, ",") .. "," end

test("lapgan: three levels trained per iteration, evaluations, the pyramid's sample grid", function()
  local out = tmp .. "/lap"
  local code, stdout, stderr = run(TINY .. "--iters 6 --sample_every 6 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 6)
  local have = columns(cols)
  for _, c in ipairs{"lossD2", "lossG2", "lossD1", "lossG1", "lossD0", "lossG0", "parzen", "parzen_se",
                     "parzen_sigma", "classes", "mode_score", "fid", "train_s"} do
    assert(have:find("," .. c .. ",", 1, true), "column " .. c)
  end
  for i, r in ipairs(rows) do
    for _, c in ipairs{"lossD2", "lossD1", "lossD0", "lossG2", "lossG1", "lossG0"} do
      assert(r[c] and r[c] > 0, ("row %d: %s"):format(i, c))
    end
  end
  local evals = {}
  for _, r in ipairs(rows) do if r.parzen then evals[#evals + 1] = r end end
  eq(#evals, 3)   -- iterations 1, 3, 6
  for _, r in ipairs(evals) do
    assert(r.parzen_se > 0 and r.parzen_sigma >= 0.1 - 1e-6 and r.parzen_sigma <= 1 + 1e-6, "parzen sigma on the grid")
    assert(r.classes >= 1 and r.classes <= 10, "classes")
  end
  assert(evals[3].train_s > evals[1].train_s, "training time accumulates")
  -- the grid holds 3 rows of 16 samples (7x7, 14x14, 28x28 levels)
  local png = read_file(out .. "/samples/iter-000006.png")
  assert(png, "sample grid written")
  assert(stdout:find("lapgan: lapgan, mnist10k", 1, true), stdout)
end)

test("lapgan: the gan method trains one 28x28 level (with the authors' SGD)", function()
  local out = tmp .. "/gan"
  local code, _, stderr = run(TINY .. "--method gan --optim sgd --iters 4 --sample_every 0 --out " .. out)
  eq(code, 0, stderr)
  local rows = read_csv(out .. "/metrics.csv")
  eq(#rows, 4)
  assert(rows[2].lossD0 and rows[2].lossG0, "level 0 losses")
  eq(rows[2].lossD1, nil)
  eq(rows[2].lossD2, nil)
  assert(rows[4].parzen and rows[4].classes, "last iteration evaluated")
end)

test("lapgan: a resumed run writes the same losses and metrics", function()
  local flags = TINY .. "--iters 6 --sample_every 0 --seed 5 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  local ra, rb = read_csv(a .. "/metrics.csv"), read_csv(b .. "/metrics.csv")
  eq(#rb, #ra)
  for i, r in ipairs(ra) do
    for k, v in pairs(r) do   -- the timings differ; everything else is bit-identical
      if k ~= "train_s" and k ~= "parzen_s" then eq(rb[i][k], v, ("row %d, %s"):format(i, k)) end
    end
  end
  assert(rb[6].train_s >= rb[3].train_s, "training time carried over by the checkpoint")
end)

test("lapgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--method nope")
  eq(code, 2); assert(err:find("lapgan", 1, true) and err:find("gan", 1, true), err)
  code, _, err = run("--holdout 0")
  eq(code, 2); assert(err:find("--holdout must be >= 1", 1, true), err)
  code, _, err = run("--dropout 1")
  eq(code, 2); assert(err:find("--dropout must be in [0, 1)", 1, true), err)
  code, _, err = run("--batch 9000")
  eq(code, 2); assert(err:find("training digits for batches of 9000", 1, true), err)
end)

-- {---------------------------------------------------------- experiments/lib/pyramid.lua
local lg = require "luagan"
local pyr = dofile(ROOT .. "/experiments/lib/pyramid.lua")

test("pyramid: up is bilinear x2 (align_corners false), down is 2x2 averaging", function()
  local x = lg.tensor({{1, 2, 0}, {3, 4, -1}}):view(1, 1, 2, 3)
  -- torch.nn.functional.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
  near(pyr.up(x):view(4, 6):totable(), {
    {1.0, 1.25, 1.75, 1.5, 0.5, 0.0}, {1.5, 1.75, 2.25, 1.8125, 0.4375, -0.25},
    {2.5, 2.75, 3.25, 2.4375, 0.3125, -0.75}, {3.0, 3.25, 3.75, 2.75, 0.25, -1.0}}, 1e-6)
  -- channels and batch rows are upsampled independently
  local y = lg.cat({x, x * 2}, 2)
  near(pyr.up(y):narrow(2, 2, 1):totable(), (pyr.up(x) * 2):totable(), 1e-6)
  -- 2x2 means of the rows above
  near(pyr.down(pyr.up(x)):view(2, 3):totable(), {{1.375, 1.828125, 0.171875}, {2.875, 3.046875, -0.296875}}, 1e-6)
  near(pyr.down(lg.arange(16):view(1, 1, 4, 4)):view(4):totable(), {2.5, 4.5, 10.5, 12.5}, 1e-6)
end)

test("pyramid: bands of a digit reconstruct it; the residual is 7x7", function()
  local x = lg.data.load("mnist10k", "test", {limit = 4}).images
  local l = pyr.laplacian(x, 3)
  eq(l[1].shape, {4, 1, 28, 28})
  eq(l[2].shape, {4, 1, 14, 14})
  eq(l[3].shape, {4, 1, 7, 7})
  near((pyr.reconstruct(l) - x):abs():max():item(), 0, 1e-5)
  -- the bands are band-pass: their 2x2 means are small next to the image's
  assert(pyr.down(l[1]):abs():mean():item() < 0.5 * pyr.down(x):abs():mean():item())
end)
-- }
