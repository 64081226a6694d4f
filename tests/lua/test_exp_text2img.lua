-- experiments/text2img.lua and lib/captions.lua: the captions and the measured attributes on
-- known images, a smoke run of each method with tiny nets (columns, evaluation rows and their
-- ranges, the captions file), resume, and bad flags.
package.path = "experiments/?.lua;" .. package.path
local C = require "lib.captions"
local E = require "lib.text_encoder"
local tmp = temp_dir()
local run = experiment_runner("text2img.lua", tmp)

local TINY = "--dataset mnist10k --emb 8 --enc_hidden 16 --enc_iters 5 --gt 4 --g_hidden 16 --g_hidden2 16 "
  .. "--dx 16 --dt 4 --d_hidden 16 --batch 16 --eval_every 3 --eval_per_combo 2 --sample_every 0 --checkpoint_every 0 "

test("captions: combos, captions and bags of words", function()
  eq(C.COMBOS, 40)
  eq(C.caption(1, 1), "a thin upright zero")
  eq(C.caption(40, 1), "a thick slanted nine")
  -- variant 2 changes the thickness word, 4 the slant word, 10 the digit to a numeral,
  -- 19 and 37 the template
  eq(C.caption(29, 2), "a light upright seven")
  eq(C.caption(31, 4), "a thick straight seven")
  eq(C.caption(32, 4), "a thick leaning seven")
  eq(C.caption(32, 10), "a thick slanted 7")
  eq(C.caption(32, 19), "a thick seven , slanted")
  eq(C.caption(32, 37), "seven digit : thick and slanted")
  eq({C.split(32)}, {8, 2, 2})
  eq({C.split(13)}, {4, 1, 1})
  local b = C.bow{"a thick slanted 7", "a a slim"}
  eq(b.shape, {2, #C.vocab})
  near(b:sum(2):totable(), {1, 1}, 1e-6)
  local i_a, i_slim
  for i, w in ipairs(C.vocab) do
    if w == "a" then i_a = i elseif w == "slim" then i_slim = i end
  end
  near(b[2][i_a]:item(), 2 / 3, 1e-6)
  near(b[2][i_slim]:item(), 1 / 3, 1e-6)
  raises(function() C.bow{"a fat seven"} end, "unknown word 'fat'")
end)

test("captions: thickness and slant measured on drawn strokes", function()
  -- a vertical bar, the same bar twice as wide, and a bar whose top leans right (x grows as y
  -- goes up) or left
  local function img(cells)
    local t = {}
    for i = 1, 784 do t[i] = 0 end
    for _, rc in ipairs(cells) do t[rc[1] * 28 + rc[2] + 1] = 1 end
    return t
  end
  local thin, thick, right, left = {}, {}, {}, {}
  for r = 4, 23 do
    thin[#thin + 1] = {r, 14}
    thick[#thick + 1], thick[#thick + 2] = {r, 14}, {r, 15}
    right[#right + 1] = {r, 14 + (23 - r) // 3}
    left[#left + 1] = {r, 14 - (23 - r) // 3}
  end
  local x = lg.tensor{img(thin), img(thick), img(right), img(left)}
  local mass, shear = C.measure(x)
  near(mass:totable(), {20, 40, 20, 20}, 1e-4)
  near(shear[1]:item(), 0, 1e-5)
  assert(shear[3]:item() > 0.2, shear[3]:item())
  near(shear[4]:item(), -shear[3]:item(), 1e-5)
  -- thresholds: class 1's median mass 30, shear 0.1: thin/thick and upright/slanted
  local th = {mass_t = lg.full({10}, 30), shear = 0.1}
  local thick_of, slant_of, combo = C.attributes(x, lg.tensor{1, 1, 1, 1}, th)
  eq(thick_of:totable(), {1, 2, 1, 1})
  eq(slant_of:totable(), {1, 1, 2, 1})
  eq(combo:totable(), {1, 3, 2, 1})
end)

test("text encoder: training moves every parameter of both encoders", function()
  -- regression: the optimiser once got {table.unpack(txt), table.unpack(img)}, which keeps only
  -- the first of the text encoder's parameters; its bias and second layer never trained
  lg.manual_seed(3)
  local enc = E.Encoders(#C.vocab, 8, 4)
  local before = {}
  for i, p in ipairs(enc:parameters()) do before[i] = p:clone() end
  local x, class = lg.rand(6, 784), lg.tensor{1, 2, 3, 1, 2, 3}
  local bags = C.bow{"a thin upright zero", "a thick upright zero", "a thin slanted zero",
                     "a slim straight 0", "a bold vertical 0", "a light leaning 0"}
  local l = E.train(enc, function() return x, bags, class end, 3, 1e-2, 3)
  assert(l > 0, l)
  eq(#enc:parameters(), 8)
  for i, p in ipairs(enc:parameters()) do
    assert((p - before[i]):abs():max():item() > 0, "parameter " .. i .. " did not change")
  end
end)

test("text encoder: the matching loss on known scores", function()
  -- two items of one class, one of another: rows aim at uniform shares over their class
  local fx = lg.tensor{{1, 0}, {1, 0}, {0, 1}}
  local ft = lg.tensor{{2, 0}, {2, 0}, {0, 2}}
  -- row 1: scores {2, 2, 0}, target {1/2, 1/2, 0}: -log(e^2 / (2 e^2 + 1)); row 3: {0, 0, 2}, target {0, 0, 1}
  local a, b = -math.log(math.exp(2) / (2 * math.exp(2) + 1)), -math.log(math.exp(2) / (math.exp(2) + 2))
  near(E.match_loss(fx, ft, lg.tensor{1, 1, 2}, 2):item(), (2 * a + b) / 3, 1e-5)
end)

test("text2img: cls, int and plain train and evaluate", function()
  for _, m in ipairs{"cls", "int", "plain"} do
    local out = tmp .. "/smoke-" .. m
    local code, stdout, err = run(TINY .. "--iters 6 --method " .. m .. " --out " .. out)
    eq(code, 0, err)
    assert(stdout:find("--method " .. m, 1, true), stdout)
    local rows, cols = read_csv(out .. "/metrics.csv")
    eq(#rows, 6)
    eq(table.concat(cols, ","), "iter,D_fake,D_real,D_wrong,attr_acc,d_gap,d_right,d_wrong,digit_acc,enc_acc,"
      .. "enc_ho_acc,enc_ho_any,ho_acc,ho_digit_acc,ho_slant_acc,ho_thick_acc,lossD,lossG,slant_acc,thick_acc")
    for i, r in ipairs(rows) do
      eq(r.attr_acc ~= nil, i % 3 == 0, "evaluation at row " .. i)
      -- plain has no (real, wrong text) term
      eq(r.D_wrong == -1, m == "plain", "D_wrong at row " .. i)
      if r.attr_acc then
        -- 36 seen combos x 2 digits; 4 held out x 2
        near(r.attr_acc * 72, math.floor(r.attr_acc * 72 + 0.5), 1e-4)
        near(r.ho_acc * 8, math.floor(r.ho_acc * 8 + 0.5), 1e-4)
        for _, k in ipairs{"digit_acc", "thick_acc", "slant_acc", "enc_acc", "enc_ho_acc", "enc_ho_any"} do
          assert(r[k] >= 0 and r[k] <= 1, k)
        end
        assert(r.attr_acc <= math.min(r.digit_acc, r.thick_acc, r.slant_acc) + 1e-6)
        near(r.d_gap, r.d_right - r.d_wrong, 1e-6)
      end
    end
    local caps = read_file(out .. "/captions.txt")
    assert(caps:find("row 1: a thin upright zero\n", 1, true), caps)
    assert(caps:find("a thick upright zero   (held out)", 1, true), caps)
  end
end)

test("text2img: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--method int --iters 6 --seed 4 --checkpoint_every 2 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("text2img: bad flags exit 2 with a message", function()
  local code, _, err = run("--method gan")
  eq(code, 2); assert(err:find("plain", 1, true), err)
  code, _, err = run("--heldout 3,41")
  eq(code, 2); assert(err:find("--heldout: '41' is not a combo 1..40", 1, true), err)
  code, _, err = run("--batch 15")
  eq(code, 2); assert(err:find("--batch must be even", 1, true), err)
  code, _, err = run("--captions 0")
  eq(code, 2); assert(err:find("--captions must be in 1..54", 1, true), err)
  code, _, err = run("--cls_weight 1")
  eq(code, 2); assert(err:find("--cls_weight must be in [0, 1)", 1, true), err)
end)
