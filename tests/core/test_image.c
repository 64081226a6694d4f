/*
** Images (core/io_image.c): save/load round trips, the formats a PNG can
** hold, grid layout, resize, and malformed files, each rejected with a
** message that names the problem.  PNGs are built here byte by byte (zlib
** for the compressed data and the CRCs), so every test says exactly what the
** file holds.
*/
#include "check.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
/* after stdio.h (check.h): jpeglib.h needs FILE and size_t */
#include <jpeglib.h>

#include "internal.h"

/* {====================================================== temporary files */

static char tmpdir[64];

static const char *tmp_path(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%.200s", tmpdir, name);
  return buf;
}

static void write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* }====================================================== */

/* {====================================================== PNG builder */

typedef struct {
  unsigned char *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}

static void put32(bytes *b, uint32_t v) {
  unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  put(b, c, 4);
}

static void chunk(bytes *b, const char *type, const void *data, uint32_t n) {
  put32(b, n);
  size_t at = b->n;
  put(b, type, 4);
  if (n) put(b, data, n);
  put32(b, (uint32_t)crc32(crc32(0L, Z_NULL, 0), b->p + at, 4 + n));
}

static void signature(bytes *b) { put(b, "\x89PNG\r\n\x1a\n", 8); }

static void ihdr(bytes *b, uint32_t w, uint32_t h, int depth, int color) {
  unsigned char d[13] = {0};
  for (int i = 0; i < 4; i++) {
    d[i] = (unsigned char)(w >> (24 - 8 * i));
    d[4 + i] = (unsigned char)(h >> (24 - 8 * i));
  }
  d[8] = (unsigned char)depth;
  d[9] = (unsigned char)color;
  chunk(b, "IHDR", d, 13);
}

/* IDAT holding the zlib stream of raw (filter bytes included). */
static void idat(bytes *b, const unsigned char *raw, size_t n) {
  uLongf zn = compressBound(n);
  unsigned char *z = malloc(zn);
  assert_int_equal(compress(z, &zn, raw, n), Z_OK);
  chunk(b, "IDAT", z, (uint32_t)zn);
  free(z);
}

static void iend(bytes *b) { chunk(b, "IEND", NULL, 0); }

/* A complete PNG of w x h pixels, filter 0 on every row, row bytes from px. */
static bytes make_png(uint32_t w, uint32_t h, int depth, int color, int channels,
                      const unsigned char *px) {
  bytes b = {0};
  size_t row = (w * (size_t)channels * (size_t)depth + 7) / 8;
  unsigned char *raw = calloc(h, row + 1);
  for (uint32_t y = 0; y < h; y++) memcpy(raw + y * (row + 1) + 1, px + y * row, row);
  signature(&b);
  ihdr(&b, w, h, depth, color);
  idat(&b, raw, h * (row + 1));
  iend(&b);
  free(raw);
  return b;
}

/* Decodes b and expects an error naming every substring. */
#define EXPECT_BAD(b, ...) EXPECT_ERR(lg_image_decode((b).p, (b).n, "bad.png"), "bad.png", __VA_ARGS__)

/* }====================================================== */

/* {====================================================== JPEG builder */

typedef struct {
  int quality;
  bool progressive;
  const jpeg_scan_info *script;   /* a custom progression, or NULL */
  int nscans;
  bool cmyk;                      /* px holds 4 samples per pixel, written as CMYK */
} jpeg_opts;

/* A JPEG of w x h pixels with c interleaved samples per pixel (1 grey, 3
** RGB) from px, written by libjpeg into memory. */
static bytes make_jpeg(int w, int h, int c, const unsigned char *px, jpeg_opts o) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char *out = NULL;
  unsigned long n = 0;
  jpeg_mem_dest(&cinfo, &out, &n);
  cinfo.image_width = (JDIMENSION)w;
  cinfo.image_height = (JDIMENSION)h;
  cinfo.input_components = o.cmyk ? 4 : c;
  cinfo.in_color_space = o.cmyk ? JCS_CMYK : c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, o.quality ? o.quality : 95, TRUE);
  if (o.progressive) jpeg_simple_progression(&cinfo);
  if (o.script) {
    cinfo.scan_info = o.script;
    cinfo.num_scans = o.nscans;
  }
  jpeg_start_compress(&cinfo, TRUE);
  int stride = w * cinfo.input_components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)cinfo.next_scanline * (size_t)stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  bytes b = {0};
  put(&b, out, n);
  free(out);
  return b;
}

