-- experiments/lib/toy.lua: what the 2-D mode-collapse experiments share
-- (unrolled_gan.lua, lsgan.lua, wgan_gp.lua, mode_count.lua; wgan.lua and
-- mrgan.lua draw with toy.render).
--
--   local toy = require "lib.toy"
--   toy.dataset(name, variant)    ring8 | grid25 | swissroll with the constants of a
--                                 paper's code; returns {sample = fn(n), eval = mixture, ...}
--   toy.notebook_gan(cfg)         the unrolled-GAN notebook's nets, Adam and update schedule
--   toy.Evaluator(ds, G, nz, ...) modes / hq / rev_kl / mode set on fixed noise
--   toy.render(sets, extent, res) 2-D point sets as one coloured scatter picture
--   toy.train(run, t)             the training loop of the 2-D scripts
--
-- All sample-level work is tensor ops; Lua only sees per-mode totals.
local lg = require "luagan"
local nets = require "lib.nets"

local toy = {}

-- {====================================================== data

-- The swiss roll as a "mixture" for mode_coverage: `points` centres evenly
-- spaced in t along the noiseless curve (t in [1.5 pi, 4.5 pi], / scale) with
-- std = noise / scale, so that hq = share of samples within 3 noise std of
-- the curve.  Modes are reported per arc: the curve is cut into `arcs` arcs
-- of equal t-length (equal probability: sklearn's t is uniform), and an arc
-- counts when one of its centres is the nearest of an HQ sample.
local function swissroll_eval(noise, scale, points, arcs)
  local t = lg.arange(points) * (3 * math.pi / (points - 1)) + 1.5 * math.pi   -- [points]
  t = t:view(points, 1)
  local centres = lg.cat({t * lg.cos(t), t * lg.sin(t)}, 2) / scale
  return {centres = centres, std = noise / scale, arcs = arcs, points = points}
end

-- variant: which paper's constants:
--   "pacgan"  ring radius 1 std 0.01; grid (2i, 2j) std 0.05  (fjxmlzn/PacGAN's and
--             VEEGAN's 2-D configs; xudonmao/LSGAN's and poolio/unrolled_gan's ring
--             with 8 distinct angles)
--   "wgangp"  igul222/improved_wgan_training gan_toy.py: ring radius 2 std 0.02, grid
--             (2i, 2j) std 0.05, both divided by 1.414 / 2.828; swiss roll noise 0.25 / 7.5
--   "paper2"  ring radius 2 std 0.02 (the unrolled-GAN paper's appendix, as recalled
--             there; not checked against its text)
function toy.dataset(name, variant)
  variant = variant or "pacgan"
  local ds
  if name == "ring8" then
    local r, s = 1, 0.01
    if variant == "wgangp" then r, s = 2 / 1.414, 0.02 / 1.414
    elseif variant == "paper2" then r, s = 2, 0.02 end
    ds = lg.data.ring8{radius = r, std = s}
    ds.extent = r + 0.5 * r
  elseif name == "grid25" then
    local sp, s = 2, 0.05
    if variant == "wgangp" then sp, s = 2 / 2.828, 0.05 / 2.828 end
    ds = lg.data.grid25{spacing = sp, std = s}
    ds.extent = 2 * sp + sp * 0.75
  elseif name == "swissroll" then
    ds = lg.data.swissroll{noise = 0.25, scale = 7.5}
    ds.extent = 2.4
    ds.eval = swissroll_eval(0.25, 7.5, 400, 20)
  else
    error(("toy: --dataset must be ring8, grid25 or swissroll, got '%s'"):format(tostring(name)), 0)
  end
  ds.eval = ds.eval or ds            -- a mixture is its own evaluation set
  ds.name = name
  ds.variant = variant
  ds.modes_total = ds.eval.arcs or ds.modes
  return ds
end

-- }======================================================

-- {====================================================== networks

-- The unrolled-GAN notebook's nets (poolio/unrolled_gan), as its LSGAN port
-- (xudonmao/LSGAN) also uses them: G z -> 2 tanh layers -> 2, D 2 -> 2 tanh layers -> 1 logit,
-- orthogonal init with cfg.gain; Adam (beta1 cfg.beta1, 0.999, eps 1e-8) at
-- cfg.lr_g / cfg.lr_d; cfg.updates "simultaneous" (one sess.run for both) or
-- "alternating" (a D step, then G; the scripts declare --updates' choices).
-- Returns G, D, optG, optD, schedule.
function toy.notebook_gan(cfg)
  local G = nets.mlp{nin = cfg.nz, nout = 2, hidden = cfg.hidden, layers = 2, act = "tanh",
                     init = "orthogonal", gain = cfg.gain}
  local D = nets.mlp{nin = 2, nout = 1, hidden = cfg.hidden, layers = 2, act = "tanh",
                     init = "orthogonal", gain = cfg.gain}
  local optG = lg.optim.Adam(G:parameters(), {lr = cfg.lr_g, betas = {cfg.beta1, 0.999}, eps = 1e-8})
  local optD = lg.optim.Adam(D:parameters(), {lr = cfg.lr_d, betas = {cfg.beta1, 0.999}, eps = 1e-8})
  local schedule = cfg.updates == "simultaneous" and lg.gan.schedule.simultaneous()
                   or lg.gan.schedule.alternating(1)
  return G, D, optG, optD, schedule
end

-- }======================================================

-- {====================================================== evaluation

-- Summary of samples [N,2] against the data set's evaluation mixture:
-- {modes, hq, rev_kl, set (bit mask of captured modes), near} (modes, hq and
-- rev_kl: metrics.mode_coverage, the VEEGAN / PacGAN protocol; rev_kl is
-- log K when no sample is HQ).  near: the mean distance of a sample to its
-- nearest mode (or curve point), in data units: a smooth companion of hq that
-- already moves while hq is still 0.
function toy.coverage(samples, ds)
  local c = lg.metrics.mode_coverage(samples, ds.eval)
  local x, centres = samples:detach(), ds.eval.centres
  local n, k = x:size(1), centres:size(1)
  local d2 = ((x:view(n, 1, 2) - centres:view(1, k, 2)) ^ 2):sum(3)
  local near = (d2:min(2) + 1e-12):sqrt():mean():item()
  local counts = c.counts
  if ds.eval.arcs then            -- swiss roll: centres grouped into arcs
    local per = ds.eval.points // ds.eval.arcs
    local grouped = {}
    for a = 1, ds.eval.arcs do
      local s = 0
      for j = (a - 1) * per + 1, math.min(a * per, #counts) do s = s + counts[j] end
      grouped[a] = s
    end
    counts = grouped
  end
  local modes, set = 0, 0
  for j, n in ipairs(counts) do
    if n > 0 then
      modes = modes + 1
      set = set + (1 << (j - 1))
    end
  end
  return {modes = modes, hq = c.hq, rev_kl = c.rev_kl or math.log(#counts), set = set,
          counts = counts, near = near}
end

-- ev = toy.Evaluator(ds, G, nz, {n = 2500})   fixed noise, drawn once
-- ev:evaluate() -> coverage of G's samples; it also counts "hops": evaluations
--   at which the set of captured modes differs from the previous evaluation's
--   (mode hopping: G moving from one set of modes to another, unrolled GAN sec. 3.1).  ev.hops, ev.evals and
--   ev.prev_set are plain values: track the table `ev.state` for resume.
-- G runs in eval mode (batch norm with running statistics) under no_grad.
function toy.Evaluator(ds, G, nz, opts)
  opts = opts or {}
  local n = opts.n or 2500
  local ev = {ds = ds, G = G, z = lg.randn(n, nz), n = n,
              state = {hops = 0, evals = 0, prev_set = -1}}
  function ev:samples()
    return lg.no_grad(function()
      local was = self.G.training
      self.G:eval()
      local x = self.G(self.z)
      if was then self.G:train() end
      return x
    end)
  end
  function ev:evaluate()
    local c = toy.coverage(self:samples(), self.ds)
    local st = self.state
    if st.evals > 0 and c.set ~= st.prev_set then st.hops = st.hops + 1 end
    st.evals, st.prev_set = st.evals + 1, c.set
    c.hops = st.hops
    return c
  end
  return ev
end

-- the real data's own scores (what a perfect G gets under the metric)
function toy.reference(ds, n)
  return toy.coverage(ds:sample(n or 2500), ds)
end

-- }======================================================

-- {====================================================== pictures

-- [N] coordinates -> one-hot [N, R] of their bin over [-e, e] (zero rows off the canvas)
local function bins(v, e, r)
  local n = v:size(1)
  local lo = lg.arange(r) * (2 * e / r) - e                 -- left edges
  local x = v:view(n, 1)
  return x:gt(lo:view(1, r)) - x:gt((lo + 2 * e / r):view(1, r))
end

-- toy.render(sets, extent [, res]) -> [1, 3, R, R] in [0, 1]
-- 2-D point sets as one scatter picture over [-extent, extent]^2 on white,
-- y up: sets is a list of {points [N, 2], {r, g, b}}, each point darkening
-- its pixel towards its set's colour (histograms as one-hot matmuls).
-- toy.train draws generated points red over real points blue.
function toy.render(sets, extent, res)
  res = res or 192
  local ink = {lg.zeros(res, res), lg.zeros(res, res), lg.zeros(res, res)}
  for _, set in ipairs(sets) do
    local x, colour = set[1], set[2]
    local bx = bins(x:narrow(2, 1, 1):contiguous():view(x:size(1)), extent, res)
    local by = bins(-x:narrow(2, 2, 1):contiguous():view(x:size(1)), extent, res)
    local h = (by:t():matmul(bx)):clamp(0, 2) / 2            -- [R, R], at most 2 points a pixel
    for c = 1, 3 do
      if colour[c] < 1 then ink[c] = ink[c] + h * (1 - colour[c]) end
    end
  end
  for c = 1, 3 do ink[c] = (1 - ink[c] * 0.8):clamp(0, 1):view(1, 1, res, res) end
  return lg.cat(ink, 2)
end

toy.RED, toy.GREEN, toy.BLUE = {1, 0, 0}, {0, 1, 0}, {0, 0, 1}

-- }======================================================

-- {====================================================== reports

-- one evaluation line on stdout; rate: the run's it/s so far (run:speed)
function toy.report(name, it, c, rate)
  print(("%s: iter %d  modes %d  hq %.3f  rev_kl %.3f  near %.3f  hops %d%s"):format(name, it,
    c.modes, c.hq, c.rev_kl, c.near, c.hops or 0, rate and ("  %.1f it/s"):format(rate) or ""))
  io.stdout:flush()
end

-- }======================================================

-- {====================================================== the loop

-- toy.train(run, t) -> final summary.  The training loop every 2-D script shares:
--   t.G, t.D, t.optG, t.optD   tracked for checkpoints (plus t.extra: more objects)
--   t.ds, t.nz                 data set (toy.dataset) and G's noise size
--   t.step(it) -> {d =, g =, ...}   one training iteration (numbers), logged as
--                              lossD, lossG (and t.log_keys = {key = field} more)
--   t.eval_every               evaluate (modes, hq, rev_kl, hops) every N
--                              iterations, at iteration 1 and at the last
-- metrics.csv gets lossD, lossG every iteration and modes, hq, rev_kl, hops,
-- modeset (bit mask of captured modes), near at evaluations; stdout gets one line
-- per evaluation with the run's iterations/s (run:speed).  The summary: {modes, hq, rev_kl, hops,
-- evals, hop_frac, modes_total, seconds, ips, reference}.
function toy.train(run, t)
  local cfg, ds = run.config, t.ds
  local ev = toy.Evaluator(ds, t.G, t.nz)
  local real_fixed = ds:sample(2500)
  local ref = toy.reference(ds)
  print(("%s: %s (%s constants): real data scores modes %d/%d hq %.3f (the metric's ceiling)")
    :format(run.name, ds.name, ds.variant, ref.modes, ds.modes_total, ref.hq))
  local tracked = {G = t.G, D = t.D, optG = t.optG, optD = t.optD, eval = ev.state}
  for k, v in pairs(t.extra or {}) do tracked[k] = v end
  run:track(tracked)
  run:sampler(function()
    return toy.render({{real_fixed, toy.BLUE}, {ev:samples(), toy.RED}}, ds.extent)
  end,
              {range = {0, 1}, nrow = 1})
  for it in run:iterations() do
    local out = t.step(it)
    local row = {lossD = out.d, lossG = out.g}
    for key, field in pairs(t.log_keys or {}) do row[key] = out[field] end
    if it == 1 or it % t.eval_every == 0 or it == cfg.iters then
      local c = ev:evaluate()
      row.modes, row.hq, row.rev_kl, row.hops, row.modeset = c.modes, c.hq, c.rev_kl, c.hops, c.set
      row.near = c.near
      toy.report(run.name, it, c, select(3, run:speed()))
    end
    run:log(row)
  end
  local done, seconds, ips = run:speed()
  local c = toy.coverage(ev:samples(), ds)
  local st = ev.state
  local s = {modes = c.modes, hq = c.hq, rev_kl = c.rev_kl, near = c.near, hops = st.hops,
             evals = st.evals,
             hop_frac = st.evals > 1 and st.hops / (st.evals - 1) or 0,
             modes_total = ds.modes_total, seconds = seconds,
             ips = done > 0 and ips or nil, reference = ref}
  print(("%s: final  modes %d/%d  hq %.3f  rev_kl %.3f  mode-set changes %d of %d evaluations")
    :format(run.name, s.modes, s.modes_total, s.hq, s.rev_kl, s.hops, math.max(st.evals - 1, 0)))
  return s
end

-- }======================================================

return toy
