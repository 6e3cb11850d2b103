/* check_family.c — tuning over a model family, `model in [net, forest,
 * ...]`: networks and models fitted at once searched in one program (with
 * folds too), the winner the trial of the best validation objective (and
 * refitted with tuning.refit), its predictor answering as training did,
 * the errors at their spans; and search = tpe against random search. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Four architectures of every kind; the network answers two classes with
 * one sigmoid unit when `sigmoid`, as the fitted models do. */
static const char *architectures(bool sigmoid) {
  return sigmoid ? "architecture net { dense(16) dropout(0.1) output(activation = sigmoid) }\n"
                   "architecture forest { random_forest(trees = 30, max_depth = 6) }\n"
                   "architecture boost { gradient_boosting(trees = 30, max_depth = 3) }\n"
                   "architecture logit { linear_model(l2 = 0.01) }\n"
                 : "architecture net { dense(16) dropout(0.1) output() }\n"
                   "architecture forest { random_forest(trees = 30, max_depth = 6) }\n"
                   "architecture boost { gradient_boosting(trees = 30, max_depth = 3) }\n"
                   "architecture logit { linear_model(l2 = 0.01) }\n"
                   "recipe prep { standardize(numeric) }\n";
}

/* The example's data with model `net()` and `extra` after it, the
 * architectures before the pipeline: DIR/NAME.mlp (malloc'd path). */
static char *family_spec(const char *dir, const char *example, const char *name, const char *extra,
                         bool sigmoid) {
  char *spec = test_example_spec(dir, example, name, "net()", extra);
  char *text = test_read_file(spec, NULL);
  char *all = malloc(strlen(text) + 1024);
  sprintf(all, "%s%s", architectures(sigmoid), text);
  test_write_text(spec, all);
  free(all);
  free(text);
  return spec;
}

static const char *const family_tuning =
    "  hyperparameters { optimizer = adam(lr = 0.01)  batch = 16  epochs = 60 }\n"
    "  tuning {\n"
    "    model in [net, forest, boost, logit]\n"
    "    lr in [0.01, 0.003]\n"
    "    model.random_forest.max_depth in [3, 6]\n"
    "    model.linear_model.l2 in [0.001, 0.1]\n"
    "%s"
    "  }\n";

/* How many trials search the architecture `member`. */
static int count_member(const cJSON *trials, const char *member) {
  int n = 0;
  const cJSON *t;
  cJSON_ArrayForEach(t, trials) {
    const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "settings"), "model");
    n += cJSON_IsString(m) && strcmp(m->valuestring, member) == 0;
  }
  return n;
}

/* trials.jsonl as a JSON array. */
static cJSON *read_trials(const char *run) {
  char *path = test_path(run, "trials.jsonl"), *text = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(text);
  cJSON *all = cJSON_CreateArray();
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *j = cJSON_Parse(line);
    ck_assert_msg(j != NULL, "trials.jsonl: %s", line);
    cJSON_AddItemToArray(all, j);
  }
  free(text);
  free(path);
  return all;
}

/* On iris (three classes) and diabetes (a number), the family's trials are
 * each architecture's grid over the spaces that apply to it (net 2, forest
 * 2, boost 1, logit 2); the winner is the trial of the lowest validation
 * loss (or the spec's own job when lower), its model is the one kept, and
 * the predictor `mlpc export` builds of it answers the test rows as
 * training did; ONNX exports it too. */
static const char *const examples[] = {"iris", "diabetes"};

/* Build spec into RUN.exe and run its --tune on one thread into run. */
static TestRun tune(const char *spec, const char *run) {
  char exe[1100];
  snprintf(exe, sizeof exe, "%s.exe", run);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  const char *fit[] = {exe, "--out", run, "--tune", "--threads", "1", NULL};
  return test_run(fit, NULL);
}

