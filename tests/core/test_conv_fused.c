/* conv2d_act (core/ops_conv.c): conv2d, plus an addend (a residual), then
** relu or leaky relu, in one pass over the output.  Its values and gradients
** must be those of lg_relu / lg_leaky_relu applied to lg_conv2d's result
** (lg_add'ed to the addend), bit for bit, on the
** direct path (stride 1, conv_direct.c, including blocks of 4 and 8 rows)
** and the column path (stride 2, a single output channel); bitwise the same
** at 1 and 2 threads; gradients to second order; its errors. */
#include "check.h"

#include <math.h>
#include <string.h>

typedef struct {
  int n, c, o, h, w, k, s, p;
} shape;

static const shape shapes[] = {
    {4, 16, 16, 28, 28, 3, 1, 1},    /* simgan's residual conv: blocks of 12 + 4 rows */
    {3, 1, 16, 28, 28, 3, 1, 1},     /* its first layer */
    {2, 5, 20, 9, 30, 3, 1, 1},      /* 12 + 8 rows */
    {2, 3, 7, 6, 26, 1, 1, 0},       /* 1x1, a partial block of 7 */
    {2, 4, 24, 14, 14, 3, 2, 1},     /* stride 2: the column path */
    {3, 8, 1, 7, 7, 1, 1, 0},        /* one output channel: the column path */
};

static lg_conv_opts opts(const shape *s) {
  lg_conv_opts o = {{s->s, s->s}, {s->p, s->p}, {0, 0}};
  return o;
}

static void expect_same_bits(const lg_tensor *a, const lg_tensor *b, const char *what, size_t t) {
  assert_int_equal(a->numel, b->numel);
  if (memcmp(lg_data((lg_tensor *)a), lg_data((lg_tensor *)b), (size_t)a->numel * sizeof(float)))
    print_error("%s differs on shape %zu\n", what, t);
  assert_memory_equal(lg_data((lg_tensor *)a), lg_data((lg_tensor *)b),
                      (size_t)a->numel * sizeof(float));
}

/* The unfused reference: act(conv2d(x, w, b) + add), add optional. */
static lg_tensor *unfused(lg_tensor *x, lg_tensor *w, lg_tensor *b, lg_tensor *add,
                          const lg_conv_opts *o, lg_act act, float slope) {
  lg_tensor *y = lg_conv2d(x, w, b, o);
  if (y && add) {
    lg_tensor *sum = lg_add(y, add);
    lg_release(y);
    y = sum;
  }
  if (!y || act == LG_ACT_NONE) return y;
  lg_tensor *z = act == LG_ACT_RELU ? lg_relu(y) : lg_leaky_relu(y, slope);
  lg_release(y);
  return z;
}

/* Forward values, then the gradients of sum(out .* gout) for x, w, b (and
** the addend), fused against unfused. */
static void check_act(lg_act act, float slope, bool with_add) {
  static const char *const names[] = {"grad x", "grad w", "grad b", "grad add"};
  for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
    const shape *s = &shapes[t];
    lg_conv_opts o = opts(s);
    int64_t ho = (s->h + 2 * s->p - s->k) / s->s + 1;
    lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
    lg_tensor *w = ck_randn(SHAPE(s->o, s->c, s->k, s->k)), *b = ck_randn(SHAPE(s->o));
    lg_tensor *add = with_add ? ck_randn(SHAPE(s->n, s->o, ho, (s->w + 2 * s->p - s->k) / s->s + 1))
                              : NULL;
    x->requires_grad = w->requires_grad = b->requires_grad = true;
    if (add) add->requires_grad = true;
    int nin = add ? 4 : 3;
    lg_tensor *in[4] = {x, w, b, add}, *g1[4], *g2[4];
    lg_tensor *y1 = CK(lg_conv2d_act(x, w, b, add, &o, act, slope));
    lg_tensor *y2 = CK(unfused(x, w, b, add, &o, act, slope));
    expect_same_bits(y1, y2, "forward", t);
    lg_tensor *gout = ck_randn(y1->ndim, y1->shape);
    assert_int_equal(lg_grad(1, &y1, &gout, nin, in, g1, false, false), 0);
    assert_int_equal(lg_grad(1, &y2, &gout, nin, in, g2, false, false), 0);
    for (int i = 0; i < nin; i++) {
      expect_same_bits(g1[i], g2[i], names[i], t);
      lg_release(g1[i]), lg_release(g2[i]);
    }
    lg_release(x), lg_release(w), lg_release(b), lg_release(add), lg_release(gout);
    lg_release(y1), lg_release(y2);
  }
}

