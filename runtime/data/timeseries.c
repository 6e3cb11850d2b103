/* timeseries.c — time-series preparation: sort by time, resample to a fixed
 * step with gap filling (forward fill or linear interpolation), lag and
 * rolling-window features that only look back, and aligning several series
 * on one time index. Consumes tables with a DATETIME column (dates parsed by
 * the loader or mlprt_coerce); produces regular, sorted tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

/* Copy one cell between tables of the same column type. */
static void copy_cell(MlprtTable *dt, int dc, int64_t dr, const MlprtTable *st, int sc, int64_t sr) {
  MlprtColumn *d = &dt->cols[dc];
  const MlprtColumn *s = &st->cols[sc];
  switch (s->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT: d->f[dr] = s->f[sr]; break;
  case MLPRT_COL_BOOL: d->b[dr] = s->b[sr]; break;
  case MLPRT_COL_CATEGORY:
    if (d == s) { /* same column: codes and offsets stay valid */
      d->codes[dr] = s->codes[sr];
      break;
    }
    d->codes[dr] = s->codes[sr] < 0 ? -1
                                    : mlprt_levels_intern(&d->levels, s->levels.names[s->codes[sr]],
                                                          strlen(s->levels.names[s->codes[sr]]));
    break;
  case MLPRT_COL_TEXT:
    if (s->off[sr] < 0 || d == s) d->off[dr] = s->off[sr];
    else mlprt_text_set(d, dr, s->pool + s->off[sr], strlen(s->pool + s->off[sr]));
    break;
  default: d->t[dr] = s->t[sr]; break;
  }
}

static int time_column(const MlprtTable *t, const char *name, const char *step, MlprtError *err) {
  int c = mlprt_table_find(t, name);
  if (c < 0 || t->cols[c].type != MLPRT_COL_DATETIME) {
    mlprt_error_set(err, NULL, 0, 0, c + 1, name, "%s: needs a datetime column of this name", step);
    return -1;
  }
  return c;
}

typedef struct {
  double key;
  int64_t row;
} SortKey;

static int by_key(const void *a, const void *b) {
  const SortKey *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row); /* stable */
}