START_TEST(family_tunes_and_exports_the_winner) {
  const char *example = examples[_i];
  char *dir = test_tmpdir(), extra[1024];
  snprintf(extra, sizeof extra, family_tuning, "");
  char *spec = family_spec(dir, example, "fam", extra, false);
  char run[1024];
  snprintf(run, sizeof run, "%s/fam.run", dir);
  TestRun r = tune(spec, run);
  ck_assert_msg(r.status == 0, "%s: %s", example, r.err);
  /* the table names each trial's architecture; a setting it does not search is "-" */
  ck_assert_msg(strstr(r.out, "trial fold model "), "%s: no model column:\n%s", example, r.out);
  ck_assert_msg(strstr(r.out, " forest    -         3 "), "%s: no forest row:\n%s", example, r.out);
  test_run_free(&r);
  cJSON *trials = read_trials(run), *man = test_read_json(run, "manifest.json");
  ck_assert_int_eq(cJSON_GetArraySize(trials), 7);
  ck_assert_int_eq(count_member(trials, "net"), 2);
  ck_assert_int_eq(count_member(trials, "forest"), 2);
  ck_assert_int_eq(count_member(trials, "boost"), 1);
  ck_assert_int_eq(count_member(trials, "logit"), 2);
  /* a whole model's trial searches none of the network's settings */
  const cJSON *t;
  int lowest = -1;
  double low = INFINITY;
  cJSON_ArrayForEach(t, trials) {
    const cJSON *set = cJSON_GetObjectItem(t, "settings");
    const char *m = cJSON_GetObjectItem(set, "model")->valuestring;
    ck_assert_msg(cJSON_HasObjectItem(set, "lr") == (strcmp(m, "net") == 0), "%s: lr searched for %s",
                  example, m);
    double v = test_json_num(t, "val_loss", NULL, NULL);
    if (v < low) low = v, lowest = (int)test_json_num(t, "trial", NULL, NULL);
  }
  const cJSON *tune = cJSON_GetObjectItem(man, "tuning");
  const cJSON *job0 = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0);
  double own = test_json_num(job0, "metrics", "validation", "loss");
  int best = (int)test_json_num(tune, "best_trial", NULL, NULL);
  ck_assert_msg(best == (own <= low ? -1 : lowest),
                "%s: best trial %d, lowest val_loss %g (trial %d), own %g", example, best, low, lowest, own);
  if (best >= 0) {
    /* the kept model is the winner's, named by its architecture */
    const cJSON *won = cJSON_GetArrayItem(trials, best);
    const cJSON *want = cJSON_GetObjectItem(cJSON_GetObjectItem(won, "settings"), "model");
    const cJSON *got = cJSON_GetObjectItem(cJSON_GetObjectItem(tune, "best_settings"), "model");
    ck_assert_str_eq(got->valuestring, want->valuestring);
    char *report = test_path(run, "report.html"), *html = test_read_file(report, NULL);
    ck_assert_msg(strstr(html, "The winning architecture: <b>"), "%s: the report names no architecture",
                  example);
    free(html);
    free(report);
  }
  char *pred = test_path(dir, "pred"), *onnx = test_path(dir, "fam.onnx");
  test_predictor_as_trained(run, pred, 1, example);
  const char *x[] = {test_mlpc(), "export", run, "--onnx", onnx, NULL};
  test_run_ok(x);
  size_t len = 0;
  free(test_read_file(onnx, &len));
  ck_assert_int_gt((int)len, 100);
  free(onnx);
  free(pred);
  cJSON_Delete(man);
  cJSON_Delete(trials);
  free(spec);
  free(dir);
}
END_TEST

/* With folds each trial's folds fit its own architecture, the winner is the
 * trial of the best mean objective, refitted on every training and
 * validation row, and its predictor answers as training did. */
