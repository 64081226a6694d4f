/* Convolutions: conv2d, conv_transpose2d and conv2d_weight against values by
** hand and PyTorch 1.13's (F.conv2d / F.conv_transpose2d / autograd, computed
** in float64 once and pasted below), gradients to second order, errors. */
#include "check.h"

/* ((i*mul) mod m - off) / div for element i: exact in float, easy to rebuild in Python. */
static lg_tensor *ramp(int nd, const int64_t *shape, int mul, int m, int off, float div) {
  lg_tensor *t = CK(lg_empty(nd, shape));
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) d[i] = (float)((i * mul) % m - off) / div;
  return t;
}
/* The three families used by the reference script. */
#define X_RAMP(...) ramp(SHAPE(__VA_ARGS__), 7, 11, 5, 4)
#define W_RAMP(...) ramp(SHAPE(__VA_ARGS__), 5, 13, 6, 8)
#define B_RAMP(...) ramp(SHAPE(__VA_ARGS__), 3, 5, 2, 4)

#define EXPECT_ARRAY(t, ref) EXPECT_ARRAY_TOL(t, ref, 1e-5)
#define EXPECT_ARRAY_TOL(t, ref, tol)                                                 \
  ck_expect_values_((t), (ref), (int)(sizeof(ref) / sizeof((ref)[0])), (tol), #t,   \
                    __FILE__, __LINE__)

static lg_conv_opts opts(int sh, int sw, int ph, int pw, int oph, int opw) {
  lg_conv_opts o = {{sh, sw}, {ph, pw}, {oph, opw}};
  return o;
}

/* {====================================================== PyTorch reference values
** F.conv2d / F.conv_transpose2d / autograd on the X/W/B ramps above, e.g.
**   x = [((i*7) % 11 - 5)/4 for i in range(n)], w: (i*5 % 13 - 6)/8, b: (i*3 % 5 - 2)/4 */

