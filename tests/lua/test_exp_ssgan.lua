-- experiments/ssgan.lua: smoke runs of the three methods with tiny nets on the
-- shipped MNIST subset (columns, evaluations, the supervised arm's empty GAN
-- terms), resume with the Polyak average in the checkpoint, and bad flags.
local tmp = temp_dir()
local run = experiment_runner("ssgan.lua", tmp)

local TINY = "--dataset mnist10k --hidden 16,8 --g_hidden 16 --batch 20 --labels 20 --eval_every 3 "
  .. "--sample_every 0 --checkpoint_every 0 --polyak 0.5 "

local function evaluations(rows)
  local out = {}
  for _, r in ipairs(rows) do if r.test_acc then out[#out + 1] = r end end
  return out
end

test("ssgan: salimans, odena and supervised runs log losses and test accuracy", function()
  for _, method in ipairs{"salimans", "odena", "supervised"} do
    local out = tmp .. "/" .. method
    local code, stdout, stderr = run(TINY .. "--iters 6 --method " .. method .. " --out " .. out)
    eq(code, 0, stderr)
    local rows, cols = read_csv(out .. "/metrics.csv")
    eq(#rows, 6)
    for _, c in ipairs{"loss_lab", "loss_unl", "loss_g", "train_err", "test_acc", "test_acc_raw"} do
      assert(table.concat(cols, ","):find(c, 1, true), method .. ": column " .. c)
    end
    local ev = evaluations(rows)
    eq(#ev, 2, method .. ": evaluations at 3 and 6")
    eq(ev[1].iter, 3)
    for _, r in ipairs(ev) do
      assert(r.test_acc >= 0 and r.test_acc <= 1 and r.test_acc_raw >= 0 and r.test_acc_raw <= 1)
    end
    for _, r in ipairs(rows) do
      assert(finite(r.loss_lab) and r.loss_lab > 0, method .. ": loss_lab")
      if method == "supervised" then
        eq(r.loss_unl, 0); eq(r.loss_g, 0)
      else
        assert(r.loss_unl > 0 and r.loss_g > 0, method .. ": GAN terms")
      end
    end
    assert(stdout:find("final test accuracy", 1, true), stdout)
  end
end)

test("ssgan: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 8 --seed 5 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("ssgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--method nope")
  eq(code, 2); assert(err:find("salimans", 1, true) and err:find("odena", 1, true), err)
  code, _, err = run("--labels 15")
  eq(code, 2); assert(err:find("--labels must be a positive multiple of 10, got 15", 1, true), err)
  code, _, err = run("--hidden 16,x")
  eq(code, 2); assert(err:find("--hidden: integers separated by commas", 1, true), err)
  code, _, err = run("--polyak 1")
  eq(code, 2); assert(err:find("--polyak must be in [0, 1)", 1, true), err)
end)
