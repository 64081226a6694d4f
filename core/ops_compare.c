/*
** Comparisons and discrete ops, with PyTorch's semantics on float32:
** gt ge lt le eq ne, where, masked_select, nonzero, argmax, argmin, min,
** floor ceil round trunc, randint, one_hot, eye, equal.
**
** Booleans are 0/1 floats.  A mask or condition is true where it is nonzero;
** NaN is nonzero, so it counts as true, as bool(nan) does in torch.
** Comparisons follow IEEE: every comparison with NaN is false except ne.
** Comparisons never record a graph (their derivative is zero wherever it
** exists, and torch's bool results cannot require grad either).
**
** Indices (nonzero, argmax, argmin, min's) are 0-based positions stored as
** floats, like max's; floats hold every integer only up to 2^24, so these
** ops refuse dims longer than that rather than return rounded positions.
** min() over all elements returns no index and has no such limit.
*/
#include "internal.h"

#include <math.h>
#include <string.h>

#define EXACT_MAX ((int64_t)1 << 24)   /* floats hold every integer up to here */

/* {====================================================== the loop driver
** Inputs broadcast (numpy rules) to a contiguous output.  Dims that every
** operand steps through as one are merged, so contiguous inputs become a
** single run; runs are cut into chunks of CHUNK elements that split over
** threads above LG_PAR_MIN.  The walk and its merging of dims are
** ops_elementwise.c's (lg_walk, internal.h); the runs here take up to three
** inputs (`where`). */

#define MAXOPS LG_WALK_MAXOPS          /* the output and up to 3 inputs */
#define CHUNK 16384

/* One run of n elements: o[i] = f(x[0][i*s[0]], ...). */
typedef void (*run_fn)(float *restrict o, const float *const *x, const int64_t *s, int64_t n);

typedef lg_walk walk;

static void run_walk(const walk *w, run_fn f) {
  int last = w->ndim - 1;
  int64_t inner = w->shape[last], rows = 1;
  for (int d = 0; d < last; d++) rows *= w->shape[d];
  int64_t per = (inner + CHUNK - 1) / CHUNK, tasks = rows * per;
  LG_PARALLEL_FOR(t, tasks, rows * inner >= LG_PAR_MIN && tasks > 1, {
    int64_t r = t / per, lo = (t % per) * CHUNK, n = inner - lo < CHUNK ? inner - lo : CHUNK;
    int64_t off[MAXOPS] = {0}, s[MAXOPS];
    const float *x[MAXOPS];
    for (int d = last - 1; d >= 0; d--) {
      int64_t i = r % w->shape[d];
      r /= w->shape[d];
      for (int k = 0; k < w->nops; k++) off[k] += i * w->stride[k][d];
    }
    for (int k = 1; k < w->nops; k++) {
      s[k - 1] = w->stride[k][last];
      x[k - 1] = w->base[k] + off[k] + lo * s[k - 1];
    }
    f(w->base[0] + off[0] + lo, x, s, n);
  });
}

/* The broadcast shape of in[0..n) into shape; on a mismatch the message
** names every operand. */
static int broadcast_all(const char *op, int n, lg_tensor *const *in, int64_t *shape) {
  lg_tensor acc = {.ndim = 0};
  for (int i = 0; i < n; i++) {
    int nd;
    int64_t out[LG_MAXDIM];
    if (!lg_broadcast_shape(op, &acc, in[i], &nd, out)) {
      if (n > 2) {
        char b[3][128];
        lg_seterr("%s: shapes %s, %s and %s cannot broadcast", op,
                  lg_shape_str(in[0], b[0], sizeof b[0]), lg_shape_str(in[1], b[1], sizeof b[1]),
                  lg_shape_str(in[2], b[2], sizeof b[2]));
      }
      return -1;
    }
    acc.ndim = nd;
    memcpy(acc.shape, out, sizeof acc.shape);
  }
  memcpy(shape, acc.shape, sizeof acc.shape);
  return acc.ndim;
}

