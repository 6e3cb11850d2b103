/* gemm.c — the matrix product of the layer kernels (see gemm.h).
 *
 * OpenBLAS is referenced weakly: a program that links it (a training
 * program, mlpc) calls its sgemm for products of several rows; a predictor,
 * linked without it, takes the loops below, and so does a one-row product
 * A B^T in any program (a dense or recurrent layer on one row: OpenBLAS's
 * call costs more than the product there). They serve the products
 * inference runs, row by row: A B (convolutions, attention: a block of
 * BLOCK outputs of a row of C summed in registers along k, which
 * vectorizes) and A B^T (dense and recurrent layers: four dot products at
 * once, each in eight lanes, so that 32 independent sums hide the latency
 * of the adds and a row of A is loaded once per four rows of B); any other
 * combination takes the plain triple loop. */
#include "gemm.h"

#include <string.h>

#pragma weak cblas_sgemm

enum { LANES = 8, BLOCK = 32 };

/* c[j] += alpha a . b_j for the four rows b_j = b + j ldb (k floats each). */
static void dot4(float *restrict c, float alpha, const float *restrict a, const float *restrict b,
                 int ldb, int k) {
  const float *restrict b0 = b, *restrict b1 = b + ldb, *restrict b2 = b1 + ldb, *restrict b3 = b2 + ldb;
  float s0[LANES] = {0}, s1[LANES] = {0}, s2[LANES] = {0}, s3[LANES] = {0};
  int i = 0;
  for (; i + LANES <= k; i += LANES)
    for (int l = 0; l < LANES; l++) {
      float x = a[i + l];
      s0[l] += x * b0[i + l], s1[l] += x * b1[i + l], s2[l] += x * b2[i + l], s3[l] += x * b3[i + l];
    }
  float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (; i < k; i++) t0 += a[i] * b0[i], t1 += a[i] * b1[i], t2 += a[i] * b2[i], t3 += a[i] * b3[i];
  for (int l = 0; l < LANES; l++) t0 += s0[l], t1 += s1[l], t2 += s2[l], t3 += s3[l];
  c[0] += alpha * t0, c[1] += alpha * t1, c[2] += alpha * t2, c[3] += alpha * t3;
}

/* The dot product of a and b (k floats each). */
static float dot(const float *restrict a, const float *restrict b, int k) {
  float acc[LANES] = {0};
  int i = 0;
  for (; i + LANES <= k; i += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += a[i + l] * b[i + l];
  float s = 0;
  for (; i < k; i++) s += a[i] * b[i];
  for (int l = 0; l < LANES; l++) s += acc[l];
  return s;
}

/* c[0..n) += alpha a B for the n <= BLOCK columns of B (K rows, ldb apart) c covers. */
static void row_block(float *restrict c, float alpha, const float *restrict a, const float *restrict b,
                      int ldb, int n, int K) {
  float acc[BLOCK] = {0};
  if (n == BLOCK)
    for (int k = 0; k < K; k++)
      for (int l = 0; l < BLOCK; l++) acc[l] += a[k] * b[(size_t)k * ldb + l];
  else
    for (int k = 0; k < K; k++)
      for (int l = 0; l < n; l++) acc[l] += a[k] * b[(size_t)k * ldb + l];
  for (int l = 0; l < n; l++) c[l] += alpha * acc[l];
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
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j += BLOCK)
        row_block(C + (size_t)i * ldc + j, alpha, A + (size_t)i * lda, B + j, ldb,
                  N - j < BLOCK ? N - j : BLOCK, K);
  } else if (!ta) {
    for (int i = 0; i < M; i++) {
      const float *a = A + (size_t)i * lda;
      float *c = C + (size_t)i * ldc;
      int j = 0;
      for (; j + 4 <= N; j += 4) dot4(c + j, alpha, a, B + (size_t)j * ldb, ldb, K);
      for (; j < N; j++) c[j] += alpha * dot(a, B + (size_t)j * ldb, K);
    }
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
  if (cblas_sgemm && !(M == 1 && ta == CblasNoTrans && tb == CblasTrans)) cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else own_sgemm(ta == CblasTrans, tb == CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
