/* run.c — the steps a generated main calls (see include/mlp/run.h): open
 * the run, load and prepare the data, smoke run, fit with validation every
 * epoch, early stopping and checkpoints, test, and the manifest. Consumes
 * the program descriptor, its generated functions and the command line;
 * produces the run directory. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "mlp/clean.h"
#include "mlp/data.h"
#include "mlp/fpenv.h"
#include "mlp/layers.h"
#include "mlp/sched.h"
#include "mlp/tensor.h"
#include "mlp/tpe.h"
#include "train_int.h"

/* What one evaluation pass measured. */
typedef struct {
  double loss;
  double accuracy;              /* classification */
  double precision, recall, f1; /* classification: macro averages over the classes */
  double r2, mse, rmse, mae;    /* regression, in the target's own units */
  double auc;                   /* classification, on the evaluation split, and on validation with the
                                   val_auc objective (else NaN) */
} Scores;

typedef struct {
  bool smoke_done, fit_done;
  double smoke_first, smoke_last;
  int64_t smoke_epochs;
  int64_t epochs_run, best_epoch, steps;
  bool stopped_early, resumed;
  double fit_seconds;
  int64_t iterations; /* a fit other than epochs: the solver's iterations */
  double oob;         /* a random forest's out-of-bag score, or NaN */
  double gamma;       /* a support vector machine's kernel gamma and support vectors */
  int64_t support_vectors;
  Scores val, test;
} JobResult;

/* A growing text of JSON lines. */
typedef struct {
  char *s;
  size_t len, cap;
} Lines;

struct MlprtRun {
  const MlprtProgram *p;
  const char *prog; /* argv[0] */
  MlprtCli cli;
  MlprtJob *jobs; /* the compiled jobs with --set and --seed applied */
  JobResult *res;
  int threads;
  char *final_out;    /* the run directory, replaced as a whole when the run is complete */
  char *parent;       /* the directory that holds it */
  char *out;          /* where this run is assembled: FINAL_OUT.staging-PID beside it */
  bool staged;        /* out exists and is this process's to remove on failure */
  int lock_fd;        /* FINAL_OUT.lock, held for the whole run */
  char *metrics_path; /* made once: epochs allocate nothing */
  const char *data_path;
  MlprtDataset data;
  /* a search over the cleaning chain: the data each chain (NULL: the program's) cleaned, loaded at its
   * first job; r->data is set cur_set's, whose slot is stale while it is in use */
  MlprtDataset *sets;
  const MlprtCleanStep **set_clean;
  int nsets, cur_set;
  MlprtArena *arenas; /* one per model, sized by its memory plan */
  int64_t *perm;      /* [train + validation rows] an epoch's order */
  int32_t *fold_of;   /* [train + validation rows] cross-validation fold, when nfolds > 0 */
  int64_t njobs;      /* the program's jobs, plus the final one of a cross-validated search */
  int64_t resume_job; /* --resume: the job checkpoint.bin holds, else -1 */
  Lines metrics;      /* metrics.jsonl so far */
  Lines trials;       /* trials.jsonl so far: one line per tuning trial (and fold) trained */
  MlprtConsole con; /* what the console shows */
  cJSON *table_keys; /* the tuning trials' table's settings columns (every trial's, in order met), once
                        its header is shown */
  double t0;
  int64_t *confusion;      /* [classes, classes] the last evaluation's counts, true class by row */
  int64_t *best_confusion; /* [classes, classes] the test counts of the best job */
  int64_t best_job;        /* the job whose weights.bin was kept, -1 before any */
  float *kept_test_out;    /* [tested rows, K] that job's outputs on the rows of test_rows.csv */
  float *kept_train_out;   /* [training rows, K] and on the training rows, for reference.json */
  cJSON *analysis;         /* the kept job's error analysis (analysis.c) */
  double best_objective;
  double *trial_objective; /* cross-validation: each trial's mean objective (lower is better) */
  char **tpe_settings;     /* [jobs] search = tpe: the settings it chose for a job, or NULL */
  int64_t best_trial;
  unsigned char *pretrained; /* model.pretrained: weights.bin of that run (params, then state), or NULL */
  size_t pretrained_bytes;
  MlprtComm *comm;     /* distributed = mpi: this process's rank; else NULL */
  MlprtShards shards;  /* how a batch's gradient is summed, when sliced or distributed */
  bool sliced;         /* shards > 1 or ranks: batches go through mlprt_shard_step */
};

/* Exit statuses: 1 the data or the training failed, 2 a file could not be
 * read or written (as for mlpc: usage and I/O errors are 2). */
static _Noreturn void vdie(const MlprtRun *r, int status, const char *fmt, va_list ap) {
  if (r->con.drawn) putchar('\n'); /* the bar stays, showing where the run stopped */
  fflush(stdout);
  fprintf(stderr, "%s: error: ", r->prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  /* A failed run leaves the previous run directory as it was. */
  if (r->staged) mlprt_remove_tree(r->out);
  exit(status);
}

static _Noreturn void die(const MlprtRun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void die(const MlprtRun *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdie(r, 1, fmt, ap);
}

static _Noreturn void die_io(const MlprtRun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void die_io(const MlprtRun *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdie(r, 2, fmt, ap);
}

/* Whether every source of a data path ('\n' between several) can be read:
 * when one cannot, a failed load is the file system's, not the data's. */
static bool sources_readable(const char *path) {
  bool ok = true;
  for (const char *s = path; ok && s && *s;) {
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    char *one = strndup(s, len);
    ok = access(one, R_OK) == 0;
    free(one);
    s = nl ? nl + 1 : NULL;
  }
  return ok;
}

/* DIR/NAME into a fresh buffer. */
static char *path_in(const MlprtRun *r, const char *name) {
  size_t n = strlen(r->out) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", r->out, name);
  return p;
}

static void write_path(const MlprtRun *r, const char *p, const void *data, size_t len, bool sync) {
  if (mlprt_write_atomic(p, data, len, sync) != 0) die_io(r, "cannot write '%s': %s", p, strerror(errno));
}

static void write_file(const MlprtRun *r, const char *name, const void *data, size_t len) {
  char *p = path_in(r, name);
  write_path(r, p, data, len, true);
  free(p);
}

static void write_json(const MlprtRun *r, const char *name, const cJSON *j) {
  char *text = cJSON_Print(j);
  size_t n = strlen(text);
  text = realloc(text, n + 2);
  text[n] = '\n';
  text[n + 1] = 0;
  write_file(r, name, text, n + 1);
  free(text);
}

static void lines_append(Lines *b, const char *line) {
  size_t n = strlen(line);
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, line, n + 1);
  b->len += n;
}

/* The whole file at path (malloc'd, *len bytes), or NULL when there is
 * none. */
static char *read_whole(const MlprtRun *r, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  FILE *m = open_memstream(&buf, len);
  char chunk[1 << 16];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
  bool bad = ferror(f) != 0;
  fclose(f);
  fclose(m);
  if (bad) die_io(r, "cannot read '%s': %s", path, strerror(errno));
  return buf;
}

/* Copy DIR/NAME to TO/NAME when it exists. */
static void copy_into(const MlprtRun *r, const char *dir, const char *to, const char *name) {
  size_t n = strlen(dir) + strlen(to) + strlen(name) + 2;
  char *src = malloc(n), *dst = malloc(n);
  snprintf(src, n, "%s/%s", dir, name);
  snprintf(dst, n, "%s/%s", to, name);
  size_t len;
  char *buf = read_whole(r, src, &len);
  if (buf) write_path(r, dst, buf, len, true);
  free(buf);
  free(src);
  free(dst);
}

static bool has_file(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  struct stat st;
  bool yes = stat(p, &st) == 0;
  free(p);
  return yes;
}

/* An existing directory the run may replace: empty, or a run directory. */
static bool replaceable(const char *dir) {
  if (has_file(dir, "manifest.json") || has_file(dir, "checkpoint.bin") || has_file(dir, "metrics.jsonl"))
    return true;
  DIR *d = opendir(dir);
  struct dirent *e;
  bool empty = d != NULL;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
  if (d) closedir(d);
  return empty;
}

/* --resume after a kill: the killed run's staging directory (one with a
 * checkpoint and no manifest yet; the newest if several) becomes this
 * run's. False when there is none. */
static bool adopt_staging(MlprtRun *r, const char *name) {
  size_t plen = strlen(name) + 16;
  char *prefix = malloc(plen);
  snprintf(prefix, plen, "%s.staging-", name);
  DIR *d = opendir(r->parent);
  struct dirent *e;
  char *best = NULL;
  struct timespec best_t = {0, 0};
  while (d && (e = readdir(d))) {
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || !mlprt_temp_is_stale(e->d_name)) continue;
    size_t n = strlen(r->parent) + strlen(e->d_name) + 2;
    char *dir = malloc(n);
    snprintf(dir, n, "%s/%s", r->parent, e->d_name);
    char *ckpt = malloc(n + 16);
    snprintf(ckpt, n + 16, "%s/checkpoint.bin", dir);
    struct stat st;
    if (stat(ckpt, &st) == 0 && !has_file(dir, "manifest.json") &&
        (!best || st.st_mtim.tv_sec > best_t.tv_sec ||
         (st.st_mtim.tv_sec == best_t.tv_sec && st.st_mtim.tv_nsec > best_t.tv_nsec))) {
      free(best);
      best = dir;
      best_t = st.st_mtim;
    } else {
      free(dir);
    }
    free(ckpt);
  }
  if (d) closedir(d);
  free(prefix);
  bool ok = best && rename(best, r->out) == 0;
  free(best);
  return ok;
}

/* metrics.jsonl as far as the checkpoint h goes: a kill between the two
 * writes leaves the file an epoch ahead, and that epoch runs again. */
static void metrics_load(MlprtRun *r, const MlprtCkptHeader *h) {
  FILE *f = fopen(r->metrics_path, "rb");
  if (!f) return;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    long long job, epoch;
    if (sscanf(line, "{\"job\":%lld,\"epoch\":%lld", &job, &epoch) == 2 &&
        (job < h->job || (job == h->job && epoch <= h->epoch)))
      lines_append(&r->metrics, line);
  }
  free(line);
  fclose(f);
}

/* --resume: the job and epoch checkpoint.bin holds, and the metrics lines
 * up to it. */
static void resume_point(MlprtRun *r) {
  r->resume_job = -1;
  if (!r->cli.resume) return;
  char *ckpt = path_in(r, "checkpoint.bin");
  MlprtCkptHeader h;
  if (mlprt_ckpt_peek(ckpt, &h) == 0) {
    r->resume_job = h.job;
    metrics_load(r, &h);
  }
  free(ckpt);
}

/* Lock OUT (OUT.lock beside it), sweep what killed runs left, and make the
 * staging directory OUT.staging-PID the run is written to: fresh, the
 * killed run's (--resume), or seeded with the finished run's checkpoint
 * and metrics (--resume). mlprt_run_close swaps it in. */
static void open_run_dir(MlprtRun *r, const char *out) {
  char err[PATH_MAX + 256];
  size_t len = strlen(out);
  while (len > 1 && out[len - 1] == '/') len--;
  r->final_out = strndup(out, len);
  const char *slash = strrchr(r->final_out, '/');
  const char *name = slash ? slash + 1 : r->final_out;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(r->final_out, "/") == 0) {
    char real[PATH_MAX];
    if (!realpath(r->final_out, real) || strcmp(real, "/") == 0)
      die(r, "'%s' cannot be a run directory", out);
    free(r->final_out);
    r->final_out = strdup(real);
    slash = strrchr(r->final_out, '/');
    name = slash + 1;
  }
  r->parent = slash ? strndup(r->final_out, slash == r->final_out ? 1 : (size_t)(slash - r->final_out))
                    : strdup(".");
  if (mlprt_mkdirs(r->parent) != 0)
    die_io(r, "cannot create the directory '%s': %s", r->parent, strerror(errno));
  size_t n = strlen(r->final_out) + 32;
  char *lock = malloc(n);
  snprintf(lock, n, "%s.lock", r->final_out);
  r->lock_fd = mlprt_lock(lock, err, sizeof err);
  free(lock);
  if (r->lock_fd < 0) die(r, "cannot write the run directory '%s': %s", r->final_out, err);
  struct stat st;
  if (stat(r->final_out, &st) == 0 && (!S_ISDIR(st.st_mode) || !replaceable(r->final_out)))
    die(r, "'%s' exists and is not a run directory; refusing to replace it", r->final_out);
  r->out = malloc(n);
  snprintf(r->out, n, "%s.staging-%ld", r->final_out, (long)getpid());
  mlprt_remove_tree(r->out); /* left by an earlier process with this PID */
  bool adopted = r->cli.resume && adopt_staging(r, name);
  /* Whatever else killed runs left beside OUT, and inside it. */
  char *prefix = malloc(n);
  snprintf(prefix, n, "%s.staging-", name);
  mlprt_sweep_stale(r->parent, prefix);
  snprintf(prefix, n, "%s.old-", name);
  mlprt_sweep_stale(r->parent, prefix);
  free(prefix);
  mlprt_sweep_stale(r->final_out, "");
  if (!adopted && mkdir(r->out, 0755) != 0)
    die_io(r, "cannot create the run directory '%s': %s", r->out, strerror(errno));
  r->staged = true;
  r->metrics_path = path_in(r, "metrics.jsonl");
  if (r->cli.resume && !adopted) {
    copy_into(r, r->final_out, r->out, "checkpoint.bin");
    copy_into(r, r->final_out, r->out, "metrics.jsonl");
  }
  /* File names from the spec stay inside the run directory. */
  const char *names[] = {r->p->cleaning_report, r->p->report};
  for (size_t i = 0; i < 2; i++)
    if (names[i] && mlprt_path_inside(r->out, names[i], err, sizeof err) != 0) die(r, "%s", err);
  resume_point(r);
}

/* distributed = mpi: join the ranks. Every rank runs the whole program;
 * rank 0 alone writes the run directory and the console. */
static void open_ranks(MlprtRun *r, int *argc, char ***argv) {
  r->comm = r->p->comm_open(argc, argv);
  if (!r->comm) die(r, "cannot join the MPI ranks");
  if (r->comm->rank > 0) r->cli.quiet = true;
}

/* --resume under MPI: rank 0 hands its checkpoint and metrics (of any
 * earlier rank count: the slices, not the ranks, fix the weights) to the
 * others' directories, byte for byte. */
