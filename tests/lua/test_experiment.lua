-- lg.experiment: flags, the run directory, checkpoints and bit-identical resume.
local experiment = lg.experiment

local defaults = {name = "t", iters = 10, lr = 2e-4, loss = "nonsat", k = 1, ema = false}

test("flags: defaults, typed values, both spellings", function()
  local cfg, given = experiment.parse(defaults, {})
  eq(cfg.iters, 10)
  eq(cfg.batch, 64)                 -- a common flag's default
  eq(cfg.dataset, "mnist")
  eq(given, {})
  cfg, given = experiment.parse(defaults,
    {"--iters", "20", "--lr=1", "--loss", "minimax", "--ema", "--sample-every", "5"})
  eq(math.type(cfg.iters), "integer")
  eq(cfg.iters, 20)
  eq(math.type(cfg.lr), "float")
  eq(cfg.lr, 1.0)
  eq(cfg.loss, "minimax")
  eq(cfg.ema, true)
  eq(cfg.sample_every, 5)
  eq(given, {iters = true, lr = true, loss = true, ema = true, sample_every = true})
  cfg = experiment.parse(defaults, {"--ema", "false", "--k", "3"})
  eq(cfg.ema, false)
  eq(cfg.k, 3)
  cfg = experiment.parse({name = "u", batch = 32}, {})
  eq(cfg.batch, 32)                 -- experiments may change common defaults
end)

test("flags: unknown and ill-typed flags list the valid ones", function()
  local err = raises(function() experiment.parse(defaults, {"--bogus", "1"}) end,
                     "unknown flag --bogus")
  for _, f in ipairs{"--iters", "--batch", "--seed", "--dataset", "--out", "--sample_every",
                     "--checkpoint_every", "--resume", "--help", "--lr", "--loss", "--k", "--ema"} do
    assert(err:find(f, 1, true), "valid flags should list " .. f .. ": " .. err)
  end
  raises(function() experiment.parse(defaults, {"--iters", "1.5"}) end,
         "flag --iters expects an integer, got '1.5'")
  raises(function() experiment.parse(defaults, {"--lr", "fast"}) end, "expects a number")
  raises(function() experiment.parse(defaults, {"--iters"}) end, "needs a value")
  raises(function() experiment.parse(defaults, {"--ema", "maybe"}) end, "valid flags")
  raises(function() experiment.parse(defaults, {"stray"}) end, "unexpected argument 'stray'")
  raises(function() experiment.parse(defaults, {"--iters", "-3"}) end, "must be >= 0")
  raises(function() experiment.parse({name = "x", bad = {}}, {}) end, "must be a number, string or boolean")
end)

test("flags: --help returns the usage with defaults", function()
  local cfg, usage = experiment.parse(defaults, {"--iters", "3", "--help"})
  eq(cfg, nil)
  assert(usage:find("--lr", 1, true) and usage:find("0.0002", 1, true), usage)
  assert(usage:find("--checkpoint_every", 1, true), usage)
end)

test("flags: a list declares the choices, the first the default", function()
  local d = {name = "c", noise = {"uniform", "normal"}, size = {28, 32, 64, default = 64},
             scale = {0.5, 1.0}}
  local cfg = experiment.parse(d, {})
  eq(cfg.noise, "uniform")
  eq(cfg.size, 64)
  eq(math.type(cfg.size), "integer")
  eq(cfg.scale, 0.5)
  cfg = experiment.parse(d, {"--noise", "normal", "--size=28", "--scale", "1"})
  eq(cfg.noise, "normal")
  eq(cfg.size, 28)
  eq(cfg.scale, 1.0)
  local err = raises(function() experiment.parse(d, {"--noise", "gauss"}) end,
                     "--noise must be uniform or normal, got gauss")
  eq(err, "--noise must be uniform or normal, got gauss")
  raises(function() experiment.parse(d, {"--size", "48"}) end, "--size must be 28, 32 or 64, got 48")
  raises(function() experiment.parse(d, {"--size", "2.5"}) end, "flag --size expects an integer")
  raises(function() experiment.parse({name = "x", a = {1, "b"}}, {}) end, "of one kind")
  cfg = experiment.parse({name = "x", a = {1, 0.5}}, {"--a", "0.5"})   -- integers and floats mix
  eq(cfg.a, 0.5)
  eq(math.type(experiment.parse({name = "x", a = {1, 0.5}}, {}).a), "float")
  raises(function() experiment.parse({name = "x", a = {1, 0.5}}, {"--a", "2"}) end,
         "--a must be 1.0 or 0.5, got 2")
  raises(function() experiment.parse({name = "x", a = {"p", "q", default = "r"}}, {}) end,
         "default of 'a' is not one of its choices")
  raises(function() experiment.parse({name = "x", a = {"p", x = "q"}}, {}) end, "are a list")
  raises(function() experiment.parse({name = "x", a = {true, false}}, {}) end, "of one kind")
  -- a common flag may declare choices too
  cfg = experiment.parse({name = "x", dataset = {"ring8", "grid25"}}, {"--dataset", "grid25"})
  eq(cfg.dataset, "grid25")
  raises(function() experiment.parse({name = "x", dataset = {"ring8", "grid25"}}, {"--dataset", "mnist"}) end,
         "--dataset must be ring8 or grid25, got mnist")
  local usage = experiment.usage(d)
  assert(usage:find("--noise uniform|normal", 1, true) and usage:find("--size 28|32|64", 1, true)
         and usage:find("default 64", 1, true), usage)
end)