/* out = f(in...) over the inputs' broadcast shape: a new contiguous tensor. */
static lg_tensor *map(const char *op, int n, lg_tensor *const *in, run_fn f) {
  int64_t shape[LG_MAXDIM];
  int nd = broadcast_all(op, n, in, shape);
  if (nd < 0) return NULL;
  lg_tensor *out = lg_empty(nd, shape);
  if (!out || out->numel == 0) return out;
  walk w = {.ndim = nd, .nops = n + 1};
  memcpy(w.shape, shape, sizeof w.shape);
  memcpy(w.stride[0], out->stride, sizeof w.stride[0]);
  w.base[0] = lg_data(out);
  for (int i = 0; i < n; i++) {
    lg_broadcast_strides(in[i], nd, shape, w.stride[i + 1]);
    w.base[i + 1] = lg_data(in[i]);
  }
  lg_walk_coalesce(&w);
  run_walk(&w, f);
  return out;
}

/* }====================================================== */

/* {====================================================== comparisons
** The stride-1 and stride-0 (a number, or a broadcast row) cases are the
** ones the compiler vectorises. */

#define CMP(name, OP)                                                                 \
  static void name(float *restrict o, const float *const *x, const int64_t *s,       \
                   int64_t n) {                                                       \
    const float *restrict a = x[0], *restrict b = x[1];                               \
    int64_t sa = s[0], sb = s[1];                                                     \
    if (sa == 1 && sb == 1) {                                                         \
      for (int64_t i = 0; i < n; i++) o[i] = (float)(a[i] OP b[i]);                   \
    } else if (sa == 1 && sb == 0) {                                                  \
      const float y = b[0];                                                           \
      for (int64_t i = 0; i < n; i++) o[i] = (float)(a[i] OP y);                      \
    } else if (sa == 0 && sb == 1) {                                                  \
      const float v = a[0];                                                           \
      for (int64_t i = 0; i < n; i++) o[i] = (float)(v OP b[i]);                      \
    } else {                                                                          \
      for (int64_t i = 0; i < n; i++) o[i] = (float)(a[i * sa] OP b[i * sb]);         \
    }                                                                                 \
  }

CMP(k_gt, >)
CMP(k_ge, >=)
CMP(k_lt, <)
CMP(k_le, <=)
CMP(k_eq, ==)
CMP(k_ne, !=)

static lg_tensor *compare(const char *op, lg_tensor *a, lg_tensor *b, run_fn k) {
  lg_tensor *in[2] = {a, b};
  return map(op, 2, in, k);
}

/* isnan, isinf, isfinite: 0/1 per element, no graph */
#define CLASSIFY(name, TEST)                                                            \
  static void name(float *restrict o, const float *const *x, const int64_t *s,         \
                   int64_t n) {                                                         \
    const float *restrict a = x[0];                                                     \
    for (int64_t i = 0; i < n; i++) {                                                   \
      float v = a[i * s[0]];                                                            \
      o[i] = (float)(TEST);                                                             \
    }                                                                                   \
  }

CLASSIFY(k_isnan, isnan(v) != 0)
CLASSIFY(k_isinf, isinf(v) != 0)   /* glibc's isinf(-inf) is -1 */
CLASSIFY(k_isfinite, isfinite(v) != 0)

lg_tensor *lg_isnan(lg_tensor *t) { return map("isnan", 1, &t, k_isnan); }
lg_tensor *lg_isinf(lg_tensor *t) { return map("isinf", 1, &t, k_isinf); }
lg_tensor *lg_isfinite(lg_tensor *t) { return map("isfinite", 1, &t, k_isfinite); }

lg_tensor *lg_gt(lg_tensor *a, lg_tensor *b) { return compare("gt", a, b, k_gt); }
lg_tensor *lg_ge(lg_tensor *a, lg_tensor *b) { return compare("ge", a, b, k_ge); }
lg_tensor *lg_lt(lg_tensor *a, lg_tensor *b) { return compare("lt", a, b, k_lt); }
lg_tensor *lg_le(lg_tensor *a, lg_tensor *b) { return compare("le", a, b, k_le); }
lg_tensor *lg_eq(lg_tensor *a, lg_tensor *b) { return compare("eq", a, b, k_eq); }
lg_tensor *lg_ne(lg_tensor *a, lg_tensor *b) { return compare("ne", a, b, k_ne); }

