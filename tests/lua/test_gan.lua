-- lg.gan: losses against hand computation (values and gradient directions),
-- the gradient penalty on a linear critic (value and finite differences),
-- schedules, unrolling (K = 0 is the plain loss; K > 0 matches finite
-- differences of the unrolled objective; one unrolled step is opt:step()),
-- packing, the MRGAN regularisers, and smoke runs of every training step.
local nn, optim, gan = lg.nn, lg.optim, lg.gan

local function sp(x) return math.log(1 + math.exp(x)) end           -- softplus
local function sig(x) return 1 / (1 + math.exp(-x)) end
local function avg(t, f)
  local s = 0
  for _, v in ipairs(t) do s = s + f(v) end
  return s / #t
end
local function leaf(t)
  local x = lg.tensor(t)
  x.requires_grad = true
  return x
end
local function tbl(x) return x:totable() end

local R, F = {1.5, -2, 0.25}, {0.5, -1, 3}   -- real and fake logits

test("minimax and non-saturating losses match log-sigmoid by hand", function()
  local r, f = lg.tensor(R), lg.tensor(F)
  local d = avg(R, function(s) return -math.log(sig(s)) end) +
            avg(F, function(s) return -math.log(1 - sig(s)) end)
  near(gan.minimax.d(r, f):item(), d, 1e-5, "minimax d")
  near(gan.non_saturating.d(r, f):item(), d, 1e-5, "non_saturating d")
  -- saturating G: minimise log(1 - D(G(z)))
  near(gan.minimax.g(f):item(), avg(F, function(s) return math.log(1 - sig(s)) end), 1e-5)
  -- non-saturating G: maximise log D(G(z))
  near(gan.non_saturating.g(f):item(), avg(F, function(s) return -math.log(sig(s)) end), 1e-5)
  -- D's loss at chance is 2 log 2
  near(gan.minimax.d(lg.zeros(4, 1), lg.zeros(4, 1)):item(), 2 * math.log(2), 1e-6)
end)

