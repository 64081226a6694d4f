/* Winograd F(2x2, 3x3) (core/conv_winograd.c), called directly on many
** shapes (odd and even sizes, 1..40 channels, padding 0..3, batch 1 and 3,
** with and without bias, relu / leaky relu, an addend), forward and with the
** weight turned (the input gradient's form), against a double reference;
** the dispatch of lg_conv2d / lg_conv_transpose2d to it; bitwise the same
** at 1 and 2 threads; its error; and the direct kernel on the shapes it
** no longer gets through the dispatch.
**
** The bound: F(2x2,3x3) rounds the transforms of x and w and the sums of
** their products, so its error scales with s = sum |w||x| over an output's
** taps (plus |bias| and |add|), not with the output itself; each value
** must lie within 1e-5 s of the exact one.  Measured: at most ~5e-7 s
** (32 channels).  One wrong tap is ~1/(9C) of s, over 2.7e-3 s at 40
** channels: far outside the bound. */
#include "check.h"
#include "conv_winograd.h"

#include <math.h>
#include <string.h>

/* A build with neither AVX-512 nor AVX2 has no Winograd path. */
static bool have_winograd(void) { return lg_conv_winograd_ok(32, 32, 28, 28); }

typedef struct {
  int n, c, o, h, w, ph, pw;
} shape;

static const shape shapes[] = {
    {3, 32, 32, 28, 28, 1, 1},   /* the refiner's residual conv */
    {1, 16, 16, 28, 28, 1, 1},   /* simgan's */
    {1, 1, 1, 3, 3, 0, 0},       /* one output */
    {3, 40, 13, 9, 17, 2, 2},    /* odd sizes, O not a block, padding 2 */
    {1, 3, 7, 6, 6, 0, 0},       /* no padding, even sizes */
    {3, 17, 24, 10, 31, 1, 2},   /* ph != pw: the image at odd columns of the split rows */
    {1, 8, 12, 3, 3, 1, 1},      /* smaller than a vector */
    {3, 5, 40, 33, 40, 2, 1},    /* rows of more than 16 tiles, odd height */
    {1, 36, 9, 5, 70, 0, 1},     /* 35 tiles a row, an odd tile count */
    {3, 2, 5, 7, 7, 1, 1},       /* simgan's 7x7 grid */
    {1, 4, 6, 4, 3, 0, 0},       /* Wo = 1, Ho = 2 */
    {1, 6, 5, 4, 5, 3, 3},       /* padding past the kernel: rows and columns of zeros */
};

static lg_direct_geom geom_of(const shape *s) {
  return (lg_direct_geom){s->n, s->c, s->h, s->w, s->o, s->h + 2 * s->ph - 2,
                          s->w + 2 * s->pw - 2, 3, 3, s->ph, s->pw};
}

/* ref = conv2d(x, w) without bias, in double, and abs = sum |w||x| per
** output; w [o,c,3,3], or [c,o,3,3] read turned when turned. */
static void reference(const lg_direct_geom *g, const float *x, const float *w, bool turned,
                      double *ref, double *abs_sum) {
  for (int64_t n = 0; n < g->n; n++)
    for (int64_t o = 0; o < g->o; o++)
      for (int64_t i = 0; i < g->ho; i++)
        for (int64_t j = 0; j < g->wo; j++) {
          double acc = 0.0, mag = 0.0;
          for (int64_t c = 0; c < g->c; c++)
            for (int64_t a = 0; a < 3; a++)
              for (int64_t e = 0; e < 3; e++) {
                int64_t h = i - g->ph + a, v = j - g->pw + e;
                if (h < 0 || v < 0 || h >= g->h || v >= g->w) continue;
                double xv = x[((n * g->c + c) * g->h + h) * g->w + v];
                double wv = turned ? w[((c * g->o + o) * 3 + 2 - a) * 3 + 2 - e]
                                   : w[((o * g->c + c) * 3 + a) * 3 + e];
                acc += xv * wv, mag += fabs(xv * wv);
              }
          int64_t k = ((n * g->o + o) * g->ho + i) * g->wo + j;
          ref[k] = acc, abs_sum[k] = mag;
        }
}

/* The epilogue's combinations: bias, addend, activation. */
typedef struct {
  bool bias, add;
  lg_act act;
} variant;

static const variant variants[] = {
    {false, false, LG_ACT_NONE}, {true, false, LG_ACT_NONE}, {true, true, LG_ACT_RELU},
    {false, true, LG_ACT_LEAKY}, {true, false, LG_ACT_LEAKY}, {false, true, LG_ACT_NONE},
};

