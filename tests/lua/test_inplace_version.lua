-- In-place writes against saved tensors: every write bumps its storage's
-- version and backward refuses values changed since the forward pass, through
-- any alias and in any grad mode; lg.grad with an input listed twice.
local nn, optim = lg.nn, lg.optim
local STALE = "modified by an in-place operation"

local function leaf(t)
  local x = lg.tensor(t)
  x.requires_grad = true
  return x
end

test("a write through a detach() alias fails backward instead of a wrong gradient", function()
  local x = leaf{1}
  local y = x:exp()
  y:detach():fill_(100)
  raises(function() y:sum():backward() end, "exp backward: a tensor saved for backward was " ..
         STALE .. " (version 1, expected 0)")
  eq(x.grad, nil, "a refused backward leaves .grad alone")
end)

test("a write under no_grad fails backward, also into a view of the saved tensor", function()
  local x, w = leaf{1, 2, 3}, lg.tensor{4, 5, 6}
  local loss = (x * w):sum()
  lg.no_grad(function() w:fill_(0) end)
  raises(function() loss:backward() end, "mul backward")
  local y = x:tanh()
  lg.no_grad(function() y:narrow(1, 2, 1):copy_(lg.tensor{0}) end)
  raises(function() y:sum():backward() end, STALE)
  -- the refusal on the tensor itself still speaks first
  raises(function() y:fill_(0) end, "fill_: a tensor computed by 'tanh'")
end)

test("writes no pending backward reads are fine", function()
  local x, other = leaf{1}, lg.zeros(3)
  lg.no_grad(function() x:fill_(2) end)        -- before the forward pass
  local y = x:exp()
  other:fill_(7)                                -- outside the graph
  lg.no_grad(function() other:copy_(y) end)     -- reading y is not writing it
  y:sum():backward()
  near(x.grad:totable(), {math.exp(2)}, 1e-5)
  lg.no_grad(function() x:fill_(0) end)        -- after the backward that freed the graph
  x:exp():sum():backward()
  near(x.grad:totable(), {math.exp(2) + 1}, 1e-5)
end)

-- G's loss built through D, D's step, then G's backward: D's new weights
-- with the activations of the old ones.  PyTorch refuses it the same way.
test("an optimizer step between forward and backward is refused (the GAN ordering bug)", function()
  lg.manual_seed(3)
  local G, D = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
  local optG = optim.Adam(G:parameters(), {lr = 1e-2})
  local optD = optim.Adam(D:parameters(), {lr = 1e-2})
  local real, z = lg.randn(8, 2), lg.randn(8, 2)
  local fake = G(z)
  local lossD = lg.gan.non_saturating.d(D(real), D(fake:detach()))
  local lossG = lg.gan.non_saturating.g(D(fake))
  optD:zero_grad()
  lossD:backward()
  optD:step()
  optG:zero_grad()
  raises(function() lossG:backward() end, "linear backward: a tensor saved for backward was " ..
         STALE)
  -- weight clipping and load_state_dict write in place too
  local out = D(real):sum()
  lg.clip_(D:parameters(), -0.01, 0.01)
  raises(function() out:backward() end, STALE)
  out = D(real):sum()
  D:load_state_dict(D:state_dict())
  raises(function() out:backward() end, STALE)
end)

test("the usual loop: steps after backward, D re-run after its step", function()
  lg.manual_seed(4)
  local G, D = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Tanh(),
                                              nn.Linear(4, 1))
  local optG = optim.Adam(G:parameters(), {lr = 1e-2})
  local optD = optim.SGD(D:parameters(), {lr = 1e-2, momentum = 0.9})
  local before = D[1].weight:clone()
  for _ = 1, 3 do
    local real, fake = lg.randn(8, 2), G(lg.randn(8, 2))
    -- two training-mode forwards through batch norm before one backward:
    -- its running statistics move in place but are not saved
    local lossD = lg.gan.non_saturating.d(D(real), D(fake:detach()))
    optD:zero_grad()
    lossD:backward()
    optD:step()
    local lossG = lg.gan.non_saturating.g(D(fake))
    optG:zero_grad()
    lossG:backward()
    optG:step()
  end
  assert((D[1].weight - before):abs():max():item() > 0, "D trained")
end)

test("a graph kept by retain_graph is checked again on its next backward", function()
  local w = leaf{1, 2}
  local loss = (w * w):sum()
  loss:backward{retain_graph = true}
  optim.SGD({w}, {lr = 0.5}):step()
  eq(w:totable(), {0, 0})
  raises(function() loss:backward() end, "mul backward")
  eq(w.grad:totable(), {2, 4})
end)

test("gradient penalty (create_graph) still works, and its graph is checked", function()
  local x = leaf{1, 2}
  local g = lg.grad((x ^ 3):sum(), x, {create_graph = true})
  near(g:totable(), {3, 12}, 1e-5)
  near(lg.grad(g:sum(), x, {retain_graph = true}):totable(), {6, 12}, 1e-5)
  lg.no_grad(function() x:fill_(0) end)
  raises(function() lg.grad(g:sum(), x) end, STALE)
end)

test("lg.grad with an input listed twice gives its gradient in both places", function()
  local a, b = leaf{2, -1}, leaf{5}
  local gs = lg.grad((a * a):sum(), {a, b, a}, {create_graph = true})
  near(gs[1]:totable(), {4, -2}, 1e-6)
  near(gs[2]:totable(), {0}, 0)
  near(gs[3]:totable(), {4, -2}, 1e-6)
  near(lg.grad(gs[3]:sum(), a):totable(), {2, 2}, 1e-6)
  local z = lg.grad((a * 3):sum(), {b, b})
  near(z[1]:totable(), {0}, 0)
  near(z[2]:totable(), {0}, 0)
end)
