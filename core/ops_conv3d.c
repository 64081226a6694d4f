/*
** 3-D convolutions: conv3d, conv_transpose3d and conv3d_weight (the weight
** gradient of conv3d as an op of its own), for video models such as the
** two-stream generator and the 3-D critic of Vondrick et al. 2016,
** "Generating Videos with Scene Dynamics" (section 2.2, figure 1).
**
** The scheme is ops_conv.c's with one more dim.  A "volume" [N,C,T,H,W] is
** what conv3d reads and conv_transpose3d writes; a "grid" [N,O,To,Ho,Wo]
** is what conv3d writes and conv_transpose3d reads, To = (T + 2pt - kt)/st
** + 1 and so on.  The weight is the matrix W [O, K], K = C kt kh kw, for
** both: PyTorch's layouts [cout,cin,kt,kh,kw] and [cin,cout,kt,kh,kw].
** For a chunk of nb samples, L = To Ho Wo,
**
**   col [K, nb*L],  col[(c,a,i,j)][(n,ot,oh,ow)]
**                      = volume[n, c, ot*st-pt+a, oh*sh-ph+i, ow*sw-pw+j]
**   conv3d            grid   = W col               vol2col, then sgemm
**   conv_transpose3d  volume = col2vol(W^T grid)   sgemm, then col2vol
**   conv3d_weight     W      = grid col^T          vol2col, then sgemm
**
** Each backward is made of these three ops, so gradients of gradients work
** (a gradient penalty on a 3-D critic).  The column matrices live in
** ops_conv.c's workspace, kept across calls, so that steady-state training
** does no malloc here.  The chunks run one after another; inside a chunk
** vol2col, col2vol and lg_sgemm split their work over the threads so that
** each output element is computed by one thread in a fixed order: results
** do not depend on the thread count.
*/
#include "internal.h"

#include <limits.h>
#include <string.h>

typedef struct {
  int64_t n, c, d[3];    /* volume [N,C,T,H,W]: d = (T, H, W) */
  int64_t o, g[3];       /* grid channels and size (To, Ho, Wo) */
  int64_t k[3], s[3], p[3];
} geom;

static int64_t cols_k(const geom *g) { return g->c * g->k[0] * g->k[1] * g->k[2]; }
static int64_t cols_l(const geom *g) { return g->g[0] * g->g[1] * g->g[2]; }
static int64_t vol(const geom *g) { return g->d[0] * g->d[1] * g->d[2]; }

/* {====================================================== kernels */

/* The grid position that reads input position x at tap a along dim d, or
** -1 when none does. */
static int64_t reader(const geom *g, int d, int64_t x, int64_t a) {
  int64_t u = x + g->p[d] - a;
  if (u < 0 || u % g->s[d] || u / g->s[d] >= g->g[d]) return -1;
  return u / g->s[d];
}

/* Row r = (c, a, i, j) of col over samples n0 .. n0+nb-1. */
static void vol2col_row(const geom *g, const float *volume, int64_t n0, int64_t nb, int64_t r,
                        float *dst) {
  int64_t j = r % g->k[2], i = r / g->k[2] % g->k[1], a = r / (g->k[1] * g->k[2]) % g->k[0];
  int64_t c = r / (g->k[0] * g->k[1] * g->k[2]), lo, hi, sw = g->s[2], shift = j - g->p[2];
  lg_conv_span(j, g->p[2], sw, g->d[2], g->g[2], &lo, &hi);
  for (int64_t n = n0; n < n0 + nb; n++) {
    const float *cube = volume + (n * g->c + c) * vol(g);
    for (int64_t ot = 0; ot < g->g[0]; ot++) {
      int64_t it = ot * g->s[0] - g->p[0] + a;
      for (int64_t oh = 0; oh < g->g[1]; oh++, dst += g->g[2]) {
        int64_t ih = oh * g->s[1] - g->p[1] + i, ow = 0;
        if (it < 0 || it >= g->d[0] || ih < 0 || ih >= g->d[1]) {
          memset(dst, 0, (size_t)g->g[2] * sizeof(float));
          continue;
        }
        const float *src = cube + (it * g->d[1] + ih) * g->d[2];
        for (; ow < lo; ow++) dst[ow] = 0.0f;
        for (; ow < hi; ow++) dst[ow] = src[ow * sw + shift];
        for (; ow < g->g[2]; ow++) dst[ow] = 0.0f;
      }
    }
  }
}