int mlprt_ts_sort(MlprtTable *t, const char *time_col, MlprtError *err) {
  int c = mlprt_table_find(t, time_col);
  if (c < 0 || !((MLPRT_TM_NUMERIC | MLPRT_TM(MLPRT_COL_DATETIME)) & MLPRT_TM(t->cols[c].type))) {
    mlprt_error_set(err, NULL, 0, 0, c + 1, time_col,
                    "sort: needs a datetime or numeric column of this name");
    return -1;
  }
  const MlprtColumn *col = &t->cols[c];
  SortKey *k = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *k);
  for (int64_t r = 0; r < t->nrows; r++) {
    double v =
        col->type == MLPRT_COL_DATETIME ? (col->t[r] == MLPRT_TIME_NA ? NAN : (double)col->t[r]) : col->f[r];
    k[r] = (SortKey){isnan(v) ? INFINITY : v, r}; /* missing last */
  }
  qsort(k, (size_t)t->nrows, sizeof *k, by_key);
  int64_t *perm = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *perm);
  for (int64_t r = 0; r < t->nrows; r++) perm[r] = k[r].row;
  mlprt_table_permute(t, perm);
  free(perm);
  free(k);
  return 0;
}

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int mlprt_ts_resample(MlprtTable *t, const char *time_col, int64_t step, MlprtGapFill fill, MlprtError *err) {
  int tc = time_column(t, time_col, "resample", err);
  if (tc < 0) return -1;
  if (step <= 0) {
    mlprt_error_set(err, NULL, 0, 0, tc + 1, time_col, "resample: the step must be positive");
    return -1;
  }
  const int64_t *tm = t->cols[tc].t;
  int64_t first = MLPRT_TIME_NA, last = MLPRT_TIME_NA;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (tm[r] == MLPRT_TIME_NA) continue;
    if (last != MLPRT_TIME_NA && tm[r] < last) {
      mlprt_error_set(err, NULL, r + 1, 0, tc + 1, time_col,
                      "resample: rows are not sorted by time (sort first)");
      return -1;
    }
    if (first == MLPRT_TIME_NA) first = tm[r];
    last = tm[r];
  }
  if (first == MLPRT_TIME_NA) {
    mlprt_error_set(err, NULL, 0, 0, tc + 1, time_col, "resample: no times");
    return -1;
  }
  int64_t b0 = floor_div(first, step), nb = floor_div(last, step) - b0 + 1;
  int64_t cap = 10 * t->nrows + 1000000;
  if (nb > cap) {
    mlprt_error_set(err, NULL, 0, 0, tc + 1, time_col,
                    "resample: %lld buckets for %lld rows; is the step too small?", (long long)nb,
                    (long long)t->nrows);
    return -1;
  }
  MlprtTable out;
  mlprt_table_like(&out, t);
  mlprt_table_reserve(&out, nb);
  out.nrows = nb;
  for (int64_t b = 0; b < nb; b++) mlprt_row_set_missing(&out, b);
  for (int64_t b = 0; b < nb; b++) out.cols[tc].t[b] = (b0 + b) * step;
  uint8_t *empty = mlprt_xmalloc((size_t)nb);
  memset(empty, 1, (size_t)nb);
  int64_t *bucket = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *bucket);
  for (int64_t r = 0; r < t->nrows; r++) {
    bucket[r] = tm[r] == MLPRT_TIME_NA ? -1 : floor_div(tm[r], step) - b0;
    if (bucket[r] >= 0) empty[bucket[r]] = 0;
  }
  double *sum = mlprt_xmalloc((size_t)nb * sizeof *sum);
  int64_t *cnt = mlprt_xmalloc((size_t)nb * sizeof *cnt);
  for (int c = 0; c < t->ncols; c++) {
    if (c == tc) continue;
    const MlprtColumn *src = &t->cols[c];
    if (src->type == MLPRT_COL_FLOAT || src->type == MLPRT_COL_INT) {
      memset(sum, 0, (size_t)nb * sizeof *sum);
      memset(cnt, 0, (size_t)nb * sizeof *cnt);
      for (int64_t r = 0; r < t->nrows; r++)
        if (bucket[r] >= 0 && !isnan(src->f[r])) sum[bucket[r]] += src->f[r], cnt[bucket[r]]++;
      float *y = out.cols[c].f;
      for (int64_t b = 0; b < nb; b++) y[b] = cnt[b] ? (float)(sum[b] / (double)cnt[b]) : NAN;
      if (src->type == MLPRT_COL_INT) out.cols[c].type = MLPRT_COL_FLOAT; /* means are fractional */
      /* gaps: empty buckets only; a bucket whose values were all missing stays missing */
      int64_t prev = -1;
      for (int64_t b = 0; b < nb; b++) {
        if (!empty[b]) {
          prev = isnan(y[b]) ? prev : b;
          continue;
        }
        if (prev < 0) continue;
        int64_t next = b + 1;
        while (next < nb && (empty[next] || isnan(y[next]))) next++;
        if (fill == MLPRT_GAP_LINEAR && next < nb)
          y[b] = (float)(y[prev] + (y[next] - y[prev]) * (double)(b - prev) / (double)(next - prev));
        else y[b] = y[prev];
      }
    } else {
      for (int64_t r = 0; r < t->nrows; r++)
        if (bucket[r] >= 0 && !mlprt_is_missing(t, c, r)) copy_cell(&out, c, bucket[r], t, c, r);
      for (int64_t b = 1; b < nb; b++)
        if (empty[b]) copy_cell(&out, c, b, &out, c, b - 1);
    }
  }
  free(sum);
  free(cnt);
  free(bucket);
  free(empty);
  mlprt_table_free(t);
  *t = out;
  return 0;
}

static int numeric_column(const MlprtTable *t, const char *name, const char *step, MlprtError *err) {
  int c = mlprt_table_find(t, name);
  if (c < 0 || !(MLPRT_TM_NUMERIC & MLPRT_TM(t->cols[c].type))) {
    mlprt_error_set(err, NULL, 0, 0, c + 1, name, "%s: needs a numeric column of this name", step);
    return -1;
  }
  return c;
}

int mlprt_ts_lag(MlprtTable *t, const char *column, const int *lags, int nlags, MlprtError *err) {
  int c = numeric_column(t, column, "lag", err);
  if (c < 0) return -1;
  for (int i = 0; i < nlags; i++) {
    if (lags[i] < 1) {
      mlprt_error_set(err, NULL, 0, 0, c + 1, column, "lag: lags must be >= 1 (got %d)", lags[i]);
      return -1;
    }
    char name[512];
    snprintf(name, sizeof name, "%s_lag%d", column, lags[i]);
    int k = mlprt_table_add_column(t, name, t->cols[c].type);
    for (int64_t r = 0; r < t->nrows; r++) t->cols[k].f[r] = r >= lags[i] ? t->cols[c].f[r - lags[i]] : NAN;
  }
  return 0;
}

