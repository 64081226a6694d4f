-- Comparisons shared by the scripts of tests/dist/ (loaded with dofile,
-- next to the script): a model's tensors in a fixed order, and the largest
-- relative difference between two lists of tensors.
local M = {}

-- max |a - b| / max |b| over two lists of tensors, tensor by tensor, or
-- over all of them when global (gradients: the bias before a batch norm
-- has a gradient of zero up to rounding)
function M.rel(a, b, global)
  local worst, scale = 0, 1e-30
  for i = 1, #b do scale = math.max(scale, b[i]:abs():max():item()) end
  for i = 1, #b do
    local s = global and scale or math.max(b[i]:abs():max():item(), 1e-30)
    worst = math.max(worst, (a[i] - b[i]):abs():max():item() / s)
  end
  return worst
end

function M.state(net)   -- parameters and buffers in a fixed order
  local sd, keys, out = net:state_dict(), {}, {}
  for k in pairs(sd) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do out[i] = sd[k] end
  return out
end

return M
