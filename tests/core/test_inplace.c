/* Views by position (lg_select, lg_index_view) and the in-place kernels
** (lg_add_, lg_mul_, lg_div_, lg_lerp_, lg_clamp_, lg_scatter_,
** lg_index_copy_): values over strided and broadcast layouts, aliasing,
** version bumps, refusals, and gradients through the views. */
#include "check.h"

static uint64_t version(const lg_tensor *t) { return t->storage->version; }

static void select_and_index_view_values(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *row = CK(lg_select(t, 0, 1)), *col = CK(lg_select(t, 1, 2));
  EXPECT_SHAPE(row, 3);
  EXPECT_VALUES(row, 4, 5, 6);
  EXPECT_VALUES(col, 3, 6);
  assert_true(row->storage == t->storage);
  lg_range r[2] = {{0, 2, false}, {1, 1, true}};
  lg_tensor *v = CK(lg_index_view(t, 2, r));
  EXPECT_SHAPE(v, 2);
  EXPECT_VALUES(v, 2, 5);
  lg_tensor *all = CK(lg_index_view(t, 0, NULL));
  assert_true(all != t && all->storage == t->storage);
  EXPECT_SHAPE(all, 2, 3);
  EXPECT_ERR(lg_select(t, 0, 2), "select: index 2 out of range for dim 0 of size 2");
  EXPECT_ERR(lg_select(t, 2, 0), "select: dim 2 out of range");
  lg_range bad[1] = {{0, 2, true}};
  EXPECT_ERR(lg_index_view(t, 1, bad), "index: a dropped dim 0 must have length 1");
  lg_release(t), lg_release(row), lg_release(col), lg_release(v), lg_release(all);
}

FN(f_select, lg_select(x[0], 1, 2))
static lg_tensor *f_index(lg_tensor **x, const void *ctx) {
  (void)ctx;
  lg_range r[3] = {{1, 2, false}, {0, 1, true}, {1, 2, false}};
  return lg_index_view(x[0], 3, r);
}

static void gradients_through_views(void **state) {
  (void)state;
  CHECK_GRADS(f_select, NULL, ck_randn(SHAPE(3, 4)));   /* takes the inputs */
  CHECK_GRADS(f_index, NULL, ck_randn(SHAPE(3, 2, 4)));
}

static void arithmetic_broadcast_and_strided(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *b = TENSOR(SHAPE(3), 10, 20, 30), *c = TENSOR(SHAPE(2, 1), 2, 4);
  uint64_t v = version(t);
  assert_int_equal(lg_add_(t, b, 0.5f), 0);
  EXPECT_VALUES(t, 6, 12, 18, 9, 15, 21);
  assert_int_equal(lg_mul_(t, c), 0);
  EXPECT_VALUES(t, 12, 24, 36, 36, 60, 84);
  assert_int_equal(lg_div_(t, c), 0);
  EXPECT_VALUES(t, 6, 12, 18, 9, 15, 21);
  assert_true(version(t) == v + 3);
  /* a transposed destination */
  lg_tensor *tt = CK(lg_transpose(t, 0, 1)), *s = SCALAR(-1);
  assert_int_equal(lg_add_(tt, s, 1.0f), 0);
  EXPECT_VALUES(t, 5, 11, 17, 8, 14, 20);
  assert_int_equal(lg_clamp_(tt, 6, 15), 0);
  EXPECT_VALUES(t, 6, 11, 15, 8, 14, 15);
  EXPECT_RC_ERR(lg_clamp_(t, 2, 1), "clamp_: min 2 is greater than max 1");
  EXPECT_RC_ERR(lg_add_(b, t, 1.0f),
                "add_: shape [2,3] cannot broadcast to the destination's shape [3]");
  lg_release(t), lg_release(b), lg_release(c), lg_release(tt), lg_release(s);
}

static void lerp_matches_torch_form(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(3), 0, 10, 100), *e = TENSOR(SHAPE(3), 10, 20, 300);
  lg_tensor *w = TENSOR(SHAPE(3), 0.25f, 1, 0.75f);
  assert_int_equal(lg_lerp_(a, e, w), 0);
  EXPECT_VALUES(a, 2.5f, 20, 250);
  lg_release(a), lg_release(e), lg_release(w);
}

