/* check_svm.c — kernel support vector machines, solved at once (svm.c),
 * against scikit-learn's SVC and SVR; the predictor's answers; the
 * training-row limit and what an svm or svr refuses.
 *
 * Parity: each case writes an example's data section with an svm as the
 * whole model, trains it, has the program write the cleaned splits
 * (--export-features) and runs tests/parity/svm.py, which fits SVC with the
 * same settings on those very rows and evaluates the machine the run
 * stored (weights.bin) on the test rows. Both solve the same dual to the
 * same tolerance, so the test accuracies agree within half a point, the
 * pairs' decision values within 1% of their scale, and the support vectors
 * counted within 5%. A support vector regression (svr) is checked the same
 * way against SVR without shrinking (tests/parity/svr.py), which solves
 * the same dual by the same steps: the test predictions agree within 1e-4
 * of the larger of the prediction and the target's spread, and the support
 * vectors are as many. Without scikit-learn (for /usr/bin/python3) the
 * parity checks are skipped. */
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
  const char *sklearn; /* svm.py's settings */
} ParityCase;

static const ParityCase cases[] = {
    {"iris", "species", "svm()", "kernel=rbf C=1"},
    {"wine", "cultivar", "svm(kernel = rbf, c = 10)", "kernel=rbf C=10"},
    {"breast_cancer", "diagnosis", "svm()", "kernel=rbf C=1"},
    {"breast_cancer", "diagnosis", "svm(kernel = linear, c = 0.1)", "kernel=linear C=0.1"},
    {"wine", "cultivar", "svm(kernel = poly, degree = 2, coef0 = 1, c = 0.5)",
     "kernel=poly degree=2 coef0=1 C=0.5"},
    {"iris", "species", "svm(kernel = rbf, gamma = 0.5, c = 3)", "kernel=rbf gamma=0.5 C=3"},
    {"digits", "digit", "svm()", "kernel=rbf C=1"}, /* ten classes of a numeric target */
};

/* The classes of the run's test metrics, comma-separated (malloc'd). */
static char *class_list(const cJSON *man) {
  const cJSON *cl = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(man, "metrics"), "test"),
                                        "classes");
  ck_assert_msg(cJSON_IsArray(cl), "no metrics.test.classes");
  char *out = calloc(1, 1);
  const cJSON *c;
  cJSON_ArrayForEach(c, cl) {
    char *more = malloc(strlen(out) + strlen(c->valuestring) + 2);
    sprintf(more, "%s%s%s", out, *out ? "," : "", c->valuestring);
    free(out);
    out = more;
  }
  return out;
}

START_TEST(svm_parity_with_sklearn) {
  const ParityCase *pc = &cases[_i];
  if (access(PYTHON, X_OK) != 0) {
    test_skip("scikit-learn parity of the support vector machines", "python3-sklearn", PYTHON " is missing");
    return;
  }
  char *dir = test_tmpdir(), name[32];
  snprintf(name, sizeof name, "svm%d", _i);
  char *spec = test_example_spec(dir, pc->example, name, pc->model, NULL);
  char *run = test_train(spec, dir, name), *feats = test_export_features(dir, name);
  cJSON *man = test_read_json(run, "manifest.json");
  double acc = test_json_num(man, "metrics", "test", "accuracy");
  double nsv = test_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0), "hyperparameters",
                             "support_vectors", NULL);
  char *classes = class_list(man), *weights = test_path(run, "weights.bin");
  const char *args[] = {feats, pc->target, weights, classes};
  cJSON *want = test_parity_oracle("scikit-learn parity of the support vector machines", "svm.py", args, 4,
                                   pc->sklearn);
  if (want) {
    double score = test_json_num(want, "score", NULL, NULL);
    double stored = test_json_num(want, "mlpc_score", NULL, NULL);
    double diff = test_json_num(want, "decision_diff", NULL, NULL);
    double scale = test_json_num(want, "decision_scale", NULL, NULL);
    double sk_sv = cJSON_GetArrayItem(cJSON_GetObjectItem(want, "support_vectors"), 0)->valuedouble;
    fprintf(stderr,
            "svm parity: %-14s %-52s accuracy mlpc %.4f (by votes %.4f) scikit-learn %.4f; support vectors "
            "%.0f vs %.0f; decision values within %.2g of %.3g\n",
            pc->example, pc->model, acc, stored, score, nsv, sk_sv, diff, scale);
    ck_assert_msg(fabs(acc - score) <= 0.005, "%s %s: accuracy %.4f, scikit-learn %.4f", pc->example,
                  pc->model, acc, score);
    ck_assert_msg(fabs(stored - score) <= 0.005, "%s %s: the stored machine's votes score %.4f, SVC %.4f",
                  pc->example, pc->model, stored, score);
    ck_assert_msg(diff <= 0.01 * fmax(1, scale), "%s %s: decision values differ by %g (scale %g)",
                  pc->example, pc->model, diff, scale);
    ck_assert_msg(fabs(nsv - sk_sv) <= fmax(2, 0.05 * sk_sv), "%s %s: %.0f support vectors, SVC %.0f",
                  pc->example, pc->model, nsv, sk_sv);
    cJSON_Delete(want);
  }
  cJSON_Delete(man);
  free(classes);
  free(weights);
  free(feats);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

