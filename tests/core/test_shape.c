/* Views share storage, copies do not; cat, sum_to, narrow_scatter; gradients. */
#include "check.h"

static lg_tensor *iota(int nd, const int64_t *shape) {   /* 0, 1, 2, ... */
  lg_tensor *t = CK(lg_empty(nd, shape));
  for (int64_t i = 0; i < t->numel; i++) lg_data(t)[i] = (float)i;
  return t;
}

/* Writes v through the view at element k and checks that base shows it at bk. */
static void expect_shared(lg_tensor *view, int64_t k, lg_tensor *base, int64_t bk) {
  assert_ptr_equal(view->storage, base->storage);
  *ck_at(view, k) = 100;
  assert_float_equal(ck_get(base, bk), 100, 0);
}

/* {====================================================== views */

static void view_shares_storage(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3));
  lg_tensor *v = CK(lg_view(b, SHAPE(3, 2))), *inferred = CK(lg_view(b, SHAPE(-1)));
  EXPECT_SHAPE(v, 3, 2);
  EXPECT_VALUES(v, 0, 1, 2, 3, 4, 5);
  EXPECT_SHAPE(inferred, 6);
  expect_shared(v, 3, b, 3);
  lg_release(b), lg_release(v), lg_release(inferred);
}

static void transpose_and_permute_share_storage(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3));
  lg_tensor *t = CK(lg_transpose(b, 0, 1));
  EXPECT_SHAPE(t, 3, 2);
  EXPECT_VALUES(t, 0, 3, 1, 4, 2, 5);
  assert_false(lg_is_contiguous(t));
  expect_shared(t, 1, b, 3);   /* t[0,1] is b[1,0] */
  lg_release(b), lg_release(t);

  lg_tensor *c = iota(SHAPE(2, 3, 4));
  lg_tensor *p = CK(lg_permute(c, (const int[]){2, 0, 1}));
  EXPECT_SHAPE(p, 4, 2, 3);
  /* p[i,j,k] = c[j,k,i] = 12 j + 4 k + i */
  assert_float_equal(ck_get(p, 1 * 6 + 1 * 3 + 2), 12 + 8 + 1, 0);
  expect_shared(p, 1 * 6 + 1 * 3 + 2, c, 21);
  lg_release(c), lg_release(p);
}

static void narrow_shares_storage(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(3, 4));
  lg_tensor *rows = CK(lg_narrow(b, 0, 1, 2)), *cols = CK(lg_narrow(b, 1, 1, 2));
  EXPECT_SHAPE(rows, 2, 4);
  EXPECT_VALUES(rows, 4, 5, 6, 7, 8, 9, 10, 11);
  EXPECT_SHAPE(cols, 3, 2);
  EXPECT_VALUES(cols, 1, 2, 5, 6, 9, 10);
  expect_shared(cols, 3, b, 6);
  lg_tensor *empty = CK(lg_narrow(b, 1, 4, 0));
  EXPECT_SHAPE(empty, 3, 0);
  lg_release(b), lg_release(rows), lg_release(cols), lg_release(empty);
}

static void expand_squeeze_unsqueeze_share_storage(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(3));
  lg_tensor *u0 = CK(lg_unsqueeze(b, 0)), *u1 = CK(lg_unsqueeze(b, 1));
  EXPECT_SHAPE(u0, 1, 3);
  EXPECT_SHAPE(u1, 3, 1);
  lg_tensor *e = CK(lg_expand(u0, SHAPE(2, 3))), *e1 = CK(lg_expand(u1, SHAPE(3, 4)));
  EXPECT_VALUES(e, 0, 1, 2, 0, 1, 2);
  EXPECT_VALUES(e1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2);
  assert_int_equal(e->stride[0], 0);
  lg_tensor *sq = CK(lg_squeeze(u1, 1));
  EXPECT_SHAPE(sq, 3);
  expect_shared(sq, 2, b, 2);
  expect_shared(e, 4, b, 1);    /* e[1,1] is b[1] */
  assert_float_equal(ck_get(e, 1), 100, 0);
  lg_release(b), lg_release(u0), lg_release(u1), lg_release(e), lg_release(e1);
  lg_release(sq);
}

static void detach_shares_storage_without_graph(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 2));
  b->requires_grad = true;
  lg_tensor *d = CK(lg_detach(b));
  assert_false(d->requires_grad);
  assert_null(d->grad_fn);
  expect_shared(d, 0, b, 0);
  lg_release(b), lg_release(d);
}

/* }====================================================== */

/* {====================================================== copies */

