-- luagan.nn: modules in the style of Torch7's nn, with PyTorch's autograd.
--
-- A module is a table whose class is made with Module:extend(name).  Calling
-- the class constructs an instance (running init), calling the instance runs
-- forward.  Fields are remembered in the order they are first assigned, so
-- parameters() and state_dict() list them in a stable order: tensors with
-- requires_grad are parameters, tensors named by register_buffer are buffers,
-- modules are children.  state_dict keys follow PyTorch's naming
-- ("main.0.weight", children of a Sequential numbered from 0) so that
-- checkpoints interoperate with PyTorch models of the same architecture.
local lg = require "luagan"
local util = require "luagan.util"

local sorted_keys = util.sorted_keys

local nn = {}

-- {====================================================== Module

--- nn.Module
-- The base class of every module.  A module is a table: tensors with
-- requires_grad assigned to its fields are its parameters, tensors named by
-- register_buffer its buffers, modules its children, all listed in the order
-- of first assignment.  Calling an instance runs forward; tostring prints
-- the tree with parameter counts.  New modules are classes made with
-- nn.Module:extend, whose init and forward they define.
-- @usage local Net = nn.Module:extend("Net")
local Module = {}
Module.__name = "Module"
Module.__index = Module

-- Records the order of first assignment; values are stored raw.  A field set
-- to nil and assigned again keeps its first place.
local function ordered_newindex(self, k, v)
  local order = rawget(self, "_order")
  local known = false
  for _, o in ipairs(order) do if o == k then known = true break end end
  if not known then order[#order + 1] = k end
  rawset(self, k, v)
end

local function construct(cls, ...)
  local self = setmetatable({_order = {}, _buffers = {}, training = true}, cls)
  self:init(...)
  return self
end

--- nn.Module:extend(name) -> class
-- A new module class called name (its __name, shown by tostring and in
-- errors), inheriting every method of the class it extends.  Calling the
-- class makes an instance and runs init with the arguments; calling the
-- instance runs forward.  cls.super is the parent class.
-- @usage local Net = nn.Module:extend("Net"); function Net:init(n) self.fc = nn.Linear(n, 1) end; function Net:forward(x) return self.fc(x) end
function Module:extend(name)
  assert(type(name) == "string", "extend: a class name (string) is expected")
  local cls = {}
  for k, v in pairs(self) do    -- metamethods are not inherited through __index
    if type(k) == "string" and k:sub(1, 2) == "__" then cls[k] = v end
  end
  cls.__index = cls
  cls.__name = name
  cls.__newindex = ordered_newindex
  cls.super = self
  return setmetatable(cls, {__index = self, __call = construct})
end

--- nn.Module:init(...)
-- The constructor a class defines: it receives the arguments given to the
-- class and assigns parameters (tensors with requires_grad), buffers and
-- child modules to self.  The base does nothing.
-- @usage function Net:init(nin, nout) self.fc = nn.Linear(nin, nout) end
function Module:init() end

--- nn.Module:forward(...) -> ...
-- What calling the module computes: m(x) is m:forward(x).  Every class
-- defines it (the base raises "forward is not defined"); it may take and
-- return any values, usually tensors.
-- @usage function Net:forward(x) return self.fc(x):relu() end
function Module:forward()
  error(self.__name .. ": forward is not defined", 2)
end

Module.__call = function(self, ...) return self:forward(...) end

--- nn.Module:register_buffer(name, t)
-- Stores tensor t as self[name] and marks it a buffer: state that is saved
-- and loaded with the module (state_dict) but is not a parameter, such as
-- batch norm's running statistics.
-- @usage self:register_buffer("running_mean", lg.zeros(n))
function Module:register_buffer(name, t)
  self._buffers[name] = true
  self[name] = t
end

-- children in order: {name, module}.  Sequential's children sit at integer
-- keys 1, 2, ...; their names are "0", "1", ... as in PyTorch.
local function children(self)
  local out = {}
  for _, k in ipairs(self._order) do
    local v = rawget(self, k)
    if type(v) == "table" and getmetatable(v) and v._order then
      out[#out + 1] = {math.type(k) == "integer" and tostring(k - 1) or k, v}
    end
  end
  return out
end

-- (prefix, module) pairs of the whole tree, depth first, parents first; a
-- module reachable twice (shared weights) is listed once, as PyTorch does.
local function walk(self, prefix, out, seen)
  seen = seen or {}
  if seen[self] then return out end
  seen[self] = true
  out[#out + 1] = {prefix, self}
  for _, c in ipairs(children(self)) do
    walk(c[2], prefix == "" and c[1] or prefix .. "." .. c[1], out, seen)
  end
  return out
end

local function key(prefix, name)
  return prefix == "" and name or prefix .. "." .. name
end

-- ordered list of {name, tensor} for parameters (kind "param") or buffers;
-- a tensor held twice is listed once, so an optimizer updates it once
local function tensors_of(self, kind)
  local out, seen = {}, {}
  for _, pm in ipairs(walk(self, "", {})) do
    local prefix, m = pm[1], pm[2]
    for _, k in ipairs(m._order) do
      local v = rawget(m, k)
      if lg.is_tensor(v) and not seen[v] then
        seen[v] = true
        local is_buffer = m._buffers[k] or false
        if (kind == "param" and not is_buffer and v.requires_grad) or
           (kind == "buffer" and is_buffer) then
          out[#out + 1] = {key(prefix, k), v}
        end
      end
    end
  end
  return out
end

--- nn.Module:parameters() -> {Tensor, ...}
-- The parameters of the module and its children, depth first in order of
-- assignment; a tensor shared by two layers is listed once, so an optimizer
-- updates it once.  The live tensors, not copies.
-- @usage local opt = optim.Adam(G:parameters(), {lr = 2e-4})
function Module:parameters()
  local out = {}
  for i, nt in ipairs(tensors_of(self, "param")) do out[i] = nt[2] end
  return out
end

--- nn.Module:named_parameters() -> iterator
-- Iterates (name, tensor) over the parameters, named as in state_dict
-- ("0.weight", "main.3.bias").
-- @usage for name, p in G:named_parameters() do print(name, p.shape[1]) end
function Module:named_parameters()
  local list, i = tensors_of(self, "param"), 0
  return function()
    i = i + 1
    if list[i] then return list[i][1], list[i][2] end
  end
end

--- nn.Module:modules() -> {Module, ...}
-- The module itself and every descendant, parents before children; a
-- module reachable twice is listed once.
-- @usage for _, m in ipairs(G:modules()) do print(m.__name) end
function Module:modules()
  local out = {}
  for i, pm in ipairs(walk(self, "", {})) do out[i] = pm[2] end
  return out
end

--- nn.Module:apply(fn) -> Module
-- Calls fn(m) on every module of the tree, children before parents as
-- PyTorch's apply, and returns self.  The way to run an initialisation
-- scheme over a whole network.
-- @usage G:apply(nn.init.dcgan)
function Module:apply(fn)
  local all = walk(self, "", {})
  for i = #all, 1, -1 do fn(all[i][2]) end   -- children before parents, as PyTorch
  return self
end

--- nn.Module:train([mode]) -> Module
-- Sets the training flag of the whole tree (mode defaults to true):
-- batch norm uses batch statistics and updates its running ones, dropout
-- drops.  Returns self.
-- @usage G:train()
function Module:train(mode)
  if mode == nil then mode = true end
  for _, m in ipairs(self:modules()) do m.training = mode end
  return self
end

--- nn.Module:eval() -> Module
-- Evaluation mode, m:train(false): batch norm uses its running statistics,
-- dropout passes its input through.
-- @usage G:eval(); local x = G(z); G:train()
function Module:eval() return self:train(false) end

--- nn.Module:state_dict() -> table
-- Name -> tensor for every parameter and buffer, keys as PyTorch names them
-- ("main.0.weight", children of a Sequential numbered from 0), so a
-- checkpoint loads into the PyTorch model of the same architecture and back.
-- The values are the live tensors: save them, or copy from them.
-- @usage lg.save("G.safetensors", G:state_dict())
function Module:state_dict()
  local sd = {}
  for _, nt in ipairs(tensors_of(self, "param")) do sd[nt[1]] = nt[2] end
  for _, nt in ipairs(tensors_of(self, "buffer")) do sd[nt[1]] = nt[2] end
  return sd
end


--- nn.Module:load_state_dict(sd [, strict]) -> Module
-- Copies the tensors of sd into the module's parameters and buffers in
-- place.  strict (default true) makes a missing or unexpected key an error
-- listing them; a shape mismatch or a non-tensor value is always an error
-- naming the key.  Returns self.
-- @usage G:load_state_dict((lg.load("G.safetensors")))
function Module:load_state_dict(sd, strict)
  if strict == nil then strict = true end
  local own = self:state_dict()
  local missing, unexpected = {}, {}
  for _, k in ipairs(sorted_keys(own)) do
    if sd[k] == nil then missing[#missing + 1] = k end
  end
  for _, k in ipairs(sorted_keys(sd)) do
    if own[k] == nil then unexpected[#unexpected + 1] = k end
  end
  if strict and (#missing > 0 or #unexpected > 0) then
    error(("load_state_dict: missing keys {%s}, unexpected keys {%s}"):format(
      table.concat(missing, ", "), table.concat(unexpected, ", ")), 2)
  end
  for _, k in ipairs(sorted_keys(own)) do
    local src, dst = sd[k], own[k]
    if src ~= nil then
      if not lg.is_tensor(src) then
        error(("load_state_dict: '%s' is a %s, a tensor is expected"):format(k, type(src)), 2)
      end
      local a, b = table.concat(src.shape, ","), table.concat(dst.shape, ",")
      if a ~= b then
        error(("load_state_dict: '%s' has shape [%s] in the state dict but [%s] in the model")
              :format(k, a, b), 2)
      end
      lg.no_grad(function() dst:copy_(src) end)
    end
  end
  return self
end

--- nn.Module:zero_grad()
-- Clears the gradient (p.grad = nil) of every parameter of the tree.
-- @usage D:zero_grad()
function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

--- nn.Module:num_parameters() -> integer
-- The number of scalar parameters (sum of numel over parameters()).
-- @usage print(G:num_parameters())
function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

--- nn.Module:extra_repr() -> string
-- The text between the parentheses when tostring shows the module
-- ("784 -> 256" for a Linear); classes override it, the base returns "".
-- @usage function Net:extra_repr() return ("n=%d"):format(self.n) end
function Module:extra_repr() return "" end

local function group(n)   -- 1234567 -> "1,234,567"
  local s = tostring(n)
  repeat
    local k
    s, k = s:gsub("^(%d+)(%d%d%d)", "%1,%2")
  until k == 0
  return s
end

local function describe(self, indent)
  local kids = children(self)
  local head = self.__name .. "(" .. self:extra_repr() .. ")"
  if #kids == 0 then return head end
  local lines = {self.__name .. " (" .. group(self:num_parameters()) .. " parameters)"}
  for _, c in ipairs(kids) do
    local n = c[2]:num_parameters()
    local line = indent .. "  (" .. c[1] .. "): " .. describe(c[2], indent .. "  ")
    if #children(c[2]) == 0 and n > 0 then
      line = line .. string.rep(" ", math.max(1, 48 - #line)) .. group(n)
    end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n")
end

Module.__tostring = function(self) return describe(self, "") end

nn.Module = Module

-- }======================================================

-- {====================================================== init

local init = {}
nn.init = init

local function fill_(t, values)
  lg.no_grad(function() t:copy_(values) end)
  return t
end

-- fan_in, fan_out as PyTorch computes them: dim 2 and dim 1 times the kernel area
local function fans(t)
  local shape = t.shape
  if #shape < 2 then error("init: fan in/out needs a tensor with at least 2 dims", 3) end
  local area = 1
  for i = 3, #shape do area = area * shape[i] end
  return shape[2] * area, shape[1] * area
end

local gains = {linear = 1, sigmoid = 1, conv = 1, tanh = 5 / 3, relu = math.sqrt(2)}

--- nn.init.calculate_gain(nonlinearity [, param]) -> number
-- The gain PyTorch recommends for a nonlinearity: 1 for linear, conv and
-- sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
-- leaky_relu with negative slope param (0.01).  Unknown names are errors.
-- @usage local g = nn.init.calculate_gain("leaky_relu", 0.2)
function init.calculate_gain(nonlinearity, param)
  if nonlinearity == "leaky_relu" then
    local slope = param or 0.01
    return math.sqrt(2 / (1 + slope * slope))
  end
  return gains[nonlinearity] or error("calculate_gain: unknown nonlinearity '" .. tostring(nonlinearity) .. "'", 2)
end

--- nn.init.uniform_(t [, a] [, b]) -> Tensor
-- Fills t in place with draws from U(a, b) (default U(0, 1)) from lg's
-- generator, without recording a graph; returns t.
-- @usage nn.init.uniform_(fc.weight, -0.05, 0.05)
function init.uniform_(t, a, b)
  a, b = a or 0, b or 1
  return fill_(t, lg.rand(t.shape) * (b - a) + a)
end

--- nn.init.normal_(t [, mean] [, std]) -> Tensor
-- Fills t in place with draws from N(mean, std^2) (default N(0, 1)); returns t.
-- @usage nn.init.normal_(conv.weight, 0, 0.02)
function init.normal_(t, mean, std)
  mean, std = mean or 0, std or 1
  return fill_(t, lg.randn(t.shape) * std + mean)
end

--- nn.init.constant_(t, v) -> Tensor
-- Fills t with the number v in place; returns t.
-- @usage nn.init.constant_(fc.bias, 0.1)
function init.constant_(t, v) lg.no_grad(function() t:fill_(v) end) return t end
--- nn.init.zeros_(t) -> Tensor
-- Fills t with 0 in place; returns t.
-- @usage nn.init.zeros_(fc.bias)
function init.zeros_(t) return init.constant_(t, 0) end
--- nn.init.ones_(t) -> Tensor
-- Fills t with 1 in place; returns t.
-- @usage nn.init.ones_(bn.weight)
function init.ones_(t) return init.constant_(t, 1) end

--- nn.init.xavier_uniform_(t [, gain]) -> Tensor
-- Glorot and Bengio 2010: U(-b, b) with b = gain * sqrt(6 / (fan_in +
-- fan_out)), the fans computed as PyTorch (dim 2 and dim 1 times the kernel
-- area); t needs at least 2 dims.  Returns t.
-- @usage nn.init.xavier_uniform_(fc.weight)
function init.xavier_uniform_(t, gain)
  local fan_in, fan_out = fans(t)
  local bound = (gain or 1) * math.sqrt(6 / (fan_in + fan_out))
  return init.uniform_(t, -bound, bound)
end

--- nn.init.xavier_normal_(t [, gain]) -> Tensor
-- Glorot and Bengio 2010: N(0, s^2) with s = gain * sqrt(2 / (fan_in +
-- fan_out)); returns t.
-- @usage nn.init.xavier_normal_(fc.weight, nn.init.calculate_gain("tanh"))
function init.xavier_normal_(t, gain)
  local fan_in, fan_out = fans(t)
  return init.normal_(t, 0, (gain or 1) * math.sqrt(2 / (fan_in + fan_out)))
end

-- opts: {a = 0, mode = "fan_in" | "fan_out", nonlinearity = "leaky_relu"}
local function kaiming_std(t, opts)
  opts = opts or {}
  local fan_in, fan_out = fans(t)
  local fan = (opts.mode or "fan_in") == "fan_in" and fan_in or fan_out
  return init.calculate_gain(opts.nonlinearity or "leaky_relu", opts.a or 0) / math.sqrt(fan)
end

--- nn.init.kaiming_uniform_(t [, opts]) -> Tensor
-- He et al. 2015: U(-b, b) with b = sqrt(3) * gain / sqrt(fan); opts a (the
-- leaky slope, 0), mode ("fan_in" or "fan_out"), nonlinearity
-- ("leaky_relu").  {a = math.sqrt(5)} is PyTorch's default for layers.
-- Returns t.
-- @usage nn.init.kaiming_uniform_(fc.weight, {nonlinearity = "relu"})
function init.kaiming_uniform_(t, opts)
  local bound = math.sqrt(3) * kaiming_std(t, opts)
  return init.uniform_(t, -bound, bound)
end

--- nn.init.kaiming_normal_(t [, opts]) -> Tensor
-- He et al. 2015: N(0, s^2) with s = gain / sqrt(fan); opts as
-- nn.init.kaiming_uniform_.  Returns t.
-- @usage nn.init.kaiming_normal_(conv.weight, {mode = "fan_out", nonlinearity = "relu"})
function init.kaiming_normal_(t, opts)
  return init.normal_(t, 0, kaiming_std(t, opts))
end

-- PyTorch's default for Linear and convolutions: kaiming_uniform(a = sqrt 5)
-- on the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same
-- bound for the bias.
local function default_init(weight, bias)
  local fan_in = fans(weight)
  init.kaiming_uniform_(weight, {a = math.sqrt(5)})
  if bias then
    local bound = fan_in > 0 and 1 / math.sqrt(fan_in) or 0
    init.uniform_(bias, -bound, bound)
  end
end

--- nn.init.dcgan(m)
-- The DCGAN scheme (Radford et al. 2016, section 4: "All weights were
-- initialized from a zero-centered Normal distribution with standard
-- deviation 0.02"); batch-norm scales N(1, 0.02) and biases 0 as in the
-- reference PyTorch implementation.  Acts on Linear, convolutions and
-- BatchNorm1d/2d/3d; other modules are left alone.
-- @usage G:apply(nn.init.dcgan)
function init.dcgan(m)
  local name = m.__name
  if name == "Conv1d" or name == "Conv2d" or name == "ConvTranspose2d" or name == "Conv3d"
     or name == "ConvTranspose3d" or name == "Linear" then
    init.normal_(m.weight, 0, 0.02)
    if m.bias then init.zeros_(m.bias) end
  elseif name == "BatchNorm1d" or name == "BatchNorm2d" or name == "BatchNorm3d"
         or name == "SyncBatchNorm" then
    if m.weight then init.normal_(m.weight, 1, 0.02) end
    if m.bias then init.zeros_(m.bias) end
  end
end

-- }======================================================

-- {====================================================== layers

local function param(...)
  local t = lg.zeros(...)
  t.requires_grad = true
  return t
end

local function pair(v) return type(v) == "table" and v or {v, v} end
local function triple(v) return type(v) == "table" and v or {v, v, v} end

-- {------------------------------------------------------ constructor arguments

-- Raises msg at the first caller outside this file: the message points at
-- the line of the user's script that built the module.
local here = debug.getinfo(1, "S").source
local function raise(msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if info == nil or info.source ~= here then break end
    level = level + 1
  end
  error(msg, level)
end

local function check_int(op, name, v, min)
  if math.type(v) ~= "integer" or v < min then
    raise(("%s: %s must be an integer >= %d, got %s"):format(op, name, min, tostring(v)))
  end
end

-- a value as an error message shows it: 3, {2, 2}, string.  Raw reads: a
-- table whose __index never answers nil must not loop for ever here.
local function shown(v)
  if type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  if type(v) == "table" and rawget(v, 1) ~= nil then
    local parts = {}
    for i = 1, rawlen(v) do parts[i] = tostring(rawget(v, i)) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return type(v)
end

local function int_from(min)
  return function(v) return math.type(v) == "integer" and v >= min end
end

-- an integer >= min or a list of n of them
local function int_or_list(min, n)
  local ok = int_from(min)
  return function(v)
    if type(v) ~= "table" then return ok(v) end
    if #v ~= n or next(v, n) ~= nil then return false end
    for i = 1, n do if not ok(v[i]) then return false end end
    return true
  end
end
local function int_or_pair(min) return int_or_list(min, 2) end

-- kind -> {test, what it must be}
local kinds = {
  kernel2 = {int_or_pair(1), "a positive integer or {kh, kw}"},
  size2 = {int_or_pair(1), "a positive integer or {h, w}"},
  pad2 = {int_or_pair(0), "a non-negative integer or {h, w}"},
  kernel3 = {int_or_list(1, 3), "a positive integer or {kt, kh, kw}"},
  size3 = {int_or_list(1, 3), "a positive integer or {t, h, w}"},
  pad3 = {int_or_list(0, 3), "a non-negative integer or {t, h, w}"},
  kernel1 = {int_from(1), "a positive integer"},
  size1 = {int_from(1), "a positive integer"},
  pad1 = {int_from(0), "a non-negative integer"},
  bool = {function(v) return type(v) == "boolean" end, "a boolean"},
  eps = {function(v) return type(v) == "number" and v > 0 end, "a positive number"},
  momentum = {function(v) return type(v) == "number" and v >= 0 and v <= 1 end,
              "a number in [0, 1]"},
  number = {function(v) return type(v) == "number" end, "a number"},
  groups = {int_from(1), "a positive integer"},
}

local function check_kind(op, name, kind, v)
  local k = kinds[kind]
  if not k[1](v) then raise(("%s: %s must be %s, got %s"):format(op, name, k[2], shown(v))) end
end

-- An options table, as opposed to a {h, w} pair or a module.
local function is_options(v)
  return type(v) == "table" and v[1] == nil and getmetatable(v) == nil
end

-- The constructor arguments after the required ones (named by required, for
-- messages), in PyTorch's positional order (spec: list of {name, kind}), as
-- an options table, or both, the table last as PyTorch's keywords come last:
-- nn.Conv2d(1, 64, 4, 2, 1, {bias = false}).  Returns the options merged over
-- defaults, each value checked; errors name the argument, an unknown key
-- lists the valid ones.
local function arguments(op, required, spec, defaults, ...)
  local n, args = select("#", ...), {...}
  local opts = {}
  while n > 0 and args[n] == nil do n = n - 1 end
  if n > 0 and is_options(args[n]) then
    opts, n = args[n], n - 1
  end
  local names, kind = {}, {}
  for i, s in ipairs(spec) do names[i], kind[s[1]] = s[1], s[2] end
  if n > #spec then
    raise(("%s: too many arguments: %d, at most %d (%s), then an options table"):format(op,
      #required + n, #required + #spec, table.concat(required, ", ") ..
      (#required > 0 and ", " or "") .. table.concat(names, ", ")))
  end
  local out = {}
  for k, v in pairs(opts) do
    if kind[k] == nil then
      raise(("%s: unknown option '%s' (valid: %s)"):format(op, tostring(k),
        table.concat(sorted_keys(kind), ", ")))
    end
    out[k] = v
  end
  for i = 1, n do
    if args[i] ~= nil then
      if out[names[i]] ~= nil then
        raise(("%s: %s is given both as argument %d and as an option"):format(op, names[i],
          #required + i))
      end
      out[names[i]] = args[i]
    end
  end
  for _, name in ipairs(names) do
    if out[name] == nil then out[name] = defaults[name]
    else check_kind(op, name, kind[name], out[name]) end
  end
  return out
end

-- }------------------------------------------------------

-- {------------------------------------------------------ linear and convolutions

--- nn.Linear(in_features, out_features [, bias] [, opts]) -> Module
-- y = x W^T + b with weight W [out_features, in_features] and bias b
-- [out_features], initialised as PyTorch's (U(-1/sqrt(in), 1/sqrt(in))).
-- bias = false (positional, or {bias = false}) leaves the bias out.
-- Shapes: x [N, in_features] -> [N, out_features].
-- @usage local fc = nn.Linear(784, 256)
local Linear = Module:extend("Linear")
-- Linear(in, out), Linear(in, out, false) as PyTorch's bias=False, or {bias = false}
function Linear:init(inf, outf, ...)
  check_int("Linear", "in_features", inf, 1)
  check_int("Linear", "out_features", outf, 1)
  local opts = arguments("Linear", {"in_features", "out_features"}, {{"bias", "bool"}},
                         {bias = true}, ...)
  self.in_features, self.out_features = inf, outf
  self.weight = param(outf, inf)
  if opts.bias then self.bias = param(outf) end
  default_init(self.weight, self.bias)
end
function Linear:forward(x) return lg.linear(x, self.weight, self.bias) end
function Linear:extra_repr()
  return ("%d -> %d%s"):format(self.in_features, self.out_features, self.bias and "" or ", no bias")
end
nn.Linear = Linear

-- PyTorch's positional orders after (in_channels, out_channels, kernel_size)
local conv_spec = {
  [1] = {{"stride", "size1"}, {"padding", "pad1"}, {"dilation", "size1"}, {"groups", "groups"},
         {"bias", "bool"}},
  [2] = {{"stride", "size2"}, {"padding", "pad2"}, {"dilation", "size2"}, {"groups", "groups"},
         {"bias", "bool"}},
  [3] = {{"stride", "size3"}, {"padding", "pad3"}, {"dilation", "size3"}, {"groups", "groups"},
         {"bias", "bool"}},
  transposed = {{"stride", "size2"}, {"padding", "pad2"}, {"output_padding", "pad2"},
                {"groups", "groups"}, {"bias", "bool"}, {"dilation", "size2"}},
  transposed3 = {{"stride", "size3"}, {"padding", "pad3"}, {"output_padding", "pad3"},
                 {"groups", "groups"}, {"bias", "bool"}, {"dilation", "size3"}},
}
local conv_defaults = {stride = 1, padding = 0, dilation = 1, output_padding = 0, groups = 1,
                       bias = true}

-- dims: 1, 2 or 3 (spatial dims); sizes are kept as lists of that length,
-- as PyTorch keeps tuples.  The weight has PyTorch's layout: [cout,cin,k]
-- for Conv1d, [cout,cin,kh,kw] for Conv2d, [cin,cout,kh,kw] for
-- ConvTranspose2d, with a kt before kh in 3-D.
local function conv_init(self, cls, dims, transposed, cin, cout, k, ...)
  check_int(cls, "in_channels", cin, 1)
  check_int(cls, "out_channels", cout, 1)
  check_kind(cls, "kernel_size", "kernel" .. dims, k)
  local spec = transposed and conv_spec[dims == 3 and "transposed3" or "transposed"]
               or conv_spec[dims]
  local opts = arguments(cls, {"in_channels", "out_channels", "kernel_size"}, spec,
                         conv_defaults, ...)
  local function sizes(v) return dims == 1 and {v} or dims == 2 and pair(v) or triple(v) end
  self.in_channels, self.out_channels, self.kernel_size = cin, cout, sizes(k)
  self.stride, self.padding = sizes(opts.stride), sizes(opts.padding)
  self.dilation = sizes(opts.dilation)
  if transposed then self.output_padding = sizes(opts.output_padding) end
  local g = opts.groups
  if cin % g ~= 0 or cout % g ~= 0 then
    raise(("%s: in_channels (%d) and out_channels (%d) must both be divisible by groups (%d)")
          :format(cls, cin, cout, g))
  end
  self.groups = g
  local shape = transposed and {cin, cout // g} or {cout, cin // g}
  table.move(self.kernel_size, 1, dims, 3, shape)
  self.weight = param(shape)
  if opts.bias then self.bias = param(cout) end
  default_init(self.weight, self.bias)
end

local function conv_repr(self)
  local function s(v) return table.concat(v, "x") end
  local out = ("%d -> %d, k%s, s%s, p%s"):format(self.in_channels, self.out_channels,
    s(self.kernel_size), s(self.stride), s(self.padding))
  if self.output_padding then out = out .. ", op" .. s(self.output_padding) end
  if self.groups > 1 then out = out .. ", groups " .. self.groups end
  for _, d in ipairs(self.dilation or {}) do
    if d ~= 1 then out = out .. ", d" .. s(self.dilation) break end
  end
  return self.bias and out or out .. ", no bias"
end

-- A kernel with dilation d as the dense kernel of size d*(k-1)+1 with zeros
-- between the taps, built from differentiable ops (cat, reshape, narrow), so
-- that dilated convolutions need no kernel of their own.  The cost is that
-- of the dense kernel: about d*d times the work of the taps for a 2-D dilation d.
local function dilate_dim(w, dim, d)
  local k = w.shape[dim]
  if d == 1 or k == 1 then return w end
  local zshape = {table.unpack(w.shape)}
  table.insert(zshape, dim + 1, d - 1)
  local spread = lg.cat({w:unsqueeze(dim + 1), lg.zeros(zshape)}, dim + 1)
  local shape = {table.unpack(w.shape)}
  shape[dim] = k * d
  return spread:reshape(shape):narrow(dim, 1, d * (k - 1) + 1)
end

-- w [a,b,kh,kw] (or [a,b,kt,kh,kw]) dilated by {dh, dw} (or {dt, dh, dw})
-- on its kernel dims
local function dilated(w, dilation)
  for i, d in ipairs(dilation) do w = dilate_dim(w, 2 + i, d) end
  return w
end

-- PyTorch's groups: the channels split into `groups` equal parts and part g
-- of the output computed from part g of the input alone, with weight [cout,
-- cin/groups, ...] ([cin, cout/groups, ...] transposed).  Runs as one
-- convolution per group on channel slices (x's dim 2, the weight's dim 1,
-- the bias), joined by cat: the grouped layer's multiply-adds plus a call per
-- group, so a depthwise layer (groups = cin) makes cin calls.
-- w is the layer's weight as the convolution takes it (dilated);
-- conv(x, w, b, g) runs group g (0-based) of the layer.
local function per_group(self, cls, x, w, conv)
  local G, b = self.groups, self.bias
  if G == 1 then return conv(x, w, b, 0) end
  if not lg.is_tensor(x) or x:dim() < 2 or x.shape[2] ~= self.in_channels then
    error(("%s: expected an input with %d channels (dim 2), got %s"):format(cls, self.in_channels,
      lg.is_tensor(x) and "shape [" .. table.concat(x.shape, ",") .. "]" or type(x)), 3)
  end
  local xs, ws, bs = self.in_channels // G, w.shape[1] // G, self.out_channels // G
  local outs = {}
  for g = 0, G - 1 do
    outs[g + 1] = conv(x:narrow(2, g * xs + 1, xs), w:narrow(1, g * ws + 1, ws),
                       b and b:narrow(1, g * bs + 1, bs), g)
  end
  return lg.cat(outs, 2)
end

--- nn.Conv2d(in_channels, out_channels, kernel_size [, stride, padding, dilation, groups, bias] [, opts]) -> Module
-- 2-D convolution (cross-correlation, as PyTorch) with weight [cout, cin,
-- kh, kw] and bias [cout].  kernel_size, stride (1), padding (0) and
-- dilation (1) are integers or {h, w} pairs; groups (1) divides both channel
-- counts (see per_group); bias (true).
-- The arguments after kernel_size come in PyTorch's order or as an options
-- table, the table last.  A dilation d runs as a dense kernel with zeros
-- between the taps (about d*d times the work).
-- Shapes: x [N, cin, H, W] -> [N, cout, H', W'] with
-- H' = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1.
-- conv(x, {act = "relu"}) (or "leaky_relu" with negative_slope; add = r
-- adds a residual r first) applies the activation as the output is written,
-- as lg.conv2d's act option: the values of conv(x):relu() in one pass.
-- nn.Sequential does this by itself for a Conv2d followed by nn.ReLU or
-- nn.LeakyReLU.
-- @usage local conv = nn.Conv2d(1, 64, 4, 2, 1)   -- or nn.Conv2d(1, 64, 4, {stride = 2, padding = 1})
local Conv2d = Module:extend("Conv2d")
-- Conv2d(in, out, k, stride, padding, dilation, groups = 1, bias) or an options table
function Conv2d:init(...) conv_init(self, "Conv2d", 2, false, ...) end
function Conv2d:forward(x, act)
  local opts = {stride = self.stride, padding = self.padding}
  if act ~= nil then
    if type(act) ~= "table" then
      raise("Conv2d: the second argument must be a table {act = ..., negative_slope = ..., add = ...}, got "
            .. type(act))
    end
    opts.act, opts.negative_slope = act.act, act.negative_slope
  end
  local add, per = act and act.add, self.out_channels // self.groups
  return per_group(self, "Conv2d", x, dilated(self.weight, self.dilation), function(xg, w, b, g)
    if add then opts.add = self.groups == 1 and add or add:narrow(2, g * per + 1, per) end
    return lg.conv2d(xg, w, b, opts)
  end)
end
Conv2d.extra_repr = conv_repr
nn.Conv2d = Conv2d

--- nn.ConvTranspose2d(in_channels, out_channels, kernel_size [, stride, padding, output_padding, groups, bias, dilation] [, opts]) -> Module
-- Transposed 2-D convolution (the gradient of Conv2d with respect to its
-- input), the upsampling layer of DCGAN's generator; weight [cin, cout, kh,
-- kw] as PyTorch's, bias [cout].  Arguments in PyTorch's order (note
-- dilation last) or an options table.
-- Shapes: x [N, cin, H, W] -> [N, cout, H', W'] with
-- H' = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1.
-- @usage local up = nn.ConvTranspose2d(128, 64, 4, 2, 1)   -- 7x7 -> 14x14
local ConvTranspose2d = Module:extend("ConvTranspose2d")
-- ConvTranspose2d(in, out, k, stride, padding, output_padding, groups = 1, bias, dilation)
function ConvTranspose2d:init(...) conv_init(self, "ConvTranspose2d", 2, true, ...) end
function ConvTranspose2d:forward(x)
  local opts = {stride = self.stride, padding = self.padding, output_padding = self.output_padding}
  return per_group(self, "ConvTranspose2d", x, dilated(self.weight, self.dilation),
                   function(xg, w, b) return lg.conv_transpose2d(xg, w, b, opts) end)
end
ConvTranspose2d.extra_repr = conv_repr
nn.ConvTranspose2d = ConvTranspose2d

--- nn.Conv3d(in_channels, out_channels, kernel_size [, stride, padding, dilation, groups, bias] [, opts]) -> Module
-- 3-D convolution over clips or volumes with weight [cout, cin, kt, kh,
-- kw] and bias [cout], initialised as PyTorch's; the critic's layer in the
-- video GAN of Vondrick et al. 2016 (section 2.3).  kernel_size, stride (1),
-- padding (0) and dilation (1) are integers or {t, h, w} triples; groups
-- (1) divides both channel counts; bias (true).  Arguments in PyTorch's
-- order or an options table, the table last.
-- Shapes: x [N, cin, T, H, W] -> [N, cout, T', H', W'] with
-- T' = floor((T + 2 padding - dilation (kt - 1) - 1) / stride) + 1, and so on.
-- @usage local conv = nn.Conv3d(3, 64, 4, 2, 1)   -- 32x64x64 -> 16x32x32
local Conv3d = Module:extend("Conv3d")
-- Conv3d(in, out, k, stride, padding, dilation, groups = 1, bias) or an options table
function Conv3d:init(...) conv_init(self, "Conv3d", 3, false, ...) end
function Conv3d:forward(x)
  local opts = {stride = self.stride, padding = self.padding}
  return per_group(self, "Conv3d", x, dilated(self.weight, self.dilation),
                   function(xg, w, b) return lg.conv3d(xg, w, b, opts) end)
end
Conv3d.extra_repr = conv_repr
nn.Conv3d = Conv3d

--- nn.ConvTranspose3d(in_channels, out_channels, kernel_size [, stride, padding, output_padding, groups, bias, dilation] [, opts]) -> Module
-- Transposed 3-D convolution (the gradient of Conv3d with respect to its
-- input), the upsampling layer of the video generator of Vondrick et al.
-- 2016 (section 2.2); weight [cin, cout, kt, kh, kw] as PyTorch's, bias
-- [cout].  Sizes are integers or {t, h, w} triples; arguments in PyTorch's
-- order (note dilation last) or an options table.
-- Shapes: x [N, cin, T, H, W] -> [N, cout, T', H', W'] with
-- T' = (T - 1) stride - 2 padding + dilation (kt - 1) + output_padding + 1, and so on.
-- @usage local up = nn.ConvTranspose3d(512, 256, 4, 2, 1)   -- 2x4x4 -> 4x8x8
local ConvTranspose3d = Module:extend("ConvTranspose3d")
-- ConvTranspose3d(in, out, k, stride, padding, output_padding, groups = 1, bias, dilation)
function ConvTranspose3d:init(...) conv_init(self, "ConvTranspose3d", 3, true, ...) end
function ConvTranspose3d:forward(x)
  local opts = {stride = self.stride, padding = self.padding, output_padding = self.output_padding}
  return per_group(self, "ConvTranspose3d", x, dilated(self.weight, self.dilation),
                   function(xg, w, b) return lg.conv_transpose3d(xg, w, b, opts) end)
end
ConvTranspose3d.extra_repr = conv_repr
nn.ConvTranspose3d = ConvTranspose3d

-- Conv1d on [N,C,L] is Conv2d on [N,C,1,L] with the weight viewed as
-- [cout,cin,1,k]; the weight itself stays [cout,cin,k] as PyTorch's.
--- nn.Conv1d(in_channels, out_channels, kernel_size [, stride, padding, dilation, groups, bias] [, opts]) -> Module
-- 1-D convolution with weight [cout, cin, k] and bias [cout]; runs as a
-- Conv2d over [N, C, 1, L].  Sizes are integers; arguments as nn.Conv2d.
-- Shapes: x [N, cin, L] -> [N, cout, L'] with
-- L' = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1.
-- @usage local conv = nn.Conv1d(16, 32, 3, {padding = 1})
local Conv1d = Module:extend("Conv1d")
-- Conv1d(in, out, k, stride, padding, dilation, groups = 1, bias) or an options table
function Conv1d:init(...) conv_init(self, "Conv1d", 1, false, ...) end
function Conv1d:forward(x)
  if not lg.is_tensor(x) or x:dim() ~= 3 then
    error(("Conv1d: expected a 3-D input [N,C,L], got %s"):format(lg.is_tensor(x) and
      "shape [" .. table.concat(x.shape, ",") .. "]" or type(x)), 2)
  end
  -- the weight [cout, cin/groups, k] viewed as [cout, cin/groups, 1, k]
  local w = dilated(self.weight:unsqueeze(3), {1, self.dilation[1]})
  local opts = {stride = {1, self.stride[1]}, padding = {0, self.padding[1]}}
  local y = per_group(self, "Conv1d", x:unsqueeze(3), w,
                      function(xg, wg, b) return lg.conv2d(xg, wg, b, opts) end)
  return y:squeeze(3)
end
Conv1d.extra_repr = conv_repr
nn.Conv1d = Conv1d

-- }------------------------------------------------------

-- {------------------------------------------------------ embedding

-- Embedding(num, dim): Torch7's LookupTable with PyTorch's layout, weight
-- [num, dim] drawn from N(0, 1).  The input holds 1-based indices (a float
-- tensor of any shape, or a Lua list); the output has the input's shape
-- followed by dim.  padding_idx (1-based, negative counts from the end) names
-- a row that starts at zero and receives no gradient, as PyTorch's.
--- nn.Embedding(num_embeddings, embedding_dim [, padding_idx] [, opts]) -> Module
-- A lookup table (Torch7's LookupTable, PyTorch's layout): weight
-- [num_embeddings, embedding_dim] drawn from N(0, 1), and row i is the
-- embedding of index i.  Indices are 1-based, given as a float tensor of any
-- shape or a Lua list; an index outside 1..num_embeddings or not an integer
-- is an error.  padding_idx (1-based, negative from the end) names a row
-- that starts at zero and receives no gradient.
-- Shapes: indices [...] -> [..., embedding_dim].
-- @usage local emb = nn.Embedding(10, 16); local e = emb(lg.tensor{1, 3, 10})   -- [3, 16]
local Embedding = Module:extend("Embedding")
function Embedding:init(num, dim, ...)
  check_int("Embedding", "num_embeddings", num, 1)
  check_int("Embedding", "embedding_dim", dim, 1)
  local opts = arguments("Embedding", {"num_embeddings", "embedding_dim"},
    {{"padding_idx", "number"}}, {padding_idx = false}, ...)
  local p = opts.padding_idx
  if p then
    if math.type(p) ~= "integer" or p == 0 or p < -num or p > num then
      raise(("Embedding: padding_idx must be an integer in 1..%d (or -%d..-1 from the end), got %s")
            :format(num, num, tostring(p)))
    end
    if p < 0 then p = num + 1 + p end
    self.padding_idx = p
  end
  self.num_embeddings, self.embedding_dim = num, dim
  self.weight = param(num, dim)
  init.normal_(self.weight)
  if p then lg.no_grad(function() self.weight:narrow(1, p, 1):zero_() end) end
end

-- the first value of flat (a 1-D tensor) that is not an integer in 1..n;
-- used only to word an error
local function bad_index(flat)
  for _, v in ipairs(flat:totable()) do
    if v ~= math.floor(v) then return v end
  end
end

function Embedding:forward(input)
  if type(input) == "table" and getmetatable(input) == nil then input = lg.tensor(input) end
  if not lg.is_tensor(input) then
    error("Embedding: input must be a tensor of 1-based indices, got " .. type(input), 2)
  end
  local num, dim = self.num_embeddings, self.embedding_dim
  local shape = {table.unpack(input.shape)}
  shape[#shape + 1] = dim
  if input:numel() == 0 then return lg.zeros(shape) end
  local flat = input:detach():reshape(-1)
  local hi, lo = flat:max():item(), -(-flat):max():item()
  if lo < 1 or hi > num then
    error(("Embedding: index %g is out of range 1..%d (num_embeddings)"):format(
      lo < 1 and lo or hi, num), 2)
  end
  local ok, rows = pcall(self.weight.index_select, self.weight, 1, flat)
  if not ok then
    local v = bad_index(flat)
    if v == nil then error(rows, 2) end
    error(("Embedding: index %s is not an integer"):format(tostring(v)), 2)
  end
  local p = self.padding_idx
  if p then   -- the padding row's value, but no gradient to it
    local keep = (flat - p):abs():clamp(0, 1):view(-1, 1)
    rows = rows * keep + self.weight:detach():index_select(1, flat) * (1 - keep)
  end
  return rows:reshape(shape)
end

function Embedding:extra_repr()
  local s = ("%d, %d"):format(self.num_embeddings, self.embedding_dim)
  return self.padding_idx and s .. ", padding_idx=" .. self.padding_idx or s
end
nn.Embedding = Embedding

-- }------------------------------------------------------

-- {------------------------------------------------------ normalization

local bn_spec = {{"eps", "eps"}, {"momentum", "momentum"}, {"affine", "bool"},
                 {"track_running_stats", "bool"}}

local function shape_str(x) return "[" .. table.concat(x.shape, ",") .. "]" end

-- BatchNorm(n, eps, momentum, affine, track_running_stats) or an options table
local function bn_init(self, cls, n, ...)
  check_int(cls, "num_features", n, 1)
  local opts = arguments(cls, {"num_features"}, bn_spec, {eps = 1e-5, momentum = 0.1,
                         affine = true, track_running_stats = true}, ...)
  self.num_features, self.eps, self.momentum = n, opts.eps, opts.momentum
  if opts.affine then
    self.weight = param(n)
    self.bias = param(n)
    init.ones_(self.weight)
  end
  if opts.track_running_stats then
    self:register_buffer("running_mean", lg.zeros(n))
    self:register_buffer("running_var", lg.ones(n))
    self:register_buffer("num_batches_tracked", lg.zeros{})   -- PyTorch keeps it; so do we, for interop
  end
end

local function bn_forward(self, x, want)
  if x:dim() ~= want and not (want == 2 and x:dim() == 3) then   -- BatchNorm1d: [N,C] or [N,C,L]
    error(("%s: expected a %s input, got shape %s"):format(self.__name,
      want == 2 and "2-D or 3-D" or want .. "-D", shape_str(x)), 2)
  end
  local use_batch = self.training or not self.running_mean
  if self.training and self.num_batches_tracked then
    lg.no_grad(function() self.num_batches_tracked:copy_(self.num_batches_tracked + 1) end)
  end
  return lg.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                       use_batch, self.momentum, self.eps)
end

local function bn_repr(self)
  return ("%d, eps=%g, momentum=%g"):format(self.num_features, self.eps, self.momentum)
end

--- nn.BatchNorm1d(num_features [, eps, momentum, affine, track_running_stats] [, opts]) -> Module
-- Batch normalisation (Ioffe and Szegedy 2015) over the batch (and length)
-- of each feature: y = (x - mean) / sqrt(var + eps) * weight + bias.
-- Training uses the batch's statistics and updates running_mean and
-- running_var with momentum (0.1, PyTorch's convention); eval uses the
-- running ones.  eps 1e-5, affine (weight and bias [C]) and
-- track_running_stats default to true.
-- Shapes: x [N, C] or [N, C, L] -> the same shape.
-- @usage local bn = nn.BatchNorm1d(256)
local BatchNorm1d = Module:extend("BatchNorm1d")
function BatchNorm1d:init(n, ...) bn_init(self, "BatchNorm1d", n, ...) end
function BatchNorm1d:forward(x) return bn_forward(self, x, 2) end
BatchNorm1d.extra_repr = bn_repr
nn.BatchNorm1d = BatchNorm1d

--- nn.BatchNorm2d(num_features [, eps, momentum, affine, track_running_stats] [, opts]) -> Module
-- Batch normalisation of each channel over the batch and all positions;
-- otherwise as nn.BatchNorm1d.  DCGAN puts it after every layer but G's
-- output and D's input.
-- Shapes: x [N, C, H, W] -> the same shape.
-- @usage local bn = nn.BatchNorm2d(64, {momentum = 0.1})
local BatchNorm2d = Module:extend("BatchNorm2d")
function BatchNorm2d:init(n, ...) bn_init(self, "BatchNorm2d", n, ...) end
function BatchNorm2d:forward(x) return bn_forward(self, x, 4) end
BatchNorm2d.extra_repr = bn_repr
nn.BatchNorm2d = BatchNorm2d

--- nn.BatchNorm3d(num_features [, eps, momentum, affine, track_running_stats] [, opts]) -> Module
-- Batch normalisation of each channel over the batch, time and space, as
-- after every layer but the last of the video generator of Vondrick et al.
-- 2016; otherwise as nn.BatchNorm1d.
-- Shapes: x [N, C, T, H, W] -> the same shape.
-- @usage local bn = nn.BatchNorm3d(256)
local BatchNorm3d = Module:extend("BatchNorm3d")
function BatchNorm3d:init(n, ...) bn_init(self, "BatchNorm3d", n, ...) end
function BatchNorm3d:forward(x) return bn_forward(self, x, 5) end
BatchNorm3d.extra_repr = bn_repr
nn.BatchNorm3d = BatchNorm3d

-- (x - mean) / sqrt(var + eps) over dim d of x, with the biased variance, as
-- PyTorch's layer, group and instance norms.  Written with differentiable
-- ops, so a gradient penalty differentiates it twice.  Also returns the mean
-- and the variance.
local function standardize(x, d, eps)
  local mu = x:mean(d, true)
  local centred = x - mu
  local var = (centred * centred):mean(d, true)
  return centred / (var + eps):sqrt(), mu, var
end

-- LayerNorm(normalized_shape, eps, elementwise_affine, bias): normalizes over
-- the last dims, which must equal normalized_shape (an integer or a list);
-- weight and bias have that shape.
--- nn.LayerNorm(normalized_shape [, eps, elementwise_affine, bias] [, opts]) -> Module
-- Layer normalisation (Ba et al. 2016): each sample is standardised over
-- its last dims, which must equal normalized_shape (an integer or a list),
-- with the biased variance and eps (1e-5); weight (ones) and bias (zeros) of
-- shape normalized_shape follow unless elementwise_affine (or bias) is
-- false.  Written with differentiable ops, so a gradient penalty
-- differentiates it twice.
-- Shapes: x [..., normalized_shape] -> the same shape.
-- @usage local ln = nn.LayerNorm(256)
local LayerNorm = Module:extend("LayerNorm")
function LayerNorm:init(shape, ...)
  local dims = type(shape) == "table" and {table.unpack(shape)} or {shape}
  local ok = #dims > 0
  if type(shape) == "table" then
    ok = ok and getmetatable(shape) == nil and next(shape, #shape) == nil
  end
  for _, d in ipairs(dims) do ok = ok and math.type(d) == "integer" and d >= 1 end
  if not ok then
    raise("LayerNorm: normalized_shape must be a positive integer or a list of them, got " ..
          shown(shape))
  end
  local opts = arguments("LayerNorm", {"normalized_shape"},
    {{"eps", "eps"}, {"elementwise_affine", "bool"}, {"bias", "bool"}},
    {eps = 1e-5, elementwise_affine = true, bias = true}, ...)
  self.normalized_shape, self.eps = dims, opts.eps
  self.elementwise_affine = opts.elementwise_affine
  if opts.elementwise_affine then
    self.weight = param(dims)
    init.ones_(self.weight)
    if opts.bias then self.bias = param(dims) end
  end
end

function LayerNorm:forward(x)
  local dims, n, size = self.normalized_shape, x:dim(), 1
  local ok = n >= #dims
  for i, d in ipairs(dims) do
    ok = ok and x.shape[n - #dims + i] == d
    size = size * d
  end
  if not ok then
    error(("LayerNorm: expected an input whose last dims are [%s], got shape %s"):format(
      table.concat(dims, ","), shape_str(x)), 2)
  end
  local y = standardize(x:reshape(-1, size), 2, self.eps):reshape(x.shape)
  if self.weight then y = y * self.weight end
  if self.bias then y = y + self.bias end
  return y
end

function LayerNorm:extra_repr()
  return ("{%s}, eps=%g, elementwise_affine=%s"):format(table.concat(self.normalized_shape, ", "),
    self.eps, tostring(self.elementwise_affine))
end
nn.LayerNorm = LayerNorm

-- per-channel weight and bias of a norm layer applied to y [N,C,...]
local function channel_affine(self, y)
  if not self.weight then return y end
  local shape = {self.weight.shape[1]}
  for i = 3, y:dim() do shape[#shape + 1] = 1 end
  return y * self.weight:view(shape) + self.bias:view(shape)
end

-- GroupNorm(num_groups, num_channels, eps, affine): statistics over each
-- group of C/G channels and all positions of one sample.
--- nn.GroupNorm(num_groups, num_channels [, eps, affine] [, opts]) -> Module
-- Group normalisation (Wu and He 2018): the channels are split into
-- num_groups groups (num_channels must be a multiple), and each group of
-- each sample is standardised over its channels and positions; per-channel
-- weight and bias when affine (true).  Independent of the batch size.
-- Shapes: x [N, C, ...] -> the same shape.
-- @usage local gn = nn.GroupNorm(8, 64)
local GroupNorm = Module:extend("GroupNorm")
function GroupNorm:init(groups, channels, ...)
  check_int("GroupNorm", "num_groups", groups, 1)
  check_int("GroupNorm", "num_channels", channels, 1)
  if channels % groups ~= 0 then
    raise(("GroupNorm: num_channels %d is not divisible by num_groups %d"):format(channels, groups))
  end
  local opts = arguments("GroupNorm", {"num_groups", "num_channels"},
                         {{"eps", "eps"}, {"affine", "bool"}},
                         {eps = 1e-5, affine = true}, ...)
  self.num_groups, self.num_channels = groups, channels
  self.eps, self.affine = opts.eps, opts.affine
  if opts.affine then
    self.weight = param(channels)
    self.bias = param(channels)
    init.ones_(self.weight)
  end
end

function GroupNorm:forward(x)
  if x:dim() < 2 or x.shape[2] ~= self.num_channels then
    error(("GroupNorm: expected an input [N,%d,...], got shape %s"):format(self.num_channels,
      shape_str(x)), 2)
  end
  local y = standardize(x:reshape(x.shape[1], self.num_groups, -1), 3, self.eps)
  return channel_affine(self, y:reshape(x.shape))
end

function GroupNorm:extra_repr()
  return ("%d, %d, eps=%g, affine=%s"):format(self.num_groups, self.num_channels, self.eps,
    tostring(self.affine))
end
nn.GroupNorm = GroupNorm

-- InstanceNorm(num_features, eps, momentum, affine = false, track_running_stats
-- = false): statistics over the positions of each sample and channel.  With
-- running stats, training updates them with the batch means of the
-- instances' mean and unbiased variance (as PyTorch) and eval uses them.
local function in_init(self, cls, n, ...)
  check_int(cls, "num_features", n, 1)
  local opts = arguments(cls, {"num_features"}, bn_spec, {eps = 1e-5, momentum = 0.1,
                         affine = false, track_running_stats = false}, ...)
  self.num_features, self.eps, self.momentum = n, opts.eps, opts.momentum
  self.affine, self.track_running_stats = opts.affine, opts.track_running_stats
  if opts.affine then
    self.weight = param(n)
    self.bias = param(n)
    init.ones_(self.weight)
  end
  if opts.track_running_stats then
    self:register_buffer("running_mean", lg.zeros(n))
    self:register_buffer("running_var", lg.ones(n))
    self:register_buffer("num_batches_tracked", lg.zeros{})
  end
end

local function in_forward(self, x, want)
  local c = self.num_features
  if x:dim() ~= want or x.shape[2] ~= c then
    error(("%s: expected a %d-D input [N,%d,...], got shape %s"):format(self.__name, want, c,
      shape_str(x)), 2)
  end
  local xr = x:reshape(x.shape[1], c, -1)
  local y
  if self.training or not self.running_mean then
    local positions = xr.shape[3]
    if positions < 2 then
      error(("%s: expected more than 1 spatial element when training, got shape %s"):format(
        self.__name, shape_str(x)), 2)
    end
    local mu, var
    y, mu, var = standardize(xr, 3, self.eps)
    if self.training and self.running_mean then
      local m = self.momentum
      lg.no_grad(function()
        local unbiased = var * (positions / (positions - 1))
        self.running_mean:copy_(self.running_mean * (1 - m) + mu:mean(1):view(c) * m)
        self.running_var:copy_(self.running_var * (1 - m) + unbiased:mean(1):view(c) * m)
        self.num_batches_tracked:copy_(self.num_batches_tracked + 1)
      end)
    end
  else
    y = (xr - self.running_mean:view(c, 1)) / (self.running_var:view(c, 1) + self.eps):sqrt()
  end
  return channel_affine(self, y):reshape(x.shape)
end

local function in_repr(self)
  return ("%d, eps=%g, momentum=%g, affine=%s, track_running_stats=%s"):format(self.num_features,
    self.eps, self.momentum, tostring(self.affine), tostring(self.track_running_stats))
end

--- nn.InstanceNorm1d(num_features [, eps, momentum, affine, track_running_stats] [, opts]) -> Module
-- Instance normalisation (Ulyanov et al. 2016): each channel of each sample
-- is standardised over its positions.  affine and track_running_stats
-- default to false as in PyTorch; with running stats, eval uses them.
-- Shapes: x [N, C, L] -> the same shape (L > 1 when training).
-- @usage local inorm = nn.InstanceNorm1d(32)
local InstanceNorm1d = Module:extend("InstanceNorm1d")
function InstanceNorm1d:init(n, ...) in_init(self, "InstanceNorm1d", n, ...) end
function InstanceNorm1d:forward(x) return in_forward(self, x, 3) end
InstanceNorm1d.extra_repr = in_repr
nn.InstanceNorm1d = InstanceNorm1d

--- nn.InstanceNorm2d(num_features [, eps, momentum, affine, track_running_stats] [, opts]) -> Module
-- Instance normalisation over the H x W positions of each channel of each
-- sample; otherwise as nn.InstanceNorm1d.
-- Shapes: x [N, C, H, W] -> the same shape.
-- @usage local inorm = nn.InstanceNorm2d(64, {affine = true})
local InstanceNorm2d = Module:extend("InstanceNorm2d")
function InstanceNorm2d:init(n, ...) in_init(self, "InstanceNorm2d", n, ...) end
function InstanceNorm2d:forward(x) return in_forward(self, x, 4) end
InstanceNorm2d.extra_repr = in_repr
nn.InstanceNorm2d = InstanceNorm2d

-- }------------------------------------------------------

-- {------------------------------------------------------ activations and shapes

-- A matrix built once per size: key -> tensor (a handful of image sizes per run)
local function memo(build)
  local cache = {}
  return function(n, k)
    local key = n .. "," .. k
    cache[key] = cache[key] or build(n, k)
    return cache[key]
  end
end

-- [n * s, n]: 1-D linear interpolation by an integer factor s as a matrix,
-- PyTorch's align_corners=False (sample at (i + 0.5) / s - 0.5, clamped)
local linear_interp = memo(function(n, s)
  local m = {}
  for i = 0, n * s - 1 do
    local row = {}
    for j = 1, n do row[j] = 0 end
    local src = math.max((i + 0.5) / s - 0.5, 0)
    local i0 = math.floor(src)
    local i1, t = math.min(i0 + 1, n - 1), src - i0
    row[i0 + 1] = row[i0 + 1] + (1 - t)
    row[i1 + 1] = row[i1 + 1] + t
    m[#m + 1] = row
  end
  return lg.tensor(m)
end)

-- [k, n]: row i averages the bin floor(i n / k) .. ceil((i + 1) n / k) - 1
local bin_means = memo(function(n, k)
  local m = {}
  for i = 0, k - 1 do
    local a, b = (i * n) // k, -((-(i + 1) * n) // k)
    local row = {}
    for j = 1, n do row[j] = (j - 1 >= a and j - 1 < b) and 1 / (b - a) or 0 end
    m[#m + 1] = row
  end
  return lg.tensor(m)
end)

-- rows x cols for each [H, W] map of x [N, C, H, W]: a [h, H] matrix on the
-- left, a [w, W] one (transposed) on the right; differentiable to any order
local function separable(x, rows, cols)
  local n, c, h, w = table.unpack(x.shape)
  local y = rows:matmul(x:reshape(n * c, h, w)):matmul(cols:t())
  return y:view(n, c, rows.shape[1], cols.shape[1])
end

-- activations: one line each
local function activation(name, fn, repr)
  local cls = Module:extend(name)
  cls.forward = fn
  if repr then cls.extra_repr = repr end
  nn[name] = cls
  return cls
end

-- ReLU(true) and LeakyReLU(0.2, true), as Torch7's and PyTorch's inplace flag,
-- are accepted; the result is a new tensor all the same (autograd needs the
-- input), with the same values.
--- nn.ReLU([inplace]) -> Module
-- max(0, x) elementwise.  inplace (true, as Torch7's and PyTorch's flag) is
-- accepted for compatibility; the result is a new tensor all the same,
-- since autograd needs the input.
-- Shapes: any -> the same shape.
-- @usage local act = nn.ReLU()
local ReLU = activation("ReLU", function(_, x) return x:relu() end)
function ReLU:init(...) arguments("ReLU", {}, {{"inplace", "bool"}}, {inplace = false}, ...) end
--- nn.Tanh() -> Module
-- tanh(x) elementwise: the usual output of an image generator, whose data
-- is scaled to [-1, 1].
-- Shapes: any -> the same shape.
-- @function nn.Tanh
-- @usage local G = nn.Sequential(nn.Linear(100, 784), nn.Tanh())
activation("Tanh", function(_, x) return x:tanh() end)
--- nn.Sigmoid() -> Module
-- 1 / (1 + exp(-x)) elementwise.  A discriminator should output logits and
-- leave the sigmoid to its loss (lg.gan's losses expect logits).
-- Shapes: any -> the same shape.
-- @function nn.Sigmoid
-- @usage local out = nn.Sigmoid()
activation("Sigmoid", function(_, x) return x:sigmoid() end)
--- nn.Softplus() -> Module
-- log(1 + exp(x)) elementwise, computed stably for any x.
-- Shapes: any -> the same shape.
-- @function nn.Softplus
-- @usage local sp = nn.Softplus()
activation("Softplus", function(_, x) return x:softplus() end)
--- nn.Identity() -> Module
-- Returns its input: a placeholder where a layer is optional.
-- Shapes: any -> the same tensor.
-- @function nn.Identity
-- @usage local norm = use_bn and nn.BatchNorm2d(64) or nn.Identity()
activation("Identity", function(_, x) return x end)

--- nn.LeakyReLU([negative_slope] [, inplace] [, opts]) -> Module
-- x for x > 0, negative_slope * x otherwise (slope 0.01 by default; 0.2 in
-- DCGAN's discriminator).  inplace is accepted as in nn.ReLU.
-- Shapes: any -> the same shape.
-- @usage local act = nn.LeakyReLU(0.2)
local LeakyReLU = activation("LeakyReLU", function(self, x) return x:leaky_relu(self.slope) end,
  function(self) return tostring(self.slope) end)
function LeakyReLU:init(...)
  local opts = arguments("LeakyReLU", {}, {{"negative_slope", "number"}, {"inplace", "bool"}},
                         {negative_slope = 0.01, inplace = false}, ...)
  self.slope = opts.negative_slope
end

--- nn.Dropout([p]) -> Module
-- In training mode, zeroes each element with probability p (0.5) and scales
-- the others by 1 / (1 - p); in eval mode returns the input.  p in [0, 1).
-- Shapes: any -> the same shape.
-- @usage local drop = nn.Dropout(0.5)
local Dropout = activation("Dropout", function(self, x) return lg.dropout(x, self.p, self.training) end,
  function(self) return "p=" .. self.p end)
function Dropout:init(p)
  p = p or 0.5
  if type(p) ~= "number" or p < 0 or p >= 1 then
    error("Dropout: p must be a number in [0, 1), got " .. tostring(p), 3)
  end
  self.p = p
end

--- nn.PReLU([num_parameters] [, init] [, opts]) -> Module
-- max(0, x) + a min(0, x) with a learnt slope a (He et al. 2015), one for all
-- channels (num_parameters 1) or one per channel (num_parameters = C, dim 2
-- of x); init 0.25, as PyTorch's.  SRGAN's generator uses it.
-- Shapes: any -> the same shape.
-- @usage local act = nn.PReLU(64)
local PReLU = activation("PReLU", function(self, x)
  local a = self.weight
  if a:numel() > 1 then
    if x:dim() < 2 or x:size(2) ~= a:numel() then
      error(("PReLU: %d slopes for an input of shape [%s]: dim 2 must have %d channels"):format(
        a:numel(), table.concat(x.shape, ","), a:numel()), 2)
    end
    local shape = {1, a:numel()}
    for d = 3, x:dim() do shape[d] = 1 end
    a = a:view(shape)
  end
  return x:relu() - (-x):relu() * a
end, function(self) return "num_parameters=" .. self.weight:numel() end)
function PReLU:init(...)
  local opts = arguments("PReLU", {}, {{"num_parameters", "size1"}, {"init", "number"}},
                         {num_parameters = 1, init = 0.25}, ...)
  self.weight = lg.full({opts.num_parameters}, opts.init)
  self.weight.requires_grad = true
end

--- nn.ELU([alpha] [, opts]) -> Module
-- x for x > 0, alpha (exp(x) - 1) otherwise (Clevert et al. 2016; alpha 1).
-- Shapes: any -> the same shape.
-- @usage local act = nn.ELU()
local ELU = activation("ELU", function(self, x)
  return x:relu() + ((-(-x):relu()):exp() - 1) * self.alpha
end, function(self) return "alpha=" .. self.alpha end)
function ELU:init(...)
  self.alpha = arguments("ELU", {}, {{"alpha", "number"}, {"inplace", "bool"}},
                         {alpha = 1, inplace = false}, ...).alpha
end

--- nn.SiLU() -> Module
-- x sigmoid(x) elementwise (the swish of Ramachandran et al. 2017).
-- Shapes: any -> the same shape.
-- @function nn.SiLU
-- @usage local act = nn.SiLU()
activation("SiLU", function(_, x) return x * x:sigmoid() end)

-- Softmax and LogSoftmax over dim (1-based, negative from the end; PyTorch's
-- dim=1 for [N, C] is our 2, the default here)
local function softmax_module(name, fn)
  local cls = activation(name, function(self, x) return fn(x, self.dim) end,
    function(self) return "dim=" .. self.dim end)
  function cls:init(dim)
    if dim ~= nil and math.type(dim) ~= "integer" then
      error(("%s: dim must be an integer, got %s"):format(name, tostring(dim)), 3)
    end
    self.dim = dim or 2
  end
  return cls
end
--- nn.Softmax([dim]) -> Module
-- exp(x) / sum exp(x) along dim (default 2, the classes of [N, C]).
-- Shapes: any -> the same shape.
-- @function nn.Softmax
-- @usage local probs = nn.Softmax(2)(logits)
softmax_module("Softmax", lg.softmax)
--- nn.LogSoftmax([dim]) -> Module
-- log of nn.Softmax along dim (default 2), computed stably.
-- Shapes: any -> the same shape.
-- @function nn.LogSoftmax
-- @usage local logp = nn.LogSoftmax()(logits)
softmax_module("LogSoftmax", lg.log_softmax)

--- nn.PixelShuffle(upscale_factor) -> Module
-- Sub-pixel convolution's rearrangement (Shi et al. 2016, eq. 4; PyTorch's
-- PixelShuffle): out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]
-- (0-based), one view, permute and reshape.  SRGAN's x2 upsampling is a conv
-- to 4C maps, then PixelShuffle(2).
-- Shapes: x [N, C r^2, H, W] -> [N, C, H r, W r].
-- @usage local up = nn.Sequential(nn.Conv2d(64, 256, 3, 1, 1), nn.PixelShuffle(2))
local PixelShuffle = activation("PixelShuffle", function(self, x)
  local r = self.r
  if x:dim() ~= 4 or x:size(2) % (r * r) ~= 0 then
    error(("PixelShuffle: x must be [N, C*%d, H, W], got [%s]"):format(r * r,
      table.concat(x.shape, ",")), 2)
  end
  local n, crr, h, w = table.unpack(x.shape)
  local c = crr // (r * r)
  return x:view(n, c, r, r, h, w):permute(1, 2, 5, 3, 6, 4):reshape(n, c, h * r, w * r)
end, function(self) return "upscale_factor=" .. self.r end)
function PixelShuffle:init(r)
  check_int("PixelShuffle", "upscale_factor", r, 1)
  self.r = r
end

--- nn.Flatten() -> Module
-- Keeps the batch dim and flattens the rest, as D's bridge from
-- convolutions to a linear layer.
-- Shapes: x [N, ...] -> [N, product of the other dims].
-- @function nn.Flatten
-- @usage local D = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.Flatten(), nn.Linear(8 * 14 * 14, 1))
activation("Flatten", function(_, x) return x:reshape(x:size(1), -1) end)

--- nn.Reshape(...) -> Module
-- Reshapes each sample to the given sizes (varargs or one table), keeping
-- the batch dim: the bridge from G's linear layer to its convolutions.
-- Shapes: x [N, ...] -> [N, ...sizes] (same number of elements per sample).
-- @usage local r = nn.Reshape(128, 7, 7)   -- [N, 6272] -> [N, 128, 7, 7]
local Reshape = activation("Reshape", function(self, x)
  return x:reshape(x:size(1), table.unpack(self.shape))
end, function(self) return table.concat(self.shape, ", ") end)
function Reshape:init(...)
  self.shape = type(...) == "table" and {table.unpack((...))} or {...}
end

--- nn.Upsample(scale_factor [, {mode = "nearest"}]) -> Module
-- Upsampling of the last two dims by an integer factor: mode "nearest"
-- (lg.upsample_nearest) or "bilinear" (PyTorch's align_corners=False: output
-- pixel i samples the input at (i + 0.5) / scale - 0.5, clamped at the
-- border), the latter as two products with interpolation matrices, so it is
-- differentiable to any order.
-- Shapes: x [N, C, H, W] -> [N, C, H * s, W * s].
-- @usage local up = nn.Upsample(2, {mode = "bilinear"})
local Upsample = activation("Upsample", function(self, x)
  if self.mode == "nearest" then return lg.upsample_nearest(x, self.scale_factor) end
  if x:dim() ~= 4 then
    error(("Upsample: bilinear mode takes [N, C, H, W], got [%s]"):format(table.concat(x.shape, ",")), 2)
  end
  local s = self.scale_factor
  return separable(x, linear_interp(x.shape[3], s), linear_interp(x.shape[4], s))
end, function(self) return "scale_factor=" .. self.scale_factor .. ", " .. self.mode end)
function Upsample:init(scale, opts)
  check_int("Upsample", "scale_factor", scale, 1)
  local o = util.options("Upsample", opts, {mode = "nearest"})
  if o.mode ~= "nearest" and o.mode ~= "bilinear" then
    raise(("Upsample: mode must be \"nearest\" or \"bilinear\", got %s"):format(tostring(o.mode)))
  end
  self.scale_factor, self.mode = scale, o.mode
end

--- nn.AdaptiveAvgPool2d(output_size) -> Module
-- Average pooling to a fixed output size (an integer or {h, w}), bins as
-- PyTorch's: output row i averages input rows floor(i H / h) to
-- ceil((i + 1) H / h) - 1.  AdaptiveAvgPool2d(1) is global average pooling.
-- Shapes: x [N, C, H, W] -> [N, C, h, w].
-- @usage local gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
local AdaptiveAvgPool2d = activation("AdaptiveAvgPool2d", function(self, x)
  if x:dim() ~= 4 then
    error(("AdaptiveAvgPool2d: x must be [N, C, H, W], got [%s]"):format(table.concat(x.shape, ",")), 2)
  end
  local size = self.output_size
  return separable(x, bin_means(x.shape[3], size[1]), bin_means(x.shape[4], size[2]))
end, function(self) return table.concat(self.output_size, "x") end)
function AdaptiveAvgPool2d:init(size)
  check_kind("AdaptiveAvgPool2d", "output_size", "size2", size)
  self.output_size = pair(size)
end

-- ZeroPad2d, ReflectionPad2d, ReplicationPad2d: lg.pad of the last two dims
-- by one integer or {left, right, top, bottom}
local function pad_module(name, mode)
  local cls = activation(name, function(self, x) return lg.pad(x, self.padding, {mode = mode}) end,
    function(self) return table.concat(self.padding, ", ") end)
  function cls:init(p)
    if math.type(p) == "integer" then p = {p, p, p, p} end
    local ok = type(p) == "table" and #p == 4
    for i = 1, 4 do ok = ok and math.type(p[i]) == "integer" end
    if not ok then
      raise(("%s: padding must be an integer or {left, right, top, bottom}, got %s"):format(name, shown(p)))
    end
    self.padding = {p[1], p[2], p[3], p[4]}
  end
  return cls
end
--- nn.ZeroPad2d(padding) -> Module
-- Pads the last two dims with zeros: padding is one integer or {left,
-- right, top, bottom} (lg.pad's order); negative values crop.
-- Shapes: x [N, C, H, W] -> [N, C, H + top + bottom, W + left + right].
-- @function nn.ZeroPad2d
-- @usage local pad = nn.ZeroPad2d(1)
pad_module("ZeroPad2d", "constant")
--- nn.ReflectionPad2d(padding) -> Module
-- Pads the last two dims by mirroring without repeating the edge (each pad
-- below the dim's size), as the ResNet generators of CycleGAN and pix2pix do
-- before their 7x7 convolutions.
-- Shapes: x [N, C, H, W] -> [N, C, H + top + bottom, W + left + right].
-- @function nn.ReflectionPad2d
-- @usage local G = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 64, 7))
pad_module("ReflectionPad2d", "reflect")
--- nn.ReplicationPad2d(padding) -> Module
-- Pads the last two dims by repeating the edge pixels.
-- Shapes: x [N, C, H, W] -> [N, C, H + top + bottom, W + left + right].
-- @function nn.ReplicationPad2d
-- @usage local pad = nn.ReplicationPad2d({1, 1, 0, 0})
pad_module("ReplicationPad2d", "replicate")

-- MaxPool2d / AvgPool2d(kernel_size [, stride] [, padding] [, opts]): square
-- windows, stride defaulting to the kernel size as in PyTorch.
local function pool(name, fn)
  local cls = activation(name, function(self, x)
    return fn(x, self.kernel_size, {stride = self.stride, padding = self.padding})
  end, function(self)
    return ("kernel_size=%d, stride=%d, padding=%d"):format(self.kernel_size, self.stride, self.padding)
  end)
  function cls:init(k, ...)
    check_int(name, "kernel_size", k, 1)
    local o = arguments(name, {"kernel_size"}, {{"stride", "kernel1"}, {"padding", "pad1"}},
                        {stride = k, padding = 0}, ...)
    self.kernel_size, self.stride, self.padding = k, o.stride, o.padding
  end
  return cls
end

--- nn.MaxPool2d(kernel_size [, stride] [, padding] [, opts]) -> Module
-- Max pooling over square kernel_size windows (lg.max_pool2d); stride
-- defaults to kernel_size, padding (at most kernel_size / 2) to 0.
-- Shapes: x [N, C, H, W] -> [N, C, floor((H + 2 padding - k) / stride) + 1, ...].
-- @function nn.MaxPool2d
-- @usage local pool = nn.MaxPool2d(3, 1, 1)   -- 3x3 windows, size kept
pool("MaxPool2d", lg.max_pool2d)
--- nn.AvgPool2d(kernel_size [, stride] [, padding] [, opts]) -> Module
-- Average pooling over square kernel_size windows (lg.avg_pool2d; padding
-- counts as zeros); stride defaults to kernel_size, padding to 0.
-- Shapes: x [N, C, H, W] -> [N, C, floor((H + 2 padding - k) / stride) + 1, ...].
-- @function nn.AvgPool2d
-- @usage local pool = nn.AvgPool2d(2)   -- [N, C, 28, 28] -> [N, C, 14, 14]
pool("AvgPool2d", lg.avg_pool2d)

-- }------------------------------------------------------

-- {------------------------------------------------------ containers

local is_module = util.is_module

-- Appends m at the next integer key; such children are named 0, 1, ... in
-- state_dict keys (PyTorch's names) and indexed 1, 2, ... from Lua.
local function append(self, m, what)
  if not is_module(m) then
    raise(("%s: %s %d is a %s, a module is expected"):format(self.__name, what, #self + 1, type(m)))
  end
  local order = rawget(self, "_order")
  local i = #self + 1
  order[#order + 1] = i
  rawset(self, i, m)
  return self
end

--- nn.Sequential(m1, m2, ...) -> Module
-- Runs its modules one after the other, each on the previous one's output.
-- Children are numbered 0, 1, ... in state_dict keys (PyTorch's names) and
-- 1, 2, ... as Lua indices: seq[1] is the first, #seq their count.  An
-- error inside names the module it came from ("Sequential, module 3
-- (Linear): ...").
-- Shapes: the first module's input -> the last module's output.
-- @usage local G = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
local Sequential = Module:extend("Sequential")
function Sequential:init(...)
  local n = select("#", ...)
  for i = 1, n do self:add((select(i, ...))) end
end

--- nn.Sequential:add(m) -> Sequential
-- Appends module m as the last child and returns the container, so calls
-- chain.
-- @usage G:add(nn.Linear(256, 784)):add(nn.Tanh())
function Sequential:add(m) return append(self, m, "argument") end

-- The activation to fuse into module m when nxt follows it: a Conv2d (its
-- own forward, not an override) before a ReLU or a LeakyReLU of slope >= 0
-- (a negative slope flips signs, so its gradient needs the conv's output).
local function fused_act(m, nxt)
  if nxt == nil or m.forward ~= Conv2d.forward then return nil end
  if nxt.forward == ReLU.forward then return {act = "relu"} end
  if nxt.forward == LeakyReLU.forward and nxt.slope >= 0 then
    return {act = "leaky_relu", negative_slope = nxt.slope}
  end
end

-- Errors deep inside name the module they came from, as nn's Container does.
-- A Conv2d and the activation after it run as one op (fused_act): the same
-- values and gradients, one pass over the output instead of two.
function Sequential:forward(x)
  local i = 1
  while i <= #self do
    local act, ok, out = fused_act(self[i], self[i + 1])
    if act then ok, out = pcall(self[i].forward, self[i], x, act)
    else ok, out = pcall(self[i].forward, self[i], x) end
    if not ok then
      error(("Sequential, module %d (%s): %s"):format(i, self[i].__name, tostring(out)), 0)
    end
    x, i = out, act and i + 2 or i + 1
  end
  return x
end
nn.Sequential = Sequential

--- nn.ModuleList([modules]) -> Module
-- A list of modules that registers them (their parameters and state_dict
-- keys "0.weight", "1.weight", ... as PyTorch's) without running them: the
-- owner's forward decides how.  list[i], #list, ipairs(list) and
-- list:add(m) (also append, as PyTorch) work as on a table; calling the
-- list is an error.
-- @usage self.blocks = nn.ModuleList{nn.Linear(8, 8), nn.Linear(8, 8)}
local ModuleList = Module:extend("ModuleList")
function ModuleList:init(list)
  if list == nil then return end
  if type(list) ~= "table" or is_module(list) then
    raise("ModuleList: a list of modules is expected, got " ..
          (is_module(list) and "a module" or type(list)))
  end
  for _, m in ipairs(list) do append(self, m, "element") end
end
--- nn.ModuleList:add(m) -> ModuleList
-- Appends module m (list:append(m) is the same); returns the list.
-- @usage blocks:add(nn.Linear(8, 8))
function ModuleList:add(m) return append(self, m, "element") end
ModuleList.append = ModuleList.add
function ModuleList:forward()
  error("ModuleList: a container, not a layer: index it or iterate over it", 2)
end
nn.ModuleList = ModuleList

--- nn.ModuleDict([modules]) -> Module
-- Modules by name, registered as fields, so their state_dict keys are
-- "disc.weight"...; d.name or d[name] reads one and d:items() iterates
-- (name, module) in the order added (the constructor's table in sorted
-- order, as a Lua table has none).  A name must not hide a method (add,
-- parameters, ...); calling the dict is an error.
-- @usage local nets = nn.ModuleDict{G = nn.Linear(2, 2), D = nn.Linear(2, 1)}
local ModuleDict = Module:extend("ModuleDict")
function ModuleDict:init(modules)
  if modules == nil then return end
  if type(modules) ~= "table" or is_module(modules) then
    raise("ModuleDict: a table of name = module is expected, got " ..
          (is_module(modules) and "a module" or type(modules)))
  end
  for _, k in ipairs(sorted_keys(modules)) do self:add(k, modules[k]) end
end

--- nn.ModuleDict:add(name, m) -> ModuleDict
-- Adds module m under name (a non-empty string without ".", not the name of
-- a method or field); returns the dict.
-- @usage nets:add("E", nn.Linear(784, 100))
function ModuleDict:add(name, m)
  if type(name) ~= "string" or name == "" or name:find(".", 1, true) then
    raise("ModuleDict: a name must be a non-empty string without '.', got " .. shown(name))
  end
  if ModuleDict[name] ~= nil or name == "training" or name:sub(1, 1) == "_" then
    raise(("ModuleDict: the name '%s' would hide a field or method of the module"):format(name))
  end
  if not is_module(m) then
    raise(("ModuleDict: '%s' is a %s, a module is expected"):format(name, type(m)))
  end
  self[name] = m
  return self
end

--- nn.ModuleDict:items() -> iterator
-- Iterates (name, module) in the order the modules were added.
-- @usage for name, m in nets:items() do print(name, m:num_parameters()) end
function ModuleDict:items()
  local list, i = {}, 0
  for _, k in ipairs(rawget(self, "_order")) do
    if is_module(rawget(self, k)) then list[#list + 1] = k end
  end
  return function()
    i = i + 1
    if list[i] then return list[i], rawget(self, list[i]) end
  end
end

--- nn.ModuleDict:keys() -> {string, ...}
-- The names, in the order the modules were added.
-- @usage print(table.concat(nets:keys(), ", "))
function ModuleDict:keys()
  local out = {}
  for k in self:items() do out[#out + 1] = k end
  return out
end

function ModuleDict:forward()
  error("ModuleDict: a container, not a layer: index it by name", 2)
end
nn.ModuleDict = ModuleDict

-- }------------------------------------------------------

-- }======================================================

-- Layers in files of their own (lua/luagan/nn_*.lua) add themselves to nn;
-- they require "luagan.nn", which is this table from here on.
package.loaded["luagan.nn"] = nn
require "luagan.nn_weight_norm"
require "luagan.nn_spectral_norm"
require "luagan.nn_noise"

-- nn.SyncBatchNorm is luagan.dist's (it needs the collectives), found there
-- on first use.
setmetatable(nn, {__index = function(_, k)
  if k == "SyncBatchNorm" then return require("luagan.dist").SyncBatchNorm end
end})

return nn
