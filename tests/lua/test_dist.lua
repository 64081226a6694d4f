-- lg.dist: the job of one process (no mpirun), then 2 ranks under mpirun
-- running the scripts of tests/dist/: collectives, data-parallel training
-- equal to one process on the whole batch (SGD, Adam, SyncBatchNorm), and
-- faults that must end the whole job within seconds.  The mpirun part is
-- skipped, with a message, when mpirun or this build's Open MPI is missing.
local lg = require "luagan"
local d = lg.dist
local nn, optim = lg.nn, lg.optim

-- {------------------------------------------------------ one process

test("without mpirun the job is one process and MPI is not started", function()
  local i = d.info()
  eq({d.rank(), d.size(), i.rank, i.size, i.running}, {0, 1, 0, 1, false})
end)

test("collectives of one process leave their tensor as it is", function()
  local t = lg.tensor{1, -2, 5}
  for _, op in ipairs{"sum", "mean", "max", "min"} do
    eq(d.allreduce(t, op):totable(), {1, -2, 5}, op)
  end
  eq(d.broadcast(t, 0):totable(), {1, -2, 5})
  eq(d.allgather(t):totable(), {{1, -2, 5}})
  eq(d.sum(t):totable(), {1, -2, 5})
  d.barrier()
  d.check_same("anything", "flags")
  raises(function() d.broadcast(t, 1) end, "root 1 is out of range (0..0)")
  raises(function() d.allreduce(t, "prod") end, "invalid option 'prod'")
  raises(function() d.allreduce(lg.zeros(2, 3):t()) end, "dist.allreduce: the tensor must be contiguous")
  raises(function() d.check_same(3) end, "dist.check_same: value must be a string, got number")
end)

test("shard: a rank's slice of a global batch", function()
  eq({d.shard(6)}, {1, 6})
  eq(d.shard(lg.arange(4)):totable(), {0, 1, 2, 3})
  raises(function() d.shard(2.5) end, "dist.shard: a batch size must be a non-negative integer")
  raises(function() d.shard(lg.tensor(1)) end, "dist.shard: a tensor with a first dim is expected")
  raises(function() d.shard({lg.zeros(3), lg.zeros(2)}) end,
         "dist.shard: entry 2 is not a tensor with the first dim of entry 1")
end)

test("seed: the shared stream is lg.manual_seed(seed)'s, rank 0's own another", function()
  d.seed(11)
  local own, shared = lg.rand(3), d.shared(lg.rand, 3)
  local own2 = lg.rand(3)
  lg.manual_seed(11)
  local ref = lg.rand(6)
  eq(shared:totable(), ref:narrow(1, 1, 3):totable())
  lg.manual_seed(11 ~ -7046029254386353131)
  eq(lg.cat({own, own2}):totable(), lg.rand(6):totable(), "rank 0's stream, not disturbed by shared")
  raises(function() d.shared(error, "inner failure") end, "inner failure")
  raises(function() d.seed(1.5) end, "dist.seed: seed must be an integer, got 1.5")
end)

test("SyncBatchNorm of one process is batch norm, in training and eval", function()
  lg.manual_seed(2)
  local x = lg.randn(6, 4, 3, 3)
  local a, b = d.SyncBatchNorm(4), nn.BatchNorm2d(4)
  assert(rawequal(nn.SyncBatchNorm, d.SyncBatchNorm), "nn.SyncBatchNorm is dist's")
  near(a(x):totable(), b(x):totable(), 1e-6)
  near(a.running_var:totable(), b.running_var:totable(), 1e-6)
  a:eval(); b:eval()
  near(a(x):totable(), b(x):totable(), 1e-6)
  raises(function() a(lg.zeros(2, 3)) end, "SyncBatchNorm: expected 4 channels (dim 2), got shape [2,3]")
  raises(function() d.SyncBatchNorm(0) end, "SyncBatchNorm: num_features must be an integer >= 1")
  eq(tostring(a), "SyncBatchNorm(4, eps=1e-05, momentum=0.1)")
end)

test("wrap: a one-process job trains as the bare model", function()
  lg.manual_seed(4)
  local net = nn.Linear(3, 2)
  local ddp = d.wrap(net)
  assert(rawequal(ddp.module, net), "ddp.module")
  local x = lg.randn(4, 3)
  ddp(x):sum():backward()
  local g = net.weight.grad:clone()
  ddp:sync_grads()
  eq(net.weight.grad:totable(), g:totable())
  raises(function() d.wrap(nn.ReLU()) end, "dist.wrap: the module has no parameters")
  raises(function() d.wrap(net, {bucket = 1}) end, "dist.wrap: unknown option 'bucket'")
  assert(rawequal(d.broadcast_parameters(ddp), ddp), "broadcast_parameters of a DataParallel")
  raises(function() d.broadcast_parameters(net, 1) end,
         "dist.broadcast_parameters: root 1 is out of range (0..0)")
  raises(function() d.broadcast_parameters(42) end,
         "dist.broadcast_parameters: a module, an optimizer or a list of tensors is expected")
end)

-- }------------------------------------------------------

