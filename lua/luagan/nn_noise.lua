-- luagan.nn_noise: the Gaussian noise layer, a part of luagan.nn.
local lg = require "luagan"
local nn = require "luagan.nn"

--- nn.GaussianNoise([sigma]) -> Module
-- In training mode adds independent N(0, sigma^2) noise to every element
-- (drawn from lg's generator, so a seeded run repeats); in eval mode
-- returns its input.  sigma (default 1) is a number >= 0.  The regulariser
-- of the semi-supervised discriminator of Salimans et al. 2016 (their
-- MNIST code: sigma 0.3 on the input, 0.5 after each hidden layer).
-- Shapes: any -> the same shape.
-- @usage local D = nn.Sequential(nn.GaussianNoise(0.3), nn.Linear(784, 500))
local GaussianNoise = nn.Module:extend("GaussianNoise")
function GaussianNoise:init(sigma)
  if sigma == nil then sigma = 1 end
  if type(sigma) ~= "number" or not (sigma >= 0) or sigma == math.huge then
    error("GaussianNoise: sigma must be a finite number >= 0, got " .. tostring(sigma), 3)
  end
  self.sigma = sigma
end
function GaussianNoise:forward(x)
  if not lg.is_tensor(x) then
    error("GaussianNoise: a tensor is expected, got " .. type(x), 2)
  end
  if not self.training or self.sigma == 0 then return x end
  return x + lg.randn(x.shape) * self.sigma
end
function GaussianNoise:extra_repr() return "sigma=" .. self.sigma end
nn.GaussianNoise = GaussianNoise

return nn
