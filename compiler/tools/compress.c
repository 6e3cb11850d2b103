/* compress.c — the compression step of `mlpc export` (see compress.h).
 * Consumes the export options and the run's test_rows.csv; produces the
 * float and compressed predictors in a scratch directory, their scores,
 * sizes and latencies, and the requested output when the compressed one
 * holds its accuracy.
 *
 * The predictors are measured as shipped: real executables reading CSV
 * text, so the latency is what a caller of the program sees per row. Each
 * is timed on the test rows, repeated up to MIN_TIMED_ROWS rows unless
 * the rows are slow enough to measure in fewer (one run of them would pass
 * MAX_RUN_SECONDS), and on its header alone; the difference of the medians
 * divided by the rows is the cost of one row without the program's
 * start-up (the weight self-check among it), which would otherwise
 * dominate small test sets. */
#include "compress.h"

#include <errno.h>
#include <fcntl.h>
#include <llvm-c/Core.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "mlp/quant.h"
#include "predgen.h"
#include "rundir.h"

extern char **environ;

enum {
  MIN_TIMED_ROWS = 20000, /* rows per timed run: start-up jitter is then a small share */
  TIMED_RUNS = 5          /* timed runs of each predictor; the median is reported */
};
/* Large models: no more repeats than keep one timed run this short, once
 * one copy of the rows takes longer than SLOW_COPY_SECONDS (a time well
 * above the jitter of starting a program, so the estimate can be trusted). */
static const double MAX_RUN_SECONDS = 0.25, SLOW_COPY_SECONDS = 0.02;

/* What the check measured; "before" is the float predictor, "after" the
 * compressed one. */
typedef struct {
  bool regression;                       /* the metric is R2, else accuracy */
  double before, after;                  /* the metric on the test rows */
  int64_t rows;                          /* test rows scored */
  int64_t weights_before, weights_after; /* bytes of the compiled-in weights */
  int64_t nonzero_before, nonzero_after; /* nonzero dense and conv2d weights (pruning's effect) */
  int64_t binary_before, binary_after;   /* bytes of the executables */
  double us_before, us_after;            /* median microseconds per row over the timed runs */
  int64_t timed_rows;                    /* rows in each timed run */
} Report;

/* The plan's deploy.quantize, deploy.prune(sparsity = ...) and
 * deploy.max_accuracy_drop, for those the command line left unset. */
static void deploy_defaults(const MlpIrDeploy *dp, MlpExportOpts *o, bool quantize_given, bool prune_given,
                            double *max_drop) {
  if (!quantize_given) o->quantize = strcmp(dp->quantize, "int8") == 0 ? MLP_QUANT_INT8 : MLP_QUANT_NONE;
  if (!prune_given && dp->prune > 0) o->prune = dp->prune;
  if (*max_drop < 0) *max_drop = dp->max_accuracy_drop;
}

/* ---- CSV records as spans of the raw text ---------------------------------- */

/* A field of a record: bytes [start, end) of the text, quotes included. */
typedef struct {
  int start, end;
} Span;

/* Scan the record at *pos (RFC 4180: quoted fields may hold commas, doubled
 * quotes and newlines). Stores up to max field spans in f and returns the
 * record's field count, with *pos after its line end; -1 at the end of the
 * text. A '\r' before the newline is not part of the last field. */
static int scan_record(const char *s, int len, int *pos, Span *f, int max) {
  int i = *pos, nf = 0;
  if (i >= len) return -1;
  for (;;) {
    int start = i;
    if (i < len && s[i] == '"') {
      /* to the closing quote, stepping over doubled ones */
      for (i++; i < len; i++) {
        if (s[i] != '"') continue;
        if (i + 1 < len && s[i + 1] == '"') i++;
        else break;
      }
      if (i < len) i++;
    }
    while (i < len && s[i] != ',' && s[i] != '\n') i++;
    int end = i > start && s[i - 1] == '\r' && (i == len || s[i] == '\n') ? i - 1 : i;
    if (nf < max) f[nf] = (Span){start, end};
    nf++;
    if (i < len && s[i] == ',') {
      i++;
      continue;
    }
    *pos = i < len ? i + 1 : len;
    return nf;
  }
}

/* A field's value: the span without its quotes, doubled quotes undone. */
static char *field_text(MlpArena *a, const char *s, Span f) {
  if (f.end - f.start < 2 || s[f.start] != '"')
    return mlp_arena_strndup(a, s + f.start, (size_t)(f.end - f.start));
  char *t = mlp_arena_alloc(a, (size_t)(f.end - f.start));
  int k = 0;
  for (int i = f.start + 1; i < f.end - 1; i++) {
    t[k++] = s[i];
    if (s[i] == '"' && s[i + 1] == '"') i++;
  }
  t[k] = '\0';
  return t;
}

