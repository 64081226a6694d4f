/*
** Reductions along a dim (sum, mean, max), gather/scatter, softmax and
** log_softmax.
**
** A reduction over dim d sees its input as [outer, n, inner]: outer is the
** product of the sizes before d, n the size of d, inner the product after.
** Kernels read a contiguous layout (non-contiguous inputs are copied first)
** and split the outer*inner independent slices across threads.
**
** Determinism: sums accumulate in double, and the order in which each
** output adds its terms is fixed by the shape alone (never by the thread
** count), so results are bitwise reproducible on any number of threads.
*/
#include "fastmath.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* A long row is summed as fixed blocks of this many elements, in parallel,
** and the block sums are then added in order. */
#define SUM_BLOCK 8192
/* Reducing a dim that is not the last: each task owns this many adjacent
** columns and walks the n rows over them. */
#define COLS 64

/* {====================================================== helpers */





/* t's shape with dim reduced: kept as size 1, or removed. */
static int reduced_shape(const lg_tensor *t, int dim, bool keepdim, int64_t *shape) {
  int nd = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (i != dim) shape[nd++] = t->shape[i];
    else if (keepdim) shape[nd++] = 1;
  }
  return nd;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* }====================================================== */

/* {====================================================== sum kernels */

/* Sum of n contiguous floats: eight interleaved double accumulators (so the
** adds do not wait on each other) combined in a fixed tree. */
static double row_sum(const float *x, int64_t n) {
  double acc[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += x[i + l];
  for (; i < n; i++) acc[0] += x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* y[o] = sum over the row x[o, 0..n). */
static int sum_rows(const float *x, float *y, int64_t outer, int64_t n) {
  int64_t nblk = n > SUM_BLOCK ? (n + SUM_BLOCK - 1) / SUM_BLOCK : 1;
  if (nblk == 1) {
    LG_PARALLEL_FOR(o, outer, outer * n >= LG_PAR_MIN && outer > 1,
                    { y[o] = (float)row_sum(x + o * n, n); });
    return 0;
  }
  double *part = malloc(sizeof *part * (size_t)(outer * nblk));
  if (!part) {
    lg_seterr("sum: out of memory");
    return -1;
  }
  LG_PARALLEL_FOR(b, outer * nblk, outer * n >= LG_PAR_MIN, {
    int64_t o = b / nblk, lo = (b % nblk) * SUM_BLOCK;
    part[b] = row_sum(x + o * n + lo, min64(SUM_BLOCK, n - lo));
  });
  for (int64_t o = 0; o < outer; o++) {
    double s = 0;
    for (int64_t b = 0; b < nblk; b++) s += part[o * nblk + b];
    y[o] = (float)s;
  }
  free(part);
  return 0;
}

/* y[o, i] = sum over k of x[o, k, i]; each column adds its rows in order. */
static void sum_cols(const float *x, float *y, int64_t outer, int64_t n, int64_t inner) {
  int64_t per = (inner + COLS - 1) / COLS, tasks = outer * per;
  LG_PARALLEL_FOR(t, tasks, outer * n * inner >= LG_PAR_MIN && tasks > 1, {
    int64_t o = t / per, i0 = (t % per) * COLS, w = min64(COLS, inner - i0);
    const float *base = x + o * n * inner + i0;
    double acc[COLS];
    for (int64_t i = 0; i < w; i++) acc[i] = 0;
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < w; i++) acc[i] += base[k * inner + i];
    for (int64_t i = 0; i < w; i++) y[o * inner + i0 + i] = (float)acc[i];
  });
}

/* }====================================================== */

/* {====================================================== sum, mean */

/* The gradient of a sum is g copied (as a stride-0 view) along dim. */
static int bw_sum_dim(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0], *t;
  if (n->ints[1]) {
    lg_retain(g);
    t = g;
  } else if (!(t = lg_unsqueeze(g, (int)n->ints[0]))) {
    return -1;
  }
  gin[0] = lg_expand(t, in->ndim, in->shape);
  lg_release(t);
  return gin[0] ? 0 : -1;
}

