/* main.c — the generated predictor's program (mlprt_predict_main).
 *
 * Consumes the command line, the compiled-in MlprtPredictor and raw rows:
 * CSV (RFC 4180: quoted fields, doubled quotes, CRLF, a UTF-8 BOM; a
 * header names the columns, in any order) or JSON lines (one object per
 * line); produces one answer per input row, in input order, as CSV or JSON
 * lines on stdout. Every input record gets exactly one answer line: a
 * record the framing rejects (a quote that does not close where it may, a
 * NUL byte, a line past the record limit) is answered with its reason and
 * reading resumes at the line after the one it began on. Rows are read in
 * batches of up to p->batch: each row's features go through row.c as it
 * is read, then one forward call answers the batch's accepted rows.
 * Buffers are sized once at start; a record longer than any before grows
 * the record buffer, nothing else allocates per row. Before any row, the
 * compiled-in weights are checked against their recorded SHA-256, so a
 * tampered binary refuses to answer. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mlp/fpenv.h"
#include "mlp/run.h"
#include "mlp/sign.h"
#include "predict_int.h"

#define REASON_W 256
#define IDENT_W 320
#define LARGE_BATCH 1024 /* rows from which a forward pass may use several threads */

/* OpenBLAS's, where the predictor links it (a cross-compiled one does not). */
extern void openblas_set_num_threads(int n) __attribute__((weak));

/* ---- reading records ---- */

/* A quoted field may hold line breaks, up to this many bytes after its
 * first one, and only in a column the model reads as a category or text
 * (or does not read): past that the quote is taken to be a stray one, the
 * record is rejected and reading starts again at the line after it. */
#define MAX_SPAN ((size_t)64 << 10)

typedef struct {
  FILE *f;          /* read through its descriptor: a pipe gives what it has, not a full buffer;
                     * NULL: the input is what back holds */
  int read_errno;   /* the error that ended reading, 0 at the end of the input */
  /* A stream (pipe, terminal, socket): before the reader waits for more
   * input, idle(idle_ctx) answers the rows read so far. */
  bool stream;
  void (*idle)(void *ctx);
  void *idle_ctx;
  char buf[1 << 16];
  size_t pos, end;
  char *back;     /* bytes read again before the file's (a rejected record's later lines) */
  size_t bpos, blen, bcap;
  char *span;     /* the raw bytes after a quoted field's first line break */
  size_t slen, scap;
  char *rec;      /* the record's fields, each NUL-terminated */
  size_t cap;
  size_t *off;    /* [nf] each field's offset in rec */
  int nf, cap_f;
  int64_t line;   /* physical lines read */
  int64_t start;  /* the physical line the last record started on */
  bool first;     /* no record read yet: a BOM may lead */
  const bool *may_span; /* [ncols] file column j may hold line breaks; before the header: all may */
  char **names;   /* [ncols] the header's column names, or NULL */
  int ncols;
  char why[REASON_W]; /* why the last record is rejected, "" when it is not */
} Reader;

static int next_char(Reader *r) {
  if (r->bpos < r->blen) return (unsigned char)r->back[r->bpos++];
  if (!r->f) return EOF; /* a request's body: all of it in back */
  if (r->pos == r->end) {
    int fd = fileno(r->f);
    struct pollfd pf = {fd, POLLIN, 0};
    if (r->stream && r->idle && poll(&pf, 1, 0) == 0) r->idle(r->idle_ctx);
    ssize_t n;
    do n = read(fd, r->buf, sizeof r->buf);
    while (n < 0 && errno == EINTR);
    r->pos = 0;
    r->end = n > 0 ? (size_t)n : 0;
    if (n < 0) r->read_errno = errno;
    if (n <= 0) return EOF;
  }
  return (unsigned char)r->buf[r->pos++];
}

static void grow(char **p, size_t *cap, size_t need) {
  if (need <= *cap) return;
  while (*cap < need) *cap = *cap ? 2 * *cap : 4096;
  *p = mlprt_xrealloc(*p, *cap);
}

static void put_byte(Reader *r, size_t *len, char c) {
  grow(&r->rec, &r->cap, *len + 2);
  r->rec[(*len)++] = c;
}

static void add_field(Reader *r, size_t start) {
  if (r->nf == r->cap_f) {
    r->cap_f = r->cap_f ? 2 * r->cap_f : 64;
    r->off = mlprt_xrealloc(r->off, (size_t)r->cap_f * sizeof *r->off);
  }
  r->off[r->nf++] = start;
}

static void end_field(Reader *r, size_t *len, size_t *start) {
  put_byte(r, len, 0);
  add_field(r, *start);
  *start = *len;
}

static const char *field(const Reader *r, int i) {
  return r->rec + r->off[i];
}

