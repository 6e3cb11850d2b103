/* gemm.c — the matrix product of the layer kernels (see gemm.h).
 *
 * OpenBLAS is referenced weakly: a program that links it (a training
 * program, mlpc) calls its sgemm; a predictor, linked without it, takes
 * the loops below. They serve the products inference runs, row by row:
 * A B (convolutions: weights times im2col columns, the inner loop along a
 * row of B and C, which vectorizes) and A B^T (dense and recurrent
 * layers: a dot product per output, summed in eight lanes that
 * vectorize); any other combination takes the plain triple loop. */
#include "gemm.h"

#include <string.h>

#pragma weak cblas_sgemm

enum { LANES = 8 };

/* The dot product of a and b (k floats each). */
static float dot(const float *a, const float *b, int k) {
  float acc[LANES] = {0};
  int i = 0;
  for (; i + LANES <= k; i += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += a[i + l] * b[i + l];
  float s = 0;
  for (; i < k; i++) s += a[i] * b[i];
  for (int l = 0; l < LANES; l++) s += acc[l];
  return s;
}

static void own_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc) {
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * ldc;
    if (beta == 0) memset(c, 0, (size_t)N * sizeof *c);
    else if (beta != 1)
      for (int j = 0; j < N; j++) c[j] *= beta;
  }
  if (!ta && !tb) {
    for (int i = 0; i < M; i++) {
      float *c = C + (size_t)i * ldc;
      for (int k = 0; k < K; k++) {
        float a = alpha * A[(size_t)i * lda + k];
        const float *b = B + (size_t)k * ldb;
        for (int j = 0; j < N; j++) c[j] += a * b[j];
      }
    }
  } else if (!ta) {
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++)
        C[(size_t)i * ldc + j] += alpha * dot(A + (size_t)i * lda, B + (size_t)j * ldb, K);
  } else {
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        float s = 0;
        for (int k = 0; k < K; k++)
          s += A[(size_t)k * lda + i] * (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
        C[(size_t)i * ldc + j] += alpha * s;
      }
  }
}

void mlprt_sgemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  if (cblas_sgemm) cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else own_sgemm(ta == CblasTrans, tb == CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
