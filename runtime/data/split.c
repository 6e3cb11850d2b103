/* split.c — train / validation / test assignment (random, stratified,
 * grouped, time-ordered) and cross-validation folds (plain, stratified,
 * grouped, time-series). Consumes a table and a seed;
 * produces t->part. Shuffles are Fisher-Yates driven by tensor.h's
 * counter-based RNG, so a seed gives the same split everywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"
#include "mlp/tensor.h"

/* Stream numbers keep the split's draws apart from other users of a seed. */
#define SPLIT_STREAM UINT64_C(0x5350)
#define KFOLD_STREAM UINT64_C(0x4B46)

void mlprt_shuffle(int64_t *a, int64_t n, uint64_t seed, uint64_t stream) {
  for (int64_t i = n - 1; i > 0; i--) {
    /* two words give 64 bits, so the modulo bias is negligible */
    uint64_t r = (uint64_t)mlprt_rng_u32(seed, stream, 2 * (uint64_t)i) << 32 |
                 mlprt_rng_u32(seed, stream, 2 * (uint64_t)i + 1);
    int64_t j = (int64_t)(r % (uint64_t)(i + 1));
    int64_t tmp = a[i];
    a[i] = a[j], a[j] = tmp;
  }
}

/* Sizes of the three parts of n items by fractions fr[3] (summing to 1). */
static void part_sizes(int64_t n, const double fr[3], int64_t sz[3]) {
  sz[0] = llround((double)n * fr[0]);
  sz[1] = llround((double)n * fr[1]);
  if (sz[0] > n) sz[0] = n;
  if (sz[0] + sz[1] > n) sz[1] = n - sz[0];
  sz[2] = n - sz[0] - sz[1];
}

static void assign(uint8_t *part, const int64_t *rows, int64_t n, const double fr[3]) {
  int64_t sz[3];
  part_sizes(n, fr, sz);
  for (int64_t i = 0; i < n; i++)
    part[rows[i]] = i < sz[0] ? MLPRT_TRAIN : i < sz[0] + sz[1] ? MLPRT_VALID : MLPRT_TEST;
}

int32_t mlprt_row_groups(const MlprtTable *t, int col, int32_t *gid) {
  MlprtLevels lv = {0};
  char buf[64];
  for (int64_t r = 0; r < t->nrows; r++) {
    const char *s = mlprt_is_missing(t, col, r) ? "\x01missing" : mlprt_cell_str(t, col, r, buf, sizeof buf);
    gid[r] = mlprt_levels_intern(&lv, s, strlen(s));
  }
  int32_t n = lv.n;
  mlprt_levels_free(&lv);
  return n;
}

int mlprt_split(MlprtTable *t, const MlprtSplitParams *p, MlprtError *err) {
  double sum = p->train + p->valid + p->test;
  if (!(sum > 0) || p->train < 0 || p->valid < 0 || p->test < 0) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "split: fractions must be >= 0 with a positive sum");
    return -1;
  }
  double fr[3] = {p->train / sum, p->valid / sum, p->test / sum};
  int by = -1;
  if (p->mode == MLPRT_SPLIT_STRATIFIED || p->mode == MLPRT_SPLIT_GROUPED) {
    by = p->by ? mlprt_table_find(t, p->by) : -1;
    if (by < 0) {
      mlprt_error_set(err, NULL, 0, 0, 0, p->by ? p->by : "", "split: %s split needs an existing `by` column",
                      p->mode == MLPRT_SPLIT_STRATIFIED ? "a stratified" : "a grouped");
      return -1;
    }
  }
  int64_t n = t->nrows;
  if (!t->part) t->part = mlprt_xmalloc((size_t)(t->cap_rows ? t->cap_rows : 1));
  int64_t *rows = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *rows);
  for (int64_t i = 0; i < n; i++) rows[i] = i;
  switch (p->mode) {
  case MLPRT_SPLIT_TIME: assign(t->part, rows, n, fr); break;
  case MLPRT_SPLIT_RANDOM:
    mlprt_shuffle(rows, n, p->seed, SPLIT_STREAM);
    assign(t->part, rows, n, fr);
    break;
  case MLPRT_SPLIT_STRATIFIED: {
    /* shuffle all rows, then split each class's rows (in shuffled order) */
    int32_t *gid = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *gid);
    int32_t ng = mlprt_row_groups(t, by, gid);
    mlprt_shuffle(rows, n, p->seed, SPLIT_STREAM);
    int64_t *start = mlprt_xcalloc((size_t)ng + 1, sizeof *start);
    for (int64_t i = 0; i < n; i++) start[gid[i] + 1]++;
    for (int32_t g = 0; g < ng; g++) start[g + 1] += start[g];
    int64_t *fill = mlprt_xmalloc((size_t)(ng ? ng : 1) * sizeof *fill);
    memcpy(fill, start, (size_t)ng * sizeof *fill);
    int64_t *bycls = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *bycls);
    for (int64_t i = 0; i < n; i++) bycls[fill[gid[rows[i]]]++] = rows[i];
    for (int32_t g = 0; g < ng; g++) assign(t->part, bycls + start[g], start[g + 1] - start[g], fr);
    free(bycls);
    free(fill);
    free(start);
    free(gid);
    break;
  }
  case MLPRT_SPLIT_GROUPED: {
    /* shuffle the groups, then give whole groups to train until it holds its
     * share of rows, then to validation, the rest to test */
    int32_t *gid = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *gid);
    int32_t ng = mlprt_row_groups(t, by, gid);
    int64_t *groups = mlprt_xmalloc((size_t)(ng ? ng : 1) * sizeof *groups);
    int64_t *size = mlprt_xcalloc((size_t)(ng ? ng : 1), sizeof *size);
    for (int32_t g = 0; g < ng; g++) groups[g] = g;
    for (int64_t i = 0; i < n; i++) size[gid[i]]++;
    mlprt_shuffle(groups, ng, p->seed, SPLIT_STREAM);
    uint8_t *gpart = mlprt_xmalloc((size_t)(ng ? ng : 1));
    int64_t done = 0;
    for (int32_t k = 0; k < ng; k++) {
      int64_t g = groups[k];
      /* a group goes where its middle row would fall in a plain split */
      double mid = ((double)done + (double)size[g] / 2) / (double)(n ? n : 1);
      gpart[g] = mid < fr[0] ? MLPRT_TRAIN : mid < fr[0] + fr[1] ? MLPRT_VALID : MLPRT_TEST;
      done += size[g];
    }
    for (int64_t i = 0; i < n; i++) t->part[i] = gpart[gid[i]];
    free(gpart);
    free(size);
    free(groups);
    free(gid);
    break;
  }
  }
  free(rows);
  return 0;
}