/* col [K, nb*L] from samples n0 .. n0+nb-1: one thread per row. */
static void vol2col(const geom *g, const float *volume, int64_t n0, int64_t nb, float *col) {
  int64_t K = cols_k(g), ld = nb * cols_l(g);
  LG_PARALLEL_FOR(r, K, K * ld >= LG_PAR_MIN, { vol2col_row(g, volume, n0, nb, r, col + r * ld); });
}

/* Volume row (it, ih) of channel c, sample n0+n: bias plus every column
** entry copied from it, summed over taps (a, i, j) in a fixed order. */
static void col2vol_row(const geom *g, const float *col, int64_t nb, int64_t n, int64_t c,
                        int64_t it, int64_t ih, float b, float *dst) {
  int64_t L = cols_l(g), ld = nb * L;
  for (int64_t iw = 0; iw < g->d[2]; iw++) dst[iw] = b;
  for (int64_t a = 0; a < g->k[0]; a++) {
    int64_t ot = reader(g, 0, it, a);
    if (ot < 0) continue;
    for (int64_t i = 0; i < g->k[1]; i++) {
      int64_t oh = reader(g, 1, ih, i);
      if (oh < 0) continue;
      for (int64_t j = 0; j < g->k[2]; j++) {
        int64_t lo, hi, shift = j - g->p[2], tap = (c * g->k[0] + a) * g->k[1] + i;
        lg_conv_span(j, g->p[2], g->s[2], g->d[2], g->g[2], &lo, &hi);
        const float *src = col + (tap * g->k[2] + j) * ld + n * L + (ot * g->g[1] + oh) * g->g[2];
        for (int64_t ow = lo; ow < hi; ow++) dst[ow * g->s[2] + shift] += src[ow];
      }
    }
  }
}

/* Samples n0 .. n0+nb-1 of volume = col2vol(col) + bias; each volume row is
** gathered by one thread. */
static void col2vol(const geom *g, const float *col, int64_t n0, int64_t nb, const float *bias,
                    float *volume) {
  int64_t rows = nb * g->c * g->d[0] * g->d[1];
  LG_PARALLEL_FOR(r, rows, rows * g->d[2] >= LG_PAR_MIN, {
    int64_t ih = r % g->d[1], it = r / g->d[1] % g->d[0], c = r / (g->d[0] * g->d[1]) % g->c;
    int64_t n = r / (g->d[0] * g->d[1] * g->c);
    col2vol_row(g, col, nb, n, c, it, ih, bias ? bias[c] : 0.0f,
                volume + (((n0 + n) * g->c + c) * g->d[0] + it) * g->d[1] * g->d[2] +
                    ih * g->d[2]);
  });
}

/* rows [O, nb*L] <- samples n0.. of grid [N,O,L]: the chunk as one matrix. */
static void grid_to_rows(const geom *g, const float *grid, int64_t n0, int64_t nb, float *rows) {
  int64_t L = cols_l(g);
  for (int64_t o = 0; o < g->o; o++)
    for (int64_t n = 0; n < nb; n++)
      memcpy(rows + (o * nb + n) * L, grid + ((n0 + n) * g->o + o) * L, (size_t)L * sizeof(float));
}

