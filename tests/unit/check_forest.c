/* check_forest.c — random forests, grown at once (forest.c), against
 * scikit-learn; the same trees for any thread count; the predictor's
 * answers; what a forest refuses.
 *
 * Parity: each case writes an example's data section with a random forest
 * as the whole model, trains it with seeds 0 to 4, has the program write
 * the cleaned splits (--export-features) and runs tests/parity/forest.py,
 * which fits scikit-learn's RandomForestClassifier or RandomForestRegressor
 * with the same settings on those very rows with random states 0 to 4. The
 * two random number generators differ, so single fits differ by a row or
 * two of the small test splits; the means over the five seeds must agree
 * within half a point, or within twice the standard error of their
 * difference where the seeds themselves spread wider than that. The same
 * holds for the out-of-bag scores. Without scikit-learn (for
 * /usr/bin/python3) the parity checks are skipped. */
#include <cjson/cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define PYTHON "/usr/bin/python3"
#define SEEDS 5

/* ---- parity with scikit-learn --------------------------------------------- */

typedef struct {
  const char *example, *target;
  const char *model;   /* the spec's model */
  const char *sklearn; /* forest.py's kind and settings */
} ParityCase;

static const ParityCase cases[] = {
    {"iris", "species", "random_forest(trees = 100, max_depth = 10)",
     "classifier n_estimators=100 max_depth=10"},
    {"wine", "cultivar", "random_forest(trees = 100, max_depth = 10)",
     "classifier n_estimators=100 max_depth=10"},
    {"breast_cancer", "diagnosis", "random_forest(trees = 100, max_depth = 10)",
     "classifier n_estimators=100 max_depth=10"},
    {"breast_cancer", "diagnosis",
     "random_forest(trees = 100, max_depth = 6, min_samples_leaf = 3, class_weight = balanced)",
     "classifier n_estimators=100 max_depth=6 min_samples_leaf=3 class_weight=balanced"},
    {"wine", "cultivar", "random_forest(trees = 50, max_depth = 8, max_features = all, bootstrap = false)",
     "classifier n_estimators=50 max_depth=8 max_features=all bootstrap=false"},
    {"diabetes", "progression", "random_forest(trees = 100, max_depth = 8, min_samples_leaf = 5)",
     "regressor n_estimators=100 max_depth=8 min_samples_leaf=5"},
    {"diabetes", "progression", "random_forest(trees = 100, max_depth = 6, max_features = sqrt)",
     "regressor n_estimators=100 max_depth=6 max_features=sqrt"},
    {"digits", "digit", "random_forest(trees = 100, max_depth = 12, criterion = gini)",
     "classifier n_estimators=100 max_depth=12"},
};

typedef struct {
  double mean, sd; /* over the seeds */
} Spread;

