/* check_csv.c — the CSV loader and schema inference: RFC 4180 details,
 * missing-value tokens, type inference and declared types, malformed input
 * (each error must name file, row, line and column), the record-length
 * limit, parallel parsing equal to serial, consolidation of several files,
 * and real UCI data against an independent parse. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <valgrind/valgrind.h>

#include "mlp/data.h"
#include "tests/unit/datautil.h"


/* Load text as a CSV file, expecting failure; returns the error. */
static MlprtError load_fails(const char *name, const char *text, size_t len, const MlprtLoadOpts *o) {
  char *p = dt_write(dt_dir, name, text, len);
  MlprtTable t;
  MlprtError e = {0};
  ck_assert_int_ne(mlprt_load(p, o, &t, &e), 0);
  ck_assert_str_eq(e.file, p);
  free(p);
  return e;
}

START_TEST(csv_rfc4180) {
  /* BOM, CRLF, quoted delimiter, doubled quotes, embedded CRLF, blank last line */
  const char *text = "\xEF\xBB\xBFid,name,note\r\n"
                     "1,\"Smith, J\",\"said \"\"hi\"\"\"\r\n"
                     "2,Lee,\"two\r\nlines\"\r\n"
                     "3,\"\",plain\r\n"
                     "\r\n";
  char *p = dt_write(dt_dir, "a.csv", text, 0);
  MlprtTable t;
  MlprtLoadOpts o = {.max_levels = 1}; /* keep strings as text */
  dt_load_ok(p, &o, &t);
  ck_assert_int_eq(t.ncols, 3);
  ck_assert_int_eq(t.nrows, 3);
  ck_assert_str_eq(t.cols[0].name, "id");
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_INT);
  ck_assert_int_eq(t.cols[1].type, MLPRT_COL_TEXT);
  ck_assert_str_eq(mlprt_text_at(&t.cols[1], 0), "Smith, J");
  ck_assert_str_eq(mlprt_text_at(&t.cols[2], 0), "said \"hi\"");
  ck_assert_str_eq(mlprt_text_at(&t.cols[2], 1), "two\r\nlines");
  ck_assert_ptr_null(mlprt_text_at(&t.cols[1], 2)); /* "" is a missing-value token */
  ck_assert_float_eq(t.cols[0].f[2], 3.0f);
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(csv_na_tokens_and_delimiter) {
  char *p = dt_write(dt_dir, "b.csv", "x;y\n1.5;NA\nN/A;?\nnull;NaN\n-2e3;4\n", 0);
  MlprtTable t;
  MlprtLoadOpts o = {.delim = ';'};
  dt_load_ok(p, &o, &t);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_FLOAT);
  ck_assert_int_eq(t.cols[1].type, MLPRT_COL_INT);
  ck_assert_float_eq(t.cols[0].f[0], 1.5f);
  ck_assert(isnan(t.cols[0].f[1]) && isnan(t.cols[0].f[2]));
  ck_assert_float_eq(t.cols[0].f[3], -2000.0f);
  ck_assert(isnan(t.cols[1].f[0]) && isnan(t.cols[1].f[1]) && isnan(t.cols[1].f[2]));
  mlprt_table_free(&t);
  free(p);
  /* configurable tokens, one of them numeric; tab-separated by extension */
  p = dt_write(dt_dir, "c.tsv", "x\ty\n-999\tmissing\n3\tok\n", 0);
  const char *na[] = {"-999", "missing"};
  MlprtLoadOpts o2 = {.na_tokens = na, .nna = 2};
  dt_load_ok(p, &o2, &t);
  ck_assert(isnan(t.cols[0].f[0]));
  ck_assert_float_eq(t.cols[0].f[1], 3.0f);
  ck_assert_int_eq(t.cols[1].type, MLPRT_COL_CATEGORY);
  ck_assert_int_eq(t.cols[1].codes[0], -1);
  ck_assert_int_eq(t.cols[1].levels.n, 1);
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(csv_schema_inference) {
  char *p = dt_write(dt_dir, "s.csv",
                     "i,f,b,c,d,dt,t\n"
                     "1,1.5,true,red,2012-01-31,2012/02/29,alpha\n"
                     "2,2,FALSE,blue,2012-02-01T10:30:00Z,2012/03/01,beta\n"
                     ",3e-1,,red,,01.03.2012,gamma\n",
                     0);
  MlprtSchema s;
  MlprtError e = {0};
  MlprtLoadOpts o = {.max_levels = 2};
  ck_assert_msg(mlprt_schema_infer(p, &o, &s, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(s.ncols, 7);
  ck_assert_int_eq(s.nrows, 3);
  ck_assert(s.complete);
  const MlprtColType want[] = {MLPRT_COL_INT,      MLPRT_COL_FLOAT,    MLPRT_COL_BOOL, MLPRT_COL_CATEGORY,
                               MLPRT_COL_DATETIME, MLPRT_COL_DATETIME, MLPRT_COL_TEXT};
  for (int i = 0; i < 7; i++) ck_assert_msg(s.cols[i].type == want[i], "column %d: %d", i, s.cols[i].type);
  ck_assert_int_eq(s.cols[0].nmissing, 1);
  ck_assert_int_eq(s.cols[3].nlevels, 2);
  ck_assert_str_eq(s.cols[3].levels[0], "blue"); /* sorted */
  ck_assert_str_eq(s.cols[3].levels[1], "red");
  mlprt_schema_free(&s);
  /* the loaded dates: epoch seconds, time zone applied */
  MlprtTable t;
  dt_load_ok(p, &o, &t);
  ck_assert_int_eq(t.cols[4].t[0], mlprt_days_from_civil(2012, 1, 31) * 86400);
  ck_assert_int_eq(t.cols[4].t[1], mlprt_days_from_civil(2012, 2, 1) * 86400 + 10 * 3600 + 30 * 60);
  ck_assert_int_eq(t.cols[4].t[2], MLPRT_TIME_NA);
  ck_assert_int_eq(t.cols[5].t[0], mlprt_days_from_civil(2012, 2, 29) * 86400);
  ck_assert_int_eq(t.cols[5].t[2], t.cols[5].t[1]); /* DD.MM.YYYY */
  ck_assert_int_eq(t.cols[2].b[0], 1);
  ck_assert_int_eq(t.cols[2].b[1], 0);
  ck_assert_int_eq(t.cols[2].b[2], MLPRT_BOOL_NA);
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(csv_declared_type_contradicted) {
  const char *text = "a,b\n1,2\n2,3\n3,3.5\n";
  MlprtDecl decl[] = {{"b", MLPRT_COL_INT}};
  MlprtLoadOpts o = {.decl = decl, .ndecl = 1};
  MlprtError e = load_fails("d.csv", text, 0, &o);
  ck_assert_int_eq(e.row, 3);
  ck_assert_int_eq(e.line, 4);
  ck_assert_int_eq(e.col, 2);
  ck_assert_str_eq(e.column, "b");
  ck_assert_ptr_nonnull(strstr(e.msg, "declared"));
  /* a declared type that fits is honoured: ints as float */
  MlprtDecl ok[] = {{"a", MLPRT_COL_FLOAT}, {"b", MLPRT_COL_FLOAT}};
  char *p = dt_write(dt_dir, "d2.csv", text, 0);
  MlprtLoadOpts o2 = {.decl = ok, .ndecl = 2};
  MlprtTable t;
  dt_load_ok(p, &o2, &t);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_FLOAT);
  ck_assert_float_eq(t.cols[1].f[2], 3.5f);
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(csv_late_value_retypes_or_errors) {
  /* the scan sees only ints; row 4 holds text */
  char *p = dt_write(dt_dir, "r.csv", "a,b\n1,x\n2,y\n3,x\nfour,y\n", 0);
  MlprtLoadOpts o = {.scan_rows = 2};
  MlprtSchema s;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_schema_infer(p, &o, &s, &e), 0);
  ck_assert_int_eq(s.cols[0].type, MLPRT_COL_INT);
  ck_assert(!s.complete);
  /* a compiled schema the data disagrees with: an error naming the cell */
  MlprtTable t;
  ck_assert_int_ne(mlprt_load_schema(p, &o, &s, &t, &e), 0);
  ck_assert_int_eq(e.row, 4);
  ck_assert_int_eq(e.line, 5);
  ck_assert_int_eq(e.col, 1);
  ck_assert_str_eq(e.column, "a");
  ck_assert_ptr_nonnull(strstr(e.msg, "four"));
  mlprt_schema_free(&s);
  /* mlprt_load infers again from every row */
  dt_load_ok(p, &o, &t);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_CATEGORY);
  ck_assert_int_eq(t.nrows, 4);
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(csv_malformed) {
  MlprtError e;
  e = load_fails("u.csv", "a,b\n1,2\n3,\"open\n4,5\n", 0, NULL);
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(e.line, 3);
  ck_assert_int_eq(e.col, 2);
  ck_assert_str_eq(e.column, "b");
  ck_assert_ptr_nonnull(strstr(e.msg, "unterminated"));

  e = load_fails("r1.csv", "a,b,c\n1,2,3\n4,5\n", 0, NULL);
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(e.col, 3);
  ck_assert_ptr_nonnull(strstr(e.msg, "expected 3 fields, found 2"));

  e = load_fails("r2.csv", "a,b\n1,2\n\"x\ny\",2\n4,5,6\n", 0, NULL);
  ck_assert_int_eq(e.row, 3);
  ck_assert_int_eq(e.line, 5); /* the quoted newline counts as a line */
  ck_assert_int_eq(e.col, 3);

  e = load_fails("q.csv", "a,b\n\"x\"y,2\n", 0, NULL);
  ck_assert_int_eq(e.row, 1);
  ck_assert_int_eq(e.col, 1);
  ck_assert_ptr_nonnull(strstr(e.msg, "closing quote"));

  e = load_fails("utf.csv", "a,b\n1,caf\xC3\xA9\n2,ba\xC3\x28\n", 0, NULL);
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(e.col, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "UTF-8"));

  e = load_fails("empty.csv", "", 0, NULL);
  ck_assert_ptr_nonnull(strstr(e.msg, "empty"));

  e = load_fails("header.csv", "a,b\n", 0, NULL);
  ck_assert_int_eq(e.col, 1);
  ck_assert_ptr_nonnull(strstr(e.msg, "no data rows"));

  e = load_fails("dup.csv", "a,a\n1,2\n", 0, NULL);
  ck_assert_int_eq(e.col, 2);

  MlprtTable t;
  ck_assert_int_ne(mlprt_load("/nonexistent/x.csv", NULL, &t, &e), 0);
  ck_assert_ptr_nonnull(strstr(dt_err(&e), "/nonexistent/x.csv: cannot open"));
}
END_TEST

/* One numeric rule: a number a float cannot hold is an error naming its
 * row and column, never an infinity that turns the column's fit to NaN;
 * a NUL byte is an error, never a value cut short at it. */
START_TEST(csv_float_range_and_nul) {
  static const char *const big[] = {"1e39", "1e308", "1e400", "-1e39",
                                    "340282357000000000000000000000000000000"};
  for (size_t k = 0; k < sizeof big / sizeof *big; k++) {
    char text[160];
    snprintf(text, sizeof text, "a,b\n1,2\n3,%s\n5,6\n", big[k]);
    MlprtError e = load_fails("big.csv", text, 0, NULL);
    ck_assert_int_eq(e.row, 2);
    ck_assert_int_eq(e.col, 2);
    ck_assert_str_eq(e.column, "b");
    ck_assert_msg(strstr(e.msg, "does not fit a 32-bit float"), "%s: %s", big[k], e.msg);
  }
  /* the largest float itself is a value */
  char *p = dt_write(dt_dir, "max.csv", "a\n3.4028234e38\n-3.4028234e38\n", 0);
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert(isfinite(t.cols[0].f[0]) && isfinite(t.cols[0].f[1]));
  mlprt_table_free(&t);
  free(p);
  /* NUL bytes: unquoted, quoted, in the header */
  static const char nul1[] = "a,b\n1,2\n5\0.1,3\n", nul2[] = "a,b\n1,\"x\0y\"\n", nul3[] = "a,b\0\n1,2\n";
  MlprtError e = load_fails("nul1.csv", nul1, sizeof nul1 - 1, NULL);
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(e.col, 1);
  ck_assert_str_eq(e.column, "a");
  ck_assert_ptr_nonnull(strstr(e.msg, "NUL byte"));
  e = load_fails("nul2.csv", nul2, sizeof nul2 - 1, NULL);
  ck_assert_int_eq(e.row, 1);
  ck_assert_int_eq(e.col, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "NUL byte"));
  e = load_fails("nul3.csv", nul3, sizeof nul3 - 1, NULL);
  ck_assert_ptr_nonnull(strstr(e.msg, "NUL byte"));
}
END_TEST

