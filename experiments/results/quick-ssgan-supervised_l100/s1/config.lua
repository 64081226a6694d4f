-- luagan run 'ssgan': the resolved flags (read back by --resume as data)
return {
  batch = 100,
  beta1 = 0.5,
  checkpoint_every = 0,
  data_init = true,
  dataset = "mnist10k",
  eval_every = 20,
  g_hidden = 64,
  hidden = "64,32",
  iters = 40,
  labels = 100,
  lr = 0.003,
  method = "supervised",
  noise_hidden = 0.5,
  noise_in = 0.3,
  nz = 100,
  out = "runs/reproduce-quick/ssgan-supervised_l100-s1",
  polyak = 0.995,
  sample_every = 0,
  seed = 1,
  threads = 1,
  unl_weight = 1.0
}