/* The first reason a record is rejected stands. */
static void reject(Reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(Reader *r, const char *fmt, ...) {
  if (r->why[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->why, sizeof r->why, fmt, ap);
  va_end(ap);
}

/* "column 'NAME'" of file column j, or "field J" without a header. */
static const char *where(const Reader *r, int j, char *buf, size_t n) {
  if (r->names && j < r->ncols) snprintf(buf, n, "column '%.60s'", r->names[j]);
  else snprintf(buf, n, "field %d", j + 1);
  return buf;
}

/* Read again, before whatever was still to be read, the bytes of a
 * rejected record after its first line break. */
static void replay_span(Reader *r) {
  if (!r->slen) return;
  size_t rest = r->blen - r->bpos;
  char *b = mlprt_xmalloc(r->slen + rest + 1);
  memcpy(b, r->span, r->slen);
  if (rest) memcpy(b + r->slen, r->back + r->bpos, rest);
  for (size_t i = 0; i < r->slen; i++) r->line -= r->span[i] == '\n';
  free(r->back);
  r->back = b;
  r->bpos = 0;
  r->blen = r->bcap = r->slen + rest;
  r->slen = 0;
}

/* Skip the rest of a line that is too long to keep. */
static void skip_line(Reader *r) {
  int c;
  while ((c = next_char(r)) != EOF && c != '\n') {
  }
  r->line += c == '\n';
}

/* A record that lies whole in the read buffer on one non-blank line
 * without quotes, NUL bytes or carriage returns but the one of a CRLF
 * (nearly every record of a numeric file): its fields cut at the commas in
 * one pass, as csv_record would cut them. 1, or 0 (nothing consumed) when
 * the record needs csv_record's byte-by-byte reading. */
static int plain_record(Reader *r) {
  if (r->first || r->bpos < r->blen || r->pos == r->end) return 0;
  const char *s = r->buf + r->pos, *nl = memchr(s, '\n', r->end - r->pos);
  if (!nl) return 0;
  size_t line = (size_t)(nl - s) + 1, n = line - 1 - (nl > s && nl[-1] == '\r');
  if (n == 0 || n > MLPRT_MAX_RECORD_DEFAULT) return 0;
  grow(&r->rec, &r->cap, n + 1);
  r->nf = 0;
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '"' || c == '\r' || c == 0) return 0;
    if (c == ',') {
      add_field(r, start);
      start = i + 1;
      c = 0;
    }
    r->rec[i] = c;
  }
  add_field(r, start);
  r->rec[n] = 0;
  r->pos += line;
  r->start = ++r->line;
  r->why[0] = 0;
  r->slen = 0;
  return 1;
}

/* One CSV record: 1, or 0 at the end of the input. A blank line is no
 * record. A record the framing rejects (a NUL byte, a quote that does not
 * close, too long) still counts, with r->why saying why. */
static int csv_record(Reader *r) {
  if (plain_record(r)) return 1;
  size_t len = 0, start = 0;
  r->nf = 0;
  r->why[0] = 0;
  r->slen = 0;
  int c = next_char(r);
  if (r->first) {
    r->first = false;
    if (c == 0xEF && next_char(r) == 0xBB && next_char(r) == 0xBF) c = next_char(r);
  }
  while (c == '\n' || c == '\r') { /* blank lines */
    if (c == '\n') r->line++;
    c = next_char(r);
  }
  if (c == EOF) return 0;
  r->start = r->line + 1;
  bool quoted = false, was_quoted = false, spanning = false;
  int64_t qline = r->start; /* the line the open quote is on */
  for (;; c = next_char(r)) {
    if (len > MLPRT_MAX_RECORD_DEFAULT) {
      reject(r, "the record from line %lld is longer than %zu bytes", (long long)r->start,
             MLPRT_MAX_RECORD_DEFAULT);
      if (c != '\n') skip_line(r);
      else r->line++;
      end_field(r, &len, &start);
      return 1;
    }
    char at[80];
    if (c == 0) reject(r, "%s holds a NUL byte", where(r, r->nf, at, sizeof at));
    if (quoted) {
      if (c != EOF && spanning) {
        grow(&r->span, &r->scap, r->slen + 1);
        r->span[r->slen++] = (char)c;
      }
      if (c == EOF || (spanning && r->slen > MAX_SPAN)) {
        reject(r, "%s: a quote opened on line %lld is not closed %s", where(r, r->nf, at, sizeof at),
               (long long)qline, c == EOF ? "before the end of the input" : "within 64 KiB");
        replay_span(r);
        end_field(r, &len, &start);
        return 1;
      }
      if (c == '"') {
        int d = next_char(r);
        if (d == '"') {
          if (spanning) {
            grow(&r->span, &r->scap, r->slen + 1);
            r->span[r->slen++] = '"';
          }
          put_byte(r, &len, '"');
          continue;
        }
        quoted = spanning = false;
        c = d; /* the character after the closing quote, handled below */
      } else {
        if (c == '\n') {
          r->line++;
          if (r->may_span && r->nf < r->ncols && !r->may_span[r->nf]) {
            reject(r, "%s: a quote opened on line %lld is not closed on that line (the column is not text)",
                   where(r, r->nf, at, sizeof at), (long long)qline);
            end_field(r, &len, &start);
            return 1;
          }
          spanning = true;
        }
        put_byte(r, &len, (char)c);
        continue;
      }
    }
    if (c == '"' && len == start && !was_quoted) {
      quoted = was_quoted = true;
      qline = r->line + 1;
      r->slen = 0; /* what an earlier field's line breaks kept is of no use now */
    } else if (c == ',') {
      end_field(r, &len, &start);
      was_quoted = false;
    } else if (c == '\n' || c == EOF) {
      if (!was_quoted && len > start && r->rec[len - 1] == '\r') len--;
      end_field(r, &len, &start);
      r->line += c == '\n';
      return 1;
    } else if (c == '\r' && was_quoted) {
      continue; /* CRLF after a closing quote */
    } else {
      put_byte(r, &len, (char)c);
    }
  }
}

