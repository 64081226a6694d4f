/*
** Batch normalisation.
**
** The input is seen as [N, C, S] (S = H*W, or 1 for [N,C]); statistics are
** per channel over its M = N*S values.  The forward pass and the plain
** backward pass are fused per-channel kernels that accumulate in double, in a
** fixed order, so results do not depend on the thread count.
**
** Under create_graph the backward is instead composed of differentiable ops:
** the channel_sum / channel_expand pair below and same-shape elementwise ops.
** In training mode it recomputes the batch statistics from x rather than
** using the saved ones, because mean and variance are functions of x and
** their derivatives are part of the second-order gradient.
*/
#include "internal.h"

#include <math.h>
#include <string.h>

/* x seen as [N, C, S] */
typedef struct {
  int64_t n, c, s;
} nchs;

static nchs geometry(const lg_tensor *x) {
  nchs d = {x->shape[0], x->shape[1], 1};
  for (int i = 2; i < x->ndim; i++) d.s *= x->shape[i];
  return d;
}

static const float *row(const float *base, nchs d, int64_t n, int64_t c) {
  return base + (n * d.c + c) * d.s;
}

/* Element i of a 1-D tensor of any stride. */
static float at(const lg_tensor *v, int64_t i) { return lg_data(v)[i * v->stride[0]]; }

/* {====================================================== channel sums
** Sums run in LANES independent double accumulators: a fixed order (so
** deterministic) that the compiler can vectorise. */

#define LANES 8

static double fold(const double *acc) {
  double s = 0.0;
  for (int j = 0; j < LANES; j++) s += acc[j];
  return s;
}

/* s += (x - K), q += (x - K)^2 over one run. */
static void moments_run(const float *x, int64_t len, double K, double *s, double *q) {
  int64_t i = 0;
  for (; i + LANES <= len; i += LANES)
    for (int j = 0; j < LANES; j++) {
      double v = (double)x[i + j] - K;
      s[j] += v;
      q[j] += v * v;
    }
  for (; i < len; i++) {
    double v = (double)x[i] - K;
    s[0] += v;
    q[0] += v * v;
  }
}

/* Mean and biased variance of channel c.  Values are shifted by the
** channel's first value so that the one-pass sum of squares does not cancel
** when |mean| is large against the spread. */
static void channel_moments(const float *x, nchs d, int64_t c, double *mean, double *var) {
  double K = row(x, d, 0, c)[0], s[LANES] = {0}, q[LANES] = {0};
  for (int64_t n = 0; n < d.n; n++) moments_run(row(x, d, n, c), d.s, K, s, q);
  double M = (double)(d.n * d.s), m = fold(s) / M, v = fold(q) / M - m * m;
  *mean = K + m;
  *var = v > 0.0 ? v : 0.0;
}

/* sg += g, sgx += g (x - mean) over one run. */
static void grad_run(const float *g, const float *x, int64_t len, double mean, double *sg,
                     double *sgx) {
  int64_t i = 0;
  for (; i + LANES <= len; i += LANES)
    for (int j = 0; j < LANES; j++) {
      double gv = g[i + j];
      sg[j] += gv;
      sgx[j] += gv * ((double)x[i + j] - mean);
    }
  for (; i < len; i++) {
    sg[0] += g[i];
    sgx[0] += (double)g[i] * ((double)x[i] - mean);
  }
}

/* Channels are visited in blocks: one at a time when each has runs of S > 1
** values, or COLS at once for [N,C] input.  There a channel is a column, and
** walking it alone would stride by C floats (4 KB for C = 1024: every read
** lands in the same cache set); a block walks the rows in order instead. */
#define COLS 128

static int64_t block_width(nchs d) { return d.s > 1 ? 1 : COLS; }

/* Mean and biased variance of channels [c0, c0+nc), as channel_moments. */
static void block_moments(const float *x, nchs d, int64_t c0, int64_t nc, double *mean,
                          double *var) {
  if (d.s > 1) {
    channel_moments(x, d, c0, mean, var);
    return;
  }
  double K[COLS], s[COLS] = {0}, q[COLS] = {0}, M = (double)d.n;
  for (int64_t j = 0; j < nc; j++) K[j] = x[c0 + j];
  for (int64_t n = 0; n < d.n; n++) {
    const float *r = x + n * d.c + c0;
#pragma omp simd
    for (int64_t j = 0; j < nc; j++) {
      double v = (double)r[j] - K[j];
      s[j] += v;
      q[j] += v * v;
    }
  }
  for (int64_t j = 0; j < nc; j++) {
    double m = s[j] / M, v = q[j] / M - m * m;
    mean[j] = K[j] + m;
    var[j] = v > 0.0 ? v : 0.0;
  }
}

