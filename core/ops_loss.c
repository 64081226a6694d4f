/*
** Losses.  Each returns the mean over elements as a 0-dim tensor.
**
** A forward pass is one fused loop with no temporaries, accumulating in
** double.  Large inputs are summed in a fixed number of chunks that depend
** only on the element count, so the result is bitwise the same for any
** thread count.  Backward passes are written with differentiable ops, so
** create_graph gives second-order gradients (gradient penalties need them).
**
** Class labels for cross_entropy are 1-BASED, as in the Lua API and Torch7's
** ClassNLLCriterion: labels hold class numbers 1..C stored as floats.
*/
#include "fastmath.h"
#include "internal.h"

#include <math.h>
#include <string.h>

/* {====================================================== deterministic sums */

/* Sum of some per-item quantity over items [lo, hi). */
typedef double (*range_sum)(const void *ctx, int64_t lo, int64_t hi);

#define NCHUNKS 64

/* Sum over n items, each costing about `cost` element visits.  Small sums
** run serially; larger ones as NCHUNKS partial sums added in order. */
static double chunked_sum(int64_t n, int64_t cost, range_sum f, const void *ctx) {
  if (n * cost < LG_PAR_MIN || n < NCHUNKS) return f(ctx, 0, n);
  int64_t chunk = (n + NCHUNKS - 1) / NCHUNKS;
  double part[NCHUNKS];
  #pragma omp parallel for schedule(static)
  for (int c = 0; c < NCHUNKS; c++) {
    int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
    part[c] = lo < hi ? f(ctx, lo, hi) : 0.0;
  }
  double s = 0.0;
  for (int c = 0; c < NCHUNKS; c++) s += part[c];
  return s;
}

/* Element offsets of a strided tensor in row-major order, from any position. */
typedef struct {
  const lg_tensor *t;
  int64_t idx[LG_MAXDIM];
  int64_t off;
} cursor;

static void cursor_seek(cursor *c, const lg_tensor *t, int64_t pos) {
  c->t = t;
  c->off = t->offset;
  for (int d = t->ndim - 1; d >= 0; d--) {
    c->idx[d] = pos % t->shape[d];
    pos /= t->shape[d];
    c->off += c->idx[d] * t->stride[d];
  }
}

static void cursor_next(cursor *c) {
  const lg_tensor *t = c->t;
  for (int d = t->ndim - 1; d >= 0; d--) {
    c->off += t->stride[d];
    if (++c->idx[d] < t->shape[d]) return;
    c->off -= t->stride[d] * t->shape[d];
    c->idx[d] = 0;
  }
}

/* A range_sum of expr over the elements x of a and y of b (same shape).
** The contiguous branch is the common one; the other walks strides. */
#define PAIR_SUM(name, expr)                                                  \
  static double name(const void *ctx, int64_t lo, int64_t hi) {               \
    const lg_tensor *const *ab = ctx;                                         \
    double s = 0.0;                                                           \
    if (lg_is_contiguous(ab[0]) && lg_is_contiguous(ab[1])) {                 \
      const float *pa = lg_data(ab[0]), *pb = lg_data(ab[1]);                 \
      for (int64_t i = lo; i < hi; i++) {                                     \
        float x = pa[i], y = pb[i];                                           \
        s += (expr);                                                          \
      }                                                                       \
      return s;                                                               \
    }                                                                         \
    const float *da = ab[0]->storage->data, *db = ab[1]->storage->data;       \
    cursor ca, cb;                                                            \
    cursor_seek(&ca, ab[0], lo);                                              \
    cursor_seek(&cb, ab[1], lo);                                              \
    for (int64_t i = lo; i < hi; i++) {                                       \
      float x = da[ca.off], y = db[cb.off];                                   \
      s += (expr);                                                            \
      cursor_next(&ca);                                                       \
      cursor_next(&cb);                                                       \
    }                                                                         \
    return s;                                                                 \
  }

/* max(x,0) - x t + log(1 + e^-|x|): log(1 + e^x) - x t without overflow */
PAIR_SUM(sum_bce, (x > 0.0f ? x : 0.0f) - x * y + lg_log1pf(lg_expf(-fabsf(x))))
PAIR_SUM(sum_mse, (double)(x - y) * (double)(x - y))
PAIR_SUM(sum_l1, fabsf(x - y))

/* }====================================================== */

/* {====================================================== backward helpers */

/* t consumed by the op that made next: releases t, returns next. */
static lg_tensor *replace(lg_tensor *t, lg_tensor *next) {
  lg_release(t);
  return next;
}

