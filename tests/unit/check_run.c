/* check_run.c — the run-directory runtime: SHA-256 against the FIPS 180-4
 * examples, atomic writes, directory creation, checkpoints, and the
 * training program's command line and --set overrides. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlp/run.h"
#include "testutil.h"

START_TEST(run_sha256_known_answers) {
  char hex[65];
  mlprt_sha256_hex("", 0, hex);
  ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  mlprt_sha256_hex("abc", 3, hex);
  ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  mlprt_sha256_hex(two, strlen(two), hex);
  ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* A million 'a's fed in uneven pieces: the streaming path and padding. */
  MlprtSha256 s;
  uint8_t d[32];
  char chunk[997];
  memset(chunk, 'a', sizeof chunk);
  mlprt_sha256_init(&s);
  size_t left = 1000000;
  while (left) {
    size_t n = left < sizeof chunk ? left : sizeof chunk;
    mlprt_sha256_update(&s, chunk, n);
    left -= n;
  }
  mlprt_sha256_final(&s, d);
  ck_assert_int_eq(d[0], 0xcd);
  ck_assert_int_eq(d[1], 0xc7);
  ck_assert_int_eq(d[31], 0xd0);
}
END_TEST

START_TEST(run_atomic_write_and_mkdirs) {
  char *dir = test_tmpdir();
  char path[4300], deep[4200];
  snprintf(deep, sizeof deep, "%s/a/b/c", dir);
  ck_assert_int_eq(mlprt_mkdirs(deep), 0);
  ck_assert_int_eq(mlprt_mkdirs(deep), 0); /* existing is fine */
  snprintf(path, sizeof path, "%s/f.txt", deep);
  ck_assert_int_eq(mlprt_write_atomic(path, "first", 5, true), 0);
  ck_assert_int_eq(mlprt_write_atomic(path, "second!", 7, false), 0);
  size_t len;
  char *text = test_read_file(path, &len);
  ck_assert_uint_eq(len, 7);
  ck_assert_str_eq(text, "second!");
  free(text);
  char hex[65], hex2[65];
  ck_assert_int_eq(mlprt_sha256_file(path, hex), 0);
  mlprt_sha256_hex("second!", 7, hex2);
  ck_assert_str_eq(hex, hex2);
  /* No temporary file is left behind. */
  char tmp[4400];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_ne(access(tmp, F_OK), 0);
  /* A directory that does not exist is an error, not a crash. */
  snprintf(path, sizeof path, "%s/missing/f.txt", dir);
  ck_assert_int_eq(mlprt_write_atomic(path, "x", 1, true), -1);
  ck_assert_int_eq(mlprt_sha256_file(path, hex), -1);
  free(dir);
}
END_TEST

/* A device or a directory in the written path's place is never replaced
 * by a rename: /dev/null takes the bytes and stays a device, whether the
 * runtime writes a file or mlpc links a program there; a directory is an
 * error and stays. */
