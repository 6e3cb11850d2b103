/* report.c — the cleaning log: every applied step in order with its method,
 * parameters, fitted values and counts (cells imputed, values clipped, rows
 * dropped, per column). Consumes MlprtFits as steps are applied; produces
 * cleaning.json (through cJSON, written atomically) and a short summary, and
 * reads the fits back from cleaning.json for applying them to new data. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_int.h"

/* The text-cleaning options, in the bit order of their fit's method. */
/* text_clean's option bits (MLPRT_TEXT_*), in bit order, by their spec names */
static const char *const text_options[6] = {"lowercase",  "strip_punctuation", "collapse_whitespace",
                                            "stop_words", "strip_accents",     "strip_digits"};

struct MlprtCleanLog {
  cJSON *root;  /* {"source": ..., "steps": [...]} */
  cJSON *steps;
};

MlprtCleanLog *mlprt_clean_log_new(const char *source) {
  MlprtCleanLog *log = mlprt_xcalloc(1, sizeof *log);
  log->root = cJSON_CreateObject();
  cJSON_AddStringToObject(log->root, "source", source ? source : "");
  log->steps = cJSON_AddArrayToObject(log->root, "steps");
  return log;
}

void mlprt_clean_log_free(MlprtCleanLog *log) {
  if (!log) return;
  cJSON_Delete(log->root);
  free(log);
}

int mlprt_clean_log_steps(const MlprtCleanLog *log) {
  return cJSON_GetArraySize(log->steps);
}

/* JSON has no NaN: a non-finite number is written as null. */
/* The name a vectorizer's param is logged under. */
static const char *vectorize_param(int method) {
  return method == MLPRT_VEC_HASH ? "buckets" : method == MLPRT_VEC_SEQUENCE ? "max_len" : "max_vocab";
}

static void add_num(cJSON *o, const char *k, double v) {
  if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
  else cJSON_AddNullToObject(o, k);
}

static void add_levels(cJSON *o, const char *k, char *const *lv, int32_t n) {
  cJSON *a = cJSON_AddArrayToObject(o, k);
  for (int32_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(lv[i]));
}

/* The fitted values of one column, named for what they mean in the step. */
static void add_fitted(cJSON *o, const MlprtFit *f, const MlprtColFit *c) {
  switch (f->kind) {
  case MLPRT_STEP_IMPUTE:
    if (f->method == MLPRT_IMPUTE_FFILL || f->method == MLPRT_IMPUTE_DROP) break;
    if (c->level) cJSON_AddStringToObject(o, "fill", c->level);
    else add_num(o, "fill", c->a);
    break;
  case MLPRT_STEP_OUTLIERS:
    add_num(o, "lower", c->a);
    add_num(o, "upper", c->b);
    break;
  case MLPRT_STEP_SCALE:
    add_num(o, "center", c->a);
    add_num(o, "scale", c->b);
    break;
  case MLPRT_STEP_ENCODE:
    if (f->method == MLPRT_ENCODE_HASH) break;
    /* one-hot past max_levels: the rare levels the shared column stands for */
    add_levels(o, "levels", c->levels, c->nkept);
    if (c->nkept < c->nlevels) add_levels(o, "other_levels", c->levels + c->nkept, c->nlevels - c->nkept);
    break;
  case MLPRT_STEP_VECTORIZE:
    if (f->method == MLPRT_VEC_HASH) break;
    add_levels(o, "vocabulary", c->levels, c->nlevels);
    if (c->weights) {
      cJSON *a = cJSON_AddArrayToObject(o, "idf");
      for (int32_t i = 0; i < c->nlevels; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(c->weights[i]));
    }
    break;
  case MLPRT_STEP_COERCE:
    cJSON_AddStringToObject(o, "to", mlprt_col_type_name((MlprtColType)c->method));
    add_num(o, "reformatted", (double)c->fixed);
    break;
  case MLPRT_STEP_ALIGN:
    cJSON_AddStringToObject(o, "type", mlprt_col_type_name((MlprtColType)c->method));
    break;
  default: break;
  }
}

static const char *changed_word(const MlprtFit *f) {
  switch (f->kind) {
  case MLPRT_STEP_IMPUTE: return "imputed";
  case MLPRT_STEP_OUTLIERS: return f->flag ? "outliers" : "clipped";
  case MLPRT_STEP_COERCE: return "failed";
  case MLPRT_STEP_TIME: return f->method == MLPRT_TIME_RESAMPLE ? "inserted" : "without_history";
  case MLPRT_STEP_ALIGN: return "unmatched";
  default: return "changed";
  }
}

