/* check_e2e.c — the product end to end: `mlpc build` on the examples, the
 * training programs on the real data, and the contract of the run
 * directory (manifest metrics, identical weights for identical seeds on one
 * thread, bit-identical resume from a checkpoint, --emit-ir, explain, run). */
#include <check.h>
#include <stdarg.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char *tmp; /* one directory for the whole suite */

static void setup(void) {
  tmp = test_tmpdir();
}

static void teardown(void) {
  free(tmp);
}

/* The repository root, where the suite runs: specs written under tmp name
 * the example data by absolute path. */
static const char *root(void) {
  const char *p = getenv("PWD");
  return p ? p : ".";
}

/* tmp/name holding the spec fmt (printf-style); its path (malloc'd). */
static char *write_spec(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *write_spec(const char *name, const char *fmt, ...) {
  char *spec = test_path(tmp, name);
  FILE *f = fopen(spec, "w");
  ck_assert_ptr_nonnull(f);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
  return spec;
}

/* mlpc build examples/NAME.mlp -o TMP/NAME.exe; returns the program's path. */
static char *build(const char *name) {
  char spec[256];
  snprintf(spec, sizeof spec, "examples/%s.mlp", name);
  char exe_name[256];
  snprintf(exe_name, sizeof exe_name, "%s.exe", name);
  char *exe = test_path(tmp, exe_name);
  const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "mlpc build %s: %d: %s", name, r.status, r.err);
  test_run_free(&r);
  return exe;
}

/* Run a built program into TMP/OUT with extra arguments; returns the parsed
 * manifest. */
static cJSON *train(const char *exe, const char *out, const char *const *extra) {
  char *dir = test_path(tmp, out);
  const char *argv[16] = {exe, "--out", dir, "--quiet", "--threads", "1"};
  int n = 6;
  for (int i = 0; extra && extra[i]; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s: status %d: %s", exe, r.status, r.err);
  test_run_free(&r);
  char *man = test_path(dir, "manifest.json");
  char *text = test_read_file(man, NULL);
  ck_assert_msg(text != NULL, "no %s", man);
  cJSON *j = cJSON_Parse(text);
  ck_assert_ptr_nonnull(j);
  free(text);
  free(man);
  free(dir);
  return j;
}

static double test_metric(const cJSON *man, const char *name) {
  const cJSON *m =
      cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(man, "metrics"), "test"), name);
  ck_assert_msg(cJSON_IsNumber(m), "no metrics.test.%s", name);
  return m->valuedouble;
}

static const char *artifact(const cJSON *man, const char *name) {
  const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "artifacts"), name);
  ck_assert_msg(cJSON_IsString(a), "no artifact %s", name);
  return a->valuestring;
}

START_TEST(e2e_iris_contract) {
  char *exe = build("iris");
  cJSON *a = train(exe, "iris1", NULL);
  double acc = test_metric(a, "accuracy");
  ck_assert_msg(acc >= 0.95, "iris test accuracy %.4f < 0.95", acc);
  ck_assert_str_eq(cJSON_GetObjectItem(a, "pipeline")->valuestring, "iris");
  ck_assert_int_eq((int)strlen(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "data"), "sha256")->valuestring),
                   64);
  /* The environment: what ran it and where. */
  cJSON *env = cJSON_GetObjectItem(a, "environment");
  ck_assert_int_eq(strncmp(cJSON_GetObjectItem(env, "compiler")->valuestring, "mlpc ", 5), 0);
  ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(env, "compiler")->valuestring, "(LLVM "));
  ck_assert(cJSON_IsArray(cJSON_GetObjectItem(env, "cpu_features")));
  ck_assert_str_ne(cJSON_GetObjectItem(env, "compiled_for")->valuestring, "");
  ck_assert_int_eq(strncmp(cJSON_GetObjectItem(cJSON_GetObjectItem(env, "blas"), "config")->valuestring,
                           "OpenBLAS", 8),
                   0);
  /* Same seed, one thread: the same weights, bit for bit. */
  cJSON *b = train(exe, "iris2", NULL);
  ck_assert_str_eq(artifact(a, "weights.bin"), artifact(b, "weights.bin"));
  /* deterministic = true (the default): two threads, the same weights. */
  char *dir2 = test_path(tmp, "iris_t2");
  const char *t2[] = {exe, "--out", dir2, "--quiet", "--threads", "2", NULL};
  TestRun r2 = test_run(t2, NULL);
  ck_assert_int_eq(r2.status, 0);
  test_run_free(&r2);
  char *w1 = test_path(tmp, "iris1/weights.bin"), *w2 = test_path(dir2, "weights.bin");
  size_t n1, n2;
  char *b1 = test_read_file(w1, &n1), *b2 = test_read_file(w2, &n2);
  ck_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
  free(b1);
  free(b2);
  free(w1);
  free(w2);
  free(dir2);
  /* Data that is missing (an I/O error, exit status 2), or that disagrees
   * with the compiled schema (the data's, 1), is a clear error naming the
   * column and row, not a crash. */
  static const struct {
    const char *data, *message;
  } bad[] = {{"no/such.csv", "cannot open"},
             {"examples/data/wine.csv", "column 'sepal_length': declared column is not in the data"},
             {NULL, "column 'petal_width': declared column is not in the data"}, /* narrow.csv */
             {NULL, "row 2 (line 3), column 2 'sepal_width': value 'wide'"}};   /* badrow.csv */
  char *narrow = test_path(tmp, "narrow.csv"), *badrow = test_path(tmp, "badrow.csv");
  FILE *nf = fopen(narrow, "w");
  fputs("sepal_length,sepal_width,petal_length,species\n5.1,3.5,1.4,setosa\n4.9,3,1.4,setosa\n"
        "7,3.2,4.7,versicolor\n6.4,3.2,4.5,versicolor\n6.3,3.3,6,virginica\n5.8,2.7,5.1,virginica\n",
        nf);
  fclose(nf);
  nf = fopen(badrow, "w");
  fputs("sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n"
        "4.9,wide,1.4,0.2,setosa\n7,3.2,4.7,1.4,versicolor\n",
        nf);
  fclose(nf);
  for (int i = 0; i < 4; i++) {
    char *out = test_path(tmp, "bad_data");
    const char *data = i == 2 ? narrow : i == 3 ? badrow : bad[i].data;
    const char *argv[] = {exe, "--out", out, "--quiet", "--data", data, NULL};
    TestRun br = test_run(argv, NULL);
    ck_assert_int_eq(br.status, i == 0 ? 2 : 1);
    ck_assert_msg(strstr(br.err, bad[i].message) != NULL, "%s", br.err);
    test_run_free(&br);
    free(out);
  }
  free(narrow);
  free(badrow);
  /* A different seed trains different weights. */
  const char *seed[] = {"--seed", "7", NULL};
  cJSON *c = train(exe, "iris3", seed);
  ck_assert_str_ne(artifact(a, "weights.bin"), artifact(c, "weights.bin"));
  /* The confusion matrix agrees with the accuracy and the macro F1. */
  const cJSON *test = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "metrics"), "test");
  const cJSON *conf = cJSON_GetObjectItem(test, "confusion");
  ck_assert_int_eq(cJSON_GetArraySize(conf), 3);
  double total = 0, trace = 0, f1 = 0;
  for (int i = 0; i < 3; i++) {
    double tp = cJSON_GetArrayItem(cJSON_GetArrayItem(conf, i), i)->valuedouble, pred = 0, truth = 0;
    for (int j = 0; j < 3; j++) {
      total += cJSON_GetArrayItem(cJSON_GetArrayItem(conf, i), j)->valuedouble;
      pred += cJSON_GetArrayItem(cJSON_GetArrayItem(conf, j), i)->valuedouble;
      truth += cJSON_GetArrayItem(cJSON_GetArrayItem(conf, i), j)->valuedouble;
    }
    trace += tp;
    double p = pred ? tp / pred : 0, rc = truth ? tp / truth : 0;
    f1 += (p + rc > 0 ? 2 * p * rc / (p + rc) : 0) / 3;
  }
  ck_assert_int_eq((int)total, cJSON_GetObjectItem(cJSON_GetObjectItem(a, "data"), "test")->valueint);
  ck_assert_double_eq_tol(trace / total, acc, 1e-12);
  ck_assert_double_eq_tol(f1, test_metric(a, "f1"), 1e-12);
  /* report.html (iris.mlp names it) shows the same confusion matrix. */
  ck_assert_ptr_nonnull(artifact(a, "report.html"));
  char *report = test_path(tmp, "iris1/report.html");
  char *html = test_read_file(report, NULL);
  ck_assert_ptr_nonnull(html);
  ck_assert_ptr_nonnull(strstr(html, "<h3>Confusion matrix</h3>"));
  ck_assert_ptr_nonnull(strstr(html, "<polyline"));
  ck_assert_ptr_nonnull(strstr(html, "<th>versicolor</th>"));
  free(html);
  free(report);
  char *metrics = test_path(tmp, "iris1/metrics.jsonl");
  char *text = test_read_file(metrics, NULL);
  ck_assert_ptr_nonnull(strstr(text, "\"epoch\":1,"));
  ck_assert_ptr_nonnull(strstr(text, "\"val_accuracy\""));
  /* environment.monitor is off: no resources sampled per epoch. */
  ck_assert_ptr_nonnull(strstr(text, "\"seconds\":"));
  ck_assert_ptr_null(strstr(text, "\"peak_rss_kib\":"));
  free(text);
  free(metrics);
  cJSON_Delete(a);
  cJSON_Delete(b);
  cJSON_Delete(c);
  free(exe);
}
END_TEST

