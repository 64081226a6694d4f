/*
** lg_sgemm: our own single-precision matrix product for the convolutions.
**
** Why not OpenBLAS: the convolutions' sgemms are small (a 7x7 or 14x14 grid
** times a few samples: m, n, k in the hundreds), where OpenBLAS's per-call
** set-up shows, and this machine's environment pins OpenBLAS to its Haswell
** (AVX2) kernels on a CPU with full-width AVX-512.  The loops here are the
** classic Goto/BLIS layering (Goto & van de Geijn 2008, "Anatomy of
** high-performance matrix multiplication"):
**
**   for jc in steps of NC over n:         a block of B's columns
**     for pc in steps of KC over k:       pack B[pc.., jc..] into NR-wide panels
**       for ic in steps of MC over m:     pack A[ic.., pc..] into MR-tall panels
**         for each NR panel, each MR panel: the micro-kernel adds an MR x NR
**                                           tile of A B into C
**
** The micro-kernel keeps the whole MR x NR tile of C in registers and, per
** k, loads one row of the B panel and broadcasts MR values of the A panel.
** Every C element sees the same sequence of operations wherever its tile
** lies and however the work is split, so results do not depend on the
** thread count.  Without AVX-512 or AVX2+FMA at compile time (the build is
** -march=native) lg_sgemm is cblas_sgemm.
*/
#include "internal.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define LG_OWN_GEMM 1
#include <immintrin.h>
#endif

#ifdef LG_OWN_GEMM

#ifdef __AVX512F__
typedef __m512 vec;
#define VW 16                                  /* floats per vector */
#define MR 12                                  /* 12 x 2 accumulators of the 32 registers */
#define vzero() _mm512_setzero_ps()
#define vload(p) _mm512_load_ps(p)
#define vloadu(p) _mm512_loadu_ps(p)
#define vstoreu(p, v) _mm512_storeu_ps(p, v)
#define vbcast(x) _mm512_set1_ps(x)
#define vfma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vadd(a, b) _mm512_add_ps(a, b)
#else
typedef __m256 vec;
#define VW 8
#define MR 6                                   /* 6 x 2 accumulators of the 16 registers */
#define vzero() _mm256_setzero_ps()
#define vload(p) _mm256_load_ps(p)
#define vloadu(p) _mm256_loadu_ps(p)
#define vstoreu(p, v) _mm256_storeu_ps(p, v)
#define vbcast(x) _mm256_set1_ps(x)
#define vfma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define vadd(a, b) _mm256_add_ps(a, b)
#endif

#define NR (2 * VW)
#define SWAP_FLOATS 8192      /* lg_sgemm's transposed block of a product with few columns: 32 KB of stack */
#define KC 256                  /* an A panel (MR x KC) and a B panel (KC x NR) fit in L1 */
#define MC (MR * 12)            /* the packed A block (MC x KC) stays in L2 */
#define NC 1024                 /* the packed B block (KC x NC, 1 MB) */

/* {====================================================== packing */

/* dst[c*ldd + r] = src[r*lds + c] for an 8 x 8 block: the transposing packs
** move eight floats per load and store instead of one. */
static inline void transpose8(const float *src, int64_t lds, float *dst, int64_t ldd) {
  __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds);
  __m256 r2 = _mm256_loadu_ps(src + 2 * lds), r3 = _mm256_loadu_ps(src + 3 * lds);
  __m256 r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds);
  __m256 r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/* dst[kk*ldd + r] = src[r*lds + kk] for r < rows, kk < kc: whole 8 x 8
** blocks through transpose8, the rest one float at a time. */
static void transpose_rows(const float *src, int64_t lds, int64_t rows, int64_t kc, float *dst,
                           int64_t ldd) {
  int64_t r0 = 0, k8 = kc & ~(int64_t)7;
  for (; r0 + 8 <= rows; r0 += 8) {
    for (int64_t kk = 0; kk < k8; kk += 8)
      transpose8(src + r0 * lds + kk, lds, dst + kk * ldd + r0, ldd);
    for (int64_t r = r0; r < r0 + 8; r++)
      for (int64_t kk = k8; kk < kc; kk++) dst[kk * ldd + r] = src[r * lds + kk];
  }
  for (int64_t r = r0; r < rows; r++)
    for (int64_t kk = 0; kk < kc; kk++) dst[kk * ldd + r] = src[r * lds + kk];
}