static const float ref_k4s2p1[72] = {-1.0625, -2.5625, -1.34375, 1.8125, 3.71875, -3.4375, -2.46875, -1.09375, 0.96875, 0, 1.1875, -1.625, -0.84375, -0.5, 0.625, 1.96875, 0.625, 0, -2.21875, 0.4375, -0.3125, 0.125, 1.75, 0.1875, -1.75, -0.125, -0.1875, 0.875, 1.34375, 1.84375, 2.34375, -2.875, 0.1875, 0.65625, 3.21875, 1.28125, 1.21875, 0.3125, -2.5625, -1.59375, 3.40625, 2.25, -0.75, -3.40625, -1.65625, -1.71875, -0.4375, 0.90625, 2.5625, -1.34375, 0.59375, -0.3125, 1.5, -0.09375, 1, -0.40625, 0.28125, -1.84375, 0.375, 2.15625, -2.34375, -1.34375, -1, 1.3125, 0.46875, 1.71875, 2.71875, -0.3125, -3.5625, 0.53125, 0.71875, 3};
/* shape [2, 4, 3, 3] */
static const float ref_k3s1p1[75] = {-1.0625, 0.1875, 1.84375, -0.625, -0.6875, 3.5, -0.78125, -0.03125, 1.75, -1.34375, -0.625, -0.125, -0.75, 1.375, 0.5625, -1.65625, 3.625, -0.78125, -0.03125, 1.78125, -0.4375, -1.5, 0.25, -0.40625, -0.34375, 0.875, 0.6875, 0.5, 1, -0.875, 1.875, -1.5, 0.3125, -1.3125, 1.1875, -1.15625, 0.6875, 1.46875, 0.1875, 0.875, -1.4375, 1.5, -1.5, 0.3125, -0.8125, 0.5, -2, 1.09375, 1.78125, -1.1875, 2.40625, 0.78125, -1.25, 2.21875, -1.0625, -0.15625, -0.59375, -0.5625, 0.5, 0.875, -2.09375, 2.3125, 1.65625, -1.40625, 1.1875, -1.625, -0.625, -0.59375, -0.5625, -0.5625, 0.625, -2.09375, 1.125, 1.9375, -0.8125};
/* shape [1, 3, 5, 5] */
static const float ref_k5s1p0[12] = {-0.9375, -1.03125, -3.90625, 1.84375, -1.03125, 1.625, 0, 1.6875, 3.25, 1.84375, 1.6875, -2.8125};
/* shape [1, 2, 3, 2] */
static const float ref_k1[16] = {-0.09375, -0.40625, -0.375, -2.0625, 0.15625, 0.46875, 0.4375, -1.3125, -0.40625, -0.375, -2.0625, -0.3125, 0.46875, 0.4375, -1.3125, 0.375};
/* shape [2, 2, 2, 2] */
static const float ref_odd[16] = {-3.34375, -2.09375, -1.4375, 2.40625, 2.40625, 1.4375, 1.4375, 1.5, 1.5, 1.0625, 0.875, 1.125, 1.125, 1.03125, 1.03125, -0.78125};
/* shape [1, 2, 4, 2] */
static const float ref_odd_weight[24] = {1.25, -4.25, 3.125, 0.5, 1.25, -1.375, -4.25, 1.25, 0.5, -2.125, -1.375, 0.125, 0.5, -0.75, 0.5, 0.5, 0.5, -2.25, -0.75, -0.625, 0.5, 0.5, -2.25, 0.5};
/* shape [2, 2, 3, 2] */
static const float ref_t_k4s2p1[108] = {-1.53125, 0.4375, -0.9375, 0.125, -0.40625, -1, 0.21875, -1.5625, -0.78125, 0.90625, -1.09375, -1.34375, 1.3125, 0.75, -1.3125, -1.40625, -0.15625, -0.40625, -0.09375, 0.34375, -2.0625, 1.4375, 0.71875, -2.15625, -0.71875, 0.46875, 0.09375, -3.0625, -0.125, 1.125, -0.3125, -0.03125, -1.34375, 0.4375, -0.03125, -1.375, 1.125, 1.125, -1.0625, 0.5, 0.78125, -0.6875, -0.75, 1.53125, 1.5, 0.53125, -0.65625, -0.09375, 0.34375, 0.59375, -0.65625, -0.5625, 1.5, 2.0625, 0.1875, -0.4375, 1.21875, 1.65625, -2.3125, -0.0625, -0.84375, 0.90625, 1.34375, -1.625, 2.125, -0.03125, 0.34375, -0.78125, 0.75, 1, -1.09375, 1, 0.5, -0.65625, 0.40625, 0.03125, -0.90625, 0.40625, -0.9375, -0.6875, 0.09375, -0.6875, -1.0625, 0.3125, 0.15625, -0.40625, -0.84375, -0.5625, -0.53125, -0.78125, 0.4375, -2.0625, 0.40625, 1.03125, -2.125, 1.1875, -0.59375, 0.5, -2.3125, -1.03125, 1.09375, -2.03125, 0.15625, -1.15625, -0.03125, 0.3125, -0.5625, 0.5};
/* shape [1, 3, 6, 6] */
static const float ref_t_op1[48] = {-0.53125, -1.375, 0.4375, 1, -1, -1.09375, -0.03125, 0.90625, -1.21875, 1.4375, 1.15625, -1.125, -0.9375, 0.78125, -0.28125, -0.375, 0.59375, 0.90625, -0.84375, -1.1875, 0.125, 0.5, 0.75, 0.125, 1.0625, -0.90625, -1.03125, 1, -0.375, 0.15625, 0.96875, -0.9375, -0.6875, -1.28125, 0.28125, 0.40625, 0.90625, 0.71875, -0.53125, -1, -0.75, 0.40625, 0.40625, -1.0625, 0.53125, 0.5625, -0.71875, 0.84375};
/* shape [1, 1, 6, 8] */
static const float ref_t_mixed[240] = {-0.34375, -1.125, -0.25, -0.5625, -0.25, -0.375, -0.4375, -0.75, -0.25, -0.5, -1.4375, -0.1875, -0.90625, -0.125, -0.625, -0.375, -0.875, -0.375, -0.6875, -0.5, -0.65625, -0.65625, -1.15625, -0.53125, -0.0625, 0.0625, -0.40625, -1.1875, 0.0625, -0.5, 0.4375, -0.8125, 0, -0.3125, -0.5625, -0.5, -1.0625, -0.3125, -0.78125, -0.5, -0.5, 0.28125, -1.125, -0.5, -0.34375, -0.125, -0.5, -0.96875, -0.21875, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 1.1875, 0.40625, -0.25, -0.125, 0.1875, 0.375, 0.625, 0.3125, 0, 0.25, 0.09375, -0.6875, 0.3125, 0.3125, 0.625, 0.375, 0.1875, -0.125, 0.375, 0.25, 0.09375, 0.09375, 0.34375, -0.25, 0.21875, 0.3125, 1.125, 0.34375, -0.4375, 0.25, 0.40625, 1.1875, -0.1875, 0.28125, 0.4375, 0.5625, 0.15625, -0.3125, 0.4375, 0.25, -0.53125, 0.25, 1.125, 0.09375, 0.25, 0.125, 0.71875, 0.25, -0.21875, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, -0.625, 0, -1, -0.5, -0.5, 0.25, -0.375, -1, 0, -0.5, 0.25, -0.75, -0.125, -0.5, -0.5, -0.625, -1.25, -0.25, -0.875, -0.5, -0.59375, 0.5, -1.0625, -0.46875, -0.625, 1.1875, -0.34375, -1.75, 0.5, -0.5, 0.0625, -0.6875, -0.25, -0.6875, -0.4375, -0.75, -1.4375, -0.1875, -0.96875, -0.5, -0.5, -0.03125, -0.625, -0.5, -0.65625, 0.375, -0.5, -1.28125, -0.03125, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 0.125, 0.75, 0.25, 0.25, 0, 1, 0.375, -0.25, 0.25, 0.375, 1, 0, 0.25, 0.25, 0.75, 0.125, -0.5, 0.5, 0.25, -0.9375, 0.15625, 1.1875, 0.4375, 0.28125, -0.5625, 1.8125, 0.40625, -1, 0.25, 0.34375, 0.8125, 0.1875, 0.21875, 0.0625, 0.9375, 0.09375, -0.6875, 0.5625, 0.25, -0.21875, 0.25, 0.625, 0.40625, 0.25, -0.375, 1.03125, 0.25, -0.53125, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25};
/* shape [2, 2, 6, 10] */

/* }====================================================== */

/* {====================================================== forward values */

