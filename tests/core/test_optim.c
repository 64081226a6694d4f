/* Optimizer update loops against torch.optim 1.13 (SGD, Adam, RMSprop run for
** three steps in float32 on the same parameter and gradients; the parameter
** after each step and the final state are pasted below), clipping, the
** global norm, and errors. */
#include "check.h"

/* The parameter before step 1, and the gradient at steps 1, 2, 3. */
static const float P0[4] = {0.5f, -1.0f, 1.5f, -2.0f};
static const float G[3][4] = {{0.1f, -0.2f, 0.3f, 0.4f},
                              {-0.5f, 0.25f, 0.1f, -0.05f},
                              {0.3f, 0.3f, -0.6f, 0.2f}};

/* {====================================================== torch.optim reference values
** ref_X[4k .. 4k+3] is the parameter after step k+1; ref_X_<state> the
** optimizer state after step 3 (torch's names). */

/* sgd: {'lr': 0.1} */
static const float ref_sgd[12] = {0.49000001, -0.980000019, 1.47000003, -2.03999996, 0.540000021, -1.005, 1.46000004, -2.03499985, 0.50999999, -1.03499997, 1.5200001, -2.05499983};
/* sgd_mom: {'lr': 0.1, 'momentum': 0.9} */
static const float ref_sgd_mom[12] = {0.49000001, -0.980000019, 1.47000003, -2.03999996, 0.531000018, -0.987000048, 1.43299997, -2.07099986, 0.537900031, -1.02330005, 1.45969999, -2.11889982};
static const float ref_sgd_mom_momentum_buffer[4] = {-0.0689999759, 0.363000035, -0.26700002, 0.478999972};
/* sgd_damp: {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.5} */
static const float ref_sgd_damp[12] = {0.49000001, -0.980000019, 1.47000003, -2.03999996, 0.505999982, -0.9745, 1.43800008, -2.07349992, 0.505400002, -0.984549999, 1.43920004, -2.11364985};
static const float ref_sgd_damp_momentum_buffer[4] = {0.00600001216, 0.100500017, -0.0119999945, 0.401499957};
/* sgd_nesterov: {'lr': 0.1, 'momentum': 0.9, 'nesterov': True} */
static const float ref_sgd_nesterov[12] = {0.481000006, -0.962000012, 1.44299996, -2.07599998, 0.567900002, -0.993300021, 1.39969993, -2.09890008, 0.54411, -1.05597007, 1.48372996, -2.16201019};
static const float ref_sgd_nesterov_momentum_buffer[4] = {-0.0689999759, 0.363000035, -0.26700002, 0.478999972};
/* sgd_wd: {'lr': 0.1, 'momentum': 0.9, 'weight_decay': 0.01} */
static const float ref_sgd_wd[12] = {0.489499986, -0.978999972, 1.46850002, -2.03800011, 0.529560506, -0.984120965, 1.42868149, -2.06516218, 0.53508538, -1.01774573, 1.45141613, -2.10754275};
static const float ref_sgd_wd_momentum_buffer[4] = {-0.0552488565, 0.336247802, -0.227346718, 0.423806369};
/* sgd_wd_plain: {'lr': 0.1, 'weight_decay': 0.5} */
static const float ref_sgd_wd_plain[12] = {0.465000004, -0.930000007, 1.39499998, -1.93999994, 0.491750002, -0.908500016, 1.31524992, -1.83799994, 0.437162489, -0.893074989, 1.30948746, -1.76609993};
/* adam: {'lr': 0.01} */
static const float ref_adam[12] = {0.49000001, -0.99000001, 1.49000001, -2.00999999, 0.495983541, -0.991627336, 1.48128939, -2.01572537, 0.496728897, -0.996914566, 1.4838047, -2.02253056};
static const float ref_adam_exp_avg[4] = {-0.00689999713, 0.0362999998, -0.0267000012, 0.0479000024};
static const float ref_adam_exp_avg_sq[4] = {0.000349730049, 0.000192357547, 0.000459810137, 0.000202177675};
/* adam_wd: {'lr': 0.01, 'weight_decay': 0.1} */
static const float ref_adam_wd[12] = {0.49000001, -0.99000001, 1.49000001, -2.00999999, 0.494947702, -0.987362385, 1.4805336, -2.00835347, 0.494242579, -0.988899708, 1.47925794, -2.0070641};
static const float ref_adam_wd_exp_avg[4] = {0.00650947867, 0.00941637624, 0.0136653278, -0.00647353521};
static const float ref_adam_wd_exp_avg_sq[4] = {0.000347799272, 0.0001531054, 0.000468290033, 0.00010285875};
/* adam_gan: {'lr': 0.0002, 'betas': (0.5, 0.999), 'eps': 1e-06} */
static const float ref_adam_gan[12] = {0.499799997, -0.999800026, 1.49979997, -2.00020003, 0.499966353, -0.999888361, 1.49965084, -2.00027013, 0.49994126, -1.00005758, 1.49978948, -2.00039124};
static const float ref_adam_gan_exp_avg[4] = {0.0375000089, 0.1875, -0.237500012, 0.137500003};
static const float ref_adam_gan_exp_avg_sq[4] = {0.000349730049, 0.000192357547, 0.000459810137, 0.000202177675};
/* rms: {'lr': 0.01} */
static const float ref_rms[12] = {0.400000095, -0.900000036, 1.4000001, -2.0999999, 0.498077005, -0.978239715, 1.36823404, -2.0875349, 0.447171092, -1.04686975, 1.45688164, -2.13233566};
static const float ref_rms_square_avg[4] = {0.00347301015, 0.0019107901, 0.00458109053, 0.00199291017};
/* rms_centered: {'lr': 0.01, 'centered': True} */
static const float ref_rms_centered[12] = {0.399496317, -0.899496257, 1.3994962, -2.10050368, 0.497878045, -0.977746308, 1.36747456, -2.08799195, 0.446965247, -1.04659939, 1.45616364, -2.13312745};
static const float ref_rms_centered_grad_avg[4] = {-0.000969899818, 0.00351479976, -0.00206970004, 0.0054254001};
static const float ref_rms_centered_square_avg[4] = {0.00347301015, 0.0019107901, 0.00458109053, 0.00199291017};
/* rms_mom: {'lr': 0.01, 'momentum': 0.9} */
static const float ref_rms_mom[12] = {0.400000095, -0.900000036, 1.39999998, -2.0999999, 0.408077091, -0.888239741, 1.278234, -2.17753482, 0.364440471, -0.946285605, 1.25729215, -2.29211712};
static const float ref_rms_mom_momentum_buffer[4] = {4.36366129, 5.80458403, 2.09418488, 11.458231};
static const float ref_rms_mom_square_avg[4] = {0.00347301015, 0.0019107901, 0.00458109053, 0.00199291017};
/* rms_wd: {'lr': 0.01, 'alpha': 0.9, 'weight_decay': 0.1} */
static const float ref_rms_wd[12] = {0.468377233, -0.968377233, 1.46837723, -2.03162289, 0.498547435, -0.983363032, 1.45254838, -2.00631809, 0.479154229, -1.00074005, 1.47458982, -2.00625157};
static const float ref_rms_wd_square_avg[4] = {0.0325443819, 0.0134681063, 0.0425654165, 0.00900824275};
/* rms_all: {'lr': 0.005, 'alpha': 0.95, 'eps': 1e-06, 'centered': True, 'momentum': 0.5, 'weight_decay': 0.05} */
static const float ref_rms_all[12] = {0.477059275, -0.977058828, 1.47705865, -2.02294111, 0.487543643, -0.979827762, 1.45554292, -2.02410126, 0.480248362, -0.995445192, 1.46268904, -2.03133798};
static const float ref_rms_all_grad_avg[4] = {-0.00075749954, 0.010823668, -0.00118125498, 0.0112977615};
static const float ref_rms_all_momentum_buffer[4] = {1.45905781, 3.12348652, -1.42922759, 1.44733024};
static const float ref_rms_all_square_avg[4] = {0.016735116, 0.00789243542, 0.0216795802, 0.00563443033};