/* A file truncated by another process while it is loaded from its mapping
 * ends the load with an error naming the file, never a crash. */
START_TEST(csv_truncated_while_loading) {
  if (RUNNING_ON_VALGRIND) return; /* 160 MB under memcheck takes minutes */
  char *p = dt_write(dt_dir, "shrinks.csv", "a,b,c\n", 0);
  FILE *f = fopen(p, "ab");
  char chunk[1 << 16];
  for (size_t i = 0; i + 16 <= sizeof chunk; i += 16) memcpy(chunk + i, "1.25,2.5,3.7500\n", 16);
  for (int i = 0; i < 2560; i++) fwrite(chunk, 1, sizeof chunk, f); /* 160 MiB */
  fclose(f);
  int err_pipe[2];
  ck_assert_int_eq(pipe(err_pipe), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err_pipe[1], 2);
    MlprtTable t;
    MlprtError e = {0};
    MlprtLoadOpts o = {.nthreads = 2};
    _exit(mlprt_load(p, &o, &t, &e) == 0 ? 0 : 2);
  }
  close(err_pipe[1]);
  usleep(40000);
  ck_assert_int_eq(truncate(p, 1 << 20), 0);
  int st;
  waitpid(pid, &st, 0);
  char msg[512] = "";
  ssize_t n = read(err_pipe[0], msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = 0;
  close(err_pipe[0]);
  ck_assert_msg(WIFEXITED(st), "the load died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  /* 0: it finished first; 1: stopped by the shrink; 2: an ordinary error */
  if (WEXITSTATUS(st) == 1) ck_assert_msg(strstr(msg, "shrinks.csv: the file shrank") != NULL, "%s", msg);
  remove(p);
  free(p);
}
END_TEST

START_TEST(csv_record_limit) {
  /* a 100 MB single line: a clear error at a bounded memory cost */
  const size_t big = (size_t)100 << 20;
  char *p = malloc(strlen(dt_dir) + 16);
  sprintf(p, "%s/big.csv", dt_dir);
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  fputs("a,b\n1,", f);
  char chunk[1 << 16];
  memset(chunk, 'x', sizeof chunk);
  for (size_t w = 0; w < big; w += sizeof chunk) fwrite(chunk, 1, sizeof chunk, f);
  fputs("\n2,y\n", f);
  fclose(f);
  MlprtTable t;
  MlprtError e = {0};
  MlprtLoadOpts o = {.nthreads = 2};
  ck_assert_int_ne(mlprt_load(p, &o, &t, &e), 0);
  ck_assert_int_eq(e.row, 1);
  ck_assert_int_eq(e.line, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "record longer than the limit of 16777216 bytes"));
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  /* valgrind's own memory counts in the RSS: the bound holds natively */
  if (!RUNNING_ON_VALGRIND) ck_assert_msg(ru.ru_maxrss < 96 * 1024, "peak RSS %ld KiB", ru.ru_maxrss);
  remove(p);
  free(p);
  /* the limit is configurable, and exact even when the buffer is larger */
  char rec[5000];
  memset(rec, 'z', sizeof rec);
  memcpy(rec, "a\nok\n", 5);
  rec[sizeof rec - 1] = '\n';
  MlprtLoadOpts small = {.max_record = 1000};
  e = load_fails("long.csv", rec, sizeof rec, &small);
  ck_assert_int_eq(e.row, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "1000 bytes"));
}
END_TEST

