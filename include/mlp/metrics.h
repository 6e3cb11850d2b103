/* metrics.h — evaluation metrics beyond the running sums of a pass (step
 * 7): the names analysis.metrics uses (shared with the compiler, which
 * records the spec's choice as bits), ROC AUC by ranks, and each class's
 * precision, recall and F1 from a confusion matrix. */
#ifndef MLP_METRICS_H
#define MLP_METRICS_H

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

#endif