/* 1 when a and b have the same shape and equal elements (NaN equals
** nothing, -0 equals 0: torch.equal), 0 when not, -1 on failure. */
int lg_equal(lg_tensor *a, lg_tensor *b) {
  if (a->ndim != b->ndim || memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim))
    return 0;
  lg_tensor *e = lg_eq(a, b);
  if (!e) return -1;
  const float *d = lg_data(e);
  bool all = true;
  for (int64_t i = 0; i < e->numel; i++) all &= d[i] != 0.0f;
  lg_release(e);
  return all;
}

/* }====================================================== */

/* {====================================================== where, masked_select */

/* o = c != 0 ? a : b, with the layouts masked_fill and where(c, x, 0) use
** spelled out so that they vectorise. */
static void k_where(float *restrict o, const float *const *x, const int64_t *s, int64_t n) {
  const float *restrict c = x[0], *restrict a = x[1], *restrict b = x[2];
  if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? a[i] : b[i];
  } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
    const float va = a[0];
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? va : b[i];
  } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
    const float vb = b[0];
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? a[i] : vb;
  } else {
    for (int64_t i = 0; i < n; i++) o[i] = c[i * s[0]] != 0.0f ? a[i * s[1]] : b[i * s[2]];
  }
}

/* d/da = where(c, g, 0), d/db = where(c, 0, g), each summed back to the
** input's shape; written with where itself, so it differentiates again. */
static int bw_where(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *zero = lg_scalar(0.0f);
  if (!zero) return -1;
  int rc = 0;
  for (int i = 0; i < 2 && rc == 0; i++) {
    if (!lg_wants_grad(n, i)) continue;
    lg_tensor *in = n->inputs[i];
    lg_tensor *t = i == 0 ? lg_where(n->saved[0], g, zero) : lg_where(n->saved[0], zero, g);
    gin[i] = t ? lg_sum_to(t, in->ndim, in->shape) : NULL;
    lg_release(t);
    if (!gin[i]) rc = -1;
  }
  lg_release(zero);
  return rc;
}

lg_tensor *lg_where(lg_tensor *c, lg_tensor *a, lg_tensor *b) {
  lg_tensor *in[3] = {c, a, b};
  lg_tensor *out = map("where", 3, in, k_where);
  lg_node *node = lg_track(&out, "where", bw_where, 2, in + 1);
  if (node && !(node->saved[0] = lg_detach(c))) {
    lg_release(out);
    return NULL;
  }
  return out;
}


/* t seen at a broadcast shape (stride 0 on stretched dims), without a graph. */
static lg_tensor *broadcast_alias(const lg_tensor *t, int nd, const int64_t *shape) {
  lg_tensor *v = lg_alias(t);
  if (!v) return NULL;
  v->ndim = nd;
  memcpy(v->shape, shape, sizeof v->shape);
  lg_broadcast_strides(t, nd, shape, v->stride);
  lg_update_numel(v);
  return v;
}

/* mask at shape in a contiguous layout (mask itself when it already is
** one); *count = its nonzeros. */
static lg_tensor *dense_mask(const lg_tensor *mask, int nd, const int64_t *shape,
                             int64_t *count) {
  lg_tensor *m = broadcast_alias(mask, nd, shape), *out = m ? lg_dense(m) : NULL;
  int64_t k = 0;
  if (out) {
    const float *md = lg_data(out);
    for (int64_t i = 0; i < out->numel; i++) k += md[i] != 0.0f;
  }
  lg_release(m);
  *count = k;
  return out;
}

static lg_tensor *masked_scatter(lg_tensor *src, lg_tensor *m);

/* The gradient of masked_select is g put back at the selected places. */
static int bw_masked_select(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0], *t = masked_scatter(g, n->saved[0]);
  gin[0] = t ? lg_sum_to(t, in->ndim, in->shape) : NULL;
  lg_release(t);
  return gin[0] ? 0 : -1;
}

/* and that of masked_scatter is masked_select: an adjoint pair. */
static int bw_masked_scatter(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  gin[0] = lg_masked_select(g, n->saved[0]);
  return gin[0] ? 0 : -1;
}

