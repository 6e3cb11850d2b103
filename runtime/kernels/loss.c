/* loss.c — losses with their gradients: softmax cross-entropy (label
 * smoothing, class weights; fused with the softmax backward), binary
 * cross-entropy on logits, MSE, MAE, Huber, multi-class and binary hinge.
 * Consumes predictions and targets; produces the mean loss and the gradient
 * with respect to the predictions (see include/mlp/loss.h). */
#include "mlp/loss.h"

#include <math.h>

#include "mlp/tensor.h"

static void check_pred(const float *pred, const void *target, int B, int D) {
  MLPRT_CHECK(B > 0 && D > 0, "loss dims B=%d D=%d", B, D);
  MLPRT_CHECK(pred != NULL && target != NULL, "loss predictions or targets are NULL");
}

/* The loss of sample i, in PyTorch's formulation with weights w (1 without):
 *   l_i = (1-e) w_y (-log p_y) + (e/C) sum_c w_c (-log p_c),
 * and mean = sum_i l_i / sum_i w_{y_i}. Its gradient in logit j is
 *   ((1-e) w_y (p_j - [j=y]) + (e/C) (p_j sum_c w_c - w_j)) / sum_i w_{y_i}. */
float mlprt_softmax_xent(float *dlogits, float *probs, const float *logits, const int32_t *labels,
                         const float *class_weight, float smoothing, int B, int C) {
  check_pred(logits, labels, B, C);
  MLPRT_CHECK(smoothing >= 0.0f && smoothing < 1.0f, "label smoothing %g outside [0, 1)", (double)smoothing);
  double wsum_classes = 0.0, norm = 0.0, total = 0.0;
  for (int c = 0; c < C; c++) {
    double w = class_weight ? class_weight[c] : 1.0;
    MLPRT_CHECK(w >= 0.0, "class weight %g of class %d is negative", w, c);
    wsum_classes += w;
  }
  for (int b = 0; b < B; b++) {
    MLPRT_CHECK(labels[b] >= 0 && labels[b] < C, "label %d of sample %d outside [0, %d)", labels[b], b, C);
    norm += class_weight ? class_weight[labels[b]] : 1.0;
  }
  MLPRT_CHECK(norm > 0.0, "the labels' class weights sum to zero");
  double eps_c = (double)smoothing / C;
  for (int b = 0; b < B; b++) {
    const float *z = logits + (size_t)b * C;
    int y = labels[b];
    float mx = z[0];
    for (int c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
    double se = 0.0;
    for (int c = 0; c < C; c++) se += exp((double)(z[c] - mx));
    double lse = mx + log(se); /* log sum exp z; -log p_c = lse - z_c */
    double wy = class_weight ? class_weight[y] : 1.0;
    double l = (1.0 - smoothing) * wy * (lse - z[y]);
    if (smoothing > 0.0f)
      for (int c = 0; c < C; c++) l += eps_c * (class_weight ? class_weight[c] : 1.0) * (lse - z[c]);
    total += l;
    if (!dlogits && !probs) continue;
    for (int c = 0; c < C; c++) {
      double p = exp(z[c] - lse);
      if (probs) probs[(size_t)b * C + c] = (float)p;
      if (!dlogits) continue;
      double wc = class_weight ? class_weight[c] : 1.0;
      double g = (1.0 - smoothing) * wy * (p - (c == y)) + eps_c * (p * wsum_classes - wc);
      dlogits[(size_t)b * C + c] = (float)(g / norm);
    }
  }
  return (float)(total / norm);
}

float mlprt_bce_logits(float *dlogits, const float *logits, const float *targets, int B, int D) {
  check_pred(logits, targets, B, D);
  size_t n = (size_t)B * D;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double z = logits[i], y = targets[i];
    MLPRT_CHECK(y >= 0.0 && y <= 1.0, "BCE target %g at %zu outside [0, 1]", y, i);
    double e = exp(-fabs(z)); /* in (0, 1]: never overflows */
    total += (z > 0.0 ? z : 0.0) - z * y + log1p(e);
    if (dlogits) {
      double sig = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      dlogits[i] = (float)((sig - y) / (double)n);
    }
  }
  return (float)(total / (double)n);
}

float mlprt_mse(float *dpred, const float *pred, const float *target, int B, int D) {
  check_pred(pred, target, B, D);
  size_t n = (size_t)B * D;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)pred[i] - target[i];
    total += d * d;
    if (dpred) dpred[i] = (float)(2.0 * d / (double)n);
  }
  return (float)(total / (double)n);
}

float mlprt_mae(float *dpred, const float *pred, const float *target, int B, int D) {
  check_pred(pred, target, B, D);
  size_t n = (size_t)B * D;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)pred[i] - target[i];
    total += fabs(d);
    if (dpred) dpred[i] = (float)((d > 0.0) - (d < 0.0)) / (float)n;
  }
  return (float)(total / (double)n);
}

float mlprt_huber(float *dpred, const float *pred, const float *target, int B, int D, float delta) {
  check_pred(pred, target, B, D);
  MLPRT_CHECK(delta > 0.0f, "Huber delta %g must be positive", (double)delta);
  size_t n = (size_t)B * D;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)pred[i] - target[i], a = fabs(d);
    total += a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
    if (dpred) {
      double g = a < delta ? d : (d > 0.0 ? delta : -(double)delta);
      dpred[i] = (float)(g / (double)n);
    }
  }
  return (float)(total / (double)n);
}

float mlprt_hinge_multiclass(float *dlogits, const float *logits, const int32_t *labels, int B, int C,
                             float margin) {
  check_pred(logits, labels, B, C);
  MLPRT_CHECK(margin >= 0.0f, "hinge margin %g is negative", (double)margin);
  double total = 0.0, scale = 1.0 / ((double)B * C);
  for (int b = 0; b < B; b++) {
    const float *z = logits + (size_t)b * C;
    float *g = dlogits ? dlogits + (size_t)b * C : NULL;
    int y = labels[b];
    MLPRT_CHECK(y >= 0 && y < C, "label %d of sample %d outside [0, %d)", y, b, C);
    int active = 0;
    for (int c = 0; c < C; c++) {
      double m = c == y ? 0.0 : (double)margin - z[y] + z[c];
      if (g) g[c] = 0.0f;
      if (m <= 0.0) continue;
      total += m;
      active++;
      if (g) g[c] = (float)scale;
    }
    if (g) g[y] = (float)(-active * scale);
  }
  return (float)(total * scale);
}

float mlprt_hinge_binary(float *dscores, const float *scores, const int32_t *labels, int B) {
  check_pred(scores, labels, B, 1);
  double total = 0.0;
  for (int b = 0; b < B; b++) {
    MLPRT_CHECK(labels[b] == 0 || labels[b] == 1, "binary label %d of sample %d", labels[b], b);
    double y = labels[b] ? 1.0 : -1.0, m = 1.0 - y * scores[b];
    total += m > 0.0 ? m : 0.0;
    if (dscores) dscores[b] = m > 0.0 ? (float)(-y / B) : 0.0f;
  }
  return (float)(total / B);
}
