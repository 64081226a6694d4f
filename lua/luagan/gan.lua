-- luagan.gan: GAN objectives and training schedules as plain Lua values.
--
-- A loss is a table {name, d = function(real_logits, fake_logits), g =
-- function(fake_logits)} whose functions return scalar tensors to MINIMISE.
-- "Logits" are the raw outputs of D (no sigmoid); every loss reduces with the
-- mean over all elements, so D may output [N] or [N, 1].  A new objective is
-- a few lines:
--
--   local my = lg.gan.Loss("relativistic", function(r, f) ... end, function(f) ... end)
--
-- A schedule is a value too: sched(it) is the number of D steps before the
-- it-th generator step (it counts from 1), sched.simultaneous marks the
-- simultaneous-update scheme.  gan.step runs one generator iteration of any
-- of them, optionally with a gradient penalty, weight clipping or an unrolled
-- D (Metz et al. 2017).  Everything here is composed of tensor ops: no Lua
-- loop touches tensor elements.
--
-- Sign conventions.  D's losses are the NEGATED value functions of the papers
-- (the papers maximise over D, we minimise).  WGAN follows Arjovsky et al.'s
-- paper and Gulrajani et al.: the critic minimises E[D(fake)] - E[D(real)], so
-- -loss_d estimates the Wasserstein distance; the reference PyTorch code of
-- Arjovsky et al. flips the critic's sign (f_code = -f_paper), which changes
-- nothing but the printed numbers.
local lg = require "luagan"
local util = require "luagan.util"

local sorted_keys = util.sorted_keys

local gan = {}

-- {====================================================== helpers

local function mean(x) return x:mean() end
local function softplus(x) return x:softplus() end   -- log(1 + e^x), stable for any x

local function check_tensor(op, what, x)
  if not lg.is_tensor(x) then
    error(("%s: %s must be a tensor, got %s"):format(op, what, type(x)), 3)
  end
end


local options = util.options

-- a tensor stands for itself; a function is called for a fresh batch
local function source(op, what, v)
  if lg.is_tensor(v) then return function() return v end end
  if type(v) == "function" then return v end
  error(("%s: %s must be a tensor or a function returning one, got %s"):format(op, what,
        type(v)), 3)
end

local NONE = {}   -- the "no value" marker for required options

-- }======================================================

-- {====================================================== losses

local LossMT = {}
LossMT.__index = LossMT
LossMT.__tostring = function(self) return "gan.Loss(" .. self.name .. ")" end

--- gan.Loss(name, d, g) -> Loss
-- Makes a GAN objective: a table {name =, d =, g =} with d(real_logits,
-- fake_logits) -> D's loss and g(fake_logits) -> G's loss, both scalar
-- tensors to minimise.  Logits are D's raw outputs (no sigmoid); reduce with
-- the mean so that D may output [N] or [N,1].  Every loss of lg.gan is made
-- this way, and gan.step, gan.unrolled_g_loss and the experiments take any.
-- Shapes: real_logits [N] or [N,1], fake_logits the same -> scalar tensors.
-- @usage local rel = gan.Loss("relativistic", function(r, f) return (f - r):softplus():mean() end, function(f) return (-f):softplus():mean() end)
function gan.Loss(name, d, g)
  if type(name) ~= "string" or type(d) ~= "function" or type(g) ~= "function" then
    error("gan.Loss: expected (name, d function, g function)", 2)
  end
  return setmetatable({name = name, d = d, g = g}, LossMT)
end

-- Goodfellow et al. 2014, eq. 1: min_G max_D E[log D(x)] + E[log(1 - D(G(z)))]
-- with D = sigmoid(s).  D minimises the negated value
--   -log sigmoid(s_r) - log(1 - sigmoid(s_f)) = softplus(-s_r) + softplus(s_f),
-- i.e. BCE(s_r, 1) + BCE(s_f, 0).  G minimises the value's second term itself,
--   log(1 - sigmoid(s_f)) = -softplus(s_f)          (the saturating G loss).
-- Its gradient w.r.t. s_f, -sigmoid(s_f), vanishes when D confidently rejects
-- the samples: the saturation of sec. 3.
local function d_bce(real, fake)
  return mean(softplus(-real)) + mean(softplus(fake))
end

--- gan.minimax: Loss
-- The objective of Goodfellow et al. 2014, eq. 1, min_G max_D
-- E[log D(x)] + E[log(1 - D(G(z)))] with D = sigmoid(s): D minimises
-- softplus(-s_real) + softplus(s_fake) (BCE with targets 1 and 0), G
-- minimises log(1 - D(G(z))) = -softplus(s_fake), the saturating loss whose
-- gradient vanishes when D rejects the samples (sec. 3).  Also gan.losses.saturating.
-- @usage local lossD = gan.minimax.d(D(real), D(fake:detach()))
gan.minimax = gan.Loss("minimax", d_bce, function(fake)
  return -mean(softplus(fake))
end)

--- gan.non_saturating: Loss
-- Goodfellow et al. 2014, sec. 3: "train G to maximize log D(G(z))", i.e.
-- minimise -log sigmoid(s_f) = softplus(-s_f) = BCE(s_f, 1).  Same fixed point,
-- gradient -sigmoid(-s_f) -> -1 where D rejects the samples.  D as minimax.
-- The usual choice; also gan.losses.ns.
-- @usage local lossG = gan.non_saturating.g(D(G(z)))
gan.non_saturating = gan.Loss("non_saturating", d_bce, function(fake)
  return mean(softplus(-fake))
end)

--- gan.wasserstein: Loss
-- Arjovsky et al. 2017, Algorithm 1 (lines 5 and 10) / Gulrajani et al. 2017,
-- eq. 3 without the penalty: the critic maximises E[f(x)] - E[f(G(z))], so it
-- minimises E[D(fake)] - E[D(real)]; G minimises -E[D(fake)].  Pair it with
-- weight clipping (gan.step{clip = 0.01}) or gan.gradient_penalty; -loss.d
-- is the critic's estimate of the Wasserstein-1 distance.
-- @usage local w1 = -gan.wasserstein.d(D(real), D(fake)):item()
gan.wasserstein = gan.Loss("wasserstein",
  function(real, fake) return mean(fake) - mean(real) end,
  function(fake) return -mean(fake) end)

--- gan.hinge: Loss
-- Hinge loss (Lim and Ye 2017, "Geometric GAN"; as used by Miyato et al. 2018):
-- D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))].
-- @usage gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.hinge, real = x, z = z}
gan.hinge = gan.Loss("hinge",
  function(real, fake) return mean((1 - real):relu()) + mean((1 + fake):relu()) end,
  function(fake) return -mean(fake) end)