START_TEST(e2e_tuning_trials) {
  char *exe = build("iris");
  /* Without --tune only the spec's own settings train. */
  cJSON *plain = train(exe, "untuned", NULL);
  const cJSON *t = cJSON_GetObjectItem(plain, "tuning");
  ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(t, "run")));
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(plain, "jobs")), 1);
  /* iris.mlp: random(trials = 10) over lr and batch, folds = 5. */
  const char *tune[] = {"--tune", "--set", "epochs=30", NULL};
  cJSON *m = train(exe, "tuned", tune);
  t = cJSON_GetObjectItem(m, "tuning");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "run")));
  ck_assert_int_eq(cJSON_GetObjectItem(t, "trials")->valueint, 10);
  ck_assert_int_eq(cJSON_GetObjectItem(t, "folds")->valueint, 5);
  const cJSON *objs = cJSON_GetObjectItem(t, "mean_objective");
  ck_assert_int_eq(cJSON_GetArraySize(objs), 10);
  /* The best trial has the lowest mean validation loss over its folds. */
  int best = cJSON_GetObjectItem(t, "best_trial")->valueint;
  for (int i = 0; i < 10; i++)
    ck_assert(cJSON_GetArrayItem(objs, best)->valuedouble <= cJSON_GetArrayItem(objs, i)->valuedouble);
  /* Job 0, 10 x 5 fold jobs, and the refit of the winner that was tested. */
  const cJSON *jobs = cJSON_GetObjectItem(m, "jobs");
  ck_assert_int_eq(cJSON_GetArraySize(jobs), 52);
  const cJSON *refit = cJSON_GetArrayItem(jobs, 51);
  ck_assert_int_eq(cJSON_GetObjectItem(refit, "trial")->valueint, best);
  double acc = test_metric(m, "accuracy");
  const cJSON *rm = cJSON_GetObjectItem(cJSON_GetObjectItem(refit, "metrics"), "test");
  ck_assert(cJSON_GetObjectItem(rm, "accuracy")->valuedouble == acc);
  ck_assert_msg(acc >= 0.85, "tuned iris test accuracy %.4f", acc);
  cJSON_Delete(plain);
  cJSON_Delete(m);
  free(exe);
}
END_TEST

/* The 9 points of lr x batch the successive halving test searches. */
#define LR_BATCH "    lr in [0.0003, 0.003, 0.03]\n    batch in [8, 32, 64]\n"

/* A seeded grid of SPACES, trained --tune for 27 epochs by SEARCH;
 * returns the manifest, the trial lines in *lines. */
static cJSON *tune_grid(const char *name, const char *search, const char *spaces, int *lines) {
  char file[64], exe_name[64], out[64];
  snprintf(file, sizeof file, "%s.mlp", name);
  snprintf(exe_name, sizeof exe_name, "%s.exe", name);
  snprintf(out, sizeof out, "%s.run", name);
  char *spec = write_spec(
      file,
      "pipeline %s {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n    target = species\n"
      "    clean {\n      standardize(numeric)\n    }\n    split(validation = 0.3, stratify = true, seed = "
      "1)\n"
      "  }\n  model {\n    dense(16, activation = relu)\n    output(activation = softmax)\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.01)\n    epochs = 27\n    seed = 7\n  }\n"
      "  tuning {\n    search = %s\n%s  }\n}\n",
      name, root(), search, spaces);
  char *exe = test_path(tmp, exe_name);
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  const char *opts[] = {"--tune", "--set", "early_stopping=0", NULL};
  cJSON *m = train(exe, out, opts);
  /* trials.jsonl: one line per trained trial, each with its settings. */
  char *dir = test_path(tmp, out), *path = test_path(dir, "trials.jsonl");
  char *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "no %s", path);
  *lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *t = cJSON_Parse(line);
    ck_assert_msg(t && cJSON_GetObjectItem(cJSON_GetObjectItem(t, "settings"), "lr"), "%s", line);
    const char *objective = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "tuning"), "objective")->valuestring;
    ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(t, objective)), "no %s: %s", objective, line);
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(t, "validation")));
    cJSON_Delete(t);
    (*lines)++;
  }
  artifact(m, "trials.jsonl");
  free(text);
  /* The report's tuning step: a row per trial line, the winner's marked;
   * made again from the run's records, the same page. */
  char *report = test_path(dir, "report.html"), *again = test_path(tmp, "again.html");
  char *html = test_read_file(report, NULL);
  const char *table = html ? strstr(html, "<table class=\"trials\">") : NULL;
  ck_assert_msg(table && strstr(table, "<tr class=\"winner\""), "no trial table in %s", report);
  int rows = 0;
  for (const char *at = table; (at = strstr(at + 1, "<tr")) && at < strstr(table, "</table>");) rows++;
  ck_assert_int_eq(rows, *lines + 1);
  const char *rerun[] = {test_mlpc(), "report", dir, "-o", again, NULL};
  test_run_ok(rerun);
  char *second = test_read_file(again, NULL);
  ck_assert_msg(second && strcmp(html, second) == 0, "the report made again differs");
  free(second);
  free(html);
  free(again);
  free(report);
  free(path);
  free(dir);
  free(exe);
  free(spec);
  return m;
}

/* Successive halving keeps the best third of the grid at each rung (3, 9
 * and 27 epochs) and finds the full grid's best for a third of its epochs. */
START_TEST(e2e_successive_halving_matches_grid) {
  int grid_lines, halving_lines;
  cJSON *grid = tune_grid("grid", "grid", LR_BATCH, &grid_lines);
  cJSON *halving =
      tune_grid("halving", "successive_halving(eta = 3, min_epochs = 3)", LR_BATCH, &halving_lines);
  ck_assert_int_eq(grid_lines, 9);
  ck_assert_int_eq(halving_lines, 9 + 3 + 1);
  const cJSON *g = cJSON_GetObjectItem(grid, "tuning"), *h = cJSON_GetObjectItem(halving, "tuning");
  char *gs = cJSON_PrintUnformatted(cJSON_GetObjectItem(g, "best_settings"));
  char *hs = cJSON_PrintUnformatted(cJSON_GetObjectItem(h, "best_settings"));
  ck_assert_str_eq(gs, hs);
  ck_assert_int_eq(cJSON_GetObjectItem(h, "best_trial")->valueint,
                   cJSON_GetObjectItem(g, "best_trial")->valueint);
  double ge = cJSON_GetObjectItem(g, "trial_epochs")->valuedouble;
  double he = cJSON_GetObjectItem(h, "trial_epochs")->valuedouble;
  ck_assert_double_eq(ge, 9 * 27);
  ck_assert_msg(he <= 0.4 * ge, "halving trained %g epochs, the grid %g", he, ge);
  ck_assert_int_eq(cJSON_GetObjectItem(h, "eta")->valueint, 3);
  /* --set epochs caps the rungs and is the last one's budget: 3, 9, 9. */
  char *exe = test_path(tmp, "halving.exe");
  const char *capped[] = {"--tune", "--set", "early_stopping=0", "--set", "epochs=9", NULL};
  cJSON *c = train(exe, "halving_capped.run", capped);
  ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "tuning"), "trial_epochs")->valuedouble,
                      9 * 3 + 3 * 9 + 1 * 9);
  cJSON_Delete(c);
  free(exe);
  /* A score objective is maximised: the winner has the best validation
   * AUC of the last rung. */
  int auc_lines;
  cJSON *auc = tune_grid("halving_auc",
                         "successive_halving(eta = 3, min_epochs = 3)\n    objective = val_auc", LR_BATCH,
                         &auc_lines);
  const cJSON *a = cJSON_GetObjectItem(auc, "tuning");
  ck_assert_str_eq(cJSON_GetObjectItem(a, "objective")->valuestring, "val_auc");
  char *dir = test_path(tmp, "halving_auc.run"), *path = test_path(dir, "trials.jsonl");
  char *text = test_read_file(path, NULL);
  double best = -1;
  int best_trial = -1;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *t = cJSON_Parse(line);
    double v = cJSON_GetObjectItem(t, "val_auc")->valuedouble;
    if (cJSON_GetObjectItem(t, "rung")->valueint == 2 && v > best)
      best = v, best_trial = cJSON_GetObjectItem(t, "trial")->valueint;
    cJSON_Delete(t);
  }
  ck_assert_int_ge(best_trial, 0);
  ck_assert(best > 0.5 && best <= 1);
  int winner = cJSON_GetObjectItem(a, "best_trial")->valueint;
  ck_assert_msg(winner == best_trial || winner == -1, "winner %d, best of the last rung %d", winner,
                best_trial);
  free(text);
  free(path);
  free(dir);
  cJSON_Delete(auc);
  free(gs);
  free(hs);
  cJSON_Delete(grid);
  cJSON_Delete(halving);
}
END_TEST

/* Hyperband over a grid of 48 points (27 epochs each): four brackets of
 * successive halving, from 27 trials on 1 epoch to 4 on 27, taking the
 * points in a seeded order (every point once before any again), find the
 * full grid's best for a third of its epochs; trials.jsonl records each
 * trial's bracket and rung. */