static const ParityCase svr_cases[] = {
    {"diabetes", "progression", "svr()", "kernel=rbf C=1 epsilon=0.1"},
    {"diabetes", "progression", "svr(c = 100, epsilon = 5)", "kernel=rbf C=100 epsilon=5"},
    {"diabetes", "progression", "svr(kernel = rbf, gamma = 0.05, c = 300, epsilon = 10)",
     "kernel=rbf gamma=0.05 C=300 epsilon=10"},
    {"diabetes", "progression", "svr(kernel = linear, c = 5)", "kernel=linear C=5 epsilon=0.1"},
    {"diabetes", "progression", "svr(kernel = poly, degree = 2, coef0 = 1, c = 10, epsilon = 2)",
     "kernel=poly degree=2 coef0=1 C=10 epsilon=2"},
};

START_TEST(svr_parity_with_sklearn) {
  const ParityCase *pc = &svr_cases[_i];
  if (access(PYTHON, X_OK) != 0) {
    test_skip("scikit-learn parity of the support vector regressions", "python3-sklearn",
              PYTHON " is missing");
    return;
  }
  char *dir = test_tmpdir(), name[32];
  snprintf(name, sizeof name, "svr%d", _i);
  char *spec = test_example_spec(dir, pc->example, name, pc->model, NULL);
  char *run = test_train(spec, dir, name), *feats = test_export_features(dir, name);
  cJSON *man = test_read_json(run, "manifest.json");
  double nsv = test_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0), "hyperparameters",
                             "support_vectors", NULL);
  char *preds = test_path(run, "predictions.csv");
  const char *args[] = {feats, pc->target, preds};
  cJSON *want = test_parity_oracle("scikit-learn parity of the support vector regressions", "svr.py", args, 3,
                                   pc->sklearn);
  if (want) {
    double diff = test_json_num(want, "diff", NULL, NULL);
    double sk_sv = test_json_num(want, "support_vectors", NULL, NULL);
    fprintf(stderr, "svr parity: %-64s support vectors %.0f vs %.0f; predictions within %.2g (relative)\n",
            pc->model, nsv, sk_sv, diff);
    ck_assert_msg(diff <= 1e-4, "%s: predictions differ from SVR's by %g of their scale", pc->model, diff);
    ck_assert_msg(nsv == sk_sv, "%s: %.0f support vectors, SVR %.0f", pc->model, nsv, sk_sv);
    cJSON_Delete(want);
  }
  cJSON_Delete(man);
  free(preds);
  free(feats);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* ---- the predictor --------------------------------------------------------- */

/* The predictor of an svm answers as training did (three classes, two; an
 * svr's value), and compiles in only the support vectors it kept. */
START_TEST(svm_predictor_answers_as_trained) {
  static const char *const examples[] = {"iris", "breast_cancer", "diabetes"};
  for (int c = 0; c < 3; c++) {
    char *dir = test_tmpdir();
    char *spec = test_example_spec(dir, examples[c], "p", c < 2 ? "svm(c = 2)" : "svr(c = 100, epsilon = 5)",
                                   NULL);
    char *run = test_train(spec, dir, "p"), *pred = test_path(dir, "pred");
    test_predictor_as_trained(run, pred, 1, examples[c]);
    char *wpath = test_path(run, "weights.bin");
    size_t wlen, plen;
    free(test_read_file(wpath, &wlen));
    free(test_read_file(pred, &plen));
#ifndef __SANITIZE_ADDRESS__ /* instrumented code says nothing about size */
    ck_assert_msg(plen < wlen, "%s: a predictor of %zu bytes holds every row's room (%zu bytes)", examples[c],
                  plen, wlen);
#endif
    /* an svm has no weights to compress */
    const char *q[] = {test_mlpc(), "export", run, "-o", pred, "--quantize", "int8", "--force", NULL};
    TestRun r = test_run(q, NULL);
    ck_assert_msg(r.status != 0 &&
                      strstr(r.err, "int8 quantization of a support vector machine is not supported"),
                  "%s", r.err);
    test_run_free(&r);
    free(wpath);
    free(pred);
    free(run);
    free(spec);
    free(dir);
  }
}
END_TEST

