/* check_sql.c — SQL queries as data sources (runtime/data/sql.c), on a real
 * SQLite file and a real PostgreSQL server started for the suite on a Unix
 * socket in a temporary directory (tests/sql/pg_server.sh); no mock. The
 * PostgreSQL checks are skipped, never passed, when the server cannot be
 * started here (no server binaries, no unprivileged user to run it as).
 *
 * Each source is typed by its result columns' SQL types (and by values
 * where a column has none), loaded row by row in batches, NULL being the
 * only missing value; a query the database rejects names the byte it
 * points at; and the compiler checks a spec's columns against the query's
 * result, with the caret in the query. align joins a query's rows onto a
 * file's as of each row's time, from either database, and its keys are
 * checked against both at the step. */
#include <check.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/data.h"
#include "testutil.h"

enum { MANY = 25000 }; /* more rows than two PostgreSQL batches (MLPRT_SQL_BATCH) */

static char *dir;

static void db_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

/* DIR/t.db: a table of every kind of column, with NULLs, and a long one. */
static char *write_db(void) {
  char *path = test_path(dir, "t.db");
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  db_exec(db, "CREATE TABLE t (i INTEGER, r REAL, b BOOLEAN, s TEXT, code VARCHAR(4), d DATE)");
  db_exec(db, "INSERT INTO t VALUES (1, 0.5, 1, 'red', '01', '2024-01-31'), (2, NULL, 0, 'green', '02', "
              "'2024-02-29'), (3, 2.25, NULL, NULL, '01', NULL), (4, -1, 1, 'red', '03', '2024-03-01')");
  db_exec(db, "CREATE TABLE many (k INTEGER, v REAL)");
  db_exec(db, "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 25000) "
              "INSERT INTO many SELECT k, k * 0.5 FROM n");
  sqlite3_close(db);
  return path;
}

static void setup(void) {
  dir = test_tmpdir();
}

static void teardown(void) {
  const char *rm[] = {"rm", "-rf", dir, NULL}; /* a server's cluster too */
  test_run_ok(rm);
  free(dir);
}

static const MlprtSchemaCol *col(const MlprtSchema *s, const char *name) {
  int i = mlprt_schema_find(s, name);
  ck_assert_msg(i >= 0, "no column %s", name);
  return &s->cols[i];
}

/* The typing every SQL source shares: SQL types fix the column types, text
 * is a category (even when it reads as numbers), an expression is typed by
 * its values; then the loaded values, NULL as missing. */
static void check_typed_table(const MlprtSourceDesc *d) {
  MlprtSchema s;
  MlprtError e;
  ck_assert_msg(mlprt_sql_probe(d, &s, &e) == 0, "%s", e.msg);
  ck_assert_int_eq(s.ncols, 7);
  ck_assert_int_eq(s.nrows, 4);
  ck_assert_int_eq(col(&s, "i")->type, MLPRT_COL_INT);
  ck_assert_int_eq(col(&s, "r")->type, MLPRT_COL_FLOAT);
  ck_assert_int_eq(col(&s, "r")->nmissing, 1);
  ck_assert_int_eq(col(&s, "b")->type, MLPRT_COL_BOOL);
  ck_assert_int_eq(col(&s, "s")->type, MLPRT_COL_CATEGORY);
  ck_assert_int_eq(col(&s, "s")->nlevels, 2);
  ck_assert_int_eq(col(&s, "code")->type, MLPRT_COL_CATEGORY); /* '01' in a text column is text */
  ck_assert_str_eq(col(&s, "code")->levels[0], "01");
  ck_assert_int_eq(col(&s, "d")->type, MLPRT_COL_DATETIME);
  ck_assert_int_eq(col(&s, "twice")->type, MLPRT_COL_INT); /* an expression: by its values */
  mlprt_schema_free(&s);
  MlprtTable t;
  char sha[65], again[65];
  ck_assert_msg(mlprt_sql_load(d, &t, sha, &e) == 0, "%s", e.msg);
  ck_assert_int_eq(t.nrows, 4);
  int i = mlprt_table_find(&t, "i"), r = mlprt_table_find(&t, "r"), b = mlprt_table_find(&t, "b");
  int sc = mlprt_table_find(&t, "s"), dc = mlprt_table_find(&t, "d"), tw = mlprt_table_find(&t, "twice");
  ck_assert_float_eq(t.cols[i].f[3], 4);
  ck_assert_float_eq(t.cols[r].f[2], 2.25f);
  ck_assert(mlprt_is_missing(&t, r, 1));
  ck_assert_int_eq(t.cols[b].b[0], 1);
  ck_assert(mlprt_is_missing(&t, b, 2));
  ck_assert(mlprt_is_missing(&t, sc, 2));
  ck_assert(mlprt_is_missing(&t, dc, 2));
  char buf[64];
  ck_assert_str_eq(mlprt_cell_str(&t, sc, 3, buf, sizeof buf), "red");
  ck_assert_str_eq(mlprt_cell_str(&t, dc, 1, buf, sizeof buf), "2024-02-29");
  ck_assert_float_eq(t.cols[tw].f[2], 6);
  mlprt_table_free(&t);
  ck_assert_msg(mlprt_sql_load(d, &t, again, &e) == 0, "%s", e.msg);
  ck_assert_str_eq(sha, again);
  mlprt_table_free(&t);
}

