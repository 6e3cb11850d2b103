/* The test runner: every tests/unit/check_NAME.c defines NAME_suite(), and
 * the build lists them in suites.h. With no arguments all suites run in one
 * SRunner, so the suite ends with one Check summary line; arguments pick
 * suites by name. */
#include <check.h>
#include <stdio.h>
#include <string.h>

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
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
