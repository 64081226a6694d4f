/* Batch normalisation: training and eval values against PyTorch 1.13
** (F.batch_norm in float64, pasted below), running statistics, gradients to
** second order in both modes, errors. */
#include "check.h"

/* ((i*mul) mod m - off) / div for element i (exact in float). */
static lg_tensor *ramp(int nd, const int64_t *shape, int mul, int m, int off, float div) {
  lg_tensor *t = CK(lg_empty(nd, shape));
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) d[i] = (float)((i * mul) % m - off) / div;
  return t;
}

/* The reference script's input: x = ramp(7,11,5,4) + ramp(3,5,1,8). */
static lg_tensor *input(int nd, const int64_t *shape) {
  lg_tensor *t = ramp(nd, shape, 7, 11, 5, 4);
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) d[i] += (float)((i * 3) % 5 - 1) / 8;
  return t;
}
#define INPUT(...) input(SHAPE(__VA_ARGS__))
/* running_mean ((i%3)-1)/10, running_var ((i%3)+2)/2, weight ((2i%5)+1)/4, bias ((3i%7)-3)/4 */
#define RUN_MEAN(c) ramp(SHAPE(c), 1, 3, 1, 10)
#define RUN_VAR(c) ramp(SHAPE(c), 1, 3, -2, 2)
#define WEIGHT(c) ramp(SHAPE(c), 2, 5, -1, 4)
#define BIAS(c) ramp(SHAPE(c), 3, 7, 3, 4)

#define EXPECT_ARRAY(t, ref)                                                          \
  ck_expect_values_((t), (ref), (int)(sizeof(ref) / sizeof((ref)[0])), 1e-5, #t,    \
                    __FILE__, __LINE__)

/* {====================================================== PyTorch reference values
** F.batch_norm(x, rm, rv, w, b, training=True, momentum, eps) (rm, rv updated
** in place by torch, so the *_rm / *_rv arrays are the values after one call). */

static const float ref_nc_y[12] = {-1.1716886, 1.00620197, 2.33093648, -0.529115495, 0.335400656, -0.0404682416, -0.609437133, -0.335400656, 1.54046824, -0.689758771, -1.00620197, -0.830936483};
static const float ref_nc_rm[3] = {-0.030625, 0.01875, 0.015};
static const float ref_nc_rv[3] = {1.08164062, 1.3734375, 1.80520833};
static const float ref_ncl_y[24] = {-1.20299693, -0.62722513, -0.965914426, -0.390142623, 0.279553981, -0.962908157, 1.14927748, -0.0931846604, -0.0718760751, 2.31903614, 0.326609295, -0.66960413, -0.694962989, -0.864307637, -0.457880482, -0.796569778, -0.590169516, 0.90078505, 0.279553981, -0.962908157, 1.92055077, 0.924337349, -1.0680895, 2.31903614};
static const float ref_ncl_rm[3] = {0.0190625, 0.028125, 0.0371875};
static const float ref_ncl_rv[3] = {0.99188058, 1.24520089, 1.61085379};
static const float ref_nchw_y[36] = {-1.1755526, -0.558400487, -0.921431143, -0.304279027, -0.667309684, -1.03034034, -0.413188224, -0.776218881, -0.957734209, 0.747174628, -0.422316094, -1.00706145, 0.396327411, -0.18841795, 1.21497092, 0.0454801947, -0.539265166, 0.8641237, -0.667309684, -1.03034034, -0.594703553, -0.776218881, -1.13924954, -0.522097421, -0.885128078, -0.44949129, -0.631006618, -0.77316331, 1.21497092, 0.0454801947, -1.12401053, 0.8641237, -0.305367022, -0.890112382, 0.513276483, -0.656214238};
static const float ref_nchw_rm[2] = {-0.0809722222, 0.00763888889};
static const float ref_nchw_rv[2] = {0.978456904, 1.41804024};
static const float ref_nowb_y[24] = {-1.46566711, 0.888632814, -0.496249494, 1.85805043, 0.181464171, -1.49358972, 1.35400189, -0.321051995, -0.634737724, 1.02712104, -0.357761263, -1.05020242, 0.34896956, -0.488557384, 1.52150728, -0.153546606, -0.496249494, 1.16560928, 0.473168122, -0.911714186, 0.516474948, -0.321051995, -1.99610588, 0.851485726};
static const float ref_nowb_rm[2] = {-0.0760416667, 0.119791667};
static const float ref_nowb_rv[2] = {0.94383286, 1.05320786};
static const float ref_eval_y[24] = {-1.06874841, -0.537501062, -0.8499995, -0.318752156, 0.229638898, -0.535824095, 0.765462993, 0, 0.109186082, 1.43500798, 0.330156398, -0.222269393, -0.60000075, -0.756249969, -0.381251844, -0.693750281, -0.306185197, 0.612370394, 0.229638898, -0.535824095, 1.21403767, 0.661611873, -0.44323971, 1.43500798};

