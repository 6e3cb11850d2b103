/* check_analysis.c — the error analysis and the report (step 7): the slice
 * finder ranks a planted bad slice first and flags nothing on data without
 * one (seeded data, end to end and on the test itself); the manifest's
 * analysis object (worst rows traced to their source lines, slices,
 * permutation importance, Brier score and calibration, residuals); the
 * Brier score, each class's scores, and each class's ROC AUC and average
 * precision equal scikit-learn's on the examples (1e-6); and report.html
 * holds the eight steps' sections, no external reference, and renders in
 * headless Chromium. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/metrics.h"
#include "mlp/tensor.h"
#include "testutil.h"

#define PYTHON "/usr/bin/python3"
#define CHROMIUM "chromium"

static const char *const SECTIONS[] = {"data",     "architecture", "hyperparameters", "environment",
                                       "training", "tuning",       "analysis",        "deployment"};

static cJSON *manifest_of(const char *run) {
  char *path = test_path(run, "manifest.json"), *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "no %s", path);
  cJSON *m = cJSON_Parse(text);
  ck_assert_msg(m != NULL, "%s is not JSON", path);
  free(text);
  free(path);
  return m;
}

/* n rows of group (A..D), x1, x2 and a binary y = (x1 > 0), whose label
 * is flipped with chance `noise`, or `bad` in group D. */
static void planted_csv(const char *path, int n, double noise, double bad, uint64_t seed) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("group,x1,x2,y\n", f);
  for (int i = 0; i < n; i++) {
    int g = (int)(mlprt_rng_u32(seed, 1, (uint64_t)i) % 4);
    double x1 = mlprt_rng_normal(seed, 2, (uint64_t)i), x2 = mlprt_rng_normal(seed, 3, (uint64_t)i);
    int y = x1 > 0;
    if (mlprt_rng_uniform(seed, 4, (uint64_t)i) < (g == 3 ? bad : noise)) y = !y;
    fprintf(f, "%c,%.5f,%.5f,%s\n", 'A' + g, x1, x2, y ? "yes" : "no");
  }
  fclose(f);
}

/* Train a logistic regression on the planted data; its analysis.slices. */
static cJSON *planted_slices(const char *dir, const char *name, double bad) {
  char csv[1024], spec[1024], text[2048];
  snprintf(csv, sizeof csv, "%s/%s.csv", dir, name);
  snprintf(spec, sizeof spec, "%s/%s.mlp", dir, name);
  planted_csv(csv, 3000, 0.05, bad, 11);
  snprintf(text, sizeof text,
           "pipeline %s {\n  data {\n    source = csv(\"%s\")\n    target = y\n"
           "    split(validation = 0.2, test = 0.3, seed = 5)\n  }\n  model { linear_model() }\n"
           "  analysis { slices = [group, x2]  worst = 3 }\n}\n",
           name, csv);
  test_write_text(spec, text);
  char *run = test_train(spec, dir, name);
  cJSON *m = manifest_of(run);
  cJSON *sl = cJSON_DetachItemFromObject(cJSON_GetObjectItem(m, "analysis"), "slices");
  ck_assert_ptr_nonnull(sl);
  cJSON_Delete(m);
  free(run);
  return sl;
}

START_TEST(analysis_slice_finder_ranks_a_planted_slice_first) {
  char *dir = test_tmpdir();
  cJSON *sl = planted_slices(dir, "planted", 0.45);
  const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(sl, "slices"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(first, "column")->valuestring, "group");
  ck_assert_str_eq(cJSON_GetObjectItem(first, "level")->valuestring, "D");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(first, "flagged")));
  ck_assert_int_eq(cJSON_GetObjectItem(sl, "flagged")->valueint, 1);
  ck_assert_int_eq(cJSON_GetObjectItem(sl, "tested")->valueint, 8); /* four groups, four quartiles of x2 */
  cJSON_Delete(sl);
  sl = planted_slices(dir, "even", 0.05);
  ck_assert_int_eq(cJSON_GetObjectItem(sl, "flagged")->valueint, 0);
  const cJSON *s;
  cJSON_ArrayForEach(s, cJSON_GetObjectItem(sl, "slices"))
      ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(s, "flagged")));
  cJSON_Delete(sl);
  free(dir);
}
END_TEST

