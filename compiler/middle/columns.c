/* columns.c — column accounting: the cleaning chain traced over the source
 * columns' types and level counts (see columns.h). */
#include "columns.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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
  int64_t width;       /* features: one-hot and hashing columns stand for several */
  char *const *levels; /* its values as the table prints them, sorted (MlprtSchemaCol.levels); NULL when
                          not known (text, too many values, an encoder's output) */
  int32_t nlevels;
  bool direct;         /* the source column itself, unencoded */
  bool named;          /* the table has a column of this name (a one-hot or hashed column's own are
                          NAME=LEVEL and NAME#K, width of them) */
} Cur;

typedef struct {
  MlpArena *a;
  MlpColumnUse *use;
  Cur *cur;
  int ncur, cap;
  const char *target;
  int64_t nrows;
  bool *imputed, *scaled, *dropped, *orders, *joins; /* [uses] */
  int nuse;            /* the uses so far: the data's columns, then those align steps join */
  const MlprtSchema *other; /* [nclean] align: the probe of the source it joins */
  MlpStepCols *steps;  /* [nclean] what each step learns of its columns */
  bool exact;          /* every name so far found: the table is known column for column */
  int bad;             /* the step that cannot take a column it selects, or -1 */
  const char *why;     /* and why */
  bool sparse;         /* vectorizers' columns are kept as sparse rows (MlpIrData.sparse_text) */
} Trace;

/* an indicator's values, sorted */
static char *const bool_levels[2] = {"false", "true"};

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

/* Does a type selector take column c, as the runtime's selection does? */
static bool selected(const Trace *T, const MlpIrClean *st, const Cur *c) {
  if (strcmp(c->name, T->target) == 0) return false;
  switch (st->select) {
  case MLPRT_SELECT_NUMERIC: return is_num(c->type);
  case MLPRT_SELECT_CATEGORICAL: return c->type == MLPRT_COL_CATEGORY || c->type == MLPRT_COL_BOOL;
  case MLPRT_SELECT_TEXT: return c->type == MLPRT_COL_TEXT;
  default: return true;
  }
}

/* Step i's onehot levels line for column c ("NAME\tLEVEL...\n"), or
 * T->bad = i when its levels are not known or cannot be written so. */
static void onehot_levels(Trace *T, int i, const Cur *c) {
  const char *line = c->name;
  for (int32_t l = 0; c->levels && l < c->nlevels; l++) {
    if (strpbrk(c->levels[l], "\t\n")) {
      T->why = mlp_arena_printf(T->a, "a level of '%s' holds a tab or a line break", c->name);
      T->bad = i;
      return;
    }
    line = mlp_arena_printf(T->a, "%s\t%s", line, c->levels[l]);
  }
  if (!c->levels && !c->direct) {
    T->why = mlp_arena_printf(T->a,
                              "onehot meets a column an earlier step made from '%s', whose levels are "
                              "not known when the program is compiled; encode source columns only",
                              c->name);
    T->bad = i;
    return;
  }
  if (!c->levels) {
    T->why = mlp_arena_printf(T->a,
                              "'%s' has more distinct values than the type scan keeps (%d) or is text: "
                              "the program's width needs its levels; declare it `category` in "
                              "data.schema, or use hash_encode(%s)",
                              c->name, MLPRT_MAX_LEVELS_DEFAULT, c->name);
    T->bad = i;
    return;
  }
  T->steps[i].levels =
      mlp_arena_printf(T->a, "%s%s\n", T->steps[i].levels ? T->steps[i].levels : "", line);
}

/* A vectorizer on column c: param columns (max_vocab, or buckets) of
 * floats, each as long as the table, unless that dense table would pass
 * MLP_TEXT_DENSE_MAX floats (sparse rows take memory by their nonzeros:
 * no bound). A sequence's ids are always dense. */
