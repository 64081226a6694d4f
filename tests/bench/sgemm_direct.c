/*
** The reference for the sgemm1024 workload: a 1024^3 single-precision matmul
** through OpenBLAS's cblas_sgemm called directly, no luagan in between.
**
** usage: sgemm_direct [threads] [reps] [n]
** prints: "sgemm_direct: <GFLOP/s> GFLOP/s (best of 5 blocks, mean ...; ...)"
**
** Built by tests/bench/run.sh against Debian's OpenMP build of OpenBLAS
** (/usr/lib/x86_64-linux-gnu/openblas-openmp), the same library luagan links.
** The matrices are filled with a fixed LCG so every run does the same work;
** one warm-up call (thread pool start, page faults) is not timed.
*/
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Declared by OpenBLAS; not in every cblas.h. */
void openblas_set_num_threads(int num_threads);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(float *p, size_t n, unsigned seed) {
  unsigned s = seed;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int reps = argc > 2 ? atoi(argv[2]) : 10;
  int n = argc > 3 ? atoi(argv[3]) : 1024;
  if (threads < 1 || reps < 1 || n < 1) {
    fprintf(stderr, "usage: sgemm_direct [threads>=1] [reps>=1] [n>=1]\n");
    return 2;
  }
  openblas_set_num_threads(threads);
  size_t nn = (size_t)n * (size_t)n;
  float *a = aligned_alloc(64, nn * sizeof(float) + 64);
  float *b = aligned_alloc(64, nn * sizeof(float) + 64);
  float *c = aligned_alloc(64, nn * sizeof(float) + 64);
  if (!a || !b || !c) {
    fprintf(stderr, "sgemm_direct: out of memory\n");
    return 1;
  }
  fill(a, nn, 1);
  fill(b, nn, 2);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
              0.0f, c, n);
  /* 5 blocks of reps/5 calls (at least 1), best block reported with the
  ** mean beside it: the statistic bench.lua and bench_torch.py use. */
  int nblocks = reps >= 5 ? 5 : reps, per = reps / nblocks;
  double best = 1e30, total = 0;
  for (int k = 0; k < nblocks; k++) {
    double t0 = now();
    for (int r = 0; r < per; r++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                  0.0f, c, n);
    double dt = (now() - t0) / per;
    total += dt;
    if (dt < best) best = dt;
  }
  double flop = 2.0 * (double)n * (double)n * (double)n;
  printf("sgemm_direct: %.2f GFLOP/s (best of %d blocks, mean %.2f; reps=%d, threads=%d, n=%d) "
         "check=%g\n", flop / best * 1e-9, nblocks, flop / (total / nblocks) * 1e-9,
         nblocks * per, threads, n, (double)c[nn / 2]);
  free(a);
  free(b);
  free(c);
  return 0;
}
