-- optimizers (lua/luagan/optim.lua over core/optim.c) and clipping: three
-- steps of SGD/Adam/RMSprop against torch.optim trajectories, optimizer state
-- round trips, option checking, lg.clip_ and lg.clip_grad_norm_.
-- Reference trajectories: PyTorch 1.13, the same model
-- (Linear(3,2), Tanh, Linear(2,1), MSE loss) and the same initial values;
-- each entry is the parameters after step 1, 2, 3, in parameter order.
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local W1 = {{0.1, -0.2, 0.3}, {0.4, 0.5, -0.6}}
local B1 = {0.05, -0.05}
local W2 = {{0.7, -0.8}}
local B2 = {0.1}
local X = {{1.0, 2.0, -1.0}, {0.5, -1.5, 2.0}, {-0.3, 0.8, 0.1}, {1.2, -0.7, 0.4}}
local Y = {{0.5}, {-0.25}, {0.1}, {0.9}}

local function model()
  local m = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
  lg.no_grad(function()
    m[1].weight:copy_(lg.tensor(W1))
    m[1].bias:copy_(lg.tensor(B1))
    m[3].weight:copy_(lg.tensor(W2))
    m[3].bias:copy_(lg.tensor(B2))
  end)
  return m
end

local function loss_of(m)
  return lg.mse(m(lg.tensor(X)), lg.tensor(Y))
end

local function values(m)
  local out = {}
  for i, p in ipairs(m:parameters()) do out[i] = p:totable() end
  return out
end

