/* impute.c — filling missing values: mean, median, mode, constant (fitted
 * on training rows), forward fill, or dropping the row; optionally adding a
 * NAME_missing indicator column first. Consumes a table and its split;
 * produces the fitted fill values and the filled table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Non-missing training values of a numeric column: [*n] floats in scratch
 * memory of nrows floats (release with release_values). */
static float *train_values(const MlprtTable *t, const MlprtColumn *c, int64_t *n) {
  float *v = mlprt_scratch_alloc((size_t)t->nrows * sizeof *v);
  int64_t k = 0;
  for (int64_t r = 0; r < t->nrows; r++)
    if (mlprt_row_trains(t, r) && !isnan(c->f[r])) v[k++] = c->f[r];
  *n = k;
  return v;
}

/* The most frequent training value as text, ties to the bytewise smallest;
 * NULL when the column has no training values. */
static void release_values(const MlprtTable *t, float *v) {
  mlprt_scratch_free(v, (size_t)t->nrows * sizeof *v);
}

static char *mode_text(const MlprtTable *t, int col) {
  MlprtLevels lv = {0};
  int64_t *cnt = NULL;
  int32_t cap = 0;
  char buf[64];
  for (int64_t r = 0; r < t->nrows; r++) {
    if (!mlprt_row_trains(t, r) || mlprt_is_missing(t, col, r)) continue;
    const char *s = mlprt_cell_str(t, col, r, buf, sizeof buf);
    mlprt_levels_count(&lv, &cnt, &cap, s, strlen(s));
  }
  int32_t best = -1;
  for (int32_t k = 0; k < lv.n; k++)
    if (best < 0 || cnt[k] > cnt[best] || (cnt[k] == cnt[best] && strcmp(lv.names[k], lv.names[best]) < 0))
      best = k;
  char *res = best < 0 ? NULL : mlprt_xstrndup(lv.names[best], strlen(lv.names[best]));
  free(cnt);
  mlprt_levels_free(&lv);
  return res;
}

typedef struct {
  const MlprtTable *t;
  const MlprtImputeParams *p;
  const int *idx;
  MlprtFit *f;
  bool *empty; /* [f->n] no training values */
} FitTask;

/* Fit one column; columns are independent, so they fit in parallel. */
static void fit_col(void *ctx, int i) {
  FitTask *k = ctx;
  const MlprtTable *t = k->t;
  const MlprtColumn *c = &t->cols[k->idx[i]];
  MlprtColFit *cf = &k->f->cols[i];
  bool numeric = c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT;
  int64_t n;
  float *v;
  switch (k->p->strategy) {
  case MLPRT_IMPUTE_MEAN: {
    double s = 0;
    n = 0;
    for (int64_t r = 0; r < t->nrows; r++)
      if (mlprt_row_trains(t, r) && !isnan(c->f[r])) s += c->f[r], n++;
    cf->a = n ? s / (double)n : NAN;
    k->empty[i] = !n;
    break;
  }
  case MLPRT_IMPUTE_MEDIAN: {
    static const double half = 0.5;
    k->empty[i] = !mlprt_train_quantiles(t, c->f, &half, 1, &cf->a);
    break;
  }
  case MLPRT_IMPUTE_MODE:
    if (numeric) {
      v = train_values(t, c, &n);
      qsort(v, (size_t)n, sizeof *v, cmp_float);
      int64_t best = 0;
      for (int64_t j = 0, run; j < n; j += run) {
        for (run = 1; j + run < n && v[j + run] == v[j]; run++) continue;
        if (run > best) best = run, cf->a = v[j];
      }
      release_values(t, v);
      k->empty[i] = !n;
    } else {
      cf->level = mode_text(t, k->idx[i]);
      k->empty[i] = !cf->level;
    }
    break;
  case MLPRT_IMPUTE_CONSTANT:
    if (numeric) cf->a = k->p->constant;
    else cf->level = mlprt_xstrndup(k->p->constant_text, strlen(k->p->constant_text));
    break;
  default: break; /* forward fill and drop learn nothing */
  }
}

/* The columns an impute takes in t (*idx, n of them) and its zeroed fit.
 * Returns n or -1. */