/* }====================================================== */

#define TOL 1e-6

static void expect4(const lg_tensor *t, const float *e, const char *what, int step,
                    const char *file, int line) {
  char label[96];
  snprintf(label, sizeof label, "%s after step %d", what, step);
  ck_expect_values_(t, e, 4, TOL, label, file, line);
}

typedef enum { SGD, ADAM, RMSPROP } kind;

typedef struct {
  kind k;
  double lr, momentum, dampening, weight_decay, beta1, beta2, eps, alpha;
  bool nesterov, centered;
} config;

typedef struct {
  lg_tensor *p, *g, *s1, *s2, *s3;   /* s1..s3: the state buffers, zeros at first */
} run;

/* Three steps of cfg; each parameter checked against ref[4k..]. */
#define RUN3(cfg, ref) run3_(cfg, ref, #ref, __FILE__, __LINE__)
static run run3_(config c, const float *ref, const char *what, const char *file, int line) {
  run r = {CK(lg_from_data(SHAPE(4), P0)), NULL, CK(lg_zeros(SHAPE(4))), CK(lg_zeros(SHAPE(4))),
           CK(lg_zeros(SHAPE(4)))};
  r.p->requires_grad = true;   /* a leaf parameter: updated in place, no graph */
  for (int k = 0; k < 3; k++) {
    lg_release(r.g);
    r.g = CK(lg_from_data(SHAPE(4), G[k]));
    int rc = 0;
    switch (c.k) {
      case SGD:
        rc = lg_sgd_step(r.p, r.g, c.momentum != 0 ? r.s1 : NULL, c.lr, c.momentum, c.dampening,
                         c.weight_decay, c.nesterov, k == 0);
        break;
      case ADAM:
        rc = lg_adam_step(r.p, r.g, r.s1, r.s2, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay,
                          k + 1);
        break;
      case RMSPROP:
        rc = lg_rmsprop_step(r.p, r.g, r.s1, c.centered ? r.s2 : NULL,
                             c.momentum > 0 ? r.s3 : NULL, c.lr, c.alpha, c.eps,
                             c.weight_decay, c.momentum, c.centered);
        break;
    }
    if (rc) {
      print_error("%s: step %d failed: %s\n", what, k + 1, lg_errmsg());
      ck_fail_(file, line);
    }
    expect4(r.p, ref + 4 * k, what, k + 1, file, line);
  }
  if (r.p->grad_fn != NULL || r.p->grad != NULL) {
    print_error("%s: the update recorded a graph or a gradient\n", what);
    ck_fail_(file, line);
  }
  return r;
}

