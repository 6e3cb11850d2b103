/* check_settings.c — training settings end to end, from the spec through
 * --emit-ir to what the trained run shows: Nesterov momentum, min_lr of
 * cosine and plateau, label smoothing, blas_threads, monitor,
 * analysis.metrics (manifest, console, report), the test / validation
 * naming of the final scores (manifest, console, report, model card, `mlpc
 * versions`, `mlpc explain`), the smoke run's subset and its divergence
 * checks, and model.pretrained (checked at compile time, its weights the
 * start). */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mlp/files.h"
#include "mlp/tensor.h"
#include "testutil.h"

static char *tmp;

static void setup(void) {
  tmp = test_tmpdir();
}

static void teardown(void) {
  free(tmp);
}

static const char *root(void) {
  const char *p = getenv("PWD");
  return p ? p : ".";
}

/* tmp/NAME.mlp: an iris pipeline (dense(16), softmax) with the given split
 * test fraction, lines added to the model and hyperparameters blocks, and
 * further sections; its path (malloc'd). */
static char *iris_spec(const char *name, const char *data, double test, const char *model, const char *hyper,
                       const char *more) {
  char file[128], *text;
  snprintf(file, sizeof file, "%s.mlp", name);
  char *path = test_path(tmp, file);
  ck_assert_int_ge(asprintf(&text,
                            "pipeline %s {\n  data {\n    source = csv(\"%s\")\n    target = species\n"
                            "    clean { standardize(numeric) }\n"
                            "    split(validation = 0.2, test = %g, stratify = true, seed = 1)\n  }\n"
                            "  model {\n%s    dense(16)\n    output()\n  }\n"
                            "  hyperparameters {\n%s  }\n%s}\n",
                            name, data, test, model, hyper, more),
                   0);
  test_write_text(path, text);
  free(text);
  return path;
}

static char *iris_data(void) {
  char *p;
  ck_assert_int_ge(asprintf(&p, "%s/examples/data/iris.csv", root()), 0);
  return p;
}

static char *read_text(const char *dir, const char *file) {
  char *path = test_path(dir, file);
  char *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "no %s", path);
  free(path);
  return text;
}

static const cJSON *get(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItem(o, key);
  ck_assert_msg(v != NULL, "no '%s'", key);
  return v;
}

/* `mlpc build SPEC --emit-ir`, parsed. */
static cJSON *emit_ir(const char *spec) {
  const char *argv[] = {test_mlpc(), "build", spec, "--emit-ir", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(ir);
  test_run_free(&r);
  return ir;
}

/* `mlpc build SPEC` must fail with each of the texts in its errors. */
static void build_fails(const char *spec, const char *want) {
  char *exe = test_path(tmp, "failed.exe");
  const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, want) != NULL, "wanted '%s' in: %s", want, r.err);
  test_run_free(&r);
  free(exe);
}

/* The value of "key": in each metrics.jsonl line of job 0, in order. */
static int epoch_values(const char *run, const char *key, double *out, int max) {
  char *text = read_text(run, "metrics.jsonl");
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  int n = 0;
  for (const char *p = strstr(text, pat); p && n < max; p = strstr(p + 1, pat))
    out[n++] = strtod(p + strlen(pat), NULL);
  free(text);
  return n;
}

START_TEST(settings_change_the_ir) {
  char *data = iris_data();
  char *plain = iris_spec("plain", data, 0.2, "",
                          "    optimizer = sgd(lr = 0.05, momentum = 0.9)\n"
                          "    schedule = cosine()\n",
                          "");
  char *set =
      iris_spec("set", data, 0.2, "",
                "    optimizer = sgd(lr = 0.05, momentum = 0.9, nesterov = true)\n"
                "    schedule = cosine(min_lr = 0.002)\n"
                "    loss = cross_entropy(label_smoothing = 0.1)\n",
                "  environment {\n    blas_threads = 2\n    deterministic = false\n    monitor = true\n  }\n"
                "  analysis {\n    metrics = [accuracy, auc]\n  }\n");
  cJSON *a = emit_ir(plain), *b = emit_ir(set);
  const cJSON *ja = cJSON_GetArrayItem(get(a, "jobs"), 0), *jb = cJSON_GetArrayItem(get(b, "jobs"), 0);
  ck_assert(cJSON_IsFalse(get(get(ja, "optimizer"), "nesterov")));
  ck_assert(cJSON_IsTrue(get(get(jb, "optimizer"), "nesterov")));
  ck_assert_double_eq(get(get(ja, "schedule"), "min_lr")->valuedouble, 0);
  ck_assert_double_eq_tol(get(get(jb, "schedule"), "min_lr")->valuedouble, 0.002, 1e-9);
  const cJSON *ma = cJSON_GetArrayItem(get(a, "models"), 0), *mb = cJSON_GetArrayItem(get(b, "models"), 0);
  ck_assert_double_eq(get(ma, "label_smoothing")->valuedouble, 0);
  ck_assert_double_eq_tol(get(mb, "label_smoothing")->valuedouble, 0.1, 1e-7);
  ck_assert_int_eq(get(get(a, "environment"), "blas_threads")->valueint, 0);
  ck_assert_int_eq(get(get(b, "environment"), "blas_threads")->valueint, 2);
  ck_assert(cJSON_IsFalse(get(get(a, "environment"), "monitor")));
  ck_assert(cJSON_IsTrue(get(get(b, "environment"), "monitor")));
  /* analysis.metrics: the registry's default for a categorical target, or the list. */
  char *ma_text = cJSON_PrintUnformatted(get(get(a, "analysis"), "metrics")),
       *mb_text = cJSON_PrintUnformatted(get(get(b, "analysis"), "metrics"));
  ck_assert_str_eq(ma_text, "[\"accuracy\",\"confusion\"]");
  ck_assert_str_eq(mb_text, "[\"accuracy\",\"auc\"]");
  free(ma_text);
  free(mb_text);
  cJSON_Delete(a);
  cJSON_Delete(b);
  /* What cannot act is an error at its place. */
  char *bad = iris_spec("bad2", data, 0.2, "", "", "  analysis {\n    metrics = [accuracy, rmse]\n  }\n");
  build_fails(bad, ":15:26: error: the metric 'rmse' needs a numeric target");
  free(bad);
  /* blas_threads cannot act while matrix products are kept on one thread. */
  bad = iris_spec("warn", data, 0.2, "", "", "  environment {\n    blas_threads = 4\n  }\n");
  const char *argv[] = {test_mlpc(), "build", bad, "--emit-ir", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.err, "warning: blas_threads = 4 has no effect while deterministic = true"));
  test_run_free(&r);
  free(bad);
  free(plain);
  free(set);
  free(data);
}
END_TEST

