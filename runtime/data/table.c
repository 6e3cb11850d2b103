/* table.c — the columnar table every loader fills and every cleaning op
 * rewrites: typed columns, level dictionaries, text pools, row filtering and
 * reordering, appending tables, CSV export, and the data step's errors. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "data_int.h"

/* ---- memory and errors ---- */

static _Noreturn void out_of_memory(size_t n) {
  fprintf(stderr, "mlprt: out of memory allocating %zu bytes\n", n);
  abort();
}

void *mlprt_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) out_of_memory(n);
  return p;
}

void *mlprt_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) out_of_memory(n * size);
  return p;
}

void *mlprt_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) out_of_memory(n);
  return q;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* Large buffers (columns of millions of rows, scratch arrays) are whole,
 * aligned 2 MiB transparent huge pages, so one fault maps 2 MiB. Freed ones
 * are kept for the next large request instead of going back to the kernel:
 * here the kernel zeroes a fresh page far slower than memory already touched
 * is rewritten, and a chain of cleaning steps frees scratch and dropped
 * columns just before it asks for new columns (one-hot encoding). The pool
 * holds few regions and at most POOL_BYTES, so it keeps little resident. */
#define BIG (HUGE_PAGE / 2)
#define POOL_SLOTS 64
#define POOL_BYTES ((size_t)128 << 20)