/* One JSON line read into r->rec: 1, 0 at the end of the input; blank
 * lines are skipped. A line with a NUL byte or too long to keep still
 * counts, with r->why saying why. */
static int read_line(Reader *r) {
  size_t len = 0;
  int c;
  r->why[0] = 0;
  for (;;) {
    len = 0;
    while ((c = next_char(r)) != EOF && c != '\n') {
      if (len > MLPRT_MAX_RECORD_DEFAULT) {
        reject(r, "line %lld is longer than %zu bytes", (long long)r->line + 1, MLPRT_MAX_RECORD_DEFAULT);
        skip_line(r);
        r->rec[0] = 0;
        return 1;
      }
      if (c == 0) reject(r, "line %lld holds a NUL byte", (long long)r->line + 1);
      put_byte(r, &len, (char)c);
    }
    put_byte(r, &len, 0);
    r->line++;
    if (*mlprt_json_ws(r->rec) || r->why[0] || c == EOF) break;
  }
  return *mlprt_json_ws(r->rec) || r->why[0] ? 1 : 0;
}

/* The object on the line: fields[i] of each input the object names (NULL
 * for the others; null reads as a missing value). NULL, or the reason the
 * line is not an object of plain values. */
static const char *json_object(const MlprtPredPlan *pl, char *s, const char **fields, bool *extra,
                               char *msg) {
  for (int64_t i = 0; i < pl->ninputs; i++) fields[i] = NULL;
  s = (char *)mlprt_json_ws(s);
  if (*s++ != '{') return "the line is not a JSON object";
  s = (char *)mlprt_json_ws(s);
  if (*s == '}') return *mlprt_json_ws(s + 1) ? "text after the JSON object" : NULL;
  for (;;) {
    char *key, *str, c;
    const char *val, *why;
    if (*s != '"') return "a key of the JSON object is not a string";
    if (!(s = mlprt_json_string(s + 1, &key, &why))) return why;
    s = (char *)mlprt_json_ws(s);
    if (*s++ != ':') return "the JSON object lacks a ':'";
    s = (char *)mlprt_json_ws(s);
    if (*s == '"') {
      if (!(s = mlprt_json_string(s + 1, &str, &why))) return why;
      val = str;
      s = (char *)mlprt_json_ws(s);
      c = *s++;
    } else if (*s == '{' || *s == '[') {
      return "a value of the JSON object is an object or an array, not a column value";
    } else {
      /* a number, true, false or null: its text as it stands */
      str = s;
      while (*s && !strchr(",} \t\r", *s)) s++;
      if (s == str) return "a value of the JSON object is empty";
      char *end = s;
      s = (char *)mlprt_json_ws(s);
      c = *s++;
      *end = 0; /* after reading the delimiter, which may sit right there */
      val = strcmp(str, "null") == 0 ? "" : str; /* null: a missing value */
    }
    int64_t k = -1;
    for (int64_t i = 0; i < pl->ninputs && k < 0; i++)
      if (strcmp(pl->inputs[i].name, key) == 0) k = i;
    if (k >= 0 && fields[k]) { /* as training refuses a repeated column */
      snprintf(msg, REASON_W, "column '%.60s' appears twice in the JSON object", key);
      return msg;
    }
    if (k >= 0) fields[k] = val;
    else *extra = true;
    if (c == '}') return *mlprt_json_ws(s) ? "text after the JSON object" : NULL;
    if (c != ',') return "the JSON object lacks a ',' between members";
    s = (char *)mlprt_json_ws(s);
  }
}

/* ---- writing answers ---- */

