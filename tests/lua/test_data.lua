-- lg.data: the shipped MNIST subset, 2-D mixtures, the loader.
local data = lg.data

local function minmax(t) return -((-t):max():item()), t:max():item() end

test("mnist10k train: shapes, range [-1,1], labels 1..10", function()
  local d = data.mnist10k("train")
  eq(d.n, 9001)
  eq(d.images.shape, {9001, 1, 28, 28})
  eq(d.labels.shape, {9001})
  local lo, hi = minmax(d.images)
  eq({lo, hi}, {-1.0, 1.0})
  lo, hi = minmax(d.labels)
  eq({lo, hi}, {1.0, 10.0})
  -- labels are integers: their sum is exact and matches the per-class counts
  -- of datasets/README.md (0: 901, 1: 1014, ..., 9: 880 -> sum of (digit+1) * count)
  local counts = {901, 1014, 892, 929, 882, 777, 913, 963, 850, 880}
  local s = 0
  for i, c in ipairs(counts) do s = s + i * c end
  eq(d.labels:sum():item(), s + 0.0)
end)

test("mnist10k test split and the [0,1] range", function()
  local d = data.mnist10k("test", {range = {0, 1}})
  eq(d.n, 999)
  local lo, hi = minmax(d.images)
  eq({lo, hi}, {0.0, 1.0})
  local l = data.mnist("test", {limit = 5})
  eq(l.images.shape, {5, 1, 28, 28})
  raises(function() data.mnist("valid") end, "split must be 'train' or 'test'")
  raises(function() data.mnist("train", {scale = 1}) end, "unknown option 'scale'")
  raises(function() data.load("cifar", "train") end, "valid: mnist, mnist10k, fashion")
end)

test("read_idx is re-exported", function()
  local t = data.read_idx(data.root() .. "/mnist10k/t10k-labels-idx1-ubyte.gz")
  eq(t.shape, {999})
end)

test("fashion: 10k test images when Debian's package is installed", function()
  local f = io.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", "rb")
  if not f then
    raises(function() data.fashion("test", {dir = "/nonexistent"}) end, "dataset-fashion-mnist")
    return
  end
  f:close()
  local d = data.fashion("test", {limit = 100})
  eq(d.images.shape, {100, 1, 28, 28})
end)

test("ring8: centres on the unit circle, std 0.01 (VEEGAN/PacGAN); samples near them", function()
  local r = data.ring8()
  eq(r.modes, 8)
  eq(r.centres.shape, {8, 2})
  near(r.centres:totable()[3], {0, 1}, 1e-6)
  near(r.centres:totable()[2], {math.sqrt(0.5), math.sqrt(0.5)}, 1e-6)
  eq(r.std, 0.01)
  local x = r:sample(4000)
  eq(x.shape, {4000, 2})
  -- radius of every sample within 6 std of 1
  local rad = (x * x):sum(2):sqrt()
  local lo, hi = minmax(rad)
  assert(lo > 0.94 and hi < 1.06, ("radii in [%g, %g]"):format(lo, hi))
  local r2 = data.ring8{radius = 2, std = 0.02}
  near(r2.centres:totable()[1], {2, 0}, 1e-6)
end)

test("grid25: centres (2i, 2j), i, j in -2..2, std 0.05", function()
  local g = data.grid25()
  eq(g.modes, 25)
  local c = g.centres:totable()
  near(c[1], {-4, -4}, 0)
  near(c[13], {0, 0}, 0)
  near(c[25], {4, 4}, 0)
  eq(g.std, 0.05)
  local x = g:sample(5000)
  eq(x.shape, {5000, 2})
  -- every mode gets about 1/25 of the samples
  local m = lg.metrics.mode_coverage(x, g)
  eq(m.modes, 25)
  for _, n in ipairs(m.counts) do assert(n > 120 and n < 300, "mode count " .. n) end
end)

test("swissroll: shape and extent", function()
  lg.manual_seed(3)
  local x = data.swissroll():sample(3000)
  eq(x.shape, {3000, 2})
  -- noise-free radius t / 7.5 lies in [1.5 pi, 4.5 pi] / 7.5
  local s = data.swissroll{noise = 0}:sample(3000)
  local rad = (s * s):sum(2):sqrt()
  local lo, hi = minmax(rad)
  assert(lo >= 1.5 * math.pi / 7.5 - 1e-4 and hi <= 4.5 * math.pi / 7.5 + 1e-4,
         ("radii in [%g, %g]"):format(lo, hi))
  -- on the spiral: angle matches radius (t cos t, t sin t)
  local p = s:narrow(1, 1, 1):totable()[1]
  local t = math.sqrt(p[1] ^ 2 + p[2] ^ 2) * 7.5
  near({p[1], p[2]}, {t * math.cos(t) / 7.5, t * math.sin(t) / 7.5}, 1e-4)
end)

local function batches(loader, n)
  local out = {}
  for i = 1, n do out[i] = loader:next():view(-1):totable() end
  return out
end

