/* plan.c — the predictor's feature program, built at export time.
 *
 * Consumes a trained run's loaded schema, its fitted cleaning steps
 * (cleaning.json through mlprt_fits_read), the spec's cleaning chain and
 * the reference's raw ranges and levels; produces an MlprtPredPlan: the
 * chain replayed on column descriptions (no data), each column of the
 * training table a slot, each fitted step the row operations that give a
 * single row what mlprt_fit_apply gave the whole table. Column positions
 * follow the table exactly (an indicator, an ordinal or hashed column is
 * appended, one-hot columns replace their source at the end), so the model
 * features, read off the final columns as mlprt_table_features reads them,
 * come in the training order. The columns an align step joined from
 * another source have slots no step writes: a plan whose features read one
 * is refused, naming the step. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/predict.h"
#include "runtime/data/data_int.h"

/* One column of the table as the chain leaves it. */
typedef struct {
  char *name;
  int type;  /* MlprtColType */
  int64_t slot; /* -1: the target, unless a lag, rolling or diff step may read its history */
  bool target;  /* which no step may change */
} VCol;

typedef struct {
  VCol *cols;
  int n, cap;
  MlprtPredStep *steps;
  int64_t nsteps, cap_steps, nslots;
  int64_t ncleans, nterms; /* text buffers and term index entries the row needs */
  int64_t short_slot;      /* a slot of the series steps since the last SHORT that drop rows, or -1 */
  int64_t step;            /* the chain's step being replayed, from 1 */
  int64_t *joined;         /* the slots of the columns align steps joined unread, and each one's step */
  int64_t *joined_step, njoined;
  const MlprtCleanStep *clean; /* the chain's step being replayed, when the spec's chain is given */
  const MlprtTable *other;     /* an align step's other source, as export read it, or NULL */
  MlprtPredInput *inputs;      /* the plan's inputs, slot for slot */
  const char *target;
  char *err;
  size_t nerr;
} Builder;

static int fail(Builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Builder *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->err, b->nerr, fmt, ap);
  va_end(ap);
  return -1;
}

static int step_columns(const Builder *b, const MlprtCleanStep *st, int **out);

static int add_col(Builder *b, const char *name, size_t len, int type, bool slotted) {
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 16;
    b->cols = mlprt_xrealloc(b->cols, (size_t)b->cap * sizeof *b->cols);
  }
  b->cols[b->n] = (VCol){mlprt_xstrndup(name, len), type, slotted ? b->nslots++ : -1, false};
  return b->n++;
}

static int find_col(const Builder *b, const char *name) {
  for (int i = 0; i < b->n; i++)
    if (strcmp(b->cols[i].name, name) == 0) return i;
  return -1;
}

static void drop_col(Builder *b, int i) {
  free(b->cols[i].name);
  memmove(b->cols + i, b->cols + i + 1, (size_t)(b->n - i - 1) * sizeof *b->cols);
  b->n--;
}

static void emit(Builder *b, MlprtPredStep st) {
  if (b->nsteps == b->cap_steps) {
    b->cap_steps = b->cap_steps ? 2 * b->cap_steps : 16;
    b->steps = mlprt_xrealloc(b->steps, (size_t)b->cap_steps * sizeof *b->steps);
  }
  b->steps[b->nsteps++] = st;
}

/* Strings, each ending in '\n', as one malloc'd text. */
static char *join_lines(char *const *s, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(s[i]) + 1;
  char *t = mlprt_xmalloc(len), *w = t;
  for (int i = 0; i < n; i++) {
    size_t k = strlen(s[i]);
    memcpy(w, s[i], k);
    w[k] = '\n';
    w += k + 1;
  }
  *w = 0;
  return t;
}

static char *line_text(const char *s) {
  return join_lines((char *const *)&s, 1);
}

/* The column of a fitted step's i-th fit, by its recorded position in the
 * chain's table, which must exist and not be the target. */
static int fit_col(Builder *b, const MlprtFit *f, int i) {
  const MlprtColFit *cf = &f->cols[i];
  int c = mlprt_fit_position(f, i);
  if (i == 0 && f->ncols && f->ncols != b->n) /* before the step changes the width */
    return fail(b, "%s: the chain has %d columns here where the step was fitted on %d",
                mlprt_step_name(f->kind), b->n, f->ncols);
  if (c < 0 || c >= b->n)
    return fail(b, "%s: no column %d ('%s') at this point of the chain", mlprt_step_name(f->kind),
                cf->index + 1, cf->column);
  if (b->cols[c].target)
    return fail(b, "%s: the step changes the target column '%s', which a predictor does not read",
                mlprt_step_name(f->kind), cf->column);
  return c;
}

/* A fill value given as text (impute mode or constant_text on a column
 * that is not text) read as the loader reads it into that column. */
static int fill_number(Builder *b, int type, const char *s, double *out) {
  float fv = NAN;
  uint8_t bv = MLPRT_BOOL_NA;
  int64_t tv = MLPRT_TIME_NA;
  MlprtColumn c = {.type = (MlprtColType)type, .f = &fv, .b = &bv, .t = &tv};
  MlprtTable t = {.cols = &c, .ncols = 1, .nrows = 1};
  MlprtNaSet none = {.n = 0};
  const char *why;
  if (mlprt_cell_from_text(&t, 0, 0, s, strlen(s), &none, &why) != 0)
    return fail(b, "impute: fill value '%s': %s", s, why);
  *out = type == MLPRT_COL_BOOL ? bv : type == MLPRT_COL_DATETIME ? (double)tv : fv;
  return 0;
}

