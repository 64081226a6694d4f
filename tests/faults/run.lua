-- Fault injection for lg.experiment's run directory (`make faults`).
--
--   luagan tests/faults/run.lua [--kills N] [--seed N] [--disk N] [--keep]
--
-- Trains tests/faults/tiny.lua (40 iterations, a sample every 20, a
-- checkpoint every 3) under faults and checks the directory against an
-- uninterrupted run of the same flags:
--   kills     SIGKILL to the run's process group at a random moment, N times
--             (default 50), each followed by a resume (--resume, or a plain
--             restart with the same --out when no checkpoint exists yet);
--             after every kill the newest checkpoint and every kept one load
--             and equal the uninterrupted run's at that iteration, every
--             sample equals its counterpart, metrics.csv is whole rows with
--             consecutive iterations (a prefix of the uninterrupted run's);
--             every run that completes is byte-identical to it.
--   disk full a 2 MB tmpfs filled during a run (N free-space levels, default
--             4) and before a resume: the run stops with an error naming the
--             file and "No space left on device", what was saved is intact,
--             and after space is freed the run resumes to the identical end.
--             Skipped with a message when a tmpfs cannot be mounted.
--   two runs  a second run and a --resume on a directory in use are refused
--             naming the holder's pid; the first run is undisturbed.
--   symlinks  links planted at temporary-file names (and at .lock and
--             metrics.csv) point outside the run directory: nothing there
--             changes.
-- Prints the counts and exits 1 on any failure.
local lg = require "luagan"
local fs = lg.fs

-- {====================================================== set-up

local opts = {kills = 50, seed = os.time(), disk = 4, keep = false}
do
  local i = 1
  while i <= #arg do
    local k = arg[i]:match("^%-%-(%w+)$")
    if k == "keep" then opts.keep = true
    elseif k and opts[k] ~= nil and arg[i + 1] then
      opts[k] = math.tointeger(tonumber(arg[i + 1])) or error("--" .. k .. " needs an integer")
      i = i + 1
    else
      io.stderr:write("usage: luagan tests/faults/run.lua [--kills N] [--seed N] [--disk N] [--keep]\n")
      os.exit(2)
    end
    i = i + 1
  end
end
math.randomseed(opts.seed)

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local ok, _, code = os.execute(cmd)
  return ok and 0 or code
end

local function capture(cmd)
  local p = io.popen(cmd)
  local s = p:read("a")
  p:close()
  return s
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local CWD = capture("pwd"):gsub("\n$", "")
local function absolute(p) return p:sub(1, 1) == "/" and p or CWD .. "/" .. p end
local LUAGAN = (function()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return absolute(arg[i])
end)()
local HERE = absolute(arg[0]):match("^(.*)/[^/]*$")
local TINY = HERE .. "/tiny.lua"
local ITERS, CKPT_EVERY = 40, 3
local FLAGS = ("--iters %d --sample_every 20 --checkpoint_every %d"):format(ITERS, CKPT_EVERY)

local WORK = os.tmpname()
os.remove(WORK)
fs.mkdir(WORK)

local failures = {}
local function fail(msg)
  failures[#failures + 1] = msg
  io.stderr:write("FAIL: ", msg, "\n")
end

-- every file under dir: {relative path = kind}
local function tree(dir, out, prefix)
  out, prefix = out or {}, prefix or ""
  for _, name in ipairs(fs.list(dir) or {}) do
    local rel, k = prefix .. name, fs.kind(dir .. "/" .. name)
    out[rel] = k
    if k == "dir" then tree(dir .. "/" .. name, out, rel .. "/") end
  end
  return out
end

local function is_temp(name) return name:find("%.tmp") ~= nil end

-- runs tiny.lua in dir to its end; returns the exit code and stderr
local function run_sync(dir, flags)
  local err = WORK .. "/stderr.txt"
  local code = sh(("cd %s && %s %s --threads 1 %s >/dev/null 2>%s"):format(q(dir), q(LUAGAN),
    q(TINY), flags, q(err)))
  return code, read(err) or ""
end

-- runs tiny.lua in dir in its own process group and sends SIGKILL to the
-- group after `delay` seconds; returns the exit status (137: killed)
local function run_killed(dir, flags, delay)
  local rcf = WORK .. "/rc.txt"
  os.remove(rcf)
  sh(("cd %s && { setsid %s %s --threads 1 %s >/dev/null 2>>%s & p=$!; sleep %.3f; "
    .. "kill -KILL -$p 2>/dev/null; wait $p; echo $? >%s; } 2>/dev/null"):format(q(dir), q(LUAGAN), q(TINY),
    flags, q(WORK .. "/killed-stderr.txt"), delay, q(rcf)))
  return math.tointeger(tonumber(read(rcf) or "")) or -1
end

-- }======================================================

-- {====================================================== the reference

local REF = WORK .. "/ref"
fs.mkdir(REF)
local t0 = lg.clock()
do
  local code, err = run_sync(REF, "--out run " .. FLAGS)
  if code ~= 0 then
    io.stderr:write("the uninterrupted run failed:\n", err)
    os.exit(1)
  end
end
local T_RUN = lg.clock() - t0
-- the time to the first checkpoint, about: process start and set-up
local T_STARTUP
do
  local t = lg.clock()
  run_sync(REF, "--out early --iters 4 --stop_at 3 --sample_every 0 --checkpoint_every 3")
  T_STARTUP = lg.clock() - t
end
local REF_RUN = REF .. "/run"
local ref_metrics = read(REF_RUN .. "/metrics.csv")

-- the reference's checkpoint at iteration it
local function ref_checkpoint(it)
  if it == ITERS then return REF_RUN .. "/checkpoint.safetensors" end
  return ("%s/checkpoints/iter-%06d.safetensors"):format(REF_RUN, it)
end

-- two checkpoints hold the same tensors (bit for bit) and metadata, but for
-- the wall-clock seconds each records; the bytes may differ, lg.save writes
-- the metadata in table order
local function same_checkpoint(a, b)
  local ok1, ta, ma = pcall(lg.load, a)
  local ok2, tb, mb = pcall(lg.load, b)
  if not (ok1 and ok2) then return false end
  if not (tonumber(ma.seconds) and tonumber(mb.seconds)) then return false end
  for k, v in pairs(ma) do if k ~= "seconds" and mb[k] ~= v then return false end end
  for k in pairs(mb) do if ma[k] == nil then return false end end
  for k, t in pairs(ta) do
    local u = tb[k]
    if not u or #t.shape ~= #u.shape then return false end
    for i, d in ipairs(t.shape) do if u.shape[i] ~= d then return false end end
    local x, y = t:contiguous():view(-1):totable(), u:contiguous():view(-1):totable()
    for i = 1, #x do
      if string.pack("<f", x[i]) ~= string.pack("<f", y[i]) then return false end
    end
  end
  for k in pairs(tb) do if not ta[k] then return false end end
  return true
end

-- }======================================================

-- {====================================================== checks

local counts = {torn = 0, dup = 0, gap = 0, bad_ckpt = 0, bad_sample = 0, not_prefix = 0,
                temps_after_kill = 0}

-- metrics.csv: whole rows, iterations 1, 2, ... in order, a prefix of the reference
local function check_metrics(dir, what)
  local text = read(dir .. "/metrics.csv") or ""
  if text ~= "" and text:sub(-1) ~= "\n" then
    counts.torn = counts.torn + 1
    fail(what .. ": metrics.csv ends in a torn row")
  end
  local prev, first = 0, true
  for line in text:gmatch("[^\n]+") do
    if first then
      first = false
    else
      local it = math.tointeger(tonumber(line:match("^(%d+),")))
      local cells = select(2, line:gsub(",", ",")) + 1
      if not it or cells ~= 5 then
        counts.torn = counts.torn + 1
        fail(("%s: metrics.csv row %q is not whole"):format(what, line))
      elseif it <= prev then
        counts.dup = counts.dup + 1
        fail(("%s: metrics.csv repeats iteration %d"):format(what, it))
      elseif it ~= prev + 1 then
        counts.gap = counts.gap + 1
        fail(("%s: metrics.csv jumps from iteration %d to %d"):format(what, prev, it))
      end
      prev = it or prev
    end
  end
  if ref_metrics:sub(1, #text) ~= text then
    counts.not_prefix = counts.not_prefix + 1
    fail(what .. ": metrics.csv differs from the uninterrupted run's")
  end
  return prev
end

-- the newest checkpoint and the kept ones load and equal the reference's;
-- returns the newest checkpoint's iteration (0 when none)
local function check_checkpoints(dir, what)
  local newest = 0
  local path = dir .. "/checkpoint.safetensors"
  if fs.kind(path) then
    local ok, _, meta = pcall(lg.load, path)
    local it = ok and math.tointeger(tonumber(meta.iter))
    if not it then
      counts.bad_ckpt = counts.bad_ckpt + 1
      fail(what .. ": checkpoint.safetensors does not load")
    else
      newest = it
      if not same_checkpoint(path, ref_checkpoint(it)) then
        counts.bad_ckpt = counts.bad_ckpt + 1
        fail(("%s: checkpoint.safetensors (iteration %d) differs from the uninterrupted run's"):format(what, it))
      end
      local text = read(dir .. "/metrics.csv") or ""
      if #text < math.tointeger(tonumber(meta.metrics_bytes)) then
        fail(what .. ": metrics.csv is shorter than the checkpoint says")
      end
    end
  end
  for _, name in ipairs(fs.list(dir .. "/checkpoints") or {}) do
    local it = math.tointeger(tonumber(name:match("^iter%-(%d+)%.safetensors$")))
    if it then
      local p = dir .. "/checkpoints/" .. name
      if not same_checkpoint(p, ref_checkpoint(it)) then
        counts.bad_ckpt = counts.bad_ckpt + 1
        fail(what .. ": checkpoints/" .. name .. " does not load or differs")
      end
    end
  end
  return newest
end

local function check_samples(dir, what)
  for _, name in ipairs(fs.list(dir .. "/samples") or {}) do
    if name:match("^iter%-%d+%.png$") then
      local p = dir .. "/samples/" .. name
      if not pcall(lg.image.load, p) or read(p) ~= read(REF_RUN .. "/samples/" .. name) then
        counts.bad_sample = counts.bad_sample + 1
        fail(what .. ": samples/" .. name .. " does not load or differs")
      end
    end
  end
  if fs.kind(dir .. "/loss.png") and not pcall(lg.image.load, dir .. "/loss.png") then
    fail(what .. ": loss.png does not load")
  end
end

-- everything a finished run leaves equals the uninterrupted run's; no
-- temporary files remain
local function check_complete(dir, what)
  local got, want = tree(dir), tree(REF_RUN)
  local ok = true
  for rel, k in pairs(want) do
    local a, b = dir .. "/" .. rel, REF_RUN .. "/" .. rel
    local same = rel:match("%.safetensors$") and same_checkpoint(a, b) or read(a) == read(b)
    if k == "file" and rel ~= ".lock" and rel ~= "loss.png" and not same then
      fail(("%s: %s differs from the uninterrupted run's"):format(what, rel))
      ok = false
    end
  end
  for rel in pairs(got) do
    if not want[rel] then
      fail(("%s: unexpected file %s"):format(what, rel))
      ok = false
    end
  end
  return ok
end

-- }======================================================

-- {====================================================== kills

local K = {kills = 0, early = 0, no_dir = 0, from_ckpt = 0, from_zero = 0, same_out = 0,
           completed = 0, identical = 0, missed = 0}

local function kills_phase()
  local base = WORK .. "/kills"
  fs.mkdir(base)
  local dir = base .. "/run"
  local toggle, finished_at, killed = false, {}, false
  -- the flags that continue (or start) the run in dir; after a kill, counts
  -- how it was resumed
  local function next_flags()
    local flags, how
    if fs.kind(dir .. "/checkpoint.safetensors") then
      flags, how = "--resume run", "from_ckpt"
    elseif fs.kind(dir .. "/config.lua") then
      -- killed before the first checkpoint: both ways of starting again
      toggle = not toggle
      flags, how = toggle and "--resume run" or "--out run " .. FLAGS, toggle and "from_zero" or "same_out"
    else
      flags, how = "--out run " .. FLAGS, "same_out"
    end
    if killed then K[how] = K[how] + 1 end
    killed = false
    return flags
  end
  local function finish(what)
    local code, err = run_sync(base, next_flags())
    if code ~= 0 then fail(what .. " failed: " .. err) end
    K.completed = K.completed + 1
    if check_complete(dir, what) then K.identical = K.identical + 1 end
    check_metrics(dir, what)
    sh("rm -rf " .. q(dir))
  end
  local checkpoint_at = 0
  local launches = 0
  while K.kills < opts.kills do
    launches = launches + 1
    if launches > 10 * opts.kills + 10 then
      fail(("kills: only %d of %d kills landed in %d launches"):format(K.kills, opts.kills, launches - 1))
      break
    end
    -- every fifth kill the run is finished (and checked) and a new one
    -- started, to be killed early: before its first checkpoint, or even
    -- before its directory exists
    if K.kills > 0 and K.kills % 5 == 0 and not finished_at[K.kills] then
      finished_at[K.kills] = true
      finish("a killed run, resumed to its end")
      checkpoint_at = 0
    end
    local early = not fs.kind(dir .. "/checkpoint.safetensors") and math.random() < 0.7
    local flags = next_flags()
    local span = early and T_STARTUP * 1.2 or T_RUN * (ITERS - checkpoint_at) / ITERS + 0.1
    local rc = run_killed(base, flags, math.random() * span)
    local what = ("kill %d (%s)"):format(K.kills + 1, flags)
    if rc == 137 then
      K.kills, killed = K.kills + 1, true
      if not fs.kind(dir) then K.no_dir = K.no_dir + 1 end
      check_metrics(dir, what)
      checkpoint_at = check_checkpoints(dir, what)
      if checkpoint_at == 0 then K.early = K.early + 1 end
      check_samples(dir, what)
      for rel in pairs(tree(dir)) do
        if is_temp(rel) then counts.temps_after_kill = counts.temps_after_kill + 1 end
      end
    elseif rc == 0 then
      K.missed, K.completed = K.missed + 1, K.completed + 1
      if check_complete(dir, "completed run") then K.identical = K.identical + 1 end
      sh("rm -rf " .. q(dir))
      checkpoint_at = 0
    else
      fail(("%s: exit status %d\n%s"):format(what, rc,
        capture("tail -5 " .. q(WORK .. "/killed-stderr.txt"))))
      sh("rm -rf " .. q(dir))
      checkpoint_at = 0
    end
  end
  finish("the last killed run, resumed to its end")
end

-- }======================================================

-- {====================================================== disk full

local D = {mounted = false, levels = 0, save_errors = 0, resume_errors = 0, recovered = 0,
           skipped = nil, writers = {}}

local function mount_tmpfs(dir)
  fs.mkdir(dir)
  local out = capture(("mount -t tmpfs -o size=2m tmpfs %s 2>&1"):format(q(dir)))
  local ok = fs.kind(dir) and capture("stat -f -c %T " .. q(dir)):match("tmpfs")
  return ok, out
end

local function umount(dir) sh("umount " .. q(dir) .. " 2>/dev/null") end

-- fills the file system of dir up to `free` bytes (0: full)
local function fill(dir, free)
  os.remove(dir .. "/filler")
  sh(("dd if=/dev/zero of=%s bs=4096 >/dev/null 2>&1"):format(q(dir .. "/filler")))
  if free > 0 then
    local size = fs.kind(dir .. "/filler") and #read(dir .. "/filler") or 0
    sh(("truncate -s %d %s"):format(math.max(0, size - free), q(dir .. "/filler")))
  end
end

local function files_of(dir)
  local out = {}
  for rel, k in pairs(tree(dir)) do if k == "file" then out[rel] = read(dir .. "/" .. rel) end end
  return out
end

local function expect_enospc(code, err, what)
  local line = err:match("[^\n]*No space left on device[^\n]*")
  D.example = D.example or line
  local who = line and (line:match("(image%.save):") or line:match("(write_atomic):")
    or line:match(" (save):") or line:match("(cannot append)") or "other")
  if who then D.writers[who] = (D.writers[who] or 0) + 1 end
  if code == 0 then
    fail(what .. ": the run succeeded on a full disk")
  elseif not err:find("No space left on device", 1, true) then
    fail(what .. ": the error does not say the disk is full: " .. err)
  elseif not err:find("/run/", 1, true) and not err:find("'run/", 1, true) then
    fail(what .. ": the error does not name a file of the run: " .. err)
  else
    return true
  end
end

local function disk_phase()
  local mnt = WORK .. "/tmpfs"
  local ok, why = mount_tmpfs(mnt)
  if not ok then
    D.skipped = "cannot mount a tmpfs (" .. why:gsub("\n", " ") .. ")"
    print("faults: disk-full checks skipped: " .. D.skipped)
    return
  end
  D.mounted = true
  local dir = mnt .. "/run"
  -- (1) the disk fills during a run, at several levels of free space
  for level = 1, opts.disk do
    sh("rm -rf " .. q(dir))
    fill(mnt, 150000 * level)
    local code, err = run_sync(mnt, "--out run " .. FLAGS)
    local what = ("disk full during a save (%d KB free)"):format(150 * level)
    if expect_enospc(code, err, what) then D.save_errors = D.save_errors + 1 end
    check_metrics(dir, what)
    check_checkpoints(dir, what)
    check_samples(dir, what)
    if read(dir .. "/config.lua") ~= read(REF_RUN .. "/config.lua") then
      fail(what .. ": config.lua is not intact")
    end
    for rel in pairs(tree(dir)) do
      if is_temp(rel) then fail(what .. ": a temporary file remains: " .. rel) end
    end
    os.remove(mnt .. "/filler")
    local resume = fs.kind(dir .. "/config.lua") and "--resume run" or "--out run " .. FLAGS
    code, err = run_sync(mnt, resume)
    if code ~= 0 then fail(what .. ": resuming after space was freed failed: " .. err)
    elseif check_complete(dir, what .. ", resumed") then D.recovered = D.recovered + 1 end
    D.levels = D.levels + 1
  end
  -- (2) the disk is full when a stopped run is resumed, with and without a
  -- changed flag (the changed flag makes config.lua be written again)
  sh("rm -rf " .. q(dir))
  local code, err = run_sync(mnt, "--out run --stop_at 12 " .. FLAGS)
  if code ~= 0 then fail("stop at 12 on the tmpfs: " .. err) end
  local before = files_of(dir)
  fill(mnt, 0)
  for _, flags in ipairs{"--resume run", "--resume run --iters 41", "--resume run"} do
    local what = "disk full during " .. flags
    code, err = run_sync(mnt, flags)
    if expect_enospc(code, err, what) then D.resume_errors = D.resume_errors + 1 end
    for _, f in ipairs{"config.lua", "checkpoint.safetensors"} do
      if read(dir .. "/" .. f) ~= before[f] then fail(what .. ": " .. f .. " changed") end
    end
    -- rows after the checkpoint may have been added: whole ones, checked below
    local csv = read(dir .. "/metrics.csv") or ""
    if csv:sub(1, #before["metrics.csv"]) ~= before["metrics.csv"] then
      fail(what .. ": metrics.csv lost rows it had")
    end
    check_metrics(dir, what)
    check_checkpoints(dir, what)
  end
  os.remove(mnt .. "/filler")
  code, err = run_sync(mnt, "--resume run")
  if code ~= 0 then fail("resume after the full disk was freed: " .. err)
  elseif check_complete(dir, "resume after the full disk was freed") then D.recovered = D.recovered + 1 end
  umount(mnt)
end

-- }======================================================

-- {====================================================== two runs

local C = {refused = 0, undisturbed = 0}

local function two_runs_phase()
  local base = WORK .. "/two"
  fs.mkdir(base)
  local dir = base .. "/run"
  local rcf = base .. "/rcA"
  -- A runs longer than the reference, so that it is still running below
  sh(("cd %s && { %s %s --threads 1 --out run %s --iters 60 >/dev/null 2>%s; echo $? >%s; } &")
    :format(q(base), q(LUAGAN), q(TINY), FLAGS:gsub("%-%-iters %d+", ""), q(base .. "/errA"), q(rcf)))
  -- (60 iterations: still running while the others try)
  local waited = 0
  while not fs.kind(dir .. "/metrics.csv") and waited < 300 do
    sh("sleep 0.05")
    waited = waited + 1
  end
  local pid = (read(dir .. "/.lock") or ""):match("%d+")
  if not pid then fail("two runs: the first run holds no lock with its pid") end
  for _, flags in ipairs{"--out run " .. FLAGS, "--resume run"} do
    local code, err = run_sync(base, flags)
    if code ~= 2 or not err:find("is in use", 1, true) or not err:find("process " .. tostring(pid), 1, true) then
      fail(("two runs: %s on a directory in use: exit %d, %s"):format(flags, code, err))
    else
      C.refused = C.refused + 1
    end
  end
  -- in this process too
  local lock, msg, holder = fs.lock(dir .. "/.lock")
  if lock or tostring(holder) ~= pid or not msg:find("held by process", 1, true) then
    fail("two runs: lg.fs.lock on a held lock: " .. tostring(msg))
  else
    C.refused = C.refused + 1
  end
  waited = 0
  while not read(rcf) and waited < 1200 do
    sh("sleep 0.05")
    waited = waited + 1
  end
  if (read(rcf) or ""):match("%d+") ~= "0" then
    fail("two runs: the first run failed: " .. (read(base .. "/errA") or ""))
  else
    local text = read(dir .. "/metrics.csv")
    local n = select(2, text:gsub("\n", ""))
    if n == 61 and text:sub(1, #ref_metrics) == ref_metrics then C.undisturbed = C.undisturbed + 1
    else fail("two runs: the first run's metrics.csv is not whole") end
  end
end

-- }======================================================

-- {====================================================== symlinks

local S = {planted = 0, runs = 0, victims_intact = 0, refused = 0}

local TEMP_NAMES = {
  "config.lua.tmp", "metrics.csv.tmp", "loss.gp.tmp",
  ".config.lua.tmp-AAAAAA", ".metrics.csv.tmp-AAAAAA", ".loss.gp.tmp-AAAAAA",
  ".loss.png.tmp-AAAAAA", "checkpoint.safetensors.tmp-AAAAAA",
  "samples/iter-000010.png.tmp-AAAAAA", "samples/.iter-000010.png.tmp-AAAAAA",
  "checkpoints/iter-000003.safetensors.tmp-AAAAAA",
}

local function plant(dir, victims, names)
  fs.mkdir(dir .. "/samples")
  fs.mkdir(dir .. "/checkpoints")
  for i, name in ipairs(names) do
    local v = ("%s/victim-%d"):format(victims, S.planted + i)
    spit(v, "victim " .. i .. "\n")
    sh(("ln -sfn %s %s"):format(q(v), q(dir .. "/" .. name)))
  end
  S.planted = S.planted + #names
end

local function check_victims(victims, what)
  local files = tree(victims)
  local n, bad = 0, false
  for rel in pairs(files) do
    n = n + 1
    local i = rel:match("^victim%-(%d+)$")
    local want = i and read(victims .. "/" .. rel)
    if not i or not want or not want:match("^victim %d+\n$") then
      fail(what .. ": " .. victims .. "/" .. rel .. " was changed or created")
      bad = true
    end
  end
  if n ~= S.planted then
    fail(("%s: %d files outside the run directory, %d planted"):format(what, n, S.planted))
    bad = true
  end
  if not bad then S.victims_intact = S.victims_intact + 1 end
end

local function symlink_phase()
  local base, victims = WORK .. "/links", WORK .. "/victims"
  fs.mkdir(base)
  fs.mkdir(victims)
  local dir = base .. "/run"
  -- a fresh run into a directory full of planted links, including at the
  -- names of its own files (config.lua, a sample): rename replaces a link
  plant(dir, victims, TEMP_NAMES)
  plant(dir, victims, {"config.lua", "samples/iter-000020.png", "loss.png"})
  local code, err = run_sync(base, "--out run " .. FLAGS)
  if code ~= 0 then fail("symlinks: a fresh run failed: " .. err) end
  S.runs = S.runs + 1
  check_complete(dir, "symlinks, fresh run")
  check_victims(victims, "symlinks, fresh run")
  -- the same at a resume
  sh("rm -rf " .. q(dir))
  code, err = run_sync(base, "--out run --stop_at 12 " .. FLAGS)
  plant(dir, victims, TEMP_NAMES)
  code, err = run_sync(base, "--resume run")
  if code ~= 0 then fail("symlinks: a resume failed: " .. err) end
  S.runs = S.runs + 1
  check_complete(dir, "symlinks, resumed run")
  check_victims(victims, "symlinks, resumed run")
  -- a link at .lock is refused, and one at metrics.csv when resuming: not followed
  sh("rm -rf " .. q(dir))
  plant(dir, victims, {".lock"})
  code, err = run_sync(base, "--out run " .. FLAGS)
  if code == 0 or not err:find("symbolic link", 1, true) then
    fail(("symlinks: a link at .lock: exit %d, %s"):format(code, err))
  else
    S.refused = S.refused + 1
  end
  check_victims(victims, "symlinks, a link at .lock")
  sh("rm -rf " .. q(dir))
  run_sync(base, "--out run --stop_at 12 " .. FLAGS)
  os.remove(dir .. "/metrics.csv")
  plant(dir, victims, {"metrics.csv"})
  code, err = run_sync(base, "--resume run")
  if code == 0 then
    fail("symlinks: a resume through a link at metrics.csv succeeded")
  else
    S.refused = S.refused + 1
  end
  check_victims(victims, "symlinks, a link at metrics.csv")
end

-- }======================================================

local timing = {}
local ok, err = xpcall(function()
  for _, phase in ipairs{{"kills", kills_phase}, {"disk full", disk_phase},
                         {"two runs", two_runs_phase}, {"symlinks", symlink_phase}} do
    local t = lg.clock()
    phase[2]()
    timing[#timing + 1] = ("%s %.1f s"):format(phase[1], lg.clock() - t)
  end
end, debug.traceback)
if not ok then
  fail("the driver raised: " .. tostring(err))
  if D.mounted then umount(WORK .. "/tmpfs") end
end

print(("faults: %d kills (%d before the first checkpoint, %d of them before the run directory "
  .. "existed), %d resumes (%d --resume from a checkpoint, %d --resume from iteration 0, %d with the "
  .. "same --out), %d runs completed (%d identical to the uninterrupted run, %d ended before their "
  .. "kill); %d torn rows, %d duplicated rows, %d gaps, %d bad checkpoints, %d bad samples, "
  .. "%d metrics not a prefix, %d temporary files left by kills (removed on resume)")
  :format(K.kills, K.early, K.no_dir, K.from_ckpt + K.from_zero + K.same_out, K.from_ckpt,
    K.from_zero, K.same_out, K.completed, K.identical, K.missed, counts.torn, counts.dup, counts.gap,
    counts.bad_ckpt, counts.bad_sample, counts.not_prefix, counts.temps_after_kill))
if D.skipped then
  print("faults: disk full: skipped, " .. D.skipped)
else
  print(("faults: disk full: %d levels during a run, %d errors during a save, %d during a resume, "
    .. "%d runs resumed to the identical end after space was freed")
    :format(D.levels, D.save_errors, D.resume_errors, D.recovered))
  local w = {}
  for k, n in pairs(D.writers) do w[#w + 1] = ("%s %d"):format(k, n) end
  table.sort(w)
  print("faults: disk full: errors raised by " .. table.concat(w, ", "))
  if D.example then print("faults: disk full: e.g. " .. D.example) end
end
print(("faults: two runs: %d second opens refused naming the holder, %d first runs undisturbed")
  :format(C.refused, C.undisturbed))
print(("faults: symlinks: %d planted, %d runs through them, %d checks with nothing outside changed, "
  .. "%d links at .lock/metrics.csv refused"):format(S.planted, S.runs, S.victims_intact, S.refused))
print(("faults: seed %d, uninterrupted run %.2f s, %s; %s"):format(opts.seed, T_RUN,
  table.concat(timing, ", "),
  #failures == 0 and "OK" or (#failures .. " failures")))
if not opts.keep then sh("rm -rf " .. q(WORK)) else print("faults: work directory " .. WORK) end
os.exit(#failures == 0 and 0 or 1)
