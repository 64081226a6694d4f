/* The autograd engine: accumulation, graph lifetime, lg_grad, grad mode, depth, penalties. */
#include "check.h"

#include <string.h>

static lg_tensor *leaf(lg_tensor *t) {
  t->requires_grad = true;
  return t;
}

static void leaf_used_twice_accumulates(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(3), 1, -2, 3));
  lg_tensor *y = CK(lg_mul(x, x)), *s = CK(lg_sum(y));
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, 2, -4, 6);
  lg_release(x), lg_release(y), lg_release(s);
}

static void grad_accumulates_across_backward_calls(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2));
  for (int k = 0; k < 2; k++) {
    lg_tensor *y = CK(lg_mul_scalar(x, 3)), *s = CK(lg_sum(y));
    assert_int_equal(lg_backward(s, NULL, false), 0);
    lg_release(y), lg_release(s);
  }
  EXPECT_VALUES(x->grad, 6, 6);
  lg_release(x);
}

static void second_backward_without_retain_graph_is_an_error(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2));
  lg_tensor *y = CK(lg_exp(x)), *s = CK(lg_sum(y));
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_RC_ERR(lg_backward(s, NULL, false), "retain_graph");
  EXPECT_VALUES(x->grad, expf(1), expf(2));   /* the failed call added nothing */
  lg_release(x), lg_release(y), lg_release(s);
}

static void retain_graph_allows_a_second_backward(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2));
  lg_tensor *y = CK(lg_exp(x)), *s = CK(lg_sum(y));
  assert_int_equal(lg_backward(s, NULL, true), 0);
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, 2 * expf(1), 2 * expf(2));
  lg_release(x), lg_release(y), lg_release(s);
}

static void backward_with_an_explicit_gradient(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2, 2), 1, 2, 3, 4));
  lg_tensor *y = CK(lg_mul_scalar(x, 2)), *g = TENSOR(SHAPE(2, 2), 1, 0, -1, 0.5f);
  assert_int_equal(lg_backward(y, g, false), 0);
  EXPECT_VALUES(x->grad, 2, 0, -2, 1);
  lg_release(x), lg_release(y), lg_release(g);
}

static void grad_with_respect_to_a_non_leaf(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(3), 1, 2, 3));
  lg_tensor *y = CK(lg_mul_scalar(x, 2)), *z = CK(lg_mul(y, y)), *s = CK(lg_sum(z));
  lg_tensor *in[2] = {y, x}, *g[2];
  assert_int_equal(lg_grad(1, &s, NULL, 2, in, g, false, false), 0);
  EXPECT_VALUES(g[0], 4, 8, 12);    /* 2y */
  EXPECT_VALUES(g[1], 8, 16, 24);   /* 8x */
  assert_null(x->grad);              /* lg_grad does not touch .grad */
  lg_release(x), lg_release(y), lg_release(z), lg_release(s), lg_release(g[0]);
  lg_release(g[1]);
}

static void grad_of_an_unused_input_is_zeros(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2)), *u = leaf(TENSOR(SHAPE(2, 2), 1, 2, 3, 4));
  lg_tensor *s = CK(lg_sum(x)), *in[2] = {x, u}, *g[2];
  assert_int_equal(lg_grad(1, &s, NULL, 2, in, g, false, false), 0);
  EXPECT_VALUES(g[0], 1, 1);
  EXPECT_SHAPE(g[1], 2, 2);
  EXPECT_VALUES(g[1], 0, 0, 0, 0);
  lg_release(x), lg_release(u), lg_release(s), lg_release(g[0]), lg_release(g[1]);
}

static void grad_mode_off_records_nothing(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2));
  assert_true(lg_set_grad_enabled(false));
  lg_tensor *y = CK(lg_exp(x)), *z = CK(lg_matmul(x, x));
  assert_false(lg_set_grad_enabled(true));
  assert_false(y->requires_grad);
  assert_null(y->grad_fn);
  assert_null(z->grad_fn);
  lg_tensor *on = CK(lg_exp(x));
  assert_true(on->requires_grad);
  assert_non_null(on->grad_fn);
  lg_release(x), lg_release(y), lg_release(z), lg_release(on);
}

static void detach_stops_the_gradient(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2));
  lg_tensor *d = CK(lg_detach(x)), *y = CK(lg_mul(x, d)), *s = CK(lg_sum(y));
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, 1, 2);   /* d is a constant: d(x*d)/dx = d */
  lg_release(x), lg_release(d), lg_release(y), lg_release(s);
}

static void intermediates_released_before_backward(void **state) {
  (void)state;   /* the caller drops every intermediate: the graph must keep what it needs */
  lg_tensor *x = leaf(TENSOR(SHAPE(3), 0.5f, -1, 2));
  lg_tensor *y = CK(lg_exp(x));
  lg_tensor *z = CK(lg_mul_scalar(y, 2));
  lg_release(y);
  lg_tensor *s = CK(lg_sum(z));
  lg_release(z);
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, 2 * expf(0.5f), 2 * expf(-1), 2 * expf(2));
  lg_release(x), lg_release(s);
}

