/* 3-D convolutions: conv3d, conv_transpose3d and conv3d_weight against
** values by hand and a plain 9-deep loop, determinism across thread counts,
** gradients to second order, errors and absurd sizes; batch_norm on 5-D
** input. */
#include "check.h"

#include <limits.h>

static lg_conv3d_opts opts3(int s0, int s1, int s2, int p0, int p1, int p2) {
  lg_conv3d_opts o = {{s0, s1, s2}, {p0, p1, p2}, {0, 0, 0}};
  return o;
}

static lg_conv3d_opts same(int s, int p, int op) {
  lg_conv3d_opts o = {{s, s, s}, {p, p, p}, {op, op, op}};
  return o;
}

/* {====================================================== values by hand */

/* A 1x1x1 kernel mixes channels at every position: y = x0 + 10 x1 + 0.5. */
static void conv3d_1x1x1_mixes_channels(void **state) {
  (void)state;
  lg_tensor *a = CK(lg_arange(16)), *x = CK(lg_view(a, SHAPE(1, 2, 2, 2, 2)));
  lg_tensor *w = TENSOR(SHAPE(1, 2, 1, 1, 1), 1, 10), *b = TENSOR(SHAPE(1), 0.5f);
  lg_tensor *y = CK(lg_conv3d(x, w, b, NULL));
  EXPECT_SHAPE(y, 1, 1, 2, 2, 2);
  EXPECT_VALUES(y, 80.5f, 91.5f, 102.5f, 113.5f, 124.5f, 135.5f, 146.5f, 157.5f);
  lg_release(a), lg_release(x), lg_release(w), lg_release(b), lg_release(y);
}

/* x[t,h,w] = 9t + 3h + w on 3x3x3, a 2x2x2 box of ones: each output is
** 8 (9t + 3h + w) + (0+1+3+4+9+10+12+13) = 8 base + 52. */
static void conv3d_box_by_hand(void **state) {
  (void)state;
  lg_tensor *a = CK(lg_arange(27)), *x = CK(lg_view(a, SHAPE(1, 1, 3, 3, 3)));
  lg_tensor *w = CK(lg_full(SHAPE(1, 1, 2, 2, 2), 1));
  lg_tensor *y = CK(lg_conv3d(x, w, NULL, NULL));
  EXPECT_SHAPE(y, 1, 1, 2, 2, 2);
  EXPECT_VALUES(y, 52, 60, 76, 84, 124, 132, 148, 156);
  /* stride 2, padding 1: along each dim the windows cover {0} and {1, 2} */
  lg_conv3d_opts o = same(2, 1, 0);
  lg_tensor *y2 = CK(lg_conv3d(x, w, NULL, &o));
  EXPECT_SHAPE(y2, 1, 1, 2, 2, 2);
  EXPECT_VALUES(y2, 0, 3, 9, 24, 27, 60, 72, 156);
  lg_release(a), lg_release(x), lg_release(w), lg_release(y), lg_release(y2);
}

/* conv_transpose3d spreads each input value times the kernel: stride 2
** along t places the copies side by side; output_padding adds a zero plane. */
static void conv_transpose3d_by_hand(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(1, 1, 2, 1, 1), 1, 10), *w = TENSOR(SHAPE(1, 1, 2, 1, 1), 1, 2);
  lg_tensor *b = TENSOR(SHAPE(1), 0.25f);
  lg_conv3d_opts o = opts3(2, 1, 1, 0, 0, 0);
  lg_tensor *y = CK(lg_conv_transpose3d(x, w, b, &o));
  EXPECT_SHAPE(y, 1, 1, 4, 1, 1);
  EXPECT_VALUES(y, 1.25f, 2.25f, 10.25f, 20.25f);
  o.output_padding[0] = 1;
  lg_tensor *yp = CK(lg_conv_transpose3d(x, w, NULL, &o));
  EXPECT_SHAPE(yp, 1, 1, 5, 1, 1);
  EXPECT_VALUES(yp, 1, 2, 10, 20, 0);
  /* one input value, two output channels: 2 w per channel */
  lg_tensor *one = TENSOR(SHAPE(1, 1, 1, 1, 1), 2);
  lg_tensor *w2 = TENSOR(SHAPE(1, 2, 1, 2, 1), 1, 2, 3, 4);
  lg_tensor *y2 = CK(lg_conv_transpose3d(one, w2, NULL, NULL));
  EXPECT_SHAPE(y2, 1, 2, 1, 2, 1);
  EXPECT_VALUES(y2, 2, 4, 6, 8);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y), lg_release(yp);
  lg_release(one), lg_release(w2), lg_release(y2);
}