-- {---------------------------------------------------------- runs in child processes

local read = read_file
local tmp = temp_dir()

-- a tiny GAN on the ring: Adam and SGD with momentum, dropout (draws from
-- the generator), a loader running over epochs, user state; CRASH_AT exits
-- abruptly inside an iteration, as a kill would
local script = tmp .. "/tiny.lua"
do
  local f = assert(io.open(script, "w"))
  f:write([[
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim
local run = lg.experiment{name = "tiny", iters = 12, batch = 16, lr = 1e-3,
                          sample_every = 4, checkpoint_every = 4}
local cfg = run.config
local ring = lg.data.ring8()
local loader = lg.data.Loader(ring:sample(40), {batch = cfg.batch})
local G = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
local D = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = {0.5, 0.999}})
local optD = optim.SGD(D:parameters(), {lr = cfg.lr, momentum = 0.9})
local z = lg.randn(4, 2)
local state = {ema = 0.0, note = "x"}
run:track{G = G, D = D, optG = optG, optD = optD, data = loader, state = state}
run:sampler(function() return G(z):view(4, 1, 1, 2) end)
local crash = tonumber(os.getenv("CRASH_AT") or "")
for it in run:iterations() do
  local real = loader:next()
  local fake = G(lg.randn(cfg.batch, 2))
  local lossD = lg.bce_with_logits(D(real), lg.ones(cfg.batch, 1))
              + lg.bce_with_logits(D(fake:detach()), lg.zeros(cfg.batch, 1))
  optD:zero_grad() lossD:backward() optD:step()
  local lossG = lg.bce_with_logits(D(fake), lg.ones(cfg.batch, 1))
  optG:zero_grad() lossG:backward() optG:step()
  state.ema = 0.9 * state.ema + 0.1 * lossD:item()
  run:log{lossD = lossD, lossG = lossG, ema = state.ema, epoch = loader.epoch_count}
  if it == crash then os.exit(3, false) end
end
if os.getenv("ROWS_TO") then   -- run:rows() as "iter lossD" lines
  local f = assert(io.open(os.getenv("ROWS_TO"), "w"))
  for _, r in ipairs(run:rows()) do f:write(r.iter, " ", r.lossD, "\n") end
  f:close()
end
]])
  f:close()
end

local function run_tiny(flags, env)
  local cmd = ("cd %s && %s%s tiny.lua %s >/dev/null 2>>%s"):format(sh_quote(tmp), env or "",
    sh_quote(LUAGAN), flags, sh_quote(tmp .. "/stderr.txt"))
  local ok, how, code = os.execute(cmd)
  return ok and 0 or code
end

test("run.given: the flags the command line set", function()
  local run = experiment(defaults, {"--iters", "3", "--lr=0.5", "--out", tmp .. "/given"})
  eq(run.given, {iters = true, lr = true, out = true})
  eq(run.config.iters, 3)
  eq(experiment(defaults, {"--out", tmp .. "/given2"}).given, {out = true})
end)

