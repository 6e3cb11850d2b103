/* check_readme.c — README.md's commands run as written, in order, in a
 * fresh copy of the examples: every line of its ```sh blocks (comments
 * after " #" dropped) must exit 0. The setup lines (`make ...`, which
 * this suite runs under) are left out; a line that needs the AArch64
 * runtime (`make cross`) is skipped, and said to be, when it is absent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* The command of a README line: leading blanks and a trailing " # ..."
 * comment dropped (malloc'd), or NULL for a line that is no command. */
static char *command_of(const char *line, size_t len) {
  while (len && (*line == ' ' || *line == '\t')) line++, len--;
  char *c = strndup(line, len);
  for (char *h = strstr(c, " #"); h; h = strstr(h + 1, " #"))
    if (h[2] == ' ' || h[2] == 0) {
      *h = 0;
      break;
    }
  for (size_t n = strlen(c); n && (c[n - 1] == ' ' || c[n - 1] == '\t'); n--) c[n - 1] = 0;
  if (!*c || *c == '#') {
    free(c);
    return NULL;
  }
  return c;
}

START_TEST(readme_commands_run_as_written) {
  char *readme = test_read_file("README.md", NULL), cwd[4096];
  ck_assert_ptr_nonnull(readme);
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  char *dir = test_tmpdir(), setup[16384], build[8192];
  /* the examples as a clone has them, and this build */
  const char *b = getenv("MLP_BUILD") ? getenv("MLP_BUILD") : "build";
  if (b[0] == '/') snprintf(build, sizeof build, "%s", b);
  else snprintf(build, sizeof build, "%s/%s", cwd, b);
  snprintf(setup, sizeof setup, "cp -r '%s/examples' '%s/' && ln -s '%s' '%s/build'", cwd, dir, build, dir);
  const char *sh[] = {"/bin/sh", "-c", setup, NULL};
  test_run_ok(sh);
  char aarch64[8300];
  snprintf(aarch64, sizeof aarch64, "%s/aarch64/libmlprt.a", build);
  bool cross = access(aarch64, F_OK) == 0;
  int ran = 0;
  bool in_sh = false;
  for (char *line = readme, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    if (!nl) nl = line + strlen(line);
    size_t len = (size_t)(nl - line);
    if (strncmp(line, "```", 3) == 0) {
      in_sh = len == 5 && strncmp(line, "```sh", 5) == 0;
    } else if (in_sh) {
      char *cmd = command_of(line, len);
      if (cmd && strncmp(cmd, "make ", 5) != 0) {
        if (strstr(cmd, "aarch64") && !cross) {
          test_skip(cmd, "the AArch64 runtime", "build/aarch64/libmlprt.a is not built (make cross)");
        } else {
          char run[16384];
          snprintf(run, sizeof run, "cd '%s' && %s", dir, cmd);
          const char *argv[] = {"/bin/sh", "-c", run, NULL};
          TestRun r = test_run(argv, NULL);
          ck_assert_msg(r.status == 0, "README command '%s' exited %d:\n%s%s", cmd, r.status, r.out, r.err);
          test_run_free(&r);
          ran++;
        }
      }
      free(cmd);
    }
    if (!*nl) break;
  }
  ck_assert_int_ge(ran, 15);
  printf("readme: %d commands ran as written\n", ran);
  snprintf(setup, sizeof setup, "rm -rf '%s'", dir);
  test_run_ok(sh);
  free(dir);
  free(readme);
}
END_TEST

Suite *readme_suite(void); /* the runner finds it by name */
Suite *readme_suite(void) {
  Suite *s = suite_create("readme");
  TCase *tc = tcase_create("readme");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, readme_commands_run_as_written);
  suite_add_tcase(s, tc);
  return s;
}
