-- luagan run 'began': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  checkpoint_every = 0,
  code = 64,
  d_hidden = 256,
  dataset = "mnist10k",
  eval_every = 300,
  eval_n = 1000,
  g_bn = false,
  g_hidden = 256,
  gamma = 0.5,
  iters = 3000,
  lambda_k = 0.001,
  lr = 0.0001,
  nz = 64,
  out = "runs/reproduce-full/began-g05-s1",
  sample_every = 3000,
  seed = 1,
  threads = 1,
  warmup = 500
}
