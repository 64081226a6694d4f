/* Pooling, nearest upsampling and dropout: values against PyTorch 1.13
** (F.avg_pool2d with its default count_include_pad, F.max_pool2d and its
** autograd; pasted below) and by hand, gradients to second order, dropout
** statistics and determinism, errors. */
#include "check.h"

/* ((i*7) mod 11 - 5) / 4 for element i: 11 distinct values, so windows hold ties. */
static lg_tensor *ramp(int nd, const int64_t *shape) {
  lg_tensor *t = CK(lg_empty(nd, shape));
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) d[i] = (float)((i * 7) % 11 - 5) / 4;
  return t;
}
#define RAMP(...) ramp(SHAPE(__VA_ARGS__))

#define EXPECT_ARRAY(t, ref)                                                          \
  ck_expect_values_((t), (ref), (int)(sizeof(ref) / sizeof((ref)[0])), 1e-6, #t,    \
                    __FILE__, __LINE__)

/* {====================================================== PyTorch reference values
** (shape after each; *_grad are d sum(y) / dx from torch's autograd, which
** shows where the first maximum of each window is) */

static const float ref_avg_k3s2p1[18] = {-0.0555555556, 0.138888889, 0.138888889, -0.194444444, -0.111111111, -0.0555555556, 0, -0.0833333333, -0.111111111, 0.138888889, -0.0277777778, 0.0277777778, -0.0555555556, -0.0555555556, -0.222222222, -0.111111111, 0.0555555556, -0.222222222};
/* [1, 2, 3, 3] */
static const float ref_avg_k3s1[6] = {-0.222222222, 0, 0.222222222, -0.0277777778, -0.111111111, 0.111111111};
/* [1, 1, 2, 3] */
static const float ref_avg_k2_odd[6] = {-0.4375, 0.3125, -0.3125, 0, 0.0625, 0.125};
/* [1, 1, 2, 3] */
static const float ref_max_k3s2p1[18] = {1, 1.25, 1.25, 1, 1, 1.25, 0.75, 1, 0.5, 1.25, 1, 1, 1.25, 1.25, 1, 0.5, 1.25, 0.25};
/* [1, 2, 3, 3] */
static const float ref_max_k2s1[12] = {0.5, 1, 1.25, 0.75, 1, 1, 1, 1.25, 1.25, 1, 1, 0.5};
/* [2, 1, 2, 3] */
static const float ref_max_k2s1_grad[24] = {0, 1, 0, 1, 0, 0, 3, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 3, 0, 0, 0, 0, 0, 1};
/* [2, 1, 3, 4] */
static const float ref_max_k2_odd[6] = {0.5, 1.25, 0.5, 1.25, 1, 1.25};
/* [1, 1, 2, 3] */
static const float ref_max_k3s3p1[9] = {0.75, 1.25, 1.25, 1.25, 1.25, 1, 0.25, 1, 1.25};
/* [1, 1, 3, 3] */
static const float ref_max_k3s3p1_grad[56] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0};
/* [1, 1, 7, 8] */
static const float ref_const_grad[9] = {1, 1, 0, 1, 1, 0, 0, 0, 0};
/* [1, 1, 3, 3] */

/* }====================================================== */

/* {====================================================== pooling values */

static void avg_pool_values(void **state) {
  (void)state;
  lg_tensor *x = RAMP(1, 2, 5, 5), *x45 = RAMP(1, 1, 4, 5), *x57 = RAMP(1, 1, 5, 7);
  lg_tensor *a = CK(lg_avg_pool2d(x, 3, 2, 1));      /* padding counts as zeros */
  lg_tensor *b = CK(lg_avg_pool2d(x45, 3, 1, 0));    /* overlapping windows */
  lg_tensor *c = CK(lg_avg_pool2d(x57, 2, 2, 0));    /* odd sizes: last row/col dropped */
  EXPECT_SHAPE(a, 1, 2, 3, 3);
  EXPECT_ARRAY(a, ref_avg_k3s2p1);
  EXPECT_SHAPE(b, 1, 1, 2, 3);
  EXPECT_ARRAY(b, ref_avg_k3s1);
  EXPECT_SHAPE(c, 1, 1, 2, 3);
  EXPECT_ARRAY(c, ref_avg_k2_odd);
  lg_tensor *xn = ck_noncontig(x), *an = CK(lg_avg_pool2d(xn, 3, 2, 1));
  EXPECT_ARRAY(an, ref_avg_k3s2p1);
  /* by hand: 2x2 means */
  lg_tensor *h = TENSOR(SHAPE(1, 1, 2, 4), 1, 2, 3, 4, 5, 6, 7, 8), *hm = CK(lg_avg_pool2d(h, 2, 2, 0));
  EXPECT_VALUES(hm, 3.5f, 5.5f);
  lg_release(x), lg_release(x45), lg_release(x57), lg_release(a), lg_release(b), lg_release(c);
  lg_release(xn), lg_release(an), lg_release(h), lg_release(hm);
}

