/* draft.c — `mlpc init DATA`: a first spec written from a data file.
 *
 * Consumes a CSV or JSON file, read whole through the data layer (the
 * types it infers are the ones a program built from the spec will load
 * with); produces the column report and the spec text (draft.h). The
 * decisions, column by column, in order: the target; a column left out
 * (one value, an identifier, a suspected leak, a date or free text, which
 * this first spec does not derive features from); else a number (median
 * imputation when it has gaps, standardization), a boolean (mode
 * imputation) or a category (mode imputation, one-hot). */
#include "draft.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/clean.h"
#include "mlp/data.h"

/* A target with at most this many distinct whole numbers is a class label. */
enum { MAX_INT_CLASSES = 20 };
/* One-hot levels kept per category column (the rest share one column). */
enum { ONEHOT_LEVELS = 20 };
/* A column that alone gets this share of rows right is a suspected leak. */
#define LEAK_SHARE 0.99
/* Rows a column needs before "every row has its own value" means an identifier. */
enum { ID_MIN_ROWS = 20 };

typedef enum { KEEP_NUMBER, KEEP_BOOL, KEEP_CATEGORY, KEEP_DATE, KEEP_TEXT, LEFT_OUT } Role;

/* The parts a date column gives (date_features), standardized with the numbers. */
static const int date_parts[] = {MLPRT_DATE_YEAR, MLPRT_DATE_MONTH, MLPRT_DATE_DAYOFWEEK};
enum { NDATE_PARTS = sizeof date_parts / sizeof *date_parts };
/* A text column's TF-IDF vocabulary: words and word pairs. */
enum { TEXT_VOCAB = 1000 };

typedef struct {
  const char *name;
  MlprtColType type;
  int64_t missing, distinct;
  double lo, hi;
  Role role;
  char why[160]; /* LEFT_OUT: the reason, a comment in the spec */
} Col;

typedef struct {
  const MlprtTable *t;
  int target;
  bool classify;
  int32_t *cls; /* [nrows] the target's class of each row, -1 missing (classification) */
  int nclasses;
  int64_t *ccount; /* [nclasses] rows per class */
  Col *cols;       /* [ncols] */
} Draft;

/* Distinct non-missing values of column c, counted through their text. */
static int64_t distinct_values(const MlprtTable *t, int c, MlprtLevels *lv, int32_t **code) {
  char buf[64];
  memset(lv, 0, sizeof *lv);
  *code = malloc((size_t)(t->nrows ? t->nrows : 1) * sizeof **code);
  for (int64_t r = 0; r < t->nrows; r++) {
    if (mlprt_is_missing(t, c, r)) {
      (*code)[r] = -1;
      continue;
    }
    const char *s = mlprt_cell_str(t, c, r, buf, sizeof buf);
    (*code)[r] = mlprt_levels_intern(lv, s, strlen(s));
  }
  return lv->n;
}

static bool has_space(const MlprtTable *t, int c) {
  char buf[64];
  for (int64_t r = 0; r < t->nrows; r++) {
    if (mlprt_is_missing(t, c, r)) continue;
    for (const char *s = mlprt_cell_str(t, c, r, buf, sizeof buf); *s; s++)
      if (isspace((unsigned char)*s)) return true;
  }
  return false;
}

/* "id", "ID", "user_id", "UserId": a name that says identifier. */
static bool id_named(const char *name) {
  size_t n = strlen(name);
  return n >= 2 && (name[n - 2] == 'i' || name[n - 2] == 'I') && (name[n - 1] == 'd' || name[n - 1] == 'D') &&
         (n == 2 || !isalpha((unsigned char)name[n - 3]) ||
          (name[n - 2] == 'I' && islower((unsigned char)name[n - 3])));
}

static double num_at(const MlprtColumn *c, int64_t r) {
  return c->type == MLPRT_COL_BOOL ? (c->b[r] == MLPRT_BOOL_NA ? NAN : c->b[r]) : c->f[r];
}

/* Of the rows with a value and a class, the share the best class of each
 * value gets right. */
