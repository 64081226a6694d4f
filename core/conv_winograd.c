/*
** Winograd F(2x2, 3x3) for stride-1 3x3 convolutions (Lavin and Gray,
** "Fast Algorithms for Convolutional Neural Networks", CVPR 2016, section
** 4.1): a 2x2 block of outputs from its 4x4 input patch d with 16
** multiplies per channel pair instead of 36,
**
**   Y = A^T [ (G g G^T) .* (B^T d B) ] A
**
** and the elementwise products summed over the input channels, so that for
** each of the 16 positions of the 4x4 transformed tile the sum is a small
** matrix product M[k][t] = sum_c U[k][c] V[c][t] (section 4.1, eq. 8).
**
** Why: the refiner's 3x3 convs at 32 channels on 28x28 ran the direct
** kernel (conv_direct.c) at about 70% of the FMA peak; only fewer
** multiplies could make them faster.
**
** Per sample (one thread per sample): the padded copy of the sample, its
** rows split into even and odd columns so that the 4 columns of every
** patch of a row of tiles are 4 plain vector loads; then per chunk of CH
** tiles (2 vectors of VW tiles, each vector tiles of one tile row):
** V = B^T d B of every patch into [16][C][CH], per block of output
** channels the 16 products M = U V (the register tile of the direct
** kernel: rows output channels x 2 vectors of tiles, a loop over C) into
** [16][OB][CH], then Y = A^T M A, the bias, the epilogue (addend, relu or
** leaky relu) and the store of the 2x2 outputs, interleaved back into the
** rows of y.  The chunk's V and M stay in L1/L2: 64 KB and 24 KB at 32
** channels (AVX-512).  U = G g G^T is computed once per call (in double),
** packed by blocks of output channels as the direct kernel packs its
** weights.
**
** Numerics: every value is rounded from the same exact sum as the direct
** kernel's, but through the transforms: the error grows with sum |w||x|
** of the output (not with the output itself), a few units of float
** rounding of it (tests/core/test_conv_winograd.c tests 1e-5 of it).
** Each output is computed by one thread in a fixed order: results do not
** depend on the thread count.
*/
#include "conv_winograd.h"
#include "internal.h"

#include <string.h>

static bool is_3x3(const lg_direct_geom *g) {
  if (g->kh == 3 && g->kw == 3) return true;
  return lg_seterr("conv2d: Winograd F(2x2,3x3) needs a 3x3 kernel, got %lldx%lld",
                   (long long)g->kh, (long long)g->kw), false;
}

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include "conv_simd.h"

#ifdef __AVX512F__
/* (a, b) = 2 VW consecutive floats -> their even and odd ones */
static inline void deinterleave(vec a, vec b, vec *even, vec *odd) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  *even = _mm512_permutex2var_ps(a, ie, b);
  *odd = _mm512_permutex2var_ps(a, io, b);
}
/* the inverse: e0 o0 e1 o1 ... into (lo, hi) */
static inline void interleave(vec e, vec o, vec *lo, vec *hi) {
  const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  *lo = _mm512_permutex2var_ps(e, il, o);
  *hi = _mm512_permutex2var_ps(e, ih, o);
}
#else
/* shuffle_ps picks within 128-bit halves (a0 a2 b0 b2 | a4 a6 b4 b6); the
** 64-bit permute puts the halves' pairs in order */
static inline void deinterleave(vec a, vec b, vec *even, vec *odd) {
  __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
  *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}
static inline void interleave(vec e, vec o, vec *lo, vec *hi) {
  __m256 l = _mm256_unpacklo_ps(e, o), h = _mm256_unpackhi_ps(e, o);
  *lo = _mm256_permute2f128_ps(l, h, 0x20);
  *hi = _mm256_permute2f128_ps(l, h, 0x31);
}
#endif

#define CH (2 * VW)           /* tiles per chunk: the register tile's width */

/* The tile grid: th x tw tiles of 2x2 outputs, each row of tiles padded to
** twv (a multiple of VW) so that a vector never holds two tile rows; the
** flat tile index is ti twv + tj, cut into `chunks` chunks of CH.  The
** padded sample: plane c is [hp][2][we], each row its even columns then
** its odd ones (padded column 2 j + e at [e][j]), the image at rows ph..,
** columns pw.., zeros around; hp covers the rows of the last chunk (up to
** tile row th: a chunk may end in the row after the last). */
typedef struct {
  int64_t th, tw, twv, chunks, hp, we;
} grid;

static grid grid_of(const lg_direct_geom *g) {
  grid r;
  r.th = (g->ho + 1) / 2, r.tw = (g->wo + 1) / 2;
  r.twv = (r.tw + VW - 1) / VW * VW;
  r.chunks = (r.th * r.twv + CH - 1) / CH;
  r.hp = 2 * r.th + 4;
  r.we = r.twv + 1;
  return r;
}

