/* safetensors: bit-exact round trips, a file from the reference layout (made
** by a Python script with struct + json, as huggingface's writer lays it
** out), corrupt files rejected with a clear message, and atomic saves (a
** failed or killed save leaves the previous checkpoint intact). */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* {====================================================== helpers */

/* A fresh directory under /tmp, removed with its files by rm_dir. */
static void make_dir(char *dir) {
  strcpy(dir, "/tmp/lg-test-st-XXXXXX");
  assert_non_null(mkdtemp(dir));
}

static void rm_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (unlink(p)) rmdir(p);
  }
  closedir(d);
  rmdir(dir);
}

/* Number of entries of dir whose name contains `part`. */
static int count_files(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (!d) return 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part)) n++;
  closedir(d);
  return n;
}

static lg_tensor *find(const lg_named *ts, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(ts[i].name, name)) return ts[i].t;
  print_error("no tensor named '%s' among %d\n", name, n);
  ck_fail_(__FILE__, __LINE__);
  return NULL;
}

static const char *find_meta(const lg_meta *m, int n, const char *key) {
  for (int i = 0; i < n; i++)
    if (!strcmp(m[i].key, key)) return m[i].value;
  print_error("no metadata key '%s' among %d\n", key, n);
  ck_fail_(__FILE__, __LINE__);
  return NULL;
}

/* Same shape and the same bits, element by element (NaN payloads, -0). */
static void expect_bits(const lg_tensor *got, const lg_tensor *want, const char *what) {
  char b1[128], b2[128];
  if (got->ndim != want->ndim ||
      memcmp(got->shape, want->shape, sizeof(int64_t) * (size_t)got->ndim)) {
    print_error("%s: shape %s, expected %s\n", what, lg_shape_str(got, b1, sizeof b1),
                lg_shape_str(want, b2, sizeof b2));
    ck_fail_(__FILE__, __LINE__);
  }
  for (int64_t i = 0; i < got->numel; i++) {
    uint32_t a, b;
    float fa = ck_get(got, i), fb = ck_get(want, i);
    memcpy(&a, &fa, 4);
    memcpy(&b, &fb, 4);
    if (a != b) {
      print_error("%s: element %lld is 0x%08x, expected 0x%08x\n", what, (long long)i, a, b);
      ck_fail_(__FILE__, __LINE__);
    }
  }
}

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = malloc(*n ? *n : 1);
  assert_int_equal(fread(p, 1, *n, f), *n);
  fclose(f);
  return p;
}

/* A file image: 8-byte little-endian length of `header`, header, data. */
static unsigned char *st_image(const char *header, const void *data, size_t ndata, size_t *len) {
  uint64_t h = strlen(header);
  *len = 8 + h + ndata;
  unsigned char *p = malloc(*len);
  memcpy(p, &h, 8);
  memcpy(p + 8, header, h);
  if (ndata) memcpy(p + 8 + h, data, ndata);
  return p;
}

/* The buffer must be rejected, both from memory and from a file, with a
** message holding every substring. */
static void expect_reject_(const unsigned char *buf, size_t len, const char **subs,
                           const char *file, int line) {
  lg_named *ts = NULL;
  lg_meta *meta = NULL;
  int n = -1, nmeta = -1;
  char dir[64], path[128];
  for (int from_file = 0; from_file < 2; from_file++) {
    int rc;
    lg_seterr("%s", "");
    if (!from_file) {
      rc = lg_parse_safetensors(buf, len, &ts, &n, &meta, &nmeta);
    } else {
      make_dir(dir);
      snprintf(path, sizeof path, "%s/bad.safetensors", dir);
      write_bytes(path, buf, len);
      rc = lg_load_safetensors(path, &ts, &n, &meta, &nmeta);
      rm_dir(dir);
    }
    if (rc == 0) {
      print_error("a corrupt file (%zu bytes) was accepted %s\n", len,
                  from_file ? "from a file" : "from memory");
      lg_free_loaded(ts, n, meta, nmeta);
      ck_fail_(file, line);
    }
    assert_int_equal(rc, -1);
    if (!strstr(lg_errmsg(), "load")) {
      print_error("message \"%s\" does not name the operation\n", lg_errmsg());
      ck_fail_(file, line);
    }
    if (from_file && !strstr(lg_errmsg(), path)) {
      print_error("message \"%s\" does not name the file %s\n", lg_errmsg(), path);
      ck_fail_(file, line);
    }
    for (int i = 0; subs[i]; i++)
      if (!strstr(lg_errmsg(), subs[i])) {
        print_error("message \"%s\" does not contain \"%s\" (%s)\n", lg_errmsg(), subs[i],
                    from_file ? "from a file" : "from memory");
        ck_fail_(file, line);
      }
  }
}

#define REJECT_BYTES(buf, len, ...) \
  expect_reject_(buf, len, (const char *[]){__VA_ARGS__, NULL}, __FILE__, __LINE__)
/* REJECT(header, data, ndata, substrings...) */
#define REJECT(header, data, ndata, ...)                                      \
  do {                                                                        \
    size_t len_;                                                              \
    unsigned char *img_ = st_image(header, data, ndata, &len_);               \
    REJECT_BYTES(img_, len_, __VA_ARGS__);                                    \
    free(img_);                                                               \
  } while (0)

