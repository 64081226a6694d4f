-- Checkpoints (lg.save / lg.load, lua/l_io.c over core/io_safetensors.c):
-- bit-exact round trips of model and optimizer state and metadata, the
-- on-disk safetensors layout, clear errors on bad input and bad files,
-- atomic replacement, and bit-identical training resumed from a checkpoint.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local DIR = os.tmpname()
os.remove(DIR)
os.execute("mkdir -p " .. q(DIR))
local function path(name) return DIR .. "/" .. name end

local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

local function listdir()
  local out = {}
  local pipe = io.popen("ls -A " .. q(DIR))
  for l in pipe:lines() do out[#out + 1] = l end
  pipe:close()
  return out
end

local function keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- The executable running these tests (for the child-process cases).
local function interpreter()
  local i = -1
  while arg and arg[i - 1] ~= nil do i = i - 1 end
  return arg and arg[i]
end
local BIN = os.getenv("LUAGAN_BIN") or interpreter() or "build/luagan"

local function model()
  return nn.Sequential(nn.Conv2d(1, 4, 3, {stride = 2, padding = 1}), nn.BatchNorm2d(4),
    nn.LeakyReLU(0.2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(4 * 4 * 4, 8), nn.BatchNorm1d(8),
    nn.Tanh(), nn.Linear(8, 1))
end

-- {====================================================== round trips

test("save/load: tensors come back bit-exact with their shapes", function()
  lg.manual_seed(1)
  local ts = {
    w = lg.randn(7, 5) * 1e-3,
    big = lg.randn(3, 4, 5, 6) * 1e30,
    scalar = lg.tensor(-2.75),
    empty = lg.zeros(0, 3),
    ["layer.0.weight"] = lg.rand(2, 3),
  }
  lg.save(path("a.safetensors"), ts)
  local t, meta = lg.load(path("a.safetensors"))
  eq(keys(t), keys(ts))
  eq(keys(meta), {})
  for k, v in pairs(ts) do
    eq(t[k].shape, v.shape, k)
    eq(t[k]:totable(), v:totable(), k)
    eq(t[k].requires_grad, false, k)
  end
  eq(t.scalar:dim(), 0)
  eq(t.scalar:item(), -2.75)
  -- the same state gives the same bytes
  lg.save(path("b.safetensors"), t)
  eq(slurp(path("b.safetensors")), slurp(path("a.safetensors")))
  -- an empty table is a valid checkpoint
  lg.save(path("empty.safetensors"), {})
  local e, em = lg.load(path("empty.safetensors"))
  eq(keys(e), {})
  eq(keys(em), {})
end)

test("save/load: special float values and non-contiguous views", function()
  local inf, nan = math.huge, 0 / 0
  local x = lg.tensor{0, -0.0, inf, -inf, nan, 1e-45, 3.4028234663852886e38, -1.1754942106924411e-38}
  local base = lg.arange(12):reshape(3, 4)
  lg.save(path("s.safetensors"), {x = x, t = base:t(), n = base:narrow(2, 2, 2)})
  local t = lg.load(path("s.safetensors"))
  local v = t.x:totable()
  eq(v[1], 0)
  eq(1 / v[2], -inf, "negative zero keeps its sign")
  eq(v[3], inf)
  eq(v[4], -inf)
  assert(v[5] ~= v[5], "NaN stays NaN")
  eq(v[6], x:totable()[6], "denormal")
  eq(v[7], x:totable()[7])
  eq(v[8], x:totable()[8])
  eq(t.t.shape, {4, 3})
  eq(t.t:totable(), base:t():totable())
  eq(t.n:totable(), base:narrow(2, 2, 2):totable())
end)

test("save/load: metadata strings and numbers", function()
  local meta = {iter = 100, name = "dcgan \"mnist\"\n\ttab\\slash", lr = 2e-4, empty = "",
                utf8 = "λ→∞", big = math.maxinteger, neg = -7}
  lg.save(path("m.safetensors"), {w = lg.ones(1)}, meta)
  local _, m = lg.load(path("m.safetensors"))
  eq(keys(m), keys(meta))
  for k, v in pairs(meta) do eq(type(m[k]), "string", k) end
  eq(m.iter, "100")
  eq(m.name, meta.name)
  eq(m.empty, "")
  eq(m.utf8, "λ→∞")
  eq(math.tointeger(tonumber(m.big)), math.maxinteger)
  eq(m.neg, "-7")
  eq(tonumber(m.lr), 2e-4)
end)

test("save/load: float metadata round-trips exactly through tonumber", function()
  -- numbers are stored as text: the text must be enough to get the same double back
  local vals = {third = 1 / 3, sum = 0.1 + 0.2, pi = math.pi, tiny = 1e-300, f = 2.0 ^ 53}
  lg.save(path("f.safetensors"), {w = lg.ones(1)}, vals)
  local _, m = lg.load(path("f.safetensors"))
  local lost = {}
  for _, k in ipairs(keys(vals)) do
    if tonumber(m[k]) ~= vals[k] then
      lost[#lost + 1] = ("%s: %.17g saved as %q"):format(k, vals[k], m[k])
    end
  end
  eq(table.concat(lost, "; "), "", "numbers that did not round-trip")
end)

test("save/load: names needing JSON escapes", function()
  local names = {"a\"b", "back\\slash", "new\nline", "tab\t", "λ.weight", "x/y:z", " ", "\1ctl"}
  local ts = {}
  for i, n in ipairs(names) do ts[n] = lg.full({i}, i) end
  lg.save(path("names.safetensors"), ts)
  local t = lg.load(path("names.safetensors"))
  eq(keys(t), keys(ts))
  for i, n in ipairs(names) do eq(t[n]:totable()[i], i, n) end
end)

test("the file is safetensors: LE header length, JSON header, raw LE float32 data", function()
  local x = lg.tensor{{1.5, -2}, {3.25, 1e-3}}
  lg.save(path("fmt.safetensors"), {b = x, a = lg.tensor{7}}, {iter = "3"})
  local s = slurp(path("fmt.safetensors"))
  local n = string.unpack("<I8", s)
  local header = s:sub(9, 8 + n)
  assert(header:sub(1, 1) == "{" and header:match("}%s*$"), header)
  assert(header:find('"__metadata__":{"iter":"3"}', 1, true), header)
  assert(header:find('"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}', 1, true), header)
  assert(header:find('"b":{"dtype":"F32","shape":[2,2],"data_offsets":[4,20]}', 1, true), header)
  eq(#s, 8 + n + 20)
  local data = s:sub(9 + n)
  eq((string.unpack("<f", data, 1)), 7)
  local got = {}
  for i = 0, 3 do got[i + 1] = (string.unpack("<f", data, 5 + 4 * i)) end
  eq(got, {1.5, -2, 3.25, (string.unpack("<f", string.pack("<f", 1e-3)))})
end)

test("load reads files written by others: F64, F16, BF16, I64, I32, U8 and BOOL", function()
  -- a header as the Python safetensors library writes it (padded with spaces to 8 bytes)
  local parts, off, data = {}, 0, {}
  local function add(name, dtype, shape, bytes)
    parts[#parts + 1] = ('"%s":{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}'):format(
      name, dtype, table.concat(shape, ","), off, off + #bytes)
    data[#data + 1] = bytes
    off = off + #bytes
  end
  add("f64", "F64", {2}, string.pack("<dd", 0.1, -3))
  add("f16", "F16", {3}, string.pack("<I2I2I2", 0x3C00, 0xC000, 0x3555))   -- 1, -2, 0.333251953125
  add("bf16", "BF16", {2}, string.pack("<I2I2", 0x3F80, 0xC0A0))           -- 1, -5
  add("i64", "I64", {}, string.pack("<i8", 12345))                       -- num_batches_tracked
  add("i32", "I32", {2}, string.pack("<i4i4", -7, 100000))
  add("u8", "U8", {3}, string.pack("BBB", 0, 128, 255))
  add("bool", "BOOL", {2}, string.pack("BB", 1, 0))
  local header = "{" .. table.concat(parts, ",") .. ',"__metadata__":{"format":"pt"}}'
  header = header .. string.rep(" ", (8 - #header % 8) % 8)
  spit(path("py.safetensors"), string.pack("<I8", #header) .. header .. table.concat(data))
  local t, m = lg.load(path("py.safetensors"))
  eq(m.format, "pt")
  near(t.f64:totable(), {0.1, -3}, 1e-7)
  eq(t.f16:totable(), {1, -2, 0.333251953125})
  eq(t.bf16:totable(), {1, -5})
  eq(t.i64:dim(), 0)
  eq(t.i64:item(), 12345)
  eq(t.i32:totable(), {-7, 100000})
  eq(t.u8:totable(), {0, 128, 255})
  eq(t.bool:totable(), {1, 0})
end)

test("model state_dict round trip: a fresh model reproduces outputs exactly", function()
  lg.manual_seed(2)
  local a = model()
  for _ = 1, 3 do a(lg.randn(5, 1, 8, 8)) end     -- move BN running statistics
  lg.save(path("model.safetensors"), a:state_dict(), {arch = "test"})
  local sd, meta = lg.load(path("model.safetensors"))
  eq(meta.arch, "test")
  eq(keys(sd), keys(a:state_dict()))
  eq(sd["1.num_batches_tracked"]:item(), 3)
  local b = model()
  b:load_state_dict(sd)
  for k, v in pairs(a:state_dict()) do eq(b:state_dict()[k]:totable(), v:totable(), k) end
  a:eval(); b:eval()
  local x = lg.randn(4, 1, 8, 8)
  eq(b(x):totable(), a(x):totable())
  -- b owns its values: the loaded table is not aliased into the model
  lg.no_grad(function() sd["0.weight"]:fill_(0) end)
  eq(b(x):totable(), a(x):totable())
end)

test("optimizer state round trip through a file is bit-exact", function()
  lg.manual_seed(3)
  local m = model()
  local opt = optim.Adam(m:parameters(), {lr = 1e-2, betas = {0.5, 0.999}})
  for _ = 1, 3 do
    opt:zero_grad()
    m(lg.randn(6, 1, 8, 8)):pow(2):mean():backward()
    opt:step()
  end
  lg.save(path("opt.safetensors"), opt:state_dict())
  local sd = lg.load(path("opt.safetensors"))
  local own = opt:state_dict()
  eq(keys(sd), keys(own))
  for k, v in pairs(own) do eq(sd[k]:totable(), v:totable(), k) end
  eq(sd["1.step"]:item(), 3)
end)

-- }======================================================

-- {====================================================== errors

test("save refuses bad inputs with clear errors and writes nothing", function()
  local before = #listdir()
  raises(function() lg.save(path("x.safetensors"), {w = 3}) end, "save: 'w' is a number, a tensor is expected")
  raises(function() lg.save(path("x.safetensors"), {w = {1, 2}}) end, "save: 'w' is a table, a tensor is expected")
  raises(function() lg.save(path("x.safetensors"), {lg.zeros(1)}) end, "save: tensor names must be strings, got a number key")
  raises(function() lg.save(path("x.safetensors"), {w = lg.zeros(1)}, {a = {}}) end,
         "save: metadata must map strings to strings or numbers")
  raises(function() lg.save(path("x.safetensors"), {w = lg.zeros(1)}, {a = true}) end,
         "save: metadata must map strings to strings or numbers")
  raises(function() lg.save(path("x.safetensors"), {w = lg.zeros(1)}, {"positional"}) end,
         "save: metadata must map strings to strings or numbers")
  raises(function() lg.save(path("x.safetensors"), 5) end, "table expected, got number")
  raises(function() lg.save(nil, {}) end, "string expected")
  raises(function() lg.save(path("x.safetensors"), {w = lg.zeros(1)}, "meta") end, "table expected")
  raises(function() lg.save(path("no/such/dir/x.safetensors"), {w = lg.zeros(1)}) end, "no/such/dir/x.safetensors")
  eq(#listdir(), before, "no file or temporary left behind")
end)

test("load: missing file, directory, truncated file, garbage, trailing bytes", function()
  raises(function() lg.load(path("missing.safetensors")) end, "load: cannot open '" .. path("missing.safetensors"))
  raises(function() lg.load(DIR) end, "load: '" .. DIR .. "' is not a regular file")
  raises(function() lg.load() end, "string expected")
  lg.manual_seed(4)
  lg.save(path("real.safetensors"), model():state_dict(), {iter = "9"})
  local s = slurp(path("real.safetensors"))
  local n = string.unpack("<I8", s)
  -- every prefix of a real file is rejected with a message, never loaded or crashed
  local cuts = {0, 1, 7, 8, 9, 8 + n // 2, 8 + n - 1, 8 + n, 8 + n + 1, #s // 2, #s - 4, #s - 1}
  for _, len in ipairs(cuts) do
    spit(path("cut.safetensors"), s:sub(1, len))
    local ok, err = pcall(lg.load, path("cut.safetensors"))
    assert(not ok, ("a file cut to %d of %d bytes loaded"):format(len, #s))
    assert(tostring(err):find("load: " .. path("cut.safetensors"), 1, true), err)
  end
  spit(path("cut.safetensors"), s:sub(1, #s - 1))
  raises(function() lg.load(path("cut.safetensors")) end, "truncated")
  spit(path("cut.safetensors"), s:sub(1, 4))
  raises(function() lg.load(path("cut.safetensors")) end, "too short")
  -- garbage
  spit(path("junk.safetensors"), ("garbage!"):rep(64))
  raises(function() lg.load(path("junk.safetensors")) end, "header length")
  spit(path("junk.safetensors"), string.pack("<I8", 12) .. "not json at all" .. ("\0"):rep(16))
  local err = raises(function() lg.load(path("junk.safetensors")) end, "load: " .. path("junk.safetensors"))
  assert(#err < 400, "a short message: " .. err)
  spit(path("junk.safetensors"), string.pack("<I8", 2) .. "{}")
  local t = lg.load(path("junk.safetensors"))   -- the smallest valid file
  eq(keys(t), {})
  spit(path("junk.safetensors"), s .. "xx")
  raises(function() lg.load(path("junk.safetensors")) end, "trailing garbage")
  -- a flipped byte inside the header is caught (or, if it still parses, loads consistently)
  local bad = s:sub(1, 8) .. s:sub(9, 8 + n):gsub('"F32"', '"F99"', 1) .. s:sub(9 + n)
  spit(path("junk.safetensors"), bad)
  raises(function() lg.load(path("junk.safetensors")) end, "unsupported dtype")
  local over = s:sub(1, 8) .. s:sub(9, 8 + n):gsub('"shape":%[4%]', '"shape":[5]', 1) .. s:sub(9 + n)
  spit(path("junk.safetensors"), over)
  raises(function() lg.load(path("junk.safetensors")) end, "load: " .. path("junk.safetensors"))
end)

-- Runs `code` in a child luagan for at most 10 s (a loader that blocked on
-- a FIFO would otherwise hang the whole run); returns whether it exited 0
-- and its stderr.
local function run_child(code)
  local err = path("child-err.txt")
  local ok = os.execute(("timeout 10 %s -e %s 2>%s"):format(q(BIN), q(code), q(err)))
  local text = slurp(err)
  os.remove(err)
  return ok, text
end

test("load: a FIFO or a device is refused without blocking", function()
  local fifo = path("fifo.safetensors")
  assert(os.execute("mkfifo " .. q(fifo)))
  local ok, err = run_child(("local lg = require 'luagan'; lg.load(%q)"):format(fifo))
  os.remove(fifo)
  assert(not ok, "loading a FIFO succeeded")
  assert(err:find("load: '" .. fifo .. "' is not a regular file (a FIFO)", 1, true),
         "stderr (empty if the child hung and was killed): " .. err)
  raises(function() lg.load("/dev/zero") end, "load: '/dev/zero' is not a regular file (a character device)")
end)

test("save: symbolic links planted by the target do not redirect the write", function()
  local target, outside = path("sym.safetensors"), path("outside.txt")
  spit(outside, "precious")
  local planted = {target .. ".tmp", target .. ".tmp-XXXXXX", target .. ".tmp-000000"}
  for _, p in ipairs(planted) do assert(os.execute(("ln -s %s %s"):format(q(outside), q(p)))) end
  lg.save(target, {w = lg.full({2}, 3)})
  eq(slurp(outside), "precious")
  eq(lg.load(target).w:totable(), {3, 3})
  for _, p in ipairs(planted) do assert(os.execute("test -L " .. q(p)), p .. " is still the link") end
  -- the target itself a link: the checkpoint replaces the link, not the file it names
  os.remove(target)
  assert(os.execute(("ln -s %s %s"):format(q(outside), q(target))))
  lg.save(target, {w = lg.full({2}, 4)})
  eq(slurp(outside), "precious")
  eq(lg.load(target).w:totable(), {4, 4})
  assert(not os.execute("test -L " .. q(target)), "the target is a regular file now")
  for _, p in ipairs(planted) do os.remove(p) end
  os.remove(target)
  os.remove(outside)
end)

test("a failed save leaves the previous checkpoint intact", function()
  local target = path("keep.safetensors")
  lg.save(target, {w = lg.full({3}, 1)}, {iter = "1"})
  local old = slurp(target)
  -- saving "into" the file as if it were a directory fails
  raises(function() lg.save(target .. "/x.safetensors", {w = lg.zeros(3)}) end, "save:")
  -- a bad table fails before anything is written
  raises(function() lg.save(target, {w = lg.zeros(3), v = "x"}) end, "save: 'v' is a string")
  eq(slurp(target), old)
  -- a directory in the way of the target: the error names it, nothing else changes
  os.execute("mkdir -p " .. q(path("adir")))
  local n = #listdir()
  raises(function() lg.save(path("adir"), {w = lg.zeros(3)}) end, "save:")
  eq(#listdir(), n, "no temporary left behind")
  local t, m = lg.load(target)
  eq(t.w:totable(), {1, 1, 1})
  eq(m.iter, "1")
end)

test("a save that cannot finish writing (file size limit) keeps the old file", function()
  local target = path("limit.safetensors")
  lg.save(target, {w = lg.full({4}, 2)}, {iter = "old"})
  local old = slurp(target)
  local script = path("bigsave.lua")
  spit(script, ("lg.save(%q, {w = lg.zeros(100000)}, {iter = 'new'})"):format(target))
  -- SIGXFSZ ignored: the write fails with EFBIG and save must report it
  local cmd = ("sh -c %s 2>%s"):format(q(("trap '' XFSZ; ulimit -f 16; exec %s %s"):format(q(BIN), q(script))),
                                      q(path("err.txt")))
  local ok = os.execute(cmd)
  assert(not ok, "the save succeeded despite the file size limit")
  local err = slurp(path("err.txt"))
  assert(err:find("save: writing", 1, true), "error message: " .. err)
  eq(slurp(target), old)
  -- no temporary left next to the target
  for _, f in ipairs(listdir()) do assert(not f:find("limit.safetensors.tmp", 1, true), f) end
  -- killed by the signal mid-write (as a process killed mid-save): old file still intact
  cmd = ("sh -c %s 2>/dev/null"):format(q(("ulimit -f 16; exec %s %s"):format(q(BIN), q(script))))
  assert(not os.execute(cmd), "the save succeeded despite the file size limit")
  eq(slurp(target), old)
  local t, m = lg.load(target)
  eq(t.w:totable(), {2, 2, 2, 2})
  eq(m.iter, "old")
  os.execute("rm -f " .. q(target) .. ".tmp-*")
end)

-- }======================================================

-- {====================================================== resume

local function step(m, opt, bs)
  local x = lg.randn(bs, 1, 8, 8)
  local target = lg.rand(bs, 1)
  opt:zero_grad()
  local loss = lg.bce_with_logits(m(x), target)
  loss:backward()
  opt:step()
  return loss:item()
end

local function checkpoint(p, m, opt, it)
  local ts = {}
  for k, v in pairs(m:state_dict()) do ts["model." .. k] = v end
  for k, v in pairs(opt:state_dict()) do ts["optim." .. k] = v end
  lg.save(p, ts, {iter = it, rng = table.concat(lg.get_rng_state(), ",")})
end

local function restore(p, m, opt)
  local ts, meta = lg.load(p)
  local msd, osd = {}, {}
  for k, v in pairs(ts) do
    local kind, rest = k:match("^(%a+)%.(.*)$")
    if kind == "model" then msd[rest] = v else osd[rest] = v end
  end
  m:load_state_dict(msd)
  opt:load_state_dict(osd)
  local rng = {}
  for w in meta.rng:gmatch("[^,]+") do rng[#rng + 1] = math.tointeger(tonumber(w)) end
  lg.set_rng_state(rng)
  return math.tointeger(tonumber(meta.iter))
end

local function params(m)
  local out = {}
  for k, v in pairs(m:state_dict()) do out[k] = v:totable() end
  return out
end

for _, mk in ipairs({
  {"Adam", function(ps) return optim.Adam(ps, {lr = 2e-3, betas = {0.5, 0.999}, weight_decay = 1e-4}) end},
  {"SGD", function(ps) return optim.SGD(ps, {lr = 0.05, momentum = 0.9, nesterov = true}) end},
  {"RMSprop", function(ps) return optim.RMSprop(ps, {lr = 1e-3, centered = true, momentum = 0.5}) end},
}) do
  test("resume (" .. mk[1] .. "): N steps == N/2, save, fresh objects, load, N/2 (bitwise)", function()
    local N = 8
    lg.manual_seed(5)
    local a = model()
    local oa = mk[2](a:parameters())
    local losses_a = {}
    for i = 1, N do losses_a[i] = step(a, oa, 6) end

    lg.manual_seed(5)
    local b = model()
    local ob = mk[2](b:parameters())
    local losses_b = {}
    for i = 1, N // 2 do losses_b[i] = step(b, ob, 6) end
    checkpoint(path("resume.safetensors"), b, ob, N // 2)
    b, ob = nil, nil
    collectgarbage()

    lg.manual_seed(999)                        -- whatever the state, the checkpoint restores it
    local c = model()
    local oc = mk[2](c:parameters())
    local it = restore(path("resume.safetensors"), c, oc)
    eq(it, N // 2)
    for i = it + 1, N do losses_b[i] = step(c, oc, 6) end
    eq(losses_b, losses_a, "losses")
    eq(params(c), params(a), "parameters and buffers")
    eq(c[2].num_batches_tracked:item(), N)
    local osd_a, osd_c = oa:state_dict(), oc:state_dict()
    for k, v in pairs(osd_a) do eq(osd_c[k]:totable(), v:totable(), "optimizer " .. k) end
  end)
end

-- }======================================================

os.execute("rm -rf " .. q(DIR))