/* Worth it, measured against the kernels it replaces (the direct one, or
** im2col + sgemm) on tests/bench/conv_layers.c's shapes and a few more, one
** thread, batch 4-16 (time per call, AVX-512 / AVX2 builds on one Zen 4):
**   32 -> 32 ch 28x28: 0.21 against 0.32 ms / 0.35 against 0.77 ms
**   16 -> 16 ch 28x28: 0.26 against 0.35 ms / 0.40 against 0.71 ms
**   8 -> 8 ch 28x28: 0.026 against 0.025 ms (AVX-512: even) / 0.041 against 0.049
**   4 -> 8 ch 28x28: 0.030 against 0.025 ms (AVX-512: loses) / 0.040 against 0.048
**   64 -> 64 ch 14x14: 0.42 against 0.39 ms (AVX-512: 7 of 16 lanes) / 0.38 against 0.71
**   32 -> 32 ch 7x7: 0.064 against 0.045 ms (4 of 16 lanes) / 0.059 against 0.082
**   32 -> 1 ch 28x28: 0.074 against 0.027 ms / 0.072 against 0.037 (rows of zeros)
** Hence: at least CMIN input channels (the input transform is paid per
** input channel, the products per pair), at least RQ output channels, and
** rows of tiles at least half full. */
#ifdef __AVX512F__
#define CMIN 16
#else
#define CMIN 4
#endif
bool lg_conv_winograd_ok(int64_t c, int64_t o, int64_t ho, int64_t wo) {
  int64_t tw = (wo + 1) / 2, twv = (tw + VW - 1) / VW * VW;
  (void)ho;
  return c >= CMIN && o >= RQ && tw * 2 >= twv;
}

/* Channels of sample n into its padded buffer, each row split into even
** and odd columns.  Image column i is padded column pw + i: the even i go
** to one half (pw even: the even half) from column pw/2, the odd i to the
** other from (pw+1)/2.  The buffer is zeroed once per call. */
static void pad_sample(const lg_direct_geom *g, grid p, const float *x, int64_t n, float *xp) {
  int64_t par = g->pw & 1, off0 = g->pw / 2, off1 = (g->pw + 1) / 2;
  const float *end = x + (n + 1) * g->c * g->h * g->w;
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t ih = 0; ih < g->h; ih++) {
      const float *src = x + ((n * g->c + c) * g->h + ih) * g->w;
      float *row = xp + (c * p.hp + ih + g->ph) * 2 * p.we;
      float *first = row + par * p.we + off0, *second = row + (1 - par) * p.we + off1;
      int64_t i = 0;
      vec e, o;
      for (; i + CH <= g->w; i += CH) {
        deinterleave(vloadu(src + i), vloadu(src + i + VW), &e, &o);
        vstoreu(first + i / 2, e);
        vstoreu(second + i / 2, o);
      }
      int64_t rem = g->w - i;
      if (rem > 0) {
        /* whole loads while they stay in the sample (masked ones that
        ** missed the cache were a fifth of the time at batch 64) */
        if (src + i + CH <= end) deinterleave(vloadu(src + i), vloadu(src + i + VW), &e, &o);
        else
          deinterleave(vload_mask(src + i, lanes(0, rem)), vload_mask(src + i + VW, lanes(0, rem - VW)),
                       &e, &o);
        vstore_mask(first + i / 2, lanes(0, (rem + 1) / 2), e);
        vstore_mask(second + i / 2, lanes(0, rem / 2), o);
      }
    }
}

/* Floats from one position of V to the next: C CH and one cache line, so
** that the 16 stores of a patch do not all fall in the same L1 set (at 32
** channels C CH floats are 4 KB: the input transform took twice as long). */
static int64_t vstride(int64_t C) { return C * CH + 16; }

/* V[pos][c][CH] = B^T d B for the CH patches of chunk q (B^T's rows:
** 1 0 -1 0 / 0 1 1 0 / 0 -1 1 0 / 0 1 0 -1).  Tile (ti, tj) reads padded
** rows 2ti .. 2ti+3, columns 2tj .. 2tj+3: even[tj], odd[tj], even[tj+1],
** odd[tj+1]. */
static void input_transform(const lg_direct_geom *g, grid p, const float *xp, int64_t q, float *V) {
  for (int v = 0; v < 2; v++) {
    int64_t f = q * CH + v * VW, ti = f / p.twv, tj = f % p.twv;
    for (int64_t c = 0; c < g->c; c++) {
      const float *base = xp + (c * p.hp + 2 * ti) * 2 * p.we + tj;
      vec t[4][4];
      for (int r = 0; r < 4; r++) {
        const float *ev = base + r * 2 * p.we, *od = ev + p.we;
        vec d0 = vloadu(ev), d1 = vloadu(od), d2 = vloadu(ev + 1), d3 = vloadu(od + 1);
        t[r][0] = vsub(d0, d2), t[r][1] = vadd(d1, d2);
        t[r][2] = vsub(d2, d1), t[r][3] = vsub(d1, d3);
      }
      float *dst = V + c * CH + v * VW;
      int64_t step = vstride(g->c);
      for (int u = 0; u < 4; u++) {
        vstoreu(dst + (0 + u) * step, vsub(t[0][u], t[2][u]));
        vstoreu(dst + (4 + u) * step, vadd(t[1][u], t[2][u]));
        vstoreu(dst + (8 + u) * step, vsub(t[2][u], t[1][u]));
        vstoreu(dst + (12 + u) * step, vsub(t[1][u], t[3][u]));
      }
    }
  }
}

