-- luagan run 'srgan': the resolved flags (read back by --resume as data)
return {
  adv_weight = 0.0,
  batch = 16,
  blocks = 4,
  checkpoint_every = 0,
  content = "features",
  dataset = "fashion",
  decay = true,
  eval_every = 200,
  eval_n = 1000,
  iters = 2000,
  lr = 0.001,
  out = "runs/reproduce-full/srgan-features_noadv-s3",
  phi_steps = 400,
  pretrain = 1000,
  sample_every = 1000,
  seed = 3,
  threads = 1,
  width = 16
}
