/* check_forest.c — tree ensembles fitted at once: random forests
 * (forest.c) and gradient boosting (boost.c), against scikit-learn; the
 * same trees for any thread count; the predictor's answers; what they
 * refuse.
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

/* The spec of case i: an example's data with `model`, built into dir/NAME.exe
 * (into exe), its cleaned splits exported to dir/features (into feats). */
static char *build_exported(const char *dir, const char *prefix, int i, const char *example,
                            const char *model, char exe[1024], char feats[1024]) {
  char name[32];
  snprintf(name, sizeof name, "%s%d", prefix, i);
  char *spec = test_example_spec(dir, example, name, model, NULL);
  snprintf(exe, 1024, "%s/%s.exe", dir, name);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  snprintf(feats, 1024, "%s/features", dir);
  const char *x[] = {exe, "--export-features", feats, "--quiet", NULL};
  test_run_ok(x);
  return spec;
}

/* tests/parity/SCRIPT on the exported splits with the settings (its kind first). */
static TestRun oracle(const char *script, const char *feats, const char *target, const char *settings) {
  char model[256], *argv[12] = {PYTHON, (char *)script, (char *)feats, (char *)target};
  snprintf(model, sizeof model, "%s", settings);
  int argc = 4;
  for (char *tok = strtok(model, " "); tok && argc < 11; tok = strtok(NULL, " ")) argv[argc++] = tok;
  argv[argc] = NULL;
  return test_run((const char *const *)argv, NULL);
}

