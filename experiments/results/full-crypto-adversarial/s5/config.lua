-- luagan run 'crypto': the resolved flags (read back by --resume as data)
return {
  adversarial = true,
  arch = "code",
  batch = 512,
  checkpoint_every = 0,
  dataset = "mnist",
  eval_batch = 4096,
  eval_every = 250,
  eve_steps = 2,
  iters = 15000,
  lr = 0.0008,
  n = 16,
  out = "runs/reproduce-full/crypto-adversarial-s5",
  resets = 3,
  retrain_eval = 500,
  retrain_iters = 5000,
  sample_every = 0,
  seed = 5,
  threads = 1
}