/* Offset of the first marker FF <code> after SOI, or 0. */
static size_t find_marker(const bytes *b, unsigned char code) {
  for (size_t i = 2; i + 1 < b->n; i++)
    if (b->p[i] == 0xff && b->p[i + 1] == code) return i;
  return 0;
}

/* Mean of channel ch of t ([C,H,W]) over rows y0..y1-1, columns x0..x1-1. */
static double region_mean(lg_tensor *t, int ch, int y0, int y1, int x0, int x1) {
  const float *d = lg_data(t);
  int64_t h = t->shape[1], w = t->shape[2];
  double s = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) s += d[(ch * h + y) * w + x];
  return s / ((y1 - y0) * (x1 - x0));
}

/* A 32 x 16 RGB image: left half one colour, right half another (the edge
** falls on a 16-pixel MCU boundary). */
static const unsigned char left_rgb[3] = {200, 30, 40}, right_rgb[3] = {20, 60, 220};

static unsigned char *two_blocks(void) {
  unsigned char *px = malloc(32 * 16 * 3);
  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 32; x++) memcpy(px + (y * 32 + x) * 3, x < 16 ? left_rgb : right_rgb, 3);
  return px;
}

/* Each half of the decoded two-block image keeps its colour away from the
** edge, where chroma (subsampled 2:1, then interpolated) bleeds across:
** block means within 2/255 and every pixel within 4/255 over columns 0..11
** and 20..31.  (Measured: means within 0.3/255, pixels within 1/255.) */
static void expect_two_blocks(lg_tensor *t) {
  EXPECT_SHAPE(t, 3, 16, 32);
  const float *d = lg_data(t);
  for (int ch = 0; ch < 3; ch++) {
    assert_true(fabs(region_mean(t, ch, 0, 16, 0, 12) - left_rgb[ch] / 255.0) <= 2 / 255.0);
    assert_true(fabs(region_mean(t, ch, 0, 16, 20, 32) - right_rgb[ch] / 255.0) <= 2 / 255.0);
    for (int y = 0; y < 16; y++)
      for (int x = 0; x < 32; x++) {
        if (x >= 12 && x < 20) continue;
        double want = (x < 16 ? left_rgb : right_rgb)[ch] / 255.0;
        assert_true(fabs(d[(ch * 16 + y) * 32 + x] - want) <= 4 / 255.0);
      }
  }
}

/* }====================================================== */

static int make_tmpdir(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lg_test_image_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
  (void)state;
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') unlink(tmp_path(e->d_name));
  if (d) closedir(d);
  return rmdir(tmpdir);
}

/* {====================================================== round trips */

/* Values k / 255 survive save -> load bit for bit. */
static void test_round_trip_rgb(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_empty(SHAPE(3, 4, 5)));
  float *d = lg_data(x);
  for (int i = 0; i < 60; i++) d[i] = (float)((i * 37 + 11) % 256) / 255.0f;
  assert_int_equal(lg_image_save(tmp_path("rgb.png"), x), 0);
  lg_tensor *y = CK(lg_image_load(tmp_path("rgb.png")));
  EXPECT_SHAPE(y, 3, 4, 5);
  assert_memory_equal(lg_data(y), d, 60 * sizeof(float));
  lg_release(x);
  lg_release(y);
}

/* [H,W] saves as grey and loads as [1,H,W]; a strided view saves its values;
** out-of-range values are clamped, NaN becomes 0, rounding is to nearest. */
static void test_round_trip_grey_clamp(void **state) {
  (void)state;
  lg_tensor *x = TENSOR(SHAPE(2, 3), -1.0f, 2.0f, NAN, 0.5f, 0.2f / 255.0f, 0.7f / 255.0f);
  lg_tensor *xt = CK(lg_transpose(x, 0, 1));     /* [3,2], non-contiguous */
  assert_int_equal(lg_image_save(tmp_path("grey.PNG"), xt), 0);
  lg_tensor *y = CK(lg_image_load(tmp_path("grey.PNG")));
  EXPECT_SHAPE(y, 1, 3, 2);
  EXPECT_VALUES(y, 0.0f, 128 / 255.0f, 1.0f, 0.0f, 0.0f, 1 / 255.0f);
  lg_release(x);
  lg_release(xt);
  lg_release(y);
}

