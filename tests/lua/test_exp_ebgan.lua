-- experiments/ebgan.lua and the autoencoder discriminator it shares with
-- began.lua (experiments/lib/ae_disc.lua): the energies, the pulling-away
-- term and ELU on known values and against finite differences, a smoke run
-- of both losses on the shipped MNIST subset with tiny nets, resume, and bad
-- flags.
local lg = require "luagan"

local ae = dofile(ROOT .. "/experiments/lib/ae_disc.lua")
local tmp = temp_dir()
local run = experiment_runner("ebgan.lua", tmp)

-- d/dx of sum(f(x) .* w) by central differences, against backward
local function gradcheck(f, x0, w, msg, h)
  h = h or 1e-2
  local vals, shape = x0:reshape(-1):totable(), x0.shape
  local function loss(v) return (f(lg.tensor(v):reshape(shape)) * w):sum():item() end
  local num = {}
  for i = 1, #vals do
    local p, m = {table.unpack(vals)}, {table.unpack(vals)}
    p[i], m[i] = p[i] + h, m[i] - h
    num[i] = (loss(p) - loss(m)) / (2 * h)
  end
  local x = lg.tensor(vals):reshape(shape)
  x.requires_grad = true
  ;(f(x) * w):sum():backward()
  near(x.grad:reshape(-1):totable(), num, 2e-3, msg)
end

