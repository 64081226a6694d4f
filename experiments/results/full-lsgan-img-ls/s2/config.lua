-- luagan run 'lsgan': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  bn = "g",
  checkpoint_every = 0,
  coding = "01",
  dataset = "mnist",
  eval_every = 500,
  eval_n = 5000,
  iters = 10000,
  loss = "ls",
  lr_d = 0.0002,
  lr_g = 0.0002,
  ndf = 16,
  ngf = 16,
  nz = 1024,
  optim = "adam",
  out = "runs/reproduce-full/lsgan-img-ls-s2",
  sample_every = 2500,
  seed = 2,
  size = 32,
  threads = 1
}