static void contiguous_returns_self_or_a_copy(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3));
  lg_tensor *same = CK(lg_contiguous(b));
  assert_ptr_equal(same, b);
  lg_tensor *t = CK(lg_transpose(b, 0, 1)), *c = CK(lg_contiguous(t));
  assert_true(lg_is_contiguous(c));
  assert_ptr_not_equal(c->storage, b->storage);
  EXPECT_VALUES(c, 0, 3, 1, 4, 2, 5);
  lg_release(b), lg_release(same), lg_release(t), lg_release(c);
}

static void clone_copies(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3)), *t = CK(lg_transpose(b, 0, 1));
  lg_tensor *c = CK(lg_clone(b)), *ct = CK(lg_clone(t));
  assert_ptr_not_equal(c->storage, b->storage);
  *ck_at(c, 0) = 100;
  assert_float_equal(ck_get(b, 0), 0, 0);
  EXPECT_VALUES(ct, 0, 3, 1, 4, 2, 5);
  lg_release(b), lg_release(t), lg_release(c), lg_release(ct);
}

static void reshape_views_when_it_can_and_copies_otherwise(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3));
  lg_tensor *r = CK(lg_reshape(b, SHAPE(3, -1)));
  EXPECT_SHAPE(r, 3, 2);
  assert_ptr_equal(r->storage, b->storage);
  lg_tensor *t = CK(lg_transpose(b, 0, 1)), *rt = CK(lg_reshape(t, SHAPE(6)));
  EXPECT_VALUES(rt, 0, 3, 1, 4, 2, 5);
  assert_ptr_not_equal(rt->storage, b->storage);
  lg_release(b), lg_release(r), lg_release(t), lg_release(rt);
}

/* }====================================================== */

/* {====================================================== cat, sum_to, narrow_scatter */

static void cat_along_each_dim(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2), 1, 2, 3, 4), *b = TENSOR(SHAPE(1, 2), 5, 6);
  lg_tensor *c = TENSOR(SHAPE(2, 1), 7, 8);
  lg_tensor *d0 = CK(lg_cat((lg_tensor *[]){a, b}, 2, 0));
  lg_tensor *d1 = CK(lg_cat((lg_tensor *[]){a, c, a}, 3, 1));
  EXPECT_SHAPE(d0, 3, 2);
  EXPECT_VALUES(d0, 1, 2, 3, 4, 5, 6);
  EXPECT_SHAPE(d1, 2, 5);
  EXPECT_VALUES(d1, 1, 2, 7, 1, 2, 3, 4, 8, 3, 4);
  lg_tensor *at = CK(lg_transpose(a, 0, 1));   /* non-contiguous pieces */
  lg_tensor *d2 = CK(lg_cat((lg_tensor *[]){at, c}, 2, 1));
  EXPECT_VALUES(d2, 1, 3, 7, 2, 4, 8);
  lg_release(a), lg_release(b), lg_release(c), lg_release(d0), lg_release(d1);
  lg_release(at), lg_release(d2);
}

static void cat_along_last_dim_of_3d(void **state) {
  (void)state;
  lg_tensor *a = iota(SHAPE(2, 1, 2)), *b = iota(SHAPE(2, 1, 1));
  lg_tensor *c = CK(lg_cat((lg_tensor *[]){a, b}, 2, 2));
  EXPECT_SHAPE(c, 2, 1, 3);
  EXPECT_VALUES(c, 0, 1, 0, 2, 3, 1);
  lg_release(a), lg_release(b), lg_release(c);
}

static void sum_to_inverts_broadcasting(void **state) {
  (void)state;
  lg_tensor *g = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *row = CK(lg_sum_to(g, SHAPE(3))), *col = CK(lg_sum_to(g, SHAPE(2, 1)));
  lg_tensor *one = CK(lg_sum_to(g, SHAPE(1, 3))), *all = CK(lg_sum_to(g, SHAPE()));
  lg_tensor *same = CK(lg_sum_to(g, SHAPE(2, 3)));
  EXPECT_VALUES(row, 5, 7, 9);
  EXPECT_SHAPE(col, 2, 1);
  EXPECT_VALUES(col, 6, 15);
  EXPECT_SHAPE(one, 1, 3);
  EXPECT_VALUES(one, 5, 7, 9);
  EXPECT_SHAPE(all);
  EXPECT_VALUES(all, 21);
  EXPECT_VALUES(same, 1, 2, 3, 4, 5, 6);
  lg_release(g), lg_release(row), lg_release(col), lg_release(one), lg_release(all);
  lg_release(same);
}

