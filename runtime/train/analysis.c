/* analysis.c — the error analysis of the kept model on the tested split
 * (step 7): the rows of largest loss with their place in the source, the
 * metrics by slice with the slice finder's verdicts (metrics.c's test),
 * permutation importance per source column, the Brier score,
 * calibration curve and ROC and precision-recall curves of a classifier, the residuals and error by target
 * range of a regression. Consumes the dataset, the model's outputs on that
 * split and a way to run the model on other rows; produces the manifest's
 * "analysis" object, which the report draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/tensor.h"
#include "train_int.h"

enum {
  CALIBRATION_BINS = 10,
  QUANTILE_BINS = 4,
  RANGE_BINS = 5,
  IMPORTANCE_REPEATS = 5,
  RESIDUAL_POINTS = 200,
  CURVE_POINTS = 200,
  FEW_VALUES = 10 /* a number column of at most this many values is sliced by value */
};

/* The class a row's outputs predict. */
static int32_t predicted(const float *o, int64_t K) {
  if (K == 1) return o[0] >= 0.5f;
  int32_t best = 0;
  for (int64_t k = 1; k < K; k++)
    if (o[k] > o[best]) best = (int32_t)k;
  return best;
}

/* A regression output in the target's own units. */
static double value_of(const MlprtDataset *d, const float *o) { return o[0] * d->y_std + d->y_mean; }

/* Each row's error for the slice finder: wrong or right, or the absolute error. */
static double row_error(const MlprtDataset *d, const float *o, int64_t i, bool classify) {
  int s = d->raw_split;
  if (classify) return predicted(o, d->K) != d->label[s][i];
  return fabs(value_of(d, o) - d->target[s][i]);
}

typedef struct {
  double key;
  int64_t i;
} Keyed;

static int by_key_desc(const void *a, const void *b) {
  double x = ((const Keyed *)a)->key, y = ((const Keyed *)b)->key;
  if (x != y) return (x < y) - (x > y);
  return (((const Keyed *)a)->i > ((const Keyed *)b)->i) - (((const Keyed *)a)->i < ((const Keyed *)b)->i);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* What a row's outputs say, as text: the class name or the value. */
static cJSON *prediction_json(const MlprtDataset *d, const float *o, bool classify) {
  if (classify) return cJSON_CreateString(d->class_names[predicted(o, d->K)]);
  return cJSON_CreateNumber(value_of(d, o));
}

/* analysis.worst: the rows of largest loss, each with its row in the
 * source (and its line, for a CSV file with a header and one line a
 * record), the values as loaded, the prediction and the truth. */
static cJSON *worst_json(const MlprtAnalysisIn *a, bool classify) {
  const MlprtDataset *d = a->d;
  int s = d->raw_split;
  int64_t n = d->n[s], keep = a->p->worst < n ? a->p->worst : n;
  Keyed *k = malloc((size_t)(n ? n : 1) * sizeof *k);
  for (int64_t i = 0; i < n; i++) k[i] = (Keyed){mlprt_row_loss(a->model, d, a->out + i * d->K, s, i), i};
  qsort(k, (size_t)n, sizeof *k, by_key_desc);
  bool raw = d->raw.nrows == n && d->raw.rowid;
  bool csv = strcmp(a->p->data_format, "csv") == 0;
  cJSON *arr = cJSON_CreateArray();
  char buf[128];
  for (int64_t w = 0; w < keep; w++) {
    int64_t i = k[w].i;
    cJSON *o = cJSON_CreateObject();
    if (raw) {
      cJSON_AddNumberToObject(o, "row", (double)d->raw.rowid[i]);
      if (csv) cJSON_AddNumberToObject(o, "line", (double)(d->raw.rowid[i] + (a->p->no_header ? 0 : 1)));
      cJSON *vals = cJSON_AddObjectToObject(o, "values");
      for (int c = 0; c < d->raw.ncols; c++) {
        const char *v = mlprt_cell_str(&d->raw, c, i, buf, sizeof buf);
        cJSON_AddItemToObject(vals, d->raw.cols[c].name, v ? cJSON_CreateString(v) : cJSON_CreateNull());
      }
    } else {
      cJSON_AddNumberToObject(o, "index", (double)i);
    }
    cJSON_AddItemToObject(o, "prediction", prediction_json(d, a->out + i * d->K, classify));
    if (classify)
      cJSON_AddStringToObject(o, "truth", d->class_names[d->label[s][i]]);
    else
      cJSON_AddNumberToObject(o, "truth", d->target[s][i]);
    cJSON_AddNumberToObject(o, "loss", k[w].key);
    cJSON_AddItemToArray(arr, o);
  }
  free(k);
  return arr;
}

/* The numeric value of a cell for quantile bins (NaN when missing). */
static double numeric_cell(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_DATETIME) return c->t[r] == MLPRT_TIME_NA ? NAN : (double)c->t[r];
  return c->f[r];
}

