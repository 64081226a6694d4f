-- Smoke tests of the image experiments: experiments/dcgan.lua, wgan.lua,
-- mrgan.lua and their helpers in experiments/lib/nets.lua.  Each script runs
-- in a child process for a few iterations with tiny nets (seeded), and the
-- tests check that it exits cleanly, that the logged losses are finite and
-- that things move the expected way.
local lg = require "luagan"

local nets = dofile(ROOT .. "/experiments/lib/nets.lua")

local tmp = temp_dir()
local read = read_file

-- runs experiments/<script> from the checkout's root with flags
local function run(script, flags) return run_experiment(ROOT, script, "--threads 1 " .. flags, tmp) end

-- metrics.csv as {columns = {...}, rows = {{col = number or nil}}}
local function metrics(dir)
  local rows, cols = read_csv(dir .. "/metrics.csv")
  return {columns = cols, rows = rows}
end

local function all_finite(m, keys)
  for i, r in ipairs(m.rows) do
    for _, k in ipairs(keys) do
      assert(finite(r[k]), ("row %d: %s = %s is not finite"):format(i, k, tostring(r[k])))
    end
  end
end

-- {---------------------------------------------------------- nets

test("nets: DCGAN G and D at 28, 32 and 64 px", function()
  lg.manual_seed(1)
  for _, s in ipairs{28, 32, 64} do
    local G = nets.dcgan_G{size = s, nz = 8, ngf = 4, channels = 3}
    local D = nets.dcgan_D{size = s, ndf = 4, channels = 3}
    G:apply(lg.nn.init.dcgan)
    D:apply(lg.nn.init.dcgan)
    local x = G(lg.randn(2, 8))
    eq(x.shape, {2, 3, s, s}, "G output at " .. s)
    eq(D(x).shape, {2, 1}, "D output at " .. s)
    local f = nets.features(D, x)
    eq(#f, s == 64 and 4 or 3, "feature blocks at " .. s)
    eq(f[1]:size(2), 4, "first block width")
    -- BN everywhere but G's output and D's input
    eq(G[#G].__name, "Tanh", "G ends with Tanh")
    eq(D[2].__name, "LeakyReLU", "no BN after D's input conv")
  end
  local y = nets.to_size(lg.zeros(2, 1, 28, 28), 32)
  eq(y.shape, {2, 1, 32, 32})
  near(y:sum():item(), -(32 * 32 - 28 * 28) * 2, 1e-6, "padding is background (-1)")
  eq(nets.to_size(lg.zeros(1, 1, 28, 28), 64).shape, {1, 1, 64, 64})
  -- to_28 undoes to_size at 32 and 64 px and views MLP rows as images
  local x = lg.rand(3, 1, 28, 28) * 2 - 1
  for _, size in ipairs{28, 32, 64} do
    near(nets.to_28(nets.to_size(x, size)):totable(), x:totable(), 1e-6, "round trip at " .. size)
  end
  eq(nets.to_28(x:view(3, 784)).shape, {3, 1, 28, 28})
end)

test("nets: Hungarian W1 is exact", function()
  lg.manual_seed(3)
  -- against brute force over all 6! matchings
  local n = 6
  local a, b = lg.randn(n, 2), lg.randn(n, 2)
  local c = ((a:view(n, 1, 2) - b:view(1, n, 2)) ^ 2):sum(3):sqrt():totable()
  local best = math.huge
  local perm, used = {}, {}
  local function rec(i, acc)
    if acc >= best then return end
    if i > n then best = acc return end
    for j = 1, n do
      if not used[j] then
        used[j] = true
        perm[i] = j
        rec(i + 1, acc + c[i][j])
        used[j] = false
      end
    end
  end
  rec(1, 0)
  near(nets.exact_w1(a, b), best / n, 1e-5, "W1 vs brute force")
  -- a translated copy: W1 = the shift; a shuffled copy: 0
  local x = lg.randn(64, 2)
  near(nets.exact_w1(x, x + lg.tensor{{0.5, 0}}), 0.5, 1e-4, "translation")
  near(nets.exact_w1(x, x:index_select(1, lg.randperm(64))), 0, 1e-6, "permutation")
end)

-- }

-- {---------------------------------------------------------- dcgan.lua

test("dcgan: a tiny run trains, samples and probes", function()
  local dir = tmp .. "/dcgan"
  local code, out = run("dcgan.lua", "--iters 5 --batch 16 --size 28 --ngf 4 --ndf 4 --nz 16 "
    .. "--dataset mnist10k --probe --probe_labels 100 --probe_steps 5 --sample_every 0 --out " .. sh_quote(dir))
  eq(code, 0, "exit status")
  local m = metrics(dir)
  eq(#m.rows, 5)
  all_finite(m, {"lossD", "lossG", "D_real", "D_fake"})
  assert(m.rows[5].lossD < m.rows[1].lossD, "D's loss falls in the first steps")
  assert(m.rows[5].D_real > m.rows[1].D_real, "D(x) rises on real data")
  assert(read(dir .. "/samples/iter-000005.png"), "sample grid")
  local probe = assert(read(dir .. "/probe.csv"), "probe.csv")
  local n = 0
  for name, kind, acc in probe:gmatch("\n([%w_]+),([%w_]+),([%d.]+)") do
    n = n + 1
    local a = tonumber(acc)
    assert(a > 0.1 and a <= 1, ("%s/%s accuracy %g: better than chance"):format(name, kind, a))
  end
  eq(n, 5, "probe rows")
  assert(out:find("it/s", 1, true), "logs iterations/s")
end)

-- }

-- {---------------------------------------------------------- wgan.lua

test("wgan: 2-D critic clipped, estimate and exact W1 logged", function()
  local dir = tmp .. "/wgan"
  local code, out = run("wgan.lua", "--iters 3 --eval_every 1 --hidden 16 --w1_n 32 "
    .. "--sample_every 0 --out " .. sh_quote(dir))
  eq(code, 0, "exit status")
  local m = metrics(dir)
  eq(#m.rows, 3)
  all_finite(m, {"lossD", "lossG", "w_est", "w_train", "w1", "w1_se", "modes", "hq"})
  eq(m.rows[1].d_steps, 100, "warm-up: 100 critic steps")
  assert(m.rows[3].w1_se > 0, "W1 averaged over several draws has a standard error")
  assert(m.rows[3].w_est > 0, "the critic separates real from fake (W_hat > 0)")
  assert(m.rows[3].w1 > 0.1, "G starts far from the grid")
  -- the critic's weights stay within the clipping box (clamped before each
  -- step, so the last RMSprop step may leave it by a little)
  local t = lg.load(dir .. "/checkpoint.safetensors")
  local worst = 0
  for k, v in pairs(t) do
    if k:match("^D%.") then worst = math.max(worst, v:abs():max():item()) end
  end
  assert(worst > 0 and worst < 0.012, "critic weights clipped to 0.01, max " .. worst)
end)

test("wgan: MNIST MLP generators with MLP or DCGAN critics (--arch, --critic)", function()
  -- {flags, G width, G outputs, first critic weight}: the default MLP pair; the
  -- authors' README MLP run (MLP_G 512 at 32 px, DCGAN critic); their --mlp_D
  local cases = {
    {"--arch mlp", 256, 784, {256, 784}},
    {"--arch mlp512 --ndf 4", 512, 1024, {4, 1, 4, 4}},
    {"--arch mlp512 --critic mlp", 512, 784, {512, 784}},
  }
  for i, c in ipairs(cases) do
    local dir = tmp .. "/wgan_mlp" .. i
    eq((run("wgan.lua", "--dataset mnist10k " .. c[1] .. " --iters 2 --warmup false --eval_every 1 --eval_n 50 "
      .. "--sample_every 0 --out " .. sh_quote(dir))), 0, c[1] .. ": exit status")
    local m = metrics(dir)
    eq(#m.rows, 2)
    all_finite(m, {"lossD", "lossG", "classes", "top_share", "mode_score"})
    local t = lg.load(dir .. "/checkpoint.safetensors")
    eq(t["G.0.weight"].shape, {c[2], 100}, c[1] .. ": G width")
    eq(t["G.6.weight"].shape, {c[3], c[2]}, c[1] .. ": G output layer")
    eq(t["D.0.weight"].shape, c[4], c[1] .. ": critic's first layer")
  end
  -- images: the estimate against the MODE score over the evaluations after the warm-up
  local dir = tmp .. "/wgan_rho"
  eq((run("wgan.lua", "--dataset mnist10k --arch mlp512 --ndf 4 --iters 40 --warmup false --eval_every 5 "
    .. "--eval_n 50 --sample_every 0 --out " .. sh_quote(dir))), 0, "exit status")
  local n, rho = read(dir .. "/summary.txt"):match("over (%d+) evaluations after the warm%-up: Spearman "
    .. "rho%(w_est, MODE score%) = (%-?[%d.]+)")
  eq(tonumber(n), 3, "evaluations at 30, 35, 40")
  assert(tonumber(rho) >= -1 and tonumber(rho) <= 1, "a correlation")
  for _, bad in ipairs{"--arch mlp1024", "--critic conv", "--arch dcgan --critic mlp"} do
    eq((run("wgan.lua", "--dataset mnist10k " .. bad .. " --iters 1 --out " .. sh_quote(tmp .. "/wgan_bad"))), 2,
      bad .. " refused")
  end
end)

test("wgan: an interrupted run resumes bit-identically", function()
  local flags = "--iters 4 --eval_every 2 --hidden 8 --w1_n 16 --sample_every 0 "
  local a, b = tmp .. "/wgan_straight", tmp .. "/wgan_resumed"
  eq((run("wgan.lua", flags .. "--out " .. sh_quote(a))), 0)
  eq((run("wgan.lua", flags .. "--stop_at 3 --out " .. sh_quote(b))), 0)
  eq((run("wgan.lua", "--resume " .. sh_quote(b))), 0)
  eq(read(b .. "/metrics.csv"), read(a .. "/metrics.csv"), "metrics.csv")
end)

test("wgan: GAN baseline and the MNIST critic run", function()
  local dir = tmp .. "/wgan_gan"
  eq((run("wgan.lua", "--loss gan --iters 60 --eval_every 1 --hidden 16 --w1_n 16 --w1_reps 2 --est_n 64 "
    .. "--sample_every 0 --out "
    .. sh_quote(dir))), 0, "gan exit status")
  local m = metrics(dir)
  all_finite(m, {"lossD", "lossG", "w_est", "w_train", "w1"})
  eq(m.rows[1].d_steps, 1, "one D step")
  local sm = read(dir .. "/summary.txt")
  assert(sm:find("Spearman rho(w_est, W1) =", 1, true) and sm:find("first half", 1, true)
    and sm:find("training average", 1, true), "summary: held-out, first-half and training-average rho")
  dir = tmp .. "/wgan_mnist"
  eq((run("wgan.lua", "--dataset mnist10k --iters 2 --batch 8 --ngf 4 --ndf 4 --n_critic 2 "
    .. "--warmup false --eval_n 50 --sample_every 0 --out " .. sh_quote(dir))), 0, "mnist exit status")
  m = metrics(dir)
  all_finite(m, {"lossD", "lossG", "w_est", "classes"})
  eq(m.rows[2].d_steps, 2)
end)

-- }

-- {---------------------------------------------------------- mrgan.lua

test("mrgan: GAN, Reg-GAN and MDGAN on the grid", function()
  for _, reg in ipairs{"none", "mrgan", "mdgan"} do
    local dir = tmp .. "/mrgan_" .. reg
    eq((run("mrgan.lua", ("--reg %s --iters 4 --batch 64 --eval_every 2 --sample_every 0 --out %s")
      :format(reg, sh_quote(dir)))), 0, reg .. " exit status")
    local m = metrics(dir)
    eq(#m.rows, 4)
    all_finite(m, {"lossD", "lossG", "recon"})
    assert(finite(m.rows[4].modes) and finite(m.rows[4].hq), reg .. ": modes and hq")
    if reg ~= "none" then
      assert(m.rows[4].recon < m.rows[1].recon, reg .. ": the reconstruction error falls")
    end
  end
end)

test("mrgan: MNIST Reg-GAN runs", function()
  local dir = tmp .. "/mrgan_mnist"
  eq((run("mrgan.lua", "--dataset mnist10k --batch 16 --iters 2 --eval_n 50 --sample_every 0 --out "
    .. sh_quote(dir))), 0, "exit status")
  local m = metrics(dir)
  all_finite(m, {"lossD", "lossG", "recon", "mode_score"})
  -- --bn: batch norm after G's two hidden layers only (the MRGAN grid setting)
  local bdir = tmp .. "/mrgan_mnist_bn"
  eq((run("mrgan.lua", "--dataset mnist10k --batch 16 --bn --iters 2 --eval_n 50 --sample_every 0 --out "
    .. sh_quote(bdir))), 0, "exit status with --bn")
  all_finite(metrics(bdir), {"lossD", "lossG", "mode_score"})
  local function bn_layers(ck, net)
    local n = 0
    for k in pairs(ck) do if k:match("^" .. net .. "%.%d+%.running_mean$") then n = n + 1 end end
    return n
  end
  local ck = lg.load(bdir .. "/checkpoint.safetensors")
  eq({bn_layers(ck, "G"), bn_layers(ck, "D"), bn_layers(ck, "E")}, {2, 0, 0}, "BN layers in G, D, E")
  eq(bn_layers(lg.load(dir .. "/checkpoint.safetensors"), "G"), 0, "no BN without --bn")
  eq((run("mrgan.lua", "--dataset grid25 --bn --iters 2 --out " .. sh_quote(tmp .. "/mrgan_bn_toy"))), 2,
    "--bn on a 2-D dataset is refused")
end)

-- }

test("flag errors: declared choices and cross-flag checks exit 2 naming the flag", function()
  local cases = {
    {"dcgan.lua", "--noise gauss", "dcgan: --noise must be uniform or normal, got gauss"},
    {"dcgan.lua", "--size 48", "dcgan: --size must be 28, 32 or 64, got 48"},
    {"gan_mnist.lua", "--loss hinge", "gan_mnist: --loss must be nonsat or minimax, got hinge"},
    {"gan_mnist.lua", "--k 0", "gan_mnist: --k must be >= 1"},
    {"mrgan.lua", "--reg x", "mrgan: --reg must be none, mrgan or mdgan, got x"},
    {"mrgan.lua", "--dataset cifar", "mrgan: --dataset must be grid25, ring8, mnist, mnist10k or fashion"},
    {"mrgan.lua", "--bn", "mrgan: --bn applies to the image datasets only"},
    {"wgan.lua", "--critic x", "wgan: --critic must be dcgan, mlp or auto, got x"},
    {"wgan.lua", "--dataset mnist --critic mlp", "wgan: --critic mlp needs --arch mlp or mlp512"},
    {"mode_count.lua", "--dataset mnist", "mode_count: --dataset must be ring8, grid25 or stacked_mnist"},
  }
  for i, c in ipairs(cases) do
    local dir = ("%s/flagerr%d"):format(tmp, i)
    os.remove(tmp .. "/stderr.txt")
    eq((run(c[1], c[2] .. " --out " .. sh_quote(dir))), 2, c[1] .. " " .. c[2])
    local err = read(tmp .. "/stderr.txt") or ""
    assert(err:find(c[3], 1, true), ("%s %s: expected %q, got %q"):format(c[1], c[2], c[3], err))
    eq(lg.fs.kind(dir), nil, c[2] .. ": no run directory left behind")
  end
end)

os.execute("rm -rf " .. sh_quote(tmp))
