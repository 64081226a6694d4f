/* Elementwise ops: forward values (broadcasting, extremes) and gradients to second order. */
#include "check.h"
#include "fastmath.h"

/* {====================================================== forward values */

static void binary_ops_broadcast_row(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *b = TENSOR(SHAPE(3), 10, 20, 30);
  lg_tensor *add = CK(lg_add(a, b)), *sub = CK(lg_sub(a, b));
  lg_tensor *mul = CK(lg_mul(a, b)), *div = CK(lg_div(a, b));
  EXPECT_SHAPE(add, 2, 3);
  EXPECT_VALUES(add, 11, 22, 33, 14, 25, 36);
  EXPECT_VALUES(sub, -9, -18, -27, -6, -15, -24);
  EXPECT_VALUES(mul, 10, 40, 90, 40, 100, 180);
  EXPECT_VALUES(div, 0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f);
  lg_tensor *rev = CK(lg_sub(b, a));   /* broadcasting on the left operand */
  EXPECT_VALUES(rev, 9, 18, 27, 6, 15, 24);
  lg_release(a), lg_release(b), lg_release(add), lg_release(sub), lg_release(mul);
  lg_release(div), lg_release(rev);
}

static void binary_ops_broadcast_column_by_row(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 1), 1, 2);
  lg_tensor *b = TENSOR(SHAPE(1, 3), 10, 20, 30);
  lg_tensor *add = CK(lg_add(a, b)), *mul = CK(lg_mul(a, b));
  EXPECT_SHAPE(add, 2, 3);
  EXPECT_VALUES(add, 11, 21, 31, 12, 22, 32);
  EXPECT_VALUES(mul, 10, 20, 30, 20, 40, 60);
  lg_release(a), lg_release(b), lg_release(add), lg_release(mul);
}

static void binary_ops_with_zero_dim(void **state) {
  (void)state;
  lg_tensor *s = SCALAR(2), *t = SCALAR(8);
  lg_tensor *v = TENSOR(SHAPE(3), 1, 2, 4);
  lg_tensor *ss = CK(lg_div(t, s)), *sv = CK(lg_div(s, v)), *vs = CK(lg_sub(v, s));
  EXPECT_SHAPE(ss);
  EXPECT_VALUES(ss, 4);
  EXPECT_SHAPE(sv, 3);
  EXPECT_VALUES(sv, 2, 1, 0.5f);
  EXPECT_VALUES(vs, -1, 0, 2);
  lg_release(s), lg_release(t), lg_release(v), lg_release(ss), lg_release(sv), lg_release(vs);
}

static void binary_ops_on_noncontiguous_inputs(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *at = ck_noncontig(a);
  lg_tensor *b = TENSOR(SHAPE(3), 10, 20, 30);
  lg_tensor *bs = ck_noncontig(b);
  lg_tensor *add = CK(lg_add(at, bs));
  EXPECT_VALUES(add, 11, 22, 33, 14, 25, 36);
  lg_release(a), lg_release(at), lg_release(b), lg_release(bs), lg_release(add);
}

static void scalar_ops(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(3), 1, 2, 4);
  lg_tensor *add = CK(lg_add_scalar(a, 1.5f)), *mul = CK(lg_mul_scalar(a, -2));
  lg_tensor *rsub = CK(lg_rsub_scalar(a, 1)), *rdiv = CK(lg_rdiv_scalar(a, 2));
  EXPECT_VALUES(add, 2.5f, 3.5f, 5.5f);
  EXPECT_VALUES(mul, -2, -4, -8);
  EXPECT_VALUES(rsub, 0, -1, -3);
  EXPECT_VALUES(rdiv, 2, 1, 0.5f);
  lg_release(a), lg_release(add), lg_release(mul), lg_release(rsub), lg_release(rdiv);
}

static void unary_ops(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(4), -2, -0.5f, 0.25f, 3);
  lg_tensor *p = TENSOR(SHAPE(3), 0.25f, 1, 4);
  lg_tensor *r[] = {
      CK(lg_neg(a)),  CK(lg_exp(a)),  CK(lg_abs(a)),           CK(lg_sign(a)),
      CK(lg_relu(a)), CK(lg_log(p)),  CK(lg_sqrt(p)),          CK(lg_leaky_relu(a, 0.2f)),
  };
  EXPECT_VALUES(r[0], 2, 0.5f, -0.25f, -3);
  EXPECT_VALUES(r[1], expf(-2), expf(-0.5f), expf(0.25f), expf(3));
  EXPECT_VALUES(r[2], 2, 0.5f, 0.25f, 3);
  EXPECT_VALUES(r[3], -1, -1, 1, 1);
  EXPECT_VALUES(r[4], 0, 0, 0.25f, 3);
  EXPECT_VALUES(r[5], logf(0.25f), 0, logf(4));
  EXPECT_VALUES(r[6], 0.5f, 1, 2);
  EXPECT_VALUES(r[7], -0.4f, -0.1f, 0.25f, 3);
  for (int i = 0; i < 8; i++) lg_release(r[i]);
  lg_release(a), lg_release(p);
}

