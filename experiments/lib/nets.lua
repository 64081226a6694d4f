-- experiments/lib/nets.lua: the networks the experiments share.
--
--   local nets = require "lib.nets"
--   nets.dcgan_G{nz=, ngf=, channels=, size=28|32|64, bn=true, bias=false}
--   nets.dcgan_D{ndf=, channels=, size=28|32|64, bn=true, bias=false}
--   nets.features(D, x)            per-block activations of a dcgan_D (for probes)
--   nets.mlp{nin=, hidden=, layers=2, nout=, act="relu", bn=false, out_act=nil, init=}
--   nets.Maxout(nin, units, pieces), nets.orthogonal_(w, gain)
--   nets.to_size(images, size)     [N,C,28,28] in [-1,1] -> [N,C,size,size]
--   nets.to_28(images)             its inverse for generated images (and [N,784] rows)
--   nets.exact_w1(a, b)            exact W1 between two equal-size point clouds [n,d]
--   nets.assignment_cost(c, n)     min-cost perfect matching of an n x n table (Hungarian)
--   nets.wgangp_mnist_G{dim=, nz=, bn=false}, nets.wgangp_mnist_D{dim=, bn=false}
--                                  gan_mnist.py's nets (wgan_gp.lua); nets.tflib_init their init
--
-- DCGAN guidelines (Radford et al. 2016, sec. 3 and soumith/dcgan.torch):
-- no pooling, strided convs
-- in D and fractionally-strided (transposed) convs in G; batch norm in both
-- except on G's output layer and D's input layer; ReLU in G with a Tanh
-- output; LeakyReLU(0.2) in D; G's first layer maps z (as a 1x1 map) to a
-- 4x4 (3x3 at 28 px) map; D's last conv reduces to one logit (no sigmoid: the
-- losses take logits).  Convolutions have no bias (dcgan.torch's noBias()
-- and the WGAN authors' DCGAN_D/G, martinarjovsky/WassersteinGAN
-- models/dcgan.py); bias = true adds them.  Initialise with
-- model:apply(nn.init.dcgan): N(0, 0.02) weights, BN scales N(1, 0.02).
--
-- Layer plans (spatial size after each layer; widths in multiples of ngf/ndf):
--   32 px   G: z -> 4 (4x) -> 8 (2x) -> 16 (1x) -> 32 (c)       k4 s2 p1 after a k4 s1 p0 projection
--   64 px   G: z -> 4 (8x) -> 8 (4x) -> 16 (2x) -> 32 (1x) -> 64 (c)   (dcgan.torch's shape)
--   28 px   G: z -> 3 (4x) -> 7 (2x) -> 14 (1x) -> 28 (c)       k3 s1 p0, k3 s2 p0, then k4 s2 p1
-- D mirrors G: 32 -> 16 -> 8 -> 4 -> logit (k4 s1 p0), 28 -> 14 -> 7 -> 3 -> logit (k3).
local lg = require "luagan"
local nn = lg.nn

local nets = {}

local PLANS = {
  -- {kernel, stride, padding} of G's layers from z to the image; D uses them reversed
  [28] = {{3, 1, 0}, {3, 2, 0}, {4, 2, 1}, {4, 2, 1}},
  [32] = {{4, 1, 0}, {4, 2, 1}, {4, 2, 1}, {4, 2, 1}},
  [64] = {{4, 1, 0}, {4, 2, 1}, {4, 2, 1}, {4, 2, 1}, {4, 2, 1}},
}

local function plan(size)
  local p = PLANS[size]
  if not p then error(("nets: size must be 28, 32 or 64, got %s"):format(tostring(size)), 3) end
  return p
end

-- G: z [N, nz] (or [N, nz, 1, 1]) -> images [N, channels, size, size] in [-1, 1]
function nets.dcgan_G(o)
  local p = plan(o.size)
  local nz, ngf, c = o.nz or 100, o.ngf or 64, o.channels or 1
  local bn, bias = o.bn ~= false, o.bias == true
  local L = #p
  local G = nn.Sequential(nn.Reshape(nz, 1, 1))
  local cin = nz
  for i = 1, L do
    local last = i == L
    local cout = last and c or ngf * 2 ^ (L - 1 - i) // 1
    cout = math.tointeger(cout)
    local k, s, pad = p[i][1], p[i][2], p[i][3]
    G:add(nn.ConvTranspose2d(cin, cout, k, {stride = s, padding = pad, bias = bias or last}))
    if last then
      G:add(nn.Tanh())
    else
      if bn then G:add(nn.BatchNorm2d(cout)) end
      G:add(nn.ReLU())
    end
    cin = cout
  end
  return G
end

-- D: images [N, channels, size, size] -> logits [N, 1]
function nets.dcgan_D(o)
  local p = plan(o.size)
  local ndf, c = o.ndf or 64, o.channels or 1
  local bn, bias = o.bn ~= false, o.bias == true
  local L = #p
  local D = nn.Sequential()
  local cin = c
  for i = 1, L do
    local spec = p[L + 1 - i]           -- mirror of G's plan
    local last = i == L
    local cout = last and 1 or math.tointeger(ndf * 2 ^ (i - 1) // 1)
    local k, s, pad = spec[1], spec[2], spec[3]
    if last then s, pad = 1, 0 end      -- the logit: a k x k "valid" conv over the last map
    D:add(nn.Conv2d(cin, cout, k, {stride = s, padding = pad, bias = bias or last}))
    if not last then
      if bn and i > 1 then D:add(nn.BatchNorm2d(cout)) end
      D:add(nn.LeakyReLU(0.2))
    end
    cin = cout
  end
  D:add(nn.Flatten())
  return D
end

-- The activations after each LeakyReLU of a dcgan_D (all blocks but the
-- logit), in order: {[N, ndf, s/2, s/2], [N, 2 ndf, s/4, s/4], ...}.
function nets.features(D, x)
  local out = {}
  for i = 1, #D do
    x = D[i](x)
    if D[i].__name == "LeakyReLU" then out[#out + 1] = x end
  end
  return out
end

-- {---------------------------------------------------------- MLPs

-- Orthogonal initialisation (Saxe et al. 2014), as tf's orthogonal_initializer
-- used by the unrolled-GAN / LSGAN toy code (gain 1.4 there): the polar
-- factor of a Gaussian matrix, which is Haar-distributed (the distribution
-- QR with sign correction gives), computed with the Newton-Schulz iteration
-- X <- 1.5 X - 0.5 X X^T X from X0 = A / ||A||_F (every singular value in
-- (0, 1], each converging to 1).  Only matmuls: no Lua loop over elements.
function nets.orthogonal_(w, gain)
  local rows, cols = w:size(1), w:size(2)
  local x = lg.randn(rows, cols)
  if rows > cols then x = x:t():contiguous() end     -- iterate on the wide side
  x = x / (x * x):sum():sqrt()
  for _ = 1, 60 do
    x = x * 1.5 - x:matmul(x:t()):matmul(x) * 0.5
  end
  if rows > cols then x = x:t():contiguous() end
  lg.no_grad(function() w:copy_(x * (gain or 1)) end)
  return w
end

-- Maxout units (Goodfellow et al. 2013): a linear layer whose outputs come in
-- groups of `pieces` consecutive units, each group reduced by max (pylearn2's
-- maxout, the GAN paper's D; PacGAN's and VEEGAN's 2-D D).
local Maxout = nn.Module:extend("Maxout")
function Maxout:init(nin, units, pieces)
  self.units, self.pieces = units, pieces
  self.linear = nn.Linear(nin, units * pieces)
end
function Maxout:forward(x)
  return (self.linear(x):view(x:size(1), self.units, self.pieces):max(3))
end
function Maxout:extra_repr() return ("units=%d, pieces=%d"):format(self.units, self.pieces) end
nets.Maxout = Maxout

local ACTS = {relu = nn.ReLU, tanh = nn.Tanh, lrelu = function() return nn.LeakyReLU(0.2) end}

-- nets.mlp{nin =, nout =, hidden =, layers = 2, act = "relu"|"tanh"|"lrelu"|"maxout",
--          pieces = 5, bn = false, out_act = nil|"tanh",
--          init = "default"|"orthogonal"|"he"|"normal", gain = 1, std = 0.02}
-- nin -> `layers` hidden layers of `hidden` units (Linear [+ BatchNorm1d] + act,
-- or maxout units) -> nout [-> Tanh].  init: "default" is the Linear's own;
-- "orthogonal" nets.orthogonal_ with `gain`, "he" N(0, 2 / fan_in) (gan_toy.py's
-- He init), "normal" N(0, std) (PacGAN's N(0, 0.02)); these zero the biases.
function nets.mlp(o)
  local layers, act = o.layers or 2, o.act or "relu"
  if act ~= "maxout" and not ACTS[act] then error("nets.mlp: act must be relu, tanh, lrelu or maxout", 2) end
  local net = nn.Sequential()
  local nin = o.nin
  local linears = {}
  for _ = 1, layers do
    if act == "maxout" then
      local m = Maxout(nin, o.hidden, o.pieces or 5)
      net:add(m)
      linears[#linears + 1] = m.linear
    else
      local l = nn.Linear(nin, o.hidden)
      net:add(l)
      linears[#linears + 1] = l
      if o.bn then net:add(nn.BatchNorm1d(o.hidden)) end
      net:add(ACTS[act]())
    end
    nin = o.hidden
  end
  local last = nn.Linear(nin, o.nout)
  net:add(last)
  linears[#linears + 1] = last
  if o.out_act == "tanh" then net:add(nn.Tanh())
  elseif o.out_act ~= nil then error("nets.mlp: out_act must be nil or tanh", 2) end
  local init = o.init or "default"
  if init ~= "default" then
    for _, l in ipairs(linears) do
      if init == "orthogonal" then nets.orthogonal_(l.weight, o.gain or 1)
      elseif init == "he" then nn.init.normal_(l.weight, 0, math.sqrt(2 / l.weight:size(2)))
      elseif init == "normal" then nn.init.normal_(l.weight, 0, o.std or 0.02)
      else error("nets.mlp: unknown init '" .. tostring(init) .. "'", 2) end
      nn.init.zeros_(l.bias)
    end
  end
  return net
end
-- }

-- 28 px images in [-1, 1] to `size`: 32 pads 2 px of background (-1) on each
-- side (the usual way to run 32-px DCGANs on MNIST); 64 pads to 32 and then
-- doubles with nearest-neighbour upsampling; 28 passes through.
function nets.to_size(x, size)
  local h = x:size(3)
  if size == h then return x end
  if h ~= 28 or (size ~= 32 and size ~= 64) then
    error(("nets.to_size: %d px images cannot be brought to %d px"):format(h, size), 2)
  end
  local n, c = x:size(1), x:size(2)
  local side = lg.full({n, c, 28, 2}, -1)
  x = lg.cat({side, x, side}, 4)
  local top = lg.full({n, c, 2, 32}, -1)
  x = lg.cat({top, x, top}, 3)
  if size == 64 then x = lg.upsample_nearest(x, 2) end
  return x:contiguous()
end

-- Generated images back to [N,C,28,28] for the 28-px classifier: undoes
-- nets.to_size (64 px: 2x2 average, 32 px: the middle 28x28) and views
-- [N,784] rows (the MLP generators) as images.
function nets.to_28(x)
  if x:dim() == 2 then return x:view(x:size(1), 1, 28, 28) end
  if x:size(3) == 64 then x = lg.avg_pool2d(x, 2) end
  if x:size(3) == 32 then x = x:narrow(3, 3, 28):narrow(4, 3, 28) end
  return x:contiguous()
end

-- {---------------------------------------------------------- exact W1 (wgan.lua)

-- Hungarian algorithm (Kuhn-Munkres with potentials and shortest augmenting
-- paths, O(n^3)) on a square cost matrix c[i][j] (Lua numbers); returns the
-- minimal total cost of a perfect matching.
function nets.assignment_cost(c, n)
  local INF = math.huge
  local u, v, p, way = {}, {}, {}, {}
  for j = 0, n do u[j], v[j], p[j], way[j] = 0, 0, 0, 0 end
  for i = 1, n do
    p[0] = i
    local j0 = 0
    local minv, used = {}, {}
    for j = 0, n do minv[j], used[j] = INF, false end
    repeat
      used[j0] = true
      local i0, delta, j1 = p[j0], INF, 0
      local row, ui0 = c[i0], u[i0]
      for j = 1, n do
        if not used[j] then
          local cur = row[j] - ui0 - v[j]
          if cur < minv[j] then minv[j], way[j] = cur, j0 end
          if minv[j] < delta then delta, j1 = minv[j], j end
        end
      end
      for j = 0, n do
        if used[j] then u[p[j]], v[j] = u[p[j]] + delta, v[j] - delta
        else minv[j] = minv[j] - delta end
      end
      j0 = j1
    until p[j0] == 0
    repeat
      local j1 = way[j0]
      p[j0] = p[j1]
      j0 = j1
    until j0 == 0
  end
  local total = 0
  for j = 1, n do total = total + c[p[j]][j] end
  return total
end

-- W1 between two point clouds [n,d] of equal size (Euclidean ground cost)
function nets.exact_w1(a, b)
  local n, d = a:size(1), a:size(2)
  local cost = ((a:view(n, 1, d) - b:view(1, n, d)) ^ 2):sum(3):sqrt():totable()
  return nets.assignment_cost(cost, n) / n
end
-- }

-- {---------------------------------------------------------- WGAN-GP MNIST nets (wgan_gp.lua)
-- The MNIST networks of Gulrajani et al.'s gan_mnist.py (igul222/improved_wgan_training
-- @4fde7f3), written anew for luagan; DIM = dim.  TF's "SAME" padding becomes
-- PyTorch-style symmetric padding with the same output sizes:
--   G  z [N, nz] -> Linear(nz, 4*4*4 dim) [BN] ReLU -> [4 dim, 4, 4]
--      -> ConvT k5 s2 p2 op1 -> 2 dim x 8x8 [BN] ReLU -> crop the top-left 7x7
--      -> ConvT -> dim x 14x14 [BN] ReLU -> ConvT -> 1 x 28x28 -> sigmoid (images in [0, 1])
--   D  [N, 1, 28, 28] -> Conv k5 s2 p2 -> dim x 14x14 LReLU(0.2) -> Conv -> 2 dim x 7x7
--      [BN] LReLU -> Conv -> 4 dim x 4x4 [BN] LReLU -> Linear(4*4*4 dim, 1)  (a logit)
-- bn = true puts batch norm where gan_mnist.py's MODE 'wgan' has it (all of G but
-- the output; D's layers 2 and 3); its 'wgan-gp' and 'dcgan' modes have none.  All
-- layers have biases.  Initialise with model:apply(nets.tflib_init).

-- Crop(h, w): the top-left h x w of [N, C, H, W] (gan_mnist.py's output[:, :, :7, :7])
local Crop = nn.Module:extend("Crop")
function Crop:init(h, w) self.h, self.w = h, w end
function Crop:forward(x) return x:narrow(3, 1, self.h):narrow(4, 1, self.w):contiguous() end
function Crop:extra_repr() return ("%dx%d"):format(self.h, self.w) end
nets.Crop = Crop

function nets.wgangp_mnist_G(o)
  local dim, nz, bn = o.dim or 64, o.nz or 128, o.bn == true
  local G = nn.Sequential(nn.Linear(nz, 16 * 4 * dim))
  if bn then G:add(nn.BatchNorm1d(16 * 4 * dim)) end
  G:add(nn.ReLU())
  G:add(nn.Reshape(4 * dim, 4, 4))
  local same = {stride = 2, padding = 2, output_padding = 1}    -- k5 s2: H -> 2H
  for i, w in ipairs{{4 * dim, 2 * dim}, {2 * dim, dim}, {dim, 1}} do
    G:add(nn.ConvTranspose2d(w[1], w[2], 5, same))
    if i == 3 then G:add(nn.Sigmoid()) break end
    if bn then G:add(nn.BatchNorm2d(w[2])) end
    G:add(nn.ReLU())
    if i == 1 then G:add(Crop(7, 7)) end
  end
  return G
end

function nets.wgangp_mnist_D(o)
  local dim, bn = o.dim or 64, o.bn == true
  local D = nn.Sequential()
  for i, w in ipairs{{1, dim}, {dim, 2 * dim}, {2 * dim, 4 * dim}} do
    D:add(nn.Conv2d(w[1], w[2], 5, {stride = 2, padding = 2}))     -- 28 -> 14 -> 7 -> 4
    if bn and i > 1 then D:add(nn.BatchNorm2d(w[2])) end
    D:add(nn.LeakyReLU(0.2))
  end
  D:add(nn.Flatten())
  D:add(nn.Linear(16 * 4 * dim, 1))
  return D
end

-- tflib's initialisation (igul222/improved_wgan_training tflib/ops, @4fde7f3), as
-- gan_mnist.py gets it: weights uniform with standard deviation s (bounds +-s sqrt 3),
--   conv / transposed conv (tflib's he_init default):  s = sqrt(4 / (fan_in + fan_out)),
--     conv fan_in = cin k^2, fan_out = cout k^2 / stride^2; transposed: fan_in / stride^2
--   Linear (tflib's default, Glorot):                    s = sqrt(2 / (in + out));
-- biases 0, batch-norm scale 1 and shift 0.  Use as model:apply(nets.tflib_init).
function nets.tflib_init(m)
  local name, w = m.__name, m.weight
  local function uniform(s) nn.init.uniform_(w, -s * math.sqrt(3), s * math.sqrt(3)) end
  if name == "Conv2d" or name == "ConvTranspose2d" then
    local area = w:size(3) * w:size(4)
    local s2 = m.stride[1] * m.stride[2]
    local cin, cout = w:size(2), w:size(1)
    if name == "ConvTranspose2d" then cin, cout = w:size(1), w:size(2) end
    local fan_in, fan_out = cin * area, cout * area
    if name == "Conv2d" then fan_out = fan_out / s2 else fan_in = fan_in / s2 end
    uniform(math.sqrt(4 / (fan_in + fan_out)))
  elseif name == "Linear" then
    uniform(math.sqrt(2 / (w:size(1) + w:size(2))))
  elseif name == "BatchNorm1d" or name == "BatchNorm2d" then
    if w then nn.init.ones_(w) end
  else
    return
  end
  if m.bias then nn.init.zeros_(m.bias) end
end
-- }

return nets
