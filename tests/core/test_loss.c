/* Losses: hand-computed values, extreme logits, gradients to second order. */
#include "check.h"

/* log(1 + e^x) without overflow, for the expected values */
static double softplus(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }

/* {====================================================== values */

static void bce_with_logits_values(void **state) {
  (void)state;
  lg_tensor *l = TENSOR(SHAPE(2, 2), 0, 2, -1, 0.5f), *t = TENSOR(SHAPE(2, 2), 1, 0, 1, 0.25f);
  lg_tensor *loss = CK(lg_bce_with_logits(l, t));
  /* per element: softplus(l) - l t */
  double e = (softplus(0) + softplus(2) + softplus(-1) + softplus(0.5) - (-1 + 0.125)) / 4;
  EXPECT_SHAPE(loss);
  EXPECT_VALUES(loss, (float)e);
  lg_release(l), lg_release(t), lg_release(loss);
}

static void bce_with_extreme_logits_stays_finite(void **state) {
  (void)state;
  lg_tensor *l = TENSOR(SHAPE(2), 100, -100);
  lg_tensor *wrong = TENSOR(SHAPE(2), 0, 1), *right = TENSOR(SHAPE(2), 1, 0);
  lg_tensor *lw = CK(lg_bce_with_logits(l, wrong)), *lr = CK(lg_bce_with_logits(l, right));
  EXPECT_VALUES(lw, 100);
  EXPECT_VALUES_TOL(lr, 1e-6, 0);
  assert_true(ck_get(lr, 0) >= 0);
  lg_release(l), lg_release(wrong), lg_release(right), lg_release(lw), lg_release(lr);
}

static void mse_and_l1_values(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(3), 1, 2, 3), *b = TENSOR(SHAPE(3), 2, 2, 5);
  lg_tensor *mse = CK(lg_mse(a, b)), *l1 = CK(lg_l1(a, b));
  EXPECT_SHAPE(mse);
  EXPECT_VALUES(mse, 5.0f / 3);
  EXPECT_VALUES(l1, 1);
  lg_tensor *a2 = TENSOR(SHAPE(2, 2), 0, 0, 1, -1), *b2 = TENSOR(SHAPE(2, 2), 1, 1, 1, 1);
  lg_tensor *a2t = ck_noncontig(a2), *m2 = CK(lg_mse(a2t, b2));
  EXPECT_VALUES(m2, 6.0f / 4);
  lg_release(a), lg_release(b), lg_release(mse), lg_release(l1), lg_release(a2);
  lg_release(b2), lg_release(a2t), lg_release(m2);
}

static void cross_entropy_takes_one_based_labels(void **state) {
  (void)state;
  lg_tensor *l = TENSOR(SHAPE(2, 3), 1, 2, 3, 1, 1, 1), *y = TENSOR(SHAPE(2), 3, 1);
  lg_tensor *loss = CK(lg_cross_entropy(l, y));
  double z = log(exp(1) + exp(2) + exp(3));
  EXPECT_SHAPE(loss);
  EXPECT_VALUES(loss, (float)(((z - 3) + log(3)) / 2));
  lg_release(l), lg_release(y), lg_release(loss);
}

static void cross_entropy_with_extreme_logits_stays_finite(void **state) {
  (void)state;
  lg_tensor *l = TENSOR(SHAPE(2, 2), 1000, 0, 0, -1000), *y = TENSOR(SHAPE(2), 2, 2);
  lg_tensor *loss = CK(lg_cross_entropy(l, y));
  EXPECT_VALUES(loss, 1000);
  lg_tensor *ok = TENSOR(SHAPE(2), 1, 1), *small = CK(lg_cross_entropy(l, ok));
  EXPECT_VALUES_TOL(small, 1e-6, 0);
  lg_release(l), lg_release(y), lg_release(loss), lg_release(ok), lg_release(small);
}

/* }====================================================== */

/* {====================================================== gradients */

FN(f_bce, lg_bce_with_logits(x[0], x[1]))
FN(f_bce_logits, lg_bce_with_logits(x[0], (lg_tensor *)ctx))
FN(f_mse, lg_mse(x[0], x[1]))
FN(f_l1, lg_l1(x[0], x[1]))
FN(f_cross_entropy, lg_cross_entropy(x[0], (lg_tensor *)ctx))

static void grad_bce_with_logits(void **state) {
  (void)state;
  lg_tensor *target = ck_rand(SHAPE(3, 2));
  CHECK_GRADS(f_bce_logits, target, ck_uniform(SHAPE(3, 2), -3, 3));
  lg_release(target);
  CHECK_GRADS(f_bce, NULL, ck_uniform(SHAPE(2, 3), -3, 3), ck_rand(SHAPE(2, 3)));
}

static void grad_mse(void **state) {
  (void)state;
  CHECK_GRADS(f_mse, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(2, 3)));
}

static void grad_l1_away_from_equal_values(void **state) {
  (void)state;
  lg_tensor *a = ck_randn(SHAPE(2, 3)), *d = ck_avoid(ck_randn(SHAPE(2, 3)), 0, 0.2f);
  lg_tensor *b = CK(lg_add(a, d));
  CHECK_GRADS(f_l1, NULL, a, b);
  lg_release(d);
}

static void grad_cross_entropy(void **state) {
  (void)state;
  lg_tensor *labels = TENSOR(SHAPE(4), 1, 3, 3, 2);
  CHECK_GRADS(f_cross_entropy, labels, ck_randn(SHAPE(4, 3)));
  lg_release(labels);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(bce_with_logits_values),
      TEST(bce_with_extreme_logits_stays_finite),
      TEST(mse_and_l1_values),
      TEST(cross_entropy_takes_one_based_labels),
      TEST(cross_entropy_with_extreme_logits_stays_finite),
      TEST(grad_bce_with_logits),
      TEST(grad_mse),
      TEST(grad_l1_away_from_equal_values),
      TEST(grad_cross_entropy),
  };
  return cmocka_run_group_tests_name("loss", tests, NULL, NULL);
}
