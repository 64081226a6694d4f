/*
** Shape ops: views (view, transpose, permute, narrow, expand, ...), the
** copies that make a layout dense (contiguous, clone, cat), and the two
** adjoints that undo a view in backward (sum_to for expand, narrow_scatter
** for narrow).
**
** A view is a new header over the same storage (lg_alias) with its own
** shape, strides and offset.  Every op here records a node so gradients
** flow through views; each backward is itself written with these ops.
*/
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================== helpers */

/* Shared with the other op families (internal.h). */
bool lg_check_dim(const char *op, const lg_tensor *t, int dim) {
  char buf[128];
  if (dim >= 0 && dim < t->ndim) return true;
  if (t->ndim == 0)
    lg_seterr("%s: dim %d out of range for a 0-dim tensor (it has no dims)", op, dim);
  else
    lg_seterr("%s: dim %d out of range for shape %s", op, dim, lg_shape_str(t, buf, sizeof buf));
  return false;
}

lg_tensor *lg_dense(lg_tensor *t) {
  bool prev = lg_set_grad_enabled(false);
  lg_tensor *d = lg_contiguous(t);
  lg_set_grad_enabled(prev);
  return d;
}

void lg_split_at(const lg_tensor *t, int dim, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *inner = 1;
  for (int i = 0; i < dim; i++) *outer *= t->shape[i];
  for (int i = dim + 1; i < t->ndim; i++) *inner *= t->shape[i];
  *n = t->shape[dim];
}



