-- luagan.doc: the API reference, read from the doc comments of the sources.
--
-- The reference has one source of truth, the comments next to the code, so
-- that changing a function and its documentation is one edit.  This module
-- parses them at run time (for help() in the REPL) and writes the markdown
-- reference (`make docs`, into build/docs/).
--
-- The format is LDoc's (the blocks read with `ldoc` too):
--
--   --- nn.Linear(in_features, out_features [, bias] [, opts]) -> Module
--   -- One paragraph: what it computes, with the paper's equation for a loss.
--   --
--   -- Shapes: x [N, in_features] -> [N, out_features].
--   -- @usage local fc = nn.Linear(784, 256)
--   function ...
--
-- A block starts with `---` and runs over the `--` lines below it.  Its first
-- line is the signature (a dotted name, `Class:method` for a method, then
-- `(args) -> results`); without one, the name and arguments come from the
-- `function` line that follows the block.  `@function NAME` overrides the
-- name (LDoc needs it in C).  Tags: @param, @return, @usage (the example),
-- @see.  In C the block is a comment opened with three stars:
--
--   /*** lg.conv2d(x, w [, b] [, opts]) -> Tensor
--    * 2-D convolution ...
--    * @function lg.conv2d
--    * @usage local y = lg.conv2d(x, w, b, {stride = 2, padding = 1})
--    */
--
-- (lines start with " * ", which LDoc strips; this parser also takes "**").
-- A method's or property's signature may name an instance instead of the
-- class (x:matmul(y), x.shape, file:write(s)); @function gives the name.
-- A C function registered both as a method and in lg (x:view, lg.view) has
-- one entry, which names the other form in its text ("Also lg.view(...)").
--
-- Lua functions are matched to their entry by where they are defined
-- (debug.getinfo), so aliases and methods of classes the modules do not
-- export (an optimizer's step) find their entry; C functions and other
-- values by resolving the entry's name (lg.conv2d, Tensor:matmul, gan.hinge).
--
-- C entries are read from lua/l_*.c next to the Lua modules, as in the source
-- tree.  A copy of luagan without its C sources gets them from
-- luagan/doc_c.lua, a data file `make docs` writes (build/docs/luagan/).
local doc = {}

-- The Lua modules with a page of their own: short name -> file under luagan/.
-- lg (the C functions), Tensor (its methods), image, linalg, fs and proc come from
-- the C files.
doc.LUA_MODULES = {"nn", "optim", "gan", "data", "experiment", "metrics", "image_metrics",
                   "parzen", "util", "dist"}

-- Pages in the order of the index, with a line about each.
local PAGES = {
  {"lg", "tensors: creation, math, losses, layers, autograd, I/O, threads (C)"},
  {"Tensor", "methods and properties of a tensor: x:...(), x.shape, x.grad (C)"},
  {"image", "PNG load, save, grids, resize (C)"},
  {"linalg", "eigh, svd, cholesky, solve, inv, det, slogdet (C)"},
  {"fs", "atomic writes, append-only files, locks, directory listings (C)"},
  {"proc", "child processes: spawn with a log, wait (C)"},
  {"nn", "modules (layers, containers), nn.Module, nn.init"},
  {"optim", "SGD, Adam, RMSprop and the optimizer methods"},
  {"gan", "losses, gradient penalty, schedules, training steps, unrolling, packing, MRGAN"},
  {"data", "datasets, 2-D mixtures, the resumable loader"},
  {"experiment", "flags, run directories, checkpoints, exact resume"},
  {"metrics", "mode coverage on 2-D mixtures, dead critics, classifier metrics"},
  {"image_metrics", "Inception score, MODE score, FID from a cached classifier"},
  {"parzen", "Parzen-window log-likelihood (Goodfellow et al. 2014, Table 1)"},
  {"util", "helpers shared by the Lua modules"},
  {"dist", "data-parallel training over Open MPI: collectives, wrap, SyncBatchNorm"},
}

-- {====================================================== finding the sources

local function dirname(path) return path:match("^(.*)/[^/]*$") or "." end

-- The directory holding luagan/*.lua (lua/ in the source tree), from the
-- package path that found this module.
function doc.lua_dir()
  local p = package.searchpath("luagan.doc", package.path)
  return p and dirname(dirname(p)) or nil
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function list_dir(dir, pattern)
  local out = {}
  local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  if not p then return out end
  for f in p:lines() do
    if f:match(pattern) then out[#out + 1] = f end
  end
  p:close()
  table.sort(out)
  return out
end

-- The files of module m under dir/luagan/: m.lua and its parts m_*.lua, or a package's
-- m/init.lua and then its other parts (luagan.gan is gan/*.lua).
local function module_files(dir, m)
  if read(dir .. "/luagan/" .. m .. ".lua") then   -- and its parts in files m_*.lua
    local files = {m .. ".lua"}
    for _, f in ipairs(list_dir(dir .. "/luagan", "^" .. m .. "_[%w_]+%.lua$")) do files[#files + 1] = f end
    return files
  end
  local files = {}
  for _, f in ipairs(list_dir(dir .. "/luagan/" .. m, "%.lua$")) do
    if f == "init.lua" then table.insert(files, 1, m .. "/" .. f)
    else files[#files + 1] = m .. "/" .. f end
  end
  return files
end

-- }======================================================

-- {====================================================== parsing

local TAGS = {param = true, tparam = true, ["return"] = true, treturn = true, usage = true,
              see = true, ["function"] = true, raise = true}

-- name (args) -> results, as a signature line: a dotted or colon name, then
-- "(", "->", ":" or the end of the line
local function signature_of(line)
  local name, rest = line:match("^([%a_][%w_]*[%.:][%w_%.:]*)(.*)$")
  if not name then
    name, rest = line:match("^([%a_][%w_]*)(%s*%b().*)$")   -- help(v), a global
  end
  if name and name:find(":$") and rest:match("^%s") then   -- gan.hinge: Loss
    return name:sub(1, -2)
  end
  if not name or name:find("[.:]$") then return nil end
  if rest == "" or rest:match("^%s*%(") or rest:match("^%s*%->") or rest:match("^%s*:%s") then
    return name
  end
  return nil
end

-- words a sentence does not end with
local ABBREV = {al = true, eq = true, sec = true, ["e.g"] = true, ["i.e"] = true, vs = true,
                cf = true, fig = true, ch = true, no = true, approx = true}

-- The first sentence of text (up to a period before a space, not after an
-- abbreviation such as "et al."), for one-line listings.
local function first_sentence(text)
  local t = text:gsub("%s+", " "):match("^%s*(.-)%s*$")
  local pos = 1
  while true do
    local s = t:find("%.%s", pos)
    if not s then return t end
    local word = t:sub(1, s - 1):match("([%w%.]+)$") or ""
    if not ABBREV[word:lower()] then return t:sub(1, s) end
    pos = s + 1
  end
end

-- The text of a block (list of lines, comment markers removed) -> entry fields.
local function parse_block(lines)
  local e = {params = {}, returns = {}, usage = {}, see = {}}
  local first = 1
  while lines[first] and lines[first]:match("^%s*$") do first = first + 1 end
  if lines[first] then
    local line = lines[first]:match("^%s*(.-)%s*$")
    local name = signature_of(line)
    if name then
      e.name, e.signature = name, line
      first = first + 1
    end
  end
  local body, tag = {}, nil
  for i = first, #lines do
    local l = lines[i]
    local t, rest = l:match("^%s*@(%a+)%s*(.*)$")
    if t and TAGS[t] then
      tag = t
      if t == "function" then e.tag_name = rest
      elseif t == "param" or t == "tparam" then e.params[#e.params + 1] = rest
      elseif t == "return" or t == "treturn" then e.returns[#e.returns + 1] = rest
      elseif t == "usage" then
        if rest ~= "" then e.usage[#e.usage + 1] = rest end
      elseif t == "see" then e.see[#e.see + 1] = rest end
    elseif tag == "usage" then
      e.usage[#e.usage + 1] = l
    elseif tag == "param" or tag == "tparam" then
      e.params[#e.params] = e.params[#e.params] .. " " .. l:match("^%s*(.-)%s*$")
    elseif tag == "return" or tag == "treturn" then
      e.returns[#e.returns] = e.returns[#e.returns] .. " " .. l:match("^%s*(.-)%s*$")
    elseif not tag then
      body[#body + 1] = l
    end
  end
  while #e.usage > 0 and e.usage[#e.usage]:match("^%s*$") do e.usage[#e.usage] = nil end
  while #body > 0 and body[#body]:match("^%s*$") do body[#body] = nil end
  e.text = table.concat(body, "\n")
  e.summary = first_sentence(e.text)
  if e.tag_name and e.tag_name ~= "" then e.name = e.tag_name end
  return e
end

-- `function a.b.c(x, y)` / `function C:m(x)` -> "a.b.c", "(x, y)" / "C:m", "(x)"
local function function_line(line)
  local name, args = line:match("^%s*function%s+([%w_%.:]+)%s*(%b())")
  if name then return name, args end
  name, args = line:match("^%s*local%s+function%s+([%w_]+)%s*(%b())")
  if name then return name, args, true end
  return nil
end

-- Entries of one Lua file.  modname: the page; the file's own table (the
-- name after its final `return`) is written modname in entry names.
local function parse_lua(text, modname, file)
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
  local self_name
  for i = #lines, 1, -1 do
    self_name = lines[i]:match("^return%s+([%a_][%w_]*)%s*$")
    if self_name or lines[i]:match("%S") then break end
  end
  local out, i = {}, 1
  while i <= #lines do
    if lines[i]:match("^%s*%-%-%-%s") or lines[i]:match("^%s*%-%-%-$") then
      local block, start = {}, i
      block[1] = lines[i]:gsub("^%s*%-%-%-%s?", "")
      i = i + 1
      while i <= #lines and lines[i]:match("^%s*%-%-") and not lines[i]:match("^%s*%-%-%-") do
        block[#block + 1] = lines[i]:gsub("^%s*%-%-%s?", "")
        i = i + 1
      end
      local e = parse_block(block)
      local fname, args, is_local = function_line(lines[i] or "")
      if fname and not is_local then e.line = i end
      if not e.name and fname then
        e.name = fname
        e.signature = fname .. args
      end
      if e.name then
        if self_name and self_name ~= modname then   -- M.frechet_distance -> image_metrics.frechet_distance
          local head, rest = e.name:match("^([%w_]+)([%.:].*)$")
          if head == self_name then e.name = modname .. rest end
          if e.signature:sub(1, #self_name + 1) == self_name .. "." then
            e.signature = modname .. e.signature:sub(#self_name + 1)
          end
        end
        e.module, e.file, e.block_line = modname, file, start
        out[#out + 1] = e
      end
    else
      i = i + 1
    end
  end
  return out
end

-- The page of a C entry, from its name.
local function c_module(name)
  if name:match("^Tensor:") or name:match("^Tensor%.") then return "Tensor" end
  for _, sub in ipairs{"image", "linalg", "fs", "proc"} do
    if name:match("^lg%." .. sub .. "[%.:]") then return sub end
  end
  return "lg"
end

-- Classes of the C binding that no module exports (the objects lg.fs
-- returns): entry name -> registry name of their metatable, whose __index
-- holds the methods.
local C_CLASSES = {["lg.fs.File"] = "luagan.fs.file", ["lg.fs.Lock"] = "luagan.fs.lock"}

local function parse_c(text, file)
  local out = {}
  local pos = 1
  while true do
    local s, e = text:find("/%*%*%*", pos)
    if not s then break end
    local close = text:find("%*/", e + 1)
    if not close then break end
    local body = text:sub(e + 1, close - 1)
    local lines = {}
    for l in (body .. "\n"):gmatch("(.-)\n") do
      lines[#lines + 1] = l:gsub("^%s*%*+%s?", "", 1)
    end
    local _, line = text:sub(1, s):gsub("\n", "")
    local entry = parse_block(lines)
    if entry.name then
      entry.module, entry.file, entry.block_line = c_module(entry.name), file, line + 1
      out[#out + 1] = entry
    end
    pos = close + 2
  end
  return out
end

doc.parse_lua, doc.parse_c = parse_lua, parse_c

-- }======================================================

-- {====================================================== the reference

local cache
local by_value   -- value -> entry, built on the first lookup

local function add_to(ref, e)
  ref.list[#ref.list + 1] = e
  if not ref.by_name[e.name] then ref.by_name[e.name] = e end
  if e.line then
    local key = e.file:match("^lua/luagan/(.+)$") or e.file:match("[^/]*$")
    ref.by_line[key .. ":" .. e.line] = e
  end
end

-- Every entry, parsed once: {list = {...}, by_name = {}, by_line = {}}.
-- by_line["nn.lua:123"] (a package's part: "gan/loss.lua:40") is the entry of
-- the function defined on that line.
local function load()
  if cache then return cache end
  local ref = {list = {}, by_name = {}, by_line = {}, dir = doc.lua_dir(), c_source = "none"}
  local function add(e) add_to(ref, e) end
  if ref.dir then
    for _, m in ipairs(doc.LUA_MODULES) do
      for _, f in ipairs(module_files(ref.dir, m)) do
        local text = read(ref.dir .. "/luagan/" .. f)
        if text then
          for _, e in ipairs(parse_lua(text, m, "lua/luagan/" .. f)) do add(e) end
        end
      end
    end
    local cfiles = list_dir(ref.dir, "^l_.*%.c$")
    for _, f in ipairs(cfiles) do
      for _, e in ipairs(parse_c(read(ref.dir .. "/" .. f) or "", "lua/" .. f)) do add(e) end
    end
    if #cfiles > 0 then ref.c_source = "sources" end
  end
  if ref.c_source == "none" then   -- an installed copy: the data file make docs writes
    local ok, data = pcall(require, "luagan.doc_c")
    if ok and type(data) == "table" then
      for _, e in ipairs(data) do add(e) end
      ref.c_source = "doc_c"
    end
  end
  cache = ref
  return ref
end

-- Forgets the parsed reference (the sources changed).
function doc.reload() cache, by_value = nil, nil end

-- Adds entries (from parse_lua or parse_c of another source) to the reference.
function doc.add(entries)
  local ref = load()
  for _, e in ipairs(entries) do add_to(ref, e) end
  by_value = nil
end

function doc.entries() return load().list end

local function lg() return require "luagan" end

-- The value an entry name stands for: lg.conv2d, Tensor:matmul,
-- nn.Module:parameters, gan.hinge, parzen.evaluate; nil when the name starts
-- with a class the modules do not export (Optimizer:step).
function doc.resolve(name)
  local head, rest = name:match("^([%a_][%w_]*)(.*)$")
  if not head then return nil end
  local v
  local class, method = name:match("^([%w_%.]+):([%w_]+)$")
  if class and C_CLASSES[class] then
    lg()   -- the binding registers the metatables
    local mt = debug.getregistry()[C_CLASSES[class]]
    local methods = type(mt) == "table" and rawget(mt, "__index")
    return type(methods) == "table" and rawget(methods, method) or nil
  end
  if head == "lg" then v = lg()
  elseif head == "Tensor" then v = lg().Tensor
  elseif head == "image" then v = lg().image
  else
    for _, m in ipairs(doc.LUA_MODULES) do
      if m == head then
        local ok, mod = pcall(require, "luagan." .. m)
        v = ok and mod or nil
      end
    end
  end
  for sep, key in rest:gmatch("([%.:])([%w_]+)") do
    if type(v) ~= "table" then return nil end
    if sep == ":" then v = rawget(v, key) else v = v[key] end
  end
  return v
end

-- The binding registers a function shared by a method and lg (x:view(...)
-- and lg.view(x, ...)) twice, as two closures: two values.  One entry
-- documents both when its text names the other form, a method's entry
-- "lg.view" ("Also lg.view(x, ...)"), an lg entry ":equal(" ("Also
-- a:equal(b)"), and that other form is a C function.
local function c_twin(e)
  local L = lg()
  local m, f = e.name:match("^Tensor:([%w_]+)$"), nil
  if m and e.text:find("lg%." .. m .. "%f[^%w_]") then f = rawget(L, m) end
  m = e.name:match("^lg%.([%w_]+)$")
  if m and e.text:find(":" .. m .. "(", 1, true) then f = rawget(L.Tensor, m) end
  if type(f) == "function" and debug.getinfo(f, "S").what == "C" then return f end
  return nil
end

local function value_map()
  if by_value then return by_value end
  by_value = {}
  for _, e in ipairs(load().list) do
    local ok, v = pcall(doc.resolve, e.name)
    if ok and v ~= nil and (type(v) == "function" or type(v) == "table") and not by_value[v] then
      by_value[v] = e
    end
    local twin = c_twin(e)
    if twin and not by_value[twin] then by_value[twin] = e end
  end
  return by_value
end

-- The page a module table is, or nil: "lg", "Tensor", "image", "nn", ...
function doc.module_name(v)
  if type(v) ~= "table" then return nil end
  local L = lg()
  if v == L then return "lg" end
  if v == rawget(L, "Tensor") then return "Tensor" end
  if v == rawget(L, "image") then return "image" end
  if v == rawget(L, "linalg") then return "linalg" end
  if v == rawget(L, "fs") then return "fs" end
  if v == rawget(L, "proc") then return "proc" end
  for _, m in ipairs(doc.LUA_MODULES) do
    if package.loaded["luagan." .. m] == v then return m end
  end
  return nil
end

-- The entry documenting v (a function, class, instance or value), or nil.
function doc.lookup(v)
  local ref = load()
  if type(v) == "string" then return ref.by_name[v] end
  if type(v) == "function" then
    local info = debug.getinfo(v, "S")
    if info.what == "Lua" then
      local file = info.source:match("luagan/([%w_]+/[%w_]+%.lua)$")   -- a package's part
                   or info.source:match("luagan/([%w_]+%.lua)$")
      local e = file and ref.by_line[file .. ":" .. info.linedefined]
      if e then return e end
    end
  end
  local map = value_map()
  if map[v] then return map[v] end
  if type(v) == "table" or type(v) == "userdata" then   -- an instance: its class
    local mt = getmetatable(v)
    if type(mt) == "table" and map[mt] then return map[mt] end
  end
  return nil
end

-- Entries of a page, in source order.
function doc.module_entries(name)
  local out = {}
  for _, e in ipairs(load().list) do
    if e.module == name then out[#out + 1] = e end
  end
  return out
end

-- }======================================================

-- {====================================================== help in the REPL

local function indent(text, pad)
  return (pad .. text:gsub("\n", "\n" .. pad)):gsub("%s+\n", "\n"):gsub("%s+$", "")
end

-- An entry as help() prints it.
function doc.format(e)
  local out = {e.signature or e.name, ""}
  if e.text ~= "" then out[#out + 1] = indent(e.text, "  ") end
  if #e.params > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "  Arguments:"
    for _, p in ipairs(e.params) do out[#out + 1] = "    " .. p end
  end
  if #e.returns > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "  Returns: " .. table.concat(e.returns, "; ")
  end
  if #e.usage > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "  Example:"
    out[#out + 1] = indent(table.concat(e.usage, "\n"), "    ")
  end
  if #e.see > 0 then out[#out + 1] = "  See also: " .. table.concat(e.see, ", ") end
  out[#out + 1] = ("  (%s:%d)"):format(e.file, e.line or e.block_line)
  return table.concat(out, "\n")
end

local function shorten(s, n)
  if #s <= n then return s end
  return s:sub(1, n - 3) .. "..."
end

-- A page as help(module) prints it: one line per entry.
function doc.format_module(name)
  local es = doc.module_entries(name)
  local title = name == "lg" and "lg" or name == "Tensor" and "Tensor methods (x:name(...))"
                or name == "image" and "lg.image" or "lg." .. name
  local out = {}
  for _, p in ipairs(PAGES) do
    if p[1] == name then title = title .. ": " .. p[2] end
  end
  out[1] = title
  if #es == 0 then
    out[2] = "  (no doc entries yet)"
    return table.concat(out, "\n")
  end
  local w = 0
  for _, e in ipairs(es) do w = math.max(w, math.min(#e.name, 30)) end
  for _, e in ipairs(es) do
    out[#out + 1] = shorten(("  %-" .. w .. "s  %s"):format(e.name, e.summary), 100)
  end
  for _, e in ipairs(es) do
    if not e.name:find(":", 1, true) then
      out[#out + 1] = "help(name) shows one entry, e.g. help(" .. e.name .. ")"
      break
    end
  end
  return table.concat(out, "\n")
end

local GENERAL = [[
help(x) shows the documentation of x: a function (help(lg.conv2d)), a module
class (help(nn.Conv2d)), a value (help(lg.gan.hinge)), an object (help(G) shows
its class) or a module (help(nn) lists its entries).  `?x` at the prompt is
short for help(x); help("word") lists the entries whose name contains word.
Tab completes globals, fields (lg.con<TAB>) and methods (x:ma<TAB>).
Modules:]]

-- How a page's module is reached: lg.nn, or require "luagan.parzen".
local function page_title(name)
  if name == "lg" then return "lg" end
  if name == "Tensor" then return "lg.Tensor" end
  if name == "parzen" or name == "util" or name == "image_metrics" then
    return ('require "luagan.%s"'):format(name)
  end
  return "lg." .. name
end

local function general()
  local out = {GENERAL}
  for _, p in ipairs(PAGES) do
    local n = #doc.module_entries(p[1])
    out[#out + 1] = ("  %-30s %s%s"):format(page_title(p[1]), p[2],
      n == 0 and " [not documented yet]" or "")
  end
  out[#out + 1] = "The whole reference: `make docs` writes build/docs/index.md."
  return table.concat(out, "\n")
end

-- The name under which v is reachable from the modules, for a message.
local function find_name(v)
  local L = lg()
  local roots = {{"lg", L}, {"Tensor", rawget(L, "Tensor")}, {"lg.image", rawget(L, "image")},
                 {"lg.linalg", rawget(L, "linalg")}, {"lg.fs", rawget(L, "fs")},
                 {"lg.proc", rawget(L, "proc")}}
  for _, m in ipairs(doc.LUA_MODULES) do
    local mod = package.loaded["luagan." .. m]
    if mod then roots[#roots + 1] = {m, mod} end
  end
  for _, r in ipairs(roots) do
    for k, x in pairs(r[2]) do
      if x == v then return r[1] .. (r[1] == "Tensor" and ":" or ".") .. tostring(k) end
    end
  end
  return nil
end

-- The text help(...) prints for v.
function doc.help_text(...)
  if select("#", ...) == 0 then return general() end
  local v = ...
  local mod = doc.module_name(v)
  if mod then return doc.format_module(mod) end
  if lg().is_tensor(v) then return doc.format_module("Tensor") end
  if type(v) == "string" then
    local e = load().by_name[v]
    if e then return doc.format(e) end
    local hits = {}
    for _, x in ipairs(load().list) do
      if x.name:lower():find(v:lower(), 1, true) then
        hits[#hits + 1] = ("  %-30s %s"):format(x.name, shorten(x.summary, 68))
      end
    end
    if #hits == 0 then return ("help: no entry matches '%s'"):format(v) end
    return table.concat(hits, "\n")
  end
  local e = doc.lookup(v)
  if e then return doc.format(e) end
  local methods = (type(v) == "table" or type(v) == "userdata") and doc.methods_text(v)
  if methods then return methods end
  if v == nil then return "help: the value is nil (a misspelt name?)" end
  local name = find_name(v)
  if name then
    return ("%s: no documentation yet (no doc entry; see help(%s))"):format(name,
      name:match("^(.-)[%.:]") or "lg")
  end
  return ("help: no documentation for this %s"):format(type(v))
end

-- An object of a class that has no entry itself (an optimizer, a run, a
-- file of lg.fs): the documented methods of its class, or nil.
function doc.methods_text(v)
  local mt = getmetatable(v)
  local cls = type(mt) == "table" and rawget(mt, "__index")
  if type(cls) ~= "table" then return nil end
  local es = {}
  for _, f in pairs(cls) do
    local e = type(f) == "function" and doc.lookup(f)
    if e then es[#es + 1] = e end
  end
  if #es == 0 then return nil end
  table.sort(es, function(a, b) return a.name < b.name end)
  local out = {"an object with the methods:"}
  for _, x in ipairs(es) do
    out[#out + 1] = shorten(("  %-30s %s"):format(x.name, x.summary), 100)
  end
  out[#out + 1] = ('help("%s") shows one'):format(es[1].name)
  return table.concat(out, "\n")
end

function doc.help(...)
  print(doc.help_text(...))
end

-- Loads lg's submodules (lg.gan, lg.data, ...), which lg otherwise loads
-- on first use, so that completing lg.<TAB> lists them.  A submodule that
-- fails to load is left out.
function doc.load_submodules()
  local L = lg()
  for _, m in ipairs(doc.LUA_MODULES) do pcall(function() return L[m] end) end
end

-- ?name at the prompt: help for the value at a name path from the globals
-- (lg.nn.Linear, x:matmul), looked up without raising on a missing part.
function doc.help_path(path)
  local v, done = _G, ""
  for sep, key in ("." .. path):gmatch("([%.:])([^%.:]+)") do
    local ok, nv = pcall(function() return v[key] end)
    if not ok or nv == nil then
      return print(("help: %s is nil"):format(done == "" and key or done .. sep .. key))
    end
    v, done = nv, done == "" and key or done .. sep .. key
  end
  local text = doc.help_text(v)
  if doc.lookup(v) == nil and type(v) == "function" and text:match("^help: no documentation") then
    text = path .. ": no doc entry"
  end
  print(text)
end

-- }======================================================

-- {====================================================== values at the prompt

-- v as a short text for the REPL: tables show their contents up to `depth`
-- levels and `limit` entries each, a tensor its shape.
local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  if type(k) == "string" then return ("[%q]"):format(k) end
  return "[" .. tostring(k) .. "]"
end

local function short(v)
  local L = lg()
  if L.is_tensor(v) then
    local ok, shape = pcall(function() return v.shape end)
    return ok and ("tensor[%s]"):format(table.concat(shape, ",")) or "tensor(freed)"
  end
  if type(v) == "string" then return ("%q"):format(#v > 60 and v:sub(1, 57) .. "..." or v) end
  if type(v) == "function" then
    local e = doc.lookup(v)
    return e and "function " .. e.name or "function"
  end
  return tostring(v)
end

local function sorted_keys(t, from)
  local ks = {}
  for k in next, t do   -- raw: no __pairs
    if not (math.type(k) == "integer" and k >= 1 and k <= from) then ks[#ks + 1] = k end
  end
  table.sort(ks, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta == "number" end
    if ta == "number" or ta == "string" then
      local ua, ub = ta == "string" and a:sub(1, 1) == "_", tb == "string" and b:sub(1, 1) == "_"
      if ua ~= ub then return ub end   -- _private and __meta keys last
      return a < b
    end
    return tostring(a) < tostring(b)
  end)
  return ks
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local repr

-- the parts "1", "x = 2", ... of table t; `more` counts those left out
local function parts(t, depth, limit, seen)
  local out, n = {}, rawlen(t)
  for i = 1, n do
    if #out >= limit then break end
    out[#out + 1] = repr(rawget(t, i), depth, limit, seen)
  end
  local ks = sorted_keys(t, n)
  local more = math.max(0, n - #out)
  for _, k in ipairs(ks) do
    if #out >= limit then more = more + 1
    else out[#out + 1] = key_text(k) .. " = " .. repr(rawget(t, k), depth, limit, seen) end
  end
  return out, more
end

repr = function(v, depth, limit, seen)
  if type(v) ~= "table" or has_tostring(v) then
    local s = short(v)
    if type(v) == "table" then s = s:match("^[^\n]*") end
    return s
  end
  if seen[v] then return "{<cycle>}" end
  if depth <= 0 then return next(v) == nil and "{}" or "{...}" end
  seen[v] = true
  local ps, more = parts(v, depth - 1, limit, seen)
  seen[v] = nil
  if more > 0 then ps[#ps + 1] = ("... (%d more)"):format(more) end
  return "{" .. table.concat(ps, ", ") .. "}"
end

-- The text the REPL prints for a table without __tostring: its contents, two
-- levels deep and `limit` (20) entries per table, one line when short.
function doc.repr(v, limit)
  limit = limit or 20
  if type(v) ~= "table" or has_tostring(v) then return short(v) end
  local mt = getmetatable(v)
  local class = type(mt) == "table" and type(rawget(mt, "__name")) == "string" and
                rawget(mt, "__name") .. " " or ""   -- an object: Loader {...}
  local line = class .. repr(v, 2, limit, {})
  if #line <= 100 then return line end
  local seen = {[v] = true}
  local ps, more = parts(v, 1, limit, seen)
  for i, p in ipairs(ps) do   -- one line per entry: nested tables shortened
    if #p > 100 then ps[i] = p:sub(1, 96) .. " ...}" end
  end
  local out = {class .. "{"}
  for _, p in ipairs(ps) do out[#out + 1] = "  " .. p .. "," end
  if more > 0 then out[#out + 1] = ("  ... (%d more)"):format(more) end
  out[#out + 1] = "}"
  return table.concat(out, "\n")
end

-- }======================================================

-- {====================================================== the markdown reference

-- An entry's text as markdown: indented lines (formulas, tables of fields)
-- become code blocks, a Shapes: line its own paragraph.
local function md_text(text)
  local out, code = {}, false
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local indented = line:match("^  ") ~= nil
    if indented ~= code then
      out[#out + 1] = "```"
      code = indented
    end
    if not code and line:match("^Shapes:") then out[#out + 1] = "" end
    out[#out + 1] = line
  end
  if code then out[#out + 1] = "```" end
  return table.concat(out, "\n")
end

local function md_entry(e)
  local out = {("### `%s`"):format(e.signature or e.name), ""}
  if e.text ~= "" then out[#out + 1] = md_text(e.text); out[#out + 1] = "" end
  if #e.params > 0 then
    for _, p in ipairs(e.params) do
      local n, rest = p:match("^(%S+)%s*(.*)$")
      out[#out + 1] = ("- `%s`: %s"):format(n or p, rest or "")
    end
    out[#out + 1] = ""
  end
  if #e.returns > 0 then
    out[#out + 1] = "Returns " .. table.concat(e.returns, "; ")
    out[#out + 1] = ""
  end
  if #e.usage > 0 then
    out[#out + 1] = "```lua"
    out[#out + 1] = table.concat(e.usage, "\n")
    out[#out + 1] = "```"
    out[#out + 1] = ""
  end
  if #e.see > 0 then out[#out + 1] = "See also " .. table.concat(e.see, ", ") .. "."; out[#out + 1] = "" end
  out[#out + 1] = ("<sub>%s:%d</sub>"):format(e.file, e.line or e.block_line)
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Lua text of a plain value (strings, numbers, lists, tables of them).
local function serialize(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local ps = {}
  for _, k in ipairs(sorted_keys(v, #v)) do ps[#ps + 1] = key_text(k) .. " = " .. serialize(v[k]) end
  for i = 1, #v do table.insert(ps, i, serialize(v[i])) end
  return "{" .. table.concat(ps, ", ") .. "}"
end

-- Writes the reference into dir: index.md, one NAME.md per page, and
-- luagan/doc_c.lua (the C entries, for a copy without the C sources).
-- Returns the number of entries written.
function doc.generate(dir)
  assert(os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "/luagan'"), "cannot create " .. dir)
  local idx = {"# luagan API reference", "",
    "Generated by `make docs` from the doc comments in `lua/luagan/*.lua` and `lua/l_*.c`;",
    "in the REPL, `help(x)` or `?x` prints the same entries.", "",
    "| page | contents | entries |", "|---|---|---|"}
  local total, c_entries = 0, {}
  for _, p in ipairs(PAGES) do
    local es = doc.module_entries(p[1])
    local title = p[1] == "Tensor" and "Tensor methods" or page_title(p[1])
    idx[#idx + 1] = ("| [%s](%s.md) | %s | %s |"):format(title, p[1], p[2],
      #es > 0 and tostring(#es) or "not documented yet")
    local page = {("# %s"):format(title), "", p[2] .. ".", ""}
    if #es == 0 then page[#page + 1] = "_No doc entries yet._\n" end
    for _, e in ipairs(es) do
      page[#page + 1] = ("- [`%s`](#%s)"):format(e.name,
        (e.signature or e.name):lower():gsub("[^%w%s_-]", ""):gsub("%s", "-"))
    end
    page[#page + 1] = ""
    for _, e in ipairs(es) do
      page[#page + 1] = md_entry(e)
      if e.file:match("%.c$") then c_entries[#c_entries + 1] = e end
    end
    write(dir .. "/" .. p[1] .. ".md", table.concat(page, "\n"))
    total = total + #es
  end
  idx[#idx + 1] = ""
  idx[#idx + 1] = "See also [the tutorial](../../docs/tutorial.md) and [the design](../../docs/design.md)."
  write(dir .. "/index.md", table.concat(idx, "\n") .. "\n")
  local data = {"-- generated by make docs from lua/l_*.c: the C functions' doc entries", "return {"}
  for _, e in ipairs(c_entries) do data[#data + 1] = "  " .. serialize(e) .. "," end
  data[#data + 1] = "}"
  write(dir .. "/luagan/doc_c.lua", table.concat(data, "\n") .. "\n")
  return total
end

-- }======================================================

return doc