/* The test itself: a slice of errors twice as frequent is flagged, a
 * slice under the minimum size is not tested, and Bonferroni's count is
 * every slice tested. */
START_TEST(analysis_slice_test_and_its_limits) {
  enum { N = 2000 };
  static double err[N];
  static int32_t slice[N];
  for (int i = 0; i < N; i++) {
    slice[i] = i < 200 ? 0 : i < 220 ? 1 : 2;
    err[i] = mlprt_rng_uniform(3, 0, (uint64_t)i) < (slice[i] == 0 ? 0.3 : 0.1);
  }
  MlprtSliceTest t[3];
  int tested = mlprt_slice_test(err, slice, N, 3, true, t);
  ck_assert_int_eq(tested, 2);
  mlprt_slice_flag(t, 3, tested);
  ck_assert(t[0].flagged);
  ck_assert(isnan(t[1].p) && !t[1].flagged);
  ck_assert(!t[2].flagged);
  ck_assert_int_eq(t[1].n, 20);
  /* absolute errors: Welch's statistic */
  for (int i = 0; i < N; i++) err[i] = fabs(mlprt_rng_normal(4, 0, (uint64_t)i)) * (slice[i] == 0 ? 1.5 : 1);
  tested = mlprt_slice_test(err, slice, N, 3, false, t);
  mlprt_slice_flag(t, 3, tested);
  ck_assert(t[0].flagged && t[0].stat > 3);
  ck_assert(!t[2].flagged);
}
END_TEST

/* A row of test_rows.csv-like text: the fields of line `line` of path. */
static char *source_line(const char *path, long line) {
  char *text = test_read_file(path, NULL), *s = text;
  ck_assert_ptr_nonnull(text);
  for (long l = 1; l < line && s; l++) {
    s = strchr(s, '\n');
    if (s) s++;
  }
  ck_assert_ptr_nonnull(s);
  char *out = strndup(s, strcspn(s, "\n"));
  free(text);
  return out;
}

/* The iris example with every analysis setting: its run directory. */
static char *iris_run(const char *dir) {
  char *spec = test_example_spec(dir, "iris", "iris", "dense(8, activation = relu)\n    output()",
                                 "  hyperparameters { epochs = 40  lr = 0.05 }\n"
                                 "  analysis {\n    metrics = [accuracy, precision, recall, f1, confusion]\n"
                                 "    slices = [species, petal_length]\n    worst = 5\n"
                                 "    feature_importance = true\n  }\n");
  char *run = test_train(spec, dir, "iris");
  free(spec);
  return run;
}

START_TEST(analysis_manifest_object) {
  char *dir = test_tmpdir(), *run = iris_run(dir);
  cJSON *m = manifest_of(run);
  const cJSON *an = cJSON_GetObjectItem(m, "analysis");
  ck_assert_ptr_nonnull(an);
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(an, "brier")));
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(an, "curves")), 3); /* one class against the rest */
  ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(an, "calibration"), "bins")),
                   0);
  /* The worst rows, largest loss first, each traced to its line. */
  const cJSON *worst = cJSON_GetObjectItem(an, "worst"), *w;
  ck_assert_int_eq(cJSON_GetArraySize(worst), 5);
  char *csv = strdup("examples/data/iris.csv"); /* the tests run in the source tree */
  double last = INFINITY;
  cJSON_ArrayForEach(w, worst) {
    double loss = cJSON_GetObjectItem(w, "loss")->valuedouble;
    ck_assert(loss <= last);
    last = loss;
    char *line = source_line(csv, (long)cJSON_GetObjectItem(w, "line")->valuedouble);
    const cJSON *vals = cJSON_GetObjectItem(w, "values");
    char want[256];
    snprintf(want, sizeof want, "%s,%s,%s,%s,%s", cJSON_GetObjectItem(vals, "sepal_length")->valuestring,
             cJSON_GetObjectItem(vals, "sepal_width")->valuestring,
             cJSON_GetObjectItem(vals, "petal_length")->valuestring,
             cJSON_GetObjectItem(vals, "petal_width")->valuestring,
             cJSON_GetObjectItem(w, "truth")->valuestring);
    ck_assert_str_eq(line, want);
    free(line);
  }
  free(csv);
  /* Slices: the three species and petal_length's bins, every tested row in each column's slices once. */
  const cJSON *s;
  int64_t species_rows = 0;
  cJSON_ArrayForEach(s, cJSON_GetObjectItem(cJSON_GetObjectItem(an, "slices"), "slices")) {
    if (strcmp(cJSON_GetObjectItem(s, "column")->valuestring, "species") == 0)
      species_rows += (int64_t)cJSON_GetObjectItem(s, "rows")->valuedouble;
  }
  ck_assert_int_eq(species_rows, (int64_t)cJSON_GetObjectItem(an, "rows")->valuedouble);
  /* Importance: one entry per source column, mean and spread. */
  const cJSON *imp = cJSON_GetObjectItem(cJSON_GetObjectItem(an, "feature_importance"), "columns");
  ck_assert_int_eq(cJSON_GetArraySize(imp), 4);
  cJSON_ArrayForEach(s, imp) ck_assert(cJSON_GetObjectItem(s, "std")->valuedouble >= 0);
  cJSON_Delete(m);
  free(run);
  free(dir);
}
END_TEST

