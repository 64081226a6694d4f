-- Run by tests/lua/test_dist.lua as `mpirun -np 2 luagan tests/dist/equivalence.lua`:
-- data-parallel training on 2 ranks at batch B/2 each against one process
-- at batch B, computed in the same process (the reference uses no
-- collective).  Each rank checks and prints "rank R ok"; a failed check is
-- a Lua error, which aborts the job.  Also runs as one process (size 1).
local d = lg.dist
local rank, size = d.rank(), d.size()
local B, K = 8, 5

local function build(seed, norm)
  lg.manual_seed(seed)
  local layers = {nn.Linear(6, 16)}
  if norm then layers[#layers + 1] = norm(16) end
  layers[#layers + 1] = nn.Tanh()
  layers[#layers + 1] = nn.Linear(16, 1)
  return nn.Sequential(table.unpack(layers))
end

local compare = dofile((arg[0]:match("^(.*/)") or "") .. "compare.lua")
local rel, state = compare.rel, compare.state

local function grads(net)
  local out = {}
  for i, p in ipairs(net:parameters()) do out[i] = p.grad end
  return out
end

-- the data: the same global batches on every rank
lg.manual_seed(7)
local xs, ys = {}, {}
for k = 1, K do xs[k], ys[k] = lg.randn(B, 6) * 2 + 0.5, lg.randn(B, 1) end

-- trains the reference (whole batch) and the data-parallel copy (its shard,
-- gradients synchronised unless sync is false) side by side; returns both
-- and, after the first backward, both models' outputs and gradients
local function train(make_opt, ref_norm, dp_norm, sync)
  local ref = build(1, ref_norm)
  -- rank 1 starts from other weights: dist.wrap must copy rank 0's
  local dp = d.wrap(build(1 + rank, dp_norm))
  local opt_ref, opt_dp = make_opt(ref:parameters()), make_opt(dp:parameters())
  local first
  for k = 1, K do
    opt_ref:zero_grad()
    local out_ref = ref(xs[k])
    lg.mse(out_ref, ys[k]):backward()
    opt_ref:step()
    opt_dp:zero_grad()
    local out_dp = dp(d.shard(xs[k]))
    lg.mse(out_dp, d.shard(ys[k])):backward()
    if sync ~= false then dp:sync_grads() end
    if k == 1 then
      first = {out_ref = d.shard(out_ref:detach()), out_dp = out_dp:detach(),
               g_ref = grads(ref), g_dp = grads(dp.module)}
    end
    opt_dp:step()
  end
  return ref, dp.module, first
end

local function check(what, r, tol)
  print(("rank %d %-34s max relative difference %.3g"):format(rank, what, r))
  if not (r <= tol) then error(("%s: relative difference %g above %g"):format(what, r, tol)) end
end

local sgd = function(p) return optim.SGD(p, {lr = 0.1, momentum = 0.9}) end
local adam = function(p) return optim.Adam(p, {lr = 1e-2}) end

for _, case in ipairs{{"SGD", sgd}, {"Adam", adam}} do
  local ref, dp = train(case[2])
  check("MLP, " .. case[1] .. ", parameters", rel(state(dp), state(ref)), 1e-5)
end

-- without sync_grads the ranks drift apart: the check above has power
if size > 1 then
  local ref, dp = train(sgd, nil, nil, false)
  local r = rel(state(dp), state(ref))
  print(("rank %d %-34s max relative difference %.3g"):format(rank, "MLP, no sync_grads", r))
  assert(r > 1e-3, "without sync_grads the parameters should differ, got " .. r)
end

-- SyncBatchNorm against batch norm over the whole batch: forward values,
-- the first step's gradients, parameters and running statistics after K steps
local ref, dp, first = train(sgd, nn.BatchNorm1d, d.SyncBatchNorm)
check("SyncBatchNorm, forward", rel({first.out_dp}, {first.out_ref}), 1e-5)
check("SyncBatchNorm, gradients", rel(first.g_dp, first.g_ref, true), 1e-5)
check("SyncBatchNorm, parameters and stats", rel(state(dp), state(ref)), 1e-5)

-- per-rank batch norm (plain nn.BatchNorm1d under lg.dist) normalises each
-- half alone: its forward differs from the whole batch's
ref, dp, first = train(sgd, nn.BatchNorm1d, nn.BatchNorm1d)
local r = rel({first.out_dp}, {first.out_ref})
print(("rank %d %-34s max relative difference %.3g"):format(rank, "per-rank BatchNorm1d, forward", r))
if size > 1 then assert(r > 1e-2, "per-rank batch norm should differ, got " .. r)
else check("BatchNorm1d, one process", r, 0) end

-- SyncBatchNorm on 4-D inputs against BatchNorm2d: values, input gradients
lg.manual_seed(3)
local x = lg.randn(4, 3, 2, 2) * 3 + 1
local w = lg.randn(4, 3, 2, 2)
local bn2, sbn = nn.BatchNorm2d(3), d.SyncBatchNorm(3)
local xr, xd = x:clone():requires_grad_(), d.shard(x):clone():requires_grad_()
local yr, yd = bn2(xr), sbn(xd)
;(yr * w):sum():backward()
;(yd * d.shard(w)):sum():backward()
check("SyncBatchNorm 4-D, forward", rel({yd}, {d.shard(yr)}), 1e-5)
check("SyncBatchNorm 4-D, input gradient", rel({xd.grad}, {d.shard(xr.grad)}), 1e-5)
-- the weight gradient is the sum over ranks of each rank's part
check("SyncBatchNorm 4-D, weight gradient",
      rel({d.allreduce(sbn.weight.grad:clone())}, {bn2.weight.grad}), 1e-5)
check("SyncBatchNorm 4-D, running_var", rel({sbn.running_var}, {bn2.running_var}), 1e-6)
sbn:eval(); bn2:eval()
check("SyncBatchNorm 4-D, eval", rel({sbn(d.shard(x))}, {d.shard(bn2(x))}), 1e-6)

-- values far from 0 with a tiny spread: E[x^2] - E[x]^2 rounds below 0
-- (here -0.06 in float32); the variance is clamped, the output finite
lg.manual_seed(1)
local far = d.SyncBatchNorm(1)(d.shard(lg.randn(4, 1) * 1e-3 + 1000))
assert(far:eq(far):sum():item() == far:numel(), "SyncBatchNorm gave NaN: " .. tostring(far))

print(("rank %d ok"):format(rank))
