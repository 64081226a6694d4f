/*
** Statistics and scans along a dim: var (hence std), cumsum, sort, topk.
**
** var is composed of mean, sub, mul and sum, so it is differentiable to any
** order with no backward of its own.  cumsum is a kernel whose backward is
** the same kernel run from the other end.  sort and topk only compute
** positions here; their values are a gather at those positions, whose
** backward (a scatter) sends each gradient to the element it came from.
*/
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Floats hold every integer up to this; indices beyond it are not exact. */
#define FLOAT_EXACT ((int64_t)1 << 24)




/* {====================================================== var */

lg_tensor *lg_var_dim(lg_tensor *t, int dim, int64_t correction, bool keepdim) {
  if (!lg_check_dim("var", t, dim)) return NULL;
  if (correction < 0)
    return lg_seterr("var: correction must be >= 0, got %lld", (long long)correction);
  /* torch divides by max(0, n - correction): 0 gives inf, or NaN for 0/0 */
  int64_t div = t->shape[dim] - correction;
  float scale = div > 0 ? (float)(1.0 / (double)div) : INFINITY;
  lg_tensor *m = lg_mean_dim(t, dim, true), *d = m ? lg_sub(t, m) : NULL;
  lg_tensor *sq = d ? lg_mul(d, d) : NULL, *s = sq ? lg_sum_dim(sq, dim, keepdim) : NULL;
  lg_tensor *out = s ? lg_mul_scalar(s, scale) : NULL;
  lg_release(m), lg_release(d), lg_release(sq), lg_release(s);
  return out;
}

lg_tensor *lg_var(lg_tensor *t, int64_t correction) {
  int64_t n = t->numel;
  lg_tensor *f = lg_reshape(t, 1, &n);
  lg_tensor *out = f ? lg_var_dim(f, 0, correction, false) : NULL;
  lg_release(f);
  return out;
}

/* }====================================================== */

/* {====================================================== cumsum */

static lg_tensor *cumsum_op(lg_tensor *t, int dim, bool reverse);

static int bw_cumsum(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  gin[0] = cumsum_op(g, (int)n->ints[0], !n->ints[1]);
  return gin[0] ? 0 : -1;
}

/* Running sums along dim, from the end when reverse (the adjoint). */
static lg_tensor *cumsum_op(lg_tensor *t, int dim, bool reverse) {
  int64_t outer, n, inner;
  if (!lg_check_dim("cumsum", t, dim)) return NULL;
  lg_tensor *x = lg_dense(t), *out = x ? lg_empty(t->ndim, t->shape) : NULL;
  if (!out) {
    lg_release(x);
    return NULL;
  }
  lg_split_at(t, dim, &outer, &n, &inner);
  const float *xs = lg_data(x);
  float *ys = lg_data(out);
  int64_t cols = outer * inner;
  LG_PARALLEL_FOR(c, cols, t->numel >= LG_PAR_MIN && cols > 1, {
    int64_t base = (c / inner) * n * inner + c % inner;
    double acc = 0;
    for (int64_t k = 0; k < n; k++) {
      int64_t at = base + (reverse ? n - 1 - k : k) * inner;
      acc += xs[at];
      ys[at] = (float)acc;
    }
  });
  lg_release(x);
  lg_node *node = lg_track(&out, "cumsum", bw_cumsum, 1, &t);
  if (node) {
    node->ints[0] = dim;
    node->ints[1] = reverse;
  }
  return out;
}

lg_tensor *lg_cumsum(lg_tensor *t, int dim) { return cumsum_op(t, dim, false); }

/* }====================================================== */

/* {====================================================== sort, topk */

typedef struct {
  float v;
  int64_t i;
} keyed;

/* NaN is the largest value; equal values keep their order (stable). */
static int cmp_up(const void *pa, const void *pb) {
  const keyed *a = pa, *b = pb;
  bool na = isnan(a->v), nb = isnan(b->v);
  if (na != nb) return na ? 1 : -1;
  if (!na && a->v != b->v) return a->v < b->v ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}

static int cmp_down(const void *pa, const void *pb) {
  const keyed *a = pa, *b = pb;
  bool na = isnan(a->v), nb = isnan(b->v);
  if (na != nb) return na ? -1 : 1;
  if (!na && a->v != b->v) return a->v > b->v ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}

/* 0-based positions (floats, shape of t) that sort t along dim; no graph. */
static lg_tensor *argsort(const char *op, lg_tensor *t, int dim, bool descending) {
  char buf[128];
  int64_t outer, n, inner;
  if (!lg_check_dim(op, t, dim)) return NULL;
  if (t->shape[dim] > FLOAT_EXACT)
    return lg_seterr("%s: dim %d of shape %s is longer than 2^24, beyond which float indices "
                     "are not exact", op, dim, lg_shape_str(t, buf, sizeof buf));
  lg_tensor *x = lg_dense(t), *idx = x ? lg_empty(t->ndim, t->shape) : NULL;
  keyed *row = idx ? malloc(sizeof(keyed) * (size_t)(t->shape[dim] ? t->shape[dim] : 1)) : NULL;
  if (idx && !row) lg_seterr("%s: out of memory for a row of %lld", op, (long long)t->shape[dim]);
  if (!row) {
    lg_release(x), lg_release(idx);
    return NULL;
  }
  lg_split_at(t, dim, &outer, &n, &inner);
  const float *xs = lg_data(x);
  float *is = lg_data(idx);
  for (int64_t c = 0; c < outer * inner; c++) {
    int64_t base = (c / inner) * n * inner + c % inner;
    for (int64_t k = 0; k < n; k++) row[k] = (keyed){xs[base + k * inner], k};
    qsort(row, (size_t)n, sizeof *row, descending ? cmp_down : cmp_up);
    for (int64_t k = 0; k < n; k++) is[base + k * inner] = (float)row[k].i;
  }
  free(row);
  lg_release(x);
  return idx;
}

/* The values at positions idx along dim (differentiable), and idx handed to
** the caller (or released). */
static lg_tensor *take(lg_tensor *t, int dim, lg_tensor *idx, lg_tensor **indices) {
  lg_tensor *v = idx ? lg_gather(t, dim, idx) : NULL;
  if (!v || !indices) lg_release(idx);
  else *indices = idx;
  return v;
}

lg_tensor *lg_sort(lg_tensor *t, int dim, bool descending, lg_tensor **indices) {
  return take(t, dim, argsort("sort", t, dim, descending), indices);
}

lg_tensor *lg_topk(lg_tensor *t, int64_t k, int dim, bool largest, lg_tensor **indices) {
  char buf[128];
  if (!lg_check_dim("topk", t, dim)) return NULL;
  if (k < 0 || k > t->shape[dim])
    return lg_seterr("topk: k %lld is out of range for dim %d of size %lld in shape %s",
                     (long long)k, dim, (long long)t->shape[dim],
                     lg_shape_str(t, buf, sizeof buf));
  lg_tensor *all = argsort("topk", t, dim, largest), *first = NULL, *idx = NULL;
  if (all) first = lg_narrow(all, dim, 0, k);
  if (first) idx = lg_contiguous(first);
  lg_release(all), lg_release(first);
  return take(t, dim, idx, indices);
}

/* }====================================================== */
