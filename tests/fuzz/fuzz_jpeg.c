/*
** libFuzzer target: the JPEG decoder (libjpeg-turbo behind our header
** checks, error manager and memory/scan limits in core/io_image.c) must
** accept or reject any byte string without a crash, a leak, undefined
** behaviour, an exit() from libjpeg or an allocation above its caps (run
** with -rss_limit_mb=1024 -malloc_limit_mb=512).
**
** Seeds (tests/fuzz/corpus/jpeg, written with libjpeg's compressor): grey and
** YCbCr, baseline and progressive, 4:2:0 / 4:2:2 / 4:4:4 sampling, optimized
** Huffman tables, restart markers, arithmetic coding (sequential and
** progressive), RGB without colour transform, CMYK and YCCK (refused), 1x1.
** Input is passed as is: no checksums to repair.  A decoded image must hold
** 1 or 3 planes of values in [0,1]; it is then resized, as in fuzz_image.c.
*/
#include <stdlib.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  lg_tensor *t = lg_image_decode(data, size, "<fuzz>");
  if (!t) return 0;
  if (t->ndim != 3 || (t->shape[0] != 1 && t->shape[0] != 3)) abort();
  const float *d = lg_data(t);
  for (int64_t i = 0; i < t->numel; i++)
    if (!(d[i] >= 0.0f && d[i] <= 1.0f)) abort();
  int h = (int)(t->shape[1] + 1) / 2, w = (int)(t->shape[2] < 64 ? t->shape[2] * 2 : 7);
  lg_tensor *r = lg_image_resize(t, h, w);
  if (!r) abort();
  lg_release(r);
  lg_release(t);
  return 0;
}
