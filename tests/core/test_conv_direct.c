/* The direct stride-1 convolution (core/conv_direct.c): conv2d,
** conv_transpose2d and conv2d_weight on the shapes it takes (at least 6 output channels, rows
** that fill most of a 32-float tile) against naive double loops, over
** kernel sizes, paddings, odd sizes, batch 1, channel counts that are no
** multiple of the vector width, several tiles per row; bitwise the same at
** 1 and 2 threads; gradients (which run through the direct kernel for the
** input gradient too) to second order. */
#include "check.h"

#include <math.h>
#include <string.h>

static lg_conv_opts opts(int s, int ph, int pw) {
  lg_conv_opts o = {{s, s}, {ph, pw}, {0, 0}};
  return o;
}

static double at(const lg_tensor *x, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (h < 0 || w < 0 || h >= x->shape[2] || w >= x->shape[3]) return 0.0;
  return ck_get(x, ((n * x->shape[1] + c) * x->shape[2] + h) * x->shape[3] + w);
}

/* Elements of got off the double reference by more than 1e-4 (relative). */
static int mismatches(const lg_tensor *got, const double *ref) {
  int bad = 0;
  for (int64_t i = 0; i < got->numel; i++)
    bad += !(fabs(ck_get(got, i) - ref[i]) <= 1e-4 * (1 + fabs(ref[i])));
  return bad;
}

/* conv2d(x, w, b) by the definition, in double. */
static double *naive_conv(const lg_tensor *x, const lg_tensor *w, const lg_tensor *b, int ph,
                          int pw, int64_t ho, int64_t wo) {
  int64_t N = x->shape[0], C = x->shape[1], O = w->shape[0], kh = w->shape[2], kw = w->shape[3];
  double *ref = calloc((size_t)(N * O * ho * wo), sizeof(double));
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++)
      for (int64_t i = 0; i < ho; i++)
        for (int64_t j = 0; j < wo; j++) {
          double acc = b ? ck_get(b, o) : 0.0;
          for (int64_t c = 0; c < C; c++)
            for (int64_t a = 0; a < kh; a++)
              for (int64_t e = 0; e < kw; e++)
                acc += at(x, n, c, i - ph + a, j - pw + e) * ck_get(w, ((o * C + c) * kh + a) * kw + e);
          ref[((n * O + o) * ho + i) * wo + j] = acc;
        }
  return ref;
}

/* conv_transpose2d(g, w, b) at stride 1: every grid entry spread through
** the kernel onto the image [N, C, H, W]. */
static double *naive_convt(const lg_tensor *g, const lg_tensor *w, const lg_tensor *b, int ph,
                           int pw, int64_t H, int64_t W) {
  int64_t N = g->shape[0], O = g->shape[1], ho = g->shape[2], wo = g->shape[3];
  int64_t C = w->shape[1], kh = w->shape[2], kw = w->shape[3];
  double *ref = calloc((size_t)(N * C * H * W), sizeof(double));
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < H * W; i++) ref[(n * C + c) * H * W + i] = b ? ck_get(b, c) : 0.0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++)
      for (int64_t i = 0; i < ho; i++)
        for (int64_t j = 0; j < wo; j++)
          for (int64_t c = 0; c < C; c++)
            for (int64_t a = 0; a < kh; a++)
              for (int64_t e = 0; e < kw; e++) {
                int64_t h = i - ph + a, v = j - pw + e;
                if (h < 0 || v < 0 || h >= H || v >= W) continue;
                ref[((n * C + c) * H + h) * W + v] +=
                    at(g, n, o, i, j) * ck_get(w, ((o * C + c) * kh + a) * kw + e);
              }
  return ref;
}

typedef struct {
  int n, c, o, h, w, kh, kw, ph, pw;
  bool bias;
} shape;

/* Shapes the direct path takes: Wo of 24..32 fills one 32-float tile (or
** two 16-float ones), 60 two tiles; odd heights, C of 1, 3, 17, 32. */
static const shape direct_shapes[] = {
    {64 / 16, 32, 32, 28, 28, 3, 3, 1, 1, true},   /* the refiner's residual conv, 4 samples */
    {1, 1, 32, 28, 28, 3, 3, 1, 1, true},          /* its first layer, batch 1 */
    {2, 32, 6, 28, 28, 1, 1, 0, 0, false},         /* 1x1, 6 outputs */
    {1, 3, 7, 13, 26, 3, 3, 1, 1, true},           /* odd height, O not a tile */
    {2, 17, 13, 9, 31, 5, 5, 2, 2, true},          /* 5x5, C = 17 */
    {1, 4, 8, 5, 60, 3, 3, 1, 1, false},           /* two tiles per row */
    {1, 2, 6, 6, 30, 3, 5, 0, 2, true},            /* kh != kw, ph != pw */
    {2, 3, 12, 4, 27, 3, 3, 3, 1, true},           /* padding beyond the kernel: zero rows */
    {1, 2, 25, 3, 31, 2, 2, 1, 1, false},          /* even kernel, Wo = 32 */
    {2, 5, 13, 7, 26, 3, 3, 1, 1, true},           /* 13 outputs: a partial block of 8 */
};

