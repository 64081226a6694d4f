/* stack, split, pad (ops_stack.c) and var, cumsum, sort, topk (ops_scan.c):
** values worked out by hand with PyTorch's rules, errors, NaN/Inf, empty
** tensors, first and second order gradients. */
#include "check.h"

/* {====================================================== stack, split */

static void stack_values_and_errors(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2), 1, 2), *b = TENSOR(SHAPE(2), 3, 4), *ts[2] = {a, b};
  lg_tensor *s0 = CK(lg_stack(ts, 2, 0)), *s1 = CK(lg_stack(ts, 2, 1));
  EXPECT_SHAPE(s0, 2, 2);
  EXPECT_VALUES(s0, 1, 2, 3, 4);
  EXPECT_SHAPE(s1, 2, 2);
  EXPECT_VALUES(s1, 1, 3, 2, 4);
  lg_tensor *c = TENSOR(SHAPE(3), 1, 2, 3), *bad[2] = {a, c};
  EXPECT_ERR(lg_stack(bad, 2, 0), "stack: tensor 1 has shape [3], tensor 0 has [2]");
  EXPECT_ERR(lg_stack(ts, 2, 2), "stack: dim 2 out of range");
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 3))), *es[2] = {e, e}, *se = CK(lg_stack(es, 2, 1));
  EXPECT_SHAPE(se, 0, 2, 3);
  lg_release(a), lg_release(b), lg_release(c), lg_release(s0), lg_release(s1);
  lg_release(e), lg_release(se);
}

FN(f_stack, lg_stack(x, 3, 1))

static void grad_stack(void **state) {
  (void)state;
  CHECK_GRADS(f_stack, NULL, ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(2, 3)), ck_randn(SHAPE(2, 3)));
}

static void split_views_and_errors(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(5), 0, 1, 2, 3, 4), *out[3];
  assert_int_equal(lg_split(x, 0, 3, (const int64_t[]){2, 2, 1}, out), 0);
  EXPECT_VALUES(out[0], 0, 1);
  EXPECT_VALUES(out[1], 2, 3);
  EXPECT_VALUES(out[2], 4);
  assert_ptr_equal(out[1]->storage, x->storage);   /* views */
  for (int i = 0; i < 3; i++) lg_release(out[i]);
  EXPECT_RC_ERR(lg_split(x, 0, 2, (const int64_t[]){2, 2}, out), "sizes summing to 4",
                "dim 0 of size 5");
  EXPECT_RC_ERR(lg_split(x, 0, 2, (const int64_t[]){6, -1}, out), "do not cover");
  EXPECT_RC_ERR(lg_split(x, 1, 1, (const int64_t[]){5}, out), "split: dim 1 out of range");
  lg_release(x);
}

/* }====================================================== */

/* {====================================================== pad */

static void pad_constant_reflect_replicate(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(1, 3), 1, 2, 3);
  lg_tensor *c = CK(lg_pad(x, 2, (const int64_t[]){2, 1}, LG_PAD_CONSTANT, 9));
  lg_tensor *r = CK(lg_pad(x, 2, (const int64_t[]){2, 2}, LG_PAD_REFLECT, 0));
  lg_tensor *p = CK(lg_pad(x, 2, (const int64_t[]){2, 1}, LG_PAD_REPLICATE, 0));
  lg_tensor *crop = CK(lg_pad(x, 2, (const int64_t[]){-1, 0}, LG_PAD_CONSTANT, 0));
  EXPECT_SHAPE(c, 1, 6);
  EXPECT_VALUES(c, 9, 9, 1, 2, 3, 9);
  EXPECT_VALUES(r, 3, 2, 1, 2, 3, 2, 1);   /* torch reflect: edge not repeated */
  EXPECT_VALUES(p, 1, 1, 1, 2, 3, 3);
  EXPECT_VALUES(crop, 2, 3);
  /* two dims: pads (left, right, top, bottom) */
  lg_tensor *y = TENSOR(SHAPE(2, 2), 1, 2, 3, 4);
  lg_tensor *t = CK(lg_pad(y, 4, (const int64_t[]){1, 0, 0, 1}, LG_PAD_CONSTANT, 0));
  EXPECT_SHAPE(t, 3, 3);
  EXPECT_VALUES(t, 0, 1, 2, 0, 3, 4, 0, 0, 0);
  lg_tensor *t2 = CK(lg_pad(y, 4, (const int64_t[]){0, 1, 1, 0}, LG_PAD_REFLECT, 0));
  EXPECT_VALUES(t2, 3, 4, 3, 1, 2, 1, 3, 4, 3);
  EXPECT_ERR(lg_pad(x, 2, (const int64_t[]){3, 0}, LG_PAD_REFLECT, 0),
             "reflect padding (3, 0) must be less than the dim's size 3 in shape [1,3]");
  EXPECT_ERR(lg_pad(x, 2, (const int64_t[]){-2, -2}, LG_PAD_CONSTANT, 0), "negative");
  EXPECT_ERR(lg_pad(x, 3, (const int64_t[]){1, 1, 1}, LG_PAD_CONSTANT, 0), "3 pads");
  EXPECT_ERR(lg_pad(x, 6, (const int64_t[]){1, 1, 1, 1, 1, 1}, LG_PAD_CONSTANT, 0), "6 pads");
  EXPECT_ERR(lg_pad(x, 2, (const int64_t[]){(int64_t)1 << 40, 0}, LG_PAD_CONSTANT, 0),
             "too large");
  lg_tensor *e = CK(lg_zeros(SHAPE(2, 0)));
  EXPECT_ERR(lg_pad(e, 2, (const int64_t[]){1, 0}, LG_PAD_REPLICATE, 0), "size 0");
  lg_tensor *ec = CK(lg_pad(e, 2, (const int64_t[]){1, 1}, LG_PAD_CONSTANT, 5));
  EXPECT_SHAPE(ec, 2, 2);
  EXPECT_VALUES(ec, 5, 5, 5, 5);
  lg_release(x), lg_release(c), lg_release(r), lg_release(p), lg_release(crop), lg_release(y);
  lg_release(t), lg_release(t2), lg_release(e), lg_release(ec);
}

