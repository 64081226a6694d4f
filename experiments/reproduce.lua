-- The reproduction driver: runs the plan (experiments/plan.lua) N runs at a
-- time, copies each finished run into experiments/results/ and writes the
-- report (experiments/README.md and experiments/<exp>.md) from there, judging
-- the claims of experiments/claims.lua (experiments/lib/report.lua).
-- `build/luagan experiments/reproduce.lua --help` lists the options.
local lg = require "luagan"
local report = require "lib.report"

local HELP = [[
usage: build/luagan experiments/reproduce.lua MODE [options]
       build/luagan experiments/reproduce.lua --report [options]

Runs every run of MODE in the plan, then rewrites the report.
  MODE            quick  smoke size, 1 seed, a few minutes (make reproduce-quick)
                  long   single-seed side runs full mode does not repeat (~15 min)
                  full   reproduction size, 5 seeds for 2-D toys and 3 for images (more than 12 hours on 2 cores)
Options:
  --only PATTERN  only the runs whose name <exp>-<variant>-s<seed> contains PATTERN
                  as plain text or matches it as a Lua pattern (string.find), e.g.
                  --only stacked, --only wgan_gp-ring8, --only "^wgan%-"
  --jobs N        runs at once (default 2)
  --checkpoint_every N
                  each run keeps a checkpoint every N iterations (default 0: none
                  before its end), so that a run killed midway continues from its
                  latest one (below); checkpoints do not change a run's numbers
  --report        run nothing: rewrite the report from the results only
  --collect       run nothing: copy MODE's finished runs into the results, then
                  rewrite the report (a campaign stopped before its end)
  --plan FILE     the run plan (default experiments/plan.lua)
  --claims FILE   the claims (default experiments/claims.lua)
  --results DIR   the results the report reads (default experiments/results)
  --runs DIR      run directories go to DIR/reproduce-MODE/ (default runs)
  --out DIR       where README.md and <exp>.md are written (default experiments)
  --scripts DIR   where the experiment scripts <exp>.lua are (default experiments)
  --luagan PATH   the interpreter that runs them (default build/luagan)
  --help          this text

Each run is
  LUAGAN SCRIPTS/<exp>.lua FLAGS --seed S --threads 1 --checkpoint_every N --out RUNS/reproduce-MODE/<name>
with its output in RUNS/reproduce-MODE/<name>.log (of its last part, when
resumed); one driver at a time per RUNS/reproduce-MODE (a lock file there).  A
finished run gets wall.txt (seconds) and cmd.txt (the command) and is skipped
next time, so an interrupted campaign continues where it stopped.  A run
directory without wall.txt (killed or failed midway) continues from its latest
checkpoint with `--resume` when it has one and was started with the same
command (bitwise the numbers of an uninterrupted run; wall.txt adds the seconds
the checkpoint records; delete the directory to start it over, as after a change
to the code), else it is removed and run again.  A run whose results
are in RESULTS already (wall.txt, and cmd.txt with the same script, flags and
seed; --checkpoint_every aside) is skipped too (full and long mode), so a
campaign spread over machines runs only what the results lack: delete a
configuration's results to run it again.  Quick mode, a smoke test of the
pipeline, always runs.  Each finished run is copied to
RESULTS/<mode>-<exp>-<variant>/s<seed>/ (metrics.csv's evaluation rows, the files the
script writes beside it, config.lua, wall.txt, cmd.txt) with the first seed's last sample grid
as samples.png.  Exit status 1 when a run failed (its log is printed), 2 on a
usage error.]]

-- the repository root, from this script's path: experiments/reproduce.lua
local function default_root()
  local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
  if dir == "experiments" then return nil end     -- run from the root: plain relative paths
  return dir .. "/.."
end

local function usage_error(msg)
  io.stderr:write("reproduce: ", msg, "\n(build/luagan experiments/reproduce.lua --help)\n")
  os.exit(2)
end

