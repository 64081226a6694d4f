/*
** Winograd F(2x2, 3x3) for stride-1 3x3 convolutions (conv_winograd.c),
** used by ops_conv.c for the shapes where it beats the direct kernel.
*/
#ifndef LG_CONV_WINOGRAD_H
#define LG_CONV_WINOGRAD_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_direct.h"
#include "internal.h"

/* Whether F(2x2, 3x3) is worth it (and exists in this build) for a 3x3
** stride-1 conv of c input channels to o output channels with an output
** ho x wo. */
bool lg_conv_winograd_ok(int64_t c, int64_t o, int64_t ho, int64_t wo);

/* The same contract as lg_conv_direct (g->kh and g->kw must be 3):
** y = act(conv2d(x, w) + bias + ep.add), w [o,c,3,3], or when transposed_w
** [c,o,3,3] turned by 180 degrees.  The values differ from the direct
** sums by rounding only.  0, or -1 with lg_seterr (not 3x3, out of
** memory, no vector unit in this build). */
int lg_conv_winograd(const lg_direct_geom *g, const float *x, const float *w, bool transposed_w,
                     const float *bias, lg_epilogue ep, float *y);

/* The weight gradient of a stride-1 3x3 conv2d by F(3x3, 2x2)
** (conv_winograd_weight.c): gw [o,c,3,3] from the image x [n,c,h,w] and
** the output gradient gy [n,o,ho,wo]; whether it is worth it (and exists
** in this build) for c input and o output channels on an ho x wo grid. */
bool lg_conv_winograd_weight_ok(int64_t c, int64_t o, int64_t ho, int64_t wo);
int lg_conv_winograd_weight(const lg_direct_geom *g, const float *x, const float *gy, float *gw);

#endif
