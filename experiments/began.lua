-- began.lua: BEGAN (Berthelot, Schumm and Metz, "BEGAN: Boundary Equilibrium
-- Generative Adversarial Networks", arXiv 1703.10717, 2017).
--
-- An autoencoder D with the pixel-wise L1 loss L(v) = |v - D(v)| (eta = 1):
-- L_D = L(x) - k_t L(G(z_D)), L_G = L(G(z_G)), and the proportional control
-- k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1) that holds
-- L(G(z))/L(x) near gamma (sec. 3.4).  Logs k and the convergence measure
-- M_global = L(x) + |gamma L(x) - L(G(z_G))| (sec. 3.4.1) at every step and
-- the classifier's image metrics at evaluations; summary.txt gives Spearman's
-- rho between M_global and FID over the evaluations.
--
--   luagan experiments/began.lua [--gamma 0.3|0.5|0.7] [--iters N] ... (--help)
--
-- The paper's setup, our scaling and the deviations: experiments/notes/began.md.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim
local ae = require "lib.ae_disc"

local run = lg.experiment{
  name = "began", iters = 3000, batch = 64, dataset = "mnist10k", threads = 1,
  sample_every = 1000, checkpoint_every = 1000,
  gamma = 0.5, lambda_k = 0.001, nz = 64, g_hidden = 256, d_hidden = 256, code = 64,
  g_bn = false, lr = 1e-4, beta1 = 0.5, warmup = 500, eval_every = 250, eval_n = 1000,
  doc = {gamma = "diversity ratio gamma = E L(G(z)) / E L(x) the control aims at (in (0, 1])",
         lambda_k = "gain of the k_t update (the paper: 0.001)",
         nz = "noise dimension (z ~ U[-1, 1])", g_hidden = "G's two hidden layers (ELU)",
         g_bn = "batch normalisation after G's hidden layers (the paper's G has none)",
         d_hidden = "D's hidden layer (encoder and decoder, ELU)", code = "D's code size (N_h)",
         lr = "Adam learning rate (G and D)", beta1 = "Adam beta1",
         warmup = "steps before the equilibrium statistics (ratio_mean, k_inside) start",
         eval_every = "evaluate every N iterations", eval_n = "samples per evaluation",
         dataset = "mnist or mnist10k (the classifier metrics need MNIST)"},
}
local cfg = run.config
if not (cfg.gamma > 0 and cfg.gamma <= 1) then run:fail(("--gamma must be in (0, 1], got %g"):format(cfg.gamma)) end
if cfg.lambda_k < 0 then run:fail("--lambda_k must be >= 0") end
if cfg.warmup < 0 then run:fail("--warmup must be >= 0") end
if cfg.eval_every < 1 then run:fail("--eval_every must be >= 1") end
if cfg.eval_n < 2 then run:fail("--eval_n must be >= 2 (FID needs a covariance)") end
if cfg.dataset ~= "mnist" and cfg.dataset ~= "mnist10k" then
  run:fail(("--dataset must be mnist or mnist10k, got %s"):format(cfg.dataset))
end

local train = lg.data.load(cfg.dataset, "train")
local loader = lg.data.Loader(train.images:view(train.n, 784), {batch = cfg.batch})

-- G mirrors D's decoder (the paper's G is a decoder of D's shape), ELU units, no batch norm
local G = nn.Sequential()
for i = 1, 2 do
  G:add(nn.Linear(i == 1 and cfg.nz or cfg.g_hidden, cfg.g_hidden))
  if cfg.g_bn then G:add(nn.BatchNorm1d(cfg.g_hidden)) end
  G:add(ae.ELU())
