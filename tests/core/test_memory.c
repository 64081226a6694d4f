/* Storage accounting: nothing stays live, and the pool reuses buffers. */
#include "check.h"

static void tensors_return_live_bytes_to_the_start(void **state) {
  (void)state;
  uint64_t start = lg_memory().bytes_live;
  lg_tensor *a = ck_randn(SHAPE(100, 100)), *v = CK(lg_transpose(a, 0, 1));
  assert_true(lg_memory().bytes_live >= start + 100 * 100 * sizeof(float));
  lg_release(a);
  assert_true(lg_memory().bytes_live > start);   /* the view keeps the storage */
  lg_release(v);
  assert_int_equal(lg_memory().bytes_live, start);
}

static void a_graph_and_its_gradients_are_freed(void **state) {
  (void)state;
  uint64_t start = lg_memory().bytes_live;
  lg_tensor *x = ck_randn(SHAPE(16, 32)), *w = ck_randn(SHAPE(8, 32));
  x->requires_grad = w->requires_grad = true;
  lg_tensor *h = CK(lg_linear(x, w, NULL)), *t = CK(lg_tanh(h)), *s = CK(lg_sum(t));
  lg_tensor *g = NULL;                      /* a second-order graph, then backward through it */
  assert_int_equal(lg_grad(1, &s, NULL, 1, &x, &g, true, true), 0);
  lg_tensor *gg = CK(lg_mul(g, g)), *p = CK(lg_sum(gg));
  assert_int_equal(lg_backward(p, NULL, false), 0);
  assert_non_null(w->grad);
  lg_release(h), lg_release(t), lg_release(s), lg_release(g), lg_release(gg), lg_release(p);
  lg_release(x), lg_release(w);
  assert_int_equal(lg_memory().bytes_live, start);
}

static void training_loop_keeps_live_bytes_flat_and_reuses_buffers(void **state) {
  (void)state;
  lg_tensor *w = ck_randn(SHAPE(64, 128));
  w->requires_grad = true;
  uint64_t live = 0, total_before = 0;
  for (int it = 0; it < 20; it++) {
    lg_tensor *x = ck_randn(SHAPE(32, 128)), *h = CK(lg_linear(x, w, NULL));
    lg_tensor *r = CK(lg_relu(h)), *s = CK(lg_mean(r));
    assert_int_equal(lg_backward(s, NULL, false), 0);
    lg_release(x), lg_release(h), lg_release(r), lg_release(s);
    lg_release(w->grad);
    w->grad = NULL;
    lg_memstats m = lg_memory();
    if (it == 2) {
      live = m.bytes_live;
      total_before = m.bytes_allocated_total;
    }
    if (it > 2) assert_int_equal(m.bytes_live, live);
    assert_true(m.bytes_peak >= m.bytes_live);
  }
  lg_memstats m = lg_memory();
  assert_true(m.bytes_allocated_total > total_before);   /* requests keep counting */
  assert_true(m.bytes_cached > 0);                       /* freed buffers wait in the pool */
  lg_release(w);
}

static void trim_empties_the_pool(void **state) {
  (void)state;
  lg_tensor *t = ck_randn(SHAPE(1000));
  lg_release(t);
  assert_true(lg_memory().bytes_cached > 0);
  lg_memory_trim();
  assert_int_equal(lg_memory().bytes_cached, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(tensors_return_live_bytes_to_the_start),
      TEST(a_graph_and_its_gradients_are_freed),
      TEST(training_loop_keeps_live_bytes_flat_and_reuses_buffers),
      TEST(trim_empties_the_pool),
  };
  return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