/* ---- the test rows ------------------------------------------------------ */

typedef struct {
  const char **truth; /* [rows] the target's text in each test row */
  int64_t rows;
  const char *input;  /* the test rows without the target column (CSV, header first) */
  const char *header; /* the header alone */
  const char *timed;  /* the test rows repeated (write_timed) */
  int64_t timed_rows;
} TestRows;

/* Write the record's fields but the one at skip, comma-separated. */
static void put_record(FILE *f, const char *s, const Span *sp, int nf, int skip) {
  bool first = true;
  for (int i = 0; i < nf; i++) {
    if (i == skip) continue;
    if (!first) fputc(',', f);
    fwrite(s + sp[i].start, 1, (size_t)(sp[i].end - sp[i].start), f);
    first = false;
  }
  fputc('\n', f);
}

/* Split test_rows.csv into the true targets, the input rows and the
 * header. */
static int load_test_rows(MlpArena *a, const MlpRunDir *rd, const char *tmp, TestRows *t, char *err,
                          size_t n) {
  const char *path = mlp_rundir_path(a, rd, "test_rows.csv");
  MlpSource *src = mlp_source_read(a, path);
  if (!src)
    return mlp_failf(err, n, "cannot read %s: %s (the run predates test rows; train it again)", path,
                 strerror(errno));
  const char *s = src->text;
  int len = src->len, pos = 0;
  int ncols = scan_record(s, len, &pos, NULL, 0);
  if (ncols < 2) return mlp_failf(err, n, "%s has no header of columns", path);
  Span *sp = mlp_arena_alloc(a, sizeof *sp * (size_t)ncols);
  pos = 0;
  scan_record(s, len, &pos, sp, ncols);
  int target = -1;
  for (int i = 0; i < ncols && target < 0; i++)
    if (strcmp(field_text(a, s, sp[i]), rd->target) == 0) target = i;
  if (target < 0) return mlp_failf(err, n, "%s has no column '%s' (the target)", path, rd->target);
  int body = pos;

  t->header = mlp_arena_printf(a, "%s/header.csv", tmp);
  t->input = mlp_arena_printf(a, "%s/input.csv", tmp);
  t->timed = mlp_arena_printf(a, "%s/timed.csv", tmp);
  FILE *fh = fopen(t->header, "w"), *fi = fopen(t->input, "w");
  int rc = fh && fi ? 0 : mlp_failf(err, n, "cannot write in %s: %s", tmp, strerror(errno));
  MlpVec truth = {0};
  if (rc == 0) {
    put_record(fh, s, sp, ncols, target);
    put_record(fi, s, sp, ncols, target);
  }
  for (pos = body; rc == 0;) {
    int nf = scan_record(s, len, &pos, sp, ncols);
    if (nf < 0) break;
    if (nf == 1 && sp[0].end == sp[0].start) continue; /* a blank line */
    if (nf != ncols) {
      rc = mlp_failf(err, n, "%s: a row has %d fields, the header %d", path, nf, ncols);
      break;
    }
    mlp_vec_push(a, &truth, field_text(a, s, sp[target]));
    put_record(fi, s, sp, ncols, target);
  }
  if (rc == 0 && truth.len == 0) rc = mlp_failf(err, n, "%s holds no rows", path);
  if (fh && fclose(fh) != 0 && rc == 0) rc = mlp_failf(err, n, "cannot write %s", t->header);
  if (fi && fclose(fi) != 0 && rc == 0) rc = mlp_failf(err, n, "cannot write %s", t->input);
  t->truth = (const char **)truth.items;
  t->rows = truth.len;
  return rc;
}

/* The timed input: the header, then the input rows copies times. */
static int write_timed(MlpArena *a, TestRows *t, int64_t copies, char *err, size_t n) {
  MlpSource *in = mlp_source_read(a, t->input);
  FILE *f = in ? fopen(t->timed, "w") : NULL;
  if (!f) return mlp_failf(err, n, "cannot copy %s to %s: %s", t->input, t->timed, strerror(errno));
  int l0 = 0;
  mlp_source_line(in, 1, &l0);
  size_t head = (size_t)l0 + 1;
  fwrite(in->text, 1, head, f);
  for (int64_t c = 0; c < copies; c++) fwrite(in->text + head, 1, (size_t)in->len - head, f);
  if (fclose(f) != 0) return mlp_failf(err, n, "cannot write %s", t->timed);
  t->timed_rows = copies * t->rows;
  return 0;
}

