/* svm.c — the forward pass of a support vector machine (abi.def's
 * mlprt_svm_forward) and its kernel functions. Consumes rows and the
 * support vectors, coefficients and intercepts an svm fit wrote; produces
 * the class scores, or a regression's value. Training and the predictor
 * both answer through it, so their answers are the same bits. */
#include "mlp/layers.h"

#include <math.h>
#include <stdlib.h>

#include "mlp/tensor.h"

double mlprt_svm_kernel(const float *x, const float *y, int64_t n, int kernel, double gamma, double coef0,
                        int degree) {
  /* four running sums, added in a fixed order: the same bits wherever it runs */
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  if (kernel == MLPRT_SVM_RBF) {
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; k++) {
        double d = (double)x[i + k] - (double)y[i + k];
        s[k] += d * d;
      }
    for (; i < n; i++) s[0] += ((double)x[i] - (double)y[i]) * ((double)x[i] - (double)y[i]);
    return exp(-gamma * ((s[0] + s[1]) + (s[2] + s[3])));
  }
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; k++) s[k] += (double)x[i + k] * (double)y[i + k];
  for (; i < n; i++) s[0] += (double)x[i] * (double)y[i];
  double xy = (s[0] + s[1]) + (s[2] + s[3]);
  return kernel == MLPRT_SVM_POLY ? pow(gamma * xy + coef0, degree) : xy;
}

void mlprt_svm_forward(float *out, const float *inp, const float *svm, int B, int C, int K) {
  MLPRT_CHECK((out != NULL && inp != NULL && svm != NULL) || B == 0, "svm buffer is NULL");
  MLPRT_CHECK(K >= 1 && C >= 1, "bad svm shape");
  int64_t S = (int64_t)svm[0], rec = C + MLPRT_SVM_COEFS(K);
  int kernel = (int)svm[1], degree = (int)svm[4];
  double gamma = svm[2], coef0 = svm[3];
  const float *counts = svm + MLPRT_SVM_HEADER, *bias = counts + K, *sv = bias + MLPRT_SVM_PAIRS(K);
  double *k = malloc((size_t)(S + 2 * K) * sizeof *k), *score = k + S, *conf = score + K;
  MLPRT_CHECK(k != NULL, "out of memory");
  for (int b = 0; b < B; b++) {
    const float *x = inp + (int64_t)b * C;
    for (int64_t s = 0; s < S; s++) k[s] = mlprt_svm_kernel(x, sv + s * rec, C, kernel, gamma, coef0, degree);
    if (K == 1) { /* a regression */
      double d = bias[0];
      for (int64_t s = 0; s < S; s++) d += (double)sv[s * rec + C] * k[s];
      out[b] = (float)d;
      continue;
    }
    for (int c = 0; c < K; c++) score[c] = conf[c] = 0;
    int64_t si = 0;
    int pair = 0;
    for (int i = 0; i < K; i++) {
      int64_t ni = (int64_t)counts[i], sj = si + ni;
      for (int j = i + 1; j < K; j++, pair++) {
        int64_t nj = (int64_t)counts[j];
        double d = bias[pair];
        for (int64_t s = si; s < si + ni; s++) d += (double)sv[s * rec + C + j - 1] * k[s];
        for (int64_t s = sj; s < sj + nj; s++) d += (double)sv[s * rec + C + i] * k[s];
        sj += nj;
        score[d > 0 ? i : j] += 1;
        conf[i] += d;
        conf[j] -= d;
      }
      si += ni;
    }
    float *o = out + (int64_t)b * (K == 2 ? 1 : K);
    if (K == 2) {
      o[0] = (float)(1 / (1 + exp(conf[0])));
      continue;
    }
    double top = -INFINITY, sum = 0;
    for (int c = 0; c < K; c++) {
      score[c] += conf[c] / (3 * (fabs(conf[c]) + 1));
      top = fmax(top, score[c]);
    }
    for (int c = 0; c < K; c++) sum += exp(score[c] - top);
    for (int c = 0; c < K; c++) o[c] = (float)(exp(score[c] - top) / sum);
  }
  free(k);
}
