/* schema.c — column types from a scan of the data, and the entry points that
 * tie schema and loaders together. Consumes field texts from the CSV and
 * JSON scanners; produces an MlprtSchema (types, missing counts, ranges,
 * levels) that mlprt_load types its table with and that the compiler's
 * schema probe (mlprt_probe_described: every row of every source) learns a
 * data plan's shapes from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "data_int.h"

int mlprt_opt_max_levels(const MlprtLoadOpts *o) {
  return o && o->max_levels > 0 ? o->max_levels : MLPRT_MAX_LEVELS_DEFAULT;
}

int mlprt_data_threads(void) {
  return mlprt_opt_threads(NULL);
}

int mlprt_opt_threads(const MlprtLoadOpts *o) {
  if (o && o->nthreads > 0) return o->nthreads;
  long n = mlprt_pool_threads() ? mlprt_pool_threads() : sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

int mlprt_decl_type(const MlprtLoadOpts *o, const char *name) {
  for (int i = 0; o && i < o->ndecl; i++)
    if (strcmp(o->decl[i].name, name) == 0) return (int)o->decl[i].type;
  return -1;
}

int mlprt_decls_count(const char *text) {
  int n = 0;
  for (const char *s = text; *s; s++) n += *s == '\n';
  return n;
}

int mlprt_decls_parse(char *text, MlprtDecl *decl) {
  int n = 0;
  for (char *s = text, *tab, *nl; *s && (tab = strchr(s, '\t')) && (nl = strchr(s, '\n')); s = nl + 1) {
    *tab = *nl = 0;
    decl[n++] = (MlprtDecl){s, (MlprtColType)mlprt_col_type_parse(tab + 1)};
  }
  return n;
}

bool mlprt_format_sql(const char *format) {
  return format && (strcmp(format, "sqlite") == 0 || strcmp(format, "postgres") == 0);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

MlprtFormat mlprt_detect_format(const char *path, const MlprtLoadOpts *o) {
  if (o && o->format != MLPRT_FMT_AUTO) return o->format;
  if (ends_with(path, ".json")) return MLPRT_FMT_JSON;
  if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")) return MLPRT_FMT_JSONL;
  return MLPRT_FMT_CSV;
}

/* Which field kinds a declared type accepts. */
static unsigned accepted_kinds(int type) {
  switch (type) {
  case MLPRT_COL_FLOAT: return MLPRT_K_INT | MLPRT_K_FLOAT;
  case MLPRT_COL_INT: return MLPRT_K_INT;
  case MLPRT_COL_BOOL: return MLPRT_K_BOOL | MLPRT_K_INT;
  case MLPRT_COL_DATETIME: return MLPRT_K_DATE;
  default: return ~0u;
  }
}