local function parse_args(argv)
  local root = default_root()
  local function at_root(p) return root and (root .. "/" .. p) or p end
  local o = {jobs = 2, plan = at_root("experiments/plan.lua"), claims = at_root("experiments/claims.lua"),
             results = at_root("experiments/results"), runs = at_root("runs"), out = at_root("experiments"),
             scripts = at_root("experiments"), luagan = at_root("build/luagan")}
  local valued = {only = true, jobs = true, checkpoint_every = true, plan = true, claims = true, results = true,
                  runs = true, out = true, scripts = true, luagan = true}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name = a:match("^%-%-([%w_]+)$")
    if a == "--help" or a == "-h" then
      print(HELP)
      os.exit(0)
    elseif a == "--report" then
      o.report_only = true
    elseif a == "--collect" then
      o.collect_only = true
    elseif name and valued[name] then
      if argv[i + 1] == nil then usage_error("--" .. name .. " needs a value") end
      o[name] = argv[i + 1]
      i = i + 1
    elseif a:sub(1, 1) == "-" then
      usage_error("unknown option " .. a)
    elseif not o.mode then
      if not report.MODE_TEXT[a] then usage_error("MODE must be quick, long or full, got '" .. a .. "'") end
      o.mode = a
    else
      usage_error("unexpected argument '" .. a .. "'")
    end
    i = i + 1
  end
  local jobs = tonumber(o.jobs)
  if not jobs or jobs < 1 or jobs ~= math.floor(jobs) then usage_error("--jobs must be a positive integer") end
  o.jobs = jobs
  local every = tonumber(o.checkpoint_every or "0")
  if not every or every < 0 or every ~= math.floor(every) then
    usage_error("--checkpoint_every must be an integer >= 0")
  end
  o.checkpoint_every = math.tointeger(every)
  if not o.mode and not o.report_only then usage_error("give MODE (quick, long or full) or --report") end
  if o.collect_only and not o.mode then usage_error("--collect needs MODE") end
  if o.only and not pcall(string.find, "", o.only) then usage_error("--only: bad pattern '" .. o.only .. "'") end
  return o
end

