/* check_distributed.c — environment.shards and distributed = mpi: a batch's
 * gradient summed from fixed slices in a fixed tree gives the same
 * weights.bin, cleaning.json and scores for one process and for 1, 2 and 4
 * MPI ranks, across a resume on another rank count, under --tune and out
 * of core; rank counts that cannot split the slices, slice counts that are
 * not powers of two, and a runtime without MPI support are refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define MODEL "dense(32, activation = tanh)\n    dropout(0.2)\n    output(activation = softmax)"
#define EXTRA(dist, shards)                                                                                 \
  "  hyperparameters {\n    optimizer = adam(lr = 0.005)\n    batch = 16\n    epochs = 12\n  }\n"        \
  "  environment {\n    distributed = " dist "\n    shards = " shards "\n    threads = 1\n  }\n"

/* mpirun on PATH and the runtime's MPI support beside the compiler. */
static bool mpi_ready(const char **why) {
  char *lib = strdup(test_mlpc());
  char *slash = strrchr(lib, '/');
  char *path = test_path(slash ? (*slash = 0, lib) : ".", "libmlpmpi.a");
  bool lib_ok = access(path, R_OK) == 0;
  free(path);
  free(lib);
  const char *argv[] = {"mpirun", "--version", NULL};
  TestRun r = test_run(argv, NULL);
  bool run_ok = r.status == 0;
  test_run_free(&r);
  *why = !run_ok   ? "mpirun --version failed"
         : !lib_ok ? "no libmlpmpi.a beside mlpc (built without mpicc)"
                   : "";
  return run_ok && lib_ok;
}

/* exe under mpirun on np ranks into run, with the arguments more (NULL
 * or NULL-terminated, at most 4); the run's status. */
static TestRun mpi_train(const char *exe, int np, const char *run, const char *const *more) {
  char nps[16];
  snprintf(nps, sizeof nps, "%d", np);
#ifdef __SANITIZE_ADDRESS__
  /* Open MPI keeps what it allocates until exit: not this program's leaks */
  const char *argv[16] = {"mpirun", "--allow-run-as-root", "--oversubscribe", "-x",
                          "ASAN_OPTIONS=detect_leaks=0", "-np", nps, exe, "--out", run, "--quiet"};
  int n = 11;
#else
  const char *argv[16] = {"mpirun", "--allow-run-as-root", "--oversubscribe", "-np", nps, exe, "--out", run,
                          "--quiet"};
  int n = 9;
#endif
  for (int i = 0; more && more[i] && i < 4; i++) argv[n + i] = more[i];
  return test_run(argv, NULL);
}

START_TEST(mpi_ranks_match_one_process) {
  const char *why;
  if (!mpi_ready(&why)) {
    test_skip("weights over 1, 2 and 4 MPI ranks", "openmpi-bin, libopenmpi-dev", why);
    return;
  }
  char *dir = test_tmpdir();
  char *plain = test_example_spec(dir, "wine", "plain", MODEL, EXTRA("none", "4"));
  char *one = test_train(plain, dir, "plain");
  char *spec = test_example_spec(dir, "wine", "ranks", MODEL, EXTRA("mpi", "4"));
  char *exe = test_path(dir, "ranks.exe");
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  cJSON *plain_m = test_read_json(one, "manifest.json");
  char *scores = cJSON_PrintUnformatted(cJSON_GetObjectItem(plain_m, "metrics"));
  static const int nps[] = {1, 2, 4};
  for (size_t i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "np%d.run", nps[i]);
    char *run = test_path(dir, name);
    TestRun r = mpi_train(exe, nps[i], run, NULL);
    ck_assert_msg(r.status == 0, "-np %d: %s%s", nps[i], r.out, r.err);
    test_run_free(&r);
    test_expect_same_file(one, run, "weights.bin");
    test_expect_same_file(one, run, "cleaning.json");
    cJSON *m = test_read_json(run, "manifest.json");
    ck_assert_int_eq((int)test_json_num(m, "environment", "distributed", "ranks"), nps[i]);
    ck_assert_int_eq((int)test_json_num(m, "environment", "shards", NULL), 4);
    /* validation and test scores tallied by blocks over the ranks: the same bits */
    char *got = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "metrics"));
    ck_assert_str_eq(got, scores);
    free(got);
    cJSON_Delete(m);
    free(run);
  }
  /* 5 epochs on 2 ranks, resumed to 12 on 4: the same weights again. */
  char *run = test_path(dir, "resumed.run");
  const char *first[] = {"--set", "epochs=5", NULL}, *rest[] = {"--resume", NULL};
  TestRun r = mpi_train(exe, 2, run, first);
  ck_assert_msg(r.status == 0, "-np 2: %s", r.err);
  test_run_free(&r);
  r = mpi_train(exe, 4, run, rest);
  ck_assert_msg(r.status == 0, "-np 4 --resume: %s", r.err);
  test_run_free(&r);
  test_expect_same_file(one, run, "weights.bin");
  cJSON *m = test_read_json(run, "manifest.json");
  const cJSON *fit = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "jobs"), 0), "fit");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(fit, "resumed")));
  cJSON_Delete(m);
  free(run);
  /* Three ranks cannot take four slices each their share. */
  run = test_path(dir, "np3.run");
  r = mpi_train(exe, 3, run, NULL);
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(strstr(r.err, "3 ranks cannot share environment.shards = 4"), "%s", r.err);
  test_run_free(&r);
  free(run);
  free(scores);
  cJSON_Delete(plain_m);
  free(exe);
  free(spec);
  free(one);
  free(plain);
  free(dir);
}
END_TEST

