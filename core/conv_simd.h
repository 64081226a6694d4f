/*
** The vector unit of the stride-1 convolutions (conv_direct.c,
** conv_winograd.c), chosen at build time: AVX-512 (16 lanes, a register
** tile of OB = 12 rows) or AVX2 + FMA (8 lanes, OB = 6), and how both
** share output channels out over blocks of the register tile's rows.
** Include only under
**   #if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
*/
#ifndef LG_CONV_SIMD_H
#define LG_CONV_SIMD_H

#include <immintrin.h>
#include <stdint.h>

#include "conv_direct.h"
#include "internal.h"

#ifdef __AVX512F__
typedef __m512 vec;
typedef __mmask16 vmask;
#define VW 16
#define OB 12
#define RQ 4                  /* the rows of a partial block: a multiple of this */
#define vzero() _mm512_setzero_ps()
#define vbcast(x) _mm512_set1_ps(x)
#define vfma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vloadu(p) _mm512_loadu_ps(p)
#define vadd(a, b) _mm512_add_ps(a, b)
#define vsub(a, b) _mm512_sub_ps(a, b)
#define vstoreu(p, v) _mm512_storeu_ps(p, v)
/* lanes l with lo <= l < hi */
static inline vmask lanes(int64_t lo, int64_t hi) {
  if (lo < 0) lo = 0;
  if (hi > VW) hi = VW;
  if (hi <= lo) return 0;
  return (vmask)((((uint32_t)1 << hi) - 1) & ~(((uint32_t)1 << lo) - 1));
}
static inline void vstore_mask(float *p, vmask m, vec v) { _mm512_mask_storeu_ps(p, m, v); }
static inline vec vload_mask(const float *p, vmask m) { return _mm512_maskz_loadu_ps(m, p); }
/* as k_relu: x <= 0 ? 0 : x (a NaN passes, -0 becomes +0) */
static inline vec vrelu(vec x) {
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, vzero(), _CMP_NLE_UQ), x);
}
/* as k_leaky: x > 0 ? x : x * slope */
static inline vec vleaky(vec x, vec slope) {
  return _mm512_mask_mov_ps(_mm512_mul_ps(x, slope), _mm512_cmp_ps_mask(x, vzero(), _CMP_GT_OQ), x);
}
#else
typedef __m256 vec;
typedef __m256i vmask;
#define VW 8
#define OB 6
#define RQ 2
#define vzero() _mm256_setzero_ps()
#define vbcast(x) _mm256_set1_ps(x)
#define vfma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define vloadu(p) _mm256_loadu_ps(p)
#define vadd(a, b) _mm256_add_ps(a, b)
#define vsub(a, b) _mm256_sub_ps(a, b)
#define vstoreu(p, v) _mm256_storeu_ps(p, v)
static inline vmask lanes(int64_t lo, int64_t hi) {
  if (lo < 0) lo = 0;
  if (hi > VW) hi = VW;
  if (hi < lo) hi = lo;
  __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i ge = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32((int)lo - 1));
  __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), idx);
  return _mm256_and_si256(ge, lt);
}
static inline void vstore_mask(float *p, vmask m, vec v) { _mm256_maskstore_ps(p, m, v); }
static inline vec vload_mask(const float *p, vmask m) { return _mm256_maskload_ps(p, m); }
static inline vec vrelu(vec x) {
  return _mm256_and_ps(x, _mm256_cmp_ps(x, vzero(), _CMP_NLE_UQ));
}
static inline vec vleaky(vec x, vec slope) {
  return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, _mm256_cmp_ps(x, vzero(), _CMP_GT_OQ));
}
#endif

/* Block b of the output channels: channels o0 .. o0+ob-1, computed as
** `rows` rows (ob rounded up to RQ; the rows past ob are zero weights),
** its packed weights at packed + o0 C kh kw (conv_direct.c) or o0 C 16
** (conv_winograd.c). */
typedef struct {
  int64_t o0, ob, rows;
} block;

static inline int64_t block_count(int64_t o) { return (o + OB - 1) / OB; }

/* The channels shared out evenly over the fewest blocks, each a multiple of
** RQ rows: 16 channels are 8 + 8, not 12 + 4 (a 4-row tile spends as many
** loads on fewer multiply-adds).  On simgan's 16-channel 3x3 conv, CPU time
** against the 12 + 12 of one full block and one of zeros: 12 + 4 took 9%
** less, 8 + 8 26% less, forward and input gradient alike. */
static inline block block_at(int64_t o, int64_t b) {
  int64_t count = block_count(o), full = ((o + count - 1) / count + RQ - 1) / RQ * RQ;
  int64_t o0 = b * full, ob = o - o0 < full ? o - o0 : full;
  return (block){o0, ob, (ob + RQ - 1) / RQ * RQ};
}

/* Threads for a call: all of them from 4M multiply-adds of the direct sum
** (~25 us a thread, against a few us to wake a second one; SimGAN's
** refiner input conv, 1 -> 16 channels on 64 x 28 x 28, is 7M), at most one
** per unit of work. */
static inline int conv_thread_count(const lg_direct_geom *g, int64_t units) {
  int threads = 1;
#ifdef _OPENMP
  double work = (double)g->n * g->o * g->ho * g->wo * g->c * g->kh * g->kw;
  if (work >= (double)(1 << 22) && !omp_in_parallel()) threads = omp_get_max_threads();
#endif
  if (threads > units) threads = units < 1 ? 1 : (int)units;
  return threads;
}

#endif