static void conv2d_3x3_by_hand(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_arange(16)), *x4 = CK(lg_view(x, SHAPE(1, 1, 4, 4)));
  lg_tensor *w = CK(lg_full(SHAPE(1, 1, 3, 3), 1));
  lg_tensor *y = CK(lg_conv2d(x4, w, NULL, NULL));    /* NULL opts: stride 1, no padding */
  EXPECT_SHAPE(y, 1, 1, 2, 2);
  EXPECT_VALUES(y, 45, 54, 81, 90);                   /* sums of the 3x3 windows */
  lg_conv_opts o = opts(2, 2, 1, 1, 0, 0);
  lg_tensor *b = TENSOR(SHAPE(1), 0.5f);
  lg_tensor *yp = CK(lg_conv2d(x4, w, b, &o));
  EXPECT_SHAPE(yp, 1, 1, 2, 2);
  /* windows rows/cols -1..1 and 1..3: 0+1+4+5, 1+2+3+5+6+7, 4+5+8+9+12+13, 5+..+15 */
  EXPECT_VALUES(yp, 10.5f, 24.5f, 51.5f, 90.5f);
  /* a kernel that picks one tap: out = x shifted */
  lg_tensor *pick = TENSOR(SHAPE(1, 1, 3, 3), 0, 0, 0, 0, 0, 0, 0, 0, 2);
  lg_tensor *ys = CK(lg_conv2d(x4, pick, NULL, NULL));
  EXPECT_VALUES(ys, 20, 22, 28, 30);
  lg_release(x), lg_release(x4), lg_release(w), lg_release(y), lg_release(b), lg_release(yp);
  lg_release(pick), lg_release(ys);
}

static void conv2d_k4_s2_p1_with_bias(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(2, 3, 6, 6), *w = W_RAMP(4, 3, 4, 4), *b = B_RAMP(4);
  lg_conv_opts o = opts(2, 2, 1, 1, 0, 0);
  lg_tensor *y = CK(lg_conv2d(x, w, b, &o));
  EXPECT_SHAPE(y, 2, 4, 3, 3);
  EXPECT_ARRAY(y, ref_k4s2p1);
  /* the same on non-contiguous copies of every input */
  lg_tensor *xn = ck_noncontig(x), *wn = ck_noncontig(w), *bn = ck_noncontig(b);
  lg_tensor *yn = CK(lg_conv2d(xn, wn, bn, &o));
  EXPECT_ARRAY(yn, ref_k4s2p1);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y);
  lg_release(xn), lg_release(wn), lg_release(bn), lg_release(yn);
}

static void conv2d_k3_s1_p1_without_bias(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(1, 2, 5, 5), *w = W_RAMP(3, 2, 3, 3);
  lg_conv_opts o = opts(1, 1, 1, 1, 0, 0);
  lg_tensor *y = CK(lg_conv2d(x, w, NULL, &o));
  EXPECT_SHAPE(y, 1, 3, 5, 5);
  EXPECT_ARRAY(y, ref_k3s1p1);
  lg_release(x), lg_release(w), lg_release(y);
}

static void conv2d_k5_s1_p0_and_1x1(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(1, 1, 7, 6), *w = W_RAMP(2, 1, 5, 5), *b = B_RAMP(2);
  lg_tensor *y = CK(lg_conv2d(x, w, b, NULL));
  EXPECT_SHAPE(y, 1, 2, 3, 2);
  EXPECT_ARRAY(y, ref_k5s1p0);
  lg_tensor *x1 = X_RAMP(2, 3, 2, 2), *w1 = W_RAMP(2, 3, 1, 1), *b1 = B_RAMP(2);
  lg_tensor *y1 = CK(lg_conv2d(x1, w1, b1, NULL));
  EXPECT_SHAPE(y1, 2, 2, 2, 2);
  EXPECT_ARRAY(y1, ref_k1);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y);
  lg_release(x1), lg_release(w1), lg_release(b1), lg_release(y1);
}

/* (H + 2p - k) % s != 0 in both dims, different stride/padding/kernel per dim. */
static void conv2d_odd_sizes_and_per_dim_options(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(1, 2, 8, 7), *w = W_RAMP(2, 2, 3, 2), *b = B_RAMP(2);
  lg_conv_opts o = opts(2, 3, 1, 0, 0, 0);
  lg_tensor *y = CK(lg_conv2d(x, w, b, &o));
  EXPECT_SHAPE(y, 1, 2, 4, 2);
  EXPECT_ARRAY(y, ref_odd);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y);
}

static void conv2d_weight_matches_autograd_of_torch(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(1, 2, 8, 7), *gy = ramp(SHAPE(1, 2, 4, 2), 3, 7, 3, 2);
  lg_conv_opts o = opts(2, 3, 1, 0, 0, 0);
  lg_tensor *gw = CK(lg_conv2d_weight(x, gy, 3, 2, &o));
  EXPECT_SHAPE(gw, 2, 2, 3, 2);
  EXPECT_ARRAY(gw, ref_odd_weight);
  /* and it is what backward through conv2d gives */
  lg_tensor *w = W_RAMP(2, 2, 3, 2), *g;
  w->requires_grad = true;
  lg_tensor *y = CK(lg_conv2d(x, w, NULL, &o));
  assert_int_equal(lg_grad(1, &y, &gy, 1, &w, &g, false, false), 0);
  EXPECT_ARRAY(g, ref_odd_weight);
  lg_release(x), lg_release(gy), lg_release(gw), lg_release(w), lg_release(y), lg_release(g);
}

static void conv_transpose2d_stride2_size_and_values(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(1, 2, 3, 3), *w = W_RAMP(2, 3, 4, 4), *b = B_RAMP(3);
  lg_conv_opts o = opts(2, 2, 1, 1, 0, 0);
  lg_tensor *y = CK(lg_conv_transpose2d(x, w, b, &o));
  EXPECT_SHAPE(y, 1, 3, 6, 6);   /* (3-1)*2 - 2 + 4: the DCGAN doubling */
  EXPECT_ARRAY(y, ref_t_k4s2p1);
  lg_tensor *xn = ck_noncontig(x), *wn = ck_noncontig(w);
  lg_tensor *yn = CK(lg_conv_transpose2d(xn, wn, b, &o));
  EXPECT_ARRAY(yn, ref_t_k4s2p1);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y), lg_release(xn), lg_release(wn);
  lg_release(yn);
}