static void share_resume(MlprtRun *r) {
  static const char *const names[] = {"checkpoint.bin", "metrics.jsonl"};
  for (size_t i = 0; i < 2; i++) {
    char *path = path_in(r, names[i]);
    size_t len = 0;
    char *data = r->comm->rank == 0 ? read_whole(r, path, &len) : NULL;
    int64_t size = data ? (int64_t)len : -1;
    bool ok = r->comm->bcast(r->comm, &size, sizeof size) == 0;
    if (ok && size >= 0) {
      if (r->comm->rank > 0) data = malloc((size_t)size + 1);
      ok = r->comm->bcast(r->comm, data, (size_t)size) == 0;
      if (ok && r->comm->rank > 0) write_path(r, path, data, (size_t)size, false);
    }
    if (!ok) die(r, "the MPI ranks failed to share %s", names[i]);
    free(data);
    free(path);
  }
  if (r->comm->rank > 0) resume_point(r); /* rank 0's came with its directory */
}

/* The other ranks write what rank 0 writes into a private directory,
 * removed when the run ends. */
static void scratch_dir(MlprtRun *r) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  size_t n = strlen(tmp) + 32;
  r->out = malloc(n);
  snprintf(r->out, n, "%s/mlp-rank-XXXXXX", tmp);
  if (!mkdtemp(r->out)) die_io(r, "cannot create a directory in '%s': %s", tmp, strerror(errno));
  r->staged = true;
  r->metrics_path = path_in(r, "metrics.jsonl");
}

MlprtRun *mlprt_run_open(int argc, char **argv, const MlprtProgram *p) {
  mlprt_fp_flush_subnormals(); /* before any thread starts: they inherit it */
  MlprtRun *r = calloc(1, sizeof *r);
  r->p = p;
  r->prog = argc > 0 ? argv[0] : p->name;
  r->t0 = mlprt_now();
  char err[1024];
  int rc = mlprt_cli_parse(argc, argv, &r->cli, err, sizeof err);
  if (rc == 1) {
    fputs(err, stdout);
    exit(0);
  }
  if (rc < 0) {
    fprintf(stderr, "%s: error: %s\n", r->prog, err);
    exit(2);
  }
  if (!r->cli.quiet && !r->cli.verbose) { /* environment.log, unless the command line says */
    r->cli.verbose = p->log_level == MLPRT_LOG_DEBUG;
    r->cli.quiet = p->log_level >= MLPRT_LOG_WARN;
  }
  r->njobs = p->njobs + (p->nfolds > 0 || p->refit);
  r->jobs = malloc((size_t)r->njobs * sizeof *r->jobs);
  r->res = calloc((size_t)r->njobs, sizeof *r->res);
  for (int64_t j = 0; j < p->njobs; j++) {
    r->jobs[j] = p->jobs[j];
    for (int i = 0; i < r->cli.nsets; i++)
      if (mlprt_job_set(&r->jobs[j], r->cli.set_key[i], r->cli.set_val[i], err, sizeof err) != 0) {
        fprintf(stderr, "%s: error: %s\n", r->prog, err);
        exit(2);
      }
    if (r->cli.seed >= 0) r->jobs[j].seed = r->cli.seed;
    /* Successive halving: --set epochs is the last rung's budget (and job
     * 0's); an earlier rung keeps its own, capped by it. */
    if (p->eta > 0 && r->jobs[j].rung >= 0 && r->jobs[j].rung < p->jobs[0].rung &&
        p->jobs[j].epochs < r->jobs[j].epochs)
      r->jobs[j].epochs = p->jobs[j].epochs;
  }
  /* environment.threads = 0 means one per core. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  r->threads = r->cli.threads   ? r->cli.threads
               : p->threads > 0 ? (int)p->threads
               : cores > 0      ? (int)cores
                                : 1;
  /* environment.blas_threads gives matrix products their own count. */
  int blas = p->blas_threads > 0 ? (int)p->blas_threads : r->threads;
  mlprt_set_threads(blas, 1);
  /* environment.deterministic (the default) keeps OpenBLAS on one thread,
   * whose results do not depend on how many threads the run was given. */
  mlprt_set_deterministic(p->deterministic || blas == 1);
  const char *out = r->cli.out ? r->cli.out : p->out_dir;
  /* Exporting the cleaned features trains nothing: no run directory. */
  r->lock_fd = -1;
  r->resume_job = -1;
  if (p->comm_open) open_ranks(r, &argc, &argv);
  if (!r->cli.export_features && r->comm && r->comm->rank > 0) scratch_dir(r);
  else if (!r->cli.export_features) open_run_dir(r, out);
  if (r->comm && r->cli.resume) share_resume(r);
  mlprt_console_init(&r->con, r->cli.quiet, r->cli.verbose);
  r->best_job = -1;
  r->arenas = calloc((size_t)p->nmodels, sizeof *r->arenas);
  int64_t most = 0;
  for (int64_t m = 0; m < p->nmodels; m++) {
    mlprt_arena_init(&r->arenas[m], (size_t)p->models[m].arena_bytes);
    most = p->models[m].n_params > most ? p->models[m].n_params : most;
  }
  r->sliced = p->shards > 1 || r->comm;
  if (r->sliced && mlprt_shards_init(&r->shards, p->shards, r->comm, most, err, sizeof err) != 0)
    die(r, "%s", err);
  return r;
}

/* model.pretrained: the earlier run's weights.bin, which must still be the
 * file whose digest and shapes the compiler checked. */
static void load_pretrained(MlprtRun *r) {
  const MlprtModel *m = &r->p->models[0];
  size_t want = (size_t)(m->n_params + m->n_state) * sizeof(float);
  size_t n = strlen(r->p->pretrained) + sizeof "/weights.bin";
  char *path = malloc(n), hex[65];
  snprintf(path, n, "%s/weights.bin", r->p->pretrained);
  FILE *f = fopen(path, "rb");
  if (!f) die_io(r, "cannot read the pretrained weights '%s': %s", path, strerror(errno));
  r->pretrained = malloc(want + 1);
  r->pretrained_bytes = fread(r->pretrained, 1, want + 1, f);
  fclose(f);
  mlprt_sha256_hex(r->pretrained, r->pretrained_bytes, hex);
  if (r->pretrained_bytes != want || (r->p->pretrained_sha256 && strcmp(hex, r->p->pretrained_sha256) != 0))
    die(r, "the pretrained weights '%s' changed since the program was built; rebuild it", path);
  free(path);
}

/* How many times the folds are cut: nfolds is that many times k. */
static int64_t fold_repeats(const MlprtProgram *p) {
  return p->fold_repeats > 1 ? p->fold_repeats : 1;
}

/* The folds of the pooled training and validation rows, cut as the split
 * is: stratified by class, by whole groups, or in time order (the pool is
 * then the training rows, then the later validation rows, each in order). */
static void make_folds(MlprtRun *r, int64_t pool) {
  const MlprtProgram *p = r->p;
  const MlprtDataset *d = &r->data;
  MlprtFoldMode mode = p->split_time ? MLPRT_FOLDS_TIME
                       : p->split_group ? MLPRT_FOLDS_GROUPED
                       : p->stratify && d->label[MLPRT_TRAIN] ? MLPRT_FOLDS_STRATIFIED
                                                              : MLPRT_FOLDS_PLAIN;
  int32_t *const *by = mode == MLPRT_FOLDS_GROUPED ? d->group : d->label;
  int32_t *key = NULL;
  if (mode == MLPRT_FOLDS_GROUPED || mode == MLPRT_FOLDS_STRATIFIED) {
    if (!by[MLPRT_TRAIN]) die(r, "grouped folds need the column '%s'", p->split_group);
    key = malloc((size_t)(pool ? pool : 1) * sizeof *key);
    for (int s = MLPRT_TRAIN, at = 0; s <= MLPRT_VALID; at += (int)d->n[s], s++)
      if (d->n[s]) memcpy(key + at, by[s], (size_t)d->n[s] * sizeof *key);
  }
  /* repeated k-fold: each repeat is cut afresh, from the split's seed
   * stepped by a large odd constant */
  int64_t reps = fold_repeats(p), k = p->nfolds / reps;
  r->fold_of = malloc((size_t)(pool ? pool : 1) * (size_t)reps * sizeof *r->fold_of);
  int rc = 0;
  for (int64_t rep = 0; rep < reps && rc == 0; rep++) {
    uint64_t seed = (uint64_t)p->split_seed + (uint64_t)rep * UINT64_C(0x9E3779B97F4A7C15);
    rc = mlprt_folds(pool, (int)k, mode, key, seed, r->fold_of + rep * pool);
  }
  free(key);
  static const char *const what[] = {"rows", "rows", "groups", "rows for time blocks"};
  if (rc != 0)
    die(r, "%lld rows cannot make %lld folds (too few %s)", (long long)pool, (long long)k, what[mode]);
}

void mlprt_run_load(MlprtRun *r) {
  char err[1024];
  r->data_path = r->cli.data ? r->cli.data : r->p->data_path;
  if (r->cli.export_features) {
    if (mlprt_prep_export(r->p, r->data_path, r->cli.export_features, err, sizeof err) != 0)
      die(r, "%s", err);
    if (!r->cli.quiet) printf("%s: cleaned splits written to %s\n", r->p->name, r->cli.export_features);
    exit(0);
  }
  if (mlprt_prep_load(r->p, r->data_path, r->out, &r->data, err, sizeof err) != 0) {
    bool files = !mlprt_format_sql(r->p->data_format); /* a database's failures are its own */
    if (files && (!sources_readable(r->data_path) || (r->p->test_path && !sources_readable(r->p->test_path))))
      die_io(r, "%s", err);
    die(r, "%s", err);
  }
  if (r->data.n[MLPRT_TRAIN] == 0) die(r, "%s: no training rows after the split", r->data_path);
  write_json(r, r->p->cleaning_report ? r->p->cleaning_report : "cleaning.json", r->data.cleaning);
  int64_t pool = r->data.n[MLPRT_TRAIN] + r->data.n[MLPRT_VALID];
  r->perm = malloc((size_t)pool * sizeof *r->perm);
  r->sets = calloc((size_t)r->p->nmodels, sizeof *r->sets);
  r->set_clean = calloc((size_t)r->p->nmodels, sizeof *r->set_clean);
  r->nsets = 1;
  if (r->data.nclasses > 0) {
    size_t cells = (size_t)r->data.nclasses * (size_t)r->data.nclasses;
    r->confusion = calloc(cells, sizeof *r->confusion);
    r->best_confusion = calloc(cells, sizeof *r->best_confusion);
  }
  if (r->p->nfolds > 0) make_folds(r, pool);
  if (r->p->pretrained) load_pretrained(r);
  if (!r->cli.quiet)
    printf("%s: %lld train, %lld validation, %lld test rows%s%s%s, %lld features\n", r->p->name,
           (long long)r->data.n[MLPRT_TRAIN], (long long)r->data.n[MLPRT_VALID],
           (long long)r->data.n[MLPRT_TEST], r->p->test_path ? " (from " : "",
           r->p->test_path ? r->p->test_path : "", r->p->test_path ? ")" : "", (long long)r->data.F);
}

/* ---- the training loop ------------------------------------------------- */

static const MlprtModel *model_of(const MlprtRun *r, int64_t job) {
  return &r->p->models[r->jobs[job].model];
}

/* The data job's model reads becomes r->data: cleaned by the model's
 * chain when a search gave it one (loaded and cleaned at its first use,
 * from the same rows and split), else the program's. */
static void use_data(MlprtRun *r, int64_t job) {
  const MlprtModel *m = model_of(r, job);
  if (r->set_clean[r->cur_set] == m->clean) return;
  r->sets[r->cur_set] = r->data;
  int k = 0;
  while (k < r->nsets && r->set_clean[k] != m->clean) k++;
  if (k == r->nsets) {
    MlprtProgram q = *r->p;
    q.clean = m->clean, q.nclean = m->nclean, q.n_features = m->n_in;
    char err[1024];
    if (mlprt_prep_load(&q, r->data_path, r->out, &r->sets[k], err, sizeof err) != 0) die(r, "%s", err);
    if (r->sets[k].n[MLPRT_TRAIN] == 0) die(r, "%s: no training rows after the split", r->data_path);
    r->set_clean[r->nsets++] = m->clean;
  }
  r->data = r->sets[k];
  r->cur_set = k;
  int64_t pool = r->data.n[MLPRT_TRAIN] + r->data.n[MLPRT_VALID];
  r->perm = realloc(r->perm, (size_t)pool * sizeof *r->perm);
}

/* Fresh weights: zero the whole arena (optimizer state included), then
 * draw the weights from the job's seed, or take the pretrained run's. */
static void reset_model(MlprtRun *r, int64_t job) {
  const MlprtModel *m = model_of(r, job);
  MlprtArena *a = &r->arenas[r->jobs[job].model];
  memset(a->base, 0, a->size);
  m->init(a->base, (uint64_t)r->jobs[job].seed);
  if (r->pretrained) {
    size_t pb = (size_t)m->n_params * sizeof(float);
    memcpy(a->base + m->params_off, r->pretrained, pb);
    memcpy(a->base + m->state_off, r->pretrained + pb, r->pretrained_bytes - pb);
  }
}

/* Rows a pass reads: rows 0..n-1 of one split, or pooled row numbers
 * (training rows first, then validation rows) for cross-validation. */
typedef struct {
  int split;
  const int64_t *rows; /* NULL: the split's own rows */
  int64_t n;
} View;

/* Where row i of a view lives: its split and its row there. */
static int64_t row_of(const MlprtRun *r, const View *v, int64_t i, int *split) {
  if (!v->rows) {
    *split = v->split;
    return i;
  }
  int64_t p = v->rows[i], ntrain = r->data.n[MLPRT_TRAIN];
  *split = p < ntrain ? MLPRT_TRAIN : MLPRT_VALID;
  return p < ntrain ? p : p - ntrain;
}

/* The batch that starts at row `start` of a pass over a view. */
typedef struct {
  const MlprtRun *r;
  const View *v;
  int64_t start;
  void *x;      /* the model's input */
  float *y;     /* and target buffer */
} Batch;

/* An MlprtFillFn: rows lo..hi-1 of the batch into the buffers' first rows. */
static void fill_rows(void *ctx, int64_t lo, int64_t hi) {
  const Batch *b = ctx;
  const MlprtDataset *d = &b->r->data;
  for (int64_t i = lo; i < hi; i++) {
    int s;
    int64_t row = row_of(b->r, b->v, b->r->perm[b->start + i], &s);
    mlprt_dataset_put(d, b->x, i - lo, s, row);
    memcpy(b->y + (i - lo) * d->K, d->y[s] + row * d->K, (size_t)d->K * sizeof *b->y);
  }
}

/* One pass over the first n rows of v in a seeded order; returns the mean
 * loss. No allocation happens here: rows are gathered into the arena's
 * planned input and target buffers. */