START_TEST(e2e_hyperband_matches_grid) {
  const char *spaces = "    lr in [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03]\n    batch in [8, 16, 32, 64]\n"
                       "    model.dense.units in [4, 16]\n";
  int grid_lines, band_lines;
  cJSON *grid = tune_grid("grid48", "grid", spaces, &grid_lines);
  cJSON *band = tune_grid("band", "hyperband(eta = 3, min_epochs = 1, seed = 4)", spaces, &band_lines);
  ck_assert_int_eq(grid_lines, 48);
  const cJSON *g = cJSON_GetObjectItem(grid, "tuning"), *h = cJSON_GetObjectItem(band, "tuning");
  char *gs = cJSON_PrintUnformatted(cJSON_GetObjectItem(g, "best_settings"));
  char *hs = cJSON_PrintUnformatted(cJSON_GetObjectItem(h, "best_settings"));
  ck_assert_str_eq(gs, hs);
  double ge = cJSON_GetObjectItem(g, "trial_epochs")->valuedouble;
  double he = cJSON_GetObjectItem(h, "trial_epochs")->valuedouble;
  ck_assert_double_eq(ge, 48 * 27);
  ck_assert_msg(he <= 0.4 * ge, "hyperband trained %g epochs, the grid %g", he, ge);
  ck_assert_int_eq(cJSON_GetObjectItem(h, "brackets")->valueint, 4);
  ck_assert_int_eq(cJSON_GetObjectItem(h, "trials")->valueint, 27 + 12 + 6 + 4);
  char *dir = test_path(tmp, "band.run"), *path = test_path(dir, "trials.jsonl");
  char *text = test_read_file(path, NULL);
  int per[4][4] = {{0}}, points = 0;
  char *first[48];
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *t = cJSON_Parse(line);
    int b = cJSON_GetObjectItem(t, "bracket")->valueint, rg = cJSON_GetObjectItem(t, "rung")->valueint;
    ck_assert(b >= 0 && b < 4 && rg >= 3 - b && rg < 4);
    per[b][rg]++;
    /* rung k trains 3^k epochs */
    static const int epochs[] = {1, 3, 9, 27};
    ck_assert_int_eq(cJSON_GetObjectItem(t, "epochs")->valueint, epochs[rg]);
    /* the points of the first rung of each bracket: the grid's, each once but the last */
    char *set = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "settings"));
    bool again = false;
    for (int k = 0; k < points; k++) again |= strcmp(first[k], set) == 0;
    if (rg == 3 - b && !again) first[points++] = set;
    else free(set);
    ck_assert(!again || rg > 3 - b || (b == 0 && cJSON_GetObjectItem(t, "trial")->valueint == 48));
    cJSON_Delete(t);
  }
  /* each rung keeps the best third of the one below in its bracket */
  static const int want[4][4] = {{0, 0, 0, 4}, {0, 0, 6, 2}, {0, 12, 4, 1}, {27, 9, 3, 1}};
  for (int b = 0; b < 4; b++)
    for (int rg = 0; rg < 4; rg++) ck_assert_int_eq(per[b][rg], want[b][rg]);
  ck_assert_int_eq(points, 48);
  for (int k = 0; k < points; k++) free(first[k]);
  free(text);
  free(path);
  free(dir);
  free(gs);
  free(hs);
  cJSON_Delete(grid);
  cJSON_Delete(band);
}
END_TEST

/* The model of IR named by a job ("modelN"). */
static const cJSON *ir_model(const cJSON *ir, const cJSON *job) {
  const cJSON *m;
  cJSON_ArrayForEach(
      m, cJSON_GetObjectItem(ir, "models")) if (strcmp(cJSON_GetObjectItem(m, "name")->valuestring,
                                                       cJSON_GetObjectItem(job, "model")->valuestring) ==
                                                0) return m;
  ck_abort_msg("no model %s", cJSON_GetObjectItem(job, "model")->valuestring);
  return NULL;
}

/* The plan mlpc build --emit-ir prints for spec, which it must accept. */
static cJSON *plan_of(const char *spec) {
  const char *e[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  TestRun r = test_run(e, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(ir);
  test_run_free(&r);
  return ir;
}

/* Search paths reach layer parameters, enumerated values and the
 * optimizer's parameters: each trial's job and model carry its values, and
 * the winner's model (not the spec's) is what weights.bin and export hold. */
START_TEST(e2e_search_any_setting) {
  char *spec = write_spec(
      "anyset.mlp",
      "pipeline anyset {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n    target = species\n"
      "    clean {\n      standardize(numeric)\n    }\n    split(validation = 0.3, stratify = true, seed = "
      "1)\n"
      "  }\n  model {\n    dense(8, activation = relu)\n    dropout(0.1)\n    dense(4)\n"
      "    output(activation = softmax)\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.02)\n    epochs = 8\n    seed = 7\n  }\n"
      "  tuning {\n    model.dense[1].units in [4, 16]\n    model.dense[0].activation in [relu, tanh]\n"
      "    model.dropout.rate in [0, 0.3]\n    optimizer.beta1 in [0.8, 0.9]\n  }\n}\n",
      root());
  cJSON *ir = plan_of(spec);
  int trials = 0;
  const cJSON *job;
  cJSON_ArrayForEach(job, cJSON_GetObjectItem(ir, "jobs")) {
    if (cJSON_GetObjectItem(job, "trial")->valueint < 0) continue;
    trials++;
    const cJSON *set = cJSON_GetObjectItem(job, "settings"),
                *layers = cJSON_GetObjectItem(ir_model(ir, job), "layers");
    const cJSON *dense0 = cJSON_GetArrayItem(layers, 0), *drop = cJSON_GetArrayItem(layers, 1);
    const cJSON *dense1 = cJSON_GetArrayItem(layers, 2);
    ck_assert_str_eq(cJSON_GetObjectItem(dense0, "activation")->valuestring,
                     cJSON_GetObjectItem(set, "model.dense[0].activation")->valuestring);
    ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(dense1, "out_shape"), 1)->valueint,
                     cJSON_GetObjectItem(set, "model.dense[1].units")->valueint);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(drop, "rate")->valuedouble,
                            cJSON_GetObjectItem(set, "model.dropout.rate")->valuedouble, 1e-6);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(cJSON_GetObjectItem(job, "optimizer"), "beta1")->valuedouble,
                            cJSON_GetObjectItem(set, "optimizer.beta1")->valuedouble, 1e-6);
  }
  ck_assert_int_eq(trials, 16);
  /* beta1 does not shape the model: the spec's and one per other point. */
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ir, "models")), 1 + 8);
  cJSON_Delete(ir);
  char *exe = test_path(tmp, "anyset.exe");
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  const char *opts[] = {"--tune", NULL};
  cJSON *m = train(exe, "anyset.run", opts);
  const cJSON *t = cJSON_GetObjectItem(m, "tuning");
  ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "best_settings"), "model.dense[1].units"));
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(t, "best_model")));
  char *run = test_path(tmp, "anyset.run"), *pred = test_path(tmp, "anyset.pred");
  const char *x[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  test_run_ok(x);
  cJSON_Delete(m);
  free(run);
  free(pred);
  free(exe);
  free(spec);
}
END_TEST

/* A space over a value that shapes the model: the spec of the repeat
 * count REPEAT (a number, or "%s" for the searched space written after
 * it). */
static char *repeat_spec(const char *name, const char *repeat, const char *tuning) {
  char file[64];
  snprintf(file, sizeof file, "%s.mlp", name);
  return write_spec(
      file,
      "pipeline %s {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n    target = species\n"
      "    clean {\n      standardize(numeric)\n    }\n"
      "    split(validation = 0.3, stratify = true, seed = 1)\n"
      "  }\n  model {\n    dense(6, activation = tanh, repeat = %s)\n    output(activation = softmax)\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.02)\n    epochs = 12\n    seed = 3\n  }\n%s}\n",
      name, root(), repeat, tuning);
}

/* The number of repeated layers is a search dimension: each trial's model
 * has its count of dense layers, the table and trials.jsonl show it, and
 * the winner's weights and predictor are exactly those of the spec with
 * the winning count written in. */
/* The tuned run (manifest m, directory run) against the spec with the
 * winning values written in (plain, trained as NAME.run): the same
 * weights.bin (and cleaning.json when `cleaning`), and the two runs'
 * predictors answer the written-in run's test rows alike. */
static void expect_as_written(const cJSON *m, const char *run, const char *plain, const char *name,
                              bool cleaning) {
  char file[64];
  snprintf(file, sizeof file, "%s.exe", name);
  char *pexe = test_path(tmp, file);
  const char *pb[] = {test_mlpc(), "build", plain, "-o", pexe, NULL};
  test_run_ok(pb);
  snprintf(file, sizeof file, "%s.run", name);
  cJSON *p = train(pexe, file, NULL);
  ck_assert_str_eq(artifact(m, "weights.bin"), artifact(p, "weights.bin"));
  if (cleaning) ck_assert_str_eq(artifact(m, "cleaning.json"), artifact(p, "cleaning.json"));
  char *prun = test_path(tmp, file), *rows = test_path(prun, "test_rows.csv");
  snprintf(file, sizeof file, "%s.tuned.pred", name);
  char *pred = test_path(tmp, file);
  snprintf(file, sizeof file, "%s.pred", name);
  char *ppred = test_path(tmp, file);
  const char *x1[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  const char *x2[] = {test_mlpc(), "export", prun, "-o", ppred, NULL};
  test_run_ok(x1);
  test_run_ok(x2);
  const char *a1[] = {pred, rows, NULL}, *a2[] = {ppred, rows, NULL};
  TestRun o1 = test_run(a1, NULL), o2 = test_run(a2, NULL);
  ck_assert_msg(o1.status == 0 && o2.status == 0, "%s%s", o1.err, o2.err);
  ck_assert_int_gt((int)strlen(o1.out), 100);
  ck_assert_str_eq(o1.out, o2.out);
  test_run_free(&o1);
  test_run_free(&o2);
  free(rows);
  free(ppred);
  free(pred);
  free(prun);
  cJSON_Delete(p);
  free(pexe);
}

START_TEST(e2e_search_repeat_count) {
  char *spec = repeat_spec("repeat", "1", "  tuning {\n    model.dense.repeat in [2, 3, 4]\n  }\n");
  cJSON *ir = plan_of(spec);
  const cJSON *job;
  int trials = 0;
  cJSON_ArrayForEach(job, cJSON_GetObjectItem(ir, "jobs")) {
    const cJSON *set = cJSON_GetObjectItem(job, "settings");
    int want = set ? cJSON_GetObjectItem(set, "model.dense.repeat")->valueint : 1;
    trials += want > 1;
    /* the repeated layers and the output */
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ir_model(ir, job), "layers")), want + 1);
  }
  ck_assert_int_eq(trials, 3);
  cJSON_Delete(ir);
  char *exe = test_path(tmp, "repeat.exe"), *run = test_path(tmp, "repeat.run");
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  const char *fit[] = {exe, "--out", run, "--tune", "--threads", "1", NULL};
  TestRun r = test_run(fit, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "model.dense.repeat"), "no repeat column:\n%s", r.out);
  test_run_free(&r);
  char *path = test_path(run, "manifest.json"), *text = test_read_file(path, NULL);
  cJSON *m = cJSON_Parse(text);
  const cJSON *best = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "tuning"), "best_settings");
  ck_assert_msg(best, "the spec's own count won: the search shows nothing");
  int won = cJSON_GetObjectItem(best, "model.dense.repeat")->valueint;
  char count[16];
  snprintf(count, sizeof count, "%d", won);
  char *plain = repeat_spec("repeat_plain", count, "");
  expect_as_written(m, run, plain, "repeat_plain", false);
  free(plain);
  cJSON_Delete(m);
  free(text);
  free(path);
  free(run);
  free(exe);
  free(spec);
}
END_TEST