/* All rows of a long result, in order. */
static void check_many(const MlprtSourceDesc *d) {
  MlprtTable t;
  MlprtError e;
  ck_assert_msg(mlprt_sql_load(d, &t, NULL, &e) == 0, "%s", e.msg);
  ck_assert_int_eq(t.nrows, MANY);
  double sum = 0;
  for (int64_t r = 0; r < t.nrows; r++) {
    ck_assert_float_eq(t.cols[0].f[r], (float)(r + 1));
    sum += t.cols[1].f[r];
  }
  ck_assert_double_eq_tol(sum, 0.5 * MANY * (MANY + 1) / 2, 1e-3);
  mlprt_table_free(&t);
}

/* The queries both databases answer alike (tables t and many). */
static void check_queries(MlprtSourceDesc *d) {
  d->query = "SELECT i, r, b, s, code, d, i * 2 AS twice FROM t ORDER BY i";
  check_typed_table(d);
  d->query = "SELECT k, v FROM many ORDER BY k";
  check_many(d);
}

START_TEST(sql_sqlite_types_values_batches) {
  char *db = write_db();
  MlprtSourceDesc d = {.paths = db, .format = "sqlite"};
  check_queries(&d);
  /* a declared type comes first */
  d.query = "SELECT i, s FROM t";
  d.schema = "i\tfloat\n";
  MlprtSchema s;
  MlprtError e;
  ck_assert_msg(mlprt_sql_probe(&d, &s, &e) == 0, "%s", e.msg);
  ck_assert_int_eq(col(&s, "i")->type, MLPRT_COL_FLOAT);
  mlprt_schema_free(&s);
  free(db);
}
END_TEST

START_TEST(sql_sqlite_errors_name_their_place) {
  char *db = write_db();
  MlprtSourceDesc d = {.paths = db, .format = "sqlite", .query = "SELECT i FROM t WHERE AND i"};
  MlprtTable t;
  MlprtError e;
  ck_assert_int_ne(mlprt_sql_load(&d, &t, NULL, &e), 0);
  ck_assert_msg(strstr(e.msg, "sqlite:") && strstr(e.msg, "syntax error"), "%s", e.msg);
  ck_assert_int_eq(e.query_at, 23); /* AND, where a condition should be */
  d.query = "SELECT nope FROM t";
  char **names;
  int n;
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), -1);
  ck_assert_msg(strstr(e.msg, "no such column: nope"), "%s", e.msg);
  ck_assert_int_eq(e.query_at, 8);
  d.query = "DELETE FROM t";
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), -1);
  ck_assert_msg(strstr(e.msg, "only reads"), "%s", e.msg);
  d.query = "SELECT i, s FROM t";
  d.schema = "gone\tint\n";
  MlprtSchema s;
  ck_assert_int_ne(mlprt_sql_probe(&d, &s, &e), 0);
  ck_assert_str_eq(e.column, "gone");
  /* a file that is not there: the database cannot be opened (-2) */
  char *absent = test_path(dir, "absent.db");
  d.paths = absent;
  d.schema = NULL;
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), -2);
  d.paths = db;
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), 0);
  ck_assert_int_eq(n, 2);
  ck_assert_str_eq(names[1], "s");
  for (int k = 0; k < n; k++) free(names[k]);
  free(names);
  free(absent);
  free(db);
}
END_TEST