/* ---- running a predictor ------------------------------------------------ */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run EXE INPUT with stdout to out and stderr to errpath; *secs receives the
 * wall time. Exit status 0 (every row answered) and 1 (some rejected) are
 * both runs that scored; anything else is an error quoting its stderr. */
static int run_predictor(MlpArena *a, const char *exe, const char *input, const char *out,
                         const char *errpath, double *secs, char *err, size_t n) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const char *argv[] = {exe, input, NULL};
  pid_t pid;
  double t0 = now_s();
  int rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return mlp_failf(err, n, "cannot run %s: %s", exe, strerror(rc));
  int st;
  if (waitpid(pid, &st, 0) < 0) return mlp_failf(err, n, "waiting for %s: %s", exe, strerror(errno));
  *secs = now_s() - t0;
  if (WIFEXITED(st) && WEXITSTATUS(st) <= 1) return 0;
  MlpSource *e = mlp_source_read(a, errpath);
  int l0 = 0;
  const char *line = e && e->nlines > 0 ? mlp_source_line(e, 1, &l0) : "";
  return mlp_failf(err, n, "the predictor %s failed (status %d): %.*s", exe,
               WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), l0, line);
}

/* ---- scoring ------------------------------------------------------------ */

/* Score a predictor's output (CSV, header first, one record per test row)
 * against the true targets: the share of rows whose "label" is the true
 * class, or R2 of the "value" column. A rejected row (no answer) counts as
 * wrong, or in R2 as predicting the test rows' mean, which explains none of
 * its variance. Both predictors share the feature program, so they reject
 * the same rows. */
static int score(MlpArena *a, const char *path, const TestRows *t, bool regression, double *metric,
                 char *err, size_t n) {
  MlpSource *src = mlp_source_read(a, path);
  if (!src) return mlp_failf(err, n, "cannot read the predictions %s: %s", path, strerror(errno));
  const char *s = src->text, *want = regression ? "value" : "label";
  int len = src->len, pos = 0;
  int ncols = scan_record(s, len, &pos, NULL, 0);
  Span *sp = mlp_arena_alloc(a, sizeof *sp * (size_t)(ncols > 0 ? ncols : 1));
  pos = 0;
  scan_record(s, len, &pos, sp, ncols);
  int col = -1;
  for (int i = 0; i < ncols && col < 0; i++)
    if (strcmp(field_text(a, s, sp[i]), want) == 0) col = i;
  if (col < 0) return mlp_failf(err, n, "the predictions in %s have no column '%s'", path, want);
  double hits = 0, ss_res = 0, ss_tot = 0, mean = 0;
  if (regression) {
    for (int64_t r = 0; r < t->rows; r++) mean += strtod(t->truth[r], NULL);
    mean /= (double)t->rows;
  }
  int64_t r = 0;
  for (;; r++) {
    int nf = scan_record(s, len, &pos, sp, ncols);
    if (nf < 0) break;
    if (r >= t->rows) return mlp_failf(err, n, "%s has more predictions than the %lld test rows", path,
                                   (long long)t->rows);
    const char *got = col < nf && col < ncols ? field_text(a, s, sp[col]) : "";
    if (regression) {
      double y = strtod(t->truth[r], NULL);
      char *end;
      double v = strtod(got, &end);
      if (end == got) v = mean;
      ss_res += (y - v) * (y - v);
      ss_tot += (y - mean) * (y - mean);
    } else {
      hits += strcmp(got, t->truth[r]) == 0;
    }
  }
  if (r != t->rows)
    return mlp_failf(err, n, "%s has %lld predictions for %lld test rows", path, (long long)r,
                 (long long)t->rows);
  *metric = regression ? (ss_tot > 0 ? 1.0 - ss_res / ss_tot : 0.0) : hits / (double)t->rows;
  return 0;
}

/* ---- the check ---------------------------------------------------------- */

