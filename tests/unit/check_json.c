/* check_json.c — JSON sources: an array of records and JSON lines, nulls
 * and absent keys as missing values, types shared with CSV, malformed
 * documents with their row or line, and the vega cars table against an
 * independent pass over the same file with cJSON. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/data.h"
#include "tests/unit/datautil.h"


static MlprtError load_fails(const char *name, const char *text) {
  char *p = dt_write(dt_dir, name, text, 0);
  MlprtTable t;
  MlprtError e = {0};
  ck_assert_int_ne(mlprt_load(p, NULL, &t, &e), 0);
  ck_assert_str_eq(e.file, p);
  free(p);
  return e;
}

/* The numeric rule through JSON (numbers and number texts alike), NUL
 * bytes raw and escaped, and a key twice in a record: each an error
 * naming the row (and column where there is one). */
START_TEST(json_float_range_nul_and_repeated_keys) {
  static const char *const recs[] = {"{\"a\": 1e39}", "{\"a\": 1e400}", "{\"a\": -1e308}",
                                     "{\"a\": \"1e39\"}"};
  for (size_t k = 0; k < sizeof recs / sizeof *recs; k++) {
    char text[200];
    snprintf(text, sizeof text, "{\"a\": 1, \"b\": 2}\n%s\n", recs[k]);
    MlprtError e = load_fails("big.jsonl", text);
    ck_assert_int_eq(e.row, 2);
    ck_assert_int_eq(e.col, 1);
    ck_assert_str_eq(e.column, "a");
    ck_assert_msg(strstr(e.msg, "does not fit a 32-bit float"), "%s: %s", recs[k], e.msg);
    snprintf(text, sizeof text, "[{\"a\": 1, \"b\": 2},\n%s]", recs[k]);
    e = load_fails("big.json", text);
    ck_assert_int_eq(e.row, 2);
    ck_assert_str_eq(e.column, "a");
  }
  MlprtError e = load_fails("esc.jsonl", "{\"a\": 1, \"s\": \"x\"}\n{\"a\": 2, \"s\": \"5\\u0000.1\"}\n");
  ck_assert_int_eq(e.row, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "NUL byte"));
  /* an escaped backslash before u0000 is no NUL */
  char *p = dt_write(dt_dir, "bs.jsonl", "{\"s\": \"a\\\\u0000\"}\n", 0);
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert_int_eq(t.nrows, 1);
  mlprt_table_free(&t);
  free(p);
  static const char raw[] = "{\"a\": 1}\n{\"a\": \"5\0.1\"}\n";
  p = dt_write(dt_dir, "raw.jsonl", raw, sizeof raw - 1);
  ck_assert_int_ne(mlprt_load(p, NULL, &t, &e), 0);
  ck_assert_int_eq(e.row, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "NUL byte"));
  free(p);
  e = load_fails("twice.jsonl", "{\"a\": 1, \"b\": 2}\n{\"a\": 1, \"b\": 2, \"a\": 3}\n");
  ck_assert_int_eq(e.row, 2);
  ck_assert_str_eq(e.column, "a");
  ck_assert_ptr_nonnull(strstr(e.msg, "twice"));
}
END_TEST