static void max_pool_values(void **state) {
  (void)state;
  lg_tensor *x = RAMP(1, 2, 5, 5), *x2 = RAMP(2, 1, 3, 4), *x57 = RAMP(1, 1, 5, 7);
  lg_tensor *x78 = RAMP(1, 1, 7, 8);
  lg_tensor *a = CK(lg_max_pool2d(x, 3, 2, 1)), *b = CK(lg_max_pool2d(x2, 2, 1, 0));
  lg_tensor *c = CK(lg_max_pool2d(x57, 2, 2, 0)), *d = CK(lg_max_pool2d(x78, 3, 3, 1));
  EXPECT_SHAPE(a, 1, 2, 3, 3);
  EXPECT_ARRAY(a, ref_max_k3s2p1);
  EXPECT_SHAPE(b, 2, 1, 2, 3);
  EXPECT_ARRAY(b, ref_max_k2s1);
  EXPECT_SHAPE(c, 1, 1, 2, 3);
  EXPECT_ARRAY(c, ref_max_k2_odd);
  EXPECT_SHAPE(d, 1, 1, 3, 3);
  EXPECT_ARRAY(d, ref_max_k3s3p1);
  /* padding never wins, even over negative values */
  lg_tensor *neg = CK(lg_full(SHAPE(1, 1, 2, 2), -3)), *mn = CK(lg_max_pool2d(neg, 3, 1, 1));
  EXPECT_VALUES(mn, -3, -3, -3, -3);
  lg_tensor *xn = ck_noncontig(x), *an = CK(lg_max_pool2d(xn, 3, 2, 1));
  EXPECT_ARRAY(an, ref_max_k3s2p1);
  lg_release(x), lg_release(x2), lg_release(x57), lg_release(x78), lg_release(a), lg_release(b);
  lg_release(c), lg_release(d), lg_release(neg), lg_release(mn), lg_release(xn), lg_release(an);
}

static lg_tensor *sum_grad(lg_tensor *x, int k, int s, int p) {
  x->requires_grad = true;
  lg_tensor *y = CK(lg_max_pool2d(x, k, s, p)), *l = CK(lg_sum(y)), *g;
  assert_int_equal(lg_grad(1, &l, NULL, 1, &x, &g, false, false), 0);
  lg_release(y), lg_release(l);
  return g;
}

/* The gradient goes to the first maximum of each window, as in PyTorch. */
static void max_pool_ties_pick_the_first_maximum(void **state) {
  (void)state;
  lg_tensor *x2 = RAMP(2, 1, 3, 4), *x78 = RAMP(1, 1, 7, 8), *one = CK(lg_full(SHAPE(1, 1, 3, 3), 1));
  lg_tensor *g2 = sum_grad(x2, 2, 1, 0), *g78 = sum_grad(x78, 3, 3, 1), *g1 = sum_grad(one, 2, 1, 0);
  EXPECT_ARRAY(g2, ref_max_k2s1_grad);
  EXPECT_ARRAY(g78, ref_max_k3s3p1_grad);
  EXPECT_ARRAY(g1, ref_const_grad);
  lg_release(x2), lg_release(x78), lg_release(one), lg_release(g2), lg_release(g78), lg_release(g1);
}

static void max_pool_propagates_nan(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(1, 1, 2, 4), 1, NAN, 3, 4, 5, 6, 7, 8);
  lg_tensor *y = CK(lg_max_pool2d(x, 2, 2, 0));
  assert_true(isnan(ck_get(y, 0)));
  EXPECT_VALUES(y, NAN, 8);
  lg_release(x), lg_release(y);
}