/* mlpc check: the spec's columns against the query's result, and the
 * database's complaint about the query at the byte it names. */
START_TEST(sql_sqlite_spec_checked_against_query) {
  char *db = write_db();
  char *spec = test_path(dir, "q.mlp");
  char text[1024];
  snprintf(text, sizeof text,
           "pipeline q {\n  data {\n    source = sqlite(\"%s\", query = \"SELECT i, r, s FROM t\")\n"
           "    target = s\n    clean { standardize([r, rr]) }\n  }\n  model { output() }\n}\n",
           db);
  test_write_text(spec, text);
  const char *argv[] = {test_mlpc(), "check", spec, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "no column 'rr' in the query's result"), "%s", r.err);
  test_run_free(&r);
  snprintf(text, sizeof text,
           "pipeline q {\n  data {\n    source = sqlite(\"%s\", query = \"SELECT i, rx FROM t\")\n"
           "    target = i\n  }\n  model { output() }\n}\n",
           db);
  test_write_text(spec, text);
  r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 1);
  /* the caret under rx: the query starts after the quote at column 38 */
  ck_assert_msg(strstr(r.err, ":3:") && strstr(r.err, "no such column: rx"), "%s", r.err);
  const char *caret = strstr(r.err, "^");
  ck_assert_ptr_nonnull(caret);
  const char *line = caret;
  while (line > r.err && line[-1] != '\n') line--;
  const char *bad = strstr(text, "rx FROM");
  const char *src_line = strstr(text, "    source");
  ck_assert_int_eq((int)(caret - line), (int)(bad - src_line) + 8); /* "    3 | " before the source line */
  test_run_free(&r);
  free(spec);
  free(db);
}
END_TEST

/* ---- align: another source joined as of each row's time ------------------ */

/* The readings an align joins: (day, symbol, rate); days from 2024-01-01. */
static const struct {
  int day;
  const char *sym;
  double rate;
} readings[] = {{3, "a", 1.5}, {10, "a", 2.5}, {20, "a", 3.5}, {0, "b", -1}, {15, "b", -2},
                {29, "b", -3}, {5, "c", 9},   {10, "a", 2.75}};
enum { NREAD = sizeof readings / sizeof readings[0], NDAYS = 30 };

/* The readings as table rates (d DATE, sym TEXT, rate REAL) of the SQLite
 * file path, or of the PostgreSQL server conninfo (path NULL). */
static void write_rates(const char *path, const char *conninfo) {
  char sql[4096], *w = sql;
  w += sprintf(w, "INSERT INTO rates VALUES ");
  for (int i = 0; i < NREAD; i++)
    w += sprintf(w, "%s('2024-01-%02d', '%s', %g)", i ? ", " : "", 1 + readings[i].day, readings[i].sym,
                 readings[i].rate);
  if (path) {
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    db_exec(db, "CREATE TABLE rates (d DATE, sym TEXT, rate REAL)");
    db_exec(db, sql);
    sqlite3_close(db);
    return;
  }
  PGconn *c = PQconnectdb(conninfo);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  PGresult *res = PQexec(c, "CREATE TABLE rates (d date, sym text, rate float8)");
  ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
  PQclear(res);
  res = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
  PQclear(res);
  PQfinish(c);
}

/* DIR/align.mlp: prices of symbols a and b, two of each a day for NDAYS days, with
 * `clean` as its cleaning chain; its path (malloc'd). */
static char *align_spec(const char *clean) {
  char *csv = test_path(dir, "prices.csv"), *spec = test_path(dir, "align.mlp");
  FILE *f = fopen(csv, "w");
  fputs("date,sym,x,y\n", f);
  for (int i = 0; i < 4 * NDAYS; i++)
    fprintf(f, "2024-01-%02d,%s,%d,%d\n", 1 + i / 4, i % 2 ? "a" : "b", i, 2 * i + 1);
  fclose(f);
  char text[2048];
  snprintf(text, sizeof text,
           "pipeline q {\n  data {\n    source = csv(\"%s\")\n    target = y\n    clean {\n%s\n    }\n"
           "  }\n  model { output() }\n  hyperparameters { epochs = 2 }\n}\n",
           csv, clean);
  test_write_text(spec, text);
  free(csv);
  return spec;
}

