/* check_series.c — the time-series and date ops against pandas, and their
 * leakage properties.
 *
 * Grouped lag, rolling (every stat, with and without a lag) and diff are
 * run on interleaved series with missing values and compared, value for
 * value, with pandas' groupby().shift(), .shift().rolling() and .diff()
 * computed by /usr/bin/python3 on the same file (skipped, never passed,
 * when pandas is not importable); date parts with pandas' .dt accessors;
 * align's as-of join with pandas' merge_asof(direction = "backward").
 * The leakage checks need no oracle: a value at a row never changes when
 * later rows change, and the first rows of every group have no value; a
 * joined value comes from its group at or before its row's time. The
 * lenient conversions of coerce and the strftime formats of parse_dates
 * are checked on written-out cases. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datautil.h"
#include "mlp/clean.h"
#include "testutil.h"

#define PYTHON "/usr/bin/python3"

static void load_text(const char *name, const char *text, MlprtTable *t) {
  char *p = dt_write(dt_dir, name, text, 0);
  dt_load_ok(p, NULL, t);
  free(p);
}

static int col(const MlprtTable *t, const char *name) {
  int c = mlprt_table_find(t, name);
  ck_assert_msg(c >= 0, "no column %s", name);
  return c;
}

/* Three interleaved series (keys a, b, c and a missing key), values in
 * [0, 2) with some missing, a date per row. */
static char *series_csv(int n) {
  char *text = malloc((size_t)n * 64 + 64), *w = text;
  w += sprintf(w, "key,v,w,when\n");
  for (int i = 0; i < n; i++) {
    const char *key = i % 17 == 5 ? "" : i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c";
    unsigned h = (unsigned)i * 2654435761u;
    if (i % 13 == 7) w += sprintf(w, "%s,,", key);
    else w += sprintf(w, "%s,%.3f,", key, (h >> 8) % 2000 / 1000.0);
    w += sprintf(w, "%.3f,%04d-%02d-%02dT%02d:%02d:00\n", (h >> 4) % 1000 / 1000.0, 1990 + i % 40, 1 + i % 12,
                 1 + i % 28, i % 24, i % 60);
  }
  return text;
}

/* Whether pandas is importable; else the check named `what` is reported
 * as skipped. */
static bool have_pandas(const char *what) {
  const char *probe[] = {PYTHON, "-c", "import pandas", NULL};
  TestRun r = test_run(probe, NULL);
  bool have = r.status == 0;
  test_run_free(&r);
  if (!have) test_skip(what, "python3-pandas", PYTHON " -c 'import pandas' failed");
  return have;
}

/* pandas' columns, in the order the runtime adds them, as text: one line
 * per row, the values space-separated ("nan" for missing). */
static const char pandas_script[] =
    "import sys, pandas as pd, numpy as np\n"
    "d = pd.read_csv(sys.argv[1], keep_default_na=False, na_values={'v': [''], 'w': ['']})\n"
    "g = d.groupby('key', sort=False)\n"
    "out = []\n"
    "for k in (1, 3): out.append(g['v'].shift(k))\n"
    "for lag in (0, 2):\n"
    "    s = g['v'].shift(lag) if lag else d['v']\n"
    "    r = s.groupby(d['key']).rolling(3)\n"
    "    for stat in ('mean', 'sum', 'min', 'max', 'std'):\n"
    "        out.append(getattr(r, stat)().reset_index(level=0, drop=True).sort_index())\n"
    "out.append(g['w'].diff(2))\n"
    "t = pd.to_datetime(d['when'])\n"
    "for p in ('year', 'quarter', 'month', 'day', 'dayofweek', 'dayofyear', 'hour', 'minute'):\n"
    "    out.append(getattr(t.dt, p).astype(float))\n"
    "m = np.column_stack([np.asarray(o, dtype=float) for o in out])\n"
    "np.savetxt(sys.stdout, m, fmt='%.10g')\n";