START_TEST(family_with_folds) {
  char *dir = test_tmpdir(), extra[1024];
  snprintf(extra, sizeof extra, family_tuning, "    folds = 3\n    objective = val_accuracy\n");
  char *spec = family_spec(dir, "breast_cancer", "fam", extra, true);
  char *run = test_path(dir, "fam.run");
  TestRun r = tune(spec, run);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *tune = cJSON_GetObjectItem(man, "tuning"), *objs = cJSON_GetObjectItem(tune, "mean_objective");
  ck_assert_int_eq(cJSON_GetArraySize(objs), 7);
  int best = (int)test_json_num(tune, "best_trial", NULL, NULL);
  for (int t = 0; t < 7; t++)
    ck_assert_msg(cJSON_GetArrayItem(objs, t)->valuedouble <= cJSON_GetArrayItem(objs, best)->valuedouble,
                  "trial %d has a better mean than the winner %d", t, best);
  /* 7 trials x 3 folds, the refit, and job 0 */
  const cJSON *job;
  int folds = 0, refit = 0;
  cJSON_ArrayForEach(job, cJSON_GetObjectItem(man, "jobs")) {
    folds += cJSON_HasObjectItem(job, "fold");
    refit += cJSON_HasObjectItem(job, "trial") && !cJSON_HasObjectItem(job, "fold");
  }
  ck_assert_int_eq(folds, 21);
  ck_assert_int_eq(refit, 1);
  char *pred = test_path(dir, "pred");
  test_predictor_as_trained(run, pred, 1, "breast_cancer");
  free(pred);
  cJSON_Delete(man);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* tuning.refit without folds: the winner of the validation split (job w)
 * trains again, as job 8 after job 0 and the 7 trials, with w's settings,
 * a network for w's best epoch count, and the run's test scores and
 * predictor are the refit's. */
START_TEST(family_refit_without_folds) {
  char *dir = test_tmpdir(), extra[1024];
  snprintf(extra, sizeof extra, family_tuning, "    refit = true\n");
  char *spec = family_spec(dir, "iris", "fam", extra, false);
  char *run = test_path(dir, "fam.run");
  TestRun r = tune(spec, run);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "refitting the winner (job "), "no refit line:\n%s", r.out);
  test_run_free(&r);
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *jobs = cJSON_GetObjectItem(man, "jobs"), *tune = cJSON_GetObjectItem(man, "tuning");
  ck_assert_int_eq(cJSON_GetArraySize(jobs), 9);
  const cJSON *refit = cJSON_GetArrayItem(jobs, 8);
  ck_assert_int_eq((int)test_json_num(refit, "job", NULL, NULL), 8);
  int best = (int)test_json_num(tune, "best_trial", NULL, NULL);
  const cJSON *won = cJSON_GetArrayItem(jobs, best + 1);
  ck_assert_int_eq((int)test_json_num(won, "job", NULL, NULL), best + 1);
  if (best >= 0) {
    char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(won, "settings"));
    char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(refit, "settings"));
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
  }
  const cJSON *hp = cJSON_GetObjectItem(refit, "hyperparameters");
  if (!cJSON_HasObjectItem(hp, "fit"))
    ck_assert_int_eq((int)test_json_num(hp, "epochs", NULL, NULL), (int)test_json_num(won, "fit", "best_epoch",
                                                                                       NULL));
  ck_assert_double_eq(test_json_num(man, "metrics", "test", "accuracy"),
                      test_json_num(refit, "metrics", "test", "accuracy"));
  char *pred = test_path(dir, "pred");
  test_predictor_as_trained(run, pred, 1, "iris");
  free(pred);
  cJSON_Delete(man);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* search = tpe over a network's lr (a log range) and epochs (an integer
 * range) on iris, scored by the validation loss. */
static const char *const tpe_tuning =
    "  hyperparameters { optimizer = adam(lr = 0.01)  batch = 16  epochs = 20 }\n"
    "  tuning {\n"
    "    search = %s\n"
    "    lr in logrange(1e-5, 1)\n"
    "    epochs in 5 .. 40\n"
    "    objective = val_loss\n"
    "  }\n";

/* The trials of a tuned run of that spec with `search`, into dir/NAME. */
static cJSON *tpe_trials(const char *dir, const char *name, const char *search) {
  char extra[1024];
  snprintf(extra, sizeof extra, tpe_tuning, search);
  char *spec = test_example_spec(dir, "iris", name, "dense(16)\n    output()", extra);
  char *run = test_path(dir, name);
  TestRun r = tune(spec, run);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  cJSON *trials = read_trials(run);
  free(run);
  free(spec);
  return trials;
}

/* A trial's settings and validation loss, to the bit. */
static char *trial_text(const cJSON *t) {
  char *set = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "settings")), *text = malloc(strlen(set) + 64);
  sprintf(text, "%s %.17g", set, test_json_num(t, "val_loss", NULL, NULL));
  free(set);
  return text;
}

/* TPE's first `startup` trials are random search's draws for the seed; the
 * later ones, chosen from the trials before, find a validation loss at
 * least as low as random search's 16 trials; a second run is the same to
 * the bit. */
