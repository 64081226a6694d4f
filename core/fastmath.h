/*
** exp and tanh for float that the compiler can vectorise.
**
** glibc's expf and tanhf are scalar calls: in a 2-D GAN with tanh layers
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

#endif
