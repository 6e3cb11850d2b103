/* check_clean.c — the cleaning ops: each fitted on training rows only and
 * applied to every row, checked against values computed here by simpler
 * means or by pandas (constants, with how they were obtained); the cleaning
 * log (cleaning.json) and its summary; and real data: the vega cars table
 * (JSON) and the Seattle daily weather series. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/clean.h"
#include "registry.h"
#include "tests/unit/datautil.h"

#define VEGA "/usr/lib/python3/dist-packages/vega_datasets/_data/"


static void load_text(const char *name, const char *text, const MlprtLoadOpts *o, MlprtTable *t) {
  char *p = dt_write(dt_dir, name, text, 0);
  dt_load_ok(p, o, t);
  free(p);
}

/* Fit-and-apply helpers that assert success. */
#define APPLY(fitcall, t, log)                                           \
  do {                                                                   \
    MlprtFit f_;                                                         \
    MlprtError e_ = {0};                                                 \
    ck_assert_msg((fitcall) == 0, "fit: %s", dt_err(&e_));               \
    ck_assert_msg(mlprt_fit_apply(t, &f_, log, &e_) == 0, "apply: %s", dt_err(&e_)); \
    mlprt_fit_free(&f_);                                                 \
  } while (0)

/* Resample the whole table on one time column, bucket means. */
static int resample_on(MlprtTable *t, const char *time, int64_t step, MlprtGapFill fill, MlprtError *e) {
  MlprtResampleParams p = {.on = {&time, 1, NULL}, .step = step, .fill = fill};
  return mlprt_ts_resample(t, &p, NULL, e);
}

static int col(const MlprtTable *t, const char *name) {
  int c = mlprt_table_find(t, name);
  ck_assert_msg(c >= 0, "no column %s", name);
  return c;
}

START_TEST(clean_drop_duplicates) {
  MlprtTable t;
  load_text("d.csv", "a,b,c\n1,x,\n2,y,3\n1,x,\n1,x,5\n2,y,3\n", NULL, &t);
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_drop_duplicates(&t, (MlprtCols){0}, NULL, &e), 2); /* NaN equals NaN */
  ck_assert_int_eq(t.nrows, 3);
  ck_assert_float_eq(t.cols[2].f[2], 5.0f);
  const char *on[] = {"a"};
  ck_assert_int_eq(mlprt_drop_duplicates(&t, (MlprtCols){on, 1, NULL}, NULL, &e), 1);
  ck_assert_int_eq(t.nrows, 2);
  const char *bad[] = {"zz"};
  ck_assert_int_eq(mlprt_drop_duplicates(&t, (MlprtCols){bad, 1, NULL}, NULL, &e), -1);
  ck_assert_str_eq(e.column, "zz");
  mlprt_table_free(&t);
}
END_TEST

START_TEST(clean_coerce_policies) {
  MlprtTable t;
  MlprtLoadOpts o = {.max_levels = 100};
  load_text("c.csv", "v\n1\n2.5\nabc\nNA\n4\n", &o, &t);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_CATEGORY);
  MlprtError e = {0};
  ck_assert_int_ne(mlprt_coerce(&t, col(&t, "v"), MLPRT_COL_FLOAT, NULL, MLPRT_ONFAIL_ERROR, NULL, &e), 0);
  ck_assert_int_eq(e.row, 3);
  ck_assert_str_eq(e.column, "v");
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_CATEGORY); /* unchanged on error */
  MlprtCleanLog *log = mlprt_clean_log_new("c.csv");
  ck_assert_int_eq(mlprt_coerce(&t, col(&t, "v"), MLPRT_COL_FLOAT, NULL, MLPRT_ONFAIL_NULL, log, &e), 0);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_FLOAT);
  ck_assert_int_eq(t.nrows, 5);
  ck_assert(isnan(t.cols[0].f[2]) && isnan(t.cols[0].f[3]));
  ck_assert_float_eq(t.cols[0].f[1], 2.5f);
  mlprt_table_free(&t);
  load_text("c2.csv", "v,w\n1,a\nabc,b\n3,c\n", &o, &t);
  /* the column keeps its name string: a selection taken before the
   * conversion (the encode step after an indicator impute holds the
   * table's own name pointers) still reads it afterwards */
  const char *name = t.cols[0].name;
  ck_assert_int_eq(mlprt_coerce(&t, 0, MLPRT_COL_INT, NULL, MLPRT_ONFAIL_DROP, log, &e), 0);
  ck_assert_ptr_eq(t.cols[0].name, name);
  ck_assert_str_eq(name, "v");
  ck_assert_int_eq(t.nrows, 2);
  ck_assert_str_eq(t.cols[1].levels.names[t.cols[1].codes[1]], "c");
  char *json = mlprt_clean_log_json(log);
  ck_assert_ptr_nonnull(strstr(json, "\"failed\":\t1"));
  free(json);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
}
END_TEST

/* Training rows are 0..3, rows 4..5 validate: their values must not move any
 * fitted value (the leakage check). */
/* Columns of a megabyte and more share a pool of reused pages: a coerced
 * column swapped into a loaded table (whose capacity is its exact row count,
 * here just under 2 MiB of floats) must go back at its own size, so the
 * columns made after it never overlap a live one, and a reused page never
 * shows through as stale cells. */
START_TEST(clean_large_columns_reuse_memory) {
  enum { N = 500000, NEW = 16 };
  char *text = malloc((size_t)N * 32 + 16), *w = text;
  w += sprintf(w, "a,b,v\n");
  for (int i = 0; i < N; i++) w += sprintf(w, "%d,%d,%d\n", i, 2 * i + 1, i % 7);
  MlprtTable t;
  load_text("big.csv", text, NULL, &t);
  free(text);
  ck_assert_int_eq(t.nrows, N);
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_coerce(&t, col(&t, "v"), MLPRT_COL_FLOAT, NULL, MLPRT_ONFAIL_NULL, NULL, &e), 0);
  mlprt_table_drop_column(&t, col(&t, "b"));
  int64_t stale = 0;
  for (int k = 0; k < NEW; k++) {
    char name[16];
    snprintf(name, sizeof name, "n%d", k);
    int c = mlprt_table_add_column(&t, name, MLPRT_COL_FLOAT);
    for (int64_t r = 0; r < N; r++) stale += !isnan(t.cols[c].f[r]); /* new cells are missing */
    for (int64_t r = 0; r < N; r++) t.cols[c].f[r] = (float)(k + 1);
  }
  ck_assert_int_eq(stale, 0);
  int a = col(&t, "a"), v = col(&t, "v");
  int64_t wrong = 0;
  for (int64_t r = 0; r < N; r++) wrong += t.cols[a].f[r] != (float)r || t.cols[v].f[r] != (float)(r % 7);
  for (int k = 0; k < NEW; k++)
    for (int64_t r = 0; r < N; r++) wrong += t.cols[t.ncols - NEW + k].f[r] != (float)(k + 1);
  ck_assert_int_eq(wrong, 0);
  mlprt_table_free(&t);
}
END_TEST

static void split_4_2(MlprtTable *t) {
  t->part = malloc((size_t)t->cap_rows);
  for (int64_t r = 0; r < t->nrows; r++) t->part[r] = r < 4 ? MLPRT_TRAIN : MLPRT_VALID;
}

