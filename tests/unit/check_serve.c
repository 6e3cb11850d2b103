/* check_serve.c — the predictor over HTTP (--serve). An iris predictor
 * serves on 127.0.0.1 at a free port; four client threads, each on one
 * keep-alive connection, send 10,000 POST /predict requests (one row, or
 * ten, as CSV or JSON lines) and every answer must equal the command-line
 * predictor's for the same rows; requests/s and the p50/p99 latency are
 * printed. Then /health, /version, /card, /metrics (with each feature's
 * mean shift against training, recomputed here), a body over
 * --max-request (413), an unknown path (404), and SIGTERM: a clean exit
 * with its summary. The predictor does not link libmicrohttpd. */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define REQUESTS 10000
#define CLIENTS 4
#define MAX_REQUEST 65536

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A port nothing listens on now. */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof sa;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, n), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &n), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* One HTTP/1.1 exchange on the keep-alive connection *fd (dialled again
 * when the server closed it): the status, the body in *body (malloc'd). */
static int exchange(int port, int *fd, const char *method, const char *path, const char *type,
                    const char *body, size_t blen, char **out) {
  char head[512];
  int hl = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                    method, path, type, blen);
  for (int attempt = 0; attempt < 2; attempt++) {
    if (*fd < 0) *fd = dial(port);
    if (*fd < 0) return -1;
    bool sent = write(*fd, head, (size_t)hl) == hl;
    for (size_t off = 0; sent && off < blen;) {
      ssize_t w = write(*fd, body + off, blen - off);
      if (w <= 0) sent = false;
      else off += (size_t)w;
    }
    /* the response: headers up to a blank line, then Content-Length bytes */
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    char *end = NULL;
    while (sent && !(end = len ? strstr(buf, "\r\n\r\n") : NULL)) {
      if (len + 4096 + 1 > cap) buf = realloc(buf, cap *= 2);
      ssize_t r = read(*fd, buf + len, cap - len - 1);
      if (r <= 0) break;
      len += (size_t)r;
      buf[len] = 0;
    }
    if (!end) { /* closed under us: once more on a fresh connection */
      free(buf);
      close(*fd);
      *fd = -1;
      continue;
    }
    int status = atoi(buf + 9);
    const char *cl = strstr(buf, "\r\nContent-Length:");
    size_t want = cl && cl < end ? (size_t)strtoul(cl + 17, NULL, 10) : 0, at = (size_t)(end + 4 - buf);
    while (len - at < want) {
      if (len + 4096 + 1 > cap) buf = realloc(buf, cap *= 2);
      ssize_t r = read(*fd, buf + len, cap - len - 1);
      if (r <= 0) break;
      len += (size_t)r;
    }
    ck_assert_msg(len - at >= want, "a short response body");
    const char *conn = strstr(buf, "\r\nConnection: close");
    bool closing = conn && conn < end;
    *out = malloc(want + 1);
    memcpy(*out, buf + at, want);
    (*out)[want] = 0;
    free(buf);
    if (closing) {
      close(*fd);
      *fd = -1;
    }
    return status;
  }
  return -1;
}

/* The rows and the command line's answers to them. */
typedef struct {
  int port, nrows;
  char *csv_header, **csv_row, **jsonl_row; /* [nrows] each row as CSV, as a JSON line */
  char *answer_header, **csv_answer, **jsonl_answer;
} Fixture;

typedef struct {
  const Fixture *fx;
  int id, n;
  double *lat; /* [n] seconds */
  int mismatches;
  char first_bad[1024];
} Client;