static void conv_transpose2d_output_padding(void **state) {
  (void)state;
  lg_tensor *x = X_RAMP(1, 2, 3, 4), *w = W_RAMP(2, 1, 3, 3);
  lg_conv_opts o = opts(2, 2, 1, 1, 1, 1);
  lg_tensor *y = CK(lg_conv_transpose2d(x, w, NULL, &o));
  EXPECT_SHAPE(y, 1, 1, 6, 8);
  EXPECT_ARRAY(y, ref_t_op1);
  lg_tensor *x2 = X_RAMP(2, 1, 2, 3), *w2 = W_RAMP(1, 2, 3, 4), *b2 = B_RAMP(2);
  lg_conv_opts o2 = opts(2, 3, 0, 1, 1, 2);
  lg_tensor *y2 = CK(lg_conv_transpose2d(x2, w2, b2, &o2));
  EXPECT_SHAPE(y2, 2, 2, 6, 10);
  EXPECT_ARRAY(y2, ref_t_mixed);
  lg_release(x), lg_release(w), lg_release(y), lg_release(x2), lg_release(w2), lg_release(b2);
  lg_release(y2);
}

/* conv_transpose2d is the adjoint of conv2d: <conv(x), g> = <x, convT(g)>. */
static void conv_transpose2d_is_the_adjoint_of_conv2d(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(2, 3, 9, 8)), *w = ck_randn(SHAPE(4, 3, 3, 3));
  lg_conv_opts o = opts(2, 2, 1, 1, 0, 1);   /* (9+2-3)%2 = 0, (8+2-3)%2 = 1 */
  lg_tensor *y = CK(lg_conv2d(x, w, NULL, &o));
  EXPECT_SHAPE(y, 2, 4, 5, 4);
  lg_tensor *g = ck_randn(SHAPE(2, 4, 5, 4));
  lg_tensor *xt = CK(lg_conv_transpose2d(g, w, NULL, &o));
  EXPECT_SHAPE(xt, 2, 3, 9, 8);
  double a = ck_dot(y, g), b = ck_dot(x, xt);
  assert_true(fabs(a - b) <= 1e-4 * fmax(1, fabs(a)));
  lg_release(x), lg_release(w), lg_release(y), lg_release(g), lg_release(xt);
}

/* A large batch (chunked, multi-sample sgemm, threads) equals the
** one-sample-at-a-time results. */
static void conv_batch_equals_per_sample(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(40, 3, 10, 10)), *w = ck_randn(SHAPE(5, 3, 3, 3));
  lg_tensor *b = ck_randn(SHAPE(5)), *wt = ck_randn(SHAPE(3, 5, 4, 4));
  lg_conv_opts o = opts(1, 1, 1, 1, 0, 0), ot = opts(2, 2, 1, 1, 0, 0);
  lg_tensor *y = CK(lg_conv2d(x, w, b, &o)), *yt = CK(lg_conv_transpose2d(x, wt, NULL, &ot));
  EXPECT_SHAPE(y, 40, 5, 10, 10);
  EXPECT_SHAPE(yt, 40, 5, 20, 20);
  for (int n = 0; n < 40; n += 13) {
    lg_tensor *xn = CK(lg_narrow(x, 0, n, 1));
    lg_tensor *y1 = CK(lg_conv2d(xn, w, b, &o)), *yn = CK(lg_narrow(y, 0, n, 1));
    lg_tensor *t1 = CK(lg_conv_transpose2d(xn, wt, NULL, &ot)), *tn = CK(lg_narrow(yt, 0, n, 1));
    for (int64_t i = 0; i < y1->numel; i++)
      assert_true(fabsf(ck_get(y1, i) - ck_get(yn, i)) <= 1e-4f);
    for (int64_t i = 0; i < t1->numel; i++)
      assert_true(fabsf(ck_get(t1, i) - ck_get(tn, i)) <= 1e-4f);
    lg_release(xn), lg_release(y1), lg_release(yn), lg_release(t1), lg_release(tn);
  }
  lg_release(x), lg_release(w), lg_release(b), lg_release(wt), lg_release(y), lg_release(yt);
}

/* Every convolution op against a plain 7-deep loop, on images narrow enough
** for the vector row path (W <= 32, Wo <= 16) and wide enough for the scalar
** one, with the DCGAN k4 s2 p1 geometry, an odd one, and 1x1 convs on 28x28
** (one sample per chunk: the column matrix is the sample itself). */
static float naive_at(const lg_tensor *x, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (h < 0 || w < 0 || h >= x->shape[2] || w >= x->shape[3]) return 0.0f;
  return ck_get(x, ((n * x->shape[1] + c) * x->shape[2] + h) * x->shape[3] + w);
}