test("a tiny run writes config, metrics.csv, samples, checkpoints", function()
  eq(run_tiny("--out straight"), 0)
  local dir = tmp .. "/straight"
  local cfg = assert(read(dir .. "/config.lua"), "config.lua")
  assert(cfg:find("iters = 12", 1, true) and cfg:find("lr = 0.001", 1, true), cfg)
  local csv = assert(read(dir .. "/metrics.csv"))
  local lines = {}
  for l in csv:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(#lines, 13)
  eq(lines[1], "iter,ema,epoch,lossD,lossG")
  assert(lines[13]:match("^12,[%d.e-]+,%d+,[%d.e-]+,[%d.e-]+$"), lines[13])
  assert(lines[2]:match("^1,%d%.%d+"), lines[2])
  for _, f in ipairs{"samples/iter-000004.png", "samples/iter-000012.png",
                     "checkpoint.safetensors", "checkpoints/iter-000008.safetensors"} do
    assert(read(dir .. "/" .. f), "missing " .. f)
  end
  local img = lg.image.load(dir .. "/samples/iter-000012.png")
  eq(img:dim(), 3)
  local t, meta = lg.load(dir .. "/checkpoint.safetensors")
  eq(meta.iter, "12")
  eq(meta.format, "luagan-run/1")
  assert(t["G.0.weight"] and t["optG.1.exp_avg"] and t["optD.1.momentum_buffer"] and
         t["data.perm"], "checkpoint tensors")
  assert(meta["state.state"]:find("ema", 1, true), "user state in the metadata")
  -- a second run into the same directory is refused
  eq(run_tiny("--out straight"), 2)
  assert(read(tmp .. "/stderr.txt"):find("already holds a run", 1, true))
end)

test("resume after a kill gives a byte-identical metrics.csv", function()
  -- killed inside iteration 7: checkpoint at 4, rows 5-6 written after it
  eq(run_tiny("--out killed", "CRASH_AT=7 "), 3)
  eq(run_tiny("--resume killed"), 0)
  local a, b = read(tmp .. "/straight/metrics.csv"), read(tmp .. "/killed/metrics.csv")
  assert(a and b and #a > 0, "metrics written")
  eq(b, a, "metrics.csv after kill + resume")
  eq(read(tmp .. "/killed/samples/iter-000012.png"), read(tmp .. "/straight/samples/iter-000012.png"),
     "final sample grid")
end)

test("run:rows() reads metrics.csv back, including the rows from before a resume", function()
  eq(run_tiny("--out rows --stop_at 5"), 0)
  eq(run_tiny("--resume rows", "ROWS_TO=rows.txt "), 0)
  local want = {}
  for line in read(tmp .. "/rows/metrics.csv"):gmatch("[^\n]+") do
    local iter, lossD = line:match("^(%d+),[^,]*,[^,]*,([^,]*),")
    if iter then want[#want + 1] = iter .. " " .. lossD end
  end
  eq(#want, 12)
  eq(read(tmp .. "/rows.txt"), table.concat(want, "\n") .. "\n")
end)

test("--stop_at N then --resume gives a byte-identical metrics.csv", function()
  eq(run_tiny("--out stopped --stop_at 6"), 0)
  local csv = read(tmp .. "/stopped/metrics.csv")
  local n = 0
  for _ in csv:gmatch("\n") do n = n + 1 end
  eq(n, 7)                                       -- header + 6 rows
  eq(run_tiny("--resume stopped"), 0)
  eq(read(tmp .. "/stopped/metrics.csv"), read(tmp .. "/straight/metrics.csv"))
end)

test("a checkpoint records the run's seconds, summed over its resumes", function()
  eq(run_tiny("--out timed --stop_at 6"), 0)
  local path = tmp .. "/timed/checkpoint.safetensors"
  local t, meta = lg.load(path)
  local first = tonumber(meta.seconds)
  assert(first and first >= 0 and first < 600, "seconds of the first part: " .. tostring(meta.seconds))
  -- as if the first part had taken 1000 s: the resumed run's checkpoints count on from there
  meta.seconds = "1000.0"
  lg.save(path, t, meta)
  eq(run_tiny("--resume timed"), 0)
  local _, final = lg.load(path)
  eq(final.iter, "12")
  local total = tonumber(final.seconds)
  assert(total and total >= 1000 and total < 1600, "seconds after the resume: " .. tostring(final.seconds))
  eq(read(tmp .. "/timed/metrics.csv"), read(tmp .. "/straight/metrics.csv"), "the rows are unchanged")
end)

test("killed before its first checkpoint: --resume and the same --out start it over", function()
  -- checkpoint every 4, killed inside iteration 3: config.lua and rows 1-2, no checkpoint
  eq(run_tiny("--out early", "CRASH_AT=3 "), 3)
  assert(read(tmp .. "/early/config.lua") and not read(tmp .. "/early/checkpoint.safetensors"))
  eq(run_tiny("--resume early"), 0)
  assert(read(tmp .. "/stderr.txt"):find("early has no checkpoint (its run stopped before the first one): "
    .. "starting it again from iteration 0", 1, true))
  eq(read(tmp .. "/early/metrics.csv"), read(tmp .. "/straight/metrics.csv"))
  eq(run_tiny("--out early2", "CRASH_AT=3 "), 3)
  eq(run_tiny("--out early2"), 0)
  eq(read(tmp .. "/early2/metrics.csv"), read(tmp .. "/straight/metrics.csv"))
  -- a directory that never got a config.lua: --resume says how to start it
  os.execute("mkdir -p " .. sh_quote(tmp .. "/empty"))
  eq(run_tiny("--resume empty"), 2)
  assert(read(tmp .. "/stderr.txt"):find("no config.lua there, the run never started; start it with --out empty",
    1, true))
end)

test("--resume reads config.lua as data: code in it is refused, not run", function()
  eq(run_tiny("--out evil --stop_at 4"), 0)
  local cfg = tmp .. "/evil/config.lua"
  local good = read(cfg)
  for _, text in ipairs{"return {iters = (function() while true do end end)()}",
                        "while true do end", "return {iters = 12, lr = os.exit(0)}"} do
    local f = assert(io.open(cfg, "w"))
    f:write(text)
    f:close()
    eq(run_tiny("--resume evil", "timeout -s KILL 20 "), 2)
    assert(read(tmp .. "/stderr.txt"):find("evil/config.lua is malformed", 1, true))
  end
  -- a config.lua as earlier versions wrote it still resumes
  local f = assert(io.open(cfg, "w"))
  f:write((good:gsub("^[^\n]*", "-- luagan run 'tiny': the resolved flags (read back by --resume)")))
  f:close()
  eq(run_tiny("--resume evil"), 0)
  eq(read(tmp .. "/evil/metrics.csv"), read(tmp .. "/straight/metrics.csv"))
  -- a flag of the wrong type in config.lua is named
  f = assert(io.open(cfg, "w"))
  f:write((good:gsub("iters = 12", 'iters = "12"')))
  f:close()
  eq(run_tiny("--resume evil"), 2)
  assert(read(tmp .. "/stderr.txt"):find("config.lua gives 'iters' a string, the script expects a integer", 1, true))
end)

test("the run directory is locked: a second run or --resume is refused naming the pid", function()
  eq(run_tiny("--out locked --stop_at 4"), 0)
  local lock = assert(lg.fs.lock(tmp .. "/locked/.lock"))   -- as a running process would
  local pid = read(tmp .. "/locked/.lock"):match("%d+")
  for _, flags in ipairs{"--resume locked", "--out locked"} do
    eq(run_tiny(flags), 2)
    local err = read(tmp .. "/stderr.txt")
    assert(err:find("locked is in use: locked/.lock is held by process " .. pid, 1, true), err)
  end
  lock:unlock()
  eq(run_tiny("--resume locked"), 0)
  eq(read(tmp .. "/locked/metrics.csv"), read(tmp .. "/straight/metrics.csv"))
end)

test("temporary files of a killed save are removed when the run is opened", function()
  eq(run_tiny("--out stale --stop_at 4"), 0)
  local planted = {"config.lua.tmp", ".metrics.csv.tmp-a1B2c3", "checkpoint.safetensors.tmp-Zz9xY8",
                   "samples/iter-000008.png.tmp-qwerty", "checkpoints/iter-000008.safetensors.tmp-QWERTY"}
  for _, name in ipairs(planted) do
    local f = assert(io.open(tmp .. "/stale/" .. name, "w"))
    f:write("half a save")
    f:close()
  end
  eq(run_tiny("--resume stale"), 0)
  for _, name in ipairs(planted) do eq(lg.fs.kind(tmp .. "/stale/" .. name), nil, name) end
  eq(read(tmp .. "/stale/metrics.csv"), read(tmp .. "/straight/metrics.csv"))
end)

test("--resume refuses a metrics.csv that does not match the checkpoint, changing nothing", function()
  eq(run_tiny("--out cut --stop_at 6"), 0)
  local csv = tmp .. "/cut/metrics.csv"
  local whole = read(csv)
  -- shorter than at the checkpoint; the checkpoint's length ends inside a row
  for _, text in ipairs{whole:sub(1, 40), whole:sub(1, -6) .. "\n12345\n"} do
    local f = assert(io.open(csv, "wb"))
    f:write(text)
    f:close()
    local ckpt = read(tmp .. "/cut/checkpoint.safetensors")
    eq(run_tiny("--resume cut"), 1)
    assert(read(tmp .. "/stderr.txt"):find("cut/metrics.csv does not match cut/checkpoint.safetensors", 1, true))
    eq(read(csv), text)
    eq(read(tmp .. "/cut/checkpoint.safetensors"), ckpt)
  end
end)

test("run:write writes a file of the run directory atomically", function()
  local run = experiment(defaults, {"--out", tmp .. "/w", "--iters", "1"})
  for _ in run:iterations() do run:log{x = 1} end
  eq(run:write("summary.txt", "done\n"), tmp .. "/w/summary.txt")
  eq(read(tmp .. "/w/summary.txt"), "done\n")
  raises(function() run:write("../escape", "x") end, "inside the run directory")
  -- the run ended: its lock is free again
  assert(lg.fs.lock(tmp .. "/w/.lock")):unlock()
end)

test("the command line: a choice outside the list, run:fail and experiment.fail exit 2", function()
  local f = assert(io.open(tmp .. "/failing.lua", "w"))
  f:write([[
local lg = require "luagan"
if os.getenv("EARLY") then lg.experiment.fail("failing", "no data here") end
local run = lg.experiment{name = "failing", iters = 3, noise = {"uniform", "normal"}}
if os.getenv("LATE") then
  for it in run:iterations() do run:log{x = it} if it == 2 then run:fail("diverged") end end
end
run:fail("--noise normal needs more")
]])
  f:close()
  local function go(flags, env)
    local ok, _, code = os.execute(("cd %s && %s%s failing.lua %s >out.txt 2>err.txt"):format(
      sh_quote(tmp), env or "", sh_quote(LUAGAN), flags))
    return ok and 0 or code, read(tmp .. "/err.txt")
  end
  local code, err = go("--noise gauss --out fa")
  eq(code, 2)
  eq(err, "failing: --noise must be uniform or normal, got gauss\n")
  code, err = go("--out fa")
  eq(code, 2)
  eq(err, "failing: --noise normal needs more\n")
  eq(lg.fs.kind(tmp .. "/fa"), nil, "no run directory left behind")
  code, err = go("--out fa", "EARLY=1 ")
  eq(code, 2)
  eq(err, "failing: no data here\n")
  -- inside the loop: the rows so far stay and the directory is free for --out again
  code, err = go("--out fb", "LATE=1 ")
  eq(code, 2)
  assert(err:find("\nfailing: diverged\n$"), err)
  eq(read(tmp .. "/fb/metrics.csv"), "iter,x\n1,1\n")
  assert(lg.fs.lock(tmp .. "/fb/.lock")):unlock()
end)

test("the end of a run prints its iterations and it/s", function()
  local cmd = ("cd %s && %s tiny.lua --out speed --iters 5 2>/dev/null"):format(sh_quote(tmp),
    sh_quote(LUAGAN))
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  assert(out:match("tiny: 5 iterations in %d+%.%d s, [%d.]+ it/s\n") or
         out:match("tiny: 5 iterations in %d+%.%d s, %-%- it/s\n"), out)
end)

test("the command line: --help exits 0, a bad flag exits 2 with the list", function()
  eq(run_tiny("--help"), 0)
  eq(run_tiny("--iters 2.5"), 2)
  local err = read(tmp .. "/stderr.txt")
  assert(err:find("flag --iters expects an integer", 1, true) and err:find("--checkpoint_every", 1, true), err)
end)

os.execute("rm -rf " .. sh_quote(tmp))