/* sum g and sum g (x - mean) for channels [c0, c0+nc). */
static void block_grad_sums(const float *g, const float *x, nchs d, int64_t c0, int64_t nc,
                            const float *mean, double *sg, double *sgx) {
  if (d.s > 1) {
    double a[LANES] = {0}, b[LANES] = {0};
    for (int64_t n = 0; n < d.n; n++)
      grad_run(row(g, d, n, c0), row(x, d, n, c0), d.s, mean[c0], a, b);
    sg[0] = fold(a);
    sgx[0] = fold(b);
    return;
  }
  for (int64_t j = 0; j < nc; j++) sg[j] = sgx[j] = 0.0;
  for (int64_t n = 0; n < d.n; n++) {
    const float *gr = g + n * d.c + c0, *xr = x + n * d.c + c0;
#pragma omp simd
    for (int64_t j = 0; j < nc; j++) {
      sg[j] += gr[j];
      sgx[j] += (double)gr[j] * ((double)xr[j] - mean[c0 + j]);
    }
  }
}

/* gx = a g - shift - slope (x - mean) on channels [c0, c0+nc); the
** coefficients are indexed from c0. */
static void block_apply(const float *g, const float *x, float *gx, nchs d, int64_t c0,
                        int64_t nc, const float *a, const float *shift, const float *slope,
                        const float *mean) {
  for (int64_t n = 0; n < d.n; n++) {
    const float *gr = row(g, d, n, c0), *xr = row(x, d, n, c0);
    float *o = gx + (n * d.c + c0) * d.s;
    if (d.s == 1)
#pragma omp simd
      for (int64_t j = 0; j < nc; j++)
        o[j] = a[j] * gr[j] - shift[j] - slope[j] * (xr[j] - mean[c0 + j]);
    else
#pragma omp simd
      for (int64_t i = 0; i < d.s; i++)
        o[i] = a[0] * gr[i] - shift[0] - slope[0] * (xr[i] - mean[c0]);
  }
}

/* }====================================================== */

/* {====================================================== channel_sum / channel_expand
** A linear pair, each the other's adjoint: [N,C,*] -> [C] summing over all
** but dim 1, and [C] -> [N,C,*] repeating.  Used by the create_graph
** backward, where they keep every elementwise op same-shape. */

static lg_tensor *channel_sum(lg_tensor *t);
static lg_tensor *channel_expand(lg_tensor *v, const lg_tensor *like);

static int bw_channel_sum(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  gin[0] = channel_expand(g, n->inputs[0]);
  return gin[0] ? 0 : -1;
}

static int bw_channel_expand(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  (void)n;
  gin[0] = channel_sum(g);
  return gin[0] ? 0 : -1;
}

static lg_tensor *channel_sum(lg_tensor *t) {
  lg_tensor *tc = lg_contiguous(t);
  if (!tc) return NULL;
  nchs d = geometry(tc);
  lg_tensor *out = lg_empty(1, &d.c);
  if (out) {
    const float *src = lg_data(tc);
    float *o = lg_data(out);
    for (int64_t c = 0; c < d.c; c++) {
      double acc = 0.0;
      for (int64_t n = 0; n < d.n; n++) {
        const float *r = row(src, d, n, c);
        for (int64_t i = 0; i < d.s; i++) acc += r[i];
      }
      o[c] = (float)acc;
    }
    if (lg_needs_grad(tc) && !lg_attach(out, "batch_norm_channel_sum", bw_channel_sum, 1, &tc)) {
      lg_release(out);
      out = NULL;
    }
  }
  lg_release(tc);
  return out;
}

static lg_tensor *channel_expand(lg_tensor *v, const lg_tensor *like) {
  lg_tensor *out = lg_empty(like->ndim, like->shape);
  if (!out) return NULL;
  nchs d = geometry(out);
  float *o = lg_data(out);
  for (int64_t n = 0; n < d.n; n++)
    for (int64_t c = 0; c < d.c; c++) {
      float val = at(v, c), *r = o + (n * d.c + c) * d.s;
      for (int64_t i = 0; i < d.s; i++) r[i] = val;
    }
  if (lg_needs_grad(v) && !lg_attach(out, "batch_norm_channel_expand", bw_channel_expand, 1, &v)) {
    lg_release(out);
    return NULL;
  }
  return out;
}