static void smooth_activations(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(3), -1, 0, 2);
  lg_tensor *sg = CK(lg_sigmoid(a)), *th = CK(lg_tanh(a)), *sp = CK(lg_softplus(a));
  EXPECT_VALUES(sg, 1 / (1 + expf(1)), 0.5f, 1 / (1 + expf(-2)));
  EXPECT_VALUES(th, tanhf(-1), 0, tanhf(2));
  EXPECT_VALUES(sp, log1pf(expf(-1)), logf(2), 2 + log1pf(expf(-2)));
  lg_release(a), lg_release(sg), lg_release(th), lg_release(sp);
}

static void pow_values(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(3), 0.5f, 2, 4);
  lg_tensor *sq = CK(lg_pow(a, 2)), *cu = CK(lg_pow(a, 3)), *rt = CK(lg_pow(a, 0.5f));
  lg_tensor *inv = CK(lg_pow(a, -1)), *one = CK(lg_pow(a, 0));
  EXPECT_VALUES(sq, 0.25f, 4, 16);
  EXPECT_VALUES(cu, 0.125f, 8, 64);
  EXPECT_VALUES(rt, sqrtf(0.5f), sqrtf(2), 2);
  EXPECT_VALUES(inv, 2, 0.5f, 0.25f);
  EXPECT_VALUES(one, 1, 1, 1);
  lg_release(a), lg_release(sq), lg_release(cu), lg_release(rt), lg_release(inv);
  lg_release(one);
}

static void clamp_values(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(5), -3, -1, 0, 1, 3);
  lg_tensor *both = CK(lg_clamp(a, -1.5f, 2)), *lo = CK(lg_clamp(a, 0, INFINITY));
  lg_tensor *hi = CK(lg_clamp(a, -INFINITY, -1)), *mask = CK(lg_clamp_mask(a, -1, 1));
  EXPECT_VALUES(both, -1.5f, -1, 0, 1, 2);
  EXPECT_VALUES(lo, 0, 0, 0, 1, 3);
  EXPECT_VALUES(hi, -3, -1, -1, -1, -1);
  EXPECT_VALUES(mask, 0, 1, 1, 1, 0);
  lg_release(a), lg_release(both), lg_release(lo), lg_release(hi), lg_release(mask);
}

static void extreme_inputs_stay_finite(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(4), -100, -30, 30, 100);
  lg_tensor *sg = CK(lg_sigmoid(a)), *sp = CK(lg_softplus(a)), *th = CK(lg_tanh(a));
  for (int i = 0; i < 4; i++) {
    assert_true(isfinite(ck_get(sg, i)));
    assert_true(isfinite(ck_get(sp, i)));
  }
  EXPECT_VALUES_TOL(sg, 1e-6, 0, 9.357623e-14f, 1, 1);
  EXPECT_VALUES(sp, 0, 9.357623e-14f, 30, 100);
  assert_true(ck_get(sp, 0) >= 0 && ck_get(sp, 0) < 1e-30f);
  EXPECT_VALUES(th, -1, -1, 1, 1);
  lg_release(sg), lg_release(sp), lg_release(th);

  /* and their gradients: sigmoid' -> 0, softplus' -> 0 or 1, no NaN */
  a->requires_grad = true;
  lg_tensor *ops[3] = {CK(lg_sigmoid(a)), CK(lg_softplus(a)), CK(lg_tanh(a))};
  for (int k = 0; k < 3; k++) {
    lg_tensor *s = CK(lg_sum(ops[k])), *g;
    assert_int_equal(lg_grad(1, &s, NULL, 1, &a, &g, false, false), 0);
    for (int i = 0; i < 4; i++) assert_true(isfinite(ck_get(g, i)));
    if (k == 1) EXPECT_VALUES(g, 0, 9.357623e-14f, 1, 1);
    lg_release(s), lg_release(g), lg_release(ops[k]);
  }
  lg_release(a);
}