static void relu_matches_unfused(void **state) {
  (void)state;
  check_act(LG_ACT_RELU, 0.0f, false);
}

static void leaky_matches_unfused(void **state) {
  (void)state;
  check_act(LG_ACT_LEAKY, 0.2f, false);
  check_act(LG_ACT_LEAKY, 0.0f, false);
}

/* The residual block's (x + conv(h)):relu(), and the addend alone. */
static void addend_matches_unfused(void **state) {
  (void)state;
  check_act(LG_ACT_RELU, 0.0f, true);
  check_act(LG_ACT_LEAKY, 0.2f, true);
  check_act(LG_ACT_NONE, 0.0f, true);
}

/* A NaN in the input spreads to the outputs that read it; relu and leaky
** relu pass it, as lg_relu does (NaN <= 0 is false). */
static void nan_passes_as_unfused(void **state) {
  (void)state;
  const shape *s = &shapes[0];
  lg_conv_opts o = opts(s);
  lg_tensor *x = ck_randn(SHAPE(s->n, s->c, s->h, s->w));
  lg_tensor *w = ck_randn(SHAPE(s->o, s->c, s->k, s->k)), *b = ck_randn(SHAPE(s->o));
  ((float *)lg_data(x))[5 * s->w + 7] = NAN;
  for (int a = 0; a < 2; a++) {
    lg_act act = a ? LG_ACT_LEAKY : LG_ACT_RELU;
    lg_tensor *y1 = CK(lg_conv2d_act(x, w, b, NULL, &o, act, 0.2f));
    lg_tensor *y2 = CK(unfused(x, w, b, NULL, &o, act, 0.2f));
    int nans = 0;
    for (int64_t i = 0; i < y1->numel; i++) {
      float u = ((float *)lg_data(y1))[i], v = ((float *)lg_data(y2))[i];
      assert_int_equal(isnan(u), isnan(v));
      if (!isnan(u)) assert_true(u == v);
      nans += isnan(u) != 0;
    }
    assert_int_equal(nans, 9 * s->o);   /* the 3x3 outputs around it, every channel */
    lg_release(y1), lg_release(y2);
  }
  lg_release(x), lg_release(w), lg_release(b);
}

static void same_bits_at_1_and_2_threads(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(8, 16, 28, 28)), *w = ck_randn(SHAPE(16, 16, 3, 3));
  lg_tensor *b = ck_randn(SHAPE(16));
  lg_conv_opts o = {{1, 1}, {1, 1}, {0, 0}}, o2 = {{2, 2}, {1, 1}, {0, 0}};
  int before = lg_get_num_threads();
  lg_tensor *y[2], *z[2];
  for (int t = 0; t < 2; t++) {
    lg_set_num_threads(t + 1);
    y[t] = CK(lg_conv2d_act(x, w, b, NULL, &o, LG_ACT_RELU, 0.0f));
    z[t] = CK(lg_conv2d_act(x, w, b, NULL, &o2, LG_ACT_LEAKY, 0.2f));
  }
  lg_set_num_threads(before);
  expect_same_bits(y[0], y[1], "stride 1", 0);
  expect_same_bits(z[0], z[1], "stride 2", 0);
  lg_release(x), lg_release(w), lg_release(b);
  lg_release(y[0]), lg_release(y[1]), lg_release(z[0]), lg_release(z[1]);
}

