-- luagan run 'srgan': the resolved flags (read back by --resume as data)
return {
  adv_weight = 0.001,
  batch = 16,
  blocks = 4,
  checkpoint_every = 0,
  content = "features",
  dataset = "fashion",
  decay = true,
  eval_every = 20,
  eval_n = 200,
  iters = 40,
  lr = 0.001,
  out = "runs/reproduce-quick/srgan-main-s1",
  phi_steps = 20,
  pretrain = 20,
  sample_every = 0,
  seed = 1,
  threads = 1,
  width = 16
}
