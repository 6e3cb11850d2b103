/* check_contract.c — the spec is the contract. A walk over the whole
 * registry proves that every op, setting and parameter either acts or is
 * refused: a built one written with a value other than its default changes
 * the plan (`mlpc build --emit-ir`), and an op written adds to it; a planned
 * one is refused by lowering with an error at the place it is written.
 *
 * Each item is written into a small spec: a base on examples/data/iris.csv,
 * with the context the item needs (a table with a categorical column and
 * missing values for cleaning ops, tiny IDX images for convolutions, a
 * search space for tuning), and compared with the same spec that does not
 * write it (so its default applies; a kind's op, with another op of the
 * kind). A value is the case's own, or one the item's type and range admit
 * other than the default, trying until one changes the plan. Items that act
 * by refusing a spec (the limits, the loss that must fit the output) are
 * written with a value that breaks them and must be refused; ops applied
 * with their defaults when not written (split, smoke, early_stopping) must
 * lower when written, and their parameters are walked. An item the walk
 * does not know how to write fails the walk, so a new registry row needs a
 * case here. */
#include <check.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "datautil.h"
#include "lower.h"
#include "parse.h"
#include "testutil.h"

/* ---- specs ------------------------------------------------------------------ */

typedef enum {
  S_SRC,
  S_TARGET,
  S_DATA,
  S_SCHEMA,
  S_CLEAN,
  S_MODEL,
  S_HYPER,
  S_ENV,
  S_VAL,
  S_TUNE,
  S_AN,
  S_DEP,
  S_FS,
  NSLOTS
} Slot;

/* The base spec's text in each slot; a context replaces some of them. */
static const char *const base[NSLOTS] = {"csv(\"data/iris.csv\")",        "species", "", "", "",
                                         "dense(units = 8)\n    output()"};

typedef struct {
  const char *s[NSLOTS]; /* NULL: the base text */
} Ctx;

#define SPEC_NAME "examples/walk.mlp"

typedef struct {
  char *text;
  int line, col; /* of the '@' marker (removed), 0 when there is none */
} Spec;

static Spec make_spec(const Ctx *c) {
  const char *s[NSLOTS];
  for (int i = 0; i < NSLOTS; i++) s[i] = c && c->s[i] ? c->s[i] : base[i] ? base[i] : "";
  char *text;
  size_t n;
  FILE *f = open_memstream(&text, &n);
  fprintf(
      f,
      "pipeline walk {\n  data {\n    source = %s\n    target = %s\n    %s\n    schema {\n      %s\n    }\n"
      "    clean {\n      %s\n    }\n  }\n  model {\n    %s\n  }\n  hyperparameters {\n    %s\n  }\n"
      "  environment {\n    %s\n  }\n  validation {\n    %s\n  }\n  tuning {\n    %s\n  }\n"
      "  analysis {\n    %s\n  }\n  deploy {\n    %s\n    failsafe {\n      %s\n    }\n  }\n}\n",
      s[S_SRC], s[S_TARGET], s[S_DATA], s[S_SCHEMA], s[S_CLEAN], s[S_MODEL], s[S_HYPER], s[S_ENV], s[S_VAL],
      s[S_TUNE], s[S_AN], s[S_DEP], s[S_FS]);
  fclose(f);
  Spec sp = {text, 0, 0};
  char *at = strchr(text, '@');
  if (at) {
    sp.line = 1;
    const char *bol = text;
    for (const char *p = text; p < at; p++)
      if (*p == '\n') sp.line++, bol = p + 1;
    sp.col = (int)(at - bol) + 1;
    memmove(at, at + 1, strlen(at));
  }
  return sp;
}

typedef struct {
  bool ok;
  char *ir;   /* the --emit-ir text when ok */
  char *diag; /* everything reported */
} Lowered;

static Lowered lower_text(const char *text) {
  Lowered r = {0};
  MlpArena a;
  mlp_arena_init(&a);
  size_t n;
  FILE *f = open_memstream(&r.diag, &n);
  MlpDiag d;
  mlp_diag_init(&d, f);
  d.color = false;
  MlpAst *ast = mlp_parse(&a, mlp_source_from_string(&a, SPEC_NAME, text, (int)strlen(text)), &d);
  MlpSpec *spec = ast && d.nerr == 0 ? mlp_sema_check(&a, ast, &d) : NULL;
  MlpIr *ir = spec ? mlp_lower(&a, spec, SPEC_NAME, &d) : NULL;
  fclose(f);
  if (ir) {
    FILE *o = open_memstream(&r.ir, &n);
    mlp_ir_dump(ir, o);
    fclose(o);
    r.ok = true;
  }
  mlp_arena_free(&a);
  return r;
}

static void lowered_free(Lowered *r) {
  free(r->ir);
  free(r->diag);
}

/* ---- fixtures ------------------------------------------------------------- */

static char *dir;
static char *mix_src, *idx_src, *idx6_src, *idx4_src, *json_src, *jsonl_src, *iris_copy, *semi_src,
    *nohdr_src, *json2, *sqlite_db, *sqlite_db2, *txt_src, *rates, *rates2, *rates_by, *rates_x1,
    *rates_named;
/* The suite's PostgreSQL server (tests/sql/pg_server.sh), holding iris as
 * table iris: its connection string, or NULL when it cannot start here
 * (its items are then skipped, with the reason). */
static char *pg_conninfo, *pg_dir;
static char *pg_why;

static char *printf_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *printf_alloc(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s;
  size_t n;
  FILE *f = open_memstream(&s, &n);
  vfprintf(f, fmt, ap);
  fclose(f);
  va_end(ap);
  return s;
}

/* n IDX images of side x side pixels and their labels (classes 0..k-1). */
static void write_idx(const char *name, int n, int side, int k, char **images, char **labels) {
  size_t ni = 16 + (size_t)n * side * side;
  unsigned char *img = calloc(1, ni), lab[8 + 64] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
  unsigned char head[16] = {
      0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, (unsigned char)side, 0, 0, 0, (unsigned char)side};
  memcpy(img, head, 16);
  for (int i = 0; i < n; i++) {
    lab[8 + i] = (unsigned char)(i % k);
    for (int p = 0; p < side * side; p++)
      img[16 + (size_t)i * side * side + p] = (unsigned char)(i * 7 + p * 13);
  }
  char iname[64], lname[64];
  snprintf(iname, sizeof iname, "%s-images.idx", name);
  snprintf(lname, sizeof lname, "%s-labels.idx", name);
  *images = dt_write(dir, iname, (const char *)img, ni);
  *labels = dt_write(dir, lname, (const char *)lab, 8 + (size_t)n);
  free(img);
}