static struct {
  pthread_mutex_t lock;
  char *p[POOL_SLOTS];
  size_t n[POOL_SLOTS];
  int count;
  size_t bytes;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t huge_round(size_t n) {
  return (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* m bytes, a multiple of HUGE_PAGE: the smallest pooled region that holds
 * them (its tail stays pooled), or a fresh aligned mapping (zero; *fresh
 * says which, where fresh is not NULL). */
static void *big_alloc_from(size_t m, bool *fresh) {
  pthread_mutex_lock(&pool.lock);
  int best = -1;
  for (int i = 0; i < pool.count; i++)
    if (pool.n[i] >= m && (best < 0 || pool.n[i] < pool.n[best])) best = i;
  if (best >= 0) {
    char *p = pool.p[best];
    pool.bytes -= m;
    if (pool.n[best] > m) {
      pool.p[best] += m, pool.n[best] -= m;
    } else {
      pool.count--;
      pool.p[best] = pool.p[pool.count], pool.n[best] = pool.n[pool.count];
    }
    pthread_mutex_unlock(&pool.lock);
    if (fresh) *fresh = false;
    return p;
  }
  pthread_mutex_unlock(&pool.lock);
  if (fresh) *fresh = true;
  char *p = mmap(NULL, m + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) out_of_memory(m);
  char *a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  if (a > p) munmap(p, (size_t)(a - p));
  munmap(a + m, (size_t)(p + HUGE_PAGE - a)); /* never empty: a < p + HUGE_PAGE */
  madvise(a, m, MADV_HUGEPAGE); /* a hint: kernels without THP just map small pages */
  return a;
}

static void *big_alloc(size_t m) {
  return big_alloc_from(m, NULL);
}

static void big_free(void *p, size_t m) {
  pthread_mutex_lock(&pool.lock);
  if (pool.count < POOL_SLOTS && pool.bytes + m <= POOL_BYTES) {
    pool.p[pool.count] = p, pool.n[pool.count] = m;
    pool.count++;
    pool.bytes += m;
    p = NULL;
  }
  pthread_mutex_unlock(&pool.lock);
  if (p) munmap(p, m);
}

/* A column's storage of n bytes: from BIG up whole huge pages (so even a
 * one-hot column of a million bytes is one fault, not hundreds), below that
 * the heap. column_release takes the same n. */
static void *column_alloc(size_t n) {
  return n < BIG ? mlprt_xmalloc(n) : big_alloc(huge_round(n));
}

static void column_release(void *p, size_t n) {
  if (n < BIG) free(p);
  else if (p) big_free(p, huge_round(n));
}

/* Storage of n bytes holding the first min(n, old) of p's old bytes. */
static void *column_resize(void *p, size_t old, size_t n) {
  if (old < BIG && n < BIG) return mlprt_xrealloc(p, n ? n : 1);
  if (old >= BIG && n >= BIG && huge_round(n) <= huge_round(old)) {
    if (huge_round(n) < huge_round(old)) /* the kernel takes the tail back */
      munmap((char *)p + huge_round(n), huge_round(old) - huge_round(n));
    return p;
  }
  void *q = column_alloc(n);
  memcpy(q, p, old < n ? old : n);
  column_release(p, old);
  return q;
}

void *mlprt_scratch_alloc(size_t n) {
  if (n >= BIG) return big_alloc(huge_round(n));
  void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) out_of_memory(n);
  return p;
}

void mlprt_scratch_free(void *p, size_t n) {
  if (!p) return;
  if (n >= BIG) big_free(p, huge_round(n));
  else munmap(p, n ? n : 1);
}

char *mlprt_xstrndup(const char *s, size_t n) {
  char *p = mlprt_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

void mlprt_error_set(MlprtError *e, const char *file, int64_t row, int64_t line, int col,
                     const char *colname, const char *fmt, ...) {
  if (!e) return;
  snprintf(e->file, sizeof e->file, "%s", file ? file : "");
  e->row = row, e->line = line, e->col = col, e->query_at = 0;
  snprintf(e->column, sizeof e->column, "%s", colname ? colname : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

void mlprt_error_format(const MlprtError *e, char *buf, size_t n) {
  size_t k = 0;
#define PUT(...) k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, __VA_ARGS__)
  if (e->file[0]) PUT("%s: ", e->file);
  if (e->row) PUT("row %lld", (long long)e->row);
  if (e->row && e->line) PUT(" (line %lld)", (long long)e->line);
  if (e->row && e->col) PUT(", ");
  if (e->col) PUT("column %d", e->col);
  if (e->col && e->column[0]) PUT(" '%s'", e->column);
  if (!e->col && e->column[0]) PUT("column '%s'", e->column);
  if (e->row || e->col || e->column[0]) PUT(": ");
  PUT("%s", e->msg);
#undef PUT
}

/* ---- type names ---- */

static const char *const type_names[MLPRT_COL_NTYPES] = {"float", "int", "bool", "category", "text",
                                                         "datetime"};

const char *mlprt_col_type_name(MlprtColType t) {
  return t < MLPRT_COL_NTYPES ? type_names[t] : "?";
}

int mlprt_col_type_parse(const char *s) {
  for (int i = 0; i < MLPRT_COL_NTYPES; i++)
    if (strcmp(s, type_names[i]) == 0) return i;
  return -1;
}

/* ---- level dictionaries ---- */

/* Eight bytes at a time: category values are short, and this is the
 * loader's inner loop for every categorical cell. */
static uint32_t hash_bytes(const char *s, size_t len) {
  uint64_t h = len * UINT64_C(0x9e3779b97f4a7c15);
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 29;
    s += 8, len -= 8;
  }
  if (len) {
    uint64_t w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
  }
  /* a final avalanche: the multiplies above only carry bits upwards, and
   * the table index is taken from the low bits */
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  return (uint32_t)h;
}

/* memcmp(a, b, n) == 0 without a call for the short strings levels hold. */
static inline bool same_bytes(const char *a, const char *b, size_t n) {
  while (n >= 8) {
    uint64_t x, y;
    memcpy(&x, a, 8), memcpy(&y, b, 8);
    if (x != y) return false;
    a += 8, b += 8, n -= 8;
  }
  while (n--)
    if (*a++ != *b++) return false;
  return true;
}

/* A slot: the name's hash above its code + 1, so a probe that meets another
 * name costs one load; 0 is empty. */
static inline uint64_t levels_slot(uint32_t h, int32_t c) {
  return (uint64_t)h << 32 | (uint32_t)(c + 1);
}

int32_t mlprt_levels_find_hashed(const MlprtLevels *lv, const char *s, size_t len, uint32_t h) {
  if (!lv->nslots) return -1;
  for (uint32_t i = h & (lv->nslots - 1);; i = (i + 1) & (lv->nslots - 1)) {
    uint64_t v = lv->slots[i];
    if (!v) return -1;
    int32_t c = (int32_t)(uint32_t)v - 1;
    if ((uint32_t)(v >> 32) == h && lv->len[c] == len && same_bytes(lv->names[c], s, len)) return c;
  }
}

int32_t mlprt_levels_find(const MlprtLevels *lv, const char *s, size_t len) {
  return lv->nslots ? mlprt_levels_find_hashed(lv, s, len, hash_bytes(s, len)) : -1;
}

static void levels_rehash(MlprtLevels *lv, uint32_t nslots) {
  uint64_t *old = lv->slots;
  uint32_t nold = lv->nslots;
  lv->slots = mlprt_xcalloc(nslots, sizeof *lv->slots);
  lv->nslots = nslots;
  for (uint32_t j = 0; j < nold; j++) {
    if (!old[j]) continue;
    uint32_t i = (uint32_t)(old[j] >> 32) & (nslots - 1);
    while (lv->slots[i]) i = (i + 1) & (nslots - 1);
    lv->slots[i] = old[j];
  }
  free(old);
}

int32_t mlprt_levels_intern_hashed(MlprtLevels *lv, const char *s, size_t len, uint32_t h) {
  int32_t c = mlprt_levels_find_hashed(lv, s, len, h);
  if (c >= 0) return c;
  if ((uint32_t)(lv->n + 1) * 2 > lv->nslots) levels_rehash(lv, lv->nslots ? lv->nslots * 2 : 16);
  if (lv->n == lv->cap) {
    lv->cap = lv->cap ? lv->cap * 2 : 8;
    lv->names = mlprt_xrealloc(lv->names, (size_t)lv->cap * sizeof *lv->names);
    lv->len = mlprt_xrealloc(lv->len, (size_t)lv->cap * sizeof *lv->len);
  }
  c = lv->n++;
  lv->names[c] = mlprt_xstrndup(s, len);
  lv->len[c] = (uint32_t)len;
  uint32_t i = h & (lv->nslots - 1);
  while (lv->slots[i]) i = (i + 1) & (lv->nslots - 1);
  lv->slots[i] = levels_slot(h, c);
  return c;
}

int32_t mlprt_levels_intern(MlprtLevels *lv, const char *s, size_t len) {
  return mlprt_levels_intern_hashed(lv, s, len, hash_bytes(s, len));
}

void mlprt_levels_count(MlprtLevels *lv, int64_t **cnt, int32_t *cap, const char *s, size_t len) {
  int32_t k = mlprt_levels_intern(lv, s, len);
  if (k >= *cap) {
    int32_t old = *cap;
    *cap = lv->cap > k ? lv->cap : k + 1;
    *cnt = mlprt_xrealloc(*cnt, (size_t)*cap * sizeof **cnt);
    memset(*cnt + old, 0, (size_t)(*cap - old) * sizeof **cnt);
  }
  (*cnt)[k]++;
}

void mlprt_levels_free(MlprtLevels *lv) {
  for (int32_t i = 0; i < lv->n; i++) free(lv->names[i]);
  free(lv->names);
  free(lv->len);
  free(lv->slots);
  memset(lv, 0, sizeof *lv);
}

/* ---- tables ---- */

void mlprt_table_init(MlprtTable *t) {
  memset(t, 0, sizeof *t);
}

/* The one storage array of a column and its element size. */
static void **column_data(MlprtColumn *c, size_t *elem) {
  switch (c->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT: *elem = sizeof(float); return (void **)&c->f;
  case MLPRT_COL_BOOL: *elem = 1; return (void **)&c->b;
  case MLPRT_COL_CATEGORY: *elem = sizeof(int32_t); return (void **)&c->codes;
  case MLPRT_COL_TEXT: *elem = sizeof(int64_t); return (void **)&c->off;
  default: *elem = sizeof(int64_t); return (void **)&c->t;
  }
}

/* Every column of t holds cap_rows elements (at least one). */
static size_t column_bytes(const MlprtTable *t, size_t elem) {
  return (size_t)(t->cap_rows ? t->cap_rows : 1) * elem;
}

/* A block of zeroed memory that columns made together share, freed with
 * the last of them. */
struct MlprtSlab {
  void *p;
  size_t bytes;
  int64_t refs;
};

static void slab_release(struct MlprtSlab *s) {
  if (--s->refs) return;
  column_release(s->p, s->bytes);
  free(s);
}

/* c's data as storage of its own, n bytes holding the first min(n, old) of the old. */
static void column_own(MlprtColumn *c, void **data, size_t old, size_t n) {
  void *q = column_alloc(n);
  memcpy(q, *data, old < n ? old : n);
  *data = q;
  slab_release(c->slab);
  c->slab = NULL;
}

/* The last column referring to a sparse block frees it. */
static void sparse_release(MlprtSparseCols *b) {
  if (--b->refs) return;
  mlprt_csr_free(&b->rows);
  free(b);
}

static void column_free(const MlprtTable *t, MlprtColumn *c) {
  size_t elem;
  void **data = column_data(c, &elem);
  if (c->sp) sparse_release(c->sp);
  else if (c->slab) slab_release(c->slab);
  else column_release(*data, column_bytes(t, elem));
  free(c->name);
  free(c->pool);
  mlprt_levels_free(&c->levels);
}

void mlprt_table_free(MlprtTable *t) {
  for (int i = 0; i < t->ncols; i++) column_free(t, &t->cols[i]);
  free(t->cols);
  free(t->part);
  free(t->rowid);
  mlprt_table_init(t);
}

static void column_set_missing(MlprtColumn *c, int64_t from, int64_t to) {
  if (c->sp) return; /* sparse values are never missing */
  switch (c->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT:
    for (int64_t r = from; r < to; r++) c->f[r] = NAN;
    break;
  case MLPRT_COL_BOOL: memset(c->b + from, MLPRT_BOOL_NA, (size_t)(to - from)); break;
  case MLPRT_COL_CATEGORY:
    memset(c->codes + from, 0xff, (size_t)(to - from) * sizeof *c->codes);
    break; /* -1 */
  case MLPRT_COL_TEXT: memset(c->off + from, 0xff, (size_t)(to - from) * sizeof *c->off); break;
  default:
    for (int64_t r = from; r < to; r++) c->t[r] = MLPRT_TIME_NA;
    break;
  }
}

void mlprt_row_set_missing(MlprtTable *t, int64_t row) {
  for (int i = 0; i < t->ncols; i++) column_set_missing(&t->cols[i], row, row + 1);
}

int mlprt_table_add_column_raw(MlprtTable *t, const char *name, MlprtColType type) {
  if (t->ncols == t->cap_cols) {
    t->cap_cols = t->cap_cols ? t->cap_cols * 2 : 8;
    t->cols = mlprt_xrealloc(t->cols, (size_t)t->cap_cols * sizeof *t->cols);
  }
  MlprtColumn *c = &t->cols[t->ncols];
  memset(c, 0, sizeof *c);
  c->name = mlprt_xstrndup(name, strlen(name));
  c->type = type;
  size_t elem;
  void **data = column_data(c, &elem);
  *data = column_alloc(column_bytes(t, elem));
  return t->ncols++;
}

void mlprt_table_add_float_columns(MlprtTable *t, char **names, int n) {
  if (n <= 0) return;
  size_t each = (column_bytes(t, sizeof(float)) + 63) & ~(size_t)63, bytes = each * (size_t)n;
  struct MlprtSlab *s = mlprt_xmalloc(sizeof *s);
  bool fresh = false;
  *s = (struct MlprtSlab){bytes < BIG ? mlprt_xcalloc(1, bytes) : big_alloc_from(huge_round(bytes), &fresh),
                          bytes, n};
  if (bytes >= BIG && !fresh) memset(s->p, 0, bytes);
  for (int k = 0; k < n; k++) {
    if (t->ncols == t->cap_cols) {
      t->cap_cols = t->cap_cols ? t->cap_cols * 2 : 8;
      t->cols = mlprt_xrealloc(t->cols, (size_t)t->cap_cols * sizeof *t->cols);
    }
    float *f = (float *)((char *)s->p + each * (size_t)k);
    t->cols[t->ncols++] = (MlprtColumn){.name = names[k], .type = MLPRT_COL_FLOAT, .f = f, .slab = s};
  }
}

void mlprt_table_add_sparse_columns(MlprtTable *t, char **names, int n, MlprtCsr *rows) {
  if (n <= 0) {
    mlprt_csr_free(rows);
    return;
  }
  MlprtSparseCols *b = mlprt_xmalloc(sizeof *b);
  *b = (MlprtSparseCols){*rows, n};
  *rows = (MlprtCsr){0};
  for (int k = 0; k < n; k++) {
    if (t->ncols == t->cap_cols) {
      t->cap_cols = t->cap_cols ? t->cap_cols * 2 : 8;
      t->cols = mlprt_xrealloc(t->cols, (size_t)t->cap_cols * sizeof *t->cols);
    }
    t->cols[t->ncols++] = (MlprtColumn){.name = names[k], .type = MLPRT_COL_FLOAT, .sp = b, .sp_col = k};
  }
}

void mlprt_column_densify(MlprtTable *t, int c) {
  MlprtColumn *col = &t->cols[c];
  if (!col->sp) return;
  const MlprtCsr *m = &col->sp->rows;
  float *f = column_alloc(column_bytes(t, sizeof(float)));
  memset(f, 0, (size_t)t->nrows * sizeof *f);
  for (int64_t r = 0; r < t->nrows; r++)
    for (int64_t k = m->ptr[r]; k < m->ptr[r + 1]; k++)
      if (m->col[k] == col->sp_col) f[r] = m->val[k];
  sparse_release(col->sp);
  col->sp = NULL;
  col->f = f;
}

bool mlprt_table_has_sparse(const MlprtTable *t) {
  for (int i = 0; i < t->ncols; i++)
    if (t->cols[i].sp) return true;
  return false;
}

float mlprt_sparse_at(const MlprtColumn *c, int64_t row) {
  const MlprtCsr *m = &c->sp->rows;
  int64_t lo = m->ptr[row], hi = m->ptr[row + 1];
  while (lo < hi) { /* the row's columns ascend */
    int64_t mid = lo + (hi - lo) / 2;
    if (m->col[mid] < c->sp_col) lo = mid + 1;
    else hi = mid;
  }
  return lo < m->ptr[row + 1] && m->col[lo] == c->sp_col ? m->val[lo] : 0.0f;
}

/* The distinct sparse blocks of t's columns, at most max of them, into b. */
static int sparse_blocks(const MlprtTable *t, MlprtSparseCols **b, int max) {
  int n = 0;
  for (int i = 0; i < t->ncols; i++) {
    MlprtSparseCols *s = t->cols[i].sp;
    bool seen = !s;
    for (int j = 0; j < n && !seen; j++) seen = b[j] == s;
    if (!seen && n < max) b[n++] = s;
  }
  return n;
}

#define SPARSE_BLOCKS_MAX 64

/* Each sparse block's rows kept or reordered: row i of the result is old
 * row from[i] (nrows of them). */
static void sparse_rows_take(MlprtTable *t, const int64_t *from, int64_t nrows) {
  MlprtSparseCols *b[SPARSE_BLOCKS_MAX];
  int nb = sparse_blocks(t, b, SPARSE_BLOCKS_MAX);
  for (int j = 0; j < nb; j++) {
    MlprtCsr *m = &b[j]->rows;
    MlprtCsr out = {.nrows = nrows, .ncols = m->ncols};
    out.ptr = mlprt_xmalloc((size_t)(nrows + 1) * sizeof *out.ptr);
    out.ptr[0] = 0;
    for (int64_t r = 0; r < nrows; r++) out.ptr[r + 1] = out.ptr[r] + m->ptr[from[r] + 1] - m->ptr[from[r]];
    int64_t nnz = out.ptr[nrows];
    out.col = mlprt_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *out.col);
    out.val = mlprt_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *out.val);
    for (int64_t r = 0; r < nrows; r++) {
      int64_t k = m->ptr[from[r]], len = m->ptr[from[r] + 1] - k;
      memcpy(out.col + out.ptr[r], m->col + k, (size_t)len * sizeof *out.col);
      memcpy(out.val + out.ptr[r], m->val + k, (size_t)len * sizeof *out.val);
    }
    mlprt_csr_free(m);
    *m = out;
  }
}

int mlprt_table_add_column(MlprtTable *t, const char *name, MlprtColType type) {
  int c = mlprt_table_add_column_raw(t, name, type);
  column_set_missing(&t->cols[c], 0, t->nrows);
  return c;
}

void mlprt_table_drop_column(MlprtTable *t, int col) {
  column_free(t, &t->cols[col]);
  memmove(&t->cols[col], &t->cols[col + 1], (size_t)(t->ncols - col - 1) * sizeof *t->cols);
  t->ncols--;
}

int mlprt_table_find(const MlprtTable *t, const char *name) {
  for (int i = 0; i < t->ncols; i++)
    if (strcmp(t->cols[i].name, name) == 0) return i;
  return -1;
}

void mlprt_table_reserve(MlprtTable *t, int64_t n) {
  if (n <= t->cap_rows) return;
  int64_t cap = t->cap_rows ? t->cap_rows : 64;
  while (cap < n) cap += cap / 2 + 64;
  for (int i = 0; i < t->ncols; i++) {
    size_t elem;
    void **data = column_data(&t->cols[i], &elem);
    if (t->cols[i].sp) continue; /* rows are never added to sparse blocks (mlprt_table_append) */
    if (t->cols[i].slab) column_own(&t->cols[i], data, column_bytes(t, elem), (size_t)cap * elem);
    else *data = column_resize(*data, column_bytes(t, elem), (size_t)cap * elem);
  }
  if (t->part) t->part = mlprt_xrealloc(t->part, (size_t)cap);
  if (t->rowid) t->rowid = mlprt_xrealloc(t->rowid, (size_t)cap * sizeof *t->rowid);
  t->cap_rows = cap;
}

void mlprt_table_shrink(MlprtTable *t) {
  int64_t cap = t->nrows ? t->nrows : 1;
  if (cap >= t->cap_rows) return;
  for (int i = 0; i < t->ncols; i++) {
    size_t elem;
    void **data = column_data(&t->cols[i], &elem);
    if (!t->cols[i].slab && !t->cols[i].sp) /* a shared block's slice just holds more rows than it needs */
      *data = column_resize(*data, column_bytes(t, elem), (size_t)cap * elem);
  }
  if (t->part) t->part = mlprt_xrealloc(t->part, (size_t)cap);
  if (t->rowid) t->rowid = mlprt_xrealloc(t->rowid, (size_t)cap * sizeof *t->rowid);
  t->cap_rows = cap;
}

typedef struct {
  MlprtTable *t;
  const uint8_t *keep;
} FilterTask;

/* Compact one column; columns are independent, so they run in parallel. */
static void filter_column(void *ctx, int i) {
  FilterTask *k = ctx;
  size_t elem;
  void *d = *column_data(&k->t->cols[i], &elem);
  if (k->t->cols[i].sp) return; /* the blocks are filtered once each */
  int64_t w = 0, n = k->t->nrows;
  const uint8_t *keep = k->keep;
  /* one loop per element size, so each copy is a plain load and store */
  if (elem == 1) {
    uint8_t *x = d;
    for (int64_t r = 0; r < n; r++) x[w] = x[r], w += keep[r] != 0;
  } else if (elem == 4) {
    uint32_t *x = d;
    for (int64_t r = 0; r < n; r++) x[w] = x[r], w += keep[r] != 0;
  } else {
    uint64_t *x = d;
    for (int64_t r = 0; r < n; r++) x[w] = x[r], w += keep[r] != 0;
  }
}

int64_t mlprt_table_filter(MlprtTable *t, const uint8_t *keep) {
  int64_t n = 0;
  for (int64_t r = 0; r < t->nrows; r++) n += keep[r] != 0;
  if (n == t->nrows) return 0;
  FilterTask k = {t, keep};
  mlprt_parallel_for(t->ncols, 0, filter_column, &k);
  if (mlprt_table_has_sparse(t)) {
    int64_t *from = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *from), w = 0;
    for (int64_t r = 0; r < t->nrows; r++)
      if (keep[r]) from[w++] = r;
    sparse_rows_take(t, from, n);
    free(from);
  }
  if (t->part) {
    int64_t w = 0;
    for (int64_t r = 0; r < t->nrows; r++)
      if (keep[r]) t->part[w++] = t->part[r];
  }
  if (t->rowid) {
    int64_t w = 0;
    for (int64_t r = 0; r < t->nrows; r++)
      if (keep[r]) t->rowid[w++] = t->rowid[r];
  }
  int64_t removed = t->nrows - n;
  t->nrows = n;
  return removed;
}

void mlprt_table_permute(MlprtTable *t, const int64_t *perm) {
  size_t most = 8;
  char *tmp = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1) * most);
  sparse_rows_take(t, perm, t->nrows);
  for (int i = 0; i < t->ncols; i++) {
    size_t elem;
    char *d = *column_data(&t->cols[i], &elem);
    if (t->cols[i].sp) continue;
    for (int64_t r = 0; r < t->nrows; r++) memcpy(tmp + r * elem, d + perm[r] * elem, elem);
    memcpy(d, tmp, (size_t)t->nrows * elem);
  }
  if (t->part) {
    for (int64_t r = 0; r < t->nrows; r++) tmp[r] = (char)t->part[perm[r]];
    memcpy(t->part, tmp, (size_t)t->nrows);
  }
  if (t->rowid) {
    int64_t *ids = (int64_t *)tmp;
    for (int64_t r = 0; r < t->nrows; r++) ids[r] = t->rowid[perm[r]];
    memcpy(t->rowid, ids, (size_t)t->nrows * sizeof *ids);
  }
  free(tmp);
}