static void pad_backward_sums_contributions(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(3), 1, 2, 3), *g;
  x->requires_grad = true;
  lg_tensor *r = CK(lg_pad(x, 2, (const int64_t[]){2, 2}, LG_PAD_REFLECT, 0));
  lg_tensor *s = CK(lg_sum(r));
  assert_int_equal(lg_grad(1, &s, NULL, 1, &x, &g, false, false), 0);
  EXPECT_VALUES(g, 2, 3, 2);   /* [3,2,1,2,3,2,1]: 1 read twice, 2 three times, 3 twice */
  lg_release(g), lg_release(r), lg_release(s);
  r = CK(lg_pad(x, 2, (const int64_t[]){2, 1}, LG_PAD_REPLICATE, 0));
  s = CK(lg_sum(r));
  assert_int_equal(lg_grad(1, &s, NULL, 1, &x, &g, false, false), 0);
  EXPECT_VALUES(g, 3, 1, 2);
  lg_release(g), lg_release(r), lg_release(s), lg_release(x);
}

typedef struct {
  int n;
  int64_t pads[6];
  lg_pad_mode mode;
} pad_args;

static lg_tensor *f_pad(lg_tensor **x, const void *ctx) {
  const pad_args *a = ctx;
  /* squared so that the second order is not zero */
  lg_tensor *p = lg_pad(x[0], a->n, a->pads, a->mode, 0.5f), *q = p ? lg_mul(p, p) : NULL;
  lg_release(p);
  return q;
}

static void grad_pad(void **state) {
  (void)state;
  pad_args c = {4, {1, 2, -1, 1}, LG_PAD_CONSTANT}, r = {4, {2, 1, 1, 1}, LG_PAD_REFLECT},
           p = {6, {1, 2, 0, 1, 1, 0}, LG_PAD_REPLICATE};
  CHECK_GRADS(f_pad, &c, ck_randn(SHAPE(2, 3, 4)));
  CHECK_GRADS(f_pad, &r, ck_randn(SHAPE(2, 3, 4)));
  CHECK_GRADS(f_pad, &p, ck_randn(SHAPE(2, 3, 4)));
}

