-- The reproduction driver (experiments/reproduce.lua, experiments/lib/report.lua)
-- on a tiny plan of fake experiment scripts that finish in milliseconds, and
-- lg.proc, the process binding it runs them with.
local lg = require "luagan"
package.path = ROOT .. "/experiments/?.lua;" .. package.path
local report = require "lib.report"

-- {------------------------------------------------------ lg.proc

test("lg.proc.spawn runs a program with its output in a log; wait gives the exit code", function()
  local dir = temp_dir()
  local log = dir .. "/out.log"
  local pid = lg.proc.spawn({"sh", "-c", "echo out; echo err >&2; exit 3"}, log)
  assert(math.type(pid) == "integer" and pid > 0)
  local done, code, sig = lg.proc.wait()
  eq(done, pid)
  eq(code, 3)
  eq(sig, nil)
  eq(read_file(log), "out\nerr\n")
  pid = lg.proc.spawn({"true"}, log)
  done, code = lg.proc.wait(pid)
  eq({done, code}, {pid, 0})
  eq(read_file(log), "", "the log is truncated")
end)

test("lg.proc.wait reports a signal, and nil when no child is left", function()
  local pid = lg.proc.spawn({"sh", "-c", "kill -9 $$"}, "/dev/null")
  local done, code, sig = lg.proc.wait()
  eq(done, pid)
  eq(code, nil)
  eq(sig, 9)
  eq(lg.proc.wait(), nil)
end)

test("lg.proc.spawn: two children run at once", function()
  local dir = temp_dir()
  -- each waits for the other's file: only concurrent children both finish early
  local script = "touch %s/%s; i=0; while [ ! -e %s/%s ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; "
    .. "[ -e %s/%s ]"
  local a = lg.proc.spawn({"sh", "-c", script:format(dir, "a", dir, "b", dir, "b")}, "/dev/null")
  local b = lg.proc.spawn({"sh", "-c", script:format(dir, "b", dir, "a", dir, "a")}, "/dev/null")
  local codes = {}
  for _ = 1, 2 do
    local pid, code = lg.proc.wait()
    codes[pid == a and "a" or pid == b and "b" or "?"] = code
  end
  eq(codes, {a = 0, b = 0})
end)

test("lg.proc.spawn rejects a bad argv, a program that cannot run and a bad log", function()
  local dir = temp_dir()
  raises(function() lg.proc.spawn({}, dir .. "/l") end, "spawn: argv must hold at least the program name")
  raises(function() lg.proc.spawn({"echo", 3}, dir .. "/l") end, "spawn: argv[2] must be a string, got number")
  raises(function() lg.proc.spawn({""}, dir .. "/l") end, "spawn: argv[1] (the program) is empty")
  raises(function() lg.proc.spawn("echo", dir .. "/l") end, "table expected")
  raises(function() lg.proc.spawn({dir .. "/no-such-program"}, dir .. "/l") end,
    "spawn: cannot run '" .. dir .. "/no-such-program': No such file or directory")
  raises(function() lg.proc.spawn({"true"}, dir .. "/no/dir/l") end, "spawn: cannot open log '" .. dir .. "/no/dir/l'")
  eq(lg.proc.wait(), nil, "no child left behind")
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ the driver on fake experiments

-- A fake experiment: writes OUT/metrics.csv (iterations 0, 10, 20, score =
-- VALUE + SEED at the end), OUT/extra.txt, appends its name to COUNT; with
-- --mark DIR waits (up to 5 s) for another run's start file in DIR and
-- records whether it saw one; --fail N exits N after writing half its output.
-- With --checkpoint_every N > 0 it saves OUT/checkpoint.safetensors at
-- iteration 10 (recording 100 s) and its flags, and --die 1 then kills it;
-- --resume DIR continues such a run (appending "resumed NAME" to COUNT).
local FAKE = [[
local lg = require "luagan"
local a = {}
for i = 1, #arg, 2 do a[arg[i]:gsub("^%-%-", "")] = arg[i + 1] end
if a.resume then
  local dir = a.resume
  a = {}
  for k, v in io.open(dir .. "/args.txt"):read("a"):gmatch("(%S+) (%S+)") do a[k] = v end
  a.die = nil
  local f = assert(io.open(a.count, "a")); f:write("resumed ", a.out:match("[^/]+$"), "\n"); f:close()
elseif tonumber(a.checkpoint_every) > 0 then
  lg.fs.mkdir(a.out)
  local f = io.open(a.out .. "/args.txt", "w")
  for k, v in pairs(a) do f:write(k, " ", v, "\n") end
  f:close()
  lg.save(a.out .. "/checkpoint.safetensors", {x = lg.zeros(1)}, {iter = "10", seconds = "100.0"})
  if a.die then os.exit(9) end
end
lg.fs.mkdir(a.out)
local name = a.out:match("[^/]+$")
local f = assert(io.open(a.count, "a")); f:write(name, "\n"); f:close()
if a.mark then
  lg.fs.mkdir(a.mark)
  io.open(a.mark .. "/" .. name, "w"):close()
  local saw, t0 = false, lg.clock()
  while not saw and lg.clock() - t0 < 5 do
    for _, n in ipairs(lg.fs.list(a.mark)) do if n ~= name then saw = true end end
    if not saw then os.execute("sleep 0.02") end
  end
  io.open(a.out .. "/saw.txt", "w"):write(tostring(saw)):close()
end
local seed, v = tonumber(a.seed), tonumber(a.value)
f = io.open(a.out .. "/metrics.csv", "w")
f:write("iter,score,loss\n0,,1\n10,", v, ",0.5\n")
if a.fail then print("fake: failing on purpose"); f:close(); os.exit(tonumber(a.fail)) end
f:write("20,", v + seed, ",0.25\n")
f:close()
io.open(a.out .. "/extra.txt", "w"):write("extra ", name, "\n"):close()
print("fake: done " .. name)
]]

local function plan_text(dir, extra)
  return ([[return {
  {exp = "fake", cols = {"score"}, evalcol = "score",
    runs = {
      {mode = "full", variant = "good", seeds = {1, 2}, flags = "--value 6 --count %s/count.log --mark %s/marks"},
      {mode = "full", variant = "bad", seeds = {1}, flags = "--value 1 --count %s/count.log"},
      %s
    },
    observations = {full = {[[An observation of an earlier run.]].."]]"..[[}}},
}]]):format(dir, dir, dir, extra or "")
end

local CLAIMS = [[return {
  {exp = "fake", title = "Fake: a test paper", paper = "Nobody, A test paper, 2000", script = "fake.lua",
    claims = {
      {id = "good", statement = "Good configurations score high.", paper_value = "10", source = "Table 9",
        target = "mean score >= 5", why = "Half the paper's number.", compare = {"good"}, cols = {"score"},
        window = "last25", statistic = "mean over seeds", check = "mean_at_least",
        primary = {label = "the good setting", why = "The paper's.", config = "good"}, ablations = {},
        params = {col = "score", min = 5}},
      {id = "bad", statement = "Bad configurations score high too.", paper_value = "10", source = "Fig. 9",
        target = "mean score >= 5", why = "Half the paper's number.", compare = {"bad"}, cols = {"score"},
        window = "last25", statistic = "mean over seeds", check = "mean_at_least",
        primary = {label = "the bad setting", why = "The paper's.", config = "bad"}, ablations = {},
        params = {col = "score", min = 5}},
    },
    earlier = {"An earlier measurement: 4.2."}},
}]]

local function write(path, s)
  local f = assert(io.open(path, "w"))
  f:write(s)
  f:close()
end

-- a campaign directory: scripts/fake.lua, plan.lua, claims.lua
local function campaign(extra_runs)
  local dir = temp_dir()
  lg.fs.mkdir(dir .. "/scripts")
  write(dir .. "/scripts/fake.lua", FAKE)
  write(dir .. "/plan.lua", plan_text(dir, extra_runs))
  write(dir .. "/claims.lua", CLAIMS)
  return dir
end

-- runs the driver with the campaign's files; returns exit code and output
-- the driver's command line with the campaign's files, output to out
local function driver_cmd(dir, args, out)
  return ("%s %s %s --plan %s/plan.lua --claims %s/claims.lua --results %s/results --runs %s/runs "
    .. "--out %s/out --scripts %s/scripts --luagan %s >%s 2>&1"):format(sh_quote(LUAGAN),
    sh_quote(ROOT .. "/experiments/reproduce.lua"), args, dir, dir, dir, dir, dir, dir, sh_quote(LUAGAN),
    sh_quote(out))
end

local function drive(dir, args)
  local out = dir .. "/driver.out"
  local ok, _, code = os.execute(driver_cmd(dir, args, out))
  return ok and 0 or code, read_file(out) or ""
end

-- starts the driver in the background; returns its pid
local function drive_background(dir, args, out)
  return io.popen(driver_cmd(dir, args, out) .. " & echo $!"):read("l")
end

local function count_lines(path)
  local n = 0
  for _ in (read_file(path) or ""):gmatch("[^\n]+") do n = n + 1 end
  return n
end

local function has(s, part)
  if not s:find(part, 1, true) then error(("%q not found in:\n%s"):format(part, s), 2) end
end

test("reproduce: runs the plan two at a time, copies the results, writes the report", function()
  local dir = campaign()
  local code, out = drive(dir, "full --jobs 2")
  eq(code, 0, out)
  has(out, "reproduce full: 3 runs into " .. dir .. "/runs/reproduce-full, 2 at a time")
  eq(count_lines(dir .. "/count.log"), 3)
  -- --jobs 2: the two runs of "good" (first in the queue) saw each other running
  eq(read_file(dir .. "/runs/reproduce-full/fake-good-s1/saw.txt"), "true")
  eq(read_file(dir .. "/runs/reproduce-full/fake-good-s2/saw.txt"), "true")
  -- a log per run, and the command and wall time
  has(read_file(dir .. "/runs/reproduce-full/fake-good-s2.log"), "fake: done fake-good-s2")
  local r = dir .. "/results/full-fake-good/s2"
  eq(read_file(r .. "/cmd.txt"), ("%s %s/scripts/fake.lua --value 6 --count %s/count.log --mark %s/marks --seed 2 "
    .. "--threads 1 --checkpoint_every 0 --out %s/runs/reproduce-full/fake-good-s2\n"):format(LUAGAN, dir, dir, dir, dir))
  assert(tonumber(read_file(r .. "/wall.txt")) >= 0)
  -- the evaluation rows and the script's extra file
  -- the evaluation rows (score, the plan's evalcol, set): iteration 0 logged no score
  eq(read_file(r .. "/metrics.csv"), "iter,score,loss\n10,6,0.5\n20,8,0.25\n")
  eq(read_file(dir .. "/runs/reproduce-full/fake-good-s2/metrics.csv"), "iter,score,loss\n0,,1\n10,6,0.5\n20,8,0.25\n")
  eq(read_file(r .. "/extra.txt"), "extra fake-good-s2\n")
  -- the report: scores 7 / 8 (good) and 2 (bad) against >= 5
  local index = read_file(dir .. "/out/README.md")
  -- 7 and 8: mean 7.5 +- 12.706 * 0.707 / sqrt 2, an interval that straddles 5
  has(index, "- **Fake** (good): **inconclusive**. Primary: the good setting. score: n = 2 of 2 planned, per seed "
    .. "7 / 8; mean 7.50, 95% CI [1.15, 13.85]; target mean >= 5: inconclusive.")
  has(index, "- **Fake** (bad): **does NOT hold**. Primary: the bad setting. score: n = 1 of 1 planned, per seed 2; "
    .. "mean 2, no interval from one seed; target mean >= 5: does NOT hold.")
  has(index, "[Fake: a test paper](fake.md)")
  local page = read_file(dir .. "/out/fake.md")
  has(page, "- Paper: 10; source: Table 9.")
  has(page, "- Why this threshold: Half the paper's number.")
  has(page, "- Primary setting (the only one judged): the good setting (good, full mode). Why: The paper's.")
  has(page, "| 7.50 +- 0.707 [7, 8] |")
  has(page, "An observation of an earlier run.")
  has(page, "- An earlier measurement: 4.2.")
  assert(not page:find("## Notes", 1, true), "no notes file, no Notes section")
  -- a notes file beside the pages is included verbatim
  lg.fs.mkdir(dir .. "/out/notes")
  write(dir .. "/out/notes/fake.md", "Hand-written *notes*.\n")
  code, out = drive(dir, "--report")
  eq(code, 0, out)
  has(read_file(dir .. "/out/fake.md"), "## Notes\n\nHand-written *notes*.\n")
end)

test("reproduce: resume skips finished runs and reruns one killed midway", function()
  local dir = campaign()
  local code, out = drive(dir, "full --jobs 2")
  eq(code, 0, out)
  eq(count_lines(dir .. "/count.log"), 3)
  code, out = drive(dir, "full")
  eq(code, 0, out)
  has(out, "skip    fake-bad-s1 (done)")
  eq(count_lines(dir .. "/count.log"), 3, "nothing reran")
  -- a run killed midway (its directory without wall.txt, with a stale file) and
  -- not in the results
  local run = dir .. "/runs/reproduce-full/fake-good-s1"
  os.remove(run .. "/wall.txt")
  os.remove(dir .. "/results/full-fake-good/s1/wall.txt")
  write(run .. "/stale.txt", "left by a killed run")
  code, out = drive(dir, "full --jobs 1")
  eq(code, 0, out)
  has(out, "run     fake-good-s1")
  eq(count_lines(dir .. "/count.log"), 4, "only the unfinished run reran")
  eq(read_file(run .. "/stale.txt"), nil, "its old directory was removed first")
  assert(read_file(run .. "/wall.txt"))
end)

test("reproduce: a run killed after a checkpoint continues from it, with its seconds", function()
  local count = temp_dir() .. "/c.log"
  local dir = campaign([[{mode = "full", variant = "long", seeds = {1}, flags = "--value 3 --count ]] .. count
    .. [[ --die 1"},]])
  local run = dir .. "/runs/reproduce-full/fake-long-s1"
  local cmd = ("%s %s/scripts/fake.lua --value 3 --count %s --die 1 --seed 1 --threads 1 --checkpoint_every 10 "
    .. "--out %s"):format(LUAGAN, dir, count, run)
  -- killed (exit 9) after its checkpoint at iteration 10
  local code, out = drive(dir, "full --only long --checkpoint_every 10")
  eq(code, 1, out)
  has(out, "FAILED  fake-long-s1 (exit 9")
  eq(read_file(dir .. "/runs/reproduce-full/fake-long-s1.cmd"), cmd .. "\n")
  -- the same command again: it continues with --resume, and wall.txt adds the 100 s its checkpoint records
  code, out = drive(dir, "full --only long --checkpoint_every 10")
  eq(code, 0, out)
  has(out, "resume  fake-long-s1 (from iteration 10)")
  eq(read_file(count), "resumed fake-long-s1\nfake-long-s1\n")
  local r = dir .. "/results/full-fake-long/s1"
  eq(read_file(r .. "/cmd.txt"), cmd .. "\n", "the command it is equivalent to")
  local wall = tonumber(read_file(r .. "/wall.txt"))
  assert(wall >= 100 and wall < 160, "wall " .. tostring(wall))
  eq(read_file(r .. "/metrics.csv"), "iter,score,loss\n10,3,0.5\n20,4,0.25\n")
  -- --checkpoint_every aside, the results hold the run: another campaign skips it
  report.rm_rf(dir .. "/runs")
  code, out = drive(dir, "full --only long")
  eq(code, 0, out)
  has(out, "skip    fake-long-s1 (in " .. dir .. "/results)")
  -- killed again, then asked for with another command: it starts over (and dies again)
  os.remove(r .. "/wall.txt")
  code, out = drive(dir, "full --only long --checkpoint_every 10")
  eq(code, 1, out)
  code, out = drive(dir, "full --only long --checkpoint_every 20")
  eq(code, 1, out)
  has(out, "run     fake-long-s1")
  assert(not out:find("resume", 1, true), out)
  -- a checkpoint that cannot be read is not resumed either
  report.writefile(run .. "/checkpoint.safetensors", "not a checkpoint")
  code, out = drive(dir, "full --only long --checkpoint_every 20")
  has(out, "run     fake-long-s1")
  -- and a bad value is a usage error
  code, out = drive(dir, "full --checkpoint_every -1")
  eq(code, 2, out)
  has(out, "--checkpoint_every must be an integer >= 0")
end)

test("reproduce: a campaign continues on another machine from the committed results", function()
  local dir = campaign()
  local code, out = drive(dir, "full --jobs 2")
  eq(code, 0, out)
  -- another checkout: no run directories, the results only
  os.execute("rm -rf " .. sh_quote(dir .. "/runs"))
  code, out = drive(dir, "full")
  eq(code, 0, out)
  has(out, "skip    fake-good-s2 (in " .. dir .. "/results)")
  eq(count_lines(dir .. "/count.log"), 3, "nothing reran")
  -- a result whose command differs from the plan's (flags changed since) runs again
  local cmd = dir .. "/results/full-fake-bad/s1/cmd.txt"
  write(cmd, (read_file(cmd):gsub("%-%-value 1", "--value 2")))
  code, out = drive(dir, "full")
  eq(code, 0, out)
  has(out, "run     fake-bad-s1")
  eq(count_lines(dir .. "/count.log"), 4, "only the changed run reran")
  -- the interpreter's and scripts' paths may differ between machines
  cmd = dir .. "/results/full-fake-good/s1/cmd.txt"
  write(cmd, (read_file(cmd):gsub("^%S+ %S+/scripts/", "/elsewhere/luagan /elsewhere/scripts/")))
  code, out = drive(dir, "full")
  eq(code, 0, out)
  has(out, "skip    fake-good-s1 (in ")
  eq(count_lines(dir .. "/count.log"), 4)
end)

test("reproduce: each run is copied into the results as soon as it finishes", function()
  -- a last run that waits 5 s for a partner that never comes
  local dir = campaign(('{mode = "full", variant = "slow", seeds = {1}, flags = "--value 3 --count %s/count.log '
    .. '--mark %s/lonely"},'):format(temp_dir(), temp_dir()))
  local pid = drive_background(dir, "full --jobs 1", dir .. "/driver.out")
  local bad = dir .. "/results/full-fake-bad/s1/wall.txt"
  local t0 = lg.clock()
  while not read_file(bad) and lg.clock() - t0 < 30 do os.execute("sleep 0.05") end
  assert(read_file(bad), "an early run's results appear")
  -- the slow run is still going: the driver has neither copied it nor written the report
  eq(read_file(dir .. "/results/full-fake-slow/s1/wall.txt"), nil)
  eq(read_file(dir .. "/out/README.md"), nil)
  has(read_file(dir .. "/results/full-fake-good/s1/metrics.csv"), "20,7,0.25")
  os.execute("kill " .. pid .. " 2>/dev/null")
end)

test("reproduce: one driver per campaign; --collect copies finished runs and runs nothing", function()
  local dir = campaign(('{mode = "full", variant = "slow", seeds = {1}, flags = "--value 3 --count %s/count.log '
    .. '--mark %s/lonely"},'):format(temp_dir(), temp_dir()))
  local pid = drive_background(dir, "full --jobs 1 --only slow", "/dev/null")
  local t0 = lg.clock()
  while not read_file(dir .. "/runs/reproduce-full/fake-slow-s1.log") and lg.clock() - t0 < 20 do
    os.execute("sleep 0.05")
  end
  -- the slow run is going: a second driver on the same campaign refuses to start
  local code, out = drive(dir, "full --jobs 1")
  eq(code, 1, out)
  has(out, "reproduce: another driver is running " .. dir .. "/runs/reproduce-full")
  eq(read_file(dir .. "/results/full-fake-good/s1/wall.txt"), nil, "it ran nothing")
  os.execute("kill " .. pid .. " 2>/dev/null")
  -- a campaign of finished runs that never reached the results (its driver stopped
  -- before copying them): --collect copies them and runs nothing
  local other = campaign()
  code, out = drive(other, "full --jobs 2")
  eq(code, 0, out)
  os.execute("rm -rf " .. sh_quote(other .. "/results"))
  local before = count_lines(other .. "/count.log")
  code, out = drive(other, "full --collect")
  eq(code, 0, out)
  has(out, "reproduce full: copied 3 finished runs of " .. other .. "/runs/reproduce-full into " .. other .. "/results")
  eq(count_lines(other .. "/count.log"), before, "nothing ran")
  has(read_file(other .. "/results/full-fake-good/s2/metrics.csv"), "20,8,0.25")
  has(read_file(other .. "/out/README.md"), "- **Fake** (good): **inconclusive**")
end)

test("reproduce: quick mode, a smoke test, runs again whatever the results hold", function()
  local dir = campaign(('{mode = "quick", variant = "good", seeds = {1}, flags = "--value 6 --count %s/count.log"},')
    :format(temp_dir()))
  local code, out = drive(dir, "quick")
  eq(code, 0, out)
  has(out, "run     fake-good-s1")
  assert(read_file(dir .. "/results/quick-fake-good/s1/wall.txt"))
  os.execute("rm -rf " .. sh_quote(dir .. "/runs"))
  code, out = drive(dir, "quick")
  eq(code, 0, out)
  has(out, "run     fake-good-s1")
end)

test("reproduce: --only runs a subset", function()
  local dir = campaign()
  local code, out = drive(dir, "full --only bad")
  eq(code, 0, out)
  has(out, "reproduce full: 1 runs into")
  eq(read_file(dir .. "/count.log"), "fake-bad-s1\n")
  eq(report.exists(dir .. "/results/full-fake-good"), false)
  has(read_file(dir .. "/out/README.md"), "- **Fake** (bad): **does NOT hold**")
  -- plain text with a '-' (a Lua pattern would read "e-" as "e*"), and a pattern
  code, out = drive(dir, "full --only fake-good-s2 --jobs 1")
  eq(code, 0, out)
  has(out, "reproduce full: 1 runs into")
  code, out = drive(dir, "full --only 'good%-s%d$' --jobs 1")
  has(out, "reproduce full: 2 runs into")
  has(out, "skip    fake-good-s2 (done)")
  eq(read_file(dir .. "/count.log"), "fake-bad-s1\nfake-good-s2\nfake-good-s1\n")
end)

test("reproduce: a failed run is reported with its log and a nonzero exit", function()
  local dir = campaign([[{mode = "full", variant = "broken", seeds = {1}, flags = "--value 1 --fail 3 --count ]]
    .. temp_dir() .. [[/c.log"},]])
  local code, out = drive(dir, "full --jobs 2")
  eq(code, 1, out)
  has(out, "FAILED  fake-broken-s1 (exit 3, log " .. dir .. "/runs/reproduce-full/fake-broken-s1.log)")
  has(out, "    | fake: failing on purpose")
  has(out, "reproduce: 1 runs failed: fake-broken-s1")
  eq(report.exists(dir .. "/runs/reproduce-full/fake-broken-s1/wall.txt"), false)
  eq(report.exists(dir .. "/results/full-fake-broken"), false)
  -- the others finished and are reported
  has(read_file(dir .. "/out/README.md"), "score: n = 2 of 2 planned, per seed 7 / 8; mean 7.50")
end)

test("reproduce: bad plan, claims and arguments are rejected with a clear message", function()
  local dir = campaign()
  write(dir .. "/plan.lua", [[return {{exp = "fake", cols = {"score"}, evalcol = "score",
    runs = {{mode = "fast", variant = "good", seeds = {1}, flags = ""}}}}]])
  local code, out = drive(dir, "full")
  eq(code, 1)
  has(out, "reproduce: " .. dir .. "/plan.lua: experiment 1 (fake): run 1: mode must be quick, long or full, got fast")
  write(dir .. "/plan.lua", "return {{exp = 'fake', cols = {}, evalcol = 'x', runs = {{mode = 'full', variant = 'a', "
    .. "seeds = {1}, flags = '--seed 3'}}}}")
  code, out = drive(dir, "full")
  has(out, "run 1 (a): flags must not set --seed or --out (the driver does)")
  write(dir .. "/plan.lua", "return {{exp = 'fake', os.exit(7)}}")
  code, out = drive(dir, "full")
  eq(code, 1)
  has(out, "plan file " .. dir .. "/plan.lua:")
  write(dir .. "/plan.lua", "return {{")
  code, out = drive(dir, "full")
  has(out, "plan file " .. dir .. "/plan.lua:")
  write(dir .. "/plan.lua", plan_text(dir))
  write(dir .. "/claims.lua", (CLAIMS:gsub('compare = {"bad"}', 'compare = {"nope"}')))
  code, out = drive(dir, "full")
  eq(code, 1)
  has(out, "claims.lua: entry 1 (fake): claim 2 (bad): compares nope, which the plan does not run")
  write(dir .. "/claims.lua", (CLAIMS:gsub('"mean_at_least"', '"no_such_check"', 1)))
  code, out = drive(dir, "full")
  has(out, "claim 1 (good): unknown check 'no_such_check' (a key of report.checks)")
  write(dir .. "/claims.lua", (CLAIMS:gsub('primary = {label = "the good setting", why = "The paper\'s.", '
    .. 'config = "good"}, ', '', 1)))
  code, out = drive(dir, "full")
  has(out, "claim 1 (good): primary must be a table (the setting the check judges)")
  write(dir .. "/claims.lua", (CLAIMS:gsub('why = "The paper\'s.", config = "good"', 'config = "good"', 1)))
  code, out = drive(dir, "full")
  has(out, "claim 1 (good): primary needs a why (the reason it is the paper's setting)")
  write(dir .. "/claims.lua", (CLAIMS:gsub('ablations = {}', 'ablations = {{label = "x", config = "gone"}}', 1)))
  code, out = drive(dir, "full")
  has(out, "claim 1 (good): ablation 1 names gone, which the plan does not run in full mode")
  eq(report.exists(dir .. "/count.log"), false, "nothing ran")
  code, out = drive(dir, "fast")
  eq(code, 2)
  has(out, "reproduce: MODE must be quick, long or full, got 'fast'")
  code, out = drive(dir, "full --jobs 0")
  eq(code, 2)
  has(out, "--jobs must be a positive integer")
  code, out = drive(dir, "")
  eq(code, 2)
  has(out, "give MODE (quick, long or full) or --report")
  code, out = drive(dir, "--help")
  eq(code, 0)
  has(out, "usage: build/luagan experiments/reproduce.lua MODE [options]")
end)

test("report: statistics and the legacy layout's derived values", function()
  local s = report.stats({2, 4, 9})
  eq({s.n, s.mean, s.median, s.lo, s.hi}, {3, 5, 4, 2, 9})
  near(s.sd, math.sqrt(13))
  eq(report.fmt_stats(s), "5 +- 3.61 [2, 9]")
  -- a legacy seed: one row, values derived from the series in derived.txt
  local dir = temp_dir()
  write(dir .. "/metrics.csv", "iter,modes,hops\n35000,8,113\n")
  write(dir .. "/derived.txt", "# derived from a series that is not stored\nmin_modes_15k=3\nrho=-0.5\n")
  write(dir .. "/wall.txt", "12.5\n")
  local r = report.read_seed(dir, "modes", "last")
  eq({r.v.modes, r.v.hops, r.v.min_modes_15k, r.v.rho, r.v.evals, r.wall, r.legacy}, {8, 113, 3, -0.5, nil, 12.5, true})
  -- a whole series: evaluations and the fewest modes from 15k on
  write(dir .. "/metrics.csv", "iter,modes\n10000,5\n15000,2\n20000,\n25000,7\n")
  os.remove(dir .. "/derived.txt")
  r = report.read_seed(dir, "modes", "last")
  eq({r.v.modes, r.v.evals, r.v.min_modes_15k, r.legacy}, {7, 3, 2, nil})
end)

test("report: the last-25% window averages the last quarter of the evaluations", function()
  local dir = temp_dir()
  -- 8 evaluations (score set) between loss-only rows: the window is the last 2
  write(dir .. "/metrics.csv", "iter,score,hops,loss\n0,1,0,9\n1,,,9\n2,1,1,9\n4,1,1,9\n6,1,2,9\n8,1,2,9\n"
    .. "10,1,3,9\n12,4,3,9\n13,,,9\n14,6,5,9\n")
  local r = report.read_seed(dir, "score", "last25")
  eq({r.v.score, r.v.hops, r.v.iter, r.v.evals, r.v.window_rows, r.v.loss}, {5, 5, 14, 8, 2, 9})
  eq(report.read_seed(dir, "score", "last").v.score, 6)
  -- 3 evaluations: the last one (at least one row)
  write(dir .. "/metrics.csv", "iter,score\n0,1\n1,2\n2,3\n")
  r = report.read_seed(dir, "score", "last25")
  eq({r.v.score, r.v.window_rows}, {3, 1})
end)

test("report: the gradient-norm ratio is the ratio of the window's means", function()
  local dir = temp_dir()
  -- 8 rows, window the last 2: ns mean 3, mm mean 0.5 (the mean of the per-row ratios: 21.1)
  write(dir .. "/metrics.csv", "iter,gnorm_mm,gnorm_ns\n1,1,1\n2,1,1\n3,1,1\n4,1,1\n5,1,1\n6,1,1\n"
    .. "7,0.9,2\n8,0.1,4\n")
  local r = report.read_seed(dir, "gnorm_mm", "last25")
  near(r.v.gnorm_ratio, 6)
  eq(report.read_seed(dir, "gnorm_mm", "last").v.gnorm_ratio, 40)
  -- no ratio without both columns, or with a zero saturating norm
  write(dir .. "/metrics.csv", "iter,gnorm_mm\n1,0.5\n")
  eq(report.read_seed(dir, "gnorm_mm", "last").v.gnorm_ratio, nil)
  write(dir .. "/metrics.csv", "iter,gnorm_mm,gnorm_ns\n1,0,1\n")
  eq(report.read_seed(dir, "gnorm_mm", "last").v.gnorm_ratio, nil)
end)

-- results written by hand: RESULTS/full-fake-<variant>/s<seed>/metrics.csv
local function fake_result(results, variant, seed, csv, derived)
  local d = ("%s/full-fake-%s/s%d"):format(results, variant, seed)
  lg.fs.mkdir(d)
  write(d .. "/metrics.csv", csv)
  if derived then write(d .. "/derived.txt", derived) end
end

test("report: the primary alone decides; exact tests, missing seeds, legacy results, caveats", function()
  local dir = temp_dir()
  local res = dir .. "/results"
  local plan = report.check_plan({{exp = "fake", cols = {"score"}, evalcol = "score", runs = {
    {mode = "full", variant = "a", seeds = {1, 2, 3, 4, 5}, flags = "--iters 100"},
    {mode = "full", variant = "b", seeds = {1, 2, 3, 4, 5}, flags = "--iters 100"},
    {mode = "full", variant = "c", seeds = {1, 2, 3, 4, 5}, flags = "--iters 100"},
    {mode = "full", variant = "long", seeds = {1, 2, 3, 4, 5}, flags = "--iters 200"},
    {mode = "full", variant = "diffuse", seeds = {1, 2, 3}, flags = "--iters 100"},
    {mode = "full", variant = "never", seeds = {1, 2, 3}, flags = "--iters 100"}}}})
  -- a: last-quarter means 6..10 (the last evaluation alone would say 7..11);
  -- b: 1 less than a in every seed; c: seeds 1-3 only, scores 1..3, kept in the
  -- older layout (one row); long: 2 above a, at twice the iterations
  for s = 1, 5 do
    fake_result(res, "a", s, ("iter,score\n0,1\n10,1\n20,1\n30,1\n40,1\n50,\n60,1\n90,%d\n100,%d\n"):format(
      s + 4, s + 6))
    fake_result(res, "b", s, ("iter,score\n0,%d\n"):format(s + 4))
    fake_result(res, "long", s, ("iter,score\n0,%d\n"):format(s + 7))
  end
  for s = 1, 3 do
    fake_result(res, "c", s, ("iter,score\n100,%d\n"):format(s), "# older layout\n")
    fake_result(res, "diffuse", s, "iter,score,modes,hq,hops\n0,1,1,0.02,0\n100,1,1,0.02,0\n", nil)
  end
  local function claim(id, check, params, primary, ablations)
    return {id = id, statement = id .. ".", paper_value = "1", source = "Table 1", target = "t", why = "w",
      compare = {}, cols = {}, window = "last25", statistic = "s", check = check, params = params,
      primary = primary, ablations = ablations or {}}
  end
  local claims = report.check_claims({{exp = "fake", title = "Fake: tests", paper = "P", script = "fake.lua",
    claims = {
      claim("thr", "mean_at_least", {col = "score", min = 5}, {label = "A", why = "y", config = "a"},
        {{label = "C", config = "c"}}),
      claim("cmp", "more_than", {col = "score"}, {label = "A over B", why = "y", a = "a", b = "b"},
        {{label = "A over C", a = "a", b = "c"}, {label = "long over A", a = "long", b = "a"}}),
      claim("few", "mean_at_least", {col = "score", min = 0.5}, {label = "C", why = "y", config = "c"}),
      claim("cav", "k0_hops", {max_modes = 3}, {label = "D", why = "y", config = "diffuse"}),
      claim("none", "mean_at_least", {col = "score", min = 1}, {label = "N", why = "y", config = "never"}),
    }}}, plan)
  lg.fs.mkdir(dir .. "/out")
  report.write(plan, claims, {results_dir = res, out_dir = dir .. "/out"})
  local index = read_file(dir .. "/out/README.md")
  -- a threshold: 6..10, mean 8 +- 2.776 * sqrt(2.5 / 5): holds; the ablation C fails and changes nothing
  has(index, "- **Fake** (thr): **holds**. Primary: A. score: n = 5 of 5 planned, per seed 6 / 7 / 8 / 9 / 10; "
    .. "mean 8, 95% CI [6.04, 9.96]; target mean >= 5: holds.")
  local page = read_file(dir .. "/out/fake.md")
  has(page, "  - C (c): the same rule would read does NOT hold (last evaluation only; legacy result).\n"
    .. "    - score: n = 3 of 5 planned, window: last evaluation only, series not stored, per seed 1 / 2 / 3")
  -- five positive paired differences: p = 1/32
  has(index, "paired by seed (seeds 1,2,3,4,5), differences: 1 / 1 / 1 / 1 / 1, mean 1, 95% CI [1, 1]; exact "
    .. "sign-flip test, one-sided p = 0.0312 (smallest possible with 5 pairs: 0.0312); sign test: 5 of 5 nonzero "
    .. "differences positive, p = 0.0312: holds.")
  has(index, "- **Fake** (cmp): **holds**. Primary: A over B.")
  -- three shared seeds cannot reach p < 0.05; unequal iterations cannot hold
  has(page, "paired by seed (seeds 1,2,3), differences: 5 / 5 / 5, mean 5, 95% CI [5, 5]; exact sign-flip test, "
    .. "one-sided p = 0.125 (smallest possible with 3 pairs: 0.125)")
  has(page, "  - A over C (a, c): the same rule would read inconclusive (last evaluation only; legacy result).")
  has(page, "  - long over A (a, long): the same rule would read inconclusive.")
  has(page, "    - unequal compute (a --iters 100, long --iters 200): inconclusive.")
  -- fewer seeds than planned, legacy: labelled, judged on what is there
  has(index, "- **Fake** (few): **inconclusive** (last evaluation only; legacy result). Primary: C. score: n = 3 of 5 "
    .. "planned, window: last evaluation only, series not stored, per seed 1 / 2 / 3; mean 2, 95% CI [-0.484, 4.48]; "
    .. "target mean >= 0.500: inconclusive.")
  -- the caveat turns a collapse that would hold into inconclusive
  has(index, "- **Fake** (cav): **inconclusive**.")
  has(index, "diffuse: modes: n = 3 of 3 planned, per seed 1 / 1 / 1; mean 1, 95% CI [1, 1]; target mean <= 3: holds")
  has(index, "Caveat: HQ share below 10% (diffuse 2.0%)")
  has(index, "- **Fake** (none): not judged yet: no results of the primary setting (never).")
  has(page, "  - never: no results yet (n = 0 of 3 planned).")
  -- the rule and the glossary head the index
  has(index, "## How a verdict is reached")
  has(index, "with 3 seeds the smallest possible one-sided p is 1/8, with 5 seeds 1/32")
  has(index, "MODE score (Che, Li, Jacob, Bengio, Li, \"Mode Regularized Generative Adversarial Networks\", ICLR 2017)")
end)

test("report: the committed plan and claims load and agree", function()
  local plan = report.check_plan(report.load_data(ROOT .. "/experiments/plan.lua", "plan"))
  local claims = report.check_claims(report.load_data(ROOT .. "/experiments/claims.lua", "claims"), plan)
  eq(#claims, #plan, "a claims entry per experiment of the plan")
  for _, p in ipairs(claims) do
    for _, c in ipairs(p.claims) do
      -- every judged claim is judged on one primary setting over a window
      assert(not c.check or (c.primary and (c.window == "last25" or c.window == "end")), p.exp .. "." .. c.id)
      for _, k in ipairs{"statement", "paper_value", "source", "target", "why"} do
        assert(not c[k]:find("core%.md") and not c[k]:find("issue %d"), p.exp .. "." .. c.id .. "." .. k)
      end
    end
  end
end)

-- }------------------------------------------------------

test("report: the SimGAN check on known per-seed values", function()
  local function config(rows)
    local runs = {}
    for i, v in ipairs(rows) do runs[i] = {seed = i, v = v} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local function row(acc_s, acc_r, l1_r, keep_r)
    return {acc_synthetic = acc_s, acc_refined = acc_r, l1_synthetic = 0.4, l1_refined = l1_r,
            keep_clean = 0.9, keep_refined = keep_r}
  end
  local P = {max_l1_ratio = 0.7, min_keep = 0.95}
  -- refined beats synthetic in all 5 seeds (p = 1/32), L1 cut to 0.4-0.45 of the
  -- synthetic error, labels kept at 0.97-0.99 of the clean ceiling: every part holds
  local good = config{row(0.80, 0.83, 0.16, 0.88), row(0.81, 0.84, 0.17, 0.885), row(0.79, 0.82, 0.18, 0.875),
                      row(0.80, 0.85, 0.16, 0.89), row(0.82, 0.83, 0.17, 0.88)}
  local parts = report.checks.simgan(P, {main = "m"}, {m = good})
  eq(#parts, 3)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  assert(parts[1].text:find("p = 0.0312", 1, true), parts[1].text)
  near(good.runs[1].v.l1_ratio, 0.4, 1e-12)
  -- refined below synthetic on average, L1 barely moved, labels lost: each part fails
  local bad = config{row(0.80, 0.78, 0.39, 0.5), row(0.81, 0.80, 0.38, 0.6), row(0.79, 0.80, 0.39, 0.55)}
  parts = report.checks.simgan(P, {main = "m"}, {m = bad})
  for _, p in ipairs(parts) do eq(p.verdict, "does NOT hold", p.text) end
  -- three seeds all in the right direction: p = 1/8, inconclusive
  local few = config{row(0.80, 0.83, 0.16, 0.88), row(0.81, 0.84, 0.17, 0.885), row(0.79, 0.82, 0.18, 0.875)}
  eq(report.checks.simgan(P, {main = "m"}, {m = few})[1].verdict, "inconclusive")
  eq(#report.checks.simgan(P, {main = "m"}, {}), 0, "no results, no parts")
end)

test("report: the SRGAN check on known per-seed values", function()
  local function config(rows)
    local runs = {}
    for i, v in ipairs(rows) do runs[i] = {seed = i, v = v} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local function row(gain, ssim_gain, psnr_gan, fid_gan)
    return {psnr_bicubic = 16, psnr_srresnet = 16 + gain, psnr_srgan = psnr_gan, ssim_bicubic = 0.45,
            ssim_srresnet = 0.45 + ssim_gain, fid_srresnet = 30, fid_srgan = fid_gan}
  end
  local bic, trade = {part = "bicubic", min_gain_db = 1}, {part = "tradeoff"}
  -- SRResNet 3.1-3.5 dB and 0.2 SSIM above bicubic; SRGAN 2 dB lower, FID 10 lower: all hold at p = 1/32
  local good = config{row(3.5, 0.2, 17.5, 20), row(3.2, 0.21, 17.2, 21), row(3.1, 0.19, 17.1, 22),
                      row(3.3, 0.2, 17.3, 19), row(3.4, 0.2, 17.4, 20)}
  for _, P in ipairs{bic, trade} do
    local parts = report.checks.srgan(P, {main = "m"}, {m = good})
    eq(#parts, 2)
    for _, p in ipairs(parts) do
      eq(p.verdict, "holds", p.text)
      assert(p.text:find("p = 0.0312", 1, true), p.text)
    end
  end
  -- a 0.5 dB gain is below the 1 dB margin; SRGAN's FID above SRResNet's: those parts fail
  local bad = config{row(0.5, 0.2, 16, 40), row(0.6, 0.2, 16, 41), row(0.4, 0.2, 16, 39)}
  local parts = report.checks.srgan(bic, {main = "m"}, {m = bad})
  eq(parts[1].verdict, "does NOT hold", parts[1].text)
  eq(parts[2].verdict, "inconclusive", "3 seeds: p = 1/8")
  parts = report.checks.srgan(trade, {main = "m"}, {m = bad})
  eq(parts[1].verdict, "inconclusive", parts[1].text)
  eq(parts[2].verdict, "does NOT hold", parts[2].text)
  eq(#report.checks.srgan(trade, {main = "m"}, {}), 0, "no results, no parts")
end)

test("report: the semi-supervised GAN check on known per-seed values", function()
  local function config(accs)
    local runs = {}
    for i, a in ipairs(accs) do runs[i] = {seed = i, v = {test_acc = a}} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local P = {min_gain = 0.03, min_acc = 0.85}
  local S = {ssl = "s", base = "b"}
  -- 5 to 7 points above the baseline in every seed (p = 1/32), accuracies 0.86-0.88: both hold
  local parts = report.checks.ssgan(P, S, {s = config{0.87, 0.86, 0.88, 0.87, 0.86},
                                           b = config{0.81, 0.80, 0.82, 0.80, 0.81}})
  eq(#parts, 2)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  assert(parts[1].text:find("p = 0.0312", 1, true), parts[1].text)
  -- a gain of 1-2 points is above the baseline but not by the margin: the comparison fails;
  -- accuracies around 0.82 miss the threshold
  parts = report.checks.ssgan(P, S, {s = config{0.82, 0.83, 0.82, 0.81, 0.83},
                                     b = config{0.81, 0.81, 0.80, 0.80, 0.82}})
  eq(parts[1].verdict, "does NOT hold", parts[1].text)
  eq(parts[2].verdict, "does NOT hold", parts[2].text)
  -- min_acc = false in the setting (an ablation): the comparison alone
  parts = report.checks.ssgan(P, {ssl = "s", base = "b", min_acc = false},
    {s = config{0.60, 0.62, 0.58, 0.61, 0.63}, b = config{0.50, 0.52, 0.51, 0.49, 0.50}})
  eq(#parts, 1)
  eq(parts[1].verdict, "holds", parts[1].text)
  eq(#report.checks.ssgan(P, S, {}), 0, "no results, no parts")
end)

test("report: the AAE checks on known per-seed values", function()
  local function config(vals)
    local runs = {}
    for i, v in ipairs(vals) do runs[i] = {seed = i, v = v} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local function arm(mmds, extra)
    local vals = {}
    for i, m in ipairs(mmds) do
      vals[i] = {mmd = m, mean_dev = extra and extra[1] or 0.1, sd_dev = extra and extra[2] or 0.05,
                 parzen = extra and extra[3] and extra[3][i]}
    end
    return config(vals)
  end
  local P = {max_mean_dev = 0.5, max_sd_dev = 0.2}
  local S = {aae = "a", ae = "e", vae = "v"}
  -- the AAE's codes closer to the prior than both baselines in all 5 seeds, moments inside
  local G = {a = arm({0.01, 0.02, 0.01, 0.015, 0.01}), e = arm({0.5, 0.4, 0.6, 0.5, 0.45}),
             v = arm({0.05, 0.04, 0.06, 0.05, 0.03})}
  local parts = report.checks.aae_posterior(P, S, G)
  eq(#parts, 4)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  assert(parts[1].text:find("p = 0.0312", 1, true), parts[1].text)
  -- no VAE (or no AE) in the setting: three parts; the VAE ahead in two seeds: inconclusive
  eq(#report.checks.aae_posterior(P, {aae = "a", ae = "e"}, G), 3)
  local only_vae = report.checks.aae_posterior(P, {aae = "a", vae = "v"}, G)
  eq(#only_vae, 3)
  assert(only_vae[1].text:find("below the VAE", 1, true), only_vae[1].text)
  G.v = arm({0.005, 0.01, 0.06, 0.05, 0.03})
  eq(report.checks.aae_posterior(P, S, G)[2].verdict, "inconclusive")
  -- codes spread 30% too wide: the sd part fails
  G.a = arm({0.01, 0.02, 0.01, 0.015, 0.01}, {0.1, 0.3})
  eq(report.checks.aae_posterior(P, S, G)[4].verdict, "does NOT hold")
  -- Parzen: 60 nats above the AE in every seed holds at a 50-nat margin, 40 does not
  G.a = arm({0, 0, 0, 0, 0}, {0, 0, {160, 170, 150, 165, 155}})
  G.e = arm({0, 0, 0, 0, 0}, {0, 0, {100, 110, 90, 105, 95}})
  local p = report.checks.aae_parzen({margin = 50}, S, G)[1]
  eq(p.verdict, "holds", p.text)
  assert(p.text:find("by more than 50", 1, true), p.text)
  eq(report.checks.aae_parzen({margin = 70}, S, G)[1].verdict, "does NOT hold")
  eq(#report.checks.aae_parzen({margin = 50}, S, {}), 0, "no results, no parts")
  -- semi-supervised: 8-10 points below the supervised classifier holds at a 5-point margin
  local function errs(v)
    local vals = {}
    for i, e in ipairs(v) do vals[i] = {test_err = e} end
    return config(vals)
  end
  G = {s = errs{0.15, 0.14, 0.16, 0.15, 0.13}, u = errs{0.24, 0.23, 0.25, 0.24, 0.22}}
  p = report.checks.aae_ssl({margin = 0.05}, {ssl = "s", sup = "u"}, G)[1]
  eq(p.verdict, "holds", p.text)
  eq(report.checks.aae_ssl({margin = 0.1}, {ssl = "s", sup = "u"}, G)[1].verdict, "does NOT hold")
end)

test("report: the LAPGAN check on known per-seed values", function()
  local function config(parzen, mode)
    local runs = {}
    for i, v in ipairs(parzen) do
      runs[i] = {seed = i, v = {parzen = v, mode_score = mode[i], train_s = 200 + i, classes = 10, fid = 20}}
    end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local S = {lapgan = "l", gan = "g"}
  local G = {l = config({120, 130, 125, 118, 140}, {8, 8.5, 8.2, 7.9, 8.8}),
             g = config({100, 90, 105, 110, 95}, {6, 7, 5, 6.5, 7.1})}
  local parts = report.checks.lapgan({}, S, G)
  eq(#parts, 3)
  eq(parts[1].verdict, "holds", parts[1].text)
  assert(parts[1].text:find("p = 0.0312", 1, true), parts[1].text)
  eq(parts[2].verdict, "holds", parts[2].text)
  eq(parts[3].verdict, nil, "the compute line is information")
  assert(parts[3].text:find("LAPGAN 201 / 202", 1, true), parts[3].text)
  -- the GAN ahead on Parzen in every seed: that part fails, the MODE part still holds
  G.g = config({150, 150, 150, 150, 150}, {6, 7, 5, 6.5, 7.1})
  parts = report.checks.lapgan({}, S, G)
  eq(parts[1].verdict, "does NOT hold", parts[1].text)
  eq(parts[2].verdict, "holds", parts[2].text)
  -- one arm missing: no comparison, no compute line
  eq(#report.checks.lapgan({}, S, {l = G.l}), 0)
end)

test("report: the AdaGAN check on known per-seed values", function()
  local function config(modes, cov)
    local runs = {}
    for i, m in ipairs(modes) do runs[i] = {seed = i, v = {modes = m, coverage = cov and cov[i]}} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local G = {a = config({10, 10, 10, 10, 9}, {1, 1, 1, 0.99, 1}), s = config{5, 5, 4, 6, 5},
             e = config{3, 7, 6, 5, 5}}
  local parts = report.checks.adagan({min_coverage = 0.95}, {adagan = "a", single = "s", ensemble = "e"}, G)
  eq(#parts, 3)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  -- the ensemble as good as AdaGAN in one seed and better in another: mean difference still
  -- positive, but the exact test cannot reach p < 0.05
  G.e = config{10, 11, 6, 5, 5}
  parts = report.checks.adagan({min_coverage = 0.95}, {adagan = "a", single = "s", ensemble = "e"}, G)
  eq(parts[2].verdict, "inconclusive", parts[2].text)
end)

test("report: the EBGAN and BEGAN checks on known per-seed values", function()
  local function config(col, vals, more)
    local runs = {}
    for i, x in ipairs(vals) do
      runs[i] = {seed = i, v = {[col] = x}}
      for k, v in pairs(more or {}) do runs[i].v[k] = v[i] end
    end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  -- EBGAN above the GAN in every seed (p = 1/32) with all 10 classes: holds
  local G = {e = config("inception", {5.5, 5.4, 5.6, 5.2, 5.3}, {classes = {10, 10, 10, 10, 10}}),
             g = config("inception", {4.1, 5.0, 3.9, 4.8, 4.4})}
  local parts = report.checks.ebgan_vs_gan({min_classes = 9}, {ebgan = "e", gan = "g"}, G)
  eq(#parts, 2)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  -- the GAN ahead on average: does NOT hold
  G.g = config("inception", {6.1, 5.0, 5.9, 5.8, 5.4})
  eq(report.checks.ebgan_vs_gan({min_classes = 9}, {ebgan = "e", gan = "g"}, G)[1].verdict, "does NOT hold")
  -- PT: higher entropy in 4 seeds and a tie in the fifth: p = 1/16, inconclusive
  G = {p = config("hy", {2.25, 2.24, 2.20, 2.26, 2.22}), e = config("hy", {2.20, 2.21, 2.20, 2.19, 2.18})}
  eq(report.checks.ebgan_pt({}, {pt = "p", ebgan = "e"}, G)[1].verdict, "inconclusive")
  G.p = config("hy", {2.25, 2.24, 2.21, 2.26, 2.22})
  eq(report.checks.ebgan_pt({}, {pt = "p", ebgan = "e"}, G)[1].verdict, "holds")
  -- BEGAN's control: near gamma with k inside in every seed holds; a ratio 0.2 off does NOT
  G = {a = config("ratio_err", {0.02, 0.03, 0.01, 0.04, 0.02}, {k_inside = {1, 0.99, 1, 0.98, 1}}),
       b = config("ratio_err", {0.2, 0.25, 0.18, 0.22, 0.21}, {k_inside = {1, 1, 1, 1, 1}})}
  local P = {max_ratio_err = 0.1, min_k_inside = 0.9}
  parts = report.checks.began_equilibrium(P, {configs = {"a"}}, G)
  eq(#parts, 2)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  parts = report.checks.began_equilibrium(P, {configs = {"a", "b"}}, G)
  eq(#parts, 4)
  eq(parts[3].verdict, "does NOT hold", parts[3].text)
  eq(report.combine(parts), "does NOT hold")
  -- M_global: a 60-70% fall and rho 0.8-0.95 hold; rho straddling 0.5 is inconclusive
  G = {c = config("M_drop", {0.6, 0.7, 0.65, 0.62, 0.68}, {rho = {0.9, 0.8, 0.95, 0.85, 0.9}})}
  P = {min_drop = 0.5, min_rho = 0.5}
  parts = report.checks.began_convergence(P, {config = "c"}, G)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  G.c = config("M_drop", {0.6, 0.7, 0.65, 0.62, 0.68}, {rho = {0.9, 0.1, 0.95, 0.2, 0.6}})
  eq(report.checks.began_convergence(P, {config = "c"}, G)[2].verdict, "inconclusive")
  -- diversity rising with gamma in every seed holds at both steps; a fall at the second does NOT
  G = {g3 = config("diversity", {20, 21, 19, 20, 22}), g5 = config("diversity", {23, 24, 22, 23, 25}),
       g7 = config("diversity", {25, 26, 24, 25, 27})}
  parts = report.checks.began_diversity({col = "diversity"}, {order = {"g3", "g5", "g7"}}, G)
  eq(#parts, 2)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  G.g7 = config("diversity", {21, 22, 20, 21, 23})
  parts = report.checks.began_diversity({col = "diversity"}, {order = {"g3", "g5", "g7"}}, G)
  eq(parts[2].verdict, "does NOT hold", parts[2].text)
  eq(#report.checks.began_diversity({col = "diversity"}, {order = {"g3", "g5"}}, {}), 0, "no results, no parts")
end)
test("report: the crypto check and the Clopper-Pearson interval on known values", function()
  local lo, hi = report.clopper_pearson(4, 5)   -- the textbook interval of 4/5
  near(lo, 0.2836, 1e-4)
  near(hi, 0.9949, 1e-4)
  eq({report.clopper_pearson(0, 5)}, {0, select(2, report.clopper_pearson(0, 5))})
  near(select(2, report.clopper_pearson(0, 5)), 1 - 0.025 ^ (1 / 5), 1e-9)
  local function config(rows)
    local runs = {}
    for i, r in ipairs(rows) do runs[i] = {seed = i, v = {bob_bits_wrong = r[1], retrained_eve_bits_wrong = r[2]}} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local P, S = {max_bob = 0.05, min_eve = 7}, {adv = "a", control = "c"}
  -- 5 of 5 succeed (p = 1/32) and every fresh Eve does worse than the control's: holds
  local G = {a = config{{0.01, 7.5}, {0.02, 7.4}, {0.0, 7.8}, {0.03, 7.2}, {0.01, 7.6}},
             c = config{{0.0, 2.0}, {0.0, 3.1}, {0.0, 1.5}, {0.01, 2.2}, {0.0, 0.9}}}
  local parts = report.checks.crypto(P, S, G)
  eq(#parts, 3)
  eq(parts[1].verdict, "holds", parts[1].text)
  assert(parts[2].text:find("5/5 = 1, 95% Clopper-Pearson interval [0.478, 1]", 1, true), parts[2].text)
  eq(parts[3].verdict, "holds", parts[3].text)
  -- Bob fails in one seed, a fresh Eve breaks another: 3 of 5, not most seeds beyond chance
  G.a = config{{0.5, 7.5}, {0.02, 6.1}, {0.0, 7.8}, {0.03, 7.2}, {0.01, 7.6}}
  parts = report.checks.crypto(P, S, G)
  eq(parts[1].verdict, "inconclusive", parts[1].text)
  G.a = config{{0.5, 7.5}, {0.02, 6.1}, {0.3, 7.8}, {0.03, 7.2}, {0.01, 7.6}}
  eq(report.checks.crypto(P, S, G)[1].verdict, "does NOT hold")
  eq(#report.checks.crypto(P, S, {}), 0, "no results, no parts")
end)

test("report: the cGAN check on known per-seed values", function()
  local function config(acc, div)
    local runs = {}
    for i = 1, #acc do runs[i] = {seed = i, v = {cond_acc = acc[i], diversity = div[i]}} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local P = {min_acc = 0.9, min_diversity = 0.5}
  local parts = report.checks.cgan(P, {main = "m"}, {m = config({0.95, 0.96, 0.97, 0.95, 0.96}, {0.8, 0.82, 0.79, 0.81, 0.8})})
  eq(#parts, 2)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  -- accuracy straddling 0.9: inconclusive; diversity under half the real spread: fails
  parts = report.checks.cgan(P, {main = "m"}, {m = config({0.85, 0.97, 0.88, 0.95, 0.92}, {0.3, 0.4, 0.35, 0.3, 0.4})})
  eq(parts[1].verdict, "inconclusive", parts[1].text)
  eq(parts[2].verdict, "does NOT hold", parts[2].text)
end)
test("report: the text2img checks on known per-seed values", function()
  local function config(rows)
    local runs = {}
    for i, v in ipairs(rows) do runs[i] = {seed = i, v = v} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local function arm(col, vals)
    local rows = {}
    for i, x in ipairs(vals) do rows[i] = {[col] = x} end
    return config(rows)
  end
  local check = report.checks.text2img
  -- GAN-CLS above the plain GAN in all 5 seeds: p = 1/32
  local G = {c = arm("attr_acc", {0.6, 0.55, 0.62, 0.58, 0.6}), p = arm("attr_acc", {0.3, 0.35, 0.2, 0.4, 0.33})}
  local parts = check({}, {cls = "c", plain = "p"}, G)
  eq(#parts, 1)
  eq(parts[1].verdict, "holds", parts[1].text)
  assert(parts[1].text:find("one-sided p = 0.0312", 1, true), parts[1].text)
  -- below it: does NOT hold
  eq(check({}, {cls = "p", plain = "c"}, G)[1].verdict, "does NOT hold")
  -- the gap: interval above 0 holds; one seed below 0 makes it inconclusive
  parts = check({min_gap = 0}, {main = "g"}, {g = arm("d_gap", {0.4, 0.45, 0.5, 0.42, 0.48})})
  eq(parts[1].verdict, "holds", parts[1].text)
  parts = check({min_gap = 0}, {main = "g"}, {g = arm("d_gap", {0.4, -0.45, 0.5, 0.02, -0.3})})
  eq(parts[1].verdict, "inconclusive", parts[1].text)
  -- held out: GAN-INT above GAN-CLS in 4 of 5 seeds, one tie: p = 1/16 (the tie flips to 0)
  G = {i = arm("ho_acc", {0.3, 0.4, 0.2, 0.35, 0.3}), c = arm("ho_acc", {0.2, 0.3, 0.1, 0.25, 0.3})}
  parts = check({}, {int = "i", cls = "c"}, G)
  eq(parts[1].verdict, "inconclusive", parts[1].text)
  assert(parts[1].text:find("held-out combinations", 1, true), parts[1].text)
  eq(#check({}, {int = "i", cls = "c"}, {}), 0, "no results, no parts")
end)
test("report: the VGAN checks on known per-seed values", function()
  local function config(rows)
    local runs = {}
    for i, v in ipairs(rows) do runs[i] = {seed = i, v = v} end
    return {runs = runs, spec = {seeds = {1, 2, 3}}}
  end
  local function row(iou, motion, gain)
    return {mask_iou = iou, motion_ratio = motion, probe_gain = gain}
  end
  local P = {min_iou = 0.5, min_motion = 0.5, max_motion = 2}
  local good = config{row(0.62, 1.1, 0.20), row(0.60, 0.9, 0.22), row(0.64, 1.0, 0.18)}
  local parts = report.checks.vgan(P, {two = "t"}, {t = good})
  eq(#parts, 4)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  -- a mask that covers the frame, clips that barely move, no probe gain: each part fails
  -- (the motion ratio's upper bound is still met)
  local bad = config{row(0.10, 0.2, -0.02), row(0.12, 0.3, 0.00), row(0.08, 0.25, -0.01)}
  parts = report.checks.vgan(P, {two = "t"}, {t = bad})
  eq(parts[1].verdict, "does NOT hold", parts[1].text)
  eq(parts[2].verdict, "does NOT hold", parts[2].text)
  eq(parts[3].verdict, "holds", parts[3].text)
  eq(parts[4].verdict, "does NOT hold", parts[4].text)
  -- a mean above the bound with a wide interval: inconclusive
  eq(report.checks.vgan(P, {two = "t"}, {t = config{row(0.9, 1, 0.1), row(0.2, 1, 0.1), row(0.7, 1, 0.1)}})[1].verdict,
     "inconclusive")
  eq(#report.checks.vgan(P, {two = "t"}, {}), 0, "no results, no parts")
  -- two-stream motion ratios 1.1, 0.9, 1.0 against one-stream 2.5, 0.3, 3: closer to 1 in all
  -- 3 seeds, but with 3 pairs the exact test cannot go below p = 1/8
  local one = config{row(nil, 2.5), row(nil, 0.3), row(nil, 3)}
  parts = report.checks.vgan_streams({}, {two = "t", one = "o"}, {t = good, o = one})
  eq(#parts, 1)
  eq(parts[1].verdict, "inconclusive", parts[1].text)
  assert(parts[1].text:find("p = 0.125", 1, true), parts[1].text)
  near(one.runs[2].v.motion_err, math.abs(math.log(0.3)), 1e-12)
  parts = report.checks.vgan_streams({}, {two = "t", one = "o"}, {t = one, o = good})
  eq(parts[1].verdict, "does NOT hold", parts[1].text)
end)

test("report: the pix2pix checks on known per-seed values", function()
  local function config(rows)
    local runs = {}
    for i, v in ipairs(rows) do runs[i] = {seed = i, v = v} end
    return {runs = runs, spec = {seeds = {1, 2, 3, 4, 5}}}
  end
  local function arm(fid, l1, acc)
    local rows = {}
    for i = 1, 5 do rows[i] = {fid = fid + i * 0.1, l1 = l1 + i * 0.001, acc = acc + i * 0.001} end
    return config(rows)
  end
  local S = {main = "m", l1 = "a", cgan = "c"}
  -- L1+cGAN: FID below L1's in every seed, L1 below cGAN's in every seed: p = 1/32, holds
  local G = {m = arm(10, 0.20, 0.80), a = arm(30, 0.15, 0.70), c = arm(12, 0.35, 0.60)}
  local parts = report.checks.pix2pix({part = "ordering"}, S, G)
  eq(#parts, 2)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  assert(parts[1].text:find("p = 0.0312", 1, true), parts[1].text)
  parts = report.checks.pix2pix({part = "fcn"}, S, G)
  for _, p in ipairs(parts) do eq(p.verdict, "holds", p.text) end
  -- the L1 arm more accurate than L1+cGAN: that part does NOT hold
  parts = report.checks.pix2pix({part = "fcn"}, S, {m = arm(10, 0.2, 0.80), a = arm(30, 0.15, 0.90), c = G.c})
  eq(parts[1].verdict, "does NOT hold", parts[1].text)
  eq(parts[2].verdict, "holds", parts[2].text)
  -- retrieval: D 0.70-0.74 against pixels 0.60 in every seed; rotation: D drops 10%, pixels 50%
  local ret = {}
  for i = 1, 5 do
    local d = 0.69 + i * 0.01
    ret[i] = {p10_D = d, p10_D_rot = d * 0.9, p10_pixels = 0.6, p10_pixels_rot = 0.3}
  end
  local R = {m = config(ret)}
  parts = report.checks.pix2pix({part = "retrieval"}, {main = "m"}, R)
  eq(#parts, 1)
  eq(parts[1].verdict, "holds", parts[1].text)
  parts = report.checks.pix2pix({part = "rotation"}, {main = "m"}, R)
  eq(parts[1].verdict, "holds", parts[1].text)
  near(R.m.runs[1].v.drop_D, 0.1, 1e-12)
  near(R.m.runs[1].v.drop_pixels, 0.5, 1e-12)
  -- D below pixels: retrieval does NOT hold
  for i = 1, 5 do ret[i].p10_D = 0.5 end
  eq(report.checks.pix2pix({part = "retrieval"}, {main = "m"}, {m = config(ret)})[1].verdict, "does NOT hold")
  eq(#report.checks.pix2pix({part = "retrieval"}, {main = "m"}, {}), 0, "no results, no parts")
  eq(#report.checks.pix2pix({part = "ordering"}, S, {}), 0, "no results, no parts")
end)
