/* embedding.c — table lookup and its scatter-add backward. Consumes integer
 * ids (B) and a table (V, D); produces rows (B, D) and accumulated table
 * gradients. */
#include "mlp/layers.h"

#include <string.h>

#include "mlp/tensor.h"

void mlprt_embedding_forward(float *out, const int32_t *ids, const float *table, int B, int V, int D) {
  MLPRT_CHECK(B > 0 && V > 0 && D > 0, "embedding dims B=%d V=%d D=%d", B, V, D);
  MLPRT_CHECK(out && ids && table, "embedding buffer is NULL");
  for (int b = 0; b < B; b++) {
    MLPRT_CHECK(ids[b] >= 0 && ids[b] < V, "embedding id %d at %d outside [0, %d)", ids[b], b, V);
    memcpy(out + (size_t)b * D, table + (size_t)ids[b] * D, (size_t)D * sizeof(float));
  }
}

void mlprt_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int B, int V, int D) {
  MLPRT_CHECK(B > 0 && V > 0 && D > 0, "embedding dims B=%d V=%d D=%d", B, V, D);
  MLPRT_CHECK(dtable && dout && ids, "embedding buffer is NULL");
  for (int b = 0; b < B; b++) {
    MLPRT_CHECK(ids[b] >= 0 && ids[b] < V, "embedding id %d at %d outside [0, %d)", ids[b], b, V);
    float *row = dtable + (size_t)ids[b] * D;
    const float *g = dout + (size_t)b * D;
    for (int d = 0; d < D; d++) row[d] += g[d];
  }
}
