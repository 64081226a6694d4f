/* Reductions, max with indices, gather/scatter, softmax: values and gradients. */
#include "check.h"

#include <math.h>

/* {====================================================== values */

static void sum_and_mean(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 5, 3, 4, 2, 6);
  lg_tensor *r[] = {
      CK(lg_sum(t)),  CK(lg_sum_dim(t, 0, false)),  CK(lg_sum_dim(t, 1, false)),
      CK(lg_mean(t)), CK(lg_mean_dim(t, 0, false)), CK(lg_mean_dim(t, 1, true)),
      CK(lg_sum_dim(t, 0, true)),
  };
  EXPECT_SHAPE(r[0]);
  EXPECT_VALUES(r[0], 21);
  EXPECT_SHAPE(r[1], 3);
  EXPECT_VALUES(r[1], 5, 7, 9);
  EXPECT_SHAPE(r[2], 2);
  EXPECT_VALUES(r[2], 9, 12);
  EXPECT_SHAPE(r[3]);
  EXPECT_VALUES(r[3], 3.5f);
  EXPECT_VALUES(r[4], 2.5f, 3.5f, 4.5f);
  EXPECT_SHAPE(r[5], 2, 1);
  EXPECT_VALUES(r[5], 3, 4);
  EXPECT_SHAPE(r[6], 1, 3);
  EXPECT_VALUES(r[6], 5, 7, 9);
  for (int i = 0; i < 7; i++) lg_release(r[i]);
  lg_release(t);
}

static void sum_over_the_middle_dim_of_3d_and_strided(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3, 2), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
  lg_tensor *s = CK(lg_sum_dim(t, 1, false)), *nc = ck_noncontig(t);
  lg_tensor *snc = CK(lg_sum_dim(nc, 1, true)), *m = CK(lg_mean_dim(nc, 2, false));
  EXPECT_SHAPE(s, 2, 2);
  EXPECT_VALUES(s, 6, 9, 24, 27);
  EXPECT_SHAPE(snc, 2, 1, 2);
  EXPECT_VALUES(snc, 6, 9, 24, 27);
  EXPECT_VALUES(m, 0.5f, 2.5f, 4.5f, 6.5f, 8.5f, 10.5f);
  lg_release(t), lg_release(s), lg_release(nc), lg_release(snc), lg_release(m);
}

static void long_sum_is_accurate(void **state) {
  (void)state;
  lg_tensor *t = CK(lg_full(SHAPE(100000), 0.1f));
  lg_tensor *s = CK(lg_sum(t));
  EXPECT_VALUES_TOL(s, 1e-6, 100000 * 0.1f);
  lg_release(t), lg_release(s);
}

static void max_values_and_indices(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 5, 3, 4, 2, 6), *i1, *i0;
  lg_tensor *all = CK(lg_max(t));
  lg_tensor *m1 = CK(lg_max_dim(t, 1, false, &i1)), *m0 = CK(lg_max_dim(t, 0, true, &i0));
  EXPECT_VALUES(all, 6);
  EXPECT_SHAPE(m1, 2);
  EXPECT_VALUES(m1, 5, 6);
  EXPECT_VALUES(i1, 1, 2);
  EXPECT_SHAPE(m0, 1, 3);
  EXPECT_SHAPE(i0, 1, 3);
  EXPECT_VALUES(m0, 4, 5, 6);
  EXPECT_VALUES(i0, 1, 0, 1);
  assert_false(i1->requires_grad);
  lg_release(t), lg_release(all), lg_release(m1), lg_release(i1), lg_release(m0);
  lg_release(i0);
}

static void max_index_is_the_first_on_ties(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 2, 7, 7, 3, 3, 1), *i1, *i0;
  lg_tensor *m1 = CK(lg_max_dim(t, 1, false, &i1)), *m0 = CK(lg_max_dim(t, 0, false, &i0));
  EXPECT_VALUES(m1, 7, 3);
  EXPECT_VALUES(i1, 1, 0);
  EXPECT_VALUES(i0, 1, 0, 0);
  lg_tensor *neg = TENSOR(SHAPE(3), -5, -1, -3), *in;
  lg_tensor *mn = CK(lg_max_dim(neg, 0, false, &in));
  EXPECT_VALUES(mn, -1);
  EXPECT_VALUES(in, 1);
  lg_release(t), lg_release(m1), lg_release(i1), lg_release(m0), lg_release(i0);
  lg_release(neg), lg_release(mn), lg_release(in);
}