local torch = {
  sgd = {{{{0.13925211131572723, -0.08627969026565552, 0.21722084283828735}, {0.3829188644886017, 0.48441082239151, -0.588577926158905}}, {0.08442004770040512, -0.07132773101329803}, {{0.6062555909156799, -0.6507261395454407}}, {0.12394054979085922}}, {{{0.17140279710292816, 0.010819251649081707, 0.138247549533844}, {0.36663925647735596, 0.4784028232097626, -0.5814581513404846}}, {0.10433190315961838, -0.08550113439559937}, {{0.5633686184883118, -0.5375176072120667}}, {0.13552016019821167}}, {{{0.1936284452676773, 0.08508306741714478, 0.06882557272911072}, {0.3519570827484131, 0.47773921489715576, -0.5775306224822998}}, {0.11086127161979675, -0.09589529037475586}, {{0.5535200834274292, -0.45166438817977905}}, {0.1407049596309662}}},
  sgd_mom = {{{{0.13915210962295532, -0.08607969433069229, 0.2169208526611328}, {0.38251885771751404, 0.48391079902648926, -0.5879778861999512}}, {0.08437004685401917, -0.07127773016691208}, {{0.6055555939674377, -0.6499261856079102}}, {0.12384054809808731}}, {{{0.20316877961158752, 0.10373717546463013, 0.07099992781877518}, {0.3517739474773407, 0.4635872542858124, -0.5702126622200012}}, {0.13311956822872162, -0.1031215712428093}, {{0.4815429449081421, -0.4125416576862335}}, {0.1556619554758072}}, {{{0.2725253999233246, 0.3122538924217224, -0.102956123650074}, {0.31266146898269653, 0.4472978413105011, -0.5522128939628601}}, {0.1751241534948349, -0.13799968361854553}, {{0.377507746219635, -0.14386549592018127}}, {0.1853441447019577}}},
  sgd_nesterov = {{{{0.17457900941371918, 0.016068577766418457, 0.1427195966243744}, {0.36754584312438965, 0.4703805446624756, -0.5782979726791382}}, {0.11539808660745621, -0.09052268415689468}, {{0.5218856930732727, -0.516379714012146}}, {0.14548704028129578}}, {{{0.24461692571640015, 0.231951504945755, -0.041812919080257416}, {0.32633110880851746, 0.45754706859588623, -0.5617891550064087}}, {0.15314626693725586, -0.12583915889263153}, {{0.42826905846595764, -0.23804835975170135}}, {0.17175234854221344}}, {{{0.30972152948379517, 0.392221599817276, -0.19535088539123535}, {0.28726688027381897, 0.453485369682312, -0.551049530506134}}, {0.1789880245923996, -0.15630458295345306}, {{0.38727855682373047, -0.004165785852819681}}, {0.19721320271492004}}},
  adam = {{{{0.10999999940395355, -0.1899999976158142, 0.2900000214576721}, {0.39000001549720764, 0.49000000953674316, -0.5900000333786011}}, {0.05999999865889549, -0.05999999865889549}, {{0.6899999976158142, -0.7900000214576721}}, {0.10999999940395355}}, {{{0.11996529996395111, -0.18000537157058716, 0.27998659014701843}, {0.3800610899925232, 0.4799758195877075, -0.5798722505569458}}, {0.06987905502319336, -0.06980397552251816}, {{0.6801052689552307, -0.7800487279891968}}, {0.1195925697684288}}, {{{0.12986494600772858, -0.17002877593040466, 0.26995986700057983}, {0.37021157145500183, 0.4699130654335022, -0.5695608258247375}}, {0.07954902946949005, -0.07928752899169922}, {{0.6703818440437317, -0.7701753973960876}}, {0.12843400239944458}}},
  adam_wd = {{{{0.10999997705221176, -0.1900000125169754, 0.2900000214576721}, {0.39000004529953003, 0.49000003933906555, -0.5900000929832458}}, {0.0599999725818634, -0.05999995395541191}, {{0.6899999976158142, -0.7900000214576721}}, {0.10999995470046997}}, {{{0.11999358981847763, -0.18000100553035736, 0.2799985110759735}, {0.38000956177711487, 0.4799986183643341, -0.5799915194511414}}, {0.06997577100992203, -0.06995493173599243}, {{0.6800177097320557, -0.7800076007843018}}, {0.11988146603107452}}, {{{0.1299743503332138, -0.17000506818294525, 0.26999545097351074}, {0.370034396648407, 0.46999484300613403, -0.569969117641449}}, {0.07990580052137375, -0.07982873916625977}, {{0.6700659990310669, -0.7700281143188477}}, {0.12951010465621948}}},
  rmsprop = {{{{0.19999995827674866, -0.10000001639127731, 0.20000001788139343}, {0.30000007152557373, 0.40000006556510925, -0.5000001192092896}}, {0.1499999612569809, -0.1499999463558197}, {{0.6000000238418579, -0.7000000476837158}}, {0.19999995827674866}}, {{{0.25069671869277954, -0.03816307336091995, 0.1316927969455719}, {0.24139975011348724, 0.32549187541007996, -0.4132300913333893}}, {0.16632860898971558, -0.16177409887313843}, {{0.5552220344543457, -0.640960156917572}}, {0.1344100534915924}}, {{{0.2863497734069824, 0.006274048238992691, 0.08054617047309875}, {0.18048256635665894, 0.25710588693618774, -0.3415140211582184}}, {0.16817061603069305, -0.18844881653785706}, {{0.5377970933914185, -0.6000473499298096}}, {0.09917014837265015}}},
  rmsprop_c = {{{{0.13333304226398468, -0.16666676104068756, 0.26666679978370667}, {0.3666672706604004, 0.4666672945022583, -0.5666674375534058}}, {0.08333300799131393, -0.08333280682563782}, {{0.6666667461395264, -0.7666667699813843}}, {0.13333286345005035}}, {{{0.17427977919578552, -0.12486782670021057, 0.22437389194965363}, {0.32591941952705383, 0.4241320788860321, -0.522401750087738}}, {0.12181965261697769, -0.11991040408611298}, {{0.6271412968635559, -0.7257157564163208}}, {0.16164180636405945}}, {{{0.21363522112369537, -0.08307969570159912, 0.18114763498306274}, {0.28511446714401245, 0.3795037269592285, -0.47441965341567993}}, {0.15392647683620453, -0.14912821352481842}, {{0.590715229511261, -0.685342013835907}}, {0.16565200686454773}}},
}

