"""PyTorch side of the luagan benchmarks: the same workloads as bench.lua.

usage: python3 bench_torch.py WORKLOAD [THREADS [ITERS]]
       WORKLOAD is a key of WORKLOADS or GAN_WORKLOADS below, as in bench.lua;
                 convlayers times every conv shape of dcgan-28, refiner and unet alone
       ITERS overrides a GAN workload's timed iteration count (a multiple of 5)

Prints `name: value unit` lines in the format bench.lua uses, so that
tests/bench/run.sh reads both the same way.  Timing is wall time
(time.perf_counter) around whole loops, after an untimed warm-up: add1,
linear16 and sgemm1024 run in 5 blocks and report the best block (load from
other processes only adds time) with the mean beside it; memloop is one loop.
run.sh starts one process per workload and thread count, under
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp and
OMP_NUM_THREADS=THREADS, so that torch's OpenMP pool and OpenBLAS's are one
(and once more at 2 threads without it, torch's stock configuration, for the
GAN workloads).
"""
import math
import resource
import sys
import time

import torch


def rss_mb(field):
    """VmHWM / VmRSS of this process, in MB (the kernel reports kB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


BLOCKS = 5


def blocks(n, body):
    """Runs body(m) (a loop of m iterations) in BLOCKS blocks of n/BLOCKS
    iterations; returns (best, mean) seconds per iteration, as bench.lua."""
    m = n // BLOCKS
    best, total = float("inf"), 0.0
    for _ in range(BLOCKS):
        t0 = time.perf_counter()
        body(m)
        dt = time.perf_counter() - t0
        best = min(best, dt / m)
        total += dt
    return best, total / (m * BLOCKS)


def add1(threads):
    # 1-element tensors that do not require grad: the same as the Lua side,
    # which has grad mode on and inputs without requires_grad.
    n = 4_000_000
    a = torch.randn(1)
    b = torch.randn(1)
    for _ in range(n // 10):
        c = a + b

    def body(m):
        for _ in range(m):
            c = a + b
        return c

    best, mean = blocks(n, body)
    print(f"add1: {best * 1e6:.4f} us/op (best of {BLOCKS} blocks, mean {mean * 1e6:.4f}; "
          f"n={n}, threads={threads})")


def linear16(threads):
    n = 200_000
    x = torch.randn(16, 16)
    w = torch.randn(16, 16, requires_grad=True)
    b = torch.randn(16, requires_grad=True)

    def step():
        w.grad = None
        b.grad = None
        y = torch.nn.functional.linear(x, w, b).relu().sum()
        y.backward()

    for _ in range(n // 10):
        step()

    def body(m):
        for _ in range(m):
            step()

    best, mean = blocks(n, body)
    print(f"linear16: {best * 1e6:.3f} us/iter (best of {BLOCKS} blocks, mean {mean * 1e6:.3f}; "
          f"n={n}, threads={threads})")


def sgemm1024(threads):
    size, reps = 1024, 40
    x = torch.randn(size, size)
    y = torch.randn(size, size)
    z = torch.mm(x, y)

    def body(m):
        nonlocal z
        for _ in range(m):
            z = torch.mm(x, y)  # a fresh result each time, as x:matmul(y) in Lua

    best, mean = blocks(reps, body)
    flop = 2.0 * size ** 3
    print(f"sgemm1024: {flop / best * 1e-9:.2f} GFLOP/s (best of {BLOCKS} blocks, "
          f"mean {flop / mean * 1e-9:.2f}; reps={reps}, threads={threads}) "
          f"check={float(z[0, 0]):.4g}")


def memloop(threads):
    # 5,000 rather than luagan's 20,000: torch frees each tensor as soon as the
    # name is rebound (reference counting), so its peak is reached within the
    # first iterations, and its mmap/munmap per 4 MB tensor is slow (~1 ms idle,
    # ~10 ms at 2 threads on a loaded machine); us/iter is per iteration anyway.
    n = 5_000
    base = rss_mb("VmRSS")
    t0 = time.perf_counter()
    for _ in range(n):
        t = torch.zeros(1024 * 1024)  # 4 MB, dropped when rebound
    dt = time.perf_counter() - t0
    del t
    print(f"memloop: {dt / n * 1e6:.2f} us/iter (n={n}, threads={threads})")
    print(f"memloop_rss_before: {base:.1f} MB")
    print(f"memloop_peak_rss: {rss_mb('VmHWM'):.1f} MB")


# ---------------------------------------------------------------- GAN workloads
# The same networks, losses and schedules as the GAN workloads of bench.lua,
# written the way a PyTorch user writes them.  Printed: parameter count and
# shapes of G and D (run.sh compares them with luagan's), it/s (best block),
# peak RSS (ru_maxrss: the workload runs alone in its process), last losses.

def shapes_of(m):
    return ",".join("x".join(str(d) for d in p.shape) for p in m.parameters())


BUDGET = 30


def budget_blocks(n, body):
    """blocks() with a time budget, as bench.lua: stops after the block that
    crosses BUDGET seconds; returns (best, mean, blocks run)."""
    m = n // BLOCKS
    best, total, k = float("inf"), 0.0, 0
    while k < BLOCKS and total < BUDGET:
        t0 = time.perf_counter()
        body(m)
        dt = time.perf_counter() - t0
        best = min(best, dt / m)
        total += dt
        k += 1
    return best, total / (m * k), k


def report_gan(name, G, D, n, warm, step, rss_before, threads, iters):
    nparams = lambda m: sum(p.numel() for p in m.parameters())
    print(f"{name}_G_params: {nparams(G)} [{shapes_of(G)}]")
    print(f"{name}_D_params: {nparams(D)} [{shapes_of(D)}]")
    n = max(iters or n, BLOCKS)
    losses = None
    for _ in range(warm):
        losses = step()

    def body(m):
        nonlocal losses
        for _ in range(m):
            losses = step()

    best, mean, k = budget_blocks(n, body)
    dl, gl = (float(x) for x in losses)
    cut = f" of {BLOCKS}: {BUDGET} s budget" if k < BLOCKS else ""
    print(f"{name}: {1 / best:.3f} it/s (best of {k} blocks{cut}, mean {1 / mean:.3f}; "
          f"n={n // BLOCKS * k}, warm-up {warm}, threads={threads})")
    print(f"{name}_peak_rss: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:.1f} MB")
    print(f"{name}_rss_before: {rss_before:.1f} MB")
    print(f"{name}_last_loss: D {dl:.4f} G {gl:.4f}")
    if not (math.isfinite(dl) and math.isfinite(gl)):
        sys.exit(f"{name}: the losses are not finite")


def adam(m):
    return torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))


def bce_step(G, D, oG, oD, real, nz=100):
    """One GAN iteration as the workloads define it: a D step on real + fake
    (BCE with logits), then a G step with the non-saturating loss; the batch
    is real's, the noise nz-dimensional."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    b = real.shape[0]
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)

    def step():
        fake = G(torch.randn(b, nz))
        oD.zero_grad()
        lD = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        lD.backward()
        oD.step()
        oG.zero_grad()
        lG = bce(D(fake), ones)
        lG.backward()
        oG.step()
        return lD, lG
    return step


