/* clean_core.c — what every cleaning op shares: column selection, fitted
 * parameter structs and their dispatch, order statistics; plus the row op
 * that learns nothing, duplicate removal (type coercion is coerce.c's).
 * Consumes and produces MlprtTables; records each applied step in the
 * cleaning log. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

static const char *const step_names[MLPRT_STEP_NKINDS] = {
    "drop_duplicates", "coerce", "impute", "outliers", "scale", "encode", "text_clean", "vectorize", "time",
    "align"};

const char *mlprt_step_name(MlprtStepKind k) {
  return k < MLPRT_STEP_NKINDS ? step_names[k] : "?";
}

const char *mlprt_method_name(MlprtStepKind k, int m) {
  static const char *const impute[] = {"mean", "median", "mode", "constant", "ffill", "drop"};
  static const char *const outliers[] = {"zscore", "iqr"};
  static const char *const scale[] = {"standard", "minmax", "robust", "log1p"};
  static const char *const encode[] = {"onehot", "ordinal", "hash"};
  static const char *const vec[] = {"count", "tfidf", "hash", "sequence"};
  static const char *const onfail[] = {"error", "null", "drop"};
  static const char *const time[] = {"sort_by", "lag", "rolling", "diff", "date_features", "resample"};
  static const char *const unmatched[] = {"null", "drop"};
#define PICK(a) return m >= 0 && m < (int)(sizeof a / sizeof *a) ? a[m] : "?"
  switch (k) {
  case MLPRT_STEP_IMPUTE: PICK(impute);
  case MLPRT_STEP_OUTLIERS: PICK(outliers);
  case MLPRT_STEP_SCALE: PICK(scale);
  case MLPRT_STEP_ENCODE: PICK(encode);
  case MLPRT_STEP_VECTORIZE: PICK(vec);
  case MLPRT_STEP_COERCE: PICK(onfail);
  case MLPRT_STEP_TIME: PICK(time);
  case MLPRT_STEP_ALIGN: PICK(unmatched);
  default: return "";
  }
#undef PICK
}

static const struct {
  const char *name;
  bool built;
} clean_ops[] = {
#define MLPRT_CLEAN_ROW(code, name, built) {name, built},
    MLPRT_CLEAN_OPS(MLPRT_CLEAN_ROW)
#undef MLPRT_CLEAN_ROW
};

const char *mlprt_clean_op_name(int64_t op) {
  return op >= 0 && op < MLPRT_CLEAN_NOPS ? clean_ops[op].name : "?";
}

bool mlprt_clean_op_built(int64_t op) {
  return op >= 0 && op < MLPRT_CLEAN_NOPS && clean_ops[op].built;
}

bool mlprt_clean_step_streams(int64_t op, int64_t method) {
  switch (op) {
  case MLPRT_CLEAN_DROP_COLUMNS:
  case MLPRT_CLEAN_STANDARDIZE:
  case MLPRT_CLEAN_MINMAX:
  case MLPRT_CLEAN_LOG1P: return true;
  case MLPRT_CLEAN_IMPUTE: return method == MLPRT_IMPUTE_MEAN || method == MLPRT_IMPUTE_CONSTANT;
  default: return false;
  }
}

void mlprt_fit_stream_add(MlprtFitStream *fs, const MlprtTable *chunk) {
  if (fs->f.kind == MLPRT_STEP_SCALE) mlprt_scale_stream_add(fs, chunk);
  else mlprt_impute_stream_add(fs, chunk);
}

int mlprt_fit_stream_close(MlprtFitStream *fs, MlprtFit *f, MlprtError *err) {
  int rc = fs->f.kind == MLPRT_STEP_SCALE ? mlprt_scale_stream_close(fs, err)
                                          : mlprt_impute_stream_close(fs, err);
  /* a failed close has freed the fit */
  *f = fs->f;
  mlprt_table_free(&fs->layout);
  free(fs->idx);
  free(fs->sums);
  free(fs);
  return rc;
}

bool mlprt_clean_op_before_split(int64_t op) {
  switch (op) {
  case MLPRT_CLEAN_COERCE:
  case MLPRT_CLEAN_PARSE_DATES:
  case MLPRT_CLEAN_DATE_FEATURES:
  case MLPRT_CLEAN_SORT_BY:
  case MLPRT_CLEAN_RESAMPLE:
  case MLPRT_CLEAN_LAG:
  case MLPRT_CLEAN_ROLLING:
  case MLPRT_CLEAN_DIFF:
  case MLPRT_CLEAN_WINDOW:
  case MLPRT_CLEAN_ALIGN: return true;
  default: return false;
  }
}

int mlprt_clean_op_find(const char *name) {
  for (int k = 0; k < MLPRT_CLEAN_NOPS; k++)
    if (strcmp(clean_ops[k].name, name) == 0) return k;
  return -1;
}

