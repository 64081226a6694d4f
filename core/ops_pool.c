/*
** Pooling, nearest-neighbour upsampling and dropout.
**
** Each spatial op comes with its adjoint as an op of its own, and the two
** are each other's backward: avg_pool2d <-> avg_pool2d_backward,
** upsample_nearest <-> upsample_nearest_backward (a sum over blocks), and
** for max pooling, a gather of the saved argmax positions <-> the scatter
** that adds into them.  All are linear (max pooling is linear once the
** argmax is fixed), so the pairs give gradients of any order.
**
** Kernels work on contiguous [N,C,H,W] data plane by plane; planes are
** independent, so they split over threads with no atomics and the result
** does not depend on the thread count.
*/
#include "internal.h"

#include <math.h>
#include <string.h>

/* Sizes of one op: `planes` = N*C planes of h x w in, oh x ow out. */
typedef struct {
  int64_t planes, h, w, oh, ow;
  int k, s, p;
} geom;

/* Node ints: k, s, p, then the input's h and w (the adjoint's output). */
static void save_geom(lg_node *n, const geom *g) {
  int64_t v[5] = {g->k, g->s, g->p, g->h, g->w};
  memcpy(n->ints, v, sizeof v);
}

static geom load_geom(const lg_node *n, const lg_tensor *out) {
  geom g = {out->shape[0] * out->shape[1], n->ints[3], n->ints[4], out->shape[2],
            out->shape[3], (int)n->ints[0], (int)n->ints[1], (int)n->ints[2]};
  return g;
}

static lg_tensor *empty4(const lg_tensor *like, int64_t h, int64_t w) {
  int64_t shape[4] = {like->shape[0], like->shape[1], h, w};
  return lg_empty(4, shape);
}

/* Attaches a one-input node to out when `in` needs grad; on failure
** releases out.  saved (may be NULL) is retained by the node. */
static lg_tensor *record(lg_tensor *out, lg_tensor *in, const char *name, lg_backward_fn bw,
                         const geom *g, lg_tensor *saved) {
  if (!out || !lg_needs_grad(in)) return out;
  lg_node *n = lg_attach(out, name, bw, 1, &in);
  if (!n) {
    lg_release(out);
    return NULL;
  }
  save_geom(n, g);
  if (saved) {
    lg_retain(saved);
    lg_node_save(n, 0, saved);
  }
  return out;
}

/* Worth splitting over threads: by the elements touched, or for the
** windowed kernels by the reads (a 3x3 max pool over 7x7 planes of a batch
** of 64 x 16 channels read 450K values on one thread: 3% of a SimGAN step). */
static bool big(geom g) { return g.planes * (g.h * g.w + g.oh * g.ow) >= LG_PAR_MIN; }
static bool big_windows(geom g) {
  return big(g) || g.planes * g.oh * g.ow * g.k * g.k >= LG_PAR_MIN;
}

/* {====================================================== validation */

static bool check4d(const char *op, const lg_tensor *x) {
  char buf[128];
  if (x->ndim == 4) return true;
  lg_seterr("%s: input must be 4-D [N,C,H,W], got %s", op, lg_shape_str(x, buf, sizeof buf));
  return false;
}

