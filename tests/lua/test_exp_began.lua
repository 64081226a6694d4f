-- experiments/began.lua: a smoke run on the shipped MNIST subset with tiny
-- nets (the k_t control and M_global recomputed from the logged losses, the
-- equilibrium statistics, the evaluation columns, summary.txt), resume with
-- k_t and the running sums in the checkpoint, and bad flags.
local tmp = temp_dir()
local run = experiment_runner("began.lua", tmp)

local TINY = "--dataset mnist10k --g_hidden 8 --d_hidden 8 --code 4 --nz 4 --batch 8 --eval_n 16 "
  .. "--eval_every 3 --sample_every 0 --checkpoint_every 0 "

test("began: k_t control, M_global, equilibrium statistics and the evaluation columns", function()
  local out = tmp .. "/smoke"
  -- a large lambda_k so that k_t moves within a few steps
  local code, stdout, stderr = run(TINY .. "--iters 9 --gamma 0.7 --lambda_k 0.5 --warmup 2 --out " .. out)
  eq(code, 0, stderr)
  local rows, cols = read_csv(out .. "/metrics.csv")
  eq(#rows, 9)
  for _, c in ipairs{"k", "M_global", "l_real", "l_fake", "l_fake_d", "lossD", "lossG", "M_avg", "M_drop", "ratio_mean",
                     "ratio_err", "k_inside", "classes", "fid", "diversity", "hy"} do
    assert(table.concat(cols, ","):find(c, 1, true), "column " .. c)
  end
  local k, ratio, inside, steps, m_sum, m_n, peak = 0, 0, 0, 0, 0, 0, 0
  for i, r in ipairs(rows) do
    near(r.k, k, 1e-6, "k used at step " .. i)
    near(r.lossD, r.l_real - k * r.l_fake_d, 1e-5, "L_D of row " .. i)
    near(r.lossG, r.l_fake, 1e-6)
    local balance = 0.7 * r.l_real - r.l_fake
    near(r.M_global, r.l_real + math.abs(balance), 1e-5, "M_global of row " .. i)
    k = math.min(1, math.max(0, k + 0.5 * balance))
    m_sum, m_n = m_sum + r.M_global, m_n + 1
    if i > 2 then
      steps, ratio = steps + 1, ratio + r.l_fake / r.l_real
      if k > 0 and k < 1 then inside = inside + 1 end
    end
    eq(r.classes ~= nil, i == 1 or i % 3 == 0, "evaluation at row " .. i)
    if r.classes then
      near(r.M_avg, m_sum / m_n, 1e-5, "M_avg of row " .. i)
      peak = math.max(peak, r.M_avg)
      near(r.M_drop, 1 - r.M_avg / peak, 1e-5)
      m_sum, m_n = 0, 0
      if steps > 0 then
        near(r.ratio_mean, ratio / steps, 1e-4, "ratio_mean of row " .. i)
        near(r.ratio_err, math.abs(ratio / steps - 0.7), 1e-4)
        near(r.k_inside, inside / steps, 1e-9)
      else
        eq(r.ratio_mean, -1)
      end
    end
  end
  assert(k > 0, "k_t left 0")
  local summary = read_file(out .. "/summary.txt")
  assert(summary:find("Spearman rho%(M_global, FID%) = %-?[%d.]+"), summary)
  assert(stdout:find("0 < k < 1 at", 1, true), stdout)
end)

test("began: a resumed run (k_t and the running sums restored) writes the same metrics", function()
  local flags = TINY .. "--iters 8 --lambda_k 0.3 --warmup 1 --seed 4 "
  local a, b = tmp .. "/straight", tmp .. "/resumed"
  local code, _, err = run(flags .. "--out " .. a)
  eq(code, 0, err)
  code, _, err = run(flags .. "--stop_at 4 --out " .. b)
  eq(code, 0, err)
  code, _, err = run("--resume " .. b)
  eq(code, 0, err)
  eq(read_file(b .. "/metrics.csv"), read_file(a .. "/metrics.csv"))
end)

test("began: bad flags exit 2 with a message", function()
  local code, _, err = run("--gamma 0")
  eq(code, 2); assert(err:find("--gamma must be in (0, 1]", 1, true), err)
  code, _, err = run("--gamma 1.5")
  eq(code, 2); assert(err:find("--gamma must be in (0, 1]", 1, true), err)
  code, _, err = run("--lambda_k -1")
  eq(code, 2); assert(err:find("--lambda_k must be >= 0", 1, true), err)
  code, _, err = run("--dataset fashion")
  eq(code, 2); assert(err:find("--dataset must be mnist or mnist10k", 1, true), err)
end)