bool mlprt_cols_contain(MlprtCols sel, const MlprtTable *t, int c) {
  for (int i = 0; i < sel.n; i++)
    if (sel.idx ? sel.idx[i] == c : strcmp(sel.names[i], t->cols[c].name) == 0) return true;
  return false;
}

int mlprt_select_columns(const MlprtTable *t, MlprtCols sel, unsigned mask, const char *step, int **out,
                         MlprtError *err) {
  int *idx = mlprt_xmalloc((size_t)(t->ncols + 1) * sizeof *idx);
  int n = 0;
  if (sel.n == 0) {
    for (int i = 0; i < t->ncols; i++)
      if (mask & MLPRT_TM(t->cols[i].type)) idx[n++] = i;
    *out = idx;
    return n;
  }
  for (int k = 0; k < sel.n; k++) {
    int c = sel.idx ? (sel.idx[k] >= 0 && sel.idx[k] < t->ncols ? (int)sel.idx[k] : -1)
                    : mlprt_table_find(t, sel.names[k]);
    if (c < 0) {
      /* specs are checked (with suggestions) by the compiler; at run time a
       * missing column means the data changed */
      mlprt_error_set(err, NULL, 0, 0, 0, sel.names[k], "%s: no such column in the data", step);
      free(idx);
      return -1;
    }
    if (!(mask & MLPRT_TM(t->cols[c].type))) {
      mlprt_error_set(err, NULL, 0, 0, c + 1, sel.names[k], "%s: does not apply to a %s column", step,
                      mlprt_col_type_name(t->cols[c].type));
      free(idx);
      return -1;
    }
    idx[n++] = c;
  }
  *out = idx;
  return n;
}

void mlprt_fit_init(MlprtFit *f, MlprtStepKind kind, int method, const MlprtTable *t, const int *idx, int n) {
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->method = method;
  f->n = n;
  f->ncols = t->ncols;
  f->cols = mlprt_xcalloc((size_t)(n ? n : 1), sizeof *f->cols);
  for (int i = 0; i < n; i++) {
    const char *name = t->cols[idx[i]].name;
    f->cols[i].column = mlprt_xstrndup(name, strlen(name));
    f->cols[i].index = idx[i];
  }
}

int mlprt_fit_position(const MlprtFit *f, int i) {
  int c = f->cols[i].index;
  /* an encode or a vectorizer takes each of its columns out as it goes */
  bool takes = f->kind == MLPRT_STEP_ENCODE || f->kind == MLPRT_STEP_VECTORIZE;
  for (int j = 0; takes && j < i; j++) c -= f->cols[j].index < f->cols[i].index;
  return c;
}

int mlprt_fit_column(const MlprtTable *t, const MlprtFit *f, int i, unsigned mask, MlprtError *err) {
  const MlprtColFit *cf = &f->cols[i];
  int c = mlprt_fit_position(f, i);
  /* the width is checked with the first column, before the apply changes it */
  if (i == 0 && f->ncols && f->ncols != t->ncols) {
    mlprt_error_set(
        err, NULL, 0, 0, 0, NULL,
        "%s: the table has %d columns where the step was fitted on %d (the data's columns changed "
        "since the fit)",
        mlprt_step_name(f->kind), t->ncols, f->ncols);
    return -1;
  }
  if (c < 0 || c >= t->ncols || !(mask & MLPRT_TM(t->cols[c].type))) {
    mlprt_error_set(err, NULL, 0, 0, 0, cf->column,
                    "%s: column %d of the table the step was fitted on is not here (the data's columns "
                    "changed since the fit)",
                    mlprt_step_name(f->kind), cf->index + 1);
    return -1;
  }
  return c;
}

void mlprt_fit_free(MlprtFit *f) {
  for (int i = 0; i < f->n; i++) {
    MlprtColFit *c = &f->cols[i];
    free(c->column);
    free(c->level);
    for (int32_t l = 0; l < c->nlevels; l++) free(c->levels[l]);
    free(c->levels);
    free(c->weights);
    mlprt_kept_rows_free(c->kept);
  }
  free(f->cols);
  memset(f, 0, sizeof *f);
}

int mlprt_fit_apply(MlprtTable *t, MlprtFit *f, MlprtCleanLog *log, MlprtError *err) {
  f->rows_before = t->nrows;
  for (int i = 0; i < f->n; i++) f->cols[i].changed = f->cols[i].dropped = 0;
  int rc;
  switch (f->kind) {
  case MLPRT_STEP_IMPUTE: rc = mlprt_impute_apply(t, f, err); break;
  case MLPRT_STEP_OUTLIERS: rc = mlprt_outliers_apply_keep(t, f, NULL, err); break;
  case MLPRT_STEP_SCALE: rc = mlprt_scale_apply(t, f, err); break;
  case MLPRT_STEP_ENCODE: rc = mlprt_encode_apply(t, f, err); break;
  case MLPRT_STEP_TEXT_CLEAN: rc = mlprt_text_clean_apply(t, f, err); break;
  case MLPRT_STEP_VECTORIZE: rc = mlprt_vectorize_apply(t, f, err); break;
  default:
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "%s has no fitted form to apply", mlprt_step_name(f->kind));
    return -1;
  }
  f->rows_after = t->nrows;
  if (!rc) mlprt_log_fit(log, f);
  return rc;
}

