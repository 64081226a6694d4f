-- Tiny GANs that must learn: a DCGAN (BCE, batch norm, Adam 2e-4/0.5) and a
-- WGAN-GP (no BN in the critic, 5 critic steps, lambda 10, Adam 1e-4/(0, 0.9))
-- on 16x16 images of a bright centre square on a dark background.  The
-- assertions are on behaviour: the generator's samples acquire the data's
-- centre-minus-border contrast, and the WGAN-GP penalty holds the critic's
-- gradient norm near 1.  Seeded; a few hundred iterations each.
local nn, optim = lg.nn, lg.optim

local S = 16

-- real images: +1 inside the centre 8x8 square, -1 outside, plus noise
local function real_batch(n)
  local mask = lg.zeros(1, 1, S, S)
  lg.no_grad(function() mask:narrow(3, 5, 8):narrow(4, 5, 8):fill_(1) end)
  return (mask * 2 - 1 + lg.randn(n, 1, S, S) * 0.1):clamp(-1, 1)
end

-- mean of the centre square minus mean of the rest, averaged over the batch
local function contrast(x)
  local centre = x:narrow(3, 5, 8):narrow(4, 5, 8):mean()
  local total = x:mean()
  local border = (total * (S * S) - centre * 64) / (S * S - 64)
  return (centre - border):item()
end

local function generator(bn)
  local layers = {
    nn.Linear(16, 32 * 4 * 4), nn.Reshape(32, 4, 4),
  }
  local function add(m) layers[#layers + 1] = m end
  if bn then add(nn.BatchNorm2d(32)) end
  add(nn.ReLU())
  add(nn.ConvTranspose2d(32, 16, 4, {stride = 2, padding = 1}))
  if bn then add(nn.BatchNorm2d(16)) end
  add(nn.ReLU())
  add(nn.ConvTranspose2d(16, 1, 4, {stride = 2, padding = 1}))
  add(nn.Tanh())
  return nn.Sequential(table.unpack(layers))
end

local function discriminator(bn)
  local layers = {nn.Conv2d(1, 16, 4, {stride = 2, padding = 1}), nn.LeakyReLU(0.2),
                  nn.Conv2d(16, 32, 4, {stride = 2, padding = 1})}
  if bn then layers[#layers + 1] = nn.BatchNorm2d(32) end
  layers[#layers + 1] = nn.LeakyReLU(0.2)
  layers[#layers + 1] = nn.Flatten()
  layers[#layers + 1] = nn.Linear(32 * 4 * 4, 1)
  return nn.Sequential(table.unpack(layers))
end

test("a tiny DCGAN learns the data's contrast", function()
  lg.manual_seed(7)
  local G, D = generator(true), discriminator(true)
  G:apply(nn.init.dcgan)
  D:apply(nn.init.dcgan)
  local optG = optim.Adam(G:parameters(), {lr = 2e-4, betas = {0.5, 0.999}})
  local optD = optim.Adam(D:parameters(), {lr = 2e-4, betas = {0.5, 0.999}})
  local n = 32
  local ones, zeros = lg.ones(n, 1), lg.zeros(n, 1)
  local z_fixed = lg.randn(64, 16)
  local before = lg.no_grad(function() return contrast(G:eval()(z_fixed)) end)
  G:train()
  local d_losses = {}
  for it = 1, 300 do
    local fake = G(lg.randn(n, 16))
    optD:zero_grad()
    local lossD = lg.bce_with_logits(D(real_batch(n)), ones) +
                  lg.bce_with_logits(D(fake:detach()), zeros)
    lossD:backward()
    optD:step()
    optG:zero_grad()
    local lossG = lg.bce_with_logits(D(fake), ones)   -- non-saturating (Goodfellow et al. 2014, sec. 3)
    lossG:backward()
    optG:step()
    d_losses[it] = lossD:item()
    assert(d_losses[it] == d_losses[it] and lossG:item() == lossG:item(), "loss is NaN at " .. it)
  end
  local after = lg.no_grad(function() return contrast(G:eval()(z_fixed)) end)
  local real = contrast(real_batch(64))
  -- D starts at chance (2 ln 2 = 1.386) and must beat it
  assert(d_losses[1] > 1.2 and d_losses[1] < 1.6, "first D loss " .. d_losses[1])
  assert(math.abs(before) < 0.3 * real, ("contrast before training %.3f"):format(before))
  assert(after > 0.5 * real, ("contrast after training %.3f, real %.3f"):format(after, real))
end)

test("a tiny WGAN-GP learns and keeps the critic's gradient norm near 1", function()
  lg.manual_seed(11)
  local G, D = generator(true), discriminator(false)
  -- the paper's betas and lambda; lr 3e-4 instead of 1e-4 so that a few
  -- hundred steps suffice
  local optG = optim.Adam(G:parameters(), {lr = 3e-4, betas = {0, 0.9}})
  local optD = optim.Adam(D:parameters(), {lr = 3e-4, betas = {0, 0.9}})
  local n, lambda = 32, 10
  local z_fixed = lg.randn(64, 16)
  local norms
  for _ = 1, 200 do
    for _ = 1, 5 do
      local real = real_batch(n)
      local fake = lg.no_grad(function() return G(lg.randn(n, 16)) end)
      -- gradient penalty (Gulrajani et al. 2017, eq. 3) at random interpolates
      local eps = lg.rand(n, 1, 1, 1)
      local xhat = (real * eps + fake * (1 - eps)):detach()
      xhat.requires_grad = true
      local g = lg.grad(D(xhat):sum(), xhat, {create_graph = true})
      local gnorm = (g * g):sum(4):sum(3):sum(2):sqrt()
      local gp = ((gnorm - 1) ^ 2):mean()
      optD:zero_grad()
      local lossD = D(fake):mean() - D(real):mean() + gp * lambda
      lossD:backward()
      optD:step()
      norms = gnorm:mean():item()
    end
    optG:zero_grad()
    local lossG = -D(G(lg.randn(n, 16))):mean()
    lossG:backward()
    optG:step()
  end
  local after = lg.no_grad(function() return contrast(G:eval()(z_fixed)) end)
  local real = contrast(real_batch(64))
  assert(after > 0.5 * real, ("contrast after training %.3f, real %.3f"):format(after, real))
  assert(norms > 0.5 and norms < 1.5, ("critic gradient norm %.3f"):format(norms))
end)
