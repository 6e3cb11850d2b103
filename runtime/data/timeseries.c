/* timeseries.c — time-series preparation: sort by time, resample to a fixed
 * step with gap filling (forward fill or linear interpolation), lag and
 * rolling-window features that only look back, and the as-of join of another
 * source's columns (each row takes the latest row at or before its time);
 * lag, rolling and diff run per group (a key column's value) and read only
 * the row itself and earlier rows of its group.
 * Consumes tables with a DATETIME column (dates parsed by the loader or
 * mlprt_coerce); produces sorted, regular or extended tables. */
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

typedef struct {
  double key;
  int64_t row;
} SortKey;

static int by_key(const void *a, const void *b) {
  const SortKey *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row); /* stable */
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each row's sort key for column c: numbers, dates and booleans their
 * value, categories and text the rank of their text; missing rows get
 * +inf (or -inf when descending, so that they still come last). */
static void sort_keys(const MlprtTable *t, int c, bool descending, SortKey *k) {
  const MlprtColumn *col = &t->cols[c];
  double miss = descending ? -INFINITY : INFINITY;
  if (col->type == MLPRT_COL_CATEGORY || col->type == MLPRT_COL_TEXT) {
    /* rank the distinct texts bytewise */
    MlprtLevels lv = {0};
    int32_t *code = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *code);
    for (int64_t r = 0; r < t->nrows; r++) {
      const char *s = col->type != MLPRT_COL_CATEGORY ? mlprt_text_at(col, r)
                      : col->codes[r] < 0           ? NULL
                                                    : col->levels.names[col->codes[r]];
      code[r] = s ? mlprt_levels_intern(&lv, s, strlen(s)) : -1;
    }
    char **names = mlprt_xmalloc((size_t)(lv.n ? lv.n : 1) * sizeof *names);
    memcpy(names, lv.names, (size_t)lv.n * sizeof *names);
    qsort(names, (size_t)lv.n, sizeof *names, by_name);
    double *rank = mlprt_xmalloc((size_t)(lv.n ? lv.n : 1) * sizeof *rank);
    for (int32_t i = 0; i < lv.n; i++) rank[mlprt_levels_find(&lv, names[i], strlen(names[i]))] = i;
    for (int64_t r = 0; r < t->nrows; r++) k[r].key = code[r] < 0 ? miss : rank[code[r]];
    free(rank);
    free(names);
    free(code);
    mlprt_levels_free(&lv);
  } else {
    for (int64_t r = 0; r < t->nrows; r++) {
      double v = col->type == MLPRT_COL_DATETIME ? (col->t[r] == MLPRT_TIME_NA ? NAN : (double)col->t[r])
                 : col->type == MLPRT_COL_BOOL   ? (col->b[r] == MLPRT_BOOL_NA ? NAN : col->b[r])
                                                 : col->f[r];
      k[r].key = isnan(v) ? miss : v;
    }
  }
  for (int64_t r = 0; r < t->nrows; r++) {
    k[r].row = r;
    if (descending) k[r].key = -k[r].key;
  }
}

/* Stable sorts from the least significant key to the most significant. */
static void sort_rows(MlprtTable *t, const int *cols, int n, bool descending) {
  SortKey *k = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *k);
  int64_t *perm = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *perm);
  for (int i = n - 1; i >= 0; i--) {
    sort_keys(t, cols[i], descending, k);
    qsort(k, (size_t)t->nrows, sizeof *k, by_key);
    for (int64_t r = 0; r < t->nrows; r++) perm[r] = k[r].row;
    mlprt_table_permute(t, perm);
  }
  free(perm);
  free(k);
}

int mlprt_ts_sort(MlprtTable *t, const char *time_col, MlprtError *err) {
  int c = mlprt_table_find(t, time_col);
  if (c < 0 || !((MLPRT_TM_NUMERIC | MLPRT_TM(MLPRT_COL_DATETIME)) & MLPRT_TM(t->cols[c].type))) {
    mlprt_error_set(err, NULL, 0, 0, c + 1, time_col,
                    "sort: needs a datetime or numeric column of this name");
    return -1;
  }
  sort_rows(t, &c, 1, false);
  return 0;
}