/* Does a numeric column hold at most FEW_VALUES distinct numbers? */
static bool few_numbers(const MlprtColumn *c, int64_t n) {
  if (c->type != MLPRT_COL_FLOAT && c->type != MLPRT_COL_INT) return false;
  double seen[FEW_VALUES];
  int k = 0;
  for (int64_t r = 0; r < n; r++) {
    if (isnan(c->f[r])) continue;
    int j = 0;
    while (j < k && seen[j] != c->f[r]) j++;
    if (j < k) continue;
    if (k == FEW_VALUES) return false;
    seen[k++] = c->f[r];
  }
  return true;
}

/* One column's slices: each row's slice into slice [n], the slices' names
 * into names (owned), their count returned. Categories, booleans, text and
 * numbers of at most FEW_VALUES values by value; other numbers and dates by
 * QUANTILE_BINS quantile bins of the tested rows; missing values are a
 * slice of their own. */
static int column_slices(const MlprtTable *t, int col, int32_t *slice, char ***names) {
  const MlprtColumn *c = &t->cols[col];
  int64_t n = t->nrows;
  int ns = 0;
  char **nm = NULL;
  if (c->type == MLPRT_COL_CATEGORY || c->type == MLPRT_COL_TEXT || c->type == MLPRT_COL_BOOL ||
      few_numbers(c, n)) {
    MlprtLevels lv = {0};
    char buf[32];
    for (int64_t r = 0; r < n; r++) {
      const char *v = mlprt_cell_str(t, col, r, buf, sizeof buf);
      slice[r] = v ? mlprt_levels_intern(&lv, v, strlen(v)) : -2;
    }
    ns = lv.n;
    nm = malloc((size_t)(ns + 1) * sizeof *nm);
    for (int i = 0; i < ns; i++) nm[i] = strdup(lv.names[i]);
    mlprt_levels_free(&lv);
  } else {
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v), edge[QUANTILE_BINS];
    int64_t m = 0;
    for (int64_t r = 0; r < n; r++)
      if (!isnan(numeric_cell(c, r))) v[m++] = numeric_cell(c, r);
    qsort(v, (size_t)m, sizeof *v, cmp_double);
    int ne = 0;
    for (int q = 1; q < QUANTILE_BINS && m > 0; q++) {
      double e = v[(int64_t)((double)q * (double)m / QUANTILE_BINS)];
      if (e > v[0] && (ne == 0 || e > edge[ne - 1])) edge[ne++] = e;
    }
    free(v);
    ns = ne + 1;
    nm = malloc((size_t)(ns + 1) * sizeof *nm);
    for (int b = 0; b < ns; b++) {
      char s[96];
      if (ne == 0)
        snprintf(s, sizeof s, "all");
      else if (b == 0)
        snprintf(s, sizeof s, "< %.6g", edge[0]);
      else if (b == ne)
        snprintf(s, sizeof s, ">= %.6g", edge[ne - 1]);
      else
        snprintf(s, sizeof s, "[%.6g, %.6g)", edge[b - 1], edge[b]);
      nm[b] = strdup(s);
    }
    for (int64_t r = 0; r < n; r++) {
      double x = numeric_cell(c, r);
      int b = 0;
      while (b < ne && x >= edge[b]) b++;
      slice[r] = isnan(x) ? -2 : b;
    }
  }
  bool missing = false;
  for (int64_t r = 0; r < n; r++)
    if (slice[r] == -2) {
      slice[r] = ns;
      missing = true;
    }
  if (missing) nm[ns++] = strdup("missing");
  *names = nm;
  return ns;
}

typedef struct {
  int col;
  char *level;
  MlprtSliceTest t;
} Slice;

static int by_p(const void *a, const void *b) {
  const MlprtSliceTest *x = &((const Slice *)a)->t, *y = &((const Slice *)b)->t;
  if (isnan(x->p) != isnan(y->p)) return isnan(x->p) ? 1 : -1;
  if (!isnan(x->p) && x->p != y->p) return (x->p > y->p) - (x->p < y->p);
  return (x->error < y->error) - (x->error > y->error);
}