/* A header of one F32 tensor "a" with the given entry body. */
#define ONE(entry) "{\"a\":{" entry "}}"

static const float four[4] = {1, 2, 3, 4};

/* }====================================================== */

/* {====================================================== round trips */

static void round_trip_is_bit_exact(void **state) {
  (void)state;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
  lg_tensor *a = ck_randn(SHAPE(3, 4));
  float *d = lg_data(a);
  uint32_t payload_nan = 0x7fc12345u, neg_nan = 0xffc00001u;
  memcpy(&d[0], &payload_nan, 4);
  memcpy(&d[1], &neg_nan, 4);
  d[2] = -0.0f, d[3] = INFINITY, d[4] = -INFINITY, d[5] = 1e-40f, d[6] = 3.4028235e38f;
  d[7] = -1.1754944e-38f;
  lg_tensor *scalar = SCALAR(-2.75f), *empty = CK(lg_zeros(SHAPE(0, 3)));
  lg_tensor *base = ck_randn(SHAPE(4, 5)), *strided = CK(lg_transpose(base, 0, 1));
  lg_tensor *big = ck_randn(SHAPE(100, 1000)), *deep = ck_randn(SHAPE(1, 2, 1, 2, 1, 2, 1, 2));
  lg_tensor *col = CK(lg_narrow(base, 1, 2, 1));
  assert_false(lg_is_contiguous(strided));
  lg_named ts[] = {
      {"plain", a},
      {"scalar", scalar},
      {"empty [0,3]", empty},
      {"strided", strided},
      {"with \"quotes\"", big},
      {"back\\slash and /slash", deep},
      {"new\nline\r\ttab\x01" "ctl", col},
      {"\xc3\xbc" "tf-8 \xe2\x9c\x93 \xe5\x90\x8d\xe5\x89\x8d \xf0\x9f\x8e\xb2", scalar},
  };
  lg_meta meta[] = {
      {"format", "pt"},
      {"key \"quoted\"", "va\\lue\nwith newline"},
      {"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", "\xf0\x9f\x8e\xb2 dice"},
      {"empty", ""},
      {"ctl\x1f", "\x01\x02\x7f"},
      {"json", "{\"a\": [1, 2], \"b\": null}"},
  };
  int nt = (int)(sizeof ts / sizeof ts[0]), nm = (int)(sizeof meta / sizeof meta[0]);
  assert_int_equal(lg_save_safetensors(path, ts, nt, meta, nm), 0);
  assert_int_equal(count_files(dir, ".tmp"), 0);

  lg_named *got;
  lg_meta *gm;
  int n, nmeta;
  assert_int_equal(lg_load_safetensors(path, &got, &n, &gm, &nmeta), 0);
  assert_int_equal(n, nt);
  assert_int_equal(nmeta, nm);
  for (int i = 0; i < nt; i++) {
    lg_tensor *t = find(got, n, ts[i].name);
    expect_bits(t, ts[i].t, ts[i].name);
    assert_true(lg_is_contiguous(t));
    assert_false(t->requires_grad);
  }
  for (int i = 0; i < nm; i++) assert_string_equal(find_meta(gm, nmeta, meta[i].key), meta[i].value);
  lg_free_loaded(got, n, gm, nmeta);

  /* the same bytes parse from memory, and the data starts 8-byte aligned */
  size_t len;
  unsigned char *bytes = read_bytes(path, &len);
  uint64_t hlen;
  memcpy(&hlen, bytes, 8);
  assert_int_equal((8 + hlen) % 8, 0);
  assert_true(bytes[8] == '{');
  assert_int_equal(lg_parse_safetensors(bytes, len, &got, &n, &gm, &nmeta), 0);
  assert_int_equal(n, nt);
  for (int i = 0; i < nt; i++) expect_bits(find(got, n, ts[i].name), ts[i].t, ts[i].name);
  for (int i = 0; i < nm; i++) assert_string_equal(find_meta(gm, nmeta, meta[i].key), meta[i].value);
  lg_free_loaded(got, n, gm, nmeta);
  free(bytes);

  lg_release(a), lg_release(scalar), lg_release(empty), lg_release(base), lg_release(strided);
  lg_release(big), lg_release(deep), lg_release(col);
  rm_dir(dir);
}

static void round_trip_without_metadata_or_tensors(void **state) {
  (void)state;
  char dir[64], p1[128], p2[128];
  make_dir(dir);
  snprintf(p1, sizeof p1, "%s/no-meta.safetensors", dir);
  snprintf(p2, sizeof p2, "%s/meta-only.safetensors", dir);
  lg_tensor *t = TENSOR(SHAPE(2), 1.5f, -2);
  lg_named ts[] = {{"w", t}};
  lg_meta m[] = {{"iter", "100"}};
  assert_int_equal(lg_save_safetensors(p1, ts, 1, NULL, 0), 0);
  assert_int_equal(lg_save_safetensors(p2, NULL, 0, m, 1), 0);
  lg_named *got;
  lg_meta *gm;
  int n, nmeta;
  assert_int_equal(lg_load_safetensors(p1, &got, &n, &gm, &nmeta), 0);
  assert_int_equal(n, 1);
  assert_int_equal(nmeta, 0);
  EXPECT_VALUES(got[0].t, 1.5f, -2);
  lg_free_loaded(got, n, gm, nmeta);
  assert_int_equal(lg_load_safetensors(p2, &got, &n, &gm, &nmeta), 0);
  assert_int_equal(n, 0);
  assert_int_equal(nmeta, 1);
  assert_string_equal(gm[0].key, "iter");
  assert_string_equal(gm[0].value, "100");
  lg_free_loaded(got, n, gm, nmeta);
  lg_release(t);
  rm_dir(dir);
}

