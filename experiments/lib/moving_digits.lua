-- Moving digits on a static texture: the small video data of experiments/vgan.lua.
--
-- Clip k of a source is a function of (seed, k) only, so a training stream,
-- an evaluation set and a resumed run see the same clips without storing
-- them.  One MNIST digit, shrunk to `digit` px and drawn white over a smooth
-- random background (bilinear upsampling of a 4x4 grid of grey levels in
-- [-1, 0.2], fixed over the clip), moves with constant velocity: one of 8
-- directions (multiples of 45 degrees), speed uniform in [1, 2] px per frame
-- at 32 px (scaled with the frame size),
-- the start drawn so that the whole track stays inside the frame (no bounce).
-- The digit's support in every frame is returned with the clip: the moving
-- region that the generator's mask is compared against.
--
--   local MD = require "lib.moving_digits"
--   local src = MD.new{digits = images, seed = 1, frames = 8, size = 32}
--   local b = src:clips(first, n)    -- clips first .. first + n - 1
--   -- b.x [n,1,T,S,S] in [-1,1], b.mask [n,T,S,S] (1 on the digit),
--   -- b.dir [n] (1..8, 1 = +x, counter-clockwise in image coordinates), b.label [n]
--   MD.changed(x, tau) -> [n,T,S,S]: 1 where |x_t - median over t| > tau
--   MD.iou(a, b) -> per clip IoU of two [n,...] 0/1 tensors, its mean
local lg = require "luagan"

local M = {}
M.__index = M

-- SplitMix64 (Steele, Lea and Flood 2014) on Lua's wrapping integers: a
-- generator per clip, seeded by (seed, k), independent of lg's RNG.
local function splitmix(state)
  return function()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * -4658895280553007687   -- 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * -7723592293110705685   -- 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return (z >> 11) * 2.0 ^ -53                 -- uniform in [0, 1)
  end
end

--- MD.new{digits = [N,1,28,28] in [-1,1], seed, frames = 8, size = 32, digit = size * 7 / 16}
function M.new(o)
  local self = setmetatable({}, M)
  assert(o.digits and o.digits:dim() == 4, "moving_digits: digits [N,1,28,28] expected")
  self.seed, self.frames, self.size = o.seed or 1, o.frames or 8, o.size or 32
  self.digit = o.digit or math.floor(self.size * 7 / 16 + 0.5)
  self.vmax = 2 * self.size / 32   -- px per frame: speeds in [1, 2] at 32 px, scaled with the frame
  if self.digit + self.vmax * (self.frames - 1) > self.size then
    error(("moving_digits: a %d px digit moving %g px per frame for %d frames leaves a %d px frame")
      :format(self.digit, self.vmax, self.frames, self.size), 2)
  end
  -- digits as opacities in [0, 1] at the clip's digit size
  self.alpha = lg.image.resize((o.digits + 1) / 2, self.digit, self.digit):clamp(0, 1):contiguous()
  self.labels = o.labels
  self.n_digits = o.digits:size(1)
  return self
end

-- the parameters of clip k: digit, direction, integer positions per frame, background
function M:params(k)
  local u = splitmix(self.seed * 1000003 + k * 7919)
  local p = {digit = math.floor(u() * self.n_digits) + 1, dir = math.floor(u() * 8) + 1}
  local speed = self.vmax * (1 + u()) / 2
  local a = (p.dir - 1) * math.pi / 4
  local vx, vy = speed * math.cos(a), speed * math.sin(a)
  local room, T = self.size - self.digit, self.frames
  local function start(v)   -- uniform over the starts that keep the track inside
    local travel = (T - 1) * v
    local lo, hi = math.max(0, -travel), room - math.max(0, travel)
    return lo + u() * (hi - lo)
  end
  local x0, y0 = start(vx), start(vy)
  p.x, p.y = {}, {}
  for t = 1, T do
    p.x[t] = math.max(0, math.min(room, math.floor(x0 + (t - 1) * vx + 0.5)))
    p.y[t] = math.max(0, math.min(room, math.floor(y0 + (t - 1) * vy + 0.5)))
  end
  p.bg = {}
  for i = 1, 16 do p.bg[i] = -1 + 1.2 * u() end
  return p
end

--- src:clips(first, n) -> {x, alpha (the digit's opacity), mask (opacity > 0.25), dir, label}
function M:clips(first, n)
  local S, T, d = self.size, self.frames, self.digit
  local xs, alphas, masks, dirs, labels = {}, {}, {}, {}, {}
  for i = 1, n do
    local p = self:params(first + i - 1)
    local digit = self.alpha[p.digit][1]
    local frames = {}
    for t = 1, T do
      frames[t] = lg.pad(digit, {p.x[t], S - d - p.x[t], p.y[t], S - d - p.y[t]})
    end
    local alpha = lg.stack(frames, 1)                                   -- [T,S,S]
    local bg = lg.image.resize(lg.tensor(p.bg):view(1, 4, 4), S, S)   -- [1,S,S]
    xs[i] = (bg + alpha * (1 - bg)):view(1, T, S, S)
    alphas[i], masks[i] = alpha, alpha:gt(0.25)
    dirs[i] = p.dir
    labels[i] = self.labels and self.labels[p.digit]:item() or 0
  end
  return {x = lg.stack(xs, 1), alpha = lg.stack(alphas, 1), mask = lg.stack(masks, 1), dir = lg.tensor(dirs), label = lg.tensor(labels)}
end

--- MD.changed(x [n,1,T,S,S], tau) -> [n,T,S,S] float, 1 where a frame departs from the
-- clip's per-pixel median over time (the mean of the two middle values for even T)
function M.changed(x, tau)
  local v = x:select(2, 1)
  local T = v:size(2)
  local s = v:sort(2)
  local med = (s:narrow(2, (T + 1) // 2, 1) + s:narrow(2, T // 2 + 1, 1)) / 2
  return (v - med):abs():gt(tau)
end

--- MD.iou(a, b) -> per-clip IoU [n] (0 when both are empty), its mean
function M.iou(a, b)
  local n = a:size(1)
  a, b = a:reshape(n, -1), b:reshape(n, -1)
  local inter = (a * b):sum(2)
  local union = (a + b):clamp(0, 1):sum(2)
  local iou = inter / union:clamp(1, math.huge)
  return iou, iou:mean():item()
end

return M