int mlprt_ts_sort_by(MlprtTable *t, MlprtCols keys, bool descending, MlprtCleanLog *log, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, keys, MLPRT_TM_ANY, "sort_by", &idx, err);
  if (n < 0) return -1;
  MlprtFit f;
  mlprt_fit_init(&f, MLPRT_STEP_TIME, MLPRT_TIME_SORT_BY, t, idx, n);
  f.rows_before = f.rows_after = t->nrows;
  sort_rows(t, idx, n, descending);
  mlprt_log_fit(log, &f);
  mlprt_fit_free(&f);
  free(idx);
  return 0;
}

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void mlprt_derived_name(char *buf, size_t n, int64_t op, const char *column, int64_t k, int64_t window,
                        int64_t lag, int form) {
  static const char *const stat_names[] = {"mean", "sum", "min", "max", "std"};
  switch (op) {
  case MLPRT_CLEAN_LAG: snprintf(buf, n, "%s_lag%lld", column, (long long)k); break;
  case MLPRT_CLEAN_DIFF: snprintf(buf, n, "%s_diff%lld", column, (long long)k); break;
  case MLPRT_CLEAN_ROLLING: {
    const char *stat = k >= 0 && k < 5 ? stat_names[k] : "?";
    int w = snprintf(buf, n, "%s_roll_%s_%lld", column, stat, (long long)window);
    if (lag > 0 && w >= 0 && (size_t)w < n) snprintf(buf + w, n - (size_t)w, "_lag%lld", (long long)lag);
    break;
  }
  default:
    snprintf(buf, n, "%s_%s%s", column, mlprt_date_part_name((int)k),
             form == 1 ? "_sin" : form == 2 ? "_cos" : "");
  }
}

/* The rows of each group, group after group, each group in table order:
 * order[start[g] .. start[g + 1]) are group g's rows. One group when by is
 * NULL; rows with a missing key form a group of their own. */
typedef struct {
  int64_t *order, *start;
  int64_t ngroups;
} Groups;

static int make_groups(const MlprtTable *t, const char *by, int by_pos, Groups *g, MlprtError *err) {
  int64_t n = t->nrows;
  int32_t *gid = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *gid);
  int32_t ng = 1;
  if (!by) {
    memset(gid, 0, (size_t)n * sizeof *gid);
  } else {
    int c = by_pos > 0 ? (by_pos <= t->ncols ? by_pos - 1 : -1) : mlprt_table_find(t, by);
    if (c < 0) {
      mlprt_error_set(err, NULL, 0, 0, 0, by, "by: no such column in the data");
      free(gid);
      return -1;
    }
    const MlprtColumn *col = &t->cols[c];
    MlprtLevels lv = {0};
    char buf[64];
    for (int64_t r = 0; r < n; r++) {
      if (col->type == MLPRT_COL_CATEGORY) {
        gid[r] = col->codes[r] + 1; /* 0: missing */
        continue;
      }
      const char *s = mlprt_is_missing(t, c, r) ? "" : mlprt_cell_str(t, c, r, buf, sizeof buf);
      gid[r] = mlprt_is_missing(t, c, r) ? 0 : mlprt_levels_intern(&lv, s, strlen(s)) + 1;
    }
    ng = (col->type == MLPRT_COL_CATEGORY ? col->levels.n : lv.n) + 1;
    mlprt_levels_free(&lv);
  }
  g->ngroups = ng;
  g->start = mlprt_xcalloc((size_t)ng + 1, sizeof *g->start);
  for (int64_t r = 0; r < n; r++) g->start[gid[r] + 1]++;
  for (int32_t k = 0; k < ng; k++) g->start[k + 1] += g->start[k];
  int64_t *at = mlprt_xmalloc(((size_t)ng + 1) * sizeof *at);
  memcpy(at, g->start, ((size_t)ng + 1) * sizeof *at);
  g->order = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *g->order);
  for (int64_t r = 0; r < n; r++) g->order[at[gid[r]]++] = r;
  free(at);
  free(gid);
  return 0;
}

