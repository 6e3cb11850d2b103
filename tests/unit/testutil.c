/* testutil.c — helpers shared by the Check suites (see testutil.h). */
#include "testutil.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export.h"

char *test_slurp_fd(int fd) {
  lseek(fd, 0, SEEK_SET);
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n <= 0) break;
    len += (size_t)n;
  }
  buf[len] = 0;
  return buf;
}

pid_t test_spawn(const char *const *argv, const char *in_path, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

TestRun test_run(const char *const *argv, const char *in_path) {
  TestRun r = {-1, NULL, NULL};
  char out_tmpl[] = "/tmp/mlp-test-out-XXXXXX", err_tmpl[] = "/tmp/mlp-test-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl), err_fd = mkstemp(err_tmpl);
  int st = 0;
  waitpid(test_spawn(argv, in_path, out_fd, err_fd), &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = test_slurp_fd(out_fd);
  r.err = test_slurp_fd(err_fd);
  close(out_fd);
  close(err_fd);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return r;
}

void test_skip(const char *what, const char *oracle, const char *why) {
  fprintf(stderr, "SKIP: %s (%s): %s\n", what, oracle, why);
  const char *log = getenv(TEST_SKIP_LOG);
  int fd = log ? open(log, O_WRONLY | O_APPEND) : -1;
  if (fd < 0) return;
  char line[1024];
  int n = snprintf(line, sizeof line, "%ld\t%s\t%s\n", (long)getpid(), what, oracle);
  /* one write per line: tests run in forked children, side by side */
  if (n > 0 && write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
    fprintf(stderr, "SKIP: could not log the skip to %s\n", log);
  close(fd);
}

void test_run_free(TestRun *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

const char *test_mlpc(void) {
  const char *m = getenv("MLPC");
  return m && *m ? m : "build/mlpc";
}

char *test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = 0;
  if (len) *len = got;
  return buf;
}

char *test_tmpdir(void) {
  char tmpl[] = "/tmp/mlp-test-XXXXXX";
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

char *test_path(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", a, b);
  return p;
}

char *test_staged(const char *dir, long pid, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 40;
  char *p = malloc(n);
  snprintf(p, n, "%s.staging-%ld/%s", dir, pid, name);
  return p;
}

long test_dead_pid(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, NULL, 0);
  return (long)pid;
}

int test_count_named(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) n += strstr(e->d_name, part) != NULL;
  if (d) closedir(d);
  return n;
}

long test_flip_bit(const char *path, long at, int bit) {
  FILE *f = fopen(path, "r+b");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  long off = size > 0 ? at % size : -1;
  if (off >= 0) {
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ (1 << (bit & 7)), f);
  }
  return fclose(f) == 0 ? off : -1;
}

char *test_small_disk(size_t bytes, const char **why) {
  if (geteuid() != 0) {
    *why = "not running as root";
    return NULL;
  }
  char *dir = test_tmpdir(), opts[64];
  snprintf(opts, sizeof opts, "size=%zu", bytes);
  if (!dir || mount("tmpfs", dir, "tmpfs", 0, opts) != 0) {
    *why = "mounting a tmpfs failed";
    if (dir) rmdir(dir);
    free(dir);
    return NULL;
  }
  return dir;
}

void test_small_disk_fill(const char *dir, size_t left) {
  struct statvfs sv;
  ck_assert_int_eq(statvfs(dir, &sv), 0);
  size_t avail = (size_t)sv.f_bavail * sv.f_frsize;
  char *path = test_path(dir, "fill");
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  for (size_t i = 0; avail > left && i < avail - left; i++) fputc(0, f);
  fclose(f);
  free(path);
}

void test_small_disk_free(char *dir) {
  umount2(dir, MNT_DETACH);
  rmdir(dir);
  free(dir);
}

void test_run_ok(const char *const *argv) {
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s: status %d: %s", argv[0], r.status, r.err);
  test_run_free(&r);
}

char *test_train(const char *spec, const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 8;
  char *exe = malloc(n), *run = malloc(n);
  snprintf(exe, n, "%s/%s.exe", dir, name);
  snprintf(run, n, "%s/%s.run", dir, name);
  const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
  test_run_ok(build);
  const char *fit[] = {exe, "--out", run, "--quiet", "--threads", "1", NULL};
  test_run_ok(fit);
  free(exe);
  return run;
}

int test_csv_fields(const char *line, char **out, int max) {
  int n = 0;
  const char *p = line;
  for (;;) {
    size_t cap = strlen(p) + 1, len = 0;
    char *f = malloc(cap);
    if (*p == '"') {
      for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
        if (*p == '"') p++;
        f[len++] = *p;
      }
      if (*p == '"') p++;
    }
    while (*p && *p != ',' && *p != '\n' && *p != '\r') f[len++] = *p++;
    f[len] = 0;
    if (n < max) out[n++] = f;
    else free(f);
    if (*p != ',') break;
    p++;
  }
  return n;
}