static void *client(void *arg) {
  Client *c = arg;
  const Fixture *fx = c->fx;
  int fd = -1;
  char *body = NULL;
  size_t cap = 0;
  for (int i = 0; i < c->n; i++) {
    int k = (c->id * 7919 + i * 31) % fx->nrows, rows = i % 100 == 0 ? 10 : 1;
    bool jsonl = i % 2 == 1;
    /* the request: rows k, k+1, ... (wrapping) */
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
      len = 0;
      if (!jsonl) len += (size_t)snprintf(body ? body : NULL, body ? cap : 0, "%s\n", fx->csv_header);
      for (int r = 0; r < rows; r++) {
        const char *row = jsonl ? fx->jsonl_row[(k + r) % fx->nrows] : fx->csv_row[(k + r) % fx->nrows];
        len += (size_t)snprintf(body ? body + len : NULL, body && len < cap ? cap - len : 0, "%s\n", row);
      }
      if (len + 1 > cap) body = realloc(body, cap = 2 * (len + 1));
    }
    char *out = NULL;
    double t0 = mono();
    int status = exchange(fx->port, &fd, "POST", "/predict", jsonl ? "application/x-ndjson" : "text/csv",
                          body, len, &out);
    c->lat[i] = mono() - t0;
    /* what the command line answered for the same rows */
    char *want = NULL;
    size_t wn = 0;
    FILE *f = open_memstream(&want, &wn);
    if (!jsonl) fprintf(f, "%s\n", fx->answer_header);
    for (int r = 0; r < rows; r++)
      fprintf(f, "%s\n", jsonl ? fx->jsonl_answer[(k + r) % fx->nrows] : fx->csv_answer[(k + r) % fx->nrows]);
    fclose(f);
    if (status != 200 || !out || strcmp(out, want) != 0) {
      if (!c->mismatches++)
        snprintf(c->first_bad, sizeof c->first_bad, "request %d (status %d):\n%.400s\nwant:\n%.400s", i,
                 status, out ? out : "(none)", want);
    }
    free(want);
    free(out);
  }
  free(body);
  if (fd >= 0) close(fd);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Run the predictor on a file; its output lines (the first: the header,
 * for CSV). */