/* Compare the manifest's Brier score and per-class scores with scikit-learn's
 * on the run's predictions.csv (probabilities) and test_rows.csv (truth). */
static void sklearn_parity(const char *run, const char *target) {
  const char *script =
      "import sys, json, csv, numpy as np\n"
      "from sklearn.metrics import brier_score_loss, precision_recall_fscore_support\n"
      "from sklearn.metrics import roc_auc_score, average_precision_score\n"
      "run, target = sys.argv[1], sys.argv[2]\n"
      "m = json.load(open(run + '/manifest.json'))\n"
      "t = m['metrics']['test']; classes = t['classes']\n"
      "truth = [r[target] for r in csv.DictReader(open(run + '/test_rows.csv'))]\n"
      "rows = list(csv.DictReader(open(run + '/predictions.csv')))\n"
      "y = np.array([classes.index(v) for v in truth])\n"
      "p = np.array([[float(r['p_' + c]) for c in classes] for r in rows])\n"
      "if len(classes) == 2: b = brier_score_loss(y, p[:, 1])\n"
      "else: b = np.mean(np.sum((p - np.eye(len(classes))[y]) ** 2, axis=1))\n"
      "pr, rc, f1, sup = precision_recall_fscore_support(y, p.argmax(1), labels=range(len(classes)),"
      " zero_division=0)\n"
      "bad = abs(b - m['analysis']['brier']) > 1e-6\n"
      "for k, c in enumerate(t['per_class']):\n"
      "    bad |= max(abs(c['precision'] - pr[k]), abs(c['recall'] - rc[k]), abs(c['f1'] - f1[k])) > 1e-6\n"
      "    bad |= c['support'] != sup[k]\n"
      "for c in m['analysis']['curves']:\n"
      "    k = classes.index(c['class'])\n"
      "    bad |= abs(c['auc'] - roc_auc_score(y == k, p[:, k])) > 1e-6\n"
      "    bad |= abs(c['average_precision'] - average_precision_score(y == k, p[:, k])) > 1e-6\n"
      "print('mismatch' if bad else 'ok', b, m['analysis']['brier'])\n";
  const char *argv[] = {PYTHON, "-c", script, run, target, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strncmp(r.out, "ok", 2) == 0, "%s: %s", target, r.out);
  test_run_free(&r);
}