void test_fields_free(char **f, int n) {
  for (int i = 0; i < n; i++) free(f[i]);
}

int test_field_index(char **f, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(f[i], name) == 0) return i;
  return -1;
}

int test_split_lines(char *text, char ***lines) {
  int n = 0, cap = 64;
  *lines = malloc((size_t)cap * sizeof **lines);
  for (char *p = text; *p;) {
    if (n == cap) *lines = realloc(*lines, (size_t)(cap *= 2) * sizeof **lines);
    (*lines)[n++] = p;
    char *nl = strchr(p, '\n');
    if (!nl) break;
    *nl = 0;
    p = nl + 1;
  }
  return n;
}

/* Whether text is a number beyond input in's training range by more than
 * the predictor's margin: its out_of_range failsafe then changes it. */
static bool far_out(const MlprtPredInput *in, const char *text) {
  char *end;
  double x = strtod(text, &end);
  double m = MLP_EXPORT_RANGE_MARGIN * (in->hi - in->lo);
  return end != text && isfinite(in->lo) && isfinite(in->hi) && (x < in->lo - m || x > in->hi + m);
}

int test_inputs_without_target(const MlpRunDir *rd, const char *target, const char *out_path, bool *far) {
  const char *run = rd->dir;
  char *rows_path = test_path(run, "test_rows.csv");
  char *text = test_read_file(rows_path, NULL);
  ck_assert_msg(text != NULL, "no %s", rows_path);
  char **lines;
  int nl = test_split_lines(text, &lines), rows = 0;
  FILE *out = fopen(out_path, "w");
  ck_assert_ptr_nonnull(out);
  char *f[TEST_MAXF];
  int nf = test_csv_fields(lines[0], f, TEST_MAXF);
  int t = test_field_index(f, nf, target);
  ck_assert_msg(t >= 0, "test_rows.csv has no column %s", target);
  const MlprtPredInput *col[TEST_MAXF] = {0};
  for (int k = 0; k < nf; k++)
    for (int j = 0; j < rd->ninputs; j++)
      if (strcmp(rd->inputs[j].name, f[k]) == 0) col[k] = &rd->inputs[j];
  test_fields_free(f, nf);
  for (int i = 0; i < nl; i++) {
    if (!lines[i][0]) continue;
    nf = test_csv_fields(lines[i], f, TEST_MAXF);
    bool first = true;
    ck_assert_int_lt(rows, TEST_MAXROWS);
    if (i > 0) far[rows] = false;
    for (int k = 0; k < nf; k++) {
      if (k == t) continue;
      if (i > 0 && col[k] && far_out(col[k], f[k])) far[rows] = true;
      /* quoted as CSV quotes: a field with a comma or a quote in quotes, its quotes doubled */
      bool quote = strpbrk(f[k], ",\"") != NULL;
      fputs(first ? "" : ",", out);
      if (quote) fputc('"', out);
      for (const char *c = f[k]; *c; c++) {
        if (quote && *c == '"') fputc('"', out);
        fputc(*c, out);
      }
      if (quote) fputc('"', out);
      first = false;
    }
    fputc('\n', out);
    test_fields_free(f, nf);
    rows += i > 0;
  }
  fclose(out);
  free(lines);
  free(text);
  free(rows_path);
  return rows;
}

void test_write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

/* The data section of examples/NAME.mlp, its paths made absolute. */
static char *data_section(const char *name) {
  char path[256], cwd[1024];
  snprintf(path, sizeof path, "examples/%s.mlp", name);
  char *text = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  char *start = strstr(text, "\n  data {"), *end = start ? strstr(start, "\n  }\n") : NULL;
  ck_assert_msg(start && end, "no data section in %s", path);
  end[5] = '\0';
  char *out = NULL;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  for (const char *p = start + 1; *p;) {
    const char *q = strstr(p, "csv(\"data/");
    if (!q) {
      fputs(p, f);
      break;
    }
    fprintf(f, "%.*scsv(\"%s/examples/data/", (int)(q - p), p, cwd);
    p = q + strlen("csv(\"data/");
  }
  fclose(f);
  free(text);
  return out;
}

/* A spec of the example's data with `model` (and `extra` sections) into
 * dir/NAME.mlp; returns its path. */
char *test_example_spec(const char *dir, const char *example, const char *name, const char *model,
                        const char *extra) {
  char *data = data_section(example), *path = malloc(strlen(dir) + strlen(name) + 8);
  sprintf(path, "%s/%s.mlp", dir, name);
  char *text = NULL;
  size_t n;
  FILE *f = open_memstream(&text, &n);
  fprintf(f, "pipeline %s {\n%s  model {\n    %s\n  }\n%s}\n", name, data, model, extra ? extra : "");
  fclose(f);
  test_write_text(path, text);
  free(text);
  free(data);
  return path;
}

