/*
** The one random generator: xoshiro256** (Blackman and Vigna, 2018), seeded
** by running splitmix64 over the seed, as its authors recommend.  Uniforms
** take the top 53 bits; normals come from the Box-Muller transform, which
** yields them in pairs, the second one cached (its presence is part of the
** state, so a saved state resumes bit-identically).
**
** Tensors are filled by lg_rng_normal_fill: the same transform in float,
** 8 or 16 pairs at a time through glibc's vector math (libmvec).  The
** scalar double version cost 10 ns a pair in sincos alone: the Gaussian
** noise layers of a semi-supervised GAN's D spent half of the training
** step there.
*/
#include "tensor.h"

#include <math.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

static struct {
  uint64_t s[4];
  double cached_normal;
  int has_cached;
} rng = {{0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull, 1}, 0, 0};

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* One step of xoshiro256** on the state s (the global one, or a copy a
** loop keeps in registers). */
static inline uint64_t xoshiro_next(uint64_t *s) {
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

static uint64_t next_u64(void) { return xoshiro_next(rng.s); }

/* A uniform in [0, 1) from the top 53 bits. */
static inline double uniform53(uint64_t bits) { return (double)(bits >> 11) * 0x1.0p-53; }

void lg_manual_seed(uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) rng.s[i] = splitmix64(&x);
  rng.has_cached = 0;
}

/* state[0..3]: the xoshiro words; state[4]: the bits of the cached normal,
** or 0 when there is none.  A cached value of exactly +0.0 is dropped on a
** round trip; it has probability zero and the stream stays deterministic. */
void lg_rng_get_state(uint64_t state[5]) {
  for (int i = 0; i < 4; i++) state[i] = rng.s[i];
  union { double d; uint64_t u; } c = {rng.cached_normal};
  state[4] = rng.has_cached ? c.u : 0;
}

void lg_rng_set_state(const uint64_t state[5]) {
  for (int i = 0; i < 4; i++) rng.s[i] = state[i];
  union { uint64_t u; double d; } c = {state[4]};
  rng.cached_normal = c.d;
  rng.has_cached = state[4] != 0;
}

double lg_rng_uniform(void) { return uniform53(next_u64()); }

double lg_rng_normal(void) {
  if (rng.has_cached) {
    rng.has_cached = 0;
    return rng.cached_normal;
  }
  double u1, u2;
  do u1 = lg_rng_uniform(); while (u1 <= 0.0);   /* log(0) is not a number */
  u2 = lg_rng_uniform();
  double r = sqrt(-2.0 * log(u1)), theta = 2.0 * M_PI * u2;
  rng.cached_normal = r * sin(theta);
  rng.has_cached = 1;
  return r * cos(theta);
}

/* Normals into out[0..n): the cached value first, then pairs (r cos t,
** r sin t) with r = sqrt(-2 log u1), t = 2 pi u2, computed in float; an
** odd last one comes from lg_rng_normal, which caches its partner.  u1 is
** a 53-bit uniform rounded to float (never 0: drawn again), so the tails
** reach 8.5 standard deviations; u2 keeps the top 24 bits. */
#if defined(__AVX512F__)
#define FILL_VW 16
typedef __m512 fvec;
fvec _ZGVeN16v_logf(fvec x);
fvec _ZGVeN16v_sinf(fvec x);
fvec _ZGVeN16v_cosf(fvec x);
#define v_log _ZGVeN16v_logf
#define v_sin _ZGVeN16v_sinf
#define v_cos _ZGVeN16v_cosf
#define v_load _mm512_loadu_ps
#define v_store _mm512_storeu_ps
#define v_set1 _mm512_set1_ps
#define v_mul _mm512_mul_ps
#define v_sqrt _mm512_sqrt_ps
#elif defined(__AVX2__)
#define FILL_VW 8
typedef __m256 fvec;
fvec _ZGVdN8v_logf(fvec x);
fvec _ZGVdN8v_sinf(fvec x);
fvec _ZGVdN8v_cosf(fvec x);
#define v_log _ZGVdN8v_logf
#define v_sin _ZGVdN8v_sinf
#define v_cos _ZGVdN8v_cosf
#define v_load _mm256_loadu_ps
#define v_store _mm256_storeu_ps
#define v_set1 _mm256_set1_ps
#define v_mul _mm256_mul_ps
#define v_sqrt _mm256_sqrt_ps
#else
#define FILL_VW 1
#endif

/* The uniforms for count pairs, drawn on a copy of the state held in
** registers: through the global state they took 80% of the fill. */
static void draw_pairs(float *u1, float *u2, int count) {
  uint64_t s[4] = {rng.s[0], rng.s[1], rng.s[2], rng.s[3]};
  for (int p = 0; p < count; p++) {
    float a;
    do a = (float)uniform53(xoshiro_next(s)); while (a <= 0.0f);
    u1[p] = a;
    u2[p] = (float)(xoshiro_next(s) >> 40) * 0x1.0p-24f;
  }
  for (int i = 0; i < 4; i++) rng.s[i] = s[i];
}

void lg_rng_normal_fill(float *out, int64_t n) {
  int64_t i = 0;
  if (n > 0 && rng.has_cached) {
    out[i++] = (float)rng.cached_normal;
    rng.has_cached = 0;
  }
  float u1[FILL_VW], u2[FILL_VW], c[FILL_VW], s[FILL_VW];
  while (n - i >= 2) {
    int64_t left = (n - i) / 2;
    int pairs = left < FILL_VW ? (int)left : FILL_VW;
    draw_pairs(u1, u2, pairs);
    for (int p = pairs; p < FILL_VW; p++) u1[p] = 1.0f, u2[p] = 0.0f;   /* unused lanes */
#if FILL_VW > 1
    fvec r = v_sqrt(v_mul(v_set1(-2.0f), v_log(v_load(u1))));
    fvec t = v_mul(v_set1(6.28318530717958647692f), v_load(u2));
    v_store(c, v_mul(r, v_cos(t)));
    v_store(s, v_mul(r, v_sin(t)));
#else
    float r = sqrtf(-2.0f * logf(u1[0])), t = 6.28318530717958647692f * u2[0];
    c[0] = r * cosf(t), s[0] = r * sinf(t);
#endif
    for (int p = 0; p < pairs; p++) out[i + 2 * p] = c[p], out[i + 2 * p + 1] = s[p];
    i += 2 * pairs;
  }
  if (i < n) out[i] = (float)lg_rng_normal();
}
