-- luagan.nn_weight_norm: weight normalisation (Salimans and Kingma 2016), a
-- part of luagan.nn (nn.weight_norm, nn.remove_weight_norm).
--
-- As PyTorch's torch.nn.utils.weight_norm, the module is changed in place:
-- its parameter W is replaced by a direction v (NAME_v, W's shape) and a
-- length g (NAME_g, W's shape with every dim but one of size 1), and W =
-- g v / ||v|| is recomputed from them before each forward.  The state_dict
-- keys ("0.weight_g", "0.weight_v") are PyTorch's, so checkpoints move
-- between the two.
local lg = require "luagan"
local nn = require "luagan.nn"

local util = require "luagan.util"
local is_module = util.is_module

-- ||v|| over every dim but d (1-based), kept as size-1 dims so that it
-- broadcasts against v; d == nil: the norm of the whole tensor, 0-dim (as
-- PyTorch's dim=None).  Written with differentiable ops: the gradients of v
-- and g are autograd's.
local function norm_except(v, d)
  if d == nil then return (v * v):sum():sqrt() end
  local n = v:dim()
  local moved = d == 1 and v or v:transpose(1, d)
  local rows = moved:reshape(moved.shape[1], -1)
  local shape = {}
  for i = 1, n do shape[i] = i == d and v.shape[d] or 1 end
  return (rows * rows):sum(2):sqrt():reshape(shape)
end

-- W from the module's g and v
local function weight(m, wn)
  local g, v = rawget(m, wn.name .. "_g"), rawget(m, wn.name .. "_v")
  return v * (g / norm_except(v, wn.dim))
end

--- nn.weight_norm(module [, name] [, dim]) -> Module
-- Weight normalisation (Salimans and Kingma 2016, eq. 2): replaces the
-- parameter module[name] (default "weight") by a direction name_v (the same
-- shape) and a length name_g, so that the layer uses w = g v / ||v||, the
-- norm taken over every dim but dim (1-based, default 1: one length per
-- output unit of a Linear or Conv2d; false: one length for the whole
-- tensor, a 0-dim g).  At the start v = w and g = ||w||, so the layer computes what it
-- did.  Changes module in place and returns it, as PyTorch's
-- torch.nn.utils.weight_norm (whose dim=0 is our 1), with the same
-- state_dict keys.  The weight is recomputed before each forward.
-- @usage local D = nn.Sequential(nn.weight_norm(nn.Linear(784, 500)), nn.ReLU())
function nn.weight_norm(m, name, dim)
  if not is_module(m) then
    error("weight_norm: a module is expected, got " .. type(m), 2)
  end
  name = name or "weight"
  if type(name) ~= "string" then
    error("weight_norm: the parameter name must be a string, got " .. type(name), 2)
  end
  if rawget(m, "_weight_norm") then
    error(("weight_norm: %s already has weight normalisation on '%s'"):format(m.__name,
      m._weight_norm.name), 2)
  end
  local w = rawget(m, name)
  if not lg.is_tensor(w) or not w.requires_grad then
    error(("weight_norm: %s has no parameter '%s'"):format(m.__name, name), 2)
  end
  if dim == nil then dim = 1 end
  local n = w:dim()
  if dim ~= false then
    if math.type(dim) ~= "integer" or dim == 0 or dim < -n or dim > n then
      error(("weight_norm: dim must be an integer in 1..%d (or -%d..-1), or false, got %s")
            :format(n, n, tostring(dim)), 2)
    end
    if dim < 0 then dim = n + 1 + dim end
  end
  local wn = {name = name, dim = dim or nil}
  local v = w:detach():clone()
  local g = norm_except(v, wn.dim):detach():clone()
  v.requires_grad, g.requires_grad = true, true
  util.drop_tensor(m, name)
  m[name .. "_g"] = g     -- registered in this order, as PyTorch's
  m[name .. "_v"] = v
  rawset(m, "_weight_norm", wn)
  -- the weight is recomputed before each forward (PyTorch's hook)
  util.recompute_before_forward(m, name, function(self) return weight(self, wn) end)
  return m
end

--- nn.remove_weight_norm(module) -> Module
-- Undoes nn.weight_norm: module[name] becomes a parameter again, holding
-- g v / ||v||, and name_g, name_v go away.  Returns module.
-- @usage nn.remove_weight_norm(D[1])
function nn.remove_weight_norm(m)
  local wn = is_module(m) and rawget(m, "_weight_norm")
  if not wn then
    error("remove_weight_norm: " .. (is_module(m) and m.__name .. " has no weight normalisation"
      or "a module is expected, got " .. type(m)), 2)
  end
  local w = lg.no_grad(function() return weight(m, wn) end)
  w.requires_grad = true
  for _, k in ipairs{wn.name .. "_g", wn.name .. "_v"} do util.drop_tensor(m, k) end
  util.recompute_before_forward(m)
  rawset(m, "_weight_norm", nil)
  rawset(m, wn.name, nil)
  m[wn.name] = w
  return m
end

return nn
