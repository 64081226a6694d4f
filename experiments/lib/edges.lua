-- experiments/lib/edges.lua: edge maps of grey images, rotation, and retrieval
-- by nearest neighbours (experiments/pix2pix.lua).
--
--   local edges = require "lib.edges"
--   edges.sobel(x)                  [N,1,H,W] in [-1,1] -> gradient magnitude [N,1,H,W] (on [0,1] pixels)
--   edges.map(x, frac)              binary edge map in {-1, 1}: magnitude >= frac x the image's largest
--   edges.rotate(x, degrees, fill)  bilinear rotation about the centre (clockwise on screen), fill outside (default -1)
--   edges.precision_at_k(q, qy, g, gy, k)  share of each query's k nearest gallery rows with its class
--
-- The edge map stands in for the HED edges of pix2pix's edges->shoes (Isola et al. 2017, sec. 4):
-- a Sobel magnitude thresholded per image, so that faint and strong outlines both survive.
local lg = require "luagan"

local edges = {}

local SOBEL = lg.tensor{{{{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}},
                        {{{-1, -2, -1}, {0, 0, 0}, {1, 2, 1}}}}   -- [2,1,3,3]: d/dx, d/dy

function edges.sobel(x)
  local p = lg.pad((x + 1) / 2, {1, 1, 1, 1}, {mode = "replicate"})
  local g = lg.conv2d(p, SOBEL)                     -- [N,2,H,W]
  return (g * g):sum(2, true):sqrt()
end

-- frac of each image's largest magnitude: a per-image threshold, so the map
-- does not depend on the image's contrast
function edges.map(x, frac)
  return lg.no_grad(function()
    local m = edges.sobel(x)
    local n = m:size(1)
    local top = m:view(n, -1):max(2):view(n, 1, 1, 1)
    return m:ge(top * frac + 1e-6) * 2 - 1
  end)
end

-- For an H x W image rotated by `degrees` (clockwise on screen)
-- about its centre: per output pixel the 4 source pixels (1-based flat
-- indices, clamped) and their bilinear weights (0 outside the image).
local function rotation_table(h, w, degrees)
  local a = math.rad(degrees)
  local c, s = math.cos(a), math.sin(a)
  local cy, cx = (h + 1) / 2, (w + 1) / 2
  local idx, wt = {{}, {}, {}, {}}, {{}, {}, {}, {}}
  for i = 1, h do
    for j = 1, w do
      -- inverse map: the source of output (i, j); rows grow downwards
      local dy, dx = i - cy, j - cx
      local sy, sx = cy + c * dy - s * dx, cx + s * dy + c * dx
      local y0, x0 = math.floor(sy), math.floor(sx)
      local fy, fx = sy - y0, sx - x0
      local corners = {{y0, x0, (1 - fy) * (1 - fx)}, {y0, x0 + 1, (1 - fy) * fx},
                       {y0 + 1, x0, fy * (1 - fx)}, {y0 + 1, x0 + 1, fy * fx}}
      local o = (i - 1) * w + j
      for k, cn in ipairs(corners) do
        local inside = cn[1] >= 1 and cn[1] <= h and cn[2] >= 1 and cn[2] <= w
        idx[k][o] = inside and (cn[1] - 1) * w + cn[2] or 1
        wt[k][o] = inside and cn[3] or 0
      end
    end
  end
  return idx, wt
end

function edges.rotate(x, degrees, fill)
  fill = fill or -1
  local n, c, h, w = x:size(1), x:size(2), x:size(3), x:size(4)
  local idx, wt = rotation_table(h, w, degrees)
  return lg.no_grad(function()
    local flat = x:reshape(n * c, h * w)
    local out = lg.zeros(n * c, h * w)
    local covered = lg.zeros(h * w)
    for k = 1, 4 do
      local wk = lg.tensor(wt[k])
      out = out + flat:index_select(2, lg.tensor(idx[k])) * wk
      covered = covered + wk
    end
    return (out + (1 - covered) * fill):view(n, c, h, w)
  end)
end

-- q [Nq, D], g [Ng, D] features; qy [Nq], gy [Ng] classes. Euclidean
-- nearest neighbours; returns the mean over queries of the share of the k
-- nearest gallery rows whose class is the query's.
function edges.precision_at_k(q, qy, g, gy, k)
  return lg.no_grad(function()
    local d = (q * q):sum(2, true) - q:matmul(g:t()) * 2 + (g * g):sum(2, true):t()   -- [Nq, Ng]
    local _, nearest = d:topk(k, 2, {largest = false})
    local labels = gy:index_select(1, nearest:reshape(-1)):view(q:size(1), k)
    return labels:eq(qy:view(-1, 1)):mean():item()
  end)
end

return edges