START_TEST(tpe_beats_random_reproducibly) {
  char *dir = test_tmpdir();
  cJSON *rnd = tpe_trials(dir, "random", "random(trials = 16, seed = 3)");
  cJSON *tpe = tpe_trials(dir, "tpe", "tpe(trials = 16, seed = 3, startup = 6)");
  cJSON *again = tpe_trials(dir, "again", "tpe(trials = 16, seed = 3, startup = 6)");
  ck_assert_int_eq(cJSON_GetArraySize(tpe), 16);
  double best[2] = {INFINITY, INFINITY};
  for (int i = 0; i < 16; i++) {
    char *r = trial_text(cJSON_GetArrayItem(rnd, i)), *t = trial_text(cJSON_GetArrayItem(tpe, i));
    char *a = trial_text(cJSON_GetArrayItem(again, i));
    if (i < 6) ck_assert_str_eq(t, r);
    ck_assert_str_eq(t, a);
    best[0] = fmin(best[0], test_json_num(cJSON_GetArrayItem(rnd, i), "val_loss", NULL, NULL));
    best[1] = fmin(best[1], test_json_num(cJSON_GetArrayItem(tpe, i), "val_loss", NULL, NULL));
    free(r);
    free(t);
    free(a);
  }
  fprintf(stderr, "tpe: best validation loss %.4f, random search's %.4f (16 trials each)\n", best[1],
          best[0]);
  ck_assert_msg(best[1] <= best[0], "tpe %g, random %g", best[1], best[0]);
  cJSON_Delete(again);
  cJSON_Delete(tpe);
  cJSON_Delete(rnd);
  /* what the program cannot set as it runs, nor compile a model for, is refused at its space */
  test_expect_refused(dir, "iris", "dense(16)\n    output()",
                      "  tuning {\n    search = tpe()\n    optimizer.beta1 in [0.8, 0.9]\n  }\n",
                      "tpe chooses a trial's values as the program runs");
  test_expect_refused(dir, "iris", "dense(16)\n    dropout()\n    output()",
                      "  tuning {\n    search = tpe()\n    model.dropout.rate in 0.1 .. 0.5\n  }\n",
                      "tpe compiles a model for each value of 'model.dropout.rate'");
  free(dir);
}
END_TEST

/* The IR model a manifest's job trained: its layers' ops and widths, and dropout rates, as text. */
static char *job_layers(const cJSON *ir, const cJSON *job) {
  int model = (int)test_json_num(job, "model", NULL, NULL);
  const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(ir, "models"), model);
  char *text = calloc(1, 1024);
  size_t n = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, cJSON_GetObjectItem(m, "layers")) {
    n += (size_t)snprintf(text + n, 1024 - n, "%s %d %s %g; ", cJSON_GetObjectItem(l, "op")->valuestring,
                          cJSON_GetArrayItem(cJSON_GetObjectItem(l, "out_shape"), 1)->valueint,
                          cJSON_GetObjectItem(l, "activation")->valuestring,
                          cJSON_GetObjectItem(l, "rate")->valuedouble);
  }
  n += (size_t)snprintf(text + n, 1024 - n, "batch %d", (int)test_json_num(m, "batch", NULL, NULL));
  return text;
}

/* The manifest of a run of iris with the tuned spec's settings `set` written in (dir/NAME.run). */
static cJSON *written_in(const char *dir, const char *name, const cJSON *set) {
  char model[256], extra[256], file[64];
  snprintf(model, sizeof model, "dense(%d, activation = %s)\n    dropout(%g)\n    output()",
           cJSON_GetObjectItem(set, "model.dense.units")->valueint,
           cJSON_GetObjectItem(set, "model.dense.activation")->valuestring,
           cJSON_GetObjectItem(set, "model.dropout.rate")->valuedouble);
  snprintf(extra, sizeof extra,
           "  hyperparameters { optimizer = adam(lr = 0.02)  epochs = 15  seed = 5  batch = %d }\n",
           cJSON_GetObjectItem(set, "batch")->valueint);
  char *spec = test_example_spec(dir, "iris", name, model, extra);
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(dir, file);
  TestRun r = tune(spec, run);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  cJSON *man = test_read_json(run, "manifest.json");
  free(run);
  free(spec);
  return man;
}

/* search = tpe over what shapes the model (layer widths, an activation,
 * a dropout rate, the batch): the program compiles a model for each
 * combination, the estimator chooses a combination for every trial after
 * the startup ones, and the trial trains the model of its values: its
 * layers are those of the spec with the values written in, and so are the
 * last (chosen) trial's and the winner's trainings, to the bit. A second
 * run chooses alike. */
