-- The luagan executable (lua/main.c): arguments, -e, errors and exit codes,
-- the REPL driven through a pipe, -i, and Ctrl-C (SIGINT) in the REPL.
-- The executable under test: $LUAGAN_BIN, else the interpreter running these
-- tests (the lowest index of arg), else build/luagan.

local function interpreter()
  local i = -1
  while arg and arg[i - 1] ~= nil do i = i - 1 end
  return arg and arg[i]
end
local BIN = os.getenv("LUAGAN_BIN") or interpreter() or "build/luagan"

local function q(s)  -- shell quoting
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- run(args, stdin) -> stdout, stderr, exit code.  args is shell text.
local function run(args, input, env)
  local errf, inf = os.tmpname(), os.tmpname()
  spit(inf, input or "")
  local p = io.popen(("%s%s %s <%s 2>%s"):format(env and env .. " " or "", q(BIN),
                                                args, q(inf), q(errf)))
  local out = p:read("a")
  local _, _, code = p:close()
  local err = slurp(errf)
  os.remove(errf)
  os.remove(inf)
  return out, err, code
end

-- A script file with the given source; returns its path.
local function script(src)
  local path = os.tmpname()
  spit(path, src)
  return path
end

local function has(s, part, msg)
  if not s:find(part, 1, true) then
    error(("%s: %q not found in %q"):format(msg or "has", part, s), 2)
  end
end