/* Diabetes with holes: bmi missing on every 7th row, s5 on every 11th;
 * returns the file's path. */
static char *diabetes_with_holes(void) {
  char *src = test_path(root(), "examples/data/diabetes.csv"), *text = test_read_file(src, NULL);
  ck_assert_ptr_nonnull(text);
  char *path = test_path(tmp, "diabetes_na.csv");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  int row = -1;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), row++) {
    int field = 0;
    for (const char *c = line; *c; c++) {
      if (*c == ',') field++;
      bool hole = row >= 0 && ((field == 2 && row % 7 == 0) || (field == 8 && row % 11 == 0));
      if (*c == ',' || !hole) fputc(*c, f);
    }
    fputc('\n', f);
  }
  fclose(f);
  free(text);
  free(src);
  return path;
}

/* The spec over DATA with the cleaning chain's strategy and threshold, and TUNING after it. */
static char *cleaning_spec(const char *name, const char *data, const char *strategy, const char *threshold,
                           const char *tuning) {
  char file[64];
  snprintf(file, sizeof file, "%s.mlp", name);
  return write_spec(
      file,
      "pipeline %s {\n  data {\n    source = csv(\"%s\")\n    target = progression\n    clean {\n"
      "      impute(strategy = %s)\n      clip_outliers(threshold = %s)\n      standardize(numeric)\n    }\n"
      "    split(validation = 0.3, seed = 1)\n  }\n  model {\n    dense(8, activation = tanh)\n    output()\n"
      "  }\n  hyperparameters {\n    optimizer = adam(lr = 0.02)\n    epochs = 30\n    seed = 3\n  }\n%s}\n",
      name, data, strategy, threshold, tuning);
}

/* Cleaning choices are search dimensions: each trial's model reads the
 * data its cleaning values make (the plan shows each chain), the table and
 * trials.jsonl show the values, and the winner's weights, cleaning record
 * and predictor are exactly those of the spec with the winning values
 * written in. */
START_TEST(e2e_search_cleaning_choices) {
  char *data = diabetes_with_holes();
  char *spec = cleaning_spec("cleans", data, "mean", "3",
                             "  tuning {\n    data.clean.impute.strategy in [median, mode]\n"
                             "    data.clean.clip_outliers.threshold in [1.5, 2]\n  }\n");
  cJSON *ir = plan_of(spec);
  const cJSON *job;
  int trials = 0;
  cJSON_ArrayForEach(job, cJSON_GetObjectItem(ir, "jobs")) {
    if (cJSON_GetObjectItem(job, "trial")->valueint < 0) continue;
    trials++;
    const cJSON *set = cJSON_GetObjectItem(job, "settings");
    const cJSON *clean = cJSON_GetObjectItem(ir_model(ir, job), "clean");
    ck_assert_int_eq(cJSON_GetArraySize(clean), 3);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(clean, 0), "method")->valuestring,
                     cJSON_GetObjectItem(set, "data.clean.impute.strategy")->valuestring);
    double threshold = cJSON_GetObjectItem(set, "data.clean.clip_outliers.threshold")->valuedouble;
    const cJSON *clip = cJSON_GetArrayItem(clean, 1);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(clip, "param")->valuedouble, threshold, 1e-9);
  }
  ck_assert_int_eq(trials, 4);
  cJSON_Delete(ir);
  char *exe = test_path(tmp, "cleans.exe"), *run = test_path(tmp, "cleans.run");
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  const char *fit[] = {exe, "--out", run, "--tune", "--threads", "1", NULL};
  TestRun r = test_run(fit, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "data.clean.impute.strategy") && strstr(r.out, " mode "),
                "no cleaning column:\n%s", r.out);
  test_run_free(&r);
  char *path = test_path(run, "manifest.json"), *text = test_read_file(path, NULL);
  cJSON *m = cJSON_Parse(text);
  const cJSON *best = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "tuning"), "best_settings");
  ck_assert_msg(best, "the spec's own chain won: the search shows nothing");
  /* the trials differ: the values reach the data */
  cJSON *lines = cJSON_CreateArray();
  char *tpath = test_path(run, "trials.jsonl"), *ttext = test_read_file(tpath, NULL);
  double lo = INFINITY, hi = -INFINITY;
  for (char *line = strtok(ttext, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *t = cJSON_Parse(line);
    double v = cJSON_GetObjectItem(t, "val_loss")->valuedouble;
    lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "settings"), "data.clean.impute.strategy"));
    cJSON_AddItemToArray(lines, t);
  }
  ck_assert_int_eq(cJSON_GetArraySize(lines), 4);
  ck_assert_msg(hi > lo, "every cleaning choice scored %g", lo);
  char threshold[32];
  snprintf(threshold, sizeof threshold, "%g",
           cJSON_GetObjectItem(best, "data.clean.clip_outliers.threshold")->valuedouble);
  const char *strategy = cJSON_GetObjectItem(best, "data.clean.impute.strategy")->valuestring;
  char *plain = cleaning_spec("cleans_plain", data, strategy, threshold, "");
  expect_as_written(m, run, plain, "cleans_plain", true);
  free(plain);
  free(ttext);
  free(tpath);
  cJSON_Delete(lines);
  cJSON_Delete(m);
  free(text);
  free(path);
  free(run);
  free(exe);
  free(spec);
  free(data);
}
END_TEST

/* data.folds: the spec's own settings cross-validated without --tune: the
 * folds train (job 0 does not), then the refit on every training and
 * validation row takes the test. Given with a search, it is refused: the
 * folds of a search are tuning's. */
START_TEST(e2e_data_folds_cross_validate) {
  char *spec = write_spec("folds.mlp",
      "pipeline folds {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n    target = species\n"
      "    folds = 3\n    clean {\n      standardize(numeric)\n    }\n"
      "    split(validation = 0.2, test = 0.2, stratify = true)\n  }\n"
      "  model {\n    dense(8, activation = relu)\n    output(activation = softmax)\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.02)\n    epochs = 40\n  }\n}\n",
      root());
  char *exe = test_path(tmp, "folds.exe");
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  cJSON *m = train(exe, "folds.run", NULL);
  const cJSON *t = cJSON_GetObjectItem(m, "tuning");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "run")));
  ck_assert_int_eq(cJSON_GetObjectItem(t, "folds")->valueint, 3);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(t, "mean_objective")), 1);
  const cJSON *jobs = cJSON_GetObjectItem(m, "jobs");
  ck_assert_int_eq(cJSON_GetArraySize(jobs), 4); /* three folds and the refit */
  for (int f = 0; f < 3; f++)
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(jobs, f), "fold")->valueint, f);
  ck_assert_msg(test_metric(m, "accuracy") >= 0.85, "accuracy %.4f", test_metric(m, "accuracy"));
  cJSON_Delete(m);
  free(spec);
  spec = write_spec("folds_search.mlp",
      "pipeline folds_search {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
      "    target = species\n    folds = 3\n  }\n  model {\n    output()\n  }\n"
      "  tuning {\n    lr in [0.01, 0.1]\n  }\n}\n",
      root());
  const char *e[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  TestRun r = test_run(e, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, ":5:13: error: 'data.folds' cross-validates the spec's own settings"), "%s",
                r.err);
  test_run_free(&r);
  free(spec);
  free(exe);
}
END_TEST

/* The folds are cut as the split is. Grunfeld's firms have 20 rows each:
 * with split(group = firm) every fold holds out whole firms, even though
 * onehot replaces the column after the split; with split(time_order =
 * year) fold f holds out the f-th of four blocks at the end and trains on
 * the rows before it only (the training rows grow by a block a fold). */
START_TEST(e2e_folds_grouped_and_time) {
  const char *fmt =
      "pipeline gf {\n  data {\n    source = csv(\"%s/examples/data/grunfeld.csv\")\n    target = invest\n"
      "    schema {\n      year = text\n    }\n    folds = 4\n    clean {\n"
      "      parse_dates([year], format = \"%%Y\")\n      onehot([firm])\n      standardize(numeric)\n    }\n"
      "    split(validation = 0.2, test = 0.2, %s)\n  }\n  model {\n    linear_model()\n  }\n}\n";
  static const char *const how[] = {"group = firm", "time_order = year"};
  for (int t = 0; t < 2; t++) {
    char *spec = write_spec("gf.mlp", fmt, root(), how[t]);
    char *exe = test_path(tmp, t ? "gf_time.exe" : "gf_group.exe");
    const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
    test_run_ok(b);
    cJSON *m = train(exe, t ? "gf_time.run" : "gf_group.run", NULL);
    const cJSON *data = cJSON_GetObjectItem(m, "data");
    int pool = cJSON_GetObjectItem(data, "train")->valueint;
    pool += cJSON_GetObjectItem(data, "validation")->valueint;
    int held = 0, block = 0, trained = 0;
    const cJSON *jobs = cJSON_GetObjectItem(m, "jobs");
    ck_assert_int_eq(cJSON_GetArraySize(jobs), 5); /* four folds and the refit */
    for (int f = 0; f < 4; f++) {
      const cJSON *rows = cJSON_GetObjectItem(cJSON_GetArrayItem(jobs, f), "rows");
      ck_assert_ptr_nonnull(rows);
      int tr = cJSON_GetObjectItem(rows, "train")->valueint;
      int va = cJSON_GetObjectItem(rows, "validation")->valueint;
      held += va;
      if (t == 0) {
        ck_assert_msg(va % 20 == 0 && va > 0, "fold %d holds out %d rows: part of a firm", f, va);
        ck_assert_int_eq(tr + va, pool);
      } else {
        if (f == 0) block = va;
        ck_assert_int_eq(va, block);
        if (f > 0) ck_assert_int_eq(tr, trained + block); /* the previous fold's rows, then its block */
        trained = tr;
      }
    }
    ck_assert_int_eq(held, t ? 4 * (pool / 5) : pool);
    if (t) ck_assert_int_eq(trained + block, pool); /* the last block ends the pool */
    cJSON_Delete(m);
    free(exe);
    free(spec);
  }
}
END_TEST