START_TEST(series_match_pandas) {
  if (!have_pandas("grouped lag, rolling, diff and date parts against pandas")) return;
  enum { N = 600 };
  char *text = series_csv(N), *path = dt_write(dt_dir, "s.csv", text, 0);
  free(text);
  MlprtTable t;
  dt_load_ok(path, NULL, &t);
  ck_assert_int_eq(t.cols[col(&t, "when")].type, MLPRT_COL_DATETIME);
  MlprtError e = {0};
  const char *v[] = {"v"}, *wcol[] = {"w"}, *when[] = {"when"};
  MlprtSeriesParams sv = {.cols = {v, 1}, .by = "key", .history = MLPRT_HISTORY_NULL};
  MlprtSeriesParams sw = {.cols = {wcol, 1}, .by = "key", .history = MLPRT_HISTORY_NULL};
  int steps[] = {1, 3};
  MlprtRoll stats[] = {MLPRT_ROLL_MEAN, MLPRT_ROLL_SUM, MLPRT_ROLL_MIN, MLPRT_ROLL_MAX, MLPRT_ROLL_STD};
  int parts[] = {MLPRT_DATE_YEAR,      MLPRT_DATE_QUARTER,   MLPRT_DATE_MONTH, MLPRT_DATE_DAY,
                 MLPRT_DATE_DAYOFWEEK, MLPRT_DATE_DAYOFYEAR, MLPRT_DATE_HOUR,  MLPRT_DATE_MINUTE};
  int first = t.ncols;
  ck_assert_msg(mlprt_ts_lag(&t, &sv, steps, 2, NULL, &e) == 0, "%s", dt_err(&e));
  ck_assert_msg(mlprt_ts_rolling(&t, &sv, 3, 0, stats, 5, NULL, &e) == 0, "%s", dt_err(&e));
  ck_assert_msg(mlprt_ts_rolling(&t, &sv, 3, 2, stats, 5, NULL, &e) == 0, "%s", dt_err(&e));
  ck_assert_msg(mlprt_ts_diff(&t, &sw, 2, NULL, &e) == 0, "%s", dt_err(&e));
  ck_assert_msg(mlprt_date_features(&t, (MlprtCols){when, 1, NULL}, parts, 8, false, NULL, &e) == 0, "%s",
                dt_err(&e));
  ck_assert_int_eq(t.ncols - first, 2 + 10 + 1 + 8);
  ck_assert_int_ge(mlprt_table_find(&t, "v_roll_std_3_lag2"), 0);
  ck_assert_int_ge(mlprt_table_find(&t, "when_dayofyear"), 0);
  const char *argv[] = {PYTHON, "-c", pandas_script, path, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  char *s = r.out;
  int64_t compared = 0;
  for (int64_t row = 0; row < N; row++)
    for (int c = first; c < t.ncols; c++) {
      char *end;
      double want = strtod(s, &end);
      ck_assert_msg(end != s, "pandas gave too few values (row %lld)", (long long)row);
      s = end;
      double got = t.cols[c].f[row];
      ck_assert_msg(isnan(want) == isnan(got), "row %lld, %s: pandas %g, mlpc %g", (long long)row,
                    t.cols[c].name, want, got);
      if (!isnan(want))
        ck_assert_msg(fabs(got - want) <= 1e-6 * fmax(1, fabs(want)),
                      "row %lld, %s: pandas %.10g, mlpc %.10g", (long long)row, t.cols[c].name, want, got),
            compared++;
    }
  ck_assert_int_gt(compared, N * 15);
  test_run_free(&r);
  mlprt_table_free(&t);
  free(path);
}
END_TEST

/* Three series (keys b, c, a, in that order of first appearance), each
 * in time order but interleaved, at irregular times with gaps of up to
 * three days and several rows in some days; values with some missing. */
static char *irregular_csv(int n) {
  char *text = malloc((size_t)n * 64 + 64), *w = text;
  w += sprintf(w, "key,v,n,when\n");
  long hours[3] = {0, 5, 11};
  for (int i = 0; i < n; i++) {
    unsigned h = (unsigned)i * 2654435761u;
    int g = (i + 1) % 3;
    hours[g] += (h >> 6) % 72;
    long d = hours[g] / 24, hr = hours[g] % 24;
    w += sprintf(w, "%s,", g == 0 ? "a" : g == 1 ? "b" : "c");
    if (i % 11 == 4) w += sprintf(w, ",");
    else w += sprintf(w, "%.3f,", (h >> 8) % 2000 / 1000.0);
    w += sprintf(w, "%u,2001-%02ld-%02ldT%02ld:00:00\n", (h >> 12) % 9, 1 + d / 28, 1 + d % 28, hr);
  }
  return text;
}

/* pandas' grouped resample of v and n (argv: freq, agg, fill): one line
 * per bucket, group after group as they first appear: the bucket's start
 * in seconds, v and n; only the buckets no row fell in are filled. */
static const char resample_script[] =
    "import sys, pandas as pd, numpy as np\n"
    "d = pd.read_csv(sys.argv[1], parse_dates=['when'])\n"
    "freq, agg, fill = sys.argv[2:5]\n"
    "for key, g in d.groupby('key', sort=False):\n"
    "    r = g.set_index('when')[['v', 'n']].resample(freq, origin='epoch')\n"
    "    m = r.sum(min_count=1) if agg == 'sum' else getattr(r, agg)()\n"
    "    if agg == 'mean': m = m.astype(float)\n"
    "    empty = (r.size() == 0).values\n"
    "    for c in ('v', 'n'):\n"
    "        x = m[c].astype(float).values.copy()\n"
    "        f = {'ffill': m[c].astype(float).ffill(), 'linear': m[c].astype(float).interpolate(),\n"
    "             'zero': m[c].astype(float).fillna(0), 'null': m[c].astype(float)}[fill].values\n"
    "        x[empty] = f[empty]\n"
    "        m[c] = x\n"
    "    secs = (m.index - pd.Timestamp('1970-01-01')) // pd.Timedelta(seconds=1)\n"
    "    np.savetxt(sys.stdout, np.column_stack([secs, m['v'], m['n']]), fmt='%.10g')\n";

START_TEST(series_resample_matches_pandas) {
  if (!have_pandas("grouped resample against pandas")) return;
  char *text = irregular_csv(300), *path = dt_write(dt_dir, "r.csv", text, 0);
  free(text);
  static const struct {
    const char *freq;
    int64_t step;
    MlprtAgg agg;
    const char *agg_name;
    MlprtGapFill fill;
    const char *fill_name;
  } cases[] = {{"1D", 86400, MLPRT_AGG_MEAN, "mean", MLPRT_GAP_FFILL, "ffill"},
               {"1D", 86400, MLPRT_AGG_SUM, "sum", MLPRT_GAP_ZERO, "zero"},
               {"6h", 6 * 3600, MLPRT_AGG_LAST, "last", MLPRT_GAP_LINEAR, "linear"},
               {"2D", 2 * 86400, MLPRT_AGG_MAX, "max", MLPRT_GAP_NULL, "null"},
               {"12h", 12 * 3600, MLPRT_AGG_FIRST, "first", MLPRT_GAP_FFILL, "ffill"},
               {"1D", 86400, MLPRT_AGG_MIN, "min", MLPRT_GAP_LINEAR, "linear"}};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    MlprtTable t;
    dt_load_ok(path, NULL, &t);
    MlprtError e = {0};
    const char *when[] = {"when"};
    MlprtResampleParams p = {.on = {when, 1, NULL}, .step = cases[k].step, .fill = cases[k].fill,
                             .agg = cases[k].agg, .by = "key"};
    ck_assert_msg(mlprt_ts_resample(&t, &p, NULL, &e) == 0, "%s", dt_err(&e));
    const char *argv[] = {PYTHON, "-c", resample_script, path, cases[k].freq, cases[k].agg_name,
                          cases[k].fill_name, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    int tc = col(&t, "when"), vc = col(&t, "v"), nc = col(&t, "n"), kc = col(&t, "key");
    char *s = r.out;
    int64_t row = 0;
    for (;; row++) {
      char *end;
      double secs = strtod(s, &end);
      if (end == s) break;
      double want[2];
      s = end, want[0] = strtod(s, &s), want[1] = strtod(s, &s);
      ck_assert_msg(row < t.nrows, "%s %s %s: pandas has more buckets than %lld", cases[k].freq,
                    cases[k].agg_name, cases[k].fill_name, (long long)t.nrows);
      ck_assert_int_eq(t.cols[tc].t[row], (int64_t)secs);
      ck_assert_int_ge(t.cols[kc].codes[row], 0); /* inserted rows keep their key */
      for (int j = 0; j < 2; j++) {
        double got = t.cols[j ? nc : vc].f[row];
        ck_assert_msg(isnan(want[j]) == isnan(got) && (isnan(got) || fabs(got - want[j]) <= 1e-6),
                      "%s %s %s, bucket %lld, %s: pandas %.10g, mlpc %.10g", cases[k].freq, cases[k].agg_name,
                      cases[k].fill_name, (long long)row, j ? "n" : "v", want[j], got);
      }
    }
    ck_assert_int_eq(row, t.nrows);
    ck_assert_int_gt(row, 100);
    /* a mean or an interpolation makes the int column float; the others keep it */
    bool frac = cases[k].agg == MLPRT_AGG_MEAN || cases[k].fill == MLPRT_GAP_LINEAR;
    ck_assert_int_eq(t.cols[nc].type, frac ? MLPRT_COL_FLOAT : MLPRT_COL_INT);
    test_run_free(&r);
    mlprt_table_free(&t);
  }
  free(path);
}
END_TEST

/* Rows out of time order within a group are refused, naming the row; in
 * order within groups but interleaved is fine. */
START_TEST(series_resample_needs_time_order) {
  MlprtTable t;
  load_text("o.csv", "key,v,when\na,1,2001-01-03\nb,2,2001-01-01\na,3,2001-01-02\n", &t);
  MlprtError e = {0};
  const char *when[] = {"when"};
  MlprtResampleParams p = {.on = {when, 1, NULL}, .step = 86400, .by = "key"};
  ck_assert_int_eq(mlprt_ts_resample(&t, &p, NULL, &e), -1);
  ck_assert_int_eq(e.row, 3);
  ck_assert_ptr_nonnull(strstr(e.msg, "sort_by(when)"));
  mlprt_table_free(&t);
}
END_TEST

/* Two tables for the as-of join: n rows of the table (unsorted, with a
 * row number id), m of the other source (unsorted, several readings at
 * one time), keys a, b, c in both and d in the other only; times as dates
 * with a time of day, and the same as numbers (hours) in t. */
static void asof_csvs(int n, int m, char **left, char **right) {
  char *l = malloc((size_t)n * 64 + 64), *r = malloc((size_t)m * 64 + 64), *w = l;
  w += sprintf(w, "id,key,x,when,t\n");
  for (int i = 0; i < n; i++) {
    unsigned h = (unsigned)i * 2654435761u, hours = (h >> 7) % (24 * 400);
    w += sprintf(w, "%d,%c,%.3f,2020-%02u-%02uT%02u:00:00,%u\n", i, "abc"[(h >> 3) % 3],
                 (h >> 9) % 1000 / 100.0,
                 1 + hours / 24 / 28 % 12, 1 + hours / 24 % 28, hours % 24, hours / 24 / 28 % 12 * 28 * 24 +
                 hours / 24 % 28 * 24 + hours % 24);
  }
  w = r;
  w += sprintf(w, "key,when,t,v,k\n");
  for (int i = 0; i < m; i++) {
    unsigned h = (unsigned)i * 2246822519u, hours = (h >> 5) % (24 * 400);
    if (i % 9 == 4 && i > 0) hours = (((unsigned)(i - 1) * 2246822519u) >> 5) % (24 * 400); /* a repeat */
    w += sprintf(w, "%c,2020-%02u-%02uT%02u:00:00,%u,", "abcd"[(h >> 11) % 4], 1 + hours / 24 / 28 % 12,
                 1 + hours / 24 % 28, hours % 24, hours / 24 / 28 % 12 * 28 * 24 + hours / 24 % 28 * 24 +
                 hours % 24);
    if (i % 11 == 6) w += sprintf(w, ",\n");
    else w += sprintf(w, "%.4f,%s\n", (h >> 3) % 100000 / 1000.0, i % 2 ? "up" : "down");
  }
  *left = l, *right = r;
}

/* pandas' merge_asof of the two files (argv: on, by or "", tolerance or
 * ""), back in the table's row order: v and k per row ("nan" missing). */
static const char asof_script[] =
    "import sys, pandas as pd, numpy as np\n"
    "on, by, tol = sys.argv[3], sys.argv[4] or None, sys.argv[5] or None\n"
    "l = pd.read_csv(sys.argv[1], keep_default_na=False)\n"
    "r = pd.read_csv(sys.argv[2], keep_default_na=False, na_values={'v': [''], 'k': ['']})\n"
    "drop = 't' if on == 'when' else 'when'\n"
    "l, r = l.drop(columns=[drop]), r.drop(columns=[drop])\n"
    "if on == 'when': l[on], r[on] = pd.to_datetime(l[on]), pd.to_datetime(r[on])\n"
    "if tol: tol = pd.Timedelta(tol) if on == 'when' else int(tol)\n"
    "if not by: r = r.drop(columns=['key'])\n"
    "l = l.sort_values(on, kind='stable'); r = r.sort_values(on, kind='stable')\n"
    "m = pd.merge_asof(l, r, on=on, by=by, direction='backward', tolerance=tol).sort_values('id')\n"
    "for v, k in zip(m['v'], m['k']): print('%.10g %s' % (v, k if isinstance(k, str) else 'nan'))\n";

/* The as-of join equals pandas' merge_asof (direction backward), with and
 * without a group key, with and without a tolerance, on dates and on
 * numbers. */
START_TEST(series_asof_matches_pandas) {
  if (!have_pandas("align (as-of join) against pandas' merge_asof")) return;
  enum { N = 700, M = 260 };
  char *ltext, *rtext;
  asof_csvs(N, M, &ltext, &rtext);
  char *lpath = dt_write(dt_dir, "asof_l.csv", ltext, 0), *rpath = dt_write(dt_dir, "asof_r.csv", rtext, 0);
  free(ltext);
  free(rtext);
  static const struct {
    const char *on, *by, *tol;
    double seconds;
  } cases[] = {{"when", "key", "", -1},      {"when", "", "", -1},  {"when", "key", "3d", 3 * 86400},
               {"t", "key", "", -1},         {"t", "key", "50", 50}, {"when", "", "12h", 12 * 3600}};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    MlprtTable t, o;
    dt_load_ok(lpath, NULL, &t);
    dt_load_ok(rpath, NULL, &o);
    ck_assert_int_eq(o.cols[col(&o, "when")].type, MLPRT_COL_DATETIME);
    /* each case joins on one key: the other time column of o is dropped, as is its key without `by` */
    mlprt_table_drop_column(&o, col(&o, strcmp(cases[ci].on, "t") == 0 ? "when" : "t"));
    if (!cases[ci].by[0]) mlprt_table_drop_column(&o, col(&o, "key"));
    MlprtAsofParams p = {.on = cases[ci].on, .by = cases[ci].by[0] ? cases[ci].by : NULL,
                         .tolerance = cases[ci].seconds};
    MlprtError e = {0};
    ck_assert_msg(mlprt_ts_asof(&t, &o, &p, NULL, &e) == 0, "%s", dt_err(&e));
    const char *argv[] = {PYTHON, "-c", asof_script, lpath, rpath, cases[ci].on, cases[ci].by, cases[ci].tol,
                          NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    int v = col(&t, "v"), k = col(&t, "k");
    int64_t matched = 0, missing = 0;
    char *s = r.out;
    for (int64_t row = 0; row < N; row++) {
      char *end, level[16];
      double want = strtod(s, &end);
      ck_assert_msg(end != s && sscanf(end, " %15s", level) == 1, "pandas gave too few rows (%lld)",
                    (long long)row);
      s = strchr(end, '\n') + 1;
      double got = t.cols[v].f[row];
      const char *gotk = t.cols[k].codes[row] < 0 ? "nan" : t.cols[k].levels.names[t.cols[k].codes[row]];
      bool same = isnan(want) ? isnan(got) : fabs(got - want) <= 1e-6 * fmax(1, fabs(want));
      ck_assert_msg(same,
                    "case %zu, row %lld: pandas %.10g, mlpc %.10g", ci, (long long)row, want, got);
      ck_assert_msg(strcmp(level, gotk) == 0, "case %zu, row %lld: pandas k %s, mlpc %s", ci, (long long)row,
                    level, gotk);
      matched += !isnan(want), missing += isnan(want);
    }
    ck_assert_int_gt(matched, N / 4); /* the cases test both outcomes */
    ck_assert_int_gt(missing, 10);
    test_run_free(&r);
    mlprt_table_free(&t);
    mlprt_table_free(&o);
  }
  free(lpath);
  free(rpath);
}
END_TEST

/* pandas' merge_asof with the keys named differently in the two files
 * (argv: tolerance or ""): the right file's when and key renamed stamp and
 * sym, joined by left_on/right_on and left_by/right_by; v and k per row of
 * the table, in its order. */
static const char asof_named_script[] =
    "import sys, pandas as pd, numpy as np\n"
    "l = pd.read_csv(sys.argv[1], keep_default_na=False).drop(columns=['t'])\n"
    "r = pd.read_csv(sys.argv[2], keep_default_na=False, na_values={'v': [''], 'k': ['']})\n"
    "r = r.drop(columns=['t'])\n"
    "r = r.rename(columns={'when': 'stamp', 'key': 'sym'})\n"
    "l['when'], r['stamp'] = pd.to_datetime(l['when']), pd.to_datetime(r['stamp'])\n"
    "tol = pd.Timedelta(sys.argv[3]) if sys.argv[3] else None\n"
    "l = l.sort_values('when', kind='stable'); r = r.sort_values('stamp', kind='stable')\n"
    "m = pd.merge_asof(l, r, left_on='when', right_on='stamp', left_by='key', right_by='sym',\n"
    "                  direction='backward', tolerance=tol).sort_values('id')\n"
    "for v, k in zip(m['v'], m['k']): print('%.10g %s' % (v, k if isinstance(k, str) else 'nan'))\n";

/* The keys named otherwise in the other source (align's right_on and
 * right_by): the join equals pandas' merge_asof(left_on, right_on,
 * left_by, right_by) within 1e-6, with and without a tolerance. */
START_TEST(series_asof_named_keys_match_pandas) {
  if (!have_pandas("align with right_on/right_by against pandas' merge_asof")) return;
  enum { N = 600, M = 240 };
  char *ltext, *rtext;
  asof_csvs(N, M, &ltext, &rtext);
  char *lpath = dt_write(dt_dir, "named_l.csv", ltext, 0), *rpath = dt_write(dt_dir, "named_r.csv", rtext, 0);
  free(ltext);
  free(rtext);
  static const struct {
    const char *tol;
    double seconds;
  } cases[] = {{"", -1}, {"2d", 2 * 86400}};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    MlprtTable t, o;
    dt_load_ok(lpath, NULL, &t);
    dt_load_ok(rpath, NULL, &o);
    mlprt_table_drop_column(&o, col(&o, "t"));
    mlprt_table_drop_column(&t, col(&t, "t"));
    static const char *const from[] = {"when", "key"}, *const to[] = {"stamp", "sym"};
    for (int k = 0; k < 2; k++) {
      int c = col(&o, from[k]);
      free(o.cols[c].name);
      o.cols[c].name = strdup(to[k]);
    }
    MlprtAsofParams p = {.on = "when", .by = "key", .right_on = "stamp", .right_by = "sym",
                         .tolerance = cases[ci].seconds};
    MlprtError e = {0};
    ck_assert_msg(mlprt_ts_asof(&t, &o, &p, NULL, &e) == 0, "%s", dt_err(&e));
    ck_assert_int_lt(mlprt_table_find(&t, "stamp"), 0); /* the source's keys join, never added */
    const char *argv[] = {PYTHON, "-c", asof_named_script, lpath, rpath, cases[ci].tol, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    int v = col(&t, "v"), k = col(&t, "k");
    int64_t matched = 0;
    char *s = r.out;
    for (int64_t row = 0; row < N; row++) {
      char *end, level[16];
      double want = strtod(s, &end);
      ck_assert_msg(end != s && sscanf(end, " %15s", level) == 1, "pandas gave too few rows (%lld)",
                    (long long)row);
      s = strchr(end, '\n') + 1;
      double got = t.cols[v].f[row];
      const char *gotk = t.cols[k].codes[row] < 0 ? "nan" : t.cols[k].levels.names[t.cols[k].codes[row]];
      bool same = isnan(want) ? isnan(got) : fabs(got - want) <= 1e-6 * fmax(1, fabs(want));
      ck_assert_msg(same, "case %zu, row %lld: pandas %.10g, mlpc %.10g", ci, (long long)row, want, got);
      ck_assert_msg(strcmp(level, gotk) == 0, "case %zu, row %lld: pandas k %s, mlpc %s", ci, (long long)row,
                    level, gotk);
      matched += !isnan(want);
    }
    ck_assert_int_gt(matched, N / 4);
    test_run_free(&r);
    mlprt_table_free(&t);
    mlprt_table_free(&o);
  }
  free(lpath);
  free(rpath);
}
END_TEST

/* No joined value comes from a time after its row: every match's time is
 * at or before the row's, within the row's group; and changing every row
 * of the other source later than a cut leaves the values of the rows
 * before the cut as they were. */
START_TEST(series_asof_never_looks_ahead) {
  enum { N = 500, M = 200 };
  char *ltext, *rtext;
  asof_csvs(N, M, &ltext, &rtext);
  MlprtTable t, t2, o, o2;
  load_text("la.csv", ltext, &t);
  load_text("la2.csv", ltext, &t2);
  load_text("ra.csv", rtext, &o);
  load_text("ra2.csv", rtext, &o2);
  free(ltext);
  free(rtext);
  /* the other source's time joins too, renamed, to see where each value comes from */
  int ow = col(&o, "t");
  free(o.cols[ow].name);
  o.cols[ow].name = strdup("t_other");
  int64_t cut = 24 * 200; /* hours */
  int t2w = col(&o2, "t"), v2 = col(&o2, "v");
  free(o2.cols[t2w].name);
  o2.cols[t2w].name = strdup("t_other");
  for (int64_t r = 0; r < o2.nrows; r++)
    if (o2.cols[t2w].f[r] > cut) o2.cols[v2].f[r] = 1e6f + (float)r;
  MlprtAsofParams p = {.on = "when", .by = "key", .tolerance = -1};
  MlprtError e = {0};
  ck_assert_msg(mlprt_ts_asof(&t, &o, &p, NULL, &e) == 0, "%s", dt_err(&e));
  ck_assert_msg(mlprt_ts_asof(&t2, &o2, &p, NULL, &e) == 0, "%s", dt_err(&e));
  int tt = col(&t, "t"), from = col(&t, "t_other"), v = col(&t, "v"), k = col(&t, "key");
  int64_t joined = 0;
  for (int64_t r = 0; r < N; r++) {
    if (isnan(t.cols[from].f[r])) continue;
    joined++;
    ck_assert_msg(t.cols[from].f[r] <= t.cols[tt].f[r], "row %lld joined a row of a later time",
                  (long long)r);
    if (t.cols[tt].f[r] <= cut) {
      float a = t.cols[v].f[r], b = t2.cols[col(&t2, "v")].f[r];
      ck_assert_msg((isnan(a) && isnan(b)) || a == b, "row %lld read the other source after its time",
                    (long long)r);
    }
  }
  ck_assert_int_gt(joined, N / 2);
  /* a row of group a never takes a value of group b: compare with a join of a's rows alone */
  int ko = col(&o, "key");
  for (int64_t r = 0; r < N; r++) {
    if (isnan(t.cols[from].f[r])) continue;
    int64_t best = -1;
    for (int64_t q = 0; q < o.nrows; q++) {
      const char *kq = o.cols[ko].levels.names[o.cols[ko].codes[q]];
      if (strcmp(kq, t.cols[k].levels.names[t.cols[k].codes[r]]) != 0 || o.cols[ow].f[q] > t.cols[tt].f[r])
        continue;
      if (best < 0 || o.cols[ow].f[q] >= o.cols[ow].f[best]) best = q;
    }
    ck_assert_msg(best >= 0 && o.cols[ow].f[best] == t.cols[from].f[r], "row %lld matched outside its group",
                  (long long)r);
  }
  mlprt_table_free(&t);
  mlprt_table_free(&t2);
  mlprt_table_free(&o);
  mlprt_table_free(&o2);
}
END_TEST

/* A lag, rolling or diff value at a row reads nothing after it: changing
 * every later row leaves it as it was; and no value crosses groups: the
 * first rows of each group have none. */
START_TEST(series_never_look_ahead_or_across_groups) {
  enum { N = 300, CUT = 200 };
  char *text = series_csv(N);
  MlprtTable a, b;
  load_text("a.csv", text, &a);
  load_text("b.csv", text, &b);
  free(text);
  /* b's rows from CUT on are different values */
  int bv = col(&b, "v"), bw = col(&b, "w");
  for (int64_t r = CUT; r < N; r++) b.cols[bv].f[r] = 100 + (float)r, b.cols[bw].f[r] = -(float)r;
  const char *names[] = {"v", "w"};
  MlprtRoll stats[] = {MLPRT_ROLL_MEAN, MLPRT_ROLL_MAX, MLPRT_ROLL_STD};
  int steps[] = {1, 4};
  MlprtError e = {0};
  MlprtTable *both[] = {&a, &b};
  for (int k = 0; k < 2; k++) {
    MlprtSeriesParams p = {.cols = {names, 2}, .by = "key", .history = MLPRT_HISTORY_NULL};
    ck_assert_int_eq(mlprt_ts_lag(both[k], &p, steps, 2, NULL, &e), 0);
    ck_assert_int_eq(mlprt_ts_rolling(both[k], &p, 4, 0, stats, 3, NULL, &e), 0);
    ck_assert_int_eq(mlprt_ts_diff(both[k], &p, 1, NULL, &e), 0);
  }
  int first = col(&a, "v_lag1");
  for (int c = first; c < a.ncols; c++)
    for (int64_t r = 0; r < CUT; r++) {
      float x = a.cols[c].f[r], y = b.cols[c].f[r];
      ck_assert_msg((isnan(x) && isnan(y)) || x == y, "%s at row %lld read a later row", a.cols[c].name,
                    (long long)r);
    }
  /* rows 0, 1, 2 start groups a, b, c: no lag of theirs has a value */
  int lag1 = col(&a, "v_lag1"), roll = col(&a, "v_roll_mean_4");
  for (int r = 0; r < 3; r++) ck_assert(isnan(a.cols[lag1].f[r]) && isnan(a.cols[roll].f[r]));
  /* row 3 (group a) lags to row 0, not to row 2 (group c) */
  ck_assert_float_eq(a.cols[lag1].f[3], a.cols[col(&a, "v")].f[0]);
  mlprt_table_free(&a);
  mlprt_table_free(&b);
}
END_TEST

/* history = drop_row drops exactly the rows with too few earlier rows in
 * their group, and the log counts them. */
START_TEST(series_history_policy) {
  MlprtTable t;
  load_text("h.csv", "k,v\na,1\nb,10\na,2\na,3\nb,20\na,4\n", &t);
  const char *v[] = {"v"};
  MlprtSeriesParams p = {.cols = {v, 1}, .by = "k", .history = MLPRT_HISTORY_DROP};
  int two[] = {2};
  MlprtError e = {0};
  MlprtCleanLog *log = mlprt_clean_log_new("h.csv");
  ck_assert_int_eq(mlprt_ts_lag(&t, &p, two, 1, log, &e), 0);
  ck_assert_int_eq(t.nrows, 2); /* a's 3rd and 4th rows */
  int lag = col(&t, "v_lag2");
  ck_assert_float_eq(t.cols[lag].f[0], 1.0f);
  ck_assert_float_eq(t.cols[lag].f[1], 2.0f);
  char *json = mlprt_clean_log_json(log);
  ck_assert_ptr_nonnull(strstr(json, "\"without_history\":\t4"));
  ck_assert_ptr_nonnull(strstr(json, "\"rows_dropped\":\t4"));
  free(json);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
  /* two steps in a row drop once, after both read the whole series: lag 1
   * lacks history at each series' first row, rolling(3) at its first two */
  for (int deferred = 0; deferred < 2; deferred++) {
    load_text("h2.csv", "k,v\na,1\nb,10\na,2\nb,20\na,3\nb,30\na,4\nb,40\na,5\nb,50\n", &t);
    uint8_t pending[10] = {0};
    MlprtSeriesParams lag1 = {.cols = {v, 1}, .by = "k", .pending = deferred ? pending : NULL};
    MlprtSeriesParams roll = lag1;
    roll.drop_pending = true;
    int one[] = {1};
    MlprtRoll mean = MLPRT_ROLL_MEAN;
    ck_assert_int_eq(mlprt_ts_lag(&t, &lag1, one, 1, NULL, &e), 0);
    ck_assert_int_eq(mlprt_ts_rolling(&t, &roll, 3, 0, &mean, 1, NULL, &e), 0);
    /* deferred: rows 3..5 of each series stay, their means from the whole
     * series (a's first kept row: (1 + 2 + 3) / 3); at once: the rolling
     * step meets series already cut, and rows 4..5 stay */
    ck_assert_int_eq(t.nrows, deferred ? 6 : 4);
    ck_assert_float_eq(t.cols[col(&t, "v_roll_mean_3")].f[0], deferred ? 2.0f : 3.0f);
    ck_assert_float_eq(t.cols[col(&t, "v_lag1")].f[0], deferred ? 2.0f : 3.0f);
    mlprt_table_free(&t);
  }
}
END_TEST

START_TEST(series_sort_by_keys) {
  MlprtTable t;
  load_text("o.csv", "k,d,v\nb,2020-01-02,1\na,2020-01-03,2\nb,2020-01-01,3\na,,4\na,2020-01-01,5\n", &t);
  const char *keys[] = {"k", "d"};
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_ts_sort_by(&t, (MlprtCols){keys, 2, NULL}, false, NULL, &e), 0);
  const float want[] = {5, 2, 4, 3, 1}; /* a by date (missing last), then b */
  for (int r = 0; r < 5; r++) ck_assert_float_eq(t.cols[2].f[r], want[r]);
  ck_assert_int_eq(mlprt_ts_sort_by(&t, (MlprtCols){keys + 1, 1, NULL}, true, NULL, &e), 0);
  ck_assert_float_eq(t.cols[2].f[0], 2); /* latest first; equal dates keep their order */
  ck_assert_float_eq(t.cols[2].f[1], 1);
  ck_assert_float_eq(t.cols[2].f[2], 5);
  ck_assert_float_eq(t.cols[2].f[3], 3);
  ck_assert_float_eq(t.cols[2].f[4], 4);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(series_coerce_reads_leniently) {
  static const struct {
    const char *text;
    int to;
    bool ok;
    double want;
    bool fixed;
  } cases[] = {
      {"1234.5", MLPRT_COL_FLOAT, true, 1234.5, false},
      {"1,234.5", MLPRT_COL_FLOAT, true, 1234.5, true},
      {"1.234,5", MLPRT_COL_FLOAT, true, 1234.5, true},
      {"1 234 567", MLPRT_COL_FLOAT, true, 1234567, true},
      {"1'234", MLPRT_COL_INT, true, 1234, true},
      {"3,14", MLPRT_COL_FLOAT, true, 3.14, true},
      {"1,234", MLPRT_COL_INT, true, 1234, true},
      {"12.5%", MLPRT_COL_FLOAT, true, 0.125, true},
      {"-$1,000", MLPRT_COL_FLOAT, true, -1000, true},
      {"\xe2\x82\xac 7,50", MLPRT_COL_FLOAT, true, 7.5, true},
      {"1,23,4", MLPRT_COL_FLOAT, false, 0, false},
      {"12,34.5", MLPRT_COL_FLOAT, false, 0, false},
      {"1.5", MLPRT_COL_INT, false, 0, false},
      {"abc", MLPRT_COL_FLOAT, false, 0, false},
      {"Yes", MLPRT_COL_BOOL, true, 1, true},
      {"n", MLPRT_COL_BOOL, true, 0, true},
      {"OFF", MLPRT_COL_BOOL, true, 0, true},
      {"true", MLPRT_COL_BOOL, true, 1, false},
      {"maybe", MLPRT_COL_BOOL, false, 0, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    double v = NAN;
    int64_t tm;
    bool fixed;
    bool ok = mlprt_coerce_value(cases[i].text, strlen(cases[i].text), (MlprtColType)cases[i].to, NULL, &v,
                                 &tm, &fixed);
    ck_assert_msg(ok == cases[i].ok, "'%s': %s", cases[i].text, ok ? "converted" : "refused");
    if (!ok) continue;
    ck_assert_msg(fabs(v - cases[i].want) < 1e-9, "'%s' read as %g", cases[i].text, v);
    ck_assert_msg(fixed == cases[i].fixed, "'%s': fixed %d", cases[i].text, fixed);
  }
  /* a column: counted per column in the log */
  MlprtTable t;
  load_text("c.csv", "amount,flag\n\"1,200\",yes\n30,no\n\"2,5\",Y\nn/a,maybe\n", &t);
  MlprtError e = {0};
  MlprtCleanLog *log = mlprt_clean_log_new("c.csv");
  int amount = mlprt_table_find(&t, "amount"), flag = mlprt_table_find(&t, "flag");
  ck_assert_int_eq(mlprt_coerce(&t, amount, MLPRT_COL_FLOAT, NULL, MLPRT_ONFAIL_NULL, log, &e), 0);
  ck_assert_int_eq(mlprt_coerce(&t, flag, MLPRT_COL_BOOL, NULL, MLPRT_ONFAIL_DROP, log, &e), 0);
  ck_assert_int_eq(t.nrows, 3);
  ck_assert_float_eq(t.cols[0].f[0], 1200);
  ck_assert_float_eq(t.cols[0].f[2], 2.5f);
  ck_assert_int_eq(t.cols[1].b[2], 1);
  char *json = mlprt_clean_log_json(log);
  ck_assert_ptr_nonnull(strstr(json, "\"reformatted\":\t2,\n\t\t\t\t\t\"failed\":\t1"));
  ck_assert_ptr_nonnull(strstr(json, "\"reformatted\":\t3,\n\t\t\t\t\t\"failed\":\t1"));
  free(json);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(series_date_formats) {
  static const struct {
    const char *text, *format;
    int y, m, d, hh, mi, ss;
    int off_min; /* the zone east of UTC */
    bool ok;
  } cases[] = {
      {"Jan 1 2000", "%b %d %Y", 2000, 1, 1, 0, 0, 0, 0, true},
      {"December 31 1999", "%B %d %Y", 1999, 12, 31, 0, 0, 0, 0, true},
      {"jan  01   2000", "%b %d %Y", 2000, 1, 1, 0, 0, 0, 0, true},
      {"31/12/99 23:59", "%d/%m/%y %H:%M", 1999, 12, 31, 23, 59, 0, 0, true},
      {"1/2/68", "%m/%d/%y", 2068, 1, 2, 0, 0, 0, 0, true},
      {"2000-03-01 12:00:00 +0530", "%Y-%m-%d %H:%M:%S %z", 2000, 3, 1, 12, 0, 0, 330, true},
      {"2000-03-01T12:00:00Z", "%Y-%m-%dT%T%z", 2000, 3, 1, 12, 0, 0, 0, true},
      {"2000-03-01 01:00 -02:00", "%F %H:%M %z", 2000, 3, 1, 1, 0, 0, -120, true},
      {"Tue, 7 Mar 2000 3:05 PM", "%a, %d %b %Y %I:%M %p", 2000, 3, 7, 15, 5, 0, 0, true},
      {"12:30 AM 2000/1/1", "%I:%M %p %Y/%m/%d", 2000, 1, 1, 0, 30, 0, 0, true},
      {"2000 060", "%Y %j", 2000, 2, 29, 0, 0, 0, 0, true},
      {"100%", "100%%", 1970, 1, 1, 0, 0, 0, 0, true},
      {"Feb 30 2001", "%b %d %Y", 0, 0, 0, 0, 0, 0, 0, false},
      {"Jan 1 2000 x", "%b %d %Y", 0, 0, 0, 0, 0, 0, 0, false},
      {"Foo 1 2000", "%b %d %Y", 0, 0, 0, 0, 0, 0, 0, false},
      {"13:00 PM 2000/1/1", "%I:%M %p %Y/%m/%d", 0, 0, 0, 0, 0, 0, 0, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int64_t t = 0;
    bool ok = mlprt_parse_datetime_format(cases[i].text, strlen(cases[i].text), cases[i].format, &t);
    ck_assert_msg(ok == cases[i].ok, "'%s' in '%s': %s", cases[i].text, cases[i].format,
                  ok ? "parsed" : "refused");
    if (!ok) continue;
    int64_t want = mlprt_days_from_civil(cases[i].y, cases[i].m, cases[i].d) * 86400 + cases[i].hh * 3600 +
                   cases[i].mi * 60 + cases[i].ss - cases[i].off_min * 60;
    ck_assert_msg(t == want, "'%s': %lld, not %lld", cases[i].text, (long long)t, (long long)want);
  }
  /* a text column parsed with a format, on_error = null */
  MlprtTable tb;
  MlprtDecl decl[] = {{"d", MLPRT_COL_TEXT}};
  MlprtLoadOpts o = {.decl = decl, .ndecl = 1};
  char *p = dt_write(dt_dir, "d.csv", "d\nJan 1 2000\nFeb 29 2004\nsoon\n", 0);
  dt_load_ok(p, &o, &tb);
  free(p);
  MlprtError e = {0};
  int d = mlprt_table_find(&tb, "d");
  ck_assert_int_eq(mlprt_coerce(&tb, d, MLPRT_COL_DATETIME, "%b %d %Y", MLPRT_ONFAIL_NULL, NULL, &e), 0);
  ck_assert_int_eq(tb.cols[0].t[0], mlprt_days_from_civil(2000, 1, 1) * 86400);
  ck_assert_int_eq(tb.cols[0].t[1], mlprt_days_from_civil(2004, 2, 29) * 86400);
  ck_assert_int_eq(tb.cols[0].t[2], MLPRT_TIME_NA);
  /* cyclical parts: December sits next to January */
  int64_t dec = mlprt_days_from_civil(2000, 12, 1) * 86400, jan = mlprt_days_from_civil(2001, 1, 1) * 86400;
  double ds = mlprt_date_part(dec, MLPRT_DATE_MONTH, 1), dc = mlprt_date_part(dec, MLPRT_DATE_MONTH, 2);
  double js = mlprt_date_part(jan, MLPRT_DATE_MONTH, 1), jc = mlprt_date_part(jan, MLPRT_DATE_MONTH, 2);
  ck_assert_double_eq_tol(js, 0, 1e-12);
  ck_assert_double_eq_tol(jc, 1, 1e-12);
  ck_assert_double_lt(hypot(ds - js, dc - jc), 0.6);
  ck_assert_double_eq(mlprt_date_part(jan, MLPRT_DATE_DAYOFWEEK, 0), 0); /* 2001-01-01 was a Monday */
  mlprt_table_free(&tb);
}
END_TEST

/* examples/data/grunfeld.csv is Debian's copy, byte for byte. */
START_TEST(series_grunfeld_is_the_debian_copy) {
  const char *p = dt_system_file("/usr/lib/python3/dist-packages/statsmodels/datasets/grunfeld/grunfeld.csv",
                                 "python3-statsmodels");
  if (!p) return;
  size_t na, nb;
  char *a = test_read_file(p, &na), *b = test_read_file("examples/data/grunfeld.csv", &nb);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_msg(na == nb && memcmp(a, b, na) == 0, "examples/data/grunfeld.csv differs from %s", p);
  free(a);
  free(b);
}
END_TEST

Suite *series_suite(void);
Suite *series_suite(void) {
  Suite *s = suite_create("series");
  TCase *tc = tcase_create("series");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, series_match_pandas);
  tcase_add_test(tc, series_never_look_ahead_or_across_groups);
  tcase_add_test(tc, series_asof_matches_pandas);
  tcase_add_test(tc, series_asof_never_looks_ahead);
  tcase_add_test(tc, series_asof_named_keys_match_pandas);
  tcase_add_test(tc, series_history_policy);
  tcase_add_test(tc, series_sort_by_keys);
  tcase_add_test(tc, series_coerce_reads_leniently);
  tcase_add_test(tc, series_date_formats);
  tcase_add_test(tc, series_grunfeld_is_the_debian_copy);
  tcase_add_test(tc, series_resample_matches_pandas);
  tcase_add_test(tc, series_resample_needs_time_order);
  suite_add_tcase(s, tc);
  return s;
}
