/*
** Direct stride-1 convolution (conv_direct.c), used by ops_conv.c for the
** shapes where it beats im2col + sgemm.
*/
#ifndef LG_CONV_DIRECT_H
#define LG_CONV_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* Image x [n,c,h,w] in, y [n,o,ho,wo] out, kernel kh x kw, stride 1,
** padding (ph, pw): ho = h + 2 ph - kh + 1. */
typedef struct {
  int64_t n, c, h, w, o, ho, wo, kh, kw, ph, pw;
} lg_direct_geom;

/* Whether the direct kernel is worth it (and exists in this build) for a
** conv with o output channels, output width wo and kernel width kw. */
bool lg_conv_direct_ok(int64_t o, int64_t wo, int64_t kw);

/* y = act(conv2d(x, w) + bias) (bias NULL: none; ep.act LG_ACT_NONE: no act).  w is [o,c,kh,kw], or when
** transposed_w, [c,o,kh,kw] used turned by 180 degrees: conv2d(g, w) with
** that weight is conv_transpose2d(g, w) at stride 1.  0, or -1 with
** lg_seterr when out of memory. */
int lg_conv_direct(const lg_direct_geom *g, const float *x, const float *w, bool transposed_w,
                   const float *bias, lg_epilogue ep, float *y);

/* The weight gradient of a stride-1 conv2d: gw [o,c,kh,kw] from the image x
** [n,c,h,w] and the output gradient gy [n,o,ho,wo]; the _ok test as above
** (kernel width 3 only). */
bool lg_conv_direct_weight_ok(int64_t o, int64_t wo, int64_t kw);
int lg_conv_direct_weight(const lg_direct_geom *g, const float *x, const float *gy, float *gw);

#endif
