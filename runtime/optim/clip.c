/* clip.c — gradient clipping by global L2 norm and by value, as
 * torch.nn.utils.clip_grad_norm_ and clip_grad_value_. Consumes a gradient
 * slab; scales or clamps it in place. */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"

float mlprt_clip_grad_norm(float *grad, size_t n, float max_norm) {
  MLPRT_CHECK(grad || n == 0, "gradient slab must not be NULL");
  MLPRT_CHECK(max_norm > 0.0f, "max_norm %g must be > 0", max_norm);
  /* Double accumulation in index order: exact enough for millions of
   * elements, and the same sum for any thread setting. */
  double sq = 0.0;
  for (size_t i = 0; i < n; i++) sq += (double)grad[i] * grad[i];
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
    if (grad[i] > clip) grad[i] = clip;
    else if (grad[i] < -clip) grad[i] = -clip;
  }
}