local configs = {
  sgd = function(ps) return optim.SGD(ps, {lr = 0.1}) end,
  sgd_mom = function(ps)
    return optim.SGD(ps, {lr = 0.1, momentum = 0.9, dampening = 0.1, weight_decay = 0.01})
  end,
  sgd_nesterov = function(ps) return optim.SGD(ps, {lr = 0.1, momentum = 0.9, nesterov = true}) end,
  adam = function(ps) return optim.Adam(ps, {lr = 0.01, betas = {0.5, 0.999}}) end,
  adam_wd = function(ps)
    return optim.Adam(ps, {lr = 0.01, betas = {0.9, 0.99}, eps = 1e-6, weight_decay = 0.1})
  end,
  rmsprop = function(ps) return optim.RMSprop(ps, {lr = 0.01}) end,
  rmsprop_c = function(ps)
    return optim.RMSprop(ps, {lr = 0.01, alpha = 0.9, eps = 1e-6, weight_decay = 0.05,
                              momentum = 0.5, centered = true})
  end,
}

for _, name in ipairs({"sgd", "sgd_mom", "sgd_nesterov", "adam", "adam_wd", "rmsprop", "rmsprop_c"}) do
  test("optim " .. name .. ": three steps reproduce torch.optim", function()
    local m = model()
    local opt = configs[name](m:parameters())
    for s = 1, 3 do
      opt:zero_grad()
      loss_of(m):backward()
      opt:step()
      near(values(m), torch[name][s], 2e-6, ("%s step %d"):format(name, s))
    end
  end)
end

test("optim: zero_grad clears gradients; without it gradients accumulate", function()
  local m = model()
  local opt = optim.SGD(m:parameters(), {lr = 0.1})
  loss_of(m):backward()
  local g1 = m[3].bias.grad:item()
  loss_of(m):backward()
  near(m[3].bias.grad:item(), 2 * g1, 1e-6)
  opt:zero_grad()
  for _, p in ipairs(m:parameters()) do eq(p.grad, nil) end
  -- a step with no gradients changes nothing and counts no step
  local before = values(m)
  opt:step()
  eq(values(m), before)
  eq(opt:state_dict()["1.step"]:item(), 0)
end)

test("optim: only parameters with a gradient move", function()
  local m = model()
  local opt = optim.Adam(m:parameters(), {lr = 0.1})
  local y = m[1](lg.tensor(X)):sum()      -- touches the first layer only
  y:backward()
  local before = values(m)
  opt:step()
  local after = values(m)
  assert(after[1][1][1] ~= before[1][1][1])
  eq(after[3], before[3])
  eq(after[4], before[4])
  local sd = opt:state_dict()
  eq(sd["1.step"]:item(), 1)
  eq(sd["3.step"]:item(), 0)
end)

local function snapshot(sd)
  local out = {}
  for k, v in pairs(sd) do out[k] = v:clone() end
  return out
end

for _, name in ipairs({"sgd_mom", "sgd_nesterov", "adam_wd", "rmsprop_c"}) do
  test("optim " .. name .. ": state_dict/load_state_dict gives bit-identical next steps", function()
    local a = model()
    local oa = configs[name](a:parameters())
    for _ = 1, 2 do
      oa:zero_grad(); loss_of(a):backward(); oa:step()
    end
    local msd, osd = snapshot(a:state_dict()), snapshot(oa:state_dict())
    -- the state holds everything the update needs
    if name:find("adam") then
      assert(osd["1.exp_avg"] and osd["1.exp_avg_sq"], "Adam moments in the state dict")
      eq(osd["4.step"]:item(), 2)
    elseif name:find("rmsprop") then
      assert(osd["1.square_avg"] and osd["1.grad_avg"] and osd["1.momentum_buffer"])
    else
      assert(osd["1.momentum_buffer"])
    end
    local b = model()
    lg.no_grad(function() b[1].weight:fill_(9) end)
    b:load_state_dict(msd)
    local ob = configs[name](b:parameters())
    ob:load_state_dict(osd)
    for _ = 1, 3 do
      oa:zero_grad(); loss_of(a):backward(); oa:step()
      ob:zero_grad(); loss_of(b):backward(); ob:step()
      eq(values(b), values(a))
    end
    -- and both match torch's third step
    local c = model()
    local oc = configs[name](c:parameters())
    for _ = 1, 3 do oc:zero_grad(); loss_of(c):backward(); oc:step() end
    near(values(c), torch[name][3], 2e-6)
  end)