static void conv_ops_match_naive_loops_narrow_and_wide(void **state) {
  (void)state;
  static const int geo[][8] = {/* C, O, H, W, k, s, p, op */
                               {3, 4, 14, 14, 4, 2, 1, 0},  {2, 3, 28, 28, 4, 2, 1, 0},
                               {2, 3, 9, 30, 3, 2, 1, 1},   {2, 3, 32, 32, 4, 2, 1, 0},
                               {2, 3, 40, 40, 4, 2, 1, 0},
                               {3, 2, 11, 37, 5, 3, 2, 2},  {2, 2, 8, 33, 3, 1, 1, 0},
                               {5, 2, 28, 28, 1, 1, 0, 0},  {16, 1, 28, 28, 1, 1, 0, 0}};
  for (size_t t = 0; t < sizeof geo / sizeof geo[0]; t++) {
    int64_t C = geo[t][0], O = geo[t][1], H = geo[t][2], W = geo[t][3], k = geo[t][4];
    int s = geo[t][5], p = geo[t][6], op = geo[t][7];
    int64_t Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1, N = 3;
    lg_conv_opts o = opts(s, s, p, p, 0, 0);
    lg_tensor *x = ck_randn(SHAPE(N, C, H, W)), *w = ck_randn(SHAPE(O, C, k, k));
    lg_tensor *gy = ck_randn(SHAPE(N, O, Ho, Wo));
    lg_tensor *y = CK(lg_conv2d(x, w, NULL, &o)), *gw = CK(lg_conv2d_weight(x, gy, k, k, &o));
    /* conv_transpose2d of gy with output padding op lands on H+op, W+op
    ** whenever op < s and that size rounds back to Ho, Wo */
    lg_conv_opts ot = opts(s, s, p, p, op < s ? op : 0, op < s ? op : 0);
    lg_tensor *xt = CK(lg_conv_transpose2d(gy, w, NULL, &ot));
    int64_t Ht = xt->shape[2], Wt = xt->shape[3];
    int bad = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t o2 = 0; o2 < O; o2++)
        for (int64_t i = 0; i < Ho; i++)
          for (int64_t j = 0; j < Wo; j++) {
            double acc = 0.0;
            for (int64_t c = 0; c < C; c++)
              for (int64_t a = 0; a < k; a++)
                for (int64_t b = 0; b < k; b++)
                  acc += (double)naive_at(x, n, c, i * s - p + a, j * s - p + b) *
                         ck_get(w, ((o2 * C + c) * k + a) * k + b);
            float got = ck_get(y, ((n * O + o2) * Ho + i) * Wo + j);
            bad += !(fabs(got - acc) <= 1e-4 * (1 + fabs(acc)));
          }
    for (int64_t o2 = 0; o2 < O; o2++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t a = 0; a < k; a++)
          for (int64_t b = 0; b < k; b++) {
            double acc = 0.0;
            for (int64_t n = 0; n < N; n++)
              for (int64_t i = 0; i < Ho; i++)
                for (int64_t j = 0; j < Wo; j++)
                  acc += (double)naive_at(x, n, c, i * s - p + a, j * s - p + b) *
                         ck_get(gy, ((n * O + o2) * Ho + i) * Wo + j);
            float got = ck_get(gw, ((o2 * C + c) * k + a) * k + b);
            bad += !(fabs(got - acc) <= 1e-4 * (1 + fabs(acc)));
          }
    /* transposed: every grid entry spreads through the kernel onto the image */
    double *ref = calloc((size_t)(N * C * Ht * Wt), sizeof(double));
    for (int64_t n = 0; n < N; n++)
      for (int64_t o2 = 0; o2 < O; o2++)
        for (int64_t i = 0; i < Ho; i++)
          for (int64_t j = 0; j < Wo; j++)
            for (int64_t c = 0; c < C; c++)
              for (int64_t a = 0; a < k; a++)
                for (int64_t b = 0; b < k; b++) {
                  int64_t h = i * s - p + a, v = j * s - p + b;
                  if (h < 0 || v < 0 || h >= Ht || v >= Wt) continue;
                  ref[((n * C + c) * Ht + h) * Wt + v] +=
                      (double)ck_get(gy, ((n * O + o2) * Ho + i) * Wo + j) *
                      ck_get(w, ((o2 * C + c) * k + a) * k + b);
                }
    for (int64_t e = 0; e < xt->numel; e++)
      bad += !(fabs(ck_get(xt, e) - ref[e]) <= 1e-4 * (1 + fabs(ref[e])));
    free(ref);
    if (bad) print_message("geometry %zu: %d entries off\n", t, bad);
    assert_int_equal(bad, 0);
    lg_release(x), lg_release(w), lg_release(gy), lg_release(y), lg_release(gw), lg_release(xt);
  }
}

/* A 1x1 conv with bias on 28x28 (no column matrix) and its transpose with
** bias: y = W x + b per pixel, and x' = W^T y + b'. */
static void pointwise_conv_with_bias(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(2, 5, 28, 28)), *w = ck_randn(SHAPE(3, 5, 1, 1));
  lg_tensor *b = ck_randn(SHAPE(3)), *bt = ck_randn(SHAPE(5));
  lg_conv_opts o = opts(1, 1, 0, 0, 0, 0);
  lg_tensor *y = CK(lg_conv2d(x, w, b, &o)), *xt = CK(lg_conv_transpose2d(y, w, bt, &o));
  int bad = 0;
  for (int64_t n = 0; n < 2; n++)
    for (int64_t l = 0; l < 784; l++) {
      for (int64_t k = 0; k < 3; k++) {
        double acc = ck_get(b, k);
        for (int64_t c = 0; c < 5; c++) acc += (double)ck_get(w, k * 5 + c) * ck_get(x, (n * 5 + c) * 784 + l);
        bad += !(fabs(ck_get(y, (n * 3 + k) * 784 + l) - acc) <= 1e-5 * (1 + fabs(acc)));
      }
      for (int64_t c = 0; c < 5; c++) {
        double acc = ck_get(bt, c);
        for (int64_t k = 0; k < 3; k++) acc += (double)ck_get(w, k * 5 + c) * ck_get(y, (n * 3 + k) * 784 + l);
        bad += !(fabs(ck_get(xt, (n * 5 + c) * 784 + l) - acc) <= 1e-5 * (1 + fabs(acc)));
      }
    }
  assert_int_equal(bad, 0);
  lg_release(x), lg_release(w), lg_release(b), lg_release(bt), lg_release(y), lg_release(xt);
}

