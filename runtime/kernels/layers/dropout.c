/* dropout.c — inverted dropout with masks drawn from the Philox counter RNG.
 * Consumes inputs, the drop probability and (seed, site, step); produces
 * outputs, the scaled mask (0 or 1/(1-p)) and, in backward, accumulated input
 * gradients. */
#include "mlp/layers.h"

#include "mlp/tensor.h"

void mlprt_dropout_forward(float *out, float *mask, const float *inp, size_t n, float p,
                           uint64_t seed, uint32_t site, uint64_t step) {
  MLPRT_CHECK((out != NULL && mask != NULL && inp != NULL) || n == 0, "dropout buffer is NULL");
  MLPRT_CHECK(p >= 0.0f && p < 1.0f, "dropout probability %g outside [0, 1)", (double)p);
  /* The mask is a pure function of the element index, so filling it in
   * blocks of four words (one Philox call each) is exactly the per-element
   * definition mlprt_rng_uniform gives. */
  mlprt_fill_uniform(mask, n, 0.0f, 1.0f, seed, mlprt_rng_stream(site, step));
  float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < n; i++) {
    mask[i] = mask[i] >= p ? scale : 0.0f;
    out[i] = inp[i] * mask[i];
  }
}

void mlprt_dropout_backward(float *dinp, const float *dout, const float *mask, size_t n) {
  MLPRT_CHECK((dinp != NULL && dout != NULL && mask != NULL) || n == 0, "dropout buffer is NULL");
  for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * mask[i];
}
