/* check_predict.c — the predictor's runtime (runtime/predict/): the
 * feature program built from real fits gives, bit for bit, the features
 * mlprt_fit_apply + mlprt_table_features (and the training program's own
 * data step) give the same rows; CSV and JSON lines input; every failsafe
 * under each policy, with its reason; exit statuses; answers in input
 * order across batches; drift (PSI) against a hand computation; a tampered
 * weight refused. The predictors here are built in C around a tiny
 * hand-written forward function; mlprt_predict_main runs in the test's
 * process with files for its standard streams. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "mlp/clean.h"
#include "mlp/predict.h"
#include "mlp/run.h"
#include "runtime/predict/predict_int.h"
#include "runtime/train/train_int.h"
#include "tests/unit/datautil.h"

/* ---- a fixture: mixed columns, missing values, outliers, unseen levels ---- */

#define ROWS 100

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* The CSV text of ROWS rows; the last rows bring levels training never saw. */
static char *fixture(char lines[ROWS + 1][160]) {
  uint32_t s = 12345;
  static const char *const colours[] = {"red", "green", "blue"}, *const sizes[] = {"small", "medium",
                                                                                   "large"};
  size_t cap = (ROWS + 1) * 160, len = 0;
  char *text = malloc(cap);
  snprintf(lines[0], 160, "t,a,b,c,d,e,f,g,h,w,y");
  for (int r = 1; r <= ROWS; r++) {
    char a[32], b[16], c[16], d[8], g[16];
    double av = (lcg(&s) % 10000) / 100.0;
    if (r % 17 == 0) snprintf(a, sizeof a, "%s", "");
    else if (r % 23 == 0) snprintf(a, sizeof a, "NA");
    else if (r % 31 == 0) snprintf(a, sizeof a, "1e3");
    else snprintf(a, sizeof a, "%.3f", av);
    if (r % 19 == 0) snprintf(b, sizeof b, "?");
    else snprintf(b, sizeof b, "%d", (int)(lcg(&s) % 50) - 10);
    if (r % 13 == 0) snprintf(c, sizeof c, "%s", "");
    else snprintf(c, sizeof c, "%s", r > 90 && r % 2 ? "mauve" : colours[lcg(&s) % 3]);
    snprintf(d, sizeof d, "%s", r % 11 == 0 ? "" : lcg(&s) % 2 ? "true" : "false");
    snprintf(g, sizeof g, "%s", r > 92 && r % 3 == 0 ? "huge" : sizes[lcg(&s) % 3]);
    double e = (lcg(&s) % 1000) / 7.0, f = (lcg(&s) % 650) / 100.0 - 1.5;
    char w[24] = ""; /* dates: a few days, some missing, one training never saw */
    if (r > 95) snprintf(w, sizeof w, "2025-03-01");
    else if (r % 29) snprintf(w, sizeof w, "2024-01-0%u", 1 + lcg(&s) % 4);
    snprintf(lines[r], 160, "%d,%s,%s,%s,%s,%.4f,%.2f,%s,%u,%s,%s", r, a, b, c, d, e, f, g, lcg(&s) % 10, w,
             lcg(&s) % 2 ? "yes" : "no");
  }
  for (int r = 0; r <= ROWS; r++) len += (size_t)snprintf(text + len, cap - len, "%s\n", lines[r]);
  return text;
}

/* The fields of a fixture line (no quotes in it), NUL-terminated in buf. */
static int split_line(const char *line, char *buf, const char **f, int max) {
  strcpy(buf, line);
  int n = 0;
  for (char *p = buf; n < max;) {
    f[n++] = p;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = 0;
    p = c + 1;
  }
  return n;
}

/* The plan inputs' fields from a line whose header is hdr. */
static void map_fields(const MlprtPredPlan *pl, const char *const *hdr, int nh, const char *const *vals,
                       const char **fields) {
  for (int64_t i = 0; i < pl->ninputs; i++) {
    fields[i] = NULL;
    for (int j = 0; j < nh; j++)
      if (strcmp(hdr[j], pl->inputs[i].name) == 0) fields[i] = vals[j];
  }
}

/* A predictor around a plan, without a model: for the transform alone. */
static MlprtPredictor bare(const MlprtPredPlan *pl) {
  MlprtPredictor p = {.name = "t", .task = MLPRT_TASK_REGRESSION, .n_in = pl->nfeatures, .n_out = 1,
                      .plan = pl, .on_missing_column = MLPRT_FAILSAFE_IMPUTE,
                      .on_unknown_category = MLPRT_FAILSAFE_IMPUTE, .on_out_of_range = MLPRT_FAILSAFE_IMPUTE,
                      .on_nan = MLPRT_FAILSAFE_IMPUTE, .fallback_value = NAN};
  return p;
}

/* Each row's features through the plan must equal want [rows, nf] bit for bit. */
static void check_rows(const MlprtPredPlan *pl, char lines[ROWS + 1][160], const int64_t *rowid, int64_t rows,
                       const float *want, int64_t nf) {
  ck_assert_int_eq(pl->nfeatures, nf);
  MlprtPredictor p = bare(pl);
  void *st = aligned_alloc(64, mlprt_pred_row_bytes(pl));
  mlprt_pred_row_init(st, pl);
  char hb[200], vb[200], why[256];
  const char *hdr[16], *vals[16], *fields[16];
  int nh = split_line(lines[0], hb, hdr, 16);
  float *x = malloc((size_t)nf * sizeof *x);
  for (int64_t r = 0; r < rows; r++) {
    split_line(lines[rowid ? rowid[r] : r + 1], vb, vals, 16);
    map_fields(pl, hdr, nh, vals, fields);
    ck_assert_int_eq(mlprt_pred_row(&p, fields, x, st, why, sizeof why), MLPRT_ROW_OK);
    for (int64_t f = 0; f < nf; f++)
      ck_assert_msg(memcmp(&x[f], &want[r * nf + f], sizeof(float)) == 0,
                    "row %lld feature %lld: %.9g, training %.9g (%s)", (long long)r, (long long)f, x[f],
                    want[r * nf + f], lines[rowid ? rowid[r] : r + 1]);
  }
  free(x);
  free(st);
}

/* Fit on the training rows, apply to all, keep the fit. */
#define FIT(call, t, fits, n)                                                        \
  do {                                                                               \
    MlprtError e_ = {0};                                                             \
    ck_assert_msg((call) == 0, "fit: %s", dt_err(&e_));                              \
    ck_assert_msg(mlprt_fit_apply(t, &(fits)[n], NULL, &e_) == 0, "apply: %s", dt_err(&e_)); \
    (n)++;                                                                           \
  } while (0)

