"""PyTorch side of the luagan benchmarks: the same workloads as bench.lua.

usage: python3 bench_torch.py WORKLOAD [THREADS]
       WORKLOAD is add1 | linear16 | sgemm1024 | memloop

Prints `name: value unit` lines in the format bench.lua uses, so that
tests/bench/run.sh reads both the same way.  Timing is wall time
(time.perf_counter) around whole loops, after an untimed warm-up: add1,
linear16 and sgemm1024 run in 5 blocks and report the best block (load from
other processes only adds time) with the mean beside it; memloop is one loop.
run.sh starts one process per workload and thread count, under
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp and
OMP_NUM_THREADS=THREADS, so that torch's OpenMP pool and OpenBLAS's are one.
"""
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


WORKLOADS = {"add1": add1, "linear16": linear16, "sgemm1024": sgemm1024,
             "memloop": memloop}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in WORKLOADS:
        sys.exit("usage: bench_torch.py {%s} [threads]" % "|".join(WORKLOADS))
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    WORKLOADS[sys.argv[1]](threads)


if __name__ == "__main__":
    main()