static int impute(Builder *b, const MlprtFit *f) {
  if (f->method == MLPRT_IMPUTE_FFILL)
    return fail(b, "impute ffill takes values from earlier rows and cannot be served row by row");
  int *col = mlprt_xmalloc((size_t)(f->n ? f->n : 1) * sizeof *col);
  for (int i = 0; i < f->n; i++)
    if ((col[i] = fit_col(b, f, i)) < 0) {
      free(col);
      return -1;
    }
  /* indicators first, from the values as they came */
  for (int i = 0; f->flag && i < f->n; i++) {
    char name[256];
    snprintf(name, sizeof name, "%s_missing", f->cols[i].column);
    if (find_col(b, name) >= 0) continue;
    const VCol *src = &b->cols[col[i]];
    int64_t s = src->slot, ty = src->type;
    int k = add_col(b, name, strlen(name), MLPRT_COL_BOOL, true);
    emit(b, (MlprtPredStep){MLPRT_PSTEP_INDICATOR, s, b->cols[k].slot, ty, 0, 0, NULL});
  }
  int rc = 0;
  for (int i = 0; i < f->n && !rc; i++) {
    VCol *c = &b->cols[col[i]];
    const MlprtColFit *cf = &f->cols[i];
    MlprtPredStep st = {MLPRT_PSTEP_FILL, c->slot, c->slot, c->type, cf->a, 0, NULL};
    bool text = c->type == MLPRT_COL_CATEGORY || c->type == MLPRT_COL_TEXT;
    if (f->method == MLPRT_IMPUTE_DROP) st.op = MLPRT_PSTEP_REQUIRE;
    else if (text && cf->level) st.text = line_text(cf->level);
    else if (cf->level) rc = fill_number(b, c->type, cf->level, &st.a);
    else if (text) rc = fail(b, "impute: column '%s' is text but its fit has no fill text", c->name);
    if (!rc) emit(b, st);
    if (!rc && st.op == MLPRT_PSTEP_FILL && c->type == MLPRT_COL_INT && (float)st.a != floorf((float)st.a))
      c->type = MLPRT_COL_FLOAT;
  }
  free(col);
  return rc;
}

static int numeric_step(Builder *b, const MlprtFit *f) {
  for (int i = 0; i < f->n; i++) {
    int c = fit_col(b, f, i);
    if (c < 0) return -1;
    VCol *v = &b->cols[c];
    if (v->type != MLPRT_COL_FLOAT && v->type != MLPRT_COL_INT)
      return fail(b, "%s: column '%s' is not numeric", mlprt_step_name(f->kind), v->name);
    const MlprtColFit *cf = &f->cols[i];
    if (f->kind == MLPRT_STEP_OUTLIERS) {
      /* dropping: training never scored such rows; a predictor answers them as they are */
      if (!f->flag) emit(b, (MlprtPredStep){MLPRT_PSTEP_CLIP, v->slot, v->slot, 0, cf->a, cf->b, NULL});
      continue;
    }
    int op = f->method == MLPRT_SCALE_LOG1P ? MLPRT_PSTEP_LOG1P : MLPRT_PSTEP_SCALE;
    emit(b, (MlprtPredStep){op, v->slot, v->slot, 0, cf->a, cf->b, NULL});
    v->type = MLPRT_COL_FLOAT;
  }
  return 0;
}

static int encode(Builder *b, const MlprtFit *f) {
  for (int i = 0; i < f->n; i++) {
    const MlprtColFit *cf = &f->cols[i];
    int c = fit_col(b, f, i);
    if (c < 0) return -1;
    VCol *v = &b->cols[c];
    /* numbers, booleans and dates named for encoding became categories
     * through their text first (the training chain's coerce) */
    if (v->type != MLPRT_COL_CATEGORY && v->type != MLPRT_COL_TEXT) {
      emit(b, (MlprtPredStep){MLPRT_PSTEP_TEXT, v->slot, v->slot, v->type, 0, 0, NULL});
      v->type = MLPRT_COL_CATEGORY;
    }
    int64_t src = v->slot;
    if (f->method == MLPRT_ENCODE_HASH) {
      int nb = (int)f->param;
      int64_t first = b->nslots;
      for (int k = 0; k < nb; k++) {
        char name[512];
        snprintf(name, sizeof name, "%s#%d", cf->column, k);
        add_col(b, name, strlen(name), MLPRT_COL_FLOAT, true);
      }
      emit(b, (MlprtPredStep){MLPRT_PSTEP_HASH, src, first, nb, 0, 0, NULL});
      drop_col(b, c);
    } else if (f->method == MLPRT_ENCODE_ORDINAL) {
      drop_col(b, c);
      int k = add_col(b, cf->column, strlen(cf->column), MLPRT_COL_INT, true);
      emit(b, (MlprtPredStep){MLPRT_PSTEP_ORDINAL, src, b->cols[k].slot, cf->nlevels, 0, 0,
                              join_lines(cf->levels, cf->nlevels)});
    } else {
      drop_col(b, c);
      /* the training apply's columns (encode.c): the kept levels, then one
       * shared column for the merged rare levels, or the unknown bucket */
      bool merged = cf->nkept < cf->nlevels;
      int own = cf->nkept, nl = own + (merged || f->flag ? 1 : 0);
      int64_t first = b->nslots;
      for (int l = 0; l < nl; l++) {
        char name[512];
        snprintf(name, sizeof name, "%s=%s", cf->column,
                 l < own ? cf->levels[l] : merged ? "__other__" : "__unknown__");
        add_col(b, name, strlen(name), MLPRT_COL_BOOL, true);
      }
      double unseen = f->strict ? MLPRT_UNSEEN_REJECT : nl > own ? MLPRT_UNSEEN_LAST : MLPRT_UNSEEN_NONE;
      emit(b, (MlprtPredStep){MLPRT_PSTEP_ONEHOT, src, first, nl, unseen, merged ? own : 0,
                              join_lines(cf->levels, cf->nlevels)});
    }
  }
  return 0;
}

