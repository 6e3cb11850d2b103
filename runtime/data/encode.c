/* encode.c — categorical encodings: one-hot (with an optional bucket for
 * levels unseen in training), ordinal, and the hashing trick. Consumes
 * CATEGORY (or TEXT) columns; produces the training levels (sorted, capped
 * to the most frequent) and replaces each column by its encoding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

#define UNKNOWN_LEVEL "__unknown__"
#define OTHER_LEVEL "__other__"

/* A cell's text, NULL when missing. */
static const char *cell_text(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_CATEGORY) return c->codes[r] < 0 ? NULL : c->levels.names[c->codes[r]];
  return mlprt_text_at(c, r);
}

typedef struct {
  const char *name;
  int64_t count;
} LevelCount;

static int by_count(const void *a, const void *b) {
  const LevelCount *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Levels some training row holds first, then by name. */
static int by_seen_name(const void *a, const void *b) {
  const LevelCount *x = a, *y = b;
  if ((x->count == 0) != (y->count == 0)) return x->count == 0 ? 1 : -1;
  return strcmp(x->name, y->name);
}

/* Training levels of column c (or the given ones: '\t' before each level,
 * up to the line's end, see MlprtEncodeParams.levels; those no training
 * row holds come after the others, cf->nunseen), sorted bytewise.
 * With max_levels > 0 and
 * more levels than that: one-hot keeps the max_levels - 1 most frequent
 * (ties by name) and puts the others after them, sorted too, as the levels
 * its NAME=__other__ column stands for (cf->nkept); ordinal keeps the
 * max_levels most frequent only. */
static void fit_levels(const MlprtTable *t, const MlprtColumn *c, int max_levels, bool onehot,
                       const char *given, MlprtColFit *cf) {
  MlprtLevels lv = {0};
  int64_t *cnt = NULL;
  int32_t cap = 0;
  /* given levels come first, each counted from zero; then only they count */
  for (const char *s = given; s && *s == '\t';) {
    size_t len = strcspn(s + 1, "\t\n");
    mlprt_levels_count(&lv, &cnt, &cap, s + 1, len);
    cnt[lv.n - 1] = 0;
    s += 1 + len;
  }
  if (c->type == MLPRT_COL_CATEGORY) {
    /* count codes, then name them: no string work per row */
    int64_t *per_code = mlprt_xcalloc((size_t)(c->levels.n ? c->levels.n : 1), sizeof *per_code);
    for (int64_t r = 0; r < t->nrows; r++)
      if (c->codes[r] >= 0 && mlprt_row_trains(t, r)) per_code[c->codes[r]]++;
    if (!given) {
      cap = c->levels.n ? c->levels.n : 1;
      cnt = mlprt_xcalloc((size_t)cap, sizeof *cnt);
    }
    for (int32_t l = 0; l < c->levels.n; l++) {
      if (!per_code[l]) continue;
      int32_t k = given ? mlprt_levels_find(&lv, c->levels.names[l], c->levels.len[l])
                        : mlprt_levels_intern(&lv, c->levels.names[l], c->levels.len[l]);
      if (k >= 0) cnt[k] = per_code[l];
    }
    free(per_code);
  }
  for (int64_t r = 0; c->type != MLPRT_COL_CATEGORY && r < t->nrows; r++) {
    const char *s = mlprt_row_trains(t, r) ? cell_text(c, r) : NULL;
    if (!s) continue;
    int32_t k = given ? mlprt_levels_find(&lv, s, strlen(s)) : -1;
    if (!given) mlprt_levels_count(&lv, &cnt, &cap, s, strlen(s));
    else if (k >= 0) cnt[k]++;
  }
  LevelCount *lc = mlprt_xmalloc((size_t)(lv.n ? lv.n : 1) * sizeof *lc);
  for (int32_t k = 0; k < lv.n; k++) lc[k] = (LevelCount){lv.names[k], cnt[k]};
  int32_t n = lv.n, kept = n;
  if (max_levels > 0 && n > max_levels) {
    qsort(lc, (size_t)n, sizeof *lc, by_count);
    kept = onehot ? max_levels - 1 : max_levels;
    if (!onehot) n = kept;
  }
  /* the kept levels training rows hold, then (given levels) those none
   * does; the others after them; each part by name */
  qsort(lc, (size_t)kept, sizeof *lc, by_seen_name);
  qsort(lc + kept, (size_t)(n - kept), sizeof *lc, by_seen_name);
  cf->levels = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->levels);
  for (int32_t k = 0; k < n; k++) cf->levels[k] = mlprt_xstrndup(lc[k].name, strlen(lc[k].name));
  cf->nlevels = n;
  cf->nkept = kept;
  cf->nunseen = 0;
  for (int32_t k = 0; given && k < kept; k++) cf->nunseen += lc[k].count == 0;
  free(lc);
  free(cnt);
  mlprt_levels_free(&lv);
}

