-- luagan run 'aae': the resolved flags (read back by --resume as data)
return {
  batch = 100,
  checkpoint_every = 0,
  d_hidden = 256,
  dataset = "mnist10k",
  eval_every = 150,
  hidden = 256,
  holdout = 1000,
  iters = 2700,
  lr = 0.001,
  lr_reg = 0.0002,
  method = "vae",
  nz = 2,
  out = "runs/reproduce-full/aae-mix10-vae-s2",
  parzen = true,
  parzen_samples = 10000,
  prior = "mix10",
  prior_std = 5,
  sample_every = 900,
  seed = 2,
  threads = 1
}
