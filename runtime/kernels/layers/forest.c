/* forest.c — the forward passes of tree ensembles stored complete to their
 * depth (abi.def's mlprt_forest_forward and mlprt_boost_forward). Consumes
 * rows and the node and leaf arrays a forest or boosting fit wrote;
 * produces the mean of the leaves the rows reach (a forest) or their sums
 * per output (boosted trees). Training, the predictor and its benchmarks
 * all walk the trees here, so their answers are the same bits. */
#include "mlp/layers.h"

#include <string.h>

#include "mlp/tensor.h"

enum { LANES = 8 };

/* The leaves row x reaches in trees t0 .. t0 + lanes - 1 (lanes <= LANES)
 * into leaf[]: the trees' walks are independent chains of loads the core
 * overlaps. */
static void walk(const float *x, const float *ensemble, int64_t stride, int t0, int lanes, int depth,
                 int64_t leaf[LANES]) {
  const float *node = ensemble + t0 * stride;
  int64_t h[LANES] = {0};
  for (int d = 0; d < depth; d++)
    for (int j = 0; j < lanes; j++) {
      const float *nj = node + j * stride + 2 * h[j];
      h[j] = 2 * h[j] + 1 + (x[(int)nj[0]] > nj[1]);
    }
  for (int j = 0; j < lanes; j++) leaf[j] = h[j];
}

/* out (B, K) = the sums of the leaves the rows reach, a tree's leaves
 * holding `values` values each: K (added to the K outputs) or 1 (tree t's
 * added to output t % K); the leaves are added in tree order. */
static void sum_leaves(float *out, const float *inp, const float *ensemble, int B, int C, int trees,
                       int depth, int K, int values) {
  int64_t inner = ((int64_t)1 << depth) - 1, stride = 2 * inner + (inner + 1) * values;
  for (int b = 0; b < B; b++) {
    const float *x = inp + (int64_t)b * C;
    float *o = out + (int64_t)b * K;
    memset(o, 0, (size_t)K * sizeof *o);
    for (int t = 0; t < trees; t += LANES) {
      int lanes = trees - t < LANES ? trees - t : LANES;
      int64_t leaf[LANES];
      walk(x, ensemble, stride, t, lanes, depth, leaf);
      for (int j = 0; j < lanes; j++) {
        const float *v = ensemble + (t + j) * stride + 2 * inner + (leaf[j] - inner) * values;
        if (values == 1) o[(t + j) % K] += v[0];
        else
          for (int k = 0; k < K; k++) o[k] += v[k];
      }
    }
  }
}

void mlprt_forest_forward(float *out, const float *inp, const float *forest, int B, int C, int trees,
                          int depth, int K) {
  MLPRT_CHECK((out != NULL && inp != NULL && forest != NULL) || B == 0, "forest buffer is NULL");
  MLPRT_CHECK(depth >= 1 && depth <= 30 && trees >= 1 && K >= 1 && C >= 1, "bad forest shape");
  sum_leaves(out, inp, forest, B, C, trees, depth, K, K);
  float scale = 1.0f / (float)trees;
  for (int64_t i = 0; i < (int64_t)B * K; i++) out[i] *= scale;
}

void mlprt_boost_forward(float *out, const float *inp, const float *ensemble, int B, int C, int trees,
                         int depth, int K) {
  MLPRT_CHECK((out != NULL && inp != NULL && ensemble != NULL) || B == 0, "ensemble buffer is NULL");
  MLPRT_CHECK(depth >= 1 && depth <= 30 && trees >= 1 && K >= 1 && C >= 1, "bad ensemble shape");
  sum_leaves(out, inp, ensemble, B, C, trees, depth, K, 1);
}
