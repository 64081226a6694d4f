/* Size arithmetic that used to overflow (wrapped sizes, writes past buffers,
** UB in stride products) and NaN/Inf reaching float-to-int conversions: each
** request must come back as NULL / false with a message, never a crash. */
#include "check.h"
#include "internal.h"

#include <limits.h>

#define BIG ((int64_t)1 << 40)

static void the_checked_helpers_report_overflow(void **state) {
  (void)state;
  int64_t r;
  assert_true(lg_mul_ok(1 << 20, 1 << 20, &r) && r == BIG);
  assert_false(lg_mul_ok(INT64_MAX, 2, &r));
  assert_false(lg_mul_ok(BIG, BIG, &r));
  assert_true(lg_add_ok(INT64_MAX - 1, 1, &r) && r == INT64_MAX);
  assert_false(lg_add_ok(INT64_MAX, 1, &r));
  /* zeros count as ones: [0, 2^40, 2^40] still has a first stride of 2^80 */
  assert_false(lg_shape_span(3, (const int64_t[]){0, BIG, BIG}, INT64_MAX, &r));
  assert_true(lg_shape_span(3, (const int64_t[]){0, 7, BIG}, INT64_MAX, &r) && r == 7 * BIG);
  assert_false(lg_shape_span(1, (const int64_t[]){LG_MAX_NUMEL + 1}, LG_MAX_NUMEL, &r));
  /* (size + 2 pad - k) / stride + 1 */
  assert_true(lg_window_count(2, 2147483647, 1, 1, &r) && r == (int64_t)1 << 32);
  assert_true(lg_window_count(28, 1, 4, 2, &r) && r == 14);
  assert_false(lg_window_count(2, 0, 3, 1, &r));           /* the kernel does not fit */
  assert_false(lg_window_count(INT64_MAX, 1, 3, 1, &r));   /* size + 2 pad overflows */
  assert_false(lg_window_count(1, INT64_MAX / 2 + 1, 1, 1, &r));
}

static void check_shape_bounds_every_stride_even_of_an_empty_shape(void **state) {
  (void)state;
  lg_seterr("%s", "");
  assert_false(lg_check_shape("zeros", SHAPE(0, BIG, BIG)));
  assert_non_null(strstr(lg_errmsg(), "zeros: shape [0,1099511627776,1099511627776] is too "
                                      "large (its nonzero sizes multiply past 2^36 elements)"));
  assert_false(lg_check_shape("load", SHAPE(LG_MAX_NUMEL + 1)));
  assert_non_null(strstr(lg_errmsg(), "load: shape [68719476737] is too large"));
  assert_false(lg_check_shape("x", SHAPE(1 << 20, 1 << 20, 1 << 20, 1 << 20)));  /* 2^80 */
  assert_false(lg_check_shape("x", SHAPE(3, -2)));
  assert_non_null(strstr(lg_errmsg(), "x: negative size -2 in shape [3,-2]"));
  assert_true(lg_check_shape("x", SHAPE(1 << 18, 1 << 18)));     /* exactly 2^36: fine */
  assert_true(lg_check_shape("x", SHAPE(0, 1 << 30)));
  assert_false(lg_check_view_shape("x", SHAPE(BIG, BIG)));
  assert_true(lg_check_view_shape("x", SHAPE(INT64_MAX)));
  EXPECT_ERR(lg_zeros(SHAPE(0, BIG, BIG)), "empty: shape [0,1099511627776,1099511627776] is too large");
  EXPECT_ERR(lg_empty(SHAPE(BIG, 0, BIG)), "empty: shape [1099511627776,0,1099511627776]");
  EXPECT_ERR(lg_full(SHAPE((int64_t)1 << 37), 1.0f), "empty: shape [137438953472] is too large");
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 1 << 20, 3)));
  EXPECT_SHAPE(e, 0, 1 << 20, 3);
  assert_int_equal(e->stride[1], 3);
  assert_int_equal(e->numel, 0);
  lg_release(e);
}

