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
  out = "runs9U2/reproduce-full/unrolled_gan-k5_fastD-s2",
  sample_every = 500,
  second_order = true,
  seed = 2,
  threads = 1,
  unroll = 5,
  updates = "simultaneous"
}