static bool same_dims(const lg_tensor *t, int ndim, const int64_t *shape) {
  return t->ndim == ndim && !memcmp(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
}

/* A header over t's storage with the given geometry (no graph yet). */
static lg_tensor *make_view(const lg_tensor *t, int ndim, const int64_t *shape,
                            const int64_t *stride, int64_t offset) {
  lg_tensor *v = lg_alias(t);
  if (!v) return NULL;
  v->ndim = ndim;
  memset(v->shape, 0, sizeof v->shape);
  memset(v->stride, 0, sizeof v->stride);
  memcpy(v->shape, shape, sizeof(int64_t) * (size_t)ndim);
  memcpy(v->stride, stride, sizeof(int64_t) * (size_t)ndim);
  v->offset = offset;
  lg_update_numel(v);
  return v;
}

/* Offsets in dst and src of the start of block r, counting blocks over the
** first nd dims of (shape, sd, ss) in row-major order. */
static void block_offsets(int64_t r, int nd, const int64_t *shape, const int64_t *sd,
                          const int64_t *ss, int64_t *od, int64_t *os) {
  *od = *os = 0;
  for (int k = nd - 1; k >= 0; k--) {
    int64_t i = r % shape[k];
    r /= shape[k];
    *od += i * sd[k];
    *os += i * ss[k];
  }
}

/* d[a*lda + b] = s[a + b*ldb] for a < na, b < nb: a transpose, copied in
** square tiles so that the strided side stays in cache. */
static void copy_transposed(float *d, const float *s, int64_t na, int64_t nb, int64_t lda,
                            int64_t ldb) {
  enum { T = 32 };
  for (int64_t a0 = 0; a0 < na; a0 += T)
    for (int64_t b0 = 0; b0 < nb; b0 += T) {
      int64_t a1 = a0 + T < na ? a0 + T : na, b1 = b0 + T < nb ? b0 + T : nb;
      for (int64_t a = a0; a < a1; a++)
        for (int64_t b = b0; b < b1; b++) d[a * lda + b] = s[a + b * ldb];
    }
}

/* dst = src element by element: same shape, any strides, no overlap.
** Dims that both tensors step through as one are merged first, so the
** common cases become one memcpy, a loop over long rows, or (when src is
** the transpose of dst's last two dims) a tiled transpose. */
static void copy_strided(lg_tensor *dst, const lg_tensor *src) {
  int64_t shape[LG_MAXDIM], sd[LG_MAXDIM], ss[LG_MAXDIM];
  int nd = 0;
  if (dst->numel == 0) return;
  for (int i = 0; i < dst->ndim; i++) {
    if (dst->shape[i] == 1) continue;
    if (nd > 0 && sd[nd - 1] == dst->stride[i] * dst->shape[i] &&
        ss[nd - 1] == src->stride[i] * src->shape[i]) {
      shape[nd - 1] *= dst->shape[i];
      sd[nd - 1] = dst->stride[i];
      ss[nd - 1] = src->stride[i];
      continue;
    }
    shape[nd] = dst->shape[i];
    sd[nd] = dst->stride[i];
    ss[nd] = src->stride[i];
    nd++;
  }
  if (nd == 0) {                 /* a single element */
    shape[0] = 1;
    sd[0] = ss[0] = 1;
    nd = 1;
  }
  float *d = lg_data(dst);
  const float *s = lg_data(src);
  int64_t inner = shape[nd - 1], sdi = sd[nd - 1], ssi = ss[nd - 1];
  if (nd >= 2 && sdi == 1 && ssi != 1 && ss[nd - 2] == 1 && ssi != 0) {
    int64_t na = shape[nd - 2], blocks = dst->numel / (na * inner);
    LG_PARALLEL_FOR(r, blocks, dst->numel >= LG_PAR_MIN && blocks > 1, {
      int64_t od, os;
      block_offsets(r, nd - 2, shape, sd, ss, &od, &os);
      copy_transposed(d + od, s + os, na, inner, sd[nd - 2], ssi);
    });
    return;
  }
  int64_t rows = dst->numel / inner;
  LG_PARALLEL_FOR(r, rows, dst->numel >= LG_PAR_MIN && rows > 1, {
    int64_t od, os;
    block_offsets(r, nd - 1, shape, sd, ss, &od, &os);
    float *o = d + od;
    const float *a = s + os;
    if (sdi == 1 && ssi == 1) memcpy(o, a, (size_t)inner * sizeof(float));
    else
      for (int64_t i = 0; i < inner; i++) o[i * sdi] = a[i * ssi];
  });
}

/* A new contiguous tensor holding t's elements (no graph); op names the
** caller in the error when t is a view too large to materialise. */
static lg_tensor *dense_copy(const char *op, const lg_tensor *t) {
  if (!lg_check_shape(op, t->ndim, t->shape)) return NULL;
  lg_tensor *out = lg_empty(t->ndim, t->shape);
  if (out) copy_strided(out, t);
  return out;
}

/* }====================================================== */

/* {====================================================== view, reshape */

/* Strides that read t's elements in row-major order as `shape` without
** moving data, or false when the layout forbids it.  This is torch's
** computeStride: t's dims are split into chunks that are each one
** contiguous run (stride[d-1] == size[d] * stride[d]); every run must be
** covered exactly by a run of consecutive new dims. */
static bool view_strides(const lg_tensor *t, int ndim, const int64_t *shape,
                         int64_t *stride) {
  if (t->numel == 0 || t->ndim == 0) {        /* any strides will do */
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
      stride[i] = s;
      s *= shape[i] > 1 ? shape[i] : 1;
    }
    return true;
  }
  int vd = ndim - 1;
  int64_t base = t->stride[t->ndim - 1], tn = 1, vn = 1;
  for (int td = t->ndim - 1; td >= 0; td--) {
    tn *= t->shape[td];
    bool chunk_ends = td == 0 || (t->shape[td - 1] != 1 && t->stride[td - 1] != tn * base);
    if (!chunk_ends) continue;
    while (vd >= 0 && (vn < tn || shape[vd] == 1)) {
      stride[vd] = vn * base;
      vn *= shape[vd];
      vd--;
    }
    if (vn != tn) return false;
    if (td > 0) {
      base = t->stride[td - 1];
      tn = vn = 1;
    }
  }
  return vd == -1;
}

