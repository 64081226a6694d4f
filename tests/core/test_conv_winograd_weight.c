/* The weight gradient by Winograd F(3x3, 2x2) (core/conv_winograd_weight.c),
** called directly on many shapes (odd and even grids, 1..40 channels on
** either side, padding 0..3, batch 1..11), against a double reference; the
** dispatch of lg_conv2d_weight to it; bitwise the same at 1 and 2 threads;
** and the direct kernel on the shapes it no longer gets through the
** dispatch.
**
** The bound: the transforms of x and gy are rounded and the products summed
** in float, so the error scales with s = sum |gy||x| over a weight's terms,
** not with the weight's gradient itself (a sum of terms of both signs);
** each value must lie within 1e-5 s of the exact one.  Measured: at most
** 1.6e-6 s.  A term lost or counted twice moves a value by about s / terms,
** over 1e-4 s for these shapes (at most ~9,000 terms a weight). */
#include "check.h"
#include "conv_winograd.h"

#include <math.h>
#include <string.h>

static bool have_winograd(void) { return lg_conv_winograd_weight_ok(32, 32, 28, 28); }

typedef struct {
  int n, c, o, h, w, ph, pw;
} shape;

static const shape shapes[] = {
    {3, 32, 32, 28, 28, 1, 1},   /* the refiner's residual conv */
    {2, 16, 16, 28, 28, 1, 1},   /* simgan's */
    {1, 1, 1, 3, 3, 0, 0},       /* one output */
    {3, 40, 13, 9, 17, 2, 2},    /* odd sizes, O not a block, padding 2 */
    {1, 3, 7, 6, 6, 0, 0},       /* no padding, even sizes */
    {3, 17, 24, 10, 31, 1, 2},   /* ph != pw */
    {1, 8, 12, 3, 3, 1, 1},      /* smaller than a vector */
    {11, 5, 40, 33, 40, 2, 1},   /* more samples than chunks, odd height */
    {1, 36, 9, 5, 70, 0, 1},     /* 35 tiles a row */
    {9, 2, 5, 7, 7, 1, 1},       /* simgan's 7x7 grid, an uneven chunking */
    {1, 4, 6, 4, 3, 0, 0},       /* Wo = 1, Ho = 2 */
    {1, 6, 5, 4, 5, 3, 3},       /* padding past the kernel */
};

static lg_direct_geom geom_of(const shape *s) {
  return (lg_direct_geom){s->n, s->c, s->h, s->w, s->o, s->h + 2 * s->ph - 2,
                          s->w + 2 * s->pw - 2, 3, 3, s->ph, s->pw};
}

/* ref[o,c,a,e] = sum over n, i, j of gy[n,o,i,j] x[n,c,i-ph+a,j-pw+e] in
** double, and mag the same sum of absolute values. */
static void reference(const lg_direct_geom *g, const float *x, const float *gy, double *ref,
                      double *mag) {
  for (int64_t o = 0; o < g->o; o++)
    for (int64_t c = 0; c < g->c; c++)
      for (int64_t a = 0; a < 3; a++)
        for (int64_t e = 0; e < 3; e++) {
          double acc = 0.0, m = 0.0;
          for (int64_t n = 0; n < g->n; n++)
            for (int64_t i = 0; i < g->ho; i++)
              for (int64_t j = 0; j < g->wo; j++) {
                int64_t h = i - g->ph + a, v = j - g->pw + e;
                if (h < 0 || v < 0 || h >= g->h || v >= g->w) continue;
                double p = (double)x[((n * g->c + c) * g->h + h) * g->w + v] *
                           gy[((n * g->o + o) * g->ho + i) * g->wo + j];
                acc += p, m += fabs(p);
              }
          int64_t k = ((o * g->c + c) * 3 + a) * 3 + e;
          ref[k] = acc, mag[k] = m;
        }
}

typedef int (*weight_kernel)(const lg_direct_geom *, const float *, const float *, float *);

/* kernel on one shape against the reference; the largest error as a
** fraction of its scale s. */
static double check_shape(size_t t, weight_kernel kernel) {
  const shape *s = &shapes[t];
  lg_direct_geom g = geom_of(s);
  lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
  lg_tensor *gy = ck_randn(SHAPE(s->n, s->o, g.ho, g.wo));
  lg_tensor *gw = CK(lg_empty(SHAPE(s->o, s->c, 3, 3)));
  size_t count = (size_t)gw->numel;
  double *ref = malloc(count * sizeof(double)), *mag = malloc(count * sizeof(double));
  reference(&g, lg_data(x), lg_data(gy), ref, mag);
  memset(lg_data(gw), 0xff, count * sizeof(float));   /* NaNs: every value must be written */
  assert_int_equal(kernel(&g, lg_data(x), lg_data(gy), lg_data(gw)), 0);
  double worst = 0.0;
  int bad = 0;
  for (size_t k = 0; k < count; k++) {
    double scale = mag[k] + 1e-30, err = fabs(ck_get(gw, (int64_t)k) - ref[k]);
    if (!(err <= 1e-5 * scale)) bad++;
    else if (err / scale > worst) worst = err / scale;
  }
  if (bad) print_error("shape %zu: %d of %zu values off\n", t, bad, count);
  assert_int_equal(bad, 0);
  free(ref), free(mag);
  lg_release(x), lg_release(gy), lg_release(gw);
  return worst;
}