static lg_tensor *sum_dim_op(const char *op, lg_tensor *t, int dim, bool keepdim) {
  int64_t shape[LG_MAXDIM], outer, n, inner;
  if (!lg_check_dim(op, t, dim)) return NULL;
  lg_tensor *x = lg_dense(t);
  if (!x) return NULL;
  lg_tensor *out = lg_empty(reduced_shape(t, dim, keepdim, shape), shape);
  lg_split_at(t, dim, &outer, &n, &inner);
  int rc = 0;
  if (out && out->numel > 0) {
    if (inner == 1) rc = sum_rows(lg_data(x), lg_data(out), outer, n);
    else sum_cols(lg_data(x), lg_data(out), outer, n, inner);
  }
  lg_release(x);
  if (rc) {
    lg_release(out);
    return NULL;
  }
  lg_node *node = lg_track(&out, "sum", bw_sum_dim, 1, &t);
  if (node) {
    node->ints[0] = dim;
    node->ints[1] = keepdim;
  }
  return out;
}

/* t seen as one flat dim (a view when the layout allows). */
static lg_tensor *flat(lg_tensor *t) {
  int64_t n = t->numel;
  return lg_reshape(t, 1, &n);
}

lg_tensor *lg_sum_dim(lg_tensor *t, int dim, bool keepdim) {
  return sum_dim_op("sum", t, dim, keepdim);
}

lg_tensor *lg_sum(lg_tensor *t) {
  lg_tensor *f = flat(t);
  if (!f) return NULL;
  lg_tensor *out = sum_dim_op("sum", f, 0, false);
  lg_release(f);
  return out;
}

/* sum / n; over zero elements that is 0 * NaN = NaN, as in torch. */
static lg_tensor *scale_mean(lg_tensor *sum, int64_t n) {
  if (!sum) return NULL;
  lg_tensor *out = lg_mul_scalar(sum, n > 0 ? (float)(1.0 / (double)n) : NAN);
  lg_release(sum);
  return out;
}

lg_tensor *lg_mean_dim(lg_tensor *t, int dim, bool keepdim) {
  lg_tensor *s = sum_dim_op("mean", t, dim, keepdim);
  return scale_mean(s, s ? t->shape[dim] : 0);
}

lg_tensor *lg_mean(lg_tensor *t) {
  lg_tensor *f = flat(t);
  if (!f) return NULL;
  lg_tensor *s = sum_dim_op("mean", f, 0, false);
  lg_release(f);
  return scale_mean(s, t->numel);
}

/* }====================================================== */

/* {====================================================== gather, scatter
** torch semantics, for a 2-D example along dim 1:
**   gather:  out[i][j] = t[i][index[i][j]]            out has index's shape
**   scatter: out[i][index[i][j]] += src[i][j]         out = zeros(shape) first
** index has t's (or shape's) ndim, holds 0-based positions as floats, and
** may be smaller than t on every dim but `dim`.  scatter adds, so the two
** are adjoint: each one's backward is the other. */

/* big and index both contiguous with the same shape on every dim but dim. */
static bool same_but_dim(const lg_tensor *big, const lg_tensor *index, int dim) {
  if (!lg_is_contiguous(big) || !lg_is_contiguous(index) || index->numel == 0) return false;
  for (int d = 0; d < big->ndim; d++)
    if (d != dim && big->shape[d] != index->shape[d]) return false;
  return true;
}

/* The element positions gather reads and scatter adds to: for element p of
** index (row-major), the position in `big` is index's position with its
** coordinate along dim replaced by the index value.  small is contiguous
** with index's shape.  Validates every index value; sequential, so that
** scatter adds colliding elements in a fixed order. */
static int index_walk(const char *op, lg_tensor *big, int dim, const lg_tensor *index,
                      float *small, bool scatter) {
  char b1[128], b2[128];
  int64_t pos[LG_MAXDIM] = {0}, io = index->offset, bo = big->offset;
  int64_t size = big->shape[dim], step = big->stride[dim];
  const float *ix = index->storage->data;
  float *bd = big->storage->data;
  if (same_but_dim(big, index, dim)) {   /* max's backward: flat loops */
    int64_t outer, m, inner, p = 0;
    lg_split_at(index, dim, &outer, &m, &inner);
    const float *iv = ix + io;
    float *base = bd + bo;
    /* every value checked in one vectorised pass first; a bad one is left
    ** to the general loop below, which reports it with its position */
    bool ok = true;
    for (int64_t q = 0; q < index->numel; q++)
      ok &= (iv[q] >= 0.0f) & (iv[q] < (float)size) & (iv[q] == floorf(iv[q]));
    if (!ok) goto general;
    for (int64_t o = 0; o < outer; o++, base += size * inner)
      for (int64_t k = 0; k < m; k++)
        for (int64_t i = 0; i < inner; i++, p++) {
          if (scatter) base[(int64_t)iv[p] * inner + i] += small[p];
          else small[p] = base[(int64_t)iv[p] * inner + i];
        }
    return 0;
  }
general:
  for (int64_t p = 0; p < index->numel; p++) {
    float v = ix[io];
    if (!(v >= 0.0f && v < (float)size && v == floorf(v))) {
      lg_seterr("%s: index value %.10g at position %s is not a valid position along dim %d of "
                "shape %s (0..%lld)", op, v, lg_dims_str(pos, index->ndim, b1, sizeof b1),
                dim, lg_shape_str(big, b2, sizeof b2), (long long)size - 1);
      return -1;
    }
    int64_t at = bo + (int64_t)v * step;
    if (scatter) bd[at] += small[p];
    else small[p] = bd[at];
    for (int d = index->ndim - 1; d >= 0; d--) {
      int64_t bs = d == dim ? 0 : big->stride[d];
      io += index->stride[d];
      bo += bs;
      if (++pos[d] < index->shape[d]) break;
      io -= index->stride[d] * index->shape[d];
      bo -= bs * index->shape[d];
      pos[d] = 0;
    }
  }
  return 0;
}