void mlprt_log_fit(MlprtCleanLog *log, const MlprtFit *f) {
  if (!log) return;
  cJSON *s = cJSON_CreateObject();
  cJSON_AddStringToObject(s, "step", mlprt_step_name(f->kind));
  const char *m = mlprt_method_name(f->kind, f->method);
  if (m[0]) cJSON_AddStringToObject(s, f->kind == MLPRT_STEP_COERCE ? "on_fail" : "method", m);
  switch (f->kind) {
  case MLPRT_STEP_IMPUTE:
    if (f->method == MLPRT_IMPUTE_CONSTANT) add_num(s, "constant", f->param);
    cJSON_AddBoolToObject(s, "indicator", f->flag);
    break;
  case MLPRT_STEP_OUTLIERS:
    add_num(s, "threshold", f->param);
    cJSON_AddStringToObject(s, "action", f->flag ? "drop" : "clip");
    break;
  case MLPRT_STEP_ENCODE:
    if (f->method == MLPRT_ENCODE_HASH) add_num(s, "buckets", f->param);
    else cJSON_AddBoolToObject(s, "unknown_bucket", f->flag);
    cJSON_AddStringToObject(s, "unknown", f->strict ? "error" : "ignore");
    break;
  case MLPRT_STEP_VECTORIZE: {
    add_num(s, vectorize_param(f->method), f->param);
    const MlprtTerms *o = &f->terms;
    cJSON_AddStringToObject(s, "analyzer", o->analyzer == MLPRT_ANALYZER_CHAR ? "char" : "word");
    double ng[2] = {o->ngram_lo, o->ngram_hi};
    cJSON_AddItemToObject(s, "ngram", cJSON_CreateDoubleArray(ng, 2));
    if (f->method == MLPRT_VEC_COUNT) cJSON_AddBoolToObject(s, "binary", o->binary);
    if (f->method == MLPRT_VEC_TFIDF) {
      cJSON_AddBoolToObject(s, "sublinear_tf", o->sublinear);
      cJSON_AddStringToObject(s, "norm", o->l2 ? "l2" : "none");
    }
    if (f->method != MLPRT_VEC_HASH) cJSON_AddBoolToObject(s, "padded", f->flag);
    break;
  }
  case MLPRT_STEP_TEXT_CLEAN:
    for (int b = 0; b < 6; b++) cJSON_AddBoolToObject(s, text_options[b], f->method >> b & 1);
    break;
  case MLPRT_STEP_ALIGN: /* seconds for a date key; null: none */
    add_num(s, "tolerance", f->param >= 0 ? f->param : NAN);
    break;
  default: break;
  }
  add_num(s, "table_columns", f->ncols);
  add_num(s, "rows_before", (double)f->rows_before);
  add_num(s, "rows_after", (double)f->rows_after);
  if (f->kind == MLPRT_STEP_TIME && f->method == MLPRT_TIME_RESAMPLE) {
    /* rows sharing a step become one; gaps get new rows */
    int64_t inserted = f->n ? f->cols[0].changed : 0;
    add_num(s, "rows_merged", (double)(f->rows_before - (f->rows_after - inserted)));
    add_num(s, "rows_inserted", (double)inserted);
  } else {
    add_num(s, "rows_dropped", (double)(f->rows_before - f->rows_after));
  }
  cJSON *cols = cJSON_AddArrayToObject(s, "columns");
  for (int i = 0; i < f->n; i++) {
    const MlprtColFit *c = &f->cols[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "column", c->column);
    add_num(o, "index", c->index);
    add_fitted(o, f, c);
    add_num(o, changed_word(f), (double)c->changed);
    add_num(o, "rows_dropped", (double)c->dropped);
    cJSON_AddItemToArray(cols, o);
  }
  cJSON_AddItemToArray(log->steps, s);
}

char *mlprt_clean_log_json(const MlprtCleanLog *log) {
  return cJSON_Print(log->root);
}

int mlprt_clean_log_write(const MlprtCleanLog *log, const char *path, MlprtError *err) {
  char *text = cJSON_Print(log->root);
  size_t n = strlen(path) + 32;
  char *tmp = mlprt_xmalloc(n);
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  int rc = -1;
  if (f) {
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok &= fclose(f) == 0;
    if (ok && rename(tmp, path) == 0) rc = 0;
    else remove(tmp);
  }
  if (rc) mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot write the cleaning log: %s", strerror(errno));
  free(tmp);
  free(text);
  return rc;
}

