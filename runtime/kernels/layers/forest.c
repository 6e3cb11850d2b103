/* forest.c — the forward pass of a tree ensemble stored complete to its
 * depth (abi.def's mlprt_forest_forward). Consumes rows and the node and
 * leaf arrays a forest fit wrote; produces the mean of the leaves the rows
 * reach. Training, the predictor and its benchmarks all walk the trees here,
 * so their answers are the same bits. */
#include "mlp/layers.h"

#include <string.h>

#include "mlp/tensor.h"

enum { LANES = 8 };

void mlprt_forest_forward(float *out, const float *inp, const float *forest, int B, int C, int trees,
                          int depth, int K) {
  MLPRT_CHECK((out != NULL && inp != NULL && forest != NULL) || B == 0, "forest buffer is NULL");
  MLPRT_CHECK(depth >= 1 && depth <= 30 && trees >= 1 && K >= 1 && C >= 1, "bad forest shape");
  int64_t inner = ((int64_t)1 << depth) - 1, stride = 2 * inner + (inner + 1) * K;
  float scale = 1.0f / (float)trees;
  for (int b = 0; b < B; b++) {
    const float *x = inp + (int64_t)b * C;
    float *o = out + (int64_t)b * K;
    memset(o, 0, (size_t)K * sizeof *o);
    /* LANES trees at a time: their walks are independent chains of loads
     * the core overlaps; the leaves are added in tree order all the same. */
    int t = 0;
    for (; t + LANES <= trees; t += LANES) {
      const float *node = forest + t * stride;
      int64_t h[LANES] = {0};
      for (int d = 0; d < depth; d++)
        for (int j = 0; j < LANES; j++) {
          const float *nj = node + j * stride + 2 * h[j];
          h[j] = 2 * h[j] + 1 + (x[(int)nj[0]] > nj[1]);
        }
      for (int j = 0; j < LANES; j++) {
        const float *v = node + j * stride + 2 * inner + (h[j] - inner) * K;
        for (int k = 0; k < K; k++) o[k] += v[k];
      }
    }
    for (; t < trees; t++) {
      const float *node = forest + t * stride;
      int64_t h = 0;
      for (int d = 0; d < depth; d++) h = 2 * h + 1 + (x[(int)node[2 * h]] > node[2 * h + 1]);
      const float *v = node + 2 * inner + (h - inner) * K;
      for (int k = 0; k < K; k++) o[k] += v[k];
    }
    for (int k = 0; k < K; k++) o[k] *= scale;
  }
}