START_TEST(run_atomic_write_keeps_devices) {
  struct stat st;
  ck_assert_int_eq(mlprt_write_atomic("/dev/null", "data", 4, true), 0);
  ck_assert_int_eq(stat("/dev/null", &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  const char *argv[] = {test_mlpc(), "build", "examples/iris.mlp", "-o", "/dev/null", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  ck_assert_int_eq(stat("/dev/null", &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  char *dir = test_tmpdir();
  ck_assert(mlprt_path_is_special(dir));
  ck_assert_int_eq(mlprt_write_atomic(dir, "x", 1, false), -1);
  ck_assert_int_eq(stat(dir, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  free(dir);
}
END_TEST

START_TEST(run_checkpoint_roundtrip) {
  char *dir = test_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/ckpt.bin", dir);
  float arena[64];
  for (int i = 0; i < 64; i++) arena[i] = (float)i * 0.5f;
  MlprtCkptHeader h = {.job = 0,
                       .epoch = 7,
                       .step = 70,
                       .best_metric = 0.25,
                       .best_epoch = 5,
                       .bad_epochs = 2,
                       .lr = 0.01,
                       .arena_bytes = sizeof arena};
  ck_assert_int_eq(mlprt_ckpt_save(path, &h, arena, true), 0);
  float back[64] = {0};
  MlprtCkptHeader g = {.arena_bytes = sizeof back};
  ck_assert_int_eq(mlprt_ckpt_load(path, &g, back), 0);
  ck_assert_int_eq(g.epoch, 7);
  ck_assert_int_eq(g.step, 70);
  ck_assert_int_eq(g.bad_epochs, 2);
  ck_assert(g.best_metric == 0.25);
  ck_assert_mem_eq(back, arena, sizeof arena);
  /* A checkpoint of another plan's size is refused. */
  MlprtCkptHeader other = {.arena_bytes = 128};
  ck_assert_int_eq(mlprt_ckpt_load(path, &other, back), -1);
  /* So is a file that is not a checkpoint. */
  ck_assert_int_eq(mlprt_write_atomic(path, "MLPCKPT0garbage", 15, true), 0);
  ck_assert_int_eq(mlprt_ckpt_load(path, &g, back), -1);
  free(dir);
}
END_TEST

START_TEST(run_cli_parses_options) {
  char err[512];
  MlprtCli c;
  char *argv[] = {"prog",   "--data",    "d.csv", "--out",  "o", "--set",   "epochs=3", "--set",
                  "lr=0.5", "--threads", "2",     "--seed", "9", "--quiet", "--resume", NULL};
  ck_assert_int_eq(mlprt_cli_parse(15, argv, &c, err, sizeof err), 0);
  ck_assert_str_eq(c.data, "d.csv");
  ck_assert_str_eq(c.out, "o");
  ck_assert_int_eq(c.nsets, 2);
  ck_assert_str_eq(c.set_val[1], "0.5");
  ck_assert_int_eq(c.threads, 2);
  ck_assert_int_eq(c.seed, 9);
  ck_assert(c.quiet && c.resume);
  char *bad1[] = {"prog", "--threads", "zero", NULL};
  ck_assert_int_eq(mlprt_cli_parse(3, bad1, &c, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "--threads"));
  char *bad2[] = {"prog", "--set", "noequals", NULL};
  ck_assert_int_eq(mlprt_cli_parse(3, bad2, &c, err, sizeof err), -1);
  char *bad3[] = {"prog", "--frobnicate", NULL};
  ck_assert_int_eq(mlprt_cli_parse(2, bad3, &c, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "--frobnicate"));
  char *bad4[] = {"prog", "--out", NULL};
  ck_assert_int_eq(mlprt_cli_parse(2, bad4, &c, err, sizeof err), -1);
  char *help[] = {"prog", "--help", NULL};
  ck_assert_int_eq(mlprt_cli_parse(2, help, &c, err, sizeof err), 1);
  ck_assert_ptr_nonnull(strstr(err, "usage: prog"));
}
END_TEST

START_TEST(run_set_overrides_jobs) {
  char err[512];
  MlprtJob j = {.epochs = 100, .lr = 0.001, .patience = 10, .early_stop = 1};
  ck_assert_int_eq(mlprt_job_set(&j, "epochs=7", "7", err, sizeof err), 0);
  ck_assert_int_eq(j.epochs, 7);
  ck_assert_int_eq(mlprt_job_set(&j, "lr=0.05", "0.05", err, sizeof err), 0);
  ck_assert(j.lr == 0.05);
  ck_assert_int_eq(mlprt_job_set(&j, "early_stopping=0", "0", err, sizeof err), 0);
  ck_assert_int_eq(j.early_stop, 0);
  ck_assert_int_eq(mlprt_job_set(&j, "epochs=0", "0", err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "epochs"));
  ck_assert_int_eq(mlprt_job_set(&j, "lr=-1", "-1", err, sizeof err), -1);
  ck_assert_int_eq(mlprt_job_set(&j, "batch=8", "8", err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "unknown --set key 'batch'"));
  ck_assert_int_eq(j.epochs, 7); /* failed sets change nothing */
}
END_TEST

Suite *run_suite(void); /* the runner finds it by name */
Suite *run_suite(void) {
  Suite *s = suite_create("run");
  TCase *tc = tcase_create("run");
  tcase_add_test(tc, run_sha256_known_answers);
  tcase_add_test(tc, run_atomic_write_and_mkdirs);
  tcase_add_test(tc, run_atomic_write_keeps_devices);
  tcase_add_test(tc, run_checkpoint_roundtrip);
  tcase_add_test(tc, run_cli_parses_options);
  tcase_add_test(tc, run_set_overrides_jobs);
  suite_add_tcase(s, tc);
  return s;
}