void mlprt_json_put(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

typedef struct {
  const MlprtPredictor *p;
  FILE *out;
  bool jsonl;
  int64_t nclasses;
  const char *on, *by; /* resample: each answer leads with its grid row's time and key, these inputs' */
} Writer;

/* The failsafe policy that gave or changed an answer: "fallback", or the
 * "impute" / "clip" an answered row's reason begins with; NULL when none. */
static const char *policy_of(int state, const char *reason, char *buf, size_t n) {
  if (state == MLPRT_ROW_FALLBACK) return "fallback";
  const char *colon = state == MLPRT_ROW_OK ? strchr(reason, ':') : NULL;
  if (!colon || (size_t)(colon - reason) >= n) return NULL;
  memcpy(buf, reason, (size_t)(colon - reason));
  buf[colon - reason] = 0;
  return buf;
}

static void write_header(const Writer *w) {
  if (w->jsonl) return;
  for (int k = 0; k < 2; k++)
    if (k ? w->by : w->on) mlprt_csv_put(w->out, k ? w->by : w->on), fputc(',', w->out);
  if (w->p->task == MLPRT_TASK_REGRESSION) {
    fputs("value,error,failsafe\n", w->out);
    return;
  }
  char name[512], col[520];
  fputs("label", w->out);
  for (int64_t k = 0; k < w->nclasses; k++) {
    snprintf(col, sizeof col, "p_%s", mlprt_pred_class(w->p, k, name, sizeof name));
    fputc(',', w->out);
    mlprt_csv_put(w->out, col);
  }
  fputs(",error,failsafe\n", w->out);
}

/* One answer: state MLPRT_ROW_*, the class and probabilities (value), the
 * reason. A fallback answer has no probabilities. */
static void write_answer(const Writer *w, int state, int64_t cls, const double *probs, const char *reason,
                         const char *ident) {
  FILE *f = w->out;
  /* a grid row's time and key, first */
  char part[IDENT_W];
  for (int k = 0; ident && k < 2; k++) {
    const char *tab = strchr(ident, '\t'), *at = k ? tab + 1 : ident;
    if (!(k ? w->by : w->on)) continue;
    snprintf(part, sizeof part, "%.*s", k ? (int)strlen(at) : (int)(tab - ident), at);
    if (w->jsonl) {
      fputs(k ? "" : "{", f);
      mlprt_json_put(f, k ? w->by : w->on);
      fputc(':', f);
      mlprt_json_put(f, part);
      fputc(',', f);
    } else {
      mlprt_csv_put(f, part);
      fputc(',', f);
    }
  }
  bool opened = ident && w->jsonl; /* the object was opened with the time */
  bool reg = w->p->task == MLPRT_TASK_REGRESSION;
  char name[512], pbuf[16];
  const char *policy = policy_of(state, reason, pbuf, sizeof pbuf);
  if (state != MLPRT_ROW_REJECT && !reg) mlprt_pred_class(w->p, cls, name, sizeof name);
  if (w->jsonl) {
    const char *open = opened ? "" : "{";
    if (state == MLPRT_ROW_REJECT) {
      fprintf(f, "%s\"error\":", open);
      mlprt_json_put(f, reason);
    } else if (reg) {
      fprintf(f, "%s\"value\":%.9g", open, state == MLPRT_ROW_FALLBACK ? w->p->fallback_value : probs[0]);
    } else {
      fprintf(f, "%s\"label\":", open);
      mlprt_json_put(f, name);
      for (int64_t k = 0; state == MLPRT_ROW_OK && k < w->nclasses; k++) {
        char cname[512];
        fputs(k ? "," : ",\"probabilities\":{", f);
        mlprt_json_put(f, mlprt_pred_class(w->p, k, cname, sizeof cname));
        fprintf(f, ":%.9g", (float)probs[k]);
      }
      if (state == MLPRT_ROW_OK && w->nclasses) fputc('}', f);
    }
    if (state == MLPRT_ROW_FALLBACK) {
      fputs(",\"fallback\":", f);
      mlprt_json_put(f, reason);
    }
    if (policy) fprintf(f, ",\"failsafe\":\"%s\"", policy);
    fputs("}\n", f);
    return;
  }
  if (reg) {
    if (state != MLPRT_ROW_REJECT)
      fprintf(f, "%.9g", state == MLPRT_ROW_FALLBACK ? w->p->fallback_value : probs[0]);
  } else {
    if (state != MLPRT_ROW_REJECT) mlprt_csv_put(f, name);
    for (int64_t k = 0; k < w->nclasses; k++) {
      fputc(',', f);
      if (state == MLPRT_ROW_OK) fprintf(f, "%.9g", (float)probs[k]);
    }
  }
  fputc(',', f);
  if (state == MLPRT_ROW_REJECT) mlprt_csv_put(f, reason);
  fprintf(f, ",%s\n", policy ? policy : "");
}

/* ---- the program ---- */

typedef struct {
  const char *input, *log, *drift_file;
  const char *serve;  /* --serve ADDR:PORT, or NULL */
  size_t max_request; /* --max-request BYTES: the largest request body served */
  bool jsonl_in, jsonl_out, format_given, output_given, no_header, drift, verbose;
} Opts;

static void usage(FILE *f, const char *prog) {
  fprintf(f,
          "usage: %s [FILE] [options]\n"
          "Answers one prediction per input row (FILE, or standard input), in order, on standard output.\n"
          "  --format csv|jsonl   input format (default: by FILE's extension; standard input: csv)\n"
          "  --output csv|jsonl   output format (default: the input's)\n"
          "  --no-header          CSV input without a header: columns in the training order\n"
          "  --log FILE           append one JSON line per prediction to FILE\n"
          "  --drift [FILE.json]  watch feature and prediction drift (PSI); FILE receives the report\n"
          "  --verbose            progress, every rejected row's reason and a summary on stderr\n"
          "  --serve ADDR:PORT    answer over HTTP (POST /predict; GET /health, /version, /card, /metrics)\n"
          "                       until SIGTERM; ADDR defaults to 127.0.0.1 (needs libmicrohttpd)\n"
          "  --max-request BYTES  the largest request body --serve accepts (default 16 MiB)\n"
          "  --version            name, version, digests and compiler\n"
          "  --verify DIR         check that the registry version DIR is signed (MLPC_VERIFY_KEY) and\n"
          "                       holds this very predictor\n"
          "  --card               the model card\n"
          "  --help               this text\n"
          "Exit status: 0 every row answered, 1 some rows rejected, 2 usage, input or integrity errors.\n",
          prog);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int parse_format(const char *s, bool *jsonl) {
  if (s && strcmp(s, "csv") == 0) *jsonl = false;
  else if (s && strcmp(s, "jsonl") == 0) *jsonl = true;
  else return -1;
  return 0;
}

/* 0, 1 when the program is done (help, version, card), -1 on a usage error. */
static int parse_args(int argc, char **argv, const MlprtPredictor *p, Opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout, argv[0]);
      return 1;
    } else if (strcmp(a, "--version") == 0) {
      printf("%s %s\nspec sha256 %s\ndata sha256 %s\nweights sha256 %s\ncompiler %s\n", p->name,
             p->version ? p->version : "", p->spec_sha256 ? p->spec_sha256 : "",
             p->data_sha256 ? p->data_sha256 : "", p->weights_sha256 ? p->weights_sha256 : "",
             p->compiler ? p->compiler : "");
      return 1;
    } else if (strcmp(a, "--verify") == 0) {
      char file[256], err[PATH_MAX + 512];
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --verify takes a registry version directory\n", argv[0]);
        return -1;
      }
      if (mlprt_predictor_verify(argv[i + 1], file, sizeof file, err, sizeof err) != 0) {
        fprintf(stderr, "%s: not verified: %s\n", argv[0], err);
        return -1;
      }
      printf("%s %s: verified as %s of %s\n", p->name, p->version ? p->version : "", file, argv[i + 1]);
      return 1;
    } else if (strcmp(a, "--card") == 0) {
      fputs(p->card ? p->card : "This predictor was built without a model card.\n", stdout);
      return 1;
    } else if (strcmp(a, "--format") == 0 || strcmp(a, "--output") == 0) {
      bool in = a[2] == 'f';
      if (parse_format(i + 1 < argc ? argv[i + 1] : NULL, in ? &o->jsonl_in : &o->jsonl_out) != 0) {
        fprintf(stderr, "%s: %s takes csv or jsonl\n", argv[0], a);
        return -1;
      }
      *(in ? &o->format_given : &o->output_given) = true;
      i++;
    } else if (strcmp(a, "--log") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --log takes a file\n", argv[0]);
        return -1;
      }
      o->log = argv[++i];
    } else if (strcmp(a, "--drift") == 0 || strncmp(a, "--drift=", 8) == 0) {
      o->drift = true;
      if (a[7] == '=') o->drift_file = a + 8;
      else if (i + 1 < argc && ends_with(argv[i + 1], ".json")) o->drift_file = argv[++i];
    } else if (strcmp(a, "--serve") == 0 || strcmp(a, "--max-request") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: %s takes %s\n", argv[0], a, a[2] == 's' ? "ADDR:PORT" : "a size in bytes");
        return -1;
      }
      if (a[2] == 's') {
        o->serve = argv[++i];
        continue;
      }
      char *end;
      errno = 0;
      unsigned long long v = strtoull(argv[++i], &end, 10);
      if (errno || end == argv[i] || *end || v == 0) {
        fprintf(stderr, "%s: --max-request takes a size in bytes, not '%s'\n", argv[0], argv[i]);
        return -1;
      }
      o->max_request = (size_t)v;
    } else if (strcmp(a, "--no-header") == 0) {
      o->no_header = true;
    } else if (strcmp(a, "--verbose") == 0) {
      o->verbose = true;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "%s: unknown option '%s' (see --help)\n", argv[0], a);
      return -1;
    } else if (o->input) {
      fprintf(stderr, "%s: one input file at most ('%s' and '%s')\n", argv[0], o->input, a);
      return -1;
    } else {
      o->input = a;
    }
  }
  if (!o->format_given && o->input)
    o->jsonl_in =
        ends_with(o->input, ".jsonl") || ends_with(o->input, ".ndjson") || ends_with(o->input, ".json");
  if (!o->output_given) o->jsonl_out = o->jsonl_in;
  return 0;
}

