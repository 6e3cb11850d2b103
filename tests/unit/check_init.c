/* check_init.c — weight initialization: PyTorch's fan definitions and gains,
 * the bounds of the uniform kinds, sample moments of every kind within
 * statistical tolerance, and reproducibility from (seed, stream). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/init.h"
#include "mlp/tensor.h"

START_TEST(init_1_fans) {
  int64_t fi, fo;
  const int64_t dense[2] = {32, 20}; /* [out, in] */
  mlprt_init_fans(dense, 2, &fi, &fo);
  ck_assert_int_eq(fi, 20);
  ck_assert_int_eq(fo, 32);
  const int64_t conv[4] = {4, 1, 3, 3}; /* [out, in, kh, kw] */
  mlprt_init_fans(conv, 4, &fi, &fo);
  ck_assert_int_eq(fi, 9);
  ck_assert_int_eq(fo, 36);
  const int64_t conv1d[3] = {8, 3, 5};
  mlprt_init_fans(conv1d, 3, &fi, &fo);
  ck_assert_int_eq(fi, 15);
  ck_assert_int_eq(fo, 40);
}
END_TEST

START_TEST(init_2_gains) {
  ck_assert_double_eq(mlprt_init_gain(MLPRT_GAIN_LINEAR, 0), 1.0);
  ck_assert_double_eq(mlprt_init_gain(MLPRT_GAIN_SIGMOID, 0), 1.0);
  ck_assert_double_eq_tol(mlprt_init_gain(MLPRT_GAIN_TANH, 0), 5.0 / 3.0, 1e-15);
  ck_assert_double_eq_tol(mlprt_init_gain(MLPRT_GAIN_RELU, 0), sqrt(2.0), 1e-15);
  ck_assert_double_eq_tol(mlprt_init_gain(MLPRT_GAIN_LEAKY_RELU, 0.01), 1.4141428569978354, 1e-15);
  /* PyTorch's default Linear init is Kaiming uniform with a = sqrt(5), whose
   * bound works out to 1 / sqrt(fan_in) */
  MlprtInit k = {.kind = MLPRT_INIT_KAIMING_UNIFORM, .gain = mlprt_init_gain(MLPRT_GAIN_LEAKY_RELU, sqrt(5))};
  const int64_t w[2] = {10, 25};
  ck_assert_double_eq_tol(sqrt(3.0) * mlprt_init_std(&k, w, 2), 0.2, 1e-15);
  ck_assert_double_eq(mlprt_init_gain(MLPRT_GAIN_SELU, 0), 0.75);
}
END_TEST

/* Sample mean, standard deviation and kurtosis (4th standardised moment:
 * 1.8 for a uniform, 3 for a normal) of x[n]. */
static void moments(const float *x, size_t n, double *mean, double *std, double *kurt) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i];
  *mean = s / n;
  double m2 = 0.0, m4 = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = x[i] - *mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m4 /= n;
  *std = sqrt(m2);
  *kurt = m4 / (m2 * m2);
}

/* Fill a tensor of shape[ndim] with init and check its moments against the
 * distribution: mean within 5 standard errors of mean0, std within 2%,
 * kurtosis within 0.1 of kurt0. With 2^17 draws those bounds are wide enough
 * never to fail by chance and tight enough to catch a wrong scale or law. */
static void check_moments(const MlprtInit *init, const int64_t *shape, int ndim, double mean0, double std0,
                          double kurt0) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
  float *w = malloc(n * sizeof *w);
  ck_assert_ptr_nonnull(w);
  mlprt_init_fill(w, shape, ndim, init, 42, 7);
  double mean, std, kurt;
  moments(w, n, &mean, &std, &kurt);
  ck_assert_double_eq_tol(mlprt_init_std(init, shape, ndim), std0, 1e-12);
  ck_assert_double_eq_tol(mean, mean0, 5.0 * std0 / sqrt((double)n));
  ck_assert_double_eq_tol(std / std0, 1.0, 0.02);
  ck_assert_double_eq_tol(kurt, kurt0, 0.1);
  free(w);
}

/* Every element of x[n] lies in [lo, hi) and some lie near each end. */
static void check_bounds(const float *x, size_t n, float lo, float hi) {
  float mn = INFINITY, mx = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    mn = fminf(mn, x[i]);
    mx = fmaxf(mx, x[i]);
  }
  ck_assert_float_ge(mn, lo);
  ck_assert_float_lt(mx, hi);
  ck_assert_float_lt(mn, lo + 0.01f * (hi - lo));
  ck_assert_float_gt(mx, hi - 0.01f * (hi - lo));
}