test("script gets arg and ... as lua5.4 builds them", function()
  local s = script([[
print(arg[0], #arg, arg[1], arg[2])
print(arg[-1], arg[-2], arg[-3] ~= nil, arg[-4])
print(select("#", ...), ...)
]])
  local out, err, code = run("-e 'x = 1' " .. q(s) .. " a 'b c'")
  os.remove(s)
  eq(code, 0, err)
  eq(out, ("%s\t2\ta\tb c\nx = 1\t-e\ttrue\tnil\n2\ta\tb c\n"):format(s))
end)

test("-- ends the options; the script keeps its arguments", function()
  local s = script("print(arg[0] == ..., ..., arg[1], arg[-1])")
  local out, _, code = run("-- " .. q(s) .. " -x")
  os.remove(s)
  eq(code, 0)
  eq(out, "false\t-x\t-x\t--\n")
end)

test("- runs stdin as a script with arguments", function()
  local out, _, code = run("- a b", "print(arg[0], ...)\n")
  eq(code, 0)
  eq(out, "-\ta\tb\n")
end)

test("-e chunks run in order, before the script", function()
  local s = script("io.write(v, '\\n')")
  local out, _, code = run("-e 'v = 1' -e 'v = v * 10' -e 'io.write(v, \",\")' " .. q(s))
  os.remove(s)
  eq(code, 0)
  eq(out, "10,10\n")
end)

test("an error exits 1 with the message and a traceback", function()
  local s = script("local t = {}\nlocal function f() error('boom') end\nf()\n")
  local out, err, code = run(q(s) .. " arg1")
  os.remove(s)
  eq(code, 1)
  eq(out, "")
  has(err, "luagan: " .. s .. ":2: boom\nstack traceback:")
  has(err, s .. ":3: in main chunk")
end)

test("errors in -e, syntax errors, missing files and non-string errors exit 1", function()
  local _, err, code = run("-e 'error(\"e1\")'")
  eq(code, 1); has(err, "luagan: (command line):1: e1")
  _, err, code = run("-e 'x = = 1'")
  eq(code, 1); has(err, "unexpected symbol")
  _, err, code = run("/nonexistent/script.lua")
  eq(code, 1); has(err, "cannot open /nonexistent/script.lua")
  _, err, code = run("-e 'error({})'")
  eq(code, 1); has(err, "(error object is a table value)")
end)

test("os.exit status passes through", function()
  local _, _, code = run("-e 'os.exit(3)'")
  eq(code, 3)
end)

test("-v, -h and bad options", function()
  local out, _, code = run("-v")
  eq(code, 0); has(out, "luagan "); has(out, "Lua 5.4")
  out, _, code = run("-h")
  eq(code, 0); has(out, "usage: luagan")
  out, _, code = run("--help")
  eq(code, 0); has(out, "usage: luagan")
  local err
  out, err, code = run("-z")
  eq(code, 1); eq(out, ""); has(err, "unrecognized option '-z'"); has(err, "usage:")
  _, err, code = run("-e")
  eq(code, 1); has(err, "'-e' needs argument")
end)

test("lg is preloaded as the luagan module; package.path reaches lua/", function()
  local out, _, code = run([[-e 'print(lg == require "luagan", type(lg))' ]] ..
                           [[-e 'print(package.path:find("/lua/?.lua;", 1, true) ~= nil)']])
  eq(code, 0)
  eq(out, "true\ttable\ntrue\n")
end)

test("require finds modules beside the script, from any working directory", function()
  local dir = temp_dir()
  os.execute("mkdir -p " .. q(dir .. "/lib"))
  spit(dir .. "/lib/helper.lua", "return {answer = 42}")
  spit(dir .. "/main.lua", "print(require('lib.helper').answer)")
  local out, err, code = run(q(dir .. "/main.lua"))
  eq(code, 0, err); eq(out, "42\n")
  -- a bare file name: the script's directory is the working directory
  local bin = BIN:sub(1, 1) == "/" and BIN or os.getenv("PWD") .. "/" .. BIN
  local p = io.popen("cd " .. q(dir) .. " && " .. q(bin) .. " main.lua 2>&1")
  eq(p:read("a"), "42\n")
  eq(select(3, p:close()), 0)
  -- without a script nothing is added: the helper is not found
  out, err, code = run([[-e 'print(pcall(require, "lib.helper"))']])
  eq(code, 0, err); has(out, "false")
end)

test("nn and optim are globals exactly when their modules load", function()
  local out, err, code = run([[-e 'for _, m in ipairs{"nn", "optim"} do
      local ok, mod = pcall(require, "luagan." .. m)
      print(m, (ok and _G[m] == mod and lg[m] == mod) or (not ok and _G[m] == nil)) end']])
  eq(code, 0, err)
  eq(out, "nn\ttrue\noptim\ttrue\n")
end)

test("LUA_INIT runs first; -E ignores it", function()
  local out = run("-e 'print(z_init)'", nil, "LUA_INIT='z_init = 5'")
  eq(out, "5\n")
  out = run("-E -e 'print(z_init)'", nil, "LUA_INIT='z_init = 5'")
  eq(out, "nil\n")
end)

test("REPL through a pipe prints expression values", function()
  local out, err, code = run("", "x = 1 + 1\nx\n")
  eq(code, 0, err)
  eq(out, "2\n")
  out = run("", '1, "a", nil\n=2*3\n')
  eq(out, "1\ta\tnil\n6\n")
end)

test("REPL: _ holds the last value", function()
  local out = run("", "6 * 7\n_ + 1\n")
  eq(out, "42\n43\n")
end)

test("REPL prints a tensor through tostring", function()
  local out, err = run("", "lg.zeros(7, 5)\n")
  eq(err, "")
  has(out, "7")
  has(out, "5")
  local direct = run("-e 'print(tostring(lg.zeros(7, 5)))'")
  eq(out, direct)
end)

test("REPL: an error is reported and the next line runs", function()
  local out, err, code = run("", 'error("boom")\nprint("next")\nlocal y = nil + 1\nprint("last")\n')
  eq(code, 0)
  eq(out, "next\nlast\n")
  has(err, "stdin:1: boom\nstack traceback:")
  has(err, "attempt to perform arithmetic on a nil value")
end)

test("REPL: a syntax error is reported and the next line runs", function()
  local out, err = run("", "x = = 1\nprint('ok')\n")
  eq(out, "ok\n")
  has(err, "unexpected symbol")
end)

test("REPL: a multi-line for loop", function()
  local out, err = run("", "t = {}\nfor i = 1, 3 do\n  t[#t + 1] = i * i\nend\n" ..
                           "print(table.concat(t, ','))\nfunction f(a,\n b)\n return a + b\nend\nf(2, 3)\n")
  eq(err, "")
  eq(out, "1,4,9\n5\n")
end)

test("REPL: an unfinished statement at end of input is reported", function()
  local out, err, code = run("", "for i = 1, 2 do\n")
  eq(code, 0)
  eq(out, "")
  has(err, "'end' expected")
end)

test("-i after a script keeps its globals", function()
  local s = script("y = 42\nlocal hidden = 1\n")
  local out, err, code = run("-i " .. q(s), "y + 1\nhidden\n")
  os.remove(s)
  eq(code, 0, err)
  eq(out, "43\nnil\n")
end)

test("-e without a script runs no REPL; -i after -e does", function()
  local out = run("-e 'x = 5'", "print('repl')\n")
  eq(out, "")
  out = run("-e 'x = 5' -i", "x\n")
  eq(out, "5\n")
end)

-- SIGINT to a REPL reading a pipe, while a line runs an endless loop: the
-- loop stops with "interrupted!" and the next line still runs.  The line
-- creates a file when it starts, so the signal is sent only once the loop runs.
test("Ctrl-C (SIGINT) interrupts a long computation in the REPL", function()
  local ready, pidf, outf, errf = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
  os.remove(ready)
  local sh = script(([[
{ printf '%%s\n' 'n = 0; io.open(%q, "w"):close(); while true do n = n + 1 end'
  i=0
  while [ ! -e %s ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
  sleep 0.2
  kill -INT "$(cat %s)"
  sleep 0.2
  printf '%%s\n' 'print("after", n > 0)'
} | sh -c 'echo $$ > %s; exec %s' >%s 2>%s
]]):format(ready, q(ready), q(pidf), q(pidf), q(BIN), q(outf), q(errf)))
  -- the timeout kills everything if the interrupt did not work
  local ok = os.execute("timeout -s KILL 30 sh " .. q(sh))
  local out, err = slurp(outf), slurp(errf)
  for _, f in ipairs{ready, pidf, outf, errf, sh} do os.remove(f) end
  eq(ok, true, "exit status")
  eq(out, "after\ttrue\n")
  has(err, "interrupted!")
end)
