/* shard.c — a batch's gradient as the fixed-order sum of its slices'
 * (see train_int.h and mlp/comm.h), and the optimizer step split over the
 * ranks. Consumes the model's generated forward, backward and update and
 * the ranks' exchange; produces the batch's gradient in the model's grads
 * and the stepped parameters, the same bits for one process and for any
 * rank count that divides the slice count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

static int log2_of(int64_t v) {
  int k = 0;
  while ((INT64_C(1) << k) < v) k++;
  return k;
}

/* More than one rank: the exchange runs. */
static bool exchanging(const MlprtShards *s) {
  return s->comm && s->comm->size > 1;
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
  s->part = calloc((size_t)ranks, sizeof *s->part);
  return 0;
}

void mlprt_shards_free(MlprtShards *s) {
  free(s->levels);
  free(s->loss);
  free(s->send);
  free(s->recv);
  free(s->count);
  free(s->displ);
  free(s->part);
}

/* Leaf i (from 0) of a pairwise tree enters as carry [n]: each complete
 * pair of equal subtrees is added left + right, and the pending sum of each
 * size waits in levels. Returns where the sum of leaves 0..i now is: carry
 * itself after the last leaf (last: i + 1 is a power of two), else the
 * level it waits in. */
static const float *tree_add(float *levels, size_t n, int64_t i, float *carry, bool last) {
  int k = 0;
  for (; i >> k & 1; k++) {
    const float *left = levels + (size_t)k * n;
    for (size_t j = 0; j < n; j++) carry[j] = left[j] + carry[j];
  }
  if (last) return carry;
  memcpy(levels + (size_t)k * n, carry, n * sizeof *carry);
  return levels + (size_t)k * n;
}

/* Where part j of n parameters starts among `ranks` parts. */
static size_t part_start(size_t n, int j, int ranks) {
  return n * (size_t)j / (size_t)ranks;
}

/* The ranks' subtrees g [n] (this rank's, in grads) reduced to this
 * rank's part of grads: rank j adds part j of every rank's in rank order,
 * as the same pairwise tree over the ranks (a power of two). Only the
 * other ranks' parts travel, each with this rank's slice losses. *loss:
 * every slice's loss, added in slice order. */
static int reduce_scatter(MlprtShards *s, float *grads, size_t n, double *loss) {
  MlprtComm *c = s->comm;
  int ranks = c->size, me = c->rank;
  int *scount = s->count, *rcount = s->count + ranks;
  int *sdispl = s->displ, *rdispl = s->displ + ranks;
  int pair = 2 * (int)s->own; /* floats of this rank's losses */
  size_t lo = part_start(n, me, ranks), mine = part_start(n, me + 1, ranks) - lo;
  int at = 0;
  for (int j = 0; j < ranks; j++) {
    size_t jlo = part_start(n, j, ranks), len = part_start(n, j + 1, ranks) - jlo;
    scount[j] = j == me ? 0 : (int)len + pair;
    sdispl[j] = at;
    if (j != me) {
      memcpy(s->send + at, grads + jlo, len * sizeof *grads);
      memcpy(s->send + at + len, s->loss, (size_t)pair * sizeof *s->send);
    }
    at += scount[j];
    rcount[j] = j == me ? 0 : (int)mine + pair;
    rdispl[j] = j * ((int)mine + pair);
  }
  if (c->alltoall(c, s->send, scount, sdispl, s->recv, rcount, rdispl) != 0) return -1;
  double total = 0;
  for (int r = 0; r < ranks; r++) {
    s->part[r] = r == me ? grads + lo : s->recv + rdispl[r];
    for (int64_t k = 0; k < s->own; k++) {
      double l;
      if (r == me) l = s->loss[k];
      else memcpy(&l, s->part[r] + mine + 2 * k, sizeof l);
      total += l;
    }
  }
  *loss = total;
  /* Level by level, left + right in place; the root into grads. */
  for (int w = 1; w < ranks; w *= 2)
    for (int i = 0; i + w < ranks; i += 2 * w) {
      float *dst = 2 * w == ranks ? grads + lo : s->part[i];
      const float *left = s->part[i], *right = s->part[i + w];
      for (size_t j = 0; j < mine; j++) dst[j] = left[j] + right[j];
    }
  return 0;
}

/* Every rank's part of buf [n] into every other rank's buf, in place. */
static int gather_parts(MlprtShards *s, float *buf, size_t n) {
  MlprtComm *c = s->comm;
  int ranks = c->size;
  int *gcount = s->count + 2 * ranks, *gdispl = s->displ + 2 * ranks;
  for (int j = 0; j < ranks; j++) {
    gdispl[j] = (int)part_start(n, j, ranks);
    gcount[j] = (int)part_start(n, j + 1, ranks) - gdispl[j];
  }
  return c->allgather(c, buf, gcount, gdispl);
}

int mlprt_shard_step(MlprtShards *s, const MlprtModel *m, unsigned char *base, int64_t nb, uint64_t step,
                     uint64_t seed, MlprtFillFn fill, void *ctx, double *loss) {
  double t0 = mlprt_now();
  size_t n = (size_t)m->n_params;
  float *grads = (float *)(base + m->grads_off);
  int rank = s->comm ? s->comm->rank : 0;
  const float *g = grads;
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
    g = tree_add(s->levels, n, k, grads, k + 1 == s->own);
  }
  s->compute += mlprt_now() - t0;
  if (g != grads) memcpy(grads, g, n * sizeof *grads);
  if (exchanging(s)) {
    if (reduce_scatter(s, grads, n, loss) != 0) return -1;
    /* Clipping by the global norm needs every rank to hold the whole sum. */
    return m->whole_grads ? gather_parts(s, grads, n) : 0;
  }
  *loss = 0;
  for (int64_t k = 0; k < s->own; k++) *loss += s->loss[k];
  return 0;
}

int mlprt_shard_update(MlprtShards *s, const MlprtModel *m, unsigned char *base, double lr, int64_t t) {
  double t0 = mlprt_now();
  size_t n = (size_t)m->n_params;
  if (!exchanging(s) || m->whole_grads) {
    m->update(base, lr, t, 0, (int64_t)n);
    s->update += mlprt_now() - t0;
    return 0;
  }
  int ranks = s->comm->size, me = s->comm->rank;
  m->update(base, lr, t, (int64_t)part_start(n, me, ranks), (int64_t)part_start(n, me + 1, ranks));
  s->update += mlprt_now() - t0;
  return gather_parts(s, (float *)(base + m->params_off), n);
}

int mlprt_shard_state(MlprtShards *s, const MlprtModel *m, unsigned char *base) {
  if (!exchanging(s) || m->whole_grads) return 0;
  size_t n = (size_t)m->n_params;
  if (gather_parts(s, (float *)(base + m->m_off), n) != 0) return -1;
  return gather_parts(s, (float *)(base + m->v_off), n);
}