static void run_free(run r) {
  lg_release(r.p), lg_release(r.g), lg_release(r.s1), lg_release(r.s2), lg_release(r.s3);
}

/* {====================================================== SGD */

static config sgd(double lr, double momentum, double dampening, double wd, bool nesterov) {
  config c = {.k = SGD, .lr = lr, .momentum = momentum, .dampening = dampening,
              .weight_decay = wd, .nesterov = nesterov};
  return c;
}

static void sgd_plain_by_hand_and_torch(void **state) {
  (void)state;
  run r = RUN3(sgd(0.1, 0, 0, 0, false), ref_sgd);
  /* by hand: p - 0.1 (g1 + g2 + g3) */
  float e[4];
  for (int i = 0; i < 4; i++) e[i] = P0[i] - 0.1f * (G[0][i] + G[1][i] + G[2][i]);
  ck_expect_values_(r.p, e, 4, TOL, "sgd by hand", __FILE__, __LINE__);
  run_free(r);
  run_free(RUN3(sgd(0.1, 0, 0, 0.5, false), ref_sgd_wd_plain));
}

static void sgd_momentum(void **state) {
  (void)state;
  run r = RUN3(sgd(0.1, 0.9, 0, 0, false), ref_sgd_mom);
  EXPECT_VALUES_TOL(r.s1, TOL, ref_sgd_mom_momentum_buffer[0], ref_sgd_mom_momentum_buffer[1],
                    ref_sgd_mom_momentum_buffer[2], ref_sgd_mom_momentum_buffer[3]);
  run_free(r);
}

static void sgd_dampening(void **state) {
  (void)state;
  run r = RUN3(sgd(0.1, 0.9, 0.5, 0, false), ref_sgd_damp);
  ck_expect_values_(r.s1, ref_sgd_damp_momentum_buffer, 4, TOL, "buffer", __FILE__, __LINE__);
  run_free(r);
}

static void sgd_nesterov(void **state) {
  (void)state;
  run r = RUN3(sgd(0.1, 0.9, 0, 0, true), ref_sgd_nesterov);
  ck_expect_values_(r.s1, ref_sgd_nesterov_momentum_buffer, 4, TOL, "buffer", __FILE__,
                    __LINE__);
  run_free(r);
}