static int text_clean(Builder *b, const MlprtFit *f) {
  for (int i = 0; i < f->n; i++) {
    int c = fit_col(b, f, i);
    if (c < 0) return -1;
    VCol *v = &b->cols[c];
    if (v->type != MLPRT_COL_CATEGORY && v->type != MLPRT_COL_TEXT)
      return fail(b, "text_clean: column '%s' is not text", v->name);
    emit(b,
         (MlprtPredStep){MLPRT_PSTEP_TEXT_CLEAN, v->slot, v->slot, 0, f->method, (double)b->ncleans++, NULL});
  }
  return 0;
}

/* The vocabulary and idf of a vectorized column as "TERM\tIDF\n" lines. */
static char *vocabulary_text(const MlprtColFit *cf) {
  size_t len = 1;
  for (int32_t k = 0; k < cf->nlevels; k++) len += strlen(cf->levels[k]) + 32;
  char *t = mlprt_xmalloc(len), *w = t;
  *w = 0;
  for (int32_t k = 0; k < cf->nlevels; k++)
    w += sprintf(w, "%s\t%.17g\n", cf->levels[k], cf->weights ? cf->weights[k] : 1.0);
  return t;
}

static int vectorize(Builder *b, const MlprtFit *f) {
  for (int i = 0; i < f->n; i++) {
    const MlprtColFit *cf = &f->cols[i];
    int c = fit_col(b, f, i);
    if (c < 0) return -1;
    VCol *v = &b->cols[c];
    if (v->type != MLPRT_COL_CATEGORY && v->type != MLPRT_COL_TEXT)
      return fail(b, "vectorize: column '%s' is not text", v->name);
    bool hash = f->terms.method == MLPRT_VEC_HASH;
    int64_t n = hash || f->flag ? (int64_t)f->param : cf->nlevels, src = v->slot, first = b->nslots;
    for (int32_t k = 0; k < cf->nlevels && !hash; k++)
      if (strpbrk(cf->levels[k], "\t\n"))
        return fail(b, "vectorize: a term of '%s' holds a tab or a line break", cf->column);
    for (int64_t k = 0; k < n; k++) {
      char name[512];
      if (f->terms.method == MLPRT_VEC_SEQUENCE)
        snprintf(name, sizeof name, "%s@%lld", cf->column, (long long)k);
      else if (hash) snprintf(name, sizeof name, "%s#%lld", cf->column, (long long)k);
      else if (k < cf->nlevels) snprintf(name, sizeof name, "%s:%s", cf->column, cf->levels[k]);
      else snprintf(name, sizeof name, "%s:<unused %lld>", cf->column, (long long)k);
      add_col(b, name, strlen(name), MLPRT_COL_FLOAT, true);
    }
    if (f->terms.method == MLPRT_VEC_SEQUENCE) {
      /* the ids of the words: nlevels entries of the term index */
      emit(b, (MlprtPredStep){MLPRT_PSTEP_SEQUENCE, src, first, n, cf->nlevels, (double)b->nterms,
                              vocabulary_text(cf)});
      b->nterms += cf->nlevels;
    } else {
      emit(b, (MlprtPredStep){MLPRT_PSTEP_TERMS, src, first, n, (double)mlprt_terms_pack(&f->terms),
                              hash ? 0 : (double)b->nterms, hash ? NULL : vocabulary_text(cf)});
      if (!hash) b->nterms += n;
    }
    drop_col(b, c);
  }
  return 0;
}

/* One row of an align step's other source, for sorting its lines. */
typedef struct {
  const char *group;
  double key;
  int64_t row;
} AsofRow;

static int by_group_time(const void *x, const void *y) {
  const AsofRow *a = x, *b = y;
  int c = strcmp(a->group, b->group);
  if (c) return c;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return (a->row > b->row) - (a->row < b->row); /* of equal times, the later row last */
}

/* A value of column c of o at row r as the ASOF step's text holds it into
 * f: a number %.9g, a date its epoch seconds, a boolean 0/1, text as it
 * is; nothing when missing. -1 when a text cannot stand in a line. */
static int asof_value(FILE *f, const MlprtTable *o, int c, int64_t r) {
  const MlprtColumn *col = &o->cols[c];
  if (mlprt_is_missing(o, c, r)) return 0;
  switch (col->type) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT: fprintf(f, "%.9g", col->f[r]); return 0;
  case MLPRT_COL_BOOL: fprintf(f, "%d", col->b[r] != 0); return 0;
  case MLPRT_COL_DATETIME: fprintf(f, "%lld", (long long)col->t[r]); return 0;
  default: {
    char buf[64];
    const char *s = mlprt_cell_str(o, c, r, buf, sizeof buf);
    if (!*s || strpbrk(s, "\t\n")) return -1;
    fputs(s, f);
    return 0;
  }
  }
}

/* align, with its other source read at export: an ASOF step that joins
 * the columns the fit lists, from the source's rows compiled in as text
 * (MLPRT_PSTEP_ASOF), keyed as training keyed them. */