/* lg_log1pf against double log1p: the whole of [0, 1] (softplus and BCE
** call it with e^-|x|), values so small that 1 + x rounds to 1, and large
** ones; relative error under 4 x 2^-24 (a few ulp; 2.9 x 2^-24 seen).
** glibc's scalar log1pf is closer, but a call per element cannot vectorise. */
static void log1p_within_a_few_ulp(void **state) {
  (void)state;
  double worst = 0;
  for (int i = 0; i <= 1 << 20; i++) {
    float xs[3] = {(float)i / (float)(1 << 20), ldexpf(1.0f + (float)i / (1 << 20), -40 + i % 41),
                   ldexpf(1.0f + (float)i / (1 << 20), i % 100)};
    for (int k = 0; k < 3; k++) {
      double want = log1p((double)xs[k]), got = lg_log1pf(xs[k]);
      double err = want == 0 ? fabs(got) : fabs(got - want) / want;
      if (err > worst) worst = err;
    }
  }
  assert_true(worst < 4 * 0x1.0p-24);
  assert_true(lg_log1pf(0.0f) == 0.0f);
  assert_true(lg_log1pf(1e-30f) == 1e-30f);
  assert_true(isnan(lg_log1pf(NAN)));
}

static void empty_tensors_pass_through(void **state) {
  (void)state;
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 3))), *v = TENSOR(SHAPE(3), 1, 2, 3);
  lg_tensor *s = CK(lg_add(e, v)), *x = CK(lg_exp(e));
  EXPECT_SHAPE(s, 0, 3);
  EXPECT_SHAPE(x, 0, 3);
  lg_release(e), lg_release(v), lg_release(s), lg_release(x);
}

/* }====================================================== */

/* {====================================================== gradients */

FN(f_add, lg_add(x[0], x[1]))
FN(f_sub, lg_sub(x[0], x[1]))
FN(f_mul, lg_mul(x[0], x[1]))
FN(f_div, lg_div(x[0], x[1]))
FN(f_square_self, lg_mul(x[0], x[0]))

static void grad_add_sub_broadcast(void **state) {
  (void)state;
  CHECK_GRADS(f_add, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_add, NULL, ck_randn(SHAPE(2, 1)), ck_randn(SHAPE(1, 3)));
  CHECK_GRADS(f_sub, NULL, ck_randn(SHAPE(3)), ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_sub, NULL, ck_randn(SHAPE()), ck_randn(SHAPE(2, 3)));
}

static void grad_mul_broadcast(void **state) {
  (void)state;
  CHECK_GRADS(f_mul, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_mul, NULL, ck_randn(SHAPE(2, 1)), ck_randn(SHAPE(1, 3)));
  CHECK_GRADS(f_mul, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE()));
  CHECK_GRADS(f_square_self, NULL, ck_randn(SHAPE(2, 3)));
}

static void grad_div_broadcast(void **state) {
  (void)state;
  CHECK_GRADS(f_div, NULL, ck_randn(SHAPE(2, 3)), ck_uniform(SHAPE(3), 0.5f, 2));
  CHECK_GRADS(f_div, NULL, ck_randn(SHAPE(2, 1)), ck_uniform(SHAPE(1, 3), -2, -0.5f));
  CHECK_GRADS(f_div, NULL, ck_randn(SHAPE()), ck_uniform(SHAPE(2, 3), 0.5f, 2));
}

FN(f_add_s, lg_add_scalar(x[0], 0.75f))
FN(f_mul_s, lg_mul_scalar(x[0], -1.5f))
FN(f_rsub_s, lg_rsub_scalar(x[0], 2))
FN(f_rdiv_s, lg_rdiv_scalar(x[0], 3))
FN(f_neg, lg_neg(x[0]))

static void grad_scalar_ops(void **state) {
  (void)state;
  CHECK_GRADS(f_add_s, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_mul_s, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_rsub_s, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_rdiv_s, NULL, ck_uniform(SHAPE(2, 3), 0.5f, 2));
  CHECK_GRADS(f_neg, NULL, ck_randn(SHAPE(4)));
}

FN(f_exp, lg_exp(x[0]))
FN(f_log, lg_log(x[0]))
FN(f_sqrt, lg_sqrt(x[0]))
FN(f_abs, lg_abs(x[0]))
FN(f_sign, lg_sign(x[0]))

static void grad_exp_log_sqrt(void **state) {
  (void)state;
  CHECK_GRADS(f_exp, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_log, NULL, ck_uniform(SHAPE(2, 3), 0.5f, 3));
  CHECK_GRADS(f_sqrt, NULL, ck_uniform(SHAPE(3, 2), 0.5f, 3));
}

static void grad_abs_and_sign_away_from_zero(void **state) {
  (void)state;
  CHECK_GRADS(f_abs, NULL, ck_avoid(ck_randn(SHAPE(2, 3)), 0, 0.1f));
  CHECK_GRADS(f_sign, NULL, ck_avoid(ck_randn(SHAPE(2, 3)), 0, 0.1f));
}

static const float P_TWO = 2, P_THREE = 3, P_HALF = 0.5f, P_NEG = -1.5f;
FN(f_pow, lg_pow(x[0], *(const float *)ctx))