static void test_save_leaves_no_temp_file(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_full(SHAPE(1, 2, 2), 0.5f));
  assert_int_equal(lg_image_save(tmp_path("once.png"), x), 0);
  assert_int_equal(lg_image_save(tmp_path("once.png"), x), 0);   /* overwrite */
  int files = 0;
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, "once.png")) files++;
  closedir(d);
  assert_int_equal(files, 1);
  lg_release(x);
}

/* }====================================================== */

/* {====================================================== formats */

static void test_16bit(void **state) {
  (void)state;
  const unsigned char px[] = {0x00, 0x00, 0x12, 0x34, 0xff, 0xff, 0x80, 0x00};   /* 2x2 grey */
  bytes b = make_png(2, 2, 16, 0, 1, px);
  lg_tensor *t = CK(lg_image_decode(b.p, b.n, "grey16"));
  EXPECT_SHAPE(t, 1, 2, 2);
  EXPECT_VALUES_TOL(t, 1e-7, 0.0f, 0x1234 / 65535.0f, 1.0f, 0x8000 / 65535.0f);
  lg_release(t);
  free(b.p);
}

/* RGBA -> RGB and grey+alpha -> grey: alpha is dropped, not composited. */
static void test_alpha_dropped(void **state) {
  (void)state;
  const unsigned char rgba[] = {10, 20, 30, 0, 40, 50, 60, 255};
  bytes b = make_png(2, 1, 8, 6, 4, rgba);
  lg_tensor *t = CK(lg_image_decode(b.p, b.n, "rgba"));
  EXPECT_SHAPE(t, 3, 1, 2);
  EXPECT_VALUES(t, 10 / 255.0f, 40 / 255.0f, 20 / 255.0f, 50 / 255.0f, 30 / 255.0f, 60 / 255.0f);
  lg_release(t);
  free(b.p);
  const unsigned char ga[] = {100, 0, 200, 7};
  b = make_png(2, 1, 8, 4, 2, ga);
  t = CK(lg_image_decode(b.p, b.n, "grey+alpha"));
  EXPECT_SHAPE(t, 1, 1, 2);
  EXPECT_VALUES(t, 100 / 255.0f, 200 / 255.0f);
  lg_release(t);
  free(b.p);
}

static void test_palette(void **state) {
  (void)state;
  bytes b = {0};
  const unsigned char plte[] = {255, 0, 0, 0, 0, 255}, raw[] = {0, 0x40};   /* 1-bit: 0,1 */
  signature(&b);
  ihdr(&b, 2, 1, 1, 3);
  chunk(&b, "PLTE", plte, 6);
  idat(&b, raw, 2);
  iend(&b);
  lg_tensor *t = CK(lg_image_decode(b.p, b.n, "palette"));
  EXPECT_SHAPE(t, 3, 1, 2);
  EXPECT_VALUES(t, 1, 0, 0, 0, 0, 1);
  lg_release(t);
  free(b.p);
}

/* }====================================================== */

/* {====================================================== JPEG */

/* A constant grey image decodes to the same grey within 2/255, from memory
** and from a file. */
static void test_jpeg_grey(void **state) {
  (void)state;
  unsigned char px[24 * 20];
  memset(px, 100, sizeof px);
  bytes b = make_jpeg(24, 20, 1, px, (jpeg_opts){0});
  lg_tensor *t = CK(lg_image_decode(b.p, b.n, "grey.jpg"));
  EXPECT_SHAPE(t, 1, 20, 24);
  const float *d = lg_data(t);
  for (int i = 0; i < 24 * 20; i++) assert_true(fabsf(d[i] - 100 / 255.0f) <= 2 / 255.0f);
  lg_release(t);
  write_file(tmp_path("grey.JPG"), b.p, b.n);
  t = CK(lg_image_load(tmp_path("grey.JPG")));
  EXPECT_SHAPE(t, 1, 20, 24);
  assert_true(fabsf(((float *)lg_data(t))[7] - 100 / 255.0f) <= 2 / 255.0f);
  lg_release(t);
  free(b.p);
}

