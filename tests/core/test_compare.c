/* Comparisons and discrete ops (ops_compare.c): values worked out by hand
** with PyTorch's rules, broadcasting, NaN/Inf, errors, gradients. */
#include "check.h"

#include <math.h>

/* {====================================================== comparisons */

static void comparisons_broadcast_with_ieee_nan(void **state) {
  (void)state;
  /* rows against b: (1,1) (5,6) (nan,nan) / (-inf,1) (-0,6) (inf,nan) */
  lg_tensor *a = TENSOR(SHAPE(2, 3), 1, 5, NAN, -INFINITY, -0.0f, INFINITY);
  lg_tensor *b = TENSOR(SHAPE(3), 1, 6, NAN);
  lg_tensor *r[6] = {CK(lg_gt(a, b)), CK(lg_ge(a, b)), CK(lg_lt(a, b)),
                     CK(lg_le(a, b)), CK(lg_eq(a, b)), CK(lg_ne(a, b))};
  for (int i = 0; i < 6; i++) EXPECT_SHAPE(r[i], 2, 3);
  EXPECT_VALUES(r[0], 0, 0, 0, 0, 0, 0);
  EXPECT_VALUES(r[1], 1, 0, 0, 0, 0, 0);
  EXPECT_VALUES(r[2], 0, 1, 0, 1, 1, 0);
  EXPECT_VALUES(r[3], 1, 1, 0, 1, 1, 0);
  EXPECT_VALUES(r[4], 1, 0, 0, 0, 0, 0);
  EXPECT_VALUES(r[5], 0, 1, 1, 1, 1, 1);
  for (int i = 0; i < 6; i++) lg_release(r[i]);
  lg_release(a), lg_release(b);
}

static void comparisons_with_a_scalar_either_side(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 3), 1, 5, NAN, -INFINITY, 3, INFINITY), *three = SCALAR(3);
  lg_tensor *gt = CK(lg_gt(a, three)), *lt = CK(lg_lt(three, a)), *ge = CK(lg_ge(three, a));
  lg_tensor *z = TENSOR(SHAPE(2), -0.0f, 0.0f), *zero = SCALAR(0), *ez = CK(lg_eq(z, zero));
  EXPECT_SHAPE(lt, 2, 3);
  EXPECT_VALUES(gt, 0, 1, 0, 0, 0, 1);
  EXPECT_VALUES(lt, 0, 1, 0, 0, 0, 1);   /* 3 < a is a > 3 */
  EXPECT_VALUES(ge, 1, 0, 0, 1, 1, 0);
  EXPECT_VALUES(ez, 1, 1);               /* -0 == 0 */
  lg_release(a), lg_release(three), lg_release(gt), lg_release(lt), lg_release(ge);
  lg_release(z), lg_release(zero), lg_release(ez);
}

static void comparisons_record_no_graph(void **state) {
  (void)state;
  lg_tensor *a = ck_randn(SHAPE(4)), *b = ck_randn(SHAPE(4));
  a->requires_grad = true;
  lg_tensor *r = CK(lg_gt(a, b));
  assert_false(r->requires_grad);
  assert_null(r->grad_fn);
  lg_release(a), lg_release(b), lg_release(r);
}

static void comparisons_strided_and_large(void **state) {
  (void)state;
  /* a [600,500] transposed view against a row [500]: the general walk,
  ** large enough to split across threads */
  lg_tensor *base = ck_randn(SHAPE(500, 600)), *a = CK(lg_transpose(base, 0, 1));
  lg_tensor *row = ck_randn(SHAPE(500)), *r = CK(lg_le(a, row));
  EXPECT_SHAPE(r, 600, 500);
  int64_t bad = 0;
  for (int64_t i = 0; i < 600; i++)
    for (int64_t j = 0; j < 500; j++)
      bad += ck_get(r, i * 500 + j) != (float)(ck_get(a, i * 500 + j) <= ck_get(row, j));
  assert_int_equal(bad, 0);
  /* contiguous, one long run split in chunks */
  lg_tensor *x = ck_randn(SHAPE(300001)), *y = ck_randn(SHAPE(300001)), *e = CK(lg_ne(x, y));
  bad = 0;
  for (int64_t i = 0; i < x->numel; i++)
    bad += ck_get(e, i) != (float)(ck_get(x, i) != ck_get(y, i));
  assert_int_equal(bad, 0);
  lg_release(base), lg_release(a), lg_release(row), lg_release(r);
  lg_release(x), lg_release(y), lg_release(e);
}