/* Samples n0.. of grid [N,O,L] <- rows [O, nb*L] + bias. */
static void rows_to_grid(const geom *g, const float *rows, int64_t n0, int64_t nb,
                         const float *bias, float *grid) {
  int64_t L = cols_l(g), count = g->o * nb;
  LG_PARALLEL_FOR(t, count, count * L >= LG_PAR_MIN, {
    int64_t n = t / g->o, o = t % g->o;
    const float *src = rows + (o * nb + n) * L;
    float *dst = grid + ((n0 + n) * g->o + o) * L, b = bias ? bias[o] : 0.0f;
    for (int64_t l = 0; l < L; l++) dst[l] = src[l] + b;
  });
}

/* }====================================================== */

/* {====================================================== drivers
** Chunks of nb samples make sgemms about CHUNK_COLS wide (the deep layers
** of a video GAN have small grids: 2x4x4 = 32 columns a sample) while the
** column matrix stays within CHUNK_FLOATS, as ops_conv.c measured for
** 2-D.  The split depends on the geometry alone. */

#define CHUNK_COLS 400
#define CHUNK_FLOATS (1 << 19)

static int64_t chunk_samples(const geom *g) {
  int64_t L = cols_l(g) > 0 ? cols_l(g) : 1, K = cols_k(g) > 0 ? cols_k(g) : 1;
  int64_t nb = (CHUNK_COLS + L - 1) / L;
  if (nb * K * L > CHUNK_FLOATS) nb = CHUNK_FLOATS / (K * L);
  if (nb > g->n) nb = g->n;
  return nb < 1 ? 1 : nb;
}

/* col [K, nb*L], then rows [O, nb*L] when nb > 1, then (for the weight
** gradient) one [O, K] partial sum: offsets in floats, 16-aligned. */
static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

typedef struct {
  float *col, *rows, *part;
} slots;

static int get_slots(const geom *g, int64_t nb, bool partial, slots *s) {
  size_t col = round16((size_t)(cols_k(g) * nb * cols_l(g)));
  size_t rows = nb > 1 ? round16((size_t)(g->o * nb * cols_l(g))) : 0;
  size_t part = partial ? round16((size_t)(g->o * cols_k(g))) : 0;
  float *ws = lg_conv_workspace(col + rows + part);
  if (!ws) return -1;
  *s = (slots){ws, ws + col, ws + col + rows};
  return 0;
}

static int conv_forward(const geom *g, const float *x, const float *w, const float *bias,
                        float *y) {
  int64_t K = cols_k(g), L = cols_l(g), nb = chunk_samples(g);
  slots s;
  if (K == 0) {   /* no input channels: the bias alone */
    for (int64_t t = 0; t < g->n * g->o; t++)
      for (int64_t l = 0; l < L; l++) y[t * L + l] = bias ? bias[t % g->o] : 0.0f;
    return 0;
  }
  if (get_slots(g, nb, false, &s)) return -1;
  for (int64_t n0 = 0; n0 < g->n; n0 += nb) {
    int64_t m = g->n - n0 < nb ? g->n - n0 : nb;
    vol2col(g, x, n0, m, s.col);
    if (m == 1) {
      float *out = y + n0 * g->o * L;
      if (bias)
        for (int64_t o = 0; o < g->o; o++)
          for (int64_t l = 0; l < L; l++) out[o * L + l] = bias[o];
      lg_sgemm(false, false, g->o, L, K, w, K, s.col, L, bias ? 1.0f : 0.0f, out, L, true);
    } else {
      lg_sgemm(false, false, g->o, m * L, K, w, K, s.col, m * L, 0.0f, s.rows, m * L, true);
      rows_to_grid(g, s.rows, n0, m, bias, y);
    }
  }
  return 0;
}