/* Resolves one -1 in `shape` against t's numel into out; checks sizes.
** The product of the given sizes is checked before it is taken (a view of
** [2^40, 2^40] must not wrap around to a plausible count). */
static bool infer_shape(const char *op, const lg_tensor *t, int ndim, const int64_t *shape,
                        int64_t *out) {
  char b1[128], b2[160];
  if (ndim < 0 || ndim > LG_MAXDIM) {
    lg_seterr("%s: %d dimensions requested, at most %d are supported", op, ndim, LG_MAXDIM);
    return false;
  }
  int infer = -1;
  for (int i = 0; i < ndim; i++) {
    out[i] = shape[i];
    if (shape[i] == -1 && infer < 0) {
      infer = i;
      out[i] = 1;                     /* for the size check below */
      continue;
    }
    if (shape[i] < 0) {
      lg_seterr("%s: invalid size %lld in shape %s (only one -1 is allowed)", op,
                (long long)shape[i], lg_dims_str(shape, ndim, b2, sizeof b2));
      return false;
    }
  }
  int64_t known = 1;
  if (!lg_shape_span(ndim, out, INT64_MAX, &known)) {
    lg_seterr("%s: shape %s is too large (its sizes multiply past 2^63)", op,
              lg_dims_str(shape, ndim, b2, sizeof b2));
    return false;
  }
  for (int i = 0; i < ndim; i++)
    if (out[i] == 0) known = 0;
  if (infer >= 0) {
    if (known == 0 || t->numel % known != 0) {
      lg_seterr("%s: cannot view shape %s (%lld elements) as %s", op,
                lg_shape_str(t, b1, sizeof b1), (long long)t->numel,
                lg_dims_str(shape, ndim, b2, sizeof b2));
      return false;
    }
    out[infer] = t->numel / known;
    known = t->numel;
  }
  if (known != t->numel) {
    lg_seterr("%s: shape %s (%lld elements) cannot become %s (%lld elements)", op,
              lg_shape_str(t, b1, sizeof b1), (long long)t->numel,
              lg_dims_str(out, ndim, b2, sizeof b2), (long long)known);
    return false;
  }
  return true;
}

/* view, squeeze, unsqueeze: the gradient is g read back at the input shape. */
static int bw_reshape(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0];
  gin[0] = lg_reshape(g, in->ndim, in->shape);
  return gin[0] ? 0 : -1;
}

/* A view of t at `shape` (already validated) with a reshape-type node. */
static lg_tensor *view_at(const char *name, lg_tensor *t, int ndim, const int64_t *shape,
                          const int64_t *stride) {
  lg_tensor *out = make_view(t, ndim, shape, stride, t->offset);
  lg_track(&out, name, bw_reshape, 1, &t);
  return out;
}

lg_tensor *lg_view(lg_tensor *t, int ndim, const int64_t *shape) {
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  char b1[128], b2[160], b3[128];
  if (!infer_shape("view", t, ndim, shape, sh)) return NULL;
  if (!view_strides(t, ndim, sh, st))
    return lg_seterr("view: shape %s with strides %s cannot be viewed as %s without a copy; "
                     "use reshape", lg_shape_str(t, b1, sizeof b1),
                     lg_dims_str(t->stride, t->ndim, b3, sizeof b3),
                     lg_dims_str(sh, ndim, b2, sizeof b2));
  return view_at("view", t, ndim, sh, st);
}

lg_tensor *lg_reshape(lg_tensor *t, int ndim, const int64_t *shape) {
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  if (!infer_shape("reshape", t, ndim, shape, sh)) return NULL;
  if (view_strides(t, ndim, sh, st)) return view_at("reshape", t, ndim, sh, st);
  lg_tensor *c = lg_contiguous(t);
  if (!c) return NULL;
  lg_tensor *out = lg_view(c, ndim, sh);
  lg_release(c);
  return out;
}

lg_tensor *lg_unsqueeze(lg_tensor *t, int dim) {
  char buf[128];
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  if (dim < 0 || dim > t->ndim)
    return lg_seterr("unsqueeze: dim %d out of range for shape %s (valid: 0..%d)", dim,
                     lg_shape_str(t, buf, sizeof buf), t->ndim);
  if (t->ndim == LG_MAXDIM)
    return lg_seterr("unsqueeze: shape %s already has the maximum of %d dimensions",
                     lg_shape_str(t, buf, sizeof buf), LG_MAXDIM);
  for (int i = 0, j = 0; i <= t->ndim; i++) {
    if (i == dim) {
      sh[i] = 1;
      st[i] = dim < t->ndim ? t->stride[dim] * t->shape[dim] : 1;
    } else {
      sh[i] = t->shape[j];
      st[i] = t->stride[j];
      j++;
    }
  }
  return view_at("unsqueeze", t, t->ndim + 1, sh, st);
}

/* As in torch, squeezing a dim whose size is not 1 leaves the shape alone. */
lg_tensor *lg_squeeze(lg_tensor *t, int dim) {
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  if (!lg_check_dim("squeeze", t, dim)) return NULL;
  int nd = 0;
  for (int i = 0; i < t->ndim; i++) {
    if (i == dim && t->shape[i] == 1) continue;
    sh[nd] = t->shape[i];
    st[nd] = t->stride[i];
    nd++;
  }
  return view_at("squeeze", t, nd, sh, st);
}

/* }====================================================== */

/* {====================================================== transpose, permute */

