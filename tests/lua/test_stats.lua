-- experiments/lib/stats.lua: the small-sample statistics of the
-- reproduction report, against values worked out by hand or from tables.
package.path = ROOT .. "/experiments/?.lua;" .. package.path
local stats = require "lib.stats"

test("stats: mean, sd and the t quantiles of a 95% interval", function()
  eq(stats.mean({1, 2, 3, 4, 5}), 3)
  near(stats.sd({1, 2, 3, 4, 5}), math.sqrt(2.5))
  eq(stats.sd({7}), nil, "no spread from one value")
  eq(stats.mean({}), nil)
  eq(stats.t975(4), 2.776)
  eq(stats.t975(1), 12.706)
  eq(stats.t975(30), 2.042)
  eq(stats.t975(31), 1.960, "the normal quantile beyond the table")
  raises(function() stats.t975(0) end, "t975: df must be a positive integer")
end)

test("stats: the t-interval of {1,2,3,4,5} and of one value", function()
  local m, lo, hi = stats.t_interval({1, 2, 3, 4, 5})
  -- 3 +- 2.776 * sqrt(2.5) / sqrt(5) = 3 +- 1.9629
  eq(m, 3)
  near(lo, 1.0371, 1e-4)
  near(hi, 4.9629, 1e-4)
  m, lo, hi = stats.t_interval({8, 8, 8})
  eq({m, lo, hi}, {8, 8, 8}, "no spread: the interval is a point")
  m, lo, hi = stats.t_interval({4})
  eq({m, lo, hi}, {4, nil, nil})
end)

test("stats: exact sign-flip test on paired differences", function()
  -- all five positive: only the observed pattern is as extreme
  eq(stats.signflip_p({1, 2, 3, 4, 5}, "greater"), 1 / 32)
  eq(stats.signflip_p({1, 2, 3, 4, 5}, "two"), 2 / 32)
  eq(stats.signflip_p({1, 2, 3, 4, 5}, "less"), 1)
  -- {1, -2, 3}: the 8 sums +-1 +-2 +-3 are 6 4 2 0 0 -2 -4 -6; observed 2
  eq(stats.signflip_p({1, -2, 3}, "greater"), 3 / 8)
  eq(stats.signflip_p({1, -2, 3}, "two"), 6 / 8)
  eq(stats.signflip_p({1, -2, 3}, "less"), 6 / 8)
  -- three seeds can never give p < 0.05
  eq(stats.signflip_p({5, 6, 7}, "greater"), 1 / 8)
  -- sums equal on paper but not in floating point count as ties
  eq(stats.signflip_p({0.1, 0.2, -0.3}, "two"), 1)
  raises(function() stats.signflip_p({}, "greater") end, "signflip_p: needs 1 to 20 differences")
  raises(function() stats.signflip_p({1}, "up") end, "side must be 'greater', 'less' or 'two', got up")
end)

test("stats: exact two-sample permutation test", function()
  -- a = {3,4,5}, b = {1,2}: of the C(5,3) = 10 splits only the observed one
  -- has mean(a) - mean(b) = 2.5; its mirror {1,2,3} vs {4,5} has -2.5
  eq(stats.perm2_p({3, 4, 5}, {1, 2}, "greater"), 1 / 10)
  eq(stats.perm2_p({3, 4, 5}, {1, 2}, "two"), 2 / 10)
  eq(stats.perm2_p({3, 4, 5}, {1, 2}, "less"), 1)
  -- a = {1, 4}, b = {2, 3}: differences of the 6 splits 0 (twice), +-1, +-2
  -- (a = {3,4}: 2, {2,4}: 1, {1,4} and {2,3}: 0, {1,3}: -1, {1,2}: -2)
  eq(stats.perm2_p({1, 4}, {2, 3}, "greater"), 4 / 6)
  eq(stats.perm2_p({1, 4}, {2, 3}, "two"), 1)
  -- 3 against 3 seeds: the smallest one-sided p is 1/20, not below 0.05
  eq(stats.perm2_p({10, 11, 12}, {1, 2, 3}, "greater"), 1 / 20)
end)

test("stats: binomial and sign tests", function()
  eq(stats.binom_p(5, 5, "greater"), 1 / 32)
  eq(stats.binom_p(3, 3, "greater"), 1 / 8)
  eq(stats.binom_p(4, 5, "greater"), 6 / 32)
  eq(stats.binom_p(0, 5, "less"), 1 / 32)
  eq(stats.binom_p(5, 5, "two"), 2 / 32)
  eq(stats.binom_p(2, 4, "two"), 1)
  -- zeros are dropped: 3 positive of 4 nonzero
  local p, pos, n = stats.sign_test_p({1, 0, 2, -1, 3}, "greater")
  eq({p, pos, n}, {5 / 16, 3, 4})
  eq({stats.sign_test_p({0, 0}, "greater")}, {1, 0, 0})
  raises(function() stats.binom_p(4, 3, "greater") end, "binom_p: needs 0 <= k <= n")
end)
