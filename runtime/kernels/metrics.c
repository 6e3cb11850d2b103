/* metrics.c — evaluation metrics beyond the running sums of a pass (step
 * 7): the metric names analysis.metrics uses, ROC AUC by ranks, and each
 * class's precision, recall and F1 from a confusion matrix, the Brier
 * score and the slice finder's test. Consumes model
 * outputs, labels and counts; produces numbers for the manifest, the
 * console and the report. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "mlp/metrics.h"

const char *mlprt_metric_name(int metric) {
  static const char *const names[MLPRT_NMETRICS] = {"accuracy",  "precision", "recall", "f1",  "auc",
                                                    "confusion", "mse",       "rmse",   "mae", "r2"};
  return metric >= 0 && metric < MLPRT_NMETRICS ? names[metric] : "?";
}

typedef struct {
  float score;
  bool positive;
} Ranked;

static int by_score(const void *a, const void *b) {
  float x = ((const Ranked *)a)->score, y = ((const Ranked *)b)->score;
  return (x > y) - (x < y);
}

double mlprt_roc_auc(const float *score, int64_t stride, const int32_t *label, int32_t positive, int64_t n) {
  Ranked *r = malloc((size_t)(n ? n : 1) * sizeof *r);
  int64_t npos = 0;
  for (int64_t i = 0; i < n; i++) {
    r[i] = (Ranked){score[i * stride], label[i] == positive};
    npos += r[i].positive;
  }
  int64_t nneg = n - npos;
  if (npos == 0 || nneg == 0) {
    free(r);
    return NAN;
  }
  qsort(r, (size_t)n, sizeof *r, by_score);
  /* Mann-Whitney: the positives' rank sum (ranks from 1, a run of ties
   * sharing its average rank) less its least possible value. */
  double ranks = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i, pos = 0;
    while (j < n && r[j].score == r[i].score) pos += r[j++].positive;
    ranks += (double)pos * (double)(i + 1 + j) / 2.0;
    i = j;
  }
  free(r);
  return (ranks - (double)npos * (double)(npos + 1) / 2.0) / ((double)npos * (double)nneg);
}

double mlprt_auc(const float *out, int64_t k, const int32_t *label, int nclasses, int64_t n) {
  if (k == 1) return mlprt_roc_auc(out, 1, label, 1, n);
  double sum = 0;
  int defined = 0;
  for (int c = 0; c < nclasses && c < k; c++) {
    double a = mlprt_roc_auc(out + c, k, label, c, n);
    if (isnan(a)) continue;
    sum += a;
    defined++;
  }
  return defined ? sum / defined : NAN;
}

MlprtClassScores mlprt_class_scores(const int64_t *confusion, int nclasses, int k) {
  MlprtClassScores s = {0};
  int64_t pred = 0;
  for (int j = 0; j < nclasses; j++) {
    pred += confusion[j * nclasses + k];
    s.support += confusion[k * nclasses + j];
  }
  int64_t tp = confusion[k * nclasses + k];
  s.precision = pred ? (double)tp / (double)pred : 0;
  s.recall = s.support ? (double)tp / (double)s.support : 0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  return s;
}

double mlprt_brier(const float *out, int64_t k, const int32_t *label, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; i++) {
    if (k == 1) {
      double d = (double)out[i] - (label[i] == 1);
      sum += d * d;
      continue;
    }
    for (int64_t c = 0; c < k; c++) {
      double d = (double)out[i * k + c] - (label[i] == c);
      sum += d * d;
    }
  }
  return n ? sum / (double)n : NAN;
}

int mlprt_slice_test(const double *err, const int32_t *slice, int64_t n, int nslices, bool rates,
                     MlprtSliceTest *out) {
  double *sum = calloc((size_t)nslices + 1, sizeof *sum), *sq = calloc((size_t)nslices + 1, sizeof *sq);
  double all = 0, allsq = 0;
  for (int s = 0; s < nslices; s++) out[s] = (MlprtSliceTest){0, NAN, NAN, NAN, false};
  for (int64_t i = 0; i < n; i++) {
    all += err[i];
    allsq += err[i] * err[i];
    if (slice[i] < 0 || slice[i] >= nslices) continue;
    out[slice[i]].n++;
    sum[slice[i]] += err[i];
    sq[slice[i]] += err[i] * err[i];
  }
  int tested = 0;
  for (int s = 0; s < nslices; s++) {
    int64_t a = out[s].n, b = n - a;
    if (a > 0) out[s].error = sum[s] / (double)a;
    if (a < MLPRT_SLICE_MIN_ROWS || b < MLPRT_SLICE_MIN_ROWS) continue;
    double ma = sum[s] / (double)a, mb = (all - sum[s]) / (double)b, se;
    if (rates) {
      double pool = all / (double)n;
      se = sqrt(pool * (1 - pool) * (1.0 / (double)a + 1.0 / (double)b));
    } else {
      double va = (sq[s] - (double)a * ma * ma) / (double)(a - 1);
      double vb = (allsq - sq[s] - (double)b * mb * mb) / (double)(b - 1);
      se = sqrt(fmax(va, 0) / (double)a + fmax(vb, 0) / (double)b);
    }
    out[s].stat = se > 0 ? (ma - mb) / se : 0;
    out[s].p = 0.5 * erfc(out[s].stat / sqrt(2.0));
    tested++;
  }
  free(sum);
  free(sq);
  return tested;
}

void mlprt_slice_flag(MlprtSliceTest *t, int nslices, int tested) {
  for (int s = 0; s < nslices; s++)
    t[s].flagged = !isnan(t[s].p) && t[s].p < MLPRT_SLICE_ALPHA / (double)tested;
}
