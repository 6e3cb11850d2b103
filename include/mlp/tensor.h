/* tensor.h — the runtime's memory, randomness and threads: float32 row-major
 * tensors, the 64-byte-aligned training arena, a seeded counter-based RNG
 * (Philox4x32-10), thread control and the argument-check macro every kernel
 * uses. Generated training programs and the other runtime modules build on
 * this header; it consumes nothing but the C library and OpenBLAS. */
#ifndef MLP_TENSOR_H
#define MLP_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- argument checks --------------------------------------------------- */

/* MLPRT_CHECK(cond, fmt, ...) aborts with file, line and a message when cond
 * is false. Kernels use it for shapes, pointers and ranges; it compiles to
 * nothing under NDEBUG, so release builds pay nothing. The default build
 * leaves NDEBUG undefined, so the test suite runs with every check on. */
#ifdef NDEBUG
#define MLPRT_CHECK(cond, ...) ((void)0)
#else
#define MLPRT_CHECK(cond, ...) \
  ((cond) ? (void)0 : mlprt_check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__))
#endif
_Noreturn void mlprt_check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A fatal run-time error (out of memory, say), reported as
 * "mlprt: FILE:LINE: message" before abort(); active in every build. */
#define MLPRT_FATAL(...) mlprt_fatal(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void mlprt_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- aligned memory ---------------------------------------------------- */

/* Every buffer the runtime hands out starts on a 64-byte boundary: one cache
 * line, and one AVX-512 vector, so vector loads never split lines. */
#define MLPRT_ALIGN 64

/* n rounded up to a multiple of MLPRT_ALIGN; the compiler's memory planner
 * and the arena use this same rounding so planned offsets agree. */
static inline size_t mlprt_align_up(size_t n) {
  return (n + (MLPRT_ALIGN - 1)) & ~(size_t)(MLPRT_ALIGN - 1);
}

/* Zeroed, MLPRT_ALIGN-aligned memory; aborts instead of returning NULL.
 * Release with mlprt_free_aligned (plain free() also works on glibc). */
void *mlprt_alloc_aligned(size_t bytes);
void mlprt_free_aligned(void *p);

/* ---- the arena --------------------------------------------------------- */

/* One block per program. The compiler fixes every tensor's byte offset at
 * compile time (a static memory plan), so the training loop never calls
 * malloc: the program initialises the arena with the planned total and turns
 * offsets into pointers with mlprt_arena_at. Code without a plan (tests, the
 * data loaders) bump-allocates with mlprt_arena_alloc, which hands out the
 * same aligned offsets a planner would. */
typedef struct {
  unsigned char *base; /* MLPRT_ALIGN-aligned, zeroed at init */
  size_t size;         /* bytes in the block */
  size_t used;         /* bump offset: bytes handed out so far, aligned */
} MlprtArena;

void mlprt_arena_init(MlprtArena *a, size_t bytes);
void mlprt_arena_free(MlprtArena *a);
/* Reserve bytes and return their offset (a multiple of MLPRT_ALIGN); aborts
 * when the block is full, since a plan that overflows is a compiler bug. */
size_t mlprt_arena_reserve(MlprtArena *a, size_t bytes);
/* The address of a planned offset; checks it lies inside the block. */
void *mlprt_arena_at(const MlprtArena *a, size_t offset);
/* reserve + at for n floats. */
float *mlprt_arena_floats(MlprtArena *a, size_t n);
/* Drop everything reserved after a mark (a previous value of a->used), so a
 * scratch region can be reused; the memory is not cleared. */
void mlprt_arena_reset(MlprtArena *a, size_t mark);

/* ---- tensors ----------------------------------------------------------- */

#define MLPRT_MAX_DIMS 6

/* A float32 row-major tensor: a view on memory it does not own (usually the
 * arena). The last dimension is contiguous. */
typedef struct {
  float *data;
  int ndim;
  int64_t shape[MLPRT_MAX_DIMS];
} MlprtTensor;

/* A view of ndim dims on data; checks 1 <= ndim <= MLPRT_MAX_DIMS and
 * positive dims. */
