/* check_linear.c — baselines and linear models, fitted at once (fit.c),
 * against scikit-learn, and the baseline every run reports.
 *
 * Parity: each case writes an example's data section (its source, cleaning
 * and split) with a linear model or baseline as the whole model, trains it,
 * has the program write the cleaned splits (--export-features) and runs
 * tests/parity/linear.py, which fits scikit-learn's counterpart with matched
 * settings on those very rows: the test accuracy (R² for regression) must
 * agree within half a point, a baseline's exactly, and the coefficients
 * closely where the solution is unique. Without scikit-learn (for
 * /usr/bin/python3) the parity checks are skipped.
 *
 * The baseline beside a model: a network's run names the baseline, the
 * metric and the split, and its margin, in the manifest, the report and the
 * model card; analysis.baseline = false leaves it out; a linear model's run
 * answers the same through its predictor as in training. */
#include <cjson/cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define PYTHON "/usr/bin/python3"

/* ---- parity with scikit-learn --------------------------------------------- */

typedef struct {
  const char *example, *target;
  const char *model;   /* the spec's model */
  const char *sklearn; /* linear.py's MODEL and settings; "%g" stands for the training rows' count */
  double per_row;      /* the value the count goes with: "%g" = per_row / rows (C) or per_row * rows */
  bool times_rows;
  bool coef;  /* the solution is unique: compare the coefficients */
  bool exact; /* a baseline: the scores are equal */
} ParityCase;

static const ParityCase cases[] = {
    {"iris", "species", "linear_model(l2 = 0.01)", "logistic C=%g", 1 / 0.01, false, true, false},
    {"wine", "cultivar", "linear_model(l2 = 0.05)", "logistic C=%g", 1 / 0.05, false, true, false},
    {"breast_cancer", "diagnosis", "linear_model(l2 = 0.01)", "logistic C=%g", 1 / 0.01, false, true, false},
    {"breast_cancer", "diagnosis", "baseline(kind = logistic)", "logistic C=1", 0, false, true, false},
    {"diabetes", "progression", "linear_model(l2 = 0.1)", "ridge alpha=%g", 0.1, true, true, false},
    {"diabetes", "progression", "baseline(kind = linear)", "ridge alpha=0", 0, false, false, false},
    {"diabetes", "progression", "linear_model(l1 = 0.5)", "elasticnet alpha=0.5 l1_ratio=1", 0, false, false,
     false},
    {"diabetes", "progression", "linear_model(l1 = 0.3, l2 = 0.2)", "elasticnet alpha=0.5 l1_ratio=0.6", 0,
     false, false, false},
    {"iris", "species", "linear_model(loss = hinge, l2 = 0.01)", "svc C=%g loss=hinge", 1 / 0.01, false, true,
     false},
    {"wine", "cultivar", "linear_model(loss = squared_hinge, l2 = 0.1)", "svc C=%g loss=squared_hinge",
     1 / 0.1, false, true, false},
    {"breast_cancer", "diagnosis", "linear_model(loss = hinge, l2 = 0.05)", "svc C=%g loss=hinge", 1 / 0.05,
     false, true, false},
    {"digits", "digit", "linear_model(loss = logistic, l2 = 0.001)", "logistic C=%g", 1 / 0.001, false, false,
     false},
    {"diabetes", "progression", "baseline()", "dummy_regressor strategy=mean", 0, false, false, true},
    {"iris", "species", "baseline()", "dummy_classifier strategy=most_frequent", 0, false, false, true},
    {"wine", "cultivar", "baseline()", "dummy_classifier strategy=most_frequent", 0, false, false, true},
    {"breast_cancer", "diagnosis", "baseline()", "dummy_classifier strategy=most_frequent", 0, false, false,
     true},
    {"wine", "cultivar", "baseline(kind = prior)", "dummy_classifier strategy=prior", 0, false, false, true},
    {"breast_cancer", "diagnosis", "baseline(kind = prior)", "dummy_classifier strategy=prior", 0, false,
     false, true},
    {"diabetes", "progression", "baseline(kind = mean)", "dummy_regressor strategy=mean", 0, false, false,
     true},
    {"diabetes", "progression", "baseline(kind = median)", "dummy_regressor strategy=median", 0, false, false,
     true},
};

