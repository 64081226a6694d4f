/*
** Joining, cutting and padding: stack (a cat along a new dim), split (views
** by narrow), pad (constant, reflect or replicate borders) and its adjoint.
**
** stack and split are compositions of differentiable views and cat, so
** their gradients come for free.  pad is a gather through one index map per
** dim; its adjoint (pad_adjoint) adds every output element back to the
** position it was read from.  Each is the other's backward, both are
** linear, so gradients of any order stay inside these two ops.
*/
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* {====================================================== stack, split */

lg_tensor *lg_stack(lg_tensor **ts, int n, int dim) {
  char b1[128], b2[128];
  if (n < 1) return lg_seterr("stack: needs at least one tensor");
  int nd = ts[0]->ndim;
  if (nd + 1 > LG_MAXDIM)
    return lg_seterr("stack: a %d-dim result has more than %d dims", nd + 1, LG_MAXDIM);
  if (dim < 0 || dim > nd)
    return lg_seterr("stack: dim %d out of range for %d-dim tensors (valid: 0..%d)", dim, nd,
                     nd);
  for (int i = 1; i < n; i++)
    if (ts[i]->ndim != nd || memcmp(ts[i]->shape, ts[0]->shape, sizeof(int64_t) * (size_t)nd))
      return lg_seterr("stack: tensor %d has shape %s, tensor 0 has %s (all must match)", i,
                       lg_shape_str(ts[i], b1, sizeof b1), lg_shape_str(ts[0], b2, sizeof b2));
  lg_tensor **u = calloc((size_t)n, sizeof *u);
  if (!u) return lg_seterr("stack: out of memory for %d tensors", n);
  lg_tensor *out = NULL;
  int i = 0;
  for (; i < n; i++)
    if (!(u[i] = lg_unsqueeze(ts[i], dim))) break;
  if (i == n) out = lg_cat(u, n, dim);
  for (int k = 0; k < i; k++) lg_release(u[k]);
  free(u);
  return out;
}

int lg_split(lg_tensor *t, int dim, int n, const int64_t *sizes, lg_tensor **out) {
  char buf[128];
  if (dim < 0 || dim >= t->ndim) {
    lg_seterr("split: dim %d out of range for shape %s", dim, lg_shape_str(t, buf, sizeof buf));
    return -1;
  }
  int64_t total = 0;
  for (int i = 0; i < n; i++)
    if (sizes[i] < 0 || !lg_add_ok(total, sizes[i], &total)) total = -1;
  if (n < 1 || total != t->shape[dim]) {
    lg_seterr("split: %d sizes summing to %lld do not cover dim %d of size %lld in shape %s", n,
              (long long)total, dim, (long long)t->shape[dim], lg_shape_str(t, buf, sizeof buf));
    return -1;
  }
  int64_t start = 0;
  for (int i = 0; i < n; i++) {
    if (!(out[i] = lg_narrow(t, dim, start, sizes[i]))) {
      for (int k = 0; k < i; k++) lg_release(out[k]);
      return -1;
    }
    start += sizes[i];
  }
  return 0;
}

/* }====================================================== */

/* {====================================================== pad
** pads[2k], pads[2k+1] are the (before, after) amounts for dim ndim-1-k:
** PyTorch's F.pad order, the last dim first.  A negative amount crops.
** Messages name the pads and shape, not a dim number, which would be
** 0-based here and 1-based in Lua. */

/* For every dim, the source position each output position reads (-1: the
** fill value), in one malloc'd block; osh gets the padded shape. */
static int64_t **pad_maps(const char *op, const int64_t *ish, int ndim, int npads,
                          const int64_t *pads, lg_pad_mode mode, int64_t *osh) {
  char b1[128];
  int64_t total = 0;
  for (int d = 0; d < ndim; d++) {
    int k = ndim - 1 - d;
    int64_t lo = 2 * k < npads ? pads[2 * k] : 0, hi = 2 * k < npads ? pads[2 * k + 1] : 0;
    int64_t size = ish[d];
    if (!lg_add_ok(size, lo, &osh[d]) || !lg_add_ok(osh[d], hi, &osh[d]) || osh[d] < 0) {
      lg_seterr("%s: padding (%lld, %lld) of a dim of size %lld in shape %s gives a negative "
                "or too large size", op, (long long)lo, (long long)hi, (long long)size,
                lg_dims_str(ish, ndim, b1, sizeof b1));
      return NULL;
    }
    if (mode == LG_PAD_REFLECT && (lo >= size || hi >= size) && (lo > 0 || hi > 0)) {
      lg_seterr("%s: reflect padding (%lld, %lld) must be less than the dim's size %lld in "
                "shape %s", op, (long long)lo, (long long)hi, (long long)size,
                lg_dims_str(ish, ndim, b1, sizeof b1));
      return NULL;
    }
    if (mode == LG_PAD_REPLICATE && size == 0 && (lo > 0 || hi > 0)) {
      lg_seterr("%s: cannot replicate-pad a dim of size 0 in shape %s", op,
                lg_dims_str(ish, ndim, b1, sizeof b1));
      return NULL;
    }
  }
  if (!lg_check_shape(op, ndim, osh)) return NULL;
  for (int d = 0; d < ndim; d++) total += osh[d];   /* each below 2^36 */
  int64_t **maps = malloc(sizeof(int64_t *) * LG_MAXDIM + sizeof(int64_t) * (size_t)total);
  if (!maps) {
    lg_seterr("%s: out of memory", op);
    return NULL;
  }
  int64_t *m = (int64_t *)(maps + LG_MAXDIM);
  for (int d = 0; d < ndim; d++) {
    int k = ndim - 1 - d;
    int64_t lo = 2 * k < npads ? pads[2 * k] : 0, size = ish[d];
    maps[d] = m;
    for (int64_t o = 0; o < osh[d]; o++) {
      int64_t i = o - lo;
      if (i < 0 || i >= size) {
        if (mode == LG_PAD_CONSTANT) i = -1;
        else if (mode == LG_PAD_REPLICATE) i = i < 0 ? 0 : size - 1;
        else i = i < 0 ? -i : 2 * (size - 1) - i;
      }
      m[o] = i;
    }
    m += osh[d];
  }
  return maps;
}

/* Walks the padded shape osh row-major.  Element p of `small` (contiguous,
** shape osh) corresponds to big[offset + sum_d maps[d][i_d] * stride[d]],
** or to nothing when a map says -1.  Forward: small[p] = that or value.
** Adjoint: that += small[p], sequentially (reflect maps collide). */
static void pad_walk(int ndim, const int64_t *osh, int64_t **maps, const int64_t *stride,
                     int64_t offset, float *big, float *small, bool adjoint, float value) {
  int64_t inner = ndim ? osh[ndim - 1] : 1, rows = 1;
  for (int d = 0; d + 1 < ndim; d++) rows *= osh[d];
  if (inner == 0 || rows == 0) return;
  const int64_t *mi = ndim ? maps[ndim - 1] : NULL;
  int64_t si = ndim ? stride[ndim - 1] : 0;
  LG_PARALLEL_FOR(r, rows, !adjoint && rows * inner >= LG_PAR_MIN && rows > 1, {
    int64_t base = offset, q = r;
    bool valid = true;
    for (int d = ndim - 2; d >= 0; d--) {
      int64_t s = maps[d][q % osh[d]];
      q /= osh[d];
      if (s < 0) valid = false;
      else base += s * stride[d];
    }
    float *row = small + r * inner;
    for (int64_t o = 0; o < inner; o++) {
      int64_t s = mi ? mi[o] : 0;
      bool ok = valid && s >= 0;
      if (adjoint) {
        if (ok) big[base + s * si] += row[o];
      } else {
        row[o] = ok ? big[base + s * si] : value;
      }
    }
  });
}

static bool check_pads(const char *op, const lg_tensor *t, int npads, lg_pad_mode mode) {
  char buf[128];
  if (npads < 0 || npads % 2 || npads > 2 * t->ndim) {
    lg_seterr("%s: %d pads for shape %s: give pairs (before, after), at most 2 per dim", op,
              npads, lg_shape_str(t, buf, sizeof buf));
    return false;
  }
  if (mode != LG_PAD_CONSTANT && mode != LG_PAD_REFLECT && mode != LG_PAD_REPLICATE) {
    lg_seterr("%s: unknown mode %d", op, (int)mode);
    return false;
  }
  return true;
}

/* node: ints = pads, floats[0] = npads, floats[1] = mode */
static lg_tensor *track_pad(lg_tensor *out, const char *name, lg_backward_fn bw, lg_tensor *in,
                            int npads, const int64_t *pads, lg_pad_mode mode) {
  lg_node *node = lg_track(&out, name, bw, 1, &in);
  if (node) {
    for (int i = 0; i < npads; i++) node->ints[i] = pads[i];
    node->floats[0] = (float)npads;
    node->floats[1] = (float)mode;
  }
  return out;
}

static int bw_pad(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  gin[0] = lg_pad_adjoint(g, (int)n->floats[0], n->ints, (lg_pad_mode)n->floats[1]);
  return gin[0] ? 0 : -1;
}

static int bw_pad_adjoint(lg_node *n, lg_tensor *gg, lg_tensor **gin) {
  gin[0] = lg_pad(gg, (int)n->floats[0], n->ints, (lg_pad_mode)n->floats[1], 0.0f);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_pad(lg_tensor *t, int npads, const int64_t *pads, lg_pad_mode mode, float value) {
  int64_t osh[LG_MAXDIM];
  if (!check_pads("pad", t, npads, mode)) return NULL;
  int64_t **maps = pad_maps("pad", t->shape, t->ndim, npads, pads, mode, osh);
  if (!maps) return NULL;
  lg_tensor *out = lg_empty(t->ndim, osh);
  if (out) pad_walk(t->ndim, osh, maps, t->stride, t->offset, t->storage->data, lg_data(out),
                    false, value);
  free(maps);
  return out ? track_pad(out, "pad", bw_pad, t, npads, pads, mode) : NULL;
}

lg_tensor *lg_pad_adjoint(lg_tensor *g, int npads, const int64_t *pads, lg_pad_mode mode) {
  char buf[128];
  int64_t ish[LG_MAXDIM], osh[LG_MAXDIM];
  if (!check_pads("pad_adjoint", g, npads, mode)) return NULL;
  for (int d = 0; d < g->ndim; d++) {   /* the unpadded shape: g's minus the pads */
    int k = g->ndim - 1 - d;
    int64_t lo = 2 * k < npads ? pads[2 * k] : 0, hi = 2 * k < npads ? pads[2 * k + 1] : 0;
    if (!lg_add_ok(lo, hi, &ish[d]) || !lg_add_ok(g->shape[d], -ish[d], &ish[d]) || ish[d] < 0)
      return lg_seterr("pad_adjoint: pads do not fit shape %s", lg_shape_str(g, buf, sizeof buf));
  }
  int64_t **maps = pad_maps("pad_adjoint", ish, g->ndim, npads, pads, mode, osh);
  if (!maps) return NULL;
  lg_tensor *out = NULL, *gd = NULL;
  bool prev = lg_set_grad_enabled(false);
  gd = lg_contiguous(g);
  lg_set_grad_enabled(prev);
  if (gd) out = lg_zeros(g->ndim, ish);
  if (out) pad_walk(g->ndim, osh, maps, out->stride, out->offset, out->storage->data,
                    lg_data(gd), true, 0.0f);
  free(maps);
  lg_release(gd);
  return out ? track_pad(out, "pad_adjoint", bw_pad_adjoint, g, npads, pads, mode) : NULL;
}

/* }====================================================== */
