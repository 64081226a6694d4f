-- Small helpers shared by the Lua modules (not part of the public API).
local util = {}

function util.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

-- Merges the option table opts over defaults.  An unknown key is an error
-- listing the valid ones, raised at the caller's caller (level 3): a
-- misspelt option must not pass silently, as it did in Torch's config tables.
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

return util
