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

function Module:init() end

function Module:forward()
  error(self.__name .. ": forward is not defined", 2)
end

Module.__call = function(self, ...) return self:forward(...) end

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

function Module:parameters()
  local out = {}
  for i, nt in ipairs(tensors_of(self, "param")) do out[i] = nt[2] end
  return out
end

-- for name, p in m:named_parameters() do ... end
function Module:named_parameters()
  local list, i = tensors_of(self, "param"), 0
  return function()
    i = i + 1
    if list[i] then return list[i][1], list[i][2] end
  end
end

function Module:modules()
  local out = {}
  for i, pm in ipairs(walk(self, "", {})) do out[i] = pm[2] end
  return out
end

function Module:apply(fn)
  local all = walk(self, "", {})
  for i = #all, 1, -1 do fn(all[i][2]) end   -- children before parents, as PyTorch
  return self
end

function Module:train(mode)
  if mode == nil then mode = true end
  for _, m in ipairs(self:modules()) do m.training = mode end
  return self
end

function Module:eval() return self:train(false) end

-- name -> tensor (the live tensors: save them, or copy from them)
function Module:state_dict()
  local sd = {}
  for _, nt in ipairs(tensors_of(self, "param")) do sd[nt[1]] = nt[2] end
  for _, nt in ipairs(tensors_of(self, "buffer")) do sd[nt[1]] = nt[2] end
  return sd
end


-- Copies values in place; strict (default) refuses missing or unexpected keys.
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

function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

-- one line for a leaf; subclasses override extra_repr
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
function init.calculate_gain(nonlinearity, param)
  if nonlinearity == "leaky_relu" then
    local slope = param or 0.01
    return math.sqrt(2 / (1 + slope * slope))
  end
  return gains[nonlinearity] or error("calculate_gain: unknown nonlinearity '" .. tostring(nonlinearity) .. "'", 2)
end

function init.uniform_(t, a, b)
  a, b = a or 0, b or 1
  return fill_(t, lg.rand(t.shape) * (b - a) + a)
end

function init.normal_(t, mean, std)
  mean, std = mean or 0, std or 1
  return fill_(t, lg.randn(t.shape) * std + mean)
end

function init.constant_(t, v) lg.no_grad(function() t:fill_(v) end) return t end
function init.zeros_(t) return init.constant_(t, 0) end
function init.ones_(t) return init.constant_(t, 1) end

function init.xavier_uniform_(t, gain)
  local fan_in, fan_out = fans(t)
  local bound = (gain or 1) * math.sqrt(6 / (fan_in + fan_out))
  return init.uniform_(t, -bound, bound)
end

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

function init.kaiming_uniform_(t, opts)
  local bound = math.sqrt(3) * kaiming_std(t, opts)
  return init.uniform_(t, -bound, bound)
end

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

