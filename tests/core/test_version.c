/* Storage versions: every in-place write bumps them, and backward refuses to
** run on a saved tensor written since the forward pass; lg_grad with an
** input listed twice. */
#include "check.h"

#define STALE "modified by an in-place operation"

static lg_tensor *leaf(lg_tensor *t) {
  t->requires_grad = true;
  return t;
}

static uint64_t version(const lg_tensor *t) { return t->storage->version; }

static void in_place_writes_bump_the_version(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(2, 2), 1, 2, 3, 4), *src = TENSOR(SHAPE(2), 5, 6);
  lg_tensor *col = CK(lg_narrow(t, 1, 1, 1));   /* a view: shares the counter */
  uint64_t v = version(t);
  lg_fill_(col, 0);
  assert_true(version(t) == v + 1);
  assert_int_equal(lg_copy_(t, src), 0);
  assert_true(version(t) == v + 2);
  assert_int_equal(lg_clip_(t, 0, 5.5f), 0);
  assert_true(version(col) == v + 3);
  EXPECT_VALUES(t, 5, 5.5f, 5, 5.5f);
  /* reads do not count */
  lg_tensor *s = CK(lg_sum(t));
  assert_true(version(t) == v + 3);
  lg_release(t), lg_release(src), lg_release(col), lg_release(s);
}

static void optimizer_steps_bump_parameter_and_state(void **state) {
  (void)state;
  lg_tensor *p = TENSOR(SHAPE(2), 1, 2), *g = TENSOR(SHAPE(2), 1, 1);
  lg_tensor *a = CK(lg_zeros(SHAPE(2))), *b = CK(lg_zeros(SHAPE(2)));
  uint64_t vp = version(p), va = version(a), vb = version(b);
  assert_int_equal(lg_sgd_step(p, g, a, 0.1f, 0.9f, 0, 0, false, true), 0);
  assert_true(version(p) == vp + 1 && version(a) == va + 1);
  assert_int_equal(lg_adam_step(p, g, a, b, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 1), 0);
  assert_true(version(p) == vp + 2 && version(a) == va + 2 && version(b) == vb + 1);
  assert_int_equal(lg_rmsprop_step(p, g, a, b, NULL, 0.1f, 0.99f, 1e-8f, 0, 0, true), 0);
  assert_true(version(p) == vp + 3 && version(a) == va + 3 && version(b) == vb + 2);
  lg_release(p), lg_release(g), lg_release(a), lg_release(b);
}

static void batch_norm_running_stats_bump_in_training_only(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(4, 2));
  lg_tensor *rm = CK(lg_zeros(SHAPE(2))), *rv = CK(lg_full(SHAPE(2), 1));
  uint64_t vm = version(rm), vv = version(rv);
  lg_tensor *y = CK(lg_batch_norm(x, rm, rv, NULL, NULL, true, 0.1f, 1e-5f));
  assert_true(version(rm) == vm + 1 && version(rv) == vv + 1);
  lg_tensor *e = CK(lg_batch_norm(x, rm, rv, NULL, NULL, false, 0.1f, 1e-5f));
  assert_true(version(rm) == vm + 1 && version(rv) == vv + 1);
  lg_release(x), lg_release(rm), lg_release(rv), lg_release(y), lg_release(e);
}

/* exp keeps its output for backward: a write through a detached alias of
** it, or with grad mode off, must fail backward instead of giving 100. */
static void write_through_detach_alias_is_refused(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(1), 1));
  lg_tensor *y = CK(lg_exp(x)), *s = CK(lg_sum(y)), *d = CK(lg_detach(y));
  lg_fill_(d, 100);
  EXPECT_RC_ERR(lg_backward(s, NULL, false), "exp backward", STALE, "version 1, expected 0");
  assert_null(x->grad);
  lg_release(x), lg_release(y), lg_release(s), lg_release(d);
}

