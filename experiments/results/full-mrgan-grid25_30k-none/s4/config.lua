-- luagan run 'mrgan': the resolved flags (read back by --resume as data)
return {
  batch = 256,
  beta1 = 0.5,
  bn = false,
  checkpoint_every = 0,
  dataset = "grid25",
  distance = "",
  eval_every = 1000,
  eval_n = 5000,
  iters = 30000,
  lambda = 0.01,
  lambda1 = 0.2,
  lambda2 = 0.4,
  lr_d = 0.0,
  lr_g = 0.0,
  nz = 0,
  out = "runsC/reproduce-full/mrgan-grid25_30k-none-s4",
  reg = "none",
  sample_every = 10000,
  seed = 4,
  threads = 1
}
