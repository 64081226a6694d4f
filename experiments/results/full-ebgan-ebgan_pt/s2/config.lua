-- luagan run 'ebgan': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  checkpoint_every = 0,
  code = 64,
  d_hidden = 256,
  dataset = "mnist10k",
  eval_every = 300,
  eval_n = 1000,
  g_hidden = 256,
  iters = 3000,
  loss = "ebgan",
  lr = 0.001,
  margin = 1.0,
  nz = 64,
  out = "runs/reproduce-full/ebgan-ebgan_pt-s2",
  pt = 0.1,
  sample_every = 3000,
  seed = 2,
  threads = 1
}