end
G:add(nn.Linear(cfg.g_hidden, 784))
G:add(nn.Tanh())
local D = ae.AE{nin = 784, hidden = cfg.d_hidden, code = cfg.code, act = "elu"}
local optG = optim.Adam(G:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local optD = optim.Adam(D:parameters(), {lr = cfg.lr, betas = {cfg.beta1, 0.999}})
local Gparams = optG.params
local function noise(n) return lg.rand(n, cfg.nz) * 2 - 1 end
local z_fixed = noise(64)
local evaluate = ae.evaluator("began", cfg.dataset, G, noise(cfg.eval_n))
local function L(v) return ae.energy(v, (D(v)), "l1"):mean() end

-- k_t and the running sums of the logged statistics: saved in checkpoints
-- so that a resumed run continues them exactly
local S = {k = 0, steps = 0, ratio_sum = 0, inside = 0, m_sum = 0, m_n = 0, m_peak = 0}
run:track{G = G, D = D, optG = optG, optD = optD, data = loader, state = S}
run:sampler(function() return ae.images(G, z_fixed) end)
print(("began: %s, gamma %g, lambda_k %g, G %d / D %d parameters, batch %d, lr %g, seed %d"):format(cfg.dataset,
  cfg.gamma, cfg.lambda_k, G:num_parameters(), D:num_parameters(), cfg.batch, cfg.lr, cfg.seed))

for it in run:iterations() do
  -- one simultaneous update of D and G (sec. 3.4): both losses at the same D
  local real = loader:next()
  local l_real = L(real)
  local l_fake_d = L(G(noise(cfg.batch)):detach())
  local l_fake_g = L(G(noise(cfg.batch)))
  local lossD = l_real - l_fake_d * S.k
  local gs = lg.grad(l_fake_g, Gparams)
  optD:zero_grad()
  lossD:backward()
  for i, p in ipairs(Gparams) do p.grad = gs[i] end
  optD:step()
  optG:step()
  local lr, lf = l_real:item(), l_fake_g:item()
  local balance = cfg.gamma * lr - lf
  local m = lr + math.abs(balance)
  local k_used = S.k
  S.k = math.min(1, math.max(0, S.k + cfg.lambda_k * balance))
  S.m_sum, S.m_n = S.m_sum + m, S.m_n + 1
  if it > cfg.warmup then
    S.steps, S.ratio_sum = S.steps + 1, S.ratio_sum + lf / lr
    if S.k > 0 and S.k < 1 then S.inside = S.inside + 1 end
  end
  local row = {lossD = lossD, lossG = l_fake_g, l_real = lr, l_fake = lf, l_fake_d = l_fake_d, k = k_used,
               M_global = m}
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    -- M over the steps since the last evaluation, its peak so far, and the
    -- equilibrium statistics since the warm-up
    row.M_avg = S.m_sum / S.m_n
    S.m_peak = math.max(S.m_peak, row.M_avg)
    S.m_sum, S.m_n = 0, 0
    row.M_drop = 1 - row.M_avg / S.m_peak
    row.ratio_mean = S.steps > 0 and S.ratio_sum / S.steps or -1
    row.ratio_err = S.steps > 0 and math.abs(row.ratio_mean - cfg.gamma) or -1
    row.k_inside = S.steps > 0 and S.inside / S.steps or -1
    for c, v in pairs(evaluate()) do row[c] = v end
  end
  run:log(row)
end

-- Spearman's rho(M_global, FID) over the evaluations after the first step
local ms, fids, last = {}, {}, nil
for _, r in ipairs(run:rows()) do
  if r.M_avg ~= "" then
    last = r
    if tonumber(r.iter) > 1 and tonumber(r.fid) >= 0 then ms[#ms + 1], fids[#fids + 1] = tonumber(r.M_avg), tonumber(r.fid) end
  end
end
local summary = {}
local function say(s) print(s) summary[#summary + 1] = s end
if #ms >= 3 then
  say(("began: over %d evaluations: Spearman rho(M_global, FID) = %.3f"):format(#ms, ae.spearman(ms, fids)))
end
if last then
  say(("began: gamma %g: L(G(z))/L(x) %.3f since step %d (|. - gamma| %.3f), 0 < k < 1 at %.1f%% of those "
    .. "steps, final k %.4f; M_global %.4f, %.1f%% below its peak; FID %.2f, classes %s, diversity %.3f")
    :format(cfg.gamma, tonumber(last.ratio_mean), cfg.warmup, tonumber(last.ratio_err), 100 * tonumber(last.k_inside),
      S.k, tonumber(last.M_avg), 100 * tonumber(last.M_drop), tonumber(last.fid), last.classes,
      tonumber(last.diversity)))
end
run:write("summary.txt", table.concat(summary, "\n") .. "\n")