/* Large enough to split over threads: every element against its source. */
static void pad_and_cumsum_large(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(2, 3, 200, 150)), *xt = CK(lg_transpose(x, 2, 3));
  lg_tensor *p = CK(lg_pad(xt, 4, (const int64_t[]){3, 2, 1, 4}, LG_PAD_REFLECT, 0));
  EXPECT_SHAPE(p, 2, 3, 155, 205);
  int64_t bad = 0;
  for (int64_t b = 0; b < 6; b++)
    for (int64_t i = 0; i < 155; i++)
      for (int64_t j = 0; j < 205; j++) {
        int64_t si = i - 1, sj = j - 3;
        si = si < 0 ? -si : si >= 150 ? 2 * 149 - si : si;
        sj = sj < 0 ? -sj : sj >= 200 ? 2 * 199 - sj : sj;
        /* xt[b][si][sj] = x[b][sj][si] */
        bad += ck_get(p, (b * 155 + i) * 205 + j) != ck_get(x, (b * 200 + sj) * 150 + si);
      }
  assert_int_equal(bad, 0);
  lg_tensor *c = CK(lg_cumsum(x, 2));
  for (int64_t b = 0; b < 6; b++)
    for (int64_t k = 0; k < 150; k += 7) {
      double acc = 0;
      for (int64_t i = 0; i < 200; i++) {
        acc += ck_get(x, (b * 200 + i) * 150 + k);
        bad += fabs(ck_get(c, (b * 200 + i) * 150 + k) - acc) > 1e-4 * (1 + fabs(acc));
      }
    }
  assert_int_equal(bad, 0);
  lg_release(x), lg_release(xt), lg_release(p), lg_release(c);
}

/* }====================================================== */

/* {====================================================== var, cumsum */

static void var_values(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(2, 3), 1, 2, 3, 2, 4, 9);
  lg_tensor *v1 = CK(lg_var_dim(x, 1, 1, false)), *v0 = CK(lg_var_dim(x, 0, 0, true));
  lg_tensor *all = CK(lg_var(x, 1));
  EXPECT_SHAPE(v1, 2);
  EXPECT_VALUES(v1, 1, 13);            /* {1,2,3}: 2/2; {2,4,9}: (9+1+16)/2 */
  EXPECT_SHAPE(v0, 1, 3);
  EXPECT_VALUES(v0, 0.25f, 1, 9);
  EXPECT_SHAPE(all);
  EXPECT_VALUES(all, 8.3f);   /* mean 3.5: (6.25+2.25+.25+2.25+.25+30.25)/5 */
  /* two passes: a large offset loses nothing */
  lg_tensor *big = TENSOR(SHAPE(3), 1e6f + 1, 1e6f + 2, 1e6f + 3), *vb = CK(lg_var(big, 1));
  EXPECT_VALUES(vb, 1);
  /* one element, unbiased: 0/0 = NaN; NaN and Inf propagate without a crash */
  lg_tensor *one = TENSOR(SHAPE(1), 5), *v = CK(lg_var(one, 1));
  assert_true(isnan(ck_get(v, 0)));
  lg_tensor *bad = TENSOR(SHAPE(3), 1, NAN, INFINITY), *vn = CK(lg_var(bad, 1));
  assert_true(isnan(ck_get(vn, 0)));
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 2))), *ve = CK(lg_var_dim(e, 0, 1, false));
  EXPECT_SHAPE(ve, 2);
  assert_true(isnan(ck_get(ve, 0)));
  EXPECT_ERR(lg_var_dim(x, 2, 1, false), "var: dim 2 out of range");
  EXPECT_ERR(lg_var_dim(x, 0, -1, false), "correction must be >= 0");
  lg_release(x), lg_release(v1), lg_release(v0), lg_release(all), lg_release(big);
  lg_release(vb), lg_release(one), lg_release(v), lg_release(bad), lg_release(vn);
  lg_release(e), lg_release(ve);
}

FN(f_var, lg_var_dim(x[0], 1, 1, false))
FN(f_var_all, lg_var(x[0], 0))
FN(f_cumsum, lg_cumsum(x[0], 0))

static lg_tensor *f_cumsum_sq(lg_tensor **x, const void *ctx) {
  (void)ctx;
  lg_tensor *c = lg_cumsum(x[0], 1), *q = c ? lg_mul(c, c) : NULL;
  lg_release(c);
  return q;
}

static void grad_var_cumsum(void **state) {
  (void)state;
  CHECK_GRADS(f_var, NULL, ck_randn(SHAPE(3, 4)));
  CHECK_GRADS(f_var_all, NULL, ck_randn(SHAPE(2, 3)));
  GRADCHECK(f_cumsum, NULL, ck_randn(SHAPE(4, 3)));
  CHECK_GRADS(f_cumsum_sq, NULL, ck_randn(SHAPE(2, 5)));
}