START_TEST(settings_min_lr_is_the_floor) {
  char *data = iris_data();
  char *spec =
      iris_spec("cos", data, 0.2, "",
                "    optimizer = adam(lr = 0.01)\n    epochs = 10\n    schedule = cosine(min_lr = 0.004)\n",
                "  validation {\n    early_stopping(patience = 100)\n  }\n");
  char *run = test_train(spec, tmp, "cos");
  double lr[64];
  int n = epoch_values(run, "lr", lr, 64);
  ck_assert_int_eq(n, 10);
  for (int e = 0; e < n; e++) {
    /* PyTorch's CosineAnnealingLR with eta_min */
    double want = 0.004 + (0.01 - 0.004) * (1 + cos(M_PI * e / 10)) / 2;
    ck_assert_msg(fabs(lr[e] - want) <= 1e-6 * want, "epoch %d: lr %g, want %g", e + 1, lr[e], want);
  }
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *hp = get(cJSON_GetArrayItem(get(man, "jobs"), 0), "hyperparameters");
  ck_assert_double_eq_tol(get(hp, "min_lr")->valuedouble, 0.004, 1e-12);
  cJSON_Delete(man);
  free(run);
  free(spec);
  /* Plateau: cut by 10x after one bad epoch, never below min_lr. */
  spec = iris_spec("plat", data, 0.2, "",
                   "    optimizer = adam(lr = 0.1)\n    epochs = 40\n"
                   "    schedule = plateau(patience = 1, factor = 0.1, min_lr = 0.03)\n",
                   "  validation {\n    early_stopping(patience = 100)\n  }\n");
  run = test_train(spec, tmp, "plat");
  n = epoch_values(run, "lr", lr, 64);
  ck_assert_int_eq(n, 40);
  int floor_hits = 0;
  for (int e = 0; e < n; e++) {
    ck_assert_msg(lr[e] >= 0.03 - 1e-12, "epoch %d: lr %g below min_lr", e + 1, lr[e]);
    floor_hits += fabs(lr[e] - 0.03) < 1e-12;
  }
  ck_assert_int_gt(floor_hits, 0);
  free(run);
  free(spec);
  free(data);
}
END_TEST

START_TEST(settings_label_smoothing_bounds_the_loss) {
  /* Cross-entropy against q = (1 - e) onehot + e / 3 is at least q's
   * entropy: with e = 0.2 the training loss cannot fall below it, where
   * unsmoothed it falls far lower. */
  double e = 0.2, hi = 1 - e + e / 3, lo = e / 3;
  double entropy = -(hi * log(hi) + 2 * lo * log(lo));
  char *data = iris_data();
  double last[2];
  for (int smooth = 0; smooth < 2; smooth++) {
    char name[32];
    snprintf(name, sizeof name, "smooth%d", smooth);
    char *spec = iris_spec(name, data, 0.2, "",
                           smooth ? "    optimizer = adam(lr = 0.05)\n    epochs = 80\n"
                                    "    loss = cross_entropy(label_smoothing = 0.2)\n"
                                  : "    optimizer = adam(lr = 0.05)\n    epochs = 80\n",
                           "  validation {\n    early_stopping(patience = 100)\n  }\n");
    char *run = test_train(spec, tmp, name);
    double loss[128];
    int n = epoch_values(run, "train_loss", loss, 128);
    ck_assert_int_eq(n, 80);
    last[smooth] = loss[n - 1];
    for (int k = 0; smooth && k < n; k++)
      ck_assert_msg(loss[k] >= entropy - 1e-4, "epoch %d: %g", k + 1, loss[k]);
    free(run);
    free(spec);
  }
  ck_assert_msg(last[0] < entropy - 0.2, "unsmoothed %g, entropy %g", last[0], entropy);
  ck_assert_msg(last[1] < entropy + 0.15, "smoothed %g did not approach %g", last[1], entropy);
  free(data);
}
END_TEST

/* The scores of the evaluation split in a run's manifest. */
static cJSON *eval_scores(const char *run, cJSON **man) {
  *man = test_read_json(run, "manifest.json");
  const cJSON *metrics = get(cJSON_GetArrayItem(get(*man, "jobs"), 0), "metrics");
  return (cJSON *)get(metrics, get(metrics, "evaluated_on")->valuestring);
}