static void weight_matches_reference(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  double worst = 0.0;
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    double e = check_shape(t, lg_conv_winograd_weight);
    if (e > worst) worst = e;
  }
  /* not vacuous: rounding shows, within the bound */
  assert_true(worst > 1e-9 && worst < 1e-5);
}

/* lg_conv2d_weight on the refiner's shape runs F(3x3,2x2): the same bits as
** the direct call; and not where the channels do not fill vectors. */
static void dispatch_takes_winograd_weight(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  const shape *s = &shapes[0];
  lg_direct_geom g = geom_of(s);
  lg_conv_opts o = {{1, 1}, {s->ph, s->pw}, {0, 0}};
  lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
  lg_tensor *gy = ck_randn(SHAPE(s->n, s->o, g.ho, g.wo));
  lg_tensor *gw = CK(lg_conv2d_weight(x, gy, 3, 3, &o)), *want = CK(lg_empty(4, gw->shape));
  assert_int_equal(lg_conv_winograd_weight(&g, lg_data(x), lg_data(gy), lg_data(want)), 0);
  assert_memory_equal(lg_data(gw), lg_data(want), (size_t)gw->numel * sizeof(float));
  lg_release(x), lg_release(gy), lg_release(gw), lg_release(want);
  assert_false(lg_conv_winograd_weight_ok(1, 32, 28, 28));
  assert_false(lg_conv_winograd_weight_ok(32, 1, 28, 28));
  assert_false(lg_conv_winograd_weight_ok(128, 128, 8, 8));   /* loses: see its header */
}

/* Fixed chunks of samples, summed in chunk order: the thread count does
** not show in the bits, on a batch that does not divide evenly. */
static void weight_same_bits_at_1_and_2_threads(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  shape s = shapes[0];
  s.n = 13;
  lg_direct_geom g = geom_of(&s);
  lg_tensor *x = ck_randn(SHAPE(s.n, s.c, s.h, s.w)), *gy = ck_randn(SHAPE(s.n, s.o, g.ho, g.wo));
  lg_tensor *g1 = CK(lg_empty(SHAPE(s.o, s.c, 3, 3))), *g2 = CK(lg_empty(SHAPE(s.o, s.c, 3, 3)));
  int before = lg_get_num_threads();
  lg_set_num_threads(1);
  assert_int_equal(lg_conv_winograd_weight(&g, lg_data(x), lg_data(gy), lg_data(g1)), 0);
  lg_set_num_threads(2);
  assert_int_equal(lg_conv_winograd_weight(&g, lg_data(x), lg_data(gy), lg_data(g2)), 0);
  lg_set_num_threads(before);
  assert_memory_equal(lg_data(g1), lg_data(g2), (size_t)g1->numel * sizeof(float));
  lg_release(x), lg_release(gy), lg_release(g1), lg_release(g2);
}

static void weight_needs_3x3(void **state) {
  (void)state;
  lg_direct_geom g = {1, 2, 6, 6, 2, 2, 2, 5, 5, 0, 0};
  float x[72] = {0}, gy[8] = {0}, gw[100];
  EXPECT_RC_ERR(lg_conv_winograd_weight(&g, x, gy, gw), "3x3", "5x5");
}

/* The direct weight kernel (conv_direct.c) on the shapes the dispatch now
** sends here, so that its 32-channel tiles stay tested: against the same
** reference, to the same bound. */
static void direct_weight_still_matches_on_winograd_shapes(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  for (size_t t = 0; t < 2; t++) {
    const shape *s = &shapes[t];
    assert_true(lg_conv_winograd_weight_ok(s->c, s->o, s->h, s->w));
    check_shape(t, lg_conv_direct_weight);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(weight_matches_reference),
      TEST(dispatch_takes_winograd_weight),
      TEST(weight_same_bits_at_1_and_2_threads),
      TEST(weight_needs_3x3),
      TEST(direct_weight_still_matches_on_winograd_shapes),
  };
  return cmocka_run_group_tests_name("conv_winograd_weight", tests, NULL, NULL);
}