/* Output sizes as PyTorch with ceil_mode=false. */
static bool pool_geom(const char *op, const lg_tensor *x, int k, int s, int p, geom *g) {
  char buf[128];
  if (!check4d(op, x)) return false;
  if (k < 1 || s < 1 || p < 0) {
    lg_seterr("%s: kernel size and stride must be >= 1 and padding >= 0, got kernel %d, "
              "stride %d, padding %d", op, k, s, p);
    return false;
  }
  if (p > k / 2) {
    lg_seterr("%s: padding %d should be at most half of kernel size %d", op, p, k);
    return false;
  }
  int64_t h = x->shape[2], w = x->shape[3], oh, ow, planes, ph, pw;
  if (!lg_window_count(h, p, k, s, &oh) || !lg_window_count(w, p, k, s, &ow)) {
    if (!lg_add_ok(h, 2 * (int64_t)p, &ph) || !lg_add_ok(w, 2 * (int64_t)p, &pw))
      lg_seterr("%s: the padded input is too large (padding %d) for %s", op, p,
                lg_shape_str(x, buf, sizeof buf));
    else
      lg_seterr("%s: kernel size %d is larger than the padded input %lldx%lld (padding %d) "
                "of %s", op, k, (long long)ph, (long long)pw, p,
                lg_shape_str(x, buf, sizeof buf));
    return false;
  }
  /* x may be an expanded view: its dims need not multiply to an allocatable
  ** count, while the kernels assume the input's and output's counts do */
  int64_t in_shape[4] = {x->shape[0], x->shape[1], h, w}, out_shape[4] = {in_shape[0],
                                                                          in_shape[1], oh, ow};
  if (!lg_check_shape(op, 4, in_shape) || !lg_check_shape(op, 4, out_shape)) return false;
  planes = x->shape[0] * x->shape[1];   /* bounded by the check above */
  *g = (geom){planes, h, w, oh, ow, k, s, p};
  return true;
}

/* }====================================================== */

/* {====================================================== average pooling
** Padding counts as zeros (count_include_pad): every window divides by k*k. */

static lg_tensor *avg_pool(lg_tensor *x, const geom *g);
static lg_tensor *avg_pool_adjoint(lg_tensor *gy, const geom *g);

/* The window of output (oy, ox) clipped to the input: rows [y0,y1), cols
** [x0,x1).  Never empty, since padding <= k/2. */
typedef struct {
  int64_t y0, y1, x0, x1;
} box;

static box window(geom g, int64_t oy, int64_t ox) {
  int64_t y0 = oy * g.s - g.p, x0 = ox * g.s - g.p;
  box b = {y0 < 0 ? 0 : y0, y0 + g.k < g.h ? y0 + g.k : g.h,
           x0 < 0 ? 0 : x0, x0 + g.k < g.w ? x0 + g.k : g.w};
  return b;
}

static void avg_kernel(const float *x, float *y, geom g) {
  float inv = 1.0f / ((float)g.k * (float)g.k);
  LG_PARALLEL_FOR(pl, g.planes, big_windows(g), {
    const float *xp = x + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) {
        box b = window(g, oy, ox);
        float sum = 0.0f;
        for (int64_t iy = b.y0; iy < b.y1; iy++)
          for (int64_t ix = b.x0; ix < b.x1; ix++) sum += xp[iy * g.w + ix];
        yp[oy * g.ow + ox] = sum * inv;
      }
  });
}

/* gx[i] = sum over the windows holding i of gy / (k*k) */
static void avg_adjoint_kernel(const float *gy, float *gx, geom g) {
  float inv = 1.0f / ((float)g.k * (float)g.k);
  LG_PARALLEL_FOR(pl, g.planes, big_windows(g), {
    float *xp = gx + pl * g.h * g.w;
    const float *yp = gy + pl * g.oh * g.ow;
    memset(xp, 0, (size_t)(g.h * g.w) * sizeof *xp);
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) {
        box b = window(g, oy, ox);
        float v = yp[oy * g.ow + ox] * inv;
        for (int64_t iy = b.y0; iy < b.y1; iy++)
          for (int64_t ix = b.x0; ix < b.x1; ix++) xp[iy * g.w + ix] += v;
      }
  });
}

static int bw_avg_pool(lg_node *n, lg_tensor *gy, lg_tensor **gin) {
  geom g = load_geom(n, gy);
  gin[0] = avg_pool_adjoint(gy, &g);
  return gin[0] ? 0 : -1;
}

static int bw_avg_pool_adjoint(lg_node *n, lg_tensor *ggx, lg_tensor **gin) {
  geom g = load_geom(n, n->inputs[0]);
  gin[0] = avg_pool(ggx, &g);
  return gin[0] ? 0 : -1;
}