/* Stratified: the rows shuffled, then sorted by class (stably), are dealt
 * to the folds in turn, so each class's rows spread over the folds as
 * scikit-learn's StratifiedKFold allots them. */
static void folds_stratified(int64_t n, int k, const int32_t *cls, int64_t *rows, int32_t *fold) {
  int32_t nc = 0;
  for (int64_t i = 0; i < n; i++) nc = cls[i] + 1 > nc ? cls[i] + 1 : nc;
  int64_t *start = mlprt_xcalloc((size_t)nc + 1, sizeof *start);
  for (int64_t i = 0; i < n; i++) start[cls[i] + 1]++;
  for (int32_t c = 0; c < nc; c++) start[c + 1] += start[c];
  int64_t *bycls = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *bycls);
  for (int64_t i = 0; i < n; i++) bycls[start[cls[rows[i]]]++] = rows[i];
  for (int64_t i = 0; i < n; i++) fold[bycls[i]] = (int32_t)(i % k);
  free(bycls);
  free(start);
}

/* Grouped: the groups, shuffled then stably sorted by size (largest
 * first), each go to the fold holding the fewest rows so far (the lowest
 * such fold), as scikit-learn's GroupKFold gives them out. -1 when there
 * are fewer groups than folds. */
static int folds_grouped(int64_t n, int k, const int32_t *gid, uint64_t seed, int32_t *fold) {
  int32_t ng = 0;
  for (int64_t i = 0; i < n; i++) ng = gid[i] + 1 > ng ? gid[i] + 1 : ng;
  int64_t *size = mlprt_xcalloc((size_t)(ng ? ng : 1), sizeof *size);
  for (int64_t i = 0; i < n; i++) size[gid[i]]++;
  int64_t *order = mlprt_xmalloc((size_t)(ng ? ng : 1) * sizeof *order);
  int32_t used = 0;
  for (int32_t g = 0; g < ng; g++)
    if (size[g] > 0) order[used++] = g;
  if (used < k) {
    free(order);
    free(size);
    return -1;
  }
  mlprt_shuffle(order, used, seed, KFOLD_STREAM);
  for (int32_t a = 1; a < used; a++) /* insertion sort: stable */
    for (int32_t b = a; b > 0 && size[order[b - 1]] < size[order[b]]; b--) {
      int64_t tmp = order[b];
      order[b] = order[b - 1], order[b - 1] = tmp;
    }
  int32_t *gfold = mlprt_xmalloc((size_t)ng * sizeof *gfold);
  int64_t *load = mlprt_xcalloc((size_t)k, sizeof *load);
  for (int32_t a = 0; a < used; a++) {
    int f = 0;
    for (int j = 1; j < k; j++) f = load[j] < load[f] ? j : f;
    gfold[order[a]] = f;
    load[f] += size[order[a]];
  }
  for (int64_t i = 0; i < n; i++) fold[i] = gfold[gid[i]];
  free(load);
  free(gfold);
  free(order);
  free(size);
  return 0;
}

int mlprt_folds(int64_t n, int k, MlprtFoldMode mode, const int32_t *key, uint64_t seed, int32_t *fold) {
  if (mode == MLPRT_FOLDS_GROUPED) return folds_grouped(n, k, key, seed, fold);
  if (mode == MLPRT_FOLDS_TIME) {
    /* scikit-learn's TimeSeriesSplit: k blocks of n / (k + 1) rows at the
     * end, the rows before the first block only ever train */
    int64_t block = n / (k + 1), head = n - block * k;
    if (block == 0) return -1;
    for (int64_t i = 0; i < n; i++) fold[i] = i < head ? -1 : (int32_t)((i - head) / block);
    return 0;
  }
  if (n < k) return -1;
  int64_t *rows = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *rows);
  for (int64_t i = 0; i < n; i++) rows[i] = i;
  mlprt_shuffle(rows, n, seed, KFOLD_STREAM);
  if (mode == MLPRT_FOLDS_STRATIFIED) folds_stratified(n, k, key, rows, fold);
  else
    for (int64_t i = 0; i < n; i++) fold[rows[i]] = (int32_t)(i % k);
  free(rows);
  return 0;
}

void mlprt_split_counts(const MlprtTable *t, int64_t counts[3]) {
  counts[0] = counts[1] = counts[2] = 0;
  for (int64_t r = 0; r < t->nrows; r++) counts[t->part ? t->part[r] : MLPRT_TRAIN]++;
}