/* Zeros of m's shape with src's k elements at m's k nonzeros, in
** row-major order.  m is contiguous (dense_mask). */
static lg_tensor *masked_scatter(lg_tensor *src, lg_tensor *m) {
  lg_tensor *out = lg_zeros(m->ndim, m->shape), *s = out ? lg_contiguous(src) : NULL;
  if (!s) {
    lg_release(out);
    return NULL;
  }
  const float *md = lg_data(m), *sd = lg_data(s);
  float *od = lg_data(out);
  for (int64_t i = 0, j = 0; i < m->numel; i++)
    if (md[i] != 0.0f) od[i] = sd[j++];
  lg_release(s);
  lg_node *node = lg_track(&out, "masked_scatter", bw_masked_scatter, 1, &src);
  if (node) {
    lg_retain(m);
    node->saved[0] = m;
  }
  return out;
}

lg_tensor *lg_masked_select(lg_tensor *x, lg_tensor *mask) {
  int64_t shape[LG_MAXDIM], k;
  lg_tensor *in[2] = {x, mask};
  int nd = broadcast_all("masked_select", 2, in, shape);
  if (nd < 0) return NULL;
  lg_tensor *m = dense_mask(mask, nd, shape, &k);
  lg_tensor *xe = m ? broadcast_alias(x, nd, shape) : NULL;
  lg_tensor *out = xe ? lg_empty(1, &k) : NULL;
  if (out) {
    const float *md = lg_data(m), *xd = xe->storage->data;
    float *od = lg_data(out);
    int64_t p = 0, j = 0;
    if (lg_is_contiguous(xe)) {
      /* branch-free: every element is written, the count moves on the
      ** selected ones; stops once all k are in, so od[j] stays in bounds */
      xd += xe->offset;
      for (int64_t i = 0; j < k; i++) {
        od[j] = xd[i];
        j += md[i] != 0.0f;
      }
    } else {
      FOR_EACH_OFFSET(xe, off, {
        if (md[p++] != 0.0f) od[j++] = xd[off];
      });
    }
  }
  lg_release(xe);
  lg_node *node = lg_track(&out, "masked_select", bw_masked_select, 1, &x);
  if (node) node->saved[0] = m;
  else lg_release(m);
  return out;
}

/* [k, ndim]: the positions of the k nonzero elements, row-major order. */
lg_tensor *lg_nonzero(lg_tensor *t) {
  char buf[128];
  for (int d = 0; d < t->ndim; d++)
    if (t->shape[d] > EXACT_MAX)
      return lg_seterr("nonzero: shape %s has a dim longer than 2^24, beyond which float "
                       "positions are not exact", lg_shape_str(t, buf, sizeof buf));
  const float *td = t->storage->data;
  int64_t k = 0, p = 0, pos[LG_MAXDIM] = {0};
  FOR_EACH_OFFSET(t, off, { k += td[off] != 0.0f; });
  int64_t shape[2] = {k, t->ndim};
  lg_tensor *out = lg_empty(2, shape);
  if (!out) return NULL;
  float *od = lg_data(out);
  FOR_EACH_OFFSET(t, off, {
    if (td[off] != 0.0f)
      for (int d = 0; d < t->ndim; d++) od[p++] = (float)pos[d];
    for (int d = t->ndim - 1; d >= 0 && ++pos[d] == t->shape[d]; d--) pos[d] = 0;
  });
  return out;
}

/* }====================================================== */

/* {====================================================== argmax, argmin, min */

#define COLS 64


