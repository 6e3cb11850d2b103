/* check_outofcore.c — environment.out_of_core: a CSV more than three times
 * larger than memory_mb trains through the feature cache with a peak
 * resident set within 1.1 x memory_mb (the child's ru_maxrss, binary and
 * libraries included) and gives the in-memory run's weights.bin,
 * cleaning.json, metrics and predictor artifacts bit for bit; the other
 * streaming steps and a regression target agree too; what cannot stream
 * is refused where it is written (out_of_core = on) or when the program
 * finds its data too large (auto). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* rows of ncols numbers in [-10, 10] with four decimals (about one cell in
 * 64 missing) and a target: "yes"/"no" from a signed sum of the row, or
 * (numeric) the sum itself. */
static void write_data(const char *path, long rows, int ncols, bool numeric) {
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "cannot write %s", path);
  for (int k = 0; k < ncols; k++) fprintf(f, "x%d,", k);
  fprintf(f, "label\n");
  uint64_t s = 88172645463325252ull;
  for (long r = 0; r < rows; r++) {
    double z = 0;
    for (int k = 0; k < ncols; k++) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      int v = (int)(s % 200001) - 100000;
      if (s >> 58 == 0) {
        fputc(',', f);
        continue;
      }
      z += (k % 3 ? 1 : -1) * v;
      fprintf(f, "%s%d.%04d,", v < 0 ? "-" : "", abs(v) / 10000, abs(v) % 10000);
    }
    if (numeric) fprintf(f, "%.3f\n", z / 1e5);
    else fprintf(f, "%s\n", z > 0 ? "yes" : "no");
  }
  ck_assert_int_eq(fclose(f), 0);
}

/* dir/NAME.mlp reading data.csv, with the cleaning steps, the split and the
 * environment given; its path. */
static char *write_spec(const char *dir, const char *name, const char *split, const char *clean,
                        const char *env) {
  char file[64], text[4096];
  snprintf(file, sizeof file, "%s.mlp", name);
  char *path = test_path(dir, file);
  snprintf(text, sizeof text,
               "pipeline %s {\n"
               "  data {\n    source = csv(\"data.csv\")\n    target = label\n    %s\n"
               "    clean {\n%s    }\n  }\n"
               "  model {\n    dense(units = 16, activation = relu)\n    output()\n  }\n"
               "  hyperparameters {\n    epochs = 1\n    batch = 256\n  }\n"
               "  validation {\n    smoke(subset = 0.01, epochs = 1)\n  }\n"
               "  environment {\n%s    threads = 1\n  }\n}\n",
               name, split, clean, env);
  test_write_text(path, text);
  return path;
}

static char *build(const char *dir, const char *spec, const char *name) {
  char file[64];
  snprintf(file, sizeof file, "%s.exe", name);
  char *exe = test_path(dir, file);
  const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(argv);
  return exe;
}

/* Train exe into dir/NAME.run; its peak resident set in KiB. */
static long train(const char *dir, const char *exe, const char *name, char **run) {
  char file[64];
  snprintf(file, sizeof file, "%s.run", name);
  *run = test_path(dir, file);
  char *log = test_path(dir, "train.log");
  FILE *f = fopen(log, "w+");
  const char *argv[] = {exe, "--out", *run, "--quiet", NULL};
  pid_t pid = test_spawn(argv, NULL, fileno(f), fileno(f));
  int status;
  struct rusage ru;
  ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
  char *text = test_slurp_fd(fileno(f));
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed: %s", exe, text);
  free(text);
  fclose(f);
  free(log);
  return ru.ru_maxrss;
}

/* The same data and cleaning trained twice, out of core (environment
 * settings ooc_env) and in memory (mem_env), into dir/ooc.run and
 * dir/mem.run; the out-of-core run's peak RSS in KiB. */
static long train_both(const char *dir, const char *split, const char *clean, const char *ooc_env,
                       const char *mem_env, char **ooc_run, char **mem_run) {
  char *ooc = write_spec(dir, "ooc", split, clean, ooc_env);
  char *mem = write_spec(dir, "mem", split, clean, mem_env);
  char *ooc_exe = build(dir, ooc, "ooc"), *mem_exe = build(dir, mem, "mem");
  long rss = train(dir, ooc_exe, "ooc", ooc_run);
  train(dir, mem_exe, "mem", mem_run);
  free(ooc_exe);
  free(mem_exe);
  free(ooc);
  free(mem);
  return rss;
}