/* An existing checkpoint is replaced by a successful save. */
static void save_overwrites(void **state) {
  (void)state;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
  lg_tensor *a = TENSOR(SHAPE(3), 1, 2, 3), *b = TENSOR(SHAPE(2, 2), 5, 6, 7, 8);
  assert_int_equal(lg_save_safetensors(path, (lg_named[]){{"a", a}}, 1, NULL, 0), 0);
  assert_int_equal(lg_save_safetensors(path, (lg_named[]){{"b", b}}, 1, NULL, 0), 0);
  lg_named *got;
  lg_meta *gm;
  int n, nmeta;
  assert_int_equal(lg_load_safetensors(path, &got, &n, &gm, &nmeta), 0);
  assert_int_equal(n, 1);
  assert_string_equal(got[0].name, "b");
  EXPECT_VALUES(got[0].t, 5, 6, 7, 8);
  lg_free_loaded(got, n, gm, nmeta);
  assert_int_equal(count_files(dir, ""), 1);
  lg_release(a), lg_release(b);
  rm_dir(dir);
}

/* }====================================================== */

/* {====================================================== the reference layout
** Written by this script (python3, struct + json), as huggingface's writer
** lays a file out: "__metadata__" first, names sorted, data in that order,
** the JSON padded with spaces to a multiple of 8, raw UTF-8:
**
**   tensors = {
**     "a_f32":   ("F32", [2,3], pack("<6f", 1.0, -2.5, 3.25, 0.0, 1e-30, -7.0)),
**     "b_f16":   ("F16", [5],   pack("<5e", 1.0, -2.5, 65504.0, 2.0**-24, -0.0)),
**     "c_bf16":  ("BF16", [3],  pack("<3H", 0x3F80, 0xC049, 0x7149)),
**     "d_f64":   ("F64", [2,2], pack("<4d", 0.1, -1e-3, 3.5, 1e10)),
**     "e_i64":   ("I64", [3],   pack("<3q", -7, 0, 123456789)),
**     "f_scalar":("F32", [],    pack("<f", 42.0)),
**     "g_empty": ("F32", [0,3], b"")}
**   header = {"__metadata__": {"format": "pt", "note": "caf\u00e9"}}
**   for name in sorted(tensors): header[name] = {"dtype", "shape", "data_offsets": [begin, end]}
**   h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
**   h += b" " * (-len(h) % 8);  blob = pack("<Q", len(h)) + h + data          */

static const unsigned char reference_file[588] = {
    0xe0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0x22, 0x5f, 0x5f, 0x6d, 0x65, 0x74, 0x61,
    0x64, 0x61, 0x74, 0x61, 0x5f, 0x5f, 0x22, 0x3a, 0x7b, 0x22, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74,
    0x22, 0x3a, 0x22, 0x70, 0x74, 0x22, 0x2c, 0x22, 0x6e, 0x6f, 0x74, 0x65, 0x22, 0x3a, 0x22, 0x63,
    0x61, 0x66, 0xc3, 0xa9, 0x22, 0x7d, 0x2c, 0x22, 0x61, 0x5f, 0x66, 0x33, 0x32, 0x22, 0x3a, 0x7b,
    0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x33, 0x32, 0x22, 0x2c, 0x22, 0x73,
    0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x32, 0x2c, 0x33, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74,
    0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x30, 0x2c, 0x32, 0x34,
    0x5d, 0x7d, 0x2c, 0x22, 0x62, 0x5f, 0x66, 0x31, 0x36, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79,
    0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x31, 0x36, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65,
    0x22, 0x3a, 0x5b, 0x35, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73,
    0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x32, 0x34, 0x2c, 0x33, 0x34, 0x5d, 0x7d, 0x2c, 0x22, 0x63,
    0x5f, 0x62, 0x66, 0x31, 0x36, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a,
    0x22, 0x42, 0x46, 0x31, 0x36, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b,
    0x33, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73,
    0x22, 0x3a, 0x5b, 0x33, 0x34, 0x2c, 0x34, 0x30, 0x5d, 0x7d, 0x2c, 0x22, 0x64, 0x5f, 0x66, 0x36,
    0x34, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x36, 0x34,
    0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x32, 0x2c, 0x32, 0x5d, 0x2c,
    0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b,
    0x34, 0x30, 0x2c, 0x37, 0x32, 0x5d, 0x7d, 0x2c, 0x22, 0x65, 0x5f, 0x69, 0x36, 0x34, 0x22, 0x3a,
    0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x49, 0x36, 0x34, 0x22, 0x2c, 0x22,
    0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x33, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61,
    0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x37, 0x32, 0x2c, 0x39, 0x36,
    0x5d, 0x7d, 0x2c, 0x22, 0x66, 0x5f, 0x73, 0x63, 0x61, 0x6c, 0x61, 0x72, 0x22, 0x3a, 0x7b, 0x22,
    0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x33, 0x32, 0x22, 0x2c, 0x22, 0x73, 0x68,
    0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66,
    0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x39, 0x36, 0x2c, 0x31, 0x30, 0x30, 0x5d, 0x7d,
    0x2c, 0x22, 0x67, 0x5f, 0x65, 0x6d, 0x70, 0x74, 0x79, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79,
    0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x33, 0x32, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65,
    0x22, 0x3a, 0x5b, 0x30, 0x2c, 0x33, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66,
    0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x31, 0x30, 0x30, 0x2c, 0x31, 0x30, 0x30, 0x5d,
    0x7d, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0,
    0x00, 0x00, 0x50, 0x40, 0x00, 0x00, 0x00, 0x00, 0x60, 0x42, 0xa2, 0x0d, 0x00, 0x00, 0xe0, 0xc0,
    0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x80, 0x3f, 0x49, 0xc0, 0x49, 0x71,
    0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f, 0xfc, 0xa9, 0xf1, 0xd2, 0x4d, 0x62, 0x50, 0xbf,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x40, 0x00, 0x00, 0x00, 0x20, 0x5f, 0xa0, 0x02, 0x42,
    0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x15, 0xcd, 0x5b, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x42,
};