/* Panels of `width` (MR for A, NR for B) rows of the operand, rows x0..
** (count of them) and depth k0.. (kc): panel p holds row x0 + p*width + r at
** depth k0 + kk in [kk*width + r], rows past count zero.  The operand stores
** (row x, depth kk) at src[kk*ld + x] when depth_major (A transposed, B as
** is), else at src[x*ld + kk]. */
static void pack(bool depth_major, const float *src, int64_t ld, int64_t x0, int64_t k0,
                 int64_t count, int64_t kc, int64_t width, float *dst) {
  for (int64_t p = 0; p < count; p += width, dst += width * kc) {
    int64_t rows = count - p < width ? count - p : width;
    if (depth_major) {
      const float *s = src + k0 * ld + x0 + p;
      for (int64_t kk = 0; kk < kc; kk++) {
        for (int64_t r = 0; r < rows; r++) dst[kk * width + r] = s[kk * ld + r];
        for (int64_t r = rows; r < width; r++) dst[kk * width + r] = 0.0f;
      }
    } else {
      transpose_rows(src + (x0 + p) * ld + k0, ld, rows, kc, dst, width);
      for (int64_t r = rows; r < width; r++)
        for (int64_t kk = 0; kk < kc; kk++) dst[kk * width + r] = 0.0f;
    }
  }
}

/* }====================================================== */

/* {====================================================== micro-kernel */

/* acc = A panel x B panel over kc; then C[0..rows, 0..cols] = acc + beta C
** (C not read when beta is 0, so it may hold anything). */
static void kernel(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,
                   int64_t rows, int64_t cols, float beta) {
  vec acc[MR][2];
  #pragma GCC unroll 16
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = vzero();
  for (int64_t kk = 0; kk < kc; kk++, pa += MR, pb += NR) {
    vec b0 = vload(pb), b1 = vload(pb + VW);
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      vec a = vbcast(pa[r]);
      acc[r][0] = vfma(a, b0, acc[r][0]);
      acc[r][1] = vfma(a, b1, acc[r][1]);
    }
  }
  if (rows == MR && cols == NR) {
    vec vb = vbcast(beta);
    #pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      float *cr = c + r * ldc;
      if (beta != 0.0f) {
        acc[r][0] = vfma(vb, vloadu(cr), acc[r][0]);
        acc[r][1] = vfma(vb, vloadu(cr + VW), acc[r][1]);
      }
      vstoreu(cr, acc[r][0]);
      vstoreu(cr + VW, acc[r][1]);
    }
    return;
  }
  float tile[MR * NR] __attribute__((aligned(64)));
  for (int r = 0; r < MR; r++) {
    vstoreu(tile + r * NR, acc[r][0]);
    vstoreu(tile + r * NR + VW, acc[r][1]);
  }
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < cols; j++)
      c[r * ldc + j] = beta != 0.0f ? tile[r * NR + j] + beta * c[r * ldc + j] : tile[r * NR + j];
}

/* }====================================================== */

/* {====================================================== thin products
** A layer into or out of one or two units (a critic's score, a 2-D
** generator's output) makes a product with a few rows or columns, where a
** register tile would sit mostly idle and OpenBLAS spends its time packing.
** Two such shapes go straight through; the sums run in a fixed order.
**   few columns, rows of A and columns of B contiguous (x w^T): dot products
**   few rows, rows of B contiguous (g^T x): each row of C a sum of B's rows */