/* Newlines inside row i's note field in make_tricky. */
static int tricky_newlines(int i) {
  return i % 7 == 0 ? 1 : i % 2 == 0 ? 12 : 0;
}

/* A CSV of n rows whose quoted fields hold delimiters, quotes and many
 * newlines (most bytes sit inside quotes), so the parser's cuts between
 * threads land inside quoted fields. */
static char *make_tricky(const char *name, int n, int bad_row) {
  static const char long_note[] = "\"l1\nl2,\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\nend\"";
  size_t cap = (size_t)n * 128 + 64, len = 0;
  char *text = malloc(cap);
  len += (size_t)sprintf(text, "id,val,cat,note\n");
  for (int i = 1; i <= n; i++) {
    const char *note = i % 7 == 0   ? "\"multi\nline, with \"\"quotes\"\"\""
                       : i % 2 == 0 ? long_note
                                    : "\"a,b\"";
    if (i == bad_row) len += (size_t)sprintf(text + len, "%d,oops,c%d,%s\n", i, i % 5, note);
    else len += (size_t)sprintf(text + len, "%d,%d.%d,c%d,%s\n", i, i % 1000, i % 10, i % 5, note);
  }
  char *p = dt_write(dt_dir, name, text, len);
  free(text);
  return p;
}

START_TEST(csv_parallel_equals_serial) {
  char *p = make_tricky("par.csv", 120000, 0); /* ~7 MB: several segments */
  MlprtTable a, b;
  MlprtLoadOpts o1 = {.nthreads = 1, .max_levels = 8}, o4 = {.nthreads = 4, .max_levels = 8};
  /* 4 threads on 2 cores: the point is the cuts, not the speed */
  dt_load_ok(p, &o1, &a);
  dt_load_ok(p, &o4, &b);
  ck_assert_int_eq(a.nrows, 120000);
  ck_assert_int_eq(b.nrows, a.nrows);
  for (int64_t r = 0; r < a.nrows; r++) {
    ck_assert_float_eq(a.cols[0].f[r], (float)(r + 1));
    ck_assert_float_eq(b.cols[0].f[r], a.cols[0].f[r]);
    ck_assert_float_eq(b.cols[1].f[r], a.cols[1].f[r]);
    ck_assert_str_eq(b.cols[2].levels.names[b.cols[2].codes[r]], a.cols[2].levels.names[a.cols[2].codes[r]]);
    ck_assert_str_eq(b.cols[3].levels.names[b.cols[3].codes[r]], a.cols[3].levels.names[a.cols[3].codes[r]]);
  }
  ck_assert_str_eq(a.cols[3].levels.names[a.cols[3].codes[6]], "multi\nline, with \"quotes\"");
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  free(p);
  /* an error deep in a later segment names its row and physical line */
  p = make_tricky("parbad.csv", 120000, 100000);
  MlprtSchema s;
  MlprtError e = {0};
  MlprtLoadOpts scan = {.scan_rows = 1000, .nthreads = 4};
  ck_assert_int_eq(mlprt_schema_infer(p, &scan, &s, &e), 0);
  MlprtTable t;
  ck_assert_int_ne(mlprt_load_schema(p, &scan, &s, &t, &e), 0);
  ck_assert_int_eq(e.row, 100000);
  int64_t line = 2; /* the header, then one line per row plus its quoted newlines */
  for (int i = 1; i < 100000; i++) line += 1 + tricky_newlines(i);
  ck_assert_int_eq(e.line, line);
  ck_assert_int_eq(e.col, 2);
  mlprt_schema_free(&s);
  free(p);
}
END_TEST

