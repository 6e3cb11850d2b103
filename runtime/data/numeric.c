/* numeric.c — the numeric cleaning ops: outliers (z-score or IQR bounds,
 * clipped or dropped, with exempt columns and a keep predicate) and scaling
 * (standard, min-max, robust, log1p). Consumes FLOAT/INT columns and the
 * split; produces bounds or (center, scale) pairs fitted on training rows,
 * and the rewritten columns. Statistics accumulate in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

typedef struct {
  int64_t n;
  double mean, sd, min, max; /* population sd; min and max only when asked for */
} Moments;

typedef double V2d __attribute__((vector_size(16)));
typedef int64_t V2l __attribute__((vector_size(16)));

/* The moments of two columns (xb may repeat xa) in one pass over their
 * training values, each shifted by its first: with d = x - x0 the variance
 * is (sum d^2 - (sum d)^2 / n) / n, which stays accurate for data far from
 * zero (the shift removes the offset that makes the textbook formula
 * cancel). Lane j of each vector holds column j's sums and goes through
 * exactly the additions a pass over that column alone would make, in row
 * order (a skipped value adds +0, and no sum here is ever -0), so results
 * never depend on the pairing; the two lanes' chains of dependent
 * additions just run side by side. The sums carry over in acc from the
 * rows of earlier chunks of the same table (a column's first value is the
 * first of the earliest chunk that has one), so a table read chunk by
 * chunk gets the bits of one pass over all its rows. */
static inline __attribute__((always_inline)) void moments_add2(const MlprtTable *t, const float *xa,
                                                                const float *xb, bool minmax,
                                                                MlprtRunSums *acc[2]) {
  const uint8_t *part = t->part;
  const float *x[2] = {xa, xb};
  int64_t n = t->nrows, from = n;
  for (int j = 0; j < 2; j++) {
    int64_t r = 0;
    if (!acc[j]->started) {
      while (r < n && ((part && part[r] != MLPRT_TRAIN) || x[j][r] != x[j][r])) r++;
      if (r < n) *acc[j] = (MlprtRunSums){true, x[j][r], 0, 0, x[j][r], x[j][r], 0};
    }
    if (r < from) from = r;
  }
  V2d x0 = {acc[0]->x0, acc[1]->x0}, s = {acc[0]->s, acc[1]->s}, ss = {acc[0]->ss, acc[1]->ss};
  V2d mn = {acc[0]->mn, acc[1]->mn}, mx = {acc[0]->mx, acc[1]->mx};
  V2l k = {-acc[0]->k, -acc[1]->k};
  for (int64_t r = from; r < n; r++) {
    V2d v = {xa[r], xb[r]};
    V2l ok = v == v; /* all ones where not NaN */
    if (part) ok &= -(int64_t)(part[r] == MLPRT_TRAIN);
    V2d d = (V2d)((V2l)(v - x0) & ok);
    s += d, ss += d * d, k += ok;
    if (minmax) {
      V2l lt = (v < mn) & ok, gt = (v > mx) & ok;
      mn = (V2d)(((V2l)v & lt) | ((V2l)mn & ~lt));
      mx = (V2d)(((V2l)v & gt) | ((V2l)mx & ~gt));
    }
  }
  for (int j = 0; j < 2; j++)
    if (acc[j]->started) acc[j]->s = s[j], acc[j]->ss = ss[j], acc[j]->mn = mn[j], acc[j]->mx = mx[j],
                         acc[j]->k = -k[j];
}

static Moments moments_of(const MlprtRunSums *a) {
  Moments m = {0, 0, 0, INFINITY, -INFINITY};
  if (a->started && a->k) {
    m.n = a->k;
    m.mean = a->x0 + a->s / (double)a->k;
    double var = (a->ss - a->s * a->s / (double)a->k) / (double)a->k;
    m.sd = sqrt(var > 0 ? var : 0);
    m.min = a->mn, m.max = a->mx;
  }
  return m;
}

/* Training quartiles q1, q2, q3 (linear interpolation); false when empty. */
static bool train_quartiles(const MlprtTable *t, const float *x, double q[3]) {
  static const double at[3] = {0.25, 0.5, 0.75};
  return mlprt_train_quantiles(t, x, at, 3, q) > 0;
}

static int no_values(MlprtFit *f, const MlprtTable *t, int col, const char *step, MlprtError *err) {
  mlprt_error_set(err, NULL, 0, 0, col + 1, t->cols[col].name, "%s: no training values to fit", step);
  mlprt_fit_free(f);
  return -1;
}