def mlp_gan(threads, iters):
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    G = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                      nn.Linear(256, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256),
                      nn.LeakyReLU(0.2), nn.Linear(256, 1))
    oG, oD = adam(G), adam(D)
    real = torch.rand(64, 784) * 2 - 1
    step = bce_step(G, D, oG, oD, real)

    report_gan("mlp-gan", G, D, 500, 20, step, rss_before, threads, iters)


class Maxout(torch.nn.Module):
    def __init__(self, nin, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = torch.nn.Linear(nin, units * pieces)

    def forward(self, x):
        return self.linear(x).view(x.shape[0], self.units, self.pieces).max(2)[0]


def toy_gan(threads, iters):
    """The 2-D mixture experiments' step (bench.lua's toy-gan)."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    g = []
    for i in range(4):
        g += [nn.Linear(2 if i == 0 else 128, 128), nn.BatchNorm1d(128), nn.ReLU()]
    G = nn.Sequential(*g, nn.Linear(128, 2))
    D = nn.Sequential(Maxout(2, 128, 5), Maxout(128, 128, 5), Maxout(128, 128, 5), nn.Linear(128, 1))
    oG, oD = adam(G), adam(D)
    real = torch.rand(100, 2) * 2 - 1
    report_gan("toy-gan", G, D, 500, 20, bce_step(G, D, oG, oD, real, 2), rss_before, threads, iters)


def dcgan_nets(critic):
    nn = torch.nn
    G = nn.Sequential(nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128),
                      nn.ReLU(), nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64),
                      nn.ReLU(), nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh())
    layers = [nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
              nn.Conv2d(64, 128, 4, stride=2, padding=1)]
    if not critic:
        layers.append(nn.BatchNorm2d(128))
    layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1)]
    return G, nn.Sequential(*layers)


def dcgan_28(threads, iters):
    rss_before = rss_mb("VmRSS")
    G, D = dcgan_nets(critic=False)
    oG, oD = adam(G), adam(D)
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    step = bce_step(G, D, oG, oD, real)

    report_gan("dcgan-28", G, D, 30, 3, step, rss_before, threads, iters)


def dcgan_28_gp(threads, iters):
    # the usual PyTorch WGAN-GP: autograd.grad(create_graph=True) and
    # gradients.flatten(1).norm(dim=1); luagan writes the norm as
    # sqrt(sum(g*g)) (it has no norm op), the same value and gradient.
    rss_before = rss_mb("VmRSS")
    G, D = dcgan_nets(critic=True)
    oG, oD = adam(G), adam(D)
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    lam = 10

    def step():
        for _ in range(5):
            with torch.no_grad():
                fake = G(torch.randn(64, 100))
            eps = torch.rand(64, 1, 1, 1)
            xhat = (real * eps + fake * (1 - eps)).detach().requires_grad_(True)
            g, = torch.autograd.grad(D(xhat).sum(), xhat, create_graph=True)
            penalty = ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
            oD.zero_grad()
            lD = D(fake).mean() - D(real).mean() + penalty * lam
            lD.backward()
            oD.step()
        oG.zero_grad()
        lG = -D(G(torch.randn(64, 100))).mean()
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("dcgan-28-gp", G, D, 10, 2, step, rss_before, threads, iters)


class Residual(torch.nn.Module):
    """x + conv(relu(conv(x))), then ReLU: the refiner's block (bench.lua)."""
    def __init__(self, ch):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return (self.conv2(self.conv1(x).relu()) + x).relu()


def refiner(threads, iters):
    """SimGAN's refiner and patch D, as bench.lua's refiner."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    R = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), *[Residual(32) for _ in range(4)],
                      nn.Conv2d(32, 1, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                      nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 1))
    oR, oD = adam(R), adam(D)
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    synth = torch.rand(64, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(64, 1, 7, 7), torch.zeros(64, 1, 7, 7)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step():
        refined = R(synth)
        oD.zero_grad()
        lD = bce(D(real), ones) + bce(D(refined.detach()), zeros)
        lD.backward()
        oD.step()
        oR.zero_grad()
        lR = bce(D(refined), ones) + (refined - synth).abs().mean() * 0.1
        lR.backward()
        oR.step()
        return lD, lR

    report_gan("refiner", R, D, 30, 3, step, rss_before, threads, iters)


def lapgan(threads, iters):
    """One LAPGAN iteration, three levels, as bench.lua's lapgan."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    G2 = nn.Sequential(nn.Linear(100, 600), nn.BatchNorm1d(600), nn.ReLU(), nn.Linear(600, 600),
                       nn.BatchNorm1d(600), nn.ReLU(), nn.Linear(600, 49), nn.Sigmoid())
    D2 = nn.Sequential(nn.Linear(49, 300), nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(300, 300),
                       nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(300, 1))

    def cond_G():
        return nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                             nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))

    def cond_D(s):
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                             nn.ReLU(), nn.Dropout(0.5), nn.Flatten(), nn.Linear(8 * (s // 2) ** 2, 1))

    G1, D1, G0, D0 = cond_G(), cond_D(14), cond_G(), cond_D(28)
    Gs, Ds = nn.Sequential(G2, G1, G0), nn.Sequential(D2, D1, D0)   # for the counts only
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def level(G, D, x, l=None):
        oG, oD = adam(G), adam(D)

        def judge(h):
            return D(h + l if l is not None else h)

        def f():
            if l is None:
                fake = G(torch.rand(64, 100) * 2 - 1)
            else:
                fake = G(torch.cat([l, torch.rand(64, 1, l.shape[2], l.shape[3]) * 2 - 1], 1))
            oD.zero_grad()
            lD = bce(judge(x), ones) + bce(judge(fake.detach()), zeros)
            lD.backward()
            oD.step()
            oG.zero_grad()
            lG = bce(judge(fake), ones)
            lG.backward()
            oG.step()
            return lD, lG
        return f

    steps = [level(G2, D2, torch.rand(64, 49)),
             level(G1, D1, torch.rand(64, 1, 14, 14) * 0.2 - 0.1, torch.rand(64, 1, 14, 14)),
             level(G0, D0, torch.rand(64, 1, 28, 28) * 0.2 - 0.1, torch.rand(64, 1, 28, 28))]

    def step():
        lD, lG = 0, 0
        for f in steps:
            d, g = f()
            lD, lG = lD + d, lG + g
        return lD, lG

    report_gan("lapgan", Gs, Ds, 100, 5, step, rss_before, threads, iters)


class UNet(torch.nn.Module):
    """pix2pix's U-Net at 32x32, as bench.lua's UNet."""
    def __init__(self):
        super().__init__()
        nn = torch.nn

        def down(i, o, bn):
            layers = [nn.Conv2d(i, o, 4, stride=2, padding=1)]
            if bn:
                layers.append(nn.BatchNorm2d(o))
            return nn.Sequential(*layers, nn.LeakyReLU(0.2))

        def up(i, o):
            return nn.Sequential(nn.ConvTranspose2d(i, o, 4, stride=2, padding=1), nn.BatchNorm2d(o),
                                 nn.ReLU())
        self.e1, self.e2, self.e3 = down(3, 32, False), down(32, 64, True), down(64, 128, True)
        self.d3, self.d2 = up(128, 64), up(128, 32)
        self.d1 = nn.Sequential(nn.ConvTranspose2d(64, 3, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(e1)
        u = self.d3(self.e3(e2))
        u = self.d2(torch.cat([u, e2], 1))
        return self.d1(torch.cat([u, e1], 1))


def unet(threads, iters):
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    G = UNet()
    D = nn.Sequential(nn.Conv2d(6, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                      nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 1, 3, padding=1))
    oG, oD = adam(G), adam(D)
    inp = torch.rand(16, 3, 32, 32) * 2 - 1
    target = torch.rand(16, 3, 32, 32) * 2 - 1
    ones, zeros = torch.ones(16, 1, 8, 8), torch.zeros(16, 1, 8, 8)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step():
        fake = G(inp)
        oD.zero_grad()
        lD = bce(D(torch.cat([inp, target], 1)), ones) + bce(D(torch.cat([inp, fake.detach()], 1)), zeros)
        lD.backward()
        oD.step()
        oG.zero_grad()
        lG = bce(D(torch.cat([inp, fake], 1)), ones) + (fake - target).abs().mean() * 100
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("unet", G, D, 30, 3, step, rss_before, threads, iters)


def aae(threads, iters):
    """The adversarial autoencoder's step, as bench.lua's aae: reconstruction
    phase on E and D_x, then a Dz step and an E step on the code."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")

    def mlp(i, h, o):
        return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))

    E, Dx, Dz = mlp(784, 512, 8), mlp(8, 512, 784), mlp(8, 512, 1)
    AE = nn.Sequential(E, Dx)
    oAE = torch.optim.Adam(AE.parameters(), lr=1e-3, betas=(0.9, 0.999))
    oD, oE = adam(Dz), adam(E)
    x = torch.rand(100, 784)
    ones, zeros = torch.ones(100, 1), torch.zeros(100, 1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step():
        oAE.zero_grad()
        rec = bce(AE(x), x) * 784
        rec.backward()
        oAE.step()
        oD.zero_grad()
        lD = bce(Dz(torch.randn(100, 8) * 5), ones) + bce(Dz(E(x).detach()), zeros)
        lD.backward()
        oD.step()
        oE.zero_grad()
        lE = bce(Dz(E(x)), ones)
        lE.backward()
        oE.step()
        return lD, lE

    report_gan("aae", AE, Dz, 300, 10, step, rss_before, threads, iters)


# ---------------------------------------------------------------- convlayers
def ebgan(threads, iters):
    """EBGAN's step, as bench.lua's: autoencoder D with the margin loss, G with
    the pulling-away term (weight 0.1) on the fake codes."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    G = nn.Sequential(nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 256),
                      nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
    enc = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64))
    dec = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784))
    D = nn.Sequential(enc, dec)
    oG, oD = adam(G), adam(D)
    real = torch.rand(64, 784) * 2 - 1

    def energy(x):
        code = enc(x)
        d = dec(code) - x
        return (d * d).mean(1).mean(), code

    def pt(s):
        n = s.shape[0]
        u = s / ((s * s).sum(1, keepdim=True) + 1e-12).sqrt()
        c = u @ u.t()
        return ((c * c).sum() - (u * u).sum(1).pow(2).sum()) / (n * (n - 1))

    def step():
        fake = G(torch.randn(64, 64))
        oD.zero_grad()
        lD = energy(real)[0] + (1 - energy(fake.detach())[0]).relu()
        lD.backward()
        oD.step()
        oG.zero_grad()
        e, code = energy(fake)
        lG = e + pt(code) * 0.1
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("ebgan", G, D, 500, 20, step, rss_before, threads, iters)