static int conv_transpose_forward(const geom *g, const float *x, const float *w,
                                  const float *bias, float *y) {
  int64_t K = cols_k(g), L = cols_l(g), nb = chunk_samples(g);
  slots s;
  if (get_slots(g, nb, false, &s)) return -1;
  for (int64_t n0 = 0; n0 < g->n; n0 += nb) {
    int64_t m = g->n - n0 < nb ? g->n - n0 : nb;
    const float *src = x + n0 * g->o * L;
    if (g->o == 0) {   /* no input channels: nothing reaches the volume */
      memset(s.col, 0, (size_t)(K * m * L) * sizeof(float));
    } else {
      if (m > 1) {
        grid_to_rows(g, x, n0, m, s.rows);
        src = s.rows;
      }
      lg_sgemm(true, false, K, m * L, g->o, w, K, src, m * L, 0.0f, s.col, m * L, true);
    }
    col2vol(g, s.col, n0, m, bias, y);
  }
  return 0;
}

/* gw = P_0 + P_1 + ..., P_c the gradient of chunk c alone, summed in chunk
** order: the same for any thread count. */
static int conv_weight_forward(const geom *g, const float *x, const float *gy, float *gw) {
  int64_t K = cols_k(g), L = cols_l(g), OK = g->o * K, nb = chunk_samples(g);
  slots s;
  if (g->n == 0 || L == 0) {
    memset(gw, 0, (size_t)OK * sizeof(float));
    return 0;
  }
  if (get_slots(g, nb, true, &s)) return -1;
  for (int64_t n0 = 0; n0 < g->n; n0 += nb) {
    int64_t m = g->n - n0 < nb ? g->n - n0 : nb;
    const float *src = gy + n0 * g->o * L;
    vol2col(g, x, n0, m, s.col);
    if (m > 1) {
      grid_to_rows(g, gy, n0, m, s.rows);
      src = s.rows;
    }
    float *dst = n0 ? s.part : gw;
    lg_sgemm(false, true, g->o, K, m * L, src, m * L, s.col, m * L, 0.0f, dst, K, true);
    if (n0) LG_PARALLEL_FOR(e, OK, OK >= LG_PAR_MIN, { gw[e] += s.part[e]; });
  }
  return 0;
}

/* }====================================================== */

/* {====================================================== validation */

static const char *const dim_name[3] = {"t", "h", "w"};

static lg_conv3d_opts opts_or_default(const lg_conv3d_opts *o) {
  lg_conv3d_opts d = {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}};
  return o ? *o : d;
}

static bool check_opts(const char *op, const lg_conv3d_opts *o, bool transposed) {
  for (int d = 0; d < 3; d++) {
    if (o->stride[d] < 1 || o->padding[d] < 0)
      return lg_seterr("%s: stride must be >= 1 and padding >= 0, got stride (%d,%d,%d) "
                       "padding (%d,%d,%d)", op, o->stride[0], o->stride[1], o->stride[2],
                       o->padding[0], o->padding[1], o->padding[2]), false;
    if (transposed && (o->output_padding[d] < 0 || o->output_padding[d] >= o->stride[d]))
      return lg_seterr("%s: output_padding (%d,%d,%d) must be >= 0 and smaller than stride "
                       "(%d,%d,%d)", op, o->output_padding[0], o->output_padding[1],
                       o->output_padding[2], o->stride[0], o->stride[1], o->stride[2]), false;
  }
  return true;
}

static bool check_5d(const char *op, const char *what, const char *layout, const lg_tensor *t) {
  char b[128];
  if (t->ndim == 5) return true;
  lg_seterr("%s: %s must be 5-D %s, got %s", op, what, layout, lg_shape_str(t, b, sizeof b));
  return false;
}

/* Positive and int-sized: conv3d_weight, which the backward passes call,
** takes the kernel as ints. */
static bool check_kernel_sides(const char *op, const int64_t *k) {
  for (int d = 0; d < 3; d++)
    if (k[d] < 1 || k[d] > INT_MAX)
      return lg_seterr("%s: kernel %lldx%lldx%lld must have sides in 1..%d", op,
                       (long long)k[0], (long long)k[1], (long long)k[2], INT_MAX), false;
  return true;
}