end

test("optim: load_state_dict checks keys and shapes", function()
  local m = model()
  local opt = optim.Adam(m:parameters())
  local sd = snapshot(opt:state_dict())
  sd["2.exp_avg"] = nil
  raises(function() opt:load_state_dict(sd) end, "Adam.load_state_dict: missing '2.exp_avg'")
  sd["2.exp_avg"] = lg.zeros(5)
  raises(function() opt:load_state_dict(sd) end, "Adam.load_state_dict: '2.exp_avg' has shape [5], expected [2]")
  sd["2.exp_avg"] = lg.zeros(2)
  sd["1.step"] = lg.tensor(1.5)
  raises(function() opt:load_state_dict(sd) end, "bad step")
end)

test("optim: load_state_dict refuses the state of a different optimizer or model", function()
  local big = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1), nn.Linear(1, 1))
  local small = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
  local ob, os_ = optim.Adam(big:parameters()), optim.Adam(small:parameters())
  -- a different optimizer: its slots are missing
  local sgd = optim.SGD(small:parameters(), {momentum = 0.9})
  raises(function() sgd:load_state_dict(os_:state_dict()) end, "SGD.load_state_dict: missing '1.momentum_buffer'")
  -- a state for more parameters than the optimizer holds (torch.optim: "loaded state dict
  -- contains a parameter group that doesn't match the size of optimizer's group")
  raises(function() os_:load_state_dict(ob:state_dict()) end, "Adam.load_state_dict")
end)

test("optim: unknown option keys and bad values are errors", function()
  local ps = model():parameters()
  raises(function() optim.Adam(ps, {lr = 1e-3, beta = {0.5, 0.9}}) end,
         "Adam: unknown option 'beta' (valid: betas, eps, lr, weight_decay)")
  raises(function() optim.SGD(ps, {lr = 0.1, momentun = 0.9}) end, "SGD: unknown option 'momentun'")
  raises(function() optim.RMSprop(ps, {lr = 0.1, centred = true}) end, "RMSprop: unknown option 'centred'")
  raises(function() optim.SGD(ps, {lr = "0.1"}) end, "SGD: option 'lr' must be a number, got string")
  raises(function() optim.SGD(ps, {nesterov = 1}) end, "SGD: option 'nesterov' must be a boolean")
  raises(function() optim.SGD(ps, 0.1) end, "SGD: options must be a table")
  raises(function() optim.SGD(ps, {lr = -1}) end, "SGD: lr must be >= 0")
  raises(function() optim.Adam(ps, {lr = -1e-3}) end, "Adam: lr must be >= 0")
  raises(function() optim.Adam(ps, {betas = {1.0, 0.999}}) end, "Adam: betas must be two numbers in [0, 1)")
  raises(function() optim.Adam(ps, {betas = {0.5}}) end, "Adam: betas must be two numbers in [0, 1)")
  raises(function() optim.Adam(ps, {betas = {0.5, -0.1}}) end, "Adam: betas must be two numbers in [0, 1)")
  raises(function() optim.SGD(ps, {lr = 0.1, nesterov = true}) end, "SGD: nesterov needs momentum > 0 and dampening 0")
  raises(function() optim.SGD(ps, {lr = 0.1, momentum = 0.9, dampening = 0.5, nesterov = true}) end,
         "SGD: nesterov needs momentum > 0 and dampening 0")
end)

