-- gan.unrolled_g_loss against a reference written without autograd: the
-- unrolled objective f_K(theta_G) = f(theta_G, theta_D^K(theta_G)) (Metz et
-- al. 2017, sec. 2.2) is recomputed for every perturbed theta_G by K hand-
-- written D updates (SGD, Adam) from the same initial D and optimiser state,
-- with D's gradient by hand-written backpropagation; the unrolled G gradient
-- must match its central differences, the real-data term E log D_K(x)
-- included.  Also: K = 0 is the plain loss, D and its optimiser are left
-- untouched, and the "fake_only" surrogate misses the real-data term.
local nn, optim, gan = lg.nn, lg.optim, lg.gan

local function tbl(x) return x:totable() end
local function nograd(fn) return lg.no_grad(fn) end

-- G: 2 -> 2 linear; D: 2 -> 3 tanh -> 1 logit
local function tiny(seed)
  lg.manual_seed(seed)
  local G = nn.Linear(2, 2)
  local D = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
  return G, D, lg.randn(16, 2) * 0.5 + 1, lg.randn(16, 2)
end

-- D's logits and, given dL/dlogits, the gradients of W1, b1, W2, b2
local function d_forward(th, x)
  local h = (x:matmul(th[1]:t()) + th[2]):tanh()
  return h:matmul(th[3]:t()) + th[4], h
end
local function d_backward(th, x, h, ds)   -- ds [N, 1]
  local da = ds:matmul(th[3]) * (1 - h * h)
  return {da:t():matmul(x), da:sum(1), ds:t():matmul(h), ds:sum(1)}
end

-- gradient of gan.minimax.d = mean softplus(-s_r) + mean softplus(s_f) at th
local function d_grad(th, real, fake)
  local sr, hr = d_forward(th, real)
  local sf, hf = d_forward(th, fake)
  local gr = d_backward(th, real, hr, -(-sr):sigmoid() / real:size(1))
  local gf = d_backward(th, fake, hf, sf:sigmoid() / fake:size(1))
  local g = {}
  for i = 1, 4 do g[i] = gr[i] + gf[i] end
  return g
end

-- PyTorch's SGD (no momentum) and Adam updates, state {step, m, v}
local function sgd(c, th, g, st)
  local nt = {}
  for i = 1, 4 do nt[i] = th[i] - g[i] * c.lr end
  return nt, st
end
local function adam(c, th, g, st)
  local b1, b2 = c.betas[1], c.betas[2]
  local t, nt, ns = st.step + 1, {}, {step = st.step + 1, m = {}, v = {}}
  for i = 1, 4 do
    ns.m[i] = st.m[i] * b1 + g[i] * (1 - b1)
    ns.v[i] = st.v[i] * b2 + g[i] * g[i] * (1 - b2)
    local denom = ns.v[i]:sqrt() / math.sqrt(1 - b2 ^ t) + c.eps
    nt[i] = th[i] - ns.m[i] / denom * (c.lr / (1 - b1 ^ t))
  end
  return nt, ns
end