def began(threads, iters):
    """BEGAN's step, as bench.lua's: autoencoder D with ELU units and the L1
    energy, L_D = L(x) - k_t L(G(z)) and L_G = L(G(z')) at the same D (G's
    gradient by autograd.grad), both Adam steps, then the k_t update."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    G = nn.Sequential(nn.Linear(64, 256), nn.ELU(), nn.Linear(256, 256), nn.ELU(),
                      nn.Linear(256, 784), nn.Tanh())
    enc = nn.Sequential(nn.Linear(784, 256), nn.ELU(), nn.Linear(256, 64))
    dec = nn.Sequential(nn.Linear(64, 256), nn.ELU(), nn.Linear(256, 784))
    D = nn.Sequential(enc, dec)
    oG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    gparams = list(G.parameters())
    real = torch.rand(64, 784) * 2 - 1
    k = 0.0

    def noise():
        return torch.rand(64, 64) * 2 - 1

    def L(v):
        return (v - D(v)).abs().mean(1).mean()

    def step():
        nonlocal k
        l_real = L(real)
        l_fake_d = L(G(noise()).detach())
        l_fake_g = L(G(noise()))
        lD = l_real - l_fake_d * k
        gs = torch.autograd.grad(l_fake_g, gparams)
        oD.zero_grad()
        lD.backward()
        for p, g in zip(gparams, gs):
            p.grad = g
        oD.step()
        oG.step()
        k = min(1.0, max(0.0, k + 0.001 * (0.5 * l_real.item() - l_fake_g.item())))
        return lD, l_fake_g

    report_gan("began", G, D, 500, 20, step, rss_before, threads, iters)


# Every conv shape of dcgan-28, refiner and unet alone, as the luagan side
# times them (tests/bench/conv_layers.c, which has the same table): the
# forward, the input gradient and the weight gradient, each as autograd
# computes it (aten.convolution / aten.convolution_backward with one output).
# (name, transposed, N, C, H, W, O, k, s, p): the image [N,C,H,W] is a conv's
# input and a transposed conv's output, the grid has O channels.
CONV_LAYERS = [
    ("dcgan-28.G.convt1", True, 64, 64, 14, 14, 128, 4, 2, 1),
    ("dcgan-28.G.convt2", True, 64, 1, 28, 28, 64, 4, 2, 1),
    ("dcgan-28.D.conv1", False, 64, 1, 28, 28, 64, 4, 2, 1),
    ("dcgan-28.D.conv2", False, 64, 64, 14, 14, 128, 4, 2, 1),
    ("refiner.R.conv_in", False, 64, 1, 28, 28, 32, 3, 1, 1),
    ("refiner.R.res", False, 64, 32, 28, 28, 32, 3, 1, 1),
    ("refiner.R.conv_out", False, 64, 32, 28, 28, 1, 1, 1, 0),
    ("refiner.D.conv1", False, 64, 1, 28, 28, 32, 3, 2, 1),
    ("refiner.D.conv2", False, 64, 32, 14, 14, 64, 3, 2, 1),
    ("refiner.D.conv3", False, 64, 64, 7, 7, 1, 1, 1, 0),
    ("unet.G.e1", False, 16, 3, 32, 32, 32, 4, 2, 1),
    ("unet.G.e2", False, 16, 32, 16, 16, 64, 4, 2, 1),
    ("unet.G.e3", False, 16, 64, 8, 8, 128, 4, 2, 1),
    ("unet.G.d3", True, 16, 64, 8, 8, 128, 4, 2, 1),
    ("unet.G.d2", True, 16, 32, 16, 16, 128, 4, 2, 1),
    ("unet.G.d1", True, 16, 3, 32, 32, 64, 4, 2, 1),
    ("unet.D.conv1", False, 16, 6, 32, 32, 32, 4, 2, 1),
    ("unet.D.conv2", False, 16, 32, 16, 16, 64, 4, 2, 1),
    ("unet.D.conv3", False, 16, 64, 8, 8, 1, 3, 1, 1),
    ("simgan.R.conv_in", False, 64, 1, 28, 28, 16, 3, 1, 1),
    ("simgan.R.res", False, 64, 16, 28, 28, 16, 3, 1, 1),
    ("simgan.D.conv1", False, 64, 1, 28, 28, 24, 3, 2, 1),
    ("simgan.D.conv2", False, 64, 24, 14, 14, 16, 3, 2, 1),
    ("simgan.D.conv3", False, 64, 16, 7, 7, 8, 3, 1, 1),
]


def convlayers(threads):
    aten = torch.ops.aten
    with torch.no_grad():
        for name, tr, n, c, h, w, o, k, s, p in CONV_LAYERS:
            ho = (h + 2 * p - k) // s + 1
            op = h - ((ho - 1) * s - 2 * p + k)
            image, grid = torch.randn(n, c, h, h), torch.randn(n, o, ho, ho)
            # conv: weight [O,C,k,k], input image; transposed: weight [cin=O, cout=C], input grid
            wt = torch.randn(o, c, k, k)
            inp, gout = (grid, image) if tr else (image, grid)
            args = ([s, s], [p, p], [1, 1], tr, [op, op] if tr else [0, 0], 1)
            passes = {
                "fwd": lambda: aten.convolution(inp, wt, None, *args),
                "igrad": lambda: aten.convolution_backward(gout, inp, wt, None, *args, [True, False, False]),
                "wgrad": lambda: aten.convolution_backward(gout, inp, wt, None, *args, [False, True, False]),
            }
            flop = 2.0 * n * o * ho * ho * c * k * k
            for pname, fn in passes.items():
                fn()
                reps = 1
                while True:     # reps for ~0.03 s a block
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        fn()
                    if time.perf_counter() - t0 > 0.01 or reps > 1 << 16:
                        break
                    reps *= 2
                reps = reps * 3
                best = float("inf")
                for _ in range(BLOCKS):
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        fn()
                    best = min(best, (time.perf_counter() - t0) / reps)
                print(f"convlayer_{name}.{pname}: {flop / best * 1e-9:.2f} GFLOP/s ({best * 1e3:.3f} ms, "
                      f"{flop * 1e-6:.1f} MFLOP, reps={reps}, threads={threads})")


def conv3d(threads):
    # bench.lua's conv3d: a VGAN-like k4 s2 p1 layer each way, forward and backward
    n = 20
    F = torch.nn.functional
    x, h = torch.randn(8, 32, 8, 16, 16), torch.randn(8, 64, 4, 8, 8)
    w, wt = torch.randn(64, 32, 4, 4, 4) * 0.02, torch.randn(64, 32, 4, 4, 4) * 0.02
    b, bt = torch.zeros(64), torch.zeros(32)
    ts = [x, h, w, wt, b, bt]
    for t in ts:
        t.requires_grad_()

    def step():
        for t in ts:
            t.grad = None
        F.conv3d(x, w, b, stride=2, padding=1).sum().backward()
        F.conv_transpose3d(h, wt, bt, stride=2, padding=1).sum().backward()

    step()

    def body(m):
        for _ in range(m):
            step()

    best, mean = blocks(n, body)
    print(f"conv3d: {best * 1e3:.3f} ms/iter (best of {BLOCKS} blocks, mean {mean * 1e3:.3f}; "
          f"n={n}, threads={threads})")
class GaussianNoise(torch.nn.Module):
    def __init__(self, sigma):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        return x + torch.randn_like(x) * self.sigma if self.training else x


def ssgan(threads, iters):
    """The semi-supervised GAN step of experiments/ssgan.lua (see bench.lua):
    a D step (labelled cross-entropy, unlabelled and fake batches with the
    implicit fake class), a Polyak update of D, a feature-matching G step."""
    nn = torch.nn
    F = torch.nn.functional
    rss_before = rss_mb("VmRSS")
    wn = lambda a, b: torch.nn.utils.weight_norm(nn.Linear(a, b))
    body = nn.Sequential(GaussianNoise(0.3), wn(784, 250), nn.ReLU(), GaussianNoise(0.5),
                         wn(250, 125), nn.ReLU(), GaussianNoise(0.5), wn(125, 125), nn.ReLU())
    head = nn.Sequential(GaussianNoise(0.5), wn(125, 10))
    D = nn.Sequential(body, head)
    G = nn.Sequential(nn.Linear(100, 250), nn.BatchNorm1d(250), nn.Softplus(), nn.Linear(250, 250),
                      nn.BatchNorm1d(250), nn.Softplus(), wn(250, 784), nn.Sigmoid())
    oG = torch.optim.Adam(G.parameters(), lr=3e-3, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), lr=3e-3, betas=(0.5, 0.999))
    avg = [p.detach().clone() for p in D.parameters()]
    x_lab, x_unl, x_fm = torch.rand(100, 784), torch.rand(100, 784), torch.rand(100, 784)
    y_lab = torch.arange(100) % 10

    def step():
        with torch.no_grad():
            fake = G(torch.rand(100, 100))
        a = torch.logsumexp(head(body(x_unl)), 1)
        b = torch.logsumexp(head(body(fake)), 1)
        lD = F.cross_entropy(head(body(x_lab)), y_lab) + \
            ((-a).mean() + F.softplus(a).mean() + F.softplus(b).mean()) * 0.5
        oD.zero_grad()
        lD.backward()
        oD.step()
        with torch.no_grad():
            for m, p in zip(avg, D.parameters()):
                m.lerp_(p, 1 - 0.995)
            f_real = body(x_fm)
        d = body(G(torch.rand(100, 100))).mean(0) - f_real.mean(0)
        lG = (d * d).mean()
        oG.zero_grad()
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("ssgan", G, D, 200, 10, step, rss_before, threads, iters)


# ---------------------------------------------------------------- cgan, crypto
class CondG(torch.nn.Module):
    """experiments/cgan.lua's G, as bench.lua's cgan workload."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.y = nn.Embedding(10, 10)
        self.net = nn.Sequential(nn.Linear(110, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 512),
                                 nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())

    def forward(self, z, y):
        return self.net(torch.cat([z, self.y(y)], 1))