/* YCbCr (libjpeg's default for RGB input) decodes to 3 RGB planes. */
static void test_jpeg_colour(void **state) {
  (void)state;
  unsigned char *px = two_blocks();
  bytes b = make_jpeg(32, 16, 3, px, (jpeg_opts){0});
  lg_tensor *t = CK(lg_image_decode(b.p, b.n, "blocks.jpg"));
  expect_two_blocks(t);
  lg_release(t);
  free(b.p);
  free(px);
}

/* Progressive files (whole-image coefficient buffer, several scans) decode
** like baseline ones: grey and colour. */
static void test_jpeg_progressive(void **state) {
  (void)state;
  unsigned char *px = two_blocks();
  bytes b = make_jpeg(32, 16, 3, px, (jpeg_opts){.progressive = true});
  assert_true(find_marker(&b, 0xc2) > 0);   /* SOF2: progressive */
  lg_tensor *t = CK(lg_image_decode(b.p, b.n, "progressive.jpg"));
  expect_two_blocks(t);
  lg_release(t);
  free(b.p);
  free(px);

  unsigned char grey[40 * 9];
  for (int i = 0; i < 40 * 9; i++) grey[i] = (unsigned char)(i % 40 < 20 ? 30 : 220);
  b = make_jpeg(40, 9, 1, grey, (jpeg_opts){.progressive = true});
  assert_true(find_marker(&b, 0xc2) > 0);
  t = CK(lg_image_decode(b.p, b.n, "progressive-grey.jpg"));
  EXPECT_SHAPE(t, 1, 9, 40);
  assert_true(fabs(region_mean(t, 0, 0, 9, 0, 16) - 30 / 255.0) <= 2 / 255.0);
  assert_true(fabs(region_mean(t, 0, 0, 9, 24, 40) - 220 / 255.0) <= 2 / 255.0);
  lg_release(t);
  free(b.p);
}

/* A valid progression with 517 scans (each AC coefficient its own band,
** refined bit by bit) is refused by the scan limit. */
static void test_jpeg_too_many_scans(void **state) {
  (void)state;
  enum { NSCANS = 11 + 46 * 11 };
  jpeg_scan_info script[NSCANS];
  int n = 0;
  for (int al = 10; al >= 0; al--)
    script[n++] = (jpeg_scan_info){1, {0}, 0, 0, al == 10 ? 0 : al + 1, al};
  for (int k = 1; k <= 46; k++)
    for (int al = 10; al >= 0; al--)
      script[n++] = (jpeg_scan_info){1, {0}, k, k, al == 10 ? 0 : al + 1, al};
  assert_int_equal(n, NSCANS);
  unsigned char px[8 * 8];
  for (int i = 0; i < 64; i++) px[i] = (unsigned char)(i * 4);
  bytes b = make_jpeg(8, 8, 1, px, (jpeg_opts){.progressive = true, .script = script,
                                               .nscans = NSCANS});
  EXPECT_ERR(lg_image_decode(b.p, b.n, "scans.jpg"), "scans.jpg", "more than 500 scans");
  free(b.p);
}

/* A few bytes of garbage before a marker are a warning libjpeg tolerates, and
** so do we; a stream of them is an error. */
static void test_jpeg_warnings(void **state) {
  (void)state;
  unsigned char px[16 * 16];
  memset(px, 180, sizeof px);
  bytes good = make_jpeg(16, 16, 1, px, (jpeg_opts){0});
  const unsigned char junk_com[] = {0x00, 0xff, 0xfe, 0x00, 0x02};   /* garbage + empty COM */
  assert_true(good.p[2] == 0xff && good.p[3] == 0xe0);   /* SOI, then the JFIF APP0 segment */
  size_t app0_end = 4 + ((size_t)good.p[4] << 8 | good.p[5]);
  for (int k = 0; k < 2; k++) {
    int copies = k == 0 ? 5 : 101;
    bytes b = {0};
    put(&b, good.p, app0_end);
    for (int i = 0; i < copies; i++) put(&b, junk_com, sizeof junk_com);
    put(&b, good.p + app0_end, good.n - app0_end);
    if (k == 0) {
      lg_tensor *t = CK(lg_image_decode(b.p, b.n, "junk5.jpg"));
      assert_true(fabs(region_mean(t, 0, 0, 16, 0, 16) - 180 / 255.0) <= 2 / 255.0);
      lg_release(t);
    } else {
      EXPECT_ERR(lg_image_decode(b.p, b.n, "junk101.jpg"), "junk101.jpg",
                 "corrupt JPEG: more than 100 warnings", "extraneous bytes");
    }
    free(b.p);
  }
  free(good.p);
}

