"""PyTorch side of the luagan benchmarks: the same workloads as bench.lua.

usage: python3 bench_torch.py WORKLOAD [THREADS [ITERS]]
       WORKLOAD is add1 | linear16 | sgemm1024 | memloop | conv3d
                 | mlp-gan | toy-gan | dcgan-28 | dcgan-28-gp | refiner | unet
                 (the GAN workloads) | convlayers (every conv shape of dcgan-28, refiner,
                 unet alone)
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


# ---------------------------------------------------------------- convlayers
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


WORKLOADS = {"add1": add1, "linear16": linear16, "sgemm1024": sgemm1024,
             "memloop": memloop, "convlayers": convlayers, "conv3d": conv3d}
GAN_WORKLOADS = {"mlp-gan": mlp_gan, "toy-gan": toy_gan, "dcgan-28": dcgan_28,
                 "dcgan-28-gp": dcgan_28_gp, "refiner": refiner, "unet": unet,
                 "vgan": vgan}


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
