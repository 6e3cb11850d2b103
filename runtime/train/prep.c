/* prep.c — from a data file to the matrices the training loop reads.
 *
 * Loads the table (data.h), drops rows without a target, splits the rest
 * into train / validation / test (clean.h's seeded split, stratified by the
 * target when asked), runs the spec's cleaning chain step by step (each step
 * fitted on the training rows only, through clean.h), and exports every
 * numeric and boolean column but the target as features. The compiler
 * learns the number of features from the data layer's schema probe, not
 * from this code; onehot encodes with the levels it compiled in, so the
 * width never depends on the split, and a count that still differs from
 * the compiled one is an error. The target gives class indices (its
 * distinct values in text order) or, for regression, a standardised value.
 * IDX images stay bytes, read as pixel / 255 row by row; their labels are
 * classes.
 * Consumes a path and the program descriptor; produces an MlprtDataset, or
 * (mlprt_prep_export) the cleaned table of each split as CSV files. */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlp/clean.h"
#include "mlp/data.h"
#include "mlp/tensor.h"
#include "train_int.h"

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The value of a numeric cell as float, NaN when missing. */
static float num_at(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_BOOL) return c->b[r] == MLPRT_BOOL_NA ? NAN : (float)c->b[r];
  if (c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT) return c->f[r];
  return NAN;
}

/* The text of a target cell (a level, or a number printed %g), NULL when
 * missing; buf holds numbers. */
static const char *target_text(const MlprtColumn *c, int64_t r, char *buf, size_t n) {
  if (c->type == MLPRT_COL_CATEGORY) return c->codes[r] < 0 ? NULL : c->levels.names[c->codes[r]];
  float v = num_at(c, r);
  if (isnan(v)) return NULL;
  snprintf(buf, n, "%g", v);
  return buf;
}

/* Distinct target values in text order (so class_of can bsearch them);
 * returns the count, *names receives malloc'd strings. Each row's text is
 * interned, so memory grows with the classes, not the rows. */
static int target_classes(const MlprtTable *t, int col, char ***names) {
  const MlprtColumn *c = &t->cols[col];
  MlprtLevels lv = {0};
  char buf[32];
  for (int64_t r = 0; r < t->nrows; r++) {
    const char *s = target_text(c, r, buf, sizeof buf);
    if (s) mlprt_levels_intern(&lv, s, strlen(s));
  }
  char **v = malloc((size_t)(lv.n ? lv.n : 1) * sizeof *v);
  for (int32_t k = 0; k < lv.n; k++) v[k] = strdup(lv.names[k]);
  qsort(v, (size_t)lv.n, sizeof *v, cmp_str);
  int k = lv.n;
  mlprt_levels_free(&lv);
  *names = v;
  return k;
}

/* Class index of row r, or -1 when its target is missing. */
static int32_t class_of(const MlprtTable *t, int col, int64_t r, char **names, int k) {
  char buf[32];
  const char *s = target_text(&t->cols[col], r, buf, sizeof buf);
  if (!s) return -1;
  char **hit = bsearch(&s, names, (size_t)k, sizeof *names, cmp_str);
  return hit ? (int32_t)(hit - names) : -1;
}

static int fail_with(const MlprtError *e, char *err, size_t n) {
  mlprt_error_format(e, err, n);
  return -1;
}

/* SHA-256 of the concatenation of n source files. */
static void sha256_sources(const char *const *paths, int n, char hex[65]) {
  MlprtSha256 s;
  uint8_t buf[1 << 16];
  mlprt_sha256_init(&s);
  bool ok = true;
  for (int i = 0; i < n && ok; i++) {
    FILE *f = fopen(paths[i], "rb");
    size_t k;
    ok = f != NULL;
    while (f && (k = fread(buf, 1, sizeof buf, f)) > 0) mlprt_sha256_update(&s, buf, k);
    if (f) fclose(f);
  }
  mlprt_sha256_final_hex(&s, hex);
  if (!ok) snprintf(hex, 65, "unreadable");
}

/* t->part from p's fractions: by time order, by groups, stratified by the
 * target when asked, else at random. */
static int split_table(const MlprtProgram *p, MlprtTable *t, char *err, size_t n) {
  MlprtSplitParams sp = {.train = 1 - p->val_frac - p->test_frac,
                         .valid = p->val_frac,
                         .test = p->test_frac,
                         .mode = p->stratify ? MLPRT_SPLIT_STRATIFIED : MLPRT_SPLIT_RANDOM,
                         .by = p->target,
                         .seed = (uint64_t)p->split_seed};
  MlprtError e;
  if (p->split_time) {
    if (mlprt_ts_sort(t, p->split_time, &e) != 0) return fail_with(&e, err, n);
    sp.mode = MLPRT_SPLIT_TIME;
  } else if (p->split_group) {
    sp.mode = MLPRT_SPLIT_GROUPED;
    sp.by = p->split_group;
  }
  return mlprt_split(t, &sp, &e) != 0 ? fail_with(&e, err, n) : 0;
}

/* Grouped folds (split(group) with folds): each row's group as the split
 * saw it, by rowid, since the cleaning after the split may drop, encode or
 * reorder the column; NULL when the folds are not grouped. */
static int32_t *groups_by_rowid(const MlprtProgram *p, const MlprtTable *t) {
  int col = p->split_group && p->nfolds > 0 ? mlprt_table_find(t, p->split_group) : -1;
  if (col < 0) return NULL;
  int64_t top = 0;
  for (int64_t r = 0; r < t->nrows; r++) top = t->rowid[r] > top ? t->rowid[r] : top;
  int32_t *gid = malloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *gid);
  int32_t *at = malloc((size_t)(top + 1) * sizeof *at);
  mlprt_row_groups(t, col, gid);
  for (int64_t r = 0; r < t->nrows; r++) at[t->rowid[r]] = gid[r];
  free(gid);
  return at;
}

/* ---- the cleaning chain ------------------------------------------------- */

/* Whether c is the target column itself, known by its name string
 * `tname` (the table's own, which a column keeps wherever the steps move
 * it, even through a coerce): columns made from the target (its lags)
 * share its origin but are not it. */
static bool is_target(const MlprtColumn *c, const char *tname) {
  return c->name == tname;
}

/* The target's position in t, -1 when it is gone. */
static int target_col(const MlprtTable *t, const char *tname) {
  for (int i = 0; i < t->ncols; i++)
    if (is_target(&t->cols[i], tname)) return i;
  return -1;
}

/* The columns a step takes. Traced (st->ncols set): the compiler's indices
 * into the table as the step meets it, named as the table names them;
 * else those a selector code picks from the table (the target never
 * picked), or the '\n'-terminated names (strings the caller frees with
 * free_cols). */
static MlprtCols select_cols(const MlprtTable *t, const MlprtCleanStep *st, const int64_t *idx, int64_t nidx,
                             int64_t select, const char *names, const char *tname, const char **buf) {
  int n = 0;
  if (st->ncols) {
    for (int64_t k = 0; k < nidx; k++) buf[n++] = t->cols[idx[k]].name;
    return (MlprtCols){buf, n, idx};
  }
  if (select != MLPRT_SELECT_NAMES) {
    for (int i = 0; i < t->ncols; i++) {
      MlprtColType ty = t->cols[i].type;
      bool take = select == MLPRT_SELECT_ALL           ? true
                  : select == MLPRT_SELECT_NUMERIC     ? ty == MLPRT_COL_FLOAT || ty == MLPRT_COL_INT
                  : select == MLPRT_SELECT_CATEGORICAL ? ty == MLPRT_COL_CATEGORY || ty == MLPRT_COL_BOOL
                                                       : ty == MLPRT_COL_TEXT;
      if (take && !is_target(&t->cols[i], tname)) buf[n++] = t->cols[i].name;
    }
  } else {
    for (const char *s = names; s && *s;) {
      const char *nl = strchr(s, '\n');
      buf[n++] = strndup(s, (size_t)(nl - s));
      s = nl + 1;
    }
  }
  return (MlprtCols){buf, n, NULL};
}

static void free_cols(const MlprtCleanStep *st, int64_t select, MlprtCols sel) {
  if (st->ncols || select != MLPRT_SELECT_NAMES) return;
  for (int i = 0; i < sel.n; i++) free((char *)sel.names[i]);
}

/* The table position of a step's i-th column: by its index when traced,
 * else by its name. */
static int step_col(const MlprtTable *t, MlprtCols sel, int i) {
  return sel.idx ? (int)sel.idx[i] : mlprt_table_find(t, sel.names[i]);
}

/* Drop the selected columns, the last first so the others keep their place. */
static void drop_selected(MlprtTable *t, MlprtCols sel) {
  uint8_t *drop = calloc((size_t)t->ncols + 1, 1);
  for (int i = 0; i < sel.n; i++) {
    int c = step_col(t, sel, i);
    if (c >= 0) drop[c] = 1;
  }
  for (int c = t->ncols - 1; c >= 0; c--)
    if (drop[c]) mlprt_table_drop_column(t, c);
  free(drop);
}

/* A vectorizer's sparse columns made ordinary ones where a later step
 * reads them: those it selects (unless it drops them), or all when it
 * reads whole rows or makes rows anew (the features then take memory for
 * every row and column, as without sparse rows). */
static void densify_for(MlprtTable *t, const MlprtCleanStep *st, MlprtCols sel) {
  if (!mlprt_table_has_sparse(t) || st->op == MLPRT_CLEAN_DROP_COLUMNS) return;
  if (st->op == MLPRT_CLEAN_DROP_DUPLICATES || st->op == MLPRT_CLEAN_RESAMPLE) {
    for (int c = 0; c < t->ncols; c++) mlprt_column_densify(t, c);
    return;
  }
  for (int i = 0; i < sel.n; i++) {
    int c = step_col(t, sel, i);
    if (c >= 0) mlprt_column_densify(t, c);
  }
}

/* Fit a step on the training rows and apply it to every row. A lag,
 * rolling or diff step marks the rows its history drops in pending (see
 * MlprtSeriesParams), and drops every marked row when drop_pending. */
/* The compiler resolved a step's columns against the table it traced: a
 * table of another width would make every index a wrong column. 0, or -1
 * with *e. */
static int step_layout(const MlprtTable *t, const MlprtCleanStep *st, MlprtError *e) {
  if (!st->ncols || st->ncols == t->ncols) return 0;
  *e = (MlprtError){0};
  snprintf(e->msg, sizeof e->msg,
           "the table has %d columns here where the compiled program expects %lld; the data's columns "
           "changed since the build (rebuild the program)",
           t->ncols, (long long)st->ncols);
  return -1;
}

static MlprtImputeParams impute_params(const MlprtCleanStep *st, MlprtCols sel) {
  return (MlprtImputeParams){
      .cols = sel, .strategy = (MlprtImpute)st->method, .constant = st->param, .indicator = st->flag != 0};
}