static float dot(const float *x, const float *y, int64_t k) {
  vec acc0 = vzero(), acc1 = vzero();
  int64_t i = 0;
  for (; i + 2 * VW <= k; i += 2 * VW) {
    acc0 = vfma(vloadu(x + i), vloadu(y + i), acc0);
    acc1 = vfma(vloadu(x + i + VW), vloadu(y + i + VW), acc1);
  }
  float lanes[VW], sum = 0.0f;
  vstoreu(lanes, vadd(acc0, acc1));
  for (int l = 0; l < VW; l++) sum += lanes[l];
  for (; i < k; i++) sum += x[i] * y[i];
  return sum;
}

static bool thin_product(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                         int64_t ldc) {
  if (n <= NR / 2 && !ta && tb) {
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        float s = dot(a + i * lda, b + j * ldb, k);
        c[i * ldc + j] = beta != 0.0f ? s + beta * c[i * ldc + j] : s;
      }
    return true;
  }
  if (m <= MR / 2 && !tb) {
    for (int64_t i = 0; i < m; i++) {
      float *ci = c + i * ldc;
      for (int64_t j = 0; j < n; j++) ci[j] = beta != 0.0f ? beta * ci[j] : 0.0f;
      for (int64_t kk = 0; kk < k; kk++) {
        float s = ta ? a[kk * lda + i] : a[i * lda + kk];
        const float *bk = b + kk * ldb;
        for (int64_t j = 0; j < n; j++) ci[j] += s * bk[j];
      }
    }
    return true;
  }
  return false;
}

/* }====================================================== */

/* {====================================================== drivers */

typedef struct {
  bool ta, tb;
  const float *a, *b;
  int64_t lda, ldb, ldc;
  float beta;
  float *c;
} problem;

/* The packing buffers of each thread, kept across calls (steady-state
** training does no malloc here); slot t belongs to OpenMP thread t of the
** team that calls lg_sgemm, which is always one team at a time. */
#define SLOTS 64
#define PACK_A_FLOATS (MC * KC)
#define PACK_B_FLOATS (KC * NC)
static float *pack_slot[SLOTS];

static float *slot_buffers(int t) {
  if (t < 0 || t >= SLOTS) return NULL;
  if (!pack_slot[t])
    pack_slot[t] = aligned_alloc(64, (PACK_A_FLOATS + PACK_B_FLOATS) * sizeof(float));
  return pack_slot[t];
}

void lg_gemm_free(void) {
  for (int t = 0; t < SLOTS; t++) {
    free(pack_slot[t]);
    pack_slot[t] = NULL;
  }
}

/* C[i0.., j0..] (m x n) of the problem, on the calling thread. */
static void gemm_block(const problem *p, int64_t i0, int64_t j0, int64_t m, int64_t n, int64_t k,
                       float *buf) {
  float *pa = buf, *pb = buf + PACK_A_FLOATS;
  const float *a = p->ta ? p->a + i0 : p->a + i0 * p->lda;
  const float *b = p->tb ? p->b + j0 * p->ldb : p->b + j0;
  float *c = p->c + i0 * p->ldc + j0;
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = n - jc < NC ? n - jc : NC;
    for (int64_t pc = 0; pc < k; pc += KC) {
      int64_t kc = k - pc < KC ? k - pc : KC;
      float beta = pc == 0 ? p->beta : 1.0f;
      pack(!p->tb, b, p->ldb, jc, pc, nc, kc, NR, pb);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = m - ic < MC ? m - ic : MC;
        pack(p->ta, a, p->lda, ic, pc, mc, kc, MR, pa);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            kernel(kc, pa + ir * kc, pb + jr * kc, c + (ic + ir) * p->ldc + jc + jr, p->ldc,
                   mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR, beta);
      }
    }
  }
}

