-- experiments/srgan.lua and its measures (experiments/lib/sr_metrics.lua):
-- bicubic upsampling, pixel shuffle, PSNR, SSIM and the high-frequency
-- energy on known values; a smoke run on the shipped MNIST subset with tiny
-- nets (phases, columns), resume, and bad flags.
local lg = require "luagan"

local SR = dofile(ROOT .. "/experiments/lib/sr_metrics.lua")
local tmp = temp_dir()
local run = experiment_runner("srgan.lua", tmp)

-- {---------------------------------------------------------- the measures

test("sr_metrics: Keys' cubic kernel and bicubic upsampling on known values", function()
  -- a = -0.5: k(0) = 1, k(1) = k(2) = 0, k(0.5) = 9/16, k(1.5) = -1/16
  near(SR.cubic(0, -0.5), 1, 1e-12)
  near(SR.cubic(1, -0.5), 0, 1e-12)
  near(SR.cubic(2, -0.5), 0, 1e-12)
  near(SR.cubic(0.5, -0.5), 0.5625, 1e-12)
  near(SR.cubic(-1.5, -0.5), -0.0625, 1e-12)
  -- every row of the interpolation matrix sums to 1 (constants stay constant)
  local U = SR.bicubic_matrix(7, 4, -0.5)
  eq(U.shape, {28, 7})
  near(U:sum(2):view(-1):totable(), lg.ones(28):totable(), 1e-6)
  -- PyTorch's F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False),
  -- whose kernel has a = -0.75, on this 3x3 image: rows 1 and 6 of its output
  local x = lg.tensor{{0, 1, 4}, {2, 3, 1}, {5, 0, 2}}:view(1, 1, 3, 3)
  local y = SR.bicubic(x, 2, -0.75):view(6, 6):totable()
  near(y[1], {-0.31640625, -0.10838318, 0.19047546, 1.69369507, 3.55239868, 4.68843079}, 1e-5)
  near(y[6], {5.91049194, 3.95507812, 0.70434570, -0.36178589, 1.35873413, 2.36090088}, 1e-5)
  -- a = -0.5 reproduces a linear ramp away from the border
  local ramp = lg.arange(8):view(1, 1, 1, 8):expand(1, 1, 8, 8):contiguous()
  local up = SR.bicubic(ramp, 4):view(32, 32)
  near(up[16]:narrow(1, 9, 16):totable(), ((lg.arange(8, 24) + 0.5) / 4 - 0.5):totable(), 1e-5)
  raises(function() SR.bicubic(lg.zeros(3, 3), 2) end, "x must be [N, C, H, W]")
  raises(function() SR.bicubic(x, 1.5) end, "scale must be a positive integer")
end)

test("sr_metrics: PSNR and SSIM on known values", function()
  local a = lg.rand(3, 1, 12, 12)
  local db, per = SR.psnr(a, a)
  eq(db, math.huge)
  eq(per:size(1), 3)
  -- an offset of 0.1 everywhere: MSE 0.01, 20 dB; with peak 2, 26.02 dB
  near(SR.psnr(a, a + 0.1), 20, 1e-4)
  near(SR.psnr(a, a + 0.1, 2), 20 + 20 * math.log(2, 10), 1e-4)
  near(SR.ssim(a, a, {window = 7}), 1, 1e-5)
  -- constant images 0.5 and 0.25: no variance, SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1)
  local c1 = 1e-4
  local s, ps = SR.ssim(lg.full({2, 1, 8, 8}, 0.5), lg.full({2, 1, 8, 8}, 0.25), {window = 7})
  near(s, (0.25 + c1) / (0.3125 + c1), 1e-5)
  eq(ps:size(1), 2)
  -- y = 1 - x: the structure term is -1 where the window sees variance, so SSIM < 0
  local img = lg.rand(1, 1, 11, 11)
  assert(SR.ssim(img, 1 - img) < 0, "an inverted image has negative SSIM")
  -- the Gaussian window sums to 1, is symmetric and peaks in the middle
  local w = SR.gaussian_window(11, 1.5):view(11, 11)
  near(w:sum():item(), 1, 1e-6)
  near(w[6][1]:item() / w[6][6]:item(), math.exp(-25 / 4.5), 1e-6)
  raises(function() SR.ssim(a, lg.rand(3, 1, 12, 11)) end, "shapes [3,1,12,12] and [3,1,12,11] differ")
  raises(function() SR.ssim(a, a, {window = 13}) end, "window 13 is larger than the 12x12 images")
  raises(function() SR.psnr(lg.rand(4, 4), lg.rand(4, 4)) end, "images must be [N, C, H, W]")
end)

