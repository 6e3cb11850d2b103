/* forest.c — the forward passes of tree ensembles stored complete to their
 * depth (abi.def's mlprt_forest_forward, mlprt_boost_forward and
 * mlprt_trees_forward). Consumes rows and the node and leaf arrays a forest
 * or boosting fit wrote, or the walk layout mlprt_trees_pack makes of them;
 * produces the mean of the leaves the rows reach (a forest) or their sums
 * per output (boosted trees). Training, the predictor and its benchmarks
 * all walk the trees here, so their answers are the same bits. */
#include "mlp/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/tensor.h"

/* A row walks LANES trees at once (their walks are independent chains of
 * loads the core overlaps, each lane's node index in a register); a block of
 * BLOCK rows walks a group of trees before the next group, so the group's
 * nodes stay in the nearest cache. Each row still adds its trees' leaves in
 * tree order. */
enum { LANES = 10, BLOCK = 64 };

/* The walk layout (mlprt_trees_pack): every tree's nodes in 2^depth slots
 * of a Node (slot h for heap node h, the last slot unused), tree after
 * tree, then every tree's 2^depth leaves of `values` floats. A lane's node
 * is then the group's base + a constant + its index, with the feature an
 * integer: no conversion and no per-lane pointer in the chain of loads. */
typedef struct {
  uint32_t feature;
  float threshold;
} Node;

int64_t mlprt_trees_walk_bytes(int trees, int depth, int values) {
  return (int64_t)trees * ((int64_t)1 << depth) * (int64_t)(sizeof(Node) + (size_t)values * sizeof(float));
}

void mlprt_trees_pack(void *walk, const float *stored, int trees, int depth, int values) {
  int64_t slots = (int64_t)1 << depth, inner = slots - 1, stride = 2 * inner + slots * values;
  Node *nodes = walk;
  float *leaves = (float *)(nodes + (int64_t)trees * slots);
  for (int64_t t = 0; t < trees; t++) {
    const float *tree = stored + t * stride;
    for (int64_t h = 0; h < inner; h++)
      nodes[t * slots + h] = (Node){(uint32_t)tree[2 * h], tree[2 * h + 1]};
    nodes[t * slots + inner] = (Node){0, INFINITY};
    memcpy(leaves + t * slots * values, tree + 2 * inner, (size_t)(slots * values) * sizeof *leaves);
  }
}

/* out [K] += the leaves v[0..n) of trees t.. in order: K values each, or
 * one added to output (t + j) % K. Each output's sum runs in a register. */
static inline void add_leaves(float *out, const float *const v[LANES], int n, int t, int K, int values) {
  if (values == 1)
    for (int j0 = 0; j0 < K && j0 < n; j0++) {
      float *o = out + (t + j0) % K, a = *o;
      for (int j = j0; j < n; j += K) a += v[j][0];
      *o = a;
    }
  else
    for (int k = 0; k < K; k++) {
      float a = out[k];
      for (int j = 0; j < n; j++) a += v[j][k];
      out[k] = a;
    }
}

/* out (B, K) += the leaves of the walk layout's trees the rows reach, the
 * trees LANES at a time (the last group ends at the last tree and adds only
 * the trees no group added); inlined with a constant depth up to 8, where
 * the lanes' slots lie at constant offsets. */
static inline __attribute__((always_inline)) void sum_walk(float *out, const float *inp, const void *walk,
                                                           int B, int C, int trees, int depth, int K,
                                                           int values) {
  int64_t slots = (int64_t)1 << depth, inner = slots - 1;
  const Node *nodes = walk;
  const float *leaves = (const float *)(nodes + (int64_t)trees * slots);
  for (int b0 = 0; b0 < B; b0 += BLOCK) {
    int b1 = B - b0 < BLOCK ? B : b0 + BLOCK;
    for (int t = 0; t < trees; t += LANES) {
      int t0 = t + LANES <= trees ? t : trees - LANES; /* the group walked: trees t0 .. t0 + LANES - 1 */
      if (t0 < 0) break;
      const Node *g = nodes + (int64_t)t0 * slots;
      /* hidden from the optimiser, the group's base stays one register and each lane's constant offset
       * part of its address (else ten lane offsets are kept, and spilled, each in a register) */
      __asm__("" : "+r"(g));
      for (int b = b0; b < b1; b++) {
        const float *x = inp + (int64_t)b * C;
        int64_t h[LANES];
        for (int j = 0; j < LANES; j++) h[j] = 0;
        for (int d = 0; d < depth; d++)
          for (int j = 0; j < LANES; j++) {
            const Node *nd = g + j * slots + h[j];
            h[j] = 2 * h[j] + 1 + (x[nd->feature] > nd->threshold);
          }
        const float *v[LANES];
        for (int j = 0; j < LANES; j++) v[j] = leaves + ((t0 + j) * slots + h[j] - inner) * values;
        add_leaves(out + (int64_t)b * K, v + (t - t0), LANES - (t - t0), t, K, values);
      }
    }
    /* fewer trees than lanes: one at a time */
    for (int t = 0; trees < LANES && t < trees; t++)
      for (int b = b0; b < b1; b++) {
        const float *x = inp + (int64_t)b * C;
        const Node *tree = nodes + (int64_t)t * slots;
        int64_t h = 0;
        for (int d = 0; d < depth; d++) h = 2 * h + 1 + (x[tree[h].feature] > tree[h].threshold);
        const float *v[LANES] = {leaves + (t * slots + h - inner) * values};
        add_leaves(out + (int64_t)b * K, v, 1, t, K, values);
      }
  }
}

