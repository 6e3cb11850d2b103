/* data_int.h — private helpers shared by the loaders, the schema inference
 * and the cleaning ops in runtime/data/. Not installed.
 *
 * The data step keeps its own aborting allocator instead of tensor.h's so
 * that the compiler can link schema inference without OpenBLAS. */
#ifndef MLPRT_DATA_INT_H
#define MLPRT_DATA_INT_H

#include <stdarg.h>

#include "mlp/data.h"
#include "mlp/tensor.h"

void *mlprt_xmalloc(size_t n);
void *mlprt_xcalloc(size_t n, size_t size);
void *mlprt_xrealloc(void *p, size_t n);
char *mlprt_xstrndup(const char *s, size_t n);
/* Large short-lived buffers (row hashes, sort scratch, read buffers), NOT
 * zeroed: from 1 MiB up they share the large columns' pool of huge pages
 * (table.c), smaller ones come from mmap and go straight back. Freeing them
 * through malloc would raise glibc's mmap threshold, after which
 * multi-megabyte columns live in the heap and freed space inflates peak
 * memory. */
void *mlprt_scratch_alloc(size_t n);
void mlprt_scratch_free(void *p, size_t n);

void mlprt_error_set(MlprtError *e, const char *file, int64_t row, int64_t line, int col,
                     const char *colname, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* 10^0 .. 10^22, every one exact in a double (Clinger's fast path). */
extern const double mlprt_pow10[23];

/* ---- missing-value tokens ---- */
#define MLPRT_MAX_NA 32
typedef struct {
  const char *tok[MLPRT_MAX_NA];
  size_t len[MLPRT_MAX_NA];
  int n;
  bool numeric; /* some token reads as a number (say "-999"): test tokens first */
  uint64_t lens; /* bit L set when a token is L bytes long (bit 63: 63 or more), so that
                  * most fields are told apart by their length alone */
} MlprtNaSet;
void mlprt_na_init(MlprtNaSet *na, const MlprtLoadOpts *o);
bool mlprt_na_match(const MlprtNaSet *na, const char *s, size_t len);

/* ---- inference ---- */
/* What one field looks like, as a bit so a column can collect them. */
enum {
  MLPRT_K_INT = 1,
  MLPRT_K_FLOAT = 2,
  MLPRT_K_BOOL = 4,
  MLPRT_K_DATE = 8,
  MLPRT_K_STRING = 16
};
int mlprt_classify(const char *s, size_t len);

typedef struct {
  unsigned kinds;     /* MLPRT_K_* seen */
  int64_t nmissing;
  MlprtLevels levels; /* distinct strings, until there are more than max_levels */
  bool many;          /* more than max_levels distinct strings */
  bool ranged;        /* a number was seen: lo and hi hold the smallest and the largest */
  double lo, hi;
} MlprtInferCol;

/* Note one non-missing field; declared is the declared type or -1. Returns 0,
 * or -1 when a declared type rejects the value. */
int mlprt_infer_add(MlprtInferCol *c, const char *s, size_t len, int max_levels, int declared);
/* Turn the collected columns into a schema (takes the names). */
void mlprt_infer_finish(MlprtInferCol *ic, char **names, int ncols, const MlprtLoadOpts *o,
                        int64_t nrows, bool complete, MlprtSchema *out);
int mlprt_decl_type(const MlprtLoadOpts *o, const char *name); /* -1 when not declared */
/* Declared types as text, "NAME\tTYPE\n" each: how many lines; and the
 * lines cut in place into decl[] (room for the count), returning how many. */
int mlprt_decls_count(const char *text);
int mlprt_decls_parse(char *text, MlprtDecl *decl);
int mlprt_opt_max_levels(const MlprtLoadOpts *o);

/* ---- filling a table from text fields ---- */
/* Set cell (col, row) of t from the text s[0..len) per the column's type.
 * Returns 0, or -1 with why set to a message when the value does not fit. */
int mlprt_cell_from_text(MlprtTable *t, int col, int64_t row, const char *s, size_t len,
                         const MlprtNaSet *na, const char **why);
/* A FLOAT or INT cell's text as mlprt_cell_from_text reads it, into *out
 * (NaN for a missing-value token): 0, or -1 with why. */
int mlprt_num_from_text(MlprtColType type, const char *s, size_t len, const MlprtNaSet *na, float *out,
                        const char **why);
/* The most common numeric cell: s[0..len) of 1 to 9 plain digits, the
 * exact integer mlprt_num_from_text reads (when no missing-value token is
 * a number); false for any other text. */
static inline bool mlprt_plain_digits(const char *s, size_t len, float *out) {
  if (len - 1 >= 9) return false;
  uint32_t u = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (d >= 10) return false;
    u = u * 10 + d;
  }
  *out = (float)u;
  return true;
}
/* Reasons mlprt_cell_from_text gives for a value no column type would take
 * (invalid UTF-8, a number beyond float range), so that typing the column
 * again cannot help: mlprt_why_final says whether why is one of them. */
extern const char mlprt_why_utf8[], mlprt_why_float_range[];
bool mlprt_why_final(const char *why);
/* mlprt_table_add_column without initialising the rows: for callers that
 * write every cell (memory is first touched by whoever fills it). */
int mlprt_table_add_column_raw(MlprtTable *t, const char *name, MlprtColType type);
/* n FLOAT columns named names[k] (the strings are taken), every row 0, in
 * one block of memory that they share (a block from 1 MiB up comes in huge
 * pages: far fewer faults than thousands of small columns). */
void mlprt_table_add_float_columns(MlprtTable *t, char **names, int n);
/* n FLOAT columns named names[k] (the strings are taken) kept as the
 * sparse rows *rows (taken; one per table row, n columns wide). */
void mlprt_table_add_sparse_columns(MlprtTable *t, char **names, int n, MlprtCsr *rows);
/* Sparse column c's value at row. */
float mlprt_sparse_at(const MlprtColumn *c, int64_t row);
/* A new table with one empty column per schema column. */
void mlprt_table_from_schema(MlprtTable *t, const MlprtSchema *s);
/* Mark a row's cells missing (rows appended before the fields are known). */
void mlprt_row_set_missing(MlprtTable *t, int64_t row);

/* Number of parser threads for opts. */
int mlprt_opt_threads(const MlprtLoadOpts *o);
MlprtFormat mlprt_detect_format(const char *path, const MlprtLoadOpts *o);

/* The format-specific halves of mlprt_schema_infer / mlprt_load_schema. */
int mlprt_csv_infer(const char *path, const MlprtLoadOpts *o, MlprtSchema *out, MlprtError *err);
/* data.h's chunks over a CSV file typed by s (taken over: *s is emptied). */
MlprtChunks *mlprt_csv_chunks(const char *path, const MlprtLoadOpts *o, MlprtSchema *s, int64_t rows,
                              MlprtError *err);
int mlprt_csv_load(const char *path, const MlprtLoadOpts *o, const MlprtSchema *s, MlprtTable *t,
                   MlprtError *err);
int mlprt_json_infer(const char *path, const MlprtLoadOpts *o, MlprtSchema *out, MlprtError *err);
int mlprt_json_load(const char *path, const MlprtLoadOpts *o, const MlprtSchema *s, MlprtTable *t,
                    MlprtError *err);

/* Loads that fail only because a value contradicts an inferred type return
 * this, so mlprt_load can infer again from every row. */
#define MLPRT_ERR_RETYPE (-2)

/* ---- statistics shared by the cleaning ops ---- */
/* Linear-interpolated quantiles q[0..nq) in [0,1] (numpy's default) of
 * column x's non-missing training values into out[0..nq) (NaN when there
 * are none); returns how many values there were. */
int64_t mlprt_train_quantiles(const MlprtTable *t, const float *x, const double *q, int nq, double *out);


/* ---- cleaning internals ---- */
#include "mlp/clean.h"

/* Type masks for column selection. */
#define MLPRT_TM(t) (1u << (t))
#define MLPRT_TM_NUMERIC (MLPRT_TM(MLPRT_COL_FLOAT) | MLPRT_TM(MLPRT_COL_INT))
#define MLPRT_TM_STRINGS (MLPRT_TM(MLPRT_COL_CATEGORY) | MLPRT_TM(MLPRT_COL_TEXT))
#define MLPRT_TM_ANY (~0u)

/* Resolve a selection to column indices (*out, caller frees): named columns
 * must exist (else a did-you-mean error; indexed ones, sel.idx, are taken
 * as they are) and have a type in mask; an empty
 * selection takes every column whose type is in mask. Returns the count or -1. */
int mlprt_select_columns(const MlprtTable *t, MlprtCols sel, unsigned mask, const char *step, int **out,
                         MlprtError *err);
/* mlprt_fit_position of f's i-th column in t, checked: -1, with err set,
 * when t has no column there of a type in mask. */
int mlprt_fit_column(const MlprtTable *t, const MlprtFit *f, int i, unsigned mask, MlprtError *err);
/* Does the selection hold t's column c (by index when it has indices, else
 * by name)? */
bool mlprt_cols_contain(MlprtCols sel, const MlprtTable *t, int c);
/* Zeroed fit of kind with n columns named by t's columns idx[]. */
void mlprt_fit_init(MlprtFit *f, MlprtStepKind kind, int method, const MlprtTable *t, const int *idx, int n);

/* Running sums of one column's training values (clean.h's fits over
 * chunks): impute's mean reads s and k; the moments (numeric.c) shift every
 * value by the column's first, x0, and track the extremes. */
typedef struct {
  bool started; /* x0 is set: a value has been met */
  double x0, s, ss, mn, mx;
  int64_t k;    /* values summed */
} MlprtRunSums;

struct MlprtFitStream {
  MlprtFit f;          /* the fit, its columns chosen on the first chunk */
  MlprtTable layout;   /* the first chunk's columns, without rows: what messages name */
  int *idx;            /* [f.n] the fitted columns' positions in a chunk */
  MlprtRunSums *sums;  /* [f.n] */
  double low, high;    /* minmax: the image of the extremes */
};
void mlprt_scale_stream_add(MlprtFitStream *fs, const MlprtTable *t);
int mlprt_scale_stream_close(MlprtFitStream *fs, MlprtError *err);
void mlprt_impute_stream_add(MlprtFitStream *fs, const MlprtTable *t);
int mlprt_impute_stream_close(MlprtFitStream *fs, MlprtError *err);

/* Per-kind apply, dispatched by mlprt_fit_apply. */
int mlprt_impute_apply(MlprtTable *t, MlprtFit *f, MlprtError *err);
int mlprt_scale_apply(MlprtTable *t, MlprtFit *f, MlprtError *err);
int mlprt_encode_apply(MlprtTable *t, MlprtFit *f, MlprtError *err);
int mlprt_text_clean_apply(MlprtTable *t, MlprtFit *f, MlprtError *err);
int mlprt_vectorize_apply(MlprtTable *t, MlprtFit *f, MlprtError *err);
/* The element of rank j (0-based) of a[0..n) in increasing order, moved to
 * a[j] with nothing smaller after it and nothing larger before it
 * (quickselect, median-of-three pivots; equal keys split evenly). */
void mlprt_select_u32(uint32_t *a, int64_t n, int64_t j);
/* Free what a vectorize fit kept of its training rows (MlprtColFit.kept; NULL: nothing). */
void mlprt_kept_rows_free(MlprtKeptRows *k);
/* Outliers with the keep predicate of p (p may be NULL). */
int mlprt_outliers_apply_keep(MlprtTable *t, MlprtFit *f, const MlprtOutlierParams *p, MlprtError *err);

/* fn(ctx, i) for every i in [0, n), spread over up to nthreads threads
 * (the caller's among them); nthreads < 1 means the online CPUs. Each i
 * must touch only its own outputs. */
void mlprt_parallel_for(int n, int nthreads, void (*fn)(void *ctx, int i), void *ctx);
/* The same over threads started once (mlprt_team_start: up to nthreads,
 * the caller's among them; < 1 means the online CPUs) and kept until
 * mlprt_team_stop, for a caller with many short parallel steps. */
typedef struct MlprtTeam MlprtTeam;
MlprtTeam *mlprt_team_start(int nthreads);
void mlprt_team_for(MlprtTeam *t, int n, void (*fn)(void *ctx, int i), void *ctx);
void mlprt_team_stop(MlprtTeam *t);

/* A level dictionary's lookups given the name's hash h, so that a reader
 * of many names hashes them first and loads their slots ahead
 * (mlprt_levels_prefetch) while it looks up the ones before. h is the
 * caller's own hash: a dictionary filled through these is read only
 * through these, with the same hash (mlprt_levels_find would not find
 * its names). */
int32_t mlprt_levels_find_hashed(const MlprtLevels *lv, const char *s, size_t len, uint32_t h);
int32_t mlprt_levels_intern_hashed(MlprtLevels *lv, const char *s, size_t len, uint32_t h);
static inline void mlprt_levels_prefetch(const MlprtLevels *lv, uint32_t h) {
  if (lv->nslots) __builtin_prefetch(&lv->slots[h & (lv->nslots - 1)]);
}

/* A 64-bit mix (the splitmix64 finaliser), for hashing rows and words. */
static inline uint64_t mlprt_mix64(uint64_t x) {
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}
uint64_t mlprt_hash_bytes64(const char *s, size_t len);

#endif
