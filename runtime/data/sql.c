/* sql.c — the rows of an SQL query as a data source: SQLite through
 * libsqlite3, PostgreSQL through libpq.
 *
 * Consumes a source description (the database or connection string, the
 * query, the declared types); produces the query's columns (names, and the
 * types their SQL types fix), a schema typed from them and from the values
 * (mlprt_infer_add, as a file's fields are typed), and the table, filled
 * through mlprt_cell_from_text row by row as the rows stream in: SQLite
 * steps its statement, PostgreSQL fetches from a cursor MLPRT_SQL_BATCH rows
 * at a time, so neither side holds the whole result twice. */
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"
#include "mlp/files.h"

/* A column whose SQL type is text: a category or text by its values. */
enum { HINT_TEXT = MLPRT_COL_NTYPES };

static const char CURSOR_SQL[] = "DECLARE mlp_rows NO SCROLL CURSOR FOR ";

typedef struct {
  bool pg;
  const char *where, *query;
  sqlite3 *db;
  sqlite3_stmt *st;
  PGconn *conn;
  PGresult *res; /* PostgreSQL: the current batch */
  int res_row, res_n;
  bool done;
  int ncols;
  char **names; /* [ncols] */
  int *hint;    /* [ncols] the MlprtColType the SQL type fixes, HINT_TEXT, or -1: typed by the values */
  int64_t row;  /* rows read so far */
  char buf[64]; /* a PostgreSQL value respelled for the loader */
} Cursor;

/* SQLite's declared column type, read by its affinity rules. */
static int sqlite_hint(const char *decl) {
  if (!decl) return -1; /* an expression: typed by its values */
  char up[64];
  size_t n = 0;
  for (; decl[n] && n + 1 < sizeof up; n++)
    up[n] = (char)(decl[n] >= 'a' && decl[n] <= 'z' ? decl[n] - 32 : decl[n]);
  up[n] = 0;
  if (strstr(up, "BOOL")) return MLPRT_COL_BOOL;
  if (strstr(up, "INT")) return MLPRT_COL_INT;
  if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT")) return HINT_TEXT;
  if (strstr(up, "DATE") || strstr(up, "TIME")) return MLPRT_COL_DATETIME;
  if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB") || strstr(up, "NUM") ||
      strstr(up, "DEC"))
    return MLPRT_COL_FLOAT;
  return -1;
}

/* A PostgreSQL result column's type (its pg_type OID). */
static int pg_hint(Oid t) {
  switch (t) {
  case 16: return MLPRT_COL_BOOL; /* bool */
  case 20:
  case 21:
  case 23: return MLPRT_COL_INT; /* int8, int2, int4 */
  case 700:
  case 701:
  case 1700: return MLPRT_COL_FLOAT; /* float4, float8, numeric */
  case 1082:
  case 1114:
  case 1184: return MLPRT_COL_DATETIME; /* date, timestamp, timestamptz */
  case 18:
  case 19:
  case 25:
  case 1042:
  case 1043: return HINT_TEXT; /* char, name, text, bpchar, varchar */
  default: return -1;
  }
}

static void cursor_close(Cursor *c) {
  if (c->st) sqlite3_finalize(c->st);
  if (c->db) sqlite3_close(c->db);
  if (c->res) PQclear(c->res);
  if (c->conn) PQfinish(c->conn);
  for (int i = 0; c->names && i < c->ncols; i++) free(c->names[i]);
  free(c->names);
  free(c->hint);
  memset(c, 0, sizeof *c);
}

/* A PostgreSQL error of result r (or of the connection): its primary
 * message, and the byte of the query it points at. */
static int pg_fail(Cursor *c, PGresult *r, size_t prefix, MlprtError *err) {
  const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  const char *pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
  if (!msg) msg = PQerrorMessage(c->conn);
  mlprt_error_set(err, c->where, c->row ? c->row + 1 : 0, 0, 0, NULL, "postgres: %.*s",
                  (int)strcspn(msg, "\n"), msg);
  if (pos && atoi(pos) > (int)prefix) err->query_at = atoi(pos) - (int)prefix;
  if (r) PQclear(r);
  return -1;
}