/* }====================================================== */

/* {====================================================== forward values */

/* One training call with the standard running stats (and affine) of c channels:
** checks y, the new running mean and the new running var (unbiased variance). */
#define TRAIN_CASE(x, c, affine, momentum, eps, ry, rrm, rrv)                            \
  train_case_(x, c, affine, momentum, eps, ry, (int)(sizeof ry / sizeof ry[0]), rrm, rrv, \
              __FILE__, __LINE__)
static void train_case_(lg_tensor *x, int64_t c, bool affine, float momentum, float eps,
                        const float *ey, int ny, const float *erm, const float *erv,
                        const char *file, int line) {
  lg_tensor *rm = RUN_MEAN(c), *rv = RUN_VAR(c);
  lg_tensor *w = affine ? WEIGHT(c) : NULL, *b = affine ? BIAS(c) : NULL;
  lg_tensor *y = CK(lg_batch_norm(x, rm, rv, w, b, true, momentum, eps));
  ck_expect_shape_(y, x->ndim, x->shape, "y", file, line);
  ck_expect_values_(y, ey, ny, 1e-5, "y", file, line);
  ck_expect_values_(rm, erm, (int)c, 1e-6, "running_mean", file, line);
  ck_expect_values_(rv, erv, (int)c, 1e-6, "running_var", file, line);
  lg_release(y), lg_release(rm), lg_release(rv), lg_release(w), lg_release(b);
}

static void train_nc(void **state) {
  (void)state;
  lg_tensor *x = INPUT(4, 3);
  TRAIN_CASE(x, 3, true, 0.1f, 1e-5f, ref_nc_y, ref_nc_rm, ref_nc_rv);
  lg_release(x);
}

static void train_ncl_momentum(void **state) {
  (void)state;
  lg_tensor *x = INPUT(2, 3, 4);
  TRAIN_CASE(x, 3, true, 0.3f, 1e-5f, ref_ncl_y, ref_ncl_rm, ref_ncl_rv);
  lg_release(x);
}

static void train_nchw(void **state) {
  (void)state;
  lg_tensor *x = INPUT(2, 2, 3, 3);
  TRAIN_CASE(x, 2, true, 0.1f, 1e-5f, ref_nchw_y, ref_nchw_rm, ref_nchw_rv);
  lg_release(x);
}

static void train_without_weight_and_bias(void **state) {
  (void)state;
  lg_tensor *x = INPUT(3, 2, 2, 2);
  TRAIN_CASE(x, 2, false, 0.5f, 1e-3f, ref_nowb_y, ref_nowb_rm, ref_nowb_rv);
  lg_release(x);
}

static void train_noncontiguous_input(void **state) {
  (void)state;
  lg_tensor *x = INPUT(2, 2, 3, 3), *xn = ck_noncontig(x);
  assert_false(lg_is_contiguous(xn));
  TRAIN_CASE(xn, 2, true, 0.1f, 1e-5f, ref_nchw_y, ref_nchw_rm, ref_nchw_rv);
  lg_tensor *x2 = INPUT(4, 3), *x2n = ck_noncontig(x2);
  TRAIN_CASE(x2n, 3, true, 0.1f, 1e-5f, ref_nc_y, ref_nc_rm, ref_nc_rv);
  lg_release(x), lg_release(xn), lg_release(x2), lg_release(x2n);
}

