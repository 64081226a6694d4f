-- experiments/simgan.lua and its history buffer (experiments/lib/history.lua):
-- the buffer's mixing rule, a smoke run on the shipped MNIST subset with tiny
-- nets (phases, columns, the simulator's known error, the end-of-run
-- classifiers), resume, and bad flags.
local lg = require "luagan"

local History = dofile(ROOT .. "/experiments/lib/history.lua")
local tmp = temp_dir()
local run = experiment_runner("simgan.lua", tmp)

-- {---------------------------------------------------------- history buffer

test("history: batches fill the buffer, then half of D's batch comes from it", function()
  lg.manual_seed(3)
  local h = History(6, {1})
  local function batch(v) return lg.full({4, 1}, v) end
  -- empty buffer: the batch passes and its second half is stored
  eq(h:mix(batch(1)):view(-1):totable(), {1, 1, 1, 1})
  eq(h.filled, 2)
  -- then: 2 current images and 2 drawn from the stored ones (all 1s so far)
  eq(h:mix(batch(2)):view(-1):totable(), {2, 2, 1, 1})
  eq(h.filled, 4)
  local out = h:mix(batch(3)):view(-1):totable()
  eq({out[1], out[2]}, {3, 3})
  for i = 3, 4 do assert(out[i] == 1 or out[i] == 2, "drawn from the buffer: " .. out[i]) end
  eq(h.filled, 6)
  -- full: new images replace random entries, the size stays
  for _ = 1, 20 do h:mix(batch(9)) end
  eq(h.filled, 6)
  eq(h.images:size(1), 6)
  assert(h.images:eq(9):sum():item() >= 1, "new images entered the full buffer")
end)

test("history: state round trip and bad arguments", function()
  lg.manual_seed(4)
  local h = History(8, {2, 3})
  h:mix(lg.randn(4, 2, 3))
  h:mix(lg.randn(4, 2, 3))
  local g = History(8, {2, 3}):load_state_dict(h:state_dict())
  eq(g.filled, h.filled)
  near(g.images:totable(), h.images:totable(), 0)
  raises(function() History(0, {1}) end, "size must be a positive integer")
  raises(function() History(4) end, "the shape of one image")
  raises(function() h:mix(lg.randn(3, 2, 3)) end, "the batch must be even")
  raises(function() History(4, {1}):load_state_dict(h:state_dict()) end, "does not hold a buffer of 4")
end)
-- }

-- {---------------------------------------------------------- the script

local TINY = "--dataset mnist10k --width 4 --blocks 1 --batch 8 --history_size 16 --eval_n 32 "
  .. "--eval_every 4 --clf_steps 3 --clf_images 64 --sample_every 0 --checkpoint_every 0 "

test("simgan: pretraining, adversarial rounds, evaluation and the end-of-run classifiers", function()
  local out = tmp .. "/smoke"
  local code, stdout, stderr = run(TINY .. "--iters 12 --pretrain_r 4 --pretrain_d 2 --opt adam --lr 1e-2 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 12)
  for _, c in ipairs{"phase", "reg", "lossR", "lossD", "D_real", "D_refined", "l1_synthetic",
                     "l1_refined", "keep_clean", "keep_synthetic", "keep_refined", "acc_synthetic", "acc_refined"} do
    assert(table.concat(cols, ","):find(c, 1, true), "column " .. c)
  end
  -- phases: R alone (1-4), D alone (5-6), then rounds
  for i, r in ipairs(rows) do eq(r.phase, i <= 4 and 0 or i <= 6 and 1 or 2, "phase of row " .. i) end
  eq(rows[5].reg, nil, "D pretraining logs no R loss")
  assert(rows[7].lossR and rows[7].lossD, "a round logs both losses")
  -- L1 on its own pulls R towards the identity
  assert(rows[4].reg < rows[1].reg, ("reg %g -> %g"):format(rows[1].reg, rows[4].reg))
  -- the simulator's error is fixed; evaluations at 1, 4, 8, 12
  local evals = 0
  for _, r in ipairs(rows) do
    if r.l1_synthetic then
      evals = evals + 1
      near(r.l1_synthetic, rows[1].l1_synthetic, 1e-6)
      assert(r.keep_refined >= 0 and r.keep_refined <= 1)
    end
  end
  eq(evals, 4)
  -- the simulator of the defaults: blur sigma 1, contrast 0.6, offset 0.2 on [0, 1] pixels;
  -- its mean error on the evaluation batch, computed here independently
  local test_set = lg.data.load("mnist10k", "train")
  local clean = test_set.images:narrow(1, test_set.n // 2 + 1, 32)
  local r = 2
  local k = lg.tensor{-2, -1, 0, 1, 2}
  k = (-(k * k) / 2):exp()
  k = k / k:sum()
  local w = k:view(5, 1):matmul(k:view(1, 5)):view(1, 1, 5, 5)
  local sim = (lg.conv2d((clean + 1) / 2, w, nil, {padding = r}) * 0.6 + 0.2) * 2 - 1
  near(rows[1].l1_synthetic, (sim - clean):abs():mean():item(), 1e-5, "l1_synthetic")
  -- the classifiers run once, at the end, and give accuracies
  for i = 1, 11 do eq(rows[i].acc_refined, nil) end
  assert(rows[12].acc_synthetic >= 0 and rows[12].acc_synthetic <= 1)
  assert(rows[12].acc_refined >= 0 and rows[12].acc_refined <= 1)
  assert(stdout:find("test accuracy of a classifier trained on synthetic", 1, true), stdout)
end)

test("simgan: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 10 --pretrain_r 2 --pretrain_d 2 --seed 5 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 7 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("simgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--dataset nope")
  eq(code, 2); assert(err:find("fashion", 1, true) and err:find("mnist10k", 1, true), err)
  code, _, err = run("--dataset mnist10k --batch 7")
  eq(code, 2); assert(err:find("--batch must be even", 1, true), err)
  code, _, err = run("--dataset mnist10k --iters 5 --pretrain_r 4 --pretrain_d 2")
  eq(code, 2); assert(err:find("below --pretrain_r + --pretrain_d", 1, true), err)
  code, _, err = run("--dataset mnist10k --kg 0")
  eq(code, 2); assert(err:find("--kg and --kd must be >= 1", 1, true), err)
end)
-- }