-- The DCGAN scheme (Radford et al. 2016, section 4: "All weights were
-- initialized from a zero-centered Normal distribution with standard
-- deviation 0.02"); batch-norm scales N(1, 0.02) and biases 0 as in the
-- reference PyTorch implementation.  Use as model:apply(nn.init.dcgan).
function init.dcgan(m)
  local name = m.__name
  if name == "Conv2d" or name == "ConvTranspose2d" or name == "Linear" then
    init.normal_(m.weight, 0, 0.02)
    if m.bias then init.zeros_(m.bias) end
  elseif name == "BatchNorm1d" or name == "BatchNorm2d" then
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

local options = util.options

local function pair(v) return type(v) == "table" and v or {v, v} end

local function check_int(op, name, v, min)
  if math.type(v) ~= "integer" or v < min then
    error(("%s: %s must be an integer >= %d, got %s"):format(op, name, min, tostring(v)), 3)
  end
end

local Linear = Module:extend("Linear")
function Linear:init(inf, outf, opts)
  check_int("Linear", "in_features", inf, 1)
  check_int("Linear", "out_features", outf, 1)
  opts = options("Linear", opts, {bias = true})
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

local function conv_init(self, cls, cin, cout, k, opts, transposed)
  check_int(cls, "in_channels", cin, 1)
  check_int(cls, "out_channels", cout, 1)
  local defaults = {stride = 1, padding = 0, bias = true}
  if transposed then defaults.output_padding = 0 end
  opts = options(cls, opts, defaults)
  local kk = pair(k)
  check_int(cls, "kernel size", kk[1], 1)
  check_int(cls, "kernel size", kk[2], 1)
  self.in_channels, self.out_channels, self.kernel_size = cin, cout, kk
  self.stride, self.padding = pair(opts.stride), pair(opts.padding)
  if transposed then self.output_padding = pair(opts.output_padding) end
  if transposed then self.weight = param(cin, cout, kk[1], kk[2])
  else self.weight = param(cout, cin, kk[1], kk[2]) end
  if opts.bias then self.bias = param(cout) end
  default_init(self.weight, self.bias)
end

local function conv_repr(self)
  local s = ("%d -> %d, k%s, s%s, p%s"):format(self.in_channels, self.out_channels,
    table.concat(self.kernel_size, "x"), table.concat(self.stride, "x"), table.concat(self.padding, "x"))
  if self.output_padding then s = s .. ", op" .. table.concat(self.output_padding, "x") end
  return self.bias and s or s .. ", no bias"
end

local Conv2d = Module:extend("Conv2d")
function Conv2d:init(cin, cout, k, opts) conv_init(self, "Conv2d", cin, cout, k, opts, false) end
function Conv2d:forward(x)
  return lg.conv2d(x, self.weight, self.bias, {stride = self.stride, padding = self.padding})
end
Conv2d.extra_repr = conv_repr
nn.Conv2d = Conv2d

local ConvTranspose2d = Module:extend("ConvTranspose2d")
function ConvTranspose2d:init(cin, cout, k, opts)
  conv_init(self, "ConvTranspose2d", cin, cout, k, opts, true)
end
function ConvTranspose2d:forward(x)
  return lg.conv_transpose2d(x, self.weight, self.bias, {stride = self.stride,
    padding = self.padding, output_padding = self.output_padding})
end
ConvTranspose2d.extra_repr = conv_repr
nn.ConvTranspose2d = ConvTranspose2d

local function bn_init(self, cls, n, opts)
  check_int(cls, "num_features", n, 1)
  opts = options(cls, opts, {eps = 1e-5, momentum = 0.1, affine = true, track_running_stats = true})
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
    error(("%s: expected a %s input, got shape [%s]"):format(self.__name,
      want == 2 and "2-D or 3-D" or "4-D", table.concat(x.shape, ",")), 2)
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

local BatchNorm1d = Module:extend("BatchNorm1d")
function BatchNorm1d:init(n, opts) bn_init(self, "BatchNorm1d", n, opts) end
function BatchNorm1d:forward(x) return bn_forward(self, x, 2) end
BatchNorm1d.extra_repr = bn_repr
nn.BatchNorm1d = BatchNorm1d

local BatchNorm2d = Module:extend("BatchNorm2d")
function BatchNorm2d:init(n, opts) bn_init(self, "BatchNorm2d", n, opts) end
function BatchNorm2d:forward(x) return bn_forward(self, x, 4) end
BatchNorm2d.extra_repr = bn_repr
nn.BatchNorm2d = BatchNorm2d

-- activations: one line each
local function activation(name, fn, repr)
  local cls = Module:extend(name)
  cls.forward = fn
  if repr then cls.extra_repr = repr end
  nn[name] = cls
  return cls
end

activation("ReLU", function(_, x) return x:relu() end)
activation("Tanh", function(_, x) return x:tanh() end)
activation("Sigmoid", function(_, x) return x:sigmoid() end)
activation("Softplus", function(_, x) return x:softplus() end)
activation("Identity", function(_, x) return x end)

local LeakyReLU = activation("LeakyReLU", function(self, x) return x:leaky_relu(self.slope) end,
  function(self) return tostring(self.slope) end)
function LeakyReLU:init(slope) self.slope = slope or 0.01 end

local Dropout = activation("Dropout", function(self, x) return lg.dropout(x, self.p, self.training) end,
  function(self) return "p=" .. self.p end)
function Dropout:init(p)
  p = p or 0.5
  if type(p) ~= "number" or p < 0 or p >= 1 then
    error("Dropout: p must be a number in [0, 1), got " .. tostring(p), 3)
  end
  self.p = p
end

-- [N, ...] -> [N, product of the rest]
activation("Flatten", function(_, x) return x:reshape(x:size(1), -1) end)

-- Reshape(128, 7, 7): [N, 6272] -> [N, 128, 7, 7]; the batch dim is kept
local Reshape = activation("Reshape", function(self, x)
  return x:reshape(x:size(1), table.unpack(self.shape))
end, function(self) return table.concat(self.shape, ", ") end)
function Reshape:init(...)
  self.shape = type(...) == "table" and {table.unpack((...))} or {...}
end

local Upsample = activation("Upsample", function(self, x)
  return lg.upsample_nearest(x, self.scale_factor)
end, function(self) return "scale_factor=" .. self.scale_factor .. ", nearest" end)
function Upsample:init(scale)
  check_int("Upsample", "scale_factor", scale, 1)
  self.scale_factor = scale
end

-- Sequential(m1, m2, ...): children numbered 0, 1, ... in state_dict keys
-- (PyTorch's names) and 1, 2, ... as Lua indices: seq[1] is the first.
local Sequential = Module:extend("Sequential")
function Sequential:init(...)
  local n = select("#", ...)
  for i = 1, n do self:add((select(i, ...))) end
end

function Sequential:add(m)
  if type(m) ~= "table" or not m._order then
    error(("Sequential: argument %d is a %s, a module is expected"):format(#self + 1, type(m)), 3)
  end
  local order = rawget(self, "_order")
  local i = #self + 1
  order[#order + 1] = i
  rawset(self, i, m)
  return self
end

-- Errors deep inside name the module they came from, as nn's Container does.
function Sequential:forward(x)
  for i = 1, #self do
    local ok, out = pcall(self[i].forward, self[i], x)
    if not ok then
      error(("Sequential, module %d (%s): %s"):format(i, self[i].__name, tostring(out)), 0)
    end
    x = out
  end
  return x
end
nn.Sequential = Sequential

-- }======================================================

return nn