static void check_reference(lg_named *ts, int n, lg_meta *meta, int nmeta) {
  assert_int_equal(n, 7);
  assert_int_equal(nmeta, 2);
  assert_string_equal(find_meta(meta, nmeta, "format"), "pt");
  assert_string_equal(find_meta(meta, nmeta, "note"), "caf\xc3\xa9");
  lg_tensor *a = find(ts, n, "a_f32"), *b = find(ts, n, "b_f16"), *c = find(ts, n, "c_bf16");
  lg_tensor *d = find(ts, n, "d_f64"), *e = find(ts, n, "e_i64"), *f = find(ts, n, "f_scalar");
  lg_tensor *g = find(ts, n, "g_empty");
  EXPECT_SHAPE(a, 2, 3);
  EXPECT_VALUES_TOL(a, 0, 1, -2.5f, 3.25f, 0, 1e-30f, -7);
  EXPECT_SHAPE(b, 5);
  EXPECT_VALUES_TOL(b, 0, 1, -2.5f, 65504, 0x1p-24f, 0);
  assert_true(signbit(ck_get(b, 4)));   /* -0.0 kept */
  EXPECT_SHAPE(c, 3);
  uint32_t bits = 0x71490000u;
  float big;
  memcpy(&big, &bits, 4);
  EXPECT_VALUES_TOL(c, 0, 1, -3.140625f, big);
  EXPECT_SHAPE(d, 2, 2);
  EXPECT_VALUES_TOL(d, 0, (float)0.1, (float)-1e-3, 3.5f, 1e10f);
  EXPECT_SHAPE(e, 3);
  EXPECT_VALUES_TOL(e, 0, -7, 0, 123456792.0f);   /* float(123456789) */
  EXPECT_SHAPE(f);
  EXPECT_VALUES(f, 42);
  EXPECT_SHAPE(g, 0, 3);
}

static void loads_a_file_in_the_reference_layout(void **state) {
  (void)state;
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  assert_int_equal(lg_parse_safetensors(reference_file, sizeof reference_file, &ts, &n, &meta, &nmeta), 0);
  check_reference(ts, n, meta, nmeta);
  lg_free_loaded(ts, n, meta, nmeta);
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ref.safetensors", dir);
  write_bytes(path, reference_file, sizeof reference_file);
  assert_int_equal(lg_load_safetensors(path, &ts, &n, &meta, &nmeta), 0);
  check_reference(ts, n, meta, nmeta);
  lg_free_loaded(ts, n, meta, nmeta);
  rm_dir(dir);
}

/* JSON details a reader must accept: whitespace, any key order, escapes. */
static void accepts_valid_json_variations(void **state) {
  (void)state;
  const char *hdr =
      " {\n \"__metadata__\" : { \"k\\u00e9y\" : \"\\ud83c\\udfb2 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\" } ,"
      "\t\"b\":{\"data_offsets\":[8,16],\"shape\":[2],\"dtype\":\"F32\"},"
      "\"a\" : { \"shape\" : [ 2 ] , \"dtype\" : \"F32\" , \"data_offsets\" : [ 0 , 8 ] } }\r\n";
  size_t len;
  unsigned char *img = st_image(hdr, four, sizeof four, &len);
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  int rc = lg_parse_safetensors(img, len, &ts, &n, &meta, &nmeta);
  if (rc) fail_msg("%s", lg_errmsg());
  assert_int_equal(n, 2);
  EXPECT_VALUES(find(ts, n, "a"), 1, 2);
  EXPECT_VALUES(find(ts, n, "b"), 3, 4);
  assert_int_equal(nmeta, 1);
  assert_string_equal(meta[0].key, "k\xc3\xa9y");
  assert_string_equal(meta[0].value, "\xf0\x9f\x8e\xb2 \"q\" \\ / \b\f\n\r\t");
  lg_free_loaded(ts, n, meta, nmeta);
  free(img);
}

/* }====================================================== */

/* {====================================================== corrupt files */

