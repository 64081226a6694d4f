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
local FAKE = [[
local lg = require "luagan"
local a = {}
for i = 1, #arg, 2 do a[arg[i]:gsub("^%-%-", "")] = arg[i + 1] end
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
