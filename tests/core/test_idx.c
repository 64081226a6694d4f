/*
** IDX reader (core/io_idx.c): malformed files, raw and gzipped, each
** rejected with a message naming the problem; and the shipped MNIST 10k
** subset read back with the shapes, ranges and class counts datasets/README.md
** states.  Run from the repository root (as `make test` does).
*/
#include "check.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* {====================================================== building files */

typedef struct {
  unsigned char p[256];
  size_t n;
} idx_file;

static void put8(idx_file *f, unsigned v) { f->p[f->n++] = (unsigned char)v; }

static void put32(idx_file *f, uint32_t v) {
  for (int i = 3; i >= 0; i--) put8(f, (v >> (8 * i)) & 0xff);
}

/* Header: magic 0 0 type ndim, then the sizes. */
static idx_file header(unsigned type, int ndim, const uint32_t *dims) {
  idx_file f = {.n = 0};
  put8(&f, 0);
  put8(&f, 0);
  put8(&f, type);
  put8(&f, (unsigned)ndim);
  for (int i = 0; i < ndim; i++) put32(&f, dims[i]);
  return f;
}

/* gzip of p[0..n), malloc'd, length in *out. */
static unsigned char *gzip(const unsigned char *p, size_t n, size_t *out) {
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  size_t cap = deflateBound(&z, n) + 64;
  unsigned char *g = malloc(cap);
  z.next_in = (unsigned char *)p;
  z.avail_in = (uInt)n;
  z.next_out = g;
  z.avail_out = (uInt)cap;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  *out = cap - z.avail_out;
  deflateEnd(&z);
  return g;
}

#define EXPECT_BAD(buf, n, ...) EXPECT_ERR(lg_parse_idx((buf), (n), "t.idx"), "t.idx", __VA_ARGS__)

/* }====================================================== */

static void test_valid_raw(void **state) {
  (void)state;
  idx_file f = header(0x0B, 2, (uint32_t[]){2, 2});   /* i16, big-endian */
  const unsigned char d[] = {0, 1, 0xff, 0xff, 0x01, 0x00, 0x80, 0x00};
  memcpy(f.p + f.n, d, 8);
  f.n += 8;
  lg_tensor *t = CK(lg_parse_idx(f.p, f.n, "ok"));
  EXPECT_SHAPE(t, 2, 2);
  EXPECT_VALUES(t, 1, -1, 256, -32768);
  lg_release(t);
}

