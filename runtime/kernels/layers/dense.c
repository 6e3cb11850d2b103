/* dense.c — fully connected layers and the broadcast bias add: forward and
 * backward through OpenBLAS sgemm, or over sparse input rows by their
 * nonzeros, plus the triple-loop references the tests hold the BLAS path
 * to. Consumes inputs, weights (OC, C) and dout; produces outputs and
 * accumulated gradients (see include/mlp/layers.h). */
#include "mlp/layers.h"

#include "gemm.h"
#include <string.h>

#include "mlp/tensor.h"

static void check_dense(const float *inp, const float *weight, int B, int C, int OC) {
  MLPRT_CHECK(B > 0 && C > 0 && OC > 0, "dense dims B=%d C=%d OC=%d", B, C, OC);
  MLPRT_CHECK(inp != NULL && weight != NULL, "dense input or weight is NULL");
}

/* Fill every row of out (rows, C) with bias (C): the starting value the
 * following sgemm adds the product to with beta = 1. */
static void fill_rows(float *out, const float *bias, int rows, int C) {
  size_t rowbytes = (size_t)C * sizeof(float);
  for (int r = 0; r < rows; r++) memcpy(out + (size_t)r * C, bias, rowbytes);
}

void mlprt_dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                         int B, int C, int OC) {
  check_dense(inp, weight, B, C, OC);
  MLPRT_CHECK(out != NULL, "dense output is NULL");
  if (bias) {
    fill_rows(out, bias, B, OC);
    mlprt_sgemm(CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, weight, C, 1.0f, out, OC);
  } else {
    mlprt_sgemm(CblasNoTrans, CblasTrans, B, OC, C, 1.0f, inp, C, weight, C, 0.0f, out, OC);
  }
}

/* dbias (C) += the column sums of dout (rows, C), row by row so the inner
 * loop is contiguous and vectorizes. */
static void add_column_sums(float *dbias, const float *dout, int rows, int C) {
  for (int r = 0; r < rows; r++) {
    const float *d = dout + (size_t)r * C;
    for (int c = 0; c < C; c++) dbias[c] += d[c];
  }
}

void mlprt_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int B, int C, int OC) {
  check_dense(inp, weight, B, C, OC);
  MLPRT_CHECK(dout != NULL, "dense dout is NULL");
  if (dinp)
    mlprt_sgemm(CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dout, OC, weight, C, 1.0f,
                dinp, C);
  if (dweight)
    mlprt_sgemm(CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dout, OC, inp, C, 1.0f,
                dweight, C);
  if (dbias) add_column_sums(dbias, dout, B, OC);
}

/* Sparse input rows: each output reads its weight row (OC, C) at the
 * row's nonzero columns only, output by output so that one weight row
 * stays in cache across the batch. The sums run over the nonzeros in
 * column order, in float: the dense product's terms without its zeros. */
void mlprt_sparse_dense_forward(float *out, const int64_t *ptr, const int32_t *col, const float *val,
                                const float *weight, const float *bias, int B, int C, int OC) {
  MLPRT_CHECK(B > 0 && C > 0 && OC > 0, "sparse dense dims B=%d C=%d OC=%d", B, C, OC);
  MLPRT_CHECK(out != NULL && ptr != NULL && weight != NULL, "sparse dense buffer is NULL");
  for (int o = 0; o < OC; o++) {
    const float *w = weight + (size_t)o * C;
    float b0 = bias ? bias[o] : 0.0f;
    for (int b = 0; b < B; b++) {
      float s = 0.0f;
      for (int64_t k = ptr[b]; k < ptr[b + 1]; k++) s += val[k] * w[col[k]];
      out[(size_t)b * OC + o] = b0 + s;
    }
  }
}

/* dweight touches only the columns some row holds: row o of it gains
 * dout[b][o] * val at each of row b's columns, rows b in order. */
void mlprt_sparse_dense_backward(float *dweight, float *dbias, const float *dout, const int64_t *ptr,
                                 const int32_t *col, const float *val, int B, int C, int OC) {
  MLPRT_CHECK(B > 0 && C > 0 && OC > 0, "sparse dense dims B=%d C=%d OC=%d", B, C, OC);
  MLPRT_CHECK(dout != NULL && ptr != NULL, "sparse dense dout or rows are NULL");
  for (int o = 0; dweight && o < OC; o++) {
    float *dw = dweight + (size_t)o * C;
    for (int b = 0; b < B; b++) {
      float d = dout[(size_t)b * OC + o];
      if (d == 0.0f) continue;
      for (int64_t k = ptr[b]; k < ptr[b + 1]; k++) dw[col[k]] += d * val[k];
    }
  }
  if (dbias) add_column_sums(dbias, dout, B, OC);
}

