-- luagan run 'lsgan': the resolved flags (read back by --resume as data)
return {
  batch = 512,
  beta1 = 0.5,
  checkpoint_every = 0,
  coding = "chi2",
  dataset = "ring8",
  eval_every = 250,
  gain = 1.4,
  hidden = 128,
  iters = 35000,
  loss = "ls",
  lr_d = 0.001,
  lr_g = 0.001,
  nz = 256,
  out = "runs9L/reproduce-full/lsgan-chi2_fastD-s5",
  sample_every = 5000,
  seed = 5,
  threads = 1,
  updates = "simultaneous"
}