static double act_of(lg_act act, double v) {
  if (act == LG_ACT_RELU) return v <= 0.0 ? 0.0 : v;
  if (act == LG_ACT_LEAKY) return v > 0.0 ? v : 0.2 * v;
  return v;
}

/* Every variant of one shape and orientation; returns the largest error
** seen as a fraction of its bound's scale s. */
static double check_shape(size_t t, bool turned) {
  const shape *s = &shapes[t];
  lg_direct_geom g = geom_of(s);
  lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
  lg_tensor *w = turned ? ck_randn(SHAPE(s->c, s->o, 3, 3)) : ck_randn(SHAPE(s->o, s->c, 3, 3));
  lg_tensor *b = ck_randn(SHAPE(s->o)), *add = ck_randn(SHAPE(s->n, s->o, g.ho, g.wo));
  lg_tensor *y = CK(lg_empty(4, add->shape));
  size_t count = (size_t)add->numel;
  double *ref = malloc(count * sizeof(double)), *mag = malloc(count * sizeof(double));
  reference(&g, lg_data(x), lg_data(w), turned, ref, mag);
  double worst = 0.0;
  for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
    const variant *var = &variants[v];
    lg_epilogue ep = {var->act, var->act == LG_ACT_LEAKY ? 0.2f : 0.0f,
                      var->add ? lg_data(add) : NULL};
    memset(lg_data(y), 0xff, count * sizeof(float));   /* NaNs: every output must be written */
    assert_int_equal(lg_conv_winograd(&g, lg_data(x), lg_data(w), turned,
                                      var->bias ? lg_data(b) : NULL, ep, lg_data(y)), 0);
    int bad = 0;
    for (size_t k = 0; k < count; k++) {
      int64_t o = (int64_t)k / (g.ho * g.wo) % g.o;
      double bias = var->bias ? ck_get(b, o) : 0.0, addv = var->add ? ck_get(add, (int64_t)k) : 0.0;
      double want = act_of(var->act, ref[k] + bias + addv);
      double scale = mag[k] + fabs(bias) + fabs(addv) + 1e-30, err = fabs(ck_get(y, (int64_t)k) - want);
      if (!(err <= 1e-5 * scale)) bad++;
      else if (err / scale > worst) worst = err / scale;
    }
    if (bad)
      print_error("shape %zu%s variant %zu: %d of %zu values off\n", t, turned ? " turned" : "", v,
                  bad, count);
    assert_int_equal(bad, 0);
  }
  free(ref), free(mag);
  lg_release(x), lg_release(w), lg_release(b), lg_release(add), lg_release(y);
  return worst;
}

static void winograd_matches_reference(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  double worst = 0.0;
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    double e = check_shape(t, false);
    if (e > worst) worst = e;
  }
  /* not vacuous: rounding shows, within the bound */
  assert_true(worst > 1e-9 && worst < 1e-5);
}

/* The input gradient's form: the weight [c,o,3,3] turned by 180 degrees. */
static void winograd_turned_matches_reference(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) check_shape(t, true);
}

/* lg_conv2d and lg_conv_transpose2d (the input gradient of conv2d) on the
** refiner's and simgan's residual shapes run F(2x2,3x3): the same bits as
** the direct call. */
static void dispatch_takes_winograd(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  for (size_t t = 0; t < 2; t++) {
    const shape *s = &shapes[t];
    lg_direct_geom g = geom_of(s);
    assert_true(lg_conv_winograd_ok(s->c, s->o, g.ho, g.wo));
    lg_conv_opts o = {{1, 1}, {s->ph, s->pw}, {0, 0}};
    lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w)), *w = ck_randn(SHAPE(s->o, s->c, 3, 3));
    lg_tensor *b = ck_randn(SHAPE(s->o)), *gy = ck_randn(SHAPE(s->n, s->o, g.ho, g.wo));
    lg_tensor *y = CK(lg_conv2d_act(x, w, b, NULL, &o, LG_ACT_RELU, 0.0f));
    lg_tensor *want = CK(lg_empty(4, y->shape));
    lg_epilogue relu = {LG_ACT_RELU, 0.0f, NULL}, none = {LG_ACT_NONE, 0.0f, NULL};
    assert_int_equal(lg_conv_winograd(&g, lg_data(x), lg_data(w), false, lg_data(b), relu,
                                      lg_data(want)), 0);
    assert_memory_equal(lg_data(y), lg_data(want), (size_t)y->numel * sizeof(float));
    /* conv_transpose2d(gy, w): the conv of gy with w turned, O -> C channels */
    lg_tensor *gx = CK(lg_conv_transpose2d(gy, w, NULL, &o)), *gwant = CK(lg_empty(4, x->shape));
    lg_direct_geom t2 = {s->n, s->o, g.ho, g.wo, s->c, s->h, s->w, 3, 3, 2 - s->ph, 2 - s->pw};
    assert_int_equal(lg_conv_winograd(&t2, lg_data(gy), lg_data(w), true, NULL, none,
                                      lg_data(gwant)), 0);
    assert_memory_equal(lg_data(gx), lg_data(gwant), (size_t)gx->numel * sizeof(float));
    lg_release(x), lg_release(w), lg_release(b), lg_release(gy), lg_release(y);
    lg_release(want), lg_release(gx), lg_release(gwant);
  }
  /* and not where it loses: one input channel, one output channel */
  assert_false(lg_conv_winograd_ok(1, 32, 28, 28));
  assert_false(lg_conv_winograd_ok(32, 1, 28, 28));
}