/* PostgreSQL: the next n rows of the cursor into c->res. */
static int pg_fetch(Cursor *c, int n, MlprtError *err) {
  char fetch[64];
  snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM mlp_rows", n);
  if (c->res) PQclear(c->res);
  c->res = PQexec(c->conn, fetch);
  if (PQresultStatus(c->res) == PGRES_TUPLES_OK) return 0;
  PGresult *r = c->res;
  c->res = NULL;
  return pg_fail(c, r, 0, err);
}

/* PostgreSQL: connect, open a read-only transaction and a cursor over the
 * query, and fetch the first batch (none when rows is false: the columns
 * only). 0, -1, or -2 when the server cannot be reached. */
static int pg_open(Cursor *c, bool rows, MlprtError *err) {
  c->conn = PQconnectdb(c->where);
  if (PQstatus(c->conn) != CONNECTION_OK) return pg_fail(c, NULL, 0, err) - 1;
  PGresult *r = PQexec(c->conn, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; BEGIN READ ONLY");
  if (PQresultStatus(r) != PGRES_COMMAND_OK) return pg_fail(c, r, 0, err);
  PQclear(r);
  size_t n = strlen(CURSOR_SQL) + strlen(c->query) + 1;
  char *sql = mlprt_xmalloc(n);
  snprintf(sql, n, "%s%s", CURSOR_SQL, c->query);
  r = PQexec(c->conn, sql);
  free(sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) return pg_fail(c, r, strlen(CURSOR_SQL), err);
  PQclear(r);
  if (pg_fetch(c, rows ? MLPRT_SQL_BATCH : 0, err) != 0) return -1;
  c->res_n = rows ? PQntuples(c->res) : 0;
  c->done = c->res_n == 0;
  c->res_row = -1;
  c->ncols = PQnfields(c->res);
  return 0;
}

/* SQLite: open the file read-only and prepare the one statement. 0, -1,
 * or -2 when the file cannot be opened. */
static int sqlite_open(Cursor *c, MlprtError *err) {
  if (sqlite3_open_v2(c->where, &c->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    mlprt_error_set(err, c->where, 0, 0, 0, NULL, "sqlite: %s",
                    c->db ? sqlite3_errmsg(c->db) : "out of memory");
    return -2;
  }
  const char *tail = NULL;
  if (sqlite3_prepare_v2(c->db, c->query, -1, &c->st, &tail) != SQLITE_OK) {
    mlprt_error_set(err, c->where, 0, 0, 0, NULL, "sqlite: %s", sqlite3_errmsg(c->db));
    int at = sqlite3_error_offset(c->db);
    if (at >= 0) err->query_at = at + 1;
    return -1;
  }
  while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';')) tail++;
  if (!c->st || (tail && *tail) || !sqlite3_stmt_readonly(c->st)) {
    mlprt_error_set(err, c->where, 0, 0, 0, NULL, "sqlite: the query must be one statement that only reads");
    return -1;
  }
  c->ncols = sqlite3_column_count(c->st);
  return 0;
}

/* The name of result column i, and in *hint the type its SQL type fixes. */
static const char *column_of(const Cursor *c, int i, int *hint) {
  if (c->pg) {
    *hint = pg_hint(PQftype(c->res, i));
    return PQfname(c->res, i);
  }
  *hint = sqlite_hint(sqlite3_column_decltype(c->st, i));
  return sqlite3_column_name(c->st, i);
}