/* data.repeats = 2 with folds = 3: six fold jobs, the two repeats cut
 * apart (they score differently), each holding out every pooled row once,
 * and the same run twice over for the seed. A repeat of folds that draw
 * nothing from the seed is refused, as is repeats without folds. */
START_TEST(e2e_folds_repeated) {
  const char *fmt = "pipeline rep {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
                    "    target = species\n    %s\n    split(validation = 0.2, test = 0.2%s)\n  }\n"
                    "  model {\n    linear_model()\n  }\n}\n";
  char *spec = write_spec("rep.mlp", fmt, root(), "folds = 3\n    repeats = 2", ", stratify = true");
  char *exe = test_path(tmp, "rep.exe");
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  cJSON *m = train(exe, "rep.run", NULL), *again = train(exe, "rep_again.run", NULL);
  const cJSON *t = cJSON_GetObjectItem(m, "tuning"), *jobs = cJSON_GetObjectItem(m, "jobs");
  ck_assert_int_eq(cJSON_GetObjectItem(t, "folds")->valueint, 6);
  ck_assert_int_eq(cJSON_GetObjectItem(t, "repeats")->valueint, 2);
  ck_assert_int_eq(cJSON_GetArraySize(jobs), 7); /* two repeats of three folds, and the refit */
  const cJSON *data = cJSON_GetObjectItem(m, "data");
  int pool = cJSON_GetObjectItem(data, "train")->valueint;
  pool += cJSON_GetObjectItem(data, "validation")->valueint;
  double loss[6];
  int held[2] = {0, 0};
  for (int f = 0; f < 6; f++) {
    const cJSON *j = cJSON_GetArrayItem(jobs, f);
    held[f / 3] += cJSON_GetObjectItem(cJSON_GetObjectItem(j, "rows"), "validation")->valueint;
    loss[f] = test_json_num(j, "metrics", "validation", "loss");
  }
  ck_assert_int_eq(held[0], pool);
  ck_assert_int_eq(held[1], pool);
  ck_assert_msg(loss[0] != loss[3] || loss[1] != loss[4] || loss[2] != loss[5],
                "the repeats cut the same folds");
  const cJSON *t2 = cJSON_GetObjectItem(again, "tuning");
  ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "mean_objective"), 0)->valuedouble,
                      cJSON_GetArrayItem(cJSON_GetObjectItem(t2, "mean_objective"), 0)->valuedouble);
  cJSON_Delete(m);
  cJSON_Delete(again);
  free(spec);
  static const char *const refused[][4] = {
      {"folds = 3\n    repeats = 2", ", time_order = sepal_length", ":6:15: error: 'repeats'",
       "folds draw nothing from the seed"},
      {"repeats = 2", "", ":5:15: error: 'repeats'", "give 'data.folds' beside it"}};
  for (int i = 0; i < 2; i++) {
    spec = write_spec("rep_bad.mlp", fmt, root(), refused[i][0], refused[i][1]);
    const char *e[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
    TestRun r = test_run(e, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, refused[i][2]) && strstr(r.err, refused[i][3]), "%s", r.err);
    test_run_free(&r);
    free(spec);
  }
  free(exe);
}
END_TEST

/* window(cols, size) is a lag step per step, the oldest first, each over
 * the listed columns in order: the features come step after step. A
 * step the trace refuses is reported at the window's own place. */
START_TEST(e2e_window_is_lags_step_by_step) {
  const char *fmt =
      "pipeline win {\n  data {\n    source = csv(\"%s/examples/data/grunfeld.csv\")\n"
      "    target = invest\n    clean {\n      sort_by([firm, year])\n"
      "      window(%s, size = 3, by = firm)\n      onehot([firm])\n    }\n  }\n"
      "  model {\n    linear_model()\n  }\n}\n";
  char *spec = write_spec("win.mlp", fmt, root(), "[invest, value]");
  const char *e[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  TestRun r = test_run(e, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  const cJSON *clean = cJSON_GetObjectItem(cJSON_GetObjectItem(ir, "data"), "clean");
  ck_assert_int_eq(cJSON_GetArraySize(clean), 5);
  for (int k = 0; k < 3; k++) {
    const cJSON *st = cJSON_GetArrayItem(clean, 1 + k);
    ck_assert_str_eq(cJSON_GetObjectItem(st, "op")->valuestring, "lag");
    ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "ints"), 0)->valueint, 3 - k);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "columns"), 1)->valuestring, "value");
    ck_assert_str_eq(cJSON_GetObjectItem(st, "by")->valuestring, "firm");
  }
  cJSON_Delete(ir);
  test_run_free(&r);
  free(spec);
  spec = write_spec("win_bad.mlp", fmt, root(), "[firm]");
  const char *bad[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  r = test_run(bad, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "win_bad.mlp:7:7: error: lag does not apply to 'firm'"), "%s", r.err);
  test_run_free(&r);
  free(spec);
}
END_TEST

/* The windowed forecaster (14 days of four values read as a sequence by
 * an LSTM) beats a linear model on the same window, split and cleaning. */
START_TEST(e2e_window_lstm_beats_lag_linear) {
  char *exe = build("seattle_window");
  cJSON *lstm = train(exe, "window_lstm", NULL);
  char *spec = write_spec("window_linear.mlp",
      "pipeline window_linear {\n  data {\n"
      "    source = csv(\"/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv\")\n"
      "    target = temp_max\n    clean {\n      sort_by([date])\n"
      "      window([temp_max, temp_min, precipitation, wind], size = 14)\n"
      "      drop_columns([date, temp_min, precipitation, wind, weather])\n      standardize(numeric)\n"
      "    }\n    split(validation = 0.15, test = 0.2, time_order = date)\n  }\n"
      "  model {\n    linear_model()\n  }\n}\n");
  char *lin_exe = test_path(tmp, "window_linear.exe");
  const char *b[] = {test_mlpc(), "build", spec, "-o", lin_exe, NULL};
  test_run_ok(b);
  cJSON *lin = train(lin_exe, "window_linear", NULL);
  double a = test_metric(lstm, "r2"), l = test_metric(lin, "r2");
  ck_assert_msg(a > l + 0.005, "the LSTM's test r2 %.4f does not beat the linear model's %.4f", a, l);
  cJSON_Delete(lstm);
  cJSON_Delete(lin);
  free(spec);
  free(lin_exe);
  free(exe);
}
END_TEST

START_TEST(e2e_resume_is_bit_identical) {
  char *exe = build("iris");
  /* 12 epochs straight, against 5 epochs and then a resume to 12. */
  const char *full[] = {"--set", "epochs=12", "--set", "early_stopping=0", NULL};
  cJSON *a = train(exe, "straight", full);
  const char *first[] = {"--set", "epochs=5", "--set", "early_stopping=0", NULL};
  cJSON_Delete(train(exe, "resumed", first));
  const char *rest[] = {"--set", "epochs=12", "--set", "early_stopping=0", "--resume", NULL};
  cJSON *b = train(exe, "resumed", rest);
  const cJSON *fit = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "jobs"), 0), "fit");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(fit, "resumed")));
  ck_assert_int_eq(cJSON_GetObjectItem(fit, "epochs_run")->valueint, 12);
  ck_assert_str_eq(artifact(a, "weights.bin"), artifact(b, "weights.bin"));
  cJSON_Delete(a);
  cJSON_Delete(b);
  free(exe);
}
END_TEST

START_TEST(e2e_sigkill_then_resume) {
  char *exe = build("digits");
  char *dir = test_path(tmp, "killed");
  pid_t pid = fork();
  if (pid == 0) {
    execl(exe, exe, "--out", dir, "--quiet", "--threads", "1", "--set", "early_stopping=0", "--set",
          "epochs=400", (char *)NULL);
    _exit(127);
  }
  char *ckpt = test_staged(dir, pid, "checkpoint.bin");
  /* Wait for the first checkpoint, then kill the run without warning. */
  struct timespec nap = {0, 5000000};
  for (int i = 0; i < 2000 && access(ckpt, F_OK) != 0; i++) nanosleep(&nap, NULL);
  ck_assert_int_eq(access(ckpt, F_OK), 0);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  ck_assert(WIFSIGNALED(st));
  const char *rest[] = {"--set", "early_stopping=0", "--set", "epochs=3", "--resume", NULL};
  char *man = NULL;
  {
    const char *argv[] = {exe,     "--out", dir,     "--quiet", "--threads", "1",
                          rest[0], rest[1], rest[2], rest[3],   rest[4],     NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "resume: %d: %s", r.status, r.err);
    test_run_free(&r);
    man = test_path(dir, "manifest.json");
  }
  char *text = test_read_file(man, NULL);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(strstr(text, "\"resumed\":\ttrue"));
  free(text);
  free(man);
  free(ckpt);
  free(dir);
  free(exe);
}
END_TEST

/* The smoke run stops with a diagnosis: a loss that does not move, and one
 * that explodes or becomes NaN (plain SGD with momentum at a far too large
 * learning rate on an unscaled regression target). */
