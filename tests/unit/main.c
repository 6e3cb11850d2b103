/* The test runner: every tests/unit/check_NAME.c defines NAME_suite(), and
 * the build lists them in suites.h. With no arguments all suites run in one
 * SRunner, so the suite ends with one Check summary line; arguments pick
 * suites by name. A check whose oracle is missing logs a skip (test_skip)
 * to a file named in the environment; the runner ends with the plain line
 * "check_all: N passed, N failed, N skipped" (a test that skipped a check
 * is not counted as passed) and the missing oracles, so a green run never
 * hides a check that did not run. MLP_REQUIRE_ORACLES=1 makes any skip
 * fail the run. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

#define MLP_SUITE(name) Suite *name##_suite(void);
#include "tests/suites.h"
#undef MLP_SUITE

typedef struct {
  const char *name;
  Suite *(*make)(void);
} SuiteEntry;

static const SuiteEntry suites[] = {
#define MLP_SUITE(name) {#name, name##_suite},
#include "tests/suites.h"
#undef MLP_SUITE
};

/* The skips logged at path ("PID\tWHAT\tORACLE" lines): the number of
 * tests that skipped (one process each), *checks the checks skipped, and
 * the distinct oracles missed, comma-separated, into oracles. */
static int count_skips(const char *path, int *checks, char *oracles, size_t n) {
  char *text = test_read_file(path, NULL), **lines = NULL;
  oracles[0] = 0;
  *checks = 0;
  if (!text) return 0;
  int nl = test_split_lines(text, &lines), tests = 0;
  char **oracle = calloc((size_t)(nl ? nl : 1), sizeof *oracle);
  for (int i = 0; i < nl; i++) {
    char *what = strchr(lines[i], '\t'), *tab = what ? strchr(what + 1, '\t') : NULL;
    if (!tab) continue;
    *what = 0;
    oracle[i] = tab + 1;
    ++*checks;
    bool pid_seen = false, known = false;
    for (int j = 0; j < i; j++) {
      if (!oracle[j]) continue;
      pid_seen |= strcmp(lines[j], lines[i]) == 0;
      known |= strcmp(oracle[j], oracle[i]) == 0;
    }
    tests += !pid_seen;
    if (!known && strlen(oracles) + strlen(oracle[i]) + 3 < n)
      snprintf(oracles + strlen(oracles), n - strlen(oracles), "%s%s", *oracles ? ", " : "", oracle[i]);
  }
  free(oracle);
  free(lines);
  free(text);
  return tests;
}

int main(int argc, char **argv) {
  size_t n = sizeof suites / sizeof suites[0];
  SRunner *sr = NULL;
  for (size_t i = 0; i < n; i++) {
    int want = argc < 2;
    for (int a = 1; a < argc; a++)
      if (strcmp(argv[a], suites[i].name) == 0) want = 1;
    if (!want) continue;
    if (!sr) sr = srunner_create(suites[i].make());
    else srunner_add_suite(sr, suites[i].make());
  }
  if (!sr) {
    fprintf(stderr, "check_all: no suite matches\n");
    return 2;
  }
  const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char log[512];
  snprintf(log, sizeof log, "%s/mlp-skips-XXXXXX", dir);
  int fd = mkstemp(log);
  if (fd < 0) {
    perror("check_all: the skip log");
    return 2;
  }
  close(fd);
  setenv(TEST_SKIP_LOG, log, 1);
  srunner_run_all(sr, CK_NORMAL);
  int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  char oracles[1024];
  int checks, skipped = count_skips(log, &checks, oracles, sizeof oracles);
  unlink(log);
  int passed = run - failed - skipped;
  printf("check_all: %d passed, %d failed, %d skipped\n", passed > 0 ? passed : 0, failed, skipped);
  if (skipped)
    printf("check_all: %d checks skipped, their oracle missing (make deps installs it): %s\n", checks,
           oracles);
  const char *strict = getenv("MLP_REQUIRE_ORACLES");
  if (skipped && strict && strcmp(strict, "1") == 0) {
    printf("check_all: MLP_REQUIRE_ORACLES=1: a skip is a failure\n");
    return 1;
  }
  return failed ? 1 : 0;
}