test("optim: negative or NaN hyper-parameters are errors (as torch.optim)", function()
  local ps = model():parameters()
  local cases = {
    {"SGD", {lr = 0 / 0}}, {"SGD", {momentum = -0.5}}, {"SGD", {weight_decay = -1}},
    {"Adam", {lr = 0 / 0}}, {"Adam", {eps = -1e-8}}, {"Adam", {weight_decay = -0.1}},
    {"RMSprop", {alpha = -0.1}}, {"RMSprop", {eps = -1}}, {"RMSprop", {momentum = -1}},
    {"RMSprop", {weight_decay = -1}},
  }
  local accepted = {}
  for _, c in ipairs(cases) do
    local k, v = next(c[2])
    local ok, err = pcall(optim[c[1]], ps, c[2])
    if ok or not tostring(err):find(k, 1, true) then
      accepted[#accepted + 1] = ("%s{%s=%s}"):format(c[1], k, tostring(v))
    end
  end
  eq(table.concat(accepted, " "), "", "accepted without an error naming the option")
end)

test("optim: parameters must be a non-empty list of tensors that require grad", function()
  local fixed = lg.zeros(3)
  raises(function() optim.SGD({fixed}) end, "SGD: parameter 1 does not require grad")
  local p = lg.zeros(3)
  p.requires_grad = true
  raises(function() optim.Adam({p, lg.ones(2)}) end, "Adam: parameter 2 does not require grad")
  raises(function() optim.RMSprop({p, "w"}) end, "RMSprop: parameter 2 is not a tensor")
  raises(function() optim.SGD({}) end, "SGD: a non-empty list of parameter tensors is expected")
  raises(function() optim.SGD(p) end, "SGD: a non-empty list of parameter tensors is expected")
  -- buffers of a model are not parameters: BN's running stats stay out
  local m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
  local opt = optim.Adam(m:parameters())
  eq(#opt.params, 4)
end)

test("optim: a plain leaf tensor with requires_grad is optimised (Adam minimises x^2)", function()
  local x = lg.tensor{3, -2}
  x.requires_grad = true
  local opt = optim.Adam({x}, {lr = 0.1})
  for _ = 1, 200 do
    opt:zero_grad();
    (x * x):sum():backward()
    opt:step()
  end
  near(x:totable(), {0, 0}, 0.05)
  assert(x.requires_grad)
end)

test("lg.clip_: clamps parameters in place (WGAN weight clipping)", function()
  local m = model()
  local ps = m:parameters()
  lg.clip_(ps, -0.25, 0.25)
  near(ps[1]:totable(), {{0.1, -0.2, 0.25}, {0.25, 0.25, -0.25}}, 1e-7)
  near(ps[3]:totable(), {{0.25, -0.25}}, 0)
  near(ps[4]:totable(), {0.1}, 1e-7)
  for _, p in ipairs(ps) do assert(p.requires_grad and p.grad == nil) end
  -- a single tensor works too, and training continues after clipping
  local w = lg.tensor{-3, 0.5, 3}
  w.requires_grad = true
  lg.clip_(w, -0.01, 0.01)
  near(w:totable(), {-0.01, 0.01, 0.01}, 1e-7)
  local y = (w * 2):sum()
  y:backward()
  eq(w.grad:totable(), {2, 2, 2})
  -- WGAN loop: step then clip keeps every weight within the box
  local opt = optim.RMSprop(m:parameters(), {lr = 0.05})
  for _ = 1, 5 do
    opt:zero_grad(); loss_of(m):backward(); opt:step()
    lg.clip_(m:parameters(), -0.01, 0.01)
    for _, p in ipairs(m:parameters()) do assert(p:abs():max():item() <= 0.01 + 1e-7) end
  end
  raises(function() lg.clip_({w, 3}, -1, 1) end, "clip_: element 2 of the list is not a tensor")
  raises(function() lg.clip_("w", -1, 1) end, "tensor or list of tensors")
end)

test("optim: RMSprop initial_square_avg starts the running mean square (TF 1.x's 1)", function()
  -- one step by hand: v = alpha v0 + (1 - alpha) g^2, w <- w - lr g / (sqrt(v) + eps)
  for _, v0 in ipairs{0, 1} do
    local w = lg.tensor{1.0, -2.0}
    w.requires_grad = true
    local opt = optim.RMSprop({w}, {lr = 0.1, alpha = 0.9, eps = 1e-10, initial_square_avg = v0})
    eq(opt.state[1].square_avg:totable(), {v0, v0}, "the start")
    local loss = (w * lg.tensor{3.0, -0.5}):sum()   -- g = {3, -0.5}
    loss:backward()
    opt:step()
    local want = {}
    for i, g in ipairs{3.0, -0.5} do
      local v = 0.9 * v0 + 0.1 * g * g
      want[i] = ({1.0, -2.0})[i] - 0.1 * g / math.sqrt(v)
    end
    near(w:totable(), want, 1e-6, "step from v0 = " .. v0)
  end
  raises(function() optim.RMSprop({lg.zeros(2)}, {initial_square_avg = -1}) end, "initial_square_avg must be >= 0")
end)

test("lg.clip_grad_norm_: returns the total norm and scales gradients as torch", function()
  local m = model()
  loss_of(m):backward()
  local grads = {{{-0.39252108335494995, -1.1372030973434448, 0.8277916312217712},
    {0.17081138491630554, 0.15589186549186707, -0.11422125995159149}},
    {-0.34420046210289, 0.21327728033065796}, {{0.9374436736106873, -1.4927384853363037}},
    {-0.23940548300743103}}
  local got = {}
  for i, p in ipairs(m:parameters()) do got[i] = p.grad:totable() end
  near(got, grads, 1e-5, "gradients before clipping (torch)")
  -- under the bound: nothing changes, the norm is still returned
  local big = lg.clip_grad_norm_(m:parameters(), 10)
  near(big, 2.3510448932647705, 1e-5)
  for i, p in ipairs(m:parameters()) do eq(p.grad:totable(), got[i]) end
  local total = lg.clip_grad_norm_(m:parameters(), 0.1)
  near(total, 2.3510448932647705, 1e-5, "total norm (torch)")
  local clipped = {{{-0.016695594415068626, -0.04837009310722351, 0.03520950675010681},
    {0.007265336345881224, 0.006630745250731707, -0.004858316853642464}},
    {-0.014640312641859055, 0.009071591310203075}, {{0.03987347334623337, -0.06349252909421921}},
    {-0.010182935744524002}}
  for i, p in ipairs(m:parameters()) do near(p.grad:totable(), clipped[i], 1e-5, "clipped " .. i) end
  -- the new total norm is max_norm
  near(lg.clip_grad_norm_(m:parameters(), 1e9), 0.1, 1e-5)
  -- parameters without a gradient are skipped; a single tensor is accepted
  local q = lg.tensor{3, 4}
  q.requires_grad = true
  eq(lg.clip_grad_norm_({q}, 1), 0)
  local l = (q * lg.tensor{3, 4}):sum()
  l:backward()
  near(lg.clip_grad_norm_(q, 1), 5, 1e-6)
  near(q.grad:totable(), {0.6, 0.8}, 1e-5)
end)

-- {---------------------------------------------------------- the fused step and optim.update
-- opt:step() runs each formula as a fused C kernel; optim.update writes it
-- with tensor ops for unrolling.  Both must give the same trajectory.

local UPDATE_CASES = {
  {"SGD", {lr = 0.1}},
  {"SGD", {lr = 0.1, weight_decay = 0.01}},
  {"SGD", {lr = 0.1, momentum = 0.9}},
  {"SGD", {lr = 0.1, momentum = 0.9, dampening = 0.1, weight_decay = 0.01}},
  {"SGD", {lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.05}},
  {"Adam", {lr = 0.01}},
  {"Adam", {lr = 0.05, betas = {0.5, 0.9}}},
  {"Adam", {lr = 0.01, betas = {0.9, 0.99}, eps = 1e-6, weight_decay = 0.1}},
  {"AdamW", {lr = 0.01}},
  {"AdamW", {lr = 0.05, betas = {0.5, 0.9}, weight_decay = 0.3}},
  {"RMSprop", {lr = 0.01}},
  {"RMSprop", {lr = 0.01, centered = true}},
  {"RMSprop", {lr = 0.01, momentum = 0.5}},
  {"RMSprop", {lr = 0.01, alpha = 0.9, eps = 1e-6, weight_decay = 0.05, momentum = 0.5,
               centered = true}},
  {"RMSprop", {lr = 0.01, initial_square_avg = 1}},
}

-- The fused kernels compute 1 - beta in float from beta rounded to float:
-- for beta2 = 0.999 that is 1.3e-5 off 0.001 (PyTorch and optim.update round
-- 1 - beta, computed in double).  The moments inherit that relative error;
-- the parameters move by ~lr times it, far below the 1e-6 checked.
local function f32(x) return (string.unpack("f", string.pack("f", x))) end
local function kernel_rounding(cfg)
  local worst = 0
  for _, b in ipairs{cfg.betas and cfg.betas[1], cfg.betas and cfg.betas[2], cfg.alpha} do
    worst = math.max(worst, math.abs((1 - f32(b)) / (1 - b) - 1))
  end
  return worst
end

-- max |a - b| / max |b|
local function rel_diff(a, b)
  return lg.no_grad(function() return ((a - b):abs():max() / b:abs():max()):item() end)
end

local function case_name(c)
  local keys = {}
  for k in pairs(c[2]) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tostring(c[2][k]) end
  return c[1] .. "{" .. table.concat(keys, ", ") .. "}"
end

test("optim: opt:step() and optim.update give the same parameters and state", function()
  for _, c in ipairs(UPDATE_CASES) do
    local name, what = c[1], case_name(c)
    lg.manual_seed(7)
    local p = lg.randn(6, 5)
    p.requires_grad = true
    local opt = optim[name]({p}, c[2])
    -- the differentiable update from the same start: a copy of p and of the fresh state
    local q, st = lg.no_grad(function() return p:clone() end), {}
    for k, v in pairs(opt.state[1]) do st[k] = k == "step" and v or v:clone() end
    for step = 1, 6 do
      local g = lg.randn(6, 5) * (step % 2 == 0 and 0.1 or 3)   -- small and large gradients
      p.grad = g
      opt:step()
      q, st = lg.no_grad(function() return optim.update[name](opt.config, q, g, st) end)
      local d = rel_diff(q, p)
      assert(d < 1e-6, ("%s step %d: parameters differ by %.3g (relative)"):format(what, step, d))
      eq(st.step, opt.state[1].step, what .. " step count")
      local tol = 1e-6 + kernel_rounding(opt.config)
      for k, v in pairs(opt.state[1]) do
        if k ~= "step" then
          d = rel_diff(st[k], v)
          assert(d < tol, ("%s step %d: %s differs by %.3g (relative)"):format(what, step, k, d))
        end
      end
    end
  end
end)

test("optim.update leaves its inputs alone and is differentiable", function()
  local p = lg.tensor{1, -2, 3}
  p.requires_grad = true
  local opt = optim.Adam({p}, {lr = 0.1})
  local g = p * p          -- a gradient that depends on p
  local p1, st1 = optim.update.Adam(opt.config, p, g, opt.state[1])
  eq(opt.state[1].step, 0)
  eq(opt.state[1].exp_avg:totable(), {0, 0, 0})
  eq(p:totable(), {1, -2, 3})
  eq(st1.step, 1)
  -- first Adam step: p - lr * sign(g) (up to eps), whose derivative in p is 1
  near(p1:totable(), {0.9, -2.1, 2.9}, 1e-5)
  local dp = lg.grad(p1:sum(), p)
  near(dp:totable(), {1, 1, 1}, 1e-4)
  -- SGD: p - lr (g + wd p) = p - 0.5 (p^2 + 0.1 p), derivative 1 - 0.5 (2 p + 0.1)
  local sgd = optim.SGD({p}, {lr = 0.5, weight_decay = 0.1})
  local p2 = optim.update.SGD(sgd.config, p, p * p, sgd.state[1])
  near(lg.grad(p2:sum(), p):totable(), {1 - 0.5 * 2.1, 1 - 0.5 * -3.9, 1 - 0.5 * 6.1}, 1e-5)
end)

test("optim.AdamW: the decay is decoupled from the moments (by hand)", function()
  local p = lg.tensor{2, -4}
  p.requires_grad = true
  local opt = optim.AdamW({p}, {lr = 0.1, weight_decay = 0.5})
  eq(opt.config.eps, 1e-8)
  p.grad = lg.tensor{3, 0}
  opt:step()
  -- p (1 - 0.1 * 0.5), then Adam's first step, lr * sign(g) (0 where g is 0)
  near(p:totable(), {2 * 0.95 - 0.1, -4 * 0.95}, 1e-6)
  eq(opt.state[1].exp_avg:totable()[2], 0, "the decay does not enter the moments")
  eq(optim.AdamW({lg.zeros(1):requires_grad_()}).config.weight_decay, 1e-2)
  raises(function() optim.AdamW({p}, {betas = {1, 0.9}}) end, "AdamW: betas must be two numbers in [0, 1)")
  raises(function() optim.AdamW({p}, {weight_decay = -1}) end, "AdamW: weight_decay must be >= 0")
end)

test("learning-rate schedules: values by epoch, state_dict round trip, errors", function()
  local function sgd(lr) return optim.SGD({lg.zeros(1):requires_grad_()}, {lr = lr}) end
  local function lrs(sched, n)
    local out = {sched.optimizer.config.lr}
    for _ = 1, n do sched:step(); out[#out + 1] = sched.optimizer.config.lr end
    return out
  end
  near(lrs(optim.StepLR(sgd(1), 2, 0.5), 5), {1, 1, 0.5, 0.5, 0.25, 0.25}, 1e-12)
  near(lrs(optim.ExponentialLR(sgd(2), 0.5), 3), {2, 1, 0.5, 0.25}, 1e-12)
  near(lrs(optim.LambdaLR(sgd(0.1), function(e) return 1 / (e + 1) end), 3), {0.1, 0.05, 0.1 / 3, 0.025}, 1e-12)
  near(lrs(optim.LinearLR(sgd(0.3), {start_factor = 0.5, total_iters = 2}), 3), {0.15, 0.225, 0.3, 0.3}, 1e-12)
  near(lrs(optim.CosineAnnealingLR(sgd(1), 2, 0.2), 4), {1, 0.6, 0.2, 0.6, 1}, 1e-12)
  -- a schedule restored from its state_dict continues where the first one was
  local a = optim.CosineAnnealingLR(sgd(0.1), 10)
  for _ = 1, 4 do a:step() end
  local b = optim.CosineAnnealingLR(sgd(0.1), 10):load_state_dict(a:state_dict())
  eq(b.optimizer.config.lr, a.optimizer.config.lr)
  a:step(); b:step()
  eq(b:get_last_lr(), a:get_last_lr())
  raises(function() optim.StepLR({}, 2) end, "StepLR: an optimizer (optim.SGD, Adam, AdamW, RMSprop) is expected")
  raises(function() optim.StepLR(sgd(1), 0) end, "StepLR: step_size must be an integer >= 1, got 0")
  raises(function() optim.ExponentialLR(sgd(1)) end, "ExponentialLR: gamma must be a number >= 0, got nil")
  raises(function() optim.LinearLR(sgd(1), {start_factor = 0}) end, "LinearLR: start_factor must be in (0, 1]")
  raises(function() optim.LinearLR(sgd(1), {steps = 3}) end, "LinearLR: unknown option 'steps'")
  raises(function() optim.LambdaLR(sgd(1), function() return "x" end) end,
         "LambdaLR: fn(0) returned string, expected a number")
  raises(function() b:load_state_dict({}) end, "CosineAnnealingLR.load_state_dict: expected last_epoch")
end)
