-- Smoke tests of the 2-D mode-collapse experiments (experiments/unrolled_gan.lua,
-- lsgan.lua, wgan_gp.lua, mode_count.lua and experiments/lib/toy.lua): each
-- script runs a few seeded iterations of a small net in a child process;
-- losses must be finite, the evaluation columns present and in range, and
-- the discriminator must learn (its loss moves away from chance).
local expdir = ROOT .. "/experiments/"
package.path = expdir .. "?.lua;" .. package.path    -- as luagan puts a script's directory
local toy = require "lib.toy"
local nets = require "lib.nets"

local tmp = temp_dir()
local read = read_file

local function run(script, flags) return run_experiment(tmp, script, flags) end
local csv = read_csv

-- common checks of a 2-D run directory; returns its rows
local function check_run(dir, iters, modes_total)
  local rows, header = csv(dir .. "/metrics.csv")
  eq(#rows, iters, dir .. ": one row per iteration")
  for _, k in ipairs{"lossD", "lossG", "modes", "hq", "rev_kl", "hops", "modeset", "near"} do
    local found = false
    for _, h in ipairs(header) do found = found or h == k end
    assert(found, dir .. ": column " .. k .. " missing from " .. table.concat(header, ","))
  end
  local evals = 0
  for _, r in ipairs(rows) do
    assert(finite(r.lossD) and finite(r.lossG), ("%s: loss not finite at iter %d"):format(dir, r.iter))
    if r.modes then
      evals = evals + 1
      assert(r.modes >= 0 and r.modes <= modes_total and r.hq >= 0 and r.hq <= 1 and
             finite(r.near) and finite(r.rev_kl), dir .. ": evaluation out of range")
    end
  end
  assert(rows[1].modes and rows[#rows].modes, dir .. ": evaluations at the first and last iteration")
  assert(evals >= 3, dir .. ": evaluations every --eval_every")
  assert(read(dir .. "/samples/iter-" .. ("%06d"):format(iters) .. ".png"), dir .. ": final scatter")
  return rows
end

local function mean_of(rows, key, from, to)
  local s = 0
  for i = from, to do s = s + rows[i][key] end
  return s / (to - from + 1)
end

test("toy metric: real data scores all modes, a collapsed G one, noise little", function()
  lg.manual_seed(3)
  for _, name in ipairs{"ring8", "grid25", "swissroll"} do
    local ds = toy.dataset(name, name == "swissroll" and "wgangp" or "pacgan")
    local real = toy.coverage(ds:sample(2500), ds)
    eq(real.modes, ds.modes_total, name .. " real modes")
    assert(real.hq > 0.95 and real.near < 0.1, name .. " real hq " .. real.hq)
    local noise = toy.coverage(lg.randn(2500, 2) * 3, ds)
    assert(noise.hq < 0.2 and noise.near > real.near * 3, name .. " noise hq " .. noise.hq)
    -- every sample on the first centre: one mode, all HQ
    local one = ds.eval.centres:narrow(1, 1, 1):expand(100, 2):contiguous()
    local c = toy.coverage(one, ds)
    eq(c.modes, 1, name .. " collapsed modes")
    eq(c.set, 1, name .. " collapsed set")
    near(c.hq, 1, 1e-6)
  end
  -- gan_toy.py's constants: the ring is divided by 1.414
  local w = toy.dataset("ring8", "wgangp")
  near(w.std, 0.02 / 1.414, 1e-9)
end)

test("nets.orthogonal_ gives orthonormal rows / columns", function()
  lg.manual_seed(1)
  for _, shape in ipairs{{16, 40}, {40, 16}, {24, 24}} do
    local w = lg.zeros(shape[1], shape[2])
    nets.orthogonal_(w, 1.4)
    local small = math.min(shape[1], shape[2])
    local gram = shape[1] <= shape[2] and w:matmul(w:t()) or w:t():matmul(w)
    -- gram = 1.96 I: its entries sum to 1.96 small, their squares to 1.96^2 small
    near((gram / 1.96):sum():item(), small, 1e-3, "sum")
    near(((gram / 1.96) ^ 2):sum():item(), small, 1e-3, "off-diagonal zero")
  end
end)

test("toy.render draws each point set in its colour on white", function()
  -- a real point (blue) at the origin and a generated one (red) at (1, 1), extent 2, 4 px
  local pic = toy.render({{lg.tensor{{0.5, -0.5}}, toy.BLUE}, {lg.tensor{{-1.5, 1.5}}, toy.RED}}, 2, 4)
  eq(pic.shape, {1, 3, 4, 4})
  local px = pic:view(3, 4, 4):totable()
  -- (0.5, -0.5): column 3, row 3 (y up): red and green darkened, blue full
  near({px[1][3][3], px[2][3][3], px[3][3][3]}, {0.6, 0.6, 1}, 1e-6, "blue point")
  -- (-1.5, 1.5): column 1, row 1: green and blue darkened
  near({px[1][1][1], px[2][1][1], px[3][1][1]}, {1, 0.6, 0.6}, 1e-6, "red point")
  eq(pic:sum():item() > 3 * 16 - 2, true, "white elsewhere")
end)

test("nets.mlp builds maxout and normal-init nets with zero biases", function()
  lg.manual_seed(2)
  local m = nets.mlp{nin = 4, nout = 1, hidden = 3, layers = 2, act = "maxout", pieces = 5,
                     init = "normal", std = 0.02}
  eq(#m, 3)
  eq(m[1].__name, "Maxout")
  eq(m[1].linear.weight.shape, {15, 4})
  eq(m[3].bias:abs():sum():item(), 0)
  eq(m(lg.randn(6, 4)).shape, {6, 1})
  raises(function() nets.mlp{nin = 1, nout = 1, hidden = 1, act = "gelu"} end, "act must be")
end)

test("unrolled_gan: K = 2 (second order) runs, D learns, resume is exact", function()
  local flags = "--iters 40 --batch 64 --nz 8 --hidden 16 --lr_d 3e-3 --unroll 2 --eval_every 10 " ..
                "--sample_every 0 --checkpoint_every 20 --seed 2"
  local code, out = run("unrolled_gan.lua", flags .. " --out u")
  eq(code, 0)
  assert(out:find("final  modes", 1, true), out)
  local rows = check_run(tmp .. "/u", 40, 8)
  -- D's BCE starts at 2 log 2 (chance) and drops as D learns
  assert(mean_of(rows, "lossD", 31, 40) < mean_of(rows, "lossD", 1, 5) - 0.01, "D learns")
  -- stopped at 20 and resumed: the same metrics.csv
  eq(run("unrolled_gan.lua", flags .. " --out r --stop_at 20"), 0)
  eq(run("unrolled_gan.lua", "--resume r"), 0)
  eq(read(tmp .. "/r/metrics.csv"), read(tmp .. "/u/metrics.csv"), "resumed metrics.csv")
end)

test("lsgan: LS and BCE runs are finite and D learns", function()
  for _, loss in ipairs{"ls", "bce"} do
    local code = run("lsgan.lua", ("--loss %s --iters 60 --batch 64 --nz 8 --hidden 16 --lr_d 3e-3 " ..
      "--eval_every 20 --sample_every 0 --checkpoint_every 0 --seed 1 --out l-%s"):format(loss, loss))
    eq(code, 0, loss)
    local rows = check_run(tmp .. "/l-" .. loss, 60, 8)
    assert(mean_of(rows, "lossD", 51, 60) < mean_of(rows, "lossD", 1, 5) - 0.01, loss .. ": D learns")
  end
end)

test("wgan_gp: ring and swiss roll; the penalty is finite, falls and holds the norm near 1", function()
  for _, dsname in ipairs{"ring8", "swissroll"} do
    local code = run("wgan_gp.lua", ("--dataset %s --iters 30 --batch 64 --hidden 32 --lr 1e-3 " ..
      "--eval_every 10 --sample_every 0 --checkpoint_every 0 --seed 1 --out w-%s"):format(dsname, dsname))
    eq(code, 0, dsname)
    local rows = check_run(tmp .. "/w-" .. dsname, 30, dsname == "swissroll" and 20 or 8)
    for _, r in ipairs(rows) do assert(finite(r.gp) and finite(r.grad_norm), "gp finite") end
    -- the penalty falls from its first value as the critic's gradient norm settles near 1
    assert(mean_of(rows, "gp", 21, 30) < rows[1].gp, dsname .. ": penalty falls")
    local gn = mean_of(rows, "grad_norm", 21, 30)
    assert(gn > 0.3 and gn < 3, dsname .. ": critic gradient norm near 1, got " .. gn)
  end
end)

test("wgan_gp: --mode dcgan trains the plain GAN in the toy harness (one D step, no penalty)", function()
  local code = run("wgan_gp.lua", "--mode dcgan --iters 30 --batch 64 --hidden 32 --lr 1e-3 " ..
    "--eval_every 10 --sample_every 0 --checkpoint_every 0 --seed 1 --out w-gan")
  eq(code, 0)
  local rows = check_run(tmp .. "/w-gan", 30, 8)
  eq(rows[1].gp, nil, "no penalty column")
  -- a sigmoid D's cross-entropy: near 2 log 2 at the start, falling as D learns
  assert(math.abs(rows[1].lossD - 2 * math.log(2)) < 0.5, "lossD starts near 2 log 2, got " .. rows[1].lossD)
  assert(mean_of(rows, "lossD", 21, 30) < rows[1].lossD, "D learns")
end)

test("mode_count: seeds x packs in one invocation, summary with mean +- sd", function()
  local code, out = run("mode_count.lua", "--dataset grid25 --iters 30 --batch 32 --g_hidden 16 " ..
    "--d_units 8 --lr 1e-3 --seeds 2 --packs 1,2 --eval_every 10 --sample_every 0 " ..
    "--checkpoint_every 0 --out m")
  eq(code, 0)
  assert(out:find("PacGAN2", 1, true) and out:find("+-", 1, true), out)
  local summary = assert(read(tmp .. "/m/summary.csv"))
  local n = 0
  for _ in summary:gmatch("\ngrid25,") do n = n + 1 end
  eq(n, 4, "4 runs in summary.csv")
  for _, sub in ipairs{"grid25-pac1-seed1", "grid25-pac1-seed2", "grid25-pac2-seed1", "grid25-pac2-seed2"} do
    local rows = check_run(tmp .. "/m/" .. sub, 30, 25)
    assert(mean_of(rows, "lossD", 26, 30) < mean_of(rows, "lossD", 1, 3), sub .. ": D learns")
  end
  -- different seeds train different models
  assert(read(tmp .. "/m/grid25-pac1-seed1/metrics.csv") ~= read(tmp .. "/m/grid25-pac1-seed2/metrics.csv"))
  -- a bad flag is refused with exit status 2
  eq((run("mode_count.lua", "--packs 0")), 2)
end)

os.execute("rm -rf " .. sh_quote(tmp))
