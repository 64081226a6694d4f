-- A small GAN on the ring of 8 Gaussians through lg.experiment, for the
-- fault-injection driver (tests/faults/run.lua): Adam and SGD with momentum,
-- dropout (draws from the generator), a loader over epochs, user state, a
-- sampler; frequent samples and checkpoints, so that a kill at a random
-- moment often lands inside a save.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim
local run = lg.experiment{name = "tiny", iters = 40, batch = 64, lr = 1e-3, hidden = 64,
                          sample_every = 5, checkpoint_every = 3, threads = 1}
local cfg = run.config
local ring = lg.data.ring8()
local loader = lg.data.Loader(ring:sample(500), {batch = cfg.batch})
local h = cfg.hidden
local G = nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 2))
local D = nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Dropout(0.3), nn.Linear(h, h), nn.ReLU(),
                        nn.Linear(h, 1))
local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = {0.5, 0.999}})
local optD = optim.SGD(D:parameters(), {lr = cfg.lr, momentum = 0.9})
local z = lg.randn(16, 2)
local state = {ema = 0.0, note = "x"}
run:track{G = G, D = D, optG = optG, optD = optD, data = loader, state = state}
run:sampler(function() return G(z):view(16, 1, 1, 2) end)
for it in run:iterations() do
  local real = loader:next()
  local fake = G(lg.randn(cfg.batch, 2))
  local lossD = lg.bce_with_logits(D(real), lg.ones(cfg.batch, 1))
              + lg.bce_with_logits(D(fake:detach()), lg.zeros(cfg.batch, 1))
  optD:zero_grad() lossD:backward() optD:step()
  local lossG = lg.bce_with_logits(D(fake), lg.ones(cfg.batch, 1))
  optG:zero_grad() lossG:backward() optG:step()
  state.ema = 0.9 * state.ema + 0.1 * lossD:item()
  run:log{lossD = lossD, lossG = lossG, ema = state.ema, epoch = loader.epoch_count}
end
