-- Run by tests/lua/test_dist.lua as `mpirun -np 2 luagan tests/dist/collectives.lua`:
-- every collective's values on 2 ranks, dist.sum's gradient, the errors
-- that must be raised on every rank (so the job goes on), the random
-- streams and the data slices.  Each rank checks its own results and
-- prints "rank R ok"; a failed check is a Lua error, which aborts the job.
local d = lg.dist
local rank, size = d.rank(), d.size()
assert(size == 2, "run with 2 ranks, got " .. size)

local function same(t, want, what)
  local got = t:totable()
  local function flat(x, out)
    if type(x) ~= "table" then out[#out + 1] = x return out end
    for _, v in ipairs(x) do flat(v, out) end
    return out
  end
  local g, w = flat(got, {}), flat(want, {})
  assert(#g == #w, what .. ": " .. #g .. " values, expected " .. #w)
  for i = 1, #w do
    if math.abs(g[i] - w[i]) > 1e-6 * math.max(1, math.abs(w[i])) then
      error(("%s on rank %d: value %d is %g, expected %g"):format(what, rank, i, g[i], w[i]))
    end
  end
end

local function raises(fn, part)
  local ok, err = pcall(fn)
  assert(not ok, "no error, expected one containing " .. part)
  assert(tostring(err):find(part, 1, true), ("expected %q in %q"):format(part, tostring(err)))
end

-- rank 0 holds {1, -2, 5}, rank 1 {3, 4, -1}
local function mine() return rank == 0 and lg.tensor{1, -2, 5} or lg.tensor{3, 4, -1} end
same(d.allreduce(mine()), {4, 2, 4}, "sum")
same(d.allreduce(mine(), "sum"), {4, 2, 4}, "sum by name")
same(d.allreduce(mine(), "mean"), {2, 1, 2}, "mean")
same(d.allreduce(mine(), "max"), {3, 4, 5}, "max")
same(d.allreduce(mine(), "min"), {1, -2, -1}, "min")
local m = lg.zeros(2, 3):fill_(rank + 1)
local row = m:narrow(1, 2, 1)                 -- a contiguous view: only it changes
d.allreduce(row)
same(m, {{rank + 1, rank + 1, rank + 1}, {3, 3, 3}}, "allreduce of a view")
raises(function() d.allreduce(lg.zeros(2, 3):t()) end, "must be contiguous")
raises(function() d.allreduce(lg.zeros(2):requires_grad_()) end, "cannot be modified in place")
raises(function() d.allreduce(lg.zeros(2), "prod") end, "invalid option 'prod'")

same(d.broadcast(mine(), 1), {3, 4, -1}, "broadcast from 1")
same(d.broadcast(mine(), 0), {1, -2, 5}, "broadcast from 0")
raises(function() d.broadcast(lg.zeros(1), 2) end, "root 2 is out of range (0..1)")

same(d.allgather(mine()), {{1, -2, 5}, {3, 4, -1}}, "allgather")
assert(table.concat(d.allgather(lg.zeros(2, 1)).shape, ",") == "2,2,1", "allgather shape")
raises(function() d.allgather(lg.zeros(rank + 1)) end,
       "the ranks hold different shapes: rank 0 [1], rank 1 [2]")
d.barrier()

-- dist.sum: forward is the sum; backward sums each rank's gradient
local x = mine():requires_grad_()
local s = d.sum(x)
same(s, {4, 2, 4}, "dist.sum")
local w = rank == 0 and lg.tensor{1, 0, 2} or lg.tensor{0, 3, 1}
;(s * w):sum():backward()
same(x.grad, {1, 3, 3}, "dist.sum backward")     -- w0 + w1 on both ranks

-- check_same: equal values pass, a difference raises on every rank
d.check_same("lr=0.1 batch=64", "flags")
raises(function() d.check_same(rank == 0 and "lr=0.1" or "lr=0.2", "flags") end,
       "flags not the same on every rank: rank 1 differs from rank 0 (rank " .. rank ..
       " has: lr=0." .. (rank + 1) .. ")")

-- random streams: shared ones agree, per-rank ones differ
d.seed(5)
local own = lg.rand(4)
local shared = d.shared(lg.rand, 4)
local owns, shareds = d.allgather(own), d.allgather(shared)
assert((owns[1] - owns[2]):abs():max():item() > 0.01, "per-rank streams must differ")
assert((shareds[1] - shareds[2]):abs():max():item() == 0, "the shared stream must agree")
lg.manual_seed(5)
same(shared, lg.rand(4):totable(), "the shared stream is lg.manual_seed(seed)'s")
-- a shared loader: the same global batch on both ranks, each takes its half
d.seed(9)
local data = lg.arange(8):view(8, 1)
local loader = d.shared(lg.data.Loader, data, {batch = 4})
local batch = d.shared(loader.next, loader)
local all = d.allgather(batch)
assert((all[1] - all[2]):abs():max():item() == 0, "the global batch must agree")
same(d.shard(batch), batch:narrow(1, 2 * rank + 1, 2):totable(), "shard of a tensor")
local first, count = d.shard(6)
assert(first == 3 * rank + 1 and count == 3, "shard(6): " .. first .. ", " .. count)
local pair = d.shard({lg.zeros(4, 2), lg.zeros(4)})
assert(pair[1]:size(1) == 2 and pair[2]:size(1) == 2, "shard of a list")
raises(function() d.shard(5) end, "the global batch of 5 is not divisible by 2 ranks")
raises(function() d.shard(lg.zeros(3, 2)) end, "the global batch of 3 is not divisible by 2 ranks")

-- broadcast_parameters: a module and an optimizer get rank 0's state
lg.manual_seed(100 + rank)
local net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
local opt = optim.Adam(net:parameters())
net(lg.randn(5, 3)):sum():backward()
opt:step()
if rank == 1 then opt:step() end              -- rank 1 is one step ahead
d.broadcast_parameters(net)
d.broadcast_parameters(opt)
local sd = net:state_dict()
local keys = {}
for k in pairs(sd) do keys[#keys + 1] = k end
table.sort(keys)                              -- pairs' order differs between processes
for _, k in ipairs(keys) do
  local g = d.allgather(sd[k])
  assert((g[1] - g[2]):abs():max():item() == 0, "after broadcast_parameters, " .. k .. " differs")
end
for i, st in ipairs(opt.state) do
  assert(st.step == 1, "optimizer step count of parameter " .. i .. ": " .. st.step)
  local g = d.allgather(st.exp_avg)
  assert((g[1] - g[2]):abs():max():item() == 0, "exp_avg of parameter " .. i .. " differs")
end

local info = d.info()
assert(info.running and info.mpi and info.rank == rank and info.size == 2, "info")
print(("rank %d ok"):format(rank))