static void write_with_grad_mode_off_is_refused(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(3), 1, 2, 3)), *w = TENSOR(SHAPE(3), 4, 5, 6);
  lg_tensor *y = CK(lg_mul(x, w)), *s = CK(lg_sum(y));   /* d/dx reads w */
  bool prev = lg_set_grad_enabled(false);
  lg_fill_(w, 0);
  lg_set_grad_enabled(prev);
  EXPECT_RC_ERR(lg_backward(s, NULL, false), "mul backward", STALE, "input 2 of shape [3]");
  lg_release(x), lg_release(w), lg_release(y), lg_release(s);
}

/* Labels and gather indices are kept in saved[] rather than inputs[]. */
static void saved_labels_and_indices_are_checked(void **state) {
  (void)state;
  lg_tensor *z = leaf(TENSOR(SHAPE(2, 2), 0, 0, 0, 0)), *labels = TENSOR(SHAPE(2), 1, 2);
  lg_tensor *l = CK(lg_cross_entropy(z, labels));
  lg_fill_(labels, 2);
  EXPECT_RC_ERR(lg_backward(l, NULL, false), "cross_entropy backward", STALE, "saved tensor");
  lg_tensor *idx = TENSOR(SHAPE(2, 1), 0, 1);
  lg_tensor *gth = CK(lg_gather(z, 1, idx)), *s = CK(lg_sum(gth));
  lg_fill_(idx, 0);
  EXPECT_RC_ERR(lg_backward(s, NULL, false), "gather backward", STALE);
  lg_release(z), lg_release(labels), lg_release(l), lg_release(idx), lg_release(gth),
      lg_release(s);
}

/* A write that no pending backward reads changes nothing: into a tensor
** outside the graph, into an input before the forward pass, or into a
** parameter after the backward that consumed the graph. */
static void unrelated_writes_pass(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(1), 1)), *other = CK(lg_zeros(SHAPE(3)));
  lg_fill_(x, 2);
  lg_tensor *y = CK(lg_exp(x)), *s = CK(lg_sum(y));
  lg_fill_(other, 7);
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, expf(2));
  lg_fill_(x, 0);                     /* the graph is gone: nothing to check */
  lg_release(y), lg_release(s);
  y = CK(lg_exp(x)), s = CK(lg_sum(y));
  assert_int_equal(lg_backward(s, NULL, false), 0);
  EXPECT_VALUES(x->grad, expf(2) + 1);
  lg_release(x), lg_release(other), lg_release(y), lg_release(s);
}

/* The GAN bug: G's loss is built through D, D takes its step, then G's
** backward would use D's new weights with the old activations. */
static void optimizer_step_between_forward_and_backward_is_refused(void **state) {
  (void)state;
  lg_tensor *w = leaf(TENSOR(SHAPE(1, 2), 0.5f, -1)), *z = leaf(TENSOR(SHAPE(3, 2), 1, 2, 3, 4, 5, 6));
  lg_tensor *out = CK(lg_linear(z, w, NULL)), *loss = CK(lg_mean(out));
  lg_tensor *g = CK(lg_full(SHAPE(1, 2), 1));
  lg_tensor *m = CK(lg_zeros(SHAPE(1, 2))), *v = CK(lg_zeros(SHAPE(1, 2)));
  assert_int_equal(lg_adam_step(w, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0, 1), 0);
  EXPECT_RC_ERR(lg_backward(loss, NULL, false), "linear backward", STALE,
                "input 2 of shape [1,2]");
  assert_null(z->grad);
  assert_null(w->grad);
  lg_release(w), lg_release(z), lg_release(out), lg_release(loss), lg_release(g), lg_release(m),
      lg_release(v);
}