static lg_tensor *avg_pool(lg_tensor *x, const geom *g) {
  lg_tensor *xc = lg_contiguous(x), *y = xc ? empty4(xc, g->oh, g->ow) : NULL;
  if (y) avg_kernel(lg_data(xc), lg_data(y), *g);
  y = record(y, xc, "avg_pool2d", bw_avg_pool, g, NULL);
  lg_release(xc);
  return y;
}

static lg_tensor *avg_pool_adjoint(lg_tensor *gy, const geom *g) {
  lg_tensor *gc = lg_contiguous(gy), *gx = gc ? empty4(gc, g->h, g->w) : NULL;
  if (gx) avg_adjoint_kernel(lg_data(gc), lg_data(gx), *g);
  gx = record(gx, gc, "avg_pool2d_backward", bw_avg_pool_adjoint, g, NULL);
  lg_release(gc);
  return gx;
}

lg_tensor *lg_avg_pool2d(lg_tensor *x, int k, int stride, int padding) {
  geom g;
  if (!pool_geom("avg_pool2d", x, k, stride, padding, &g)) return NULL;
  return avg_pool(x, &g);
}

/* }====================================================== */

/* {====================================================== max pooling
** The forward pass finds each window's argmax (the first one, as PyTorch;
** a NaN wins, so it propagates) and keeps its position within the plane,
** as a float, in a saved index tensor of the output's shape.  The gradient
** is a scatter-add into those positions, and the scatter's adjoint is the
** gather that the forward pass is once the positions are fixed. */

static lg_tensor *gather(lg_tensor *t, lg_tensor *idx, const geom *g);
static lg_tensor *scatter(lg_tensor *gy, lg_tensor *idx, const geom *g);

/* Position of the window's maximum in the plane; *m gets the value.  The
** rule is PyTorch's: a strictly greater value takes over (so the first
** maximum wins), and a NaN wins over everything (the last NaN, as there).
** The selects are masks rather than branches: on random data a
** compare-and-jump mispredicts about every other window. */
static int64_t argmax(const float *xp, int64_t w, box b, float *m) {
  int64_t best = b.y0 * w + b.x0, nan_at = -1;
  float top = -INFINITY;
  for (int64_t iy = b.y0; iy < b.y1; iy++)
    for (int64_t ix = b.x0; ix < b.x1; ix++) {
      int64_t i = iy * w + ix;
      float v = xp[i];
      best ^= (best ^ i) & -(int64_t)(v > top);
      nan_at ^= (nan_at ^ i) & -(int64_t)(v != v);
      top = v > top ? v : top;
    }
  if (nan_at >= 0) best = nan_at;
  *m = xp[best];
  return best;
}

static void max_kernel(const float *x, float *y, float *idx, geom g) {
  LG_PARALLEL_FOR(pl, g.planes, big_windows(g), {
    const float *xp = x + pl * g.h * g.w;
    int64_t o = pl * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++, o++)
        idx[o] = (float)argmax(xp, g.w, window(g, oy, ox), &y[o]);
  });
}

static void gather_kernel(const float *t, const float *idx, float *out, geom g) {
  LG_PARALLEL_FOR(pl, g.planes, big(g), {
    const float *tp = t + pl * g.h * g.w;
    for (int64_t o = pl * g.oh * g.ow; o < (pl + 1) * g.oh * g.ow; o++)
      out[o] = tp[(int64_t)idx[o]];
  });
}

static void scatter_kernel(const float *gy, const float *idx, float *gx, geom g) {
  LG_PARALLEL_FOR(pl, g.planes, big(g), {
    float *xp = gx + pl * g.h * g.w;
    memset(xp, 0, (size_t)(g.h * g.w) * sizeof *xp);
    for (int64_t o = pl * g.oh * g.ow; o < (pl + 1) * g.oh * g.ow; o++)
      xp[(int64_t)idx[o]] += gy[o];
  });
}