static void view_and_reshape_check_the_product_before_taking_it(void **state) {
  (void)state;
  lg_tensor *t = CK(lg_zeros(SHAPE(4))), *e = CK(lg_zeros(SHAPE(0)));
  EXPECT_ERR(lg_view(t, SHAPE((int64_t)1 << 32, (int64_t)1 << 32)),
             "view: shape [4294967296,4294967296] is too large");
  EXPECT_ERR(lg_view(t, SHAPE((int64_t)1 << 31, (int64_t)1 << 31)),
             "view: shape [4] (4 elements) cannot become [2147483648,2147483648]");
  EXPECT_ERR(lg_view(e, SHAPE(BIG, BIG, 0)),
             "view: shape [1099511627776,1099511627776,0] is too large (its sizes multiply past 2^63)");
  EXPECT_ERR(lg_reshape(e, SHAPE(-1, BIG, BIG)), "reshape: shape [-1,1099511627776,1099511627776] is too large");
  EXPECT_ERR(lg_view(t, SHAPE(-1, INT64_MAX, 2)), "view", "too large");
  lg_tensor *v = CK(lg_view(t, SHAPE(2, -1)));
  EXPECT_SHAPE(v, 2, 2);
  lg_release(v), lg_release(t), lg_release(e);
}

static void narrow_compares_without_adding_start_and_length(void **state) {
  (void)state;
  lg_tensor *t = CK(lg_zeros(SHAPE(3, 4)));
  EXPECT_ERR(lg_narrow(t, 1, 2, INT64_MAX), "narrow: start 2, length 9223372036854775807");
  EXPECT_ERR(lg_narrow(t, 1, INT64_MAX, 1), "narrow: start 9223372036854775807, length 1");
  EXPECT_ERR(lg_narrow(t, 0, INT64_MIN, 2), "narrow");
  EXPECT_ERR(lg_narrow(t, 0, 1, INT64_MIN), "narrow");
  lg_tensor *n = CK(lg_narrow(t, 1, 4, 0));
  EXPECT_SHAPE(n, 3, 0);
  lg_release(n), lg_release(t);
}

static void expand_allows_big_views_but_not_overflowing_ones(void **state) {
  (void)state;
  lg_tensor *one = CK(lg_zeros(SHAPE(1, 1)));
  lg_tensor *v = CK(lg_expand(one, SHAPE((int64_t)1 << 31, (int64_t)1 << 31)));
  assert_int_equal(v->numel, (int64_t)1 << 62);
  EXPECT_ERR(lg_expand(one, SHAPE((int64_t)1 << 32, (int64_t)1 << 32, (int64_t)1 << 32)),
             "expand: shape [4294967296,4294967296,4294967296] is too large");
  lg_tensor *m = CK(lg_expand(one, SHAPE(INT64_MAX, 1)));
  assert_int_equal(m->numel, INT64_MAX);
  /* materialising such a view is refused before any malloc */
  EXPECT_ERR(lg_contiguous(v), "contiguous: shape [2147483648,2147483648] is too large");
  EXPECT_ERR(lg_exp(v), "exp: shape [2147483648,2147483648] is too large");
  EXPECT_ERR(lg_add(v, one), "add: shape [2147483648,2147483648] is too large");
  EXPECT_RC_ERR(lg_copy_(v, one), "copy: destination shape [2147483648,2147483648] is too large");
  lg_release(m), lg_release(v), lg_release(one);
}

static void cat_sums_the_joined_size_with_a_check(void **state) {
  (void)state;
  lg_tensor *one = CK(lg_zeros(SHAPE(1))), *small = CK(lg_zeros(SHAPE(1)));
  lg_tensor *v = CK(lg_expand(one, SHAPE((int64_t)1 << 62)));
  lg_tensor *w = CK(lg_expand(one, SHAPE(((int64_t)1 << 62) - 1)));
  /* 4 x 2^62 + 1 wrapped to 1: the copy then ran far past a 1-element output */
  EXPECT_ERR(lg_cat((lg_tensor *[]){v, v, v, v, small}, 5, 0),
             "cat: the joined size is too large (it passes 2^63 at tensor 2 of 5)");
  EXPECT_ERR(lg_cat((lg_tensor *[]){w, small}, 2, 0), "cat: shape [4611686018427387904] is too large");
  lg_tensor *ok = CK(lg_cat((lg_tensor *[]){small, small, small}, 3, 0));
  EXPECT_SHAPE(ok, 3);
  lg_release(ok), lg_release(v), lg_release(w), lg_release(one), lg_release(small);
}

