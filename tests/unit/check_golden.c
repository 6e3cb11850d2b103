/* check_golden.c — golden outputs of lowering.
 *
 * tests/golden/ir/NAME.json is `mlpc build --emit-ir examples/NAME.mlp`: the
 * whole plan of every example (data paths relative to the spec, so the
 * text is the same on every machine). tests/golden/lower/NAME.mlp is a spec
 * that lowering refuses; `mlpc build --emit-ir` on it must print exactly
 * NAME.err on standard error and exit 1. Together the lowering goldens
 * cover every error lower.c can report from a checked spec; the rest are
 * guards that sema or the registry's statuses make unreachable (a source,
 * layer, optimizer, schedule or output activation lowering does not know,
 * a data section without a source, a model that does not end in output()).
 *
 * After an intended change, regenerate them with `make golden` and read
 * the diff before committing it. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define IR_DIR "tests/golden/ir"
#define LOWER_DIR "tests/golden/lower"

typedef struct {
  char **names;
  int n;
} Names;

static Names examples, lowers;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The NAMEs of DIR/NAME.mlp, sorted. */
static void list_specs(const char *dir, Names *out) {
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".mlp") != 0) continue;
    out->names = realloc(out->names, sizeof *out->names * (size_t)(out->n + 1));
    out->names[out->n++] = strndup(e->d_name, len - 4);
  }
  closedir(d);
  qsort(out->names, (size_t)out->n, sizeof *out->names, by_name);
}

/* The first line where two texts differ, with both lines, for a readable
 * failure. */
static char *difference(const char *got, const char *want) {
  int line = 1;
  const char *g = got, *w = want, *gl = got, *wl = want;
  for (; *g && *g == *w; g++, w++)
    if (*g == '\n') line++, gl = g + 1, wl = w + 1;
  char *msg;
  size_t n;
  FILE *f = open_memstream(&msg, &n);
  fprintf(f, "first difference at line %d:\n  got:  %.*s\n  want: %.*s\n", line, (int)strcspn(gl, "\n"), gl,
          (int)strcspn(wl, "\n"), wl);
  fclose(f);
  return msg;
}

/* Whether the files an example reads outside the repository are here. */
static bool example_data_present(const char *spec) {
  char *text = test_read_file(spec, NULL);
  bool ok = true;
  for (const char *p = text ? strstr(text, "\"/") : NULL; p; p = strstr(p + 1, "\"/")) {
    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(p + 1, "\""), p + 1);
    ok &= access(path, R_OK) == 0;
  }
  free(text);
  return ok;
}

START_TEST(golden_ir) {
  char spec[256], golden[256];
  snprintf(spec, sizeof spec, "examples/%s.mlp", examples.names[_i]);
  snprintf(golden, sizeof golden, IR_DIR "/%s.json", examples.names[_i]);
  if (!example_data_present(spec)) {
    printf("golden: skipped %s: its data is not on this machine\n", spec);
    return;
  }
  char *want = test_read_file(golden, NULL);
  ck_assert_msg(want != NULL, "%s has no golden %s; run 'make golden'", spec, golden);
  const char *argv[] = {test_mlpc(), "build", "--emit-ir", spec, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s: %s", spec, r.err);
  char *diff = strcmp(r.out, want) ? difference(r.out, want) : NULL;
  ck_assert_msg(!diff, "%s: --emit-ir differs from %s (regenerate with 'make golden' if intended); %s", spec,
                golden, diff);
  test_run_free(&r);
  free(want);
}
END_TEST

START_TEST(golden_lower_errors) {
  char spec[256], golden[256];
  snprintf(spec, sizeof spec, LOWER_DIR "/%s.mlp", lowers.names[_i]);
  snprintf(golden, sizeof golden, LOWER_DIR "/%s.err", lowers.names[_i]);
  char *want = test_read_file(golden, NULL);
  ck_assert_msg(want != NULL, "%s has no golden %s; run 'make golden'", spec, golden);
  setenv("MLP_STDLIB", "stdlib", 1);
  const char *argv[] = {test_mlpc(), "build", "--emit-ir", spec, NULL};
  TestRun r = test_run(argv, NULL);
  char *diff = strcmp(r.err, want) ? difference(r.err, want) : NULL;
  ck_assert_msg(!diff, "%s: stderr differs from %s (regenerate with 'make golden' if intended); %s", spec,
                golden, diff);
  ck_assert_msg(r.status == 1, "%s: exit status %d, want 1", spec, r.status);
  ck_assert_msg(r.out[0] == 0, "%s: a refused spec printed a plan", spec);
  test_run_free(&r);
  free(want);
}
END_TEST

/* Every example has its golden, and no golden outlives its example. */
START_TEST(golden_ir_complete) {
  ck_assert_int_ge(examples.n, 6);
  Names goldens = {0};
  DIR *d = opendir(IR_DIR);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
    bool found = false;
    for (int i = 0; i < examples.n; i++) found |= strcmp(examples.names[i], name) == 0;
    ck_assert_msg(found, IR_DIR "/%s has no example examples/%s.mlp", e->d_name, name);
    goldens.n++;
  }
  closedir(d);
  ck_assert_int_eq(goldens.n, examples.n);
  ck_assert_int_ge(lowers.n, 15);
}
END_TEST

Suite *golden_suite(void); /* the runner finds it by name */
Suite *golden_suite(void) {
  Suite *s = suite_create("golden");
  TCase *tc = tcase_create("golden");
  if (!examples.names) list_specs("examples", &examples);
  if (!lowers.names) list_specs(LOWER_DIR, &lowers);
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, golden_ir, 0, examples.n);
  tcase_add_loop_test(tc, golden_lower_errors, 0, lowers.n);
  tcase_add_test(tc, golden_ir_complete);
  suite_add_tcase(s, tc);
  return s;
}
