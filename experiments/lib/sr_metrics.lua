-- sr_metrics.lua: what a super-resolution experiment needs beside the nets:
-- the bicubic baseline and the distortion measures PSNR and SSIM (Wang, Bovik,
-- Sheikh and Simoncelli, "Image Quality Assessment: From Error Visibility to
-- Structural Similarity", IEEE TIP 2004), plus the high-frequency energy of an
-- image.
--
--   local SR = require "lib.sr_metrics"
--   local up = SR.bicubic(lr, 4)                    -- [N,C,7,7] -> [N,C,28,28]
--   local db = SR.psnr(sr, hr)                      -- images in [0, 1], mean over images
--   local s = SR.ssim(sr, hr, {window = 7})         -- Gaussian window, sigma 1.5
--   local e = SR.hf_energy(x)                       -- variance of the Laplacian
local lg = require "luagan"

local M = {}

-- {---------------------------------------------------------- bicubic upsampling

-- Keys' cubic convolution kernel (Keys 1981, eq. 15) with parameter a:
-- a = -0.5 is MATLAB's imresize and PIL's; OpenCV and PyTorch use -0.75.
function M.cubic(x, a)
  x = math.abs(x)
  if x <= 1 then return ((a + 2) * x - (a + 3)) * x * x + 1 end
  if x < 2 then return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a end
  return 0
end

-- The [n*scale, n] matrix U of 1-D cubic interpolation: output pixel i (0-based)
-- samples the input at (i + 0.5) / scale - 0.5 (pixel centres, "align_corners
-- = false"), from the 4 nearest inputs; taps outside the image are clamped to
-- the border pixel (replicate), as PyTorch does.  Built once per size; the
-- upsampling itself is two matrix products.
function M.bicubic_matrix(n, scale, a)
  local rows = {}
  for i = 0, n * scale - 1 do
    local row = {}
    for j = 1, n do row[j] = 0 end
    local x = (i + 0.5) / scale - 0.5
    local x0 = math.floor(x)
    for t = x0 - 1, x0 + 2 do
      local j = math.min(math.max(t, 0), n - 1) + 1
      row[j] = row[j] + M.cubic(x - t, a)
    end
    rows[#rows + 1] = row
  end
  return lg.tensor(rows)
end

--- SR.bicubic(x, scale [, a]) -> Tensor
-- Bicubic upsampling of x [N, C, H, W] by an integer scale: [N, C, H*scale,
-- W*scale], separable, kernel parameter a (default -0.5), border replicated.
function M.bicubic(x, scale, a)
  a = a or -0.5
  if x:dim() ~= 4 then error(("bicubic: x must be [N, C, H, W], got %d dims"):format(x:dim()), 2) end
  if math.type(scale) ~= "integer" or scale < 1 then
    error("bicubic: scale must be a positive integer, got " .. tostring(scale), 2)
  end
  local n, c, h, w = table.unpack(x.shape)
  local uh, uw = M.bicubic_matrix(h, scale, a), M.bicubic_matrix(w, scale, a)
  local y = uh:matmul(x:reshape(n * c, h, w)):matmul(uw:t())
  return y:view(n, c, h * scale, w * scale)
end
-- }

-- {---------------------------------------------------------- distortion measures

local function check_pair(what, x, y)
  if x:dim() ~= 4 or y:dim() ~= 4 then error(what .. ": images must be [N, C, H, W]", 3) end
  for d = 1, 4 do
    if x:size(d) ~= y:size(d) then
      error(("%s: shapes [%s] and [%s] differ"):format(what, table.concat(x.shape, ","),
        table.concat(y.shape, ",")), 3)
    end
  end
end

--- SR.psnr(x, y [, peak]) -> mean, per-image Tensor [N]
-- Peak signal-to-noise ratio 10 log10(peak^2 / MSE) in dB, per image (MSE
-- over its pixels), and its mean over the images; peak defaults to 1 (images
-- in [0, 1]).  Identical images give inf.
function M.psnr(x, y, peak)
  check_pair("psnr", x, y)
  peak = peak or 1
  local mse = (x - y):pow(2):reshape(x:size(1), -1):mean(2)
  local db = (mse / (peak * peak)):log() * (-10 / math.log(10))
  return db:mean():item(), db
end

-- The normalised 2-D Gaussian window [1, 1, k, k] with sd sigma.
function M.gaussian_window(k, sigma)
  local g = lg.arange(k) - (k - 1) / 2
  g = (-(g * g) / (2 * sigma * sigma)):exp()
  g = g / g:sum()
  return g:view(k, 1):matmul(g:view(1, k)):view(1, 1, k, k)
end

--- SR.ssim(x, y [, opts]) -> mean, per-image Tensor [N]
-- Structural similarity (Wang et al. 2004, eq. 13) on one-channel images in
-- [0, range]: local means, variances and covariance under a Gaussian window
-- (opts.window pixels wide, default 11; opts.sigma default 1.5), K1 = 0.01,
-- K2 = 0.03, the map over the positions where the window fits ("valid", as
-- the authors' ssim.m), averaged per image; the mean over images and the
-- per-image values.  Identical images give 1.
function M.ssim(x, y, opts)
  check_pair("ssim", x, y)
  opts = opts or {}
  local k, sigma, L = opts.window or 11, opts.sigma or 1.5, opts.range or 1
  if x:size(2) ~= 1 then error("ssim: one-channel images expected, got " .. x:size(2), 2) end
  if k > x:size(3) or k > x:size(4) then
    error(("ssim: window %d is larger than the %dx%d images"):format(k, x:size(3), x:size(4)), 2)
  end
  local w = M.gaussian_window(k, sigma)
  local c1, c2 = (0.01 * L) ^ 2, (0.03 * L) ^ 2
  local function blur(t) return lg.conv2d(t, w) end
  local mx, my = blur(x), blur(y)
  local vx, vy = blur(x * x) - mx * mx, blur(y * y) - my * my
  local cxy = blur(x * y) - mx * my
  local map = (mx * my * 2 + c1) * (cxy * 2 + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))
  local per = map:reshape(x:size(1), -1):mean(2)
  return per:mean():item(), per
end

local LAPLACIAN = lg.tensor{{0, 1, 0}, {1, -4, 1}, {0, 1, 0}}:view(1, 1, 3, 3)

--- SR.hf_energy(x) -> number
-- High-frequency energy: the variance of the 4-neighbour Laplacian of the
-- images [N, 1, H, W] over all valid positions.  Blurry images score low;
-- SR / HR of this measure says how much of the target's fine detail is there.
function M.hf_energy(x)
  local l = lg.conv2d(x, LAPLACIAN)
  local m = l:mean()
  return ((l - m):pow(2)):mean():item()
end
-- }

return M