/* A file larger than one thread's 8 MiB window is parsed from a mapping of
 * the file, window by window, with records (and quoted newlines) crossing
 * window ends; 4 threads read the same file into one buffer. Both must give
 * the same cells, and an error past the first window its row and line. */
START_TEST(csv_mapped_windows_equal_buffered) {
  char *p = make_tricky("map.csv", 220000, 0); /* 9.2 MB */
  MlprtTable a, b;
  MlprtLoadOpts o1 = {.nthreads = 1, .max_levels = 8}, o4 = {.nthreads = 4, .max_levels = 8};
  dt_load_ok(p, &o1, &a);
  dt_load_ok(p, &o4, &b);
  ck_assert_int_eq(a.nrows, 220000);
  ck_assert_int_eq(b.nrows, a.nrows);
  for (int64_t r = 0; r < a.nrows; r++) {
    ck_assert_float_eq(a.cols[0].f[r], (float)(r + 1));
    ck_assert_float_eq(a.cols[1].f[r], b.cols[1].f[r]);
    ck_assert_str_eq(a.cols[2].levels.names[a.cols[2].codes[r]], b.cols[2].levels.names[b.cols[2].codes[r]]);
    ck_assert_str_eq(a.cols[3].levels.names[a.cols[3].codes[r]], b.cols[3].levels.names[b.cols[3].codes[r]]);
  }
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  free(p);
  p = make_tricky("mapbad.csv", 220000, 200000);
  MlprtSchema s;
  MlprtError e = {0};
  MlprtLoadOpts scan = {.scan_rows = 1000, .nthreads = 1};
  ck_assert_int_eq(mlprt_schema_infer(p, &scan, &s, &e), 0);
  MlprtTable t;
  ck_assert_int_ne(mlprt_load_schema(p, &scan, &s, &t, &e), 0);
  ck_assert_int_eq(e.row, 200000);
  int64_t line = 2;
  for (int i = 1; i < 200000; i++) line += 1 + tricky_newlines(i);
  ck_assert_int_eq(e.line, line);
  ck_assert_int_eq(e.col, 2);
  mlprt_schema_free(&s);
  free(p);
}
END_TEST