static bool weights_intact(const MlprtPredictor *p) {
  char hex[65];
  mlprt_sha256_hex(p->weights, (size_t)p->weights_bytes, hex);
  return p->weights_sha256 && strcmp(hex, p->weights_sha256) == 0;
}

/* The batch: rows read but not yet answered. */
typedef struct {
  int64_t n, nacc;  /* rows; rows accepted for the forward pass */
  int64_t first_row;
  int *state;       /* [batch] MLPRT_ROW_* */
  int64_t *acc;     /* [batch] each row's place among the accepted, or -1 */
  char *reason;     /* [batch, REASON_W] */
  char *ident;      /* [batch, IDENT_W] a grid row's time and key, "TIME\tKEY" (resample), else NULL */
  float *x;         /* [batch, n_in] accepted rows' features */
  float *out;       /* [batch, n_out] */
  double *probs;    /* [nclasses or 1] */
  void *scratch;
} Batch;

typedef struct {
  int64_t rows, rejected, fallbacks, imputed, clipped, answered;
  double *feature_sum; /* [n_in] or NULL: see MlprtPredTally */
  double busy;      /* seconds spent on the batch's rows so far (timed only under a latency budget) */
  bool slow_warned; /* the latency budget was exceeded and said so */
} Counts;

double mlprt_pred_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void flush(const MlprtPredictor *p, Batch *b, const Writer *w, MlprtPredMonitor *mon, bool verbose,
                  Counts *cnt) {
  double t0 = p->max_latency_ms > 0 ? mlprt_pred_now() : 0;
  if (b->nacc) p->forward(b->x, b->out, b->nacc, b->scratch);
  for (int64_t i = 0; i < b->n; i++) {
    int st = b->state[i];
    const char *why = b->reason + i * REASON_W;
    int64_t cls = st == MLPRT_ROW_FALLBACK ? mlprt_pred_fallback_class(p) : 0;
    const float *x = b->acc[i] >= 0 ? b->x + b->acc[i] * p->n_in : NULL;
    if (st == MLPRT_ROW_OK) cls = mlprt_pred_answer(p, b->out + b->acc[i] * p->n_out, b->probs);
    if (st == MLPRT_ROW_FALLBACK && p->task == MLPRT_TASK_REGRESSION) b->probs[0] = p->fallback_value;
    write_answer(w, st, cls, b->probs, why, b->ident ? b->ident + i * IDENT_W : NULL);
    if (mon) mlprt_pred_monitor_row(mon, b->first_row + i, x, st, cls, b->probs, why);
    if (st == MLPRT_ROW_REJECT) cnt->rejected++;
    if (st == MLPRT_ROW_FALLBACK) cnt->fallbacks++;
    if (st == MLPRT_ROW_OK && strncmp(why, "impute:", 7) == 0) cnt->imputed++;
    if (st == MLPRT_ROW_OK && strncmp(why, "clip:", 5) == 0) cnt->clipped++;
    if (st == MLPRT_ROW_OK) cnt->answered++;
    for (int64_t k = 0; st == MLPRT_ROW_OK && cnt->feature_sum && k < p->n_in; k++)
      cnt->feature_sum[k] += x[k];
    if (verbose && st != MLPRT_ROW_OK)
      fprintf(stderr, "row %lld: %s%s\n", (long long)(b->first_row + i),
              st == MLPRT_ROW_FALLBACK ? "fallback: " : "", why);
  }
  if (p->max_latency_ms > 0 && b->n > 0) {
    double ms = 1e3 * (cnt->busy + mlprt_pred_now() - t0) / (double)b->n;
    if (ms > p->max_latency_ms && !cnt->slow_warned)
      fprintf(stderr, "warning: rows %lld-%lld took %.4g ms each, over deploy.max_latency_ms = %g\n",
              (long long)b->first_row, (long long)(b->first_row + b->n - 1), ms, p->max_latency_ms);
    cnt->slow_warned |= ms > p->max_latency_ms;
    cnt->busy = 0;
  }
  /* progress, when asked: a line per 100000 rows */
  if (verbose && (cnt->rows + b->n) / 100000 > cnt->rows / 100000)
    fprintf(stderr, "%lld rows\n", (long long)(cnt->rows + b->n) / 100000 * 100000);
  cnt->rows += b->n;
  b->first_row += b->n;
  b->n = b->nacc = 0;
}