--- gan.least_squares(a, b, c) -> Loss
-- Least squares GAN, Mao et al. 2017, eq. 2 (a-b-c coding; D has no sigmoid):
--   min_D 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
--   min_G 1/2 E[(D(G(z)) - c)^2]
-- a labels fake data, b real data, c is what G wants D to say about fakes.
-- Sec. 3.2 (parameter selection): b - c = 1 and b - a = 2 make G minimise the
-- Pearson chi^2 divergence, e.g. a = -1, b = 1, c = 0 (printed as eq. 8);
-- c = b gives the 0-1 coding a = 0, b = c = 1 (eq. 9), which the paper uses
-- for its experiments.  (The two schemes are verified against third-party
-- transcriptions and the authors' code; the equation numbers are from the
-- arXiv version and were not re-checked here.)
-- Also gan.least_squares{a = , b = , c = }.
-- @usage local chi2 = gan.least_squares(-1, 1, 0)
function gan.least_squares(a, b, c)
  if type(a) == "table" then a, b, c = a.a, a.b, a.c end
  if type(a) ~= "number" or type(b) ~= "number" or type(c) ~= "number" then
    error("gan.least_squares: a, b and c must be numbers", 2)
  end
  return gan.Loss(("least_squares(a=%g,b=%g,c=%g)"):format(a, b, c),
    function(real, fake)
      return mean((real - b) ^ 2) * 0.5 + mean((fake - a) ^ 2) * 0.5
    end,
    function(fake) return mean((fake - c) ^ 2) * 0.5 end)
end

--- gan.lsgan: Loss
-- LSGAN with the 0-1 coding a = 0, b = c = 1 (Mao et al. 2017, eq. 9), the
-- paper's choice for its experiments: gan.least_squares(0, 1, 1).
-- @usage local lossD = gan.lsgan.d(D(real), D(fake:detach()))
gan.lsgan = gan.least_squares(0, 1, 1)          -- 0-1 coding (eq. 9), the paper's choice

--- gan.lsgan_chi2: Loss
-- LSGAN with a = -1, b = 1, c = 0 (Mao et al. 2017, eq. 8): b - c = 1 and
-- b - a = 2 make G minimise the Pearson chi^2 divergence (sec. 3.2).
-- @usage local lossG = gan.lsgan_chi2.g(D(G(z)))
gan.lsgan_chi2 = gan.least_squares(-1, 1, 0)    -- Pearson chi^2 scheme (eq. 8)

--- gan.losses: table
-- Name -> Loss for command-line flags (--loss hinge): minimax (alias
-- saturating), non_saturating (ns), wasserstein (wgan), hinge, lsgan
-- (least_squares), lsgan_chi2.  gan.loss(name) looks names up with an error
-- listing the valid ones.
-- @usage for name, l in pairs(gan.losses) do print(name, l) end
gan.losses = {
  minimax = gan.minimax, saturating = gan.minimax,
  non_saturating = gan.non_saturating, ns = gan.non_saturating,
  wasserstein = gan.wasserstein, wgan = gan.wasserstein,
  hinge = gan.hinge,
  lsgan = gan.lsgan, least_squares = gan.lsgan,
  lsgan_chi2 = gan.lsgan_chi2,
}

--- gan.loss(name) -> Loss
-- The loss called name in gan.losses ("hinge", "wgan", ...); a Loss value
-- passes through unchanged, so functions taking a loss accept either.  An
-- unknown name is an error listing the valid ones.
-- @usage local loss = gan.loss(cfg.loss)
function gan.loss(name)
  if getmetatable(name) == LossMT then return name end
  local l = gan.losses[name]
  if not l then
    error(("gan.loss: unknown loss '%s' (valid: %s)"):format(tostring(name),
      table.concat(sorted_keys(gan.losses), ", ")), 2)
  end
  return l
end

-- }======================================================