/* Backward of max_pool2d and of the gather: scatter gy into the argmaxes. */
static int bw_gather(lg_node *n, lg_tensor *gy, lg_tensor **gin) {
  geom g = load_geom(n, gy);
  gin[0] = scatter(gy, n->saved[0], &g);
  return gin[0] ? 0 : -1;
}

static int bw_scatter(lg_node *n, lg_tensor *ggx, lg_tensor **gin) {
  geom g = load_geom(n, n->inputs[0]);
  gin[0] = gather(ggx, n->saved[0], &g);
  return gin[0] ? 0 : -1;
}

static lg_tensor *gather(lg_tensor *t, lg_tensor *idx, const geom *g) {
  lg_tensor *tc = lg_contiguous(t), *out = tc ? empty4(tc, g->oh, g->ow) : NULL;
  if (out) gather_kernel(lg_data(tc), lg_data(idx), lg_data(out), *g);
  out = record(out, tc, "max_pool2d_gather", bw_gather, g, idx);
  lg_release(tc);
  return out;
}

static lg_tensor *scatter(lg_tensor *gy, lg_tensor *idx, const geom *g) {
  lg_tensor *gc = lg_contiguous(gy), *gx = gc ? empty4(gc, g->h, g->w) : NULL;
  if (gx) scatter_kernel(lg_data(gc), lg_data(idx), lg_data(gx), *g);
  gx = record(gx, gc, "max_pool2d_backward", bw_scatter, g, idx);
  lg_release(gc);
  return gx;
}

lg_tensor *lg_max_pool2d(lg_tensor *x, int k, int stride, int padding) {
  geom g;
  if (!pool_geom("max_pool2d", x, k, stride, padding, &g)) return NULL;
  if (g.h * g.w > (1 << 24)) {   /* positions are kept as exact floats */
    char buf[128];
    return lg_seterr("max_pool2d: planes of more than 2^24 elements are not supported, got %s",
                     lg_shape_str(x, buf, sizeof buf));
  }
  lg_tensor *xc = lg_contiguous(x);
  lg_tensor *y = xc ? empty4(xc, g.oh, g.ow) : NULL, *idx = y ? empty4(xc, g.oh, g.ow) : NULL;
  if (idx) {
    max_kernel(lg_data(xc), lg_data(y), lg_data(idx), g);
    y = record(y, xc, "max_pool2d", bw_gather, &g, idx);
  } else {
    lg_release(y);
    y = NULL;
  }
  lg_release(idx);
  lg_release(xc);
  return y;
}

/* }====================================================== */

/* {====================================================== nearest upsampling
** Geometry reuses geom with k = s = scale: the input is the small side
** (h x w) and the output the large one (oh x ow). */

static lg_tensor *upsample(lg_tensor *x, const geom *g);
static lg_tensor *block_sum(lg_tensor *gy, const geom *g);

/* Each input row becomes one widened output row, copied s times. */
static void upsample_kernel(const float *x, float *y, geom g) {
  LG_PARALLEL_FOR(pl, g.planes, big(g), {
    const float *xp = x + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    for (int64_t iy = 0; iy < g.h; iy++) {
      const float *xr = xp + iy * g.w;
      float *yr = yp + iy * g.s * g.ow;
      for (int64_t ix = 0; ix < g.w; ix++)
        for (int64_t dx = 0; dx < g.s; dx++) yr[ix * g.s + dx] = xr[ix];
      for (int64_t dy = 1; dy < g.s; dy++)
        memcpy(yr + dy * g.ow, yr, (size_t)g.ow * sizeof *yr);
    }
  });
}