/* iris (the CSV's text) as table iris of the SQLite file path, or of the
 * PostgreSQL server pg (when not NULL). */
static void write_iris_table(const char *iris, const char *path, PGconn *pg) {
  sqlite3 *db = NULL;
  if (!pg) ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
  char *sql = NULL;
  size_t n;
  FILE *f = open_memstream(&sql, &n);
  fputs("CREATE TABLE iris (sepal_length REAL, sepal_width REAL, petal_length REAL, petal_width REAL, "
        "species TEXT);\nINSERT INTO iris VALUES ",
        f);
  int rows = 0;
  for (const char *line = strchr(iris, '\n') + 1; line && *line; line = strchr(line, '\n'), line += !!line) {
    double v[4];
    char species[32];
    if (sscanf(line, "%lf,%lf,%lf,%lf,%31[a-z]", &v[0], &v[1], &v[2], &v[3], species) != 5) break;
    fprintf(f, "%s(%g, %g, %g, %g, '%s')", rows++ ? ", " : "", v[0], v[1], v[2], v[3], species);
  }
  fputc(';', f);
  fclose(f);
  if (pg) {
    PGresult *r = PQexec(pg, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
    PQclear(r);
  } else {
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
  }
  free(sql);
}

/* Start the PostgreSQL server in a directory of its own (which the
 * server's user owns) with iris in it. */
static void start_postgres(const char *iris) {
  pg_dir = test_tmpdir();
  const char *argv[] = {"sh", "tests/sql/pg_server.sh", "start", pg_dir, NULL};
  TestRun r = test_run(argv, NULL);
  if (r.status == 0) {
    pg_conninfo = printf_alloc("host=%s dbname=postgres user=mlp", pg_dir);
    PGconn *c = PQconnectdb(pg_conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    write_iris_table(iris, NULL, c);
    PQfinish(c);
  } else {
    ck_assert_msg(r.status == 77, "pg_server.sh start: status %d: %s", r.status, r.err);
    pg_why = strdup(r.err);
  }
  test_run_free(&r);
}

static void setup(void) {
  dir = test_tmpdir();
  ck_assert_ptr_nonnull(dir);
  /* numbers with a missing value, a category, a categorical target */
  char *mix = NULL;
  size_t n;
  FILE *f = open_memstream(&mix, &n);
  fputs("x1,x2,color,y,n,when\n", f);
  for (int i = 0; i < 60; i++)
    fprintf(f, "%d.5,%s,%s,%s,%d,2020-01-%02d\n", i % 13,
            i % 11 == 3 ? ""
            : i % 2     ? "1.25"
                        : "7.5",
            i % 3 ? "red" : "blue", i % 4 < 2 ? "a" : "b", i % 2, 1 + i % 28);
  fclose(f);
  char *p = dt_write(dir, "mix.csv", mix, 0);
  mix_src = printf_alloc("csv(\"%s\")", p);
  free(p);
  free(mix);
  /* free text (with digits, punctuation and stop words) for the text ops */
  f = open_memstream(&mix, &n);
  fputs("doc,y\n", f);
  static const char *const words[] = {"The", "fox", "ran", "to", "Caf\xc3\xa9", "42", "dog!", "and", "owl"};
  for (int i = 0; i < 40; i++)
    fprintf(f, "\"%s %s, %s %s\",%s\n", words[i % 9], words[(i * 7) % 9], words[(i / 3) % 9],
            words[(i * 5) % 9], i % 2 ? "a" : "b");
  fclose(f);
  p = dt_write(dir, "txt.csv", mix, 0);
  txt_src = printf_alloc("csv(\"%s\")", p);
  free(p);
  free(mix);
  /* readings that align joins onto the mixed table: by date (and color), or by x1 */
  f = open_memstream(&mix, &n);
  fputs("when,color,rate\n", f);
  for (int i = 0; i < 20; i++) fprintf(f, "2020-01-%02d,%s,%d.25\n", 3 + i, i % 2 ? "red" : "blue", i);
  fclose(f);
  rates_by = dt_write(dir, "rates_by.csv", mix, 0);
  free(mix);
  /* the same readings with their keys named otherwise: stamp and colour */
  f = open_memstream(&mix, &n);
  fputs("stamp,colour,rate\n", f);
  for (int i = 0; i < 20; i++) fprintf(f, "2020-01-%02d,%s,%d.5\n", 2 + i, i % 2 ? "blue" : "red", i);
  fclose(f);
  rates_named = dt_write(dir, "rates_named.csv", mix, 0);
  free(mix);
  rates = dt_write(dir, "rates.csv", "when,rate\n2020-01-03,1\n2020-01-09,2\n2020-01-20,3\n", 0);
  rates2 = dt_write(dir, "rates2.csv", "when,rate\n2020-01-02,5\n2020-01-12,6\n", 0);
  rates_x1 = dt_write(dir, "rates_x1.csv", "x1,rate\n1.5,10\n4.5,40\n9.5,90\n", 0);
  char *images, *labels;
  write_idx("img8", 40, 8, 3, &images, &labels);
  idx_src = printf_alloc("idx(images = \"%s\", labels = \"%s\")", images, labels);
  free(images);
  free(labels);
  write_idx("img6", 40, 6, 3, &images, &labels);
  idx6_src = printf_alloc("idx(images = \"%s\", labels = \"%s\")", images, labels);
  free(images);
  free(labels);
  write_idx("img4", 40, 8, 4, &images, &labels);
  idx4_src = labels; /* the labels of four classes, for the same 8x8 images */
  free(images);
  /* iris again: a copy, with ';', without a header, as JSON and JSON lines */
  char *iris = test_read_file("examples/data/iris.csv", NULL);
  ck_assert_ptr_nonnull(iris);
  iris_copy = dt_write(dir, "iris2.csv", iris, 0);
  char *semi = strdup(iris);
  for (char *c = semi; *c; c++)
    if (*c == ',') *c = ';';
  p = dt_write(dir, "semi.csv", semi, 0);
  semi_src = printf_alloc("csv(\"%s\", delimiter = @\";\")", p);
  free(p);
  p = dt_write(dir, "nohdr.csv", strchr(iris, '\n') + 1, 0);
  nohdr_src = printf_alloc("csv(\"%s\", header = @false)", p);
  free(p);
  char *json = NULL, *jsonl = NULL;
  FILE *fj = open_memstream(&json, &n);
  size_t m;
  FILE *fl = open_memstream(&jsonl, &m);
  fputs("[", fj);
  char *line = strchr(iris, '\n') + 1;
  for (int row = 0; *line; row++) {
    double v[4];
    char species[32];
    if (sscanf(line, "%lf,%lf,%lf,%lf,%31[a-z]", &v[0], &v[1], &v[2], &v[3], species) != 5) break;
    const char *fmt =
        "{\"sepal_length\": %g, \"sepal_width\": %g, \"petal_length\": %g, \"petal_width\": %g, "
        "\"species\": \"%s\"}";
    fputs(row ? ",\n" : "\n", fj);
    fprintf(fj, fmt, v[0], v[1], v[2], v[3], species);
    fprintf(fl, fmt, v[0], v[1], v[2], v[3], species);
    fputc('\n', fl);
    line = strchr(line, '\n');
    if (!line) break;
    line++;
  }
  fputs("\n]\n", fj);
  fclose(fj);
  fclose(fl);
  json2 = dt_write(dir, "iris2.json", json, 0);
  p = dt_write(dir, "iris.json", json, 0);
  json_src = printf_alloc("json(\"%s\")", p);
  free(p);
  p = dt_write(dir, "iris.jsonl", jsonl, 0);
  jsonl_src = printf_alloc("json(\"%s\", lines = @true)", p);
  free(p);
  free(json);
  free(jsonl);
  free(semi);
  sqlite_db = test_path(dir, "iris.db");
  write_iris_table(iris, sqlite_db, NULL);
  sqlite_db2 = test_path(dir, "iris2.db");
  write_iris_table(iris, sqlite_db2, NULL);
  start_postgres(iris);
  free(iris);
}

static void teardown(void) {
  char *files[] = {mix_src,   idx_src,   idx6_src, idx4_src,  json_src,
                   jsonl_src, iris_copy, semi_src, nohdr_src, json2, txt_src, rates, rates2,
                   rates_by, rates_x1, rates_named};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) free(files[i]);
  if (pg_conninfo) {
    const char *argv[] = {"sh", "tests/sql/pg_server.sh", "stop", pg_dir, NULL};
    test_run_ok(argv);
  }
  const char *rm[] = {"rm", "-rf", pg_dir, NULL}; /* the cluster's tree */
  test_run_ok(rm);
  free(pg_dir);
  free(pg_conninfo);
  free(pg_why);
  free(sqlite_db);
  free(sqlite_db2);
  dt_rmdir(dir);
}

/* ---- where each item is written -------------------------------------------- */

/* An op: the slot its call goes in, that slot's text with %s for the call,
 * the arguments it requires, and the other slots it needs. */
typedef struct {
  const char *name; /* "scope.op" */
  Slot slot;
  const char *place;
  const char *args;
  Ctx ctx;
  const char *alt; /* a kind's op: the call written instead of it in the spec it is compared with */
  bool needed;     /* a spec without it does not lower (that is how it acts) */
} OpCase;

#define MIX                                                                                                  \
  {                                                                                                          \
    .s = { [S_SRC] = "@MIX", [S_TARGET] = "y" }                                                              \
  }
#define TXT                                                                                                  \
  {                                                                                                          \
    .s = { [S_SRC] = "@TXT", [S_TARGET] = "y", [S_SCHEMA] = "doc = text" }                                   \
  }
/* the mixed table with x1 read as text, for the date ops */
/* the text source's words as ids for an embedding */
#define TXTSEQ                                                                                               \
  {                                                                                                          \
    .s = {[S_SRC] = "@TXT", [S_TARGET] = "y", [S_SCHEMA] = "doc = text", [S_CLEAN] = "tokenize(doc, 6, 20)"} \
  }
#define MIXT                                                                                                 \
  {                                                                                                          \
    .s = { [S_SRC] = "@MIX", [S_TARGET] = "y", [S_SCHEMA] = "x1 = text" }                                    \
  }
#define IMG                                                                                                  \
  {                                                                                                          \
    .s = { [S_SRC] = "@IDX", [S_TARGET] = "label" }                                                          \
  }
#define LAYER "dense(units = 8)\n    %s\n    output()"
#define CONV_LAYER "conv2d(filters = 2)\n    %s\n    flatten()\n    output()"
#define SPACE "lr in [0.01, 0.1]\n    "

static const OpCase op_cases[] = {
    {"source.csv", S_SRC, "%s", "path = \"data/iris.csv\"", {{0}}, "@JSON", false},
    {"source.json", S_SRC, "%s", "path = \"@JSONPATH\"", {{0}}, "csv(\"data/iris.csv\")", false},
    {"source.idx",
     S_SRC,
     "%s",
     "images = \"@IDXIMG\", labels = \"@IDXLAB\"",
     {.s = {[S_TARGET] = "label"}},
     "csv(\"data/iris.csv\")",
     true},
    {"source.sqlite", S_SRC, "%s", "path = \"@SQLITEDB\", query = \"SELECT * FROM iris\"", {{0}},
     "csv(\"data/iris.csv\")", false},
    {"source.postgres", S_SRC, "%s", "conninfo = \"@PGCONN\", query = \"SELECT * FROM iris\"", {{0}},
     "csv(\"data/iris.csv\")", false},
    {"data.split", S_DATA, "%s", "", {{0}}, NULL, false},
    {"clean.drop_duplicates", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.drop_columns", S_CLEAN, "%s", "columns = [x2]", MIX, NULL, false},
    {"clean.coerce", S_CLEAN, "%s", "columns = [x1], to = int", MIX, NULL, false},
    {"clean.impute", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.clip_outliers", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.drop_outliers", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.standardize", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.minmax", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.robust_scale", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.log1p", S_CLEAN, "%s", "columns = [x1]", MIX, NULL, false},
    {"clean.onehot", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.ordinal", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.hash_encode", S_CLEAN, "%s", "", MIX, NULL, false},
    {"clean.text_clean", S_CLEAN, "%s", "", TXT, NULL, false},
    {"clean.bag_of_words", S_CLEAN, "%s", "", TXT, NULL, false},
    {"clean.tfidf", S_CLEAN, "%s", "", TXT, NULL, false},
    {"clean.hash_vectorize", S_CLEAN, "%s", "", TXT, NULL, false},
    {"clean.parse_dates", S_CLEAN, "%s", "columns = [color]", MIX, NULL, false},
    {"clean.sort_by", S_CLEAN, "%s", "columns = [x1]", MIX, NULL, false},
    {"clean.resample", S_CLEAN, "parse_dates(columns = [x1])\n      %s", "freq = \"1d\", on = when", MIXT,
     NULL, false},
    {"clean.lag", S_CLEAN, "%s", "columns = [x1]", MIX, NULL, false},
    {"clean.rolling", S_CLEAN, "%s", "columns = [x1], window = 3", MIX, NULL, false},
    {"clean.window", S_CLEAN, "%s", "columns = [x1], size = 3", MIX, NULL, false},
    {"clean.align", S_CLEAN, "%s", "source = csv(\"@RATES\"), on = when", MIX, NULL, false},
    {"clean.date_features", S_CLEAN, "parse_dates(columns = [color, x1])\n      %s", "columns = [color]",
     MIXT, NULL, false},
    {"clean.diff", S_CLEAN, "%s", "columns = [x1]", MIX, NULL, false},
    {"clean.tokenize", S_CLEAN, "%s", "", TXT, NULL, false},
    {"type.float", S_SCHEMA, "n = %s", "", MIX, "int()", false},
    {"type.int", S_SCHEMA, "n = %s", "", MIX, "float()", false},
    {"type.bool", S_SCHEMA, "n = %s", "", MIX, "float()", false},
    {"type.category", S_SCHEMA, "n = %s", "", MIX, "float()", false},
    {"type.text", S_SCHEMA, "color = %s", "", MIX, "category()", false},
    {"type.date", S_SCHEMA, "when = %s", "", MIX, "text()", false},
    {"model.baseline", S_MODEL, "%s", "", {{0}}, "output()", false},
    {"model.linear_model", S_MODEL, "%s", "", {{0}}, "output()", false},
    {"model.dense", S_MODEL, "%s\n    output()", "units = 8", {{0}}, NULL, false},
    {"model.dropout", S_MODEL, LAYER, "", {{0}}, NULL, false},
    {"model.batchnorm", S_MODEL, LAYER, "", {{0}}, NULL, false},
    {"model.layernorm", S_MODEL, LAYER, "", {{0}}, NULL, false},
    {"model.conv2d", S_MODEL, "%s\n    flatten()\n    output()", "filters = 2", IMG, NULL, false},
    {"model.maxpool2d", S_MODEL, CONV_LAYER, "", IMG, NULL, false},
    {"model.avgpool2d", S_MODEL, CONV_LAYER, "", IMG, NULL, false},
    {"model.flatten", S_MODEL, "conv2d(filters = 2)\n    %s\n    dense(units = 4)\n    output()", "", IMG,
     NULL, false},
    {"model.embedding", S_MODEL, "%s\n    lstm(units = 3)\n    output()", "vocab = 22, dim = 4", TXTSEQ, NULL,
     false},
    {"model.rnn", S_MODEL, LAYER, "units = 4", {{0}}, NULL, false},
    {"model.lstm", S_MODEL, LAYER, "units = 4", {{0}}, NULL, false},
    {"model.gru", S_MODEL, LAYER, "units = 4", {{0}}, NULL, false},
    {"model.transformer_encoder", S_MODEL, LAYER, "heads = 2, dim = 4", {{0}}, NULL, false},
    {"model.reshape", S_MODEL, "%s\n    lstm(units = 4)\n    output()", "steps = 2", {{0}}, NULL, false},
    {"model.pool_steps", S_MODEL, "embedding(vocab = 22, dim = 4)\n    %s\n    output()", "", TXTSEQ, NULL,
     false},
    {"model.random_forest", S_MODEL, "%s", "", {{0}}, "output()", false},
    {"model.gradient_boosting", S_MODEL, "%s", "", {{0}}, "output()", false},
    {"model.svm", S_MODEL, "%s", "", {{0}}, "output()", false},
    {"model.svr", S_MODEL, "%s", "", {.s = {[S_TARGET] = "sepal_length"}}, "output()", false},
    {"model.output", S_MODEL, "dense(units = 8)\n    %s", "", {{0}}, NULL, true},
    {"optimizer.sgd", S_HYPER, "optimizer = %s", "", {{0}}, "adam()", false},
    {"optimizer.adam", S_HYPER, "optimizer = %s", "", {{0}}, "sgd()", false},
    {"optimizer.adamw", S_HYPER, "optimizer = %s", "", {{0}}, "sgd()", false},
    {"optimizer.rmsprop", S_HYPER, "optimizer = %s", "", {{0}}, "sgd()", false},
    {"schedule.constant", S_HYPER, "schedule = %s", "", {{0}}, "exponential()", false},
    {"schedule.step", S_HYPER, "schedule = %s", "every = 2", {{0}}, "constant()", false},
    {"schedule.exponential", S_HYPER, "schedule = %s", "", {{0}}, "constant()", false},
    {"schedule.cosine", S_HYPER, "schedule = %s", "", {{0}}, "constant()", false},
    {"schedule.plateau", S_HYPER, "schedule = %s", "", {{0}}, "constant()", false},
    {"loss.cross_entropy", S_HYPER, "loss = %s", "", {{0}}, NULL, false},
    {"loss.bce",
     S_HYPER,
     "loss = %s",
     "",
     {.s = {[S_MODEL] = "dense(units = 8)\n    output(sigmoid)", [S_SRC] = "@MIX", [S_TARGET] = "y"}},
     NULL,
     false},
    {"loss.mse", S_HYPER, "loss = %s", "", {.s = {[S_TARGET] = "sepal_length"}}, NULL, false},
    {"loss.mae", S_HYPER, "loss = %s", "", {.s = {[S_TARGET] = "sepal_length"}}, NULL, false},
    {"loss.huber", S_HYPER, "loss = %s", "", {.s = {[S_TARGET] = "sepal_length"}}, NULL, false},
    {"loss.hinge", S_HYPER, "loss = %s", "", {.s = {[S_SRC] = "@MIX", [S_TARGET] = "y"}}, NULL, false},
    {"validation.smoke", S_VAL, "%s", "", {{0}}, NULL, false},
    {"validation.early_stopping", S_VAL, "%s", "", {{0}}, NULL, false},
    {"search.grid", S_TUNE, SPACE "search = %s", "", {{0}}, "random()", false},
    {"search.random", S_TUNE, SPACE "search = %s", "", {{0}}, "grid()", false},
    {"search.successive_halving", S_TUNE, SPACE "search = %s", "", {{0}}, "grid()", false},
    {"search.tpe", S_TUNE, SPACE "search = %s", "", {{0}}, "grid()", false},
    {"search.hyperband", S_TUNE, SPACE "search = %s", "", {{0}}, "grid()", false},
    {"space.logrange", S_TUNE, "lr in %s", "low = 0.001, high = 0.1", {{0}}, "[0.001, 0.1]", false},
    {"deploy.prune", S_DEP, "%s", "sparsity = 0.5", {{0}}, NULL, false},
    {"deploy.monitor", S_DEP, "%s", "", {{0}}, NULL, false},
};

/* A field: its alternative value as written, and the context it needs. */
typedef struct {
  const char *name;  /* "block.setting" or "op.param" */
  const char *value; /* NULL: values the type and range admit */
  Ctx ctx;
  bool whole; /* the context itself writes the item (marked with '@') */
} FieldCase;

/* two stacked recurrent layers of a cell with dropout between them */
#define STACKED(cell) cell "(units = 4, layers = 2, dropout = 0.3)\n    output()"

static const FieldCase field_cases[] = {
    {"data.source", "[csv(\"data/iris.csv\"), csv(\"data/iris.csv\")]", {{0}}, false},
    {"data.target", "sepal_length", {{0}}, false},
    {"data.test_source", "csv(\"data/iris.csv\")", {{0}}, false},
    {"data.cleaning_report", "\"clean.json\"", {{0}}, false},
    {"schema.*", "sepal_length = category", {{0}}, false},
    {"csv.path", "\"@IRISCOPY\"", {{0}}, false},
    {"csv.delimiter", NULL, {.s = {[S_SRC] = "@SEMI"}}, true},
    {"csv.header", NULL, {.s = {[S_SRC] = "@NOHDR", [S_TARGET] = "c5"}}, true},
    {"csv.na_values", "[\"-\"]", {{0}}, false},
    {"json.path", "\"@IRISJSON2\"", {{0}}, false},
    {"json.lines", NULL, {.s = {[S_SRC] = "@JSONL"}}, true},
    {"idx.images", "\"@IDX6IMG\"", {{0}}, false},
    {"idx.labels", "\"@IDX4LAB\"", {{0}}, false},
    {"sqlite.path", "\"@SQLITEDB2\"", {{0}}, false},
    {"sqlite.query", "\"SELECT * FROM iris WHERE sepal_length > 5\"", {{0}}, false},
    {"postgres.conninfo", "\"@PGCONN connect_timeout=5\"", {{0}}, false},
    {"postgres.query", "\"SELECT * FROM iris WHERE sepal_length > 5\"", {{0}}, false},
    {"split.group", "species", {{0}}, false},
    {"random_forest.criterion", "gini", {.s = {[S_TARGET] = "sepal_length"}}, false},
    {"svm.degree", NULL, {.s = {[S_MODEL] = "svm(kernel = poly, @degree = 2)"}}, true},
    {"svm.coef0", NULL, {.s = {[S_MODEL] = "svm(kernel = poly, @coef0 = 1)"}}, true},
    {"svr.degree", NULL, {.s = {[S_MODEL] = "svr(kernel = poly, @degree = 2)", [S_TARGET] = "sepal_length"}},
     true},
    {"svr.coef0", NULL, {.s = {[S_MODEL] = "svr(kernel = poly, @coef0 = 1)", [S_TARGET] = "sepal_length"}},
     true},
    {"gradient_boosting.loss", "log_loss", {.s = {[S_TARGET] = "sepal_length"}}, false},
    {"gradient_boosting.max_leaves", NULL,
     {.s = {[S_MODEL] = "gradient_boosting(growth = lossguide, @max_leaves = 8)"}}, true},
    {"split.time_order", "sepal_length", {{0}}, false},
    {"hyperparameters.dropout",
     NULL,
     {.s = {[S_MODEL] = "dense(units = 8)\n    dropout()\n    output()"}},
     false},
    {"hyperparameters.optimizer", "sgd()", {{0}}, false},
    {"hyperparameters.schedule", "cosine()", {{0}}, false},
    {"tuning.search", "random()", {.s = {[S_TUNE] = SPACE}}, false},
    {"tuning.objective", NULL, {.s = {[S_TUNE] = SPACE}}, false},
    {"tuning.repeats", NULL, {.s = {[S_TUNE] = SPACE "folds = 3"}}, false},
    {"tuning.refit", "true", {.s = {[S_TUNE] = SPACE}}, false},
    {"data.repeats", NULL, {.s = {[S_DATA] = "folds = 3"}}, false},
    {"environment.out", "\"runs/other\"", {{0}}, false},
    /* on needs the budget it streams within */
    {"environment.out_of_core", "on", {.s = {[S_ENV] = "memory_mb = 64"}}, false},
    {"analysis.slices", "[species]", {{0}}, false},
    {"validation.monitor", "[loss]", {{0}}, false},
    {"analysis.report", "\"r.html\"", {{0}}, false},
    {"analysis.metrics", "[accuracy, auc]", {{0}}, false},
    {"deploy.version", "\"2.0.0\"", {{0}}, false},
    {"deploy.onnx", "\"walk.onnx\"", {{0}}, false},
    {"deploy.predictor", "\"walk_predict\"", {{0}}, false},
    {"deploy.cpu", "\"x86-64-v3\"", {{0}}, false},
    {"deploy.registry", "\"versions\"", {{0}}, false},
    {"failsafe.fallback", "\"setosa\"", {{0}}, false},
    {"drop_duplicates.columns", "[x1]", {{0}}, false},
    {"drop_columns.columns", "[x1]", {{0}}, false},
    {"coerce.columns", "[x2]", {{0}}, false},
    {"impute.columns", "[x2]", {{0}}, false},
    {"impute.value", "1", {{0}}, false},
    {"clip_outliers.columns", "[x1]", {{0}}, false},
    {"clip_outliers.keep", "[x1]", {{0}}, false},
    {"drop_outliers.columns", "[x1]", {{0}}, false},
    {"drop_outliers.keep", "[x1]", {{0}}, false},
    {"standardize.columns", "[x1]", {{0}}, false},
    {"minmax.columns", "[x1]", {{0}}, false},
    {"robust_scale.columns", "[x1]", {{0}}, false},
    {"log1p.columns", "[x2]", {{0}}, false},
    {"onehot.columns", "[color]", {{0}}, false},
    {"ordinal.columns", "[color]", {{0}}, false},
    {"hash_encode.columns", "[color]", {{0}}, false},
    {"text_clean.columns", "[doc]", {{0}}, false},
    {"bag_of_words.columns", "[doc]", {{0}}, false},
    {"bag_of_words.ngram", "[1, 2]", {{0}}, false},
    {"tfidf.columns", "[doc]", {{0}}, false},
    {"tfidf.ngram", "[1, 2]", {{0}}, false},
    {"hash_vectorize.columns", "[doc]", {{0}}, false},
    {"hash_vectorize.ngram", "[1, 2]", {{0}}, false},
    {"tokenize.columns", "[doc]", {{0}}, false},
    {"embedding.vocab", "30", {{0}}, false},
    /* dropout acts between stacked layers (alone, it is refused) */
    {"rnn.dropout", NULL, {.s = {[S_MODEL] = STACKED("rnn")}}, true},
    {"lstm.dropout", NULL, {.s = {[S_MODEL] = STACKED("lstm")}}, true},
    {"gru.dropout", NULL, {.s = {[S_MODEL] = STACKED("gru")}}, true},
    {"parse_dates.columns", "[x1]", MIXT, false},
    {"date.format", "\"%Y-%m-%d\"", {{0}}, false},
    {"parse_dates.format", "\"%d.%m.%Y\"", {{0}}, false},
    {"sort_by.columns", "[x2]", {{0}}, false},
    {"resample.freq", "\"2d\"", {{0}}, false},
    {"resample.on", "x1", {{0}}, false},
    {"resample.fill", "linear", {{0}}, false},
    {"resample.agg", "sum", {{0}}, false},
    {"resample.by", "color", {{0}}, false},
    {"lag.columns", "[x2]", {{0}}, false},
    {"lag.steps", "[2]", {{0}}, false},
    {"lag.by", "color", {{0}}, false},
    {"rolling.columns", "[x2]", {{0}}, false},
    {"rolling.window", "4", {{0}}, false},
    {"rolling.stat", "[max, min]", {{0}}, false},
    {"rolling.by", "color", {{0}}, false},
    {"date_features.columns", "[x1]", {{0}}, false},
    {"date_features.parts", "[month]", {{0}}, false},
    {"diff.columns", "[x2]", {{0}}, false},
    {"diff.by", "color", {{0}}, false},
    {"window.columns", "[x2]", {{0}}, false},
    {"window.size", "2", {{0}}, false},
    {"window.lag", "2", {{0}}, false},
    {"window.by", "color", {{0}}, false},
    {"window.history", "null", {{0}}, false},
    {"align.source", "csv(\"@RATES2\")", {{0}}, false},
    {"align.on",
     NULL,
     {.s = {[S_SRC] = "@MIX", [S_TARGET] = "y", [S_CLEAN] = "align(csv(\"@RATESX1\"), on = @x1)"}},
     true},
    {"align.by",
     NULL,
     {.s = {[S_SRC] = "@MIX",
            [S_TARGET] = "y",
            [S_CLEAN] = "align(csv(\"@RATESBY\"), on = when, by = @color)"}},
     true},
    {"align.tolerance", "\"2d\"", {{0}}, false},
#define NAMED_KEYS(a, b, c, d)                                                                               \
  {.s = {[S_SRC] = "@MIX",                                                                                   \
         [S_TARGET] = "y",                                                                                   \
         [S_CLEAN] = "align(csv(\"@RATESNAMED\"), left_on = " a "when, right_on = " b "stamp, left_by = " c \
                     "color, right_by = " d "colour)"}}
    {"align.left_on", NULL, NAMED_KEYS("@", "", "", ""), true},
    {"align.right_on", NULL, NAMED_KEYS("", "@", "", ""), true},
    {"align.left_by", NULL, NAMED_KEYS("", "", "@", ""), true},
    {"align.right_by", NULL, NAMED_KEYS("", "", "", "@"), true},
};

/* Settings and parameters that act by refusing a spec: a limit on the
 * model or its memory, the loss that must fit the output. The walk writes
 * a value that breaks them and expects the error. */
static const struct {
  const char *name, *value, *error;
  Ctx ctx;
} limits[] = {
    {"model.max_params", "10", "more than max_params", {{0}}},
    {"environment.memory_mb", "1", "more than memory_mb", {.s = {[S_HYPER] = "batch = 100000"}}},
    {"hyperparameters.loss", "mse()", "does not fit", {{0}}},
    /* the host processor is the only back end */
    {"environment.device", "gpu", "no GPU back end", {{0}}},
    /* a run directory is read and verified when the spec is lowered */
    {"model.pretrained", "\"no_such_run\"", "pretrained run:", {{0}}},
};

/* ---- the walk ----------------------------------------------------------------- */

static char *failures;
static FILE *failure_log;
static int nfailures, nbuilt, nplanned;

static void breach(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void breach(const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(failure_log, "%s: ", name);
  vfprintf(failure_log, fmt, ap);
  fputc('\n', failure_log);
  va_end(ap);
  nfailures++;
}

/* Replace the fixture markers ("@MIX", "@IDX", ...) in a slot text; the
 * result is malloc'd. A lone '@' stays: it marks the written item. */
static char *expand(const char *text) {
  char *json_path = strchr(json_src, '"') + 1;
  char *json_path_end = strchr(json_path, '"');
  char *idx_img = strchr(idx6_src, '"') + 1;
  static const char *const keys[] = {"@MIX",       "@IDXIMG",   "@IDXLAB", "@IDX6IMG",   "@IDX4LAB",
                                     "@IDX",       "@JSONPATH", "@JSONL",  "@JSON",      "@IRISCOPY",
                                     "@IRISJSON2", "@SEMI",     "@NOHDR",  "@SQLITEDB2", "@SQLITEDB",
                                     "@PGCONN",    "@TXT",      "@RATESX1", "@RATESBY", "@RATESNAMED",
                                     "@RATES2",    "@RATES"};
  char *json_only = strndup(json_path, (size_t)(json_path_end - json_path));
  char *idx8_img = strndup(strchr(idx_src, '"') + 1, strcspn(strchr(idx_src, '"') + 1, "\""));
  const char *lab = strstr(idx_src, "labels = \"") + 10;
  char *idx8_lab = strndup(lab, strcspn(lab, "\""));
  char *idx6_img = strndup(idx_img, strcspn(idx_img, "\""));
  const char *vals[] = {mix_src,   idx8_img,  idx8_lab,  idx6_img,  idx4_src,  idx_src,
                        json_only, jsonl_src, json_src,  iris_copy, json2,     semi_src,
                        nohdr_src, sqlite_db2, sqlite_db, pg_conninfo ? pg_conninfo : "", txt_src,
                        rates_x1,  rates_by,  rates_named, rates2, rates};
  char *out;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  for (const char *p = text; *p;) {
    size_t k = 0;
    while (k < sizeof keys / sizeof keys[0] && strncmp(p, keys[k], strlen(keys[k])) != 0) k++;
    if (k < sizeof keys / sizeof keys[0]) {
      fputs(vals[k], f);
      p += strlen(keys[k]);
    } else {
      fputc(*p++, f);
    }
  }
  fclose(f);
  free(json_only);
  free(idx8_img);
  free(idx8_lab);
  free(idx6_img);
  return out;
}

/* A spec from a context, its slot `slot` replaced by text (NULL: kept). */
static Spec spec_with(const Ctx *ctx, Slot slot, const char *text) {
  Ctx c = ctx ? *ctx : (Ctx){{0}};
  if (text) c.s[slot] = text;
  char *exp[NSLOTS] = {0};
  for (int i = 0; i < NSLOTS; i++)
    if (c.s[i]) c.s[i] = exp[i] = expand(c.s[i]);
  Spec s = make_spec(&c);
  for (int i = 0; i < NSLOTS; i++) free(exp[i]);
  return s;
}

/* Whether r failed with the planned item's error where the spec wrote it. */
static void expect_refused(const char *name, const Spec *s, const Lowered *r) {
  char want[256];
  snprintf(want, sizeof want, SPEC_NAME ":%d:%d: error: `%s` is not supported by code generation yet",
           s->line, s->col, name);
  if (r->ok || !strstr(r->diag, want))
    breach(name, "planned, so expected \"%s\"; got %s:\n%s--- spec:\n%s", want, r->ok ? "a plan" : "",
           r->diag, s->text);
  else
    nplanned++;
}

static const OpCase *op_case(const char *name) {
  for (size_t i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++)
    if (strcmp(op_cases[i].name, name) == 0) return &op_cases[i];
  return NULL;
}

/* The call of op case oc with its arguments, the written one (name =
 * value, marked) in place of its own or added; malloc'd. */
static char *call_text(const OpCase *oc, const char *opname, const char *param, const char *value,
                       bool mark) {
  char *out;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  fprintf(f, "%s%s(", mark && !param ? "@" : "", opname);
  bool first = true, done = false;
  char *args = strdup(oc->args);
  for (char *save = NULL, *a = strtok_r(args, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
    while (*a == ' ') a++;
    size_t len = strcspn(a, " =");
    fputs(first ? "" : ", ", f);
    first = false;
    if (param && strlen(param) == len && strncmp(a, param, len) == 0) {
      fprintf(f, "%s = %s%s", param, mark ? "@" : "", value);
      done = true;
    } else {
      fputs(a, f);
    }
  }
  if (param && !done) fprintf(f, "%s%s = %s%s", first ? "" : ", ", param, mark ? "@" : "", value);
  fputc(')', f);
  fclose(f);
  free(args);
  return out;
}

/* The slot text of op case oc holding call. */
static char *placed(const OpCase *oc, const char *call) { return printf_alloc(oc->place, call); }

/* The spec of an op case with one parameter written (param NULL: none). */
static Spec op_spec(const OpCase *oc, const char *opname, const char *param, const char *value, bool mark) {
  char *call = call_text(oc, opname, param, value, mark);
  char *slot = placed(oc, call);
  Spec s = spec_with(&oc->ctx, oc->slot, slot);
  free(call);
  free(slot);
  return s;
}

/* Whether item name needs the PostgreSQL server that could not start
 * here: it is skipped, never passed, with the reason. */
static bool needs_absent_server(const char *name) {
  bool pg = strcmp(name, "source.postgres") == 0 || strncmp(name, "postgres.", 9) == 0;
  if (pg_conninfo || !pg) return false;
  test_skip(name, "postgresql server", pg_why);
  return true;
}

static void walk_op(const MlpRegOp *op) {
  char name[128];
  snprintf(name, sizeof name, "%s.%s", op->scope, op->name);
  if (needs_absent_server(name)) return;
  const OpCase *oc = op_case(name);
  if (!oc) {
    breach(name, "no walker case: add one to op_cases");
    return;
  }
  Spec with = op_spec(oc, op->name, NULL, NULL, true);
  Lowered b = lower_text(with.text);
  if (op->planned) {
    expect_refused(name, &with, &b);
  } else if (!b.ok) {
    breach(name, "built, yet a spec writing it does not lower:\n%s--- spec:\n%s", b.diag, with.text);
  } else if (op->kind && op->kind->name && strcmp(op->kind->name, "loss") == 0) {
    nbuilt++; /* a loss fits its output: written or implied, the plan is the same (see limits) */
  } else if (op->implied) {
    nbuilt++; /* applied with its defaults when not written: its parameters are walked */
  } else {
    char *alt = oc->alt ? strdup(oc->alt) : strdup("");
    char *slot = placed(oc, alt);
    Spec without = spec_with(&oc->ctx, oc->slot, slot);
    Lowered a = lower_text(without.text);
    if (!a.ok && !oc->needed)
      breach(name, "the spec that does not write it does not lower:\n%s--- spec:\n%s", a.diag, without.text);
    else if (a.ok && strcmp(a.ir, b.ir) == 0)
      breach(name, "built, yet writing it leaves the plan unchanged\n--- spec:\n%s", with.text);
    else
      nbuilt++;
    lowered_free(&a);
    free(without.text);
    free(slot);
    free(alt);
  }
  lowered_free(&b);
  free(with.text);
}

/* Values to try for a field: the case's, or ones the type and range admit
 * other than the default. Returns how many (at most 8). */
static int candidates(const MlpRegField *f, const char *given, char out[][64]) {
  if (given) {
    snprintf(out[0], 64, "%s", given);
    return 1;
  }
  int n = 0;
  const MlpType *t = &f->type;
  double def = f->def && f->def[0] != '@' ? atof(f->def) : NAN;
  if (t->list) return 0;
  if (t->kind == MLP_TY_BOOL) {
    snprintf(out[n++], 64, "%s", f->def && strcmp(f->def, "true") == 0 ? "false" : "true");
  } else if (t->kind == MLP_TY_INT || t->kind == MLP_TY_FLOAT) {
    double tries[] = {
        isnan(def) ? 2 : def + 1,      isnan(def) ? 3 : def * 2, isnan(def) ? 1 : def * 0.5, 0.3, 0.05, 2,
        f->range.set ? f->range.lo : 1};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0] && n < 8; i++) {
      double v = t->kind == MLP_TY_INT ? floor(tries[i]) : tries[i];
      if (v == def || !mlp_range_contains(&f->range, v) || !mlp_range_contains(&f->usual, v)) continue;
      snprintf(out[n++], 64, "%.15g", v);
    }
  } else if (t->kind == MLP_TY_ENUM) {
    const MlpRegEnum *e = mlp_reg_enum(t->set);
    for (int i = 0; e && i < e->nvalues && n < 8; i++)
      if (!f->def || strcmp(f->def, e->values[i]) != 0) snprintf(out[n++], 64, "%s", e->values[i]);
  }
  return n;
}

static const FieldCase *field_case(const char *name) {
  for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0]; i++)
    if (strcmp(field_cases[i].name, name) == 0) return &field_cases[i];
  return NULL;
}

