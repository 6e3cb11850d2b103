/* quant.c — int8 weight quantization, the int8 dense kernel and magnitude
 * pruning (include/mlp/quant.h). Consumes float32 weights (OC, C) and input
 * rows (B, C); produces int8 weights with per-row scales, float outputs
 * (B, OC), and pruned weights in place.
 *
 * The hot loops are written in shapes GCC and Clang vectorise at -O3 (GCC)
 * or -O2 (Clang) on plain x86-64: the quantized input row is held as int16,
 * so the dot product with the int8 weights (sign-extended to int16) is the
 * widening multiply-add pattern that becomes pmaddwd (vpmaddwd on 16 lanes
 * with AVX2); the max-magnitude scan compares float bit patterns as
 * unsigned integers, and the rounding has no branch, both of which a float
 * compare-and-select would have stopped GCC from vectorising. */
#include "mlp/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/tensor.h"

/* max |x| over x (n). For finite floats with the sign bit cleared the bit
 * patterns order as the values do, so the scan is an integer max. */
static float absmax(const float *x, int64_t n) {
  uint32_t m = 0;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, x + i, sizeof u);
    u &= 0x7fffffffu;
    m = u > m ? u : m;
  }
  float f;
  memcpy(&f, &m, sizeof f);
  return f;
}

/* Round half away from zero. Callers scale by 127 / max|x|, so |r| exceeds
 * 127 by at most a rounding error and the result stays in [-127, 127]. */
static inline int32_t round_q(float r) {
  return (int32_t)(r + copysignf(0.5f, r));
}

/* 127 / max|x| for a row whose max magnitude is m; 0 for a zero row, which
 * then quantizes to zeros with scale 0. */
static float inv_scale(float m) {
  return m > 0.0f ? 127.0f / m : 0.0f;
}

void mlprt_quantize_rows(const float *w, int64_t rows, int64_t cols, int8_t *q, float *scale) {
  MLPRT_CHECK(rows >= 0 && cols >= 0, "quantize dims rows=%lld cols=%lld", (long long)rows,
              (long long)cols);
  MLPRT_CHECK(rows == 0 || (w && q && scale), "quantize buffer is NULL");
  for (int64_t r = 0; r < rows; r++) {
    const float *wr = w + r * cols; /* (cols) */
    float m = absmax(wr, cols), inv = inv_scale(m);
    for (int64_t c = 0; c < cols; c++) q[r * cols + c] = (int8_t)round_q(wr[c] * inv);
    scale[r] = m / 127.0f;
  }
}

/* Rows quantized and multiplied together: each weight vector loaded (and
 * sign-extended) once serves this many input rows. */
enum { QROWS = 4 };

size_t mlprt_qdense_scratch_bytes(int64_t C) {
  return mlprt_align_up((size_t)QROWS * (size_t)(C > 0 ? C : 1) * sizeof(int16_t));
}

/* The int32 sums x (C) · w (C) for one weight row; every product fits an
 * int16 and C is bounded by MLPRT_QDENSE_MAX_C, so no sum overflows. */
static inline int32_t dot_q(const int16_t *restrict x, const int8_t *restrict w, int64_t C) {
  int32_t s = 0;
  for (int64_t i = 0; i < C; i++) s += x[i] * (int16_t)w[i];
  return s;
}

/* The same for four consecutive weight rows w (4, C) at once: each input
 * vector is loaded once for four rows, and four independent sums keep the
 * multiply-add units busy. */
static inline void dot_q4(const int16_t *restrict x, const int8_t *restrict w, int64_t C, int32_t acc[4]) {
  const int8_t *w0 = w, *w1 = w + C, *w2 = w + 2 * C, *w3 = w + 3 * C;
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int64_t i = 0; i < C; i++) {
    s0 += x[i] * (int16_t)w0[i];
    s1 += x[i] * (int16_t)w1[i];
    s2 += x[i] * (int16_t)w2[i];
    s3 += x[i] * (int16_t)w3[i];
  }
  acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3;
}

/* Four input rows x (4, C) against two weight rows w (2, C): acc (4, 2).
 * Sign-extending the int8 weights is the costly part of the loop, so each
 * extended weight vector is used for four rows. */
static inline void dot_q4x2(const int16_t *restrict x, const int8_t *restrict w, int64_t C, int32_t acc[8]) {
  const int16_t *x0 = x, *x1 = x + C, *x2 = x + 2 * C, *x3 = x + 3 * C;
  const int8_t *w0 = w, *w1 = w + C;
  int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
  for (int64_t i = 0; i < C; i++) {
    int16_t a = w0[i], b = w1[i];
    s00 += x0[i] * a, s01 += x0[i] * b;
    s10 += x1[i] * a, s11 += x1[i] * b;
    s20 += x2[i] * a, s21 += x2[i] * b;
    s30 += x3[i] * a, s31 += x3[i] * b;
  }
  acc[0] = s00, acc[1] = s01, acc[2] = s10, acc[3] = s11;
  acc[4] = s20, acc[5] = s21, acc[6] = s30, acc[7] = s31;
}

/* The products run in an AVX2 clone where the CPU has AVX2 (chosen once,
 * when the program loads): twice the lanes of the SSE2 baseline the runtime
 * is built for. The clones cover whole rows so that small layers pay the
 * indirect call once per block of rows, not once per output. */