/* analysis.slices: every level or bin of each listed column with its rows
 * and metric, ranked by the slice finder's p-value, the significantly
 * worse ones flagged. NULL with a message when a column is not loaded. */
static cJSON *slices_json(const MlprtAnalysisIn *a, const double *err, bool classify, char *msg, size_t mn) {
  const MlprtDataset *d = a->d;
  const MlprtTable *t = &d->raw;
  int64_t n = d->n[d->raw_split];
  if (t->nrows != n) {
    snprintf(msg, mn, "analysis.slices needs a table source: the rows of IDX images have no columns");
    return NULL;
  }
  int32_t *slice = malloc((size_t)(n ? n : 1) * sizeof *slice);
  Slice *all = NULL;
  int nall = 0, tested = 0;
  for (const char *s = a->p->slices, *nl; s && (nl = strchr(s, '\n')); s = nl + 1) {
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(nl - s), s);
    int col = mlprt_table_find(t, name);
    if (col < 0) {
      snprintf(msg, mn, "analysis.slices: no column '%s' in the data as loaded", name);
      for (int i = 0; i < nall; i++) free(all[i].level);
      free(all);
      free(slice);
      return NULL;
    }
    char **names;
    int ns = column_slices(t, col, slice, &names);
    MlprtSliceTest *res = malloc((size_t)ns * sizeof *res);
    tested += mlprt_slice_test(err, slice, n, ns, classify, res);
    all = realloc(all, (size_t)(nall + ns) * sizeof *all);
    for (int i = 0; i < ns; i++) all[nall++] = (Slice){col, names[i], res[i]};
    free(names);
    free(res);
  }
  free(slice);
  for (int i = 0; i < nall; i++) mlprt_slice_flag(&all[i].t, 1, tested);
  qsort(all, (size_t)nall, sizeof *all, by_p);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(
      o, "test",
      classify ? "one-sided pooled two-proportion z-test of the slice's error rate against "
                 "the other rows', Bonferroni-corrected"
               : "one-sided Welch t statistic (normal tail) of the slice's mean absolute error "
                 "against the other rows', Bonferroni-corrected");
  cJSON_AddNumberToObject(o, "alpha", MLPRT_SLICE_ALPHA);
  cJSON_AddNumberToObject(o, "min_rows", MLPRT_SLICE_MIN_ROWS);
  cJSON_AddNumberToObject(o, "tested", tested);
  cJSON *arr = cJSON_AddArrayToObject(o, "slices");
  int flagged = 0;
  for (int i = 0; i < nall; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "column", t->cols[all[i].col].name);
    cJSON_AddStringToObject(e, "level", all[i].level);
    cJSON_AddNumberToObject(e, "rows", (double)all[i].t.n);
    if (all[i].t.n > 0)
      cJSON_AddNumberToObject(e, classify ? "accuracy" : "mae",
                              classify ? 1 - all[i].t.error : all[i].t.error);
    if (!isnan(all[i].t.p)) {
      cJSON_AddNumberToObject(e, "statistic", all[i].t.stat);
      cJSON_AddNumberToObject(e, "p", all[i].t.p);
    }
    cJSON_AddBoolToObject(e, "flagged", all[i].t.flagged);
    flagged += all[i].t.flagged;
    cJSON_AddItemToArray(arr, e);
    free(all[i].level);
  }
  cJSON_AddNumberToObject(o, "flagged", flagged);
  free(all);
  return o;
}

/* The score importance is measured by, higher better: accuracy, or minus
 * the mean absolute error. */
static double score_of(const MlprtDataset *d, const float *out, bool classify) {
  int64_t n = d->n[d->raw_split];
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += row_error(d, out + i * d->K, i, classify);
  return n ? (classify ? 1 - sum / (double)n : -sum / (double)n) : NAN;
}

/* analysis.feature_importance: for each source column, all the features
 * made from it permuted together over the tested rows (the same
 * permutation), IMPORTANCE_REPEATS times with seeds 1.., and the score's
 * mean drop and its standard deviation. */