static int cursor_open(const MlprtSourceDesc *d, bool rows, Cursor *c, MlprtError *err) {
  memset(c, 0, sizeof *c);
  c->pg = strcmp(d->format, "postgres") == 0;
  c->where = d->paths;
  c->query = d->query ? d->query : "";
  int rc = c->pg ? pg_open(c, rows, err) : sqlite_open(c, err);
  c->names = mlprt_xcalloc((size_t)c->ncols + 1, sizeof *c->names);
  c->hint = mlprt_xmalloc(((size_t)c->ncols + 1) * sizeof *c->hint);
  for (int i = 0; rc == 0 && i < c->ncols; i++) c->names[i] = strdup(column_of(c, i, &c->hint[i]));
  if (rc == 0 && c->ncols == 0) {
    mlprt_error_set(err, c->where, 0, 0, 0, NULL, "the query returns no columns");
    rc = -1;
  }
  if (rc != 0) cursor_close(c);
  return rc;
}

/* The next row: 1 when there is one, 0 at the end, -1 on an error. */
static int cursor_next(Cursor *c, MlprtError *err) {
  if (!c->pg) {
    int rc = sqlite3_step(c->st);
    if (rc == SQLITE_ROW) return c->row++, 1;
    if (rc == SQLITE_DONE) return 0;
    mlprt_error_set(err, c->where, c->row + 1, 0, 0, NULL, "sqlite: %s", sqlite3_errmsg(c->db));
    return -1;
  }
  if (c->done) return 0;
  if (++c->res_row < c->res_n) return c->row++, 1;
  if (pg_fetch(c, MLPRT_SQL_BATCH, err) != 0) return -1;
  c->res_n = PQntuples(c->res);
  c->res_row = 0;
  c->done = c->res_n == 0;
  return c->done ? 0 : (c->row++, 1);
}

/* Column i of the current row as the loaders read text; NULL for SQL NULL.
 * PostgreSQL's booleans (t, f) and timestamps ("2020-01-31 12:00:00+00")
 * are respelled in the forms the loaders read (true, false, ISO 8601). */
static const char *cursor_value(Cursor *c, int i, size_t *len) {
  if (!c->pg) {
    if (sqlite3_column_type(c->st, i) == SQLITE_NULL) return NULL;
    const char *s = (const char *)sqlite3_column_text(c->st, i);
    *len = (size_t)sqlite3_column_bytes(c->st, i);
    return s ? s : "";
  }
  if (PQgetisnull(c->res, c->res_row, i)) return NULL;
  const char *s = PQgetvalue(c->res, c->res_row, i);
  *len = (size_t)PQgetlength(c->res, c->res_row, i);
  if (c->hint[i] == MLPRT_COL_BOOL && *len == 1) {
    const char *word = *s == 't' ? "true" : *s == 'f' ? "false" : s;
    *len = strlen(word);
    return word;
  }
  if (c->hint[i] == MLPRT_COL_DATETIME && *len > 10 && *len + 4 < sizeof c->buf) {
    memcpy(c->buf, s, *len + 1);
    c->buf[10] = 'T';
    size_t n = *len;
    /* a zone of hours alone: +HH -> +HH:00 */
    if (n > 19 && (c->buf[n - 3] == '+' || c->buf[n - 3] == '-')) memcpy(c->buf + n, ":00", 4), n += 3;
    *len = n;
    return c->buf;
  }
  return s;
}

/* ---- typing and loading ------------------------------------------------ */

/* The declared types of d ("NAME\tTYPE\n" lines), then those the query's
 * SQL types fix: *decl (malloc'd; the names point into *text, also
 * malloc'd, and into c). */
static MlprtDecl *declared(const MlprtSourceDesc *d, const Cursor *c, int *n, char **text) {
  *text = strdup(d->schema ? d->schema : "");
  int nd = mlprt_decls_count(*text);
  MlprtDecl *decl = mlprt_xmalloc((size_t)(nd + c->ncols + 1) * sizeof *decl);
  *n = mlprt_decls_parse(*text, decl);
  for (int i = 0; i < c->ncols; i++)
    if (c->hint[i] >= 0 && c->hint[i] != HINT_TEXT)
      decl[(*n)++] = (MlprtDecl){c->names[i], (MlprtColType)c->hint[i]};
  return decl;
}

