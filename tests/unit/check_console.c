/* check_console.c — what a training program shows while it trains. On a
 * real terminal (tmux, 60 columns): a bar with its percentage, throughput
 * and ETA that fits the width, one kept line per epoch, the early stop and
 * the restored epoch announced. Down a pipe: plain lines, no carriage
 * returns or escapes. --quiet: nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define WIDTH 60

/* A classification data set with a weak signal and noisy labels: each
 * epoch takes a moment, and the validation loss soon stops improving. */
static char *console_spec(const char *dir) {
  char *data = test_path(dir, "rows.csv");
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  fputs("a,b,c,d,e,f,y\n", f);
  srand(7);
  for (int i = 0; i < 30000; i++) {
    double v[6];
    for (int k = 0; k < 6; k++) v[k] = rand() / (double)RAND_MAX * 2 - 1;
    int y = v[0] + v[1] + (rand() / (double)RAND_MAX - 0.5) * 3 > 0;
    fprintf(f, "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%s\n", v[0], v[1], v[2], v[3], v[4], v[5], y ? "yes" : "no");
  }
  fclose(f);
  char *spec = test_path(dir, "console.mlp");
  char text[2048];
  snprintf(text, sizeof text,
           "pipeline console {\n"
           "  data {\n"
           "    source = csv(\"%s\")\n"
           "    target = y\n"
           "    split(validation = 0.2, test = 0.1, seed = 1)\n"
           "  }\n"
           "  model {\n"
           "    dense(128, activation = relu)\n"
           "    dense(128, activation = relu)\n"
           "    output(activation = sigmoid)\n"
           "  }\n"
           "  hyperparameters {\n"
           "    optimizer = adam(lr = 0.01)\n"
           "    batch = 8\n"
           "    epochs = 40\n"
           "    seed = 1\n"
           "  }\n"
           "  environment {\n"
           "    threads = 1\n"
           "  }\n"
           "  validation {\n"
           "    early_stopping(monitor = val_loss, patience = 2)\n"
           "  }\n"
           "}\n",
           data);
  test_write_text(spec, text);
  free(data);
  return spec;
}

