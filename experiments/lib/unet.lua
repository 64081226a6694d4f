-- experiments/lib/unet.lua: pix2pix's generator and discriminator (Isola et al. 2017,
-- sec. 3.2 and 6.1.1), scaled to 32x32 grey images.
--
--   local unet = require "lib.unet"
--   unet.G{ngf=16, levels=5, dropout=2, cin=1, cout=1}   [N,cin,32,32] -> [N,cout,32,32] in [-1,1]
--   unet.D{ndf=16, cin=2}                                [N,cin,32,32] -> per-patch logits [N,1,16,16]
--   unet.features(D, x)                                  D's hidden activations {[N,ndf,16,16], [N,2ndf,16,16]}
--
-- G is the U-Net of the paper's appendix (6.1.1): encoder convs 4x4 stride 2 (LeakyReLU 0.2,
-- batch norm but not on the first layer), down to 1x1 at 32 px after 5 levels; decoder
-- transposed convs 4x4 stride 2 (ReLU, batch norm, dropout 0.5 on the `dropout` innermost
-- levels), each level's output concatenated with the encoder's map of the same size (the
-- skips), a tanh at the end.  Widths ngf, 2 ngf, 4 ngf, then capped at 4 ngf (the paper's
-- C64-C128-C256-C512-C512... caps at 8 x 64).  The structure follows the authors' PyTorch
-- UnetSkipConnectionBlock: the innermost level has no batch norm on its down path.
-- D is a PatchGAN (sec. 2.2): C(ndf) 4x4 stride 2, C(2 ndf) 3x3 + batch norm, a 1x1 conv to
-- one logit per patch; each logit sees an 8x8 patch (receptive field 8 of 28 content pixels,
-- about the 70/256 of the paper's default).
local lg = require "luagan"
local nn = lg.nn

local unet = {}

-- one U-Net level: down, the inner levels, up; the output is [x, up] along
-- the channels except at the outermost level
local Level = nn.Module:extend("UnetLevel")
function Level:init(o)
  local outer, inner, input = o.outer, o.inner, o.input or o.outer
  self.outermost = o.outermost or false
  self.down = nn.Sequential()
  if not o.outermost then self.down:add(nn.LeakyReLU(0.2)) end
  self.down:add(nn.Conv2d(input, inner, 4, {stride = 2, padding = 1, bias = false}))
  if not (o.outermost or o.innermost) then self.down:add(nn.BatchNorm2d(inner)) end
  self.sub = o.sub   -- nil at the innermost level
  local upin = o.innermost and inner or 2 * inner
  self.up = nn.Sequential(nn.ReLU(),
    nn.ConvTranspose2d(upin, outer, 4, {stride = 2, padding = 1, bias = o.outermost or false}))
  if o.outermost then
    self.up:add(nn.Tanh())
  else
    self.up:add(nn.BatchNorm2d(outer))
    if o.dropout then self.up:add(nn.Dropout(0.5)) end
  end
end
function Level:forward(x)
  local h = self.down(x)
  if self.sub then h = self.sub(h) end
  local y = self.up(h)
  if self.outermost then return y end
  return lg.cat({x, y}, 2)
end

function unet.G(o)
  o = o or {}
  local ngf, levels, ndrop = o.ngf or 16, o.levels or 5, o.dropout or 2
  if levels < 2 then error("unet.G: levels must be >= 2", 2) end
  local function width(l) return ngf * math.min(2 ^ (l - 1), 4) // 1 end   -- level l's output width
  -- build from the innermost level (l = levels) outwards
  local block
  for l = levels, 2, -1 do
    block = Level{outer = math.tointeger(width(l - 1)), inner = math.tointeger(width(l)), sub = block,
                  innermost = l == levels, dropout = levels - l < ndrop}
  end
  local G = Level{outer = o.cout or 1, inner = ngf, input = o.cin or 1, sub = block, outermost = true}
  return G:apply(nn.init.dcgan)
end

function unet.D(o)
  o = o or {}
  local ndf = o.ndf or 16
  local D = nn.Sequential(
    nn.Conv2d(o.cin or 2, ndf, 4, {stride = 2, padding = 1}), nn.LeakyReLU(0.2),
    nn.Conv2d(ndf, 2 * ndf, 3, {padding = 1, bias = false}), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2),
    nn.Conv2d(2 * ndf, 1, 1))
  return D:apply(nn.init.dcgan)
end

-- the output of each LeakyReLU (the retrieval features), in order
function unet.features(D, x)
  local out = {}
  for i = 1, #D - 1 do
    x = D[i](x)
    if D[i].__name == "LeakyReLU" then out[#out + 1] = x end
  end
  return out
end

return unet
