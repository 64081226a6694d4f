-- Run by tests/lua/test_dist.lua as `mpirun -np N luagan tests/dist/buckets.lua`
-- (N = 2 and 3): dist.wrap's gradient buckets (opts.bucket_mb) against the
-- unbucketed path and against one process on the whole batch, computed in
-- the same process; a parameter without a gradient; buckets of several
-- sizes; backward passes that add onto averaged gradients; a batch the
-- ranks cannot share evenly; SyncBatchNorm on 5-D input.  Each rank prints
-- "rank R ok"; a failed check is a Lua error, which aborts the job.
local d = lg.dist
local rank, size = d.rank(), d.size()
assert(size > 1, "run with 2 or more ranks (mpirun -np N), got " .. size)
local B, K = 12, 4   -- divisible by 2 and 3 ranks

-- a model with a parameter that gets no gradient (`spare`), between used ones
local Net = nn.Module:extend("Net")
function Net:init()
  self.first = nn.Linear(6, 16)
  self.spare = nn.Linear(3, 2)
  self.mid = nn.Linear(16, 8)
  self.last = nn.Linear(8, 1)
end
function Net:forward(x) return self.last(self.mid(self.first(x):tanh()):tanh()) end

local function build(seed)
  lg.manual_seed(seed)
  return Net()
end

local compare = dofile((arg[0]:match("^(.*/)") or "") .. "compare.lua")
local rel, state = compare.rel, compare.state

local function check(what, r, tol)
  print(("rank %d %-44s max relative difference %.3g"):format(rank, what, r))
  if not (r <= tol) then error(("%s: relative difference %g above %g"):format(what, r, tol)) end
end

lg.manual_seed(7)
local xs, ys = {}, {}
for k = 1, K do xs[k], ys[k] = lg.randn(B, 6) * 2 + 0.5, lg.randn(B, 1) end

local function adam(p) return optim.Adam(p, {lr = 1e-2}) end

-- K steps of the reference (whole batch, no collective)
local function reference()
  local ref = build(1)
  local opt = adam(ref:parameters())
  for k = 1, K do
    opt:zero_grad()
    lg.mse(ref(xs[k]), ys[k]):backward()
    opt:step()
  end
  return state(ref)
end

-- K data-parallel steps with opts; twice: the loss in two halves, two
-- backward passes before sync_grads (the second changes gradients whose
-- buckets the first may have sent).  Returns the final state and, for the
-- first step, how many buckets backward had started before sync_grads.
local function parallel(opts, twice)
  local dp = d.wrap(build(1 + rank), opts)   -- rank 1 starts elsewhere: wrap copies rank 0's
  local opt = adam(dp:parameters())
  local started
  for k = 1, K do
    opt:zero_grad()
    local x, y = d.shard(xs[k]), d.shard(ys[k])
    if twice then
      local h = x:size(1) // 2
      lg.mse(dp(x:narrow(1, 1, h)), y:narrow(1, 1, h)):mul(0.5):backward()
      lg.mse(dp(x:narrow(1, h + 1, h)), y:narrow(1, h + 1, h)):mul(0.5):backward()
    else
      lg.mse(dp(x), y):backward()
    end
    if k == 1 then started = dp.next and dp.next - 1 end
    -- a backward that only adds onto averaged gradients starts nothing
    if k == 2 and dp.buckets then
      dp:sync_grads()
      local before = dp.next
      lg.mse(dp(x), y):mul(0):backward()
      assert(dp.next == before, "a backward onto averaged gradients started a bucket")
    end
    dp:sync_grads()
    opt:step()
  end
  assert(dp.module.spare.weight.grad, "sync_grads gives the unused parameter a gradient")
  return state(dp.module), started, dp:bucket_sizes()
end

local ref = reference()
local flat = {[false] = parallel(), [true] = parallel(nil, true)}
check(("%d ranks, one flat allreduce"):format(size), rel(flat[false], ref), 1e-5)
-- parameters: first (96 + 16), spare (6 + 2), mid (128 + 8), last (8 + 1)
-- in reverse order the unused `spare` comes third: the buckets before it
-- go out during backward (case[4] of them), those from `spare` on wait
for _, case in ipairs{{1e-9, 8, "one bucket per parameter", 4}, {5e-5, 4, "buckets of 52 bytes", 2},
                      {100, 1, "one bucket", 0}} do
  for _, twice in ipairs{false, true} do
    local st, started, sizes = parallel({bucket_mb = case[1]}, twice)
    local what = case[3] .. (twice and ", two backward" or "")
    assert(#sizes == case[2], ("%s: %d buckets, expected %d"):format(what, #sizes, case[2]))
    check(what .. " vs 1 process", rel(st, ref), 1e-5)
    -- bitwise with 2 ranks (a + b either way); 3 ranks may sum in another order
    check(what .. " vs flat", rel(st, flat[twice]), size == 2 and 0 or 1e-6)
    if not twice then
      assert(started == case[4], ("%s: %s buckets started during backward, expected %d")
        :format(what, tostring(started), case[4]))
    end
  end
end
local sizes = select(3, parallel({bucket_mb = 5e-5}))   -- 13 values: closed once reached
assert(table.concat(sizes, ",") == "17,128,24,96", "bucket sizes " .. table.concat(sizes, ","))

-- a global batch the ranks cannot share evenly is refused on every rank
if size > 2 then
  local ok, err = pcall(d.shard, lg.zeros(B + 1, 2))
  assert(not ok and tostring(err):find(("the global batch of %d is not divisible by %d ranks")
    :format(B + 1, size), 1, true), tostring(err))
end

-- SyncBatchNorm on 5-D input (the converter turns BatchNorm3d into it)
-- against BatchNorm3d over the whole batch: values, gradients, statistics
lg.manual_seed(3)
local x = lg.randn(B, 3, 2, 2, 2) * 3 + 1
local w = lg.randn(B, 3, 2, 2, 2)
lg.manual_seed(4)
local bn3 = nn.BatchNorm3d(3)
lg.manual_seed(4)
local conv = d.sync_batchnorm(nn.Sequential(nn.BatchNorm3d(3)))
local sbn = conv[1]
assert(getmetatable(sbn) == d.SyncBatchNorm, "BatchNorm3d not converted")
local xr, xd = x:clone():requires_grad_(), d.shard(x):clone():requires_grad_()
local yr, yd = bn3(xr), sbn(xd)
;(yr * w):sum():backward()
;(yd * d.shard(w)):sum():backward()
check("SyncBatchNorm 5-D, forward", rel({yd}, {d.shard(yr)}), 1e-5)
check("SyncBatchNorm 5-D, input gradient", rel({xd.grad}, {d.shard(xr.grad)}), 1e-5)
check("SyncBatchNorm 5-D, weight and bias gradients",
      rel({d.allreduce(sbn.weight.grad:clone()), d.allreduce(sbn.bias.grad:clone())},
          {bn3.weight.grad, bn3.bias.grad}), 1e-5)
check("SyncBatchNorm 5-D, running stats", rel({sbn.running_mean, sbn.running_var},
      {bn3.running_mean, bn3.running_var}), 1e-6)

print(("rank %d ok"):format(rank))
