/*
** The weight gradient of a stride-1 3x3 convolution by Winograd F(3x3, 2x2)
** (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
** CVPR 2016, section 4): gw[o,c] is the correlation of the padded input
** with the output gradient, a 3x3 result from a 2x2 "filter" gy per 2x2
** block of outputs.  Each tile of 2x2 gradients and its 4x4 input patch d
** give
**
**   gw_tile = A^T [ (G gy G^T) .* (B^T d B) ] A
**
** with 16 multiplies per channel pair instead of 36.  B^T is the forward
** F(2x2,3x3)'s (rows 1 0 -1 0 / 0 1 1 0 / 0 -1 1 0 / 0 1 0 -1), and
** G (4x2) = 1 0 / .5 .5 / .5 -.5 / 0 -1, A^T (3x4) = 1 1 1 0 / 0 1 -1 0 /
** 0 1 1 1: in one dimension, out_j = g0 d_j + g1 d_{j+1}, j = 0..2, from 4
** products.  A^T and A are linear, so the sum over tiles and samples is
** taken before them: for each of the 16 positions of the 4x4 transformed
** tile, M[o][c] = sum over tiles of GY[o][t] V[c][t], a matrix product
** reduced over the tiles, and gw = A^T M A once per channel pair at the end.
**
** Why: the refiner's 3x3 convs at 32 channels on 28x28 took their weight
** gradient through the direct kernel (conv_direct.c) at about 2/3 of the
** FMA peak, 0.73x PyTorch's time per layer; only fewer multiplies could
** make it faster.
**
** Layout: the reduction runs over tiles, so the transforms are vectorised
** over channels: each sample is first turned channels-last (padded input
** [hp][wp][Cp], gradient [2th][2tw][Op], by VW x VW register transposes),
** then V = B^T d B and GY = G gy G^T of every tile are vectors of channels,
** stored [16][tile][channels].  The product is the register tile of the
** forward kernels with the roles renamed: rows output channels (broadcast
** from GY), 2 vectors of input channels (V), a loop over the tiles of the
** sample, a chunk of tc tiles at a time.  Each chunk's products start from
** zero and are added to M (shorter running sums than one over the batch).
**
** Threads: WCHUNKS fixed chunks of samples (fewer for a smaller batch,
** never tied to the thread count), each summing its samples in order into
** its own M; the chunks' M are added in chunk order at the end.  The result
** does not depend on the thread count.
*/
#include "conv_winograd.h"
#include "internal.h"

#include <string.h>

