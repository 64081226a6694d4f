/*
** safetensors reader and writer (the format of huggingface/safetensors):
**
**   u64 little-endian N | N bytes of JSON header | raw little-endian data
**
** The header maps each tensor name to {"dtype", "shape", "data_offsets":
** [begin, end]} (offsets relative to the data section) and may hold a
** "__metadata__" map of strings.  A loader is an attack surface (files come
** from other people), so everything is validated before any data is read:
** the header length against the file, the JSON strictly, every shape and
** size against its dtype, and the offsets must tile the data section
** exactly: contiguous, no overlap, nothing left over.
**
** Writes go to a temporary file in the same directory, are fsync'd, then
** renamed over the target: a process killed mid-save leaves the previous
** checkpoint intact.
*/
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "io_safetensors.c assumes a little-endian host"
#endif

#define MAX_HEADER ((uint64_t)100 << 20)   /* the reference implementation's limit */
#define MAX_TENSORS 100000
#define MAX_NAME 4096

typedef enum { DT_F32, DT_F64, DT_F16, DT_BF16, DT_I64, DT_I32, DT_I16, DT_I8, DT_U8, DT_BOOL } dtype;

static const struct { const char *name; int size; } dtypes[] = {
  {"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
  {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

typedef struct {
  const char *name;          /* in the header's text */
  dtype dt;
  int ndim;
  int64_t shape[LG_MAXDIM];
  uint64_t begin, end;
} entry;

/* {====================================================== strict JSON subset */

/* The text is ours to rewrite: strings are decoded in place (see
** read_string), so the strings of a header cost no memory beyond its text,
** however many there are. */
typedef struct {
  char *p, *end;
  const char *start;
  const char *what;          /* the file name, for messages */
} json;

static int jerr(json *j, const char *msg) {
  lg_seterr("load: %s: malformed header: %s", j->what, msg);
  return -1;
}

static void skip_ws(json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int expect(json *j, char c) {
  skip_ws(j);
  if (j->p >= j->end || *j->p != c) {
    char msg[64];
    snprintf(msg, sizeof msg, "expected '%c' at byte %ld of the header", c, (long)(j->p - j->start));
    return jerr(j, msg);
  }
  j->p++;
  return 0;
}

static bool peek(json *j, char c) {
  skip_ws(j);
  return j->p < j->end && *j->p == c;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int read_hex4(json *j, unsigned *u) {
  if (j->end - j->p < 4) return jerr(j, "truncated \\u escape");
  *u = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(j->p[i]);
    if (h < 0) return jerr(j, "bad \\u escape");
    *u = *u * 16 + (unsigned)h;
  }
  j->p += 4;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63));
    o[2] = (char)(0x80 | (cp & 63));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
  o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63));
  return 4;
}

/* A string, decoded (UTF-8, escapes resolved) in place: a decoded string is
** never longer than its escaped form (\uXXXX, 6 bytes, becomes at most 3;
** a surrogate pair, 12, becomes 4), so the writes stay behind the reads and
** the NUL lands at the latest on the closing quote. */
static int read_string(json *j, const char **out) {
  *out = NULL;
  if (expect(j, '"')) return -1;
  char *s = j->p, *o = s;
  for (;;) {
    if (j->p >= j->end) return jerr(j, "unterminated string");
    unsigned char c = (unsigned char)*j->p++;
    if (c == '"') break;
    if (c < 0x20) return jerr(j, "control character in string");
    if (c != '\\') { *o++ = (char)c; continue; }
    if (j->p >= j->end) return jerr(j, "unterminated string");
    char e = *j->p++;
    unsigned cp;
    switch (e) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u':
        if (read_hex4(j, &cp)) return -1;
        if (cp >= 0xD800 && cp < 0xDC00) {     /* a surrogate pair */
          unsigned lo;
          if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
            return jerr(j, "unpaired surrogate in \\u escape");
          j->p += 2;
          if (read_hex4(j, &lo)) return -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return jerr(j, "bad surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return jerr(j, "unpaired surrogate in \\u escape");
        }
        if (cp == 0) return jerr(j, "NUL character in string");
        o += put_utf8(o, cp);
        break;
      default:
        return jerr(j, "bad escape in string");
    }
  }
  if (o - s > MAX_NAME) return jerr(j, "string longer than 4096 bytes");   /* as save checks */
  *o = '\0';
  *out = s;
  return 0;
}