/* What a stream's reader answers with before it waits for more input. */
typedef struct {
  const MlprtPredictor *p;
  Batch *b;
  const Writer *w;
  MlprtPredMonitor *mon;
  bool verbose;
  Counts *cnt;
} Pending;

/* The rows read so far, answered and on their way: a row sent down a pipe
 * is answered before the next one comes. */
static void answer_pending(void *ctx) {
  Pending *q = ctx;
  if (q->b->n) flush(q->p, q->b, q->w, q->mon, q->verbose, q->cnt);
  fflush(q->w->out);
}

/* Take one row's fields into the batch. */
static void add_row(const MlprtPredictor *p, Batch *b, const char *const *fields, void *row_state,
                    const char *error, const char *time, const char *key) {
  int64_t i = b->n++;
  if (b->ident) snprintf(b->ident + i * IDENT_W, IDENT_W, "%s\t%s", time ? time : "", key ? key : "");
  char *why = b->reason + i * REASON_W;
  float *x = b->x + b->nacc * p->n_in;
  int st = error ? MLPRT_ROW_REJECT : mlprt_pred_row(p, fields, x, row_state, why, REASON_W);
  if (error) snprintf(why, REASON_W, "%s", error);
  b->state[i] = st;
  b->acc[i] = st == MLPRT_ROW_REJECT ? -1 : b->nacc;
  /* a falling-back row keeps its features (drift watches them) and its
   * place in the forward pass, whose answer it then ignores */
  if (st != MLPRT_ROW_REJECT) b->nacc++;
}

static void *alloc64(size_t n) {
  void *q = aligned_alloc(64, (n + 63) & ~(size_t)63 ? (n + 63) & ~(size_t)63 : 64);
  if (!q) {
    fputs("out of memory\n", stderr);
    exit(2);
  }
  return q;
}

/* Where the grid rows of a resampling predictor go: into the batch,
 * answered whenever it is full. */
typedef struct {
  const MlprtPredictor *p;
  Batch *b;
  void *row_state;
  const Writer *w;
  MlprtPredMonitor *mon;
  bool verbose;
  Counts *cnt;
  int64_t batch;
} Grid;

static void grid_row(void *ctx, const char *const *fields, const char *time, const char *key,
                     const char *error) {
  Grid *g = ctx;
  add_row(g->p, g->b, fields, g->row_state, error, time, key);
  if (g->b->n == g->batch) flush(g->p, g->b, g->w, g->mon, g->verbose, g->cnt);
}

/* What answering one input needs besides its reader. */
typedef struct {
  const MlprtPredictor *p;
  bool jsonl_in, jsonl_out, no_header, verbose;
  const char *prog, *in_name; /* for messages */
  FILE *out, *err;            /* the answers; the messages */
  MlprtPredMonitor *mon;
} Answering;

/* Every record of rd answered on a->out: 0 every row answered, 1 some
 * rejected, 2 a header or read error (said on a->err). */
