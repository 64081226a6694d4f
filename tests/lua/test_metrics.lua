-- lg.metrics: mode coverage on 2-D mixtures (VEEGAN / PacGAN protocol).
local metrics = lg.metrics

test("samples of the true ring: 8/8 modes, about 99% high quality", function()
  lg.manual_seed(11)
  local ring = lg.data.ring8()
  local m = metrics.mode_coverage(ring:sample(2500), ring)
  eq(m.modes, 8)
  eq(m.n, 2500)
  -- P(|N(0, I_2)| < 3) = 1 - exp(-4.5) = 0.9889
  assert(m.hq > 0.975 and m.hq <= 1, "hq " .. m.hq)
  assert(m.rev_kl < 0.02, "rev_kl " .. m.rev_kl)
  local total = 0
  for _, c in ipairs(m.counts) do total = total + c end
  eq(total, math.floor(m.hq * 2500 + 0.5))
end)

test("samples of one mode: 1/8", function()
  lg.manual_seed(12)
  local ring = lg.data.ring8()
  local x = ring.centres:narrow(1, 3, 1) + lg.randn(2500, 2) * ring.std
  local m = metrics.mode_coverage(x, ring)
  eq(m.modes, 1)
  assert(m.counts[3] > 2400, "counts " .. m.counts[3])
  near(m.rev_kl, math.log(8), 1e-9)
end)

test("off-mode samples are not high quality; min_hq and threshold", function()
  local ring = lg.data.ring8()
  -- midway between two modes: nearest mode found, but far outside 3 std
  local m = metrics.mode_coverage(lg.tensor{{0.0, 0.0}, {0.9, 0.4}}, ring)
  eq(m.modes, 0)
  eq(m.hq, 0.0)
  eq(m.rev_kl, nil)
  -- one sample 2 std off mode 1: HQ at 3 std, not at 1 std
  local x = lg.tensor{{1.02, 0.0}}
  eq(metrics.mode_coverage(x, ring).modes, 1)
  eq(metrics.mode_coverage(x, ring, {threshold = 1}).modes, 0)
  eq(metrics.mode_coverage(x, ring, {min_hq = 2}).modes, 0)
end)

test("grid of 25: true samples cover 25, a collapsed generator few", function()
  lg.manual_seed(13)
  local grid = lg.data.grid25()
  eq(metrics.mode_coverage(grid:sample(2500), grid).modes, 25)
  local m = metrics.mode_coverage(lg.randn(2500, 2) * 0.05, grid)
  eq(m.modes, 1)
  eq(m.counts[13] > 2400, true)
end)

test("argument errors", function()
  local ring = lg.data.ring8()
  raises(function() metrics.mode_coverage(lg.zeros(3), ring) end, "samples [N,D] expected")
  raises(function() metrics.mode_coverage(lg.zeros(3, 3), ring) end, "centres [8,2]")
  raises(function() metrics.mode_coverage(lg.zeros(3, 2), {}) end, "a mixture")
end)

test("dead_since: the start of a tail of exact zeros, if long enough", function()
  local function log(losses)   -- rows as run:rows() returns them: strings
    local rows = {}
    for i, v in ipairs(losses) do rows[i] = {iter = tostring(i), lossD = tostring(v)} end
    return rows
  end
  local tail = {}
  for i = 1, 100 do tail[i] = i <= 40 and -0.5 or 0 end
  eq(metrics.dead_since(log(tail), "lossD"), 41)           -- 41..100: a span of 59
  eq(metrics.dead_since(log(tail), "lossD", 60), nil)      -- too short for 60
  tail[70] = 1e-9                                          -- alive again after a zero stretch
  eq(metrics.dead_since(log(tail), "lossD"), nil)
  eq(metrics.dead_since(log(tail), "lossD", 25), 71)  -- 71..100
  eq(metrics.dead_since({}, "lossD"), nil)
  eq(metrics.dead_since(log{-1, -2, -3}, "lossD", 0), nil)  -- never zero
end)
