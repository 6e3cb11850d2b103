/* check_fastpath.c — the data step's fast paths against the plain ones they
 * stand in for: the one-pass median of a large column (a sampled bracket)
 * against radix selection and against sorting, the moments of two columns
 * in one pass against one column's sums in a plain loop, duplicate removal (row
 * hashes that pair 32-bit cells) against comparing every pair of rows, and
 * the CSV loader's four-digit fraction step against mlprt_parse_double on
 * every cell, a cell's plain-digit step (mlprt_num_from_text) against
 * mlprt_parse_double, and imputation's fill and clipping (branch-free selects)
 * against the plain loops with a branch per cell, and a team's threads
 * started once against mlprt_parallel_for's started per call. Each case is
 * built so that the fast path is the one taken. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/clean.h"
#include "runtime/data/data_int.h"
#include "tests/unit/datautil.h"

/* A deterministic generator, so a failure can be replayed. */
static uint64_t rng_state;
static uint32_t rng(void) {
  rng_state = rng_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return (uint32_t)(rng_state >> 33);
}

/* A one-column FLOAT table "x" of n rows. */
static void float_table(MlprtTable *t, int64_t n) {
  mlprt_table_init(t);
  mlprt_table_add_column(t, "x", MLPRT_COL_FLOAT);
  mlprt_table_reserve(t, n);
  t->nrows = n;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The median of the training values by sorting them (numpy's interpolation). */
static double sorted_median(const MlprtTable *t) {
  float *v = malloc((size_t)t->nrows * sizeof *v);
  int64_t m = 0;
  for (int64_t r = 0; r < t->nrows; r++)
    if (!isnan(t->cols[0].f[r]) && mlprt_row_trains(t, r)) v[m++] = t->cols[0].f[r];
  qsort(v, (size_t)m, sizeof *v, cmp_float);
  double pos = 0.5 * (double)(m - 1), k = floor(pos);
  double res = v[(int64_t)k] + (pos - k) * ((double)v[(int64_t)k + (pos > k)] - v[(int64_t)k]);
  free(v);
  return res;
}

/* Impute's median (one quantile: the bracketed pass) must equal robust
 * scaling's centre (three quantiles: radix selection) bit for bit, and the
 * median found by sorting in value. */
static void check_median(MlprtTable *t, const char *what) {
  const char *x[] = {"x"};
  MlprtError e = {0};
  MlprtFit fi, fs;
  MlprtImputeParams ip = {.cols = {x, 1}, .strategy = MLPRT_IMPUTE_MEDIAN};
  MlprtScaleParams sp = {.cols = {x, 1}, .method = MLPRT_SCALE_ROBUST};
  ck_assert_msg(mlprt_impute_fit(t, &ip, &fi, &e) == 0, "%s: %s", what, dt_err(&e));
  ck_assert_msg(mlprt_scale_fit(t, &sp, &fs, &e) == 0, "%s: %s", what, dt_err(&e));
  ck_assert_msg(memcmp(&fi.cols[0].a, &fs.cols[0].a, sizeof(double)) == 0, "%s: median %.17g, radix %.17g",
                what, fi.cols[0].a, fs.cols[0].a);
  double want = sorted_median(t);
  ck_assert_msg(fi.cols[0].a == want, "%s: median %.17g, sorted %.17g", what, fi.cols[0].a, want);
  mlprt_fit_free(&fi);
  mlprt_fit_free(&fs);
}

START_TEST(fastpath_median_matches_radix_and_sort) {
  enum { N = 200000 };
  MlprtTable t;
  rng_state = 7;
  /* spread values, some missing; an even count, so the two middle values
   * are interpolated */
  float_table(&t, N);
  for (int64_t r = 0; r < N; r++)
    t.cols[0].f[r] = r % 20 == 3 ? NAN : (float)((int)(rng() % 2000001) - 1000000) / 7;
  check_median(&t, "spread");
  /* NaNs of every kind (negative, the smallest and largest payloads) are
   * missing too: the bracketed pass finds them from the bits */
  static const uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fffffffu};
  for (int64_t r = 3; r < N; r += 20) memcpy(&t.cols[0].f[r], &nans[r / 20 % 4], 4);
  check_median(&t, "NaN patterns");
  /* few distinct values: the middle rank sits in a long run of equal keys */
  for (int64_t r = 0; r < N; r++) t.cols[0].f[r] = (float)(rng() % 5);
  check_median(&t, "runs");
  /* -0 and +0 around the middle: keys order -0 first */
  for (int64_t r = 0; r < N; r++) t.cols[0].f[r] = r < N / 2 ? -0.0f : r % 2 ? 0.0f : (float)r;
  check_median(&t, "signed zeros");
  /* ascending data */
  for (int64_t r = 0; r < N; r++) t.cols[0].f[r] = (float)r * 0.25f;
  check_median(&t, "sorted");
  /* every sampled row (row i * N / 4096) holds 1 and every other row more:
   * the bracket misses and radix selection answers */
  for (int64_t r = 0; r < N; r++) t.cols[0].f[r] = (float)(rng() % 1000) + 2;
  for (int64_t i = 0; i < 4096; i++) t.cols[0].f[i * N / 4096] = 1;
  check_median(&t, "misleading sample");
  /* a split: only training rows count */
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < N; r++) {
    t.part[r] = r % 3 ? MLPRT_TRAIN : MLPRT_TEST;
    t.cols[0].f[r] = r % 3 ? (float)(rng() % 100000) : 1e9f;
  }
  check_median(&t, "split");
  mlprt_table_free(&t);
}
END_TEST

