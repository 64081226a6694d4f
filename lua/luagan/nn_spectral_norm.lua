-- luagan.nn_spectral_norm: spectral normalisation (Miyato, Kataoka, Koyama and
-- Yoshida, "Spectral Normalization for Generative Adversarial Networks", ICLR
-- 2018), a part of luagan.nn (nn.spectral_norm, nn.remove_spectral_norm).
--
-- As PyTorch's torch.nn.utils.spectral_norm, the module is changed in place:
-- its parameter W becomes NAME_orig, two buffers NAME_u and NAME_v hold the
-- power iteration's vectors, and before each forward the layer's weight is
-- W / sigma(W), sigma estimated as u^T W v (the paper's Algorithm 1, one
-- iteration per training step).  The state_dict keys ("weight_orig",
-- "weight_u", "weight_v") are PyTorch's, so checkpoints move between the two.
local lg = require "luagan"
local nn = require "luagan.nn"

local util = require "luagan.util"
local is_module = util.is_module

-- x / max(||x||, eps), x 1-D (PyTorch's F.normalize)
local function normalize(x, eps)
  return x / math.max((x * x):sum():sqrt():item(), eps)
end

-- W as a matrix [size of dim d, everything else], d first (differentiable)
local function weight_mat(w, d)
  if d ~= 1 then
    local perm = {d}
    for i = 1, w:dim() do if i ~= d then perm[#perm + 1] = i end end
    w = w:permute(table.unpack(perm))
  end
  return w:reshape(w.shape[1], -1)
end

-- The layer's weight, W / (u^T W v).  With power, first one or more
-- iterations v <- W^T u / ||W^T u||, u <- W v / ||W v|| update the buffers (no
-- graph).  sigma uses copies of u and v: a second forward before the first
-- one's backward updates the buffers again, and the first graph keeps its
-- own (PyTorch clones them too).  The gradient flows through sigma to W.
local function weight(m, sn, power)
  local w = rawget(m, sn.name .. "_orig")
  local u, v = rawget(m, sn.name .. "_u"), rawget(m, sn.name .. "_v")
  local wm = weight_mat(w, sn.dim)
  if power then
    lg.no_grad(function()
      local wd = wm:detach()
      for _ = 1, sn.iterations do
        v:copy_(normalize(wd:t():matmul(u), sn.eps))
        u:copy_(normalize(wd:matmul(v), sn.eps))
      end
    end)
  end
  local sigma = (u:clone() * wm:matmul(v:clone())):sum()
  return w / sigma
end

--- nn.spectral_norm(module [, name] [, {n_power_iterations = 1, eps = 1e-12, dim}]) -> Module
-- Spectral normalisation (Miyato et al. 2018, Algorithm 1): the layer uses
-- W / sigma(W), sigma(W) W's largest singular value estimated by power
-- iteration, so that the matrix has spectral norm 1 (SN-GAN normalises every
-- layer of D so, bounding D's Lipschitz constant).  W is read as a matrix
-- with dim (1-based; default 1, or 2 for ConvTranspose2d/3d, whose output
-- channels are dim 2) as its rows.
-- The parameter module[name] (default "weight") becomes name_orig, and the
-- buffers name_u and name_v (random unit vectors at the start) carry the
-- iteration from step to step: each forward in training mode runs
-- n_power_iterations of it first; eval mode uses the stored u and v.  Changes
-- module in place and returns it, as PyTorch's
-- torch.nn.utils.spectral_norm (whose dim=0 is our 1), with the same
-- state_dict keys.
-- @usage local D = nn.Sequential(nn.spectral_norm(nn.Conv2d(3, 64, 4, 2, 1)),
--   nn.LeakyReLU(0.1), nn.Flatten(), nn.spectral_norm(nn.Linear(64 * 16 * 16, 1)))
function nn.spectral_norm(m, name, opts)
  if not is_module(m) then
    error("spectral_norm: a module is expected, got " .. type(m), 2)
  end
  if type(name) == "table" and opts == nil then name, opts = nil, name end
  name = name or "weight"
  if type(name) ~= "string" then
    error("spectral_norm: the parameter name must be a string, got " .. type(name), 2)
  end
  -- PyTorch's dim=1 for transposed convolutions (their output channels)
  local transposed = m.__name == "ConvTranspose2d" or m.__name == "ConvTranspose3d"
  opts = util.options("spectral_norm", opts, {n_power_iterations = 1, eps = 1e-12,
                                              dim = transposed and 2 or 1})
  if rawget(m, "_spectral_norm") then
    error(("spectral_norm: %s already has spectral normalisation on '%s'"):format(m.__name,
      m._spectral_norm.name), 2)
  end
  local w = rawget(m, name)
  if not lg.is_tensor(w) or not w.requires_grad then
    error(("spectral_norm: %s has no parameter '%s'"):format(m.__name, name), 2)
  end
  local n = w:dim()
  if n < 1 then error(("spectral_norm: '%s' is 0-dim, there is no matrix to normalise"):format(name), 2) end
  local iterations = opts.n_power_iterations
  if math.type(iterations) ~= "integer" or iterations < 1 then
    error("spectral_norm: n_power_iterations must be an integer >= 1, got " .. tostring(iterations), 2)
  end
  local eps = opts.eps
  if type(eps) ~= "number" or not (eps > 0) then
    error("spectral_norm: eps must be a positive number, got " .. tostring(eps), 2)
  end
  local dim = opts.dim
  if math.type(dim) ~= "integer" or dim == 0 or dim < -n or dim > n then
    error(("spectral_norm: dim must be an integer in 1..%d (or -%d..-1), got %s")
          :format(n, n, tostring(dim)), 2)
  end
  if dim < 0 then dim = n + 1 + dim end
  local sn = {name = name, dim = dim, iterations = iterations, eps = eps}
  local orig = w:detach():clone()
  local h = orig.shape[dim]
  local u = normalize(lg.randn(h), eps)
  local v = normalize(lg.randn(orig:numel() // math.max(h, 1)), eps)
  orig.requires_grad = true
  util.drop_tensor(m, name)
  m[name .. "_orig"] = orig
  m:register_buffer(name .. "_u", u)
  m:register_buffer(name .. "_v", v)
  rawset(m, "_spectral_norm", sn)
  -- the weight is recomputed before each forward (PyTorch's hook), and is
  -- readable before the first
  rawset(m, name, lg.no_grad(function() return weight(m, sn, false) end))
  util.recompute_before_forward(m, name, function(self) return weight(self, sn, self.training) end)
  return m
end

--- nn.remove_spectral_norm(module) -> Module
-- Undoes nn.spectral_norm: module[name] becomes a parameter again, holding
-- W / sigma with the stored u and v, and name_orig, name_u, name_v go away.
-- Returns module.
-- @usage nn.remove_spectral_norm(D[1])
function nn.remove_spectral_norm(m)
  local sn = is_module(m) and rawget(m, "_spectral_norm")
  if not sn then
    error("remove_spectral_norm: " .. (is_module(m) and m.__name .. " has no spectral normalisation"
      or "a module is expected, got " .. type(m)), 2)
  end
  local w = lg.no_grad(function() return weight(m, sn, false) end)
  w.requires_grad = true
  for _, k in ipairs{sn.name .. "_orig", sn.name .. "_u", sn.name .. "_v"} do util.drop_tensor(m, k) end
  util.recompute_before_forward(m)
  rawset(m, "_spectral_norm", nil)
  rawset(m, sn.name, nil)
  m[sn.name] = w
  return m
end

return nn