static double value_purity(const Draft *in, const int32_t *code, int64_t nvalues) {
  int64_t *cnt = calloc((size_t)(nvalues * in->nclasses + 1), sizeof *cnt), n = 0, right = 0;
  for (int64_t r = 0; r < in->t->nrows; r++)
    if (code[r] >= 0 && in->cls[r] >= 0) cnt[code[r] * in->nclasses + in->cls[r]]++, n++;
  for (int64_t v = 0; v < nvalues; v++) {
    int64_t best = 0;
    for (int k = 0; k < in->nclasses; k++)
      best = cnt[v * in->nclasses + k] > best ? cnt[v * in->nclasses + k] : best;
    right += best;
  }
  free(cnt);
  return n ? (double)right / (double)n : 0;
}

typedef struct {
  double x;
  int32_t cls;
} Pair;

static int pair_cmp(const void *a, const void *b) {
  const Pair *p = a, *q = b;
  return p->x < q->x ? -1 : p->x > q->x ? 1 : p->cls - q->cls;
}

/* Sorted by the column's value, the share of neighbouring rows of one
 * class: near 1 when one threshold per class boundary separates them. */
static double sorted_agreement(const Draft *in, int c) {
  const MlprtColumn *col = &in->t->cols[c];
  Pair *p = malloc((size_t)(in->t->nrows ? in->t->nrows : 1) * sizeof *p);
  int64_t n = 0, same = 0;
  for (int64_t r = 0; r < in->t->nrows; r++) {
    double x = num_at(col, r);
    if (!isnan(x) && in->cls[r] >= 0) p[n++] = (Pair){x, in->cls[r]};
  }
  qsort(p, (size_t)n, sizeof *p, pair_cmp);
  for (int64_t i = 1; i < n; i++) same += p[i].cls == p[i - 1].cls;
  free(p);
  return n > 1 ? (double)same / (double)(n - 1) : 0;
}

/* The share two rows drawn at random agree on by class sizes alone. */
static double chance_agreement(const Draft *in) {
  int64_t n = 0;
  double s = 0;
  for (int k = 0; k < in->nclasses; k++) n += in->ccount[k];
  for (int k = 0; k < in->nclasses; k++)
    s += ((double)in->ccount[k] / (double)n) * ((double)in->ccount[k] / (double)n);
  return s;
}

static double correlation(const MlprtTable *t, int a, int b) {
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  int64_t n = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    double x = num_at(&t->cols[a], r), y = num_at(&t->cols[b], r);
    if (isnan(x) || isnan(y)) continue;
    sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y, n++;
  }
  if (n < 3) return 0;
  double vx = sxx - sx * sx / (double)n, vy = syy - sy * sy / (double)n;
  return vx > 0 && vy > 0 ? (sxy - sx * sy / (double)n) / sqrt(vx * vy) : 0;
}

static const char *class_name(const MlprtTable *t, int target, const int32_t *cls, int k, char *buf,
                              size_t n) {
  for (int64_t r = 0; r < t->nrows; r++)
    if (cls[r] == k) return mlprt_cell_str(t, target, r, buf, n);
  return "?";
}

/* A column filled in only for the rows of one class (or left empty only
 * for them): the value's presence tells the class. */
static bool filled_for_one_class(const Draft *in, int c, char *why, size_t n) {
  int64_t nr = in->t->nrows;
  for (int present = 1; present >= 0; present--) {
    int k = -1;
    int64_t rows = 0;
    bool one = true;
    for (int64_t r = 0; r < nr && one; r++) {
      if (in->cls[r] < 0 || (int)!mlprt_is_missing(in->t, c, r) != present) continue;
      if (k < 0) k = in->cls[r];
      one = in->cls[r] == k;
      rows++;
    }
    /* it tells the class only when the other rows are not of that class too */
    if (one && k >= 0 && rows >= 10 && rows < in->ccount[k] + 1 && in->ccount[k] < nr) {
      int64_t other = 0;
      for (int64_t r = 0; r < nr; r++)
        other += in->cls[r] == k && (int)!mlprt_is_missing(in->t, c, r) != present;
      if (other * 20 > in->ccount[k]) continue;
      char buf[64];
      snprintf(why, n, "suspected leak: %s only for rows whose target is %s", present ? "filled in" : "empty",
               class_name(in->t, in->target, in->cls, k, buf, sizeof buf));
      return true;
    }
  }
  return false;
}