int mlprt_infer_add(MlprtInferCol *c, const char *s, size_t len, int max_levels, int declared) {
  int k = mlprt_classify(s, len);
  if (declared >= 0 && !(accepted_kinds(declared) & (unsigned)k)) return -1;
  if (declared == MLPRT_COL_BOOL && k == MLPRT_K_INT && !(len == 1 && (*s == '0' || *s == '1'))) return -1;
  c->kinds |= (unsigned)k;
  double v;
  if ((k == MLPRT_K_INT || k == MLPRT_K_FLOAT) && mlprt_parse_double(s, len, &v)) {
    if (!c->ranged || v < c->lo) c->lo = v;
    if (!c->ranged || v > c->hi) c->hi = v;
    c->ranged = true;
  }
  if (k == MLPRT_K_STRING || declared == MLPRT_COL_CATEGORY) c->kinds |= MLPRT_K_STRING;
  /* every distinct value counts, so a column of codes like "01", "02" can
   * still become a category when it also holds text */
  if (!c->many) {
    mlprt_levels_intern(&c->levels, s, len);
    if (c->levels.n > max_levels && declared != MLPRT_COL_CATEGORY) {
      c->many = true;
      mlprt_levels_free(&c->levels);
    }
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct values of a column of sc's type, as the loaded table prints
 * them: each field text read into a one-cell column of that type, then
 * printed (so "1.0" and "1" are one level, "yes" is "true"). */
static void printed_levels(MlprtSchemaCol *sc, const MlprtLevels *fields) {
  MlprtTable one;
  mlprt_table_init(&one);
  mlprt_table_add_column(&one, sc->name, sc->type);
  mlprt_table_reserve(&one, 1);
  one.nrows = 1;
  static const char *const no_tokens[1] = {""};
  MlprtLoadOpts none = {.na_tokens = no_tokens, .nna = 0}; /* the fields are values: none is missing */
  MlprtNaSet na;
  mlprt_na_init(&na, &none);
  MlprtLevels out = {0};
  char buf[64];
  for (int32_t l = 0; l < fields->n; l++) {
    const char *why;
    if (mlprt_cell_from_text(&one, 0, 0, fields->names[l], fields->len[l], &na, &why) != 0) continue;
    const char *s = mlprt_cell_str(&one, 0, 0, buf, sizeof buf);
    mlprt_levels_intern(&out, s, strlen(s));
  }
  sc->nlevels = out.n;
  sc->levels = mlprt_xmalloc((size_t)(out.n ? out.n : 1) * sizeof *sc->levels);
  for (int32_t l = 0; l < out.n; l++) sc->levels[l] = out.names[l], out.names[l] = NULL;
  out.n = 0;
  qsort(sc->levels, (size_t)sc->nlevels, sizeof *sc->levels, cmp_str);
  mlprt_levels_free(&out);
  mlprt_table_free(&one);
}

static MlprtColType join_kinds(const MlprtInferCol *c) {
  unsigned k = c->kinds;
  if (!k) return MLPRT_COL_FLOAT; /* all missing: numeric NaNs hurt least */
  if (k == MLPRT_K_INT) return MLPRT_COL_INT;
  if (!(k & ~(unsigned)(MLPRT_K_INT | MLPRT_K_FLOAT))) return MLPRT_COL_FLOAT;
  if (k == MLPRT_K_BOOL) return MLPRT_COL_BOOL;
  if (k == MLPRT_K_DATE) return MLPRT_COL_DATETIME;
  return c->many ? MLPRT_COL_TEXT : MLPRT_COL_CATEGORY;
}

void mlprt_infer_finish(MlprtInferCol *ic, char **names, int ncols, const MlprtLoadOpts *o,
                        int64_t nrows, bool complete, MlprtSchema *out) {
  memset(out, 0, sizeof *out);
  out->cols = mlprt_xcalloc((size_t)ncols, sizeof *out->cols);
  out->ncols = ncols;
  out->nrows = nrows;
  out->complete = complete;
  for (int i = 0; i < ncols; i++) {
    MlprtSchemaCol *sc = &out->cols[i];
    MlprtInferCol *c = &ic[i];
    sc->name = names[i];
    int decl = mlprt_decl_type(o, names[i]);
    sc->declared = decl >= 0;
    sc->type = decl >= 0 ? (MlprtColType)decl : join_kinds(c);
    sc->nmissing = c->nmissing;
    sc->lo = c->ranged ? c->lo : NAN;
    sc->hi = c->ranged ? c->hi : NAN;
    if (sc->type == MLPRT_COL_CATEGORY && !c->many) {
      sc->nlevels = c->levels.n;
      sc->levels = mlprt_xmalloc((size_t)(c->levels.n ? c->levels.n : 1) * sizeof *sc->levels);
      for (int32_t l = 0; l < c->levels.n; l++) sc->levels[l] = c->levels.names[l], c->levels.names[l] = NULL;
      c->levels.n = 0;
      qsort(sc->levels, (size_t)sc->nlevels, sizeof *sc->levels, cmp_str);
    } else if (sc->type != MLPRT_COL_TEXT && !c->many) {
      printed_levels(sc, &c->levels);
    }
    mlprt_levels_free(&c->levels);
  }
}

void mlprt_schema_free(MlprtSchema *s) {
  for (int i = 0; i < s->ncols; i++) {
    free(s->cols[i].name);
    for (int32_t l = 0; l < s->cols[i].nlevels; l++) free(s->cols[i].levels[l]);
    free(s->cols[i].levels);
  }
  free(s->cols);
  memset(s, 0, sizeof *s);
}

int mlprt_schema_find(const MlprtSchema *s, const char *name) {
  for (int i = 0; i < s->ncols; i++)
    if (strcmp(s->cols[i].name, name) == 0) return i;
  return -1;
}

void mlprt_table_from_schema(MlprtTable *t, const MlprtSchema *s) {
  mlprt_table_init(t);
  for (int i = 0; i < s->ncols; i++) mlprt_table_add_column(t, s->cols[i].name, s->cols[i].type);
}

/* ---- entry points ---- */

int mlprt_schema_infer(const char *path, const MlprtLoadOpts *opts, MlprtSchema *out, MlprtError *err) {
  memset(out, 0, sizeof *out);
  for (int i = 0; opts && i < opts->ndecl; i++) {
    if ((unsigned)opts->decl[i].type >= MLPRT_COL_NTYPES) {
      mlprt_error_set(err, path, 0, 0, 0, opts->decl[i].name, "declared type %d is not a column type",
                      (int)opts->decl[i].type);
      return -1;
    }
  }
  int rc = mlprt_detect_format(path, opts) == MLPRT_FMT_CSV ? mlprt_csv_infer(path, opts, out, err)
                                                            : mlprt_json_infer(path, opts, out, err);
  if (rc) return rc;
  for (int i = 0; opts && i < opts->ndecl; i++) {
    if (mlprt_schema_find(out, opts->decl[i].name) < 0) {
      mlprt_error_set(err, path, 0, 0, 0, opts->decl[i].name, "declared column is not in the data");
      mlprt_schema_free(out);
      return -1;
    }
  }
  return 0;
}

static int load_typed(const char *path, const MlprtLoadOpts *o, const MlprtSchema *s, MlprtTable *t,
                      MlprtError *err) {
  return mlprt_detect_format(path, o) == MLPRT_FMT_CSV ? mlprt_csv_load(path, o, s, t, err)
                                                       : mlprt_json_load(path, o, s, t, err);
}

int mlprt_load_schema(const char *path, const MlprtLoadOpts *opts, const MlprtSchema *schema,
                      MlprtTable *t, MlprtError *err) {
  int rc = load_typed(path, opts, schema, t, err);
  return rc ? -1 : 0;
}

int mlprt_load(const char *path, const MlprtLoadOpts *opts, MlprtTable *t, MlprtError *err) {
  MlprtSchema s;
  mlprt_table_init(t);
  if (mlprt_schema_infer(path, opts, &s, err)) return -1;
  int rc = load_typed(path, opts, &s, t, err);
  if (rc == MLPRT_ERR_RETYPE && !s.complete) {
    /* the scanned prefix was not representative: type from every row */
    MlprtLoadOpts all = opts ? *opts : (MlprtLoadOpts){0};
    all.scan_rows = -1;
    mlprt_schema_free(&s);
    if (mlprt_schema_infer(path, &all, &s, err)) return -1;
    rc = load_typed(path, &all, &s, t, err);
  }
  mlprt_schema_free(&s);
  return rc ? -1 : 0;
}

/* One type for a column that several files type differently: int and
 * float make float; text with anything, text; other mixtures, category. */
static void unify_types(MlprtSchema *u, const MlprtSchema *s) {
  for (int c = 0; c < u->ncols; c++) {
    MlprtColType a = u->cols[c].type, b = s->cols[c].type;
    if (a == b) continue;
    if ((a == MLPRT_COL_INT || a == MLPRT_COL_FLOAT) && (b == MLPRT_COL_INT || b == MLPRT_COL_FLOAT))
      u->cols[c].type = MLPRT_COL_FLOAT;
    else if (a == MLPRT_COL_TEXT || b == MLPRT_COL_TEXT) u->cols[c].type = MLPRT_COL_TEXT;
    else u->cols[c].type = MLPRT_COL_CATEGORY;
  }
}

/* ss[0..n) inferred from paths (with opts), every one with the columns of
 * the first (else an error naming the file); 0 or -1. */
static int infer_sources(const char *const *paths, int n, const MlprtLoadOpts *opts, MlprtSchema *ss,
                         MlprtError *err) {
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) {
    rc = mlprt_schema_infer(paths[i], opts, &ss[i], err);
    if (rc || i == 0) continue;
    bool same = ss[i].ncols == ss[0].ncols;
    for (int c = 0; same && c < ss[0].ncols; c++) same = strcmp(ss[i].cols[c].name, ss[0].cols[c].name) == 0;
    if (!same) {
      int c = 0;
      while (c < ss[0].ncols && c < ss[i].ncols && !strcmp(ss[i].cols[c].name, ss[0].cols[c].name)) c++;
      mlprt_error_set(err, paths[i], 0, 0, c + 1, c < ss[i].ncols ? ss[i].cols[c].name : NULL,
                      "columns differ from %s (%d columns there, %d here; first difference at column %d)",
                      paths[0], ss[0].ncols, ss[i].ncols, c + 1);
      rc = -1;
    }
  }
  return rc;
}

int mlprt_load_many(const char *const *paths, int n, const MlprtLoadOpts *opts, MlprtTable *t,
                    MlprtError *err) {
  mlprt_table_init(t);
  if (n < 1) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "no sources to load");
    return -1;
  }
  /* one schema for all files: a column that is int in one and float in
   * another must be float in both */
  MlprtSchema *ss = mlprt_xcalloc((size_t)n, sizeof *ss);
  int rc = infer_sources(paths, n, opts, ss, err);
  if (!rc) {
    MlprtSchema *u = &ss[0];
    for (int i = 1; i < n; i++) unify_types(u, &ss[i]);
    mlprt_table_from_schema(t, u);
    for (int i = 0; i < n && !rc; i++) {
      MlprtTable part;
      rc = load_typed(paths[i], opts, u, &part, err) ? -1 : 0;
      if (!rc) {
        rc = mlprt_table_append(t, &part, err);
        mlprt_table_free(&part);
      }
    }
  }
  for (int i = 0; i < n; i++) mlprt_schema_free(&ss[i]);
  free(ss);
  if (rc) mlprt_table_free(t);
  return rc ? -1 : 0;
}