/* conv3d and conv3d_weight: the kernel must fit the padded volume along
** each dim; sets the grid size. */
static bool check_kernel(const char *op, geom *g, const lg_tensor *volume) {
  char b[128];
  if (!check_kernel_sides(op, g->k)) return false;
  for (int d = 0; d < 3; d++) {
    if (lg_window_count(g->d[d], g->p[d], g->k[d], g->s[d], &g->g[d])) continue;
    return lg_seterr("%s: kernel %lldx%lldx%lld does not fit the input %s padded by (%lld,%lld,"
                     "%lld) along %s", op, (long long)g->k[0], (long long)g->k[1],
                     (long long)g->k[2], lg_shape_str(volume, b, sizeof b), (long long)g->p[0],
                     (long long)g->p[1], (long long)g->p[2], dim_name[d]), false;
  }
  return true;
}

/* The products the kernels take, checked once: K = C kt kh kw, L = To Ho
** Wo, N L and one sample's workspace (K + O) L + O K.  K, O and N L are
** sgemm dims (int for cblas_sgemm), the workspace at most LG_MAX_NUMEL
** floats; chunk_samples' nb K L and get_slots' sums then stay far below
** 2^63. */
static bool check_sizes(const char *op, const geom *g) {
  char b1[128], b2[128];
  int64_t k, l, nl, ws, ok_;
  bool ok = lg_mul_ok(g->c, g->k[0], &k) && lg_mul_ok(k, g->k[1], &k) &&
            lg_mul_ok(k, g->k[2], &k) && lg_mul_ok(g->g[0], g->g[1], &l) &&
            lg_mul_ok(l, g->g[2], &l) && lg_mul_ok(g->n, l, &nl) && lg_add_ok(k, g->o, &ws) &&
            lg_mul_ok(ws, l, &ws) && lg_mul_ok(g->o, k, &ok_) && lg_add_ok(ws, ok_, &ws);
  if (ok && k <= INT_MAX && g->o <= INT_MAX && nl <= INT_MAX && ws <= LG_MAX_NUMEL) return true;
  int64_t volume[5] = {g->n, g->c, g->d[0], g->d[1], g->d[2]};
  int64_t grid[5] = {g->n, g->o, g->g[0], g->g[1], g->g[2]};
  lg_seterr("%s: input %s and output %s (kernel %lldx%lldx%lld) are too large for the vol2col "
            "workspace or one sgemm", op, lg_dims_str(volume, 5, b1, sizeof b1),
            lg_dims_str(grid, 5, b2, sizeof b2), (long long)g->k[0], (long long)g->k[1],
            (long long)g->k[2]);
  return false;
}

static void set_spatial(geom *g, const lg_conv3d_opts *o) {
  for (int d = 0; d < 3; d++) {
    g->s[d] = o->stride[d];
    g->p[d] = o->padding[d];
  }
}

static bool check_channels(const char *op, const lg_tensor *x, const lg_tensor *w, int wdim) {
  char b1[128];
  if (x->shape[1] == w->shape[wdim]) return true;
  lg_seterr("%s: input has %lld channels but weight %s expects %lld", op,
            (long long)x->shape[1], lg_shape_str(w, b1, sizeof b1), (long long)w->shape[wdim]);
  return false;
}

/* x [N,C,T,H,W], w [O,C,kt,kh,kw] */
static bool conv_geom(const char *op, const lg_tensor *x, const lg_tensor *w, const lg_tensor *b,
                      const lg_conv3d_opts *o, geom *g) {
  if (!check_opts(op, o, false) || !check_5d(op, "input", "[N,C,T,H,W]", x) ||
      !check_5d(op, "weight", "[cout,cin,kt,kh,kw]", w) || !check_channels(op, x, w, 1))
    return false;
  *g = (geom){.n = x->shape[0], .c = x->shape[1], .o = w->shape[0]};
  for (int d = 0; d < 3; d++) {
    g->d[d] = x->shape[2 + d];
    g->k[d] = w->shape[2 + d];
  }
  set_spatial(g, o);
  return check_kernel(op, g, x) && lg_conv_check_bias(op, b, g->o) && check_sizes(op, g);
}