static void check_coefficients(const ParityCase *pc, const char *run, const cJSON *want, int64_t features,
                               double y_std) {
  char *path = test_path(run, "weights.bin");
  size_t len;
  float *w = (float *)test_read_file(path, &len);
  ck_assert_ptr_nonnull(w);
  const cJSON *coef = cJSON_GetObjectItemCaseSensitive(want, "coef");
  const cJSON *icpt = cJSON_GetObjectItemCaseSensitive(want, "intercept");
  int k = cJSON_GetArraySize(coef);
  ck_assert_int_eq((int64_t)len, (int64_t)(k * features + k) * 4);
  double biggest = 1;
  for (int r = 0; r < k; r++)
    for (int64_t f = 0; f < features; f++)
      biggest = fmax(biggest, fabs(cJSON_GetArrayItem(cJSON_GetArrayItem(coef, r), (int)f)->valuedouble));
  for (int r = 0; r < k; r++) {
    for (int64_t f = 0; f <= features; f++) {
      /* regression weights are kept for the standardised target */
      double got = w[f < features ? r * features + f : k * features + r] * y_std;
      double exp = f < features ? cJSON_GetArrayItem(cJSON_GetArrayItem(coef, r), (int)f)->valuedouble
                                : cJSON_GetArrayItem(icpt, r)->valuedouble;
      if (f == features && y_std != 1) continue; /* shifted by the mean: the score checks it */
      ck_assert_msg(fabs(got - exp) <= 2e-3 * biggest, "%s %s: coefficient [%d][%lld] %.6g, sklearn %.6g",
                    pc->example, pc->model, r, (long long)f, got, exp);
    }
  }
  free(w);
  free(path);
}

static void run_case(const ParityCase *pc, int i) {
  if (access(PYTHON, X_OK) != 0) {
    test_skip("scikit-learn parity of the linear models", "python3-sklearn", PYTHON " is missing");
    return;
  }
  char *dir = test_tmpdir(), name[32];
  snprintf(name, sizeof name, "case%d", i);
  char *spec = test_example_spec(dir, pc->example, name, pc->model, NULL);
  char *run = test_train(spec, dir, name), *feats = test_export_features(dir, name);
  cJSON *man = test_read_json(run, "manifest.json");
  double rows = test_json_num(man, "data", "train", NULL);
  int64_t features = (int64_t)test_json_num(man, "data", "features", NULL);
  bool classify = cJSON_HasObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(man, "metrics"), "test"),
                                      "accuracy");
  double got = test_json_num(man, "metrics", "test", classify ? "accuracy" : "r2");
  char model[128];
  snprintf(model, sizeof model, pc->sklearn, pc->times_rows ? pc->per_row * rows : pc->per_row / rows);
  const char *args[] = {feats, pc->target};
  cJSON *want = test_parity_oracle("scikit-learn parity of the linear models", "linear.py", args, 2, model);
  if (want) {
    double score = test_json_num(want, "score", NULL, NULL);
    ck_assert_msg(pc->exact ? fabs(got - score) <= 1e-6 : fabs(got - score) <= 0.005,
                  "%s %s: test %s %.6f, scikit-learn %.6f", pc->example, pc->model,
                  classify ? "accuracy" : "r2", got, score);
    if (pc->coef) {
      cJSON *clean = test_read_json(run, "cleaning.json");
      double y_std = classify ? 1 : test_json_num(clean, "target", "std", NULL);
      check_coefficients(pc, run, want, features, y_std);
      cJSON_Delete(clean);
    }
    cJSON_Delete(want);
  }
  cJSON_Delete(man);
  free(feats);
  free(run);
  free(spec);
  free(dir);
}