-- f_K(theta_G) by forward computation only: loss "minimax" gives the value
-- function E log D_K(x) + E log(1 - D_K(G(z))); "ns" swaps the fake term
-- for -E log D_K(G(z)) (G's non-saturating loss, the real term kept)
local function reference(G, th0, st0, update, c, real, z, K, loss)
  return nograd(function()
    local fake = G(z)
    local th, st = th0, st0
    for _ = 1, K do th, st = update(c, th, d_grad(th, real, fake), st) end
    local sr, sf = d_forward(th, real), d_forward(th, fake)
    local real_term = -(-sr):softplus():mean():item()             -- E log D_K(x)
    if loss == "ns" then return real_term + (-sf):softplus():mean():item() end
    return real_term - sf:softplus():mean():item()                -- + E log(1 - D_K(G(z)))
  end)
end

-- central differences of f over every element of G's parameters
local function fd_grad(G, f, h)
  local out = {}
  for _, p in ipairs(G:parameters()) do
    local flat, n = p:reshape(-1), p:numel()
    for j = 1, n do
      local v0 = tbl(flat)[j]
      local function at(v)
        local vals = tbl(flat)
        vals[j] = v
        nograd(function() p:copy_(lg.tensor(vals):reshape(p.shape)) end)
        return f()
      end
      local hi, lo = at(v0 + h), at(v0 - h)
      at(v0)
      out[#out + 1] = (hi - lo) / (2 * h)
    end
  end
  return out
end

local function flat_grads(loss, G)
  local out = {}
  for _, g in ipairs(lg.grad(loss, G:parameters())) do
    for _, v in ipairs(tbl(g:reshape(-1))) do out[#out + 1] = v end
  end
  return out
end

local function rel_err(a, b)
  local d, n = 0, 0
  for i = 1, #a do d, n = d + (a[i] - b[i]) ^ 2, n + b[i] ^ 2 end
  return math.sqrt(d / n)
end
local function cosine(a, b)
  local ab, aa, bb = 0, 0, 0
  for i = 1, #a do ab, aa, bb = ab + a[i] * b[i], aa + a[i] ^ 2, bb + b[i] ^ 2 end
  return ab / math.sqrt(aa * bb)
end

-- the initial D state of a case: a spec (fresh state) or a warmed-up lg.optim Adam
local function setup(case, D, G, real, z)
  local th0 = {}
  for i, p in ipairs(gan.parameters(D)) do th0[i] = p:clone() end
  if case.opt == "SGD" then
    local c = {lr = 0.5}
    return {name = "SGD", lr = c.lr}, sgd, c, th0, nil
  end
  local opt = optim.Adam(D:parameters(), {lr = 0.05, betas = {0.5, 0.999}})
  for _ = 1, 2 do   -- moments and a step count to start from, as in training
    opt:zero_grad()
    gan.minimax.d(D(real), D(nograd(function() return G(z) end))):backward()
    opt:step()
  end
  local st = {step = opt.state[1].step, m = {}, v = {}}
  for i, p in ipairs(gan.parameters(D)) do
    th0[i] = p:clone()
    st.m[i], st.v[i] = opt.state[i].exp_avg:clone(), opt.state[i].exp_avg_sq:clone()
  end
  return opt, adam, opt.config, th0, st
end

local LOG2 = math.log(2)

for _, case in ipairs{{opt = "SGD", K = 1}, {opt = "SGD", K = 3}, {opt = "Adam", K = 1},
                      {opt = "Adam", K = 3}} do
  test(("full unrolled G gradient = finite differences of f_K (%s, K = %d)"):format(case.opt,
       case.K), function()
    local G, D, real, z = tiny(11)
    local opt, update, c, th0, st0 = setup(case, D, G, real, z)
    local function L(objective, loss)
      return gan.unrolled_g_loss{G = G, D = D, loss = loss or gan.minimax, real = real, z = z,
                                 K = case.K, opt = opt, objective = objective}
    end
    local function ref(loss)
      return reference(G, th0, st0, update, c, real, z, case.K, loss)
    end
    -- the value is f_K + log 2 (the real term measured from logit 0)
    near(L("full"):item(), ref() + LOG2, 2e-5, "minimax value")
    near(L("full", gan.non_saturating):item(), ref("ns") + LOG2, 2e-5, "ns value")
    local full, fake_only = flat_grads(L("full"), G), flat_grads(L("fake_only"), G)
    local fd = fd_grad(G, ref, 1e-2)
    local e_full, e_fake = rel_err(full, fd), rel_err(fake_only, fd)
    assert(e_full < 1e-3, ("full vs FD: relative error %.2e"):format(e_full))
    -- the surrogate misses d E log D_K(x) / d theta_G
    assert(e_fake > 0.05, ("fake_only vs FD: relative error %.2e"):format(e_fake))
    print(("    %s K=%d: rel err full %.1e, fake_only %.2f; cos(full, fake_only) %.3f"):format(
      case.opt, case.K, e_full, e_fake, cosine(full, fake_only)))
    -- the non-saturating G loss with the real term
    local ns = flat_grads(L("full", gan.non_saturating), G)
    local e_ns = rel_err(ns, fd_grad(G, function() return ref("ns") end, 1e-2))
    assert(e_ns < 1e-3, ("ns full vs FD: relative error %.2e"):format(e_ns))
  end)
end

test("unrolled K = 0 is the plain G loss for both objectives", function()
  local G, D, real, z = tiny(12)
  local opt = optim.SGD(D:parameters(), {lr = 0.5})
  for _, loss in ipairs{gan.minimax, gan.non_saturating} do
    local pg = flat_grads(loss.g(D(G(z))), G)
    for _, objective in ipairs{"full", "fake_only"} do
      local l = gan.unrolled_g_loss{G = G, D = D, loss = loss, real = real, z = z, K = 0,
                                    opt = opt, objective = objective}
      near(l:item(), loss.g(D(G(z))):item(), 0, objective)
      near(flat_grads(l, G), pg, 0, objective .. " gradient")
    end
  end
end)

test("the full unrolled loss leaves D's parameters and optimiser state untouched", function()
  local G, D, real, z = tiny(13)
  local opt = optim.Adam(D:parameters(), {lr = 0.05, betas = {0.5, 0.999}})
  opt:zero_grad()
  gan.minimax.d(D(real), D(nograd(function() return G(z) end))):backward()
  opt:step()
  local ps, m, v, grads = {}, {}, {}, {}
  for i, p in ipairs(D:parameters()) do
    ps[i], m[i], v[i] = tbl(p), tbl(opt.state[i].exp_avg), tbl(opt.state[i].exp_avg_sq)
    grads[i] = tbl(p.grad)
  end
  local l = gan.unrolled_g_loss{G = G, D = D, loss = gan.minimax, real = real, z = z, K = 3,
                                opt = opt}
  local gs = lg.grad(l, G:parameters())
  assert(gs[1]:abs():sum():item() > 0, "G gets a gradient")
  for i, p in ipairs(D:parameters()) do
    assert(rawequal(p, opt.params[i]), "same parameter tensors")
    near(tbl(p), ps[i], 0, "D parameter " .. i)
    near(tbl(p.grad), grads[i], 0, "D .grad " .. i)
    near(tbl(opt.state[i].exp_avg), m[i], 0, "exp_avg " .. i)
    near(tbl(opt.state[i].exp_avg_sq), v[i], 0, "exp_avg_sq " .. i)
    eq(opt.state[i].step, 1)
  end
  raises(function()
    gan.unrolled_g_loss{G = G, D = D, loss = gan.minimax, real = real, z = z, K = 1,
                        opt = opt, objective = "real_only"}
  end, "objective must be 'full' or 'fake_only', got 'real_only'")
end)

test("an optimiser spec is checked and completed by lg.optim", function()
  local G, D, real, z = tiny(3)
  raises(function()
    gan.unrolled_g_loss{G = G, D = D, loss = gan.minimax, real = real, z = z, K = 1,
                        opt = {name = "Adam", lr = 0.01, beta = {0.5, 0.9}}}
  end, "Adam: unknown option 'beta'")
  raises(function()
    gan.unrolled_g_loss{G = G, D = D, loss = gan.minimax, real = real, z = z, K = 1,
                        opt = {name = "SGD", lr = -1}}
  end, "SGD: lr must be >= 0")
  -- a spec is a fresh optimiser: one unrolled step of it is that optimiser's first step
  for _, spec in ipairs{{name = "RMSprop", lr = 0.01, centered = true, momentum = 0.5},
                        {name = "SGD", lr = 0.3, momentum = 0.9, nesterov = true},
                        {name = "Adam", lr = 0.05, betas = {0.5, 0.999}}} do
    local fake = G(z):detach()
    local un = gan.unrolled_g_loss{D = D, loss = gan.minimax, real = real, fake = fake, K = 1,
                                   opt = spec, objective = "fake_only"}:item()
    local opts = {}
    for k, v in pairs(spec) do if k ~= "name" then opts[k] = v end end
    local saved = {}
    for i, p in ipairs(D:parameters()) do saved[i] = p:clone() end
    local opt = optim[spec.name](D:parameters(), opts)
    opt:zero_grad()
    gan.minimax.d(D(real), D(fake)):backward()
    opt:step()
    near(un, gan.minimax.g(D(fake)):item(), 1e-5, spec.name)
    lg.no_grad(function()
      for i, p in ipairs(D:parameters()) do p:copy_(saved[i]) end
    end)
  end
end)