/* x [N,Cin,T,H,W] is the grid, w [Cin,Cout,kt,kh,kw]; the output is the
** volume, (To - 1) s - 2 p + k + output_padding along each dim. */
static bool conv_transpose_geom(const char *op, const lg_tensor *x, const lg_tensor *w,
                                const lg_tensor *b, const lg_conv3d_opts *o, geom *g) {
  char b1[128];
  if (!check_opts(op, o, true) || !check_5d(op, "input", "[N,C,T,H,W]", x) ||
      !check_5d(op, "weight", "[cin,cout,kt,kh,kw]", w) || !check_channels(op, x, w, 0))
    return false;
  *g = (geom){.n = x->shape[0], .c = w->shape[1], .o = x->shape[1]};
  for (int d = 0; d < 3; d++) {
    g->g[d] = x->shape[2 + d];
    g->k[d] = w->shape[2 + d];
  }
  if (!check_kernel_sides(op, g->k)) return false;
  set_spatial(g, o);
  for (int d = 0; d < 3; d++) {
    if (g->g[d] < 1)
      return lg_seterr("%s: input %s must have positive sizes in its last three dims", op,
                       lg_shape_str(x, b1, sizeof b1)), false;
    /* the last two terms are ints */
    if (!lg_mul_ok(g->g[d] - 1, g->s[d], &g->d[d]) || !lg_add_ok(g->d[d], g->k[d], &g->d[d]) ||
        !lg_add_ok(g->d[d], o->output_padding[d] - 2 * g->p[d], &g->d[d]))
      return lg_seterr("%s: the output of input %s with stride (%d,%d,%d) is too large", op,
                       lg_shape_str(x, b1, sizeof b1), o->stride[0], o->stride[1],
                       o->stride[2]), false;
    if (g->d[d] < 1)
      return lg_seterr("%s: output size %lld along %s is not positive (input %s, kernel "
                       "%lldx%lldx%lld, padding (%d,%d,%d))", op, (long long)g->d[d],
                       dim_name[d], lg_shape_str(x, b1, sizeof b1), (long long)g->k[0],
                       (long long)g->k[1], (long long)g->k[2], o->padding[0], o->padding[1],
                       o->padding[2]), false;
  }
  return lg_conv_check_bias(op, b, g->c) && check_sizes(op, g);
}

/* x [N,C,T,H,W] the volume, gy [N,O,To,Ho,Wo] the grid. */
static bool conv_weight_geom(const char *op, const lg_tensor *x, const lg_tensor *gy,
                             const int *k, const lg_conv3d_opts *o, geom *g) {
  char b1[128], b2[128];
  if (!check_opts(op, o, false) || !check_5d(op, "input", "[N,C,T,H,W]", x) ||
      !check_5d(op, "grad_output", "[N,O,To,Ho,Wo]", gy))
    return false;
  *g = (geom){.n = x->shape[0], .c = x->shape[1], .o = gy->shape[1]};
  for (int d = 0; d < 3; d++) {
    g->d[d] = x->shape[2 + d];
    g->k[d] = k[d];
  }
  set_spatial(g, o);
  if (!check_kernel(op, g, x)) return false;
  if (gy->shape[0] != g->n || gy->shape[2] != g->g[0] || gy->shape[3] != g->g[1] ||
      gy->shape[4] != g->g[2])
    return lg_seterr("%s: grad_output %s does not match input %s (expected "
                     "[%lld,*,%lld,%lld,%lld])", op, lg_shape_str(gy, b1, sizeof b1),
                     lg_shape_str(x, b2, sizeof b2), (long long)g->n, (long long)g->g[0],
                     (long long)g->g[1], (long long)g->g[2]), false;
  return check_sizes(op, g);
}