test("Loader: same seed, same batches; every example once per epoch", function()
  local x = lg.arange(10)
  lg.manual_seed(7)
  local a = batches(data.Loader(x, {batch = 3}), 6)
  lg.manual_seed(7)
  local b = batches(data.Loader(x, {batch = 3}), 6)
  eq(a, b)
  -- drop_last: 3 batches per epoch, 9 distinct examples each epoch
  local L = data.Loader(x, {batch = 3})
  eq(L:batches(), 3)
  local seen = {}
  for bt in L:epoch() do for _, v in ipairs(bt:totable()) do seen[#seen + 1] = v end end
  eq(#seen, 9)
  local uniq = {}
  for _, v in ipairs(seen) do assert(not uniq[v], "repeated " .. v) uniq[v] = true end
  eq(L.epoch_count, 1)
  L:next()
  eq(L.epoch_count, 2)
  -- keep the last partial batch
  local K = data.Loader(x, {batch = 4, drop_last = false, shuffle = false})
  local sizes = {}
  for bt in K:epoch() do sizes[#sizes + 1] = bt:size(1) end
  eq(sizes, {4, 4, 2})
  eq(K:next():totable(), {0, 1, 2, 3})   -- arange is 0-based
end)

test("Loader: tensors move together", function()
  local x = lg.arange(6):view(6, 1) * 10
  local y = lg.arange(6)
  local L = data.Loader({x, y}, {batch = 2})
  local b = L:next()
  eq(b[1]:view(-1):totable()[1], b[2]:totable()[1] * 10)
  raises(function() data.Loader({x, lg.arange(5)}) end, "differ in their first dim")
  raises(function() data.Loader(lg.arange(3), {batch = 4}) end, "cannot fill one batch")
end)

test("Loader: cursor and RNG state restore the exact stream", function()
  local x = lg.arange(11)
  lg.manual_seed(5)
  local L = data.Loader(x, {batch = 4})
  batches(L, 3)                                  -- into the second epoch
  local sd, rng = L:state_dict(), lg.get_rng_state()
  local want = batches(L, 5)
  lg.manual_seed(99)
  local M = data.Loader(x, {batch = 4})
  M:load_state_dict(sd)
  lg.set_rng_state(rng)
  eq(batches(M, 5), want)
  eq(M.epoch_count, L.epoch_count)
  local c = L:cursor()
  eq(c.perm:numel(), 11)
  raises(function() M:set_cursor{epoch = 1, position = 99, perm = c.perm} end, "outside 0..11")
end)

test("image_folder: PNGs resized and centre-cropped", function()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p '" .. dir .. "'")
  lg.image.save(dir .. "/a.png", lg.rand(3, 20, 30))
  lg.image.save(dir .. "/b.png", lg.rand(1, 16, 16))
  local d = data.image_folder(dir, {size = 8})
  eq(d.images.shape, {2, 3, 8, 8})
  eq(d.n, 2)
  local lo, hi = minmax(d.images)
  assert(lo >= -1 and hi <= 1)
  local g = data.image_folder(dir, {size = 8, crop = false, channels = 1, range = {0, 1}})
  eq(g.images.shape, {2, 1, 8, 8})
  raises(function() data.image_folder(dir) end, "b.png is 16x16 but " .. dir .. "/a.png is 20x30; pass {size=...}")
  os.execute("rm '" .. dir .. "'/*.png")
  raises(function() data.image_folder(dir) end, "no PNG or JPEG files in " .. dir)
  os.execute("rm -r '" .. dir .. "'")
  raises(function() data.image_folder(dir) end,
         "data.image_folder: listdir: cannot open directory '" .. dir .. "': No such file")
end)

test("image_folder: images of one size need no {size=...}", function()
  local dir = temp_dir()
  local a, b = lg.rand(1, 8, 8), lg.rand(1, 8, 8)
  lg.image.save(dir .. "/a.png", a)
  lg.image.save(dir .. "/b.png", b)
  local d = data.image_folder(dir, {range = {0, 1}})
  eq(d.images.shape, {2, 1, 8, 8})
  eq(d.files, {dir .. "/a.png", dir .. "/b.png"})
  -- 8-bit PNGs: values within half a grey level of what was saved
  near(d.images:narrow(1, 1, 1):totable(), a:view(1, 1, 8, 8):totable(), 0.5 / 255 + 1e-6)
  near(d.images:narrow(1, 2, 1):totable(), b:view(1, 1, 8, 8):totable(), 0.5 / 255 + 1e-6)
  os.execute("rm -r " .. sh_quote(dir))
end)

-- a PNG of image x saved under any name (image.save wants a .png suffix)
local function save_as(x, path)
  local tmp = path:match("^(.*)/") .. "/tmp-save.png"
  lg.image.save(tmp, x)
  assert(os.rename(tmp, path))
end

test("image_folder: odd file names, hidden files and entries that are not images", function()
  local dir = temp_dir()
  local x = lg.rand(1, 4, 4)
  save_as(x, dir .. "/a.png")
  save_as(x, dir .. "/b\nc.PNG")              -- a newline splits a listing read by lines
  save_as(x, dir .. "/it's here.jpeg")        -- a PNG under a JPEG name: the bytes decide
  save_as(x, dir .. "/.hidden.png")
  local f = assert(io.open(dir .. "/._a.png", "wb"))   -- not an image: skipped as hidden
  f:write("AppleDouble")
  f:close()
  f = assert(io.open(dir .. "/notes.txt", "wb"))
  f:write("not an image")
  f:close()
  os.execute("mkdir " .. sh_quote(dir .. "/sub.png"))
  assert(os.execute("mkfifo " .. sh_quote(dir .. "/fifo.png")))
  assert(os.execute("ln -s a.png " .. sh_quote(dir .. "/link.png")))
  assert(os.execute("ln -s missing.png " .. sh_quote(dir .. "/dangling.png")))

  local names, kinds = data.listdir(dir)
  eq(names, {"._a.png", ".hidden.png", "a.png", "b\nc.PNG", "dangling.png", "fifo.png",
             "it's here.jpeg", "link.png", "notes.txt", "sub.png"})
  eq(kinds, {"file", "file", "file", "file", "other", "other", "file", "file", "file",
             "dir"})

  local d = data.image_folder(dir, {range = {0, 1}})
  eq(d.files, {dir .. "/a.png", dir .. "/b\nc.PNG", dir .. "/it's here.jpeg", dir .. "/link.png"})
  eq(d.images.shape, {4, 1, 4, 4})
  near(d.images:narrow(1, 2, 1):totable(), x:view(1, 1, 4, 4):totable(), 0.5 / 255 + 1e-6)
  eq(data.image_folder(dir, {limit = 2}).files, {dir .. "/a.png", dir .. "/b\nc.PNG"})
  raises(function() data.image_folder(dir, {limit = 0}) end, "limit must be a positive integer")
  raises(function() data.listdir(dir .. "/notes.txt") end, "listdir: cannot open directory")
  os.execute("rm -r " .. sh_quote(dir))
end)

-- Runs `code` in a child luagan for at most 10 s (a loader that blocked on
-- a FIFO would otherwise hang the whole run); returns whether it exited 0
-- and its stderr.
local function run_child(dir, code)
  local err = dir .. "/child-err.txt"
  local ok = os.execute(("timeout 10 %s -e %s 2>%s"):format(sh_quote(LUAGAN), sh_quote(code),
                                                          sh_quote(err)))
  return ok, read_file(err) or ""
end

test("read_idx and image.load refuse a FIFO without blocking", function()
  local dir = temp_dir()
  local fifo = dir .. "/data"
  assert(os.execute("mkfifo " .. sh_quote(fifo)))
  for _, call in ipairs{"lg.data.read_idx", "lg.image.load"} do
    local ok, err = run_child(dir, ("local lg = require 'luagan'; %s(%q)"):format(call, fifo))
    assert(not ok, call .. " of a FIFO succeeded")
    assert(err:find("'" .. fifo .. "' is not a regular file (a FIFO)", 1, true),
           call .. ": stderr (empty if the child hung and was killed): " .. err)
  end
  -- a FIFO among an MNIST directory's files: found, then refused by name
  for _, stem in ipairs{"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} do
    assert(os.execute(("cp %s %s"):format(sh_quote(data.root() .. "/mnist10k/" .. stem .. ".gz"),
                                          sh_quote(dir .. "/" .. stem .. ".gz"))))
  end
  os.remove(dir .. "/train-labels-idx1-ubyte.gz")
  assert(os.execute("mkfifo " .. sh_quote(dir .. "/train-labels-idx1-ubyte.gz")))
  local ok, err = run_child(dir, ("local lg = require 'luagan'; lg.data.mnist('train', {dir = %q})"):format(dir))
  assert(not ok, "data.mnist read a FIFO")
  assert(err:find("train-labels-idx1-ubyte.gz' is not a regular file (a FIFO)", 1, true),
         "data.mnist: stderr (empty if the child hung and was killed): " .. err)
  eq(data.mnist("test", {dir = dir}).n, 999)
  raises(function() data.read_idx("/dev/zero") end, "read_idx: '/dev/zero' is not a regular file")
  raises(function() lg.image.load("/dev/null") end, "image.load: '/dev/null' is not a regular file")
  os.execute("rm -r " .. sh_quote(dir))
end)

test("image.save of a batch writes its grid, like torchvision's save_image", function()
  local base = os.tmpname()
  local path = base .. ".png"
  local batch = lg.rand(5, 1, 3, 4)
  lg.image.save(path, batch, {nrow = 2, padding = 1, pad_value = 1})
  local back = lg.image.load(path)
  local want = lg.image.grid(batch, {nrow = 2, padding = 1, pad_value = 1})
  eq(back.shape, {1, 13, 11})
  near(back:totable(), want:totable(), 0.5 / 255 + 1e-6)
  lg.image.save(path, batch)   -- defaults: nrow 8, padding 2
  eq(lg.image.load(path).shape, {1, 7, 32})
  raises(function() lg.image.save(path, batch, {nrows = 2}) end, "image.save")
  raises(function() lg.image.save(path, lg.rand(2, 1, 1, 3, 4)) end, "image.save")
  os.remove(path); os.remove(base)
end)
