/*
** libFuzzer target: the PNG decoder (our chunk checks in front of
** stb_image) must accept or reject any byte string without a crash, a leak,
** undefined behaviour or an allocation above its caps (run with
** -rss_limit_mb=1024 -malloc_limit_mb=512).
**
** The harness rewrites every chunk's CRC before decoding: the decoder
** rejects critical chunks with a wrong CRC, so without this nearly every
** mutation of the pixel data would stop at the CRC check and stb's
** inflate/unfilter code would go untested.  CRC rejection itself is a unit
** test (tests/core/test_image.c).  Only files with the PNG signature are
** touched: JPEG input (dispatched on its magic bytes) has its own target,
** fuzz_jpeg.c.  A decoded image must hold 1 or 3 planes of
** values in [0,1]; it is then resized, which exercises both filters.
*/
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fix_crcs(unsigned char *p, size_t len) {
  size_t pos = 8;
  while (pos + 12 <= len) {
    uint32_t n = be32(p + pos);
    if (n > len - pos - 12) return;
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), p + pos + 4, 4 + n);
    unsigned char *c = p + pos + 8 + n;
    c[0] = (unsigned char)(crc >> 24);
    c[1] = (unsigned char)(crc >> 16);
    c[2] = (unsigned char)(crc >> 8);
    c[3] = (unsigned char)crc;
    pos += 12 + (size_t)n;
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  unsigned char *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  if (size >= 8 && memcmp(copy, "\x89PNG\r\n\x1a\n", 8) == 0) fix_crcs(copy, size);
  lg_tensor *t = lg_image_decode(copy, size, "<fuzz>");
  free(copy);
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