/* Tuning searches an svr's parameters as an svm's (model.svr.PARAM): each
 * trial fits its own C and epsilon, and the trial of the spec's own
 * settings scores as the spec's fit did. */
START_TEST(svr_tuning_searches_its_parameters) {
  char *dir = test_tmpdir();
  const char *tuning = "  tuning {\n    model.svr.c in [1, 100]\n    model.svr.epsilon in [1, 5]\n  }\n";
  char *spec = test_example_spec(dir, "diabetes", "tune", "svr(c = 100, epsilon = 5)", tuning);
  free(test_train(spec, dir, "tune"));
  char *exe = test_path(dir, "tune.exe"), *run = test_path(dir, "tuned");
  const char *x[] = {exe, "--out", run, "--quiet", "--threads", "1", "--tune", NULL};
  test_run_ok(x);
  char *trials = test_path(run, "trials.jsonl"), *text = test_read_file(trials, NULL), **lines;
  ck_assert_ptr_nonnull(text);
  int n = test_split_lines(text, &lines);
  ck_assert_int_eq(n, 4);
  double loss[4];
  for (int i = 0; i < 4; i++) {
    cJSON *t = cJSON_Parse(lines[i]);
    ck_assert_ptr_nonnull(t);
    loss[i] = test_json_num(t, "val_loss", NULL, NULL);
    double c = test_json_num(t, "settings", "model.svr.c", NULL);
    double eps = test_json_num(t, "settings", "model.svr.epsilon", NULL);
    ck_assert_msg(c == (i % 2 ? 100 : 1) && eps == (i < 2 ? 1 : 5), "trial %d: c %g epsilon %g", i, c, eps);
    cJSON_Delete(t);
  }
  cJSON *man = test_read_json(run, "manifest.json");
  double own = test_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0), "metrics", "validation",
                             "loss");
  ck_assert_msg(fabs(loss[3] - own) <= 1e-9 * fabs(own), "trial (100, 5) %.9g, the spec's fit %.9g", loss[3],
                own);
  ck_assert_msg(loss[0] != loss[1] && loss[1] != loss[3] && loss[0] != loss[2], "trials alike: %g %g %g %g",
                loss[0], loss[1], loss[2], loss[3]);
  cJSON_Delete(man);
  free(lines);
  free(text);
  free(trials);
  free(run);
  free(exe);
  free(spec);
  free(dir);
}
END_TEST

/* ---- the row limit and refusals --------------------------------------------- */

/* A training split above the limit (20000 rows): the build refuses it when
 * no cleaning step may drop rows, warns when one may, and the run then
 * stops before the solver starts, saying so; so many features that the
 * room for support vectors would be under 100 rows is refused by the
 * build. */