static void vectorize(Trace *T, int i, const MlpIrClean *st, Cur *c) {
  const char *op = mlprt_clean_op_name(st->op);
  if (c->type != MLPRT_COL_TEXT && c->type != MLPRT_COL_CATEGORY) {
    T->why = mlp_arena_printf(T->a, "%s does not apply to '%s', a %s column", op, c->name,
                              mlprt_col_type_name((MlprtColType)c->type));
    T->bad = i;
    return;
  }
  double floats = st->param * (double)T->nrows;
  if (floats > MLP_TEXT_DENSE_MAX && !(T->sparse && st->op != MLPRT_CLEAN_TOKENIZE)) {
    T->why = mlp_arena_printf(T->a,
                              "%s(%s) makes %.0f dense columns for %lld rows, %.1f GiB of features, over the "
                              "%.0f GiB the dense path allows (a first layer other than dense reads dense "
                              "rows); lower %s",
                              op, c->name, st->param, (long long)T->nrows, floats * 4 / (1 << 30),
                              MLP_TEXT_DENSE_MAX * 4 / (1 << 30),
                              st->op == MLPRT_CLEAN_HASH_VECTORIZE ? "buckets"
                              : st->op == MLPRT_CLEAN_TOKENIZE     ? "max_len"
                                                                   : "max_vocab");
    T->bad = i;
    return;
  }
  add_op(T, c, op);
  c->width = (int64_t)st->param, c->type = MLPRT_COL_FLOAT, c->direct = false, c->levels = NULL;
  c->named = false;
}

/* Does step st take numbers only (the runtime's fit refuses any other
 * column it is given)? */
static bool numbers_only(const MlpIrClean *st) {
  switch (st->op) {
  case MLPRT_CLEAN_IMPUTE:
    return st->method == MLPRT_IMPUTE_MEAN || st->method == MLPRT_IMPUTE_MEDIAN ||
           st->method == MLPRT_IMPUTE_CONSTANT;
  case MLPRT_CLEAN_CLIP_OUTLIERS:
  case MLPRT_CLEAN_DROP_OUTLIERS:
  case MLPRT_CLEAN_STANDARDIZE:
  case MLPRT_CLEAN_MINMAX:
  case MLPRT_CLEAN_ROBUST_SCALE:
  case MLPRT_CLEAN_LOG1P:
  case MLPRT_CLEAN_LAG:
  case MLPRT_CLEAN_ROLLING:
  case MLPRT_CLEAN_DIFF: return true;
  default: return false;
  }
}

/* A float column that a step derives from column c (lag, rolling, diff,
 * date_features), appended as the runtime appends it. */
static void derive(Trace *T, Cur c, const char *op, const char *name) {
  add_op(T, &c, op);
  push(T, (Cur){name, MLPRT_COL_FLOAT, c.src, 1, NULL, 0, false, true});
}

/* The columns a time-series or date step adds for column c, in the
 * runtime's order and with its names (mlprt_derived_name). */
static void derive_columns(Trace *T, int step, const MlpIrClean *st, Cur c) {
  const char *op = mlprt_clean_op_name(st->op);
  if (st->op == MLPRT_CLEAN_DATE_FEATURES && c.type != MLPRT_COL_DATETIME) {
    bool text = c.type == MLPRT_COL_TEXT || c.type == MLPRT_COL_CATEGORY;
    T->why = mlp_arena_printf(T->a, "date_features needs a date column; '%s' is %s here: %s", c.name,
                              mlprt_col_type_name((MlprtColType)c.type),
                              text ? mlp_arena_printf(T->a, "parse_dates(%s) first", c.name)
                                   : mlp_arena_printf(T->a, "declare `%s = date(\"FORMAT\")` in data.schema",
                                                      c.name));
    T->bad = step;
    return;
  }
  bool diff = st->op == MLPRT_CLEAN_DIFF;
  int64_t n = diff ? 1 : st->nints;
  for (int64_t k = 0; k < n; k++) {
    int64_t v = diff ? (int64_t)st->param : st->ints[k];
    bool two = st->op == MLPRT_CLEAN_DATE_FEATURES && st->flag && mlprt_date_part_period((int)v) > 0;
    for (int form = two ? 1 : 0; form <= (two ? 2 : 0); form++) {
      char name[512];
      mlprt_derived_name(name, sizeof name, st->op, c.name, v, (int64_t)st->param, st->offset, form);
      derive(T, c, op, mlp_arena_strdup(T->a, name));
    }
  }
}

/* The table position of cur[i]: the columns before it (one-hot and hashed
 * columns stand for several). */
static int64_t position(const Trace *T, int i) {
  int64_t p = 0;
  for (int j = 0; j < i; j++) p += T->cur[j].width;
  return p;
}

/* The column the runtime finds by this name (the first), or -1. */
static int find_named(const Trace *T, const char *name, size_t len) {
  for (int i = 0; i < T->ncur; i++)
    if (T->cur[i].named && strlen(T->cur[i].name) == len && memcmp(T->cur[i].name, name, len) == 0) return i;
  return -1;
}

