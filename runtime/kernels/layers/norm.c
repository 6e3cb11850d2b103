/* norm.c — batch normalization (training mode with running statistics, and
 * inference mode) and layer normalization, forward and backward. Consumes
 * inputs, scale/shift parameters and saved statistics; produces outputs, the
 * per-channel (or per-row) mean and rstd caches, and accumulated gradients.
 * Statistics are summed in double: a channel of a conv feature map can hold
 * hundreds of thousands of values. */
#include "mlp/layers.h"

#include <math.h>

#include "mlp/tensor.h"

static void check_bn(const float *inp, int N, int C, int S) {
  MLPRT_CHECK(N > 0 && C > 0 && S > 0, "batchnorm dims N=%d C=%d S=%d", N, C, S);
  MLPRT_CHECK(inp != NULL, "batchnorm input is NULL");
}

/* Element (n, c, s) of an (N, C, S) tensor. */
#define AT(p, n, c, s) ((p)[((size_t)(n) * C + (c)) * S + (s)])

void mlprt_batchnorm_forward_train(float *out, float *mean, float *rstd, float *running_mean,
                                   float *running_var, const float *inp, const float *gamma,
                                   const float *beta, int N, int C, int S, float momentum, float eps) {
  check_bn(inp, N, C, S);
  MLPRT_CHECK(out && mean && rstd && running_mean && running_var && gamma && beta,
              "batchnorm buffer is NULL");
  MLPRT_CHECK((size_t)N * S > 1, "batchnorm needs more than one value per channel");
  MLPRT_CHECK(momentum >= 0.0f && momentum <= 1.0f && eps > 0.0f, "batchnorm momentum %g eps %g",
              (double)momentum, (double)eps);
  double count = (double)N * S;
  for (int c = 0; c < C; c++) {
    double sum = 0.0, sq = 0.0;
    for (int n = 0; n < N; n++)
      for (int s = 0; s < S; s++) sum += AT(inp, n, c, s);
    double mu = sum / count;
    for (int n = 0; n < N; n++)
      for (int s = 0; s < S; s++) {
        double d = AT(inp, n, c, s) - mu;
        sq += d * d;
      }
    double var = sq / count;
    float r = (float)(1.0 / sqrt(var + eps)), m = (float)mu;
    mean[c] = m;
    rstd[c] = r;
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * m;
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (float)(sq / (count - 1.0));
    float g = gamma[c] * r, b = beta[c] - m * gamma[c] * r;
    for (int n = 0; n < N; n++)
      for (int s = 0; s < S; s++) AT(out, n, c, s) = AT(inp, n, c, s) * g + b;
  }
}

void mlprt_batchnorm_forward_infer(float *out, const float *inp, const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, int N, int C,
                                   int S, float eps) {
  check_bn(inp, N, C, S);
  MLPRT_CHECK(out && gamma && beta && running_mean && running_var, "batchnorm buffer is NULL");
  for (int c = 0; c < C; c++) {
    MLPRT_CHECK(running_var[c] >= 0.0f, "running variance %g of channel %d", (double)running_var[c], c);
    float g = gamma[c] / sqrtf(running_var[c] + eps), b = beta[c] - running_mean[c] * g;
    for (int n = 0; n < N; n++)
      for (int s = 0; s < S; s++) AT(out, n, c, s) = AT(inp, n, c, s) * g + b;
  }
}

/* With xhat = (x - mean) * rstd and g = dout * gamma:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), the means over the
 * channel's N*S values. */
void mlprt_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                              const float *inp, const float *gamma, const float *mean,
                              const float *rstd, int N, int C, int S) {
  check_bn(inp, N, C, S);
  MLPRT_CHECK(dout && gamma && mean && rstd, "batchnorm buffer is NULL");
  double count = (double)N * S;
  for (int c = 0; c < C; c++) {
    double sdy = 0.0, sdyx = 0.0;
    float m = mean[c], r = rstd[c];
    for (int n = 0; n < N; n++)
      for (int s = 0; s < S; s++) {
        float dy = AT(dout, n, c, s);
        sdy += dy;
        sdyx += (double)dy * (AT(inp, n, c, s) - m) * r;
      }
    if (dbeta) dbeta[c] += (float)sdy;
    if (dgamma) dgamma[c] += (float)sdyx;
    if (!dinp) continue;
    float mg = (float)(sdy / count) * gamma[c], mgx = (float)(sdyx / count) * gamma[c];
    for (int n = 0; n < N; n++)
      for (int s = 0; s < S; s++) {
        float xhat = (AT(inp, n, c, s) - m) * r;
        AT(dinp, n, c, s) += r * (AT(dout, n, c, s) * gamma[c] - mg - xhat * mgx);
      }
  }
}

#undef AT

void mlprt_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                             const float *weight, const float *bias, int B, int C, float eps) {
  MLPRT_CHECK(B > 0 && C > 0 && eps > 0.0f, "layernorm dims B=%d C=%d eps %g", B, C, (double)eps);
  MLPRT_CHECK(out && mean && rstd && inp && weight && bias, "layernorm buffer is NULL");
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    float *y = out + (size_t)b * C;
    double sum = 0.0, sq = 0.0;
    for (int c = 0; c < C; c++) sum += x[c];
    double mu = sum / C;
    for (int c = 0; c < C; c++) sq += (x[c] - mu) * (x[c] - mu);
    float m = (float)mu, r = (float)(1.0 / sqrt(sq / C + eps));
    mean[b] = m;
    rstd[b] = r;
    for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r * weight[c] + bias[c];
  }
}

void mlprt_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, const float *mean,
                              const float *rstd, int B, int C) {
  MLPRT_CHECK(B > 0 && C > 0, "layernorm dims B=%d C=%d", B, C);
  MLPRT_CHECK(dout && inp && weight && mean && rstd, "layernorm buffer is NULL");
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C, *dy = dout + (size_t)b * C;
    float m = mean[b], r = rstd[b];
    double sg = 0.0, sgx = 0.0; /* sums of g = dy * weight and of g * xhat */
    for (int c = 0; c < C; c++) {
      float xhat = (x[c] - m) * r, g = dy[c] * weight[c];
      sg += g;
      sgx += (double)g * xhat;
      if (dbias) dbias[c] += dy[c];
      if (dweight) dweight[c] += dy[c] * xhat;
    }
    if (!dinp) continue;
    float mg = (float)(sg / C), mgx = (float)(sgx / C);
    float *dx = dinp + (size_t)b * C;
    for (int c = 0; c < C; c++) {
      float xhat = (x[c] - m) * r;
      dx[c] += r * (dy[c] * weight[c] - mg - xhat * mgx);
    }
  }
}