START_TEST(tpe_searches_what_shapes_the_model) {
  char *dir = test_tmpdir();
  const char *tuning = "  hyperparameters { optimizer = adam(lr = 0.02)  epochs = 15  seed = 5 }\n"
                       "  tuning {\n    search = tpe(trials = 10, seed = 3, startup = 3)\n"
                       "    model.dense.units in [4, 8, 16]\n    model.dense.activation in [relu, tanh]\n"
                       "    model.dropout.rate in [0, 0.3]\n    batch in [16, 32]\n  }\n";
  const char *model = "dense(8)\n    dropout(0.1)\n    output()";
  char *spec = test_example_spec(dir, "iris", "shape", model, tuning);
  const char *e[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  TestRun r = test_run(e, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  test_run_free(&r);
  /* a model for each of the 3 x 2 x 2 x 2 combinations */
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(ir, "tpe"), "models")), 24);
  char *run = test_path(dir, "shape.run"), *again = test_path(dir, "again.run");
  r = tune(spec, run);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  r = tune(spec, again);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  cJSON *trials = read_trials(run), *twice = read_trials(again), *man = test_read_json(run, "manifest.json");
  ck_assert_int_eq(cJSON_GetArraySize(trials), 10);
  for (int t = 0; t < 10; t++) {
    char *a = trial_text(cJSON_GetArrayItem(trials, t)), *b = trial_text(cJSON_GetArrayItem(twice, t));
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
  }
  /* each trial's job trained the layers its settings say */
  const cJSON *job;
  cJSON_ArrayForEach(job, cJSON_GetObjectItem(man, "jobs")) {
    const cJSON *set = cJSON_GetObjectItem(job, "settings");
    if (!set) continue;
    char want[256], *got = job_layers(ir, job);
    snprintf(want, sizeof want, "dense %d %s 0; dropout %d linear %g; dense 3 softmax 0; batch %d",
             cJSON_GetObjectItem(set, "model.dense.units")->valueint,
             cJSON_GetObjectItem(set, "model.dense.activation")->valuestring,
             cJSON_GetObjectItem(set, "model.dense.units")->valueint,
             cJSON_GetObjectItem(set, "model.dropout.rate")->valuedouble,
             cJSON_GetObjectItem(set, "batch")->valueint);
    ck_assert_str_eq(got, want);
    free(got);
  }
  /* the last trial, chosen by the estimator, trained as the spec with its values written in does */
  const cJSON *last = cJSON_GetArrayItem(trials, 9);
  cJSON *lman = written_in(dir, "last", cJSON_GetObjectItem(last, "settings"));
  const cJSON *own = cJSON_GetArrayItem(cJSON_GetObjectItem(lman, "jobs"), 0);
  ck_assert_double_eq(test_json_num(own, "metrics", "validation", "loss"),
                      test_json_num(last, "val_loss", NULL, NULL));
  cJSON_Delete(lman);
  /* and the winner's weights are that spec's */
  const cJSON *best = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "tuning"), "best_settings");
  ck_assert_msg(best, "the spec's own settings won");
  cJSON *pman = written_in(dir, "plain", best);
  const cJSON *wa = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "artifacts"), "weights.bin");
  const cJSON *wb = cJSON_GetObjectItem(cJSON_GetObjectItem(pman, "artifacts"), "weights.bin");
  ck_assert_str_eq(wa->valuestring, wb->valuestring);
  cJSON_Delete(pman);
  cJSON_Delete(man);
  cJSON_Delete(twice);
  cJSON_Delete(trials);
  cJSON_Delete(ir);
  free(again);
  free(run);
  free(spec);
  free(dir);
}
END_TEST

/* Build a spec of the example's data with the architectures and `extra`;
 * it must fail with `message` at the line and column where `token` is
 * written on the line that holds `line` (the first such token). */
static void refused_at(const char *example, const char *extra, const char *line, const char *token,
                       const char *message, bool sigmoid) {
  char *dir = test_tmpdir(), *spec = family_spec(dir, example, "bad", extra, sigmoid);
  char *text = test_read_file(spec, NULL), *at = strstr(text, line);
  ck_assert_msg(at != NULL, "no '%s' in the spec", line);
  int ln = 1;
  for (const char *p = text; p < at; p++) ln += *p == '\n';
  char *bol = at;
  while (bol > text && bol[-1] != '\n') bol--;
  int col = (int)(strstr(at, token) - bol) + 1;
  const char *argv[] = {test_mlpc(), "build", spec, "-o", "/dev/null", NULL};
  TestRun r = test_run(argv, NULL);
  char want[1024];
  snprintf(want, sizeof want, "%s:%d:%d: error: %s", spec, ln, col, message);
  ck_assert_msg(r.status == 1, "%s: built", extra);
  ck_assert_msg(strstr(r.err, want), "want '%s' in:\n%s", want, r.err);
  test_run_free(&r);
  free(text);
  free(spec);
  free(dir);
}