/* The loader's options for the source d describes, and its paths (at most
 * 64): the texts are cut into lines in one copy, *buf (free it, and
 * opts->decl). */
typedef struct {
  MlprtLoadOpts opts;
  const char *na[64], *paths[64];
  int np;
  char *buf;
} Described;

static void describe(const MlprtSourceDesc *d, Described *o) {
  memset(o, 0, sizeof *o);
  o->opts = (MlprtLoadOpts){.delim = d->delim, .no_header = d->no_header};
  if (d->format && strcmp(d->format, "csv") == 0) o->opts.format = MLPRT_FMT_CSV;
  if (d->format && strcmp(d->format, "json") == 0) o->opts.format = MLPRT_FMT_JSON;
  if (d->format && strcmp(d->format, "jsonl") == 0) o->opts.format = MLPRT_FMT_JSONL;
  size_t lna = d->na_values ? strlen(d->na_values) : 0, lsc = d->schema ? strlen(d->schema) : 0;
  o->buf = mlprt_xmalloc(lna + lsc + strlen(d->paths) + 3);
  char *na_text = memcpy(o->buf, d->na_values ? d->na_values : "", lna + 1);
  char *decl_text = memcpy(na_text + lna + 1, d->schema ? d->schema : "", lsc + 1);
  char *list = strcpy(decl_text + lsc + 1, d->paths);
  for (char *s = na_text, *nl; *s && o->opts.nna < 64 && (nl = strchr(s, '\n')); s = nl + 1) {
    *nl = 0;
    o->na[o->opts.nna++] = s;
  }
  if (d->na_values) o->opts.na_tokens = o->na;
  /* declared types: the spec's, and those the compiler saw, so data that
   * disagrees is an error naming row and column */
  int ndecl = mlprt_decls_count(decl_text);
  MlprtDecl *decl = mlprt_xmalloc((size_t)(ndecl ? ndecl : 1) * sizeof *decl);
  o->opts.ndecl = mlprt_decls_parse(decl_text, decl);
  o->opts.decl = decl;
  for (char *s = list, *nl; s && o->np < 64; s = nl ? nl + 1 : NULL) {
    nl = strchr(s, '\n');
    if (nl) *nl = 0;
    o->paths[o->np++] = s;
  }
}

