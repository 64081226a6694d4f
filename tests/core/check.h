/*
** check.h: the harness shared by the cmocka suites in tests/core.
**
** Tensors from literals      TENSOR(SHAPE(2,3), 1,2,3,4,5,6)   SCALAR(2.5f)
** Random inputs              ck_randn(SHAPE(3,4))  ck_uniform(SHAPE(3), lo, hi)
**                            ck_avoid(t, kink, margin)   ck_spread(SHAPE(2,3), lo, step)
** Strided copies             ck_noncontig(t): same values, non-contiguous layout
** Assertions                 CK(expr)  EXPECT_VALUES(t, ...)  EXPECT_SHAPE(t, ...)
**                            EXPECT_ERR(expr, "substr", ...)  EXPECT_RC_ERR(expr, ...)
** Gradients                  GRADCHECK(f, ctx, inputs...)  GRADGRADCHECK(...)
**                            CHECK_GRADS(...) = both, each on the inputs as given and
**                            again on non-contiguous copies of them.
**                            FN(f_name, expr) writes the function f of x[0..].
**
** Every TEST() runs after lg_manual_seed(42) (or $LG_TEST_SEED: run the suites
** over many seeds to see that the tolerances do not flake), and fails if it leaves storage
** bytes live (lg_memory().bytes_live must return to its value at the start).
**
** ---- How the gradient checks decide (float32 that does not flake) ----
** f builds a tensor y from the inputs x.  The first-order loss is
**     L(x) = sum(y .* w)
** with a fixed random w (own seed, so every output element matters and the
** test's random stream is untouched).  The analytic gradient is lg_grad of y
** with gout = w.  The numeric one is the 4-point central stencil
**     (8 (L(x+h/2) - L(x-h/2)) - (L(x+h) - L(x-h))) / (6h)
** (ggml's test-backend-ops), with L evaluated by f in float32 but summed in
** double.  Its truncation error is O(h^4), so h can be large enough that
** float32 rounding in f stays small after dividing by h:
**     h = 2^-6 * max(1, 2^ceil(log2 |x|))    (~0.016 at unit scale; a power of
**                                              two, so x +- h loses no bits of h)
** Inputs of kinked ops (relu, abs, clamp, max) must sit further than h from
** their kinks: ck_avoid / ck_spread do that.  f runs with grad mode on (it
** may call lg_grad itself, as a gradient penalty does).  At most the first
** 256 elements of each input are perturbed.
** A component passes when
**     |analytic - numeric| <= atol + rtol * |numeric|,
**     atol = 2e-3 * max(1, max_k |numeric_k| over that input),  rtol = 1e-2.
** The absolute part scales with the gradient's size, so large gradients do
** not fail on roundoff while a wrong small component still shows.  Analytic
** values are first checked to be finite.
**
** Second order: with g_i = d L / d x_i computed by lg_grad(create_graph),
**     H(x) = sum_i sum(g_i .* w2_i)      (w2_i fixed random, shape of x_i);
** its analytic gradient is lg_grad through the create_graph result, and the
** numeric one is the same stencil over H, where H re-runs the first-order
** lg_grad at the perturbed x.  Same tolerance.
*/
#ifndef LG_CHECK_H
#define LG_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka after the standard headers it needs */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "tensor.h"

/* {====================================================== literals */

/* Set when a helper fails, so the teardown does not add a leak report for
** the tensors the failed test could not release. */
static bool ck_failed;

static inline void ck_fail_(const char *file, int line) {
  ck_failed = true;
  _fail(file, line);
}

#define CK_COUNT(type, ...) ((int)(sizeof((type[]){__VA_ARGS__}) / sizeof(type)))

/* SHAPE(2,3) expands to the (ndim, shape) argument pair; SHAPE() is 0-dim. */
#define SHAPE(...) CK_COUNT(int64_t, __VA_ARGS__), ((const int64_t[]){__VA_ARGS__})
#define VALS(...) ((const float[]){__VA_ARGS__})

/* TENSOR(SHAPE(2,2), 1,2,3,4): the value count must equal numel. */
#define TENSOR(...) CK_TENSOR_(__VA_ARGS__)
#define CK_TENSOR_(nd, shape, ...) \
  ck_tensor_(nd, shape, VALS(__VA_ARGS__), CK_COUNT(float, __VA_ARGS__), __FILE__, __LINE__)