typedef struct {
  const char *example, *target;
  const char *model;   /* the spec's model */
  const char *sklearn; /* the oracle's kind and settings */
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
  char *dir = test_tmpdir(), exe[1024], feats[1024], run[1100];
  char *spec = build_exported(dir, "forest", i, pc->example, pc->model, exe, feats);
  double score[SEEDS], oob[SEEDS];
  bool classify = strncmp(pc->sklearn, "classifier", 10) == 0, bootstrap = !strstr(pc->model, "bootstrap");
  for (int s = 0; s < SEEDS; s++) {
    char seed[16];
    snprintf(seed, sizeof seed, "%d", s);
    snprintf(run, sizeof run, "%s.%d.run", exe, s);
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

/* Gradient boosting against HistGradientBoosting: both are deterministic
 * without subsampling, so one fit each; the test scores agree within half
 * a point, or within one test row where the split is too small for that.
 * min_child_weight 0.001 is scikit-learn's fixed min_hessian_to_split;
 * boost.py grows its trees to max_depth with leaves of one row allowed. */
static const ParityCase boost_cases[] = {
    {"iris", "species", "gradient_boosting(trees = 100, max_depth = 4, min_child_weight = 0.001)",
     "classifier max_iter=100 max_depth=4"},
    {"wine", "cultivar", "gradient_boosting(trees = 100, max_depth = 3, min_child_weight = 0.001)",
     "classifier max_iter=100 max_depth=3"},
    {"breast_cancer", "diagnosis",
     "gradient_boosting(trees = 100, max_depth = 3, learning_rate = 0.2, min_child_weight = 0.001)",
     "classifier max_iter=100 max_depth=3 learning_rate=0.2"},
    {"breast_cancer", "diagnosis", "gradient_boosting(trees = 100, max_depth = 4, max_bins = 16, "
     "min_child_weight = 0.001)", "classifier max_iter=100 max_depth=4 max_bins=16"},
    {"diabetes", "progression",
     "gradient_boosting(trees = 100, max_depth = 3, learning_rate = 0.05, l2 = 1, min_child_weight = 0.001)",
     "regressor max_iter=100 max_depth=3 learning_rate=0.05 l2_regularization=1"},
    {"digits", "digit",
     "gradient_boosting(trees = 30, max_depth = 4, loss = log_loss, min_child_weight = 0.001)",
     "classifier max_iter=30 max_depth=4"},
};

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The first tree of the run's weights (complete to depth, its unused leaves
 * 0) has the oracle's leaf values, in increasing order, within float
 * rounding: the same splits of the same rows. */
static void first_tree_as_oracle(const char *run, int depth, const cJSON *want, const char *who) {
  char *path = test_path(run, "weights.bin");
  size_t len;
  float *w = (float *)test_read_file(path, &len), got[1 << 16];
  int64_t inner = ((int64_t)1 << depth) - 1, n = 0;
  ck_assert_msg(w && len >= (size_t)(3 * inner + 1) * sizeof *w, "no first tree in %s", path);
  for (int64_t k = 0; k <= inner; k++)
    if (w[2 * inner + k] != 0) got[n++] = w[2 * inner + k];
  qsort(got, (size_t)n, sizeof *got, cmp_float);
  ck_assert_msg(n == cJSON_GetArraySize(want), "the first tree has %lld leaves, %s's %d", (long long)n, who,
                cJSON_GetArraySize(want));
  for (int64_t k = 0; k < n; k++) {
    double v = cJSON_GetArrayItem(want, (int)k)->valuedouble;
    ck_assert_msg(fabs(got[k] - v) <= 1e-5 + 1e-4 * fabs(v), "leaf %lld of the first tree: %.8g, %s's %.8g",
                  (long long)k, got[k], who, v);
  }
  free(w);
  free(path);
}

/* Case i of boosted trees against the oracle tests/parity/SCRIPT (`who`, a
 * skip names package), one fit each. */
static void boost_parity(const ParityCase *pc, int i, const char *script, const char *who,
                         const char *package) {
  char what[96];
  snprintf(what, sizeof what, "%s parity of gradient boosting", who);
  if (access(PYTHON, X_OK) != 0) {
    test_skip(what, package, PYTHON " is missing");
    return;
  }
  char *dir = test_tmpdir(), exe[1024], feats[1024], run[1100];
  char *spec = build_exported(dir, "boost", i, pc->example, pc->model, exe, feats);
  snprintf(run, sizeof run, "%s.run", exe);
  const char *fit[] = {exe, "--out", run, "--quiet", NULL};
  test_run_ok(fit);
  bool classify = strncmp(pc->sklearn, "classifier", 10) == 0;
  cJSON *man = test_read_json(run, "manifest.json");
  double got = test_json_num(man, "metrics", "test", classify ? "accuracy" : "r2");
  const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0);
  int depth = (int)test_json_num(job, "hyperparameters", "max_depth", NULL);
  cJSON_Delete(man);
  char *tests = test_path(feats, "test.csv"), *text = test_read_file(tests, NULL), **lines;
  int rows = test_split_lines(text, &lines) - 1;
  free(lines);
  free(text);
  free(tests);
  TestRun r = oracle(script, feats, pc->target, pc->sklearn);
  if (r.status == 2) {
    test_skip(what, package, r.err);
  } else {
    ck_assert_msg(r.status == 0, "%s: %s", script, r.err);
    cJSON *want = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(want);
    double ws = cJSON_GetObjectItem(want, "score")->valuedouble;
    double tol = classify ? fmax(0.005, 1.0 / rows + 1e-9) : 0.005;
    const cJSON *leaves = cJSON_GetObjectItem(want, "leaves");
    if (leaves && classify) first_tree_as_oracle(run, depth, leaves, who);
    fprintf(stderr, "boost parity: %-14s %-90s mlpc %.4f %s %.4f (%d test rows)\n", pc->example, pc->model,
            got, who, ws, rows);
    ck_assert_msg(fabs(got - ws) <= tol, "%s %s: %.4f, %s %.4f (tolerance %.4f)", pc->example, pc->model, got,
                  who, ws, tol);
    cJSON_Delete(want);
  }
  test_run_free(&r);
  free(spec);
  free(dir);
}