int mlprt_outliers_apply(MlprtTable *t, MlprtFit *f, const MlprtOutlierParams *p, MlprtCleanLog *log,
                         MlprtError *err) {
  f->rows_before = t->nrows;
  for (int i = 0; i < f->n; i++) f->cols[i].changed = f->cols[i].dropped = 0;
  int rc = mlprt_outliers_apply_keep(t, f, p, err);
  f->rows_after = t->nrows;
  if (!rc) mlprt_log_fit(log, f);
  return rc;
}

/* ---- threads ---- */

/* Tasks are handed out one at a time from a shared counter, not dealt out in
 * advance: a thread that finishes early (or whose core another process
 * did not take) takes the next task instead of waiting for the other. */
typedef struct {
  void (*fn)(void *ctx, int i);
  void *ctx;
  int n;
  atomic_int next;
} ParTask;

static void *par_run(void *arg) {
  ParTask *p = arg;
  for (int i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) p->fn(p->ctx, i);
  return NULL;
}

void mlprt_parallel_for(int n, int nthreads, void (*fn)(void *ctx, int i), void *ctx) {
  int nt = nthreads > 0 ? nthreads : mlprt_opt_threads(NULL);
  if (nt > n) nt = n;
  if (nt <= 1) {
    for (int i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  if (nt > 8) nt = 8;
  ParTask task = {fn, ctx, n, 0};
  pthread_t tid[8];
  bool started[8] = {false};
  for (int k = 1; k < nt; k++) started[k] = pthread_create(&tid[k], NULL, par_run, &task) == 0;
  par_run(&task); /* without threads this alone does every task */
  for (int k = 1; k < nt; k++)
    if (started[k]) pthread_join(tid[k], NULL);
}

/* A team: the same tasks as mlprt_parallel_for, run by threads started
 * once, for a caller with many short parallel steps. Each step bumps the
 * generation under the lock; a worker runs the step's tasks and counts
 * itself done. */
struct MlprtTeam {
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  pthread_t tid[8];
  int workers, busy; /* threads started besides the caller's, and those still in the step */
  unsigned long gen;
  bool stop;
  ParTask task;
};

static void *team_run(void *arg) {
  MlprtTeam *t = arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&t->mu);
  for (;;) {
    while (t->gen == seen && !t->stop) pthread_cond_wait(&t->go, &t->mu);
    if (t->stop) break;
    seen = t->gen;
    pthread_mutex_unlock(&t->mu);
    par_run(&t->task);
    pthread_mutex_lock(&t->mu);
    if (--t->busy == 0) pthread_cond_signal(&t->done);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

MlprtTeam *mlprt_team_start(int nthreads) {
  MlprtTeam *t = calloc(1, sizeof *t);
  int nt = nthreads > 0 ? nthreads : mlprt_opt_threads(NULL);
  if (nt > 8) nt = 8;
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->go, NULL);
  pthread_cond_init(&t->done, NULL);
  for (int k = 1; k < nt; k++)
    if (pthread_create(&t->tid[t->workers], NULL, team_run, t) == 0) t->workers++;
  return t;
}

void mlprt_team_for(MlprtTeam *t, int n, void (*fn)(void *ctx, int i), void *ctx) {
  if (t->workers == 0 || n <= 1) {
    for (int i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  pthread_mutex_lock(&t->mu);
  t->task.fn = fn;
  t->task.ctx = ctx;
  t->task.n = n;
  atomic_store(&t->task.next, 0);
  t->busy = t->workers;
  t->gen++;
  pthread_cond_broadcast(&t->go);
  pthread_mutex_unlock(&t->mu);
  par_run(&t->task);
  pthread_mutex_lock(&t->mu);
  while (t->busy > 0) pthread_cond_wait(&t->done, &t->mu);
  pthread_mutex_unlock(&t->mu);
}

void mlprt_team_stop(MlprtTeam *t) {
  pthread_mutex_lock(&t->mu);
  t->stop = true;
  pthread_cond_broadcast(&t->go);
  pthread_mutex_unlock(&t->mu);
  for (int k = 0; k < t->workers; k++) pthread_join(t->tid[k], NULL);
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->go);
  pthread_cond_destroy(&t->done);
  free(t);
}

/* ---- order statistics ---- */

/* Floats mapped to unsigned keys in the same order (negatives flipped). */
static inline uint32_t float_key(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static inline float key_float(uint32_t k) {
  uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* Order statistics by radix selection over the column itself (no copy,
 * no sort): a histogram of the keys' upper 16 bits finds the bucket holding
 * rank k, a histogram of that bucket's lower 16 bits finds the key. */
typedef struct {
  const float *x;
  const uint8_t *part;
  int64_t n;
  int64_t hi[65536];   /* training values per upper-16-bit bucket */
  int64_t lo[65536];   /* per lower 16 bits, within bucket lo_of */
  int64_t lo_of;       /* the bucket lo describes, or -1 */
} Select;

static inline bool selected(const Select *s, int64_t r) {
  float v = s->x[r];
  return v == v && (!s->part || s->part[r] == MLPRT_TRAIN);
}

/* The k-th smallest training value (0-based). */
static float select_kth(Select *s, int64_t k) {
  uint32_t hi = 0;
  while (k >= s->hi[hi]) k -= s->hi[hi++];
  if (s->lo_of != hi) {
    memset(s->lo, 0, sizeof s->lo);
    for (int64_t r = 0; r < s->n; r++) {
      if (!selected(s, r)) continue;
      uint32_t key = float_key(s->x[r]);
      if (key >> 16 == hi) s->lo[key & 0xffff]++;
    }
    s->lo_of = hi;
  }
  uint32_t lo = 0;
  while (k >= s->lo[lo]) k -= s->lo[lo++];
  return key_float(hi << 16 | lo);
}

void mlprt_select_u32(uint32_t *a, int64_t n, int64_t j) {
  int64_t lo = 0, hi = n - 1;
  while (hi > lo) {
    uint32_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
    uint32_t piv = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    int64_t i = lo, k = hi;
    while (i <= k) {
      while (a[i] < piv) i++;
      while (a[k] > piv) k--;
      if (i <= k) {
        uint32_t tmp = a[i];
        a[i++] = a[k], a[k--] = tmp;
      }
    }
    if (j <= k) hi = k;
    else if (j >= i) lo = i;
    else return; /* between the halves: equal to the pivot, in place */
  }
}

#define SAMPLE 4096
#define KEY_BLOCK 256 /* rows keyed at a time, in a buffer that stays in the first-level cache */

/* The keys of x[0..n) (n <= KEY_BLOCK), with rows that do not count (NaN,
 * or not training) given a key above every number's, so they fall outside
 * any bracket; nb[0] counts those rows, nb[1] the keys below lo_key. No
 * branch on a row (one cell in twenty missing is too many for a branch to
 * predict): NaN is found from the bits, the key by an xor, and inlined with
 * part a constant NULL the loop vectorises. Keys and counts are those of
 * float_key and a plain loop. */
static inline __attribute__((always_inline)) void row_keys(const float *x, const uint8_t *part, int64_t n,
                                                           uint32_t lo_key, uint32_t *key, uint32_t nb[2]) {
  uint32_t none = 0, below = 0;
  for (int64_t r = 0; r < n; r++) {
    uint32_t u;
    memcpy(&u, &x[r], 4);
    /* |u| as a signed int is never negative, so a signed compare finds NaN */
    int32_t nan = (int32_t)(u & 0x7fffffffu) > 0x7f800000;
    uint32_t skip = -(uint32_t)(nan | (part && part[r] != MLPRT_TRAIN));
    /* negatives flipped whole, others their sign bit set: float_key */
    uint32_t k = (u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u)) | skip;
    key[r] = k;
    none += k == UINT32_MAX;
    below += k < lo_key;
  }
  nb[0] = none, nb[1] = below;
}
#define BRACKET_MIN_ROWS 65536

/* One quantile of a large column in one pass: a sample of evenly spaced
 * rows gives two keys that bracket the wanted rank with a wide margin;
 * the pass counts the keys below the bracket and gathers those inside it,
 * and the rank is then selected among the gathered keys. The answer is the
 * radix selection's exactly (the same keys, the same formula). Returns -1
 * when the column is small or the bracket missed (then radix selection
 * answers), else the number of values. */
static int64_t quantile_bracketed(const MlprtTable *t, const float *x, double q, double *out) {
  int64_t n = t->nrows, ns = 0;
  if (n < BRACKET_MIN_ROWS) return -1;
  uint32_t sample[SAMPLE];
  for (int64_t i = 0; i < SAMPLE; i++) {
    int64_t r = i * n / SAMPLE;
    if (x[r] == x[r] && mlprt_row_trains(t, r)) sample[ns++] = float_key(x[r]);
  }
  if (ns < SAMPLE / 4) return -1;
  /* about 5 standard deviations of the sample rank either side; only those
   * two sample ranks are needed, not a sorted sample */
  double c = q * (double)(ns - 1), margin = 5 * sqrt((double)ns * q * (1 - q)) + 16;
  int64_t lo_i = (int64_t)floor(c - margin), hi_i = (int64_t)ceil(c + margin) + 1;
  uint32_t lo_key = 0, hi_key = UINT32_C(0xff800000);
  if (lo_i > 0) mlprt_select_u32(sample, ns, lo_i), lo_key = sample[lo_i];
  if (hi_i < ns) mlprt_select_u32(sample, ns, hi_i), hi_key = sample[hi_i];
  uint32_t *in = mlprt_scratch_alloc((size_t)n * sizeof *in), width = hi_key - lo_key;
  const uint8_t *part = t->part;
  int64_t none = 0, below = 0, nin = 0;
  for (int64_t lo = 0; lo < n; lo += KEY_BLOCK) {
    int64_t len = n - lo < KEY_BLOCK ? n - lo : KEY_BLOCK;
    uint32_t key[KEY_BLOCK], nb[2];
    if (part) row_keys(x + lo, part + lo, len, lo_key, key, nb);
    else row_keys(x + lo, NULL, len, lo_key, key, nb);
    none += nb[0], below += nb[1];
    for (int64_t i = 0; i < len; i++) {
      in[nin] = key[i]; /* written always, kept when inside */
      nin += key[i] - lo_key <= width;
    }
  }
  int64_t m = n - none;
  double pos = q * (double)(m - 1);
  int64_t k = (int64_t)floor(pos);
  bool two = !(pos == (double)k || k + 1 >= m);
  bool hit = m > 0 && below <= k && k + two < below + nin;
  if (hit) {
    mlprt_select_u32(in, nin, k - below);
    double v = key_float(in[k - below]);
    if (two) {
      uint32_t next = UINT32_MAX;
      for (int64_t i = k - below + 1; i < nin; i++) next = in[i] < next ? in[i] : next;
      v = v + (pos - (double)k) * ((double)key_float(next) - v);
    }
    *out = v;
  }
  mlprt_scratch_free(in, (size_t)n * sizeof *in);
  return hit ? m : -1;
}

int64_t mlprt_train_quantiles(const MlprtTable *t, const float *x, const double *q, int nq, double *out) {
  if (nq == 1) {
    int64_t m = quantile_bracketed(t, x, q[0], out);
    if (m >= 0) return m;
  }
  /* pooled scratch: no fresh pages to zero for each column's megabyte */
  Select *s = mlprt_scratch_alloc(sizeof *s);
  memset(s->hi, 0, sizeof s->hi);
  s->x = x, s->part = t->part, s->n = t->nrows, s->lo_of = -1;
  int64_t m = 0;
  for (int64_t r = 0; r < s->n; r++) {
    if (!selected(s, r)) continue;
    s->hi[float_key(x[r]) >> 16]++;
    m++;
  }
  for (int i = 0; i < nq; i++) {
    if (!m) {
      out[i] = NAN;
      continue;
    }
    double pos = q[i] * (double)(m - 1);
    int64_t k = (int64_t)floor(pos);
    double v = select_kth(s, k);
    out[i] = pos == (double)k || k + 1 >= m ? v : v + (pos - (double)k) * ((double)select_kth(s, k + 1) - v);
  }
  mlprt_scratch_free(s, sizeof *s);
  return m;
}

/* ---- hashing ---- */

uint64_t mlprt_hash_bytes64(const char *s, size_t len) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
  return mlprt_mix64(h);
}


/* ---- duplicates ---- */

/* Rows are split by the top bits of their hash into PARTS groups (equal
 * rows always share one), each group's rows kept in row order, so "earlier"
 * means the same as in one serial pass; each group then gets an
 * open-addressing table small enough to stay in cache. The grouped copy
 * carries each row's hash beside its number, so a group is read front to
 * back instead of gathering h[] across the whole table. */
#define PART_BITS 6
#define PARTS (1 << PART_BITS)
#define SLICES 8 /* tasks for hashing and scattering: a few per thread, for balance */

/* Rows are hashed, counted per group and scattered into the groups in
 * `slices` contiguous slices of rows, a few per thread; slice k's rows land
 * after slice k-1's in every group, which keeps each group in row order. */
typedef struct {
  const MlprtTable *t;
  const int *idx;
  int n, slices;
  uint64_t *h;                  /* [nrows] row hashes */
  int64_t count[SLICES][PARTS]; /* rows of each slice per group, then where they go */
  uint64_t *gh;                 /* [nrows] hashes grouped */
  uint32_t *order;              /* [nrows] the row of each gh[] entry */
} RowHash;

/* One cell into a row hash: a multiply and a fold per cell, with a full
 * mix once per row at the end. */
static inline uint64_t step(uint64_t h, uint64_t v) {
  h = (h ^ v) * UINT64_C(0x9e3779b97f4a7c15);
  return h ^ (h >> 32);
}

/* Row r of a column of 32-bit cells (floats or category codes) as hashed:
 * the float's bits, with every NaN one pattern and -0 as 0, since those
 * compare equal. Codes go through the same map: it sends equal codes to
 * equal values, all a hash needs. */
static inline uint64_t cell32(const void *x, int64_t r) {
  uint32_t b;
  memcpy(&b, (const char *)x + 4 * r, 4);
  uint32_t a = b & 0x7fffffffu;
  /* masks, not branches: one cell in twenty is a NaN in typical data, too
   * many for a branch to predict */
  uint32_t nan = -(uint32_t)(a > 0x7f800000u), zero = -(uint32_t)(a == 0);
  return (b & ~(nan | zero)) | (0x7fc00000u & nan);
}

/* Hash rows [lo, hi) in blocks that stay in cache, column by column
 * within a block; 32-bit columns go two at a time, as one 64-bit word per
 * row, which halves the multiplies and the passes over the block. */
static void hash_rows(void *ctx, int slice) {
  RowHash *rh = ctx;
  int64_t rows = rh->t->nrows, lo0 = rows * slice / rh->slices, hi0 = rows * (slice + 1) / rh->slices;
  uint64_t *h = rh->h;
  for (int64_t lo = lo0; lo < hi0; lo += 4096) {
    int64_t hi = lo + 4096 < hi0 ? lo + 4096 : hi0;
    for (int64_t r = lo; r < hi; r++) h[r] = UINT64_C(0x9e3779b97f4a7c15);
    const void *pend = NULL; /* a 32-bit column waiting for its pair */
    for (int k = 0; k <= rh->n; k++) {
      const MlprtColumn *c = k < rh->n ? &rh->t->cols[rh->idx[k]] : NULL;
      if (!c) {
        if (pend)
          for (int64_t r = lo; r < hi; r++) h[r] = step(h[r], cell32(pend, r));
        break;
      }
      switch (c->type) {
      case MLPRT_COL_FLOAT:
      case MLPRT_COL_INT:
      case MLPRT_COL_CATEGORY: {
        const void *x = c->type == MLPRT_COL_CATEGORY ? (const void *)c->codes : (const void *)c->f;
        if (!pend) {
          pend = x;
          break;
        }
        for (int64_t r = lo; r < hi; r++) h[r] = step(h[r], cell32(pend, r) << 32 | cell32(x, r));
        pend = NULL;
        break;
      }
      case MLPRT_COL_BOOL:
        for (int64_t r = lo; r < hi; r++) h[r] = step(h[r], c->b[r]);
        break;
      case MLPRT_COL_TEXT:
        for (int64_t r = lo; r < hi; r++) {
          const char *str = mlprt_text_at(c, r);
          h[r] = step(h[r], str ? mlprt_hash_bytes64(str, strlen(str)) : 0);
        }
        break;
      default:
        for (int64_t r = lo; r < hi; r++) h[r] = step(h[r], (uint64_t)c->t[r]);
        break;
      }
    }
    /* a full mix per row: every bit of every cell reaches every bit */
    for (int64_t r = lo; r < hi; r++) h[r] = mlprt_mix64(h[r]);
  }
  int64_t *count = rh->count[slice];
  for (int64_t r = lo0; r < hi0; r++) count[h[r] >> (64 - PART_BITS)]++;
}

/* Slice's rows into their groups, at the positions the counts gave. */
static void scatter_rows(void *ctx, int slice) {
  RowHash *rh = ctx;
  int64_t rows = rh->t->nrows, lo = rows * slice / rh->slices, hi = rows * (slice + 1) / rh->slices;
  int64_t *at = rh->count[slice];
  for (int64_t r = lo; r < hi; r++) {
    int64_t j = at[rh->h[r] >> (64 - PART_BITS)]++;
    rh->gh[j] = rh->h[r], rh->order[j] = (uint32_t)r;
  }
}

static bool cell_equal(const MlprtColumn *c, int64_t a, int64_t b) {
  switch (c->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT: return c->f[a] == c->f[b] || (isnan(c->f[a]) && isnan(c->f[b]));
  case MLPRT_COL_BOOL: return c->b[a] == c->b[b];
  case MLPRT_COL_CATEGORY: return c->codes[a] == c->codes[b];
  case MLPRT_COL_TEXT:
    if (c->off[a] < 0 || c->off[b] < 0) return c->off[a] == c->off[b];
    return strcmp(c->pool + c->off[a], c->pool + c->off[b]) == 0;
  default: return c->t[a] == c->t[b];
  }
}

typedef struct {
  const MlprtTable *t;
  const int *idx;
  int n;
  const uint64_t *gh;    /* [rows] row hashes grouped by partition */
  const uint32_t *order; /* [rows] the row of each gh[] entry */
  const int64_t *start;  /* [PARTS + 1] each group's range in gh and order */
  uint8_t *keep;         /* [rows] all 1 on entry; out: 0 for a repeat of an earlier row */
} Probe;

#define PREFETCH 16 /* rows ahead */

/* A slot holds the row's upper hash bits below the partition bits, and the
 * entry's position in its group + 1, so most probes touch only the group. */
static void probe_part(void *ctx, int part) {
  Probe *p = ctx;
  int64_t lo = p->start[part], hi = p->start[part + 1];
  const uint64_t *gh = p->gh + lo;
  const uint32_t *order = p->order + lo;
  uint32_t nslots = 16;
  while (nslots < (uint64_t)(hi - lo) * 2) nslots *= 2;
  uint64_t *slots = mlprt_xcalloc(nslots, sizeof *slots);
  for (int64_t i = 0; i < hi - lo; i++) {
    /* the table outgrows the first-level cache: fetch the slot a later row
     * will probe while this one is checked */
    if (i + PREFETCH < hi - lo) __builtin_prefetch(&slots[(uint32_t)gh[i + PREFETCH] & (nslots - 1)], 1);
    uint64_t hr = gh[i], tag = hr >> 32 << 32;
    for (uint32_t s = (uint32_t)hr & (nslots - 1);; s = (s + 1) & (nslots - 1)) {
      uint64_t v = slots[s];
      if (!v) {
        slots[s] = tag | (uint64_t)(i + 1);
        break;
      }
      if ((v >> 32 << 32) != tag) continue;
      int64_t o = (int64_t)(uint32_t)v - 1;
      if (gh[o] != hr) continue;
      bool same = true;
      for (int k = 0; k < p->n && same; k++) same = cell_equal(&p->t->cols[p->idx[k]], order[o], order[i]);
      if (same) {
        p->keep[order[i]] = 0;
        break;
      }
    }
  }
  free(slots);
}

int64_t mlprt_drop_duplicates(MlprtTable *t, MlprtCols on, MlprtCleanLog *log, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, on, MLPRT_TM_ANY, "drop_duplicates", &idx, err);
  if (n < 0) return -1;
  int64_t rows = t->nrows;
  if (rows >= INT64_C(0x7fffffff)) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "drop_duplicates: more than 2^31 rows");
    free(idx);
    return -1;
  }
  size_t hbytes = (size_t)rows * sizeof(uint64_t);
  RowHash *rh = mlprt_xcalloc(1, sizeof *rh);
  *rh = (RowHash){.t = t, .idx = idx, .n = n, .slices = SLICES};
  rh->h = mlprt_scratch_alloc(hbytes);
  mlprt_parallel_for(rh->slices, 0, hash_rows, rh);
  /* group g holds slice 0's rows of g, then slice 1's, ...: counts become
   * each slice's first position in each group */
  int64_t start[PARTS + 1], at = 0;
  for (int g = 0; g < PARTS; g++) {
    start[g] = at;
    for (int k = 0; k < rh->slices; k++) {
      int64_t c = rh->count[k][g];
      rh->count[k][g] = at;
      at += c;
    }
  }
  start[PARTS] = at;
  rh->order = mlprt_scratch_alloc((size_t)rows * sizeof *rh->order);
  rh->gh = mlprt_scratch_alloc(hbytes);
  mlprt_parallel_for(rh->slices, 0, scatter_rows, rh);
  mlprt_scratch_free(rh->h, hbytes);
  uint32_t *order = rh->order;
  uint64_t *gh = rh->gh;
  free(rh);
  uint8_t *keep = mlprt_scratch_alloc((size_t)rows);
  memset(keep, 1, (size_t)rows);
  Probe pr = {t, idx, n, gh, order, start, keep};
  mlprt_parallel_for(PARTS, 0, probe_part, &pr);
  mlprt_scratch_free(order, (size_t)rows * sizeof *order);
  mlprt_scratch_free(gh, hbytes);
  MlprtFit f;
  mlprt_fit_init(&f, MLPRT_STEP_DEDUP, 0, t, idx, 0);
  f.rows_before = rows;
  int64_t removed = mlprt_table_filter(t, keep);
  f.rows_after = t->nrows;
  mlprt_log_fit(log, &f);
  mlprt_fit_free(&f);
  mlprt_scratch_free(keep, (size_t)rows);
  free(idx);
  return removed;
}