-- {====================================================== gradient penalty

-- Per-sample L2 norm of g [N, ...] -> [N].  sqrt(s + 1e-12): the derivative of
-- sqrt is infinite at 0, and a zero gradient (a dead critic) must give a
-- finite penalty gradient; the shift changes the norm by at most 1e-6.
local function per_sample_norm(g)
  return ((g * g):reshape(g:size(1), -1):sum(2) + 1e-12):sqrt()
end

--- gan.gradient_penalty(D, real, fake [, opts]) -> Tensor, number
-- WGAN-GP, Gulrajani et al. 2017, eq. 3:
--   lambda * E_xhat[(||grad_xhat D(xhat)||_2 - 1)^2],  xhat = eps x + (1 - eps) x~,
-- eps ~ U[0, 1] per sample.  The gradient is taken with create_graph, so the
-- returned penalty trains D when added to its loss.  real and fake are
-- detached here (the penalty trains D only).
-- opts: lambda (10, the paper's value), center (1; 0 gives a zero-centred
--       penalty), eps (a given [N] or [N,1,...] tensor instead of U[0, 1]).
-- Returns the penalty (scalar tensor) and the mean gradient norm (a number,
-- for logging: WGAN-GP keeps it near `center`).
-- Shapes: real and fake [N, ...] (the same shape), D(x) [N] or [N,1].
-- @usage local gp, norm = gan.gradient_penalty(D, real, fake, {lambda = 10})
function gan.gradient_penalty(D, real, fake, opts)
  check_tensor("gradient_penalty", "real", real)
  check_tensor("gradient_penalty", "fake", fake)
  local o = options("gradient_penalty", opts, {lambda = 10, center = 1, eps = NONE})
  local n = real:size(1)
  if table.concat(real.shape, ",") ~= table.concat(fake.shape, ",") then
    error(("gradient_penalty: real [%s] and fake [%s] differ in shape"):format(
      table.concat(real.shape, ","), table.concat(fake.shape, ",")), 2)
  end
  local bshape = {n}
  for i = 2, real:dim() do bshape[i] = 1 end
  local eps = o.eps ~= NONE and o.eps:reshape(bshape) or lg.rand(bshape)
  local xhat = (real:detach() * eps + fake:detach() * (1 - eps)):detach()
  xhat.requires_grad = true
  local g = lg.grad(D(xhat):sum(), xhat, {create_graph = true})
  local norm = per_sample_norm(g)
  local penalty = ((norm - o.center) ^ 2):mean() * o.lambda
  return penalty, lg.no_grad(function() return norm:mean():item() end)
end

-- }======================================================

-- {====================================================== schedules

local ScheduleMT = {}
ScheduleMT.__index = ScheduleMT
ScheduleMT.__call = function(self, it) return self.d_steps(it) end
ScheduleMT.__tostring = function(self) return "gan.schedule(" .. self.name .. ")" end

local function schedule(name, d_steps, simultaneous)
  return setmetatable({name = name, d_steps = d_steps, simultaneous = simultaneous or false},
                      ScheduleMT)
end

gan.schedule = {}

--- gan.schedule.alternating([k]) -> schedule
-- k discriminator steps per generator step (Goodfellow et al. 2014,
-- Algorithm 1; "we used k = 1"); k defaults to 1.  A schedule is called with
-- the generator iteration (from 1) and returns the number of D steps.
-- @usage local sched = gan.schedule.alternating(5); print(sched(1))
function gan.schedule.alternating(k)
  k = k or 1
  if math.type(k) ~= "integer" or k < 0 then
    error("schedule.alternating: k must be an integer >= 0, got " .. tostring(k), 2)
  end
  return schedule("alternating(" .. k .. ")", function() return k end)
end

--- gan.schedule.wgan([n_critic] [, opts]) -> schedule
-- WGAN's critic schedule (Arjovsky et al. 2017, Algorithm 1 with n_critic = 5,
-- plus the warm-up of the authors' main.py, which their README says the
-- paper forgot): 100 critic iterations for the first 25 generator iterations
-- and every 500th, else n_critic.  The code reads
--   if gen_iterations < 25 or gen_iterations % 500 == 0: Diters = 100
-- with gen_iterations the number of generator steps done so far (from 0).
-- Here `it` counts generator iterations from 1 (it = gen_iterations + 1), so
-- the warm-up covers it = 1..25 and it = 501, 1001, ... (not 500).
-- opts: warmup (25), every (500), warmup_steps (100).
-- @usage local sched = gan.schedule.wgan(5); print(sched(1), sched(26), sched(501))
function gan.schedule.wgan(n_critic, opts)
  n_critic = n_critic or 5
  local o = options("schedule.wgan", opts, {warmup = 25, every = 500, warmup_steps = 100})
  return schedule(("wgan(%d)"):format(n_critic), function(it)
    local done = it - 1
    if done < o.warmup or (o.every > 0 and done % o.every == 0) then return o.warmup_steps end
    return n_critic
  end)
end

--- gan.schedule.simultaneous() -> schedule
-- Simultaneous updates: D's and G's gradients come from the same forward pass
-- at the same parameters, then both take a step (the reference code of the
-- LSGAN and unrolled-GAN toy experiments updates both in one sess.run).
-- The schedule's field simultaneous is true; gan.step acts on it.
-- @usage gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.lsgan, real = x, z = z, schedule = gan.schedule.simultaneous()}
function gan.schedule.simultaneous()
  return schedule("simultaneous", function() return 1 end, true)
end

-- }======================================================

