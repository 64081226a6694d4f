-- The reproduction report: reads the committed results
-- (experiments/results/<mode>-<exp>-<variant>/s<seed>/), judges the claims of
-- experiments/claims.lua against them and writes experiments/README.md (the
-- index) and one page per experiment, experiments/<exp>.md.
--
-- Per seed the report reads metrics.csv (every row: the last evaluation row
-- gives the table's numbers, the whole series the number of evaluations and
-- the fewest modes from 15k iterations on), the files the scripts write
-- beside it (parzen.txt, probe.csv, summary.txt), wall.txt and cmd.txt, and
-- derived.txt when present: a result converted from an older layout that
-- kept only the last row, where derived.txt holds the values the old driver
-- had computed from the whole series (not stored), which win over what the
-- single row would give.
--
-- A claim names its verdict function by a key of report.checks, its
-- thresholds in params, and its per-seed window (report.windows); the
-- statistics over seeds are computed once per configuration (report.stats).
local lg = require "luagan"

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

local REQUIRED = {"id", "statement", "paper_value", "source", "target", "why", "window", "statistic"}

-- Checks claims' shape against the plan and the verdict functions.
function report.check_claims(claims, plan, path)
  path = path or "claims"
  local variants = {}
  for _, e in ipairs(plan) do
    variants[e.exp] = {}
    for _, r in ipairs(e.runs) do variants[e.exp][r.variant] = true end
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

-- The values of one seed's window of metrics.csv.  "last": the last row in
-- which evalcol is set (each column as a number), plus over the whole
-- series the number of evaluations (evals) and the fewest modes at an
-- evaluation from 15,000 iterations on (min_modes_15k).
report.windows = {}
function report.windows.last(header, rows, evalcol)
  local idx = {}
  for i, c in ipairs(header) do idx[c] = i end
  local last, evals, min15 = nil, 0, nil
  for _, cells in ipairs(rows) do
    local v = idx[evalcol] and cells[idx[evalcol]]
    if v and v ~= "" then
      last, evals = cells, evals + 1
      local it, m = tonumber(cells[idx.iter]), idx.modes and tonumber(cells[idx.modes])
      if it and m and it >= 15000 then min15 = math.min(min15 or m, m) end
    end
  end
  if not last then return nil end
  local v = {evals = evals, min_modes_15k = min15}
  for i, c in ipairs(header) do v[c] = tonumber(last[i]) end
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

-- every seed's value, "a / b / c"
local function per_seed(st)
  local t = {}
  for i, v in ipairs(st.vals) do t[i] = fmt(v) end
  return table.concat(t, " / ")
end
report.per_seed = per_seed

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
-- Each check gets the claim's params and the stats of one mode, G[variant][col]
-- (nil when the variant did not run), and returns sentences.  They state what
-- our numbers say against the target; no threshold is tuned to pass.

local function get(G, v, c) return G[v] and G[v][c] end
local function yesno(b) return b and "holds" or "does NOT hold" end
-- how many runs of the stats st have a value v with pred(v, i) (i: the run, in seed order)
local function count_runs(st, pred)
  local k = 0
  for i, v in ipairs(st.vals) do if pred(v, i) then k = k + 1 end end
  return k
end
-- collapse on MNIST: <= P.collapse_classes classes covered or the top class above P.collapse_top
local function collapsed_runs(P, classes, top)
  return count_runs(classes, function(c, i) return c <= P.collapse_classes or top.vals[i] > P.collapse_top end)