static int answers(const char *pred, const char *input, const char *format, char ***lines, char **text) {
  const char *argv[] = {pred, input, "--format", format, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  *text = r.out;
  r.out = NULL;
  test_run_free(&r);
  return test_split_lines(*text, lines);
}

/* A number of a JSON object by key path (objects only). */
static double jnum(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", key);
  return v->valuedouble;
}

/* The drift gauges after the clients' requests: each feature's mean over
 * the rows they sent, as the run's cleaning made them model features,
 * minus the training mean reference.json records, in its standard
 * deviations. The rows are iris's, so the shifts are small; and the
 * training statistics are those of standardized columns (mean 0, standard
 * deviation 1 over the rows the scaling was fitted on). */
static void check_drift(const Fixture *fx, const char *run, const char *metrics) {
  int64_t *sent = calloc((size_t)fx->nrows, sizeof *sent), total = 0;
  for (int c = 0; c < CLIENTS; c++)
    for (int i = 0; i < REQUESTS / CLIENTS; i++)
      for (int r = 0, k = (c * 7919 + i * 31) % fx->nrows; r < (i % 100 == 0 ? 10 : 1); r++)
        sent[(k + r) % fx->nrows]++, total++;
  char *cpath = test_path(run, "cleaning.json"), *rpath = test_path(run, "reference.json");
  char *ctext = test_read_file(cpath, NULL), *rtext = test_read_file(rpath, NULL);
  cJSON *clean = cJSON_Parse(ctext), *ref = cJSON_Parse(rtext);
  ck_assert(clean && ref);
  const cJSON *feat = cJSON_GetObjectItemCaseSensitive(ref, "features");
  const cJSON *mean = cJSON_GetObjectItemCaseSensitive(feat, "mean");
  const cJSON *sd = cJSON_GetObjectItemCaseSensitive(feat, "std");
  ck_assert_msg(cJSON_GetArraySize(mean) == 4 && cJSON_GetArraySize(sd) == 4, "%s", rtext);
  const char *names[4] = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
  const cJSON *chain = cJSON_GetObjectItemCaseSensitive(clean, "cleaning");
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(chain, "steps");
  char line[256];
  snprintf(line, sizeof line, "\nmlp_feature_rows_total %lld\n", (long long)total);
  ck_assert_msg(strstr(metrics, line), "metrics:\n%s", metrics);
  for (int k = 0; k < 4; k++) {
    double m = cJSON_GetArrayItem(mean, k)->valuedouble, s = cJSON_GetArrayItem(sd, k)->valuedouble;
    ck_assert_msg(fabs(m) < 1e-5 && fabs(s - 1) < 0.02, "%s: training mean %g, deviation %g", names[k], m, s);
    /* the clients' rows through the clip and the scaling, as the predictor computes them */
    float lo = -INFINITY, hi = INFINITY, center = 0, inv = 1;
    const cJSON *st, *col;
    cJSON_ArrayForEach(st, steps) {
      cJSON_ArrayForEach(col, cJSON_GetObjectItemCaseSensitive(st, "columns")) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(col, "column")->valuestring, names[k]) != 0) continue;
        if (cJSON_GetObjectItemCaseSensitive(col, "lower"))
          lo = (float)jnum(col, "lower"), hi = (float)jnum(col, "upper");
        if (cJSON_GetObjectItemCaseSensitive(col, "center"))
          center = (float)jnum(col, "center"), inv = (float)(1.0 / jnum(col, "scale"));
      }
    }
    double sum = 0;
    for (int i = 0; i < fx->nrows; i++) {
      char *fl[4];
      ck_assert_int_eq(test_csv_fields(fx->csv_row[i], fl, 4), 4);
      float v = strtof(fl[k], NULL);
      v = v < lo ? lo : v > hi ? hi : v;
      sum += (double)sent[i] * (double)((v - center) * inv);
      test_fields_free(fl, 4);
    }
    double want = (sum / (double)total - m) / s;
    snprintf(line, sizeof line, "mlp_feature_mean_shift{feature=\"%s\"} ", names[k]);
    const char *got = strstr(metrics, line);
    ck_assert_msg(got, "no shift of %s:\n%s", names[k], metrics);
    double shift = strtod(got + strlen(line), NULL);
    ck_assert_msg(fabs(shift - want) < 1e-4 && fabs(shift) < 0.5, "%s: shift %g, expected %g", names[k],
                  shift, want);
  }
  cJSON_Delete(clean);
  cJSON_Delete(ref);
  free(ctext), free(rtext), free(cpath), free(rpath), free(sent);
}