/* }====================================================== */

/* {====================================================== backward
** As in ops_conv.c: with y = conv3d(x, w), gx = conv_transpose3d(g, w) with
** the output padding that restores x's size, gw = conv3d_weight(x, g); with
** y = conv_transpose3d(x, w), gx = conv3d(g, w), gw = conv3d_weight(g, x);
** conv3d_weight(x, gy) is bilinear, so for an incoming G, d/dgy = conv3d(x,
** G) and d/dx = conv_transpose3d(gy, G).  The bias gradient sums g over all
** but the channel dim with sum_to, itself differentiable. */

enum { I_STRIDE = 0, I_PAD = 3, I_OUTPAD = 6, I_KERNEL = 9 };

static void save_opts(lg_node *n, const lg_conv3d_opts *o, const geom *g) {
  for (int d = 0; d < 3; d++) {
    n->ints[I_STRIDE + d] = o->stride[d];
    n->ints[I_PAD + d] = o->padding[d];
    n->ints[I_OUTPAD + d] = o->output_padding[d];
    n->ints[I_KERNEL + d] = g->k[d];
  }
}

static lg_conv3d_opts node_opts(const lg_node *n, int *k) {
  lg_conv3d_opts o;
  for (int d = 0; d < 3; d++) {
    o.stride[d] = (int)n->ints[I_STRIDE + d];
    o.padding[d] = (int)n->ints[I_PAD + d];
    o.output_padding[d] = (int)n->ints[I_OUTPAD + d];
    k[d] = (int)n->ints[I_KERNEL + d];
  }
  return o;
}

/* Options for the conv_transpose3d that maps a conv3d's output gradient
** back onto the volume of x (the planes the last window never reached get
** zero gradient). */
static lg_conv3d_opts adjoint_opts(lg_conv3d_opts o, const lg_tensor *x, const int *k) {
  for (int d = 0; d < 3; d++)
    o.output_padding[d] = (int)((x->shape[2 + d] + 2 * (int64_t)o.padding[d] - k[d]) %
                                o.stride[d]);
  return o;
}

static lg_tensor *bias_grad(lg_tensor *g) {
  int64_t c = g->shape[1], down[4] = {c, 1, 1, 1};
  lg_tensor *s = lg_sum_to(g, 4, down), *v = s ? lg_view(s, 1, &c) : NULL;
  lg_release(s);
  return v;
}

static int bw_conv3d(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *w = n->inputs[1];
  int k[3];
  lg_conv3d_opts o = node_opts(n, k);
  if (lg_wants_grad(n, 0)) {
    lg_conv3d_opts a = adjoint_opts(o, x, k);
    if (!(gin[0] = lg_conv_transpose3d(g, w, NULL, &a))) return -1;
  }
  if (lg_wants_grad(n, 1) && !(gin[1] = lg_conv3d_weight(x, g, k, &o))) return -1;
  if (lg_wants_grad(n, 2) && !(gin[2] = bias_grad(g))) return -1;
  return 0;
}

static int bw_conv_transpose3d(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *w = n->inputs[1];
  int k[3];
  lg_conv3d_opts o = node_opts(n, k);
  if (lg_wants_grad(n, 0) && !(gin[0] = lg_conv3d(g, w, NULL, &o))) return -1;
  if (lg_wants_grad(n, 1) && !(gin[1] = lg_conv3d_weight(g, x, k, &o))) return -1;
  if (lg_wants_grad(n, 2) && !(gin[2] = bias_grad(g))) return -1;
  return 0;
}