/* Threads worth using: one per 8M multiply-adds.  Waking a passive OpenMP
** thread costs tens of microseconds; with one per 0.5M, 2 threads ran the
** mlp-gan and toy-gan workloads slower than 1 (388 vs 462 and 237 vs 411
** it/s); with one per 4M-8M, 440-452 and 415-425, and dcgan-28 went from 19
** to 22 it/s. */
static int gemm_threads(int64_t m, int64_t n, int64_t k, bool par) {
#ifdef _OPENMP
  if (!par || omp_in_parallel()) return 1;
  int64_t t = omp_get_max_threads(), work;
  if (!lg_mul_ok(m, n, &work) || !lg_mul_ok(work, k, &work)) work = INT64_MAX;
  work /= 1 << 23;
  if (t > work) t = work;
  return t < 1 ? 1 : (int)t;
#else
  (void)m, (void)n, (void)k, (void)par;
  return 1;
#endif
}

#else

void lg_gemm_free(void) {}

#endif /* LG_OWN_GEMM */

void lg_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc, bool par) {
  if (m <= 0 || n <= 0) return;
#ifdef LG_OWN_GEMM
  if (k <= 0) goto blas;
  /* A few columns (NR/2 at most) but enough rows: C^T = op(B)^T op(A)^T has
  ** rows enough for the register tile and columns enough to fill it, so it
  ** goes through the tiles into a scratch block that is then added to C
  ** transposed.  A conv's weight gradient with one input channel (dcgan-28's
  ** D.conv1: 64 x 16 weights, sums over 12,544 positions) ran the dot
  ** products below at 37 GFLOP/s, 18% of one core's peak. */
  if (n <= NR / 2 && n > MR / 2 && m > NR / 2 && m * n <= SWAP_FLOATS) {
    float scratch[SWAP_FLOATS];
    lg_sgemm(!tb, !ta, n, m, k, b, ldb, a, lda, 0.0f, scratch, m, par);
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++)
        c[i * ldc + j] = beta != 0.0f ? scratch[j * m + i] + beta * c[i * ldc + j] : scratch[j * m + i];
    return;
  }
  /* A product with only a few rows or columns would leave most of each
  ** register tile idle: the thin shapes above, else OpenBLAS. */
  if (m <= MR / 2 || n <= NR / 2) {
    if (thin_product(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)) return;
    goto blas;
  }
  problem p = {ta, tb, a, b, lda, ldb, ldc, beta, c};
  int threads = gemm_threads(m, n, k, par);
  if (threads == 1) {
    float *buf = slot_buffers(lg_thread_num());
    if (buf) {
      gemm_block(&p, 0, 0, m, n, k, buf);
      return;
    }
  } else {
    /* Split C into bands of whole tiles, along n when it has a tile per
    ** thread, else along m.  Thread 0's buffers are allocated first, on this
    ** thread, so that a failed allocation falls back before the fork. */
    bool by_cols = n >= (int64_t)threads * NR;
    int64_t extent = by_cols ? n : m, unit = by_cols ? NR : MR;
    int64_t tiles = (extent + unit - 1) / unit;
    bool ok = slot_buffers(0) != NULL;
    for (int t = 1; ok && t < threads; t++) ok = slot_buffers(t) != NULL;
    if (ok) {
      #pragma omp parallel num_threads(threads)
      {
        int t = lg_thread_num(), nt = threads;
#ifdef _OPENMP
        nt = omp_get_num_threads();
#endif
        int64_t lo = tiles * t / nt * unit, hi = tiles * (t + 1) / nt * unit;
        if (hi > extent) hi = extent;
        if (lo < hi) {
          if (by_cols) gemm_block(&p, 0, lo, m, hi - lo, k, pack_slot[t]);
          else gemm_block(&p, lo, 0, hi - lo, n, k, pack_slot[t]);
        }
      }
      return;
    }
  }
blas:
#else
  (void)par;
#endif
  if (k <= 0) {   /* BLAS rejects the leading dimensions an empty product implies */
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta != 0.0f ? beta * c[i * ldc + j] : 0.0f;
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