static bool wants(lg_node *n, int i) { return lg_wants_grad(n, i); }

/* The incoming 0-dim gradient times s/N: the derivative of a mean. */
static lg_tensor *scaled(lg_tensor *g, const lg_tensor *x, float s) {
  return lg_mul_scalar(g, s / (float)x->numel);
}

/* gin[0] = d * g s/N and, when wanted, gin[1] = -gin[0]. */
static int antisymmetric(lg_node *n, lg_tensor *d, lg_tensor *g, float s, lg_tensor **gin) {
  lg_tensor *gs = d ? scaled(g, d, s) : NULL;
  lg_tensor *ga = gs ? lg_mul(d, gs) : NULL;
  lg_release(gs);
  if (!ga) return -1;
  if (wants(n, 1) && !(gin[1] = lg_neg(ga))) {
    lg_release(ga);
    return -1;
  }
  if (wants(n, 0)) gin[0] = ga;
  else lg_release(ga);
  return 0;
}

/* }====================================================== */

/* {====================================================== elementwise losses */

/* d/dx = (sigmoid(x) - t) g/N;  d/dt = -x g/N */
static int bw_bce(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *t = n->inputs[1], *gs, *d;
  if (wants(n, 0)) {
    gs = scaled(g, x, 1.0f);
    d = gs ? lg_sigmoid(x) : NULL;
    if (d) d = replace(d, lg_sub(d, t));
    gin[0] = d ? lg_mul(d, gs) : NULL;
    lg_release(d);
    lg_release(gs);
    if (!gin[0]) return -1;
  }
  if (wants(n, 1)) {
    gs = scaled(g, x, -1.0f);
    gin[1] = gs ? lg_mul(x, gs) : NULL;
    lg_release(gs);
    if (!gin[1]) {                /* the engine takes gradients only on success */
      lg_release(gin[0]);
      gin[0] = NULL;
      return -1;
    }
  }
  return 0;
}

/* d/da = 2 (a - b) g/N = -d/db */
static int bw_mse(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *d = lg_sub(n->inputs[0], n->inputs[1]);
  int rc = antisymmetric(n, d, g, 2.0f, gin);
  lg_release(d);
  return rc;
}

/* d/da = sign(a - b) g/N = -d/db */
static int bw_l1(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *d = lg_sub(n->inputs[0], n->inputs[1]);
  if (d) d = replace(d, lg_sign(d));
  int rc = antisymmetric(n, d, g, 1.0f, gin);
  lg_release(d);
  return rc;
}

static bool same_shape(const lg_tensor *a, const lg_tensor *b) {
  return a->ndim == b->ndim && !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim);
}

/* mean over elements of f(a, b) as a 0-dim tensor, with its graph node. */
static lg_tensor *pair_loss(const char *name, lg_tensor *a, lg_tensor *b, range_sum f,
                            lg_backward_fn bw) {
  char b1[128], b2[128];
  if (!same_shape(a, b))
    return lg_seterr("%s: shapes %s and %s must match", name, lg_shape_str(a, b1, sizeof b1),
                     lg_shape_str(b, b2, sizeof b2));
  const lg_tensor *ab[2] = {a, b};
  float mean = a->numel ? (float)(chunked_sum(a->numel, 1, f, ab) / (double)a->numel) : NAN;
  lg_tensor *out = lg_scalar(mean), *in[2] = {a, b};
  if (out && lg_any_needs_grad(2, in) && !lg_attach(out, name, bw, 2, in)) {
    lg_release(out);
    return NULL;
  }
  return out;
}

lg_tensor *lg_bce_with_logits(lg_tensor *logits, lg_tensor *target) {
  return pair_loss("bce_with_logits", logits, target, sum_bce, bw_bce);
}

lg_tensor *lg_mse(lg_tensor *a, lg_tensor *b) { return pair_loss("mse", a, b, sum_mse, bw_mse); }

lg_tensor *lg_l1(lg_tensor *a, lg_tensor *b) { return pair_loss("l1", a, b, sum_l1, bw_l1); }

/* }====================================================== */

/* {====================================================== cross entropy */

static float label_at(const lg_tensor *labels, int64_t i) {
  return lg_data(labels)[i * labels->stride[0]];
}