MlprtTensor mlprt_tensor(float *data, int ndim, const int64_t *shape);
size_t mlprt_tensor_numel(const MlprtTensor *t);
/* The same data seen as (shape[0], product of the rest): flattening a
 * row-major tensor moves no data, so flatten is this view and nothing else. */
MlprtTensor mlprt_tensor_flatten(const MlprtTensor *t);

/* ---- sparse rows ------------------------------------------------------ */

/* Rows of a sparse matrix (compressed sparse rows): row r holds the values
 * val[ptr[r] .. ptr[r + 1]) at the columns col[...], ascending; every other
 * column is 0. The arrays are owned (mlprt_csr_free). */
typedef struct {
  int64_t nrows, ncols;
  int64_t *ptr; /* [nrows + 1] */
  int32_t *col; /* [ptr[nrows]] */
  float *val;   /* [ptr[nrows]] */
} MlprtCsr;

void mlprt_csr_free(MlprtCsr *m);
/* *t (allocated) = m's transpose: row k holds column k of m, by ascending row. */
void mlprt_csr_transpose(const MlprtCsr *m, MlprtCsr *t);

/* ---- the counter-based RNG --------------------------------------------- */

/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11): a keyed bijection of a 128-bit counter. A random number is a
 * pure function of (seed, stream, counter): there is no state to share, so a
 * tensor's contents never depend on how many threads filled it or in which
 * order. The key is the 64-bit seed; the counter is (block, stream), where
 * block is the element index divided by four (each call yields four words). */
void mlprt_philox(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]);

/* Word i of the sequence (seed, stream): word (i & 3) of block i >> 2. */
uint32_t mlprt_rng_u32(uint64_t seed, uint64_t stream, uint64_t i);
/* Uniform in [0, 1) with 24 random bits (every value exact in float). */
float mlprt_rng_uniform(uint64_t seed, uint64_t stream, uint64_t i);
/* Standard normal by Box–Muller: element i pairs words 2*(i/2) and
 * 2*(i/2)+1, giving the cosine branch to even i and the sine to odd i. */
float mlprt_rng_normal(uint64_t seed, uint64_t stream, uint64_t i);

/* A stream number for one use site at one training step, e.g. dropout layer
 * `site` at step `step`: (site << 40) | step, distinct for every pair with
 * site < 2^24 and step < 2^40. */
static inline uint64_t mlprt_rng_stream(uint32_t site, uint64_t step) {
  return ((uint64_t)site << 40) | (step & ((UINT64_C(1) << 40) - 1));
}

/* x[i] = uniform in [lo, hi) and x[i] = mean + std * normal, element i drawn
 * from counter i of (seed, stream): equal to the scalar functions above. */
void mlprt_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed, uint64_t stream);
void mlprt_fill_normal(float *x, size_t n, float mean, float std, uint64_t seed, uint64_t stream);

/* ---- threads ----------------------------------------------------------- */

/* One thread budget for the whole program: OpenBLAS gets blas_threads, the
 * runtime's own parallel loops (elementwise work) get own_threads. The data
 * step (loading, cleaning) runs before BLAS does and gets the larger of the
 * two (mlprt_pool_threads). Values < 1 mean 1. Oversubscribing a small
 * machine (both pools taking every core) is several times slower than
 * splitting it. */
void mlprt_set_threads(int blas_threads, int own_threads);
/* The threads OpenBLAS runs now (before any setting: one per core). */
int mlprt_blas_threads(void);
int mlprt_own_threads(void);
/* The larger of the two pools of the last mlprt_set_threads, for work that
 * never runs beside BLAS (the data step); 0 before any setting. */
int mlprt_pool_threads(void);

/* Deterministic mode: bit-identical results from run to run and for any
 * thread setting. The runtime's own kernels always reduce in a fixed order;
 * this flag additionally pins OpenBLAS to one thread (and keeps it there on
 * later mlprt_set_threads calls), because a parallel GEMM's partitioning is
 * OpenBLAS's choice, not ours. Off by default. */
void mlprt_set_deterministic(bool on);
bool mlprt_deterministic(void);

#endif