static void sgd_weight_decay_with_momentum(void **state) {
  (void)state;
  run r = RUN3(sgd(0.1, 0.9, 0, 0.01, false), ref_sgd_wd);
  ck_expect_values_(r.s1, ref_sgd_wd_momentum_buffer, 4, TOL, "buffer", __FILE__, __LINE__);
  run_free(r);
}

/* }====================================================== */

/* {====================================================== Adam */

static config adam(double lr, double b1, double b2, double eps, double wd) {
  config c = {.k = ADAM, .lr = lr, .beta1 = b1, .beta2 = b2, .eps = eps, .weight_decay = wd};
  return c;
}

static void adam_bias_correction_steps_1_2_3(void **state) {
  (void)state;
  run r = RUN3(adam(0.01, 0.9, 0.999, 1e-8, 0), ref_adam);
  ck_expect_values_(r.s1, ref_adam_exp_avg, 4, TOL, "exp_avg", __FILE__, __LINE__);
  ck_expect_values_(r.s2, ref_adam_exp_avg_sq, 4, TOL, "exp_avg_sq", __FILE__, __LINE__);
  run_free(r);
  /* by hand: with bias correction, step 1 moves every element by lr against its gradient's sign */
  lg_tensor *p = CK(lg_from_data(SHAPE(4), P0)), *g = CK(lg_from_data(SHAPE(4), G[0]));
  lg_tensor *m = CK(lg_zeros(SHAPE(4))), *v = CK(lg_zeros(SHAPE(4)));
  assert_int_equal(lg_adam_step(p, g, m, v, 0.01, 0.9, 0.999, 0, 0, 1), 0);
  EXPECT_VALUES_TOL(p, TOL, 0.49f, -0.99f, 1.49f, -2.01f);
  /* step 2 by hand for element 0: m = 0.9 m1 + 0.1 g2, v likewise, corrected by 1 - b^2 */
  double m1 = 0.1 * G[0][0], v1 = 0.001 * G[0][0] * G[0][0];
  double m2 = 0.9 * m1 + 0.1 * G[1][0], v2 = 0.999 * v1 + 0.001 * G[1][0] * G[1][0];
  double e = 0.49 - 0.01 * (m2 / (1 - 0.81)) / sqrt(v2 / (1 - 0.999 * 0.999));
  g = (lg_release(g), CK(lg_from_data(SHAPE(4), G[1])));
  assert_int_equal(lg_adam_step(p, g, m, v, 0.01, 0.9, 0.999, 0, 0, 2), 0);
  assert_true(fabs(ck_get(p, 0) - e) < 1e-6);
  lg_release(p), lg_release(g), lg_release(m), lg_release(v);
}

/* 1 - beta2 is formed in double and then rounded, as PyTorch forms it from
** Python floats: in float, 1 - 0.999f is 0.00099998713, 1.3e-5 off 0.001,
** and the second moment drifted from PyTorch's by that much. */
static void adam_one_minus_beta_in_double(void **state) {
  (void)state;
  const float gv = 0.3f;
  lg_tensor *p = CK(lg_zeros(SHAPE(1))), *g = CK(lg_from_data(SHAPE(1), &gv));
  lg_tensor *m = CK(lg_zeros(SHAPE(1))), *v = CK(lg_zeros(SHAPE(1)));
  assert_int_equal(lg_adam_step(p, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0, 1), 0);
  float want_v = 0.001f * gv * gv, want_m = 0.1f * gv;
  assert_true(ck_get(v, 0) == want_v);
  assert_true(ck_get(m, 0) == want_m);
  lg_release(p), lg_release(g), lg_release(m), lg_release(v);
}

static void adam_weight_decay(void **state) {
  (void)state;
  run r = RUN3(adam(0.01, 0.9, 0.999, 1e-8, 0.1), ref_adam_wd);
  ck_expect_values_(r.s1, ref_adam_wd_exp_avg, 4, TOL, "exp_avg", __FILE__, __LINE__);
  ck_expect_values_(r.s2, ref_adam_wd_exp_avg_sq, 4, TOL, "exp_avg_sq", __FILE__, __LINE__);
  run_free(r);
}

static void adam_gan_betas(void **state) {
  (void)state;
  run r = RUN3(adam(2e-4, 0.5, 0.999, 1e-6, 0), ref_adam_gan);
  ck_expect_values_(r.s1, ref_adam_gan_exp_avg, 4, TOL, "exp_avg", __FILE__, __LINE__);
  ck_expect_values_(r.s2, ref_adam_gan_exp_avg_sq, 4, TOL, "exp_avg_sq", __FILE__, __LINE__);
  run_free(r);
}

