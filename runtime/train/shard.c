/* shard.c — a batch's gradient as the fixed-order sum of its slices'
 * (see train_int.h and mlp/comm.h). Consumes the model's generated forward
 * and backward and the ranks' exchange; produces the batch's gradient in the
 * model's grads, the same bits for one process and for any rank count that
 * divides the slice count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

static int log2_of(int64_t v) {
  int k = 0;
  while ((INT64_C(1) << k) < v) k++;
  return k;
}

int mlprt_shards_init(MlprtShards *s, int64_t shards, MlprtComm *comm, int64_t max_params, char *err,
                      size_t n) {
  memset(s, 0, sizeof *s);
  int ranks = comm ? comm->size : 1;
  if (shards % ranks != 0) {
    snprintf(err, n, "%d ranks cannot share environment.shards = %lld slices: run a rank count dividing it",
             ranks, (long long)shards);
    return -1;
  }
  s->shards = shards;
  s->own = shards / ranks;
  s->comm = comm;
  s->n = (size_t)max_params;
  size_t rec = s->n + 2 * (size_t)s->own;
  s->levels = calloc((size_t)(log2_of(shards) + 1) * s->n, sizeof *s->levels);
  s->mine = calloc(rec, sizeof *s->mine);
  s->all = calloc(rec * (size_t)ranks, sizeof *s->all);
  return 0;
}

void mlprt_shards_free(MlprtShards *s) {
  free(s->levels);
  free(s->mine);
  free(s->all);
}

/* Leaf i (from 0) of a pairwise tree enters as carry [n]: each complete
 * pair of equal subtrees is added left + right, and the pending sum of each
 * size waits in levels. After 2^k leaves the sum is levels[k]. */
static void tree_add(float *levels, size_t n, int64_t i, float *carry) {
  int k = 0;
  for (; i >> k & 1; k++) {
    const float *left = levels + (size_t)k * n;
    for (size_t j = 0; j < n; j++) carry[j] = left[j] + carry[j];
  }
  memcpy(levels + (size_t)k * n, carry, n * sizeof *carry);
}

int mlprt_shard_step(MlprtShards *s, const MlprtModel *m, unsigned char *base, int64_t nb, uint64_t step,
                     uint64_t seed, MlprtFillFn fill, void *ctx, double *loss) {
  size_t n = (size_t)m->n_params, rec = s->n + 2 * (size_t)s->own;
  float *grads = (float *)(base + m->grads_off);
  int rank = s->comm ? s->comm->rank : 0, ranks = s->comm ? s->comm->size : 1;
  for (int64_t k = 0; k < s->own; k++) {
    int64_t slice = rank * s->own + k;
    int64_t lo = nb * slice / s->shards, hi = nb * (slice + 1) / s->shards;
    double sum = 0;
    if (hi > lo) {
      fill(ctx, lo, hi);
      m->forward(base, hi - lo, 1, step * (uint64_t)s->shards + (uint64_t)slice, seed);
      sum = m->backward(base, hi - lo) * (double)(hi - lo);
      float share = (float)((double)(hi - lo) / (double)nb);
      for (size_t j = 0; j < n; j++) grads[j] *= share;
    } else {
      memset(grads, 0, n * sizeof *grads);
    }
    memcpy(s->mine + s->n + 2 * (size_t)k, &sum, sizeof sum);
    tree_add(s->levels, n, k, grads);
  }
  memcpy(s->mine, s->levels + (size_t)log2_of(s->own) * n, n * sizeof *grads);
  if (!s->comm) {
    memcpy(s->all, s->mine, rec * sizeof *s->all);
  } else if (s->comm->allgather(s->comm, s->mine, s->all, rec) != 0) {
    return -1;
  }
  double total = 0;
  for (int r = 0; r < ranks; r++) {
    float *g = s->all + (size_t)r * rec;
    for (int64_t k = 0; k < s->own; k++) {
      double sum;
      memcpy(&sum, g + s->n + 2 * (size_t)k, sizeof sum);
      total += sum;
    }
    tree_add(s->levels, n, r, g);
  }
  memcpy(grads, s->levels + (size_t)log2_of(ranks) * n, n * sizeof *grads);
  *loss = total;
  return 0;
}
