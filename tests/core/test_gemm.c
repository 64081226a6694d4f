/* lg_sgemm (core/gemm.c): every transpose combination and every edge of its
** blocking against a double-precision reference, beta, and bitwise
** agreement between the serial and the threaded split. */
#include "check.h"
#include "internal.h"

#include <omp.h>
#include <string.h>

static float *filled(int64_t count, unsigned seed) {
  float *p = malloc((size_t)count * sizeof(float));
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < count; i++) {
    s = s * 1664525u + 1013904223u;
    p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
  return p;
}

/* C = op(A) op(B) + beta C0 in double, compared with lg_sgemm's float result:
** |err| <= 1e-5 * (sum_k |a||b| + |beta c0|), a bound float32 accumulation
** of k terms meets with room (error grows like sqrt(k) eps in practice). */
static void check_case(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float beta, bool par) {
  int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;  /* padded rows */
  float *a = filled((ta ? k : m) * lda, 1), *b = filled((tb ? n : k) * ldb, 2);
  float *c = filled(m * ldc, 3), *c0 = malloc((size_t)(m * ldc) * sizeof(float));
  if (beta == 0.0f)
    for (int64_t i = 0; i < m * ldc; i++) c[i] = NAN;   /* must not be read */
  memcpy(c0, c, (size_t)(m * ldc) * sizeof(float));
  lg_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc, par);
  int bad = 0;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0.0, mag = 0.0;
      for (int64_t p = 0; p < k; p++) {
        double x = ta ? a[p * lda + i] : a[i * lda + p], y = tb ? b[j * ldb + p] : b[p * ldb + j];
        acc += x * y;
        mag += fabs(x * y);
      }
      if (beta != 0.0f) {
        acc += beta * (double)c0[i * ldc + j];
        mag += fabs(beta * (double)c0[i * ldc + j]);
      }
      double got = c[i * ldc + j];
      if (!(fabs(got - acc) <= 1e-5 * mag + 1e-30)) {
        if (bad++ < 3)
          print_message("ta=%d tb=%d m=%lld n=%lld k=%lld beta=%g: C[%lld,%lld] = %.9g, want %.9g\n",
                        ta, tb, (long long)m, (long long)n, (long long)k, beta, (long long)i,
                        (long long)j, got, acc);
      }
    }
  /* the padding between rows of C is untouched */
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = n; j < ldc; j++)
      if (memcmp(&c[i * ldc + j], &c0[i * ldc + j], sizeof(float))) bad++;
  assert_int_equal(bad, 0);
  free(a), free(b), free(c), free(c0);
}

/* Sizes around every blocking edge: 1, below and above the register tile
** (MR 6/12, NR 16/32), the depth block (KC 256) and the panel blocks (MC,
** NC 1024); thin products (few rows or columns) with long and short sums;
** few columns with many rows (computed as C^T). */
static void all_transposes_and_edges(void **state) {
  (void)state;
  static const int64_t sizes[][3] = {{1, 1, 1},    {1, 33, 7},   {13, 1, 5},   {5, 7, 1},
                                     {12, 32, 16}, {13, 33, 17}, {25, 65, 255}, {24, 64, 257},
                                     {7, 40, 600}, {150, 20, 9}, {145, 97, 300}, {3, 1100, 4},
                                     {50, 2, 600},  {2, 300, 700}, {6, 16, 45},
                                     /* few columns, many rows: through C^T's tiles */
                                     {64, 16, 3000}, {40, 9, 300}, {33, 5, 100}, {600, 13, 50}};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int t = 0; t < 4; t++)
      check_case(t & 1, t & 2, sizes[s][0], sizes[s][1], sizes[s][2], 0.0f, false);
}

static void beta_accumulates(void **state) {
  (void)state;
  for (int t = 0; t < 4; t++) {
    check_case(t & 1, t & 2, 29, 45, 300, 1.0f, false);
    check_case(t & 1, t & 2, 12, 32, 8, 0.5f, false);
    check_case(t & 1, t & 2, 64, 16, 500, 0.5f, false);   /* C^T's tiles, then added */
  }
}

/* k = 0: C = beta C (zero when beta is 0, NaN never read). */
static void empty_depth(void **state) {
  (void)state;
  float c[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, d[6] = {1, 2, 3, 4, 5, 6}, dummy = 0;
  lg_sgemm(false, false, 2, 3, 0, &dummy, 1, &dummy, 3, 0.0f, c, 3, false);
  lg_sgemm(false, false, 2, 3, 0, &dummy, 1, &dummy, 3, 2.0f, d, 3, false);
  for (int i = 0; i < 6; i++) {
    assert_true(c[i] == 0.0f);
    assert_true(d[i] == 2.0f * (float)(i + 1));
  }
}

/* The threaded split gives the same bits as the serial run, along n (wide C)
** and along m (narrow C); every size here is above the 8M multiply-adds that
** bring in a second thread. */
static void threads_do_not_change_bits(void **state) {
  (void)state;
  static const int64_t sizes[][3] = {{128, 392, 1024}, {1024, 40, 512}, {64, 300, 1400},
                                     {512, 12, 3000}};
  int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int t = 0; t < 4; t++) {
      bool ta = t & 1, tb = t & 2;
      int64_t m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
      float *a = filled(m * k, 4), *b = filled(k * n, 5);
      float *c1 = malloc((size_t)(m * n) * sizeof(float)), *c2 = malloc((size_t)(m * n) * sizeof(float));
      lg_sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0.0f, c1, n, false);
      lg_sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0.0f, c2, n, true);
      assert_memory_equal(c1, c2, (size_t)(m * n) * sizeof(float));
      free(a), free(b), free(c1), free(c2);
    }
  check_case(false, false, 301, 203, 300, 0.0f, true);
  check_case(true, true, 20, 1000, 900, 1.0f, true);
  omp_set_num_threads(saved);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(all_transposes_and_edges),
      TEST(beta_accumulates),
      TEST(empty_depth),
      TEST(threads_do_not_change_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