/* align(SRC, on = date, by = sym, tolerance = "10d") trains, joining the
 * readings as of each day: the rows without a reading of their symbol in
 * the 10 days before are counted as unmatched; the predictor, holding the
 * readings, answers the test rows as training did; ONNX export refuses the
 * model that reads the joined rate, naming the step. */
static void check_align_runs(const char *src) {
  char clean[1024];
  snprintf(clean, sizeof clean,
           "      align(%s, on = date, by = sym, tolerance = \"10d\")\n"
           "      impute(columns = [rate])\n      drop_columns([date, sym])",
           src);
  char *spec = align_spec(clean);
  int64_t unmatched = 0;
  for (int i = 0; i < 4 * NDAYS; i++) {
    int best = -1, day = i / 4;
    for (int k = 0; k < NREAD; k++)
      if (strcmp(readings[k].sym, i % 2 ? "a" : "b") == 0 && readings[k].day <= day &&
          readings[k].day >= day - 10)
        best = k;
    unmatched += best < 0;
  }
  /* every column of both sources accounted for: the keys join, the rate is a feature */
  const char *check[] = {test_mlpc(), "check", spec, NULL};
  TestRun c = test_run(check, NULL);
  ck_assert_msg(c.status == 0, "%s", c.err);
  const char *joined = strstr(c.out, "(query) by align:\n");
  ck_assert_msg(joined && strstr(joined, "date  datetime  joins the sources (align)") &&
                    strstr(joined, "sym   category  joins the sources (align)") &&
                    strstr(joined, "rate  float     1 feature (impute)"),
                "%s", c.out);
  test_run_free(&c);
  char *run = test_train(spec, dir, "align");
  cJSON *rec = test_read_json(run, "cleaning.json");
  const cJSON *steps = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "cleaning"), "steps");
  const cJSON *step = cJSON_GetArrayItem(steps, 0);
  ck_assert_str_eq(cJSON_GetObjectItem(step, "step")->valuestring, "align");
  const cJSON *rate = cJSON_GetArrayItem(cJSON_GetObjectItem(step, "columns"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(rate, "column")->valuestring, "rate");
  ck_assert_str_eq(cJSON_GetObjectItem(rate, "type")->valuestring, "float");
  ck_assert_int_eq((int64_t)cJSON_GetObjectItem(rate, "unmatched")->valuedouble, unmatched);
  ck_assert_int_gt(unmatched, 0);
  ck_assert_double_eq(cJSON_GetObjectItem(step, "tolerance")->valuedouble, 10 * 86400);
  cJSON_Delete(rec);
  /* the predictor holds the readings as export read them: the test rows answer as in training */
  char *pred = test_path(dir, "align.pred");
  test_predictor_as_trained(run, pred, 1, "align with the joined column read");
  char *onnx = test_path(dir, "align.onnx");
  const char *exp_onnx[] = {test_mlpc(), "export", run, "--onnx", onnx, NULL};
  TestRun r = test_run(exp_onnx, NULL);
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(strstr(r.err, "cleaning step 1 (align), which joins column 'rate'"), "%s", r.err);
  test_run_free(&r);
  free(onnx);
  const char *rm[] = {"rm", "-rf", run, NULL};
  test_run_ok(rm);
  free(pred);
  free(run);
  free(spec);
}

