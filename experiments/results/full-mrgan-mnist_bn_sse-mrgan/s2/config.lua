-- luagan run 'mrgan': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  bn = true,
  checkpoint_every = 0,
  dataset = "mnist",
  distance = "sse",
  eval_every = 500,
  eval_n = 10000,
  iters = 5000,
  lambda = 0.01,
  lambda1 = 0.2,
  lambda2 = 0.4,
  lr_d = 0.0,
  lr_g = 0.0,
  nz = 0,
  out = "runsC/reproduce-full/mrgan-mnist_bn_sse-mrgan-s2",
  reg = "mrgan",
  sample_every = 2000,
  seed = 2,
  threads = 1
}
