/* serve.c — the predictor over HTTP (--serve ADDR:PORT).
 *
 * Consumes requests: POST /predict with CSV (a header line, then rows) or
 * JSON lines (Content-Type application/x-ndjson, application/jsonl or
 * application/json), one or many rows; GET /health, /version, /card and
 * /metrics (Prometheus text: requests, refusals, failsafe actions, latency
 * and each feature's mean shift against training). Produces what the command line answers for
 * the same rows, in the same format. Bodies past max_request bytes are
 * refused (413) unread. Loopback unless ADDR says otherwise.
 *
 * libmicrohttpd is loaded when serving starts (dlopen), so a predictor that
 * only answers files and pipes needs nothing more than before at run time.
 * One polling thread answers every request in turn: the predictor's
 * buffers are never shared. SIGTERM or SIGINT stops accepting, lets the
 * request in hand finish, and exits 0 with a summary on stderr. */
#include <arpa/inet.h>
#include <math.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "predict_int.h"

#if __has_include(<microhttpd.h>)
#include <microhttpd.h>

#define DEFAULT_MAX_REQUEST ((size_t)16 << 20)

/* The library's entry points this file calls. */
static struct {
  __typeof__(MHD_start_daemon) *start_daemon;
  __typeof__(MHD_stop_daemon) *stop_daemon;
  __typeof__(MHD_quiesce_daemon) *quiesce_daemon;
  __typeof__(MHD_create_response_from_buffer) *create_response;
  __typeof__(MHD_add_response_header) *add_header;
  __typeof__(MHD_queue_response) *queue_response;
  __typeof__(MHD_destroy_response) *destroy_response;
  __typeof__(MHD_lookup_connection_value) *lookup_value;
} mhd;

static int load_library(char *err, size_t n) {
  void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(err, n, "--serve needs libmicrohttpd (Debian: libmicrohttpd12): %s", dlerror());
    return -1;
  }
  struct {
    void **slot;
    const char *name;
  } syms[] = {{(void **)&mhd.start_daemon, "MHD_start_daemon"},
              {(void **)&mhd.stop_daemon, "MHD_stop_daemon"},
              {(void **)&mhd.quiesce_daemon, "MHD_quiesce_daemon"},
              {(void **)&mhd.create_response, "MHD_create_response_from_buffer"},
              {(void **)&mhd.add_header, "MHD_add_response_header"},
              {(void **)&mhd.queue_response, "MHD_queue_response"},
              {(void **)&mhd.destroy_response, "MHD_destroy_response"},
              {(void **)&mhd.lookup_value, "MHD_lookup_connection_value"}};
  for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
    *syms[i].slot = dlsym(h, syms[i].name);
    if (!*syms[i].slot) {
      snprintf(err, n, "libmicrohttpd lacks %s", syms[i].name);
      return -1;
    }
  }
  return 0;
}

/* Request latency buckets, seconds (Prometheus "le"). */
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define NBUCKETS (sizeof buckets / sizeof *buckets)

typedef struct {
  const MlprtPredictor *p;
  size_t max_request;
  /* /metrics */
  int64_t requests, predict_requests, rows, rejected_rows, fallbacks, imputed, clipped;
  int64_t refused_large, refused_bad, not_found;
  int64_t hist[NBUCKETS + 1];
  double latency_sum;
  /* drift: the features of the rows the model answered, summed; a
   * request's own sums, added when it is answered */
  int64_t answered;
  double *feature_sum, *request_sum;
} Server;

/* One connection's request in progress. */
typedef struct {
  char *body;
  size_t len, cap;
  bool too_large;
  double t0;
} Request;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *text,
                             size_t len) {
  struct MHD_Response *r = mhd.create_response(len, text, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  mhd.add_header(r, "Content-Type", type);
  enum MHD_Result ok = mhd.queue_response(c, code, r);
  mhd.destroy_response(r);
  return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text) {
  return reply(c, code, "text/plain; charset=utf-8", (char *)text, strlen(text));
}

/* Text written to a memory stream by fill(f, ctx), then sent. */
static enum MHD_Result reply_stream(struct MHD_Connection *c, unsigned code, const char *type,
                                    void (*fill)(FILE *, const void *), const void *ctx) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return reply_text(c, 500, "out of memory\n");
  fill(f, ctx);
  fclose(f);
  enum MHD_Result ok = reply(c, code, type, text, len);
  free(text);
  return ok;
}