/* The fit's columns in t. */
static int *fit_columns(const MlprtTable *t, const MlprtFit *f, MlprtError *err) {
  int *col = mlprt_xmalloc((size_t)(f->n ? f->n : 1) * sizeof *col);
  for (int i = 0; i < f->n; i++) {
    col[i] = mlprt_fit_column(t, f, i, MLPRT_TM_NUMERIC, err);
    if (col[i] < 0) {
      free(col);
      return NULL;
    }
  }
  return col;
}

/* Columns are independent, so fits and applies run one column per task. */
typedef struct {
  MlprtTable *t;
  const int *col;   /* [f->n] table column of each fitted column */
  MlprtFit *f;
  const uint8_t *kept; /* outliers: rows the keep predicate protects, or NULL */
  bool *empty;      /* fits: [f->n] no training values */
  Moments *mom;     /* fits that need moments: [f->n], computed before the per-column fits */
  bool *lost;       /* scaling: [f->n] a finite value became an infinity or NaN */
} ColTask;

/* Moments of fitted columns 2i and 2i + 1 (or 2i alone, the last of an odd
 * count). */
static void moments_pair(void *ctx, int i) {
  ColTask *k = ctx;
  int a = 2 * i, b = 2 * i + 1 < k->f->n ? 2 * i + 1 : a;
  MlprtRunSums sums[2] = {{0}, {0}}, *acc[2] = {&sums[0], &sums[1]};
  const float *xa = k->t->cols[k->col[a]].f, *xb = k->t->cols[k->col[b]].f;
  /* only min-max scaling reads the extremes: the other fits skip tracking them */
  if (k->f->kind == MLPRT_STEP_SCALE && k->f->method == MLPRT_SCALE_MINMAX)
    moments_add2(k->t, xa, xb, true, acc);
  else
    moments_add2(k->t, xa, xb, false, acc);
  k->mom[a] = moments_of(&sums[0]);
  if (b != a) k->mom[b] = moments_of(&sums[1]);
}

/* ---- outliers ---- */

static void outliers_fit_col(void *ctx, int i) {
  ColTask *k = ctx;
  const float *x = k->t->cols[k->col[i]].f;
  MlprtColFit *cf = &k->f->cols[i];
  double z = k->f->param;
  if (k->f->method == MLPRT_OUTLIER_ZSCORE) {
    Moments m = k->mom[i];
    k->empty[i] = !m.n;
    cf->a = m.mean - z * m.sd;
    cf->b = m.mean + z * m.sd;
  } else {
    double q[3];
    k->empty[i] = !train_quartiles(k->t, x, q);
    cf->a = q[0] - z * (q[2] - q[0]);
    cf->b = q[2] + z * (q[2] - q[0]);
  }
}

/* Run a per-column fit over the fit's columns, after every column's
 * moments when the method needs them (columns in pairs); an error names the
 * first column without training values. */
static int fit_columns_parallel(MlprtTable *t, int *idx, MlprtFit *f, bool moments, Moments *given,
                                void (*fn)(void *, int), MlprtError *err) {
  ColTask k = {t, idx, f, NULL, mlprt_xcalloc((size_t)(f->n ? f->n : 1), sizeof(bool)), given, NULL};
  if (moments && f->n && !given) {
    k.mom = mlprt_xmalloc((size_t)f->n * sizeof *k.mom);
    mlprt_parallel_for((f->n + 1) / 2, 0, moments_pair, &k);
  }
  mlprt_parallel_for(f->n, 0, fn, &k);
  if (!given) free(k.mom);
  for (int i = 0; i < f->n; i++) {
    if (k.empty[i]) {
      int c = idx[i];
      free(k.empty);
      free(idx);
      return no_values(f, t, c, mlprt_step_name(f->kind), err);
    }
  }
  free(k.empty);
  free(idx);
  return 0;
}

int mlprt_outliers_fit(const MlprtTable *t, const MlprtOutlierParams *p, MlprtFit *f, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_NUMERIC, "outliers", &idx, err);
  if (n < 0) return -1;
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!mlprt_cols_contain(p->exempt, t, idx[i])) idx[k++] = idx[i];
  mlprt_fit_init(f, MLPRT_STEP_OUTLIERS, (int)p->method, t, idx, k);
  f->param = p->threshold > 0 ? p->threshold : p->method == MLPRT_OUTLIER_ZSCORE ? 3.0 : 1.5;
  f->flag = p->action == MLPRT_OUTLIER_DROP;
  bool moments = f->method == MLPRT_OUTLIER_ZSCORE;
  return fit_columns_parallel((MlprtTable *)t, idx, f, moments, NULL, outliers_fit_col, err);
}

