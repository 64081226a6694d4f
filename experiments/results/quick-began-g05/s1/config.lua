-- luagan run 'began': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  checkpoint_every = 0,
  code = 64,
  d_hidden = 256,
  dataset = "mnist10k",
  eval_every = 20,
  eval_n = 200,
  g_bn = false,
  g_hidden = 256,
  gamma = 0.5,
  iters = 60,
  lambda_k = 0.001,
  lr = 0.0001,
  nz = 64,
  out = "runs/reproduce-quick/began-g05-s1",
  sample_every = 0,
  seed = 1,
  threads = 1,
  warmup = 20
}