/* The spec with field f written as value (NULL: not written), marked. */
static Spec field_spec(const MlpRegField *f, const FieldCase *fc, const char *value) {
  if (f->op) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", f->op->scope, f->op->name);
    const OpCase *oc = op_case(name);
    OpCase merged = *oc;
    for (int i = 0; fc && i < NSLOTS; i++)
      if (fc->ctx.s[i]) merged.ctx.s[i] = fc->ctx.s[i];
    return op_spec(&merged, f->op->name, value ? f->name : NULL, value, value != NULL);
  }
  static const struct {
    const char *block;
    Slot slot;
  } slots[] = {
      {"data", S_DATA},       {"schema", S_SCHEMA},  {"model", S_MODEL}, {"hyperparameters", S_HYPER},
      {"environment", S_ENV}, {"validation", S_VAL}, {"tuning", S_TUNE}, {"analysis", S_AN},
      {"deploy", S_DEP},      {"failsafe", S_FS}};
  Slot slot = S_DATA;
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
    if (strcmp(slots[i].block, f->block->name) == 0) slot = slots[i].slot;
  Ctx c = fc ? fc->ctx : (Ctx){{0}};
  const char *around = c.s[slot] ? c.s[slot] : base[slot] ? base[slot] : "";
  char *text = NULL;
  if (strcmp(f->name, "source") == 0 || strcmp(f->name, "target") == 0) {
    slot = f->name[0] == 's' ? S_SRC : S_TARGET;
    if (value) text = printf_alloc("@%s", value);
  } else if (strcmp(f->name, "*") == 0) {
    if (value) text = printf_alloc("@%s", value);
  } else if (value) {
    text = printf_alloc("%s\n    %s = @%s", around, f->name, value);
  }
  Spec s = spec_with(&c, slot, text);
  free(text);
  return s;
}