START_TEST(analysis_brier_and_per_class_match_sklearn) {
  const char *probe[] = {PYTHON, "-c", "import sklearn", NULL};
  TestRun pr = test_run(probe, NULL);
  bool have = pr.status == 0;
  test_run_free(&pr);
  if (!have) {
    test_skip("Brier score and per-class parity", "python3-sklearn", PYTHON " -c 'import sklearn' failed");
    return;
  }
  char *dir = test_tmpdir(), *run = iris_run(dir);
  sklearn_parity(run, "species");
  free(run);
  char *spec = test_example_spec(dir, "breast_cancer", "bc", "linear_model()",
                                 "  analysis { metrics = [accuracy, precision, recall, f1] }\n");
  run = test_train(spec, dir, "bc");
  sklearn_parity(run, "diagnosis");
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* The report's text: every section of the eight steps present and holding
 * more than its heading, and nothing fetched from elsewhere. */
static void check_report_text(const char *html) {
  for (size_t i = 0; i < sizeof SECTIONS / sizeof *SECTIONS; i++) {
    char open[64];
    snprintf(open, sizeof open, "<section id=\"%s\">", SECTIONS[i]);
    const char *at = strstr(html, open);
    ck_assert_msg(at != NULL, "no section %s", SECTIONS[i]);
    const char *h2end = strstr(at, "</h2>"), *end = strstr(at, "</section>");
    ck_assert_msg(h2end && end && end - h2end > 20, "section %s is empty", SECTIONS[i]);
    if (i > 0) {
      char prev[64];
      snprintf(prev, sizeof prev, "<section id=\"%s\">", SECTIONS[i - 1]);
      ck_assert_msg(strstr(html, prev) < at, "section %s out of order", SECTIONS[i]);
    }
  }
  ck_assert_msg(!strstr(html, "http://") && !strstr(html, "https://"), "the report names a URL");
  ck_assert_msg(!strstr(html, " src=") && !strstr(html, " href="), "the report references a file");
  ck_assert_msg(
      strstr(html, "class=\"tick\"") && strstr(html, "class=\"xlabel\"") && strstr(html, "class=\"best\""),
      "the learning curve lacks ticks, an axis label or the best epoch");
  /* The validation accuracy against the epoch, the best epoch marked on it too. */
  const char *acc = strstr(html, ">validation accuracy</text>");
  ck_assert_msg(acc != NULL, "no validation accuracy curve");
  ck_assert_msg(strstr(acc, "class=\"best\""), "the accuracy curve does not mark the best epoch");
}

START_TEST(analysis_report_has_the_eight_steps) {
  char *dir = test_tmpdir(), *run = iris_run(dir);
  char *path = test_path(run, "report.html"), *html = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(html);
  check_report_text(html);
  free(html);
  /* Headless Chromium: the DOM it builds, and a screenshot. */
  const char *probe[] = {CHROMIUM, "--version", NULL};
  TestRun r = test_run(probe, NULL);
  bool have = r.status == 0;
  test_run_free(&r);
  if (!have) {
    test_skip("report.html rendered headless", CHROMIUM, "chromium --version failed");
  } else {
    char url[2048], shot[1024], shotarg[1100], prof[1100];
    snprintf(url, sizeof url, "file://%s", path);
    snprintf(shot, sizeof shot, "%s/report.png", dir);
    snprintf(shotarg, sizeof shotarg, "--screenshot=%s", shot);
    snprintf(prof, sizeof prof, "--user-data-dir=%s/chromium", dir);
    const char *dom[] = {CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", prof, "--dump-dom",
                         url,      NULL};
    r = test_run(dom, NULL);
    if (r.status != 0 || !strstr(r.out, "</section>")) {
      test_skip("report.html rendered headless", CHROMIUM, "chromium cannot run here");
      test_run_free(&r);
    } else {
      check_report_text(r.out);
      test_run_free(&r);
      const char *sh[] = {CHROMIUM,        "--headless", "--no-sandbox",
                          "--disable-gpu", prof,         "--window-size=1000,3000",
                          shotarg,         url,          NULL};
      r = test_run(sh, NULL);
      ck_assert_msg(r.status == 0, "%s", r.err);
      test_run_free(&r);
      size_t len = 0;
      char *png = test_read_file(shot, &len);
      ck_assert_msg(png && len > 1000 && memcmp(png, "\x89PNG", 4) == 0, "no screenshot");
      free(png);
    }
  }
  free(path);
  free(run);
  free(dir);
}
END_TEST

/* mlpc report makes the run's report.html again, byte for byte (in the
 * run directory only when it comes out as sealed); mlpc diff compares two
 * runs' settings, metrics and per-class scores as text and HTML. */
START_TEST(analysis_report_again_and_diff) {
  char *dir = test_tmpdir(), *run = iris_run(dir);
  char *path = test_path(run, "report.html"), *again = test_path(dir, "again.html");
  size_t n1, n2;
  char *first = test_read_file(path, &n1);
  ck_assert_ptr_nonnull(first);
  const char *to[] = {test_mlpc(), "report", run, "-o", again, NULL};
  test_run_ok(to);
  char *second = test_read_file(again, &n2);
  ck_assert_msg(second && n1 == n2 && memcmp(first, second, n1) == 0, "the report made again differs");
  free(second);
  /* A lost report comes back in place, the same bytes the manifest seals. */
  ck_assert_int_eq(unlink(path), 0);
  const char *in_place[] = {test_mlpc(), "report", run, NULL};
  test_run_ok(in_place);
  second = test_read_file(path, &n2);
  ck_assert_msg(second && n1 == n2 && memcmp(first, second, n1) == 0, "the report put back differs");
  free(second);
  free(first);
  /* Another run of other settings, compared. */
  char *spec = test_example_spec(dir, "iris", "other", "dense(8, activation = relu)\n    output()",
                                 "  hyperparameters { epochs = 10  lr = 0.01 }\n"
                                 "  analysis { metrics = [accuracy, f1, confusion] }\n");
  char *other = test_train(spec, dir, "other"), *html = test_path(dir, "diff.html");
  const char *diff[] = {test_mlpc(), "diff", run, other, "-o", html, NULL};
  TestRun r = test_run(diff, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "\nsettings\n") && strstr(r.out, "\n  lr ") && strstr(r.out, "\n  epochs "),
                "%s", r.out);
  ck_assert_msg(strstr(r.out, "\nmetrics\n") && strstr(r.out, "\n  accuracy "), "%s", r.out);
  ck_assert_msg(strstr(r.out, "\nper class\n") && strstr(r.out, "\n  setosa.f1 "), "%s", r.out);
  ck_assert_msg(!strstr(r.out, "spec.sha256") || strstr(r.out, "\n  spec.sha256 "), "%s", r.out);
  test_run_free(&r);
  char *page = test_read_file(html, NULL);
  ck_assert_msg(page && strstr(page, "<h2 id=\"per_class\">") && strstr(page, "<td>lr</td>") &&
                    !strstr(page, "http"),
                "%.300s", page ? page : "");
  free(page);
  /* A directory that is not a run is an error, not an empty comparison. */
  const char *bad[] = {test_mlpc(), "diff", run, dir, NULL};
  r = test_run(bad, NULL);
  ck_assert_int_eq(r.status, 2);
  test_run_free(&r);
  free(html);
  free(other);
  free(spec);
  free(again);
  free(path);
  free(run);
  free(dir);
}
END_TEST