static cJSON *importance_json(const MlprtAnalysisIn *a, bool classify) {
  const MlprtDataset *d = a->d;
  int s = d->raw_split;
  int64_t n = d->n[s], F = d->F, K = d->K;
  /* x0: the tested rows' features (out of core, read from the cache), x
   * the copy whose columns are permuted */
  float *x0 = malloc((size_t)(n ? n : 1) * (size_t)F * sizeof *x0),
        *x = malloc((size_t)(n ? n : 1) * (size_t)F * sizeof *x),
        *out = malloc((size_t)(n ? n : 1) * (size_t)K * sizeof *out);
  mlprt_dataset_rows(d, s, 0, n, x0);
  memcpy(x, x0, (size_t)n * (size_t)F * sizeof *x);
  int64_t *perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
  bool *mine = malloc((size_t)F), *done = calloc((size_t)F, 1);
  double base = score_of(d, a->out, classify);
  Keyed *order = malloc((size_t)F * sizeof *order);
  double *mean = malloc((size_t)F * sizeof *mean), *sd = malloc((size_t)F * sizeof *sd);
  int ng = 0;
  int64_t *first = malloc((size_t)F * sizeof *first);
  for (int64_t f = 0; f < F; f++) {
    if (done[f]) continue;
    for (int64_t g = 0; g < F; g++) mine[g] = strcmp(d->feature_source[g], d->feature_source[f]) == 0;
    double sum = 0, sq = 0;
    for (int rep = 1; rep <= IMPORTANCE_REPEATS; rep++) {
      for (int64_t i = 0; i < n; i++) perm[i] = i;
      for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = mlprt_rng_u32((uint64_t)rep, (uint64_t)f, (uint64_t)i) % (uint64_t)(i + 1);
        int64_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
      }
      for (int64_t i = 0; i < n; i++)
        for (int64_t g = 0; g < F; g++)
          if (mine[g]) x[i * F + g] = x0[perm[i] * F + g];
      a->predict(a->ctx, x, n, out);
      double drop = base - score_of(d, out, classify);
      sum += drop;
      sq += drop * drop;
    }
    for (int64_t g = 0; g < F; g++)
      if (mine[g]) {
        done[g] = true;
        for (int64_t i = 0; i < n; i++) x[i * F + g] = x0[i * F + g];
      }
    mean[ng] = sum / IMPORTANCE_REPEATS;
    sd[ng] = sqrt(fmax(sq / IMPORTANCE_REPEATS - mean[ng] * mean[ng], 0) * IMPORTANCE_REPEATS /
                  (IMPORTANCE_REPEATS - 1));
    first[ng] = f;
    order[ng] = (Keyed){mean[ng], ng};
    ng++;
  }
  qsort(order, (size_t)ng, sizeof *order, by_key_desc);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "score", classify ? "accuracy" : "mean absolute error");
  cJSON_AddNumberToObject(o, "baseline_score", classify ? base : -base);
  cJSON_AddNumberToObject(o, "repeats", IMPORTANCE_REPEATS);
  cJSON *arr = cJSON_AddArrayToObject(o, "columns");
  for (int i = 0; i < ng; i++) {
    int gi = (int)order[i].i;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "column", d->feature_source[first[gi]]);
    int64_t nf = 0;
    for (int64_t g = 0; g < F; g++) nf += strcmp(d->feature_source[g], d->feature_source[first[gi]]) == 0;
    cJSON_AddNumberToObject(e, "features", (double)nf);
    cJSON_AddNumberToObject(e, "mean", mean[gi]);
    cJSON_AddNumberToObject(e, "std", sd[gi]);
    cJSON_AddItemToArray(arr, e);
  }
  free(first);
  free(mean);
  free(sd);
  free(order);
  free(mine);
  free(done);
  free(perm);
  free(out);
  free(x);
  free(x0);
  return o;
}

/* A point list [[x, y], ...] of at most CURVE_POINTS of the m points
 * (evenly spaced, the last kept). */
static cJSON *points_json(const double *x, const double *y, int64_t m) {
  cJSON *arr = cJSON_CreateArray();
  int64_t step = (m + CURVE_POINTS - 1) / CURVE_POINTS;
  for (int64_t i = 0; i < m; i++)
    if (i % step == 0 || i == m - 1) {
      double xy[2] = {x[i], y[i]};
      cJSON_AddItemToArray(arr, cJSON_CreateDoubleArray(xy, 2));
    }
  return arr;
}