#if defined(__x86_64__) && defined(__GNUC__)
#define QDENSE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define QDENSE_CLONES
#endif

static inline float dequant(int32_t acc, float xs, const float *wscale, const float *bias, int64_t o) {
  return (float)acc * (xs * wscale[o]) + (bias ? bias[o] : 0.0f);
}

/* y (OC) = dequant(xq (C) · qweight (OC, C)ᵀ) + bias, xs the row's scale. */
QDENSE_CLONES
static void qdense_row(float *restrict y, const int16_t *restrict xq, float xs,
                       const int8_t *restrict qweight, const float *restrict wscale,
                       const float *restrict bias, int64_t C, int64_t OC) {
  int64_t o = 0;
  for (; o + 4 <= OC; o += 4) {
    int32_t acc[4];
    dot_q4(xq, qweight + o * C, C, acc);
    for (int k = 0; k < 4; k++) y[o + k] = dequant(acc[k], xs, wscale, bias, o + k);
  }
  for (; o < OC; o++) y[o] = dequant(dot_q(xq, qweight + o * C, C), xs, wscale, bias, o);
}

/* The same for QROWS rows: y (QROWS, OC) from xq (QROWS, C), xs (QROWS). */
QDENSE_CLONES
static void qdense_rows(float *restrict y, const int16_t *restrict xq, const float *restrict xs,
                        const int8_t *restrict qweight, const float *restrict wscale,
                        const float *restrict bias, int64_t C, int64_t OC) {
  int64_t o = 0;
  for (; o + 2 <= OC; o += 2) {
    int32_t acc[8];
    dot_q4x2(xq, qweight + o * C, C, acc);
    for (int r = 0; r < QROWS; r++)
      for (int k = 0; k < 2; k++) y[r * OC + o + k] = dequant(acc[2 * r + k], xs[r], wscale, bias, o + k);
  }
  for (; o < OC; o++)
    for (int r = 0; r < QROWS; r++)
      y[r * OC + o] = dequant(dot_q(xq + r * C, qweight + o * C, C), xs[r], wscale, bias, o);
}

/* xq (C) = x (C) quantized; returns its scale. */
static float quantize_input(const float *x, int64_t C, int16_t *xq) {
  float m = absmax(x, C), inv = inv_scale(m);
  for (int64_t c = 0; c < C; c++) xq[c] = (int16_t)round_q(x[c] * inv);
  return m / 127.0f;
}

void mlprt_qdense(float *out, const float *inp, const int8_t *qweight, const float *wscale,
                  const float *bias, int64_t B, int64_t C, int64_t OC, void *scratch) {
  MLPRT_CHECK(B >= 0 && C > 0 && OC > 0 && C <= MLPRT_QDENSE_MAX_C, "qdense dims B=%lld C=%lld OC=%lld",
              (long long)B, (long long)C, (long long)OC);
  MLPRT_CHECK(B == 0 || (out && inp && qweight && wscale && scratch), "qdense buffer is NULL");
  int16_t *xq = scratch; /* (QROWS, C) input rows, quantized */
  float xs[QROWS];       /* their scales */
  int64_t b = 0;
  for (; b + QROWS <= B; b += QROWS) {
    for (int r = 0; r < QROWS; r++) xs[r] = quantize_input(inp + (b + r) * C, C, xq + r * C);
    qdense_rows(out + b * OC, xq, xs, qweight, wscale, bias, C, OC);
  }
  for (; b < B; b++) {
    xs[0] = quantize_input(inp + b * C, C, xq);
    qdense_row(out + b * OC, xq, xs[0], qweight, wscale, bias, C, OC);
  }
}

/* One weight's magnitude and index; sorting by both is a total order, so
 * ties fall to the lower index whatever qsort does. */
typedef struct {
  float mag;
  int64_t at;
} PruneKey;

static int by_magnitude(const void *pa, const void *pb) {
  const PruneKey *a = pa, *b = pb;
  if (a->mag != b->mag) return a->mag < b->mag ? -1 : 1;
  return a->at < b->at ? -1 : (a->at > b->at);
}

int64_t mlprt_prune_magnitude(float *w, int64_t n, double sparsity) {
  MLPRT_CHECK(n >= 0 && (n == 0 || w), "prune buffer is NULL or n=%lld", (long long)n);
  MLPRT_CHECK(sparsity >= 0.0 && sparsity <= 1.0, "prune sparsity %g outside [0, 1]", sparsity);
  /* The slack keeps decimal sparsities whole: 0.29 * 100 is 28.999... in
   * binary and must still prune 29. */
  int64_t k = (int64_t)floor(sparsity * (double)n + 1e-9);
  if (k > n) k = n;
  if (k <= 0) return 0;
  PruneKey *keys = malloc((size_t)n * sizeof *keys);
  if (!keys) MLPRT_FATAL("out of memory ordering %lld weights", (long long)n);
  for (int64_t i = 0; i < n; i++) keys[i] = (PruneKey){fabsf(w[i]), i};
  qsort(keys, (size_t)n, sizeof *keys, by_magnitude);
  for (int64_t i = 0; i < k; i++) w[keys[i].at] = 0.0f;
  free(keys);
  return k;
}
