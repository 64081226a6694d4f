-- Installing: `make install PREFIX=...` (and DESTDIR, uninstall) and
-- `luarocks make --tree ...` into temporary prefixes, then the stock lua5.4,
-- from another directory, loads the installed module: require "luagan", its
-- lazily loaded submodules, the shipped MNIST subset and classifier weights
-- found inside the prefix, a forward/backward/step with known numbers.  The
-- installed executable must use the installed package, not the source tree.
local BUILD = LUAGAN:match("^(.*)/[^/]*$") or "."
local SO = BUILD .. "/luagan.so"

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function have(prog) return os.execute("command -v " .. prog .. " >/dev/null 2>&1") end


-- What the stock interpreter prints for the installed module.  Run from an
-- empty directory, with LUA_PATH / LUA_CPATH as given (no defaults: a luagan
-- installed elsewhere on this machine must not be found) and none of
-- luagan's variables.
local PROBE = [[
local lg = require "luagan"
print("nn", tostring(lg.nn.Linear(2, 3)))
print("optim", type(lg.optim.Adam), "gan", type(lg.gan.non_saturating.d))
print("lua", package.searchpath("luagan.nn", package.path))
print("data", lg.data.root(), lg.data.mnist("test").n)
local im = require "luagan.image_metrics"
print("models", im.weights_dir(), lg.metrics.classifier("mnist").path)
local net = lg.nn.Linear(2, 1)
lg.no_grad(function()
  net.weight:copy_(lg.tensor{{1, 2}})
  net.bias:copy_(lg.tensor{0.5})
end)
local opt = lg.optim.SGD(net:parameters(), {lr = 0.1})
local y = net(lg.tensor{{1, 1}, {2, 0}}):sum()
opt:zero_grad()
y:backward()
local g = net.weight.grad:totable()
opt:step()
local w = net.weight:totable()
print(("fwd %g grad %g %g %g step %g %g"):format(y:item(), g[1][1], g[1][2],
  net.bias.grad:totable()[1], w[1][1], w[1][2]))
]]

local function run_probe(dir, lua_path, lua_cpath)
  local cmd = ("cd %s && env -u LUA_INIT -u LUA_INIT_5_4 -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "
    .. "-u LUAGAN_DATA -u LUAGAN_MODELS -u LUAGAN_CLASSIFIER_DIR LUA_PATH=%s LUA_CPATH=%s "
    .. "lua5.4 -e %s"):format(sh_quote(dir), sh_quote(lua_path), sh_quote(lua_cpath), sh_quote(PROBE))
  local ok, out = sh(cmd)
  assert(ok, "lua5.4 failed:\n" .. out)
  return out
end

-- The probe's output names files inside the prefix only.
local function check_probe(out, prefix)
  local lua = prefix .. "/share/lua/5.4"
  local function has(s) assert(out:find(s, 1, true), ("expected %q in:\n%s"):format(s, out)) end
  has("nn\tLinear(2 -> 3)\n")
  has("optim\tfunction\tgan\tfunction\n")
  has("lua\t" .. lua .. "/luagan/nn.lua\n")
  has("data\t" .. lua .. "/luagan/datasets\t999\n")
  has("models\t" .. lua .. "/luagan/models\t" .. lua .. "/luagan/models/mnist.safetensors\n")
  has("fwd 6 grad 3 1 2 step 0.7 1.9\n")
end

-- The installed executable, run from an empty directory: its package and
-- data are the prefix's.
local function check_executable(exe, prefix, dir)
  local ok, out = sh(("cd %s && env -u LUAGAN_DATA -u LUAGAN_MODELS -u LUAGAN_CLASSIFIER_DIR %s -e %s")
    :format(sh_quote(dir), sh_quote(exe), sh_quote([[
      print(nn.Linear(2, 3), package.searchpath("luagan.data", package.path))
      print(lg.data.root(), require("luagan.image_metrics").weights_dir())]])))
  assert(ok, exe .. " failed:\n" .. out)
  local lua = prefix .. "/share/lua/5.4"
  local want = ("Linear(2 -> 3)\t%s/bin/../share/lua/5.4/luagan/data.lua\n"
    .. "%s/bin/../share/lua/5.4/luagan/datasets\t%s/luagan/models\n"):format(prefix, prefix, lua)
  eq(out, want, "the installed executable's package and data")