#define SCALAR(v) CK(lg_scalar(v))

/* CK(expr): expr must return a tensor; on NULL the test fails with lg_errmsg(). */
#define CK(expr) ck_ok_((expr), #expr, __FILE__, __LINE__)

static inline lg_tensor *ck_ok_(lg_tensor *t, const char *what, const char *file, int line) {
  if (!t) {
    print_error("%s returned NULL: %s\n", what, lg_errmsg());
    ck_fail_(file, line);
  }
  return t;
}

static inline int64_t ck_numel(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

static inline lg_tensor *ck_tensor_(int ndim, const int64_t *shape, const float *v, int nv,
                                    const char *file, int line) {
  if (ck_numel(ndim, shape) != nv) {
    print_error("TENSOR: %d values for a shape of %lld elements\n", nv,
                (long long)ck_numel(ndim, shape));
    ck_fail_(file, line);
  }
  return ck_ok_(lg_from_data(ndim, shape, v), "lg_from_data", file, line);
}

/* Pointer to element k (row-major order) of any strided tensor. */
static inline float *ck_at(const lg_tensor *t, int64_t k) {
  int64_t off = t->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    off += (k % t->shape[d]) * t->stride[d];
    k /= t->shape[d];
  }
  return t->storage->data + off;
}

static inline float ck_get(const lg_tensor *t, int64_t k) { return *ck_at(t, k); }

/* "[1,0,2]": the multi-index of element k. */
static inline const char *ck_index_str(const lg_tensor *t, int64_t k, char *buf, size_t size) {
  int64_t idx[LG_MAXDIM];
  for (int d = t->ndim - 1; d >= 0; d--) {
    idx[d] = k % t->shape[d];
    k /= t->shape[d];
  }
  return lg_dims_str(idx, t->ndim, buf, size);
}

/* }====================================================== */

/* {====================================================== random inputs */

#define ck_randn(...) CK(lg_randn(__VA_ARGS__))
#define ck_rand(...) CK(lg_rand(__VA_ARGS__))

/* Uniform in [lo, hi). */
#define ck_uniform(nd_shape, lo, hi) ck_uniform_(CK(lg_rand(nd_shape)), lo, hi)
static inline lg_tensor *ck_uniform_(lg_tensor *t, float lo, float hi) {
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) d[i] = lo + (hi - lo) * d[i];
  return t;
}

/* In place: values closer than margin to `kink` move to kink +- margin.
** Returns t.  Use margins well above the gradcheck step (0.1 is enough). */
static inline lg_tensor *ck_avoid(lg_tensor *t, float kink, float margin) {
  for (int64_t i = 0; i < t->numel; i++) {
    float *p = ck_at(t, i);
    if (fabsf(*p - kink) < margin) *p = kink + (*p >= kink ? margin : -margin);
  }
  return t;
}

/* lo, lo+step, lo+2 step, ... in a random order: no ties, for max. */
#define ck_spread(nd_shape, lo, step) ck_spread_(CK(lg_empty(nd_shape)), lo, step)
static inline lg_tensor *ck_spread_(lg_tensor *t, float lo, float step) {
  float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++) d[i] = lo + step * (float)i;
  for (int64_t i = t->numel - 1; i > 0; i--) {
    int64_t j = (int64_t)(lg_rng_uniform() * (double)(i + 1));
    float tmp = d[i];
    d[i] = d[j];
    d[j] = tmp;
  }
  return t;
}

/* Every other element: a trailing dim of 2, narrowed to 1 and squeezed. */
static inline lg_tensor *ck_noncontig_step(lg_tensor *t) {
  int nd = t->ndim;
  int64_t shape[LG_MAXDIM + 1];
  memcpy(shape, t->shape, sizeof(int64_t) * (size_t)nd);
  shape[nd] = 2;
  lg_tensor *base = CK(lg_full(nd + 1, shape, NAN));
  lg_tensor *n = CK(lg_narrow(base, nd, 0, 1));
  lg_tensor *v = CK(lg_squeeze(n, nd));
  lg_release(base);
  lg_release(n);
  assert_int_equal(lg_copy_(v, t), 0);
  return v;
}