static int asof_step(Builder *b, const MlprtFit *f) {
  const MlprtCleanStep *st = b->clean;
  const MlprtTable *o = b->other;
  int *idx, n = step_columns(b, st, &idx);
  int on = n > 0 ? idx[0] : -1;
  free(idx);
  bool traced = st->ncols && st->by_idx >= 0 && st->by_idx < b->n;
  int by = !st->by ? -1 : traced ? (int)st->by_idx : find_col(b, st->by);
  const char *oname = st->source_on ? st->source_on : on >= 0 ? b->cols[on].name : "";
  const char *bname = st->source_by ? st->source_by : st->by;
  int ok = mlprt_table_find(o, oname), ob = bname ? mlprt_table_find(o, bname) : -1;
  if (on < 0 || ok < 0 || (st->by && (by < 0 || ob < 0)))
    return fail(b, "cleaning step %lld (align): the keys are not columns of the table and the other source "
                   "as export read it", (long long)b->step);
  int *cols = mlprt_xmalloc((size_t)(f->n ? f->n : 1) * sizeof *cols);
  for (int j = 0; j < f->n; j++) {
    cols[j] = mlprt_table_find(o, f->cols[j].column);
    if (cols[j] < 0 || (int64_t)o->cols[cols[j]].type != f->cols[j].method) {
      free(cols);
      return fail(b, "cleaning step %lld (align): the other source as export read it has no %s column '%s', "
                     "as training joined; export it as training read it", (long long)b->step,
                  mlprt_col_type_name((MlprtColType)f->cols[j].method), f->cols[j].column);
    }
  }
  /* the rows with a key, each one's group as text */
  char *groups = mlprt_xmalloc((size_t)(o->nrows ? o->nrows : 1) * 64);
  AsofRow *rows = mlprt_xmalloc((size_t)(o->nrows ? o->nrows : 1) * sizeof *rows);
  int64_t nr = 0;
  int rc = 0;
  for (int64_t r = 0; r < o->nrows && !rc; r++) {
    const MlprtColumn *k = &o->cols[ok];
    double key = k->type == MLPRT_COL_DATETIME ? (k->t[r] == MLPRT_TIME_NA ? NAN : (double)k->t[r]) : k->f[r];
    if (isnan(key) || (ob >= 0 && mlprt_is_missing(o, ob, r))) continue;
    const char *g = ob >= 0 ? mlprt_cell_str(o, ob, r, groups + nr * 64, 64) : "";
    if (ob >= 0 && strpbrk(g, "\t\n"))
      rc = fail(b, "cleaning step %lld (align): a key '%s' of the other source holds a tab or a line break, "
                   "which a predictor cannot hold", (long long)b->step, bname);
    rows[nr++] = (AsofRow){g, key, r};
  }
  qsort(rows, (size_t)nr, sizeof *rows, by_group_time);
  char *text = NULL;
  size_t len = 0;
  FILE *t = open_memstream(&text, &len);
  fprintf(t, "%lld\t%lld\t%d\t%d\n", (long long)b->step, (long long)f->method, b->cols[on].type,
          by >= 0 ? b->cols[by].type : -1);
  for (int j = 0; j < f->n; j++) fprintf(t, "%lld\t%s\n", (long long)f->cols[j].method, f->cols[j].column);
  for (int64_t i = 0; i < nr && !rc; i++) {
    fprintf(t, "%s\t%.17g", rows[i].group, rows[i].key);
    for (int j = 0; j < f->n && !rc; j++) {
      fputc('\t', t);
      if (asof_value(t, o, cols[j], rows[i].row) != 0)
        rc = fail(b, "cleaning step %lld (align): a value of column '%s' of the other source is empty or "
                     "holds a tab or a line break, which a predictor cannot hold", (long long)b->step,
                  f->cols[j].column);
    }
    fputc('\n', t);
  }
  fclose(t);
  free(rows);
  free(groups);
  free(cols);
  int64_t src = b->cols[on].slot, key = by >= 0 ? b->cols[by].slot : -1, first = b->nslots;
  for (int j = 0; j < f->n && !rc; j++)
    add_col(b, f->cols[j].column, strlen(f->cols[j].column), (int)f->cols[j].method, true);
  if (!rc) emit(b, (MlprtPredStep){MLPRT_PSTEP_ASOF, src, first, f->n, (double)key, f->param, text});
  else free(text);
  return rc;
}

/* align: the columns it joined from another source, appended with their
 * types. With the source read at export, an ASOF step writes them; else
 * no step does (a row brings no such source), and a plan whose features
 * read one is refused once it is built. */
static int joined_columns(Builder *b, const MlprtFit *f) {
  if (b->other && b->clean) return asof_step(b, f);
  b->joined = mlprt_xrealloc(b->joined, (size_t)(b->njoined + f->n + 1) * sizeof *b->joined);
  b->joined_step = mlprt_xrealloc(b->joined_step, (size_t)(b->njoined + f->n + 1) * sizeof *b->joined_step);
  for (int i = 0; i < f->n; i++) {
    int c = add_col(b, f->cols[i].column, strlen(f->cols[i].column), f->cols[i].method, true);
    b->joined_step[b->njoined] = b->step;
    b->joined[b->njoined++] = b->cols[c].slot;
  }
  return 0;
}

static int apply_fit(Builder *b, const MlprtFit *f) {
  switch (f->kind) {
  case MLPRT_STEP_IMPUTE: return impute(b, f);
  case MLPRT_STEP_TEXT_CLEAN: return text_clean(b, f);
  case MLPRT_STEP_VECTORIZE: return vectorize(b, f);
  case MLPRT_STEP_OUTLIERS:
  case MLPRT_STEP_SCALE: return numeric_step(b, f);
  case MLPRT_STEP_ENCODE: return encode(b, f);
  case MLPRT_STEP_ALIGN: return joined_columns(b, f);
  default:
    return fail(b, "the cleaning step %s cannot be served row by row by a predictor",
                mlprt_step_name(f->kind));
  }
}

/* The columns a step takes, as indices into the columns now (*out, n of
 * them, malloc'd): the compiler's indices (traced), else a selector
 * (resolved against the columns now, the target never selected) or names
 * (those not found left out). */