void mlprt_dense_forward_nonzero(float *out, const float *inp, const float *weight, const float *bias,
                                 void *scratch, int B, int C, int OC) {
  check_dense(inp, weight, B, C, OC);
  MLPRT_CHECK(out != NULL && scratch != NULL, "dense output or scratch is NULL");
  int32_t *col = scratch;
  float *val = (float *)(col + C);
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * C;
    int64_t ptr[2] = {0, 0};
    for (int c = 0; c < C; c++)
      if (x[c] != 0.0f) col[ptr[1]] = c, val[ptr[1]++] = x[c];
    mlprt_sparse_dense_forward(out + (size_t)b * OC, ptr, col, val, weight, bias, 1, C, OC);
  }
}

void mlprt_dense_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                             int B, int C, int OC) {
  check_dense(inp, weight, B, C, OC);
  MLPRT_CHECK(out != NULL, "dense output is NULL");
  for (int b = 0; b < B; b++)
    for (int o = 0; o < OC; o++) {
      double s = bias ? bias[o] : 0.0;
      for (int c = 0; c < C; c++) s += (double)inp[(size_t)b * C + c] * weight[(size_t)o * C + c];
      out[(size_t)b * OC + o] = (float)s;
    }
}

void mlprt_dense_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int B, int C, int OC) {
  check_dense(inp, weight, B, C, OC);
  MLPRT_CHECK(dout != NULL, "dense dout is NULL");
  for (int b = 0; dinp && b < B; b++)
    for (int c = 0; c < C; c++) {
      double s = 0.0;
      for (int o = 0; o < OC; o++) s += (double)dout[(size_t)b * OC + o] * weight[(size_t)o * C + c];
      dinp[(size_t)b * C + c] += (float)s;
    }
  for (int o = 0; dweight && o < OC; o++)
    for (int c = 0; c < C; c++) {
      double s = 0.0;
      for (int b = 0; b < B; b++) s += (double)dout[(size_t)b * OC + o] * inp[(size_t)b * C + c];
      dweight[(size_t)o * C + c] += (float)s;
    }
  for (int o = 0; dbias && o < OC; o++) {
    double s = 0.0;
    for (int b = 0; b < B; b++) s += dout[(size_t)b * OC + o];
    dbias[o] += (float)s;
  }
}

/* The sum of x (n) in eight interleaved partial sums: a single running sum
 * is one long dependency chain (an add's latency per element), while eight
 * independent lanes vectorize. The order is fixed, so results do not depend
 * on threads or alignment. */
static float sum_floats(const float *x, int n) {
  float acc[8] = {0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += x[i + j];
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; i++) s += x[i];
  return s;
}

void mlprt_bias_forward(float *out, const float *inp, const float *bias, int outer, int C, int inner) {
  MLPRT_CHECK(outer > 0 && C > 0 && inner > 0, "bias dims %d x %d x %d", outer, C, inner);
  MLPRT_CHECK(out != NULL && inp != NULL && bias != NULL, "bias add buffer is NULL");
  for (int o = 0; o < outer; o++)
    for (int c = 0; c < C; c++) {
      size_t base = ((size_t)o * C + c) * inner;
      float b = bias[c];
      for (int i = 0; i < inner; i++) out[base + i] = inp[base + i] + b;
    }
}

void mlprt_bias_backward(float *dinp, float *dbias, const float *dout, int outer, int C, int inner) {
  MLPRT_CHECK(outer > 0 && C > 0 && inner > 0, "bias dims %d x %d x %d", outer, C, inner);
  MLPRT_CHECK(dout != NULL, "bias dout is NULL");
  size_t n = (size_t)outer * C * inner;
  if (dinp)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i];
  if (!dbias) return;
  if (inner == 1) {
    add_column_sums(dbias, dout, outer, C);
    return;
  }
  for (int o = 0; o < outer; o++)
    for (int c = 0; c < C; c++) dbias[c] += sum_floats(dout + ((size_t)o * C + c) * inner, inner);
}