/* }====================================================== */

/* {====================================================== against loops */

static float at5(const lg_tensor *x, int64_t n, int64_t c, int64_t t, int64_t h, int64_t w) {
  if (t < 0 || h < 0 || w < 0 || t >= x->shape[2] || h >= x->shape[3] || w >= x->shape[4])
    return 0.0f;
  return ck_get(x, (((n * x->shape[1] + c) * x->shape[2] + t) * x->shape[3] + h) * x->shape[4] +
                       w);
}

static int64_t idx5(const lg_tensor *x, int64_t n, int64_t c, int64_t t, int64_t h, int64_t w) {
  return (((n * x->shape[1] + c) * x->shape[2] + t) * x->shape[3] + h) * x->shape[4] + w;
}

/* y = conv3d(x, w, b), xt = conv_transpose3d(gy, w), gw = conv3d_weight(x,
** gy), all three recomputed by one loop over (n, o, grid pos, c, taps) in
** double. */
static void check_against_loops(const int64_t *geo) {
  int64_t N = geo[0], C = geo[1], O = geo[2], T = geo[3], H = geo[4], W = geo[5];
  int64_t k[3] = {geo[6], geo[7], geo[8]};
  int s[3] = {(int)geo[9], (int)geo[10], (int)geo[11]}, p[3] = {(int)geo[12], (int)geo[13], (int)geo[14]};
  int64_t G[3], D[3] = {T, H, W};
  lg_conv3d_opts o = opts3(s[0], s[1], s[2], p[0], p[1], p[2]);
  for (int d = 0; d < 3; d++) {
    G[d] = (D[d] + 2 * p[d] - k[d]) / s[d] + 1;
    o.output_padding[d] = (int)((D[d] + 2 * p[d] - k[d]) % s[d]);
  }
  lg_tensor *x = ck_randn(SHAPE(N, C, T, H, W)), *w = ck_randn(SHAPE(O, C, k[0], k[1], k[2]));
  lg_tensor *b = ck_randn(SHAPE(O)), *gy = ck_randn(SHAPE(N, O, G[0], G[1], G[2]));
  lg_conv3d_opts plain = o;
  plain.output_padding[0] = plain.output_padding[1] = plain.output_padding[2] = 0;
  int kk[3] = {(int)k[0], (int)k[1], (int)k[2]};
  lg_tensor *y = CK(lg_conv3d(x, w, b, &plain)), *xt = CK(lg_conv_transpose3d(gy, w, NULL, &o));
  lg_tensor *gw = CK(lg_conv3d_weight(x, gy, kk, &plain));
  EXPECT_SHAPE(y, N, O, G[0], G[1], G[2]);
  EXPECT_SHAPE(xt, N, C, T, H, W);
  double *ry = calloc((size_t)y->numel, sizeof(double)), *rx = calloc((size_t)x->numel, sizeof(double));
  double *rw = calloc((size_t)w->numel, sizeof(double));
  assert_non_null(ry), assert_non_null(rx), assert_non_null(rw);
  for (int64_t n = 0; n < N; n++)
    for (int64_t oc = 0; oc < O; oc++)
      for (int64_t ot = 0; ot < G[0]; ot++)
        for (int64_t oh = 0; oh < G[1]; oh++)
          for (int64_t ow = 0; ow < G[2]; ow++) {
            int64_t yi = idx5(y, n, oc, ot, oh, ow);
            double g = ck_get(gy, yi), acc = ck_get(b, oc);
            for (int64_t c = 0; c < C; c++)
              for (int64_t a = 0; a < k[0]; a++)
                for (int64_t i = 0; i < k[1]; i++)
                  for (int64_t j = 0; j < k[2]; j++) {
                    int64_t it = ot * s[0] - p[0] + a, ih = oh * s[1] - p[1] + i;
                    int64_t iw = ow * s[2] - p[2] + j, wi = idx5(w, oc, c, a, i, j);
                    double xv = at5(x, n, c, it, ih, iw), wv = ck_get(w, wi);
                    acc += xv * wv;
                    rw[wi] += g * xv;
                    if (it >= 0 && ih >= 0 && iw >= 0 && it < T && ih < H && iw < W)
                      rx[idx5(x, n, c, it, ih, iw)] += g * wv;
                  }
            ry[yi] = acc;
          }
  for (int64_t e = 0; e < y->numel; e++) assert_true(fabs(ck_get(y, e) - ry[e]) <= 1e-4 * (1 + fabs(ry[e])));
  for (int64_t e = 0; e < x->numel; e++) assert_true(fabs(ck_get(xt, e) - rx[e]) <= 1e-4 * (1 + fabs(rx[e])));
  for (int64_t e = 0; e < w->numel; e++) assert_true(fabs(ck_get(gw, e) - rw[e]) <= 1e-4 * (1 + fabs(rw[e])));
  free(ry), free(rx), free(rw);
  lg_release(x), lg_release(w), lg_release(b), lg_release(gy);
  lg_release(y), lg_release(xt), lg_release(gw);
}