/* A non-negative integer without sign, fraction or exponent. */
static int read_uint(json *j, uint64_t *v) {
  skip_ws(j);
  if (j->p >= j->end || *j->p < '0' || *j->p > '9') return jerr(j, "expected a non-negative integer");
  if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
    return jerr(j, "integer with a leading zero");
  *v = 0;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
    if (*v > (UINT64_MAX - 9) / 10) return jerr(j, "integer too large");
    *v = *v * 10 + (uint64_t)(*j->p++ - '0');
  }
  if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
    return jerr(j, "expected an integer, got a fraction");
  return 0;
}

/* [u, u, ...] with at most max entries. */
static int read_uint_array(json *j, uint64_t *v, int max, int *n) {
  *n = 0;
  if (expect(j, '[')) return -1;
  if (peek(j, ']')) { j->p++; return 0; }
  for (;;) {
    if (*n == max) return jerr(j, "array too long");
    if (read_uint(j, &v[(*n)++])) return -1;
    if (peek(j, ',')) { j->p++; continue; }
    return expect(j, ']');
  }
}

/* }====================================================== */

/* {====================================================== header */

/* The parsed header.  Names, keys and values point into its text, which a
** successful load hands over to the caller with them (see make_outputs). */
typedef struct {
  entry *e;
  int n, cap;
  lg_meta *meta;
  int nmeta, capmeta;
  char *text;
} header;

static void header_free(header *h) {
  free(h->e);
  free(h->meta);
  free(h->text);
  memset(h, 0, sizeof *h);
}

static int grow(void **v, int *cap, int n, size_t size) {
  if (n < *cap) return 0;
  int c = *cap ? *cap * 2 : 16;
  void *nv = realloc(*v, (size_t)c * size);
  if (!nv) return -1;
  *v = nv;
  *cap = c;
  return 0;
}

/* Each entry takes at least 5 bytes of the header ("":""), so the array
** stays within a few times the header's length. */
static int read_metadata(json *j, header *h) {
  if (expect(j, '{')) return -1;
  if (peek(j, '}')) { j->p++; return 0; }
  for (;;) {
    const char *k, *v;
    if (read_string(j, &k) || expect(j, ':') || read_string(j, &v)) return -1;
    if (grow((void **)&h->meta, &h->capmeta, h->nmeta, sizeof *h->meta))
      return jerr(j, "out of memory");
    h->meta[h->nmeta].key = k;
    h->meta[h->nmeta++].value = v;
    if (peek(j, ',')) { j->p++; continue; }
    return expect(j, '}');
  }
}