class CondD(torch.nn.Module):
    """experiments/cgan.lua's D with the label concatenated at a hidden layer."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.x = nn.Sequential(nn.Linear(784, 240), nn.LeakyReLU(0.2), nn.Dropout(0.5))
        self.y = nn.Sequential(nn.Embedding(10, 50), nn.LeakyReLU(0.2), nn.Dropout(0.5))
        self.hidden = nn.Sequential(nn.Linear(290, 240), nn.LeakyReLU(0.2), nn.Dropout(0.5))
        self.psi = nn.Linear(240, 1)

    def forward(self, x, y):
        return self.psi(self.hidden(torch.cat([self.x(x), self.y(y)], 1)))


def cgan(threads, iters):
    rss_before = rss_mb("VmRSS")
    G, D = CondG(), CondD()
    oG, oD = adam(G), adam(D)
    real, yr = torch.rand(100, 784), torch.randint(0, 10, (100,))
    ones, zeros = torch.ones(100, 1), torch.zeros(100, 1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step():
        yf = torch.randint(0, 10, (100,))
        fake = G(torch.randn(100, 100), yf)
        oD.zero_grad()
        lD = bce(D(real, yr), ones) + bce(D(fake.detach(), yf), zeros)
        lD.backward()
        oD.step()
        oG.zero_grad()
        lG = bce(D(fake, yf), ones)
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("cgan", G, D, 200, 10, step, rss_before, threads, iters)


class TextG(torch.nn.Module):
    """experiments/text2img.lua's G (bench.lua: text2img)."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.y = nn.Sequential(nn.Linear(32, 32), nn.LeakyReLU(0.2))
        self.net = nn.Sequential(nn.Linear(132, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 512),
                                 nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())

    def forward(self, z, t):
        return self.net(torch.cat([z, self.y(t)], 1))


