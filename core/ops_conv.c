/*
** Convolutions: conv2d, conv_transpose2d, and conv2d_weight (the weight
** gradient of conv2d as an op of its own).
**
** One geometry serves all three.  An "image" [N,C,H,W] is what conv2d reads
** and conv_transpose2d writes; a "grid" [N,O,Ho,Wo] is what conv2d writes and
** conv_transpose2d reads, with Ho = (H + 2ph - kh)/sh + 1.  The weight is the
** matrix W [O, K], K = C*kh*kw, in both cases: PyTorch's conv layout
** [cout,cin,kh,kw] and transposed layout [cin,cout,kh,kw] are the same
** matrix seen from its two sides.  For a chunk of nb samples, L = Ho*Wo,
**
**   col [K, nb*L],  col[(c,i,j)][(n,oh,ow)] = image[n, c, oh*sh-ph+i, ow*sw-pw+j]
**                   (zero where that falls in the padding)
**   conv2d            grid  = W col               im2col, then sgemm
**   conv_transpose2d  image = col2im(W^T grid)    sgemm, then col2im
**   conv2d_weight     W     = grid col^T          im2col, then sgemm
**
** (col2im is the adjoint of im2col: it sums each column entry back into the
** image pixel it was copied from.)  Each backward is made of the other ops,
** so gradients of gradients work -- WGAN-GP on a conv critic.
**
** Stride-1 shapes whose output rows fill the vector tiles (the refiner's
** 3x3 convs on 28x28) skip the column matrix: conv_direct.c computes all
** three from a zero-padded copy of each sample, and 3x3 ones with enough
** channels go through Winograd instead (conv_winograd.c for conv2d and
** conv_transpose2d, conv_winograd_weight.c for conv2d_weight);
** conv_forward, conv_transpose_forward and conv_weight_forward choose.
**
** The column matrices live in one workspace buffer kept across calls, grown
** when a larger layer comes along, so steady-state training does no malloc
** here.  The core is driven from one thread, as the buffer pool is; the
** drivers below fork their own threads over batch chunks, each with a slot
** of the workspace.
*/
#include "conv_direct.h"
#include "conv_winograd.h"
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int64_t n, c, h, w;      /* image */
  int64_t o, ho, wo;       /* grid channels and size */
  int64_t kh, kw, sh, sw, ph, pw;
} geom;

static int64_t cols_k(const geom *g) { return g->c * g->kh * g->kw; }
static int64_t cols_l(const geom *g) { return g->ho * g->wo; }