/* M[pos][r][CH] = sum_c U[pos][c][r] V[pos][c][CH] for the block's rows,
** up: its packed weights [16][C][rows]. */
static inline __attribute__((always_inline)) void
products(int64_t C, const float *up, const float *V, int rows, float *M) {
  for (int pos = 0; pos < 16; pos++) {
    vec acc[OB][2];
    #pragma GCC unroll 16
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = vzero();
    const float *vp = V + pos * vstride(C), *wk = up + pos * C * rows;
    for (int64_t c = 0; c < C; c++, vp += CH, wk += rows) {
      vec v0 = vloadu(vp), v1 = vloadu(vp + VW);
      #pragma GCC unroll 16
      for (int r = 0; r < rows; r++) {
        vec a = vbcast(wk[r]);
        acc[r][0] = vfma(a, v0, acc[r][0]);
        acc[r][1] = vfma(a, v1, acc[r][1]);
      }
    }
    #pragma GCC unroll 16
    for (int r = 0; r < rows; r++) {
      vstoreu(M + (pos * OB + r) * CH, acc[r][0]);
      vstoreu(M + (pos * OB + r) * CH + VW, acc[r][1]);
    }
  }
}

/* The row counts as constants: the accumulators stay in registers. */
static void products_rows(int64_t C, const float *up, const float *V, int64_t rows, float *M) {
  if (rows == OB) products(C, up, V, OB, M);
  else if (rows == 2 * RQ) products(C, up, V, 2 * RQ, M);
  else products(C, up, V, RQ, M);
}

/* Y = A^T m A (A^T's rows: 1 1 1 0 / 0 1 -1 -1) of the block's channels for
** chunk q, plus the bias, then the epilogue, stored into y's rows: output
** row 2ti + a, columns 2tj .. 2tj+1 of each lane's tile. */
static void output_transform(const lg_direct_geom *g, grid p, const float *M, const float *bp,
                             lg_epilogue ep, int64_t n, block bl, int64_t q, float *y) {
  vec slope = vbcast(ep.slope);
  for (int v = 0; v < 2; v++) {
    int64_t f = q * CH + v * VW, ti = f / p.twv, tj = f % p.twv, ow0 = 2 * tj;
    if (ti >= p.th || tj >= p.tw) continue;
    vmask out0 = lanes(0, g->wo - ow0), out1 = lanes(0, g->wo - ow0 - VW);
    for (int64_t r = 0; r < bl.ob; r++) {
      const float *m = M + r * CH + v * VW;
      vec s[2][4];
      for (int u = 0; u < 4; u++) {
        vec m0 = vloadu(m + (0 + u) * OB * CH), m1 = vloadu(m + (4 + u) * OB * CH);
        vec m2 = vloadu(m + (8 + u) * OB * CH), m3 = vloadu(m + (12 + u) * OB * CH);
        s[0][u] = vadd(vadd(m0, m1), m2);
        s[1][u] = vsub(vsub(m1, m2), m3);
      }
      vec b = vbcast(bp[r]);
      for (int a = 0; a < 2 && 2 * ti + a < g->ho; a++) {
        vec e = vadd(vadd(vadd(s[a][0], s[a][1]), s[a][2]), b);
        vec o = vadd(vsub(vsub(s[a][1], s[a][2]), s[a][3]), b);
        vec y0, y1;
        interleave(e, o, &y0, &y1);
        float *dst = y + ((n * g->o + bl.o0 + r) * g->ho + 2 * ti + a) * g->wo + ow0;
        if (ep.add) {
          const float *add = ep.add + (dst - y);
          y0 = vadd(y0, vload_mask(add, out0)), y1 = vadd(y1, vload_mask(add + VW, out1));
        }
        if (ep.act == LG_ACT_RELU) y0 = vrelu(y0), y1 = vrelu(y1);
        else if (ep.act == LG_ACT_LEAKY) y0 = vleaky(y0, slope), y1 = vleaky(y1, slope);
        vstore_mask(dst, out0, y0);
        vstore_mask(dst + VW, out1, y1);
      }
    }
  }
}