static void test_malformed_raw(void **state) {
  (void)state;
  idx_file f = header(0x08, 1, (uint32_t[]){3});
  put8(&f, 1);
  put8(&f, 2);
  EXPECT_BAD(f.p, f.n, "truncated", "[3] needs 3 bytes", "found 2");
  put8(&f, 3);
  put8(&f, 4);
  EXPECT_BAD(f.p, f.n, "trailing bytes");

  EXPECT_BAD(f.p, 2, "2 bytes is too short");
  f.p[0] = 0x01;
  EXPECT_BAD(f.p, f.n, "bad magic 01 00");

  f = header(0x0A, 1, (uint32_t[]){1});
  put8(&f, 0);
  EXPECT_BAD(f.p, f.n, "unknown data type 0x0a");

  f = header(0x08, 0, NULL);
  EXPECT_BAD(f.p, f.n, "0 dimensions", "1..8");
  f = header(0x08, 9, (uint32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_BAD(f.p, f.n, "9 dimensions");

  f = header(0x08, 3, (uint32_t[]){2, 0, 2});
  EXPECT_BAD(f.p, f.n, "dimension 2 has size 0");

  f = header(0x08, 3, (uint32_t[]){65536, 65536, 2});
  EXPECT_BAD(f.p, f.n, "sizes multiply past", "dimension 2 is 65536");

  f = header(0x0D, 3, (uint32_t[]){60000, 28, 28});
  EXPECT_BAD(f.p, 10, "truncated header (10 of 16 bytes)");
  EXPECT_BAD(f.p, f.n, "truncated", "[60000,28,28]", "188160000 bytes");
}

static void test_malformed_gzip(void **state) {
  (void)state;
  idx_file f = header(0x08, 2, (uint32_t[]){10, 10});
  for (int i = 0; i < 100; i++) put8(&f, (unsigned)(i * 7));
  size_t n;
  unsigned char *g = gzip(f.p, f.n, &n);
  lg_tensor *t = CK(lg_parse_idx(g, n, "ok.gz"));
  EXPECT_SHAPE(t, 10, 10);
  lg_release(t);

  /* truncated in the middle of the compressed data */
  EXPECT_BAD(g, n / 2, "truncated");
  for (size_t cut = 1; cut <= 8; cut++) EXPECT_BAD(g, n - cut, "truncated gzip stream");

  /* garbage after the gzip stream */
  unsigned char *more = malloc(n + 5);
  memcpy(more, g, n);
  memcpy(more + n, "JUNK!", 5);
  EXPECT_BAD(more, n + 5, "5 bytes after the end of the gzip stream");

  /* a corrupted deflate stream */
  memcpy(more, g, n);
  for (size_t i = 12; i < 20; i++) more[i] ^= 0x5a;
  EXPECT_BAD(more, n, "corrupt gzip stream");
  free(more);
  free(g);

  /* the raw file has one more data byte than the header says */
  put8(&f, 0);
  g = gzip(f.p, f.n, &n);
  EXPECT_BAD(g, n, "found more: trailing bytes");
  free(g);

  /* a small gzip claiming a 60000x28x28 float tensor: refused before
  ** allocating, since deflate cannot expand a few bytes that far */
  f = header(0x0D, 3, (uint32_t[]){60000, 28, 28});
  put32(&f, 0);
  g = gzip(f.p, f.n, &n);
  EXPECT_BAD(g, n, "[60000,28,28]", "needs 188160000 bytes", "compressed bytes can hold");
  free(g);

  /* the gzip of a bad header reports the header problem */
  f = header(0x08, 9, (uint32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
  g = gzip(f.p, f.n, &n);
  EXPECT_BAD(g, n, "9 dimensions");
  free(g);
}

static void test_bad_paths(void **state) {
  (void)state;
  EXPECT_ERR(lg_read_idx("/nonexistent/train.idx"), "cannot open", "/nonexistent/train.idx");
  EXPECT_ERR(lg_read_idx("/tmp"), "'/tmp' is not a regular file (a directory)");
  EXPECT_ERR(lg_read_idx("/dev/zero"), "'/dev/zero' is not a regular file (a character device)");
}

/* A FIFO where a data file was expected: opening it for reading blocks
** until a writer comes, so the reader must refuse it without blocking.  The
** alarm turns a regression into a failed run instead of a hang. */
static void test_refuses_a_fifo(void **state) {
  (void)state;
  char dir[] = "/tmp/lg-test-idx-XXXXXX", fifo[64];
  assert_non_null(mkdtemp(dir));
  snprintf(fifo, sizeof fifo, "%s/train.idx", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  alarm(10);
  EXPECT_ERR(lg_read_idx(fifo), "read_idx", fifo, "is not a regular file (a FIFO)");
  alarm(0);
  unlink(fifo);
  rmdir(dir);
}

/* {====================================================== shipped data */

static const char *const mnist_dir = "datasets/mnist10k";

static lg_tensor *read_shipped(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", mnist_dir, name);
  return CK(lg_read_idx(path));
}

/* Every value an integer in [lo, hi], and both ends reached. */
static void expect_integers_in(const lg_tensor *t, float lo, float hi) {
  const float *d = lg_data(t);
  float mn = d[0], mx = d[0];
  for (int64_t i = 0; i < t->numel; i++) {
    assert_true(d[i] == floorf(d[i]));
    mn = fminf(mn, d[i]);
    mx = fmaxf(mx, d[i]);
  }
  assert_float_equal(mn, lo, 0);
  assert_float_equal(mx, hi, 0);
}

static void test_mnist10k(void **state) {
  (void)state;
  if (access(mnist_dir, R_OK) != 0) {
    print_message("datasets/mnist10k not found from %s: run from the repository root\n",
                  getcwd((char[512]){0}, 512));
    fail();
  }
  lg_tensor *x = read_shipped("train-images-idx3-ubyte.gz");
  lg_tensor *y = read_shipped("train-labels-idx1-ubyte.gz");
  EXPECT_SHAPE(x, 9001, 28, 28);
  EXPECT_SHAPE(y, 9001);
  expect_integers_in(x, 0, 255);
  expect_integers_in(y, 0, 9);
  /* the per-class counts of datasets/README.md */
  const int want[10] = {901, 1014, 892, 929, 882, 777, 913, 963, 850, 880};
  int count[10] = {0};
  for (int64_t i = 0; i < y->numel; i++) count[(int)lg_data(y)[i]]++;
  for (int c = 0; c < 10; c++) assert_int_equal(count[c], want[c]);

  /* the same bytes uncompressed read back identical */
  gzFile gz = gzopen("datasets/mnist10k/train-images-idx3-ubyte.gz", "rb");
  assert_non_null(gz);
  size_t raw_n = 16 + 9001 * 784;
  unsigned char *raw = malloc(raw_n + 1);
  assert_int_equal(gzread(gz, raw, (unsigned)raw_n + 1), (int)raw_n);
  gzclose(gz);
  lg_tensor *x2 = CK(lg_parse_idx(raw, raw_n, "raw"));
  EXPECT_SHAPE(x2, 9001, 28, 28);
  assert_memory_equal(lg_data(x2), lg_data(x), sizeof(float) * (size_t)x->numel);
  free(raw);

  lg_tensor *tx = read_shipped("t10k-images-idx3-ubyte.gz");
  lg_tensor *ty = read_shipped("t10k-labels-idx1-ubyte.gz");
  EXPECT_SHAPE(tx, 999, 28, 28);
  EXPECT_SHAPE(ty, 999);
  expect_integers_in(ty, 0, 9);
  lg_release(x);
  lg_release(y);
  lg_release(x2);
  lg_release(tx);
  lg_release(ty);
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
    TEST(test_valid_raw),
    TEST(test_malformed_raw),
    TEST(test_malformed_gzip),
    TEST(test_bad_paths),
    TEST(test_refuses_a_fifo),
    TEST(test_mnist10k),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
