-- Run by tests/lua/test_dist.lua as `mpirun -np 2 luagan tests/dist/faults.lua MODE`:
-- a rank that fails must end the whole job at once, never leave the other
-- waiting in a collective.
--   error   rank 1 raises a Lua error while rank 0 waits in an allreduce
--   kill    rank 1 is killed by SIGKILL while rank 0 waits in an allreduce
--   shapes  the ranks build models of different shapes: dist.wrap raises
local d = lg.dist
local mode, rank = arg[1], d.rank()
d.allreduce(lg.ones(2))                        -- both ranks are up
if mode == "error" then
  if rank == 1 then error("failure on purpose in rank 1") end
elseif mode == "kill" then
  if rank == 1 then os.execute("kill -KILL $PPID") end
elseif mode == "shapes" then
  d.wrap(nn.Sequential(nn.Linear(3, 4 + rank), nn.ReLU()))
else
  error("unknown mode " .. tostring(mode))
end
d.allreduce(lg.ones(2))                        -- rank 0 waits here for rank 1
print(("rank %d went on after the failure"):format(rank))
