-- lib/cond_mlp.lua: the conditional MLP generator and discriminator of experiments/cgan.lua
-- (Mirza and Osindero's MNIST D; G with the condition concatenated to z), shared with
-- experiments/text2img.lua, where the condition is a text embedding instead of a class.
--
--   local M = require "lib.cond_mlp"
--   local G = M.G{nz = 100, hidden = {256, 512}, cond = function() return nn.Embedding(10, 10) end,
--                 ncond = 10, mean = mean_image}           -- G(z, y) -> [N,784] in (0, 1)
--   local D = M.D{dx = 240, dy = 50, hidden = 240, dropout = 0.5, cond = "concat",
--                 y = function() return nn.Sequential(nn.Embedding(10, 50), nn.LeakyReLU(0.2)) end}
--   D(x, y) -> logits [N,1]
-- cond = nil (G) or "none" (D): the unconditional nets; D's cond = "projection" (Miyato and
-- Koyama) needs classes = K. The modules are made in a fixed order, so that a seed gives the
-- same initial weights whichever script builds them.
local lg = require "luagan"
local nn = lg.nn

local M = {}

-- G: [z, cond(y)] -> hidden[1] -> hidden[2] (batch norm, ReLU) -> 784 sigmoid, the output bias
-- at the logit of the mean training digit (as experiments/gan_mnist.lua)
M.G = nn.Module:extend("CondG")
function M.G:init(o)
  local nin = o.nz
  if o.cond then
    self.y = o.cond()
    nin = nin + o.ncond
  end
  local h1, h2 = o.hidden[1], o.hidden[2]
  local last = nn.Linear(h2, 784)
  self.net = nn.Sequential(nn.Linear(nin, h1), nn.BatchNorm1d(h1), nn.ReLU(),
                           nn.Linear(h1, h2), nn.BatchNorm1d(h2), nn.ReLU(),
                           last, nn.Sigmoid())
  lg.no_grad(function()
    local m = o.mean:clamp(1e-3, 1 - 1e-3)
    last.bias:copy_((m / (1 - m)):log())
  end)
end
function M.G:forward(z, y)
  if self.y then z = lg.cat({z, self.y(y)}, 2) end
  return self.net(z)
end

-- D: x -> dx (LeakyReLU 0.2, dropout); concat: y(cond) -> dy joined to it; -> hidden -> logit;
-- projection: logit psi(phi) + <embed(y), phi>, phi the hidden layer of x alone
M.D = nn.Module:extend("CondD")
function M.D:init(o)
  self.cond = o.cond
  local function act() return nn.Sequential(nn.LeakyReLU(0.2), nn.Dropout(o.dropout)) end
  self.x = nn.Sequential(nn.Linear(784, o.dx), act())
  local joint = o.dx
  if o.cond == "concat" then
    self.y = o.y()
    joint = joint + o.dy
  end
  self.hidden = nn.Sequential(nn.Linear(joint, o.hidden), act())
  self.psi = nn.Linear(o.hidden, 1)
  if o.cond == "projection" then
    self.embed = nn.Embedding(o.classes, o.hidden)
    nn.init.normal_(self.embed.weight, 0, 0.02)   -- the class term starts small beside psi
  end
end
function M.D:forward(x, y)
  local h = self.x(x)
  if self.cond == "concat" then h = lg.cat({h, self.y(y)}, 2) end
  local phi = self.hidden(h)
  local logit = self.psi(phi)
  if self.cond == "projection" then logit = logit + (self.embed(y) * phi):sum(2, true) end
  return logit
end

return M
