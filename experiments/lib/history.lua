-- history.lua: a buffer of earlier generator outputs for the discriminator
-- (Shrivastava et al. 2017, sec. 2.3 and Algorithm 2): of D's batch of b
-- fake images, b/2 are the current generator's and b/2 are drawn at random
-- from the buffer; the other b/2 current images then replace random entries.
-- Until the buffer holds b/2 images, batches pass through and fill it.
--
--   local History = require "lib.history"
--   local hist = History(6400, {1, 28, 28})
--   local fakes = hist:mix(refined)     -- D's fake batch
--   run:track{hist = hist}              -- saved with the checkpoint
local lg = require "luagan"

local History = {}
History.__index = History

-- History(size, shape) -> a buffer of at most size images of the given shape
local function new(size, shape)
  if math.type(size) ~= "integer" or size < 1 then
    error("History: size must be a positive integer, got " .. tostring(size), 2)
  end
  if type(shape) ~= "table" then error("History: the shape of one image is expected, as {1, 28, 28}", 2) end
  return setmetatable({size = size, filled = 0, shape = shape,
                       images = lg.zeros({size, table.unpack(shape)})}, History)
end

-- hist:mix(x) -> D's fake batch: the first half of x and as many buffered
-- images; x's second half goes into the buffer.  x [b, ...] with b even.
function History:mix(x)
  local b = x:size(1)
  if b % 2 ~= 0 or b // 2 > self.size then
    error(("History:mix: the batch must be even and at most twice the buffer (%d), got %d")
      :format(self.size, b), 2)
  end
  local h = b // 2
  local now, rest = x:narrow(1, 1, h), x:narrow(1, h + 1, h)
  if self.filled < h then
    self.images:narrow(1, self.filled + 1, h):copy_(rest)
    self.filled = self.filled + h
    return x
  end
  local old = self.images:index_select(1, lg.randint(1, self.filled + 1, {h}))
  if self.filled + h <= self.size then
    self.images:narrow(1, self.filled + 1, h):copy_(rest)
    self.filled = self.filled + h
  else
    self.images:index_copy_(1, lg.randint(1, self.size + 1, {h}), rest)
  end
  return lg.cat({now, old}, 1)
end

-- tensors only, as a checkpoint holds them
function History:state_dict()
  return {images = self.images, filled = lg.tensor{self.filled}}
end

function History:load_state_dict(sd)
  if not (sd.images and sd.filled) or sd.images:size(1) ~= self.size then
    error(("History: the state does not hold a buffer of %d images"):format(self.size), 2)
  end
  self.images, self.filled = sd.images:clone(), math.tointeger(sd.filled:item())
  return self
end

return setmetatable(History, {__call = function(_, size, shape) return new(size, shape) end})