void test_expect_refused(const char *dir, const char *example, const char *model, const char *extra,
                         const char *message) {
  char *spec = test_example_spec(dir, example, "refused", model, extra);
  const char *argv[] = {test_mlpc(), "build", spec, "-o", "/dev/null", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status != 0, "%s: built", model);
  ck_assert_msg(strstr(r.err, message), "%s: %s", model, r.err);
  test_run_free(&r);
  free(spec);
}

cJSON *test_read_json(const char *dir, const char *name) {
  char *path = test_path(dir, name), *text = test_read_file(path, NULL);
  ck_assert_msg(text != NULL, "no %s", path);
  cJSON *j = cJSON_Parse(text);
  ck_assert_msg(j != NULL, "%s is not JSON", path);
  free(text);
  free(path);
  return j;
}

double test_json_num(const cJSON *o, const char *a, const char *b, const char *c) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
  if (c) v = cJSON_GetObjectItemCaseSensitive(v, c);
  ck_assert_msg(cJSON_IsNumber(v), "no number at %s.%s.%s", a, b ? b : "", c ? c : "");
  return v->valuedouble;
}

void test_predictor_as_trained(const char *run, const char *pred, int skip, const char *what) {
  char *rows = test_path(run, "test_rows.csv");
  const char *x[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  test_run_ok(x);
  const char *p[] = {pred, rows, NULL};
  TestRun r = test_run(p, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  char *path = test_path(run, "predictions.csv"), *want = test_read_file(path, NULL);
  char **got_lines, **want_lines;
  int ng = test_split_lines(r.out, &got_lines), nw = test_split_lines(want, &want_lines);
  ck_assert_int_eq(ng, nw);
  ck_assert_int_gt(nw, 10);
  for (int i = 1; i < nw; i++) {
    /* predictions.csv: row, then the predictor's fields (label, p... or the value) */
    char *g[16], *w[16];
    int a = test_csv_fields(got_lines[i], g, 16), b = test_csv_fields(want_lines[i], w, 16);
    for (int k = 0; k + skip < b; k++) {
      char *end;
      double gv = strtod(g[k], &end), wv = strtod(w[k + skip], NULL);
      if (*end)
        ck_assert_str_eq(g[k], w[k + skip]); /* a label */
      else
        ck_assert_msg(fabs(gv - wv) <= 1e-5 * fmax(1, fabs(wv)), "%s row %d: %s vs %s", what, i, g[k],
                      w[k + skip]);
    }
    test_fields_free(g, a);
    test_fields_free(w, b);
  }
  free(got_lines);
  free(want_lines);
  free(want);
  free(path);
  test_run_free(&r);
  free(rows);
}

char *test_export_features(const char *dir, const char *name) {
  char exe[1024];
  snprintf(exe, sizeof exe, "%s/%s.exe", dir, name);
  char *feats = test_path(dir, "features");
  const char *x[] = {exe, "--export-features", feats, "--quiet", NULL};
  test_run_ok(x);
  return feats;
}

cJSON *test_parity_oracle(const char *what, const char *script, const char *const *args, int n,
                          const char *settings) {
  char words[512], path[256];
  snprintf(words, sizeof words, "%s", settings);
  snprintf(path, sizeof path, "tests/parity/%s", script);
  const char *argv[24] = {"/usr/bin/python3", path};
  int argc = 2;
  for (int i = 0; i < n && argc < 23; i++) argv[argc++] = args[i];
  for (char *tok = strtok(words, " "); tok && argc < 23; tok = strtok(NULL, " ")) argv[argc++] = tok;
  argv[argc] = NULL;
  TestRun r = test_run(argv, NULL);
  cJSON *answer = NULL;
  if (r.status == 2) {
    test_skip(what, "python3-sklearn", r.err);
  } else {
    ck_assert_msg(r.status == 0, "%s: %s", script, r.err);
    answer = cJSON_Parse(r.out);
    ck_assert_msg(answer != NULL, "%s answered no JSON: %s", script, r.out);
  }
  test_run_free(&r);
  return answer;
}

void test_expect_same_file(const char *a, const char *b, const char *name) {
  char *pa = test_path(a, name), *pb = test_path(b, name);
  size_t na, nb;
  char *ta = test_read_file(pa, &na), *tb = test_read_file(pb, &nb);
  ck_assert_msg(ta && tb, "%s or %s missing", pa, pb);
  ck_assert_msg(na == nb && memcmp(ta, tb, na) == 0, "%s and %s differ", pa, pb);
  free(ta);
  free(tb);
  free(pa);
  free(pb);
}
