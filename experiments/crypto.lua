-- crypto.lua: Abadi and Andersen, "Learning to Protect Communications with Adversarial Neural
-- Cryptography" (arXiv 1610.06918, 2016).
--
-- Alice encrypts an N-bit plaintext with an N-bit key, Bob decrypts with the key, Eve sees only
-- the ciphertext; all three are "mix and transform" nets (one fully connected layer, then 1-D
-- convolutions). Eve minimises her L1 reconstruction error; Alice and Bob minimise Bob's error
-- plus (N/2 - Eve's bits wrong)^2 / (N/2)^2, one Alice/Bob step per two Eve steps (sec. 2.3).
-- At the end Alice and Bob are frozen and fresh Eves are trained against them from scratch: the
-- best of them says how much the ciphertext leaks (sec. 2.5). --adversarial false drops the Eve
-- term (the control). Notes: experiments/notes/crypto.md.
--
--   luagan experiments/crypto.lua [--n 16] [--iters N] [--batch B] [--adversarial true|false]
--          [--arch code|paper] [--resets K] [--retrain_iters N] ...
local lg = require "luagan"
local nn, optim = lg.nn, lg.optim

local run = lg.experiment{
  name = "crypto", iters = 15000, batch = 512, n = 16, lr = 8e-4, eve_steps = 2,
  adversarial = true, arch = {"code", "paper"},
  eval_every = 250, eval_batch = 4096, resets = 3, retrain_iters = 5000, retrain_eval = 500,
  sample_every = 0, checkpoint_every = 5000,
  doc = {iters = "Alice/Bob steps (each followed by --eve_steps Eve steps)", batch = "examples per step",
         n = "bits of plaintext, key and ciphertext", lr = "Adam learning rate of all nets",
         eve_steps = "Eve steps per Alice/Bob step (the code's EVE_MULTIPLIER)",
         adversarial = "Alice/Bob loss has the Eve term (false: Bob's error only, the control)",
         arch = "code: the released model (linear FC, conv k2 s2 2ch, k1 2ch, k1 1ch); paper: sec. 2.4's",
         eval_every = "evaluate Bob and Eve every N Alice/Bob steps", eval_batch = "fresh examples per evaluation",
         resets = "fresh Eves trained against the frozen Alice at the end", retrain_iters = "steps of each fresh Eve",
         retrain_eval = "evaluate each fresh Eve every N of its steps"},
}
local cfg = run.config
local N = cfg.n
if N < 2 or N % 2 ~= 0 then run:fail("--n must be even and >= 2") end
if cfg.eve_steps < 1 then run:fail("--eve_steps must be >= 1") end
if cfg.resets < 0 or cfg.retrain_iters < 1 or cfg.retrain_eval < 1 then
  run:fail("--resets must be >= 0, --retrain_iters and --retrain_eval >= 1")
end

-- {---------------------------------------------------------- the nets
-- "Mix and transform" (sec. 2.4): a fully connected layer over [text, key] (2N -> 2N; Eve: N -> 2N),
-- then 1-D convolutions over the 2N mixed values as a 1-channel sequence. --arch code is the
-- released model (the authors' README: half the conv widths, no nonlinearity after the FC layer);
-- --arch paper the paper's (window, depth, stride): (4, 2, 1), (2, 4, 2), (1, 4, 1), (1, 1, 1).
local Net = nn.Module:extend("CryptoNet")
function Net:init(nin, arch)
  self.fc = nn.Linear(nin, 2 * N)
  -- the paper's Eve has a second fully connected layer (N -> 2N -> 2N); the code's has one
  if arch == "paper" and nin == N then self.fc = nn.Sequential(self.fc, nn.Sigmoid(), nn.Linear(2 * N, 2 * N)) end
  self.arch = arch
  if arch == "code" then
    self.convs = nn.ModuleList{nn.Conv1d(1, 2, 2, {stride = 2}), nn.Conv1d(2, 2, 1), nn.Conv1d(2, 1, 1)}
  else
    self.convs = nn.ModuleList{nn.Conv1d(1, 2, 4), nn.Conv1d(2, 4, 2, {stride = 2}),
                               nn.Conv1d(4, 4, 1), nn.Conv1d(4, 1, 1)}
  end
  for _, p in ipairs(self:parameters()) do
    if p:dim() > 1 then nn.init.xavier_uniform_(p) else nn.init.zeros_(p) end
  end
end

function Net:forward(x)
  local h = self.fc(x)
  if self.arch == "paper" then h = h:sigmoid() end
  h = h:unsqueeze(2)                                      -- [B, 1, 2N]
  local L = #self.convs
  for i = 1, L do
    -- TensorFlow's "SAME" padding of the window-4 layer: 1 before, 2 after
    if self.arch == "paper" and i == 1 then h = lg.pad(h, {1, 2}) end
    h = self.convs[i](h)
    h = i == L and h:tanh() or h:sigmoid()
  end
  return h:squeeze(2)                                     -- [B, N] in (-1, 1)
end

local alice, bob = Net(2 * N, cfg.arch), Net(2 * N, cfg.arch)
local function new_eve() return Net(N, cfg.arch) end
local eve = new_eve()
local ab_params = alice:parameters()
for _, p in ipairs(bob:parameters()) do ab_params[#ab_params + 1] = p end
local optAB = optim.Adam(ab_params, {lr = cfg.lr})
local optE = optim.Adam(eve:parameters(), {lr = cfg.lr})
-- }

-- {---------------------------------------------------------- losses
local function bits(b) return (lg.rand(b, N) * 2):floor() * 2 - 1 end   -- uniform {-1, 1}^N

-- bits wrong per example, d(P, P') = sum_i |P_i - P'_i| / 2 (sec. 2.2), as [B]
local function bits_wrong(p, guess) return ((p - guess):abs() / 2):sum(2) end

local function eve_loss(p, c, net) return bits_wrong(p, net(c)):mean() end

local function ab_step()
  local p, k = bits(cfg.batch), bits(cfg.batch)
  local c = alice(lg.cat({p, k}, 2))
  local bob_err = bits_wrong(p, bob(lg.cat({c, k}, 2)))
  -- the code's scaling: Bob's bits per bit (in [0, 1]) plus the Eve term (in [0, 1])
  local loss = bob_err:mean() / N
  if cfg.adversarial then
    local eve_err = bits_wrong(p, eve(c))
    loss = loss + ((N / 2 - eve_err) ^ 2):mean() / (N / 2) ^ 2
  end
  optAB:zero_grad()
  loss:backward()
  optAB:step()
  return loss
end

local function eve_step(net, opt)
  local p, k = bits(cfg.batch), bits(cfg.batch)
  local c = lg.no_grad(function() return alice(lg.cat({p, k}, 2)) end)
  local loss = eve_loss(p, c, net)
  opt:zero_grad()
  loss:backward()
  opt:step()
  return loss
end

-- mean bits wrong of Bob and of an Eve on fresh examples: the code's doeval
local function evaluate(e)
  return lg.no_grad(function()
    local p, k = bits(cfg.eval_batch), bits(cfg.eval_batch)
    local c = alice(lg.cat({p, k}, 2))
    return bits_wrong(p, bob(lg.cat({c, k}, 2))):mean():item(), bits_wrong(p, e(c)):mean():item()
  end)
end
-- }

run:track{alice = alice, bob = bob, eve = eve, optAB = optAB, optE = optE}
print(("crypto: N = %d, %s nets (Alice %d parameters), batch %d, %s"):format(N, cfg.arch,
  alice:num_parameters(), cfg.batch, cfg.adversarial and "adversarial" or "control: no Eve term"))

-- fresh Eves against the frozen Alice and Bob (the code trains each for 25 x 10,000 steps):
-- per Eve the best (lowest) bits wrong at any of its evaluations; returns the best of all
local function retrain_eves()
  local best, lines = math.huge, {}
  for r = 1, cfg.resets do
    local e = new_eve()
    local opt = optim.Adam(e:parameters(), {lr = cfg.lr})
    local eve_best = math.huge
    for s = 1, cfg.retrain_iters do
      eve_step(e, opt)
      if s % cfg.retrain_eval == 0 or s == cfg.retrain_iters then
        local _, ew = evaluate(e)
        eve_best = math.min(eve_best, ew)
      end
    end
    lines[#lines + 1] = ("fresh Eve %d: best %.4f bits wrong of %d in %d steps"):format(r, eve_best, N, cfg.retrain_iters)
    print("crypto: " .. lines[#lines])
    best = math.min(best, eve_best)
  end
  return best, lines
end

for it in run:iterations() do
  local row = {loss_ab = ab_step()}
  for _ = 1, cfg.eve_steps do row.loss_eve = eve_step(eve, optE) end
  if it == 1 then row.retrained_eve_bits_wrong = "" end   -- name the end-of-run column
  if it == 1 or it % cfg.eval_every == 0 or it == cfg.iters then
    row.bob_bits_wrong, row.eve_bits_wrong = evaluate(eve)
  end
  if it == cfg.iters and cfg.resets > 0 then
    local best, lines = retrain_eves()
    row.retrained_eve_bits_wrong = best
    run:write("summary.txt", ("crypto: N = %d, %s, Bob %.4f bits wrong, Eve trained alongside %.4f\n%s\n"
      .. "best fresh Eve: %.4f bits wrong (random guessing: %d)\n"):format(N, cfg.adversarial and "adversarial"
      or "control", row.bob_bits_wrong, row.eve_bits_wrong, table.concat(lines, "\n"), best, N // 2))
  end
  run:log(row)
end
