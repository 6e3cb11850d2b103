/* clip.c — gradient clipping by global L2 norm and by value, as
 * torch.nn.utils.clip_grad_norm_ and clip_grad_value_. Consumes a gradient
 * slab; scales or clamps it in place. */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"

float mlprt_clip_grad_norm(float *grad, size_t n, float max_norm) {
  MLPRT_CHECK(grad || n == 0, "gradient slab must not be NULL");
  MLPRT_CHECK(max_norm > 0.0f, "max_norm %g must be > 0", max_norm);
  /* Eight partial sums in double, lane k taking the elements i = k mod 8,
   * combined in a fixed order: one association for every run and thread
   * setting, yet independent lanes the compiler keeps in vector registers
   * (a single running sum cannot vectorize without reassociation). */
  double lane[8] = {0};
  size_t body = n - n % 8;
  for (size_t i = 0; i < body; i += 8)
    for (int k = 0; k < 8; k++) lane[k] += (double)grad[i + k] * grad[i + k];
  for (size_t i = body; i < n; i++) lane[i - body] += (double)grad[i] * grad[i];
  double sq = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  float norm = (float)sqrt(sq);
  if (!isfinite(norm)) return norm;
  /* The 1e-6 keeps an all-zero gradient from dividing by zero; PyTorch adds
   * the same constant, so clipped gradients agree. */
  float coef = max_norm / (norm + 1e-6f);
  if (coef < 1.0f)
    for (size_t i = 0; i < n; i++) grad[i] *= coef;
  return norm;
}

void mlprt_clip_grad_value(float *grad, size_t n, float clip) {
  MLPRT_CHECK(grad || n == 0, "gradient slab must not be NULL");
  MLPRT_CHECK(clip >= 0.0f, "clip value %g must be >= 0", clip);
  for (size_t i = 0; i < n; i++) {
    float g = grad[i];
    g = g > clip ? clip : g; /* selects, not branches: the loop vectorizes */
    grad[i] = g < -clip ? -clip : g;
  }
}