/* Every label must name a class: an integer in 1..C (NaN fails the first
** test, infinities the second), so that converting it to an index is
** defined and in range.  The comparison is in double: (float)C may round
** up past C. */
static bool check_labels(const lg_tensor *labels, int64_t classes) {
  for (int64_t i = 0; i < labels->shape[0]; i++) {
    float v = label_at(labels, i);
    if (v != floorf(v)) {
      lg_seterr("cross_entropy: label %.10g at position %lld is not a class number",
                (double)v, (long long)(i + 1));
      return false;
    }
    if (v < 1.0f || (double)v > (double)classes) {
      lg_seterr("cross_entropy: label %.10g at position %lld is out of range 1..%lld",
                (double)v, (long long)(i + 1), (long long)classes);
      return false;
    }
  }
  return true;
}

/* Sum over rows [lo, hi) of logsumexp(x_i) - x_i[label_i]. */
static double sum_nll(const void *ctx, int64_t lo, int64_t hi) {
  const lg_tensor *x = ((const lg_tensor *const *)ctx)[0];
  const lg_tensor *labels = ((const lg_tensor *const *)ctx)[1];
  int64_t classes = x->shape[1], rs = x->stride[0], cs = x->stride[1];
  double s = 0.0;
  for (int64_t i = lo; i < hi; i++) {
    const float *row = lg_data(x) + i * rs;
    float top = row[0];
    for (int64_t j = 1; j < classes; j++) top = fmaxf(top, row[j * cs]);
    double e = 0.0;
    for (int64_t j = 0; j < classes; j++) e += lg_expf(row[j * cs] - top);
    int64_t y = (int64_t)label_at(labels, i) - 1;
    s += (double)top + log(e) - (double)row[y * cs];
  }
  return s;
}

/* softmax(x) - onehot(labels): in place when no graph is being recorded,
** through a one-hot tensor when it is (softmax keeps its output). */
static lg_tensor *softmax_minus_onehot(lg_tensor *x, const lg_tensor *labels) {
  lg_tensor *p = lg_softmax(x, 1);
  if (!p) return NULL;
  int64_t rows = x->shape[0], classes = x->shape[1];
  if (!lg_grad_enabled()) {
    float *d = lg_data(p);
    for (int64_t i = 0; i < rows; i++)
      d[i * p->stride[0] + ((int64_t)label_at(labels, i) - 1) * p->stride[1]] -= 1.0f;
    return p;
  }
  lg_tensor *onehot = lg_zeros(2, x->shape);
  if (!onehot) {
    lg_release(p);
    return NULL;
  }
  float *hot = lg_data(onehot);
  for (int64_t i = 0; i < rows; i++) hot[i * classes + (int64_t)label_at(labels, i) - 1] = 1.0f;
  lg_tensor *d = lg_sub(p, onehot);
  lg_release(p);
  lg_release(onehot);
  return d;
}

/* d/dx = (softmax(x) - onehot(labels)) g/N; labels get no gradient.  The
** labels are checked again: the node shares them with the caller, who may
** have written into them since the forward pass. */
static int bw_cross_entropy(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0];
  if (!check_labels(n->saved[0], x->shape[1])) return -1;
  lg_tensor *d = softmax_minus_onehot(x, n->saved[0]);
  lg_tensor *gs = d ? lg_mul_scalar(g, 1.0f / (float)x->shape[0]) : NULL;
  gin[0] = gs ? lg_mul(d, gs) : NULL;
  lg_release(gs);
  lg_release(d);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_cross_entropy(lg_tensor *logits, lg_tensor *labels) {
  char b1[128], b2[128];
  if (logits->ndim != 2 || labels->ndim != 1 || labels->shape[0] != logits->shape[0])
    return lg_seterr("cross_entropy: logits %s and labels %s: expected logits [N,C] and "
                     "labels [N]", lg_shape_str(logits, b1, sizeof b1),
                     lg_shape_str(labels, b2, sizeof b2));
  int64_t rows = logits->shape[0], classes = logits->shape[1];
  if (!check_labels(labels, classes)) return NULL;
  const lg_tensor *xl[2] = {logits, labels};
  float mean = rows ? (float)(chunked_sum(rows, classes, sum_nll, xl) / (double)rows) : NAN;
  lg_tensor *out = lg_scalar(mean);
  if (!out || !lg_needs_grad(logits)) return out;
  lg_node *n = lg_attach(out, "cross_entropy", bw_cross_entropy, 1, &logits);
  if (!n) {
    lg_release(out);
    return NULL;
  }
  lg_retain(labels);            /* read-only: the classes to subtract in backward */
  lg_node_save(n, 0, labels);
  return out;
}

/* }====================================================== */
