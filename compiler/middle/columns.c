/* columns.c — column accounting: the cleaning chain traced over the source
 * columns' types and level counts (see columns.h). */
#include "columns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/clean.h"
#include "mlp/data.h"

/* A column of the table as a step meets it: its name and type, the source
 * column it comes from, and how many features it stands for. */
typedef struct {
  const char *name;
  int type;
  int src;
  int64_t width;  /* features: one-hot and hashing columns stand for several */
  int64_t levels; /* distinct values, for an encoder */
  bool direct;    /* the source column itself, unencoded */
} Cur;

typedef struct {
  MlpArena *a;
  MlpColumnUse *use;
  Cur *cur;
  int ncur, cap;
  const char *target;
  int64_t nrows;
  bool *imputed, *scaled, *dropped;
} Trace;

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Distinct present values of column c. */
static int64_t distinct(const MlprtTable *t, int c) {
  const MlprtColumn *col = &t->cols[c];
  if (col->type == MLPRT_COL_CATEGORY) return col->levels.n;
  if (col->type == MLPRT_COL_BOOL) {
    bool seen[2] = {false, false};
    for (int64_t r = 0; r < t->nrows; r++)
      if (col->b[r] != MLPRT_BOOL_NA) seen[col->b[r] != 0] = true;
    return seen[0] + seen[1];
  }
  if (col->type != MLPRT_COL_FLOAT && col->type != MLPRT_COL_INT) return 0;
  float *v = malloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *v);
  int64_t n = 0, k = 0;
  for (int64_t r = 0; r < t->nrows; r++)
    if (!isnan(col->f[r])) v[n++] = col->f[r];
  qsort(v, (size_t)n, sizeof *v, cmp_float);
  for (int64_t i = 0; i < n; i++) k += i == 0 || v[i] != v[i - 1];
  free(v);
  return k;
}

/* Note that op touched column c: by its name alone on the source column
 * itself, as op(NAME) on a column made from it. */
static void add_op(Trace *T, const Cur *c, const char *op) {
  MlpColumnUse *u = &T->use[c->src];
  if (!c->direct) op = mlp_arena_printf(T->a, "%s(%s)", op, c->name);
  if (strstr(u->ops, op)) return;
  u->ops = u->ops[0] ? mlp_arena_printf(T->a, "%s, %s", u->ops, op) : op;
}

static Cur *push(Trace *T, Cur c) {
  if (T->ncur == T->cap) {
    T->cap = T->cap ? 2 * T->cap : 16;
    T->cur = realloc(T->cur, (size_t)T->cap * sizeof *T->cur);
  }
  T->cur[T->ncur] = c;
  return &T->cur[T->ncur++];
}

static void remove_at(Trace *T, int i) {
  memmove(&T->cur[i], &T->cur[i + 1], (size_t)(T->ncur - i - 1) * sizeof *T->cur);
  T->ncur--;
}

static bool is_num(int ty) {
  return ty == MLPRT_COL_FLOAT || ty == MLPRT_COL_INT;
}

/* Is the column named in a '\n'-terminated list? */
static bool listed(const char *list, const char *name) {
  size_t len = strlen(name);
  for (const char *s = list, *nl; s && (nl = strchr(s, '\n')); s = nl + 1)
    if ((size_t)(nl - s) == len && memcmp(s, name, len) == 0) return true;
  return false;
}

/* Does step st take column c, as the runtime's selection does? */
static bool selected(const Trace *T, const MlpIrClean *st, const Cur *c) {
  if (st->select == MLPRT_SELECT_NAMES) return listed(st->columns, c->name);
  if (strcmp(c->name, T->target) == 0) return false;
  switch (st->select) {
  case MLPRT_SELECT_NUMERIC: return is_num(c->type);
  case MLPRT_SELECT_CATEGORICAL: return c->type == MLPRT_COL_CATEGORY || c->type == MLPRT_COL_BOOL;
  case MLPRT_SELECT_TEXT: return c->type == MLPRT_COL_TEXT;
  default: return true;
  }
}