static void comparison_errors_name_shapes(void **state) {
  (void)state;
  lg_tensor *a = CK(lg_zeros(SHAPE(2, 3))), *b = CK(lg_zeros(SHAPE(2))), *c = CK(lg_zeros(SHAPE(4)));
  EXPECT_ERR(lg_gt(a, b), "gt: shapes [2,3] and [2] cannot broadcast", "dim 2: 3 vs 2");
  EXPECT_ERR(lg_where(a, b, c), "where: shapes [2,3], [2] and [4] cannot broadcast");
  EXPECT_ERR(lg_masked_select(a, c), "masked_select: shapes [2,3] and [4] cannot broadcast");
  lg_release(a), lg_release(b), lg_release(c);
}

static void equal_is_torch_equal(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2), 1, 2, 3, -0.0f), *b = TENSOR(SHAPE(2, 2), 1, 2, 3, 0);
  lg_tensor *row = TENSOR(SHAPE(4), 1, 2, 3, 0), *n = TENSOR(SHAPE(2), 1, NAN);
  lg_tensor *nc = ck_noncontig(a), *c = TENSOR(SHAPE(2, 2), 1, 2, 3, 1);
  assert_int_equal(lg_equal(a, b), 1);    /* -0 == 0 */
  assert_int_equal(lg_equal(nc, b), 1);
  assert_int_equal(lg_equal(a, c), 0);
  assert_int_equal(lg_equal(a, row), 0);  /* same values, other shape */
  assert_int_equal(lg_equal(n, n), 0);    /* NaN equals nothing */
  lg_release(a), lg_release(b), lg_release(row), lg_release(n), lg_release(nc), lg_release(c);
}

/* }====================================================== */

/* {====================================================== where, masks */

static void where_values_and_broadcasting(void **state) {
  (void)state;
  lg_tensor *c = TENSOR(SHAPE(2, 1), 1, 0), *a = TENSOR(SHAPE(3), 1, 2, 3);
  lg_tensor *b = SCALAR(-1), *w = CK(lg_where(c, a, b));
  EXPECT_SHAPE(w, 2, 3);
  EXPECT_VALUES(w, 1, 2, 3, -1, -1, -1);
  /* nonzero is true, NaN included; an Inf or NaN in the branch not taken stays out */
  lg_tensor *c2 = TENSOR(SHAPE(4), NAN, 0, -2, 0), *x = TENSOR(SHAPE(4), 1, 2, 3, 4);
  lg_tensor *y = TENSOR(SHAPE(4), INFINITY, 7, NAN, -INFINITY), *w2 = CK(lg_where(c2, x, y));
  EXPECT_VALUES(w2, 1, 7, 3, -INFINITY);
  lg_tensor *nc = ck_noncontig(x), *w3 = CK(lg_where(c2, y, nc));
  EXPECT_VALUES(w3, INFINITY, 2, NAN, 4);
  lg_release(c), lg_release(a), lg_release(b), lg_release(w), lg_release(c2), lg_release(x);
  lg_release(y), lg_release(w2), lg_release(nc), lg_release(w3);
}

FN(f_where, lg_where((lg_tensor *)ctx, x[0], x[1]))
FN(f_fill, lg_where((lg_tensor *)ctx, x[1], x[0]))   /* masked_fill(x0, mask, x1) */