static MlprtScaleParams scale_params(const MlprtCleanStep *st, MlprtCols sel) {
  return (MlprtScaleParams){.cols = sel,
                            .method = st->op == MLPRT_CLEAN_STANDARDIZE ? MLPRT_SCALE_STANDARD
                                      : st->op == MLPRT_CLEAN_MINMAX    ? MLPRT_SCALE_MINMAX
                                      : st->op == MLPRT_CLEAN_LOG1P     ? MLPRT_SCALE_LOG1P
                                                                        : MLPRT_SCALE_ROBUST,
                            .low = st->low,
                            .high = st->high};
}

static int run_step(MlprtTable *t, const MlprtCleanStep *st, const char *tname, uint8_t *pending,
                    bool drop_pending,
                    MlprtCleanLog *log, MlprtError *e) {
  if (step_layout(t, st, e) != 0) return -1;
  const char **buf = malloc((size_t)(t->ncols + 1) * sizeof *buf);
  /* drop_duplicates compares whole rows, the target included. */
  MlprtCols sel =
      st->op == MLPRT_CLEAN_DROP_DUPLICATES && st->select != MLPRT_SELECT_NAMES
          ? (MlprtCols){NULL, 0, NULL}
          : select_cols(t, st, st->columns_idx, st->ncolumns_idx, st->select, st->columns, tname, buf);
  densify_for(t, st, sel);
  MlprtFit f = {0};
  int rc = 0;
  switch (st->op) {
  case MLPRT_CLEAN_DROP_DUPLICATES: rc = mlprt_drop_duplicates(t, sel, log, e) < 0 ? -1 : 0; break;
  case MLPRT_CLEAN_DROP_COLUMNS: drop_selected(t, sel); break;
  case MLPRT_CLEAN_IMPUTE: {
    MlprtImputeParams ip = impute_params(st, sel);
    rc = mlprt_impute_fit(t, &ip, &f, e);
    if (rc == 0) rc = mlprt_fit_apply(t, &f, log, e);
    break;
  }
  case MLPRT_CLEAN_CLIP_OUTLIERS:
  case MLPRT_CLEAN_DROP_OUTLIERS: {
    const char **kbuf = malloc((size_t)(t->ncols + 1) * sizeof *kbuf);
    MlprtCols keep =
        select_cols(t, st, st->keep_idx, st->nkeep_idx, MLPRT_SELECT_NAMES, st->keep, tname, kbuf);
    MlprtOutlierParams op = {.cols = sel,
                             .method = (MlprtOutlierMethod)st->method,
                             .threshold = st->param,
                             .action = st->op == MLPRT_CLEAN_CLIP_OUTLIERS ? MLPRT_OUTLIER_CLIP
                                                                           : MLPRT_OUTLIER_DROP,
                             .exempt = keep};
    rc = mlprt_outliers_fit(t, &op, &f, e);
    if (rc == 0) rc = mlprt_outliers_apply(t, &f, &op, log, e);
    free_cols(st, MLPRT_SELECT_NAMES, keep);
    free(kbuf);
    break;
  }
  case MLPRT_CLEAN_STANDARDIZE:
  case MLPRT_CLEAN_MINMAX:
  case MLPRT_CLEAN_ROBUST_SCALE:
  case MLPRT_CLEAN_LOG1P: {
    MlprtScaleParams sp = scale_params(st, sel);
    rc = mlprt_scale_fit(t, &sp, &f, e);
    if (rc == 0) rc = mlprt_fit_apply(t, &f, log, e);
    break;
  }
  case MLPRT_CLEAN_ONEHOT:
  case MLPRT_CLEAN_ORDINAL:
  case MLPRT_CLEAN_HASH_ENCODE: {
    /* Numbers and booleans named for encoding are categories first. */
    for (int i = 0; i < sel.n && rc == 0; i++) {
      int c = step_col(t, sel, i);
      if (c >= 0 && t->cols[c].type != MLPRT_COL_CATEGORY && t->cols[c].type != MLPRT_COL_TEXT)
        rc = mlprt_coerce(t, c, MLPRT_COL_CATEGORY, NULL, MLPRT_ONFAIL_NULL, log, e);
    }
    bool onehot = st->op == MLPRT_CLEAN_ONEHOT;
    MlprtEncodeParams ep = {.cols = sel,
                            .method = onehot                               ? MLPRT_ENCODE_ONEHOT
                                      : st->op == MLPRT_CLEAN_ORDINAL ? MLPRT_ENCODE_ORDINAL
                                                                           : MLPRT_ENCODE_HASH,
                            .unknown_error = onehot && st->flag,
                            .max_levels = onehot ? (int)st->param : 0,
                            .buckets = onehot ? 0 : (int)st->param,
                            .levels = onehot ? st->levels : NULL};
    if (rc == 0) rc = mlprt_encode_fit(t, &ep, &f, e);
    if (rc == 0) rc = mlprt_fit_apply(t, &f, log, e);
    break;
  }
  case MLPRT_CLEAN_TEXT_CLEAN: {
    MlprtTextCleanParams tp = {.cols = sel, .opts = (int)st->text};
    rc = mlprt_text_clean_fit(t, &tp, &f, e);
    if (rc == 0) rc = mlprt_fit_apply(t, &f, log, e);
    break;
  }
  case MLPRT_CLEAN_BAG_OF_WORDS:
  case MLPRT_CLEAN_TFIDF:
  case MLPRT_CLEAN_HASH_VECTORIZE:
  case MLPRT_CLEAN_TOKENIZE: {
    bool seq = st->op == MLPRT_CLEAN_TOKENIZE;
    MlprtVectorizeParams vp = {.cols = sel,
                               .terms = mlprt_terms_unpack(st->text),
                               .max_vocab = (int)(seq ? st->high : st->param),
                               .buckets = (int)st->param,
                               .min_df = (int)st->low,
                               .max_df = seq ? 0 : st->high,
                               .pad = true,
                               .max_len = (int)st->param,
                               .keep_rows = true}; /* applied to t next */
    rc = mlprt_vectorize_fit(t, &vp, &f, e);
    if (rc == 0) rc = mlprt_fit_apply(t, &f, log, e);
    break;
  }
  case MLPRT_CLEAN_COERCE:
  case MLPRT_CLEAN_PARSE_DATES:
    for (int i = 0; i < sel.n && rc == 0; i++) {
      int c = step_col(t, sel, i);
      /* a date the loader already read needs no parsing (it is logged as a conversion to itself) */
      MlprtColType to = st->op == MLPRT_CLEAN_COERCE ? (MlprtColType)st->param : MLPRT_COL_DATETIME;
      const char *fmt = c >= 0 && t->cols[c].type == MLPRT_COL_DATETIME ? NULL : st->format;
      rc = mlprt_coerce(t, c, to, fmt, (MlprtOnFail)st->method, log, e);
    }
    break;
  case MLPRT_CLEAN_SORT_BY: rc = mlprt_ts_sort_by(t, sel, st->flag != 0, log, e); break;
  case MLPRT_CLEAN_RESAMPLE: {
    MlprtResampleParams rp = {.on = sel,
                              .step = (int64_t)st->param,
                              .fill = (MlprtGapFill)st->method,
                              .agg = (MlprtAgg)st->offset,
                              .by = st->by,
                              .by_pos = st->ncols && st->by_idx >= 0 ? (int)st->by_idx + 1 : 0};
    rc = mlprt_ts_resample(t, &rp, log, e);
    break;
  }
  case MLPRT_CLEAN_LAG:
  case MLPRT_CLEAN_ROLLING:
  case MLPRT_CLEAN_DIFF: {
    MlprtSeriesParams sp = {.cols = sel,
                            .by = st->by,
                            .by_pos = st->ncols && st->by_idx >= 0 ? (int)st->by_idx + 1 : 0,
                            .history = (MlprtHistory)st->method,
                            .pending = pending,
                            .drop_pending = drop_pending};
    int n = st->nints < 64 ? (int)st->nints : 64, ints[64];
    MlprtRoll stats[64];
    for (int i = 0; i < n; i++) ints[i] = (int)st->ints[i], stats[i] = (MlprtRoll)st->ints[i];
    if (st->op == MLPRT_CLEAN_LAG) rc = mlprt_ts_lag(t, &sp, ints, n, log, e);
    else if (st->op == MLPRT_CLEAN_DIFF) rc = mlprt_ts_diff(t, &sp, (int)st->param, log, e);
    else rc = mlprt_ts_rolling(t, &sp, (int)st->param, (int)st->offset, stats, n, log, e);
    break;
  }
  case MLPRT_CLEAN_ALIGN: {
    MlprtSourceDesc src = {.paths = st->source,
                           .format = st->source_format,
                           .query = st->source_query,
                           .delim = (char)st->source_delim,
                           .no_header = st->source_no_header != 0,
                           .na_values = st->source_na,
                           .schema = st->source_schema};
    MlprtTable other;
    mlprt_table_init(&other);
    rc = mlprt_source_load(&src, &other, e);
    MlprtAsofParams ap = {.on = sel.names[0], /* on is required: one name */
                          .by = st->by,
                          .tolerance = st->param,
                          .unmatched = (MlprtUnmatched)st->method,
                          .right_on = st->source_on,
                          .right_by = st->source_by};
    if (rc == 0) rc = mlprt_ts_asof(t, &other, &ap, log, e);
    mlprt_table_free(&other);
    break;
  }
  case MLPRT_CLEAN_DATE_FEATURES: {
    int parts[MLPRT_DATE_NPARTS * 2], n = st->nints < MLPRT_DATE_NPARTS * 2 ? (int)st->nints : 0;
    for (int i = 0; i < n; i++) parts[i] = (int)st->ints[i];
    rc = mlprt_date_features(t, sel, parts, n, st->flag != 0, log, e);
    break;
  }
  default:
    *e = (MlprtError){0};
    snprintf(e->msg, sizeof e->msg, "%s is not run by the training program", mlprt_clean_op_name(st->op));
    rc = -1;
  }
  mlprt_fit_free(&f);
  free_cols(st, st->select, sel);
  free(buf);
  return rc;
}

/* The column types of a loaded table as "NAME\tTYPE\n" lines (malloc'd):
 * the schema a compiled program loads its data with. */
static char *schema_text(const MlprtTable *t) {
  size_t len = 1;
  for (int i = 0; i < t->ncols; i++) len += strlen(t->cols[i].name) + 16;
  char *s = malloc(len), *w = s;
  *w = 0;
  for (int i = 0; i < t->ncols; i++)
    w += sprintf(w, "%s\t%s\n", t->cols[i].name, mlprt_col_type_name(t->cols[i].type));
  return s;
}

/* The raw ranges and levels of every column but the target over the
 * training rows, before cleaning: what a predictor's inputs are checked
 * against (reference.json "inputs"). Numbers (and dates, as epoch seconds;
 * booleans as 0/1) give min and max, ignoring missing values (null when
 * none is left); categories and booleans give their levels as text, sorted
 * bytewise, as the schema lists them, not in the loader's first-seen code
 * order, which depends on the row order. */
