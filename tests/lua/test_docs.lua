-- The API reference (lua/luagan/doc.lua): every public function of lg and
-- its modules has a doc entry, entries are well formed (signature,
-- description, an example that compiles), help() finds them by value, the
-- REPL's table display is bounded, `make docs`' generator writes the pages,
-- and the tutorial's runnable code blocks run.
local lg = require "luagan"
local doc = require "luagan.doc"

local function has_text(s, part)
  if not s:find(part, 1, true) then error(("%q not found in %q"):format(part, s), 2) end
end

-- {------------------------------------------------------ walking the API

-- Methods a module class inherits the documentation of from nn.Module:
-- every class defines them, and the class's own entry says what they do.
local OVERRIDES = {init = true, forward = true, extra_repr = true}

-- a class: its own __index (nn.Module, nn.Linear, gan.Packed)
local function is_class(v)
  return type(v) == "table" and rawget(v, "__index") == v
end

-- Adds {page, name, value} for every public value reachable from t.
local function walk(out, page, prefix, t, seen)
  seen = seen or {}
  if seen[t] then return end
  seen[t] = true
  local keys = {}
  for k in pairs(t) do if type(k) == "string" and k:sub(1, 1) ~= "_" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v, name = rawget(t, k), prefix .. "." .. k
    if type(v) == "function" then
      out[#out + 1] = {page, name, v}
    elseif is_class(v) then
      out[#out + 1] = {page, name, v}
      local base = v == lg.nn.Module
      for mk, mv in pairs(v) do
        if type(mv) == "function" and mk:sub(1, 1) ~= "_" and (base or not OVERRIDES[mk]) then
          out[#out + 1] = {page, name .. ":" .. mk, mv}
        end
      end
    elseif type(v) == "table" and getmetatable(v) == nil then
      walk(out, page, name, v, seen)          -- a namespace: gan.schedule, nn.init
    elseif type(v) == "table" then
      out[#out + 1] = {page, name, v}         -- a value such as gan.hinge
    end
  end
end

-- The methods of a class the modules do not export, through an instance
-- made by make(); cleanup(obj), when given, releases what it made.
local function walk_instance(out, page, name, make, cleanup)
  local ok, obj = pcall(make)
  if not ok then error(("cannot make a %s to check its methods: %s"):format(name, tostring(obj))) end
  for k, v in pairs(getmetatable(obj).__index) do
    if type(v) == "function" and k:sub(1, 1) ~= "_" then out[#out + 1] = {page, name .. ":" .. k, v} end
  end
  if cleanup then cleanup(obj) end
end

-- Tensor properties: read through __index, so no walk finds them.  Each must
-- have an entry Tensor.NAME; the test below checks that a tensor has them.
local PROPERTIES = {"shape", "ndim", "grad", "requires_grad", "grad_fn", "is_leaf"}

local function public_api()
  local out = {}
  for k, v in pairs(lg) do
    if type(v) == "function" then out[#out + 1] = {"lg", "lg." .. k, v} end
  end
  for _, sub in ipairs{"image", "linalg", "fs", "proc"} do
    for k, v in pairs(lg[sub]) do out[#out + 1] = {sub, "lg." .. sub .. "." .. k, v} end
  end
  for k, v in pairs(lg.Tensor) do out[#out + 1] = {"Tensor", "Tensor:" .. k, v} end
  for _, m in ipairs{"nn", "optim", "gan", "data", "experiment", "metrics", "dist"} do
    walk(out, m, m, lg[m])
  end
  for _, m in ipairs{"parzen", "util", "image_metrics"} do
    walk(out, m, m, (require("luagan." .. m)))
  end
  walk_instance(out, "optim", "Optimizer", function()
    local p = lg.zeros(1)
    p.requires_grad = true
    return lg.optim.SGD({p})
  end)
  walk_instance(out, "optim", "EMA", function() return lg.optim.EMA(lg.nn.Linear(1, 1)) end)
  walk_instance(out, "data", "Loader", function() return lg.data.Loader(lg.zeros(4, 1), {batch = 2}) end)
  walk_instance(out, "experiment", "Run", function() return lg.experiment({name = "t"}, {}) end)
  walk_instance(out, "data", "Mixture", function() return lg.data.ring8() end)
  walk_instance(out, "image_metrics", "Metrics", function()
    local im = require "luagan.image_metrics"
    return im.new(im.Classifier(), {})
  end)
  local path = os.tmpname()
  walk_instance(out, "fs", "lg.fs.File", function() return lg.fs.open_append(path) end,
                function(f) f:close() end)
  walk_instance(out, "fs", "lg.fs.Lock", function() return assert(lg.fs.lock(path)) end,
                function(l) l:unlock() end)
  os.remove(path)
  return out
end

-- }------------------------------------------------------

test("every public function has a doc entry, on the page of its module", function()
  local missing, misplaced = {}, {}
  for _, item in ipairs(public_api()) do
    local page, name, v = item[1], item[2], item[3]
    local e = doc.lookup(v)
    if not e then missing[#missing + 1] = name
    elseif e.module ~= page and not (page == "lg" and e.module == "Tensor")   -- lg.view
           and not (page == "Tensor" and e.module == "lg") then                -- x:equal
      misplaced[#misplaced + 1] = name .. " on " .. e.module
    end
  end
  for _, p in ipairs(PROPERTIES) do
    if not doc.lookup("Tensor." .. p) then missing[#missing + 1] = "Tensor." .. p end
  end
  table.sort(missing)
  table.sort(misplaced)
  eq(missing, {}, "undocumented")
  eq(misplaced, {}, "documented on another page")
end)

test("the documented tensor properties exist and the C entries name real ones", function()
  local x = lg.ones(2, 3):requires_grad_()
  local loss = (x * 2):sum()
  loss:backward()
  local y = x * 1
  for _, p in ipairs(PROPERTIES) do
    if x[p] == nil and y[p] == nil then error("a tensor has no property " .. p) end
  end
  local listed = {}
  for _, p in ipairs(PROPERTIES) do listed["Tensor." .. p] = true end
  for _, e in ipairs(doc.entries()) do
    if e.name:match("^Tensor%.") and not listed[e.name] then
      error(e.name .. " is not a property of a tensor (a method is Tensor:name)")
    end
  end
end)

test("the walk sees the API it must check", function()
  local names = {}
  for _, item in ipairs(public_api()) do names[item[2]] = item[1] end
  -- classes, their own methods, namespaces, values and unexported classes
  for _, n in ipairs{"nn.Linear", "nn.Module:parameters", "nn.Sequential:add", "nn.ModuleList:append",
                     "nn.init.dcgan", "gan.schedule.wgan", "gan.hinge", "gan.mrgan.step",
                     "Optimizer:step", "optim.Adam", "lg.conv2d", "Tensor:matmul",
                     "lg.image.grid", "lg.linalg.eigh", "lg.fs.list", "lg.fs.File:write",
                     "lg.fs.Lock:held", "data.Loader", "Loader:next", "Mixture:sample",
                     "experiment.parse", "experiment.new", "Run:log", "Run:iterations",
                     "image_metrics.Classifier", "image_metrics.Classifier:features",
                     "Metrics:fid", "image_metrics.frechet_distance"} do
    if not names[n] then error("the walk misses " .. n) end
  end
  eq(names["nn.Linear:forward"], nil, "overrides are documented at nn.Module")
end)

-- The signature names the entry: "nn.Linear(...)" for nn.Linear, or for a
-- method or property of a class, an instance: "x:view(...)" for Tensor:view,
-- "x.shape" for Tensor.shape, "file:write(s)" for lg.fs.File:write.
local function names_it(e)
  local sig = e.signature
  if not sig then return false end
  if sig:find(e.name, 1, true) then return true end
  local member = e.name:match("^[%w_%.]+([:%.][%w_]+)$")
  return member ~= nil and e.name:find("[%a_][%w_]*[:%.]") ~= nil and
         sig:match("^[%a_][%w_]*" .. member:gsub("%p", "%%%0") .. "%f[^%w_]") ~= nil
end

test("entries are well formed: signature, description, an example that compiles", function()
  local bad = {}
  for _, e in ipairs(doc.entries()) do
    local why
    if not names_it(e) then why = "signature does not name it"
    elseif e.text:match("^%s*$") then why = "no description"
    elseif #e.usage == 0 then why = "no @usage example"
    else
      local ok, err = load(table.concat(e.usage, "\n"), "=usage")
      if not ok then why = "example does not compile: " .. err end
    end
    -- a stale entry names nothing: neither a value nor a function below it
    -- (Tensor.shape and other tensor properties are fields, not values)
    if not why and not e.line and doc.resolve(e.name) == nil and not e.name:match("^Tensor%.") then
      why = "names nothing" .. (e.file:match("%.c$") and
        " (a method needs @function Tensor:name, a function lg.name)" or "")
    end
    if why then bad[#bad + 1] = e.name .. ": " .. why end
  end
  eq(bad, {}, "malformed entries")
end)

test("every Lua module is read by the reference", function()
  local listed = {}
  for _, m in ipairs(doc.LUA_MODULES) do listed[m] = true end
  local p = io.popen("ls " .. sh_quote(doc.lua_dir() .. "/luagan"))
  for f in p:lines() do
    local m = f:match("^(.*)%.lua$")
    local part_of = m and listed[m:match("^(%a+)_")]   -- a module's part: nn_noise.lua
    if m and m ~= "doc" and m ~= "doc_c" and not listed[m] and not part_of then
      error("lua/luagan/" .. f .. " is not in doc.LUA_MODULES")
    end
  end
  p:close()
end)

test("the parser: signature lines, names from function lines, tags", function()
  local es = doc.parse_lua([[
local M = {}
--- M.f(a [, b]) -> Tensor
-- Does f.  Cites Goodfellow et al. 2014, eq. 1.
--
-- Shapes: a [N] -> [N].
-- @param a the input
-- @usage local y = M.f(x)
--   print(y)
function M.f(a, b) end

--- Without a signature line.
-- @usage M.g(1)
function M.g(x, y) end

-- a plain comment is no entry
function M.h() end

--- M.v: Loss
-- A value.
-- @usage print(M.v)
M.v = {}
return M
]], "mymod", "lua/luagan/mymod.lua")
  eq(#es, 3)
  eq(es[1].name, "mymod.f")
  eq(es[1].signature, "mymod.f(a [, b]) -> Tensor")
  eq(es[1].summary, "Does f.")
  eq(es[1].params, {"a the input"})
  eq(es[1].usage, {"local y = M.f(x)", "  print(y)"})
  eq(es[1].line, 9)
  has_text(es[1].text, "Shapes: a [N] -> [N].")
  eq(es[2].name, "mymod.g")
  eq(es[2].signature, "mymod.g(x, y)")
  eq(es[3].name, "mymod.v")
  eq(es[3].line, nil)
  local cs = doc.parse_c([[
/* not a doc block */
/*** lg.conv2d(x, w [, b] [, opts]) -> Tensor
** 2-D convolution.
** @function lg.conv2d
** @usage local y = lg.conv2d(x, w)
*/
static int l_conv2d (lua_State *L) { return 0; }
/***
 * x:matmul(y) -> Tensor
 * Matrix product.
 * @function Tensor:matmul
 * @usage local z = x:matmul(y)
 */
]], "lua/l_test.c")
  eq(#cs, 2)
  eq(cs[1].name, "lg.conv2d")
  eq(cs[1].signature, "lg.conv2d(x, w [, b] [, opts]) -> Tensor")
  eq(cs[1].module, "lg")
  eq(cs[1].block_line, 2)
  eq(cs[2].name, "Tensor:matmul")
  eq(cs[2].signature, "x:matmul(y) -> Tensor")
  eq(cs[2].module, "Tensor")
end)

test("help finds entries by value: functions, classes, instances, aliases, values", function()
  local nn, gan = lg.nn, lg.gan
  local t = doc.help_text(nn.Conv2d)
  has_text(t, "nn.Conv2d(in_channels, out_channels, kernel_size")
  has_text(t, "Shapes: x [N, cin, H, W] -> [N, cout, H', W']")
  has_text(t, "Example:\n    local conv = nn.Conv2d(1, 64, 4, 2, 1)")
  has_text(t, "(lua/luagan/nn.lua:")
  local G = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
  has_text(doc.help_text(G), "nn.Sequential(m1, m2, ...)")
  has_text(doc.help_text(G.parameters), "nn.Module:parameters() -> {Tensor, ...}")
  eq(doc.lookup(nn.ModuleList.append), doc.lookup(nn.ModuleList.add))
  eq(doc.lookup(gan.losses.wgan).name, "gan.wasserstein")
  has_text(doc.help_text(gan.hinge), "Lim and Ye 2017")
  has_text(doc.help_text(gan.schedule.wgan), "warm-up")
  local p = lg.zeros(1)
  p.requires_grad = true
  local opt = lg.optim.Adam({p})
  has_text(doc.help_text(opt.step), "Optimizer:step()")
  has_text(doc.help_text(opt), "Optimizer:zero_grad")
  has_text(doc.help_text(require("luagan.parzen").evaluate), "Table 1")
end)

test("C entries: help finds lg functions and Tensor methods; doc.add adds entries", function()
  has_text(doc.help_text(lg.conv2d), "lg.conv2d(x, w [, b] [, opts]) -> Tensor\n\n  2-D convolution")
  has_text(doc.help_text(lg.Tensor.matmul), "x:matmul(y) -> Tensor")
  has_text(doc.help_text(lg.zeros(2, 2).matmul), "Matrix product")
  has_text(doc.help_text(lg.Tensor), "Tensor:matmul")
  has_text(doc.help_text(lg.zeros(1)), "Tensor:matmul")
  -- an entry of another source: found by name and by value
  lg.Tensor.doc_test_method = function(x) return x end
  doc.add(doc.parse_c([[
/*** x:doc_test_method() -> Tensor
** A method added by a test.
** @function Tensor:doc_test_method
** @usage local y = x:doc_test_method()
*/]], "lua/l_fake.c"))
  local ok, err = pcall(function()
    has_text(doc.help_text("Tensor:doc_test_method"), "A method added by a test.")
    has_text(doc.help_text(lg.zeros(1).doc_test_method), "x:doc_test_method() -> Tensor")
  end)
  lg.Tensor.doc_test_method = nil
  doc.reload()
  if not ok then error(err, 0) end
end)

test("help on modules lists their entries; strings search", function()
  local t = doc.help_text(lg.nn)
  has_text(t, "lg.nn: modules")
  has_text(t, "nn.Linear")
  has_text(t, "nn.init.dcgan")
  has_text(doc.help_text(lg.gan), "gan.gradient_penalty")
  has_text(doc.help_text(), "help(x) shows the documentation of x")
  has_text(doc.help_text("penalty"), "gan.gradient_penalty")
  eq(doc.help_text("no_such_word_xyz"), "help: no entry matches 'no_such_word_xyz'")
  has_text(doc.help_text(nil, nil), "the value is nil")
end)

test("help on an undocumented function says so", function()
  local f = function() end
  eq(doc.help_text(f), "help: no documentation for this function")
  lg.Tensor.doc_test_undocumented = f   -- reachable, so help names it
  local t = doc.help_text(f)
  lg.Tensor.doc_test_undocumented = nil
  eq(t, "Tensor:doc_test_undocumented: no documentation yet (no doc entry; see help(Tensor))")
end)

test("help on the C binding: functions, methods, properties, lg.linalg, lg.fs objects", function()
  has_text(doc.help_text(lg.conv2d), "lg.conv2d(x, w [, b] [, opts]) -> Tensor")
  has_text(doc.help_text(lg.view), "x:view(d1, d2, ...) -> Tensor")   -- lg.view is Tensor.view
  has_text(doc.help_text(lg.zeros(1).sum), "x:sum([d] [, keepdim]) -> Tensor")
  has_text(doc.help_text("Tensor.grad"), "x.grad -> Tensor | nil")
  has_text(doc.help_text(lg.linalg), "lg.linalg: eigh, svd")
  has_text(doc.help_text(lg.linalg), "lg.linalg.slogdet")
  has_text(doc.help_text(lg.fs), "lg.fs.write_atomic")
  has_text(doc.help_text(lg.image), "lg.image.resize")
  local path = os.tmpname()
  local f = lg.fs.open_append(path)
  local lock = assert(lg.fs.lock(path .. ".lock"))
  local ok, err = pcall(function()
    has_text(doc.help_text(f.write), "file:write(s)")
    has_text(doc.help_text(f), "lg.fs.File:truncate")
    has_text(doc.help_text(lock), "lg.fs.Lock:unlock")
  end)
  f:close()
  lock:unlock()
  os.remove(path)
  os.remove(path .. ".lock")
  if not ok then error(err, 0) end
  eq(doc.resolve("lg.fs.File:nothing"), nil)
  eq(doc.resolve("lg.fs.File:write"), doc.resolve("lg.fs.File:write"))
  eq(type(doc.resolve("lg.fs.Lock:held")), "function")
end)

test("repr: plain tables shown two levels deep, 20 entries each", function()
  eq(doc.repr({1, 2, "a", x = true}), '{1, 2, "a", x = true}')
  eq(doc.repr({}), "{}")
  eq(doc.repr({a = {b = {c = 1}}}), "{a = {b = {...}}}")
  eq(doc.repr({a = {b = {}}}), "{a = {b = {}}}")
  local t = {}
  for i = 1, 25 do t[i] = i end
  eq(doc.repr(t), "{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, ... (5 more)}")
  local c = {}
  c.self = c
  eq(doc.repr(c), "{self = {<cycle>}}")
  eq(doc.repr({x = lg.zeros(2, 3)}), "{x = tensor[2,3]}")
  eq(doc.repr({f = lg.nn.Module.parameters}), "{f = function nn.Module:parameters}")
  eq(doc.repr({l = lg.gan.hinge}), "{l = gan.Loss(hinge)}")
  -- no metamethod runs; an object's class name (__name) comes first
  local odd = setmetatable({1}, {__name = "Odd", __len = function() error("len") end,
                                 __pairs = function() error("pairs") end})
  eq(doc.repr(odd), "Odd {1}")
  -- long contents: one entry per line, still bounded
  local long = {}
  for i = 1, 30 do long["key" .. i] = ("v"):rep(10) end
  local r = doc.repr(long)
  eq(select(2, r:gsub("\n", "")), 22)
  has_text(r, "\n  key1 = \"vvvvvvvvvv\",\n")
  has_text(r, "  ... (10 more)\n}")
end)

test("doc.generate writes the markdown pages and the C data file", function()
  local dir = temp_dir()
  local n = doc.generate(dir)
  eq(n, #doc.entries())
  local index = read_file(dir .. "/index.md")
  has_text(index, "| [lg.nn](nn.md) |")
  local nnmd = read_file(dir .. "/nn.md")
  has_text(nnmd, "### `nn.Linear(in_features, out_features [, bias] [, opts]) -> Module`")
  has_text(nnmd, "```lua\nlocal fc = nn.Linear(784, 256)\n```")
  has_text(read_file(dir .. "/gan.md"), "### `gan.hinge: Loss`")
  local data = dofile(dir .. "/luagan/doc_c.lua")
  eq(type(data), "table")
  local c = 0
  for _, e in ipairs(doc.entries()) do if e.file:match("%.c$") then c = c + 1 end end
  eq(#data, c)
  os.execute("rm -rf " .. sh_quote(dir))
end)

test("without C sources, the C entries come from luagan/doc_c.lua", function()
  local so = (LUAGAN:match("^(.*)/") or ".") .. "/luagan.so"
  local ok, why = stock_lua_can_load(so)
  if not ok then
    print("test_docs: " .. why .. ", installed layout not tested")
    return
  end
  -- an installed layout: the Lua modules and the data file, no lua/l_*.c
  local dir = temp_dir()
  os.execute(("mkdir -p %s/luagan && cp %s/luagan/*.lua %s/luagan/"):format(sh_quote(dir),
    sh_quote(doc.lua_dir()), sh_quote(dir)))
  local f = assert(io.open(dir .. "/luagan/doc_c.lua", "wb"))
  f:write([[return {{name = "lg.conv2d", signature = "lg.conv2d(x, w) -> Tensor", module = "lg",
    text = "Installed entry.", summary = "Installed entry.", params = {}, returns = {},
    usage = {"lg.conv2d(x, w)"}, see = {}, file = "lua/l_layers.c", block_line = 1}}
]])
  f:close()
  local p = io.popen(("cd %s && lua5.4 -e %s 2>&1"):format(sh_quote(dir), sh_quote(([[
    package.path = "./?.lua;" .. package.path
    package.cpath = %q .. ";" .. package.cpath
    local lg = require "luagan"
    local doc = require "luagan.doc"
    print(doc.lua_dir(), doc.help_text(lg.conv2d), doc.help_text(lg.nn.Linear):match("^%%C*"))
  ]]):format(so))))
  local out = p:read("a")
  p:close()
  os.execute("rm -rf " .. sh_quote(dir))
  has_text(out, ".\tlg.conv2d(x, w) -> Tensor\n\n  Installed entry.")
  has_text(out, "nn.Linear(in_features, out_features")
end)

-- {------------------------------------------------------ the tutorial

-- docs/tutorial.md: blocks opened with ```lua run are run in order in one
-- environment; ```lua file=NAME blocks are written to a directory where the
-- ```sh run blocks run, with build/luagan there the executable under test
-- and experiments/ the repository's.
test("the tutorial's runnable code blocks run", function()
  local text = assert(read_file(ROOT .. "/docs/tutorial.md"), "docs/tutorial.md missing")
  local dir = temp_dir()
  local printed = {}
  local env = setmetatable({print = function(...)   -- kept out of the test log
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    printed[#printed + 1] = table.concat(parts, "\t", 1, parts.n)
  end}, {__index = _G})
  local runs = 0
  for info, body in text:gmatch("\n```([^\n]*)\n(.-)\n```") do
    local lang, what = info:match("^(%S+)%s*(.*)$")
    local file = what and what:match("^file=(%S+)")
    if lang == "lua" and what == "run" then
      local chunk = assert(load(body, "=tutorial", "t", env))
      chunk()
      runs = runs + 1
    elseif lang == "lua" and file then
      local f = assert(io.open(dir .. "/" .. file, "wb"))
      f:write(body, "\n")
      f:close()
    elseif lang == "sh" and what == "run" then
      os.execute(("mkdir -p %s/build && ln -sfn %s %s/build/luagan && ln -sfn %s %s/experiments")
        :format(sh_quote(dir), sh_quote(LUAGAN), sh_quote(dir), sh_quote(ROOT .. "/experiments"),
                sh_quote(dir)))
      local cmd = ("cd %s && set -e && %s"):format(sh_quote(dir), body)
      local p = io.popen("{ " .. cmd .. "\n} 2>&1; echo \"exit=$?\"")
      local out = p:read("a")
      p:close()
      if not out:match("exit=0\n$") then error("tutorial shell block failed:\n" .. body .. "\n" .. out) end
      if body:find("my_gan.lua --resume", 1, true) then   -- the run continued to the end
        has_text(out, "resumed runs/tiny at iteration 20")
        has_text(out, "modes covered: ")
        has_text(out, "iter,lossD,lossG\n1,")
      end
      runs = runs + 1
    end
  end
  if runs < 4 then error("expected runnable blocks in docs/tutorial.md, found " .. runs) end
  has_text(printed[1], "gan.Loss(label_smoothing(0.9))")
  os.execute("rm -rf " .. sh_quote(dir))
end)

-- }------------------------------------------------------