/* The VGAN k4 s2 p1 geometry, odd per-dim options, a 1x1x1 kernel, and a
** small grid with a batch large enough for several samples per sgemm. */
static void conv3d_ops_match_loops(void **state) {
  (void)state;
  static const int64_t geo[][15] = {/* N, C, O, T, H, W, kt, kh, kw, st, sh, sw, pt, ph, pw */
                                    {2, 3, 4, 4, 8, 8, 4, 4, 4, 2, 2, 2, 1, 1, 1},
                                    {2, 2, 3, 5, 7, 6, 3, 2, 3, 1, 2, 3, 1, 0, 2},
                                    {3, 4, 2, 3, 3, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0},
                                    {9, 2, 3, 2, 4, 4, 2, 3, 3, 1, 1, 2, 0, 1, 1},
                                    {1, 1, 2, 6, 5, 9, 2, 2, 4, 3, 2, 2, 2, 1, 0}};
  for (size_t t = 0; t < sizeof geo / sizeof geo[0]; t++) check_against_loops(geo[t]);
}

static void conv_transpose3d_is_the_adjoint_of_conv3d(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(2, 3, 5, 6, 7)), *w = ck_randn(SHAPE(4, 3, 3, 3, 2));
  lg_conv3d_opts o = opts3(2, 1, 2, 1, 0, 1);
  lg_tensor *y = CK(lg_conv3d(x, w, NULL, &o));
  EXPECT_SHAPE(y, 2, 4, 3, 4, 4);
  o.output_padding[0] = 0, o.output_padding[2] = 1;   /* (5+2-3)%2, (7+2-2)%2 */
  lg_tensor *g = ck_randn(SHAPE(2, 4, 3, 4, 4)), *xt = CK(lg_conv_transpose3d(g, w, NULL, &o));
  EXPECT_SHAPE(xt, 2, 3, 5, 6, 7);
  double a = ck_dot(y, g), b = ck_dot(x, xt);
  assert_true(fabs(a - b) <= 1e-4 * fmax(1, fabs(a)));
  lg_release(x), lg_release(w), lg_release(y), lg_release(g), lg_release(xt);
}