static void grad_where(void **state) {
  (void)state;
  lg_tensor *c = TENSOR(SHAPE(2, 3), 1, 0, 0, 1, NAN, 0), *fill_mask = TENSOR(SHAPE(3), 0, 1, 1);
  CHECK_GRADS(f_where, c, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_where, c, ck_randn(SHAPE(2, 1)), ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_fill, fill_mask, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE()));
  /* the gradient is masked exactly: 1 where taken, 0 elsewhere */
  lg_tensor *a = ck_randn(SHAPE(2, 3)), *b = ck_randn(SHAPE(2, 3)), *g[2];
  a->requires_grad = b->requires_grad = true;
  lg_tensor *w = CK(lg_where(c, a, b)), *s = CK(lg_sum(w)), *in[2] = {a, b};
  assert_int_equal(lg_grad(1, &s, NULL, 2, in, g, false, false), 0);
  EXPECT_VALUES(g[0], 1, 0, 0, 1, 1, 0);
  EXPECT_VALUES(g[1], 0, 1, 1, 0, 0, 1);
  lg_release(g[0]), lg_release(g[1]), lg_release(w), lg_release(s);
  lg_release(a), lg_release(b), lg_release(c), lg_release(fill_mask);
}

static void masked_select_values(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6), *m = TENSOR(SHAPE(3), 1, 0, NAN);
  lg_tensor *s = CK(lg_masked_select(x, m));
  EXPECT_SHAPE(s, 4);
  EXPECT_VALUES(s, 1, 3, 4, 6);
  /* x broadcast against a bigger mask: x's elements repeat */
  lg_tensor *row = TENSOR(SHAPE(2), 7, 8), *m2 = TENSOR(SHAPE(2, 2), 1, 1, 0, 1);
  lg_tensor *s2 = CK(lg_masked_select(row, m2)), *none = CK(lg_zeros(SHAPE(2, 3)));
  lg_tensor *s3 = CK(lg_masked_select(x, none)), *nc = ck_noncontig(x), *half = SCALAR(2.5f);
  lg_tensor *m3 = CK(lg_gt(nc, half));
  lg_tensor *s4 = CK(lg_masked_select(nc, m3));
  EXPECT_VALUES(s2, 7, 8, 8);
  EXPECT_SHAPE(s3, 0);
  EXPECT_VALUES(s4, 3, 4, 5, 6);
  lg_release(x), lg_release(m), lg_release(s), lg_release(row), lg_release(m2), lg_release(s2);
  lg_release(none), lg_release(s3), lg_release(nc), lg_release(half), lg_release(m3);
  lg_release(s4);
}

FN(f_msel, lg_masked_select(x[0], (lg_tensor *)ctx))

static void grad_masked_select(void **state) {
  (void)state;
  lg_tensor *m = TENSOR(SHAPE(2, 3), 1, 0, 1, 1, 1, 0);
  CHECK_GRADS(f_msel, m, ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_msel, m, ck_randn(SHAPE(3)));   /* the mask broadcasts x: gradients add */
  /* known values: x [3] under m, each element picked 1, 2 and 1 times */
  lg_tensor *x = ck_randn(SHAPE(3)), *g;
  x->requires_grad = true;
  lg_tensor *s = CK(lg_masked_select(x, m)), *t = CK(lg_sum(s));
  assert_int_equal(lg_grad(1, &t, NULL, 1, &x, &g, false, false), 0);
  EXPECT_VALUES(g, 2, 1, 1);
  lg_release(g), lg_release(s), lg_release(t), lg_release(x), lg_release(m);
}

static void nonzero_positions(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(2, 3), 0, NAN, 0, -1, 0, INFINITY), *z = CK(lg_nonzero(x));
  EXPECT_SHAPE(z, 3, 2);
  EXPECT_VALUES(z, 0, 1, 1, 0, 1, 2);
  lg_tensor *s = SCALAR(5), *zs = CK(lg_nonzero(s)), *e = CK(lg_zeros(SHAPE(4))), *ze = CK(lg_nonzero(e));
  EXPECT_SHAPE(zs, 1, 0);
  EXPECT_SHAPE(ze, 0, 1);
  lg_tensor *nc = ck_noncontig(x), *zn = CK(lg_nonzero(nc));
  EXPECT_VALUES(zn, 0, 1, 1, 0, 1, 2);
  lg_release(x), lg_release(z), lg_release(s), lg_release(zs), lg_release(e), lg_release(ze);
  lg_release(nc), lg_release(zn);
}

/* }====================================================== */

/* {====================================================== argmax, argmin, min */

