/*
** The one random generator: xoshiro256** (Blackman and Vigna, 2018), seeded
** by running splitmix64 over the seed, as its authors recommend.  Uniforms
** take the top 53 bits; normals come from the Box-Muller transform, which
** yields them in pairs, the second one cached (its presence is part of the
** state, so a saved state resumes bit-identically).
*/
#include "tensor.h"

#include <math.h>

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

static uint64_t next_u64(void) {
  uint64_t *s = rng.s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

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

double lg_rng_uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }

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