/* index must have big's ndim and fit inside big on every dim but `dim`. */
static bool check_index(const char *op, const lg_tensor *big, int dim, const lg_tensor *index) {
  char b1[128], b2[128];
  if (!lg_check_dim(op, big, dim)) return false;
  bool ok = index->ndim == big->ndim;
  for (int d = 0; ok && d < big->ndim; d++)
    if (d != dim && index->shape[d] > big->shape[d]) ok = false;
  if (!ok)
    lg_seterr("%s: index of shape %s does not fit shape %s along dims other than %d", op,
              lg_shape_str(index, b1, sizeof b1), lg_shape_str(big, b2, sizeof b2), dim);
  return ok;
}

#define SAVED_INDEX 1

static int bw_gather(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0];
  gin[0] = lg_scatter(g, (int)n->ints[0], n->saved[SAVED_INDEX], in->ndim, in->shape);
  return gin[0] ? 0 : -1;
}

static int bw_scatter(lg_node *n, lg_tensor *gg, lg_tensor **gin) {
  gin[0] = lg_gather(gg, (int)n->ints[0], n->saved[SAVED_INDEX]);
  return gin[0] ? 0 : -1;
}

/* Records the node of gather/scatter: input t, the index kept detached. */
static lg_tensor *track_indexed(lg_tensor *out, const char *name, lg_backward_fn bw,
                                lg_tensor *t, int dim, lg_tensor *index) {
  lg_node *node = lg_track(&out, name, bw, 1, &t);
  if (!node) return out;
  node->ints[0] = dim;
  if (!lg_node_save(node, SAVED_INDEX, lg_detach(index))) {
    lg_release(out);
    return NULL;
  }
  return out;
}

lg_tensor *lg_gather(lg_tensor *t, int dim, lg_tensor *index) {
  if (!check_index("gather", t, dim, index)) return NULL;
  lg_tensor *out = lg_empty(index->ndim, index->shape);
  if (!out) return NULL;
  if (index_walk("gather", t, dim, index, lg_data(out), false)) {
    lg_release(out);
    return NULL;
  }
  return track_indexed(out, "gather", bw_gather, t, dim, index);
}

lg_tensor *lg_index_select(lg_tensor *t, int dim, lg_tensor *index) {
  char b1[128];
  if (!lg_check_dim("index_select", t, dim)) return NULL;
  if (index->ndim != 1)
    return lg_seterr("index_select: index must be 1-D, got shape %s",
                     lg_shape_str(index, b1, sizeof b1));
  /* index [k] viewed as [1,..,k,..,1] and broadcast to t's shape with k on dim */
  int64_t view[LG_MAXDIM], full[LG_MAXDIM];
  for (int i = 0; i < t->ndim; i++) {
    view[i] = i == dim ? index->shape[0] : 1;
    full[i] = i == dim ? index->shape[0] : t->shape[i];
  }
  lg_tensor *v = lg_reshape(index, t->ndim, view);
  lg_tensor *e = v ? lg_expand(v, t->ndim, full) : NULL;
  lg_tensor *out = e ? lg_gather(t, dim, e) : NULL;
  lg_release(v);
  lg_release(e);
  if (!out && strncmp(lg_errmsg(), "gather", 6) == 0) {  /* name the op the caller used */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", lg_errmsg() + 6);
    lg_seterr("index_select%s", msg);
  }
  return out;
}