static void arg_extremes_ties_and_nan(void **state) {
  (void)state;
  /* rows: ties (first wins), NaN (wins, first NaN), infinities */
  lg_tensor *x = TENSOR(SHAPE(3, 4), 3, 1, 3, 1, 2, NAN, 5, NAN, -INFINITY, INFINITY, 0, -INFINITY);
  lg_tensor *amax = CK(lg_argmax(x, 1, false)), *amin = CK(lg_argmin(x, 1, false));
  lg_tensor *i1, *i0, *mn = CK(lg_min_dim(x, 1, false, &i1)), *m0 = CK(lg_min_dim(x, 0, true, &i0));
  EXPECT_SHAPE(amax, 3);
  EXPECT_VALUES(amax, 0, 1, 1);
  EXPECT_VALUES(amin, 1, 1, 0);
  EXPECT_VALUES(mn, 1, NAN, -INFINITY);
  EXPECT_VALUES(i1, 1, 1, 0);
  EXPECT_SHAPE(m0, 1, 4);   /* columns: {3,2,-inf} {1,nan,inf} {3,5,0} {1,nan,-inf} */
  EXPECT_VALUES(m0, -INFINITY, NAN, 0, NAN);
  EXPECT_VALUES(i0, 2, 1, 2, 1);
  lg_tensor *a0 = CK(lg_argmax(x, 0, true));
  EXPECT_SHAPE(a0, 1, 4);
  EXPECT_VALUES(a0, 0, 1, 1, 1);
  lg_tensor *all = CK(lg_min(x)), *fin = TENSOR(SHAPE(2, 2), 4, -2, -2, 7), *mf = CK(lg_min(fin));
  EXPECT_SHAPE(all);
  EXPECT_VALUES(all, NAN);
  EXPECT_VALUES(mf, -2);
  lg_release(x), lg_release(amax), lg_release(amin), lg_release(mn), lg_release(i1);
  lg_release(m0), lg_release(i0), lg_release(a0), lg_release(all), lg_release(fin), lg_release(mf);
}

static void argmax_agrees_with_max(void **state) {
  (void)state;
  /* many ties (values from 4 levels), non-contiguous, every dim, and a size
  ** that takes the parallel path */
  lg_tensor *r = ck_uniform(SHAPE(70, 40, 50), 0, 4), *x = CK(lg_floor(r)), *nc = ck_noncontig(x);
  for (int d = 0; d < 3; d++) {
    lg_tensor *mi, *m = CK(lg_max_dim(nc, d, false, &mi)), *a = CK(lg_argmax(nc, d, false));
    lg_tensor *neg = CK(lg_neg(nc)), *ni, *nm = CK(lg_max_dim(neg, d, false, &ni));
    lg_tensor *b = CK(lg_argmin(nc, d, false)), *vi, *v = CK(lg_min_dim(nc, d, false, &vi));
    assert_int_equal(lg_equal(a, mi), 1);
    assert_int_equal(lg_equal(b, ni), 1);
    assert_int_equal(lg_equal(vi, ni), 1);
    lg_tensor *back = CK(lg_neg(nm));
    assert_int_equal(lg_equal(v, back), 1);
    lg_release(mi), lg_release(m), lg_release(a), lg_release(neg), lg_release(ni);
    lg_release(nm), lg_release(b), lg_release(vi), lg_release(v), lg_release(back);
  }
  lg_release(r), lg_release(x), lg_release(nc);
}

static void arg_extreme_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(3, 0))), *s = SCALAR(1), *e = CK(lg_zeros(SHAPE(0)));
  lg_tensor *idx;
  EXPECT_ERR(lg_argmax(x, 1, false), "argmax: cannot take the argmax over dim 1 of size 0 in shape [3,0]");
  EXPECT_ERR(lg_min_dim(x, 2, false, &idx), "min: dim 2 out of range for shape [3,0]");
  assert_null(idx);
  EXPECT_ERR(lg_argmin(s, 0, false), "argmin: dim 0 out of range for a 0-dim tensor");
  EXPECT_ERR(lg_min(e), "min: cannot take the min of an empty tensor of shape [0]");
  lg_tensor *ok = CK(lg_argmax(x, 0, false));   /* over the 3 rows of nothing */
  EXPECT_SHAPE(ok, 0);
  lg_release(x), lg_release(s), lg_release(e), lg_release(ok);
}

FN(f_min1, lg_min_dim(x[0], 1, false, NULL))
FN(f_min0k, lg_min_dim(x[0], 0, true, NULL))
FN(f_min_all, lg_min(x[0]))