START_TEST(boost_parity_with_sklearn) {
  boost_parity(&boost_cases[_i], _i, "tests/parity/boost.py", "scikit-learn", "python3-sklearn");
}
END_TEST

/* Leaf-wise growth against XGBoost's hist with grow_policy lossguide: the
 * same losses (logistic on two classes, squared error), base scores, leaf
 * values, gains and limits, on mlpc's bins (xgb_boost.py hands XGBoost each
 * feature's bin numbers). A classifier's first tree has XGBoost's leaves
 * (a regressor's are on the standardised target); the later trees add up
 * float rounding (XGBoost sums its gradients in float), so the test scores
 * agree within the tolerance above. l2 is set (XGBoost's reg_lambda
 * defaults to 1, mlpc's l2 to 0). */
static const ParityCase xgb_cases[] = {
    {"breast_cancer", "diagnosis",
     "gradient_boosting(trees = 100, max_depth = 6, l2 = 1, growth = lossguide, max_leaves = 8)",
     "classifier n_estimators=100 max_depth=6 max_leaves=8 reg_lambda=1"},
    {"breast_cancer", "diagnosis",
     "gradient_boosting(trees = 60, max_depth = 4, learning_rate = 0.2, l2 = 1, growth = lossguide, "
     "max_leaves = 5)",
     "classifier n_estimators=60 max_depth=4 learning_rate=0.2 max_leaves=5 reg_lambda=1"},
    {"diabetes", "progression",
     "gradient_boosting(trees = 100, max_depth = 5, learning_rate = 0.05, l2 = 1, growth = lossguide, "
     "max_leaves = 6)",
     "regressor n_estimators=100 max_depth=5 learning_rate=0.05 max_leaves=6 reg_lambda=1"},
};

START_TEST(boost_lossguide_parity_with_xgboost) {
  boost_parity(&xgb_cases[_i], _i, "tests/parity/xgb_boost.py", "XGBoost", "python3-xgboost");
}
END_TEST

/* ---- the same trees whatever the thread count ------------------------------ */

/* A forest's trees and out-of-bag score, and boosted trees (subsampled,
 * their histograms filled on several threads), for 1, 2 and 3 threads. */
static const struct {
  const char *model;
  bool oob;
} det_cases[] = {{"random_forest(trees = 40, max_depth = 8)", true},
                 {"gradient_boosting(trees = 30, max_depth = 5, subsample = 0.7)", false},
                 {"gradient_boosting(trees = 30, max_depth = 6, subsample = 0.7, growth = lossguide, "
                  "max_leaves = 12)",
                  false}};

START_TEST(trees_same_bits_for_any_thread_count) {
  char *dir = test_tmpdir();
  char *spec = test_example_spec(dir, "breast_cancer", "det", det_cases[_i].model, NULL);
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
    const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0);
    oob[t] = det_cases[_i].oob ? test_json_num(job, "fit", "oob_score", NULL) : 0;
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
START_TEST(trees_predictor_answers_as_trained) {
  static const struct {
    const char *example, *model;
    int skip;         /* predictions.csv's fields before the outputs beyond the predictor's */
    const char *what; /* the model as the refusal to compress it names it */
  } pcases[] = {{"iris", "random_forest(trees = 30, max_depth = 6)", 1, "a random forest"},
                {"breast_cancer", "random_forest(trees = 30)", 1, "a random forest"},
                {"diabetes", "random_forest(trees = 30, max_depth = 7)", 1, "a random forest"},
                {"iris", "gradient_boosting(trees = 30, max_depth = 4)", 1, "gradient boosting"},
                {"breast_cancer", "gradient_boosting(trees = 80, early_stopping = 5)", 1,
                 "gradient boosting"},
                {"diabetes", "gradient_boosting(trees = 40, max_depth = 3, subsample = 0.5)", 1,
                 "gradient boosting"},
                {"diabetes",
                 "gradient_boosting(trees = 40, max_depth = 6, growth = lossguide, max_leaves = 7)", 1,
                 "gradient boosting"}};
  for (size_t c = 0; c < sizeof pcases / sizeof pcases[0]; c++) {
    char *dir = test_tmpdir();
    char *spec = test_example_spec(dir, pcases[c].example, "p", pcases[c].model, NULL);
    char *run = test_train(spec, dir, "p"), *pred = test_path(dir, "pred");
    test_predictor_as_trained(run, pred, pcases[c].skip, pcases[c].example);
    /* trees have no weights to compress */
    const char *q[] = {test_mlpc(), "export", run, "-o", pred, "--quantize", "int8", "--force", NULL};
    TestRun r = test_run(q, NULL);
    char refusal[96];
    snprintf(refusal, sizeof refusal, "int8 quantization of %s is not supported", pcases[c].what);
    ck_assert_msg(r.status != 0 && strstr(r.err, refusal), "%s", r.err);
    test_run_free(&r);
    free(pred);
    free(run);
    free(spec);
    free(dir);
  }
}
END_TEST

