/* check_columns.c — golden column accounting: for every
 * tests/golden/columns/NAME.mlp, `mlpc check` must print exactly NAME.out
 * on standard output (one line per source column, then the warnings) and
 * exit 0: the accounting warns, it never fails a check. The specs cover a
 * column no op uses (a category, a date, a text), missing values that reach
 * the model with no impute, and unscaled numbers on ranges 100x apart.
 * After an intended change of wording, regenerate the goldens with
 *
 *   for f in tests/golden/columns/[a-z]*.mlp; do build/mlpc check "$f" > "${f%.mlp}.out"; done
 *
 * and read the diff before committing it. */
#include <check.h>
#include <cjson/cJSON.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define GOLDEN_DIR "tests/golden/columns"

static glob_t specs; /* the golden specs, sorted */

/* NAME of the i-th spec's path (GOLDEN_DIR/NAME.mlp), into buf. */
static const char *spec_name(int i, char *buf, size_t n) {
  const char *base = strrchr(specs.gl_pathv[i], '/') + 1;
  snprintf(buf, n, "%.*s", (int)(strlen(base) - 4), base);
  return buf;
}

START_TEST(columns_golden) {
  char name[128], golden[256];
  const char *spec = specs.gl_pathv[_i];
  snprintf(golden, sizeof golden, GOLDEN_DIR "/%s.out", spec_name(_i, name, sizeof name));
  char *want = test_read_file(golden, NULL);
  ck_assert_msg(want != NULL, "%s has no golden %s", spec, golden);
  const char *argv[] = {test_mlpc(), "check", spec, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(strcmp(r.out, want) == 0, "%s: stdout differs from %s\n--- got:\n%s--- want:\n%s", spec,
                golden, r.out, want);
  ck_assert_msg(r.status == 0, "%s: exit status %d\n%s", spec, r.status, r.err);
  test_run_free(&r);
  free(want);
}
END_TEST

/* The three kinds of warning each appear in some golden. */
START_TEST(columns_goldens_cover_every_warning) {
  static const char *const kinds[] = {"is unused: a category", "is unused: a date", "is unused: text",
                                      "reach the model as 0", "unscaled numeric inputs differ"};
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    bool found = false;
    for (int i = 0; i < (int)specs.gl_pathc && !found; i++) {
      char name[128], golden[256];
      snprintf(golden, sizeof golden, GOLDEN_DIR "/%s.out", spec_name(i, name, sizeof name));
      char *text = test_read_file(golden, NULL);
      found = text && strstr(text, kinds[k]);
      free(text);
    }
    ck_assert_msg(found, "no golden shows '%s'", kinds[k]);
  }
}
END_TEST

/* `mlpc build ARGS SPEC` on a pipeline over people.csv whose data block
 * holds `data` (after source and target) and whose model is output(). */
static TestRun build_people(const char *data, const char *args) {
  char *dir = test_tmpdir(), *spec = test_path(dir, "people.mlp");
  char *csv = realpath(GOLDEN_DIR "/people.csv", NULL);
  char text[2048];
  snprintf(text, sizeof text,
           "pipeline people {\n  data {\n    source = csv(\"%s\")\n    target = y\n%s  }\n"
           "  model {\n    output()\n  }\n}\n",
           csv, data);
  test_write_text(spec, text);
  /* --emit-ir prints the plan and builds nothing; otherwise the program goes nowhere */
  bool emit_ir = strcmp(args, "--emit-ir") == 0;
  const char *argv[] = {test_mlpc(), "build", args, spec, emit_ir ? NULL : "-o", "/dev/null", NULL};
  TestRun r = test_run(argv, NULL);
  remove(spec);
  rmdir(dir);
  free(csv);
  free(spec);
  free(dir);
  return r;
}

/* Clean settings that cannot act are refused by build at their place:
 * `keep` by a type selector, a text impute value, an op not built, a
 * number-only step given a category, onehot of what an earlier onehot
 * made (the traced chain, no data step). */
START_TEST(columns_clean_refusals_are_located) {
  static const struct {
    const char *op, *want;
  } cases[] = {
      {"clip_outliers(numeric, keep = numeric)", ":6:37: error: `keep` lists columns by name"},
      {"impute([city], strategy = constant, value = \"none\")",
       ":6:51: error: an impute value that is not a number is not supported by code generation yet"},
      {"text_clean([income])", ":6:7: error: text_clean does not apply to 'income', a int column"},
      {"tfidf([note], ngram = [2, 1])",
       ":6:29: error: `ngram` is [shortest, longest] with shortest <= longest"},
      {"standardize([city])", ":6:7: error: standardize does not apply to 'city', a category column"},
      {"impute([city], strategy = median)",
       ":6:7: error: impute does not apply to 'city', a category column"},
      {"onehot([city])\n      onehot(all)",
       ":7:7: error: onehot meets a column an earlier step made from 'city'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char data[512];
    snprintf(data, sizeof data, "    clean {\n      %s\n    }\n", cases[i].op);
    TestRun r = build_people(data, "-O0");
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, cases[i].want), "%s:\n%s", cases[i].op, r.err);
    test_run_free(&r);
  }
}
END_TEST