static int step_columns(const Builder *b, const MlprtCleanStep *st, int **out) {
  int *idx = mlprt_xmalloc((size_t)(b->n + st->ncolumns_idx + 1) * sizeof *idx), n = 0;
  if (st->ncols) {
    for (int64_t k = 0; k < st->ncolumns_idx; k++)
      if (st->columns_idx[k] >= 0 && st->columns_idx[k] < b->n) idx[n++] = (int)st->columns_idx[k];
  } else if (st->select == MLPRT_SELECT_NAMES) {
    for (const char *s = st->columns, *nl; s && *s && (nl = strchr(s, '\n')); s = nl + 1) {
      char name[512];
      snprintf(name, sizeof name, "%.*s", (int)(nl - s), s);
      int c = find_col(b, name);
      if (c >= 0) idx[n++] = c;
    }
  } else {
    for (int i = 0; i < b->n; i++) {
      int ty = b->cols[i].type;
      bool take = st->select == MLPRT_SELECT_ALL           ? true
                  : st->select == MLPRT_SELECT_NUMERIC     ? ty == MLPRT_COL_FLOAT || ty == MLPRT_COL_INT
                  : st->select == MLPRT_SELECT_CATEGORICAL ? ty == MLPRT_COL_CATEGORY || ty == MLPRT_COL_BOOL
                                                           : ty == MLPRT_COL_TEXT;
      if (take && !b->cols[i].target) idx[n++] = i;
    }
  }
  *out = idx;
  return n;
}

static void drop_columns(Builder *b, const MlprtCleanStep *st) {
  int *idx;
  int n = step_columns(b, st, &idx);
  uint8_t *drop = mlprt_xcalloc((size_t)b->n + 1, 1);
  for (int k = 0; k < n; k++) drop[idx[k]] = 1;
  for (int i = b->n - 1; i >= 0; i--)
    if (drop[i]) drop_col(b, i);
  free(drop);
  free(idx);
}

/* coerce and parse_dates: each column converted in place (a date the
 * loader already read stays as it is). */
static int convert_columns(Builder *b, const MlprtCleanStep *st) {
  int *idx;
  int n = step_columns(b, st, &idx), rc = 0;
  int to = st->op == MLPRT_CLEAN_COERCE ? (int)st->param : MLPRT_COL_DATETIME;
  for (int k = 0; k < n && !rc; k++) {
    VCol *v = &b->cols[idx[k]];
    if (v->target)
      rc = fail(b, "%s: the step changes the target column '%s', which a predictor does not read",
                mlprt_clean_op_name(st->op), v->name);
    if (rc || (to == MLPRT_COL_DATETIME && v->type == MLPRT_COL_DATETIME)) continue;
    const char *fmt = to == MLPRT_COL_DATETIME ? st->format : NULL;
    emit(b, (MlprtPredStep){MLPRT_PSTEP_COERCE, v->slot, v->slot, to, (double)st->method, v->type,
                            fmt ? mlprt_xstrndup(fmt, strlen(fmt)) : NULL});
    v->type = to;
  }
  free(idx);
  return rc;
}

/* date_features: a float column per part (two when cyclical and periodic)
 * after the others, in the training table's order (dates.c). */
static int date_columns(Builder *b, const MlprtCleanStep *st) {
  int *idx;
  int n = step_columns(b, st, &idx), rc = 0;
  for (int k = 0; k < n && !rc; k++) {
    const VCol *v = &b->cols[idx[k]];
    if (v->type != MLPRT_COL_DATETIME) {
      rc = fail(b, "date_features: column '%s' is not a date", v->name);
      break;
    }
    int64_t src = v->slot;
    char base[256];
    snprintf(base, sizeof base, "%s", v->name);
    for (int64_t i = 0; i < st->nints; i++) {
      int part = (int)st->ints[i];
      bool two = st->flag && mlprt_date_part_period(part) > 0;
      for (int form = two ? 1 : 0; form <= (two ? 2 : 0); form++) {
        char name[512];
        mlprt_derived_name(name, sizeof name, MLPRT_CLEAN_DATE_FEATURES, base, part, 0, 0, form);
        int c = add_col(b, name, strlen(name), MLPRT_COL_FLOAT, true);
        emit(b, (MlprtPredStep){MLPRT_PSTEP_DATE_PART, src, b->cols[c].slot, part, form, 0, NULL});
      }
    }
  }
  free(idx);
  return rc;
}

static bool series_op(int64_t op) {
  return op == MLPRT_CLEAN_LAG || op == MLPRT_CLEAN_ROLLING || op == MLPRT_CLEAN_DIFF;
}

/* lag, rolling and diff: a SERIES step (the group key), then a float
 * column per column and step, or stat, after the others, in the training
 * table's order (timeseries.c), each a LAG or ROLLING step that keeps the
 * history it needs. A column's history is read before any later step
 * changes it, so the target's own values serve (its slot takes the
 * target's field when the row has one). */
static int series_columns(Builder *b, const MlprtCleanStep *st) {
  int *idx;
  int n = step_columns(b, st, &idx), rc = 0;
  bool traced = st->ncols && st->by_idx >= 0 && st->by_idx < b->n;
  int key = !st->by ? -1 : traced ? (int)st->by_idx : find_col(b, st->by);
  if (st->by && key < 0) rc = fail(b, "%s: no group column '%s'", mlprt_clean_op_name(st->op), st->by);
  for (int k = 0; k < n && !rc; k++) {
    int ty = b->cols[idx[k]].type;
    if ((ty != MLPRT_COL_FLOAT && ty != MLPRT_COL_INT) || b->cols[idx[k]].slot < 0)
      rc = fail(b, "%s: column '%s' is not a number", mlprt_clean_op_name(st->op), b->cols[idx[k]].name);
  }
  if (rc || n == 0) {
    free(idx);
    return rc;
  }
  int64_t first = b->cols[idx[0]].slot, kslot = key >= 0 ? b->cols[key].slot : first;
  emit(b, (MlprtPredStep){MLPRT_PSTEP_SERIES, kslot, kslot, key >= 0 ? b->cols[key].type : -1,
                          (double)st->method, 0, NULL});
  int64_t nk = st->op == MLPRT_CLEAN_DIFF ? 1 : st->nints;
  for (int k = 0; k < n; k++) {
    char base[256];
    snprintf(base, sizeof base, "%s", b->cols[idx[k]].name);
    int64_t src = b->cols[idx[k]].slot;
    for (int64_t j = 0; j < nk; j++) {
      char name[512];
      int64_t step = st->op == MLPRT_CLEAN_DIFF ? (int64_t)st->param : st->ints[j];
      mlprt_derived_name(name, sizeof name, st->op, base, step, (int64_t)st->param, st->offset, 0);
      int c = add_col(b, name, strlen(name), MLPRT_COL_FLOAT, true);
      int64_t dst = b->cols[c].slot;
      if (st->op == MLPRT_CLEAN_ROLLING)
        emit(b, (MlprtPredStep){MLPRT_PSTEP_ROLLING, src, dst, (int64_t)st->param, (double)st->offset,
                                (double)st->ints[j], NULL});
      else
        emit(b, (MlprtPredStep){MLPRT_PSTEP_LAG, src, dst, step, 0, st->op == MLPRT_CLEAN_DIFF, NULL});
      if (st->method == MLPRT_HISTORY_DROP) b->short_slot = dst;
    }
  }
  free(idx);
  return 0;
}

