/* svm.c — the forward pass of a support vector machine (abi.def's
 * mlprt_svm_forward) and its kernel functions. Consumes rows and the
 * support vectors, coefficients and intercepts an svm fit wrote; produces
 * the class scores. Training and the predictor both answer through it, so
 * their answers are the same bits. */
#include "mlp/layers.h"

#include <math.h>
#include <stdlib.h>

#include "mlp/tensor.h"

double mlprt_svm_kernel(int kernel, double gamma, double coef0, int degree, double xy, double xx, double yy) {
  switch (kernel) {
  case MLPRT_SVM_RBF: return exp(-gamma * (xx + yy - 2 * xy));
  case MLPRT_SVM_POLY: return pow(gamma * xy + coef0, degree);
  default: return xy;
  }
}

static double dot(const float *a, const float *b, int C) {
  double s = 0;
  for (int f = 0; f < C; f++) s += (double)a[f] * (double)b[f];
  return s;
}

void mlprt_svm_forward(float *out, const float *inp, const float *svm, int B, int C, int K) {
  MLPRT_CHECK((out != NULL && inp != NULL && svm != NULL) || B == 0, "svm buffer is NULL");
  MLPRT_CHECK(K >= 2 && C >= 1, "bad svm shape");
  int64_t S = (int64_t)svm[0], rec = C + K - 1;
  int kernel = (int)svm[1], degree = (int)svm[4];
  double gamma = svm[2], coef0 = svm[3];
  const float *counts = svm + MLPRT_SVM_HEADER, *bias = counts + K, *sv = bias + K * (K - 1) / 2;
  double *k = malloc((size_t)(S + 2 * K) * sizeof *k), *score = k + S, *conf = score + K;
  MLPRT_CHECK(k != NULL, "out of memory");
  for (int b = 0; b < B; b++) {
    const float *x = inp + (int64_t)b * C;
    double xx = dot(x, x, C);
    for (int64_t s = 0; s < S; s++) {
      const float *v = sv + s * rec;
      k[s] = mlprt_svm_kernel(kernel, gamma, coef0, degree, dot(x, v, C), xx, dot(v, v, C));
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
