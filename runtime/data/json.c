/* json.c — JSON sources through cJSON: one array of flat records
 * ([{"a": 1, "b": "x"}, ...]) or JSON lines (one record per line).
 *
 * Consumes a path; produces a schema or a typed table, with the same typing
 * rules as CSV (every value goes through the same field parser, so "12" and
 * 12 agree). Columns are the union of the records' keys in first-seen order;
 * an absent key or null is a missing value. A JSON array is read whole (cJSON
 * needs the text in one piece) and each record is converted as it is
 * visited; JSON lines stream one line at a time. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

typedef struct {
  const char *path;
  FILE *f;
  bool lines;       /* JSON lines, else one array */
  cJSON *root;      /* array mode: the parsed document */
  cJSON *item;      /* array mode: next element */
  cJSON *cur;       /* JSON lines: the record last returned (owned) */
  char *line;
  size_t line_cap;
  int64_t row;      /* records returned */
  int64_t lineno;   /* JSON lines: physical line of the last record */
} JsonSrc;

/* Line and column of byte offset off in text, for cJSON's error pointer. */
static void offset_to_line(const char *text, size_t off, int64_t *line, int *col) {
  *line = 1, *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') ++*line, *col = 1;
    else ++*col;
  }
}

/* A NUL byte, raw or escaped as \\u0000, would cut a value short where
 * cJSON hands it over as a C string: such text is refused. */
#define NUL_IN_JSON "a NUL byte (raw or as \\u0000) in the JSON text"
static bool has_nul(const char *s, size_t n) {
  if (memchr(s, 0, n)) return true;
  for (const char *e = s + n, *b = s; (b = memchr(b, '\\', (size_t)(e - b))); b += 2)
    if (b + 6 <= e && memcmp(b + 1, "u0000", 5) == 0) return true;
  return false;
}

/* One line (its newline included) into js->line, at most max bytes: 1,
 * 0 at the end of the file, -1 when the line is longer. Never holds more
 * than max + 1 bytes, whatever the file. */
static int read_line(JsonSrc *js, size_t max, size_t *len) {
  size_t n = 0;
  int c;
  while ((c = getc_unlocked(js->f)) != EOF) {
    if (n + 2 > js->line_cap) {
      js->line_cap = js->line_cap ? 2 * js->line_cap : 4096;
      js->line = mlprt_xrealloc(js->line, js->line_cap);
    }
    js->line[n++] = (char)c;
    if (c == '\n') break;
    if (n > max) return -1;
  }
  if (js->line) js->line[n] = 0;
  *len = n;
  return n ? 1 : 0;
}

static int src_open(JsonSrc *js, const char *path, bool lines, MlprtError *err) {
  memset(js, 0, sizeof *js);
  js->path = path;
  js->lines = lines;
  js->f = fopen(path, "rb");
  if (!js->f) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot open: %s", strerror(errno));
    return -1;
  }
  if (lines) return 0;
  fseek(js->f, 0, SEEK_END);
  long size = ftell(js->f);
  fseek(js->f, 0, SEEK_SET);
  if (size <= 0) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "empty file: no JSON document");
    return -1;
  }
  char *text = mlprt_xmalloc((size_t)size + 1);
  size_t got = fread(text, 1, (size_t)size, js->f);
  text[got] = 0;
  if (has_nul(text, got)) {
    const char *at = memchr(text, 0, got);
    int64_t line;
    int col;
    offset_to_line(text, at ? (size_t)(at - text) : 0, &line, &col);
    mlprt_error_set(err, path, 0, at ? line : 0, 0, NULL, "%s", NUL_IN_JSON);
    free(text);
    return -1;
  }
  const char *end = NULL;
  js->root = cJSON_ParseWithLengthOpts(text, got, &end, 0);
  if (!js->root) {
    int64_t line;
    int col;
    size_t off = end ? (size_t)(end - text) : 0;
    const char *ep = cJSON_GetErrorPtr();
    if (ep && ep >= text && ep <= text + got) off = (size_t)(ep - text);
    offset_to_line(text, off, &line, &col);
    mlprt_error_set(err, path, 0, line, 0, NULL, "invalid JSON near line %lld, byte %d", (long long)line,
                    col);
    free(text);
    return -1;
  }
  free(text);
  if (!cJSON_IsArray(js->root)) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "expected an array of records at the top level");
    return -1;
  }
  js->item = js->root->child;
  return 0;
}

static void src_close(JsonSrc *js) {
  if (js->f) fclose(js->f);
  cJSON_Delete(js->root);
  cJSON_Delete(js->cur);
  free(js->line);
}