/* The names in a '\n'-terminated list. */
static int lines(const char *list) {
  int n = 0;
  for (const char *s = list; s && *s; s++) n += *s == '\n';
  return n;
}

/* The columns a '\n'-terminated list names, in its order, into pick (and
 * their table indices into *idx); a name the trace cannot place (a one-hot
 * or hashed column's own NAME=LEVEL, NAME#K) makes the trace inexact. */
static int pick_listed(Trace *T, const char *list, int *pick, const int64_t **idx, int *nidx) {
  int n = 0, ni = 0;
  int64_t *out = mlp_arena_alloc(T->a, (size_t)(lines(list) + 1) * sizeof *out);
  for (const char *s = list, *nl; s && (nl = strchr(s, '\n')); s = nl + 1) {
    int i = find_named(T, s, (size_t)(nl - s));
    if (i < 0) {
      T->exact = false;
      continue;
    }
    if (pick) pick[n++] = i;
    out[ni++] = position(T, i);
  }
  *idx = out, *nidx = ni;
  return n;
}

/* The kind of value a key holds: dates, numbers, booleans or texts; keys
 * of two sources match when they hold the same kind. */
static int key_kind(int type) {
  return type == MLPRT_COL_DATETIME ? 0 : is_num(type) ? 1 : type == MLPRT_COL_BOOL ? 2 : 3;
}

static const char *key_kind_name(int type) {
  static const char *const names[] = {"date", "number", "boolean", "text"};
  return names[key_kind(type)];
}