START_TEST(sql_align_joins_an_sqlite_query) {
  char *db = test_path(dir, "rates.db");
  write_rates(db, NULL);
  char src[512];
  snprintf(src, sizeof src, "sqlite(\"%s\", query = \"SELECT d AS date, sym, rate FROM rates\")", db);
  check_align_runs(src);
  /* a model that reads no joined column exports; the rows the join
   * dropped are left out of the test rows, which the predictor answers as
   * training did */
  char clean[1024];
  snprintf(clean, sizeof clean,
           "      align(%s, on = date, by = sym, tolerance = \"10d\", unmatched = drop_row)\n"
           "      drop_columns([date, sym, rate])",
           src);
  char *spec = align_spec(clean), *run = test_train(spec, dir, "dropped");
  char *pred = test_path(dir, "dropped.pred");
  cJSON *rec = test_read_json(run, "cleaning.json");
  const cJSON *steps = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "cleaning"), "steps");
  const cJSON *step = cJSON_GetArrayItem(steps, 0);
  ck_assert_int_gt((int64_t)cJSON_GetObjectItem(step, "rows_dropped")->valuedouble, 0);
  cJSON_Delete(rec);
  test_predictor_as_trained(run, pred, 1, "align with the joined column dropped");
  free(pred);
  free(run);
  free(spec);
  /* the keys named otherwise in the query: left_on/right_on, left_by/right_by join as on and by did */
  snprintf(clean, sizeof clean,
           "      align(sqlite(\"%s\", query = \"SELECT d AS day, sym AS symbol, rate FROM rates\"),\n"
           "            left_on = date, right_on = day, left_by = sym, right_by = symbol,\n"
           "            tolerance = \"10d\")\n"
           "      impute(columns = [rate])\n      drop_columns([date, sym])",
           db);
  spec = align_spec(clean);
  run = test_train(spec, dir, "named");
  rec = test_read_json(run, "cleaning.json");
  step = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "cleaning"), "steps"), 0);
  const cJSON *rate = cJSON_GetArrayItem(cJSON_GetObjectItem(step, "columns"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(rate, "column")->valuestring, "rate");
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(step, "columns")), 1); /* day, symbol: keys */
  ck_assert_int_gt((int64_t)cJSON_GetObjectItem(rate, "unmatched")->valuedouble, 0);
  cJSON_Delete(rec);
  pred = test_path(dir, "named.pred");
  test_predictor_as_trained(run, pred, 1, "align with keys named otherwise");
  free(pred);
  free(run);
  free(spec);
  /* a key named both ways, or one side only: an error at the parameter */
  static const char *const twice[] = {"on = date, right_on = day", "on = date, left_by = sym"};
  for (int i = 0; i < 2; i++) {
    snprintf(clean, sizeof clean,
             "      align(sqlite(\"%s\", query = \"SELECT d AS day, sym, rate FROM rates\"), %s)", db,
             twice[i]);
    spec = align_spec(clean);
    const char *argv[] = {test_mlpc(), "build", "--emit-ir", spec, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "align.mlp:6:") && strstr(r.err, i ? "name the group key once: by = COL"
                                                                  : "name the time key once: on = COL"),
                  "%s", r.err);
    test_run_free(&r);
    free(spec);
  }
  free(db);
}
END_TEST

/* The keys checked against both sources, at the align step: a key the
 * source lacks, a key that is no date or number, keys of different kinds,
 * a tolerance of the wrong kind. */