static void grad_pow(void **state) {
  (void)state;
  CHECK_GRADS(f_pow, &P_TWO, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_pow, &P_THREE, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_pow, &P_HALF, ck_uniform(SHAPE(2, 3), 0.5f, 3));
  CHECK_GRADS(f_pow, &P_NEG, ck_uniform(SHAPE(2, 3), 0.5f, 3));
}

FN(f_clamp, lg_clamp(x[0], -0.5f, 0.5f))
FN(f_clamp_lo, lg_clamp(x[0], 0.25f, INFINITY))
FN(f_relu, lg_relu(x[0]))
FN(f_leaky, lg_leaky_relu(x[0], 0.2f))

static void grad_kinked_ops_away_from_kinks(void **state) {
  (void)state;
  CHECK_GRADS(f_clamp, NULL, ck_avoid(ck_avoid(ck_randn(SHAPE(3, 4)), -0.5f, 0.1f), 0.5f, 0.1f));
  CHECK_GRADS(f_clamp_lo, NULL, ck_avoid(ck_randn(SHAPE(3, 4)), 0.25f, 0.1f));
  CHECK_GRADS(f_relu, NULL, ck_avoid(ck_randn(SHAPE(3, 4)), 0, 0.1f));
  CHECK_GRADS(f_leaky, NULL, ck_avoid(ck_randn(SHAPE(3, 4)), 0, 0.1f));
}

FN(f_sigmoid, lg_sigmoid(x[0]))
FN(f_tanh, lg_tanh(x[0]))
FN(f_softplus, lg_softplus(x[0]))

static void grad_smooth_activations(void **state) {
  (void)state;
  CHECK_GRADS(f_sigmoid, NULL, ck_uniform(SHAPE(3, 4), -4, 4));
  CHECK_GRADS(f_tanh, NULL, ck_uniform(SHAPE(3, 4), -2, 2));
  CHECK_GRADS(f_softplus, NULL, ck_uniform(SHAPE(3, 4), -4, 4));
}

/* The backward helpers are differentiable too (second-order gradients use them). */
FN(f_relu_grad, lg_relu_grad(x[0], (lg_tensor *)ctx, 0.2f))
FN(f_tanh_grad, lg_tanh_grad(x[0], x[1]))
FN(f_sigmoid_grad, lg_sigmoid_grad(x[0], x[1]))

static void grad_backward_helpers(void **state) {
  (void)state;
  lg_tensor *where = ck_randn(SHAPE(2, 3));
  CHECK_GRADS(f_relu_grad, where, ck_randn(SHAPE(2, 3)));
  lg_release(where);
  CHECK_GRADS(f_tanh_grad, NULL, ck_randn(SHAPE(2, 3)), ck_uniform(SHAPE(2, 3), -0.9f, 0.9f));
  CHECK_GRADS(f_sigmoid_grad, NULL, ck_randn(SHAPE(2, 3)), ck_uniform(SHAPE(3), 0.1f, 0.9f));
}

/* A chain of ops in 3-D with broadcasting: tanh(a * b + exp(b)). */
static lg_tensor *f_chain(lg_tensor **x, const void *ctx) {
  (void)ctx;
  lg_tensor *m = lg_mul(x[0], x[1]), *e = lg_exp(x[1]);
  lg_tensor *s = m && e ? lg_add(m, e) : NULL, *y = s ? lg_tanh(s) : NULL;
  lg_release(m), lg_release(e), lg_release(s);
  return y;
}

static void grad_composite_chain(void **state) {
  (void)state;
  CHECK_GRADS(f_chain, NULL, ck_randn(SHAPE(2, 1, 3)), ck_uniform(SHAPE(4, 1), -1, 0.5f));
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(binary_ops_broadcast_row),
      TEST(binary_ops_broadcast_column_by_row),
      TEST(binary_ops_with_zero_dim),
      TEST(binary_ops_on_noncontiguous_inputs),
      TEST(scalar_ops),
      TEST(unary_ops),
      TEST(smooth_activations),
      TEST(pow_values),
      TEST(clamp_values),
      TEST(extreme_inputs_stay_finite),
      TEST(log1p_within_a_few_ulp),
      TEST(empty_tensors_pass_through),
      TEST(grad_add_sub_broadcast),
      TEST(grad_mul_broadcast),
      TEST(grad_div_broadcast),
      TEST(grad_scalar_ops),
      TEST(grad_exp_log_sqrt),
      TEST(grad_abs_and_sign_away_from_zero),
      TEST(grad_pow),
      TEST(grad_kinked_ops_away_from_kinks),
      TEST(grad_smooth_activations),
      TEST(grad_backward_helpers),
      TEST(grad_composite_chain),
  };
  return cmocka_run_group_tests_name("elementwise", tests, NULL, NULL);
}