static void walk_field(const MlpRegField *f) {
  char name[128];
  snprintf(name, sizeof name, "%s.%s", f->block ? f->block->name : f->op->name, f->name);
  if (f->op && f->op->planned) return; /* refused with its op */
  if (needs_absent_server(name)) return;
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
    if (strcmp(limits[i].name, name) == 0) {
      FieldCase fc = {name, limits[i].value, limits[i].ctx, false};
      Spec s = field_spec(f, &fc, limits[i].value);
      Lowered r = lower_text(s.text);
      if (r.ok || !strstr(r.diag, limits[i].error))
        breach(name, "a limit, so expected \"%s\"; got:\n%s--- spec:\n%s", limits[i].error, r.diag, s.text);
      else
        nbuilt++;
      lowered_free(&r);
      free(s.text);
      return;
    }
  const FieldCase *fc = field_case(name);
  char vals[8][64];
  int nv = fc && fc->whole ? 1 : candidates(f, fc ? fc->value : NULL, vals);
  if (nv == 0) {
    breach(name, "no walker case: add a value to field_cases");
    return;
  }
  /* compared with the spec that does not write it (the base, for a case
   * whose context writes it) */
  Spec without = field_spec(f, fc && !fc->whole ? fc : NULL, NULL);
  Lowered a = lower_text(without.text);
  if (!a.ok) {
    breach(name, "the spec that does not write it does not lower:\n%s--- spec:\n%s", a.diag, without.text);
    lowered_free(&a);
    free(without.text);
    return;
  }
  /* Its default written is the same as not writing it: lowering falls
   * back on the registry's default, not on one of its own ("{pipeline}"
   * included: written or default, it is the pipeline's name). */
  if (!f->planned && f->def && f->def[0] != '@' && !(fc && fc->whole)) {
    Spec dflt = field_spec(f, fc, f->def);
    Lowered d = lower_text(dflt.text);
    if (!d.ok || strcmp(d.ir, a.ir) != 0)
      breach(name, "written as its default %s, the plan is not the one without it:\n%s--- spec:\n%s", f->def,
             d.ok ? "" : d.diag, dflt.text);
    lowered_free(&d);
    free(dflt.text);
  }
  bool judged = false;
  char *tried = NULL;
  size_t tn;
  FILE *tf = open_memstream(&tried, &tn);
  for (int i = 0; i < nv && !judged; i++) {
    Spec with = fc && fc->whole ? spec_with(&fc->ctx, S_DATA, NULL) : field_spec(f, fc, vals[i]);
    Lowered b = lower_text(with.text);
    if (f->planned) {
      expect_refused(name, &with, &b);
      judged = true;
    } else if (b.ok && strcmp(a.ir, b.ir) != 0) {
      nbuilt++;
      judged = true;
    } else {
      fprintf(tf, "--- %s: %s\n%s", fc && fc->whole ? "(its context)" : vals[i],
              b.ok ? "the plan is unchanged" : "refused", b.ok ? "" : b.diag);
    }
    lowered_free(&b);
    free(with.text);
  }
  fclose(tf);
  if (!judged)
    breach(name, "built, yet no value written changes the plan:\n%s--- spec without it:\n%s", tried,
           without.text);
  free(tried);
  lowered_free(&a);
  free(without.text);
}

START_TEST(contract_walk) {
  size_t n;
  failure_log = open_memstream(&failures, &n);
  const MlpRegistry *R = mlp_registry();
  for (int i = 0; i < R->nops; i++) walk_op(R->ops[i]);
  for (int i = 0; i < R->nfields; i++) walk_field(R->fields[i]);
  fclose(failure_log);
  printf("contract walk: %d built, %d planned\n", nbuilt, nplanned);
  ck_assert_msg(nfailures == 0, "%d items of the registry break the contract:\n%s", nfailures, failures);
  free(failures);
}
END_TEST

Suite *contract_suite(void); /* the runner finds it by name */
Suite *contract_suite(void) {
  Suite *s = suite_create("contract");
  TCase *tc = tcase_create("walk");
  tcase_set_timeout(tc, 600);
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_add_test(tc, contract_walk);
  suite_add_tcase(s, tc);
  return s;
}
