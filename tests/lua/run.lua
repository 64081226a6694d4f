-- Runs every tests/lua/test_*.lua under luagan.  A test file calls
-- test(name, fn); fn fails by raising an error.  Helpers: eq, near,
-- raises (checks the error message).  Prints "N passed, N failed".
local passed, failed = 0, 0
local current_file

function test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write(("FAIL %s: %s\n%s\n"):format(current_file, name, err))
  end
end

-- eq(a, b, msg): equality of numbers, strings, booleans or nested tables.
local function deep_eq(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deep_eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function show(v)
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for i, x in ipairs(v) do parts[i] = show(x) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function eq(a, b, msg)
  if not deep_eq(a, b) then
    error(("%s: expected %s, got %s"):format(msg or "eq", show(b), show(a)), 2)
  end
end

-- near(a, b, tol): numbers or nested tables of numbers within tol (default 1e-5, relative above 1).
function near(a, b, tol, msg)
  tol = tol or 1e-5
  local function walk(x, y)
    if type(x) == "table" then
      if type(y) ~= "table" or #x ~= #y then return false end
      for i = 1, #x do if not walk(x[i], y[i]) then return false end end
      return true
    end
    return type(x) == "number" and type(y) == "number" and
           math.abs(x - y) <= tol * math.max(1, math.abs(y))
  end
  if not walk(a, b) then
    error(("%s: expected %s, got %s (tol %g)"):format(msg or "near", show(b), show(a), tol), 2)
  end
end

-- raises(fn, pattern): fn must raise an error whose message contains pattern (plain text).
function raises(fn, pattern)
  local ok, err = pcall(fn)
  if ok then error(("expected an error containing %q, got none"):format(pattern), 2) end
  err = tostring(err)
  if not err:find(pattern, 1, true) then
    error(("expected an error containing %q, got %q"):format(pattern, err), 2)
  end
  return err
end

-- gradcheck_leaf(f, t [, tol] [, h]): lg.grad(f(), t) against central differences
-- (f(t + h e_i) - f(t - h e_i)) / 2h for every element of the leaf t; f returns a
-- 0-dim tensor.  float32 values: h = 1e-2 keeps roundoff near 1e-4 of |f|.
function gradcheck_leaf(f, t, tol, h)
  local lg = require "luagan"
  h, tol = h or 1e-2, tol or 2e-3
  local analytic = lg.grad(f(), t):reshape(-1):totable()
  local v = t:view(-1)
  for i = 1, #analytic do
    local cell = v:narrow(1, i, 1)
    local x0 = cell:item()
    lg.no_grad(function() cell:fill_(x0 + h) end)
    local fp = f():item()
    lg.no_grad(function() cell:fill_(x0 - h) end)
    local fm = f():item()
    lg.no_grad(function() cell:fill_(x0) end)
    local numeric = (fp - fm) / (2 * h)
    if math.abs(numeric - analytic[i]) > tol * math.max(1, math.abs(numeric)) then
      error(("gradcheck: element %d: analytic %.6g, central difference %.6g"):format(i,
        analytic[i], numeric), 2)
    end
  end
end

-- weighted(y [, seed]): sum(y * c) with fixed random c (seed 99), so that every
-- output element counts differently (plain sums vanish under normalisation);
-- the global generator's state is left as it was.
function weighted(y, seed)
  local lg = require "luagan"
  local state = lg.get_rng_state()
  lg.manual_seed(seed or 99)
  local c = lg.randn(y.shape)
  lg.set_rng_state(state)
  return (y * c):sum()
end

-- {---------------------------------------------------------- files and processes
-- Globals for tests that write files or run luagan in a child process.

function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function cwd()
  local p = io.popen("pwd")
  local d = p:read("l")
  p:close()
  return d
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return cwd() .. "/" .. path
end

-- the luagan running these tests (the lowest arg index), as an absolute path
-- since children may run in another directory
LUAGAN = (function()
  local i = -1
  while arg[i - 1] do i = i - 1 end
  local e = arg[i] or "luagan"
  return e:find("/", 1, true) and absolute(e) or e
end)()

-- the source tree: this file is <ROOT>/tests/lua/run.lua
ROOT = absolute((arg and arg[0] or "tests/lua/run.lua"):match("^(.*)/tests/lua/[^/]*$") or ".")

-- the contents of a file, or nil when it cannot be read
function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- runs experiments/<script> under luagan in directory cwd with a string of
-- flags; returns the exit code and stdout (kept in logdir/stdout.txt, stderr
-- appended to logdir/stderr.txt; logdir defaults to cwd)
function run_experiment(cwd, script, flags, logdir)
  logdir = logdir or cwd
  local out = logdir .. "/stdout.txt"
  local cmd = ("cd %s && %s %s %s >%s 2>>%s"):format(sh_quote(cwd), sh_quote(LUAGAN),
    sh_quote(ROOT .. "/experiments/" .. script), flags, sh_quote(out), sh_quote(logdir .. "/stderr.txt"))
  local ok, _, code = os.execute(cmd)
  return ok and 0 or code, read_file(out) or ""
end

-- a function run(flags) that runs experiments/<script> --threads 1 <flags>
-- from ROOT, each call with its own log directory under dir; it returns the
-- exit code, stdout and stderr of that call
function experiment_runner(script, dir)
  local calls = 0
  return function(flags)
    calls = calls + 1
    local logdir = ("%s/log%d"):format(dir, calls)
    os.execute("mkdir -p " .. sh_quote(logdir))
    local code, out = run_experiment(ROOT, script, "--threads 1 " .. flags, logdir)
    return code, out, read_file(logdir .. "/stderr.txt") or ""
  end
end

-- a CSV file with a header line (metrics.csv) -> rows {column = number or
-- nil}, the header's column names
function read_csv(path)
  local text = assert(read_file(path), "missing " .. path)
  local rows, header = {}, nil
  for line in text:gmatch("[^\n]+") do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then header = cells
    else
      local r = {}
      for i, k in ipairs(header) do r[k] = tonumber(cells[i]) end
      rows[#rows + 1] = r
    end
  end
  return rows, header
end

function finite(v) return type(v) == "number" and v == v and v > -math.huge and v < math.huge end

-- Whether the stock lua5.4 can load the luagan.so at path: true, or false and
-- why.  An ASan build cannot be (the sanitizer's runtime must come first).
function stock_lua_can_load(so)
  if not os.execute("command -v lua5.4 >/dev/null 2>&1") then return false, "lua5.4 missing" end
  local f = io.open(so, "rb")
  if not f then return false, so .. " missing" end
  f:close()
  local p = io.popen("ldd " .. sh_quote(so) .. " 2>&1")
  local deps = p:read("a")
  p:close()
  if deps:find("libasan", 1, true) then return false, "sanitizer build" end
  return true
end

-- a new empty directory
function temp_dir()
  local d = os.tmpname()
  os.remove(d)
  os.execute("mkdir -p " .. sh_quote(d))
  return d
end

-- }----------------------------------------------------------

local dir = (arg and arg[0] or "tests/lua/run.lua"):match("(.*/)") or "./"
local files = {}
local p = io.popen('ls "' .. dir .. '"')
for f in p:lines() do
  if f:match("^test_.*%.lua$") and (not arg[1] or f:find(arg[1], 1, true)) then
    files[#files + 1] = f
  end
end
p:close()
table.sort(files)
for _, f in ipairs(files) do
  current_file = f
  local chunk, err = loadfile(dir .. f)
  if not chunk then
    failed = failed + 1
    io.stderr:write("FAIL loading " .. f .. ": " .. err .. "\n")
  else
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then
      failed = failed + 1
      io.stderr:write("FAIL running " .. f .. ": " .. e .. "\n")
    end
  end
end
print(("lua: %d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