static void free_groups(Groups *g) {
  free(g->order);
  free(g->start);
}

/* One column's numbers in one group's buckets: the agg of each bucket's
 * values (NaN where they were all missing), then the empty buckets filled. */
static void resample_numbers(const float *x, const int64_t *rows, const int64_t *bucket, int64_t nrows,
                             const uint8_t *empty, int64_t nb, const MlprtResampleParams *p, float *y) {
  double *acc = mlprt_xmalloc((size_t)nb * sizeof *acc);
  int64_t *cnt = mlprt_xcalloc((size_t)nb, sizeof *cnt);
  for (int64_t i = 0; i < nrows; i++) {
    double v = x[rows[i]];
    int64_t b = bucket[i];
    if (isnan(v)) continue;
    if (cnt[b]++ == 0) {
      acc[b] = v;
      continue;
    }
    switch (p->agg) {
    case MLPRT_AGG_MEAN:
    case MLPRT_AGG_SUM: acc[b] += v; break;
    case MLPRT_AGG_LAST: acc[b] = v; break;
    case MLPRT_AGG_MIN: acc[b] = v < acc[b] ? v : acc[b]; break;
    case MLPRT_AGG_MAX: acc[b] = v > acc[b] ? v : acc[b]; break;
    default: break; /* first */
    }
  }
  for (int64_t b = 0; b < nb; b++) {
    if (!cnt[b]) y[b] = empty[b] && p->agg == MLPRT_AGG_SUM && p->fill == MLPRT_GAP_ZERO ? 0.0f : NAN;
    else y[b] = (float)(p->agg == MLPRT_AGG_MEAN ? acc[b] / (double)cnt[b] : acc[b]);
  }
  /* gaps: empty buckets only; a bucket whose values were all missing stays missing */
  int64_t prev = -1;
  for (int64_t b = 0; b < nb; b++) {
    if (!empty[b]) {
      prev = isnan(y[b]) ? prev : b;
      continue;
    }
    if (p->fill == MLPRT_GAP_ZERO) y[b] = 0.0f;
    if (p->fill == MLPRT_GAP_ZERO || p->fill == MLPRT_GAP_NULL || prev < 0) continue;
    int64_t next = b + 1;
    while (next < nb && (empty[next] || isnan(y[next]))) next++;
    if (p->fill == MLPRT_GAP_LINEAR && next < nb)
      y[b] = (float)(y[prev] + (y[next] - y[prev]) * (double)(b - prev) / (double)(next - prev));
    else y[b] = y[prev];
  }
  free(acc);
  free(cnt);
}