/* The weight gradient of a batch in several chunks (here 4 of 6 samples)
** folds the chunks' partial gradients in chunk order, in blocks of the
** weight that are not a multiple of its 37 x 256 entries.  The naive loop checks the values, and 2
** and 3 threads must give the 1-thread bits. */
static void conv2d_weight_chunked_same_bits_at_1_2_3_threads(void **state) {
  (void)state;
  int64_t N = 24, C = 16, O = 37, H = 14, k = 4, Ho = 7;
  lg_tensor *x = ck_randn(SHAPE(N, C, H, H)), *gy = ck_randn(SHAPE(N, O, Ho, Ho));
  lg_conv_opts o = opts(2, 2, 1, 1, 0, 0);
  int before = lg_get_num_threads();
  lg_tensor *gw[3];
  for (int t = 0; t < 3; t++) {
    lg_set_num_threads(t + 1);
    gw[t] = CK(lg_conv2d_weight(x, gy, k, k, &o));
  }
  lg_set_num_threads(before);
  int bad = 0;
  for (int64_t o2 = 0; o2 < O; o2++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
          double acc = 0.0;
          for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < Ho; i++)
              for (int64_t j = 0; j < Ho; j++)
                acc += (double)naive_at(x, n, c, i * 2 - 1 + a, j * 2 - 1 + b) *
                       ck_get(gy, ((n * O + o2) * Ho + i) * Ho + j);
          bad += !(fabs(ck_get(gw[0], ((o2 * C + c) * k + a) * k + b) - acc) <= 1e-3 * (1 + fabs(acc)));
        }
  assert_int_equal(bad, 0);
  for (int t = 1; t < 3; t++)
    assert_memory_equal(lg_data(gw[0]), lg_data(gw[t]), (size_t)gw[0]->numel * sizeof(float));
  for (int t = 0; t < 3; t++) lg_release(gw[t]);
  lg_release(x), lg_release(gy);
  /* 128 x 2048 weights: 2 threads fold the 4 chunks in one wave, 3 threads
  ** in waves of 3 and 1 (the partials of a wave are capped) */
  x = ck_randn(SHAPE(200, 128, 4, 4)), gy = ck_randn(SHAPE(200, 128, 2, 2));
  for (int t = 0; t < 3; t++) {
    lg_set_num_threads(t + 1);
    gw[t] = CK(lg_conv2d_weight(x, gy, k, k, &o));
  }
  lg_set_num_threads(before);
  for (int t = 1; t < 3; t++)
    assert_memory_equal(lg_data(gw[0]), lg_data(gw[t]), (size_t)gw[0]->numel * sizeof(float));
  for (int t = 0; t < 3; t++) lg_release(gw[t]);
  lg_release(x), lg_release(gy);
}

static void conv_with_empty_batch(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(0, 2, 5, 5))), *w = ck_randn(SHAPE(3, 2, 3, 3));
  lg_tensor *y = CK(lg_conv2d(x, w, NULL, NULL));
  EXPECT_SHAPE(y, 0, 3, 3, 3);
  lg_tensor *gy = CK(lg_zeros(SHAPE(0, 3, 3, 3)));
  lg_tensor *gw = CK(lg_conv2d_weight(x, gy, 3, 3, NULL));
  EXPECT_SHAPE(gw, 3, 2, 3, 3);
  for (int64_t i = 0; i < gw->numel; i++) assert_true(ck_get(gw, i) == 0.0f);
  lg_release(x), lg_release(w), lg_release(y), lg_release(gy), lg_release(gw);
}

/* }====================================================== */

/* {====================================================== gradients */

typedef struct {
  lg_conv_opts o;
  int kh, kw;
} conv_ctx;

FN(f_conv, lg_conv2d(x[0], x[1], x[2], &((const conv_ctx *)ctx)->o))
FN(f_conv_nobias, lg_conv2d(x[0], x[1], NULL, &((const conv_ctx *)ctx)->o))
FN(f_convt, lg_conv_transpose2d(x[0], x[1], x[2], &((const conv_ctx *)ctx)->o))
FN(f_convt_nobias, lg_conv_transpose2d(x[0], x[1], NULL, &((const conv_ctx *)ctx)->o))
FN(f_convw, lg_conv2d_weight(x[0], x[1], ((const conv_ctx *)ctx)->kh, ((const conv_ctx *)ctx)->kw,
                             &((const conv_ctx *)ctx)->o))

/* conv2d followed by tanh: the second-order terms then mix x and w. */
static lg_tensor *f_conv_tanh(lg_tensor **x, const void *ctx) {
  lg_tensor *y = lg_conv2d(x[0], x[1], x[2], &((const conv_ctx *)ctx)->o);
  if (!y) return NULL;
  lg_tensor *t = lg_tanh(y);
  lg_release(y);
  return t;
}

static void grad_conv2d(void **state) {
  (void)state;
  conv_ctx k3 = {opts(1, 1, 1, 1, 0, 0), 0, 0};
  CHECK_GRADS(f_conv, &k3, ck_randn(SHAPE(2, 2, 4, 4)), ck_randn(SHAPE(3, 2, 3, 3)),
              ck_randn(SHAPE(3)));
  conv_ctx k4 = {opts(2, 2, 1, 1, 0, 0), 0, 0};
  CHECK_GRADS(f_conv_nobias, &k4, ck_randn(SHAPE(1, 2, 6, 6)), ck_randn(SHAPE(2, 2, 4, 4)));
}