static void block_sum_kernel(const float *gy, float *gx, geom g) {
  LG_PARALLEL_FOR(pl, g.planes, big(g), {
    float *xp = gx + pl * g.h * g.w;
    const float *yp = gy + pl * g.oh * g.ow;
    for (int64_t iy = 0; iy < g.h; iy++) {
      float *xr = xp + iy * g.w;
      for (int64_t ix = 0; ix < g.w; ix++) {
        float sum = 0.0f;
        for (int64_t dy = 0; dy < g.s; dy++) {
          const float *yr = yp + (iy * g.s + dy) * g.ow + ix * g.s;
          for (int64_t dx = 0; dx < g.s; dx++) sum += yr[dx];
        }
        xr[ix] = sum;
      }
    }
  });
}

static int bw_upsample(lg_node *n, lg_tensor *gy, lg_tensor **gin) {
  geom g = load_geom(n, gy);
  gin[0] = block_sum(gy, &g);
  return gin[0] ? 0 : -1;
}

static int bw_block_sum(lg_node *n, lg_tensor *ggx, lg_tensor **gin) {
  geom g = load_geom(n, n->inputs[0]);
  gin[0] = upsample(ggx, &g);
  return gin[0] ? 0 : -1;
}

static lg_tensor *upsample(lg_tensor *x, const geom *g) {
  lg_tensor *xc = lg_contiguous(x), *y = xc ? empty4(xc, g->oh, g->ow) : NULL;
  if (y) upsample_kernel(lg_data(xc), lg_data(y), *g);
  y = record(y, xc, "upsample_nearest", bw_upsample, g, NULL);
  lg_release(xc);
  return y;
}

static lg_tensor *block_sum(lg_tensor *gy, const geom *g) {
  lg_tensor *gc = lg_contiguous(gy), *gx = gc ? empty4(gc, g->h, g->w) : NULL;
  if (gx) block_sum_kernel(lg_data(gc), lg_data(gx), *g);
  gx = record(gx, gc, "upsample_nearest_backward", bw_block_sum, g, NULL);
  lg_release(gc);
  return gx;
}

lg_tensor *lg_upsample_nearest(lg_tensor *x, int scale) {
  if (!check4d("upsample_nearest", x)) return NULL;
  if (scale < 1) return lg_seterr("upsample_nearest: scale must be >= 1, got %d", scale);
  int64_t h = x->shape[2], w = x->shape[3], out_shape[4] = {x->shape[0], x->shape[1], 0, 0};
  if (!lg_check_shape("upsample_nearest", 4, x->shape) ||
      !lg_mul_ok(h, scale, &out_shape[2]) || !lg_mul_ok(w, scale, &out_shape[3]) ||
      !lg_check_shape("upsample_nearest", 4, out_shape)) {
    char buf[128];
    return lg_seterr("upsample_nearest: %s scaled by %d is too large",
                     lg_shape_str(x, buf, sizeof buf), scale);
  }
  geom g = {x->shape[0] * x->shape[1], h, w, out_shape[2], out_shape[3], scale, scale, 0};
  return upsample(x, &g);
}

/* }====================================================== */

/* {====================================================== dropout
** Inverted dropout: kept elements are scaled by 1/(1-p) so that the
** expectation is unchanged and evaluation needs no rescaling.  The mask is
** an ordinary tensor multiplied in, so the gradient (g * mask) and its own
** derivatives come from mul. */

lg_tensor *lg_dropout(lg_tensor *x, float p, bool training) {
  if (!(p >= 0.0f && p < 1.0f)) return lg_seterr("dropout: p must be in [0, 1), got %g", p);
  if (p == 0.0f || !training) {
    lg_retain(x);
    return x;
  }
  lg_tensor *mask = lg_empty(x->ndim, x->shape);
  if (!mask) return NULL;
  float *m = lg_data(mask), keep = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < mask->numel; i++) m[i] = lg_rng_uniform() < p ? 0.0f : keep;
  lg_tensor *y = lg_mul(x, mask);
  lg_release(mask);
  return y;
}

/* }====================================================== */