/* Mean and population sd of column x's training values by the plain loop
 * the paired pass must match bit for bit: shifted by the first value,
 * summed in row order. */
static void plain_moments(const MlprtTable *t, const float *x, double *mean, double *sd) {
  int64_t r0 = 0, k = 0;
  while (isnan(x[r0]) || !mlprt_row_trains(t, r0)) r0++;
  double x0 = x[r0], s = 0, ss = 0;
  for (int64_t r = r0; r < t->nrows; r++) {
    if (isnan(x[r]) || !mlprt_row_trains(t, r)) continue;
    double d = x[r] - x0;
    s += d, ss += d * d, k++;
  }
  double var = (ss - s * s / (double)k) / (double)k;
  *mean = x0 + s / (double)k;
  *sd = sqrt(var > 0 ? var : 0);
}

START_TEST(fastpath_paired_moments_match_plain_sums) {
  enum { N = 50000, C = 3 }; /* a pair and a column alone */
  MlprtTable t;
  mlprt_table_init(&t);
  const char *names[C] = {"a", "b", "c"};
  for (int c = 0; c < C; c++) mlprt_table_add_column(&t, names[c], MLPRT_COL_FLOAT);
  mlprt_table_reserve(&t, N);
  t.nrows = N;
  rng_state = 3;
  for (int split = 0; split < 2; split++) {
    if (split) {
      t.part = malloc((size_t)t.cap_rows);
      for (int64_t r = 0; r < N; r++) t.part[r] = rng() % 4 ? MLPRT_TRAIN : MLPRT_VALID;
    }
    for (int64_t r = 0; r < N; r++) {
      /* far from zero, some missing (the first ten too) */
      t.cols[0].f[r] = r < 10 || rng() % 10 == 0 ? NAN : 1e4f + (float)(rng() % 100000) / 997;
      t.cols[1].f[r] = (float)((int)(rng() % 2001) - 1000) * 1e-3f;
      t.cols[2].f[r] = rng() % 3 ? -0.0f : (float)(rng() % 50);
    }
    MlprtFit f;
    MlprtError e = {0};
    MlprtScaleParams sp = {.cols = {names, C}, .method = MLPRT_SCALE_STANDARD};
    ck_assert_msg(mlprt_scale_fit(&t, &sp, &f, &e) == 0, "%s", dt_err(&e));
    for (int c = 0; c < C; c++) {
      double mean, sd;
      plain_moments(&t, t.cols[c].f, &mean, &sd);
      ck_assert_msg(memcmp(&f.cols[c].a, &mean, sizeof mean) == 0, "split %d col %d: mean %.17g, plain %.17g",
                    split, c, f.cols[c].a, mean);
      ck_assert_msg(memcmp(&f.cols[c].b, &sd, sizeof sd) == 0, "split %d col %d: sd %.17g, plain %.17g",
                    split, c, f.cols[c].b, sd);
    }
    mlprt_fit_free(&f);
    /* min-max scaling: the pass that also tracks the extremes */
    sp.method = MLPRT_SCALE_MINMAX;
    ck_assert_msg(mlprt_scale_fit(&t, &sp, &f, &e) == 0, "%s", dt_err(&e));
    for (int c = 0; c < C; c++) {
      float lo = INFINITY, hi = -INFINITY;
      for (int64_t r = 0; r < N; r++) {
        float v = t.cols[c].f[r];
        if (isnan(v) || !mlprt_row_trains(&t, r)) continue;
        lo = v < lo ? v : lo, hi = v > hi ? v : hi;
      }
      double width = (double)hi - lo;
      ck_assert_msg(f.cols[c].a == lo && f.cols[c].b == (width > 0 ? width : 1),
                    "split %d col %d: min %g width %g, plain %g %g", split, c, f.cols[c].a, f.cols[c].b, lo,
                    width);
    }
    mlprt_fit_free(&f);
  }
  mlprt_table_free(&t);
}
END_TEST

