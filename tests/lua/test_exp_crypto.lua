-- experiments/crypto.lua: a smoke run with tiny batches (columns, evaluation rows, the fresh
-- Eves at the end and their summary), Bob learning in a short run, the control, the paper's
-- layers, resume, and bad flags.
local tmp = temp_dir()
local run = experiment_runner("crypto.lua", tmp)

local TINY = "--batch 32 --eval_batch 256 --eval_every 3 --resets 2 --retrain_iters 4 --retrain_eval 2 "
  .. "--checkpoint_every 0 "

-- the numbers of "fresh Eve k: best X bits wrong" lines and of the "best fresh Eve" line
local function summary_numbers(text)
  local each = {}
  for x in text:gmatch("fresh Eve %d+: best ([%d.]+)") do each[#each + 1] = tonumber(x) end
  return each, tonumber(text:match("best fresh Eve: ([%d.]+)"))
end

test("crypto: evaluation rows, the fresh Eves and the summary", function()
  local out = tmp .. "/smoke"
  local code, stdout, err = run(TINY .. "--iters 7 --out " .. out)
  eq(code, 0, err)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 7)
  eq(table.concat(cols, ","), "iter,bob_bits_wrong,eve_bits_wrong,loss_ab,loss_eve,retrained_eve_bits_wrong")
  for i, r in ipairs(rows) do
    local evaluated = i == 1 or i % 3 == 0 or i == 7
    eq(r.bob_bits_wrong ~= nil, evaluated, "evaluation at row " .. i)
    if evaluated then
      assert(r.bob_bits_wrong >= 0 and r.bob_bits_wrong <= 16 and r.eve_bits_wrong >= 0 and r.eve_bits_wrong <= 16)
    end
    eq(r.retrained_eve_bits_wrong ~= nil, i == 7, "fresh Eves only at the end, row " .. i)
  end
  -- an untrained net's guesses are near 0, so about half the bits are wrong
  near(rows[1].bob_bits_wrong, 8, 1.5)
  local each, best = summary_numbers(read_file(out .. "/summary.txt"))
  eq(#each, 2)
  near(best, math.min(each[1], each[2]), 1e-4)
  near(rows[7].retrained_eve_bits_wrong, best, 1e-4)
  assert(stdout:find("fresh Eve 2: best", 1, true), stdout)
end)

test("crypto: in 400 steps Bob learns part of the plaintext, in both arms", function()
  for _, arm in ipairs{"true", "false"} do
    local out = tmp .. "/learn-" .. arm
    local code, _, err = run("--iters 400 --batch 256 --eval_every 400 --eval_batch 1024 --resets 0 "
      .. "--checkpoint_every 0 --adversarial " .. arm .. " --out " .. out)
    eq(code, 0, err)
    local rows = read_csv(out .. "/metrics.csv")
    assert(rows[400].bob_bits_wrong < rows[1].bob_bits_wrong - 0.5,
      ("Bob %g -> %g bits wrong (--adversarial %s)"):format(rows[1].bob_bits_wrong, rows[400].bob_bits_wrong, arm))
    eq(rows[400].retrained_eve_bits_wrong, nil, "--resets 0 trains no fresh Eve")
  end
end)

test("crypto: the paper's layers run, and a resumed run matches an uninterrupted one", function()
  local out = tmp .. "/paper"
  local code, _, err = run(TINY .. "--arch paper --iters 4 --out " .. out)
  eq(code, 0, err)
  eq(#read_csv(out .. "/metrics.csv"), 4)
  local flags = TINY .. "--iters 8 --seed 3 --checkpoint_every 2 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 5 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
  eq(read_file(b .. "/summary.txt"), read_file(a .. "/summary.txt"))
end)

test("crypto: bad flags exit 2 with a message", function()
  local code, _, err = run("--n 15")
  eq(code, 2); assert(err:find("--n must be even", 1, true), err)
  code, _, err = run("--eve_steps 0")
  eq(code, 2); assert(err:find("--eve_steps must be >= 1", 1, true), err)
  code, _, err = run("--retrain_iters 0")
  eq(code, 2); assert(err:find("--retrain_iters and --retrain_eval >= 1", 1, true), err)
  code, _, err = run("--arch fancy")
  eq(code, 2); assert(err:find("code", 1, true) and err:find("paper", 1, true), err)
end)