static void described_free(Described *o) {
  free((void *)o->opts.decl);
  free(o->buf);
}

int mlprt_load_described(const MlprtSourceDesc *d, MlprtTable *t, MlprtError *err) {
  Described o;
  describe(d, &o);
  int rc = o.np == 1 ? mlprt_load(o.paths[0], &o.opts, t, err)
                     : mlprt_load_many(o.paths, o.np, &o.opts, t, err);
  described_free(&o);
  return rc;
}

MlprtChunks *mlprt_chunks_open(const MlprtSourceDesc *d, int64_t rows, MlprtError *err) {
  Described o;
  describe(d, &o);
  MlprtChunks *c = NULL;
  MlprtSchema s;
  /* the declared types type every column: a short scan reads the header */
  o.opts.scan_rows = 1;
  if (o.np != 1 || mlprt_detect_format(o.paths[0], &o.opts) != MLPRT_FMT_CSV)
    mlprt_error_set(err, o.paths[0], 0, 0, 0, NULL, "only one CSV file can be read in chunks");
  else if (mlprt_schema_infer(o.paths[0], &o.opts, &s, err) == 0)
    c = mlprt_csv_chunks(o.paths[0], &o.opts, &s, rows, err);
  described_free(&o);
  return c;
}

/* Fold column c of s (a later source) into u's: missing counts and ranges
 * add up, levels join (sorted, distinct); more levels than max keep none,
 * but for a category. */
