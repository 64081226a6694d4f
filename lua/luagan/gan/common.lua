-- luagan.gan.common: argument checks and gradient helpers the parts of
-- luagan.gan share (not part of the API: luagan.gan re-exports none of it).
local lg = require "luagan"
local util = require "luagan.util"

local common = {}

common.options = util.options
common.NONE = {}   -- the "no value" marker for required options

function common.check_tensor(op, what, x)
  if not lg.is_tensor(x) then
    error(("%s: %s must be a tensor, got %s"):format(op, what, type(x)), 3)
  end
end

-- a tensor stands for itself; a function is called for a fresh batch
function common.source(op, what, v)
  if lg.is_tensor(v) then return function() return v end end
  if type(v) == "function" then return v end
  error(("%s: %s must be a tensor or a function returning one, got %s"):format(op, what,
        type(v)), 3)
end

-- the options listed in `required` are present (not NONE)
function common.require_options(op, o, required)
  for _, k in ipairs(required) do
    if o[k] == common.NONE then error(op .. ": '" .. k .. "' is required", 3) end
  end
end

function common.item(x) return lg.is_tensor(x) and x:item() or x end

-- loss:backward() for a list of parameters only: their .grad is replaced
function common.set_grads(params, loss, retain)
  local gs = lg.grad(loss, params, {retain_graph = retain or false})
  for i, p in ipairs(params) do p.grad = gs[i] end
end

return common