/* Clip x[0..n) to [lo, hi] except rows kept[] protects; returns the cells
 * changed. Every cell is written, the value or its bound, with no branch;
 * NaN compares false both ways, so it is never an outlier. Inlined with
 * kept a constant NULL, the loop vectorises. */
static inline __attribute__((always_inline)) int64_t clip_rows(float *x, int64_t n, float lo, float hi,
                                                               const uint8_t *kept) {
  int64_t changed = 0;
  for (int64_t r = 0; r < n; r++) {
    float v = x[r];
    bool below = v < lo, above = v > hi, out = (below | above) & !(kept && kept[r]);
    x[r] = out ? (below ? lo : hi) : v;
    changed += out;
  }
  return changed;
}

static void clip_col(void *ctx, int i) {
  ColTask *k = ctx;
  float *x = k->t->cols[k->col[i]].f;
  MlprtColFit *cf = &k->f->cols[i];
  float lo = (float)cf->a, hi = (float)cf->b;
  int64_t n = k->t->nrows;
  cf->changed = k->kept ? clip_rows(x, n, lo, hi, k->kept) : clip_rows(x, n, lo, hi, NULL);
}

int mlprt_outliers_apply_keep(MlprtTable *t, MlprtFit *f, const MlprtOutlierParams *p, MlprtError *err) {
  int *col = fit_columns(t, f, err);
  if (!col) return -1;
  uint8_t *kept = NULL; /* rows the predicate protects */
  if (p && p->keep) {
    kept = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1));
    for (int64_t r = 0; r < t->nrows; r++) kept[r] = p->keep(t, r, p->keep_ctx);
  }
  if (!f->flag) {
    ColTask k = {t, col, f, kept, NULL, NULL, NULL};
    mlprt_parallel_for(f->n, 0, clip_col, &k);
  } else {
    /* dropping: one keep mask, filled column after column */
    uint8_t *keep = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1));
    memset(keep, 1, (size_t)t->nrows);
    for (int i = 0; i < f->n; i++) {
      const float *x = t->cols[col[i]].f;
      MlprtColFit *cf = &f->cols[i];
      float lo = (float)cf->a, hi = (float)cf->b;
      for (int64_t r = 0; r < t->nrows; r++) {
        if (!(x[r] < lo || x[r] > hi) || (kept && kept[r])) continue;
        cf->changed++;
        if (keep[r]) cf->dropped++;
        keep[r] = 0;
      }
    }
    mlprt_table_filter(t, keep);
    free(keep);
  }
  free(kept);
  free(col);
  return 0;
}

/* ---- scaling ---- */

static void scale_fit_col(void *ctx, int i) {
  ColTask *k = ctx;
  MlprtColFit *cf = &k->f->cols[i];
  cf->a = 0, cf->b = 1;
  if (k->f->method == MLPRT_SCALE_LOG1P) return;
  if (k->f->method == MLPRT_SCALE_ROBUST) {
    double q[3];
    k->empty[i] = !train_quartiles(k->t, k->t->cols[k->col[i]].f, q);
    cf->a = q[1], cf->b = q[2] - q[0];
  } else {
    Moments m = k->mom[i];
    k->empty[i] = !m.n;
    if (k->f->method == MLPRT_SCALE_STANDARD) cf->a = m.mean, cf->b = m.sd;
    else cf->a = m.min, cf->b = m.max - m.min;
  }
  if (!(cf->b > 0)) cf->b = 1; /* a constant column: centre only */
}

/* Min-max onto [low, high]: low + (x - min) (high - low) / (max - min) is
 * again (x - a) / b, so every consumer of the fit applies it unchanged. */
static void scale_onto(MlprtFit *f, double low, double high) {
  double span = high - low;
  if (f->method != MLPRT_SCALE_MINMAX || span == 0 || (low == 0 && high == 1)) return;
  for (int i = 0; i < f->n; i++) {
    MlprtColFit *cf = &f->cols[i];
    cf->b /= span;
    cf->a -= low * cf->b;
  }
}

int mlprt_scale_fit(const MlprtTable *t, const MlprtScaleParams *p, MlprtFit *f, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_NUMERIC, "scale", &idx, err);
  if (n < 0) return -1;
  mlprt_fit_init(f, MLPRT_STEP_SCALE, (int)p->method, t, idx, n);
  bool moments = f->method == MLPRT_SCALE_STANDARD || f->method == MLPRT_SCALE_MINMAX;
  if (fit_columns_parallel((MlprtTable *)t, idx, f, moments, NULL, scale_fit_col, err) != 0) return -1;
  scale_onto(f, p->low, p->high);
  return 0;
}