/* }====================================================== */

/* {====================================================== backward */

static bool wants(lg_node *n, int i) { return lg_wants_grad(n, i); }

/* Plain backward (grad mode off).  Per channel, with xhat = (x - mean) invstd
** and a = weight * invstd:
**   gbias = sum g,  gweight = sum g xhat,
**   gx = a g                                              (eval: affine map)
**   gx = a (g - gbias/M - xhat gweight/M)                 (training)        */
static int bn_backward_fused(lg_node *node, lg_tensor *gout, lg_tensor **gin) {
  lg_tensor *x = node->inputs[0], *w = node->inputs[1];
  const float *mean = lg_data(node->saved[0]), *invstd = lg_data(node->saved[1]);
  bool training = node->ints[0];
  nchs d = geometry(x);
  lg_tensor *g = lg_contiguous(gout);
  lg_tensor *gb = lg_empty(1, &d.c), *gw = lg_empty(1, &d.c);   /* sum g, sum g xhat */
  lg_tensor *gx = wants(node, 0) ? lg_empty(x->ndim, x->shape) : NULL;
  if (!g || !gb || !gw || (wants(node, 0) && !gx)) {
    lg_release(g);
    lg_release(gb);
    lg_release(gw);
    lg_release(gx);
    return -1;
  }
  const float *gp = lg_data(g), *xp = lg_data(x);
  float *sum_g = lg_data(gb), *sum_gxhat = lg_data(gw);
  double M = (double)(d.n * d.s);
  int64_t bw = block_width(d), nblocks = (d.c + bw - 1) / bw;
  LG_PARALLEL_FOR(b, nblocks, x->numel >= LG_PAR_MIN, {
    int64_t c0 = b * bw, nc = d.c - c0 < bw ? d.c - c0 : bw;
    double sg[COLS], sgx[COLS];
    float a[COLS], shift[COLS], slope[COLS];
    block_grad_sums(gp, xp, d, c0, nc, mean, sg, sgx);
    for (int64_t j = 0; j < nc; j++) {
      int64_t c = c0 + j;
      sum_g[c] = (float)sg[j];
      sum_gxhat[c] = (float)(sgx[j] * invstd[c]);
      a[j] = invstd[c] * (w ? at(w, c) : 1.0f);
      shift[j] = training ? (float)(a[j] * sum_g[c] / M) : 0.0f;
      slope[j] = training ? (float)(a[j] * invstd[c] * sum_gxhat[c] / M) : 0.0f;
    }
    if (gx) block_apply(gp, xp, lg_data(gx), d, c0, nc, a, shift, slope, mean);
  });
  lg_release(g);
  gin[0] = gx;
  if (wants(node, 1)) gin[1] = gw;
  else lg_release(gw);
  if (wants(node, 2)) gin[2] = gb;
  else lg_release(gb);
  return 0;
}

/* Temporaries of the create_graph backward, released together. */
typedef struct {
  lg_tensor *t[32];
  int n;
} scope;

static lg_tensor *keep(scope *s, lg_tensor *t) {
  if (t) s->t[s->n++] = t;
  return t;
}

/* var = call, kept in the scope; on failure jump to the cleanup. */
#define T(var, call)                           \
  do {                                         \
    if (!((var) = keep(&s, (call)))) goto out; \
  } while (0)

/* x - v and x * v, with v [C] repeated over x's other dims. */
static lg_tensor *sub_c(lg_tensor *x, lg_tensor *v) {
  lg_tensor *e = channel_expand(v, x), *r = e ? lg_sub(x, e) : NULL;
  lg_release(e);
  return r;
}

static lg_tensor *mul_c(lg_tensor *x, lg_tensor *v) {
  lg_tensor *e = channel_expand(v, x), *r = e ? lg_mul(x, e) : NULL;
  lg_release(e);
  return r;
}