static int read_entry(json *j, entry *e) {
  bool have_dtype = false, have_shape = false, have_offsets = false;
  if (expect(j, '{')) return -1;
  for (;;) {
    const char *key;
    if (read_string(j, &key) || expect(j, ':')) return -1;
    int rc = 0;
    if (!strcmp(key, "dtype") && !have_dtype) {
      const char *dt;
      rc = read_string(j, &dt);
      if (!rc) {
        rc = -1;
        for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
          if (!strcmp(dt, dtypes[i].name)) { e->dt = (dtype)i; rc = 0; }
        if (rc) lg_seterr("load: %s: tensor '%s' has unsupported dtype '%.32s'", j->what, e->name, dt);
      }
      have_dtype = true;
    } else if (!strcmp(key, "shape") && !have_shape) {
      uint64_t dims[LG_MAXDIM];
      rc = read_uint_array(j, dims, LG_MAXDIM, &e->ndim);
      for (int i = 0; !rc && i < e->ndim; i++) {
        if (dims[i] > ((uint64_t)1 << 40)) rc = jerr(j, "dimension too large");
        e->shape[i] = (int64_t)dims[i];
      }
      have_shape = true;
    } else if (!strcmp(key, "data_offsets") && !have_offsets) {
      uint64_t off[2];
      int n;
      rc = read_uint_array(j, off, 2, &n);
      if (!rc && n != 2) rc = jerr(j, "data_offsets must hold two integers");
      e->begin = off[0];
      e->end = off[1];
      have_offsets = true;
    } else {
      lg_seterr("load: %s: malformed header: unexpected or repeated field '%.64s' in tensor '%.200s'",
                j->what, key, e->name);
      rc = -1;
    }
    if (rc) return -1;
    if (peek(j, ',')) { j->p++; continue; }
    if (expect(j, '}')) return -1;
    break;
  }
  if (!have_dtype || !have_shape || !have_offsets) {
    lg_seterr("load: %s: tensor '%.200s' lacks %s", j->what, e->name,
              !have_dtype ? "a dtype" : !have_shape ? "a shape" : "data_offsets");
    return -1;
  }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No two tensors share a name.  Sorted names put twins side by side: n log n
** comparisons, each no longer than a name (comparing every pair took 26 s
** for 100k tensors). */
static int check_names(const header *h, const char *what) {
  if (h->n < 2) return 0;
  const char **names = malloc(sizeof *names * (size_t)h->n);
  if (!names) {
    lg_seterr("load: %s: out of memory", what);
    return -1;
  }
  for (int i = 0; i < h->n; i++) names[i] = h->e[i].name;
  qsort(names, (size_t)h->n, sizeof *names, by_name);
  int rc = 0;
  for (int i = 1; i < h->n && !rc; i++)
    if (!strcmp(names[i - 1], names[i])) {
      lg_seterr("load: %s: tensor '%.200s' appears twice", what, names[i]);
      rc = -1;
    }
  free(names);
  return rc;
}

/* File order.  Ties (empty tensors) by end, so an empty tensor at the start
** of another sorts before it, whatever order qsort leaves equal keys in. */
static int by_offsets(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* Checks each entry's byte size and that the entries tile [0, data_len);
** leaves the entries in file order. */
static int check_layout(header *h, uint64_t data_len, const char *what) {
  for (int i = 0; i < h->n; i++) {
    entry *e = &h->e[i];
    uint64_t bytes = (uint64_t)dtypes[e->dt].size;
    for (int d = 0; d < e->ndim; d++) {
      if (e->shape[d] && bytes > UINT64_MAX / (uint64_t)e->shape[d]) {
        lg_seterr("load: %s: tensor '%.200s' is too large", what, e->name);
        return -1;
      }
      bytes *= (uint64_t)e->shape[d];
    }
    if (e->end < e->begin || e->end - e->begin != bytes) {
      char b[160];
      lg_seterr("load: %s: tensor '%.200s' of dtype %s and shape %s needs %llu bytes, its "
                "data_offsets [%llu, %llu] give %lld", what, e->name, dtypes[e->dt].name,
                lg_dims_str(e->shape, e->ndim, b, sizeof b), (unsigned long long)bytes,
                (unsigned long long)e->begin, (unsigned long long)e->end,
                (long long)(e->end - e->begin));
      return -1;
    }
  }
  if (h->n) qsort(h->e, (size_t)h->n, sizeof *h->e, by_offsets);   /* qsort(NULL, 0) is UB */
  uint64_t pos = 0;
  for (int i = 0; i < h->n; i++) {
    if (h->e[i].begin != pos) {
      lg_seterr("load: %s: tensor '%.200s' starts at byte %llu of the data, expected %llu "
                "(tensors must be contiguous and must not overlap)", what, h->e[i].name,
                (unsigned long long)h->e[i].begin, (unsigned long long)pos);
      return -1;
    }
    pos = h->e[i].end;
  }
  if (pos != data_len) {
    lg_seterr(pos > data_len ? "load: %s: truncated: tensors need %llu bytes of data, the file has %llu"
                             : "load: %s: %llu bytes of tensor data but the file has %llu: trailing garbage",
              what, (unsigned long long)pos, (unsigned long long)data_len);
    return -1;
  }
  return 0;
}

/* Parses the n-byte header at text, a malloc'd buffer that h owns from now
** on (freed on failure).  Memory beyond the text: the metadata array (16
** bytes per entry, which takes at least 6 bytes of text, doubled as it
** grows) and the tensor entries (96 bytes each, from some 50 bytes of text):
** a few times n. */
static int parse_header(char *text, size_t n, uint64_t data_len, const char *what, header *h) {
  memset(h, 0, sizeof *h);
  h->text = text;
  json j = {text, text + n, text, what};
  if (expect(&j, '{')) goto fail;
  bool first = true, have_meta = false;
  while (!peek(&j, '}')) {
    if (!first && expect(&j, ',')) goto fail;
    first = false;
    const char *name;
    if (read_string(&j, &name) || expect(&j, ':')) goto fail;
    if (!strcmp(name, "__metadata__")) {
      if (have_meta) { jerr(&j, "repeated __metadata__"); goto fail; }
      have_meta = true;
      if (read_metadata(&j, h)) goto fail;
      continue;
    }
    if (h->n == MAX_TENSORS) {
      jerr(&j, "more than 100000 tensors");
      goto fail;
    }
    if (grow((void **)&h->e, &h->cap, h->n, sizeof *h->e)) {
      jerr(&j, "out of memory");
      goto fail;
    }
    entry *e = &h->e[h->n++];
    memset(e, 0, sizeof *e);
    e->name = name;
    if (read_entry(&j, e)) goto fail;
  }
  j.p++;
  skip_ws(&j);
  if (j.p != j.end) { jerr(&j, "bytes after the closing brace"); goto fail; }
  if (check_names(h, what) || check_layout(h, data_len, what)) goto fail;
  return 0;
fail:
  header_free(h);
  return -1;
}

/* }====================================================== */

/* {====================================================== conversion */

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
  if (exp == 0) {
    if (man == 0) bits = sign;
    else {                                 /* subnormal: normalise */
      int e = -1;
      do { man <<= 1; e++; } while (!(man & 1024));
      bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 1023) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static void convert(const unsigned char *src, dtype dt, int64_t n, float *dst) {
  for (int64_t i = 0; i < n; i++) {
    const unsigned char *s = src + i * dtypes[dt].size;
    union { float f; double d; int64_t i64; int32_t i32; int16_t i16; uint16_t u16; uint32_t u32; } v;
    memcpy(&v, s, (size_t)dtypes[dt].size);
    switch (dt) {
      case DT_F32: dst[i] = v.f; break;
      case DT_F64: dst[i] = (float)v.d; break;
      case DT_F16: dst[i] = half_to_float(v.u16); break;
      case DT_BF16: { uint32_t b = (uint32_t)v.u16 << 16; memcpy(&dst[i], &b, 4); break; }
      case DT_I64: dst[i] = (float)v.i64; break;
      case DT_I32: dst[i] = (float)v.i32; break;
      case DT_I16: dst[i] = (float)v.i16; break;
      case DT_I8: dst[i] = (float)(int8_t)s[0]; break;
      case DT_U8: dst[i] = (float)s[0]; break;
      case DT_BOOL: dst[i] = s[0] ? 1.0f : 0.0f; break;
    }
  }
}

/* Creates an empty tensor per entry and hands the names and metadata over to
** the caller, with the header text that holds their strings: its address
** rides in the slot after the last tensor, ts[n].name, where lg_free_loaded
** finds it.  The entries stay in h for the caller to fill the tensors. */
static int make_outputs(header *h, lg_named **ts, int *n, lg_meta **meta, int *nmeta) {
  lg_named *out = calloc((size_t)h->n + 1, sizeof *out);
  if (!out) {
    lg_seterr("load: out of memory");
    return -1;
  }
  for (int i = 0; i < h->n; i++) {
    out[i].name = h->e[i].name;
    out[i].t = lg_empty(h->e[i].ndim, h->e[i].shape);
    if (!out[i].t) {
      for (int k = 0; k < i; k++) lg_release(out[k].t);
      free(out);
      return -1;
    }
  }
  out[h->n].name = h->text;
  if (h->nmeta && h->nmeta < h->capmeta) {   /* give back the growth slack */
    lg_meta *m = realloc(h->meta, sizeof *m * (size_t)h->nmeta);
    if (m) h->meta = m;
  }
  *ts = out;
  *n = h->n;
  *meta = h->meta;
  *nmeta = h->nmeta;
  h->meta = NULL;
  h->nmeta = h->capmeta = 0;
  h->text = NULL;
  return 0;
}

void lg_free_loaded(lg_named *ts, int n, lg_meta *meta, int nmeta) {
  (void)nmeta;   /* the metadata strings live in the header text */
  if (ts) {
    for (int i = 0; i < n; i++) lg_release(ts[i].t);
    free((char *)ts[n].name);
    free(ts);
  }
  free(meta);
}

/* }====================================================== */

/* {====================================================== load */

static int check_prefix(uint64_t total, const unsigned char *len8, const char *what,
                        uint64_t *hlen) {
  if (total < 8) {
    lg_seterr("load: %s: %llu bytes is too short for a safetensors file (8-byte header length)",
              what, (unsigned long long)total);
    return -1;
  }
  uint64_t n;
  memcpy(&n, len8, 8);
  if (n < 2 || n > MAX_HEADER || n > total - 8) {
    lg_seterr("load: %s: header length %llu is invalid for a file of %llu bytes%s", what,
              (unsigned long long)n, (unsigned long long)total,
              n > MAX_HEADER ? " (limit 100 MiB)" : "");
    return -1;
  }
  *hlen = n;
  return 0;
}

int lg_parse_safetensors(const unsigned char *buf, size_t len, lg_named **ts, int *n,
                         lg_meta **meta, int *nmeta) {
  uint64_t hlen;
  header h;
  if (check_prefix(len, buf, "<buffer>", &hlen)) return -1;
  const unsigned char *data = buf + 8 + hlen;
  char *text = malloc((size_t)hlen);
  if (!text) {
    lg_seterr("load: <buffer>: out of memory for the %llu-byte header", (unsigned long long)hlen);
    return -1;
  }
  memcpy(text, buf + 8, (size_t)hlen);
  if (parse_header(text, (size_t)hlen, len - 8 - hlen, "<buffer>", &h)) return -1;
  int rc = make_outputs(&h, ts, n, meta, nmeta);
  for (int i = 0; !rc && i < h.n; i++)
    convert(data + h.e[i].begin, h.e[i].dt, (*ts)[i].t->numel, lg_data((*ts)[i].t));
  header_free(&h);
  return rc;
}

/* The data section, read front to back through a buffer: a checkpoint of
** many small tensors would otherwise cost a system call per tensor. */
#define BUF ((size_t)1 << 20)
typedef struct {
  int fd;
  unsigned char *buf, *scratch;   /* BUF bytes each */
  size_t pos, len;
} reader;

/* The next n bytes into dst; -1 with errno (0 at an early end of file). */
static int next_bytes(reader *r, void *dst, size_t n) {
  unsigned char *d = dst;
  while (n) {
    if (r->pos == r->len) {
      if (n >= BUF) return lg_read_all(r->fd, d, n);   /* a large tensor: no copy */
      ssize_t k;
      do k = read(r->fd, r->buf, BUF); while (k < 0 && errno == EINTR);
      if (k <= 0) {
        if (k == 0) errno = 0;
        return -1;
      }
      r->pos = 0;
      r->len = (size_t)k;
    }
    size_t take = r->len - r->pos < n ? r->len - r->pos : n;
    memcpy(d, r->buf + r->pos, take);
    r->pos += take;
    d += take;
    n -= take;
  }
  return 0;
}

/* Tensor t's data, of dtype dt: F32 straight into the tensor, other dtypes
** converted a scratch buffer at a time. */
static int read_tensor(reader *r, lg_tensor *t, dtype dt) {
  size_t size = (size_t)dtypes[dt].size;
  if (dt == DT_F32) return next_bytes(r, lg_data(t), (size_t)t->numel * size);
  int64_t step = (int64_t)(BUF / size);
  for (int64_t done = 0; done < t->numel; done += step) {
    int64_t k = t->numel - done < step ? t->numel - done : step;
    if (next_bytes(r, r->scratch, (size_t)k * size)) return -1;
    convert(r->scratch, dt, k, lg_data(t) + done);
  }
  return 0;
}

int lg_load_safetensors(const char *path, lg_named **ts, int *n, lg_meta **meta, int *nmeta) {
  uint64_t total, hlen;
  int fd = lg_open_regular("load", path, &total);
  if (fd < 0) return -1;
  unsigned char len8[8];
  char *text = NULL;
  reader r = {fd, NULL, NULL, 0, 0};
  header h = {0};
  int rc = -1;
  if (total >= 8 && lg_read_all(fd, len8, 8)) {
    lg_seterr("load: %s: cannot read: %s", path, errno ? strerror(errno) : "the file shrank");
    goto done;
  }
  if (check_prefix(total, len8, path, &hlen)) goto done;
  if (!(text = malloc((size_t)hlen))) {
    lg_seterr("load: %s: out of memory for the %llu-byte header", path, (unsigned long long)hlen);
    goto done;
  }
  if (lg_read_all(fd, text, (size_t)hlen)) {
    lg_seterr("load: %s: cannot read the %llu-byte header: %s", path, (unsigned long long)hlen,
              errno ? strerror(errno) : "the file shrank");
    goto done;
  }
  char *owned = text;
  text = NULL;
  if (parse_header(owned, (size_t)hlen, total - 8 - hlen, path, &h)) goto done;
  if (!(r.buf = malloc(BUF)) || !(r.scratch = malloc(BUF))) {
    lg_seterr("load: %s: out of memory", path);
    goto done;
  }
  if (make_outputs(&h, ts, n, meta, nmeta)) goto done;
  rc = 0;
  for (int i = 0; i < h.n && !rc; i++)   /* the entries are in file order */
    if (read_tensor(&r, (*ts)[i].t, h.e[i].dt)) {
      lg_seterr("load: %s: cannot read tensor '%.200s': %s", path, (*ts)[i].name,
                errno ? strerror(errno) : "truncated (the file shrank)");
      rc = -1;
    }
  if (rc) {
    lg_free_loaded(*ts, *n, *meta, *nmeta);
    *ts = NULL;
    *meta = NULL;
  }
done:
  header_free(&h);
  free(text);
  free(r.buf);
  free(r.scratch);
  close(fd);
  return rc;
}

/* }====================================================== */

/* {====================================================== save */

typedef struct {
  char *s;
  size_t n, cap;
  bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->cap + n + 1) * 2;
    char *ns = realloc(b->s, cap);
    if (!ns) { b->oom = true; return; }
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json_string(sbuf *b, const char *s) {
  puts_(b, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; put(b, esc, 2); }
    else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); puts_(b, esc); }
    else put(b, (const char *)&c, 1);
  }
  puts_(b, "\"");
}

