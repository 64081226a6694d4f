-- luagan run 'mrgan': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  bn = false,
  checkpoint_every = 0,
  dataset = "mnist",
  distance = "",
  eval_every = 10,
  eval_n = 500,
  iters = 30,
  lambda = 0.01,
  lambda1 = 0.2,
  lambda2 = 0.4,
  lr_d = 0.0,
  lr_g = 0.0,
  nz = 0,
  out = "runs/reproduce-quick/mrgan-mnist-mrgan-s1",
  reg = "mrgan",
  sample_every = 0,
  seed = 1,
  threads = 1
}