/* The same formulas as bn_backward_fused, written with differentiable ops. */
static int bn_backward_graph(lg_node *node, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = node->inputs[0], *w = node->inputs[1];
  lg_tensor *mean, *invstd, *xc, *xhat, *sg, *sgx, *t, *u, *a;
  bool training = node->ints[0];
  scope s = {.n = 0};
  int rc = -1;
  nchs d = geometry(x);
  float inv_m = 1.0f / (float)(d.n * d.s);
  if (training) {   /* the statistics as functions of x */
    T(u, channel_sum(x));
    T(mean, lg_mul_scalar(u, inv_m));
    T(xc, sub_c(x, mean));
    T(u, lg_mul(xc, xc));
    T(u, channel_sum(u));
    T(u, lg_mul_scalar(u, inv_m));
    T(u, lg_add_scalar(u, node->floats[0]));
    T(invstd, lg_pow(u, -0.5f));
  } else {          /* the running statistics: constants */
    mean = node->saved[0];
    invstd = node->saved[1];
    T(xc, sub_c(x, mean));
  }
  T(xhat, mul_c(xc, invstd));
  T(sg, channel_sum(g));
  T(u, lg_mul(g, xhat));
  T(sgx, channel_sum(u));
  if (wants(node, 0)) {
    a = invstd;
    if (w) T(a, lg_mul(w, invstd));
    t = g;
    if (training) {
      T(u, lg_mul_scalar(sg, inv_m));
      T(t, sub_c(t, u));
      T(u, lg_mul_scalar(sgx, inv_m));
      T(u, mul_c(xhat, u));
      T(t, lg_sub(t, u));
    }
    T(gin[0], mul_c(t, a));
    lg_retain(gin[0]);   /* one reference for the caller, one for the scope */
  }
  if (wants(node, 1)) lg_retain(gin[1] = sgx);
  if (wants(node, 2)) lg_retain(gin[2] = sg);
  rc = 0;
out:
  while (s.n > 0) lg_release(s.t[--s.n]);
  return rc;
}

#undef T

static int bw_batch_norm(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  return lg_grad_enabled() ? bn_backward_graph(n, g, gin) : bn_backward_fused(n, g, gin);
}

/* }====================================================== */

/* {====================================================== forward */

static bool check_channel_vec(const char *what, const lg_tensor *v, const lg_tensor *x) {
  char b1[128], b2[128];
  if (!v || (v->ndim == 1 && v->shape[0] == x->shape[1])) return true;
  lg_seterr("batch_norm: %s %s does not match %lld channels of input %s", what,
            lg_shape_str(v, b1, sizeof b1), (long long)x->shape[1],
            lg_shape_str(x, b2, sizeof b2));
  return false;
}

static bool check_args(const lg_tensor *x, const lg_tensor *rm, const lg_tensor *rv,
                       const lg_tensor *w, const lg_tensor *b, bool training, float eps) {
  char buf[128];
  if (x->ndim < 2 || x->ndim > 5) {
    lg_seterr("batch_norm: input must be [N,C], [N,C,L], [N,C,H,W] or [N,C,T,H,W], got %s",
              lg_shape_str(x, buf, sizeof buf));
    return false;
  }
  if (!check_channel_vec("weight", w, x) || !check_channel_vec("bias", b, x) ||
      !check_channel_vec("running_mean", rm, x) || !check_channel_vec("running_var", rv, x))
    return false;
  if (!training && (!rm || !rv)) {
    lg_seterr("batch_norm: eval mode needs running_mean and running_var, got %s",
              !rm && !rv ? "neither" : !rm ? "no running_mean" : "no running_var");
    return false;
  }
  if (training && x->shape[1] > 0 && x->numel / x->shape[1] <= 1) {
    lg_seterr("batch_norm: expected more than 1 value per channel when training, got input %s",
              lg_shape_str(x, buf, sizeof buf));
    return false;
  }
  if (!(eps >= 0.0f)) {
    lg_seterr("batch_norm: eps must be >= 0, got %g", eps);
    return false;
  }
  return true;
}