START_TEST(clean_impute_strategies) {
  const char *text = "x,k\n1,a\n,b\n3,b\n8,\n,a\n1000,c\n";
  struct {
    MlprtImpute s;
    float want;
  } cases[] = {{MLPRT_IMPUTE_MEAN, 4.0f}, {MLPRT_IMPUTE_MEDIAN, 3.0f}, {MLPRT_IMPUTE_MODE, 1.0f},
               {MLPRT_IMPUTE_CONSTANT, -1.0f}};
  for (int i = 0; i < 4; i++) {
    MlprtTable t;
    load_text("i.csv", text, NULL, &t);
    split_4_2(&t);
    const char *cols[] = {"x"};
    MlprtImputeParams p = {.cols = {cols, 1}, .strategy = cases[i].s, .constant = -1, .indicator = true};
    MlprtFit f;
    MlprtError e = {0};
    ck_assert_int_eq(mlprt_impute_fit(&t, &p, &f, &e), 0);
    ck_assert_msg(fabs(f.cols[0].a - cases[i].want) < 1e-9, "case %d: %g", i, f.cols[0].a);
    ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
    ck_assert_int_eq(f.cols[0].changed, 2);
    ck_assert_float_eq(t.cols[0].f[1], cases[i].want);
    ck_assert_float_eq(t.cols[0].f[4], cases[i].want); /* validation rows get the training value */
    int m = col(&t, "x_missing");
    ck_assert_int_eq(t.cols[m].b[1], 1);
    ck_assert_int_eq(t.cols[m].b[0], 0);
    mlprt_fit_free(&f);
    mlprt_table_free(&t);
  }
  /* category mode (ties to the smallest level), forward fill, drop */
  MlprtTable t;
  load_text("i2.csv", text, NULL, &t);
  split_4_2(&t);
  const char *k[] = {"k"};
  MlprtImputeParams p = {.cols = {k, 1}, .strategy = MLPRT_IMPUTE_MODE};
  APPLY(mlprt_impute_fit(&t, &p, &f_, &e_), &t, NULL);
  ck_assert_str_eq(t.cols[1].levels.names[t.cols[1].codes[3]], "b");
  mlprt_table_free(&t);
  load_text("i3.csv", text, NULL, &t);
  MlprtImputeParams ff = {.strategy = MLPRT_IMPUTE_FFILL};
  APPLY(mlprt_impute_fit(&t, &ff, &f_, &e_), &t, NULL);
  ck_assert_float_eq(t.cols[0].f[1], 1.0f);
  ck_assert_float_eq(t.cols[0].f[4], 8.0f);
  ck_assert_str_eq(t.cols[1].levels.names[t.cols[1].codes[3]], "b");
  mlprt_table_free(&t);
  load_text("i4.csv", text, NULL, &t);
  MlprtImputeParams dr = {.strategy = MLPRT_IMPUTE_DROP};
  APPLY(mlprt_impute_fit(&t, &dr, &f_, &e_), &t, NULL);
  ck_assert_int_eq(t.nrows, 3);
  mlprt_table_free(&t);
  /* mean of text: an error naming the column */
  load_text("i5.csv", text, NULL, &t);
  MlprtImputeParams bad = {.cols = {k, 1}, .strategy = MLPRT_IMPUTE_MEAN};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_ne(mlprt_impute_fit(&t, &bad, &f, &e), 0);
  ck_assert_str_eq(e.column, "k");
  mlprt_table_free(&t);
}
END_TEST

static bool keep_big_ids(const MlprtTable *t, int64_t row, void *ctx) {
  (void)ctx;
  return t->cols[0].f[row] >= 100; /* ids >= 100 are known, legitimate extremes */
}