static void gather_and_scatter(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *idx = TENSOR(SHAPE(2, 2), 2, 0, 1, 1), *idx0 = TENSOR(SHAPE(1, 3), 1, 0, 1);
  lg_tensor *g1 = CK(lg_gather(t, 1, idx)), *g0 = CK(lg_gather(t, 0, idx0));
  EXPECT_SHAPE(g1, 2, 2);
  EXPECT_VALUES(g1, 3, 1, 5, 5);
  EXPECT_VALUES(g0, 4, 2, 6);
  lg_tensor *src = TENSOR(SHAPE(2, 2), 1, 2, 3, 4);
  lg_tensor *s = CK(lg_scatter(src, 1, idx, SHAPE(2, 3)));   /* duplicates add */
  EXPECT_VALUES(s, 2, 0, 1, 0, 7, 0);
  lg_release(t), lg_release(idx), lg_release(idx0), lg_release(g1), lg_release(g0);
  lg_release(src), lg_release(s);
}

static void softmax_rows_sum_to_one(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 2, 3, 0, 0, 0);
  lg_tensor *s = CK(lg_softmax(t, 1)), *ls = CK(lg_log_softmax(t, 1));
  float z = expf(1) + expf(2) + expf(3);
  EXPECT_VALUES(s, expf(1) / z, expf(2) / z, expf(3) / z, 1 / 3.f, 1 / 3.f, 1 / 3.f);
  EXPECT_VALUES(ls, 1 - logf(z), 2 - logf(z), 3 - logf(z), -logf(3), -logf(3), -logf(3));
  lg_tensor *cols = CK(lg_softmax(t, 0)), *colsum = CK(lg_sum_dim(cols, 0, false));
  EXPECT_VALUES(colsum, 1, 1, 1);
  EXPECT_VALUES(cols, 1 / (1 + expf(-1)), 1 / (1 + expf(-2)), 1 / (1 + expf(-3)),
                1 / (1 + expf(1)), 1 / (1 + expf(2)), 1 / (1 + expf(3)));
  lg_release(t), lg_release(s), lg_release(ls), lg_release(cols), lg_release(colsum);
}

static void softmax_is_stable_for_large_inputs(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1000, 1001, 1002, -1000, 0, 1000);
  lg_tensor *s = CK(lg_softmax(t, 1)), *ls = CK(lg_log_softmax(t, 1));
  float z = 1 + expf(1) + expf(2);
  EXPECT_VALUES(s, 1 / z, expf(1) / z, expf(2) / z, 0, 0, 1);
  EXPECT_VALUES_TOL(ls, 1e-5, -logf(z), 1 - logf(z), 2 - logf(z), -2000, -1000, 0);
  for (int i = 0; i < 6; i++) assert_true(isfinite(ck_get(ls, i)));
  lg_release(t), lg_release(s), lg_release(ls);
}

/* }====================================================== */

/* {====================================================== gradients */

static const int DIM0 = 0, DIM1 = 1, DIM2 = 2;
#define DIM (*(const int *)ctx)

FN(f_sum, lg_sum(x[0]))
FN(f_mean, lg_mean(x[0]))
FN(f_sum_dim, lg_sum_dim(x[0], DIM, false))
FN(f_sum_dim_keep, lg_sum_dim(x[0], DIM, true))
FN(f_mean_dim, lg_mean_dim(x[0], DIM, false))
FN(f_mean_dim_keep, lg_mean_dim(x[0], DIM, true))

static lg_tensor *max_values(lg_tensor *t, int dim, bool keepdim) {
  lg_tensor *idx = NULL, *v = lg_max_dim(t, dim, keepdim, &idx);
  lg_release(idx);
  return v;
}
FN(f_max, lg_max(x[0]))
FN(f_max_dim, max_values(x[0], DIM, false))
FN(f_max_dim_keep, max_values(x[0], DIM, true))

/* Linear ops get a square on top so that their second order is not trivial. */
static lg_tensor *squared(lg_tensor *t) {
  lg_tensor *y = t ? lg_mul(t, t) : NULL;
  lg_release(t);
  return y;
}
FN(f_sum_dim_sq, squared(lg_sum_dim(x[0], DIM, false)))
FN(f_max_dim_sq, squared(max_values(x[0], DIM, true)))

static void grad_sum_and_mean(void **state) {
  (void)state;
  const int *dims[] = {&DIM0, &DIM1, &DIM2};
  CHECK_GRADS(f_sum, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_mean, NULL, ck_randn(SHAPE(2, 3)));
  for (int d = 0; d < 3; d++) {
    CHECK_GRADS(f_sum_dim, dims[d], ck_randn(SHAPE(2, 3, 2)));
    CHECK_GRADS(f_sum_dim_keep, dims[d], ck_randn(SHAPE(2, 3, 2)));
    CHECK_GRADS(f_mean_dim, dims[d], ck_randn(SHAPE(2, 3, 2)));
    CHECK_GRADS(f_mean_dim_keep, dims[d], ck_randn(SHAPE(2, 3, 2)));
    CHECK_GRADS(f_sum_dim_sq, dims[d], ck_randn(SHAPE(2, 3, 2)));
  }
}