int mlprt_ts_resample(MlprtTable *t, const MlprtResampleParams *p, MlprtCleanLog *log, MlprtError *err) {
  int *idx;
  if (mlprt_select_columns(t, p->on, MLPRT_TM(MLPRT_COL_DATETIME), "resample", &idx, err) != 1) {
    if (err->msg[0] == 0) mlprt_error_set(err, NULL, 0, 0, 0, NULL, "resample: needs one datetime column");
    return -1;
  }
  int tc = idx[0];
  const char *tname = t->cols[tc].name;
  if (p->step <= 0) {
    mlprt_error_set(err, NULL, 0, 0, tc + 1, tname, "resample: the step must be positive");
    free(idx);
    return -1;
  }
  Groups g;
  if (make_groups(t, p->by, p->by_pos, &g, err) != 0) {
    free(idx);
    return -1;
  }
  const int64_t *tm = t->cols[tc].t;
  /* the group key's column (make_groups found it) */
  int key_col = !p->by ? -1 : p->by_pos > 0 ? p->by_pos - 1 : mlprt_table_find(t, p->by);
  /* each group's first bucket and bucket count; its rows' buckets in group order */
  int64_t *b0 = mlprt_xmalloc((size_t)g.ngroups * sizeof *b0),
          *nb = mlprt_xcalloc((size_t)g.ngroups, sizeof *nb);
  int64_t *bucket = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *bucket);
  int64_t total = 0, cap = 10 * t->nrows + 1000000;
  int rc = 0;
  for (int64_t k = 0; k < g.ngroups && rc == 0; k++) {
    int64_t last = MLPRT_TIME_NA;
    for (int64_t i = g.start[k]; i < g.start[k + 1]; i++) {
      int64_t r = g.order[i], v = tm[r];
      if (v == MLPRT_TIME_NA) continue;
      if (last != MLPRT_TIME_NA && v < last) {
        mlprt_error_set(err, NULL, t->rowid ? t->rowid[r] : r + 1, 0, tc + 1, tname,
                        "resample: rows are not in time order%s (sort_by(%s) first)",
                        p->by ? " within their group" : "", tname);
        rc = -1;
        break;
      }
      if (last == MLPRT_TIME_NA) b0[k] = floor_div(v, p->step);
      last = v;
      bucket[i] = floor_div(v, p->step) - b0[k];
      nb[k] = bucket[i] + 1;
    }
    total += nb[k];
    if (rc == 0 && total > cap) {
      mlprt_error_set(err, NULL, 0, 0, tc + 1, tname,
                      "resample: over %lld buckets for %lld rows; is the step too small?", (long long)cap,
                      (long long)t->nrows);
      rc = -1;
    }
  }
  MlprtTable out;
  mlprt_table_init(&out);
  if (rc == 0) {
    mlprt_table_like(&out, t);
    mlprt_table_reserve(&out, total);
    out.nrows = total;
    for (int64_t r = 0; r < total; r++) mlprt_row_set_missing(&out, r);
    out.rowid = mlprt_xcalloc((size_t)(total ? total : 1), sizeof *out.rowid);
    for (int c = 0; c < t->ncols; c++) {
      const MlprtLevels *lv = &t->cols[c].levels; /* the same codes, in the same order */
      for (int32_t l = 0; t->cols[c].type == MLPRT_COL_CATEGORY && l < lv->n; l++)
        mlprt_levels_intern(&out.cols[c].levels, lv->names[l], lv->len[l]);
      out.cols[c].origin = t->cols[c].origin;
      /* means and interpolations are fractional; the key is kept */
      bool frac = p->agg == MLPRT_AGG_MEAN || p->fill == MLPRT_GAP_LINEAR;
      if (frac && c != key_col && t->cols[c].type == MLPRT_COL_INT) out.cols[c].type = MLPRT_COL_FLOAT;
    }
  }
  int64_t inserted = 0, at = 0;
  int64_t *rows = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *rows);
  int64_t *rb = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *rb);
  for (int64_t k = 0; k < g.ngroups && rc == 0; k++) {
    if (!nb[k]) continue;
    /* the group's rows with a time, and their buckets */
    int64_t n = 0;
    for (int64_t i = g.start[k]; i < g.start[k + 1]; i++)
      if (tm[g.order[i]] != MLPRT_TIME_NA) rows[n] = g.order[i], rb[n++] = bucket[i];
    uint8_t *empty = mlprt_xmalloc((size_t)nb[k]);
    memset(empty, 1, (size_t)nb[k]);
    for (int64_t i = 0; i < n; i++) {
      empty[rb[i]] = 0;
      out.rowid[at + rb[i]] = t->rowid ? t->rowid[rows[i]] : 0;
    }
    for (int64_t b = 0; b < nb[k]; b++) {
      inserted += empty[b];
      out.cols[tc].t[at + b] = (b0[k] + b) * p->step;
    }
    for (int c = 0; c < t->ncols; c++) {
      if (c == tc) continue;
      const MlprtColumn *src = &t->cols[c];
      bool key = c == key_col;
      if (!key && (src->type == MLPRT_COL_FLOAT || src->type == MLPRT_COL_INT)) {
        float *y = mlprt_xmalloc((size_t)nb[k] * sizeof *y);
        resample_numbers(src->f, rows, rb, n, empty, nb[k], p, y);
        memcpy(out.cols[c].f + at, y, (size_t)nb[k] * sizeof *y);
        free(y);
        continue;
      }
      for (int64_t i = 0; i < n; i++) {
        int64_t r = rows[i], b = at + rb[i];
        bool taken = p->agg == MLPRT_AGG_FIRST && !mlprt_is_missing(&out, c, b);
        if (!taken && !mlprt_is_missing(t, c, r)) copy_cell(&out, c, b, t, c, r);
      }
      bool repeat = key || p->fill == MLPRT_GAP_FFILL || p->fill == MLPRT_GAP_LINEAR;
      for (int64_t b = 1; b < nb[k] && repeat; b++)
        if (empty[b]) copy_cell(&out, c, at + b, &out, c, at + b - 1);
    }
    free(empty);
    at += nb[k];
  }
  free(rows);
  free(rb);
  if (rc == 0) {
    MlprtFit f;
    mlprt_fit_init(&f, MLPRT_STEP_TIME, MLPRT_TIME_RESAMPLE, t, idx, 1);
    f.rows_before = t->nrows;
    f.rows_after = total;
    f.cols[0].changed = inserted;
    mlprt_log_fit(log, &f);
    mlprt_fit_free(&f);
    /* the columns keep their name strings: a column is known by its name's identity (the target) */
    for (int c = 0; c < t->ncols; c++) {
      free(out.cols[c].name);
      out.cols[c].name = t->cols[c].name;
      t->cols[c].name = NULL;
    }
    mlprt_table_free(t);
    *t = out;
  }
  free(b0);
  free(nb);
  free(bucket);
  free_groups(&g);
  free(idx);
  return rc;
}