static int bw_transpose(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  gin[0] = lg_transpose(g, (int)n->ints[0], (int)n->ints[1]);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_transpose(lg_tensor *t, int d0, int d1) {
  if (!lg_check_dim("transpose", t, d0) || !lg_check_dim("transpose", t, d1)) return NULL;
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  memcpy(sh, t->shape, sizeof sh);
  memcpy(st, t->stride, sizeof st);
  sh[d0] = t->shape[d1], st[d0] = t->stride[d1];
  sh[d1] = t->shape[d0], st[d1] = t->stride[d0];
  lg_tensor *out = make_view(t, t->ndim, sh, st, t->offset);
  lg_node *node = lg_track(&out, "transpose", bw_transpose, 1, &t);
  if (node) {
    node->ints[0] = d0;
    node->ints[1] = d1;
  }
  return out;
}

/* The gradient goes back through the inverse permutation. */
static int bw_permute(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  int inv[LG_MAXDIM];
  for (int i = 0; i < g->ndim; i++) inv[n->ints[i]] = i;
  gin[0] = lg_permute(g, inv);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_permute(lg_tensor *t, const int *perm) {
  char b1[128];
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  bool seen[LG_MAXDIM] = {false};
  for (int i = 0; i < t->ndim; i++) {
    int p = perm[i];
    if (p < 0 || p >= t->ndim || seen[p])
      return lg_seterr("permute: entry %d (= %d) makes the order not a permutation of the "
                       "%d dims of shape %s", i, p, t->ndim, lg_shape_str(t, b1, sizeof b1));
    seen[p] = true;
    sh[i] = t->shape[p];
    st[i] = t->stride[p];
  }
  lg_tensor *out = make_view(t, t->ndim, sh, st, t->offset);
  lg_node *node = lg_track(&out, "permute", bw_permute, 1, &t);
  if (node)
    for (int i = 0; i < t->ndim; i++) node->ints[i] = perm[i];
  return out;
}

/* }====================================================== */

/* {====================================================== narrow, narrow_scatter */

static int bw_narrow(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0];
  gin[0] = lg_narrow_scatter(g, in->ndim, in->shape, (int)n->ints[0], n->ints[1]);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_narrow(lg_tensor *t, int dim, int64_t start, int64_t length) {
  char buf[128];
  if (!lg_check_dim("narrow", t, dim)) return NULL;
  if (start < 0 || length < 0 || start > t->shape[dim] - length)
    return lg_seterr("narrow: start %lld, length %lld do not fit dim %d of size %lld in "
                     "shape %s", (long long)start, (long long)length, dim,
                     (long long)t->shape[dim], lg_shape_str(t, buf, sizeof buf));
  int64_t sh[LG_MAXDIM];
  memcpy(sh, t->shape, sizeof sh);
  sh[dim] = length;
  lg_tensor *out = make_view(t, t->ndim, sh, t->stride, t->offset + start * t->stride[dim]);
  lg_node *node = lg_track(&out, "narrow", bw_narrow, 1, &t);
  if (node) {
    node->ints[0] = dim;
    node->ints[1] = start;
  }
  return out;
}

static int bw_narrow_scatter(lg_node *n, lg_tensor *gg, lg_tensor **gin) {
  gin[0] = lg_narrow(gg, (int)n->ints[0], n->ints[1], n->inputs[0]->shape[n->ints[0]]);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_narrow_scatter(lg_tensor *g, int ndim, const int64_t *shape, int dim,
                             int64_t start) {
  char b1[128], b2[160];
  if (!lg_check_shape("narrow_scatter", ndim, shape)) return NULL;
  bool ok = g->ndim == ndim && dim >= 0 && dim < ndim;
  for (int i = 0; ok && i < ndim; i++)
    if (i != dim && g->shape[i] != shape[i]) ok = false;
  if (ok && (start < 0 || start > shape[dim] - g->shape[dim])) ok = false;
  if (!ok)
    return lg_seterr("narrow_scatter: cannot place shape %s at start %lld of dim %d in "
                     "shape %s", lg_shape_str(g, b1, sizeof b1), (long long)start, dim,
                     lg_dims_str(shape, ndim, b2, sizeof b2));
  lg_tensor *out = lg_zeros(ndim, shape);
  if (!out) return NULL;
  lg_tensor *win = make_view(out, ndim, g->shape, out->stride,
                             out->offset + start * out->stride[dim]);
  if (!win) {
    lg_release(out);
    return NULL;
  }
  copy_strided(win, g);
  lg_release(win);
  lg_node *node = lg_track(&out, "narrow_scatter", bw_narrow_scatter, 1, &g);
  if (node) {
    node->ints[0] = dim;
    node->ints[1] = start;
  }
  return out;
}

/* }====================================================== */

/* {====================================================== expand, sum_to */

static int bw_expand(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0];
  gin[0] = lg_sum_to(g, in->ndim, in->shape);
  return gin[0] ? 0 : -1;
}

/* Size-1 dims stretch to any size with stride 0; new dims may be added in
** front; -1 keeps a dim's size. */
lg_tensor *lg_expand(lg_tensor *t, int ndim, const int64_t *shape) {
  char b1[128], b2[160];
  int64_t sh[LG_MAXDIM], st[LG_MAXDIM];
  if (ndim < t->ndim || ndim > LG_MAXDIM)
    return lg_seterr("expand: cannot expand shape %s to %d dimensions",
                     lg_shape_str(t, b1, sizeof b1), ndim);
  int lead = ndim - t->ndim;
  for (int i = 0; i < ndim; i++) {
    int j = i - lead;
    int64_t want = shape[i];
    if (j < 0) {
      if (want < 0) goto bad;                   /* a new dim needs a size */
      sh[i] = want;
      st[i] = 0;
    } else if (want == -1 || want == t->shape[j]) {
      sh[i] = t->shape[j];
      st[i] = t->stride[j];
    } else if (t->shape[j] == 1 && want >= 0) {
      sh[i] = want;
      st[i] = 0;
    } else {
      goto bad;
    }
  }
  if (!lg_check_view_shape("expand", ndim, sh)) return NULL;
  lg_tensor *out = make_view(t, ndim, sh, st, t->offset);
  lg_track(&out, "expand", bw_expand, 1, &t);
  return out;
bad:
  return lg_seterr("expand: cannot expand shape %s to %s (only size-1 dims can grow)",
                   lg_shape_str(t, b1, sizeof b1), lg_dims_str(shape, ndim, b2, sizeof b2));
}

static int bw_sum_to(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *in = n->inputs[0];
  gin[0] = lg_expand(g, in->ndim, in->shape);
  return gin[0] ? 0 : -1;
}

/* Sums the dims that broadcasting would have stretched: leading dims that
** `shape` lacks, and dims where `shape` has 1.  The sums run innermost dim
** first with grad mode off; one node records the whole reduction. */
static lg_tensor *sum_down(lg_tensor *t, int ndim, const int64_t *shape) {
  int lead = t->ndim - ndim;
  lg_tensor *r = t;
  lg_retain(r);
  bool prev = lg_set_grad_enabled(false);
  for (int d = t->ndim - 1; d >= 0 && r; d--) {
    bool gone = d < lead, squash = !gone && shape[d - lead] == 1 && t->shape[d] != 1;
    if (!gone && !squash) continue;
    lg_tensor *next = lg_sum_dim(r, d, squash);
    lg_release(r);
    r = next;
  }
  lg_set_grad_enabled(prev);
  return r;
}

lg_tensor *lg_sum_to(lg_tensor *t, int ndim, const int64_t *shape) {
  char b1[128], b2[160];
  if (!lg_check_view_shape("sum_to", ndim, shape)) return NULL;
  if (same_dims(t, ndim, shape)) {
    lg_retain(t);
    return t;
  }
  bool ok = ndim <= t->ndim;
  for (int i = 0; ok && i < ndim; i++) {
    int64_t have = t->shape[i + t->ndim - ndim];
    if (shape[i] != have && shape[i] != 1) ok = false;
  }
  if (!ok)
    return lg_seterr("sum_to: shape %s cannot be summed down to %s (not a broadcast of it)",
                     lg_shape_str(t, b1, sizeof b1), lg_dims_str(shape, ndim, b2, sizeof b2));
  lg_tensor *out = sum_down(t, ndim, shape);
  lg_track(&out, "sum_to", bw_sum_to, 1, &t);
  return out;
}

/* }====================================================== */

/* {====================================================== copies */

/* contiguous, clone: a copy passes the gradient through unchanged. */
static int bw_identity(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  (void)n;
  lg_retain(g);
  gin[0] = g;
  return 0;
}

lg_tensor *lg_contiguous(lg_tensor *t) {
  if (lg_is_contiguous(t)) {
    lg_retain(t);
    return t;
  }
  lg_tensor *out = dense_copy("contiguous", t);
  lg_track(&out, "contiguous", bw_identity, 1, &t);
  return out;
}

lg_tensor *lg_clone(lg_tensor *t) {
  lg_tensor *out = dense_copy("clone", t);
  lg_track(&out, "clone", bw_identity, 1, &t);
  return out;
}

/* Same storage, no graph: requires_grad is false on the new header. */
lg_tensor *lg_detach(lg_tensor *t) { return lg_alias(t); }

/* }====================================================== */

/* {====================================================== cat */

/* Input i gets its slice of g along dim. */
static int bw_cat(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  int dim = (int)n->ints[0];
  int64_t start = 0;
  for (int i = 0; i < n->n_inputs; i++) {
    lg_tensor *in = n->inputs[i];
    if (lg_wants_grad(n, i) && !(gin[i] = lg_narrow(g, dim, start, in->shape[dim]))) {
      for (int j = 0; j < i; j++) {
        lg_release(gin[j]);
        gin[j] = NULL;
      }
      return -1;
    }
    start += in->shape[dim];
  }
  return 0;
}

/* Checks that all n tensors agree except along dim; returns the size the
** output has along dim, or -1 with an error set. */
static int64_t cat_size(lg_tensor **ts, int n, int dim) {
  char b1[128], b2[128];
  if (n < 1) {
    lg_seterr("cat: needs at least one tensor, got %d", n);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    if (ts[i]) continue;
    lg_seterr("cat: tensor %d of %d is missing", i + 1, n);
    return -1;
  }
  if (!lg_check_dim("cat", ts[0], dim)) return -1;
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    bool ok = ts[i]->ndim == ts[0]->ndim;
    for (int d = 0; ok && d < ts[0]->ndim; d++)
      if (d != dim && ts[i]->shape[d] != ts[0]->shape[d]) ok = false;
    if (!ok) {
      lg_seterr("cat: tensor %d has shape %s, which does not match the first tensor's %s "
                "except along the joined dim", i + 1, lg_shape_str(ts[i], b1, sizeof b1),
                lg_shape_str(ts[0], b2, sizeof b2));
      return -1;
    }
    if (!lg_add_ok(total, ts[i]->shape[dim], &total)) {
      lg_seterr("cat: the joined size is too large (it passes 2^63 at tensor %d of %d)",
                i + 1, n);
      return -1;
    }
  }
  return total;
}

/* One node holds at most LG_MAXIN inputs: when more need a gradient, cat
** them in groups and cat the groups. */
static lg_tensor *cat_grouped(lg_tensor **ts, int n, int dim) {
  lg_tensor *groups[LG_MAXIN * LG_MAXIN], **parts = groups;
  int ng = (n + LG_MAXIN - 1) / LG_MAXIN;
  if (ng > (int)(sizeof groups / sizeof *groups) &&
      !(parts = malloc(sizeof *parts * (size_t)ng)))
    return lg_seterr("cat: out of memory");
  lg_tensor *out = NULL;
  int made = 0;
  for (; made < ng; made++) {
    int lo = made * LG_MAXIN, cnt = n - lo < LG_MAXIN ? n - lo : LG_MAXIN;
    if (!(parts[made] = lg_cat(ts + lo, cnt, dim))) break;
  }
  if (made == ng) out = lg_cat(parts, ng, dim);
  for (int i = 0; i < made; i++) lg_release(parts[i]);
  if (parts != groups) free(parts);
  return out;
}

lg_tensor *lg_cat(lg_tensor **ts, int n, int dim) {
  int64_t total = cat_size(ts, n, dim);
  if (total < 0) return NULL;
  bool grad = lg_any_needs_grad(n, ts);
  if (grad && n > LG_MAXIN) return cat_grouped(ts, n, dim);
  int64_t sh[LG_MAXDIM];
  memcpy(sh, ts[0]->shape, sizeof sh);
  sh[dim] = total;
  if (!lg_check_shape("cat", ts[0]->ndim, sh)) return NULL;
  lg_tensor *out = lg_empty(ts[0]->ndim, sh);
  if (!out) return NULL;
  int64_t start = 0;
  for (int i = 0; i < n; i++) {
    sh[dim] = ts[i]->shape[dim];
    lg_tensor *win = make_view(out, out->ndim, sh, out->stride,
                               out->offset + start * out->stride[dim]);
    if (!win) {
      lg_release(out);
      return NULL;
    }
    copy_strided(win, ts[i]);
    lg_release(win);
    start += ts[i]->shape[dim];
  }
  lg_node *node = grad ? lg_track(&out, "cat", bw_cat, n, ts) : NULL;
  if (node) node->ints[0] = dim;
  return out;
}

/* torch.flip: per dim an index_select of the positions in reverse, so the
** gradient is index_select's. */
lg_tensor *lg_flip(lg_tensor *t, int ndims, const int *dims) {
  for (int k = 0; k < ndims; k++) {
    if (!lg_check_dim("flip", t, dims[k])) return NULL;
    for (int j = 0; j < k; j++)
      if (dims[j] == dims[k]) return lg_seterr("flip: dim %d is given twice", dims[k] + 1);
  }
  if (ndims == 0) return lg_clone(t);
  lg_tensor *x = t;
  lg_retain(x);
  for (int k = 0; k < ndims && x; k++) {
    int64_t n = x->shape[dims[k]];
    lg_tensor *index = lg_empty(1, &n), *y = NULL;
    if (index) {
      float *d = lg_data(index);
      for (int64_t i = 0; i < n; i++) d[i] = (float)(n - 1 - i);
      y = lg_index_select(x, dims[k], index);
    }
    lg_release(index);
    lg_release(x);
    x = y;
  }
  return x;
}

/* torch.tile: each repeated dim is a cat of copies, so the gradient is the
** sum of the copies' gradients with no code of its own. */
lg_tensor *lg_tile(lg_tensor *t, int nreps, const int64_t *reps) {
  int nd = t->ndim > nreps ? t->ndim : nreps;
  if (nd > LG_MAXDIM) return lg_seterr("tile: %d repeats need %d dims (at most %d)", nreps, nd, LG_MAXDIM);
  int64_t sh[LG_MAXDIM], r[LG_MAXDIM];
  for (int d = 0; d < nd; d++) {
    int k = d - (nd - nreps), td = d - (nd - t->ndim);
    r[d] = k >= 0 ? reps[k] : 1;
    if (r[d] < 0) return lg_seterr("tile: repeat %lld for dim %d is negative", (long long)r[d], d + 1);
    if (!lg_mul_ok(td >= 0 ? t->shape[td] : 1, r[d], &sh[d]))
      return lg_seterr("tile: repeating dim %d %lld times overflows", d + 1, (long long)r[d]);
  }
  if (!lg_check_shape("tile", nd, sh)) return NULL;
  lg_tensor *x = t;
  lg_retain(x);
  while (x->ndim < nd) {   /* leading dims of size 1 */
    lg_tensor *y = lg_unsqueeze(x, 0);
    lg_release(x);
    if (!(x = y)) return NULL;
  }
  bool copied = false;
  for (int d = 0; d < nd && x; d++) {
    if (r[d] == 1) continue;
    lg_tensor *y;
    if (r[d] == 0) {
      y = lg_narrow(x, d, 0, 0);
    } else {
      if (r[d] > INT_MAX) {   /* before the list of r[d] pointers is allocated */
        lg_release(x);
        return lg_seterr("tile: %lld repeats is too many", (long long)r[d]);
      }
      lg_tensor **copies = malloc((size_t)r[d] * sizeof *copies);
      if (!copies) {
        lg_release(x);
        return lg_seterr("tile: out of memory");
      }
      for (int64_t i = 0; i < r[d]; i++) copies[i] = x;
      y = lg_cat(copies, (int)r[d], d);
      free(copies);
      copied = true;
    }
    lg_release(x);
    x = y;
  }
  if (x && !copied) {   /* always a copy, as PyTorch's repeat */
    lg_tensor *y = lg_clone(x);
    lg_release(x);
    x = y;
  }
  return x;
}

/* }====================================================== */

/* {====================================================== select, index views */

lg_tensor *lg_select(lg_tensor *t, int dim, int64_t index) {
  char buf[128];
  if (!lg_check_dim("select", t, dim)) return NULL;
  if (index < 0 || index >= t->shape[dim])
    return lg_seterr("select: index %lld out of range for dim %d of size %lld in shape %s",
                     (long long)index, dim, (long long)t->shape[dim],
                     lg_shape_str(t, buf, sizeof buf));
  lg_tensor *n = lg_narrow(t, dim, index, 1);
  if (!n) return NULL;
  lg_tensor *out = lg_squeeze(n, dim);
  lg_release(n);
  return out;
}

/* Narrows first (dims keep their numbers), then squeezes the dropped dims
** from the last one down.  Each step is an ordinary view op, so gradients
** of any order flow through the chain. */
lg_tensor *lg_index_view(lg_tensor *t, int n, const lg_range *r) {
  char buf[128];
  if (n < 0 || n > t->ndim)
    return lg_seterr("index: %d entries for shape %s", n, lg_shape_str(t, buf, sizeof buf));
  for (int d = 0; d < n; d++)
    if (r[d].drop && r[d].length != 1)
      return lg_seterr("index: a dropped dim %d must have length 1, got %lld", d,
                       (long long)r[d].length);
  lg_tensor *cur = t;
  lg_retain(cur);
  bool changed = false;
  for (int d = 0; d < n && cur; d++) {
    if (r[d].start == 0 && r[d].length == t->shape[d]) continue;
    lg_tensor *next = lg_narrow(cur, d, r[d].start, r[d].length);
    lg_release(cur);
    cur = next;
    changed = true;
  }
  for (int d = n - 1; d >= 0 && cur; d--) {
    if (!r[d].drop) continue;
    lg_tensor *next = lg_squeeze(cur, d);
    lg_release(cur);
    cur = next;
    changed = true;
  }
  if (cur && !changed) {   /* a view of the whole: still a header of its own */
    lg_tensor *next = t->ndim > 0 ? lg_narrow(cur, 0, 0, t->shape[0]) : lg_view(cur, 0, NULL);
    lg_release(cur);
    cur = next;
  }
  return cur;
}

/* Slice i of src into (or onto) slice index[i] of dst, through headers that
** record nothing.  src is read from a copy when it shares dst's storage. */
int lg_index_copy_(lg_tensor *dst, int dim, lg_tensor *index, lg_tensor *src, bool add) {
  const char *op = add ? "index_add_" : "index_copy_";
  char b1[128], b2[128], b3[128];
  if (!lg_check_dim(op, dst, dim) || !lg_check_writable(op, dst)) return -1;
  bool ok = index->ndim == 1 && src->ndim == dst->ndim && src->shape[dim] == index->shape[0];
  for (int d = 0; ok && d < dst->ndim; d++)
    if (d != dim && src->shape[d] != dst->shape[d]) ok = false;
  if (!ok) {
    lg_seterr("%s: index of shape %s and source of shape %s do not fit shape %s along dim %d",
              op, lg_shape_str(index, b1, sizeof b1), lg_shape_str(src, b2, sizeof b2),
              lg_shape_str(dst, b3, sizeof b3), dim);
    return -1;
  }
  int64_t k = index->shape[0], size = dst->shape[dim];
  const float *iv = index->storage->data + index->offset;
  /* the positions are read before any write: index may share dst's storage */
  int64_t *pos = malloc((size_t)(k > 0 ? k : 1) * sizeof *pos);
  if (!pos) {
    lg_seterr("%s: out of memory", op);
    return -1;
  }
  for (int64_t i = 0; i < k; i++) {
    float v = iv[i * index->stride[0]];
    if (!(v >= 0.0f && v < (float)size) || (float)(int64_t)v != v) {
      lg_seterr("%s: index value %.10g at position %lld is not a valid position along dim %d "
                "of shape %s (0..%lld)", op, v, (long long)i, dim,
                lg_shape_str(dst, b1, sizeof b1), (long long)size - 1);
      free(pos);
      return -1;
    }
    pos[i] = (int64_t)v;
  }
  lg_tensor *s = src->storage == dst->storage ? dense_copy(op, src) : (lg_retain(src), src);
  if (!s) {
    free(pos);
    return -1;
  }
  int64_t sh[LG_MAXDIM];
  memcpy(sh, dst->shape, sizeof sh);
  sh[dim] = 1;
  int rc = 0;
  lg_bump_version(dst);
  for (int64_t i = 0; i < k && rc == 0; i++) {
    lg_tensor *dv = make_view(dst, dst->ndim, sh, dst->stride,
                              dst->offset + pos[i] * dst->stride[dim]);
    lg_tensor *sv = make_view(s, s->ndim, sh, s->stride, s->offset + i * s->stride[dim]);
    if (!dv || !sv) rc = -1;
    else rc = add ? lg_add_(dv, sv, 1.0f) : lg_copy_(dv, sv);
    lg_release(dv);
    lg_release(sv);
  }
  lg_release(s);
  free(pos);
  return rc;
}

/* }====================================================== */
