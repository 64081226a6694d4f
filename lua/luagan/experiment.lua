-- luagan.experiment: command-line flags, run directories, checkpoints and exact resume.
--
--   local run = lg.experiment{name = "gan_mnist", iters = 5000, lr = 2e-4, loss = "nonsat"}
--   local cfg = run.config                  -- the resolved flags
--   run.given                               -- the set of flags on the command line
--   ... build data, models, optimizers, a loader, fixed noise z ...
--   run:track{G = G, D = D, optG = optG, optD = optD, data = loader, state = {}}
--   run:sampler(function() return G(z) end)                 -- images in [-1, 1]
--   for it in run:iterations() do
--     ... one training step ...
--     run:log{lossD = lossD, lossG = lossG}                  -- numbers or 1-element tensors
--   end
--   run:rows()  -- metrics.csv read back (also the rows of the run it resumed)
--
-- Flags.  Every key of the table given to lg.experiment is a flag typed by its
-- default (integer, float, string or boolean); `name` names the experiment and
-- an optional `doc = {key = "text"}` describes flags for --help.  Every
-- experiment also has the common flags below (an experiment's table may change
-- their defaults).  `--key value` and `--key=value` are accepted, `-` and `_`
-- alike in names; a boolean is `--flag`, `--flag true` or `--flag false`.  An
-- unknown or ill-typed flag stops the script with a message listing the valid
-- flags; `--help` prints them with their defaults and exits.
-- A flag with a fixed set of values is declared by the list of its choices,
-- the first being the default: `noise = {"uniform", "normal"}`, `size = {28,
-- 32, 64, default = 64}` (`default =` picks another one; all choices of one
-- kind).  A value outside them stops the script: "--noise must be uniform or
-- normal, got gauss".  (Flags hold single values, so a list is never a
-- default.)
--
-- run:fail(msg), or experiment.fail(name, msg) before a run exists, prints
-- "NAME: msg" on stderr and exits with status 2, the status of every flag
-- error: for checks across flags the declaration cannot express.  The run
-- directory is made by run:iterations(), so a script failing before its loop
-- leaves none behind.
-- The time of the loop is the harness's: run:speed() gives the iterations run
-- by this process, their seconds and it/s, and the end of a run prints
-- "NAME: N iterations in S s, R it/s" on stdout.
--
-- The run directory (--out, default runs/<name>-<yyyymmdd-hhmmss>) holds
--   config.lua          the resolved flags, a Lua table (`return {...}`); read
--                       back by --resume as data (never run: only literals
--                       and tables are accepted)
--   metrics.csv         one row per iteration that logged: `iter` then the
--                       first logged row's keys in sorted order; floats as %.9g;
--                       each row one checked append, so a kill leaves whole rows
--                       and a full disk raises with the file as it was
--   samples/iter-NNNNNN.png   grids of the sampler's images, every --sample_every
--                       iterations and at the end
--   loss.png, loss.gp   every metrics column against iter (gnuplot), refreshed
--                       with the samples; skipped with a note when gnuplot is missing
--   checkpoint.safetensors               the latest checkpoint
--   checkpoints/iter-NNNNNN.safetensors  every --checkpoint_every iterations
--   .lock               held (flock) by the process running the run, holding its
--                       pid: a second run or --resume on the directory is refused
-- Every file is replaced atomically (lg.fs.write_atomic, lg.save,
-- lg.image.save: a temporary file, fsync, rename): a kill or a full disk
-- leaves the previous version, and the error names the file and the reason.
-- Temporary files of a killed save are removed when the directory is opened.
-- run:write(name, text) writes a file of the experiment's own the same way.
-- A checkpoint (lg.save, written atomically) holds every tracked object's
-- state_dict under "<name>.<key>" (modules, optimizers, loaders: anything with
-- state_dict/load_state_dict), and in its metadata the iteration, lg's random
-- generator state, the length of metrics.csv at that point and the plain
-- tables passed to track (numbers, strings, booleans; tensors in them are
-- stored as tensors) and the wall-clock seconds the run has taken up to it,
-- set-up included and summed over its resumes (what a process ran after its
-- last checkpoint is not counted: it is run again).  The run's checkpoints
-- come after the row, the sample and the plot of their iteration.
--
-- --resume DIR reruns the script's set-up (same seed, so the same models,
-- loader and fixed noise are built), then run:iterations() loads
-- DIR/checkpoint.safetensors into the tracked objects, restores the random
-- generator, cuts metrics.csv back to the checkpoint and continues after its
-- iteration: the metrics are bitwise identical to an uninterrupted run.  The
-- flags come from DIR/config.lua; flags given with --resume override them
-- (changing any but --iters breaks the identity).  --stop_at N ends the
-- process after iteration N with a checkpoint, as an interruption would.
-- A run stopped before its first checkpoint has nothing to continue:
-- --resume DIR, or the same --out again, starts it over from iteration 0
-- (its partial rows, samples and plot are removed); --out on a directory
-- holding a checkpoint is refused.
--
-- Progress goes to stderr: a bar (iterations/s, ETA, last logged values) when
-- stderr is a terminal, else a line every tenth of the run or minute.
--
-- Data parallel.  Under `mpirun -np N` (lg.dist.size() > 1) every rank runs
-- the script: the flags must agree on every rank (checked one by one, an
-- error names the flag and the rank); lg's generator is the stream shared
-- by the ranks (lg.dist.seed(seed, "shared")), so every rank draws the same
-- global batch and keeps its lg.dist.shard, and lg.dist.own(fn) draws from
-- the rank's own stream; --batch must be a multiple of N.  Rank 0 alone
-- writes the run directory (and holds its lock); the others write nothing.
-- run:log's numbers are averaged over the ranks (in double, rank order;
-- booleans and strings are rank 0's).  Samplers and checkpoints run on every
-- rank (a checkpoint also holds every rank's own stream and N); --resume
-- has every rank load the same checkpoint (the run directory must be
-- readable by all: one machine or a shared file system) and refuses a job
-- of another N.  See docs/distributed.md.
local lg = require "luagan"
local sorted_keys = require("luagan.util").sorted_keys
local dist = lg.dist

local experiment = {}

-- {====================================================== flags

-- name, default, description; in --help order
local COMMON = {
  {"iters", 1000, "training iterations"},
  {"batch", 64, "batch size"},
  {"seed", 1, "seed of lg's random generator"},
  {"dataset", "mnist", "data set"},
  {"out", "", "run directory (default runs/<name>-<timestamp>)"},
  {"sample_every", 500, "write a sample grid every N iterations (0: only at the end)"},
  {"checkpoint_every", 1000, "keep a checkpoint every N iterations (0: only the latest, at the end)"},
  {"resume", "", "continue the run in this directory from its latest checkpoint"},
  {"stop_at", 0, "stop after iteration N with a checkpoint (0: run to the end)"},
  {"threads", 0, "compute threads (0: the library's default)"},
}
-- flags that steer this process only: not written to config.lua
local RUN_CONTROL = {resume = true, stop_at = true}

local function kind(v)
  local t = type(v)
  if t == "table" then return nil end
  if t == "number" then return math.type(v) == "integer" and "integer" or "number" end
  if t == "string" or t == "boolean" then return t end
  return nil
end

-- a flag declared by its choices -> default, kind, choices
local function choice_spec(k, v)
  local n = #v
  if n == 0 then
    error(("experiment: default of '%s' must be a number, string or boolean, or a list of "
      .. "its choices, got an empty table"):format(k), 4)
  end
  -- integers and floats mix (then all are floats): {0.5, 1}
  local kd = kind(v[1])
  for key, c in pairs(v) do
    if key ~= "default" and (math.type(key) ~= "integer" or key < 1 or key > n) then
      error(("experiment: choices of '%s' are a list (and default =), got key %s")
        :format(k, tostring(key)), 4)
    end
    local kc = kind(c)
    if kc == "number" and kd == "integer" then kd = "number" end
    if kc ~= kd and not (kc == "integer" and kd == "number") or kd == "boolean" then
      error(("experiment: choices of '%s' must be numbers or strings of one kind"):format(k), 4)
    end
  end
  local default = v.default
  if default == nil then default = v[1] end
  local found = false
  for _, c in ipairs(v) do found = found or c == default end
  if not found then
    error(("experiment: default of '%s' is not one of its choices"):format(k), 4)
  end
  local choices = {}
  for i, c in ipairs(v) do choices[i] = kd == "number" and c + 0.0 or c end
  return kd == "number" and default + 0.0 or default, kd, choices
end

-- "a, b or c"
local function either(choices)
  local t = {}
  for i, c in ipairs(choices) do t[i] = c == "" and '""' or tostring(c) end
  if #t == 1 then return t[1] end
  return table.concat(t, ", ", 1, #t - 1) .. " or " .. t[#t]
end

-- ordered flag specs {key=, default=, kind=, doc=, choices=} from a defaults table
local function specs(defaults)
  if type(defaults) ~= "table" then error("experiment: a table of defaults is expected", 3) end
  local doc = defaults.doc or {}
  local list, seen = {}, {}
  for _, c in ipairs(COMMON) do
    local k = c[1]
    local v, choices = defaults[k], nil
    if v == nil then v = c[2] end
    if type(v) == "table" then
      local _
      v, _, choices = choice_spec(k, v)
    end
    if kind(v) ~= kind(c[2]) then
      error(("experiment: default of '%s' must be a %s, got %s"):format(k, kind(c[2]), type(v)), 3)
    end
    list[#list + 1] = {key = k, default = v, kind = kind(v), doc = doc[k] or c[3], choices = choices}
    seen[k] = true
  end
  local own = {}
  for k, v in pairs(defaults) do
    if k ~= "name" and k ~= "doc" and not seen[k] then
      if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
        error(("experiment: flag names must be identifiers, got %s"):format(tostring(k)), 3)
      end
      if k == "help" then error("experiment: 'help' is reserved", 3) end
      if type(v) ~= "table" and not kind(v) then
        error(("experiment: default of '%s' must be a number, string or boolean, or a list "
          .. "of its choices, got %s"):format(k, type(v)), 3)
      end
      own[#own + 1] = k
    end
  end
  table.sort(own)
  for _, k in ipairs(own) do
    local v = defaults[k]
    if type(v) == "table" then
      local d, kd, choices = choice_spec(k, v)
      list[#list + 1] = {key = k, default = d, kind = kd, doc = doc[k], choices = choices}
    else
      list[#list + 1] = {key = k, default = v, kind = kind(v), doc = doc[k]}
    end
  end
  return list
end

local function show(v)
  if type(v) == "string" then return v == "" and '""' or v end
  return tostring(v)
end

local function flag_names(list)
  local names = {}
  for i, s in ipairs(list) do names[i] = "--" .. s.key end
  names[#names + 1] = "--help"
  return table.concat(names, " ")
end

-- The --help text.
local PLACEHOLDER = {integer = "N", number = "X", string = "S", boolean = "[true|false]"}

--- experiment.usage(defaults) -> string
-- The --help text of an experiment: its flags (the common ones, then its own
-- in sorted order) with their kinds or choices, descriptions (defaults.doc)
-- and defaults.
-- @usage print(lg.experiment.usage{name = "toy", lr = 1e-3, doc = {lr = "learning rate"}})
function experiment.usage(defaults)
  local list = specs(defaults)
  local name = defaults.name or "experiment"
  local lines = {("usage: luagan %s.lua [--flag value ...]"):format(name), "flags:"}
  local heads, w = {}, 6
  for i, s in ipairs(list) do
    local values = PLACEHOLDER[s.kind]
    if s.choices then
      local t = {}
      for j, c in ipairs(s.choices) do t[j] = show(c) end
      values = table.concat(t, "|")
    end
    heads[i] = ("--%s %s"):format(s.key, values)
    w = math.max(w, #heads[i])
  end
  for i, s in ipairs(list) do
    lines[#lines + 1] = ("  %-" .. w .. "s  %s%sdefault %s"):format(heads[i], s.doc or "",
      s.doc and "; " or "", show(s.default))
  end
  lines[#lines + 1] = ("  %-" .. w .. "s  print this and exit"):format("--help")
  return table.concat(lines, "\n")
end

local function convert(s, text)
  if s.kind == "string" then return text end
  if s.kind == "boolean" then
    if text == "true" then return true elseif text == "false" then return false end
    return nil, "true or false"
  end
  local n = tonumber(text)
  if s.kind == "integer" then
    n = n and math.tointeger(n)
    if not n then return nil, "an integer" end
    return n
  end
  if not n then return nil, "a number" end
  return n + 0.0
end

-- experiment.parse(defaults, argv) -> config, given
--   config: the resolved flags; given: set of the flags on the command line.
-- Returns nil, usage text when argv asks for --help; raises on a bad flag.
--- experiment.parse(defaults [, argv]) -> config, given | nil, usage
-- Resolves the flags of argv (a list of strings) against defaults: every key
-- of defaults but name and doc is a flag typed by its default (integer,
-- float, string or boolean), plus the common flags iters, batch, seed,
-- dataset, out, sample_every, checkpoint_every, resume, stop_at and threads.
-- `--key value` and `--key=value`, `-` and `_` alike; a boolean is `--flag`
-- or `--flag true|false`.  A default given as a list declares the flag's
-- choices (the first is the default unless `default =` names another:
-- `noise = {"uniform", "normal"}`, `size = {28, 32, 64, default = 64}`).
-- Returns the resolved table and the set of flags given, or nil and the
-- usage text for --help; raises listing the valid flags for an unknown or
-- ill-typed one, and "--noise must be uniform or normal, got gauss" for a
-- value outside the choices.  Creates nothing on disk.
-- @usage local cfg, given = lg.experiment.parse({name = "toy", lr = 1e-3}, {"--lr", "0.01", "--iters=50"})
-- print(cfg.lr, cfg.iters, given.lr)   --> 0.01  50  true
function experiment.parse(defaults, argv)
  local list = specs(defaults)
  local by_key = {}
  for _, s in ipairs(list) do by_key[s.key] = s end
  local cfg, given = {}, {}
  for _, s in ipairs(list) do cfg[s.key] = s.default end
  argv = argv or {}
  local i = 1
  local function fail(msg)
    error(("%s\nvalid flags: %s (--help lists them with defaults)"):format(msg, flag_names(list)), 0)
  end
  while i <= #argv do
    local a = argv[i]
    if a == "--help" or a == "-h" then return nil, experiment.usage(defaults) end
    local key, val = a:match("^%-%-([%w_%-]+)=(.*)$")
    if not key then key = a:match("^%-%-([%w_%-]+)$") end
    if not key then fail(("unexpected argument '%s' (flags look like --key value)"):format(a)) end
    key = key:gsub("%-", "_")
    local s = by_key[key]
    if not s then fail(("unknown flag --%s"):format(key)) end
    if val == nil then
      local nxt = argv[i + 1]
      if s.kind == "boolean" then
        if nxt == "true" or nxt == "false" then val, i = nxt, i + 1 else val = "true" end
      else
        if nxt == nil then fail(("flag --%s needs a value (%s)"):format(key, s.kind)) end
        val, i = nxt, i + 1
      end
    end
    local v, want = convert(s, val)
    if v == nil then
      fail(("flag --%s expects %s, got '%s'"):format(key, want, val))
    end
    if s.choices then
      local ok = false
      for _, c in ipairs(s.choices) do ok = ok or c == v end
      if not ok then error(("--%s must be %s, got %s"):format(key, either(s.choices), val), 0) end
    end
    cfg[key], given[key] = v, true
    i = i + 1
  end
  for _, k in ipairs{"iters", "batch", "sample_every", "checkpoint_every", "stop_at", "threads"} do
    if cfg[k] < 0 or (cfg[k] == 0 and (k == "batch")) then
      fail(("flag --%s must be %s, got %d"):format(k, k == "batch" and "positive" or ">= 0", cfg[k]))
    end
  end
  return cfg, given
end

-- }======================================================

-- {====================================================== files

local fs = lg.fs

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function exists(path) return fs.kind(path) ~= nil end

-- a number as the shortest text that reads back to the same value
local function number_text(v)
  if math.type(v) == "integer" then return ("%d"):format(v) end
  if v ~= v then return "0/0" end
  if v == math.huge then return "math.huge" elseif v == -math.huge then return "-math.huge" end
  for p = 15, 17 do
    local s = ("%." .. p .. "g"):format(v)
    if tonumber(s) == v then
      if not s:find("[%.eEn]") then s = s .. ".0" end
      return s
    end
  end
end


-- Lua text of a plain value (numbers exact); tensors are left out.
local function serialize(v, indent)
  local t = type(v)
  if t == "number" then return number_text(v) end
  if t == "string" then return ("%q"):format(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" and not lg.is_tensor(v) then
    indent = indent or ""
    local inner, parts = indent .. "  ", {}
    for _, k in ipairs(sorted_keys(v)) do
      if not lg.is_tensor(v[k]) then
        local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or
                    "[" .. serialize(k) .. "]"
        parts[#parts + 1] = inner .. key .. " = " .. serialize(v[k], inner)
      end
    end
    if #parts == 0 then return "{}" end
    return "{\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "}"
  end
  error(("experiment: cannot store a %s"):format(t), 0)
end

-- {------------------------------------------------------ reading values back
-- The text serialize writes (config.lua, a checkpoint's user state) is read
-- back as data, never run: a file holding `while true do end` is refused,
-- not executed.  Accepted: an optional `return`, `--` line comments, string
-- literals with Lua's escapes, numbers (also 0/0, math.huge, -math.huge),
-- true, false and tables of these (`name =`, `[value] =` or positional
-- fields, separated by `,` or `;`).
-- experiment.read_data(text, what) -> the value; `what` names the text in
-- the error raised for anything else.

local ESCAPES = {a = "\a", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", v = "\v",
                 ["\\"] = "\\", ['"'] = '"', ["'"] = "'", ["\n"] = "\n"}
local MAX_DEPTH = 100

--- experiment.read_data(text, what) -> value
-- Reads a Lua data literal as written to config.lua and checkpoints, without
-- running it: an optional `return`, `--` comments, strings, numbers (also
-- 0/0, math.huge), booleans and nested tables.  Anything else (code, calls,
-- a loop) raises "experiment: WHAT is malformed: ... at line N".
-- @usage local t = lg.experiment.read_data('return {lr = 0.0002, name = "x", dims = {1, 2}}', "config")
-- print(t.lr, t.dims[2])   --> 0.0002  2
function experiment.read_data(text, what)
  local pos = 1
  local function fail(msg)
    local line = select(2, text:sub(1, pos - 1):gsub("\n", "")) + 1
    local near = text:match("^[^\n]?[^\n]?[^\n]?[^\n]?[^\n]?[^\n]?[^\n]?[^\n]?[^\n]?[^\n]?", pos)
    error(("experiment: %s is malformed: %s at line %d%s"):format(what, msg, line,
      near ~= "" and (" near '" .. near .. "'") or " at the end"), 0)
  end
  local function skip()
    while true do
      pos = text:match("^[ \t\r\n]*()", pos)
      if text:sub(pos, pos + 1) ~= "--" or text:sub(pos + 2, pos + 2) == "[" then return end
      pos = text:match("^[^\n]*()", pos)
    end
  end
  local function accept(s)
    skip()
    if text:sub(pos, pos + #s - 1) == s then pos = pos + #s return true end
    return false
  end
  local function string_literal()
    local q = text:sub(pos, pos)
    pos = pos + 1
    local out = {}
    while true do
      local plain, p = text:match("^([^\\\n\r\"']*)()", pos)
      out[#out + 1] = plain
      pos = p
      local c = text:sub(pos, pos)
      if c == q then pos = pos + 1 return table.concat(out) end
      if c == "" or c == "\n" or c == "\r" then fail("unfinished string") end
      if c ~= "\\" then out[#out + 1], pos = c, pos + 1 else
        local e = text:sub(pos + 1, pos + 1)
        if ESCAPES[e] then out[#out + 1], pos = ESCAPES[e], pos + 2
        elseif e == "\r" then out[#out + 1], pos = "\n", text:match("^\r\n?()", pos + 1)
        elseif e == "z" then pos = text:match("^%s*()", pos + 2)
        elseif e == "x" then
          local h = text:match("^%x%x", pos + 2)
          if not h then fail("bad \\x escape") end
          out[#out + 1], pos = string.char(tonumber(h, 16)), pos + 4
        elseif e:match("%d") then
          local d = text:match("^%d%d?%d?", pos + 1)
          if tonumber(d) > 255 then fail("decimal escape too large") end
          out[#out + 1], pos = string.char(tonumber(d)), pos + 1 + #d
        elseif e == "u" then
          local h = text:match("^{(%x+)}", pos + 2)
          if not h or #h > 8 or tonumber(h, 16) > 0x7FFFFFFF then fail("bad \\u escape") end
          out[#out + 1], pos = utf8.char(tonumber(h, 16)), pos + 4 + #h
        else fail("invalid escape") end
      end
    end
  end
  local value
  local function table_literal(depth)
    if depth > MAX_DEPTH then fail("tables nested too deeply") end
    local t, n = {}, 0
    while not accept("}") do
      local key
      skip()
      local name, p = text:match("^([%a_][%w_]*)%s*=()", pos)
      if name and text:sub(p, p) ~= "=" then key, pos = name, p
      elseif accept("[") then
        key = value(depth + 1)
        if key == nil or key ~= key then fail("bad table key") end
        if not accept("]") or not accept("=") then fail("']' and '=' expected") end
      end
      local v = value(depth + 1)
      if key == nil then n = n + 1 key = n end
      t[key] = v
      if not accept(",") and not accept(";") then
        if not accept("}") then fail("',' or '}' expected") end
        break
      end
    end
    return t
  end
  function value(depth)
    skip()
    local c = text:sub(pos, pos)
    if c == "{" then pos = pos + 1 return table_literal(depth) end
    if c == '"' or c == "'" then return string_literal() end
    for word, v in pairs{["true"] = true, ["false"] = false, ["math.huge"] = math.huge,
                         ["-math.huge"] = -math.huge, ["0/0"] = 0 / 0} do
      if text:sub(pos, pos + #word - 1) == word and not text:match("^[%w_]", pos + #word) then
        pos = pos + #word
        return v
      end
    end
    local num = text:match("^%-?0[xX]%x+", pos) or text:match("^%-?%d*%.?%d+[eE][%+%-]?%d+", pos)
             or text:match("^%-?%d+%.?%d*", pos) or text:match("^%-?%.%d+", pos)
    local v = num and not text:match("^[%w_%.]", pos + #num) and tonumber(num)
    if not v then fail("a string, number, boolean or table expected") end
    pos = pos + #num
    return v
  end
  skip()
  if text:match("^return%f[^%w_]", pos) then pos = pos + 6 end
  local v = value(1)
  skip()
  if pos <= #text then fail("end of data expected") end
  return v
end

-- }------------------------------------------------------

local function read_all(path)
  -- only a regular file: io.open would block on a FIFO planted in the run directory
  if fs.kind(path) ~= "file" then return nil end
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Temporary files of a save that was killed: fs.write_atomic's
-- .NAME.tmp-XXXXXX, lg.save's and lg.image.save's NAME.tmp-XXXXXX, and the
-- fixed NAME.tmp of earlier versions.  Removed (links, never what they
-- point to) while the run directory is locked, so no save of ours is under way.
local function is_temp(name)
  return name:match("%.tmp%-%w%w%w%w%w%w$") ~= nil or name == "config.lua.tmp"
      or name == "metrics.csv.tmp" or name == "loss.gp.tmp"
end

local function remove_temps(dir)
  local removed = 0
  for _, sub in ipairs{"", "/samples", "/checkpoints"} do
    for _, name in ipairs(fs.list(dir .. sub) or {}) do
      local path = dir .. sub .. "/" .. name
      local k = fs.kind(path)
      if is_temp(name) and (k == "file" or k == "link") and os.remove(path) then
        removed = removed + 1
      end
    end
  end
  return removed
end

-- }======================================================

-- {====================================================== progress

local function stderr_is_tty()
  local term = os.getenv("TERM")
  if not term or term == "" or term == "dumb" then return false end
  -- io.popen redirects only the child's stdout: `test -t 2` sees our stderr
  local p = io.popen("test -t 2 && echo tty")
  if not p then return false end
  local r = p:read("l")
  p:close()
  return r == "tty"
end

-- wall-clock seconds: lg.clock when the binding has one, else os.time
local function now()
  local c = rawget(lg, "clock")
  if c then return c() end
  return os.time()
end

local function duration(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return ("%dh%02dm"):format(s // 3600, s % 3600 // 60) end
  if s >= 60 then return ("%dm%02ds"):format(s // 60, s % 60) end
  return ("%ds"):format(s)
end

-- }======================================================

local Run = {}
Run.__index = Run

-- {====================================================== data parallel

-- Rank 0 writes the run directory; the other ranks of an mpirun job nothing.
local function writer() return dist.rank() == 0 end

-- Every flag the same on every rank (raises naming the flag and the ranks);
-- a batch the ranks can share.
local function check_flags(cfg)
  local keys = sorted_keys(cfg)
  dist.check_same(table.concat(keys, " "), "the set of flags")
  for _, k in ipairs(keys) do dist.check_same(show(cfg[k]), "--" .. k) end
  if cfg.batch % dist.size() ~= 0 then
    error(("--batch %d is not a multiple of the %d processes (each takes an equal share)")
      :format(cfg.batch, dist.size()), 0)
  end
end

-- The numbers of this iteration's row, averaged over the ranks in double
-- (integers stay integers when the mean is one); other values are rank 0's.
function Run:_reduce_row(it)
  if dist.size() == 1 then return end
  local row, keys, vals = self.row or {}, {}, {}
  for _, k in ipairs(sorted_keys(row)) do
    if type(row[k]) == "number" then keys[#keys + 1], vals[#vals + 1] = k, row[k] end
  end
  dist.check_same(table.concat(keys, ","), ("the numbers logged at iteration %d"):format(it))
  local all = dist.allgather_values(vals)
  for i, k in ipairs(keys) do
    local sum = 0
    for r = 1, #all do sum = sum + all[r][i] end
    local mean = sum / #all
    if math.type(row[k]) == "integer" and mean == math.floor(mean) then mean = math.tointeger(mean) end
    row[k], self.last[k] = mean, mean
  end
end

-- The own random streams of every rank, for a checkpoint: "w,w,...;w,w,..."
local function own_streams()
  local all = dist.allgather_values(dist.get_rng_state().other)
  for r, words in ipairs(all) do all[r] = table.concat(words, ",") end
  return table.concat(all, ";")
end

-- }======================================================

--- experiment.fail(name, msg)
-- Stops a script on a user error before its run exists: prints "NAME: msg"
-- on stderr and exits with status 2, as a bad flag does.  Once there is a
-- run, run:fail(msg) also releases its directory.
-- @usage if cfg.lo >= cfg.hi then lg.experiment.fail("toy", "--lo must be below --hi") end
function experiment.fail(name, msg)
  io.stderr:write(tostring(name), ": ", tostring(msg), "\n")
  os.exit(2, true)
end

local CKPT = "checkpoint.safetensors"

--- experiment.new(defaults [, argv]) -> Run
-- Starts an experiment: lg.experiment(defaults [, argv]) is the same call.
-- Parses the flags (experiment.parse; argv defaults to the script's arg, and
-- then --help prints the usage and exits, a bad flag exits with status 2,
-- while an explicit argv makes it raise instead), seeds lg's generator with
-- --seed, sets --threads, and picks the run directory: --out (default
-- runs/NAME-yyyymmdd-hhmmss) or, with --resume DIR, DIR with its
-- config.lua's flags (flags given now override them).  Refuses a directory
-- locked by another process or already holding a checkpoint (without
-- --resume).  Nothing is written until run:iterations().
-- @usage local run = lg.experiment{name = "toy", iters = 2000, lr = 1e-3}
-- local cfg = run.config   -- cfg.lr, cfg.iters, cfg.batch, cfg.seed, ...
local function new(defaults, argv)
  local name = defaults.name or "experiment"
  if type(name) ~= "string" or not name:match("^[%w_%-%.]+$") then
    error("experiment: name must be a word (letters, digits, _ - .)", 2)
  end
  local cli = argv == nil
  -- born: when this process's part of the run began (set-up included), for
  -- the seconds a checkpoint records
  local self = setmetatable({name = name, tracked = {}, tracked_order = {}, born = now()}, Run)
  -- user errors: a message and exit status 2 from the command line, an
  -- error when argv was given (tests, REPL)
  local function fail(msg)
    self:_unlock()
    if cli then experiment.fail(name, msg) end
    error(msg, 3)
  end
  local ok, cfg, given = pcall(experiment.parse, defaults, argv or arg)
  if not ok then fail(cfg) end
  if cfg == nil then
    print(given)
    os.exit(0)
  end

  if cfg.resume ~= "" then
    local dir = cfg.resume
    if fs.kind(dir) ~= "dir" then fail(("--resume %s: no such run directory"):format(dir)) end
    local ok_lock, err = pcall(self._lock, self, dir)
    if not ok_lock then fail(err) end
    local text = read_all(dir .. "/config.lua")
    if not text then
      fail(("--resume %s: no config.lua there, the run never started; start it with --out %s")
        :format(dir, dir))
    end
    local ok_parse, saved = pcall(experiment.read_data, text, dir .. "/config.lua")
    if not ok_parse then fail(saved) end
    if type(saved) ~= "table" then fail(("--resume %s: config.lua holds no table"):format(dir)) end
    for k, v in pairs(saved) do
      if cfg[k] ~= nil and not given[k] and not RUN_CONTROL[k] then
        if kind(cfg[k]) == "number" and kind(v) == "integer" then v = v + 0.0 end
        if kind(v) ~= kind(cfg[k]) then
          fail(("--resume %s: config.lua gives '%s' a %s, the script expects a %s")
            :format(dir, k, kind(v) or type(v), kind(cfg[k])))
        end
        cfg[k] = v
      end
    end
    cfg.out = dir
    -- killed before its first checkpoint: nothing to continue, start again
    self.resuming = exists(dir .. "/" .. CKPT)
    self.restarting = not self.resuming
  else
    if cfg.out == "" then
      -- rank 0's clock names the directory of every rank
      cfg.out = "runs/" .. name .. "-" .. os.date("%Y%m%d-%H%M%S", dist.allgather_values{os.time()}[1][1])
    end
    if fs.kind(cfg.out) == "dir" then
      local ok_lock, err = pcall(self._lock, self, cfg.out)
      if not ok_lock then fail(err) end
    end
    if exists(cfg.out .. "/" .. CKPT) then
      fail(("%s already holds a run (%s); --resume %s continues it, or choose another --out")
        :format(cfg.out, CKPT, cfg.out))
    end
    -- a run killed before its first checkpoint left only its start behind
    self.restarting = exists(cfg.out .. "/config.lua") or exists(cfg.out .. "/metrics.csv")
  end
  self.config, self.dir, self.given = cfg, cfg.out, given
  if dist.size() > 1 then
    local ok_same, err = pcall(check_flags, cfg)
    if not ok_same then fail(err) end
  end
  if cfg.threads > 0 then lg.set_num_threads(cfg.threads) end
  dist.seed(cfg.seed, "shared")   -- lg.manual_seed(cfg.seed), and a stream per rank
  self.iter = 0
  return self
end

setmetatable(experiment, {__call = function(_, defaults, argv) return new(defaults, argv) end})
experiment.new = new

-- {====================================================== set-up

-- run:track{name = object, ...}: objects with state_dict/load_state_dict
-- (modules, optimizers, loaders) or plain tables of user state.
--- Run:track(objects) -> Run
-- Registers the state a checkpoint saves and --resume restores, as a table
-- name -> object: objects with state_dict/load_state_dict (modules,
-- optimizers, data loaders) or plain tables of numbers, strings, booleans
-- and tensors (the training's own counters).  Names must be words.
-- @usage run:track{G = G, D = D, optG = optG, optD = optD, data = loader, state = {}}
function Run:track(objects)
  if type(objects) ~= "table" then error("run:track: a table name -> object is expected", 2) end
  for _, k in ipairs(sorted_keys(objects)) do
    local v = objects[k]
    if type(k) ~= "string" or not k:match("^[%w_]+$") then
      error(("run:track: names must be words, got %s"):format(tostring(k)), 2)
    end
    if type(v) ~= "table" then error(("run:track: '%s' is a %s, a table is expected"):format(k, type(v)), 2) end
    if self.tracked[k] == nil then self.tracked_order[#self.tracked_order + 1] = k end
    self.tracked[k] = v
  end
  table.sort(self.tracked_order)
  return self
end

-- run:sampler(fn, {range = {-1, 1}, nrow = 8}): fn() returns images
-- [N,C,H,W] in `range`; it runs under lg.no_grad.
--- Run:sampler(fn [, opts]) -> Run
-- Sets the function whose images are saved as a grid to
-- samples/iter-NNNNNN.png every --sample_every iterations and at the end.
-- fn() runs under lg.no_grad and returns images [N, C, H, W] in opts.range
-- (default {-1, 1}), tiled opts.nrow (8) per row.
-- @usage local z = lg.randn(64, 100)
-- run:sampler(function() return G(z) end, {nrow = 8})
function Run:sampler(fn, opts)
  if type(fn) ~= "function" then error("run:sampler: a function is expected", 2) end
  opts = opts or {}
  self.sample_fn, self.sample_range, self.sample_nrow = fn, opts.range or {-1, 1}, opts.nrow or 8
  return self
end

-- }======================================================

-- {====================================================== metrics

local function cell(v)
  if type(v) == "number" then
    return math.type(v) == "integer" and ("%d"):format(v) or ("%.9g"):format(v)
  end
  if type(v) == "boolean" then return v and "1" or "0" end
  local s = tostring(v)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- run:log{key = value}: values are numbers, booleans, strings or tensors of
-- one element; several calls in one iteration make one row.
--- Run:log(values)
-- Records values (a table of numbers, booleans, strings or 1-element tensors)
-- for the current iteration; several calls in one iteration make one
-- metrics.csv row.  Only inside `for it in run:iterations()`; the columns
-- are fixed by the first logged row (later new keys raise) and "iter" is
-- reserved.
-- @usage run:log{lossD = lossD, lossG = lossG:item()}
function Run:log(values)
  if not self.active then error("run:log: call it inside `for it in run:iterations()`", 2) end
  self.row = self.row or {}
  for k, v in pairs(values) do
    if type(k) ~= "string" or k == "iter" then
      error(("run:log: keys must be strings other than 'iter', got %s"):format(tostring(k)), 2)
    end
    if lg.is_tensor(v) then v = v:item() end
    self.row[k] = v
    self.last[k] = v
  end
end

-- fn(...) writing into the run directory; when it fails (a full disk) the
-- error says what is left and how to go on.  Every writer keeps the old
-- file on failure, so the last checkpoint and the rows before it are whole.
function Run:_io(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return end
  local at = self.checkpointed_at or (self.start_iter and self.start_iter > 0 and self.start_iter)
  error(("%s\n%s: stopped at iteration %d; %s: fix the cause (free space?) and run --resume %s")
    :format(tostring(err), self.name, self.iter,
      at and ("the run directory is whole up to its checkpoint at iteration %d"):format(at)
         or "the run has no checkpoint yet, --resume starts it over", self.dir), 0)
end

-- One checked write per row (the header goes with the first): a kill leaves
-- whole rows, a full disk raises and leaves the file as it was.
function Run:_write_row(it)
  local row = self.row
  self.row = nil
  if not row then return end
  local header = ""
  local columns = self.columns
  if not columns then
    columns = sorted_keys(row)
    header = "iter," .. table.concat(columns, ",") .. "\n"
  end
  local known = {}
  for _, k in ipairs(columns) do known[k] = true end
  for k in pairs(row) do
    if not known[k] then
      error(("run:log: '%s' was not in the first logged row (columns: %s)"):format(k,
        table.concat(columns, ", ")), 0)
    end
  end
  local cells = {("%d"):format(it)}
  for i, k in ipairs(columns) do cells[i + 1] = row[k] == nil and "" or cell(row[k]) end
  self:_io(self.metrics.write, self.metrics, header .. table.concat(cells, ",") .. "\n")
  self.columns = columns
end

-- run:rows(): the rows of metrics.csv so far, first to last, each a table
-- {column = cell text} ("" where that row logged nothing); after a resume
-- they include the rows written before it.  Cells are split at commas: a
-- logged string holding a comma or quote comes back quoted.
--- Run:rows() -> {{column = text}, ...}
-- The rows of metrics.csv so far as tables of cell texts ("" where a row
-- logged nothing), including those written before a resume.
-- @usage local rows = run:rows()
-- print(rows[#rows].iter, tonumber(rows[#rows].lossD))
function Run:rows()
  if dist.size() > 1 then dist.barrier() end   -- rank 0's rows written
  local header, rows = nil, {}
  for line in (read_all(self.dir .. "/metrics.csv") or ""):gmatch("[^\n]+") do
    local cells = {}
    for c in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = c end
    if not header then
      header = cells
    else
      local r = {}
      for i, k in ipairs(header) do r[k] = cells[i] or "" end
      rows[#rows + 1] = r
    end
  end
  return rows
end

-- run:write(name, text): a file of the run directory (a summary, a table)
-- written atomically: a kill or a full disk leaves the previous version.
--- Run:write(name, text) -> string
-- Writes a file of the experiment's own (a summary, a table) into the run
-- directory atomically and returns its path; name must stay inside the
-- directory (no "..", not absolute).
-- @usage run:write("summary.md", ("modes covered: %d\n"):format(8))
function Run:write(name, text)
  if type(name) ~= "string" or name == "" or name:find("..", 1, true) or name:sub(1, 1) == "/" then
    error("run:write: a file name inside the run directory is expected", 2)
  end
  if type(text) ~= "string" then error("run:write: the contents must be a string", 2) end
  if writer() then fs.write_atomic(self.dir .. "/" .. name, text) end
  return self.dir .. "/" .. name
end

--- Run:fail(msg)
-- Stops the script on a user error (a check across flags, a data set that
-- cannot be read): prints "NAME: msg" on stderr, releases the run directory
-- and exits with status 2.  Before run:iterations() nothing is on disk yet;
-- inside the loop the rows so far stay, as after a kill.
-- @usage if cfg.critic == "mlp" and cfg.arch == "dcgan" then run:fail("--critic mlp needs --arch mlp") end
function Run:fail(msg)
  if self.metrics and self.active then self.metrics:close() end
  self.active = false
  self:_unlock()
  experiment.fail(self.name, msg)
end

-- }======================================================

-- {====================================================== samples and plot

--- Run:sample(it) -> string | nil
-- Writes samples/iter-NNNNNN.png (it, zero-padded) from the sampler now and
-- returns its path, nil without a sampler; the loop calls it every
-- --sample_every iterations.
-- @usage local path = run:sample(run.iter)
function Run:sample(it)
  if not self.sample_fn then return nil end
  local imgs = lg.no_grad(self.sample_fn)
  if not lg.is_tensor(imgs) or imgs:dim() ~= 4 then
    error("run:sampler: the function must return images [N,C,H,W]", 0)
  end
  local lo, hi = self.sample_range[1], self.sample_range[2]
  local grid = lg.image.grid(((imgs:detach() - lo) / (hi - lo)):clamp(0, 1), {nrow = self.sample_nrow})
  local path = ("%s/samples/iter-%06d.png"):format(self.dir, it)
  if writer() then self:_io(lg.image.save, path, grid) end
  self.last_sample, self.sampled_at = path, it
  return path
end

local gnuplot_terminal   -- nil: not probed; false: no gnuplot

--- Run:plot() -> string | nil
-- Redraws loss.png from metrics.csv with gnuplot (every column against iter;
-- loss.gp is the script) and returns its path; nil before the first row or
-- without gnuplot (noted once on stderr).
-- @usage local png = run:plot()
function Run:plot()
  if not self.columns or #self.columns == 0 or not writer() then return nil end
  if gnuplot_terminal == nil then
    if os.execute("command -v gnuplot >/dev/null 2>&1") then
      gnuplot_terminal = os.execute("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1")
        and "pngcairo" or "png"
    else
      gnuplot_terminal = false
      io.stderr:write(self.name, ": gnuplot not found, no loss plot (Debian: apt-get install gnuplot-nox)\n")
    end
  end
  if not gnuplot_terminal then return nil end
  -- loss.gp names its output through `outfile`: the harness has gnuplot
  -- draw into a fresh temporary file renamed over loss.png, so a kill never
  -- leaves half a plot; `gnuplot loss.gp` by hand writes loss.png
  local script = table.concat({
    "# loss curves of metrics.csv; run `gnuplot loss.gp` in the run directory",
    ("set terminal %s size 1000,560"):format(gnuplot_terminal),
    "if (!exists('outfile')) outfile = 'loss.png'",
    "set output outfile",
    "set datafile separator ','",
    "set key outside right top noenhanced",
    ("set title '%s' noenhanced"):format(self.name),
    "set xlabel 'iteration'",
    "set grid",
    ("plot for [i=2:%d] 'metrics.csv' using 1:i with lines title columnheader(i)"):format(
      #self.columns + 1),
    ""}, "\n")
  if script ~= self.plot_script then
    self:_io(fs.write_atomic, self.dir .. "/loss.gp", script)
    self.plot_script = script
  end
  local tmp = fs.tempfile(self.dir .. "/loss.png")
  local base = tmp:match("[^/]*$")
  local ok = os.execute(("cd %s && gnuplot -e %s loss.gp >/dev/null 2>&1"):format(quote(self.dir),
    quote("outfile='" .. base .. "'")))
  if ok and os.rename(tmp, self.dir .. "/loss.png") then
    self.last_plot = self.dir .. "/loss.png"
  else
    os.remove(tmp)
  end
  return self.last_plot
end

-- }======================================================

-- {====================================================== checkpoints

-- The rows up to the checkpoint are on disk before it (fsync): a checkpoint
-- never counts rows a crash could lose.
--- Run:checkpoint(it [, keep])
-- Saves every tracked object, lg's generator state and the length of
-- metrics.csv (synced first) at iteration it to checkpoint.safetensors, and
-- with keep also to checkpoints/iter-NNNNNN.safetensors; both atomically.
-- The loop calls it every --checkpoint_every iterations and at the end.
-- @usage run:checkpoint(run.iter, true)
function Run:checkpoint(it, keep)
  local streams = own_streams()   -- a collective: every rank checkpoints
  if not writer() then
    self.checkpointed_at = it
    return
  end
  self.metrics:sync()
  local tensors, meta = {}, {
    format = "luagan-run/1", name = self.name, iter = ("%d"):format(it),
    rng = table.concat(lg.get_rng_state(), ","),
    metrics_bytes = ("%d"):format(self.metrics:size()),
    ranks = ("%d"):format(dist.size()), rng_own = streams,
    seconds = ("%.1f"):format((self.seconds_before or 0) + now() - self.born),
  }
  for _, name in ipairs(self.tracked_order) do
    local obj = self.tracked[name]
    if type(obj.state_dict) == "function" then
      for k, t in pairs(obj:state_dict()) do tensors[name .. "." .. k] = t end
    else
      meta["state." .. name] = serialize(obj)
      for k, t in pairs(obj) do
        if lg.is_tensor(t) then tensors[name .. "." .. tostring(k)] = t end
      end
    end
  end
  if keep then
    self:_io(lg.save, ("%s/checkpoints/iter-%06d.safetensors"):format(self.dir, it), tensors, meta)
  end
  self:_io(lg.save, self.dir .. "/" .. CKPT, tensors, meta)
  self.checkpointed_at = it
end

function Run:_restore()
  local path = self.dir .. "/" .. CKPT
  local tensors, meta = lg.load(path)
  if meta.format ~= "luagan-run/1" then
    error(("experiment: %s is not a luagan run checkpoint"):format(path), 0)
  end
  local ranks = math.tointeger(tonumber(meta.ranks or "1"))
  if ranks ~= dist.size() then
    error(("experiment: %s was saved by a job of %d process%s; resume it with %d (mpirun -np %d), "
      .. "not %d: the ranks' random streams and batch shares depend on it")
      :format(path, ranks, ranks > 1 and "es" or "", ranks, ranks, dist.size()), 0)
  end
  for _, name in ipairs(self.tracked_order) do
    local obj, sub, any = self.tracked[name], {}, false
    local prefix = name .. "."
    for k, t in pairs(tensors) do
      if k:sub(1, #prefix) == prefix then sub[k:sub(#prefix + 1)], any = t, true end
    end
    if type(obj.state_dict) == "function" then
      if not any and next(obj:state_dict()) ~= nil then
        error(("experiment: %s holds nothing for '%s'"):format(path, name), 0)
      end
      obj:load_state_dict(sub)
    else
      local text = meta["state." .. name]
      if not text then error(("experiment: %s holds no state '%s'"):format(path, name), 0) end
      for k, v in pairs(experiment.read_data(text, path .. " state." .. name)) do obj[k] = v end
      for k, t in pairs(sub) do obj[math.tointeger(tonumber(k)) or k] = t:clone() end
    end
  end
  local rng = {}
  for w in meta.rng:gmatch("[^,]+") do rng[#rng + 1] = math.tointeger(tonumber(w)) end
  lg.set_rng_state(rng)
  -- this rank's own stream (absent from checkpoints of older versions)
  local r = 0
  for own in (meta.rng_own or ""):gmatch("[^;]+") do
    if r == dist.rank() then
      local words = {}
      for w in own:gmatch("[^,]+") do words[#words + 1] = math.tointeger(tonumber(w)) end
      dist.set_rng_state{current = "shared", other = words}
    end
    r = r + 1
  end
  self.seconds_before = tonumber(meta.seconds or "0") or 0   -- absent before this field existed
  if not writer() then return math.tointeger(tonumber(meta.iter)) end
  -- metrics.csv cut back in place to its length at the checkpoint (needs
  -- no free space); the rows after it are written again
  local csv = self.dir .. "/metrics.csv"
  local bytes = math.tointeger(tonumber(meta.metrics_bytes))
  local f = io.open(csv, "rb")
  local header = f and f:read("L")
  local size = f and f:seek("end") or 0
  local last = f and bytes > 0 and f:seek("set", bytes - 1) and f:read(1)
  if f then f:close() end
  if size < bytes or (bytes > 0 and last ~= "\n") or (bytes > 0 and #(header or "") > bytes) then
    error(("experiment: %s does not match %s (%d bytes at the checkpoint, %d now)")
      :format(csv, path, bytes, size), 0)
  end
  self.metrics = fs.open_append(csv)
  self.metrics:truncate(bytes)
  if bytes > 0 then
    self.columns = {}
    for c in header:gsub("\n$", ""):gmatch("[^,]+") do self.columns[#self.columns + 1] = c end
    table.remove(self.columns, 1)
  end
  return math.tointeger(tonumber(meta.iter))
end

-- }======================================================

-- {====================================================== the loop

--- Run:speed() -> iterations, seconds, rate
-- The iterations this process has run in the loop (after a resume, those
-- since it), the seconds since the loop started and their rate in it/s (nil
-- before a second has any iteration in it: no time measured yet).
-- @usage local n, s, ips = run:speed()
function Run:speed()
  if not self.t0 then return 0, 0, nil end
  local n, s = (self.iter or 0) - self.start_iter, (self.t_end or now()) - self.t0
  return n, s, s > 0 and n / s or nil
end

function Run:_progress(it, final)
  local t = now()
  if not final and t == self.shown_at and self.tty then return end
  local total, done = self.config.iters, it - self.start_iter
  local elapsed = t - self.t0
  local rate = elapsed > 0 and done / elapsed or nil
  local parts = {}
  for _, k in ipairs(self.columns or {}) do
    local v = self.last[k]
    if type(v) == "number" and #parts < 4 then parts[#parts + 1] = ("%s %.4g"):format(k, v) end
  end
  local speed = rate and ("%.1f it/s"):format(rate) or "-- it/s"
  local eta = final and ("in " .. duration(elapsed)) or
              (rate and rate > 0 and "ETA " .. duration((total - it) / rate) or "ETA --")
  if self.tty then
    self.shown_at = t
    local width, frac = 24, total > 0 and it / total or 1
    local fill = math.floor(frac * width + 0.5)
    io.stderr:write(("\r%s [%s%s] %d/%d %3d%%  %s  %s  %s\27[K%s"):format(self.name,
      ("#"):rep(fill), ("-"):rep(width - fill), it, total, math.floor(frac * 100), speed, eta,
      table.concat(parts, "  "), final and "\n" or ""))
  else
    local step = math.max(1, total // 10)
    if final or it % step == 0 or t - (self.shown_at or self.t0) >= 60 then
      self.shown_at = t
      io.stderr:write(("%s: iter %d/%d  %s  %s  %s\n"):format(self.name, it, total, speed, eta,
        table.concat(parts, "  ")))
    end
  end
end

function Run:_end_iteration(it)
  self:_reduce_row(it)
  if writer() then self:_write_row(it) else self.row = nil end
  local cfg = self.config
  if cfg.sample_every > 0 and it % cfg.sample_every == 0 then
    self:sample(it)
    self:plot()
  end
  if cfg.checkpoint_every > 0 and it % cfg.checkpoint_every == 0 then self:checkpoint(it, true) end
  if writer() then self:_progress(it, false) end
  if cfg.stop_at > 0 and it == cfg.stop_at and it < cfg.iters then
    if self.checkpointed_at ~= it then self:checkpoint(it, false) end
    if not writer() then os.exit(0, true) end
    self.metrics:close()
    self:_unlock()
    if self.tty then io.stderr:write("\n") end
    io.stderr:write(("%s: stopped after iteration %d; continue with --resume %s\n"):format(
      self.name, it, self.dir))
    os.exit(0, true)
  end
end

-- The run directory is locked (DIR/.lock holds the pid) from the time it is
-- opened until the run ends: a second process on it is refused.
function Run:_lock(dir)
  if self.lock or not writer() then return end
  local lock, msg = fs.lock(dir .. "/.lock")
  if not lock then
    error(("%s is in use: %s (a run or --resume of it); wait for it to end or choose another --out")
      :format(dir, msg), 0)
  end
  self.lock = lock
end

function Run:_unlock()
  if self.lock then self.lock:unlock() end
  self.lock = nil
end

-- Files of a run killed before its first checkpoint (or of a directory
-- being restarted): rows, samples, plot and kept checkpoints go.
local function clear_partial(dir)
  for _, f in ipairs{"metrics.csv", "loss.png", "loss.gp"} do os.remove(dir .. "/" .. f) end
  for sub, pat in pairs{samples = "^iter%-%d+%.png$", checkpoints = "^iter%-%d+%.safetensors$"} do
    for _, name in ipairs(fs.list(dir .. "/" .. sub) or {}) do
      if name:match(pat) then os.remove(dir .. "/" .. sub .. "/" .. name) end
    end
  end
end

-- for it in run:iterations() do ... end: iterations start_iter+1 .. iters,
-- after a resume when --resume was given; ends with run:finish().
-- The run directory and its config.lua, made when the run starts rather
-- than when the flags are parsed: a script that rejects its own flags after
-- lg.experiment leaves no empty directory behind.
function Run:_prepare()
  if not writer() then return end
  fs.mkdir(self.dir .. "/samples")
  fs.mkdir(self.dir .. "/checkpoints")
  self:_lock(self.dir)
  remove_temps(self.dir)
  if not self.resuming and exists(self.dir .. "/" .. CKPT) then
    error(("%s already holds a run (%s); --resume %s continues it, or choose another --out")
      :format(self.dir, CKPT, self.dir), 0)
  end
  if self.restarting then
    io.stderr:write(("%s: %s has no checkpoint (its run stopped before the first one): "
      .. "starting it again from iteration 0\n"):format(self.name, self.dir))
    clear_partial(self.dir)
  end
  local stored = {}
  for k, v in pairs(self.config) do if not RUN_CONTROL[k] then stored[k] = v end end
  local text = ("-- luagan run '%s': the resolved flags (read back by --resume as data)\nreturn %s\n")
    :format(self.name, serialize(stored))
  -- unchanged on a resume: nothing to write, even on a full disk
  if read_all(self.dir .. "/config.lua") ~= text then
    fs.write_atomic(self.dir .. "/config.lua", text)
  end
end

--- Run:iterations() -> iterator
-- The training loop: for it in run:iterations() yields it from 1 to --iters, or
-- from after the checkpoint's iteration with --resume (tracked objects,
-- generator and metrics.csv restored first, so the metrics are bitwise those
-- of an uninterrupted run).  Creates the run directory, locks it and writes
-- config.lua; after each iteration writes the logged row and, on schedule,
-- samples, the plot and checkpoints; --stop_at N exits after iteration N
-- with a checkpoint; ends with run:finish().
-- @usage for it in run:iterations() do
--   local loss = lg.mse(lg.randn(4, 1), 0)
--   run:log{loss = loss}
-- end
function Run:iterations()
  if self.active then error("run:iterations: already running", 2) end
  self:_prepare()
  local start = 0
  if self.resuming then
    start = self:_restore()
  elseif writer() then
    self.metrics = fs.open_append(self.dir .. "/metrics.csv")
    self.metrics:truncate(0)
  end
  self.start_iter, self.iter, self.active, self.last = start, start, true, {}
  self.tty = stderr_is_tty()
  self.t0 = now()
  if start > 0 and writer() then
    io.stderr:write(("%s: resumed %s at iteration %d\n"):format(self.name, self.dir, start))
  end
  local it, pending = start, false
  return function()
    if pending then self:_end_iteration(it) end
    if it >= self.config.iters then
      pending = false
      self:finish()
      return nil
    end
    it, pending = it + 1, true
    self.iter = it
    return it
  end
end

-- Last sample, final checkpoint and plot; prints where they are.  Called
-- when the iterations end.
--- Run:finish()
-- Ends the run: the last sample, the final checkpoint and the plot, then
-- releases the directory's lock and prints where the files are.  Called by
-- run:iterations() when the loop ends; later calls do nothing.
-- @usage run:finish()
function Run:finish()
  if self.finished then return end
  self.finished = true
  local it = self.iter
  self.t_end = now()
  if self.sampled_at ~= it then self:sample(it) end
  if self.checkpointed_at ~= it then self:checkpoint(it, false) end
  if not writer() then
    self.active = false
    return
  end
  self:plot()
  self:_progress(it, true)
  self.metrics:close()
  self:_unlock()
  self.active = false
  print(("run directory: %s"):format(self.dir))
  print(("metrics: %s/metrics.csv"):format(self.dir))
  if self.last_sample then print(("samples: %s"):format(self.last_sample)) end
  if self.last_plot then print(("loss plot: %s"):format(self.last_plot)) end
  print(("checkpoint: %s/%s"):format(self.dir, CKPT))
  local n, s, rate = self:speed()
  print(("%s: %d iterations in %.1f s, %s it/s"):format(self.name, n, s,
    rate and ("%.2f"):format(rate) or "--"))
end

-- }======================================================

return experiment
