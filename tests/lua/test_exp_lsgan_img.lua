-- Smoke tests of experiments/lsgan.lua's image setting (the paper's stability
-- comparison without batch norm, on MNIST): seconds-long seeded runs with
-- tiny nets in a child process.  They check the losses the flags select, the
-- metrics.csv columns and evaluations, the sample grid, the nets and
-- optimisers of each --bn setting, an exact resume with non-default flags,
-- a folder of images, and that flags of the wrong kind of data are refused.
-- The ring of 8 Gaussians is tested in test_exp_toy.lua.
local lg = require "luagan"

local tmp = temp_dir()
local read = read_file

local run = experiment_runner("lsgan.lua", tmp)   -- code, stdout, stderr

local TINY = "--dataset mnist10k --batch 16 --nz 16 --ngf 4 --ndf 4 --eval_n 50 --sample_every 0 "
  .. "--checkpoint_every 0 --seed 1 "

local function softplus(x) return math.log(1 + math.exp(x)) end

-- the keys of a run's checkpoint
local function checkpoint(dir) return lg.load(dir .. "/checkpoint.safetensors") end
local function has_key(t, pattern)
  for k in pairs(t) do if k:match(pattern) then return true end end
  return false
end

test("lsgan images: LS and sigmoid runs log finite losses, evaluations and a sample grid", function()
  local COLUMNS = {"iter", "classes", "d_fake", "d_real", "fid", "inception", "lossD", "lossG", "mode_score", "top_share"}
  for _, case in ipairs{{"ls", "least_squares(a=0,b=1,c=1)"}, {"bce", "non_saturating"}} do
    local loss, name = case[1], case[2]
    local dir = tmp .. "/img-" .. loss
    local code, out = run(TINY .. ("--loss %s --iters 12 --eval_every 5 --lr_d 1e-3 --out %s")
      :format(loss, sh_quote(dir)))
    eq(code, 0, loss .. " exit status")
    assert(out:find(name, 1, true), loss .. ": runs " .. name .. ": " .. out)
    assert(out:find("it/s", 1, true), loss .. ": logs iterations/s")
    local rows, header = read_csv(dir .. "/metrics.csv")
    eq(header, COLUMNS, loss .. " columns")
    eq(#rows, 12, loss .. " rows")
    local evals = {}
    for i, r in ipairs(rows) do
      for _, k in ipairs{"lossD", "lossG", "d_real", "d_fake"} do
        assert(finite(r[k]), ("%s row %d: %s = %s"):format(loss, i, k, tostring(r[k])))
      end
      -- lossD comes from the logged D outputs through the selected loss: by
      -- Jensen it is at least the loss of their means (equality for one sample)
      local bound = loss == "ls" and 0.5 * (r.d_real - 1) ^ 2 + 0.5 * r.d_fake ^ 2
                    or softplus(-r.d_real) + softplus(r.d_fake)
      assert(r.lossD >= bound - 1e-4, ("%s row %d: lossD %g below %g"):format(loss, i, r.lossD, bound))
      if r.classes then
        evals[#evals + 1] = r.iter
        assert(r.classes >= 1 and r.classes <= 10, loss .. ": classes in 1..10")
        assert(r.top_share >= 0.1 - 1e-6 and r.top_share <= 1 + 1e-6, loss .. ": top_share")
        assert(finite(r.fid) and r.fid > 0, loss .. ": FID finite")
        assert(finite(r.mode_score) and r.mode_score > 0, loss .. ": MODE score finite")
      end
    end
    eq(evals, {1, 5, 10, 12}, loss .. ": evaluated at 1, every --eval_every and at the end")
    -- D learns to separate real from generated images
    local first, last = rows[1], rows[#rows]
    assert(last.d_real - last.d_fake > first.d_real - first.d_fake + 0.1,
      ("%s: D's margin grows (%g -> %g)"):format(loss, first.d_real - first.d_fake, last.d_real - last.d_fake))
    assert(read(dir .. "/samples/iter-000012.png"), loss .. ": sample grid")
    local sm = assert(read(dir .. "/summary.txt"), loss .. ": summary.txt")
    assert(sm:find("final classes", 1, true) and sm:find("it/s", 1, true), sm)
    -- BN_G: batch norm in D, none in G; Adam
    local ck = checkpoint(dir)
    assert(has_key(ck, "^D%.%d+%.running_mean$"), "D has batch norm")
    assert(not has_key(ck, "^G%.%d+%.running_mean$"), "G has no batch norm")
    assert(has_key(ck, "^optG%.1%.exp_avg$"), "Adam")
    assert(ck["G.1.bias"] and ck["D.0.bias"], "biases on the convolutions (the authors' TF ops)")
  end
  -- the two losses train differently from the same seed
  assert(read(tmp .. "/img-ls/metrics.csv") ~= read(tmp .. "/img-bce/metrics.csv"))
end)

test("lsgan images: --bn gd has no batch norm, RMSprop from a mean square of 1, chi2 codes", function()
  local dir = tmp .. "/img-gd"
  local code, out = run(TINY .. "--bn gd --iters 3 --eval_every 3 --out " .. sh_quote(dir))
  eq(code, 0, "exit status")
  assert(out:find("least_squares(a=-1,b=1,c=0)", 1, true) and out:find("rmsprop", 1, true), out)
  local cfg = read(dir .. "/config.lua")
  assert(cfg:find('optim = "rmsprop"', 1, true) and cfg:find('coding = "chi2"', 1, true), cfg)
  assert(not cfg:find("hidden", 1, true), "config.lua holds no 2-D flags")
  local ck = checkpoint(dir)
  assert(not has_key(ck, "running_mean"), "no batch norm")
  -- TF's RMSProp starts the mean square at 1: after 3 steps with decay 0.9 it
  -- is still >= 0.9^3 (from 0 it would be ~ the squared gradients)
  local lo = math.huge
  for k, v in pairs(ck) do
    if k:match("^opt[DG]%.%d+%.square_avg$") then lo = math.min(lo, -((-v):max():item())) end
  end
  assert(lo >= 0.9 ^ 3 - 1e-6 and lo < 1, "square_avg started at 1, min " .. lo)
  for _, r in ipairs((read_csv(dir .. "/metrics.csv"))) do
    assert(finite(r.lossD) and finite(r.lossG), "finite losses")
  end
  -- --bn all: batch norm in G too; explicit flags beat the setting's defaults
  dir = tmp .. "/img-all"
  code, out = run(TINY .. "--bn all --optim rmsprop --coding 01 --iters 2 --eval_every 2 --out "
    .. sh_quote(dir))
  eq(code, 0, "bn all exit status")
  assert(out:find("least_squares(a=0,b=1,c=1)", 1, true), out)
  ck = checkpoint(dir)
  assert(has_key(ck, "^G%.%d+%.running_mean$") and has_key(ck, "^D%.%d+%.running_mean$"), "BN in G and D")
  assert(has_key(ck, "^optD%.1%.square_avg$"), "--optim rmsprop")
end)

test("lsgan images: the defaults of the image setting; an interrupted run resumes exactly", function()
  -- defaults: batch 64, nz 1024 (not the ring's 512 and 256), lr 2e-4
  local dir = tmp .. "/img-defaults"
  eq((run("--dataset mnist10k --ngf 2 --ndf 2 --iters 1 --eval_n 10 --out " .. sh_quote(dir))), 0)
  local cfg = read(dir .. "/config.lua")
  for _, s in ipairs{"batch = 64,", "nz = 1024,", "lr_d = 0.0002,", "lr_g = 0.0002,", 'optim = "adam"',
                     'coding = "01"', 'bn = "g"'} do
    assert(cfg:find(s, 1, true), s .. " in " .. cfg)
  end
  eq(checkpoint(dir)["G.1.weight"].shape[1], 1024, "G's projection takes 1024-d z")
  -- given flags that differ from those defaults survive --resume
  local flags = TINY .. "--iters 6 --eval_every 2 --lr_d 1e-3 "
  local a, b = tmp .. "/img-straight", tmp .. "/img-resumed"
  eq((run(flags .. "--out " .. sh_quote(a))), 0)
  eq((run(flags .. "--stop_at 3 --out " .. sh_quote(b))), 0)
  eq((run("--resume " .. sh_quote(b))), 0)
  eq(read(b .. "/metrics.csv"), read(a .. "/metrics.csv"), "resumed metrics.csv")
end)

test("lsgan images: a folder of images trains without classifier metrics", function()
  local folder = tmp .. "/pngs"
  os.execute("mkdir -p " .. sh_quote(folder))
  lg.manual_seed(5)
  for i = 1, 12 do lg.image.save(("%s/%02d.png"):format(folder, i), lg.rand(3, 40, 36)) end
  local dir = tmp .. "/img-folder"
  local code, _, err = run(("--dataset %s --batch 4 --nz 8 --ngf 2 --ndf 2 --iters 3 --eval_every 3 "
    .. "--out %s"):format(sh_quote(folder), sh_quote(dir)))
  eq(code, 0, "exit status")
  assert(err:find("pending", 1, true), "says the metrics are pending: " .. err)
  local rows = read_csv(dir .. "/metrics.csv")
  eq(#rows, 3)
  eq(rows[3].classes, -1, "no classifier for a folder")
  assert(finite(rows[3].lossD) and finite(rows[3].lossG))
  eq(checkpoint(dir)["G.7.weight"].shape[2], 3, "G makes 3-channel images")
  assert(read(dir .. "/samples/iter-000003.png"), "sample grid")
end)

test("lsgan: flags of the other kind of data and bad values are refused with a message", function()
  local cases = {
    {"--dataset ring8 --bn gd", "--bn applies to image data sets"},
    {"--ngf 8", "--ngf applies to image data sets"},
    {"--dataset mnist10k --hidden 64", "--hidden applies to the 2-D data sets"},
    {"--dataset mnist10k --updates alternating", "--updates applies to the 2-D data sets"},
    {"--dataset mnist10k --gain 1", "--gain applies to the 2-D data sets"},
    {"--dataset mnist10k --bn none", "--bn must be g"},
    {"--dataset mnist10k --optim sgd", "--optim must be adam or rmsprop"},
    {"--dataset mnist10k --size 48", "--size must be 28, 32 or 64"},
    {"--dataset mnist10k --eval_n 1", "--eval_n must be >= 2"},
    {"--dataset mnist10k --loss hinge", "--loss must be ls or bce"},
    {"--dataset " .. sh_quote(tmp .. "/no-such-dir"), "cannot open directory"},
  }
  for i, c in ipairs(cases) do
    local out = ("%s/refused%d"):format(tmp, i)
    local code, _, err = run(c[1] .. " --iters 1 --out " .. sh_quote(out))
    eq(code, 2, c[1] .. " exit status")
    assert(err:find(c[2], 1, true), ("%s: expected %q in %q"):format(c[1], c[2], err))
    assert(not read(out .. "/config.lua"), c[1] .. ": no run directory")
  end
end)

os.execute("rm -rf " .. sh_quote(tmp))