static void decide(Draft *in, int c) {
  const MlprtTable *t = in->t;
  Col *col = &in->cols[c];
  const MlprtColumn *tc = &t->cols[c];
  col->name = tc->name;
  col->type = tc->type;
  col->lo = INFINITY, col->hi = -INFINITY;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (mlprt_is_missing(t, c, r)) {
      col->missing++;
      continue;
    }
    if (tc->type == MLPRT_COL_FLOAT || tc->type == MLPRT_COL_INT) {
      col->lo = fmin(col->lo, tc->f[r]);
      col->hi = fmax(col->hi, tc->f[r]);
    }
  }
  MlprtLevels lv;
  int32_t *code;
  col->distinct = distinct_values(t, c, &lv, &code);
  int64_t present = t->nrows - col->missing;
  bool discrete = tc->type != MLPRT_COL_FLOAT && tc->type != MLPRT_COL_DATETIME && tc->type != MLPRT_COL_TEXT;
  col->role = LEFT_OUT;
  if (c == in->target) {
    snprintf(col->why, sizeof col->why, "the target");
  } else if (col->distinct <= 1) {
    snprintf(col->why, sizeof col->why, col->distinct ? "holds one value" : "holds no value");
  } else if (present >= ID_MIN_ROWS && col->distinct == present &&
             ((tc->type == MLPRT_COL_INT &&
               (col->hi - col->lo < 2.0 * (double)present || id_named(tc->name))) ||
              ((tc->type == MLPRT_COL_CATEGORY || tc->type == MLPRT_COL_TEXT) && !has_space(t, c)))) {
    snprintf(col->why, sizeof col->why, "looks like an identifier: every row has its own value");
  } else if (in->classify && filled_for_one_class(in, c, col->why, sizeof col->why)) {
  } else if (in->classify && discrete && col->distinct * 5 < present &&
             value_purity(in, code, col->distinct) >= LEAK_SHARE && chance_agreement(in) < LEAK_SHARE) {
    snprintf(col->why, sizeof col->why, "suspected leak: its value alone gives the target for %.1f%% of rows",
             100 * value_purity(in, code, col->distinct));
  } else if (in->classify && (tc->type == MLPRT_COL_FLOAT || tc->type == MLPRT_COL_INT) &&
             col->distinct * 5 >= present && sorted_agreement(in, c) >= LEAK_SHARE + 0.005 &&
             chance_agreement(in) < LEAK_SHARE) {
    snprintf(col->why, sizeof col->why,
             "suspected leak: ordered by it, %.1f%% of neighbouring rows share a class",
             100 * sorted_agreement(in, c));
  } else if (!in->classify && (tc->type == MLPRT_COL_FLOAT || tc->type == MLPRT_COL_INT) &&
             fabs(correlation(t, c, in->target)) >= LEAK_SHARE + 0.005) {
    snprintf(col->why, sizeof col->why, "suspected leak: its correlation with the target is %.4f",
             correlation(t, c, in->target));
  } else if (tc->type == MLPRT_COL_DATETIME && col->missing) {
    snprintf(col->why, sizeof col->why,
             "a date with %lld missing values: fill or drop them, then date_features() can use it",
             (long long)col->missing);
  } else if (tc->type == MLPRT_COL_DATETIME) {
    col->role = KEEP_DATE;
  } else if (tc->type == MLPRT_COL_TEXT) {
    col->role = KEEP_TEXT;
  } else {
    col->role = tc->type == MLPRT_COL_BOOL       ? KEEP_BOOL
                : tc->type == MLPRT_COL_CATEGORY ? KEEP_CATEGORY
                                                 : KEEP_NUMBER;
  }
  free(code);
  mlprt_levels_free(&lv);
}

/* A column as the spec names it: an identifier when it is one (and no
 * selector word), else a string. */
static void put_name(FILE *f, const char *s) {
  static const char *const selectors[] = {"all", "numeric", "categorical", "text", "true", "false"};
  bool ident = isalpha((unsigned char)s[0]) || s[0] == '_';
  for (const char *p = s; *p && ident; p++) ident = isalnum((unsigned char)*p) || *p == '_';
  for (size_t i = 0; i < sizeof selectors / sizeof *selectors && ident; i++)
    ident = strcmp(s, selectors[i]) != 0;
  if (ident) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') fputc('\\', f);
    fputc(*p, f);
  }
  fputc('"', f);
}

