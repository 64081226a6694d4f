/*
** The convlayers workload: every convolution shape of the dcgan-28, refiner,
** unet and simgan workloads (bench.lua) timed alone, forward, input gradient and
** weight gradient, through the core's ops (lg_conv2d, lg_conv_transpose2d,
** lg_conv2d_weight) as the autograd calls them.  bench_torch.py's
** convlayers times the same shapes through torch (aten.convolution and
** aten.convolution_backward); run.sh prints the two side by side.
**
** usage: conv_layers [threads [filter]]   (filter: only layers whose name contains it)
** prints: "fma_peak: <GFLOP/s> GFLOP/s (...)" -- one core's measured peak:
**         independent multiply-adds of the widest vector the build has
**         "convlayer_<net>.<layer>.<pass>: <GFLOP/s> GFLOP/s <pct>% of peak (...)"
**         pass fwd | igrad | wgrad; the percentage is of the threads' peak
**         (threads x fma_peak)
** Each pass has 2 N O Ho Wo C kh kw flops (C the image's channels, O the
** grid's: for a transposed conv, its output and its input).  Timing: wall
** clock, best of 5 blocks of ~0.03 s after one untimed call; the process's
** CPU time beside it.
*/
#define _POSIX_C_SOURCE 199309L
#include "tensor.h"

#include <immintrin.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char *name;
  bool transposed;
  int n, c, h, w;       /* the image: conv2d's input, conv_transpose2d's output */
  int o, k, s, p;       /* grid channels, kernel, stride, padding */
} layer;

/* Must list the same shapes as CONV_LAYERS in bench_torch.py. */
static const layer layers[] = {
  {"dcgan-28.G.convt1", true, 64, 64, 14, 14, 128, 4, 2, 1},
  {"dcgan-28.G.convt2", true, 64, 1, 28, 28, 64, 4, 2, 1},
  {"dcgan-28.D.conv1", false, 64, 1, 28, 28, 64, 4, 2, 1},
  {"dcgan-28.D.conv2", false, 64, 64, 14, 14, 128, 4, 2, 1},
  {"refiner.R.conv_in", false, 64, 1, 28, 28, 32, 3, 1, 1},
  {"refiner.R.res", false, 64, 32, 28, 28, 32, 3, 1, 1},
  {"refiner.R.conv_out", false, 64, 32, 28, 28, 1, 1, 1, 0},
  {"refiner.D.conv1", false, 64, 1, 28, 28, 32, 3, 2, 1},
  {"refiner.D.conv2", false, 64, 32, 14, 14, 64, 3, 2, 1},
  {"refiner.D.conv3", false, 64, 64, 7, 7, 1, 1, 1, 0},
  {"unet.G.e1", false, 16, 3, 32, 32, 32, 4, 2, 1},
  {"unet.G.e2", false, 16, 32, 16, 16, 64, 4, 2, 1},
  {"unet.G.e3", false, 16, 64, 8, 8, 128, 4, 2, 1},
  {"unet.G.d3", true, 16, 64, 8, 8, 128, 4, 2, 1},
  {"unet.G.d2", true, 16, 32, 16, 16, 128, 4, 2, 1},
  {"unet.G.d1", true, 16, 3, 32, 32, 64, 4, 2, 1},
  {"unet.D.conv1", false, 16, 6, 32, 32, 32, 4, 2, 1},
  {"unet.D.conv2", false, 16, 32, 16, 16, 64, 4, 2, 1},
  {"unet.D.conv3", false, 16, 64, 8, 8, 1, 3, 1, 1},
  {"simgan.R.conv_in", false, 64, 1, 28, 28, 16, 3, 1, 1},
  {"simgan.R.res", false, 64, 16, 28, 28, 16, 3, 1, 1},
  {"simgan.D.conv1", false, 64, 1, 28, 28, 24, 3, 2, 1},
  {"simgan.D.conv2", false, 64, 24, 14, 14, 16, 3, 2, 1},
  {"simgan.D.conv3", false, 64, 16, 7, 7, 8, 3, 1, 1},
};

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of the process: on a loaded machine, what the work cost without
** the time spent waiting for a core (one thread: comparable across runs). */
static double cpu_now(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* One core's multiply-add peak: 16 independent chains (more than latency x
** issue width on current x86), 2 flops per lane per FMA. */
static double fma_peak(void) {
#ifdef __AVX512F__
  typedef __m512 v;
#define VF 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define STORE _mm512_storeu_ps
#else
  typedef __m256 v;
#define VF 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define STORE _mm256_storeu_ps
#endif
  v acc[16], a = SET1(0.999999f), b = SET1(1e-7f);
  for (int i = 0; i < 16; i++) acc[i] = SET1((float)i);
  long iters = 20000000;
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++) acc[i] = FMA(acc[i], a, b);
    }
    double dt = now() - t0, g = 2.0 * VF * 16 * (double)iters / dt * 1e-9;
    if (g > best) best = g;
  }
  float sink[VF], total = 0;
  for (int i = 0; i < 16; i++) {
    STORE(sink, acc[i]);
    total += sink[0];
  }
  if (total == 12345.0f) printf("#");    /* keeps the loop */
  return best;
}