static int validate_save(const lg_named *ts, int n, const lg_meta *meta, int nmeta) {
  for (int i = 0; i < n; i++) {
    if (!ts[i].name || !ts[i].name[0] || !strcmp(ts[i].name, "__metadata__") || !ts[i].t) {
      lg_seterr("save: tensor %d has an invalid name '%s'", i + 1, ts[i].name ? ts[i].name : "(null)");
      return -1;
    }
    if (strlen(ts[i].name) > MAX_NAME) {
      lg_seterr("save: tensor name longer than %d bytes", MAX_NAME);
      return -1;
    }
  }
  if (n > 1) {   /* twins side by side in sorted order */
    const char **names = malloc(sizeof *names * (size_t)n);
    if (!names) {
      lg_seterr("save: out of memory");
      return -1;
    }
    for (int i = 0; i < n; i++) names[i] = ts[i].name;
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 1; i < n; i++)
      if (!strcmp(names[i - 1], names[i])) {
        lg_seterr("save: two tensors are named '%.200s'", names[i]);
        free(names);
        return -1;
      }
    free(names);
  }
  for (int i = 0; i < nmeta; i++)
    if (!meta[i].key || !meta[i].value || strlen(meta[i].key) > MAX_NAME ||
        strlen(meta[i].value) > MAX_NAME) {
      lg_seterr("save: metadata entry %d must be a string key and value of at most %d bytes",
                i + 1, MAX_NAME);
      return -1;
    }
  return 0;
}