/* The names of the columns with role r (only those with gaps when gaps is
 * set), ", " between, after n names already written; the new total. */
static int put_names(FILE *f, const Draft *in, int ncols, Role r, bool gaps, int n) {
  for (int c = 0; c < ncols; c++) {
    const Col *col = &in->cols[c];
    if (c == in->target || col->role != r || (gaps && !col->missing)) continue;
    if (n++) fputs(", ", f);
    put_name(f, col->name);
  }
  return n;
}

/* "[a, b, c]" of the columns with role r (and gaps when gaps is set). */
static void put_list(FILE *f, const Draft *in, int ncols, Role r, bool gaps) {
  fputc('[', f);
  put_names(f, in, ncols, r, gaps, 0);
  fputc(']', f);
}

static int count(const Draft *in, int ncols, Role r, bool gaps) {
  int n = 0;
  for (int c = 0; c < ncols; c++)
    n += c != in->target && in->cols[c].role == r && (!gaps || in->cols[c].missing);
  return n;
}

/* The data path as the spec must write it: relative to the spec's folder. */
static char *source_path(const char *data, const char *spec_path) {
  if (!spec_path || data[0] == '/') return strdup(data);
  char *d = realpath(data, NULL), *sdir = strdup(spec_path), *slash = strrchr(sdir, '/');
  if (slash) *slash = 0;
  char *s = realpath(slash ? (sdir[0] ? sdir : "/") : ".", NULL);
  free(sdir);
  if (!d || !s) {
    free(d);
    free(s);
    return strdup(data);
  }
  /* the common folder, then one ".." per folder of s below it */
  size_t k = 0, common = 0;
  while (d[k] && d[k] == s[k]) {
    if (d[k] == '/') common = k;
    k++;
  }
  if (!s[k] && d[k] == '/') common = k;
  if (common == 0) { /* only the root in common: the absolute path says it better */
    free(s);
    return d;
  }
  size_t len = strlen(d) + 3 * strlen(s) + 2;
  char *out = malloc(len), *w = out;
  *w = 0;
  for (const char *p = s + common; *p; p++)
    if (*p == '/') w += sprintf(w, "../");
  snprintf(w, len - (size_t)(w - out), "%s", d + common + 1);
  free(d);
  free(s);
  return out;
}

/* The pipeline's name: the data file's base name as an identifier. */
static void pipeline_name(const char *data, char *out, size_t n) {
  const char *base = strrchr(data, '/');
  base = base ? base + 1 : data;
  size_t k = 0;
  if (!isalpha((unsigned char)base[0]) && n > 2) out[k++] = 'd';
  for (const char *p = base; *p && *p != '.' && k + 1 < n; p++)
    out[k++] = isalnum((unsigned char)*p) ? *p : '_';
  out[k] = 0;
}

static void put_range(FILE *f, const Col *c, const MlprtTable *t, int i) {
  if (c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT) {
    if (c->lo <= c->hi) fprintf(f, "%g .. %g", c->lo, c->hi);
    return;
  }
  if (c->type != MLPRT_COL_CATEGORY && c->type != MLPRT_COL_BOOL) {
    fprintf(f, "%lld distinct", (long long)c->distinct);
    return;
  }
  fprintf(f, "%lld levels", (long long)c->distinct);
  if (c->type == MLPRT_COL_CATEGORY && t->cols[i].levels.n <= 4) {
    for (int32_t l = 0; l < t->cols[i].levels.n; l++)
      fprintf(f, "%s%s", l ? ", " : ": ", t->cols[i].levels.names[l]);
  }
}

static const char *fate(const Col *c) {
  switch (c->role) {
  case KEEP_NUMBER: return c->missing ? "median-imputed, standardized" : "standardized";
  case KEEP_BOOL: return c->missing ? "mode-imputed, 0/1" : "0/1";
  case KEEP_CATEGORY: return c->missing ? "mode-imputed, one-hot" : "one-hot";
  case KEEP_DATE: return "year, month, day of week, standardized";
  case KEEP_TEXT: return "cleaned, TF-IDF of words and word pairs";
  default: return c->why;
  }
}