static void test_jpeg_bad_files(void **state) {
  (void)state;
  unsigned char *px = two_blocks();
  bytes good = make_jpeg(32, 16, 3, px, (jpeg_opts){0});
  free(px);
  lg_release(CK(lg_image_decode(good.p, good.n, "good")));   /* the variants' base is valid */
  size_t sos = find_marker(&good, 0xda), sof = find_marker(&good, 0xc0),
         dht = find_marker(&good, 0xc4);
  assert_true(sos > 0 && sof > 0 && dht > 0);

  /* truncated: inside the header, just after SOS, in the middle of the scan
  ** data, and only the EOI marker missing */
  size_t cuts[] = {20, sos + 4, (sos + good.n) / 2, good.n - 2};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
    EXPECT_ERR(lg_image_decode(good.p, cuts[i], "cut.jpg"), "cut.jpg", "truncated JPEG",
               "Premature end of JPEG file");

  /* nothing after SOI, and SOI directly followed by EOI */
  EXPECT_ERR(lg_image_decode((const unsigned char *)"\xff\xd8\xff", 3, "soi.jpg"), "soi.jpg",
             "truncated JPEG");
  EXPECT_ERR(lg_image_decode((const unsigned char *)"\xff\xd8\xff\xd9", 4, "soieoi.jpg"),
             "soieoi.jpg", "corrupt JPEG", "no image");

  bytes b = {malloc(good.n), good.n, good.n};
  /* a Huffman table whose code lengths over-subscribe the code space: the
  ** first table (standard DC luminance, counts 0 1 5 1 1 ...) gets 3 codes
  ** of length 1, 2 of length 3, the same total */
  memcpy(b.p, good.p, good.n);
  unsigned char *counts = b.p + dht + 5;
  assert_int_equal(counts[0], 0);
  assert_int_equal(counts[2], 5);
  counts[0] = 3;
  counts[2] = 2;
  EXPECT_BAD(b, "corrupt JPEG", "Huffman table");
  /* a Huffman table claiming more values than the segment holds */
  memcpy(b.p, good.p, good.n);
  memset(b.p + dht + 5, 0xff, 16);
  EXPECT_BAD(b, "corrupt JPEG", "Huffman table");

  /* huge dimensions in SOF, refused from the header before any allocation
  ** (height at SOF+5, width at SOF+7, big-endian) */
  memcpy(b.p, good.p, good.n);
  memcpy(b.p + sof + 5, "\x4e\x20\x4e\x20", 4);   /* 20000 x 20000 */
  EXPECT_BAD(b, "20000x20000", "above the limit of 16384 pixels per side");
  memcpy(b.p + sof + 5, "\x3e\x80\x3e\x80", 4);   /* 16000 x 16000 x 3 */
  EXPECT_BAD(b, "16000x16000 with 3 channels", "above the limit of 67108864 samples");
  memcpy(b.p + sof + 5, "\x00\x00\x00\x10", 4);   /* zero height */
  EXPECT_BAD(b, "corrupt JPEG", "Empty JPEG image");
  free(b.p);
  free(good.p);

  /* CMYK */
  unsigned char cmyk[8 * 8 * 4];
  memset(cmyk, 77, sizeof cmyk);
  b = make_jpeg(8, 8, 4, cmyk, (jpeg_opts){.cmyk = true});
  EXPECT_BAD(b, "CMYK JPEG is not supported");
  free(b.p);
}

/* }====================================================== */

/* {====================================================== malformed files */