START_TEST(e2e_smoke_run_diagnoses) {
  char *exe = build("iris");
  char *out = test_path(tmp, "smoke_flat");
  const char *flat[] = {exe, "--out", out, "--quiet", "--set", "lr=1e-9", NULL};
  TestRun r = test_run(flat, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "smoke run: the loss stayed at") && strstr(r.err, "raise the learning rate"),
                "%s",
                r.err);
  test_run_free(&r);
  free(out);
  free(exe);
  char *prog = test_path(tmp, "diverge");
  char *spec = write_spec("diverge.mlp",
      "pipeline diverge {\n  data {\n    source = csv(\"%s/examples/data/diabetes.csv\")\n"
      "    target = progression\n  }\n  model {\n    dense(32)\n    output(activation = linear)\n  }\n"
      "  hyperparameters {\n    optimizer = sgd(lr = 2, momentum = 0.9)\n  }\n"
      "  validation {\n    smoke(subset = 0.5, epochs = 5)\n  }\n}\n",
      root());
  const char *b[] = {test_mlpc(), "build", spec, "-o", prog, NULL};
  r = test_run(b, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  for (int i = 0; i < 2; i++) {
    out = test_path(tmp, i ? "smoke_big" : "smoke_nan");
    const char *run[] = {prog, "--out", out, "--quiet", "--set", i ? "lr=1.6" : "lr=2", NULL};
    r = test_run(run, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "smoke run: the training loss ") && strstr(r.err, "lower the learning rate"),
                  "%s", r.err);
    test_run_free(&r);
    free(out);
  }
  free(spec);
  free(prog);
}
END_TEST

/* What the spec asks and generated programs cannot do yet is said, never
 * skipped in silence; a resource limit the model breaks fails the build. */
START_TEST(e2e_limits_and_unbuilt_settings) {
  char *prog = test_path(tmp, "iris_warn");
  const char *b[] = {test_mlpc(), "build", "examples/iris.mlp", "-o", prog, NULL};
  TestRun r = test_run(b, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_null(strstr(r.err, "warning"));
  test_run_free(&r);
  char *spec = write_spec("limits.mlp",
      "pipeline limits {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
      "    target = species\n  }\n  model {\n    dense(8)\n    output()\n    max_params = 10\n  }\n}\n",
      root());
  const char *c[] = {test_mlpc(), "build", spec, "-o", prog, NULL};
  r = test_run(c, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_ptr_nonnull(
      strstr(r.err, ":9:18: error: the model has 67 parameters, more than max_params = 10"));
  test_run_free(&r);
  free(spec);
  free(prog);
}
END_TEST

/* The examples at their specs' own settings, each against the score it
 * must reach. */
static const struct {
  const char *name, *metric;
  double min;
} examples[] = {{"breast_cancer", "accuracy", 0.95},
                {"digits", "accuracy", 0.96},
                {"diabetes", "r2", 0.40},
                {"grunfeld", "r2", 0.75},
                {"seattle_temps", "r2", 0.70},
                {"seattle_window", "r2", 0.85},
                {"macro_sunspots", "r2", 0.92},
                {"austen_transformer", "accuracy", 0.70},
                {"wine", "accuracy", 0.95}};

/* The job a run directory's checkpoint belongs to (its header's first
 * field, after the 8-byte magic), or -1. */
static long checkpoint_job(const char *ckpt) {
  FILE *f = fopen(ckpt, "rb");
  int64_t job = -1;
  if (f) {
    if (fseek(f, 8, SEEK_SET) != 0 || fread(&job, sizeof job, 1, f) != 1) job = -1;
    fclose(f);
  }
  return (long)job;
}

START_TEST(e2e_tuning_survives_sigkill) {
  char *exe = build("iris");
  const char *opts[] = {"--tune", "--set", "epochs=40", "--set", "early_stopping=0", NULL};
  cJSON *straight = train(exe, "tune_straight", opts);
  char *dir = test_path(tmp, "tune_killed");
  pid_t pid = fork();
  if (pid == 0) {
    execl(exe, exe, "--out", dir, "--quiet", "--threads", "1", opts[0], opts[1], opts[2], opts[3], opts[4],
          (char *)NULL);
    _exit(127);
  }
  char *ckpt = test_staged(dir, pid, "checkpoint.bin");
  /* Kill it in the middle of the search, a few trials in. */
  struct timespec nap = {0, 1000000};
  for (int i = 0; i < 20000 && checkpoint_job(ckpt) < 12; i++) nanosleep(&nap, NULL);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  ck_assert_msg(WIFSIGNALED(st), "the search ended before it was killed");
  ck_assert_int_ge(checkpoint_job(ckpt), 12);
  const char *rest[] = {opts[0], opts[1], opts[2], opts[3], opts[4], "--resume", NULL};
  cJSON *resumed = train(exe, "tune_killed", rest);
  /* Earlier jobs are replayed, the checkpointed one resumes: same result. */
  ck_assert_str_eq(artifact(straight, "weights.bin"), artifact(resumed, "weights.bin"));
  cJSON_Delete(straight);
  cJSON_Delete(resumed);
  free(ckpt);
  free(dir);
  free(exe);
}
END_TEST

START_TEST(e2e_examples_meet_thresholds) {
  const char *name = examples[_i].name;
  char *exe = build(name);
  cJSON *m = train(exe, name, NULL);
  double v = test_metric(m, examples[_i].metric);
  ck_assert_msg(v >= examples[_i].min, "%s: test %s %.4f < %.2f", name, examples[_i].metric, v,
                examples[_i].min);
  cJSON_Delete(m);
  free(exe);
}
END_TEST

#ifndef __SANITIZE_ADDRESS__ /* see the suite below */
/* Heap allocations of one run of the iris program for the given epochs,
 * counted by tests/unit/malloc_count.c preloaded. */
static long allocations(const char *exe, const char *so, const char *epochs) {
  char *count = test_path(tmp, "count.txt"), *out = test_path(tmp, "counted");
  pid_t pid = fork();
  if (pid == 0) {
    setenv("LD_PRELOAD", so, 1);
    setenv("MLP_MALLOC_COUNT", count, 1);
    execl(exe, exe, "--out", out, "--quiet", "--threads", "1", "--set", epochs, "--set", "early_stopping=0",
          (char *)NULL);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char *text = test_read_file(count, NULL);
  ck_assert_ptr_nonnull(text);
  long n = strtol(text, NULL, 10);
  free(text);
  free(count);
  free(out);
  return n;
}

START_TEST(e2e_no_heap_in_training_loop) {
  char *exe = build("iris"), *so = test_path(tmp, "malloc_count.so");
  const char *cc[] = {"cc", "-shared", "-fPIC", "-O2", "-o", so, "tests/unit/malloc_count.c", NULL};
  TestRun r = test_run(cc, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  /* 40 more epochs are about 240 more optimizer steps (90 training rows,
   * batch 16); only the growth of the metrics buffer may allocate. */
  long few = allocations(exe, so, "epochs=5"), many = allocations(exe, so, "epochs=45");
  ck_assert_msg(few > 0, "the counter did not run");
  ck_assert_msg(many - few <= 8, "%ld allocations for 5 epochs, %ld for 45", few, many);
  free(so);
  free(exe);
}
END_TEST
#endif

/* iris.csv rewritten as JSON lines and as a ';'-separated file with a
 * "-" for a missing value; the spec text takes the source line. */
static char *iris_variant(const char *name, const char *source) {
  char *csv = test_read_file("examples/data/iris.csv", NULL);
  ck_assert_ptr_nonnull(csv);
  char *data = test_path(tmp, name);
  FILE *f = fopen(data, "w");
  bool json = strstr(name, ".jsonl") != NULL;
  int row = 0;
  for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n"), row++) {
    if (json && row == 0) continue;
    if (!json) {
      for (char *c = line; *c; c++)
        if (*c == ',') *c = ';';
      /* one missing measurement, imputed by the spec */
      fprintf(f, "%s\n", row == 7 ? "-;3.4;1.5;0.2;setosa" : line);
      continue;
    }
    double v[4];
    char species[32];
    ck_assert_int_eq(sscanf(line, "%lf,%lf,%lf,%lf,%31s", &v[0], &v[1], &v[2], &v[3], species), 5);
    fprintf(f,
            "{\"sepal_length\": %g, \"sepal_width\": %g, \"petal_length\": %g, \"petal_width\": %g, "
            "\"species\": \"%s\"}\n",
            v[0], v[1], v[2], v[3], species);
  }
  fclose(f);
  free(csv);
  char spec_name[64];
  snprintf(spec_name, sizeof spec_name, "%s.mlp", name);
  char *spec = write_spec(spec_name,
      "pipeline variant {\n  data {\n    source = %s\n    target = species\n"
      "    clean {\n      impute(numeric, strategy = median)\n      standardize(numeric)\n    }\n"
      "    split(validation = 0.2, test = 0.2, stratify = true)\n  }\n"
      "  model {\n    dense(16, activation = tanh)\n    output()\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.01)\n    batch = 16\n    epochs = 150\n  }\n}\n",
      source);
  free(data);
  return spec;
}

START_TEST(e2e_json_and_csv_options) {
  char *specs[] = {
      iris_variant("iris.jsonl", "json(\"iris.jsonl\", lines = true)"),
      iris_variant("iris_semi.csv", "csv(\"iris_semi.csv\", delimiter = \";\", na_values = [\"-\"])")};
  for (int i = 0; i < 2; i++) {
    char *exe = test_path(tmp, i ? "semi.exe" : "json.exe");
    const char *argv[] = {test_mlpc(), "build", specs[i], "-o", exe, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    test_run_free(&r);
    cJSON *m = train(exe, i ? "semi" : "json", NULL);
    double acc = test_metric(m, "accuracy");
    ck_assert_msg(acc >= 0.9, "%s: accuracy %.4f", specs[i], acc);
    /* The missing value was read as missing and imputed. */
    if (i == 1) {
      char *clean = test_path(tmp, "semi/cleaning.json");
      char *text = test_read_file(clean, NULL);
      ck_assert_ptr_nonnull(strstr(text, "\"imputed\":\t1"));
      free(text);
      free(clean);
    }
    cJSON_Delete(m);
    free(exe);
    free(specs[i]);
  }
}
END_TEST

/* split(time_order = ...) and split(group = ...) on iris, and a renamed
 * cleaning report. */
START_TEST(e2e_split_modes) {
  static const char *const splits[] = {"time_order = sepal_length", "group = petal_width"};
  for (int i = 0; i < 2; i++) {
    char name[32];
    snprintf(name, sizeof name, "split%d.mlp", i);
    char *spec = write_spec(name,
        "pipeline split%d {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
        "    target = species\n    cleaning_report = \"prep.json\"\n"
        "    clean {\n      standardize(numeric)\n    }\n"
        "    split(validation = 0.2, test = 0.2, %s)\n  }\n"
        "  model {\n    dense(8)\n    output()\n  }\n"
        "  hyperparameters {\n    epochs = 20\n  }\n}\n",
        i, root(), splits[i]);
    snprintf(name, sizeof name, "split%d.exe", i);
    char *exe = test_path(tmp, name);
    const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    test_run_free(&r);
    snprintf(name, sizeof name, "split%d", i);
    cJSON *m = train(exe, name, NULL);
    const cJSON *d = cJSON_GetObjectItem(m, "data");
    int nt = cJSON_GetObjectItem(d, "test")->valueint, nv = cJSON_GetObjectItem(d, "validation")->valueint;
    ck_assert_int_gt(nt, 0);
    ck_assert_int_gt(nv, 0);
    ck_assert_int_eq(nt + nv + cJSON_GetObjectItem(d, "train")->valueint, 150);
    if (i == 0) ck_assert_int_eq(nt, 30); /* a time split takes exact fractions */
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "artifacts"), "prep.json"));
    cJSON_Delete(m);
    free(exe);
    free(spec);
  }
}
END_TEST

/* Batch norm on real data: running statistics drive inference, and they
 * are saved after the weights. */
START_TEST(e2e_batchnorm) {
  char *spec = write_spec("bn.mlp",
      "pipeline bn {\n  data {\n    source = csv(\"%s/examples/data/digits.csv\")\n"
      "    target = digit\n    clean {\n      minmax(numeric)\n    }\n"
      "    split(validation = 0.15, test = 0.2, stratify = true)\n  }\n"
      "  model {\n    dense(64, activation = linear)\n    batchnorm()\n    dense(32, activation = relu)\n"
      "    output(activation = softmax)\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.003)\n    epochs = 30\n  }\n}\n",
      root());
  char *exe = test_path(tmp, "bn.exe");
  const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  cJSON *m = train(exe, "bn", NULL);
  double acc = test_metric(m, "accuracy");
  ck_assert_msg(acc >= 0.93, "digits with batch norm: test accuracy %.4f", acc);
  const cJSON *hp =
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "jobs"), 0), "hyperparameters");
  int params = cJSON_GetObjectItem(hp, "params")->valueint,
      state = cJSON_GetObjectItem(hp, "state_floats")->valueint;
  ck_assert_int_eq(state, 2 * 64);
  char *w = test_path(tmp, "bn/weights.bin");
  size_t len;
  char *bytes = test_read_file(w, &len);
  ck_assert_uint_eq(len, (size_t)(params + state) * 4);
  free(bytes);
  free(w);
  cJSON_Delete(m);
  free(exe);
  free(spec);
}
END_TEST