/* A series step's columns (numbers only), groups and fit; -1 with *err. */
static int series_begin(MlprtTable *t, const MlprtSeriesParams *p, const char *step, int method, int **idx,
                        Groups *g, MlprtFit *f, MlprtError *err) {
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_NUMERIC, step, idx, err);
  if (n < 0) return -1;
  if (make_groups(t, p->by, p->by_pos, g, err) != 0) {
    free(*idx);
    return -1;
  }
  mlprt_fit_init(f, MLPRT_STEP_TIME, method, t, *idx, n);
  f->rows_before = t->nrows;
  return n;
}

/* A new float column made from column c, carrying its origin. */
static int derived_column(MlprtTable *t, int c, const char *name) {
  int k = mlprt_table_add_column(t, name, MLPRT_COL_FLOAT);
  t->cols[k].origin = t->cols[c].origin;
  return k;
}

/* Rows short of history (short_rows[r] set) are counted per column and,
 * under MLPRT_HISTORY_DROP, dropped (or marked in p->pending, and the
 * marked rows dropped when p->drop_pending); then the step is logged. */
static void series_end(MlprtTable *t, const MlprtSeriesParams *p, const uint8_t *short_rows, int *idx,
                       Groups *g, MlprtFit *f, MlprtCleanLog *log) {
  int64_t nshort = 0;
  bool drop = p->history == MLPRT_HISTORY_DROP;
  for (int64_t r = 0; r < t->nrows; r++) nshort += short_rows[r];
  for (int i = 0; i < f->n; i++) {
    f->cols[i].changed = nshort;
    if (drop) f->cols[i].dropped = nshort;
  }
  if (drop && p->pending)
    for (int64_t r = 0; r < t->nrows; r++) p->pending[r] |= short_rows[r];
  const uint8_t *gone = p->pending ? (p->drop_pending ? p->pending : NULL) : drop ? short_rows : NULL;
  if (gone) {
    uint8_t *keep = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1));
    for (int64_t r = 0; r < t->nrows; r++) keep[r] = !gone[r];
    mlprt_table_filter(t, keep);
    free(keep);
  }
  f->rows_after = t->nrows;
  mlprt_log_fit(log, f);
  mlprt_fit_free(f);
  free_groups(g);
  free(idx);
}

