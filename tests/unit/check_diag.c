/* check_diag.c — golden diagnostics: every tests/diag/NAME.mlp is a bad (or
 * suspicious) spec; `mlpc check` on it must print exactly NAME.err on
 * standard error and exit 1 when that holds an error, 0 when it holds only
 * warnings. After an intended change of wording, regenerate the goldens with
 *
 *   for f in tests/diag/[a-z]*.mlp; do build/mlpc check "$f" 2> "${f%.mlp}.err"; done
 *
 * and read the diff before committing it. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define DIAG_DIR "tests/diag"

static char **names;
static int nnames;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_specs(void) {
  DIR *dir = opendir(DIAG_DIR);
  if (!dir) return;
  for (struct dirent *e; (e = readdir(dir));) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".mlp") != 0) continue;
    names = realloc(names, sizeof *names * (size_t)(nnames + 1));
    names[nnames++] = strndup(e->d_name, len - 4);
  }
  closedir(dir);
  qsort(names, (size_t)nnames, sizeof *names, by_name);
}

/* The first line where two texts differ, for a readable failure. */
static int first_difference(const char *a, const char *b) {
  int line = 1;
  for (; *a && *a == *b; a++, b++)
    if (*a == '\n') line++;
  return line;
}

START_TEST(diag_golden) {
  char spec[256], golden[256];
  snprintf(spec, sizeof spec, DIAG_DIR "/%s.mlp", names[_i]);
  snprintf(golden, sizeof golden, DIAG_DIR "/%s.err", names[_i]);
  char *want = test_read_file(golden, NULL);
  ck_assert_msg(want != NULL, "%s has no golden %s", spec, golden);
  /* modules come from the source tree, whatever build directory mlpc is in */
  setenv("MLP_STDLIB", "stdlib", 1);
  const char *argv[] = {test_mlpc(), "check", spec, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(strcmp(r.err, want) == 0, "%s: stderr differs from %s at line %d\n--- got:\n%s--- want:\n%s",
                spec, golden, first_difference(r.err, want), r.err, want);
  int status = strstr(want, ": error: ") ? 1 : 0;
  ck_assert_msg(r.status == status, "%s: exit status %d, want %d", spec, r.status, status);
  test_run_free(&r);
  free(want);
}
END_TEST

/* The set is meant to be broad: each family of mistake has goldens. */
START_TEST(diag_coverage) {
  static const char *const families[] = {"syntax_",  "unknown_",   "type_", "range_",
                                         "missing_", "duplicate_", "warn_"};
  ck_assert_int_ge(nnames, 30);
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    int n = 0;
    for (int i = 0; i < nnames; i++) n += strncmp(names[i], families[f], strlen(families[f])) == 0;
    ck_assert_msg(n >= 2, "fewer than two goldens named %s*", families[f]);
  }
}
END_TEST

Suite *diag_suite(void); /* the runner finds it by name */
Suite *diag_suite(void) {
  Suite *s = suite_create("diag");
  TCase *tc = tcase_create("golden");
  if (!names) list_specs();
  tcase_add_loop_test(tc, diag_golden, 0, nnames);
  tcase_add_test(tc, diag_coverage);
  suite_add_tcase(s, tc);
  return s;
}