static void trace_step(Trace *T, const MlpIrClean *st) {
  const char *op = mlprt_clean_op_name(st->op);
  int n = T->ncur;
  for (int i = 0; i < n; i++) {
    Cur *c = &T->cur[i];
    if (!selected(T, st, c)) continue;
    switch (st->op) {
    case MLPRT_CLEAN_DROP_COLUMNS:
      if (c->direct) T->dropped[c->src] = true;
      add_op(T, c, op);
      remove_at(T, i--), n--;
      continue;
    case MLPRT_CLEAN_IMPUTE:
      T->imputed[c->src] = true;
      if (st->flag) {
        /* NAME_missing: true, false, or both */
        int64_t m = T->use[c->src].missing, lv = (m > 0) + (m < T->nrows);
        const char *ind = mlp_arena_printf(T->a, "%s_missing", c->name);
        add_op(T, c, mlp_arena_printf(T->a, "impute with %s", ind));
        push(T, (Cur){ind, MLPRT_COL_BOOL, c->src, 1, lv, false});
      } else {
        add_op(T, c, op);
      }
      break;
    case MLPRT_CLEAN_CLIP_OUTLIERS:
    case MLPRT_CLEAN_DROP_OUTLIERS:
      if (is_num(c->type) && !listed(st->keep, c->name)) add_op(T, c, op);
      break;
    case MLPRT_CLEAN_STANDARDIZE:
    case MLPRT_CLEAN_MINMAX:
    case MLPRT_CLEAN_ROBUST_SCALE:
    case MLPRT_CLEAN_LOG1P:
      if (!is_num(c->type)) break;
      add_op(T, c, op);
      if (st->op != MLPRT_CLEAN_LOG1P && c->direct) T->scaled[c->src] = true;
      break;
    case MLPRT_CLEAN_ONEHOT:
      add_op(T, c, op);
      c->width = st->param > 0 && c->levels > st->param ? (int64_t)st->param : c->levels;
      c->type = MLPRT_COL_BOOL, c->direct = false;
      break;
    case MLPRT_CLEAN_ORDINAL:
      add_op(T, c, op);
      c->type = MLPRT_COL_INT, c->direct = false;
      break;
    case MLPRT_CLEAN_HASH_ENCODE:
      add_op(T, c, op);
      c->width = (int64_t)st->param, c->type = MLPRT_COL_FLOAT, c->direct = false;
      break;
    default: break;
    }
  }
}

/* Why a source column that no feature came of is unused, and the fix. */
static const char *why_unused(Trace *T, const MlpColumnUse *u) {
  switch (u->type) {
  case MLPRT_COL_CATEGORY:
    return mlp_arena_printf(T->a, "a category no op encodes; add onehot(%s), or drop_columns(%s) to say so",
                            u->name, u->name);
  case MLPRT_COL_TEXT:
    return mlp_arena_printf(T->a, "text, and no text op is built yet; drop_columns(%s) to say so", u->name);
  case MLPRT_COL_DATETIME:
    return mlp_arena_printf(T->a, "a date, and dates are not features yet; drop_columns(%s) to say so",
                            u->name);
  default: return mlp_arena_printf(T->a, "no op keeps it as a number");
  }
}