/* The next record (an object), NULL at the end or on error (*rc = -1). */
static cJSON *src_next(JsonSrc *js, size_t max_record, int *rc, MlprtError *err) {
  *rc = 0;
  cJSON *rec;
  if (!js->lines) {
    rec = js->item;
    if (!rec) return NULL;
    js->item = rec->next;
  } else {
    cJSON_Delete(js->cur);
    js->cur = NULL;
    size_t n;
    for (;;) {
      int got = read_line(js, max_record, &n);
      if (got == 0) return NULL;
      js->lineno++;
      if (got < 0) {
        mlprt_error_set(err, js->path, js->row + 1, js->lineno, 0, NULL,
                        "record longer than the limit of %zu bytes (max_record)", max_record);
        *rc = -1;
        return NULL;
      }
      size_t k = n;
      while (k && (js->line[k - 1] == '\n' || js->line[k - 1] == '\r' || js->line[k - 1] == ' ')) k--;
      if (k) break;
    }
    if (has_nul(js->line, n)) {
      mlprt_error_set(err, js->path, js->row + 1, js->lineno, 0, NULL, "%s", NUL_IN_JSON);
      *rc = -1;
      return NULL;
    }
    js->cur = cJSON_ParseWithLength(js->line, n);
    if (!js->cur) {
      mlprt_error_set(err, js->path, js->row + 1, js->lineno, 0, NULL, "invalid JSON in this line");
      *rc = -1;
      return NULL;
    }
    rec = js->cur;
  }
  js->row++;
  if (!cJSON_IsObject(rec)) {
    mlprt_error_set(err, js->path, js->row, js->lines ? js->lineno : 0, 0, NULL,
                    "record is not a JSON object");
    *rc = -1;
    return NULL;
  }
  return rec;
}

/* A value as field text: numbers printed exactly, strings as they are.
 * Returns false for null, and for a value no column can hold, with *bad
 * saying why (nested arrays and objects, numbers beyond float range). */
static bool value_text(const cJSON *v, char *num, size_t nnum, const char **s, size_t *len,
                       const char **bad) {
  *bad = NULL;
  if (cJSON_IsNull(v)) return false;
  if (cJSON_IsString(v)) {
    *s = v->valuestring;
    *len = strlen(v->valuestring);
  } else if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (isinf((float)d)) { /* cJSON reads 1e400 as an infinity, which prints as no number */
      *bad = mlprt_why_float_range;
      return false;
    }
    if (d == floor(d) && fabs(d) < 1e15) snprintf(num, nnum, "%.0f", d);
    else snprintf(num, nnum, "%.17g", d);
    *s = num;
    *len = strlen(num);
  } else if (cJSON_IsBool(v)) {
    *s = cJSON_IsTrue(v) ? "true" : "false";
    *len = strlen(*s);
  } else {
    *bad = "nested arrays and objects are not supported";
    return false;
  }
  return true;
}

static size_t opt_max_record(const MlprtLoadOpts *o) {
  return o && o->max_record ? o->max_record : MLPRT_MAX_RECORD_DEFAULT;
}