static Spread spread(const double *v, int n) {
  double s = 0, ss = 0;
  for (int i = 0; i < n; i++) s += v[i];
  double mean = s / n;
  for (int i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
  return (Spread){mean, n > 1 ? sqrt(ss / (n - 1)) : 0};
}

/* mlpc's and scikit-learn's means agree within half a point, or within
 * twice the standard error of their difference. */
static void expect_close(const ParityCase *pc, const char *what, Spread got, Spread want) {
  double se = sqrt((got.sd * got.sd + want.sd * want.sd) / SEEDS), tol = fmax(0.005, 2 * se);
  fprintf(stderr, "forest parity: %-14s %-80s %s mlpc %.4f (sd %.4f) scikit-learn %.4f (sd %.4f)\n",
          pc->example, pc->model, what, got.mean, got.sd, want.mean, want.sd);
  ck_assert_msg(fabs(got.mean - want.mean) <= tol, "%s %s: %s %.4f, scikit-learn %.4f (tolerance %.4f)",
                pc->example, pc->model, what, got.mean, want.mean, tol);
}

static void run_case(const ParityCase *pc, int i) {
  if (access(PYTHON, X_OK) != 0) {
    test_skip("scikit-learn parity of the random forests", "python3-sklearn", PYTHON " is missing");
    return;
  }
  char *dir = test_tmpdir(), name[32];
  snprintf(name, sizeof name, "forest%d", i);
  char *spec = test_example_spec(dir, pc->example, name, pc->model, NULL);
  char exe[1024], feats[1024], run[1024];
  snprintf(exe, sizeof exe, "%s/%s.exe", dir, name);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  snprintf(feats, sizeof feats, "%s/features", dir);
  const char *x[] = {exe, "--export-features", feats, "--quiet", NULL};
  test_run_ok(x);
  double score[SEEDS], oob[SEEDS];
  bool classify = strncmp(pc->sklearn, "classifier", 10) == 0, bootstrap = !strstr(pc->model, "bootstrap");
  for (int s = 0; s < SEEDS; s++) {
    char seed[16];
    snprintf(seed, sizeof seed, "%d", s);
    snprintf(run, sizeof run, "%s/%s.%d.run", dir, name, s);
    const char *fit[] = {exe, "--out", run, "--quiet", "--seed", seed, NULL};
    test_run_ok(fit);
    cJSON *man = test_read_json(run, "manifest.json");
    score[s] = test_json_num(man, "metrics", "test", classify ? "accuracy" : "r2");
    const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0);
    if (bootstrap)
      oob[s] = test_json_num(job, "fit", "oob_score", NULL);
    else
      ck_assert_msg(!cJSON_HasObjectItem(cJSON_GetObjectItem(job, "fit"), "oob_score"),
                    "oob without bootstrap");
    cJSON_Delete(man);
  }
  const char *args[] = {feats, pc->target};
  cJSON *want =
      test_parity_oracle("scikit-learn parity of the random forests", "forest.py", args, 2, pc->sklearn);
  if (want) {
    double ws[SEEDS], wo[SEEDS];
    for (int s = 0; s < SEEDS; s++) {
      ws[s] = cJSON_GetArrayItem(cJSON_GetObjectItem(want, "scores"), s)->valuedouble;
      if (bootstrap) wo[s] = cJSON_GetArrayItem(cJSON_GetObjectItem(want, "oobs"), s)->valuedouble;
    }
    expect_close(pc, classify ? "test accuracy" : "test r2", spread(score, SEEDS), spread(ws, SEEDS));
    if (bootstrap) expect_close(pc, "out-of-bag", spread(oob, SEEDS), spread(wo, SEEDS));
    cJSON_Delete(want);
  }
  free(spec);
  free(dir);
}

START_TEST(forest_parity_with_sklearn) {
  run_case(&cases[_i], _i);
}
END_TEST

/* ---- the same trees whatever the thread count ------------------------------ */

START_TEST(forest_same_bits_for_any_thread_count) {
  char *dir = test_tmpdir();
  char *spec =
      test_example_spec(dir, "breast_cancer", "det", "random_forest(trees = 40, max_depth = 8)", NULL);
  char exe[1024], runs[3][1024];
  snprintf(exe, sizeof exe, "%s/det.exe", dir);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  static const char *const threads[] = {"1", "2", "3"};
  char *weights[3];
  size_t len[3];
  double oob[3];
  for (int t = 0; t < 3; t++) {
    snprintf(runs[t], sizeof runs[t], "%s/det.%s.run", dir, threads[t]);
    const char *fit[] = {exe, "--out", runs[t], "--quiet", "--threads", threads[t], NULL};
    test_run_ok(fit);
    char *path = test_path(runs[t], "weights.bin");
    weights[t] = test_read_file(path, &len[t]);
    ck_assert_ptr_nonnull(weights[t]);
    free(path);
    cJSON *man = test_read_json(runs[t], "manifest.json");
    oob[t] = test_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0), "fit", "oob_score", NULL);
    cJSON_Delete(man);
  }
  for (int t = 1; t < 3; t++) {
    ck_assert_msg(len[t] == len[0] && memcmp(weights[t], weights[0], len[0]) == 0,
                  "the trees on %s threads differ from those on 1", threads[t]);
    ck_assert_msg(oob[t] == oob[0], "out-of-bag %.17g on %s threads, %.17g on 1", oob[t], threads[t], oob[0]);
  }
  /* another seed grows other trees */
  char other[1024];
  snprintf(other, sizeof other, "%s/det.seed.run", dir);
  const char *fit[] = {exe, "--out", other, "--quiet", "--seed", "7", NULL};
  test_run_ok(fit);
  char *path = test_path(other, "weights.bin");
  size_t olen;
  char *ow = test_read_file(path, &olen);
  ck_assert_msg(olen == len[0] && memcmp(ow, weights[0], olen) != 0, "seed 7 grew the same trees");
  free(ow);
  free(path);
  for (int t = 0; t < 3; t++) free(weights[t]);
  free(spec);
  free(dir);
}
END_TEST

