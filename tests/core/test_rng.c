/* The generator: reproducible streams, state round trips, distribution moments. */
#include "check.h"

#define N 100000

static void draw(lg_tensor **u, lg_tensor **n) {
  *u = ck_rand(SHAPE(1000));
  *n = ck_randn(SHAPE(1001));   /* odd: leaves half a Box-Muller pair cached */
}

static bool same_bits(const lg_tensor *a, const lg_tensor *b) {
  return a->numel == b->numel && !memcmp(lg_data(a), lg_data(b), sizeof(float) * (size_t)a->numel);
}

static void same_seed_gives_identical_streams(void **state) {
  (void)state;
  lg_tensor *u1, *n1, *u2, *n2;
  lg_manual_seed(7);
  draw(&u1, &n1);
  lg_manual_seed(7);
  draw(&u2, &n2);
  assert_true(same_bits(u1, u2));
  assert_true(same_bits(n1, n2));
  lg_release(u1), lg_release(n1), lg_release(u2), lg_release(n2);
}

static void different_seeds_give_different_streams(void **state) {
  (void)state;
  lg_tensor *u1, *n1, *u2, *n2;
  lg_manual_seed(7);
  draw(&u1, &n1);
  lg_manual_seed(8);
  draw(&u2, &n2);
  assert_false(same_bits(u1, u2));
  assert_false(same_bits(n1, n2));
  lg_release(u1), lg_release(n1), lg_release(u2), lg_release(n2);
}

static void seeding_discards_a_cached_normal(void **state) {
  (void)state;
  lg_manual_seed(3);
  double first = lg_rng_normal();
  lg_manual_seed(3);
  (void)lg_rng_normal();           /* leaves the pair's second value cached */
  lg_manual_seed(3);
  assert_true(lg_rng_normal() == first);
}

static void state_round_trip_resumes_bit_identically(void **state) {
  (void)state;
  uint64_t st[5];
  for (int odd = 0; odd < 2; odd++) {   /* at a pair boundary, then mid pair */
    lg_manual_seed(11);
    lg_tensor *warm = ck_randn(SHAPE(10 + odd));
    lg_rng_get_state(st);
    lg_tensor *u1, *n1, *u2, *n2;
    draw(&u1, &n1);
    lg_manual_seed(999);                 /* wander off */
    lg_tensor *noise = ck_randn(SHAPE(3));
    lg_rng_set_state(st);
    draw(&u2, &n2);
    assert_true(same_bits(u1, u2));
    assert_true(same_bits(n1, n2));
    lg_release(warm), lg_release(u1), lg_release(n1), lg_release(u2), lg_release(n2);
    lg_release(noise);
  }
}

static void mid_pair_state_keeps_the_cached_normal(void **state) {
  (void)state;
  uint64_t st[5];
  lg_manual_seed(5);
  (void)lg_rng_normal();
  lg_rng_get_state(st);
  double next = lg_rng_normal();        /* the cached second value */
  lg_manual_seed(6);
  lg_rng_set_state(st);
  assert_true(lg_rng_normal() == next);
}

static void randn_has_zero_mean_and_unit_variance(void **state) {
  (void)state;
  lg_tensor *t = ck_randn(SHAPE(N));
  double s = 0, s2 = 0;
  for (int i = 0; i < N; i++) {
    double v = lg_data(t)[i];
    assert_true(isfinite(v));
    s += v;
    s2 += v * v;
  }
  double mean = s / N, var = s2 / N - mean * mean;
  assert_true(fabs(mean) < 0.01);
  assert_true(fabs(var - 1) < 0.02);
  lg_release(t);
}

/* lg_rng_normal_fill (what randn uses) computes, pair by pair, r cos t
** then r sin t from the uniforms u1 (53 bits, rounded to float) and u2
** (the top 24 bits): recomputed here in double from the same draws, so a
** swapped lane, a wrong constant or a lost pair fails. */
static void normal_fill_is_box_muller_on_the_stream(void **state) {
  (void)state;
  enum { M = 77 };   /* odd and over 4 vectors: full chunks, a partial one, a tail */
  float got[M];
  uint64_t st[5];
  lg_manual_seed(21);
  lg_rng_get_state(st);
  lg_rng_normal_fill(got, M);
  lg_rng_set_state(st);
  for (int i = 0; i + 1 < M; i += 2) {
    float u1;
    do u1 = (float)lg_rng_uniform(); while (u1 <= 0.0f);
    double u2 = floor(lg_rng_uniform() * 0x1.0p24) * 0x1.0p-24;
    double r = sqrt(-2.0 * log((double)u1)), t = 2.0 * M_PI * u2;
    assert_true(fabs(got[i] - r * cos(t)) < 2e-5);
    assert_true(fabs(got[i + 1] - r * sin(t)) < 2e-5);
  }
  assert_true(got[M - 1] == (float)lg_rng_normal());   /* the odd last one: the scalar path */
}

/* The fill's distribution at 10^6 draws: the share below z against the
** normal CDF at 7 points (within 5 standard errors), the fourth moment. */
static void normal_fill_matches_the_normal_cdf(void **state) {
  (void)state;
  enum { BIG = 1000000 };
  float *x = malloc(sizeof(float) * BIG);
  assert_non_null(x);
  lg_manual_seed(4);
  lg_rng_normal_fill(x, BIG);
  for (int k = -3; k <= 3; k++) {
    int64_t below = 0;
    for (int i = 0; i < BIG; i++) below += x[i] < k;
    double p = 0.5 * erfc(-k / sqrt(2.0)), se = sqrt(p * (1 - p) / BIG);
    assert_true(fabs((double)below / BIG - p) < 5 * se);
  }
  double m4 = 0;
  for (int i = 0; i < BIG; i++) m4 += (double)x[i] * x[i] * x[i] * x[i];
  assert_true(fabs(m4 / BIG - 3.0) < 0.05);   /* its standard error: sqrt(96 / 10^6) ~ 0.01 */
  free(x);
}

static void rand_is_in_the_unit_interval(void **state) {
  (void)state;
  lg_tensor *t = ck_rand(SHAPE(N));
  double s = 0, lo = 1, hi = 0;
  for (int i = 0; i < N; i++) {
    float v = lg_data(t)[i];
    assert_true(v >= 0.0f && v < 1.0f);
    s += v;
    lo = fmin(lo, v);
    hi = fmax(hi, v);
  }
  assert_true(fabs(s / N - 0.5) < 0.005);
  assert_true(lo < 1e-3 && hi > 1 - 1e-3);
  lg_release(t);
  for (int i = 0; i < N; i++) {
    double u = lg_rng_uniform();
    assert_true(u >= 0.0 && u < 1.0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(same_seed_gives_identical_streams),
      TEST(different_seeds_give_different_streams),
      TEST(seeding_discards_a_cached_normal),
      TEST(state_round_trip_resumes_bit_identically),
      TEST(mid_pair_state_keeps_the_cached_normal),
      TEST(randn_has_zero_mean_and_unit_variance),
      TEST(normal_fill_is_box_muller_on_the_stream),
      TEST(normal_fill_matches_the_normal_cdf),
      TEST(rand_is_in_the_unit_interval),
  };
  return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