static void direct_conv_matches_naive_loops(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof direct_shapes / sizeof direct_shapes[0]; t++) {
    const shape *s = &direct_shapes[t];
    int64_t ho = s->h + 2 * s->ph - s->kh + 1, wo = s->w + 2 * s->pw - s->kw + 1;
    lg_conv_opts o = opts(1, s->ph, s->pw);
    lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
    lg_tensor *w = ck_randn(SHAPE(s->o, s->c, s->kh, s->kw));
    lg_tensor *b = s->bias ? ck_randn(SHAPE(s->o)) : NULL;
    lg_tensor *y = CK(lg_conv2d(x, w, b, &o));
    EXPECT_SHAPE(y, s->n, s->o, ho, wo);
    double *ref = naive_conv(x, w, b, s->ph, s->pw, ho, wo);
    int bad = mismatches(y, ref);
    if (bad) print_error("conv2d shape %zu: %d of %lld values off\n", t, bad, (long long)y->numel);
    assert_int_equal(bad, 0);
    free(ref);
    lg_release(x), lg_release(w), lg_release(b), lg_release(y);
  }
}

/* conv_transpose2d at stride 1 runs as the direct conv of the turned
** kernel when its output has at least 6 channels and padding < kernel. */
static void direct_conv_transpose_matches_naive_loops(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof direct_shapes / sizeof direct_shapes[0]; t++) {
    const shape *s = &direct_shapes[t];
    if (s->ph >= s->kh || s->pw >= s->kw) continue;
    /* the image of the transposed conv has s->o channels and s->h x s->w */
    int64_t ho = s->h + 2 * s->ph - s->kh + 1, wo = s->w + 2 * s->pw - s->kw + 1;
    lg_conv_opts o = opts(1, s->ph, s->pw);
    lg_tensor *g = ck_randn(SHAPE(s->n, s->c, ho, wo));
    lg_tensor *w = ck_randn(SHAPE(s->c, s->o, s->kh, s->kw));
    lg_tensor *b = s->bias ? ck_randn(SHAPE(s->o)) : NULL;
    lg_tensor *y = CK(lg_conv_transpose2d(g, w, b, &o));
    EXPECT_SHAPE(y, s->n, s->o, s->h, s->w);
    double *ref = naive_convt(g, w, b, s->ph, s->pw, s->h, s->w);
    int bad = mismatches(y, ref);
    if (bad)
      print_error("conv_transpose2d shape %zu: %d of %lld values off\n", t, bad, (long long)y->numel);
    assert_int_equal(bad, 0);
    free(ref);
    lg_release(g), lg_release(w), lg_release(b), lg_release(y);
  }
}

/* conv2d_weight(x, gy) by the definition, in double. */
static double *naive_weight(const lg_tensor *x, const lg_tensor *gy, int64_t kh, int64_t kw,
                            int ph, int pw) {
  int64_t N = x->shape[0], C = x->shape[1], O = gy->shape[1], ho = gy->shape[2], wo = gy->shape[3];
  double *ref = calloc((size_t)(O * C * kh * kw), sizeof(double));
  for (int64_t o = 0; o < O; o++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t a = 0; a < kh; a++)
        for (int64_t e = 0; e < kw; e++) {
          double acc = 0.0;
          for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < ho; i++)
              for (int64_t j = 0; j < wo; j++)
                acc += at(x, n, c, i - ph + a, j - pw + e) * at(gy, n, o, i, j);
          ref[((o * C + c) * kh + a) * kw + e] = acc;
        }
  return ref;
}

/* The weight gradient's direct path (kernel width 3, >= 8 outputs) and
** the column path for the other shapes. */
static void direct_conv_weight_matches_naive_loops(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof direct_shapes / sizeof direct_shapes[0]; t++) {
    const shape *s = &direct_shapes[t];
    int64_t ho = s->h + 2 * s->ph - s->kh + 1, wo = s->w + 2 * s->pw - s->kw + 1;
    lg_conv_opts o = opts(1, s->ph, s->pw);
    lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
    lg_tensor *gy = ck_randn(SHAPE(s->n, s->o, ho, wo));
    lg_tensor *gw = CK(lg_conv2d_weight(x, gy, s->kh, s->kw, &o));
    EXPECT_SHAPE(gw, s->o, s->c, s->kh, s->kw);
    double *ref = naive_weight(x, gy, s->kh, s->kw, s->ph, s->pw);
    int bad = mismatches(gw, ref);
    if (bad) print_error("conv2d_weight shape %zu: %d of %lld values off\n", t, bad, (long long)gw->numel);
    assert_int_equal(bad, 0);
    free(ref);
    lg_release(x), lg_release(gy), lg_release(gw);
  }
}