static int impute_init(const MlprtTable *t, const MlprtImputeParams *p, MlprtFit *f, int **idx,
                       MlprtError *err) {
  unsigned mask = MLPRT_TM_NUMERIC;
  if (p->strategy == MLPRT_IMPUTE_MODE || p->strategy == MLPRT_IMPUTE_FFILL ||
      p->strategy == MLPRT_IMPUTE_DROP)
    mask = MLPRT_TM_ANY;
  else if (p->strategy == MLPRT_IMPUTE_CONSTANT && p->constant_text)
    mask = MLPRT_TM_ANY;
  int n = mlprt_select_columns(t, p->cols, mask, "impute", idx, err);
  if (n < 0) return -1;
  mlprt_fit_init(f, MLPRT_STEP_IMPUTE, (int)p->strategy, t, *idx, n);
  f->param = p->constant;
  f->flag = p->indicator;
  return n;
}

/* -1, with the fit freed and an error naming the first column of t
 * without training values (empty[i]), else 0. */
static int impute_check(const MlprtTable *t, const int *idx, const bool *empty, MlprtFit *f,
                        MlprtError *err) {
  for (int i = 0; i < f->n; i++) {
    if (!empty[i]) continue;
    mlprt_error_set(err, NULL, 0, 0, idx[i] + 1, t->cols[idx[i]].name, "impute %s: no training values to fit",
                    mlprt_method_name(MLPRT_STEP_IMPUTE, f->method));
    mlprt_fit_free(f);
    return -1;
  }
  return 0;
}

int mlprt_impute_fit(const MlprtTable *t, const MlprtImputeParams *p, MlprtFit *f, MlprtError *err) {
  int *idx;
  int n = impute_init(t, p, f, &idx, err);
  if (n < 0) return -1;
  FitTask k = {t, p, idx, f, mlprt_xcalloc((size_t)(n ? n : 1), sizeof(bool))};
  mlprt_parallel_for(n, 0, fit_col, &k);
  int rc = impute_check(t, idx, k.empty, f, err);
  free(k.empty);
  free(idx);
  return rc;
}

/* ---- an impute fitted chunk by chunk ---- */

MlprtFitStream *mlprt_impute_stream(const MlprtTable *t, const MlprtImputeParams *p, MlprtError *err) {
  if (p->strategy != MLPRT_IMPUTE_MEAN && p->strategy != MLPRT_IMPUTE_CONSTANT) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "impute %s needs every training row at once",
                    mlprt_method_name(MLPRT_STEP_IMPUTE, p->strategy));
    return NULL;
  }
  MlprtFitStream *fs = mlprt_xcalloc(1, sizeof *fs);
  int n = impute_init(t, p, &fs->f, &fs->idx, err);
  if (n < 0) {
    free(fs);
    return NULL;
  }
  /* a constant is fitted at once: it reads no row */
  if (p->strategy == MLPRT_IMPUTE_CONSTANT) {
    FitTask k = {t, p, fs->idx, &fs->f, mlprt_xcalloc((size_t)(n ? n : 1), sizeof(bool))};
    mlprt_parallel_for(n, 0, fit_col, &k);
    free(k.empty);
  }
  mlprt_table_like(&fs->layout, t);
  fs->sums = mlprt_xcalloc((size_t)(n ? n : 1), sizeof *fs->sums);
  return fs;
}

void mlprt_impute_stream_add(MlprtFitStream *fs, const MlprtTable *t) {
  for (int i = 0; i < fs->f.n && fs->f.method == MLPRT_IMPUTE_MEAN; i++) {
    const float *x = t->cols[fs->idx[i]].f;
    MlprtRunSums *a = &fs->sums[i];
    for (int64_t r = 0; r < t->nrows; r++)
      if (mlprt_row_trains(t, r) && !isnan(x[r])) a->s += x[r], a->k++;
  }
}

int mlprt_impute_stream_close(MlprtFitStream *fs, MlprtError *err) {
  MlprtFit *f = &fs->f;
  bool *empty = mlprt_xcalloc((size_t)(f->n ? f->n : 1), sizeof(bool));
  for (int i = 0; i < f->n && f->method == MLPRT_IMPUTE_MEAN; i++) {
    const MlprtRunSums *a = &fs->sums[i];
    f->cols[i].a = a->k ? a->s / (double)a->k : NAN;
    empty[i] = !a->k;
  }
  int rc = impute_check(&fs->layout, fs->idx, empty, f, err);
  free(empty);
  return rc;
}

