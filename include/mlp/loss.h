/* loss.h — training losses. Each consumes predictions (logits or values) and
 * targets for a batch, returns the mean loss, and WRITES (=, not +=) the
 * gradient of that mean with respect to the predictions, starting the
 * backward pass. The gradient pointer may be NULL for evaluation only.
 * Conventions follow PyTorch's default reduction="mean", so losses and
 * gradients can be compared with it directly:
 * - classification losses average over the batch (B);
 * - elementwise losses (BCE, MSE, MAE, Huber) average over all B*D values.
 * Sums are taken in double. With checks on, labels and targets are
 * range-checked. */
#ifndef MLP_LOSS_H
#define MLP_LOSS_H

#include <stdint.h>

/* Softmax cross-entropy on logits (B, C) and labels (B) in [0, C), fused with
 * its backward: dlogits (B, C) = (softmax(logits) - q) / B for the smoothed
 * target q = (1 - smoothing) * onehot + smoothing / C. The log-softmax is
 * max-subtracted (log-sum-exp), so no logit can overflow it.
 * class_weight (C), or NULL, weights each sample's term by the weight of its
 * label and divides by the sum of those weights instead of B; the smoothing
 * term is weighted per class. This is exactly torch.nn.functional.
 * cross_entropy(weight=..., label_smoothing=...). probs (B, C), or NULL,
 * receives the softmax (for metrics). 0 <= smoothing < 1. */
float mlprt_softmax_xent(float *dlogits, float *probs, const float *logits, const int32_t *labels,
                         const float *class_weight, float smoothing, int B, int C);

/* Binary cross-entropy on logits (B, D) with targets (B, D) in [0, 1]:
 * max(z, 0) - z*y + log1p(exp(-|z|)), stable for any z; the gradient is
 * (sigmoid(z) - y) / (B*D). */
float mlprt_bce_logits(float *dlogits, const float *logits, const float *targets, int B, int D);

/* Mean squared error, mean absolute error (gradient sign(d)/(B*D), 0 at
 * d = 0) and Huber (0.5 d^2 where |d| < delta, else delta (|d| - delta/2))
 * on predictions (B, D) and targets (B, D). */
float mlprt_mse(float *dpred, const float *pred, const float *target, int B, int D);
float mlprt_mae(float *dpred, const float *pred, const float *target, int B, int D);
float mlprt_huber(float *dpred, const float *pred, const float *target, int B, int D, float delta);

/* Multi-class hinge (Weston-Watkins, torch.nn.MultiMarginLoss with p = 1):
 * per sample sum over j != y of max(0, margin - z_y + z_j) / C, averaged
 * over B; logits (B, C), labels (B). */
float mlprt_hinge_multiclass(float *dlogits, const float *logits, const int32_t *labels, int B, int C,
                             float margin);
/* Binary hinge on one score per sample, scores (B), labels (B) in {0, 1}
 * (mapped to y = -1, +1): max(0, 1 - y*z) averaged over B. */
float mlprt_hinge_binary(float *dscores, const float *scores, const int32_t *labels, int B);

#endif