START_TEST(json_array_of_records) {
  char *p =
      dt_write(dt_dir, "a.json",
               "[{\"n\": 1, \"x\": 2.5, \"s\": \"red\", \"b\": true, \"d\": \"2020-01-02\"},\n"
               " {\"n\": 2, \"x\": null, \"s\": \"blue\", \"b\": false},\n"
               " {\"n\": 3, \"x\": 4, \"s\": \"red\", \"b\": null, \"d\": \"2020-01-03\", \"late\": \"z\"}]",
               0);
  MlprtSchema s;
  MlprtError e = {0};
  ck_assert_msg(mlprt_schema_infer(p, NULL, &s, &e) == 0, "%s", dt_err(&e));
  ck_assert_int_eq(s.ncols, 6);
  ck_assert_str_eq(s.cols[5].name, "late");
  ck_assert_int_eq(s.cols[5].nmissing, 2); /* absent from the first two records */
  ck_assert_int_eq(s.cols[4].nmissing, 1);
  ck_assert_int_eq(s.cols[0].type, MLPRT_COL_INT);
  ck_assert_int_eq(s.cols[1].type, MLPRT_COL_FLOAT);
  ck_assert_int_eq(s.cols[2].type, MLPRT_COL_CATEGORY);
  ck_assert_int_eq(s.cols[3].type, MLPRT_COL_BOOL);
  ck_assert_int_eq(s.cols[4].type, MLPRT_COL_DATETIME);
  mlprt_schema_free(&s);
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert_int_eq(t.nrows, 3);
  ck_assert(isnan(t.cols[1].f[1]));
  ck_assert_float_eq(t.cols[1].f[2], 4.0f);
  ck_assert_int_eq(t.cols[3].b[0], 1);
  ck_assert_int_eq(t.cols[3].b[2], MLPRT_BOOL_NA);
  ck_assert_int_eq(t.cols[4].t[1], MLPRT_TIME_NA);
  ck_assert_int_eq(t.cols[5].codes[0], -1);
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(json_lines) {
  char *p = dt_write(dt_dir, "l.jsonl",
                     "{\"a\": 1, \"t\": \"x y\"}\n\n{\"a\": 2.5, \"t\": \"NA\"}\r\n{\"t\": \"z\"}\n", 0);
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert_int_eq(t.nrows, 3);
  ck_assert_int_eq(t.cols[0].type, MLPRT_COL_FLOAT);
  ck_assert(isnan(t.cols[0].f[2]));
  ck_assert_int_eq(t.cols[1].codes[1], -1); /* "NA" is a missing-value token here too */
  mlprt_table_free(&t);
  free(p);
}
END_TEST

START_TEST(json_malformed) {
  MlprtError e = load_fails("bad.json", "[{\"a\": 1},\n {\"a\": 2,,}]");
  ck_assert_int_eq(e.line, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "invalid JSON"));
  e = load_fails("obj.json", "{\"a\": 1}");
  ck_assert_ptr_nonnull(strstr(e.msg, "array of records"));
  e = load_fails("rec.json", "[{\"a\": 1}, 5]");
  ck_assert_int_eq(e.row, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "not a JSON object"));
  e = load_fails("nest.json", "[{\"a\": 1, \"b\": [1, 2]}]");
  ck_assert_int_eq(e.row, 1);
  ck_assert_int_eq(e.col, 2);
  ck_assert_str_eq(e.column, "b");
  e = load_fails("l.jsonl", "{\"a\": 1}\n{\"a\": 2\n");
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(e.line, 2);
  e = load_fails("utf.jsonl", "{\"a\": \"ok\"}\n{\"a\": \"\xFF\xFE\"}\n");
  ck_assert_int_eq(e.row, 2);
  ck_assert_ptr_nonnull(strstr(e.msg, "UTF-8"));
  e = load_fails("empty.json", "");
  ck_assert_ptr_nonnull(strstr(e.msg, "empty"));
  /* a declared type the data contradicts */
  char *p = dt_write(dt_dir, "decl.jsonl", "{\"a\": 1}\n{\"a\": \"one\"}\n", 0);
  MlprtDecl d[] = {{"a", MLPRT_COL_FLOAT}};
  MlprtLoadOpts o = {.decl = d, .ndecl = 1};
  MlprtTable t;
  ck_assert_int_ne(mlprt_load(p, &o, &t, &e), 0);
  ck_assert_int_eq(e.row, 2);
  ck_assert_int_eq(e.line, 2);
  ck_assert_str_eq(e.column, "a");
  free(p);
}
END_TEST

START_TEST(json_vega_cars) {
  const char *p =
      dt_system_file("/usr/lib/python3/dist-packages/vega_datasets/_data/cars.json", "python3-vega-datasets");
  if (!p) return;
  /* the independent pass: cJSON directly, summing each numeric key */
  char *text = test_read_file(p, NULL);
  cJSON *root = cJSON_Parse(text);
  free(text);
  ck_assert_ptr_nonnull(root);
  const char *keys[] = {"Miles_per_Gallon", "Cylinders",     "Displacement",
                        "Horsepower",       "Weight_in_lbs", "Acceleration"};
  double sum[6] = {0};
  int nnull[6] = {0}, n = 0;
  for (cJSON *r = root->child; r; r = r->next, n++) {
    for (int k = 0; k < 6; k++) {
      cJSON *v = cJSON_GetObjectItem(r, keys[k]);
      if (cJSON_IsNumber(v)) sum[k] += v->valuedouble;
      else nnull[k]++;
    }
  }
  cJSON_Delete(root);
  MlprtTable t;
  dt_load_ok(p, NULL, &t);
  ck_assert_int_eq(t.nrows, n);
  for (int k = 0; k < 6; k++) {
    int c = mlprt_table_find(&t, keys[k]);
    ck_assert_int_ge(c, 0);
    double s = 0;
    int miss = 0;
    for (int64_t r = 0; r < t.nrows; r++) {
      if (isnan(t.cols[c].f[r])) miss++;
      else s += t.cols[c].f[r];
    }
    ck_assert_int_eq(miss, nnull[k]);
    ck_assert_double_eq_tol(s, sum[k], 1e-6 * fabs(sum[k]));
  }
  int year = mlprt_table_find(&t, "Year");
  char buf[32];
  ck_assert_str_eq(mlprt_cell_str(&t, year, 0, buf, sizeof buf), "1970-01-01");
  mlprt_table_free(&t);
}
END_TEST

Suite *json_suite(void);
Suite *json_suite(void) {
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("json");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_add_test(tc, json_array_of_records);
  tcase_add_test(tc, json_float_range_nul_and_repeated_keys);
  tcase_add_test(tc, json_lines);
  tcase_add_test(tc, json_malformed);
  tcase_add_test(tc, json_vega_cars);
  suite_add_tcase(s, tc);
  return s;
}