static double train_epoch(MlprtRun *r, int64_t job, const View *v, int64_t n, int64_t epoch, int64_t *step,
                          double lr, bool show) {
  const MlprtModel *m = model_of(r, job);
  unsigned char *base = r->arenas[r->jobs[job].model].base;
  uint64_t seed = (uint64_t)r->jobs[job].seed;
  for (int64_t i = 0; i < n; i++) r->perm[i] = i;
  mlprt_shuffle(r->perm, n, seed, UINT64_C(1) << 32 | (uint64_t)epoch);
  Batch b = {r, v, 0, base + m->x_off, (float *)(base + m->y_off)};
  double total = 0;
  for (int64_t start = 0; start < n; start += m->batch) {
    int64_t nb = n - start < m->batch ? n - start : m->batch;
    b.start = start;
    if (r->sliced) {
      double sum;
      if (mlprt_shard_step(&r->shards, m, base, nb, (uint64_t)*step, seed, fill_rows, &b, &sum) != 0)
        die(r, "the MPI ranks failed to exchange the gradients");
      total += sum;
    } else {
      fill_rows(&b, 0, nb);
      m->forward(base, nb, 1, (uint64_t)*step, seed);
      total += m->backward(base, nb) * (double)nb;
    }
    if (!r->sliced) m->update(base, lr, ++*step, 0, m->n_params);
    else if (mlprt_shard_update(&r->shards, m, base, lr, ++*step) != 0)
      die(r, "the MPI ranks failed to exchange the parameters");
    if (show) mlprt_console_batch(&r->con, epoch, start + nb, total / (double)(start + nb));
  }
  return total / (double)n;
}

/* What scoring rows adds up: loss, hits, errors, and the confusion counts
 * in r->confusion. */
typedef struct {
  const MlprtModel *m;
  int64_t n;
  double loss_sum, correct, sse, sae, tsum, tsq;
} Tally;

static Tally tally_open(MlprtRun *r, const MlprtModel *m) {
  int nc = r->data.nclasses;
  if (r->confusion) memset(r->confusion, 0, (size_t)(nc * nc) * sizeof *r->confusion);
  return (Tally){.m = m};
}

/* A regression row's loss on the standardized target: d = output - target. */
static double value_loss(int64_t loss, double delta, double d) {
  double a = fabs(d);
  if (loss == MLPRT_LOSS_MAE) return a;
  if (loss == MLPRT_LOSS_HUBER) return a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
  return d * d;
}

/* The multiclass hinge of one row's probabilities o (K) with label lab:
 * log p in place of the logits, whose differences they keep (run.h). */
static double hinge_loss(const float *o, int64_t K, int32_t lab) {
  double zy = log(fmax(o[lab], 1e-30)), sum = 0;
  for (int64_t k = 0; k < K; k++)
    if (k != lab) sum += fmax(0.0, 1 - zy + log(fmax(o[k], 1e-30)));
  return sum / (double)K;
}

double mlprt_row_loss(const MlprtModel *m, const MlprtDataset *d, const float *o, int s, int64_t row) {
  if (m->task == MLPRT_TASK_MULTICLASS) {
    int32_t lab = d->label[s][row];
    if (m->loss == MLPRT_LOSS_HINGE) return hinge_loss(o, d->K, lab);
    return -log(fmax(o[lab], 1e-12));
  }
  if (m->task == MLPRT_TASK_BINARY) return -log(fmax(d->label[s][row] ? o[0] : 1 - o[0], 1e-12));
  return value_loss(m->loss, m->huber_delta, o[0] - d->y[s][row]);
}

/* Count one row of split s whose model outputs are o (K). */
static void tally_row(MlprtRun *r, Tally *t, const float *o, int s, int64_t row) {
  const MlprtDataset *d = &r->data;
  int nc = d->nclasses;
  t->n++;
  t->loss_sum += mlprt_row_loss(t->m, d, o, s, row);
  if (t->m->task == MLPRT_TASK_MULTICLASS) {
    int32_t lab = d->label[s][row];
    int64_t best = 0;
    for (int64_t k = 1; k < d->K; k++)
      if (o[k] > o[best]) best = k;
    t->correct += best == lab;
    r->confusion[lab * nc + best]++;
  } else if (t->m->task == MLPRT_TASK_BINARY) {
    int32_t lab = d->label[s][row];
    t->correct += (o[0] >= 0.5f) == (lab == 1);
    r->confusion[lab * nc + (o[0] >= 0.5f)]++;
  } else {
    double tv = d->target[s][row];
    double pred = o[0] * d->y_std + d->y_mean;
    t->sse += (pred - tv) * (pred - tv);
    t->sae += fabs(pred - tv);
    t->tsum += tv;
    t->tsq += tv * tv;
  }
}

static Scores tally_scores(const MlprtRun *r, const Tally *t) {
  Scores sc = {.auc = NAN};
  double n = (double)t->n;
  int nc = r->data.nclasses;
  if (t->n == 0) return sc;
  sc.loss = t->loss_sum / n;
  if (t->m->task == MLPRT_TASK_REGRESSION) {
    double var = t->tsq - t->tsum * t->tsum / n;
    sc.mse = t->sse / n;
    sc.rmse = sqrt(sc.mse);
    sc.mae = t->sae / n;
    sc.r2 = var > 0 ? 1 - t->sse / var : 0;
  } else {
    sc.accuracy = t->correct / n;
    /* Macro averages; a class never predicted (or never present) has
     * precision (recall) 0, as scikit-learn's zero_division=0. */
    for (int k = 0; k < nc; k++) {
      MlprtClassScores c = mlprt_class_scores(r->confusion, nc, k);
      sc.precision += c.precision / nc;
      sc.recall += c.recall / nc;
      sc.f1 += c.f1 / nc;
    }
  }
  return sc;
}

/* Rows lo..hi-1 of v, scored by the current weights (inference), added
 * to t; their confusion counts to r->confusion. */
static void tally_rows(MlprtRun *r, int64_t job, const View *v, int64_t lo, int64_t hi, Tally *t) {
  const MlprtModel *m = model_of(r, job);
  unsigned char *base = r->arenas[r->jobs[job].model].base;
  const MlprtDataset *d = &r->data;
  void *x = base + m->x_off;
  const float *out = (const float *)(base + m->out_off);
  for (int64_t start = lo; start < hi; start += m->batch) {
    int64_t nb = hi - start < m->batch ? hi - start : m->batch;
    for (int64_t i = 0; i < nb; i++) {
      int s;
      int64_t row = row_of(r, v, start + i, &s);
      mlprt_dataset_put(d, x, i, s, row);
    }
    m->forward(base, nb, 0, 0, 0);
    for (int64_t i = 0; i < nb; i++) {
      int s;
      int64_t row = row_of(r, v, start + i, &s);
      tally_row(r, t, out + i * d->K, s, row);
    }
  }
}

/* A tally's sums, as exchanged between ranks. */
enum { TALLY_SUMS = 7 };
static void tally_pack(const Tally *t, double *o) {
  const double v[TALLY_SUMS] = {(double)t->n, t->loss_sum, t->correct, t->sse, t->sae, t->tsum, t->tsq};
  memcpy(o, v, sizeof v);
}

/* Block b's sums added to t, in block order. */
static void tally_add(Tally *t, const double *b) {
  t->n += (int64_t)b[0];
  t->loss_sum += b[1];
  t->correct += b[2];
  t->sse += b[3];
  t->sae += b[4];
  t->tsum += b[5];
  t->tsq += b[6];
}

/* Loss and metrics of the current weights on the rows of v (inference).
 * A sliced run cuts the rows into environment.shards blocks at fixed
 * boundaries, tallies each alone and adds the blocks' sums in block
 * order; under MPI each rank tallies its consecutive share of the blocks
 * and the ranks gather the sums, so the scores are the same bits for any
 * rank count. */
static Scores evaluate(MlprtRun *r, int64_t job, const View *v) {
  const MlprtModel *m = model_of(r, job);
  Tally t = tally_open(r, m);
  if (!r->sliced) {
    tally_rows(r, job, v, 0, v->n, &t);
    return tally_scores(r, &t);
  }
  int ranks = r->comm ? r->comm->size : 1, rank = r->comm ? r->comm->rank : 0;
  int64_t blocks = r->p->shards, own = blocks / ranks, n = v->n;
  size_t cells = (size_t)r->data.nclasses * (size_t)r->data.nclasses;
  /* Each rank's part: its blocks' sums, then its confusion counts. */
  size_t per = (size_t)own * TALLY_SUMS + cells;
  double *sums = calloc(per * (size_t)ranks, sizeof *sums), *mine = sums + per * (size_t)rank;
  for (int64_t k = 0; k < own; k++) {
    int64_t b = rank * own + k;
    Tally tb = t; /* no rows yet */
    tally_rows(r, job, v, n * b / blocks, n * (b + 1) / blocks, &tb);
    tally_pack(&tb, mine + k * TALLY_SUMS);
  }
  if (ranks > 1) {
    for (size_t c = 0; c < cells; c++) mine[(size_t)own * TALLY_SUMS + c] = (double)r->confusion[c];
    /* doubles travel as pairs of floats, bit for bit */
    int *count = malloc(2 * (size_t)ranks * sizeof *count), *displ = count + ranks;
    for (int j = 0; j < ranks; j++) {
      count[j] = 2 * (int)per;
      displ[j] = j * 2 * (int)per;
    }
    if (r->comm->allgather(r->comm, (float *)sums, count, displ) != 0)
      die(r, "the MPI ranks failed to exchange the scores");
    free(count);
    for (size_t c = 0; c < cells; c++) {
      r->confusion[c] = 0;
      for (int j = 0; j < ranks; j++) r->confusion[c] += (int64_t)sums[per * (size_t)j + per - cells + c];
    }
  }
  for (int64_t b = 0; b < blocks; b++)
    tally_add(&t, sums + per * (size_t)(b / own) + (size_t)(b % own) * TALLY_SUMS);
  free(sums);
  return tally_scores(r, &t);
}

/* The ROC AUC of the current weights' outputs on the rows of v (NaN
 * without rows). */
static double view_auc(MlprtRun *r, int64_t job, const View *v) {
  if (v->n == 0) return NAN;
  const MlprtModel *m = model_of(r, job);
  unsigned char *base = r->arenas[r->jobs[job].model].base;
  const MlprtDataset *d = &r->data;
  float *outs = malloc((size_t)(v->n * d->K) * sizeof *outs);
  int32_t *labels = malloc((size_t)v->n * sizeof *labels);
  for (int64_t start = 0; start < v->n; start += m->batch) {
    int64_t nb = v->n - start < m->batch ? v->n - start : m->batch;
    for (int64_t i = 0; i < nb; i++) {
      int s;
      int64_t row = row_of(r, v, start + i, &s);
      mlprt_dataset_put(d, base + m->x_off, i, s, row);
      labels[start + i] = d->label[s][row];
    }
    m->forward(base, nb, 0, 0, 0);
    memcpy(outs + start * d->K, base + m->out_off, (size_t)(nb * d->K) * sizeof *outs);
  }
  double auc = mlprt_auc(outs, d->K, labels, d->nclasses, v->n);
  free(outs);
  free(labels);
  return auc;
}

/* A job's final validation scores; with the val_auc objective their ROC
 * AUC too. */
static Scores validate(MlprtRun *r, int64_t job, const View *v) {
  Scores sc = evaluate(r, job, v);
  if (r->p->objective == MLPRT_OBJ_VAL_AUC) sc.auc = view_auc(r, job, v);
  return sc;
}

static View split_view(const MlprtRun *r, int split) {
  return (View){split, NULL, r->data.n[split]};
}

/* The training and validation views of a job: the plain split, the pooled
 * rows outside and inside its fold, or (a refit) every pooled row with the
 * validation split, then part of the training rows, only reported. rows
 * (malloc'd, or NULL) holds pooled row numbers for the caller to free. */
/* Pooled row i's fold in the repeat that fold f (of all repeats x k) is
 * cut in; *fk: f's own number in it. */
static int32_t fold_in_repeat(const MlprtRun *r, int64_t i, int64_t f, int64_t *fk) {
  int64_t k = r->p->nfolds / fold_repeats(r->p), pool = r->data.n[MLPRT_TRAIN] + r->data.n[MLPRT_VALID];
  *fk = f % k;
  return r->fold_of[f / k * pool + i];
}

/* Whether pooled row i trains fold f's job: a row of another fold, and for
 * time folds a row before fold f's block. */
static bool fold_trains(const MlprtRun *r, int64_t i, int64_t f) {
  int64_t fk;
  int32_t at = fold_in_repeat(r, i, f, &fk);
  return r->p->split_time ? at < fk : at != fk;
}

/* Whether pooled row i is held out by fold f's job. */
static bool fold_holds(const MlprtRun *r, int64_t i, int64_t f) {
  int64_t fk;
  return fold_in_repeat(r, i, f, &fk) == fk;
}

static void job_views(const MlprtRun *r, int64_t job, View *train, View *val, int64_t **rows) {
  const MlprtJob *j = &r->jobs[job];
  *rows = NULL;
  *train = split_view(r, MLPRT_TRAIN);
  *val = split_view(r, r->data.n[MLPRT_VALID] > 0 ? MLPRT_VALID : MLPRT_TRAIN);
  if (j->fold == MLPRT_FOLD_NONE) return;
  int64_t pool = r->data.n[MLPRT_TRAIN] + r->data.n[MLPRT_VALID], nin = 0, nout = 0;
  *rows = malloc((size_t)(pool ? pool : 1) * sizeof **rows);
  if (j->fold == MLPRT_FOLD_ALL) {
    for (int64_t i = 0; i < pool; i++) (*rows)[i] = i;
    *train = (View){MLPRT_TRAIN, *rows, pool};
    return;
  }
  /* Held-out rows go after the training rows, both in pooled order. */
  for (int64_t i = 0; i < pool; i++)
    if (fold_trains(r, i, j->fold)) (*rows)[nin++] = i;
  for (int64_t i = 0; i < pool; i++)
    if (fold_holds(r, i, j->fold)) (*rows)[nin + nout++] = i;
  *train = (View){MLPRT_TRAIN, *rows, nin};
  *val = (View){MLPRT_VALID, *rows + nin, nout};
}

/* Whether the cross-validated trials run: when asked (--tune), since they
 * multiply the work, or always with data.folds. */
static bool folds_run(const MlprtRun *r) {
  return r->cli.tune || r->p->cross_validate;
}

static double objective_of(const MlprtRun *r, const JobResult *res);

/* Successive halving: whether the trial of job (rung k > 0) was among the
 * best 1/eta (at least one) of the trials trained at rung k - 1 (of its
 * bracket, with hyperband), ties to the earlier trial. */
