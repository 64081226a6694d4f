-- Laplacian pyramids of images [N, C, H, W] (Burt and Adelson 1983; LAPGAN, Denton et al.
-- 2015, sec. 3): d halves the size by 2x2 average pooling, u doubles it bilinearly, and
-- band k is h_k = I_k - u(I_{k+1}), so that I_k = u(I_{k+1}) + h_k exactly.
--
--   local pyr = require "lib.pyramid"
--   pyr.down(x) [N,C,2H,2W] -> [N,C,H,W];  pyr.up(x) [N,C,H,W] -> [N,C,2H,2W]
--   pyr.gaussian(x, levels) -> {I_0 = x, I_1, ...};  pyr.laplacian(x, levels) -> {h_0, ..., h_K = I_K}
local lg = require "luagan"

local pyramid = {}

--- pyramid.down(x) -> Tensor: 2x2 average pooling.
function pyramid.down(x) return lg.avg_pool2d(x, 2) end

-- u is PyTorch's bilinear x2 (align_corners = false), composed from existing ops: nearest x2,
-- then the separable blur [1/4, 1/2, 1/4], since output 2i = 3/4 x_i + 1/4 x_{i-1} and
-- output 2i+1 = 3/4 x_i + 1/4 x_{i+1}.  At the border the blur of the zero padding is divided
-- by the blur of ones (3/4 there, 1 inside), which is bilinear's clamped border.  The kernel
-- and the border weights are one channel's: channels are folded into the batch.
local kernel = lg.tensor({0.25, 0.5, 0.25})
kernel = kernel:view(3, 1):matmul(kernel:view(1, 3)):view(1, 1, 3, 3)
local weights = {}   -- [1, 1, H, W] blur of ones, per output size

--- pyramid.up(x) -> Tensor: bilinear x2 upsampling (align_corners = false).
function pyramid.up(x)
  local n, c, h, w = x.shape[1], x.shape[2], x.shape[3] * 2, x.shape[4] * 2
  local key = h .. "x" .. w
  if not weights[key] then
    weights[key] = lg.no_grad(function() return lg.conv2d(lg.ones(1, 1, h, w), kernel, nil, {padding = 1}) end)
  end
  local y = lg.conv2d(lg.upsample_nearest(x:reshape(n * c, 1, h // 2, w // 2), 2), kernel, nil, {padding = 1})
  return (y / weights[key]:expand(n * c, 1, h, w)):reshape(n, c, h, w)
end

--- pyramid.gaussian(x, levels) -> {I_0, ..., I_{levels-1}}: I_0 = x, I_{k+1} = d(I_k).
function pyramid.gaussian(x, levels)
  local g = {x}
  for k = 2, levels do g[k] = pyramid.down(g[k - 1]) end
  return g
end

--- pyramid.laplacian(x, levels) -> {h_0, ..., h_{K-1}, I_K}: the bands and the low-pass residual.
function pyramid.laplacian(x, levels)
  local g, l = pyramid.gaussian(x, levels), {}
  for k = 1, levels - 1 do l[k] = g[k] - pyramid.up(g[k + 1]) end
  l[levels] = g[levels]
  return l
end

--- pyramid.reconstruct(l) -> Tensor: I_0 from the bands, I_k = u(I_{k+1}) + h_k.
function pyramid.reconstruct(l)
  local x = l[#l]
  for k = #l - 1, 1, -1 do x = pyramid.up(x) + l[k] end
  return x
end

return pyramid