typedef struct {
  lg_conv_opts o;
  lg_act act;
} act_ctx;

FN(f_conv_act, lg_conv2d_act(x[0], x[1], x[2], NULL, &((const act_ctx *)ctx)->o,
                             ((const act_ctx *)ctx)->act, 0.2f))
FN(f_conv_act_add, lg_conv2d_act(x[0], x[1], x[2], x[3], &((const act_ctx *)ctx)->o,
                                 ((const act_ctx *)ctx)->act, 0.2f))

/* Biases of +-3..5 and inputs of scale 0.1: every output sits far from the
** kink (|conv| stays below 1), some channels on each side of it. */
static lg_tensor *far_biases(int64_t o) {
  lg_tensor *b = ck_rand(SHAPE(o));
  float *p = lg_data(b);
  for (int64_t i = 0; i < o; i++) p[i] = (i % 2 ? -1.0f : 1.0f) * (3.0f + 2.0f * p[i]);
  return b;
}

static lg_tensor *scaled(lg_tensor *t, float s) {
  float *p = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) p[i] *= s;
  return t;
}

/* Wide enough (Wo 24) for the direct path, and stride 2 for the columns. */
static void grads_to_second_order(void **state) {
  (void)state;
  act_ctx relu = {{{1, 1}, {1, 1}, {0, 0}}, LG_ACT_RELU};
  CHECK_GRADS(f_conv_act, &relu, scaled(ck_randn(SHAPE(1, 3, 3, 24)), 0.1f),
              scaled(ck_randn(SHAPE(8, 3, 3, 3)), 0.1f), far_biases(8));
  act_ctx leaky = {{{2, 2}, {1, 1}, {0, 0}}, LG_ACT_LEAKY};
  CHECK_GRADS(f_conv_act, &leaky, scaled(ck_randn(SHAPE(2, 2, 5, 6)), 0.1f),
              scaled(ck_randn(SHAPE(4, 2, 3, 3)), 0.1f), far_biases(4));
  /* the addend of scale 0.1 too, so that the biases still decide the signs */
  CHECK_GRADS(f_conv_act_add, &relu, scaled(ck_randn(SHAPE(1, 3, 3, 24)), 0.1f),
              scaled(ck_randn(SHAPE(8, 3, 3, 3)), 0.1f), far_biases(8),
              scaled(ck_randn(SHAPE(1, 8, 3, 24)), 0.1f));
}

static void errors(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(1, 2, 5, 5)), *w = ck_randn(SHAPE(3, 2, 3, 3));
  EXPECT_ERR(lg_conv2d_act(x, w, NULL, NULL, NULL, LG_ACT_LEAKY, -0.5f), "conv2d_act",
             "slope must be >= 0", "-0.5");
  EXPECT_ERR(lg_conv2d_act(x, w, NULL, NULL, NULL, (lg_act)7, 0.0f), "conv2d_act",
             "unknown activation 7");
  lg_tensor *w4 = ck_randn(SHAPE(3, 4, 3, 3));
  EXPECT_ERR(lg_conv2d_act(x, w4, NULL, NULL, NULL, LG_ACT_RELU, 0.0f), "conv2d_act",
             "input has 2 channels");
  lg_tensor *add = ck_randn(SHAPE(1, 3, 3, 4));
  EXPECT_ERR(lg_conv2d_act(x, w, NULL, add, NULL, LG_ACT_RELU, 0.0f), "conv2d_act",
             "add must have the output's shape [1,3,3,3], got [1,3,3,4]");
  lg_release(x), lg_release(w), lg_release(w4), lg_release(add);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(relu_matches_unfused),
      TEST(leaky_matches_unfused),
      TEST(addend_matches_unfused),
      TEST(nan_passes_as_unfused),
      TEST(same_bits_at_1_and_2_threads),
      TEST(grads_to_second_order),
      TEST(errors),
  };
  return cmocka_run_group_tests_name("conv_fused", tests, NULL, NULL);
}