static bool promoted(const MlprtRun *r, int64_t job) {
  const MlprtJob *j = &r->jobs[job];
  int64_t mine = -1, ran = 0, better = 0;
  for (int64_t i = 1; i < r->p->njobs; i++)
    if (r->jobs[i].trial == j->trial && r->jobs[i].rung == j->rung - 1) mine = i;
  if (mine < 0 || !r->res[mine].fit_done) return false;
  double o = objective_of(r, &r->res[mine]);
  for (int64_t i = 1; i < r->p->njobs; i++) {
    if (r->jobs[i].trial < 0 || r->jobs[i].rung != j->rung - 1 || r->jobs[i].bracket != j->bracket ||
        !r->res[i].fit_done)
      continue;
    ran++;
    double oi = objective_of(r, &r->res[i]);
    better += oi < o || (oi == o && r->jobs[i].trial < j->trial);
  }
  int64_t keep = ran / r->p->eta;
  return better < (keep > 0 ? keep : 1);
}

/* Tuning trials run only when asked, and with successive halving only
 * when promoted above their first rung (hyperband's bracket s starts s
 * rungs below the last, job 0's); with data.folds the folds and the refit
 * are the run, and the spec's own job (0) is not. */
static bool skipped(const MlprtRun *r, int64_t job) {
  if (r->p->cross_validate) return job == 0;
  const MlprtJob *j = &r->jobs[job];
  if (j->trial >= 0 && !r->cli.tune) return true;
  int64_t first = j->bracket >= 0 ? r->p->jobs[0].rung - j->bracket : 0;
  return r->p->eta > 0 && j->trial >= 0 && j->rung > first && !promoted(r, job);
}

/* The smoke run's rows: a seeded random subset of n training rows (pooled
 * numbers), stratified for classification, so that a file sorted by class
 * cannot hand it a single class. The training rows, shuffled, are grouped
 * by class (each group keeping its shuffled order) and every
 * (rows / n)-th one is taken: each class gets its share, rounded. */
static int64_t *smoke_rows(const MlprtRun *r, int64_t job, int64_t n) {
  const MlprtDataset *d = &r->data;
  int64_t ntrain = d->n[MLPRT_TRAIN];
  int64_t *all = malloc((size_t)ntrain * sizeof *all), *rows = malloc((size_t)n * sizeof *rows);
  for (int64_t i = 0; i < ntrain; i++) all[i] = i;
  mlprt_shuffle(all, ntrain, (uint64_t)r->jobs[job].seed, UINT64_C(3) << 32);
  const int32_t *label = d->label[MLPRT_TRAIN];
  if (label && d->nclasses > 1) {
    int64_t *grouped = malloc((size_t)ntrain * sizeof *grouped), at = 0;
    for (int c = 0; c < d->nclasses; c++)
      for (int64_t i = 0; i < ntrain; i++)
        if (label[all[i]] == c) grouped[at++] = all[i];
    free(all);
    all = grouped;
  }
  for (int64_t i = 0; i < n; i++) rows[i] = all[(int64_t)(((double)i + 0.5) * (double)ntrain / (double)n)];
  free(all);
  return rows;
}

/* The k-th of a line's tab-separated labels (lines of text, the s-th), parsed; NULL when there is none. */
static cJSON *tpe_label(const char *text, int s, int k) {
  const char *at = text;
  for (int i = 0; i < s && at; i++) {
    at = strchr(at, '\n');
    at = at ? at + 1 : NULL;
  }
  for (int i = 0; i < k && at; i++) {
    at += strcspn(at, "\t\n");
    at = *at == '\t' ? at + 1 : NULL;
  }
  if (!at) return NULL;
  size_t len = strcspn(at, "\t\n");
  char *one = strndup(at, len);
  cJSON *v = len ? cJSON_Parse(one) : NULL;
  free(one);
  return v;
}

/* search = tpe: a trial from the startup-th on takes, before its first
 * job trains, the values the estimator chooses for each space from the
 * trials before it (a trial's objective its jobs' mean), in every job of
 * the trial: lr and epochs set in its jobs; a space that shapes the model
 * (tpe_labels) a category, the place of its value, and the jobs take the
 * model compiled for the chosen places. */