static void rejects_truncated_files(void **state) {
  (void)state;
  size_t full = sizeof reference_file;
  uint64_t hlen;
  memcpy(&hlen, reference_file, 8);
  size_t cuts[] = {0, 1, 4, 7, 8, 9, 8 + hlen / 2, 8 + hlen - 1, 8 + hlen, 8 + hlen + 3, full - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    const char *what = cuts[i] < 8 ? "too short" : cuts[i] < 8 + hlen ? "header length" : "truncated";
    REJECT_BYTES(reference_file, cuts[i], what);
  }
}

static void rejects_bad_header_lengths(void **state) {
  (void)state;
  unsigned char buf[64];
  memset(buf, ' ', sizeof buf);
  uint64_t lens[] = {0, 1, 57, 1000, (uint64_t)200 << 20, UINT64_MAX};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    memcpy(buf, &lens[i], 8);
    buf[8] = '{', buf[9] = '}';
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)lens[i]);
    REJECT_BYTES(buf, sizeof buf, "header length", num);
  }
  /* a claim above 100 MiB is refused as such */
  uint64_t huge = (uint64_t)101 << 20;
  memcpy(buf, &huge, 8);
  REJECT_BYTES(buf, sizeof buf, "100 MiB");
}

static void rejects_malformed_json(void **state) {
  (void)state;
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "x", four, 4, "header");
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", four, 4, "malformed");
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", four, 4, "malformed");
  REJECT("[1,2]", four, 4, "malformed");
  REJECT("{\"a\":5}", four, 4, "malformed");
  REJECT("{\"a\" {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "':'");
  REJECT("{'a':{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "malformed");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]"), four, 4, "malformed");
  REJECT(ONE("\"dtype\":F32,\"shape\":[1],\"data_offsets\":[0,4]"), four, 4, "malformed");
  {   /* NUL padding instead of spaces after the closing brace */
    const char *h = ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]");
    uint64_t hl = strlen(h) + 2;
    unsigned char buf[128];
    memcpy(buf, &hl, 8);
    memcpy(buf + 8, h, hl - 2);
    buf[8 + hl - 2] = buf[8 + hl - 1] = 0;
    memcpy(buf + 8 + hl, four, 4);
    REJECT_BYTES(buf, 8 + hl + 4, "malformed");
  }
  REJECT("{\"a\\q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "escape");
  REJECT("{\"a\\u00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "escape");
  REJECT("{\"a\\ud83c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "surrogate");
  REJECT("{\"a\\u0000\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "NUL");
  REJECT("{\"a\tb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4, "control");
  REJECT("{\"a", four, 4, "unterminated");
}

static void rejects_wrong_dtypes(void **state) {
  (void)state;
  REJECT(ONE("\"dtype\":\"F8\",\"shape\":[4],\"data_offsets\":[0,4]"), four, 4, "dtype", "F8", "'a'");
  REJECT(ONE("\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]"), four, 4, "dtype", "f32");
  REJECT(ONE("\"dtype\":\"\",\"shape\":[1],\"data_offsets\":[0,4]"), four, 4, "dtype");
  REJECT(ONE("\"dtype\":[\"F32\"],\"shape\":[1],\"data_offsets\":[0,4]"), four, 4, "malformed");
}

static void rejects_shape_and_offset_mismatches(void **state) {
  (void)state;
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]"), four, 4, "'a'", "8 bytes",
         "[0, 4]");
  REJECT(ONE("\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]"), four, 16, "'a'",
         "F16", "[2,2]", "8 bytes");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]"), four, 4, "'a'");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]"), four, 12, "truncated");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
             "\"data_offsets\":[0,16]"), four, 16, "'a'");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), four, 4,
         "too long");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), four, 4, "data_offsets");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]"), four, 8, "too long");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]"),
         four, 4, "too large");
}

static void rejects_overlaps_gaps_and_trailing_bytes(void **state) {
  (void)state;
  float eight[8] = {0};
  /* overlap: b starts inside a */
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", eight, 12, "overlap",
         "'b'");
  /* both at the same place */
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", eight, 8, "overlap");
  /* gap of 4 bytes between a and b */
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", eight, 12, "'b'",
         "starts at byte 8", "expected 4");
  /* data does not start at 0 */
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]"), eight, 8, "starts at byte 4");
  /* an empty tensor placed inside another one */
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", eight, 8, "'e'");
  /* trailing garbage after the last tensor */
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), eight, 9, "trailing");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), eight, 32, "trailing");
  /* tensors claiming past the end */
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"), eight, 7, "truncated");
}