START_TEST(csv_fast_path_matches_general) {
  /* plain records take the one-pass path; a numeric missing-value token
   * turns it off, so the same file through both must give the same cells */
  const char *text = "f,i,t,c\n"
                     "-0.5,7,alpha,x\n"
                     "1.,007,beta,y\n"
                     ".25,-3,\"quoted, text\",x\n"
                     "1000,4,gamma,\"y\"\r\n" /* text appended, then a quote */
                     ",5,delta,\n"
                     "0.1234567890123456789,6,eps,x\n"
                     "3.0,8,zeta,NA\n"
                     "+2e0,9,eta,y\n";
  char *p = dt_write(dt_dir, "fast.csv", text, 0);
  const char *na_general[] = {"", "NA", "-99999"};
  MlprtLoadOpts fast = {.max_levels = 4}, general = {.max_levels = 4, .na_tokens = na_general, .nna = 3};
  MlprtDecl decl[] = {{"t", MLPRT_COL_TEXT}};
  fast.decl = general.decl = decl;
  fast.ndecl = general.ndecl = 1;
  MlprtTable a, b;
  dt_load_ok(p, &fast, &a);
  dt_load_ok(p, &general, &b);
  ck_assert_int_eq(a.nrows, 8);
  ck_assert_int_eq(b.nrows, 8);
  for (int c = 0; c < a.ncols; c++) {
    ck_assert_int_eq(a.cols[c].type, b.cols[c].type);
    for (int64_t r = 0; r < a.nrows; r++) {
      char b1[64], b2[64];
      ck_assert_str_eq(mlprt_cell_str(&a, c, r, b1, sizeof b1), mlprt_cell_str(&b, c, r, b2, sizeof b2));
    }
  }
  ck_assert_float_eq(a.cols[0].f[0], -0.5f);
  ck_assert_float_eq(a.cols[0].f[3], 1000.0f);
  ck_assert(isnan(a.cols[0].f[4]));
  ck_assert_float_eq(a.cols[1].f[1], 7.0f);
  ck_assert_str_eq(mlprt_text_at(&a.cols[2], 2), "quoted, text");
  ck_assert_str_eq(mlprt_text_at(&a.cols[2], 3), "gamma"); /* the record after a fallback */
  /* a fallback takes back text it appended: the pool holds each value once */
  ck_assert_int_eq(a.cols[2].pool_len, b.cols[2].pool_len);
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  free(p);
  /* numbers of every digit count on both sides of the point, both paths */
  size_t cap = 1 << 20, len = 0;
  char *big = malloc(cap);
  len += (size_t)sprintf(big, "x,y\n");
  uint64_t z = 12345;
  for (int i = 0; i < 20000; i++) {
    z = z * 6364136223846793005ULL + 1442695040888963407ULL;
    int ni = 1 + (int)(z >> 60) % 12, nf = (int)(z >> 56 & 15) % 11;
    char num[64];
    int k = 0;
    if (z & 1) num[k++] = '-';
    for (int d = 0; d < ni; d++) num[k++] = (char)('0' + (z >> (d * 3 % 50) & 7) + (d & 1));
    if (nf) num[k++] = '.';
    for (int d = 0; d < nf; d++) num[k++] = (char)('0' + (z >> (d * 5 % 50) & 7) + (d & 2));
    num[k] = 0;
    len += (size_t)sprintf(big + len, "%s,%d\n", num, i);
  }
  p = dt_write(dt_dir, "digits.csv", big, len);
  free(big);
  MlprtLoadOpts f2 = {0}, g2 = {.na_tokens = na_general, .nna = 3};
  dt_load_ok(p, &f2, &a);
  dt_load_ok(p, &g2, &b);
  ck_assert_int_eq(a.nrows, 20000);
  for (int64_t r = 0; r < a.nrows; r++)
    ck_assert_msg(a.cols[0].f[r] == b.cols[0].f[r], "row %lld", (long long)r);
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  free(p);
}
END_TEST