static void tpe_choose(MlprtRun *r, int64_t job) {
  const MlprtProgram *p = r->p;
  const MlprtJob *j = &r->jobs[job];
  int64_t per = p->nfolds > 0 ? p->nfolds : 1, n = j->trial;
  if (!p->tpe || n < p->tpe_startup || j->fold > 0 || j->fold == MLPRT_FOLD_ALL || skipped(r, job)) return;
  MlprtTpeSpace sp[MLPRT_TPE_MAX_SPACES];
  int ns = mlprt_tpe_parse(p->tpe, sp, MLPRT_TPE_MAX_SPACES);
  if (ns <= 0) die(r, "the program's tpe spaces are malformed");
  double *x = malloc((size_t)(n * ns) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
  for (int64_t t = 0; t < n; t++) {
    y[t] = 0;
    for (int64_t f = 0; f < per; f++) y[t] += objective_of(r, &r->res[1 + t * per + f]) / (double)per;
    cJSON *set = cJSON_Parse(r->jobs[1 + t * per].settings);
    for (int s = 0; s < ns; s++) {
      const cJSON *got = cJSON_GetObjectItem(set, sp[s].path);
      x[s * n + t] = cJSON_GetNumberValue(got);
      for (int k = 0; p->tpe_labels && k < sp[s].nvals; k++) {
        cJSON *label = tpe_label(p->tpe_labels, s, k);
        if (label && cJSON_Compare(label, got, true)) x[s * n + t] = k;
        cJSON_Delete(label);
      }
    }
    cJSON_Delete(set);
  }
  char text[1024];
  size_t len = (size_t)snprintf(text, sizeof text, "{");
  double v[MLPRT_TPE_MAX_SPACES];
  int64_t combo = 0, stride = 1;
  for (int s = 0; s < ns; s++) {
    v[s] = mlprt_tpe_suggest(&sp[s], x + s * n, y, (int)n, (uint64_t)p->tpe_seed, (uint64_t)s, (uint64_t)n);
    if (strcmp(sp[s].path, "lr") == 0) v[s] = (float)v[s]; /* as the program's own values are */
    cJSON *label = p->tpe_labels ? tpe_label(p->tpe_labels, s, (int)v[s]) : NULL;
    char *shown = label ? cJSON_PrintUnformatted(label) : NULL;
    if (shown) {
      combo += (int64_t)v[s] * stride;
      stride *= sp[s].nvals;
      len += (size_t)snprintf(text + len, sizeof text - len, "%s\"%s\":%s", s ? "," : "", sp[s].path, shown);
    } else {
      len += (size_t)snprintf(text + len, sizeof text - len, "%s\"%s\":%.6g", s ? "," : "", sp[s].path, v[s]);
    }
    free(shown);
    cJSON_Delete(label);
  }
  snprintf(text + len, sizeof text - len, "}");
  if (!r->tpe_settings) r->tpe_settings = calloc((size_t)r->njobs, sizeof *r->tpe_settings);
  for (int64_t f = 0; f < per; f++) {
    int64_t k = 1 + n * per + f;
    for (int s = 0; s < ns; s++) {
      if (strcmp(sp[s].path, "lr") == 0) r->jobs[k].lr = v[s];
      if (strcmp(sp[s].path, "epochs") == 0) r->jobs[k].epochs = (int64_t)v[s];
    }
    if (p->tpe_labels) r->jobs[k].model = p->tpe_models[combo];
    r->tpe_settings[k] = strdup(text);
    r->jobs[k].settings = r->tpe_settings[k];
  }
  free(x);
  free(y);
}

void mlprt_run_smoke(MlprtRun *r, int64_t job) {
  tpe_choose(r, job);
  const MlprtJob *j = &r->jobs[job];
  JobResult *res = &r->res[job];
  if (j->smoke_subset <= 0 || j->smoke_epochs <= 0 || skipped(r, job)) return;
  if (model_of(r, job)->fit != MLPRT_FIT_NETWORK) return; /* nothing runs by epochs */
  use_data(r, job);
  const MlprtModel *m = model_of(r, job);
  int64_t n = (int64_t)llround(j->smoke_subset * (double)r->data.n[MLPRT_TRAIN]);
  if (n < m->batch) n = m->batch < r->data.n[MLPRT_TRAIN] ? m->batch : r->data.n[MLPRT_TRAIN];
  reset_model(r, job);
  int64_t step = 0;
  int64_t *rows = smoke_rows(r, job, n);
  View subset = {MLPRT_TRAIN, rows, n};
  double before = evaluate(r, job, &subset).loss;
  /* The lowest loss before the current run of rising epochs. */
  double lowest = before;
  int64_t rises = 0;
  for (int64_t e = 0; e < j->smoke_epochs; e++) {
    double loss = train_epoch(r, job, &subset, n, e, &step, j->lr, false);
    if (!isfinite(loss))
      die(r, "smoke run: the training loss is %s after %lld epoch(s) on %lld rows; lower the learning rate",
          isnan(loss) ? "NaN" : "infinite", (long long)e + 1, (long long)n);
    if (e > 0 && loss > res->smoke_last) {
      rises++;
    } else {
      rises = 0;
      lowest = fmin(lowest, loss);
    }
    if (e == 0) res->smoke_first = loss;
    res->smoke_last = loss;
    /* A loss a hundred times the untrained model's is diverging; so is one
     * that rose in two epochs running to twice its lowest. */
    if (j->stop_on_divergence && loss > 100 * before)
      die(r,
          "smoke run: the training loss exploded from %.4g to %.4g in %lld epoch(s); lower the learning rate",
          before, loss, (long long)e + 1);
    if (j->stop_on_divergence && rises >= 2 && loss >= 2 * lowest)
      die(r,
          "smoke run: the training loss rose in each of the last %lld epochs, from %.4g to %.4g; lower the "
          "learning rate",
          (long long)rises, lowest, loss);
  }
  /* A loss that does not move learns nothing: the learning rate is far too
   * small, or the features carry no signal. Measured without dropout, on
   * the subset the smoke run trained on. */
  double after = evaluate(r, job, &subset).loss;
  free(rows);
  if (j->stop_on_divergence && before > 0 && fabs(after - before) <= 1e-6 * before)
    die(r, "smoke run: the loss stayed at %.6g for %lld epochs; raise the learning rate or check "
        "that the features vary",
        before, (long long)j->smoke_epochs);
  res->smoke_done = true;
  res->smoke_epochs = j->smoke_epochs;
  if (!r->cli.quiet)
    printf("smoke run: %lld rows, %lld epochs, loss %.4f -> %.4f\n", (long long)n, (long long)j->smoke_epochs,
           res->smoke_first, res->smoke_last);
}

/* A tuning trial shows one row of the trials' table, not its epochs
 * (unless --verbose); the winner's refit shows its epochs. */
static bool in_table(const MlprtRun *r, int64_t job) {
  return r->jobs[job].trial >= 0 && r->jobs[job].fold != MLPRT_FOLD_ALL && !r->cli.verbose;
}

/* An epoch's kept line: losses, the validation metric, seconds. */
/* One epoch on the console; v: its validation scores, NULL when it was not validated. */
static void progress(MlprtRun *r, int64_t job, int64_t epoch, int64_t epochs, double loss, const Scores *v,
                     bool classify, double lr, double secs) {
  if (in_table(r, job)) return;
  char extra[64] = "", val[96] = "";
  if (r->cli.verbose) snprintf(extra, sizeof extra, " lr %.4g", lr);
  if (v)
    snprintf(val, sizeof val, " val_loss %.4f %s %.4f", v->loss, classify ? "val_accuracy" : "val_r2",
             classify ? v->accuracy : v->r2);
  mlprt_console_line(&r->con, "job %lld epoch %lld/%lld loss %.4f%s%s %.2fs\n", (long long)job,
                     (long long)epoch + 1, (long long)epochs, loss, val, extra, secs);
}

/* The searched settings' names over every trial (a family's members search different ones), each
 * once, in the order met: the middle columns of the trials' table. */
static cJSON *table_keys(const MlprtRun *r) {
  cJSON *keys = cJSON_CreateArray();
  for (int64_t i = 0; i < r->njobs; i++) {
    cJSON *set = r->jobs[i].trial >= 0 && r->jobs[i].settings ? cJSON_Parse(r->jobs[i].settings) : NULL;
    for (const cJSON *c = set ? set->child : NULL; c; c = c->next) {
      const cJSON *k = keys->child;
      while (k && strcmp(k->valuestring, c->string) != 0) k = k->next;
      if (!k) cJSON_AddItemToArray(keys, cJSON_CreateString(c->string));
    }
    cJSON_Delete(set);
  }
  return keys;
}

/* One row of the tuning trials' table, its header before the first; a setting the trial does not
 * search is "-". */
static void trial_row(MlprtRun *r, int64_t job, int64_t epochs, const Scores *v, bool classify, double secs) {
  const MlprtJob *j = &r->jobs[job];
  if (!in_table(r, job)) return;
  /* The searched settings are the middle columns, as wide as their names. */
  cJSON *set = cJSON_Parse(j->settings ? j->settings : "{}");
  char head[512], row[512];
  int hn = snprintf(head, sizeof head, "%-5s %-4s", "trial", r->p->eta > 0 ? "rung" : "fold");
  char fold[24] = "-";
  if (r->p->eta > 0) snprintf(fold, sizeof fold, "%lld", (long long)j->rung);
  else if (j->fold >= 0) snprintf(fold, sizeof fold, "%lld", (long long)j->fold);
  int rn = snprintf(row, sizeof row, "%-5lld %-4s", (long long)j->trial, fold);
  bool shown = r->table_keys != NULL;
  if (!shown) r->table_keys = table_keys(r);
  for (const cJSON *k = r->table_keys->child; k && hn < 400 && rn < 400; k = k->next) {
    int w = (int)strlen(k->valuestring) > 9 ? (int)strlen(k->valuestring) : 9;
    hn += snprintf(head + hn, sizeof head - (size_t)hn, " %-*s", w, k->valuestring);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(set, k->valuestring);
    if (!c)
      rn += snprintf(row + rn, sizeof row - (size_t)rn, " %-*s", w, "-");
    else if (cJSON_IsString(c))
      rn += snprintf(row + rn, sizeof row - (size_t)rn, " %-*s", w, c->valuestring);
    else if (cJSON_IsBool(c))
      rn += snprintf(row + rn, sizeof row - (size_t)rn, " %-*s", w, cJSON_IsTrue(c) ? "true" : "false");
    else
      rn += snprintf(row + rn, sizeof row - (size_t)rn, " %-*.4g", w, c->valuedouble);
  }
  cJSON_Delete(set);
  if (!shown)
    mlprt_console_line(&r->con, "%s %-6s %-8s %-8s %7s\n", head, "epochs", "val_loss",
                       classify ? "val_acc" : "val_r2", "seconds");
  mlprt_console_line(&r->con, "%s %-6lld %-8.4f %-8.4f %7.2f\n", row, (long long)epochs, v->loss,
                     classify ? v->accuracy : v->r2, secs);
}

/* The rows of a view gathered for fit.c: their features when with_x, and
 * their class indices or targets. */
typedef struct {
  MlprtFitRows rows;
  float *x, *target;
  int32_t *label;
} Gathered;

static Gathered gather(const MlprtRun *r, const View *v, int64_t task, bool with_x) {
  const MlprtDataset *d = &r->data;
  Gathered g = {0};
  size_t n = (size_t)(v->n ? v->n : 1);
  if (with_x) g.x = malloc(n * (size_t)d->F * sizeof *g.x);
  if (task == MLPRT_TASK_REGRESSION) g.target = malloc(n * sizeof *g.target);
  else g.label = malloc(n * sizeof *g.label);
  for (int64_t i = 0; i < v->n; i++) {
    int s;
    int64_t row = row_of(r, v, i, &s);
    if (g.x) mlprt_dataset_row(d, s, row, g.x + i * d->F);
    if (g.target) g.target[i] = d->target[s][row];
    else g.label[i] = d->label[s][row];
  }
  g.rows = (MlprtFitRows){v->n, d->F, g.x, g.label, g.target, d->nclasses};
  return g;
}

static void gathered_free(Gathered *g) {
  free(g->x);
  free(g->target);
  free(g->label);
}

/* A model fitted at once (fit.c) rather than by epochs: its weights from
 * the training rows, then one metrics line with the training and
 * validation scores. */
static void fit_direct(MlprtRun *r, int64_t job) {
  const MlprtModel *m = model_of(r, job);
  JobResult *res = &r->res[job];
  MlprtArena *a = &r->arenas[r->jobs[job].model];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  static const char *const fits[] = MLPRT_FIT_NAMES;
  View train, val;
  int64_t *rows;
  job_views(r, job, &train, &val, &rows);
  double t0 = mlprt_now();
  reset_model(r, job);
  Gathered g = gather(r, &train, m->task, m->fit >= MLPRT_FIT_LINEAR);
  const MlprtJob *j = &r->jobs[job];
  float *params = (float *)(a->base + m->params_off);
  res->oob = NAN;
  if (m->fit == MLPRT_FIT_SVM && g.rows.n > m->svm_rows)
    die(r, "an %s takes at most %lld training rows (its support vectors are kept in the model) and the "
        "training split has %lld; sample the data or use linear_model(%s)", classify ? "svm" : "svr",
        (long long)m->svm_rows, (long long)g.rows.n, classify ? "loss = hinge" : "");
  if (m->fit == MLPRT_FIT_FOREST) {
    res->oob = mlprt_fit_forest(&g.rows, m, (uint64_t)j->seed, r->threads, r->data.y_mean, r->data.y_std,
                                params);
  } else if (m->fit == MLPRT_FIT_BOOST) {
    Gathered gv = gather(r, &val, m->task, true);
    res->iterations = mlprt_fit_boost(&g.rows, &gv.rows, m, (uint64_t)j->seed, r->threads, r->data.y_mean,
                                      r->data.y_std, params);
    gathered_free(&gv);
  } else if (m->fit == MLPRT_FIT_SVM) {
    res->iterations = mlprt_fit_svm(&g.rows, m, r->data.y_mean, r->data.y_std, params);
    res->support_vectors = (int64_t)params[0];
    res->gamma = params[2];
  } else
    res->iterations = mlprt_fit_model(&g.rows, m, j->l1, j->l2, r->data.y_mean, r->data.y_std, params);
  gathered_free(&g);
  res->fit_seconds = mlprt_now() - t0;
  double loss = evaluate(r, job, &train).loss;
  res->val = validate(r, job, &val);
  char line[512];
  int n = snprintf(line, sizeof line,
                   "{\"job\":%lld,\"fit\":\"%s\",\"iterations\":%lld,\"train_loss\":%.6g,\"val_loss\":%.6g,",
                   (long long)job, fits[m->fit], (long long)res->iterations, loss, res->val.loss);
  if (classify) n += snprintf(line + n, sizeof line - (size_t)n, "\"val_accuracy\":%.6g,", res->val.accuracy);
  else
    n += snprintf(line + n, sizeof line - (size_t)n, "\"val_r2\":%.6g,\"val_mse\":%.6g,", res->val.r2,
                  res->val.mse);
  if (isfinite(res->oob)) n += snprintf(line + n, sizeof line - (size_t)n, "\"oob_score\":%.6g,", res->oob);
  snprintf(line + n, sizeof line - (size_t)n, "\"seconds\":%.4f}\n", res->fit_seconds);
  if (!(r->cli.resume && job < r->resume_job)) lines_append(&r->metrics, line);
  write_path(r, r->metrics_path, r->metrics.s, r->metrics.len, true);
  trial_row(r, job, 0, &res->val, classify, res->fit_seconds);
  if (!in_table(r, job)) {
    char how[64];
    if (m->fit < MLPRT_FIT_LINEAR) snprintf(how, sizeof how, "%s baseline", fits[m->fit]);
    else if (m->fit == MLPRT_FIT_FOREST && isfinite(res->oob))
      snprintf(how, sizeof how, "%lld trees, out-of-bag %s %.4f", (long long)m->trees,
               classify ? "accuracy" : "r2", res->oob);
    else if (m->fit == MLPRT_FIT_FOREST) snprintf(how, sizeof how, "%lld trees", (long long)m->trees);
    else if (m->fit == MLPRT_FIT_SVM)
      snprintf(how, sizeof how, "%s fit in %lld iterations, %lld support vectors", classify ? "svm" : "svr",
               (long long)res->iterations, (long long)res->support_vectors);
    else if (m->fit == MLPRT_FIT_BOOST)
      snprintf(how, sizeof how, "%lld of %lld boosting rounds", (long long)res->iterations,
               (long long)m->trees);
    else if (res->iterations == 0) snprintf(how, sizeof how, "%s fit, solved exactly", fits[m->fit]);
    else snprintf(how, sizeof how, "%s fit in %lld iterations", fits[m->fit], (long long)res->iterations);
    mlprt_console_line(&r->con, "job %lld: %s, loss %.4f val_loss %.4f %s %.4f\n", (long long)job, how, loss,
                       res->val.loss,
           classify ? "val_accuracy" : "val_r2", classify ? res->val.accuracy : res->val.r2);
  }
  free(rows);
  res->fit_done = true;
}

void mlprt_run_fit(MlprtRun *r, int64_t job) {
  if (skipped(r, job)) return;
  use_data(r, job);
  if (model_of(r, job)->fit != MLPRT_FIT_NETWORK) {
    fit_direct(r, job);
    return;
  }
  const MlprtJob *j = &r->jobs[job];
  const MlprtModel *m = model_of(r, job);
  JobResult *res = &r->res[job];
  MlprtArena *a = &r->arenas[j->model];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  View train, val;
  int64_t *rows;
  job_views(r, job, &train, &val, &rows);
  float *params = (float *)(a->base + m->params_off), *best = (float *)(a->base + m->best_off);
  size_t pbytes = (size_t)m->n_params * sizeof(float);
  /* One checkpoint per job, so a resumed search skips what it finished. */
  char *ckpt = path_in(r, "checkpoint.bin");
  /* A resumed run replays the jobs before the checkpointed one (they are
   * deterministic) without overwriting its checkpoint. */
  bool replay = r->cli.resume && job < r->resume_job;
  double last_sync = 0;
  double t_start = mlprt_now();

  MlprtSched sched;
  if (j->sched == MLPRT_SCHED_KIND_COSINE)
    mlprt_sched_cosine(&sched, j->lr, (int)j->warmup,
                       (int)(j->epochs > j->warmup ? j->epochs : j->warmup + 1), fmin(j->min_lr, j->lr));
  else if (j->sched == MLPRT_SCHED_KIND_STEP)
    mlprt_sched_step(&sched, j->lr, (int)(j->sched_step > 0 ? j->sched_step : 1), j->sched_factor);
  else if (j->sched == MLPRT_SCHED_KIND_PLATEAU) {
    mlprt_sched_plateau(&sched, j->lr);
    if (j->sched_step > 0) sched.patience = (int)j->sched_step;
    if (j->sched_factor > 0 && j->sched_factor < 1) sched.factor = j->sched_factor;
    sched.min_lr = j->min_lr;
  } else
    mlprt_sched_constant(&sched, j->lr);

  MlprtCkptHeader h = {.job = job, .best_metric = NAN, .arena_bytes = m->arena_bytes};
  reset_model(r, job);
  if (r->cli.resume && job == r->resume_job) {
    MlprtCkptHeader saved = h;
    if (mlprt_ckpt_load(ckpt, &saved, a->base) == 0) {
      h = saved;
      if (j->sched == MLPRT_SCHED_KIND_PLATEAU) sched.lr = h.lr;
      res->resumed = true;
      if (!r->cli.quiet) printf("resuming job %lld at epoch %lld\n", (long long)job, (long long)h.epoch + 1);
    } else {
      reset_model(r, job);
    }
  }
  int64_t epoch = h.epoch;
  mlprt_console_job(&r->con, job, epoch, j->epochs, train.n);
  for (; epoch < j->epochs; epoch++) {
    double lr = mlprt_sched_lr(&sched, (int)epoch);
    double t_ep = mlprt_now();
    double loss = train_epoch(r, job, &train, train.n, epoch, &h.step, lr, true);
    if (!isfinite(loss))
      die(r, "epoch %lld: the training loss is %s; lower the learning rate", (long long)epoch + 1,
          isnan(loss) ? "NaN" : "infinite");
    /* validation.every: every val_every-th epoch and the last are
     * validated; early stopping and the plateau schedule see only those. */
    bool validated = (epoch + 1) % (j->val_every > 0 ? j->val_every : 1) == 0 || epoch + 1 == j->epochs;
    Scores v = {.loss = NAN, .accuracy = NAN, .r2 = NAN, .mse = NAN};
    if (validated) {
      v = evaluate(r, job, &val);
      double metric = j->monitor_acc ? v.accuracy : v.loss;
      if (isnan(h.best_metric) || (j->monitor_acc ? metric > h.best_metric + j->min_delta
                                                  : metric < h.best_metric - j->min_delta)) {
        h.best_metric = metric;
        h.best_epoch = epoch;
        h.bad_epochs = 0;
        memcpy(best, params, pbytes);
        /* Running statistics belong with the weights they were taken under. */
        memcpy(a->base + m->best_state_off, a->base + m->state_off, (size_t)m->n_state * sizeof(float));
      } else {
        h.bad_epochs++;
      }
      mlprt_sched_observe(&sched, v.loss);
    }
    char line[768];
    double secs = mlprt_now() - t_ep;
    int n =
        snprintf(line, sizeof line, "{\"job\":%lld,\"epoch\":%lld,", (long long)job, (long long)epoch + 1);
    uint64_t mon = (uint64_t)r->p->epoch_monitor;
    if (mon == 0) { /* the default */
      n += snprintf(line + n, sizeof line - (size_t)n, "\"lr\":%.6g,\"train_loss\":%.6g,", lr, loss);
      if (validated && classify)
        n += snprintf(line + n, sizeof line - (size_t)n, "\"val_loss\":%.6g,\"val_accuracy\":%.6g,", v.loss,
                      v.accuracy);
      else if (validated)
        n += snprintf(line + n, sizeof line - (size_t)n,
                      "\"val_loss\":%.6g,\"val_r2\":%.6g,\"val_mse\":%.6g,", v.loss, v.r2, v.mse);
    } else {
      /* validation.monitor: the quantities in their order, the validation ones when validated */
      static const char *const keys[] = MLPRT_MON_KEYS;
      if (validated && mon >> MLPRT_MON_VAL_AUC & 1) v.auc = view_auc(r, job, &val);
      double train_acc = mon >> MLPRT_MON_ACCURACY & 1 ? evaluate(r, job, &train).accuracy : NAN;
      const double vals[] = {loss, v.loss, train_acc, v.accuracy, v.f1, v.auc, v.mae, v.r2, lr};
      for (int k = 0; k < MLPRT_NMONS; k++) {
        bool val_key = k != MLPRT_MON_LOSS && k != MLPRT_MON_ACCURACY && k != MLPRT_MON_LR;
        if ((mon >> k & 1) && (validated || !val_key))
          n += snprintf(line + n, sizeof line - (size_t)n, "\"%s\":%.6g,", keys[k], vals[k]);
      }
    }
    n += snprintf(line + n, sizeof line - (size_t)n, "\"seconds\":%.4f", secs);
    if (r->p->monitor) {
      /* environment.monitor: the resources of every epoch. */
      int64_t rss;
      double cpu;
      mlprt_resources(&rss, &cpu);
      n += snprintf(line + n, sizeof line - (size_t)n,
                    ",\"samples_per_second\":%.6g,\"peak_rss_kib\":%lld,\"cpu_seconds\":%.3f",
                    secs > 0 ? (double)train.n / secs : 0.0, (long long)rss, cpu);
    }
    snprintf(line + n, sizeof line - (size_t)n, "}\n");
    if (!replay) lines_append(&r->metrics, line); /* a replayed job's lines are in the file already */
    progress(r, job, epoch, j->epochs, loss, validated ? &v : NULL, classify, lr, secs);
    h.epoch = epoch + 1;
    h.lr = sched.lr;
    bool stop = j->early_stop && validated && h.bad_epochs >= j->patience;
    /* The metrics every epoch and a checkpoint every checkpoint_every
     * epochs and at the job's end, each replaced atomically, so a killed
     * run resumes from the last checkpoint (the metrics past it are
     * dropped and those epochs run again). Syncing to disk costs
     * milliseconds: after the first epoch, then at most once a second, and
     * at the end. */
    /* Each rank stepped its part of the optimizer's moments: whole again for the checkpoint, which
     * rank 0 alone writes (the others' directories are dropped). */
    if (r->sliced && mlprt_shard_state(&r->shards, m, a->base) != 0)
      die(r, "the MPI ranks failed to exchange the optimizer's state");
    if (!replay) {
      int64_t every = r->p->checkpoint_every > 0 ? r->p->checkpoint_every : 1;
      bool end = stop || h.epoch == j->epochs, save = end || h.epoch % every == 0;
      bool sync = last_sync == 0 || mlprt_now() - last_sync >= 1.0 || end;
      write_path(r, r->metrics_path, r->metrics.s, r->metrics.len, sync);
      if (save && !(r->comm && r->comm->rank > 0) && mlprt_ckpt_save(ckpt, &h, a->base, sync) != 0)
        die_io(r, "cannot write '%s': %s", ckpt, strerror(errno));
      if (sync) last_sync = mlprt_now();
    }
    if (stop) {
      res->stopped_early = true;
      epoch++;
      break;
    }
  }
  write_path(r, r->metrics_path, r->metrics.s, r->metrics.len, true);
  mlprt_console_clear(&r->con);
  const char *monitored = j->monitor_acc ? "val_accuracy" : "val_loss";
  bool restore = j->restore_best && !isnan(h.best_metric);
  if (res->stopped_early && !in_table(r, job))
    mlprt_console_line(
        &r->con,
        "job %lld: early stopping after epoch %lld: %s has not improved by more than %g for %lld "
        "%s (best %.4f at epoch %lld)\n",
        (long long)job, (long long)epoch, monitored, j->min_delta, (long long)j->patience,
        j->val_every > 1 ? "validations" : "epochs", h.best_metric, (long long)h.best_epoch + 1);
  if (restore && h.best_epoch + 1 != epoch && !in_table(r, job))
    mlprt_console_line(&r->con, "job %lld: restored the weights of epoch %lld, the best %s (%.4f)\n",
                       (long long)job, (long long)h.best_epoch + 1, monitored, h.best_metric);
  if (restore) {
    memcpy(params, best, pbytes);
    memcpy(a->base + m->state_off, a->base + m->best_state_off, (size_t)m->n_state * sizeof(float));
  }
  res->epochs_run = epoch;
  res->best_epoch = h.best_epoch + 1;
  res->steps = h.step;
  res->fit_seconds = mlprt_now() - t_start;
  res->val = validate(r, job, &val);
  trial_row(r, job, epoch, &res->val, classify, res->fit_seconds);
  free(rows);
  free(ckpt);
  res->fit_done = true;
}

/* The current weights' outputs on every row of split s, into out
 * ([rows, K], malloc'd here). */
static float *split_outputs(MlprtRun *r, int64_t job, int s) {
  const MlprtModel *m = model_of(r, job);
  unsigned char *base = r->arenas[r->jobs[job].model].base;
  const MlprtDataset *d = &r->data;
  int64_t n = d->n[s];
  float *res = malloc((size_t)(n ? n : 1) * (size_t)d->K * sizeof *res);
  void *x = base + m->x_off;
  const float *out = (const float *)(base + m->out_off);
  for (int64_t start = 0; start < n; start += m->batch) {
    int64_t nb = n - start < m->batch ? n - start : m->batch;
    for (int64_t i = 0; i < nb; i++) mlprt_dataset_put(d, x, i, s, start + i);
    m->forward(base, nb, 0, 0, 0);
    memcpy(res + start * d->K, out, (size_t)(nb * d->K) * sizeof *res);
  }
  return res;
}

static const char *const objective_names[] = MLPRT_OBJECTIVE_NAMES;

/* An objective back in its own sign: the scores are kept negated. */
static double objective_shown(const MlprtProgram *p, double o) {
  return p->objective == MLPRT_OBJ_VAL_LOSS || p->objective == MLPRT_OBJ_VAL_MAE ? o : -o;
}

/* A job's validation objective, oriented so that lower is better. */
static double objective_of(const MlprtRun *r, const JobResult *res) {
  switch (r->p->objective) {
  case MLPRT_OBJ_VAL_ACCURACY:
    return -res->val.accuracy;
  case MLPRT_OBJ_VAL_R2:
    return -res->val.r2;
  case MLPRT_OBJ_VAL_MAE:
    return res->val.mae;
  case MLPRT_OBJ_VAL_F1:
    return -res->val.f1;
  case MLPRT_OBJ_VAL_AUC:
    return -res->val.auc;
  default:
    return res->val.loss;
  }
}

/* The split the final scores are measured on: a test split when the data
 * has one, else the validation split, and named so. */
static const char *eval_name(const MlprtRun *r) {
  return r->data.raw_split == MLPRT_TEST ? "test" : "validation";
}

/* A metric analysis.metrics may name, from scores (NaN for the confusion
 * matrix, which is not one number). */
static double metric_value(const Scores *s, int k) {
  switch (k) {
  case MLPRT_METRIC_ACCURACY:
    return s->accuracy;
  case MLPRT_METRIC_PRECISION:
    return s->precision;
  case MLPRT_METRIC_RECALL:
    return s->recall;
  case MLPRT_METRIC_F1:
    return s->f1;
  case MLPRT_METRIC_AUC:
    return s->auc;
  case MLPRT_METRIC_MSE:
    return s->mse;
  case MLPRT_METRIC_RMSE:
    return s->rmse;
  case MLPRT_METRIC_MAE:
    return s->mae;
  case MLPRT_METRIC_R2:
    return s->r2;
  default:
    return NAN;
  }
}

/* The console's line: the loss and every metric analysis.metrics asks for. */
static void summary(const MlprtRun *r, const Scores *s) {
  printf("%s: loss %.4f", eval_name(r), s->loss);
  for (int k = 0; k < MLPRT_NMETRICS; k++)
    if (r->p->metrics >> k & 1 && k != MLPRT_METRIC_CONFUSION)
      printf(" %s %.4f", mlprt_metric_name(k), metric_value(s, k));
  putchar('\n');
}

/* The kept job's model on rows other than a split's (permutation importance). */
typedef struct {
  MlprtRun *r;
  int64_t job;
} Predictor;

static void predict_rows(void *ctx, const float *x, int64_t n, float *res) {
  const Predictor *pr = ctx;
  const MlprtModel *m = model_of(pr->r, pr->job);
  unsigned char *base = pr->r->arenas[pr->r->jobs[pr->job].model].base;
  int64_t F = pr->r->data.F, K = pr->r->data.K;
  for (int64_t start = 0; start < n; start += m->batch) {
    int64_t nb = n - start < m->batch ? n - start : m->batch;
    memcpy(base + m->x_off, x + start * F, (size_t)(nb * F) * sizeof *x);
    m->forward(base, nb, 0, 0, 0);
    memcpy(res + start * K, base + m->out_off, (size_t)(nb * K) * sizeof *res);
  }
}

static cJSON *scores_json(const Scores *s, bool classify);

/* trials.jsonl: one line per trained trial (each fold of it): its
 * settings, epochs, objective and validation scores. */
static void record_trial(MlprtRun *r, int64_t job) {
  const MlprtJob *j = &r->jobs[job];
  const JobResult *res = &r->res[job];
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "trial", (double)j->trial);
  cJSON_AddNumberToObject(o, "job", (double)job);
  if (j->fold >= 0) cJSON_AddNumberToObject(o, "fold", (double)j->fold);
  if (r->p->eta > 0) cJSON_AddNumberToObject(o, "rung", (double)j->rung);
  if (j->bracket >= 0) cJSON_AddNumberToObject(o, "bracket", (double)j->bracket);
  cJSON *set = cJSON_Parse(j->settings ? j->settings : "{}");
  cJSON_AddItemToObject(o, "settings", set ? set : cJSON_CreateObject());
  cJSON_AddNumberToObject(o, "epochs", (double)res->epochs_run);
  cJSON_AddNumberToObject(o, "best_epoch", (double)res->best_epoch);
  cJSON_AddNumberToObject(o, objective_names[r->p->objective], objective_shown(r->p, objective_of(r, res)));
  cJSON_AddItemToObject(o, "validation",
                        scores_json(&res->val, model_of(r, job)->task != MLPRT_TASK_REGRESSION));
  cJSON_AddNumberToObject(o, "seconds", res->fit_seconds);
  char *text = cJSON_PrintUnformatted(o);
  lines_append(&r->trials, text);
  lines_append(&r->trials, "\n");
  free(text);
  cJSON_Delete(o);
  char *path = path_in(r, "trials.jsonl");
  write_path(r, path, r->trials.s, r->trials.len, true);
  free(path);
}