void mlprt_table_like(MlprtTable *out, const MlprtTable *t) {
  mlprt_table_init(out);
  for (int i = 0; i < t->ncols; i++) mlprt_table_add_column(out, t->cols[i].name, t->cols[i].type);
}

typedef struct {
  MlprtTable *dst;
  const MlprtTable *src;
  int64_t base; /* first destination row */
} AppendTask;

static void append_column(void *ctx, int i) {
  AppendTask *k = ctx;
  MlprtColumn *d = &k->dst->cols[i];
  const MlprtColumn *s = &k->src->cols[i];
  int64_t base = k->base, n = k->src->nrows;
  size_t elem;
  char *dd = *column_data(d, &elem);
  if (s->type == MLPRT_COL_CATEGORY) {
    /* codes are local to each table: map src's levels onto dst's */
    int32_t *map = mlprt_xmalloc((size_t)(s->levels.n ? s->levels.n : 1) * sizeof *map);
    for (int32_t l = 0; l < s->levels.n; l++)
      map[l] = mlprt_levels_intern(&d->levels, s->levels.names[l], strlen(s->levels.names[l]));
    for (int64_t r = 0; r < n; r++) d->codes[base + r] = s->codes[r] < 0 ? -1 : map[s->codes[r]];
    free(map);
  } else if (s->type == MLPRT_COL_TEXT) {
    if (d->pool_len + s->pool_len > d->pool_cap) {
      d->pool_cap = (d->pool_len + s->pool_len) * 3 / 2 + 64;
      d->pool = mlprt_xrealloc(d->pool, (size_t)d->pool_cap);
    }
    if (s->pool_len) memcpy(d->pool + d->pool_len, s->pool, (size_t)s->pool_len);
    for (int64_t r = 0; r < n; r++) d->off[base + r] = s->off[r] < 0 ? -1 : s->off[r] + d->pool_len;
    d->pool_len += s->pool_len;
  } else {
    const char *sd = *column_data((MlprtColumn *)s, &elem);
    memcpy(dd + base * elem, sd, (size_t)n * elem);
  }
}