int mlp_columns_account(MlpArena *a, const MlpIrData *d, MlpColumns *out, char *err, size_t n) {
  memset(out, 0, sizeof *out);
  if (d->path2) {
    snprintf(err, n, "IDX images have no columns to account for");
    return -1;
  }
  MlprtSourceDesc src = {.paths = d->path,
                         .format = d->format,
                         .delim = d->delimiter,
                         .no_header = d->no_header,
                         .na_values = d->na_values,
                         .schema = d->schema};
  MlprtTable t;
  MlprtError e;
  if (mlprt_load_described(&src, &t, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  Trace T = {.a = a, .target = d->target, .nrows = t.nrows};
  T.use = mlp_arena_alloc(a, (size_t)(t.ncols ? t.ncols : 1) * sizeof *T.use);
  T.imputed = mlp_arena_alloc(a, (size_t)(t.ncols ? t.ncols : 1) * 3);
  T.scaled = T.imputed + t.ncols, T.dropped = T.scaled + t.ncols;
  memset(T.imputed, 0, (size_t)t.ncols * 3);
  for (int c = 0; c < t.ncols; c++) {
    const MlprtColumn *col = &t.cols[c];
    MlpColumnUse *u = &T.use[c];
    *u = (MlpColumnUse){.name = mlp_arena_strdup(a, col->name), .type = col->type, .ops = "", .lo = NAN,
                        .hi = NAN};
    u->target = strcmp(col->name, d->target) == 0;
    for (int64_t r = 0; r < t.nrows; r++) {
      if (mlprt_is_missing(&t, c, r)) {
        u->missing++;
        continue;
      }
      if (!is_num(col->type)) continue;
      if (!(col->f[r] >= u->lo)) u->lo = col->f[r];
      if (!(col->f[r] <= u->hi)) u->hi = col->f[r];
    }
    push(&T, (Cur){u->name, col->type, c, 1, distinct(&t, c), true});
  }
  for (int i = 0; i < d->nclean; i++) trace_step(&T, &d->clean[i]);
  /* what reaches the model: every number and boolean but the target */
  bool *direct = calloc((size_t)(t.ncols ? t.ncols : 1), 1);
  for (int i = 0; i < T.ncur; i++) {
    const Cur *c = &T.cur[i];
    if (T.use[c->src].target || !(is_num(c->type) || c->type == MLPRT_COL_BOOL)) continue;
    T.use[c->src].features += c->width;
    direct[c->src] |= c->direct;
  }
  for (int c = 0; c < t.ncols; c++) {
    MlpColumnUse *u = &T.use[c];
    if (u->target) continue;
    if (T.dropped[c]) u->unused = "dropped by the spec (drop_columns)";
    else if (!u->features) u->unused = why_unused(&T, u);
    if (direct[c] && !T.imputed[c]) u->missing_to_model = u->missing;
    u->unscaled = direct[c] && is_num(u->type) && !T.scaled[c];
  }
  out->cols = T.use;
  out->n = t.ncols;
  free(direct);
  free(T.cur);
  mlprt_table_free(&t);
  return 0;
}

int mlp_columns_print(const MlpColumns *c, const char *spec, FILE *out) {
  int w = 0, warnings = 0;
  for (int i = 0; i < c->n; i++) w = (int)strlen(c->cols[i].name) > w ? (int)strlen(c->cols[i].name) : w;
  fprintf(out, "%s%scolumns: what becomes of each source column\n", spec ? spec : "", spec ? ": " : "");
  for (int i = 0; i < c->n; i++) {
    const MlpColumnUse *u = &c->cols[i];
    fprintf(out, "  %-*s  %-8s  ", w, u->name, mlprt_col_type_name((MlprtColType)u->type));
    if (u->target) fprintf(out, "target");
    else if (u->features) fprintf(out, "%lld feature%s", (long long)u->features, u->features == 1 ? "" : "s");
    else fprintf(out, "unused");
    if (u->ops[0]) fprintf(out, " (%s)", u->ops);
    if (u->features && u->missing_to_model)
      fprintf(out, "; %lld missing reach%s the model as 0", (long long)u->missing_to_model,
              u->missing_to_model == 1 ? "es" : "");
    else if (u->features && u->missing)
      fprintf(out, "; %lld missing, none reach the model", (long long)u->missing);
    if (!u->features && !u->target && u->unused && strncmp(u->unused, "dropped", 7) == 0)
      fprintf(out, ": %s", u->unused);
    fputc('\n', out);
  }
  for (int i = 0; i < c->n; i++) {
    const MlpColumnUse *u = &c->cols[i];
    if (u->unused && strncmp(u->unused, "dropped", 7) != 0) {
      fprintf(out, "warning: column '%s' is unused: %s\n", u->name, u->unused);
      warnings++;
    }
    if (u->missing_to_model) {
      fprintf(out,
              "warning: column '%s': %lld missing value%s the model as 0; add impute(%s) before the "
              "features are read\n",
              u->name, (long long)u->missing_to_model, u->missing_to_model == 1 ? " reaches" : "s reach",
              u->name);
      warnings++;
    }
  }
  /* unscaled numbers on very different ranges: the widest against the narrowest */
  const MlpColumnUse *wide = NULL, *narrow = NULL;
  for (int i = 0; i < c->n; i++) {
    const MlpColumnUse *u = &c->cols[i];
    double span = u->hi - u->lo;
    if (!u->unscaled || !(span > 0)) continue;
    if (!wide || span > wide->hi - wide->lo) wide = u;
    if (!narrow || span < narrow->hi - narrow->lo) narrow = u;
  }
  if (wide && narrow && (wide->hi - wide->lo) > 100 * (narrow->hi - narrow->lo)) {
    fprintf(out,
            "warning: unscaled numeric inputs differ in range by %.0fx ('%s' spans %g, '%s' %g); add "
            "standardize(numeric) after any impute\n",
            (wide->hi - wide->lo) / (narrow->hi - narrow->lo), wide->name, wide->hi - wide->lo, narrow->name,
            narrow->hi - narrow->lo);
    warnings++;
  }
  return warnings;
}
