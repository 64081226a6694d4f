-- luagan.gan: GAN objectives and training schedules as plain Lua values.
--
-- A loss is a table {name, d = function(real_logits, fake_logits), g =
-- function(fake_logits)} whose functions return scalar tensors to MINIMISE
-- (gan/loss.lua).  A new objective is a few lines:
--
--   local my = lg.gan.Loss("relativistic", function(r, f) ... end, function(f) ... end)
--
-- A schedule is a value too: sched(it) is the number of D steps before the
-- it-th generator step (gan/schedule.lua).  gan.step runs one generator
-- iteration of any of them, optionally with a gradient penalty
-- (gan/penalty.lua), weight clipping or an unrolled D (Metz et al. 2017;
-- gan/unrolled.lua, whose optimizer updates are lg.optim.update's).  PacGAN's
-- packing is gan/pack.lua, MRGAN and MDGAN gan/mrgan.lua.  Everything is
-- composed of tensor ops: no Lua loop touches tensor elements.
--
-- This file only gathers the parts into one table, lg.gan; each part is a
-- module of its own (luagan.gan.loss, ...) returning the names it adds.
local gan = {}

for _, part in ipairs{"loss", "penalty", "schedule", "unrolled", "pack", "step", "mrgan"} do
  for k, v in pairs(require("luagan.gan." .. part)) do
    assert(gan[k] == nil, "luagan.gan: two parts define " .. k)
    gan[k] = v
  end
end

return gan