static int build_header(sbuf *b, const lg_named *ts, int n, const lg_meta *meta, int nmeta) {
  char num[64];
  uint64_t off = 0;
  puts_(b, "{");
  if (nmeta) {
    puts_(b, "\"__metadata__\":{");
    for (int i = 0; i < nmeta; i++) {
      if (i) puts_(b, ",");
      put_json_string(b, meta[i].key);
      puts_(b, ":");
      put_json_string(b, meta[i].value);
    }
    puts_(b, "}");
  }
  for (int i = 0; i < n; i++) {
    const lg_tensor *t = ts[i].t;
    if (i || nmeta) puts_(b, ",");
    put_json_string(b, ts[i].name);
    puts_(b, ":{\"dtype\":\"F32\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
      snprintf(num, sizeof num, d ? ",%lld" : "%lld", (long long)t->shape[d]);
      puts_(b, num);
    }
    uint64_t end = off + (uint64_t)t->numel * 4;
    snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
             (unsigned long long)end);
    puts_(b, num);
    off = end;
  }
  puts_(b, "}");
  while (b->n % 8) puts_(b, " ");   /* keeps the data 8-byte aligned, as the reference writer does */
  if (b->oom) {
    lg_seterr("save: out of memory");
    return -1;
  }
  return 0;
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w == 0) errno = ENOSPC;   /* no progress and no error: treat as a full disk */
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