/* ---- a scale fitted chunk by chunk ---- */

MlprtFitStream *mlprt_scale_stream(const MlprtTable *t, const MlprtScaleParams *p, MlprtError *err) {
  if (p->method == MLPRT_SCALE_ROBUST) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "robust_scale's quartiles need every training row at once");
    return NULL;
  }
  MlprtFitStream *fs = mlprt_xcalloc(1, sizeof *fs);
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_NUMERIC, "scale", &fs->idx, err);
  if (n < 0) {
    free(fs);
    return NULL;
  }
  mlprt_fit_init(&fs->f, MLPRT_STEP_SCALE, (int)p->method, t, fs->idx, n);
  mlprt_table_like(&fs->layout, t);
  fs->sums = mlprt_xcalloc((size_t)(n ? n : 1), sizeof *fs->sums);
  fs->low = p->low, fs->high = p->high;
  return fs;
}

void mlprt_scale_stream_add(MlprtFitStream *fs, const MlprtTable *t) {
  bool minmax = fs->f.method == MLPRT_SCALE_MINMAX;
  for (int i = 0; i < fs->f.n && fs->f.method != MLPRT_SCALE_LOG1P; i += 2) {
    MlprtRunSums spare = {0}, *acc[2] = {&fs->sums[i], i + 1 < fs->f.n ? &fs->sums[i + 1] : &spare};
    const float *xa = t->cols[fs->idx[i]].f, *xb = i + 1 < fs->f.n ? t->cols[fs->idx[i + 1]].f : xa;
    if (minmax) moments_add2(t, xa, xb, true, acc);
    else moments_add2(t, xa, xb, false, acc);
  }
}

int mlprt_scale_stream_close(MlprtFitStream *fs, MlprtError *err) {
  MlprtFit *f = &fs->f;
  Moments *mom = mlprt_xmalloc((size_t)(f->n ? f->n : 1) * sizeof *mom);
  for (int i = 0; i < f->n; i++) mom[i] = moments_of(&fs->sums[i]);
  bool moments = f->method != MLPRT_SCALE_LOG1P;
  int rc = fit_columns_parallel(&fs->layout, fs->idx, f, moments, mom, scale_fit_col, err);
  fs->idx = NULL; /* fit_columns_parallel took it */
  free(mom);
  if (rc == 0) scale_onto(f, fs->low, fs->high);
  return rc;
}

static void scale_col(void *ctx, int i) {
  ColTask *k = ctx;
  MlprtColumn *c = &k->t->cols[k->col[i]];
  MlprtColFit *cf = &k->f->cols[i];
  float *x = c->f;
  int64_t n = k->t->nrows, changed = 0;
  c->type = MLPRT_COL_FLOAT;
  if (k->f->method == MLPRT_SCALE_LOG1P) {
    for (int64_t r = 0; r < n; r++) {
      if (x[r] <= -1) x[r] = NAN, changed++; /* outside log1p's domain */
      else x[r] = log1pf(x[r]);
    }
  } else {
    /* (x - a) / b as a subtract and a multiply; NaN stays NaN, and a
     * finite value must stay finite (v - v is 0 only for finite v) */
    float a = (float)cf->a, inv = (float)(1.0 / cf->b);
    bool lost = false;
    for (int64_t r = 0; r < n; r++) {
      float v = x[r], y = (v - a) * inv;
      lost |= (v - v == 0) & !(y - y == 0);
      x[r] = y;
    }
    k->lost[i] = lost;
  }
  cf->changed = changed;
}

int mlprt_scale_apply(MlprtTable *t, MlprtFit *f, MlprtError *err) {
  int *col = fit_columns(t, f, err);
  if (!col) return -1;
  ColTask k = {t, col, f, NULL, NULL, NULL, mlprt_xcalloc((size_t)(f->n ? f->n : 1), sizeof(bool))};
  mlprt_parallel_for(f->n, 0, scale_col, &k);
  int rc = 0;
  for (int i = 0; i < f->n && !rc; i++) {
    if (!k.lost[i]) continue;
    mlprt_error_set(err, NULL, 0, 0, col[i] + 1, f->cols[i].column,
                    "scale: the fitted centre %.9g and scale %.9g take the column's values beyond a 32-bit "
                    "float (infinity or NaN); its values span too wide a range",
                    f->cols[i].a, f->cols[i].b);
    rc = -1;
  }
  free(k.lost);
  free(col);
  return rc;
}
