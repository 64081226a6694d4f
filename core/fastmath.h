/*
** exp, tanh and log1p for float that the compiler can vectorise.
**
** glibc's expf, tanhf and log1pf are scalar calls: in a 2-D GAN with tanh layers
** they took 37% of the time, against PyTorch's vectorised versions.  These
** are plain arithmetic (no calls, no branches the vectoriser cannot turn
** into blends), with the classic Cephes single-precision coefficients
** (Moshier, "Methods and Programs for Mathematical Functions", 1989); the
** error is a few ulp, and NaN propagates.  Results are the same on every
** run and thread count.
*/
#ifndef LG_FASTMATH_H
#define LG_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* e^x: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by a
** degree-6 polynomial, 2^n through the exponent bits.  n is rounded by
** adding 1.5 * 2^23 (round to nearest even, as rintf) and read back from the
** float's bits with unsigned arithmetic: no float-to-int conversion, which
** would be undefined for NaN (the clamp lets NaN through, and the NaN then
** propagates through r and p). */
static inline float lg_expf(float x) {
  float xc = x < -87.33f ? -87.33f : (x > 88.72f ? 88.72f : x);
  float t = xc * 1.44269504088896341f + 12582912.0f;
  float n = t - 12582912.0f;             /* an integer in [-126, 128] unless NaN */
  float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  uint32_t tbits;
  memcpy(&tbits, &t, sizeof tbits);
  uint32_t bits = (tbits - 0x4B400000u + 127u) << 23;   /* (n + 127) << 23 */
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float y = p * scale;
  y = x < -87.33f ? 0.0f : y;          /* underflow (the true value is subnormal or 0) */
  return x > 88.72f ? INFINITY : y;    /* NaN compares false both times and stays NaN */
}

/* tanh: an odd polynomial near 0, where 1 - 2/(e^2a + 1) would cancel, and
** that form elsewhere (it reaches +-1 without overflow: 2/inf = 0). */
static inline float lg_tanhf(float x) {
  float a = fabsf(x), z = x * x;
  float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                  1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  float big = 1.0f - 2.0f / (lg_expf(2.0f * a) + 1.0f);
  big = x < 0.0f ? -big : big;
  return a < 0.625f ? small : big;
}

/* log(1 + x) for x >= 0 (softplus and BCE call it with e^-|x|, in (0, 1]).
** u = 1 + x is split as m 2^k with m in [sqrt(1/2), sqrt(2)) through the
** float's bits, log m by Cephes' degree-9 polynomial in f = m - 1.  The
** rounding of 1 + x is undone by scaling with x / (u - 1), exact since
** u - 1 is (Goldberg, "What every computer scientist should know about
** floating-point arithmetic", 1991, theorem 4); where u rounds to 1 the
** answer is x itself.  NaN propagates; x must be finite (+inf gives NaN). */
static inline float lg_log1pf(float x) {
  float u = 1.0f + x;
  uint32_t bits;
  memcpy(&bits, &u, sizeof bits);
  /* subtracting the bits of sqrt(1/2) puts m in [sqrt(1/2), sqrt(2)) */
  uint32_t off = bits - 0x3F3504F3u;
  float k = (float)(int32_t)(off >> 23);   /* u >= 1: off < 2^31, k >= 0 */
  uint32_t mbits = (off & 0x007FFFFFu) + 0x3F3504F3u;
  float m;
  memcpy(&m, &mbits, sizeof m);
  float f = m - 1.0f, z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z - 2.12194440e-4f * k - 0.5f * z;
  float logu = f + y + 0.693359375f * k;
  /* where u == 1, logu is exactly 0 and the answer is x: added by a 0/1
  ** factor, since a select after the division stops the vectoriser */
  float d = u - 1.0f, one = (float)(d == 0.0f);
  return logu * (x / (d + one)) + one * x;
}

/* out[j] = log(1 + e^-|x[j sx]|) for j < n: the tail of softplus.  Two
** passes, each a loop the compiler vectorises; GCC 12 does not vectorise
** the composition in one loop (it threads lg_expf's range checks into
** branches). */
static inline void lg_softplus_tail(float *restrict out, const float *restrict x, int64_t sx,
                                    int64_t n) {
  for (int64_t j = 0; j < n; j++) out[j] = lg_expf(-fabsf(x[j * sx]));
  for (int64_t j = 0; j < n; j++) out[j] = lg_log1pf(out[j]);
}

#endif