static lg_tensor *randn4(int a, int b, int c, int d) {
  int64_t s[4] = {a, b, c, d};
  lg_tensor *t = lg_randn(4, s);
  if (!t) {
    fprintf(stderr, "conv_layers: %s\n", lg_errmsg());
    exit(1);
  }
  return t;
}

/* One pass of layer l on its tensors; returns the result (to release). */
static lg_tensor *pass(const layer *l, int which, lg_tensor *image, lg_tensor *grid,
                       lg_tensor *w) {
  lg_conv_opts o = {{l->s, l->s}, {l->p, l->p}, {0, 0}};
  int ho = (l->h + 2 * l->p - l->k) / l->s + 1;
  o.output_padding[0] = o.output_padding[1] = l->h - ((ho - 1) * l->s - 2 * l->p + l->k);
  lg_tensor *r;
  if (which == 2) r = lg_conv2d_weight(image, grid, l->k, l->k, &o);   /* both kinds */
  else if ((which == 0) != l->transposed) r = lg_conv2d(image, w, NULL, &o);
  else r = lg_conv_transpose2d(grid, w, NULL, &o);
  if (!r) {
    fprintf(stderr, "conv_layers: %s: %s\n", l->name, lg_errmsg());
    exit(1);
  }
  return r;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  lg_set_num_threads(threads);
  double peak = fma_peak();
  printf("fma_peak: %.1f GFLOP/s (one core, %d-float vectors)\n", peak, VF);
  static const char *names[3] = {"fwd", "igrad", "wgrad"};
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
    const layer *l = &layers[i];
    if (argc > 2 && !strstr(l->name, argv[2])) continue;
    int ho = (l->h + 2 * l->p - l->k) / l->s + 1;
    /* conv2d's weight [O,C,k,k]; conv_transpose2d's [cin,cout,k,k] = [O,C,k,k] too */
    lg_tensor *image = randn4(l->n, l->c, l->h, l->h), *grid = randn4(l->n, l->o, ho, ho);
    lg_tensor *w = randn4(l->o, l->c, l->k, l->k);
    double flop = 2.0 * l->n * l->o * ho * ho * (double)l->c * l->k * l->k;
    for (int which = 0; which < 3; which++) {
      lg_release(pass(l, which, image, grid, w));
      int reps = (int)(0.03 / (flop / (peak * 1e9 * 0.3))) + 1;
      double best = 1e30, best_cpu = 1e30;
      for (int b = 0; b < 5; b++) {
        double t0 = now(), c0 = cpu_now();
        for (int r = 0; r < reps; r++) lg_release(pass(l, which, image, grid, w));
        double dt = (now() - t0) / reps, dc = (cpu_now() - c0) / reps;
        if (dt < best) best = dt;
        if (dc < best_cpu) best_cpu = dc;
      }
      double g = flop / best * 1e-9;
      printf("convlayer_%s.%s: %.2f GFLOP/s %.1f%% of peak (%.3f ms, cpu %.3f ms, %.1f MFLOP, "
             "reps=%d, threads=%d)\n", l->name, names[which], g, 100.0 * g / (peak * threads),
             best * 1e3, best_cpu * 1e3, flop * 1e-6, reps, threads);
    }
    lg_release(image), lg_release(grid), lg_release(w);
  }
  return 0;
}
