-- luagan run 'unrolled_gan': the resolved flags (read back by --resume as data)
return {
  batch = 512,
  beta1 = 0.5,
  checkpoint_every = 0,
  data_variant = "pacgan",
  dataset = "ring8",
  eval_every = 250,
  g_objective = "full",
  gain = 1.4,
  hidden = 128,
  iters = 10000,
  loss = "minimax",
  lr_d = 0.001,
  lr_g = 0.001,
  nz = 256,
  out = "runs9U1/reproduce-full/unrolled_gan-k0_fastD-s5",
  sample_every = 500,
  second_order = true,
  seed = 5,
  threads = 1,
  unroll = 0,
  updates = "simultaneous"
}