static char *build(const char *dir) {
  char *spec = console_spec(dir), *exe = test_path(dir, "train");
  const char *argv[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(argv);
  free(spec);
  return exe;
}

/* The pane's history and screen, wrapped lines joined. */
static char *tmux_capture(const char *sock) {
  const char *argv[] = {"tmux", "-S", sock, "capture-pane", "-p", "-J", "-t", "train", "-S", "-", NULL};
  TestRun r = test_run(argv, NULL);
  char *out = r.out;
  r.out = NULL;
  test_run_free(&r);
  return out;
}

/* The bar's line on a screen: "job 0 epoch N/M [###...] P% ETA ...", or NULL. */
static const char *bar_line(char *screen, char *copy, size_t n) {
  for (char *l = screen; l && *l;) {
    char *nl = strchr(l, '\n');
    size_t len = nl ? (size_t)(nl - l) : strlen(l);
    if (len < n && strncmp(l, "job 0 epoch ", 12) == 0 && memchr(l, '[', len) && memchr(l, '%', len)) {
      memcpy(copy, l, len);
      copy[len] = 0;
      while (len && copy[len - 1] == ' ') copy[--len] = 0;
      if (strstr(copy, "ETA ")) return copy;
    }
    l = nl ? nl + 1 : NULL;
  }
  return NULL;
}

START_TEST(console_1_terminal) {
  const char *ver[] = {"tmux", "-V", NULL};
  TestRun v = test_run(ver, NULL);
  bool have = v.status == 0;
  test_run_free(&v);
  if (!have) {
    test_skip("console on a terminal", "tmux", "tmux is not installed");
    return;
  }
  char *dir = test_tmpdir(), *exe = build(dir), *sock = test_path(dir, "tmux.sock");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --out run; echo EXIT=$?; sleep 600", dir, exe);
  char width[16];
  snprintf(width, sizeof width, "%d", WIDTH);
  const char *start[] = {"tmux",  "-S", sock,  "-f", "/dev/null", "new-session", "-d", "-s",
                         "train", "-x", width, "-y", "50",        cmd,           NULL};
  TestRun s = test_run(start, NULL);
  if (s.status != 0) {
    char why[512];
    snprintf(why, sizeof why, "tmux cannot start its server here: %.400s", s.err);
    test_run_free(&s);
    test_skip("console on a terminal", "tmux", why);
    free(sock);
    free(exe);
    free(dir);
    return;
  }
  test_run_free(&s);
  char bar[512] = "", copy[512];
  char *screen = NULL;
  time_t t0 = time(NULL);
  for (;;) {
    free(screen);
    screen = tmux_capture(sock);
    if (!bar[0] && bar_line(screen, copy, sizeof copy)) snprintf(bar, sizeof bar, "%s", copy);
    if (strstr(screen, "EXIT=") || time(NULL) - t0 > 300) break;
    usleep(30000);
  }
  const char *kill[] = {"tmux", "-S", sock, "kill-server", NULL};
  TestRun k = test_run(kill, NULL);
  test_run_free(&k);
  ck_assert_msg(strstr(screen, "EXIT=0"), "the run did not finish well:\n%s", screen);
  /* The bar: fitted to the width, with its percentage, throughput and ETA. */
  ck_assert_msg(bar[0], "no progress bar was seen during the run:\n%s", screen);
  ck_assert_msg(strlen(bar) < WIDTH, "the bar is wider than the terminal: '%s'", bar);
  ck_assert_msg(strstr(bar, "rows/s") && strstr(bar, "] "), "bar: '%s'", bar);
  const char *eta = strstr(bar, "ETA ");
  ck_assert_msg(eta && (eta[4] >= '0' && eta[4] <= '9') && strchr(eta, ':'), "bar without an ETA: '%s'", bar);
  /* Kept: one line per epoch, then the early stop and the restored epoch. */
  int stopped = 0;
  ck_assert_msg(sscanf(strstr(screen, "early stopping after epoch ")
                           ? strstr(screen, "early stopping after epoch ")
                           : "",
                       "early stopping after epoch %d", &stopped) == 1,
                "no early-stopping line:\n%s", screen);
  ck_assert_msg(stopped < 40, "stopped at %d", stopped);
  for (int e = 1; e <= stopped; e++) {
    char want[64];
    snprintf(want, sizeof want, "job 0 epoch %d/40 loss ", e);
    ck_assert_msg(strstr(screen, want), "epoch %d's line was not kept:\n%s", e, screen);
  }
  ck_assert_msg(strstr(screen, "val_loss has not improved"), "the reason is not given:\n%s", screen);
  ck_assert_msg(strstr(screen, "restored the weights of epoch "), "the restored epoch is not said:\n%s",
                screen);
  /* Nothing of the bar is left behind on the kept lines. */
  ck_assert_msg(!strstr(screen, "] 100%"), "a bar stayed on the screen:\n%s", screen);
  free(screen);
  free(sock);
  free(exe);
  free(dir);
}
END_TEST

START_TEST(console_2_pipe_and_quiet) {
  char *dir = test_tmpdir(), *exe = build(dir), *run = test_path(dir, "run");
  const char *argv[] = {exe, "--out", run, "--set", "epochs=3", "--set", "early_stopping=0", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(!strchr(r.out, '\r') && !strchr(r.out, '\033'), "terminal controls down a pipe:\n%s", r.out);
  for (int e = 1; e <= 3; e++) {
    char want[64];
    snprintf(want, sizeof want, "\njob 0 epoch %d/3 loss ", e);
    ck_assert_msg(strstr(r.out, want), "epoch %d's line:\n%s", e, r.out);
    char *after = strstr(r.out, want) + 1;
    ck_assert_msg(!strstr(after + 1, want + 1), "epoch %d twice:\n%s", e, r.out);
  }
  test_run_free(&r);
  const char *quiet[] = {exe, "--out", run, "--set", "epochs=1", "--quiet", NULL};
  r = test_run(quiet, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(r.out[0] == 0, "--quiet printed:\n%s", r.out);
  test_run_free(&r);
  free(run);
  free(exe);
  free(dir);
}
END_TEST

/* --tune down a pipe: one table row per trial and fold, then the winner,
 * in a few lines a person reads (not every trial's epochs). */
START_TEST(console_3_tuning_table) {
  char *dir = test_tmpdir(), *exe = test_path(dir, "iris"), *run = test_path(dir, "run");
  const char *build_argv[] = {test_mlpc(), "build", "examples/iris.mlp", "-o", exe, NULL};
  test_run_ok(build_argv);
  char line[8192];
  snprintf(line, sizeof line, "cd examples && '%s' --tune --out '%s' --threads 1", exe, run);
  const char *argv[] = {"/bin/sh", "-c", line, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "\ntrial fold lr"), "no trial table:\n%s", r.out);
  ck_assert_msg(strstr(r.out, "\nwinner: trial "), "no winner line:\n%s", r.out);
  int lines = 0;
  for (const char *p = r.out; *p; p++) lines += *p == '\n';
  ck_assert_msg(lines < 300, "--tune printed %d lines", lines);
  test_run_free(&r);
  free(run);
  free(exe);
  free(dir);
}
END_TEST

Suite *console_suite(void); /* the runner finds it by name */
Suite *console_suite(void) {
  Suite *s = suite_create("console");
  TCase *tc = tcase_create("console");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, console_1_terminal);
  tcase_add_test(tc, console_2_pipe_and_quiet);
  tcase_add_test(tc, console_3_tuning_table);
  suite_add_tcase(s, tc);
  return s;
}