static void cumsum_values(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
  lg_tensor *c1 = CK(lg_cumsum(x, 1)), *c0 = CK(lg_cumsum(x, 0));
  EXPECT_VALUES(c1, 1, 3, 6, 4, 9, 15);
  EXPECT_VALUES(c0, 1, 2, 3, 5, 7, 9);
  lg_tensor *n = TENSOR(SHAPE(4), 1, INFINITY, NAN, 1), *cn = CK(lg_cumsum(n, 0));
  assert_true(ck_get(cn, 0) == 1 && isinf(ck_get(cn, 1)) && isnan(ck_get(cn, 3)));
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 3))), *ce = CK(lg_cumsum(e, 0));
  EXPECT_SHAPE(ce, 0, 3);
  EXPECT_ERR(lg_cumsum(x, 2), "cumsum: dim 2 out of range");
  lg_release(x), lg_release(c1), lg_release(c0), lg_release(n), lg_release(cn);
  lg_release(e), lg_release(ce);
}

/* }====================================================== */

/* {====================================================== sort, topk */

static void sort_stable_with_nan(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(6), 3, NAN, 1, 3, -INFINITY, 1), *i = NULL, *j = NULL;
  lg_tensor *up = CK(lg_sort(x, 0, false, &i)), *down = CK(lg_sort(x, 0, true, &j));
  EXPECT_VALUES(i, 4, 2, 5, 0, 3, 1);
  EXPECT_VALUES(j, 1, 0, 3, 2, 5, 4);
  assert_true(ck_get(up, 0) == -INFINITY && ck_get(up, 1) == 1 && isnan(ck_get(up, 5)));
  assert_true(isnan(ck_get(down, 0)) && ck_get(down, 1) == 3 && ck_get(down, 5) == -INFINITY);
  /* along dim 0 of a matrix */
  lg_tensor *m = TENSOR(SHAPE(3, 2), 5, 1, 2, 2, 8, 0), *mi = NULL, *ms = CK(lg_sort(m, 0, false, &mi));
  EXPECT_VALUES(ms, 2, 0, 5, 1, 8, 2);
  EXPECT_VALUES(mi, 1, 2, 0, 0, 2, 1);
  lg_tensor *ti = NULL, *top = CK(lg_topk(x, 2, 0, true, &ti));
  EXPECT_VALUES(ti, 1, 0);
  lg_tensor *bi = NULL, *bot = CK(lg_topk(m, 1, 1, false, &bi));
  EXPECT_SHAPE(bot, 3, 1);
  EXPECT_VALUES(bot, 1, 2, 0);
  EXPECT_VALUES(bi, 1, 0, 1);
  EXPECT_ERR(lg_topk(x, 7, 0, true, NULL), "topk: k 7 is out of range for dim 0 of size 6");
  EXPECT_ERR(lg_sort(x, 1, false, NULL), "sort: dim 1 out of range");
  lg_tensor *e = CK(lg_zeros(SHAPE(2, 0))), *es = CK(lg_sort(e, 1, false, NULL));
  EXPECT_SHAPE(es, 2, 0);
  lg_release(x), lg_release(i), lg_release(j), lg_release(up), lg_release(down);
  lg_release(m), lg_release(mi), lg_release(ms), lg_release(ti), lg_release(top);
  lg_release(bi), lg_release(bot), lg_release(e), lg_release(es);
}

FN(f_sort, lg_sort(x[0], 1, true, NULL))
FN(f_topk, lg_topk(x[0], 2, 0, true, NULL))

static void grad_sort_topk(void **state) {
  (void)state;
  /* distinct values further apart than the step, so the order never flips */
  GRADCHECK(f_sort, NULL, ck_spread(SHAPE(3, 4), -2, 0.37f));
  GRADCHECK(f_topk, NULL, ck_spread(SHAPE(4, 3), -2, 0.37f));
  lg_tensor *x = TENSOR(SHAPE(4), 1, 4, 2, 3), *g;
  x->requires_grad = true;
  lg_tensor *t = CK(lg_topk(x, 2, 0, true, NULL)), *w = TENSOR(SHAPE(2), 10, 20);
  assert_int_equal(lg_grad(1, &t, &w, 1, &x, &g, false, false), 0);
  EXPECT_VALUES(g, 0, 10, 0, 20);
  lg_release(x), lg_release(g), lg_release(t), lg_release(w);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(stack_values_and_errors),
      TEST(grad_stack),
      TEST(split_views_and_errors),
      TEST(pad_constant_reflect_replicate),
      TEST(pad_backward_sums_contributions),
      TEST(grad_pad),
      TEST(pad_and_cumsum_large),
      TEST(var_values),
      TEST(grad_var_cumsum),
      TEST(cumsum_values),
      TEST(sort_stable_with_nan),
      TEST(grad_sort_topk),
  };
  return cmocka_run_group_tests_name("shapeops", tests, NULL, NULL);
}