/* loss = mae, huber, hinge train, and the validation and test losses are
 * the same function: a regression's on the standardized target, so with
 * mae the reported loss is mae / sd and with mse it is mse / sd^2 (the one
 * sd of the same split), and Huber with a delta beyond every error is half
 * the squared error; the hinge's is torch.nn.MultiMarginLoss of log p,
 * recomputed here from predictions.csv and the rows' true classes. */
START_TEST(settings_regression_and_hinge_losses) {
  char *data = iris_data();
  static const char *const losses[] = {"mse", "mae", "huber(delta = 100)", "huber(delta = 0.5)"};
  double ratio[4], loss[4];
  for (int k = 0; k < 4; k++) {
    char name[16], file[32], *text;
    snprintf(name, sizeof name, "reg%d", k);
    snprintf(file, sizeof file, "%s.mlp", name);
    char *spec = test_path(tmp, file);
    ck_assert_int_ge(asprintf(&text,
                              "pipeline %s {\n  data {\n    source = csv(\"%s\")\n    target = sepal_length\n"
                              "    clean { standardize(numeric) onehot(species) }\n"
                              "    split(validation = 0.2, test = 0.2, seed = 1)\n  }\n"
                              "  model {\n    dense(16)\n    output()\n  }\n"
                              "  hyperparameters {\n    optimizer = adam(lr = 0.01)\n    epochs = 40\n"
                              "    loss = %s\n  }\n}\n",
                              name, data, losses[k]),
                     0);
    test_write_text(spec, text);
    free(text);
    char *run = test_train(spec, tmp, name);
    cJSON *man;
    const cJSON *sc = eval_scores(run, &man);
    loss[k] = get(sc, "loss")->valuedouble;
    ratio[k] = get(sc, k == 1 ? "mae" : "mse")->valuedouble / loss[k];
    ck_assert_msg(get(sc, "r2")->valuedouble > 0.6, "%s: r2 %g", losses[k], get(sc, "r2")->valuedouble);
    const cJSON *hp = get(cJSON_GetArrayItem(get(man, "jobs"), 0), "hyperparameters");
    ck_assert_str_eq(get(hp, "loss")->valuestring, k < 2 ? losses[k] : "huber");
    cJSON_Delete(man);
    free(run);
    free(spec);
  }
  /* mse / loss is sd^2 and mae / loss is sd: the loss is the absolute error */
  ck_assert_msg(fabs(ratio[1] * ratio[1] - ratio[0]) <= 1e-6 * ratio[0], "mae: sd %g, sd^2 %g", ratio[1],
                ratio[0]);
  ck_assert_msg(fabs(ratio[2] / 2 - ratio[0]) <= 1e-6 * ratio[0], "huber(100): %g, sd^2 %g", ratio[2],
                ratio[0]);
  /* with a small delta the errors beyond it count linearly: less than half their square */
  ck_assert_msg(ratio[3] > ratio[2], "huber(0.5) %g, huber(100) %g", ratio[3], ratio[2]);

  char *spec = iris_spec("hinge", data, 0.2, "", "    optimizer = adam(lr = 0.02)\n    loss = hinge\n", "");
  char *run = test_train(spec, tmp, "hinge");
  cJSON *man;
  const cJSON *sc = eval_scores(run, &man);
  double acc = get(sc, "accuracy")->valuedouble;
  ck_assert_msg(acc >= 0.85, "hinge accuracy %g", acc);
  char *pred = read_text(run, "predictions.csv"), *rows = read_text(run, "test_rows.csv");
  char **pl, **rl;
  int np = test_split_lines(pred, &pl), nr = test_split_lines(rows, &rl);
  ck_assert_int_eq(np, nr);
  static const char *const classes[] = {"setosa", "versicolor", "virginica"};
  double sum = 0;
  for (int i = 1; i < np; i++) {
    char *pf[8], *rf[8];
    ck_assert_int_eq(test_csv_fields(pl[i], pf, 8), 5);
    ck_assert_int_eq(test_csv_fields(rl[i], rf, 8), 5);
    int y = 0;
    while (y < 3 && strcmp(rf[4], classes[y]) != 0) y++;
    ck_assert_int_lt(y, 3);
    double zy = log(fmax(strtod(pf[2 + y], NULL), 1e-30));
    for (int c = 0; c < 3; c++)
      if (c != y) sum += fmax(0, 1 - zy + log(fmax(strtod(pf[2 + c], NULL), 1e-30))) / 3;
    test_fields_free(pf, 5);
    test_fields_free(rf, 5);
  }
  ck_assert_msg(fabs(sum / (np - 1) - get(sc, "loss")->valuedouble) <= 1e-5, "hinge %g, reported %g",
                sum / (np - 1), get(sc, "loss")->valuedouble);
  free(pl);
  free(rl);
  free(pred);
  free(rows);
  cJSON_Delete(man);
  free(run);
  free(spec);
  free(data);
}
END_TEST

/* Job 0's metrics.jsonl: per epoch (1-based index), the training loss and
 * the validation loss (NaN when the epoch was not validated); returns the
 * epochs recorded. */
static int epoch_losses(const char *run, double *train, double *val, int max) {
  char *text = read_text(run, "metrics.jsonl");
  int n = 0;
  for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
    if (strncmp(line, "{\"job\":0,", 9) != 0) continue;
    char *t = strstr(line, "\"train_loss\":"), *v = strstr(line, "\"val_loss\":");
    ck_assert_ptr_nonnull(t);
    train[n] = strtod(t + 13, NULL);
    val[n++] = v ? strtod(v + 11, NULL) : NAN;
  }
  free(text);
  return n;
}