/* A VGAN-sized layer at 1 and 2 threads: the same bits (each output is
** computed by one thread in a fixed order). */
static void conv3d_same_bits_at_1_and_2_threads(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(4, 8, 8, 16, 16)), *w = ck_randn(SHAPE(16, 8, 4, 4, 4));
  lg_tensor *b = ck_randn(SHAPE(16)), *g = ck_randn(SHAPE(4, 16, 4, 8, 8));
  lg_conv3d_opts o = same(2, 1, 0);
  int k[3] = {4, 4, 4}, before = lg_get_num_threads();
  lg_tensor *r[2][3];
  for (int t = 0; t < 2; t++) {
    lg_set_num_threads(t + 1);
    r[t][0] = CK(lg_conv3d(x, w, b, &o));
    r[t][1] = CK(lg_conv_transpose3d(g, w, NULL, &o));
    r[t][2] = CK(lg_conv3d_weight(x, g, k, &o));
  }
  lg_set_num_threads(before);
  for (int i = 0; i < 3; i++) {
    assert_memory_equal(lg_data(r[0][i]), lg_data(r[1][i]), (size_t)r[0][i]->numel * sizeof(float));
    lg_release(r[0][i]), lg_release(r[1][i]);
  }
  lg_release(x), lg_release(w), lg_release(b), lg_release(g);
}

static void conv3d_with_empty_batch(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(0, 2, 3, 4, 4))), *w = ck_randn(SHAPE(3, 2, 2, 3, 3));
  lg_tensor *y = CK(lg_conv3d(x, w, NULL, NULL));
  EXPECT_SHAPE(y, 0, 3, 2, 2, 2);
  int k[3] = {2, 3, 3};
  lg_tensor *gw = CK(lg_conv3d_weight(x, y, k, NULL));
  EXPECT_SHAPE(gw, 3, 2, 2, 3, 3);
  for (int64_t i = 0; i < gw->numel; i++) assert_true(ck_get(gw, i) == 0.0f);
  lg_release(x), lg_release(w), lg_release(y), lg_release(gw);
}

/* }====================================================== */

/* {====================================================== gradients */

typedef struct {
  lg_conv3d_opts o;
  int k[3];
} conv_ctx;

#define C3 ((const conv_ctx *)ctx)
FN(f_conv, lg_conv3d(x[0], x[1], x[2], &C3->o))
FN(f_conv_nobias, lg_conv3d(x[0], x[1], NULL, &C3->o))
FN(f_convt, lg_conv_transpose3d(x[0], x[1], x[2], &C3->o))
FN(f_convw, lg_conv3d_weight(x[0], x[1], C3->k, &C3->o))

/* conv3d then tanh: the second-order terms mix x and w. */
static lg_tensor *f_conv_tanh(lg_tensor **x, const void *ctx) {
  lg_tensor *y = lg_conv3d(x[0], x[1], x[2], &C3->o), *t = y ? lg_tanh(y) : NULL;
  lg_release(y);
  return t;
}

/* conv_transpose3d then tanh */
static lg_tensor *f_convt_tanh(lg_tensor **x, const void *ctx) {
  lg_tensor *y = lg_conv_transpose3d(x[0], x[1], x[2], &C3->o), *t = y ? lg_tanh(y) : NULL;
  lg_release(y);
  return t;
}

static void grad_conv3d(void **state) {
  (void)state;
  conv_ctx k3 = {same(1, 1, 0), {0}};
  CHECK_GRADS(f_conv, &k3, ck_randn(SHAPE(2, 2, 3, 3, 3)), ck_randn(SHAPE(2, 2, 3, 3, 3)),
              ck_randn(SHAPE(2)));
  /* planes the last window never reaches get zero gradient */
  conv_ctx odd = {opts3(2, 1, 3, 1, 0, 1), {0}};
  CHECK_GRADS(f_conv_nobias, &odd, ck_randn(SHAPE(1, 2, 4, 3, 5)), ck_randn(SHAPE(2, 2, 3, 2, 2)));
  conv_ctx s2 = {same(2, 1, 0), {0}};
  CHECK_GRADS(f_conv_tanh, &s2, ck_uniform(SHAPE(1, 2, 4, 4, 4), -0.5f, 0.5f),
              ck_uniform(SHAPE(2, 2, 4, 4, 4), -0.3f, 0.3f), ck_uniform(SHAPE(2), -0.3f, 0.3f));
}