/* The ROC and precision-recall curves of the scores score[i * stride],
 * rows of class `pos` against the rest, a point at each distinct score:
 * the AUC (metrics.c) and the average precision, the sum over those
 * thresholds of the rise in recall times the precision (scikit-learn's
 * average_precision_score). NULL when either side has no rows. */
static cJSON *class_curves(const float *score, int64_t stride, const int32_t *label, int32_t pos, int64_t n,
                           const char *name) {
  Keyed *k = malloc((size_t)(n ? n : 1) * sizeof *k);
  int64_t P = 0;
  for (int64_t i = 0; i < n; i++) {
    k[i] = (Keyed){score[i * stride], i};
    P += label[i] == pos;
  }
  if (P == 0 || P == n) {
    free(k);
    return NULL;
  }
  qsort(k, (size_t)n, sizeof *k, by_key_desc);
  double *fpr = malloc((size_t)(n + 1) * sizeof *fpr), *tpr = malloc((size_t)(n + 1) * sizeof *tpr);
  double *rec = malloc((size_t)n * sizeof *rec), *prec = malloc((size_t)n * sizeof *prec);
  int64_t tp = 0, fp = 0, m = 1, q = 0;
  double ap = 0, last_recall = 0;
  fpr[0] = tpr[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    if (label[k[i].i] == pos)
      tp++;
    else
      fp++;
    if (i + 1 < n && k[i + 1].key == k[i].key) continue;
    fpr[m] = (double)fp / (double)(n - P);
    tpr[m++] = (double)tp / (double)P;
    rec[q] = (double)tp / (double)P;
    prec[q] = (double)tp / (double)(tp + fp);
    ap += (rec[q] - last_recall) * prec[q];
    last_recall = rec[q++];
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "class", name);
  cJSON_AddNumberToObject(o, "auc", mlprt_roc_auc(score, stride, label, pos, n));
  cJSON_AddNumberToObject(o, "average_precision", ap);
  cJSON_AddItemToObject(o, "roc", points_json(fpr, tpr, m));
  cJSON_AddItemToObject(o, "pr", points_json(rec, prec, q));
  free(fpr);
  free(tpr);
  free(rec);
  free(prec);
  free(k);
  return o;
}

/* ROC and precision-recall curves: a binary model's for class 1, else one
 * class against the rest for each class. */
static cJSON *curves_json(const MlprtAnalysisIn *a) {
  const MlprtDataset *d = a->d;
  int s = d->raw_split;
  cJSON *arr = cJSON_CreateArray();
  for (int c = d->K == 1 ? 1 : 0; c < (d->K == 1 ? 2 : d->K); c++) {
    cJSON *one = class_curves(a->out + (d->K == 1 ? 0 : c), d->K, d->label[s], c, d->n[s], d->class_names[c]);
    if (one) cJSON_AddItemToArray(arr, one);
  }
  return arr;
}

/* The Brier score and a calibration curve: a binary model's P(class 1)
 * against the share of class 1, else the top class's probability against
 * accuracy, in CALIBRATION_BINS equal bins of [0, 1] (a probability on a
 * bin's upper edge belongs to it, as in scikit-learn's calibration_curve);
 * empty bins are left out. */
static void calibration_json(const MlprtAnalysisIn *a, cJSON *o) {
  const MlprtDataset *d = a->d;
  int s = d->raw_split;
  int64_t n = d->n[s], K = d->K;
  cJSON_AddNumberToObject(o, "brier", mlprt_brier(a->out, K, d->label[s], n));
  double conf[CALIBRATION_BINS] = {0}, hits[CALIBRATION_BINS] = {0};
  int64_t cnt[CALIBRATION_BINS] = {0};
  for (int64_t i = 0; i < n; i++) {
    const float *r = a->out + i * K;
    int32_t k = predicted(r, K);
    double p = K == 1 ? r[0] : r[k];
    double hit = K == 1 ? d->label[s][i] == 1 : k == d->label[s][i];
    int b = 0;
    while (b < CALIBRATION_BINS - 1 && p > (double)(b + 1) / CALIBRATION_BINS) b++;
    conf[b] += p;
    hits[b] += hit;
    cnt[b]++;
  }
  cJSON *cal = cJSON_AddObjectToObject(o, "calibration");
  cJSON_AddStringToObject(
      cal, "of",
      K == 1 ? "P(class 1) against the share of class 1" : "the top class's probability against accuracy");
  cJSON *bins = cJSON_AddArrayToObject(cal, "bins");
  for (int b = 0; b < CALIBRATION_BINS; b++) {
    if (!cnt[b]) continue;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "predicted", conf[b] / (double)cnt[b]);
    cJSON_AddNumberToObject(e, "observed", hits[b] / (double)cnt[b]);
    cJSON_AddNumberToObject(e, "rows", (double)cnt[b]);
    cJSON_AddItemToArray(bins, e);
  }
}