static void report_columns(const Draft *in, FILE *f, const char *data) {
  const MlprtTable *t = in->t;
  int w = 6;
  for (int c = 0; c < t->ncols; c++) w = (int)strlen(t->cols[c].name) > w ? (int)strlen(t->cols[c].name) : w;
  w = w > 32 ? 32 : w;
  fprintf(f, "%s: %lld rows, %d columns\n", data, (long long)t->nrows, t->ncols);
  fprintf(f, "  %-*s  %-8s  %8s  %-28s  %s\n", w, "column", "type", "missing", "values", "in the spec");
  for (int c = 0; c < t->ncols; c++) {
    const Col *col = &in->cols[c];
    char range[128];
    FILE *m = fmemopen(range, sizeof range, "w");
    put_range(m, col, t, c);
    fclose(m);
    fprintf(f, "  %-*s  %-8s  %8lld  %-28.28s  %s\n", w, col->name, mlprt_col_type_name(col->type),
            (long long)col->missing, range, fate(col));
  }
}

/* The forest's trees: as many as keep a tuning fast, each as deep as a
 * bootstrap sample of the pool's rows could use (log2 of its rows, and
 * one), within a quarter of the storage a forest may take with the leaves
 * of every output (the classes, or one). */
enum { FOREST_TREES = 200 };
static int forest_depth(const Draft *in) {
  int outs = in->classify && in->nclasses > 2 ? in->nclasses : 1, depth = 4;
  double pool = (double)in->t->nrows * 0.8;
  while (depth < 16 && (double)(INT64_C(1) << depth) < 2 * pool &&
         (double)FOREST_TREES * (double)(INT64_C(1) << (depth + 1)) * (outs + 2) <= (64 * 262144) / 4)
    depth++;
  return depth;
}

/* The model families the spec's tuning compares, as architectures: a
 * network (one sigmoid unit for two classes, as the models fitted at once
 * answer), a linear model, a random forest and boosted trees, each sized to
 * train in seconds on a few thousand rows. */
static void write_models(const Draft *in, FILE *f) {
  fprintf(f,
          "# The models `mlpc run --tune` compares; the pipeline's own is mlp.\n"
          "architecture mlp {\n"
          "  dense(64, activation = relu)\n"
          "  dropout(0.1)\n"
          "  dense(32, activation = relu)\n"
          "  output(%s)  # its width comes from the target\n"
          "}\n\n"
          "architecture linear {\n"
          "  linear_model()  # %s\n"
          "}\n\n"
          "architecture forest {\n"
          "  random_forest(trees = %d, max_depth = %d)\n"
          "}\n\n"
          "architecture boosted {\n"
          "  gradient_boosting(trees = 200, max_depth = 6, growth = lossguide, max_leaves = 31, l2 = 1)\n"
          "}\n\n",
          in->classify && in->nclasses == 2 ? "activation = sigmoid" : "",
          in->classify ? "logistic regression" : "least squares", FOREST_TREES, forest_depth(in));
}

