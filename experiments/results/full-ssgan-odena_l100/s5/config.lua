-- luagan run 'ssgan': the resolved flags (read back by --resume as data)
return {
  batch = 100,
  beta1 = 0.5,
  checkpoint_every = 0,
  data_init = true,
  dataset = "mnist10k",
  eval_every = 100,
  g_hidden = 250,
  hidden = "250,125,125",
  iters = 1000,
  labels = 100,
  lr = 0.003,
  method = "odena",
  noise_hidden = 0.5,
  noise_in = 0.3,
  nz = 100,
  out = "runs/reproduce-full/ssgan-odena_l100-s5",
  polyak = 0.995,
  sample_every = 500,
  seed = 5,
  threads = 1,
  unl_weight = 1.0
}