static void test_bad_files(void **state) {
  (void)state;
  const unsigned char px[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  bytes good = make_png(4, 4, 8, 0, 1, px);
  lg_release(CK(lg_image_decode(good.p, good.n, "good")));   /* the variants' base is valid */
  bytes b = good;

  /* truncated in the middle of the IDAT chunk, and before IEND */
  b.n = 45;
  EXPECT_BAD(b, "truncated", "chunk IDAT");
  b.n = good.n - 12;
  EXPECT_BAD(b, "truncated", "no IEND");
  b.n = 5;
  EXPECT_BAD(b, "not a PNG");

  /* bad signature */
  unsigned char *p = malloc(good.n);
  memcpy(p, good.p, good.n);
  p[1] = 'J';
  EXPECT_ERR(lg_image_decode(p, good.n, "sig.png"), "sig.png", "not a PNG", "signature");

  /* one bit flipped in the pixel data: stb ignores CRCs, our check does not */
  memcpy(p, good.p, good.n);
  p[8 + 25 + 8 + 3] ^= 1;
  EXPECT_ERR(lg_image_decode(p, good.n, "crc.png"), "crc.png", "chunk IDAT", "CRC mismatch");
  free(p);
  free(good.p);

  /* zero width */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 0, 4, 8, 0);
  idat(&b, px, 16);
  iend(&b);
  EXPECT_BAD(b, "0x4", "zero-sized");
  free(b.p);

  /* 100000 x 100000 in IHDR: refused from the header, before stb runs */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 100000, 100000, 8, 2);
  idat(&b, px, 16);
  iend(&b);
  EXPECT_BAD(b, "100000x100000", "above the limit of 16384");
  free(b.p);

  /* 16000 x 16000 RGBA 16-bit is within the side limit, but 2 GB of pixels
  ** cannot come out of a few compressed bytes: refused before allocating */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 16000, 16000, 16, 6);
  idat(&b, px, 16);
  iend(&b);
  EXPECT_BAD(b, "16000x16000", "more than", "compressed bytes can hold");
  free(b.p);

  /* 8192 x 8193 grey: more samples than the cap (64 Mi), with enough
  ** (garbage) compressed bytes to get past the ratio check */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 8192, 8193, 8, 0);
  unsigned char *junk = calloc(70000, 1);
  chunk(&b, "IDAT", junk, 70000);
  free(junk);
  iend(&b);
  EXPECT_BAD(b, "8192x8193", "above the limit of 67108864 samples");
  free(b.p);

  /* a corrupt zlib stream (valid CRC) */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 4, 4, 8, 0);
  chunk(&b, "IDAT", "\x78\x9c\xff\xff\xff\xff\xff\xff", 8);
  iend(&b);
  EXPECT_BAD(b, "corrupt PNG");
  free(b.p);

  /* a zlib stream that ends early: 2 rows of 4 */
  b = (bytes){0};
  unsigned char raw[10] = {0};
  signature(&b);
  ihdr(&b, 4, 4, 8, 0);
  idat(&b, raw, 10);
  iend(&b);
  EXPECT_BAD(b, "corrupt PNG");
  free(b.p);

  /* IDAT before IHDR */
  b = (bytes){0};
  signature(&b);
  idat(&b, px, 16);
  ihdr(&b, 4, 4, 8, 0);
  iend(&b);
  EXPECT_BAD(b, "chunk IDAT before IHDR");
  free(b.p);

  /* 16-bit palette does not exist */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 4, 4, 16, 3);
  idat(&b, px, 16);
  iend(&b);
  EXPECT_BAD(b, "colour type 3 with bit depth 16");
  free(b.p);

  /* an unknown critical chunk */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 4, 4, 8, 0);
  chunk(&b, "ZZZZ", "x", 1);
  idat(&b, px, 16);
  iend(&b);
  EXPECT_BAD(b, "unknown critical chunk ZZZZ");
  free(b.p);

  /* no IDAT at all */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 4, 4, 8, 0);
  iend(&b);
  EXPECT_BAD(b, "no image data");
  free(b.p);

  /* a chunk length pointing past the end of the file */
  b = (bytes){0};
  signature(&b);
  ihdr(&b, 4, 4, 8, 0);
  put32(&b, 0x7fffffff);
  put(&b, "IDAT", 4);
  put(&b, "abcdefgh", 8);
  EXPECT_BAD(b, "truncated", "claims 2147483647 bytes");
  free(b.p);

  /* neither PNG nor JPEG (a GIF header) */
  EXPECT_ERR(lg_image_decode((const unsigned char *)"GIF89a\1\0\1\0", 10, "a.gif"), "a.gif",
             "unsupported image format");
}