static int bw_conv3d_weight(lg_node *n, lg_tensor *gw, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *gy = n->inputs[1];
  int k[3];
  lg_conv3d_opts o = node_opts(n, k);
  if (lg_wants_grad(n, 0)) {
    lg_conv3d_opts a = adjoint_opts(o, x, k);
    if (!(gin[0] = lg_conv_transpose3d(gy, gw, NULL, &a))) return -1;
  }
  if (lg_wants_grad(n, 1) && !(gin[1] = lg_conv3d(x, gw, NULL, &o))) return -1;
  return 0;
}

/* }====================================================== */

/* {====================================================== the ops */

typedef int (*conv_kernel)(const geom *g, const float *a, const float *b, const float *bias,
                           float *out);

static int weight_kernel(const geom *g, const float *x, const float *gy, const float *bias,
                         float *gw) {
  (void)bias;
  return conv_weight_forward(g, x, gy, gw);
}

/* Runs a kernel on contiguous copies of in[0..2] (in[2] may be NULL) and
** records the node with the options and the kernel size. */
static lg_tensor *run(const char *name, conv_kernel kernel, lg_backward_fn bw, const geom *g,
                      lg_tensor **in, const int64_t *out_shape, const lg_conv3d_opts *o) {
  lg_tensor *d[3] = {NULL, NULL, NULL}, *out = NULL;
  if (!lg_check_shape(name, 5, out_shape)) return NULL;
  for (int i = 0; i < 3; i++)
    if (in[i] && !(d[i] = lg_dense(in[i]))) goto done;
  if (!(out = lg_empty(5, out_shape))) goto done;
  if (out->numel > 0 &&
      kernel(g, lg_data(d[0]), lg_data(d[1]), d[2] ? lg_data(d[2]) : NULL, lg_data(out))) {
    lg_release(out);
    out = NULL;
    goto done;
  }
  if (lg_any_needs_grad(3, in)) {
    lg_node *node = lg_attach(out, name, bw, 3, in);
    if (!node) {
      lg_release(out);
      out = NULL;
      goto done;
    }
    save_opts(node, o, g);
  }
done:
  for (int i = 0; i < 3; i++) lg_release(d[i]);
  return out;
}

lg_tensor *lg_conv3d(lg_tensor *x, lg_tensor *w, lg_tensor *b, const lg_conv3d_opts *o) {
  lg_conv3d_opts opt = opts_or_default(o);
  geom g;
  if (!conv_geom("conv3d", x, w, b, &opt, &g)) return NULL;
  lg_tensor *in[3] = {x, w, b};
  int64_t shape[5] = {g.n, g.o, g.g[0], g.g[1], g.g[2]};
  return run("conv3d", conv_forward, bw_conv3d, &g, in, shape, &opt);
}

lg_tensor *lg_conv_transpose3d(lg_tensor *x, lg_tensor *w, lg_tensor *b,
                               const lg_conv3d_opts *o) {
  lg_conv3d_opts opt = opts_or_default(o);
  geom g;
  if (!conv_transpose_geom("conv_transpose3d", x, w, b, &opt, &g)) return NULL;
  lg_tensor *in[3] = {x, w, b};
  int64_t shape[5] = {g.n, g.c, g.d[0], g.d[1], g.d[2]};
  return run("conv_transpose3d", conv_transpose_forward, bw_conv_transpose3d, &g, in, shape,
             &opt);
}

lg_tensor *lg_conv3d_weight(lg_tensor *x, lg_tensor *gy, const int *k, const lg_conv3d_opts *o) {
  lg_conv3d_opts opt = opts_or_default(o);
  geom g;
  if (!conv_weight_geom("conv3d_weight", x, gy, k, &opt, &g)) return NULL;
  lg_tensor *in[3] = {x, gy, NULL};
  int64_t shape[5] = {g.o, g.c, g.k[0], g.k[1], g.k[2]};
  return run("conv3d_weight", weight_kernel, bw_conv3d_weight, &g, in, shape, &opt);
}

/* }====================================================== */