lg_tensor *lg_scatter(lg_tensor *src, int dim, lg_tensor *index, int ndim,
                      const int64_t *shape) {
  char b1[128], b2[128];
  if (!lg_check_shape("scatter", ndim, shape)) return NULL;
  if (src->ndim != index->ndim ||
      memcmp(src->shape, index->shape, sizeof(int64_t) * (size_t)src->ndim))
    return lg_seterr("scatter: source of shape %s and index of shape %s must have the same shape",
                     lg_shape_str(src, b1, sizeof b1), lg_shape_str(index, b2, sizeof b2));
  lg_tensor *out = lg_zeros(ndim, shape);
  if (!out) return NULL;
  lg_tensor *s = NULL;
  if (!check_index("scatter", out, dim, index) || !(s = lg_dense(src)) ||
      index_walk("scatter", out, dim, index, lg_data(s), true)) {
    lg_release(s);
    lg_release(out);
    return NULL;
  }
  lg_release(s);
  return track_indexed(out, "scatter", bw_scatter, src, dim, index);
}

/* }====================================================== */

/* {====================================================== max */

/* NaN wins, as in torch: the first NaN of a slice is its max. */
static inline bool beats(float v, float best) { return (v > best) | ((v != v) & (best == best)); }

/* idx[o, i] = first k where x[o, k, i] is largest (n >= 1), val[o, i] that
** value.  The updates are selects, not branches: on unordered data (a
** maxout layer's pieces) a branch per element mispredicted half the time
** and took 45% of a 2-D GAN step.  Columns go COLS at a time so that the
** selects vectorise; with inner = 1 (max over the last dim) a block of COLS
** rows plays the columns. */
static void argmax_cols(const float *x, float *idx, float *val, int64_t outer, int64_t n,
                        int64_t inner) {
  bool rows = inner == 1;
  int64_t per = rows ? 1 : (inner + COLS - 1) / COLS;
  int64_t tasks = rows ? (outer + COLS - 1) / COLS : outer * per;
  int64_t kstride = rows ? 1 : inner, istride = rows ? n : 1;
  LG_PARALLEL_FOR(t, tasks, outer * n * inner >= LG_PAR_MIN && tasks > 1, {
    int64_t first = rows ? t * COLS : (t / per) * inner + (t % per) * COLS;   /* output index */
    int64_t w = rows ? min64(COLS, outer - first) : min64(COLS, inner - (t % per) * COLS);
    const float *base = rows ? x + first * n : x + (t / per) * n * inner + (t % per) * COLS;
    float best[COLS], at[COLS];
    for (int64_t i = 0; i < w; i++) best[i] = base[i * istride], at[i] = 0.0f;
    for (int64_t k = 1; k < n; k++)
      for (int64_t i = 0; i < w; i++) {
        float v = base[k * kstride + i * istride];
        bool b = beats(v, best[i]);
        best[i] = b ? v : best[i];
        at[i] = b ? (float)k : at[i];
      }
    for (int64_t i = 0; i < w; i++) idx[first + i] = at[i], val[first + i] = best[i];
  });
}

/* Values and indices from one pass; the gradient is gather's (a scatter). */
static lg_tensor *max_op(const char *op, lg_tensor *t, int dim, bool keepdim,
                         lg_tensor **indices) {
  char buf[128];
  int64_t shape[LG_MAXDIM], outer, n, inner;
  if (indices) *indices = NULL;
  if (!lg_check_dim(op, t, dim)) return NULL;
  if (t->shape[dim] == 0)
    return lg_seterr("%s: cannot take the max over dim %d of size 0 in shape %s", op, dim,
                     lg_shape_str(t, buf, sizeof buf));
  lg_tensor *x = lg_dense(t);
  if (!x) return NULL;
  int nd = reduced_shape(t, dim, true, shape);
  lg_tensor *idx = lg_empty(nd, shape), *vals = idx ? lg_empty(nd, shape) : NULL;
  lg_split_at(t, dim, &outer, &n, &inner);
  if (vals) {
    argmax_cols(lg_data(x), lg_data(idx), lg_data(vals), outer, n, inner);
    vals = track_indexed(vals, "gather", bw_gather, t, dim, idx);
  }
  lg_release(x);
  if (vals && !keepdim) {
    lg_tensor *v = lg_squeeze(vals, dim), *i = lg_squeeze(idx, dim);
    lg_release(vals);
    lg_release(idx);
    vals = v;
    idx = i;
    if (!v || !i) {
      lg_release(v);
      lg_release(i);
      return NULL;
    }
  }
  if (vals && indices) *indices = idx;
  else lg_release(idx);
  return vals;
}