static void grad_min(void **state) {
  (void)state;
  /* distinct values further apart than the finite-difference step */
  CHECK_GRADS(f_min1, NULL, ck_spread(SHAPE(3, 4), -1, 0.1f));
  CHECK_GRADS(f_min0k, NULL, ck_spread(SHAPE(3, 2, 2), -1, 0.1f));
  CHECK_GRADS(f_min_all, NULL, ck_spread(SHAPE(2, 3), -1, 0.1f));
  /* a tie splits the gradient evenly among the minima, as max() and torch */
  lg_tensor *x = TENSOR(SHAPE(4), 2, 1, 1, 3), *g;
  x->requires_grad = true;
  lg_tensor *m = CK(lg_min(x));
  assert_int_equal(lg_grad(1, &m, NULL, 1, &x, &g, false, false), 0);
  EXPECT_VALUES(g, 0, 0.5f, 0.5f, 0);
  lg_release(g), lg_release(m), lg_release(x);
}

/* }====================================================== */

/* {====================================================== rounding, creation */

static void rounding_values(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(10), -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, -1.7f, 1.2f, INFINITY, NAN);
  lg_tensor *r = CK(lg_round(x)), *f = CK(lg_floor(x)), *c = CK(lg_ceil(x)), *t = CK(lg_trunc(x));
  EXPECT_VALUES(r, -2, -2, -0.0f, 0, 2, 2, -2, 1, INFINITY, NAN);   /* half to even */
  EXPECT_VALUES(f, -3, -2, -1, 0, 1, 2, -2, 1, INFINITY, NAN);
  EXPECT_VALUES(c, -2, -1, -0.0f, 1, 2, 3, -1, 2, INFINITY, NAN);
  EXPECT_VALUES(t, -2, -1, -0.0f, 0, 1, 2, -1, 1, INFINITY, NAN);
  assert_true(signbit(ck_get(r, 2)));   /* round(-0.5) is -0, as in torch */
  lg_tensor *nc = ck_noncontig(x), *rn = CK(lg_round(nc));
  EXPECT_VALUES(rn, -2, -2, -0.0f, 0, 2, 2, -2, 1, INFINITY, NAN);
  lg_release(x), lg_release(r), lg_release(f), lg_release(c), lg_release(t);
  lg_release(nc), lg_release(rn);
}

static void rounding_gradient_is_zero(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(2, 3)), *g;
  x->requires_grad = true;
  lg_tensor *y = CK(lg_floor(x)), *s = CK(lg_sum(y));
  assert_true(y->requires_grad);   /* in the graph, as torch, but flat */
  assert_int_equal(lg_grad(1, &s, NULL, 1, &x, &g, false, false), 0);
  EXPECT_SHAPE(g, 2, 3);
  EXPECT_VALUES(g, 0, 0, 0, 0, 0, 0);
  lg_release(g), lg_release(y), lg_release(s), lg_release(x);
}

static void randint_range_and_seed(void **state) {
  (void)state;
  lg_manual_seed(7);
  lg_tensor *a = CK(lg_randint(-2, 3, SHAPE(40, 50)));
  lg_manual_seed(7);
  lg_tensor *b = CK(lg_randint(-2, 3, SHAPE(40, 50)));
  assert_int_equal(lg_equal(a, b), 1);
  int64_t seen[5] = {0};
  for (int64_t i = 0; i < a->numel; i++) {
    float v = ck_get(a, i);
    assert_true(v >= -2 && v <= 2 && v == floorf(v));
    seen[(int)v + 2]++;
  }
  for (int k = 0; k < 5; k++) assert_true(seen[k] > 300 && seen[k] < 500);   /* ~400 each */
  lg_tensor *one = CK(lg_randint(4, 5, SHAPE(3)));
  EXPECT_VALUES(one, 4, 4, 4);
  EXPECT_ERR(lg_randint(3, 3, SHAPE(2)), "randint: high 3 must be greater than low 3");
  EXPECT_ERR(lg_randint(0, (1 << 24) + 1, SHAPE(2)), "randint: bounds [0, 16777217)");
  EXPECT_ERR(lg_randint(0, 2, SHAPE(-1)), "randint");
  lg_release(a), lg_release(b), lg_release(one);
}