/* Rows r and s equal in every column, as drop_duplicates defines it. */
static bool rows_equal(const MlprtTable *t, int64_t r, int64_t s) {
  for (int i = 0; i < t->ncols; i++) {
    const MlprtColumn *c = &t->cols[i];
    bool eq;
    switch (c->type) {
    case MLPRT_COL_FLOAT: eq = c->f[r] == c->f[s] || (isnan(c->f[r]) && isnan(c->f[s])); break;
    case MLPRT_COL_BOOL: eq = c->b[r] == c->b[s]; break;
    case MLPRT_COL_CATEGORY: eq = c->codes[r] == c->codes[s]; break;
    default: {
      const char *x = mlprt_text_at(c, r), *y = mlprt_text_at(c, s);
      eq = x && y ? strcmp(x, y) == 0 : x == y;
      break;
    }
    }
    if (!eq) return false;
  }
  return true;
}

START_TEST(fastpath_duplicates_match_pairwise) {
  enum { N = 3000 };
  MlprtTable t;
  mlprt_table_init(&t);
  /* three 32-bit columns (one left over after pairing), a bool and text */
  int a = mlprt_table_add_column(&t, "a", MLPRT_COL_FLOAT);
  int b = mlprt_table_add_column(&t, "b", MLPRT_COL_BOOL);
  int c = mlprt_table_add_column(&t, "c", MLPRT_COL_CATEGORY);
  int d = mlprt_table_add_column(&t, "d", MLPRT_COL_FLOAT);
  int s = mlprt_table_add_column(&t, "s", MLPRT_COL_TEXT);
  mlprt_table_reserve(&t, N);
  t.nrows = N;
  mlprt_levels_intern(&t.cols[c].levels, "p", 1);
  mlprt_levels_intern(&t.cols[c].levels, "q", 1);
  static const float vals[] = {0.0f, -0.0f, 1.5f, NAN, -NAN};
  rng_state = 11;
  for (int64_t r = 0; r < N; r++) {
    t.cols[a].f[r] = vals[rng() % 5];
    t.cols[b].b[r] = rng() % 3 == 0 ? MLPRT_BOOL_NA : (uint8_t)(rng() % 2);
    t.cols[c].codes[r] = (int32_t)(rng() % 3) - 1;
    t.cols[d].f[r] = vals[rng() % 5];
    if (rng() % 4) {
      t.cols[s].off[r] = -1;
    } else {
      const char *txt = rng() % 2 ? "x" : "y";
      mlprt_text_set(&t.cols[s], r, txt, 1);
    }
  }
  uint8_t *first = malloc(N); /* 1 where no earlier row equals this one */
  int64_t want = 0;
  for (int64_t r = 0; r < N; r++) {
    first[r] = 1;
    for (int64_t q = 0; q < r && first[r]; q++) first[r] = !rows_equal(&t, q, r);
    want += !first[r];
  }
  /* the expected survivors: a copy filtered by the pairwise answer */
  MlprtError e = {0};
  MlprtTable copy;
  mlprt_table_like(&copy, &t);
  ck_assert_int_eq(mlprt_table_append(&copy, &t, &e), 0);
  mlprt_table_filter(&copy, first);
  ck_assert_int_eq(mlprt_drop_duplicates(&t, (MlprtCols){0}, NULL, &e), want);
  ck_assert_int_eq(t.nrows, copy.nrows);
  for (int64_t r = 0; r < t.nrows; r++) {
    ck_assert_msg(memcmp(&t.cols[a].f[r], &copy.cols[a].f[r], 4) == 0, "row %lld column a", (long long)r);
    ck_assert_int_eq(t.cols[b].b[r], copy.cols[b].b[r]);
    ck_assert_int_eq(t.cols[c].codes[r], copy.cols[c].codes[r]);
    ck_assert_msg(memcmp(&t.cols[d].f[r], &copy.cols[d].f[r], 4) == 0, "row %lld column d", (long long)r);
    ck_assert_int_eq(t.cols[s].off[r] < 0, copy.cols[s].off[r] < 0);
  }
  free(first);
  mlprt_table_free(&copy);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(fastpath_csv_fractions_match_parse_double) {
  /* fractions of 0 to 9 digits (the four-digit step runs 0, 1 or 2 times,
   * then the byte loop), signs, and a file of several segments (> 2 MB) */
  enum { N = 120000, COLS = 3 };
  char *text = malloc((size_t)N * 80 + 32), *w = text;
  w += sprintf(w, "u,v,w\n");
  rng_state = 5;
  for (int r = 0; r < N; r++) {
    for (int k = 0; k < COLS; k++) {
      int frac = (int)(rng() % 10);
      w += sprintf(w, "%s%u", rng() % 4 == 0 ? "-" : "", rng() % 100000);
      if (frac) {
        *w++ = '.';
        for (int i = 0; i < frac; i++) *w++ = (char)('0' + rng() % 10);
      }
      *w++ = k + 1 < COLS ? ',' : '\n';
    }
  }
  *w = 0;
  char *path = dt_write(dt_dir, "fractions.csv", text, (size_t)(w - text));
  MlprtLoadOpts o = {.nthreads = 2};
  MlprtTable t;
  MlprtError e = {0};
  ck_assert_msg(mlprt_load(path, &o, &t, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(t.nrows, N);
  ck_assert_int_eq(t.ncols, COLS);
  /* walk the text again and compare every cell */
  const char *p = strchr(text, '\n') + 1;
  int64_t wrong = 0;
  for (int64_t r = 0; r < N; r++) {
    for (int k = 0; k < COLS; k++) {
      size_t len = strcspn(p, ",\n");
      double v;
      ck_assert(mlprt_parse_double(p, len, &v));
      wrong += t.cols[k].f[r] != (float)v;
      p += len + 1;
    }
  }
  ck_assert_int_eq(wrong, 0);
  mlprt_table_free(&t);
  free(path);
  free(text);
}
END_TEST

/* Up to nine plain digits read as one exact integer; everything else (a
 * sign, a tenth digit, a space) and a numeric missing-value token take the
 * general parse: the same floats either way, for FLOAT and INT cells. */
START_TEST(fastpath_cell_digits_match_parse_double) {
  MlprtNaSet plain, tokens;
  mlprt_na_init(&plain, NULL);
  const char *toks[] = {"7", "-999"};
  MlprtLoadOpts o = {.na_tokens = toks, .nna = 2};
  mlprt_na_init(&tokens, &o);
  static const char *const fixed[] = {"0", "00", "007", "000000000", "16777217", "16777219", "999999999",
                                      "1000000001", "4294967297", "-0", "+5", " 12", "12 ", "1.0", "1e3", "7",
                                      "-999"};
  char buf[32];
  int64_t wrong = 0, n = 0;
  rng_state = 11;
  for (int i = 0; i < 200000 + (int)(sizeof fixed / sizeof *fixed); i++) {
    const char *text = buf;
    if (i < (int)(sizeof fixed / sizeof *fixed)) text = fixed[i];
    else if (i % 2) snprintf(buf, sizeof buf, "%u", rng() % 100000);
    else snprintf(buf, sizeof buf, "%0*u", (int)(rng() % 10) + 1, rng() % 1000000000);
    size_t len = strlen(text);
    for (int nt = 0; nt < 2; nt++) {
      const MlprtNaSet *na = nt ? &tokens : &plain;
      double v;
      bool token = mlprt_na_match(na, text, len);
      bool ok = mlprt_parse_double(text, len, &v);
      static const MlprtColType types[] = {MLPRT_COL_FLOAT, MLPRT_COL_INT};
      for (int k = 0; k < 2; k++) {
        MlprtColType type = types[k];
        float f = 0;
        const char *why = NULL;
        int rc = mlprt_num_from_text(type, text, len, na, &f, &why);
        bool whole = ok && v == floor(v);
        if (token) wrong += rc != 0 || !isnan(f);
        else if (!ok || (type == MLPRT_COL_INT && !whole)) wrong += rc == 0;
        else wrong += rc != 0 || f != (float)v || !signbit(f) != !signbit(v);
        n++;
      }
    }
  }
  ck_assert_int_gt(n, 800000);
  ck_assert_int_eq(wrong, 0);
}
END_TEST

/* Outlier rows r with r % 7 == 0 are protected in the keep-predicate case. */
static bool every_seventh(const MlprtTable *t, int64_t row, void *ctx) {
  (void)t, (void)ctx;
  return row % 7 == 0;
}

/* Imputation's fill and clipping (both branch-free selects) against the
 * plain loops with a branch per cell: the same cells, bit for bit, and the
 * same counts of changed cells; clipping with and without a keep predicate.
 * The row count is odd, so the vector loops' tails run too. */
/* Task i of a step adds (step + 1) * (i + 1) to its own slot. */
typedef struct {
  int64_t *slot;
  int step;
} TeamStep;

static void team_task(void *ctx, int i) {
  TeamStep *s = ctx;
  s->slot[i] += (int64_t)(s->step + 1) * (i + 1);
}

/* Many short steps on a team of three threads (and on a team of one) run
 * every task of every step once, as mlprt_parallel_for does. */
START_TEST(fastpath_team_runs_every_task_once) {
  enum { STEPS = 2000, TASKS = 7 };
  int64_t want[TASKS] = {0};
  TeamStep plain = {want, 0};
  for (plain.step = 0; plain.step < STEPS; plain.step++) mlprt_parallel_for(TASKS, 3, team_task, &plain);
  for (int threads = 1; threads <= 3; threads += 2) {
    int64_t got[TASKS] = {0};
    TeamStep s = {got, 0};
    MlprtTeam *team = mlprt_team_start(threads);
    for (s.step = 0; s.step < STEPS; s.step++) mlprt_team_for(team, s.step % TASKS + 1, team_task, &s);
    mlprt_team_stop(team);
    for (int i = 0; i < TASKS; i++) {
      int64_t expect = 0; /* step s ran tasks [0, s % TASKS + 1) */
      for (int k = 0; k < STEPS; k++) expect += k % TASKS >= i ? (int64_t)(k + 1) * (i + 1) : 0;
      ck_assert_msg(got[i] == expect, "task %d on %d threads: %lld, want %lld", i, threads, (long long)got[i],
                    (long long)expect);
      ck_assert_int_eq(want[i], (int64_t)(i + 1) * STEPS * (STEPS + 1) / 2);
    }
  }
}
END_TEST

START_TEST(fastpath_fill_and_clip_match_plain_loops) {
  enum { N = 20011 };
  const char *names[] = {"a", "b"};
  float *orig = malloc(2 * N * sizeof *orig), *want = malloc(N * sizeof *want);
  rng_state = 11;
  for (int64_t r = 0; r < 2 * N; r++) {
    uint32_t u = rng() % 100;
    orig[r] = u < 5 ? NAN : u < 8 ? (u & 1 ? 1e6f : -1e6f) : u < 10 ? -0.0f : (float)(rng() % 2000) / 100;
  }
  for (int keep = 0; keep < 2; keep++) {
    MlprtTable t;
    mlprt_table_init(&t);
    for (int c = 0; c < 2; c++) mlprt_table_add_column(&t, names[c], MLPRT_COL_FLOAT);
    mlprt_table_reserve(&t, N);
    t.nrows = N;
    for (int c = 0; c < 2; c++) memcpy(t.cols[c].f, orig + c * N, N * sizeof *orig);
    MlprtError e = {0};
    MlprtFit f;
    MlprtImputeParams ip = {.cols = {names, 2}, .strategy = MLPRT_IMPUTE_CONSTANT, .constant = 2.5};
    ck_assert_msg(mlprt_impute_fit(&t, &ip, &f, &e) == 0 && mlprt_fit_apply(&t, &f, NULL, &e) == 0, "%s",
                  dt_err(&e));
    for (int c = 0; c < 2; c++) {
      int64_t filled = 0;
      for (int64_t r = 0; r < N; r++) {
        want[r] = orig[c * N + r];
        if (isnan(want[r])) want[r] = 2.5f, filled++;
      }
      ck_assert_msg(memcmp(t.cols[c].f, want, N * sizeof *want) == 0, "fill: column %d differs", c);
      ck_assert_int_eq(f.cols[c].changed, filled);
    }
    mlprt_fit_free(&f);
    MlprtOutlierParams op = {.cols = {names, 2}, .method = MLPRT_OUTLIER_ZSCORE, .threshold = 2,
                             .keep = keep ? every_seventh : NULL};
    ck_assert_msg(mlprt_outliers_fit(&t, &op, &f, &e) == 0, "%s", dt_err(&e));
    float *filled_cols[2];
    for (int c = 0; c < 2; c++) {
      filled_cols[c] = malloc(N * sizeof *want);
      memcpy(filled_cols[c], t.cols[c].f, N * sizeof *want);
    }
    ck_assert_msg(mlprt_outliers_apply(&t, &f, &op, NULL, &e) == 0, "%s", dt_err(&e));
    for (int c = 0; c < 2; c++) {
      float lo = (float)f.cols[c].a, hi = (float)f.cols[c].b;
      int64_t changed = 0;
      for (int64_t r = 0; r < N; r++) {
        float v = want[r] = filled_cols[c][r];
        if (!(v < lo || v > hi) || (keep && r % 7 == 0)) continue;
        want[r] = v < lo ? lo : hi;
        changed++;
      }
      ck_assert_msg(changed > 100, "column %d: too few outliers to test (%lld)", c, (long long)changed);
      ck_assert_msg(memcmp(t.cols[c].f, want, N * sizeof *want) == 0, "clip (keep %d): column %d differs",
                    keep, c);
      ck_assert_int_eq(f.cols[c].changed, changed);
      free(filled_cols[c]);
    }
    mlprt_fit_free(&f);
    mlprt_table_free(&t);
  }
  free(orig);
  free(want);
}
END_TEST

Suite *fastpath_suite(void);
Suite *fastpath_suite(void) {
  Suite *s = suite_create("fastpath");
  TCase *tc = tcase_create("fastpath");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_add_test(tc, fastpath_median_matches_radix_and_sort);
  tcase_add_test(tc, fastpath_paired_moments_match_plain_sums);
  tcase_add_test(tc, fastpath_duplicates_match_pairwise);
  tcase_add_test(tc, fastpath_csv_fractions_match_parse_double);
  tcase_add_test(tc, fastpath_cell_digits_match_parse_double);
  tcase_add_test(tc, fastpath_fill_and_clip_match_plain_loops);
  tcase_add_test(tc, fastpath_team_runs_every_task_once);
  suite_add_tcase(s, tc);
  return s;
}
