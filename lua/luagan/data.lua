-- luagan.data: data sets and a deterministic loader.
--
--   lg.data.read_idx(path)                 IDX file (gzipped or raw) -> float tensor of raw values
--   lg.data.mnist(split, opts)             {images=[N,1,28,28], labels=[N] (1..10), n=N, ...}
--   lg.data.fashion(split, opts)           same for Fashion-MNIST (Debian's dataset-fashion-mnist)
--   lg.data.load(name, split, opts)        by name: "mnist" | "mnist10k" | "fashion"
--   lg.data.image_folder(dir, opts)        PNG files -> {images=[N,C,S,S], files={...}, n=N}
--   lg.data.listdir(dir)                   sorted names, and kinds ("file", "dir", "other")
--   lg.data.ring8(opts) / grid25(opts) / swissroll(opts)
--                                          2-D distributions: m:sample(n) -> [n,2];
--                                          mixtures also carry m.centres [K,2] and m.std
--   lg.data.Loader(tensors, opts)          shuffled batches over epochs, resumable cursor
--
-- split is "train" or "test".  opts.range = {lo, hi} maps grey levels 0..255
-- linearly onto [lo, hi]; the default is {-1, 1} (a tanh generator's range),
-- {0, 1} gives the raw intensities.  opts.limit = n keeps the first n examples.
--
-- Where the files are: LUAGAN_DATA (a directory holding mnist10k/, mnist/)
-- when set, else datasets/ of the source tree this file belongs to.  Full
-- MNIST (datasets/mnist/, its four IDX files, gzipped or not) is preferred
-- over the shipped 10k subset (datasets/mnist10k/) when all four are present;
-- "mnist10k" asks for the subset explicitly.  Fashion-MNIST is read from
-- LUAGAN_FASHION or /usr/share/datasets/fashion-mnist (the Debian package's
-- directory, holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz).
local lg = require "luagan"

local data = {}

-- The C reader, looked up on each call so that this module loads even in a
-- build that lacks it (the error then names the missing function).
--- data.read_idx(path) -> Tensor
-- Reads an IDX file (gzipped or raw) into a float tensor of its raw values,
-- through lg.read_idx; raises when this build lacks the C reader, or naming
-- the path for a missing or malformed file.
-- Shapes: an images file -> [N, H, W]; a labels file -> [N].
-- @usage local ok, x = pcall(lg.data.read_idx, "datasets/mnist10k/t10k-labels-idx1-ubyte.gz")
function data.read_idx(path)
  local f = rawget(lg, "read_idx")
  if not f then error("data.read_idx: this luagan build has no lg.read_idx", 2) end
  return f(path)
end

-- The entries of a directory, read without a shell (lg.fs.list): true,
-- names, kinds or false, message.
local function try_listdir(dir)
  local ok, names, kinds = pcall(lg.fs.list, dir)
  if ok and not names then return false, "listdir: " .. kinds end
  return ok, names, kinds
end

--- data.listdir(dir) -> names, kinds
-- The entries of dir sorted by name and their kinds ("file", "dir" or
-- "other"), as lg.fs.list, but raising naming dir when it cannot be read.
-- @usage local names, kinds = lg.data.listdir(".")
function data.listdir(dir)
  local ok, names, kinds = try_listdir(dir)
  if not ok then error(names, 2) end
  return names, kinds
end

-- {====================================================== files

local function dirname(path) return path:match("^(.*)/[^/]*$") or "." end

-- The datasets/ directory: $LUAGAN_DATA, else datasets/ beside the installed
-- package (<prefix>/share/lua/5.4/luagan/datasets, where `make install` puts
-- the shipped subset), else <source tree>/datasets.
--- data.root() -> string
-- The directory holding the data sets: $LUAGAN_DATA when set, else datasets/
-- beside the installed package, else datasets/ of the source tree.
-- @usage print(lg.data.root())
function data.root()
  local env = os.getenv("LUAGAN_DATA")
  if env and env ~= "" then return env end
  local here = dirname(debug.getinfo(1, "S").source:match("^@(.*)$") or "./data.lua")
  if try_listdir(here .. "/datasets") then return here .. "/datasets" end
  return dirname(dirname(here)) .. "/datasets"
end

local FASHION_DIR = "/usr/share/datasets/fashion-mnist"

-- path of an IDX file stem, gzipped or raw; nil when neither exists.  Looked
-- up in the directory's listing: opening the file to see whether it is there
-- would block if it were a FIFO (read_idx then refuses it by name).
local function idx_file(dir, stem)
  local ok, names = try_listdir(dir)
  if not ok then return nil end
  local present = {}
  for _, n in ipairs(names) do present[n] = true end
  for _, name in ipairs{stem .. ".gz", stem} do
    if present[name] then return dir .. "/" .. name end
  end
end

local STEMS = {
  train = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
  test = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

local function has_all(dir)
  for _, s in pairs(STEMS) do
    if not idx_file(dir, s[1]) or not idx_file(dir, s[2]) then return false end
  end
  return true
end

-- }======================================================

-- {====================================================== IDX data sets

local function range_of(op, opts)
  local r = opts.range or {-1, 1}
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or r[1] >= r[2] then
    error(op .. ": range must be {lo, hi} with lo < hi", 3)
  end
  return r[1], r[2]
end

local VALID_OPTS = {range = true, limit = true, dir = true}

local function check_opts(op, opts, valid)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(op .. ": options must be a table", 3) end
  for k in pairs(opts) do
    if not valid[k] then
      local names = {}
      for n in pairs(valid) do names[#names + 1] = n end
      table.sort(names)
      error(("%s: unknown option '%s' (valid: %s)"):format(op, tostring(k),
        table.concat(names, ", ")), 3)
    end
  end
  return opts
end

-- Reads one split of an MNIST-format directory.
local function idx_dataset(op, name, dir, split, opts)
  local stems = STEMS[split]
  if not stems then
    error(("%s: split must be 'train' or 'test', got %s"):format(op, tostring(split)), 3)
  end
  local ipath, lpath = idx_file(dir, stems[1]), idx_file(dir, stems[2])
  if not ipath or not lpath then
    error(("%s: %s not found in %s"):format(op, stems[ipath and 2 or 1], dir), 3)
  end
  local raw, labels = data.read_idx(ipath), data.read_idx(lpath)
  if raw:dim() ~= 3 or labels:dim() ~= 1 or raw:size(1) ~= labels:size(1) then
    error(("%s: %s holds [%s] and %s holds [%s]; expected [N,H,W] images and [N] labels")
      :format(op, ipath, table.concat(raw.shape, ","), lpath, table.concat(labels.shape, ",")), 3)
  end
  local n = raw:size(1)
  if opts.limit then
    if math.type(opts.limit) ~= "integer" or opts.limit < 1 then
      error(op .. ": limit must be a positive integer", 3)
    end
    n = math.min(n, opts.limit)
    raw, labels = raw:narrow(1, 1, n), labels:narrow(1, 1, n)
  end
  local lo, hi = range_of(op, opts)
  local images = (raw * ((hi - lo) / 255) + lo):view(n, 1, raw:size(2), raw:size(3))
  return {images = images, labels = labels + 1, n = n, classes = 10, name = name,
          split = split, dir = dir, range = {lo, hi}}
end

-- MNIST: full MNIST when datasets/mnist holds its four files, else the
-- shipped 10k subset.  opts.dir reads another MNIST-format directory.
--- data.mnist([split] [, opts]) -> {images, labels, n, ...}
-- One split ("train", the default, or "test") of MNIST: the full set when
-- the data directory's mnist/ holds its four IDX files, else the shipped
-- 10k subset (9,001 train and 999 test digits; the result's name says which).
-- opts.range = {lo, hi} maps grey levels 0..255 linearly onto [lo, hi]
-- (default {-1, 1}, a tanh generator's range; {0, 1} the raw intensities),
-- opts.limit = n keeps the first n examples, opts.dir reads another
-- MNIST-format directory.  Also returns classes = 10, name, split, dir and
-- range.  Unknown options, a bad split and missing files raise.
-- Shapes: images [N, 1, 28, 28], labels [N] holding 1..10.
-- @usage local d = lg.data.mnist("train", {limit = 1000})
-- local loader = lg.data.Loader({d.images, d.labels}, {batch = 64})
function data.mnist(split, opts)
  opts = check_opts("data.mnist", opts, VALID_OPTS)
  local dir, name = opts.dir, "mnist"
  if not dir then
    local root = data.root()
    if has_all(root .. "/mnist") then dir = root .. "/mnist"
    else dir, name = root .. "/mnist10k", "mnist10k" end
  end
  return idx_dataset("data.mnist", name, dir, split or "train", opts)
end

-- The shipped 10k subset only (9,001 train + 999 test digits).
--- data.mnist10k([split] [, opts]) -> {images, labels, n, ...}
-- As data.mnist, but always the shipped 10k subset (datasets/mnist10k/:
-- 9,001 train and 999 test digits), so that results do not depend on
-- whether full MNIST is installed.
-- Shapes: images [N, 1, 28, 28], labels [N] holding 1..10.
-- @usage local test = lg.data.mnist10k("test", {range = {0, 1}})
function data.mnist10k(split, opts)
  opts = check_opts("data.mnist10k", opts, VALID_OPTS)
  return idx_dataset("data.mnist10k", "mnist10k", opts.dir or data.root() .. "/mnist10k",
                     split or "train", opts)
end

--- data.fashion_classes: {string, ...}
-- The 10 Fashion-MNIST class names, indexed by label (1 = "T-shirt/top",
-- 10 = "Ankle boot").
-- @usage print(lg.data.fashion_classes[10])   --> Ankle boot
data.fashion_classes = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                        "Shirt", "Sneaker", "Bag", "Ankle boot"}

--- data.fashion([split] [, opts]) -> {images, labels, n, ...}
-- One split of Fashion-MNIST (Xiao et al. 2017), with the options of
-- data.mnist, read from opts.dir, $LUAGAN_FASHION or Debian's
-- dataset-fashion-mnist directory; raises with how to install it when the
-- files are missing.  Class names: data.fashion_classes.
-- Shapes: images [N, 1, 28, 28], labels [N] holding 1..10.
-- @usage local ok, d = pcall(lg.data.fashion, "test", {limit = 100})
function data.fashion(split, opts)
  opts = check_opts("data.fashion", opts, VALID_OPTS)
  local dir = opts.dir or os.getenv("LUAGAN_FASHION") or FASHION_DIR
  if not has_all(dir) then
    error(("data.fashion: Fashion-MNIST not found in %s (install Debian's dataset-fashion-mnist: "
      .. "`make datasets`, or set LUAGAN_FASHION)"):format(dir), 2)
  end
  return idx_dataset("data.fashion", "fashion", dir, split or "train", opts)
end

-- By name, for an experiment's --dataset flag.
--- data.names: {string, ...}
-- The data set names data.load accepts: "mnist", "mnist10k", "fashion".
-- @usage print(table.concat(lg.data.names, ", "))
data.names = {"mnist", "mnist10k", "fashion"}
--- data.load(name [, split] [, opts]) -> {images, labels, n, ...}
-- A data set by name (one of data.names), for an experiment's --dataset
-- flag: data.mnist, data.mnist10k or data.fashion with split and opts.
-- Raises listing the valid names for an unknown one.
-- Shapes: images [N, 1, 28, 28], labels [N].
-- @usage local d = lg.data.load("mnist10k", "test", {limit = 10})
function data.load(name, split, opts)
  local f = ({mnist = data.mnist, mnist10k = data.mnist10k, fashion = data.fashion})[name]
  if not f then
    error(("data.load: unknown data set '%s' (valid: %s)"):format(tostring(name),
      table.concat(data.names, ", ")), 2)
  end
  return f(split, opts)
end

-- }======================================================

-- {====================================================== image folders

-- to `channels` channels: RGBA drops alpha, grey is repeated, RGB is averaged
local function to_channels(x, channels)
  local c = x:size(1)
  if c == channels then return x end
  if c == 4 then x, c = x:narrow(1, 1, 3), 3 end
  if c == channels then return x end
  if c == 1 then return x:expand(channels, x:size(2), x:size(3)):contiguous() end
  if channels == 1 then return x:mean(1, true) end
  error(("image_folder: cannot convert %d channels to %d"):format(c, channels), 3)
end

local IMAGE_SUFFIX = {png = true, jpg = true, jpeg = true}

-- The image files of dir, sorted by name: regular files (or links to them)
-- named *.png, *.jpg or *.jpeg in any case, not hidden (a name starting with
-- "." such as the ._a.png that macOS leaves on foreign file systems).
local function image_files(dir)
  local ok, names, kinds = try_listdir(dir)
  if not ok then error(("data.image_folder: %s"):format(names), 3) end
  local files = {}
  for i, name in ipairs(names) do
    local suffix = name:match("%.([^.]+)$")
    if kinds[i] == "file" and name:sub(1, 1) ~= "." and suffix and IMAGE_SUFFIX[suffix:lower()] then
      files[#files + 1] = dir .. "/" .. name
    end
  end
  return files
end

-- All *.png/*.jpg/*.jpeg files of dir (sorted by name, not recursive) as one tensor.
-- opts.size = S: each image is resized so that its shorter side is S and
-- then centre-cropped to S x S (opts.crop = false resizes to S x S, changing
-- the aspect ratio).  Without size, all images must share one size.
-- opts.channels: 1 or 3 (default: the first image's, RGBA counted as 3).
--- data.image_folder(dir [, opts]) -> {images, files, n, name, range}
-- The images of dir (files named *.png, *.jpg, *.jpeg in any case, not
-- hidden, not recursive; sorted by name; the decoder reads PNG only, so a
-- JPEG raises naming it) as one tensor with values mapped
-- onto opts.range (default {-1, 1}).  opts.size = S resizes each image so
-- that its shorter side is S and centre-crops it to S x S (opts.crop = false
-- resizes to S x S instead); without size all images must share one size.
-- opts.channels (1 or 3; default the first image's, RGBA counted as 3)
-- converts grey, RGB and RGBA; opts.limit keeps the first n files.  Raises
-- for an empty folder or an unreadable image, naming it.
-- Shapes: images [N, C, S, S].
-- @usage local dir = os.tmpname()
-- os.remove(dir)
-- lg.fs.mkdir(dir)
-- lg.image.save(dir .. "/a.png", lg.rand(3, 40, 30))
-- local d = lg.data.image_folder(dir, {size = 16})   -- images [1, 3, 16, 16]
-- os.remove(dir .. "/a.png"); os.remove(dir)
function data.image_folder(dir, opts)
  opts = check_opts("data.image_folder", opts,
                    {size = true, crop = true, channels = true, range = true, limit = true})
  if type(dir) ~= "string" then error("data.image_folder: a directory path is expected", 2) end
  local size, crop = opts.size, opts.crop ~= false
  if size ~= nil and (math.type(size) ~= "integer" or size < 1) then
    error("data.image_folder: size must be a positive integer", 2)
  end
  if opts.limit ~= nil and (math.type(opts.limit) ~= "integer" or opts.limit < 1) then
    error("data.image_folder: limit must be a positive integer", 2)
  end
  local files = image_files(dir)
  if #files == 0 then error(("data.image_folder: no PNG or JPEG files in %s"):format(dir), 2) end
  if opts.limit then
    for i = #files, opts.limit + 1, -1 do files[i] = nil end
  end
  local lo, hi = range_of("data.image_folder", opts)
  local channels = opts.channels
  local list, h1, w1 = {}, nil, nil
  for i, f in ipairs(files) do
    local ok, x = pcall(lg.image.load, f)
    if not ok then error(("data.image_folder: %s"):format(x), 2) end
    channels = channels or math.min(x:size(1), 3)
    x = to_channels(x, channels)
    if size then
      local h, w = x:size(2), x:size(3)
      if crop then
        local s = size / math.min(h, w)
        local nh, nw = math.max(size, math.floor(h * s + 0.5)), math.max(size, math.floor(w * s + 0.5))
        if nh ~= h or nw ~= w then x = lg.image.resize(x, nh, nw) end
        x = x:narrow(2, (nh - size) // 2 + 1, size):narrow(3, (nw - size) // 2 + 1, size)
      elseif h ~= size or w ~= size then
        x = lg.image.resize(x, size, size)
      end
    elseif i == 1 then
      h1, w1 = x:size(2), x:size(3)
    elseif x:size(2) ~= h1 or x:size(3) ~= w1 then
      error(("data.image_folder: %s is %dx%d but %s is %dx%d; pass {size=...}"):format(f,
        x:size(2), x:size(3), files[1], h1, w1), 2)
    end
    list[i] = x:unsqueeze(1)
  end
  local images = lg.cat(list, 1) * (hi - lo) + lo
  return {images = images, files = files, n = #files, name = dir, range = {lo, hi}}
end

-- }======================================================

-- {====================================================== 2-D distributions

-- 0/1 step: 1 where x > 0, else 0 (exact for the values used below, whose
-- non-zero magnitudes exceed 1e-20)
local function step(x) return (x * 1e20):clamp(0, 1) end

-- Draws n component indices uniformly as a one-hot [n,K] matrix (tensor ops
-- only: u ~ U[0,1) falls in (k/K, (k+1)/K], with the first bin open below).
local function uniform_onehot(n, k)
  local u = lg.rand(n, 1)
  local lo, hi = {}, {}
  for j = 1, k do
    lo[j] = j == 1 and -1 or (j - 1) / k
    hi[j] = j == k and 2 or j / k
  end
  return step(u - lg.tensor(lo):view(1, k)) - step(u - lg.tensor(hi):view(1, k))
end

local Mixture = {}
Mixture.__index = Mixture

-- n samples [n,2]: a uniformly chosen centre plus std * N(0, I)
--- Mixture:sample(n) -> Tensor
-- n points of a 2-D Gaussian mixture made by data.ring8 or data.grid25: a
-- uniformly chosen centre plus std * N(0, I), drawn from lg's generator.
-- The mixture also carries centres [K, 2], centre_list, std and modes = K.
-- Raises unless n is a positive integer.
-- Shapes: -> [n, 2].
-- @usage local x = lg.data.ring8():sample(512)
function Mixture:sample(n)
  if math.type(n) ~= "integer" or n < 1 then
    error(self.name .. ":sample: n must be a positive integer", 2)
  end
  local means = uniform_onehot(n, self.modes):matmul(self.centres)
  return means + lg.randn(n, 2) * self.std
end

local function mixture(name, centres, std)
  if type(std) ~= "number" or std <= 0 then error("data." .. name .. ": std must be > 0", 3) end
  return setmetatable({name = name, centres = lg.tensor(centres), centre_list = centres,
                       std = std, modes = #centres}, Mixture)
end

-- Ring of 8 Gaussians with uniform weights, centres radius * (cos, sin)(2 pi i / 8),
-- i = 0..7.  Defaults radius 1, std 0.01: the VEEGAN / PacGAN 2-D ring
-- (PacGAN's code, fjxmlzn/PacGAN @190853e, which states it follows VEEGAN).
-- The unrolled-GAN paper's appendix uses radius 2, std 0.02 (Metz et al.
-- 2017, appendix A), the same as WGAN-GP's toy before its /1.414 rescaling:
-- ring8{radius=2, std=0.02}.  (The unrolled-GAN notebook's
-- linspace(0, 2 pi, 8) has only 7 distinct modes; the angles here are
-- 2 pi i / 8.)
--- data.ring8([opts]) -> Mixture
-- The ring of 8 Gaussians with equal weights of VEEGAN (Srivastava et al.
-- 2017) and PacGAN (Lin et al. 2018): centres radius * (cos, sin)(2 pi i / 8),
-- i = 0..7, default radius 1 and std 0.01.  The unrolled GAN paper (Metz et
-- al. 2017) uses {radius = 2, std = 0.02}.  Sample it with m:sample(n).
-- Shapes: m:sample(n) -> [n, 2]; m.centres [8, 2].
-- @usage local ring = lg.data.ring8{radius = 2, std = 0.02}
-- local real = ring:sample(256)
function data.ring8(opts)
  opts = check_opts("data.ring8", opts, {radius = true, std = true})
  local r = opts.radius or 1
  local centres = {}
  for i = 0, 7 do
    local th = 2 * math.pi * i / 8
    centres[i + 1] = {r * math.cos(th), r * math.sin(th)}
  end
  local m = mixture("ring8", centres, opts.std or 0.01)
  m.radius = r
  return m
end

-- Grid of 25 Gaussians with uniform weights at (2i, 2j), i, j in -2..2, over
-- [-4, 4]^2, std 0.05: VEEGAN / PacGAN's 2-D grid (PacGAN's configs).  opts.spacing scales the grid (default 2).
--- data.grid25([opts]) -> Mixture
-- The grid of 25 Gaussians with equal weights of VEEGAN and PacGAN: centres
-- (s i, s j) for i, j in -2..2 with spacing s = opts.spacing (default 2,
-- covering [-4, 4]^2), std 0.05 (opts.std).
-- Shapes: m:sample(n) -> [n, 2]; m.centres [25, 2].
-- @usage local grid = lg.data.grid25()
-- local real = grid:sample(256)
function data.grid25(opts)
  opts = check_opts("data.grid25", opts, {spacing = true, std = true})
  local s = opts.spacing or 2
  local centres = {}
  for i = -2, 2 do
    for j = -2, 2 do centres[#centres + 1] = {s * i, s * j} end
  end
  local m = mixture("grid25", centres, opts.std or 0.05)
  m.spacing = s
  return m
end

-- Swiss roll, as WGAN-GP's toy: sklearn's make_swiss_roll(noise=0.25), columns
-- (0, 2), divided by 7.5 (the WGAN-GP authors' gan_toy.py): t ~ U[1.5 pi, 4.5 pi],
-- x = (t cos t, t sin t) + 0.25 N(0, I), then x / 7.5.
--- data.swissroll([opts]) -> {sample = fn, ...}
-- The swiss roll of WGAN-GP's toy experiments (Gulrajani et al. 2017):
-- sklearn's make_swiss_roll with columns 0 and 2, t ~ U[1.5 pi, 4.5 pi],
-- x = (t cos t, t sin t) + noise N(0, I), then x / scale; defaults noise
-- 0.25, scale 7.5.  m:sample(n) draws n points.
-- Shapes: m:sample(n) -> [n, 2].
-- @usage local roll = lg.data.swissroll()
-- local real = roll:sample(256)
function data.swissroll(opts)
  opts = check_opts("data.swissroll", opts, {noise = true, scale = true})
  local noise, scale = opts.noise or 0.25, opts.scale or 7.5
  return {name = "swissroll", noise = noise, scale = scale, sample = function(_, n)
    if math.type(n) ~= "integer" or n < 1 then error("swissroll:sample: n must be a positive integer", 2) end
    local t = (lg.rand(n, 1) * 2 - 1) * (1.5 * math.pi) + 3 * math.pi
    local xy = lg.cat({t * t:cos(), t * t:sin()}, 2)
    return (xy + lg.randn(n, 2) * noise) / scale
  end}
end

-- }======================================================

-- {====================================================== Loader

-- loader = lg.data.Loader(tensors, {batch=64, shuffle=true, drop_last=true})
--   tensors: one tensor or a list of tensors sharing their first dim (e.g.
--   {images, labels}); a batch is the same kind (a tensor or a list).
-- loader:next()         -> the next batch; starts a new epoch (and draws a new
--                          permutation) when the current one is used up
-- for b in loader:epoch() do ... end     the rest of the current epoch
-- loader:batches()      -> batches per epoch
-- loader.epoch_count    epochs started so far (1 during the first)
-- loader:cursor() / loader:set_cursor(c)      {epoch=, position=, perm=tensor}
-- loader:state_dict() / loader:load_state_dict(sd)   the cursor as tensors
--
-- Each epoch's permutation is drawn from lg's generator (lg.rand, then a
-- Fisher-Yates shuffle of the indices), so a run is deterministic under
-- lg.manual_seed and resumes exactly with the generator state and the cursor.
local Loader = {}
Loader.__index = Loader
Loader.__name = "Loader"

--- data.Loader(tensors [, opts]) -> Loader
-- Shuffled minibatches over epochs from one tensor or a list of tensors
-- sharing their first dim (e.g. {images, labels}); a batch is of the same
-- kind.  opts.batch (default 64), opts.shuffle (true: each epoch draws a
-- permutation from lg's generator, so runs are deterministic under
-- lg.manual_seed), opts.drop_last (true: an incomplete last batch is
-- skipped).  Raises when the tensors differ in their first dim or cannot
-- fill one batch.  Its cursor (loader:state_dict) resumes a run exactly.
-- Shapes: tensors [N, ...] -> batches [batch, ...].
-- @usage local x, y = lg.randn(100, 2), lg.randperm(100)
-- local loader = lg.data.Loader({x, y}, {batch = 32})
-- local b = loader:next()   -- {[32, 2], [32]}
function data.Loader(tensors, opts)
  opts = check_opts("data.Loader", opts, {batch = true, shuffle = true, drop_last = true})
  local single = lg.is_tensor(tensors)
  local list = single and {tensors} or tensors
  if type(list) ~= "table" or #list == 0 then
    error("data.Loader: a tensor or a list of tensors is expected", 2)
  end
  local n
  for i, t in ipairs(list) do
    if not lg.is_tensor(t) or t:dim() == 0 then
      error(("data.Loader: entry %d is not a tensor with a first dimension"):format(i), 2)
    end
    n = n or t:size(1)
    if t:size(1) ~= n then
      error(("data.Loader: tensors differ in their first dim (%d and %d)"):format(n, t:size(1)), 2)
    end
  end
  local batch = opts.batch or 64
  if math.type(batch) ~= "integer" or batch < 1 then
    error("data.Loader: batch must be a positive integer", 2)
  end
  local drop_last = opts.drop_last ~= false
  if n == 0 or (drop_last and n < batch) then
    error(("data.Loader: %d examples cannot fill one batch of %d"):format(n, batch), 2)
  end
  if n > 2^24 then error("data.Loader: more than 2^24 examples", 2) end
  return setmetatable({tensors = list, single = single, n = n, batch = batch,
                       shuffle = opts.shuffle ~= false, drop_last = drop_last,
                       epoch_count = 0, position = 0, perm = nil}, Loader)
end

--- Loader:batches() -> integer
-- The number of batches per epoch: floor(N / batch) with drop_last, else
-- ceil(N / batch).
-- @usage local loader = lg.data.Loader(lg.zeros(100, 2), {batch = 32})
-- assert(loader:batches() == 3)
function Loader:batches()
  return self.drop_last and self.n // self.batch or (self.n + self.batch - 1) // self.batch
end

-- 1-based permutation of 1..n as a Lua list
function Loader:_draw()
  local n, perm = self.n, {}
  for i = 1, n do perm[i] = i end
  if self.shuffle and n > 1 then
    local u = lg.rand(n):totable()
    for i = n, 2, -1 do
      local j = math.min(i, math.floor(u[i] * i) + 1)
      perm[i], perm[j] = perm[j], perm[i]
    end
  end
  return perm
end

local function rows(t, perm, first, count)
  return t:index_select(1, table.move(perm, first + 1, first + count, 1, {}))
end

--- Loader:next() -> Tensor | {Tensor, ...}
-- The next batch; starts a new epoch (loader.epoch_count grows and a new
-- permutation is drawn) when the current one is used up.
-- Shapes: [N, ...] -> [batch, ...] (the last batch may be smaller without
-- drop_last).
-- @usage local loader = lg.data.Loader(lg.randn(10, 2), {batch = 4})
-- local real = loader:next()   -- [4, 2]
function Loader:next()
  local left = self.n - self.position
  if self.perm == nil or left == 0 or (self.drop_last and left < self.batch) then
    self.perm = self:_draw()
    self.epoch_count = self.epoch_count + 1
    self.position = 0
  end
  local count = math.min(self.batch, self.n - self.position)
  local out = {}
  for i, t in ipairs(self.tensors) do out[i] = rows(t, self.perm, self.position, count) end
  self.position = self.position + count
  if self.single then return out[1] end
  return out
end

-- Iterates over what is left of the current epoch (a whole epoch when the
-- last one is finished or none has started).
--- Loader:epoch() -> iterator
-- Iterates over the batches left in the current epoch, or over a whole new
-- epoch when the last one is finished or none has started.
-- @usage local loader = lg.data.Loader(lg.randn(10, 2), {batch = 4})
-- for batch in loader:epoch() do print(batch.shape[1]) end   -- 4, 4
function Loader:epoch()
  local started = false
  return function()
    local left = self.perm and self.n - self.position or 0
    local done = left == 0 or (self.drop_last and left < self.batch)
    if done and started then return nil end
    started = true
    return self:next()
  end
end

--- Loader:cursor() -> {epoch, position, perm}
-- Where the loader is: epochs started, examples used in the current one and
-- its permutation (a tensor of 1-based indices, nil before the first batch).
-- @usage local loader = lg.data.Loader(lg.randn(10, 2), {batch = 4})
-- loader:next()
-- local c = loader:cursor()   -- {epoch = 1, position = 4, perm = tensor[10]}
function Loader:cursor()
  return {epoch = self.epoch_count, position = self.position,
          perm = self.perm and lg.tensor(self.perm) or nil}
end

--- Loader:set_cursor(c) -> Loader
-- Restores a cursor from loader:cursor(), so that the next batches are those
-- that followed it.  Raises for a malformed cursor, a position outside
-- 0..N or a permutation of another length.
-- @usage local loader = lg.data.Loader(lg.randn(10, 2), {batch = 4})
-- local c = loader:cursor()
-- local a = loader:next()
-- loader:set_cursor(c)
function Loader:set_cursor(c)
  if type(c) ~= "table" or math.type(c.epoch) ~= "integer" or math.type(c.position) ~= "integer" then
    error("Loader:set_cursor: {epoch=integer, position=integer, perm=tensor} expected", 2)
  end
  if c.position < 0 or c.position > self.n then
    error(("Loader:set_cursor: position %d outside 0..%d"):format(c.position, self.n), 2)
  end
  if c.perm ~= nil then
    if not lg.is_tensor(c.perm) or c.perm:numel() ~= self.n then
      error(("Loader:set_cursor: perm must be a tensor of %d indices"):format(self.n), 2)
    end
    local perm = c.perm:view(-1):totable()
    for i = 1, self.n do perm[i] = math.tointeger(perm[i]) end
    self.perm = perm
  else
    self.perm = nil
  end
  self.epoch_count, self.position = c.epoch, c.position
  return self
end

-- The cursor as name -> tensor, for checkpoints.
--- Loader:state_dict() -> {epoch, position, perm}
-- The cursor as tensors (name -> Tensor), for checkpoints: lg.experiment's
-- run:track saves it with the models.
-- @usage local loader = lg.data.Loader(lg.randn(10, 2), {batch = 4})
-- local sd = loader:state_dict()
function Loader:state_dict()
  local c = self:cursor()
  return {epoch = lg.tensor{c.epoch}, position = lg.tensor{c.position}, perm = c.perm}
end

--- Loader:load_state_dict(sd) -> Loader
-- Restores the cursor from loader:state_dict(); raises naming a missing
-- entry.
-- @usage local loader = lg.data.Loader(lg.randn(10, 2), {batch = 4})
-- local sd = loader:state_dict()
-- loader:next()
-- loader:load_state_dict(sd)
function Loader:load_state_dict(sd)
  local function int(name)
    local t = sd[name]
    if not lg.is_tensor(t) then error("Loader:load_state_dict: missing '" .. name .. "'", 3) end
    return math.tointeger(t:view(-1):totable()[1])
  end
  return self:set_cursor{epoch = int("epoch"), position = int("position"), perm = sd.perm}
end

-- }======================================================

return data
