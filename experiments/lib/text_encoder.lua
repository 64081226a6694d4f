-- lib/text_encoder.lua: a text encoder trained with an image encoder on a matching loss, a
-- scaled version of the deep symmetric structured joint embedding of Reed et al.
-- ("Generative Adversarial Text to Image Synthesis", ICML 2016), for experiments/text2img.lua.
--
--   local E = require "lib.text_encoder"
--   local enc = E.Encoders(vocab_size, hidden, emb)   -- enc.txt: bag of words -> emb; enc.img: pixels -> emb
--   E.train(enc, next_batch, steps, lr) -> last loss  -- next_batch() -> images [n,784], bags [n,V], classes [n]
--
-- Both encoders are MLPs (in -> hidden ReLU -> emb). The loss: the score matrix
-- S = img(x) txt(t)^T of a batch of (image, text) pairs, softmax cross-entropy of every row
-- and every column against the share of the batch's items of the same class (a class is a
-- caption's attribute combination), the two directions averaged: an image should score
-- highest with the texts of its class and a text with the images of its class.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local E = {}

E.Encoders = nn.Module:extend("Encoders")
function E.Encoders:init(vocab, hidden, emb)
  local function mlp(nin) return nn.Sequential(nn.Linear(nin, hidden), nn.ReLU(), nn.Linear(hidden, emb)) end
  self.txt = mlp(vocab)   -- one statement each: the order of the parameters (and of the draws)
  self.img = mlp(784)
end

-- the matching loss of image features fx [n,e] and text features ft [n,e] of classes [n]
-- (1..classes)
function E.match_loss(fx, ft, class, classes)
  local oh = lg.one_hot(class, classes)
  local same = oh:matmul(oh:t())
  local p = same / same:sum(2, true)
  local s = fx:matmul(ft:t())
  return -((p * lg.log_softmax(s, 2)):sum() + (p * lg.log_softmax(s:t(), 2)):sum()) / (2 * class:size(1))
end

-- steps Adam steps on both encoders (every parameter of both: one module holds them)
function E.train(enc, next_batch, steps, lr, classes)
  local opt = optim.Adam(enc:parameters(), {lr = lr})
  local l
  for _ = 1, steps do
    local x, bags, class = next_batch()
    l = E.match_loss(enc.img(x), enc.txt(bags), class, classes)
    opt:zero_grad()
    l:backward()
    opt:step()
  end
  return l and l:item() or 0
end

return E
