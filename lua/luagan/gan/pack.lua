-- luagan.gan.pack: PacGAN's packing of samples for D (part of luagan.gan).
local nn = require "luagan.nn"
local common = require "luagan.gan.common"

local check_tensor = common.check_tensor

local gan = {}

--- gan.pack(x, m) -> Tensor
-- Lin et al. 2018 (PacGAN): D judges m samples at once, concatenated along
-- the feature/channel dim, all real or all fake.  [N, C, ...] -> [N/m, m*C, ...];
-- packed item i holds samples (i-1)*m+1 .. i*m (in that order), so the
-- generator's batch must be m times D's.
-- Shapes: x [N, C, ...] -> [N/m, m*C, ...]; x [N] -> [N/m, m].
-- @usage local packed = gan.pack(lg.randn(8, 2), 2)   -- [4, 4]
function gan.pack(x, m)
  check_tensor("pack", "x", x)
  if math.type(m) ~= "integer" or m < 1 then
    error("pack: m must be an integer >= 1, got " .. tostring(m), 2)
  end
  local n = x:size(1)
  if n % m ~= 0 then
    error(("pack: batch size %d is not a multiple of m = %d"):format(n, m), 2)
  end
  local shape = {n // m, m * (x:dim() >= 2 and x:size(2) or 1)}
  for i = 3, x:dim() do shape[i] = x:size(i) end
  return x:reshape(shape)
end

do
  --- gan.Packed(D, m) -> Module
  -- A module that packs its input before the wrapped D: gan.Packed(D, m)(x) ==
  -- D(gan.pack(x, m)).  The losses, gradient_penalty (whose interpolates are
  -- then packed too) and gan.step work with it unchanged.  state_dict keys get
  -- a "D." prefix.  D's first layer takes m times the features of one sample.
  -- Shapes: x [N, C, ...] -> D's output for [N/m, m*C, ...].
  -- @usage local PD = gan.Packed(nn.Sequential(nn.Linear(2 * 2, 64), nn.ReLU(), nn.Linear(64, 1)), 2)
  local Packed = nn.Module:extend("Packed")
  function Packed:init(D, m)
    if math.type(m) ~= "integer" or m < 1 then
      error("Packed: m must be an integer >= 1, got " .. tostring(m), 3)
    end
    self.D = D
    self.m = m
  end
  function Packed:forward(x) return self.D(gan.pack(x, self.m)) end
  function Packed:extra_repr() return "m=" .. self.m end
  gan.Packed = Packed
end

return gan