int mlprt_table_append(MlprtTable *dst, const MlprtTable *src, MlprtError *err) {
  if (dst->ncols != src->ncols) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "tables have %d and %d columns", dst->ncols, src->ncols);
    return -1;
  }
  for (int i = 0; i < src->ncols; i++) {
    if (dst->cols[i].sp || src->cols[i].sp) {
      mlprt_error_set(err, NULL, 0, 0, i + 1, src->cols[i].name,
                      "column %d '%s' is kept as sparse rows, which take no more rows", i + 1,
                      src->cols[i].name);
      return -1;
    }
    if (strcmp(dst->cols[i].name, src->cols[i].name) || dst->cols[i].type != src->cols[i].type) {
      mlprt_error_set(err, NULL, 0, 0, i + 1, src->cols[i].name, "column %d is '%s' (%s) here but '%s' (%s)",
                      i + 1, src->cols[i].name, mlprt_col_type_name(src->cols[i].type), dst->cols[i].name,
                      mlprt_col_type_name(dst->cols[i].type));
      return -1;
    }
  }
  int64_t base = dst->nrows, n = src->nrows;
  mlprt_table_reserve(dst, base + n);
  AppendTask k = {dst, src, base};
  /* columns are independent; big appends copy (and first touch) in parallel */
  mlprt_parallel_for(src->ncols, n * src->ncols >= 65536 ? 0 : 1, append_column, &k);
  if (dst->part || src->part) {
    if (!dst->part) dst->part = mlprt_xcalloc((size_t)dst->cap_rows, 1);
    if (src->part) memcpy(dst->part + base, src->part, (size_t)n);
    else memset(dst->part + base, MLPRT_TRAIN, (size_t)n);
  }
  if (dst->rowid || src->rowid) {
    /* rows of a table without ids get 0: not tracked */
    if (!dst->rowid) dst->rowid = mlprt_xcalloc((size_t)dst->cap_rows, sizeof *dst->rowid);
    if (src->rowid) memcpy(dst->rowid + base, src->rowid, (size_t)n * sizeof *src->rowid);
    else memset(dst->rowid + base, 0, (size_t)n * sizeof *dst->rowid);
  }
  dst->nrows = base + n;
  return 0;
}