/* validation.every = k validates epochs k, 2k, ... and the last, and
 * changes nothing else: the training losses are every epoch's of a run
 * that validates each one, and so are the validation losses where there
 * are any. Early stopping counts validations: its stopping epoch is the
 * one predicted from the every-epoch run's losses at the validated epochs. */
START_TEST(settings_validation_every) {
  char *data = iris_data();
  enum { E = 30 };
  double tr[2][E + 1], va[2][E + 1];
  static const char *const vals[] = {
      "  validation {\n    early_stopping(patience = 100)\n  }\n",
      "  validation {\n    every = 4\n    early_stopping(patience = 100)\n  }\n"};
  for (int k = 0; k < 2; k++) {
    char name[24];
    snprintf(name, sizeof name, "every%d", k);
    char *spec =
        iris_spec(name, data, 0.2, "", "    optimizer = adam(lr = 0.1)\n    epochs = 30\n", vals[k]);
    char *run = test_train(spec, tmp, name);
    ck_assert_int_eq(epoch_losses(run, tr[k], va[k], E + 1), E);
    free(run);
    free(spec);
  }
  for (int e = 0; e < E; e++) {
    ck_assert_double_eq(tr[1][e], tr[0][e]);
    bool validated = (e + 1) % 4 == 0 || e + 1 == E;
    ck_assert_msg(validated == !isnan(va[1][e]), "epoch %d: val_loss %g", e + 1, va[1][e]);
    if (validated) ck_assert_double_eq(va[1][e], va[0][e]);
  }
  /* patience 2 with every = 3: the first validation that is the second in a row without improvement */
  int stop = E, bad = 0;
  double best = INFINITY;
  for (int e = 2; e < E; e += 3) {
    if (va[0][e] < best) best = va[0][e], bad = 0;
    else if (++bad >= 2) {
      stop = e + 1;
      break;
    }
  }
  ck_assert_int_lt(stop, E); /* the case stops early */
  char *spec = iris_spec("every_es", data, 0.2, "", "    optimizer = adam(lr = 0.1)\n    epochs = 30\n",
                         "  validation {\n    every = 3\n    early_stopping(patience = 2)\n  }\n");
  char *run = test_train(spec, tmp, "every_es");
  ck_assert_int_eq(epoch_losses(run, tr[1], va[1], E + 1), stop);
  free(run);
  free(spec);
  free(data);
}
END_TEST

/* The lines of a file, 0 when it is absent. */
static int count_lines(const char *path) {
  char *text = test_read_file(path, NULL);
  int n = 0;
  for (const char *p = text; p && *p; p++) n += *p == '\n';
  free(text);
  return n;
}

/* environment.checkpoint_every = 4: killed after some epochs, the run's
 * checkpoint holds the last multiple of 4 (not the last epoch, which the
 * metrics show), and --resume from it ends with the weights and metrics of
 * a run never killed. */