static void grad_conv_transpose3d(void **state) {
  (void)state;
  conv_ctx s2 = {same(2, 1, 0), {0}};
  CHECK_GRADS(f_convt, &s2, ck_randn(SHAPE(2, 2, 2, 2, 2)), ck_randn(SHAPE(2, 2, 4, 4, 4)),
              ck_randn(SHAPE(2)));
  conv_ctx op = {{{2, 1, 3}, {0, 1, 1}, {1, 0, 2}}, {0}};
  CHECK_GRADS(f_convt_tanh, &op, ck_uniform(SHAPE(1, 2, 2, 3, 2), -0.5f, 0.5f),
              ck_uniform(SHAPE(2, 3, 2, 3, 3), -0.5f, 0.5f), ck_uniform(SHAPE(3), -0.3f, 0.3f));
}

static void grad_conv3d_weight(void **state) {
  (void)state;
  conv_ctx c = {opts3(2, 1, 2, 1, 0, 0), {2, 2, 3}};
  /* x [2,2,4,3,5] -> grid 3 x 2 x 2 */
  CHECK_GRADS(f_convw, &c, ck_randn(SHAPE(2, 2, 4, 3, 5)), ck_randn(SHAPE(2, 3, 3, 2, 2)));
}

/* A WGAN-GP style penalty on a 3-D critic: the gradient of |d critic/dx|^2
** with respect to x, w and b goes through conv3d's backward. */
static lg_tensor *f_penalty(lg_tensor **x, const void *ctx) {
  lg_tensor *h = lg_conv3d(x[0], x[1], x[2], &C3->o), *a = h ? lg_tanh(h) : NULL;
  lg_tensor *s = a ? lg_sum(a) : NULL, *g = NULL, *sq = NULL, *out = NULL;
  if (s && lg_grad(1, &s, NULL, 1, &x[0], &g, true, true) == 0) {
    sq = lg_mul(g, g);
    out = sq ? lg_sum(sq) : NULL;
  }
  lg_release(h), lg_release(a), lg_release(s), lg_release(g), lg_release(sq);
  return out;
}

static void grad_of_a_gradient_penalty_through_conv3d(void **state) {
  (void)state;
  conv_ctx c = {same(2, 1, 0), {0}};
  GRADCHECK(f_penalty, &c, ck_uniform(SHAPE(1, 1, 4, 4, 4), -0.5f, 0.5f),
            ck_uniform(SHAPE(2, 1, 3, 3, 3), -0.5f, 0.5f), ck_uniform(SHAPE(2), -0.3f, 0.3f));
}

/* }====================================================== */

/* {====================================================== batch norm 5-D */

static void batch_norm_5d_normalises_each_channel(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(3, 2, 2, 3, 4));
  float *d = lg_data(x);
  for (int64_t i = 0; i < x->numel; i++)   /* channel 1 shifted and scaled */
    if ((i / 24) % 2) d[i] = 5 + 3 * d[i];
  lg_tensor *rm = CK(lg_zeros(SHAPE(2))), *rv = CK(lg_full(SHAPE(2), 1));
  lg_tensor *y = CK(lg_batch_norm(x, rm, rv, NULL, NULL, true, 1.0f, 0.0f));
  EXPECT_SHAPE(y, 3, 2, 2, 3, 4);
  for (int c = 0; c < 2; c++) {
    double s = 0, q = 0, xs = 0;
    for (int64_t i = 0; i < y->numel; i++)
      if ((i / 24) % 2 == c) s += ck_get(y, i), q += (double)ck_get(y, i) * ck_get(y, i), xs += d[i];
    assert_true(fabs(s / 72) < 1e-5);
    assert_true(fabs(q / 72 - 1) < 1e-4);
    assert_true(fabs(ck_get(rm, c) - xs / 72) < 1e-4);   /* momentum 1: the batch mean */
  }
  lg_tensor *x6 = CK(lg_zeros(SHAPE(2, 2, 1, 1, 1, 2)));
  EXPECT_ERR(lg_batch_norm(x6, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f), "batch_norm",
             "[N,C,T,H,W]", "[2,2,1,1,1,2]");
  lg_release(x), lg_release(rm), lg_release(rv), lg_release(y), lg_release(x6);
}