static void rejects_duplicates_numbers_and_unknown_fields(void **state) {
  (void)state;
  float eight[8] = {0};
  REJECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", eight, 8, "'a'",
         "twice");
  REJECT("{\"__metadata__\":{},\"__metadata__\":{},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", eight, 4, "__metadata__");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"), eight, 4, "non-negative");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"), eight, 4, "non-negative");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]"), eight, 4, "fraction");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]"), eight, 4, "fraction");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4e0]"), eight, 4, "fraction");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]"), eight, 4, "leading zero");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]"), eight, 4, "integer");
  REJECT("{\"__metadata__\":{\"iter\":100},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", eight, 4, "malformed");
  REJECT("{\"__metadata__\":{\"iter\":null},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", eight, 4, "malformed");
  REJECT("{\"__metadata__\":[\"x\"],"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", eight, 4, "malformed");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1"), eight, 4,
         "extra", "'a'");
  REJECT(ONE("\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), eight, 4,
         "dtype", "repeated");
  REJECT(ONE("\"dtype\":\"F32\",\"shape\":[1]"), eight, 4, "'a'", "data_offsets");
  REJECT(ONE("\"shape\":[1],\"data_offsets\":[0,4]"), eight, 4, "'a'", "dtype");
  REJECT(ONE("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), eight, 4, "'a'", "shape");
}

static void load_reports_missing_and_non_regular_files(void **state) {
  (void)state;
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/none.safetensors", dir);
  EXPECT_RC_ERR(lg_load_safetensors(path, &ts, &n, &meta, &nmeta), "load", path, "No such file");
  EXPECT_RC_ERR(lg_load_safetensors(dir, &ts, &n, &meta, &nmeta), "load", dir,
                "not a regular file (a directory)");
  EXPECT_RC_ERR(lg_load_safetensors("/dev/zero", &ts, &n, &meta, &nmeta), "load", "/dev/zero",
                "not a regular file (a character device)");
  /* a FIFO: opening it for reading blocks until a writer comes; the alarm
  ** turns a regression into a failed run instead of a hang */
  snprintf(path, sizeof path, "%s/fifo.safetensors", dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  alarm(10);
  EXPECT_RC_ERR(lg_load_safetensors(path, &ts, &n, &meta, &nmeta), "load", path,
                "not a regular file (a FIFO)");
  alarm(0);
  rm_dir(dir);
}

/* }====================================================== */

/* {====================================================== large headers */

/* A growing string, for headers too large to spell out. */
typedef struct {
  char *s;
  size_t n, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (t->n + (size_t)k + 1 > t->cap) {
    t->cap = (t->n + (size_t)k + 1) * 2;
    t->s = realloc(t->s, t->cap);
    assert_non_null(t->s);
  }
  va_start(ap, fmt);
  vsnprintf(t->s + t->n, (size_t)k + 1, fmt, ap);
  va_end(ap);
  t->n += (size_t)k;
}

/* Renames the tensor `from` of a header to `to` (same length), in place. */
static void rename_in(char *hdr, const char *from, const char *to) {
  char *p = strstr(hdr, from);
  assert_non_null(p);
  assert_int_equal(strlen(from), strlen(to));
  memcpy(p, to, strlen(to));
}

/* 100k tensors (the limit), alternately of shape [0] and [1], named in the
** reverse of their file order.  Checking names pairwise took 26 s here; a
** regression shows as a test run that crawls. */
static void loads_many_small_tensors(void **state) {
  (void)state;
  enum { N = 100000 };
  text h = {0};
  float *data = malloc(sizeof(float) * N / 2);
  uint64_t off = 0;
  add(&h, "{\"__metadata__\":{\"n\":\"%d\"}", N);
  for (int i = N - 1; i >= 0; i--) {
    int one = i % 2;
    add(&h, ",\"t%06d\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]}", i, one,
        (unsigned long long)off, (unsigned long long)(off + 4 * (uint64_t)one));
    if (one) data[off / 4] = (float)i;
    off += 4 * (uint64_t)one;
  }
  add(&h, "}");
  size_t len;
  unsigned char *img = st_image(h.s, data, off, &len);
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/many.safetensors", dir);
  write_bytes(path, img, len);
  for (int from_file = 0; from_file < 2; from_file++) {
    lg_named *ts;
    lg_meta *meta;
    int n, nmeta;
    int rc = from_file ? lg_load_safetensors(path, &ts, &n, &meta, &nmeta)
                       : lg_parse_safetensors(img, len, &ts, &n, &meta, &nmeta);
    if (rc) fail_msg("%s", lg_errmsg());
    assert_int_equal(n, N);
    assert_int_equal(nmeta, 1);
    assert_string_equal(meta[0].value, "100000");
    char *seen = calloc(N, 1);
    for (int k = 0; k < n; k++) {
      int i = atoi(ts[k].name + 1);
      assert_true(i >= 0 && i < N && !seen[i]);
      seen[i] = 1;
      assert_int_equal(ts[k].t->ndim, 1);
      assert_int_equal(ts[k].t->shape[0], i % 2);
      if (i % 2) assert_float_equal(lg_data(ts[k].t)[0], (float)i, 0);
    }
    free(seen);
    lg_free_loaded(ts, n, meta, nmeta);
  }
  /* one name twice among them is still found */
  free(img);
  rename_in(h.s, "\"t000000\"", "\"t054321\"");
  img = st_image(h.s, data, off, &len);
  REJECT_BYTES(img, len, "'t054321'", "appears twice");
  free(img);
  free(h.s);
  free(data);
  rm_dir(dir);
}

/* 4000 names sharing a 4000-byte prefix: 16 MB of header, where comparing
** every pair costs 32 G byte comparisons. */
static void loads_names_with_a_long_shared_prefix(void **state) {
  (void)state;
  enum { N = 4000, PREFIX = 4000 };
  char *prefix = malloc(PREFIX + 1);
  memset(prefix, 'p', PREFIX);
  prefix[PREFIX] = '\0';
  text h = {0};
  add(&h, "{");
  for (int i = 0; i < N; i++)
    add(&h, "%s\"%s%05d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", i ? "," : "",
        prefix, i);
  add(&h, "}");
  size_t len;
  unsigned char *img = st_image(h.s, NULL, 0, &len);
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  if (lg_parse_safetensors(img, len, &ts, &n, &meta, &nmeta)) fail_msg("%s", lg_errmsg());
  assert_int_equal(n, N);
  assert_int_equal(strlen(ts[N - 1].name), PREFIX + 5);
  lg_free_loaded(ts, n, meta, nmeta);
  free(img);
  /* names of the same length that differ in the last byte: all distinct but
  ** two */
  rename_in(h.s, "p00017\"", "p03999\"");
  img = st_image(h.s, NULL, 0, &len);
  REJECT_BYTES(img, len, "appears twice");
  free(img);
  free(h.s);
  free(prefix);
}

/* Bytes the allocator hands out (glibc: heap in use plus mmapped blocks). */
static size_t heap_in_use(void) {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

/* 200k metadata entries of about 11 bytes each.  Loaded, they hold less
** than 4 times the file: the strings stay in the header's text (a malloc'd
** copy per string cost 64 bytes per entry, 7 times the file, and a 100 MiB
** header of such entries drove the loader past a gigabyte). */
static void metadata_heavy_header_uses_bounded_memory(void **state) {
  (void)state;
  enum { N = 200000 };
  text h = {0};
  add(&h, "{\"__metadata__\":{");
  for (int i = 0; i < N; i++) add(&h, "%s\"k%d\":\"\"", i ? "," : "", i);
  add(&h, "}}");
  size_t len;
  unsigned char *img = st_image(h.s, NULL, 0, &len);
  free(h.s);
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  size_t before = heap_in_use();
  if (lg_parse_safetensors(img, len, &ts, &n, &meta, &nmeta)) fail_msg("%s", lg_errmsg());
  size_t held = heap_in_use() - before;
  assert_int_equal(n, 0);
  assert_int_equal(nmeta, N);
  char key[16];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%d", i);
    assert_string_equal(meta[i].key, key);
    assert_string_equal(meta[i].value, "");
  }
  if (held > 4 * len) fail_msg("%zu bytes of metadata hold %zu bytes", len, held);
  lg_free_loaded(ts, n, meta, nmeta);
  free(img);
}

/* }====================================================== */

/* {====================================================== saving: errors and atomicity */

static void save_rejects_bad_names(void **state) {
  (void)state;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/x.safetensors", dir);
  lg_tensor *t = TENSOR(SHAPE(1), 1);
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"a", t}, {"a", t}}, 2, NULL, 0), "save",
                "'a'");
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"", t}}, 1, NULL, 0), "save", "name");
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{NULL, t}}, 1, NULL, 0), "save", "name");
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"__metadata__", t}}, 1, NULL, 0), "save",
                "__metadata__");
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"b", NULL}}, 1, NULL, 0), "save");
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"a", t}}, 1, (lg_meta[]){{"k", NULL}}, 1),
                "save", "metadata");
  assert_int_equal(count_files(dir, ""), 0);   /* nothing written */
  lg_release(t);
  rm_dir(dir);
}

