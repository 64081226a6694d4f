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
  char *name;
  dtype dt;
  int ndim;
  int64_t shape[LG_MAXDIM];
  uint64_t begin, end;
} entry;

/* {====================================================== strict JSON subset */

typedef struct {
  const char *p, *end, *start;
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

/* A string into a new malloc'd buffer (UTF-8, escapes decoded). */
static int read_string(json *j, char **out) {
  *out = NULL;
  if (expect(j, '"')) return -1;
  const char *start = j->p;
  while (j->p < j->end && *j->p != '"') j->p += (*j->p == '\\' && j->p + 1 < j->end) ? 2 : 1;
  if (j->p >= j->end) return jerr(j, "unterminated string");
  size_t raw = (size_t)(j->p - start);
  if (raw > MAX_NAME) return jerr(j, "string longer than 4096 bytes");
  char *s = malloc(raw * 2 + 1), *o = s;   /* \uXXXX (6 bytes) never grows past 4 */
  if (!s) return jerr(j, "out of memory");
  for (j->p = start; *j->p != '"';) {
    unsigned char c = (unsigned char)*j->p++;
    if (c < 0x20) { free(s); return jerr(j, "control character in string"); }
    if (c != '\\') { *o++ = (char)c; continue; }
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
        if (read_hex4(j, &cp)) { free(s); return -1; }
        if (cp >= 0xD800 && cp < 0xDC00) {     /* a surrogate pair */
          unsigned lo;
          if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
            free(s);
            return jerr(j, "unpaired surrogate in \\u escape");
          }
          j->p += 2;
          if (read_hex4(j, &lo)) { free(s); return -1; }
          if (lo < 0xDC00 || lo > 0xDFFF) { free(s); return jerr(j, "bad surrogate pair"); }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          free(s);
          return jerr(j, "unpaired surrogate in \\u escape");
        }
        if (cp == 0) { free(s); return jerr(j, "NUL character in string"); }
        o += put_utf8(o, cp);
        break;
      default:
        free(s);
        return jerr(j, "bad escape in string");
    }
  }
  j->p++;   /* closing quote */
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

typedef struct {
  entry *e;
  int n, cap;
  lg_meta *meta;
  int nmeta, capmeta;
} header;

