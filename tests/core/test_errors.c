/* Bad input at the C level returns NULL / -1 with a message naming the op and the shapes. */
#include "check.h"

static lg_tensor *zeros(int nd, const int64_t *shape) { return CK(lg_zeros(nd, shape)); }

static void binary_ops_reject_shapes_that_do_not_broadcast(void **state) {
  (void)state;
  lg_tensor *a = zeros(SHAPE(2, 3)), *b = zeros(SHAPE(4)), *c = zeros(SHAPE(3, 3));
  EXPECT_ERR(lg_add(a, b), "add", "[2,3]", "[4]");
  EXPECT_ERR(lg_mul(a, c), "mul", "[2,3]", "[3,3]");
  EXPECT_ERR(lg_div(b, a), "div", "[4]", "[2,3]");
  lg_release(a), lg_release(b), lg_release(c);
}

static void matmul_and_linear_reject_mismatched_shapes(void **state) {
  (void)state;
  lg_tensor *a = zeros(SHAPE(64, 100)), *b = zeros(SHAPE(64, 256));
  lg_tensor *a3 = zeros(SHAPE(2, 3, 4)), *b3 = zeros(SHAPE(3, 4, 5));
  lg_tensor *x = zeros(SHAPE(8, 5)), *w = zeros(SHAPE(3, 4)), *bias = zeros(SHAPE(4));
  lg_tensor *w5 = zeros(SHAPE(3, 5)), *d4 = zeros(SHAPE(1, 2, 3, 4));
  EXPECT_ERR(lg_matmul(a, b), "matmul", "[64,100]", "[64,256]");
  EXPECT_ERR(lg_matmul(a3, b3), "matmul", "[2,3,4]", "[3,4,5]");
  EXPECT_ERR(lg_matmul(d4, a), "matmul", "[1,2,3,4]");
  EXPECT_ERR(lg_linear(x, w, NULL), "linear", "[8,5]", "[3,4]");
  EXPECT_ERR(lg_linear(x, w5, bias), "linear", "[4]");
  lg_release(a), lg_release(b), lg_release(a3), lg_release(b3), lg_release(x), lg_release(w);
  lg_release(bias), lg_release(w5), lg_release(d4);
}

static void view_rejects_wrong_numel_and_non_viewable_layouts(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3)), *tt = CK(lg_transpose(t, 0, 1));
  EXPECT_ERR(lg_view(t, SHAPE(4, 2)), "view", "[2,3]", "[4,2]");
  EXPECT_ERR(lg_view(t, SHAPE(-1, -1)), "view", "-1");
  EXPECT_ERR(lg_view(t, SHAPE(4, -1)), "view", "[2,3]");
  EXPECT_ERR(lg_view(tt, SHAPE(6)), "view", "[3,2]", "reshape");
  EXPECT_ERR(lg_reshape(t, SHAPE(5)), "reshape", "[2,3]", "[5]");
  lg_release(t), lg_release(tt);
}

static void narrow_rejects_ranges_outside_the_dim(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3));
  EXPECT_ERR(lg_narrow(t, 1, 2, 2), "narrow", "[2,3]");
  EXPECT_ERR(lg_narrow(t, 0, -1, 1), "narrow", "[2,3]");
  EXPECT_ERR(lg_narrow(t, 2, 0, 1), "narrow", "[2,3]");
  lg_release(t);
}

static void permute_rejects_a_non_permutation(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3, 4));
  EXPECT_ERR(lg_permute(t, (const int[]){0, 0, 1}), "permute", "[2,3,4]");
  EXPECT_ERR(lg_permute(t, (const int[]){0, 1, 3}), "permute", "[2,3,4]");
  EXPECT_ERR(lg_transpose(t, 0, 3), "transpose", "[2,3,4]");
  lg_release(t);
}

static void expand_squeeze_unsqueeze_reject_bad_dims(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3));
  EXPECT_ERR(lg_expand(t, SHAPE(4, 3)), "expand", "[2,3]", "[4,3]");
  EXPECT_ERR(lg_unsqueeze(t, 3), "unsqueeze", "[2,3]");
  EXPECT_ERR(lg_squeeze(t, 2), "squeeze", "[2,3]");
  lg_release(t);
}