static void save_into_a_missing_directory_fails_cleanly(void **state) {
  (void)state;
  char dir[64], path[160];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/no/such/dir/x.safetensors", dir);
  lg_tensor *t = TENSOR(SHAPE(1), 1);
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"a", t}}, 1, NULL, 0), "save", path);
  assert_int_equal(count_files(dir, ""), 0);
  lg_release(t);
  rm_dir(dir);
}

/* The target is a directory: the rename fails, and the temp file goes. */
static void save_over_a_directory_leaves_no_temp_file(void **state) {
  (void)state;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  lg_tensor *t = TENSOR(SHAPE(1), 1);
  EXPECT_RC_ERR(lg_save_safetensors(path, (lg_named[]){{"a", t}}, 1, NULL, 0), "save", path);
  assert_int_equal(count_files(dir, ".tmp"), 0);
  assert_int_equal(count_files(dir, ""), 1);
  lg_release(t);
  rm_dir(dir);
}

static void expect_old_checkpoint(const char *path) {
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  if (lg_load_safetensors(path, &ts, &n, &meta, &nmeta)) fail_msg("%s", lg_errmsg());
  assert_int_equal(n, 1);
  assert_string_equal(ts[0].name, "old");
  EXPECT_VALUES(ts[0].t, 1, 2, 3);
  assert_int_equal(nmeta, 1);
  assert_string_equal(meta[0].value, "1");
  lg_free_loaded(ts, n, meta, nmeta);
}

static void save_old(const char *path) {
  lg_tensor *t = TENSOR(SHAPE(3), 1, 2, 3);
  assert_int_equal(lg_save_safetensors(path, (lg_named[]){{"old", t}}, 1,
                                       (lg_meta[]){{"iter", "1"}}, 1), 0);
  lg_release(t);
}