static void grad_conv2d_odd_sizes(void **state) {
  (void)state;
  /* rows and cols the last window never reaches get zero gradient */
  conv_ctx odd = {opts(2, 3, 1, 0, 0, 0), 0, 0};
  CHECK_GRADS(f_conv, &odd, ck_randn(SHAPE(2, 2, 6, 7)), ck_randn(SHAPE(2, 2, 3, 2)),
              ck_randn(SHAPE(2)));
  conv_ctx k5 = {opts(1, 1, 0, 0, 0, 0), 0, 0};
  CHECK_GRADS(f_conv, &k5, ck_randn(SHAPE(1, 1, 6, 5)), ck_randn(SHAPE(2, 1, 5, 5)),
              ck_randn(SHAPE(2)));
  conv_ctx k1 = {opts(1, 1, 0, 0, 0, 0), 0, 0};
  CHECK_GRADS(f_conv, &k1, ck_randn(SHAPE(2, 3, 2, 3)), ck_randn(SHAPE(2, 3, 1, 1)),
              ck_randn(SHAPE(2)));
}

static void grad_conv2d_through_tanh(void **state) {
  (void)state;
  conv_ctx c = {opts(2, 2, 1, 1, 0, 0), 0, 0};
  CHECK_GRADS(f_conv_tanh, &c, ck_uniform(SHAPE(1, 2, 5, 5), -0.5f, 0.5f),
              ck_uniform(SHAPE(2, 2, 3, 3), -0.5f, 0.5f), ck_uniform(SHAPE(2), -0.5f, 0.5f));
}

static void grad_conv_transpose2d(void **state) {
  (void)state;
  conv_ctx s2 = {opts(2, 2, 1, 1, 0, 0), 0, 0};
  CHECK_GRADS(f_convt, &s2, ck_randn(SHAPE(2, 2, 3, 3)), ck_randn(SHAPE(2, 3, 4, 4)),
              ck_randn(SHAPE(3)));
  conv_ctx op = {opts(2, 3, 0, 1, 1, 2), 0, 0};
  CHECK_GRADS(f_convt, &op, ck_randn(SHAPE(1, 2, 2, 3)), ck_randn(SHAPE(2, 2, 3, 4)),
              ck_randn(SHAPE(2)));
  conv_ctx s1 = {opts(1, 1, 0, 0, 0, 0), 0, 0};
  CHECK_GRADS(f_convt_nobias, &s1, ck_randn(SHAPE(1, 2, 3, 2)), ck_randn(SHAPE(2, 1, 2, 3)));
}

static void grad_conv2d_weight(void **state) {
  (void)state;
  conv_ctx c = {opts(2, 3, 1, 0, 0, 0), 3, 2};
  /* x [1,2,6,7] -> grid 3 x 2 */
  CHECK_GRADS(f_convw, &c, ck_randn(SHAPE(2, 2, 6, 7)), ck_randn(SHAPE(2, 3, 3, 2)));
  conv_ctx p = {opts(1, 1, 1, 1, 0, 0), 3, 3};
  CHECK_GRADS(f_convw, &p, ck_randn(SHAPE(1, 2, 4, 4)), ck_randn(SHAPE(1, 2, 4, 4)));
}

/* A WGAN-GP style penalty through a conv critic: d/dw of |d critic/dx|^2. */
typedef struct {
  lg_conv_opts o;
} gp_ctx;

static lg_tensor *f_penalty(lg_tensor **x, const void *ctx) {
  const gp_ctx *c = ctx;
  lg_tensor *h = lg_conv2d(x[0], x[1], x[2], &c->o), *a = h ? lg_tanh(h) : NULL;
  lg_tensor *s = a ? lg_sum(a) : NULL, *g = NULL, *sq = NULL, *out = NULL;
  if (s && lg_grad(1, &s, NULL, 1, &x[0], &g, true, true) == 0) {
    sq = lg_mul(g, g);
    out = sq ? lg_sum(sq) : NULL;
  }
  lg_release(h), lg_release(a), lg_release(s), lg_release(g), lg_release(sq);
  return out;
}

static void grad_of_a_gradient_penalty_through_conv(void **state) {
  (void)state;
  gp_ctx c = {opts(2, 2, 1, 1, 0, 0)};
  GRADCHECK(f_penalty, &c, ck_uniform(SHAPE(1, 1, 5, 5), -0.5f, 0.5f),
            ck_uniform(SHAPE(2, 1, 3, 3), -0.5f, 0.5f), ck_uniform(SHAPE(2), -0.3f, 0.3f));
}

/* }====================================================== */

/* {====================================================== errors */

static void conv_errors_name_op_and_shapes(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(1, 3, 5, 5))), *x3 = CK(lg_zeros(SHAPE(3, 5, 5)));
  lg_tensor *w = CK(lg_zeros(SHAPE(2, 3, 3, 3))), *w2 = CK(lg_zeros(SHAPE(2, 2, 3, 3)));
  lg_tensor *w3 = CK(lg_zeros(SHAPE(2, 3, 3))), *big = CK(lg_zeros(SHAPE(2, 3, 8, 8)));
  lg_tensor *b3 = CK(lg_zeros(SHAPE(3))), *b22 = CK(lg_zeros(SHAPE(2, 2)));
  lg_conv_opts stride0 = opts(0, 1, 0, 0, 0, 0), negpad = opts(1, 1, -1, 0, 0, 0);
  lg_conv_opts p1 = opts(1, 1, 1, 1, 0, 0);
  EXPECT_ERR(lg_conv2d(x3, w, NULL, NULL), "conv2d", "input", "[3,5,5]");
  EXPECT_ERR(lg_conv2d(x, w3, NULL, NULL), "conv2d", "weight", "[2,3,3]");
  EXPECT_ERR(lg_conv2d(x, w2, NULL, NULL), "conv2d", "3 channels", "[2,2,3,3]");
  EXPECT_ERR(lg_conv2d(x, big, NULL, &p1), "conv2d", "8x8", "7x7", "[1,3,5,5]");
  EXPECT_ERR(lg_conv2d(x, w, NULL, &stride0), "conv2d", "stride", "(0,1)");
  EXPECT_ERR(lg_conv2d(x, w, NULL, &negpad), "conv2d", "padding", "(-1,0)");
  EXPECT_ERR(lg_conv2d(x, w, b3, NULL), "conv2d", "bias", "[2]", "[3]");
  EXPECT_ERR(lg_conv2d(x, w, b22, NULL), "conv2d", "bias", "[2,2]");
  lg_release(x), lg_release(x3), lg_release(w), lg_release(w2), lg_release(w3), lg_release(big);
  lg_release(b3), lg_release(b22);
}