/* }====================================================== */

/* {====================================================== RMSprop */

static config rms(double lr, double alpha, double eps, double wd, double momentum, bool centered) {
  config c = {.k = RMSPROP, .lr = lr, .alpha = alpha, .eps = eps, .weight_decay = wd,
              .momentum = momentum, .centered = centered};
  return c;
}

static void rmsprop_plain(void **state) {
  (void)state;
  run r = RUN3(rms(0.01, 0.99, 1e-8, 0, 0, false), ref_rms);
  ck_expect_values_(r.s1, ref_rms_square_avg, 4, TOL, "square_avg", __FILE__, __LINE__);
  run_free(r);
}

static void rmsprop_centered(void **state) {
  (void)state;
  run r = RUN3(rms(0.01, 0.99, 1e-8, 0, 0, true), ref_rms_centered);
  ck_expect_values_(r.s1, ref_rms_centered_square_avg, 4, TOL, "square_avg", __FILE__, __LINE__);
  ck_expect_values_(r.s2, ref_rms_centered_grad_avg, 4, TOL, "grad_avg", __FILE__, __LINE__);
  run_free(r);
}

static void rmsprop_momentum(void **state) {
  (void)state;
  run r = RUN3(rms(0.01, 0.99, 1e-8, 0, 0.9, false), ref_rms_mom);
  ck_expect_values_(r.s1, ref_rms_mom_square_avg, 4, TOL, "square_avg", __FILE__, __LINE__);
  ck_expect_values_(r.s3, ref_rms_mom_momentum_buffer, 4, TOL, "momentum_buffer", __FILE__,
                    __LINE__);
  run_free(r);
}

static void rmsprop_weight_decay(void **state) {
  (void)state;
  run r = RUN3(rms(0.01, 0.9, 1e-8, 0.1, 0, false), ref_rms_wd);
  ck_expect_values_(r.s1, ref_rms_wd_square_avg, 4, TOL, "square_avg", __FILE__, __LINE__);
  run_free(r);
}

static void rmsprop_everything_at_once(void **state) {
  (void)state;
  run r = RUN3(rms(0.005, 0.95, 1e-6, 0.05, 0.5, true), ref_rms_all);
  ck_expect_values_(r.s2, ref_rms_all_grad_avg, 4, TOL, "grad_avg", __FILE__, __LINE__);
  ck_expect_values_(r.s3, ref_rms_all_momentum_buffer, 4, TOL, "momentum_buffer", __FILE__,
                    __LINE__);
  ck_expect_values_(r.s1, ref_rms_all_square_avg, 4, TOL, "square_avg", __FILE__, __LINE__);
  run_free(r);
}

/* A constant gradient in centered RMSprop: square_avg - grad_avg^2 is 0 up
** to rounding, never a NaN from the square root of a tiny negative. */
static void rmsprop_centered_constant_gradient_stays_finite(void **state) {
  (void)state;
  lg_tensor *p = CK(lg_zeros(SHAPE(3))), *g = TENSOR(SHAPE(3), 0.1f, 0.3f, 0.7f);
  lg_tensor *sq = CK(lg_zeros(SHAPE(3))), *ga = CK(lg_zeros(SHAPE(3)));
  for (int k = 0; k < 500; k++)
    assert_int_equal(lg_rmsprop_step(p, g, sq, ga, NULL, 1e-3, 0.9, 1e-8, 0, 0, true), 0);
  for (int i = 0; i < 3; i++) assert_true(isfinite(ck_get(p, i)));
  lg_release(p), lg_release(g), lg_release(sq), lg_release(ga);
}