/* Threads take whole samples; each value is computed by one of them in a
** fixed order. */
static void winograd_same_bits_at_1_and_2_threads(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  lg_tensor *x = ck_randn(SHAPE(5, 32, 28, 28)), *w = ck_randn(SHAPE(32, 32, 3, 3));
  lg_tensor *b = ck_randn(SHAPE(32)), *add = ck_randn(SHAPE(5, 32, 28, 28));
  lg_tensor *y1 = CK(lg_empty(4, add->shape)), *y2 = CK(lg_empty(4, add->shape));
  lg_direct_geom g = geom_of(&shapes[0]);
  g.n = 5;
  lg_epilogue ep = {LG_ACT_LEAKY, 0.1f, lg_data(add)};
  int before = lg_get_num_threads();
  for (int turned = 0; turned < 2; turned++) {
    lg_set_num_threads(1);
    assert_int_equal(lg_conv_winograd(&g, lg_data(x), lg_data(w), turned, lg_data(b), ep, lg_data(y1)), 0);
    lg_set_num_threads(2);
    assert_int_equal(lg_conv_winograd(&g, lg_data(x), lg_data(w), turned, lg_data(b), ep, lg_data(y2)), 0);
    assert_memory_equal(lg_data(y1), lg_data(y2), (size_t)y1->numel * sizeof(float));
  }
  lg_set_num_threads(before);
  lg_release(x), lg_release(w), lg_release(b), lg_release(add), lg_release(y1), lg_release(y2);
}

static void winograd_needs_3x3(void **state) {
  (void)state;
  lg_direct_geom g = {1, 2, 6, 6, 2, 2, 2, 5, 5, 0, 0};
  float x[72] = {0}, w[100] = {0}, y[8];
  lg_epilogue none = {LG_ACT_NONE, 0.0f, NULL};
  EXPECT_RC_ERR(lg_conv_winograd(&g, x, w, false, NULL, none, y), "3x3", "5x5");
}

/* The direct kernel (conv_direct.c) on the shapes the dispatch now sends
** to Winograd, so that its register tile at 32 channels stays tested:
** against the same reference, to 1e-5 of sum |w||x|. */
static void direct_still_matches_on_winograd_shapes(void **state) {
  (void)state;
  if (!have_winograd()) skip();
  for (size_t t = 0; t < 2; t++) {
    const shape *s = &shapes[t];
    lg_direct_geom g = geom_of(s);
    lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w)), *w = ck_randn(SHAPE(s->o, s->c, 3, 3));
    lg_tensor *y = CK(lg_empty(SHAPE(s->n, s->o, g.ho, g.wo)));
    size_t count = (size_t)y->numel;
    double *ref = malloc(count * sizeof(double)), *mag = malloc(count * sizeof(double));
    lg_epilogue none = {LG_ACT_NONE, 0.0f, NULL};
    for (int turned = 0; turned < 2; turned++) {
      if (turned) {   /* the same numbers read as [c,o,3,3]: c == o here */
        assert_int_equal(s->c, s->o);
      }
      reference(&g, lg_data(x), lg_data(w), turned, ref, mag);
      assert_int_equal(lg_conv_direct(&g, lg_data(x), lg_data(w), turned, NULL, none, lg_data(y)), 0);
      int bad = 0;
      for (size_t k = 0; k < count; k++)
        bad += !(fabs(ck_get(y, (int64_t)k) - ref[k]) <= 1e-5 * (mag[k] + 1e-30));
      assert_int_equal(bad, 0);
    }
    free(ref), free(mag);
    lg_release(x), lg_release(w), lg_release(y);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(winograd_matches_reference),
      TEST(winograd_turned_matches_reference),
      TEST(dispatch_takes_winograd),
      TEST(winograd_same_bits_at_1_and_2_threads),
      TEST(winograd_needs_3x3),
      TEST(direct_still_matches_on_winograd_shapes),
  };
  return cmocka_run_group_tests_name("conv_winograd", tests, NULL, NULL);
}