int mlprt_ts_rolling(MlprtTable *t, const char *column, int window, MlprtRoll stat, MlprtError *err) {
  static const char *const stat_names[] = {"mean", "sum", "min", "max", "std"};
  int c = numeric_column(t, column, "rolling", err);
  if (c < 0) return -1;
  if (window < 1) {
    mlprt_error_set(err, NULL, 0, 0, c + 1, column, "rolling: the window must be >= 1");
    return -1;
  }
  char name[512];
  snprintf(name, sizeof name, "%s_roll_%s_%d", column, stat_names[stat], window);
  int k = mlprt_table_add_column(t, name, MLPRT_COL_FLOAT);
  const float *x = t->cols[c].f;
  float *y = t->cols[k].f;
  for (int64_t r = 0; r < t->nrows; r++) {
    y[r] = NAN;
    if (r + 1 < window) continue;
    double s = 0, ss = 0, mn = INFINITY, mx = -INFINITY;
    int64_t n = 0;
    for (int64_t j = r + 1 - window; j <= r; j++) {
      if (isnan(x[j])) continue;
      s += x[j], ss += (double)x[j] * x[j], n++;
      if (x[j] < mn) mn = x[j];
      if (x[j] > mx) mx = x[j];
    }
    if (!n) continue;
    double v;
    switch (stat) {
    case MLPRT_ROLL_MEAN: v = s / (double)n; break;
    case MLPRT_ROLL_SUM: v = s; break;
    case MLPRT_ROLL_MIN: v = mn; break;
    case MLPRT_ROLL_MAX: v = mx; break;
    default: /* sample standard deviation, as pandas' rolling().std() */
      v = n > 1 ? sqrt(fmax(0, (ss - s * s / (double)n) / (double)(n - 1))) : NAN;
      break;
    }
    y[r] = (float)v;
  }
  return 0;
}

int mlprt_ts_align(MlprtTable *const *series, const char *const *time_cols, const char *const *prefixes,
                   int n, int64_t step, MlprtGapFill fill, MlprtTable *out, MlprtError *err) {
  mlprt_table_init(out);
  MlprtTable *rs = mlprt_xcalloc((size_t)(n ? n : 1), sizeof *rs);
  int rc = 0;
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  for (int i = 0; i < n && !rc; i++) {
    mlprt_table_like(&rs[i], series[i]);
    rc = mlprt_table_append(&rs[i], series[i], err);
    if (!rc) rc = mlprt_ts_sort(&rs[i], time_cols[i], err);
    if (!rc) rc = mlprt_ts_resample(&rs[i], time_cols[i], step, fill, err);
    if (rc) break;
    int tc = mlprt_table_find(&rs[i], time_cols[i]);
    if (rs[i].cols[tc].t[0] > lo) lo = rs[i].cols[tc].t[0];
    if (rs[i].cols[tc].t[rs[i].nrows - 1] < hi) hi = rs[i].cols[tc].t[rs[i].nrows - 1];
  }
  if (!rc && n > 0 && lo > hi) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "align: the series share no time range");
    rc = -1;
  }
  if (!rc && n > 0) {
    int64_t nb = (hi - lo) / step + 1;
    int tcol = mlprt_table_add_column(out, "time", MLPRT_COL_DATETIME);
    for (int i = 0; i < n; i++) {
      int tc = mlprt_table_find(&rs[i], time_cols[i]);
      char name[512], dflt[16];
      snprintf(dflt, sizeof dflt, "s%d", i + 1);
      for (int c = 0; c < rs[i].ncols; c++) {
        if (c == tc) continue;
        snprintf(name, sizeof name, "%s.%s", prefixes && prefixes[i] ? prefixes[i] : dflt,
                 rs[i].cols[c].name);
        mlprt_table_add_column(out, name, rs[i].cols[c].type);
      }
    }
    mlprt_table_reserve(out, nb);
    out->nrows = nb;
    for (int64_t b = 0; b < nb; b++) out->cols[tcol].t[b] = lo + b * step;
    int oc = 1;
    for (int i = 0; i < n; i++) {
      int tc = mlprt_table_find(&rs[i], time_cols[i]);
      int64_t off = (lo - rs[i].cols[tc].t[0]) / step;
      for (int c = 0; c < rs[i].ncols; c++) {
        if (c == tc) continue;
        for (int64_t b = 0; b < nb; b++) copy_cell(out, oc, b, &rs[i], c, off + b);
        oc++;
      }
    }
  }
  for (int i = 0; i < n; i++) mlprt_table_free(&rs[i]);
  free(rs);
  if (rc) mlprt_table_free(out);
  return rc;
}