/* The regression side: residuals and error by target range. */
START_TEST(analysis_regression_residuals) {
  char *dir = test_tmpdir();
  char *spec =
      test_example_spec(dir, "diabetes", "diab", "linear_model()", "  analysis { slices = [sex] }\n");
  char *run = test_train(spec, dir, "diab");
  cJSON *m = manifest_of(run);
  const cJSON *an = cJSON_GetObjectItem(m, "analysis");
  ck_assert_ptr_nonnull(cJSON_GetObjectItem(an, "residuals"));
  const cJSON *ranges = cJSON_GetObjectItem(an, "error_by_target_range"), *e;
  ck_assert_int_eq(cJSON_GetArraySize(ranges), 5);
  double rows = 0;
  cJSON_ArrayForEach(e, ranges) rows += cJSON_GetObjectItem(e, "rows")->valuedouble;
  ck_assert_double_eq(rows, cJSON_GetObjectItem(an, "rows")->valuedouble);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(an, "worst")), 20);
  cJSON_Delete(m);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* analysis.worst ranks rows by the model's own loss: listing every tested
 * row, the losses average to the test loss the metrics report, for a
 * hinge and a Huber loss as for the defaults. */
static void expect_worst_is_the_loss(const char *example, const char *model, const char *loss) {
  char *dir = test_tmpdir(), extra[256];
  snprintf(extra, sizeof extra,
           "  hyperparameters { epochs = 20  lr = 0.01  %s }\n  analysis { worst = 100000 }\n", loss);
  char *spec = test_example_spec(dir, example, "w", model, extra);
  char *run = test_train(spec, dir, "w");
  cJSON *m = manifest_of(run);
  const cJSON *worst = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "analysis"), "worst"), *w;
  double sum = 0, last = INFINITY;
  cJSON_ArrayForEach(w, worst) {
    double l = cJSON_GetObjectItem(w, "loss")->valuedouble;
    ck_assert(l <= last);
    last = l;
    sum += l;
  }
  double tested = test_json_num(m, "data", "test", NULL);
  double want = test_json_num(m, "metrics", "test", "loss");
  ck_assert_int_eq(cJSON_GetArraySize(worst), (int)tested);
  ck_assert_msg(fabs(sum / tested - want) <= 1e-6 * fmax(1, fabs(want)),
                "%s: worst rows' mean loss %.9g, test loss %.9g", loss, sum / tested, want);
  cJSON_Delete(m);
  free(run);
  free(spec);
  free(dir);
}