static int cmp_double(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

static double median(double *v, int k) {
  qsort(v, (size_t)k, sizeof *v, cmp_double);
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

static int64_t file_bytes(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Bytes of the weights constant the predictor of rd compiles in under the
 * given compression: the module is generated (not optimised, not linked)
 * and its constant measured, so the figure is the compiled-in blob's size
 * whatever layout the generator gives the compressed layers. */
static int weights_bytes(MlpArena *a, const MlpRunDir *rd, MlpQuant quantize, double prune, int64_t *bytes,
                         char *err, size_t n) {
  MlprtPredPlan plan;
  if (mlp_rundir_plan(a, rd, &plan, err, n) != 0) return -1;
  MlpPredgenInfo info = {.compiler = "mlpc", .name = "m", .plan = &plan, .quantize = quantize,
                         .prune = prune};
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = mlp_predgen(ctx, rd, &info, err, n);
  mlprt_pred_plan_free(&plan);
  LLVMValueRef g = mod ? LLVMGetNamedGlobal(mod, "mlp_weights") : NULL; /* predgen.c names it */
  int rc = g ? 0 : mod ? mlp_failf(err, n, "the predictor module has no weights constant") : -1;
  if (g) *bytes = (int64_t)LLVMGetArrayLength2(LLVMGlobalGetValueType(g));
  if (mod) LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  return rc;
}

/* The nonzero values of the weight matrices pruning works on (dense and
 * conv2d, as the predictor generator prunes them), before and after
 * pruning the fraction prune of each; the pruned copy is thrown away. */
static void matrix_nonzeros(const MlpRunDir *rd, double prune, int64_t *before, int64_t *after) {
  *before = *after = 0;
  for (int i = 0; i < rd->model->nlayers; i++) {
    const MlpIrLayer *l = &rd->model->layers[i];
    if (l->op != MLP_OP_DENSE && l->op != MLP_OP_CONV2D) continue;
    int64_t n = l->b_off - l->w_off;
    float *w = mlp_xmalloc((size_t)(n ? n : 1) * sizeof *w);
    memcpy(w, rd->weights + l->w_off, (size_t)n * sizeof *w);
    for (int64_t j = 0; j < n; j++) *before += w[j] != 0.0f;
    if (prune > 0) mlprt_prune_magnitude(w, n, prune);
    for (int64_t j = 0; j < n; j++) *after += w[j] != 0.0f;
    free(w);
  }
}

/* The two predictors of the check: [0] float, [1] compressed. */
typedef struct {
  const char *exe, *out, *errpath;
} Pred;

static int measure(MlpArena *a, const MlpExportOpts *o, const MlpRunDir *rd, const char *tmp,
                   Report *r, char *err, size_t n) {
  TestRows t = {0};
  if (load_test_rows(a, rd, tmp, &t, err, n) != 0) return -1;
  Pred p[2];
  double secs[2], start_up;
  for (int k = 0; k < 2; k++) {
    const char *tag = k ? "compressed" : "float";
    p[k] = (Pred){mlp_arena_printf(a, "%s/%s", tmp, tag), mlp_arena_printf(a, "%s/%s.out", tmp, tag),
                  mlp_arena_printf(a, "%s/%s.err", tmp, tag)};
    /* Both are built to run here, whatever the export's target: the
     * metric does not depend on it, and the timing is this machine's. */
    MlpExportOpts b = *o;
    b.out = p[k].exe;
    b.emit_obj = b.emit_llvm = false;
    b.triple = b.cpu = NULL;
    if (!k) {
      b.quantize = MLP_QUANT_NONE;
      b.prune = 0.0;
    }
    long bytes = 0;
    if (mlp_export_build(&b, &bytes, err, n) != 0) return -1;
    if (run_predictor(a, p[k].exe, t.input, p[k].out, p[k].errpath, &secs[k], err, n) != 0) return -1;
    if (score(a, p[k].out, &t, r->regression, k ? &r->after : &r->before, err, n) != 0) return -1;
    *(k ? &r->binary_after : &r->binary_before) = file_bytes(p[k].exe);
    if (weights_bytes(a, rd, b.quantize, b.prune, k ? &r->weights_after : &r->weights_before, err, n) != 0)
      return -1;
  }
  /* Enough copies of the rows for MIN_TIMED_ROWS, unless they are slow
   * and a run of the float predictor would then pass MAX_RUN_SECONDS. */
  if (run_predictor(a, p[0].exe, t.header, p[0].out, p[0].errpath, &start_up, err, n) != 0) return -1;
  double per_copy = secs[0] - start_up;
  int64_t copies = (MIN_TIMED_ROWS + t.rows - 1) / t.rows;
  if (per_copy > SLOW_COPY_SECONDS && per_copy * (double)copies > MAX_RUN_SECONDS)
    copies = per_copy < MAX_RUN_SECONDS ? (int64_t)(MAX_RUN_SECONDS / per_copy) : 1;
  if (write_timed(a, &t, copies, err, n) != 0) return -1;
  /* Interleaved, so that load on the machine falls on both alike. */
  double full[2][TIMED_RUNS], empty[2][TIMED_RUNS];
  for (int run = 0; run < TIMED_RUNS; run++)
    for (int k = 0; k < 2; k++) {
      if (run_predictor(a, p[k].exe, t.timed, p[k].out, p[k].errpath, &full[k][run], err, n) != 0 ||
          run_predictor(a, p[k].exe, t.header, p[k].out, p[k].errpath, &empty[k][run], err, n) != 0)
        return -1;
    }
  for (int k = 0; k < 2; k++) {
    double per_row = (median(full[k], TIMED_RUNS) - median(empty[k], TIMED_RUNS)) / (double)t.timed_rows;
    *(k ? &r->us_after : &r->us_before) = per_row > 0 ? per_row * 1e6 : 0.0;
  }
  matrix_nonzeros(rd, o->prune, &r->nonzero_before, &r->nonzero_after);
  r->rows = t.rows;
  r->timed_rows = t.timed_rows;
  return 0;
}

/* Remove the scratch directory's files, then the directory. */
static void remove_tmp(const char *tmp) {
  static const char *const files[] = {"header.csv", "input.csv", "timed.csv", "float", "float.out",
                                      "float.err", "compressed", "compressed.out", "compressed.err"};
  char path[4096];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
    unlink(path);
  }
  rmdir(tmp);
}

static void print_report(const Report *r, const MlpExportOpts *o, double max_drop, FILE *f) {
  const char *metric = r->regression ? "R2" : "accuracy";
  fprintf(f, "compression:");
  if (o->quantize == MLP_QUANT_INT8) fprintf(f, " int8 weights");
  if (o->prune > 0) fprintf(f, "%s %.3g of each weight matrix pruned", o->quantize ? "," : "", o->prune);
  fprintf(f, " (largest accepted %s drop %.4g)\n", metric, max_drop);
  fprintf(f, "  %-12s %.4f -> %.4f (%+.4f) on %lld test rows\n", metric, r->before, r->after,
          r->after - r->before, (long long)r->rows);
  fprintf(f, "  %-12s %lld -> %lld bytes\n", "weights", (long long)r->weights_before,
          (long long)r->weights_after);
  if (o->prune > 0)
    fprintf(f, "  %-12s %lld -> %lld of the dense and conv2d weights (stored dense)\n", "nonzero",
            (long long)r->nonzero_before, (long long)r->nonzero_after);
  fprintf(f, "  %-12s %lld -> %lld bytes\n", "binary", (long long)r->binary_before,
          (long long)r->binary_after);
  fprintf(f, "  %-12s %.3f -> %.3f us (median of %d runs of %lld rows, start-up excluded)\n", "per row",
          r->us_before, r->us_after, TIMED_RUNS, (long long)r->timed_rows);
}

/* Build, score and time both predictors of rd in a scratch directory. */
static int check(MlpArena *a, const MlpExportOpts *o, const MlpRunDir *rd, Report *r, char *err, size_t n) {
  const char *base = getenv("TMPDIR");
  char *tmp = mlp_arena_printf(a, "%s/mlpc-compress-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmp)) return mlp_failf(err, n, "cannot make a scratch directory %s: %s", tmp, strerror(errno));
  r->regression = rd->classes_text == NULL;
  int rc = measure(a, o, rd, tmp, r, err, n);
  remove_tmp(tmp);
  return rc;
}

int mlp_compress_command(MlpExportOpts *o, bool quantize_given, bool prune_given, double max_drop) {
  char err[2048];
  if (max_drop > 1) {
    fprintf(stderr, "mlpc: error: --max-accuracy-drop must be in [0, 1], not %g\n", max_drop);
    return 2;
  }
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  int rc = mlp_rundir_load(&a, o->run_dir, &rd, err, sizeof err);
  Report r = {0};
  bool compress = false;
  if (rc == 0) {
    deploy_defaults(&rd.ir->deploy, o, quantize_given, prune_given, &max_drop);
    compress = o->quantize != MLP_QUANT_NONE || o->prune > 0;
    if (compress && (o->prune < 0 || o->prune >= 1))
      rc = mlp_failf(err, sizeof err, "the pruning sparsity must be in [0, 1), not %g", o->prune);
    else if (compress) rc = check(&a, o, &rd, &r, err, sizeof err);
  }
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
  if (rc == 0 && compress) {
    print_report(&r, o, max_drop, stdout);
    if (r.after < r.before - max_drop) {
      const char *metric = r.regression ? "R2" : "accuracy";
      fprintf(stderr,
              "mlpc: compression refused: the test %s falls from %.4f to %.4f (%+.4f), more than the "
              "largest accepted drop %.4g; nothing was written\n",
              metric, r.before, r.after, r.after - r.before, max_drop);
      return 1;
    }
  }
  long bytes = 0;
  if (rc == 0) rc = mlp_export_build(o, &bytes, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "mlpc: error: %s\n", err);
    return 2;
  }
  return 0;
}