static void header_free(header *h) {
  for (int i = 0; i < h->n; i++) free(h->e[i].name);
  free(h->e);
  for (int i = 0; i < h->nmeta; i++) {
    free((char *)h->meta[i].key);
    free((char *)h->meta[i].value);
  }
  free(h->meta);
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

static int read_metadata(json *j, header *h) {
  if (expect(j, '{')) return -1;
  if (peek(j, '}')) { j->p++; return 0; }
  for (;;) {
    char *k = NULL, *v = NULL;
    if (read_string(j, &k) || expect(j, ':') || read_string(j, &v)) {
      free(k);
      free(v);
      return -1;
    }
    if (grow((void **)&h->meta, &h->capmeta, h->nmeta, sizeof *h->meta)) {
      free(k);
      free(v);
      return jerr(j, "out of memory");
    }
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
    char *key = NULL;
    if (read_string(j, &key) || expect(j, ':')) { free(key); return -1; }
    int rc = 0;
    if (!strcmp(key, "dtype") && !have_dtype) {
      char *dt = NULL;
      rc = read_string(j, &dt);
      if (!rc) {
        rc = -1;
        for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
          if (!strcmp(dt, dtypes[i].name)) { e->dt = (dtype)i; rc = 0; }
        if (rc) lg_seterr("load: %s: tensor '%s' has unsupported dtype '%.32s'", j->what, e->name, dt);
      }
      free(dt);
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
    free(key);
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

static int by_begin(const void *a, const void *b) {
  const entry *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Checks each entry's byte size and that the entries tile [0, data_len). */
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
  entry *sorted = malloc(sizeof *sorted * (size_t)(h->n ? h->n : 1));
  if (!sorted) {
    lg_seterr("load: out of memory");
    return -1;
  }
  if (h->n) {   /* memcpy/qsort of a NULL array is undefined even for 0 items */
    memcpy(sorted, h->e, sizeof *sorted * (size_t)h->n);
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_begin);
  }
  uint64_t pos = 0;
  int rc = 0;
  for (int i = 0; i < h->n && !rc; i++) {
    if (sorted[i].begin != pos) {
      lg_seterr("load: %s: tensor '%.200s' starts at byte %llu of the data, expected %llu "
                "(tensors must be contiguous and must not overlap)", what, sorted[i].name,
                (unsigned long long)sorted[i].begin, (unsigned long long)pos);
      rc = -1;
    }
    pos = sorted[i].end;
  }
  if (!rc && pos != data_len) {
    lg_seterr(pos > data_len ? "load: %s: truncated: tensors need %llu bytes of data, the file has %llu"
                             : "load: %s: %llu bytes of tensor data but the file has %llu: trailing garbage",
              what, (unsigned long long)pos, (unsigned long long)data_len);
    rc = -1;
  }
  free(sorted);
  return rc;
}

static int parse_header(const char *text, size_t n, uint64_t data_len, const char *what,
                        header *h) {
  json j = {text, text + n, text, what};
  memset(h, 0, sizeof *h);
  if (expect(&j, '{')) return -1;
  bool first = true, have_meta = false;
  while (!peek(&j, '}')) {
    if (!first && expect(&j, ',')) goto fail;
    first = false;
    char *name = NULL;
    if (read_string(&j, &name) || expect(&j, ':')) { free(name); goto fail; }
    if (!strcmp(name, "__metadata__")) {
      free(name);
      if (have_meta) { jerr(&j, "repeated __metadata__"); goto fail; }
      have_meta = true;
      if (read_metadata(&j, h)) goto fail;
      continue;
    }
    for (int i = 0; i < h->n; i++)
      if (!strcmp(h->e[i].name, name)) {
        lg_seterr("load: %s: tensor '%.200s' appears twice", what, name);
        free(name);
        goto fail;
      }
    if (h->n == MAX_TENSORS || grow((void **)&h->e, &h->cap, h->n, sizeof *h->e)) {
      free(name);
      jerr(&j, "too many tensors");
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
  if (check_layout(h, data_len, what)) goto fail;
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

/* Moves the parsed header's names and metadata into the caller's arrays,
** creating an empty tensor per entry. */
static int make_outputs(header *h, lg_named **ts, int *n, lg_meta **meta, int *nmeta) {
  lg_named *out = calloc((size_t)(h->n ? h->n : 1), sizeof *out);
  if (!out) {
    lg_seterr("load: out of memory");
    return -1;
  }
  for (int i = 0; i < h->n; i++) {
    out[i].t = lg_empty(h->e[i].ndim, h->e[i].shape);
    if (!out[i].t) {
      for (int k = 0; k < i; k++) lg_release(out[k].t);
      free(out);
      return -1;
    }
  }
  for (int i = 0; i < h->n; i++) {
    out[i].name = h->e[i].name;
    h->e[i].name = NULL;
  }
  *ts = out;
  *n = h->n;
  *meta = h->meta;
  *nmeta = h->nmeta;
  h->meta = NULL;
  h->nmeta = 0;
  header_free(h);
  return 0;
}

void lg_free_loaded(lg_named *ts, int n, lg_meta *meta, int nmeta) {
  for (int i = 0; ts && i < n; i++) {
    free((char *)ts[i].name);
    lg_release(ts[i].t);
  }
  free(ts);
  for (int i = 0; meta && i < nmeta; i++) {
    free((char *)meta[i].key);
    free((char *)meta[i].value);
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
  if (parse_header((const char *)buf + 8, (size_t)hlen, len - 8 - hlen, "<buffer>", &h)) return -1;
  entry *e = h.e;    /* make_outputs frees h; keep the layout first */
  uint64_t *begin = malloc(sizeof *begin * (size_t)(h.n ? h.n : 1));
  dtype *dt = malloc(sizeof *dt * (size_t)(h.n ? h.n : 1));
  if (!begin || !dt) {
    free(begin);
    free(dt);
    header_free(&h);
    lg_seterr("load: out of memory");
    return -1;
  }
  for (int i = 0; i < h.n; i++) {
    begin[i] = e[i].begin;
    dt[i] = e[i].dt;
  }
  int rc = make_outputs(&h, ts, n, meta, nmeta);
  for (int i = 0; !rc && i < *n; i++) convert(data + begin[i], dt[i], (*ts)[i].t->numel, lg_data((*ts)[i].t));
  free(begin);
  free(dt);
  return rc;
}

int lg_load_safetensors(const char *path, lg_named **ts, int *n, lg_meta **meta, int *nmeta) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    lg_seterr("load: cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  unsigned char len8[8];
  uint64_t hlen;
  char *text = NULL;
  unsigned char *scratch = NULL;
  header h = {0};
  int rc = -1;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
    lg_seterr("load: '%s' is not a regular file", path);
    goto done;
  }
  uint64_t total = (uint64_t)st.st_size;
  if (total >= 8 && fread(len8, 1, 8, f) != 8) {
    lg_seterr("load: %s: cannot read: %s", path, strerror(errno));
    goto done;
  }
  if (check_prefix(total, len8, path, &hlen)) goto done;
  if (!(text = malloc((size_t)hlen)) || fread(text, 1, (size_t)hlen, f) != hlen) {
    lg_seterr("load: %s: cannot read the %llu-byte header", path, (unsigned long long)hlen);
    goto done;
  }
  if (parse_header(text, (size_t)hlen, total - 8 - hlen, path, &h)) goto done;
  /* entries in file order, so the data is read front to back */
  if (h.n) qsort(h.e, (size_t)h.n, sizeof *h.e, by_begin);
  uint64_t biggest = 0;
  for (int i = 0; i < h.n; i++)
    if (h.e[i].end - h.e[i].begin > biggest) biggest = h.e[i].end - h.e[i].begin;
  int count = h.n;
  dtype *dt = malloc(sizeof *dt * (size_t)(count ? count : 1));
  if (!dt || !(scratch = malloc((size_t)(biggest ? biggest : 1)))) {
    free(dt);
    header_free(&h);
    lg_seterr("load: %s: out of memory", path);
    goto done;
  }
  for (int i = 0; i < count; i++) dt[i] = h.e[i].dt;
  if (make_outputs(&h, ts, n, meta, nmeta)) {
    free(dt);
    goto done;
  }
  rc = 0;
  for (int i = 0; i < count && !rc; i++) {
    lg_tensor *t = (*ts)[i].t;
    size_t bytes = (size_t)t->numel * (size_t)dtypes[dt[i]].size;
    if (fread(scratch, 1, bytes, f) != bytes) {
      lg_seterr("load: %s: truncated while reading tensor '%.200s'", path, (*ts)[i].name);
      rc = -1;
    } else {
      convert(scratch, dt[i], t->numel, lg_data(t));
    }
  }
  free(dt);
  if (rc) {
    lg_free_loaded(*ts, *n, *meta, *nmeta);
    *ts = NULL;
    *meta = NULL;
  }
done:
  free(text);
  free(scratch);
  fclose(f);
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
    for (int k = 0; k < i; k++)
      if (!strcmp(ts[i].name, ts[k].name)) {
        lg_seterr("save: two tensors are named '%.200s'", ts[i].name);
        return -1;
      }
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
  int fd = mkstemp(tmp);
  if (fd < 0) {
    free(hdr.s);
    lg_seterr("save: cannot create a file next to '%s': %s", path, strerror(errno));
    return -1;
  }
  mode_t mask = umask(0);   /* mkstemp makes 0600; a checkpoint gets the usual 0666 & ~umask */
  umask(mask);
  fchmod(fd, 0666 & ~mask);
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
  if (close(fd) || rename(tmp, path)) {
    lg_seterr("save: cannot move '%s' to '%s': %s", tmp, path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  sync_dir(path);
  return 0;
}

/* }====================================================== */
