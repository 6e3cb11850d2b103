/* activation.c — elementwise activations (relu, leaky relu, elu, gelu,
 * sigmoid, tanh) and row softmax, forward and backward. Consumes inputs (or,
 * in backward, saved outputs) and dout; produces outputs and accumulated
 * input gradients. The loops are branch-free selects so they vectorize. */
#include "mlp/layers.h"

#include "fastmath.h"

#include <math.h>

#include "mlp/tensor.h"

#define CHECK_EW(out, inp, n) \
  MLPRT_CHECK(((out) != NULL && (inp) != NULL) || (n) == 0, "activation buffer is NULL (n=%zu)", (n))

void mlprt_relu_forward(float *out, const float *inp, size_t n) {
  CHECK_EW(out, inp, n);
  /* written so a NaN input stays NaN: a diverging run should show it */
  for (size_t i = 0; i < n; i++) out[i] = 0.0f > inp[i] ? 0.0f : inp[i];
}

void mlprt_relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
  CHECK_EW(dinp, dout, n);
  MLPRT_CHECK(out != NULL || n == 0, "relu saved output is NULL");
  for (size_t i = 0; i < n; i++) {
    float g = dout[i]; /* loaded unconditionally so the select vectorizes */
    dinp[i] += out[i] > 0.0f ? g : 0.0f;
  }
}

void mlprt_leaky_relu_forward(float *out, const float *inp, size_t n, float alpha) {
  CHECK_EW(out, inp, n);
  MLPRT_CHECK(alpha > 0.0f, "leaky relu slope %g must be positive", (double)alpha);
  for (size_t i = 0; i < n; i++) {
    float x = inp[i];
    out[i] = x > 0.0f ? x : alpha * x;
  }
}

void mlprt_leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n, float alpha) {
  CHECK_EW(dinp, dout, n);
  MLPRT_CHECK(out != NULL || n == 0, "leaky relu saved output is NULL");
  for (size_t i = 0; i < n; i++) {
    float g = dout[i];
    dinp[i] += out[i] > 0.0f ? g : alpha * g;
  }
}

void mlprt_elu_forward(float *out, const float *inp, size_t n, float alpha) {
  CHECK_EW(out, inp, n);
  MLPRT_CHECK(alpha > 0.0f, "elu alpha %g must be positive", (double)alpha);
  for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : alpha * expm1f(inp[i]);
}

void mlprt_elu_backward(float *dinp, const float *dout, const float *out, size_t n, float alpha) {
  CHECK_EW(dinp, dout, n);
  MLPRT_CHECK(out != NULL || n == 0, "elu saved output is NULL");
  for (size_t i = 0; i < n; i++) {
    float g = dout[i], y = out[i];
    dinp[i] += y > 0.0f ? g : (y + alpha) * g;
  }
}

#define INV_SQRT2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f

void mlprt_gelu_forward(float *out, const float *inp, size_t n) {
  CHECK_EW(out, inp, n);
  for (size_t i = 0; i < n; i++) out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * INV_SQRT2));
}

/* d/dx x Φ(x) = Φ(x) + x φ(x). */
void mlprt_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
  CHECK_EW(dinp, dout, n);
  MLPRT_CHECK(inp != NULL || n == 0, "gelu saved input is NULL");
  for (size_t i = 0; i < n; i++) {
    float x = inp[i];
    float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2)), pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
    dinp[i] += (cdf + x * pdf) * dout[i];
  }
}

/* mlprt_expf clamps its argument, so 1 / (1 + e^-x) cannot overflow. */
void mlprt_sigmoid_forward(float *out, const float *inp, size_t n) {
  CHECK_EW(out, inp, n);
  for (size_t i = 0; i < n; i++) out[i] = mlprt_sigmoidf(inp[i]);
}

void mlprt_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n) {
  CHECK_EW(dinp, dout, n);
  MLPRT_CHECK(out != NULL || n == 0, "sigmoid saved output is NULL");
  for (size_t i = 0; i < n; i++) dinp[i] += out[i] * (1.0f - out[i]) * dout[i];
}

void mlprt_tanh_forward(float *out, const float *inp, size_t n) {
  CHECK_EW(out, inp, n);
  for (size_t i = 0; i < n; i++) out[i] = mlprt_tanhf(inp[i]);
}

void mlprt_tanh_backward(float *dinp, const float *dout, const float *out, size_t n) {
  CHECK_EW(dinp, dout, n);
  MLPRT_CHECK(out != NULL || n == 0, "tanh saved output is NULL");
  for (size_t i = 0; i < n; i++) dinp[i] += (1.0f - out[i] * out[i]) * dout[i];
}

void mlprt_softmax_forward(float *out, const float *inp, int B, int C) {
  MLPRT_CHECK(B > 0 && C > 0, "softmax dims B=%d C=%d", B, C);
  MLPRT_CHECK(out != NULL && inp != NULL, "softmax buffer is NULL");
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    float *y = out + (size_t)b * C;
    float mx = x[0];
    for (int c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
    double sum = 0.0;
    for (int c = 0; c < C; c++) {
      y[c] = expf(x[c] - mx);
      sum += y[c];
    }
    float inv = (float)(1.0 / sum);
    for (int c = 0; c < C; c++) y[c] *= inv;
  }
}

void mlprt_softmax_backward(float *dinp, const float *dout, const float *out, int B, int C) {
  MLPRT_CHECK(B > 0 && C > 0, "softmax dims B=%d C=%d", B, C);
  MLPRT_CHECK(dinp != NULL && dout != NULL && out != NULL, "softmax buffer is NULL");
  for (int b = 0; b < B; b++) {
    const float *y = out + (size_t)b * C, *dy = dout + (size_t)b * C;
    float *dx = dinp + (size_t)b * C;
    double dot = 0.0;
    for (int c = 0; c < C; c++) dot += (double)dy[c] * y[c];
    for (int c = 0; c < C; c++) dx[c] += y[c] * (dy[c] - (float)dot);
  }
}
