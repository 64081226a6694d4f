-- A short pass of the Lua-API fuzzer (tests/fuzz/lua_api.lua; `make fuzz`
-- runs it longer).  It runs in a child luagan so that a crash fails this
-- test instead of killing the test runner; the failure shows the seed and
-- the last calls, and the log it names replays the run.

local FUZZER = ROOT .. "/tests/fuzz/lua_api.lua"
local SECONDS = tonumber(os.getenv("LG_FUZZ_SECONDS")) or 5
local SEED = tonumber(os.getenv("LG_FUZZ_SEED")) or 1

-- Runs the fuzzer with flags; returns success, its output, the call log.
-- Allocations are capped (ASan's allocator, or ulimit -v for a plain
-- build) so that a size the generator did not foresee fails with "out of
-- memory" instead of taking the machine's memory.
local function fuzz(flags, log)
  local out = log .. ".out"
  local cmd = table.concat({
    "cd " .. sh_quote(ROOT),
    "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:max_allocation_size_mb=256\"",
    "export OMP_NUM_THREADS=1",
    "if ! ldd " .. sh_quote(LUAGAN) .. " 2>/dev/null | grep -q libasan; then ulimit -v 4194304; fi",
    ("timeout 300 %s %s %s --log %s >%s 2>&1"):format(sh_quote(LUAGAN), sh_quote(FUZZER), flags,
      sh_quote(log), sh_quote(out)),
  }, " && ")
  local ok = os.execute(cmd)
  return ok, read_file(out) or "", read_file(log) or ""
end

local function last_lines(s, n)
  local lines = {}
  for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
  return table.concat(lines, "\n", math.max(1, #lines - n + 1))
end

test(("lua api fuzzer: %g s from seed %d without a crash"):format(SECONDS, SEED), function()
  local dir = temp_dir()
  local log = dir .. "/calls.lua"
  local ok, out, calls = fuzz(("--seed %d --seconds %g --skip-known"):format(SEED, SECONDS), log)
  if not ok then
    error(("the fuzzer crashed or hung (seed %d); last calls (the last one crashed):\n%s\n"
      .. "output:\n%s\nreplay: luagan tests/fuzz/lua_api.lua --replay %s")
      :format(SEED, last_lines(calls, 5), last_lines(out, 40), log))
  end
  local n = tonumber(out:match("(%d+) calls in"))
  assert(n and n >= 200, "the fuzzer made too few calls:\n" .. out)
  assert(out:find("seed " .. SEED, 1, true), "the seed is printed first:\n" .. out)
  os.execute("rm -rf " .. sh_quote(dir))
end)

test("lua api fuzzer: a seed gives the same calls, and the log replays them", function()
  local dir = temp_dir()
  local ok1, out1, calls1 = fuzz("--seed 7 --iters 400 --skip-known", dir .. "/a.lua")
  local ok2, _, calls2 = fuzz("--seed 7 --iters 400 --skip-known", dir .. "/b.lua")
  assert(ok1 and ok2, out1)
  eq(calls1, calls2, "the logs of two runs with one seed")
  local x = select(2, calls1:gsub("\nX%(", ""))
  assert(x >= 300, "calls logged: " .. x)
  local made = tonumber(out1:match("(%d+) calls in"))
  eq(made, x, "one log line per call made")
  local p = io.popen(("cd %s && OMP_NUM_THREADS=1 %s %s --replay %s 2>&1"):format(sh_quote(ROOT),
    sh_quote(LUAGAN), sh_quote(FUZZER), sh_quote(dir .. "/a.lua")))
  local replay = p:read("a")
  p:close()
  eq(tonumber(replay:match("replay: (%d+) calls")), x, "calls replayed:\n" .. replay)
  os.execute("rm -rf " .. sh_quote(dir))
end)
