/*
** IDX reader (the MNIST family's format), gzipped or raw.
**
**   u8 0 | u8 0 | u8 type | u8 ndim | ndim x u32 big-endian sizes | data (big-endian)
**
** Types: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.  Every
** field is validated before anything is allocated: the magic, the type, the
** number of dims (1..8), each size (>= 1), their product (overflow-safe and
** below a limit), and the data length, which must match exactly.  A gzipped
** file is inflated in two steps, header first, so a hostile header cannot
** make us inflate gigabytes.
*/
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_ELEMENTS ((uint64_t)1 << 31)        /* 8 GiB of floats: far beyond any IDX set */
#define MAX_FILE ((uint64_t)1 << 32)

static int elem_size(unsigned type) {
  switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The header at p (len bytes available): fills shape, returns its length or
** -1 with an error. */
static int parse_header(const unsigned char *p, size_t len, const char *what, unsigned *type,
                        int *ndim, int64_t *shape, uint64_t *numel) {
  if (len < 4) {
    lg_seterr("read_idx: %s: %zu bytes is too short for an IDX header", what, len);
    return -1;
  }
  if (p[0] != 0 || p[1] != 0) {
    lg_seterr("read_idx: %s: bad magic %02x %02x (an IDX file starts with two zero bytes)",
              what, p[0], p[1]);
    return -1;
  }
  *type = p[2];
  if (!elem_size(*type)) {
    lg_seterr("read_idx: %s: unknown data type 0x%02x (valid: 08 u8, 09 i8, 0B i16, 0C i32, "
              "0D f32, 0E f64)", what, *type);
    return -1;
  }
  *ndim = p[3];
  if (*ndim < 1 || *ndim > LG_MAXDIM) {
    lg_seterr("read_idx: %s: %d dimensions (valid: 1..%d)", what, *ndim, LG_MAXDIM);
    return -1;
  }
  size_t hlen = 4 + 4 * (size_t)*ndim;
  if (len < hlen) {
    lg_seterr("read_idx: %s: truncated header (%zu of %zu bytes)", what, len, hlen);
    return -1;
  }
  *numel = 1;
  for (int i = 0; i < *ndim; i++) {
    uint32_t d = be32(p + 4 + 4 * i);
    if (d == 0) {
      lg_seterr("read_idx: %s: dimension %d has size 0", what, i + 1);
      return -1;
    }
    shape[i] = d;
    if (*numel > MAX_ELEMENTS / d) {
      lg_seterr("read_idx: %s: sizes multiply past %llu elements (dimension %d is %u)", what,
                (unsigned long long)MAX_ELEMENTS, i + 1, d);
      return -1;
    }
    *numel *= d;
  }
  return (int)hlen;
}

static void convert(const unsigned char *src, unsigned type, uint64_t n, float *dst) {
  for (uint64_t i = 0; i < n; i++) {
    const unsigned char *s = src + i * (uint64_t)elem_size(type);
    switch (type) {
      case 0x08: dst[i] = s[0]; break;
      case 0x09: dst[i] = (int8_t)s[0]; break;
      case 0x0B: dst[i] = (int16_t)(s[0] << 8 | s[1]); break;
      case 0x0C: dst[i] = (float)(int32_t)be32(s); break;
      case 0x0D: { uint32_t u = be32(s); memcpy(&dst[i], &u, 4); break; }
      case 0x0E: {
        uint64_t u = (uint64_t)be32(s) << 32 | be32(s + 4);
        double d;
        memcpy(&d, &u, 8);
        dst[i] = (float)d;
        break;
      }
    }
  }
}

/* Raw IDX bytes -> tensor. */
static lg_tensor *from_raw(const unsigned char *p, size_t len, const char *what) {
  unsigned type;
  int ndim;
  int64_t shape[LG_MAXDIM];
  uint64_t numel;
  int hlen = parse_header(p, len, what, &type, &ndim, shape, &numel);
  if (hlen < 0) return NULL;
  uint64_t need = numel * (uint64_t)elem_size(type), have = len - (size_t)hlen;
  if (have != need) {
    char b[128];
    return lg_seterr(have < need ? "read_idx: %s: truncated: shape %s needs %llu bytes of data, found %llu"
                                 : "read_idx: %s: shape %s needs %llu bytes of data, found %llu: trailing bytes",
                     what, lg_dims_str(shape, ndim, b, sizeof b), (unsigned long long)need,
                     (unsigned long long)have);
  }
  lg_tensor *t = lg_empty(ndim, shape);
  if (t) convert(p + hlen, type, numel, lg_data(t));
  return t;
}

/* Inflates exactly n bytes into out; returns the bytes produced (< n at the
** end of the stream) or -1 on a corrupt stream.  *ended becomes 2 at the end
** of the gzip stream (trailer CRC checked), 1 when the input ran out first. */
static int64_t inflate_some(z_stream *z, unsigned char *out, uint64_t n, int *ended) {
  uint64_t produced = 0;
  while (produced < n && !*ended) {
    uInt chunk = (uInt)(n - produced > (1u << 30) ? (1u << 30) : n - produced);
    z->next_out = out + produced;
    z->avail_out = chunk;
    int rc = inflate(z, Z_NO_FLUSH);
    produced += chunk - z->avail_out;
    if (rc == Z_STREAM_END) *ended = 2;
    else if (z->avail_in == 0 && z->avail_out != 0 && (rc == Z_OK || rc == Z_BUF_ERROR))
      *ended = 1;                  /* the input ran out: the caller reports truncation */
    else if (rc != Z_OK) return -1;
  }
  return (int64_t)produced;
}

static lg_tensor *from_gzip(const unsigned char *p, size_t len, const char *what) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 16) != Z_OK) return lg_seterr("read_idx: %s: zlib init failed", what);
  z.next_in = (unsigned char *)p;
  z.avail_in = (uInt)len;
  unsigned char head[4 + 4 * LG_MAXDIM], *data = NULL;
  int ended = 0;
  lg_tensor *t = NULL;
  /* first the fixed part, then the sizes it announces */
  int64_t got = inflate_some(&z, head, 4, &ended);
  if (got == 4 && head[3] >= 1 && head[3] <= LG_MAXDIM)
    got += inflate_some(&z, head + 4, 4 * (uint64_t)head[3], &ended);
  if (got < 0) {
    lg_seterr("read_idx: %s: corrupt gzip stream: %s", what, z.msg ? z.msg : "bad data");
    goto done;
  }
  unsigned type;
  int ndim;
  int64_t shape[LG_MAXDIM];
  uint64_t numel;
  if (parse_header(head, (size_t)got, what, &type, &ndim, shape, &numel) < 0) goto done;
  uint64_t need = numel * (uint64_t)elem_size(type);
  /* deflate expands at most ~1032:1, so a small file cannot hold a huge
  ** tensor: refuse before allocating what the header claims */
  if (need / 1032 > (uint64_t)len) {
    char b[128];
    lg_seterr("read_idx: %s: truncated: shape %s needs %llu bytes of data, more than %zu "
              "compressed bytes can hold", what, lg_dims_str(shape, ndim, b, sizeof b),
              (unsigned long long)need, len);
    goto done;
  }
  if (!(data = malloc(need + 1))) {
    lg_seterr("read_idx: %s: out of memory for %llu bytes", what, (unsigned long long)need);
    goto done;
  }
  got = inflate_some(&z, data, need + 1, &ended);   /* one more byte: trailing data? */
  if (got < 0) {
    lg_seterr("read_idx: %s: corrupt gzip stream: %s", what, z.msg ? z.msg : "bad data");
    goto done;
  }
  if ((uint64_t)got != need) {
    char b[128];
    lg_seterr((uint64_t)got < need ? "read_idx: %s: truncated: shape %s needs %llu bytes of data, found %llu"
                                   : "read_idx: %s: shape %s needs %llu bytes of data, found more: trailing bytes",
              what, lg_dims_str(shape, ndim, b, sizeof b), (unsigned long long)need,
              (unsigned long long)got);
    goto done;
  }
  if (ended != 2) {
    lg_seterr("read_idx: %s: truncated gzip stream: its end and CRC trailer are missing", what);
    goto done;
  }
  if (z.avail_in > 0) {
    lg_seterr("read_idx: %s: %u bytes after the end of the gzip stream", what, z.avail_in);
    goto done;
  }
  if ((t = lg_empty(ndim, shape))) convert(data, type, numel, lg_data(t));
done:
  free(data);
  inflateEnd(&z);
  return t;
}

lg_tensor *lg_parse_idx(const unsigned char *buf, size_t len, const char *what) {
  if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) return from_gzip(buf, len, what);
  return from_raw(buf, len, what);
}

lg_tensor *lg_read_idx(const char *path) {
  size_t len = 0;
  unsigned char *buf = lg_read_file("read_idx", path, MAX_FILE, &len);
  if (!buf) return NULL;
  lg_tensor *t = lg_parse_idx(buf, len, path);
  free(buf);
  return t;
}
