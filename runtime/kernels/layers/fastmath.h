/* fastmath.h — exp, tanh and the logistic sigmoid for the layer kernels,
 * without branches and without calls into libm, so that a loop over them
 * vectorizes (libm's tanhf and expf are calls per element). Private to
 * runtime/kernels/layers; training and predictors run the same code, so a
 * predictor answers what training's test predictions said.
 *
 * Accuracy against double exp/tanh over every float in [-20, 20] (measured:
 * check_layers asserts the bounds on a sample): mlprt_expf within 1 ulp
 * (Cephes' expf: 2^n times a polynomial on |r| <= ln2/2); mlprt_tanhf within
 * 1.4 ulp and 8e-8 absolute (Cephes' odd polynomial for |x| < 0.625,
 * 1 - 2 / (e^2|x| + 1) beyond; glibc's tanhf: 2.2 ulp); mlprt_sigmoidf within
 * 9e-8 absolute. NaN arguments are not propagated: arguments are clamped. */
#ifndef MLPRT_FASTMATH_H
#define MLPRT_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* e^x for x clamped to [-87.3, 88.7] (no overflow, no denormal results). */
static inline float mlprt_expf(float x) {
  x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
  /* n = round(x / ln2) by the 1.5 * 2^23 trick (round to nearest, no libm) */
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float mlprt_tanhf(float x) {
  float a = x < 0.0f ? -x : x, z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float big = 1.0f - 2.0f / (mlprt_expf(2.0f * a) + 1.0f);
  big = x < 0.0f ? -big : big;
  return a < 0.625f ? small : big;
}

static inline float mlprt_sigmoidf(float x) {
  return 1.0f / (1.0f + mlprt_expf(-x));
}

#endif