/* ---- features ---- */

int mlprt_table_features(const MlprtTable *t, int part, int target, float *out, int64_t *nrows_out) {
  int ncols = 0;
  int64_t w = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (part >= 0 && (t->part ? t->part[r] : MLPRT_TRAIN) != part) continue;
    int k = 0;
    for (int i = 0; i < t->ncols; i++) {
      const MlprtColumn *c = &t->cols[i];
      if (i == target) continue;
      if (c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT) {
        if (out) out[k] = c->sp ? mlprt_sparse_at(c, r) : c->f[r];
      } else if (c->type == MLPRT_COL_BOOL) {
        if (out) out[k] = c->b[r] == MLPRT_BOOL_NA ? NAN : (float)c->b[r];
      } else {
        continue;
      }
      k++;
    }
    if (out) out += k;
    ncols = k;
    w++;
  }
  if (!w) {
    for (int i = 0; i < t->ncols; i++) {
      MlprtColType ty = t->cols[i].type;
      if (i != target &&
          (ty == MLPRT_COL_FLOAT || ty == MLPRT_COL_INT || ty == MLPRT_COL_BOOL))
        ncols++;
    }
  }
  *nrows_out = w;
  return ncols;
}

/* A run of feature columns: one ordinary column, or columns of one sparse
 * block whose features are first .. first + n - 1. */