static bool is_3x3(const lg_direct_geom *g) {
  if (g->kh == 3 && g->kw == 3) return true;
  return lg_seterr("conv2d_weight: Winograd F(3x3,2x2) needs a 3x3 kernel, got %lldx%lld",
                   (long long)g->kh, (long long)g->kw), false;
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include "conv_simd.h"

#define CH (2 * VW)           /* input channels per register tile */
#define WCHUNKS 8

#ifdef __AVX512F__
/* One stage of a VW x VW transpose: swaps bit b of the row index with bit
** b of the column index.  r_i keeps its lanes l without bit b and takes
** r_{i+b}'s lane l - b in the others; r_{i+b} the converse. */
static inline __attribute__((always_inline)) void swap_bit(vec *lo, vec *hi, int b) {
  static const int32_t idx[4][2][16] = {
      {{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
       {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}},
      {{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
       {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31}},
      {{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
       {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31}},
      {{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
       {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31}}};
  int s = b == 8 ? 0 : b == 4 ? 1 : b == 2 ? 2 : 3;
  __m512i il = _mm512_loadu_si512(idx[s][0]), ih = _mm512_loadu_si512(idx[s][1]);
  vec a = *lo, c = *hi;
  *lo = _mm512_permutex2var_ps(a, il, c);
  *hi = _mm512_permutex2var_ps(a, ih, c);
}
#else
static inline __attribute__((always_inline)) void swap_bit(vec *lo, vec *hi, int b) {
  static const int32_t down[3][8] = {{0, 1, 2, 3, 0, 1, 2, 3}, {0, 1, 0, 1, 4, 5, 4, 5},
                                     {0, 0, 2, 2, 4, 4, 6, 6}};
  static const int32_t up[3][8] = {{4, 5, 6, 7, 4, 5, 6, 7}, {2, 3, 2, 3, 6, 7, 6, 7},
                                   {1, 1, 3, 3, 5, 5, 7, 7}};
  static const int32_t set[3][8] = {{0, 0, 0, 0, -1, -1, -1, -1}, {0, 0, -1, -1, 0, 0, -1, -1},
                                    {0, -1, 0, -1, 0, -1, 0, -1}};
  int s = b == 4 ? 0 : b == 2 ? 1 : 2;
  __m256i d = _mm256_loadu_si256((const __m256i *)down[s]);
  __m256i u = _mm256_loadu_si256((const __m256i *)up[s]);
  __m256 m = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)set[s]));
  vec a = *lo, c = *hi;
  *lo = _mm256_blendv_ps(a, _mm256_permutevar8x32_ps(c, d), m);
  *hi = _mm256_blendv_ps(_mm256_permutevar8x32_ps(a, u), c, m);
}
#endif

/* r[i][l] <-> r[l][i]: one stage per bit of the index (the stages commute) */
static inline __attribute__((always_inline)) void stage(vec r[VW], int b) {
  #pragma GCC unroll 16
  for (int i = 0; i < VW; i++)
    if (!(i & b)) swap_bit(&r[i], &r[i + b], b);
}

static inline __attribute__((always_inline)) void transpose(vec r[VW]) {
#ifdef __AVX512F__
  stage(r, 8);
#endif
  stage(r, 4), stage(r, 2), stage(r, 1);
}

/* dst[h * hs + w * ws + c] = src[(c * H + h) * W + w] for c < C, h < H,
** w < W: planes of rows into rows of channels.  Lanes of channels from C up
** to a multiple of VW are written as zeros. */
static void channels_last(const float *src, int64_t C, int64_t H, int64_t W, float *dst,
                          int64_t hs, int64_t ws) {
  vec r[VW];
  for (int64_t h = 0; h < H; h++)
    for (int64_t c0 = 0; c0 < C; c0 += VW)
      for (int64_t w0 = 0; w0 < W; w0 += VW) {
        int64_t nw = W - w0 < VW ? W - w0 : VW;
        vmask m = lanes(0, nw);
        for (int i = 0; i < VW; i++)
          r[i] = c0 + i < C ? vload_mask(src + ((c0 + i) * H + h) * W + w0, m) : vzero();
        transpose(r);
        for (int64_t j = 0; j < nw; j++) vstoreu(dst + h * hs + (w0 + j) * ws + c0, r[j]);
      }
}

/* The tiles: th x tw of 2x2 gradients, T of them per sample, transformed
** and multiplied tc at a time; the padded input hp x wp (rows and columns
** of zeros to 2 th + 2 and 2 tw + 2); channels rounded up to vectors: Cp
** input, Op output.  A chunk's V and GY take at most TC_FLOATS (128 KB)
** when tc >= 8: they stay in L2 between the transforms and the products
** (a whole sample's, 800 KB at 32 channels, did not). */
#define TC_FLOATS (32 << 10)
typedef struct {
  int64_t th, tw, T, hp, wp, Cp, Op, tc;
} grid;

static grid grid_of(const lg_direct_geom *g) {
  grid p;
  p.th = (g->ho + 1) / 2, p.tw = (g->wo + 1) / 2, p.T = p.th * p.tw;
  p.hp = 2 * p.th + 2, p.wp = 2 * p.tw + 2;
  p.Cp = (g->c + VW - 1) / VW * VW, p.Op = (g->o + VW - 1) / VW * VW;
  p.tc = TC_FLOATS / (16 * (p.Cp + p.Op));
  if (p.tc < 8) p.tc = 8;
  if (p.tc > p.T) p.tc = p.T;
  return p;
}
/* Floats from one position of V (GY) to the next: the chunk's and one cache
** line, so that the 16 stores of a tile do not fall in one L1 set (at 32
** tiles of 32 channels the chunk is 4 KB: conv_winograd.c's vstride). */
static int64_t vstep(grid p) { return p.tc * p.Cp + 16; }
static int64_t gstep(grid p) { return p.tc * p.Op + 16; }


/* Worth it, measured against what the dispatch would otherwise run (the
** direct kernel, or im2col + sgemm for grids too small for it): time per
** call at batch 64 (16 for 64 and 128 channels), one thread, AVX-512 /
** AVX2 builds on one Zen 4:
**   32 -> 32 ch 28x28: 1.23-1.52x / 1.60-1.66x faster
**   16 -> 16 ch 28x28: 1.09-1.35x / 1.39-1.80x
**   16 -> 32, 32 -> 16 ch 28x28: 1.24x, 1.32x / 1.68x, 1.62x
**   32 -> 32 ch 7x7: 1.15x / 1.39x
**   8 -> 8 ch 28x28: 0.90x / 0.92x (the transforms per pair of channels)
**   64 -> 64 ch 14x14: 0.81x / 1.04x;  64 -> 64 ch 32x32: 1.13x / 1.40x
**   128 -> 128 ch 8x8: 0.25x / 0.46x
** With many channel pairs M (16 C O floats a chunk) is reloaded for every
** chunk of tiles: 1 MB at 128 channels, against 128 KB of tiles.  Hence:
** at least 16 channels on each side, whole vectors of input channels, and
** at most 32 x 32 pairs. */
bool lg_conv_winograd_weight_ok(int64_t c, int64_t o, int64_t ho, int64_t wo) {
  (void)ho, (void)wo;
  return c >= 16 && o >= 16 && c % VW == 0 && c * o <= 32 * 32;
}

/* V[pos][t - t0][Cp] = B^T d B of tiles t0 .. t0+count-1 of the
** channels-last padded sample xp; tile t = (ti, tj) reads rows 2ti ..
** 2ti+3, columns 2tj .. 2tj+3. */
static void input_transform(grid p, const float *xp, int64_t t0, int64_t count, float *V) {
  int64_t step = vstep(p);
  for (int64_t t = t0; t < t0 + count; t++) {
    int64_t ti = t / p.tw, tj = t % p.tw;
    for (int64_t c = 0; c < p.Cp; c += VW) {
      const float *base = xp + (2 * ti * p.wp + 2 * tj) * p.Cp + c;
      vec s[4][4];
      for (int r = 0; r < 4; r++) {
        const float *row = base + r * p.wp * p.Cp;
        vec d0 = vloadu(row), d1 = vloadu(row + p.Cp), d2 = vloadu(row + 2 * p.Cp);
        vec d3 = vloadu(row + 3 * p.Cp);
        s[r][0] = vsub(d0, d2), s[r][1] = vadd(d1, d2);
        s[r][2] = vsub(d2, d1), s[r][3] = vsub(d1, d3);
      }
      float *dst = V + (t - t0) * p.Cp + c;
      for (int u = 0; u < 4; u++) {
        vstoreu(dst + (0 + u) * step, vsub(s[0][u], s[2][u]));
        vstoreu(dst + (4 + u) * step, vadd(s[1][u], s[2][u]));
        vstoreu(dst + (8 + u) * step, vsub(s[2][u], s[1][u]));
        vstoreu(dst + (12 + u) * step, vsub(s[1][u], s[3][u]));
      }
    }
  }
}

/* GY[pos][t - t0][Op] = G' gy G'^T of tiles t0 .. t0+count-1 of the
** channels-last gradient gp ([2th][2tw][Op], zeros past ho and wo), with
** G' = D^-1 G (rows 1 0 / 1 1 / 1 -1 / 0 1), D = diag(1, .5, .5, -1): no
** multiplies here; output_transform scales by D's powers of two (exact). */
static void grad_transform(grid p, const float *gp, int64_t t0, int64_t count, float *GY) {
  int64_t step = gstep(p), row = 2 * p.tw * p.Op;
  for (int64_t t = t0; t < t0 + count; t++) {
    int64_t ti = t / p.tw, tj = t % p.tw;
    for (int64_t o = 0; o < p.Op; o += VW) {
      const float *base = gp + 2 * ti * row + 2 * tj * p.Op + o;
      vec h[2][4];
      for (int a = 0; a < 2; a++) {
        vec g0 = vloadu(base + a * row), g1 = vloadu(base + a * row + p.Op);
        h[a][0] = g0, h[a][1] = vadd(g0, g1), h[a][2] = vsub(g0, g1), h[a][3] = g1;
      }
      float *dst = GY + (t - t0) * p.Op + o;
      for (int u = 0; u < 4; u++) {
        vstoreu(dst + (0 + u) * step, h[0][u]);
        vstoreu(dst + (4 + u) * step, vadd(h[0][u], h[1][u]));
        vstoreu(dst + (8 + u) * step, vsub(h[0][u], h[1][u]));
        vstoreu(dst + (12 + u) * step, h[1][u]);
      }
    }
  }
}

/* M[pos][o][Cp] += sum over the chunk's count tiles of GY[pos][t][o]
** V[pos][t][c] for the block's rows and the 2 vectors of input channels
** from c0 (one when nv is 1). */
static inline __attribute__((always_inline)) void
products(grid p, const float *GY, const float *V, int64_t count, int64_t o0, int rows, int64_t c0,
         int nv, float *M) {
  for (int pos = 0; pos < 16; pos++) {
    vec acc[OB][2];
    #pragma GCC unroll 16
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = vzero();
    const float *vp = V + pos * vstep(p) + c0, *gk = GY + pos * gstep(p) + o0;
    for (int64_t t = 0; t < count; t++, vp += p.Cp, gk += p.Op) {
      vec v0 = vloadu(vp), v1 = nv == 2 ? vloadu(vp + VW) : vzero();
      #pragma GCC unroll 16
      for (int r = 0; r < rows; r++) {
        vec a = vbcast(gk[r]);
        acc[r][0] = vfma(a, v0, acc[r][0]);
        if (nv == 2) acc[r][1] = vfma(a, v1, acc[r][1]);
      }
    }
    float *m = M + (pos * p.Op + o0) * p.Cp + c0;
    #pragma GCC unroll 16
    for (int r = 0; r < rows; r++) {
      vstoreu(m + r * p.Cp, vadd(vloadu(m + r * p.Cp), acc[r][0]));
      if (nv == 2) vstoreu(m + r * p.Cp + VW, vadd(vloadu(m + r * p.Cp + VW), acc[r][1]));
    }
  }
}

/* The row and vector counts as constants: the accumulators stay in
** registers. */
static void products_block(grid p, const float *GY, const float *V, int64_t count, block bl,
                           int64_t c0, float *M) {
  int nv = p.Cp - c0 >= CH ? 2 : 1;
  if (nv == 2) {
    if (bl.rows == OB) products(p, GY, V, count, bl.o0, OB, c0, 2, M);
    else if (bl.rows == 2 * RQ) products(p, GY, V, count, bl.o0, 2 * RQ, c0, 2, M);
    else products(p, GY, V, count, bl.o0, RQ, c0, 2, M);
  } else {
    if (bl.rows == OB) products(p, GY, V, count, bl.o0, OB, c0, 1, M);
    else if (bl.rows == 2 * RQ) products(p, GY, V, count, bl.o0, 2 * RQ, c0, 1, M);
    else products(p, GY, V, count, bl.o0, RQ, c0, 1, M);
  }
}

/* gw[o][c] = A^T (D m D) A (A^T's rows 1 1 1 0 / 0 1 -1 0 / 0 1 1 1), m
** = M[.][o][c] the chunks' sums added in chunk order, D grad_transform's. */
static void output_transform(const lg_direct_geom *g, grid p, const float *Ms, int64_t chunks,
                             float *gw) {
  size_t msize = (size_t)(16 * p.Op * p.Cp);
  static const float d[4] = {1.0f, 0.5f, 0.5f, -1.0f};
  for (int64_t o = 0; o < g->o; o++)
    for (int64_t c = 0; c < g->c; c++) {
      float m[4][4];
      for (int pos = 0; pos < 16; pos++) {
        const float *src = Ms + (pos * p.Op + o) * p.Cp + c;
        float sum = src[0];
        for (int64_t k = 1; k < chunks; k++) sum += src[msize * (size_t)k];
        m[pos / 4][pos % 4] = d[pos / 4] * d[pos % 4] * sum;
      }
      float s[3][4];
      for (int j = 0; j < 4; j++) {
        s[0][j] = m[0][j] + m[1][j] + m[2][j];
        s[1][j] = m[1][j] - m[2][j];
        s[2][j] = m[1][j] + m[2][j] + m[3][j];
      }
      float *dst = gw + (o * g->c + c) * 9;
      for (int a = 0; a < 3; a++) {
        dst[a * 3 + 0] = s[a][0] + s[a][1] + s[a][2];
        dst[a * 3 + 1] = s[a][1] - s[a][2];
        dst[a * 3 + 2] = s[a][1] + s[a][2] + s[a][3];
      }
    }
}

int lg_conv_winograd_weight(const lg_direct_geom *g, const float *x, const float *gy, float *gw) {
  if (!is_3x3(g)) return -1;
  grid p = grid_of(g);
  int64_t chunks = g->n < WCHUNKS ? g->n : WCHUNKS, blocks = block_count(g->o);
  int threads = conv_thread_count(g, chunks);
  size_t msize = (size_t)(16 * p.Op * p.Cp);
  size_t xp_floats = (size_t)(p.hp * p.wp * p.Cp), gp_floats = (size_t)(4 * p.th * p.tw * p.Op);
  size_t slot = xp_floats + gp_floats + (size_t)(16 * (vstep(p) + gstep(p)));
  size_t total = msize * (size_t)chunks + slot * (size_t)threads;
  float *Ms = lg_conv_workspace(total);   /* kept across calls, as lg_conv_direct's */
  if (!Ms) return -1;
  /* the sums, and the zeros around the padded sample and past ho, wo */
  memset(Ms, 0, total * sizeof(float));
  float *bufs = Ms + msize * (size_t)chunks;
  #pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t k = 0; k < chunks; k++) {
    float *xp = bufs + slot * (size_t)lg_thread_num(), *gp = xp + xp_floats;
    float *V = gp + gp_floats, *GY = V + 16 * vstep(p), *M = Ms + msize * (size_t)k;
    for (int64_t n = g->n * k / chunks; n < g->n * (k + 1) / chunks; n++) {
      channels_last(x + n * g->c * g->h * g->w, g->c, g->h, g->w,
                    xp + (g->ph * p.wp + g->pw) * p.Cp, p.wp * p.Cp, p.Cp);
      channels_last(gy + n * g->o * g->ho * g->wo, g->o, g->ho, g->wo, gp, 2 * p.tw * p.Op, p.Op);
      for (int64_t t0 = 0; t0 < p.T; t0 += p.tc) {
        int64_t count = p.T - t0 < p.tc ? p.T - t0 : p.tc;
        input_transform(p, xp, t0, count, V);
        grad_transform(p, gp, t0, count, GY);
        for (int64_t b = 0; b < blocks; b++)
          for (int64_t c0 = 0; c0 < p.Cp; c0 += CH)
            products_block(p, GY, V, count, block_at(g->o, b), c0, M);
      }
    }
  }
  output_transform(g, p, Ms, chunks, gw);
  return 0;
}

#else

bool lg_conv_winograd_weight_ok(int64_t c, int64_t o, int64_t ho, int64_t wo) {
  (void)c, (void)o, (void)ho, (void)wo;
  return false;
}

int lg_conv_winograd_weight(const lg_direct_geom *g, const float *x, const float *gy, float *gw) {
  (void)x, (void)gy, (void)gw;
  if (!is_3x3(g)) return -1;
  return lg_seterr("conv2d_weight: no Winograd convolution in this build"), -1;
}

#endif