FN(f_bn_train, lg_batch_norm(x[0], NULL, NULL, x[1], x[2], true, 0.1f, 1e-5f))

/* batch_norm then tanh, so that every second-order path is used */
static lg_tensor *f_bn_tanh(lg_tensor **x, const void *ctx) {
  (void)ctx;
  lg_tensor *y = lg_batch_norm(x[0], NULL, NULL, x[1], x[2], true, 0.1f, 1e-5f);
  lg_tensor *t = y ? lg_tanh(y) : NULL;
  lg_release(y);
  return t;
}

static void grad_batch_norm_5d(void **state) {
  (void)state;
  CHECK_GRADS(f_bn_train, NULL, ck_randn(SHAPE(2, 2, 2, 2, 3)), ck_randn(SHAPE(2)),
              ck_randn(SHAPE(2)));
  CHECK_GRADS(f_bn_tanh, NULL, ck_randn(SHAPE(2, 3, 2, 1, 2)), ck_uniform(SHAPE(3), 0.5f, 1.0f),
              ck_uniform(SHAPE(3), -0.5f, 0.5f));
}

/* }====================================================== */

/* {====================================================== errors */

static void conv3d_errors_name_op_and_shapes(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(1, 3, 4, 5, 5))), *x4 = CK(lg_zeros(SHAPE(1, 3, 5, 5)));
  lg_tensor *w = CK(lg_zeros(SHAPE(2, 3, 3, 3, 3))), *w2 = CK(lg_zeros(SHAPE(2, 2, 3, 3, 3)));
  lg_tensor *w4 = CK(lg_zeros(SHAPE(2, 3, 3, 3))), *big = CK(lg_zeros(SHAPE(2, 3, 7, 3, 3)));
  lg_tensor *b3 = CK(lg_zeros(SHAPE(3)));
  lg_conv3d_opts stride0 = opts3(1, 0, 1, 0, 0, 0), negpad = opts3(1, 1, 1, 0, 0, -1);
  lg_conv3d_opts p1 = same(1, 1, 0);
  EXPECT_ERR(lg_conv3d(x4, w, NULL, NULL), "conv3d", "input", "5-D", "[1,3,5,5]");
  EXPECT_ERR(lg_conv3d(x, w4, NULL, NULL), "conv3d", "weight", "[cout,cin,kt,kh,kw]", "[2,3,3,3]");
  EXPECT_ERR(lg_conv3d(x, w2, NULL, NULL), "conv3d", "3 channels", "[2,2,3,3,3]");
  EXPECT_ERR(lg_conv3d(x, big, NULL, &p1), "conv3d", "7x3x3", "[1,3,4,5,5]", "along t");
  EXPECT_ERR(lg_conv3d(x, w, NULL, &stride0), "conv3d", "stride", "(1,0,1)");
  EXPECT_ERR(lg_conv3d(x, w, NULL, &negpad), "conv3d", "padding", "(0,0,-1)");
  EXPECT_ERR(lg_conv3d(x, w, b3, NULL), "conv3d", "bias", "[2]", "[3]");
  lg_release(x), lg_release(x4), lg_release(w), lg_release(w2), lg_release(w4), lg_release(big);
  lg_release(b3);
}

