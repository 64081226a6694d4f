-- The collector knows what tensors cost: a loop making big temporary tensors
-- keeps a flat resident size without any collectgarbage() call, in either
-- GC mode.  (The full benchmark is 20,000 iterations; 1,000 here.)
local lg = require "luagan"

local function status_kb(key)
  for line in io.lines("/proc/self/status") do
    local v = line:match("^" .. key .. ":%s+(%d+)")
    if v then return tonumber(v) end
  end
end

local function loop(n)
  for _ = 1, n do
    local x = lg.zeros(1024 * 1024)   -- 4 MB
    local y = x + 1
  end
end

for _, mode in ipairs{"incremental", "generational"} do
  test("1,000 temporary 4 MB tensors stay under 300 MB resident (" .. mode .. ")", function()
    local prev = collectgarbage(mode)
    collectgarbage(); collectgarbage()
    local live0 = lg.memory().live
    local rss0 = status_kb("VmRSS")
    loop(1000)
    local rss = status_kb("VmRSS")
    assert(rss - rss0 < 300 * 1024, ("resident size grew by %d MB"):format((rss - rss0) // 1024))
    collectgarbage(); collectgarbage()
    local live = lg.memory().live
    assert(live - live0 < 1024 * 1024,
           ("live tensor bytes %d after the loop, %d before"):format(live, live0))
    collectgarbage(prev)
  end)
end

test("the pool reuses buffers: steady state allocates no new memory", function()
  collectgarbage(); collectgarbage()
  loop(50)
  local peak0 = lg.memory().peak
  loop(200)
  assert(lg.memory().peak <= peak0 + 64 * 1024 * 1024, "peak keeps growing")
end)
