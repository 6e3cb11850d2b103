/* forest.c — the forward passes of tree ensembles stored complete to their
 * depth (abi.def's mlprt_forest_forward and mlprt_boost_forward). Consumes
 * rows and the node and leaf arrays a forest or boosting fit wrote;
 * produces the mean of the leaves the rows reach (a forest) or their sums
 * per output (boosted trees). Training, the predictor and its benchmarks
 * all walk the trees here, so their answers are the same bits. */
#include "mlp/layers.h"

#include <string.h>

#include "mlp/tensor.h"

/* A row walks LANES trees at once (their walks are independent chains of
 * loads the core overlaps, each lane's node in a register); a block of
 * BLOCK rows walks a group of trees before the next group, so the group's
 * nodes stay in the nearest cache. Each row still adds its trees' leaves in
 * tree order. */
enum { LANES = 8, BLOCK = 64 };

/* The leaves (heap indices) row x reaches in the LANES trees from node. */
static inline void walk(const float *x, const float *node, int64_t stride, int depth, int32_t h[LANES]) {
  for (int j = 0; j < LANES; j++) h[j] = 0;
  for (int d = 0; d < depth; d++)
    for (int j = 0; j < LANES; j++) {
      const float *nj = node + j * stride + 2 * h[j];
      h[j] = 2 * h[j] + 1 + (x[(int)nj[0]] > nj[1]);
    }
}

/* out [K] += the leaf of heap index h of the tree at tree, tree t of the
 * ensemble: K values, or one added to output t % K. */
static inline void add_leaf(float *out, const float *tree, int64_t inner, int64_t h, int t, int K, int values) {
  const float *v = tree + 2 * inner + (h - inner) * values;
  if (values == 1) out[t % K] += v[0];
  else
    for (int k = 0; k < K; k++) out[k] += v[k];
}

/* out (B, K) = the sums of the leaves the rows reach, a tree's leaves
 * holding `values` values each: K (added to the K outputs) or 1 (tree t's
 * added to output t % K); each row adds its leaves in tree order. */
static void sum_leaves(float *out, const float *inp, const float *ensemble, int B, int C, int trees,
                       int depth, int K, int values) {
  int64_t inner = ((int64_t)1 << depth) - 1, stride = 2 * inner + (inner + 1) * values;
  memset(out, 0, (size_t)B * (size_t)K * sizeof *out);
  for (int b0 = 0; b0 < B; b0 += BLOCK) {
    int b1 = B - b0 < BLOCK ? B : b0 + BLOCK, t = 0;
    for (; t + LANES <= trees; t += LANES)
      for (int b = b0; b < b1; b++) {
        int32_t h[LANES];
        walk(inp + (int64_t)b * C, ensemble + t * stride, stride, depth, h);
        for (int j = 0; j < LANES; j++)
          add_leaf(out + (int64_t)b * K, ensemble + (t + j) * stride, inner, h[j], t + j, K, values);
      }
    /* the last trees one at a time */
    for (; t < trees; t++)
      for (int b = b0; b < b1; b++) {
        const float *x = inp + (int64_t)b * C, *tree = ensemble + t * stride;
        int64_t h = 0;
        for (int d = 0; d < depth; d++) h = 2 * h + 1 + (x[(int)tree[2 * h]] > tree[2 * h + 1]);
        add_leaf(out + (int64_t)b * K, tree, inner, h, t, K, values);
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