START_TEST(settings_checkpoint_every) {
  char *spec = test_path(tmp, "ckpt.mlp"), *text, *exe = test_path(tmp, "ckpt.exe");
  ck_assert_int_ge(asprintf(&text,
                            "pipeline ckpt {\n  data {\n    source = csv(\"%s/examples/data/digits.csv\")\n"
                            "    target = digit\n    clean { standardize(numeric) }\n"
                            "    split(validation = 0.2, test = 0.2, seed = 1)\n  }\n"
                            "  model {\n    dense(128)\n    dense(64)\n    output()\n  }\n"
                            "  hyperparameters {\n    epochs = 60\n    batch = 8\n  }\n"
                            "  validation {\n    early_stopping(patience = 1000)\n  }\n"
                            "  environment {\n    checkpoint_every = 4\n  }\n}\n",
                            root()),
                   0);
  test_write_text(spec, text);
  free(text);
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  char *straight = test_path(tmp, "ckpt.straight"), *killed = test_path(tmp, "ckpt.killed");
  const char *s_argv[] = {exe, "--out", straight, "--quiet", "--threads", "1", NULL};
  test_run_ok(s_argv);
  const char *argv[] = {exe, "--out", killed, "--quiet", "--threads", "1", NULL, NULL};
  /* killed two or three epochs past a multiple of 4 (at least 6 epochs in); tried again when the kill
   * lands elsewhere */
  int lines = 0;
  MlprtCkptHeader h = {0};
  for (int attempt = 0; attempt < 8 && !(lines >= 6 && lines < 60 && lines % 4 >= 2); attempt++) {
    int fd = open("/dev/null", O_WRONLY);
    pid_t pid = test_spawn(argv, NULL, fd, fd);
    close(fd);
    char *metrics = test_staged(killed, pid, "metrics.jsonl");
    char *ckpt = test_staged(killed, pid, "checkpoint.bin");
    for (int tries = 0; tries < 200000; tries++) {
      lines = count_lines(metrics);
      if (lines >= 6 && lines % 4 >= 2) break;
      struct timespec nap = {0, 100000L};
      nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    lines = count_lines(metrics);
    if (mlprt_ckpt_peek(ckpt, &h) != 0) lines = 0;
    free(metrics);
    free(ckpt);
  }
  ck_assert_msg(lines >= 6 && lines < 60 && lines % 4 >= 2, "killed after %d epochs", lines);
  /* every epoch's checkpoint would be at the last one or the one before */
  ck_assert_msg(h.epoch == lines - lines % 4, "checkpoint at epoch %lld, %d epochs in the metrics",
                (long long)h.epoch, lines);
  argv[6] = "--resume";
  test_run_ok(argv);
  char *w1 = test_path(straight, "weights.bin"), *w2 = test_path(killed, "weights.bin"), h1[65], h2[65];
  ck_assert_int_eq(mlprt_sha256_file(w1, h1), 0);
  ck_assert_int_eq(mlprt_sha256_file(w2, h2), 0);
  ck_assert_str_eq(h1, h2);
  char *m1 = test_path(straight, "metrics.jsonl"), *m2 = test_path(killed, "metrics.jsonl");
  ck_assert_int_eq(count_lines(m2), count_lines(m1));
  free(m1), free(m2), free(w1), free(w2), free(straight), free(killed), free(exe), free(spec);
}
END_TEST

/* environment.log: info prints progress and results, and on stderr the
 * warning that the untrained model (zero weights, a tiny rate) does not beat
 * the baseline; debug adds each epoch's learning rate; warn prints nothing
 * on stdout but the warning; error not even that; --verbose on the command
 * line wins over warn. */
START_TEST(settings_log_levels) {
  char *data = iris_data();
  static const char *const levels[] = {"info", "debug", "warn", "error"};
  for (int k = 0; k < 5; k++) {
    char name[16], more[160];
    snprintf(name, sizeof name, "log%d", k);
    snprintf(more, sizeof more,
             "  validation {\n    stop_on_divergence = false\n  }\n  environment {\n    log = %s\n  }\n",
             levels[k < 4 ? k : 2]);
    char *spec = iris_spec(name, data, 0.2, "", "    optimizer = sgd(lr = 0.000001)\n    init = zeros\n"
                                               "    epochs = 3\n", more);
    char *exe = test_path(tmp, name), *out = test_path(tmp, "log.run");
    const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
    test_run_ok(b);
    const char *argv[] = {exe, "--out", out, "--threads", "1", k == 4 ? "--verbose" : NULL, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "%s: %s", levels[k < 4 ? k : 2], r.err);
    bool progress = strstr(r.out, "epoch 3/3") != NULL, lr = strstr(r.out, " lr 1e-06") != NULL;
    bool warned = strstr(r.err, "warning: the model does not beat the majority baseline") != NULL;
    ck_assert_msg(progress == (k < 2 || k == 4), "log %d: stdout %s", k, r.out);
    ck_assert_msg(lr == (k == 1 || k == 4), "log %d: stdout %s", k, r.out);
    ck_assert_msg(warned == (k != 3), "log %d: stderr %s", k, r.err);
    if (k == 2 || k == 3) ck_assert_str_eq(r.out, "");
    test_run_free(&r);
    free(exe);
    free(out);
    free(spec);
  }
  free(data);
}
END_TEST

/* validation.monitor: each metrics.jsonl line records exactly the listed
 * quantities (with job, epoch and seconds); the last epoch's validation F1
 * and AUC are the manifest's final scores of the same weights
 * (restore_best = false), and a quantity the target cannot have is refused
 * where it is written. */
START_TEST(settings_validation_monitor) {
  char *data = iris_data();
  char *spec = iris_spec("mon", data, 0, "", "    optimizer = adam(lr = 0.05)\n    epochs = 12\n",
                         "  validation {\n    monitor = [accuracy, val_f1, val_auc, lr]\n"
                         "    early_stopping(patience = 100, restore_best = false)\n  }\n"
                         "  analysis {\n    metrics = [accuracy, f1, auc]\n  }\n");
  char *run = test_train(spec, tmp, "mon");
  char *text = read_text(run, "metrics.jsonl"), *last = NULL;
  int lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
    cJSON *o = cJSON_Parse(line);
    ck_assert_ptr_nonnull(o);
    static const char *const keys[] = {"job",     "epoch", "train_accuracy", "val_f1",
                                       "val_auc", "lr",    "seconds"};
    int n = 0;
    for (const cJSON *c = o->child; c; c = c->next, n++) {
      ck_assert_int_lt(n, 7);
      ck_assert_str_eq(c->string, keys[n]);
    }
    ck_assert_int_eq(n, 7);
    double acc = get(o, "train_accuracy")->valuedouble;
    ck_assert(acc >= 0 && acc <= 1);
    cJSON_Delete(o);
    last = line;
  }
  ck_assert_int_eq(lines, 12);
  cJSON *o = cJSON_Parse(last), *man;
  const cJSON *sc = eval_scores(run, &man);
  ck_assert_double_eq_tol(get(o, "val_f1")->valuedouble, get(sc, "f1")->valuedouble, 1e-5);
  ck_assert_double_eq_tol(get(o, "val_auc")->valuedouble, get(sc, "auc")->valuedouble, 1e-5);
  ck_assert_double_ge(get(o, "train_accuracy")->valuedouble, 0.8);
  cJSON_Delete(o);
  cJSON_Delete(man);
  free(text);
  free(run);
  free(spec);
  spec = iris_spec("mon_bad", data, 0.2, "", "", "  validation {\n    monitor = [loss, val_r2]\n  }\n");
  build_fails(spec, ":15:22: error: 'val_r2' needs a numeric target");
  free(spec);
  free(data);
}
END_TEST

