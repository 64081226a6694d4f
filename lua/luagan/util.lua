-- Small helpers shared by the Lua modules (not part of the public API).
local util = {}

--- util.sorted_keys(t) -> {key, ...}
-- The keys of t sorted by their tostring, so that listings (valid options,
-- state_dict keys, flags) come out in the same order on every run.
-- @usage local ks = util.sorted_keys{b = 1, a = 2}   -- {"a", "b"}
function util.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

--- util.options(op, opts, defaults) -> table
-- Merges the option table opts (nil for none) over defaults and returns a
-- new table.  An unknown key is an error "op: unknown option 'k' (valid:
-- ...)" listing the valid ones, raised at the caller's caller (level 3): a
-- misspelt option must not pass silently, as it did in Torch's config tables.
-- @usage local o = util.options("my_op", opts, {lambda = 10, center = 1})
function util.options(op, opts, defaults)
  opts = opts or {}
  if type(opts) ~= "table" then error(op .. ": options must be a table", 3) end
  local out = {}
  for k, v in pairs(opts) do
    if defaults[k] == nil then
      error(("%s: unknown option '%s' (valid: %s)"):format(op, tostring(k),
        table.concat(util.sorted_keys(defaults), ", ")), 3)
    end
    out[k] = v
  end
  for k, v in pairs(defaults) do if out[k] == nil then out[k] = v end end
  return out
end

--- util.is_module(m) -> boolean
-- True for an nn module instance (a table with a metatable and its own
-- _order list of children).  Read raw: a table whose __index answers
-- everything is not taken for a module.
-- @usage util.is_module(lg.nn.Linear(2, 2))   -- true
function util.is_module(m)
  return type(m) == "table" and getmetatable(m) ~= nil and rawget(m, "_order") ~= nil
end

--- util.drop_tensor(m, name)
-- Removes module m's parameter or buffer name: from its field, its order of
-- registration and its buffer marks (nn.remove_weight_norm and
-- nn.remove_spectral_norm drop the tensors they had added).
-- @usage util.drop_tensor(m, "weight_g")
function util.drop_tensor(m, name)
  local order = rawget(m, "_order")
  for i, k in ipairs(order) do
    if k == name then table.remove(order, i) break end
  end
  rawget(m, "_buffers")[name] = nil
  rawset(m, name, nil)
end

--- util.recompute_before_forward(m, name, fn)
-- Makes m[name] a plain field (neither a parameter nor in the state_dict)
-- set to fn(m) before each forward of m, as PyTorch's forward pre-hooks of
-- weight_norm and spectral_norm do; util.recompute_before_forward(m) undoes
-- it.
-- @usage util.recompute_before_forward(m, "weight", function(self) return self.w_v * 2 end)
function util.recompute_before_forward(m, name, fn)
  if not name then return rawset(m, "forward", nil) end
  local forward = m.forward
  rawset(m, "forward", function(self, ...)
    rawset(self, name, fn(self))
    return forward(self, ...)
  end)
end

return util
