-- experiments/cgan.lua: a smoke run on the shipped MNIST subset with tiny nets (columns,
-- evaluation rows and their ranges) for each way D sees the label, resume, and bad flags.
local tmp = temp_dir()
local run = experiment_runner("cgan.lua", tmp)

local TINY = "--dataset mnist10k --gy 4 --g_hidden 16 --g_hidden2 16 --dx 16 --dy 4 --d_hidden 16 --batch 16 "
  .. "--eval_every 3 --eval_per_class 4 --sample_every 0 --checkpoint_every 0 "

test("cgan: concat, projection and none train and evaluate", function()
  for _, cond in ipairs{"concat", "projection", "none"} do
    local out = tmp .. "/smoke-" .. cond
    local code, stdout, err = run(TINY .. "--iters 6 --cond " .. cond .. " --out " .. out)
    eq(code, 0, err)
    assert(stdout:find("--cond " .. cond, 1, true), stdout)
    local rows, cols = read_csv(out .. "/metrics.csv")
    eq(#rows, 6)
    eq(table.concat(cols, ","), "iter,D_fake,D_real,class_fid,cond_acc,diversity,fid,lossD,lossG")
    for i, r in ipairs(rows) do
      eq(r.cond_acc ~= nil, i % 3 == 0, "evaluation at row " .. i)
      if r.cond_acc then
        -- 40 digits, 4 per class: the agreement is a multiple of 1/40
        assert(r.cond_acc >= 0 and r.cond_acc <= 1, r.cond_acc)
        near(r.cond_acc * 40, math.floor(r.cond_acc * 40 + 0.5), 1e-9)
        assert(r.diversity > 0 and r.class_fid > 0 and r.fid > 0, cond)
      end
    end
  end
end)

test("cgan: a resumed run writes the same metrics as an uninterrupted one", function()
  local flags = TINY .. "--iters 6 --seed 4 --checkpoint_every 2 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("cgan: bad flags exit 2 with a message", function()
  local code, _, err = run("--cond both")
  eq(code, 2); assert(err:find("concat", 1, true) and err:find("projection", 1, true), err)
  code, _, err = run("--eval_per_class 1")
  eq(code, 2); assert(err:find("--eval_per_class must be >= 2", 1, true), err)
  code, _, err = run("--dataset fashion")
  eq(code, 2); assert(err:find("mnist10k", 1, true), err)
end)
