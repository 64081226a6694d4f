-- classifier.lua: the small CNN behind the image metrics (lua/luagan/image_metrics.lua:
-- Inception score, MODE score, FID on its features, classes covered), trained by
-- luagan on MNIST or Fashion-MNIST; reports test accuracy and caches the weights
-- with the training set's label frequencies and feature statistics.
--
--   luagan experiments/classifier.lua --dataset mnist|fashion [--epochs N] [--seed N]
--                                     [--shift N] [--dropout X] [--lr X] ... (--help)
--
-- The model, the data and the weights file: experiments/notes/classifier.md.
local lg = require "luagan"
local im = require "luagan.image_metrics"

local defaults = {
  name = "classifier", dataset = "mnist", epochs = 6, batch = 64, lr = 1e-3, lr_decay = 0.8,
  shift = -1, dropout = 0.3, threads = 2, iters = 0, minutes = 0.0, out = "",
  doc = {epochs = "training epochs",
         lr = "Adam learning rate", lr_decay = "lr multiplied by this after each epoch",
         shift = "random translation of training images, pixels (-1: 2 for mnist, 0 for fashion)",
         dropout = "dropout on the penultimate features during training",
         iters = "stop after N iterations (0: run all epochs)",
         minutes = "stop training after this many minutes of wall time (0: no limit)",
         out = "directory for <dataset>.safetensors (default models/)",
         dataset = "mnist (full MNIST if in datasets/mnist/, else the shipped subset), mnist10k or fashion"},
}
local cfg, usage = lg.experiment.parse(defaults, arg)
if not cfg then print(usage) os.exit(0) end
if cfg.resume ~= "" or cfg.stop_at ~= 0 then
  lg.experiment.fail("classifier", "--resume / --stop_at are not supported (a run takes minutes)")
end
local fashion = cfg.dataset == "fashion"
local epochs = cfg.epochs
if epochs < 1 then lg.experiment.fail("classifier", "--epochs must be >= 1") end
local shift = cfg.shift >= 0 and cfg.shift or (fashion and 0 or 2)
if cfg.threads > 0 then lg.set_num_threads(cfg.threads) end
lg.manual_seed(cfg.seed)

local train = lg.data.load(cfg.dataset, "train")
local test = lg.data.load(cfg.dataset, "test")
local name = train.name == "mnist10k" and "mnist" or train.name   -- the weights' file name
local out = cfg.out ~= "" and cfg.out or im.weights_dir()
print(("classifier: %s, %d train / %d test images, %d epochs, shift %d, dropout %g, %d threads")
  :format(train.name, train.n, test.n, epochs, shift, cfg.dropout, lg.get_num_threads()))

local net = im.Classifier{dropout = cfg.dropout}
local opt = lg.optim.Adam(net:parameters(), {lr = cfg.lr})
local loader = lg.data.Loader({train.images, train.labels}, {batch = cfg.batch})

-- random translation by -s..s pixels per axis, per image; the border is the
-- background value (the images' minimum, -1)
local function translate(x, s)
  local n, h, w = x:size(1), x:size(3), x:size(4)
  local bg = -1
  local wide = lg.cat({lg.full({n, 1, h, s}, bg), x, lg.full({n, 1, h, s}, bg)}, 4)
  local padded = lg.cat({lg.full({n, 1, s, w + 2 * s}, bg), wide, lg.full({n, 1, s, w + 2 * s}, bg)}, 3)
  local offs = lg.rand(n, 2):totable()
  local rows = {}
  for i = 1, n do
    local dy = math.min(2 * s, math.floor(offs[i][1] * (2 * s + 1)))
    local dx = math.min(2 * s, math.floor(offs[i][2] * (2 * s + 1)))
    rows[i] = padded:narrow(1, i, 1):narrow(3, dy + 1, h):narrow(4, dx + 1, w)
  end
  return lg.cat(rows, 1)
end

local function test_accuracy()
  net:eval()
  local m = im.new(net, {p_train = lg.ones(10) / 10, mu = lg.zeros(128), sigma = lg.zeros(128, 128)})
  local acc = m:accuracy(test.images, test.labels)
  net:train()
  return acc
end

local t0, it, stop = os.time(), 0, false
local acc, done_epochs
for epoch = 1, epochs do
  local loss_sum, count = 0.0, 0
  for batch in loader:epoch() do
    local x, y = batch[1], batch[2]
    if shift > 0 then x = translate(x, shift) end
    local loss = lg.cross_entropy(net(x), y)
    opt:zero_grad()
    loss:backward()
    opt:step()
    loss_sum, count = loss_sum + loss:item(), count + 1
    it = it + 1
    if (cfg.iters > 0 and it >= cfg.iters) or
       (cfg.minutes > 0 and os.difftime(os.time(), t0) >= 60 * cfg.minutes) then
      stop = true
      break
    end
  end
  acc = test_accuracy()
  done_epochs = epoch - 1 + count / loader:batches()
  print(("epoch %d  lr %.2e  train loss %.4f  test accuracy %.2f%%  (%d iterations, %ds)")
    :format(epoch, opt.config.lr, loss_sum / count, 100 * acc, it, os.time() - t0))
  io.stdout:flush()
  opt.config.lr = opt.config.lr * cfg.lr_decay
  if stop then break end
end

-- statistics of the training set for the metrics
net:eval()
local m = im.new(net, {p_train = lg.ones(10) / 10, mu = lg.zeros(128), sigma = lg.zeros(128, 128)})
local onehot = lg.one_hot(train.labels:view(train.n), 10)
local p_train = onehot:sum(1):view(10) / train.n
local stats = m:feature_stats(train.images)

local sd = {}
for k, v in pairs(net:state_dict()) do sd[k] = v end
sd["stats.p_train"], sd["stats.mu"], sd["stats.sigma"] = p_train, stats.mu, stats.sigma
os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")
local path = out .. "/" .. name .. ".safetensors"
lg.save(path, sd, {dataset = train.name, train_n = train.n, test_n = test.n,
                   test_accuracy = ("%.4f"):format(acc), epochs = ("%.3f"):format(done_epochs),
                   iterations = it, threads = lg.get_num_threads(), seed = cfg.seed,
                   shift = shift, dropout = cfg.dropout, lr = cfg.lr, lr_decay = cfg.lr_decay,
                   batch = cfg.batch, seconds = os.time() - t0})
print(("test accuracy %.2f%% (%d / %d)  saved %s"):format(100 * acc,
  math.floor(acc * test.n + 0.5), test.n, path))
