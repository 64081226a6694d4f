/* matmul in every supported rank combination, and linear: values and gradients. */
#include "check.h"

/* {====================================================== values */

static void matmul_2d(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2), 1, 2, 3, 4), *b = TENSOR(SHAPE(2, 2), 5, 6, 7, 8);
  lg_tensor *c = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6), *d = TENSOR(SHAPE(3, 2), 1, 0, 0, 1, 1, 1);
  lg_tensor *ab = CK(lg_matmul(a, b)), *cd = CK(lg_matmul(c, d)), *dc = CK(lg_matmul(d, c));
  EXPECT_VALUES(ab, 19, 22, 43, 50);
  EXPECT_SHAPE(cd, 2, 2);
  EXPECT_VALUES(cd, 4, 5, 10, 11);
  EXPECT_SHAPE(dc, 3, 3);
  EXPECT_VALUES(dc, 1, 2, 3, 4, 5, 6, 5, 7, 9);
  lg_release(a), lg_release(b), lg_release(c), lg_release(d), lg_release(ab), lg_release(cd);
  lg_release(dc);
}

static void matmul_with_transposed_operands(void **state) {
  (void)state;
  lg_tensor *c = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *ct = CK(lg_transpose(c, 0, 1));
  lg_tensor *ctc = CK(lg_matmul(ct, c)), *cct = CK(lg_matmul(c, ct));
  EXPECT_SHAPE(ctc, 3, 3);
  EXPECT_VALUES(ctc, 17, 22, 27, 22, 29, 36, 27, 36, 45);
  EXPECT_VALUES(cct, 14, 32, 32, 77);
  lg_tensor *ctt = ck_noncontig_step(ct);   /* every other element: no BLAS layout */
  lg_tensor *r = CK(lg_matmul(c, ctt));
  EXPECT_VALUES(r, 14, 32, 32, 77);
  lg_release(c), lg_release(ct), lg_release(ctc), lg_release(cct), lg_release(ctt);
  lg_release(r);
}

static void matmul_batched(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2, 2), 1, 2, 3, 4, 1, 0, 0, 1);
  lg_tensor *b = TENSOR(SHAPE(2, 2, 2), 5, 6, 7, 8, 2, 3, 4, 5);
  lg_tensor *ab = CK(lg_matmul(a, b));
  EXPECT_SHAPE(ab, 2, 2, 2);
  EXPECT_VALUES(ab, 19, 22, 43, 50, 2, 3, 4, 5);
  lg_tensor *m = TENSOR(SHAPE(2, 3), 1, 0, 1, 0, 1, 1);
  lg_tensor *am = CK(lg_matmul(a, m));   /* [b,m,k] x [k,n] */
  EXPECT_SHAPE(am, 2, 2, 3);
  EXPECT_VALUES(am, 1, 2, 3, 3, 4, 7, 1, 0, 1, 0, 1, 1);
  lg_release(a), lg_release(b), lg_release(ab), lg_release(m), lg_release(am);
}

static void matmul_1d_operands(void **state) {
  (void)state;
  lg_tensor *v = TENSOR(SHAPE(2), 1, 2), *m = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *u = TENSOR(SHAPE(3), 1, 0, -1);
  lg_tensor *vm = CK(lg_matmul(v, m)), *mu = CK(lg_matmul(m, u)), *vv = CK(lg_matmul(v, v));
  EXPECT_SHAPE(vm, 3);
  EXPECT_VALUES(vm, 9, 12, 15);
  EXPECT_SHAPE(mu, 2);
  EXPECT_VALUES(mu, -2, -2);
  EXPECT_SHAPE(vv);
  EXPECT_VALUES(vv, 5);
  lg_release(v), lg_release(m), lg_release(u), lg_release(vm), lg_release(mu), lg_release(vv);
}

static void matmul_larger_than_a_block(void **state) {
  (void)state;   /* against a plain triple loop, sizes that are not multiples of anything */
  lg_tensor *a = ck_randn(SHAPE(37, 53)), *b = ck_randn(SHAPE(53, 29));
  lg_tensor *c = CK(lg_matmul(a, b));
  for (int i = 0; i < 37; i++)
    for (int j = 0; j < 29; j++) {
      double s = 0;
      for (int k = 0; k < 53; k++) s += (double)lg_data(a)[i * 53 + k] * lg_data(b)[k * 29 + j];
      assert_float_equal(ck_get(c, i * 29 + j), s, 1e-4 * (1 + fabs(s)));
    }
  lg_release(a), lg_release(b), lg_release(c);
}