/* A copy of t with the same shape and values in a non-contiguous layout:
** for ndim >= 2 the transpose of a contiguous tensor of the swapped shape
** (the layout of x:t()); for ndim 1 every other element of a buffer twice
** as long.  The gaps hold NaN, so a kernel that reads them shows it.
** One-element tensors come back as a plain copy. */
static inline lg_tensor *ck_noncontig(lg_tensor *t) {
  int nd = t->ndim;
  int64_t shape[LG_MAXDIM + 1];
  memcpy(shape, t->shape, sizeof(int64_t) * (size_t)nd);
  lg_tensor *v;
  if (t->numel <= 1 || nd == 0) {
    v = CK(lg_empty(nd, t->shape));
  } else if (nd >= 2 && (shape[nd - 1] > 1 || shape[nd - 2] > 1)) {
    shape[nd - 1] = t->shape[nd - 2];
    shape[nd - 2] = t->shape[nd - 1];
    lg_tensor *base = CK(lg_empty(nd, shape));
    v = CK(lg_transpose(base, nd - 2, nd - 1));
    lg_release(base);
    if (lg_is_contiguous(v)) {   /* e.g. [1,1,5]: transposing changes nothing */
      lg_release(v);
      return ck_noncontig_step(t);
    }
  } else {
    return ck_noncontig_step(t);
  }
  assert_int_equal(lg_copy_(v, t), 0);
  return v;
}

/* }====================================================== */

/* {====================================================== value assertions */

static inline void ck_print_values(const char *label, const lg_tensor *t, const float *v,
                                   int64_t n) {
  char buf[128];
  if (t) lg_shape_str(t, buf, sizeof buf);
  print_error("  %-8s %s ", label, t ? buf : "");
  for (int64_t i = 0; i < n && i < 32; i++) print_error("%s%.7g", i ? ", " : "", t ? ck_get(t, i) : v[i]);
  print_error("%s\n", n > 32 ? ", ..." : "");
}

/* Values of t (row-major, any layout) within tol * max(1, |expected|). */
#define EXPECT_VALUES(t, ...) EXPECT_VALUES_TOL(t, 1e-5, __VA_ARGS__)
#define EXPECT_VALUES_TOL(t, tol, ...)                                                 \
  ck_expect_values_((t), VALS(__VA_ARGS__), CK_COUNT(float, __VA_ARGS__), (tol), #t, \
                    __FILE__, __LINE__)

static inline void ck_expect_values_(const lg_tensor *t, const float *e, int n, double tol,
                                     const char *what, const char *file, int line) {
  if (!t) {
    print_error("%s is NULL: %s\n", what, lg_errmsg());
    ck_fail_(file, line);
  }
  if (t->numel != n) {
    print_error("%s has %lld elements, expected %d\n", what, (long long)t->numel, n);
    ck_fail_(file, line);
  }
  for (int i = 0; i < n; i++) {
    float a = ck_get(t, i);
    bool ok = (isnan(e[i]) && isnan(a)) || a == e[i] ||
              fabs((double)a - e[i]) <= tol * fmax(1.0, fabs(e[i]));
    if (!ok) {
      char buf[128];
      print_error("%s: element %s is %.8g, expected %.8g (tol %g)\n", what,
                  ck_index_str(t, i, buf, sizeof buf), a, e[i], tol);
      ck_print_values("got", t, NULL, n);
      ck_print_values("expected", NULL, e, n);
      ck_fail_(file, line);
    }
  }
}

