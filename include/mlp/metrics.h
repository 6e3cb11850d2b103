/* metrics.h — evaluation metrics beyond the running sums of a pass (step
 * 7): the names analysis.metrics uses (shared with the compiler, which
 * records the spec's choice as bits), ROC AUC by ranks, and each class's
 * precision, recall and F1 from a confusion matrix. */
#ifndef MLP_METRICS_H
#define MLP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

/* The evaluation metrics analysis.metrics names, in the registry's order.
 * ORDER METRIC */
enum {
  MLPRT_METRIC_ACCURACY,
  MLPRT_METRIC_PRECISION,
  MLPRT_METRIC_RECALL,
  MLPRT_METRIC_F1,
  MLPRT_METRIC_AUC,
  MLPRT_METRIC_CONFUSION,
  MLPRT_METRIC_MSE,
  MLPRT_METRIC_RMSE,
  MLPRT_METRIC_MAE,
  MLPRT_METRIC_R2,
  MLPRT_NMETRICS
};
/* The metric's name in the spec and the manifest. */
const char *mlprt_metric_name(int metric);

/* ROC AUC of the scores score[i * stride] of n rows, rows whose label is
 * `positive` against the rest: the Mann-Whitney rank statistic, tied scores
 * sharing their average rank (scikit-learn's roc_auc_score). NaN when
 * either side has no rows. */
double mlprt_roc_auc(const float *score, int64_t stride, const int32_t *label, int32_t positive, int64_t n);
/* The AUC of model outputs out [n, k]: k = 1 is a binary model's P(class
 * 1); else one class against the rest for each class, macro-averaged over
 * the classes present with both sides (scikit-learn's multi_class="ovr"). */
double mlprt_auc(const float *out, int64_t k, const int32_t *label, int nclasses, int64_t n);

/* One class's scores from a confusion matrix [nclasses, nclasses] (true
 * class by row); an empty denominator gives 0 (zero_division=0). */
typedef struct {
  double precision, recall, f1;
  int64_t support; /* rows of the class */
} MlprtClassScores;
MlprtClassScores mlprt_class_scores(const int64_t *confusion, int nclasses, int k);

/* The Brier score of model outputs out [n, k]: k = 1 is a binary model's
 * P(class 1) and the score is the mean of (p - y)^2 (scikit-learn's
 * brier_score_loss); else the mean over rows of the sum over classes of
 * (p_c - [c = label])^2, the multi-class form of Brier's definition. */
double mlprt_brier(const float *out, int64_t k, const int32_t *label, int64_t n);

/* The slice finder: is each slice's error significantly worse than the
 * rest of the rows'? err [n] is each row's error (0 or 1 for a classifier,
 * the absolute error for a regression), slice [n] each row's slice (0 ..
 * nslices - 1, or -1 for none). A classifier's slice is tested by the
 * pooled two-proportion z-test of its error rate against the rest's, a
 * regression's by Welch's t statistic of the mean absolute errors with the
 * normal tail (the slices are at least MLPRT_SLICE_MIN_ROWS rows); both
 * one-sided. A slice is tested when both sides have at least
 * MLPRT_SLICE_MIN_ROWS rows, and flagged when p < MLPRT_SLICE_ALPHA / (all
 * the slices tested, of every call): Bonferroni's correction. */
#define MLPRT_SLICE_MIN_ROWS 30
#define MLPRT_SLICE_ALPHA 0.05
typedef struct {
  int64_t n;       /* rows of the slice */
  double error;    /* its mean error: error rate or mean absolute error */
  double stat, p;  /* the test statistic and its one-sided p-value; NaN when not tested */
  bool flagged;
} MlprtSliceTest;
/* Fills out [nslices] (flagged false); returns the number of slices tested. */
int mlprt_slice_test(const double *err, const int32_t *slice, int64_t n, int nslices, bool rates,
                     MlprtSliceTest *out);
/* Sets each of t [nslices]'s flag for `tested` slices tested in all. */
void mlprt_slice_flag(MlprtSliceTest *t, int nslices, int tested);

#endif