/* The threaded path (above the parallel threshold) gives the same numbers as a small tensor. */
static void large_parameters_match_small_ones(void **state) {
  (void)state;
  const int64_t n = 100000;
  lg_tensor *p = CK(lg_empty(SHAPE(n))), *g = CK(lg_empty(SHAPE(n)));
  lg_tensor *m = CK(lg_zeros(SHAPE(n))), *v = CK(lg_zeros(SHAPE(n)));
  for (int64_t i = 0; i < n; i++) {
    lg_data(p)[i] = P0[i % 4];
    lg_data(g)[i] = G[0][i % 4];
  }
  for (int k = 1; k <= 3; k++) {
    for (int64_t i = 0; i < n; i++) lg_data(g)[i] = G[k - 1][i % 4];
    assert_int_equal(lg_adam_step(p, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0, k), 0);
  }
  for (int64_t i = 0; i < n; i++)
    if (ck_get(p, i) != ck_get(p, i % 4)) fail_msg("element %lld differs", (long long)i);
  lg_tensor *head = CK(lg_narrow(p, 0, 0, 4));
  ck_expect_values_(head, ref_adam + 8, 4, TOL, "adam, first 4", __FILE__, __LINE__);
  lg_release(head), lg_release(p), lg_release(g), lg_release(m), lg_release(v);
}

/* }====================================================== */

/* {====================================================== clip and norm */

static void clip_values_and_strided_views(void **state) {
  (void)state;
  lg_tensor *t = TENSOR(SHAPE(5), -3, -0.5f, 0, 0.5f, 3);
  assert_int_equal(lg_clip_(t, -1, 1), 0);
  EXPECT_VALUES(t, -1, -0.5f, 0, 0.5f, 1);
  /* a transposed view: clips the values the view covers */
  lg_tensor *a = CK(lg_arange(12)), *m = CK(lg_view(a, SHAPE(3, 4))), *mt = CK(lg_transpose(m, 0, 1));
  assert_int_equal(lg_clip_(mt, 2, 8), 0);
  EXPECT_VALUES(a, 2, 2, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8);
  /* a column: only its elements change */
  lg_tensor *b = CK(lg_arange(12)), *bm = CK(lg_view(b, SHAPE(3, 4))), *col = CK(lg_narrow(bm, 1, 1, 1));
  assert_false(lg_is_contiguous(col));
  assert_int_equal(lg_clip_(col, 0, 4), 0);
  EXPECT_VALUES(b, 0, 1, 2, 3, 4, 4, 6, 7, 8, 4, 10, 11);
  /* an empty tensor and lo == hi */
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 3)));
  assert_int_equal(lg_clip_(e, 0, 0), 0);
  assert_int_equal(lg_clip_(t, 0.25f, 0.25f), 0);
  EXPECT_VALUES(t, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f);
  /* errors */
  EXPECT_RC_ERR(lg_clip_(t, 1, -1), "clip", "1", "-1");
  EXPECT_RC_ERR(lg_clip_(t, NAN, 1), "clip");
  EXPECT_VALUES(t, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f);
  lg_release(t), lg_release(a), lg_release(m), lg_release(mt), lg_release(b), lg_release(bm);
  lg_release(col), lg_release(e);
}

static void norm2_values(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2), 3, 4), *b = TENSOR(SHAPE(2, 2), 1, 2, 2, 4);
  lg_tensor *bt = ck_noncontig(b), *s = SCALAR(-12), *e = CK(lg_zeros(SHAPE(0)));
  lg_tensor *one[] = {a}, *all[] = {a, b, s, e}, *strided[] = {bt}, *withnull[] = {a, NULL, s};
  assert_true(lg_norm2(one, 1) == 5.0);
  assert_true(fabs(lg_norm2(all, 4) - sqrt(25 + 25 + 144)) < 1e-12);
  assert_true(lg_norm2(strided, 1) == 5.0);   /* the NaN gaps of the layout are not read */
  assert_true(lg_norm2(withnull, 3) == 13.0);
  assert_true(lg_norm2(NULL, 0) == 0.0);
  /* squares summed in double: no float overflow */
  lg_tensor *big = TENSOR(SHAPE(2), 3e30f, 4e30f), *bigs[] = {big};
  double n = lg_norm2(bigs, 1);
  assert_true(fabs(n - 5e30) < 1e24);
  lg_release(a), lg_release(b), lg_release(bt), lg_release(s), lg_release(e), lg_release(big);
}

/* }====================================================== */

/* {====================================================== errors */

