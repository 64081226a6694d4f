/* lg_dist_sum (ops_dist.c) with a stand-in hook: a job of three identical
** processes, whose sum is 3 x.  Forward values, the backward collective,
** first and second order gradients, and a failing hook's error. */
#include "check.h"
#include "dist.h"

#include <string.h>

static int calls;

/* three processes holding the same values */
static int times3(float *data, int64_t n, void *ctx) {
  (void)ctx;
  for (int64_t i = 0; i < n; i++) data[i] *= 3;
  calls++;
  return 0;
}

static int broken(float *data, int64_t n, void *ctx) {
  (void)data, (void)n;
  return lg_seterr("allreduce: %s", (const char *)ctx), -1;
}

static void without_hook_is_identity(void **state) {
  (void)state;
  lg_set_allreduce(NULL, NULL);
  lg_tensor *x = TENSOR(SHAPE(2, 2), 1, 2, 3, 4), *t = CK(lg_transpose(x, 0, 1));
  lg_tensor *y = CK(lg_dist_sum(t));
  EXPECT_VALUES(y, 1, 3, 2, 4);          /* contiguous copy of the transposed view */
  assert_ptr_not_equal(y->storage, x->storage);
  lg_release(x), lg_release(t), lg_release(y);
}

static void forward_and_backward_sum(void **state) {
  (void)state;
  lg_set_allreduce(times3, NULL);
  lg_tensor *x = TENSOR(SHAPE(3), 1, -2, 0.5f);
  x->requires_grad = true;
  calls = 0;
  lg_tensor *y = CK(lg_dist_sum(x));
  EXPECT_VALUES(y, 3, -6, 1.5f);
  assert_int_equal(calls, 1);
  lg_tensor *g = TENSOR(SHAPE(3), 1, 2, 3);
  assert_int_equal(lg_backward(y, g, false), 0);
  assert_int_equal(calls, 2);            /* backward is a collective too */
  EXPECT_VALUES(x->grad, 3, 6, 9);
  lg_release(x), lg_release(y), lg_release(g);
  lg_set_allreduce(NULL, NULL);
}

FN(f_dist_sum, lg_dist_sum(x[0]))
/* the sum times x: second order through the collective */
static lg_tensor *f_dist_sum_sq(lg_tensor **x, const void *ctx) {
  (void)ctx;
  lg_tensor *s = lg_dist_sum(x[0]), *y = s ? lg_mul(s, x[0]) : NULL;
  lg_release(s);
  return y;
}

static void grad_dist_sum(void **state) {
  (void)state;
  lg_set_allreduce(times3, NULL);
  CHECK_GRADS(f_dist_sum, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_dist_sum_sq, NULL, ck_randn(SHAPE(4)));
  lg_set_allreduce(NULL, NULL);
}

static void hook_error_is_reported(void **state) {
  (void)state;
  lg_set_allreduce(broken, "rank 1 is gone");
  lg_tensor *x = TENSOR(SHAPE(2), 1, 2);
  EXPECT_ERR(lg_dist_sum(x), "allreduce: rank 1 is gone");
  lg_set_allreduce(NULL, NULL);
  lg_release(x);
}

/* buckets: .grads (one missing, one a transposed view) packed in order
** with zeros for the missing one, and back divided, into the same tensors */
static void pack_and_unpack_grads(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2), 0, 0, 0, 0), *b = TENSOR(SHAPE(1), 0);
  lg_tensor *c = TENSOR(SHAPE(3), 0, 0, 0), *ps[3] = {a, b, c};
  lg_tensor *gt = TENSOR(SHAPE(2, 2), 1, 2, 3, 4);
  a->grad = CK(lg_transpose(gt, 0, 1));   /* non-contiguous: 1, 3, 2, 4 */
  c->grad = TENSOR(SHAPE(3), 5, 6, 7);
  float flat[8];
  lg_pack_grads(flat, 3, ps);
  const float want[8] = {1, 3, 2, 4, 0, 5, 6, 7};
  for (int i = 0; i < 8; i++) assert_float_equal(flat[i], want[i], 0);
  for (int i = 0; i < 8; i++) flat[i] = (float)(3 * i);
  uint64_t v = gt->storage->version;
  assert_int_equal(lg_unpack_grads(flat, 3, ps, 3.0f), 0);
  EXPECT_VALUES(gt, 0, 2, 1, 3);          /* written through the transposed view */
  assert_true(gt->storage->version > v);
  EXPECT_VALUES(b->grad, 4);              /* made for the parameter without one */
  EXPECT_VALUES(c->grad, 5, 6, 7);
  lg_release(gt);
  for (int i = 0; i < 3; i++) lg_release(ps[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(without_hook_is_identity),
      TEST(forward_and_backward_sum),
      TEST(grad_dist_sum),
      TEST(hook_error_is_reported),
      TEST(pack_and_unpack_grads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