START_TEST(serve_1_many_requests) {
  char *dir = test_tmpdir(), *run = test_train("examples/iris.mlp", dir, "iris");
  char *pred = test_path(dir, "iris_predict");
  const char *exp[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  test_run_ok(exp);
  /* Serving needs no link to the HTTP library: it is loaded when asked for. */
  const char *rd[] = {"readelf", "-d", pred, NULL};
  TestRun e = test_run(rd, NULL);
  if (e.status == 0)
    ck_assert_msg(!strstr(e.out, "microhttpd"), "the predictor links libmicrohttpd:\n%s", e.out);
  test_run_free(&e);

  /* The rows: iris's measurements, as CSV and as JSON lines. */
  char *csv_text = test_read_file("examples/data/iris.csv", NULL), **lines;
  ck_assert_ptr_nonnull(csv_text);
  int n = test_split_lines(csv_text, &lines) - 1;
  Fixture fx = {.nrows = n};
  fx.csv_row = calloc((size_t)n, sizeof *fx.csv_row);
  fx.jsonl_row = calloc((size_t)n, sizeof *fx.jsonl_row);
  char *csv_in = test_path(dir, "rows.csv"), *jsonl_in = test_path(dir, "rows.jsonl");
  FILE *cf = fopen(csv_in, "w"), *jf = fopen(jsonl_in, "w");
  fx.csv_header = strdup("sepal_length,sepal_width,petal_length,petal_width");
  fprintf(cf, "%s\n", fx.csv_header);
  for (int i = 0; i < n; i++) {
    char *fl[8];
    int nf = test_csv_fields(lines[i + 1], fl, 8);
    ck_assert_int_eq(nf, 5);
    char row[256], js[256];
    snprintf(row, sizeof row, "%s,%s,%s,%s", fl[0], fl[1], fl[2], fl[3]);
    snprintf(js, sizeof js, "{\"sepal_length\":%s,\"sepal_width\":%s,\"petal_length\":%s,\"petal_width\":%s}",
             fl[0], fl[1], fl[2], fl[3]);
    fx.csv_row[i] = strdup(row);
    fx.jsonl_row[i] = strdup(js);
    fprintf(cf, "%s\n", row);
    fprintf(jf, "%s\n", js);
    test_fields_free(fl, nf);
  }
  fclose(cf);
  fclose(jf);
  char **ca, **ja, *ct, *jt;
  ck_assert_int_eq(answers(pred, csv_in, "csv", &ca, &ct), n + 1);
  ck_assert_int_eq(answers(pred, jsonl_in, "jsonl", &ja, &jt), n);
  fx.answer_header = ca[0];
  fx.csv_answer = ca + 1;
  fx.jsonl_answer = ja;

  /* The server. */
  fx.port = free_port();
  char addr[32], maxreq[32];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", fx.port);
  snprintf(maxreq, sizeof maxreq, "%d", MAX_REQUEST);
  char *errpath = test_path(dir, "serve.err");
  int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const char *argv[] = {pred, "--serve", addr, "--max-request", maxreq, NULL};
  pid_t pid = test_spawn(argv, NULL, errfd, errfd);
  close(errfd);
  int fd = -1;
  for (int i = 0; i < 500 && (fd = dial(fx.port)) < 0; i++) usleep(20000);
  if (fd < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char *err = test_read_file(errpath, NULL);
    if (err && strstr(err, "needs libmicrohttpd")) {
      test_skip("predictor --serve", "libmicrohttpd12", err);
      free(err);
      return;
    }
    ck_abort_msg("the server did not come up: %s", err ? err : "");
  }
  close(fd);

  /* 10,000 requests from four clients. */
  Client cl[CLIENTS];
  pthread_t th[CLIENTS];
  double t0 = mono();
  for (int i = 0; i < CLIENTS; i++) {
    cl[i] = (Client){&fx, i, REQUESTS / CLIENTS, calloc(REQUESTS / CLIENTS, sizeof(double)), 0, ""};
    pthread_create(&th[i], NULL, client, &cl[i]);
  }
  for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
  double secs = mono() - t0;
  double *lat = malloc(REQUESTS * sizeof *lat);
  int bad = 0;
  for (int i = 0; i < CLIENTS; i++) {
    memcpy(lat + i * (REQUESTS / CLIENTS), cl[i].lat, (REQUESTS / CLIENTS) * sizeof *lat);
    ck_assert_msg(cl[i].mismatches == 0, "%d answers differ from the command line's; the first: %s",
                  cl[i].mismatches, cl[i].first_bad);
    bad += cl[i].mismatches;
    free(cl[i].lat);
  }
  qsort(lat, REQUESTS, sizeof *lat, cmp_double);
  fprintf(stderr,
          "serve: %d requests from %d clients in %.2f s: %.0f requests/s, latency p50 %.3f ms, p99 %.3f ms\n",
          REQUESTS, CLIENTS, secs, REQUESTS / secs, 1e3 * lat[REQUESTS / 2], 1e3 * lat[REQUESTS * 99 / 100]);
  free(lat);
  ck_assert_int_eq(bad, 0);

  /* The other paths. */
  char *out;
  fd = -1;
  ck_assert_int_eq(exchange(fx.port, &fd, "GET", "/health", "text/plain", "", 0, &out), 200);
  ck_assert_str_eq(out, "ok\n");
  free(out);
  const char *ver[] = {pred, "--version", NULL};
  TestRun v = test_run(ver, NULL);
  ck_assert_int_eq(exchange(fx.port, &fd, "GET", "/version", "text/plain", "", 0, &out), 200);
  ck_assert_str_eq(out, v.out);
  free(out);
  test_run_free(&v);
  ck_assert_int_eq(exchange(fx.port, &fd, "GET", "/card", "text/plain", "", 0, &out), 200);
  ck_assert_msg(strlen(out) > 20, "card: %s", out);
  free(out);
  ck_assert_int_eq(exchange(fx.port, &fd, "GET", "/nowhere", "text/plain", "", 0, &out), 404);
  free(out);
  size_t big_n = MAX_REQUEST + 4096;
  char *big = malloc(big_n);
  memset(big, '1', big_n);
  ck_assert_int_eq(exchange(fx.port, &fd, "POST", "/predict", "text/csv", big, big_n, &out), 413);
  free(out);
  free(big);
  /* A header the model cannot read: 400 with the reason. */
  const char *dup = "a,a\n1,2\n";
  ck_assert_int_eq(exchange(fx.port, &fd, "POST", "/predict", "text/csv", dup, strlen(dup), &out), 400);
  ck_assert_msg(strstr(out, "duplicate column"), "%s", out);
  free(out);
  ck_assert_int_eq(exchange(fx.port, &fd, "GET", "/metrics", "text/plain", "", 0, &out), 200);
  long long count = -1, answered = -1;
  const char *m = strstr(out, "\nmlp_predict_latency_seconds_count ");
  if (m) count = atoll(m + 35);
  m = strstr(out, "\nmlp_predict_requests_total ");
  if (m) answered = atoll(m + 28);
  ck_assert_msg(count == REQUESTS && answered == REQUESTS, "metrics:\n%s", out);
  ck_assert_msg(strstr(out, "mlp_requests_refused_total{reason=\"too_large\"} 1\n") &&
                    strstr(out, "mlp_requests_refused_total{reason=\"bad_input\"} 1\n") &&
                    strstr(out, "mlp_failsafe_actions_total{policy=\"fallback\"} 0\n") &&
                    strstr(out, "mlp_predict_latency_seconds_bucket{le=\"+Inf\"} 10000\n"),
                "metrics:\n%s", out);
  check_drift(&fx, run, out);
  free(out);
  if (fd >= 0) close(fd);

  /* SIGTERM: a clean exit and its summary. */
  ck_assert_int_eq(kill(pid, SIGTERM), 0);
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  char *err = test_read_file(errpath, NULL);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d:\n%s", st, err);
  ck_assert_msg(strstr(err, "serving iris") && strstr(err, "stopped by SIGTERM"), "%s", err);
  free(err);
  free(errpath);
  free(ct);
  free(jt);
  free(ca);
  free(ja);
  for (int i = 0; i < n; i++) free(fx.csv_row[i]), free(fx.jsonl_row[i]);
  free(fx.csv_row);
  free(fx.jsonl_row);
  free(fx.csv_header);
  free(lines);
  free(csv_text);
  free(csv_in);
  free(jsonl_in);
  free(pred);
  free(run);
  free(dir);
}
END_TEST

START_TEST(serve_2_bad_address) {
  char *dir = test_tmpdir(), *run = test_train("examples/iris.mlp", dir, "iris");
  char *pred = test_path(dir, "iris_predict");
  const char *exp[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  test_run_ok(exp);
  const char *argv[] = {pred, "--serve", "nowhere:99999", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "ADDR:PORT"), "%s", r.err);
  test_run_free(&r);
  free(pred);
  free(run);
  free(dir);
}
END_TEST

Suite *serve_suite(void); /* the runner finds it by name */
Suite *serve_suite(void) {
  Suite *s = suite_create("serve");
  TCase *tc = tcase_create("serve");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, serve_1_many_requests);
  tcase_add_test(tc, serve_2_bad_address);
  suite_add_tcase(s, tc);
  return s;
}