test("sr_metrics: high-frequency energy of an impulse and of a constant", function()
  -- one bright pixel in the middle of 5x5: the valid 3x3 Laplacian is the stencil
  -- itself, mean 0, variance (16 + 4) / 9
  local x = lg.zeros(1, 1, 5, 5)
  x[1][1][3][3] = 1
  near(SR.hf_energy(x), 20 / 9, 1e-6)
  near(SR.hf_energy(lg.full({2, 1, 6, 6}, 0.3)), 0, 1e-10)
end)
-- }

-- {---------------------------------------------------------- the script

local TINY = "--dataset mnist10k --width 4 --blocks 1 --batch 4 --eval_n 20 --phi_steps 2 "
  .. "--sample_every 0 --checkpoint_every 0 "

test("srgan: SRResNet pretraining, then both arms, with every measure", function()
  local out = tmp .. "/smoke"
  local code, stdout, stderr = run(TINY .. "--iters 6 --pretrain 3 --eval_every 2 --lr 1e-3 --sample_every 6 --out " .. out)
  eq(code, 0, stderr)
  assert(stdout:find("srgan: ", 1, true), stdout)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 6)
  local header = table.concat(cols, ",")
  for _, c in ipairs{"mse", "content", "adv", "lossD", "D_real", "D_fake", "phi_scale", "fid_hr"} do
    assert(header:find(c, 1, true), "column " .. c)
  end
  for _, m in ipairs{"psnr", "ssim", "ssim11", "hf", "fid", "acc"} do
    for _, arm in ipairs{"bicubic", "srresnet", "srgan"} do assert(header:find(m .. "_" .. arm, 1, true), m .. "_" .. arm) end
  end
  -- steps 1-3: SRResNet alone; from 4 on both
  for i = 1, 3 do eq(rows[i].content, nil, "no SRGAN step at " .. i) end
  for i = 4, 6 do assert(rows[i].content and rows[i].lossD and rows[i].phi_scale > 0, "SRGAN step at " .. i) end
  -- evaluations at 2, 4, 6; SRGAN's from 4; bicubic's numbers do not change
  eq(rows[1].psnr_srresnet, nil)
  assert(rows[2].psnr_srresnet and not rows[2].psnr_srgan, "row 2: SRResNet only")
  for _, i in ipairs{4, 6} do
    assert(rows[i].psnr_srgan and rows[i].ssim_srgan and rows[i].fid_srgan, "row " .. i)
    near(rows[i].psnr_bicubic, rows[2].psnr_bicubic, 1e-6)
    assert(rows[i].ssim_srgan <= 1 and rows[i].ssim11_srgan <= 1)
  end
  -- bicubic beats a 4x4 average upsampled (about 16 dB on MNIST, here not learnt);
  -- the test split against itself is the FID floor, far below bicubic's
  assert(rows[6].psnr_bicubic > 10 and rows[6].psnr_bicubic < 30, rows[6].psnr_bicubic)
  assert(rows[6].fid_hr >= 0 and rows[6].fid_hr < rows[6].fid_bicubic, ("fid_hr %g, bicubic %g"):format(rows[6].fid_hr, rows[6].fid_bicubic))
  -- the grid: 8 rows of LR, bicubic, SRResNet, SRGAN, HR (5 tiles of 28 + padding)
  local grid = lg.image.load(out .. "/samples/iter-000006.png")
  eq(grid:size(3), 5 * 30 + 2)
  eq(grid:size(2), 8 * 30 + 2)
end)

test("srgan: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 6 --pretrain 2 --eval_every 3 --seed 5 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("srgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--dataset nope")
  eq(code, 2); assert(err:find("fashion", 1, true) and err:find("mnist10k", 1, true), err)
  code, _, err = run("--dataset mnist10k --iters 5 --pretrain 5")
  eq(code, 2); assert(err:find("--pretrain must be in [1, --iters)", 1, true), err)
  code, _, err = run("--dataset mnist10k --eval_n 1")
  eq(code, 2); assert(err:find("--eval_n must be >= 2", 1, true), err)
  code, _, err = run("--dataset mnist10k --content vgg")
  eq(code, 2); assert(err:find("features or mse", 1, true), err)
end)
-- }
