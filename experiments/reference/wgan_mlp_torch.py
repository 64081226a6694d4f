# wgan_mlp_torch.py: the loop of `wgan.lua --dataset mnist --arch mlp512 --critic mlp --loss wgan`
# transcribed to PyTorch (Debian's python3-torch), to tell a luagan bug from a
# property of the algorithm: does weight clipping kill the authors' MLP critic
# (Arjovsky et al., models/mlp.py MLP_D: 784 -> 3 x 512 ReLU -> 1) here too?
#
#   build/luagan -e 'local d = require("luagan").data.load("mnist", "train")
#     require("luagan").save("/tmp/mnist_train.safetensors", {x = d.images:reshape(d.n, 784):contiguous()})'
#   python3 experiments/reference/wgan_mlp_torch.py SEED [WIDTH] [ITERS] [DATA]
#
# The same data (the shipped MNIST subset, [-1, 1]), nets, RMSprop 5e-5, clip
# 0.01 before each critic step, n_critic 5 with 100 for the first 25 and every
# 500th generator iteration, batch 64, z ~ N(0, I_100).  Every 100 generator
# iterations: how many units of the critic's last hidden layer fire for some
# of 512 real + 512 generated digits, and the spread of D's output on them.
# A dead critic has 0 units alive and a constant output (spread ~1e-9: its
# last bias, up to the order of float summation).
# Seen (2,000 iterations, 1 thread): seeds 2, 3 and 4 of 1-4 die (by iterations 900,
# 1,400 and 1,900), seed 1 runs on 6 of 512 units at 2,000; luagan's runs died in
# seeds 2 and 3 of 1-3.
import json, struct, sys
import numpy as np
import torch
import torch.nn as nn

seed = int(sys.argv[1])
width = int(sys.argv[2]) if len(sys.argv) > 2 else 512
iters = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
path = sys.argv[4] if len(sys.argv) > 4 else "/tmp/mnist_train.safetensors"
torch.set_num_threads(1)

raw = open(path, "rb").read()
hlen = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + hlen])["x"]
X = torch.from_numpy(np.frombuffer(raw[8 + hlen:], dtype=np.float32).reshape(header["shape"]).copy())


def mlp(nin, nout):
    return nn.Sequential(nn.Linear(nin, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, width), nn.ReLU(), nn.Linear(width, nout))


torch.manual_seed(seed)
G, D = mlp(100, 784), mlp(784, 1)
optG = torch.optim.RMSprop(G.parameters(), lr=5e-5)
optD = torch.optim.RMSprop(D.parameters(), lr=5e-5)
batch = 64
order, pos = torch.randperm(len(X)), 0


def real_batch():
    global order, pos
    if pos + batch > len(X):
        order, pos = torch.randperm(len(X)), 0
    pos += batch
    return X[order[pos - batch:pos]]


x_fixed, z_fixed = X[:512], torch.randn(512, 100)


def critic_state():
    with torch.no_grad():
        h = torch.cat([x_fixed, G(z_fixed)])
        for layer in list(D)[:-1]:
            h = layer(h)
        alive = int((h.sum(0) > 0).sum())
        spread = float(D(torch.cat([x_fixed, G(z_fixed)])).std())
    return alive, spread


for it in range(1, iters + 1):
    done = it - 1
    for _ in range(100 if done < 25 or done % 500 == 0 else 5):
        for p in D.parameters():
            p.data.clamp_(-0.01, 0.01)
        with torch.no_grad():
            fake = G(torch.randn(batch, 100))
        lossD = D(fake).mean() - D(real_batch()).mean()
        optD.zero_grad()
        lossD.backward()
        optD.step()
    for p in D.parameters():
        p.requires_grad_(False)
    lossG = -D(G(torch.randn(batch, 100))).mean()
    optG.zero_grad()
    lossG.backward()
    optG.step()
    for p in D.parameters():
        p.requires_grad_(True)
    if it % 100 == 0 or it == iters:
        alive, spread = critic_state()
        print(f"seed {seed} it {it} lossD {float(lossD):.5f} last hidden layer alive {alive}/{width} "
              f"D spread {spread:.2e}", flush=True)