/* The runs' test metrics: equal, value for value. */
static void expect_same_metrics(const char *a, const char *b) {
  cJSON *ma = test_read_json(a, "manifest.json"), *mb = test_read_json(b, "manifest.json");
  char *ja = cJSON_PrintUnformatted(cJSON_GetObjectItem(ma, "metrics"));
  char *jb = cJSON_PrintUnformatted(cJSON_GetObjectItem(mb, "metrics"));
  ck_assert_msg(strcmp(ja, jb) == 0, "metrics differ:\n%s\n%s", ja, jb);
  free(ja);
  free(jb);
  cJSON_Delete(ma);
  cJSON_Delete(mb);
}

/* 32 MiB of budget against about 100 MiB of CSV (175,000 rows of 80
 * columns): imputed and standardized, split stratified. */
START_TEST(larger_than_memory_trains_as_in_memory) {
  char *dir = test_tmpdir(), *data = test_path(dir, "data.csv");
  write_data(data, 175000, 80, false);
  FILE *f = fopen(data, "r");
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fclose(f);
  const int memory_mb = 32;
  ck_assert_msg(bytes >= 3L * memory_mb << 20, "the data is %ld bytes, not 3 x memory_mb", bytes);
  const char *split = "split(validation = 0.05, test = 0.05, stratify = true)";
  const char *clean = "      impute(strategy = mean)\n      standardize()\n";
  char *ooc_run, *mem_run;
  long rss = train_both(dir, split, clean, "    memory_mb = 32\n",
                        "    memory_mb = 32\n    out_of_core = off\n", &ooc_run, &mem_run);
  printf("out of core: %ld bytes of CSV, memory_mb = %d, peak RSS %ld KiB\n", bytes, memory_mb, rss);
#ifndef __SANITIZE_ADDRESS__ /* the sanitizers' shadow memory and quarantine are not the program's */
  ck_assert_msg(rss <= (long)(1.1 * memory_mb * 1024), "peak RSS %ld KiB is more than 1.1 x %d MiB", rss,
                memory_mb);
#endif
  cJSON *m = test_read_json(ooc_run, "manifest.json");
  ck_assert_int_eq((int)test_json_num(m, "environment", "out_of_core", "passes"), 4);
  ck_assert(test_json_num(m, "environment", "out_of_core", "cache_bytes") > 0);
  cJSON_Delete(m);
  m = test_read_json(mem_run, "manifest.json");
  ck_assert(!cJSON_GetObjectItem(cJSON_GetObjectItem(m, "environment"), "out_of_core"));
  cJSON_Delete(m);
  static const char *const same[] = {"weights.bin", "cleaning.json", "test_rows.csv", "predictions.csv",
                                     "reference.json"};
  for (size_t i = 0; i < sizeof same / sizeof *same; i++)
    test_expect_same_file(ooc_run, mem_run, same[i]);
  expect_same_metrics(ooc_run, mem_run);
  free(ooc_run);
  free(mem_run);
  free(data);
  free(dir);
}
END_TEST

/* The other steps that stream, on a regression target, out_of_core = on. */
START_TEST(other_steps_and_regression_match) {
  char *dir = test_tmpdir(), *data = test_path(dir, "data.csv");
  write_data(data, 20000, 12, true);
  const char *split = "split(validation = 0.1, test = 0.1)";
  const char *clean = "      drop_columns(columns = [x3])\n      impute(strategy = constant, value = 0.5, "
                      "indicator = true)\n      minmax(low = -1, high = 1)\n      log1p(columns = [x4])\n"
                      "      impute(strategy = mean)\n";
  char *ooc_run, *mem_run;
  train_both(dir, split, clean, "    memory_mb = 16\n    out_of_core = on\n",
             "    memory_mb = 16\n    out_of_core = off\n", &ooc_run, &mem_run);
  cJSON *m = test_read_json(ooc_run, "manifest.json");
  /* the targets, one per fitted step (drop_columns fits nothing), the cache */
  ck_assert_int_eq((int)test_json_num(m, "environment", "out_of_core", "passes"), 6);
  cJSON_Delete(m);
  static const char *const same[] = {"weights.bin", "cleaning.json", "test_rows.csv", "reference.json"};
  for (size_t i = 0; i < sizeof same / sizeof *same; i++)
    test_expect_same_file(ooc_run, mem_run, same[i]);
  expect_same_metrics(ooc_run, mem_run);
  free(ooc_run);
  free(mem_run);
  free(data);
  free(dir);
}
END_TEST

