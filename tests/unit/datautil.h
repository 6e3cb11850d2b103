/* datautil.h — helpers for the data-step suites (csv, json, idx, clean,
 * split): writing fixture files into a scratch directory, removing it, and
 * formatting load errors. Header-only so the test build needs no object. */
#ifndef MLP_DATAUTIL_H
#define MLP_DATAUTIL_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/data.h"
#include "tests/unit/testutil.h"

/* dir/name holding len bytes of text (len 0: strlen); malloc'd path. */
static inline char *dt_write(const char *dir, const char *name, const char *text, size_t len) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  snprintf(path, n, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  if (!len) len = strlen(text);
  ck_assert_uint_eq(fwrite(text, 1, len, f), len);
  fclose(f);
  return path;
}

/* Remove a (flat) scratch directory and its files, then free its path. */
static inline void dt_rmdir(char *dir) {
  DIR *d = opendir(dir);
  struct dirent *ent;
  while (d && (ent = readdir(d))) {
    if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
    remove(p);
  }
  if (d) closedir(d);
  rmdir(dir);
  free(dir);
}

/* The running test's scratch directory: dt_setup makes a fresh one and
 * dt_teardown removes it (a checked fixture, so once per test). */
static char *dt_dir;
static inline void dt_setup(void) {
  dt_dir = test_tmpdir();
  ck_assert_ptr_nonnull(dt_dir);
}
static inline void dt_teardown(void) { dt_rmdir(dt_dir); }

/* The formatted error, in a static buffer, for assertion messages. */
static inline const char *dt_err(const MlprtError *e) {
  static char buf[1024];
  mlprt_error_format(e, buf, sizeof buf);
  return buf;
}

/* Load path with opts, asserting success. */
static inline void dt_load_ok(const char *path, const MlprtLoadOpts *o, MlprtTable *t) {
  MlprtError e = {0};
  int rc = mlprt_load(path, o, t, &e);
  ck_assert_msg(rc == 0, "load failed: %s", dt_err(&e));
}

/* Path of a data file Debian package `package` ships, or NULL (with a
 * skip, test_skip) when it is absent. */
static inline const char *dt_system_file(const char *path, const char *package) {
  if (access(path, R_OK) == 0) return path;
  test_skip(path, package, "the file is absent");
  return NULL;
}

#endif