/* resample: the predictor puts the raw rows on the grid before the
 * program runs (a RESAMPLE step first, resample.c), so only sort_by may
 * come before it; a mean or a linear fill makes its int columns float. */
static int resample_step(Builder *b, const MlprtPredSource *src, int64_t i) {
  const MlprtCleanStep *st = &src->clean[i];
  for (int64_t k = 0; k < i; k++)
    if (src->clean[k].op != MLPRT_CLEAN_SORT_BY)
      return fail(b, "cleaning step %lld (resample): a predictor puts the raw rows on the grid as they come, "
                     "so only sort_by may come before resample, not %s (step %lld)",
                  (long long)i + 1, mlprt_clean_op_name(src->clean[k].op), (long long)k + 1);
  if (st->method == MLPRT_GAP_LINEAR)
    return fail(b, "cleaning step %lld (resample): fill = linear reads the next observed value of each "
                   "column, which a stream may bring any number of rows later; a predictor serves fill = "
                   "ffill, zero or null", (long long)i + 1);
  int *idx, n = step_columns(b, st, &idx);
  int on = n == 1 ? idx[0] : -1;
  free(idx);
  bool traced = st->ncols && st->by_idx >= 0 && st->by_idx < b->n;
  int key = !st->by ? -1 : traced ? (int)st->by_idx : find_col(b, st->by);
  if (on < 0 || b->cols[on].type != MLPRT_COL_DATETIME || (st->by && key < 0))
    return fail(b, "cleaning step %lld (resample): its time or group column is not a loaded column",
                (long long)i + 1);
  for (int c = 0; c < b->n && st->offset == MLPRT_AGG_MEAN; c++) {
    if (c == key || b->cols[c].type != MLPRT_COL_INT) continue;
    b->cols[c].type = MLPRT_COL_FLOAT;
    /* the grid rows hold means: the input is read as a float */
    if (b->cols[c].slot >= 0) b->inputs[b->cols[c].slot].type = MLPRT_COL_FLOAT;
  }
  int64_t target = b->cols[on].slot; /* the target's input when a row brings it, else the time's */
  for (int c = 0; c < b->n; c++)
    if (b->cols[c].target && b->cols[c].slot >= 0) target = b->cols[c].slot;
  emit(b, (MlprtPredStep){MLPRT_PSTEP_RESAMPLE, b->cols[on].slot, target, (int64_t)st->param,
                          key >= 0 ? (double)b->cols[key].slot : -1, (double)(st->method * 8 + st->offset),
                          NULL});
  return 0;
}

/* Ops whose every application leaves a fit in the cleaning record. */
static bool fitted_op(int64_t op) {
  switch (op) {
  case MLPRT_CLEAN_IMPUTE:
  case MLPRT_CLEAN_CLIP_OUTLIERS:
  case MLPRT_CLEAN_DROP_OUTLIERS:
  case MLPRT_CLEAN_STANDARDIZE:
  case MLPRT_CLEAN_MINMAX:
  case MLPRT_CLEAN_ROBUST_SCALE:
  case MLPRT_CLEAN_LOG1P:
  case MLPRT_CLEAN_ONEHOT:
  case MLPRT_CLEAN_ORDINAL:
  case MLPRT_CLEAN_HASH_ENCODE:
  case MLPRT_CLEAN_TEXT_CLEAN:
  case MLPRT_CLEAN_BAG_OF_WORDS:
  case MLPRT_CLEAN_TFIDF:
  case MLPRT_CLEAN_HASH_VECTORIZE:
  case MLPRT_CLEAN_TOKENIZE:
  case MLPRT_CLEAN_ALIGN: return true;
  default: return false;
  }
}