/* Early stopping ends the rounds when the validation loss has not improved
 * for its patience and keeps the best round's trees; without it every
 * round is grown. */
START_TEST(boost_early_stopping_keeps_the_best_round) {
  char *dir = test_tmpdir();
  static const char *const models[] = {
      "gradient_boosting(trees = 400, learning_rate = 0.3, early_stopping = 5)",
      "gradient_boosting(trees = 40, learning_rate = 0.3)"};
  double kept[2];
  for (int i = 0; i < 2; i++) {
    char name[16];
    snprintf(name, sizeof name, "es%d", i);
    char *spec = test_example_spec(dir, "breast_cancer", name, models[i], NULL);
    char *run = test_train(spec, dir, name);
    cJSON *man = test_read_json(run, "manifest.json");
    const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0);
    kept[i] = test_json_num(job, "fit", "iterations", NULL);
    cJSON_Delete(man);
    free(run);
    free(spec);
  }
  ck_assert_msg(kept[0] >= 1 && kept[0] < 400, "early stopping kept %g of 400 rounds", kept[0]);
  ck_assert_msg(kept[1] == 40, "without early stopping %g of 40 rounds", kept[1]);
  free(dir);
}
END_TEST

/* Leaf-wise growth stops at max_leaves: with fewer leaves than the depth
 * allows its trees differ from depth-wise ones, and with as many as the
 * depth allows it grows the same trees, bit for bit (every leaf whose split
 * gains is split either way; a split's gain is its node's alone). */
START_TEST(boost_lossguide_leaf_limit) {
  char *dir = test_tmpdir();
  static const char *const models[] = {
      "gradient_boosting(trees = 20, max_depth = 4)",
      "gradient_boosting(trees = 20, max_depth = 4, growth = lossguide, max_leaves = 16)",
      "gradient_boosting(trees = 20, max_depth = 4, growth = lossguide, max_leaves = 5)"};
  char *w[3];
  size_t len[3];
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "lg%d", i);
    char *spec = test_example_spec(dir, "breast_cancer", name, models[i], NULL);
    char *run = test_train(spec, dir, name), *path = test_path(run, "weights.bin");
    w[i] = test_read_file(path, &len[i]);
    ck_assert_ptr_nonnull(w[i]);
    free(path);
    free(run);
    free(spec);
  }
  ck_assert_msg(len[1] == len[0] && memcmp(w[1], w[0], len[0]) == 0,
                "16 leaves of depth 4 grew other trees than depth-wise growth");
  ck_assert_msg(len[2] == len[0] && memcmp(w[2], w[0], len[0]) != 0, "5 leaves grew the depth-wise trees");
  /* each tree of the 5-leaf model: at most 5 leaves, that is at most 4 nodes that split */
  const float *t = (const float *)w[2];
  int64_t inner = 15, stride = 3 * inner + 1;
  for (int k = 0; k < 20; k++) {
    int splits = 0;
    for (int64_t h = 0; h < inner; h++) splits += isfinite(t[k * stride + 2 * h + 1]);
    ck_assert_msg(splits <= 4, "tree %d splits %d nodes", k, splits);
    if (k == 0) ck_assert_msg(splits == 4, "the first tree splits %d nodes", splits);
  }
  for (int i = 0; i < 3; i++) free(w[i]);
  free(dir);
}
END_TEST