typedef struct {
  const MlprtTable *t;
  const int *idx;
  int max_levels;
  bool onehot;
  const char *levels; /* MlprtEncodeParams.levels */
  MlprtFit *f;
} FitTask;

/* The given levels of column name in levels (from the '\t' before the
 * first), or NULL when the column has no line there. */
static const char *given_levels(const char *levels, const char *name) {
  size_t len = strlen(name);
  for (const char *s = levels; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
    if (strncmp(s, name, len) == 0 && (s[len] == '\t' || s[len] == '\n')) return s + len;
  return NULL;
}

/* Columns learn their levels independently, so they fit in parallel. */
static void fit_col(void *ctx, int i) {
  FitTask *k = ctx;
  const MlprtColumn *c = &k->t->cols[k->idx[i]];
  fit_levels(k->t, c, k->max_levels, k->onehot, k->onehot ? given_levels(k->levels, c->name) : NULL,
             &k->f->cols[i]);
}

int mlprt_encode_fit(const MlprtTable *t, const MlprtEncodeParams *p, MlprtFit *f, MlprtError *err) {
  unsigned mask = p->cols.n ? MLPRT_TM_STRINGS : MLPRT_TM(MLPRT_COL_CATEGORY);
  int *idx;
  int n = mlprt_select_columns(t, p->cols, mask, "encode", &idx, err);
  if (n < 0) return -1;
  mlprt_fit_init(f, MLPRT_STEP_ENCODE, (int)p->method, t, idx, n);
  f->flag = p->unknown_bucket;
  f->strict = p->unknown_error;
  f->param = p->method == MLPRT_ENCODE_HASH ? (p->buckets > 0 ? p->buckets : 16) : p->max_levels;
  if (p->method != MLPRT_ENCODE_HASH) {
    FitTask k = {t, idx, p->max_levels, p->method == MLPRT_ENCODE_ONEHOT, p->levels, f};
    mlprt_parallel_for(n, 0, fit_col, &k);
  }
  free(idx);
  return 0;
}

typedef struct {
  const int32_t *codes, *map; /* the column's codes; fitted index of each code, -2 unseen */
  int32_t *out;
  int64_t nrows;
  int parts;
  int64_t *unseen; /* [parts] */
} MapTask;

/* One slice of rows' codes through the map. */
static void map_rows(void *ctx, int part) {
  MapTask *m = ctx;
  int64_t lo = m->nrows * part / m->parts, hi = m->nrows * (part + 1) / m->parts, unseen = 0;
  for (int64_t r = lo; r < hi; r++) {
    m->out[r] = m->codes[r] < 0 ? -1 : m->map[m->codes[r]];
    unseen += m->out[r] == -2;
  }
  m->unseen[part] = unseen;
}

/* Is fitted level k one no training row holds (MlprtColFit.nunseen)? */
static bool untrained(const MlprtColFit *cf, int32_t k) {
  return k >= cf->nkept - cf->nunseen && k < cf->nkept;
}

/* Fitted index of every row's value: [nrows], -1 missing, -2 unseen; a
 * scratch buffer (mlprt_scratch_free with nrows * 4 bytes), so its pages come
 * huge and go straight back. */
static int32_t *row_levels(const MlprtTable *t, const MlprtColumn *c, const MlprtColFit *cf,
                           int64_t *unseen) {
  MlprtLevels fitted = {0};
  for (int32_t k = 0; k < cf->nlevels; k++)
    mlprt_levels_intern(&fitted, cf->levels[k], strlen(cf->levels[k]));
  int32_t *out = mlprt_scratch_alloc((size_t)t->nrows * sizeof *out);
  *unseen = 0;
  if (c->type == MLPRT_COL_CATEGORY) {
    /* map the column's own codes once, then each row is a lookup */
    int32_t *map = mlprt_xmalloc((size_t)(c->levels.n ? c->levels.n : 1) * sizeof *map);
    for (int32_t l = 0; l < c->levels.n; l++) {
      int32_t k = mlprt_levels_find(&fitted, c->levels.names[l], strlen(c->levels.names[l]));
      map[l] = k < 0 || untrained(cf, k) ? -2 : k;
    }
    int64_t part_unseen[32];
    MapTask m = {c->codes, map, out, t->nrows, 4 * mlprt_opt_threads(NULL), part_unseen};
    mlprt_parallel_for(m.parts, 0, map_rows, &m);
    for (int k = 0; k < m.parts; k++) *unseen += part_unseen[k];
    free(map);
  } else {
    for (int64_t r = 0; r < t->nrows; r++) {
      const char *s = cell_text(c, r);
      int32_t k = s ? mlprt_levels_find(&fitted, s, strlen(s)) : -1;
      out[r] = !s ? -1 : k < 0 || untrained(cf, k) ? -2 : k;
      *unseen += out[r] == -2;
    }
  }
  mlprt_levels_free(&fitted);
  return out;
}

typedef struct {
  int64_t nrows;
  const int32_t *lv; /* [nrows] fitted level, -1 missing, -2 unseen */
  uint8_t **out;     /* [nout] the one-hot columns, [nrows] each */
  int nout;
  int own;           /* levels below this have their own column; the others go to column `own` */
  int unknown;       /* column for unseen levels, or -1 */
  int parts;
} OneHot;

/* Fill one slice of rows of every one-hot column. */
static void onehot_rows(void *ctx, int part) {
  OneHot *o = ctx;
  int64_t lo = o->nrows * part / o->parts, hi = o->nrows * (part + 1) / o->parts;
  for (int l = 0; l < o->nout; l++) memset(o->out[l] + lo, 0, (size_t)(hi - lo));
  for (int64_t r = lo; r < hi; r++) {
    int32_t k = o->lv[r];
    if (k >= 0) o->out[k < o->own ? k : o->own][r] = 1;
    else if (k == -2 && o->unknown >= 0) o->out[o->unknown][r] = 1;
  }
}

int mlprt_encode_apply(MlprtTable *t, MlprtFit *f, MlprtError *err) {
  for (int i = 0; i < f->n; i++) {
    MlprtColFit *cf = &f->cols[i];
    int c = mlprt_fit_column(t, f, i, MLPRT_TM_STRINGS, err);
    if (c < 0) return -1;
    char name[512];
    int32_t origin = t->cols[c].origin; /* what the new columns were made from */
    if (f->method == MLPRT_ENCODE_HASH) {
      int nb = (int)f->param, first = t->ncols;
      for (int b = 0; b < nb; b++) {
        snprintf(name, sizeof name, "%s#%d", cf->column, b);
        int k = mlprt_table_add_column(t, name, MLPRT_COL_FLOAT);
        memset(t->cols[k].f, 0, (size_t)t->nrows * sizeof(float));
        t->cols[k].origin = origin;
      }
      const MlprtColumn *src = &t->cols[c];
      for (int64_t r = 0; r < t->nrows; r++) {
        const char *s = cell_text(src, r);
        if (s) t->cols[first + (int)(mlprt_hash_bytes64(s, strlen(s)) % (uint64_t)nb)].f[r] = 1;
      }
    } else {
      int64_t unseen;
      int32_t *lv = row_levels(t, &t->cols[c], cf, &unseen);
      cf->changed = unseen;
      if (unseen && f->strict) {
        int64_t r = 0;
        while (lv[r] != -2) r++;
        char buf[64];
        const char *s = mlprt_cell_str(t, c, r, buf, sizeof buf);
        mlprt_error_set(err, NULL, t->rowid ? t->rowid[r] : r + 1, 0, c + 1, cf->column,
                        "encode: level '%.40s' never appears in the training rows (unknown = error)", s);
        mlprt_scratch_free(lv, (size_t)t->nrows * sizeof *lv);
        return -1;
      }
      if (f->method == MLPRT_ENCODE_ORDINAL) {
        snprintf(name, sizeof name, "%s", cf->column);
        int k = mlprt_table_add_column(t, "", MLPRT_COL_INT);
        t->cols[k].origin = origin;
        for (int64_t r = 0; r < t->nrows; r++) t->cols[k].f[r] = lv[r] < 0 ? NAN : (float)lv[r];
      } else {
        /* the source column is done with: its pages go back first, for the
         * new columns to reuse */
        mlprt_table_drop_column(t, c);
        c = -1;
        /* one shared last column: the merged rare levels (and unseen
         * ones with them), or the unknown bucket */
        bool merged = cf->nkept < cf->nlevels;
        int first = t->ncols, own = cf->nkept, nl = own + (merged || f->flag ? 1 : 0);
        for (int l = 0; l < nl; l++) {
          snprintf(name, sizeof name, "%s=%s", cf->column,
                   l < own ? cf->levels[l] : merged ? OTHER_LEVEL : UNKNOWN_LEVEL);
          int k = mlprt_table_add_column_raw(t, name, MLPRT_COL_BOOL); /* onehot_rows writes every cell */
          t->cols[k].origin = origin;
        }
        uint8_t **out = mlprt_xmalloc((size_t)(nl ? nl : 1) * sizeof *out);
        for (int l = 0; l < nl; l++) out[l] = t->cols[first + l].b;
        OneHot oh = {t->nrows, lv, out, nl, own, nl > own ? own : -1, 4 * mlprt_opt_threads(NULL)};
        mlprt_parallel_for(oh.parts, 0, onehot_rows, &oh);
        free(out);
      }
      mlprt_scratch_free(lv, (size_t)t->nrows * sizeof *lv);
    }
    if (c >= 0) mlprt_table_drop_column(t, c);
    if (f->method == MLPRT_ENCODE_ORDINAL) { /* the ordinal column takes the old name */
      MlprtColumn *last = &t->cols[t->ncols - 1];
      free(last->name);
      last->name = mlprt_xstrndup(name, strlen(name));
    }
  }
  return 0;
}
