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
  size_t extra = 2 * (size_t)s->own * (size_t)ranks; /* each rank's losses, as pairs of floats */
  s->levels = calloc((size_t)(log2_of(shards) + 1) * s->n, sizeof *s->levels);
  s->loss = calloc((size_t)s->own, sizeof *s->loss);
  s->send = calloc(s->n + extra, sizeof *s->send);
  s->recv = calloc(s->n + (size_t)ranks + extra, sizeof *s->recv);
  s->count = calloc(3 * (size_t)ranks, sizeof *s->count);
  s->displ = calloc(3 * (size_t)ranks, sizeof *s->displ);
  return 0;
}

void mlprt_shards_free(MlprtShards *s) {
  free(s->levels);
  free(s->loss);
  free(s->send);
  free(s->recv);
  free(s->count);
  free(s->displ);
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

/* The ranks' subtrees g [n] into grads: rank j adds part j of every
 * rank's in rank order, then each gathers all parts. *loss: every slice's
 * loss, added in slice order. */
static int combine(MlprtShards *s, const float *g, size_t n, float *grads, double *loss) {
  MlprtComm *c = s->comm;
  int ranks = c->size;
  int *scount = s->count, *rcount = s->count + ranks, *gcount = s->count + 2 * ranks;
  int *sdispl = s->displ, *rdispl = s->displ + ranks, *gdispl = s->displ + 2 * ranks;
  int pair = 2 * (int)s->own; /* floats of this rank's losses */
  for (int j = 0; j < ranks; j++) {
    size_t lo = n * (size_t)j / (size_t)ranks, hi = n * (size_t)(j + 1) / (size_t)ranks;
    gcount[j] = (int)(hi - lo);
    gdispl[j] = (int)lo;
    scount[j] = gcount[j] + pair;
    sdispl[j] = (int)lo + j * pair;
    memcpy(s->send + sdispl[j], g + lo, (hi - lo) * sizeof *g);
    memcpy(s->send + sdispl[j] + gcount[j], s->loss, (size_t)pair * sizeof *s->send);
  }
  int mine = gcount[c->rank];
  for (int r = 0; r < ranks; r++) {
    rcount[r] = mine + pair;
    rdispl[r] = r * (mine + pair);
  }
  if (c->alltoall(c, s->send, scount, sdispl, s->recv, rcount, rdispl) != 0) return -1;
  double total = 0;
  for (int r = 0; r < ranks; r++) {
    float *part = s->recv + rdispl[r];
    for (int64_t k = 0; k < s->own; k++) {
      double l;
      memcpy(&l, part + mine + 2 * k, sizeof l);
      total += l;
    }
    tree_add(s->levels, (size_t)mine, r, part);
  }
  *loss = total;
  const float *sum = s->levels + (size_t)log2_of(ranks) * (size_t)mine;
  return c->allgather(c, sum, grads, gcount, gdispl);
}

int mlprt_shard_step(MlprtShards *s, const MlprtModel *m, unsigned char *base, int64_t nb, uint64_t step,
                     uint64_t seed, MlprtFillFn fill, void *ctx, double *loss) {
  size_t n = (size_t)m->n_params;
  float *grads = (float *)(base + m->grads_off);
  int rank = s->comm ? s->comm->rank : 0;
  for (int64_t k = 0; k < s->own; k++) {
    int64_t slice = rank * s->own + k;
    int64_t lo = nb * slice / s->shards, hi = nb * (slice + 1) / s->shards;
    s->loss[k] = 0;
    if (hi > lo) {
      fill(ctx, lo, hi);
      m->forward(base, hi - lo, 1, step * (uint64_t)s->shards + (uint64_t)slice, seed);
      s->loss[k] = m->backward(base, hi - lo) * (double)(hi - lo);
      float share = (float)((double)(hi - lo) / (double)nb);
      for (size_t j = 0; j < n; j++) grads[j] *= share;
    } else {
      memset(grads, 0, n * sizeof *grads);
    }
    tree_add(s->levels, n, k, grads);
  }
  const float *g = s->levels + (size_t)log2_of(s->own) * n;
  if (s->comm) return combine(s, g, n, grads, loss);
  memcpy(grads, g, n * sizeof *grads);
  *loss = 0;
  for (int64_t k = 0; k < s->own; k++) *loss += s->loss[k];
  return 0;
}