void mlprt_run_test(MlprtRun *r, int64_t job) {
  if (skipped(r, job)) return;
  use_data(r, job);
  if (r->jobs[job].trial >= 0 && r->jobs[job].fold != MLPRT_FOLD_ALL) record_trial(r, job);
  const MlprtModel *m = model_of(r, job);
  JobResult *res = &r->res[job];
  MlprtArena *a = &r->arenas[r->jobs[job].model];
  /* A fold's score is its held-out fold; the test split waits for the
   * final training of the best trial. */
  if (r->jobs[job].fold >= 0) return;
  View test = split_view(r, r->data.raw_split);
  res->test = evaluate(r, job, &test);
  float *outs = split_outputs(r, job, r->data.raw_split);
  if (m->task != MLPRT_TASK_REGRESSION)
    res->test.auc = mlprt_auc(outs, r->data.K, r->data.label[r->data.raw_split], r->data.nclasses, test.n);
  /* Trials are ranked on validation only; the test split never chooses. */
  double obj = objective_of(r, res);
  /* The refit of a cross-validated search is the result whatever its
   * (no longer held-out) validation score. */
  bool refit = r->jobs[job].fold == MLPRT_FOLD_ALL;
  /* Successive halving: a higher rung (more epochs) outranks a lower one. */
  int64_t rung = r->jobs[job].rung, best_rung = r->best_job < 0 ? -1 : r->jobs[r->best_job].rung;
  if (refit || r->best_job < 0 || rung > best_rung || (rung == best_rung && obj < r->best_objective)) {
    r->best_job = job;
    if (!refit) r->best_objective = obj; /* the winner's as validated, not the refit's own rows' */
    /* weights.bin: the parameter slab, then the running statistics (if any). */
    size_t pb = (size_t)m->n_params * sizeof(float), sb = (size_t)m->n_state * sizeof(float);
    unsigned char *w = malloc(pb + sb + 1);
    memcpy(w, a->base + m->params_off, pb);
    memcpy(w + pb, a->base + m->state_off, sb);
    write_file(r, "weights.bin", w, pb + sb);
    free(w);
    /* The predictor's artifacts describe these weights. */
    free(r->kept_test_out);
    free(r->kept_train_out);
    r->kept_test_out = outs;
    outs = NULL;
    r->kept_train_out = split_outputs(r, job, MLPRT_TRAIN);
    /* The error analysis reads these weights, which a later job may overwrite. */
    Predictor pr = {r, job};
    MlprtAnalysisIn in = {r->p, &r->data, m, r->kept_test_out, predict_rows, &pr};
    char err[512];
    cJSON_Delete(r->analysis);
    r->analysis = mlprt_analysis_json(&in, err, sizeof err);
    if (!r->analysis) die(r, "%s", err);
    if (r->confusion) {
      size_t nc = (size_t)r->data.nclasses;
      memcpy(r->best_confusion, r->confusion, nc * nc * sizeof *r->confusion);
    }
  }
  free(outs);
  if (!r->cli.quiet && !in_table(r, job)) summary(r, &res->test);
}

/* tuning.refit without folds: the winner (trial or the spec's own job) is
 * trained again from its seed on every training and validation row, a
 * network for the epochs its validation rows chose, and takes the test. */
static void refit_winner(MlprtRun *r) {
  int64_t fin = r->p->njobs, best = r->best_job;
  r->jobs[fin] = r->jobs[best];
  r->jobs[fin].fold = MLPRT_FOLD_ALL;
  r->jobs[fin].smoke_subset = 0;
  if (r->res[best].best_epoch > 0) r->jobs[fin].epochs = r->res[best].best_epoch;
  r->jobs[fin].early_stop = 0;
  r->jobs[fin].restore_best = 0;
  char epochs[64] = "";
  if (model_of(r, fin)->fit == MLPRT_FIT_NETWORK)
    snprintf(epochs, sizeof epochs, " for %lld epochs", (long long)r->jobs[fin].epochs);
  mlprt_console_line(&r->con, "refitting the winner (job %lld) on every training and validation row%s\n",
                     (long long)best, epochs);
  mlprt_run_fit(r, fin);
  mlprt_run_test(r, fin);
}

void mlprt_run_best(MlprtRun *r) {
  const MlprtProgram *p = r->p;
  if (p->nfolds <= 0 && p->refit && r->cli.tune && r->best_job >= 0) refit_winner(r);
  if (p->nfolds <= 0 || !folds_run(r)) return;
  /* Job 0 is the spec's own settings; trial t is jobs 1 + t k .. t k + k. */
  int64_t k = p->nfolds, trials = (p->njobs - 1) / k;
  r->trial_objective = malloc((size_t)trials * sizeof *r->trial_objective);
  r->best_trial = 0;
  for (int64_t t = 0; t < trials; t++) {
    double sum = 0;
    for (int64_t f = 0; f < k; f++) sum += objective_of(r, &r->res[1 + t * k + f]);
    r->trial_objective[t] = sum / (double)k;
    if (r->trial_objective[t] < r->trial_objective[r->best_trial]) r->best_trial = t;
  }
  /* The winner is refitted on every row its folds saw, for as many epochs
   * as its folds needed on average, and takes the test. */
  int64_t fin = p->njobs, first = 1 + r->best_trial * k;
  double epochs = 0;
  for (int64_t f = 0; f < k; f++) epochs += (double)r->res[first + f].best_epoch;
  r->jobs[fin] = r->jobs[first];
  r->jobs[fin].fold = MLPRT_FOLD_ALL;
  r->jobs[fin].smoke_subset = 0;
  r->jobs[fin].epochs = llround(epochs / (double)k) > 0 ? llround(epochs / (double)k) : 1;
  r->jobs[fin].early_stop = 0;
  r->jobs[fin].restore_best = 0;
  if (model_of(r, fin)->fit != MLPRT_FIT_NETWORK)
    mlprt_console_line(&r->con,
                       "winner: trial %lld of %lld (mean %s %.4f over %lld folds); refitting it on every "
                       "training and validation row\n",
                       (long long)r->best_trial, (long long)trials, objective_names[p->objective],
                       objective_shown(p, r->trial_objective[r->best_trial]), (long long)k);
  else
    mlprt_console_line(&r->con,
                       "winner: trial %lld of %lld (lr %g, mean %s %.4f over %lld folds); refitting it for "
                       "%lld epochs\n",
                       (long long)r->best_trial, (long long)trials, r->jobs[fin].lr,
                       objective_names[p->objective], objective_shown(p, r->trial_objective[r->best_trial]),
                       (long long)k, (long long)r->jobs[fin].epochs);
  mlprt_run_fit(r, fin);
  mlprt_run_test(r, fin);
}

/* ---- the manifest ------------------------------------------------------ */