-- {====================================================== functional parameters

-- D's distinct parameter tensors with the (module, field) slots holding them,
-- in D:parameters() order.
local function param_slots(D)
  local params, index, slots = {}, {}, {}
  for _, m in ipairs(D:modules()) do
    local seen = {}
    for _, k in ipairs(rawget(m, "_order")) do
      local v = rawget(m, k)
      if not seen[k] and lg.is_tensor(v) and not m._buffers[k] and v.requires_grad then
        seen[k] = true
        if not index[v] then
          params[#params + 1] = v
          index[v] = #params
        end
        slots[#slots + 1] = {m, k, index[v]}
      end
    end
  end
  return params, slots
end

--- gan.with_parameters(module, values, fn, ...) -> ...
-- Calls fn(...) with the module's parameters (the list gan.parameters(module)
-- returns, same order) replaced by the tensors in values, which may carry a
-- graph, and returns fn's results; the original fields are restored
-- afterwards, also when fn raises.  This is how an unrolled D runs with
-- parameters that are functions of G's parameters.
-- @usage local out = gan.with_parameters(D, new_params, function() return D(x) end)
function gan.with_parameters(module, values, fn, ...)
  local params, slots = param_slots(module)
  if #values ~= #params then
    error(("with_parameters: %d tensors given for %d parameters"):format(#values, #params), 2)
  end
  for _, s in ipairs(slots) do rawset(s[1], s[2], values[s[3]]) end
  local res = table.pack(pcall(fn, ...))
  for _, s in ipairs(slots) do rawset(s[1], s[2], params[s[3]]) end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

--- gan.parameters(module) -> {Tensor, ...}
-- The module's distinct parameters (a tensor shared by two layers once), in
-- the order gan.with_parameters expects; the same set as module:parameters().
-- @usage local theta = gan.parameters(D)
function gan.parameters(module) return (param_slots(module)) end

-- One optimiser update written with differentiable tensor ops, mirroring
-- lg.optim's fused kernels (PyTorch's formulas) so that unrolling one step
-- reproduces opt:step().  state[i] = {step =, exp_avg =, ...} as in
-- Optimizer.state; returns the new parameters and the new state.
--   Adam:    m = b1 m + (1-b1) d;  v = b2 v + (1-b2) d^2;
--            p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
--   SGD:     buf = d (first step) | mu buf + (1-dampening) d;  p - lr (d + mu buf | buf)
--   RMSprop: s = a s + (1-a) d^2;  p - lr d / (sqrt(s [- g_avg^2]) + eps)  (+ momentum)
-- with d = grad + weight_decay * p.  sqrt(v + 1e-30) instead of sqrt(v): the
-- same value in float32 unless v is 0, where it keeps the second-order
-- gradient finite (sqrt's derivative is infinite at 0).
local function safe_sqrt(v) return (v + 1e-30):sqrt() end

local updaters = {}

function updaters.Adam(c, p, g, st)
  local b1, b2 = c.betas[1], c.betas[2]
  local d = c.weight_decay ~= 0 and g + p * c.weight_decay or g
  local t = st.step + 1
  local m = st.exp_avg * b1 + d * (1 - b1)
  local v = st.exp_avg_sq * b2 + d * d * (1 - b2)
  local bc1, bc2 = 1 - b1 ^ t, 1 - b2 ^ t
  local denom = safe_sqrt(v) / math.sqrt(bc2) + c.eps
  return p - m / denom * (c.lr / bc1), {step = t, exp_avg = m, exp_avg_sq = v}
end

function updaters.SGD(c, p, g, st)
  local d = c.weight_decay ~= 0 and g + p * c.weight_decay or g
  local t = st.step + 1
  if c.momentum == 0 then return p - d * c.lr, {step = t} end
  local buf = st.step == 0 and d or st.momentum_buffer * c.momentum + d * (1 - c.dampening)
  local dir = c.nesterov and d + buf * c.momentum or buf
  return p - dir * c.lr, {step = t, momentum_buffer = buf}
end

function updaters.RMSprop(c, p, g, st)
  local d = c.weight_decay ~= 0 and g + p * c.weight_decay or g
  local a = c.alpha
  local new = {step = st.step + 1}
  new.square_avg = st.square_avg * a + d * d * (1 - a)
  local var = new.square_avg
  if c.centered then
    new.grad_avg = st.grad_avg * a + d * (1 - a)
    var = (var - new.grad_avg * new.grad_avg):relu()
  end
  local step = d / (safe_sqrt(var) + c.eps)
  if c.momentum > 0 then
    step = st.momentum_buffer * c.momentum + step
    new.momentum_buffer = step
  end
  return p - step * c.lr, new
end

-- fresh state of an optimiser spec {name = "Adam", lr = ...} for the given params
local function fresh_state(name, params)
  local st = {}
  for i, p in ipairs(params) do
    local z = function() return lg.zeros(p.shape) end
    st[i] = {step = 0, exp_avg = z(), exp_avg_sq = z(), momentum_buffer = z(),
             square_avg = z(), grad_avg = z()}
  end
  return st
end

local defaults = {
  Adam = {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0},
  SGD = {lr = 1e-2, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false},
  RMSprop = {lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0,
             centered = false},
}

-- (config, per-parameter state) of the optimiser to unroll: a lg.optim
-- optimiser over exactly these parameters (its current moments and step
-- count are the starting point, as in the reference notebook, where the
-- unrolled Adam updates start from D's optimiser variables), or a spec
-- {name = "Adam" | "SGD" | "RMSprop", lr = ..., ...} starting from zero state.
local function unroll_optimizer(opt, params)
  if type(opt) ~= "table" then
    error("unrolled: 'opt' must be a lg.optim optimiser of D or a spec {name = 'Adam', lr = ...}", 3)
  end
  local name = opt.name
  if not updaters[name] then
    error(("unrolled: optimiser '%s' cannot be unrolled (Adam, SGD, RMSprop)"):format(
      tostring(name)), 3)
  end
  if opt.config then   -- a lg.optim optimiser
    local pos = {}
    for i, p in ipairs(opt.params) do pos[p] = i end
    local state = {}
    for i, p in ipairs(params) do
      local j = pos[p]
      if not j then error("unrolled: the optimiser does not hold all of D's parameters", 3) end
      state[i] = opt.state[j]
    end
    return opt.config, state
  end
  local c = {}
  for k, v in pairs(defaults[name]) do c[k] = v end
  for k, v in pairs(opt) do
    if k ~= "name" then
      if defaults[name][k] == nil then
        error(("unrolled: unknown %s option '%s'"):format(name, tostring(k)), 3)
      end
      c[k] = v
    end
  end
  return c, fresh_state(name, params)
end

-- }======================================================

-- {====================================================== unrolled GAN

-- G's objective at the unrolled parameters, from D's logits there (s_r on
-- the real batch, s_f on the fakes).  Metz et al. 2017, sec. 2.2: G
-- minimises f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)),
-- f the whole value function E log D(x) + E log(1 - D(G(z))); the authors'
-- notebook minimises -loss_d at theta_D^K.  E log D_K(x) depends on theta_G
-- through theta_D^K (every unrolled D gradient saw G's fakes), so "full" keeps
-- it: G's own fake term loss.g(s_f) plus the real term of -loss.d, taken
-- relative to logit 0 so that the fake term needs no splitting out of loss.d:
--   loss.g(s_f) - (loss.d(s_r, 0) - loss.d(0, 0)) = loss.g(s_f) - (l_r(s_r) - l_r(0))
-- for a loss.d = l_r(real) + l_f(fake).  For gan.minimax this is f_K + log 2
-- (-loss.d at theta_D^K plus a constant), for gan.wasserstein exactly
-- -loss.d; for a non-zero-sum G loss (ns, hinge, lsgan) it is G's loss with
-- the real term of f_K added, which the paper leaves undefined (it unrolls
-- the minimax value only).  "fake_only" drops the real term: loss.g(s_f),
-- the surrogate of several reimplementations; its gradient misses the
-- d E log D_K(x) / d theta_G part.
local g_objectives = {
  full = function(loss, s_r, s_f)
    local zr, zf = lg.zeros(s_r.shape), lg.zeros(s_f.shape)
    return loss.g(s_f) - (loss.d(s_r, zf) - loss.d(zr, zf))
  end,
  fake_only = function(loss, _, s_f) return loss.g(s_f) end,
}

--- gan.unrolled_g_loss(t) -> Tensor
-- Metz et al. 2017, sec. 2.2: the surrogate generator loss
--   f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)),
--   theta_D^0 = theta_D,  theta_D^{k+1} = theta_D^k + eta^k df(theta_G, theta_D^k)/dtheta_D^k
-- (the update written for the optimiser D really uses).  Its gradient w.r.t.
-- theta_G has the extra term df/dtheta_D^K * dtheta_D^K/dtheta_G: how D would
-- react to a change of G.  The K updates run on graph-carrying copies of D's
-- parameters (gan.with_parameters), differentiated to second order through
-- the optimiser's moments; D itself, its optimiser state and its buffers
-- (batch-norm statistics) are left as they were.  K = 0 is the plain G loss.
-- Only G uses this loss; D keeps its ordinary update.
-- t: G, D, loss, real (tensor), z (tensor) or fake (G's output, with graph),
--    K, opt (D's lg.optim optimiser or a spec), second_order (true; false
--    blocks the gradient through the unrolled updates: a first-order
--    diagnostic that tells what the second-order term contributes),
--    objective ("full", default: the whole f at theta_D^K, its real-data
--    term E log D_K(x) included, which depends on G through the unrolled
--    updates; the value is loss.g(D_K(fake)) - (l_r(D_K(real)) - l_r(0)) with
--    l_r loss.d's real-data term, f_K + log 2 for gan.minimax.  "fake_only":
--    loss.g(D_K(fake)) alone, the reimplementations' surrogate).
-- Returns the unrolled G loss (a scalar tensor; take its gradient w.r.t. G's
-- parameters with lg.grad: a backward() would also fill D's .grad).
-- @usage local l = gan.unrolled_g_loss{G = G, D = D, loss = gan.non_saturating, real = x, z = z, K = 5, opt = optD}
function gan.unrolled_g_loss(t)
  local o = options("unrolled_g_loss", t, {G = NONE, D = NONE, loss = NONE, real = NONE,
    z = NONE, fake = NONE, K = NONE, opt = NONE, second_order = true, objective = "full"})
  for _, k in ipairs{"D", "loss", "real", "K"} do
    if o[k] == NONE then error("unrolled_g_loss: '" .. k .. "' is required", 2) end
  end
  local loss, D, K = gan.loss(o.loss), o.D, o.K
  if math.type(K) ~= "integer" or K < 0 then
    error("unrolled_g_loss: K must be an integer >= 0, got " .. tostring(K), 2)
  end
  local objective = g_objectives[o.objective]
  if not objective then
    error(("unrolled_g_loss: objective must be 'full' or 'fake_only', got '%s'"):format(
      tostring(o.objective)), 2)
  end
  local fake = o.fake
  if fake == NONE then
    if o.G == NONE or o.z == NONE then error("unrolled_g_loss: give 'fake', or 'G' and 'z'", 2) end
    fake = o.G(o.z)
  end
  if K == 0 then return loss.g(D(fake)) end
  if o.opt == NONE then error("unrolled_g_loss: 'opt' is required when K > 0", 2) end
  local params = gan.parameters(D)
  local config, state = unroll_optimizer(o.opt, params)
  local update = updaters[o.opt.name]
  -- batch-norm running statistics move on every forward in training mode
  local saved = {}
  for name, v in pairs(D:state_dict()) do
    if not v.requires_grad then saved[name] = v:clone() end
  end
  local real = o.real
  local ok, res = pcall(function()
    local theta = params
    for _ = 1, K do
      local lossD = gan.with_parameters(D, theta, function() return loss.d(D(real), D(fake)) end)
      local grads = lg.grad(lossD, theta, {create_graph = o.second_order})
      local nt, ns = {}, {}
      for i = 1, #theta do nt[i], ns[i] = update(config, theta[i], grads[i], state[i]) end
      theta, state = nt, ns
    end
    return gan.with_parameters(D, theta, function()
      return objective(loss, D(real), D(fake))
    end)
  end)
  local live = D:state_dict()
  lg.no_grad(function()
    for name, v in pairs(saved) do live[name]:copy_(v) end
  end)
  if not ok then error(res, 0) end
  return res
end

-- }======================================================

-- {====================================================== PacGAN

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
  local nn = require "luagan.nn"
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

-- }======================================================

-- {====================================================== training steps

local function item(x) return lg.is_tensor(x) and x:item() or x end

-- loss:backward() for a list of parameters only: their .grad is replaced
local function set_grads(params, loss, retain)
  local gs = lg.grad(loss, params, {retain_graph = retain or false})
  for i, p in ipairs(params) do p.grad = gs[i] end
end

-- D's loss (+ penalty) on a real batch and a fake batch; returns total,
-- D loss, penalty (or nil), mean gradient norm (or nil)
local function d_objective(loss, D, real, fake, gp)
  local lossD = loss.d(D(real), D(fake))
  if not gp then return lossD, lossD end
  local penalty, norm = gan.gradient_penalty(D, real, fake, gp)
  return lossD + penalty, lossD, penalty, norm
end

local function gp_opts(gp)
  if gp == nil or gp == false then return nil end
  if type(gp) == "number" then return {lambda = gp} end
  if type(gp) == "table" then return gp end
  error("step: gp must be a number (lambda) or a table of gradient_penalty options", 3)
end

--- gan.step(t) -> table
-- gan.step{G =, D =, optG =, optD =, loss =, real =, z =, ...}: one generator
-- iteration: schedule(it) D steps, then one G step (or one simultaneous
-- update).  real and z are tensors (reused) or functions returning a fresh
-- batch (each D step draws its own, as in the reference code).
-- Options: it (generator iteration, from 1; default 1), schedule
-- (gan.schedule.alternating(1)), gp (lambda or gradient_penalty options),
-- clip (c: D's parameters are clamped to [-c, c] before each D step, the
-- order of Arjovsky et al.'s code), unroll (K, with optD's optimiser,
-- second_order and unroll_objective = "full" | "fake_only", the objective
-- option of gan.unrolled_g_loss).
-- Returns {d = D loss (last D step, penalty excluded), g = G loss, gp =
-- penalty, grad_norm = mean critic gradient norm at the interpolates, d_steps}.
-- @usage local r = gan.step{G = G, D = D, optG = optG, optD = optD, loss = gan.wasserstein, real = function() return loader:next() end, z = function() return lg.randn(64, 100) end, gp = 10, it = it, schedule = gan.schedule.alternating(5)}
function gan.step(t)
  local o = options("step", t, {G = NONE, D = NONE, optG = NONE, optD = NONE, loss = NONE,
    real = NONE, z = NONE, it = 1, schedule = NONE, gp = false, clip = false, unroll = 0,
    second_order = true, unroll_objective = "full"})
  for _, k in ipairs{"G", "D", "optG", "optD", "loss", "real", "z"} do
    if o[k] == NONE then error("step: '" .. k .. "' is required", 2) end
  end
  local G, D, optG, optD, loss = o.G, o.D, o.optG, o.optD, gan.loss(o.loss)
  local sched = o.schedule ~= NONE and o.schedule or gan.schedule.alternating(1)
  local real_of, z_of = source("step", "real", o.real), source("step", "z", o.z)
  local gp = gp_opts(o.gp)
  local Dparams, Gparams = optD.params, optG.params
  local function clip()
    if o.clip then lg.clip_(Dparams, -o.clip, o.clip) end
  end
  local function g_loss(real, fake)
    if o.unroll > 0 then
      return gan.unrolled_g_loss{D = D, loss = loss, real = real, fake = fake, K = o.unroll,
                                 opt = optD, second_order = o.second_order,
                                 objective = o.unroll_objective}
    end
    return loss.g(D(fake))
  end
  local out = {}

  if sched.simultaneous then
    clip()
    local real, fake = real_of(), G(z_of())
    local lossG
    if o.unroll > 0 then lossG = g_loss(real, fake) end
    local d_fake = D(fake)
    local lossD = loss.d(D(real), d_fake)
    if not lossG then lossG = loss.g(d_fake) end
    local total = lossD
    if gp then
      local penalty, norm = gan.gradient_penalty(D, real, fake, gp)
      total, out.gp, out.grad_norm = lossD + penalty, item(penalty), norm
    end
    set_grads(Dparams, total, true)     -- both gradients before either step
    set_grads(Gparams, lossG)
    optD:step()
    optG:step()
    out.d, out.g, out.d_steps = item(lossD), item(lossG), 1
    return out
  end

  local k = sched(o.it)
  for _ = 1, k do
    clip()
    local real = real_of()
    local fake = lg.no_grad(function() return G(z_of()) end)
    local total, lossD, penalty, norm = d_objective(loss, D, real, fake, gp)
    optD:zero_grad()
    total:backward()
    optD:step()
    out.d, out.gp, out.grad_norm = item(lossD), item(penalty), norm
  end
  local lossG = g_loss(o.unroll > 0 and real_of() or nil, G(z_of()))
  set_grads(Gparams, lossG)
  optG:step()
  out.g, out.d_steps = item(lossG), k
  return out
end

-- }======================================================

-- {====================================================== MRGAN / MDGAN

-- Che et al. 2017 (Mode Regularized GANs), sec. 3 (equation numbers not
-- verified here).  With an encoder E: X -> Z, G(E(x)) is an autoencoder and
--   T_G = -E_z[log D(G(z))] + E_x[lambda1 d(x, G(E(x))) + lambda2 * MODE(x)]
--   T_E =                     E_x[lambda1 d(x, G(E(x))) + lambda2 * MODE(x)]
-- D keeps the unregularised GAN loss.
gan.mrgan = {}

local distances = {
  -- mean over all elements of (x - y)^2: the reimplementations' choice
  mse = function(x, y) return lg.mse(y, x) end,
  -- per-sample squared L2 norm ||x - y||^2, averaged over the batch
  sse = function(x, y) return ((x - y) ^ 2):reshape(x:size(1), -1):sum(2):mean() end,
}

local function distance_fn(d)
  if type(d) == "function" then return d end
  local f = distances[d or "mse"]
  if not f then
    error(("mrgan: unknown distance '%s' (valid: mse, sse, or a function)"):format(tostring(d)), 3)
  end
  return f
end

--- gan.mrgan.geometric(x, recon [, lambda1] [, distance]) -> Tensor
-- The geometric regulariser of Che et al. 2017 (sec. 3),
-- lambda1 * d(x, G(E(x))): d is a pixel-space L2 in the paper; distance
-- "mse" (default: the mean over all elements), "sse" (per-sample squared L2,
-- averaged) or a function(x, recon).  lambda1 defaults to 0.2.
-- Shapes: x and recon [N, ...] -> scalar.
-- @usage local geo = gan.mrgan.geometric(x, G(E(x)), 0.2)
function gan.mrgan.geometric(x, recon, lambda1, distance)
  check_tensor("mrgan.geometric", "x", x)
  check_tensor("mrgan.geometric", "recon", recon)
  return distance_fn(distance)(x, recon) * (lambda1 or 0.2)
end

--- gan.mrgan.mode(recon_logits [, lambda2]) -> Tensor
-- The mode regulariser of Che et al. 2017, from D's logits on G(E(x)):
-- lambda2 * softplus(-s) = -lambda2 log D(G(E(x))), lambda2 defaulting to 0.4.
-- Shapes: recon_logits [N] or [N,1] -> scalar.
--
-- SIGN.  The paper prints "+ lambda2 log D(G(E(x)))" inside objectives that
-- G and E minimise; taken literally that drives D(G(E(x))) to 0, i.e. pushes
-- the reconstructions towards what D calls fake, against the paper's stated
-- purpose: G(E(x)) lies near the data point x, including x from modes G
-- misses, and rewarding D for judging it real pulls G's mass onto those
-- modes (mode coverage).  We therefore minimise
--   -lambda2 * log D(G(E(x))) = lambda2 * softplus(-s)
-- (the non-saturating form, like T_G's first term).  Reimplementations
-- disagree (+lambda2 D(.) without log; lambda2 BCE(., 0)).  The gradient
-- w.r.t. the logits is negative: G and E are pushed to make D(G(E(x))) larger.
-- @usage local mode = gan.mrgan.mode(D(G(E(x))), 0.4)
function gan.mrgan.mode(recon_logits, lambda2)
  check_tensor("mrgan.mode", "recon_logits", recon_logits)
  return mean(softplus(-recon_logits)) * (lambda2 or 0.4)
end

--- gan.mrgan.step(t) -> table
-- One Reg-GAN iteration: a D step with the plain loss on x vs G(z), then one
-- step of G and E on T_G (T_E is T_G without its first term, which does not
-- depend on E, so one gradient of T_G serves both).
-- t: G, E, D, optG, optE, optD, loss (non_saturating), real, z (tensors or
--    functions), lambda1 (0.2), lambda2 (0.4), distance ("mse").
-- lambda1 = 0.2, lambda2 = 0.4 are the MNIST values a reimplementation
-- attributes to the paper's sec. 4.1.1 (not verified against the paper).
-- Returns {d =, g =, geometric =, mode =} as numbers.
-- @usage local r = gan.mrgan.step{G = G, E = E, D = D, optG = optG, optE = optE, optD = optD, real = x, z = z}
function gan.mrgan.step(t)
  local o = options("mrgan.step", t, {G = NONE, E = NONE, D = NONE, optG = NONE, optE = NONE,
    optD = NONE, loss = gan.non_saturating, real = NONE, z = NONE, lambda1 = 0.2,
    lambda2 = 0.4, distance = "mse"})
  for _, k in ipairs{"G", "E", "D", "optG", "optE", "optD", "real", "z"} do
    if o[k] == NONE then error("mrgan.step: '" .. k .. "' is required", 2) end
  end
  local G, E, D, loss = o.G, o.E, o.D, gan.loss(o.loss)
  local real_of, z_of = source("mrgan.step", "real", o.real), source("mrgan.step", "z", o.z)
  local x = real_of()
  local fake = lg.no_grad(function() return G(z_of()) end)
  local lossD = loss.d(D(x), D(fake))
  o.optD:zero_grad()
  lossD:backward()
  o.optD:step()

  local recon = G(E(x))
  local adv = loss.g(D(G(z_of())))
  local geo = gan.mrgan.geometric(x, recon, o.lambda1, o.distance)
  local mode = gan.mrgan.mode(D(recon), o.lambda2)
  local total = adv + geo + mode
  local params, nG = {}, #o.optG.params
  for i, p in ipairs(o.optG.params) do params[i] = p end
  for i, p in ipairs(o.optE.params) do params[nG + i] = p end
  local gs = lg.grad(total, params)
  for i, p in ipairs(params) do p.grad = gs[i] end
  o.optG:step()
  o.optE:step()
  return {d = item(lossD), g = item(adv), geometric = item(geo), mode = item(mode)}
end

--- gan.mdgan_step(t) -> table
-- MDGAN, Che et al. 2017 sec. 3.3 (manifold-diffusion training, two
-- discriminators), one iteration:
--   manifold step:  (1) D1 separates x (real) from G(E(x)) (fake);
--                   (2) G and E minimise lambda * [-log D1(G(E(x)))] + d(x, G(E(x)));
--   diffusion step: (3) D2 separates G(E(x)) (taken as real) from G(z);
--                   (4) G minimises -log D2(G(z)).
-- The manifold step fits G to the data manifold through the autoencoder,
-- the diffusion step spreads G(z)'s mass over what G(E(x)) covers.  The
-- -log D forms are written with `loss` (default non_saturating: loss.d is
-- the D BCE, loss.g is -log D).  lambda = 1e-2 is a reimplementation's
-- default (the paper's value was not verified).  The exact signs of the
-- paper's Algorithm 1 were not retrieved; the ones above follow its intent
-- (each D separates its two sets, G/E fool them).
-- t: G, E, D1, D2, optG, optE, optD1, optD2, loss, real, z, lambda (1e-2),
--    distance ("mse").  Returns {d1, g1, recon, d2, g2} as numbers.
-- @usage local r = gan.mdgan_step{G = G, E = E, D1 = D1, D2 = D2, optG = optG, optE = optE, optD1 = optD1, optD2 = optD2, real = x, z = z}
function gan.mdgan_step(t)
  local o = options("mdgan_step", t, {G = NONE, E = NONE, D1 = NONE, D2 = NONE, optG = NONE,
    optE = NONE, optD1 = NONE, optD2 = NONE, loss = gan.non_saturating, real = NONE,
    z = NONE, lambda = 1e-2, distance = "mse"})
  for _, k in ipairs{"G", "E", "D1", "D2", "optG", "optE", "optD1", "optD2", "real", "z"} do
    if o[k] == NONE then error("mdgan_step: '" .. k .. "' is required", 2) end
  end
  local G, E, D1, D2, loss = o.G, o.E, o.D1, o.D2, gan.loss(o.loss)
  local real_of, z_of = source("mdgan_step", "real", o.real), source("mdgan_step", "z", o.z)
  local dist = distance_fn(o.distance)
  local out = {}

  -- manifold step
  local x = real_of()
  local recon = lg.no_grad(function() return G(E(x)) end)
  local l1 = loss.d(D1(x), D1(recon))
  o.optD1:zero_grad()
  l1:backward()
  o.optD1:step()
  recon = G(E(x))
  local adv1 = loss.g(D1(recon))
  local rec = dist(x, recon)
  local params, nG = {}, #o.optG.params
  for i, p in ipairs(o.optG.params) do params[i] = p end
  for i, p in ipairs(o.optE.params) do params[nG + i] = p end
  local gs = lg.grad(adv1 * o.lambda + rec, params)
  for i, p in ipairs(params) do p.grad = gs[i] end
  o.optG:step()
  o.optE:step()
  out.d1, out.g1, out.recon = item(l1), item(adv1), item(rec)

  -- diffusion step
  x = real_of()
  local target, fake = lg.no_grad(function() return G(E(x)), G(z_of()) end)
  local l2 = loss.d(D2(target), D2(fake))
  o.optD2:zero_grad()
  l2:backward()
  o.optD2:step()
  local adv2 = loss.g(D2(G(z_of())))
  set_grads(o.optG.params, adv2)
  o.optG:step()
  out.d2, out.g2 = item(l2), item(adv2)
  return out
end

-- }======================================================

return gan