/* Two files with the same columns are one table. */
START_TEST(e2e_several_sources) {
  char *csv = test_read_file("examples/data/iris.csv", NULL);
  ck_assert_ptr_nonnull(csv);
  char *halves[2] = {test_path(tmp, "half_a.csv"), test_path(tmp, "half_b.csv")};
  FILE *f[2] = {fopen(halves[0], "w"), fopen(halves[1], "w")};
  int row = 0;
  for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n"), row++) {
    if (row == 0) fprintf(f[1], "%s\n", line); /* both halves have the header */
    fprintf(f[row == 0 || row % 2 ? 0 : 1], "%s\n", line);
  }
  fclose(f[0]);
  fclose(f[1]);
  free(csv);
  char *spec = write_spec("two.mlp",
      "pipeline two {\n  data {\n    source = [csv(\"half_a.csv\"), csv(\"half_b.csv\")]\n"
      "    target = species\n    clean {\n      standardize(numeric)\n    }\n"
      "    split(validation = 0.2, test = 0.2, stratify = true)\n  }\n"
      "  model {\n    dense(8)\n    output()\n  }\n"
      "  hyperparameters {\n    optimizer = adam(lr = 0.01)\n    epochs = 100\n  }\n}\n");
  char *exe = test_path(tmp, "two.exe");
  const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  cJSON *m = train(exe, "two", NULL);
  const cJSON *d = cJSON_GetObjectItem(m, "data");
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "paths")), 2);
  int rows = 0;
  static const char *const parts[] = {"train", "validation", "test"};
  for (int i = 0; i < 3; i++) rows += cJSON_GetObjectItem(d, parts[i])->valueint;
  ck_assert_int_eq(rows, 150);
  ck_assert(test_metric(m, "accuracy") >= 0.9);
  cJSON_Delete(m);
  free(exe);
  free(spec);
  free(halves[0]);
  free(halves[1]);
}
END_TEST

START_TEST(e2e_emit_ir_and_explain) {
  const char *argv[] = {test_mlpc(), "build", "examples/iris.mlp", "--emit-ir", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(ir);
  const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(ir, "models"), 0);
  /* 4 features -> 16 -> 16 -> 3 classes */
  ck_assert_int_eq(cJSON_GetObjectItem(m0, "params")->valueint, 4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3);
  ck_assert_str_eq(cJSON_GetObjectItem(m0, "task")->valuestring, "multiclass");
  const cJSON *j0 = cJSON_GetArrayItem(cJSON_GetObjectItem(ir, "jobs"), 0);
  ck_assert_int_eq(cJSON_GetObjectItem(j0, "epochs")->valueint, 200);
  cJSON_Delete(ir);
  test_run_free(&r);
  /* A declared type reaches the loader: text is not a feature. */
  char *spec = write_spec("declared.mlp",
      "pipeline declared {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
      "    target = species\n    schema {\n      sepal_length = text\n    }\n  }\n"
      "  model {\n    output()\n  }\n}\n",
      root());
  const char *decl[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  r = test_run(decl, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ir = cJSON_Parse(r.out);
  ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ir, "data"), "features")->valueint, 3);
  cJSON_Delete(ir);
  test_run_free(&r);
  free(spec);
  /* tuning { folds = 4 } alone: the spec's settings, cross-validated. */
  spec = write_spec("cv.mlp",
      "pipeline cv {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
      "    target = species\n  }\n  model {\n    output()\n  }\n  tuning {\n    folds = 4\n  }\n}\n",
      root());
  const char *cv[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  r = test_run(cv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ir = cJSON_Parse(r.out);
  ck_assert_int_eq(cJSON_GetObjectItem(ir, "folds")->valueint, 4);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ir, "jobs")), 5);
  cJSON_Delete(ir);
  test_run_free(&r);
  free(spec);
  const char *ex[] = {test_mlpc(), "explain", "examples/iris.mlp", NULL};
  r = test_run(ex, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_nonnull(strstr(r.out, "403 parameters"));
  ck_assert_ptr_nonnull(strstr(r.out, "(16, 3)"));
  ck_assert_ptr_nonnull(strstr(r.out, "memory: one arena of"));
  test_run_free(&r);
}
END_TEST

