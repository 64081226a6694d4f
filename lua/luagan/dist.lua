-- luagan.dist: data-parallel training over Open MPI, as PyTorch's DDP and
-- Horovod do it.  Run the same script on every process:
--
--   mpirun -np 4 luagan train.lua --batch 256
--
-- Each process (a rank, 0-based as in MPI) takes its slice of every global
-- batch (dist.shard), computes gradients on it, and dist.wrap(model)'s
-- :sync_grads() averages them over the ranks with one MPI_Allreduce over
-- one flat buffer (or, with opts.bucket_mb, one MPI_Iallreduce per bucket
-- of gradients, started during backward as PyTorch's DDP does), so that
-- every rank takes the same optimizer step: the result is that of one
-- process on the whole batch.
--
--   dist.rank() dist.size()                the job
--   dist.allreduce(t [, op]) dist.broadcast(t, root) dist.allgather(t) dist.barrier()
--   dist.sum(x)                            a sum over ranks that autograd differentiates
--   dist.wrap(model [, opts]) -> ddp       ddp(x), ddp:sync_grads(), ddp:optimizer(opt)
--   dist.broadcast_parameters(m_or_opt)    rank 0's values everywhere
--   dist.seed(s) dist.shared(fn) dist.own(fn) dist.shard(batch)   random streams, data slices
--   dist.check_same(value, what)           configurations that must agree
--   dist.allgather_values(list)            every rank's numbers, exactly
--   dist.SyncBatchNorm(n) dist.sync_batchnorm(model)   batch norm over the global batch
--
-- Without mpirun (or in a build without Open MPI) the job is one process:
-- size() is 1, rank() 0 and every collective leaves its tensor as it is, so
-- a script written for lg.dist runs unchanged under plain `luagan`.  MPI is
-- initialised when this module is first used in a process that mpirun
-- started, and finalised at exit; a rank that exits with an error (a Lua
-- error, os.exit(1)) aborts the whole job at once, naming itself.
--
-- Every collective must be called by every rank, in the same order, with
-- tensors of the same shape: a rank that skips one leaves the others
-- waiting.  See docs/distributed.md.
local lg = require "luagan"
local nn = require "luagan.nn"
local util = require "luagan.util"

local C = rawget(lg, "_dist")
local dist = {}

-- {====================================================== the job

--- dist.rank() -> integer
-- This process's rank in the job, 0-based as in MPI (0 .. dist.size() - 1);
-- 0 without mpirun.
-- @usage if lg.dist.rank() == 0 then print("loss", 0.5) end
function dist.rank() return C.rank() end

--- dist.size() -> integer
-- The number of processes in the job (mpirun -np N); 1 without mpirun or
-- in a build without Open MPI.
-- @usage local per_rank = 256 // lg.dist.size()
function dist.size() return C.size() end

--- dist.info() -> {rank, size, mpi, running}
-- The job as a table: rank and size, mpi (this build links Open MPI) and
-- running (MPI was initialised: the process was started by mpirun).
-- @usage local i = lg.dist.info()
-- print(i.rank, i.size, i.mpi, i.running)
function dist.info() return C.info() end

--- dist.abort([message [, code]])
-- Ends the whole job now: prints "luagan: rank R of N aborts the job:
-- message" on stderr and calls MPI_Abort with code (default 1, 1..255),
-- which makes mpirun kill every rank; in a job of one process, exits with
-- code.  A Lua error does the same by itself (through the exit status), so
-- this is for a rank that must stop the job without raising.
-- @usage if false then lg.dist.abort("dataset missing on this host", 2) end
function dist.abort(message, code) return C.abort(message, code) end

-- }======================================================

-- {====================================================== collectives

--- dist.allreduce(t [, op]) -> t
-- Combines t elementwise over every rank and writes the result into t on
-- each, in place: op "sum" (default), "mean" (the sum divided by size()),
-- "max" or "min".  t must be contiguous, of the same shape on every rank,
-- and outside any graph (a .grad, a detached tensor, or under lg.no_grad).
-- Returns t.  Not differentiable: dist.sum is.
-- @usage local loss_sum = lg.dist.allreduce(lg.tensor{0.7})
function dist.allreduce(t, op) return C.allreduce(t, op) end

--- dist.broadcast(t, root) -> t
-- Copies root's t (root a 0-based rank) into t on every rank, in place; t
-- contiguous, same shape everywhere, outside any graph.  Returns t.
-- @usage local w = lg.dist.broadcast(lg.randn(3), 0)   -- rank 0's values everywhere
function dist.broadcast(t, root) return C.broadcast(t, root) end

--- dist.allgather(t) -> Tensor
-- Every rank's t, stacked along a new first dim in rank order, on every
-- rank.  The shapes must agree: if they do not, every rank raises naming
-- rank 0's shape and the first rank that differs.
-- Shapes: t [...] -> [size(), ...].
-- @usage local all = lg.dist.allgather(lg.tensor{lg.dist.rank()})   -- [size, 1]
function dist.allgather(t) return C.allgather(t) end

--- dist.barrier()
-- Returns when every rank has called it.
-- @usage lg.dist.barrier()
function dist.barrier() return C.barrier() end

--- dist.sum(x) -> Tensor
-- x summed elementwise over every rank, as a new tensor that autograd
-- differentiates: when each rank r computes a loss L_r from the result,
-- backward gives x on every rank the gradient of L_0 + L_1 + ... (the
-- incoming gradients are summed over the ranks in turn).  So backward is a
-- collective too, run by every rank.  dist.SyncBatchNorm is built on it.
-- Shapes: x [...] -> [...].
-- @usage local x = lg.randn(4):requires_grad_()
-- local total = lg.dist.sum(x)   -- x itself in a job of one process
function dist.sum(x) return C.sum(x) end

-- }======================================================

-- {====================================================== configurations

-- at most n characters of s, for a message
local function clip(s, n)
  return #s <= n and s or s:sub(1, n) .. "..."
end

--- dist.check_same(value, what)
-- Raises on every rank, naming the ranks whose value differs from rank
-- 0's, unless value (a string: flags, a configuration, a list of shapes)
-- is the same on every rank; what names it in the message.  Compares
-- 64-bit hashes, gathered from every rank, so the strings may be long.
-- dist.wrap checks the parameter shapes with it.
-- @usage lg.dist.check_same("batch=64 lr=0.0002", "flags")
function dist.check_same(value, what)
  if type(value) ~= "string" then
    error(("dist.check_same: value must be a string, got %s"):format(type(value)), 2)
  end
  what = what or "value"
  local hashes, bad = C.hashes(value), {}
  for r = 2, #hashes do
    if hashes[r] ~= hashes[1] then bad[#bad + 1] = tostring(r - 1) end
  end
  if #bad > 0 then
    error(("dist.check_same: %s not the same on every rank: rank%s %s differ%s from rank 0 " ..
           "(rank %d has: %s)"):format(what, #bad > 1 and "s" or "", table.concat(bad, ", "),
           #bad > 1 and "" or "s", C.rank(), clip(value, 300)), 2)
  end
end

-- A number as 5 floats holding 16 bits each (exact in float32): a tag (0
-- integer, 1 float) and its 8 bytes; and back.
local function encode(v, out)
  local bytes = math.type(v) == "integer" and string.pack("<j", v) or string.pack("<d", v)
  out[#out + 1] = math.type(v) == "integer" and 0 or 1
  for i = 1, 8, 2 do out[#out + 1] = string.unpack("<I2", bytes, i) end
end

local function decode(row, at)
  local parts = {}
  for i = 1, 4 do parts[i] = string.pack("<I2", math.tointeger(row[at + i])) end
  return (string.unpack(row[at] == 0 and "<j" or "<d", table.concat(parts)))
end

--- dist.allgather_values(list) -> {list, list, ...}
-- Every rank's list of numbers, in rank order (one list per rank), exactly:
-- integers and doubles cross as their 8 bytes (collectives on tensors carry
-- float32), so a mean computed from them in Lua is a double's.  Every rank
-- must pass the same count: else every rank raises naming the counts.
-- @usage local all = lg.dist.allgather_values{0.25, 3}   -- {{0.25, 3}} in a job of one process
function dist.allgather_values(list)
  if type(list) ~= "table" then error("dist.allgather_values: a list of numbers is expected", 2) end
  local flat = {}
  for i, v in ipairs(list) do
    if type(v) ~= "number" then
      error(("dist.allgather_values: entry %d is a %s, not a number"):format(i, type(v)), 2)
    end
    encode(v, flat)
  end
  if C.size() == 1 then return {{table.unpack(list)}} end
  local counts = C.allgather(lg.tensor{#list}):view(-1):totable()
  for r = 2, #counts do
    if counts[r] ~= counts[1] then
      error(("dist.allgather_values: the ranks pass different counts: rank 0 %d, rank %d %d")
        :format(math.tointeger(counts[1]), r - 1, math.tointeger(counts[r])), 2)
    end
  end
  if #list == 0 then
    local out = {}
    for r = 1, #counts do out[r] = {} end
    return out
  end
  local out = {}
  for r, row in ipairs(C.allgather(lg.tensor(flat)):totable()) do
    local vals = {}
    for i = 1, #list do vals[i] = decode(row, 5 * i - 4) end
    out[r] = vals
  end
  return out
end

-- }======================================================

-- {====================================================== random streams and data

-- The state of the stream that is not current: the shared one while this
-- rank's own is current (dist.seed's default), or the own one while the
-- shared one is (dist.seed(seed, "shared"), as lg.experiment does).
local other_state, current

-- A per-rank seed: seed xor a distinct multiple of the golden-ratio constant
-- (2^64 / phi) for each rank, never 0, so no rank's stream is the shared
-- one's or another rank's.
local function rank_seed(seed, rank)
  return seed ~ ((rank + 1) * -7046029254386353131)   -- 0x9E3779B97F4A7C15
end

--- dist.seed(seed [, current])
-- Seeds two random streams from one integer seed: a shared stream, the
-- same on every rank, that dist.shared runs code with (the data order,
-- model initialisation), and this rank's own stream, that dist.own runs
-- code with (noise, dropout): lg.manual_seed(seed ~ ((rank + 1) *
-- 0x9E3779B97F4A7C15)), distinct on every rank and from the shared one.
-- current ("own", the default, or "shared") is the stream lg's generator
-- draws from outside dist.shared and dist.own.  The shared stream starts as
-- lg.manual_seed(seed) does, so in a job of one process dist.shared(fn)
-- draws what fn would after lg.manual_seed(seed), and dist.seed(seed,
-- "shared") leaves lg's generator as lg.manual_seed(seed) does (lg.experiment
-- calls it so: a script draws the global batch as one process would).
-- @usage lg.dist.seed(1)
function dist.seed(seed, which)
  if math.type(seed) ~= "integer" then
    error(("dist.seed: seed must be an integer, got %s"):format(tostring(seed)), 2)
  end
  which = which or "own"
  if which ~= "own" and which ~= "shared" then
    error(("dist.seed: the current stream must be \"own\" or \"shared\", got %s"):format(
      tostring(which)), 2)
  end
  lg.manual_seed(rank_seed(seed, C.rank()))
  local own = lg.get_rng_state()
  lg.manual_seed(seed)
  if which == "own" then other_state = lg.get_rng_state() lg.set_rng_state(own)
  else other_state = own end
  current = which
end

-- fn(...) with the stream `which` current, swapped back afterwards (so
-- dist.shared inside dist.own, or the reverse, finds the right stream)
local function with_stream(which, name, fn, ...)
  if current == nil then error(("dist.%s: call dist.seed(seed) first"):format(name), 3) end
  if which == current then return fn(...) end
  local before = current
  local mine = lg.get_rng_state()
  lg.set_rng_state(other_state)
  other_state, current = mine, which
  local res = table.pack(pcall(fn, ...))
  local inner = lg.get_rng_state()
  lg.set_rng_state(other_state)
  other_state, current = inner, before
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

--- dist.shared(fn, ...) -> ...
-- Calls fn(...) with the shared random stream of dist.seed current, and
-- returns its results: what fn draws (a loader's permutation, a model's
-- initial weights) is the same on every rank.  The stream current before
-- is restored afterwards, even when fn raises.  Raises unless dist.seed was
-- called first.
-- @usage lg.dist.seed(1)
-- local order = lg.dist.shared(lg.randperm, 10)   -- the same on every rank
function dist.shared(fn, ...) return with_stream("shared", "shared", fn, ...) end

--- dist.own(fn, ...) -> ...
-- Calls fn(...) with this rank's own random stream of dist.seed current,
-- and returns its results: what fn draws (dropout masks, noise that need
-- only be independent across ranks) differs from rank to rank.  The stream
-- current before is restored afterwards, even when fn raises.  Raises
-- unless dist.seed was called first.
-- @usage lg.dist.seed(1, "shared")
-- local eps = lg.dist.own(lg.randn, 4)   -- this rank's draw
function dist.own(fn, ...) return with_stream("own", "own", fn, ...) end

--- dist.get_rng_state() -> {current = "own"|"shared", other = {integer, ...}}
-- The streams of dist.seed: which one is current (its state is
-- lg.get_rng_state()'s) and the other's state, for a checkpoint; nil
-- before dist.seed.  dist.set_rng_state(t) restores it.
-- @usage lg.dist.seed(3, "shared")
-- local s = lg.dist.get_rng_state()   -- s.current == "shared"
function dist.get_rng_state()
  if current == nil then return nil end
  local other = {}
  for i, w in ipairs(other_state) do other[i] = w end
  return {current = current, other = other}
end

--- dist.set_rng_state(t)
-- Restores what dist.get_rng_state returned (the current stream's state is
-- restored by lg.set_rng_state).
-- @usage lg.dist.seed(3); lg.dist.set_rng_state(lg.dist.get_rng_state())
function dist.set_rng_state(t)
  if type(t) ~= "table" or (t.current ~= "own" and t.current ~= "shared") or
     type(t.other) ~= "table" then
    error("dist.set_rng_state: a table from dist.get_rng_state is expected", 2)
  end
  current, other_state = t.current, {table.unpack(t.other)}
end

-- first (1-based) and count of this rank's slice of n rows
local function slice(n, level)
  local size = C.size()
  if math.type(n) ~= "integer" or n < 0 then
    error(("dist.shard: a batch size must be a non-negative integer, got %s"):format(
      tostring(n)), level + 1)
  end
  if n % size ~= 0 then
    error(("dist.shard: the global batch of %d is not divisible by %d ranks; use a batch " ..
           "that is a multiple of %d"):format(n, size, size), level + 1)
  end
  local per = n // size
  return C.rank() * per + 1, per
end

--- dist.shard(batch) -> first, count | Tensor | {Tensor, ...}
-- This rank's contiguous slice of a global batch, rank r taking rows r*B/N+1
-- .. (r+1)*B/N of B rows over N ranks: for a number B, the first row
-- (1-based) and the count; for a tensor, its slice along dim 1 (a view;
-- the tensor itself in a job of one process); for a list of tensors (a
-- loader's {images, labels}), the list of slices.
-- B must be divisible by the number of ranks, else a clear error.  With
-- every rank drawing the same global batch (dist.shared), the ranks
-- together see exactly the batch one process would.
-- Shapes: [B, ...] -> [B / size(), ...].
-- @usage local mine = lg.dist.shard(lg.randn(8, 2))   -- [8 / size, 2]
function dist.shard(batch)
  if type(batch) == "number" then return slice(batch, 2) end
  if lg.is_tensor(batch) then
    if batch:dim() == 0 then error("dist.shard: a tensor with a first dim is expected", 2) end
    if C.size() == 1 then return batch end
    return batch:narrow(1, slice(batch:size(1), 2))
  end
  if type(batch) ~= "table" or #batch == 0 then
    error(("dist.shard: a batch size, a tensor or a list of tensors is expected, got %s"):format(
      type(batch)), 2)
  end
  local out = {}
  for i, t in ipairs(batch) do
    if not lg.is_tensor(t) or t:dim() == 0 or t:size(1) ~= batch[1]:size(1) then
      error(("dist.shard: entry %d is not a tensor with the first dim of entry 1"):format(i), 2)
    end
    out[i] = t:narrow(1, slice(t:size(1), 2))
  end
  return out
end

-- }======================================================

-- {====================================================== parameters

local function shape_str(t) return "[" .. table.concat(t.shape, ",") .. "]" end

-- tensors into one contiguous buffer, a collective on it (fn(buffer)), back
-- into the tensors; lists of tensors only
local function fused(tensors, fn)
  local n = 0
  for _, t in ipairs(tensors) do n = n + t:numel() end
  if n == 0 then return end
  local flat, off = lg.zeros(n), 1
  for _, t in ipairs(tensors) do
    local k = t:numel()
    if k > 0 then flat:narrow(1, off, k):copy_(t:reshape(k)) end
    off = off + k
  end
  fn(flat)
  off = 1
  lg.no_grad(function()
    for _, t in ipairs(tensors) do
      local k = t:numel()
      if k > 0 then t:copy_(flat:narrow(1, off, k):view(t.shape)) end
      off = off + k
    end
  end)
end

-- the tensors of a module (parameters and buffers, by sorted name), an
-- optimizer (its parameters and state tensors) or a list of tensors
local function tensors_of(obj, level)
  if getmetatable(obj) == dist.DataParallel then obj = obj.module end
  if type(obj) == "table" and type(obj.params) == "table" and type(obj.state) == "table" then
    local out = {}
    for _, p in ipairs(obj.params) do out[#out + 1] = p end
    local sd = obj:state_dict()
    for _, k in ipairs(util.sorted_keys(sd)) do
      if not k:match("%.step$") then out[#out + 1] = sd[k] end
    end
    return out, obj
  end
  if type(obj) == "table" and type(obj.state_dict) == "function" then
    local sd, out = obj:state_dict(), {}
    for _, k in ipairs(util.sorted_keys(sd)) do out[#out + 1] = sd[k] end
    return out
  end
  if type(obj) == "table" and #obj > 0 then
    for i, t in ipairs(obj) do
      if not lg.is_tensor(t) then
        error(("dist.broadcast_parameters: entry %d is not a tensor"):format(i), level + 1)
      end
    end
    return obj
  end
  error("dist.broadcast_parameters: a module, an optimizer or a list of tensors is expected",
        level + 1)
end

--- dist.broadcast_parameters(obj [, root]) -> obj
-- Copies root's (default 0) values into obj on every rank, in place, with
-- one broadcast of one flat buffer: for a module, its parameters and
-- buffers (also of the model a DataParallel wraps); for an optimizer, its
-- parameters, state tensors (moments) and step counts; or a list of
-- tensors.  Call it once at the start, so that every rank starts from the
-- same model (dist.wrap does it for the model).  Returns obj.
-- @usage local net = nn.Linear(4, 2)
-- lg.dist.broadcast_parameters(net)
function dist.broadcast_parameters(obj, root)
  root = root or 0
  local tensors, opt = tensors_of(obj, 2)
  if math.type(root) ~= "integer" or root < 0 or root >= C.size() then
    error(("dist.broadcast_parameters: root %s is out of range (0..%d)"):format(tostring(root),
          C.size() - 1), 2)
  end
  if C.size() == 1 then return obj end
  fused(tensors, function(flat) C.broadcast(flat, root) end)
  if opt then   -- step counts, exact as floats up to 2^24
    local steps = {}
    for i, st in ipairs(opt.state) do steps[i] = st.step end
    local t = C.broadcast(lg.tensor(steps), root):totable()
    for i, st in ipairs(opt.state) do st.step = math.tointeger(t[i]) end
  end
  return obj
end

-- }======================================================

-- {====================================================== data parallel

--- dist.DataParallel
-- What dist.wrap returns: a model whose gradients are averaged over the
-- ranks.  ddp(...) runs the model (ddp.module); ddp:sync_grads() after
-- backward and before the optimizer's step averages every parameter's
-- .grad, with one allreduce of one flat buffer or, with opts.bucket_mb, a
-- non-blocking allreduce per bucket started during backward.
-- @usage local ddp = lg.dist.wrap(nn.Linear(4, 2))
local DataParallel = {}
DataParallel.__index = DataParallel
DataParallel.__name = "DataParallel"
dist.DataParallel = DataParallel

--- dist.wrap(model [, opts]) -> DataParallel
-- Makes model data-parallel, as PyTorch's DistributedDataParallel: checks
-- that every rank has the same parameter names and shapes (dist.check_same:
-- an error names the ranks that differ), copies rank 0's parameters and
-- buffers to every rank, and returns a DataParallel whose :sync_grads()
-- averages the gradients.  opts.broadcast_buffers (default true, as DDP)
-- copies rank 0's buffers (batch norm's running statistics) to every rank
-- before each forward, so that the ranks' models stay identical; with
-- dist.SyncBatchNorm they are identical anyway.
-- opts.bucket_mb (default off) overlaps the averaging with backward, as
-- PyTorch's DDP reducer: the parameters, in reverse order of registration
-- (the order backward finishes them), go in buckets of about bucket_mb
-- megabytes of gradient (a bucket closes once it reaches the size: a tiny
-- value makes one bucket per parameter); as soon as backward has finished
-- every gradient of a bucket (Tensor:register_post_accumulate_grad_hook),
-- the bucket is packed and its MPI_Iallreduce started, in bucket order on
-- every rank; sync_grads() starts the buckets left (a parameter without a
-- gradient holds its bucket, and those after it, until then), waits for
-- all, divides and copies back.  The result is bitwise that of the
-- unbucketed path.  A backward that only adds to gradients sync_grads has
-- averaged (a generator's step through the discriminator, without
-- zero_grad) starts nothing; a second backward before sync_grads makes
-- it reduce the buckets concerned again.  Each hook also calls MPI_Test
-- on the buckets in flight, since Open MPI moves them on only inside MPI
-- calls (ddp.poke = false turns that off).  See docs/distributed.md for
-- when it pays.
-- @usage local ddp = lg.dist.wrap(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)))
-- local opt = optim.SGD(ddp:parameters(), {lr = 0.1})
-- local loss = ddp(lg.randn(4, 4)):pow(2):mean()
-- opt:zero_grad(); loss:backward(); ddp:sync_grads(); opt:step()
function dist.wrap(model, opts)
  opts = util.options("dist.wrap", opts, {broadcast_buffers = true, bucket_mb = false})
  local mb = opts.bucket_mb
  if mb and (type(mb) ~= "number" or not (mb > 0) or mb == math.huge) then
    error(("dist.wrap: bucket_mb must be a number of megabytes > 0 (or false), got %s"):format(
      tostring(mb)), 2)
  end
  if type(model) ~= "table" or type(model.named_parameters) ~= "function" then
    error("dist.wrap: a module is expected", 2)
  end
  local params, names, shapes = {}, {}, {}
  for name, p in model:named_parameters() do
    params[#params + 1], names[#names + 1] = p, name
    shapes[#shapes + 1] = name .. shape_str(p)
  end
  if #params == 0 then error("dist.wrap: the module has no parameters", 2) end
  dist.check_same(table.concat(shapes, " "), "parameter shapes")
  dist.broadcast_parameters(model)
  local buffers, sd = {}, model:state_dict()
  local is_param = {}
  for _, p in ipairs(params) do is_param[p] = true end
  for _, k in ipairs(util.sorted_keys(sd)) do
    if not is_param[sd[k]] then buffers[#buffers + 1] = sd[k] end
  end
  local numel = 0
  for _, p in ipairs(params) do numel = numel + p:numel() end
  local ddp = setmetatable({module = model, params = params, names = names, buffers = buffers,
                            numel = numel, broadcast_buffers = opts.broadcast_buffers,
                            sync_calls = 0, sync_bytes = 0, sync_seconds = 0, hook_seconds = 0},
                           DataParallel)
  if mb and C.size() > 1 then ddp:_bucket(mb) end
  return ddp
end

--- DataParallel:forward(...) -> ...
-- Runs the wrapped model (ddp(...) is the same), after copying rank 0's
-- buffers to every rank when broadcast_buffers is on.
-- @usage local ddp = lg.dist.wrap(nn.Linear(4, 2))
-- local y = ddp:forward(lg.randn(3, 4))
function DataParallel:forward(...)
  if self.broadcast_buffers and #self.buffers > 0 and C.size() > 1 then
    fused(self.buffers, function(flat) C.broadcast(flat, 0) end)
  end
  return self.module(...)
end
DataParallel.__call = DataParallel.forward

--- DataParallel:parameters() -> {Tensor, ...}
-- The wrapped model's parameters, for the optimizer.
-- @usage local ddp = lg.dist.wrap(nn.Linear(4, 2))
-- local opt = optim.Adam(ddp:parameters())
function DataParallel:parameters() return self.module:parameters() end

--- DataParallel:sync_grads() -> DataParallel
-- Averages every parameter's .grad over the ranks: packs them into one
-- flat buffer (a parameter without a gradient counts as zeros and gets
-- one), one MPI_Allreduce, divides by size() and copies back; with
-- opts.bucket_mb, finishes the buckets' allreduces instead (see dist.wrap).
-- Call it on every rank after backward and before the optimizer's step.
-- Nothing to do in a job of one process.
-- @usage local ddp = lg.dist.wrap(nn.Linear(4, 2))
-- ddp(lg.randn(3, 4)):sum():backward()
-- ddp:sync_grads()
function DataParallel:sync_grads()
  local size = C.size()
  if size == 1 then return self end
  local t0 = lg.clock()
  if self.buckets then
    self:_finish_buckets(size)
  else
    local flat = self.flat or lg.zeros(self.numel)
    self.flat = flat
    C.pack(flat, self.params)
    C.allreduce(flat, "sum")
    C.unpack(flat, self.params, size)   -- the sum / size, as allreduce's "mean"
  end
  self.sync_calls, self.sync_bytes = self.sync_calls + 1, self.sync_bytes + 4 * self.numel
  self.sync_seconds = self.sync_seconds + (lg.clock() - t0)
  return self
end

-- {------------------------------------------------------ buckets
-- State: self.buckets in launch order, each {params, flat, ready (count),
-- req (the started iallreduce), stale}; per parameter i (self.params
-- order), bucket_of[i], ready[i] (final in this round, a round ending at
-- sync_grads) and synced[i], the id of the .grad sync_grads wrote last.

local function launch(b)
  C.pack(b.flat, b.params)
  b.req = C.iallreduce(b.flat)
end

-- param i's gradient is final for this backward (its hook)
function DataParallel:_ready(i)
  local t0 = lg.clock()
  local b = self.bucket_of[i]
  if C.grad_id(self.params[i]) == self.synced[i] then   -- added onto the average: no new round
  elseif self.ready[i] then
    if b.req then b.stale = true end                    -- changed after its bucket was sent
  else
    self.ready[i] = true
    b.ready = b.ready + 1
    local bs = self.buckets
    while self.next <= #bs and bs[self.next].ready == #bs[self.next].params do
      launch(bs[self.next])
      self.next = self.next + 1
    end
    -- Open MPI moves a non-blocking collective on only inside MPI calls
    if self.poke then
      for k = 1, self.next - 1 do C.test(bs[k].req) end
    end
  end
  self.hook_seconds = self.hook_seconds + (lg.clock() - t0)
end

-- the buckets of ~mb megabytes, parameters in reverse order; their hooks
function DataParallel:_bucket(mb)
  local cap, params = mb * 2 ^ 20, self.params
  local buckets, cur = {}, nil
  self.bucket_of, self.ready, self.synced, self.hooks = {}, {}, {}, {}
  for i = #params, 1, -1 do
    if not cur then
      cur = {params = {}, numel = 0, ready = 0}
      buckets[#buckets + 1] = cur
    end
    cur.params[#cur.params + 1] = params[i]
    cur.numel = cur.numel + params[i]:numel()
    self.bucket_of[i], self.ready[i] = cur, false
    if 4 * cur.numel >= cap then cur = nil end
  end
  for _, b in ipairs(buckets) do b.flat = lg.zeros(b.numel) end
  self.buckets, self.next, self.poke = buckets, 1, true
  for i, p in ipairs(params) do
    self.hooks[i] = p:register_post_accumulate_grad_hook(function() self:_ready(i) end)
  end
end

-- sync_grads with buckets: starts what backward did not (in bucket order,
-- as every rank), then waits for each bucket and copies it back
function DataParallel:_finish_buckets(size)
  for _, b in ipairs(self.buckets) do
    if b.req and b.stale then C.wait(b.req); b.req = nil end
    if not b.req then launch(b) end
  end
  for _, b in ipairs(self.buckets) do
    C.wait(b.req)
    C.unpack(b.flat, b.params, size)
    b.req, b.ready, b.stale = nil, 0, false
  end
  for i, p in ipairs(self.params) do self.ready[i], self.synced[i] = false, C.grad_id(p) end
  self.next = 1
end

--- DataParallel:bucket_sizes() -> {integer, ...} | nil
-- The number of gradient values in each bucket, in launch order (the last
-- parameters first); nil without opts.bucket_mb or in a job of one process.
-- @usage local ddp = lg.dist.wrap(nn.Linear(4, 2), {bucket_mb = 1})
-- local sizes = ddp:bucket_sizes()
function DataParallel:bucket_sizes()
  if not self.buckets then return nil end
  local out = {}
  for i, b in ipairs(self.buckets) do out[i] = b.numel end
  return out
end

-- }------------------------------------------------------

--- DataParallel:optimizer(opt) -> optimizer
-- opt, made to average the gradients before each step (as Horovod's
-- DistributedOptimizer): the result's step() calls self:sync_grads() and
-- then opt:step(); every other field and method is opt's.  For training
-- loops that call step() themselves, such as gan.step.  Checkpoint and
-- load opt itself.  In a job of one process it returns opt.
-- @usage local ddp = lg.dist.wrap(nn.Linear(4, 2))
-- local opt = ddp:optimizer(optim.SGD(ddp:parameters(), {lr = 0.1}))
function DataParallel:optimizer(opt)
  if type(opt) ~= "table" or type(opt.step) ~= "function" then
    error("DataParallel:optimizer: an optimizer is expected", 2)
  end
  if C.size() == 1 then return opt end
  local ddp = self
  return setmetatable({step = function(_, ...)
    ddp:sync_grads()
    return opt:step(...)
  end}, {__index = opt})
end

-- }======================================================

-- {====================================================== synchronised batch norm

--- dist.SyncBatchNorm(num_features [, eps, momentum, affine, track_running_stats] [, opts]) -> Module
-- Batch normalisation over the global batch: in training its mean and
-- variance are those of every rank's batch together (one dist.sum of the
-- per-channel sums, sums of squares and counts), and backward sums the
-- statistics' gradients over the ranks, so that values and gradients are
-- those of nn.BatchNorm on the whole batch.  Plain nn.BatchNorm under
-- lg.dist normalises each rank's batch alone (as DDP does).  Arguments,
-- parameters, buffers and eval mode as nn.BatchNorm2d (also nn.SyncBatchNorm);
-- with one process, or in eval mode, it is nn.BatchNorm exactly.  Every
-- rank must run its forward and backward (collectives).
-- Shapes: x [N, C, ...] (2-D to 5-D) -> the same shape.
-- @usage local bn = lg.dist.SyncBatchNorm(64)
local SyncBatchNorm = nn.BatchNorm2d:extend("SyncBatchNorm")
dist.SyncBatchNorm = SyncBatchNorm

-- BatchNorm2d's constructor, its messages naming this class
function SyncBatchNorm:init(...)
  local ok, err = pcall(nn.BatchNorm2d.init, self, ...)
  if not ok then error((tostring(err):gsub("BatchNorm2d:", "SyncBatchNorm:")), 3) end
end

local function training_stats(self, x)
  local c = self.num_features
  local rows = x:transpose(1, 2):reshape(c, -1)             -- [C, M]
  local m = rows:size(2)
  local stats = lg.cat({rows:sum(2), (rows * rows):sum(2), lg.full({1}, m)}, 1)
  local total = C.sum(stats)                                 -- [2C + 1] over the ranks
  local n = total:narrow(1, 2 * c + 1, 1):item()
  if n <= 1 then
    error(("SyncBatchNorm: expected more than 1 value per channel when training, got %d " ..
           "over all ranks (input %s)"):format(math.tointeger(n) or n, shape_str(x)), 3)
  end
  local mean = total:narrow(1, 1, c) / n
  -- biased, for normalising; rounding can take E[x^2] - E[x]^2 below 0
  local var = (total:narrow(1, c + 1, c) / n - mean * mean):clamp(0, math.huge)
  return mean, var, n
end

function SyncBatchNorm:forward(x)
  if not lg.is_tensor(x) or x:dim() < 2 or x:dim() > 5 then
    error(("SyncBatchNorm: expected a 2-D to 5-D input, got %s"):format(
      lg.is_tensor(x) and shape_str(x) or type(x)), 2)
  end
  if x:size(2) ~= self.num_features then
    error(("SyncBatchNorm: expected %d channels (dim 2), got shape %s"):format(
      self.num_features, shape_str(x)), 2)
  end
  local use_batch = self.training or not self.running_mean
  if self.training and self.num_batches_tracked then
    lg.no_grad(function() self.num_batches_tracked:copy_(self.num_batches_tracked + 1) end)
  end
  if not use_batch or C.size() == 1 then
    return lg.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         use_batch, self.momentum, self.eps)
  end
  local mean, var, n = training_stats(self, x)
  if self.training and self.running_mean then
    lg.no_grad(function()
      local mom = self.momentum
      self.running_mean:copy_(self.running_mean * (1 - mom) + mean:detach() * mom)
      self.running_var:copy_(self.running_var * (1 - mom) + var:detach() * (mom * n / (n - 1)))
    end)
  end
  local shape = {1, self.num_features}
  for _ = 3, x:dim() do shape[#shape + 1] = 1 end
  local y = (x - mean:view(shape)) / (var + self.eps):sqrt():view(shape)
  if self.weight then y = y * self.weight:view(shape) + self.bias:view(shape) end
  return y
end

--- dist.sync_batchnorm(model) -> model
-- Makes every nn.BatchNorm1d, nn.BatchNorm2d and nn.BatchNorm3d of model a
-- dist.SyncBatchNorm, in place (as PyTorch's convert_sync_batchnorm): the
-- same parameters, buffers and state_dict keys, so optimizers and
-- checkpoints made before still apply.  In a job of one process it leaves
-- model as it is (there SyncBatchNorm is batch norm anyway).  Returns model.
-- @usage local G = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU())
-- lg.dist.sync_batchnorm(G)
function dist.sync_batchnorm(model)
  if type(model) ~= "table" or type(model.modules) ~= "function" then
    error("dist.sync_batchnorm: a module is expected", 2)
  end
  if C.size() == 1 then return model end
  for _, m in ipairs(model:modules()) do
    local cls = getmetatable(m)
    if cls == nn.BatchNorm1d or cls == nn.BatchNorm2d or cls == nn.BatchNorm3d then
      setmetatable(m, SyncBatchNorm)
    end
  end
  return model
end

-- }======================================================

return dist