static void conv_transpose3d_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(1, 2, 3, 3, 3))), *wc = CK(lg_zeros(SHAPE(3, 4, 3, 3, 3)));
  lg_tensor *w = CK(lg_zeros(SHAPE(2, 4, 3, 3, 3))), *b2 = CK(lg_zeros(SHAPE(2)));
  lg_conv3d_opts op_eq = {{2, 2, 2}, {0, 0, 0}, {0, 2, 0}}, bigpad = same(1, 3, 0);
  EXPECT_ERR(lg_conv_transpose3d(x, wc, NULL, NULL), "conv_transpose3d", "2 channels",
             "[3,4,3,3,3]");
  EXPECT_ERR(lg_conv_transpose3d(x, w, NULL, &op_eq), "conv_transpose3d", "output_padding",
             "(0,2,0)", "(2,2,2)");
  EXPECT_ERR(lg_conv_transpose3d(x, w, b2, NULL), "conv_transpose3d", "bias", "[4]", "[2]");
  /* (3-1) - 6 + 3 = -1: no output left */
  EXPECT_ERR(lg_conv_transpose3d(x, w, NULL, &bigpad), "conv_transpose3d", "not positive",
             "[1,2,3,3,3]");
  lg_release(x), lg_release(wc), lg_release(w), lg_release(b2);
}

static void conv3d_weight_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(2, 3, 4, 5, 5))), *gy = CK(lg_zeros(SHAPE(2, 4, 2, 3, 3)));
  lg_tensor *gbad = CK(lg_zeros(SHAPE(2, 4, 2, 3, 4)));
  int k[3] = {3, 3, 3}, k0[3] = {3, 0, 3};
  EXPECT_ERR(lg_conv3d_weight(x, gbad, k, NULL), "conv3d_weight", "[2,4,2,3,4]", "[2,3,4,5,5]",
             "[2,*,2,3,3]");
  EXPECT_ERR(lg_conv3d_weight(x, gy, k0, NULL), "conv3d_weight", "kernel", "3x0x3");
  lg_release(x), lg_release(gy), lg_release(gbad);
}

/* Sizes whose products overflow int64 or pass the workspace bound are
** errors, not wrapped sizes and writes past a buffer. */
static void conv3d_absurd_sizes_are_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(1, 1, 2, 2, 2))), *w = CK(lg_zeros(SHAPE(1, 1, 1, 1, 1)));
  lg_conv3d_opts pad = same(1, INT_MAX, 0), stride = {{INT_MAX, INT_MAX, INT_MAX}, {0, 0, 0},
                                                      {0, 0, 0}};
  EXPECT_ERR(lg_conv3d(x, w, NULL, &pad), "conv3d", "too large");
  EXPECT_ERR(lg_conv_transpose3d(x, w, NULL, &stride), "conv_transpose3d", "too large");
  int k[3] = {1, 1, 1};
  lg_tensor *gy = CK(lg_zeros(SHAPE(1, 1, 2, 2, 2)));
  EXPECT_ERR(lg_conv3d_weight(x, gy, k, &pad), "conv3d_weight");
  lg_release(x), lg_release(w), lg_release(gy);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(conv3d_1x1x1_mixes_channels),
      TEST(conv3d_box_by_hand),
      TEST(conv_transpose3d_by_hand),
      TEST(conv3d_ops_match_loops),
      TEST(conv_transpose3d_is_the_adjoint_of_conv3d),
      TEST(conv3d_same_bits_at_1_and_2_threads),
      TEST(conv3d_with_empty_batch),
      TEST(grad_conv3d),
      TEST(grad_conv_transpose3d),
      TEST(grad_conv3d_weight),
      TEST(grad_of_a_gradient_penalty_through_conv3d),
      TEST(batch_norm_5d_normalises_each_channel),
      TEST(grad_batch_norm_5d),
      TEST(conv3d_errors_name_op_and_shapes),
      TEST(conv_transpose3d_errors),
      TEST(conv3d_weight_errors),
      TEST(conv3d_absurd_sizes_are_errors),
  };
  return cmocka_run_group_tests_name("conv3d", tests, NULL, NULL);
}