static void grad_max_away_from_ties(void **state) {
  (void)state;
  CHECK_GRADS(f_max, NULL, ck_spread(SHAPE(2, 3), -1, 0.3f));
  CHECK_GRADS(f_max_dim, &DIM1, ck_spread(SHAPE(3, 4), -2, 0.3f));
  CHECK_GRADS(f_max_dim, &DIM0, ck_spread(SHAPE(3, 4), -2, 0.3f));
  CHECK_GRADS(f_max_dim_keep, &DIM1, ck_spread(SHAPE(2, 3, 2), -2, 0.3f));
  CHECK_GRADS(f_max_dim_sq, &DIM2, ck_spread(SHAPE(2, 3, 2), -2, 0.3f));
}

FN(f_gather, lg_gather(x[0], 1, (lg_tensor *)ctx))
FN(f_scatter, lg_scatter(x[0], 1, (lg_tensor *)ctx, SHAPE(2, 4)))
FN(f_gather_sq, squared(lg_gather(x[0], 1, (lg_tensor *)ctx)))

static void grad_gather_and_scatter(void **state) {
  (void)state;
  lg_tensor *idx = TENSOR(SHAPE(2, 3), 3, 0, 3, 1, 1, 2);   /* repeats on purpose */
  CHECK_GRADS(f_gather, idx, ck_randn(SHAPE(2, 4)));
  CHECK_GRADS(f_gather_sq, idx, ck_randn(SHAPE(2, 4)));
  CHECK_GRADS(f_scatter, idx, ck_randn(SHAPE(2, 3)));
  lg_release(idx);
}

FN(f_softmax, lg_softmax(x[0], DIM))
FN(f_log_softmax, lg_log_softmax(x[0], DIM))

static void grad_softmax(void **state) {
  (void)state;
  CHECK_GRADS(f_softmax, &DIM1, ck_randn(SHAPE(3, 4)));
  CHECK_GRADS(f_softmax, &DIM0, ck_randn(SHAPE(3, 4)));
  CHECK_GRADS(f_log_softmax, &DIM1, ck_randn(SHAPE(3, 4)));
  CHECK_GRADS(f_log_softmax, &DIM0, ck_randn(SHAPE(2, 3, 2)));
  CHECK_GRADS(f_softmax, &DIM2, ck_randn(SHAPE(2, 2, 3)));
}

FN(f_logsumexp, lg_logsumexp(x[0], DIM, false))
FN(f_logsumexp_keep, lg_logsumexp(x[0], DIM, true))

/* logsumexp: stable at large values, -inf rows and empty dims; gradient softmax */
static void logsumexp_values_and_gradients(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(3, 2), 1000, 1000, -INFINITY, -INFINITY, 0, 0);
  lg_tensor *y = CK(lg_logsumexp(x, 1, false));
  EXPECT_SHAPE(y, 3);
  assert_float_equal(ck_get(y, 0), 1000 + logf(2), 1e-3);
  assert_true(isinf(ck_get(y, 1)) && ck_get(y, 1) < 0);
  assert_float_equal(ck_get(y, 2), logf(2), 1e-6);
  lg_tensor *empty = CK(lg_zeros(SHAPE(2, 0)));
  lg_tensor *e = CK(lg_logsumexp(empty, 1, true));
  EXPECT_SHAPE(e, 2, 1);
  assert_true(isinf(ck_get(e, 0)) && ck_get(e, 0) < 0);
  assert_null(lg_logsumexp(x, 2, false));
  assert_non_null(strstr(lg_errmsg(), "logsumexp"));
  lg_release(x), lg_release(y), lg_release(empty), lg_release(e);
  CHECK_GRADS(f_logsumexp, &DIM1, ck_randn(SHAPE(3, 4)));
  CHECK_GRADS(f_logsumexp_keep, &DIM0, ck_randn(SHAPE(2, 3, 2)));
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(sum_and_mean),
      TEST(sum_over_the_middle_dim_of_3d_and_strided),
      TEST(long_sum_is_accurate),
      TEST(max_values_and_indices),
      TEST(max_index_is_the_first_on_ties),
      TEST(gather_and_scatter),
      TEST(softmax_rows_sum_to_one),
      TEST(softmax_is_stable_for_large_inputs),
      TEST(grad_sum_and_mean),
      TEST(grad_max_away_from_ties),
      TEST(grad_gather_and_scatter),
      TEST(grad_softmax),
      TEST(logsumexp_values_and_gradients),
  };
  return cmocka_run_group_tests_name("reduce", tests, NULL, NULL);
}