static cJSON *scores_json(const Scores *s, bool classify) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "loss", s->loss);
  if (classify) {
    cJSON_AddNumberToObject(o, "accuracy", s->accuracy);
    cJSON_AddNumberToObject(o, "precision", s->precision);
    cJSON_AddNumberToObject(o, "recall", s->recall);
    cJSON_AddNumberToObject(o, "f1", s->f1);
    if (!isnan(s->auc)) cJSON_AddNumberToObject(o, "auc", s->auc);
  } else {
    cJSON_AddNumberToObject(o, "r2", s->r2);
    cJSON_AddNumberToObject(o, "mse", s->mse);
    cJSON_AddNumberToObject(o, "rmse", s->rmse);
    cJSON_AddNumberToObject(o, "mae", s->mae);
  }
  return o;
}

/* A job's or the run's metrics: validation, and test only when there is a
 * test split (without one the final scores are the validation split's). */
static cJSON *metrics_json(const MlprtRun *r, const JobResult *res, bool classify) {
  cJSON *o = cJSON_CreateObject();
  bool test = r->data.raw_split == MLPRT_TEST;
  cJSON_AddStringToObject(o, "evaluated_on", eval_name(r));
  cJSON_AddItemToObject(o, "validation", scores_json(test ? &res->val : &res->test, classify));
  if (test) cJSON_AddItemToObject(o, "test", scores_json(&res->test, classify));
  return o;
}

static cJSON *job_json(const MlprtRun *r, int64_t job) {
  const MlprtJob *j = &r->jobs[job];
  const MlprtModel *m = &r->p->models[j->model];
  const JobResult *res = &r->res[job];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  static const char *const scheds[] = {"constant", "cosine", "step", "plateau"};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "job", (double)job);
  cJSON_AddNumberToObject(o, "model", (double)j->model);
  if (j->trial >= 0) cJSON_AddNumberToObject(o, "trial", (double)j->trial);
  if (j->fold >= 0) {
    cJSON_AddNumberToObject(o, "fold", (double)j->fold);
    int64_t pool = r->data.n[MLPRT_TRAIN] + r->data.n[MLPRT_VALID], rows[2] = {0, 0};
    for (int64_t i = 0; i < pool; i++) {
      rows[0] += fold_trains(r, i, j->fold);
      rows[1] += fold_holds(r, i, j->fold);
    }
    cJSON *n = cJSON_AddObjectToObject(o, "rows");
    cJSON_AddNumberToObject(n, "train", (double)rows[0]);
    cJSON_AddNumberToObject(n, "validation", (double)rows[1]);
  }
  if (r->p->eta > 0 && j->trial >= 0) cJSON_AddNumberToObject(o, "rung", (double)j->rung);
  if (j->bracket >= 0) cJSON_AddNumberToObject(o, "bracket", (double)j->bracket);
  if (j->settings) cJSON_AddItemToObject(o, "settings", cJSON_Parse(j->settings));
  cJSON *hp = cJSON_AddObjectToObject(o, "hyperparameters");
  if (m->fit != MLPRT_FIT_NETWORK) {
    /* Fitted at once: the solver's settings, not the training loop's. */
    static const char *const fits[] = MLPRT_FIT_NAMES;
    cJSON_AddStringToObject(hp, "fit", fits[m->fit]);
    if (m->fit == MLPRT_FIT_FOREST) {
      static const char *const weights[] = {"none", "balanced"};
      cJSON_AddNumberToObject(hp, "trees", (double)m->trees);
      cJSON_AddNumberToObject(hp, "max_depth", (double)m->depth);
      cJSON_AddNumberToObject(hp, "max_features", (double)m->max_features);
      cJSON_AddNumberToObject(hp, "min_samples_leaf", (double)m->min_leaf);
      cJSON_AddBoolToObject(hp, "bootstrap", m->bootstrap);
      cJSON_AddStringToObject(hp, "class_weight", weights[m->class_weight]);
      cJSON_AddNumberToObject(hp, "seed", (double)j->seed);
    } else if (m->fit == MLPRT_FIT_SVM) {
      static const char *const kernels[] = MLPRT_SVM_KERNEL_NAMES;
      cJSON_AddStringToObject(hp, "kernel", kernels[m->svm_kernel]);
      cJSON_AddNumberToObject(hp, "c", m->svm_c);
      cJSON_AddNumberToObject(hp, "gamma", res->gamma);
      cJSON_AddNumberToObject(hp, "coef0", m->svm_coef0);
      cJSON_AddNumberToObject(hp, "degree", (double)m->svm_degree);
      if (m->task == MLPRT_TASK_REGRESSION) cJSON_AddNumberToObject(hp, "epsilon", m->svm_epsilon);
      cJSON_AddNumberToObject(hp, "support_vectors", (double)res->support_vectors);
    } else if (m->fit == MLPRT_FIT_BOOST) {
      cJSON_AddNumberToObject(hp, "trees", (double)m->trees);
      cJSON_AddNumberToObject(hp, "max_depth", (double)m->depth);
      cJSON_AddNumberToObject(hp, "learning_rate", m->learning_rate);
      cJSON_AddNumberToObject(hp, "max_bins", (double)m->max_bins);
      cJSON_AddNumberToObject(hp, "l2", m->leaf_l2);
      cJSON_AddNumberToObject(hp, "min_child_weight", m->min_child_weight);
      cJSON_AddNumberToObject(hp, "subsample", m->subsample);
      if (m->early_stopping) cJSON_AddNumberToObject(hp, "early_stopping", (double)m->early_stopping);
      cJSON_AddStringToObject(hp, "growth", m->max_leaves ? "lossguide" : "depthwise");
      if (m->max_leaves) cJSON_AddNumberToObject(hp, "max_leaves", (double)m->max_leaves);
      cJSON_AddNumberToObject(hp, "seed", (double)j->seed);
    } else if (m->fit >= MLPRT_FIT_LINEAR) {
      int64_t rows = r->data.n[MLPRT_TRAIN];
      cJSON_AddNumberToObject(hp, "l1", j->l1);
      cJSON_AddNumberToObject(hp, "l2", m->l2_per_row && rows ? j->l2 / (double)rows : j->l2);
      cJSON_AddNumberToObject(hp, "max_iterations", (double)m->iterations);
    }
    cJSON_AddNumberToObject(hp, "params", (double)m->n_params);
    cJSON *f = cJSON_AddObjectToObject(o, "fit");
    cJSON_AddNumberToObject(f, "iterations", (double)res->iterations);
    if (isfinite(res->oob)) cJSON_AddNumberToObject(f, "oob_score", res->oob);
    cJSON_AddNumberToObject(f, "seconds", res->fit_seconds);
    cJSON_AddItemToObject(o, "metrics", metrics_json(r, res, classify));
    return o;
  }
  cJSON_AddNumberToObject(hp, "lr", j->lr);
  cJSON_AddNumberToObject(hp, "batch", (double)m->batch);
  cJSON_AddNumberToObject(hp, "epochs", (double)j->epochs);
  cJSON_AddNumberToObject(hp, "seed", (double)j->seed);
  cJSON_AddStringToObject(hp, "schedule", scheds[j->sched]);
  if (j->sched == MLPRT_SCHED_KIND_COSINE || j->sched == MLPRT_SCHED_KIND_PLATEAU)
    cJSON_AddNumberToObject(hp, "min_lr", j->min_lr);
  if (j->optimizer) cJSON_AddStringToObject(hp, "optimizer", j->optimizer);
  static const char *const losses[] = MLPRT_LOSS_NAMES;
  cJSON_AddStringToObject(hp, "loss", losses[m->loss]);
  if (m->loss == MLPRT_LOSS_HUBER) cJSON_AddNumberToObject(hp, "huber_delta", m->huber_delta);
  cJSON_AddNumberToObject(hp, "l1", j->l1);
  cJSON_AddNumberToObject(hp, "l2", j->l2);
  cJSON_AddNumberToObject(hp, "weight_decay", j->weight_decay);
  if (j->clip_norm > 0) cJSON_AddNumberToObject(hp, "clip_norm", j->clip_norm);
  if (j->clip_value > 0) cJSON_AddNumberToObject(hp, "clip_value", j->clip_value);
  cJSON_AddNumberToObject(hp, "params", (double)m->n_params);
  if (m->n_state) cJSON_AddNumberToObject(hp, "state_floats", (double)m->n_state); /* after the params */
  if (res->smoke_done) {
    cJSON *s = cJSON_AddObjectToObject(o, "smoke");
    cJSON_AddNumberToObject(s, "epochs", (double)res->smoke_epochs);
    cJSON_AddNumberToObject(s, "first_loss", res->smoke_first);
    cJSON_AddNumberToObject(s, "last_loss", res->smoke_last);
  }
  cJSON *f = cJSON_AddObjectToObject(o, "fit");
  cJSON_AddNumberToObject(f, "epochs_run", (double)res->epochs_run);
  cJSON_AddNumberToObject(f, "best_epoch", (double)res->best_epoch);
  cJSON_AddNumberToObject(f, "steps", (double)res->steps);
  cJSON_AddBoolToObject(f, "stopped_early", res->stopped_early);
  cJSON_AddBoolToObject(f, "resumed", res->resumed);
  cJSON_AddNumberToObject(f, "seconds", res->fit_seconds);
  /* Model FLOPs per second: forward is 1x, backward about 2x. */
  double flops = 3.0 * (double)m->flops * (double)r->data.n[MLPRT_TRAIN] * (double)res->epochs_run;
  if (res->fit_seconds > 0) cJSON_AddNumberToObject(f, "gflops_per_second", flops / res->fit_seconds / 1e9);
  cJSON_AddItemToObject(o, "metrics", metrics_json(r, res, classify));
  return o;
}

/* ---- the baseline beside the model --------------------------------------- */

/* Scores of outputs o (K), the same for every row of v. */
static Scores score_constant(MlprtRun *r, const MlprtModel *m, const float *o, const View *v) {
  Tally t = tally_open(r, m);
  for (int64_t i = 0; i < v->n; i++) {
    int s;
    int64_t row = row_of(r, v, i, &s);
    tally_row(r, &t, o, s, row);
  }
  return tally_scores(r, &t);
}

/* analysis.baseline: the program's baseline fitted on the kept job's
 * training rows, scored on its validation rows and on the evaluation
 * split, and the model's margin over it there in accuracy (R² for
 * regression), with the sentence that says it; NULL when turned off. */
static cJSON *baseline_json(MlprtRun *r, int64_t best) {
  const MlprtProgram *p = r->p;
  if (p->baseline == MLPRT_FIT_NETWORK) return NULL;
  const MlprtModel *m = model_of(r, best);
  const MlprtDataset *d = &r->data;
  bool classify = m->task != MLPRT_TASK_REGRESSION, test = d->raw_split == MLPRT_TEST;
  static const char *const fits[] = MLPRT_FIT_NAMES;
  View train, val, ev = split_view(r, d->raw_split);
  int64_t *rows;
  job_views(r, best, &train, &val, &rows);
  Gathered g = gather(r, &train, m->task, false);
  float *o = malloc((size_t)d->K * sizeof *o);
  mlprt_fit_baseline(&g.rows, p->baseline, m->task, d->y_mean, d->y_std, o);
  gathered_free(&g);
  Scores sv = score_constant(r, m, o, &val), se = score_constant(r, m, o, &ev);
  free(rows);
  if (classify && ev.n > 0) {
    float *outs = malloc((size_t)(ev.n * d->K) * sizeof *outs);
    for (int64_t i = 0; i < ev.n; i++) memcpy(outs + i * d->K, o, (size_t)d->K * sizeof *o);
    se.auc = mlprt_auc(outs, d->K, d->label[d->raw_split], d->nclasses, ev.n);
    free(outs);
  }
  free(o);
  const Scores *ms = &r->res[best].test;
  const char *metric = classify ? "accuracy" : "r2";
  double mv = classify ? ms->accuracy : ms->r2, bv = classify ? se.accuracy : se.r2;
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "kind", fits[p->baseline]);
  cJSON_AddStringToObject(b, "evaluated_on", eval_name(r));
  cJSON_AddStringToObject(b, "metric", metric);
  cJSON_AddNumberToObject(b, "model", mv);
  cJSON_AddNumberToObject(b, "baseline", bv);
  cJSON_AddNumberToObject(b, "margin", mv - bv);
  cJSON_AddBoolToObject(b, "beats", mv > bv);
  char verdict[256];
  if (mv > bv)
    snprintf(verdict, sizeof verdict, "the model beats the %s baseline by %.4f %s %s (%.4f vs %.4f)",
             fits[p->baseline], mv - bv, eval_name(r), metric, mv, bv);
  else
    snprintf(verdict, sizeof verdict, "the model does not beat the %s baseline: %s %s %.4f vs %.4f",
             fits[p->baseline], eval_name(r), metric, mv, bv);
  cJSON_AddStringToObject(b, "verdict", verdict);
  cJSON_AddItemToObject(b, "validation", scores_json(test ? &sv : &se, classify));
  if (test) cJSON_AddItemToObject(b, "test", scores_json(&se, classify));
  if (mv <= bv && p->log_level != MLPRT_LOG_ERROR) fprintf(stderr, "%s: warning: %s\n", r->prog, verdict);
  else if (!r->cli.quiet) printf("%s\n", verdict);
  return b;
}

static void add_artifact(const MlprtRun *r, cJSON *arts, const char *name) {
  char *p = path_in(r, name), hex[65];
  if (mlprt_sha256_file(p, hex) == 0) cJSON_AddStringToObject(arts, name, hex);
  free(p);
}

/* The manifest's "report" object: what report.html shows that the rest
 * of the manifest does not say. The kept job, its model, the loss and the
 * metrics analysis.metrics asks for on the evaluation split, whether each
 * class's scores (precision, recall or F1 asked) and the confusion matrix
 * (asked) are shown, and the curves and their reading. */
static cJSON *report_json(const MlprtRun *r, int64_t best) {
  const MlprtModel *m = model_of(r, best);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "file", r->p->report);
  cJSON_AddStringToObject(o, "cleaning", r->p->cleaning_report ? r->p->cleaning_report : "cleaning.json");
  cJSON_AddNumberToObject(o, "job", (double)best);
  cJSON *mj = cJSON_AddObjectToObject(o, "model");
  cJSON_AddNumberToObject(mj, "fit", (double)m->fit);
  cJSON_AddNumberToObject(mj, "task", (double)m->task);
  cJSON_AddNumberToObject(mj, "inputs", (double)m->n_in);
  cJSON_AddNumberToObject(mj, "outputs", (double)m->n_out);
  cJSON_AddNumberToObject(mj, "parameters", (double)m->n_params);
  cJSON_AddNumberToObject(mj, "flops", (double)m->flops);
  cJSON_AddNumberToObject(mj, "arena_bytes", (double)m->arena_bytes);
  cJSON_AddNumberToObject(mj, "batch", (double)m->batch);
  cJSON *names = cJSON_AddArrayToObject(o, "metrics");
  cJSON_AddItemToArray(names, cJSON_CreateString("loss"));
  for (int k = 0; k < MLPRT_NMETRICS; k++)
    if (r->p->metrics >> k & 1 && k != MLPRT_METRIC_CONFUSION)
      cJSON_AddItemToArray(names, cJSON_CreateString(mlprt_metric_name(k)));
  unsigned per_class_bits = 1u << MLPRT_METRIC_PRECISION | 1u << MLPRT_METRIC_RECALL | 1u << MLPRT_METRIC_F1;
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  cJSON_AddBoolToObject(o, "per_class", classify && r->p->metrics & per_class_bits);
  cJSON_AddBoolToObject(o, "confusion", classify && r->p->metrics >> MLPRT_METRIC_CONFUSION & 1);
  cJSON_AddBoolToObject(o, "learning_curves", r->p->learning_curves != 0);
  cJSON_AddBoolToObject(o, "bias_variance", r->p->bias_variance != 0);
  return o;
}