START_TEST(e2e_build_outputs_and_errors) {
  char *ll = test_path(tmp, "iris.ll"), *obj = test_path(tmp, "iris.o");
  const char *a1[] = {test_mlpc(), "build", "examples/iris.mlp", "--emit-llvm", "-o", ll, NULL};
  TestRun r = test_run(a1, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  char *text = test_read_file(ll, NULL);
  ck_assert_ptr_nonnull(strstr(text, "define i32 @main("));
  ck_assert_ptr_nonnull(strstr(text, "@mlprt_dense_forward"));
  free(text);
  const char *a2[] = {test_mlpc(), "build", "examples/iris.mlp", "--emit-obj", "-O0", "-o", obj, NULL};
  r = test_run(a2, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(access(obj, R_OK), 0);
  test_run_free(&r);
  /* Cross-compiling: an AArch64 object (ELF e_machine 183 at byte 18). */
  char *arm = test_path(tmp, "iris-arm.o");
  const char *a4[] = {test_mlpc(),  "build",    "examples/iris.mlp",
                      "--emit-obj", "--target", "aarch64-linux-gnu",
                      "-o",         arm,        NULL};
  r = test_run(a4, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  size_t len;
  unsigned char *elf = (unsigned char *)test_read_file(arm, &len);
  ck_assert(len > 20 && memcmp(elf,
                               "\x7f"
                               "ELF",
                               4) == 0);
  ck_assert_int_eq(elf[18] | elf[19] << 8, 183);
  free(elf);
  free(arm);
  const char *a5[] = {test_mlpc(), "build", "examples/iris.mlp", "--target", "nosuch-cpu-arch", NULL};
  r = test_run(a5, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "unknown target"));
  test_run_free(&r);
  /* IDX images are scaled by their range; another cleaning step is an
   * error, not a step silently skipped. */
  char *spec = write_spec("bad.mlp",
      "pipeline bad {\n  data {\n    source = idx(images = \"i.gz\", labels = \"l.gz\")\n"
      "    target = label\n    clean {\n      standardize(all)\n    }\n  }\n"
      "  model {\n    output()\n  }\n}\n");
  const char *a3[] = {test_mlpc(), "build", spec, NULL};
  r = test_run(a3, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_ptr_nonnull(strstr(r.err, ":6:7: error: cleaning step 'standardize' on IDX images"));
  test_run_free(&r);
  free(spec);
  free(ll);
  free(obj);
}
END_TEST

START_TEST(e2e_mlpc_run) {
  char *out = test_path(tmp, "viarun");
  /* A portable CPU baseline instead of this machine's, and -O1. */
  const char *argv[] = {test_mlpc(), "run", "examples/iris.mlp", "--cpu", "x86-64-v2", "-O1",
                        "--out",     out,   "--quiet",           "--set", "epochs=3",  NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  char *man = test_path(out, "manifest.json");
  char *text = test_read_file(man, NULL);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(strstr(text, "\"epochs_run\":\t3"));
  free(text);
  free(man);
  free(out);
}
END_TEST

/* --export-features writes each split's cleaned table as CSV and trains
 * nothing: iris's 149 distinct rows over the three files, the features
 * standardised on the training rows (mean 0 there), the target as text. */
START_TEST(e2e_export_features) {
  char *exe = build("iris");
  char *dir = test_path(tmp, "iris-features");
  char *out = test_path(tmp, "iris-export-run");
  const char *argv[] = {exe, "--export-features", dir, "--out", out, "--quiet", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  static const char *const files[3] = {"train.csv", "validation.csv", "test.csv"};
  int total = 0;
  for (int s = 0; s < 3; s++) {
    char *path = test_path(dir, files[s]);
    char *text = test_read_file(path, NULL);
    ck_assert_msg(text != NULL, "no %s", path);
    const char *line = strchr(text, '\n');
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(strncmp(text, "sepal_length,sepal_width,petal_length,petal_width,species\n",
                             (size_t)(line - text + 1)), 0);
    int rows = 0;
    double sum[4] = {0};
    for (line++; *line; rows++) {
      char *end;
      for (int k = 0; k < 4; k++) {
        sum[k] += strtod(line, &end);
        ck_assert_int_eq(*end, ',');
        line = end + 1;
      }
      ck_assert(strncmp(line, "setosa\n", 7) == 0 || strncmp(line, "versicolor\n", 11) == 0 ||
                strncmp(line, "virginica\n", 10) == 0);
      line = strchr(line, '\n') + 1;
    }
    ck_assert_int_gt(rows, 20);
    if (s == 0)
      for (int k = 0; k < 4; k++) ck_assert_double_lt(fabs(sum[k] / rows), 1e-3);
    total += rows;
    free(text);
    free(path);
  }
  ck_assert_int_eq(total, 149);
  ck_assert_int_ne(access(out, F_OK), 0); /* nothing was trained: no run directory */
  free(out);
  free(dir);
  free(exe);
}
END_TEST

/* A text column beside a number: rows of 4 to 15 words from 120, each of
 * three labels favouring its own third of them; into path. */
static void write_texts(const char *path, int rows, unsigned seed) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "text,x,label\n");
  for (int r = 0; r < rows; r++) {
    seed = seed * 1103515245u + 12345u;
    int label = (int)(seed >> 16) % 3, words = 4 + (int)(seed >> 8) % 12;
    for (int w = 0; w < words; w++) {
      seed = seed * 1103515245u + 12345u;
      int k = (int)(seed >> 16) % 120;
      if ((seed >> 4) % 3) k = label * 40 + k % 40;
      fprintf(f, "%sw%d", w ? " " : "", k);
    }
    fprintf(f, ",%.3f,%c\n", (double)((seed >> 20) % 1000) / 250.0 - 2.0, 'a' + label);
  }
  fclose(f);
}

static const char sparse_spec[] =
    "pipeline %s {\n"
    "  data {\n"
    "    source = csv(\"%s\")\n"
    "    test_source = csv(\"%s\")\n"
    "    target = label\n"
    "%s"
    "    split(validation = 0, test = 0)\n"
    "  }\n"
    "  model {\n"
    "    dense(32, activation = relu)\n"
    "    output(activation = softmax)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    optimizer = adam(lr = 0.01)\n"
    "    batch = 16\n"
    "    epochs = 1\n"
    "    seed = 7\n"
    "  }\n"
    "}\n";

/* The floats of a file (malloc'd), *n of them. */
static float *floats_of(const char *path, size_t *n) {
  size_t bytes;
  char *b = test_read_file(path, &bytes);
  ck_assert_msg(b != NULL, "no %s", path);
  *n = bytes / sizeof(float);
  return (float *)b;
}

/* A TF-IDF vectorizer feeding the first dense layer: the network reads
 * sparse rows (explain says so), and one epoch gives the weights and test
 * outputs of the same network trained on the same features written out
 * as ordinary columns (the dense path), within float rounding, and the
 * same bits when run again; its predictor answers as training did. */
START_TEST(e2e_sparse_text_equals_dense) {
  char *train_csv = test_path(tmp, "texts-train.csv"), *test_csv = test_path(tmp, "texts-test.csv");
  write_texts(train_csv, 240, 11);
  write_texts(test_csv, 60, 12);
  char *sparse = write_spec("texts-sparse.mlp", sparse_spec, "texts_sparse", train_csv, test_csv,
                            "    schema {\n      text = text\n    }\n"
                            "    clean {\n"
                            "      tfidf(text, max_vocab = 150, ngram = [1, 2], min_df = 2)\n"
                            "    }\n");
  const char *ex[] = {test_mlpc(), "explain", sparse, NULL};
  TestRun r = test_run(ex, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "input: sparse rows"), "%s", r.out);
  test_run_free(&r);
  char *srun = test_train(sparse, tmp, "texts_sparse");
  char *feats = test_export_features(tmp, "texts_sparse");
  char *ftrain = test_path(feats, "train.csv"), *ftest = test_path(feats, "test.csv");
  char *dense = write_spec("texts-dense.mlp", sparse_spec, "texts_dense", ftrain, ftest, "");
  const char *ex2[] = {test_mlpc(), "explain", dense, NULL};
  r = test_run(ex2, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "151 features"), "%s", r.out); /* the terms and x */
  ck_assert_ptr_null(strstr(r.out, "sparse rows"));
  test_run_free(&r);
  char *drun = test_train(dense, tmp, "texts_dense");
  char *ws = test_path(srun, "weights.bin"), *wd = test_path(drun, "weights.bin");
  size_t ns, nd;
  float *a = floats_of(ws, &ns), *b = floats_of(wd, &nd);
  ck_assert_uint_eq(ns, nd);
  ck_assert_uint_eq(ns, 151 * 32 + 32 + 32 * 3 + 3);
  double worst = 0;
  for (size_t i = 0; i < ns; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
  ck_assert_msg(worst <= 1e-5, "weights after one epoch differ by %g", worst);
  /* the test rows' outputs */
  char *ps = test_path(srun, "predictions.csv"), *pd = test_path(drun, "predictions.csv");
  char *ts = test_read_file(ps, NULL), *td = test_read_file(pd, NULL);
  char **ls, **ld;
  int nls = test_split_lines(ts, &ls), nld = test_split_lines(td, &ld);
  ck_assert_int_eq(nls, nld);
  ck_assert_int_gt(nls, 60);
  for (int i = 1; i < nls; i++) {
    char *fs[8], *fd[8];
    int k = test_csv_fields(ls[i], fs, 8), kd = test_csv_fields(ld[i], fd, 8);
    ck_assert_int_eq(k, kd);
    for (int j = 2; j < k; j++) /* row, label, then p_a, p_b, p_c */
      ck_assert_msg(fabs(strtod(fs[j], NULL) - strtod(fd[j], NULL)) <= 1e-5, "row %d: %s vs %s", i, fs[j],
                    fd[j]);
    test_fields_free(fs, k);
    test_fields_free(fd, kd);
  }
  printf("sparse text vs dense columns: weights within %.2e after one epoch\n", worst);
  /* a fixed seed trains the same bits again */
  char *exe = test_path(tmp, "texts_sparse.exe"), *again = test_path(tmp, "texts_sparse_again.run");
  const char *rerun[] = {exe, "--out", again, "--quiet", "--threads", "1", NULL};
  test_run_ok(rerun);
  char *wa = test_path(again, "weights.bin");
  size_t na;
  float *c = floats_of(wa, &na);
  ck_assert_uint_eq(na, ns);
  ck_assert_int_eq(memcmp(a, c, ns * sizeof *a), 0);
  free(c), free(wa), free(again), free(exe);
  char *pred = test_path(tmp, "texts_sparse_predict");
  test_predictor_as_trained(srun, pred, 1, "sparse text");
  free(ls), free(ld), free(ts), free(td), free(ps), free(pd), free(a), free(b), free(ws), free(wd);
  free(pred), free(drun), free(dense), free(ftrain), free(ftest), free(feats), free(srun), free(sparse);
  free(train_csv), free(test_csv);
}
END_TEST

Suite *e2e_suite(void); /* the runner finds it by name */
Suite *e2e_suite(void) {
  Suite *s = suite_create("e2e");
  TCase *tc = tcase_create("e2e");
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, e2e_iris_contract);
  tcase_add_test(tc, e2e_sparse_text_equals_dense);
  tcase_add_test(tc, e2e_smoke_run_diagnoses);
  tcase_add_test(tc, e2e_limits_and_unbuilt_settings);
  tcase_add_test(tc, e2e_tuning_trials);
  tcase_add_test(tc, e2e_successive_halving_matches_grid);
  tcase_add_test(tc, e2e_hyperband_matches_grid);
  tcase_add_test(tc, e2e_search_any_setting);
  tcase_add_test(tc, e2e_search_repeat_count);
  tcase_add_test(tc, e2e_search_cleaning_choices);
  tcase_add_test(tc, e2e_data_folds_cross_validate);
  tcase_add_test(tc, e2e_folds_grouped_and_time);
  tcase_add_test(tc, e2e_folds_repeated);
  tcase_add_test(tc, e2e_resume_is_bit_identical);
  tcase_add_test(tc, e2e_sigkill_then_resume);
  tcase_add_test(tc, e2e_tuning_survives_sigkill);
  tcase_add_test(tc, e2e_window_is_lags_step_by_step);
  tcase_add_test(tc, e2e_window_lstm_beats_lag_linear);
  tcase_add_loop_test(tc, e2e_examples_meet_thresholds, 0, (int)(sizeof examples / sizeof examples[0]));
#ifndef __SANITIZE_ADDRESS__
  /* AddressSanitizer must come first among the preloaded libraries, so
   * the allocation counter cannot run under it. */
  tcase_add_test(tc, e2e_no_heap_in_training_loop);
#endif
  tcase_add_test(tc, e2e_json_and_csv_options);
  tcase_add_test(tc, e2e_split_modes);
  tcase_add_test(tc, e2e_several_sources);
  tcase_add_test(tc, e2e_batchnorm);
  tcase_add_test(tc, e2e_emit_ir_and_explain);
  tcase_add_test(tc, e2e_build_outputs_and_errors);
  tcase_add_test(tc, e2e_mlpc_run);
  tcase_add_test(tc, e2e_export_features);
  suite_add_tcase(s, tc);
  return s;
}