/* idx[o, i] = first k where x[o, k, i] wins (n >= 1), val[o, i] its value;
** NaN wins over any number, so a slice with NaN reports its first NaN, as
** torch does.  Branch-free selects over COLS columns at a time, as
** ops_reduce.c's argmax (whose kernel is private to that file); with
** inner = 1 a block of COLS rows plays the columns. */
#define ARGEXT(name, BETTER)                                                             \
  static void name(const float *x, float *idx, float *val, int64_t outer, int64_t n,     \
                   int64_t inner) {                                                      \
    bool rows = inner == 1;                                                              \
    int64_t per = rows ? 1 : (inner + COLS - 1) / COLS;                                  \
    int64_t tasks = rows ? (outer + COLS - 1) / COLS : outer * per;                      \
    int64_t kstride = rows ? 1 : inner, istride = rows ? n : 1;                          \
    LG_PARALLEL_FOR(t, tasks, outer * n * inner >= LG_PAR_MIN && tasks > 1, {            \
      int64_t first = rows ? t * COLS : (t / per) * inner + (t % per) * COLS;            \
      int64_t left = rows ? outer - first : inner - (t % per) * COLS;                    \
      int64_t w = left < COLS ? left : COLS;                                             \
      const float *base = rows ? x + first * n : x + (t / per) * n * inner + (t % per) * COLS; \
      float best[COLS], at[COLS];                                                        \
      for (int64_t i = 0; i < w; i++) best[i] = base[i * istride], at[i] = 0.0f;         \
      for (int64_t k = 1; k < n; k++)                                                    \
        for (int64_t i = 0; i < w; i++) {                                                \
          float v = base[k * kstride + i * istride], b = best[i];                        \
          bool win = (BETTER) | ((v != v) & (b == b));                                   \
          best[i] = win ? v : b;                                                         \
          at[i] = win ? (float)k : at[i];                                                \
        }                                                                                \
      for (int64_t i = 0; i < w; i++) idx[first + i] = at[i], val[first + i] = best[i];  \
    });                                                                                  \
  }

ARGEXT(argmax_k, v > b)
ARGEXT(argmin_k, v < b)

/* min's gradient goes to the element it picked: gather's, a scatter. */
static int bw_min(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0];
  gin[0] = lg_scatter(g, (int)n->ints[0], n->saved[0], in->ndim, in->shape);
  return gin[0] ? 0 : -1;
}

/* *t squeezed at dim in place of *t; false (and *t NULL) on failure. */
static bool squeeze_(lg_tensor **t, int dim) {
  lg_tensor *s = lg_squeeze(*t, dim);
  lg_release(*t);
  *t = s;
  return s != NULL;
}

/* Values (a graph for min) and indices over dim, from one pass. */
static lg_tensor *extreme(const char *op, lg_tensor *t, int dim, bool keepdim, bool is_min,
                          bool values, lg_tensor **indices) {
  char buf[128];
  if (indices) *indices = NULL;
  if (dim < 0 || dim >= t->ndim) {
    if (t->ndim == 0) return lg_seterr("%s: dim %d out of range for a 0-dim tensor", op, dim);
    return lg_seterr("%s: dim %d out of range for shape %s", op, dim,
                     lg_shape_str(t, buf, sizeof buf));
  }
  if (t->shape[dim] == 0)
    return lg_seterr("%s: cannot take the %s over dim %d of size 0 in shape %s", op, op, dim,
                     lg_shape_str(t, buf, sizeof buf));
  if (t->shape[dim] > EXACT_MAX)
    return lg_seterr("%s: dim %d of shape %s is longer than 2^24, beyond which float "
                     "indices are not exact", op, dim, lg_shape_str(t, buf, sizeof buf));
  int64_t shape[LG_MAXDIM], outer = 1, inner = 1, n = t->shape[dim];
  int nd = 0;
  for (int i = 0; i < t->ndim; i++) {
    shape[nd++] = i == dim ? 1 : t->shape[i];
    if (i < dim) outer *= t->shape[i];
    if (i > dim) inner *= t->shape[i];
  }
  lg_tensor *x = lg_dense(t);
  lg_tensor *idx = x ? lg_empty(nd, shape) : NULL, *val = idx ? lg_empty(nd, shape) : NULL;
  if (val && val->numel > 0)
    (is_min ? argmin_k : argmax_k)(lg_data(x), lg_data(idx), lg_data(val), outer, n, inner);
  lg_release(x);
  if (!val) {
    lg_release(idx);
    return NULL;
  }
  if (!values) {
    lg_release(val);
    val = NULL;
  } else {
    lg_node *node = lg_track(&val, op, bw_min, 1, &t);
    if (node) {
      node->ints[0] = dim;
      if (!(node->saved[0] = lg_detach(idx))) lg_release(val), val = NULL;
    }
    if (!val) {
      lg_release(idx);
      return NULL;
    }
  }
  if (!keepdim && (!squeeze_(&idx, dim) || (val && !squeeze_(&val, dim)))) {
    lg_release(idx);
    lg_release(val);
    return NULL;
  }
  if (!values) return idx;
  if (indices) *indices = idx;
  else lg_release(idx);
  return val;
}