int mlprt_run_close(MlprtRun *r) {
  const MlprtProgram *p = r->p;
  /* The run's data is its kept model's, and so is its cleaning record. */
  if (r->best_job >= 0 && r->nsets > 1) {
    use_data(r, r->best_job);
    write_json(r, p->cleaning_report ? p->cleaning_report : "cleaning.json", r->data.cleaning);
  }
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "pipeline", p->name);
  cJSON *spec = cJSON_AddObjectToObject(root, "spec");
  cJSON_AddStringToObject(spec, "path", p->spec_path);
  cJSON_AddStringToObject(spec, "sha256", p->spec_sha256);
  cJSON *data = cJSON_AddObjectToObject(root, "data");
  cJSON_AddStringToObject(data, "format", p->data_format);
  if (strchr(r->data_path, '\n')) {
    /* Several sources: one path per line. */
    cJSON *paths = cJSON_AddArrayToObject(data, "paths");
    for (const char *s = r->data_path, *nl; s; s = nl ? nl + 1 : NULL) {
      nl = strchr(s, '\n');
      char *one = strndup(s, nl ? (size_t)(nl - s) : strlen(s));
      cJSON_AddItemToArray(paths, cJSON_CreateString(one));
      free(one);
    }
  } else {
    cJSON_AddStringToObject(data, "path", r->data_path);
  }
  cJSON_AddStringToObject(data, "sha256", r->data.sha256);
  if (p->test_path) {
    /* A given test set: where the test rows come from. */
    cJSON *ts = cJSON_AddObjectToObject(data, "test_source");
    cJSON_AddStringToObject(ts, "path", p->test_path);
    cJSON_AddStringToObject(ts, "sha256", r->data.test_sha256);
  }
  cJSON_AddNumberToObject(data, "train", (double)r->data.n[MLPRT_TRAIN]);
  cJSON_AddNumberToObject(data, "validation", (double)r->data.n[MLPRT_VALID]);
  cJSON_AddNumberToObject(data, "test", (double)r->data.n[MLPRT_TEST]);
  cJSON_AddNumberToObject(data, "features", (double)r->data.F);
  /* An empty validation split falls back: say so, since the metrics' names do not. */
  if (r->data.n[MLPRT_VALID] == 0) cJSON_AddStringToObject(data, "validation_metrics_from", "train");
  cJSON *env = cJSON_AddObjectToObject(root, "environment");
  mlprt_environment_json(env, p, r->threads);
  cJSON_AddNumberToObject(env, "shards", (double)p->shards);
  if (r->data.cache_fd) {
    cJSON *ooc = cJSON_AddObjectToObject(env, "out_of_core");
    cJSON_AddNumberToObject(ooc, "cache_bytes", (double)r->data.cache_bytes);
    cJSON_AddNumberToObject(ooc, "passes", (double)r->data.cache_passes);
  }
  if (r->comm) {
    cJSON *dist = cJSON_AddObjectToObject(env, "distributed");
    cJSON_AddStringToObject(dist, "backend", "mpi");
    cJSON_AddNumberToObject(dist, "ranks", r->comm->size);
    cJSON_AddNumberToObject(dist, "exchanges", (double)r->comm->calls);
    cJSON_AddNumberToObject(dist, "exchange_seconds", r->comm->seconds);
    /* This rank's own work in the steps, beside the exchange's wait. */
    cJSON_AddNumberToObject(dist, "compute_seconds", r->shards.compute);
    cJSON_AddNumberToObject(dist, "update_seconds", r->shards.update);
  }
  cJSON *jobs = cJSON_AddArrayToObject(root, "jobs");
  for (int64_t j = 0; j < r->njobs; j++)
    if (r->res[j].fit_done) cJSON_AddItemToArray(jobs, job_json(r, j));
  /* The pipeline's metrics are its best job's (the only one without tuning). */
  int64_t best = r->best_job < 0 ? 0 : r->best_job;
  bool classify = p->models[r->jobs[best].model].task != MLPRT_TASK_REGRESSION;
  if (p->njobs > 1) {
    cJSON *tune = cJSON_AddObjectToObject(root, "tuning");
    cJSON_AddBoolToObject(tune, "run", folds_run(r));
    cJSON_AddStringToObject(tune, "objective", objective_names[p->objective]);
    bool cv = p->nfolds > 0;
    int64_t trials = (p->njobs - 1) / (cv ? p->nfolds : 1);
    /* successive halving, hyperband: a trial is several rungs' jobs */
    if (p->eta > 0) trials = 0;
    for (int64_t i = 1; p->eta > 0 && i < p->njobs; i++)
      trials = r->jobs[i].trial >= trials ? r->jobs[i].trial + 1 : trials;
    cJSON_AddNumberToObject(tune, "trials", (double)trials);
    cJSON_AddNumberToObject(tune, "folds", (double)p->nfolds);
    if (fold_repeats(p) > 1) cJSON_AddNumberToObject(tune, "repeats", (double)fold_repeats(p));
    if (folds_run(r)) {
      /* Without folds job 0 (the spec's settings) competes too: -1. */
      cJSON_AddNumberToObject(tune, "best_trial", (double)(cv ? r->best_trial : r->jobs[best].trial));
      if (r->jobs[best].settings)
        cJSON_AddItemToObject(tune, "best_settings", cJSON_Parse(r->jobs[best].settings));
      /* The model weights.bin is of (mlpc export reads it). */
      cJSON_AddNumberToObject(tune, "best_model", (double)r->jobs[best].model);
      /* What the search cost: every trial's epochs (trials.jsonl has each). */
      int64_t spent = 0;
      for (int64_t i = 1; i < p->njobs; i++) spent += r->res[i].fit_done ? r->res[i].epochs_run : 0;
      cJSON_AddNumberToObject(tune, "trial_epochs", (double)spent);
      if (p->eta > 0) cJSON_AddNumberToObject(tune, "eta", (double)p->eta);
      if (r->jobs[1].bracket >= 0) /* hyperband: the first trial is in the bracket of most halvings */
        cJSON_AddNumberToObject(tune, "brackets", (double)r->jobs[1].bracket + 1);
      if (!cv && r->jobs[best].trial < 0)
        mlprt_console_line(&r->con, "winner: the spec's own settings (%s %.4f) over %lld trials\n",
                           objective_names[p->objective], objective_shown(p, r->best_objective),
                           (long long)trials);
      else if (!cv)
        mlprt_console_line(&r->con, "winner: trial %lld of %lld (%s, %s %.4f)\n",
                           (long long)r->jobs[best].trial, (long long)trials, r->jobs[best].settings,
                           objective_names[p->objective], objective_shown(p, r->best_objective));
      if (!cv && in_table(r, best) && !r->cli.quiet) summary(r, &r->res[best].test);
      if (cv) {
        /* Back to the objective's own sign: scores are stored negated. */
        cJSON *objs = cJSON_AddArrayToObject(tune, "mean_objective");
        for (int64_t t = 0; t < trials; t++)
          cJSON_AddItemToArray(objs, cJSON_CreateNumber(objective_shown(p, r->trial_objective[t])));
      }
      if (p->models[r->jobs[best].model].fit != MLPRT_FIT_NETWORK) {
        /* a fit at once searches its penalties only */
        cJSON_AddNumberToObject(tune, "best_l1", r->jobs[best].l1);
        cJSON_AddNumberToObject(tune, "best_l2", r->jobs[best].l2);
      } else {
        cJSON_AddNumberToObject(tune, "best_lr", r->jobs[best].lr);
        cJSON_AddNumberToObject(tune, "best_batch", (double)p->models[r->jobs[best].model].batch);
        cJSON_AddNumberToObject(tune, "best_epochs", (double)r->jobs[best].epochs);
      }
    }
  }
  cJSON *metrics = metrics_json(r, &r->res[best], classify);
  cJSON_AddItemToObject(root, "metrics", metrics);
  cJSON *test = cJSON_GetObjectItem(metrics, eval_name(r));
  if (r->best_confusion) {
    /* Each class's scores, then the counts they come from. */
    int nc = r->data.nclasses;
    cJSON *per = cJSON_AddArrayToObject(test, "per_class");
    for (int k = 0; k < nc; k++) {
      MlprtClassScores c = mlprt_class_scores(r->best_confusion, nc, k);
      cJSON *cj = cJSON_CreateObject();
      cJSON_AddStringToObject(cj, "class", r->data.class_names[k]);
      cJSON_AddNumberToObject(cj, "precision", c.precision);
      cJSON_AddNumberToObject(cj, "recall", c.recall);
      cJSON_AddNumberToObject(cj, "f1", c.f1);
      cJSON_AddNumberToObject(cj, "support", (double)c.support);
      cJSON_AddItemToArray(per, cj);
    }
    /* Rows are true classes, columns predicted ones, in "classes" order. */
    cJSON_AddItemToObject(test, "classes",
                          cJSON_CreateStringArray((const char *const *)r->data.class_names, nc));
    cJSON *conf = cJSON_AddArrayToObject(test, "confusion");
    for (int i = 0; i < nc; i++) {
      cJSON *row = cJSON_CreateArray();
      for (int j = 0; j < nc; j++)
        cJSON_AddItemToArray(row, cJSON_CreateNumber((double)r->best_confusion[i * nc + j]));
      cJSON_AddItemToArray(conf, row);
    }
  }
  cJSON *base = baseline_json(r, best);
  if (base) cJSON_AddItemToObject(root, "baseline", base);
  if (r->analysis) cJSON_AddItemToObject(root, "analysis", r->analysis);
  r->analysis = NULL;
  int64_t rss;
  double cpu;
  mlprt_resources(&rss, &cpu);
  cJSON *res = cJSON_AddObjectToObject(root, "resources");
  cJSON_AddNumberToObject(res, "peak_rss_kib", (double)rss);
  cJSON_AddNumberToObject(res, "cpu_seconds", cpu);
  cJSON_AddNumberToObject(res, "wall_seconds", mlprt_now() - r->t0);
  write_file(r, "spec.mlp", p->spec_text, strlen(p->spec_text));
  cJSON *arts = cJSON_AddObjectToObject(root, "artifacts");
  add_artifact(r, arts, "spec.mlp");
  add_artifact(r, arts, p->cleaning_report ? p->cleaning_report : "cleaning.json");
  add_artifact(r, arts, "metrics.jsonl");
  if (r->trials.len) add_artifact(r, arts, "trials.jsonl");
  add_artifact(r, arts, "weights.bin");
  if (p->report) cJSON_AddItemToObject(root, "report", report_json(r, best));
  if (r->kept_test_out) {
    cJSON *bj = job_json(r, best);
    MlprtArtifacts art = {.p = p,
                          .d = &r->data,
                          .dir = r->out,
                          .data_path = r->data_path,
                          .task = p->models[r->jobs[best].model].task,
                          .model = &p->models[r->jobs[best].model],
                          .test_out = r->kept_test_out,
                          .train_out = r->kept_train_out,
                          .job = bj,
                          .manifest = root};
    char err[1024];
    if (mlprt_artifacts_write(&art, arts, err, sizeof err) != 0) die(r, "%s", err);
    cJSON_Delete(bj);
  }
  /* The report last, from the manifest as it is sealed: mlpc report makes
   * the same file again. */
  if (p->report) {
    char *path = path_in(r, p->report);
    if (mlprt_report_from_manifest(root, r->metrics.s ? r->metrics.s : "", r->trials.s, r->data.cleaning,
                                   path) != 0)
      die_io(r, "cannot write '%s': %s", path, strerror(errno));
    free(path);
    add_artifact(r, arts, p->report);
  }
  write_json(r, "manifest.json", root);
  cJSON_Delete(root);
  if (r->comm && r->comm->rank > 0) {
    mlprt_remove_tree(r->out); /* rank 0 keeps the run */
  } else {
    if (mlprt_manifest_seal(r->out) != 0)
      die_io(r, "cannot seal '%s/manifest.json': %s", r->out, strerror(errno));
    /* The complete run replaces the previous one in one step. */
    if (mlprt_fsync_dir(r->out) != 0 || mlprt_dir_swap(r->out, r->final_out) != 0)
      die_io(r, "cannot move the new run into '%s': %s", r->final_out, strerror(errno));
    mlprt_fsync_dir(r->parent);
    close(r->lock_fd);
  }
  r->staged = false;
  if (r->comm) {
    if (!r->cli.quiet && r->comm->calls > 0)
      printf("%d MPI ranks: %.3f ms exchanging gradients per step\n", r->comm->size,
             1e3 * r->comm->seconds / (double)r->comm->calls);
    r->comm->close(r->comm);
  }
  if (!r->cli.quiet) printf("run directory: %s\n", r->final_out);
  if (r->sliced) mlprt_shards_free(&r->shards);
  for (int64_t m = 0; m < p->nmodels; m++) mlprt_arena_free(&r->arenas[m]);
  mlprt_prep_free(&r->data);
  for (int k = 0; k < r->nsets; k++)
    if (k != r->cur_set) mlprt_prep_free(&r->sets[k]);
  free(r->sets);
  free(r->set_clean);
  free(r->arenas);
  free(r->perm);
  free(r->confusion);
  free(r->best_confusion);
  free(r->kept_test_out);
  free(r->kept_train_out);
  free(r->fold_of);
  free(r->trial_objective);
  for (int64_t j = 0; r->tpe_settings && j < r->njobs; j++) free(r->tpe_settings[j]);
  free(r->tpe_settings);
  cJSON_Delete(r->table_keys);
  free(r->pretrained);
  free(r->metrics.s);
  free(r->trials.s);
  free(r->jobs);
  free(r->res);
  free(r->out);
  free(r->final_out);
  free(r->parent);
  free(r->metrics_path);
  free(r);
  return 0;
}