static void put_version(FILE *f, const void *ctx) {
  const MlprtPredictor *p = ctx;
  fprintf(f, "%s %s\nspec sha256 %s\ndata sha256 %s\nweights sha256 %s\ncompiler %s\n", p->name,
          p->version ? p->version : "", p->spec_sha256 ? p->spec_sha256 : "",
          p->data_sha256 ? p->data_sha256 : "", p->weights_sha256 ? p->weights_sha256 : "",
          p->compiler ? p->compiler : "");
}

static void put_metrics(FILE *f, const void *ctx) {
  const Server *s = ctx;
  fprintf(f,
          "# HELP mlp_requests_total HTTP requests received.\n# TYPE mlp_requests_total counter\n"
          "mlp_requests_total %lld\n"
          "# HELP mlp_predict_requests_total POST /predict requests answered.\n"
          "# TYPE mlp_predict_requests_total counter\nmlp_predict_requests_total %lld\n"
          "# HELP mlp_requests_refused_total Requests refused, by reason.\n"
          "# TYPE mlp_requests_refused_total counter\n"
          "mlp_requests_refused_total{reason=\"too_large\"} %lld\n"
          "mlp_requests_refused_total{reason=\"bad_input\"} %lld\n"
          "mlp_requests_refused_total{reason=\"not_found\"} %lld\n"
          "# HELP mlp_rows_total Rows answered.\n# TYPE mlp_rows_total counter\nmlp_rows_total %lld\n"
          "# HELP mlp_rows_rejected_total Rows rejected by a failsafe or as unreadable.\n"
          "# TYPE mlp_rows_rejected_total counter\nmlp_rows_rejected_total %lld\n"
          "# HELP mlp_failsafe_actions_total Answers a failsafe policy changed or gave.\n"
          "# TYPE mlp_failsafe_actions_total counter\n"
          "mlp_failsafe_actions_total{policy=\"impute\"} %lld\n"
          "mlp_failsafe_actions_total{policy=\"clip\"} %lld\n"
          "mlp_failsafe_actions_total{policy=\"fallback\"} %lld\n"
          "# HELP mlp_predict_latency_seconds Time to answer a POST /predict.\n"
          "# TYPE mlp_predict_latency_seconds histogram\n",
          (long long)s->requests, (long long)s->predict_requests, (long long)s->refused_large,
          (long long)s->refused_bad, (long long)s->not_found, (long long)s->rows, (long long)s->rejected_rows,
          (long long)s->imputed, (long long)s->clipped, (long long)s->fallbacks);
  int64_t cum = 0;
  for (size_t i = 0; i < NBUCKETS; i++) {
    cum += s->hist[i];
    fprintf(f, "mlp_predict_latency_seconds_bucket{le=\"%g\"} %lld\n", buckets[i], (long long)cum);
  }
  cum += s->hist[NBUCKETS];
  fprintf(f, "mlp_predict_latency_seconds_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
  fprintf(f, "mlp_predict_latency_seconds_sum %.9g\nmlp_predict_latency_seconds_count %lld\n", s->latency_sum,
          (long long)cum);
  const MlprtPredictor *p = s->p;
  if (!p->feature_mean || !p->feature_std) return; /* a run from before the statistics were kept */
  fprintf(f, "# HELP mlp_feature_rows_total Rows the model answered, whose features the drift gauges "
          "average.\n"
          "# TYPE mlp_feature_rows_total counter\nmlp_feature_rows_total %lld\n"
          "# HELP mlp_feature_mean_shift Each model feature's mean over the rows answered minus its training "
          "mean, in training standard deviations.\n# TYPE mlp_feature_mean_shift gauge\n",
          (long long)s->answered);
  for (int64_t k = 0; k < p->n_in; k++) {
    char name[256];
    mlprt_pred_feature_name(p, k, name, sizeof name);
    double mean = s->answered ? s->feature_sum[k] / (double)s->answered : NAN;
    double d = mean - p->feature_mean[k], sd = p->feature_std[k];
    /* a constant training feature: any move is infinitely many deviations */
    double shift = sd > 0 ? d / sd : d == 0 ? 0 : d > 0 ? INFINITY : d < 0 ? -INFINITY : NAN;
    fputs("mlp_feature_mean_shift{feature=\"", f);
    for (const char *c = name; *c; c++) { /* the label escapes of the text format */
      if (*c == '\\' || *c == '"') fputc('\\', f);
      if (*c == '\n') fputs("\\n", f);
      else fputc(*c, f);
    }
    char num[32];
    if (isnan(shift)) snprintf(num, sizeof num, "NaN");
    else if (isinf(shift)) snprintf(num, sizeof num, "%sInf", shift > 0 ? "+" : "-");
    else snprintf(num, sizeof num, "%.9g", shift);
    fprintf(f, "\"} %s\n", num);
  }
}

static bool is_jsonl(const char *type) {
  if (!type) return false;
  return strncasecmp(type, "application/x-ndjson", 20) == 0 ||
         strncasecmp(type, "application/jsonl", 17) == 0 || strncasecmp(type, "application/json", 16) == 0;
}

static enum MHD_Result predict(Server *s, struct MHD_Connection *c, Request *q) {
  const char *type = mhd.lookup_value(c, MHD_HEADER_KIND, "Content-Type");
  bool jsonl = is_jsonl(type);
  char *out = NULL, *msg = NULL;
  size_t olen = 0, mlen = 0;
  FILE *of = open_memstream(&out, &olen), *mf = open_memstream(&msg, &mlen);
  if (!of || !mf) {
    if (of) fclose(of);
    if (mf) fclose(mf);
    return reply_text(c, 500, "out of memory\n");
  }
  MlprtPredTally t = {.feature_sum = s->request_sum};
  if (s->request_sum) memset(s->request_sum, 0, (size_t)s->p->n_in * sizeof *s->request_sum);
  int rc = mlprt_pred_answer_text(s->p, q->body ? q->body : "", q->len, jsonl, of, mf, &t);
  fclose(of);
  fclose(mf);
  enum MHD_Result ok;
  if (rc == 2) {
    s->refused_bad++;
    ok = reply(c, 400, "text/plain; charset=utf-8", msg, mlen);
  } else {
    s->predict_requests++;
    s->rows += t.rows;
    s->rejected_rows += t.rejected;
    s->fallbacks += t.fallbacks;
    s->imputed += t.imputed;
    s->clipped += t.clipped;
    s->answered += t.answered;
    for (int64_t k = 0; s->request_sum && k < s->p->n_in; k++) s->feature_sum[k] += s->request_sum[k];
    ok = reply(c, 200, jsonl ? "application/x-ndjson" : "text/csv; charset=utf-8", out, olen);
    double el = mlprt_pred_now() - q->t0;
    size_t b = 0;
    while (b < NBUCKETS && el > buckets[b]) b++;
    s->hist[b]++;
    s->latency_sum += el;
  }
  free(out);
  free(msg);
  return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **state) {
  Server *s = cls;
  bool post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  if (!*state) { /* the headers: the body, if any, follows */
    Request *q = calloc(1, sizeof *q);
    if (!q) return MHD_NO;
    q->t0 = mlprt_pred_now();
    *state = q;
    s->requests++;
    return MHD_YES;
  }
  Request *q = *state;
  if (*size) {
    if (q->len + *size > s->max_request) q->too_large = true;
    if (!q->too_large) {
      if (q->len + *size + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < q->len + *size + 1) cap *= 2;
        char *b = realloc(q->body, cap);
        if (!b) return MHD_NO;
        q->body = b, q->cap = cap;
      }
      memcpy(q->body + q->len, data, *size);
      q->len += *size;
    }
    *size = 0;
    return MHD_YES;
  }
  if (strcmp(url, "/predict") == 0) {
    if (!post) return reply_text(c, 405, "POST rows to /predict\n");
    if (q->too_large) {
      s->refused_large++;
      char text[128];
      snprintf(text, sizeof text, "the request is larger than %zu bytes\n", s->max_request);
      return reply_text(c, 413, text);
    }
    return predict(s, c, q);
  }
  if (!get) return reply_text(c, 405, "only GET here\n");
  if (strcmp(url, "/health") == 0) return reply_text(c, 200, "ok\n");
  if (strcmp(url, "/version") == 0)
    return reply_stream(c, 200, "text/plain; charset=utf-8", put_version, s->p);
  if (strcmp(url, "/card") == 0)
    return reply_text(c, 200, s->p->card ? s->p->card : "This predictor was built without a model card.\n");
  if (strcmp(url, "/metrics") == 0)
    return reply_stream(c, 200, "text/plain; version=0.0.4; charset=utf-8", put_metrics, s);
  s->not_found++;
  return reply_text(c, 404, "not found: POST /predict; GET /health, /version, /card, /metrics\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why) {
  Request *q = *state;
  if (!q) return;
  free(q->body);
  free(q);
  *state = NULL;
}

/* "ADDR:PORT", ":PORT" or "PORT" (loopback) into sa. */
static int parse_addr(const char *spec, struct sockaddr_in *sa, char *err, size_t n) {
  const char *colon = strrchr(spec, ':');
  const char *port = colon ? colon + 1 : spec;
  char host[64] = "127.0.0.1";
  if (colon && colon > spec) {
    if ((size_t)(colon - spec) >= sizeof host) goto bad;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
  }
  if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  char *end;
  long v = strtol(port, &end, 10);
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)v);
  if (end == port || *end || v <= 0 || v > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1) goto bad;
  return 0;
