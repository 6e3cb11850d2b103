/* check_cross.c — predictors cross-compiled for AArch64 and run under
 * qemu-aarch64 on a trained iris run's test rows (target removed): one
 * exported with --target aarch64-linux-gnu --emit-obj and linked by hand
 * with the cross gcc against the AArch64 runtime (make cross), one linked
 * by mlpc export itself, and an svm on the same data linked by mlpc
 * export. They must answer as this machine's predictor
 * does: the same labels, probabilities within 1e-5, the same rejections.
 * Where the cross gcc, qemu-aarch64 or the AArch64 runtime is missing the
 * suite says so on stderr and passes. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rundir.h"
#include "testutil.h"

#define CROSS_CC "aarch64-linux-gnu-gcc"
#define QEMU "qemu-aarch64"
/* The cross C library's root: where qemu finds the dynamic loader. */
#define SYSROOT "/usr/aarch64-linux-gnu"

static char *tmp, *lib, *rows;
static const char *missing; /* what the suite cannot run without; NULL: everything is there */
static const char *missing_oracle; /* the package (or make target) that brings it */

/* Whether an executable name is on PATH. */
static bool on_path(const char *name) {
  const char *path = getenv("PATH");
  if (!path) return false;
  char *dirs = strdup(path);
  bool found = false;
  for (char *save, *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
    char *p = test_path(d, name);
    found = access(p, X_OK) == 0;
    free(p);
  }
  free(dirs);
  return found;
}

static bool skipped(const char *test) {
  if (!missing) return false;
  test_skip(test, missing_oracle, missing);
  return true;
}

/* Iris trained once for the suite: TMP/iris.run and its test rows without
 * the target, TMP/rows.csv. */
static void setup(void) {
  const char *build = getenv("MLP_BUILD");
  lib = test_path(build ? build : "build", "aarch64/libmlprt.a");
  if (!on_path(CROSS_CC))
    missing = CROSS_CC " is not installed (make deps installs it)", missing_oracle = "gcc-aarch64-linux-gnu";
  else if (!on_path(QEMU))
    missing = QEMU " is not installed (make deps installs qemu-user)", missing_oracle = "qemu-user";
  else if (access(lib, R_OK) != 0)
    missing = "no AArch64 runtime: make cross builds it", missing_oracle = "make cross";
  if (missing) return;
  tmp = test_tmpdir();
  char *run = test_train("examples/iris.mlp", tmp, "iris");
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  ck_assert_msg(mlp_rundir_load(&a, run, &rd, err, sizeof err) == 0, "%s", err);
  rows = test_path(tmp, "rows.csv");
  bool far[TEST_MAXROWS];
  ck_assert_int_gt(test_inputs_without_target(&rd, "species", rows, far), 10);
  /* And rows the failsafes meet: unreadable, missing, far out of range. */
  FILE *f = fopen(rows, "a");
  ck_assert_ptr_nonnull(f);
  fputs("5.1,abc,1.4,0.2\n6.3,2.9,,1.8\n5.0,3.4,1500,0.2\n", f);
  fclose(f);
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
  free(run);
}

static void teardown(void) {
  free(rows);
  free(lib);
  free(tmp);
}

/* The suite's predictors are exported uncompressed, whatever the spec's
 * deploy section asks, but for the int8 pair. */
#define PLAIN "--quantize", "none", "--prune", "0"

/* This machine's predictor of run TMP/NAME.run, with weights of precision
 * quant (none or int8). */
static char *host_predictor(const char *name, const char *quant) {
  char file[64];
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(tmp, file), *pred = test_path(tmp, "host.pred");
  const char *argv[] = {test_mlpc(), "export", run, "--quantize", quant, "--prune", "0", "-o", pred, NULL};
  test_run_ok(argv);
  free(run);
  return pred;
}

/* The AArch64 predictor by hand: the run's object for the target (its
 * symbols named by the spec's deploy.predictor, iris_predict), the
 * three-line main that hands its descriptor to the runtime's command line,
 * linked as SPEC.md section 7 says. */
static char *cross_predictor_by_hand(void) {
  char *run = test_path(tmp, "iris.run"), *base = test_path(tmp, "iris_obj");
  const char *argv[] = {test_mlpc(), "export", run, "--target", "aarch64-linux-gnu", "--emit-obj", PLAIN,
                        "-o",        base,     NULL};
  test_run_ok(argv);
  char *main_c = test_path(tmp, "cross_main.c");
  test_write_text(main_c,
                  "#include \"mlp/predict.h\"\n"
                  "extern const MlprtPredictor iris_predict_predictor;\n"
                  "int main(int argc, char **argv) {\n"
                  "  return mlprt_predict_main(argc, argv, &iris_predict_predictor);\n"
                  "}\n");
  size_t len = strlen(base) + 3;
  char *obj = malloc(len), *exe = malloc(len);
  snprintf(obj, len, "%s.o", base);
  snprintf(exe, len, "%s.x", base);
  const char *cc[] = {CROSS_CC, "-Iinclude", "-o",  exe, main_c, obj, lib, "-lm", "-Wl,--gc-sections",
                      "-s",     NULL};
  test_run_ok(cc);
  free(obj);
  free(main_c);
  free(base);
  free(run);
  return exe;
}

/* Run a predictor (under qemu when cross) on the suite's rows. */
static TestRun answer(const char *pred, bool cross) {
  const char *argv[] = {QEMU, "-L", SYSROOT, pred, rows, NULL};
  return test_run(cross ? argv : argv + 3, NULL);
}

/* Two predictors' CSV answers: the same header, rows, labels and error
 * texts; numbers within 1e-5. */
