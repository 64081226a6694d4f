-- Help and display in the REPL (lua/main.c with luagan.doc): help(x), the
-- ?x shorthand, plain tables printed by contents, driven through a pipe
-- (the REPL reads piped stdin line by line); tab completion of methods after
-- a colon, driven in a terminal through tmux (skipped without tmux).

local BIN = LUAGAN

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- repl(input) -> stdout, stderr of build/luagan reading input as the REPL
local function repl(input)
  local inf, errf = os.tmpname(), os.tmpname()
  local f = assert(io.open(inf, "wb"))
  f:write(input)
  f:close()
  local p = io.popen(("%s <%s 2>%s"):format(q(BIN), q(inf), q(errf)))
  local out = p:read("a")
  p:close()
  local err = read_file(errf)
  os.remove(inf)
  os.remove(errf)
  return out, err
end

local function has(s, part, msg)
  if not s:find(part, 1, true) then
    error(("%s: %q not found in %q"):format(msg or "has", part, s), 2)
  end
end

test("help(f) prints the entry of a function, a class, a method", function()
  local out, err = repl("help(nn.Conv2d)\nhelp(optim.Adam)\nG = nn.Linear(2, 3)\nhelp(G)\nhelp(G.parameters)\n")
  eq(err, "")
  has(out, "nn.Conv2d(in_channels, out_channels, kernel_size")
  has(out, "  Shapes: x [N, cin, H, W] -> [N, cout, H', W']")
  has(out, "optim.Adam(params [, opts]) -> Optimizer")
  has(out, "Kingma and Ba 2015")
  has(out, "nn.Linear(in_features, out_features [, bias] [, opts]) -> Module")
  has(out, "nn.Module:parameters() -> {Tensor, ...}")
end)

test("?x is help(x); ? alone is help()", function()
  local out, err = repl("?lg.gan.hinge\n  ?lg.nn\n?\n")
  eq(err, "")
  has(out, "gan.hinge: Loss\n\n  Hinge loss (Lim and Ye 2017")
  has(out, "lg.nn: modules")
  has(out, "  nn.Sequential ")
  has(out, "help(x) shows the documentation of x")
  -- a name path is looked up without raising, and named in the message
  out, err = repl("?nosuch.thing\n?lg.nn.NoSuch\n?lg.nn.Linear ;\n")
  eq(err, "")
  has(out, "help: nosuch is nil\nhelp: lg.nn.NoSuch is nil\nnn.Linear(")
  -- other expressions are help(expression)
  out, err = repl("?lg.nn['Tanh']\n?(nil)\n")
  eq(err, "")
  has(out, "nn.Tanh() -> Module")
  has(out, "help: the value is nil")
end)

test("help of a C function prints its entry; of an undocumented function, says so", function()
  local out = repl("help(lg.conv2d)\n")
  has(out, "lg.conv2d(x, w [, b] [, opts]) -> Tensor")
  has(out, "(lua/l_layers.c:")
  has(repl("help(function() end)\n"), "help: no documentation for this function")
end)

test("a script's own global help is kept", function()
  local out = repl("help = function() print('mine') end\nhelp(1)\n")
  eq(out, "mine\n")
end)

test("plain tables print their contents, bounded", function()
  local out, err = repl("{1, 2, x = 'a'}\n{a = {b = {c = {}}}}\n" ..
    "t = {}; for i = 1, 30 do t[i] = i end\nt\nlg.optim\n")
  eq(err, "")
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(lines[1], '{1, 2, x = "a"}')
  eq(lines[2], "{a = {b = {...}}}")
  eq(lines[3], "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, ... (10 more)}")
  has(out, "Adam = function optim.Adam")
  eq(out:find("table: 0x", 1, true), nil, "no table addresses")
end)

test("values with __tostring still print through it; several values per line", function()
  local out = repl("nn.Sequential(nn.Linear(2, 3))\n{1}, 2, {}\nlg.gan.hinge\n")
  has(out, "Sequential (9 parameters)\n  (0): Linear(2 -> 3)")
  has(out, "{1}\t2\t{}\n")
  has(out, "gan.Loss(hinge)\n")
end)

test("_ keeps the table itself, not its text", function()
  local out = repl("{5, 6}\n_[2]\n")
  eq(out, "{5, 6}\n6\n")
end)

-- {------------------------------------------------------ tab completion in a terminal

local function tmux_available()
  return os.execute("command -v tmux >/dev/null 2>&1") == true
end

-- A REPL in a detached tmux session on a private socket; returns send(keys...)
-- and screen() and stop().
local function terminal()
  local dir = temp_dir()
  local sock = dir .. "/tmux.sock"
  local function tmux(args)
    return os.execute(("tmux -S %s %s >/dev/null 2>&1"):format(q(sock), args))
  end
  assert(tmux(("new-session -d -s t -x 160 -y 50 %s"):format(
    q(("env HOME=%s TERM=xterm %s"):format(q(dir), q(BIN))))), "tmux did not start")
  local function screen()
    local p = io.popen(("tmux -S %s capture-pane -p -t t"):format(q(sock)))
    local s = p:read("a")
    p:close()
    return s
  end
  -- waits until the screen shows `part` (up to 10 s)
  local function wait_for(part)
    for _ = 1, 100 do
      local s = screen()
      if s:find(part, 1, true) then return s end
      os.execute("sleep 0.1")
    end
    error(("terminal: %q never appeared in:\n%s"):format(part, screen()), 2)
  end
  local function send(...)
    local keys = {}
    for i, k in ipairs{...} do keys[i] = q(k) end
    assert(tmux("send-keys -t t " .. table.concat(keys, " ")))
  end
  local function stop()
    tmux("kill-server")
    os.execute("rm -rf " .. q(dir))
  end
  return send, wait_for, stop
end

test("tab completes methods after a colon: tensors, nn modules; ?name completes", function()
  if not tmux_available() then
    print("test_repl: tmux not found, tab completion not tested")
    return
  end
  local send, wait_for, stop = terminal()
  local ok, err = pcall(function()
    wait_for("Ctrl-D to quit")
    send("x = lg.ones(2, 2)", "Enter")
    send("x:ma", "Tab", "Tab")                       -- ambiguous: lists both
    local s = wait_for("x:max")
    has(s, "x:matmul")
    send("t", "Tab", "(x):sum():item()", "Enter")    -- x:mat -> x:matmul
    wait_for("\n8.0\n")
    send("G = nn.Sequential(nn.Linear(2, 2))", "Enter")
    send("#G:par", "Tab", "()", "Enter")            -- G:parameters (nn.Module's, two levels up)
    s = wait_for("#G:parameters()\n2\n")
    send("G:", "Tab", "Tab")                         -- methods only: no _order, training
    s = wait_for("G:zero_grad")
    has(s, "G:add")
    eq(s:find("G:_order", 1, true), nil, "private fields after a colon")
    eq(s:find("G:training", 1, true), nil, "non-function fields after a colon")
    send("C-u", "lg.gan", "Tab", ".hin", "Tab", "Enter")  -- lg.gan (lg.gather too), loaded on first use
    wait_for("lg.gan.hinge\ngan.Loss(hinge)")
    send("?nn.Lin", "Tab", "Enter")                 -- ?nn.Linear
    wait_for("nn.Linear(in_features, out_features")
  end)
  stop()
  if not ok then error(err, 0) end
end)

-- }------------------------------------------------------