static void conv_with_a_huge_padding_is_too_large_not_a_write_past_the_workspace(void **state) {
  (void)state;
  lg_tensor *x4 = CK(lg_zeros(SHAPE(1, 1, 4, 4))), *w3 = CK(lg_zeros(SHAPE(1, 1, 3, 3)));
  lg_tensor *x2 = CK(lg_zeros(SHAPE(1, 1, 2, 2))), *w0 = CK(lg_zeros(SHAPE(0, 1, 1, 1)));
  lg_tensor *w1 = CK(lg_zeros(SHAPE(1, 1, 1, 1)));
  lg_release(CK(lg_conv2d(x4, w3, NULL, NULL)));    /* leaves a workspace behind */
  lg_conv_opts huge = {{1, 1}, {INT_MAX, INT_MAX}, {0, 0}};
  EXPECT_ERR(lg_conv2d(x2, w0, NULL, &huge),
             "conv2d: image [1,1,2,2] and grid [1,0,4294967296,4294967296] (kernel 1x1, stride "
             "(1,1), padding (2147483647,2147483647)) are too large for the im2col workspace");
  EXPECT_ERR(lg_conv2d(x2, w1, NULL, &huge), "conv2d", "too large");
  lg_conv_opts big = {{1, 1}, {1 << 20, 1 << 20}, {0, 0}};
  int64_t g = ((int64_t)1 << 21) + 2;   /* the grid side at that padding */
  lg_tensor *gy = CK(lg_expand(w1, SHAPE(1, 1, g, g)));
  EXPECT_ERR(lg_conv2d_weight(x2, gy, 1, 1, &big),
             "conv2d_weight: image [1,1,2,2] and grid [1,1,2097154,2097154]", "too large");
  lg_release(gy);
  lg_conv_opts pad3 = {{1, 1}, {3, 3}, {0, 0}};
  lg_tensor *empty = CK(lg_conv2d(x2, w0, NULL, &pad3));
  EXPECT_SHAPE(empty, 1, 0, 8, 8);
  /* a kernel side past int (conv2d_weight takes int sides) */
  lg_tensor *tall_w = CK(lg_expand(w1, SHAPE(1, 1, (int64_t)1 << 31, 1)));
  EXPECT_ERR(lg_conv2d(x2, tall_w, NULL, NULL), "conv2d: kernel 2147483648x1 is too large");
  /* an expanded image whose padded height overflows int64 */
  lg_tensor *tall = CK(lg_expand(w1, SHAPE(1, 1, INT64_MAX, 1)));
  lg_conv_opts pad1 = {{1, 1}, {1, 1}, {0, 0}};
  EXPECT_ERR(lg_conv2d(tall, w1, NULL, &pad1), "conv2d: the padded input is too large");
  lg_release(empty), lg_release(tall_w), lg_release(tall);
  lg_release(x4), lg_release(w3), lg_release(x2), lg_release(w0), lg_release(w1);
}

static void conv_transpose_output_size_is_computed_with_checks(void **state) {
  (void)state;
  lg_tensor *w1 = CK(lg_zeros(SHAPE(1, 1, 1, 1)));
  lg_tensor *x = CK(lg_expand(w1, SHAPE(1, 1, (int64_t)1 << 33, 1)));
  lg_conv_opts s = {{INT_MAX, 1}, {0, 0}, {0, 0}};
  /* (2^33 - 1)(2^31 - 1) + 1 rows: past int64 */
  EXPECT_ERR(lg_conv_transpose2d(x, w1, NULL, &s),
             "conv_transpose2d: the output of input [1,1,8589934592,1] with stride "
             "(2147483647,1) is too large");
  lg_tensor *x2 = CK(lg_zeros(SHAPE(1, 1, 1 << 10, 1)));
  EXPECT_ERR(lg_conv_transpose2d(x2, w1, NULL, &s), "conv_transpose2d: shape [1,1,", "is too large");
  lg_release(x), lg_release(x2), lg_release(w1);
}

static void pools_and_upsampling_check_their_sizes(void **state) {
  (void)state;
  lg_tensor *one = CK(lg_zeros(SHAPE(1, 1, 1, 1)));
  lg_tensor *huge = CK(lg_expand(one, SHAPE(1, 1, (int64_t)1 << 61, 2)));
  lg_tensor *edge = CK(lg_expand(one, SHAPE(1, 1, INT64_MAX, 1)));
  lg_tensor *wide = CK(lg_expand(one, SHAPE(1, 1, 1 << 20, 1 << 10)));
  EXPECT_ERR(lg_max_pool2d(huge, 2, 2, 0), "max_pool2d: shape [1,1,2305843009213693952,2] is too large");
  EXPECT_ERR(lg_avg_pool2d(huge, 2, 2, 1), "avg_pool2d: shape [1,1,2305843009213693952,2]");
  EXPECT_ERR(lg_avg_pool2d(edge, 3, 1, 1), "avg_pool2d: the padded input is too large (padding 1)");
  EXPECT_ERR(lg_max_pool2d(edge, 3, 1, 1), "max_pool2d: the padded input is too large");
  EXPECT_ERR(lg_upsample_nearest(wide, 4096), "upsample_nearest: [1,1,1048576,1024] scaled by 4096 is too large");
  EXPECT_ERR(lg_upsample_nearest(edge, 2), "upsample_nearest", "too large");
  EXPECT_ERR(lg_avg_pool2d(one, INT_MAX, 1, INT_MAX / 2 - 1),
             "avg_pool2d: kernel size 2147483647 is larger than the padded input 2147483645x2147483645");
  lg_release(huge), lg_release(edge), lg_release(wide), lg_release(one);
}