class TextD(torch.nn.Module):
    """experiments/text2img.lua's D: x and the text joined at a hidden layer."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.x = nn.Sequential(nn.Linear(784, 240), nn.LeakyReLU(0.2), nn.Dropout(0.5))
        self.y = nn.Sequential(nn.Linear(32, 50), nn.LeakyReLU(0.2))
        self.hidden = nn.Sequential(nn.Linear(290, 240), nn.LeakyReLU(0.2), nn.Dropout(0.5))
        self.psi = nn.Linear(240, 1)

    def forward(self, x, t):
        return self.psi(self.hidden(torch.cat([self.x(x), self.y(t)], 1)))


def text2img(threads, iters):
    rss_before = rss_mb("VmRSS")
    G, D = TextG(), TextD()
    oG, oD = adam(G), adam(D)
    real, t, tw = torch.rand(100, 784), torch.randn(100, 32), torch.randn(100, 32)
    ones, zeros, ones50 = torch.ones(100, 1), torch.zeros(100, 1), torch.ones(50, 1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step():
        fake = G(torch.randn(100, 100), t)
        oD.zero_grad()
        lD = bce(D(real, t), ones) + bce(D(fake.detach(), t), zeros) * 0.5 + bce(D(real, tw), zeros) * 0.5
        lD.backward()
        oD.step()
        oG.zero_grad()
        ti = t[:50] * 0.5 + t[50:] * 0.5
        fi = G(torch.randn(50, 100), ti)
        lG = (bce(D(fake, t), ones) * 2 + bce(D(fi, ti), ones50)) / 3
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("text2img", G, D, 200, 10, step, rss_before, threads, iters)


class CryptoNet(torch.nn.Module):
    """experiments/crypto.lua's mix-and-transform net (the released model's layers)."""

    def __init__(self, nin):
        super().__init__()
        nn = torch.nn
        self.fc = nn.Linear(nin, 32)
        self.c1, self.c2, self.c3 = nn.Conv1d(1, 2, 2, stride=2), nn.Conv1d(2, 2, 1), nn.Conv1d(2, 1, 1)

    def forward(self, x):
        h = self.fc(x).unsqueeze(1)
        return torch.tanh(self.c3(torch.sigmoid(self.c2(torch.sigmoid(self.c1(h)))))).squeeze(1)


class AliceBob(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.alice, self.bob = CryptoNet(32), CryptoNet(32)


def crypto(threads, iters):
    rss_before = rss_mb("VmRSS")
    ab, eve = AliceBob(), CryptoNet(16)
    oAB = torch.optim.Adam(ab.parameters(), lr=8e-4)
    oE = torch.optim.Adam(eve.parameters(), lr=8e-4)

    def bits():
        return torch.floor(torch.rand(512, 16) * 2) * 2 - 1

    def wrong(p, g):
        return ((p - g).abs() / 2).sum(1)

    def step():
        p, k = bits(), bits()
        c = ab.alice(torch.cat([p, k], 1))
        lAB = wrong(p, ab.bob(torch.cat([c, k], 1))).mean() / 16 + ((8 - wrong(p, eve(c))) ** 2).mean() / 64
        oAB.zero_grad()
        lAB.backward()
        oAB.step()
        for _ in range(2):
            p, k = bits(), bits()
            with torch.no_grad():
                c = ab.alice(torch.cat([p, k], 1))
            lE = wrong(p, eve(c)).mean()
            oE.zero_grad()
            lE.backward()
            oE.step()
        return lE, lAB

    report_gan("crypto", ab, eve, 500, 20, step, rss_before, threads, iters)



def simgan(threads, iters):
    """experiments/simgan.lua's adversarial round, as bench.lua's simgan."""
    nn = torch.nn
    F = torch.nn.functional
    rss_before = rss_mb("VmRSS")
    R = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), *[Residual(16) for _ in range(3)],
                      nn.Conv2d(16, 1, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 24, 3, stride=2, padding=1), nn.ReLU(),
                      nn.Conv2d(24, 16, 3, stride=2, padding=1), nn.ReLU(),
                      nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(8, 8, 1), nn.ReLU(), nn.Conv2d(8, 1, 1))
    oR, oD = adam(R), adam(D)
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    synth = torch.rand(64, 1, 28, 28) * 2 - 1
    history = torch.rand(640, 1, 28, 28) * 2 - 1

    def step():
        for _ in range(2):
            refined = R(synth)
            lR = F.softplus(-D(refined)).mean() + (refined - synth).abs().mean() * 0.5
            oR.zero_grad()
            lR.backward()
            oR.step()
        with torch.no_grad():
            refined = R(synth)
        old = history.index_select(0, torch.randint(0, 640, (32,)))
        history.index_copy_(0, torch.randint(0, 640, (32,)), refined[32:])
        mixed = torch.cat([refined[:32], old], 0)
        lD = F.softplus(-D(real)).mean() + F.softplus(D(mixed)).mean()
        oD.zero_grad()
        lD.backward()
        oD.step()
        return lD, lR

    report_gan("simgan", R, D, 20, 2, step, rss_before, threads, iters)


def adagan(threads, iters):
    """experiments/adagan.lua's GAN step, as bench.lua's adagan."""
    nn = torch.nn
    F = torch.nn.functional
    rss_before = rss_mb("VmRSS")

    def mlp(nin, nout):
        m = nn.Sequential(nn.Linear(nin, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, nout))
        for p in m.modules():
            if isinstance(p, nn.Linear):
                nn.init.normal_(p.weight, 0, 0.8)
                nn.init.zeros_(p.bias)
        return m

    G, D = mlp(5, 2), mlp(2, 1)
    oG = torch.optim.SGD(G.parameters(), lr=0.01)
    oD = torch.optim.SGD(D.parameters(), lr=0.004)
    real = torch.randn(64, 2) * 5
    gparams = list(G.parameters())

    def step():
        z = torch.randn(64, 5)
        with torch.no_grad():
            fake = G(z)
        lD = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        oD.zero_grad()
        lD.backward()
        oD.step()
        lG = F.softplus(-D(G(z))).mean()
        for p, g in zip(gparams, torch.autograd.grad(lG, gparams)):
            p.grad = g
        oG.step()
        return lD, lG

    report_gan("adagan", G, D, 1000, 50, step, rss_before, threads, iters)


def vgan(threads, iters):
    """VGAN's two-stream video G and 3-D D at 16 px, as bench.lua's vgan."""
    nn = torch.nn
    rss_before = rss_mb("VmRSS")
    trunk = nn.Sequential(nn.ConvTranspose3d(100, 64, (2, 4, 4)), nn.BatchNorm3d(64), nn.ReLU(),
                          nn.ConvTranspose3d(64, 32, 4, 2, 1), nn.BatchNorm3d(32), nn.ReLU())
    fg, mask = nn.ConvTranspose3d(32, 1, 4, 2, 1), nn.ConvTranspose3d(32, 1, 4, 2, 1)
    bg = nn.Sequential(nn.ConvTranspose2d(100, 64, 4), nn.BatchNorm2d(64), nn.ReLU(),
                       nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                       nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh())
    G = nn.Sequential(trunk, fg, mask, bg)   # a container: the step wires the streams
    D = nn.Sequential(nn.Conv3d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv3d(16, 32, 4, 2, 1),
                      nn.BatchNorm3d(32, eps=1e-3), nn.LeakyReLU(0.2), nn.Conv3d(32, 1, (2, 4, 4)))
    oG, oD = adam(G), adam(D)
    real = torch.rand(32, 1, 8, 16, 16) * 2 - 1
    ones, zeros = torch.ones(32, 1, 1, 1, 1), torch.zeros(32, 1, 1, 1, 1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step():
        z = torch.randn(32, 100)
        h = trunk(z.view(32, 100, 1, 1, 1))
        m = mask(h).sigmoid()
        fake = m * fg(h).tanh() + (1 - m) * bg(z.view(32, 100, 1, 1)).view(32, 1, 1, 16, 16)
        oD.zero_grad()
        lD = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        lD.backward()
        oD.step()
        oG.zero_grad()
        lG = bce(D(fake), ones) + m.mean() * 0.1
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("vgan", G, D, 20, 3, step, rss_before, threads, iters)


class SRBlock(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        nn = torch.nn
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.PReLU(c),
                                  nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class SRGen(torch.nn.Module):
    def __init__(self, c, blocks):
        super().__init__()
        nn = torch.nn
        self.head = nn.Sequential(nn.Conv2d(1, c, 5, padding=2), nn.PReLU(c))
        self.body = nn.Sequential(*[SRBlock(c) for _ in range(blocks)], nn.Conv2d(c, c, 3, padding=1),
                                  nn.BatchNorm2d(c))
        up = lambda: [nn.Conv2d(c, 4 * c, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(c)]
        self.tail = nn.Sequential(*up(), *up(), nn.Conv2d(c, 1, 5, padding=2), nn.Tanh())

    def forward(self, x):
        h = self.head(x)
        return self.tail(h + self.body(h))


def srgan(threads, iters):
    """experiments/srgan.lua's SRGAN-phase iteration, as bench.lua's srgan."""
    nn = torch.nn
    F = torch.nn.functional
    rss_before = rss_mb("VmRSS")
    G, Gg = SRGen(16, 4), SRGen(16, 4)
    D = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(32 * 49, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    phi = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
    for p in phi.parameters():
        p.requires_grad_(False)
    opt = lambda m: torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999))
    oG, oGg, oD = opt(G), opt(Gg), opt(D)
    hr = torch.rand(16, 1, 28, 28) * 2 - 1
    lr = F.avg_pool2d(hr, 4)

    def step():
        lM = F.mse_loss(G(lr), hr)
        oG.zero_grad()
        lM.backward()
        oG.step()
        sr = Gg(lr)
        lD = F.softplus(-D(hr)).mean() + F.softplus(D(sr.detach())).mean()
        oD.zero_grad()
        lD.backward()
        oD.step()
        lG = F.mse_loss(phi(sr), phi(hr)) + F.softplus(-D(sr)).mean() * 1e-3
        oGg.zero_grad()
        lG.backward()
        oGg.step()
        return lD, lG

    report_gan("srgan", Gg, D, 20, 3, step, rss_before, threads, iters)


class UnetLevel(torch.nn.Module):
    """One level of experiments/lib/unet.lua's U-Net: down, the inner levels,
    up; [x, up] along the channels except at the outermost level.  Attributes
    in the Lua order (down, sub, up) so that the parameter lists agree."""

    def __init__(self, outer, inner, inp=None, sub=None, outermost=False, innermost=False, dropout=False):
        super().__init__()
        nn = torch.nn
        inp = inp or outer
        self.outermost = outermost
        down = [] if outermost else [nn.LeakyReLU(0.2)]
        down.append(nn.Conv2d(inp, inner, 4, stride=2, padding=1, bias=False))
        if not (outermost or innermost):
            down.append(nn.BatchNorm2d(inner))
        self.down = nn.Sequential(*down)
        self.sub = sub
        up = [nn.ReLU(), nn.ConvTranspose2d(inner if innermost else 2 * inner, outer, 4, stride=2, padding=1,
                                            bias=outermost)]
        if outermost:
            up.append(nn.Tanh())
        else:
            up.append(nn.BatchNorm2d(outer))
            if dropout:
                up.append(nn.Dropout(0.5))
        self.up = nn.Sequential(*up)

    def forward(self, x):
        h = self.down(x)
        if self.sub is not None:
            h = self.sub(h)
        y = self.up(h)
        return y if self.outermost else torch.cat([x, y], 1)


def pix2pix(threads, iters):
    """experiments/pix2pix.lua's step, as bench.lua's pix2pix: U-Net at 5
    levels (ngf 16, dropout on the 2 innermost), PatchGAN (ndf 16), batch 32."""
    nn = torch.nn
    F = torch.nn.functional
    rss_before = rss_mb("VmRSS")
    width = lambda lv: 16 * min(2 ** (lv - 1), 4)
    block = None
    for lv in range(5, 1, -1):
        block = UnetLevel(width(lv - 1), width(lv), sub=block, innermost=lv == 5, dropout=5 - lv < 2)
    G = UnetLevel(1, 16, inp=1, sub=block, outermost=True)
    D = nn.Sequential(nn.Conv2d(2, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                      nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
                      nn.Conv2d(32, 1, 1))
    oG, oD = adam(G), adam(D)
    e = (torch.rand(32, 1, 32, 32) > 0.7).float() * 2 - 1
    y = torch.rand(32, 1, 32, 32) * 2 - 1

    def step():
        fake = G(e)
        lD = (F.softplus(-D(torch.cat([e, y], 1))).mean() + F.softplus(D(torch.cat([e, fake.detach()], 1))).mean()) * 0.5
        oD.zero_grad()
        lD.backward()
        oD.step()
        lG = F.softplus(-D(torch.cat([e, fake], 1))).mean() + (fake - y).abs().mean() * 100
        oG.zero_grad()
        lG.backward()
        oG.step()
        return lD, lG

    report_gan("pix2pix", G, D, 20, 3, step, rss_before, threads, iters)


WORKLOADS = {"add1": add1, "linear16": linear16, "sgemm1024": sgemm1024,
             "memloop": memloop, "convlayers": convlayers, "conv3d": conv3d}
GAN_WORKLOADS = {"mlp-gan": mlp_gan, "toy-gan": toy_gan, "dcgan-28": dcgan_28,
                 "dcgan-28-gp": dcgan_28_gp, "refiner": refiner, "unet": unet,
                 "ssgan": ssgan,
                 "aae": aae,
                 "lapgan": lapgan,
                 "ebgan": ebgan,
                 "began": began,
                 "cgan": cgan,
                 "text2img": text2img,
                 "crypto": crypto,
                 "simgan": simgan,
                 "adagan": adagan,
                 "vgan": vgan,
                 "srgan": srgan,
                 "pix2pix": pix2pix}


def main():
    names = list(WORKLOADS) + list(GAN_WORKLOADS)
    if len(sys.argv) < 2 or sys.argv[1] not in names:
        sys.exit("usage: bench_torch.py {%s} [threads [iters]]" % "|".join(names))
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if sys.argv[1] in GAN_WORKLOADS:
        GAN_WORKLOADS[sys.argv[1]](threads, iters)
    else:
        WORKLOADS[sys.argv[1]](threads)


if __name__ == "__main__":
    main()
