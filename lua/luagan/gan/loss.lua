-- luagan.gan.loss: GAN objectives as values (part of luagan.gan).
--
-- A loss is a table {name, d = function(real_logits, fake_logits), g =
-- function(fake_logits)} whose functions return scalar tensors to MINIMISE.
-- "Logits" are the raw outputs of D (no sigmoid); every loss reduces with the
-- mean over all elements, so D may output [N] or [N, 1].
--
-- Sign conventions.  D's losses are the NEGATED value functions of the papers
-- (the papers maximise over D, we minimise).  WGAN follows Arjovsky et al.'s
-- paper and Gulrajani et al.: the critic minimises E[D(fake)] - E[D(real)], so
-- -loss_d estimates the Wasserstein distance; the reference PyTorch code of
-- Arjovsky et al. flips the critic's sign (f_code = -f_paper), which changes
-- nothing but the printed numbers.
local util = require "luagan.util"

local sorted_keys = util.sorted_keys

local gan = {}

local function mean(x) return x:mean() end
local function softplus(x) return x:softplus() end   -- log(1 + e^x), stable for any x

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

return gan