-- {====================================================== the runs

-- The runs of mode in plan order: {name, exp, spec, seed, argv, cmd, dir, log}.
local function runs_of(plan, o)
  local out = {}
  local base = ("%s/reproduce-%s"):format(o.runs, o.mode)
  for _, e in ipairs(plan) do
    for _, spec in ipairs(e.runs) do
      if spec.mode == o.mode then
        for _, s in ipairs(spec.seeds) do
          local name = ("%s-%s-s%d"):format(e.exp, spec.variant, s)
          if not o.only or name:find(o.only, 1, true) or name:find(o.only) then
            local dir = base .. "/" .. name
            local argv = {o.luagan, ("%s/%s.lua"):format(o.scripts, e.exp)}
            for f in spec.flags:gmatch("%S+") do argv[#argv + 1] = f end
            for _, f in ipairs{"--seed", tostring(s), "--threads", "1", "--checkpoint_every",
                               tostring(o.checkpoint_every), "--out", dir} do
              argv[#argv + 1] = f
            end
            out[#out + 1] = {name = name, exp = e.exp, spec = spec, seed = s, argv = argv,
                             cmd = table.concat(argv, " "), dir = dir, log = base .. "/" .. name .. ".log",
                             started = base .. "/" .. name .. ".cmd",
                             evalcol = spec.evalcol or e.evalcol}
          end
        end
      end
    end
  end
  return out
end

local function finished(run) return report.exists(run.dir .. "/wall.txt") end

-- "<exp>.lua FLAGS --seed S ..." of a command line, without the interpreter's
-- and the script's directory and the run directory, which differ between
-- machines and checkouts, and without --checkpoint_every, which does not
-- change the numbers
local function what_ran(cmd)
  return (cmd:gsub("^%S+%s+%S*/", ""):gsub("%s+%-%-out%s+%S+%s*$", "")
    :gsub("%s+%-%-checkpoint_every%s+%d+", ""):gsub("%s+$", ""))
end

-- The run's results are committed already (a campaign spread over machines):
-- results/<mode>-<exp>-<variant>/s<seed>/ has wall.txt and the same command.
local function in_results(run, o)
  local sdir = ("%s/%s-%s-%s/s%d"):format(o.results, o.mode, run.exp, run.spec.variant, run.seed)
  local cmd = report.exists(sdir .. "/wall.txt") and report.readfile(sdir .. "/cmd.txt")
  return cmd and what_ran(cmd) == what_ran(run.cmd)
end

-- A run killed midway that can continue: it has a checkpoint and was started
-- with this command (RUNS/reproduce-MODE/<name>.cmd, written at its start).
-- Returns the checkpoint's iteration and seconds, or nil.
local function resumable(run)
  local ckpt = run.dir .. "/checkpoint.safetensors"
  if not report.exists(ckpt) or report.readfile(run.started) ~= run.cmd .. "\n" then return nil end
  local ok, _, meta = pcall(lg.load, ckpt)
  if not ok or type(meta) ~= "table" or not tonumber(meta.iter) then return nil end
  return tonumber(meta.iter), tonumber(meta.seconds or "0") or 0
end

-- the last lines of a log, indented
local function tail(path, n)
  local lines = {}
  for line in (report.readfile(path) or ""):gmatch("[^\n]*") do lines[#lines + 1] = line end
  while #lines > 0 and lines[#lines] == "" do lines[#lines] = nil end
  local out = {}
  for i = math.max(1, #lines - n + 1), #lines do out[#out + 1] = "    | " .. lines[i] end
  return table.concat(out, "\n")
end

-- {====================================================== results

-- the directory holding metrics.csv: the run dir, or (mode_count) its subdirectory
local function metrics_dir(dir)
  if report.exists(dir .. "/metrics.csv") then return dir end
  local names, kinds = report.list(dir)
  for i, n in ipairs(names) do
    if kinds[i] == "dir" and report.exists(dir .. "/" .. n .. "/metrics.csv") then return dir .. "/" .. n end
  end
  return nil
end

-- the small text files a run leaves: metrics, the script's extras, config, cmd, wall
local function wanted(name) return name:match("%.csv$") or name:match("%.txt$") or name == "config.lua" end

-- metrics.csv's header and the rows where evalcol is set: the rows the report
-- reads.  A run logs every iteration (an AdaGAN run 150,000 rows, 6 MB); its
-- evaluations are a few dozen.  The whole file when evalcol is not a column.
local function evaluation_rows(text, evalcol)
  local header = text:match("^[^\n]*")
  local col
  for i, name in ipairs(report.split(header)) do
    if name == evalcol then col = i end
  end
  if not col then return text end
  local out = {header, "\n"}
  for line in text:sub(#header + 2):gmatch("[^\n]+") do
    local cell = report.split(line)[col]
    if cell and cell ~= "" then out[#out + 1] = line .. "\n" end
  end
  return table.concat(out)
end

local function copy_files(from, to, evalcol)
  local names, kinds = report.list(from)
  for i, n in ipairs(names) do
    if kinds[i] == "file" and wanted(n) then
      if n == "metrics.csv" and evalcol then
        report.writefile(to .. "/" .. n, evaluation_rows(assert(report.readfile(from .. "/" .. n)), evalcol))
      else
        report.copy(from .. "/" .. n, to .. "/" .. n)
      end
    end
  end
end

-- the last sample grid of a run, or nil
local function last_grid(mdir)
  local names = report.list(mdir .. "/samples")
  local last
  for _, n in ipairs(names) do if n:match("^iter%-.*%.png$") then last = n end end
  return last and (mdir .. "/samples/" .. last) or nil
end

-- Copies a finished run into the results: RESULTS/<mode>-<exp>-<variant>/s<seed>/.
local function collect(r, o)
  local cdir = ("%s/%s-%s-%s"):format(o.results, o.mode, r.exp, r.spec.variant)
  local sdir = ("%s/s%d"):format(cdir, r.seed)
  report.rm_rf(sdir)
  lg.fs.mkdir(sdir)
  copy_files(r.dir, sdir, r.evalcol)
  local mdir = metrics_dir(r.dir)
  if mdir and mdir ~= r.dir then copy_files(mdir, sdir, r.evalcol) end
  if mdir and r.seed == r.spec.seeds[1] then
    local grid = last_grid(mdir)
    if grid then report.copy(grid, cdir .. "/samples.png") end
  end
end

-- }======================================================

-- Runs what is not finished, o.jobs at a time.  Returns the failed runs.
local function run_all(runs, o)
  local todo, failed, running, nrunning = {}, {}, {}, 0
  for _, r in ipairs(runs) do
    if finished(r) then
      print("  skip    " .. r.name .. " (done)")
      collect(r, o)      -- a campaign interrupted before this run was copied
    elseif o.mode ~= "quick" and in_results(r, o) then print("  skip    " .. r.name .. " (in " .. o.results .. ")")
    else todo[#todo + 1] = r end
  end
  if #todo == 0 then return failed end
  lg.fs.mkdir(("%s/reproduce-%s"):format(o.runs, o.mode))
  local next_run = 1
  while next_run <= #todo or nrunning > 0 do
    while next_run <= #todo and nrunning < o.jobs do
      local r = todo[next_run]
      next_run = next_run + 1
      local argv, at
      at, r.before = resumable(r)
      if at then
        argv = {r.argv[1], r.argv[2], "--resume", r.dir}
        print(("  resume  %s (from iteration %d)"):format(r.name, at))
      else
        argv, r.before = r.argv, 0
        report.rm_rf(r.dir)    -- a run killed or failed midway starts over
        report.writefile(r.started, r.cmd .. "\n")
        print("  run     " .. r.name)
      end
      local ok, pid = pcall(lg.proc.spawn, argv, r.log)
      if ok then
        r.t0 = lg.clock()
        running[pid], nrunning = r, nrunning + 1
      else
        print(("  FAILED  %s (%s)"):format(r.name, pid))
        failed[#failed + 1] = r
      end
    end
    local pid, code, sig = lg.proc.wait()
    local r = pid and running[pid]
    if r then
      running[pid], nrunning = nil, nrunning - 1
      local wall = r.before + lg.clock() - r.t0
      if code == 0 and report.exists(r.dir) then
        report.writefile(r.dir .. "/cmd.txt", r.cmd .. "\n")
        report.writefile(r.dir .. "/wall.txt", ("%.1f\n"):format(wall))
        collect(r, o)      -- at once: a campaign stopped later keeps it
        print(("  done    %s (%.1f s)"):format(r.name, wall))
      else
        local why = code and ("exit " .. code) or ("signal " .. tostring(sig))
        if code == 0 then why = "no run directory " .. r.dir end
        print(("  FAILED  %s (%s, log %s):\n%s"):format(r.name, why, r.log, tail(r.log, 20)))
        failed[#failed + 1] = r
      end
    elseif not pid then
      break                    -- no child left (cannot happen while nrunning > 0)
    end
  end
  return failed
end

-- }======================================================


local function main(argv)
  local o = parse_args(argv)
  local ok, plan, claims = pcall(function()
    local plan = report.check_plan(report.load_data(o.plan, "plan"), o.plan)
    return plan, report.check_claims(report.load_data(o.claims, "claims"), plan, o.claims)
  end)
  if not ok then
    io.stderr:write("reproduce: ", tostring(plan), "\n")
    os.exit(1)
  end
  local failed = {}
  if not o.report_only then
    if not report.exists(o.luagan) and o.luagan:find("/") then
      io.stderr:write("reproduce: ", o.luagan, " missing: run make\n")
      os.exit(1)
    end
    local runs = runs_of(plan, o)
    -- one driver per campaign directory: a second one would delete and
    -- restart the runs the first is running
    local base = ("%s/reproduce-%s"):format(o.runs, o.mode)
    lg.fs.mkdir(base)
    local lock, msg = lg.fs.lock(base .. "/.lock")
    if not lock then
      io.stderr:write(("reproduce: another driver is running %s (%s)\n"):format(base, msg))
      os.exit(1)
    end
    if o.collect_only then
      local n = 0
      for _, r in ipairs(runs) do
        if finished(r) then collect(r, o) n = n + 1 end
      end
      print(("reproduce %s: copied %d finished runs of %s into %s"):format(o.mode, n, base, o.results))
    else
      print(("reproduce %s: %d runs into %s, %d at a time"):format(o.mode, #runs, base, o.jobs))
      local t0 = lg.clock()
      failed = run_all(runs, o)
      print(("reproduce %s: runs finished in %.0f s"):format(o.mode, lg.clock() - t0))
    end
    lock:unlock()
  end
  lg.fs.mkdir(o.out)
  local written = report.write(plan, claims, {results_dir = o.results, out_dir = o.out})
  print(("reproduce: wrote %s and %d pages"):format(written[1], #written - 1))
  if #failed > 0 then
    local names = {}
    for i, r in ipairs(failed) do names[i] = r.name end
    io.stderr:write(("reproduce: %d runs failed: %s (logs in %s/reproduce-%s)\n"):format(#failed,
      table.concat(names, ", "), o.runs, o.mode))
    os.exit(1)
  end
end

main(arg)
