-- lg.fs (lua/l_fs.c): atomic writes, checked appends, run-directory locks;
-- experiment.read_data; and a short pass of the fault-injection driver
-- (tests/faults/run.lua: kills, full disk, two runs, planted symlinks).
local fs = lg.fs

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function names(dir)
  local out = {}
  for _, n in ipairs(fs.list(dir)) do out[#out + 1] = n end
  return out
end

local tmp = temp_dir()

-- {---------------------------------------------------------- lg.fs

test("write_atomic: replaces the file, leaves no temporary file, keeps the mode", function()
  local p = tmp .. "/a.txt"
  fs.write_atomic(p, "one\n")
  eq(read_file(p), "one\n")
  fs.write_atomic(p, ("x"):rep(100000), {fsync = false})
  eq(#read_file(p), 100000)
  fs.write_atomic(p, "")
  eq(read_file(p), "")
  eq(names(tmp), {"a.txt"})
  local mode = io.popen("stat -c %a " .. q(p)):read("l")
  assert(mode ~= "600", "a written file gets 0666 & ~umask, not mkstemp's 0600")
end)

test("write_atomic: errors name the path and the reason; the old file stays", function()
  local p = tmp .. "/keep.txt"
  fs.write_atomic(p, "old")
  raises(function() fs.write_atomic(tmp .. "/no/such/dir/x", "data") end,
         "cannot create a temporary file for '" .. tmp .. "/no/such/dir/x': No such file or directory")
  fs.mkdir(tmp .. "/isdir")
  raises(function() fs.write_atomic(tmp .. "/isdir", "data") end, "Is a directory")
  eq(fs.kind(tmp .. "/isdir"), "dir")
  raises(function() fs.write_atomic(p, "x", {sync = true}) end, "unknown option 'sync'")
  eq(read_file(p), "old")
  for _, n in ipairs(names(tmp)) do assert(not n:find("tmp", 1, true), "temporary file left: " .. n) end
end)

test("write_atomic over a symlink replaces the link, not what it points to", function()
  local victim, link = tmp .. "/victim", tmp .. "/link"
  fs.write_atomic(victim, "victim")
  os.execute(("ln -s %s %s"):format(q(victim), q(link)))
  eq(fs.kind(link), "link")
  fs.write_atomic(link, "new")
  eq(fs.kind(link), "file")
  eq(read_file(link), "new")
  eq(read_file(victim), "victim")
end)

test("tempfile makes .NAME.tmp-XXXXXX next to the path, never reused", function()
  local a = fs.tempfile(tmp .. "/plot.png")
  local b = fs.tempfile(tmp .. "/plot.png")
  assert(a:match("/%.plot%.png%.tmp%-%w%w%w%w%w%w$"), a)
  assert(a ~= b, "two temporary names")
  eq(read_file(a), "")
  os.remove(a) os.remove(b)
end)

test("open_append: appends, truncates, refuses symlinks", function()
  local p = tmp .. "/m.csv"
  local f = fs.open_append(p)
  f:write("a,b\n")
  f:write("1,2\n")
  eq(f:size(), 8)
  f:sync()
  f:truncate(4)
  f:write("3,4\n")
  raises(function() f:truncate(9) end, "has 8 bytes, cannot cut it to 9")
  f:close()
  raises(function() f:write("x") end, "closed file")
  eq(read_file(p), "a,b\n3,4\n")
  local g = fs.open_append(p)    -- reopened: at the end
  eq(g:size(), 8)
  g:close()
  os.execute(("ln -s %s %s"):format(q(p), q(tmp .. "/mlink")))
  raises(function() fs.open_append(tmp .. "/mlink") end, "'" .. tmp .. "/mlink': it is a symbolic link")
  raises(function() fs.open_append(tmp .. "/isdir") end, "Is a directory")
end)

test("lock: one holder; the other is told its pid; released by unlock and __close", function()
  local p = tmp .. "/.lock"
  local a = assert(fs.lock(p))
  eq(a:held(), true)
  local pid = read_file(p):match("^(%d+)\n$")
  assert(pid, "the lock file holds the pid")
  local b, msg, holder = fs.lock(p)     -- another descriptor, in this process too
  eq(b, nil)
  eq(msg, p .. " is held by process " .. pid)
  eq(tostring(holder), pid)
  -- another process
  local out = io.popen(("%s -e 'local l, m = lg.fs.lock(%q) print(l, m)'"):format(q(LUAGAN), p)):read("a")
  assert(out:find("nil\t" .. p .. " is held by process " .. pid, 1, true), out)
  a:unlock()
  eq(a:held(), false)
  do
    local c <close> = assert(fs.lock(p))
  end
  local d = assert(fs.lock(p), "released by __close")
  d:unlock()
  os.execute(("ln -s %s %s"):format(q(tmp .. "/victim"), q(tmp .. "/.lock2")))
  raises(function() fs.lock(tmp .. "/.lock2") end, "it is a symbolic link")
  eq(read_file(tmp .. "/victim"), "victim")
end)

test("lock: a killed holder releases it", function()
  local p = tmp .. "/.lock3"
  os.execute(("%s -e 'L = lg.fs.lock(%q) os.exit(0, false)'"):format(q(LUAGAN), p))
  assert(fs.lock(p), "lock of an exited process"):unlock()
end)

test("list, mkdir, kind", function()
  fs.mkdir(tmp .. "/d1/d2/d3")
  fs.mkdir(tmp .. "/d1/d2/d3")       -- existing: fine
  eq(fs.kind(tmp .. "/d1/d2/d3"), "dir")
  raises(function() fs.mkdir(tmp .. "/a.txt/sub") end, "cannot create directory '" .. tmp .. "/a.txt'")
  fs.write_atomic(tmp .. "/d1/b", "")
  fs.write_atomic(tmp .. "/d1/a", "")
  eq(fs.list(tmp .. "/d1"), {"a", "b", "d2"})
  local none, msg = fs.list(tmp .. "/nope")
  eq(none, nil)
  assert(msg:find("No such file", 1, true), msg)
  eq(fs.kind(tmp .. "/nope"), nil)
  eq(fs.kind(tmp .. "/d1/a"), "file")
end)

-- a full file system: a 2 MB tmpfs (needs root; skipped otherwise)
local mnt = tmp .. "/tmpfs"
fs.mkdir(mnt)
local mounted = os.execute(("mount -t tmpfs -o size=2m tmpfs %s 2>/dev/null"):format(q(mnt)))
if not mounted then print("test_run_faults: cannot mount a tmpfs, full-disk tests skipped") end

test("full disk: write_atomic raises ENOSPC naming the file, the old file is intact", function()
  if not mounted then return end
  local p = mnt .. "/config.lua"
  fs.write_atomic(p, "return {iters = 5}\n")
  os.execute(("dd if=/dev/zero of=%s bs=4096 >/dev/null 2>&1"):format(q(mnt .. "/filler")))
  raises(function() fs.write_atomic(p, ("y"):rep(10000)) end,
         "cannot write '" .. p .. "': No space left on device")
  eq(read_file(p), "return {iters = 5}\n")
  for _, n in ipairs(names(mnt)) do assert(not n:find("tmp", 1, true), "temporary file left: " .. n) end
  os.remove(mnt .. "/filler")
end)

test("full disk: an append that does not fit leaves no torn row", function()
  if not mounted then return end
  local p = mnt .. "/metrics.csv"
  local f = fs.open_append(p)
  local head = ("r"):rep(4095) .. "\n"     -- one whole page
  f:write(head)
  os.execute(("dd if=/dev/zero of=%s bs=4096 >/dev/null 2>&1"):format(q(mnt .. "/filler")))
  -- room for one more page: 8 KB gets half written, then ENOSPC
  os.execute(("truncate -s -4096 %s"):format(q(mnt .. "/filler")))
  raises(function() f:write(("z"):rep(8191) .. "\n") end,
         "cannot append to '" .. p .. "': No space left on device")
  eq(f:size(), 4096)
  eq(read_file(p), head)
  f:write("1,2\n")                           -- what fits still goes in
  eq(read_file(p), head .. "1,2\n")
  f:close()
  os.remove(mnt .. "/filler")
end)

if mounted then os.execute("umount " .. q(mnt)) end

-- }----------------------------------------------------------

-- {---------------------------------------------------------- read_data

local read_data = lg.experiment.read_data

test("read_data: the serialised values come back exactly", function()
  local bytes = {}
  for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
  local s = table.concat(bytes)
  local v = read_data(("-- a comment\nreturn {\n  s = %q,\n  i = -42,\n  f = 0.1,\n  e = 1e-300,\n"
    .. "  big = 9007199254740993,\n  h = math.huge,\n  nh = -math.huge,\n  n = 0/0,\n  t = true,\n"
    .. "  b = false,\n  [\"odd key\"] = {1, 2.5, 'x'; [10] = {}},\n  [3] = \"\\65\\x42\\u{3bb}\\z\n   C\",\n}\n")
    :format(s), "test")
  eq(v.s, s)
  eq(math.type(v.i), "integer")
  eq(v.i, -42)
  eq(math.type(v.f), "float")
  eq(v.f, 0.1)
  eq(v.e, 1e-300)
  eq(v.big, 9007199254740993)
  eq(v.h, math.huge)
  eq(v.nh, -math.huge)
  assert(v.n ~= v.n, "NaN")
  eq(v.t, true)
  eq(v.b, false)
  eq(v["odd key"], {1, 2.5, "x", [10] = {}})
  eq(v[3], "ABλC")
  eq(read_data("12", "x"), 12)
  eq(read_data("return 'x'", "x"), "x")
end)

test("read_data: code is refused, never run", function()
  for _, text in ipairs{
    "return { iters = (function() while true do end end)() }",
    "while true do end",
    "return os.exit(3)",
    "return {x = 1} os.exit(3)",
    "return {x = 1 + 1}",
    "return {x = y}",
    "return {x = 1,, y = 2}",
    "return {x = 'unfinished}",
    "return {[nil] = 1}",
    "return {x == 1}",
    "--[[ long ]] return {}",
    "",
  } do
    raises(function() read_data(text, "DIR/config.lua") end, "experiment: DIR/config.lua is malformed")
  end
  raises(function() read_data(("{"):rep(200) .. ("}"):rep(200), "deep") end, "nested too deeply")
  raises(function() read_data("return {x = 1}\nreturn 2", "two") end, "end of data expected at line 2")
end)

-- }----------------------------------------------------------

-- {---------------------------------------------------------- the driver

test("fault injection, short pass: 5 kills, full disk, two runs, symlinks", function()
  local log = tmp .. "/faults.txt"
  local ok = os.execute(("%s %s --kills 5 --disk 1 --seed 11 >%s 2>&1"):format(q(LUAGAN),
    q(ROOT .. "/tests/faults/run.lua"), q(log)))
  local out = read_file(log) or ""
  assert(ok, "tests/faults/run.lua failed:\n" .. out)
  assert(out:find("faults: 5 kills", 1, true), out)
  assert(out:find("0 torn rows, 0 duplicated rows, 0 gaps, 0 bad checkpoints", 1, true), out)
  assert(out:find("; OK", 1, true), out)
end)

-- }----------------------------------------------------------

os.execute("rm -rf " .. q(tmp))
