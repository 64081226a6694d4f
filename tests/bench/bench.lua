-- luagan side of the benchmarks; tests/bench/bench_torch.py has the same workloads.
--
-- usage: luagan tests/bench/bench.lua WORKLOAD [THREADS]
--        WORKLOAD is add1 | linear16 | sgemm1024 | memloop
--
-- Prints `name: value unit` lines that tests/bench/run.sh reads.
--
-- Timing is wall time around whole loops (never per iteration), after an
-- untimed warm-up; add1, linear16 and sgemm1024 run in 5 blocks and report
-- the best block with the mean beside it, memloop is one loop.  The clock is
-- lg.clock() when the binding has one; otherwise one `date +%s%N` through
-- io.popen before and one after each block.  A popen costs ~1 ms (up to ~8 ms
-- on a loaded machine); that offset is measured (calls back to back) and
-- subtracted, and each block runs for ~0.1-0.2 s on an idle machine, so what
-- is left is about 1% at idle.  os.clock is not used: it is CPU time summed
-- over threads, wrong as soon as OpenMP runs two, and blind to load.
local lg = rawget(_G, "lg") or require "luagan"

local workload = arg[1]
local threads = tonumber(arg[2] or "1")

local clock_name, now
if type(lg.clock) == "function" then
  clock_name, now = "lg.clock", lg.clock
else
  clock_name = "date +%s%N"
  now = function()
    local p = assert(io.popen("date +%s%N"))
    local s = p:read("l")
    p:close()
    return tonumber(s) * 1e-9
  end
end

-- Offset of a start/stop pair with nothing between them (popen's cost).
local function clock_offset()
  local best = math.huge
  for _ = 1, 3 do
    local t0 = now()
    local t1 = now()
    best = math.min(best, t1 - t0)
  end
  return clock_name == "lg.clock" and 0 or best
end
local offset = clock_offset()

local function timed(fn)
  local t0 = now()
  fn()
  local t1 = now()
  return math.max(t1 - t0 - offset, 1e-9)
end

-- Runs `body(m)` (a loop of m iterations) in BLOCKS blocks of n/BLOCKS
-- iterations; returns the best and the mean seconds per iteration.  The best
-- block is the number reported: other processes on the machine only ever
-- add time.  bench_torch.py does the same.
local BLOCKS = 5
local function blocks(n, body)
  local m = n // BLOCKS
  local best, total = math.huge, 0
  for _ = 1, BLOCKS do
    local dt = timed(function() body(m) end)
    best = math.min(best, dt / m)
    total = total + dt
  end
  return best, total / (m * BLOCKS)
end

local function status_mb(field)
  local f = io.open("/proc/self/status")
  if not f then return 0 / 0 end
  for line in f:lines() do
    local v = line:match("^" .. field .. ":%s*(%d+)")
    if v then f:close(); return tonumber(v) / 1024 end
  end
  f:close()
  return 0 / 0
end

if type(lg.set_num_threads) == "function" then
  lg.set_num_threads(threads)
else
  io.stderr:write("bench.lua: lg.set_num_threads missing; relying on OMP_NUM_THREADS\n")
end
if type(lg.manual_seed) == "function" then lg.manual_seed(0) end

local W = {}

function W.add1()
  local n = 4000000
  local a, b = lg.randn(1), lg.randn(1)
  local c
  for _ = 1, n // 10 do c = a + b end
  local best, mean = blocks(n, function(m)
    for _ = 1, m do c = a + b end
  end)
  assert(c:numel() == 1)
  print(("add1: %.4f us/op (best of %d blocks, mean %.4f; n=%d, threads=%d, clock=%s)"):format(
    best * 1e6, BLOCKS, mean * 1e6, n, threads, clock_name))
end

function W.linear16()
  local n = 200000
  local x = lg.randn(16, 16)
  local w = lg.randn(16, 16)
  local b = lg.randn(16)
  w.requires_grad = true
  b.requires_grad = true
  local linear = lg.linear
  local function step()
    w.grad = nil
    b.grad = nil
    local y = linear(x, w, b):relu():sum()
    y:backward()
  end
  for _ = 1, n // 10 do step() end
  assert(w.grad ~= nil and b.grad ~= nil, "linear16: no gradient after backward")
  local best, mean = blocks(n, function(m)
    for _ = 1, m do step() end
  end)
  print(("linear16: %.3f us/iter (best of %d blocks, mean %.3f; n=%d, threads=%d, clock=%s)"):format(
    best * 1e6, BLOCKS, mean * 1e6, n, threads, clock_name))
end

function W.sgemm1024()
  local size, reps = 1024, 40
  local x, y = lg.randn(size, size), lg.randn(size, size)
  local z = x:matmul(y)
  local best, mean = blocks(reps, function(m)
    for _ = 1, m do z = x:matmul(y) end
  end)
  local flop = 2.0 * size ^ 3
  print(("sgemm1024: %.2f GFLOP/s (best of %d blocks, mean %.2f; reps=%d, threads=%d, clock=%s) check=%.4g"):format(
    flop / best * 1e-9, BLOCKS, flop / mean * 1e-9, reps, threads, clock_name,
    z:narrow(1, 1, 1):narrow(2, 1, 1):item()))
end

-- The full memory test: 20,000 4 MB tensors created and dropped, and no
-- collectgarbage in the loop.  Without the GC knowing what a tensor costs
-- the userdata are tiny and the 80 GB allocated in total would pile up.
function W.memloop()
  local n = 20000
  local base = status_mb("VmRSS")
  local t
  local dt = timed(function()
    for _ = 1, n do t = lg.zeros(1024 * 1024) end
  end)
  assert(t:numel() == 1024 * 1024)
  t = nil
  print(("memloop: %.2f us/iter (n=%d, threads=%d, clock=%s)"):format(dt / n * 1e6, n, threads, clock_name))
  print(("memloop_rss_before: %.1f MB"):format(base))
  print(("memloop_peak_rss: %.1f MB"):format(status_mb("VmHWM")))
  if type(lg.memory) == "function" then
    local m = lg.memory()
    if type(m) == "table" then
      local keys = {}
      for k in pairs(m) do keys[#keys + 1] = k end
      table.sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do
        local v = m[k]
        parts[#parts + 1] = ("%s=%s"):format(k, type(v) == "number" and ("%.1fMB"):format(v / 2 ^ 20) or tostring(v))
      end
      print("memloop_lg_memory: " .. table.concat(parts, " "))
    end
  end
end

local fn = W[workload or ""]
if not fn then
  io.stderr:write("usage: luagan tests/bench/bench.lua {add1|linear16|sgemm1024|memloop} [threads]\n")
  os.exit(2)
end
fn()
