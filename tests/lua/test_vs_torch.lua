-- luagan against PyTorch: each case computes an op (or a module) on fixed
-- random inputs here and in tests/torch/ref_ops.py, and compares the outputs
-- and, for a differentiable op, the gradients of sum_k (out_k * w_k) with
-- respect to its inputs (or the module's parameters), w_k fixed random
-- weights.  One round trip: every input and weight goes into one safetensors
-- file, the cases into a spec, Python runs once and writes one safetensors
-- file of results.  Conventions are converted in the Python code of each case
-- (dims and indices 1-based here, 0-based in torch), never hidden.
-- Skips (passes) when /usr/bin/python3 or its torch is missing.
local lg = require "luagan"
local nn, la = lg.nn, lg.linalg

local PY = "/usr/bin/python3"
-- the reference script, found from this file's path (tests/lua/ -> tests/torch/)
local SCRIPT = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../torch/ref_ops.py"

local function have_torch()
  local ok = os.execute(PY .. " -c 'import torch' >/dev/null 2>&1")
  return ok == true
end

if not have_torch() then
  io.stderr:write("skip: " .. PY .. " with torch not available, test_vs_torch not run\n")
  return
end

-- {------------------------------------------------------------ the cases
-- case(name, {inputs = {name = Tensor}, grad = {names}, lua = fn(v) -> out
-- or {out, ...}, py = "python code setting out", tol = t, xfail = "why"}).
-- grad names an input (made a leaf with requires_grad) or, for a module,
-- a parameter passed as an input; v holds the inputs by name.
local cases = {}
local function case(name, c)
  assert(name:match("^[%w_]+$"), name)
  c.name, c.inputs, c.grad = name, c.inputs or {}, c.grad or {}
  c.tol = c.tol or 1e-5
  cases[#cases + 1] = c
end

lg.manual_seed(20261206)
local R = lg.randn
local function pos(...) return lg.rand(...) + 0.1 end   -- for log, sqrt, pow

-- elementwise, one input x with its gradient
local unary = {
  {"exp", function(x) return x:exp() end, "torch.exp(x)"},
  {"log", function(x) return x:log() end, "torch.log(x)", pos},
  {"sqrt", function(x) return x:sqrt() end, "torch.sqrt(x)", pos},
  {"abs", function(x) return x:abs() end, "torch.abs(x)"},
  {"neg", function(x) return -x end, "-x"},
  {"sin", function(x) return x:sin() end, "torch.sin(x)"},
  {"cos", function(x) return x:cos() end, "torch.cos(x)"},
  {"sigmoid", function(x) return x:sigmoid() end, "torch.sigmoid(x)"},
  {"tanh", function(x) return x:tanh() end, "torch.tanh(x)"},
  {"softplus", function(x) return x:softplus() end, "F.softplus(x)"},
  {"softplus_large", function(x) return (x * 30):softplus() end, "F.softplus(x * 30)"},
  {"relu", function(x) return x:relu() end, "F.relu(x)"},
  {"leaky_relu", function(x) return x:leaky_relu() end, "F.leaky_relu(x)"},
  {"leaky_relu_02", function(x) return lg.leaky_relu(x, 0.2) end, "F.leaky_relu(x, 0.2)"},
  {"pow3", function(x) return x:pow(3) end, "torch.pow(x, 3)"},
  {"pow_half", function(x) return x ^ 0.5 end, "torch.pow(x, 0.5)", pos},
  {"pow_neg", function(x) return x ^ -1.5 end, "torch.pow(x, -1.5)", pos},
  {"scalar_pow", function(x) return 2 ^ x end, "torch.pow(2, x)"},
  {"clamp", function(x) return x:clamp(-0.5, 0.5) end, "torch.clamp(x, -0.5, 0.5)"},
  {"clamp_hi", function(x) return x:clamp(nil, 0.3) end, "torch.clamp(x, max=0.3)"},
  {"clamp_lo", function(x) return lg.clamp(x, -0.2) end, "torch.clamp(x, min=-0.2)"},
  {"floor", function(x) return (x * 3):floor() end, "torch.floor(x * 3)"},
  {"ceil", function(x) return (x * 3):ceil() end, "torch.ceil(x * 3)"},
  {"round", function(x) return (x * 3):round() end, "torch.round(x * 3)"},
  {"trunc", function(x) return (x * 3):trunc() end, "torch.trunc(x * 3)"},
  {"sign", function(x) return x:sign() end, "torch.sign(x)"},
}
for _, u in ipairs(unary) do
  local f, make = u[2], u[4] or R
  case(u[1], {inputs = {x = make(3, 4)}, grad = {"x"},
              lua = function(v) return f(v.x) end, py = "out = " .. u[3]})
end
case("round_halves", {inputs = {x = lg.tensor{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51}},
  lua = function(v) return v.x:round() end, py = "out = torch.round(x)"})
case("sign_zero", {inputs = {x = lg.tensor{-2, 0, 3, -0.0}},
  lua = function(v) return v.x:sign() end, py = "out = torch.sign(x)"})

-- binary arithmetic with broadcasting
for _, b in ipairs{{"add", "+"}, {"sub", "-"}, {"mul", "*"}, {"div", "/"}} do
  case(b[1] .. "_bcast", {inputs = {a = R(3, 4), b = pos(4)}, grad = {"a", "b"},
    lua = function(v) return lg[b[1]](v.a, v.b) end, py = "out = a " .. b[2] .. " b"})
end
case("rdiv_number", {inputs = {x = pos(5)}, grad = {"x"},
  lua = function(v) return 1 / v.x end, py = "out = 1 / x"})

-- comparisons on small integers, so that ties happen
do
  local a, b = lg.randint(0, 3, {3, 4}), lg.randint(0, 3, {3, 4})
  for _, op in ipairs{"gt", "ge", "lt", "le", "eq", "ne"} do
    case("cmp_" .. op, {inputs = {a = a, b = b},
      lua = function(v) return {v.a[op](v.a, v.b), lg[op](v.a, 1), v.a[op](v.a, v.b[1])} end,
      py = ("out = [torch.%s(a, b).float(), torch.%s(a, 1.0).float(), torch.%s(a, b[0]).float()]")
           :format(op, op, op)})
  end
end

do
  local c = lg.randint(0, 2, {3, 4})
  case("where", {inputs = {c = c, a = R(3, 4), b = R(1, 4)}, grad = {"a", "b"},
    lua = function(v) return lg.where(v.c, v.a, v.b) end,
    py = "out = torch.where(c != 0, a, b)"})
  case("where_number", {inputs = {c = c, a = R(3, 4)}, grad = {"a"},
    lua = function(v) return lg.where(v.c, v.a, 0.5) end,
    py = "out = torch.where(c != 0, a, torch.tensor(0.5))"})
  case("masked_fill", {inputs = {m = c, x = R(3, 4)}, grad = {"x"},
    lua = function(v) return v.x:masked_fill(v.m, -1.5) end,
    py = "out = x.masked_fill(m != 0, -1.5)"})
  case("masked_fill_bcast", {inputs = {m = c[1], x = R(3, 4)}, grad = {"x"},
    lua = function(v) return v.x:masked_fill(v.m, 2) end,
    py = "out = x.masked_fill(m != 0, 2.0)"})
  case("masked_select", {inputs = {m = c, x = R(3, 4)}, grad = {"x"},
    lua = function(v) return v.x:masked_select(v.m) end,
    py = "out = torch.masked_select(x, m != 0)"})
end

-- {------------------------------------------------------------ reductions
local RED = 1e-4
do
  local x = R(3, 4, 5)
  local function red(name, f, py, grad)
    case(name, {inputs = {x = x}, grad = grad == false and {} or {"x"}, tol = RED,
                lua = function(v) return f(v.x) end, py = "out = " .. py})
  end
  red("sum_all", function(t) return t:sum() end, "x.sum()")
  red("sum_d2", function(t) return t:sum(2) end, "x.sum(1)")
  red("sum_d3_keep", function(t) return t:sum(3, true) end, "x.sum(2, keepdim=True)")
  red("sum_neg1", function(t) return t:sum(-1) end, "x.sum(-1)")
  red("mean_all", function(t) return t:mean() end, "x.mean()")
  red("mean_d1_keep", function(t) return t:mean(1, true) end, "x.mean(0, keepdim=True)")
  red("max_all", function(t) return t:max() end, "x.max()")
  red("min_all", function(t) return t:min() end, "x.min()")
  red("max_d2", function(t) return {t:max(2)} end, "[x.max(1)[0], x.max(1)[1].float() + 1]")
  red("max_d3_keep", function(t) return {t:max(3, true)} end,
      "[x.max(2, keepdim=True)[0], x.max(2, keepdim=True)[1].float() + 1]")
  red("min_d1", function(t) return {t:min(1)} end, "[x.min(0)[0], x.min(0)[1].float() + 1]")
  red("argmax_all", function(t) return t:argmax() end, "x.argmax().float() + 1", false)
  red("argmax_d2", function(t) return t:argmax(2) end, "x.argmax(1).float() + 1", false)
  red("argmin_d3_keep", function(t) return lg.argmin(t, 3, true) end,
      "x.argmin(2, keepdim=True).float() + 1", false)
  red("var_all", function(t) return t:var() end, "x.var()")
  red("var_d2_biased", function(t) return t:var(2, {unbiased = false}) end, "x.var(1, unbiased=False)")
  red("var_d3_keep", function(t) return lg.var(t, 3, {keepdim = true}) end, "x.var(2, keepdim=True)")
  red("var_correction", function(t) return t:var(1, {correction = 2}) end, "torch.var(x, 0, correction=2)")
  red("std_all_biased", function(t) return t:std(nil, {unbiased = false}) end, "x.std(unbiased=False)")
  red("std_d1_keep", function(t) return t:std(1, {keepdim = true}) end, "x.std(0, keepdim=True)")
  red("cumsum_d2", function(t) return t:cumsum(2) end, "x.cumsum(1)")
  red("cumsum_d3", function(t) return lg.cumsum(t, 3) end, "torch.cumsum(x, 2)")
  red("sort_last", function(t) return {t:sort()} end,
      "[torch.sort(x)[0], torch.sort(x)[1].float() + 1]")
  red("sort_d1_desc", function(t) return {t:sort(1, {descending = true})} end,
      "[torch.sort(x, 0, descending=True)[0], torch.sort(x, 0, descending=True)[1].float() + 1]")
  red("topk_last", function(t) return {t:topk(3)} end,
      "[torch.topk(x, 3)[0], torch.topk(x, 3)[1].float() + 1]")
  red("topk_d2_smallest", function(t) return {t:topk(2, 2, {largest = false})} end,
      "[torch.topk(x, 2, 1, largest=False)[0], torch.topk(x, 2, 1, largest=False)[1].float() + 1]")
  red("softmax_last", function(t) return t:softmax() end, "F.softmax(x, -1)")
  red("softmax_d1", function(t) return t:softmax(1) end, "F.softmax(x, 0)")
  red("log_softmax_d2", function(t) return lg.log_softmax(t, 2) end, "F.log_softmax(x, 1)")
  red("log_softmax_large", function(t) return (t * 50):log_softmax() end, "F.log_softmax(x * 50, -1)")
end
-- ties: stable sort in both (torch needs stable=True), first index for max
do
  local x = lg.randint(0, 3, {4, 6})
  case("sort_ties_stable", {inputs = {x = x},
    lua = function(v) return {v.x:sort(2)} end,
    py = "s = torch.sort(x, dim=1, stable=True); out = [s[0], s[1].float() + 1]"})
  case("sort_ties_stable_desc", {inputs = {x = x},
    lua = function(v) return {v.x:sort(2, {descending = true})} end,
    py = "s = torch.sort(x, dim=1, descending=True, stable=True); out = [s[0], s[1].float() + 1]"})
  case("argmax_ties_first", {inputs = {x = x},
    lua = function(v) return {v.x:argmax(2), v.x:argmin(2), select(2, v.x:max(2))} end,
    py = "out = [x.argmax(1).float() + 1, x.argmin(1).float() + 1, x.max(1)[1].float() + 1]"})
end

-- {------------------------------------------------------------ shapes
do
  local x = R(4, 5)
  local function shp(name, inputs, grad, f, py)
    case(name, {inputs = inputs, grad = grad, lua = f, py = "out = " .. py})
  end
  shp("cat_d1", {a = R(2, 3), b = R(4, 3)}, {"a", "b"},
      function(v) return lg.cat({v.a, v.b}) end, "torch.cat([a, b], 0)")
  shp("cat_d2", {a = R(2, 3), b = R(2, 1)}, {"a", "b"},
      function(v) return lg.cat({v.a, v.b}, 2) end, "torch.cat([a, b], 1)")
  shp("cat_neg1", {a = R(2, 2, 3), b = R(2, 2, 2)}, {"a", "b"},
      function(v) return lg.cat({v.a, v.b}, -1) end, "torch.cat([a, b], -1)")
  shp("stack_d1", {a = R(2, 3), b = R(2, 3)}, {"a", "b"},
      function(v) return lg.stack({v.a, v.b}) end, "torch.stack([a, b], 0)")
  shp("stack_d3", {a = R(2, 3), b = R(2, 3)}, {"a", "b"},
      function(v) return lg.stack({v.a, v.b}, 3) end, "torch.stack([a, b], 2)")
  shp("chunk_3_d2", {x = x}, {"x"}, function(v) return v.x:chunk(3, 2) end,
      "list(torch.chunk(x, 3, 1))")
  shp("chunk_4_d1", {x = R(6, 2)}, {"x"}, function(v) return lg.chunk(v.x, 4) end,
      "list(torch.chunk(x, 4, 0))")
  shp("split_2", {x = x}, {"x"}, function(v) return v.x:split(3, 2) end,
      "list(torch.split(x, 3, 1))")
  shp("split_sizes", {x = x}, {"x"}, function(v) return v.x:split({1, 3}, 1) end,
      "list(torch.split(x, [1, 3], 0))")
  shp("narrow", {x = x}, {"x"}, function(v) return v.x:narrow(2, 2, 3) end, "x.narrow(1, 1, 3)")
  shp("narrow_neg", {x = x}, {"x"}, function(v) return v.x:narrow(2, -3, 2) end, "x.narrow(1, 2, 2)")
  shp("select", {x = x}, {"x"}, function(v) return v.x:select(2, 3) end, "x.select(1, 2)")
  shp("select_neg", {x = x}, {"x"}, function(v) return lg.select(v.x, 1, -1) end, "x.select(0, -1)")
  shp("index_int", {x = R(3, 4, 2)}, {"x"}, function(v) return v.x[2] end, "x[1]")
  shp("index_table", {x = R(3, 4, 2)}, {"x"}, function(v) return v.x[{2, {1, 3}, {}}] end,
      "x[1, 0:3, :]")
  shp("index_table_keep", {x = R(3, 4, 2)}, {"x"}, function(v) return v.x[{{2}, {}, 2}] end,
      "x[1:2, :, 1]")
  shp("transpose", {x = R(2, 3, 4)}, {"x"}, function(v) return v.x:transpose(1, 3) end,
      "x.transpose(0, 2)")
  shp("permute", {x = R(2, 3, 4)}, {"x"}, function(v) return v.x:permute(3, 1, 2) end,
      "x.permute(2, 0, 1)")
  shp("view", {x = R(2, 3, 4)}, {"x"}, function(v) return v.x:view(4, -1) end, "x.view(4, -1)")
  shp("reshape_t", {x = R(3, 4)}, {"x"}, function(v) return v.x:t():reshape(2, 6) end,
      "x.t().reshape(2, 6)")
  shp("expand", {x = R(1, 4)}, {"x"}, function(v) return v.x:expand(3, 4) end, "x.expand(3, 4)")
  shp("expand_new", {x = R(3, 1)}, {"x"}, function(v) return v.x:expand(2, -1, 4) end,
      "x.expand(2, -1, 4)")
  shp("pad_constant", {x = R(2, 3, 4)}, {"x"},
      function(v) return lg.pad(v.x, {1, 2}, {value = 0.5}) end, "F.pad(x, (1, 2), value=0.5)")
  shp("pad_constant_2d", {x = R(2, 3, 4)}, {"x"},
      function(v) return lg.pad(v.x, {1, 0, 2, 1}) end, "F.pad(x, (1, 0, 2, 1))")
  shp("pad_crop", {x = R(2, 3, 4)}, {"x"},
      function(v) return lg.pad(v.x, {-1, 2}) end, "F.pad(x, (-1, 2))")
  shp("pad_reflect", {x = R(1, 2, 4, 5)}, {"x"},
      function(v) return lg.pad(v.x, {2, 1, 1, 3}, {mode = "reflect"}) end,
      "F.pad(x, (2, 1, 1, 3), mode='reflect')")
  shp("pad_reflect_1d", {x = R(2, 3, 5)}, {"x"},
      function(v) return v.x:pad({3, 4}, {mode = "reflect"}) end,
      "F.pad(x, (3, 4), mode='reflect')")
  shp("pad_replicate", {x = R(1, 2, 4, 5)}, {"x"},
      function(v) return lg.pad(v.x, {1, 1, 2, 0}, {mode = "replicate"}) end,
      "F.pad(x, (1, 1, 2, 0), mode='replicate')")
  shp("gather_d2", {x = R(3, 5), i = lg.randint(1, 6, {3, 4})}, {"x"},
      function(v) return v.x:gather(2, v.i) end, "torch.gather(x, 1, (i - 1).long())")
  shp("gather_d1", {x = R(3, 5), i = lg.randint(1, 4, {2, 5})}, {"x"},
      function(v) return lg.gather(v.x, 1, v.i) end, "torch.gather(x, 0, (i - 1).long())")
  shp("index_select", {x = R(4, 3), i = lg.tensor{3, 1, 3, 4}}, {"x"},
      function(v) return v.x:index_select(1, v.i) end, "x.index_select(0, (i - 1).long())")
  shp("index_select_d2", {x = R(4, 3), i = lg.tensor{2, 2}}, {"x"},
      function(v) return lg.index_select(v.x, 2, v.i) end, "x.index_select(1, (i - 1).long())")
  -- in-place ops record no graph: forward only
  shp("scatter_add_", {x = R(3, 5), i = lg.randint(1, 6, {3, 4}), s = R(3, 4)}, {},
      function(v) return v.x:clone():scatter_add_(2, v.i, v.s) end,
      "x.clone().scatter_add_(1, (i - 1).long(), s)")
  shp("scatter_", {x = R(3, 5), i = lg.tensor{{1, 4}, {2, 5}, {3, 1}}, s = R(3, 2)}, {},
      function(v) return v.x:clone():scatter_(2, v.i, v.s) end,
      "x.clone().scatter_(1, (i - 1).long(), s)")
  shp("index_add_", {x = R(4, 3), i = lg.tensor{2, 4, 2}, s = R(3, 3)}, {},
      function(v) return v.x:clone():index_add_(1, v.i, v.s) end,
      "x.clone().index_add_(0, (i - 1).long(), s)")
  shp("index_copy_", {x = R(4, 3), i = lg.tensor{3, 1}, s = R(4, 2)}, {},
      function(v) return v.x:clone():index_copy_(2, v.i, v.s) end,
      "x.clone().index_copy_(1, (i - 1).long(), s)")
  shp("nonzero", {x = lg.randint(0, 2, {3, 4})}, {},
      function(v) return v.x:nonzero() end, "torch.nonzero(x).float() + 1")
end

-- {------------------------------------------------------------ products
do
  local function mm(name, a, b)
    case(name, {inputs = {a = a, b = b}, grad = {"a", "b"}, tol = RED,
                lua = function(v) return v.a:matmul(v.b) end, py = "out = torch.matmul(a, b)"})
  end
  mm("matmul_2d", R(3, 4), R(4, 5))
  mm("matmul_batched", R(2, 3, 4), R(2, 4, 5))
  mm("matmul_batch_mat", R(2, 3, 4), R(4, 5))
  mm("matmul_vec_mat", R(4), R(4, 5))
  mm("matmul_mat_vec", R(3, 4), R(4))
  mm("matmul_large", R(33, 70), R(70, 65))
  case("linear", {inputs = {x = R(5, 4), w = R(3, 4), b = R(3)}, grad = {"x", "w", "b"}, tol = RED,
    lua = function(v) return lg.linear(v.x, v.w, v.b) end, py = "out = F.linear(x, w, b)"})
  case("linear_nobias_1d", {inputs = {x = R(4), w = R(3, 4)}, grad = {"x", "w"}, tol = RED,
    lua = function(v) return lg.linear(v.x, v.w) end, py = "out = F.linear(x, w)"})
end

-- {------------------------------------------------------------ convolutions, pooling
do
  local CONV = 1e-4
  local function cv(name, inputs, grad, f, py)
    case(name, {inputs = inputs, grad = grad, tol = CONV, lua = f, py = "out = " .. py})
  end
  cv("conv2d_s2p1", {x = R(2, 3, 7, 6), w = R(4, 3, 3, 3), b = R(4)}, {"x", "w", "b"},
     function(v) return lg.conv2d(v.x, v.w, v.b, {stride = 2, padding = 1}) end,
     "F.conv2d(x, w, b, stride=2, padding=1)")
  cv("conv2d_pairs_nobias", {x = R(2, 3, 7, 6), w = R(2, 3, 3, 2)}, {"x", "w"},
     function(v) return lg.conv2d(v.x, v.w, nil, {stride = {1, 2}, padding = {2, 0}}) end,
     "F.conv2d(x, w, stride=(1, 2), padding=(2, 0))")
  cv("conv2d_opts_third", {x = R(2, 3, 7, 6), w = R(2, 3, 3, 2)}, {"x", "w"},
     function(v) return lg.conv2d(v.x, v.w, {stride = 2, padding = {1, 0}}) end,
     "F.conv2d(x, w, stride=2, padding=(1, 0))")
  cv("conv_t2d_opts_third", {x = R(1, 2, 3, 3), w = R(2, 3, 3, 3)}, {"x", "w"},
     function(v) return lg.conv_transpose2d(v.x, v.w, {stride = 2, output_padding = 1}) end,
     "F.conv_transpose2d(x, w, stride=2, output_padding=1)")
  cv("conv2d_1x1", {x = R(2, 5, 4, 4), w = R(3, 5, 1, 1), b = R(3)}, {"x", "w", "b"},
     function(v) return lg.conv2d(v.x, v.w, v.b) end, "F.conv2d(x, w, b)")
  cv("conv_t2d_s2p1", {x = R(2, 4, 4, 5), w = R(4, 3, 4, 4), b = R(3)}, {"x", "w", "b"},
     function(v) return lg.conv_transpose2d(v.x, v.w, v.b, {stride = 2, padding = 1}) end,
     "F.conv_transpose2d(x, w, b, stride=2, padding=1)")
  cv("conv_t2d_outpad", {x = R(1, 2, 3, 3), w = R(2, 3, 3, 3)}, {"x", "w"},
     function(v) return lg.conv_transpose2d(v.x, v.w, nil, {stride = 2, padding = 1, output_padding = 1}) end,
     "F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)")
  cv("conv_t2d_pairs", {x = R(1, 2, 3, 4), w = R(2, 2, 3, 2), b = R(2)}, {"x", "w", "b"},
     function(v) return lg.conv_transpose2d(v.x, v.w, v.b, {stride = {2, 1}, padding = {0, 1}}) end,
     "F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(0, 1))")
  local x = R(2, 3, 6, 7)
  cv("avg_pool2d_2", {x = x}, {"x"}, function(v) return lg.avg_pool2d(v.x, 2) end,
     "F.avg_pool2d(x, 2)")
  cv("avg_pool2d_s2p1", {x = x}, {"x"},
     function(v) return lg.avg_pool2d(v.x, 3, {stride = 2, padding = 1}) end,
     "F.avg_pool2d(x, 3, 2, 1)")
  cv("max_pool2d_2", {x = x}, {"x"}, function(v) return lg.max_pool2d(v.x, 2) end,
     "F.max_pool2d(x, 2)")
  cv("max_pool2d_s2p1", {x = x}, {"x"},
     function(v) return lg.max_pool2d(v.x, 3, {stride = 2, padding = 1}) end,
     "F.max_pool2d(x, 3, 2, 1)")
  cv("max_pool2d_s1", {x = x}, {"x"},
     function(v) return lg.max_pool2d(v.x, 2, {stride = 1}) end, "F.max_pool2d(x, 2, 1)")
  cv("upsample_nearest_2", {x = R(2, 3, 3, 4)}, {"x"},
     function(v) return lg.upsample_nearest(v.x, 2) end,
     "F.interpolate(x, scale_factor=2, mode='nearest')")
  cv("upsample_nearest_3", {x = R(1, 2, 2, 3)}, {"x"},
     function(v) return lg.upsample_nearest(v.x, 3) end,
     "F.interpolate(x, scale_factor=3, mode='nearest')")
end

-- {------------------------------------------------------------ batch norm, losses
do
  local BN = 1e-4
  case("batch_norm_train_4d", {
    inputs = {x = R(4, 3, 3, 2) * 2 + 1, rm = R(3), rv = pos(3), w = R(3), b = R(3)},
    grad = {"x", "w", "b"}, tol = BN,
    lua = function(v)
      local rm, rv = v.rm:clone(), v.rv:clone()
      return {lg.batch_norm(v.x, rm, rv, v.w, v.b, true, 0.2, 1e-3), rm, rv}
    end,
    py = [=[
rm, rv = rm.clone(), rv.clone()
out = [F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-3), rm, rv]]=]})
  case("batch_norm_train_2d", {inputs = {x = R(5, 4), rm = R(4), rv = pos(4)},
    grad = {"x"}, tol = BN,
    lua = function(v)
      local rm, rv = v.rm:clone(), v.rv:clone()
      return {lg.batch_norm(v.x, rm, rv, nil, nil, true), rm, rv}
    end,
    py = [=[
rm, rv = rm.clone(), rv.clone()
out = [F.batch_norm(x, rm, rv, training=True), rm, rv]]=]})
  case("batch_norm_eval", {inputs = {x = R(4, 3, 2, 2), rm = R(3), rv = pos(3), w = R(3), b = R(3)},
    grad = {"x", "w", "b"}, tol = BN,
    lua = function(v) return lg.batch_norm(v.x, v.rm, v.rv, v.w, v.b) end,
    py = "out = F.batch_norm(x, rm, rv, w, b)"})

  local LOSS = 1e-4
  local function loss(name, inputs, grad, f, py)
    case(name, {inputs = inputs, grad = grad, tol = LOSS, lua = f, py = "out = " .. py})
  end
  loss("bce_with_logits", {x = R(6, 1) * 3, t = lg.rand(6, 1)}, {"x", "t"},
       function(v) return lg.bce_with_logits(v.x, v.t) end,
       "F.binary_cross_entropy_with_logits(x, t)")
  loss("bce_with_logits_number", {x = R(6, 2) * 10}, {"x"},
       function(v) return lg.bce_with_logits(v.x, 1) end,
       "F.binary_cross_entropy_with_logits(x, torch.ones_like(x))")
  loss("bce_with_logits_zero", {x = R(8) * 30}, {"x"},
       function(v) return lg.bce_with_logits(v.x, 0) end,
       "F.binary_cross_entropy_with_logits(x, torch.zeros_like(x))")
  loss("mse", {a = R(4, 3), b = R(4, 3)}, {"a", "b"},
       function(v) return lg.mse(v.a, v.b) end, "F.mse_loss(a, b)")
  loss("mse_number", {a = R(5, 1)}, {"a"},
       function(v) return lg.mse(v.a, 1) end, "F.mse_loss(a, torch.ones_like(a))")
  loss("l1", {a = R(4, 3), b = R(4, 3)}, {"a", "b"},
       function(v) return lg.l1(v.a, v.b) end, "F.l1_loss(a, b)")
  loss("cross_entropy", {x = R(6, 5) * 2, y = lg.randint(1, 6, {6})}, {"x"},
       function(v) return lg.cross_entropy(v.x, v.y) end,
       "F.cross_entropy(x, (y - 1).long())")
  loss("cross_entropy_list", {x = R(3, 4) * 20}, {"x"},
       function(v) return lg.cross_entropy(v.x, {4, 1, 2}) end,
       "F.cross_entropy(x, torch.tensor([3, 0, 1]))")
  loss("one_hot", {y = lg.tensor{3, 1, 4, 1}}, {},
       function(v) return lg.one_hot(v.y, 5) end,
       "F.one_hot((y - 1).long(), 5).float()")
end

-- {------------------------------------------------------------ linear algebra
-- Eigen- and singular vectors are defined up to sign: compare |V|.  Symmetric
-- inputs are built in the graph as (M + M^T) / 2 so that both libraries see
-- the same symmetric function of M, whatever triangle they read.
do
  local LA = 1e-4
  local function spd(m) return m:matmul(m:t()) + lg.eye(m:size(1)) * 3 end
  case("eigh", {inputs = {m = R(4, 4)}, grad = {"m"}, tol = LA,
    lua = function(v)
      local w, V = la.eigh((v.m + v.m:t()) / 2)
      return {w, V:abs()}
    end,
    py = [=[
w, V = torch.linalg.eigh((m + m.t()) / 2)
out = [w, V.abs()]]=]})
  case("eigh_batched", {inputs = {m = R(2, 3, 3)}, grad = {"m"}, tol = LA,
    lua = function(v)
      local w = la.eigh((v.m + v.m:transpose(2, 3)) / 2)
      return w
    end,
    py = "out = torch.linalg.eigvalsh((m + m.transpose(1, 2)) / 2)"})
  case("svd", {inputs = {a = R(4, 3)}, grad = {"a"}, tol = LA,
    lua = function(v)
      local U, S, Vh = la.svd(v.a)
      return {S, U:abs(), Vh:abs()}
    end,
    py = [=[
U, S, Vh = torch.linalg.svd(a, full_matrices=False)
out = [S, U.abs(), Vh.abs()]]=]})
  case("svd_wide", {inputs = {a = R(2, 5)}, grad = {"a"}, tol = LA,
    lua = function(v) local _, S = la.svd(v.a) return S end,
    py = "out = torch.linalg.svdvals(a)"})
  case("cholesky", {inputs = {m = R(4, 4)}, grad = {"m"}, tol = LA,
    lua = function(v) local s = (v.m + v.m:t()) / 2 return la.cholesky(spd(s)) end,
    py = [=[
s = (m + m.t()) / 2
out = torch.linalg.cholesky(s @ s.t() + 3 * torch.eye(4))]=]})
  local function wellcond(n) return R(n, n) + lg.eye(n) * 4 end
  case("solve", {inputs = {a = wellcond(4), b = R(4, 2)}, grad = {"a", "b"}, tol = LA,
    lua = function(v) return la.solve(v.a, v.b) end, py = "out = torch.linalg.solve(a, b)"})
  case("solve_vec", {inputs = {a = wellcond(3), b = R(3)}, grad = {"a", "b"}, tol = LA,
    lua = function(v) return la.solve(v.a, v.b) end, py = "out = torch.linalg.solve(a, b)"})
  case("inv", {inputs = {a = wellcond(4)}, grad = {"a"}, tol = LA,
    lua = function(v) return la.inv(v.a) end, py = "out = torch.linalg.inv(a)"})
  case("det", {inputs = {a = R(3, 3) + lg.eye(3)}, grad = {"a"}, tol = LA,
    lua = function(v) return la.det(v.a) end, py = "out = torch.linalg.det(a)"})
  case("det_batched", {inputs = {a = R(2, 3, 3)}, grad = {"a"}, tol = LA,
    lua = function(v) return la.det(v.a) end, py = "out = torch.linalg.det(a)"})
  case("slogdet", {inputs = {a = R(4, 4)}, grad = {"a"}, tol = LA,
    lua = function(v) return {la.slogdet(v.a)} end,
    -- torch's sign output requires grad (with a zero gradient); luagan's is
    -- outside the graph, as documented: detach torch's
    py = "s, l = torch.linalg.slogdet(a); out = [s.detach(), l]"})
end

-- {------------------------------------------------------------ nn modules
-- luagan's own initial weights (perturbed where the init is constant) go to
-- torch through the inputs; outputs and parameter gradients are compared.
do
  local NNT = 1e-4
  local function perturb(m)
    lg.no_grad(function()
      for _, p in ipairs(m:parameters()) do p:add_(R(table.unpack(p.shape)) * 0.1) end
    end)
  end
  -- mod(name, m, x, ctor, opts): the inputs are x and m's parameters and
  -- opts.buffers, by state_dict name with "." -> "_" and a "p_" prefix;
  -- torch's module is built by the Python expression ctor and loaded with
  -- them.  The outputs are opts.lua(m, x) / opts.py (Python, with m and x),
  -- by default m(x), then the buffers after the call.
  local function mod(name, m, x, ctor, opts)
    opts = opts or {}
    perturb(m)
    local function var(n) return "p_" .. n:gsub("%.", "_") end
    local inputs, grad, names = {x = x}, {}, {}
    if opts.xgrad ~= false then grad[1] = "x" end
    for pname, p in m:named_parameters() do
      inputs[var(pname)] = p
      grad[#grad + 1] = var(pname)
      names[#names + 1] = pname
    end
    local bufs = opts.buffers or {}
    for _, b in ipairs(bufs) do inputs[var(b)] = m:state_dict()[b]:clone() end
    local dict, lhs = {}, {}
    for _, n in ipairs(names) do
      dict[#dict + 1] = ("%q: %s"):format(n, var(n))
      lhs[#lhs + 1] = var(n)
    end
    for _, b in ipairs(bufs) do dict[#dict + 1] = ("%q: %s"):format(b, var(b)) end
    local py = {"m = " .. ctor, "_t = load(m, {" .. table.concat(dict, ", ") .. "})"}
    if #lhs > 0 then py[#py + 1] = table.concat(lhs, ", ") .. ", = _t[:" .. #lhs .. "]" end
    py[#py + 1] = ("out = list(%s) + _t[%d:]"):format(opts.py or "[m(" .. (opts.xexpr or "x") .. ")]", #lhs)
    case(name, {inputs = inputs, grad = grad, tol = opts.tol or NNT,
      lua = function(v)
        local r = opts.lua and opts.lua(m, v.x) or {m(v.x)}
        local sd = m:state_dict()
        for _, b in ipairs(bufs) do r[#r + 1] = sd[b] end
        return r
      end,
      py = table.concat(py, "\n")})
  end
  mod("nn_Linear", nn.Linear(4, 3), R(5, 4), "nn.Linear(4, 3)")
  mod("nn_Linear_nobias", nn.Linear(4, 3, {bias = false}), R(5, 4), "nn.Linear(4, 3, bias=False)")
  mod("nn_Conv1d", nn.Conv1d(3, 4, 3, {stride = 2, padding = 1}), R(2, 3, 9),
      "nn.Conv1d(3, 4, 3, stride=2, padding=1)")
  mod("nn_Conv2d", nn.Conv2d(3, 4, 4, 2, 1), R(2, 3, 8, 8), "nn.Conv2d(3, 4, 4, 2, 1)")
  mod("nn_ConvTranspose2d", nn.ConvTranspose2d(4, 3, 4, 2, 1), R(2, 4, 3, 3),
      "nn.ConvTranspose2d(4, 3, 4, 2, 1)")
  mod("nn_Conv2d_groups", nn.Conv2d(6, 4, 3, {stride = 2, padding = 1, groups = 2}), R(2, 6, 7, 7),
      "nn.Conv2d(6, 4, 3, stride=2, padding=1, groups=2)")
  mod("nn_Conv2d_depthwise", nn.Conv2d(4, 8, 3, {padding = 2, dilation = 2, groups = 4}), R(2, 4, 6, 6),
      "nn.Conv2d(4, 8, 3, padding=2, dilation=2, groups=4)")
  mod("nn_ConvTranspose2d_groups", nn.ConvTranspose2d(6, 9, 4, {stride = 2, padding = 1, groups = 3}),
      R(2, 6, 3, 3), "nn.ConvTranspose2d(6, 9, 4, stride=2, padding=1, groups=3)")
  mod("nn_Conv1d_groups", nn.Conv1d(4, 6, 3, {padding = 1, groups = 2}), R(3, 4, 9),
      "nn.Conv1d(4, 6, 3, padding=1, groups=2)")
  mod("nn_BatchNorm1d", nn.BatchNorm1d(5), R(6, 5) * 3 + 2, "nn.BatchNorm1d(5)",
      {buffers = {"running_mean", "running_var"}})
  mod("nn_BatchNorm1d_3d", nn.BatchNorm1d(3, {momentum = 0.3}), R(4, 3, 5), "nn.BatchNorm1d(3, momentum=0.3)",
      {buffers = {"running_mean", "running_var"}})
  mod("nn_BatchNorm2d", nn.BatchNorm2d(3), R(4, 3, 2, 3) - 1, "nn.BatchNorm2d(3)",
      {buffers = {"running_mean", "running_var"}})
  do
    local bn = nn.BatchNorm2d(3)
    lg.no_grad(function() bn.running_mean:copy_(R(3)); bn.running_var:copy_(pos(3)) end)
    bn:eval()
    mod("nn_BatchNorm2d_eval", bn, R(2, 3, 2, 2), "nn.BatchNorm2d(3).eval()",
        {buffers = {"running_mean", "running_var"}})
  end
  mod("nn_LayerNorm", nn.LayerNorm({4, 5}), R(2, 3, 4, 5), "nn.LayerNorm([4, 5])")
  mod("nn_LayerNorm_1", nn.LayerNorm(6), R(3, 6) * 4, "nn.LayerNorm(6)")
  mod("nn_GroupNorm", nn.GroupNorm(2, 4), R(2, 4, 3, 3), "nn.GroupNorm(2, 4)")
  mod("nn_InstanceNorm2d", nn.InstanceNorm2d(3, {affine = true}), R(2, 3, 4, 4),
      "nn.InstanceNorm2d(3, affine=True)")
  mod("nn_InstanceNorm2d_plain", nn.InstanceNorm2d(3), R(2, 3, 4, 4), "nn.InstanceNorm2d(3)")
  mod("nn_Conv2d_dilation", nn.Conv2d(2, 3, 3, {padding = 2, dilation = 2}), R(2, 2, 7, 6),
      "nn.Conv2d(2, 3, 3, padding=2, dilation=2)")
  mod("nn_Conv2d_pairs", nn.Conv2d(2, 3, {3, 2}, {stride = {2, 1}, padding = {1, 0}, bias = false}),
      R(1, 2, 6, 5), "nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), bias=False)")
  mod("nn_Conv1d_dilation", nn.Conv1d(2, 3, 3, {dilation = 3, padding = 1}), R(2, 2, 11),
      "nn.Conv1d(2, 3, 3, dilation=3, padding=1)")
  mod("nn_ConvTranspose2d_outpad", nn.ConvTranspose2d(3, 2, 3, 2, 1, 1), R(2, 3, 4, 4),
      "nn.ConvTranspose2d(3, 2, 3, 2, 1, 1)")
  mod("nn_ConvTranspose2d_dilation", nn.ConvTranspose2d(2, 2, 3, {stride = 2, dilation = 2}),
      R(1, 2, 3, 3), "nn.ConvTranspose2d(2, 2, 3, stride=2, dilation=2)")
  mod("nn_BatchNorm2d_noaffine", nn.BatchNorm2d(3, {affine = false}), R(3, 3, 2, 2), "nn.BatchNorm2d(3, affine=False)",
      {buffers = {"running_mean", "running_var", "num_batches_tracked"}})
  mod("nn_BatchNorm1d_nostats", nn.BatchNorm1d(4, {track_running_stats = false}), R(5, 4),
      "nn.BatchNorm1d(4, track_running_stats=False)")
  mod("nn_LayerNorm_noaffine", nn.LayerNorm(5, {elementwise_affine = false, eps = 1e-3}), R(3, 5),
      "nn.LayerNorm(5, eps=1e-3, elementwise_affine=False)")
  mod("nn_GroupNorm_noaffine", nn.GroupNorm(3, 6, {affine = false}), R(2, 6, 5), "nn.GroupNorm(3, 6, affine=False)")
  mod("nn_GroupNorm_1", nn.GroupNorm(1, 4), R(3, 4, 2, 2), "nn.GroupNorm(1, 4)")
  mod("nn_InstanceNorm1d_stats", nn.InstanceNorm1d(3, {track_running_stats = true}), R(2, 3, 6),
      "nn.InstanceNorm1d(3, track_running_stats=True)", {buffers = {"running_mean", "running_var"}})
  mod("nn_InstanceNorm2d_stats_affine", nn.InstanceNorm2d(2, {affine = true, track_running_stats = true,
      momentum = 0.5}), R(3, 2, 3, 3), "nn.InstanceNorm2d(2, affine=True, track_running_stats=True, momentum=0.5)",
      {buffers = {"running_mean", "running_var"}})
  mod("nn_activations", nn.Sequential(nn.LeakyReLU(0.2), nn.Tanh(), nn.Softplus(), nn.Sigmoid(), nn.ReLU()),
      R(3, 4) * 2, "nn.Sequential(nn.LeakyReLU(0.2), nn.Tanh(), nn.Softplus(), nn.Sigmoid(), nn.ReLU())")
  mod("nn_Flatten_Upsample", nn.Sequential(nn.Upsample(2), nn.Flatten()), R(2, 1, 2, 2),
      "nn.Sequential(nn.Upsample(scale_factor=2), nn.Flatten())")
  -- small DCGAN pieces, training mode
  mod("dcgan_G", nn.Sequential(nn.ConvTranspose2d(4, 6, 3, 1, 0, {bias = false}), nn.BatchNorm2d(6), nn.ReLU(),
        nn.ConvTranspose2d(6, 1, 4, 2, 1, {bias = false}), nn.Tanh()), R(3, 4, 1, 1),
      "nn.Sequential(nn.ConvTranspose2d(4, 6, 3, 1, 0, bias=False), nn.BatchNorm2d(6), nn.ReLU(), " ..
      "nn.ConvTranspose2d(6, 1, 4, 2, 1, bias=False), nn.Tanh())",
      {buffers = {"1.running_mean", "1.running_var"}})
  mod("dcgan_D", nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1, {bias = false}),
        nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 2 * 2, 1)), R(3, 1, 8, 8),
      "nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1, bias=False), " ..
      "nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 2 * 2, 1))",
      {buffers = {"3.running_mean", "3.running_var"}})
  -- second order: a WGAN-GP penalty mean((||grad_x D(x)|| - 1)^2), whose
  -- gradient with respect to D's parameters goes through D's backward
  local gp_py = [=[
def gp(x):
    g, = torch.autograd.grad(m(x).sum(), x, create_graph=True)
    return ((g.reshape(g.shape[0], -1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
]=]
  local function gp(m, x)
    local g = lg.grad(m(x):sum(), x, {create_graph = true})
    return {((((g:reshape(g:size(1), -1) ^ 2):sum(2) + 1e-12):sqrt() - 1) ^ 2):mean()}
  end
  local function gpmod(name, m, x, ctor, tol)
    mod(name, m, x, ctor, {lua = gp, py = "[gp(x)]", tol = tol})
    cases[#cases].py = gp_py .. cases[#cases].py
  end
  gpmod("gp_mlp_leaky", nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)), R(5, 3),
        "nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))")
  gpmod("gp_mlp_smooth", nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 6), nn.Softplus(),
          nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 1)), R(5, 3),
        "nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 6), nn.Softplus(), " ..
        "nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 1))")
  gpmod("gp_conv_layernorm", nn.Sequential(nn.Conv2d(1, 3, 3, 2, 1), nn.LayerNorm({3, 3, 3}), nn.LeakyReLU(0.2),
          nn.Flatten(), nn.Linear(27, 1)), R(4, 1, 6, 6),
        "nn.Sequential(nn.Conv2d(1, 3, 3, 2, 1), nn.LayerNorm([3, 3, 3]), nn.LeakyReLU(0.2), " ..
        "nn.Flatten(), nn.Linear(27, 1))", 1e-3)
  gpmod("gp_conv_t_groupnorm", nn.Sequential(nn.ConvTranspose2d(2, 4, 4, 2, 1), nn.GroupNorm(2, 4), nn.Softplus(),
          nn.Identity(), nn.Flatten(), nn.Linear(4 * 6 * 6, 1)), R(3, 2, 3, 3),
        "nn.Sequential(nn.ConvTranspose2d(2, 4, 4, 2, 1), nn.GroupNorm(2, 4), nn.Softplus(), nn.Identity(), " ..
        "nn.Flatten(), nn.Linear(4 * 6 * 6, 1))", 1e-3)
  mod("nn_Embedding", nn.Embedding(10, 4), lg.tensor{{1, 3, 10}, {3, 3, 7}},
      "nn.Embedding(10, 4)", {xgrad = false, xexpr = "(x - 1).long()"})
  mod("nn_Embedding_padding", nn.Embedding(6, 3, 2), lg.tensor{2, 1, 2, 6},
      "nn.Embedding(6, 3, padding_idx=1)", {xgrad = false, xexpr = "(x - 1).long()"})
  -- 3-D layers, as in the video GAN of Vondrick et al. 2016: functional
  -- forms, modules, a small generator and a critic under a gradient penalty
  do
    local function cv3(name, inputs, grad, f, py)
      case(name, {inputs = inputs, grad = grad, tol = NNT, lua = f, py = "out = " .. py})
    end
    cv3("conv3d_s2p1", {x = R(2, 3, 5, 6, 7), w = R(4, 3, 3, 3, 3), b = R(4)}, {"x", "w", "b"},
        function(v) return lg.conv3d(v.x, v.w, v.b, {stride = 2, padding = 1}) end,
        "F.conv3d(x, w, b, stride=2, padding=1)")
    cv3("conv3d_triples_nobias", {x = R(2, 2, 5, 6, 7), w = R(3, 2, 2, 3, 2)}, {"x", "w"},
        function(v) return lg.conv3d(v.x, v.w, {stride = {1, 2, 3}, padding = {1, 0, 2}}) end,
        "F.conv3d(x, w, stride=(1, 2, 3), padding=(1, 0, 2))")
    cv3("conv3d_1x1x1", {x = R(3, 5, 2, 3, 4), w = R(2, 5, 1, 1, 1), b = R(2)}, {"x", "w", "b"},
        function(v) return lg.conv3d(v.x, v.w, v.b) end, "F.conv3d(x, w, b)")
    cv3("conv_t3d_s2p1", {x = R(2, 4, 2, 3, 3), w = R(4, 3, 4, 4, 4), b = R(3)}, {"x", "w", "b"},
        function(v) return lg.conv_transpose3d(v.x, v.w, v.b, {stride = 2, padding = 1}) end,
        "F.conv_transpose3d(x, w, b, stride=2, padding=1)")
    cv3("conv_t3d_outpad", {x = R(1, 2, 2, 3, 2), w = R(2, 3, 3, 2, 3)}, {"x", "w"},
        function(v) return lg.conv_transpose3d(v.x, v.w, {stride = {2, 1, 3}, padding = {1, 0, 1},
          output_padding = {1, 0, 2}}) end,
        "F.conv_transpose3d(x, w, stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2))")
    cv3("batch_norm_5d", {x = R(3, 2, 2, 3, 2) * 2 + 1, w = R(2), b = R(2)}, {"x", "w", "b"},
        function(v) return lg.batch_norm(v.x, nil, nil, v.w, v.b, true) end,
        "F.batch_norm(x, None, None, w, b, training=True)")
    mod("nn_Conv3d", nn.Conv3d(3, 4, 4, 2, 1), R(2, 3, 4, 8, 8), "nn.Conv3d(3, 4, 4, 2, 1)")
    mod("nn_Conv3d_dilation", nn.Conv3d(2, 3, 3, {padding = {2, 1, 1}, dilation = {2, 1, 1}}),
        R(1, 2, 6, 5, 5), "nn.Conv3d(2, 3, 3, padding=(2, 1, 1), dilation=(2, 1, 1))")
    mod("nn_ConvTranspose3d", nn.ConvTranspose3d(4, 3, 4, 2, 1), R(2, 4, 2, 3, 3),
        "nn.ConvTranspose3d(4, 3, 4, 2, 1)")
    mod("nn_ConvTranspose3d_outpad", nn.ConvTranspose3d(3, 2, {3, 2, 3}, {stride = {2, 1, 2},
        padding = {1, 0, 1}, output_padding = {1, 0, 1}, bias = false}), R(2, 3, 2, 3, 3),
        "nn.ConvTranspose3d(3, 2, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), " ..
        "output_padding=(1, 0, 1), bias=False)")
    mod("nn_BatchNorm3d", nn.BatchNorm3d(3), R(4, 3, 2, 3, 3) - 1, "nn.BatchNorm3d(3)",
        {buffers = {"running_mean", "running_var"}})
    local bn = nn.BatchNorm3d(2)
    lg.no_grad(function() bn.running_mean:copy_(R(2)); bn.running_var:copy_(pos(2)) end)
    bn:eval()
    mod("nn_BatchNorm3d_eval", bn, R(2, 2, 2, 2, 2), "nn.BatchNorm3d(2).eval()",
        {buffers = {"running_mean", "running_var"}})
    mod("vgan_G", nn.Sequential(nn.ConvTranspose3d(4, 6, {2, 3, 3}, 1, 0, {bias = false}),
          nn.BatchNorm3d(6), nn.ReLU(), nn.ConvTranspose3d(6, 1, 4, 2, 1, {bias = false}), nn.Tanh()),
        R(3, 4, 1, 1, 1),
        "nn.Sequential(nn.ConvTranspose3d(4, 6, (2, 3, 3), 1, 0, bias=False), nn.BatchNorm3d(6), " ..
        "nn.ReLU(), nn.ConvTranspose3d(6, 1, 4, 2, 1, bias=False), nn.Tanh())",
        {buffers = {"1.running_mean", "1.running_var"}})
    gpmod("gp_conv3d_critic", nn.Sequential(nn.Conv3d(1, 3, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv3d(3, 4, 3, 1, 1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 2 * 2 * 2, 1)),
          R(3, 1, 4, 4, 4),
          "nn.Sequential(nn.Conv3d(1, 3, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv3d(3, 4, 3, 1, 1), " ..
          "nn.Tanh(), nn.Flatten(), nn.Linear(4 * 2 * 2 * 2, 1))", 1e-3)
  end
  -- weight normalisation against torch.nn.utils.weight_norm (dim 1 here is its dim=0;
  -- false is its dim=None), the gradients of g, v and the bias; GaussianNoise in eval
  -- mode is the identity
  local WN = "torch.nn.utils.weight_norm"
  mod("nn_weight_norm_Linear", nn.weight_norm(nn.Linear(4, 3)), R(5, 4), WN .. "(nn.Linear(4, 3))")
  mod("nn_weight_norm_Linear_dim2", nn.weight_norm(nn.Linear(4, 3), "weight", 2), R(5, 4),
      WN .. "(nn.Linear(4, 3), dim=1)")
  mod("nn_weight_norm_Linear_whole", nn.weight_norm(nn.Linear(4, 3), "weight", false), R(5, 4),
      WN .. "(nn.Linear(4, 3), dim=None)")
  mod("nn_weight_norm_Conv2d", nn.weight_norm(nn.Conv2d(3, 4, 3, 2, 1)), R(2, 3, 6, 6),
      WN .. "(nn.Conv2d(3, 4, 3, 2, 1))")
  mod("nn_ssl_D_eval", nn.Sequential(nn.GaussianNoise(0.3), nn.weight_norm(nn.Linear(4, 6)), nn.ReLU(),
        nn.GaussianNoise(0.5), nn.weight_norm(nn.Linear(6, 3))):eval(), R(5, 4),
      "nn.Sequential(nn.Identity(), " .. WN .. "(nn.Linear(4, 6)), nn.ReLU(), nn.Identity(), " ..
      WN .. "(nn.Linear(6, 3)))")
  -- PReLU, ELU, SiLU, Softmax, LogSoftmax (our dim 2 is torch's dim=1), PixelShuffle
  mod("nn_PReLU_channels", nn.PReLU(3), R(2, 3, 4, 4), "nn.PReLU(3)")
  mod("nn_PReLU_shared", nn.PReLU(), R(5, 4), "nn.PReLU()")
  mod("nn_ELU", nn.ELU(0.5), R(5, 4) * 3, "nn.ELU(0.5)")
  mod("nn_SiLU", nn.SiLU(), R(5, 4) * 3, "nn.SiLU()")
  mod("nn_Softmax", nn.Softmax(2), R(5, 4) * 3, "nn.Softmax(dim=1)")
  mod("nn_LogSoftmax_last", nn.LogSoftmax(-1), R(2, 3, 4) * 3, "nn.LogSoftmax(dim=-1)")
  mod("nn_PixelShuffle", nn.PixelShuffle(2), R(2, 8, 3, 3), "nn.PixelShuffle(2)")
  mod("nn_Upsample_bilinear", nn.Upsample(3, {mode = "bilinear"}), R(2, 3, 4, 5),
      "nn.Upsample(scale_factor=3, mode='bilinear')")
  mod("nn_AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d({3, 4}), R(2, 3, 7, 9), "nn.AdaptiveAvgPool2d((3, 4))")
  mod("nn_AdaptiveAvgPool2d_global", nn.AdaptiveAvgPool2d(1), R(2, 3, 5, 5), "nn.AdaptiveAvgPool2d(1)")
  mod("nn_ReflectionPad2d", nn.ReflectionPad2d({1, 2, 3, 0}), R(2, 3, 4, 5), "nn.ReflectionPad2d((1, 2, 3, 0))")
  mod("nn_ReplicationPad2d", nn.ReplicationPad2d(2), R(2, 3, 4, 5), "nn.ReplicationPad2d(2)")
  mod("nn_ZeroPad2d", nn.ZeroPad2d({1, 0, -1, 2}), R(2, 3, 4, 5), "nn.ZeroPad2d((1, 0, -1, 2))")
  -- spectral normalisation against torch.nn.utils.spectral_norm: in training mode one
  -- (or three) power iterations from the same u and v (the buffers are compared after
  -- the call), in eval mode the stored u and v; ConvTranspose2d's rows are its dim 2,
  -- torch's dim=1, by default on both sides
  local SN, SNB = "torch.nn.utils.spectral_norm", {buffers = {"weight_u", "weight_v"}}
  mod("nn_spectral_norm_Linear", nn.spectral_norm(nn.Linear(4, 3)), R(5, 4),
      SN .. "(nn.Linear(4, 3))", SNB)
  mod("nn_spectral_norm_Linear_3its", nn.spectral_norm(nn.Linear(4, 3), {n_power_iterations = 3}),
      R(5, 4), SN .. "(nn.Linear(4, 3), n_power_iterations=3)", SNB)
  mod("nn_spectral_norm_Conv2d", nn.spectral_norm(nn.Conv2d(3, 4, 4, 2, 1)), R(2, 3, 8, 8),
      SN .. "(nn.Conv2d(3, 4, 4, 2, 1))", SNB)
  mod("nn_spectral_norm_ConvTranspose2d", nn.spectral_norm(nn.ConvTranspose2d(4, 3, 4, 2, 1)),
      R(2, 4, 3, 3), SN .. "(nn.ConvTranspose2d(4, 3, 4, 2, 1))", SNB)
  mod("nn_spectral_norm_eval", nn.spectral_norm(nn.Linear(4, 3)):eval(), R(5, 4),
      SN .. "(nn.Linear(4, 3)).eval()", SNB)
  gpmod("gp_weight_norm_mlp", nn.Sequential(nn.weight_norm(nn.Linear(3, 6)), nn.Softplus(),
          nn.weight_norm(nn.Linear(6, 1))), R(5, 3),
        "nn.Sequential(" .. WN .. "(nn.Linear(3, 6)), nn.Softplus(), " .. WN .. "(nn.Linear(6, 1)))")
end


-- {------------------------------------------------------------ edge cases
-- Ties, boundaries, NaN and infinities, strided views and sizes large
-- enough for the threaded and blocked paths.
do
  local nan, inf = 0 / 0, math.huge
  local function ec(name, inputs, grad, f, py, tol)
    case(name, {inputs = inputs, grad = grad, tol = tol, lua = f, py = "out = " .. py})
  end
  local kinks = lg.tensor{-1, -0.5, 0, 0.5, 1, 2}
  ec("relu_at_0", {x = kinks}, {"x"}, function(v) return v.x:relu() end, "F.relu(x)")
  ec("leaky_relu_at_0", {x = kinks}, {"x"}, function(v) return v.x:leaky_relu(0.2) end,
     "F.leaky_relu(x, 0.2)")
  ec("abs_at_0", {x = kinks}, {"x"}, function(v) return v.x:abs() end, "x.abs()")
  ec("clamp_at_bounds", {x = kinks}, {"x"}, function(v) return v.x:clamp(-0.5, 1) end,
     "x.clamp(-0.5, 1)")
  ec("pow_neg_base", {x = kinks}, {"x"}, function(v) return v.x ^ 3 end, "x ** 3")
  ec("pow_2_at_0", {x = kinks}, {"x"}, function(v) return v.x ^ 2 end, "x ** 2")
  ec("pow_0", {x = kinks}, {"x"}, function(v) return v.x ^ 0 end, "x ** 0")
  ec("pow_half_at_0", {x = lg.tensor{0, 1, 4}}, {"x"}, function(v) return v.x ^ 0.5 end,
     "x ** 0.5")
  ec("pow_neg_half_at_0", {x = lg.tensor{0, 1, 4}}, {"x"}, function(v) return v.x ^ -0.5 end,
     "x ** -0.5")
  ec("sqrt_at_0", {x = lg.tensor{0, 1, 4}}, {"x"}, function(v) return v.x:sqrt() end, "x.sqrt()")
  ec("log_at_0", {x = lg.tensor{0, 1, 2}}, {}, function(v) return v.x:log() end, "x.log()")
  ec("exp_overflow", {x = lg.tensor{-200, 0, 88, 100}}, {}, function(v) return v.x:exp() end,
     "x.exp()")
  ec("sigmoid_extremes", {x = lg.tensor{-200, -20, 0, 20, 200}}, {"x"},
     function(v) return v.x:sigmoid() end, "torch.sigmoid(x)")
  ec("tanh_extremes", {x = lg.tensor{-50, -5, 0, 5, 50}}, {"x"},
     function(v) return v.x:tanh() end, "torch.tanh(x)")
  ec("softplus_extremes", {x = lg.tensor{-100, -20, 0, 19, 21, 100}}, {"x"},
     function(v) return v.x:softplus() end, "F.softplus(x)")
  ec("nan_elementwise", {x = lg.tensor{nan, 1, -1}}, {},
     function(v) return {v.x:clamp(0, 0.5), v.x:sign(), v.x:abs(), v.x:round(), v.x:exp(),
                         v.x:sigmoid(), v.x:leaky_relu(0.2), v.x:tanh()} end,
     "[x.clamp(0, 0.5), x.sign(), x.abs(), x.round(), x.exp(), x.sigmoid(), " ..
     "F.leaky_relu(x, 0.2), x.tanh()]")
  ec("relu_nan", {x = lg.tensor{nan, 1, -1}}, {}, function(v) return v.x:relu() end, "F.relu(x)")
  ec("relu_nan_grad", {x = lg.tensor{nan, 1, -1, 0, -inf}}, {"x"},
     function(v) return {v.x:relu(), v.x:leaky_relu(0.2)} end, "[F.relu(x), F.leaky_relu(x, 0.2)]")
  ec("nan_compare", {x = lg.tensor{nan, 1, -1}}, {},
     function(v) return {v.x:gt(0), v.x:eq(v.x), v.x:ne(v.x), v.x:le(inf)} end,
     "[(x > 0).float(), (x == x).float(), (x != x).float(), (x <= float('inf')).float()]")
  ec("nan_reductions", {x = lg.tensor{{1, nan, 3}, {4, 5, -6}}}, {},
     function(v) return {v.x:max(), v.x:min(), v.x:argmax(2), v.x:argmin(2), v.x:sum(2),
                         select(2, v.x:max(2)), (v.x:sort(2))} end,
     "[x.max(), x.min(), x.argmax(1).float() + 1, x.argmin(1).float() + 1, x.sum(1), " ..
     "x.max(1)[1].float() + 1, x.sort(1)[0]]")
  ec("float32_rounding_cmp", {x = lg.tensor{0.1, 0.2, 0.3}}, {},
     function(v) return {v.x:eq(0.1), v.x:gt(0.2), v.x:le(0.3)} end,
     "[(x == 0.1).float(), (x > 0.2).float(), (x <= 0.3).float()]")
  local ties = lg.tensor{{1, 3, 3, 2}, {-1, -1, 0, -1}}
  ec("max_all_ties_grad", {x = ties}, {"x"}, function(v) return v.x:max() end, "x.max()")
  ec("min_all_ties_grad", {x = ties}, {"x"}, function(v) return v.x:min() end, "x.min()")
  ec("max_all_nan_grad", {x = lg.tensor{{1, nan, 3}, {nan, 5, -6}}}, {"x"},
     function(v) return {v.x:max(), v.x:min()} end, "[x.max(), x.min()]")
  ec("max_all_signed_zero_grad", {x = lg.tensor{0, -0.0, -1, -0.0}}, {"x"},
     function(v) return {v.x:max(), (-v.x):min()} end, "[x.max(), (-x).min()]")
  ec("max_dim_ties_grad", {x = ties}, {"x"}, function(v) return (v.x:max(2)) end, "x.max(1)[0]")
  ec("min_dim_ties_grad", {x = ties}, {"x"}, function(v) return (v.x:min(2)) end, "x.min(1)[0]")
  ec("sort_ties_grad", {x = ties}, {"x"}, function(v) return (v.x:sort(2)) end,
     "torch.sort(x, dim=1, stable=True)[0]")
  ec("max_pool_ties", {x = lg.ones(1, 1, 4, 4)}, {"x"},
     function(v) return lg.max_pool2d(v.x, 2, {stride = 1}) end, "F.max_pool2d(x, 2, 1)")
  ec("max_pool_ties_pad", {x = lg.zeros(1, 1, 4, 4) - 1}, {"x"},
     function(v) return lg.max_pool2d(v.x, 3, {stride = 2, padding = 1}) end,
     "F.max_pool2d(x, 3, 2, 1)")
  ec("var_one_element", {x = R(3, 1)}, {}, function(v) return {v.x:var(2), v.x:std(2), v.x:var()} end,
     "[x.var(1), x.std(1), x.var()]")
  ec("std_constant_grad", {x = lg.ones(2, 3)}, {"x"}, function(v) return v.x:std(2) end, "x.std(1)")
  ec("std_constant_row_grad", {x = lg.tensor{{2, 2, 2}, {1, 2, 4}}}, {"x"},
     function(v) return {v.x:std(2), v.x:std(1, {unbiased = false})} end,
     "[x.std(1), x.std(0, unbiased=False)]")
  ec("var_large_offset", {x = R(50) + 1000}, {"x"}, function(v) return v.x:var() end, "x.var()", 1e-3)
  ec("mask_value_grad", {m = lg.tensor{1, 0, 1, 0}, x = R(4), val = lg.tensor(0.5)}, {"x", "val"},
     function(v) return v.x:masked_fill(v.m, v.val) end, "x.masked_fill(m != 0, val)")
  -- strided inputs: transposes, expands, narrows
  local a = R(5, 4)
  ec("strided_exp", {a = a}, {"a"}, function(v) return v.a:t():exp() end, "a.t().exp()")
  ec("strided_add", {a = a, b = R(4, 5)}, {"a", "b"}, function(v) return v.a:t() + v.b end,
     "a.t() + b")
  ec("strided_sum", {a = R(3, 4, 5)}, {"a"},
     function(v) return v.a:permute(3, 1, 2):sum(2) end, "a.permute(2, 0, 1).sum(1)", 1e-4)
  ec("strided_matmul", {a = R(4, 3), b = R(5, 4)}, {"a", "b"},
     function(v) return v.a:t():matmul(v.b:t()) end, "a.t() @ b.t()", 1e-4)
  ec("strided_softmax", {a = R(4, 6)}, {"a"},
     function(v) return v.a:t():softmax(1) end, "a.t().softmax(0)", 1e-4)
  ec("strided_cumsum", {a = R(4, 6)}, {"a"},
     function(v) return v.a:narrow(2, 2, 4):cumsum(1) end, "a.narrow(1, 1, 4).cumsum(0)", 1e-4)
  ec("expanded_mul", {a = R(3, 1), b = R(1, 4)}, {"a", "b"},
     function(v) return v.a:expand(3, 4) * v.b:expand(3, 4) end, "a.expand(3, 4) * b.expand(3, 4)")
  ec("neg_dims", {a = R(2, 3, 4)}, {"a"},
     function(v) return {v.a:transpose(-1, -2), v.a:softmax(-2), v.a:sum(-3), v.a:narrow(-1, 2, 2)} end,
     "[a.transpose(-1, -2), a.softmax(-2), a.sum(-3), a.narrow(-1, 1, 2)]", 1e-4)
  -- sizes for the threaded / blocked paths
  ec("big_elementwise", {a = R(300, 301), b = R(301)}, {"a", "b"},
     function(v) return (v.a * v.b):tanh() end, "torch.tanh(a * b)")
  ec("big_sum", {a = R(300, 301)}, {"a"}, function(v) return {v.a:sum(), v.a:sum(1), v.a:mean(2)} end,
     "[a.sum(), a.sum(0), a.mean(1)]", 1e-4)
  ec("big_matmul", {a = R(130, 257), b = R(257, 96)}, {"a", "b"},
     function(v) return v.a:matmul(v.b) end, "a @ b", 1e-4)
  ec("big_conv2d", {x = R(4, 16, 16, 16), w = R(32, 16, 3, 3) * 0.1, b = R(32)}, {"x", "w", "b"},
     function(v) return lg.conv2d(v.x, v.w, v.b, {padding = 1}) end,
     "F.conv2d(x, w, b, padding=1)", 1e-4)
  ec("big_conv_t2d", {x = R(4, 32, 8, 8), w = R(32, 16, 4, 4) * 0.1}, {"x", "w"},
     function(v) return lg.conv_transpose2d(v.x, v.w, nil, {stride = 2, padding = 1}) end,
     "F.conv_transpose2d(x, w, stride=2, padding=1)", 1e-4)
  ec("big_batch_norm", {x = R(16, 8, 8, 8) * 3 + 5}, {"x"},
     function(v) return lg.batch_norm(v.x, nil, nil, nil, nil, true) end,
     "F.batch_norm(x, None, None, training=True)", 1e-4)
  -- more boundaries
  ec("log_softmax_neg_inf", {x = lg.tensor{{0, -inf, 1}, {-inf, 2, 2}}}, {},
     function(v) return {v.x:log_softmax(2), v.x:softmax(2)} end,
     "[x.log_softmax(1), x.softmax(1)]")
  ec("sort_topk_nan", {x = lg.tensor{{2, nan, -1, 5}}}, {},
     function(v)
       local sd, id = v.x:sort(2, {descending = true})
       local tv, ti = v.x:topk(2)
       local sa, ia = v.x:sort(2)
       return {sd, id, tv, ti, sa, ia}
     end,
     "[x.sort(1, descending=True)[0], x.sort(1, descending=True)[1].float() + 1, " ..
     "x.topk(2)[0], x.topk(2)[1].float() + 1, x.sort(1)[0], x.sort(1)[1].float() + 1]")
  ec("bce_extremes", {x = lg.tensor{-100, -30, 0, 30, 100}, t = lg.tensor{0.3, 1, 0.5, 0, 0.9}}, {"x", "t"},
     function(v) return lg.bce_with_logits(v.x, v.t) end,
     "F.binary_cross_entropy_with_logits(x, t)", 1e-4)
  ec("pow_frac_neg_base", {x = lg.tensor{-2, -0.5, 0.5, 2}}, {}, function(v) return v.x ^ 1.5 end, "x ** 1.5")
  ec("scalar_pow_half", {x = R(5)}, {"x"}, function(v) return 0.5 ^ v.x end, "torch.pow(0.5, x)")
  ec("pad_reflect_max", {x = R(1, 1, 3, 4)}, {"x"},
     function(v) return lg.pad(v.x, {3, 3, 2, 2}, {mode = "reflect"}) end,
     "F.pad(x, (3, 3, 2, 2), mode='reflect')")
  ec("pad_replicate_1d", {x = R(2, 2, 3)}, {"x"},
     function(v) return lg.pad(v.x, {4, 1}, {mode = "replicate"}) end,
     "F.pad(x, (4, 1), mode='replicate')")
  ec("pad_3pairs", {x = R(2, 2, 3, 2)}, {"x"},
     function(v) return lg.pad(v.x, {1, 0, 0, 2, 1, 1}, {value = -1}) end,
     "F.pad(x, (1, 0, 0, 2, 1, 1), value=-1)")
  ec("conv2d_1x1_s2p1", {x = R(1, 2, 5, 5), w = R(3, 2, 1, 1)}, {"x", "w"},
     function(v) return lg.conv2d(v.x, v.w, nil, {stride = 2, padding = 1}) end,
     "F.conv2d(x, w, stride=2, padding=1)", 1e-4)
  ec("conv_t2d_s3", {x = R(1, 2, 3, 2), w = R(2, 2, 3, 3), b = R(2)}, {"x", "w", "b"},
     function(v) return lg.conv_transpose2d(v.x, v.w, v.b, {stride = 3, padding = 2, output_padding = 2}) end,
     "F.conv_transpose2d(x, w, b, stride=3, padding=2, output_padding=2)", 1e-4)
  ec("batch_norm_eval_noaffine", {x = R(3, 2, 2), rm = R(2), rv = pos(2)}, {"x"},
     function(v) return lg.batch_norm(v.x, v.rm, v.rv, nil, nil, false, 0.1, 1e-2) end,
     "F.batch_norm(x, rm, rv, eps=1e-2)")
  -- in-place updates (no graph)
  ec("inplace_ops", {x = R(3, 4), y = R(4), e = R(3, 4)}, {},
     function(v)
       return {v.x:clone():add_(v.y, 0.5), v.x:clone():sub_(v.y, 2), v.x:clone():mul_(v.y),
               v.x:clone():div_(3), v.x:clone():lerp_(v.e, 0.3), v.x:clone():clamp_(nil, 0.2),
               v.x:clone():clamp_(-0.1, 0.1)}
     end,
     "[x.clone().add_(y, alpha=0.5), x.clone().sub_(y, alpha=2), x.clone().mul_(y), x.clone().div_(3), " ..
     "x.clone().lerp_(e, 0.3), x.clone().clamp_(max=0.2), x.clone().clamp_(-0.1, 0.1)]")
  -- batched linear algebra
  ec("solve_batched", {a = R(2, 3, 3) + lg.eye(3) * 3, b = R(2, 3, 2)}, {"a", "b"},
     function(v) return la.solve(v.a, v.b) end, "torch.linalg.solve(a, b)", 1e-4)
  ec("inv_batched", {a = R(2, 3, 3) + lg.eye(3) * 3}, {"a"},
     function(v) return la.inv(v.a) end, "torch.linalg.inv(a)", 1e-4)
  ec("slogdet_negative", {a = lg.tensor{{0, 2, 1}, {1, 0, 0}, {0, 1, 3}} + R(3, 3) * 0.01}, {"a"},
     function(v) return {la.slogdet(v.a)} end,
     "[torch.linalg.slogdet(a)[0].detach(), torch.linalg.slogdet(a)[1]]", 1e-4)
  ec("svd_full", {a = R(4, 3)}, {},
     function(v) local U, S, Vh = la.svd(v.a, {full_matrices = true}) return {U:abs(), S, Vh:abs()} end,
     "[torch.linalg.svd(a)[0].abs(), torch.linalg.svd(a)[1], torch.linalg.svd(a)[2].abs()]", 1e-4)
  ec("cholesky_batched", {m = R(2, 3, 3)}, {"m"},
     function(v) return la.cholesky(v.m:matmul(v.m:transpose(2, 3)) + lg.eye(3)) end,
     "torch.linalg.cholesky(m @ m.transpose(1, 2) + torch.eye(3))", 1e-4)
  -- empty tensors
  ec("empty_sum", {x = lg.zeros(0, 3)}, {}, function(v) return {v.x:sum(), v.x:sum(1), v.x:mean(2)} end,
     "[x.sum(), x.sum(0), x.mean(1)]")
  ec("empty_cat", {a = lg.zeros(0, 3), b = R(2, 3)}, {"b"},
     function(v) return lg.cat({v.a, v.b}) end, "torch.cat([a, b])")
  ec("logsumexp_dims", {x = R(3, 4, 5) * 10}, {"x"},
     function(v) return {v.x:logsumexp(2), v.x:logsumexp(-1, true), v.x:logsumexp(1)} end,
     "[x.logsumexp(1), x.logsumexp(-1, keepdim=True), x.logsumexp(0)]", 1e-4)
  ec("logsumexp_extremes", {x = lg.tensor{{-inf, -inf}, {inf, 1}, {nan, 1}, {100, 100}, {-200, -210}}}, {},
     function(v) return v.x:logsumexp(2) end, "x.logsumexp(1)")
  ec("flip", {x = R(2, 3, 4)}, {"x"}, function(v) return {v.x:flip(1), v.x:flip(-1, 2)} end,
     "[x.flip(0), x.flip((-1, 1))]")
  ec("linspace", {}, {}, function()
       return {lg.linspace(-1, 1, 5), lg.linspace(0.1, 0.7, 7), lg.linspace(3, -2, 4), lg.linspace(2, 5, 1),
               lg.linspace(0, 1, 0)}
     end, "[torch.linspace(-1, 1, 5), torch.linspace(0.1, 0.7, 7), torch.linspace(3, -2, 4), "
       .. "torch.linspace(2, 5, 1), torch.linspace(0, 1, 0)]", 1e-6)
  ec("isnan_isinf_isfinite", {x = lg.tensor{0, -0.0, 1, nan, inf, -inf}}, {},
     function(v) return {v.x:isnan(), v.x:isinf(), v.x:isfinite()} end,
     "[x.isnan().float(), x.isinf().float(), x.isfinite().float()]", 0)
  ec("masked_select_none", {x = R(3), m = lg.zeros(3)}, {},
     function(v) return v.x:masked_select(v.m) end, "x.masked_select(m != 0)")
end

-- {------------------------------------------------------------ optimizers
-- Five steps on loss_t = sum(p g_t) + sum(p^2) / 2 (gradient g_t + p), the
-- final parameters compared with torch.optim's.
do
  local function opt(name, ctor_lua, ctor_py)
    local inputs = {p = R(3, 4)}
    for t = 1, 5 do inputs["g" .. t] = R(3, 4) end
    case(name, {inputs = inputs, tol = 1e-5,
      lua = function(v)
        local p = v.p:clone():requires_grad_()
        local o = ctor_lua({p})
        for t = 1, 5 do
          o:zero_grad();
          ((p * v["g" .. t]):sum() + (p ^ 2):sum() * 0.5):backward()
          o:step()
        end
        return p:detach()
      end,
      py = ([=[
p = p.clone().requires_grad_()
o = torch.optim.%s
for g in (g1, g2, g3, g4, g5):
    o.zero_grad()
    ((p * g).sum() + (p ** 2).sum() * 0.5).backward()
    o.step()
out = p.detach()]=]):format(ctor_py)})
  end
  local optim = lg.optim
  opt("optim_sgd", function(ps) return optim.SGD(ps, {lr = 0.1}) end, "SGD([p], lr=0.1)")
  opt("optim_sgd_momentum", function(ps)
        return optim.SGD(ps, {lr = 0.05, momentum = 0.9, dampening = 0.1, weight_decay = 0.01}) end,
      "SGD([p], lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)")
  opt("optim_sgd_nesterov", function(ps) return optim.SGD(ps, {lr = 0.05, momentum = 0.8, nesterov = true}) end,
      "SGD([p], lr=0.05, momentum=0.8, nesterov=True)")
  opt("optim_adam", function(ps) return optim.Adam(ps, {lr = 1e-2}) end, "Adam([p], lr=1e-2)")
  opt("optim_adam_gan", function(ps)
        return optim.Adam(ps, {lr = 2e-4, betas = {0.5, 0.999}, eps = 1e-6, weight_decay = 0.1}) end,
      "Adam([p], lr=2e-4, betas=(0.5, 0.999), eps=1e-6, weight_decay=0.1)")
  opt("optim_adamw", function(ps) return optim.AdamW(ps, {lr = 1e-2}) end, "AdamW([p], lr=1e-2)")
  opt("optim_adamw_decay", function(ps)
        return optim.AdamW(ps, {lr = 5e-2, betas = {0.5, 0.9}, weight_decay = 0.3}) end,
      "AdamW([p], lr=5e-2, betas=(0.5, 0.9), weight_decay=0.3)")
  opt("optim_rmsprop", function(ps) return optim.RMSprop(ps, {lr = 1e-2}) end, "RMSprop([p], lr=1e-2)")
  opt("optim_rmsprop_centered", function(ps)
        return optim.RMSprop(ps, {lr = 1e-3, alpha = 0.9, eps = 1e-6, weight_decay = 0.1, momentum = 0.5,
                                  centered = true}) end,
      "RMSprop([p], lr=1e-3, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True)")
end

-- Learning-rate schedules: the lr of 12 epochs (after each optimizer step) against
-- torch.optim.lr_scheduler's
do
  local function sched(name, make, py)
    case(name, {inputs = {}, tol = 1e-7,
      lua = function()
        local o = lg.optim.SGD({lg.zeros(1):requires_grad_()}, {lr = 0.1})
        local s, out = make(o), {o.config.lr}
        for _ = 1, 12 do s:step(); out[#out + 1] = o.config.lr end
        return lg.tensor(out)
      end,
      py = ([=[
_p = torch.zeros(1, requires_grad=True)
_o = torch.optim.SGD([_p], lr=0.1)
_s = torch.optim.lr_scheduler.%s
_lrs = [_o.param_groups[0]["lr"]]
for _ in range(12):
    _o.step()
    _s.step()
    _lrs.append(_o.param_groups[0]["lr"])
out = torch.tensor(_lrs)]=]):format(py)})
  end
  local optim = lg.optim
  sched("sched_step", function(o) return optim.StepLR(o, 3, 0.5) end, "StepLR(_o, 3, 0.5)")
  sched("sched_exponential", function(o) return optim.ExponentialLR(o, 0.8) end, "ExponentialLR(_o, 0.8)")
  sched("sched_lambda", function(o) return optim.LambdaLR(o, function(e) return 1 - math.max(0, e + 1 - 6) / 7 end) end,
        "LambdaLR(_o, lambda e: 1 - max(0, e + 1 - 6) / 7)")
  sched("sched_linear", function(o) return optim.LinearLR(o, {start_factor = 0.25, end_factor = 0.75, total_iters = 8}) end,
        "LinearLR(_o, start_factor=0.25, end_factor=0.75, total_iters=8)")
  sched("sched_cosine", function(o) return optim.CosineAnnealingLR(o, 5, 0.01) end,
        "CosineAnnealingLR(_o, 5, 0.01)")
end

-- Polyak averaging: optim.EMA over five parameter values against
-- torch.optim.swa_utils.AveragedModel with an EMA avg_fn (its first
-- update_parameters copies, as optim.EMA's constructor does); the average
-- and a module it was copied into.
do
  local inputs = {}
  for t = 0, 5 do inputs["p" .. t] = R(3, 4) end
  case("optim_ema", {inputs = inputs, tol = 1e-6,
    lua = function(v)
      local m, target = nn.Linear(4, 3, false), nn.Linear(4, 3, false)
      lg.no_grad(function() m.weight:copy_(v.p0) end)
      local ema = lg.optim.EMA(m, 0.8)
      for t = 1, 5 do
        lg.no_grad(function() m.weight:copy_(v["p" .. t]) end)
        ema:update()
      end
      ema:copy_to(target)
      return {ema.average.weight:clone(), target.weight:detach()}
    end,
    py = [=[
m = nn.Linear(4, 3, bias=False)
with torch.no_grad():
    m.weight.copy_(p0)
a = torch.optim.swa_utils.AveragedModel(m, avg_fn=lambda avg, p, n: 0.8 * avg + 0.2 * p)
a.update_parameters(m)
for pt in (p1, p2, p3, p4, p5):
    with torch.no_grad():
        m.weight.copy_(pt)
    a.update_parameters(m)
out = [a.module.weight.detach(), a.module.weight.detach()]]=]})
end

-- {------------------------------------------------------------ constructors, image resize
do
  local function cons(name, f, py) case(name, {lua = f, py = "out = " .. py}) end
  cons("arange_n", function() return lg.arange(7) end, "torch.arange(7).float()")
  cons("arange_step", function() return lg.arange(0, 1, 0.1) end, "torch.arange(0, 1, 0.1)")
  cons("arange_neg_step", function() return lg.arange(2, -1, -0.3) end, "torch.arange(2, -1, -0.3)")
  cons("arange_range", function() return lg.arange(-3, 4) end, "torch.arange(-3, 4).float()")
  cons("eye_rect", function() return {lg.eye(3), lg.eye(2, 4)} end, "[torch.eye(3), torch.eye(2, 4)]")
  cons("full_zeros_ones", function() return {lg.full({2, 3}, 1.5), lg.zeros(2), lg.ones{1, 2}} end,
       "[torch.full((2, 3), 1.5), torch.zeros(2), torch.ones(1, 2)]")
  case("resize_shrink_2x", {inputs = {x = lg.rand(2, 3, 8, 6)},
    lua = function(v) return lg.image.resize(v.x, 4, 3) end,
    py = "out = F.interpolate(x, size=(4, 3), mode='area')"})
  case("resize_grow_bilinear", {inputs = {x = lg.rand(1, 2, 3, 4)},
    lua = function(v) return lg.image.resize(v.x, 7, 9) end,
    py = "out = F.interpolate(x, size=(7, 9), mode='bilinear', align_corners=False)"})
end

-- {------------------------------------------------------------ EBGAN / BEGAN helpers
-- experiments/lib/ae_disc.lua: the per-image energies, the pulling-away
-- term (Zhao et al. 2017, sec. 2.4) and ELU, composed of tensor ops
do
  local ae = dofile(ROOT .. "/experiments/lib/ae_disc.lua")
  case("ae_energy_l1_l2", {inputs = {x = R(5, 12), r = R(5, 12)}, grad = {"x", "r"}, tol = 1e-5,
    lua = function(v) return {ae.energy(v.x, v.r, "l1"), ae.energy(v.x, v.r, "l2")} end,
    py = "out = [(x - r).abs().mean(1), ((x - r) ** 2).mean(1)]"})
  case("ae_pulling_away", {inputs = {s = R(6, 4)}, grad = {"s"}, tol = 1e-5,
    lua = function(v) return ae.pulling_away(v.s) end,
    py = [=[
u = F.normalize(s, dim=1)
c = (u @ u.t()) ** 2
n = s.shape[0]
out = (c.sum() - c.diagonal().sum()) / (n * (n - 1))]=]})
  case("ae_elu", {inputs = {x = R(3, 5) * 2}, grad = {"x"},
    lua = function(v) return ae.ELU()(v.x) end, py = "out = F.elu(x)"})
end

-- {------------------------------------------------------------ known discrepancies
-- Genuine differences from PyTorch 1.13 (not conventions), kept visible: the
-- case still runs, a mismatch prints "xfail: ..." and passes, a match prints
-- a note asking to drop the entry.
local XFAIL = {}   -- none now; an entry is name = "why"
for _, c in ipairs(cases) do c.xfail = XFAIL[c.name] end

-- {------------------------------------------------------------ the round trip
local dir = temp_dir()
local in_path, spec_path, out_path = dir .. "/in.safetensors", dir .. "/spec.txt", dir .. "/out.safetensors"

local function as_list(r) if lg.is_tensor(r) then return {r} end return r end

-- Inputs are copied before the Lua side runs (in-place ops and running
-- statistics must not change what torch sees); then each case runs here.
local saved, spec = {}, {}
for _, c in ipairs(cases) do
  local names = {}
  for k, t in pairs(c.inputs) do
    names[#names + 1] = k
    saved[c.name .. "." .. k] = t:detach():clone()
  end
  table.sort(names)
  for _, g in ipairs(c.grad) do
    local t = c.inputs[g]
    if not t.requires_grad then c.inputs[g] = t:detach():clone():requires_grad_() end
  end
  local ok, res = pcall(function()
    local outs = as_list(c.lua(c.inputs))
    local total, wout = nil, {}
    for k, o in ipairs(outs) do
      if #c.grad > 0 and o.requires_grad then
        local w = lg.randn(table.unpack(o.shape))
        saved[("%s.w%d"):format(c.name, k)] = w
        wout[#wout + 1] = k
        local term = (o * w):sum()
        total = total and total + term or term
      end
    end
    local grads = {}
    if total then
      local leaves = {}
      for i, g in ipairs(c.grad) do leaves[i] = c.inputs[g] end
      grads = lg.grad(total, leaves)
    end
    return {outs = outs, grads = grads, wout = wout}
  end)
  c.result = ok and res or nil
  c.lua_error = not ok and tostring(res) or nil
  spec[#spec + 1] = "case " .. c.name
  spec[#spec + 1] = "inputs " .. table.concat(names, " ")
  spec[#spec + 1] = "grad " .. table.concat(c.grad, " ")
  spec[#spec + 1] = "wout " .. (c.result and table.concat(c.result.wout, " ") or "")
  spec[#spec + 1] = "code"
  spec[#spec + 1] = c.py
  spec[#spec + 1] = "end"
end
lg.save(in_path, saved)
do
  local f = assert(io.open(spec_path, "w"))
  f:write(table.concat(spec, "\n"), "\n")
  f:close()
end
local cmd = ("%s %s %s %s %s 2>&1"):format(PY, sh_quote(SCRIPT), sh_quote(in_path),
                                          sh_quote(spec_path), sh_quote(out_path))
local pipe = io.popen(cmd)
local py_output = pipe:read("a")
local py_ok = pipe:close()

-- {------------------------------------------------------------ comparison
local function flat(t) return t:reshape(-1):totable() end

local function show_shape(s) return "[" .. table.concat(s, ",") .. "]" end

-- nil when a (ours) matches b (torch's) within tol; else a message.
local function compare(what, a, b, tol)
  if not b then return what .. ": missing in torch's results" end
  if show_shape(a.shape) ~= show_shape(b.shape) then
    return ("%s: shape %s, torch %s"):format(what, show_shape(a.shape), show_shape(b.shape))
  end
  local x, y = flat(a), flat(b)
  -- relative to the element, or to a tenth of the tensor's largest
  -- magnitude for elements much smaller than it (cancellation)
  local big = 0
  for i = 1, #y do
    local m = math.abs(y[i])
    if m == m and m ~= math.huge and m > big then big = m end
  end
  local bad, worst, at = 0, -1, nil
  for i = 1, #x do
    local d = math.abs(x[i] - y[i])
    local ok = x[i] == y[i] or d <= tol * math.max(math.abs(y[i]), big / 10) or
               (x[i] ~= x[i] and y[i] ~= y[i])   -- equal infinities, both NaN
    if not ok then
      bad = bad + 1
      if not (d <= worst) then worst, at = d, i end
    end
  end
  if bad == 0 then return nil end
  local function head(v)
    local p = {}
    for i = 1, math.min(#v, 8) do p[i] = ("%.6g"):format(v[i]) end
    return "{" .. table.concat(p, ", ") .. (#v > 8 and ", ..." or "") .. "}"
  end
  return ("%s: %d of %d elements differ (tol %g), worst at flat %d: %.7g vs torch %.7g; ours %s, torch %s")
         :format(what, bad, #x, tol, at, x[at], y[at], head(x), head(y))
end

test("the PyTorch reference script runs", function()
  if not py_ok then error("ref_ops.py failed:\n" .. py_output) end
end)

local results, meta = {}, {}
if py_ok then results, meta = lg.load(out_path) end

local n_xfail = 0
for _, c in ipairs(cases) do
  test("vs torch: " .. c.name, function()
    if not py_ok then error("no reference (the script failed)") end
    local problems = {}
    if c.lua_error then problems[#problems + 1] = "luagan raised: " .. c.lua_error end
    local perr = meta[c.name .. ".error"]
    if perr then problems[#problems + 1] = "torch raised: " .. perr end
    if #problems == 0 then
      for k, o in ipairs(c.result.outs) do
        problems[#problems + 1] = compare("out" .. k, o, results[("%s.out%d"):format(c.name, k)], c.tol)
      end
      -- an output in the graph in one library only is a missing gradient
      if #c.grad > 0 then
        local rg = {}
        for k, o in ipairs(c.result.outs) do rg[k] = o.requires_grad and "1" or "0" end
        rg = table.concat(rg)
        local trg = meta[c.name .. ".requires_grad"]
        if rg ~= trg then
          problems[#problems + 1] = ("outputs requiring grad %s, torch %s"):format(rg, tostring(trg))
        end
      end
      if results[("%s.out%d"):format(c.name, #c.result.outs + 1)] then
        problems[#problems + 1] = "torch gave more outputs than " .. #c.result.outs
      end
      for i, g in ipairs(c.grad) do
        if #c.result.wout > 0 then
          problems[#problems + 1] = compare("grad " .. g, c.result.grads[i],
                                            results[("%s.grad.%s"):format(c.name, g)], c.tol)
        end
      end
    end
    local msgs = problems
    if c.xfail then
      n_xfail = n_xfail + 1
      if #msgs == 0 then
        io.stderr:write(("note: vs torch %s now matches torch; drop its xfail (%s)\n"):format(c.name, c.xfail))
      else
        io.stderr:write(("xfail: vs torch %s (%s): %s\n"):format(c.name, c.xfail, table.concat(msgs, "; ")))
      end
      return
    end
    if #msgs > 0 then error(c.name .. ": " .. table.concat(msgs, "; "), 0) end
  end)
end