/* U = G g G^T (G's rows: 1 0 0 / .5 .5 .5 / .5 -.5 .5 / 0 0 1) of every
** channel pair, in double, packed per block as [16][C][rows]; the weight
** of output channel o, input channel c, tap t is w[o so + c sc + t], or
** tap 8 - t when flip (the kernel turned by 180 degrees).  pb: the
** blocks' biases, zeros past O and when bias is NULL. */
static void pack_weights(const lg_direct_geom *g, const float *w, int64_t so, int64_t sc,
                         bool flip, const float *bias, float *packed, float *pb) {
  for (int64_t b = 0; b < block_count(g->o); b++) {
    block bl = block_at(g->o, b);
    float *dst = packed + bl.o0 * g->c * 16;
    for (int64_t c = 0; c < g->c; c++)
      for (int64_t r = 0; r < bl.rows; r++) {
        double k[3][3], gk[4][3];
        for (int t = 0; t < 9; t++)
          k[t / 3][t % 3] = r < bl.ob ? w[(bl.o0 + r) * so + c * sc + (flip ? 8 - t : t)] : 0.0;
        for (int j = 0; j < 3; j++) {
          gk[0][j] = k[0][j];
          gk[1][j] = 0.5 * (k[0][j] + k[1][j] + k[2][j]);
          gk[2][j] = 0.5 * (k[0][j] - k[1][j] + k[2][j]);
          gk[3][j] = k[2][j];
        }
        for (int i = 0; i < 4; i++) {
          double u[4] = {gk[i][0], 0.5 * (gk[i][0] + gk[i][1] + gk[i][2]),
                         0.5 * (gk[i][0] - gk[i][1] + gk[i][2]), gk[i][2]};
          for (int j = 0; j < 4; j++) dst[((i * 4 + j) * g->c + c) * bl.rows + r] = (float)u[j];
        }
      }
    for (int64_t r = 0; r < bl.rows; r++) pb[bl.o0 + r] = bias && r < bl.ob ? bias[bl.o0 + r] : 0.0f;
  }
}

int lg_conv_winograd(const lg_direct_geom *g, const float *x, const float *w, bool transposed_w,
                     const float *bias, lg_epilogue ep, float *y) {
  if (!is_3x3(g)) return -1;
  grid p = grid_of(g);
  int64_t blocks = block_count(g->o);
  size_t nw = (size_t)(blocks * OB * g->c * 16), nb = (size_t)(blocks * OB);
  size_t pad_floats = ((size_t)(g->c * p.hp * 2 * p.we) + 15) & ~(size_t)15;
  size_t v_floats = (size_t)(16 * vstride(g->c)), m_floats = (size_t)(16 * OB * CH);
  size_t slot = pad_floats + v_floats + m_floats;
  int threads = conv_thread_count(g, g->n);
  /* per thread: its padded sample, its chunk's V and M; then U and the bias */
  float *ws = lg_conv_workspace(slot * (size_t)threads + nw + nb);
  if (!ws) return -1;
  float *packed = ws + slot * (size_t)threads, *pb = packed + nw;
  int64_t kk = 9;
  if (transposed_w) pack_weights(g, w, kk, g->o * kk, true, bias, packed, pb);
  else pack_weights(g, w, g->c * kk, kk, false, bias, packed, pb);
  for (int t = 0; t < threads; t++) memset(ws + slot * (size_t)t, 0, pad_floats * sizeof(float));
  #pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t n = 0; n < g->n; n++) {
    float *xp = ws + slot * (size_t)lg_thread_num(), *V = xp + pad_floats, *M = V + v_floats;
    pad_sample(g, p, x, n, xp);
    for (int64_t q = 0; q < p.chunks; q++) {
      input_transform(g, p, xp, q, V);
      for (int64_t b = 0; b < blocks; b++) {
        block bl = block_at(g->o, b);
        products_rows(g->c, packed + bl.o0 * g->c * 16, V, bl.rows, M);
        output_transform(g, p, M, pb + bl.o0, ep, n, bl, q, y);
      }
    }
  }
  return 0;
}

#else

bool lg_conv_winograd_ok(int64_t c, int64_t o, int64_t ho, int64_t wo) {
  (void)c, (void)o, (void)ho, (void)wo;
  return false;
}

int lg_conv_winograd(const lg_direct_geom *g, const float *x, const float *w, bool transposed_w,
                     const float *bias, lg_epilogue ep, float *y) {
  (void)x, (void)w, (void)transposed_w, (void)bias, (void)ep, (void)y;
  if (!is_3x3(g)) return -1;
  return lg_seterr("conv2d: no Winograd convolution in this build"), -1;
}

#endif