static void train_without_running_stats(void **state) {
  (void)state;
  lg_tensor *x = INPUT(4, 3), *w = WEIGHT(3), *b = BIAS(3);
  lg_tensor *y = CK(lg_batch_norm(x, NULL, NULL, w, b, true, 0.1f, 1e-5f));
  EXPECT_ARRAY(y, ref_nc_y);
  lg_release(x), lg_release(w), lg_release(b), lg_release(y);
}

static void eval_uses_running_stats(void **state) {
  (void)state;
  lg_tensor *x = INPUT(2, 3, 2, 2), *rm = RUN_MEAN(3), *rv = RUN_VAR(3);
  lg_tensor *w = WEIGHT(3), *b = BIAS(3);
  lg_tensor *y = CK(lg_batch_norm(x, rm, rv, w, b, false, 0.1f, 1e-5f));
  EXPECT_ARRAY(y, ref_eval_y);
  EXPECT_VALUES(rm, -0.1f, 0, 0.1f);   /* untouched in eval */
  EXPECT_VALUES(rv, 1, 1.5f, 2);
  /* by hand, without affine: (x - rm) / sqrt(rv + eps) */
  lg_tensor *y2 = CK(lg_batch_norm(x, rm, rv, NULL, NULL, false, 0.1f, 0));
  for (int64_t i = 0; i < x->numel; i++) {
    int64_t c = i / 4 % 3;
    float e = (ck_get(x, i) - ck_get(rm, c)) / sqrtf(ck_get(rv, c));
    assert_true(fabsf(ck_get(y2, i) - e) <= 1e-6f * fmaxf(1, fabsf(e)));
  }
  lg_release(x), lg_release(rm), lg_release(rv), lg_release(w), lg_release(b), lg_release(y);
  lg_release(y2);
}

/* Running stats converge to the data's statistics over repeated calls. */
static void running_stats_converge(void **state) {
  (void)state;
  lg_tensor *x = INPUT(4, 3), *rm = CK(lg_zeros(SHAPE(3))), *rv = CK(lg_full(SHAPE(3), 1));
  for (int k = 0; k < 200; k++) {
    lg_tensor *y = CK(lg_batch_norm(x, rm, rv, NULL, NULL, true, 0.1f, 1e-5f));
    lg_release(y);
  }
  for (int c = 0; c < 3; c++) {
    double m = 0, v = 0;
    for (int n = 0; n < 4; n++) m += ck_get(x, n * 3 + c) / 4.0;
    for (int n = 0; n < 4; n++) v += pow(ck_get(x, n * 3 + c) - m, 2) / 3.0;   /* unbiased */
    assert_true(fabs(ck_get(rm, c) - m) < 1e-5);
    assert_true(fabs(ck_get(rv, c) - v) < 1e-5);
  }
  lg_release(x), lg_release(rm), lg_release(rv);
}

/* Large inputs (threaded paths, channel blocks of [N,C] with C > 128, a
** mean far from zero) against statistics computed here in double. */
static void check_against_double(lg_tensor *x, float offset) {
  float *d = lg_data(x);
  for (int64_t i = 0; i < x->numel; i++) d[i] += offset;
  int64_t N = x->shape[0], C = x->shape[1], S = x->numel / (N * C);
  lg_tensor *y = CK(lg_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
  for (int64_t c = 0; c < C; c++) {
    double m = 0, v = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) m += d[(n * C + c) * S + s];
    m /= (double)(N * S);
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) v += pow(d[(n * C + c) * S + s] - m, 2);
    v /= (double)(N * S);
    for (int64_t n = 0; n < N; n++)
      for (int64_t s = 0; s < S; s++) {
        int64_t i = (n * C + c) * S + s;
        double e = (d[i] - m) / sqrt(v + 1e-5);
        if (fabs(ck_get(y, i) - e) > 1e-4 * fmax(1, fabs(e))) {
          print_error("element %lld: %.7g, expected %.7g\n", (long long)i, ck_get(y, i), e);
          fail();
        }
      }
  }
  lg_release(y);
}

static void large_inputs_match_double_precision(void **state) {
  (void)state;
  lg_tensor *a = ck_randn(SHAPE(64, 300)), *b = ck_randn(SHAPE(16, 8, 32, 32));
  lg_tensor *c = ck_randn(SHAPE(8, 5, 1000));
  check_against_double(a, 0);
  check_against_double(b, 100);
  check_against_double(c, -30);
  lg_release(a), lg_release(b), lg_release(c);
}

