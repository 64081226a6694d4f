-- luagan run 'cgan': the resolved flags (read back by --resume as data)
return {
  batch = 100,
  checkpoint_every = 0,
  cond = "concat",
  d_hidden = 240,
  dataset = "mnist10k",
  dropout = 0.5,
  dx = 240,
  dy = 50,
  eval_every = 500,
  eval_per_class = 100,
  g_hidden = 256,
  g_hidden2 = 512,
  gy = 10,
  iters = 6000,
  lr = 0.0002,
  nz = 100,
  out = "runs/reproduce-full/cgan-concat-s5",
  sample_every = 2000,
  seed = 5,
  threads = 1
}
