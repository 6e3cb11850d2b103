/* check_input.c — where training data comes from: a pipe on standard input
 * and a named FIFO are read once (the digest in the manifest is the bytes'
 * own), a directory or a device is refused at once with what it is, a spec
 * whose source is /dev/zero or has a header line past the record limit is
 * an error in bounded time and memory, and a number beyond float range in
 * the data stops the build at its row and column. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlp/run.h"
#include "tests/unit/testutil.h"

#define IRIS "examples/data/iris.csv"

static char *tmp, *exe;

static void setup(void) {
  tmp = test_tmpdir();
  exe = test_path(tmp, "iris.exe");
  const char *build[] = {test_mlpc(), "build", "examples/iris.mlp", "-o", exe, NULL};
  test_run_ok(build);
}

static void teardown(void) {
  char *rm = malloc(strlen(tmp) + 16);
  sprintf(rm, "rm -rf '%s'", tmp);
  ck_assert_int_eq(system(rm), 0);
  free(rm);
  free(exe);
  free(tmp);
}

/* Run a shell command line; its result. */
static TestRun sh(const char *line) {
  const char *argv[] = {"/bin/sh", "-c", line, NULL};
  return test_run(argv, NULL);
}

/* The data digest a run's manifest records. */
static char *data_sha256(const char *run) {
  char *path = test_path(run, "manifest.json");
  char *text = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(text);
  cJSON *m = cJSON_Parse(text);
  const cJSON *sha = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "data"), "sha256");
  ck_assert(cJSON_IsString(sha));
  char *out = strdup(sha->valuestring);
  cJSON_Delete(m);
  free(text);
  free(path);
  return out;
}

START_TEST(pipe_and_fifo_sources_are_read_once) {
  char want[65], line[2048];
  ck_assert_int_eq(mlprt_sha256_file(IRIS, want), 0);
  /* a copy a killed run left behind (its process is gone) is swept */
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, NULL, 0);
  const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char stale[1024];
  snprintf(stale, sizeof stale, "%s/mlp-source-0.tmp.%ld", tmpdir, (long)dead);
  test_write_text(stale, "left by a killed run\n");
  /* standard input fed by a pipe */
  char *run = test_path(tmp, "stdin.run");
  snprintf(line, sizeof line, "cat %s | '%s' --data /dev/stdin --out '%s' --quiet --threads 1", IRIS, exe,
           run);
  TestRun r = sh(line);
  ck_assert_msg(r.status == 0, "--data /dev/stdin: %s", r.err);
  test_run_free(&r);
  char *got = data_sha256(run);
  ck_assert_str_eq(got, want);
  free(got);
  free(run);
  /* a named pipe */
  char *fifo = test_path(tmp, "rows.csv");
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  run = test_path(tmp, "fifo.run");
  snprintf(line, sizeof line,
           "cat %s > '%s' & '%s' --data '%s' --out '%s' --quiet --threads 1; s=$?; wait; exit $s", IRIS, fifo,
           exe, fifo, run);
  r = sh(line);
  ck_assert_msg(r.status == 0, "--data FIFO: %s", r.err);
  test_run_free(&r);
  got = data_sha256(run);
  ck_assert_str_eq(got, want);
  free(got);
  free(run);
  free(fifo);
  /* no copy of either is left behind, nor the killed run's */
  r = sh("ls \"${TMPDIR:-/tmp}\" | grep -c '^mlp-source-' || true");
  ck_assert_str_eq(r.out, "0\n");
  test_run_free(&r);
}
END_TEST

