/* tensor.c — aligned memory, the training arena, tensor views, sparse rows, the Philox
 * counter RNG and the thread budget (see include/mlp/tensor.h). Consumes
 * sizes, seeds and thread counts; produces memory, random floats and
 * OpenBLAS's and the data step's thread settings. */
#include "mlp/tensor.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- aligned memory ---------------------------------------------------- */

void *mlprt_alloc_aligned(size_t bytes) {
  size_t n = mlprt_align_up(bytes ? bytes : 1);
  if (n < bytes) MLPRT_FATAL("allocation of %zu bytes overflows", bytes);
  void *p = aligned_alloc(MLPRT_ALIGN, n);
  if (!p) MLPRT_FATAL("out of memory allocating %zu bytes", bytes);
  memset(p, 0, n);
  return p;
}

void mlprt_free_aligned(void *p) {
  free(p);
}

/* ---- the arena --------------------------------------------------------- */

void mlprt_arena_init(MlprtArena *a, size_t bytes) {
  MLPRT_CHECK(a != NULL, "arena is NULL");
  a->base = mlprt_alloc_aligned(bytes);
  a->size = bytes;
  a->used = 0;
}

void mlprt_arena_free(MlprtArena *a) {
  mlprt_free_aligned(a->base);
  a->base = NULL;
  a->size = a->used = 0;
}

size_t mlprt_arena_reserve(MlprtArena *a, size_t bytes) {
  size_t off = a->used, n = mlprt_align_up(bytes);
  if (n < bytes || n > a->size - off)
    MLPRT_FATAL("arena full: %zu bytes requested, %zu of %zu used", bytes, a->used, a->size);
  a->used = off + n;
  return off;
}

void *mlprt_arena_at(const MlprtArena *a, size_t offset) {
  MLPRT_CHECK(offset <= a->size, "offset %zu outside an arena of %zu bytes", offset, a->size);
  return a->base + offset;
}

float *mlprt_arena_floats(MlprtArena *a, size_t n) {
  MLPRT_CHECK(n <= SIZE_MAX / sizeof(float), "%zu floats overflow size_t", n);
  return mlprt_arena_at(a, mlprt_arena_reserve(a, n * sizeof(float)));
}

void mlprt_arena_reset(MlprtArena *a, size_t mark) {
  MLPRT_CHECK(mark <= a->used && mark % MLPRT_ALIGN == 0, "bad arena mark %zu (used %zu)", mark, a->used);
  a->used = mark;
}

/* ---- tensors ----------------------------------------------------------- */

MlprtTensor mlprt_tensor(float *data, int ndim, const int64_t *shape) {
  MlprtTensor t = {.data = data, .ndim = ndim};
  MLPRT_CHECK(ndim >= 1 && ndim <= MLPRT_MAX_DIMS, "tensor rank %d outside 1..%d", ndim, MLPRT_MAX_DIMS);
  for (int i = 0; i < ndim; i++) {
    MLPRT_CHECK(shape[i] > 0, "dimension %d is %lld", i, (long long)shape[i]);
    t.shape[i] = shape[i];
  }
  return t;
}

size_t mlprt_tensor_numel(const MlprtTensor *t) {
  size_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
  return n;
}

MlprtTensor mlprt_tensor_flatten(const MlprtTensor *t) {
  int64_t shape[2] = {t->shape[0], 1};
  for (int i = 1; i < t->ndim; i++) shape[1] *= t->shape[i];
  return mlprt_tensor(t->data, 2, shape);
}

void mlprt_csr_transpose(const MlprtCsr *m, MlprtCsr *t) {
  int64_t nnz = m->ptr[m->nrows];
  *t = (MlprtCsr){.nrows = m->ncols, .ncols = m->nrows};
  t->ptr = calloc((size_t)m->ncols + 1, sizeof *t->ptr);
  t->col = malloc((size_t)(nnz ? nnz : 1) * sizeof *t->col);
  t->val = malloc((size_t)(nnz ? nnz : 1) * sizeof *t->val);
  if (!t->ptr || !t->col || !t->val) MLPRT_FATAL("out of memory transposing %lld values", (long long)nnz);
  for (int64_t j = 0; j < nnz; j++) t->ptr[m->col[j] + 1]++;
  for (int64_t k = 0; k < m->ncols; k++) t->ptr[k + 1] += t->ptr[k];
  int64_t *next = malloc((size_t)(m->ncols ? m->ncols : 1) * sizeof *next);
  if (!next) MLPRT_FATAL("out of memory transposing %lld columns", (long long)m->ncols);
  memcpy(next, t->ptr, (size_t)m->ncols * sizeof *next);
  for (int64_t r = 0; r < m->nrows; r++)
    for (int64_t j = m->ptr[r]; j < m->ptr[r + 1]; j++) {
      int64_t q = next[m->col[j]]++;
      t->col[q] = (int32_t)r, t->val[q] = m->val[j];
    }
  free(next);
}