/* A graph kept by retain_graph stays checked: a step after the first
** backward makes the second one fail. */
static void retained_graph_is_checked_on_the_next_backward(void **state) {
  (void)state;
  lg_tensor *w = leaf(TENSOR(SHAPE(2), 1, 2)), *x = TENSOR(SHAPE(2), 3, 4);
  lg_tensor *y = CK(lg_mul(w, w)), *s = CK(lg_sum(y));
  assert_int_equal(lg_backward(s, NULL, true), 0);
  EXPECT_VALUES(w->grad, 2, 4);
  assert_int_equal(lg_sgd_step(w, w->grad, NULL, 0.5f, 0, 0, 0, false, true), 0);
  EXPECT_VALUES(w, 0, 0);
  EXPECT_RC_ERR(lg_backward(s, NULL, false), "mul backward", STALE, "version 1, expected 0");
  EXPECT_VALUES(w->grad, 2, 4);
  lg_release(w), lg_release(x), lg_release(y), lg_release(s);
}

/* Second order: the graph that lg_grad(create_graph) builds records
** versions as any other. */
static void create_graph_results_are_checked_too(void **state) {
  (void)state;
  lg_tensor *x = leaf(TENSOR(SHAPE(2), 1, 2));
  lg_tensor *y = CK(lg_pow(x, 3)), *s = CK(lg_sum(y)), *g = NULL, *gg = NULL;
  assert_int_equal(lg_grad(1, &s, NULL, 1, &x, &g, true, true), 0);
  EXPECT_VALUES(g, 3, 12);
  lg_tensor *gs = CK(lg_sum(g));
  assert_int_equal(lg_grad(1, &gs, NULL, 1, &x, &gg, false, true), 0);
  EXPECT_VALUES(gg, 6, 12);
  lg_release(gg);
  bool prev = lg_set_grad_enabled(false);
  lg_fill_(x, 0);
  lg_set_grad_enabled(prev);
  gg = NULL;
  EXPECT_RC_ERR(lg_grad(1, &gs, NULL, 1, &x, &gg, false, false), "backward", STALE);
  assert_null(gg);
  lg_release(x), lg_release(y), lg_release(s), lg_release(g), lg_release(gs);
}

static void grad_of_an_input_listed_twice(void **state) {
  (void)state;
  lg_tensor *a = leaf(TENSOR(SHAPE(2), 2, -1)), *b = leaf(TENSOR(SHAPE(1), 5));
  lg_tensor *y = CK(lg_mul(a, a)), *s = CK(lg_sum(y));
  lg_tensor *in[4] = {a, b, a, a}, *r[4];
  assert_int_equal(lg_grad(1, &s, NULL, 4, in, r, true, true), 0);
  EXPECT_VALUES(r[0], 4, -2);
  EXPECT_VALUES(r[1], 0);
  EXPECT_VALUES(r[2], 4, -2);
  EXPECT_VALUES(r[3], 4, -2);
  /* the repeated results are differentiable like the first */
  lg_tensor *r2 = CK(lg_sum(r[2])), *h = NULL;
  assert_int_equal(lg_grad(1, &r2, NULL, 1, &a, &h, false, false), 0);
  EXPECT_VALUES(h, 2, 2);
  for (int i = 0; i < 4; i++) lg_release(r[i]);
  /* an unused input listed twice: zeros in both places */
  lg_tensor *in2[2] = {b, b};
  assert_int_equal(lg_grad(1, &s, NULL, 2, in2, r, false, false), 0);
  EXPECT_VALUES(r[0], 0);
  EXPECT_VALUES(r[1], 0);
  lg_release(r[0]), lg_release(r[1]);
  lg_release(a), lg_release(b), lg_release(y), lg_release(s), lg_release(r2), lg_release(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(in_place_writes_bump_the_version),
      TEST(optimizer_steps_bump_parameter_and_state),
      TEST(batch_norm_running_stats_bump_in_training_only),
      TEST(write_through_detach_alias_is_refused),
      TEST(write_with_grad_mode_off_is_refused),
      TEST(saved_labels_and_indices_are_checked),
      TEST(unrelated_writes_pass),
      TEST(optimizer_step_between_forward_and_backward_is_refused),
      TEST(retained_graph_is_checked_on_the_next_backward),
      TEST(create_graph_results_are_checked_too),
      TEST(grad_of_an_input_listed_twice),
  };
  return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