static void narrow_scatter_places_the_slice(void **state) {
  (void)state;
  lg_tensor *g = TENSOR(SHAPE(2, 1), 7, 8);
  lg_tensor *s = CK(lg_narrow_scatter(g, SHAPE(2, 3), 1, 1));
  EXPECT_VALUES(s, 0, 7, 0, 0, 8, 0);
  lg_tensor *r = TENSOR(SHAPE(1, 2), 5, 6);
  lg_tensor *s0 = CK(lg_narrow_scatter(r, SHAPE(3, 2), 0, 2));
  EXPECT_VALUES(s0, 0, 0, 0, 0, 5, 6);
  lg_release(g), lg_release(s), lg_release(r), lg_release(s0);
}

/* }====================================================== */

/* {====================================================== gradients */

FN(f_view, lg_view(x[0], SHAPE(3, -1)))
FN(f_reshape, lg_reshape(x[0], SHAPE(6)))
FN(f_transpose, lg_transpose(x[0], 0, 2))
FN(f_permute, lg_permute(x[0], (const int[]){1, 2, 0}))
FN(f_narrow0, lg_narrow(x[0], 0, 1, 2))
FN(f_narrow1, lg_narrow(x[0], 1, 0, 2))
FN(f_expand, lg_expand(x[0], SHAPE(2, 3, 4)))
FN(f_squeeze, lg_squeeze(x[0], 1))
FN(f_unsqueeze, lg_unsqueeze(x[0], 1))
FN(f_contiguous, lg_contiguous(x[0]))
FN(f_clone, lg_clone(x[0]))
FN(f_cat0, lg_cat(x, 2, 0))
FN(f_cat1, lg_cat(x, 3, 1))
FN(f_sum_to_row, lg_sum_to(x[0], SHAPE(3)))
FN(f_sum_to_col, lg_sum_to(x[0], SHAPE(2, 1)))
FN(f_narrow_scatter, lg_narrow_scatter(x[0], SHAPE(2, 4), 1, 1))

/* Views are linear, so a squared view checks second order through them. */
static lg_tensor *squared(lg_tensor *t) {
  lg_tensor *y = t ? lg_mul(t, t) : NULL;
  lg_release(t);
  return y;
}
FN(f_view_sq, squared(lg_view(x[0], SHAPE(6))))
FN(f_transpose_sq, squared(lg_transpose(x[0], 0, 1)))
FN(f_narrow_sq, squared(lg_narrow(x[0], 1, 1, 2)))
FN(f_expand_sq, squared(lg_expand(x[0], SHAPE(2, 3))))
FN(f_cat_sq, squared(lg_cat(x, 2, 1)))
FN(f_tile, lg_tile(x[0], 3, (const int64_t[]){2, 1, 3}))
FN(f_flip, squared(lg_flip(x[0], 2, (const int[]){1, 0})))
FN(f_tile_sq, squared(lg_tile(x[0], 2, (const int64_t[]){3, 2})))

static void grad_views(void **state) {
  (void)state;
  CHECK_GRADS_CONTIGUOUS(f_view, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_reshape, NULL, ck_randn(SHAPE(3, 2)));
  CHECK_GRADS(f_transpose, NULL, ck_randn(SHAPE(2, 3, 2)));
  CHECK_GRADS(f_permute, NULL, ck_randn(SHAPE(2, 3, 2)));
  CHECK_GRADS(f_narrow0, NULL, ck_randn(SHAPE(3, 2)));
  CHECK_GRADS(f_narrow1, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_squeeze, NULL, ck_randn(SHAPE(3, 1, 2)));
  CHECK_GRADS(f_unsqueeze, NULL, ck_randn(SHAPE(3, 2)));
}

static void grad_expand_sums_over_copies(void **state) {
  (void)state;
  CHECK_GRADS(f_expand, NULL, ck_randn(SHAPE(3, 1)));
  CHECK_GRADS(f_expand, NULL, ck_randn(SHAPE(4)));
  CHECK_GRADS(f_expand, NULL, ck_randn(SHAPE(2, 1, 4)));
}

static void grad_copies(void **state) {
  (void)state;
  CHECK_GRADS(f_contiguous, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_clone, NULL, ck_randn(SHAPE(2, 3)));
}

static void grad_cat(void **state) {
  (void)state;
  CHECK_GRADS(f_cat0, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(1, 3)));
  CHECK_GRADS(f_cat1, NULL, ck_randn(SHAPE(2, 1)), ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(2, 2)));
}