START_TEST(family_errors_at_their_spans) {
  refused_at("iris", "  tuning { model in [net, frest] }\n", "model in", "frest",
             "unknown architecture 'frest'; did you mean 'forest'?", false);
  refused_at("iris", "  tuning { model in [net, dense] }\n", "model in", "dense",
             "'dense' is an op; a model family lists architectures", false);
  refused_at("iris", "  tuning { model in [net, prep] }\n", "model in", "prep",
             "'prep' is a recipe, not an architecture", false);
  refused_at("iris", "  tuning { model in [net, forest, net] }\n", "model in", "net]",
             "the model family lists 'net' twice", false);
  refused_at("iris", "  tuning { model in net }\n", "model in", "net }",
             "a model family is a list of architectures", false);
  refused_at("iris", "  tuning {\n    model in [net, forest]\n    model.svm.c in [1, 2]\n  }\n", "model.svm",
             "model.svm", "no architecture of the model family has 'model.svm.c'", false);
  refused_at("iris", "  tuning {\n    model in [forest, logit]\n    lr in [0.1, 0.01]\n  }\n", "lr in", "lr",
             "`lr` is a setting of networks, and no architecture of the model family is one", false);
  refused_at("iris", "  tuning {\n    model in [net, forest]\n    search = successive_halving()\n  }\n",
             "model in", "forest", "successive_halving halves epochs, and 'forest' is a model fitted at once",
             false);
  refused_at("iris", "  tuning {\n    model in [net, forest]\n    folds = 3\n    refit = false\n  }\n",
             "refit", "false", "with folds the winner is always refitted", false);
  refused_at("iris", "  tuning {\n    refit = true\n  }\n", "refit", "true",
             "'refit' refits the winner of a search, and the tuning block searches no space", false);
  /* two classes: a softmax network against one sigmoid unit */
  refused_at("breast_cancer", "  tuning { model in [net, forest] }\n", "model in", "forest",
             "'forest' answers 1 sigmoid output and the spec's model 2 softmax outputs", false);
  /* a fitted model of the spec's own beside a family with a network: the loop's settings are the network's */
  char *okdir = test_tmpdir();
  char *spec = family_spec(okdir, "iris", "own", "  hyperparameters { epochs = 20 }\n"
                                                 "  tuning { model in [net, logit] }\n", false);
  char *text = test_read_file(spec, NULL), *at = strstr(text, "    net()\n");
  ck_assert_ptr_nonnull(at);
  memcpy(at, "  logit()\n", 10); /* as long as "    net()\n" */
  test_write_text(spec, text);
  const char *argv[] = {test_mlpc(), "build", spec, "-o", "/dev/null", NULL};
  test_run_ok(argv);
  free(text);
  free(spec);
  free(okdir);
  /* with no network in the family, the training loop's settings are still refused for a fitted model */
  char *dir = test_tmpdir();
  test_expect_refused(dir, "iris", "random_forest()",
                      "  hyperparameters { epochs = 5 }\n"
                      "  tuning { model.random_forest.max_depth in [3, 6] }\n",
                      "`hyperparameters.epochs` does not apply to a model fitted at once");
  free(dir);
}
END_TEST

Suite *family_suite(void); /* the runner finds it by name */
Suite *family_suite(void) {
  Suite *s = suite_create("family");
  TCase *tc = tcase_create("family");
  tcase_set_timeout(tc, 240);
  tcase_add_loop_test(tc, family_tunes_and_exports_the_winner, 0, (int)(sizeof examples / sizeof *examples));
  tcase_add_test(tc, family_with_folds);
  tcase_add_test(tc, family_refit_without_folds);
  tcase_add_test(tc, tpe_beats_random_reproducibly);
  tcase_add_test(tc, tpe_searches_what_shapes_the_model);
  tcase_add_test(tc, family_errors_at_their_spans);
  suite_add_tcase(s, tc);
  return s;
}