static void write_spec(const Draft *in, FILE *f, const char *data, const char *spec_path) {
  const MlprtTable *t = in->t;
  int nc = t->ncols;
  char name[64];
  pipeline_name(data, name, sizeof name);
  char *src = source_path(data, spec_path);
  const char *ext = strrchr(data, '.');
  bool json = ext && (strcmp(ext, ".json") == 0 || strcmp(ext, ".jsonl") == 0 || strcmp(ext, ".ndjson") == 0);
  fprintf(f, "# A first spec for %s (%lld rows, %d columns), written by `mlpc init`.\n", data,
          (long long)t->nrows, nc);
  fputs("# `mlpc check` checks it, `mlpc run` trains it as it stands and `mlpc run --tune`\n"
        "# searches its tuning block. Edit freely.\n\n",
        f);
  write_models(in, f);
  fprintf(f, "pipeline %s {\n  data {\n    source = %s(\"", name, json ? "json" : "csv");
  for (const char *p = src; *p; p++) {
    if (*p == '"' || *p == '\\') fputc('\\', f);
    fputc(*p, f);
  }
  fprintf(f, "\"%s)\n    target = ",
          json && ext[1] != 'j'          ? ""
          : json && strcmp(ext, ".json") ? ", lines = true"
                                         : "");
  put_name(f, t->cols[in->target].name);
  if (in->classify)
    fprintf(f, "  # classification into %d classes\n", in->nclasses);
  else
    fputs("  # regression\n", f);
  free(src);
  if (in->classify && t->cols[in->target].type == MLPRT_COL_INT) {
    fputs("    schema {\n      ", f); /* whole numbers, but few: class labels */
    put_name(f, t->cols[in->target].name);
    fputs(" = category\n    }\n", f);
  }
  fputs("    clean {\n      drop_duplicates()\n", f);
  if (count(in, nc, LEFT_OUT, false)) {
    for (int c = 0; c < nc; c++)
      if (c != in->target && in->cols[c].role == LEFT_OUT)
        fprintf(f, "      # %s: %s\n", in->cols[c].name, in->cols[c].why);
    fputs("      drop_columns(", f);
    put_list(f, in, nc, LEFT_OUT, false);
    fputs(")\n", f);
  }
  if (count(in, nc, KEEP_NUMBER, true)) {
    fputs("      impute(", f);
    put_list(f, in, nc, KEEP_NUMBER, true);
    fputs(", strategy = median)\n", f);
  }
  for (Role r = KEEP_BOOL; r <= KEEP_CATEGORY; r++) {
    if (!count(in, nc, r, true)) continue;
    fputs("      impute(", f);
    put_list(f, in, nc, r, true);
    fputs(", strategy = mode)\n", f);
  }
  if (count(in, nc, KEEP_CATEGORY, false)) {
    fputs("      onehot(", f);
    put_list(f, in, nc, KEEP_CATEGORY, false);
    fprintf(f, ", max_levels = %d)\n", ONEHOT_LEVELS);
  }
  if (count(in, nc, KEEP_DATE, false)) {
    fputs("      date_features(", f);
    put_list(f, in, nc, KEEP_DATE, false);
    fputs(", parts = [", f);
    for (int k = 0; k < NDATE_PARTS; k++)
      fprintf(f, "%s%s", k ? ", " : "", mlprt_date_part_name(date_parts[k]));
    fputs("])\n", f);
  }
  if (count(in, nc, KEEP_NUMBER, false) || count(in, nc, KEEP_DATE, false)) {
    /* the numbers, then each date's parts by the names date_features gives them */
    fputs("      standardize([", f);
    int n = put_names(f, in, nc, KEEP_NUMBER, false, 0);
    for (int c = 0; c < nc; c++) {
      if (c == in->target || in->cols[c].role != KEEP_DATE) continue;
      for (int k = 0; k < NDATE_PARTS; k++) {
        char part[512];
        const char *date = in->cols[c].name;
        mlprt_derived_name(part, sizeof part, MLPRT_CLEAN_DATE_FEATURES, date, date_parts[k], 0, 0, 0);
        fputs(n++ ? ", " : "", f);
        put_name(f, part);
      }
    }
    fputs("])\n", f);
  }
  if (count(in, nc, KEEP_TEXT, false)) {
    fputs("      text_clean(", f);
    put_list(f, in, nc, KEEP_TEXT, false);
    fputs(")\n      tfidf(", f);
    put_list(f, in, nc, KEEP_TEXT, false);
    fprintf(f, ", max_vocab = %d, ngram = [1, 2], sublinear_tf = true)\n", TEXT_VOCAB);
  }
  fprintf(f, "    }\n    split(validation = 0.2, test = 0.2%s)\n  }\n\n",
          in->classify ? ", stratify = true" : "");
  fputs("  model {\n"
        "    mlp()  # an architecture above; `--tune` compares it with the others\n"
        "  }\n\n"
        "  hyperparameters {  # the network's: the other models are fitted at once\n"
        "    optimizer = adam(lr = 0.003)\n"
        "    batch = 32\n"
        "    epochs = 300\n"
        "    seed = 42\n"
        "  }\n\n"
        "  validation {\n"
        "    smoke(subset = 0.1, epochs = 2)\n"
        "    early_stopping(monitor = val_loss, patience = 25, restore_best = true)\n"
        "  }\n\n"
        "  tuning {\n"
        "    # every model family with its main settings, each space applying to the family\n"
        "    # that has it, scored by 5-fold cross-validation on the training and validation\n"
        "    # rows; the winner is refitted on all of them and tested\n"
        "    model in [mlp, linear, forest, boosted]\n"
        "    lr in [0.001, 0.003]\n",
        f);
  /* scikit-learn's C (LogisticRegression) or 1 / alpha (Ridge) of 10, 1
   * and 0.1 on a fold's training rows: l2 = 1 / (C x rows) */
  double rows = (double)in->t->nrows * 0.8 * 0.8;
  fprintf(f, "    model.linear_model.l2 in [%.2g, %.2g, %.2g]  # %s\n", 0.1 / rows, 1 / rows, 10 / rows,
          in->classify ? "C = 10, 1, 0.1" : "alpha = 0.1, 1, 10");
  /* a classifying forest keeps scikit-learn's sqrt: all the features
   * (bagging) costs the most and seldom wins there */
  if (!in->classify) fputs("    model.random_forest.max_features in [sqrt, all]\n", f);
  fputs("    model.gradient_boosting.learning_rate in [0.05, 0.1]\n"
        "    folds = 5\n",
        f);
  fprintf(f, "    objective = %s\n  }\n\n  analysis {\n", in->classify ? "val_accuracy" : "val_r2");
  fprintf(f, "    metrics = %s\n  }\n}\n", in->classify ? "[accuracy, f1, confusion]" : "[rmse, mae, r2]");
}