START_TEST(init_3_zeros_uniform_normal) {
  const int64_t shape[2] = {512, 256};
  float *w = malloc(512 * 256 * sizeof *w);
  ck_assert_ptr_nonnull(w);
  for (int i = 0; i < 512 * 256; i++) w[i] = 1.0f;
  MlprtInit z = {.kind = MLPRT_INIT_ZEROS};
  mlprt_init_fill(w, shape, 2, &z, 1, 0);
  for (int i = 0; i < 512 * 256; i++) ck_assert_float_eq(w[i], 0.0f);
  MlprtInit u = {.kind = MLPRT_INIT_UNIFORM, .a = -0.5, .b = 1.5};
  mlprt_init_fill(w, shape, 2, &u, 1, 0);
  check_bounds(w, 512 * 256, -0.5f, 1.5f);
  free(w);
  check_moments(&u, shape, 2, 0.5, 2.0 / sqrt(12.0), 1.8);
  MlprtInit nrm = {.kind = MLPRT_INIT_NORMAL, .a = 0.25, .b = 2.0};
  check_moments(&nrm, shape, 2, 0.25, 2.0, 3.0);
}
END_TEST

START_TEST(init_4_xavier) {
  const int64_t shape[2] = {512, 256}; /* fan_in 256, fan_out 512 */
  MlprtInit xu = {.kind = MLPRT_INIT_XAVIER_UNIFORM, .gain = 1.0};
  double bound = sqrt(6.0 / 768.0);
  check_moments(&xu, shape, 2, 0.0, bound / sqrt(3.0), 1.8);
  float *w = malloc(512 * 256 * sizeof *w);
  ck_assert_ptr_nonnull(w);
  mlprt_init_fill(w, shape, 2, &xu, 3, 1);
  check_bounds(w, 512 * 256, (float)-bound, (float)bound);
  /* the gain scales the bound */
  xu.gain = 5.0 / 3.0;
  mlprt_init_fill(w, shape, 2, &xu, 3, 1);
  check_bounds(w, 512 * 256, (float)(-bound * 5 / 3), (float)(bound * 5 / 3));
  free(w);
  MlprtInit xn = {.kind = MLPRT_INIT_XAVIER_NORMAL, .gain = 1.0};
  check_moments(&xn, shape, 2, 0.0, sqrt(2.0 / 768.0), 3.0);
}
END_TEST

START_TEST(init_5_kaiming) {
  const int64_t shape[4] = {64, 32, 8, 8}; /* conv: fan_in 2048, fan_out 4096 */
  double relu = mlprt_init_gain(MLPRT_GAIN_RELU, 0);
  MlprtInit ku = {.kind = MLPRT_INIT_KAIMING_UNIFORM, .gain = relu};
  double bound = sqrt(6.0 / 2048.0);
  check_moments(&ku, shape, 4, 0.0, bound / sqrt(3.0), 1.8);
  float *w = malloc(64 * 32 * 64 * sizeof *w);
  ck_assert_ptr_nonnull(w);
  mlprt_init_fill(w, shape, 4, &ku, 9, 2);
  check_bounds(w, 64 * 32 * 64, (float)-bound, (float)bound);
  free(w);
  MlprtInit kn = {.kind = MLPRT_INIT_KAIMING_NORMAL, .gain = relu};
  check_moments(&kn, shape, 4, 0.0, sqrt(2.0 / 2048.0), 3.0);
  kn.fan_out = true;
  check_moments(&kn, shape, 4, 0.0, sqrt(2.0 / 4096.0), 3.0);
}
END_TEST

START_TEST(init_6_reproducible) {
  enum { N = 3 * 4 * 5 * 5 };
  const int64_t shape[4] = {3, 4, 5, 5};
  float a[N], b[N], c[N];
  MlprtInit k = {.kind = MLPRT_INIT_KAIMING_NORMAL, .gain = 1.0};
  mlprt_init_fill(a, shape, 4, &k, 1234, 5);
  mlprt_init_fill(b, shape, 4, &k, 1234, 5);
  ck_assert_mem_eq(a, b, sizeof a);
  /* another stream (another tensor) or another seed gives other values */
  mlprt_init_fill(c, shape, 4, &k, 1234, 6);
  ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
  mlprt_init_fill(c, shape, 4, &k, 1235, 5);
  ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
  /* element i is counter i of its stream: a scaled normal of the RNG's draw */
  double std = mlprt_init_std(&k, shape, 4);
  for (int i = 0; i < N; i += 17)
    ck_assert_float_eq_tol(a[i], (float)std * mlprt_rng_normal(1234, 5, (uint64_t)i), 1e-7);
}
END_TEST

Suite *init_suite(void); /* the runner finds it by name */
Suite *init_suite(void) {
  Suite *s = suite_create("init");
  TCase *tc = tcase_create("init");
  tcase_add_test(tc, init_1_fans);
  tcase_add_test(tc, init_2_gains);
  tcase_add_test(tc, init_3_zeros_uniform_normal);
  tcase_add_test(tc, init_4_xavier);
  tcase_add_test(tc, init_5_kaiming);
  tcase_add_test(tc, init_6_reproducible);
  suite_add_tcase(s, tc);
  return s;
}