static void conv_transpose_errors_name_op_and_shapes(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(1, 2, 3, 3))), *x3 = CK(lg_zeros(SHAPE(2, 3, 3)));
  lg_tensor *w = CK(lg_zeros(SHAPE(2, 4, 3, 3))), *wc = CK(lg_zeros(SHAPE(3, 4, 3, 3)));
  lg_tensor *b2 = CK(lg_zeros(SHAPE(2)));
  lg_conv_opts op_eq = opts(2, 2, 0, 0, 2, 0), op_neg = opts(2, 2, 0, 0, 0, -1);
  lg_conv_opts op_s1 = opts(1, 1, 0, 0, 1, 0), stride0 = opts(1, 0, 0, 0, 0, 0);
  lg_conv_opts bigpad = opts(1, 1, 3, 3, 0, 0);
  EXPECT_ERR(lg_conv_transpose2d(x3, w, NULL, NULL), "conv_transpose2d", "[2,3,3]");
  EXPECT_ERR(lg_conv_transpose2d(x, wc, NULL, NULL), "conv_transpose2d", "2 channels",
             "[3,4,3,3]");
  EXPECT_ERR(lg_conv_transpose2d(x, w, NULL, &op_eq), "conv_transpose2d", "output_padding",
             "(2,0)", "(2,2)");
  EXPECT_ERR(lg_conv_transpose2d(x, w, NULL, &op_neg), "conv_transpose2d", "output_padding");
  EXPECT_ERR(lg_conv_transpose2d(x, w, NULL, &op_s1), "conv_transpose2d", "output_padding");
  EXPECT_ERR(lg_conv_transpose2d(x, w, NULL, &stride0), "conv_transpose2d", "stride");
  EXPECT_ERR(lg_conv_transpose2d(x, w, b2, NULL), "conv_transpose2d", "bias", "[4]", "[2]");
  /* (3-1) - 6 + 3 = -1: no output left */
  EXPECT_ERR(lg_conv_transpose2d(x, w, NULL, &bigpad), "conv_transpose2d", "[1,2,3,3]");
  lg_release(x), lg_release(x3), lg_release(w), lg_release(wc), lg_release(b2);
}

static void conv2d_weight_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(2, 3, 5, 5))), *gy = CK(lg_zeros(SHAPE(2, 4, 3, 3)));
  lg_tensor *gbad = CK(lg_zeros(SHAPE(2, 4, 4, 3))), *g3 = CK(lg_zeros(SHAPE(4, 3, 3)));
  lg_conv_opts stride0 = opts(0, 0, 0, 0, 0, 0);
  EXPECT_ERR(lg_conv2d_weight(x, gbad, 3, 3, NULL), "conv2d_weight", "[2,4,4,3]", "[2,3,5,5]");
  EXPECT_ERR(lg_conv2d_weight(x, g3, 3, 3, NULL), "conv2d_weight", "[4,3,3]");
  EXPECT_ERR(lg_conv2d_weight(x, gy, 0, 3, NULL), "conv2d_weight", "kernel");
  EXPECT_ERR(lg_conv2d_weight(x, gy, 6, 6, NULL), "conv2d_weight", "6x6", "[2,3,5,5]");
  EXPECT_ERR(lg_conv2d_weight(x, gy, 3, 3, &stride0), "conv2d_weight", "stride");
  lg_release(x), lg_release(gy), lg_release(gbad), lg_release(g3);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(conv2d_3x3_by_hand),
      TEST(conv2d_k4_s2_p1_with_bias),
      TEST(conv2d_k3_s1_p1_without_bias),
      TEST(conv2d_k5_s1_p0_and_1x1),
      TEST(conv2d_odd_sizes_and_per_dim_options),
      TEST(conv2d_weight_matches_autograd_of_torch),
      TEST(conv_transpose2d_stride2_size_and_values),
      TEST(conv_transpose2d_output_padding),
      TEST(conv_transpose2d_is_the_adjoint_of_conv2d),
      TEST(conv_batch_equals_per_sample),
      TEST(conv_ops_match_naive_loops_narrow_and_wide),
      TEST(pointwise_conv_with_bias),
      TEST(conv2d_weight_chunked_same_bits_at_1_2_3_threads),
      TEST(conv_with_empty_batch),
      TEST(grad_conv2d),
      TEST(grad_conv2d_odd_sizes),
      TEST(grad_conv2d_through_tanh),
      TEST(grad_conv_transpose2d),
      TEST(grad_conv2d_weight),
      TEST(grad_of_a_gradient_penalty_through_conv),
      TEST(conv_errors_name_op_and_shapes),
      TEST(conv_transpose_errors_name_op_and_shapes),
      TEST(conv2d_weight_errors),
  };
  return cmocka_run_group_tests_name("conv", tests, NULL, NULL);
}