START_TEST(clean_outliers) {
  /* 20 training values 0..19 and two wild ones */
  char text[1024] = "id,v,w\n";
  for (int i = 0; i < 20; i++) sprintf(text + strlen(text), "%d,%d,%d\n", i, i, i);
  strcat(text, "50,1000,1000\n100,-1000,-1000\n");
  MlprtTable t;
  load_text("o.csv", text, NULL, &t);
  /* z-score bounds, computed here in double over all 22 rows (all train) */
  double s = 0, ss = 0;
  for (int64_t r = 0; r < t.nrows; r++) s += t.cols[1].f[r];
  double mean = s / 22;
  for (int64_t r = 0; r < t.nrows; r++) ss += (t.cols[1].f[r] - mean) * (t.cols[1].f[r] - mean);
  double sd = sqrt(ss / 22);
  const char *cols[] = {"v", "w"}, *exempt[] = {"w"};
  MlprtOutlierParams p = {.cols = {cols, 2},
                          .method = MLPRT_OUTLIER_ZSCORE,
                          .threshold = 1.0,
                          .exempt = {exempt, 1},
                          .keep = keep_big_ids};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_outliers_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.n, 1); /* w is exempt */
  ck_assert_double_eq_tol(f.cols[0].a, mean - sd, 1e-9);
  ck_assert_double_eq_tol(f.cols[0].b, mean + sd, 1e-9);
  ck_assert_int_eq(mlprt_outliers_apply(&t, &f, &p, NULL, &e), 0);
  ck_assert_int_eq(f.cols[0].changed, 1);
  ck_assert_float_eq(t.cols[1].f[20], (float)(mean + sd)); /* clipped */
  ck_assert_float_eq(t.cols[1].f[21], -1000.0f);          /* kept by the predicate */
  ck_assert_float_eq(t.cols[2].f[20], 1000.0f);           /* exempt column */
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  /* IQR over training rows 0..19 only: q1 = 4.75, q3 = 14.25 (linear, as numpy) */
  load_text("o2.csv", text, NULL, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 20 ? MLPRT_TRAIN : MLPRT_TEST;
  MlprtOutlierParams q = {.cols = {cols, 1}, .method = MLPRT_OUTLIER_IQR, .action = MLPRT_OUTLIER_DROP};
  ck_assert_int_eq(mlprt_outliers_fit(&t, &q, &f, &e), 0);
  ck_assert_double_eq_tol(f.cols[0].a, 4.75 - 1.5 * 9.5, 1e-9);
  ck_assert_double_eq_tol(f.cols[0].b, 14.25 + 1.5 * 9.5, 1e-9);
  ck_assert_int_eq(mlprt_outliers_apply(&t, &f, &q, NULL, &e), 0);
  ck_assert_int_eq(t.nrows, 20);
  ck_assert_int_eq(f.cols[0].dropped, 2);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(clean_scaling) {
  const char *text = "a\n1\n2\n3\n4\n100\n";
  struct {
    MlprtScale m;
    double center, scale;
  } cases[] = {
      {MLPRT_SCALE_STANDARD, 2.5, sqrt(1.25)}, /* population sd of 1..4 */
      {MLPRT_SCALE_MINMAX, 1, 3},
      {MLPRT_SCALE_ROBUST, 2.5, 1.5}, /* median, q3 - q1 = 3.25 - 1.75 */
  };
  for (int i = 0; i < 3; i++) {
    MlprtTable t;
    load_text("s.csv", text, NULL, &t);
    split_4_2(&t);
    MlprtScaleParams p = {.method = cases[i].m};
    MlprtFit f;
    MlprtError e = {0};
    ck_assert_int_eq(mlprt_scale_fit(&t, &p, &f, &e), 0);
    ck_assert_double_eq_tol(f.cols[0].a, cases[i].center, 1e-9);
    ck_assert_double_eq_tol(f.cols[0].b, cases[i].scale, 1e-9);
    ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
    ck_assert_int_eq(t.cols[0].type, MLPRT_COL_FLOAT);
    ck_assert_float_eq_tol(t.cols[0].f[4], (float)((100 - cases[i].center) / cases[i].scale), 1e-4);
    mlprt_fit_free(&f);
    mlprt_table_free(&t);
  }
  MlprtTable t;
  load_text("l.csv", "a\n0\n-1\n", NULL, &t);
  MlprtScaleParams lp = {.method = MLPRT_SCALE_LOG1P};
  APPLY(mlprt_scale_fit(&t, &lp, &f_, &e_), &t, NULL);
  ck_assert_float_eq(t.cols[0].f[0], 0.0f);
  ck_assert(isnan(t.cols[0].f[1]));
  mlprt_table_free(&t);
}
END_TEST

/* A scale or impute fitted over chunks of rows read by mlprt_chunks_next
 * (11 rows at a time) equals the fit of the whole table as loaded, bit for
 * bit, and every chunk's cells are the whole table's; a quantile's fit
 * does not open over chunks. */
START_TEST(clean_fits_over_chunks_equal_whole) {
  char *text = NULL;
  size_t len;
  FILE *f = open_memstream(&text, &len);
  fputs("a,b,c\n", f);
  for (int r = 0; r < 97; r++) {
    double a = 1e6 + r * 0.37 * (r % 7 - 3), b = (r * 7919 % 101) / 3.0 - 11;
    if (r % 9 == 4) fprintf(f, ",%.6g,%d\n", b, r % 3);
    else if (r % 13 == 0) fprintf(f, "%.10g,,%d\n", a, r % 3);
    else fprintf(f, "%.10g,%.6g,%d\n", a, b, r % 3);
  }
  fclose(f);
  char *path = dt_write(dt_dir, "chunks.csv", text, 0);
  free(text);
  MlprtSourceDesc d = {.paths = path, .format = "csv", .schema = "a\tfloat\nb\tfloat\nc\tint\n"};
  MlprtTable whole;
  MlprtError e = {0};
  ck_assert_msg(mlprt_load_described(&d, &whole, &e) == 0, "%s", dt_err(&e));
  whole.part = malloc((size_t)whole.cap_rows);
  for (int64_t r = 0; r < whole.nrows; r++) whole.part[r] = r % 5 == 1 ? MLPRT_VALID : MLPRT_TRAIN;
  MlprtScaleParams scales[] = {{.method = MLPRT_SCALE_STANDARD},
                               {.method = MLPRT_SCALE_MINMAX, .low = -1, .high = 2},
                               {.method = MLPRT_SCALE_LOG1P, .cols = {(const char *[]){"c"}, 1, NULL}}};
  MlprtImputeParams impute = {.strategy = MLPRT_IMPUTE_MEAN};
  for (int k = 0; k < 4; k++) {
    MlprtFit want, got;
    int rc = k < 3 ? mlprt_scale_fit(&whole, &scales[k], &want, &e)
                   : mlprt_impute_fit(&whole, &impute, &want, &e);
    ck_assert_msg(rc == 0, "%s", dt_err(&e));
    MlprtChunks *ch = mlprt_chunks_open(&d, 11, &e);
    ck_assert_msg(ch != NULL, "%s", dt_err(&e));
    MlprtFitStream *fs = NULL;
    MlprtTable t;
    int64_t at = 0;
    while (mlprt_chunks_next(ch, &t, &e) == 1) {
      t.part = malloc((size_t)t.cap_rows);
      memcpy(t.part, whole.part + at, (size_t)t.nrows);
      for (int c = 0; c < t.ncols; c++)
        for (int64_t r = 0; r < t.nrows; r++) {
          float x = t.cols[c].f[r], y = whole.cols[c].f[at + r];
          ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "row %lld column %d", (long long)(at + r), c);
        }
      if (!fs) fs = k < 3 ? mlprt_scale_stream(&t, &scales[k], &e) : mlprt_impute_stream(&t, &impute, &e);
      ck_assert_msg(fs != NULL, "%s", dt_err(&e));
      mlprt_fit_stream_add(fs, &t);
      at += t.nrows;
      mlprt_table_free(&t);
    }
    ck_assert_int_eq(at, whole.nrows);
    mlprt_chunks_close(ch);
    ck_assert_msg(mlprt_fit_stream_close(fs, &got, &e) == 0, "%s", dt_err(&e));
    ck_assert_int_eq(got.n, want.n);
    for (int i = 0; i < got.n; i++)
      ck_assert_msg(memcmp(&got.cols[i].a, &want.cols[i].a, sizeof(double)) == 0 &&
                        memcmp(&got.cols[i].b, &want.cols[i].b, sizeof(double)) == 0,
                    "fit %d column %d: %.17g %.17g over chunks, %.17g %.17g whole", k, i, got.cols[i].a,
                    got.cols[i].b, want.cols[i].a, want.cols[i].b);
    mlprt_fit_free(&got);
    mlprt_fit_free(&want);
  }
  MlprtScaleParams robust = {.method = MLPRT_SCALE_ROBUST};
  ck_assert(mlprt_scale_stream(&whole, &robust, &e) == NULL);
  ck_assert_msg(strstr(e.msg, "every training row"), "%s", e.msg);
  mlprt_table_free(&whole);
  free(path);
}
END_TEST

/* A scaling whose fit would turn finite values into infinities or NaN
 * (values spanning more than a float holds, a scale too small to invert)
 * is an error naming the column and the step. */
START_TEST(clean_scaling_overflow_is_an_error) {
  static const struct {
    const char *text;
    MlprtScale m;
  } cases[] = {{"a\n-3e38\n3e38\n1\n2\n", MLPRT_SCALE_MINMAX},
               {"a\n0\n1e-40\n0\n1e-40\n", MLPRT_SCALE_STANDARD}};
  for (int i = 0; i < 2; i++) {
    MlprtTable t;
    load_text("o.csv", cases[i].text, NULL, &t);
    MlprtScaleParams p = {.method = cases[i].m};
    MlprtFit f;
    MlprtError e = {0};
    ck_assert_int_eq(mlprt_scale_fit(&t, &p, &f, &e), 0);
    ck_assert_int_ne(mlprt_fit_apply(&t, &f, NULL, &e), 0);
    ck_assert_str_eq(e.column, "a");
    ck_assert_msg(strstr(e.msg, "scale: ") && strstr(e.msg, "beyond a 32-bit float"), "%s", e.msg);
    mlprt_fit_free(&f);
    mlprt_table_free(&t);
  }
}
END_TEST