/* Refused: at the step or the setting when out_of_core = on; by the
 * program, naming the step, when auto finds the file larger than
 * memory_mb; and when the rows' own arrays would not fit. */
START_TEST(what_cannot_stream_is_refused) {
  char *dir = test_tmpdir(), *data = test_path(dir, "data.csv");
  write_data(data, 12000, 12, false); /* about 1.1 MiB */
  const char *split = "split(validation = 0.1, test = 0.1)";
  const char *robust = "      impute(strategy = mean)\n      robust_scale()\n";
  char *on = write_spec(dir, "on", split, robust, "    memory_mb = 16\n    out_of_core = on\n");
  char *exe = test_path(dir, "on.exe");
  const char *argv[] = {test_mlpc(), "build", on, "-o", exe, NULL};
  TestRun r = test_run(argv, NULL);
  /* robust_scale() is on line 8 of the spec */
  ck_assert_msg(r.status != 0 && strstr(r.err, "on.mlp:8:") &&
                    strstr(r.err, "robust_scale cannot run out of core (environment.out_of_core = on)"),
                "%s", r.err);
  test_run_free(&r);
  char *budgetless = write_spec(dir, "nobudget", split, "", "    out_of_core = on\n");
  const char *argv2[] = {test_mlpc(), "build", budgetless, "-o", exe, NULL};
  r = test_run(argv2, NULL);
  ck_assert_msg(r.status != 0 && strstr(r.err, "out_of_core = on cannot run without environment.memory_mb"),
                "%s", r.err);
  test_run_free(&r);
  char *aut = write_spec(dir, "auto", split, robust, "    memory_mb = 1\n");
  char *auto_exe = build(dir, aut, "auto");
  char *run = test_path(dir, "auto.run");
  const char *fit[] = {auto_exe, "--out", run, "--quiet", NULL};
  r = test_run(fit, NULL);
  ck_assert_msg(r.status == 1 && strstr(r.err, "cleaning step 2 (robust_scale) cannot run: it needs every "
                                                "row in memory; raise memory_mb or set "
                                                "environment.out_of_core = off"),
                "%s", r.err);
  test_run_free(&r);
  ck_assert_msg(access(run, F_OK) != 0, "a refused run left %s", run);
  write_data(data, 60000, 2, false); /* about 1.2 MiB: short rows, many of them */
  char *small = write_spec(dir, "small", split, "", "    memory_mb = 1\n");
  char *small_exe = build(dir, small, "small");
  const char *fit2[] = {small_exe, "--out", run, "--quiet", NULL};
  r = test_run(fit2, NULL);
  ck_assert_msg(r.status == 1 && strstr(r.err, "more than half of memory_mb = 1; raise memory_mb"), "%s",
                r.err);
  test_run_free(&r);
  free(small_exe);
  free(small);
  free(run);
  free(auto_exe);
  free(aut);
  free(budgetless);
  free(exe);
  free(on);
  free(data);
  free(dir);
}
END_TEST

Suite *outofcore_suite(void); /* the runner finds it by name */
Suite *outofcore_suite(void) {
  Suite *s = suite_create("outofcore");
  TCase *tc = tcase_create("outofcore");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, larger_than_memory_trains_as_in_memory);
  tcase_add_test(tc, other_steps_and_regression_match);
  tcase_add_test(tc, what_cannot_stream_is_refused);
  suite_add_tcase(s, tc);
  return s;
}