int mlprt_ts_lag(MlprtTable *t, const MlprtSeriesParams *p, const int *steps, int nsteps, MlprtCleanLog *log,
                 MlprtError *err) {
  int *idx;
  Groups g;
  MlprtFit f;
  int n = series_begin(t, p, "lag", MLPRT_TIME_LAG, &idx, &g, &f, err);
  if (n < 0) return -1;
  uint8_t *short_rows = mlprt_xcalloc((size_t)t->nrows + 1, 1);
  for (int i = 0; i < n; i++) {
    for (int s = 0; s < nsteps; s++) {
      int k = steps[s];
      char name[512];
      mlprt_derived_name(name, sizeof name, MLPRT_CLEAN_LAG, t->cols[idx[i]].name, k, 0, 0, 0);
      int out = derived_column(t, idx[i], name);
      const float *x = t->cols[idx[i]].f;
      float *y = t->cols[out].f;
      for (int64_t gi = 0; gi < g.ngroups; gi++)
        for (int64_t j = g.start[gi]; j < g.start[gi + 1]; j++) {
          bool have = j - k >= g.start[gi];
          y[g.order[j]] = have ? x[g.order[j - k]] : NAN;
          if (!have) short_rows[g.order[j]] = 1;
        }
    }
  }
  series_end(t, p, short_rows, idx, &g, &f, log);
  free(short_rows);
  return 0;
}

int mlprt_ts_diff(MlprtTable *t, const MlprtSeriesParams *p, int steps, MlprtCleanLog *log, MlprtError *err) {
  int *idx;
  Groups g;
  MlprtFit f;
  int n = series_begin(t, p, "diff", MLPRT_TIME_DIFF, &idx, &g, &f, err);
  if (n < 0) return -1;
  uint8_t *short_rows = mlprt_xcalloc((size_t)t->nrows + 1, 1);
  for (int i = 0; i < n; i++) {
    char name[512];
    mlprt_derived_name(name, sizeof name, MLPRT_CLEAN_DIFF, t->cols[idx[i]].name, steps, 0, 0, 0);
    int out = derived_column(t, idx[i], name);
    const float *x = t->cols[idx[i]].f;
    float *y = t->cols[out].f;
    for (int64_t gi = 0; gi < g.ngroups; gi++)
      for (int64_t j = g.start[gi]; j < g.start[gi + 1]; j++) {
        bool have = j - steps >= g.start[gi];
        y[g.order[j]] = have ? (float)((double)x[g.order[j]] - x[g.order[j - steps]]) : NAN;
        if (!have) short_rows[g.order[j]] = 1;
      }
  }
  series_end(t, p, short_rows, idx, &g, &f, log);
  free(short_rows);
  return 0;
}

double mlprt_window_stat(const float *x, int64_t first, int64_t cap, int w, MlprtRoll stat) {
  /* the window as two runs: from first to the end of x, then from its start */
  int64_t n1 = cap - first < w ? cap - first : w;
  const float *run[2] = {x + first, x};
  int64_t len[2] = {n1, w - n1};
  double s = 0, mn = INFINITY, mx = -INFINITY;
  for (int r = 0; r < 2; r++)
    for (int64_t i = 0; i < len[r]; i++) {
      double v = run[r][i];
      s += v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
  switch (stat) {
  case MLPRT_ROLL_MEAN: return s / w;
  case MLPRT_ROLL_SUM: return s;
  case MLPRT_ROLL_MIN: return mn;
  case MLPRT_ROLL_MAX: return mx;
  default: { /* sample standard deviation, two passes, as pandas' rolling().std() */
    double m = s / w, ss = 0;
    for (int r = 0; r < 2; r++)
      for (int64_t i = 0; i < len[r]; i++) ss += ((double)run[r][i] - m) * ((double)run[r][i] - m);
    return w > 1 ? sqrt(ss / (w - 1)) : NAN;
  }
  }
}

int mlprt_ts_rolling(MlprtTable *t, const MlprtSeriesParams *p, int window, int lag, const MlprtRoll *stats,
                     int nstats, MlprtCleanLog *log, MlprtError *err) {
  if (window < 1 || lag < 0) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "rolling: the window must be >= 1 and the lag >= 0");
    return -1;
  }
  int *idx;
  Groups g;
  MlprtFit f;
  int n = series_begin(t, p, "rolling", MLPRT_TIME_ROLLING, &idx, &g, &f, err);
  if (n < 0) return -1;
  uint8_t *short_rows = mlprt_xcalloc((size_t)t->nrows + 1, 1);
  float *win = mlprt_xmalloc((size_t)window * sizeof *win); /* one window's values, oldest first */
  for (int i = 0; i < n; i++) {
    for (int s = 0; s < nstats; s++) {
      char name[512];
      mlprt_derived_name(name, sizeof name, MLPRT_CLEAN_ROLLING, t->cols[idx[i]].name, stats[s], window, lag,
                         0);
      int out = derived_column(t, idx[i], name);
      const float *x = t->cols[idx[i]].f;
      float *y = t->cols[out].f;
      for (int64_t gi = 0; gi < g.ngroups; gi++) {
        int64_t missing = 0; /* missing values in the window */
        for (int64_t j = g.start[gi]; j < g.start[gi + 1]; j++) {
          int64_t end = j - lag, first = end - window + 1; /* the window, positions in order[] */
          if (end >= g.start[gi] && isnan(x[g.order[end]])) missing++;
          if (first - 1 >= g.start[gi] && isnan(x[g.order[first - 1]])) missing--;
          bool have = first >= g.start[gi];
          if (!have) short_rows[g.order[j]] = 1;
          for (int k = 0; have && !missing && k < window; k++) win[k] = x[g.order[first + k]];
          y[g.order[j]] = have && !missing ? (float)mlprt_window_stat(win, 0, window, window, stats[s]) : NAN;
        }
      }
    }
  }
  series_end(t, p, short_rows, idx, &g, &f, log);
  free(short_rows);
  free(win);
  return 0;
}