static int answer_input(const Answering *a, Reader *rd, Counts *cnt) {
  const MlprtPredictor *p = a->p;
  const MlprtPredPlan *pl = p->plan;
  const char *prog = a->prog, *in_name = a->in_name;
  int64_t batch = p->batch > 0 ? p->batch : 1, nclasses = mlprt_pred_nclasses(p);
  Batch b = {.first_row = 1};
  b.state = mlprt_xmalloc((size_t)batch * sizeof *b.state);
  b.acc = mlprt_xmalloc((size_t)batch * sizeof *b.acc);
  b.reason = mlprt_xmalloc((size_t)batch * REASON_W);
  b.x = alloc64((size_t)(batch * p->n_in) * sizeof(float));
  b.out = alloc64((size_t)(batch * p->n_out) * sizeof(float));
  b.probs = mlprt_xmalloc((size_t)(nclasses > 1 ? nclasses : 1) * sizeof *b.probs);
  b.scratch = alloc64((size_t)p->scratch_bytes);
  void *row_state = alloc64(mlprt_pred_row_bytes(pl));
  mlprt_pred_row_init(row_state, pl);
  MlprtResampler *rs = mlprt_resampler_open(pl);
  b.ident = rs ? mlprt_xmalloc((size_t)batch * IDENT_W) : NULL;
  const char **fields = mlprt_xmalloc((size_t)(pl->ninputs ? pl->ninputs : 1) * sizeof *fields);
  int *col_input = NULL; /* CSV: the input each file column feeds, or -1 */
  int ncols = 0;
  Writer w = {p, a->out, a->jsonl_out, nclasses, NULL, NULL};
  for (int64_t i = 0; rs && i < pl->nsteps; i++)
    if (pl->steps[i].op == MLPRT_PSTEP_RESAMPLE) {
      w.on = pl->inputs[pl->steps[i].src].name;
      w.by = pl->steps[i].a >= 0 ? pl->inputs[(int64_t)pl->steps[i].a].name : NULL;
    }
  Grid grid = {p, &b, row_state, &w, a->mon, a->verbose, cnt, batch};
  bool extra_warned = false;
  int rc = 0;
  if (!a->jsonl_in && !a->no_header) {
    int got = csv_record(rd);
    if (got == 0 && !rd->read_errno) {
      fprintf(a->err, "%s: %s: no header line\n", prog, in_name);
      rc = 2;
    } else if (got == 0) {
      rc = 2; /* a read error, reported below */
    } else if (rd->why[0]) {
      fprintf(a->err, "%s: %s: header: %s\n", prog, in_name, rd->why);
      rc = 2;
    }
    ncols = rc ? 0 : rd->nf;
    rd->names = mlprt_xcalloc((size_t)(ncols ? ncols : 1), sizeof *rd->names);
    for (int j = 0; j < ncols; j++) rd->names[j] = mlprt_xstrndup(field(rd, j), strlen(field(rd, j)));
    col_input = mlprt_xmalloc((size_t)(ncols ? ncols : 1) * sizeof *col_input);
    char extra[256] = "";
    for (int j = 0; rc == 0 && j < ncols; j++) {
      col_input[j] = -1;
      for (int64_t i = 0; i < pl->ninputs && col_input[j] < 0; i++)
        if (strcmp(pl->inputs[i].name, rd->names[j]) == 0) col_input[j] = (int)i;
      for (int k = 0; k < j && rc == 0; k++) {
        if (strcmp(rd->names[k], rd->names[j]) == 0) { /* as training refuses it */
          fprintf(a->err, "%s: %s: header: duplicate column name '%s' (columns %d and %d)\n", prog,
                  in_name, rd->names[j], k + 1, j + 1);
          rc = 2;
        }
      }
      if (col_input[j] < 0 && strlen(extra) + strlen(rd->names[j]) + 4 < sizeof extra)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "%s'%s'", *extra ? ", " : "",
                 rd->names[j]);
    }
    rd->ncols = ncols;
    if (rc == 0 && *extra)
      fprintf(a->err, "%s: ignoring input columns the model does not read: %s\n", prog, extra);
  } else if (!a->jsonl_in) {
    ncols = (int)pl->ninputs;
    col_input = mlprt_xmalloc((size_t)(ncols ? ncols : 1) * sizeof *col_input);
    for (int j = 0; j < ncols; j++) col_input[j] = j;
  }
  /* only a column read as a category or text, or not read, may hold a
   * line break */
  bool *may_span = mlprt_xmalloc((size_t)(ncols ? ncols : 1) * sizeof *may_span);
  for (int j = 0; j < ncols; j++) {
    int64_t type = col_input[j] >= 0 ? pl->inputs[col_input[j]].type : MLPRT_COL_TEXT;
    may_span[j] = type == MLPRT_COL_CATEGORY || type == MLPRT_COL_TEXT;
  }
  rd->may_span = may_span;
  rd->ncols = ncols;
  if (rc == 0) write_header(&w);
  struct stat in_st;
  rd->stream = rd->f && fstat(fileno(rd->f), &in_st) == 0 && !S_ISREG(in_st.st_mode);
  Pending pending = {p, &b, &w, a->mon, a->verbose, cnt};
  rd->idle = answer_pending, rd->idle_ctx = &pending;
  while (rc == 0) {
    const char *error = NULL;
    char msg[REASON_W];
    if (a->jsonl_in) {
      if (read_line(rd) == 0) break;
      bool extra = false;
      error = rd->why[0] ? rd->why : json_object(pl, rd->rec, fields, &extra, msg);
      if (extra && !extra_warned) {
        fprintf(a->err, "%s: ignoring input columns the model does not read (line %lld)\n", prog,
                (long long)rd->line);
        extra_warned = true;
      }
    } else {
      int got = csv_record(rd);
      if (got == 0) break;
      if (rd->why[0]) {
        error = rd->why;
      } else if (rd->nf != ncols && !(ncols == 0 && rd->nf == 1)) {
        snprintf(msg, sizeof msg, "the row has %d fields but the header %d", rd->nf, ncols);
        error = msg;
      }
      for (int64_t i = 0; i < pl->ninputs; i++) fields[i] = NULL;
      for (int j = 0; !error && j < ncols; j++)
        if (col_input[j] >= 0) fields[col_input[j]] = field(rd, j);
    }
    double t0 = p->max_latency_ms > 0 ? mlprt_pred_now() : 0;
    if (rs && !error) mlprt_resampler_row(rs, fields, grid_row, &grid);
    else grid_row(&grid, fields, NULL, NULL, error);
    if (p->max_latency_ms > 0) cnt->busy += mlprt_pred_now() - t0;
  }
  if (rc == 0 && rs) mlprt_resampler_end(rs, grid_row, &grid);
  if (rc == 0) flush(p, &b, &w, a->mon, a->verbose, cnt);
  mlprt_resampler_free(rs);
  free(b.ident);
  for (int j = 0; rd->names && j < ncols; j++) free(rd->names[j]);
  free(rd->names);
  rd->names = NULL;
  free(b.state);
  free(b.acc);
  free(b.reason);
  free(b.x);
  free(b.out);
  free(b.probs);
  free(b.scratch);
  free(row_state);
  free(fields);
  free(col_input);
  free(may_span);
  if (rd->read_errno) {
    fprintf(a->err, "%s: cannot read %s: %s\n", prog, in_name, strerror(rd->read_errno));
    rc = 2;
  }
  if (rc == 0 && cnt->rejected) rc = 1;
  return rc;
}

