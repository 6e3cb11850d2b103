/* testutil.h — helpers shared by the Check suites. */
#ifndef MLP_TESTUTIL_H
#define MLP_TESTUTIL_H

#include <stddef.h>

/* The result of running a command: exit status (or 128+signal) and its
 * captured standard output and error (NUL-terminated, malloc'd). */
typedef struct {
  int status;
  char *out, *err;
} TestRun;

/* Run argv (argv[0] searched in PATH) with stdin from in_path (NULL: /dev/null). */
TestRun test_run(const char *const *argv, const char *in_path);
void test_run_free(TestRun *r);
/* The compiler under test: $MLPC, or build/mlpc. */
const char *test_mlpc(void);
/* Read a whole file (malloc'd, NUL-terminated); NULL if it cannot be read. */
char *test_read_file(const char *path, size_t *len);
/* A fresh temporary directory (malloc'd path). */
char *test_tmpdir(void);

#endif
