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
  method = "aae",
  nz = 8,
  out = "runs/reproduce-full/aae-aae-s1",
  parzen = true,
  parzen_samples = 10000,
  prior = "gauss",
  prior_std = 5,
  sample_every = 900,
  seed = 1,
  threads = 1
}