static void eye_and_one_hot(void **state) {
  (void)state;
  lg_tensor *e = CK(lg_eye(2, 3)), *sq = CK(lg_eye(2, 2)), *none = CK(lg_eye(0, 3));
  EXPECT_SHAPE(e, 2, 3);
  EXPECT_VALUES(e, 1, 0, 0, 0, 1, 0);
  EXPECT_VALUES(sq, 1, 0, 0, 1);
  EXPECT_SHAPE(none, 0, 3);
  EXPECT_ERR(lg_eye(-1, 2), "eye: sizes must be >= 0, got -1 x 2");
  lg_tensor *l = TENSOR(SHAPE(2, 2), 1, 3, 3, 2), *h = CK(lg_one_hot(l, 4)), *hi = CK(lg_one_hot(l, -1));
  EXPECT_SHAPE(h, 2, 2, 4);
  EXPECT_VALUES(h, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0);
  EXPECT_SHAPE(hi, 2, 2, 3);   /* inferred: the largest label */
  EXPECT_VALUES(hi, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0);
  lg_tensor *bad = TENSOR(SHAPE(2, 2), 1, 2, NAN, 1), *frac = TENSOR(SHAPE(3), 1, 2.5f, 1);
  lg_tensor *zero = TENSOR(SHAPE(2), 1, 0), *empty = CK(lg_zeros(SHAPE(0)));
  EXPECT_ERR(lg_one_hot(bad, 3), "one_hot: label nan at position [2,1] is not a class number in 1..3");
  EXPECT_ERR(lg_one_hot(bad, -1), "label nan at position [2,1] is not a class number (an integer >= 1)");
  EXPECT_ERR(lg_one_hot(frac, 3), "label 2.5 at position [2]");
  EXPECT_ERR(lg_one_hot(zero, 3), "label 0 at position [2]");
  EXPECT_ERR(lg_one_hot(l, 2), "label 3 at position [1,2] is not a class number in 1..2");
  EXPECT_ERR(lg_one_hot(empty, -1), "one_hot: cannot infer num_classes from empty labels");
  EXPECT_ERR(lg_one_hot(l, 0), "one_hot: num_classes must be at least 1");
  lg_tensor *eh = CK(lg_one_hot(empty, 5));
  EXPECT_SHAPE(eh, 0, 5);
  lg_release(e), lg_release(sq), lg_release(none), lg_release(l), lg_release(h), lg_release(hi);
  lg_release(bad), lg_release(frac), lg_release(zero), lg_release(empty), lg_release(eh);
}

/* }====================================================== */

/* isnan / isinf / isfinite: 0/1 floats, -inf counts as inf (glibc's isinf is -1 there) */
static void classify_nan_and_inf(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(5), 1, NAN, INFINITY, -INFINITY, -0.0f);
  lg_tensor *n = CK(lg_isnan(x)), *i = CK(lg_isinf(x)), *f = CK(lg_isfinite(x));
  EXPECT_VALUES(n, 0, 1, 0, 0, 0);
  EXPECT_VALUES(i, 0, 0, 1, 1, 0);
  EXPECT_VALUES(f, 1, 0, 0, 0, 1);
  assert_null(n->grad_fn);
  lg_release(x), lg_release(n), lg_release(i), lg_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(comparisons_broadcast_with_ieee_nan),
      TEST(comparisons_with_a_scalar_either_side),
      TEST(comparisons_record_no_graph),
      TEST(comparisons_strided_and_large),
      TEST(comparison_errors_name_shapes),
      TEST(equal_is_torch_equal),
      TEST(where_values_and_broadcasting),
      TEST(grad_where),
      TEST(masked_select_values),
      TEST(grad_masked_select),
      TEST(nonzero_positions),
      TEST(arg_extremes_ties_and_nan),
      TEST(argmax_agrees_with_max),
      TEST(arg_extreme_errors),
      TEST(grad_min),
      TEST(rounding_values),
      TEST(rounding_gradient_is_zero),
      TEST(randint_range_and_seed),
      TEST(eye_and_one_hot),
      TEST(classify_nan_and_inf),
  };
  return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
