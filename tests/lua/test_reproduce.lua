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
        window = "last", statistic = "mean over seeds", check = "mean_at_least",
        params = {config = "good", col = "score", min = 5}},
      {id = "bad", statement = "Bad configurations score high too.", paper_value = "10", source = "Fig. 9",
        target = "mean score >= 5", why = "Half the paper's number.", compare = {"bad"}, cols = {"score"},
        window = "last", statistic = "mean over seeds", check = "mean_at_least",
        params = {config = "bad", col = "score", min = 5}},
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
local function drive(dir, args)
  local out = dir .. "/driver.out"
  local cmd = ("%s %s %s --plan %s/plan.lua --claims %s/claims.lua --results %s/results --runs %s/runs "
    .. "--out %s/out --scripts %s/scripts --luagan %s >%s 2>&1"):format(sh_quote(LUAGAN),
    sh_quote(ROOT .. "/experiments/reproduce.lua"), args, dir, dir, dir, dir, dir, dir, sh_quote(LUAGAN),
    sh_quote(out))
  local ok, _, code = os.execute(cmd)
  return ok and 0 or code, read_file(out) or ""
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
  -- the whole series and the script's extra file
  eq(read_file(r .. "/metrics.csv"), "iter,score,loss\n0,,1\n10,6,0.5\n20,8,0.25\n")
  eq(read_file(r .. "/extra.txt"), "extra fake-good-s2\n")
  -- the report: scores 7 / 8 (good) and 2 (bad) against >= 5
  local index = read_file(dir .. "/out/README.md")
  has(index, "- **Fake**: good: mean score 7.50 over 2 seeds (7 / 8; target >= 5): holds.")
  has(index, "- **Fake**: bad: mean score 2 over 1 seeds (2; target >= 5): does NOT hold.")
  has(index, "[Fake: a test paper](fake.md)")
  local page = read_file(dir .. "/out/fake.md")
  has(page, "- Paper: 10; source: Table 9.")
  has(page, "- Why this threshold: Half the paper's number.")
  has(page, "  - good: score 7.50 +- 0.707 [7, 8] (per seed 7 / 8)")
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

test("reproduce: --only runs a subset", function()
  local dir = campaign()
  local code, out = drive(dir, "full --only bad")
  eq(code, 0, out)
  has(out, "reproduce full: 1 runs into")
  eq(read_file(dir .. "/count.log"), "fake-bad-s1\n")
  eq(report.exists(dir .. "/results/full-fake-good"), false)
  has(read_file(dir .. "/out/README.md"), "- **Fake**: bad: mean score 2")
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
  has(read_file(dir .. "/out/README.md"), "good: mean score 7.50")
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

test("report: the committed plan and claims load and agree", function()
  local plan = report.check_plan(report.load_data(ROOT .. "/experiments/plan.lua", "plan"))
  local claims = report.check_claims(report.load_data(ROOT .. "/experiments/claims.lua", "claims"), plan)
  eq(#claims, 8)
  for _, p in ipairs(claims) do
    for _, c in ipairs(p.claims) do
      for _, k in ipairs{"statement", "paper_value", "source", "target", "why"} do
        assert(not c[k]:find("core%.md") and not c[k]:find("issue %d"), p.exp .. "." .. c.id .. "." .. k)
      end
    end
  end
end)

-- }------------------------------------------------------