static void optim_errors(void **state) {
  (void)state;
  lg_tensor *p = CK(lg_from_data(SHAPE(4), P0)), *g = CK(lg_from_data(SHAPE(4), G[0]));
  lg_tensor *z = CK(lg_zeros(SHAPE(4))), *z2 = CK(lg_zeros(SHAPE(4)));
  lg_tensor *z3 = CK(lg_zeros(SHAPE(3))), *z22 = CK(lg_zeros(SHAPE(2, 2)));
  lg_tensor *zn = ck_noncontig(z), *g3 = CK(lg_zeros(SHAPE(3))), *pn = ck_noncontig(p);
  EXPECT_RC_ERR(lg_sgd_step(p, g3, NULL, 0.1, 0, 0, 0, false, true), "sgd", "gradient", "[3]",
                "[4]");
  EXPECT_RC_ERR(lg_sgd_step(p, g, z3, 0.1, 0.9, 0, 0, false, true), "sgd", "momentum buffer",
                "[3]", "[4]");
  EXPECT_RC_ERR(lg_sgd_step(p, g, NULL, 0.1, 0.9, 0, 0, false, true), "sgd",
                "momentum buffer");
  EXPECT_RC_ERR(lg_sgd_step(p, g, zn, 0.1, 0.9, 0, 0, false, true), "sgd", "contiguous");
  EXPECT_RC_ERR(lg_sgd_step(pn, g, NULL, 0.1, 0, 0, 0, false, true), "sgd", "contiguous");
  EXPECT_RC_ERR(lg_adam_step(p, g, z22, z2, 0.1, 0.9, 0.999, 1e-8, 0, 1), "adam",
                "[2,2]", "[4]");
  EXPECT_RC_ERR(lg_adam_step(p, g, z, z3, 0.1, 0.9, 0.999, 1e-8, 0, 1), "adam", "[3]",
                "[4]");
  EXPECT_RC_ERR(lg_adam_step(p, g, zn, z2, 0.1, 0.9, 0.999, 1e-8, 0, 1), "adam",
                "contiguous");
  EXPECT_RC_ERR(lg_adam_step(p, g, z, NULL, 0.1, 0.9, 0.999, 1e-8, 0, 1), "adam");
  EXPECT_RC_ERR(lg_adam_step(p, g, z, z2, 0.1, 0.9, 0.999, 1e-8, 0, 0), "adam", "step",
                "0");
  EXPECT_RC_ERR(lg_adam_step(p, g, z, z2, 0.1, 0.9, 0.999, 1e-8, 0, -3), "adam", "-3");
  EXPECT_RC_ERR(lg_rmsprop_step(p, g, z3, NULL, NULL, 0.01, 0.99, 1e-8, 0, 0, false),
                "rmsprop", "[3]", "[4]");
  EXPECT_RC_ERR(lg_rmsprop_step(p, g, z, NULL, NULL, 0.01, 0.99, 1e-8, 0, 0, true),
                "rmsprop", "gradient average");
  EXPECT_RC_ERR(lg_rmsprop_step(p, g, z, zn, NULL, 0.01, 0.99, 1e-8, 0, 0, true),
                "rmsprop", "contiguous");
  EXPECT_RC_ERR(lg_rmsprop_step(p, g, z, NULL, z22, 0.01, 0.99, 1e-8, 0, 0.9, false),
                "rmsprop", "momentum buffer", "[2,2]");
  /* nothing was touched by the failed calls */
  ck_expect_values_(p, P0, 4, 0, "p", __FILE__, __LINE__);
  EXPECT_VALUES(z, 0, 0, 0, 0);
  EXPECT_VALUES(z2, 0, 0, 0, 0);
  lg_release(p), lg_release(g), lg_release(z), lg_release(z2), lg_release(z3), lg_release(z22);
  lg_release(zn), lg_release(g3), lg_release(pn);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(sgd_plain_by_hand_and_torch),
      TEST(sgd_momentum),
      TEST(sgd_dampening),
      TEST(sgd_nesterov),
      TEST(sgd_weight_decay_with_momentum),
      TEST(adam_bias_correction_steps_1_2_3),
      TEST(adam_one_minus_beta_in_double),
      TEST(adam_weight_decay),
      TEST(adam_gan_betas),
      TEST(rmsprop_plain),
      TEST(rmsprop_centered),
      TEST(rmsprop_momentum),
      TEST(rmsprop_weight_decay),
      TEST(rmsprop_everything_at_once),
      TEST(rmsprop_centered_constant_gradient_stays_finite),
      TEST(large_parameters_match_small_ones),
      TEST(clip_values_and_strided_views),
      TEST(norm2_values),
      TEST(optim_errors),
  };
  return cmocka_run_group_tests_name("optim", tests, NULL, NULL);
}