START_TEST(settings_monitor_and_blas_threads) {
  char *data = iris_data();
  char *spec = iris_spec(
      "mon", data, 0.2, "", "    epochs = 3\n",
      "  environment {\n    monitor = true\n    blas_threads = 2\n    deterministic = false\n  }\n");
  char *run = test_train(spec, tmp, "mon");
  char *text = read_text(run, "metrics.jsonl");
  ck_assert_ptr_nonnull(strstr(text, "\"peak_rss_kib\":"));
  ck_assert_ptr_nonnull(strstr(text, "\"samples_per_second\":"));
  free(text);
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *env = get(man, "environment");
  ck_assert(cJSON_IsTrue(get(env, "monitor")));
  ck_assert_int_eq(get(get(env, "blas"), "threads")->valueint, 2);
  ck_assert_int_eq(get(get(env, "blas"), "threads_asked")->valueint, 2);
  cJSON_Delete(man);
  free(run);
  free(spec);
  /* monitor = false, the default: no sampling of resources per epoch. */
  spec = iris_spec("nomon", data, 0.2, "", "    epochs = 3\n", "");
  run = test_train(spec, tmp, "nomon");
  text = read_text(run, "metrics.jsonl");
  ck_assert_ptr_null(strstr(text, "\"peak_rss_kib\":"));
  ck_assert_ptr_null(strstr(text, "\"cpu_seconds\":"));
  ck_assert_ptr_nonnull(strstr(text, "\"seconds\":"));
  free(text);
  man = test_read_json(run, "manifest.json");
  ck_assert_int_eq(get(get(get(man, "environment"), "blas"), "threads")->valueint, 1);
  cJSON_Delete(man);
  free(run);
  free(spec);
  free(data);
}
END_TEST