START_TEST(linear_parity_with_sklearn) {
  run_case(&cases[_i], _i);
}
END_TEST

/* ---- the baseline beside a model ------------------------------------------ */

START_TEST(baseline_beside_a_network) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "iris", "net", "dense(8)\n    output()",
                          "  hyperparameters { epochs = 30  lr = 0.05 }\n  deploy { version = \"1.0.0\" }\n");
  char *run = test_train(spec, dir, "net");
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(man, "baseline");
  ck_assert_msg(b != NULL, "the manifest has no baseline");
  ck_assert_str_eq(cJSON_GetObjectItem(b, "kind")->valuestring, "majority");
  ck_assert_str_eq(cJSON_GetObjectItem(b, "metric")->valuestring, "accuracy");
  ck_assert_str_eq(cJSON_GetObjectItem(b, "evaluated_on")->valuestring, "test");
  /* iris is balanced: the majority class is a third of the stratified test rows */
  ck_assert_double_eq_tol(test_json_num(b, "test", "accuracy", NULL), 1.0 / 3, 1e-9);
  double model = test_json_num(man, "metrics", "test", "accuracy");
  ck_assert_double_eq_tol(test_json_num(b, "model", NULL, NULL), model, 1e-12);
  ck_assert_double_eq_tol(test_json_num(b, "margin", NULL, NULL), model - 1.0 / 3, 1e-9);
  const char *verdict = cJSON_GetObjectItem(b, "verdict")->valuestring;
  ck_assert_msg(strstr(verdict, "beats the majority baseline by") && strstr(verdict, "test accuracy"), "%s",
                verdict);
  char *report = test_path(run, "report.html"), *card = test_path(run, "MODEL_CARD.md");
  char *rt = test_read_file(report, NULL), *ct = test_read_file(card, NULL);
  ck_assert_msg(rt && strstr(rt, verdict), "report.html does not say: %s", verdict);
  ck_assert_msg(ct && strstr(ct, verdict), "MODEL_CARD.md does not say: %s", verdict);
  free(rt);
  free(ct);
  free(report);
  free(card);
  cJSON_Delete(man);
  free(run);
  free(spec);
  /* turned off: no baseline anywhere */
  spec = test_example_spec(dir, "diabetes", "off", "output()", "  analysis { baseline = false }\n");
  run = test_train(spec, dir, "off");
  man = test_read_json(run, "manifest.json");
  ck_assert_msg(!cJSON_HasObjectItem(man, "baseline"), "analysis.baseline = false, yet a baseline");
  cJSON_Delete(man);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* A regression network that cannot beat the mean is told so on stderr. */
START_TEST(baseline_warns_when_not_beaten) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "diabetes", "weak", "output()",
                          "  hyperparameters { epochs = 1  lr = 0.000001 }\n"
                          "  validation { stop_on_divergence = false }\n");
  char exe[1024], run[1024];
  snprintf(exe, sizeof exe, "%s/weak.exe", dir);
  snprintf(run, sizeof run, "%s/weak.run", dir);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  const char *fit[] = {exe, "--out", run, "--quiet", "--threads", "1", NULL};
  TestRun r = test_run(fit, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(man, "baseline");
  ck_assert_str_eq(cJSON_GetObjectItem(b, "kind")->valuestring, "mean");
  ck_assert_str_eq(cJSON_GetObjectItem(b, "metric")->valuestring, "r2");
  ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItem(b, "beats")), "an untrained model beats the mean");
  ck_assert_msg(strstr(r.err, "warning: the model does not beat the mean baseline"), "stderr: %s", r.err);
  cJSON_Delete(man);
  test_run_free(&r);
  free(spec);
  free(dir);
}
END_TEST

/* What a model fitted at once does not read is refused, not ignored; so
 * are a kind or loss the target cannot have, and an SVM's l1. */