bool mlprt_is_missing(const MlprtTable *t, int col, int64_t row) {
  const MlprtColumn *c = &t->cols[col];
  if (c->sp) return false;
  switch (c->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT: return isnan(c->f[row]);
  case MLPRT_COL_BOOL: return c->b[row] == MLPRT_BOOL_NA;
  case MLPRT_COL_CATEGORY: return c->codes[row] < 0;
  case MLPRT_COL_TEXT: return c->off[row] < 0;
  default: return c->t[row] == MLPRT_TIME_NA;
  }
}

void mlprt_text_set(MlprtColumn *c, int64_t row, const char *s, size_t len) {
  if (c->pool_len + (int64_t)len + 1 > c->pool_cap) {
    c->pool_cap = (c->pool_len + (int64_t)len + 1) * 2 + 256;
    c->pool = mlprt_xrealloc(c->pool, (size_t)c->pool_cap);
  }
  memcpy(c->pool + c->pool_len, s, len);
  c->pool[c->pool_len + (int64_t)len] = 0;
  c->off[row] = c->pool_len;
  c->pool_len += (int64_t)len + 1;
}

const char *mlprt_cell_str(const MlprtTable *t, int col, int64_t row, char *buf, size_t n) {
  const MlprtColumn *c = &t->cols[col];
  buf[0] = 0;
  if (mlprt_is_missing(t, col, row)) return buf;
  switch (c->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT:
    /* the shortest text that reads back as the same float */
    char tmp[32];
    float v = c->sp ? mlprt_sparse_at(c, row) : c->f[row];
    for (int digits = 6; digits <= 9; digits++) {
      snprintf(tmp, sizeof tmp, "%.*g", digits, v);
      if (strtof(tmp, NULL) == v) break;
    }
    size_t k = strlen(tmp) < n ? strlen(tmp) : n - 1;
    memcpy(buf, tmp, k);
    buf[k] = 0;
    return buf;
  case MLPRT_COL_BOOL: return c->b[row] ? "true" : "false";
  case MLPRT_COL_CATEGORY: return c->levels.names[c->codes[row]];
  case MLPRT_COL_TEXT: return mlprt_text_at(c, row);
  default: mlprt_format_datetime(c->t[row], buf, n); return buf;
  }
}

/* ---- CSV export ---- */

void mlprt_csv_put(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int mlprt_table_write_csv(const MlprtTable *t, const char *path, int part, MlprtError *err) {
  size_t n = strlen(path) + 32;
  char *tmp = mlprt_xmalloc(n);
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot write: %s", strerror(errno));
    free(tmp);
    return -1;
  }
  for (int i = 0; i < t->ncols; i++) {
    if (i) fputc(',', f);
    mlprt_csv_put(f, t->cols[i].name);
  }
  fputc('\n', f);
  char buf[64];
  for (int64_t r = 0; r < t->nrows; r++) {
    if (part >= 0 && (t->part ? t->part[r] : MLPRT_TRAIN) != part) continue;
    for (int i = 0; i < t->ncols; i++) {
      if (i) fputc(',', f);
      mlprt_csv_put(f, mlprt_cell_str(t, i, r, buf, sizeof buf));
    }
    fputc('\n', f);
  }
  int bad = ferror(f);
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, path) != 0) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot write: %s", strerror(errno));
    remove(tmp);
    free(tmp);
    return -1;
  }
  free(tmp);
  return 0;
}
