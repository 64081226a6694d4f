# unrolled_gan_torch.py: the training loop of `unrolled_gan.lua` in PyTorch, to tell a luagan
# bug from a property of the setup.  The unrolled-GAN notebook's (poolio/unrolled_gan) nets and
# rates: ring of 8 Gaussians (radius 1, std 0.01, 8 distinct angles), G z ~ N(0, I_256) -> 2 x
# tanh 128 -> 2, D 2 -> 2 x tanh 128 -> 1 logit, orthogonal init (gain 1.4, zero biases), Adam
# (beta1 0.5, 0.999, eps 1e-8), G lr 1e-3, batch 512, D and G updated simultaneously from one
# forward pass, the minimax value f = E log D(x) + E log(1 - D(G(z))).  With K > 0, G minimises
# f at D unrolled K Adam steps ahead (moments and step count included), differentiated through
# the steps: Metz et al. 2017, sec. 2.2, the paper's f_K.  Evaluation as lg.metrics.mode_coverage:
# 2,500 samples of a fixed z every 250 iterations; a sample is high quality within 3 std of its
# nearest centre, a mode captured when it is the nearest centre of one such sample.  Prints the
# series, then the means over the last 25% of the evaluations (the report's window).
#
#   python3 experiments/reference/unrolled_gan_torch.py [--unroll K] [--lr_d X] [--iters N] [--seed S]
#
# Seen on the project's 2-core machine (2026-12-07; Debian's PyTorch 1.13), K = 0, 10,000
# iterations, seeds 1-3, means over the last 25% of the evaluations: D lr 1e-4 (the notebook's)
# 5.82 / 6.64 / 4.82 modes at HQ 1.2% / 1.6% / 1.8%, D's loss 1.383-1.389 from 2,500 on (2 log 2
# = 1.386 at chance); D lr 1e-3: 7.73 / 8.00 / 7.64 modes at HQ 73% / 91% / 83%.  luagan's
# unrolled_gan.lua in the same setting: experiments/unrolled_gan.md (rows k0 and k0_fastD).
import argparse
import math
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--unroll", type=int, default=0)
p.add_argument("--lr_d", type=float, default=1e-4)
p.add_argument("--lr_g", type=float, default=1e-3)
p.add_argument("--iters", type=int, default=10000)
p.add_argument("--eval_every", type=int, default=250)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(1)
BETA1, BETA2, EPS, BATCH, NZ, H = 0.5, 0.999, 1e-8, 512, 256, 128
STD = 0.01
centres = torch.tensor([[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)]
                        for k in range(8)])


def real(n):
    return centres[torch.randint(0, 8, (n,))] + STD * torch.randn(n, 2)


def mlp(nin, nout):
    """[w1, b1, w2, b2, w3, b3] as plain tensors, so that D can run with unrolled values."""
    ps = []
    for i, o in ((nin, H), (H, H), (H, nout)):
        w = torch.empty(o, i)
        torch.nn.init.orthogonal_(w, gain=1.4)
        ps += [w.requires_grad_(), torch.zeros(o, requires_grad=True)]
    return ps


def forward(ps, x):
    x = torch.tanh(F.linear(x, ps[0], ps[1]))
    x = torch.tanh(F.linear(x, ps[2], ps[3]))
    return F.linear(x, ps[4], ps[5])


def value(s_real, s_fake):
    """f = E log D(x) + E log(1 - D(G(z))) from D's logits; D maximises it."""
    return -F.softplus(-s_real).mean() - F.softplus(s_fake).mean()


class Adam:
    """Adam whose update can also run on values carrying a graph (the unrolled steps)."""

    def __init__(self, ps, lr):
        self.ps, self.lr, self.t = ps, lr, 0
        self.m = [torch.zeros_like(q) for q in ps]
        self.v = [torch.zeros_like(q) for q in ps]

    def update(self, ps, grads, m, v, t):
        out, m2, v2 = [], [], []
        for q, g, mq, vq in zip(ps, grads, m, v):
            mq = BETA1 * mq + (1 - BETA1) * g
            vq = BETA2 * vq + (1 - BETA2) * g * g
            mh, vh = mq / (1 - BETA1 ** t), vq / (1 - BETA2 ** t)
            out.append(q - self.lr * mh / (vh.sqrt() + EPS))
            m2.append(mq)
            v2.append(vq)
        return out, m2, v2

    def step(self, grads):
        self.t += 1
        with torch.no_grad():
            new, self.m, self.v = self.update(self.ps, grads, self.m, self.v, self.t)
            for q, n in zip(self.ps, new):
                q.copy_(n)


def unrolled_value(Dp, optD, x, fake, K):
    """f at D's parameters after K Adam ascent steps on f, as a function of the fakes."""
    ps, m, v = list(Dp), optD.m, optD.v
    for k in range(K):
        loss = -value(forward(ps, x), forward(ps, fake))
        grads = torch.autograd.grad(loss, ps, create_graph=True)
        ps, m, v = optD.update(ps, grads, m, v, optD.t + k + 1)
    return value(forward(ps, x), forward(ps, fake))


def coverage(samples):
    d2 = ((samples[:, None, :] - centres[None, :, :]) ** 2).sum(2)
    dmin, nearest = d2.min(1)
    hq = dmin < (3 * STD) ** 2
    return len(set(nearest[hq].tolist())), hq.float().mean().item()


Gp, Dp = mlp(NZ, 2), mlp(2, 1)
optG, optD = Adam(Gp, a.lr_g), Adam(Dp, a.lr_d)
z_eval = torch.randn(2500, NZ)
rows = []
for it in range(1, a.iters + 1):
    x, fake = real(BATCH), forward(Gp, torch.randn(BATCH, NZ))
    f = value(forward(Dp, x), forward(Dp, fake))
    gD = torch.autograd.grad(-f, Dp, retain_graph=True)         # both gradients before either step
    fG = unrolled_value(Dp, optD, x, fake, a.unroll) if a.unroll > 0 else f
    gG = torch.autograd.grad(fG, Gp)                            # G minimises f (f_K)
    optD.step(gD)
    optG.step(gG)
    if it == 1 or it % a.eval_every == 0 or it == a.iters:
        with torch.no_grad():
            modes, hq = coverage(forward(Gp, z_eval))
        rows.append((it, modes, hq))
        print("iter %6d  lossD %.4f  modes %d  hq %.3f" % (it, -f.item(), modes, hq), flush=True)
w = rows[-math.ceil(len(rows) / 4):]
print("window (last %d of %d evaluations): modes %.2f  hq %.3f" % (
    len(w), len(rows), sum(r[1] for r in w) / len(w), sum(r[2] for r in w) / len(w)))