/* Larger inputs (threaded over planes) against a direct loop here. */
static void pools_on_many_planes_match_a_direct_loop(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(8, 16, 17, 15));
  lg_tensor *mx = CK(lg_max_pool2d(x, 3, 2, 1)), *av = CK(lg_avg_pool2d(x, 3, 2, 1));
  EXPECT_SHAPE(mx, 8, 16, 9, 8);
  const float *d = lg_data(x);
  for (int64_t pl = 0; pl < 8 * 16; pl++)
    for (int oy = 0; oy < 9; oy++)
      for (int ox = 0; ox < 8; ox++) {
        float m = -INFINITY, s = 0;
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 3; j++) {
            int iy = oy * 2 - 1 + i, ix = ox * 2 - 1 + j;
            if (iy < 0 || iy >= 17 || ix < 0 || ix >= 15) continue;
            float v = d[(pl * 17 + iy) * 15 + ix];
            m = v > m ? v : m;
            s += v;
          }
        int64_t o = (pl * 9 + oy) * 8 + ox;
        assert_true(ck_get(mx, o) == m);
        assert_true(fabsf(ck_get(av, o) - s / 9) <= 1e-5f);
      }
  lg_release(x), lg_release(mx), lg_release(av);
}

static void upsample_nearest_values(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(1, 1, 2, 2), 1, 2, 3, 4);
  lg_tensor *y2 = CK(lg_upsample_nearest(x, 2));
  EXPECT_SHAPE(y2, 1, 1, 4, 4);
  EXPECT_VALUES(y2, 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);
  lg_tensor *x3 = TENSOR(SHAPE(1, 2, 1, 2), 1, 2, 3, 4), *y3 = CK(lg_upsample_nearest(x3, 3));
  EXPECT_SHAPE(y3, 1, 2, 3, 6);
  EXPECT_VALUES(y3, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4);
  lg_tensor *y1 = CK(lg_upsample_nearest(x, 1));
  EXPECT_VALUES(y1, 1, 2, 3, 4);
  lg_tensor *xn = ck_noncontig(x), *yn = CK(lg_upsample_nearest(xn, 2));
  EXPECT_VALUES(yn, 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);
  /* its gradient sums each block */
  x->requires_grad = true;
  lg_tensor *y = CK(lg_upsample_nearest(x, 2)), *g = CK(lg_arange(16)), *g4 = CK(lg_view(g, SHAPE(1, 1, 4, 4)));
  lg_tensor *gx;
  assert_int_equal(lg_grad(1, &y, &g4, 1, &x, &gx, false, false), 0);
  EXPECT_VALUES(gx, 0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15);
  lg_release(x), lg_release(y2), lg_release(x3), lg_release(y3), lg_release(y1), lg_release(xn);
  lg_release(yn), lg_release(y), lg_release(g), lg_release(g4), lg_release(gx);
}

/* }====================================================== */

/* {====================================================== gradients */

typedef struct {
  int k, s, p;
} pool_ctx;

FN(f_avg, lg_avg_pool2d(x[0], ((const pool_ctx *)ctx)->k, ((const pool_ctx *)ctx)->s,
                        ((const pool_ctx *)ctx)->p))
FN(f_max, lg_max_pool2d(x[0], ((const pool_ctx *)ctx)->k, ((const pool_ctx *)ctx)->s,
                        ((const pool_ctx *)ctx)->p))
FN(f_up, lg_upsample_nearest(x[0], ((const pool_ctx *)ctx)->k))

/* op(x) * op(x): makes the second-order check non-trivial for linear ops. */
static lg_tensor *squared(lg_tensor *y) {
  lg_tensor *r = y ? lg_mul(y, y) : NULL;
  lg_release(y);
  return r;
}
FN(f_avg_sq, squared(f_avg(x, ctx)))
FN(f_max_sq, squared(f_max(x, ctx)))
FN(f_up_sq, squared(f_up(x, ctx)))

static void grad_avg_pool(void **state) {
  (void)state;
  pool_ctx c[] = {{3, 2, 1}, {3, 1, 0}, {2, 2, 0}, {3, 3, 1}};
  int64_t h[] = {5, 4, 5, 7};
  for (int i = 0; i < 4; i++) {
    CHECK_GRADS(f_avg, &c[i], ck_randn(SHAPE(2, 2, h[i], 5)));
    CHECK_GRADS(f_avg_sq, &c[i], ck_randn(SHAPE(1, 2, h[i], 5)));
  }
}