START_TEST(sql_align_errors_at_the_step) {
  char *db = test_path(dir, "rates.db");
  write_rates(db, NULL);
  static const struct {
    const char *query, *args, *error;
  } cases[] = {
      {"SELECT d, sym, rate FROM rates", "on = date", "has no column 'date' (the time key)"},
      {"SELECT d AS date, sym, rate FROM rates", "on = sym", "the time key 'sym' is a category column here"},
      {"SELECT CAST(strftime('%s', d) AS INTEGER) AS date, sym, rate FROM rates", "on = date",
       "the time key 'date' is a date in the table but a number (int) in sqlite(query)"},
      {"SELECT d AS date, sym, rate FROM rates", "on = date, tolerance = 5",
       "the time key 'date' is a date, so the tolerance is a duration"},
      {"SELECT d AS date, rate FROM rates", "on = date, by = sym",
       "sqlite(query) has no column 'sym' to match by"},
      {"SELECT d AS date, sym, rate AS x FROM rates", "on = date, by = sym",
       "sqlite(query) has a column 'x', as the table has"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char clean[512];
    snprintf(clean, sizeof clean, "      align(sqlite(\"%s\", query = \"%s\"), %s)", db, cases[i].query,
             cases[i].args);
    char *spec = align_spec(clean);
    const char *argv[] = {test_mlpc(), "build", "--emit-ir", spec, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_int_eq(r.status, 1);
    /* at the step: line 6, column 7 of the spec */
    ck_assert_msg(strstr(r.err, "align.mlp:6:7: error: align: ") && strstr(r.err, cases[i].error),
                  "case %zu: %s", i, r.err);
    test_run_free(&r);
    free(spec);
  }
  free(db);
}
END_TEST

/* ---- PostgreSQL ---------------------------------------------------------- */

/* Start the suite's server; false (after a skip) when it cannot start. */
static bool pg_start(void) {
  const char *argv[] = {"sh", "tests/sql/pg_server.sh", "start", dir, NULL};
  TestRun r = test_run(argv, NULL);
  bool ok = r.status == 0;
  if (r.status == 77) test_skip("SQL sources on PostgreSQL", "postgresql server", r.err);
  else ck_assert_msg(ok, "pg_server.sh start: status %d: %s", r.status, r.err);
  test_run_free(&r);
  return ok;
}

static void pg_stop(void) {
  const char *argv[] = {"sh", "tests/sql/pg_server.sh", "stop", dir, NULL};
  test_run_ok(argv);
}

static void pg_exec(PGconn *c, const char *sql) {
  PGresult *res = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
  PQclear(res);
}

START_TEST(sql_postgres_types_values_batches) {
  if (!pg_start()) return;
  char conninfo[512];
  snprintf(conninfo, sizeof conninfo, "host=%s dbname=postgres user=mlp", dir);
  PGconn *c = PQconnectdb(conninfo);
  ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
  pg_exec(c, "CREATE TABLE t (i int4, r float8, b boolean, s text, code varchar(4), d date)");
  pg_exec(c, "INSERT INTO t VALUES (1, 0.5, true, 'red', '01', '2024-01-31'), "
             "(2, NULL, false, 'green', '02', '2024-02-29'), (3, 2.25, NULL, NULL, '01', NULL), "
             "(4, -1, true, 'red', '03', '2024-03-01')");
  pg_exec(c, "CREATE TABLE many AS SELECT k::int8 AS k, (k * 0.5)::numeric AS v "
             "FROM generate_series(1, 25000) k");
  pg_exec(c, "CREATE TABLE stamps (at timestamptz, n int2)");
  pg_exec(c, "INSERT INTO stamps VALUES ('2024-05-06 07:08:09+02', 1)");
  PQfinish(c);
  MlprtSourceDesc d = {.paths = conninfo, .format = "postgres"};
  check_queries(&d);
  /* a time with a zone, in UTC */
  d.query = "SELECT at, n FROM stamps";
  MlprtTable t;
  MlprtError e;
  ck_assert_msg(mlprt_sql_load(&d, &t, NULL, &e) == 0, "%s", e.msg);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_DATETIME);
  int64_t want;
  ck_assert(mlprt_parse_datetime("2024-05-06T05:08:09Z", 20, &want));
  ck_assert_int_eq(t.cols[0].t[0], want);
  mlprt_table_free(&t);
  /* the server's complaint names the byte of the query */
  d.query = "SELECT i, nope FROM t";
  char **names;
  int n;
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), -1);
  ck_assert_msg(strstr(e.msg, "postgres:") && strstr(e.msg, "nope"), "%s", e.msg);
  ck_assert_int_eq(e.query_at, 11);
  d.query = "SELECT i, s FROM t";
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), 0);
  ck_assert_int_eq(n, 2);
  for (int k = 0; k < n; k++) free(names[k]);
  free(names);
  /* align joins a query's rows as of each row's time */
  write_rates(NULL, conninfo);
  char src[1024];
  snprintf(src, sizeof src, "postgres(\"%s\", query = \"SELECT d AS date, sym, rate FROM rates\")", conninfo);
  check_align_runs(src);
  pg_stop();
  /* the server gone: the database cannot be reached (-2) */
  ck_assert_int_eq(mlprt_sql_columns(&d, &names, &n, &e), -2);
}
END_TEST

Suite *sql_suite(void);
Suite *sql_suite(void) {
  Suite *s = suite_create("sql");
  TCase *tc = tcase_create("sql");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, sql_sqlite_types_values_batches);
  tcase_add_test(tc, sql_sqlite_errors_name_their_place);
  tcase_add_test(tc, sql_sqlite_spec_checked_against_query);
  tcase_add_test(tc, sql_align_joins_an_sqlite_query);
  tcase_add_test(tc, sql_align_errors_at_the_step);
  tcase_add_test(tc, sql_postgres_types_values_batches);
  suite_add_tcase(s, tc);
  return s;
}