static void test_bad_paths(void **state) {
  (void)state;
  EXPECT_ERR(lg_image_load(tmp_path("missing.png")), "cannot open", "missing.png",
             "No such file");
  EXPECT_ERR(lg_image_load(tmpdir), "is not a regular file (a directory)");
  EXPECT_ERR(lg_image_load("/dev/zero"), "image.load", "is not a regular file (a character device)");
  /* a FIFO: opening it for reading would block until a writer comes; the
  ** alarm turns a regression into a failed run instead of a hang */
  assert_int_equal(mkfifo(tmp_path("fifo.png"), 0600), 0);
  alarm(10);
  EXPECT_ERR(lg_image_load(tmp_path("fifo.png")), "fifo.png", "is not a regular file (a FIFO)");
  alarm(0);
  unlink(tmp_path("fifo.png"));
  /* the size limit is checked before a byte is read (a sparse file) */
  FILE *big = fopen(tmp_path("big.png"), "wb");
  assert_non_null(big);
  assert_int_equal(ftruncate(fileno(big), ((off_t)128 << 20) + 1), 0);
  fclose(big);
  EXPECT_ERR(lg_image_load(tmp_path("big.png")), "big.png", "134217729 bytes",
             "above the 134217728-byte limit");
  unlink(tmp_path("big.png"));
  write_file(tmp_path("empty.png"), "", 0);
  EXPECT_ERR(lg_image_load(tmp_path("empty.png")), "empty.png", "empty file");
  const char text[] = "this is a text file, not an image\n";
  write_file(tmp_path("text.png"), text, sizeof text - 1);
  EXPECT_ERR(lg_image_load(tmp_path("text.png")), "text.png", "not a PNG");
}

static void test_save_errors(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_zeros(SHAPE(2, 4, 4))), *v = CK(lg_zeros(SHAPE(4))),
            *ok = CK(lg_zeros(SHAPE(3, 2, 2))), *empty = CK(lg_zeros(SHAPE(1, 0, 2)));
  EXPECT_RC_ERR(lg_image_save(tmp_path("a.png"), x), "shape [2,4,4]", "C = 1 or 3");
  EXPECT_RC_ERR(lg_image_save(tmp_path("a.png"), v), "shape [4]");
  EXPECT_RC_ERR(lg_image_save(tmp_path("a.png"), empty), "shape [1,0,2]", "height and width");
  EXPECT_RC_ERR(lg_image_save(tmp_path("a.jpg"), ok), "a.jpg", "only PNG");
  EXPECT_RC_ERR(lg_image_save("/nonexistent-dir/a.png", ok), "cannot create a file next to",
                "/nonexistent-dir/a.png");
  mkdir(tmp_path("adir.png"), 0700);
  EXPECT_RC_ERR(lg_image_save(tmp_path("adir.png"), ok), "adir.png", "Is a directory");
  rmdir(tmp_path("adir.png"));
  lg_release(x);
  lg_release(v);
  lg_release(ok);
  lg_release(empty);
}

/* }====================================================== */

/* {====================================================== grid and resize */

/* 3 images of 1x2x2 (values 1..4, 11..14, 21..24), 2 per row, padding 1
** with -1: a 7x7 canvas, the fourth cell left as padding. */
static void test_grid_layout(void **state) {
  (void)state;
  lg_tensor *batch = TENSOR(SHAPE(3, 1, 2, 2), 1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24);
  lg_tensor *g = CK(lg_image_grid(batch, 2, 1, -1.0f));
  EXPECT_SHAPE(g, 1, 7, 7);
  EXPECT_VALUES(g,
    -1, -1, -1, -1, -1, -1, -1,
    -1,  1,  2, -1, 11, 12, -1,
    -1,  3,  4, -1, 13, 14, -1,
    -1, -1, -1, -1, -1, -1, -1,
    -1, 21, 22, -1, -1, -1, -1,
    -1, 23, 24, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1);
  lg_release(g);
  /* fewer images than nrow: one row as wide as the batch; no padding */
  g = CK(lg_image_grid(batch, 8, 0, 0.0f));
  EXPECT_SHAPE(g, 1, 2, 6);
  EXPECT_VALUES(g, 1, 2, 11, 12, 21, 22, 3, 4, 13, 14, 23, 24);
  lg_release(g);
  /* RGB, non-contiguous input */
  lg_tensor *rgb = CK(lg_rand(SHAPE(2, 2, 3, 3))), *nc = ck_noncontig(rgb);
  g = CK(lg_image_grid(nc, 1, 2, 0.5f));
  EXPECT_SHAPE(g, 2, 2 * 5 + 2, 1 * 5 + 2);
  assert_float_equal(ck_get(g, 1 * 12 * 7 + 7 * 7 + 2), ck_get(rgb, 1 * 18 + 1 * 9 + 0), 0);
  assert_float_equal(ck_get(g, 6), 0.5f, 0);
  lg_release(g);
  lg_release(rgb);
  lg_release(nc);
  EXPECT_ERR(lg_image_grid(batch, 0, 2, 0), "image.grid", "nrow must be >= 1");
  EXPECT_ERR(lg_image_grid(batch, 2, -1, 0), "image.grid", "padding must be >= 0");
  lg_tensor *three = CK(lg_zeros(SHAPE(1, 2, 2)));
  EXPECT_ERR(lg_image_grid(three, 2, 2, 0), "image.grid", "[1,2,2]", "[N,C,H,W]");
  lg_release(three);
  lg_release(batch);
}