static void merge_column(MlprtSchemaCol *u, MlprtSchemaCol *s, int max) {
  u->nmissing += s->nmissing;
  if (!isnan(s->lo) && !(s->lo >= u->lo)) u->lo = s->lo;
  if (!isnan(s->hi) && !(s->hi <= u->hi)) u->hi = s->hi;
  bool keep = u->levels && s->levels && u->type != MLPRT_COL_TEXT;
  if (keep) {
    u->levels = mlprt_xrealloc(u->levels, (size_t)(u->nlevels + s->nlevels + 1) * sizeof *u->levels);
    for (int32_t l = 0; l < s->nlevels; l++) u->levels[u->nlevels++] = s->levels[l], s->levels[l] = NULL;
    qsort(u->levels, (size_t)u->nlevels, sizeof *u->levels, cmp_str);
    int32_t k = 0;
    for (int32_t l = 0; l < u->nlevels; l++) {
      if (k > 0 && strcmp(u->levels[l], u->levels[k - 1]) == 0) free(u->levels[l]);
      else u->levels[k++] = u->levels[l];
    }
    u->nlevels = k;
    keep = k <= max || u->type == MLPRT_COL_CATEGORY;
  }
  if (!keep) {
    for (int32_t l = 0; l < u->nlevels; l++) free(u->levels[l]);
    free(u->levels);
    u->levels = NULL;
    u->nlevels = 0;
  }
}

int mlprt_probe_described(const MlprtSourceDesc *d, MlprtSchema *out, MlprtError *err) {
  Described o;
  describe(d, &o);
  o.opts.scan_rows = -1;
  MlprtSchema *ss = mlprt_xcalloc((size_t)o.np, sizeof *ss);
  int rc = infer_sources(o.paths, o.np, &o.opts, ss, err);
  for (int i = 1; i < o.np && !rc; i++) {
    unify_types(&ss[0], &ss[i]);
    for (int c = 0; c < ss[0].ncols; c++)
      merge_column(&ss[0].cols[c], &ss[i].cols[c], mlprt_opt_max_levels(&o.opts));
    ss[0].nrows += ss[i].nrows;
    ss[0].bytes += ss[i].bytes;
  }
  for (int i = 1; i < o.np; i++) mlprt_schema_free(&ss[i]);
  /* a number beyond float range is an error in the loader: reading the
   * sources with the probed types names its row, as the program would */
  for (int c = 0; !rc && c < ss[0].ncols; c++) {
    const MlprtSchemaCol *sc = &ss[0].cols[c];
    bool num = sc->type == MLPRT_COL_FLOAT || sc->type == MLPRT_COL_INT;
    if (!num || !(isinf((float)sc->lo) || isinf((float)sc->hi))) continue;
    for (int i = 0; i < o.np && !rc; i++) {
      MlprtTable t;
      mlprt_table_init(&t);
      rc = load_typed(o.paths[i], &o.opts, &ss[0], &t, err) ? -1 : 0;
      mlprt_table_free(&t);
    }
    break;
  }
  if (rc) mlprt_schema_free(&ss[0]);
  else *out = ss[0];
  free(ss);
  described_free(&o);
  return rc;
}
