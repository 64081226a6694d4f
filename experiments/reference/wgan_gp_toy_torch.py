# wgan_gp_toy_torch.py: the generator iteration of `wgan_gp.lua --dataset ring8
# --lambda 0.1 --beta1 0.5` (gan_toy.py's recipe) in PyTorch, to compare speed:
# G 2 -> 3 x 512 ReLU -> 2, D 2 -> 3 x 512 ReLU -> 1, batch 256, 5 critic steps
# with the gradient penalty (a gradient of a gradient) per G step, Adam 1e-4
# (0.5, 0.9).  Prints generator iterations per second after 20 untimed ones.
#
#   OMP_NUM_THREADS=T python3 experiments/reference/wgan_gp_toy_torch.py [ITERS] [T]
#   build/luagan experiments/wgan_gp.lua --dataset ring8 --lambda 0.1 --beta1 0.5 --iters 320 \
#     --eval_every 100000 --sample_every 0 --checkpoint_every 0 --threads T --out /tmp/wgp
#
# Seen on the project's 2-core machine (idle, 2026-11-26): PyTorch 5.35 it/s at 1
# thread, 9.5 at 2; luagan 11.4 and 15.6 (its number includes two evaluations):
# 2.1x and 1.6x PyTorch.
import math
import sys
import time
import torch
import torch.nn as nn

iters = int(sys.argv[1]) if len(sys.argv) > 1 else 300
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
torch.manual_seed(1)
width = 512


def mlp(nin, nout):
    return nn.Sequential(nn.Linear(nin, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, nout))


G, D = mlp(2, 2), mlp(2, 1)
optG = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.9))
optD = torch.optim.Adam(D.parameters(), 1e-4, betas=(0.5, 0.9))
# 8 Gaussians as gan_toy.py: radius 2, std 0.02, divided by 1.414
centres = torch.tensor([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)]
                        for k in range(8)]) / 1.414


def real(n):
    return centres[torch.randint(0, 8, (n,))] + 0.02 / 1.414 * torch.randn(n, 2)


def generator_iteration():
    for _ in range(5):
        x = real(256)
        with torch.no_grad():
            fake = G(torch.randn(256, 2))
        eps = torch.rand(256, 1)
        xhat = (eps * x + (1 - eps) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(D(xhat).sum(), xhat, create_graph=True)
        lossD = D(fake).mean() - D(x).mean() + 0.1 * ((grad.norm(dim=1) - 1) ** 2).mean()
        optD.zero_grad()
        lossD.backward()
        optD.step()
    for p in D.parameters():        # no gradient for D's weights in G's step (luagan: lg.grad on G's)
        p.requires_grad_(False)
    lossG = -D(G(torch.randn(256, 2))).mean()
    optG.zero_grad()
    lossG.backward()
    optG.step()
    for p in D.parameters():
        p.requires_grad_(True)


for _ in range(20):
    generator_iteration()
t0 = time.time()
for _ in range(iters):
    generator_iteration()
print(f"pytorch wgan-gp toy, width {width}, {torch.get_num_threads()} thread(s): "
      f"{iters / (time.time() - t0):.2f} it/s")