/* ---- the predictor --------------------------------------------------------- */

/* The predictor of a forest answers as training did: three classes, two,
 * and a value. */
START_TEST(forest_predictor_answers_as_trained) {
  static const struct {
    const char *example, *model;
    int skip; /* predictions.csv's fields before the outputs beyond the predictor's */
  } pcases[] = {{"iris", "random_forest(trees = 30, max_depth = 6)", 1},
                {"breast_cancer", "random_forest(trees = 30)", 1},
                {"diabetes", "random_forest(trees = 30, max_depth = 7)", 1}};
  for (size_t c = 0; c < sizeof pcases / sizeof pcases[0]; c++) {
    char *dir = test_tmpdir();
    char *spec = test_example_spec(dir, pcases[c].example, "p", pcases[c].model, NULL);
    char *run = test_train(spec, dir, "p"), *pred = test_path(dir, "pred");
    test_predictor_as_trained(run, pred, pcases[c].skip, pcases[c].example);
    /* a forest has no weights to compress */
    const char *q[] = {test_mlpc(), "export", run, "-o", pred, "--quantize", "int8", "--force", NULL};
    TestRun r = test_run(q, NULL);
    ck_assert_msg(r.status != 0 && strstr(r.err, "int8 quantization of a random forest is not supported"),
                  "%s", r.err);
    test_run_free(&r);
    free(pred);
    free(run);
    free(spec);
    free(dir);
  }
}
END_TEST

/* ---- refusals -------------------------------------------------------------- */

START_TEST(forest_refusals) {
  char *dir = test_tmpdir();
  test_expect_refused(dir, "iris", "random_forest()", "  hyperparameters { epochs = 5 }\n",
                      "`hyperparameters.epochs` does not apply to a model fitted at once");
  test_expect_refused(dir, "iris", "random_forest()", "  tuning { l2 in [0.1, 1] }\n",
                      "searching 'l2' for a random forest is not supported by code generation yet");
  test_expect_refused(dir, "diabetes", "random_forest(class_weight = balanced)", NULL,
                      "class weights need a categorical target; 'progression' is numeric");
  test_expect_refused(dir, "iris", "random_forest(criterion = squared_error)", NULL,
                      "criterion squared_error needs a numeric target; 'species' is categorical");
  test_expect_refused(dir, "digits", "random_forest(trees = 1000, max_depth = 16, criterion = gini)", NULL,
                      "1000 trees of depth 16 with 10 outputs take");
  test_expect_refused(dir, "iris", "random_forest()\n    dense(4)", NULL,
                      "'random_forest' is a whole model; it cannot be combined with 'dense'");
  free(dir);
}
END_TEST

Suite *forest_suite(void); /* the runner finds it by name */
Suite *forest_suite(void) {
  Suite *s = suite_create("forest");
  TCase *tc = tcase_create("forest");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, forest_parity_with_sklearn, 0, (int)(sizeof cases / sizeof cases[0]));
  tcase_add_test(tc, forest_same_bits_for_any_thread_count);
  tcase_add_test(tc, forest_predictor_answers_as_trained);
  tcase_add_test(tc, forest_refusals);
  suite_add_tcase(s, tc);
  return s;
}