static void same_answers(char *host, char *cross) {
  char **hl, **cl;
  int nh = test_split_lines(host, &hl), nc = test_split_lines(cross, &cl);
  ck_assert_int_eq(nh, nc);
  ck_assert_int_gt(nh, 10);
  ck_assert_str_eq(hl[0], cl[0]);
  for (int r = 1; r < nh; r++) {
    char *h[TEST_MAXF], *c[TEST_MAXF];
    int nfh = test_csv_fields(hl[r], h, TEST_MAXF), nfc = test_csv_fields(cl[r], c, TEST_MAXF);
    ck_assert_msg(nfh == nfc, "row %d: '%s' on AArch64, '%s' here", r, cl[r], hl[r]);
    for (int k = 0; k < nfh; k++) {
      char *end;
      double x = strtod(h[k], &end);
      if (h[k][0] && !*end) {
        double y = strtod(c[k], NULL);
        ck_assert_msg(fabs(x - y) <= 1e-5, "row %d column %d: %.9g on AArch64, %.9g here", r, k, y, x);
      } else {
        ck_assert_msg(strcmp(h[k], c[k]) == 0, "row %d: '%s' on AArch64, '%s' here", r, cl[r], hl[r]);
      }
    }
    test_fields_free(h, nfh);
    test_fields_free(c, nfc);
  }
  free(hl);
  free(cl);
}

/* The host predictor of run TMP/NAME.run and cross, run under qemu, answer
 * the same. */
static void check_same(const char *name, const char *cross, const char *quant) {
  char *host = host_predictor(name, quant);
  TestRun h = answer(host, false), c = answer(cross, true);
  /* 1: some rows were rejected; the same ones, by same_answers. */
  ck_assert_msg(h.status <= 1, "host predictor: status %d: %s", h.status, h.err);
  ck_assert_msg(c.status == h.status, "AArch64 predictor under qemu: status %d: %s", c.status, c.err);
  same_answers(h.out, c.out);
  test_run_free(&h);
  test_run_free(&c);
  free(host);
}

/* ---- tests ------------------------------------------------------------------- */

/* --emit-obj, then the cross gcc by hand. */
START_TEST(cross_object_linked_answers_as_host) {
  if (skipped("cross_object_linked_answers_as_host")) return;
  char *cross = cross_predictor_by_hand();
  check_same("iris", cross, "none");
  free(cross);
}
END_TEST

/* mlpc export links it: TRIPLE-gcc with the runtime make cross built. */
START_TEST(cross_export_links_and_answers_as_host) {
  if (skipped("cross_export_links_and_answers_as_host")) return;
  char *run = test_path(tmp, "iris.run"), *cross = test_path(tmp, "iris_direct.arm");
  const char *argv[] = {test_mlpc(), "export", run, "--target", "aarch64-linux-gnu", PLAIN,
                        "-o",        cross,    NULL};
  test_run_ok(argv);
  size_t len;
  unsigned char *elf = (unsigned char *)test_read_file(cross, &len);
  ck_assert(elf && len > 20);
  ck_assert_int_eq(elf[18] | elf[19] << 8, 183); /* EM_AARCH64 */
  check_same("iris", cross, "none");
  /* It needs nothing but libc and libm on the target (ldd cannot run a
   * foreign executable; its dynamic section names what the loader loads). */
  const char *rd[] = {"readelf", "-d", cross, NULL};
  TestRun r = test_run(rd, NULL);
  ck_assert_msg(r.status == 0, "readelf: %s", r.err);
  for (const char *l = r.out; (l = strstr(l, "(NEEDED)")); l++) {
    const char *name = strchr(l, '[');
    ck_assert_msg(name && (strncmp(name, "[libc.so.6]", 11) == 0 || strncmp(name, "[libm.so.6]", 11) == 0),
                  "the AArch64 predictor needs more than libc and libm:\n%s", r.out);
  }
  ck_assert_ptr_nonnull(strstr(r.out, "[libc.so.6]"));
  test_run_free(&r);
  free(elf);
  free(cross);
  free(run);
}
END_TEST

/* int8 weights: the compression check runs its two predictors here, the
 * export then links the accepted one for the target, and its int32 sums
 * answer as this machine's. */
START_TEST(cross_int8_answers_as_host) {
  if (skipped("cross_int8_answers_as_host")) return;
  char *run = test_path(tmp, "iris.run"), *cross = test_path(tmp, "iris_int8.arm");
  const char *argv[] = {test_mlpc(), "export", run, "--target", "aarch64-linux-gnu", "--quantize", "int8",
                        "-o",        cross,    NULL};
  test_run_ok(argv);
  check_same("iris", cross, "int8");
  free(cross);
  free(run);
}
END_TEST

/* A support vector machine on iris's data: the svm kernel of the AArch64
 * runtime answers as this machine's. */
START_TEST(cross_svm_answers_as_host) {
  if (skipped("cross_svm_answers_as_host")) return;
  char *spec = test_example_spec(tmp, "iris", "svm", "svm(c = 2)", NULL);
  char *run = test_train(spec, tmp, "svm"), *cross = test_path(tmp, "svm.arm");
  const char *argv[] = {test_mlpc(), "export", run, "--target", "aarch64-linux-gnu", PLAIN,
                        "-o",        cross,    NULL};
  test_run_ok(argv);
  check_same("svm", cross, "none");
  free(cross);
  free(run);
  free(spec);
}
END_TEST

Suite *cross_suite(void);
Suite *cross_suite(void) {
  Suite *s = suite_create("cross");
  TCase *tc = tcase_create("cross");
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, cross_object_linked_answers_as_host);
  tcase_add_test(tc, cross_export_links_and_answers_as_host);
  tcase_add_test(tc, cross_int8_answers_as_host);
  tcase_add_test(tc, cross_svm_answers_as_host);
  suite_add_tcase(s, tc);
  return s;
}