-- {------------------------------------------------------ two ranks

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true end

if not have("mpirun") then
  io.stderr:write("skip: mpirun not found (apt-get install openmpi-bin), the 2-rank tests of " ..
                  "test_dist not run\n")
  return
end
if not d.info().mpi then
  io.stderr:write("skip: this luagan was built without Open MPI (install libopenmpi-dev and " ..
                  "rebuild), the 2-rank tests of test_dist not run\n")
  return
end

-- mpirun -np 2 luagan tests/dist/<script> <args>: exit code, output (stdout
-- and stderr), seconds.  Root needs --allow-run-as-root; 2 ranks on fewer
-- cores need --oversubscribe; a container's ptrace rules refuse the
-- shared-memory transport's single copy, which is only an optimisation.
-- On the sanitizer build, LeakSanitizer skips what Open MPI leaves
-- allocated (tests/dist/lsan-openmpi.supp says how); other builds ignore it.
local function mpirun(script, args)
  if not script:find("/", 1, true) then script = ROOT .. "/tests/dist/" .. script end
  local env = ("OMPI_MCA_btl_vader_single_copy_mechanism=none " ..
               "OMPI_MCA_mca_base_component_disable_dlclose=1 " ..
               "LSAN_OPTIONS=\"${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=%s:" ..
               "fast_unwind_on_malloc=0:print_suppressions=0\""):format(
               sh_quote(ROOT .. "/tests/dist/lsan-openmpi.supp"))
  local cmd = ("%s timeout -s KILL 60 mpirun -np 2 --oversubscribe --allow-run-as-root " ..
               "%s %s %s 2>&1"):format(env, sh_quote(LUAGAN), sh_quote(script), args or "")
  local t0 = lg.clock()
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, code = p:close()
  return code, out, lg.clock() - t0
end

local function has(out, part)
  if not out:find(part, 1, true) then error(("%q not in the output:\n%s"):format(part, out), 2) end
end

test("2 ranks: allreduce, broadcast, allgather, dist.sum, seeds, shards", function()
  local code, out = mpirun("collectives.lua")
  eq(code, 0, "exit code; output:\n" .. out)
  has(out, "rank 0 ok")
  has(out, "rank 1 ok")
end)

test("2 ranks at batch B/2 train as 1 process at batch B (SGD, Adam, SyncBatchNorm)", function()
  local code, out = mpirun("equivalence.lua")
  eq(code, 0, "exit code; output:\n" .. out)
  has(out, "rank 0 ok")
  has(out, "rank 1 ok")
  has(out, "rank 1 MLP, Adam, parameters")
  has(out, "rank 1 SyncBatchNorm 4-D, weight gradient")
end)

test("a Lua error on rank 1 ends every rank within seconds, naming rank 1", function()
  local code, out, secs = mpirun("faults.lua", "error")
  assert(code ~= 0, "mpirun exited 0:\n" .. out)
  assert(secs < 10, ("the job took %.1f s to end"):format(secs))
  has(out, "failure on purpose in rank 1")
  has(out, "luagan: rank 1 of 2 exits with status 1: aborting every rank")
  assert(not out:find("went on after the failure", 1, true), "a rank went on:\n" .. out)
end)

test("a rank killed by a signal ends the job", function()
  local code, out, secs = mpirun("faults.lua", "kill")
  assert(code ~= 0, "mpirun exited 0:\n" .. out)
  assert(secs < 10, ("the job took %.1f s to end"):format(secs))
  has(out, "rank 1")
  has(out, "signal 9")
  assert(not out:find("went on after the failure", 1, true), "a rank went on:\n" .. out)
end)

test("models of different shapes are refused by wrap on every rank", function()
  local code, out, secs = mpirun("faults.lua", "shapes")
  assert(code ~= 0, "mpirun exited 0:\n" .. out)
  assert(secs < 10, ("the job took %.1f s to end"):format(secs))
  has(out, "dist.check_same: parameter shapes not the same on every rank: rank 1 differs from rank 0")
  has(out, "(rank 1 has: 0.weight[5,3] 0.bias[5])")
  assert(not out:find("went on after the failure", 1, true), "a rank went on:\n" .. out)
end)

test("the example of docs/distributed.md prints the same losses on 1 and 2 ranks", function()
  local doc = assert(read_file(ROOT .. "/docs/distributed.md"), "docs/distributed.md missing")
  local code = assert(doc:match("```lua\n(.-)```"), "no lua block in docs/distributed.md")
  local path = temp_dir() .. "/train_dist.lua"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local p = io.popen(("%s %s 2>&1"):format(sh_quote(LUAGAN), sh_quote(path)))
  local one = p:read("a")
  p:close()
  local rc, two = mpirun(path)
  eq(rc, 0, "exit code; output:\n" .. two)
  local function losses(out)
    local v = {}
    for a, b in out:gmatch("lossD (%S+) lossG (%S+)") do v[#v + 1] = {tonumber(a), tonumber(b)} end
    return v
  end
  local l1, l2 = losses(one), losses(two)
  eq(#l1, 3, "lines of one process:\n" .. one)
  near(l2, l1, 1e-4, "2 ranks against 1 process")
end)

-- }------------------------------------------------------