/* }====================================================== */

/* {====================================================== gradients */

typedef struct {
  lg_tensor *rm, *rv;
} stats;

FN(f_train, lg_batch_norm(x[0], NULL, NULL, x[1], x[2], true, 0.1f, 1e-5f))
FN(f_train_x, lg_batch_norm(x[0], NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f))
FN(f_eval, lg_batch_norm(x[0], ((const stats *)ctx)->rm, ((const stats *)ctx)->rv, x[1], x[2],
                         false, 0.1f, 1e-5f))
FN(f_eval_x, lg_batch_norm(x[0], ((const stats *)ctx)->rm, ((const stats *)ctx)->rv, NULL,
                           NULL, false, 0.1f, 1e-5f))

/* batch_norm then tanh: a non-linear loss, so every second-order path is used. */
static lg_tensor *f_train_tanh(lg_tensor **x, const void *ctx) {
  (void)ctx;
  lg_tensor *y = lg_batch_norm(x[0], NULL, NULL, x[1], x[2], true, 0.1f, 1e-5f);
  lg_tensor *t = y ? lg_tanh(y) : NULL;
  lg_release(y);
  return t;
}

static void grad_train(void **state) {
  (void)state;
  CHECK_GRADS(f_train, NULL, ck_randn(SHAPE(4, 3)), ck_randn(SHAPE(3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_train, NULL, ck_randn(SHAPE(3, 2, 4)), ck_randn(SHAPE(2)), ck_randn(SHAPE(2)));
  CHECK_GRADS(f_train, NULL, ck_randn(SHAPE(2, 3, 2, 3)), ck_randn(SHAPE(3)),
              ck_randn(SHAPE(3)));
  CHECK_GRADS(f_train_x, NULL, ck_randn(SHAPE(5, 2)));
  CHECK_GRADS(f_train_tanh, NULL, ck_randn(SHAPE(2, 2, 2, 2)), ck_randn(SHAPE(2)),
              ck_randn(SHAPE(2)));
}

static void grad_eval(void **state) {
  (void)state;
  stats s = {RUN_MEAN(3), RUN_VAR(3)};
  CHECK_GRADS(f_eval, &s, ck_randn(SHAPE(4, 3)), ck_randn(SHAPE(3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_eval, &s, ck_randn(SHAPE(2, 3, 2, 2)), ck_randn(SHAPE(3)), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_eval_x, &s, ck_randn(SHAPE(2, 3, 3)));
  lg_release(s.rm), lg_release(s.rv);
}

/* The plain backward (no create_graph) equals the graph one. */
static void fused_and_graph_backward_agree(void **state) {
  (void)state;
  lg_tensor *x = ck_randn(SHAPE(4, 3, 2, 2)), *w = ck_randn(SHAPE(3)), *b = ck_randn(SHAPE(3));
  lg_tensor *g = ck_randn(SHAPE(4, 3, 2, 2));
  x->requires_grad = w->requires_grad = b->requires_grad = true;
  lg_tensor *in[3] = {x, w, b}, *r1[3], *r2[3];
  for (int pass = 0; pass < 2; pass++) {
    lg_tensor *y = CK(lg_batch_norm(x, NULL, NULL, w, b, true, 0.1f, 1e-5f));
    assert_int_equal(lg_grad(1, &y, &g, 3, in, pass ? r2 : r1, pass == 1, false), 0);
    lg_release(y);
  }
  for (int i = 0; i < 3; i++) {
    for (int64_t k = 0; k < r1[i]->numel; k++)
      assert_true(fabsf(ck_get(r1[i], k) - ck_get(r2[i], k)) <= 1e-4f);
    lg_release(r1[i]), lg_release(r2[i]);
  }
  /* the gradient wrt x of a training batch norm sums to zero per channel */
  lg_tensor *y = CK(lg_batch_norm(x, NULL, NULL, w, b, true, 0.1f, 1e-5f)), *gx;
  assert_int_equal(lg_grad(1, &y, &g, 1, &x, &gx, false, false), 0);
  for (int c = 0; c < 3; c++) {
    double s = 0;
    for (int n = 0; n < 4; n++)
      for (int k = 0; k < 4; k++) s += ck_get(gx, (n * 3 + c) * 4 + k);
    assert_true(fabs(s) < 1e-4);
  }
  lg_release(y), lg_release(gx), lg_release(x), lg_release(w), lg_release(b), lg_release(g);
}

/* }====================================================== */

/* {====================================================== errors */

static void batch_norm_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(2, 3))), *x1 = CK(lg_zeros(SHAPE(1, 3)));
  lg_tensor *x11 = CK(lg_zeros(SHAPE(1, 3, 1, 1))), *v = CK(lg_zeros(SHAPE(3)));
  lg_tensor *x6 = CK(lg_zeros(SHAPE(1, 2, 2, 2, 2, 2))), *w4 = CK(lg_zeros(SHAPE(4)));
  lg_tensor *w13 = CK(lg_zeros(SHAPE(1, 3)));
  lg_tensor *rm = CK(lg_zeros(SHAPE(3))), *rv = CK(lg_full(SHAPE(3), 1));
  EXPECT_ERR(lg_batch_norm(x1, rm, rv, NULL, NULL, true, 0.1f, 1e-5f), "batch_norm",
             "more than 1 value per channel", "[1,3]");
  EXPECT_ERR(lg_batch_norm(x11, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f), "batch_norm",
             "[1,3,1,1]");
  EXPECT_ERR(lg_batch_norm(x, rm, rv, w4, NULL, true, 0.1f, 1e-5f), "batch_norm", "weight",
             "[4]", "[2,3]");
  EXPECT_ERR(lg_batch_norm(x, rm, rv, w13, NULL, true, 0.1f, 1e-5f), "batch_norm", "weight",
             "[1,3]");
  EXPECT_ERR(lg_batch_norm(x, rm, rv, NULL, w4, true, 0.1f, 1e-5f), "batch_norm", "bias", "[4]");
  EXPECT_ERR(lg_batch_norm(x, w4, rv, NULL, NULL, true, 0.1f, 1e-5f), "batch_norm",
             "running_mean", "[4]");
  EXPECT_ERR(lg_batch_norm(x, rm, w4, NULL, NULL, false, 0.1f, 1e-5f), "batch_norm",
             "running_var", "[4]");
  EXPECT_ERR(lg_batch_norm(x, NULL, NULL, NULL, NULL, false, 0.1f, 1e-5f), "batch_norm",
             "eval", "running_mean");
  EXPECT_ERR(lg_batch_norm(x, rm, NULL, NULL, NULL, false, 0.1f, 1e-5f), "batch_norm",
             "running_var");
  EXPECT_ERR(lg_batch_norm(v, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f), "batch_norm", "[3]");
  EXPECT_ERR(lg_batch_norm(x6, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f), "batch_norm",
             "[1,2,2,2,2,2]");
  EXPECT_ERR(lg_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1f, -1.0f), "batch_norm", "eps");
  /* a failed call leaves the running stats alone */
  EXPECT_VALUES(rm, 0, 0, 0);
  EXPECT_VALUES(rv, 1, 1, 1);
  /* eval with one value per channel is fine */
  lg_tensor *y = CK(lg_batch_norm(x1, rm, rv, NULL, NULL, false, 0.1f, 0));
  EXPECT_VALUES(y, 0, 0, 0);
  lg_release(y), lg_release(x), lg_release(x1), lg_release(x11), lg_release(v), lg_release(x6);
  lg_release(w4), lg_release(w13), lg_release(rm), lg_release(rv);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(train_nc),
      TEST(train_ncl_momentum),
      TEST(train_nchw),
      TEST(train_without_weight_and_bias),
      TEST(train_noncontiguous_input),
      TEST(train_without_running_stats),
      TEST(eval_uses_running_stats),
      TEST(running_stats_converge),
      TEST(large_inputs_match_double_precision),
      TEST(grad_train),
      TEST(grad_eval),
      TEST(fused_and_graph_backward_agree),
      TEST(batch_norm_errors),
  };
  return cmocka_run_group_tests_name("norm", tests, NULL, NULL);
}