void mlprt_clean_log_summary(const MlprtCleanLog *log, FILE *out) {
  int i = 1;
  for (cJSON *s = log->steps->child; s; s = s->next, i++) {
    const cJSON *m = cJSON_GetObjectItem(s, "method");
    if (!m) m = cJSON_GetObjectItem(s, "on_fail");
    fprintf(out, "%2d. %s%s%s: %.0f -> %.0f rows", i, cJSON_GetObjectItem(s, "step")->valuestring,
            m ? " " : "", m ? m->valuestring : "", cJSON_GetObjectItem(s, "rows_before")->valuedouble,
            cJSON_GetObjectItem(s, "rows_after")->valuedouble);
    for (cJSON *c = cJSON_GetObjectItem(s, "columns")->child; c; c = c->next) {
      /* the column's count: the item after the fitted values */
      const cJSON *cnt = cJSON_GetObjectItem(c, "rows_dropped")->prev;
      if (cnt->valuedouble > 0)
        fprintf(out, "; %s %s %.0f", c->child->valuestring, cnt->string, cnt->valuedouble);
    }
    fputc('\n', out);
  }
}

/* ---- reading fits back ---- */

static double get_num(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A position or count in [0, INT32_MAX), or -1 when absent or out of range. */
static int32_t get_index(const cJSON *o, const char *key) {
  double v = get_num(o, key);
  return isfinite(v) && v >= 0 && v < INT32_MAX ? (int32_t)v : -1;
}

static bool get_bool(const cJSON *o, const char *key) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static char **get_strings(const cJSON *a, int32_t *n) {
  *n = cJSON_GetArraySize(a);
  char **out = mlprt_xmalloc((size_t)(*n ? *n : 1) * sizeof *out);
  int32_t i = 0;
  for (const cJSON *v = a ? a->child : NULL; v; v = v->next, i++)
    out[i] = mlprt_xstrndup(cJSON_IsString(v) ? v->valuestring : "",
                            cJSON_IsString(v) ? strlen(v->valuestring) : 0);
  return out;
}

/* One logged step as a fit; false for steps that have no fitted form. */
static bool step_to_fit(const cJSON *s, MlprtFit *f) {
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "step");
  int kind = -1;
  for (int k = 0; cJSON_IsString(name) && k < MLPRT_STEP_NKINDS; k++)
    if (strcmp(name->valuestring, mlprt_step_name((MlprtStepKind)k)) == 0) kind = k;
  if (kind < 0 || kind == MLPRT_STEP_DEDUP || kind == MLPRT_STEP_COERCE || kind == MLPRT_STEP_TIME)
    return false;
  memset(f, 0, sizeof *f);
  f->kind = (MlprtStepKind)kind;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "method");
  for (int k = 0; cJSON_IsString(m) && k < 8; k++)
    if (strcmp(m->valuestring, mlprt_method_name(f->kind, k)) == 0) f->method = k;
  switch (f->kind) {
  case MLPRT_STEP_IMPUTE:
    f->param = get_num(s, "constant");
    f->flag = get_bool(s, "indicator");
    break;
  case MLPRT_STEP_OUTLIERS:
    f->param = get_num(s, "threshold");
    f->flag = cJSON_IsString(cJSON_GetObjectItem(s, "action")) &&
              strcmp(cJSON_GetObjectItem(s, "action")->valuestring, "drop") == 0;
    break;
  case MLPRT_STEP_ENCODE:
    f->param = get_num(s, "buckets");
    f->flag = get_bool(s, "unknown_bucket");
    f->strict = cJSON_IsString(cJSON_GetObjectItem(s, "unknown")) &&
                strcmp(cJSON_GetObjectItem(s, "unknown")->valuestring, "error") == 0;
    break;
  case MLPRT_STEP_VECTORIZE: {
    f->param = get_num(s, vectorize_param(f->method));
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(s, "analyzer"), *nm = cJSON_GetObjectItem(s, "norm");
    const cJSON *ng = cJSON_GetObjectItemCaseSensitive(s, "ngram");
    f->terms = (MlprtTerms){.method = (MlprtVectorize)f->method,
                            .analyzer = cJSON_IsString(an) && strcmp(an->valuestring, "char") == 0,
                            .ngram_lo = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(ng, 0)),
                            .ngram_hi = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(ng, 1)),
                            .binary = get_bool(s, "binary"),
                            .sublinear = get_bool(s, "sublinear_tf"),
                            .l2 = cJSON_IsString(nm) && strcmp(nm->valuestring, "l2") == 0};
    f->flag = get_bool(s, "padded");
    break;
  }
  case MLPRT_STEP_TEXT_CLEAN:
    for (int b = 0; b < 6; b++) f->method |= get_bool(s, text_options[b]) << b;
    break;
  case MLPRT_STEP_ALIGN: f->param = get_num(s, "tolerance"); break;
  default: break;
  }
  f->ncols = get_index(s, "table_columns");
  if (f->ncols < 0) f->ncols = 0;
  const cJSON *cols = cJSON_GetObjectItemCaseSensitive(s, "columns");
  f->n = cJSON_GetArraySize(cols);
  f->cols = mlprt_xcalloc((size_t)(f->n ? f->n : 1), sizeof *f->cols);
  int i = 0;
  for (const cJSON *o = cols ? cols->child : NULL; o; o = o->next, i++) {
    MlprtColFit *c = &f->cols[i];
    const cJSON *col = cJSON_GetObjectItemCaseSensitive(o, "column");
    c->column = mlprt_xstrndup(cJSON_IsString(col) ? col->valuestring : "",
                               cJSON_IsString(col) ? strlen(col->valuestring) : 0);
    c->index = get_index(o, "index");
    const cJSON *fill = cJSON_GetObjectItemCaseSensitive(o, "fill");
    switch (f->kind) {
    case MLPRT_STEP_IMPUTE:
      if (cJSON_IsString(fill)) c->level = mlprt_xstrndup(fill->valuestring, strlen(fill->valuestring));
      else c->a = get_num(o, "fill");
      break;
    case MLPRT_STEP_OUTLIERS: c->a = get_num(o, "lower"), c->b = get_num(o, "upper"); break;
    case MLPRT_STEP_SCALE: c->a = get_num(o, "center"), c->b = get_num(o, "scale"); break;
    case MLPRT_STEP_ALIGN: {
      const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
      c->method = mlprt_col_type_parse(cJSON_IsString(ty) ? ty->valuestring : "");
      break;
    }
    case MLPRT_STEP_ENCODE: {
      int32_t nother;
      char **other = get_strings(cJSON_GetObjectItemCaseSensitive(o, "other_levels"), &nother);
      c->levels = get_strings(cJSON_GetObjectItemCaseSensitive(o, "levels"), &c->nkept);
      c->nlevels = c->nkept + nother;
      c->levels = mlprt_xrealloc(c->levels, (size_t)(c->nlevels ? c->nlevels : 1) * sizeof *c->levels);
      memcpy(c->levels + c->nkept, other, (size_t)nother * sizeof *other);
      free(other);
      break;
    }
    case MLPRT_STEP_VECTORIZE: {
      c->levels = get_strings(cJSON_GetObjectItemCaseSensitive(o, "vocabulary"), &c->nlevels);
      const cJSON *idf = cJSON_GetObjectItemCaseSensitive(o, "idf");
      if (idf) {
        c->weights = mlprt_xmalloc((size_t)(c->nlevels ? c->nlevels : 1) * sizeof *c->weights);
        int32_t k = 0;
        for (const cJSON *v = idf->child; v && k < c->nlevels; v = v->next) c->weights[k++] = v->valuedouble;
        while (k < c->nlevels) c->weights[k++] = 1;
      }
      break;
    }
    default: break;
    }
  }
  return true;
}