typedef struct {
  MlprtTable *t;
  const int *col;
  MlprtFit *f;
} FillTask;

/* Fill one numeric column's NaNs with its fitted value. */
static void fill_col(void *ctx, int i) {
  FillTask *k = ctx;
  MlprtColumn *c = &k->t->cols[k->col[i]];
  MlprtColFit *cf = &k->f->cols[i];
  if (!(c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT) || cf->level) return;
  float v = (float)cf->a, *x = c->f;
  if (c->type == MLPRT_COL_INT && v != floorf(v)) c->type = MLPRT_COL_FLOAT;
  /* a select and a count, no branch: about one cell in twenty is missing,
   * too many for a branch to predict, and the loop vectorises */
  int64_t filled = 0;
  for (int64_t r = 0; r < k->t->nrows; r++) {
    float y = x[r];
    bool miss = y != y;
    x[r] = miss ? v : y;
    filled += miss;
  }
  cf->changed = filled;
}

int mlprt_impute_apply(MlprtTable *t, MlprtFit *f, MlprtError *err) {
  int *col = mlprt_xmalloc((size_t)(f->n ? f->n : 1) * sizeof *col);
  for (int i = 0; i < f->n; i++) {
    col[i] = mlprt_fit_column(t, f, i, MLPRT_TM_ANY, err);
    if (col[i] < 0) {
      free(col);
      return -1;
    }
  }
  if (f->flag) {
    for (int i = 0; i < f->n; i++) {
      char name[256];
      snprintf(name, sizeof name, "%s_missing", f->cols[i].column);
      if (mlprt_table_find(t, name) >= 0) continue; /* applied before */
      int m = mlprt_table_add_column(t, name, MLPRT_COL_BOOL);
      t->cols[m].origin = t->cols[col[i]].origin;
      for (int64_t r = 0; r < t->nrows; r++) t->cols[m].b[r] = mlprt_is_missing(t, col[i], r);
    }
  }
  uint8_t *keep = NULL;
  MlprtNaSet none = {.n = 0};
  for (int i = 0; i < f->n; i++) {
    MlprtColumn *c = &t->cols[col[i]];
    MlprtColFit *cf = &f->cols[i];
    bool numeric = c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT;
    if (f->method == MLPRT_IMPUTE_DROP) {
      if (!keep) {
        keep = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1));
        memset(keep, 1, (size_t)t->nrows);
      }
      for (int64_t r = 0; r < t->nrows; r++)
        if (keep[r] && mlprt_is_missing(t, col[i], r)) keep[r] = 0, cf->dropped++;
    } else if (f->method == MLPRT_IMPUTE_FFILL) {
      int64_t last = -1;
      for (int64_t r = 0; r < t->nrows; r++) {
        if (!mlprt_is_missing(t, col[i], r)) {
          last = r;
          continue;
        }
        if (last < 0) continue; /* nothing before: stays missing */
        switch (c->type) {
        case MLPRT_COL_FLOAT:
        case MLPRT_COL_INT: c->f[r] = c->f[last]; break;
        case MLPRT_COL_BOOL: c->b[r] = c->b[last]; break;
        case MLPRT_COL_CATEGORY: c->codes[r] = c->codes[last]; break;
        case MLPRT_COL_TEXT: c->off[r] = c->off[last]; break;
        default: c->t[r] = c->t[last]; break;
        }
        cf->changed++;
      }
    } else if (numeric && !cf->level) {
      continue; /* numeric fills run below, in parallel */
    } else {
      const char *why;
      for (int64_t r = 0; r < t->nrows; r++) {
        if (!mlprt_is_missing(t, col[i], r)) continue;
        if (mlprt_cell_from_text(t, col[i], r, cf->level, strlen(cf->level), &none, &why)) {
          mlprt_error_set(err, NULL, r + 1, 0, col[i] + 1, c->name, "impute: fill value '%s': %s", cf->level,
                          why);
          free(keep);
          free(col);
          return -1;
        }
        cf->changed++;
      }
    }
  }
  if (f->method != MLPRT_IMPUTE_DROP && f->method != MLPRT_IMPUTE_FFILL) {
    FillTask k = {t, col, f};
    mlprt_parallel_for(f->n, 0, fill_col, &k);
  }
  if (keep) mlprt_table_filter(t, keep);
  free(keep);
  free(col);
  return 0;
}