lg_tensor *lg_max_dim(lg_tensor *t, int dim, bool keepdim, lg_tensor **indices) {
  return max_op("max", t, dim, keepdim, indices);
}

/* m + log(sum(exp(t - m))), m the maximum along dim as a constant (no
** graph), replaced by 0 where it is infinite or NaN: a row of -inf then
** gives log 0 = -inf, a +inf gives +inf, a NaN gives NaN, as torch.  An
** empty dim has no maximum: m is 0 there, and the sum's log is -inf. */
lg_tensor *lg_logsumexp(lg_tensor *t, int dim, bool keepdim) {
  if (!lg_check_dim("logsumexp", t, dim)) return NULL;
  int64_t kept[LG_MAXDIM];
  memcpy(kept, t->shape, sizeof kept);
  kept[dim] = 1;
  lg_tensor *plain = NULL, *m;
  if (t->shape[dim] == 0) {
    m = lg_zeros(t->ndim, kept);
  } else {
    plain = lg_detach(t);
    m = plain ? lg_max_dim(plain, dim, true, NULL) : NULL;
  }
  lg_release(plain);
  if (!m) return NULL;
  float *d = lg_data(m);
  for (int64_t i = 0; i < m->numel; i++)
    if (!isfinite(d[i])) d[i] = 0.0f;
  lg_tensor *shifted = lg_sub(t, m);
  lg_tensor *e = shifted ? lg_exp(shifted) : NULL;
  lg_tensor *sum = e ? lg_sum_dim(e, dim, true) : NULL;
  lg_tensor *l = sum ? lg_log(sum) : NULL;
  lg_tensor *out = l ? lg_add(l, m) : NULL;
  lg_release(m), lg_release(shifted), lg_release(e), lg_release(sum), lg_release(l);
  if (out && !keepdim) {
    lg_tensor *sq = lg_squeeze(out, dim);
    lg_release(out);
    out = sq;
  }
  return out;
}

/* max() and min() over all elements, as torch 1.13: the gradient is split
** evenly among the elements equal to the value (the NaNs when it is NaN),
** g / count on a mask.  The mask is flat in x and the rest linear in g, so
** the gradient differentiates again. */
static int bw_extreme_all(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *v = lg_scalar(n->floats[0]);
  float val = n->floats[0];
  lg_tensor *mask = !v ? NULL : val != val ? lg_ne(x, x) : lg_eq(x, v);
  lg_tensor *count = mask ? lg_sum(mask) : NULL;
  lg_tensor *share = count ? lg_div(g, count) : NULL;
  gin[0] = share ? lg_mul(mask, share) : NULL;
  lg_release(v), lg_release(mask), lg_release(count), lg_release(share);
  return gin[0] ? 0 : -1;
}

/* out, the value computed without a graph, gets the node above on t. */
lg_tensor *lg_track_extreme_all(lg_tensor *out, const char *op, lg_tensor *t) {
  if (!out) return NULL;
  float val = lg_data(out)[0];
  lg_node *node = lg_track(&out, op, bw_extreme_all, 1, &t);
  if (node) node->floats[0] = val;
  return out;
}

lg_tensor *lg_max(lg_tensor *t) {
  char buf[128];
  if (t->numel == 0)
    return lg_seterr("max: cannot take the max of an empty tensor of shape %s",
                     lg_shape_str(t, buf, sizeof buf));
  lg_tensor *d = lg_detach(t), *f = d ? flat(d) : NULL;
  lg_tensor *out = f ? max_op("max", f, 0, false, NULL) : NULL;
  lg_release(d);
  lg_release(f);
  return lg_track_extreme_all(out, "max", t);
}

/* }====================================================== */

/* {====================================================== softmax, log_softmax */

/* Over each slice along dim: y = exp(x - max) / sum, or for log_softmax
** y = (x - max) - log(sum), the sum of exponentials taken in double. */
static void softmax_row(const float *x, float *y, int64_t n, bool log_form) {
  float mx = -INFINITY;
  for (int64_t k = 0; k < n; k++) mx = fmaxf(mx, x[k]);
  for (int64_t k = 0; k < n; k++) y[k] = lg_expf(x[k] - mx);
  double sum = row_sum(y, n);
  if (log_form) {
    float lse = (float)log(sum);
    for (int64_t k = 0; k < n; k++) y[k] = (x[k] - mx) - lse;
  } else {
    float inv = (float)(1.0 / sum);
    for (int64_t k = 0; k < n; k++) y[k] *= inv;
  }
}