/* Fills mean/invstd per channel; in training also moves the running
** statistics (in place, no graph), with the unbiased variance as PyTorch. */
static void channel_stats(const float *x, nchs d, lg_tensor *rm, lg_tensor *rv,
                          bool training, float momentum, float eps, float *mean,
                          float *invstd) {
  double M = (double)(d.n * d.s);
  int64_t bw = block_width(d), nblocks = (d.c + bw - 1) / bw;
  LG_PARALLEL_FOR(b, nblocks, d.n * d.c * d.s >= LG_PAR_MIN, {
    int64_t c0 = b * bw, nc = d.c - c0 < bw ? d.c - c0 : bw;
    double mu[COLS], var[COLS];
    if (training) block_moments(x, d, c0, nc, mu, var);
    for (int64_t j = 0; j < nc; j++) {
      int64_t c = c0 + j;
      if (!training) {
        mu[j] = at(rm, c);
        var[j] = at(rv, c);
      } else {
        if (rm) {
          float *r = lg_data(rm) + c * rm->stride[0];
          *r = (float)((1.0 - momentum) * *r + momentum * mu[j]);
        }
        if (rv) {
          float *r = lg_data(rv) + c * rv->stride[0];
          *r = (float)((1.0 - momentum) * *r + momentum * var[j] * M / (M - 1.0));
        }
      }
      mean[c] = (float)mu[j];
      invstd[c] = (float)(1.0 / sqrt(var[j] + eps));
    }
  });
}

/* y = (x - mean[c]) scale[c] + bias[c].  Subtracting first, rather than
** folding the mean into the bias, keeps x - mean exact when |mean| is large
** against the spread. */
static void normalise(const float *x, float *y, nchs d, const float *mean, const float *scale,
                      const float *bias) {
  if (d.s == 1) {   /* [N,C]: run along the rows */
    LG_PARALLEL_FOR(n, d.n, d.n * d.c >= LG_PAR_MIN, {
      const float *xr = x + n * d.c;
      float *yr = y + n * d.c;
      _Pragma("omp simd")
      for (int64_t c = 0; c < d.c; c++) yr[c] = (xr[c] - mean[c]) * scale[c] + bias[c];
    });
    return;
  }
  LG_PARALLEL_FOR(r, d.n * d.c, d.n * d.c * d.s >= LG_PAR_MIN, {
    int64_t c = r % d.c;
    float mu = mean[c], k = scale[c], b = bias[c];
    const float *xr = x + r * d.s;
    float *yr = y + r * d.s;
    _Pragma("omp simd")
    for (int64_t i = 0; i < d.s; i++) yr[i] = (xr[i] - mu) * k + b;
  });
}

lg_tensor *lg_batch_norm(lg_tensor *x, lg_tensor *running_mean, lg_tensor *running_var,
                         lg_tensor *weight, lg_tensor *bias, bool training, float momentum,
                         float eps) {
  if (!check_args(x, running_mean, running_var, weight, bias, training, eps)) return NULL;
  lg_tensor *xc = lg_contiguous(x);
  if (!xc) return NULL;
  nchs d = geometry(xc);
  int64_t two_c[2] = {2, d.c};
  lg_tensor *mean = lg_empty(1, &d.c), *invstd = lg_empty(1, &d.c);
  lg_tensor *affine = lg_empty(2, two_c), *y = lg_empty(xc->ndim, xc->shape);
  lg_tensor *in[3] = {xc, weight, bias};
  lg_node *node;
  if (!mean || !invstd || !affine || !y) goto fail;
  float *mu = lg_data(mean), *is = lg_data(invstd);
  float *scale = lg_data(affine), *offset = scale + d.c;
  channel_stats(lg_data(xc), d, running_mean, running_var, training, momentum, eps, mu, is);
  if (training && running_mean) lg_bump_version(running_mean);
  if (training && running_var) lg_bump_version(running_var);
  for (int64_t c = 0; c < d.c; c++) {
    scale[c] = is[c] * (weight ? at(weight, c) : 1.0f);
    offset[c] = bias ? at(bias, c) : 0.0f;
  }
  normalise(lg_data(xc), lg_data(y), d, mu, scale, offset);
  if (lg_any_needs_grad(3, in)) {
    if (!(node = lg_attach(y, "batch_norm", bw_batch_norm, 3, in))) goto fail;
    node->ints[0] = training;
    node->floats[0] = eps;
    lg_node_save(node, 0, mean);   /* the node takes these references */
    lg_node_save(node, 1, invstd);
    mean = invstd = NULL;
  }
  lg_release(mean);
  lg_release(invstd);
  lg_release(affine);
  lg_release(xc);
  return y;
fail:
  lg_release(mean);
  lg_release(invstd);
  lg_release(affine);
  lg_release(y);
  lg_release(xc);
  return NULL;
}

/* }====================================================== */