/* The refiner's layer at batch 8: the forward and input gradient split
** over threads by tiles (every value computed by one thread in a fixed
** order), the weight gradient by fixed chunks of samples. */
static void direct_conv_same_bits_at_1_and_2_threads(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(8, 32, 28, 28)), *w = ck_randn(SHAPE(32, 32, 3, 3));
  lg_tensor *b = ck_randn(SHAPE(32));
  lg_conv_opts o = opts(1, 1, 1);
  int before = lg_get_num_threads();
  lg_set_num_threads(1);
  lg_tensor *y1 = CK(lg_conv2d(x, w, b, &o)), *t1 = CK(lg_conv_transpose2d(x, w, b, &o));
  lg_tensor *w1 = CK(lg_conv2d_weight(x, y1, 3, 3, &o));
  lg_set_num_threads(2);
  lg_tensor *y2 = CK(lg_conv2d(x, w, b, &o)), *t2 = CK(lg_conv_transpose2d(x, w, b, &o));
  lg_tensor *w2 = CK(lg_conv2d_weight(x, y1, 3, 3, &o));
  lg_set_num_threads(before);
  assert_memory_equal(lg_data(y1), lg_data(y2), (size_t)y1->numel * sizeof(float));
  assert_memory_equal(lg_data(t1), lg_data(t2), (size_t)t1->numel * sizeof(float));
  assert_memory_equal(lg_data(w1), lg_data(w2), (size_t)w1->numel * sizeof(float));
  lg_release(x), lg_release(w), lg_release(b);
  lg_release(y1), lg_release(y2), lg_release(t1), lg_release(t2), lg_release(w1), lg_release(w2);
}

/* The weight gradient's threads split the samples in fixed chunks (at most
** 8, fewer for a smaller batch), summed in chunk order: batches of 3, 13
** and 9 split unevenly over 2 threads, and every value must be that of one
** thread, which runs the chunks in turn.  Each shape has >= 4M
** multiply-adds, so 2 threads do run. */
static void direct_weight_same_bits_over_sample_chunks(void **state) {
  (void)state;
  static const int shapes[][3] = {{8, 32, 3}, {16, 3, 13}, {24, 5, 9}};   /* {O, C, N} */
  int before = lg_get_num_threads();
  lg_conv_opts o = opts(1, 1, 1);
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    int64_t O = shapes[t][0], C = shapes[t][1], n = shapes[t][2];
    lg_tensor *x = ck_randn(SHAPE(n, C, 28, 28)), *gy = ck_randn(SHAPE(n, O, 28, 28));
    lg_set_num_threads(1);
    lg_tensor *w1 = CK(lg_conv2d_weight(x, gy, 3, 3, &o));
    lg_set_num_threads(2);
    lg_tensor *w2 = CK(lg_conv2d_weight(x, gy, 3, 3, &o));
    assert_memory_equal(lg_data(w1), lg_data(w2), (size_t)w1->numel * sizeof(float));
    double *ref = naive_weight(x, gy, 3, 3, 1, 1);
    for (int64_t i = 0; i < w1->numel; i++)
      assert_true(fabs(lg_data(w1)[i] - ref[i]) <= 1e-4 * (1 + fabs(ref[i])));
    free(ref);
    lg_release(x), lg_release(gy), lg_release(w1), lg_release(w2);
  }
  lg_set_num_threads(before);
}

typedef struct {
  lg_conv_opts o;
} conv_ctx;

FN(f_conv, lg_conv2d(x[0], x[1], x[2], &((const conv_ctx *)ctx)->o))
static lg_tensor *f_conv_tanh(lg_tensor **x, const void *ctx) {
  lg_tensor *y = lg_conv2d(x[0], x[1], x[2], &((const conv_ctx *)ctx)->o);
  if (!y) return NULL;
  lg_tensor *t = lg_tanh(y);
  lg_release(y);
  return t;
}
FN(f_convt, lg_conv_transpose2d(x[0], x[1], x[2], &((const conv_ctx *)ctx)->o))

/* Small enough for finite differences, wide enough (Wo 24) for the direct
** path; the gradients' conv_transpose2d at stride 1 and, with 8 outputs,
** conv2d_weight take it too. */
static void grad_direct_conv(void **state) {
  (void)state;
  conv_ctx k3 = {opts(1, 1, 1)};
  CHECK_GRADS(f_conv, &k3, ck_randn(SHAPE(1, 6, 3, 24)), ck_randn(SHAPE(8, 6, 3, 3)),
              ck_randn(SHAPE(8)));
  conv_ctx k1 = {opts(1, 0, 0)};
  GRADCHECK(f_conv_tanh, &k1, ck_randn(SHAPE(2, 3, 2, 25)), ck_randn(SHAPE(7, 3, 1, 1)),
            ck_randn(SHAPE(7)));
  CHECK_GRADS(f_convt, &k3, ck_randn(SHAPE(1, 6, 3, 24)), ck_randn(SHAPE(6, 7, 3, 3)),
              ck_randn(SHAPE(7)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(direct_conv_matches_naive_loops),
      TEST(direct_conv_transpose_matches_naive_loops),
      TEST(direct_conv_weight_matches_naive_loops),
      TEST(direct_conv_same_bits_at_1_and_2_threads),
      TEST(direct_weight_same_bits_over_sample_chunks),
      TEST(grad_direct_conv),
  };
  return cmocka_run_group_tests_name("conv_direct", tests, NULL, NULL);
}