/* EXPECT_SHAPE(t, 2, 3); EXPECT_SHAPE(t) for 0-dim. */
#define EXPECT_SHAPE(t, ...) \
  ck_expect_shape_((t), SHAPE(__VA_ARGS__), #t, __FILE__, __LINE__)

static inline void ck_expect_shape_(const lg_tensor *t, int nd, const int64_t *shape,
                                    const char *what, const char *file, int line) {
  char b1[128], b2[128];
  if (!t) {
    print_error("%s is NULL: %s\n", what, lg_errmsg());
    ck_fail_(file, line);
  }
  if (t->ndim != nd || memcmp(t->shape, shape, sizeof(int64_t) * (size_t)nd)) {
    print_error("%s has shape %s, expected %s\n", what, lg_shape_str(t, b1, sizeof b1),
                lg_dims_str(shape, nd, b2, sizeof b2));
    ck_fail_(file, line);
  }
}

/* EXPECT_ERR(expr, "op", "[2,3]"): expr returns NULL and lg_errmsg() contains
** every substring.  EXPECT_RC_ERR for functions returning an int status. */
#define EXPECT_ERR(expr, ...)                                                        \
  do {                                                                               \
    lg_seterr("%s", "");                                                             \
    lg_tensor *ck_r_ = (expr);                                                       \
    ck_expect_err_(ck_r_ == NULL, #expr, (const char *[]){__VA_ARGS__, NULL},        \
                   __FILE__, __LINE__);                                              \
    lg_release(ck_r_);                                                               \
  } while (0)
#define EXPECT_RC_ERR(expr, ...)                                                     \
  do {                                                                               \
    lg_seterr("%s", "");                                                             \
    int ck_rc_ = (expr);                                                             \
    ck_expect_err_(ck_rc_ == -1, #expr, (const char *[]){__VA_ARGS__, NULL},         \
                   __FILE__, __LINE__);                                              \
  } while (0)

static inline void ck_expect_err_(bool failed, const char *what, const char **subs,
                                  const char *file, int line) {
  if (!failed) {
    print_error("%s succeeded, expected an error\n", what);
    ck_fail_(file, line);
  }
  for (int i = 0; subs[i]; i++) {
    if (!strstr(lg_errmsg(), subs[i])) {
      print_error("%s: message \"%s\" does not contain \"%s\"\n", what, lg_errmsg(), subs[i]);
      ck_fail_(file, line);
    }
  }
}

/* }====================================================== */

/* {====================================================== test setup */

static uint64_t ck_live_at_start;

static inline int ck_setup(void **state) {
  (void)state;
  lg_set_grad_enabled(true);
  const char *seed = getenv("LG_TEST_SEED");
  lg_manual_seed(seed ? strtoull(seed, NULL, 10) : 42);
  ck_failed = false;
  ck_live_at_start = lg_memory().bytes_live;
  return 0;
}

static inline int ck_teardown(void **state) {
  (void)state;
  uint64_t live = lg_memory().bytes_live;
  if (live != ck_live_at_start && !ck_failed) {
    print_error("leak: %lld bytes of storage still live after the test (%llu before, %llu after)\n",
                (long long)(live - ck_live_at_start), (unsigned long long)ck_live_at_start,
                (unsigned long long)live);
    return -1;
  }
  return 0;
}

/* A test entry: seeded, with the storage leak check. */
#define TEST(f) cmocka_unit_test_setup_teardown(f, ck_setup, ck_teardown)

/* }====================================================== */

/* {====================================================== gradient checks */

typedef lg_tensor *(*ck_fn)(lg_tensor **x, const void *ctx);

/* FN(f_name, expr): a function of the inputs x[0..] (and ctx) for the checks. */
#define FN(name, expr)                                          \
  static lg_tensor *name(lg_tensor **x, const void *ctx) {      \
    (void)x;                                                    \
    (void)ctx;                                                  \
    return (expr);                                              \
  }

#define CK_MAXIN 4
#define CK_CONTIGUOUS_ONLY 4   /* flag bit next to the orders 1 and 2 */
#define CK_ATOL 2e-3
#define CK_RTOL 1e-2

typedef struct {
  const char *name, *layout, *file;
  int line, order, n;
  ck_fn f;
  const void *ctx;
  lg_tensor *x[CK_MAXIN];   /* leaves that require grad */
  lg_tensor *w;             /* weights on f's output */
  lg_tensor *w2[CK_MAXIN];  /* weights on the first-order gradients */
} ck_job;

static inline lg_tensor *ck_seeded_randn(uint64_t seed, int nd, const int64_t *shape) {
  uint64_t st[5];
  lg_rng_get_state(st);
  lg_manual_seed(seed);
  lg_tensor *t = lg_randn(nd, shape);
  lg_rng_set_state(st);
  return t;
}

static inline double ck_dot(const lg_tensor *a, const lg_tensor *b) {
  double s = 0;
  for (int64_t i = 0; i < a->numel; i++) s += (double)ck_get(a, i) * (double)ck_get(b, i);
  return s;
}

static inline void ck_job_fail(ck_job *j, const char *what) {
  print_error("%s %s (%s inputs, order %d): %s: %s\n", j->order == 1 ? "gradcheck" : "gradgradcheck",
              j->name, j->layout, j->order, what, lg_errmsg());
  ck_fail_(j->file, j->line);
}

static inline lg_tensor *ck_forward(ck_job *j) {
  lg_tensor *y = j->f(j->x, j->ctx);
  if (!y) ck_job_fail(j, "f returned NULL");
  return y;
}

/* First-order gradients of sum(f(x) .* w) into g[], optionally with a graph. */
static inline void ck_first_grads(ck_job *j, lg_tensor **g, bool create_graph) {
  lg_tensor *y = ck_forward(j);
  if (!j->w) j->w = ck_seeded_randn(1000 + (uint64_t)j->order, y->ndim, y->shape);
  if (!y->requires_grad) {     /* f ignores its inputs: every gradient is zero */
    for (int i = 0; i < j->n; i++) g[i] = lg_zeros_like(j->x[i]);
    lg_release(y);
    return;
  }
  int rc = lg_grad(1, &y, &j->w, j->n, j->x, g, create_graph, create_graph);
  lg_release(y);
  if (rc) ck_job_fail(j, "lg_grad failed");
}

/* The scalar being differentiated: L (order 1) or H (order 2). */
static inline double ck_value(ck_job *j) {
  double s = 0;
  if (j->order == 1) {   /* grad mode stays on: f may call lg_grad itself (penalties) */
    lg_tensor *y = ck_forward(j);
    s = ck_dot(y, j->w);
    lg_release(y);
    return s;
  }
  lg_tensor *g[CK_MAXIN];
  ck_first_grads(j, g, false);
  for (int i = 0; i < j->n; i++) {
    s += ck_dot(g[i], j->w2[i]);
    lg_release(g[i]);
  }
  return s;
}

/* The analytic gradient of ck_value into res[]. */
static inline void ck_analytic(ck_job *j, lg_tensor **res) {
  if (j->order == 1) {
    ck_first_grads(j, res, false);
    return;
  }
  lg_tensor *g[CK_MAXIN], *outs[CK_MAXIN], *gouts[CK_MAXIN];
  int k = 0;
  ck_first_grads(j, g, true);
  for (int i = 0; i < j->n; i++) {
    if (!j->w2[i]) j->w2[i] = ck_seeded_randn(2000 + (uint64_t)i, g[i]->ndim, g[i]->shape);
    if (g[i]->requires_grad) {   /* a gradient that is constant in x contributes nothing */
      outs[k] = g[i];
      gouts[k++] = j->w2[i];
    }
  }
  int rc = 0;
  if (k) rc = lg_grad(k, outs, gouts, j->n, j->x, res, false, false);
  else for (int i = 0; i < j->n; i++) res[i] = lg_zeros_like(j->x[i]);
  for (int i = 0; i < j->n; i++) lg_release(g[i]);
  if (rc) ck_job_fail(j, "lg_grad through the create_graph gradient failed");
}

static inline double ck_step(float v) {
  double s = fabs(v) > 1.0 ? exp2(ceil(log2(fabs(v)))) : 1.0;
  return s * 0x1p-6;
}

static inline double ck_numeric(ck_job *j, float *p) {
  float v = *p;
  double h = ck_step(v), f[4];
  const double at[4] = {0.5, -0.5, 1.0, -1.0};
  for (int s = 0; s < 4; s++) {
    *p = (float)(v + at[s] * h);
    f[s] = ck_value(j);
  }
  *p = v;
  return (8.0 * (f[0] - f[1]) - (f[2] - f[3])) / (6.0 * h);
}

/* Compares analytic and numeric gradients for every element of every input. */
static inline bool ck_run_job(ck_job *j) {
  lg_tensor *res[CK_MAXIN];
  bool ok = true;
  ck_analytic(j, res);
  for (int i = 0; i < j->n; i++) {
    lg_tensor *x = j->x[i], *a = res[i];
    char b1[128], b2[128];
    if (a->ndim != x->ndim || memcmp(a->shape, x->shape, sizeof(int64_t) * (size_t)x->ndim)) {
      print_error("%s %s: gradient of input %d has shape %s, input has %s\n",
                  j->order == 1 ? "gradcheck" : "gradgradcheck", j->name, i,
                  lg_shape_str(a, b1, sizeof b1), lg_shape_str(x, b2, sizeof b2));
      ok = false;
      continue;
    }
    double num[256], scale = 1.0;
    int64_t n = x->numel < 256 ? x->numel : 256;
    for (int64_t k = 0; k < n; k++) {
      num[k] = ck_numeric(j, ck_at(x, k));
      scale = fmax(scale, fabs(num[k]));
    }
    int shown = 0;
    for (int64_t k = 0; k < n; k++) {
      double an = ck_get(a, k), tol = CK_ATOL * scale + CK_RTOL * fabs(num[k]);
      if (isfinite(an) && isfinite(num[k]) && fabs(an - num[k]) <= tol) continue;
      ok = false;
      if (shown++ < 8)
        print_error("%s %s (%s inputs): input %d element %s: analytic %.7g numeric %.7g "
                    "(|diff| %.3g, tol %.3g)\n",
                    j->order == 1 ? "gradcheck" : "gradgradcheck", j->name, j->layout, i,
                    ck_index_str(x, k, b1, sizeof b1), an, num[k], fabs(an - num[k]), tol);
    }
  }
  for (int i = 0; i < j->n; i++) lg_release(res[i]);
  return ok;
}

/* Runs order 1 or 2 on the inputs as given, then on non-contiguous copies. */
static inline void ck_gradcheck_(int order, bool strided, const char *name, ck_fn f,
                                 const void *ctx, lg_tensor **in, int n, const char *file,
                                 int line) {
  bool ok = true;
  assert_true(n <= CK_MAXIN);
  for (int layout = 0; layout < (strided ? 2 : 1); layout++) {
    ck_job j = {.name = name, .layout = layout ? "non-contiguous" : "contiguous",
                .file = file, .line = line, .order = order, .n = n, .f = f, .ctx = ctx};
    for (int i = 0; i < n; i++) {
      j.x[i] = layout ? ck_noncontig(in[i]) : CK(lg_clone(in[i]));
      j.x[i]->requires_grad = true;
    }
    ok = ck_run_job(&j) && ok;
    for (int i = 0; i < n; i++) {
      lg_release(j.x[i]);
      lg_release(j.w2[i]);
    }
    lg_release(j.w);
  }
  if (!ok) ck_fail_(file, line);
}

static inline void ck_checks_(int orders, const char *name, ck_fn f, const void *ctx,
                              lg_tensor **in, int n, const char *file, int line) {
  for (int i = 0; i < n; i++) ck_ok_(in[i], "a gradcheck input", file, line);
  bool strided = !(orders & CK_CONTIGUOUS_ONLY);
  if (orders & 1) ck_gradcheck_(1, strided, name, f, ctx, in, n, file, line);
  if (orders & 2) ck_gradcheck_(2, strided, name, f, ctx, in, n, file, line);
  for (int i = 0; i < n; i++) lg_release(in[i]);
}

/* These take ownership of their input tensors (pass fresh ones).
** CHECK_GRADS_CONTIGUOUS skips the non-contiguous copies, for ops that
** reject them by design (view). */
#define CHECK_GRADS_CONTIGUOUS(f, ctx, ...) CK_GRADS_(3 | CK_CONTIGUOUS_ONLY, f, ctx, __VA_ARGS__)
#define GRADCHECK(f, ctx, ...) CK_GRADS_(1, f, ctx, __VA_ARGS__)
#define GRADGRADCHECK(f, ctx, ...) CK_GRADS_(2, f, ctx, __VA_ARGS__)
#define CHECK_GRADS(f, ctx, ...) CK_GRADS_(3, f, ctx, __VA_ARGS__)
#define CK_GRADS_(orders, f, ctx, ...)                                              \
  ck_checks_(orders, #f, f, ctx, (lg_tensor *[]){__VA_ARGS__},                      \
             CK_COUNT(lg_tensor *, __VA_ARGS__), __FILE__, __LINE__)

/* }====================================================== */

#endif