/* The spec's chain with the fits in order, or the fits alone. */
static int replay(Builder *b, const MlprtPredSource *src) {
  int64_t next = 0;
  for (int64_t i = 0; src->clean && i < src->nclean; i++) {
    const MlprtCleanStep *st = &src->clean[i];
    /* the compiler's indices hold for the table it traced, column for column */
    if (st->ncols && st->ncols != b->n)
      return fail(b, "cleaning step %lld (%s): the chain has %d columns here where the compiled program "
                     "expects %lld",
                  (long long)i + 1, mlprt_clean_op_name(st->op), b->n, (long long)st->ncols);
    if (st->op == MLPRT_CLEAN_DROP_DUPLICATES) continue; /* one row is never a duplicate */
    if (st->op == MLPRT_CLEAN_DROP_COLUMNS) {
      drop_columns(b, st);
      continue;
    }
    if (st->op == MLPRT_CLEAN_SORT_BY) continue; /* rows are answered in the order they come */
    if (st->op == MLPRT_CLEAN_RESAMPLE) {
      if (resample_step(b, src, i) != 0) return -1;
      continue;
    }
    if (st->op == MLPRT_CLEAN_COERCE || st->op == MLPRT_CLEAN_PARSE_DATES) {
      if (convert_columns(b, st) != 0) return -1;
      continue;
    }
    if (st->op == MLPRT_CLEAN_DATE_FEATURES) {
      if (date_columns(b, st) != 0) return -1;
      continue;
    }
    if (series_op(st->op)) {
      if (series_columns(b, st) != 0) return -1;
      /* consecutive series steps drop the rows any of them lacks history for once, after the last */
      bool last = i + 1 == src->nclean || !series_op(src->clean[i + 1].op);
      if (last && b->short_slot >= 0)
        emit(b, (MlprtPredStep){MLPRT_PSTEP_SHORT, b->short_slot, b->short_slot, 0, 0, 0, NULL});
      if (last) b->short_slot = -1;
      continue;
    }
    if (!fitted_op(st->op))
      return fail(b, "cleaning step %lld (%s) cannot be served row by row by a predictor", (long long)i + 1,
                  mlprt_clean_op_name(st->op));
    if (next == src->nfits)
      return fail(b, "cleaning step %lld (%s) has no fitted parameters in the run's cleaning record",
                  (long long)i + 1, mlprt_clean_op_name(st->op));
    b->step = i + 1;
    b->clean = st;
    b->other = src->joined ? src->joined[i] : NULL;
    if (apply_fit(b, &src->fits[next++]) != 0) return -1;
  }
  if (src->clean && next != src->nfits)
    return fail(b, "the cleaning record holds %lld fitted steps but the spec's chain has %lld",
                (long long)src->nfits, (long long)next);
  for (int64_t i = 0; !src->clean && i < src->nfits; i++)
    if (apply_fit(b, &src->fits[i]) != 0) return -1;
  return 0;
}

static const MlprtPredInput *reference_input(const MlprtPredSource *src, const char *name) {
  for (int64_t i = 0; src->inputs && i < src->ninputs; i++)
    if (src->inputs[i].name && strcmp(src->inputs[i].name, name) == 0) return &src->inputs[i];
  return NULL;
}

/* The schema's columns: every one a table column, all but the target an
 * input slot (the target too when a lag, rolling or diff step may read
 * it). */
static int read_schema(Builder *b, const MlprtPredSource *src) {
  if (!src->schema) return fail(b, "no schema: the run's reference.json records the loaded columns");
  /* a series step may read the target's earlier values: it is an input then */
  bool history = false;
  for (int64_t i = 0; i < src->nclean; i++) history |= series_op(src->clean[i].op);
  for (const char *s = src->schema; *s;) {
    const char *tab = strchr(s, '\t'), *nl = strchr(s, '\n');
    if (!tab || !nl || tab > nl) return fail(b, "schema line '%.40s' is not NAME<TAB>TYPE", s);
    char ty[32];
    snprintf(ty, sizeof ty, "%.*s", (int)(nl - tab - 1), tab + 1);
    int t = mlprt_col_type_parse(ty);
    if (t < 0) return fail(b, "schema: unknown column type '%s'", ty);
    bool target = src->target && (size_t)(tab - s) == strlen(src->target) &&
                  memcmp(s, src->target, (size_t)(tab - s)) == 0;
    int c = add_col(b, s, (size_t)(tab - s), t, !target || history);
    b->cols[c].target = target;
    s = nl + 1;
  }
  return 0;
}

static void image_plan(Builder *b, int64_t pixels) {
  for (int64_t i = 0; i < pixels; i++) {
    char name[32];
    snprintf(name, sizeof name, "pixel%lld", (long long)i);
    add_col(b, name, strlen(name), MLPRT_COL_INT, true);
    emit(b, (MlprtPredStep){MLPRT_PSTEP_DIV, i, i, 0, 255.0, 0, NULL});
  }
}