end
-- a comparison of mode counts means little while G is a diffuse cloud: say so
local function diffuse_note(G, variants)
  local low = {}
  for _, v in ipairs(variants) do
    local h = get(G, v, "hq")
    if h and h.mean < 0.1 then low[#low + 1] = ("%s %.1f%%"):format(v, 100 * h.mean) end
  end
  if #low == 0 then return "" end
  return " Caveat: HQ share below 10% (" .. table.concat(low, ", ") .. "): the generator has not "
    .. "concentrated on the modes, so these mode counts come from a few stray samples near the centres "
    .. "and the comparison does not test the claim."
end

local checks = {}
report.checks = checks

function checks.parzen(P, G)
  local out = {}
  for _, v in ipairs(P.configs) do
    local p = get(G, v[1], "parzen")
    if p then
      out[#out + 1] = ("%s: Parzen log-likelihood %.1f (mean of %d seeds) against the paper's 225 +- 2 and the >= %d target: %s.")
        :format(v[2], p.mean, p.n, P.min, yesno(p.mean >= P.min))
    end
  end
  return out
end

function checks.probe_gain(P, G)
  local g = get(G, P.config, "probe_gain")
  if not g then return {} end
  return {("Trained D beats the better of random D and pixels by %.2f points (mean of %d seeds; target >= %d): %s.")
    :format(g.mean, g.n, P.min, yesno(g.mean >= P.min))}
end

function checks.rho_w1(P, G)
  local rw, rg = get(G, P.wgan, "rho"), get(G, P.gan, "rho")
  if not rw then return {} end
  return {("grid25: Spearman rho(w_est, W1) %.2f for WGAN (held-out critic estimate against the "
    .. "mean of 8 exact W1 on 512 points; target >= %.1f: %s)%s."):format(rw.mean, P.min,
    yesno(rw.mean >= P.min), rg and (" vs %.2f for the GAN's JS estimate"):format(rg.mean) or "")}
end

-- archs: the WGAN MNIST configurations, {prefix, label [, prefix of the GAN baseline]}
function checks.rho_mode(P, G)
  local out = {}
  for _, a in ipairs(P.archs) do
    local gv = (a[3] or a[1]) .. "-gan"
    local cw = get(G, a[1] .. "-wgan", "classes")
    local rw, rg = get(G, a[1] .. "-wgan", "rho"), get(G, gv, "rho")
    if cw and cw.mean >= 0 and rw then
      -- the paper's Fig. 3 on images: the estimate falls as the samples improve
      out[#out + 1] = ("MNIST, %s: Spearman rho(critic's estimate, MODE score) over the evaluations %s per "
        .. "seed (target <= %.1f, the toy's 0.8 with the sign of 'lower distance, better samples': %s)%s.")
        :format(a[2], per_seed(rw), P.max, yesno(rw.hi <= P.max),
          rg and (" vs %s for the GAN's JS estimate"):format(per_seed(rg)) or "")
    end
  end
  return out
end

function checks.mnist_coverage(P, G)
  local out = {}
  for _, a in ipairs(P.archs) do
    local gv = (a[3] or a[1]) .. "-gan"     -- the GAN baseline's row
    local cw, cg = get(G, a[1] .. "-wgan", "classes"), get(G, gv, "classes")
    local tw = get(G, a[1] .. "-wgan", "top_share")
    if cw and cw.mean >= 0 then
      local dead = get(G, a[1] .. "-wgan", "dead_critic")
      local died = ""
      local ndead = dead and count_runs(dead, function(d) return d == 1 end) or 0
      if ndead > 0 then
        local live = {}     -- classes of the runs whose critic lived
        for i, d in ipairs(dead.vals) do if d == 0 then live[#live + 1] = fmt(cw.vals[i]) end end
        died = ("; the clipped critic died (constant output, no gradient for G) in %d of %d runs, the "
          .. "live ones cover %s classes"):format(ndead, dead.n, #live > 0 and table.concat(live, " / ") or "no")
      end
      local gan = ""
      if cg then
        gan = ("; the GAN collapses (<= %d classes or top class > %d%%) in %d of %d seeds (target >= 2 of 3)")
          :format(P.collapse_classes, 100 * P.collapse_top, collapsed_runs(P, cg, get(G, gv, "top_share")), cg.n)
      end
      out[#out + 1] = ("MNIST, %s: WGAN covers %s classes per seed (top class at most %.1f%%; target >= %d "
        .. "classes: %s; with top class < %d%%: %s)%s%s.")
        :format(a[2], per_seed(cw), 100 * tw.hi, P.min_classes, yesno(cw.lo >= P.min_classes), 100 * P.max_top,
          yesno(cw.lo >= P.min_classes and tw.hi < P.max_top), gan, died)
    end
  end
  return out
end

-- median modes and mean HQ of one configuration against {variant, label, modes, hq %}
local function coverage(G, v, label, need_modes, need_hq)
  local m, h = get(G, v, "modes"), get(G, v, "hq")
  if not m then return nil end
  return ("%s: median %s modes, HQ %.0f%% (target >= %d modes, >= %d%% HQ): %s."):format(label, fmt(m.median),
    100 * h.mean, need_modes, need_hq, yesno(m.median >= need_modes and h.mean * 100 >= need_hq))
end

function checks.coverage(P, G)
  local out = {}
  for _, c in ipairs(P) do out[#out + 1] = coverage(G, c[1], c[2], c[3], c[4]) end
  return out
end

-- hopping: the set of captured modes changed at >= half the evaluations
local function hops(h, e) return h.mean >= 0.5 * e.mean end

function checks.wgangp_vs_gan(P, G)
  local out = {}
  for _, v in ipairs(P.ring) do
    local m = get(G, v[1], "modes")
    if m then
      out[#out + 1] = ("%s: median %s modes (target >= %d/8): %s."):format(v[2], fmt(m.median), P.min_modes,
        yesno(m.median >= P.min_modes))
    end
  end
  local mw, m, h, e = get(G, "ring8_gantoy", "modes"), get(G, "ring8_gan", "modes"), get(G, "ring8_gan", "hops"),
    get(G, "ring8_gan", "evals")
  if mw and m then
    out[#out + 1] = ("ring8, the plain GAN in the same harness (--mode dcgan: gan_toy's nets and Adam, one D step): "
      .. "median %s modes, HQ %.0f%%, mode-set changes at %.0f of %.0f evaluations, against WGAN-GP's %s modes; "
      .. "the plain GAN collapses (<= 3 modes at the end) or hops (changes at >= half the evaluations): %s.")
      :format(fmt(m.median), 100 * get(G, "ring8_gan", "hq").mean, h.mean, e.mean, fmt(mw.median),
        yesno(m.median <= 3 or hops(h, e)))
  end
  mw, m = get(G, "grid25_gantoy", "modes"), get(G, "grid25_gan", "modes")
  if mw and m then
    out[#out + 1] = ("grid25, the plain GAN in the same harness: median %s of 25 modes against WGAN-GP's %s; "
      .. "WGAN-GP covers more: %s."):format(fmt(m.median), fmt(mw.median), yesno(mw.median > m.median))
  end
  return out
end

function checks.swissroll(P, G)
  local sm, sh = get(G, P.config, "modes"), get(G, P.config, "hq")
  if not sm then return {} end
  return {("swiss roll, gan_toy.py recipe: median %s of 20 arcs covered, %.0f%% of the samples "
    .. "within 3 noise std of the curve (no numeric target: the paper shows this toy's critic, Fig. 1)."):format(
    fmt(sm.median), 100 * sh.mean)}
end

function checks.gp_vs_clipping(P, G)
  local fg, fc = get(G, "mnist-wgangp", "fid"), get(G, "mnist-wgan", "fid")
  if not (fg and fc and fg.mean >= 0) then return {} end
  local cg = get(G, "mnist-wgangp", "classes")
  local fd = get(G, "mnist-dcgan_bn", "fid")
  return {("MNIST: FID WGAN-GP %.1f (max %.1f) vs weight clipping %.1f (min %.1f)%s; WGAN-GP classes "
    .. "min %d. Worst WGAN-GP seed below the best clipping seed, >= %d classes: %s."):format(fg.mean, fg.hi, fc.mean,
    fc.lo, fd and (", DCGAN with BN %.1f"):format(fd.mean) or "", cg.lo, P.min_classes,
    yesno(fg.hi < fc.lo and cg.lo >= P.min_classes))}
end

function checks.clip_vs_dcgan(P, G)
  local cw, tw, cd = get(G, "mnist-wgan", "classes"), get(G, "mnist-wgan", "top_share"), get(G, "mnist-dcgan", "classes")
  local td = get(G, "mnist-dcgan", "top_share")
  if not (cw and cd and cw.mean >= 0) then return {} end
  return {("MNIST, WGAN (weight clipping) in these conv nets: %s classes per seed (top class at most %.1f%%; "
    .. "target >= %d classes: %s; with top class < %d%%: %s); the BN-free DCGAN baseline collapses (<= %d classes "
    .. "or top class > %d%%) in %d of %d seeds (target >= 2 of 3).")
    :format(per_seed(cw), 100 * tw.hi, P.min_classes, yesno(cw.lo >= P.min_classes), 100 * P.max_top,
      yesno(cw.lo >= P.min_classes and tw.hi < P.max_top), P.collapse_classes, 100 * P.collapse_top,
      collapsed_runs(P, cd, td), cd.n)}
end

function checks.lsgan_ring(P, G)
  local out = {}
  for _, sfx in ipairs(P.suffixes) do        -- _fastD: --lr_d 1e-3
    local ls, bce = "ls" .. sfx, "bce" .. sfx
    local l, b = get(G, ls, "modes"), get(G, bce, "modes")
    if l and b then
      out[#out + 1] = ("%sLS keeps %s modes (median) vs %s for the sigmoid GAN; LS >= %d/8: %s; LS keeps more "
        .. "modes than sigmoid: %s."):format(sfx == "" and "" or "With lr_d 1e-3: ", fmt(l.median), fmt(b.median),
        P.min_modes, yesno(l.median >= P.min_modes), yesno(l.mean > b.mean))
        .. diffuse_note(G, {ls, bce})
      local c, cl = get(G, bce, "min_modes_15k"), get(G, ls, "min_modes_15k")
      if c then
        local function dips(st) return count_runs(st, function(v) return v <= P.dip end) end
        out[#out + 1] = ("Sigmoid runs with <= %d modes at some evaluation from 15k on: %d of %d (target >= 3 of 5)%s.")
          :format(P.dip, dips(c), c.n, cl and ("; LS runs: %d of %d%s"):format(dips(cl), cl.n,
            dips(cl) >= dips(c) and " (LS dips as often: the criterion does not separate the losses)" or "") or "")
      end
    end
  end
  return out
end

function checks.lsgan_img(P, G)
  local l, b = get(G, "img-ls", "fid"), get(G, "img-bce", "fid")
  if not (l and b and l.mean >= 0) then return {} end
  local lc, bc, bt = get(G, "img-ls", "classes"), get(G, "img-bce", "classes"), get(G, "img-bce", "top_share")
  local collapsed = collapsed_runs(P, bc, bt)
  return {("MNIST without BN in G: sigmoid runs collapsed at the end: %d of %d (target >= %d of 3): %s; LS covers "
    .. "%s classes at least (target >= %d): %s; FID LS %.1f vs sigmoid %.1f: LS lower: %s.")
    :format(collapsed, bc.n, P.min_collapsed, yesno(collapsed >= P.min_collapsed), fmt(lc.lo), P.min_classes,
      yesno(lc.lo >= P.min_classes), l.mean, b.mean, yesno(l.mean < b.mean))}
end

function checks.mrgan_grid(P, G)
  local out = {}
  for _, pre in ipairs(P.prefixes) do
    local r, n = get(G, pre .. "-mrgan", "modes"), get(G, pre .. "-none", "modes")
    if r and n then
      local rh, nh = get(G, pre .. "-mrgan", "hq"), get(G, pre .. "-none", "hq")
      out[#out + 1] = ("%s: Reg-GAN %.1f modes / %.0f%% HQ vs GAN %.1f / %.0f%% (target >= +%d modes, HQ at most %d "
        .. "points lower): %s."):format(pre, r.mean, 100 * rh.mean, n.mean, 100 * nh.mean, P.min_gain, P.max_hq_loss,
          yesno(r.mean - n.mean >= P.min_gain and (nh.mean - rh.mean) * 100 <= P.max_hq_loss))
        .. diffuse_note(G, {pre .. "-mrgan", pre .. "-none"})
    end
  end
  return out
end

function checks.mrgan_mnist(P, G)
  local out = {}
  local r, n = get(G, "mnist-mrgan", "mode_score"), get(G, "mnist-none", "mode_score")
  if r and n and r.mean >= 0 then
    out[#out + 1] = ("MNIST, lr 2e-4 without BN: median MODE score Reg-GAN %.2f vs GAN %.2f: %s."):format(
      r.median, n.median, yesno(r.median >= n.median))
  end
  -- the cells pooled per model; "mrgan_sse": Reg-GAN with d = per-image
  -- squared L2 (--distance sse) instead of the mean squared pixel error
  local pooled = {}
  for _, m in ipairs{{"none", "none", ""}, {"mrgan", "mrgan", ""}, {"mrgan_sse", "mrgan", "_sse"}} do
    local vals = {}
    for _, cell in ipairs(P.cells) do
      local st = get(G, cell .. m[3] .. "-" .. m[2], "mode_score")
      for _, v in ipairs(st and st.vals or {}) do vals[#vals + 1] = v end
    end
    pooled[m[1]] = stats(vals)
  end
  local function fails(st) return count_runs(st, function(v) return v < P.fail_below end) end
  local pn = pooled.none
  for _, m in ipairs{{"mrgan", "d = mean squared pixel error"}, {"mrgan_sse", "d = per-image squared L2"}} do
    local pr = pooled[m[1]]
    if pr and pn and pr.n > #(r and r.vals or {}) and pr.mean >= 0 then
      out[#out + 1] = ("MNIST grid (lr {2e-4, 1e-3} x {no BN, BN in G}, %s, %d runs per model): median MODE "
        .. "Reg-GAN %.2f vs GAN %.2f, runs under %d: %d vs %d; Reg-GAN median >= GAN's and fewer failures: %s.")
        :format(m[2], pr.n, pr.median, pn.median, P.fail_below, fails(pr), fails(pn),
          yesno(pr.median >= pn.median and fails(pr) < fails(pn)))
    end
  end
  return out
end

function checks.k0_hops(P, G)
  local out = {}
  for _, k in ipairs(P.configs) do
    local m, h, e = get(G, k, "modes"), get(G, k, "hops"), get(G, k, "evals")
    if m then
      out[#out + 1] = ("%s: median %s modes at the end, mode-set changes at %.0f of %.0f evaluations (target: <= %d "
        .. "modes or hopping): %s."):format(P.labels[k], fmt(m.median), h.mean, e.mean, P.max_modes,
          yesno(m.median <= P.max_modes or hops(h, e)))
        .. diffuse_note(G, {k})
    end
  end
  return out
end

function checks.pacgan_toys(P, G)
  local out = {}
  for _, d in ipairs{"ring8", "grid25"} do
    local g, p = get(G, d .. "-pac1", "modes"), get(G, d .. "-pac2", "modes")
    if g and p then
      local gh, ph = get(G, d .. "-pac1", "hq"), get(G, d .. "-pac2", "hq")
      out[#out + 1] = ("%s: PacGAN2 %.1f modes / %.0f%% HQ vs GAN %.1f / %.0f%%: packing captures more modes: %s%s.")
        :format(d, p.mean, 100 * ph.mean, g.mean, 100 * gh.mean, yesno(p.mean > g.mean),
          d == "grid25" and (("; the scaled target (>= %d, >= +%d, HQ >= %d%%): "):format(P.grid_min, P.grid_gain,
            100 * P.min_hq) .. yesno(p.mean >= P.grid_min and p.mean - g.mean >= P.grid_gain and ph.mean >= P.min_hq
            and gh.mean >= P.min_hq)) or "")
        .. diffuse_note(G, {d .. "-pac1", d .. "-pac2"})
    end
  end
  return out
end

function checks.pacgan_stacked(P, G)
  local g, p = get(G, "stacked-pac1", "modes"), get(G, "stacked-pac2", "modes")
  local gk, pk = get(G, "stacked-pac1", "kl"), get(G, "stacked-pac2", "kl")
  if not (g and p and gk and pk) then return {} end
  return {("Stacked MNIST: PacGAN2 %.1f modes / KL %.2f vs GAN %.1f / %.2f: packing captures more "
    .. "modes with a lower KL (the paper's direction): %s; the paper's PacDCGAN2 level (1000 modes, KL 0.06): %s.")
    :format(p.mean, pk.mean, g.mean, gk.mean, yesno(p.mean > g.mean and pk.mean < gk.mean),
      yesno(p.mean >= 999.5 and pk.mean <= P.max_kl))}
end

-- A check for tests and small plans: the mean of a column against a bound.
-- params {config, col, min | max, label}
function checks.mean_at_least(P, G)
  local s = get(G, P.config, P.col)
  if not s then return {} end
  return {("%s: mean %s %s over %d seeds (%s; target >= %s): %s."):format(P.label or P.config, P.col, fmt(s.mean),
    s.n, per_seed(s), fmt(P.min), yesno(s.mean >= P.min))}
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

-- The stats over seeds of configuration c with each seed's values taken
-- from the window of its metrics.csv (the table's "last" is read already).
function report.window_stats(c, window)
  if window == "last" then return c.g end
  if not c.windows[window] then
    local runs = {}
    for i, r in ipairs(c.runs) do runs[i] = report.read_seed(r.dir, c.evalcol, window) end
    c.windows[window] = aggregate(runs)
  end
  return c.windows[window]
end

-- Verdict sentences of one claim in one mode (nil: not judged there).
function report.judge(claim, R, mode, exp)
  if mode == "quick" or not claim.check then return nil end
  local byvar = R[mode] and R[mode][exp]
  if not byvar then return nil end
  local G = {}
  for v, c in pairs(byvar) do G[v] = report.window_stats(c, claim.window) end
  local out = checks[claim.check](claim.params or {}, G, claim)
  return #out > 0 and out or nil
end

local MODE_TEXT = {
  quick = "smoke size, 1 seed (`make reproduce-quick`): checks the pipeline, not the claims",
  long = "single-seed side runs that full mode does not repeat, about 15 minutes "
    .. "(`build/luagan experiments/reproduce.lua long`)",
  full = "reproduction size, seeds 1-3, more where a row lists them (`make reproduce`)",
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
  w("| " .. table.concat(cells, " | ") .. (" | %s | %d%s | %s |"):format(ws and ("%.0f"):format(ws.mean) or "-",
    #c.runs, #c.missing > 0 and (" (missing seeds " .. table.concat(c.missing, ",") .. ")") or "",
    c.grid and ("[grid](%s)"):format(rel(c.grid, out_dir)) or "-"))
  w()
  if legacy > 0 then
    w(("(%d of these runs are kept in the older layout: their last evaluation row only, with the values "
      .. "the old driver derived from the whole series in derived.txt.)"):format(legacy))
    w()
  end
end

-- our numbers for a claim: per compared configuration and column
local function claim_numbers(w, claim, R, mode, exp)
  local byvar = R[mode] and R[mode][exp] or {}
  local any = false
  for _, v in ipairs(claim.compare) do
    local c = byvar[v]
    if c then
      local parts = {}
      for _, col in ipairs(claim.cols or {}) do
        local st = c.g[col]
        if st then
          parts[#parts + 1] = st.n == 1 and ("%s %s"):format(col, fmt(st.mean))
            or ("%s %s (per seed %s)"):format(col, fmt_stats(st), per_seed(st))
        end
      end
      if #parts > 0 then
        if not any then w(("- Ours, %s mode (mean +- sd [min, max] over seeds; per seed in seed order):"):format(mode)) end
        any = true
        w(("  - %s: %s"):format(v, table.concat(parts, "; ")))
      end
    end
  end
end

-- The page experiments/<exp>.md.  Returns its full-mode verdicts.
function report.page(p, e, R, opts)
  local md = {}
  local function w(s) md[#md + 1] = s or "" end
  local verdicts = {}
  w("# " .. p.title)
  w()
  w(("Paper: %s. Script: %s. Generated by `build/luagan experiments/reproduce.lua --report` from "
    .. "experiments/results/ (the claims and thresholds: experiments/claims.lua; the runs: "
    .. "experiments/plan.lua); do not edit by hand. Back to [the index](README.md)."):format(p.paper, p.script))
  w()
  w("## Claims")
  w()
  for i, c in ipairs(p.claims) do
    w(("### %d. %s"):format(i, prose(c.statement)))
    w()
    w(("- Paper: %s; source: %s."):format(prose(c.paper_value), prose(c.source)))
    w(("- Our target: %s."):format(prose(c.target)))
    w(("- Why this threshold: %s"):format(prose(c.why)))
    if #c.compare > 0 then
      w(("- Compared: %s; per seed: %s; over seeds: %s."):format(table.concat(c.compare, ", "),
        c.window == "last" and "the last evaluation row" or c.window, c.statistic))
    end
    for _, mode in ipairs{"long", "full"} do
      local v = report.judge(c, R, mode, e.exp)
      if v then
        claim_numbers(w, c, R, mode, e.exp)
        w(("- Verdict, %s mode:"):format(mode))
        for _, s in ipairs(v) do w("  - " .. s) end
        if mode == "full" then for _, s in ipairs(v) do verdicts[#verdicts + 1] = s end end
      end
    end
    if not c.check then w("- Verdict: not measured by the driver (see the earlier measurements below).") end
    w()
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
    for _, s in ipairs(verdicts) do summary[#summary + 1] = ("- **%s**: %s"):format(p.title:match("^[^:]+"), s) end
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
  w("Every run is `build/luagan experiments/<exp>.lua FLAGS --seed S --threads 1 --checkpoint_every 0 "
    .. "--out runs/reproduce-MODE/<exp>-<variant>-s<seed>` (log: runs/reproduce-MODE/<exp>-<variant>-s<seed>.log), "
    .. "two at a time by default; a run whose directory has wall.txt is finished and skipped, so an interrupted "
    .. "campaign continues where it stopped. Each finished run is copied to "
    .. "experiments/results/MODE-<exp>-<variant>/s<seed>/ (its whole metrics.csv, the files the script writes "
    .. "beside it, config.lua, wall.txt, cmd.txt), with the first seed's last sample grid as samples.png; "
    .. "the report reads only experiments/results/.")
  w()
  w("\"Ours\" is, per seed, the last evaluation row of metrics.csv (parzen.txt, probe.csv and summary.txt "
    .. "for the Parzen, probe and rho numbers), as mean +- sd [min, max] over seeds (one number when one seed); "
    .. "wall is the mean wall time of one run. modes: captured modes, hq: share of high-quality samples "
    .. "(VEEGAN/PacGAN protocol, 2,500 samples, 3 std), hops: evaluations at which the set of captured modes "
    .. "changed, evals: evaluations.")
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
    w("## Summary: every verdict of full mode")
    w()
    w("The same sentences as on each paper's page, computed from the full-mode results; the pages give the "
      .. "papers' numbers, our thresholds and why, and the observations that explain the failures.")
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