static void cat_rejects_mismatched_shapes(void **state) {
  (void)state;
  lg_tensor *a = zeros(SHAPE(2, 3)), *b = zeros(SHAPE(2, 4)), *c = zeros(SHAPE(3));
  EXPECT_ERR(lg_cat((lg_tensor *[]){a, b}, 2, 0), "cat", "[2,3]", "[2,4]");
  EXPECT_ERR(lg_cat((lg_tensor *[]){a, c}, 2, 0), "cat", "[3]");
  EXPECT_ERR(lg_cat((lg_tensor *[]){a, a}, 2, 2), "cat", "[2,3]");
  EXPECT_ERR(lg_cat(NULL, 0, 0), "cat");
  lg_release(a), lg_release(b), lg_release(c);
}

static void reductions_reject_dims_out_of_range(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3)), *s = CK(lg_scalar(1)), *idx = NULL;
  EXPECT_ERR(lg_sum_dim(t, 2, false), "sum", "dim 2", "[2,3]");
  EXPECT_ERR(lg_mean_dim(t, 5, true), "mean", "[2,3]");
  EXPECT_ERR(lg_max_dim(t, 2, false, &idx), "max", "[2,3]");
  EXPECT_ERR(lg_softmax(t, 2), "softmax", "[2,3]");
  EXPECT_ERR(lg_log_softmax(t, 3), "log_softmax", "[2,3]");
  EXPECT_ERR(lg_sum_dim(s, 0, false), "sum", "0-dim");
  lg_release(t), lg_release(s), lg_release(idx);
}

static void max_of_an_empty_tensor_is_an_error(void **state) {
  (void)state;
  lg_tensor *e = zeros(SHAPE(0, 3)), *idx = NULL;
  EXPECT_ERR(lg_max(e), "max", "[0,3]");
  EXPECT_ERR(lg_max_dim(e, 0, false, &idx), "max", "[0,3]");
  lg_release(e), lg_release(idx);
}

static void creation_rejects_negative_sizes_and_too_many_dims(void **state) {
  (void)state;
  EXPECT_ERR(lg_zeros(SHAPE(2, -1)), "negative size", "[2,-1]");
  EXPECT_ERR(lg_randn(SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1)), "9 dimensions", "8");
  EXPECT_ERR(lg_full(SHAPE(1 << 30, 1 << 30, 1 << 30), 0), "[1073741824,1073741824,1073741824]");
  EXPECT_ERR(lg_arange(-3), "arange", "-3");
  lg_tensor *t = zeros(SHAPE(2, 3));
  EXPECT_ERR(lg_view(t, SHAPE(1, 1, 1, 1, 1, 1, 2, 3, 1)), "view", "9");
  lg_release(t);
}

static void backward_rejects_implied_and_mismatched_gradients(void **state) {
  (void)state;
  lg_tensor *x = zeros(SHAPE(2, 3));
  x->requires_grad = true;
  lg_tensor *y = CK(lg_mul_scalar(x, 2)), *g = zeros(SHAPE(3, 2)), *c = zeros(SHAPE(2));
  EXPECT_RC_ERR(lg_backward(y, NULL, false), "backward", "[2,3]");
  EXPECT_RC_ERR(lg_backward(y, g, false), "backward", "[3,2]", "[2,3]");
  EXPECT_RC_ERR(lg_backward(c, NULL, false), "backward", "require");
  lg_tensor *r = NULL;
  EXPECT_RC_ERR(lg_grad(1, &y, &g, 1, &c, &r, false, false), "grad", "require");
  assert_null(r);
  assert_null(x->grad);
  lg_release(x), lg_release(y), lg_release(g), lg_release(c);
}

static void losses_reject_mismatched_shapes(void **state) {
  (void)state;
  lg_tensor *a = zeros(SHAPE(4, 1)), *b = zeros(SHAPE(4)), *c = zeros(SHAPE(3, 1));
  EXPECT_ERR(lg_mse(a, b), "mse", "[4,1]", "[4]");
  EXPECT_ERR(lg_l1(a, c), "l1", "[4,1]", "[3,1]");
  EXPECT_ERR(lg_bce_with_logits(a, b), "bce_with_logits", "[4,1]", "[4]");
  lg_release(a), lg_release(b), lg_release(c);
}

