-- luagan run 'dcgan': the resolved flags (read back by --resume as data)
return {
  batch = 64,
  beta1 = 0.5,
  bn_everywhere = false,
  checkpoint_every = 0,
  dataset = "mnist",
  iters = 2000,
  lr = 0.0002,
  ndf = 16,
  ngf = 16,
  noise = "uniform",
  nz = 100,
  out = "runsG/reproduce-full/dcgan-mnist32-s1",
  probe = true,
  probe_labels = 1000,
  probe_steps = 300,
  sample_every = 500,
  seed = 1,
  size = 32,
  threads = 1
}
