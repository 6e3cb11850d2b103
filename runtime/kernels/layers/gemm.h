/* gemm.h — the single-precision matrix product the layer kernels call
 * (gemm.c). Private to runtime/kernels/layers. */
#ifndef MLPRT_GEMM_H
#define MLPRT_GEMM_H

#include <cblas.h>

/* C (M, N) = alpha op(A) op(B) + beta C, row-major, op(X) = X or X^T by
 * ta and tb, as cblas_sgemm(CblasRowMajor, ...) computes it: OpenBLAS's
 * when the program links it (training programs do), else a loop of the
 * runtime's own (predictors link no OpenBLAS, so that they need nothing
 * but libc and libm where they run). */
void mlprt_sgemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

#endif