static void linear_with_and_without_bias(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *w = TENSOR(SHAPE(2, 3), 1, 0, -1, 0.5f, 0.5f, 0.5f), *b = TENSOR(SHAPE(2), 10, 20);
  lg_tensor *y = CK(lg_linear(x, w, b)), *y0 = CK(lg_linear(x, w, NULL));
  EXPECT_SHAPE(y, 2, 2);
  EXPECT_VALUES(y, 8, 23, 8, 27.5f);
  EXPECT_VALUES(y0, -2, 3, -2, 7.5f);
  lg_tensor *x1 = TENSOR(SHAPE(3), 1, 2, 3), *y1 = CK(lg_linear(x1, w, b));
  EXPECT_SHAPE(y1, 2);
  EXPECT_VALUES(y1, 8, 23);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y), lg_release(y0);
  lg_release(x1), lg_release(y1);
}

/* }====================================================== */

/* {====================================================== gradients */

FN(f_matmul, lg_matmul(x[0], x[1]))
FN(f_linear, lg_linear(x[0], x[1], x[2]))
FN(f_linear_nobias, lg_linear(x[0], x[1], NULL))

static lg_tensor *tanh_of(lg_tensor *t) {   /* nonlinear on top: second order is not trivial */
  lg_tensor *y = t ? lg_tanh(t) : NULL;
  lg_release(t);
  return y;
}
FN(f_matmul_tanh, tanh_of(lg_matmul(x[0], x[1])))
FN(f_linear_tanh, tanh_of(lg_linear(x[0], x[1], x[2])))

static void grad_matmul(void **state) {
  (void)state;
  CHECK_GRADS(f_matmul, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(3, 4)));
  CHECK_GRADS(f_matmul, NULL, ck_randn(SHAPE(2, 2, 3)), ck_randn(SHAPE(2, 3, 2)));
  CHECK_GRADS(f_matmul, NULL, ck_randn(SHAPE(2, 2, 3)), ck_randn(SHAPE(3, 2)));
  CHECK_GRADS(f_matmul, NULL, ck_randn(SHAPE(3)), ck_randn(SHAPE(3, 2)));
  CHECK_GRADS(f_matmul, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_matmul, NULL, ck_randn(SHAPE(3)), ck_randn(SHAPE(3)));
}

static void grad_matmul_second_order_through_tanh(void **state) {
  (void)state;
  CHECK_GRADS(f_matmul_tanh, NULL, ck_randn(SHAPE(2, 3)), ck_uniform(SHAPE(3, 2), -0.5f, 0.5f));
  CHECK_GRADS(f_matmul_tanh, NULL, ck_randn(SHAPE(2, 2, 3)),
              ck_uniform(SHAPE(3, 2), -0.5f, 0.5f));
}

static void grad_linear(void **state) {
  (void)state;
  CHECK_GRADS(f_linear, NULL, ck_randn(SHAPE(3, 4)), ck_randn(SHAPE(2, 4)), ck_randn(SHAPE(2)));
  CHECK_GRADS(f_linear, NULL, ck_randn(SHAPE(4)), ck_randn(SHAPE(2, 4)), ck_randn(SHAPE(2)));
  CHECK_GRADS(f_linear_nobias, NULL, ck_randn(SHAPE(3, 4)), ck_randn(SHAPE(2, 4)));
  CHECK_GRADS(f_linear_tanh, NULL, ck_randn(SHAPE(3, 4)), ck_uniform(SHAPE(2, 4), -0.5f, 0.5f),
              ck_randn(SHAPE(2)));
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(matmul_2d),
      TEST(matmul_with_transposed_operands),
      TEST(matmul_batched),
      TEST(matmul_1d_operands),
      TEST(matmul_larger_than_a_block),
      TEST(linear_with_and_without_bias),
      TEST(grad_matmul),
      TEST(grad_matmul_second_order_through_tanh),
      TEST(grad_linear),
  };
  return cmocka_run_group_tests_name("matmul", tests, NULL, NULL);
}