static void test_resize_constant(void **state) {
  (void)state;
  lg_tensor *x = CK(lg_full(SHAPE(3, 7, 9), 0.3f));
  const int sizes[][2] = {{4, 5}, {13, 20}, {3, 17}, {7, 9}, {1, 1}};
  for (int i = 0; i < 5; i++) {
    lg_tensor *y = CK(lg_image_resize(x, sizes[i][0], sizes[i][1]));
    EXPECT_SHAPE(y, 3, sizes[i][0], sizes[i][1]);
    for (int64_t k = 0; k < y->numel; k++) assert_float_equal(ck_get(y, k), 0.3f, 1e-6);
    lg_release(y);
  }
  lg_release(x);
}

static void test_resize_values(void **state) {
  (void)state;
  /* 2x downscale averages 2x2 blocks */
  lg_tensor *x = TENSOR(SHAPE(1, 4, 4), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  lg_tensor *y = CK(lg_image_resize(x, 2, 2));
  EXPECT_SHAPE(y, 1, 2, 2);
  EXPECT_VALUES(y, 2.5f, 4.5f, 10.5f, 12.5f);
  lg_release(y);
  /* 4 -> 3: each output covers 4/3 inputs */
  lg_tensor *row = TENSOR(SHAPE(1, 4), 0, 3, 6, 9);
  y = CK(lg_image_resize(row, 1, 3));
  EXPECT_VALUES(y, 0.75f * 0 + 0.25f * 3, 0.5f * 3 + 0.5f * 6, 0.25f * 6 + 0.75f * 9);
  lg_release(y);
  /* upscale: bilinear at pixel centres (PyTorch, align_corners=False) */
  lg_tensor *two = TENSOR(SHAPE(1, 1, 2), 0, 1);
  y = CK(lg_image_resize(two, 1, 4));
  EXPECT_VALUES(y, 0, 0.25f, 0.75f, 1);
  lg_release(y);
  /* a batch [N,C,H,W] resizes image by image */
  lg_tensor *nb = CK(lg_full(SHAPE(2, 1, 4, 4), 1.0f));
  y = CK(lg_image_resize(nb, 2, 8));
  EXPECT_SHAPE(y, 2, 1, 2, 8);
  lg_release(y);
  EXPECT_ERR(lg_image_resize(x, 0, 3), "image.resize", "0x3");
  EXPECT_ERR(lg_image_resize(x, 3, 20000), "image.resize", "1..16384");
  lg_tensor *v = CK(lg_zeros(SHAPE(5)));
  EXPECT_ERR(lg_image_resize(v, 2, 2), "image.resize", "shape [5]");
  lg_release(v);
  lg_release(nb);
  lg_release(two);
  lg_release(row);
  lg_release(x);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
    TEST(test_round_trip_rgb),
    TEST(test_round_trip_grey_clamp),
    TEST(test_save_leaves_no_temp_file),
    TEST(test_16bit),
    TEST(test_alpha_dropped),
    TEST(test_palette),
    TEST(test_jpeg_grey),
    TEST(test_jpeg_colour),
    TEST(test_jpeg_progressive),
    TEST(test_jpeg_too_many_scans),
    TEST(test_jpeg_warnings),
    TEST(test_jpeg_bad_files),
    TEST(test_bad_files),
    TEST(test_bad_paths),
    TEST(test_save_errors),
    TEST(test_grid_layout),
    TEST(test_resize_constant),
    TEST(test_resize_values),
  };
  return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