static void grad_max_pool_away_from_ties(void **state) {
  (void)state;
  pool_ctx c[] = {{3, 2, 1}, {2, 1, 0}, {2, 2, 0}, {3, 3, 1}};
  int64_t h[] = {5, 4, 5, 7};
  for (int i = 0; i < 4; i++) {
    /* distinct values in [-0.9, 0.9): gaps of 0.025 exceed the step h = 1/64 */
    CHECK_GRADS(f_max, &c[i], ck_spread(SHAPE(1, 2, h[i], 5), -0.9f, 0.025f));
    CHECK_GRADS(f_max_sq, &c[i], ck_spread(SHAPE(2, 1, h[i], 5), -0.9f, 0.025f));
  }
}

static void grad_upsample(void **state) {
  (void)state;
  pool_ctx s2 = {2, 0, 0}, s3 = {3, 0, 0};
  CHECK_GRADS(f_up, &s2, ck_randn(SHAPE(2, 2, 3, 2)));
  CHECK_GRADS(f_up, &s3, ck_randn(SHAPE(1, 2, 2, 3)));
  CHECK_GRADS(f_up_sq, &s2, ck_randn(SHAPE(1, 2, 2, 3)));
  CHECK_GRADS(f_up_sq, &s3, ck_randn(SHAPE(1, 1, 3, 2)));
}

/* }====================================================== */

/* {====================================================== dropout */

static void dropout_p0_and_eval_return_the_input(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(3, 4));
  uint64_t st[5], st2[5];
  lg_rng_get_state(st);
  lg_tensor *a = CK(lg_dropout(x, 0, true)), *b = CK(lg_dropout(x, 0.5f, false));
  lg_rng_get_state(st2);
  assert_memory_equal(st, st2, sizeof st);   /* no random numbers drawn */
  for (int64_t i = 0; i < x->numel; i++) {
    assert_true(ck_get(a, i) == ck_get(x, i));
    assert_true(ck_get(b, i) == ck_get(x, i));
  }
  lg_release(x), lg_release(a), lg_release(b);
}

static void dropout_statistics(void **state) {
  (void)state;
  const int64_t n = 100000;
  float ps[] = {0.1f, 0.3f, 0.5f, 0.8f};
  lg_tensor *x = CK(lg_full(SHAPE(n), 2));
  for (int k = 0; k < 4; k++) {
    float p = ps[k];
    lg_tensor *y = CK(lg_dropout(x, p, true));
    EXPECT_SHAPE(y, n);
    int64_t dropped = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
      float v = ck_get(y, i);
      if (v == 0) dropped++;
      else assert_true(fabsf(v - 2 / (1 - p)) <= 1e-6f * 2 / (1 - p));   /* kept: scaled */
      sum += v;
    }
    double share = (double)dropped / (double)n, mean = sum / (double)n;
    /* 1e5 Bernoulli draws: std of the share <= 0.0016; of the mean <= 2*2*0.0016/(1-p)... */
    if (fabs(share - p) > 0.01 || fabs(mean - 2) > 0.05) {
      print_error("p = %g: dropped share %g, mean %g (expected 2)\n", p, share, mean);
      fail();
    }
    lg_release(y);
  }
  lg_release(x);
}

static void dropout_is_deterministic_under_a_seed(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(1000));
  lg_manual_seed(7);
  lg_tensor *a = CK(lg_dropout(x, 0.5f, true));
  lg_manual_seed(7);
  lg_tensor *b = CK(lg_dropout(x, 0.5f, true));
  lg_manual_seed(8);
  lg_tensor *c = CK(lg_dropout(x, 0.5f, true));
  assert_memory_equal(lg_data(a), lg_data(b), 1000 * sizeof(float));
  assert_memory_not_equal(lg_data(a), lg_data(c), 1000 * sizeof(float));
  lg_tensor *d = CK(lg_dropout(x, 0.5f, true));   /* the stream moves on */
  assert_memory_not_equal(lg_data(c), lg_data(d), 1000 * sizeof(float));
  lg_release(x), lg_release(a), lg_release(b), lg_release(c), lg_release(d);
}