/* A regression's residuals (truth - prediction): their mean and spread, a
 * sample of (prediction, residual) points for the plot, and the error by
 * RANGE_BINS quantile ranges of the truth. */
static void residuals_json(const MlprtAnalysisIn *a, cJSON *o) {
  const MlprtDataset *d = a->d;
  int s = d->raw_split;
  int64_t n = d->n[s];
  double sum = 0, sq = 0;
  Keyed *byt = malloc((size_t)(n ? n : 1) * sizeof *byt);
  cJSON *res = cJSON_AddObjectToObject(o, "residuals");
  cJSON *pts = cJSON_CreateArray();
  for (int64_t i = 0; i < n; i++) {
    double pr = value_of(d, a->out + i), e = d->target[s][i] - pr;
    sum += e;
    sq += e * e;
    byt[i] = (Keyed){-d->target[s][i], i};
    if (i < RESIDUAL_POINTS) {
      double xy[2] = {pr, e};
      cJSON_AddItemToArray(pts, cJSON_CreateDoubleArray(xy, 2));
    }
  }
  double mean = n ? sum / (double)n : NAN;
  cJSON_AddNumberToObject(res, "mean", mean);
  cJSON_AddNumberToObject(res, "std", n > 1 ? sqrt(fmax(sq / (double)n - mean * mean, 0)) : 0);
  cJSON_AddItemToObject(res, "points", pts);
  /* ascending truth: the keys are negated for the descending sort */
  qsort(byt, (size_t)n, sizeof *byt, by_key_desc);
  cJSON *ranges = cJSON_AddArrayToObject(o, "error_by_target_range");
  for (int b = 0; b < RANGE_BINS && n > 0; b++) {
    int64_t lo = b * n / RANGE_BINS, hi = (b + 1) * n / RANGE_BINS;
    if (hi <= lo) continue;
    double ae = 0, re = 0;
    for (int64_t j = lo; j < hi; j++) {
      int64_t i = byt[j].i;
      double e = d->target[s][i] - value_of(d, a->out + i);
      ae += fabs(e);
      re += e;
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "from", -byt[lo].key);
    cJSON_AddNumberToObject(e, "to", -byt[hi - 1].key);
    cJSON_AddNumberToObject(e, "rows", (double)(hi - lo));
    cJSON_AddNumberToObject(e, "mae", ae / (double)(hi - lo));
    cJSON_AddNumberToObject(e, "mean_residual", re / (double)(hi - lo));
    cJSON_AddItemToArray(ranges, e);
  }
  free(byt);
}

cJSON *mlprt_analysis_json(const MlprtAnalysisIn *a, char *err, size_t errn) {
  const MlprtDataset *d = a->d;
  bool classify = a->model->task != MLPRT_TASK_REGRESSION;
  int64_t n = d->n[d->raw_split];
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "split", d->raw_split == MLPRT_TEST ? "test" : "validation");
  cJSON_AddNumberToObject(o, "rows", (double)n);
  if (classify) {
    calibration_json(a, o);
    cJSON_AddItemToObject(o, "curves", curves_json(a));
  } else {
    residuals_json(a, o);
  }
  if (a->p->worst > 0) cJSON_AddItemToObject(o, "worst", worst_json(a, classify));
  if (a->p->slices) {
    double *e = malloc((size_t)(n ? n : 1) * sizeof *e);
    for (int64_t i = 0; i < n; i++) e[i] = row_error(d, a->out + i * d->K, i, classify);
    cJSON *sl = slices_json(a, e, classify, err, errn);
    free(e);
    if (!sl) {
      cJSON_Delete(o);
      return NULL;
    }
    cJSON_AddItemToObject(o, "slices", sl);
  }
  if (a->p->feature_importance) {
    if (!d->feature_source || d->pixels) {
      snprintf(err, errn, "analysis.feature_importance needs a table source: IDX images have no columns");
      cJSON_Delete(o);
      return NULL;
    }
    cJSON_AddItemToObject(o, "feature_importance", importance_json(a, classify));
  }
  return o;
}