int mlprt_pred_answer_text(const MlprtPredictor *p, const char *text, size_t len, bool jsonl, FILE *out,
                           FILE *err, MlprtPredTally *t) {
  Reader rd = {.first = true, .blen = len, .bcap = len};
  rd.back = mlprt_xmalloc(len + 1);
  memcpy(rd.back, text, len);
  Counts cnt = {.feature_sum = t->feature_sum};
  Answering an = {p, jsonl, jsonl, false, false, "request", "the request", out, err, NULL};
  int rc = answer_input(&an, &rd, &cnt);
  *t = (MlprtPredTally){cnt.rows, cnt.rejected, cnt.fallbacks, cnt.imputed, cnt.clipped, cnt.answered,
                        t->feature_sum};
  free(rd.back);
  free(rd.span);
  free(rd.rec);
  free(rd.off);
  return rc;
}

int mlprt_predict_main(int argc, char **argv, const MlprtPredictor *p) {
  mlprt_fp_flush_subnormals(); /* as the training program computed its answers */
  Opts o = {0};
  int rc = parse_args(argc, argv, p, &o);
  if (rc) return rc > 0 ? 0 : 2;
  if (!weights_intact(p)) {
    fprintf(stderr, "%s: the compiled-in weights do not match their recorded hash (tampered binary?)\n",
            argv[0]);
    return 2;
  }
  /* A batch of a few rows is a small GEMM: one thread does it, and
   * OpenBLAS's others would only spin (sched_yield) between batches. */
  if (p->batch < LARGE_BATCH && openblas_set_num_threads) openblas_set_num_threads(1);
  char err[512];
  MlprtPredMonitor *mon = NULL;
  if ((o.log || o.drift) &&
      !(mon = mlprt_pred_monitor_open(p, o.log, o.drift, o.drift_file, err, sizeof err))) {
    fprintf(stderr, "%s: %s\n", argv[0], err);
    return 2;
  }
  if (o.serve) {
    rc = mlprt_pred_serve(p, o.serve, o.max_request, argv[0]);
    if (mon && mlprt_pred_monitor_close(mon) != 0 && rc == 0) rc = 2;
    return rc;
  }
  Reader rd = {.first = true};
  rd.f = !o.input || strcmp(o.input, "-") == 0 ? stdin : fopen(o.input, "rb");
  if (!rd.f) {
    fprintf(stderr, "%s: cannot open %s: %s\n", argv[0], o.input, strerror(errno));
    if (mon) mlprt_pred_monitor_close(mon);
    return 2;
  }
  Counts cnt = {0};
  Answering an = {p, o.jsonl_in, o.jsonl_out, o.no_header, o.verbose, argv[0],
                  o.input ? o.input : "standard input", stdout, stderr, mon};
  rc = answer_input(&an, &rd, &cnt);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "%s: cannot write the answers: %s\n", argv[0], strerror(errno));
    rc = 2;
  }
  if (rd.f != stdin) fclose(rd.f);
  if (mon && mlprt_pred_monitor_close(mon) != 0 && rc <= 1) rc = 2;
  if (rc <= 1 && (cnt.rejected || o.verbose))
    fprintf(stderr, "%lld of %lld rows rejected\n", (long long)cnt.rejected, (long long)cnt.rows);
  if (rc <= 1 && (cnt.imputed || cnt.clipped || cnt.fallbacks))
    fprintf(stderr, "%lld of %lld answers changed by a failsafe: %lld imputed, %lld clipped, %lld fallback\n",
            (long long)(cnt.imputed + cnt.clipped + cnt.fallbacks), (long long)cnt.rows,
            (long long)cnt.imputed, (long long)cnt.clipped, (long long)cnt.fallbacks);
  free(rd.back);
  free(rd.span);
  free(rd.rec);
  free(rd.off);
  return rc;
}