/* out (B, K) = the sums of the leaves the rows reach through the walk
 * layout, a tree's leaves holding `values` values each: K (added to the K
 * outputs) or 1 (tree t's added to output t % K). */
static void sum_leaves_walk(float *out, const float *inp, const void *walk, int B, int C, int trees,
                            int depth, int K, int values) {
  memset(out, 0, (size_t)B * (size_t)K * sizeof *out);
  switch (depth) {
#define DEPTH(d) \
  case d: sum_walk(out, inp, walk, B, C, trees, d, K, values); break;
    DEPTH(1) DEPTH(2) DEPTH(3) DEPTH(4) DEPTH(5) DEPTH(6) DEPTH(7) DEPTH(8)
#undef DEPTH
  default: sum_walk(out, inp, walk, B, C, trees, depth, K, values);
  }
}

/* The same sums over the stored layout: fewer trees than lanes walked
 * there one at a time (the out-of-bag score walks one tree a row), more
 * packed into the walk layout first. */
static void sum_leaves(float *out, const float *inp, const float *ensemble, int B, int C, int trees,
                       int depth, int K, int values) {
  if (trees >= LANES) {
    void *walk = mlprt_alloc_aligned((size_t)mlprt_trees_walk_bytes(trees, depth, values));
    mlprt_trees_pack(walk, ensemble, trees, depth, values);
    sum_leaves_walk(out, inp, walk, B, C, trees, depth, K, values);
    mlprt_free_aligned(walk);
    return;
  }
  int64_t inner = ((int64_t)1 << depth) - 1, stride = 2 * inner + (inner + 1) * values;
  memset(out, 0, (size_t)B * (size_t)K * sizeof *out);
  for (int t = 0; t < trees; t++)
    for (int b = 0; b < B; b++) {
      const float *x = inp + (int64_t)b * C, *tree = ensemble + t * stride;
      int64_t h = 0;
      for (int d = 0; d < depth; d++) h = 2 * h + 1 + (x[(int)tree[2 * h]] > tree[2 * h + 1]);
      const float *v[LANES] = {tree + 2 * inner + (h - inner) * values};
      add_leaves(out + (int64_t)b * K, v, 1, t, K, values);
    }
}

static void check_shape(const float *out, const float *inp, const void *trees_at, int B, int C, int trees,
                        int depth, int K) {
  MLPRT_CHECK((out != NULL && inp != NULL && trees_at != NULL) || B == 0, "ensemble buffer is NULL");
  MLPRT_CHECK(depth >= 1 && depth <= 30 && trees >= 1 && K >= 1 && C >= 1, "bad ensemble shape");
  (void)out, (void)inp, (void)trees_at, (void)B, (void)C, (void)trees, (void)depth, (void)K;
}

static void mean(float *out, int B, int trees, int K) {
  float scale = 1.0f / (float)trees;
  for (int64_t i = 0; i < (int64_t)B * K; i++) out[i] *= scale;
}

void mlprt_forest_forward(float *out, const float *inp, const float *forest, int B, int C, int trees,
                          int depth, int K) {
  check_shape(out, inp, forest, B, C, trees, depth, K);
  sum_leaves(out, inp, forest, B, C, trees, depth, K, K);
  mean(out, B, trees, K);
}

void mlprt_boost_forward(float *out, const float *inp, const float *ensemble, int B, int C, int trees,
                         int depth, int K) {
  check_shape(out, inp, ensemble, B, C, trees, depth, K);
  sum_leaves(out, inp, ensemble, B, C, trees, depth, K, 1);
}

void mlprt_trees_forward(float *out, const float *inp, const void *walk, int B, int C, int trees, int depth,
                         int K, int forest) {
  check_shape(out, inp, walk, B, C, trees, depth, K);
  sum_leaves_walk(out, inp, walk, B, C, trees, depth, K, forest ? K : 1);
  if (forest) mean(out, B, trees, K);
}