test("G-loss gradients point to 'more real' and only the saturating one vanishes", function()
  local f = leaf(F)
  local g_ns = tbl(lg.grad(gan.non_saturating.g(f), f))
  local g_mm = tbl(lg.grad(gan.minimax.g(f), f))
  for i, s in ipairs(F) do
    assert(g_ns[i] < 0 and g_mm[i] < 0, "G's gradient w.r.t. fake logits must be negative")
    near(g_ns[i], -sig(-s) / #F, 1e-6, "ns gradient")
    near(g_mm[i], -sig(s) / #F, 1e-6, "minimax gradient")
  end
  -- D confidently rejects the fakes (logit -10): saturation
  local rej = leaf{-10, -10}
  local sat = lg.grad(gan.minimax.g(rej), rej):totable()[1]
  local nsat = lg.grad(gan.non_saturating.g(rej), rej):totable()[1]
  assert(math.abs(sat) < 1e-4 and math.abs(nsat) > 0.49,
         ("saturating %g vs non-saturating %g"):format(sat, nsat))
  -- D's gradient: raise real logits, lower fake ones
  local r, f2 = leaf(R), leaf(F)
  local gr, gf = table.unpack(lg.grad(gan.minimax.d(r, f2), {r, f2}))
  for i = 1, 3 do assert(gr:totable()[i] < 0 and gf:totable()[i] > 0) end
end)

test("losses stay finite for extreme logits", function()
  local big = leaf{100, -100, 80}
  for _, name in ipairs{"minimax", "non_saturating", "hinge", "wasserstein", "lsgan"} do
    local l = gan.loss(name)
    local v = l.d(big, big) + l.g(big)
    local g = lg.grad(v, big):totable()
    assert(v:item() == v:item() and math.abs(v:item()) < math.huge, name .. " value")
    for _, x in ipairs(g) do assert(x == x and math.abs(x) < math.huge, name .. " gradient") end
  end
  near(gan.non_saturating.g(lg.tensor{-100}):item(), 100, 1e-5)
end)

test("wasserstein and hinge losses by hand", function()
  local r, f = lg.tensor(R), lg.tensor(F)
  local mr, mf = avg(R, function(s) return s end), avg(F, function(s) return s end)
  near(gan.wasserstein.d(r, f):item(), mf - mr, 1e-6, "critic")
  near(gan.wasserstein.g(f):item(), -mf, 1e-6, "wasserstein G")
  local hd = avg(R, function(s) return math.max(0, 1 - s) end) +
             avg(F, function(s) return math.max(0, 1 + s) end)
  near(gan.hinge.d(r, f):item(), hd, 1e-6, "hinge D")
  near(gan.hinge.g(f):item(), -mf, 1e-6, "hinge G")
  -- the critic's gradient: -1/n on real logits, +1/n on fake ones
  local rl, fl = leaf(R), leaf(F)
  local gr, gf = table.unpack(lg.grad(gan.wasserstein.d(rl, fl), {rl, fl}))
  near(tbl(gr), {-1 / 3, -1 / 3, -1 / 3}, 1e-6)
  near(tbl(gf), {1 / 3, 1 / 3, 1 / 3}, 1e-6)
  -- hinge: logits beyond the margin get no gradient
  local hr = leaf{2, 0.5}
  near(tbl(lg.grad(gan.hinge.d(hr, lg.tensor{-2, -2}), hr)), {0, -0.5}, 1e-6)
end)

test("least squares: both codings of Mao et al. by hand", function()
  local r, f = lg.tensor(R), lg.tensor(F)
  local function ls(a, b, c)
    return 0.5 * avg(R, function(s) return (s - b) ^ 2 end) +
           0.5 * avg(F, function(s) return (s - a) ^ 2 end),
           0.5 * avg(F, function(s) return (s - c) ^ 2 end)
  end
  local d01, g01 = ls(0, 1, 1)
  near(gan.lsgan.d(r, f):item(), d01, 1e-5, "0-1 D")
  near(gan.lsgan.g(f):item(), g01, 1e-5, "0-1 G")
  local dc, gc = ls(-1, 1, 0)
  near(gan.lsgan_chi2.d(r, f):item(), dc, 1e-5, "-1/1/0 D")
  near(gan.lsgan_chi2.g(f):item(), gc, 1e-5, "-1/1/0 G")
  local custom = gan.least_squares{a = -1, b = 1, c = 0}
  near(custom.d(r, f):item(), dc, 1e-5)
  -- G's gradient pulls fake logits towards c
  local fl = leaf{0, 2}
  local g = tbl(lg.grad(gan.lsgan.g(fl), fl))
  assert(g[1] < 0 and g[2] > 0)
  raises(function() gan.least_squares(0, 1) end, "a, b and c must be numbers")
end)

test("losses by name, custom losses", function()
  assert(gan.loss("ns") == gan.non_saturating and gan.loss(gan.hinge) == gan.hinge)
  raises(function() gan.loss("nonsense") end, "unknown loss 'nonsense' (valid: hinge")
  local rel = gan.Loss("my", function(r, f) return (f - r):mean() end, function(f) return -f:mean() end)
  near(rel.d(lg.tensor{1}, lg.tensor{3}):item(), 2)
  eq(tostring(rel), "gan.Loss(my)")
end)

-- {==== gradient penalty

test("gradient penalty of a linear critic is lambda (|w| - 1)^2", function()
  lg.manual_seed(3)
  local D = nn.Linear(3, 1)
  lg.no_grad(function() D.weight:copy_(lg.tensor{{0.3, -1.2, 0.9}}) end)
  local real, fake = lg.randn(5, 3), lg.randn(5, 3)
  local w = {0.3, -1.2, 0.9}
  local nw = math.sqrt(0.09 + 1.44 + 0.81)
  local gp, norm = gan.gradient_penalty(D, real, fake)
  near(gp:item(), 10 * (nw - 1) ^ 2, 1e-5, "penalty")
  near(norm, nw, 1e-5, "gradient norm")
  local gp2 = gan.gradient_penalty(D, real, fake, {lambda = 0.1, center = 0})
  near(gp2:item(), 0.1 * nw ^ 2, 1e-5, "zero-centred, lambda 0.1")
  -- its gradient w.r.t. w: analytic 2 lambda (|w| - 1) w / |w|, and central differences
  local g = lg.grad(gp, D.weight):totable()[1]
  local h = 1e-2
  for i = 1, 3 do
    near(g[i], 20 * (nw - 1) * w[i] / nw, 1e-4, "analytic")
    local function at(delta)
      local wd = {w[1], w[2], w[3]}
      wd[i] = wd[i] + delta
      lg.no_grad(function() D.weight:copy_(lg.tensor{wd}) end)
      return gan.gradient_penalty(D, real, fake):item()
    end
    near(g[i], (at(h) - at(-h)) / (2 * h), 2e-3, "finite differences")
  end
end)

test("gradient penalty: per-sample norm over image dims, given eps, trains D only", function()
  lg.manual_seed(4)
  local D = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
  local wv = {{1, 2, 2, 4}}   -- |w| = 5
  lg.no_grad(function() D[2].weight:copy_(lg.tensor(wv)) end)
  local real, fake = lg.randn(3, 1, 2, 2), lg.randn(3, 1, 2, 2)
  fake.requires_grad = true
  local gp, norm = gan.gradient_penalty(D, real, fake, {eps = lg.tensor{0, 0.5, 1}})
  near(gp:item(), 10 * 16, 1e-4)
  near(norm, 5, 1e-5)
  near(tbl(lg.grad(gp, fake)), tbl(lg.zeros(3, 1, 2, 2)), 0, "fake is detached")
  raises(function() gan.gradient_penalty(D, real, lg.randn(2, 1, 2, 2)) end, "differ in shape")
  raises(function() gan.gradient_penalty(D, real, fake, {lamda = 1}) end, "unknown option 'lamda'")
  -- a nonlinear critic: the penalty's gradient reaches every parameter (second order)
  local C = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
  local pen = gan.gradient_penalty(C, real, fake)
  for _, g in ipairs(lg.grad(pen, C:parameters())) do
    assert(g:abs():sum():item() > 0 or g:numel() == 1, "a parameter got no penalty gradient")
  end
end)

-- }====

test("schedules: k steps, WGAN warm-up as in Arjovsky et al.'s code, simultaneous", function()
  local k3 = gan.schedule.alternating(3)
  eq({k3(1), k3(1000)}, {3, 3})
  assert(not k3.simultaneous)
  local w = gan.schedule.wgan(5)
  for it = 1, 25 do eq(w(it), 100, "warm-up at " .. it) end
  eq(w(26), 5)
  eq(w(499), 5)
  -- the code's gen_iterations (steps done, from 0) is it - 1: 500 done -> it 501
  for it = 26, 2100 do
    local gen_iterations = it - 1
    local code = (gen_iterations < 25 or gen_iterations % 500 == 0) and 100 or 5
    if w(it) ~= code then error(("it %d: %d, code %d"):format(it, w(it), code)) end
  end
  eq({w(500), w(501), w(1001), w(1500)}, {5, 100, 100, 5})
  local w2 = gan.schedule.wgan(2, {warmup = 0, every = 0})
  eq({w2(1), w2(501)}, {2, 2})
  local s = gan.schedule.simultaneous()
  assert(s.simultaneous and s(7) == 1)
  raises(function() gan.schedule.alternating(1.5) end, "integer >= 0")
end)

-- {==== unrolling

-- a tiny 1-D problem: G(z) = a z + b, D a 1-4-1 tanh MLP
local function tiny(seed)
  lg.manual_seed(seed or 5)
  local G = nn.Linear(1, 1)
  local D = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
  return G, D, lg.randn(8, 1) * 0.5 + 1, lg.randn(8, 1)
end

local function g_grads(loss, G) return lg.grad(loss, G:parameters()) end

test("with_parameters swaps fields and restores them, also on error", function()
  local _, D = tiny()
  local ps = gan.parameters(D)
  eq(#ps, 4)
  local zeros = {}
  for i, p in ipairs(ps) do zeros[i] = lg.zeros(p.shape) end
  local out = gan.with_parameters(D, zeros, function() return D(lg.ones(2, 1)) end)
  near(tbl(out), {{0}, {0}}, 0)
  assert(rawequal(D[1].weight, ps[1]) and rawequal(D[3].bias, ps[4]), "parameters restored")
  raises(function() gan.with_parameters(D, zeros, function() error("boom") end) end, "boom")
  assert(rawequal(D[1].weight, ps[1]), "restored after an error")
  raises(function() gan.with_parameters(D, {zeros[1]}, function() end) end, "1 tensors given for 4")
end)

test("unrolled K = 0 gives the plain G gradient", function()
  local G, D, real, z = tiny()
  local opt = optim.Adam(D:parameters(), {lr = 1e-2})
  local plain = g_grads(gan.non_saturating.g(D(G(z))), G)
  local un = g_grads(gan.unrolled_g_loss{G = G, D = D, loss = gan.non_saturating, real = real,
                                         z = z, K = 0, opt = opt}, G)
  for i = 1, 2 do near(tbl(un[i]), tbl(plain[i]), 0) end
end)

-- one unrolled step equals opt:step() (the functional update mirrors the fused kernel)
local function one_step_matches(make_opt, warm)
  local G, D, real, z = tiny(6)
  local opt = make_opt(D:parameters())
  for _ = 1, warm do   -- some optimiser state to start from
    opt:zero_grad()
    gan.minimax.d(D(real), D(lg.no_grad(function() return G(z) end))):backward()
    opt:step()
  end
  local fake = lg.no_grad(function() return G(z) end)
  local unrolled = gan.unrolled_g_loss{D = D, loss = gan.minimax, real = real, fake = fake,
                                       K = 1, opt = opt, objective = "fake_only"}:item()
  opt:zero_grad()
  gan.minimax.d(D(real), D(fake)):backward()
  opt:step()
  local stepped = gan.minimax.g(D(fake)):item()
  near(unrolled, stepped, 1e-5, opt.name)
end

test("one unrolled step reproduces Adam, SGD (momentum, nesterov) and RMSprop steps", function()
  one_step_matches(function(p) return optim.Adam(p, {lr = 0.05, betas = {0.5, 0.999}}) end, 0)
  one_step_matches(function(p) return optim.Adam(p, {lr = 0.05, betas = {0.5, 0.9},
                                                     weight_decay = 0.1}) end, 3)
  one_step_matches(function(p) return optim.SGD(p, {lr = 0.3}) end, 0)
  one_step_matches(function(p) return optim.SGD(p, {lr = 0.3, momentum = 0.9}) end, 0)
  one_step_matches(function(p) return optim.SGD(p, {lr = 0.3, momentum = 0.9,
                                                    nesterov = true}) end, 2)
  one_step_matches(function(p) return optim.RMSprop(p, {lr = 0.01}) end, 2)
  one_step_matches(function(p) return optim.RMSprop(p, {lr = 0.01, centered = true,
                                                        momentum = 0.5}) end, 2)
end)

-- the unrolled objective as a function of G's weight, by central differences
local function unrolled_fd(G, eval, h)
  local w0 = G.weight:totable()[1][1]
  local function at(w)
    lg.no_grad(function() G.weight:fill_(w) end)
    return eval():item()
  end
  local fd = (at(w0 + h) - at(w0 - h)) / (2 * h)
  lg.no_grad(function() G.weight:fill_(w0) end)
  return fd
end

test("unrolled K > 0: the G gradient flows through the D updates and matches finite differences",
     function()
  for _, spec in ipairs{{name = "SGD", lr = 0.5}, {name = "Adam", lr = 0.1, betas = {0.5, 0.999}}} do
    local G, D, real, z = tiny(7)
    local d_before = {}
    for i, p in ipairs(D:parameters()) do d_before[i] = tbl(p) end
    local function L(second_order)
      return gan.unrolled_g_loss{G = G, D = D, loss = gan.minimax, real = real, z = z, K = 5,
                                 opt = spec, second_order = second_order,
                                 objective = "fake_only"}
    end
    local full = g_grads(L(true), G)[1]:item()
    local first = g_grads(L(false), G)[1]:item()
    local plain = g_grads(gan.minimax.g(D(G(z))), G)[1]:item()
    local fd = unrolled_fd(G, function() return L(true) end, 3e-3)
    near(full, fd, 5e-4, spec.name .. ": unrolled gradient vs finite differences")
    assert(math.abs(full - plain) > 0.03, ("%s: K=5 %g vs K=0 %g"):format(spec.name, full, plain))
    assert(math.abs(full - first) > 0.1,
           ("%s: second-order term %g vs first-order only %g"):format(spec.name, full, first))
    for i, p in ipairs(D:parameters()) do near(tbl(p), d_before[i], 0, "D left unchanged") end
  end
end)

test("unrolling uses and keeps D's optimiser state; batch-norm statistics are restored", function()
  lg.manual_seed(8)
  local G = nn.Linear(2, 2)
  local D = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
  local opt = optim.Adam(D:parameters(), {lr = 0.01})
  local real, z = lg.randn(16, 2), lg.randn(16, 2)
  opt:zero_grad()
  gan.non_saturating.d(D(real), D(lg.no_grad(function() return G(z) end))):backward()
  opt:step()
  local m = tbl(opt.state[1].exp_avg)
  local rm, nb = tbl(D[2].running_mean), D[2].num_batches_tracked:item()
  local l = gan.unrolled_g_loss{G = G, D = D, loss = gan.non_saturating, real = real, z = z,
                                K = 3, opt = opt}
  local gs = g_grads(l, G)
  assert(gs[1]:abs():sum():item() > 0)
  eq(opt.state[1].step, 1)
  near(tbl(opt.state[1].exp_avg), m, 0, "optimiser moments untouched")
  near(tbl(D[2].running_mean), rm, 0, "running mean restored")
  eq(D[2].num_batches_tracked:item(), nb)
  raises(function()
    gan.unrolled_g_loss{G = G, D = D, loss = "ns", real = real, z = z, K = 1,
                        opt = {name = "Adagrad"}}
  end, "cannot be unrolled")
  raises(function()
    gan.unrolled_g_loss{G = G, D = D, loss = "ns", real = real, z = z, K = 1}
  end, "'opt' is required")
end)

-- }====

test("PacGAN packing: shapes and order", function()
  local x = lg.arange(12):reshape(6, 2)
  local p = gan.pack(x, 2)
  eq(p.shape, {3, 4})
  eq(p:totable()[1], {0, 1, 2, 3})   -- samples 1 and 2 side by side
  eq(gan.pack(x, 3).shape, {2, 6})
  eq(gan.pack(lg.zeros(4, 3, 5, 5), 2).shape, {2, 6, 5, 5})
  eq(gan.pack(lg.zeros(4), 4).shape, {1, 4})
  raises(function() gan.pack(x, 4) end, "batch size 6 is not a multiple of m = 4")
  local D = gan.Packed(nn.Linear(4, 1), 2)
  eq(D(lg.randn(10, 2)).shape, {5, 1})
  eq(#D:parameters(), 2)
  assert(D:state_dict()["D.weight"])
  -- the penalty works through the packing
  local pen = gan.gradient_penalty(D, lg.randn(10, 2), lg.randn(10, 2))
  assert(pen:item() >= 0)
end)

test("MRGAN regularisers on a tiny example; the mode term rewards 'real'", function()
  local x = lg.tensor{{1, 2}, {3, 4}}
  local recon = lg.tensor{{1, 1}, {3, 5}}
  near(gan.mrgan.geometric(x, recon, 0.2):item(), 0.2 * 0.5, 1e-6, "mse")
  near(gan.mrgan.geometric(x, recon, 1, "sse"):item(), 1, 1e-6, "sse")
  near(gan.mrgan.geometric(x, recon, 1, function(a, b) return (a - b):abs():sum() end):item(), 2)
  local s = leaf{0, 2}
  local mode = gan.mrgan.mode(s, 0.4)
  near(mode:item(), 0.4 * (sp(0) + sp(-2)) / 2, 1e-6, "-lambda2 log D")
  near(mode:item(), -0.4 * (math.log(sig(0)) + math.log(sig(2))) / 2, 1e-6)
  local g = tbl(lg.grad(mode, s))
  assert(g[1] < 0 and g[2] < 0, "minimising the mode term raises D(G(E(x)))")
  raises(function() gan.mrgan.geometric(x, recon, 1, "cosine") end, "unknown distance 'cosine'")
end)

-- {==== training steps

local function mlp(i, h, o) return nn.Sequential(nn.Linear(i, h), nn.Tanh(), nn.Linear(h, o)) end

local function finite(out)
  for k, v in pairs(out) do
    if type(v) == "number" then assert(v == v and math.abs(v) < math.huge, k .. " is not finite") end
  end
end

test("gan.step: alternating, WGAN clipping and warm-up, GP, unrolled", function()
  lg.manual_seed(9)
  local G, D = mlp(2, 16, 2), mlp(2, 16, 1)
  local optG = optim.Adam(G:parameters(), {lr = 1e-3})
  local optD = optim.Adam(D:parameters(), {lr = 1e-3})
  local real = function() return lg.randn(32, 2) + 2 end
  local z = function() return lg.randn(32, 2) end
  local o = gan.step{G = G, D = D, optG = optG, optD = optD, loss = "ns", real = real, z = z}
  finite(o)
  eq(o.d_steps, 1)
  -- lr 0: what is left after the step is the clipping alone
  local frozen = optim.RMSprop(D:parameters(), {lr = 0})
  o = gan.step{G = G, D = D, optG = optG, optD = frozen, loss = gan.wasserstein, real = real,
               z = z, it = 1, schedule = gan.schedule.wgan(5), clip = 0.01}
  eq(o.d_steps, 100)
  for _, p in ipairs(D:parameters()) do assert(p:abs():max():item() <= 0.01 + 1e-7, "clipped") end
  o = gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.wasserstein, real = real, z = z,
               it = 30, schedule = gan.schedule.wgan(5), gp = 10}
  eq(o.d_steps, 5)
  assert(o.gp and o.grad_norm, "penalty reported")
  finite(o)
  o = gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.minimax, real = real, z = z,
               unroll = 3}
  finite(o)
  raises(function() gan.step{G = G, D = D, optG = optG, optD = optD, loss = "ns", real = real} end,
         "'z' is required")
  -- PacGAN2: D sees pairs of samples; unrolling and the penalty go through the packing
  local P = gan.Packed(mlp(4, 16, 1), 2)
  local optP = optim.Adam(P:parameters(), {lr = 1e-3})
  o = gan.step{G = G, D = P, optG = optG, optD = optP, loss = "ns", real = real, z = z,
               unroll = 2, gp = {lambda = 1, center = 0}}
  finite(o)
end)

test("gan.step simultaneous: both gradients at the same parameters", function()
  local function setup()
    lg.manual_seed(10)
    local G, D = mlp(2, 8, 2), mlp(2, 8, 1)
    return G, D, optim.SGD(G:parameters(), {lr = 0.1}), optim.SGD(D:parameters(), {lr = 0.1}),
           lg.randn(16, 2), lg.randn(16, 2)
  end
  local G, D, optG, optD, real, z = setup()
  gan.step{G = G, D = D, optG = optG, optD = optD, loss = "ns", real = real, z = z,
           schedule = gan.schedule.simultaneous()}
  local G2, D2, optG2, optD2 = setup()
  local fake = G2(z)
  optD2:zero_grad()
  optG2:zero_grad()
  local lossD = gan.non_saturating.d(D2(real), D2(fake:detach()))
  local lossG = gan.non_saturating.g(D2(fake))
  lossG:backward()   -- G's gradient at D's parameters before D's update
  optD2:zero_grad()  -- (the backward above also reached D)
  lossD:backward()
  optD2:step()
  optG2:step()
  for i, p in ipairs(G:parameters()) do near(tbl(p), tbl(G2:parameters()[i]), 1e-6, "G") end
  for i, p in ipairs(D:parameters()) do near(tbl(p), tbl(D2:parameters()[i]), 1e-6, "D") end
end)

test("MRGAN and MDGAN steps run and train the encoder", function()
  lg.manual_seed(12)
  local G, E, D, D2 = mlp(2, 16, 2), mlp(2, 16, 2), mlp(2, 16, 1), mlp(2, 16, 1)
  local function adam(m) return optim.Adam(m:parameters(), {lr = 1e-3}) end
  local optG, optE, optD, optD2 = adam(G), adam(E), adam(D), adam(D2)
  local real = function() return lg.randn(32, 2) * 0.1 + 1 end
  local z = function() return lg.randn(32, 2) end
  local e0 = tbl(E[1].weight)
  local o = gan.mrgan.step{G = G, E = E, D = D, optG = optG, optE = optE, optD = optD,
                           real = real, z = z}
  finite(o)
  assert(o.geometric > 0 and o.mode > 0)
  local moved = false
  for i, row in ipairs(tbl(E[1].weight)) do
    for j, v in ipairs(row) do if v ~= e0[i][j] then moved = true end end
  end
  assert(moved, "the encoder did not move")
  o = gan.mdgan.step{G = G, E = E, D1 = D, D2 = D2, optG = optG, optE = optE, optD1 = optD,
                     optD2 = optD2, real = real, z = z}
  finite(o)
  assert(o.d1 and o.d2 and o.recon)
end)

-- }====

test("gan.step passes unroll_objective on (full by default, fake_only)", function()
  local values = {}
  for _, objective in ipairs{"full", "fake_only", false} do
    local G, D, real, z = tiny(9)
    local optG, optD = optim.SGD(G:parameters(), {lr = 0.1}), optim.SGD(D:parameters(), {lr = 0.5})
    local expected = gan.unrolled_g_loss{G = G, D = D, loss = gan.minimax, real = real, z = z,
                                         K = 2, opt = optD, objective = objective or nil}:item()
    local r = gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.minimax, real = real,
                       z = z, unroll = 2, unroll_objective = objective or nil,
                       schedule = gan.schedule.simultaneous()}
    near(r.g, expected, 1e-6, tostring(objective))
    values[#values + 1] = r.g
  end
  near(values[3], values[1], 0, "full is the default")
  assert(math.abs(values[1] - values[2]) > 1e-3, "the objectives differ")
  local G, D, real, z = tiny(9)
  raises(function()
    gan.step{G = G, D = D, optG = optim.SGD(G:parameters()), optD = optim.SGD(D:parameters()),
             loss = gan.minimax, real = real, z = z, unroll = 1, unroll_objective = "both"}
  end, "objective must be 'full' or 'fake_only'")
end)

-- {==== the package

test("lg.gan gathers its parts; their entries are on the gan page, from the parts' files", function()
  assert(rawequal(require("luagan.gan"), gan), "require and lg.gan give one table")
  assert(rawequal(require("luagan.gan.mrgan").mdgan, gan.mdgan), "a part's table is re-exported")
  eq(gan.mdgan_step, nil)
  local doc = require "luagan.doc"
  for _, c in ipairs{{gan.gradient_penalty, "gan.gradient_penalty", "penalty"},
                     {gan.mdgan.step, "gan.mdgan.step", "mrgan"},
                     {gan.loss, "gan.loss", "loss"},
                     {gan.step, "gan.step", "step"},
                     {gan.unrolled_g_loss, "gan.unrolled_g_loss", "unrolled"}} do
    local e = doc.lookup(c[1])
    eq(e and e.name, c[2])
    eq(e.module, "gan")
    eq(e.file, "lua/luagan/gan/" .. c[3] .. ".lua")
  end
end)