static void softmax_rows(const float *x, float *y, int64_t outer, int64_t n, bool log_form) {
  LG_PARALLEL_FOR(o, outer, outer * n >= LG_PAR_MIN && outer > 1,
                  { softmax_row(x + o * n, y + o * n, n, log_form); });
}

static void softmax_cols(const float *x, float *y, int64_t outer, int64_t n, int64_t inner,
                         bool log_form) {
  int64_t per = (inner + COLS - 1) / COLS, tasks = outer * per;
  LG_PARALLEL_FOR(t, tasks, outer * n * inner >= LG_PAR_MIN && tasks > 1, {
    int64_t o = t / per, i0 = (t % per) * COLS, w = min64(COLS, inner - i0);
    const float *xb = x + o * n * inner + i0;
    float *yb = y + o * n * inner + i0;
    float mx[COLS], shift[COLS];
    double sum[COLS];
    for (int64_t i = 0; i < w; i++) mx[i] = -INFINITY, sum[i] = 0;
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < w; i++) mx[i] = fmaxf(mx[i], xb[k * inner + i]);
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < w; i++) {
        float e = lg_expf(xb[k * inner + i] - mx[i]);
        sum[i] += e;
        if (!log_form) yb[k * inner + i] = e;
      }
    for (int64_t i = 0; i < w; i++)
      shift[i] = log_form ? (float)log(sum[i]) : (float)(1.0 / sum[i]);
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < w; i++) {
        int64_t at = k * inner + i;
        yb[at] = log_form ? (xb[at] - mx[i]) - shift[i] : yb[at] * shift[i];
      }
  });
}

/* softmax: dx = y * (g - sum(g * y, dim)) */
static int bw_softmax(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  int dim = (int)n->ints[0];
  lg_tensor *y = lg_node_output(n);
  lg_tensor *gy = y ? lg_mul(g, y) : NULL;
  lg_tensor *s = gy ? lg_sum_dim(gy, dim, true) : NULL;
  lg_tensor *d = s ? lg_sub(g, s) : NULL;
  gin[0] = d ? lg_mul(y, d) : NULL;
  lg_release(d);
  lg_release(s);
  lg_release(gy);
  lg_release(y);
  return gin[0] ? 0 : -1;
}

/* log_softmax: dx = g - exp(y) * sum(g, dim) */
static int bw_log_softmax(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  int dim = (int)n->ints[0];
  lg_tensor *y = lg_node_output(n);
  lg_tensor *p = y ? lg_exp(y) : NULL;
  lg_tensor *s = p ? lg_sum_dim(g, dim, true) : NULL;
  lg_tensor *ps = s ? lg_mul(p, s) : NULL;
  gin[0] = ps ? lg_sub(g, ps) : NULL;
  lg_release(ps);
  lg_release(s);
  lg_release(p);
  lg_release(y);
  return gin[0] ? 0 : -1;
}

static lg_tensor *softmax_op(const char *op, lg_tensor *t, int dim, bool log_form,
                             lg_backward_fn bw) {
  int64_t outer, n, inner;
  if (!lg_check_dim(op, t, dim)) return NULL;
  lg_tensor *x = lg_dense(t);
  if (!x) return NULL;
  lg_tensor *out = lg_empty(t->ndim, t->shape);
  lg_split_at(t, dim, &outer, &n, &inner);
  if (out && out->numel > 0) {
    if (inner == 1) softmax_rows(lg_data(x), lg_data(out), outer, n, log_form);
    else softmax_cols(lg_data(x), lg_data(out), outer, n, inner, log_form);
  }
  lg_release(x);
  lg_node *node = lg_track(&out, op, bw, 1, &t);
  if (!node) return out;
  node->ints[0] = dim;
  if (lg_save_output(node, out)) {
    lg_release(out);
    return NULL;
  }
  return out;
}

lg_tensor *lg_softmax(lg_tensor *t, int dim) {
  return softmax_op("softmax", t, dim, false, bw_softmax);
}

lg_tensor *lg_log_softmax(lg_tensor *t, int dim) {
  return softmax_op("log_softmax", t, dim, true, bw_log_softmax);
}

/* }====================================================== */