lg_tensor *lg_min_dim(lg_tensor *t, int dim, bool keepdim, lg_tensor **indices) {
  return extreme("min", t, dim, keepdim, true, true, indices);
}

lg_tensor *lg_argmax(lg_tensor *t, int dim, bool keepdim) {
  return extreme("argmax", t, dim, keepdim, false, false, NULL);
}

lg_tensor *lg_argmin(lg_tensor *t, int dim, bool keepdim) {
  return extreme("argmin", t, dim, keepdim, true, false, NULL);
}

/* Position of the first minimum of n >= 1 contiguous floats (NaN wins),
** counted in int64: exact at any length. */
static int64_t argmin_flat(const float *x, int64_t n) {
  int64_t at = 0;
  float b = x[0];
  for (int64_t k = 1; k < n; k++) {
    float v = x[k];
    bool win = (v < b) | ((v != v) & (b == b));
    b = win ? v : b;
    at = win ? k : at;
  }
  return at;
}

/* The element itself, picked out of the flattened t: exact past 2^24
** elements (no float index).  The gradient, as max()'s, is split evenly
** among the tied minima. */
lg_tensor *lg_min(lg_tensor *t) {
  char buf[128];
  if (t->numel == 0)
    return lg_seterr("min: cannot take the min of an empty tensor of shape %s",
                     lg_shape_str(t, buf, sizeof buf));
  int64_t n = t->numel;
  lg_tensor *d = lg_detach(t), *x = d ? lg_dense(d) : NULL;
  lg_tensor *out = x ? lg_scalar(lg_data(x)[argmin_flat(lg_data(x), n)]) : NULL;
  lg_release(d);
  lg_release(x);
  return lg_track_extreme_all(out, "min", t);
}

/* }====================================================== */

/* {====================================================== rounding */

#define ROUND(name, fn)                                                               \
  static void name(float *restrict o, const float *const *x, const int64_t *s,       \
                   int64_t n) {                                                       \
    const float *restrict a = x[0];                                                   \
    if (s[0] == 1)                                                                    \
      for (int64_t i = 0; i < n; i++) o[i] = fn(a[i]);                                \
    else                                                                              \
      for (int64_t i = 0; i < n; i++) o[i] = fn(a[i * s[0]]);                         \
  }

ROUND(k_floor, floorf)
ROUND(k_ceil, ceilf)
ROUND(k_round, nearbyintf)   /* the default rounding mode: half to even, as torch */
ROUND(k_trunc, truncf)

/* The derivative is zero wherever it exists.  Like torch, the result still
** belongs to the graph and hands back zeros, so that x:floor():sum()
** :backward() gives x a zero gradient instead of an error. */
static int bw_zero(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  (void)g;
  gin[0] = lg_zeros(n->inputs[0]->ndim, n->inputs[0]->shape);
  return gin[0] ? 0 : -1;
}

static lg_tensor *rounding(const char *op, lg_tensor *a, run_fn k) {
  lg_tensor *out = map(op, 1, &a, k);
  lg_track(&out, op, bw_zero, 1, &a);
  return out;
}

lg_tensor *lg_floor(lg_tensor *a) { return rounding("floor", a, k_floor); }
lg_tensor *lg_ceil(lg_tensor *a) { return rounding("ceil", a, k_ceil); }
lg_tensor *lg_round(lg_tensor *a) { return rounding("round", a, k_round); }
lg_tensor *lg_trunc(lg_tensor *a) { return rounding("trunc", a, k_trunc); }

/* }====================================================== */

/* {====================================================== creation */

/* Integers in [lo, hi), each lo + floor(u (hi - lo)) for a uniform u with
** 53 random bits: for ranges up to 2^24 the bias is below 2^-29. */
lg_tensor *lg_randint(int64_t lo, int64_t hi, int ndim, const int64_t *shape) {
  if (lo < -EXACT_MAX || hi > EXACT_MAX)
    return lg_seterr("randint: bounds [%lld, %lld) reach beyond +-2^24, where float32 "
                     "loses integers", (long long)lo, (long long)hi);
  if (hi <= lo)
    return lg_seterr("randint: high %lld must be greater than low %lld (the range [low, high) "
                     "is empty)", (long long)hi, (long long)lo);
  if (!lg_check_shape("randint", ndim, shape)) return NULL;
  lg_tensor *t = lg_empty(ndim, shape);
  if (!t) return NULL;
  float *d = lg_data(t);
  double span = (double)(hi - lo);
  for (int64_t i = 0; i < t->numel; i++)
    d[i] = (float)(lo + (int64_t)(lg_rng_uniform() * span));
  return t;
}

