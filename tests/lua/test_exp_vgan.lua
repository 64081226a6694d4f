-- experiments/vgan.lua and its data (experiments/lib/moving_digits.lua): the
-- clips are deterministic, the digit moves as its direction says and its
-- known region is where the clip changes; the change detector and IoU on
-- hand-made values; smoke runs of both generators with tiny nets (columns,
-- evaluations, the probe, frame strips), resume, and bad flags.
local lg = require "luagan"

local MD = dofile(ROOT .. "/experiments/lib/moving_digits.lua")
local tmp = temp_dir()
local run = experiment_runner("vgan.lua", tmp)

-- {---------------------------------------------------------- data

local digits = lg.data.load("mnist10k", "test")

test("moving_digits: clips are a function of (seed, index) only", function()
  local src = MD.new{digits = digits.images, labels = digits.labels, seed = 3}
  local a = src:clips(10, 4)
  eq(a.x.shape, {4, 1, 8, 32, 32})
  eq(a.mask.shape, {4, 8, 32, 32})
  local b = src:clips(12, 1)   -- clip 12 alone equals the third clip of the batch
  near(b.x:view(-1):totable(), a.x:narrow(1, 3, 1):view(-1):totable(), 0)
  eq(b.dir:totable(), {a.dir:totable()[3]})
  local other = MD.new{digits = digits.images, seed = 4}:clips(10, 4)
  assert((other.x - a.x):abs():max():item() > 0.1, "another seed gives other clips")
  assert(a.x:min():item() >= -1 and a.x:max():item() <= 1)
  raises(function() MD.new{digits = digits.images, size = 16, digit = 10, frames = 8} end, "leaves a 16 px frame")
end)

test("moving_digits: the digit moves in its direction; the background is static", function()
  local src = MD.new{digits = digits.images, seed = 1}
  local b = src:clips(1, 64)
  local xs = lg.arange(0, 32):view(1, 1, 32)   -- column coordinate
  for i = 1, 64 do
    local m = b.mask[i]                          -- [T,32,32]
    local area = m:sum(2):sum(2):view(-1)        -- per frame
    assert(area:min():item() > 0, "the digit is in every frame")
    local cx = ((m * xs):sum(2):sum(2):view(-1) / area):totable()
    local cy = ((m * xs:view(1, 32, 1)):sum(2):sum(2):view(-1) / area):totable()
    local dx, dy = cx[8] - cx[1], cy[8] - cy[1]
    local a = (b.dir[i]:item() - 1) * math.pi / 4
    -- 7 steps of 1-2 px along the direction: the displacement's projection on it
    local along = dx * math.cos(a) + dy * math.sin(a)
    assert(along > 4 and along < 16, ("clip %d: %.1f px along direction %d"):format(i, along, b.dir[i]:item()))
    -- where the digit never is, every frame equals the first
    local never = b.alpha[i]:sum(1):eq(0)
    local x = b.x[i][1]
    local diff = ((x - x:narrow(1, 1, 1)):abs() * never):max():item()
    eq(diff, 0, "static background of clip " .. i)
  end
  -- all 8 directions occur
  local seen = {}
  for _, d in ipairs(b.dir:totable()) do seen[d] = true end
  for d = 1, 8 do assert(seen[d], "direction " .. d) end
end)

test("moving_digits: change detector and IoU on known values", function()
  -- one clip of 4 frames of 1x3 pixels: pixel 1 static, pixel 2 changes in frame 4 only,
  -- pixel 3 jumps in frames 3 and 4 (median = the mean of the middle two values)
  local x = lg.tensor{{0, 0, 0}, {0, 0, 0}, {0, 0, 1}, {0, 1, 1}}:view(1, 1, 4, 1, 3)
  local c = MD.changed(x, 0.2)
  eq(c:view(-1):totable(), {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1})
  local a = lg.tensor{{1, 1, 0, 0}, {0, 0, 0, 0}}
  local b = lg.tensor{{1, 0, 1, 0}, {0, 0, 0, 0}}
  local per, mean = MD.iou(a, b)
  near(per:totable(), {1 / 3, 0}, 1e-6)
  near(mean, 1 / 6, 1e-6)
  -- on real clips the detector finds the digit's region
  local src = MD.new{digits = digits.images, seed = 2}
  local r = src:clips(1, 32)
  local _, iou = MD.iou(MD.changed(r.x, 0.2), r.mask)
  assert(iou > 0.6, "detector IoU on real clips " .. iou)
end)
-- }

-- {---------------------------------------------------------- the script

local TINY = "--width 2 --batch 4 --eval_every 3 --eval_n 8 --probe_clips 16 --probe_steps 5 "
  .. "--sample_every 0 --checkpoint_every 0 "

test("vgan: two-stream smoke run: columns, evaluations, probe, frame strips", function()
  local out = tmp .. "/two"
  local code, stdout, stderr = run(TINY .. "--iters 6 --sample_every 6 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 6)
  local have = table.concat(cols, ",")
  for _, c in ipairs{"lossD", "lossG", "l1_mask", "mask_iou", "mask_area", "mask_contrast", "motion_fake", "motion_real",
                     "motion_ratio", "detector_iou", "probe_trained", "probe_random", "probe_gain"} do
    assert(have:find(c, 1, true), "column " .. c)
  end
  local evals = 0
  for _, r in ipairs(rows) do
    if r.mask_iou then
      evals = evals + 1
      assert(r.mask_iou >= 0 and r.mask_iou <= 1)
      assert(r.motion_real > 0 and r.detector_iou > 0.5)
    end
  end
  eq(evals, 3)   -- iterations 1, 3, 6
  eq(rows[5].probe_trained, nil)
  assert(rows[6].probe_trained >= 0 and rows[6].probe_trained <= 1)
  near(rows[6].probe_gain, rows[6].probe_trained - rows[6].probe_random, 1e-6)
  assert(stdout:find("probe: motion direction", 1, true), stdout)
  -- 6 clips x (8 frames + 8 mask frames) of 32 px, 8 per row, 2 px padding
  local img = lg.image.load(out .. "/samples/iter-000006.png")
  eq(img:size(2), 12 * 34 + 2)
  eq(img:size(3), 8 * 34 + 2)
end)

test("vgan: one-stream run at 16 px has no mask columns", function()
  local out = tmp .. "/one"
  local code, _, stderr = run(TINY .. "--iters 3 --streams 1 --size 16 --probe false --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 3)
  local have = table.concat(cols, ",")
  assert(not have:find("mask", 1, true) and not have:find("probe", 1, true), have)
  assert(rows[3].motion_fake >= 0)
end)

test("vgan: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 6 --probe false --seed 5 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("vgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--streams 3")
  eq(code, 2); assert(err:find("streams", 1, true), err)
  code, _, err = run("--size 64")
  eq(code, 2); assert(err:find("size", 1, true), err)
  code, _, err = run("--frames 16")
  eq(code, 2); assert(err:find("only 8 is supported", 1, true), err)
  code, _, err = run("--width 0")
  eq(code, 2); assert(err:find("--width must be >= 1", 1, true), err)
end)
-- }
