/* check_compress.c — `mlpc export` with compression, end to end: trained
 * iris and digits runs exported with --quantize int8 keep their accuracy
 * within the tolerance, report the metric, sizes and latencies, and compile
 * in smaller weights; pruning 0.9 of the small iris model against a tight
 * tolerance is refused with exit status 1 and leaves no predictor behind;
 * the spec's deploy block supplies the defaults; regression is scored by
 * R2; quoted test rows are scored right. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char *tmp;    /* one directory for the whole suite */
static char *iris;   /* the trained iris run in it */
static char *digits; /* the trained digits run */

/* A path in tmp, printf-style (malloc'd). */
static char *tmp_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tmp_path(const char *fmt, ...) {
  char name[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  size_t n = strlen(tmp) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", tmp, name);
  return p;
}

/* Build spec and train it into tmp/NAME.run on one thread; returns the run
 * directory. */
static char *train(const char *spec, const char *name) {
  return test_train(spec, tmp, name);
}

/* Train iris and digits once for every test (an unchecked fixture). */
static void train_runs(void) {
  tmp = test_tmpdir();
  iris = train("examples/iris.mlp", "iris");
  digits = train("examples/digits.mlp", "digits");
}

static void cleanup(void) {
  free(digits);
  free(iris);
  free(tmp);
}

/* On the report line that starts with label, "X -> Y": X (after = 0) or Y. */
static double report_value(const char *out, const char *label, int after) {
  char key[64];
  snprintf(key, sizeof key, "\n  %s ", label);
  const char *line = strstr(out, key);
  ck_assert_msg(line != NULL, "no '%s' line in the report:\n%s", label, out);
  const char *arrow = strstr(line, "->");
  ck_assert_ptr_nonnull(arrow);
  return strtod(after ? arrow + 2 : line + strlen(key), NULL);
}

/* int8 export of run to tmp/NAME: accepted within the default tolerance,
 * with weights at most max_ratio of the float ones (a quarter, plus the
 * float scales and biases, which weigh more in small models), and a
 * predictor that answers the run's test rows. */
static void check_int8(const char *run, const char *name, double max_ratio) {
  char *pred = tmp_path("%s", name);
  const char *argv[] = {test_mlpc(), "export", run, "-o", pred, "--quantize", "int8", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "export --quantize int8: %d: %s%s", r.status, r.out, r.err);
  double before = report_value(r.out, "accuracy", 0), after = report_value(r.out, "accuracy", 1);
  ck_assert_msg(before > 0.8 && before <= 1.0, "float accuracy %g", before);
  ck_assert_msg(after >= before - 0.01, "int8 accuracy %g fell more than 0.01 below %g", after, before);
  double wb = report_value(r.out, "weights", 0), wa = report_value(r.out, "weights", 1);
  ck_assert_msg(wa > 0 && wa <= max_ratio * wb, "weights %g -> %g bytes", wb, wa);
  ck_assert_msg(report_value(r.out, "per row", 0) > 0 && report_value(r.out, "per row", 1) > 0,
                "latencies measured:\n%s", r.out);
  ck_assert_msg(access(pred, X_OK) == 0, "the int8 predictor %s was written", pred);
  test_run_free(&r);

  char *rows = malloc(strlen(run) + 16);
  sprintf(rows, "%s/test_rows.csv", run);
  const char *pargv[] = {pred, rows, NULL};
  TestRun p = test_run(pargv, NULL);
  ck_assert_msg(p.status <= 1, "predictor: %d: %s", p.status, p.err);
  ck_assert_msg(strncmp(p.out, "label,", 6) == 0, "prediction header: %.60s", p.out);
  test_run_free(&p);
  free(rows);
  free(pred);
}

START_TEST(int8_iris_within_tolerance) {
  check_int8(iris, "iris_int8", 0.6); /* 4-16-16-3: biases and scales are a third */
}
END_TEST

START_TEST(int8_digits_within_tolerance) {
  check_int8(digits, "digits_int8", 0.3);
}
END_TEST

/* Regression is scored by R2 of the predicted values. */
START_TEST(int8_regression_scored_by_r2) {
  char *run = train("examples/diabetes.mlp", "diabetes");
  char *pred = tmp_path("diabetes_int8");
  const char *argv[] = {test_mlpc(), "export", run, "-o", pred, "--quantize", "int8", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "export --quantize int8: %d: %s%s", r.status, r.out, r.err);
  double before = report_value(r.out, "R2", 0), after = report_value(r.out, "R2", 1);
  ck_assert_msg(before > 0.3 && before < 1.0, "float R2 %g", before);
  ck_assert_msg(after >= before - 0.01, "int8 R2 %g fell more than 0.01 below %g", after, before);
  test_run_free(&r);
  free(pred);
  free(run);
}
END_TEST

START_TEST(heavy_pruning_refused) {
  char *pred = tmp_path("iris_pruned");
  const char *argv[] = {test_mlpc(), "export", iris, "-o", pred, "--prune", "0.9",
                        "--max-accuracy-drop", "0.001", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 1, "export --prune 0.9: status %d: %s%s", r.status, r.out, r.err);
  ck_assert_msg(strstr(r.err, "refused") && strstr(r.err, "accuracy") && strstr(r.err, "0.001"),
                "the refusal gives the numbers: %s", r.err);
  double before = report_value(r.out, "accuracy", 0), after = report_value(r.out, "accuracy", 1);
  ck_assert_msg(after < before - 0.001, "refused although %g -> %g", before, after);
  /* a tenth of each matrix's weights stays, give or take a rounding per matrix */
  double nz0 = report_value(r.out, "nonzero", 0), nz1 = report_value(r.out, "nonzero", 1);
  ck_assert_msg(nz1 > 0.09 * nz0 && nz1 < 0.11 * nz0, "nonzero weights %g -> %g", nz0, nz1);
  ck_assert_msg(access(pred, F_OK) != 0, "no predictor is left at %s", pred);
  test_run_free(&r);
  free(pred);
}
END_TEST

/* The spec's deploy block decides when the command line does not: an iris
 * spec asking for heavy pruning with a tight tolerance is refused without
 * any compression option, and --prune 0 overrides it. */
START_TEST(spec_settings_are_the_defaults) {
  char *src = test_read_file("examples/iris.mlp", NULL);
  ck_assert_ptr_nonnull(src);
  const char *data = "\"data/iris.csv\"", *deploy = "deploy {";
  char *csv = strstr(src, data), *at = strstr(src, deploy);
  ck_assert(csv && at && csv < at);
  *csv = *at = '\0';
  /* the spec lives in tmp: its data is named from the repository root */
  const char *cwd = getenv("PWD");
  char *spec = tmp_path("iris_deploy.mlp");
  FILE *f = fopen(spec, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "%s\"%s/examples/data/iris.csv\"%s%s\n", src, cwd ? cwd : ".", csv + strlen(data), deploy);
  fprintf(f, "    prune(sparsity = 0.9)\n    max_accuracy_drop = 0.001%s", at + strlen(deploy));
  fclose(f);
  free(src);
  char *run = train(spec, "iris_deploy");
  char *pred = tmp_path("iris_deploy_pred");
  const char *argv[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 1, "export with the spec's pruning: status %d: %s%s", r.status, r.out, r.err);
  ck_assert_msg(strstr(r.out, "0.9 of each weight matrix pruned") != NULL, "%s", r.out);
  ck_assert_msg(access(pred, F_OK) != 0, "no predictor is left at %s", pred);
  test_run_free(&r);
  /* the command line overrides the spec: no pruning, nothing to check */
  const char *argv2[] = {test_mlpc(), "export", run, "-o", pred, "--prune", "0", NULL};
  r = test_run(argv2, NULL);
  ck_assert_msg(r.status == 0, "export --prune 0: status %d: %s", r.status, r.err);
  ck_assert_msg(strstr(r.out, "compression") == NULL, "no compression report: %s", r.out);
  ck_assert_msg(access(pred, X_OK) == 0, "the float predictor was written");
  test_run_free(&r);
  free(pred);
  free(run);
  free(spec);
}
END_TEST

/* Quoted fields in the test rows: categories and class names holding
 * commas and quotes, the target in the middle of the row. The check must
 * keep quoted fields whole and drop exactly the target field, or the rows
 * no longer match the header and the float predictor's accuracy falls. */
START_TEST(quoted_fields_and_a_middle_target) {
  char *data = tmp_path("quoted.csv"), *spec = tmp_path("quoted.mlp");
  static const char *const colors[] = {"\"red, dark\"", "blue", "\"say \"\"hi\"\"\""};
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  fputs("x,color,label,y\n", f);
  for (int i = 0; i < 300; i++) {
    double x = (i * 37 % 100) / 100.0, y = (i * 53 % 100) / 100.0;
    fprintf(f, "%g,%s,%s,%g\n", x, colors[i % 3], x + 0.2 * y > 0.6 ? "\"yes, \"\"sure\"\"\"" : "no", y);
  }
  fclose(f);
  f = fopen(spec, "w");
  ck_assert_ptr_nonnull(f);
  fputs("pipeline quoted {\n  data {\n    source = csv(\"quoted.csv\")\n    target = label\n"
        "    clean {\n      onehot(color)\n      standardize(numeric)\n    }\n"
        "    split(validation = 0.2, test = 0.3, seed = 3)\n  }\n"
        "  model {\n    dense(16, activation = relu)\n    output(activation = softmax)\n  }\n"
        "  hyperparameters {\n    optimizer = adam(lr = 0.05)\n    epochs = 60\n    seed = 1\n  }\n}\n",
        f);
  fclose(f);
  char *run = train(spec, "quoted");
  char *pred = tmp_path("quoted_int8");
  const char *argv[] = {test_mlpc(), "export", run, "-o", pred, "--quantize", "int8", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "export --quantize int8: %d: %s%s", r.status, r.out, r.err);
  double before = report_value(r.out, "accuracy", 0), after = report_value(r.out, "accuracy", 1);
  ck_assert_msg(before > 0.85, "float accuracy %g on quoted rows:\n%s", before, r.out);
  ck_assert_msg(after >= before - 0.01, "int8 accuracy %g against %g", after, before);
  ck_assert_msg(strstr(r.out, "on 90 test rows") != NULL, "30%% of 300 rows scored:\n%s", r.out);
  test_run_free(&r);
  free(pred);
  free(run);
  free(spec);
  free(data);
}
END_TEST

START_TEST(bad_options_are_usage_errors) {
  const char *a1[] = {test_mlpc(), "export", iris, "--quantize", "int4", NULL};
  TestRun r = test_run(a1, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "int4") != NULL, "%s", r.err);
  test_run_free(&r);
  const char *a2[] = {test_mlpc(), "export", iris, "--max-accuracy-drop", "2", NULL};
  r = test_run(a2, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "--max-accuracy-drop") != NULL, "%s", r.err);
  test_run_free(&r);
}
END_TEST

Suite *compress_suite(void); /* the runner finds it by name */
Suite *compress_suite(void) {
  Suite *s = suite_create("compress");
  TCase *tc = tcase_create("compress");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, train_runs, cleanup);
  tcase_add_test(tc, int8_iris_within_tolerance);
  tcase_add_test(tc, int8_digits_within_tolerance);
  tcase_add_test(tc, int8_regression_scored_by_r2);
  tcase_add_test(tc, heavy_pruning_refused);
  tcase_add_test(tc, spec_settings_are_the_defaults);
  tcase_add_test(tc, quoted_fields_and_a_middle_target);
  tcase_add_test(tc, bad_options_are_usage_errors);
  suite_add_tcase(s, tc);
  return s;
}