/* trials.jsonl of run without the seconds each trial took: one line a
 * trial, malloc'd. */
static char *trials_without_seconds(const char *run) {
  char *path = test_path(run, "trials.jsonl"), *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "no %s", path);
  char *out = NULL;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    cJSON *t = cJSON_Parse(line);
    ck_assert_msg(t != NULL, "%s: not JSON: %s", path, line);
    cJSON_DeleteItemFromObject(t, "seconds");
    char *j = cJSON_PrintUnformatted(t);
    fprintf(f, "%s\n", j);
    free(j);
    cJSON_Delete(t);
  }
  fclose(f);
  free(text);
  free(path);
  return out;
}

/* --tune under MPI: the trials run one after another, each over all the
 * ranks; 1 and 2 ranks and one process give the same trials, winner and
 * weights. */
START_TEST(mpi_tuning_matches_one_process) {
  const char *why;
  if (!mpi_ready(&why)) {
    test_skip("tuning over 1 and 2 MPI ranks", "openmpi-bin, libopenmpi-dev", why);
    return;
  }
#define TUNE(dist)                                                                                          \
  "  hyperparameters {\n    optimizer = adam(lr = 0.005)\n    batch = 16\n    epochs = 6\n  }\n"          \
  "  environment {\n    distributed = " dist "\n    shards = 2\n    threads = 1\n  }\n"                  \
  "  tuning {\n    search = random(trials = 3)\n    lr in logrange(1e-3, 1e-1)\n    folds = 2\n  }\n"
  char *dir = test_tmpdir();
  char *plain = test_example_spec(dir, "wine", "plain", MODEL, TUNE("none"));
  char *plain_exe = test_path(dir, "plain.exe"), *one = test_path(dir, "plain.run");
  const char *build_plain[] = {test_mlpc(), "build", plain, "-o", plain_exe, NULL};
  test_run_ok(build_plain);
  const char *tune_plain[] = {plain_exe, "--out", one, "--quiet", "--tune", NULL};
  test_run_ok(tune_plain);
  char *want = trials_without_seconds(one);
  char *spec = test_example_spec(dir, "wine", "ranks", MODEL, TUNE("mpi"));
#undef TUNE
  char *exe = test_path(dir, "ranks.exe");
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  cJSON *pm = test_read_json(one, "manifest.json");
  for (int np = 1; np <= 2; np++) {
    char name[32];
    snprintf(name, sizeof name, "tune%d.run", np);
    char *run = test_path(dir, name);
    const char *more[] = {"--tune", NULL};
    TestRun r = mpi_train(exe, np, run, more);
    ck_assert_msg(r.status == 0, "-np %d --tune: %s%s", np, r.out, r.err);
    test_run_free(&r);
    char *got = trials_without_seconds(run);
    ck_assert_str_eq(got, want);
    free(got);
    test_expect_same_file(one, run, "weights.bin");
    cJSON *m = test_read_json(run, "manifest.json");
    ck_assert_int_eq((int)test_json_num(m, "tuning", "best_trial", NULL),
                     (int)test_json_num(pm, "tuning", "best_trial", NULL));
    cJSON_Delete(m);
    free(run);
  }
  cJSON_Delete(pm);
  free(want);
  free(exe);
  free(spec);
  free(one);
  free(plain_exe);
  free(plain);
  free(dir);
}
END_TEST

/* environment.out_of_core = on under MPI: each rank streams the CSV into
 * its own feature cache; 1 and 2 ranks give the in-memory run's weights. */