/* A 1x1 conv at stride 1 without padding: one sample's column matrix is
** the sample itself ([C, H*W]), so no im2col (SimGAN's refiner ends in one,
** 16 -> 1 channels on 28x28: 800K floats copied per call). */
static bool pointwise(const geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* {====================================================== workspace */

static float *workspace;
static size_t workspace_floats;

/* The old contents are not kept: every user fills what it reads.  The 3-D
** convolutions (ops_conv3d.c) share it. */
float *lg_conv_workspace(size_t nfloat) {
  if (nfloat <= workspace_floats) return workspace;
  size_t bytes = (nfloat * sizeof(float) + 63) & ~(size_t)63;
  lg_conv_workspace_free();              /* before allocating: halve the peak */
  workspace = aligned_alloc(64, bytes);
  if (!workspace) return lg_seterr("conv: out of memory for a %zu-byte workspace", bytes);
  workspace_floats = bytes / sizeof(float);
  return workspace;
}

void lg_conv_workspace_free(void) {
  free(workspace);
  workspace = NULL;
  workspace_floats = 0;
}

/* }====================================================== */

/* {====================================================== kernels */

/* One row of col for tap (c, i, j) over samples n0 .. n0+nb-1.  `sw` is a
** parameter so that im2col can pass the common strides as constants, which
** lets the compiler specialise the strided copy. */
static inline void im2col_row(const geom *g, const float *image, int64_t n0, int64_t nb,
                              int64_t c, int64_t i, int64_t j, int64_t sw, float *dst) {
  int64_t lo, hi, shift = j - g->pw;                 /* ow reads src[ow*sw + shift] */
  lg_conv_span(j, g->pw, sw, g->w, g->wo, &lo, &hi);
  for (int64_t n = n0; n < n0 + nb; n++) {
    const float *plane = image + (n * g->c + c) * g->h * g->w;
    for (int64_t oh = 0; oh < g->ho; oh++, dst += g->wo) {
      int64_t ih = oh * g->sh - g->ph + i, ow = 0;
      if (ih < 0 || ih >= g->h) {
        memset(dst, 0, (size_t)g->wo * sizeof(float));
        continue;
      }
      const float *src = plane + ih * g->w;
      for (; ow < lo; ow++) dst[ow] = 0.0f;
      for (; ow < hi; ow++) dst[ow] = src[ow * sw + shift];
      for (; ow < g->wo; ow++) dst[ow] = 0.0f;
    }
  }
}

#ifdef __AVX512F__
/* {------------------------------------------------------ rows in registers
** When an image row fits two vectors (W <= 32) and a grid row one (Wo <= 16)
** -- the 28 and 32 px layers -- a row of col is one permute of the image row:
** lane ow of tap column j reads image column ow*sw + j - pw.  col2im the
** other way round: lane iw of the image row takes grid lane (iw + pw - j)/sw
** when that divides.  The index vectors depend on j alone, so they are made
** once per call; the scalar loops had to pay for a branch per 7 floats. */
#include <immintrin.h>

#define VEC_MAX_KW 16

typedef struct {
  __m512i idx[2];           /* im2col: idx[0]; col2im: one per half of the image row */
  __mmask16 valid[2];
} row_lanes;

static bool rows_fit(const geom *g) {
  return g->w <= 32 && g->wo <= 16 && g->kw <= VEC_MAX_KW;
}

static __mmask16 first_bits(int64_t count) {
  return count >= 16 ? (__mmask16)0xffff : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

static void im2col_lanes(const geom *g, row_lanes *t) {
  for (int64_t j = 0; j < g->kw; j++) {
    int32_t idx[16] = {0};
    int64_t lo, hi;
    lg_conv_span(j, g->pw, g->sw, g->w, g->wo, &lo, &hi);
    for (int64_t ow = lo; ow < hi; ow++) idx[ow] = (int32_t)(ow * g->sw + j - g->pw);
    t[j].idx[0] = _mm512_loadu_si512(idx);
    t[j].valid[0] = (__mmask16)(first_bits(hi) & ~first_bits(lo));
  }
}

static void col2im_lanes(const geom *g, row_lanes *t) {
  for (int64_t j = 0; j < g->kw; j++) {
    int32_t idx[32] = {0};
    uint32_t valid = 0;
    for (int64_t iw = 0; iw < g->w; iw++) {
      int64_t u = iw + g->pw - j;
      if (u < 0 || u % g->sw || u / g->sw >= g->wo) continue;
      idx[iw] = (int32_t)(u / g->sw);
      valid |= 1u << iw;
    }
    t[j].idx[0] = _mm512_loadu_si512(idx);
    t[j].idx[1] = _mm512_loadu_si512(idx + 16);
    t[j].valid[0] = (__mmask16)(valid & 0xffff);
    t[j].valid[1] = (__mmask16)(valid >> 16);
  }
}

static void im2col_row_vec(const geom *g, const float *image, int64_t n0, int64_t nb, int64_t c,
                           int64_t i, const row_lanes *t, float *dst) {
  __mmask16 out = first_bits(g->wo), in0 = first_bits(g->w), in1 = first_bits(g->w - 16);
  for (int64_t n = n0; n < n0 + nb; n++) {
    const float *plane = image + (n * g->c + c) * g->h * g->w;
    for (int64_t oh = 0; oh < g->ho; oh++, dst += g->wo) {
      int64_t ih = oh * g->sh - g->ph + i;
      __m512 v = _mm512_setzero_ps();
      if (ih >= 0 && ih < g->h) {
        const float *src = plane + ih * g->w;
        __m512 s0 = _mm512_maskz_loadu_ps(in0, src), s1 = _mm512_maskz_loadu_ps(in1, src + 16);
        v = _mm512_maskz_permutex2var_ps(t->valid[0], s0, t->idx[0], s1);
      }
      _mm512_mask_storeu_ps(dst, out, v);
    }
  }
}

static void col2im_row_vec(const geom *g, const float *col, int64_t nb, int64_t n, int64_t c,
                           int64_t ih, const row_lanes *t, float b, float *dst) {
  int64_t L = cols_l(g), ld = nb * L;
  __m512 acc0 = _mm512_set1_ps(b), acc1 = acc0;
  __mmask16 in = first_bits(g->wo);
  for (int64_t i = 0; i < g->kh; i++) {
    int64_t u = ih + g->ph - i, oh = u / g->sh;
    if (u < 0 || u % g->sh || oh >= g->ho) continue;
    for (int64_t j = 0; j < g->kw; j++) {
      const float *src = col + ((c * g->kh + i) * g->kw + j) * ld + n * L + oh * g->wo;
      __m512 s = _mm512_maskz_loadu_ps(in, src);
      acc0 = _mm512_add_ps(acc0, _mm512_maskz_permutexvar_ps(t[j].valid[0], t[j].idx[0], s));
      acc1 = _mm512_add_ps(acc1, _mm512_maskz_permutexvar_ps(t[j].valid[1], t[j].idx[1], s));
    }
  }
  _mm512_mask_storeu_ps(dst, first_bits(g->w), acc0);
  _mm512_mask_storeu_ps(dst + 16, first_bits(g->w - 16), acc1);
}

/* }------------------------------------------------------ */
#elif defined(__AVX2__) && defined(__FMA__)
/* {------------------------------------------------------ rows in registers, AVX2
** The same rows at 8 lanes a vector: a row of col is up to 2 vectors, an
** image row up to 4.  AVX2 has no two-table permute, so a lane is picked
** from each source vector by one permute and the right one kept by blends
** on the index's high bits.  The scalar rows took 27% of the U-Net step on
** a Haswell build (im2col 17%, col2im 11%).  The masks and masked loads
** and stores are conv_simd.h's. */
#include "conv_simd.h"

#define VEC_MAX_KW 16

typedef struct {
  __m256i idx[4];           /* im2col: per 8 grid lanes (2); col2im: per 8 image lanes (4) */
  __m256i valid[4];         /* -1 where the lane takes a value, 0 where it stays 0 */
} row_lanes;

static bool rows_fit(const geom *g) {
  return g->w <= 32 && g->wo <= 16 && g->kw <= VEC_MAX_KW;
}

static void set_lanes(const int32_t *idx, const int32_t *valid, int groups, row_lanes *t) {
  for (int q = 0; q < groups; q++) {
    t->idx[q] = _mm256_loadu_si256((const __m256i *)(idx + 8 * q));
    t->valid[q] = _mm256_loadu_si256((const __m256i *)(valid + 8 * q));
  }
}

static void im2col_lanes(const geom *g, row_lanes *t) {
  for (int64_t j = 0; j < g->kw; j++) {
    int32_t idx[16] = {0}, valid[16] = {0};
    int64_t lo, hi;
    lg_conv_span(j, g->pw, g->sw, g->w, g->wo, &lo, &hi);
    for (int64_t ow = lo; ow < hi; ow++) idx[ow] = (int32_t)(ow * g->sw + j - g->pw), valid[ow] = -1;
    set_lanes(idx, valid, 2, &t[j]);
  }
}

static void col2im_lanes(const geom *g, row_lanes *t) {
  for (int64_t j = 0; j < g->kw; j++) {
    int32_t idx[32] = {0}, valid[32] = {0};
    for (int64_t iw = 0; iw < g->w; iw++) {
      int64_t u = iw + g->pw - j;
      if (u < 0 || u % g->sw || u / g->sw >= g->wo) continue;
      idx[iw] = (int32_t)(u / g->sw), valid[iw] = -1;
    }
    set_lanes(idx, valid, 4, &t[j]);
  }
}

/* Lane l: lane idx[l] of the row held in s[0 .. nsrc-1], 0 where not valid. */
static inline __m256 pick(const __m256 *s, int nsrc, __m256i idx, __m256i valid) {
  __m256 r = _mm256_permutevar8x32_ps(s[0], idx);
  for (int k = 1; k < nsrc; k++) {
    __m256 later = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(8 * k - 1)));
    r = _mm256_blendv_ps(r, _mm256_permutevar8x32_ps(s[k], idx), later);
  }
  return _mm256_and_ps(r, _mm256_castsi256_ps(valid));
}

/* The first count (>= 1) lanes of v to dst: a plain store when all are. */
static inline void store_first(float *dst, vec v, int64_t count) {
  if (count >= VW) vstoreu(dst, v);
  else vstore_mask(dst, lanes(0, count), v);
}

static void im2col_row_vec(const geom *g, const float *image, int64_t n0, int64_t nb, int64_t c,
                           int64_t i, const row_lanes *t, float *dst) {
  int nsrc = (int)((g->w + 7) / 8), nout = (int)((g->wo + 7) / 8);
  vmask in[4];
  for (int k = 0; k < nsrc; k++) in[k] = lanes(0, g->w - 8 * k);
  for (int64_t n = n0; n < n0 + nb; n++) {
    const float *plane = image + (n * g->c + c) * g->h * g->w;
    for (int64_t oh = 0; oh < g->ho; oh++, dst += g->wo) {
      int64_t ih = oh * g->sh - g->ph + i;
      if (ih < 0 || ih >= g->h) {
        memset(dst, 0, (size_t)g->wo * sizeof(float));
        continue;
      }
      __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
      for (int k = 0; k < nsrc; k++) s[k] = vload_mask(plane + ih * g->w + 8 * k, in[k]);
      for (int q = 0; q < nout; q++)
        store_first(dst + 8 * q, pick(s, nsrc, t->idx[q], t->valid[q]), g->wo - 8 * q);
    }
  }
}

static void col2im_row_vec(const geom *g, const float *col, int64_t nb, int64_t n, int64_t c,
                           int64_t ih, const row_lanes *t, float b, float *dst) {
  int64_t L = cols_l(g), ld = nb * L;
  int nsrc = (int)((g->wo + 7) / 8), nout = (int)((g->w + 7) / 8);
  __m256 acc[4] = {_mm256_set1_ps(b), _mm256_set1_ps(b), _mm256_set1_ps(b), _mm256_set1_ps(b)};
  vmask in[2];
  for (int k = 0; k < nsrc; k++) in[k] = lanes(0, g->wo - 8 * k);
  for (int64_t i = 0; i < g->kh; i++) {
    int64_t u = ih + g->ph - i, oh = u / g->sh;
    if (u < 0 || u % g->sh || oh >= g->ho) continue;
    for (int64_t j = 0; j < g->kw; j++) {
      const float *src = col + ((c * g->kh + i) * g->kw + j) * ld + n * L + oh * g->wo;
      __m256 s[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
      for (int k = 0; k < nsrc; k++) s[k] = vload_mask(src + 8 * k, in[k]);
      for (int q = 0; q < nout; q++)
        acc[q] = _mm256_add_ps(acc[q], pick(s, nsrc, t[j].idx[q], t[j].valid[q]));
    }
  }
  for (int q = 0; q < nout; q++) store_first(dst + 8 * q, acc[q], g->w - 8 * q);
}

/* }------------------------------------------------------ */
#endif

/* col [K, nb*L] from samples n0 .. n0+nb-1 of image [N,C,H,W].  One thread
** per column row; rows are written front to back.  `par` false keeps this
** and the other kernels below on the calling thread (the drivers pass it
** inside their own parallel region). */
static void im2col(const geom *g, const float *image, int64_t n0, int64_t nb, bool par,
                   float *col) {
  int64_t K = cols_k(g), ld = nb * cols_l(g), kk = g->kh * g->kw;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  if (rows_fit(g)) {
    row_lanes t[VEC_MAX_KW];
    im2col_lanes(g, t);
    LG_PARALLEL_FOR(r, K, par && K * ld >= LG_PAR_MIN, {
      im2col_row_vec(g, image, n0, nb, r / kk, r % kk / g->kw, &t[r % g->kw], col + r * ld);
    });
    return;
  }
#endif
  LG_PARALLEL_FOR(r, K, par && K * ld >= LG_PAR_MIN, {
    int64_t c = r / kk, i = r % kk / g->kw, j = r % g->kw;
    if (g->sw == 1) im2col_row(g, image, n0, nb, c, i, j, 1, col + r * ld);
    else if (g->sw == 2) im2col_row(g, image, n0, nb, c, i, j, 2, col + r * ld);
    else im2col_row(g, image, n0, nb, c, i, j, g->sw, col + r * ld);
  });
}

/* Image row ih of channel c, sample n0+n: bias plus every column entry
** copied from it, summed over taps (i, j) in a fixed order.  `sw` as in
** im2col_row. */
static inline void col2im_row(const geom *g, const float *col, int64_t n0, int64_t nb,
                              int64_t n, int64_t c, int64_t ih, int64_t sw, float b,
                              float *image) {
  int64_t L = cols_l(g), ld = nb * L;
  float *dst = image + (((n0 + n) * g->c + c) * g->h + ih) * g->w;
  for (int64_t iw = 0; iw < g->w; iw++) dst[iw] = b;
  for (int64_t i = 0; i < g->kh; i++) {
    int64_t t = ih + g->ph - i, oh = t / g->sh;      /* the grid row that read ih at tap i */
    if (t < 0 || t % g->sh || oh >= g->ho) continue;
    for (int64_t j = 0; j < g->kw; j++) {
      int64_t lo, hi, shift = j - g->pw;
      lg_conv_span(j, g->pw, sw, g->w, g->wo, &lo, &hi);
      const float *src = col + ((c * g->kh + i) * g->kw + j) * ld + n * L + oh * g->wo;
      for (int64_t ow = lo; ow < hi; ow++) dst[ow * sw + shift] += src[ow];
    }
  }
}

/* Samples n0 .. n0+nb-1 of image = col2im(col) + bias.  Each image row is
** gathered by one thread, so results do not depend on the thread count. */
static void col2im(const geom *g, const float *col, int64_t n0, int64_t nb, const float *bias,
                   bool par, float *image) {
  int64_t rows = nb * g->c * g->h;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  if (rows_fit(g)) {
    row_lanes t[VEC_MAX_KW];
    col2im_lanes(g, t);
    LG_PARALLEL_FOR(r, rows, par && rows * g->w >= LG_PAR_MIN, {
      int64_t ih = r % g->h, c = r / g->h % g->c, n = r / (g->h * g->c);
      col2im_row_vec(g, col, nb, n, c, ih, t, bias ? bias[c] : 0.0f,
                     image + (((n0 + n) * g->c + c) * g->h + ih) * g->w);
    });
    return;
  }
#endif
  LG_PARALLEL_FOR(r, rows, par && rows * g->w >= LG_PAR_MIN, {
    int64_t ih = r % g->h, c = r / g->h % g->c, n = r / (g->h * g->c);
    float b = bias ? bias[c] : 0.0f;
    if (g->sw == 1) col2im_row(g, col, n0, nb, n, c, ih, 1, b, image);
    else if (g->sw == 2) col2im_row(g, col, n0, nb, n, c, ih, 2, b, image);
    else col2im_row(g, col, n0, nb, n, c, ih, g->sw, b, image);
  });
}

/* rows [O, nb*L] <- samples n0.. of grid [N,O,L]: the batch as one matrix. */
static void grid_to_rows(const geom *g, const float *grid, int64_t n0, int64_t nb, bool par,
                         float *rows) {
  int64_t L = cols_l(g), count = g->o * nb;
  LG_PARALLEL_FOR(t, count, par && count * L >= LG_PAR_MIN, {
    int64_t o = t / nb, n = t % nb;
    memcpy(rows + o * nb * L + n * L, grid + ((n0 + n) * g->o + o) * L, (size_t)L * sizeof(float));
  });
}

/* Samples n0.. of grid [N,O,L] <- rows [O, nb*L] + bias. */
static void rows_to_grid(const geom *g, const float *rows, int64_t n0, int64_t nb,
                         const float *bias, bool par, float *grid) {
  int64_t L = cols_l(g), count = g->o * nb;
  LG_PARALLEL_FOR(t, count, par && count * L >= LG_PAR_MIN, {
    int64_t n = t / g->o, o = t % g->o;
    const float *src = rows + o * nb * L + n * L;
    float *dst = grid + ((n0 + n) * g->o + o) * L, b = bias ? bias[o] : 0.0f;
    for (int64_t l = 0; l < L; l++) dst[l] = src[l] + b;
  });
}


/* }====================================================== */

/* {====================================================== drivers
** The batch is processed in chunks of nb samples.  A chunk of one sample
** needs no reshuffling (its grid slice is already the [O, L] matrix); a
** larger chunk makes one wider, more efficient sgemm at the price of a copy
** between the grid and rows layouts, and a chunk too large spills the
** column matrix out of cache.  On the dcgan-28 layers (batch 64, one
** thread, CPU time) chunks of 4..16 samples of a 7x7 grid ran 7-10% faster
** than single samples and 10-15% faster than the whole batch in one sgemm;
** for 14x14 grids single samples were best (measured with OpenBLAS; with
** lg_sgemm, 400 to 1600 columns were within 3% of each other, while 4 MB
** and 8 MB of columns cost 3% and 25% more).  With more threads the chunks
** run in parallel, each thread calling lg_sgemm on its own: a second
** thread gains little inside sgemms this small (dcgan-28 at 2 threads went
** from 11.9 to 14.5 it/s, 1 thread unchanged at 8.3, with OpenBLAS). */

#define CHUNK_COLS 400          /* aim for sgemms about this wide */
#define CHUNK_FLOATS (1 << 19)  /* 2 MB of columns: the L2 of one core */

/* The batch in `count` chunks; chunk c is samples [c*N/count, (c+1)*N/count),
** at most nb of them.  The split depends on the geometry alone, never on the
** thread count, so neither does any result.  An even count (when there is
** more than one chunk) gives two threads equal shares. */
typedef struct {
  int64_t count, nb;
} chunking;

static chunking chunk_plan(const geom *g) {
  int64_t L = cols_l(g) > 0 ? cols_l(g) : 1, K = cols_k(g);
  int64_t nb = (CHUNK_COLS + L - 1) / L;
  if (nb * K * L > CHUNK_FLOATS) nb = CHUNK_FLOATS / (K * L);
  if (nb > g->n) nb = g->n;
  if (nb < 1) nb = 1;
  chunking p = {g->n > 0 ? (g->n + nb - 1) / nb : 1, nb};
  if (p.count > 1 && p.count % 2 && p.count < g->n) p.count++;
  p.nb = (g->n + p.count - 1) / p.count;
  return p;
}

static int64_t chunk_start(const geom *g, const chunking *p, int64_t c) {
  return c * g->n / p->count;
}

/* Threads for the chunk loop: 1 runs the chunks in turn with each kernel
** (and lg_sgemm) split over the threads as before.  Otherwise each thread
** takes whole chunks and calls lg_sgemm from inside the parallel region,
** where it runs on the calling thread.  A small batch is not worth the fork
** (see LG_PAR_MIN). */
static int chunk_threads(const geom *g, const chunking *p) {
#ifdef _OPENMP
  if (p->count < 2 || omp_in_parallel()) return 1;
  if (g->n * cols_l(g) * (cols_k(g) + g->o) < LG_PAR_MIN) return 1;
  int64_t t = omp_get_max_threads();
  return (int)(t < p->count ? t : p->count);
#else
  (void)g;
  (void)p;
  return 1;
#endif
}

/* One thread's slot of the workspace: col [K, nb*L], then rows [O, nb*L]
** when nb > 1, rounded to whole cache lines. */
static size_t slot_floats(const geom *g, int64_t nb) {
  size_t per_sample = (size_t)(cols_k(g) + (nb > 1 ? g->o : 0)) * (size_t)cols_l(g);
  return (per_sample * (size_t)nb + 15) & ~(size_t)15;
}

static void conv_chunk(const geom *g, const float *x, const float *w, const float *bias,
                       int64_t n0, int64_t m, float *col, bool par, float *y) {
  int64_t K = cols_k(g), L = cols_l(g);
  const float *cols = col;
  if (m == 1 && pointwise(g)) cols = x + n0 * K * L;
  else im2col(g, x, n0, m, par, col);
  if (m == 1) {
    float *out = y + n0 * g->o * L;
    if (bias)
      for (int64_t o = 0; o < g->o; o++)
        for (int64_t l = 0; l < L; l++) out[o * L + l] = bias[o];
    lg_sgemm(false, false, g->o, L, K, w, K, cols, L, bias ? 1.0f : 0.0f, out, L, par);
  } else {
    float *rows = col + K * m * L;
    lg_sgemm(false, false, g->o, m * L, K, w, K, cols, m * L, 0.0f, rows, m * L, par);
    rows_to_grid(g, rows, n0, m, bias, par, y);
  }
}

static void conv_transpose_chunk(const geom *g, const float *x, const float *w,
                                 const float *bias, int64_t n0, int64_t m, float *col, bool par,
                                 float *y) {
  int64_t K = cols_k(g), L = cols_l(g);
  const float *src = x + n0 * g->o * L;
  if (m > 1) {
    float *rows = col + K * m * L;
    grid_to_rows(g, x, n0, m, par, rows);
    src = rows;
  }
  if (m == 1 && pointwise(g)) {   /* col2im would be a copy: write the image itself */
    float *out = y + n0 * K * L;
    if (bias)
      for (int64_t c = 0; c < K; c++)
        for (int64_t l = 0; l < L; l++) out[c * L + l] = bias[c];
    lg_sgemm(true, false, K, L, g->o, w, K, src, L, bias ? 1.0f : 0.0f, out, L, par);
    return;
  }
  lg_sgemm(true, false, K, m * L, g->o, w, K, src, m * L, 0.0f, col, m * L, par);
  col2im(g, col, n0, m, bias, par, y);
}

/* dst [O, K] = this chunk's share of the weight gradient. */
static void conv_weight_chunk(const geom *g, const float *x, const float *gy, int64_t n0,
                              int64_t m, float *col, bool par, float *dst) {
  int64_t K = cols_k(g), L = cols_l(g);
  const float *src = gy + n0 * g->o * L;
  const float *cols = col;
  if (m == 1 && pointwise(g)) cols = x + n0 * K * L;
  else im2col(g, x, n0, m, par, col);
  if (m > 1) {
    float *rows = col + K * m * L;
    grid_to_rows(g, gy, n0, m, par, rows);
    src = rows;
  }
  lg_sgemm(false, true, g->o, K, m * L, src, m * L, cols, m * L, 0.0f, dst, K, par);
}

typedef void (*chunk_fn)(const geom *g, const float *a, const float *b, const float *bias,
                         int64_t n0, int64_t m, float *col, bool par, float *out);

/* The activation over samples n0 .. n0+m-1 of out (per_sample floats
** each), while the chunk just written is still in cache. */
static void chunk_epilogue(lg_epilogue ep, int64_t per_sample, int64_t n0, int64_t m, bool par,
                           float *out) {
  if (ep.act == LG_ACT_NONE && !ep.add) return;
  int64_t first = n0 * per_sample, count = m * per_sample;
  LG_PARALLEL_FOR(i, count, par && count >= LG_PAR_MIN, {
    out[first + i] = lg_epilogue_apply(ep, out[first + i], first + i);
  });
}

/* conv2d and conv_transpose2d: chunks write disjoint samples of the output
** (per_sample floats each), then apply the activation to them. */
static int run_chunks(const geom *g, chunk_fn fn, const float *a, const float *b,
                      const float *bias, lg_epilogue ep, int64_t per_sample, float *out) {
  chunking p = chunk_plan(g);
  int threads = chunk_threads(g, &p);
  size_t slot = slot_floats(g, p.nb);
  float *ws = lg_conv_workspace(slot * (size_t)threads);
  if (!ws) return -1;
  if (threads == 1) {
    for (int64_t c = 0; c < p.count; c++) {
      int64_t n0 = chunk_start(g, &p, c), m = chunk_start(g, &p, c + 1) - n0;
      fn(g, a, b, bias, n0, m, ws, true, out);
      chunk_epilogue(ep, per_sample, n0, m, true, out);
    }
    return 0;
  }
  #pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < p.count; c++) {
    int64_t n0 = chunk_start(g, &p, c), m = chunk_start(g, &p, c + 1) - n0;
    fn(g, a, b, bias, n0, m, ws + slot * (size_t)lg_thread_num(), false, out);
    chunk_epilogue(ep, per_sample, n0, m, false, out);
  }
  return 0;
}

/* Stride 1: 3x3 with enough channels goes to Winograd F(2x2,3x3)
** (conv_winograd.c), the rest with enough output channels and columns to
** the direct kernel (conv_direct.c), the rest through the column matrix. */
static int conv_forward(const geom *g, const float *x, const float *w, const float *bias,
                        lg_epilogue ep, float *y) {
  lg_direct_geom d = {g->n, g->c, g->h, g->w, g->o, g->ho, g->wo, g->kh, g->kw, g->ph, g->pw};
  if (g->sh == 1 && g->sw == 1 && g->kh == 3 && g->kw == 3 &&
      lg_conv_winograd_ok(g->c, g->o, g->ho, g->wo))
    return lg_conv_winograd(&d, x, w, false, bias, ep, y);
  if (g->sh == 1 && g->sw == 1 && lg_conv_direct_ok(g->o, g->wo, g->kw))
    return lg_conv_direct(&d, x, w, false, bias, ep, y);
  return run_chunks(g, conv_chunk, x, w, bias, ep, g->o * cols_l(g), y);
}

/* At stride 1 (so no output padding) conv_transpose2d(x, w) is conv2d of x
** with w's channels swapped, turned by 180 degrees, and padding k - 1 - p. */
static int conv_transpose_forward(const geom *g, const float *x, const float *w,
                                  const float *bias, lg_epilogue ep, float *y) {
  lg_direct_geom d = {g->n, g->o, g->ho, g->wo, g->c, g->h, g->w, g->kh, g->kw,
                      g->kh - 1 - g->ph, g->kw - 1 - g->pw};
  bool s1 = g->sh == 1 && g->sw == 1 && g->ph < g->kh && g->pw < g->kw;
  if (s1 && g->kh == 3 && g->kw == 3 && lg_conv_winograd_ok(g->o, g->c, g->h, g->w))
    return lg_conv_winograd(&d, x, w, true, bias, ep, y);
  if (s1 && lg_conv_direct_ok(g->c, g->w, g->kw)) return lg_conv_direct(&d, x, w, true, bias, ep, y);
  return run_chunks(g, conv_transpose_chunk, x, w, bias, ep, g->c * g->h * g->w, y);
}

/* gw[b .. b+len-1] += partials i0 .. last-1, one partial after the other
** so that each pass is a vector loop (the block stays in L1 between
** passes); every element still gets its additions in chunk order. */
enum { FOLD_BLOCK = 2048 };
static void fold_block(float *gw, const float *partials, size_t part, int64_t i0,
                       int64_t last, int64_t b, int64_t len) {
  for (int64_t i = i0; i < last; i++) {
    const float *src = partials + part * (size_t)i + b;
    float *dst = gw + b;
    for (int64_t e = 0; e < len; e++) dst[e] += src[e];
  }
}

/* gw = P_0 + P_1 + ... summed left to right, P_c the gradient of chunk c
** alone.  Chunk 0 writes gw itself; the others go to partial buffers, one per
** chunk of a wave, and each wave is folded into gw in chunk order.  A wave
** is as many chunks as FOLD_FLOATS of partials hold (at least one per
** thread): each wave costs two barriers, which a batch of many small chunks
** would otherwise pay once per thread's chunk.  Every P_c and every
** addition is the same whatever the thread count, so gw is bitwise the
** same too. */
#define FOLD_FLOATS (2 * CHUNK_FLOATS)
static int conv_weight_forward(const geom *g, const float *x, const float *gy, float *gw) {
  int64_t K = cols_k(g), L = cols_l(g), OK = g->o * K;
  if (g->n == 0 || L == 0) {
    memset(gw, 0, (size_t)OK * sizeof(float));
    return 0;
  }
  if (g->sh == 1 && g->sw == 1) {
    lg_direct_geom d = {g->n, g->c, g->h, g->w, g->o, g->ho, g->wo, g->kh, g->kw, g->ph, g->pw};
    if (g->kh == 3 && g->kw == 3 && lg_conv_winograd_weight_ok(g->c, g->o, g->ho, g->wo))
      return lg_conv_winograd_weight(&d, x, gy, gw);
    if (lg_conv_direct_weight_ok(g->o, g->wo, g->kw)) return lg_conv_direct_weight(&d, x, gy, gw);
  }
  chunking p = chunk_plan(g);
  int threads = chunk_threads(g, &p);
  size_t slot = slot_floats(g, p.nb), part = ((size_t)OK + 15) & ~(size_t)15;
  int64_t wave = threads * (int64_t)(FOLD_FLOATS / (part * (size_t)threads));
  if (wave < threads) wave = threads;
  if (wave > p.count) wave = p.count;
  float *ws = lg_conv_workspace(slot * (size_t)threads + (p.count > 1 ? part : 0) * (size_t)wave);
  if (!ws) return -1;
  float *partials = ws + slot * (size_t)threads;
  if (threads == 1) {
    for (int64_t c = 0; c < p.count; c++) {
      int64_t n0 = chunk_start(g, &p, c);
      conv_weight_chunk(g, x, gy, n0, chunk_start(g, &p, c + 1) - n0, ws, true,
                        c ? partials : gw);
      if (c) LG_PARALLEL_FOR(e, OK, OK >= LG_PAR_MIN, { gw[e] += partials[e]; });
    }
    return 0;
  }
  #pragma omp parallel num_threads(threads)
  {
    float *col = ws + slot * (size_t)lg_thread_num();
    for (int64_t c0 = 0; c0 < p.count; c0 += wave) {
      int64_t last = p.count - c0 < wave ? p.count - c0 : wave;
      #pragma omp for schedule(static)
      for (int64_t i = 0; i < last; i++) {
        int64_t c = c0 + i, n0 = chunk_start(g, &p, c);
        conv_weight_chunk(g, x, gy, n0, chunk_start(g, &p, c + 1) - n0, col, false,
                          c ? partials + part * (size_t)i : gw);
      }
      #pragma omp for schedule(static)
      for (int64_t b = 0; b < OK; b += FOLD_BLOCK)
        fold_block(gw, partials, part, c0 ? 0 : 1, last, b,
                   OK - b < FOLD_BLOCK ? OK - b : FOLD_BLOCK);
    }
  }
  return 0;
}

/* }====================================================== */

/* {====================================================== validation */

static lg_conv_opts opts_or_default(const lg_conv_opts *o) {
  lg_conv_opts d = {{1, 1}, {0, 0}, {0, 0}};
  return o ? *o : d;
}

static bool check_opts(const char *op, const lg_conv_opts *o, bool transposed) {
  if (o->stride[0] < 1 || o->stride[1] < 1 || o->padding[0] < 0 || o->padding[1] < 0)
    return lg_seterr("%s: stride must be >= 1 and padding >= 0, got stride (%d,%d) padding "
                     "(%d,%d)", op, o->stride[0], o->stride[1], o->padding[0], o->padding[1]),
           false;
  if (transposed && (o->output_padding[0] < 0 || o->output_padding[1] < 0 ||
                     o->output_padding[0] >= o->stride[0] || o->output_padding[1] >= o->stride[1]))
    return lg_seterr("%s: output_padding (%d,%d) must be >= 0 and smaller than stride (%d,%d)",
                     op, o->output_padding[0], o->output_padding[1], o->stride[0],
                     o->stride[1]),
           false;
  return true;
}

static bool check_4d(const char *op, const char *what, const char *layout, const lg_tensor *t) {
  char b[128];
  if (t->ndim == 4) return true;
  lg_seterr("%s: %s must be 4-D %s, got %s", op, what, layout, lg_shape_str(t, b, sizeof b));
  return false;
}

/* The kernel's sides: positive, and int-sized, since conv2d_weight (which
** the backward passes call) takes them as int. */
static bool check_kernel_sides(const char *op, int64_t kh, int64_t kw) {
  if (kh < 1 || kw < 1)
    return lg_seterr("%s: kernel size must be positive, got %lldx%lld", op, (long long)kh,
                     (long long)kw), false;
  if (kh > INT_MAX || kw > INT_MAX)
    return lg_seterr("%s: kernel %lldx%lld is too large (at most %d per side)", op,
                     (long long)kh, (long long)kw, INT_MAX), false;
  return true;
}

/* conv2d and conv2d_weight: the kernel must fit the padded image; sets the
** grid size ho x wo. */
static bool check_kernel(const char *op, geom *g, const lg_tensor *image) {
  char b[128];
  if (!check_kernel_sides(op, g->kh, g->kw)) return false;
  if (lg_window_count(g->h, g->ph, g->kh, g->sh, &g->ho) &&
      lg_window_count(g->w, g->pw, g->kw, g->sw, &g->wo))
    return true;
  int64_t ph, pw;   /* 2 * padding fits: padding is an int */
  if (!lg_add_ok(g->h, 2 * g->ph, &ph) || !lg_add_ok(g->w, 2 * g->pw, &pw))
    return lg_seterr("%s: the padded input is too large (input %s, padding (%lld,%lld))", op,
                     lg_shape_str(image, b, sizeof b), (long long)g->ph, (long long)g->pw),
           false;
  return lg_seterr("%s: kernel %lldx%lld is larger than the padded input %lldx%lld "
                   "(input %s, padding (%lld,%lld))", op, (long long)g->kh, (long long)g->kw,
                   (long long)ph, (long long)pw, lg_shape_str(image, b, sizeof b),
                   (long long)g->ph, (long long)g->pw),
         false;
}

bool lg_conv_check_bias(const char *op, const lg_tensor *b, int64_t channels) {
  char s[128];
  if (!b || (b->ndim == 1 && b->shape[0] == channels)) return true;
  lg_seterr("%s: bias must be [%lld], got %s", op, (long long)channels,
            lg_shape_str(b, s, sizeof s));
  return false;
}

/* The products the kernels take, checked once here: K = C kh kw, L = Ho Wo,
** N L, and one sample's workspace (K + O) L.  (A padding of 2^31 - 1 made L
** = 2^64, which wrapped to 0, and im2col wrote past the workspace.)  K, O
** and N L are sgemm dims, and cblas_sgemm (lg_sgemm's fallback) takes int;
** the workspace per sample is at most LG_MAX_NUMEL floats.  With these
** bounds the later products -- chunk_plan's nb K L, slot_floats, chunk_threads'
** N L (K + O) -- stay far below 2^63. */
static bool check_sizes(const char *op, const geom *g) {
  char b1[128], b2[128];
  int64_t k, l, nl, ws;
  bool ok = lg_mul_ok(g->c, g->kh, &k) && lg_mul_ok(k, g->kw, &k) &&
            lg_mul_ok(g->ho, g->wo, &l) && lg_mul_ok(g->n, l, &nl) &&
            lg_add_ok(k, g->o, &ws) && lg_mul_ok(ws, l, &ws);
  if (ok && k <= INT_MAX && g->o <= INT_MAX && nl <= INT_MAX && ws <= LG_MAX_NUMEL) return true;
  int64_t image[4] = {g->n, g->c, g->h, g->w}, grid[4] = {g->n, g->o, g->ho, g->wo};
  lg_seterr("%s: image %s and grid %s (kernel %lldx%lld, stride (%lld,%lld), padding "
            "(%lld,%lld)) are too large for the im2col workspace or one sgemm", op,
            lg_dims_str(image, 4, b1, sizeof b1), lg_dims_str(grid, 4, b2, sizeof b2),
            (long long)g->kh, (long long)g->kw, (long long)g->sh, (long long)g->sw,
            (long long)g->ph, (long long)g->pw);
  return false;
}

static void set_spatial(geom *g, const lg_conv_opts *o) {
  g->sh = o->stride[0];
  g->sw = o->stride[1];
  g->ph = o->padding[0];
  g->pw = o->padding[1];
}

/* x [N,C,H,W], w [O,C,kh,kw] */
static bool conv_geom(const char *op, const lg_tensor *x, const lg_tensor *w, const lg_tensor *b,
                      const lg_conv_opts *o, geom *g) {
  char b1[128];
  if (!check_opts(op, o, false) || !check_4d(op, "input", "[N,C,H,W]", x) ||
      !check_4d(op, "weight", "[cout,cin,kh,kw]", w))
    return false;
  if (x->shape[1] != w->shape[1])
    return lg_seterr("%s: input has %lld channels but weight %s expects %lld", op,
                     (long long)x->shape[1], lg_shape_str(w, b1, sizeof b1),
                     (long long)w->shape[1]), false;
  *g = (geom){.n = x->shape[0], .c = x->shape[1], .h = x->shape[2], .w = x->shape[3],
              .o = w->shape[0], .kh = w->shape[2], .kw = w->shape[3]};
  set_spatial(g, o);
  return check_kernel(op, g, x) && lg_conv_check_bias(op, b, g->o) && check_sizes(op, g);
}

/* x [N,Cin,H,W] is the grid, w [Cin,Cout,kh,kw]; the output is the image. */
static bool conv_transpose_geom(const char *op, const lg_tensor *x, const lg_tensor *w,
                                const lg_tensor *b, const lg_conv_opts *o, geom *g) {
  char b1[128];
  if (!check_opts(op, o, true) || !check_4d(op, "input", "[N,C,H,W]", x) ||
      !check_4d(op, "weight", "[cin,cout,kh,kw]", w))
    return false;
  if (x->shape[1] != w->shape[0])
    return lg_seterr("%s: input has %lld channels but weight %s expects %lld", op,
                     (long long)x->shape[1], lg_shape_str(w, b1, sizeof b1),
                     (long long)w->shape[0]), false;
  if (w->shape[2] < 1 || w->shape[3] < 1 || x->shape[2] < 1 || x->shape[3] < 1)
    return lg_seterr("%s: input %s and kernel %lldx%lld must have positive sizes", op,
                     lg_shape_str(x, b1, sizeof b1), (long long)w->shape[2],
                     (long long)w->shape[3]), false;
  if (!check_kernel_sides(op, w->shape[2], w->shape[3])) return false;
  *g = (geom){.n = x->shape[0], .c = w->shape[1], .o = x->shape[1], .ho = x->shape[2],
              .wo = x->shape[3], .kh = w->shape[2], .kw = w->shape[3]};
  set_spatial(g, o);
  /* (Ho - 1) s - 2 p + k + output_padding; the last two terms are ints */
  if (!lg_mul_ok(g->ho - 1, g->sh, &g->h) || !lg_add_ok(g->h, g->kh, &g->h) ||
      !lg_add_ok(g->h, o->output_padding[0] - 2 * g->ph, &g->h) ||
      !lg_mul_ok(g->wo - 1, g->sw, &g->w) || !lg_add_ok(g->w, g->kw, &g->w) ||
      !lg_add_ok(g->w, o->output_padding[1] - 2 * g->pw, &g->w))
    return lg_seterr("%s: the output of input %s with stride (%lld,%lld) is too large", op,
                     lg_shape_str(x, b1, sizeof b1), (long long)g->sh, (long long)g->sw),
           false;
  if (g->h < 1 || g->w < 1)
    return lg_seterr("%s: output size %lldx%lld is not positive (input %s, padding (%lld,%lld))",
                     op, (long long)g->h, (long long)g->w, lg_shape_str(x, b1, sizeof b1),
                     (long long)g->ph, (long long)g->pw), false;
  return lg_conv_check_bias(op, b, g->c) && check_sizes(op, g);
}

/* x [N,C,H,W] the image, gy [N,O,Ho,Wo] the grid. */
static bool conv_weight_geom(const char *op, const lg_tensor *x, const lg_tensor *gy, int kh,
                             int kw, const lg_conv_opts *o, geom *g) {
  char b1[128], b2[128];
  if (!check_opts(op, o, false) || !check_4d(op, "input", "[N,C,H,W]", x) ||
      !check_4d(op, "grad_output", "[N,O,Ho,Wo]", gy))
    return false;
  *g = (geom){.n = x->shape[0], .c = x->shape[1], .h = x->shape[2], .w = x->shape[3],
              .o = gy->shape[1], .kh = kh, .kw = kw};
  set_spatial(g, o);
  if (!check_kernel(op, g, x)) return false;
  if (gy->shape[0] != g->n || gy->shape[2] != g->ho || gy->shape[3] != g->wo)
    return lg_seterr("%s: grad_output %s does not match input %s (expected [%lld,*,%lld,%lld])",
                     op, lg_shape_str(gy, b1, sizeof b1), lg_shape_str(x, b2, sizeof b2),
                     (long long)g->n, (long long)g->ho, (long long)g->wo), false;
  return check_sizes(op, g);
}

/* }====================================================== */

/* {====================================================== bias gradient
** The bias gradient sums g over N, H, W; its adjoint spreads a [C] vector
** over [N,C,H,W].  Each is the other's backward, so the pair is closed under
** differentiation like the convolutions. */

static lg_tensor *bias_grad(lg_tensor *g);
static lg_tensor *bias_spread(lg_tensor *v, const int64_t *shape);

static int bw_bias_grad(lg_node *n, lg_tensor *gout, lg_tensor **gin) {
  gin[0] = bias_spread(gout, n->inputs[0]->shape);
  return gin[0] ? 0 : -1;
}

static int bw_bias_spread(lg_node *n, lg_tensor *gout, lg_tensor **gin) {
  (void)n;
  gin[0] = bias_grad(gout);
  return gin[0] ? 0 : -1;
}

/* The sum of p[0..count) in a fixed order: 16 running float sums (lane l
** takes the elements l mod 16, a loop GCC vectorises without reordering),
** then those and the tail in double.  A double add per element was the
** bias gradient's whole cost: 5% of a refiner step. */
static double plane_sum(const float *p, int64_t count) {
  float lane[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    for (int l = 0; l < 16; l++) lane[l] += p[i + l];
  double acc = 0.0;
  for (int l = 0; l < 16; l++) acc += lane[l];
  for (; i < count; i++) acc += p[i];
  return acc;
}

/* [N,C,H,W] -> [C], each plane summed by plane_sum, the planes in double in
** a fixed order. */
static lg_tensor *bias_grad(lg_tensor *g) {
  int64_t N = g->shape[0], C = g->shape[1], HW = g->shape[2] * g->shape[3];
  lg_tensor *gd = lg_dense(g), *out = gd ? lg_empty(1, &C) : NULL;
  if (out) {
    const float *src = lg_data(gd);
    float *dst = lg_data(out);
    LG_PARALLEL_FOR(c, C, g->numel >= LG_PAR_MIN, {
      double acc = 0.0;
      for (int64_t n = 0; n < N; n++) acc += plane_sum(src + (n * C + c) * HW, HW);
      dst[c] = (float)acc;
    });
  }
  lg_release(gd);
  if (out && lg_needs_grad(g) && !lg_attach(out, "conv_bias_grad", bw_bias_grad, 1, &g)) {
    lg_release(out);
    return NULL;
  }
  return out;
}

/* [C] -> [N,C,H,W] (shape), out[n,c,h,w] = v[c]. */
static lg_tensor *bias_spread(lg_tensor *v, const int64_t *shape) {
  int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
  lg_tensor *vd = lg_dense(v), *out = vd ? lg_empty(4, shape) : NULL;
  if (out) {
    const float *src = lg_data(vd);
    float *dst = lg_data(out);
    LG_PARALLEL_FOR(t, N * C, out->numel >= LG_PAR_MIN, {
      for (int64_t i = 0; i < HW; i++) dst[t * HW + i] = src[t % C];
    });
  }
  lg_release(vd);
  if (out && lg_needs_grad(v) && !lg_attach(out, "conv_bias_spread", bw_bias_spread, 1, &v)) {
    lg_release(out);
    return NULL;
  }
  return out;
}

/* }====================================================== */

/* {====================================================== backward
** With y = conv2d(x, w):  gx = conv_transpose2d(g, w) with the output
** padding that restores x's size (the rows the last window never reached,
** (H + 2p - k) mod s, get zero gradient), gw = conv2d_weight(x, g).
** conv_transpose2d is the adjoint of conv2d with the same w, so for
** y = conv_transpose2d(x, w):  gx = conv2d(g, w), gw = conv2d_weight(g, x).
** conv2d_weight(x, gy) is bilinear with <G, conv2d_weight(x, gy)> =
** <gy, conv2d(x, G)>, so for an incoming G:  d/dgy = conv2d(x, G) and
** d/dx = conv_transpose2d(gy, G). */

enum { I_STRIDE = 0, I_PAD = 2, I_OUTPAD = 4, I_KERNEL = 6, I_ACT = 8 };

static void save_opts(lg_node *n, const lg_conv_opts *o) {
  for (int d = 0; d < 2; d++) {
    n->ints[I_STRIDE + d] = o->stride[d];
    n->ints[I_PAD + d] = o->padding[d];
    n->ints[I_OUTPAD + d] = o->output_padding[d];
  }
}

static lg_conv_opts node_opts(const lg_node *n) {
  lg_conv_opts o;
  for (int d = 0; d < 2; d++) {
    o.stride[d] = (int)n->ints[I_STRIDE + d];
    o.padding[d] = (int)n->ints[I_PAD + d];
    o.output_padding[d] = (int)n->ints[I_OUTPAD + d];
  }
  return o;
}

/* Options for the conv_transpose2d that maps a conv2d's output gradient
** back onto an image of size image_h x image_w with kernel kh x kw. */
static lg_conv_opts adjoint_opts(lg_conv_opts o, int64_t image_h, int64_t image_w, int64_t kh,
                                 int64_t kw) {
  o.output_padding[0] = (int)((image_h + 2 * o.padding[0] - kh) % o.stride[0]);
  o.output_padding[1] = (int)((image_w + 2 * o.padding[1] - kw) % o.stride[1]);
  return o;
}

static bool wants(const lg_node *n, int i) {
  return lg_wants_grad(n, i);
}

static int bw_conv2d(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *w = n->inputs[1];
  lg_conv_opts o = node_opts(n);
  if (wants(n, 0)) {
    lg_conv_opts a = adjoint_opts(o, x->shape[2], x->shape[3], w->shape[2], w->shape[3]);
    if (!(gin[0] = lg_conv_transpose2d(g, w, NULL, &a))) return -1;
  }
  if (wants(n, 1) && !(gin[1] = lg_conv2d_weight(x, g, (int)w->shape[2], (int)w->shape[3], &o)))
    return -1;
  if (wants(n, 2) && !(gin[2] = bias_grad(g))) return -1;
  return 0;
}

/* conv2d_act: the activation's gradient from the saved output (as relu's
** and leaky_relu's own backward: y > 0 exactly where the sum before it is,
** and the mask is flat, so the detached output loses no second-order
** term), which is also the addend's gradient, then conv2d's. */
static int bw_conv2d_act(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *gy = g;
  if (n->ints[I_ACT] == LG_ACT_NONE) lg_retain(g);
  else if (!(gy = lg_act_grad(g, n->saved[0], (lg_act)n->ints[I_ACT], n->floats[0]))) return -1;
  if (wants(n, 3)) {
    lg_retain(gy);
    gin[3] = gy;
  }
  int rc = bw_conv2d(n, gy, gin);
  lg_release(gy);
  return rc;
}

static int bw_conv_transpose2d(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *w = n->inputs[1];
  lg_conv_opts o = node_opts(n);
  if (wants(n, 0) && !(gin[0] = lg_conv2d(g, w, NULL, &o))) return -1;
  if (wants(n, 1) && !(gin[1] = lg_conv2d_weight(g, x, (int)w->shape[2], (int)w->shape[3], &o)))
    return -1;
  if (wants(n, 2) && !(gin[2] = bias_grad(g))) return -1;
  return 0;
}

static int bw_conv2d_weight(lg_node *n, lg_tensor *gw, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *gy = n->inputs[1];
  lg_conv_opts o = node_opts(n);
  if (wants(n, 0)) {
    lg_conv_opts a = adjoint_opts(o, x->shape[2], x->shape[3], n->ints[I_KERNEL],
                                  n->ints[I_KERNEL + 1]);
    if (!(gin[0] = lg_conv_transpose2d(gy, gw, NULL, &a))) return -1;
  }
  if (wants(n, 1) && !(gin[1] = lg_conv2d(x, gw, NULL, &o))) return -1;
  return 0;
}

/* }====================================================== */

/* {====================================================== the ops */

typedef int (*conv_kernel)(const geom *g, const float *a, const float *b, const float *bias,
                           lg_epilogue ep, float *out);

static int weight_kernel(const geom *g, const float *x, const float *gy, const float *bias,
                         lg_epilogue ep, float *gw) {
  (void)bias, (void)ep;
  return conv_weight_forward(g, x, gy, gw);
}

static const lg_epilogue no_act = {LG_ACT_NONE, 0.0f, NULL};

/* Runs a kernel on contiguous copies of in[0..3] (in[2], the bias, and
** in[3], the epilogue's addend, may be NULL) and records the node; the
** node's ints get the options, the kernel size and the activation (whose
** slope goes to floats[0]; with one, the node saves its output for the
** backward). */
static lg_tensor *run(const char *name, conv_kernel kernel, lg_backward_fn bw, const geom *g,
                      lg_tensor **in, const int64_t *out_shape, const lg_conv_opts *o,
                      lg_epilogue ep) {
  lg_tensor *d[4] = {NULL, NULL, NULL, NULL}, *out = NULL;
  if (!lg_check_shape(name, 4, out_shape)) return NULL;
  for (int i = 0; i < 4; i++)
    if (in[i] && !(d[i] = lg_dense(in[i]))) goto done;
  if (d[3]) ep.add = lg_data(d[3]);
  if (!(out = lg_empty(4, out_shape))) goto done;
  if (out->numel > 0 &&    /* an empty output: nothing to compute, no workspace */
      kernel(g, lg_data(d[0]), lg_data(d[1]), d[2] ? lg_data(d[2]) : NULL, ep, lg_data(out))) {
    lg_release(out);
    out = NULL;
    goto done;
  }
  if (lg_any_needs_grad(4, in)) {
    lg_node *node = lg_attach(out, name, bw, in[3] ? 4 : 3, in);
    if (!node || (ep.act != LG_ACT_NONE && lg_save_output(node, out))) {
      lg_release(out);
      out = NULL;
      goto done;
    }
    save_opts(node, o);
    node->ints[I_KERNEL] = g->kh;
    node->ints[I_KERNEL + 1] = g->kw;
    node->ints[I_ACT] = ep.act;
    node->floats[0] = ep.slope;
  }
done:
  for (int i = 0; i < 4; i++) lg_release(d[i]);
  return out;
}

lg_tensor *lg_conv2d(lg_tensor *x, lg_tensor *w, lg_tensor *b, const lg_conv_opts *o) {
  lg_conv_opts opt = opts_or_default(o);
  geom g;
  if (!conv_geom("conv2d", x, w, b, &opt, &g)) return NULL;
  lg_tensor *in[4] = {x, w, b, NULL};
  int64_t shape[4] = {g.n, g.o, g.ho, g.wo};
  return run("conv2d", conv_forward, bw_conv2d, &g, in, shape, &opt, no_act);
}

lg_tensor *lg_conv2d_act(lg_tensor *x, lg_tensor *w, lg_tensor *b, lg_tensor *add,
                         const lg_conv_opts *o, lg_act act, float slope) {
  lg_conv_opts opt = opts_or_default(o);
  geom g;
  char s1[128], s2[128];
  if (act != LG_ACT_NONE && act != LG_ACT_RELU && act != LG_ACT_LEAKY)
    return lg_seterr("conv2d_act: unknown activation %d", (int)act);
  /* a negative slope makes the output's sign differ from the input's: the
  ** backward could not read the mask from the output */
  if (act == LG_ACT_LEAKY && !(slope >= 0.0f))
    return lg_seterr("conv2d_act: leaky relu slope must be >= 0, got %g", slope);
  if (!conv_geom("conv2d_act", x, w, b, &opt, &g)) return NULL;
  int64_t shape[4] = {g.n, g.o, g.ho, g.wo};
  if (add && (add->ndim != 4 || memcmp(add->shape, shape, sizeof shape)))
    return lg_seterr("conv2d_act: add must have the output's shape %s, got %s",
                     lg_dims_str(shape, 4, s1, sizeof s1), lg_shape_str(add, s2, sizeof s2));
  lg_tensor *in[4] = {x, w, b, add};
  lg_epilogue ep = {act, act == LG_ACT_LEAKY ? slope : 0.0f, NULL};
  if (act == LG_ACT_NONE && !add)
    return run("conv2d", conv_forward, bw_conv2d, &g, in, shape, &opt, ep);
  return run("conv2d_act", conv_forward, bw_conv2d_act, &g, in, shape, &opt, ep);
}

lg_tensor *lg_conv_transpose2d(lg_tensor *x, lg_tensor *w, lg_tensor *b, const lg_conv_opts *o) {
  lg_conv_opts opt = opts_or_default(o);
  geom g;
  if (!conv_transpose_geom("conv_transpose2d", x, w, b, &opt, &g)) return NULL;
  lg_tensor *in[4] = {x, w, b, NULL};
  int64_t shape[4] = {g.n, g.c, g.h, g.w};
  return run("conv_transpose2d", conv_transpose_forward, bw_conv_transpose2d, &g, in, shape,
             &opt, no_act);
}

lg_tensor *lg_conv2d_weight(lg_tensor *x, lg_tensor *gy, int kh, int kw, const lg_conv_opts *o) {
  lg_conv_opts opt = opts_or_default(o);
  geom g;
  if (!conv_weight_geom("conv2d_weight", x, gy, kh, kw, &opt, &g)) return NULL;
  lg_tensor *in[4] = {x, gy, NULL, NULL};
  int64_t shape[4] = {g.o, g.c, g.kh, g.kw};
  return run("conv2d_weight", weight_kernel, bw_conv2d_weight, &g, in, shape, &opt, no_act);
}

/* }====================================================== */