static void align_fail(Trace *T, int step, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void align_fail(Trace *T, int step, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  T->why = mlp_arena_strdup(T->a, msg);
  T->bad = step;
}

/* align: its keys checked in the table and in the source it joins (the
 * time key a date in both or a number in both, the tolerance of the key's
 * kind, the group key of one kind in both), their uses noted, and every
 * column of that source accounted for: the keys join, the others are
 * appended to the table in its order (a name the table has already is an
 * error). */
static void align_columns(Trace *T, int step, const MlpIrClean *st) {
  const MlprtSchema *o = &T->other[step];
  size_t len = strcspn(st->columns ? st->columns : "", "\n");
  const char *on = mlp_arena_printf(T->a, "%.*s", (int)len, st->columns ? st->columns : "");
  const char *base = strrchr(st->source, '/') ? strrchr(st->source, '/') + 1 : st->source;
  const char *label = mlp_arena_printf(T->a, "%s(%s)", st->source_format, st->source_query ? "query" : base);
  const char *ron = st->source_on ? st->source_on : on, *rby = st->source_by ? st->source_by : st->by;
  int ki = find_named(T, on, len), bi = st->by ? find_named(T, st->by, strlen(st->by)) : -1;
  int oc = mlprt_schema_find(o, ron), ob = st->by ? mlprt_schema_find(o, rby) : -1;
  int kt = ki >= 0 ? T->cur[ki].type : -1, ot = oc >= 0 ? (int)o->cols[oc].type : -1;
  if (ki < 0) {
    align_fail(T, step, "align: no time key '%s' in the table here", on);
  } else if (kt != MLPRT_COL_DATETIME && !is_num(kt)) {
    align_fail(T, step, "align: the time key '%s' is a %s column here, not a date or a number%s", on,
               mlprt_col_type_name((MlprtColType)kt), key_kind(kt) == 3 ? "; parse_dates it first" : "");
  } else if (oc < 0) {
    align_fail(T, step, "align: %s has no column '%s' (the time key)", label, ron);
  } else if (key_kind(ot) != key_kind(kt)) {
    align_fail(T, step, "align: the time key '%s' is a %s in the table but a %s (%s) in %s; both must be "
               "dates or both numbers", ron, key_kind_name(kt), key_kind_name(ot),
               mlprt_col_type_name((MlprtColType)ot), label);
  } else if (st->param >= 0 && st->flag != (kt == MLPRT_COL_DATETIME)) {
    align_fail(T, step, "align: the time key '%s' is a %s, so the tolerance is %s", on, key_kind_name(kt),
               st->flag ? "a number, not a duration" : "a duration such as \"7d\", not a number");
  } else if (st->by && bi < 0) {
    align_fail(T, step, "align: no column '%s' to match by in the table here", st->by);
  } else if (st->by && ob < 0) {
    align_fail(T, step, "align: %s has no column '%s' to match by", label, rby);
  } else if (st->by && key_kind(o->cols[ob].type) != key_kind(T->cur[bi].type)) {
    align_fail(T, step, "align: '%s' is a %s in the table but a %s in %s", st->by,
               key_kind_name(T->cur[bi].type), key_kind_name(o->cols[ob].type), label);
  }
  if (T->bad >= 0) return;
  add_op(T, &T->cur[ki], "align");
  T->joins[T->cur[ki].src] = true;
  if (bi >= 0) add_op(T, &T->cur[bi], "align"), T->joins[T->cur[bi].src] = true;
  const char *schema = "";
  for (int c = 0; c < o->ncols; c++) {
    const MlprtSchemaCol *col = &o->cols[c];
    schema = mlp_arena_printf(T->a, "%s%s\t%s\n", schema, col->name, mlprt_col_type_name(col->type));
    if (c != oc && c != ob && find_named(T, col->name, strlen(col->name)) >= 0) {
      align_fail(T, step, "align: %s has a column '%s', as the table has; drop_columns(%s) before align, or "
                 "leave it out of %s", label, col->name, col->name, label);
      return;
    }
    MlpColumnUse *u = &T->use[T->nuse];
    *u = (MlpColumnUse){.name = mlp_arena_strdup(T->a, col->name), .type = col->type, .ops = "",
                        .missing = col->nmissing, .lo = is_num(col->type) ? col->lo : NAN,
                        .hi = is_num(col->type) ? col->hi : NAN, .source = label};
    if (c == oc || c == ob) {
      u->ops = "align";
      T->joins[T->nuse++] = true;
      continue;
    }
    push(T, (Cur){u->name, col->type, T->nuse++, 1, col->levels, col->nlevels, true, true});
  }
  T->steps[step].schema = schema;
}

static void trace_step(Trace *T, int step, const MlpIrClean *st) {
  const char *op = mlprt_clean_op_name(st->op);
  MlpStepCols *sc = &T->steps[step];
  int64_t ncols = position(T, T->ncur);
  /* the selection as the runtime makes it: listed names in their order, a
   * type selector in table order */
  int *pick = malloc((size_t)(T->ncur + lines(st->columns) + 1) * sizeof *pick), npick = 0;
  if (st->select == MLPRT_SELECT_NAMES) {
    npick = pick_listed(T, st->columns, pick, &sc->idx, &sc->nidx);
  } else {
    int64_t *out = mlp_arena_alloc(T->a, (size_t)(ncols + 1) * sizeof *out);
    for (int i = 0; i < T->ncur; i++) {
      if (!selected(T, st, &T->cur[i])) continue;
      pick[npick++] = i;
      for (int64_t k = 0, p = position(T, i); k < T->cur[i].width; k++) out[sc->nidx++] = p + k;
    }
    sc->idx = out;
  }
  if (st->keep) pick_listed(T, st->keep, NULL, &sc->keep, &sc->nkeep);
  sc->by_idx = -1;
  int key = st->by && T->exact ? find_named(T, st->by, strlen(st->by)) : -1;
  if (st->by && T->exact && key < 0) {
    T->why = mlp_arena_printf(T->a, "%s: no column '%s' to group by at this step", op, st->by);
    T->bad = step;
  }
  if (key >= 0) sc->by_idx = position(T, key);
  if (T->exact) sc->ncols = ncols;
  if (st->op == MLPRT_CLEAN_ALIGN) align_columns(T, step, st);
  /* what the step does to each: dropped, or encoded (the source column
   * out, its new columns at the end, in the selection's order) */
  int n0 = T->ncur; /* the columns the step met; indicators come after */
  bool *gone = calloc((size_t)(n0 + 1), 1);
  int *moved = malloc((size_t)(npick + 1) * sizeof *moved), nmoved = 0;
  for (int k = 0; k < npick && T->bad < 0; k++) {
    int i = pick[k];
    Cur *c = &T->cur[i];
    if (numbers_only(st) && !is_num(c->type)) {
      T->why = mlp_arena_printf(T->a, "%s does not apply to '%s', a %s column", op, c->name,
                                mlprt_col_type_name((MlprtColType)c->type));
      T->bad = step;
      break;
    }
    switch (st->op) {
    case MLPRT_CLEAN_DROP_COLUMNS:
      if (c->direct) T->dropped[c->src] = true;
      add_op(T, c, op);
      gone[i] = true;
      break;
    case MLPRT_CLEAN_IMPUTE:
      T->imputed[c->src] = true;
      if (st->flag) {
        /* NAME_missing: true, false, or both; the runtime adds it once */
        int64_t m = T->use[c->src].missing;
        const char *ind = mlp_arena_printf(T->a, "%s_missing", c->name);
        add_op(T, c, mlp_arena_printf(T->a, "impute with %s", ind));
        if (find_named(T, ind, strlen(ind)) < 0)
          push(T, (Cur){ind, MLPRT_COL_BOOL, c->src, 1, bool_levels + (m >= T->nrows),
                        (int32_t)(m > 0) + (m < T->nrows), false, true});
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
      /* a column per level of the whole file; more than max_levels: the
       * max_levels - 1 kept and one for the others */
      add_op(T, c, op);
      onehot_levels(T, step, c);
      c->width = st->param > 0 && c->nlevels > st->param ? (int64_t)st->param : c->nlevels;
      c->type = MLPRT_COL_BOOL, c->direct = false, c->levels = NULL, c->named = false;
      moved[nmoved++] = i;
      break;
    case MLPRT_CLEAN_ORDINAL:
      add_op(T, c, op);
      c->type = MLPRT_COL_INT, c->direct = false, c->levels = NULL;
      moved[nmoved++] = i;
      break;
    case MLPRT_CLEAN_TEXT_CLEAN:
      if (c->type != MLPRT_COL_TEXT && c->type != MLPRT_COL_CATEGORY) {
        T->why = mlp_arena_printf(T->a, "%s does not apply to '%s', a %s column", op, c->name,
                                  mlprt_col_type_name((MlprtColType)c->type));
        T->bad = step;
        break;
      }
      add_op(T, c, op);
      c->levels = NULL, c->direct = false; /* cleaning merges levels */
      break;
    case MLPRT_CLEAN_BAG_OF_WORDS:
    case MLPRT_CLEAN_TFIDF:
    case MLPRT_CLEAN_HASH_VECTORIZE:
    case MLPRT_CLEAN_TOKENIZE:
      vectorize(T, step, st, c);
      if (T->bad < 0) moved[nmoved++] = i;
      break;
    case MLPRT_CLEAN_HASH_ENCODE:
      add_op(T, c, op);
      c->width = (int64_t)st->param, c->type = MLPRT_COL_FLOAT, c->direct = false, c->levels = NULL;
      c->named = false;
      moved[nmoved++] = i;
      break;
    case MLPRT_CLEAN_COERCE:
    case MLPRT_CLEAN_PARSE_DATES: {
      int to = st->op == MLPRT_CLEAN_COERCE ? (int)st->param : MLPRT_COL_DATETIME;
      if (st->op == MLPRT_CLEAN_PARSE_DATES && c->type != MLPRT_COL_TEXT && c->type != MLPRT_COL_CATEGORY &&
          c->type != MLPRT_COL_DATETIME) {
        T->why = mlp_arena_printf(T->a, "parse_dates reads text; '%s' is a %s column", c->name,
                                  mlprt_col_type_name((MlprtColType)c->type));
        T->bad = step;
        break;
      }
      add_op(T, c, op);
      /* a category keeps its texts; any other conversion's values are new */
      if (!(to == MLPRT_COL_CATEGORY && c->type == MLPRT_COL_CATEGORY)) c->levels = NULL, c->nlevels = 0;
      c->type = to;
      break;
    }
    case MLPRT_CLEAN_SORT_BY:
      add_op(T, c, op);
      T->orders[c->src] = true;
      break;
    case MLPRT_CLEAN_RESAMPLE:
      if (c->type != MLPRT_COL_DATETIME) {
        T->why = mlp_arena_printf(T->a, "resample: '%s' is a %s column, not a date", c->name,
                                  mlprt_col_type_name((MlprtColType)c->type));
        T->bad = step;
        break;
      }
      add_op(T, c, op);
      T->orders[c->src] = true;
      /* bucket means and interpolations are fractional (the group key is kept) */
      for (int j = 0; j < T->ncur && (st->offset == MLPRT_AGG_MEAN || st->method == MLPRT_GAP_LINEAR); j++)
        if (T->cur[j].type == MLPRT_COL_INT && !(st->by && strcmp(T->cur[j].name, st->by) == 0))
          T->cur[j].type = MLPRT_COL_FLOAT;
      break;
    case MLPRT_CLEAN_LAG:
    case MLPRT_CLEAN_ROLLING:
    case MLPRT_CLEAN_DIFF:
    case MLPRT_CLEAN_DATE_FEATURES: derive_columns(T, step, st, *c); break;
    default: break;
    }
    if (T->bad >= 0) break;
  }
  Cur *was = malloc((size_t)(T->ncur + 1) * sizeof *was);
  memcpy(was, T->cur, (size_t)T->ncur * sizeof *was);
  int n = 0;
  for (int i = 0; i < T->ncur; i++) {
    bool out = i < n0 && gone[i];
    for (int k = 0; k < nmoved && !out; k++) out = moved[k] == i;
    if (!out) T->cur[n++] = was[i];
  }
  for (int k = 0; k < nmoved; k++) {
    bool again = false; /* a column listed twice moves once */
    for (int j = 0; j < k && !again; j++) again = moved[j] == moved[k];
    if (!again) T->cur[n++] = was[moved[k]];
  }
  T->ncur = n;
  free(was);
  free(moved);
  free(gone);
  free(pick);
}

/* Why a source column that no feature came of is unused, and the fix. */
static const char *why_unused(Trace *T, const MlpColumnUse *u) {
  switch (u->type) {
  case MLPRT_COL_CATEGORY:
    return mlp_arena_printf(T->a, "a category no op encodes; add onehot(%s), or drop_columns(%s) to say so",
                            u->name, u->name);
  case MLPRT_COL_TEXT:
    return mlp_arena_printf(T->a, "text no op vectorizes; add tfidf(%s), bag_of_words(%s) or tokenize(%s), "
                                  "or drop_columns(%s) to say so",
                            u->name, u->name, u->name, u->name);
  case MLPRT_COL_DATETIME:
    return mlp_arena_printf(T->a, "a date no op derives features from; add date_features(%s), or "
                            "drop_columns(%s) to say so", u->name, u->name);
  default: return mlp_arena_printf(T->a, "no op keeps it as a number");
  }
}

int mlp_columns_trace(MlpArena *a, const MlpIrData *d, const MlprtSchema *s, MlpColumns *out,
                      MlpStepCols *steps, int *step, char *err, size_t n) {
  memset(out, 0, sizeof *out);
  *step = -1;
  Trace T = {.a = a, .target = d->target, .nrows = s->nrows, .steps = steps, .exact = true, .bad = -1,
             .sparse = d->sparse_text};
  /* the sources align steps join, probed first: their columns are accounted for after the data's */
  MlprtSchema *other = calloc((size_t)d->nclean + 1, sizeof *other);
  int nc = s->ncols, nall = nc;
  for (int i = 0; i < d->nclean; i++) {
    const MlpIrClean *st = &d->clean[i];
    if (st->op != MLPRT_CLEAN_ALIGN) continue;
    MlprtSourceDesc src = {.paths = st->source, .format = st->source_format, .query = st->source_query,
                           .delim = st->source_delim, .no_header = st->source_no_header,
                           .na_values = st->source_na};
    MlprtError e;
    if (mlp_columns_probe(&src, &other[i], &e) != 0) {
      mlprt_error_format(&e, err, n);
      *step = i;
      break;
    }
    nall += other[i].ncols;
  }
  if (*step >= 0) {
    for (int i = 0; i < d->nclean; i++) mlprt_schema_free(&other[i]);
    free(other);
    return -1;
  }
  T.other = other;
  T.nuse = nc;
  T.use = mlp_arena_alloc(a, (size_t)(nall ? nall : 1) * sizeof *T.use);
  T.imputed = mlp_arena_alloc(a, (size_t)(nall ? nall : 1) * 5);
  T.scaled = T.imputed + nall, T.dropped = T.scaled + nall, T.orders = T.dropped + nall;
  T.joins = T.orders + nall;
  memset(T.imputed, 0, (size_t)nall * 5);
  for (int i = 0; i < d->nclean; i++) steps[i] = (MlpStepCols){0};
  for (int c = 0; c < nc; c++) {
    const MlprtSchemaCol *col = &s->cols[c];
    MlpColumnUse *u = &T.use[c];
    *u = (MlpColumnUse){.name = mlp_arena_strdup(a, col->name), .type = col->type, .ops = "",
                        .missing = col->nmissing, .lo = is_num(col->type) ? col->lo : NAN,
                        .hi = is_num(col->type) ? col->hi : NAN};
    u->target = strcmp(col->name, d->target) == 0;
    push(&T, (Cur){u->name, col->type, c, 1, col->levels, col->nlevels, true, true});
  }
  for (int i = 0; i < d->nclean && T.bad < 0; i++) trace_step(&T, i, &d->clean[i]);
  for (int i = 0; i < d->nclean; i++) mlprt_schema_free(&other[i]);
  free(other);
  if (T.bad >= 0) {
    snprintf(err, n, "%s", T.why);
    *step = T.bad;
    free(T.cur);
    return -1;
  }
  nc = T.nuse;
  /* what reaches the model: every number and boolean but the target */
  bool *direct = calloc((size_t)(nc ? nc : 1), 1);
  for (int i = 0; i < T.ncur; i++) {
    const Cur *c = &T.cur[i];
    /* the target's own column; a lag of it is a feature */
    if (strcmp(c->name, d->target) == 0 || !(is_num(c->type) || c->type == MLPRT_COL_BOOL)) continue;
    T.use[c->src].features += c->width;
    out->features += c->width;
    direct[c->src] |= c->direct;
  }
  for (int c = 0; c < nc; c++) {
    MlpColumnUse *u = &T.use[c];
    if (u->target) continue;
    u->orders = !u->features && (T.orders[c] || (d->split_time && strcmp(u->name, d->split_time) == 0));
    u->joins = !u->features && !u->orders && T.joins[c];
    if (T.dropped[c]) u->unused = "dropped by the spec (drop_columns)";
    else if (!u->features && !u->orders && !u->joins) u->unused = why_unused(&T, u);
    if (direct[c] && !T.imputed[c]) u->missing_to_model = u->missing;
    u->unscaled = direct[c] && is_num(u->type) && !T.scaled[c];
  }
  out->cols = T.use;
  out->n = nc;
  free(direct);
  free(T.cur);
  return 0;
}

MlprtSourceDesc mlp_columns_source(const MlpIrData *d) {
  return (MlprtSourceDesc){.paths = d->path,
                           .format = d->format,
                           .query = d->query,
                           .delim = d->delimiter,
                           .no_header = d->no_header,
                           .na_values = d->na_values,
                           .schema = d->schema};
}

int mlp_columns_probe(const MlprtSourceDesc *src, MlprtSchema *s, MlprtError *e) {
  return mlprt_format_sql(src->format) ? mlprt_sql_probe(src, s, e) : mlprt_probe_described(src, s, e);
}

int mlp_columns_account(MlpArena *a, const MlpIrData *d, MlpColumns *out, char *err, size_t n) {
  memset(out, 0, sizeof *out);
  if (d->path2) {
    snprintf(err, n, "IDX images have no columns to account for");
    return -1;
  }
  MlprtSourceDesc src = mlp_columns_source(d);
  MlprtSchema s;
  MlprtError e;
  if (mlp_columns_probe(&src, &s, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  MlpStepCols *steps = mlp_arena_alloc(a, (size_t)(d->nclean ? d->nclean : 1) * sizeof *steps);
  int step;
  int rc = mlp_columns_trace(a, d, &s, out, steps, &step, err, n);
  mlprt_schema_free(&s);
  return rc;
}

int mlp_columns_print(const MlpColumns *c, const char *spec, FILE *out) {
  int w = 0, warnings = 0;
  for (int i = 0; i < c->n; i++) w = (int)strlen(c->cols[i].name) > w ? (int)strlen(c->cols[i].name) : w;
  fprintf(out, "%s%scolumns: what becomes of each source column\n", spec ? spec : "", spec ? ": " : "");
  for (int i = 0; i < c->n; i++) {
    const MlpColumnUse *u = &c->cols[i];
    if (u->source && (i == 0 || !c->cols[i - 1].source || strcmp(c->cols[i - 1].source, u->source) != 0))
      fprintf(out, "  joined from %s by align:\n", u->source);
    fprintf(out, "  %-*s  %-8s  ", w, u->name, mlprt_col_type_name((MlprtColType)u->type));
    if (u->target) fprintf(out, "target");
    else if (u->features) fprintf(out, "%lld feature%s", (long long)u->features, u->features == 1 ? "" : "s");
    else if (u->orders && !u->unused) fprintf(out, "orders the rows");
    else if (u->joins && !u->unused) fprintf(out, "joins the sources");
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