int mlprt_pred_plan_build(const MlprtPredSource *src, MlprtPredPlan *plan, char *err, size_t n) {
  memset(plan, 0, sizeof *plan);
  Builder b = {.short_slot = -1, .target = src->target, .err = err, .nerr = n};
  int rc = src->image_pixels > 0 ? (image_plan(&b, src->image_pixels), 0) : read_schema(&b, src);
  /* the inputs: the loaded columns but the target, in source order */
  int64_t nin = b.nslots;
  MlprtPredInput *in = mlprt_xcalloc((size_t)(nin ? nin : 1), sizeof *in);
  for (int i = 0; i < b.n; i++) {
    const VCol *c = &b.cols[i];
    if (c->slot < 0) continue;
    MlprtPredInput *x = &in[c->slot];
    const MlprtPredInput *ref = reference_input(src, c->name);
    *x = (MlprtPredInput){mlprt_xstrndup(c->name, strlen(c->name)), c->type, NAN, NAN, NULL, 0};
    if (src->image_pixels > 0) x->lo = 0, x->hi = 255;
    if (ref) {
      x->lo = ref->lo, x->hi = ref->hi, x->nlevels = ref->levels ? ref->nlevels : 0;
      if (ref->levels) x->levels = mlprt_xstrndup(ref->levels, strlen(ref->levels));
    }
  }
  plan->inputs = in;
  plan->ninputs = nin;
  b.inputs = in;
  if (rc == 0) rc = replay(&b, src);
  /* a category input that a step converts takes any text: its training
   * levels are not a list of the values it may have */
  for (int64_t i = 0; rc == 0 && i < b.nsteps; i++) {
    const MlprtPredStep *st = &b.steps[i];
    if (st->op != MLPRT_PSTEP_COERCE || st->src >= nin || !in[st->src].levels) continue;
    free((char *)in[st->src].levels);
    in[st->src].levels = NULL, in[st->src].nlevels = 0;
  }
  if (rc == 0) {
    int64_t *fs = mlprt_xmalloc((size_t)(b.n ? b.n : 1) * sizeof *fs), nf = 0;
    for (int i = 0; i < b.n; i++) {
      int ty = b.cols[i].type;
      if (!b.cols[i].target && (ty == MLPRT_COL_FLOAT || ty == MLPRT_COL_INT || ty == MLPRT_COL_BOOL))
        fs[nf++] = b.cols[i].slot;
    }
    plan->feature_slot = fs;
    plan->nfeatures = nf;
  }
  plan->steps = b.steps;
  plan->nsteps = b.nsteps;
  plan->nslots = b.nslots;
  /* a joined column the features read: the predictor has no value for it */
  uint8_t *live = rc == 0 && b.njoined ? mlprt_xmalloc((size_t)b.nslots) : NULL;
  if (live) mlprt_pred_plan_live(plan, live);
  for (int64_t j = 0; live && j < b.njoined && rc == 0; j++) {
    if (!live[b.joined[j]]) continue;
    const char *name = "?";
    for (int i = 0; i < b.n; i++)
      if (b.cols[i].slot == b.joined[j]) name = b.cols[i].name;
    rc = fail(&b,
              "cleaning step %lld (align) joins column '%s' from another source as of each row's time, and "
              "the model reads it; a predictor answers one row without that source, so it cannot serve "
              "this pipeline (join the column into the rows before training, or leave it out of the model)",
              (long long)b.joined_step[j], name);
  }
  free(live);
  free(b.joined);
  free(b.joined_step);
  /* the missing-value texts training loaded with, one string each: the
   * source's own, else the loader's defaults, written out so that every
   * reader of the plan (the predictor, the ONNX export) sees the same set */
  MlprtNaSet dflt;
  mlprt_na_init(&dflt, NULL);
  int64_t nna = src->na_values ? 0 : dflt.n;
  for (const char *s = src->na_values; s && *s; s++) nna += *s == '\n';
  char **tok = mlprt_xmalloc((size_t)(nna ? nna : 1) * sizeof *tok);
  const char *s = src->na_values;
  for (int64_t i = 0; i < nna; i++) {
    if (!src->na_values) {
      tok[i] = mlprt_xstrndup(dflt.tok[i], dflt.len[i]);
      continue;
    }
    const char *nl = strchr(s, '\n');
    tok[i] = mlprt_xstrndup(s, (size_t)(nl - s));
    s = nl + 1;
  }
  plan->na_tokens = (const char *const *)tok;
  plan->nna = nna;
  for (int i = 0; i < b.n; i++) free(b.cols[i].name);
  free(b.cols);
  if (rc != 0) mlprt_pred_plan_free(plan);
  return rc;
}

void mlprt_pred_plan_free(MlprtPredPlan *plan) {
  for (int64_t i = 0; plan->inputs && i < plan->ninputs; i++) {
    free((char *)plan->inputs[i].name);
    free((char *)plan->inputs[i].levels);
  }
  for (int64_t i = 0; plan->steps && i < plan->nsteps; i++) free((char *)plan->steps[i].text);
  free((void *)plan->inputs);
  free((void *)plan->steps);
  free((void *)plan->feature_slot);
  for (int64_t i = 0; plan->na_tokens && i < plan->nna; i++) free((char *)plan->na_tokens[i]);
  free((void *)plan->na_tokens);
  memset(plan, 0, sizeof *plan);
}

bool mlprt_pstep_asof_drops(const MlprtPredStep *st) {
  const char *tab = st->text ? strchr(st->text, '\t') : NULL;
  return tab && strtoll(tab + 1, NULL, 10) == MLPRT_UNMATCHED_DROP;
}

int64_t mlprt_pstep_width(const MlprtPredStep *st) {
  bool wide = st->op == MLPRT_PSTEP_ONEHOT || st->op == MLPRT_PSTEP_HASH || st->op == MLPRT_PSTEP_TERMS ||
              st->op == MLPRT_PSTEP_SEQUENCE || st->op == MLPRT_PSTEP_ASOF;
  return wide ? st->n : 1;
}

/* Which slots matter: the features, and backwards through the steps every
 * slot a live one is computed from. An input no feature reads (a column
 * the chain dropped) is then neither required nor checked. */
void mlprt_pred_plan_live(const MlprtPredPlan *pl, uint8_t *live) {
  memset(live, 0, (size_t)pl->nslots);
  for (int64_t f = 0; f < pl->nfeatures; f++) live[pl->feature_slot[f]] = 1;
  /* a series step is needed when what it writes is, or when its shortness
   * drops rows (a SHORT step follows); its key then too */
  bool keyed = false, dropping = false;
  for (int64_t i = pl->nsteps - 1; i >= 0; i--) {
    const MlprtPredStep *st = &pl->steps[i];
    if (st->op == MLPRT_PSTEP_SERIES) {
      if (keyed && st->n >= 0) live[st->src] = 1;
      keyed = false;
      continue;
    }
    bool series = st->op == MLPRT_PSTEP_LAG || st->op == MLPRT_PSTEP_ROLLING;
    dropping = st->op == MLPRT_PSTEP_SHORT || (dropping && series);
    int64_t width = mlprt_pstep_width(st);
    bool out = st->op == MLPRT_PSTEP_REQUIRE || st->op == MLPRT_PSTEP_SHORT || (series && dropping) ||
               (st->op == MLPRT_PSTEP_ASOF && mlprt_pstep_asof_drops(st));
    for (int64_t k = 0; k < width && !out; k++) out = live[st->dst + k];
    if (out) live[st->src] = 1;
    if (out && st->op == MLPRT_PSTEP_ASOF && st->a >= 0) live[(int64_t)st->a] = 1;
    keyed |= out && series;
  }
}
