/* embedding.c — table lookup and its scatter-add backward. Consumes codes
 * (N) held as whole floats, as the sequence ops write them, and a table
 * (V, D); produces rows (N, D) and, backward, gradients added to the rows
 * the codes name and no others. */
#include "mlp/layers.h"

#include <string.h>

#include "mlp/tensor.h"

/* The row code n names; anything but a whole number in [0, V) is an error. */
static size_t row_of(const float *ids, int n, int V) {
  float v = ids[n];
  MLPRT_CHECK(v >= 0 && v < (float)V && v == (float)(int)v, "embedding code %g at %d is not in [0, %d)",
              (double)v, n, V);
  return (size_t)v;
}

void mlprt_embedding_forward(float *out, const float *ids, const float *table, int N, int V, int D) {
  MLPRT_CHECK(N > 0 && V > 0 && D > 0, "embedding dims N=%d V=%d D=%d", N, V, D);
  MLPRT_CHECK(out && ids && table, "embedding buffer is NULL");
  for (int n = 0; n < N; n++)
    memcpy(out + (size_t)n * D, table + row_of(ids, n, V) * D, (size_t)D * sizeof(float));
}

void mlprt_embedding_backward(float *dtable, const float *dout, const float *ids, int N, int V, int D) {
  MLPRT_CHECK(N > 0 && V > 0 && D > 0, "embedding dims N=%d V=%d D=%d", N, V, D);
  MLPRT_CHECK(dtable && dout && ids, "embedding buffer is NULL");
  for (int n = 0; n < N; n++) {
    float *row = dtable + row_of(ids, n, V) * D;
    const float *g = dout + (size_t)n * D;
    for (int d = 0; d < D; d++) row[d] += g[d];
  }
}