/* The schema probe of a described source: every row scanned, two files
 * typed as one (int and float make float), missing counts added, ranges
 * and levels joined; the levels as the loaded table prints them. */
START_TEST(csv_probe_described) {
  char *a = dt_write(dt_dir, "p1.csv", "n,b,c,u\n1.0,true,x,1\n2,FALSE,,2\n", 0);
  char *b = dt_write(dt_dir, "p2.csv", "n,b,c,u\n1,,y,3\n3.5,true,x,4\n", 0);
  char paths[512];
  snprintf(paths, sizeof paths, "%s\n%s", a, b);
  MlprtSourceDesc d = {.paths = paths};
  MlprtSchema s;
  MlprtError e = {0};
  ck_assert_msg(mlprt_probe_described(&d, &s, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(s.nrows, 4);
  ck_assert_int_eq(s.cols[0].type, MLPRT_COL_FLOAT);
  ck_assert_int_eq(s.cols[0].nlevels, 3); /* "1.0" and "1" are one value */
  ck_assert_str_eq(s.cols[0].levels[0], "1");
  ck_assert_str_eq(s.cols[0].levels[2], "3.5");
  ck_assert_double_eq(s.cols[0].lo, 1);
  ck_assert_double_eq(s.cols[0].hi, 3.5);
  ck_assert_int_eq(s.cols[1].type, MLPRT_COL_BOOL);
  ck_assert_int_eq(s.cols[1].nmissing, 1);
  ck_assert_int_eq(s.cols[1].nlevels, 2);
  ck_assert_str_eq(s.cols[1].levels[0], "false");
  ck_assert_int_eq(s.cols[2].type, MLPRT_COL_CATEGORY);
  ck_assert_int_eq(s.cols[2].nmissing, 1);
  ck_assert_int_eq(s.cols[2].nlevels, 2);
  ck_assert(isnan(s.cols[2].lo));
  ck_assert_int_eq(s.cols[3].type, MLPRT_COL_INT);
  ck_assert_int_eq(s.cols[3].nlevels, 4);
  mlprt_schema_free(&s);
  free(a), free(b);
}
END_TEST

START_TEST(csv_many_sources) {
  char *a = dt_write(dt_dir, "m1.csv", "k,v\nx,1\ny,2\n", 0);
  char *b = dt_write(dt_dir, "m2.csv", "k,v\nz,2.5\nx,4\n", 0);
  char *c = dt_write(dt_dir, "m3.csv", "k,w\nx,1\n", 0);
  const char *ok[] = {a, b};
  MlprtTable t;
  MlprtError e = {0};
  ck_assert_msg(mlprt_load_many(ok, 2, NULL, &t, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(t.nrows, 4);
  ck_assert_int_eq(t.cols[1].type, MLPRT_COL_FLOAT); /* int in one file, float in the other */
  ck_assert_float_eq(t.cols[1].f[2], 2.5f);
  ck_assert_int_eq(t.cols[0].levels.n, 3);
  ck_assert_int_eq(t.cols[0].codes[3], t.cols[0].codes[0]); /* "x" in both files */
  mlprt_table_free(&t);
  const char *bad[] = {a, b, c};
  ck_assert_int_ne(mlprt_load_many(bad, 3, NULL, &t, &e), 0);
  ck_assert_str_eq(e.file, c);
  ck_assert_int_eq(e.col, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "columns differ"));
  free(a), free(b), free(c);
}
END_TEST

START_TEST(csv_export_round_trip) {
  char *p =
      dt_write(dt_dir, "rt.csv", "n,s,d\n0.1,\"a,\"\"b\"\"\",2020-05-06\n,x,\n-3,y,1999-12-31T23:59:59\n", 0);
  MlprtTable t, u;
  dt_load_ok(p, NULL, &t);
  char *out = malloc(strlen(dt_dir) + 16);
  sprintf(out, "%s/out.csv", dt_dir);
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_table_write_csv(&t, out, -1, &e), 0);
  dt_load_ok(out, NULL, &u);
  ck_assert_int_eq(u.nrows, t.nrows);
  for (int c = 0; c < t.ncols; c++) {
    ck_assert_int_eq(u.cols[c].type, t.cols[c].type);
    for (int64_t r = 0; r < t.nrows; r++) {
      char b1[64], b2[64];
      ck_assert_str_eq(mlprt_cell_str(&u, c, r, b1, sizeof b1), mlprt_cell_str(&t, c, r, b2, sizeof b2));
    }
  }
  ck_assert_str_eq(t.cols[1].levels.names[t.cols[1].codes[0]], "a,\"b\"");
  mlprt_table_free(&t);
  mlprt_table_free(&u);
  free(out);
  free(p);
}
END_TEST

/* Column means of a sklearn CSV (first line: counts and class names) by a
 * separate strtod pass, against the loader's table. */
static void check_uci(const char *path, int nfeat, int nrows) {
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  char line[4096];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  double sum[64] = {0};
  int rows = 0;
  while (fgets(line, sizeof line, f)) {
    char *s = line;
    for (int c = 0; c <= nfeat; c++) {
      sum[c] += strtod(s, &s);
      if (*s == ',') s++;
    }
    rows++;
  }
  fclose(f);
  ck_assert_int_eq(rows, nrows);
  MlprtTable t;
  MlprtLoadOpts o = {.skip_lines = 1, .no_header = true};
  dt_load_ok(path, &o, &t);
  ck_assert_int_eq(t.nrows, nrows);
  ck_assert_int_eq(t.ncols, nfeat + 1);
  ck_assert_int_eq(t.cols[nfeat].type, MLPRT_COL_INT); /* the class label */
  for (int c = 0; c <= nfeat; c++) {
    double s = 0;
    for (int64_t r = 0; r < t.nrows; r++) s += t.cols[c].f[r];
    ck_assert_msg(fabs(s / nrows - sum[c] / nrows) <= 1e-5 * (1 + fabs(sum[c] / nrows)), "column %d", c);
  }
  mlprt_table_free(&t);
}

START_TEST(csv_uci_real_data) {
  const char *base = "/usr/lib/python3/dist-packages/sklearn/datasets/data/";
  char p[512];
  snprintf(p, sizeof p, "%siris.csv", base);
  if (dt_system_file(p, "python3-sklearn")) check_uci(p, 4, 150);
  snprintf(p, sizeof p, "%swine_data.csv", base);
  if (dt_system_file(p, "python3-sklearn")) check_uci(p, 13, 178);
  snprintf(p, sizeof p, "%sbreast_cancer.csv", base);
  if (dt_system_file(p, "python3-sklearn")) check_uci(p, 30, 569);
}
END_TEST

START_TEST(csv_parse_helpers) {
  double v;
  ck_assert(mlprt_parse_double("0.1", 3, &v) && v == 0.1);
  ck_assert(mlprt_parse_double(" -12.5e-3 ", 10, &v) && v == -12.5e-3);
  ck_assert(mlprt_parse_double("123456789012345678901234", 24, &v) && v == 123456789012345678901234.0);
  ck_assert(mlprt_parse_double("1e300", 5, &v) && v == 1e300);
  ck_assert(!mlprt_parse_double("1.2.3", 5, &v));
  ck_assert(!mlprt_parse_double("e5", 2, &v));
  ck_assert(!mlprt_parse_double("", 0, &v));
  int64_t t;
  ck_assert(mlprt_parse_datetime("1970-01-02", 10, &t) && t == 86400);
  ck_assert(mlprt_parse_datetime("1970-01-01T01:00:00+01:00", 25, &t) && t == 0);
  ck_assert(!mlprt_parse_datetime("2013-02-29", 10, &t));
  ck_assert(!mlprt_parse_datetime("31.04.2020", 10, &t));
  ck_assert(mlprt_parse_datetime("29.02.2000 12:00", 16, &t));
  char buf[32];
  mlprt_format_datetime(t, buf, sizeof buf);
  ck_assert_str_eq(buf, "2000-02-29T12:00:00");
  ck_assert_uint_eq(mlprt_utf8_valid_prefix("ok\xE2\x82\xAC", 5), 5);
  ck_assert_uint_eq(mlprt_utf8_valid_prefix("ok\xC0\xAF", 4), 2);       /* overlong */
  ck_assert_uint_eq(mlprt_utf8_valid_prefix("\xED\xA0\x80", 3), 0);     /* surrogate */
}
END_TEST

/* A random number text: sign, up to 24 digits around an optional point,
 * an optional exponent; sometimes a long run of 9s or 0s, or a value near
 * the halfway point between two doubles (many digits). */
static size_t random_number(unsigned *seed, char *buf) {
  size_t n = 0;
  int r = rand_r(seed);
  if (r % 4 == 0) buf[n++] = '-';
  else if (r % 17 == 0) buf[n++] = '+';
  int nint = rand_r(seed) % 12, nfrac = rand_r(seed) % 14, run = rand_r(seed) % 5;
  for (int i = 0; i < nint; i++)
    buf[n++] = run == 0 ? '9' : run == 1 && i > 0 ? '0' : (char)('0' + rand_r(seed) % 10);
  if (nfrac || !nint) {
    buf[n++] = '.';
    for (int i = 0; i < (nfrac || nint ? nfrac : 1); i++)
      buf[n++] = run == 0 ? '9' : run == 1 ? '0' : (char)('0' + rand_r(seed) % 10);
  }
  if (run == 2) buf[n - 1] = '5'; /* a last digit 5: rounding ties appear in the decimal expansion */
  if (rand_r(seed) % 3 == 0) {
    buf[n++] = rand_r(seed) % 2 ? 'e' : 'E';
    if (rand_r(seed) % 2) buf[n++] = rand_r(seed) % 2 ? '-' : '+';
    n += (size_t)sprintf(buf + n, "%d", rand_r(seed) % 40);
  }
  buf[n] = 0;
  return n;
}

/* The loader's number parser rounds as strtod does, on every path (the
 * fast exact one and strtod's), as a double and as the float a column
 * keeps. */
START_TEST(csv_parse_double_matches_strtod) {
  unsigned seed = 20261208;
  char buf[80];
  for (int t = 0; t < 300000; t++) {
    size_t n = random_number(&seed, buf);
    double v;
    char *end;
    double want = strtod(buf, &end);
    ck_assert_msg(*end == 0, "'%s': strtod stops at '%s'", buf, end);
    ck_assert_msg(mlprt_parse_double(buf, n, &v), "'%s' not read, strtod reads it", buf);
    ck_assert_msg(memcmp(&v, &want, sizeof v) == 0, "'%s': %.17g, strtod %.17g", buf, v, want);
    ck_assert_msg((float)v == (float)want, "'%s' as a float", buf);
  }
  /* exactly halfway between two doubles: ties to even */
  const char *tie[] = {"9007199254740993", "9007199254740995", "4503599627370496.5", "0.1e-307",
                       "2.2250738585072011e-308", "1.7976931348623157e308", "123456789012345678", "5e-324"};
  for (size_t i = 0; i < sizeof tie / sizeof *tie; i++) {
    double v;
    ck_assert(mlprt_parse_double(tie[i], strlen(tie[i]), &v));
    ck_assert_msg(v == strtod(tie[i], NULL), "%s", tie[i]);
  }
}
END_TEST

Suite *csv_suite(void);
Suite *csv_suite(void) {
  Suite *s = suite_create("csv");
  TCase *tc = tcase_create("csv");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, csv_rfc4180);
  tcase_add_test(tc, csv_na_tokens_and_delimiter);
  tcase_add_test(tc, csv_schema_inference);
  tcase_add_test(tc, csv_declared_type_contradicted);
  tcase_add_test(tc, csv_late_value_retypes_or_errors);
  tcase_add_test(tc, csv_malformed);
  tcase_add_test(tc, csv_float_range_and_nul);
  tcase_add_test(tc, csv_record_limit);
  tcase_add_test(tc, csv_truncated_while_loading);
  tcase_add_test(tc, csv_parallel_equals_serial);
  tcase_add_test(tc, csv_mapped_windows_equal_buffered);
  tcase_add_test(tc, csv_fast_path_matches_general);
  tcase_add_test(tc, csv_many_sources);
  tcase_add_test(tc, csv_probe_described);
  tcase_add_test(tc, csv_export_round_trip);
  tcase_add_test(tc, csv_uci_real_data);
  tcase_add_test(tc, csv_parse_helpers);
  tcase_add_test(tc, csv_parse_double_matches_strtod);
  suite_add_tcase(s, tc);
  return s;
}