void mlprt_csr_free(MlprtCsr *m) {
  free(m->ptr);
  free(m->col);
  free(m->val);
  memset(m, 0, sizeof *m);
}

/* ---- Philox4x32-10 ----------------------------------------------------- */

/* The multipliers and Weyl key increments of the published algorithm. */
#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)
#define PHILOX_W1 UINT32_C(0xBB67AE85)

void mlprt_philox(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32);
  uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = (uint32_t)p1;
    c2 = n2;
    c3 = (uint32_t)p0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

uint32_t mlprt_rng_u32(uint64_t seed, uint64_t stream, uint64_t i) {
  uint32_t w[4];
  mlprt_philox(seed, stream, i >> 2, w);
  return w[i & 3];
}

/* The top 24 bits scaled by 2^-24: exact in float, in [0, 1). */
static inline float u32_to_unit(uint32_t w) {
  return (float)(w >> 8) * (1.0f / 16777216.0f);
}

float mlprt_rng_uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  return u32_to_unit(mlprt_rng_u32(seed, stream, i));
}

/* Box–Muller on words a, b: radius from 1 - u(a) in (0, 1] so log() never
 * sees zero; returns the cosine (even) or sine (odd) branch. Computed in
 * double so the two branches are accurate to float rounding. */
static inline float box_muller(uint32_t a, uint32_t b, int odd) {
  double u1 = 1.0 - (double)u32_to_unit(a), u2 = (double)u32_to_unit(b);
  double r = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
  return (float)(odd ? r * sin(t) : r * cos(t));
}

float mlprt_rng_normal(uint64_t seed, uint64_t stream, uint64_t i) {
  uint32_t w[4];
  mlprt_philox(seed, stream, i >> 2, w);
  int pair = (int)(i & 2); /* words 0,1 or 2,3 of the block */
  return box_muller(w[pair], w[pair + 1], (int)(i & 1));
}

void mlprt_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed, uint64_t stream) {
  MLPRT_CHECK(x != NULL || n == 0, "NULL buffer of %zu floats", n);
  MLPRT_CHECK(lo <= hi, "uniform range [%g, %g) is empty", (double)lo, (double)hi);
  uint32_t w[4];
  float span = hi - lo;
  for (size_t i = 0; i < n; i++) {
    if ((i & 3) == 0) mlprt_philox(seed, stream, i >> 2, w);
    x[i] = lo + span * u32_to_unit(w[i & 3]);
  }
}

void mlprt_fill_normal(float *x, size_t n, float mean, float std, uint64_t seed, uint64_t stream) {
  MLPRT_CHECK(x != NULL || n == 0, "NULL buffer of %zu floats", n);
  MLPRT_CHECK(std >= 0.0f, "negative standard deviation %g", (double)std);
  uint32_t w[4];
  for (size_t i = 0; i < n; i++) {
    if ((i & 3) == 0) mlprt_philox(seed, stream, i >> 2, w);
    int pair = (int)(i & 2);
    x[i] = mean + std * box_muller(w[pair], w[pair + 1], (int)(i & 1));
  }
}

/* ---- threads ----------------------------------------------------------- */

/* blas_threads 0 means "not set": OpenBLAS's own default, one per core. */
static int blas_threads, own_threads = 1;
static bool deterministic;

/* Referenced weakly: a predictor links no OpenBLAS (its GEMM is the
 * runtime's own, on one thread), and one strong reference here would
 * make every other weak one strong. */
#pragma weak openblas_get_num_procs
#pragma weak openblas_set_num_threads
#pragma weak openblas_get_num_threads

/* OpenBLAS gets its thread count from here only, so the settings below can
 * never disagree with what it runs. */
static void apply_blas_threads(void) {
  if (!openblas_set_num_threads) return;
  int n = blas_threads ? blas_threads : openblas_get_num_procs();
  openblas_set_num_threads(deterministic ? 1 : n);
}

void mlprt_set_threads(int blas, int own) {
  blas_threads = blas < 1 ? 1 : blas;
  own_threads = own < 1 ? 1 : own;
  apply_blas_threads();
}

/* the data step finishes before the first GEMM, so it may take the larger
 * pool; it never runs beside BLAS, so this cannot oversubscribe */
int mlprt_pool_threads(void) {
  if (!blas_threads) return 0;
  return blas_threads > own_threads ? blas_threads : own_threads;
}

int mlprt_blas_threads(void) {
  return openblas_get_num_threads ? openblas_get_num_threads() : 1;
}

int mlprt_own_threads(void) {
  return own_threads;
}

void mlprt_set_deterministic(bool on) {
  deterministic = on;
  apply_blas_threads();
}

bool mlprt_deterministic(void) {
  return deterministic;
}