START_TEST(mpi_out_of_core_matches_in_memory) {
  const char *why;
  if (!mpi_ready(&why)) {
    test_skip("out of core over 1 and 2 MPI ranks", "openmpi-bin, libopenmpi-dev", why);
    return;
  }
  char *dir = test_tmpdir(), cwd[1024];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  char *exes[2];
  static const char *const modes[] = {"on", "off"};
  for (int i = 0; i < 2; i++) {
    char text[2048], name[32];
    snprintf(text, sizeof text,
             "pipeline ooc_%s {\n  data {\n    source = csv(\"%s/examples/data/wine.csv\")\n"
             "    target = cultivar\n    clean {\n      impute(numeric, strategy = mean)\n"
             "      log1p([magnesium, proline])\n      standardize(numeric)\n    }\n"
             "    split(validation = 0.15, test = 0.2, stratify = true)\n  }\n"
             "  model {\n    " MODEL "\n  }\n"
             "  hyperparameters {\n    optimizer = adam(lr = 0.005)\n    batch = 16\n    epochs = 8\n  }\n"
             "  environment {\n    distributed = mpi\n    shards = 4\n    threads = 1\n    memory_mb = 64\n"
             "    out_of_core = %s\n  }\n}\n",
             modes[i], cwd, modes[i]);
    snprintf(name, sizeof name, "ooc_%s.mlp", modes[i]);
    char *spec = test_path(dir, name);
    test_write_text(spec, text);
    snprintf(name, sizeof name, "ooc_%s.exe", modes[i]);
    exes[i] = test_path(dir, name);
    const char *build[] = {test_mlpc(), "build", spec, "-o", exes[i], NULL};
    test_run_ok(build);
    free(spec);
  }
  char *mem = test_path(dir, "mem.run");
  TestRun r = mpi_train(exes[1], 1, mem, NULL);
  ck_assert_msg(r.status == 0, "in memory: %s%s", r.out, r.err);
  test_run_free(&r);
  for (int np = 1; np <= 2; np++) {
    char name[32];
    snprintf(name, sizeof name, "ooc%d.run", np);
    char *run = test_path(dir, name);
    r = mpi_train(exes[0], np, run, NULL);
    ck_assert_msg(r.status == 0, "out of core, -np %d: %s%s", np, r.out, r.err);
    test_run_free(&r);
    cJSON *m = test_read_json(run, "manifest.json");
    ck_assert_msg(test_json_num(m, "environment", "out_of_core", "cache_bytes") > 0, "-np %d: no cache", np);
    ck_assert_int_eq((int)test_json_num(m, "environment", "distributed", "ranks"), np);
    cJSON_Delete(m);
    test_expect_same_file(mem, run, "weights.bin");
    test_expect_same_file(mem, run, "cleaning.json");
    free(run);
  }
  free(mem);
  free(exes[0]);
  free(exes[1]);
  free(dir);
}
END_TEST

/* Slices are a power of two, no more than a batch's rows, and never cut
 * batch norm's statistics. */
START_TEST(shards_refused_where_they_cannot_act) {
  char *dir = test_tmpdir();
  test_expect_refused(dir, "wine", MODEL, EXTRA("none", "3"), "shards = 3 is not a power of two");
  test_expect_refused(dir, "wine", MODEL, EXTRA("none", "32"),
                      "shards = 32 is more than the batch of 16 rows");
  test_expect_refused(dir, "wine", "dense(32)\n    batchnorm()\n    output(activation = softmax)",
                      EXTRA("none", "2"), "is not supported by code generation yet");
  free(dir);
}
END_TEST

/* A compiler whose runtime was built without Open MPI refuses the setting. */
START_TEST(mpi_refused_without_support) {
  char *dir = test_tmpdir();
  char *lib = strdup(test_mlpc());
  char *slash = strrchr(lib, '/');
  char *rt = test_path(slash ? (*slash = 0, lib) : ".", "libmlprt.a");
  char *mlpc = test_path(dir, "mlpc");
  const char *cp[] = {"cp", test_mlpc(), rt, dir, NULL};
  test_run_ok(cp);
  char *spec = test_example_spec(dir, "wine", "ranks", MODEL, EXTRA("mpi", "2"));
  char *exe = test_path(dir, "ranks.exe");
  const char *build[] = {mlpc, "build", spec, "-o", exe, NULL};
  TestRun r = test_run(build, NULL);
  ck_assert_int_ne(r.status, 0);
  /* at the setting, with the line it is written on */
  ck_assert_msg(strstr(r.err, "ranks.mlp:") && strstr(r.err, "distributed = mpi\n") &&
                    strstr(r.err, "error: environment.distributed = mpi needs the runtime's MPI support"),
                "%s", r.err);
  ck_assert_int_ne(access(exe, F_OK), 0);
  test_run_free(&r);
  free(exe);
  free(spec);
  free(mlpc);
  free(rt);
  free(lib);
  free(dir);
}
END_TEST

Suite *distributed_suite(void);
Suite *distributed_suite(void) {
  Suite *s = suite_create("distributed");
  TCase *tc = tcase_create("distributed");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, mpi_ranks_match_one_process);
  tcase_add_test(tc, mpi_tuning_matches_one_process);
  tcase_add_test(tc, mpi_out_of_core_matches_in_memory);
  tcase_add_test(tc, shards_refused_where_they_cannot_act);
  tcase_add_test(tc, mpi_refused_without_support);
  suite_add_tcase(s, tc);
  return s;
}