static void aliases_read_the_old_values(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 2), 1, 2, 3, 4);
  lg_tensor *tt = CK(lg_transpose(t, 0, 1));
  assert_int_equal(lg_add_(t, t, 1.0f), 0);      /* the same view: in place */
  EXPECT_VALUES(t, 2, 4, 6, 8);
  assert_int_equal(lg_add_(t, tt, 1.0f), 0);     /* another geometry: a copy first */
  EXPECT_VALUES(t, 4, 10, 10, 16);
  lg_tensor *v = CK(lg_arange(5));
  lg_tensor *hi = CK(lg_narrow(v, 0, 1, 4)), *lo = CK(lg_narrow(v, 0, 0, 4));
  assert_int_equal(lg_add_(hi, lo, 1.0f), 0);
  EXPECT_VALUES(v, 0, 1, 3, 5, 7);
  lg_release(t), lg_release(tt), lg_release(v), lg_release(hi), lg_release(lo);
}

static void expanded_destinations_are_refused(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(1, 2), 1, 2);
  lg_tensor *e = CK(lg_expand(t, SHAPE(3, 2))), *one = SCALAR(1);
  uint64_t v = version(t);
  EXPECT_RC_ERR(lg_add_(e, one, 1.0f), "add_: cannot write into the expanded tensor of shape [3,2]");
  EXPECT_RC_ERR(lg_scatter_(e, 0, one, one, false), "scatter_: cannot write into the expanded");
  assert_true(version(t) == v);
  EXPECT_VALUES(t, 1, 2);
  lg_release(t), lg_release(e), lg_release(one);
}

static void scatter_and_index_copy(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(2, 3)));
  lg_tensor *idx = TENSOR(SHAPE(2, 2), 2, 0, 1, 1), *src = TENSOR(SHAPE(2, 3), 1, 2, 9, 3, 4, 9);
  uint64_t v = version(x);
  assert_int_equal(lg_scatter_(x, 1, idx, src, false), 0);
  EXPECT_VALUES(x, 2, 0, 1, 0, 4, 0);                /* repeats: the last write wins */
  assert_int_equal(lg_scatter_(x, 1, idx, src, true), 0);
  EXPECT_VALUES(x, 4, 0, 2, 0, 11, 0);
  assert_true(version(x) == v + 2);
  lg_tensor *bad = TENSOR(SHAPE(2, 2), 0, 3, 0, 0), *nan = TENSOR(SHAPE(2, 2), 0, NAN, 0, 0);
  EXPECT_RC_ERR(lg_scatter_(x, 1, bad, src, false),
                "scatter_: index value 3 at position [0,1] is not a valid position along dim 1");
  EXPECT_RC_ERR(lg_scatter_(x, 1, nan, src, true), "scatter_add_: index value nan");
  assert_true(version(x) == v + 2);                  /* refused: nothing written */
  lg_tensor *rows = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6), *k = TENSOR(SHAPE(2), 1, 1);
  assert_int_equal(lg_index_copy_(x, 0, k, rows, true), 0);
  EXPECT_VALUES(x, 4, 0, 2, 5, 18, 9);
  lg_tensor *k2 = TENSOR(SHAPE(2), 1, 0);
  assert_int_equal(lg_index_copy_(x, 0, k2, x, false), 0);   /* src is dst: swap rows */
  EXPECT_VALUES(x, 5, 18, 9, 4, 0, 2);
  lg_tensor *k3 = TENSOR(SHAPE(1), 2);
  EXPECT_RC_ERR(lg_index_copy_(x, 0, k3, rows, false), "index_copy_: index of shape [1]");
  lg_release(x), lg_release(idx), lg_release(src), lg_release(bad), lg_release(nan);
  lg_release(rows), lg_release(k), lg_release(k2), lg_release(k3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(select_and_index_view_values),
      TEST(gradients_through_views),
      TEST(arithmetic_broadcast_and_strided),
      TEST(lerp_matches_torch_form),
      TEST(aliases_read_the_old_values),
      TEST(expanded_destinations_are_refused),
      TEST(scatter_and_index_copy),
  };
  return cmocka_run_group_tests_name("inplace", tests, NULL, NULL);
}