static void cross_entropy_rejects_bad_labels(void **state) {
  (void)state;
  lg_tensor *logits = zeros(SHAPE(2, 3));
  lg_tensor *high = TENSOR(SHAPE(2), 1, 4), *zero = TENSOR(SHAPE(2), 0, 1);
  lg_tensor *frac = TENSOR(SHAPE(2), 1, 1.5f), *nan = TENSOR(SHAPE(2), NAN, 1);
  lg_tensor *wrong = TENSOR(SHAPE(3), 1, 1, 1), *flat = zeros(SHAPE(3));
  EXPECT_ERR(lg_cross_entropy(logits, high), "cross_entropy", "4", "1..3");
  EXPECT_ERR(lg_cross_entropy(logits, zero), "cross_entropy", "0", "1..3");
  EXPECT_ERR(lg_cross_entropy(logits, frac), "cross_entropy", "1.5");
  EXPECT_ERR(lg_cross_entropy(logits, nan), "cross_entropy");
  EXPECT_ERR(lg_cross_entropy(logits, wrong), "cross_entropy", "[2,3]", "[3]");
  EXPECT_ERR(lg_cross_entropy(flat, wrong), "cross_entropy", "[3]");
  lg_release(logits), lg_release(high), lg_release(zero), lg_release(frac), lg_release(nan);
  lg_release(wrong), lg_release(flat);
}

static void clamp_rejects_min_above_max(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2));
  EXPECT_ERR(lg_clamp(t, 1, -1), "clamp", "1", "-1");
  lg_release(t);
}

static void gather_and_scatter_reject_bad_indices(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3)), *far = TENSOR(SHAPE(2, 1), 0, 3);
  lg_tensor *neg = TENSOR(SHAPE(2, 1), -1, 0), *big = zeros(SHAPE(3, 1));
  lg_tensor *src = zeros(SHAPE(2, 2));
  EXPECT_ERR(lg_gather(t, 1, far), "gather", "3", "[2,3]");
  EXPECT_ERR(lg_gather(t, 1, neg), "gather", "-1");
  EXPECT_ERR(lg_gather(t, 1, big), "gather", "[3,1]", "[2,3]");
  EXPECT_ERR(lg_gather(t, 2, far), "gather", "[2,3]");
  EXPECT_ERR(lg_scatter(src, 1, far, SHAPE(2, 3)), "scatter", "[2,2]", "[2,1]");
  EXPECT_ERR(lg_scatter(far, 1, far, SHAPE(2, 3)), "scatter", "3");
  lg_release(t), lg_release(far), lg_release(neg), lg_release(big), lg_release(src);
}

static void sum_to_and_copy_reject_non_broadcast_shapes(void **state) {
  (void)state;
  lg_tensor *t = zeros(SHAPE(2, 3)), *d = zeros(SHAPE(4));
  EXPECT_ERR(lg_sum_to(t, SHAPE(2)), "sum_to", "[2,3]", "[2]");
  EXPECT_ERR(lg_narrow_scatter(t, SHAPE(2, 3), 1, 1), "narrow_scatter", "[2,3]");
  EXPECT_RC_ERR(lg_copy_(d, t), "copy", "[2,3]", "[4]");
  lg_release(t), lg_release(d);
}

static void failed_ops_leave_no_graph_and_no_leak(void **state) {
  (void)state;   /* the teardown checks the storage bytes */
  lg_tensor *a = zeros(SHAPE(2, 3)), *b = zeros(SHAPE(4));
  a->requires_grad = true;
  for (int i = 0; i < 10; i++) EXPECT_ERR(lg_add(a, b), "add");
  lg_release(a), lg_release(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(binary_ops_reject_shapes_that_do_not_broadcast),
      TEST(matmul_and_linear_reject_mismatched_shapes),
      TEST(view_rejects_wrong_numel_and_non_viewable_layouts),
      TEST(narrow_rejects_ranges_outside_the_dim),
      TEST(permute_rejects_a_non_permutation),
      TEST(expand_squeeze_unsqueeze_reject_bad_dims),
      TEST(cat_rejects_mismatched_shapes),
      TEST(reductions_reject_dims_out_of_range),
      TEST(max_of_an_empty_tensor_is_an_error),
      TEST(creation_rejects_negative_sizes_and_too_many_dims),
      TEST(backward_rejects_implied_and_mismatched_gradients),
      TEST(losses_reject_mismatched_shapes),
      TEST(cross_entropy_rejects_bad_labels),
      TEST(clamp_rejects_min_above_max),
      TEST(gather_and_scatter_reject_bad_indices),
      TEST(sum_to_and_copy_reject_non_broadcast_shapes),
      TEST(failed_ops_leave_no_graph_and_no_leak),
  };
  return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