typedef struct {
  const MlprtColumn *col;
  int64_t first, n;
  int32_t *feature; /* sparse: [the block's columns] the feature of each, or -1 outside the run */
  int32_t top;      /* sparse: the run's last column of the block (they ascend, as the features do) */
} FeatureRun;

/* The row's features of one run, in feature order, to cols/vals when not
 * NULL; returns how many, and counts missing values in *missing. */
static int64_t run_row(const FeatureRun *u, int64_t r, int32_t *cols, float *vals, int64_t *missing) {
  const MlprtColumn *c = u->col;
  if (!c->sp) {
    float v = c->type == MLPRT_COL_BOOL ? (c->b[r] == MLPRT_BOOL_NA ? NAN : (float)c->b[r]) : c->f[r];
    if (isnan(v)) ++*missing;
    if (v == 0 || isnan(v)) return 0;
    if (cols) cols[0] = (int32_t)u->first, vals[0] = v;
    return 1;
  }
  const MlprtCsr *m = &c->sp->rows;
  int64_t n = 0;
  for (int64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++) {
    int32_t f = u->feature[m->col[k]];
    if (f < u->first || f >= u->first + u->n) continue;
    if (cols) cols[n] = f, vals[n] = m->val[k];
    n++;
  }
  return n;
}

int64_t mlprt_table_features_csr(const MlprtTable *t, int part, int target, MlprtCsr *out) {
  FeatureRun *runs = mlprt_xmalloc((size_t)(t->ncols ? t->ncols : 1) * sizeof *runs);
  int nruns = 0;
  int64_t F = 0;
  for (int i = 0; i < t->ncols; i++) {
    const MlprtColumn *c = &t->cols[i];
    if (i == target || (c->type != MLPRT_COL_FLOAT && c->type != MLPRT_COL_INT && c->type != MLPRT_COL_BOOL))
      continue;
    FeatureRun *last = nruns ? &runs[nruns - 1] : NULL;
    if (c->sp && last && last->col->sp == c->sp && last->first + last->n == F && c->sp_col > last->top) {
      last->feature[c->sp_col] = (int32_t)F++;
      last->n++;
      last->top = c->sp_col;
      continue;
    }
    runs[nruns] = (FeatureRun){c, F, 1, NULL, c->sp_col};
    if (c->sp) {
      int64_t w = c->sp->rows.ncols;
      runs[nruns].feature = mlprt_xmalloc((size_t)(w ? w : 1) * sizeof(int32_t));
      memset(runs[nruns].feature, 0xff, (size_t)w * sizeof(int32_t)); /* -1 */
      runs[nruns].feature[c->sp_col] = (int32_t)F;
    }
    nruns++, F++;
  }
  int64_t rows = 0, nnz = 0, missing = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (part >= 0 && (t->part ? t->part[r] : MLPRT_TRAIN) != part) continue;
    rows++;
    for (int j = 0; j < nruns; j++) nnz += run_row(&runs[j], r, NULL, NULL, &missing);
  }
  *out = (MlprtCsr){rows, F, mlprt_xmalloc((size_t)(rows + 1) * sizeof(int64_t)),
                    mlprt_xmalloc((size_t)(nnz ? nnz : 1) * sizeof(int32_t)),
                    mlprt_xmalloc((size_t)(nnz ? nnz : 1) * sizeof(float))};
  int64_t i = 0, ignored = 0;
  out->ptr[0] = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (part >= 0 && (t->part ? t->part[r] : MLPRT_TRAIN) != part) continue;
    int64_t k = out->ptr[i];
    for (int j = 0; j < nruns; j++) k += run_row(&runs[j], r, out->col + k, out->val + k, &ignored);
    out->ptr[++i] = k;
  }
  for (int j = 0; j < nruns; j++) free(runs[j].feature);
  free(runs);
  return missing;
}