static bool is_symlink(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static void expect_file_holds(const char *path, const char *want) {
  size_t n;
  unsigned char *got = read_bytes(path, &n);
  assert_int_equal(n, strlen(want));
  assert_memory_equal(got, want, n);
  free(got);
}

/* Symbolic links planted where a save might write (the names a temp file
** could have, and the target itself) never redirect the write: the temp
** file is created with O_EXCL under a random name and renamed over the
** target, which replaces a link instead of writing through it. */
static void save_does_not_write_through_planted_symlinks(void **state) {
  (void)state;
  char dir[64], path[128], outside[128], planted[3][160];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
  snprintf(outside, sizeof outside, "%s/outside.txt", dir);
  write_bytes(outside, "precious", 8);
  const char *suffixes[3] = {".tmp", ".tmp-XXXXXX", "~"};
  for (int i = 0; i < 3; i++) {
    snprintf(planted[i], sizeof planted[i], "%s%s", path, suffixes[i]);
    assert_int_equal(symlink(outside, planted[i]), 0);
  }
  save_old(path);
  expect_old_checkpoint(path);
  assert_false(is_symlink(path));
  for (int i = 0; i < 3; i++) assert_true(is_symlink(planted[i]));
  expect_file_holds(outside, "precious");
  assert_int_equal(count_files(dir, ""), 5);   /* no temp file left either */

  /* the target a link to another file: the link is replaced */
  assert_int_equal(unlink(path), 0);
  assert_int_equal(symlink(outside, path), 0);
  save_old(path);
  assert_false(is_symlink(path));
  expect_old_checkpoint(path);
  expect_file_holds(outside, "precious");
  rm_dir(dir);
}

/* A write that fails half-way (the file size limit: EFBIG, even for root)
** keeps the previous checkpoint and removes the temp file. */
static void failed_overwrite_keeps_the_previous_checkpoint(void **state) {
  (void)state;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
  save_old(path);
  lg_tensor *big = CK(lg_zeros(SHAPE(1 << 20)));   /* 4 MB */
  struct rlimit old, small;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  small = old;
  small.rlim_cur = 64 * 1024;
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
  lg_seterr("%s", "");
  int rc = lg_save_safetensors(path, (lg_named[]){{"new", big}}, 1, NULL, 0);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  assert_int_equal(rc, -1);
  assert_non_null(strstr(lg_errmsg(), "save"));
  assert_non_null(strstr(lg_errmsg(), "ckpt.safetensors"));
  assert_int_equal(count_files(dir, ".tmp"), 0);
  expect_old_checkpoint(path);
  lg_release(big);
  rm_dir(dir);
}

/* A process killed in the middle of a save: the previous checkpoint is intact
** and loadable; only a stray temp file may remain. */
static void killed_save_keeps_the_previous_checkpoint(void **state) {
  (void)state;
  char dir[64], path[128];
  make_dir(dir);
  snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
  save_old(path);
  const int64_t n = (int64_t)64 << 20;   /* 256 MB of floats: a write long enough to interrupt */
  lg_tensor *big = CK(lg_zeros(SHAPE(n)));
  int caught = 0;
  for (int attempt = 0; attempt < 3 && !caught; attempt++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      int rc = lg_save_safetensors(path, (lg_named[]){{"new", big}}, 1, NULL, 0);
      _exit(rc ? 1 : 0);
    }
    /* wait until the temp file has some data, then kill the writer */
    struct timespec nap = {0, 200000};
    for (int i = 0; i < 100000; i++) {
      DIR *d = opendir(dir);
      struct dirent *e;
      off_t size = 0;
      while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".tmp-")) continue;
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (!stat(p, &st)) size = st.st_size;
      }
      if (d) closedir(d);
      int status;
      if (size > 1024 * 1024) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        caught = WIFSIGNALED(status);
        break;
      }
      if (waitpid(pid, &status, WNOHANG) == pid) break;   /* finished before we looked */
      nanosleep(&nap, NULL);
    }
    if (caught) {
      expect_old_checkpoint(path);
      assert_true(count_files(dir, ".tmp-") <= 1);
    } else {
      /* the save completed: a whole new file, then put the old one back */
      lg_named *ts;
      lg_meta *meta;
      int nt, nmeta;
      assert_int_equal(lg_load_safetensors(path, &ts, &nt, &meta, &nmeta), 0);
      assert_int_equal(ts[0].t->numel, n);
      lg_free_loaded(ts, nt, meta, nmeta);
      save_old(path);
    }
  }
  if (!caught) print_message("note: the save always finished before it could be killed\n");
  lg_release(big);
  rm_dir(dir);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(round_trip_is_bit_exact),
      TEST(round_trip_without_metadata_or_tensors),
      TEST(save_overwrites),
      TEST(loads_a_file_in_the_reference_layout),
      TEST(accepts_valid_json_variations),
      TEST(rejects_truncated_files),
      TEST(rejects_bad_header_lengths),
      TEST(rejects_malformed_json),
      TEST(rejects_wrong_dtypes),
      TEST(rejects_shape_and_offset_mismatches),
      TEST(rejects_overlaps_gaps_and_trailing_bytes),
      TEST(rejects_duplicates_numbers_and_unknown_fields),
      TEST(load_reports_missing_and_non_regular_files),
      TEST(loads_many_small_tensors),
      TEST(loads_names_with_a_long_shared_prefix),
      TEST(metadata_heavy_header_uses_bounded_memory),
      TEST(save_rejects_bad_names),
      TEST(save_into_a_missing_directory_fails_cleanly),
      TEST(save_over_a_directory_leaves_no_temp_file),
      TEST(save_does_not_write_through_planted_symlinks),
      TEST(failed_overwrite_keeps_the_previous_checkpoint),
      TEST(killed_save_keeps_the_previous_checkpoint),
  };
  return cmocka_run_group_tests_name("safetensors", tests, NULL, NULL);
}