/* {====================================================== NaN and Inf */

static void exp_tanh_sigmoid_softplus_of_nan_and_inf(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(4), NAN, INFINITY, -INFINITY, 0.0f);
  lg_tensor *e = CK(lg_exp(x)), *t = CK(lg_tanh(x)), *s = CK(lg_sigmoid(x));
  lg_tensor *sp = CK(lg_softplus(x)), *sm = CK(lg_softmax(x, 0));
  const float *ev = lg_data(e), *tv = lg_data(t), *sv = lg_data(s), *pv = lg_data(sp);
  assert_true(isnan(ev[0]) && ev[1] == INFINITY && ev[2] == 0.0f && ev[3] == 1.0f);
  assert_true(isnan(tv[0]) && tv[1] == 1.0f && tv[2] == -1.0f && tv[3] == 0.0f);
  assert_true(isnan(sv[0]) && sv[1] == 1.0f && sv[2] == 0.0f && sv[3] == 0.5f);
  assert_true(isnan(pv[0]) && pv[1] == INFINITY && pv[2] == 0.0f);
  assert_true(isnan(lg_data(sm)[0]));
  lg_release(e), lg_release(t), lg_release(s), lg_release(sp), lg_release(sm), lg_release(x);
}

static void indices_that_are_nan_inf_or_out_of_range_are_errors(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  const float bad[] = {NAN, INFINITY, -INFINITY, 1e30f, -1.0f, 3.0f, 0.5f};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    lg_tensor *idx = TENSOR(SHAPE(2, 1), 0, bad[i]), *sel = TENSOR(SHAPE(2), 1, bad[i]);
    EXPECT_ERR(lg_gather(t, 1, idx), "gather: index value", "is not a valid position");
    EXPECT_ERR(lg_index_select(t, 1, sel), "index_select: index value");
    EXPECT_ERR(lg_scatter(idx, 1, idx, SHAPE(2, 3)), "scatter: index value");
    lg_release(idx), lg_release(sel);
  }
  lg_tensor *logits = CK(lg_zeros(SHAPE(2, 3)));
  const float labels[] = {NAN, INFINITY, -INFINITY, 1e30f, 0.0f, 4.0f, 1.5f};
  for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
    lg_tensor *l = TENSOR(SHAPE(2), 1, labels[i]);
    EXPECT_ERR(lg_cross_entropy(logits, l), "cross_entropy: label", "at position 2");
    lg_release(l);
  }
  lg_release(logits), lg_release(t);
}

static void cross_entropy_checks_labels_again_in_backward(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(2, 3))), *labels = TENSOR(SHAPE(2), 1, 2);
  x->requires_grad = true;
  lg_tensor *loss = CK(lg_cross_entropy(x, labels));
  lg_data(labels)[1] = NAN;   /* the caller writes into the labels it passed */
  EXPECT_RC_ERR(lg_backward(loss, NULL, false), "cross_entropy: label", "at position 2 is not a class number");
  lg_release(loss), lg_release(labels), lg_release(x);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(the_checked_helpers_report_overflow),
      TEST(check_shape_bounds_every_stride_even_of_an_empty_shape),
      TEST(view_and_reshape_check_the_product_before_taking_it),
      TEST(narrow_compares_without_adding_start_and_length),
      TEST(expand_allows_big_views_but_not_overflowing_ones),
      TEST(cat_sums_the_joined_size_with_a_check),
      TEST(conv_with_a_huge_padding_is_too_large_not_a_write_past_the_workspace),
      TEST(conv_transpose_output_size_is_computed_with_checks),
      TEST(pools_and_upsampling_check_their_sizes),
      TEST(exp_tanh_sigmoid_softplus_of_nan_and_inf),
      TEST(indices_that_are_nan_inf_or_out_of_range_are_errors),
      TEST(cross_entropy_checks_labels_again_in_backward),
  };
  return cmocka_run_group_tests_name("overflow", tests, NULL, NULL);
}
