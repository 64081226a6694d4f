-- The reproduction report: reads the committed results
-- (experiments/results/<mode>-<exp>-<variant>/s<seed>/), judges the claims of
-- experiments/claims.lua against them and writes experiments/README.md (the
-- index) and one page per experiment, experiments/<exp>.md.
--
-- Per seed the report reads metrics.csv (every row: the last evaluation row
-- gives the tables' numbers, a claim's window (report.windows) the values
-- its verdict uses, the whole series the number of evaluations and the
-- fewest modes from 15k iterations on), the files the scripts write
-- beside it (parzen.txt, probe.csv, summary.txt), wall.txt and cmd.txt, and
-- derived.txt when present: a result converted from an older layout that
-- kept only the last row, where derived.txt holds the values the old driver
-- had computed from the whole series (not stored), which win over what the
-- single row would give.
--
-- A claim names its verdict function by a key of report.checks, its
-- thresholds in params, its per-seed window (report.windows), the one
-- setting judged (primary) and the settings shown under it (ablations).
-- The statistics over seeds are in experiments/lib/stats.lua; the rule that
-- turns them into "holds", "does NOT hold" or "inconclusive" is report.RULE.
local lg = require "luagan"
local ST = require "lib.stats"

local report = {}

-- {====================================================== files

local function readfile(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
report.readfile = readfile

local function exists(p) return lg.fs.kind(p) ~= nil end
report.exists = exists

local function writefile(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end
report.writefile = writefile

-- The entries of dir (sorted) and their kinds, or empty lists.
local function list(dir)
  local names, kinds = lg.fs.list(dir)
  return names or {}, kinds or {}
end
report.list = list

-- Removes path and everything under it (no shell).
function report.rm_rf(path)
  local kind = lg.fs.kind(path)
  if kind == "dir" then
    local names = list(path)
    for _, n in ipairs(names) do report.rm_rf(path .. "/" .. n) end
  end
  if kind then assert(os.remove(path)) end
end

function report.copy(src, dst)
  writefile(dst, assert(readfile(src), "cannot read " .. src))
end

-- Text written over several lines in the data files, as one paragraph.
local function prose(s) return (s:gsub("%s*\n%s*", " ")) end
report.prose = prose

-- }======================================================

-- {====================================================== the data files

local MODES = {"quick", "long", "full"}
report.MODES = MODES
local IS_MODE = {quick = true, long = true, full = true}

-- Loads a data file: a Lua chunk returning a table, run without globals.
function report.load_data(path, what)
  local chunk, err = loadfile(path, "t", {})
  if not chunk then error(("%s file %s: %s"):format(what, path, err), 0) end
  local ok, t = pcall(chunk)
  if not ok then error(("%s file %s: %s"):format(what, path, tostring(t)), 0) end
  if type(t) ~= "table" then
    error(("%s file %s must return a table, got %s"):format(what, path, type(t)), 0)
  end
  return t
end

local function need(cond, fmt, ...)
  if not cond then error(fmt:format(...), 0) end
end

local function is_list_of(t, ty)
  if type(t) ~= "table" then return false end
  for i = 1, #t do if type(t[i]) ~= ty then return false end end
  return true
end

-- Checks plan's shape; every problem names the experiment and run.
function report.check_plan(plan, path)
  path = path or "plan"
  need(#plan > 0, "%s: no experiments", path)
  local seen = {}
  for i, e in ipairs(plan) do
    local where = ("%s: experiment %d"):format(path, i)
    need(type(e) == "table", "%s: must be a table", where)
    need(type(e.exp) == "string" and e.exp:match("^[%w_]+$"), "%s: exp must be a script name", where)
    where = ("%s: experiment %d (%s)"):format(path, i, e.exp)
    need(not seen[e.exp], "%s: listed twice", where)
    seen[e.exp] = true
    need(is_list_of(e.cols, "string"), "%s: cols must be a list of column names", where)
    need(type(e.evalcol) == "string", "%s: evalcol must be a column name", where)
    need(type(e.runs) == "table" and #e.runs > 0, "%s: runs must be a non-empty list", where)
    local names = {}
    for j, r in ipairs(e.runs) do
      local w = ("%s: run %d"):format(where, j)
      need(type(r) == "table", "%s: must be a table", w)
      need(IS_MODE[r.mode], "%s: mode must be quick, long or full, got %s", w, tostring(r.mode))
      need(type(r.variant) == "string" and r.variant:match("^[%w_.%-]+$"),
        "%s: variant must be a name of letters, digits, _ . -", w)
      need(is_list_of(r.seeds, "number") and #r.seeds > 0, "%s (%s): seeds must be a list of numbers", w, r.variant)
      need(type(r.flags) == "string", "%s (%s): flags must be a string", w, r.variant)
      need(not r.flags:find("%-%-seed%f[%s]") and not r.flags:find("%-%-out%f[%s]"),
        "%s (%s): flags must not set --seed or --out (the driver does)", w, r.variant)
      need(r.cols == nil or is_list_of(r.cols, "string"), "%s (%s): cols must be a list", w, r.variant)
      local key = r.mode .. " " .. r.variant
      need(not names[key], "%s: %s run %s listed twice", where, r.mode, r.variant)
      names[key] = true
    end
  end
  return plan
end

-- A setting (a claim's primary or an ablation): a label, a why for the
-- primary, an optional mode, and role keys naming variants of the plan.
local function check_setting(S, what, w, variants, primary)
  need(type(S) == "table", "%s: %s must be a table (the setting the check judges)", w, what)
  need(type(S.label) == "string", "%s: %s needs a label", w, what)
  need(not primary or type(S.why) == "string", "%s: %s needs a why (the reason it is the paper's setting)", w, what)
  local mode = S.mode or "full"
  need(IS_MODE[mode], "%s: %s: mode must be quick, long or full", w, what)
  local names = report.setting_variants(S)
  need(#names > 0, "%s: %s names no variant", w, what)
  for _, v in ipairs(names) do
    need(variants[mode .. " " .. v], "%s: %s names %s, which the plan does not run in %s mode", w, what, v, mode)
  end
end

local REQUIRED = {"id", "statement", "paper_value", "source", "target", "why", "window", "statistic"}

-- Checks claims' shape against the plan and the verdict functions.
function report.check_claims(claims, plan, path)
  path = path or "claims"
  local variants = {}
  for _, e in ipairs(plan) do
    variants[e.exp] = {}
    for _, r in ipairs(e.runs) do
      variants[e.exp][r.variant] = true
      variants[e.exp][r.mode .. " " .. r.variant] = true
    end
  end
  for i, p in ipairs(claims) do
    local where = ("%s: entry %d"):format(path, i)
    need(type(p) == "table" and type(p.exp) == "string", "%s: exp must be a script name", where)
    where = ("%s: entry %d (%s)"):format(path, i, p.exp)
    need(variants[p.exp], "%s: no experiment %s in the plan", where, p.exp)
    need(type(p.title) == "string" and type(p.paper) == "string", "%s: title and paper must be strings", where)
    need(type(p.claims) == "table", "%s: claims must be a list", where)
    need(p.earlier == nil or is_list_of(p.earlier, "string"), "%s: earlier must be a list of strings", where)
    for j, c in ipairs(p.claims) do
      local w = ("%s: claim %d"):format(where, j)
      for _, k in ipairs(REQUIRED) do
        need(type(c[k]) == "string", "%s: %s must be a string", w, k)
      end
      w = ("%s: claim %d (%s)"):format(where, j, c.id)
      need(report.windows[c.window], "%s: unknown window '%s'", w, c.window)
      need(c.check == nil or report.checks[c.check], "%s: unknown check '%s' (a key of report.checks)", w,
        tostring(c.check))
      need(is_list_of(c.compare, "string"), "%s: compare must be a list of variants", w)
      for _, v in ipairs(c.compare) do
        need(variants[p.exp][v], "%s: compares %s, which the plan does not run", w, v)
      end
      need(c.cols == nil or is_list_of(c.cols, "string"), "%s: cols must be a list", w)
      if c.check then check_setting(c.primary, "primary", w, variants[p.exp], true) end
      need(c.check == nil or is_list_of(c.ablations, "table"), "%s: ablations must be a list of settings", w)
      for k, a in ipairs(c.ablations or {}) do check_setting(a, ("ablation %d"):format(k), w, variants[p.exp]) end
    end
  end
  return claims
end

-- }======================================================

-- {====================================================== reading results

local function split(line)
  local t = {}
  for c in (line .. ","):gmatch("([^,]*),") do t[#t + 1] = c end
  return t
end
report.split = split

-- The values of one seed's window of metrics.csv (report.WINDOW_TEXT says
-- what each gives).  Every window also counts the evaluations (evals) and
-- finds the fewest modes at an evaluation from 15,000 iterations on
-- (min_modes_15k) over the whole series.
report.windows = {}
report.WINDOW_TEXT = {
  last = "the last evaluation row of metrics.csv",
  last25 = "the mean over the last 25% of its evaluations (the rows of metrics.csv where the evaluation "
    .. "column is set; at least one row)",
  ["end"] = "the value the script measures once at the end of the run (parzen.txt, probe.csv; summary.txt's "
    .. "Spearman rho is computed over all the run's evaluations)",
}

-- the evaluation rows (evalcol set) and the whole-series values
local function eval_rows(header, rows, evalcol)
  local idx = {}
  for i, c in ipairs(header) do idx[c] = i end
  local ev, min15 = {}, nil
  for _, cells in ipairs(rows) do
    local v = idx[evalcol] and cells[idx[evalcol]]
    if v and v ~= "" then
      ev[#ev + 1] = cells
      local it, m = tonumber(cells[idx.iter]), idx.modes and tonumber(cells[idx.modes])
      if it and m and it >= 15000 then min15 = math.min(min15 or m, m) end
    end
  end
  return ev, min15, idx
end

function report.windows.last(header, rows, evalcol)
  local ev, min15 = eval_rows(header, rows, evalcol)
  if #ev == 0 then return nil end
  local v = {evals = #ev, min_modes_15k = min15}
  for i, c in ipairs(header) do v[c] = tonumber(ev[#ev][i]) end
  return v
end
report.windows["end"] = report.windows.last

-- columns that describe the series up to a row (a count, a position, a
-- set): the window takes their last value, not a mean
local RUNNING = {iter = true, hops = true, modeset = true}

function report.windows.last25(header, rows, evalcol)
  local v = report.windows.last(header, rows, evalcol)
  if not v then return nil end
  local ev = eval_rows(header, rows, evalcol)
  local k = math.max(1, math.ceil(#ev / 4))
  for i, c in ipairs(header) do
    if not RUNNING[c] then
      local sum, n = 0, 0
      for j = #ev - k + 1, #ev do
        local x = tonumber(ev[j][i])
        if x then sum, n = sum + x, n + 1 end
      end
      v[c] = n > 0 and sum / n or nil
    end
  end
  v.window_rows = k
  return v
end

local function read_csv(path)
  local f = io.open(path)
  if not f then return nil end
  local header = split(f:read("l") or "")
  local rows = {}
  for line in f:lines() do if line ~= "" then rows[#rows + 1] = split(line) end end
  f:close()
  return header, rows
end

-- key=value lines (# comments), numbers where they parse
local function read_kv(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
    if k and not line:match("^%s*#") then t[k] = tonumber(v) or v end
  end
  return t
end
report.read_kv = read_kv

local PROBE_KEY = {trained_D = "probe_trained", random_D = "probe_random", pixels = "probe_pixels"}

-- One seed's result directory -> {v = {column = number}, wall, cmd, legacy}.
function report.read_seed(dir, evalcol, window)
  local r = {dir = dir, v = {}}
  r.wall = tonumber(readfile(dir .. "/wall.txt") or "")
  r.cmd = (readfile(dir .. "/cmd.txt") or ""):gsub("%s+$", "")
  local header, rows = read_csv(dir .. "/metrics.csv")
  if header then r.v = report.windows[window or "last"](header, rows, evalcol) or {} end
  local pz = readfile(dir .. "/parzen.txt")
  if pz then r.v.parzen = tonumber(pz:match("log%-likelihood (%-?[%d.]+)")) end
  local pr = readfile(dir .. "/probe.csv")
  if pr then
    for name, kind, acc in pr:gmatch("([%w_]+),([%w_]+),([%d.]+)") do
      if (kind == "all" or kind == "pixels") and PROBE_KEY[name] then r.v[PROBE_KEY[name]] = 100 * tonumber(acc) end
    end
  end
  local sm = readfile(dir .. "/summary.txt")
  if sm then
    r.v.rho = tonumber(sm:match("Spearman rho%b() = (%-?[%d.]+)"))
    -- wgan.lua: 1 when the critic died (constant output) before the end, else 0
    if sm:match("^wgan:") then r.v.dead_critic = sm:match("critic dead since") and 1 or 0 end
  end
  local derived = readfile(dir .. "/derived.txt")
  if derived then
    r.legacy = true
    r.v.evals, r.v.min_modes_15k = nil, nil     -- one row says nothing about the series
    for k, v in pairs(read_kv(derived)) do r.v[k] = v end
  end
  if r.v.hops and r.v.evals then r.v.hop_share = r.v.hops / r.v.evals end
  -- gan_mnist.lua --grad_both: the non-saturating G gradient norm over the saturating one
  if r.v.gnorm_ns and r.v.gnorm_mm and r.v.gnorm_mm > 0 then r.v.gnorm_ratio = r.v.gnorm_ns / r.v.gnorm_mm end
  if r.v.probe_trained and r.v.probe_random and r.v.probe_pixels then
    r.v.probe_gain = r.v.probe_trained - math.max(r.v.probe_random, r.v.probe_pixels)
  end
  return r
end

-- The seed directories s<N> of a configuration's result, in seed order.
function report.seed_dirs(cdir)
  local out = {}
  local names, kinds = list(cdir)
  for i, n in ipairs(names) do
    local s = n:match("^s(%d+)$")
    if s and kinds[i] == "dir" then out[#out + 1] = {seed = tonumber(s), dir = cdir .. "/" .. n} end
  end
  table.sort(out, function(a, b) return a.seed < b.seed end)
  return out
end

-- }======================================================

-- {====================================================== statistics

local function stats(vals)
  local n, sum, lo, hi = #vals, 0, math.huge, -math.huge
  if n == 0 then return nil end
  for _, v in ipairs(vals) do sum, lo, hi = sum + v, math.min(lo, v), math.max(hi, v) end
  local mean, ss = sum / n, 0
  for _, v in ipairs(vals) do ss = ss + (v - mean) ^ 2 end
  local sorted = {table.unpack(vals)}
  table.sort(sorted)
  local med = n % 2 == 1 and sorted[(n + 1) // 2] or (sorted[n // 2] + sorted[n // 2 + 1]) / 2
  return {n = n, mean = mean, sd = n > 1 and math.sqrt(ss / (n - 1)) or 0, lo = lo, hi = hi, median = med,
          vals = vals}
end
report.stats = stats

local function fmt(x)
  if x == nil then return "-" end
  local a = math.abs(x)
  if a == math.floor(a) and a < 1e6 then return ("%d"):format(x) end
  if a >= 100 then return ("%.1f"):format(x) end
  if a >= 1 then return ("%.2f"):format(x) end
  return ("%.3f"):format(x)
end
report.fmt = fmt

local function fmt_stats(st)
  if not st then return "-" end
  if st.n == 1 then return fmt(st.mean) end
  return ("%s +- %s [%s, %s]"):format(fmt(st.mean), fmt(st.sd), fmt(st.lo), fmt(st.hi))
end
report.fmt_stats = fmt_stats

-- Stats over seeds of every value the runs have: {column = stats}.
local function aggregate(runs)
  local keys, seen = {}, {}
  for _, r in ipairs(runs) do
    for k in pairs(r.v) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
  end
  local g = {}
  for _, k in ipairs(keys) do
    local vals = {}
    for _, r in ipairs(runs) do if type(r.v[k]) == "number" then vals[#vals + 1] = r.v[k] end end
    g[k] = stats(vals)
  end
  return g
end

-- }======================================================

-- {====================================================== verdicts
-- A claim is judged on its primary setting only (claims.lua: primary); its
-- ablations are shown under it with the same numbers and never change the
-- verdict.  A check gets the claim's params P, the setting S (its role keys
-- name variants of the plan) and the configurations G[variant] of the
-- setting's mode ({runs, spec}, each run {seed, v, legacy}); it returns a
-- list of parts (each a sentence with its own verdict, made by the part
-- builders below) and an optional caveat.  The claim's verdict combines the
-- parts (report.RULE); no threshold is tuned to pass.

local HOLDS, FAILS, UNSURE = "holds", "does NOT hold", "inconclusive"
report.VERDICTS = {HOLDS, FAILS, UNSURE}
local ALPHA = 0.05

report.RULE = {
  "Per seed, a quantity that the scripts evaluate during training is the mean over the last 25% of "
    .. "its evaluations (the rows of metrics.csv where the claim's evaluation column is set), because single "
    .. "evaluations swing (one PacGAN grid run moved between 6 and 23 modes); values a script "
    .. "measures once at the end (Parzen, the linear probe, Spearman rho over the run) are taken as they are.",
  "Over seeds: n, every seed's value, the mean and its 95% t-interval (t quantile of n - 1 degrees of freedom).",
  "A threshold (\"mean >= 150\") holds when the whole 95% interval lies on the passing side, does NOT hold "
    .. "when the mean lies on the failing side, and is inconclusive otherwise (one seed, or an interval "
    .. "that straddles the threshold). Seeds that all give the same value (8 of 8 modes in every seed) give "
    .. "an interval of zero width: the t-interval assumes a normal spread and cannot widen it.",
  "A comparison of two arms (\"A more than B\", optionally by a margin) is tested on the per-seed "
    .. "differences, paired by seed where both arms ran that seed, with the exact one-sided sign-flip "
    .. "(paired permutation) test; with no shared seed, the exact two-sample permutation test. It holds "
    .. "when p < 0.05 in the claimed direction, does NOT hold when the mean difference is not in the "
    .. "claimed direction, and is inconclusive otherwise: with 3 seeds the smallest possible one-sided p is "
    .. "1/8, with 5 seeds 1/32, so 3 seeds can never make a comparison hold. The sign test is printed beside it.",
  "A per-seed event (\"the GAN collapses in most seeds\") holds when the exact binomial (sign) test of its "
    .. "rate against 1/2 gives p < 0.05, does NOT hold when it happened in at most half the seeds, and is "
    .. "inconclusive otherwise.",
  "The configurations of a setting must run the same generator iterations (--iters); unequal compute "
    .. "makes the setting inconclusive at best, and such settings are ablations.",
  "A claim holds when every part holds, does NOT hold when any part does NOT hold, and is inconclusive "
    .. "otherwise, or whenever its caveat says the measurement does not test the claim (HQ share under 10%: "
    .. "the generator has not concentrated on the modes, so mode counts come from stray samples).",
  "Results in the older layout keep only the last evaluation row (the series was not stored): they are "
    .. "judged on that row and the verdict says \"(last evaluation only; legacy result)\". Configurations "
    .. "with fewer seeds than planned are judged on what ran and say \"n = k of N planned\".",
}

local function ci_text(lo, hi)
  if not lo then return "no interval from one seed" end
  return ("95%% CI [%s, %s]"):format(fmt(lo), fmt(hi))
end

-- per-seed values of column col in configuration c, in seed order
local function series(c, col)
  local vals, seeds = {}, {}
  for _, r in ipairs(c.runs) do
    if type(r.v[col]) == "number" then vals[#vals + 1], seeds[#seeds + 1] = r.v[col], r.seed end
  end
  return vals, seeds
end

local function join(vals)
  local t = {}
  for i, v in ipairs(vals) do t[i] = fmt(v) end
  return table.concat(t, " / ")
end

-- a p-value: three significant digits (1/32 = 0.0312, 2^-12 = 0.000244)
local function fmt_p(p) return p >= 1 and "1" or ("%.3g"):format(p) end

-- a seed, or cell:seed for pooled configurations (see pooled below)
local function seed_text(s) return s >= 1000 and ("%d:%d"):format(s // 1000, s % 1000) or tostring(s) end

local function n_text(c, n)
  return ("n = %d of %d planned%s"):format(n, #c.spec.seeds,
    c.legacy and ", window: last evaluation only, series not stored" or "")
end

-- the non-nil arguments, in order
local function list_parts(...)
  local out = {}
  for i = 1, select("#", ...) do
    local p = select(i, ...)
    if p then out[#out + 1] = p end
  end
  return out
end

local function part(verdict, text) return {verdict = verdict, text = text .. ": " .. verdict} end
-- a part with numbers but no verdict of its own
local function info(text) return {text = text} end

local PASS = {[">="] = function(x, b) return x >= b end, [">"] = function(x, b) return x > b end,
              ["<="] = function(x, b) return x <= b end, ["<"] = function(x, b) return x < b end}

-- The mean of col over seeds against bound: "what: n = ..., per seed ...;
-- mean m, 95% CI [lo, hi]; target op bound: verdict".
local function threshold(c, col, op, bound, what)
  if not c then return nil end
  local vals = series(c, col)
  if #vals == 0 then return nil end
  local m, lo, hi = ST.t_interval(vals)
  local pass = PASS[op]
  local near_side = (op == ">=" or op == ">") and lo or hi
  local v = not pass(m, bound) and FAILS or (near_side and pass(near_side, bound)) and HOLDS or UNSURE
  return part(v, ("%s: %s, per seed %s; mean %s, %s; target mean %s %s"):format(what, n_text(c, #vals),
    join(vals), fmt(m), ci_text(lo, hi), op, fmt(bound)))
end

-- Arm a against arm b on col: the claim is a - b > margin (side "greater")
-- or a - b < margin ("less"), tested on per-seed differences paired by seed.
-- colb: b's column when it is not col (two columns of one configuration).
local function compare(ca, cb, col, side, what, margin, colb)
  if not (ca and cb) then return nil end
  margin = margin or 0
  local va, sa = series(ca, col)
  local vb, sb = series(cb, colb or col)
  if #va == 0 or #vb == 0 then return nil end
  local of_b = {}
  for i, s in ipairs(sb) do of_b[s] = vb[i] end
  local d, seeds = {}, {}
  for i, s in ipairs(sa) do
    if of_b[s] then d[#d + 1], seeds[#seeds + 1] = va[i] - of_b[s] - margin, s end
  end
  local sign = side == "greater" and 1 or -1
  local est, p, how
  local mtext = margin ~= 0 and (" minus the margin %s"):format(fmt(margin)) or ""
  local stexts = {}
  for i, sd in ipairs(seeds) do stexts[i] = seed_text(sd) end
  if #d > 0 then
    local m, lo, hi = ST.t_interval(d)
    est, p = m, ST.signflip_p(d, side)
    local sp, pos, nz = ST.sign_test_p(d, side)
    how = ("paired by seed (seeds %s), differences%s: %s, mean %s, %s; exact sign-flip test, one-sided p = %s "
      .. "(smallest possible with %d pairs: %s); sign test: %d of %d nonzero differences %s, p = %s"):format(
      table.concat(stexts, ","), mtext, join(d), fmt(m), ci_text(lo, hi), fmt_p(p), #d, fmt_p(0.5 ^ #d),
      side == "greater" and pos or nz - pos, nz, side == "greater" and "positive" or "negative", fmt_p(sp))
  else
    local shifted = {}
    for i, x in ipairs(va) do shifted[i] = x - margin end
    est, p = ST.mean(shifted) - ST.mean(vb), ST.perm2_p(shifted, vb, side)
    how = ("no shared seed: difference of means%s: %s; exact two-sample permutation test, one-sided p = %s")
      :format(mtext, fmt(est), fmt_p(p))
  end
  local v = est * sign <= 0 and FAILS or p < ALPHA and HOLDS or UNSURE
  return part(v, ("%s: %s, per seed %s against %s, per seed %s; %s"):format(what, n_text(ca, #va), join(va),
    n_text(cb, #vb), join(vb), how))
end

-- An event per seed (pred(run.v) true), claimed for most seeds.
local function most_seeds(c, pred, what, no_verdict)
  if not c then return nil end
  local k, n, marks = 0, 0, {}
  for _, r in ipairs(c.runs) do
    local e = pred(r.v)
    if e ~= nil then
      n = n + 1
      if e then k = k + 1 end
      marks[#marks + 1] = e and "yes" or "no"
    end
  end
  if n == 0 then return nil end
  local p = ST.binom_p(k, n, "greater")
  local v = k * 2 <= n and FAILS or p < ALPHA and HOLDS or UNSURE
  local text = ("%s: in %d of %d seeds (%s; per seed %s); exact binomial test against a rate of 1/2, "
    .. "one-sided p = %s"):format(what, k, n, n_text(c, n), table.concat(marks, " / "), fmt_p(p))
  return no_verdict and info(text) or part(v, text)
end

-- at least one of the parts: holds if any holds, does NOT hold if all fail
local function either(what, ...)
  local ps, texts, best = list_parts(...), {}, FAILS
  if #ps == 0 then return nil end
  for _, p in ipairs(ps) do
    texts[#texts + 1] = p.text
    if p.verdict == HOLDS then best = HOLDS elseif p.verdict == UNSURE and best ~= HOLDS then best = UNSURE end
  end
  return part(best, ("%s (either of: %s)"):format(what, table.concat(texts, "; or ")))
end

-- the parts' verdicts combined: report.RULE
local function combine(parts)
  local v, any = HOLDS, false
  for _, p in ipairs(parts) do
    if p.verdict then
      any = true
      if p.verdict == FAILS then v = FAILS elseif p.verdict == UNSURE and v ~= FAILS then v = UNSURE end
    end
  end
  return any and v or nil
end
report.combine = combine

-- the HQ caveat: a mode count means little while G is a diffuse cloud
local function diffuse(G, ...)
  local low = {}
  for _, v in ipairs{...} do
    local c = G[v]
    local vals = c and series(c, "hq") or {}
    if #vals > 0 and ST.mean(vals) < 0.1 then low[#low + 1] = ("%s %.1f%%"):format(v, 100 * ST.mean(vals)) end
  end
  if #low == 0 then return nil end
  return "HQ share below 10% (" .. table.concat(low, ", ") .. "): the generator has not concentrated on the "
    .. "modes, so these mode counts come from a few stray samples near the centres and the comparison does "
    .. "not test the claim"
end

-- collapse on MNIST: <= P.collapse_classes classes covered or the top class above P.collapse_top
local function collapsed(P)
  return function(v)
    if not v.classes then return nil end
    return v.classes <= P.collapse_classes or (v.top_share or 0) > P.collapse_top
  end
end

local checks = {}
report.checks = checks

function checks.parzen(P, S, G)
  return list_parts(threshold(G[S.config], "parzen", ">=", P.min, "Parzen log-likelihood of the test digits (nats)"))
end

function checks.probe_gain(P, S, G)
  local c = G[S.config]
  if not c then return {} end
  local t, r, x = series(c, "probe_trained"), series(c, "probe_random"), series(c, "probe_pixels")
  return list_parts(threshold(c, "probe_gain", ">=", P.min,
      "trained D's probe accuracy minus the better of random D and pixels (points)"),
    info(("probe accuracy per seed (%%): trained D %s, random D %s, pixels %s"):format(join(t), join(r), join(x))))
end

function checks.rho_w1(P, S, G)
  return list_parts(threshold(G[S.wgan], "rho", ">=", P.min, "WGAN: Spearman rho(held-out critic estimate, "
      .. "exact W1) over the evaluations"),
    compare(G[S.wgan], G[S.gan], "rho", "greater", "WGAN's rho above the GAN's (its JS estimate against W1)"))
end

function checks.rho_mode(P, S, G)
  local out = list_parts(threshold(G[S.wgan], "rho", "<=", P.max,
    "WGAN: Spearman rho(critic's estimate, MODE score) over the evaluations"))
  local g = G[S.gan] and series(G[S.gan], "rho") or {}
  if #g > 0 then out[#out + 1] = info("the GAN's JS estimate against the MODE score, per seed " .. join(g)) end
  return out
end

-- the seeds whose clipped critic died (constant output), if any
local function dead_info(c)
  local dead, classes, ndead = series(c, "dead_critic"), series(c, "classes"), 0
  local live = {}
  for i, d in ipairs(dead) do
    if d == 1 then ndead = ndead + 1 elseif classes[i] then live[#live + 1] = fmt(classes[i]) end
  end
  if ndead == 0 then return nil end
  return info(("the clipped critic died (constant output, no gradient for G) in %d of %d runs; the live ones "
    .. "cover %s classes"):format(ndead, #dead, #live > 0 and table.concat(live, " / ") or "no"))
end

function checks.mnist_coverage(P, S, G)
  local w = G[S.wgan]
  return list_parts(threshold(w, "classes", ">=", P.min_classes, "WGAN: classes covered"),
    threshold(w, "top_share", "<", P.max_top, "WGAN: share of the top class"),
    most_seeds(G[S.gan], collapsed(P), ("the GAN collapses (<= %d classes or top class > %s)"):format(
      P.collapse_classes, fmt(P.collapse_top))),
    w and dead_info(w))
end

function checks.coverage(P, S, G)
  local out = {}
  for _, t in ipairs(S.configs) do
    local c = G[t[1]]
    out[#out + 1] = threshold(c, "modes", ">=", t[2], t[1] .. ": modes")
    out[#out + 1] = threshold(c, "hq", ">=", t[3] / 100, t[1] .. ": HQ share")
  end
  return out
end

local function collapse_or_hop(c, max_modes, v)
  return either(v .. " collapses or hops", threshold(c, "modes", "<=", max_modes, v .. ": modes"),
    threshold(c, "hop_share", ">=", 0.5, v .. ": share of evaluations at which the set of captured modes changed"))
end

function checks.wgangp_vs_gan(P, S, G)
  local out = list_parts(threshold(G[S.ring[1]], "modes", ">=", P.min_modes, S.ring[1] .. ": modes"),
    collapse_or_hop(G[S.ring[2]], P.max_modes, S.ring[2]))
  if S.grid then
    out[#out + 1] = compare(G[S.grid[1]], G[S.grid[2]], "modes", "greater",
      ("%s more modes than %s"):format(S.grid[1], S.grid[2]))
  end
  return out
end

function checks.swissroll(P, S, G)
  local c = G[S.config]
  if not c then return {} end
  local m, h = series(c, "modes"), series(c, "hq")
  return {info(("arcs covered of 20, per seed %s; share of samples within 3 noise std of the curve, per seed %s "
    .. "(%s; no numeric target: the paper shows this toy's critic)"):format(join(m), join(h), n_text(c, #m)))}
end

function checks.gp_vs_clipping(P, S, G)
  local out = list_parts(compare(G[S.gp], G[S.clip], "fid", "less", "FID, gradient penalty against clipping"),
    threshold(G[S.gp], "classes", ">=", P.min_classes, "WGAN-GP: classes covered"))
  local r = G[S.ref] and series(G[S.ref], "fid") or {}
  if #r > 0 then out[#out + 1] = info(("reference, %s: FID per seed %s"):format(S.ref, join(r))) end
  return out
end

function checks.clip_vs_dcgan(P, S, G)
  return list_parts(threshold(G[S.wgan], "classes", ">=", P.min_classes, "WGAN (clipping): classes covered"),
    threshold(G[S.wgan], "top_share", "<", P.max_top, "WGAN (clipping): share of the top class"),
    most_seeds(G[S.dcgan], collapsed(P), ("the BN-free DCGAN collapses (<= %d classes or top class > %s)"):format(
      P.collapse_classes, fmt(P.collapse_top))))
end

function checks.lsgan_ring(P, S, G)
  local function dips(v) return v.min_modes_15k and v.min_modes_15k <= P.dip end
  local out = list_parts(threshold(G[S.ls], "modes", ">=", P.min_modes, S.ls .. ": modes"),
    compare(G[S.ls], G[S.bce], "modes", "greater", ("%s more modes than %s"):format(S.ls, S.bce)),
    most_seeds(G[S.bce], dips, ("%s dips to <= %d modes at some evaluation from 15k on"):format(S.bce, P.dip)))
  out[#out + 1] = most_seeds(G[S.ls], dips, ("for comparison, %s dips so"):format(S.ls), true)
  return out, diffuse(G, S.ls, S.bce)
end

function checks.lsgan_img(P, S, G)
  return list_parts(most_seeds(G[S.bce], collapsed(P), ("sigmoid collapses at the end (<= %d classes or top "
      .. "class > %s)"):format(P.collapse_classes, fmt(P.collapse_top))),
    threshold(G[S.ls], "classes", ">=", P.min_classes, "LS: classes covered"),
    compare(G[S.ls], G[S.bce], "fid", "less", "FID, LS against sigmoid"))
end

function checks.mrgan_grid(P, S, G)
  return list_parts(compare(G[S.reg], G[S.gan], "modes", "greater",
      ("Reg-GAN more modes than the GAN by more than %d"):format(P.min_gain), P.min_gain),
    compare(G[S.reg], G[S.gan], "hq", "greater", ("Reg-GAN's HQ share at most %d points below the GAN's")
      :format(P.max_hq_loss), -P.max_hq_loss / 100)), diffuse(G, S.reg, S.gan)
end

-- the runs of several configurations as one, seeds renumbered by cell
-- (cell i, seed s -> 1000 i + s) so that two pooled lists pair cell by cell
local function pooled(G, names, fail_below)
  local runs, seeds, spec, legacy = {}, {}, nil, false
  for i, name in ipairs(names) do
    local c = G[name]
    if c then
      spec, legacy = spec or c.spec, legacy or c.legacy
      for _, r in ipairs(c.runs) do
        local v = {mode_score = r.v.mode_score}
        if v.mode_score then v.fail = v.mode_score < fail_below and 1 or 0 end
        runs[#runs + 1] = {seed = 1000 * i + r.seed, v = v}
      end
      for _, s in ipairs(c.spec.seeds) do seeds[#seeds + 1] = s end
    end
  end
  if not spec then return nil end
  return {runs = runs, spec = {seeds = seeds, flags = spec.flags}, legacy = legacy}
end

function checks.mrgan_mnist(P, S, G)
  local r, g = pooled(G, S.reg, P.fail_below), pooled(G, S.gan, P.fail_below)
  return list_parts(compare(r, g, "mode_score", "greater", "MODE score, Reg-GAN against the GAN (the cells "
      .. "pooled, in the order listed; seeds as cell:seed)"),
    compare(g, r, "fail", "greater", ("runs with MODE < %s (1) or not (0), the GAN against Reg-GAN"):format(
      fmt(P.fail_below))))
end

function checks.k0_hops(P, S, G)
  return list_parts(collapse_or_hop(G[S.config], P.max_modes, S.config)), diffuse(G, S.config)
end

function checks.pacgan_toys(P, S, G)
  local g, p = S.grid[1], S.grid[2]
  return list_parts(compare(G[S.ring[2]], G[S.ring[1]], "modes", "greater", S.ring[2] .. " more modes than " .. S.ring[1]),
    compare(G[p], G[g], "modes", "greater", ("%s more modes than %s by more than %d"):format(p, g, P.grid_gain),
      P.grid_gain),
    threshold(G[p], "modes", ">=", P.grid_min, p .. ": modes"),
    threshold(G[p], "hq", ">=", P.min_hq, p .. ": HQ share"),
    threshold(G[g], "hq", ">=", P.min_hq, g .. ": HQ share")),
    diffuse(G, S.ring[1], S.ring[2], g, p)
end

function checks.pacgan_stacked(P, S, G)
  local out = list_parts(compare(G[S.pac], G[S.gan], "modes", "greater", "modes, PacGAN2 against the GAN"),
    compare(G[S.pac], G[S.gan], "kl", "less", "KL to the uniform triple distribution, PacGAN2 against the GAN"))
  local c = G[S.pac]
  if c then
    local m, k = series(c, "modes"), series(c, "kl")
    out[#out + 1] = info(("the paper's PacDCGAN2 level (1000 modes, KL 0.06), reported and not judged (the "
      .. "direction is the test at our scale): PacGAN2 modes per seed %s, KL %s; the level is %s")
      :format(join(m), join(k), ST.mean(m) >= 999.5 and ST.mean(k) <= P.max_kl and "reached" or "not reached"))
  end
  return out
end

-- SimGAN: training on refined images beats training on synthetic ones; the
-- refinement moves the images towards the clean ones (l1_refined at most
-- P.max_l1_ratio of l1_synthetic); the oracle classifier keeps the
-- simulator's label on refined images (keep_refined at least P.min_keep of
-- its accuracy on the clean images).  setting {main}.
function checks.simgan(P, S, G)
  local c = G[S.main]
  if not c then return {} end
  for _, r in ipairs(c.runs) do   -- per seed, the ratios the targets are stated in
    local v = r.v
    if v.l1_refined and v.l1_synthetic and v.l1_synthetic > 0 then v.l1_ratio = v.l1_refined / v.l1_synthetic end
    if v.keep_refined and v.keep_clean and v.keep_clean > 0 then v.keep_ratio = v.keep_refined / v.keep_clean end
  end
  return list_parts(
    compare(c, c, "acc_refined", "greater", "test accuracy of the classifier trained on refined images "
      .. "above the one trained on synthetic images", 0, "acc_synthetic"),
    threshold(c, "l1_ratio", "<=", P.max_l1_ratio, "L1 to the clean images, refined / synthetic"),
    threshold(c, "keep_ratio", ">=", P.min_keep, "oracle's label agreement on refined images / on clean ones"))
end

-- AdaGAN: the boosted mixture captures more modes than a single GAN and than
-- an ensemble of the same size, with coverage C >= P.min_coverage.
-- setting {adagan, single, ensemble}.
function checks.adagan(P, S, G)
  local a = G[S.adagan]
  return list_parts(
    compare(a, G[S.single], "modes", "greater", "modes: AdaGAN above the single GAN"),
    compare(a, G[S.ensemble], "modes", "greater", "modes: AdaGAN above the ensemble"),
    threshold(a, "coverage", ">=", P.min_coverage, "AdaGAN's coverage C"))
end

-- Semi-supervised GANs: the classifier trained with unlabelled images and a
-- GAN beats the same classifier trained on the labels alone by more than
-- P.min_gain in test accuracy (paired by seed), and reaches P.min_acc
-- unless the setting says min_acc = false (fewer labels, other methods).
-- setting {ssl, base [, min_acc]}.
function checks.ssgan(P, S, G)
  local ssl = G[S.ssl]
  local min_acc = S.min_acc == nil and P.min_acc or S.min_acc
  return list_parts(
    compare(ssl, G[S.base], "test_acc", "greater", ("test accuracy: %s above %s by more than %s")
      :format(S.ssl, S.base, fmt(P.min_gain)), P.min_gain),
    min_acc and threshold(ssl, "test_acc", ">=", min_acc, "test accuracy of " .. S.ssl) or nil)
end

-- AAE, the aggregated posterior: the test codes' MMD to the prior below the
-- plain autoencoder's and the VAE's (those the setting names), their
-- per-dim mean within P.max_mean_dev prior sd of 0 and sd within
-- P.max_sd_dev of the prior's.  setting {aae [, ae] [, vae]}.
function checks.aae_posterior(P, S, G)
  local a = G[S.aae]
  return list_parts(
    S.ae and compare(a, G[S.ae], "mmd", "less", "MMD^2 of the test codes to the prior: AAE below the plain autoencoder"),
    S.vae and compare(a, G[S.vae], "mmd", "less", "MMD^2 of the test codes to the prior: AAE below the VAE"),
    threshold(a, "mean_dev", "<=", P.max_mean_dev, "AAE: largest per-dim |mean| of the test codes (prior sd)"),
    threshold(a, "sd_dev", "<=", P.max_sd_dev, "AAE: largest per-dim |sd / prior sd - 1| of the test codes"))
end

-- AAE, generation: the Parzen log-likelihood of the test digits under decoded
-- prior samples above the baseline's (the plain autoencoder; an ablation may
-- name another) by more than P.margin nats.  setting {aae, ae}.
function checks.aae_parzen(P, S, G)
  return list_parts(compare(G[S.aae], G[S.ae], "parzen", "greater",
    ("Parzen log-likelihood (nats): %s above %s by more than %s"):format(S.aae, S.ae, fmt(P.margin)), P.margin))
end

-- AAE, semi-supervised: the test error of the class code below that of the
-- same classifier trained on the labels alone by more than P.margin.
-- setting {ssl, sup}.
function checks.aae_ssl(P, S, G)
  return list_parts(compare(G[S.sup], G[S.ssl], "test_err", "greater",
    ("test error: %s above %s by more than %s"):format(S.sup, S.ssl, fmt(P.margin)), P.margin))
end

-- LAPGAN: the pyramid's Parzen log-likelihood and MODE score above those of one GAN at
-- 28x28 trained as long (the training seconds of both arms are reported beside).
-- setting {lapgan, gan}.
function checks.lapgan(P, S, G)
  local l, g = G[S.lapgan], G[S.gan]
  local out = list_parts(
    compare(l, g, "parzen", "greater", "Parzen log-likelihood of the test digits (nats), LAPGAN against the GAN"),
    compare(l, g, "mode_score", "greater", "MODE score, LAPGAN against the GAN"))
  if l and g then
    local function per_seed(c, col) return join(series(c, col)) end
    out[#out + 1] = info(("equal compute: training seconds per seed, LAPGAN %s, GAN %s; classes covered, "
      .. "LAPGAN %s, GAN %s; FID-lite, LAPGAN %s, GAN %s"):format(per_seed(l, "train_s"), per_seed(g, "train_s"),
      per_seed(l, "classes"), per_seed(g, "classes"), per_seed(l, "fid"), per_seed(g, "fid")))
  end
  return out
end

-- EBGAN (Zhao et al. 2017): the energy-based game trains G better than the
-- classifier GAN of the same nets (inception score, paired by seed) and
-- covers at least P.min_classes classes.  setting {ebgan, gan}.
function checks.ebgan_vs_gan(P, S, G)
  return list_parts(
    compare(G[S.ebgan], G[S.gan], "inception", "greater", "inception score, EBGAN against the GAN"),
    threshold(G[S.ebgan], "classes", ">=", P.min_classes, "EBGAN: classes covered"))
end

-- EBGAN-PT: the pulling-away term raises the entropy H(p(y)) of the
-- samples' mean class distribution over EBGAN without it.  setting {pt, ebgan}.
function checks.ebgan_pt(P, S, G)
  return list_parts(compare(G[S.pt], G[S.ebgan], "hy", "greater", "H(p(y)) in nats, EBGAN-PT against EBGAN"))
end

-- BEGAN's control: per configuration, the mean of L(G(z))/L(x) after the
-- warm-up within P.max_ratio_err of gamma, and 0 < k_t < 1 at a share of
-- those steps of at least P.min_k_inside.  setting {configs = {...}}.
function checks.began_equilibrium(P, S, G)
  local out = {}
  for _, v in ipairs(S.configs) do
    out[#out + 1] = threshold(G[v], "ratio_err", "<=", P.max_ratio_err,
      v .. ": |mean L(G(z))/L(x) after the warm-up - gamma|")
    out[#out + 1] = threshold(G[v], "k_inside", ">=", P.min_k_inside, v .. ": share of those steps with 0 < k_t < 1")
  end
  return list_parts(table.unpack(out))
end

-- BEGAN's convergence measure: M_global ends at least P.min_drop below its
-- peak (as a fraction), and follows the FID over the evaluations (Spearman
-- rho at least P.min_rho).  setting {config}.
function checks.began_convergence(P, S, G)
  local c = G[S.config]
  return list_parts(threshold(c, "M_drop", ">=", P.min_drop, "M_global's fall from its peak (fraction)"),
    threshold(c, "rho", ">=", P.min_rho, "Spearman rho(M_global, FID) over the evaluations"))
end

-- BEGAN's gamma: diversity (P.col) rises with gamma, each configuration of
-- S.order (ascending gamma) above the one before, paired by seed.
function checks.began_diversity(P, S, G)
  local out = {}
  for i = 1, #S.order - 1 do
    local lo, hi = S.order[i], S.order[i + 1]
    out[#out + 1] = compare(G[hi], G[lo], P.col, "greater", ("%s: %s above %s"):format(P.col, hi, lo))
  end
  return list_parts(table.unpack(out))
end

-- P(X >= k) for X ~ Binomial(n, p)
local function binom_upper(k, n, p)
  local s, c = 0, 1
  for j = 0, n do
    if j >= k then s = s + c * p ^ j * (1 - p) ^ (n - j) end
    c = c * (n - j) / (j + 1)
  end
  return s
end

-- The two-sided 95% Clopper-Pearson interval of a rate k / n: lo solves
-- P(X >= k | lo) = 0.025, hi solves P(X <= k | hi) = 0.025 (bisection).
function report.clopper_pearson(k, n)
  local function solve(f)   -- f increasing in p, the root in [0, 1]
    local a, b = 0, 1
    for _ = 1, 60 do
      local m = (a + b) / 2
      if f(m) < 0 then a = m else b = m end
    end
    return (a + b) / 2
  end
  local lo = k == 0 and 0 or solve(function(p) return binom_upper(k, n, p) - 0.025 end)
  local hi = k == n and 1 or solve(function(p) return 0.025 - (1 - binom_upper(k + 1, n, p)) end)
  return lo, hi
end

-- Adversarial neural cryptography: a run succeeds when Bob is at most
-- P.max_bob bits wrong at the end and the best fresh Eve at least P.min_eve;
-- success in most seeds (exact binomial test, with the Clopper-Pearson
-- interval of the share), and the fresh Eves do worse against the adversarial
-- Alice than against the control's.  setting {adv, control}.
function checks.crypto(P, S, G)
  local a = G[S.adv]
  local function success(v)
    if not (v.bob_bits_wrong and v.retrained_eve_bits_wrong) then return nil end
    return v.bob_bits_wrong <= P.max_bob and v.retrained_eve_bits_wrong >= P.min_eve
  end
  local most = most_seeds(a, success, ("runs that succeed (Bob <= %s bits wrong, best fresh Eve >= %s)")
    :format(fmt(P.max_bob), fmt(P.min_eve)))
  local share
  if most then
    local k, n = 0, 0
    for _, r in ipairs(a.runs) do
      local e = success(r.v)
      if e ~= nil then n, k = n + 1, k + (e and 1 or 0) end
    end
    local lo, hi = report.clopper_pearson(k, n)
    share = info(("share of successful runs %d/%d = %s, 95%% Clopper-Pearson interval [%s, %s]")
      :format(k, n, fmt(k / n), fmt(lo), fmt(hi)))
  end
  return list_parts(most, share,
    compare(a, G[S.control], "retrained_eve_bits_wrong", "greater",
      "best fresh Eve's bits wrong: adversarial training above the control without the Eve term"))
end

-- cGAN: the classifier agrees with the requested class on at least
-- P.min_acc of the samples, and the samples of a class are at least
-- P.min_diversity as spread (mean pairwise feature distance) as real digits
-- of that class.  setting {main}.
function checks.cgan(P, S, G)
  local c = G[S.main]
  return list_parts(
    threshold(c, "cond_acc", ">=", P.min_acc, "classifier agreement with the requested class"),
    threshold(c, "diversity", ">=", P.min_diversity, "intra-class feature spread, generated / real"))
end

-- VGAN: the two-stream G's mask covers where its clips change (IoU >= P.min_iou),
-- its clips move as much as real ones (motion ratio in [P.min_motion, P.max_motion]),
-- frozen D features tell the motion direction better than a random D's.
-- setting {two}.
function checks.vgan(P, S, G)
  local c = G[S.two]
  return list_parts(
    threshold(c, "mask_iou", ">=", P.min_iou, "IoU of the mask (m > 0.5) with where the generated frames change"),
    threshold(c, "motion_ratio", ">=", P.min_motion, "frame-to-frame change, generated / real"),
    threshold(c, "motion_ratio", "<=", P.max_motion, "frame-to-frame change, generated / real"),
    threshold(c, "probe_gain", ">", 0, "motion-direction probe accuracy, trained D minus random D"))
end

-- VGAN two-stream against one-stream: generated motion closer to the real
-- amount, |log(motion ratio)| smaller, paired by seed.  setting {two, one}.
function checks.vgan_streams(P, S, G)
  for _, name in ipairs{S.two, S.one} do
    for _, r in ipairs(G[name] and G[name].runs or {}) do
      local m = r.v.motion_ratio
      if m and m > 0 then r.v.motion_err = math.abs(math.log(m)) end
    end
  end
  return list_parts(compare(G[S.two], G[S.one], "motion_err", "less",
    "|log(generated / real frame-to-frame change)|: two-stream below one-stream"))
end

-- Text to image (Reed et al. 2016): with roles {cls, plain}, GAN-CLS's attribute accuracy
-- above the plain conditional GAN's; {main}, D's mean probability on real test digits with
-- the right caption above that with a wrong one by more than P.min_gap; {int, cls}, GAN-INT's
-- accuracy on the held-out combinations above GAN-CLS's.
function checks.text2img(P, S, G)
  if S.plain then
    return list_parts(compare(G[S.cls], G[S.plain], "attr_acc", "greater",
      ("digit, thickness and slant all as captioned: %s above %s"):format(S.cls, S.plain)))
  elseif S.main then
    return list_parts(threshold(G[S.main], "d_gap", ">", P.min_gap,
      S.main .. ": D(real, right caption) - D(real, wrong caption) on test digits"))
  end
  return list_parts(compare(G[S.int], G[S.cls], "ho_acc", "greater",
    ("held-out combinations, all three attributes as captioned: %s above %s"):format(S.int, S.cls)))
end

-- SRGAN: params.part "bicubic": SRResNet's PSNR above bicubic's by more than
-- P.min_gain_db and its SSIM above bicubic's; "tradeoff": SRGAN's PSNR below
-- SRResNet's and its FID-lite below SRResNet's.  All columns of one
-- configuration (every run trains both arms), paired by seed.  setting {main}.
function checks.srgan(P, S, G)
  local c = G[S.main]
  if not c then return {} end
  if P.part == "bicubic" then
    return list_parts(
      compare(c, c, "psnr_srresnet", "greater", "PSNR: SRResNet above bicubic by more than "
        .. fmt(P.min_gain_db) .. " dB", P.min_gain_db, "psnr_bicubic"),
      compare(c, c, "ssim_srresnet", "greater", "SSIM (7x7 window): SRResNet above bicubic", 0, "ssim_bicubic"))
  end
  return list_parts(
    compare(c, c, "psnr_srgan", "less", "PSNR: SRGAN below SRResNet", 0, "psnr_srresnet"),
    compare(c, c, "fid_srgan", "less", "FID-lite: SRGAN below SRResNet", 0, "fid_srresnet"))
end

-- pix2pix (P.part): "ordering": L1+cGAN's outputs more realistic (FID-lite)
-- than L1 alone's and closer to the targets (L1) than cGAN alone's; "fcn":
-- the classifier's accuracy on L1+cGAN's outputs above both arms'
-- (Table 1's FCN-score); "retrieval": D's features above raw pixels at
-- precision@k; "rotation": their relative drop under rotated queries below
-- the pixels'.  setting {main [, l1, cgan]}; all paired by seed.
function checks.pix2pix(P, S, G)
  local m = G[S.main]
  if P.part == "ordering" then
    return list_parts(compare(m, G[S.l1], "fid", "less", "FID-lite of the outputs: L1+cGAN below L1 alone"),
      compare(m, G[S.cgan], "l1", "less", "L1 to the targets: L1+cGAN below cGAN alone"))
  elseif P.part == "fcn" then
    return list_parts(compare(m, G[S.l1], "acc", "greater", "classifier accuracy on the outputs: L1+cGAN above L1 alone"),
      compare(m, G[S.cgan], "acc", "greater", "classifier accuracy on the outputs: L1+cGAN above cGAN alone"))
  end
  if not m then return {} end
  for _, r in ipairs(m.runs) do
    local v = r.v
    for _, f in ipairs{"D", "pixels"} do
      local a, b = v["p10_" .. f], v["p10_" .. f .. "_rot"]
      if a and b and a > 0 then v["drop_" .. f] = 1 - b / a end
    end
  end
  if P.part == "retrieval" then
    return list_parts(compare(m, m, "p10_D", "greater", "precision@10: D's features above raw pixels", 0, "p10_pixels"))
  end
  return list_parts(compare(m, m, "drop_D", "less", "relative drop of precision@10 under rotated queries: "
    .. "D's features below raw pixels", 0, "drop_pixels"))
end

-- Checks for tests and small plans.  mean_at_least: the mean of a column
-- against a bound, params {col, min, label}, setting {config}.
function checks.mean_at_least(P, S, G)
  return list_parts(threshold(G[S.config], P.col, ">=", P.min, P.label or P.col))
end

-- more_than: arm a's column above arm b's; params {col}, setting {a, b}
function checks.more_than(P, S, G)
  return list_parts(compare(G[S.a], G[S.b], P.col, "greater", ("%s: %s above %s"):format(P.col, S.a, S.b)))
end

-- }======================================================

-- {====================================================== the report

-- Everything the report needs from the results: per mode and experiment the
-- runs and stats of each configuration in the plan.
function report.collect(plan, results_dir)
  local R = {}
  for _, mode in ipairs(MODES) do
    for _, e in ipairs(plan) do
      for _, spec in ipairs(e.runs) do
        if spec.mode == mode then
          local cdir = ("%s/%s-%s-%s"):format(results_dir, mode, e.exp, spec.variant)
          local runs, missing, have = {}, {}, {}
          for _, sd in ipairs(report.seed_dirs(cdir)) do have[sd.seed] = sd.dir end
          for _, s in ipairs(spec.seeds) do
            if have[s] then
              local r = report.read_seed(have[s], spec.evalcol or e.evalcol, "last")
              r.seed = s
              runs[#runs + 1] = r
            else
              missing[#missing + 1] = s
            end
          end
          if #runs > 0 then
            R[mode] = R[mode] or {}
            R[mode][e.exp] = R[mode][e.exp] or {}
            R[mode][e.exp][spec.variant] = {spec = spec, runs = runs, missing = missing, g = aggregate(runs),
              evalcol = spec.evalcol or e.evalcol, windows = {},
              dir = cdir, grid = exists(cdir .. "/samples.png") and cdir .. "/samples.png" or nil}
          end
        end
      end
    end
  end
  return R
end

-- The runs of configuration c with each seed's values read from window
-- (cached per window): {seed, v, legacy, ...} in seed order.
function report.window_runs(c, window)
  if not c.windows[window] then
    local runs = {}
    for i, r in ipairs(c.runs) do
      runs[i] = report.read_seed(r.dir, c.evalcol, window)
      runs[i].seed = r.seed
    end
    c.windows[window] = runs
  end
  return c.windows[window]
end

-- the variants a setting names (the strings under its role keys), sorted
local function setting_variants(S)
  local seen, out = {}, {}
  local function walk(t)
    for k, v in pairs(t) do
      if k ~= "label" and k ~= "why" and k ~= "mode" then
        if type(v) == "string" and not seen[v] then seen[v] = true; out[#out + 1] = v
        elseif type(v) == "table" then walk(v) end
      end
    end
  end
  walk(S)
  table.sort(out)
  return out
end
report.setting_variants = setting_variants

local function planned_seeds(e, mode, variant)
  for _, spec in ipairs(e.runs) do
    if spec.mode == mode and spec.variant == variant then return #spec.seeds end
  end
  return 0
end

-- One setting (a claim's primary or an ablation) judged on the results R:
-- {verdict (nil: nothing to judge), parts, caveat, legacy, none (no results
-- at all)}.  Quick mode is never judged.
function report.judge_setting(claim, S, R, e)
  local mode = S.mode or "full"
  local byvar = R[mode] and R[mode][e.exp] or {}
  local legacy = false
  local G = setmetatable({}, {__index = function(_, v)
    local c = byvar[v]
    if not c then return nil end
    local runs, old = report.window_runs(c, claim.window), false
    for _, r in ipairs(runs) do old = old or r.legacy end
    old = old and claim.window ~= "end"      -- an end-of-run value is the same in both layouts
    legacy = legacy or old
    return {runs = runs, spec = c.spec, legacy = old}
  end})
  local parts, caveat = checks[claim.check](claim.params or {}, S, G)
  local names, missing, its = setting_variants(S), 0, {}
  for _, v in ipairs(names) do
    local c = byvar[v]
    if not c then
      missing = missing + 1
      parts[#parts + 1] = {verdict = UNSURE, text = ("%s: no results yet (n = 0 of %d planned)"):format(v,
        planned_seeds(e, mode, v))}
    else
      its[#its + 1] = {v, c.spec.flags:match("%-%-iters%s+(%d+)") or "the script's default"}
    end
  end
  -- compute: every configuration of a setting runs the same iterations
  local unequal = false
  for _, t in ipairs(its) do unequal = unequal or t[2] ~= its[1][2] end
  if unequal then
    local t = {}
    for i, x in ipairs(its) do t[i] = ("%s --iters %s"):format(x[1], x[2]) end
    parts[#parts + 1] = part(UNSURE, "unequal compute (" .. table.concat(t, ", ") .. ")")
  end
  local res = {parts = parts, caveat = caveat, legacy = legacy, none = missing == #names, verdict = combine(parts)}
  if res.none then res.verdict = nil end
  if caveat and res.verdict then res.verdict = UNSURE end
  return res
end

-- "**verdict**" with the legacy label
local function verdict_text(res)
  return ("**%s**%s"):format(res.verdict, res.legacy and " (last evaluation only; legacy result)" or "")
end

local MODE_TEXT = {
  quick = "smoke size, 1 seed (`make reproduce-quick`): checks the pipeline, not the claims",
  long = "single-seed side runs that full mode does not repeat, about 15 minutes "
    .. "(`build/luagan experiments/reproduce.lua long`)",
  full = "reproduction size, seeds 1-5 on the 2-D toys and 1-3 on images, more where a row lists them "
    .. "(`make reproduce`)",
}
report.MODE_TEXT = MODE_TEXT

-- the path of file as seen from the directory out_dir
local function rel(file, out_dir)
  local pre = out_dir .. "/"
  if file:sub(1, #pre) == pre then return file:sub(#pre + 1) end
  return file
end

local function table_of(w, e, spec, c, out_dir)
  local cols = spec.cols or e.cols
  w(("**%s** (`%s.lua %s`, seeds %s)"):format(spec.variant, e.exp, spec.flags, table.concat(spec.seeds, ",")))
  w()
  w("| " .. table.concat(cols, " | ") .. " | wall (s) | runs | samples |")
  w("|" .. string.rep("---|", #cols + 3))
  local cells = {}
  for i, col in ipairs(cols) do cells[i] = fmt_stats(c.g[col]) end
  local walls = {}
  for _, r in ipairs(c.runs) do if r.wall then walls[#walls + 1] = r.wall end end
  local ws = stats(walls)
  local legacy = 0
  for _, r in ipairs(c.runs) do if r.legacy then legacy = legacy + 1 end end
  w("| " .. table.concat(cells, " | ") .. (" | %s | %d of %d%s | %s |"):format(ws and ("%.0f"):format(ws.mean) or "-",
    #c.runs, #spec.seeds, #c.missing > 0 and (" (missing seeds " .. table.concat(c.missing, ",") .. ")") or "",
    c.grid and ("[grid](%s)"):format(rel(c.grid, out_dir)) or "-"))
  w()
  if legacy > 0 then
    w(("(%d of these runs are kept in the older layout: window: last evaluation only, series not stored; "
      .. "the values the old driver derived from the whole series are in derived.txt.)"):format(legacy))
    w()
  end
end

-- a judged setting's parts, indented under its heading
local function write_parts(w, res, indent)
  for _, pt in ipairs(res.parts) do w(indent .. "- " .. pt.text .. ".") end
  if res.caveat then w(indent .. "- Caveat: " .. res.caveat .. ".") end
end

-- One claim: the paper, our target, the primary setting and its verdict,
-- the ablations under it.  Returns the primary's result (nil: no check).
local function claim_section(w, i, c, e, R)
  w(("### %d. %s"):format(i, prose(c.statement)))
  w()
  w(("- Paper: %s; source: %s."):format(prose(c.paper_value), prose(c.source)))
  w(("- Our target: %s."):format(prose(c.target)))
  w(("- Why this threshold: %s"):format(prose(c.why)))
  if not c.check then
    w("- Verdict: not measured by the driver (see the earlier measurements below).")
    w()
    return nil
  end
  local P = c.primary
  w(("- Primary setting (the only one judged): %s (%s, %s mode). Why: %s"):format(P.label,
    table.concat(setting_variants(P), ", "), P.mode or "full", prose(P.why)))
  w(("- Per seed: %s; over seeds: %s."):format(report.WINDOW_TEXT[c.window], prose(c.statistic)))
  local res = report.judge_setting(c, P, R, e)
  if res.none then
    w("- Verdict: not judged yet: no results of the primary setting.")
  elseif res.verdict then
    w("- Verdict: " .. verdict_text(res) .. ".")
  else
    w("- Verdict: none (reported only, no numeric target).")
  end
  write_parts(w, res, "  ")
  if #c.ablations > 0 then
    w("- Ablations (reported under the primary; they never change its verdict):")
    for _, A in ipairs(c.ablations) do
      local ar = report.judge_setting(c, A, R, e)
      if ar.none then
        w(("  - %s (%s): no results yet."):format(A.label, table.concat(setting_variants(A), ", ")))
      else
        w(("  - %s (%s%s): the same rule would read %s%s."):format(A.label, table.concat(setting_variants(A), ", "),
          A.mode and (", " .. A.mode .. " mode") or "", ar.verdict or "nothing",
          ar.legacy and " (last evaluation only; legacy result)" or ""))
        write_parts(w, ar, "    ")
      end
    end
  end
  w()
  return res
end

-- The page experiments/<exp>.md.  Returns its claims' primary verdicts:
-- {id, res}.
function report.page(p, e, R, opts)
  local md = {}
  local function w(s) md[#md + 1] = s or "" end
  local verdicts = {}
  w("# " .. p.title)
  w()
  w(("Paper: %s. Script: %s. Generated by `build/luagan experiments/reproduce.lua --report` from "
    .. "experiments/results/ (the claims and thresholds: experiments/claims.lua; the runs: "
    .. "experiments/plan.lua; how a verdict is reached: [the index](README.md#how-a-verdict-is-reached)); "
    .. "do not edit by hand. Back to [the index](README.md)."):format(p.paper, p.script))
  w()
  w("## Claims")
  w()
  for i, c in ipairs(p.claims) do
    local res = claim_section(w, i, c, e, R)
    if res then verdicts[#verdicts + 1] = {id = c.id, primary = c.primary, res = res} end
  end
  for _, mode in ipairs(MODES) do
    local byvar = R[mode] and R[mode][e.exp]
    if byvar then
      w("## Ours: " .. mode)
      w()
      for _, spec in ipairs(e.runs) do
        if spec.mode == mode and byvar[spec.variant] then table_of(w, e, spec, byvar[spec.variant], opts.out_dir) end
      end
      if mode == "quick" then w("Verdict: none (smoke size).") w() end
    end
  end
  local grids = {}
  for _, mode in ipairs(MODES) do
    for _, spec in ipairs(e.runs) do
      local c = spec.mode == mode and R[mode] and R[mode][e.exp] and R[mode][e.exp][spec.variant]
      if c and c.grid then grids[#grids + 1] = {mode .. " " .. spec.variant, rel(c.grid, opts.out_dir)} end
    end
  end
  if #grids > 0 then
    w("## Sample grids")
    w()
    w("The first seed's last sample grid of each configuration.")
    w()
    for _, g in ipairs(grids) do w(("**%s**\n\n![%s](%s)\n"):format(g[1], g[1], g[2])) end
  end
  if e.observations then
    w("## Earlier observations of these runs (not regenerated)")
    w()
    w("Written by hand from the series and grids of the runs when they were made; the driver does "
      .. "not recompute these numbers.")
    w()
    for _, mode in ipairs(MODES) do
      if e.observations[mode] then
        w(("%s mode:"):format(mode))
        for _, n in ipairs(e.observations[mode]) do w("- " .. prose(n)) end
        w()
      end
    end
  end
  if p.earlier and #p.earlier > 0 then
    w("## Measured in earlier runs (not rerun by the driver)")
    w()
    for _, n in ipairs(p.earlier) do w("- " .. prose(n)) end
    w()
  end
  local notes = readfile(("%s/notes/%s.md"):format(opts.out_dir, e.exp))
  if notes then
    w("## Notes")
    w()
    w((notes:gsub("%s+$", "")))
    w()
  end
  return table.concat(md, "\n"), verdicts
end

local function dir_bytes(dir)
  local total = 0
  local names, kinds = list(dir)
  for i, n in ipairs(names) do
    local p = dir .. "/" .. n
    if kinds[i] == "dir" then total = total + dir_bytes(p)
    else
      local f = io.open(p, "rb")
      if f then total = total + f:seek("end"); f:close() end
    end
  end
  return total
end

-- Writes <out_dir>/README.md and <out_dir>/<exp>.md for every experiment of
-- claims; returns the list of files written.
-- one line of the index's summary: a claim's primary verdict and its parts
local function summary_line(p, v)
  local head = ("- **%s** (%s): "):format(p.title:match("^[^:]+"), v.id)
  local res = v.res
  if res.none then
    return head .. ("not judged yet: no results of the primary setting (%s)."):format(
      table.concat(setting_variants(v.primary), ", "))
  end
  local texts = {}
  for _, pt in ipairs(res.parts) do texts[#texts + 1] = pt.text .. "." end
  if res.caveat then texts[#texts + 1] = "Caveat: " .. res.caveat .. "." end
  return head .. (res.verdict and verdict_text(res) or "reported only") .. ". Primary: " .. v.primary.label .. ". "
    .. table.concat(texts, " ")
end

-- the terms of the tables and verdicts
local GLOSSARY = {
  "modes: mixture components whose centre is the nearest centre of at least one high-quality sample "
    .. "(VEEGAN/PacGAN protocol, 2,500 samples, lg.metrics.mode_coverage); hq: the share of high-quality "
    .. "samples, those within 3 std of their nearest centre; hops: evaluations at which "
    .. "the set of captured modes changed (a running count); evals: evaluations; hop share: hops / evals.",
  "classes: MNIST classes holding at least 1% of the samples' predicted labels (our classifier, "
    .. "lua/luagan/image_metrics.lua); top_share: the largest class's share.",
  "MODE score (Che, Li, Jacob, Bengio, Li, \"Mode Regularized Generative Adversarial Networks\", ICLR 2017): "
    .. "exp(E_x KL(p(y|x) || p*(y)) - KL(p*(y) || p(y))), p(y|x) our classifier's prediction, p(y) its mean over "
    .. "the samples, p*(y) the label frequencies of the classifier's training set; at most about 10. The second "
    .. "KL's order follows the paper as lua/luagan/image_metrics.lua documents; some later surveys print "
    .. "KL(p(y) || p*(y)) instead.",
  "FID: the Frechet distance between Gaussians fitted to our classifier's 128 penultimate features of the "
    .. "samples and of the training set (Heusel et al. 2017's formula on MNIST features; lower is better; real "
    .. "test digits score 7).",
  "Parzen: the mean log-likelihood (nats) of the MNIST test digits under a Gaussian Parzen window fitted on "
    .. "generated samples (Goodfellow et al. 2014, Table 1).",
  "rho: Spearman's rank correlation over a run's evaluations (summary.txt). kl (Stacked MNIST): "
    .. "KL(predicted-triple histogram || uniform over the 1,000 triples), in nats.",
}

function report.write(plan, claims, opts)
  local R = report.collect(plan, opts.results_dir)
  local by_exp = {}
  for _, e in ipairs(plan) do by_exp[e.exp] = e end
  local summary, written = {}, {}
  for _, p in ipairs(claims) do
    local text, verdicts = report.page(p, by_exp[p.exp], R, opts)
    local path = ("%s/%s.md"):format(opts.out_dir, p.exp)
    writefile(path, text .. "\n")
    written[#written + 1] = path
    for _, v in ipairs(verdicts) do summary[#summary + 1] = summary_line(p, v) end
  end
  local md = {}
  local function w(s) md[#md + 1] = s or "" end
  w("# Reproductions")
  w()
  w("Generated by `build/luagan experiments/reproduce.lua` from experiments/results/; do not edit by hand "
    .. "(the runs: experiments/plan.lua; the claims, the papers' numbers and our thresholds: "
    .. "experiments/claims.lua; the verdicts: experiments/lib/report.lua).")
  w()
  w("## How to run")
  w()
  w("```")
  w("make reproduce-quick                                  # = build/luagan experiments/reproduce.lua quick")
  w("make reproduce                                        # = build/luagan experiments/reproduce.lua full")
  w("build/luagan experiments/reproduce.lua long           # single-seed side runs")
  w("build/luagan experiments/reproduce.lua full --only wgan_gp --jobs 1")
  w("build/luagan experiments/reproduce.lua --report       # only rewrite these pages from experiments/results/")
  w("build/luagan experiments/reproduce.lua --help")
  w("```")
  w()
  w("Every run is `build/luagan experiments/<exp>.lua FLAGS --seed S --threads 1 --checkpoint_every N "
    .. "--out runs/reproduce-MODE/<exp>-<variant>-s<seed>` (log: runs/reproduce-MODE/<exp>-<variant>-s<seed>.log), "
    .. "two at a time by default; a run whose directory has wall.txt is finished and skipped, so an interrupted "
    .. "campaign continues where it stopped. With `--checkpoint_every N` (default 0) each run keeps a checkpoint "
    .. "every N iterations and a run killed midway continues from its latest one (`--resume`: the same numbers as "
    .. "an uninterrupted run); without one it starts over. Each finished run is copied to "
    .. "experiments/results/MODE-<exp>-<variant>/s<seed>/ (its whole metrics.csv, the files the script writes "
    .. "beside it, config.lua, wall.txt, cmd.txt), with the first seed's last sample grid as samples.png; "
    .. "the report reads only experiments/results/.")
  w()
  w("## How a verdict is reached")
  w()
  w("Each claim is judged on one primary setting, fixed in experiments/claims.lua before its runs (the "
    .. "paper's setting, scaled as the claim says); other settings are ablations, reported under it with "
    .. "their numbers, and never change its verdict. A verdict is one of \"holds\", \"does NOT hold\", "
    .. "\"inconclusive\":")
  w()
  for _, r in ipairs(report.RULE) do w("- " .. r) end
  w()
  w("## Glossary")
  w()
  w("The tables under \"Ours\" on each page give, per configuration, the last evaluation row of metrics.csv "
    .. "(parzen.txt, probe.csv and summary.txt for the Parzen, probe and rho numbers) as mean +- sd [min, max] "
    .. "over seeds (one number when one seed); wall is the mean wall time of one run. The verdicts use the "
    .. "windows above, not these rows.")
  w()
  for _, g in ipairs(GLOSSARY) do w("- " .. g) end
  w()
  w("Modes present:")
  local present = 0
  for _, mode in ipairs(MODES) do
    if R[mode] then present = present + 1; w(("- %s: %s."):format(mode, MODE_TEXT[mode])) end
  end
  if present == 0 then w("- none yet: run `make reproduce-quick`.") end
  w()
  w("## Papers")
  w()
  for _, p in ipairs(claims) do w(("- [%s](%s.md) (%s)"):format(p.title, p.exp, p.script)) end
  w()
  if #summary > 0 then
    w("## Summary: the verdict of every claim")
    w()
    w("Each claim's verdict on its primary setting with the numbers behind it, as on each paper's page; the "
      .. "pages also give the papers' numbers, our thresholds and why, the ablations and the observations "
      .. "that explain the failures.")
    w()
    for _, s in ipairs(summary) do w(s) end
    w()
  end
  w(("Committed results under %s: %.0f kB."):format(rel(opts.results_dir, opts.out_dir),
    dir_bytes(opts.results_dir) / 1024))
  local path = opts.out_dir .. "/README.md"
  writefile(path, table.concat(md, "\n") .. "\n")
  table.insert(written, 1, path)
  return written
end

-- }======================================================

return report