/* Build spec and train it without --quiet; the console output (malloc'd). */
static char *train_console(const char *spec, const char *name) {
  char *exe = test_path(tmp, name), *run;
  ck_assert_int_ge(asprintf(&run, "%s.run", exe), 0);
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  const char *fit[] = {exe, "--out", run, "--threads", "1", NULL};
  TestRun r = test_run(fit, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  free(exe);
  free(run);
  char *out = r.out;
  free(r.err);
  return out;
}

START_TEST(settings_metrics_everywhere) {
  char *data = iris_data();
  char *spec =
      iris_spec("allm", data, 0.2, "", "    epochs = 30\n",
                "  analysis {\n    metrics = [accuracy, precision, recall, f1, auc, confusion]\n  }\n");
  char *out = train_console(spec, "allm");
  ck_assert_msg(strstr(out, "\ntest: loss ") && strstr(out, " precision ") && strstr(out, " auc "), "%s",
                out);
  free(out);
  char *run = test_path(tmp, "allm.run");
  cJSON *man = test_read_json(run, "manifest.json");
  const cJSON *test = get(get(man, "metrics"), "test");
  double auc = get(test, "auc")->valuedouble;
  ck_assert_msg(auc > 0.5 && auc <= 1, "auc %g", auc);
  const cJSON *per = get(test, "per_class");
  ck_assert_int_eq(cJSON_GetArraySize(per), 3);
  double support = 0, f1 = 0;
  for (int k = 0; k < 3; k++) {
    support += get(cJSON_GetArrayItem(per, k), "support")->valuedouble;
    f1 += get(cJSON_GetArrayItem(per, k), "f1")->valuedouble / 3;
  }
  ck_assert_int_eq((int)support, get(get(man, "data"), "test")->valueint);
  ck_assert_double_eq_tol(f1, get(test, "f1")->valuedouble, 1e-12); /* the macro F1 is their mean */
  cJSON_Delete(man);
  char *html = read_text(run, "report.html");
  ck_assert_ptr_nonnull(strstr(html, "<h3>Test metrics</h3>"));
  ck_assert_ptr_nonnull(strstr(html, "<th>auc</th>"));
  ck_assert_ptr_nonnull(strstr(html, "<h3>Per class</h3>"));
  ck_assert_ptr_nonnull(strstr(html, "<h3>Confusion matrix</h3>"));
  free(html);
  free(run);
  free(spec);
  /* Only what is asked is shown: no confusion matrix, no per-class table. */
  spec =
      iris_spec("accm", data, 0.2, "", "    epochs = 5\n", "  analysis {\n    metrics = [accuracy]\n  }\n");
  out = train_console(spec, "accm");
  ck_assert_ptr_null(strstr(out, " f1 "));
  free(out);
  run = test_path(tmp, "accm.run");
  html = read_text(run, "report.html");
  ck_assert_ptr_null(strstr(html, "Confusion matrix"));
  ck_assert_ptr_null(strstr(html, "Per class"));
  free(html);
  free(run);
  free(spec);
  free(data);
  /* A numeric target: RMSE is the root of the MSE, in the target's units. */
  char *rspec = test_path(tmp, "reg.mlp"), *text;
  ck_assert_int_ge(asprintf(&text,
                            "pipeline reg {\n  data {\n    source = csv(\"%s/examples/data/diabetes.csv\")\n"
                            "    target = progression\n    clean { standardize(numeric) }\n"
                            "    split(validation = 0.2, test = 0.2, seed = 1)\n  }\n"
                            "  model {\n    dense(16)\n    output(activation = linear)\n  }\n"
                            "  hyperparameters {\n    epochs = 20\n  }\n"
                            "  analysis {\n    metrics = [rmse, mae, r2]\n  }\n}\n",
                            root()),
                   0);
  test_write_text(rspec, text);
  free(text);
  out = train_console(rspec, "reg");
  ck_assert_msg(strstr(out, "\ntest: loss ") && strstr(out, " rmse ") && strstr(out, " r2 "), "%s", out);
  free(out);
  run = test_path(tmp, "reg.run");
  man = test_read_json(run, "manifest.json");
  test = get(get(man, "metrics"), "test");
  ck_assert_double_eq_tol(get(test, "rmse")->valuedouble, sqrt(get(test, "mse")->valuedouble), 1e-9);
  cJSON_Delete(man);
  html = read_text(run, "report.html");
  ck_assert_ptr_nonnull(strstr(html, "<th>rmse</th>"));
  free(html);
  free(run);
  free(rspec);
}
END_TEST

START_TEST(settings_validation_is_not_called_test) {
  char *data = iris_data();
  for (int with_test = 0; with_test < 2; with_test++) {
    char name[32];
    snprintf(name, sizeof name, "named%d", with_test);
    char *spec = iris_spec(name, data, with_test ? 0.2 : 0, "", "    epochs = 10\n",
                           "  deploy {\n    version = \"1.0.0\"\n  }\n");
    const char *split = with_test ? "test" : "validation";
    char line[64];
    const char *ex[] = {test_mlpc(), "explain", spec, NULL};
    TestRun e = test_run(ex, NULL);
    ck_assert_msg(e.status == 0, "%s", e.err);
    snprintf(line, sizeof line, "(metrics of the %s split", split);
    ck_assert_msg(strstr(e.out, line) != NULL, "%s", e.out);
    ck_assert_ptr_null(strstr(e.out, "not compiled yet: the deploy section"));
    test_run_free(&e);
    char *out = train_console(spec, name);
    snprintf(line, sizeof line, "\n%s: loss ", split);
    ck_assert_msg(strstr(out, line) != NULL, "%s", out);
    if (!with_test) ck_assert_ptr_null(strstr(out, "\ntest:"));
    free(out);
    char *exe = test_path(tmp, name), *run;
    ck_assert_int_ge(asprintf(&run, "%s.run", exe), 0);
    cJSON *man = test_read_json(run, "manifest.json");
    const cJSON *m = get(man, "metrics");
    ck_assert_str_eq(get(m, "evaluated_on")->valuestring, split);
    ck_assert(cJSON_HasObjectItem(m, "test") == with_test);
    ck_assert(cJSON_HasObjectItem(get(get(man, "metrics"), split), "confusion"));
    cJSON_Delete(man);
    char *html = read_text(run, "report.html");
    ck_assert_ptr_nonnull(strstr(html, with_test ? "<h3>Test metrics</h3>" : "<h3>Validation metrics</h3>"));
    free(html);
    char *card = read_text(run, "MODEL_CARD.md");
    ck_assert_ptr_nonnull(
        strstr(card, with_test ? "| metric | validation | test |\n" : "| metric | validation |\n"));
    if (!with_test) ck_assert_ptr_nonnull(strstr(card, "There was no test split"));
    free(card);
    char *registry = test_path(tmp, with_test ? "reg1" : "reg0");
    const char *dep[] = {test_mlpc(), "deploy", run, "--registry", registry, NULL};
    test_run_ok(dep);
    const char *ver[] = {test_mlpc(), "versions", "--registry", registry, NULL};
    TestRun r = test_run(ver, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    snprintf(line, sizeof line, " %s accuracy ", split);
    ck_assert_msg(strstr(r.out, line) != NULL, "%s", r.out);
    test_run_free(&r);
    free(registry);
    free(run);
    free(exe);
    free(spec);
  }
  free(data);
}
END_TEST

START_TEST(settings_smoke_subset_is_random) {
  /* iris.csv is sorted by species: the first rows are all one class. A
   * shuffled copy must give the smoke run about the same losses. */
  char *data = iris_data();
  char *text = test_read_file(data, NULL), **lines;
  ck_assert_ptr_nonnull(text);
  int n = test_split_lines(text, &lines);
  char *shuffled = test_path(tmp, "iris_shuffled.csv");
  FILE *f = fopen(shuffled, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "%s\n", lines[0]);
  /* 7 is prime to 150: i -> 7 i mod 150 visits every row once. */
  int rows = 0;
  for (int i = 1; i < n; i++) rows += lines[i][0] != 0;
  for (int i = 0; i < rows; i++) fprintf(f, "%s\n", lines[1 + (7 * i) % rows]);
  fclose(f);
  double first[2], last[2];
  for (int k = 0; k < 2; k++) {
    char name[32];
    snprintf(name, sizeof name, "smoke%d", k);
    char *spec =
        iris_spec(name, k ? shuffled : data, 0, "", "    optimizer = adam(lr = 0.01)\n    epochs = 1\n",
                  "  validation {\n    smoke(subset = 0.2, epochs = 3)\n  }\n");
    char *run = test_train(spec, tmp, name);
    cJSON *man = test_read_json(run, "manifest.json");
    const cJSON *smoke = get(cJSON_GetArrayItem(get(man, "jobs"), 0), "smoke");
    first[k] = get(smoke, "first_loss")->valuedouble;
    last[k] = get(smoke, "last_loss")->valuedouble;
    cJSON_Delete(man);
    free(run);
    free(spec);
  }
  ck_assert_msg(fabs(first[0] - first[1]) < 0.25 && fabs(last[0] - last[1]) < 0.25,
                "sorted %.4f -> %.4f, shuffled %.4f -> %.4f", first[0], last[0], first[1], last[1]);
  free(lines);
  free(text);
  free(shuffled);
  free(data);
}
END_TEST

START_TEST(settings_smoke_stops_a_rising_loss) {
  /* Linear regression by full-batch gradient descent: at lr 0.35 the loss
   * first falls, then grows by about 2.5x an epoch, never 100x the start. */
  char *spec = test_path(tmp, "rise.mlp"), *text;
  ck_assert_int_ge(asprintf(&text,
                            "pipeline rise {\n  data {\n    source = csv(\"%s/examples/data/diabetes.csv\")\n"
                            "    target = progression\n    clean { standardize(numeric) }\n  }\n"
                            "  model {\n    output(activation = linear)\n  }\n"
                            "  hyperparameters {\n    optimizer = sgd(lr = 0.35)\n    batch = 353\n"
                            "    epochs = 5\n  }\n"
                            "  validation {\n    smoke(subset = 0.5, epochs = 6)\n  }\n}\n",
                            root()),
                   0);
  test_write_text(spec, text);
  free(text);
  char *exe = test_path(tmp, "rise.exe"), *out = test_path(tmp, "rise.run");
  const char *b[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(b);
  const char *fit[] = {exe, "--out", out, "--quiet", NULL};
  TestRun r = test_run(fit, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "smoke run: the training loss rose in each of the last") &&
                    strstr(r.err, "lower the learning rate"),
                "%s", r.err);
  test_run_free(&r);
  /* At lr 0.2 it converges and trains. */
  const char *ok[] = {exe, "--out", out, "--quiet", "--set", "lr=0.2", NULL};
  test_run_ok(ok);
  free(out);
  free(exe);
  free(spec);
}
END_TEST

START_TEST(settings_pretrained_starts_where_the_run_ended) {
  char *data = iris_data();
  /* The source run: its last weights are kept (restore_best = false). */
  const char *val = "  validation {\n    early_stopping(patience = 1000, restore_best = false)\n  }\n";
  char *src = iris_spec("src", data, 0.2, "", "    optimizer = adam(lr = 0.01)\n    epochs = 60\n", val);
  char *src_run = test_train(src, tmp, "src");
  double src_loss[128];
  int n = epoch_values(src_run, "train_loss", src_loss, 128);
  ck_assert_int_eq(n, 60);
  char *pre;
  ck_assert_int_ge(asprintf(&pre, "    pretrained = \"%s\"\n", src_run), 0);
  double first[2];
  for (int k = 0; k < 2; k++) {
    char name[32];
    snprintf(name, sizeof name, "dst%d", k);
    char *spec =
        iris_spec(name, data, 0.2, k ? pre : "", "    optimizer = adam(lr = 0.0005)\n    epochs = 2\n", val);
    char *run = test_train(spec, tmp, name);
    double loss[4];
    ck_assert_int_eq(epoch_values(run, "train_loss", loss, 4), 2);
    first[k] = loss[0];
    free(run);
    free(spec);
  }
  /* The pretrained run's first epoch starts at the source's last loss; a
   * fresh one far above it. */
  ck_assert_msg(fabs(first[1] - src_loss[n - 1]) <= 0.1 * src_loss[n - 1] + 0.01,
                "first epoch %.4f, source's last %.4f", first[1], src_loss[n - 1]);
  ck_assert_msg(first[0] > 3 * first[1], "from scratch %.4f, pretrained %.4f", first[0], first[1]);
  /* Checked at compile time, at the setting: a missing run, another shape,
   * a changed weights file. */
  char *missing = iris_spec("missing", data, 0.2, "    pretrained = \"no/such/run\"\n", "", "");
  build_fails(missing, ":9:18: error: pretrained run: ");
  char *other;
  ck_assert_int_ge(asprintf(&other, "%s    dense(8)\n", pre), 0);
  char *wide = iris_spec("wide", data, 0.2, other, "", "");
  build_fails(wide, ":9:18: error: the pretrained run's model");
  char *w = test_path(src_run, "weights.bin");
  FILE *f = fopen(w, "r+b");
  ck_assert_ptr_nonnull(f);
  fputc(0x7f, f);
  fclose(f);
  char *same = iris_spec("tampered", data, 0.2, pre, "", "");
  build_fails(same, "does not match its sha256 in the manifest");
  free(w);
  free(same);
  free(wide);
  free(other);
  free(missing);
  free(pre);
  free(src_run);
  free(src);
  free(data);
}
END_TEST

Suite *settings_suite(void); /* the runner finds it by name */
Suite *settings_suite(void) {
  Suite *s = suite_create("settings");
  TCase *tc = tcase_create("settings");
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, settings_change_the_ir);
  tcase_add_test(tc, settings_min_lr_is_the_floor);
  tcase_add_test(tc, settings_label_smoothing_bounds_the_loss);
  tcase_add_test(tc, settings_regression_and_hinge_losses);
  tcase_add_test(tc, settings_validation_every);
  tcase_add_test(tc, settings_checkpoint_every);
  tcase_add_test(tc, settings_log_levels);
  tcase_add_test(tc, settings_validation_monitor);
  tcase_add_test(tc, settings_monitor_and_blas_threads);
  tcase_add_test(tc, settings_metrics_everywhere);
  tcase_add_test(tc, settings_validation_is_not_called_test);
  tcase_add_test(tc, settings_smoke_subset_is_random);
  tcase_add_test(tc, settings_smoke_stops_a_rising_loss);
  tcase_add_test(tc, settings_pretrained_starts_where_the_run_ended);
  suite_add_tcase(s, tc);
  return s;
}