START_TEST(plan_matches_fit_apply) {
  static char lines[ROWS + 1][160];
  char *text = fixture(lines);
  char *path = dt_write(dt_dir, "mixed.csv", text, 0);
  MlprtTable t;
  dt_load_ok(path, NULL, &t);
  char *schema_text = malloc(4096), *w = schema_text;
  for (int i = 0; i < t.ncols; i++)
    w += sprintf(w, "%s\t%s\n", t.cols[i].name, mlprt_col_type_name(t.cols[i].type));
  MlprtError e = {0};
  MlprtSplitParams sp = {.train = 0.7, .valid = 0.1, .test = 0.2, .seed = 3};
  ck_assert(mlprt_split(&t, &sp, &e) == 0);
  for (int64_t r = 90; r < t.nrows; r++) t.part[r] = MLPRT_TEST; /* the probe rows never train */
  MlprtFit fits[12];
  int n = 0;
  const char *ab[] = {"a", "b"}, *cd[] = {"c", "d"}, *a1[] = {"a"}, *b1[] = {"b"}, *e1[] = {"e"},
             *f1[] = {"f"}, *c1[] = {"c"}, *g1[] = {"g"};
  MlprtImputeParams med = {.cols = {ab, 2}, .strategy = MLPRT_IMPUTE_MEDIAN, .indicator = true};
  MlprtImputeParams mode = {.cols = {cd, 2}, .strategy = MLPRT_IMPUTE_MODE};
  MlprtOutlierParams clip = {.cols = {a1, 1}, .method = MLPRT_OUTLIER_ZSCORE, .threshold = 2};
  MlprtScaleParams st = {.cols = {a1, 1}, .method = MLPRT_SCALE_STANDARD};
  MlprtScaleParams mm = {.cols = {b1, 1}, .method = MLPRT_SCALE_MINMAX};
  MlprtScaleParams rb = {.cols = {e1, 1}, .method = MLPRT_SCALE_ROBUST};
  MlprtScaleParams lg = {.cols = {f1, 1}, .method = MLPRT_SCALE_LOG1P};
  MlprtEncodeParams oh = {.cols = {c1, 1}, .method = MLPRT_ENCODE_ONEHOT, .unknown_bucket = true};
  MlprtEncodeParams ord = {.cols = {g1, 1}, .method = MLPRT_ENCODE_ORDINAL};
  FIT(mlprt_impute_fit(&t, &med, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_impute_fit(&t, &mode, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_outliers_fit(&t, &clip, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_scale_fit(&t, &st, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_scale_fit(&t, &mm, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_scale_fit(&t, &rb, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_scale_fit(&t, &lg, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_encode_fit(&t, &oh, &fits[n], &e_), &t, fits, n);
  FIT(mlprt_encode_fit(&t, &ord, &fits[n], &e_), &t, fits, n);
  /* the ops the plan must match really ran: an unseen colour, a clipped a, log1p's NaN */
  ck_assert_int_gt(fits[7].cols[0].changed, 0);
  ck_assert_int_gt(fits[2].cols[0].changed, 0);
  ck_assert_int_gt(fits[6].cols[0].changed, 0);
  int64_t rows;
  int nf = mlprt_table_features(&t, -1, mlprt_table_find(&t, "y"), NULL, &rows);
  float *want = malloc((size_t)(rows * nf) * sizeof *want);
  mlprt_table_features(&t, -1, mlprt_table_find(&t, "y"), want, &rows);
  for (int64_t i = 0; i < rows * nf; i++)
    if (isnan(want[i])) want[i] = 0;
  MlprtPredSource src = {.schema = schema_text, .target = "y", .fits = fits, .nfits = n};
  MlprtPredPlan pl;
  char err[256];
  ck_assert_msg(mlprt_pred_plan_build(&src, &pl, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(pl.ninputs, 10); /* every column but the target */
  check_rows(&pl, lines, NULL, rows, want, nf);
  mlprt_pred_plan_free(&pl);
  for (int i = 0; i < n; i++) mlprt_fit_free(&fits[i]);
  free(want);
  free(schema_text);
  mlprt_table_free(&t);
  free(path);
  free(text);
}
END_TEST

/* The training program's own data step (split by time, so the probe rows
 * at the end are the tested ones; drop_columns; numbers hashed through
 * their text): its test features against the plan on the raw lines. */
START_TEST(plan_matches_training_prep) {
  static char lines[ROWS + 1][160];
  char *text = fixture(lines);
  char *path = dt_write(dt_dir, "mixed.csv", text, 0);
  MlprtCleanStep chain[] = {
      {.op = MLPRT_CLEAN_DROP_DUPLICATES, .select = MLPRT_SELECT_ALL},
      {.op = MLPRT_CLEAN_IMPUTE, .columns = "a\nb\n", .method = MLPRT_IMPUTE_MEDIAN, .flag = 1},
      {.op = MLPRT_CLEAN_IMPUTE, .select = MLPRT_SELECT_CATEGORICAL, .method = MLPRT_IMPUTE_MODE},
      {.op = MLPRT_CLEAN_IMPUTE, .columns = "w\n", .method = MLPRT_IMPUTE_MODE},
      {.op = MLPRT_CLEAN_CLIP_OUTLIERS, .columns = "a\ne\n", .keep = "e\n", .method = MLPRT_OUTLIER_ZSCORE,
       .param = 2},
      {.op = MLPRT_CLEAN_STANDARDIZE, .columns = "a\n"},
      {.op = MLPRT_CLEAN_MINMAX, .columns = "b\n", .low = -1, .high = 1},
      {.op = MLPRT_CLEAN_ROBUST_SCALE, .columns = "e\n"},
      {.op = MLPRT_CLEAN_LOG1P, .columns = "f\n"},
      {.op = MLPRT_CLEAN_DROP_COLUMNS, .columns = "t\n"},
      {.op = MLPRT_CLEAN_ONEHOT, .columns = "c\nd\n"},
      /* four training dates: two keep a column, two share w=__other__ with the unseen date */
      {.op = MLPRT_CLEAN_ONEHOT, .columns = "w\n", .param = 3},
      {.op = MLPRT_CLEAN_ORDINAL, .columns = "g\n"},
      {.op = MLPRT_CLEAN_HASH_ENCODE, .columns = "h\n", .param = 8},
  };
  MlprtModel model = {.task = MLPRT_TASK_BINARY, .n_out = 1};
  MlprtProgram p = {.name = "mixed", .data_path = path, .target = "y", .val_frac = 0.1, .test_frac = 0.2,
                    .split_seed = 5, .split_time = "t", .clean = chain,
                    .nclean = (int64_t)(sizeof chain / sizeof *chain), .models = &model, .nmodels = 1};
  char err[512];
  /* the width the chain makes of the fixture, which the data step must
   * give exactly (else it fails naming both counts) */
  int64_t features = 23, classes = 2;
  p.n_features = features, p.n_classes = classes;
  model.n_in = features;
  MlprtDataset d;
  ck_assert_msg(mlprt_prep_load(&p, path, NULL, &d, err, sizeof err) == 0, "%s", err);
  char *clean = cJSON_Print(d.cleaning);
  char *cpath = dt_write(dt_dir, "cleaning.json", clean, 0);
  MlprtFit *fits;
  int nfits;
  MlprtError e = {0};
  ck_assert_msg(mlprt_fits_read(cpath, &fits, &nfits, &e) == 0, "%s", dt_err(&e));
  MlprtPredSource src = {.schema = d.schema, .target = "y", .fits = fits, .nfits = nfits, .clean = chain,
                         .nclean = p.nclean};
  /* keep: e is never clipped; minmax onto [-1, 1]; w past max_levels */
  ck_assert_int_eq(fits[3].kind, MLPRT_STEP_OUTLIERS);
  ck_assert_int_eq(fits[3].n, 1);
  ck_assert_str_eq(fits[3].cols[0].column, "a");
  ck_assert_int_eq(fits[5].kind, MLPRT_STEP_SCALE);
  ck_assert_int_eq(fits[5].method, MLPRT_SCALE_MINMAX);
  bool onto = false; /* some feature spans exactly [-1, 1] over the training rows: b */
  for (int64_t j = 0; j < d.F && !onto; j++) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < d.n[MLPRT_TRAIN]; i++) {
      float v = d.x[MLPRT_TRAIN][i * d.F + j];
      lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    onto = fabsf(lo + 1) < 1e-6f && fabsf(hi - 1) < 1e-6f;
  }
  ck_assert(onto);
  const MlprtColFit *wf = &fits[nfits - 1 - 2].cols[0];
  ck_assert_str_eq(wf->column, "w");
  ck_assert_int_eq(wf->nkept, 2);
  ck_assert_int_eq(wf->nlevels, 4);
  ck_assert_ptr_nonnull(strstr(clean, "\"other_levels\""));
  MlprtPredPlan pl;
  ck_assert_msg(mlprt_pred_plan_build(&src, &pl, err, sizeof err) == 0, "%s", err);
  int s = d.raw_split;
  ck_assert_int_eq(d.raw.nrows, d.n[s]);
  ck_assert_int_ge(d.raw.rowid[0], 81); /* the latest rows, with the unseen levels */
  check_rows(&pl, lines, d.raw.rowid, d.n[s], d.x[s], d.F);
  /* the dates were filled and made text, a boolean and a number too */
  int seen[MLPRT_COL_NTYPES] = {0}, filled_date = 0;
  for (int64_t i = 0; i < pl.nsteps; i++) {
    if (pl.steps[i].op == MLPRT_PSTEP_TEXT) seen[pl.steps[i].n]++;
    filled_date += pl.steps[i].op == MLPRT_PSTEP_FILL && pl.steps[i].n == MLPRT_COL_DATETIME;
  }
  ck_assert_int_eq(seen[MLPRT_COL_DATETIME], 1);
  ck_assert_int_eq(seen[MLPRT_COL_BOOL], 1);
  ck_assert_int_eq(seen[MLPRT_COL_INT], 1);
  ck_assert_int_eq(filled_date, 1);
  /* a step the compiler traced on a table of another width stops the plan
   * there, naming both counts */
  MlprtPredPlan bad;
  chain[9].ncols = 99;
  ck_assert_int_ne(mlprt_pred_plan_build(&src, &bad, err, sizeof err), 0);
  ck_assert_msg(strstr(err, "cleaning step 10 (drop_columns): the chain has ") && strstr(err, "expects 99"),
                "%s", err);
  chain[9].ncols = 0;
  /* without the chain, the column drop_columns took out is still there:
   * the next fit, which met the narrower table, refuses to be placed */
  MlprtPredSource alone = {.schema = d.schema, .target = "y", .fits = fits, .nfits = nfits};
  MlprtPredPlan pl2;
  ck_assert_int_ne(mlprt_pred_plan_build(&alone, &pl2, err, sizeof err), 0);
  ck_assert_msg(strstr(err, "the chain has ") && strstr(err, "where the step was fitted on"), "%s", err);
  mlprt_pred_plan_free(&pl);
  mlprt_fits_free(fits, nfits);
  mlprt_prep_free(&d);
  free(clean);
  free(cpath);
  free(path);
  free(text);
}
END_TEST

/* onehot unknown = error: the predictor rejects a row whose level
 * training never saw, naming it; a known level passes. */
START_TEST(plan_rejects_unseen_level_when_strict) {
  char *levels[] = {"blue", "red"};
  MlprtColFit cf = {.column = "c", .levels = levels, .nlevels = 2, .nkept = 2};
  MlprtFit f = {
      .kind = MLPRT_STEP_ENCODE, .method = MLPRT_ENCODE_ONEHOT, .strict = true, .cols = &cf, .n = 1};
  MlprtPredSource src = {.schema = "c\tcategory\ny\tfloat\n", .target = "y", .fits = &f, .nfits = 1};
  MlprtPredPlan pl;
  char err[256], why[256];
  ck_assert_msg(mlprt_pred_plan_build(&src, &pl, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(pl.nfeatures, 2);
  MlprtPredictor p = bare(&pl);
  void *st = aligned_alloc(64, mlprt_pred_row_bytes(&pl));
  mlprt_pred_row_init(st, &pl);
  float x[2];
  const char *red[] = {"red"}, *mauve[] = {"mauve"};
  ck_assert_int_eq(mlprt_pred_row(&p, red, x, st, why, sizeof why), MLPRT_ROW_OK);
  ck_assert(x[0] == 0 && x[1] == 1);
  ck_assert_int_eq(mlprt_pred_row(&p, mauve, x, st, why, sizeof why), MLPRT_ROW_REJECT);
  ck_assert_ptr_nonnull(strstr(why, "mauve"));
  free(st);
  mlprt_pred_plan_free(&pl);
}
END_TEST

START_TEST(plan_refuses_row_dependent_steps) {
  MlprtFit f = {.kind = MLPRT_STEP_IMPUTE, .method = MLPRT_IMPUTE_FFILL};
  MlprtColFit cf = {.column = "x"};
  f.cols = &cf, f.n = 1;
  MlprtPredSource src = {.schema = "x\tfloat\ny\tfloat\n", .target = "y", .fits = &f, .nfits = 1};
  MlprtPredPlan pl;
  char err[256];
  ck_assert_int_eq(mlprt_pred_plan_build(&src, &pl, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "ffill"));
  MlprtCleanStep vec = {.op = MLPRT_CLEAN_BAG_OF_WORDS, .select = MLPRT_SELECT_TEXT};
  MlprtPredSource src2 = {.schema = "x\tfloat\ny\tfloat\n", .target = "y", .clean = &vec, .nclean = 1};
  ck_assert_int_eq(mlprt_pred_plan_build(&src2, &pl, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "bag_of_words"));
  /* a step on the target: the predictor never sees it */
  MlprtFit g = {.kind = MLPRT_STEP_SCALE, .method = MLPRT_SCALE_STANDARD};
  MlprtColFit gc = {.column = "y", .index = 1, .a = 0, .b = 1};
  g.cols = &gc, g.n = 1;
  MlprtPredSource src3 = {.schema = "x\tfloat\ny\tfloat\n", .target = "y", .fits = &g, .nfits = 1};
  ck_assert_int_eq(mlprt_pred_plan_build(&src3, &pl, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "target"));
  /* resample with a linear fill reads values a stream brings later; resample after a step that is
   * not sort_by would put the rows that step made on the grid, not the raw ones: both refused, named */
  MlprtCleanStep grid[2] = {{.op = MLPRT_CLEAN_COERCE, .select = MLPRT_SELECT_NAMES, .columns = "x\n",
                             .param = MLPRT_COL_FLOAT, .by_idx = -1},
                            {.op = MLPRT_CLEAN_RESAMPLE, .select = MLPRT_SELECT_NAMES, .columns = "when\n",
                             .param = 86400, .method = MLPRT_GAP_LINEAR, .by_idx = -1}};
  MlprtPredSource src4 = {
      .schema = "when\tdatetime\nx\tfloat\ny\tfloat\n", .target = "y", .clean = grid + 1, .nclean = 1};
  ck_assert_int_eq(mlprt_pred_plan_build(&src4, &pl, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "cleaning step 1 (resample): fill = linear reads the next observed value"), "%s",
                err);
  grid[1].method = MLPRT_GAP_FFILL;
  ck_assert_int_eq(mlprt_pred_plan_build(&src4, &pl, err, sizeof err), 0);
  ck_assert_int_eq(pl.steps[0].op, MLPRT_PSTEP_RESAMPLE);
  mlprt_pred_plan_free(&pl);
  src4.clean = grid, src4.nclean = 2;
  ck_assert_int_eq(mlprt_pred_plan_build(&src4, &pl, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "only sort_by may come before resample, not coerce (step 1)"), "%s", err);
}
END_TEST

/* IDX images: pixel / 255.0f, as the training program reads its bytes. */
START_TEST(plan_image_pixels) {
  MlprtPredSource src = {.image_pixels = 4};
  MlprtPredPlan pl;
  char err[256];
  ck_assert_msg(mlprt_pred_plan_build(&src, &pl, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(pl.nfeatures, 4);
  ck_assert_str_eq(pl.inputs[3].name, "pixel3");
  MlprtPredictor p = bare(&pl);
  void *st = aligned_alloc(64, mlprt_pred_row_bytes(&pl));
  mlprt_pred_row_init(st, &pl);
  char why[128];
  for (int v = 0; v < 256; v += 4) {
    char t[4][8];
    const char *f[4];
    for (int k = 0; k < 4; k++) snprintf(t[k], 8, "%d", v + k), f[k] = t[k];
    float x[4];
    ck_assert_int_eq(mlprt_pred_row(&p, f, x, st, why, sizeof why), MLPRT_ROW_OK);
    for (int k = 0; k < 4; k++) {
      uint8_t px = (uint8_t)(v + k);
      float want = px / 255.0f;
      ck_assert(memcmp(&x[k], &want, 4) == 0);
    }
  }
  free(st);
  mlprt_pred_plan_free(&pl);
}
END_TEST

/* ---- a tiny predictor: x (float in [0, 10]), colour (red, blue), flag ---- */

static const MlprtPredInput tiny_in[] = {{"x", MLPRT_COL_FLOAT, 0, 10, NULL, 0},
                                         {"colour", MLPRT_COL_CATEGORY, NAN, NAN, "blue\nred\n", 2},
                                         {"flag", MLPRT_COL_BOOL, NAN, NAN, NULL, 0},
                                         {"id", MLPRT_COL_INT, 0, 1, NULL, 0}}; /* read by no feature */
static const MlprtPredStep tiny_steps[] = {
    {MLPRT_PSTEP_FILL, 0, 0, MLPRT_COL_FLOAT, 5, 0, NULL},
    {MLPRT_PSTEP_ONEHOT, 1, 4, 2, 0, 0, "blue\nred\n"},
};
static const int64_t tiny_feat[] = {0, 2, 4, 5};
static const MlprtPredPlan tiny_plan = {tiny_in, 4, tiny_steps, 2, 6, tiny_feat, 4, NULL, 0, NULL};
static float tiny_weights[4] = {0.1f, 0.2f, 0.3f, 0.4f};
static char tiny_sha[65];

/* P(yes) = x / 10 + 0.05 flag: the features are visible in the answer. */
static void tiny_forward(const float *x, float *out, int64_t n, void *scratch) {
  (void)scratch;
  for (int64_t i = 0; i < n; i++) {
    float q = x[i * 4] * tiny_weights[0] + 0.05f * x[i * 4 + 1];
    out[i * 2 + 1] = q, out[i * 2] = 1 - q;
  }
}

static MlprtPredictor tiny(void) {
  mlprt_sha256_hex(tiny_weights, sizeof tiny_weights, tiny_sha);
  MlprtPredictor p = {.name = "tiny",
                      .version = "1.2.3",
                      .spec_sha256 = "aa",
                      .data_sha256 = "bb",
                      .weights_sha256 = tiny_sha,
                      .card = "# tiny\nA card.\n",
                      .compiler = "mlpc test",
                      .task = MLPRT_TASK_MULTICLASS,
                      .n_in = 4,
                      .n_out = 2,
                      .classes = "no\nyes\n",
                      .forward = tiny_forward,
                      .batch = 4,
                      .scratch_bytes = 64,
                      .weights = tiny_weights,
                      .weights_bytes = sizeof tiny_weights,
                      .plan = &tiny_plan,
                      .on_missing_column = MLPRT_FAILSAFE_REJECT,
                      .on_unknown_category = MLPRT_FAILSAFE_REJECT,
                      .on_out_of_range = MLPRT_FAILSAFE_REJECT,
                      .on_nan = MLPRT_FAILSAFE_REJECT,
                      .range_margin = 0.1,
                      .fallback_value = NAN,
                      .fallback_label = "no",
                      .drift_threshold = 0.2,
                      .drift_window = 4,
                      .drift_bins = 2};
  return p;
}

/* Point fd (0, 1 or 2) at path, returning a copy of the old one. */
static int redirect(int fd, const char *path, int flags) {
  int saved = dup(fd), f = open(path, flags, 0644);
  ck_assert(saved >= 0 && f >= 0 && dup2(f, fd) == fd);
  close(f);
  return saved;
}

static void restore(int fd, int saved) {
  ck_assert(dup2(saved, fd) == fd);
  close(saved);
}

/* Run mlprt_predict_main in this process with its standard streams on
 * files: stdin reading the file in, stdout and stderr coming back
 * (malloc'd). Returns its exit status. */
static int run_main_on(const MlprtPredictor *p, const char *in, const char *const *args, char **out,
                       char **err) {
  char op[512], ep[512];
  snprintf(op, sizeof op, "%s/stdout.txt", dt_dir);
  snprintf(ep, sizeof ep, "%s/stderr.txt", dt_dir);
  fflush(NULL);
  int s0 = redirect(0, in, O_RDONLY), s1 = redirect(1, op, O_WRONLY | O_CREAT | O_TRUNC),
      s2 = redirect(2, ep, O_WRONLY | O_CREAT | O_TRUNC);
  clearerr(stdin);
  char *argv[16] = {"pred"};
  int argc = 1;
  for (; args && args[argc - 1]; argc++) argv[argc] = (char *)args[argc - 1];
  int rc = mlprt_predict_main(argc, argv, p);
  fflush(NULL);
  restore(0, s0);
  restore(1, s1);
  restore(2, s2);
  clearerr(stdin);
  *out = test_read_file(op, NULL);
  *err = test_read_file(ep, NULL);
  return rc;
}

/* The same with stdin holding the text input. */
static int run_main(const MlprtPredictor *p, const char *input, const char *const *args, char **out,
                    char **err) {
  char *in = dt_write(dt_dir, "stdin.txt", input ? input : "", 0);
  int rc = run_main_on(p, in, args, out, err);
  free(in);
  return rc;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

START_TEST(csv_input_rfc4180) {
  MlprtPredictor p = tiny();
  char *out, *err;
  /* BOM, reordered and quoted header, an extra column, doubled quotes, CRLF */
  const char *in = "\xEF\xBB\xBF" "flag,\"colour\",note,x\r\n"
                   "true,red,\"a, \"\"quoted\"\"\r\nnote\",2\r\n"
                   "false,\"blue\",plain,\"4\"\r\n"
                   "\r\n"
                   "false,blue,x,8";
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 0);
  ck_assert_str_eq(out, "label,p_no,p_yes,error,failsafe\n"
                        "no,0.75,0.25,,\n"
                        "no,0.600000024,0.400000006,,\n"
                        "yes,0.199999988,0.800000012,,\n");
  ck_assert_ptr_nonnull(strstr(err, "ignoring input columns the model does not read: 'note'"));
  ck_assert_int_eq(count_lines(err), 1);
  free(out);
  free(err);
  /* JSON lines out of CSV in */
  const char *args[] = {"--output", "jsonl", NULL};
  ck_assert_int_eq(run_main(&p, "x,colour,flag\n2,red,false\n", args, &out, &err), 0);
  ck_assert_str_eq(out, "{\"label\":\"no\",\"probabilities\":{\"no\":0.800000012,\"yes\":0.200000003}}\n");
  free(out);
  free(err);
}
END_TEST

/* A field longer than the reader's first buffer, and a quote never closed. */
START_TEST(csv_malformed_rows) {
  MlprtPredictor p = tiny();
  size_t n = 20000;
  char *in = malloc(n + 64);
  strcpy(in, "x,colour,flag\n1,");
  size_t k = strlen(in);
  memset(in + k, 'q', n);
  strcpy(in + k + n, ",true\n2,\"red,false\n\n\n");
  char *out, *err;
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 1);
  ck_assert_str_eq(
      out, "label,p_no,p_yes,error,failsafe\n"
           ",,,column 'colour': 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' is a level training never saw,\n"
           ",,,column 'colour': a quote opened on line 3 is not closed before the end of the input,\n");
  ck_assert_str_eq(err, "2 of 2 rows rejected\n");
  free(out);
  free(err);
  free(in);
}
END_TEST

/* One bad record among good ones gets one rejection, and reading starts
 * again at the line after it: a quote opened in a numeric column closes
 * on its own line, one in a text column within 64 KiB, or the record is
 * rejected and its later lines read again as records. */
static char *framing_input(const char *bad, int good_after) {
  size_t cap = 64 + strlen(bad) + (size_t)good_after * 16;
  char *in = malloc(cap), *w = in;
  w += sprintf(w, "x,colour,flag\n2,red,false\n%s\n", bad);
  for (int i = 0; i < good_after; i++) w += sprintf(w, "%d,%s,true\n", i % 11, i % 2 ? "blue" : "red");
  return in;
}

static void expect_framing(const MlprtPredictor *p, const char *out, const char *reason, int good_after) {
  char *copy = strdup(out), **lines;
  int n = test_split_lines(copy, &lines);
  ck_assert_int_eq(n, good_after + 3); /* the header, the good row, the bad one, the rest */
  ck_assert_str_eq(lines[1], "no,0.800000012,0.200000003,,");
  ck_assert_msg(strstr(lines[2], reason), "'%s' says '%s'", lines[2], reason);
  ck_assert_msg(strncmp(lines[2], ",,,", 3) == 0, "a rejection: %s", lines[2]);
  for (int i = 0; i < good_after; i++) { /* P(yes) = x / 10 + 0.05 */
    float q = (float)(i % 11) * 0.1f + 0.05f;
    char want[128], name[8];
    snprintf(name, sizeof name, "%s", q > 1 - q ? "yes" : "no");
    snprintf(want, sizeof want, "%s,%.9g,%.9g,,", name, (float)(1 - q), q);
    ck_assert_msg(strcmp(lines[3 + i], want) == 0, "row %d: '%s', not '%s'", i, lines[3 + i], want);
  }
  (void)p;
  free(lines);
  free(copy);
}

START_TEST(csv_framing_resynchronises) {
  MlprtPredictor p = tiny();
  p.on_out_of_range = MLPRT_FAILSAFE_IMPUTE;
  static const struct {
    const char *bad, *reason;
  } cases[] = {
      {"\"3,red,false", "column 'x': a quote opened on line 3 is not closed on that line"},
      {"3,\"red,false", "column 'colour': a quote opened on line 3 is not closed before the end"},
      {"5#0.1,red,false", "column 'x' holds a NUL byte"}, /* # becomes a NUL byte */
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    char *in = framing_input(cases[k].bad, 1000);
    size_t len = strlen(in);
    if (strchr(in, '#')) *strchr(in, '#') = 0;
    char *path = dt_write(dt_dir, "framing.csv", in, len);
    const char *args[] = {path, NULL};
    char *out, *err;
    ck_assert_int_eq(run_main(&p, NULL, args, &out, &err), 1);
    expect_framing(&p, out, cases[k].reason, 1000);
    ck_assert_str_eq(err, "1 of 1002 rows rejected\n");
    free(out);
    free(err);
    /* the same on standard input */
    ck_assert_int_eq(run_main_on(&p, path, NULL, &out, &err), 1);
    ck_assert_int_eq(count_lines(out), 1003);
    free(out);
    free(err);
    free(path);
    free(in);
  }
  /* a quoted text field past 64 KiB: rejected, and the lines inside it read again */
  size_t n = 70000;
  char *big = malloc(n + 64);
  strcpy(big, "3,\"red");
  for (size_t i = strlen(big); i < n; i++) big[i] = i % 100 ? 'a' : '\n';
  big[n] = 0;
  char *in = framing_input(big, 20);
  char *out, *err;
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 1);
  /* each line of the stray field after the first is read again as a record of one field */
  ck_assert_ptr_nonnull(strstr(out, "column 'colour': a quote opened on line 3 is not closed within 64 KiB"));
  ck_assert_ptr_nonnull(strstr(out, "no,0.949999988,0.0500000007,,\n"));
  free(out);
  free(err);
  free(in);
  free(big);
  /* a closed quote's line breaks are not read again when a later quote fails */
  ck_assert_int_eq(run_main(&p, "x,colour,flag\n1,\"bl\nue\",\"true", NULL, &out, &err), 1);
  ck_assert_str_eq(out,
                   "label,p_no,p_yes,error,failsafe\n"
                   ",,,column 'flag': a quote opened on line 3 is not closed before the end of the input,\n");
  free(out);
  free(err);
  /* duplicate columns are refused as training refuses them */
  ck_assert_int_eq(run_main(&p, "x,colour,flag,x\n1,red,true,2\n", NULL, &out, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "header: duplicate column name 'x' (columns 1 and 4)"));
  free(out);
  free(err);
}
END_TEST

/* Plain records (read a line at a time from the buffer) and the records
 * only the byte-by-byte reader takes (quotes, a carriage return inside a
 * line, blank lines, a record cut by the end of the 64 KiB buffer) give
 * the same answers and count lines alike: a rejection after them names its
 * line. */
START_TEST(csv_plain_and_general_records_agree) {
  MlprtPredictor p = tiny();
  p.on_out_of_range = MLPRT_FAILSAFE_IMPUTE;
  enum { NROWS = 6000 };
  char *in = malloc(64 + NROWS * 32), *w = in;
  w += sprintf(w, "x,colour,flag\n");
  int line = 1;
  for (int i = 0; i < NROWS; i++) {
    const char *colour = i % 2 ? "blue" : "red";
    if (i % 5 == 1) w += sprintf(w, "%d,\"%s\",true", i % 11, colour);
    else if (i % 5 == 2) w += sprintf(w, "%d,%s\r,true", i % 11, colour); /* not the CRLF's \r */
    else w += sprintf(w, "%d,%s,true", i % 11, colour);
    w += sprintf(w, "%s", i % 3 ? "\n" : "\r\n");
    line++;
    if (i % 7 == 0) w += sprintf(w, "\n"), line++;
  }
  sprintf(w, "\"3,red,true\n");
  char *out, *err, want[160];
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 1);
  char **lines;
  int n = test_split_lines(out, &lines);
  ck_assert_int_eq(n, NROWS + 2);
  for (int i = 0; i < NROWS; i++) {
    float q = (float)(i % 11) * 0.1f + 0.05f;
    if (i % 5 == 2) /* "red\r" and "blue\r" are levels training never saw (the answer quotes the \r) */
      snprintf(want, sizeof want, ",,,\"column 'colour': '%s\r' is a level training never saw\",",
               i % 2 ? "blue" : "red");
    else snprintf(want, sizeof want, "%s,%.9g,%.9g,,", q > 1 - q ? "yes" : "no", (float)(1 - q), q);
    ck_assert_msg(strcmp(lines[1 + i], want) == 0, "row %d: '%s', not '%s'", i, lines[1 + i], want);
  }
  snprintf(want, sizeof want, "a quote opened on line %d is not closed on that line", line + 1);
  ck_assert_msg(strstr(lines[NROWS + 1], want), "'%s' says '%s'", lines[NROWS + 1], want);
  free(lines);
  free(out);
  free(err);
  free(in);
}
END_TEST

/* JSON lines: a NUL byte, an escaped NUL, a repeated key, a number past
 * float range: each line its own rejection, the rows around answered. */
START_TEST(jsonl_framing) {
  MlprtPredictor p = tiny();
  static const char in[] = "{\"x\": 2, \"colour\": \"red\", \"flag\": false}\n"
                           "{\"x\": 2, \"colour\": \"r\0ed\", \"flag\": false}\n"
                           "{\"x\": 2, \"colour\": \"r\\u0000ed\", \"flag\": false}\n"
                           "{\"x\": 2, \"x\": 3, \"colour\": \"red\", \"flag\": false}\n"
                           "{\"x\": 1e39, \"colour\": \"red\", \"flag\": false}\n"
                           "{\"x\": 4, \"colour\": \"blue\", \"flag\": false}\n";
  char *path = dt_write(dt_dir, "rows.jsonl", in, sizeof in - 1);
  const char *args[] = {path, NULL};
  char *out, *err;
  ck_assert_int_eq(run_main(&p, NULL, args, &out, &err), 1);
  ck_assert_str_eq(out, "{\"label\":\"no\",\"probabilities\":{\"no\":0.800000012,\"yes\":0.200000003}}\n"
                        "{\"error\":\"line 2 holds a NUL byte\"}\n"
                        "{\"error\":\"a JSON string holds an escaped NUL character\"}\n"
                        "{\"error\":\"column 'x' appears twice in the JSON object\"}\n"
                        "{\"error\":\"column 'x': '1e39' does not fit a 32-bit float "
                        "(beyond 3.4e38 in magnitude)\"}\n"
                        "{\"label\":\"no\",\"probabilities\":{\"no\":0.600000024,\"yes\":0.400000006}}\n");
  ck_assert_str_eq(err, "4 of 6 rows rejected\n");
  free(out);
  free(err);
  free(path);
}
END_TEST

START_TEST(jsonl_input) {
  MlprtPredictor p = tiny();
  char *path = dt_write(dt_dir, "rows.jsonl",
                        "{\"flag\": true, \"colour\": \"r\\u0065d\", \"x\": 2, \"extra\": [1]}\n"
                        "{\"colour\":\"blue\",\"x\":4.0,\"flag\":false,\"other\":\"z\"}\n"
                        "\n"
                        "{\"x\": null, \"colour\": \"blue\", \"flag\": false}\n"
                        "not json\n",
                        0);
  const char *args[] = {path, NULL};
  char *out, *err;
  ck_assert_int_eq(run_main(&p, NULL, args, &out, &err), 1);
  ck_assert_str_eq(out,
                   "{\"error\":\"a value of the JSON object is an object or an array, not a column value\"}\n"
                   "{\"label\":\"no\",\"probabilities\":{\"no\":0.600000024,\"yes\":0.400000006}}\n"
                   "{\"error\":\"column 'x' has no value\"}\n"
                   "{\"error\":\"the line is not a JSON object\"}\n");
  ck_assert_ptr_nonnull(strstr(err, "3 of 4 rows rejected"));
  free(out);
  free(err);
  /* CSV answers for JSON input; null imputed under the impute policy */
  p.on_nan = MLPRT_FAILSAFE_IMPUTE;
  const char *args2[] = {path, "--output", "csv", NULL};
  ck_assert_int_eq(run_main(&p, NULL, args2, &out, &err), 1);
  ck_assert_str_eq(out, "label,p_no,p_yes,error,failsafe\n"
                        ",,,\"a value of the JSON object is an object or an array, not a column value\",\n"
                        "no,0.600000024,0.400000006,,\n"
                        "no,0.5,0.5,,impute\n"
                        ",,,the line is not a JSON object,\n");
  ck_assert_ptr_nonnull(
      strstr(err, "1 of 4 answers changed by a failsafe: 1 imputed, 0 clipped, 0 fallback"));
  free(out);
  free(err);
  free(path);
}
END_TEST

/* One row through mlprt_predict_fields: the returned class, the reason. */
static int one(const MlprtPredictor *p, const char *x, const char *colour, const char *flag, float *out,
               char *why) {
  const char *f[4] = {x, colour, flag, NULL};
  void *scratch = aligned_alloc(64, mlprt_predict_scratch_bytes(p));
  int k = mlprt_predict_fields(p, f, out, scratch, why, 256);
  free(scratch);
  return k;
}

START_TEST(failsafes_each_policy) {
  MlprtPredictor p = tiny();
  float o[2];
  char why[256];
  ck_assert_int_eq(one(&p, "3", "red", "true", o, why), 0);
  ck_assert_str_eq(why, "");
  ck_assert_float_eq(o[1], 0.3f + 0.05f);
  /* id reaches no feature: neither required nor checked */
  const char *f4[4] = {"3", "red", "true", "abc"};
  void *scratch = aligned_alloc(64, mlprt_predict_scratch_bytes(&p));
  ck_assert_int_eq(mlprt_predict_fields(&p, f4, o, scratch, why, sizeof why), 0);
  ck_assert_str_eq(why, "");
  free(scratch);
  /* missing column */
  ck_assert_int_eq(one(&p, NULL, "red", "true", o, why), -1);
  ck_assert_str_eq(why, "column 'x' is missing from the input");
  p.on_missing_column = MLPRT_FAILSAFE_IMPUTE; /* the chain fills x with 5 */
  ck_assert_int_eq(one(&p, NULL, "red", "false", o, why), 0);
  ck_assert_float_eq(o[1], 0.5f);
  p.on_missing_column = MLPRT_FAILSAFE_FALLBACK;
  ck_assert_int_eq(one(&p, NULL, "red", "false", o, why), 0); /* the fallback class "no" */
  ck_assert_str_eq(why, "column 'x' is missing from the input");
  ck_assert_float_eq(o[0], 1.0f);
  p.on_missing_column = MLPRT_FAILSAFE_CLIP; /* clipping is for ranges: elsewhere it rejects */
  ck_assert_int_eq(one(&p, NULL, "red", "false", o, why), -1);
  p.on_missing_column = MLPRT_FAILSAFE_FALLBACK;
  /* unknown category */
  ck_assert_int_eq(one(&p, "3", "green", "true", o, why), -1);
  ck_assert_str_eq(why, "column 'colour': 'green' is a level training never saw");
  p.on_unknown_category = MLPRT_FAILSAFE_IMPUTE;
  ck_assert_int_eq(one(&p, "3", "green", "true", o, why), 0);
  p.on_unknown_category = MLPRT_FAILSAFE_FALLBACK;
  p.fallback_label = NULL; /* none declared: the row is rejected after all */
  ck_assert_int_eq(one(&p, "3", "green", "true", o, why), -1);
  ck_assert_str_eq(why,
                   "column 'colour': 'green' is a level training never saw (and no fallback is declared)");
  p.fallback_label = "yes";
  ck_assert_int_eq(one(&p, "3", "green", "true", o, why), 1);
  /* out of range: [0, 10] with a margin of 10% of the width */
  ck_assert_int_eq(one(&p, "10.9", "red", "false", o, why), 1); /* within the margin */
  ck_assert_int_eq(one(&p, "11.5", "red", "false", o, why), -1);
  ck_assert_str_eq(why, "column 'x': 11.5 is outside the training range [0, 10]");
  p.on_out_of_range = MLPRT_FAILSAFE_CLIP;
  ck_assert_int_eq(one(&p, "11.5", "red", "false", o, why), 1);
  ck_assert_float_eq(o[1], 1.0f);
  ck_assert_int_eq(one(&p, "-4", "red", "false", o, why), 0);
  ck_assert_float_eq(o[1], 0.0f);
  p.on_out_of_range = MLPRT_FAILSAFE_IMPUTE;
  ck_assert_int_eq(one(&p, "-4", "red", "false", o, why), 0);
  ck_assert_float_eq(o[1], 0.5f);
  p.on_out_of_range = MLPRT_FAILSAFE_FALLBACK;
  ck_assert_int_eq(one(&p, "-4", "red", "false", o, why), 1);
  ck_assert_str_eq(why, "column 'x': -4 is outside the training range [0, 10]");
  /* missing values and unparsable ones: on_nan, each with its reason */
  ck_assert_int_eq(one(&p, "NA", "red", "false", o, why), -1);
  ck_assert_str_eq(why, "column 'x' has no value");
  ck_assert_int_eq(one(&p, "abc", "red", "false", o, why), -1);
  ck_assert_str_eq(why, "column 'x': 'abc' is not a number");
  ck_assert_int_eq(one(&p, "2", "red", "maybe", o, why), -1);
  ck_assert_str_eq(why, "column 'flag': 'maybe' is not true or false");
  p.on_nan = MLPRT_FAILSAFE_IMPUTE;
  ck_assert_int_eq(one(&p, "abc", "red", "false", o, why), 0);
  ck_assert_float_eq(o[1], 0.5f);
  ck_assert_int_eq(one(&p, "2", "", "false", o, why), 0); /* a missing colour: one-hot all zero */
  p.on_nan = MLPRT_FAILSAFE_FALLBACK;
  ck_assert_int_eq(one(&p, "?", "red", "false", o, why), 1);
  ck_assert_str_eq(why, "column 'x' has no value");
  /* a reject outweighs a fallback anywhere in the row */
  p.on_unknown_category = MLPRT_FAILSAFE_REJECT;
  ck_assert_int_eq(one(&p, "?", "green", "false", o, why), -1);
  ck_assert_str_eq(why, "column 'colour': 'green' is a level training never saw");
}
END_TEST

/* The spec's na_values travel with the plan: what training read as
 * missing, the predictor reads as missing too; without them the loader's
 * defaults apply and "-999" is a number. */
START_TEST(declared_missing_texts) {
  MlprtPredictor p = tiny();
  p.on_nan = MLPRT_FAILSAFE_IMPUTE;
  float o[2];
  char why[256];
  ck_assert_int_eq(one(&p, "-999", "red", "false", o, why), -1);
  ck_assert_str_eq(why, "column 'x': -999 is outside the training range [0, 10]");
  static const char *const na[] = {"-999", "missing"};
  MlprtPredPlan pl = tiny_plan;
  pl.na_tokens = na, pl.nna = 2;
  p.plan = &pl;
  ck_assert_int_eq(one(&p, "-999", "red", "false", o, why), 0); /* filled with 5 */
  ck_assert_float_eq(o[1], 0.5f);
  ck_assert_int_eq(one(&p, "missing", "red", "false", o, why), 0);
  ck_assert_float_eq(o[1], 0.5f);
  p.on_nan = MLPRT_FAILSAFE_REJECT;
  ck_assert_int_eq(one(&p, "NA", "red", "false", o, why), -1); /* no longer a missing-value text */
  ck_assert_str_eq(why, "column 'x': 'NA' is not a number");
  /* the plan builder splits the source's list */
  MlprtPredSource src = {.schema = "x\tfloat\ny\tfloat\n", .target = "y", .na_values = "-999\n\n"};
  MlprtPredPlan built;
  char err[256];
  ck_assert_msg(mlprt_pred_plan_build(&src, &built, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(built.nna, 2);
  ck_assert_str_eq(built.na_tokens[0], "-999");
  ck_assert_str_eq(built.na_tokens[1], "");
  mlprt_pred_plan_free(&built);
}
END_TEST

/* deploy.max_latency_ms: an impossible budget is reported once, with the
 * rows it concerns; a generous one, or none, says nothing. */
START_TEST(latency_budget) {
  MlprtPredictor p = tiny();
  const char *in = "x,colour,flag\n1,red,true\n2,red,true\n3,red,true\n4,red,true\n5,red,true\n";
  char *out, *err;
  p.max_latency_ms = 1e-9;
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 0);
  ck_assert_int_eq(count_lines(out), 6);
  ck_assert_msg(strncmp(err, "warning: rows 1-4 took ", 23) == 0 &&
                    strstr(err, "over deploy.max_latency_ms = 1e-09\n"),
                "%s", err);
  ck_assert_ptr_null(strstr(strchr(err, '\n') + 1, "warning"));
  free(out);
  free(err);
  p.max_latency_ms = 1e6;
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 0);
  ck_assert_str_eq(err, "");
  free(out);
  free(err);
}
END_TEST

/* value = x / 10, before the target's scaling */
static void reg_forward(const float *x, float *out, int64_t n, void *scratch) {
  (void)scratch;
  for (int64_t i = 0; i < n; i++) out[i] = x[i * 4] * tiny_weights[0];
}

START_TEST(regression_answers_and_fallback) {
  MlprtPredictor p = tiny();
  p.task = MLPRT_TASK_REGRESSION, p.classes = NULL, p.n_out = 1, p.y_mean = 10, p.y_std = 2;
  p.forward = reg_forward;
  p.on_nan = MLPRT_FAILSAFE_FALLBACK, p.fallback_value = -1;
  char *out, *err;
  ck_assert_int_eq(run_main(&p, "x,colour,flag\n5,red,false\nabc,red,false\n", NULL, &out, &err), 0);
  /* 5 * 0.1f = 0.5 -> 0.5 * 2 + 10 */
  ck_assert_str_eq(out, "value,error,failsafe\n11,,\n-1,,fallback\n");
  ck_assert_str_eq(err, "1 of 2 answers changed by a failsafe: 0 imputed, 0 clipped, 1 fallback\n");
  free(out);
  free(err);
  const char *args[] = {"--output", "jsonl", NULL};
  ck_assert_int_eq(run_main(&p, "x,colour,flag\n5,red,false\nabc,red,false\n", args, &out, &err), 0);
  ck_assert_str_eq(
      out, "{\"value\":11}\n"
           "{\"value\":-1,\"fallback\":\"column 'x': 'abc' is not a number\",\"failsafe\":\"fallback\"}\n");
  free(out);
  free(err);
}
END_TEST

START_TEST(exit_statuses_and_order) {
  MlprtPredictor p = tiny();
  char in[2048] = "x,colour,flag\n";
  /* 10 rows over batches of 4; rows 3 and 7 rejected */
  for (int r = 1; r <= 10; r++) {
    char x[8];
    snprintf(x, sizeof x, "%d", r - 1);
    snprintf(in + strlen(in), sizeof in - strlen(in), "%s,red,false\n", r == 3 ? "bad" : r == 7 ? "" : x);
  }
  char *out, *err;
  ck_assert_int_eq(run_main(&p, in, NULL, &out, &err), 1);
  ck_assert_int_eq(count_lines(out), 11);
  ck_assert_str_eq(err, "2 of 10 rows rejected\n");
  char *line = strchr(out, '\n') + 1;
  for (int r = 1; r <= 10; r++) {
    char want[64];
    float q = (float)(r - 1) * 0.1f;
    if (r == 3) snprintf(want, sizeof want, ",,,column 'x': 'bad' is not a number,\n");
    else if (r == 7) snprintf(want, sizeof want, ",,,column 'x' has no value,\n");
    else snprintf(want, sizeof want, "%s,%.9g,%.9g,,\n", q > 1 - q ? "yes" : "no", 1 - q, q);
    ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "row %d: %.40s, want %s", r, line, want);
    line = strchr(line, '\n') + 1;
  }
  free(out);
  free(err);
  /* a header without a model column: every row follows on_missing_column */
  ck_assert_int_eq(run_main(&p, "colour,flag\nred,true\n", NULL, &out, &err), 1);
  ck_assert_str_eq(out, "label,p_no,p_yes,error,failsafe\n,,,column 'x' is missing from the input,\n");
  free(out);
  free(err);
  /* a short row */
  ck_assert_int_eq(run_main(&p, "x,colour,flag\n1,red\n", NULL, &out, &err), 1);
  ck_assert_ptr_nonnull(strstr(out, "the row has 2 fields but the header 3"));
  free(out);
  free(err);
  const char *bad[] = {"--frobnicate", NULL}, *nofile[] = {"/nonexistent/rows.csv", NULL},
             *badfmt[] = {"--format", "xml", NULL};
  ck_assert_int_eq(run_main(&p, "", bad, &out, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "unknown option '--frobnicate'"));
  free(out);
  free(err);
  ck_assert_int_eq(run_main(&p, "", nofile, &out, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "cannot open /nonexistent/rows.csv"));
  free(out);
  free(err);
  ck_assert_int_eq(run_main(&p, "", badfmt, &out, &err), 2);
  free(out);
  free(err);
  /* a directory for the input file: a read error */
  const char *dir[] = {dt_dir, NULL};
  ck_assert_int_eq(run_main(&p, "", dir, &out, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "cannot read"));
  ck_assert_ptr_null(strstr(err, "no header line"));
  free(out);
  free(err);
  /* no header at all */
  ck_assert_int_eq(run_main(&p, "", NULL, &out, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "no header line"));
  free(out);
  free(err);
  /* --no-header: columns in the training order */
  const char *nh[] = {"--no-header", NULL};
  ck_assert_int_eq(run_main(&p, "5,blue,false,0\n", nh, &out, &err), 0);
  ck_assert_str_eq(out, "label,p_no,p_yes,error,failsafe\nno,0.5,0.5,,\n");
  ck_assert_str_eq(err, "");
  free(out);
  free(err);
}
END_TEST

START_TEST(version_card_help) {
  MlprtPredictor p = tiny();
  char *out, *err;
  const char *v[] = {"--version", NULL}, *c[] = {"--card", NULL}, *h[] = {"--help", NULL};
  ck_assert_int_eq(run_main(&p, "", v, &out, &err), 0);
  char want[256];
  snprintf(want, sizeof want,
           "tiny 1.2.3\nspec sha256 aa\ndata sha256 bb\nweights sha256 %s\ncompiler mlpc test\n", tiny_sha);
  ck_assert_str_eq(out, want);
  free(out);
  free(err);
  ck_assert_int_eq(run_main(&p, "", c, &out, &err), 0);
  ck_assert_str_eq(out, "# tiny\nA card.\n");
  free(out);
  free(err);
  ck_assert_int_eq(run_main(&p, "", h, &out, &err), 0);
  ck_assert_ptr_nonnull(strstr(out, "--drift"));
  free(out);
  free(err);
}
END_TEST

START_TEST(tampered_weights_refused) {
  MlprtPredictor p = tiny();
  float w[4];
  memcpy(w, tiny_weights, sizeof w);
  ((unsigned char *)w)[5] ^= 0x10;
  p.weights = w;
  char *out, *err;
  ck_assert_int_eq(run_main(&p, "x,colour,flag\n1,red,true\n", NULL, &out, &err), 2);
  ck_assert_ptr_nonnull(
      strstr(err, "the compiled-in weights do not match their recorded hash (tampered binary?)"));
  ck_assert_str_eq(out, "");
  free(out);
  free(err);
}
END_TEST

START_TEST(psi_by_hand) {
  int64_t cnt[3] = {5, 0, 15};
  double ref[3] = {0.5, 0.25, 0.25};
  /* a = 0.25, 1e-4 (floored), 0.75 */
  double want =
      (0.25 - 0.5) * log(0.25 / 0.5) + (1e-4 - 0.25) * log(1e-4 / 0.25) + (0.75 - 0.25) * log(0.75 / 0.25);
  ck_assert_double_eq_tol(mlprt_psi(cnt, 20, ref, 3), want, 1e-12);
  double edges[2] = {1, 2};
  ck_assert_int_eq(mlprt_bin_of(0.5, edges, 3), 0);
  ck_assert_int_eq(mlprt_bin_of(1, edges, 3), 1); /* an edge belongs to the bin above it */
  ck_assert_int_eq(mlprt_bin_of(7, edges, 3), 2);
}
END_TEST

START_TEST(drift_and_log) {
  MlprtPredictor p = tiny();
  /* training: x / 10 below 0.5 half the time; every flag false; colours balanced */
  static const double edges[4] = {5, 0.5, 0.5, 0.5};
  static const double ref[8] = {0.5, 0.5, 1, 0, 0.5, 0.5, 0.5, 0.5};
  static const double pref[2] = {0.5, 0.5};
  p.drift_edges = edges, p.drift_ref = ref, p.pred_ref = pref;
  /* 8 rows: x all high (drifted), flag half true (drifted), colours as trained */
  char in[512] = "x,colour,flag\n";
  for (int r = 0; r < 8; r++) {
    snprintf(in + strlen(in), sizeof in - strlen(in), "9,%s,%s\n", r % 2 ? "red" : "blue",
             r % 2 ? "true" : "false");
    if (r == 1) strcat(in, "abc,red,true\n"); /* input row 3: rejected, logged, not counted */
  }
  char rep[512], logp[512];
  snprintf(rep, sizeof rep, "%s/drift.json", dt_dir);
  snprintf(logp, sizeof logp, "%s/pred.log", dt_dir);
  const char *args[] = {"--drift", rep, "--log", logp, NULL};
  char *out, *err;
  ck_assert_int_eq(run_main(&p, in, args, &out, &err), 1);
  /* two windows of 4 answers and the total, each naming x, flag and the predictions */
  ck_assert_int_eq(count_lines(err), 4);
  ck_assert_ptr_nonnull(strstr(err, "drift in rows 1-5 beyond PSI 0.2: x (PSI"));
  ck_assert_ptr_nonnull(strstr(err, "drift in rows 6-9 beyond"));
  ck_assert_ptr_nonnull(strstr(err, "1 of 9 rows rejected"));
  ck_assert_ptr_nonnull(strstr(err, "flag (PSI"));
  ck_assert_ptr_null(strstr(err, "colour"));
  char *text = test_read_file(rep, NULL);
  cJSON *j = cJSON_Parse(text);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "windows")), 2);
  cJSON *total = cJSON_GetObjectItem(j, "total");
  ck_assert_int_eq(cJSON_GetObjectItem(total, "rows")->valueint, 8);
  cJSON *fx = cJSON_GetArrayItem(cJSON_GetObjectItem(total, "features"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(fx, "feature")->valuestring, "x");
  /* x: every row in bin 1 against (0.5, 0.5) */
  double want = (1e-4 - 0.5) * log(1e-4 / 0.5) + (1 - 0.5) * log(1 / 0.5);
  ck_assert_double_eq_tol(cJSON_GetObjectItem(fx, "psi")->valuedouble, want, 1e-12);
  cJSON *fc = cJSON_GetArrayItem(cJSON_GetObjectItem(total, "features"), 2);
  ck_assert_str_eq(cJSON_GetObjectItem(fc, "feature")->valuestring, "colour=blue");
  ck_assert_double_eq_tol(cJSON_GetObjectItem(fc, "psi")->valuedouble, 0, 1e-12);
  cJSON_Delete(j);
  free(text);
  char *log = test_read_file(logp, NULL);
  ck_assert_int_eq(count_lines(log), 9);
  ck_assert_ptr_nonnull(strstr(log, "\"row\":9,\"label\":\"yes\",\"probabilities\":{\"no\":"));
  ck_assert_ptr_nonnull(strstr(log, "\"row\":3,\"error\":\"column 'x': 'abc' is not a number\"}\n"));
  ck_assert_ptr_nonnull(strstr(log, "\"time\":\"20"));
  free(log);
  free(out);
  free(err);
  /* without a reference, --drift is refused */
  p.drift_ref = NULL;
  const char *a2[] = {"--drift", NULL};
  ck_assert_int_eq(run_main(&p, in, a2, &out, &err), 2);
  ck_assert_ptr_nonnull(strstr(err, "without a training reference"));
  free(out);
  free(err);
}
END_TEST

Suite *predict_suite(void); /* the runner finds it by name */
Suite *predict_suite(void) {
  Suite *s = suite_create("predict");
  TCase *plan = tcase_create("plan");
  tcase_add_checked_fixture(plan, dt_setup, dt_teardown);
  tcase_add_test(plan, plan_matches_fit_apply);
  tcase_add_test(plan, plan_matches_training_prep);
  tcase_add_test(plan, plan_refuses_row_dependent_steps);
  tcase_add_test(plan, plan_rejects_unseen_level_when_strict);
  tcase_add_test(plan, plan_image_pixels);
  suite_add_tcase(s, plan);
  TCase *io = tcase_create("io");
  tcase_add_checked_fixture(io, dt_setup, dt_teardown);
  tcase_add_test(io, csv_input_rfc4180);
  tcase_add_test(io, csv_malformed_rows);
  tcase_add_test(io, jsonl_input);
  tcase_add_test(io, csv_framing_resynchronises);
  tcase_add_test(io, csv_plain_and_general_records_agree);
  tcase_add_test(io, jsonl_framing);
  tcase_add_test(io, failsafes_each_policy);
  tcase_add_test(io, declared_missing_texts);
  tcase_add_test(io, latency_budget);
  tcase_add_test(io, regression_answers_and_fallback);
  tcase_add_test(io, exit_statuses_and_order);
  tcase_add_test(io, version_card_help);
  tcase_add_test(io, tampered_weights_refused);
  tcase_add_test(io, psi_by_hand);
  tcase_add_test(io, drift_and_log);
  suite_add_tcase(s, io);
  return s;
}