int mlprt_json_infer(const char *path, const MlprtLoadOpts *o, MlprtSchema *out, MlprtError *err) {
  JsonSrc js;
  bool lines = mlprt_detect_format(path, o) == MLPRT_FMT_JSONL;
  if (src_open(&js, path, lines, err)) {
    src_close(&js);
    return -1;
  }
  int64_t limit = o && o->scan_rows ? o->scan_rows : MLPRT_SCAN_ROWS_DEFAULT;
  int max_levels = mlprt_opt_max_levels(o);
  MlprtNaSet na;
  mlprt_na_init(&na, o);
  MlprtLevels keys = {0};
  MlprtInferCol *ic = NULL;
  int64_t *seen = NULL; /* [cap] the last record that had the key */
  int cap = 0, rc = 0;
  bool complete = true;
  cJSON *rec;
  char num[64];
  while ((limit < 0 || js.row < limit) && (rec = src_next(&js, opt_max_record(o), &rc, err))) {
    int64_t line = lines ? js.lineno : 0;
    for (cJSON *v = rec->child; v && !rc; v = v->next) {
      int32_t known = keys.n;
      int c = mlprt_levels_intern(&keys, v->string, strlen(v->string));
      if (c >= cap) {
        int old = cap;
        cap = cap ? cap * 2 : 16;
        ic = mlprt_xrealloc(ic, (size_t)cap * sizeof *ic);
        memset(ic + old, 0, (size_t)(cap - old) * sizeof *ic);
        seen = mlprt_xrealloc(seen, (size_t)cap * sizeof *seen);
        memset(seen + old, 0, (size_t)(cap - old) * sizeof *seen);
      }
      if (c == known) ic[c].nmissing += js.row - 1; /* absent from earlier records */
      const char *s, *bad;
      size_t len;
      int decl = mlprt_decl_type(o, v->string);
      bool twice = seen[c] == js.row; /* as a CSV header may not name a column twice */
      seen[c] = js.row;
      if (twice) {
        mlprt_error_set(err, path, js.row, line, c + 1, v->string, "the key appears twice in the record");
        rc = -1;
      } else if (!value_text(v, num, sizeof num, &s, &len, &bad) || mlprt_na_match(&na, s, len)) {
        if (bad) {
          mlprt_error_set(err, path, js.row, line, c + 1, v->string, "%s", bad);
          rc = -1;
        }
        ic[c].nmissing++;
      } else if (mlprt_utf8_valid_prefix(s, len) != len) {
        mlprt_error_set(err, path, js.row, line, c + 1, v->string, "invalid UTF-8");
        rc = -1;
      } else if (mlprt_infer_add(&ic[c], s, len, max_levels, decl)) {
        mlprt_error_set(err, path, js.row, line, c + 1, v->string,
                        "value '%.*s' does not fit the declared type %s", len > 40 ? 40 : (int)len, s,
                        mlprt_col_type_name((MlprtColType)decl));
        rc = -1;
      }
    }
    /* keys absent from this record are missing there */
    for (int c = 0; c < keys.n && !rc; c++)
      if (!cJSON_GetObjectItemCaseSensitive(rec, keys.names[c])) ic[c].nmissing++;
    if (rc) break;
  }
  if (!rc && limit >= 0 && js.row >= limit) {
    int more;
    complete = !src_next(&js, opt_max_record(o), &more, err);
  }
  if (!rc && keys.n == 0) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "no records with fields to infer a schema from");
    rc = -1;
  }
  if (!rc) {
    char **names = mlprt_xmalloc((size_t)keys.n * sizeof *names);
    for (int c = 0; c < keys.n; c++) names[c] = keys.names[c], keys.names[c] = NULL;
    int n = keys.n;
    keys.n = 0;
    mlprt_infer_finish(ic, names, n, o, js.row, complete, out);
    free(names);
  } else {
    for (int c = 0; c < keys.n; c++) mlprt_levels_free(&ic[c].levels);
  }
  mlprt_levels_free(&keys);
  free(ic);
  free(seen);
  src_close(&js);
  return rc;
}

int mlprt_json_load(const char *path, const MlprtLoadOpts *o, const MlprtSchema *s, MlprtTable *t,
                    MlprtError *err) {
  JsonSrc js;
  bool lines = mlprt_detect_format(path, o) == MLPRT_FMT_JSONL;
  mlprt_table_from_schema(t, s);
  if (src_open(&js, path, lines, err)) {
    src_close(&js);
    mlprt_table_free(t);
    return -1;
  }
  MlprtNaSet na;
  mlprt_na_init(&na, o);
  int rc = 0;
  cJSON *rec;
  char num[64];
  /* [ncols] the last record that had the key */
  int64_t *seen = mlprt_xcalloc((size_t)(s->ncols ? s->ncols : 1), sizeof *seen);
  while (!rc && (rec = src_next(&js, opt_max_record(o), &rc, err))) {
    int64_t row = t->nrows, line = lines ? js.lineno : 0;
    mlprt_table_reserve(t, row + 1);
    mlprt_row_set_missing(t, row);
    for (cJSON *v = rec->child; v && !rc; v = v->next) {
      int c = mlprt_schema_find(s, v->string);
      const char *txt, *why, *bad;
      size_t len;
      if (c < 0) {
        mlprt_error_set(err, path, js.row, line, 0, v->string, "key is not a column of the schema");
        rc = s->complete ? -1 : MLPRT_ERR_RETYPE;
      } else if (seen[c] == js.row) { /* as a CSV header may not name a column twice */
        mlprt_error_set(err, path, js.row, line, c + 1, v->string, "the key appears twice in the record");
        rc = -1;
      } else if ((seen[c] = js.row, !value_text(v, num, sizeof num, &txt, &len, &bad))) {
        if (bad) {
          mlprt_error_set(err, path, js.row, line, c + 1, v->string, "%s", bad);
          rc = -1;
        }
      } else if (mlprt_cell_from_text(t, c, row, txt, len, &na, &why)) {
        mlprt_error_set(err, path, js.row, line, c + 1, v->string, "%s: '%.*s' (column type %s%s)", why,
                        len > 40 ? 40 : (int)len, txt, mlprt_col_type_name(s->cols[c].type),
                        s->cols[c].declared ? ", declared" : "");
        rc = s->cols[c].declared || mlprt_why_final(why) ? -1 : MLPRT_ERR_RETYPE;
      }
    }
    if (!rc) t->nrows++;
  }
  free(seen);
  src_close(&js);
  if (rc) mlprt_table_free(t);
  else mlprt_table_shrink(t);
  return rc;
}