int mlprt_fits_read(const char *path, MlprtFit **fits, int *nfits, MlprtError *err) {
  *fits = NULL;
  *nfits = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot open: %s", strerror(errno));
    return -1;
  }
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *text = mlprt_xmalloc((size_t)(size > 0 ? size : 0) + 1);
  size_t got = size > 0 ? fread(text, 1, (size_t)size, fp) : 0;
  text[got] = 0;
  fclose(fp);
  cJSON *root = cJSON_ParseWithLength(text, got);
  free(text);
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(root, "steps");
  /* A run directory's cleaning.json holds the log under "cleaning". */
  if (!steps)
    steps = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "cleaning"), "steps");
  if (!cJSON_IsArray(steps)) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "not a cleaning log (no \"steps\" array)");
    cJSON_Delete(root);
    return -1;
  }
  *fits = mlprt_xcalloc((size_t)(cJSON_GetArraySize(steps) + 1), sizeof **fits);
  for (const cJSON *s = steps->child; s; s = s->next)
    if (step_to_fit(s, &(*fits)[*nfits])) ++*nfits;
  cJSON_Delete(root);
  return 0;
}

void mlprt_fits_free(MlprtFit *fits, int n) {
  for (int i = 0; i < n; i++) mlprt_fit_free(&fits[i]);
  free(fits);
}