START_TEST(special_files_are_refused) {
  static const struct {
    const char *path, *what;
  } cases[] = {{"/dev/zero", "a character device"}, {"examples", "a directory"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *run = test_path(tmp, "x.run");
    const char *argv[] = {exe, "--data", cases[i].path, "--out", run, "--quiet", NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(strstr(r.err, cases[i].path) && strstr(r.err, cases[i].what), "%s: %s", cases[i].path,
                  r.err);
    test_run_free(&r);
    free(run);
  }
}
END_TEST

/* Exit statuses scripts can tell apart: a data file that cannot be read is
 * an I/O error (2); data that reads but is wrong is the data's (1). */
START_TEST(exit_status_tells_io_from_data) {
  char *run = test_path(tmp, "x.run"), *missing = test_path(tmp, "missing.csv");
  const char *argv[] = {exe, "--data", missing, "--out", run, "--quiet", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "missing.csv"));
  test_run_free(&r);
  char *bad = test_path(tmp, "bad.csv");
  test_write_text(bad, "sepal_length,sepal_width,petal_length,petal_width,species\n"
                       "5.1,3.5,1.4,oops,setosa\n");
  argv[2] = bad;
  r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_ptr_nonnull(strstr(r.err, "bad.csv"));
  test_run_free(&r);
  free(bad);
  free(missing);
  free(run);
}
END_TEST

/* examples/iris.mlp with its source replaced by path, as DIR/NAME. */
static char *spec_with_source(const char *name, const char *path) {
  char *text = test_read_file("examples/iris.mlp", NULL);
  ck_assert_ptr_nonnull(text);
  const char *from = "csv(\"data/iris.csv\")";
  char *at = strstr(text, from);
  ck_assert_ptr_nonnull(at);
  size_t n = strlen(text) + strlen(path) + 16;
  char *out = malloc(n);
  snprintf(out, n, "%.*scsv(\"%s\")%s", (int)(at - text), text, path, at + strlen(from));
  char *spec = test_path(tmp, name);
  test_write_text(spec, out);
  free(out);
  free(text);
  return spec;
}

/* Address space for mlpc check: 1 GiB, but for a sanitized build, whose
 * shadow memory alone takes terabytes of address space. */
#ifdef __SANITIZE_ADDRESS__
#define VLIMIT ""
#else
#define VLIMIT "ulimit -v 1048576; "
#endif

/* mlpc check on a spec whose source never ends a line: in bounded memory,
 * an error within the suite's timeout. */
START_TEST(unbounded_sources_fail_fast) {
  char *spec = spec_with_source("zero.mlp", "/dev/zero"), line[1024];
  snprintf(line, sizeof line, VLIMIT "exec '%s' check '%s'", test_mlpc(), spec);
  TestRun r = sh(line);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "the data source '/dev/zero' is a character device"), "%s", r.err);
  test_run_free(&r);
  free(spec);
  /* a regular file of 20 MiB without a line break: past the record limit */
  char *data = test_path(tmp, "long.csv");
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(ftruncate(fileno(f), 20 << 20), 0);
  fclose(f);
  spec = spec_with_source("long.mlp", data);
  snprintf(line, sizeof line, VLIMIT "exec '%s' check '%s'", test_mlpc(), spec);
  r = sh(line);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "header line") && strstr(r.err, "is longer than"), "%s", r.err);
  test_run_free(&r);
  free(spec);
  free(data);
}
END_TEST

/* A number a float cannot hold, in the data the compiler reads for the
 * shapes: an error naming the row and the column, not a NaN feature. */
START_TEST(float_range_stops_the_build) {
  char *text = test_read_file(IRIS, NULL);
  ck_assert_ptr_nonnull(text);
  char *line5 = text;
  for (int i = 0; i < 5; i++) line5 = strchr(line5, '\n') + 1;
  char *comma = strchr(strchr(line5, ',') + 1, ',') + 1; /* the third field of data row 5 */
  size_t n = strlen(text) + 8;
  char *bad = malloc(n);
  snprintf(bad, n, "%.*s1e39%s", (int)(comma - text), text, strchr(comma, ','));
  char *data = test_path(tmp, "big.csv");
  test_write_text(data, bad);
  char *spec = spec_with_source("big.mlp", data), *out = test_path(tmp, "big.exe");
  const char *argv[] = {test_mlpc(), "build", spec, "-o", out, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strstr(r.err, "row 5 (line 6), column 3 'petal_length': does not fit a 32-bit float"), "%s",
                r.err);
  test_run_free(&r);
  free(out);
  free(spec);
  free(data);
  free(bad);
  free(text);
}
END_TEST

Suite *input_suite(void);
Suite *input_suite(void) {
  Suite *s = suite_create("input");
  TCase *tc = tcase_create("input");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, pipe_and_fifo_sources_are_read_once);
  tcase_add_test(tc, special_files_are_refused);
  tcase_add_test(tc, exit_status_tells_io_from_data);
  tcase_add_test(tc, unbounded_sources_fail_fast);
  tcase_add_test(tc, float_range_stops_the_build);
  suite_add_tcase(s, tc);
  return s;
}