bad:
  snprintf(err, n, "--serve takes ADDR:PORT with an IPv4 address (default 127.0.0.1), not '%s'", spec);
  return -1;
}

int mlprt_pred_serve(const MlprtPredictor *p, const char *addr, size_t max_request, const char *prog) {
  char err[512];
  struct sockaddr_in sa;
  if (parse_addr(addr, &sa, err, sizeof err) != 0 || load_library(err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", prog, err);
    return 2;
  }
  Server s = {.p = p, .max_request = max_request ? max_request : DEFAULT_MAX_REQUEST};
  if (p->feature_mean && p->feature_std) {
    s.feature_sum = mlprt_xcalloc((size_t)p->n_in, sizeof *s.feature_sum);
    s.request_sum = mlprt_xcalloc((size_t)p->n_in, sizeof *s.request_sum);
  }
  /* The signals wait for sigwait here; the server's thread inherits the mask. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  struct MHD_Daemon *d = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO,
                                          ntohs(sa.sin_port), NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR,
                                          (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
                                          NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
  if (!d) {
    fprintf(stderr, "%s: cannot serve on %s:%u: %s\n", prog, host, ntohs(sa.sin_port),
            errno ? strerror(errno) : "the HTTP server did not start");
    free(s.feature_sum);
    free(s.request_sum);
    return 2;
  }
  fprintf(stderr, "%s: serving %s %s on http://%s:%u (POST /predict; SIGTERM stops)\n", prog, p->name,
          p->version ? p->version : "", host, ntohs(sa.sin_port));
  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  mhd.quiesce_daemon(d); /* no new connections; the request in hand finishes */
  mhd.stop_daemon(d);
  fprintf(stderr,
          "%s: stopped by %s after %lld requests: %lld rows answered, %lld rejected; changed by a failsafe: "
          "%lld imputed, %lld clipped, %lld fallback\n",
          prog, sig == SIGTERM ? "SIGTERM" : "SIGINT", (long long)s.requests, (long long)s.rows,
          (long long)s.rejected_rows, (long long)s.imputed, (long long)s.clipped, (long long)s.fallbacks);
  free(s.feature_sum);
  free(s.request_sum);
  return 0;
}

#else /* built without libmicrohttpd's header (a cross-compiled runtime) */

int mlprt_pred_serve(const MlprtPredictor *p, const char *addr, size_t max_request, const char *prog) {
  fprintf(stderr, "%s: --serve is not available in this build (no libmicrohttpd)\n", prog);
  return 2;
}

#endif