/* A time key's value as a number (dates: epoch seconds); NaN when missing. */
static double key_value(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_DATETIME) return c->t[r] == MLPRT_TIME_NA ? NAN : (double)c->t[r];
  return c->f[r];
}

typedef struct {
  int32_t group;
  double key;
  int64_t row;
} AsofKey;

static int by_group_key(const void *a, const void *b) {
  const AsofKey *x = a, *y = b;
  if (x->group != y->group) return x->group < y->group ? -1 : 1;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row); /* stable: the later row of equal times last */
}

/* The column of this name in t with a type of mask, or -1 with *err naming the table. */
static int asof_column(const MlprtTable *t, const char *name, unsigned mask, const char *which,
                       MlprtError *err) {
  int c = mlprt_table_find(t, name);
  if (c < 0 || !(mask & MLPRT_TM(t->cols[c].type)))
    mlprt_error_set(err, NULL, 0, 0, 0, name, "align: %s has no %s column of this name", which,
                    mask == MLPRT_TM_ANY ? "such" : "date or number");
  return c >= 0 && (mask & MLPRT_TM(t->cols[c].type)) ? c : -1;
}

int mlprt_ts_asof(MlprtTable *t, const MlprtTable *other, const MlprtAsofParams *p, MlprtCleanLog *log,
                  MlprtError *err) {
  unsigned keys = MLPRT_TM_NUMERIC | MLPRT_TM(MLPRT_COL_DATETIME);
  const char *ron = p->right_on ? p->right_on : p->on, *rby = p->right_by ? p->right_by : p->by;
  int tk = asof_column(t, p->on, keys, "the table", err);
  int ok = asof_column(other, ron, keys, "the other source", err);
  int tb = p->by ? asof_column(t, p->by, MLPRT_TM_ANY, "the table", err) : -1;
  int ob = p->by ? asof_column(other, rby, MLPRT_TM_ANY, "the other source", err) : -1;
  if (tk < 0 || ok < 0 || (p->by && (tb < 0 || ob < 0))) return -1;
  if ((t->cols[tk].type == MLPRT_COL_DATETIME) != (other->cols[ok].type == MLPRT_COL_DATETIME)) {
    mlprt_error_set(err, NULL, 0, 0, 0, p->on, "align: the key is a %s in the table and a %s in the source",
                    mlprt_col_type_name(t->cols[tk].type), mlprt_col_type_name(other->cols[ok].type));
    return -1;
  }
  for (int c = 0; c < other->ncols; c++)
    if (c != ok && c != ob && mlprt_table_find(t, other->cols[c].name) >= 0) {
      mlprt_error_set(err, NULL, 0, 0, 0, other->cols[c].name,
                      "align: the other source's column is a column of the table already");
      return -1;
    }
  /* the other source's rows with a key, by group then time */
  MlprtLevels groups = {0};
  char buf[512];
  AsofKey *k = mlprt_xmalloc((size_t)(other->nrows ? other->nrows : 1) * sizeof *k);
  int64_t n = 0;
  for (int64_t r = 0; r < other->nrows; r++) {
    double v = key_value(&other->cols[ok], r);
    if (isnan(v) || (ob >= 0 && mlprt_is_missing(other, ob, r))) continue;
    const char *g = ob >= 0 ? mlprt_cell_str(other, ob, r, buf, sizeof buf) : "";
    k[n++] = (AsofKey){mlprt_levels_intern(&groups, g, strlen(g)), v, r};
  }
  qsort(k, (size_t)n, sizeof *k, by_group_key);
  int64_t *start = mlprt_xcalloc((size_t)groups.n + 2, sizeof *start);
  for (int64_t i = 0; i < n; i++) start[k[i].group + 1] = i + 1;
  /* each row's match: the last of its group at or before its time, within the tolerance */
  int64_t *match = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *match), unmatched = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    double v = key_value(&t->cols[tk], r);
    int32_t g = 0;
    if (tb >= 0) {
      const char *s = mlprt_is_missing(t, tb, r) ? NULL : mlprt_cell_str(t, tb, r, buf, sizeof buf);
      g = s ? mlprt_levels_find(&groups, s, strlen(s)) : -1;
    } else if (groups.n == 0) {
      g = -1;
    }
    int64_t lo = g >= 0 ? start[g] : 0, hi = g >= 0 ? start[g + 1] : 0; /* the first key > v in [lo, hi) */
    while (!isnan(v) && lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (k[mid].key <= v) lo = mid + 1;
      else hi = mid;
    }
    bool have = !isnan(v) && g >= 0 && lo > start[g];
    if (have && p->tolerance >= 0 && v - k[lo - 1].key > p->tolerance) have = false;
    match[r] = have ? k[lo - 1].row : -1;
    unmatched += !have;
  }
  /* the other source's columns, in its order, but its keys */
  int *idx = mlprt_xmalloc((size_t)(other->ncols ? other->ncols : 1) * sizeof *idx), nj = 0;
  for (int c = 0; c < other->ncols; c++)
    if (c != ok && c != ob) idx[nj++] = c;
  MlprtFit f;
  mlprt_fit_init(&f, MLPRT_STEP_ALIGN, p->unmatched, other, idx, nj);
  f.ncols = t->ncols;
  f.param = p->tolerance;
  f.rows_before = t->nrows;
  for (int j = 0; j < nj; j++) {
    int c = mlprt_table_add_column(t, other->cols[idx[j]].name, other->cols[idx[j]].type);
    f.cols[j].index = c;
    f.cols[j].method = other->cols[idx[j]].type;
    f.cols[j].changed = unmatched;
    for (int64_t r = 0; r < t->nrows; r++)
      if (match[r] >= 0 && !mlprt_is_missing(other, idx[j], match[r]))
        copy_cell(t, c, r, other, idx[j], match[r]);
  }
  if (p->unmatched == MLPRT_UNMATCHED_DROP && unmatched) {
    uint8_t *keep = mlprt_xmalloc((size_t)t->nrows);
    for (int64_t r = 0; r < t->nrows; r++) keep[r] = match[r] >= 0;
    mlprt_table_filter(t, keep);
    free(keep);
    for (int j = 0; j < nj; j++) f.cols[j].dropped = unmatched;
  }
  f.rows_after = t->nrows;
  mlprt_log_fit(log, &f);
  mlprt_fit_free(&f);
  free(idx);
  free(match);
  free(start);
  free(k);
  mlprt_levels_free(&groups);
  return 0;
}