lg_tensor *lg_eye(int64_t n, int64_t m) {
  int64_t shape[2] = {n, m};
  if (n < 0 || m < 0)
    return lg_seterr("eye: sizes must be >= 0, got %lld x %lld", (long long)n, (long long)m);
  lg_tensor *t = lg_zeros(2, shape);
  if (!t) return NULL;
  float *d = lg_data(t);
  for (int64_t i = 0; i < n && i < m; i++) d[i * m + i] = 1.0f;
  return t;
}

/* Every label must be a class number, an integer in 1..c (c < 0: any
** integer >= 1); returns the largest, or -1 with the message. */
static int64_t check_labels(const lg_tensor *labels, int64_t c) {
  char buf[128];
  const float *ld = labels->storage->data;
  int64_t pos[LG_MAXDIM] = {0}, top = 0;
  bool bad = false;
  float v = 0;
  FOR_EACH_OFFSET(labels, off, {
    if (!bad) {
      v = ld[off];
      if (v >= 1.0f && (c < 0 || v <= (float)c) && v == floorf(v) && v <= (float)EXACT_MAX) {
        if ((int64_t)v > top) top = (int64_t)v;
        for (int d = labels->ndim - 1; d >= 0 && ++pos[d] == labels->shape[d]; d--) pos[d] = 0;
      } else {
        bad = true;
      }
    }
  });
  if (!bad) return top;
  for (int d = 0; d < labels->ndim; d++) pos[d]++;   /* 1-based, as the labels */
  if (isnan(v)) v = NAN;   /* "nan", never "-nan" (Lua's 0/0 has the sign bit set) */
  lg_dims_str(pos, labels->ndim, buf, sizeof buf);
  if (c < 0)
    lg_seterr("one_hot: label %g at position %s is not a class number (an integer >= 1)",
              (double)v, buf);
  else
    lg_seterr("one_hot: label %g at position %s is not a class number in 1..%lld", (double)v,
              buf, (long long)c);
  return -1;
}

/* labels [...] of class numbers 1..C -> [..., C] with a 1 at each label;
** num_classes -1 takes the largest label, as torch's -1 does. */
lg_tensor *lg_one_hot(lg_tensor *labels, int64_t num_classes) {
  char buf[128];
  int64_t shape[LG_MAXDIM], p = 0;
  if (labels->ndim >= LG_MAXDIM)
    return lg_seterr("one_hot: labels of shape %s have %d dims; the result would have more "
                     "than %d", lg_shape_str(labels, buf, sizeof buf), labels->ndim, LG_MAXDIM);
  if (num_classes == 0 || num_classes < -1)
    return lg_seterr("one_hot: num_classes must be at least 1 (or -1 to infer it), got %lld",
                     (long long)num_classes);
  if (num_classes < 0 && labels->numel == 0)
    return lg_seterr("one_hot: cannot infer num_classes from empty labels of shape %s",
                     lg_shape_str(labels, buf, sizeof buf));
  int64_t top = check_labels(labels, num_classes);
  if (top < 0) return NULL;
  memcpy(shape, labels->shape, sizeof(int64_t) * (size_t)labels->ndim);
  shape[labels->ndim] = num_classes < 0 ? top : num_classes;
  if (!lg_check_shape("one_hot", labels->ndim + 1, shape)) return NULL;
  lg_tensor *out = lg_zeros(labels->ndim + 1, shape);
  if (!out) return NULL;
  float *od = lg_data(out);
  const float *ld = labels->storage->data;
  int64_t c = shape[labels->ndim];
  FOR_EACH_OFFSET(labels, off, { od[p++ * c + (int64_t)ld[off] - 1] = 1.0f; });
  return out;
}

/* }====================================================== */