end

local FILES = {"/bin/luagan", "/lib/lua/5.4/luagan.so", "/share/lua/5.4/luagan/nn.lua",
  "/share/lua/5.4/luagan/image_metrics.lua", "/share/lua/5.4/luagan/models/mnist.safetensors",
  "/share/lua/5.4/luagan/models/fashion.safetensors",
  "/share/lua/5.4/luagan/datasets/mnist10k/train-images-idx3-ubyte.gz"}

local function make(args)
  return sh(("make -C %s --no-print-directory BUILD=%s %s"):format(sh_quote(ROOT), sh_quote(BUILD), args))
end

test("make install PREFIX, DESTDIR, uninstall; stock lua5.4 loads the install", function()
  local tmp = temp_dir()
  local prefix, away = tmp .. "/prefix", tmp .. "/elsewhere"
  os.execute("mkdir -p " .. sh_quote(away))
  local ok, out = make("install PREFIX=" .. sh_quote(prefix))
  assert(ok, "make install failed:\n" .. out)
  for _, f in ipairs(FILES) do assert(read_file(prefix .. f), "not installed: " .. prefix .. f) end
  local can, why = stock_lua_can_load(SO)
  if can then
    local lua = prefix .. "/share/lua/5.4"
    check_probe(run_probe(away, lua .. "/?.lua;" .. lua .. "/?/init.lua",
                          prefix .. "/lib/lua/5.4/?.so"), prefix)
    -- LUA_CPATH only: luagan.so finds the Lua files beside itself
    check_probe(run_probe(away, "./?.lua", prefix .. "/lib/lua/5.4/?.so"), prefix)
  else
    print("test_install: " .. why .. ", stock lua5.4 not run")
  end
  check_executable(prefix .. "/bin/luagan", prefix, away)

  ok, out = make("install DESTDIR=" .. sh_quote(tmp .. "/stage") .. " PREFIX=/opt/lg")
  assert(ok, "make install DESTDIR failed:\n" .. out)
  for _, f in ipairs(FILES) do assert(read_file(tmp .. "/stage/opt/lg" .. f), "not staged: " .. f) end

  ok, out = make("uninstall PREFIX=" .. sh_quote(prefix))
  assert(ok, "make uninstall failed:\n" .. out)
  for _, f in ipairs(FILES) do assert(not read_file(prefix .. f), "left by uninstall: " .. f) end
  os.execute("rm -rf " .. sh_quote(tmp))
end)

test("luarocks make --tree installs a working rock", function()
  if not have("luarocks") then
    print("test_install: luarocks missing (Debian package luarocks), rockspec not tested")
    return
  end
  local tmp = temp_dir()
  local tree, away = tmp .. "/tree", tmp .. "/elsewhere"
  os.execute("mkdir -p " .. sh_quote(away))
  -- luarocks runs `make all` and `make install` here; BUILD (from the
  -- environment) makes them reuse this build instead of compiling anew
  local ok, out = sh(("cd %s && BUILD=%s luarocks --lua-version 5.4 make --tree %s luagan-scm-1.rockspec")
    :format(sh_quote(ROOT), sh_quote(BUILD), sh_quote(tree)))
  assert(ok, "luarocks make failed:\n" .. out)
  assert(out:find("luagan scm-1 is now installed", 1, true), out)
  for _, f in ipairs(FILES) do assert(read_file(tree .. f), "not deployed: " .. tree .. f) end
  local can, why = stock_lua_can_load(SO)
  if can then
    local lua = tree .. "/share/lua/5.4"
    check_probe(run_probe(away, lua .. "/?.lua;" .. lua .. "/?/init.lua",
                          tree .. "/lib/lua/5.4/?.so"), tree)
  else
    print("test_install: " .. why .. ", stock lua5.4 not run")
  end
  check_executable(tree .. "/bin/luagan", tree, away)
  os.execute("rm -rf " .. sh_quote(tmp))
end)
