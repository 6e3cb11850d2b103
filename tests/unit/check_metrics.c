/* check_metrics.c — the evaluation metrics of a run (runtime/kernels/metrics.c):
 * ROC AUC against its definition by pairs (ties count a half), binary and
 * one-vs-rest macro; each class's precision, recall and F1 from a confusion
 * matrix; and, when python3-sklearn is importable, roc_auc_score on the same
 * vectors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlp/tensor.h"
#include "mlp/metrics.h"
#include "testutil.h"

#define PYTHON "/usr/bin/python3"

/* The AUC by its definition: the chance that a positive row outscores a
 * negative one, a tie counting a half. */
static double auc_by_pairs(const float *s, int64_t stride, const int32_t *label, int32_t pos, int64_t n) {
  double wins = 0, pairs = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      if (label[i] != pos || label[j] == pos) continue;
      float a = s[i * stride], b = s[j * stride];
      wins += a > b ? 1 : a == b ? 0.5 : 0;
      pairs++;
    }
  return pairs ? wins / pairs : NAN;
}

enum { N = 200, K = 3 };

/* Scores on a coarse grid (many ties) that lean towards the true class. */
static void fixture(float *out, int32_t *label, uint64_t seed) {
  for (int64_t i = 0; i < N; i++) {
    label[i] = (int32_t)(mlprt_rng_u32(seed, 0, (uint64_t)i) % K);
    for (int k = 0; k < K; k++) {
      float u = mlprt_rng_uniform(seed, 1 + (uint64_t)k, (uint64_t)i) + (label[i] == k ? 0.4f : 0);
      out[i * K + k] = floorf(u * 8) / 8;
    }
  }
}

START_TEST(metrics_auc_is_the_pairwise_definition) {
  /* scikit-learn's documented example */
  const float s[] = {0.1f, 0.4f, 0.35f, 0.8f};
  const int32_t y[] = {0, 0, 1, 1};
  ck_assert_double_eq_tol(mlprt_roc_auc(s, 1, y, 1, 4), 0.75, 1e-12);
  ck_assert_double_eq_tol(mlprt_auc(s, 1, y, 2, 4), 0.75, 1e-12);
  /* every score tied: a half */
  const float same[] = {0.5f, 0.5f, 0.5f, 0.5f};
  ck_assert_double_eq_tol(mlprt_roc_auc(same, 1, y, 1, 4), 0.5, 1e-12);
  /* one class only: undefined */
  const int32_t ones[] = {1, 1, 1, 1};
  ck_assert(isnan(mlprt_roc_auc(s, 1, ones, 1, 4)));
  float out[N * K];
  int32_t label[N];
  for (uint64_t seed = 1; seed <= 5; seed++) {
    fixture(out, label, seed);
    double macro = 0;
    for (int k = 0; k < K; k++) {
      double want = auc_by_pairs(out + k, K, label, k, N);
      ck_assert_double_eq_tol(mlprt_roc_auc(out + k, K, label, k, N), want, 1e-12);
      macro += want / K;
    }
    ck_assert_double_eq_tol(mlprt_auc(out, K, label, K, N), macro, 1e-12);
    ck_assert(macro > 0.6 && macro < 1);
  }
}
END_TEST

START_TEST(metrics_per_class_scores) {
  /* true class by row: 5 of class 0 (4 right), 3 of class 1 (all right),
   * 2 of class 2 (none right, never predicted) */
  const int64_t conf[] = {4, 1, 0, 0, 3, 0, 1, 1, 0};
  MlprtClassScores c0 = mlprt_class_scores(conf, 3, 0), c1 = mlprt_class_scores(conf, 3, 1);
  MlprtClassScores c2 = mlprt_class_scores(conf, 3, 2);
  ck_assert_double_eq_tol(c0.precision, 0.8, 1e-12);
  ck_assert_double_eq_tol(c0.recall, 0.8, 1e-12);
  ck_assert_double_eq_tol(c0.f1, 0.8, 1e-12);
  ck_assert_int_eq(c0.support, 5);
  ck_assert_double_eq_tol(c1.precision, 0.6, 1e-12);
  ck_assert_double_eq_tol(c1.recall, 1.0, 1e-12);
  ck_assert_double_eq_tol(c1.f1, 0.75, 1e-12);
  /* zero_division = 0 */
  ck_assert_double_eq(c2.precision, 0);
  ck_assert_double_eq(c2.recall, 0);
  ck_assert_double_eq(c2.f1, 0);
  ck_assert_int_eq(c2.support, 2);
  ck_assert_str_eq(mlprt_metric_name(MLPRT_METRIC_AUC), "auc");
  ck_assert_str_eq(mlprt_metric_name(MLPRT_METRIC_R2), "r2");
}
END_TEST

START_TEST(metrics_auc_matches_sklearn) {
  const char *probe[] = {PYTHON, "-c", "import sklearn", NULL};
  TestRun r = test_run(probe, NULL);
  bool have = r.status == 0;
  test_run_free(&r);
  if (!have) {
    printf("metrics: skipped: python3-sklearn not installed (" PYTHON " -c 'import sklearn' failed)\n");
    return;
  }
  /* scikit-learn's one-vs-rest wants probabilities: the rows normalised,
   * written exactly (9 digits give a float back) for both sides. */
  float out[N * K], prob[N * K];
  int32_t label[N];
  fixture(out, label, 7);
  for (int i = 0; i < N; i++) {
    float sum = out[i * K] + out[i * K + 1] + out[i * K + 2];
    for (int k = 0; k < K; k++) prob[i * K + k] = out[i * K + k] / sum;
  }
  char *dir = test_tmpdir(), *path = test_path(dir, "auc.txt");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  for (int i = 0; i < N; i++)
    fprintf(f, "%d %.9g %.9g %.9g\n", label[i], prob[i * K], prob[i * K + 1], prob[i * K + 2]);
  fclose(f);
  const char *script = "import sys, numpy as np\n"
                       "from sklearn.metrics import roc_auc_score\n"
                       "d = np.loadtxt(sys.argv[1]); y = d[:, 0].astype(int); p = d[:, 1:]\n"
                       "print(roc_auc_score(y == 1, p[:, 1]))\n"
                       "print(roc_auc_score(y, p, multi_class='ovr'))\n";
  const char *argv[] = {PYTHON, "-c", script, path, NULL};
  r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  char *end;
  double bin = strtod(r.out, &end), ovr = strtod(end, NULL);
  ck_assert_double_eq_tol(mlprt_roc_auc(prob + 1, K, label, 1, N), bin, 1e-12);
  ck_assert_double_eq_tol(mlprt_auc(prob, K, label, K, N), ovr, 1e-12);
  test_run_free(&r);
  free(path);
  free(dir);
}
END_TEST

Suite *metrics_suite(void); /* the runner finds it by name */
Suite *metrics_suite(void) {
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("metrics");
  tcase_set_timeout(tc, 60); /* starting python3 on a loaded machine */
  tcase_add_test(tc, metrics_auc_is_the_pairwise_definition);
  tcase_add_test(tc, metrics_per_class_scores);
  tcase_add_test(tc, metrics_auc_matches_sklearn);
  suite_add_tcase(s, tc);
  return s;
}