START_TEST(clean_encoding) {
  /* training rows see red, blue, red, green; validation sees purple */
  const char *text = "c,y\nred,1\nblue,2\nred,3\ngreen,4\npurple,5\n,6\n";
  MlprtTable t;
  load_text("e.csv", text, NULL, &t);
  split_4_2(&t);
  MlprtEncodeParams p = {.method = MLPRT_ENCODE_ONEHOT, .unknown_bucket = true};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_encode_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nlevels, 3);
  ck_assert_str_eq(f.cols[0].levels[0], "blue");
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(f.cols[0].changed, 1); /* purple */
  ck_assert_int_eq(mlprt_table_find(&t, "c"), -1);
  int red = col(&t, "c=red"), unk = col(&t, "c=__unknown__"), blue = col(&t, "c=blue");
  ck_assert_int_eq(t.cols[red].b[0], 1);
  ck_assert_int_eq(t.cols[red].b[1], 0);
  ck_assert_int_eq(t.cols[unk].b[4], 1);
  ck_assert_int_eq(t.cols[unk].b[5], 0); /* missing: all zero */
  ck_assert_int_eq(t.cols[blue].b[5], 0);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  /* ordinal and max_levels: the 2 most frequent training levels */
  load_text("e2.csv", text, NULL, &t);
  split_4_2(&t);
  MlprtEncodeParams o = {.method = MLPRT_ENCODE_ORDINAL, .max_levels = 2};
  APPLY(mlprt_encode_fit(&t, &o, &f_, &e_), &t, NULL);
  int c = col(&t, "c");
  ck_assert_int_eq(t.cols[c].type, MLPRT_COL_INT);
  ck_assert_float_eq(t.cols[c].f[0], 1.0f); /* levels blue, red (green ties blue, loses on name) */
  ck_assert_float_eq(t.cols[c].f[1], 0.0f);
  ck_assert(isnan(t.cols[c].f[3]));
  mlprt_table_free(&t);
  /* hashing: every non-missing row has exactly one bucket set */
  load_text("e3.csv", text, NULL, &t);
  MlprtEncodeParams h = {.method = MLPRT_ENCODE_HASH, .buckets = 4};
  APPLY(mlprt_encode_fit(&t, &h, &f_, &e_), &t, NULL);
  ck_assert_int_eq(t.ncols, 5);
  for (int64_t r = 0; r < t.nrows; r++) {
    float sum = 0;
    for (int b = 0; b < 4; b++) sum += t.cols[1 + b].f[r];
    ck_assert_float_eq(sum, r == 5 ? 0.0f : 1.0f);
  }
  for (int b = 0; b < 4; b++) ck_assert_float_eq(t.cols[1 + b].f[0], t.cols[1 + b].f[2]); /* red twice */
  mlprt_table_free(&t);
}
END_TEST

/* onehot max_levels = 3: the two most frequent training levels keep a
 * column, the rarer ones (and an unseen one) share c=__other__, and the
 * record lists them; unknown = error: an unseen level in a validation row
 * is an error naming that row and the column. */
