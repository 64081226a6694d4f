-- Lua-API fuzzer: random call sequences over the binding, run by luagan.
--
--   luagan tests/fuzz/lua_api.lua [--seed N] [--iters N] [--seconds N]
--          [--log FILE] [--skip-known] [--skip TAG,..] [--round N] [--quiet]
--          [--errors] [--trace]
--   luagan tests/fuzz/lua_api.lua --replay FILE
--   luagan tests/fuzz/lua_api.lua --minimise FILE [--out FILE]
--
-- Every call goes through pcall: a Lua error is a fine outcome, a crash
-- (segfault, ASan/UBSan report, abort) or a hang is a bug.  What is called:
-- every function of lg (found by enumeration, so a new one is fuzzed with
-- generic arguments the day it appears), every Tensor method (the __index
-- function's method table) and metamethod, lg.nn constructors and module
-- methods, lg.optim, lg.image.grid/resize and lg.save/lg.load in a temporary
-- directory.  Arguments: shapes with 0, 1 and huge sizes (2^31, 2^40,
-- math.maxinteger), negative and non-integer sizes and dims, NaN and Inf,
-- views (expand, narrow, transpose), requires_grad and backward, and options
-- tables whose metamethods are hostile (__index that closes a tensor through
-- `local v <close> = t` or raises, __len that varies between reads, __gc
-- that frees tensors in the middle of a call).
--
-- Reproducing.  The run is a function of --seed (printed first): the same
-- seed and --iters give the same calls.  Each call is also a self-contained
-- line of Lua source; with --log FILE every line is written (and flushed)
-- before it runs, so after a crash the last line of FILE is the crashing
-- call, and FILE itself replays the run: --replay FILE.  --minimise FILE
-- removes lines from a crashing log while the crash (its sanitizer summary
-- line, or its signal) stays the same, and writes the shortest log found
-- (default FILE.min.lua).  Replay runs the calls in the same order but not the
-- generator's own allocations, so a crash that depends on when Lua's
-- collector runs a finaliser may need the --seed/--iters run instead.
--
-- Triage: --errors prints every Lua error (is the generator reaching past
-- argument checks?), --trace prints each call before it runs (so that a
-- build with recoverable UBSan shows which call each report belongs to),
-- --skip TAG,.. leaves out calls with those tags or names.  At the end of
-- each round (--round calls) the pool is dropped and collected: tensor
-- bytes still live then are reported as a crash (exit 4), since the core's
-- buffer pool hides many double releases and uses after free from ASan.
--
-- Memory stays bounded: creation calls whose shape has more than MAX_NUMEL
-- elements (and no 0) are not made, calls on tensors above MAX_NUMEL are
-- limited to views, and the pool is dropped when live tensor bytes pass
-- MAX_LIVE.  Run under ASan with allocator_may_return_null=1 and a
-- max_allocation_size_mb cap (as the Makefile and the test do) so that a
-- size the generator did not foresee (a padding of 2^30, a 4096x upsample)
-- gets an "out of memory" error instead of an abort or an OOM kill.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

-- {====================================================== known crash classes
-- --skip-known (the short pass in `make test`) does not run calls that match
-- an entry here: crash classes that are known and being fixed.  An entry is
-- {fn = Lua pattern over the called name or nil for any, tag = a tag the
-- generator put on the call or nil for any, why = what crashes}.  Tags:
-- close_idx, err_idx, vary_idx (options tables whose __index closes a tensor
-- / raises / varies), vary_len (a __len that changes between reads),
-- gc_close (a finaliser that frees a tensor during the call), huge (a size of
-- 2^31 or more), nonfinite (NaN or Inf among the numbers or in a pool
-- tensor named), detach (an in-place write through a detach alias),
-- inplace, grad_assign (x.grad = tensor), close (a tensor freed between
-- calls).  Empty it as fixes land; run without --skip-known (as `make fuzz
-- LUA_FUZZ_FLAGS=`) to see whether an entry still crashes.
local KNOWN = {
  -- empty: every class found so far is fixed (clip_'s twice-read length,
  -- grad cycles, finalizers freeing arguments mid-call, options __index
  -- freeing arguments, huge sizes, expf of NaN); add an entry with its
  -- reason when a new class is found and not yet fixed
}
-- }======================================================

local MAX_NUMEL = 1 << 20         -- elements of a tensor the generator will create
local MAX_LIVE = 768 << 20        -- live tensor bytes before the pool is dropped
local NP = 24                     -- value pool slots P[1..NP]

-- {====================================================== command line
local opt = {seed = nil, iters = math.maxinteger, seconds = nil, log = nil, round = 400}
do
  local a = arg or {}
  local i = 1
  while a[i] do
    local k, v = a[i], a[i + 1]
    if k == "--seed" then opt.seed = math.tointeger(tonumber(v)); i = i + 2
    elseif k == "--iters" then opt.iters = math.tointeger(tonumber(v)); i = i + 2
    elseif k == "--seconds" then opt.seconds = tonumber(v); i = i + 2
    elseif k == "--log" then opt.log = v; i = i + 2
    elseif k == "--round" then opt.round = math.tointeger(tonumber(v)); i = i + 2
    elseif k == "--replay" then opt.replay = v; i = i + 2
    elseif k == "--minimise" or k == "--minimize" then opt.minimise = v; i = i + 2
    elseif k == "--out" then opt.out = v; i = i + 2
    elseif k == "--skip-known" then opt.skip_known = true; i = i + 1
    elseif k == "--quiet" then opt.quiet = true; i = i + 1
    elseif k == "--errors" then opt.errors = true; i = i + 1
    elseif k == "--trace" then opt.trace = true; i = i + 1
    elseif k == "--skip" then opt.skip = v; i = i + 2
    else
      io.stderr:write("lua_api: unknown or incomplete flag ", tostring(k),
        " (valid: --seed --iters --seconds --log --round --replay --minimise --out --skip-known --skip --quiet --errors --trace)\n")
      os.exit(2)
    end
  end
  if not opt.iters or not opt.round then
    io.stderr:write("lua_api: --iters and --round take integers\n")
    os.exit(2)
  end
end
-- }======================================================

-- {====================================================== replay environment
-- What a logged line can name: P (the value pool), D (the temporary
-- directory), H (hostile helpers), X (runs one call), RESET (starts a round)
-- and the globals of the state.  A log file is a chunk run in this table.

local E = setmetatable({}, {__index = _G})
E.lg, E.nn, E.optim = lg, nn, optim
E.P = {}
E.D = os.tmpname()
os.remove(E.D)
os.execute("mkdir -p '" .. E.D .. "'")

local H = {}
E.H = H

-- Frees t now, as `local v <close> = t` does at the end of a block.
function H.close(t)
  local v <close> = t
  return nil
end

-- A proxy for the options in base whose __index frees victim first.
function H.close_idx(victim, base)
  return setmetatable({}, {__index = function(_, k)
    local v <close> = victim
    return base[k]
  end})
end

-- __index raises on the n-th read (1 = the first).
function H.err_idx(base, n)
  local reads = 0
  return setmetatable({}, {__index = function(_, k)
    reads = reads + 1
    if reads >= n then error("hostile __index on '" .. tostring(k) .. "'") end
    return base[k]
  end})
end

-- __index answers base[k] first, then each value of weird in turn.
function H.vary_idx(base, weird)
  local reads = 0
  return setmetatable({}, {__index = function(_, k)
    reads = reads + 1
    if reads == 1 then return base[k] end
    return weird[(reads - 2) % #weird + 1]
  end})
end

-- A list whose __len returns the values of lens in turn (the last one
-- raised if it is the string "error"); victim, when given, is freed on the
-- second read.
function H.vary_len(list, lens, victim)
  local reads = 0
  return setmetatable(list, {__len = function()
    reads = reads + 1
    if reads == 2 and victim then local v <close> = victim end
    local n = lens[(reads - 1) % #lens + 1]
    if n == "error" then error("hostile __len") end
    return n
  end})
end

-- Garbage whose finaliser frees victim (or clears its grad, or runs an op on
-- it): it runs inside whatever allocation steps the collector next.
function H.gc(victim, how)
  setmetatable({}, {__gc = function()
    -- Lua never finalises what a finaliser creates while the state closes:
    -- a tensor made then would be reported as a leak
    if H.closing then return end
    if how == 1 then local v <close> = victim
    elseif how == 2 then pcall(function() victim.grad = nil end)
    else pcall(function() return victim + 1 end) end
  end})
  return nil
end

-- A finaliser that frees every tensor of H.victims each time it runs and
-- makes another one like it, so that a collector step taken inside a call
-- (the binding charges tensor bytes to the collector every megabyte) frees
-- the victims in the middle of that call.
H.victims = {}
local function storm()
  setmetatable({}, {__gc = function()
    if H.closing then return end
    for _, v in ipairs(H.victims) do local c <close> = v end
    storm()
  end})
end
storm()

-- f() with victims freed by any collector step it takes.
function H.with_storm(victims, f)
  H.victims = victims
  local r = table.pack(pcall(f))
  H.victims = {}
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

-- a list of n ones (class labels, positions), made once per n
local ones_lists = {}
function H.ones(n)
  if not ones_lists[n] then
    local t = {}
    for i = 1, n do t[i] = 1 end
    ones_lists[n] = t
  end
  return ones_lists[n]
end

local ncalls, nerrors, nslow, nskipped = 0, 0, 0, 0
local slow_limit = 2
local last_error

-- X(n, dest, dest2, f): call n, its first result into P[dest], its second
-- into P[dest2].
function E.X(n, dest, dest2, f)
  local t0 = lg.clock()
  local r = table.pack(pcall(f))
  local dt = lg.clock() - t0
  ncalls = ncalls + 1
  if dt > slow_limit then
    nslow = nslow + 1
    io.stderr:write(("lua_api: call %d took %.1f s\n"):format(n, dt))
  end
  if not r[1] then
    nerrors = nerrors + 1
    last_error = r[2]
    if opt.errors then io.stderr:write(("error %d: %s\n"):format(n, tostring(r[2]):sub(1, 160))) end
    return
  end
  if dest then E.P[dest] = r[2] end
  if dest2 then E.P[dest2] = r[3] end
end

-- RESET(seed): a new round: an empty pool, a seeded generator, grad mode on.
-- With the pool dropped and collected no tensor is left: live bytes that
-- remain are a leak or a broken reference count, reported as a crash.
function E.RESET(seed)
  for i = 1, NP do E.P[i] = nil end
  H.victims = {}
  collectgarbage()
  collectgarbage()
  local live = lg.memory().live
  if live ~= 0 then
    io.stderr:write(("lua_api: %d tensor bytes still live after the pool was dropped "
      .. "(a leak or a reference count error) before RESET(%d)\n"):format(live, seed))
    os.exit(4)
  end
  lg.manual_seed(seed)
  lg.set_grad_enabled(true)
end
-- }======================================================

local function cleanup()
  os.execute("rm -rf '" .. E.D .. "'")
end

-- {====================================================== replay, minimise

if opt.replay then
  local chunk = assert(loadfile(opt.replay, "t", E))
  chunk()
  print(("lua_api replay: %d calls, %d lua errors"):format(ncalls, nerrors))
  cleanup()
  H.closing = true
  os.exit(0, true)
end

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The executable running this script and this script's path.
local function self_cmd()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return sh(arg[i]) .. " " .. sh(arg[0])
end

if opt.minimise then
  local lines = {}
  for l in io.lines(opt.minimise) do lines[#lines + 1] = l end
  local tmp = os.tmpname()
  -- the crash's signature: the sanitizer summary, or "signal N", or nil (no crash)
  local function run(ls)
    local f = assert(io.open(tmp, "w"))
    f:write(table.concat(ls, "\n"), "\n")
    f:close()
    local p = io.popen(("timeout 60 %s --replay %s 2>&1 >/dev/null; echo \"exit=$?\"")
      :format(self_cmd(), sh(tmp)))
    local out = p:read("a")
    p:close()
    local code = tonumber(out:match("exit=(%d+)\n?$"))
    local sig = out:match("SUMMARY: [^\n]*") or out:match("runtime error: [^\n]*")
    if sig and sig:match("leaked in") then return "memory leak" end
    if sig then return (sig:gsub("%(%S+%+0x%x+%)", "")) end
    if code ~= 0 then return "exit " .. code end
    return nil
  end
  local want = run(lines)
  if not want then
    io.stderr:write("lua_api: the log does not crash on replay (try --seed/--iters)\n")
    os.exit(1)
  end
  print("signature: " .. want)
  -- a RESET line starts a fresh pool: try each round alone, the last first
  local cur = lines
  local stop = #lines
  for i = #lines, 1, -1 do
    if lines[i]:match("^RESET") then
      local round = {table.unpack(lines, i, stop)}
      if run(round) == want then cur = round break end
      stop = i - 1
    end
  end
  -- ddmin over lines: drop chunks while the signature stays
  local n = 2
  while #cur >= 2 do
    local size = math.ceil(#cur / n)
    local reduced = false
    for s = 1, #cur, size do
      local try = {}
      for i = 1, #cur do if i < s or i >= s + size then try[#try + 1] = cur[i] end end
      if #try > 0 and run(try) == want then
        cur, reduced = try, true
        n = math.max(n - 1, 2)
        break
      end
    end
    if not reduced then
      if size == 1 then break end
      n = math.min(n * 2, #cur)
    end
  end
  local out = opt.out or (opt.minimise .. ".min.lua")
  local f = assert(io.open(out, "w"))
  f:write(table.concat(cur, "\n"), "\n")
  f:close()
  os.remove(tmp)
  print(("%d lines -> %d lines in %s"):format(#lines, #cur, out))
  for _, l in ipairs(cur) do print(l) end
  cleanup()
  H.closing = true
  os.exit(0, true)
end
-- }======================================================

-- {====================================================== generator state

local seed = opt.seed or (os.time() % 1000000)
math.randomseed(seed)
local R = math.random

local function pick(list) return list[R(#list)] end
local function chance(p) return R() < p end

local P = E.P
local tags               -- tags of the call being generated

local function tag(t) tags[t] = true end

local function is_tensor(v) return lg.is_tensor(v) end

-- The shape of a live tensor, or nil (freed or not a tensor).
local function shape_of(v)
  if not is_tensor(v) then return nil end
  local ok, s = pcall(function() return v.shape end)
  return ok and s or nil
end

local function numel_of(s)
  local n = 1.0
  for _, d in ipairs(s) do n = n * d end
  return n
end

-- Pool slots holding values that satisfy pred.
local function slots(pred)
  local r = {}
  for i = 1, NP do if P[i] ~= nil and pred(P[i]) then r[#r + 1] = i end end
  return r
end

local function tensor_slots(live_only)
  return slots(function(v) return is_tensor(v) and (not live_only or shape_of(v) ~= nil) end)
end

local function module_slots()
  return slots(function(v) return type(v) == "table" and rawget(v, "_order") ~= nil end)
end

local function optim_slots()
  return slots(function(v) return type(v) == "table" and rawget(v, "params") ~= nil
                                  and rawget(v, "state") ~= nil end)
end

local function table_slots()
  return slots(function(v) return type(v) == "table" and rawget(v, "_order") == nil
                                  and rawget(v, "params") == nil end)
end

-- }======================================================

-- {====================================================== argument expressions
-- Every generator returns Lua source; the call is compiled from it, so the
-- log line and the call are the same thing.

local SPECIAL_NUMBERS = {
  "0", "1", "-1", "2", "3", "0.5", "-0.0", "1e-45", "1e300", "-1e300",
  "0/0", "1/0", "-1/0", "2^31", "2^40", "1<<31", "1<<40", "math.maxinteger",
  "math.mininteger", "2147483647", "-2147483648", "4294967296", "65536", "1e10", "3.5",
}

local function special_number()
  local s = pick(SPECIAL_NUMBERS)
  if s:match("0/0") or s:match("1/0") then tag("nonfinite") end
  if s:match("2^") or s:match("<<") or s:match("integer") or s:match("214748364")
     or s:match("4294967296") or s:match("1e10") or s:match("e300") then tag("huge") end
  return s
end

local function small_int(lo, hi) return tostring(R(lo, hi)) end

-- a float value for fill/full/clamp and friends
local function value()
  if chance(0.25) then return special_number() end
  return ("%.3g"):format((R() - 0.5) * 10)
end

-- a dim: mostly valid (1..n or -n..-1) for a tensor of n dims
local function dim_expr(n)
  n = n or 2
  local r = R()
  if r < 0.6 and n > 0 then return tostring(R(1, n)) end
  if r < 0.8 and n > 0 then return tostring(-R(1, n)) end
  if r < 0.9 then return pick{"0", tostring(n + 1), tostring(-n - 1), "9", "-9"} end
  return special_number()
end

-- a list of n sizes, mostly small, sometimes weird
local function sizes(n, weird)
  local s = {}
  for i = 1, n do
    local r = R()
    if weird and r < 0.08 then s[i] = special_number()
    elseif weird and r < 0.12 then s[i] = pick{"-1", "-2", "0.5", "'2'", "true"}
    elseif r < 0.25 then s[i] = pick{"0", "1", "1"}
    else s[i] = tostring(R(1, 6)) end
  end
  return s
end

-- Predicted element count of a shape given as sizes, or nil when the
-- shape has a non-integer, a negative size or a 0 (the call is an error or
-- allocates nothing).
local function predicted_numel(s)
  local n = 1.0
  for _, e in ipairs(s) do
    local ok, v = pcall(load("return " .. e, "=size", "t", E))
    if not ok or math.type(v) ~= "integer" or v < 0 then return nil end
    if v == 0 then return 0 end
    n = n * v
  end
  return n
end

-- a shape as varargs "2, 3" or as a table "{2, 3}"
local function shape_expr(weird)
  local n = R(0, 100) < 8 and R(5, 9) or R(0, 4)
  local s
  for _ = 1, 20 do
    s = sizes(n, weird)
    local numel = predicted_numel(s)
    if numel == nil or numel <= MAX_NUMEL or numel > 2.0^40 then break end
    s = sizes(n, false)
  end
  local numel = predicted_numel(s)
  if numel and numel > MAX_NUMEL and numel <= 2.0^40 then s = {"2", "3"} end
  local body = table.concat(s, ", ")
  if chance(0.5) then return "{" .. body .. "}" end
  return body
end

-- The shape of the tensor an expression names when it is a pool slot
-- (evaluating anything else here would advance lg's generator).
local function shape_src(e)
  local i = e:match("^P%[(%d+)%]$")
  if i then return shape_of(P[tonumber(i)]) end
  local dims = e:match("^lg%.randn%(([%d, ]*)%)$")
  if not dims then return nil end
  local s = {}
  for d in dims:gmatch("%d+") do s[#s + 1] = tonumber(d) end
  return s
end

-- a live tensor from the pool, or a fresh small one
local function tensor_expr(allow_freed)
  local ts = tensor_slots(not allow_freed)
  if #ts > 0 and chance(0.85) then return ("P[%d]"):format(pick(ts)) end
  return ("lg.randn(%s)"):format(table.concat(sizes(R(0, 3), false), ", "))
end

-- a tensor that requires grad or was computed from one, when the pool has one
local function graph_expr()
  local gs = slots(function(v)
    if not is_tensor(v) then return false end
    local ok, r = pcall(function() return v.requires_grad or v.grad_fn ~= nil end)
    return ok and r
  end)
  if #gs > 0 and chance(0.8) then return ("P[%d]"):format(pick(gs)) end
  return tensor_expr(chance(0.05))
end

-- a tensor of a given rank (its sizes small), fresh
local function fresh(rank, weird)
  local s = sizes(rank, weird)
  local n = predicted_numel(s)
  if n and n > MAX_NUMEL then s = sizes(rank, false) end
  return ("lg.randn(%s)"):format(table.concat(s, ", "))
end

-- an options table with keys from valid (and now and then an unknown one),
-- values from vals; sometimes wrapped in a hostile proxy
local function options_expr(valid, vals, victims)
  local parts = {}
  for _, k in ipairs(valid) do
    if chance(0.5) then parts[#parts + 1] = ("%s = %s"):format(k, vals(k)) end
  end
  if chance(0.05) then parts[#parts + 1] = "bogus = 1" end
  if chance(0.03) then parts[#parts + 1] = "[1] = 2" end
  local base = "{" .. table.concat(parts, ", ") .. "}"
  local r = R()
  if r < 0.08 then
    tag("close_idx")
    local v = (victims and #victims > 0 and chance(0.7)) and pick(victims) or tensor_expr()
    return ("H.close_idx(%s, %s)"):format(v, base)
  elseif r < 0.12 then
    tag("err_idx")
    return ("H.err_idx(%s, %d)"):format(base, R(1, 3))
  elseif r < 0.17 then
    tag("vary_idx")
    return ("H.vary_idx(%s, {%s, %s, %s})"):format(base, special_number(), special_number(),
      pick{"'x'", "{}", "true", "{1, 2}", "{0/0}", "P[1]"})
  elseif r < 0.2 then
    return pick{"'stride'", "7", "true", "P[1]"}
  end
  return base
end

-- a list of tensors (for cat, clip_, grad, save), maybe with a hostile __len
local function tensor_list(n)
  local parts = {}
  for i = 1, n do parts[i] = tensor_expr(chance(0.1)) end
  local body = "{" .. table.concat(parts, ", ") .. "}"
  if chance(0.1) then
    tag("vary_len")
    return ("H.vary_len(%s, {%d, %s, %d, 'error'}, %s)"):format(body, n, pick{"1000", "-1",
      "0", "2^40", "math.maxinteger", "0"}, R(0, n + 2),
      (n > 0 and chance(0.5)) and parts[R(1, n)] or chance(0.5) and tensor_expr() or "nil")
  end
  return body
end

-- a generic argument of unknown role
local function any_arg()
  local r = R()
  if r < 0.5 then return tensor_expr(chance(0.05)) end
  if r < 0.65 then return small_int(-3, 6) end
  if r < 0.75 then return special_number() end
  if r < 0.82 then return "{" .. table.concat(sizes(R(0, 3), true), ", ") .. "}" end
  if r < 0.88 then return options_expr({"stride", "padding", "nrow", "retain_graph"},
                                       function() return small_int(0, 3) end) end
  if r < 0.92 then return tensor_list(R(0, 3)) end
  return pick{"nil", "true", "false", "'x'", "io.stdout", "tostring", "{}"}
end

local function args_of(n)
  local a = {}
  for i = 1, n do a[i] = any_arg() end
  return table.concat(a, ", ")
end

-- }======================================================

-- {====================================================== call catalogue
-- Each entry returns (call source, dest?, dest2?, big_ok): the source is an
-- expression; dest/dest2 are pool slots for its results.  big_ok marks
-- calls that do not allocate in proportion to their input (views), the
-- only ones made on a tensor above MAX_NUMEL.

local function slot() return R(1, NP) end

local CREATE = {"zeros", "ones", "rand", "randn"}

local gens = {}
local function gen(weight, name, f) gens[#gens + 1] = {weight = weight, name = name, f = f} end

gen(6, "create", function()
  local fn = pick(CREATE)
  return ("lg.%s(%s)"):format(fn, shape_expr(chance(0.3))), slot(), nil, "lg." .. fn
end)

gen(2, "full", function()
  return ("lg.full(%s, %s)"):format(chance(0.8) and ("{" .. table.concat(sizes(R(0, 3), chance(0.2)), ", ") .. "}")
    or small_int(0, 5), value()), slot(), nil, "lg.full"
end)

gen(2, "tensor", function()
  local r = R()
  if r < 0.3 then return ("lg.tensor(%s)"):format(value()), slot(), nil, "lg.tensor" end
  if r < 0.5 then return ("lg.tensor(%s)"):format(tensor_expr(true)), slot(), nil, "lg.tensor" end
  local rows = {}
  local nr, nc = R(0, 3), R(0, 3)
  for i = 1, nr do
    local c = {}
    for j = 1, (chance(0.1) and R(0, 4) or nc) do c[j] = chance(0.05) and pick{"'x'", "{}", "nil"} or value() end
    rows[i] = "{" .. table.concat(c, ", ") .. "}"
  end
  return ("lg.tensor{%s}"):format(table.concat(rows, ", ")), slot(), nil, "lg.tensor"
end)

gen(1, "arange", function()
  local a = {}
  for i = 1, R(1, 3) do a[i] = chance(0.7) and small_int(-5, 20) or special_number() end
  -- never more than MAX_NUMEL values unless the call must fail
  local ok, n = pcall(function()
    local v = {}
    for i, e in ipairs(a) do v[i] = load("return " .. e)() end
    local lo, hi, st = 0, v[1], 1
    if #v >= 2 then lo, hi, st = v[1], v[2], v[3] or 1 end
    return math.ceil((hi - lo) / st)
  end)
  if ok and n == n and n > MAX_NUMEL and n <= 2^40 then a = {"10"} end
  return ("lg.arange(%s)"):format(table.concat(a, ", ")), slot(), nil, "lg.arange"
end)

gen(1, "like", function()
  local fn = pick{"zeros_like", "ones_like"}
  return ("lg.%s(%s)"):format(fn, tensor_expr(true)), slot(), nil, "lg." .. fn
end)

-- views: no allocation, so allowed on big tensors
local VIEW_METHODS = {"view", "reshape", "expand", "t", "transpose", "permute", "narrow",
                      "squeeze", "unsqueeze", "detach", "size", "dim", "numel",
                      "is_contiguous"}

local function view_call(te, s)
  local n = s and #s or 2
  local m = pick(VIEW_METHODS)
  local a
  if m == "view" or m == "reshape" or m == "expand" then
    local parts = {}
    for i = 1, (chance(0.7) and n or R(0, 4)) do
      local r = R()
      if m == "expand" and s and s[i] and s[i] ~= 1 then parts[i] = tostring(s[i])
      elseif r < 0.15 then parts[i] = "-1"
      elseif r < 0.25 then parts[i] = special_number()
      elseif s and s[i] and r < 0.7 then parts[i] = tostring(s[i])
      else parts[i] = small_int(0, 6) end
    end
    if m == "expand" and chance(0.3) then
      table.insert(parts, 1, pick{"100000", "1<<20", "2^31", "1<<40", "0", "3"})
      tag("huge")
    end
    if m == "view" and s and chance(0.3) then   -- the total, maybe flattened
      parts = {tostring(math.tointeger(numel_of(s)) or 1)}
    end
    a = chance(0.5) and "{" .. table.concat(parts, ", ") .. "}" or table.concat(parts, ", ")
  elseif m == "transpose" then a = dim_expr(n) .. ", " .. dim_expr(n)
  elseif m == "permute" then
    local p = {}
    for i = 1, n do p[i] = i end
    for i = n, 2, -1 do local j = R(1, i); p[i], p[j] = p[j], p[i] end
    for i = 1, #p do if chance(0.05) then p[i] = dim_expr(n) end end
    if chance(0.05) then p[#p + 1] = 1 end
    for i = 1, #p do p[i] = tostring(p[i]) end
    a = chance(0.5) and "{" .. table.concat(p, ", ") .. "}" or table.concat(p, ", ")
  elseif m == "narrow" then
    local d = dim_expr(n)
    local size = s and s[tonumber(d) and (tonumber(d) > 0 and tonumber(d) or n + 1 + tonumber(d))] or 3
    size = math.tointeger(size) or 3
    local st = chance(0.8) and tostring(R(-size - 1, size + 1)) or special_number()
    local len = chance(0.8) and tostring(R(0, size)) or special_number()
    a = ("%s, %s, %s"):format(d, st, len)
  elseif m == "squeeze" or m == "unsqueeze" or m == "size" then
    a = chance(0.2) and "" or dim_expr(n + (m == "unsqueeze" and 1 or 0))
  else a = "" end
  return ("%s:%s(%s)"):format(te, m, a), "Tensor:" .. m
end

gen(8, "view", function()
  local ts = tensor_slots(false)
  local te, s = tensor_expr(), nil
  if #ts > 0 then local i = pick(ts); te = ("P[%d]"):format(i); s = shape_of(P[i]) end
  local src, name = view_call(te, s)
  return src, slot(), nil, name, true
end)

-- elementwise, reductions, activations: methods with tensor/number/dim args
local UNARY = {"exp", "log", "sqrt", "abs", "sign", "relu", "sigmoid", "tanh", "softplus",
               "sin", "cos", "neg", "clone", "contiguous", "totable", "item"}
gen(6, "unary", function()
  local m = pick(UNARY)
  return ("%s:%s()"):format(tensor_expr(chance(0.05)), m), slot(), nil, "Tensor:" .. m
end)

local BINARY = {"add", "sub", "mul", "div", "matmul"}
gen(6, "binary", function()
  local m = pick(BINARY)
  local a, b = tensor_expr(), chance(0.2) and value() or tensor_expr()
  if chance(0.2) then a, b = b, a end
  local r = R()
  if r < 0.4 then
    local op = ({add = "+", sub = "-", mul = "*", div = "/", matmul = "+"})[m]
    return ("%s %s %s"):format(a, op, b), slot(), nil, "Tensor:__" .. m
  end
  if r < 0.7 then return ("lg.%s(%s, %s)"):format(m, a, b), slot(), nil, "lg." .. m end
  return ("(%s):%s(%s)"):format(a, m, b), slot(), nil, "Tensor:" .. m
end)

gen(2, "pow", function()
  local r = R()
  if r < 0.5 then return ("%s ^ %s"):format(tensor_expr(), value()), slot(), nil, "Tensor:__pow" end
  if r < 0.7 then return ("%s ^ %s"):format(value(), tensor_expr()), slot(), nil, "Tensor:__pow" end
  return ("%s:pow(%s)"):format(tensor_expr(), chance(0.8) and value() or tensor_expr()), slot(), nil, "Tensor:pow"
end)

gen(3, "param1", function()
  local te = tensor_expr()
  local m = pick{"leaky_relu", "clamp", "softmax", "log_softmax"}
  local s = shape_src(te)
  local a
  if m == "leaky_relu" then a = chance(0.3) and "" or value()
  elseif m == "clamp" then a = pick{value() .. ", " .. value(), "nil, " .. value(), value(), "nil, nil"}
  else a = chance(0.2) and "" or dim_expr(s and #s) end
  return ("%s:%s(%s)"):format(te, m, a), slot(), nil, "Tensor:" .. m
end)

gen(4, "reduce", function()
  local te = tensor_expr()
  local s = shape_src(te)
  local m = pick{"sum", "mean", "max"}
  local a = pick{"", dim_expr(s and #s), dim_expr(s and #s) .. ", true",
                 "nil, true", dim_expr(s and #s) .. ", 1"}
  return ("%s:%s(%s)"):format(te, m, a), slot(), slot(), "Tensor:" .. m
end)

gen(2, "index_select", function()
  local te = tensor_expr()
  local s = shape_src(te)
  local idx = {}
  for i = 1, R(0, 4) do idx[i] = chance(0.85) and small_int(1, 4) or special_number() end
  local ie = chance(0.6) and "{" .. table.concat(idx, ", ") .. "}" or tensor_expr()
  if chance(0.1) then tag("vary_len"); ie = ("H.vary_len(%s, {2, 1000})"):format(ie) end
  return ("%s:index_select(%s, %s)"):format(te, dim_expr(s and #s), ie), slot(), nil,
    "Tensor:index_select"
end)

gen(3, "cat", function()
  return ("lg.cat(%s%s)"):format(tensor_list(R(0, 4)), chance(0.6) and ", " .. dim_expr(3) or ""),
    slot(), nil, "lg.cat"
end)

-- in place: fill_, copy_, zero_, through detach aliases and views
gen(4, "inplace", function()
  tag("inplace")
  local te = tensor_expr(chance(0.05))
  if chance(0.4) then
    tag("detach")
    te = te .. ":detach()"
    if chance(0.5) then te = te .. (":view(-1)") end
  elseif chance(0.2) then
    te = te .. pick{":t()", ":narrow(1, 1, 1)", ":expand(2, 3)", ":transpose(1, -1)"}
  end
  local m = pick{"fill_", "copy_", "zero_"}
  local a = m == "fill_" and value() or m == "copy_" and (chance(0.7) and tensor_expr() or value()) or ""
  return ("%s:%s(%s)"):format(te, m, a), nil, nil, "Tensor:" .. m
end)

-- autograd
-- a small graph: ops on a leaf that requires grad, then backward or grad
gen(3, "graph", function()
  local x = graph_expr()
  local f = pick{"(%s * %s):sum()", "%s:exp():mean()", "%s:sigmoid():sum()", "lg.mse(%s, %s:detach())",
                 "%s:softmax():sum()", "(%s:relu() + 1):log():sum()", "%s:t():sum()", "%s:max()",
                 "%s:view(-1):sum()", "%s:expand(2, -1):sum()", "(%s ^ 2):mean()"}
  local y = f:gsub("%%s", "x")
  local tail = pick{"y:backward()", "y:backward{retain_graph = true}; y:backward()",
                    "return lg.grad(y, x, {create_graph = true})",
                    "local g = lg.grad(y, x, {create_graph = true}); (g * g):sum():backward()",
                    "x:detach():fill_(2); y:backward()", "x:detach():zero_(); return lg.grad(y, x)",
                    "H.close(x); y:backward()", "x.grad = nil; y:backward(); return x.grad"}
  if tail:match("detach") then tag("detach"); tag("inplace") end
  return ("(function() local x = %s; local y = %s; %s end)()"):format(x, y, tail), slot(), nil, "graph"
end)

gen(4, "requires_grad", function()
  local te = tensor_expr(chance(0.05))
  local r = R()
  if r < 0.6 then return ("(function() local t = %s; t.requires_grad = %s; return t end)()")
    :format(te, pick{"true", "true", "false", "1", "nil"}), slot(), nil, "Tensor.requires_grad" end
  if r < 0.8 then return ("%s:requires_grad_(%s)"):format(te, pick{"", "true", "false", "0"}),
    slot(), nil, "Tensor:requires_grad_" end
  tag("grad_assign")
  return ("(function() local t = %s; t.grad = %s; return t end)()"):format(te,
    pick{"nil", tensor_expr(), "1", "%s"}:gsub("%%s", te)), nil, nil, "Tensor.grad"
end)

gen(4, "backward", function()
  local te = graph_expr()
  local r = R()
  if r < 0.5 then return ("%s:sum():backward()"):format(te), nil, nil, "Tensor:backward" end
  if r < 0.8 then
    return ("%s:backward(%s)"):format(te, pick{"", tensor_expr(), "{retain_graph = true}",
      tensor_expr() .. ", " .. options_expr({"retain_graph"}, function() return pick{"true", "false", "1"} end, {te})}),
      nil, nil, "Tensor:backward"
  end
  local ins = chance(0.7) and graph_expr() or tensor_list(R(0, 3))
  return ("lg.grad(%s, %s, %s)"):format(chance(0.7) and te or tensor_list(R(0, 2)), ins,
    options_expr({"create_graph", "retain_graph", "grad_outputs"}, function(k)
      if k == "grad_outputs" then return chance(0.5) and tensor_expr() or tensor_list(R(0, 2)) end
      return pick{"true", "false", "1"}
    end, {te, ins})), slot(), nil, "lg.grad"
end)

gen(2, "grad_read", function()
  return ("%s.grad"):format(tensor_expr(true)), slot(), nil, "Tensor.grad"
end)

gen(1, "no_grad", function()
  local inner = gens[R(1, #gens)]
  if inner.name == "no_grad" then return "nil", nil, nil, "none" end
  local src, d, d2, name = inner.f()
  return ("lg.no_grad(function() return %s end)"):format(src), d, d2, name
end)

gen(1, "grad_mode", function()
  return ("lg.set_grad_enabled(%s)"):format(pick{"true", "true", "false", "1"}), nil, nil,
    "lg.set_grad_enabled"
end)

-- freeing: <close> and __gc, now or during a later call
gen(2, "close", function()
  tag("close")
  return ("H.close(%s)"):format(tensor_expr(true)), nil, nil, "H.close"
end)

gen(2, "gc", function()
  tag("gc_close")
  return ("H.gc(%s, %d)"):format(tensor_expr(), R(1, 3)), nil, nil, "H.gc"
end)

-- a call during which collector steps free its tensors (see H.with_storm);
-- the dedicated forms allocate a megabyte between checking a tensor and
-- using it, the generic one wraps any other call
gen(3, "storm", function()
  tag("gc_close")
  local x = tensor_expr()
  local r = R()
  local src, name
  if r < 0.25 then src, name = ("%s:index_select(1, %s)"):format(x, pick{"lg.ones(300000)", "H.ones(300000)"}), "Tensor:index_select"
  elseif r < 0.5 then src, name = ("lg.cross_entropy(%s, H.ones(300000))"):format(x), "lg.cross_entropy"
  elseif r < 0.6 then src, name = ("lg.clip_grad_norm_({%s, %s}, 1e-3)"):format(tensor_expr(), x), "lg.clip_grad_norm_"
  else
    local inner = gens[R(1, #gens)]
    if inner.name == "storm" or inner.name == "no_grad" then return "nil", nil, nil, "none" end
    local isrc, d, d2, iname = inner.f()
    local vs = {}
    for i in isrc:gmatch("P%[%d+%]") do vs[#vs + 1] = i end
    return ("H.with_storm({%s}, function() return %s end)"):format(table.concat(vs, ", "), isrc), d, d2, iname
  end
  return ("H.with_storm({%s}, function() return %s end)"):format(x, src), slot(), nil, name
end)

gen(1, "collect", function()
  return pick{"collectgarbage()", "collectgarbage('step', 100)"}, nil, nil, "collectgarbage"
end)

-- metamethods and properties
gen(3, "meta", function()
  local te = tensor_expr(chance(0.1))
  local m = pick{"#%s", "tostring(%s)", "-%s", "%s.shape", "%s.ndim", "%s.is_leaf",
                 "%s.grad_fn", "%s[1]", "%s.bogus", "(function() %s.bogus = 1 end)()",
                 "%s == %s", "getmetatable(%s).__close(%s)", "getmetatable(%s).__gc(%s)"}
  return (m:gsub("%%s", te)), nil, nil, "Tensor:" .. (m:match("__(%w+)") or m:match("%.(%w+)") or m:match("^(%w+)") or m:sub(1, 2))
end)

-- layers with option tables
local function conv_opt_value(k)
  local r = R()
  if r < 0.7 then return small_int(k == "stride" and 1 or 0, 3) end
  if r < 0.85 then return ("{%s, %s}"):format(small_int(0, 3), small_int(0, 3)) end
  return pick{special_number(), "-1", "0", "{1}", "{1, 2, 3}", "{'a', 1}", "1.5"}
end

gen(4, "conv", function()
  local tr = chance(0.4)
  local n, c, h, w = R(0, 3), R(1, 4), R(0, 9), R(0, 9)
  local co, kh, kw = R(1, 4), R(1, 4), R(1, 4)
  local x = chance(0.7) and ("lg.randn(%d, %d, %d, %d)"):format(n, c, h, w) or tensor_expr()
  local wt = tr and ("lg.randn(%d, %d, %d, %d)"):format(c, co, kh, kw)
                or ("lg.randn(%d, %d, %d, %d)"):format(co, c, kh, kw)
  if chance(0.2) then wt = tensor_expr() end
  if chance(0.3) then x = ("(function() local t = %s; t.requires_grad = true; return t end)()"):format(x) end
  local b = pick{"nil", ("lg.randn(%d)"):format(co), tensor_expr()}
  local valid = tr and {"stride", "padding", "output_padding"} or {"stride", "padding"}
  local fn = tr and "conv_transpose2d" or "conv2d"
  return ("lg.%s(%s, %s, %s, %s)"):format(fn, x, wt, b, options_expr(valid, conv_opt_value, {x, wt, b})),
    slot(), nil, "lg." .. fn
end)

gen(3, "pool", function()
  local fn = pick{"avg_pool2d", "max_pool2d"}
  local x = chance(0.7) and fresh(4, chance(0.1)) or tensor_expr()
  local k = chance(0.85) and small_int(1, 4) or special_number()
  return ("lg.%s(%s, %s, %s)"):format(fn, x, k, options_expr({"stride", "padding"}, conv_opt_value, {x})),
    slot(), nil, "lg." .. fn
end)

gen(2, "upsample", function()
  local x = chance(0.6) and fresh(4) or tensor_expr()
  local s = chance(0.85) and small_int(1, 4) or pick{"0", "-1", "4096", "4097", "1.5", "2^31"}
  -- the output is numel * s^2: keep it bounded
  local xs = shape_src(x)
  local sv = tonumber(load("return " .. s)())
  if xs and sv and sv >= 1 and numel_of(xs) * sv * sv > MAX_NUMEL then s = "2" end
  return ("lg.upsample_nearest(%s, %s)"):format(x, s), slot(), nil, "lg.upsample_nearest"
end)

gen(2, "batch_norm", function()
  local c = R(1, 4)
  local x = chance(0.7) and ("lg.randn(%d, %d%s)"):format(R(0, 4), c, pick{"", ", 3", ", 2, 2"}) or tensor_expr()
  local v = function() return pick{("lg.randn(%d)"):format(c), ("lg.ones(%d)"):format(c), "nil",
                                   tensor_expr(), ("lg.randn(%d)"):format(c + 1)} end
  return ("lg.batch_norm(%s, %s, %s, %s, %s, %s, %s, %s)"):format(x, v(), v(), v(), v(),
    pick{"true", "false", "nil", "1"}, pick{"nil", value()}, pick{"nil", value(), "0", "-1"}),
    slot(), nil, "lg.batch_norm"
end)

gen(2, "dropout", function()
  return ("lg.dropout(%s, %s, %s)"):format(tensor_expr(), pick{"0", "0.5", "1", value()},
    pick{"nil", "true", "false", "1"}), slot(), nil, "lg.dropout"
end)

gen(3, "loss", function()
  local fn = pick{"bce_with_logits", "mse", "l1", "cross_entropy", "linear"}
  local a = tensor_expr()
  local b
  if fn == "cross_entropy" then
    local l = {}
    for i = 1, R(0, 4) do l[i] = chance(0.9) and small_int(0, 4) or special_number() end
    b = chance(0.6) and "{" .. table.concat(l, ", ") .. "}" or tensor_expr()
    if chance(0.3) then a = ("lg.randn(%d, %d)"):format(#l, R(1, 4)) end
  elseif fn == "linear" then
    b = tensor_expr() .. ", " .. pick{"nil", tensor_expr()}
  else
    b = chance(0.3) and value() or tensor_expr()
  end
  return ("lg.%s(%s, %s)"):format(fn, a, b), slot(), nil, "lg." .. fn
end)

-- optimizer kernels
gen(2, "optim_kernel", function()
  local fn = pick{"sgd_step", "adam_step", "rmsprop_step", "clip_", "clip_grad_norm_"}
  local a
  if fn == "clip_" then a = ("%s, %s, %s"):format(chance(0.5) and tensor_expr() or tensor_list(R(0, 3)), value(), value())
  elseif fn == "clip_grad_norm_" then a = ("%s, %s"):format(chance(0.3) and tensor_expr() or tensor_list(R(0, 3)), value())
  else
    local t = tensor_expr()
    local parts = {t, tensor_expr(), tensor_expr()}
    local k = fn == "sgd_step" and 6 or fn == "adam_step" and 7 or 8
    for _ = 1, k do parts[#parts + 1] = chance(0.7) and value() or pick{"nil", "true", tensor_expr()} end
    a = table.concat(parts, ", ")
  end
  return ("lg.%s(%s)"):format(fn, a), slot(), nil, "lg." .. fn
end)

-- image
gen(2, "image", function()
  local r = R()
  if r < 0.5 then
    local x = chance(0.6) and fresh(4) or tensor_expr()
    return ("lg.image.grid(%s, %s)"):format(x, options_expr({"nrow", "padding", "pad_value"}, function(k)
      if k == "pad_value" then return value() end
      return chance(0.8) and small_int(0, 5) or special_number()
    end, {x})), slot(), nil, "lg.image.grid"
  elseif r < 0.85 then
    local x = chance(0.6) and fresh(R(2, 4)) or tensor_expr()
    local h = chance(0.85) and small_int(1, 40) or special_number()
    local w = chance(0.85) and small_int(1, 40) or special_number()
    return ("lg.image.resize(%s, %s, %s)"):format(x, h, w), slot(), nil, "lg.image.resize"
  end
  local f = ("D .. '/i%d.png'"):format(R(1, 3))
  if chance(0.5) then return ("lg.image.save(%s, %s)"):format(f, tensor_expr()), nil, nil, "lg.image.save" end
  return ("lg.image.load(%s)"):format(f), slot(), nil, "lg.image.load"
end)

-- checkpoints
gen(2, "saveload", function()
  local f = ("D .. '/c%d.safetensors'"):format(R(1, 3))
  local r = R()
  if r < 0.45 then
    local parts = {}
    for i = 1, R(0, 3) do parts[i] = ("[%s] = %s"):format(pick{"'a'", "'b'", "'w.x'", "''", "1", "'a'"}, tensor_expr(chance(0.05))) end
    local ts = "{" .. table.concat(parts, ", ") .. "}"
    if chance(0.2) then
      local ms = table_slots()
      if #ms > 0 then ts = ("P[%d]"):format(pick(ms)) end
    end
    local meta = pick{"nil", "{iter = '100'}", "{x = 1.5, y = 2}", "{[1] = 'a'}", "{k = {}}", "7"}
    return ("lg.save(%s, %s, %s)"):format(f, ts, meta), nil, nil, "lg.save"
  elseif r < 0.85 then
    return ("lg.load(%s)"):format(f), slot(), slot(), "lg.load"
  end
  -- a damaged file: truncated or with flipped bytes
  local pos, byte = R(0, 200), R(0, 255)
  return ("(function() local h = io.open(%s, 'rb'); if not h then return end; local s = h:read('a'); h:close(); "
    .. "s = %s; h = io.open(%s, 'wb'); h:write(s); h:close() end)()"):format(f,
    chance(0.5) and ("s:sub(1, %d)"):format(pos) or ("s:sub(1, %d) .. string.char(%d) .. s:sub(%d)"):format(pos, byte, pos + 2), f),
    nil, nil, "damage"
end)

-- nn modules
local function nn_ctor()
  local r = R()
  local function int(lo, hi) return chance(0.9) and small_int(lo, hi) or special_number() end
  local function opts(valid) return chance(0.5) and "" or ", " .. options_expr(valid, function(k)
    if k == "bias" or k == "affine" or k == "track_running_stats" then return pick{"true", "false", "1"} end
    if k == "eps" or k == "momentum" then return value() end
    return conv_opt_value(k)
  end) end
  if r < 0.25 then return ("nn.Linear(%s, %s%s)"):format(int(1, 8), int(1, 8), opts{"bias"}), "nn.Linear" end
  if r < 0.4 then return ("nn.Conv2d(%s, %s, %s%s)"):format(int(1, 4), int(1, 4), int(1, 4), opts{"stride", "padding", "bias"}), "nn.Conv2d" end
  if r < 0.5 then return ("nn.ConvTranspose2d(%s, %s, %s%s)"):format(int(1, 4), int(1, 4), int(1, 4), opts{"stride", "padding", "output_padding", "bias"}), "nn.ConvTranspose2d" end
  if r < 0.6 then return ("nn.%s(%s%s)"):format(pick{"BatchNorm1d", "BatchNorm2d"}, int(1, 4), opts{"eps", "momentum", "affine", "track_running_stats"}), "nn.BatchNorm" end
  if r < 0.8 then return ("nn.%s(%s)"):format(pick{"ReLU", "Tanh", "Sigmoid", "Softplus", "Identity", "LeakyReLU", "Dropout", "Flatten", "Upsample", "Reshape"},
    pick{"", small_int(1, 3), value(), small_int(1, 3) .. ", " .. small_int(1, 3)}), "nn.act" end
  local parts = {}
  for i = 1, R(0, 3) do
    local ms = module_slots()
    parts[i] = (#ms > 0 and chance(0.5)) and ("P[%d]"):format(pick(ms)) or (nn_ctor())
  end
  return ("nn.Sequential(%s)"):format(table.concat(parts, ", ")), "nn.Sequential"
end

gen(4, "nn_new", function()
  local src, name = nn_ctor()
  return src, slot(), nil, name
end)

local MODULE_METHODS = {"forward", "forward", "forward", "parameters", "named_parameters",
                        "state_dict", "load_state_dict", "train", "eval", "zero_grad",
                        "num_parameters", "tostring", "apply", "modules"}
gen(5, "nn_use", function()
  local ms = module_slots()
  if #ms == 0 then return (nn_ctor()), slot(), nil, "nn" end
  local m = ("P[%d]"):format(pick(ms))
  local k = pick(MODULE_METHODS)
  if k == "forward" then
    local x = chance(0.5) and tensor_expr() or fresh(R(1, 4))
    return ("%s(%s)"):format(m, x), slot(), nil, "nn:forward"
  elseif k == "tostring" then return ("tostring(%s)"):format(m), nil, nil, "nn:tostring"
  elseif k == "load_state_dict" then
    local src = pick{("%s:state_dict()"):format(m), "P[" .. slot() .. "]", "{}",
                     ("{weight = %s}"):format(tensor_expr()), tensor_list(2)}
    return ("%s:load_state_dict(%s%s)"):format(m, src, pick{"", ", false", ", true"}), nil, nil, "nn:load_state_dict"
  elseif k == "apply" then
    return ("%s:apply(%s)"):format(m, pick{"nn.init.dcgan", "function(x) H.close(x.weight) end", "tostring"}), nil, nil, "nn:apply"
  end
  return ("%s:%s(%s)"):format(m, k, k == "train" and pick{"", "false", "true", "1"} or ""), slot(), nil, "nn:" .. k
end)

gen(1, "nn_init", function()
  local fn = pick{"uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
                  "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"}
  return ("nn.init.%s(%s, %s, %s)"):format(fn, tensor_expr(), value(), value()), nil, nil, "nn.init." .. fn
end)

gen(3, "optim", function()
  local os_ = optim_slots()
  if #os_ > 0 and chance(0.7) then
    local o = ("P[%d]"):format(pick(os_))
    local k = pick{"step", "step", "zero_grad", "state_dict", "load_state_dict"}
    if k == "load_state_dict" then
      return ("%s:load_state_dict(%s)"):format(o, pick{o .. ":state_dict()", "{}", "P[" .. slot() .. "]"}), nil, nil, "optim:load_state_dict"
    end
    return ("%s:%s()"):format(o, k), slot(), nil, "optim:" .. k
  end
  local ms = module_slots()
  local params = (#ms > 0 and chance(0.6)) and ("P[%d]:parameters()"):format(pick(ms)) or tensor_list(R(0, 3))
  local fn = pick{"SGD", "Adam", "RMSprop"}
  local valid = ({SGD = {"lr", "momentum", "dampening", "weight_decay", "nesterov"},
                  Adam = {"lr", "betas", "eps", "weight_decay"},
                  RMSprop = {"lr", "alpha", "eps", "weight_decay", "momentum", "centered"}})[fn]
  return ("optim.%s(%s, %s)"):format(fn, params, options_expr(valid, function(k)
      if k == "betas" then return ("{%s, %s}"):format(value(), value()) end
      if k == "centered" or k == "nesterov" then return pick{"true", "false"} end
      return value()
    end)), slot(), nil, "optim." .. fn
end)

gen(1, "rng", function()
  local r = R()
  if r < 0.3 then return ("lg.manual_seed(%s)"):format(chance(0.8) and small_int(0, 100) or special_number()), nil, nil, "lg.manual_seed" end
  if r < 0.6 then return ("lg.randperm(%s)"):format(chance(0.8) and small_int(0, 50) or special_number()), slot(), nil, "lg.randperm" end
  if r < 0.8 then return "lg.set_rng_state(lg.get_rng_state())", nil, nil, "lg.set_rng_state" end
  return ("lg.set_rng_state{%s, %s, %s, %s, %s}"):format(small_int(0, 2), small_int(0, 2), special_number(),
    small_int(0, 2), pick{"0", "1", "0.5"}), nil, nil, "lg.set_rng_state"
end)

gen(1, "threads", function()
  return ("lg.set_num_threads(%s)"):format(pick{"1", "2", "0", "-1", "1025", "2^40", "0/0"}), nil, nil, "lg.set_num_threads"
end)

-- every function of lg and every Tensor method, by enumeration, with generic arguments
local CREATORS = {zeros = true, ones = true, rand = true, randn = true, full = true,
                  arange = true, randperm = true, tensor = true}
local ENUM = {}
do
  local skip = {clock = true, memory = true, get_num_threads = true, set_num_threads = true,
                no_grad = true, read_idx = true, load = true, save = true}
  for k, v in pairs(lg) do
    if type(v) == "function" and not skip[k] then ENUM[#ENUM + 1] = "lg." .. k end
  end
  local idx = getmetatable(lg.zeros(1)).__index
  local methods = type(idx) == "table" and idx or select(2, debug.getupvalue(idx, 2))
  if type(methods) == "table" then
    for k, v in pairs(methods) do
      if type(v) == "function" then ENUM[#ENUM + 1] = "Tensor:" .. k end
    end
  end
  for _, k in ipairs{"grid", "resize"} do ENUM[#ENUM + 1] = "lg.image." .. k end
  table.sort(ENUM)
end

gen(6, "enum", function()
  local name = pick(ENUM)
  local n = R(0, 4)
  if name:match("^Tensor:") then
    return ("%s:%s(%s)"):format(tensor_expr(chance(0.05)), name:sub(8), args_of(n)), slot(), nil, name
  end
  if name:match("^lg%.[%a_]+$") and CREATORS[name:sub(4)] then
    -- generic sizes could ask for gigabytes: small ones here, huge ones in "create"
    local a = {}
    for i = 1, n do a[i] = chance(0.8) and small_int(-2, 6) or any_arg() end
    for i = 1, n do if a[i]:match("^lg%.randn") == nil and predicted_numel({a[i]}) and predicted_numel({a[i]}) > 64 then a[i] = "2" end end
    return ("%s(%s)"):format(name, table.concat(a, ", ")), slot(), nil, name
  end
  return ("%s(%s)"):format(name, args_of(n)), slot(), nil, name
end)

local total_weight = 0
for _, g in ipairs(gens) do total_weight = total_weight + g.weight end

local function pick_gen()
  local r = R() * total_weight
  for _, g in ipairs(gens) do
    r = r - g.weight
    if r <= 0 then return g end
  end
  return gens[#gens]
end

-- }======================================================

-- {====================================================== the run

local function name_matches(name, fn)
  if fn == nil then return true end
  if type(fn) == "string" then return name:match(fn) ~= nil end
  for _, f in ipairs(fn) do if name:match(f) then return true end end
  return false
end

local function known(name)
  for t in (opt.skip or ""):gmatch("[^,]+") do
    if tags[t] or name == t then return {why = "--skip " .. t} end
  end
  if not opt.skip_known then return nil end
  for _, k in ipairs(KNOWN) do
    if name_matches(name, k.fn) and (not k.tag or tags[k.tag]) then return k end
  end
  return nil
end

-- Tags the call "nonfinite" when a pool tensor it names holds NaN or Inf
-- (or sums to Inf), and "big" when one has more than MAX_NUMEL elements.
local function scan_args(src)
  for i in src:gmatch("P%[(%d+)%]") do
    local v = P[tonumber(i)]
    local s = shape_of(v)
    if s and numel_of(s) > MAX_NUMEL then tag("big")
    elseif s then
      local ok, sum = pcall(lg.no_grad, function() return v:abs():sum():item() end)
      if ok and not (sum < math.huge) then tag("nonfinite") end
    end
  end
end

local logf = opt.log and assert(io.open(opt.log, "w"))
local function log(line)
  if logf then
    logf:write(line, "\n")
    logf:flush()
  end
end

local function compile(line)
  return load(line, "=call", "t", E)
end

print(("lua_api fuzz: seed %d%s"):format(seed, opt.skip_known and " (skipping known crash classes)" or ""))
io.stdout:flush()
log(("-- lua_api fuzz, seed %d: replay with luagan tests/fuzz/lua_api.lua --replay THIS_FILE"):format(seed))

local t_start = lg.clock()
local round = 0
local n = 0
while n < opt.iters do
  if opt.seconds and lg.clock() - t_start > opt.seconds then break end
  if n % opt.round == 0 or lg.memory().live > MAX_LIVE then
    round = round + 1
    local line = ("RESET(%d)"):format(seed * 1000 + round)
    log(line)
    E.RESET(seed * 1000 + round)
  end
  n = n + 1
  tags = {}
  local g = pick_gen()
  local ok, src, dest, dest2, name, big_ok = pcall(g.f)
  if not ok then
    io.stderr:write(("lua_api: generator %s failed: %s\n"):format(g.name, tostring(src)))
    os.exit(3)
  end
  scan_args(src)
  if not big_ok and tags.big then
    nskipped = nskipped + 1
  elseif known(name) then
    nskipped = nskipped + 1
  else
    local line = ("X(%d, %s, %s, function() return %s end)"):format(n, tostring(dest), tostring(dest2), src)
    local chunk, err = compile(line)
    if not chunk then
      io.stderr:write(("lua_api: generated a bad line (%s): %s\n"):format(err, line))
      os.exit(3)
    end
    log(line)
    if opt.trace then io.stderr:write(line, "\n") end
    chunk()
  end
end

if not opt.quiet then
  print(("lua_api fuzz: seed %d, %d calls in %.1f s, %d raised a Lua error, %d skipped, %d slow; last error: %s")
    :format(seed, ncalls, lg.clock() - t_start, nerrors, nskipped, nslow,
            tostring(last_error):sub(1, 120)))
end
if logf then logf:close() end
cleanup()
H.closing = true
os.exit(0, true)
-- }======================================================