/* Type every column from the query's types and every row's values. */
static int infer_rows(const MlprtSourceDesc *d, Cursor *c, MlprtSchema *out, MlprtError *err) {
  char *text;
  MlprtLoadOpts o = {0};
  MlprtDecl *decl = declared(d, c, &o.ndecl, &text);
  o.decl = decl;
  int rc = 0;
  for (int i = 0; i < o.ndecl && !rc; i++) {
    bool found = false;
    for (int k = 0; k < c->ncols && !found; k++) found = strcmp(c->names[k], decl[i].name) == 0;
    if (!found) {
      mlprt_error_set(err, c->where, 0, 0, 0, decl[i].name, "declared column is not in the query's result");
      rc = -1;
    }
  }
  MlprtInferCol *ic = mlprt_xcalloc((size_t)c->ncols, sizeof *ic);
  int *type = mlprt_xmalloc((size_t)c->ncols * sizeof *type);
  for (int i = 0; i < c->ncols; i++) type[i] = mlprt_decl_type(&o, c->names[i]);
  int maxl = mlprt_opt_max_levels(&o), more;
  while (!rc && (more = cursor_next(c, err)) != 0) {
    if (more < 0) {
      rc = -1;
      break;
    }
    for (int i = 0; i < c->ncols && !rc; i++) {
      size_t len;
      const char *v = cursor_value(c, i, &len);
      if (!v) {
        ic[i].nmissing++;
      } else if (mlprt_infer_add(&ic[i], v, len, maxl, type[i]) != 0) {
        mlprt_error_set(err, c->where, c->row, 0, i + 1, c->names[i], "'%.*s' is not a %s",
                        (int)(len < 40 ? len : 40), v, mlprt_col_type_name((MlprtColType)type[i]));
        rc = -1;
      } else if (c->hint[i] == HINT_TEXT && type[i] < 0) {
        ic[i].kinds |= MLPRT_K_STRING; /* "1" in a text column is text */
      }
    }
  }
  if (!rc) {
    char **names = mlprt_xmalloc((size_t)c->ncols * sizeof *names);
    for (int i = 0; i < c->ncols; i++) names[i] = strdup(c->names[i]);
    mlprt_infer_finish(ic, names, c->ncols, &o, c->row, true, out);
    free(names);
  } else {
    for (int i = 0; i < c->ncols; i++) mlprt_levels_free(&ic[i].levels);
  }
  free(ic);
  free(type);
  free(decl);
  free(text);
  return rc;
}

/* Fill *t (typed by s) from the cursor's rows, the digest in h when not
 * NULL. */
static int fill_rows(Cursor *c, const MlprtSchema *s, MlprtTable *t, MlprtSha256 *h, MlprtError *err) {
  mlprt_table_from_schema(t, s);
  for (int i = 0; i < c->ncols; i++) {
    if (s->ncols != c->ncols || strcmp(s->cols[i].name, c->names[i]) != 0) {
      mlprt_error_set(err, c->where, 0, 0, i + 1, c->names[i],
                      "the query's columns are not the ones it was typed with (the database changed)");
      return -1;
    }
  }
  static const char *const no_tokens[1] = {""};
  MlprtLoadOpts none = {.na_tokens = no_tokens, .nna = 0}; /* NULL is the only missing value */
  MlprtNaSet na;
  mlprt_na_init(&na, &none);
  int more;
  while ((more = cursor_next(c, err)) > 0) {
    int64_t r = t->nrows;
    if (r == t->cap_rows) mlprt_table_reserve(t, r + (r > MLPRT_SQL_BATCH ? r : MLPRT_SQL_BATCH));
    mlprt_row_set_missing(t, r);
    for (int i = 0; i < c->ncols; i++) {
      size_t len;
      const char *v = cursor_value(c, i, &len), *why;
      if (h) {
        if (v) mlprt_sha256_update(h, v, len);
        mlprt_sha256_update(h, v ? "\x1f" : "\x01\x1f", v ? 1 : 2);
      }
      if (v && mlprt_cell_from_text(t, i, r, v, len, &na, &why) != 0) {
        mlprt_error_set(err, c->where, r + 1, 0, i + 1, c->names[i], "%s", why);
        return -1;
      }
    }
    if (h) mlprt_sha256_update(h, "\x1e", 1);
    t->nrows = r + 1;
  }
  mlprt_table_shrink(t);
  return more < 0 ? -1 : 0;
}