/* ---- refusals -------------------------------------------------------------- */


static const struct {
  const char *example, *model, *extra, *message;
} refusals[] = {
    {"iris", "random_forest()", "  hyperparameters { epochs = 5 }\n",
     "`hyperparameters.epochs` does not apply to a model fitted at once"},
    {"iris", "random_forest()", "  tuning { l2 in [0.1, 1] }\n",
     "searching 'l2' for a random forest is not supported by code generation yet"},
    {"diabetes", "random_forest(class_weight = balanced)", NULL,
     "class weights need a categorical target; 'progression' is numeric"},
    {"iris", "random_forest(criterion = squared_error)", NULL,
     "criterion squared_error needs a numeric target; 'species' is categorical"},
    {"digits", "random_forest(trees = 1000, max_depth = 16, criterion = gini)", NULL,
     "1000 trees of depth 16 with 10 outputs take"},
    {"iris", "random_forest()\n    dense(4)", NULL,
     "'random_forest' is a whole model; it cannot be combined with 'dense'"},
    {"iris", "gradient_boosting()", "  hyperparameters { epochs = 5 }\n",
     "`hyperparameters.epochs` does not apply to a model fitted at once"},
    {"iris", "gradient_boosting()", "  tuning { l2 in [0.1, 1] }\n",
     "searching 'l2' for gradient boosting is not supported by code generation yet"},
    {"iris", "gradient_boosting(loss = squared_error)", NULL,
     "loss squared_error needs a numeric target; 'species' is categorical"},
    {"digits", "gradient_boosting(trees = 5000, max_depth = 12, loss = log_loss)", NULL,
     "50000 trees of depth 12 with 1 outputs take"},
    {"iris", "gradient_boosting()\n    dense(4)", NULL,
     "'gradient_boosting' is a whole model; it cannot be combined with 'dense'"},
    {"iris", "gradient_boosting(max_leaves = 8)", NULL, "`max_leaves` applies to growth = lossguide"},
    {"iris", "gradient_boosting(growth = lossguide, max_leaves = 1)", NULL, "max_leaves"},
};

START_TEST(trees_refusals) {
  char *dir = test_tmpdir();
  for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
    test_expect_refused(dir, refusals[i].example, refusals[i].model, refusals[i].extra, refusals[i].message);
  free(dir);
}
END_TEST

Suite *forest_suite(void); /* the runner finds it by name */
Suite *forest_suite(void) {
  Suite *s = suite_create("forest");
  TCase *tc = tcase_create("forest");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, forest_parity_with_sklearn, 0, (int)(sizeof cases / sizeof cases[0]));
  tcase_add_loop_test(tc, boost_parity_with_sklearn, 0, (int)(sizeof boost_cases / sizeof boost_cases[0]));
  tcase_add_loop_test(tc, boost_lossguide_parity_with_xgboost, 0,
                      (int)(sizeof xgb_cases / sizeof xgb_cases[0]));
  tcase_add_loop_test(tc, trees_same_bits_for_any_thread_count, 0,
                      (int)(sizeof det_cases / sizeof det_cases[0]));
  tcase_add_test(tc, trees_predictor_answers_as_trained);
  tcase_add_test(tc, boost_early_stopping_keeps_the_best_round);
  tcase_add_test(tc, boost_lossguide_leaf_limit);
  tcase_add_test(tc, trees_refusals);
  suite_add_tcase(s, tc);
  return s;
}