static cJSON *raw_inputs(const MlprtTable *t, int tcol) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < t->ncols; i++) {
    const MlprtColumn *c = &t->cols[i];
    if (i == tcol) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "column", c->name);
    cJSON_AddStringToObject(o, "type", mlprt_col_type_name(c->type));
    double lo = INFINITY, hi = -INFINITY;
    bool *seen = c->type == MLPRT_COL_CATEGORY ? calloc((size_t)c->levels.n + 1, 1)
                 : c->type == MLPRT_COL_BOOL   ? calloc(2, 1)
                                               : NULL;
    for (int64_t r = 0; r < t->nrows; r++) {
      if (!mlprt_row_trains(t, r) || mlprt_is_missing(t, i, r)) continue;
      double v = c->type == MLPRT_COL_DATETIME ? (double)c->t[r] : num_at(c, r);
      if (c->type == MLPRT_COL_CATEGORY) seen[c->codes[r]] = true;
      if (c->type == MLPRT_COL_BOOL) seen[c->b[r] != 0] = true;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    bool ranged = c->type != MLPRT_COL_CATEGORY && c->type != MLPRT_COL_TEXT && lo <= hi;
    cJSON_AddItemToObject(o, "min", ranged ? cJSON_CreateNumber(lo) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "max", ranged ? cJSON_CreateNumber(hi) : cJSON_CreateNull());
    if (seen) {
      int nl = c->type == MLPRT_COL_BOOL ? 2 : c->levels.n, k = 0;
      const char **names = malloc((size_t)(nl ? nl : 1) * sizeof *names);
      for (int l = 0; l < nl; l++)
        if (seen[l]) names[k++] = c->type == MLPRT_COL_BOOL ? (l ? "true" : "false") : c->levels.names[l];
      qsort(names, (size_t)k, sizeof *names, cmp_str);
      cJSON_AddItemToObject(o, "levels", cJSON_CreateStringArray(names, k));
      free(names);
      free(seen);
    }
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

static void keep_split(const MlprtTable *t, int s, int64_t n, MlprtTable *raw);

/* The rows the test metrics come from (the test split, or the validation
 * split when there is no test split), copied as loaded: test_rows.csv is
 * written from this copy, which leaves the table's own rows free to be
 * cleaned. Only that split's rows are copied, cell by cell, so the copy
 * costs a fifth of the table or so, never the whole of it. Returns the
 * split it copied. */
static int keep_raw(const MlprtTable *t, MlprtTable *raw) {
  int64_t cnt[3];
  mlprt_split_counts(t, cnt);
  int s = cnt[MLPRT_TEST] > 0 ? MLPRT_TEST : MLPRT_VALID;
  keep_split(t, s, cnt[s], raw);
  return s;
}

/* The n rows of split s of t, copied cell by cell into raw (initialised
 * here), with their ids. */
static void keep_split(const MlprtTable *t, int s, int64_t n, MlprtTable *raw) {
  mlprt_table_like(raw, t);
  mlprt_table_reserve(raw, n);
  raw->rowid = malloc((size_t)(raw->cap_rows ? raw->cap_rows : 1) * sizeof *raw->rowid);
  for (int i = 0; i < t->ncols; i++) {
    const MlprtColumn *c = &t->cols[i];
    MlprtColumn *o = &raw->cols[i];
    /* The same levels interned in the same order: the codes carry over. */
    for (int32_t l = 0; c->type == MLPRT_COL_CATEGORY && l < c->levels.n; l++)
      mlprt_levels_intern(&o->levels, c->levels.names[l], c->levels.len[l]);
    int64_t w = 0;
    for (int64_t r = 0; r < t->nrows; r++) {
      if (!t->part || t->part[r] != s) continue;
      if (c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT) {
        o->f[w] = c->f[r];
      } else if (c->type == MLPRT_COL_BOOL) {
        o->b[w] = c->b[r];
      } else if (c->type == MLPRT_COL_CATEGORY) {
        o->codes[w] = c->codes[r];
      } else if (c->type == MLPRT_COL_TEXT) {
        const char *x = mlprt_text_at(c, r);
        if (x)
          mlprt_text_set(o, w, x, strlen(x));
        else
          o->off[w] = -1;
      } else {
        o->t[w] = c->t[r];
      }
      if (i == 0) raw->rowid[w] = t->rowid[r];
      w++;
    }
  }
  raw->nrows = n;
}

/* Drop from raw the rows the cleaning chain removed from split s of t, and
 * put the others in t's order (a sort_by may have moved them): the copy
 * ends up row for row in the order the split's features (and predictions)
 * have. Rows are matched by their ids. */
static void align_raw(const MlprtTable *t, int s, MlprtTable *raw) {
  int64_t maxid = 0, m = 0, n = raw->nrows ? raw->nrows : 1;
  for (int64_t i = 0; i < raw->nrows; i++) maxid = raw->rowid[i] > maxid ? raw->rowid[i] : maxid;
  int64_t *at = malloc((size_t)(maxid + 1) * sizeof *at), *order = malloc((size_t)n * sizeof *order);
  int64_t *rank = malloc((size_t)n * sizeof *rank);
  for (int64_t id = 0; id <= maxid; id++) at[id] = -1;
  for (int64_t i = 0; i < raw->nrows; i++) at[raw->rowid[i]] = i;
  uint8_t *keep = calloc((size_t)n, 1);
  for (int64_t r = 0; r < t->nrows; r++) {
    int64_t id = t->rowid[r];
    if (!t->part || t->part[r] != s || id < 0 || id > maxid || at[id] < 0) continue;
    keep[at[id]] = 1;
    order[m++] = at[id];
  }
  for (int64_t i = 0, k = 0; i < raw->nrows; i++) rank[i] = keep[i] ? k++ : -1;
  for (int64_t k = 0; k < m; k++) order[k] = rank[order[k]];
  mlprt_table_filter(raw, keep);
  mlprt_table_permute(raw, order);
  free(keep);
  free(rank);
  free(order);
  free(at);
}

/* The loaded column behind each feature column (mlprt_table_features'
 * order): the name on line `origin` of the schema, or the feature's own
 * name when its origin was not recorded. */
static char **feature_sources(const MlprtTable *t, int tc, const char *schema, int64_t F) {
  char **src = calloc((size_t)(F ? F : 1), sizeof *src);
  int64_t k = 0;
  for (int i = 0; i < t->ncols && k < F; i++) {
    const MlprtColumn *c = &t->cols[i];
    if (i == tc || !(c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT || c->type == MLPRT_COL_BOOL))
      continue;
    const char *line = schema;
    for (int32_t o = 1; o < c->origin && line; o++) {
      line = strchr(line, '\n');
      if (line) line++;
    }
    if (c->origin > 0 && line && *line)
      src[k++] = strndup(line, strcspn(line, "\t\n"));
    else
      src[k++] = strdup(c->name);
  }
  return src;
}

static bool series_op(int64_t op) {
  return op == MLPRT_CLEAN_LAG || op == MLPRT_CLEAN_ROLLING || op == MLPRT_CLEAN_DIFF;
}

/* Give the rows as loaded the part their cleaned rows went to, and drop
 * those the steps before the split removed. */
static void loaded_parts(const MlprtTable *t, MlprtTable *loaded) {
  int64_t maxid = 0;
  for (int64_t i = 0; i < loaded->nrows; i++) maxid = loaded->rowid[i] > maxid ? loaded->rowid[i] : maxid;
  uint8_t *part = malloc((size_t)maxid + 1);
  memset(part, 0xff, (size_t)maxid + 1);
  for (int64_t r = 0; r < t->nrows; r++)
    if (t->rowid[r] >= 0 && t->rowid[r] <= maxid) part[t->rowid[r]] = t->part ? t->part[r] : MLPRT_TRAIN;
  uint8_t *keep = malloc((size_t)(loaded->nrows ? loaded->nrows : 1));
  loaded->part = malloc((size_t)(loaded->cap_rows ? loaded->cap_rows : 1));
  for (int64_t i = 0; i < loaded->nrows; i++) {
    loaded->part[i] = part[loaded->rowid[i]];
    keep[i] = loaded->part[i] != 0xff;
  }
  mlprt_table_filter(loaded, keep);
  free(keep);
  free(part);
}

/* After the split: the tested split's rows as loaded (keep_raw) and the
 * training rows' raw ranges (raw_inputs), from the rows as loaded when
 * steps ran before the split (kept), else from t itself. */
static void keep_loaded_rows(const MlprtTable *t, MlprtTable *loaded, bool kept, int tcol,
                             MlprtTable *raw, int *raw_split, cJSON **inputs) {
  if (kept) loaded_parts(t, loaded);
  const MlprtTable *src = kept ? loaded : t;
  *raw_split = keep_raw(src, raw);
  *inputs = raw_inputs(src, tcol);
}

/* Leave in inputs (raw_inputs': every loaded column but the target, in
 * order, of nsrc) only the columns some feature of the cleaned table t was
 * made from: what the model reads. All stay when a feature's origin is not
 * recorded. */
static void keep_read_inputs(const MlprtTable *t, const char *tname, int nsrc, cJSON *inputs) {
  int tc = target_col(t, tname), tsrc = tc >= 0 ? t->cols[tc].origin - 1 : -1;
  bool *read = calloc((size_t)nsrc + 1, 1), all = false;
  for (int i = 0; i < t->ncols; i++) {
    const MlprtColumn *c = &t->cols[i];
    if (is_target(c, tname)) continue;
    if (c->type != MLPRT_COL_FLOAT && c->type != MLPRT_COL_INT && c->type != MLPRT_COL_BOOL) continue;
    if (c->origin > 0 && c->origin <= nsrc) read[c->origin - 1] = true;
    else all = true;
  }
  for (int s = 0, k = 0; s < nsrc && !all && tsrc >= 0; s++) {
    if (s == tsrc) continue;
    if (read[s]) k++;
    else cJSON_DeleteItemFromArray(inputs, k);
  }
  free(read);
}

/* Load the rows at path (paths one per line become one table; for an SQL
 * source, the rows of query there), read as p reads its data, into *t;
 * with sha256 non-NULL, it receives the digest of the bytes loaded
 * (sha256_sources; an SQL source's: of the values read). A pipe is read
 * once, into a temporary copy that the loader and the digest read. */
static int load_rows(const MlprtProgram *p, const char *path, const char *query, MlprtTable *t, char *sha256,
                     char *err, size_t n) {
  MlprtError e;
  if (mlprt_format_sql(p->data_format)) {
    MlprtSourceDesc sql = {.paths = path, .format = p->data_format, .query = query, .schema = p->schema};
    return mlprt_sql_load(&sql, t, sha256, &e) != 0 ? fail_with(&e, err, n) : 0;
  }
  char *list = strdup(path), *copy[64], *joined = NULL;
  const char *orig[64], *paths[64];
  size_t joined_len = 0;
  FILE *jf = open_memstream(&joined, &joined_len);
  int np = 0, loaded = 0;
  for (char *s = list, *nl; s && np < 64; s = nl ? nl + 1 : NULL) {
    nl = strchr(s, '\n');
    if (nl) *nl = 0;
    copy[np] = NULL;
    if (loaded == 0) loaded = mlprt_source_spool(s, &copy[np], &e);
    orig[np] = s;
    paths[np] = copy[np] ? copy[np] : s;
    fprintf(jf, "%s%s", np ? "\n" : "", paths[np]);
    np++;
  }
  fclose(jf);
  MlprtSourceDesc src = {.paths = joined,
                         .format = p->data_format,
                         .delim = (char)p->delimiter,
                         .no_header = p->no_header != 0,
                         .na_values = p->na_values,
                         .schema = p->schema};
  if (loaded == 0) loaded = mlprt_load_described(&src, t, &e);
  if (loaded == 0 && sha256) sha256_sources(paths, np, sha256);
  for (int i = 0; i < np; i++) {
    if (!copy[i]) continue;
    if (loaded != 0 && strcmp(e.file, copy[i]) == 0) /* name the source, not its copy */
      snprintf(e.file, sizeof e.file, "%s", orig[i]);
    unlink(copy[i]);
    free(copy[i]);
  }
  free(joined);
  free(list);
  return loaded != 0 ? fail_with(&e, err, n) : 0;
}

/* Drop the rows of t whose target (column tc) is missing: they can
 * neither train nor be scored. Returns how many. */
static int64_t drop_missing_target(MlprtTable *t, int tc) {
  uint8_t *keep = malloc((size_t)(t->nrows ? t->nrows : 1));
  char buf[32];
  for (int64_t r = 0; r < t->nrows; r++) keep[r] = target_text(&t->cols[tc], r, buf, sizeof buf) != NULL;
  int64_t dropped = mlprt_table_filter(t, keep);
  free(keep);
  return dropped;
}

/* Run the chain's steps [from, to) on t, whose target column is named by
 * tname's string; path names the data in messages. Consecutive lag,
 * rolling and diff steps read whole series and drop the rows any of them
 * lacks history for once, after the last. A resample makes the rows anew:
 * they are numbered on the grid, and when as_loaded is not NULL they
 * become the rows as loaded. */
static int run_steps(const MlprtProgram *p, int64_t from, int64_t to, MlprtTable *t, const char *tname,
                     MlprtTable *as_loaded, MlprtCleanLog *log, const char *path, char *err, size_t n) {
  MlprtError e;
  uint8_t *pending = NULL;
  int rc = 0;
  for (int64_t i = from; rc == 0 && i < to; i++) {
    int64_t op = p->clean[i].op;
    if (series_op(op) && !pending) pending = calloc((size_t)t->nrows + 1, 1);
    bool last = !series_op(op) || i + 1 == to || !series_op(p->clean[i + 1].op);
    if (run_step(t, &p->clean[i], tname, series_op(op) ? pending : NULL, last, log, &e) != 0) {
      char msg[768];
      mlprt_error_format(&e, msg, sizeof msg);
      snprintf(err, n, "%s: cleaning step %lld (%s): %s", path, (long long)i + 1, mlprt_clean_op_name(op),
               msg);
      rc = -1;
    }
    if (last) {
      free(pending);
      pending = NULL;
    }
    if (rc == 0 && op == MLPRT_CLEAN_RESAMPLE) {
      for (int64_t r = 0; r < t->nrows; r++) t->rowid[r] = r + 1;
      if (as_loaded) {
        mlprt_table_free(as_loaded);
        mlprt_table_like(as_loaded, t);
        mlprt_table_append(as_loaded, t, &e);
      }
    }
  }
  free(pending);
  return rc;
}

/* Append the rows of p's test source to t (split already) as its test
 * split: loaded with the data's compiled types, rows without a target
 * dropped (counted in *dropped), each remembering its row in that source.
 * The chain's first `head` steps (those before the split) run on these
 * rows on their own: a lag or rolling value of a test row reads earlier
 * test rows of its series only, and no training row reads a test row.
 * Then the rows are numbered after the data's (`base` rows) and, when
 * as_loaded is not NULL, appended to it as loaded. The digest of its
 * bytes goes to test_sha256 when not NULL. */
static int append_test_rows(const MlprtProgram *p, int64_t head, MlprtTable *t, MlprtTable *as_loaded,
                            int64_t base, int64_t *dropped, char *test_sha256, char *err, size_t n) {
  MlprtTable tt;
  if (load_rows(p, p->test_path, p->test_query, &tt, test_sha256, err, n) != 0) return -1;
  int tc = mlprt_table_find(&tt, p->target);
  if (tc < 0) {
    snprintf(err, n, "%s: no target column '%s'", p->test_path, p->target);
    mlprt_table_free(&tt);
    return -1;
  }
  for (int i = 0; i < tt.ncols; i++) tt.cols[i].origin = i + 1;
  tt.rowid = malloc((size_t)(tt.cap_rows ? tt.cap_rows : 1) * sizeof *tt.rowid);
  for (int64_t r = 0; r < tt.nrows; r++) tt.rowid[r] = r + 1;
  *dropped = drop_missing_target(&tt, tc);
  MlprtError e;
  int rc = 0;
  if (as_loaded) {
    int64_t from = as_loaded->nrows;
    rc = mlprt_table_append(as_loaded, &tt, &e);
    for (int64_t r = from; rc == 0 && r < as_loaded->nrows; r++) as_loaded->rowid[r] += base;
    if (rc != 0) {
      char msg[512];
      mlprt_error_format(&e, msg, sizeof msg);
      snprintf(err, n, "%s: the test source's columns differ from the data's: %s", p->test_path, msg);
    }
  }
  if (rc == 0) rc = run_steps(p, 0, head, &tt, tt.cols[tc].name, NULL, NULL, p->test_path, err, n);
  for (int64_t r = 0; rc == 0 && r < tt.nrows; r++) tt.rowid[r] += base;
  if (rc == 0) {
    tt.part = malloc((size_t)(tt.cap_rows ? tt.cap_rows : 1));
    memset(tt.part, MLPRT_TEST, (size_t)tt.nrows);
    rc = mlprt_table_append(t, &tt, &e);
    if (rc != 0) {
      char msg[512];
      mlprt_error_format(&e, msg, sizeof msg);
      snprintf(err, n, "%s: the test source's columns differ from the data's: %s", p->test_path, msg);
    }
  }
  mlprt_table_free(&tt);
  return rc;
}

/* Load p's data (path), drop rows without a target, split, add the test
 * source's rows (when p has one) as the test split, and run the cleaning
 * chain, vectorizers keeping their columns as sparse rows when sparse.
 * With schema non-NULL, *schema receives the loaded columns' types
 * (schema_text). With raw non-NULL, *raw receives the tested split's rows
 * as loaded (keep_raw; *raw_split names the split) and *inputs the
 * training rows' raw ranges (raw_inputs). With sha256 non-NULL, it
 * receives the digest of the bytes loaded (sha256_sources), and
 * test_sha256 the test source's. */
static int prepare_table(const MlprtProgram *p, const char *path, MlprtTable *t, const char **tname,
                         MlprtCleanLog **log, int64_t dropped[2], char **schema, MlprtTable *raw,
                         int *raw_split, cJSON **inputs, int32_t **group_at, char *sha256, char *test_sha256,
                         bool sparse, char *err, size_t n) {
  MlprtError e;
  if (load_rows(p, path, p->data_query, t, sha256, err, n) != 0) return -1;
  t->sparse_text = sparse;
  if (schema) *schema = schema_text(t);
  for (int i = 0; i < t->ncols; i++) t->cols[i].origin = i + 1; /* the cleaning ops carry it on */
  /* Each row remembers where it came from (several sources count on), so
   * the test rows can be written back as the source had them. */
  t->rowid = malloc((size_t)(t->cap_rows ? t->cap_rows : 1) * sizeof *t->rowid);
  for (int64_t r = 0; r < t->nrows; r++) t->rowid[r] = r + 1;
  int tc = mlprt_table_find(t, p->target);
  if (tc < 0) {
    snprintf(err, n, "%s: no target column '%s'", path, p->target);
    mlprt_table_free(t);
    return -1;
  }
  *tname = t->cols[tc].name;
  dropped[0] = drop_missing_target(t, tc);
  dropped[1] = 0;
  *log = mlprt_clean_log_new(path);
  int64_t head = 0;
  while (head < p->nclean && mlprt_clean_op_before_split(p->clean[head].op)) head++;
  /* the rows as loaded, for the test rows and the predictor's input ranges */
  MlprtTable as_loaded;
  mlprt_table_init(&as_loaded);
  bool keep_loaded = head > 0 && raw;
  if (keep_loaded) {
    mlprt_table_like(&as_loaded, t);
    mlprt_table_append(&as_loaded, t, &e);
  }
  if (raw) {
    mlprt_table_init(raw);
    *inputs = NULL;
  }
  int64_t base = t->nrows + dropped[0]; /* the data's rows as loaded */
  int rc = run_steps(p, 0, head, t, *tname, keep_loaded ? &as_loaded : NULL, *log, path, err, n);
  if (rc == 0) rc = split_table(p, t, err, n);
  if (rc == 0 && group_at) *group_at = groups_by_rowid(p, t);
  if (rc == 0 && p->test_path)
    rc = append_test_rows(p, head, t, keep_loaded ? &as_loaded : NULL, head > 0 ? base : 0, &dropped[1],
                          test_sha256, err, n);
  if (rc == 0 && raw) keep_loaded_rows(t, &as_loaded, keep_loaded, tc, raw, raw_split, inputs);
  mlprt_table_free(&as_loaded);
  if (rc == 0) rc = run_steps(p, head, p->nclean, t, *tname, NULL, *log, path, err, n);
  if (rc == 0 && raw) {
    align_raw(t, *raw_split, raw);
    /* the tested rows are the test source's: numbered as it has them */
    for (int64_t r = 0; p->test_path && head > 0 && r < raw->nrows; r++) raw->rowid[r] -= base;
  }
  if (rc != 0) {
    mlprt_clean_log_free(*log);
    mlprt_table_free(t);
    if (raw) {
      mlprt_table_free(raw);
      cJSON_Delete(*inputs);
      *inputs = NULL;
    }
    if (group_at) {
      free(*group_at);
      *group_at = NULL;
    }
  }
  return rc;
}

/* Images and labels from a pair of IDX files: *img the images, bytes,
 * [rows, F]; cls[rows] (malloc'd) each label's class, clamped below
 * nclasses. 0, or -1 with a message. */
static int load_idx_pair(const MlprtProgram *p, const char *images, const char *labels, int nclasses,
                         MlprtIdx *img, int32_t **cls, char *err, size_t n) {
  MlprtIdx lab;
  MlprtError e;
  if (mlprt_idx_load(images, img, &e) != 0) return fail_with(&e, err, n);
  if (mlprt_idx_load(labels, &lab, &e) != 0) {
    mlprt_idx_free(img);
    return fail_with(&e, err, n);
  }
  int64_t rows = img->dims[0], F = img->ndim == 3 ? img->dims[1] * img->dims[2] : 0;
  if (F != p->n_features || lab.dims[0] != rows) {
    snprintf(err, n,
             "%s: %lld images of %lld pixels and %lld labels, but the program was compiled for %lld pixels",
             images, (long long)rows, (long long)F, (long long)lab.dims[0], (long long)p->n_features);
    mlprt_idx_free(img);
    mlprt_idx_free(&lab);
    return -1;
  }
  *cls = calloc((size_t)(rows ? rows : 1), sizeof **cls);
  for (int64_t r = 0; r < rows; r++) (*cls)[r] = lab.data[r] < nclasses ? lab.data[r] : nclasses - 1;
  mlprt_idx_free(&lab);
  return 0;
}

/* Images and labels from IDX files: classes 0..K-1 from the labels. The
 * test source's images (when p has one) follow the data's as the test
 * split. */
static int prep_load_idx(const MlprtProgram *p, const char *images, const char *labels, MlprtDataset *d,
                         char *err, size_t n) {
  MlprtIdx img, timg = {0};
  int32_t *cls, *tcls = NULL;
  int nclasses = (int)p->n_classes;
  if (load_idx_pair(p, images, labels, nclasses, &img, &cls, err, n) != 0) return -1;
  if (p->test_path && load_idx_pair(p, p->test_path, p->test_path2, nclasses, &timg, &tcls, err, n) != 0) {
    mlprt_idx_free(&img);
    free(cls);
    return -1;
  }
  int64_t rows = img.dims[0], trows = p->test_path ? timg.dims[0] : 0, F = p->n_features;
  if (mlprt_sha256_file(images, d->sha256) != 0) snprintf(d->sha256, sizeof d->sha256, "unreadable");
  if (p->test_path && mlprt_sha256_file(p->test_path, d->test_sha256) != 0)
    snprintf(d->test_sha256, sizeof d->test_sha256, "unreadable");
  d->F = F;
  d->K = p->models[0].n_out;
  d->nclasses = nclasses;
  d->class_names = malloc((size_t)d->nclasses * sizeof *d->class_names);
  for (int k = 0; k < d->nclasses; k++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", k);
    d->class_names[k] = strdup(buf);
  }
  /* The split runs on a one-column table of the data's labels. */
  MlprtTable lt;
  mlprt_table_init(&lt);
  int lc = mlprt_table_add_column(&lt, p->target, MLPRT_COL_INT);
  mlprt_table_reserve(&lt, rows);
  for (int64_t r = 0; r < rows; r++) lt.cols[lc].f[r] = (float)cls[r];
  lt.nrows = rows;
  if (split_table(p, &lt, err, n) != 0) {
    mlprt_table_free(&lt);
    free(cls);
    free(tcls);
    mlprt_idx_free(&img);
    mlprt_idx_free(&timg);
    return -1;
  }
  /* Test images go after the data's: one byte array, test rows last. */
  uint8_t *part = malloc((size_t)(rows + trows ? rows + trows : 1));
  memcpy(part, lt.part, (size_t)rows);
  memset(part + rows, MLPRT_TEST, (size_t)trows);
  if (trows) {
    img.data = realloc(img.data, (size_t)((rows + trows) * F));
    memcpy(img.data + rows * F, timg.data, (size_t)(trows * F));
    cls = realloc(cls, (size_t)(rows + trows) * sizeof *cls);
    memcpy(cls + rows, tcls, (size_t)trows * sizeof *cls);
  }
  for (int64_t r = 0; r < rows + trows; r++) d->n[part[r]]++;
  d->raw_split = d->n[MLPRT_TEST] > 0 ? MLPRT_TEST : MLPRT_VALID;
  int64_t pos[3] = {0, 0, 0};
  for (int s = 0; s < 3; s++) {
    size_t nr = (size_t)(d->n[s] ? d->n[s] : 1);
    d->pixel_row[s] = malloc(nr * sizeof(int64_t));
    d->y[s] = mlprt_alloc_aligned(nr * (size_t)d->K * sizeof(float));
    d->label[s] = malloc(nr * sizeof(int32_t));
  }
  for (int64_t r = 0; r < rows + trows; r++) {
    int s = part[r];
    int64_t i = pos[s]++;
    d->pixel_row[s][i] = r;
    d->label[s][i] = cls[r];
    if (d->K == 1)
      d->y[s][i] = (float)cls[r];
    else
      d->y[s][i * d->K + cls[r]] = 1;
  }
  cJSON *rec = cJSON_CreateObject();
  cJSON_AddStringToObject(rec, "source", images);
  cJSON_AddStringToObject(rec, "labels", labels);
  cJSON_AddNumberToObject(rec, "rows", (double)rows);
  if (p->test_path) {
    cJSON *ts = cJSON_AddObjectToObject(rec, "test_source");
    cJSON_AddStringToObject(ts, "source", p->test_path);
    cJSON_AddStringToObject(ts, "labels", p->test_path2);
    cJSON_AddNumberToObject(ts, "rows", (double)trows);
  }
  cJSON *splits = cJSON_AddObjectToObject(rec, "splits");
  cJSON_AddNumberToObject(splits, "train", (double)d->n[MLPRT_TRAIN]);
  cJSON_AddNumberToObject(splits, "validation", (double)d->n[MLPRT_VALID]);
  cJSON_AddNumberToObject(splits, "test", (double)d->n[MLPRT_TEST]);
  cJSON_AddStringToObject(rec, "pixels", "value / 255");
  d->cleaning = rec;
  mlprt_table_free(&lt);
  free(part);
  free(cls);
  free(tcls);
  mlprt_idx_free(&timg);
  /* The images stay bytes: the dataset owns them now. */
  d->pixels = img.data;
  return 0;
}

/* The batch of sparse rows mlprt_dataset_put fills: room for the largest
 * batch of p's models, each row as long as the longest. */
static void sparse_batch(const MlprtProgram *p, MlprtDataset *d) {
  int64_t most = 1, longest = 1;
  for (int64_t k = 0; k < p->nmodels; k++)
    if (p->models[k].batch > most) most = p->models[k].batch;
  for (int s = 0; s < 3; s++)
    for (int64_t r = 0; r < d->sx[s].nrows; r++)
      if (d->sx[s].ptr[r + 1] - d->sx[s].ptr[r] > longest) longest = d->sx[s].ptr[r + 1] - d->sx[s].ptr[r];
  d->batch = calloc(1, sizeof *d->batch);
  *d->batch = (MlprtCsr){.nrows = most, .ncols = d->F};
  d->batch->ptr = calloc((size_t)most + 1, sizeof *d->batch->ptr);
  d->batch->col = malloc((size_t)(most * longest) * sizeof *d->batch->col);
  d->batch->val = malloc((size_t)(most * longest) * sizeof *d->batch->val);
}

/* Regression: y = (target - mean) / sd, the mean and (population) sd of
 * the training targets, summed in row order. */
static void scale_targets(MlprtDataset *d) {
  double sum = 0, sq = 0;
  int64_t ntrain = d->n[MLPRT_TRAIN];
  for (int64_t i = 0; i < ntrain; i++) sum += d->target[MLPRT_TRAIN][i];
  d->y_mean = ntrain ? sum / (double)ntrain : 0;
  for (int64_t i = 0; i < ntrain; i++) sq += pow(d->target[MLPRT_TRAIN][i] - d->y_mean, 2);
  d->y_std = ntrain && sq > 0 ? sqrt(sq / (double)ntrain) : 1;
  for (int s = 0; s < 3; s++)
    for (int64_t i = 0; i < d->n[s]; i++) d->y[s][i] = (float)((d->target[s][i] - d->y_mean) / d->y_std);
}

/* What cleaning.json records: the source, the rows dropped, the splits,
 * the fitted steps (log), the features and the target. */
static cJSON *cleaning_record(const MlprtProgram *p, const char *path, const MlprtDataset *d,
                              const int64_t dropped[2], const MlprtCleanLog *log, int64_t nan_cells) {
  bool classify = p->models[0].task != MLPRT_TASK_REGRESSION;
  char *logtext = mlprt_clean_log_json(log);
  cJSON *rec = cJSON_CreateObject();
  cJSON_AddStringToObject(rec, "source", path);
  cJSON_AddNumberToObject(rec, "rows_dropped_missing_target", (double)dropped[0]);
  if (p->test_path) {
    cJSON *ts = cJSON_AddObjectToObject(rec, "test_source");
    cJSON_AddStringToObject(ts, "source", p->test_path);
    cJSON_AddNumberToObject(ts, "rows_dropped_missing_target", (double)dropped[1]);
  }
  cJSON *splits = cJSON_AddObjectToObject(rec, "splits");
  cJSON_AddNumberToObject(splits, "train", (double)d->n[MLPRT_TRAIN]);
  cJSON_AddNumberToObject(splits, "validation", (double)d->n[MLPRT_VALID]);
  cJSON_AddNumberToObject(splits, "test", (double)d->n[MLPRT_TEST]);
  cJSON *steps = logtext ? cJSON_Parse(logtext) : NULL;
  if (steps) cJSON_AddItemToObject(rec, "cleaning", steps);
  cJSON_AddNumberToObject(rec, "features", (double)d->F);
  cJSON_AddNumberToObject(rec, "missing_features_set_to_zero", (double)nan_cells);
  cJSON *tj = cJSON_AddObjectToObject(rec, "target");
  cJSON_AddStringToObject(tj, "column", p->target);
  if (classify) {
    cJSON_AddItemToObject(tj, "classes",
                          cJSON_CreateStringArray((const char *const *)d->class_names, d->nclasses));
  } else {
    cJSON_AddNumberToObject(tj, "mean", d->y_mean);
    cJSON_AddNumberToObject(tj, "std", d->y_std);
  }
  free(logtext);
  return rec;
}

/* ---- out of core: the feature cache ------------------------------------ */

/* A chunk of rows takes about memory_mb / CHUNK_SHARE of memory as loaded
 * (four bytes a cell), and as many again cleaned and written. */
#define CHUNK_SHARE 64
#define COLUMN_BLOCK 1024 /* rows a column is read by, out of core */

bool mlprt_prep_out_of_core(const MlprtProgram *p, const char *path) {
  if (p->out_of_core != MLPRT_OOC_AUTO) return p->out_of_core == MLPRT_OOC_ON;
  if (p->memory_mb <= 0 || mlprt_format_sql(p->data_format)) return false;
  int64_t bytes = 0;
  for (const char *s = path; s && *s;) {
    const char *nl = strchr(s, '\n');
    char *one = strndup(s, nl ? (size_t)(nl - s) : strlen(s));
    struct stat st;
    if (stat(one, &st) == 0 && S_ISREG(st.st_mode)) bytes += st.st_size;
    free(one);
    s = nl ? nl + 1 : NULL;
  }
  return bytes > p->memory_mb << 20;
}

/* What keeps p's data from streaming, or NULL: the program's side of the
 * compiler's checks of out_of_core = on, for auto. buf holds a step's. */
static const char *no_stream(const MlprtProgram *p, const char *path, char *buf, size_t n) {
  const char *what;
  if (p->data_path2) return "IDX images";
  if (!p->data_format || strcmp(p->data_format, "csv") != 0) return "a source other than a CSV file";
  if (strchr(path, '\n')) return "several sources";
  if (p->test_path) return "a test_source";
  if (p->split_group || p->split_time) return "a grouped or time-ordered split";
  for (int64_t m = 0; m < p->nmodels; m++)
    if (p->models[m].fit != MLPRT_FIT_NETWORK) return "a model fitted on all rows at once";
  for (int64_t i = 0; i < p->nclean; i++)
    if (!mlprt_clean_step_streams(p->clean[i].op, p->clean[i].method)) {
      snprintf(buf, n, "cleaning step %lld (%s)", (long long)i + 1, mlprt_clean_op_name(p->clean[i].op));
      return buf;
    }
  if (mlprt_source_kind(path, &what) != MLPRT_SRC_FILE) return "a source that is not a regular file";
  return NULL;
}

/* A cache under construction. */
typedef struct {
  const MlprtProgram *p;
  const char *path;
  MlprtSourceDesc src;
  int64_t chunk_rows;
  MlprtTable tt;      /* the target of every row that has one, in order, and (once split) its part */
  MlprtFit *fits;     /* [nclean] the fitted steps (none for drop_columns) */
  int64_t **changed;  /* [nclean][the fit's columns] cells the last pass's applies changed */
  int64_t dropped;    /* rows without a target */
  int64_t passes;
  char *err;
  size_t n;
} Cache;

/* What a pass hands each chunk to: the chunk, the target's name string
 * in it, and where its first row is among all rows with a target. */
typedef int (*ChunkFn)(Cache *c, MlprtTable *t, const char *tname, int64_t at, void *ctx);

/* The columns step st takes in chunk t (select_cols). */
static MlprtCols step_cols(const MlprtTable *t, const MlprtCleanStep *st, const char *tname,
                           const char **buf) {
  return select_cols(t, st, st->columns_idx, st->ncolumns_idx, st->select, st->columns, tname, buf);
}

/* Step j, fitted, on a chunk. */
static int apply_step(Cache *c, int64_t j, MlprtTable *t, const char *tname) {
  const MlprtCleanStep *st = &c->p->clean[j];
  MlprtError e;
  int rc = step_layout(t, st, &e);
  if (rc == 0 && st->op == MLPRT_CLEAN_DROP_COLUMNS) {
    const char **buf = malloc((size_t)(t->ncols + 1) * sizeof *buf);
    MlprtCols sel = step_cols(t, st, tname, buf);
    drop_selected(t, sel);
    free_cols(st, st->select, sel);
    free(buf);
  } else if (rc == 0) {
    rc = mlprt_fit_apply(t, &c->fits[j], NULL, &e);
    for (int i = 0; rc == 0 && i < c->fits[j].n; i++) c->changed[j][i] += c->fits[j].cols[i].changed;
  }
  if (rc == 0) return 0;
  char msg[768];
  mlprt_error_format(&e, msg, sizeof msg);
  snprintf(c->err, c->n, "%s: cleaning step %lld (%s): %s", c->path, (long long)j + 1,
           mlprt_clean_op_name(st->op), msg);
  return -1;
}

/* One pass over the source, a chunk of rows at a time: each row numbered
 * as loaded, the rows without a target dropped, the split's parts given
 * (once known), loaded(...) called on the rows as loaded, the fitted steps
 * before `upto` applied, then cleaned(...). */
static int cache_pass(Cache *c, int64_t upto, ChunkFn loaded, ChunkFn cleaned, void *ctx) {
  MlprtError e;
  MlprtChunks *ch = mlprt_chunks_open(&c->src, c->chunk_rows, &e);
  if (!ch) return fail_with(&e, c->err, c->n);
  c->passes++;
  c->dropped = 0;
  int64_t read = 0, at = 0;
  int k, rc = 0;
  MlprtTable t;
  while (rc == 0 && (k = mlprt_chunks_next(ch, &t, &e)) == 1) {
    for (int i = 0; i < t.ncols; i++) t.cols[i].origin = i + 1;
    t.rowid = malloc((size_t)t.cap_rows * sizeof *t.rowid);
    for (int64_t r = 0; r < t.nrows; r++) t.rowid[r] = read + r + 1;
    read += t.nrows;
    int tc = mlprt_table_find(&t, c->p->target);
    if (tc < 0) {
      snprintf(c->err, c->n, "%s: no target column '%s'", c->path, c->p->target);
      rc = -1;
    } else {
      const char *tname = t.cols[tc].name;
      c->dropped += drop_missing_target(&t, tc);
      int64_t rows = t.nrows;
      if (c->tt.part) {
        t.part = malloc((size_t)t.cap_rows);
        memcpy(t.part, c->tt.part + at, (size_t)rows);
      }
      if (loaded) rc = loaded(c, &t, tname, at, ctx);
      for (int64_t j = 0; rc == 0 && j < upto; j++) rc = apply_step(c, j, &t, tname);
      if (rc == 0 && cleaned) rc = cleaned(c, &t, tname, at, ctx);
      at += rows;
    }
    mlprt_table_free(&t);
  }
  if (rc == 0 && k < 0) rc = fail_with(&e, c->err, c->n);
  mlprt_chunks_close(ch);
  malloc_trim(0); /* the chunks' memory goes back to the system, not only to the heap */
  return rc;
}

/* The first pass's: every target into c->tt, as loaded; *schema (ctx)
 * from the first chunk. */
static int take_targets(Cache *c, MlprtTable *t, const char *tname, int64_t at, void *ctx) {
  char **schema = ctx;
  const MlprtColumn *src = &t->cols[target_col(t, tname)];
  if (!*schema) {
    *schema = schema_text(t);
    mlprt_table_init(&c->tt);
    mlprt_table_add_column(&c->tt, src->name, src->type);
  }
  int64_t n = t->nrows, from = c->tt.nrows;
  if (from + n > c->tt.cap_rows) mlprt_table_reserve(&c->tt, 2 * (from + n));
  MlprtColumn *o = &c->tt.cols[0];
  for (int64_t r = 0; r < n; r++) {
    int64_t w = from + r;
    switch (src->type) {
    case MLPRT_COL_FLOAT:
    case MLPRT_COL_INT: o->f[w] = src->f[r]; break;
    case MLPRT_COL_BOOL: o->b[w] = src->b[r]; break;
    case MLPRT_COL_CATEGORY: {
      int32_t code = src->codes[r];
      o->codes[w] = mlprt_levels_intern(&o->levels, src->levels.names[code], src->levels.len[code]);
      break;
    }
    case MLPRT_COL_TEXT: {
      const char *s = mlprt_text_at(src, r);
      mlprt_text_set(o, w, s, strlen(s));
      break;
    }
    default: o->t[w] = src->t[r]; break;
    }
  }
  c->tt.nrows += n;
  return 0;
}

/* A fitting pass's: the stream of step j (ctx), opened on the first chunk. */
typedef struct {
  int64_t j;
  MlprtFitStream *fs;
} Fitting;

static int fit_chunk(Cache *c, MlprtTable *t, const char *tname, int64_t at, void *ctx) {
  Fitting *g = ctx;
  const MlprtCleanStep *st = &c->p->clean[g->j];
  MlprtError e;
  if (!g->fs) {
    if (step_layout(t, st, &e) != 0) return fail_with(&e, c->err, c->n);
    const char **buf = malloc((size_t)(t->ncols + 1) * sizeof *buf);
    MlprtCols sel = step_cols(t, st, tname, buf);
    if (st->op == MLPRT_CLEAN_IMPUTE) {
      MlprtImputeParams ip = impute_params(st, sel);
      g->fs = mlprt_impute_stream(t, &ip, &e);
    } else {
      MlprtScaleParams sp = scale_params(st, sel);
      g->fs = mlprt_scale_stream(t, &sp, &e);
    }
    free_cols(st, st->select, sel);
    free(buf);
    if (!g->fs) {
      char msg[768];
      mlprt_error_format(&e, msg, sizeof msg);
      snprintf(c->err, c->n, "%s: cleaning step %lld (%s): %s", c->path, (long long)g->j + 1,
               mlprt_clean_op_name(st->op), msg);
      return -1;
    }
  }
  mlprt_fit_stream_add(g->fs, t);
  return 0;
}

/* Fit step j on every chunk cleaned by the steps before it. */
static int fit_step(Cache *c, int64_t j) {
  Fitting g = {j, NULL};
  int rc = cache_pass(c, j, NULL, fit_chunk, &g);
  if (!g.fs) return rc;
  MlprtError e;
  int closed = mlprt_fit_stream_close(g.fs, &c->fits[j], &e);
  if (rc == 0 && closed != 0) {
    char msg[768];
    mlprt_error_format(&e, msg, sizeof msg);
    snprintf(c->err, c->n, "%s: cleaning step %lld (%s): %s", c->path, (long long)j + 1,
             mlprt_clean_op_name(c->p->clean[j].op), msg);
    rc = -1;
  }
  c->changed[j] = calloc((size_t)(c->fits[j].n ? c->fits[j].n : 1), sizeof **c->changed);
  return rc;
}

/* The last pass's state: the dataset being filled and the cache's files. */
typedef struct {
  MlprtDataset *d;
  FILE *file[3];        /* split s's features, F floats a row */
  int64_t pos[3];       /* rows of each split so far */
  float *buf;           /* [chunk_rows, F] */
  int64_t nan_cells;
  MlprtTable layout;    /* the cleaned columns, without rows */
  const char *layout_target;
} Writing;

/* Keep, before cleaning, the tested split's rows (test_rows.csv) and the
 * training rows' ranges (reference.json), merged over the chunks. */
static int keep_loaded(Cache *c, MlprtTable *t, const char *tname, int64_t at, void *ctx) {
  MlprtDataset *d = ((Writing *)ctx)->d;
  int64_t cnt[3];
  mlprt_split_counts(t, cnt);
  MlprtTable one;
  keep_split(t, d->raw_split, cnt[d->raw_split], &one);
  MlprtError e;
  int rc = 0;
  if (!d->raw.cols) {
    d->raw = one;
    mlprt_table_reserve(&d->raw, d->n[d->raw_split]); /* once: no regrowth */
  } else {
    rc = mlprt_table_append(&d->raw, &one, &e);
    mlprt_table_free(&one);
  }
  cJSON *in = raw_inputs(t, target_col(t, tname));
  if (!d->inputs) {
    d->inputs = in;
    return rc;
  }
  for (int i = 0; i < cJSON_GetArraySize(in); i++) {
    cJSON *a = cJSON_GetArrayItem(d->inputs, i), *b = cJSON_GetArrayItem(in, i);
    static const char *const ends[2] = {"min", "max"};
    for (int k = 0; k < 2; k++) {
      cJSON *x = cJSON_GetObjectItem(a, ends[k]), *y = cJSON_GetObjectItem(b, ends[k]);
      bool take = cJSON_IsNumber(y) && (!cJSON_IsNumber(x) || (k == 0 ? y->valuedouble < x->valuedouble
                                                                       : y->valuedouble > x->valuedouble));
      if (take) cJSON_ReplaceItemInObject(a, ends[k], cJSON_CreateNumber(y->valuedouble));
    }
    cJSON *la = cJSON_GetObjectItem(a, "levels"), *lb = cJSON_GetObjectItem(b, "levels");
    if (!la || !lb) continue;
    int na = cJSON_GetArraySize(la), nb = cJSON_GetArraySize(lb), m = 0;
    const char **names = malloc((size_t)(na + nb + 1) * sizeof *names);
    for (int l = 0; l < na; l++) names[m++] = cJSON_GetArrayItem(la, l)->valuestring;
    for (int l = 0; l < nb; l++) names[m++] = cJSON_GetArrayItem(lb, l)->valuestring;
    qsort(names, (size_t)m, sizeof *names, cmp_str);
    int u = 0;
    for (int l = 0; l < m; l++)
      if (u == 0 || strcmp(names[l], names[u - 1]) != 0) names[u++] = names[l];
    cJSON_ReplaceItemInObject(a, "levels", cJSON_CreateStringArray(names, u));
    free(names);
  }
  cJSON_Delete(in);
  return rc;
}

/* The cleaned chunk's features into the cache, its targets into d. */
static int write_chunk(Cache *c, MlprtTable *t, const char *tname, int64_t at, void *ctx) {
  Writing *w = ctx;
  MlprtDataset *d = w->d;
  int tc = target_col(t, tname);
  int64_t rows;
  if (!w->layout.cols) {
    int64_t F = mlprt_table_features(t, -1, tc, NULL, &rows);
    if (F != c->p->n_features) {
      snprintf(c->err, c->n, "%s: the data gives %lld features but the program was compiled for %lld",
               c->path, (long long)F, (long long)c->p->n_features);
      return -1;
    }
    d->feature_source = feature_sources(t, tc, d->schema, F);
    mlprt_table_like(&w->layout, t);
    for (int i = 0; i < t->ncols; i++) w->layout.cols[i].origin = t->cols[i].origin;
    w->layout_target = w->layout.cols[tc].name;
  }
  for (int s = 0; s < 3; s++) {
    mlprt_table_features(t, s, tc, w->buf, &rows);
    for (int64_t i = 0; i < rows * d->F; i++)
      if (isnan(w->buf[i])) w->buf[i] = 0, w->nan_cells++;
    if (rows && fwrite(w->buf, sizeof *w->buf, (size_t)(rows * d->F), w->file[s]) != (size_t)(rows * d->F)) {
      snprintf(c->err, c->n, "cannot write the feature cache: %s", strerror(errno));
      return -1;
    }
  }
  const MlprtModel *m = &c->p->models[0];
  for (int64_t r = 0; r < t->nrows; r++) {
    int s = t->part[r];
    int64_t i = w->pos[s]++;
    if (m->task == MLPRT_TASK_REGRESSION) {
      d->target[s][i] = num_at(&t->cols[tc], r);
      continue;
    }
    int32_t k = class_of(t, tc, r, d->class_names, d->nclasses);
    d->label[s][i] = k;
    if (m->task == MLPRT_TASK_BINARY) d->y[s][i] = (float)k;
    else d->y[s][i * d->K + k] = 1;
  }
  return 0;
}

/* A file for one split's features in dir, already unlinked: it lives
 * while it is open, and a run that stops leaves nothing behind. */
static FILE *cache_file(const char *dir, char *err, size_t n) {
  size_t len = strlen(dir) + 32;
  char *name = malloc(len);
  snprintf(name, len, "%s/.feature-cache-XXXXXX", dir);
  int fd = mkstemp(name);
  FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
  if (!f) snprintf(err, n, "cannot create a feature cache in '%s': %s", dir, strerror(errno));
  else unlink(name);
  free(name);
  return f;
}

/* Keep split s's cache file open for reading (its rows of F floats). */
static int keep_split_file(MlprtDataset *d, int s, FILE *f, char *err, size_t n) {
  int fd = fflush(f) == 0 ? dup(fileno(f)) : -1;
  if (fd < 0) {
    snprintf(err, n, "cannot write the feature cache: %s", strerror(errno));
    return -1;
  }
  d->cache_fd[s] = fd;
  d->cache_bytes += d->n[s] * d->F * (int64_t)sizeof(float);
  return 0;
}

/* What the run keeps in memory per row besides the cache, which must fit
 * half of memory_mb: each row's place in the epoch's order (and folds),
 * target and label, the outputs kept on the training and tested rows,
 * and the tested rows as loaded (4 bytes a cell, 8 its id) with the error
 * analysis's keys and losses (about 48 bytes) and, for feature importance,
 * a copy of their features and the cache's pages under them. */
static int rows_fit(const MlprtProgram *p, const MlprtDataset *d, int ncols, char *err, size_t n) {
  int64_t rows = d->n[MLPRT_TRAIN] + d->n[MLPRT_VALID] + d->n[MLPRT_TEST], tested = d->n[d->raw_split];
  double K = (double)d->K, F = (double)d->F;
  double per_row = 8 + 4 + 4 * K + (p->nfolds > 0 ? 4.0 * (double)p->nfolds : 0);
  double per_tested = 4 * K + 4.0 * ncols + 8 + 48 + (p->feature_importance ? 2 * 4 * F + 4 * K + 8 : 0);
  double bytes = (double)rows * per_row + (double)d->n[MLPRT_TRAIN] * 4 * K + (double)tested * per_tested;
  if (bytes <= (double)(p->memory_mb << 20) / 2) return 0;
  snprintf(err, n,
           "out of core, the %lld rows still keep %.1f MiB in memory (each row's place in the epoch's order, "
           "its target and outputs, and the %lld tested rows as loaded for test_rows.csv and the error "
           "analysis), more than half of memory_mb = %lld; raise memory_mb",
           (long long)rows, bytes / 1048576.0, (long long)tested, (long long)p->memory_mb);
  return -1;
}

/* Out of core: a first pass reads the targets (the split needs their
 * count, and a stratified one their values), each fitted step gets a pass
 * of its own over the rows cleaned by the steps before it, and a last pass
 * cleans every row and writes its features to the cache. */
static int prep_cache(const MlprtProgram *p, const char *path, const char *dir, MlprtDataset *d, char *err,
                      size_t n) {
  char buf[128];
  const char *why = no_stream(p, path, buf, sizeof buf);
  if (why) {
    snprintf(err, n,
             "%s: out of core (the data is larger than memory_mb = %lld, or out_of_core = on), %s cannot "
             "run: it needs every row in memory; raise memory_mb or set environment.out_of_core = off",
             path, (long long)p->memory_mb, why);
    return -1;
  }
  Cache c = {.p = p,
             .path = path,
             .src = {.paths = path,
                     .format = p->data_format,
                     .delim = (char)p->delimiter,
                     .no_header = p->no_header != 0,
                     .na_values = p->na_values,
                     .schema = p->schema},
             .fits = calloc((size_t)p->nclean + 1, sizeof *c.fits),
             .changed = calloc((size_t)p->nclean + 1, sizeof *c.changed),
             .err = err,
             .n = n};
  int64_t cols = 1;
  for (const char *s = p->schema; s && *s; s++) cols += *s == '\n';
  int64_t width = 4 * (cols > p->n_features ? cols : p->n_features);
  c.chunk_rows = (p->memory_mb << 20) / CHUNK_SHARE / width;
  c.chunk_rows = c.chunk_rows < 64 ? 64 : c.chunk_rows > 65536 ? 65536 : c.chunk_rows;
  const MlprtModel *m = &p->models[0];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  Writing w = {.d = d};
  int rc = cache_pass(&c, 0, take_targets, NULL, &d->schema);
  if (rc == 0 && !d->schema) {
    snprintf(err, n, "%s: no data rows", path);
    rc = -1;
  }
  if (rc == 0) rc = split_table(p, &c.tt, err, n);
  if (rc == 0) {
    mlprt_split_counts(&c.tt, d->n);
    d->raw_split = d->n[MLPRT_TEST] > 0 ? MLPRT_TEST : MLPRT_VALID;
    d->F = p->n_features;
    d->K = m->n_out;
    int ncols = 1;
    for (const char *s = d->schema; *s; s++) ncols += *s == '\n';
    rc = rows_fit(p, d, ncols, err, n);
  }
  if (rc == 0 && classify) {
    d->nclasses = target_classes(&c.tt, 0, &d->class_names);
    if (d->nclasses != p->n_classes) {
      snprintf(err, n, "%s: target '%s' has %d classes but the program was compiled for %lld", path,
               p->target, d->nclasses, (long long)p->n_classes);
      rc = -1;
    }
  }
  for (int64_t j = 0; rc == 0 && j < p->nclean; j++)
    if (p->clean[j].op != MLPRT_CLEAN_DROP_COLUMNS) rc = fit_step(&c, j);
  for (int s = 0; rc == 0 && s < 3; s++) {
    size_t nr = (size_t)(d->n[s] ? d->n[s] : 1);
    d->y[s] = mlprt_alloc_aligned(nr * (size_t)d->K * sizeof(float));
    if (classify) d->label[s] = malloc(nr * sizeof(int32_t));
    else d->target[s] = malloc(nr * sizeof(float));
    w.file[s] = cache_file(dir, err, n);
    if (!w.file[s]) rc = -1;
  }
  if (rc == 0) {
    w.buf = malloc((size_t)c.chunk_rows * (size_t)(d->F ? d->F : 1) * sizeof *w.buf);
    for (int64_t j = 0; j < p->nclean; j++)
      if (c.changed[j]) memset(c.changed[j], 0, (size_t)c.fits[j].n * sizeof **c.changed);
    rc = cache_pass(&c, p->nclean, keep_loaded, write_chunk, &w);
  }
  d->cache_fd = malloc(3 * sizeof *d->cache_fd);
  for (int s = 0; s < 3; s++) d->cache_fd[s] = -1;
  for (int s = 0; rc == 0 && s < 3; s++) rc = keep_split_file(d, s, w.file[s], err, n);
  if (rc == 0) {
    if (!classify) scale_targets(d);
    int nsrc = 0;
    for (const char *s = d->schema; *s; s++) nsrc += *s == '\n';
    keep_read_inputs(&w.layout, w.layout_target, nsrc, d->inputs);
  }
  for (int s = 0; s < 3; s++)
    if (w.file[s]) fclose(w.file[s]);
  free(w.buf);
  if (rc == 0) {
    /* the log as the whole table's applies would have written it */
    MlprtCleanLog *log = mlprt_clean_log_new(path);
    int64_t rows = c.tt.nrows;
    for (int64_t j = 0; j < p->nclean; j++) {
      if (!c.changed[j]) continue;
      MlprtFit *f = &c.fits[j];
      for (int i = 0; i < f->n; i++) f->cols[i].changed = c.changed[j][i], f->cols[i].dropped = 0;
      f->rows_before = f->rows_after = rows;
      mlprt_log_fit(log, f);
    }
    int64_t dropped[2] = {c.dropped, 0};
    d->cleaning = cleaning_record(p, path, d, dropped, log, w.nan_cells);
    mlprt_clean_log_free(log);
    sha256_sources(&path, 1, d->sha256);
    d->cache_passes = c.passes;
  }
  mlprt_table_free(&w.layout);
  mlprt_table_free(&c.tt);
  for (int64_t j = 0; j < p->nclean; j++) {
    mlprt_fit_free(&c.fits[j]);
    free(c.changed[j]);
  }
  free(c.fits);
  free(c.changed);
  return rc;
}

int mlprt_prep_load(const MlprtProgram *p, const char *path, const char *dir, MlprtDataset *d, char *err,
                    size_t n) {
  memset(d, 0, sizeof *d);
  if (mlprt_prep_out_of_core(p, path)) return prep_cache(p, path, dir, d, err, n);
  if (p->data_path2) return prep_load_idx(p, path, p->data_path2, d, err, n);
  MlprtTable t;
  MlprtCleanLog *log;
  int64_t dropped[2];
  const char *tname;
  int32_t *group_at = NULL;
  bool sparse = p->models[0].sparse_in;
  if (prepare_table(p, path, &t, &tname, &log, dropped, &d->schema, &d->raw, &d->raw_split, &d->inputs,
                    &group_at, d->sha256, d->test_sha256, sparse, err, n) != 0)
    return -1;
  const MlprtModel *m = &p->models[0];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  int tc = target_col(&t, tname);
  int64_t rows;
  d->F = mlprt_table_features(&t, -1, tc, NULL, &rows);
  d->K = m->n_out;
  int rc = 0;
  if (d->F != p->n_features) {
    snprintf(err, n, "%s: the data gives %lld features but the program was compiled for %lld", path,
             (long long)d->F, (long long)p->n_features);
    rc = -1;
  }
  if (rc == 0 && classify) {
    d->nclasses = target_classes(&t, tc, &d->class_names);
    if (d->nclasses != p->n_classes) {
      snprintf(err, n, "%s: target '%s' has %d classes but the program was compiled for %lld", path,
               p->target, d->nclasses, (long long)p->n_classes);
      rc = -1;
    }
  }
  if (rc != 0) {
    mlprt_clean_log_free(log);
    mlprt_table_free(&t);
    free(group_at);
    return -1;
  }
  int nsrc = 0;
  for (const char *s = d->schema; s && *s; s++) nsrc += *s == '\n';
  d->feature_source = feature_sources(&t, tc, d->schema, d->F);
  keep_read_inputs(&t, tname, nsrc, d->inputs);
  mlprt_split_counts(&t, d->n);
  int64_t nan_cells = 0;
  if (sparse) d->sx = calloc(3, sizeof *d->sx);
  for (int s = 0; s < 3; s++) {
    size_t nr = (size_t)(d->n[s] ? d->n[s] : 1);
    d->y[s] = mlprt_alloc_aligned(nr * (size_t)d->K * sizeof(float));
    if (classify)
      d->label[s] = malloc(nr * sizeof(int32_t));
    else
      d->target[s] = malloc(nr * sizeof(float));
    if (group_at) d->group[s] = malloc(nr * sizeof(int32_t));
    /* A value no step filled in would poison every gradient: it counts as 0. */
    if (sparse) {
      nan_cells += mlprt_table_features_csr(&t, s, tc, &d->sx[s]);
      continue;
    }
    d->x[s] = mlprt_alloc_aligned(nr * (size_t)d->F * sizeof(float));
    mlprt_table_features(&t, s, tc, d->x[s], &rows);
    for (size_t i = 0; i < (size_t)d->n[s] * (size_t)d->F; i++)
      if (isnan(d->x[s][i])) {
        d->x[s][i] = 0;
        nan_cells++;
      }
  }
  if (sparse) sparse_batch(p, d);
  /* Targets, split by split in row order (the order of the features). */
  const MlprtColumn *tcol = &t.cols[tc];
  int64_t pos[3] = {0, 0, 0};
  for (int64_t r = 0; r < t.nrows; r++) {
    int s = t.part ? t.part[r] : MLPRT_TRAIN;
    int64_t i = pos[s]++;
    if (group_at && s != MLPRT_TEST) d->group[s][i] = group_at[t.rowid[r]];
    if (classify) {
      int32_t k = class_of(&t, tc, r, d->class_names, d->nclasses);
      d->label[s][i] = k;
      if (m->task == MLPRT_TASK_BINARY)
        d->y[s][i] = (float)k;
      else
        d->y[s][i * d->K + k] = 1;
    } else {
      d->target[s][i] = num_at(tcol, r);
    }
  }
  if (!classify) scale_targets(d);
  d->cleaning = cleaning_record(p, path, d, dropped, log, nan_cells);
  free(group_at);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
  return 0;
}

void mlprt_dataset_put(const MlprtDataset *d, void *x, int64_t i, int s, int64_t row) {
  if (!d->sx) {
    mlprt_dataset_row(d, s, row, (float *)x + i * d->F);
    return;
  }
  MlprtCsr *b = d->batch;
  const MlprtCsr *m = &d->sx[s];
  int64_t at = b->ptr[i], k = m->ptr[row], len = m->ptr[row + 1] - k;
  memcpy(b->col + at, m->col + k, (size_t)len * sizeof *b->col);
  memcpy(b->val + at, m->val + k, (size_t)len * sizeof *b->val);
  b->ptr[i + 1] = at + len;
  *(MlprtSparseBatch *)x = (MlprtSparseBatch){b->ptr, b->col, b->val};
}

void mlprt_dataset_rows(const MlprtDataset *d, int s, int64_t row, int64_t n, float *out) {
  size_t bytes = (size_t)(n * d->F) * sizeof *out;
  if (!d->cache_fd) {
    memcpy(out, d->x[s] + row * d->F, bytes);
    return;
  }
  off_t at = (off_t)(row * d->F) * (off_t)sizeof *out;
  for (size_t got = 0; got < bytes;) {
    ssize_t k = pread(d->cache_fd[s], (char *)out + got, bytes - got, at + (off_t)got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) MLPRT_FATAL("cannot read the feature cache: %s", k < 0 ? strerror(errno) : "it is short");
    got += (size_t)k;
  }
}

void mlprt_dataset_column(const MlprtDataset *d, int s, int64_t k, float *out) {
  int64_t n = d->n[s], F = d->F;
  if (!d->cache_fd) {
    for (int64_t i = 0; i < n; i++) out[i] = d->x[s][i * F + k];
    return;
  }
  float *block = malloc((size_t)(COLUMN_BLOCK * F) * sizeof *block);
  for (int64_t i0 = 0; i0 < n; i0 += COLUMN_BLOCK) {
    int64_t nb = n - i0 < COLUMN_BLOCK ? n - i0 : COLUMN_BLOCK;
    mlprt_dataset_rows(d, s, i0, nb, block);
    for (int64_t i = 0; i < nb; i++) out[i0 + i] = block[i * F + k];
  }
  free(block);
}

void mlprt_dataset_row(const MlprtDataset *d, int s, int64_t row, float *out) {
  if (d->sx) {
    const MlprtCsr *m = &d->sx[s];
    memset(out, 0, (size_t)d->F * sizeof *out);
    for (int64_t k = m->ptr[row]; k < m->ptr[row + 1]; k++) out[m->col[k]] = m->val[k];
    return;
  }
  if (!d->pixels) {
    mlprt_dataset_rows(d, s, row, 1, out);
    return;
  }
  const uint8_t *px = d->pixels + d->pixel_row[s][row] * d->F;
  for (int64_t f = 0; f < d->F; f++) out[f] = px[f] / 255.0f;
}

void mlprt_prep_free(MlprtDataset *d) {
  free(d->pixels);
  for (int s = 0; d->sx && s < 3; s++) mlprt_csr_free(&d->sx[s]);
  free(d->sx);
  if (d->batch) mlprt_csr_free(d->batch);
  free(d->batch);
  for (int s = 0; s < 3; s++) {
    free(d->pixel_row[s]);
    mlprt_free_aligned(d->x[s]);
    if (d->cache_fd && d->cache_fd[s] >= 0) close(d->cache_fd[s]);
    mlprt_free_aligned(d->y[s]);
    free(d->label[s]);
    free(d->target[s]);
    free(d->group[s]);
  }
  for (int i = 0; i < d->nclasses; i++) free(d->class_names[i]);
  free(d->class_names);
  cJSON_Delete(d->cleaning);
  mlprt_table_free(&d->raw);
  cJSON_Delete(d->inputs);
  free(d->schema);
  for (int64_t f = 0; d->feature_source && f < d->F; f++) free(d->feature_source[f]);
  free(d->feature_source);
  free(d->cache_fd);
  memset(d, 0, sizeof *d);
}

int mlprt_prep_export(const MlprtProgram *p, const char *path, const char *dir, char *err, size_t n) {
  if (p->data_path2) {
    snprintf(err, n, "%s: IDX images have no cleaned table to export", path);
    return -1;
  }
  if (mlprt_prep_out_of_core(p, path)) {
    snprintf(err, n, "%s: the data is read out of core, and exporting its cleaned table needs it in memory",
             path);
    return -1;
  }
  MlprtTable t;
  MlprtCleanLog *log;
  int64_t dropped[2];
  const char *tname;
  if (prepare_table(p, path, &t, &tname, &log, dropped, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false,
                    err, n) != 0)
    return -1;
  mlprt_clean_log_free(log);
  int rc = 0;
  if (mlprt_mkdirs(dir) != 0) {
    snprintf(err, n, "cannot create '%s': %s", dir, strerror(errno));
    rc = -1;
  }
  static const char *const files[3] = {"train.csv", "validation.csv", "test.csv"};
  for (int s = 0; s < 3 && rc == 0; s++) {
    size_t len = strlen(dir) + strlen(files[s]) + 2;
    char *file = malloc(len);
    snprintf(file, len, "%s/%s", dir, files[s]);
    MlprtError e;
    if (mlprt_table_write_csv(&t, file, s, &e) != 0) rc = fail_with(&e, err, n);
    free(file);
  }
  mlprt_table_free(&t);
  return rc;
}