int mlprt_sql_probe(const MlprtSourceDesc *d, MlprtSchema *out, MlprtError *err) {
  Cursor c;
  memset(out, 0, sizeof *out);
  if (cursor_open(d, true, &c, err) != 0) return -1;
  int rc = infer_rows(d, &c, out, err);
  cursor_close(&c);
  /* a number beyond float range is an error in the loader: loading names
   * its row, as the program would */
  for (int i = 0; rc == 0 && i < out->ncols; i++) {
    const MlprtSchemaCol *sc = &out->cols[i];
    bool num = sc->type == MLPRT_COL_FLOAT || sc->type == MLPRT_COL_INT;
    if (!num || !(isinf((float)sc->lo) || isinf((float)sc->hi))) continue;
    MlprtTable t;
    mlprt_table_init(&t);
    rc = cursor_open(d, true, &c, err);
    if (rc == 0) rc = fill_rows(&c, out, &t, NULL, err);
    cursor_close(&c);
    mlprt_table_free(&t);
    if (rc) mlprt_schema_free(out);
    break;
  }
  return rc ? -1 : 0;
}

int mlprt_source_load(const MlprtSourceDesc *d, MlprtTable *t, MlprtError *err) {
  return mlprt_format_sql(d->format) ? mlprt_sql_load(d, t, NULL, err) : mlprt_load_described(d, t, err);
}

int mlprt_sql_load(const MlprtSourceDesc *d, MlprtTable *t, char sha256[65], MlprtError *err) {
  mlprt_table_init(t);
  Cursor c;
  if (cursor_open(d, true, &c, err) != 0) return -1;
  /* Every column declared (a compiled program's case): one pass. */
  char *text;
  int nd;
  MlprtDecl *decl = declared(d, &c, &nd, &text);
  MlprtLoadOpts o = {.decl = decl, .ndecl = nd};
  MlprtSchema s = {.cols = mlprt_xcalloc((size_t)c.ncols, sizeof *s.cols), .ncols = c.ncols};
  bool all = true;
  for (int i = 0; i < c.ncols; i++) {
    int ty = mlprt_decl_type(&o, c.names[i]);
    all &= ty >= 0;
    s.cols[i] = (MlprtSchemaCol){.name = strdup(c.names[i]), .type = (MlprtColType)(ty >= 0 ? ty : 0)};
  }
  free(decl);
  free(text);
  int rc = 0;
  if (!all) {
    mlprt_schema_free(&s);
    rc = infer_rows(d, &c, &s, err);
    cursor_close(&c);
    if (rc == 0) rc = cursor_open(d, true, &c, err);
  }
  MlprtSha256 h;
  mlprt_sha256_init(&h);
  if (rc == 0) rc = fill_rows(&c, &s, t, sha256 ? &h : NULL, err);
  if (rc == 0 && sha256) mlprt_sha256_final_hex(&h, sha256);
  cursor_close(&c);
  mlprt_schema_free(&s);
  if (rc) mlprt_table_free(t);
  return rc ? -1 : 0;
}

int mlprt_sql_columns(const MlprtSourceDesc *d, char ***names, int *n, MlprtError *err) {
  Cursor c;
  int rc = cursor_open(d, false, &c, err);
  if (rc != 0) return rc;
  *names = c.names;
  *n = c.ncols;
  c.names = NULL;
  cursor_close(&c);
  return 0;
}
