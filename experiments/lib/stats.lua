-- Small-sample statistics for the reproduction report
-- (experiments/lib/report.lua): the numbers over seeds that a verdict rests
-- on.  Every test here is exact (it enumerates all sign patterns or all
-- splits), so it is valid for the 3-10 seeds a run plan has and needs no
-- random numbers; n is capped where the enumeration would grow too large.
--
--   mean(xs), sd(xs)                 sd with n - 1 (nil below 2 values)
--   t975(df)                         the t quantile of a 95% two-sided interval
--   t_interval(xs)                   mean, lo, hi (lo, hi nil below 2 values)
--   signflip_p(d, side)              paired test on per-seed differences d
--   perm2_p(a, b, side)              two-sample permutation test (unpaired arms)
--   binom_p(k, n, side)              P of k or more of n at rate 1/2 (sign test)
--   sign_test_p(d, side)             the sign test on differences (zeros dropped)
--
-- side is "greater" (the claimed direction is positive), "less", or "two"
-- (two-sided).  A p-value is the share of the equally likely rearrangements
-- under the null (signs, labels) whose statistic is at least as extreme as
-- the observed one, the observed one included.
local stats = {}

function stats.mean(xs)
  local s = 0
  for _, x in ipairs(xs) do s = s + x end
  return #xs > 0 and s / #xs or nil
end

function stats.sd(xs)
  local n = #xs
  if n < 2 then return nil end
  local m, ss = stats.mean(xs), 0
  for _, x in ipairs(xs) do ss = ss + (x - m) ^ 2 end
  return math.sqrt(ss / (n - 1))
end

-- t_{0.975, df} for df 1..30 (standard tables, 3 decimals); the normal
-- quantile 1.960 beyond, which makes the interval at most 3% too narrow
-- (t_{0.975, 31} = 2.040).
local T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
              2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
              2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

function stats.t975(df)
  assert(math.type(df) == "integer" and df >= 1, "t975: df must be a positive integer")
  return T975[df] or 1.960
end

-- The 95% t-interval of the mean: mean, lo, hi.  With one value there is
-- no spread to estimate: lo and hi are nil.
function stats.t_interval(xs)
  local m, sd = stats.mean(xs), stats.sd(xs)
  if not sd then return m, nil, nil end
  local half = stats.t975(#xs - 1) * sd / math.sqrt(#xs)
  return m, m - half, m + half
end

-- Ties between floating-point sums that are equal on paper: count a
-- rearrangement as "at least as extreme" within this relative slack.
local function at_least(s, obs, scale) return s >= obs - 1e-9 * scale end

local function tail_share(count, total) return count / total end

local function check_side(side)
  assert(side == "greater" or side == "less" or side == "two",
    "side must be 'greater', 'less' or 'two', got " .. tostring(side))
end

local MAX_N = 20        -- 2^20 sign patterns, C(20, 10) splits: still instant

-- Exact sign-flip (paired permutation) test of "the mean difference is 0":
-- under the null every difference is as likely positive as negative, so all
-- 2^n sign patterns of |d| are equally likely; the statistic is the sum.
function stats.signflip_p(d, side)
  check_side(side)
  local n = #d
  assert(n >= 1 and n <= MAX_N, "signflip_p: needs 1 to " .. MAX_N .. " differences")
  local obs, scale = 0, 0
  for _, x in ipairs(d) do obs, scale = obs + x, scale + math.abs(x) end
  if side == "less" then obs = -obs end
  if side == "two" then obs = math.abs(obs) end
  local count, total = 0, 1 << n
  for mask = 0, total - 1 do
    local s = 0
    for i = 1, n do
      local x = math.abs(d[i])
      if mask & (1 << (i - 1)) ~= 0 then s = s - x else s = s + x end
    end
    if side == "less" then s = -s elseif side == "two" then s = math.abs(s) end
    if at_least(s, obs, scale) then count = count + 1 end
  end
  return tail_share(count, total)
end

-- calls fn(chosen) for every k-subset of 1..n (chosen: a list of indices)
local function each_subset(n, k, fn)
  local chosen = {}
  local function rec(start, depth)
    if depth > k then return fn(chosen) end
    for i = start, n - (k - depth) do
      chosen[depth] = i
      rec(i + 1, depth + 1)
    end
  end
  rec(1, 1)
end

-- Exact two-sample permutation test of "a and b come from one distribution"
-- for unpaired arms: every split of the pooled values into groups of #a and
-- #b is equally likely; the statistic is mean(a) - mean(b).
function stats.perm2_p(a, b, side)
  check_side(side)
  local na, nb = #a, #b
  assert(na >= 1 and nb >= 1 and na + nb <= MAX_N, "perm2_p: needs 1 or more values per arm, at most "
    .. MAX_N .. " in all")
  local pool, total_sum, scale = {}, 0, 0
  for _, x in ipairs(a) do pool[#pool + 1] = x end
  for _, x in ipairs(b) do pool[#pool + 1] = x end
  for _, x in ipairs(pool) do total_sum, scale = total_sum + x, scale + math.abs(x) end
  local function diff(sum_a) return sum_a / na - (total_sum - sum_a) / nb end
  local function stat(sum_a)
    local t = diff(sum_a)
    if side == "less" then return -t elseif side == "two" then return math.abs(t) end
    return t
  end
  local obs_a = 0
  for _, x in ipairs(a) do obs_a = obs_a + x end
  local obs = stat(obs_a)
  local count, total = 0, 0
  each_subset(#pool, na, function(chosen)
    local s = 0
    for _, i in ipairs(chosen) do s = s + pool[i] end
    total = total + 1
    if at_least(stat(s), obs, scale) then count = count + 1 end
  end)
  return tail_share(count, total)
end

local function choose(n, k)
  local c = 1
  for i = 1, k do c = c * (n - k + i) / i end
  return c
end

-- P(X >= k) for X ~ Binomial(n, 1/2) ("greater"), P(X <= k) ("less"), or
-- the two-sided p: twice the smaller tail, at most 1.
function stats.binom_p(k, n, side)
  check_side(side)
  assert(n >= 0 and k >= 0 and k <= n, "binom_p: needs 0 <= k <= n")
  local function upper(j)
    local s = 0
    for i = j, n do s = s + choose(n, i) end
    return s / 2 ^ n
  end
  local function lower(j) return 1 - upper(j + 1) end
  if side == "greater" then return upper(k) end
  if side == "less" then return lower(k) end
  return math.min(1, 2 * math.min(upper(k), lower(k)))
end

-- The sign test: how many differences are positive out of the nonzero
-- ones, against a fair coin.  Returns p, positives, nonzero count.
function stats.sign_test_p(d, side)
  local pos, n = 0, 0
  for _, x in ipairs(d) do
    if x ~= 0 then n = n + 1 end
    if x > 0 then pos = pos + 1 end
  end
  if n == 0 then return 1, 0, 0 end
  return stats.binom_p(pos, n, side), pos, n
end

return stats