int lg_save_safetensors(const char *path, const lg_named *ts, int n, const lg_meta *meta,
                        int nmeta) {
  if (validate_save(ts, n, meta, nmeta)) return -1;
  sbuf hdr = {0};
  if (build_header(&hdr, ts, n, meta, nmeta)) {
    free(hdr.s);
    return -1;
  }
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp) {
    free(hdr.s);
    lg_seterr("save: path too long: '%s'", path);
    return -1;
  }
  /* O_CREAT|O_EXCL under a random name: a file or symbolic link planted at
  ** a guessable name cannot receive the write */
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    free(hdr.s);
    lg_seterr("save: cannot create a file next to '%s': %s", path, strerror(errno));
    return -1;
  }
  mode_t mask = umask(0);   /* mkstemp makes 0600; a checkpoint gets the usual 0666 & ~umask */
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);   /* best effort: some file systems have no modes */
  uint64_t hlen = hdr.n;
  int rc = write_all(fd, &hlen, 8) || write_all(fd, hdr.s, hdr.n);
  free(hdr.s);
  float *chunk = NULL;
  for (int i = 0; i < n && !rc; i++) {
    const lg_tensor *t = ts[i].t;
    if (lg_is_contiguous(t)) {
      rc = write_all(fd, lg_data(t), (size_t)t->numel * 4);
    } else {
      float *c = realloc(chunk, (size_t)(t->numel ? t->numel : 1) * 4);
      if (!c) { rc = -1; break; }
      chunk = c;
      lg_copy_to(t, chunk);
      rc = write_all(fd, chunk, (size_t)t->numel * 4);
    }
  }
  free(chunk);
  if (rc || fsync(fd)) {
    lg_seterr("save: writing '%s' failed: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd)) {
    lg_seterr("save: writing '%s' failed: %s", tmp, strerror(errno));
    unlink(tmp);
    return -1;
  }
  if (rename(tmp, path)) {
    lg_seterr("save: cannot move '%s' to '%s': %s", tmp, path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  sync_dir(path);
  return 0;
}

/* }====================================================== */