START_TEST(analysis_worst_rows_by_the_model_loss) {
  const char *net = "dense(8, activation = relu)\n    output()";
  expect_worst_is_the_loss("iris", net, "loss = hinge");
  expect_worst_is_the_loss("diabetes", net, "loss = huber(delta = 0.5)");
  expect_worst_is_the_loss("diabetes", net, "loss = mae");
}
END_TEST

/* The bias / variance reading: a run stuck at its baseline underfits, and
 * says what to do next. */
START_TEST(analysis_diagnosis_of_a_stuck_run) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "iris", "stuck", "dense(8)\n    output()",
                                 "  hyperparameters { epochs = 4  lr = 0.000001 }\n"
                                 "  validation { stop_on_divergence = false }\n");
  char *run = test_train(spec, dir, "stuck");
  char *path = test_path(run, "report.html"), *html = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(html);
  const char *d = strstr(html, "<p class=\"diagnosis\">");
  ck_assert_ptr_nonnull(d);
  ck_assert_msg(strstr(d, "does not beat the majority baseline") &&
                    strstr(d, "<b>high bias (underfitting)</b>") && strstr(d, "next: more capacity"),
                "%.400s", d);
  free(html);
  free(path);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* What the analysis cannot act on is refused at the setting. */
START_TEST(analysis_refusals) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "iris", "sel", "output()", "  analysis { slices = numeric }\n");
  const char *argv[] = {test_mlpc(), "build", spec, "-o", "/dev/null", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(strstr(r.err, "analysis.slices takes column names, not the selector 'numeric'"), "%s", r.err);
  ck_assert_msg(strstr(r.err, "sel.mlp:"), "no location: %s", r.err);
  test_run_free(&r);
  free(spec);
  free(dir);
}
END_TEST

Suite *analysis_suite(void); /* the runner finds it by name */
Suite *analysis_suite(void) {
  Suite *s = suite_create("analysis");
  TCase *tc = tcase_create("analysis");
  tcase_set_timeout(tc, 300); /* compiling and training pipelines, starting chromium */
  tcase_add_test(tc, analysis_slice_test_and_its_limits);
  tcase_add_test(tc, analysis_slice_finder_ranks_a_planted_slice_first);
  tcase_add_test(tc, analysis_manifest_object);
  tcase_add_test(tc, analysis_brier_and_per_class_match_sklearn);
  tcase_add_test(tc, analysis_report_has_the_eight_steps);
  tcase_add_test(tc, analysis_report_again_and_diff);
  tcase_add_test(tc, analysis_regression_residuals);
  tcase_add_test(tc, analysis_worst_rows_by_the_model_loss);
  tcase_add_test(tc, analysis_refusals);
  tcase_add_test(tc, analysis_diagnosis_of_a_stuck_run);
  suite_add_tcase(s, tc);
  return s;
}