-- {---------------------------------------------------------- lib/ae_disc.lua

test("ae_disc: energies, pulling-away term and ELU on known values", function()
  local x = lg.tensor{{1, -1, 0, 2}, {0, 0, 0, 0}}
  local r = lg.tensor{{0, 1, 0, 2}, {1, 1, -1, 1}}
  near(ae.energy(x, r, "l1"):totable(), {0.75, 1}, 1e-6)
  near(ae.energy(x, r, "l2"):totable(), {1.25, 1}, 1e-6)
  -- codes e1, e2, e1 + e2: squared cosines 0, 1/2, 1/2 per unordered pair -> (2 * 1) / 6
  near(ae.pulling_away(lg.tensor{{1, 0}, {0, 1}, {1, 1}}):item(), 1 / 3, 1e-6)
  -- invariant to each code's scale; 1 for parallel codes, 0 for orthogonal ones
  near(ae.pulling_away(lg.tensor{{5, 0}, {0, 0.1}, {-2, -2}}):item(), 1 / 3, 1e-6)
  near(ae.pulling_away(lg.tensor{{1, 2}, {-2, -4}}):item(), 1, 1e-6)
  near(ae.pulling_away(lg.eye(4)):item(), 0, 1e-7)
  near(ae.ELU()(lg.tensor{-1, 0, 2}):totable(), {math.exp(-1) - 1, 0, 2}, 1e-6)
  near(ae.spearman({1, 2, 3, 4}, {10, 30, 20, 40}), 0.8, 1e-12)
  near(ae.spearman({1, 1, 2}, {3, 2, 1}), -math.sqrt(3) / 2, 1e-12, "ties take their mean rank")
  near(ae.mean_pairwise(lg.tensor{{0, 0}, {3, 4}, {0, 0}}), (5 * 4 + 0 * 2) / 6, 1e-5)
end)

test("ae_disc: gradients of the energies, the pulling-away term and ELU match finite differences", function()
  lg.manual_seed(7)
  local r = lg.randn(3, 4)
  local w3 = lg.tensor{0.3, -1.2, 0.7}
  -- x - r stays away from the kink of |.| at 0 (no entry within 0.1 of r's)
  local x0 = r + lg.tensor{{0.5, -0.4, 0.3, -0.6}, {-0.7, 0.2, 0.9, -0.3}, {0.4, 0.6, -0.5, 0.25}}
  gradcheck(function(x) return ae.energy(x, r, "l1") end, x0, w3, "l1 energy")
  gradcheck(function(x) return ae.energy(x, r, "l2") end, x0, w3, "l2 energy")
  gradcheck(function(x) return ae.energy(r, x, "l2") end, x0, w3, "l2 energy, d/d reconstruction")
  gradcheck(function(s) return ae.pulling_away(s) end, lg.randn(5, 3), 1, "pulling-away term", 1e-2)
  gradcheck(function(x) return ae.ELU()(x) end, lg.tensor{{-1.5, -0.3, 0.4, 2}}, lg.tensor{1, -2, 0.5, 1}, "ELU")
end)

test("ae_disc: shapes and bad arguments", function()
  lg.manual_seed(1)
  local D = ae.AE{nin = 784, hidden = 16, code = 5, act = "elu"}
  local recon, code = D(lg.randn(3, 1, 28, 28))
  eq(recon.shape, {3, 784})
  eq(code.shape, {3, 5})
  raises(function() ae.AE{nin = 784, hidden = 16, code = 5, act = "gelu"} end, "act must be relu, lrelu or elu")
  raises(function() ae.AE{nin = 784, hidden = 0, code = 5} end, "hidden must be a positive integer")
  raises(function() ae.energy(recon, recon, "l3") end, "kind must be l1 or l2")
  raises(function() ae.pulling_away(lg.randn(1, 4)) end, "needs at least 2 codes")
end)
test("ae_disc: images in eval mode, and the pending columns without a classifier", function()
  lg.manual_seed(2)
  local G = lg.nn.Sequential(lg.nn.Linear(3, 784), lg.nn.BatchNorm1d(784), lg.nn.Tanh())
  local z = lg.randn(1, 3)
  local x = ae.images(G, z)                  -- one row: batch norm in training mode would fail
  eq(x.shape, {1, 1, 28, 28})
  eq(G.training, true, "G is back in training mode")
  local pending = ae.evaluator("test", "no-such-data", G, lg.randn(4, 3))()
  eq(pending, ae.PENDING)
end)
-- }

-- {---------------------------------------------------------- the script

local TINY = "--dataset mnist10k --g_hidden 8 --d_hidden 8 --code 4 --nz 4 --batch 8 --eval_n 16 "
  .. "--eval_every 3 --sample_every 0 --checkpoint_every 0 "

test("ebgan: the margin loss, the pulling-away term and the evaluation columns", function()
  local out = tmp .. "/smoke"
  local code, stdout, stderr = run(TINY .. "--iters 7 --margin 0.5 --pt 0.1 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 7)
  eq(table.concat(cols, ","), "iter,classes,diversity,e_fake,e_real,fid,hy,inception,lossD,lossG,mode_score,"
    .. "pt,top_share")
  for i, r in ipairs(rows) do
    -- L_D = D(x) + [m - D(G(z))]^+ on the logged energies
    near(r.lossD, r.e_real + math.max(0, 0.5 - r.e_fake), 1e-5, "lossD of row " .. i)
    assert(r.pt >= 0 and r.pt <= 1, "the pulling-away term is a mean squared cosine")
    eq(r.classes ~= nil, i == 1 or i % 3 == 0 or i == 7, "evaluation at row " .. i)
  end
  local e = rows[7]
  assert(e.classes >= 1 and e.classes <= 10 and e.hy >= 0 and e.hy <= math.log(10) + 1e-6, "hy " .. e.hy)
  assert(e.diversity > 0 and e.fid > 0 and e.inception >= 1, "evaluation values")
  assert(stdout:find("ebgan: final classes", 1, true), stdout)
end)

test("ebgan: --loss gan trains the classifier D of the same encoder", function()
  local out = tmp .. "/gan"
  local code, _, stderr = run(TINY .. "--iters 3 --loss gan --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 3)
  assert(table.concat(cols, ","):find("d_fake,d_real", 1, true), table.concat(cols, ","))
  assert(rows[1].d_real > 0 and rows[1].d_real < 1)
end)

test("ebgan: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 6 --pt 0.1 --seed 3 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("ebgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--dataset fashion")
  eq(code, 2); assert(err:find("--dataset must be mnist or mnist10k", 1, true), err)
  code, _, err = run("--margin 0")
  eq(code, 2); assert(err:find("--margin must be > 0", 1, true), err)
  code, _, err = run("--pt -1")
  eq(code, 2); assert(err:find("--pt must be >= 0", 1, true), err)
  code, _, err = run("--loss gan --pt 0.1")
  eq(code, 2); assert(err:find("apply to --loss ebgan", 1, true), err)
  code, _, err = run("--loss wgan")
  eq(code, 2); assert(err:find("ebgan or gan", 1, true), err)
end)
-- }