/* A vectorizer's dense features past the bound (MLP_TEXT_DENSE_MAX floats)
 * are refused at the step, naming the size and the fix. */
START_TEST(columns_dense_text_bound_is_located) {
  char *dir = test_tmpdir(), *csv = test_path(dir, "notes.csv"), *spec = test_path(dir, "notes.mlp");
  FILE *f = fopen(csv, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "note,y\n");
  for (int i = 0; i < 120; i++) fprintf(f, "word%d and more,%d\n", i, i % 2);
  fclose(f);
  char text[1024];
  snprintf(text, sizeof text,
           "pipeline notes {\n  data {\n    source = csv(\"%s\")\n    target = y\n"
           "    clean {\n      tfidf([note], max_vocab = 10000000)\n    }\n  }\n"
           "  model {\n    output()\n  }\n}\n",
           csv);
  test_write_text(spec, text);
  const char *argv[] = {test_mlpc(), "build", "--emit-ir", spec, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, ":6:7: error: tfidf(note) makes 10000000 dense columns for 120 rows") &&
                    strstr(r.err, "lower max_vocab"),
                "%s", r.err);
  test_run_free(&r);
  remove(csv);
  remove(spec);
  rmdir(dir);
  free(csv);
  free(spec);
  free(dir);
}
END_TEST

/* onehot takes its levels from the schema probe: a text column has none
 * there, and build refuses the step at its place, naming the fixes. */
START_TEST(columns_onehot_of_text_is_refused) {
  TestRun r = build_people("    schema {\n      note = text\n    }\n"
                           "    clean {\n      onehot([note])\n    }\n",
                           "-O0");
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, ":9:7: error: 'note' has more distinct values than the type scan keeps (64) or "
                              "is text"),
                "%s", r.err);
  ck_assert_msg(strstr(r.err, "declare it `category` in data.schema, or use hash_encode(note)"), "%s", r.err);
  test_run_free(&r);
}
END_TEST

/* Lowering resolves each step's columns against the table as the step
 * meets it: after drop_columns, an impute indicator appended and a onehot
 * whose levels go to the end, income is column 1 of 9 (people.csv's city
 * has four levels). */
START_TEST(columns_steps_resolve_to_indices) {
  TestRun r = build_people("    clean {\n      drop_columns([joined, note, id])\n"
                           "      impute([age], strategy = mean, indicator = true)\n"
                           "      onehot([city])\n      standardize([income])\n      standardize(numeric)\n"
                           "    }\n",
                           "--emit-ir");
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(ir);
  const cJSON *clean = cJSON_GetObjectItem(cJSON_GetObjectItem(ir, "data"), "clean");
  /* id age income city joined note smoker y, then age income city smoker y,
   * then ... age_missing, then age income smoker y age_missing city=... */
  static const struct {
    int ncols, n, idx[3];
  } want[] = {{8, 3, {4, 5, 0}}, {5, 1, {0}}, {6, 1, {2}}, {9, 1, {1}}, {9, 2, {0, 1}}};
  ck_assert_int_eq(cJSON_GetArraySize(clean), 5);
  for (int i = 0; i < 5; i++) {
    const cJSON *st = cJSON_GetArrayItem(clean, i), *idx = cJSON_GetObjectItem(st, "columns_idx");
    ck_assert_int_eq(cJSON_GetObjectItem(st, "table_columns")->valueint, want[i].ncols);
    ck_assert_int_eq(cJSON_GetArraySize(idx), want[i].n);
    for (int k = 0; k < want[i].n; k++)
      ck_assert_int_eq(cJSON_GetArrayItem(idx, k)->valueint, want[i].idx[k]);
  }
  cJSON_Delete(ir);
  test_run_free(&r);
}
END_TEST

Suite *columns_suite(void);
Suite *columns_suite(void) {
  Suite *s = suite_create("columns");
  TCase *tc = tcase_create("golden");
  if (!specs.gl_pathc) glob(GOLDEN_DIR "/*.mlp", 0, NULL, &specs);
  tcase_add_loop_test(tc, columns_golden, 0, (int)specs.gl_pathc);
  tcase_add_test(tc, columns_goldens_cover_every_warning);
  tcase_add_test(tc, columns_clean_refusals_are_located);
  tcase_add_test(tc, columns_dense_text_bound_is_located);
  tcase_add_test(tc, columns_onehot_of_text_is_refused);
  tcase_add_test(tc, columns_steps_resolve_to_indices);
  suite_add_tcase(s, tc);
  return s;
}