/* torch.tile: copies along each dim, leading dims for extra repeats. */
static void tile_repeats_each_dim(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3));
  lg_tensor *rows = CK(lg_tile(b, 2, (const int64_t[]){2, 1}));
  EXPECT_SHAPE(rows, 4, 3);
  EXPECT_VALUES(rows, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5);
  lg_tensor *last = CK(lg_tile(b, 1, (const int64_t[]){2}));   /* fewer reps: the last dims */
  EXPECT_SHAPE(last, 2, 6);
  EXPECT_VALUES(last, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5);
  lg_tensor *lead = CK(lg_tile(b, 3, (const int64_t[]){2, 1, 1}));
  EXPECT_SHAPE(lead, 2, 2, 3);
  lg_tensor *same = CK(lg_tile(b, 2, (const int64_t[]){1, 1}));   /* still a copy */
  assert_ptr_not_equal(same->storage, b->storage);
  lg_tensor *none = CK(lg_tile(b, 2, (const int64_t[]){0, 2}));
  EXPECT_SHAPE(none, 0, 6);
  assert_null(lg_tile(b, 2, (const int64_t[]){-1, 1}));
  assert_non_null(strstr(lg_errmsg(), "tile: repeat -1 for dim 1 is negative"));
  assert_null(lg_tile(b, 9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}));
  assert_non_null(strstr(lg_errmsg(), "tile: 9 repeats need 9 dims"));
  assert_null(lg_tile(b, 2, (const int64_t[]){INT64_MAX, 2}));
  assert_non_null(strstr(lg_errmsg(), "tile: repeating dim 1"));
  lg_release(b), lg_release(rows), lg_release(last), lg_release(lead), lg_release(same);
  lg_release(none);
  CHECK_GRADS(f_tile, NULL, ck_randn(SHAPE(2, 2)));
  CHECK_GRADS(f_tile_sq, NULL, ck_randn(SHAPE(2)));
}

/* torch.flip: reversed along each dim, a copy; a dim twice is an error */
static void flip_reverses_each_dim(void **state) {
  (void)state;
  lg_tensor *b = iota(SHAPE(2, 3));
  lg_tensor *cols = CK(lg_flip(b, 1, (const int[]){1}));
  EXPECT_VALUES(cols, 2, 1, 0, 5, 4, 3);
  lg_tensor *both = CK(lg_flip(b, 2, (const int[]){0, 1}));
  EXPECT_VALUES(both, 5, 4, 3, 2, 1, 0);
  assert_ptr_not_equal(both->storage, b->storage);
  assert_null(lg_flip(b, 2, (const int[]){1, 1}));
  assert_non_null(strstr(lg_errmsg(), "flip: dim 2 is given twice"));
  assert_null(lg_flip(b, 1, (const int[]){2}));
  lg_release(b), lg_release(cols), lg_release(both);
  CHECK_GRADS(f_flip, NULL, ck_randn(SHAPE(2, 3)));
}

static void grad_sum_to_and_narrow_scatter(void **state) {
  (void)state;
  CHECK_GRADS(f_sum_to_row, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_sum_to_col, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_narrow_scatter, NULL, ck_randn(SHAPE(2, 2)));
}

static void grad_second_order_through_views(void **state) {
  (void)state;
  CHECK_GRADS_CONTIGUOUS(f_view_sq, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_transpose_sq, NULL, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_narrow_sq, NULL, ck_randn(SHAPE(2, 4)));
  CHECK_GRADS(f_expand_sq, NULL, ck_randn(SHAPE(1, 3)));
  CHECK_GRADS(f_cat_sq, NULL, ck_randn(SHAPE(2, 1)), ck_randn(SHAPE(2, 2)));
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(view_shares_storage),
      TEST(transpose_and_permute_share_storage),
      TEST(narrow_shares_storage),
      TEST(expand_squeeze_unsqueeze_share_storage),
      TEST(detach_shares_storage_without_graph),
      TEST(contiguous_returns_self_or_a_copy),
      TEST(clone_copies),
      TEST(reshape_views_when_it_can_and_copies_otherwise),
      TEST(cat_along_each_dim),
      TEST(cat_along_last_dim_of_3d),
      TEST(sum_to_inverts_broadcasting),
      TEST(narrow_scatter_places_the_slice),
      TEST(grad_views),
      TEST(grad_expand_sums_over_copies),
      TEST(grad_copies),
      TEST(grad_cat),
      TEST(tile_repeats_each_dim),
      TEST(flip_reverses_each_dim),
      TEST(grad_sum_to_and_narrow_scatter),
      TEST(grad_second_order_through_views),
  };
  return cmocka_run_group_tests_name("shape", tests, NULL, NULL);
}