START_TEST(svm_refuses_too_many_rows) {
  char *dir = test_tmpdir(), *data = test_path(dir, "big.csv"), *spec = test_path(dir, "big.mlp");
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  fputs("a,b,label\n", f);
  unsigned seed = 3;
  for (int i = 0; i < 26000; i++) {
    seed = seed * 1103515245u + 12345u;
    double a = (double)((seed >> 8) % 1000) / 100.0, b = (double)((seed >> 18) % 1000) / 100.0;
    fprintf(f, "%.2f,%.2f,%s\n", a, b, a + b > 10 ? "hi" : "lo");
  }
  fclose(f);
  char *text = malloc(1024), exe[1024], out[1024];
  snprintf(exe, sizeof exe, "%s/big.exe", dir);
  snprintf(out, sizeof out, "%s/big.run", dir);
  static const char *const cleans[] = {"", "    clean {\n      drop_duplicates()\n    }\n"};
  TestRun r;
  for (int c = 0; c < 2; c++) {
    snprintf(text, 1024,
             "pipeline big {\n  data {\n    source = csv(\"%s\")\n    target = label\n%s"
             "    split(validation = 0.1, test = 0.1, seed = 1)\n  }\n  model {\n    svm()\n  }\n}\n",
             data, cleans[c]);
    test_write_text(spec, text);
    const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
    r = test_run(build, NULL);
    ck_assert_msg(strstr(r.err, "an svm takes at most 20000 training rows (its support vectors are kept in "
                                "the model) and the split leaves about 20798 of the source's 26000"),
                  "%s", r.err);
    ck_assert_msg(c == 0 ? r.status != 0 : r.status == 0 && strstr(r.err, "the run stops unless cleaning"),
                  "%s", r.err);
    test_run_free(&r);
  }
  /* an svr keeps the same limit, on a numeric target */
  snprintf(text, 1024,
           "pipeline big {\n  data {\n    source = csv(\"%s\")\n    target = a\n"
           "    split(validation = 0.1, test = 0.1, seed = 1)\n  }\n  model {\n    svr()\n  }\n}\n",
           data);
  test_write_text(spec, text);
  const char *regress[] = {test_mlpc(), "build", spec, "-o", "/dev/null", NULL};
  r = test_run(regress, NULL);
  ck_assert_msg(r.status != 0 &&
                    strstr(r.err, "big.mlp:8:5: error: an svr takes at most 20000 training rows") &&
                    strstr(r.err, "use linear_model()"),
                "%s", r.err);
  test_run_free(&r);
  /* the program built from the spec that warned */
  const char *x[] = {exe, "--out", out, "--quiet", NULL};
  r = test_run(x, NULL);
  ck_assert_msg(r.status != 0, "trained on 20529 rows");
  ck_assert_msg(strstr(r.err, "an svm takes at most 20000 training rows") && strstr(r.err, "has 20529"), "%s",
                r.err);
  test_run_free(&r);
  /* 50 rows of one text column hashed into 200000 columns */
  f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  fputs("a,label\n", f);
  for (int i = 0; i < 50; i++) fprintf(f, "w%d x%d,%s\n", i, i % 7, i % 2 ? "hi" : "lo");
  fclose(f);
  snprintf(text, 1024,
           "pipeline wide {\n  data {\n    source = csv(\"%s\")\n    target = label\n"
           "    schema {\n      a = text\n    }\n    clean {\n      hash_vectorize(a, buckets = 200000)\n"
           "    }\n  }\n  model {\n    svm()\n  }\n}\n",
           data);
  test_write_text(spec, text);
  const char *wide[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  r = test_run(wide, NULL);
  ck_assert_msg(r.status != 0 && strstr(r.err, "an svm over 200000 features keeps room for 83 support "
                                                "vectors"),
                "%s", r.err);
  test_run_free(&r);
  free(text);
  free(spec);
  free(data);
  free(dir);
}
END_TEST

START_TEST(svm_refusals) {
  char *dir = test_tmpdir();
  test_expect_refused(dir, "iris", "svm()", "  hyperparameters { epochs = 5 }\n",
                      "`hyperparameters.epochs` does not apply to a model fitted at once");
  test_expect_refused(dir, "iris", "svm()", "  tuning { l2 in [0.1, 1] }\n",
                      "searching 'l2' for a support vector machine is not supported by code generation yet");
  test_expect_refused(dir, "diabetes", "svm()", NULL, "an svm needs the classes of 'progression'");
  test_expect_refused(dir, "iris", "svm(c = 0)", NULL, "'c' must be > 0, got 0");
  test_expect_refused(dir, "iris", "svm(degree = 2)", NULL, "`degree` does not apply to the rbf kernel");
  test_expect_refused(dir, "iris", "svm(kernel = linear, gamma = 0.1)", NULL,
                      "`gamma` does not apply to the linear kernel");
  test_expect_refused(dir, "iris", "svm()\n    dense(4)", NULL,
                      "'svm' is a whole model; it cannot be combined with 'dense'");
  /* an svr regresses, and reads what svm reads */
  test_expect_refused(dir, "iris", "svr()", NULL,
                      "an svr regresses a numeric target and 'species' is categorical; use svm()");
  test_expect_refused(dir, "diabetes", "svr(epsilon = -1)", NULL, "'epsilon' must be >= 0, got -1");
  test_expect_refused(dir, "diabetes", "svr(c = 0)", NULL, "'c' must be > 0, got 0");
  test_expect_refused(dir, "diabetes", "svr(degree = 2)", NULL, "`degree` does not apply to the rbf kernel");
  test_expect_refused(dir, "diabetes", "svr(kernel = linear, gamma = 0.1)", NULL,
                      "`gamma` does not apply to the linear kernel");
  test_expect_refused(dir, "diabetes", "svr()", "  hyperparameters { epochs = 5 }\n",
                      "`hyperparameters.epochs` does not apply to a model fitted at once");
  test_expect_refused(dir, "diabetes", "svr()", "  tuning { l2 in [0.1, 1] }\n",
                      "searching 'l2' for a support vector machine is not supported by code generation yet");
  free(dir);
}
END_TEST

Suite *svm_suite(void); /* the runner finds it by name */
Suite *svm_suite(void) {
  Suite *s = suite_create("svm");
  TCase *tc = tcase_create("svm");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, svm_parity_with_sklearn, 0, (int)(sizeof cases / sizeof cases[0]));
  tcase_add_loop_test(tc, svr_parity_with_sklearn, 0, (int)(sizeof svr_cases / sizeof svr_cases[0]));
  tcase_add_test(tc, svm_predictor_answers_as_trained);
  tcase_add_test(tc, svr_tuning_searches_its_parameters);
  tcase_add_test(tc, svm_refuses_too_many_rows);
  tcase_add_test(tc, svm_refusals);
  suite_add_tcase(s, tc);
  return s;
}