int mlp_draft(const MlpDraftOpts *o, FILE *spec, FILE *report, char *err, size_t n) {
  MlprtLoadOpts lo = {.scan_rows = -1};
  MlprtTable t;
  MlprtError e;
  if (mlprt_load(o->data, &lo, &t, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  Draft in = {.t = &t, .target = o->target ? mlprt_table_find(&t, o->target) : t.ncols - 1};
  int rc = 0;
  if (in.target < 0) {
    snprintf(err, n, "%s: no column '%s' to predict", o->data, o->target);
    rc = -1;
  } else if (t.nrows < 10) {
    snprintf(err, n, "%s: %lld rows are too few to train on", o->data, (long long)t.nrows);
    rc = -1;
  }
  const MlprtColumn *tc = rc ? NULL : &t.cols[in.target];
  if (tc && (tc->type == MLPRT_COL_TEXT || tc->type == MLPRT_COL_DATETIME)) {
    snprintf(err, n, "%s: the target '%s' is %s; pick a column of labels or numbers with --target", o->data,
             tc->name, tc->type == MLPRT_COL_TEXT ? "free text" : "a date");
    rc = -1;
  }
  MlprtLevels classes = {0};
  if (tc) {
    int32_t *code;
    int64_t k = distinct_values(&t, in.target, &classes, &code);
    in.classify = tc->type == MLPRT_COL_CATEGORY || tc->type == MLPRT_COL_BOOL ||
                  (tc->type == MLPRT_COL_INT && k <= MAX_INT_CLASSES);
    in.cls = code;
    in.nclasses = (int)k;
    in.ccount = calloc((size_t)k + 1, sizeof *in.ccount);
    for (int64_t r = 0; r < t.nrows; r++)
      if (code[r] >= 0) in.ccount[code[r]]++;
    if (in.classify && k < 2) {
      snprintf(err, n, "%s: the target '%s' holds %s", o->data, tc->name, k ? "one value" : "no value");
      rc = -1;
    }
  }
  if (rc == 0) {
    in.cols = calloc((size_t)t.ncols, sizeof *in.cols);
    for (int c = 0; c < t.ncols; c++) decide(&in, c);
    int kept = 0;
    for (Role r = KEEP_NUMBER; r < LEFT_OUT; r++) kept += count(&in, t.ncols, r, false);
    if (!kept) {
      snprintf(err, n, "%s: no column is left to learn '%s' from", o->data, tc->name);
      rc = -1;
    }
  }
  if (rc == 0) {
    report_columns(&in, report, o->data);
    write_spec(&in, spec, o->data, o->spec_path);
  }
  free(in.cols);
  free(in.cls);
  free(in.ccount);
  mlprt_levels_free(&classes);
  mlprt_table_free(&t);
  return rc;
}