START_TEST(linear_refuses_training_settings) {
  char *dir = test_tmpdir();
  test_expect_refused(dir, "iris", "linear_model()", "  hyperparameters { epochs = 5 }\n",
                      "`hyperparameters.epochs` does not apply to a model fitted at once");
  test_expect_refused(dir, "diabetes", "baseline(kind = majority)", NULL,
                      "the majority baseline needs the classes of 'progression'");
  test_expect_refused(dir, "iris", "baseline(kind = median)", NULL,
                      "the median baseline needs a numeric target; 'species' is categorical");
  test_expect_refused(dir, "iris", "linear_model(loss = hinge, l1 = 0.1)", NULL,
                      "a support vector machine takes an l2 penalty only");
  test_expect_refused(dir, "wine", "linear_model()", "  tuning { lr in [0.1, 0.01] }\n",
                      "`lr` does not apply to a model fitted at once: search l1 or l2");
  free(dir);
}
END_TEST

/* Tuning a linear model searches its penalties, by cross-validation, and
 * refits the best. */
START_TEST(linear_tuning_searches_penalties) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "wine", "tuned", "linear_model()",
                                 "  tuning {\n    l2 in [0.0001, 0.01, 1]\n    folds = 3\n  }\n");
  char exe[1024], run[1024];
  snprintf(exe, sizeof exe, "%s/tuned.exe", dir);
  snprintf(run, sizeof run, "%s/tuned.run", dir);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  const char *fit[] = {exe, "--out", run, "--quiet", "--tune", NULL};
  test_run_ok(fit);
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(man, "tuning");
  ck_assert_int_eq((int)test_json_num(t, "trials", NULL, NULL), 3);
  ck_assert_int_eq((int)test_json_num(t, "folds", NULL, NULL), 3);
  double best = test_json_num(t, "best_l2", NULL, NULL);
  ck_assert_msg(best == 0.0001 || best == 0.01 || best == 1, "best_l2 %g", best);
  /* each trial's folds fitted with the trial's penalty */
  const cJSON *job;
  int seen[3] = {0};
  cJSON_ArrayForEach(job, cJSON_GetObjectItem(man, "jobs")) {
    const cJSON *tr = cJSON_GetObjectItem(job, "trial");
    if (!tr || !cJSON_HasObjectItem(job, "fold")) continue;
    double l2 = test_json_num(job, "hyperparameters", "l2", NULL), want[] = {0.0001, 0.01, 1};
    ck_assert_double_eq_tol(l2, want[tr->valueint], 1e-12);
    seen[tr->valueint]++;
  }
  ck_assert_msg(seen[0] == 3 && seen[1] == 3 && seen[2] == 3, "folds per trial: %d %d %d", seen[0], seen[1],
                seen[2]);
  ck_assert_msg(cJSON_HasObjectItem(man, "baseline"), "a tuned run has its baseline too");
  cJSON_Delete(man);
  free(spec);
  free(dir);
}
END_TEST

/* The predictor of a linear model answers as training did. */
START_TEST(linear_predictor_answers_as_trained) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "breast_cancer", "bc", "linear_model(l2 = 0.01)", NULL);
  char *run = test_train(spec, dir, "bc"), *pred = test_path(dir, "pred");
  test_predictor_as_trained(run, pred, 1, "breast_cancer");
  free(pred);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

Suite *linear_suite(void); /* the runner finds it by name */
Suite *linear_suite(void) {
  Suite *s = suite_create("linear");
  TCase *tc = tcase_create("linear");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, linear_parity_with_sklearn, 0, (int)(sizeof cases / sizeof cases[0]));
  tcase_add_test(tc, baseline_beside_a_network);
  tcase_add_test(tc, baseline_warns_when_not_beaten);
  tcase_add_test(tc, linear_refuses_training_settings);
  tcase_add_test(tc, linear_predictor_answers_as_trained);
  tcase_add_test(tc, linear_tuning_searches_penalties);
  suite_add_tcase(s, tc);
  return s;
}