START_TEST(clean_onehot_max_levels_and_unknown_error) {
  const char *text = "c,y\nred,1\nred,2\nred,3\nblue,4\nblue,5\ngreen,6\npink,7\nred,8\npurple,9\n";
  MlprtTable t;
  load_text("m.csv", text, NULL, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 7 ? MLPRT_TRAIN : MLPRT_VALID;
  MlprtEncodeParams p = {.method = MLPRT_ENCODE_ONEHOT, .max_levels = 3};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_encode_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nkept, 2);
  ck_assert_int_eq(f.cols[0].nlevels, 4);
  ck_assert_str_eq(f.cols[0].levels[0], "blue");
  ck_assert_str_eq(f.cols[0].levels[1], "red");
  ck_assert_str_eq(f.cols[0].levels[2], "green");
  ck_assert_str_eq(f.cols[0].levels[3], "pink");
  MlprtCleanLog *log = mlprt_clean_log_new("m.csv");
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, log, &e), 0);
  ck_assert_int_eq(t.ncols, 4); /* y, c=blue, c=red, c=__other__ */
  int other = col(&t, "c=__other__"), red = col(&t, "c=red");
  static const int want_other[] = {0, 0, 0, 0, 0, 1, 1, 0, 1}; /* green, pink, then unseen purple */
  for (int64_t r = 0; r < t.nrows; r++) {
    ck_assert_int_eq(t.cols[other].b[r], want_other[r]);
    ck_assert_int_eq(t.cols[red].b[r], r < 3 || r == 7);
  }
  char *json = mlprt_clean_log_json(log);
  ck_assert_ptr_nonnull(strstr(json, "\"other_levels\""));
  ck_assert_ptr_nonnull(strstr(json, "\"pink\""));
  /* the record reads back to the same fit */
  char *path = dt_write(dt_dir, "m.json", json, 0);
  MlprtFit *fits;
  int nfits;
  ck_assert_int_eq(mlprt_clean_log_write(log, path, &e), 0);
  ck_assert_msg(mlprt_fits_read(path, &fits, &nfits, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(nfits, 1);
  ck_assert_int_eq(fits[0].cols[0].nkept, 2);
  ck_assert_int_eq(fits[0].cols[0].nlevels, 4);
  ck_assert_str_eq(fits[0].cols[0].levels[3], "pink");
  mlprt_fits_free(fits, nfits);
  free(path);
  free(json);
  mlprt_clean_log_free(log);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);

  load_text("m.csv", text, NULL, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 7 ? MLPRT_TRAIN : MLPRT_VALID;
  MlprtEncodeParams strict = {.method = MLPRT_ENCODE_ONEHOT, .unknown_error = true};
  ck_assert_int_eq(mlprt_encode_fit(&t, &strict, &f, &e), 0);
  ck_assert_int_ne(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(e.row, 9);
  ck_assert_str_eq(e.column, "c");
  ck_assert_ptr_nonnull(strstr(e.msg, "purple"));
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
}
END_TEST

/* onehot with the levels given (a compiled program's, from the whole
 * file): the width is theirs whatever the split. A level only validation
 * rows hold keeps its column, zero in every row (its values are unseen:
 * an error under unknown = error); max_levels = 3 keeps the two most
 * frequent training levels whatever the given order, the others (and a
 * value not given) share c=__other__. */
START_TEST(clean_onehot_given_levels) {
  const char *text = "c,y\nred,1\nblue,2\nred,3\nblue,4\nred,5\ngreen,6\nviolet,7\nteal,8\n";
  const char *given = "c\tblue\tgreen\tred\tviolet\tyellow\n";
  MlprtTable t;
  load_text("g.csv", text, NULL, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 6 ? MLPRT_TRAIN : MLPRT_VALID;
  MlprtEncodeParams p = {.method = MLPRT_ENCODE_ONEHOT, .levels = given};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_encode_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nlevels, 5);
  ck_assert_int_eq(f.cols[0].nkept, 5);
  ck_assert_int_eq(f.cols[0].nunseen, 2); /* violet, yellow: after the trained ones */
  ck_assert_str_eq(f.cols[0].levels[3], "violet");
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(t.ncols, 6); /* y and five levels */
  int violet = col(&t, "c=violet"), yellow = col(&t, "c=yellow");
  for (int64_t r = 0; r < t.nrows; r++) {
    ck_assert_int_eq(t.cols[violet].b[r], 0);
    ck_assert_int_eq(t.cols[yellow].b[r], 0);
  }
  ck_assert_int_eq(f.cols[0].changed, 2); /* violet and teal: unseen */
  mlprt_fit_free(&f);
  mlprt_table_free(&t);

  load_text("g.csv", text, NULL, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 6 ? MLPRT_TRAIN : MLPRT_VALID;
  MlprtEncodeParams capped = {.method = MLPRT_ENCODE_ONEHOT, .max_levels = 3, .levels = given};
  ck_assert_int_eq(mlprt_encode_fit(&t, &capped, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nkept, 2);
  ck_assert_str_eq(f.cols[0].levels[0], "blue");
  ck_assert_str_eq(f.cols[0].levels[1], "red");
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(t.ncols, 4); /* y, c=blue, c=red, c=__other__ */
  mlprt_fit_free(&f);
  mlprt_table_free(&t);

  load_text("g.csv", text, NULL, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 6 ? MLPRT_TRAIN : MLPRT_VALID;
  MlprtEncodeParams strict = {.method = MLPRT_ENCODE_ONEHOT, .unknown_error = true, .levels = given};
  ck_assert_int_eq(mlprt_encode_fit(&t, &strict, &f, &e), 0);
  ck_assert_int_ne(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(e.row, 7);
  ck_assert_ptr_nonnull(strstr(e.msg, "violet"));
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
}
END_TEST

/* The clean op codes are the registry's clean ops, name for name and in
 * its order, and the runtime applies exactly those the registry marks
 * built (the planned ones are refused before lowering). */
START_TEST(clean_op_codes_match_registry) {
  const MlpRegBlock *clean = mlp_reg_block("clean");
  ck_assert_ptr_nonnull(clean);
  ck_assert_int_eq(clean->nops, MLPRT_CLEAN_NOPS);
  for (int i = 0; i < clean->nops; i++) {
    const MlpRegOp *op = clean->ops[i];
    ck_assert_int_eq(mlprt_clean_op_find(op->name), i);
    ck_assert_str_eq(mlprt_clean_op_name(i), op->name);
    ck_assert_msg(op->planned == !mlprt_clean_op_built(i), "%s is %s in the registry, not in the runtime",
                  op->name, op->planned ? "planned" : "built");
  }
  ck_assert_int_eq(mlprt_clean_op_find("no_such_op"), -1);
  ck_assert_str_eq(mlprt_clean_op_name(MLPRT_CLEAN_NOPS), "?");
}
END_TEST

START_TEST(clean_text) {
  MlprtTable t;
  MlprtLoadOpts o = {.max_levels = 1};
  load_text("t.csv",
            "doc\n\"The cat, the HAT!\"\n\"  A   dog   and a cat \"\n\"cat-dog: the end\"\nzebra\n", &o, &t);
  MlprtTextCleanParams p = {.opts = MLPRT_TEXT_LOWER | MLPRT_TEXT_PUNCT | MLPRT_TEXT_SPACE | MLPRT_TEXT_STOP};
  APPLY(mlprt_text_clean_fit(&t, &p, &f_, &e_), &t, NULL);
  ck_assert_str_eq(mlprt_text_at(&t.cols[0], 0), "cat hat");
  ck_assert_str_eq(mlprt_text_at(&t.cols[0], 1), "dog cat");
  ck_assert_str_eq(mlprt_text_at(&t.cols[0], 2), "cat dog end");
  ck_assert(mlprt_is_stop_word("the", 3) && !mlprt_is_stop_word("cat", 3));
  /* TF-IDF on training rows 0..2: df(cat) = 3, df(dog) = 2, df(hat) = df(end) = 1;
   * idf = ln((1 + 3) / (1 + df)) + 1, vocabulary capped at 3 words */
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 3 ? MLPRT_TRAIN : MLPRT_TEST;
  MlprtVectorizeParams v = {
      .cols = {(const char *[]){"doc"}, 1, NULL},
      .terms = {.method = MLPRT_VEC_TFIDF, .l2 = true},
      .max_vocab = 3};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_vectorize_fit(&t, &v, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nlevels, 3);
  ck_assert_str_eq(f.cols[0].levels[0], "cat");
  ck_assert_str_eq(f.cols[0].levels[1], "dog");
  ck_assert_str_eq(f.cols[0].levels[2], "end"); /* ties with hat, first by name */
  ck_assert_double_eq_tol(f.cols[0].weights[0], log(4.0 / 4.0) + 1, 1e-12);
  ck_assert_double_eq_tol(f.cols[0].weights[1], log(4.0 / 3.0) + 1, 1e-12);
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  int cat = col(&t, "doc:cat"), dog = col(&t, "doc:dog");
  double wc = 1.0, wd = log(4.0 / 3.0) + 1, norm = sqrt(wc * wc + wd * wd);
  ck_assert_float_eq_tol(t.cols[cat].f[1], (float)(wc / norm), 1e-6);
  ck_assert_float_eq_tol(t.cols[dog].f[1], (float)(wd / norm), 1e-6);
  ck_assert_float_eq(t.cols[cat].f[3], 0.0f); /* zebra: no known word */
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  /* counts and the hashing trick */
  load_text("t2.csv", "doc\n\"b a b\"\n\"c\"\n", &o, &t);
  MlprtVectorizeParams cnt = {.cols = {(const char *[]){"doc"}, 1, NULL},
                              .terms = {.method = MLPRT_VEC_COUNT}};
  APPLY(mlprt_vectorize_fit(&t, &cnt, &f_, &e_), &t, NULL);
  ck_assert_float_eq(t.cols[col(&t, "doc:b")].f[0], 2.0f);
  ck_assert_float_eq(t.cols[col(&t, "doc:c")].f[0], 0.0f);
  mlprt_table_free(&t);
  load_text("t3.csv", "doc\n\"b a b\"\n", &o, &t);
  MlprtVectorizeParams hs = {
      .cols = {(const char *[]){"doc"}, 1, NULL}, .terms = {.method = MLPRT_VEC_HASH}, .buckets = 8};
  APPLY(mlprt_vectorize_fit(&t, &hs, &f_, &e_), &t, NULL);
  float total = 0;
  for (int k = 0; k < 8; k++) total += t.cols[k].f[0];
  ck_assert_float_eq(total, 3.0f);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(clean_log_json_and_summary) {
  MlprtTable t;
  load_text("g.csv", "a,c\n1,x\n,y\n1,x\n100,y\n", NULL, &t);
  MlprtCleanLog *log = mlprt_clean_log_new("g.csv");
  MlprtError e = {0};
  mlprt_drop_duplicates(&t, (MlprtCols){0}, log, &e);
  MlprtImputeParams ip = {.strategy = MLPRT_IMPUTE_MEDIAN};
  APPLY(mlprt_impute_fit(&t, &ip, &f_, &e_), &t, log);
  MlprtEncodeParams ep = {.method = MLPRT_ENCODE_ONEHOT};
  APPLY(mlprt_encode_fit(&t, &ep, &f_, &e_), &t, log);
  ck_assert_int_eq(mlprt_clean_log_steps(log), 3);
  char *path = malloc(strlen(dt_dir) + 32);
  sprintf(path, "%s/cleaning.json", dt_dir);
  ck_assert_int_eq(mlprt_clean_log_write(log, path, &e), 0);
  char *tmp = malloc(strlen(path) + 8);
  sprintf(tmp, "%s.tmp", path);
  ck_assert_int_ne(access(tmp, F_OK), 0); /* renamed into place */
  char *text = test_read_file(path, NULL);
  cJSON *root = cJSON_Parse(text);
  ck_assert_ptr_nonnull(root);
  cJSON *steps = cJSON_GetObjectItem(root, "steps");
  ck_assert_int_eq(cJSON_GetArraySize(steps), 3);
  cJSON *s0 = cJSON_GetArrayItem(steps, 0), *s1 = cJSON_GetArrayItem(steps, 1),
        *s2 = cJSON_GetArrayItem(steps, 2);
  ck_assert_str_eq(cJSON_GetObjectItem(s0, "step")->valuestring, "drop_duplicates");
  ck_assert_int_eq(cJSON_GetObjectItem(s0, "rows_dropped")->valueint, 1);
  ck_assert_str_eq(cJSON_GetObjectItem(s1, "method")->valuestring, "median");
  cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(s1, "columns"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(c0, "column")->valuestring, "a");
  ck_assert_double_eq(cJSON_GetObjectItem(c0, "fill")->valuedouble, 50.5); /* median of 1, 100 */
  ck_assert_int_eq(cJSON_GetObjectItem(c0, "imputed")->valueint, 1);
  cJSON *lv = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s2, "columns"), 0), "levels");
  ck_assert_int_eq(cJSON_GetArraySize(lv), 2);
  cJSON_Delete(root);
  free(text);
  FILE *mem = fmemopen(NULL, 4096, "w+");
  mlprt_clean_log_summary(log, mem);
  rewind(mem);
  char line[256], all[4096] = "";
  while (fgets(line, sizeof line, mem)) strcat(all, line);
  fclose(mem);
  ck_assert_ptr_nonnull(strstr(all, " 1. drop_duplicates: 4 -> 3 rows"));
  ck_assert_ptr_nonnull(strstr(all, " 2. impute median: 3 -> 3 rows; a imputed 1"));
  /* features: a, then the one-hot bools */
  int64_t n;
  int nc = mlprt_table_features(&t, -1, -1, NULL, &n);
  ck_assert_int_eq(nc, 3);
  float m[9];
  mlprt_table_features(&t, -1, -1, m, &n);
  ck_assert_float_eq(m[3], 50.5f);
  ck_assert_float_eq(m[5], 1.0f);
  free(tmp);
  free(path);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(clean_fits_round_trip) {
  /* fit a chain on training rows, write cleaning.json, read the fits back
   * and apply them to a fresh copy: the same table, cell for cell */
  const char *text = "x,y,c,doc\n"
                     "1,10,red,\"The Cat sat\"\n"
                     ",20,blue,\"a dog; a CAT\"\n"
                     "3,,red,\"dogs and cats\"\n"
                     "4,40,green,\"the end\"\n"
                     "100,50,purple,\"cat cat cat\"\n"
                     "6,60,,\"new words here\"\n";
  MlprtLoadOpts o = {.max_levels = 4};
  MlprtDecl decl[] = {{"doc", MLPRT_COL_TEXT}};
  o.decl = decl, o.ndecl = 1;
  MlprtTable a, b;
  load_text("rt1.csv", text, &o, &a);
  load_text("rt2.csv", text, &o, &b);
  split_4_2(&a);
  MlprtCleanLog *log = mlprt_clean_log_new("rt1.csv");
  const char *xy[] = {"x", "y"};
  MlprtImputeParams ip = {.cols = {xy, 2}, .strategy = MLPRT_IMPUTE_MEDIAN, .indicator = true};
  APPLY(mlprt_impute_fit(&a, &ip, &f_, &e_), &a, log);
  MlprtOutlierParams op = {.cols = {xy, 2}, .method = MLPRT_OUTLIER_IQR};
  APPLY(mlprt_outliers_fit(&a, &op, &f_, &e_), &a, log);
  MlprtScaleParams sp = {.cols = {xy, 2}, .method = MLPRT_SCALE_ROBUST};
  APPLY(mlprt_scale_fit(&a, &sp, &f_, &e_), &a, log);
  MlprtEncodeParams ep = {.method = MLPRT_ENCODE_ONEHOT, .unknown_bucket = true};
  APPLY(mlprt_encode_fit(&a, &ep, &f_, &e_), &a, log);
  MlprtTextCleanParams tp = {.opts =
                                 MLPRT_TEXT_LOWER | MLPRT_TEXT_PUNCT | MLPRT_TEXT_SPACE | MLPRT_TEXT_STOP};
  APPLY(mlprt_text_clean_fit(&a, &tp, &f_, &e_), &a, log);
  MlprtVectorizeParams vp = {
      .cols = {(const char *[]){"doc"}, 1, NULL},
      .terms = {.method = MLPRT_VEC_TFIDF, .l2 = true},
      .max_vocab = 3};
  APPLY(mlprt_vectorize_fit(&a, &vp, &f_, &e_), &a, log);
  char *path = malloc(strlen(dt_dir) + 32);
  sprintf(path, "%s/cleaning.json", dt_dir);
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_clean_log_write(log, path, &e), 0);
  MlprtFit *fits;
  int n;
  ck_assert_msg(mlprt_fits_read(path, &fits, &n, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(n, 6);
  for (int i = 0; i < n; i++) ck_assert_msg(mlprt_fit_apply(&b, &fits[i], NULL, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(b.ncols, a.ncols);
  ck_assert_int_eq(b.nrows, a.nrows);
  for (int c = 0; c < a.ncols; c++) {
    ck_assert_str_eq(b.cols[c].name, a.cols[c].name);
    for (int64_t r = 0; r < a.nrows; r++) {
      char b1[64], b2[64];
      ck_assert_str_eq(mlprt_cell_str(&b, c, r, b1, sizeof b1), mlprt_cell_str(&a, c, r, b2, sizeof b2));
    }
  }
  mlprt_fits_free(fits, n);
  ck_assert_int_ne(mlprt_fits_read("/nonexistent/cleaning.json", &fits, &n, &e), 0);
  free(path);
  mlprt_clean_log_free(log);
  mlprt_table_free(&a);
  mlprt_table_free(&b);
}
END_TEST

START_TEST(clean_parse_dates) {
  /* dates kept as text, then parsed by coercion in each supported format */
  MlprtTable t;
  MlprtDecl decl[] = {{"when", MLPRT_COL_TEXT}};
  MlprtLoadOpts o = {.decl = decl, .ndecl = 1};
  load_text("dates.csv",
            "when\n2021-03-04\n2021/03/05\n06.03.2021\n2021-03-07T12:30:00Z\n2021-03-08 01:02:03\nsoon\n", &o,
            &t);
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_coerce(&t, col(&t, "when"), MLPRT_COL_DATETIME, NULL, MLPRT_ONFAIL_NULL, NULL, &e),
                   0);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_DATETIME);
  int64_t d0 = mlprt_days_from_civil(2021, 3, 4) * 86400;
  ck_assert_int_eq(t.cols[0].t[0], d0);
  ck_assert_int_eq(t.cols[0].t[1], d0 + 86400);
  ck_assert_int_eq(t.cols[0].t[2], d0 + 2 * 86400);
  ck_assert_int_eq(t.cols[0].t[3], d0 + 3 * 86400 + 12 * 3600 + 30 * 60);
  ck_assert_int_eq(t.cols[0].t[4], d0 + 4 * 86400 + 3723);
  ck_assert_int_eq(t.cols[0].t[5], MLPRT_TIME_NA);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(clean_time_series) {
  MlprtTable t;
  /* unsorted, a gap on 01-04..01-05, two readings on 01-06 */
  load_text("ts.csv", "d,v,k\n2020-01-03,3,a\n2020-01-01,1,a\n2020-01-06,7,b\n2020-01-06T12:00:00,9,c\n",
            NULL, &t);
  MlprtError e = {0};
  ck_assert_int_eq(resample_on(&t, "d", 86400, MLPRT_GAP_FFILL, &e), -1); /* not sorted */
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(mlprt_ts_sort(&t, "d", &e), 0);
  ck_assert_float_eq(t.cols[1].f[0], 1.0f);
  MlprtTable u;
  mlprt_table_like(&u, &t);
  mlprt_table_append(&u, &t, &e);
  ck_assert_int_eq(resample_on(&t, "d", 86400, MLPRT_GAP_LINEAR, &e), 0);
  ck_assert_int_eq(t.nrows, 6);
  /* 01-06 is the mean of 7 and 9; the gap after 01-03 runs from 3 to 8 */
  const double lin[] = {1, 2, 3, 3 + 5.0 / 3, 3 + 10.0 / 3, 8};
  for (int i = 0; i < 6; i++) ck_assert_float_eq_tol(t.cols[1].f[i], lin[i], 1e-5);
  ck_assert_str_eq(t.cols[2].levels.names[t.cols[2].codes[5]], "c"); /* last value */
  ck_assert_str_eq(t.cols[2].levels.names[t.cols[2].codes[3]], "a"); /* gap: forward fill */
  ck_assert_int_eq(resample_on(&u, "d", 86400, MLPRT_GAP_FFILL, &e), 0);
  ck_assert_float_eq(u.cols[1].f[3], 3.0f);
  int lags[] = {1, 2};
  const char *v_name[] = {"v"};
  MlprtSeriesParams v_series = {.cols = {v_name, 1}, .history = MLPRT_HISTORY_NULL};
  MlprtRoll mean = MLPRT_ROLL_MEAN;
  ck_assert_int_eq(mlprt_ts_lag(&t, &v_series, lags, 2, NULL, &e), 0);
  ck_assert(isnan(t.cols[col(&t, "v_lag2")].f[1]));
  ck_assert_float_eq(t.cols[col(&t, "v_lag2")].f[5], t.cols[1].f[3]);
  ck_assert_int_eq(mlprt_ts_rolling(&t, &v_series, 3, 0, &mean, 1, NULL, &e), 0);
  int rm = col(&t, "v_roll_mean_3");
  ck_assert(isnan(t.cols[rm].f[1]));
  ck_assert_float_eq_tol(t.cols[rm].f[5], (lin[3] + lin[4] + lin[5]) / 3, 1e-5);
  /* the as-of join of a second series that starts later: each day takes the
   * latest reading at or before it, never the one of 01-08 */
  MlprtTable w;
  load_text("ts2.csv", "d,x,k2\n2020-01-04,30,p\n2020-01-02,10,q\n2020-01-08,70,r\n", NULL, &w);
  MlprtAsofParams ap = {.on = "d", .tolerance = -1};
  MlprtTable u2;
  mlprt_table_like(&u2, &u);
  mlprt_table_append(&u2, &u, &e);
  ck_assert_int_eq(mlprt_ts_asof(&u, &w, &ap, NULL, &e), 0);
  ck_assert_int_eq(u.nrows, 6); /* 01-01 .. 01-06 */
  int x = col(&u, "x"), k2 = col(&u, "k2");
  const float want[] = {NAN, 10, 10, 30, 30, 30};
  for (int i = 0; i < 6; i++)
    ck_assert(isnan(want[i]) ? isnan(u.cols[x].f[i]) : u.cols[x].f[i] == want[i]);
  ck_assert_str_eq(u.cols[k2].levels.names[u.cols[k2].codes[5]], "p");
  ck_assert_int_eq(u.cols[k2].codes[0], -1);
  /* within a day only, and rows without a match dropped */
  ap.tolerance = 86400, ap.unmatched = MLPRT_UNMATCHED_DROP;
  ck_assert_int_eq(mlprt_ts_asof(&u2, &w, &ap, NULL, &e), 0);
  ck_assert_int_eq(u2.nrows, 4); /* 01-02 .. 01-05 */
  ck_assert_float_eq(u2.cols[col(&u2, "x")].f[3], 30.0f);
  /* a column both tables have is refused */
  ck_assert_int_eq(mlprt_ts_asof(&u2, &w, &ap, NULL, &e), -1);
  ck_assert_str_eq(e.column, "x");
  mlprt_table_free(&u2);
  mlprt_table_free(&w);
  mlprt_table_free(&u);
  mlprt_table_free(&t);
}
END_TEST

/* ---- real data ---- */

START_TEST(clean_cars_json) {
  const char *p = dt_system_file(VEGA "cars.json", "python3-vega-datasets");
  if (!p) return;
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert_int_eq(t.nrows, 406);
  ck_assert_int_eq(t.ncols, 9);
  ck_assert_int_eq(t.cols[col(&t, "Name")].type, MLPRT_COL_TEXT);
  ck_assert_int_eq(t.cols[col(&t, "Year")].type, MLPRT_COL_DATETIME);
  int origin = col(&t, "Origin");
  ck_assert_int_eq(t.cols[origin].type, MLPRT_COL_CATEGORY);
  ck_assert_int_eq(t.cols[origin].levels.n, 3);
  /* pandas: pd.read_json(cars.json).isna().sum() gives Miles_per_Gallon 8,
   * Horsepower 6; .median() 23.0 and 95.0; Horsepower.mean() 105.0825;
   * Origin.value_counts() USA 254, Japan 79, Europe 73; duplicated().sum() 0 */
  MlprtCleanLog *log = mlprt_clean_log_new(p);
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_drop_duplicates(&t, (MlprtCols){0}, log, &e), 0);
  const char *mpg_hp[] = {"Miles_per_Gallon", "Horsepower"};
  MlprtImputeParams ip = {.cols = {mpg_hp, 2}, .strategy = MLPRT_IMPUTE_MEDIAN};
  MlprtFit f;
  ck_assert_int_eq(mlprt_impute_fit(&t, &ip, &f, &e), 0);
  ck_assert_double_eq(f.cols[0].a, 23.0);
  ck_assert_double_eq(f.cols[1].a, 95.0);
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, log, &e), 0);
  ck_assert_int_eq(f.cols[0].changed, 8);
  ck_assert_int_eq(f.cols[1].changed, 6);
  mlprt_fit_free(&f);
  MlprtTable t2;
  dt_load_ok(p, NULL, &t2);
  MlprtImputeParams mp = {.cols = {mpg_hp + 1, 1}, .strategy = MLPRT_IMPUTE_MEAN};
  ck_assert_int_eq(mlprt_impute_fit(&t2, &mp, &f, &e), 0);
  ck_assert_double_eq_tol(f.cols[0].a, 105.0825, 1e-9);
  mlprt_fit_free(&f);
  mlprt_table_free(&t2);
  MlprtEncodeParams ep = {.method = MLPRT_ENCODE_ONEHOT};
  APPLY(mlprt_encode_fit(&t, &ep, &f_, &e_), &t, log);
  int usa = col(&t, "Origin=USA"), japan = col(&t, "Origin=Japan");
  int64_t nu = 0, nj = 0;
  for (int64_t r = 0; r < t.nrows; r++) nu += t.cols[usa].b[r], nj += t.cols[japan].b[r];
  ck_assert_int_eq(nu, 254);
  ck_assert_int_eq(nj, 79);
  /* the text column vectorizes: "ford" is among the top words of car names */
  MlprtVectorizeParams vp = {
      .cols = {(const char *[]){"Name"}, 1, NULL}, .terms = {.method = MLPRT_VEC_COUNT}, .max_vocab = 5};
  APPLY(mlprt_vectorize_fit(&t, &vp, &f_, &e_), &t, log);
  ck_assert_int_ge(mlprt_table_find(&t, "Name:ford"), 0);
  ck_assert_int_eq(mlprt_clean_log_steps(log), 4);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(clean_seattle_weather) {
  const char *p = dt_system_file(VEGA "seattle-weather.csv", "python3-vega-datasets");
  if (!p) return;
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert_int_eq(t.nrows, 1461);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_DATETIME); /* YYYY/MM/DD */
  int wx = col(&t, "weather");
  ck_assert_int_eq(t.cols[wx].levels.n, 5);
  /* pandas: w.temp_max.mean() 16.43908281998631, .std(ddof=0) 7.347242349178532 */
  const char *tm[] = {"temp_max"};
  MlprtScaleParams sp = {.cols = {tm, 1}, .method = MLPRT_SCALE_STANDARD};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_scale_fit(&t, &sp, &f, &e), 0);
  ck_assert_double_eq_tol(f.cols[0].a, 16.43908281998631, 1e-5);
  ck_assert_double_eq_tol(f.cols[0].b, 7.347242349178532, 1e-5);
  mlprt_fit_free(&f);
  /* pandas: temp_max.rolling(7).mean()[6] 9.685714285714285, [100] 15.157142857142858;
   * .rolling(5).std()[10] 1.8392933425639328; .shift(3)[3] 12.8 */
  int lag3[] = {3};
  const char *tmax[] = {"temp_max"};
  MlprtSeriesParams series = {.cols = {tmax, 1}, .history = MLPRT_HISTORY_NULL};
  MlprtRoll mean = MLPRT_ROLL_MEAN, sd = MLPRT_ROLL_STD;
  ck_assert_int_eq(mlprt_ts_rolling(&t, &series, 7, 0, &mean, 1, NULL, &e), 0);
  ck_assert_int_eq(mlprt_ts_rolling(&t, &series, 5, 0, &sd, 1, NULL, &e), 0);
  ck_assert_int_eq(mlprt_ts_lag(&t, &series, lag3, 1, NULL, &e), 0);
  ck_assert_float_eq_tol(t.cols[col(&t, "temp_max_roll_mean_7")].f[6], 9.685714285714285f, 1e-5);
  ck_assert_float_eq_tol(t.cols[col(&t, "temp_max_roll_mean_7")].f[100], 15.157142857142858f, 1e-5);
  ck_assert_float_eq_tol(t.cols[col(&t, "temp_max_roll_std_5")].f[10], 1.8392933425639328f, 1e-5);
  ck_assert_float_eq(t.cols[col(&t, "temp_max_lag3")].f[3], 12.8f);
  /* gaps: drop rows 5, 8, 11, ... then resample daily.
   * pandas: w.drop(index=range(5, 1461, 3)).set_index('date').temp_max
   *   .resample('D').mean() has 1460 days; .interpolate('linear').sum()
   *   24087.55 and .ffill().sum() 24095.1 */
  for (int mode = 0; mode < 2; mode++) {
    MlprtTable g;
    dt_load_ok(p, NULL, &g);
    uint8_t *keep = malloc((size_t)g.nrows);
    for (int64_t r = 0; r < g.nrows; r++) keep[r] = !(r >= 5 && (r - 5) % 3 == 0);
    mlprt_table_filter(&g, keep);
    free(keep);
    ck_assert_int_eq(resample_on(&g, "date", 86400, mode ? MLPRT_GAP_LINEAR : MLPRT_GAP_FFILL, &e), 0);
    ck_assert_int_eq(g.nrows, 1460);
    double s = 0;
    int c = col(&g, "temp_max");
    for (int64_t r = 0; r < g.nrows; r++) s += g.cols[c].f[r];
    ck_assert_double_eq_tol(s, mode ? 24087.55 : 24095.1, 0.01);
    mlprt_table_free(&g);
  }
  /* weekly means on an epoch-anchored grid. pandas: .resample('7D',
   * origin='epoch').mean() gives 210 weeks from 2011-12-29, temp_max
   * 11.825, 7.442857142857143, 3.085714285714286 ... */
  ck_assert_int_eq(resample_on(&t, "date", 7 * 86400, MLPRT_GAP_FFILL, &e), 0);
  ck_assert_int_eq(t.nrows, 210);
  ck_assert_int_eq(t.cols[0].t[0], mlprt_days_from_civil(2011, 12, 29) * 86400);
  int c = col(&t, "temp_max");
  ck_assert_float_eq_tol(t.cols[c].f[0], 11.825f, 1e-5);
  ck_assert_float_eq_tol(t.cols[c].f[1], 7.442857142857143f, 1e-5);
  ck_assert_float_eq_tol(t.cols[c].f[2], 3.085714285714286f, 1e-5);
  mlprt_table_free(&t);
}
END_TEST

Suite *clean_suite(void);
Suite *clean_suite(void) {
  Suite *s = suite_create("clean");
  TCase *tc = tcase_create("clean");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_add_test(tc, clean_drop_duplicates);
  tcase_add_test(tc, clean_coerce_policies);
  tcase_add_test(tc, clean_large_columns_reuse_memory);
  tcase_add_test(tc, clean_impute_strategies);
  tcase_add_test(tc, clean_outliers);
  tcase_add_test(tc, clean_scaling);
  tcase_add_test(tc, clean_scaling_overflow_is_an_error);
  tcase_add_test(tc, clean_encoding);
  tcase_add_test(tc, clean_op_codes_match_registry);
  tcase_add_test(tc, clean_onehot_max_levels_and_unknown_error);
  tcase_add_test(tc, clean_onehot_given_levels);
  tcase_add_test(tc, clean_text);
  tcase_add_test(tc, clean_log_json_and_summary);
  tcase_add_test(tc, clean_fits_round_trip);
  tcase_add_test(tc, clean_parse_dates);
  tcase_add_test(tc, clean_fits_over_chunks_equal_whole);
  tcase_add_test(tc, clean_time_series);
  tcase_add_test(tc, clean_cars_json);
  tcase_add_test(tc, clean_seattle_weather);
  suite_add_tcase(s, tc);
  return s;
}