static void deep_chain_builds_backwards_and_frees(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2)), *y = x;
  lg_retain(y);
  for (int i = 0; i < 100000; i++) {
    lg_tensor *next = CK(lg_add_scalar(y, 0.5f));
    lg_release(y);
    y = next;
  }
  lg_tensor *s = CK(lg_sum(y));
  EXPECT_VALUES(y, 50001, 50002);
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, 1, 1);
  lg_release(s);
  lg_release(y);   /* frees 100,000 nodes: must not recurse */
  lg_release(x);
}

static void deep_chain_freed_without_backward(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2)), *y = x;
  lg_retain(y);
  for (int i = 0; i < 100000; i++) {
    lg_tensor *next = CK(lg_mul_scalar(y, 1));
    lg_release(y);
    y = next;
  }
  lg_release(y);
  lg_release(x);
}

/* WGAN-GP: D(x) = sum(tanh(x W^T)), g = dD/dx with a graph,
** penalty = mean((|g_row| - 1)^2).  Its gradient in W (and x) is checked
** against finite differences of the whole construction. */
static lg_tensor *gradient_penalty(lg_tensor **in, const void *ctx) {
  (void)ctx;
  lg_tensor *x = in[0], *w = in[1], *g = NULL, *t = NULL, *d = NULL;
  lg_tensor *h = lg_linear(x, w, NULL);
  if (h) t = lg_tanh(h);
  if (t) d = lg_sum(t);
  lg_release(h), lg_release(t);
  if (!d || lg_grad(1, &d, NULL, 1, &x, &g, true, true)) {
    lg_release(d);
    return NULL;
  }
  lg_release(d);
  lg_tensor *p = lg_mul(g, g);
  lg_release(g);
#define THEN(call) do { lg_tensor *n_ = p ? (call) : NULL; lg_release(p); p = n_; } while (0)
  THEN(lg_sum_dim(p, 1, false));
  THEN(lg_sqrt(p));
  THEN(lg_add_scalar(p, -1));
  THEN(lg_pow(p, 2));
  THEN(lg_mean(p));
#undef THEN
  return p;
}

static void gradient_penalty_matches_finite_differences(void **state) {
  (void)state;
  GRADCHECK(gradient_penalty, NULL, ck_randn(SHAPE(3, 4)), ck_uniform(SHAPE(5, 4), -0.7f, 0.7f));
}

/* lg_set_grad_ready: once per leaf and pass, after its last consumer,
** with the final .grad; a failing hook ends the backward with its error */
static int ready_calls;
static float ready_seen[4];
static int record_ready(lg_tensor *leaf, void *ctx) {
  ready_seen[ready_calls++] = lg_data(leaf->grad)[0];
  return ctx ? (lg_seterr("hook: %s", (const char *)ctx), -1) : 0;
}

static void grad_ready_hook(void **state) {
  (void)state;
  lg_tensor *w = TENSOR(SHAPE(1), 3), *v = TENSOR(SHAPE(1), 2);
  w->requires_grad = v->requires_grad = true;
  /* y = w*w*v + w: w feeds three nodes */
  lg_tensor *ww = CK(lg_mul(w, w)), *wwv = CK(lg_mul(ww, v)), *y = CK(lg_add(wwv, w));
  ready_calls = 0;
  lg_set_grad_ready(record_ready, NULL);
  assert_int_equal(lg_backward(y, NULL, true), 0);
  assert_int_equal(ready_calls, 2);
  assert_float_equal(ready_seen[0], 9, 1e-6);            /* v: w*w */
  assert_float_equal(ready_seen[1], 2 * 3 * 2 + 1, 1e-6); /* w: 2wv + 1, complete */
  ready_calls = 0;
  lg_set_grad_ready(record_ready, "stop");
  assert_int_equal(lg_backward(y, NULL, false), -1);
  assert_non_null(strstr(lg_errmsg(), "hook: stop"));
  assert_int_equal(ready_calls, 1);
  lg_set_grad_ready(NULL, NULL);
  lg_release(ww), lg_release(wwv), lg_release(y), lg_release(w), lg_release(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(leaf_used_twice_accumulates),
      TEST(grad_ready_hook),
      TEST(grad_accumulates_across_backward_calls),
      TEST(second_backward_without_retain_graph_is_an_error),
      TEST(retain_graph_allows_a_second_backward),
      TEST(backward_with_an_explicit_gradient),
      TEST(grad_with_respect_to_a_non_leaf),
      TEST(grad_of_an_unused_input_is_zeros),
      TEST(grad_mode_off_records_nothing),
      TEST(detach_stops_the_gradient),
      TEST(intermediates_released_before_backward),
      TEST(deep_chain_builds_backwards_and_frees),
      TEST(deep_chain_freed_without_backward),
      TEST(gradient_penalty_matches_finite_differences),
  };
  return cmocka_run_group_tests_name("autograd", tests, NULL, NULL);
}