static void dropout_gradient_is_the_mask(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_full(SHAPE(4, 50), 1)), *g = ck_randn(SHAPE(4, 50)), *gx;
  x->requires_grad = true;
  lg_tensor *y = CK(lg_dropout(x, 0.4f, true));
  assert_true(y->requires_grad);
  assert_int_equal(lg_grad(1, &y, &g, 1, &x, &gx, false, false), 0);
  int zeros = 0;
  for (int64_t i = 0; i < 200; i++) {   /* x = 1, so y is the mask */
    assert_true(fabsf(ck_get(gx, i) - ck_get(g, i) * ck_get(y, i)) <= 1e-6f);
    zeros += ck_get(y, i) == 0;
  }
  assert_true(zeros > 0 && zeros < 200);
  lg_release(x), lg_release(g), lg_release(y), lg_release(gx);
}

/* Reseeded inside f, so every evaluation draws the same mask. */
static lg_tensor *f_dropout(lg_tensor **x, const void *ctx) {
  (void)ctx;
  uint64_t st[5];
  lg_rng_get_state(st);
  lg_manual_seed(123);
  lg_tensor *y = lg_dropout(x[0], 0.3f, true), *r = y ? lg_mul(y, x[0]) : NULL;
  lg_rng_set_state(st);
  lg_release(y);
  return r;
}

static void grad_dropout_with_a_fixed_mask(void **state) {
  (void)state;
  CHECK_GRADS(f_dropout, NULL, ck_randn(SHAPE(3, 5)));
}

/* }====================================================== */

/* {====================================================== errors */

static void pool_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(1, 1, 4, 4))), *x3 = CK(lg_zeros(SHAPE(2, 4, 4)));
  lg_tensor *small = CK(lg_zeros(SHAPE(1, 1, 2, 5)));
  EXPECT_ERR(lg_avg_pool2d(x3, 2, 2, 0), "avg_pool2d", "[2,4,4]");
  EXPECT_ERR(lg_max_pool2d(x3, 2, 2, 0), "max_pool2d", "[2,4,4]");
  EXPECT_ERR(lg_avg_pool2d(x, 0, 1, 0), "avg_pool2d", "kernel", "0");
  EXPECT_ERR(lg_max_pool2d(x, 2, 0, 0), "max_pool2d", "stride", "0");
  EXPECT_ERR(lg_max_pool2d(x, 2, 2, -1), "max_pool2d", "padding", "-1");
  EXPECT_ERR(lg_avg_pool2d(x, 3, 1, 2), "avg_pool2d", "padding", "2", "3");
  EXPECT_ERR(lg_max_pool2d(small, 3, 1, 0), "max_pool2d", "[1,1,2,5]");
  EXPECT_ERR(lg_avg_pool2d(small, 5, 1, 1), "avg_pool2d", "[1,1,2,5]");
  EXPECT_ERR(lg_upsample_nearest(x3, 2), "upsample_nearest", "[2,4,4]");
  EXPECT_ERR(lg_upsample_nearest(x, 0), "upsample_nearest", "scale", "0");
  EXPECT_ERR(lg_upsample_nearest(x, -2), "upsample_nearest", "-2");
  EXPECT_ERR(lg_upsample_nearest(x, 1 << 30), "upsample_nearest", "[1,1,4,4]");
  EXPECT_ERR(lg_dropout(x, 1, true), "dropout", "p", "1");
  EXPECT_ERR(lg_dropout(x, -0.1f, true), "dropout", "-0.1");
  EXPECT_ERR(lg_dropout(x, NAN, true), "dropout", "nan");
  lg_release(x), lg_release(x3), lg_release(small);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(avg_pool_values),
      TEST(max_pool_values),
      TEST(max_pool_ties_pick_the_first_maximum),
      TEST(max_pool_propagates_nan),
      TEST(pools_on_many_planes_match_a_direct_loop),
      TEST(upsample_nearest_values),
      TEST(grad_avg_pool),
      TEST(grad_max_pool_away_from_ties),
      TEST(grad_upsample),
      TEST(dropout_p0_and_eval_return_the_input),
      TEST(dropout_statistics),
      TEST(dropout_is_deterministic_under_a_seed),
      TEST(dropout_gradient_is_the_mask),
      TEST(grad_dropout_with_a_fixed_mask),
      TEST(pool_errors),
  };
  return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
