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
 * combination takes the plain triple loop. Each output's sum runs in the
 * same order whatever the number of rows, so a row's answer does not
 * depend on the block it comes in. */
#include "gemm.h"

#include <string.h>

#pragma weak cblas_sgemm

enum { LANES = 8, BLOCK = 16 };

/* Four floats as one vector (GCC's and Clang's vector extension: SSE on
 * x86-64, NEON on AArch64, no intrinsics); loads and stores through memcpy
 * need no alignment. */
typedef float V4 __attribute__((vector_size(16)));

static inline V4 load4(const float *p) {
  V4 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline float sum4(V4 v) {
  return (v[0] + v[1]) + (v[2] + v[3]);
}

/* c[j] += alpha a . b_j for the four rows b_j = b + j ldb (k floats each):
 * eight vector sums (two per row) at once hide the latency of the adds, and
 * each load of a serves four rows. */
static void dot4(float *restrict c, float alpha, const float *restrict a, const float *restrict b,
                 int ldb, int k) {
  const float *b0 = b, *b1 = b + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
  V4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};
  int i = 0;
  for (; i + LANES <= k; i += LANES) {
    V4 x = load4(a + i), y = load4(a + i + 4);
    s0 += x * load4(b0 + i), u0 += y * load4(b0 + i + 4);
    s1 += x * load4(b1 + i), u1 += y * load4(b1 + i + 4);
    s2 += x * load4(b2 + i), u2 += y * load4(b2 + i + 4);
    s3 += x * load4(b3 + i), u3 += y * load4(b3 + i + 4);
  }
  float t0 = sum4(s0 + u0), t1 = sum4(s1 + u1), t2 = sum4(s2 + u2), t3 = sum4(s3 + u3);
  for (; i < k; i++) t0 += a[i] * b0[i], t1 += a[i] * b1[i], t2 += a[i] * b2[i], t3 += a[i] * b3[i];
  c[0] += alpha * t0, c[1] += alpha * t1, c[2] += alpha * t2, c[3] += alpha * t3;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define GEMM_AVX 1
/* dot4 in eight-float AVX vectors, where the processor has them, for R rows
 * of A at once (R = 1, 2: row r's outputs at c + r ldc): lanes 0-3 of each
 * sum are dot4's first vector of the row, lanes 4-7 its second, added in
 * the same order without fused multiply-adds, so every output is dot4's
 * to the bit; two rows keep eight independent sums in flight and load each
 * weight once for both. */
typedef float V8 __attribute__((vector_size(32)));

__attribute__((target("avx"), always_inline)) static inline void
dot4_avx_rows(int R, float *restrict c, int ldc, float alpha, const float *restrict a, int lda,
              const float *restrict b, int ldb, int k) {
  const float *bj[4] = {b, b + ldb, b + 2 * (size_t)ldb, b + 3 * (size_t)ldb};
  V8 s[2][4] = {{{0}}};
  int i = 0;
  for (; i + LANES <= k; i += LANES) {
    V8 x[2], y;
    for (int r = 0; r < R; r++) memcpy(&x[r], a + (size_t)r * lda + i, sizeof y);
    for (int j = 0; j < 4; j++) {
      memcpy(&y, bj[j] + i, sizeof y);
      for (int r = 0; r < R; r++) s[r][j] += x[r] * y;
    }
  }
  for (int r = 0; r < R; r++) {
    const float *ar = a + (size_t)r * lda;
    float t[4];
    for (int j = 0; j < 4; j++) {
      V4 lo = {s[r][j][0], s[r][j][1], s[r][j][2], s[r][j][3]};
      V4 hi = {s[r][j][4], s[r][j][5], s[r][j][6], s[r][j][7]};
      t[j] = sum4(lo + hi);
    }
    for (int l = i; l < k; l++)
      for (int j = 0; j < 4; j++) t[j] += ar[l] * bj[j][l];
    for (int j = 0; j < 4; j++) c[(size_t)r * ldc + j] += alpha * t[j];
  }
}

__attribute__((target("avx"))) static void dot4_avx(float *restrict c, int ldc, float alpha,
                                                    const float *restrict a, int lda, const float *restrict b,
                                                    int ldb, int k) {
  dot4_avx_rows(1, c, ldc, alpha, a, lda, b, ldb, k);
}

__attribute__((target("avx"))) static void dot4x2_avx(float *restrict c, int ldc, float alpha,
                                                      const float *restrict a, int lda,
                                                      const float *restrict b, int ldb, int k) {
  dot4_avx_rows(2, c, ldc, alpha, a, lda, b, ldb, k);
}
#endif

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

/* c[0..n) += alpha a B for the n <= BLOCK columns of B (K rows, ldb apart)
 * c covers: a full block sums in BLOCK / 4 vectors, held in registers
 * along k. */
static void row_block(float *restrict c, float alpha, const float *restrict a, const float *restrict b,
                      int ldb, int n, int K) {
  if (n == BLOCK) {
    V4 acc[BLOCK / 4] = {{0}};
    for (int k = 0; k < K; k++) {
      V4 x = {a[k], a[k], a[k], a[k]};
      for (int l = 0; l < BLOCK / 4; l++) acc[l] += x * load4(b + (size_t)k * ldb + 4 * l);
    }
    for (int l = 0; l < BLOCK / 4; l++) {
      V4 out = load4(c + 4 * l) + alpha * acc[l];
      memcpy(c + 4 * l, &out, sizeof out);
    }
    return;
  }
  float acc[BLOCK] = {0};
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
  /* the columns of B (or rows of B^T) a step uses stay in cache while
   * every row of A passes them: a block of rows reads the weights once */
  if (!ta && !tb) {
    for (int j = 0; j < N; j += BLOCK)
      for (int i = 0; i < M; i++)
        row_block(C + (size_t)i * ldc + j, alpha, A + (size_t)i * lda, B + j, ldb,
                  N - j < BLOCK ? N - j : BLOCK, K);
  } else if (!ta) {
    int j = 0;
    for (; j + 4 <= N; j += 4) {
      int i = 0;
      const float *bj = B + (size_t)j * ldb;
#if GEMM_AVX
      if (__builtin_cpu_supports("avx")) {
        for (; i + 2 <= M; i += 2)
          dot4x2_avx(C + (size_t)i * ldc + j, ldc, alpha, A + (size_t)i * lda, lda, bj, ldb, K);
        if (i < M) dot4_avx(C + (size_t)i * ldc + j, ldc, alpha, A + (size_t)i * lda, lda, bj, ldb, K), i++;
      }
#endif
      for (; i < M; i++) dot4(C + (size_t)i * ldc + j, alpha, A + (size_t)i * lda, bj, ldb, K);
    }
    for (; j < N; j++)
      for (int i = 0; i < M; i++)
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
  if (cblas_sgemm && !(M == 1 && ta == CblasNoTrans && tb == CblasTrans))
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else own_sgemm(ta == CblasTrans, tb == CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
