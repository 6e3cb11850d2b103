/* run.c — the steps a generated main calls (see include/mlp/run.h): open
 * the run, load and prepare the data, smoke run, fit with validation every
 * epoch, early stopping and checkpoints, test, and the manifest. Consumes
 * the program descriptor, its generated functions and the command line;
 * produces the run directory. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlp/data.h"
#include "mlp/sched.h"
#include "mlp/tensor.h"
#include "train_int.h"

/* What one evaluation pass measured. */
typedef struct {
  double loss;
  double accuracy;     /* classification */
  double r2, mse, mae; /* regression, in the target's own units */
} Scores;

typedef struct {
  bool smoke_done, fit_done, test_done;
  double smoke_first, smoke_last;
  int64_t smoke_epochs;
  int64_t epochs_run, best_epoch, steps;
  bool stopped_early, resumed;
  double fit_seconds;
  Scores val, test;
} JobResult;

struct MlprtRun {
  const MlprtProgram *p;
  const char *prog; /* argv[0] */
  MlprtCli cli;
  MlprtJob *jobs; /* the compiled jobs with --set and --seed applied */
  JobResult *res;
  int threads;
  char *out;                      /* the run directory */
  char *ckpt_path, *metrics_path; /* made once: epochs allocate nothing */
  const char *data_path;
  MlprtDataset data;
  MlprtArena *arenas; /* one per model, sized by its memory plan */
  int64_t *perm;      /* [train rows] the epoch's order */
  char *metrics;      /* metrics.jsonl so far */
  size_t mlen, mcap;
  bool tty;
  double t0;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static _Noreturn void die(const MlprtRun *r, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: error: ", r->prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

/* DIR/NAME into a fresh buffer. */
static char *path_in(const MlprtRun *r, const char *name) {
  size_t n = strlen(r->out) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", r->out, name);
  return p;
}

static void write_path(const MlprtRun *r, const char *p, const void *data, size_t len) {
  if (mlprt_write_atomic(p, data, len) != 0) die(r, "cannot write '%s': %s", p, strerror(errno));
}

static void write_file(const MlprtRun *r, const char *name, const void *data, size_t len) {
  char *p = path_in(r, name);
  write_path(r, p, data, len);
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

static void metrics_append(MlprtRun *r, const char *line) {
  size_t n = strlen(line);
  if (r->mlen + n + 1 > r->mcap) {
    r->mcap = (r->mlen + n + 1) * 2;
    r->metrics = realloc(r->metrics, r->mcap);
  }
  memcpy(r->metrics + r->mlen, line, n + 1);
  r->mlen += n;
}

MlprtRun *mlprt_run_open(int argc, char **argv, const MlprtProgram *p) {
  MlprtRun *r = calloc(1, sizeof *r);
  r->p = p;
  r->prog = argc > 0 ? argv[0] : p->name;
  r->t0 = now();
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
  r->jobs = malloc((size_t)p->njobs * sizeof *r->jobs);
  r->res = calloc((size_t)p->njobs, sizeof *r->res);
  for (int64_t j = 0; j < p->njobs; j++) {
    r->jobs[j] = p->jobs[j];
    for (int i = 0; i < r->cli.nsets; i++)
      if (mlprt_job_set(&r->jobs[j], r->cli.set_key[i], r->cli.set_val[i], err, sizeof err) != 0) {
        fprintf(stderr, "%s: error: %s\n", r->prog, err);
        exit(2);
      }
    if (r->cli.seed >= 0) r->jobs[j].seed = r->cli.seed;
  }
  r->threads = r->cli.threads ? r->cli.threads : p->threads > 0 ? (int)p->threads : 1;
  mlprt_set_threads(r->threads, 1);
  /* One thread is the reproducible setting: identical seeds give identical
   * weights, bit for bit. */
  mlprt_set_deterministic(r->threads == 1);
  const char *out = r->cli.out ? r->cli.out : p->out_dir;
  r->out = strdup(out);
  if (mlprt_mkdirs(r->out) != 0) die(r, "cannot create the run directory '%s': %s", r->out, strerror(errno));
  r->tty = isatty(1) && !r->cli.quiet;
  r->ckpt_path = path_in(r, "checkpoint.bin");
  r->metrics_path = path_in(r, "metrics.jsonl");
  if (r->cli.resume) {
    FILE *f = fopen(r->metrics_path, "rb");
    if (f) {
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf - 1, f)) > 0) {
        buf[n] = 0;
        metrics_append(r, buf);
      }
      fclose(f);
    }
  }
  r->arenas = calloc((size_t)p->nmodels, sizeof *r->arenas);
  for (int64_t m = 0; m < p->nmodels; m++) mlprt_arena_init(&r->arenas[m], (size_t)p->models[m].arena_bytes);
  return r;
}

void mlprt_run_load(MlprtRun *r) {
  char err[1024];
  r->data_path = r->cli.data ? r->cli.data : r->p->data_path;
  if (mlprt_prep_load(r->p, r->data_path, &r->data, err, sizeof err) != 0) die(r, "%s", err);
  if (r->data.n[MLPRT_TRAIN] == 0) die(r, "%s: no training rows after the split", r->data_path);
  write_json(r, "cleaning.json", r->data.cleaning);
  r->perm = malloc((size_t)r->data.n[MLPRT_TRAIN] * sizeof *r->perm);
  if (!r->cli.quiet)
    printf("%s: %lld train, %lld validation, %lld test rows, %lld features\n", r->p->name,
           (long long)r->data.n[MLPRT_TRAIN], (long long)r->data.n[MLPRT_VALID],
           (long long)r->data.n[MLPRT_TEST], (long long)r->data.F);
}

/* ---- the training loop ------------------------------------------------- */

/* Seeded Fisher-Yates over idx[n], a pure function of (seed, stream). */
static void shuffle(int64_t *idx, int64_t n, uint64_t seed, uint64_t stream) {
  for (int64_t i = n - 1; i > 0; i--) {
    uint64_t r = (uint64_t)mlprt_rng_u32(seed, stream, 2 * (uint64_t)i) << 32 |
                 mlprt_rng_u32(seed, stream, 2 * (uint64_t)i + 1);
    int64_t j = (int64_t)(r % (uint64_t)(i + 1));
    int64_t tmp = idx[i];
    idx[i] = idx[j];
    idx[j] = tmp;
  }
}

static const MlprtModel *model_of(const MlprtRun *r, int64_t job) {
  return &r->p->models[r->jobs[job].model];
}

/* Fresh weights: zero the whole arena (optimizer state included), then
 * draw the weights from the job's seed. */
static void reset_model(MlprtRun *r, int64_t job) {
  const MlprtModel *m = model_of(r, job);
  MlprtArena *a = &r->arenas[r->jobs[job].model];
  memset(a->base, 0, a->size);
  m->init(a->base, (uint64_t)r->jobs[job].seed);
}

/* One pass over the first n training rows in a seeded order; returns the
 * mean loss. No allocation happens here: rows are gathered into the
 * arena's planned input and target buffers. */
static double train_epoch(MlprtRun *r, int64_t job, int64_t n, int64_t epoch, int64_t *step, double lr) {
  const MlprtModel *m = model_of(r, job);
  unsigned char *base = r->arenas[r->jobs[job].model].base;
  const MlprtDataset *d = &r->data;
  float *x = (float *)(base + m->x_off), *y = (float *)(base + m->y_off);
  uint64_t seed = (uint64_t)r->jobs[job].seed;
  for (int64_t i = 0; i < n; i++) r->perm[i] = i;
  shuffle(r->perm, n, seed, UINT64_C(1) << 32 | (uint64_t)epoch);
  double total = 0;
  for (int64_t start = 0; start < n; start += m->batch) {
    int64_t nb = n - start < m->batch ? n - start : m->batch;
    for (int64_t i = 0; i < nb; i++) {
      int64_t row = r->perm[start + i];
      memcpy(x + i * d->F, d->x[MLPRT_TRAIN] + row * d->F, (size_t)d->F * sizeof *x);
      memcpy(y + i * d->K, d->y[MLPRT_TRAIN] + row * d->K, (size_t)d->K * sizeof *y);
    }
    m->forward(base, nb, 1, (uint64_t)*step, seed);
    total += m->backward(base, nb) * (double)nb;
    m->update(base, lr, ++*step);
  }
  return total / (double)n;
}

/* Loss and metrics of the current weights on one split (inference mode). */
static Scores evaluate(MlprtRun *r, int64_t job, int split) {
  const MlprtModel *m = model_of(r, job);
  unsigned char *base = r->arenas[r->jobs[job].model].base;
  const MlprtDataset *d = &r->data;
  Scores s = {0};
  int64_t n = d->n[split];
  if (n == 0) return s;
  float *x = (float *)(base + m->x_off);
  const float *out = (const float *)(base + m->out_off);
  double loss = 0, correct = 0, sse = 0, sae = 0, tsum = 0, tsq = 0;
  for (int64_t start = 0; start < n; start += m->batch) {
    int64_t nb = n - start < m->batch ? n - start : m->batch;
    memcpy(x, d->x[split] + start * d->F, (size_t)(nb * d->F) * sizeof *x);
    m->forward(base, nb, 0, 0, 0);
    for (int64_t i = 0; i < nb; i++) {
      const float *o = out + i * d->K;
      if (m->task == MLPRT_TASK_MULTICLASS) {
        int32_t lab = d->label[split][start + i];
        int64_t best = 0;
        for (int64_t k = 1; k < d->K; k++)
          if (o[k] > o[best]) best = k;
        correct += best == lab;
        loss -= log(fmax(o[lab], 1e-12));
      } else if (m->task == MLPRT_TASK_BINARY) {
        int32_t lab = d->label[split][start + i];
        correct += (o[0] >= 0.5f) == (lab == 1);
        loss -= log(fmax(lab ? o[0] : 1 - o[0], 1e-12));
      } else {
        double yv = d->y[split][start + i], t = d->target[split][start + i];
        double pred = o[0] * d->y_std + d->y_mean;
        loss += (o[0] - yv) * (o[0] - yv);
        sse += (pred - t) * (pred - t);
        sae += fabs(pred - t);
        tsum += t;
        tsq += t * t;
      }
    }
  }
  s.loss = loss / (double)n;
  if (m->task == MLPRT_TASK_REGRESSION) {
    double var = tsq - tsum * tsum / (double)n;
    s.mse = sse / (double)n;
    s.mae = sae / (double)n;
    s.r2 = var > 0 ? 1 - sse / var : 0;
  } else {
    s.accuracy = correct / (double)n;
  }
  return s;
}

void mlprt_run_smoke(MlprtRun *r, int64_t job) {
  const MlprtJob *j = &r->jobs[job];
  JobResult *res = &r->res[job];
  if (j->smoke_subset <= 0 || j->smoke_epochs <= 0) return;
  const MlprtModel *m = model_of(r, job);
  int64_t n = (int64_t)llround(j->smoke_subset * (double)r->data.n[MLPRT_TRAIN]);
  if (n < m->batch) n = m->batch < r->data.n[MLPRT_TRAIN] ? m->batch : r->data.n[MLPRT_TRAIN];
  reset_model(r, job);
  int64_t step = 0;
  for (int64_t e = 0; e < j->smoke_epochs; e++) {
    double loss = train_epoch(r, job, n, e, &step, j->lr);
    if (!isfinite(loss))
      die(r, "smoke run: the training loss is %g after %lld epoch(s) on %lld rows; lower the learning rate",
          loss, (long long)e + 1, (long long)n);
    if (e == 0) res->smoke_first = loss;
    res->smoke_last = loss;
  }
  res->smoke_done = true;
  res->smoke_epochs = j->smoke_epochs;
  if (!r->cli.quiet)
    printf("smoke run: %lld rows, %lld epochs, loss %.4f -> %.4f\n", (long long)n, (long long)j->smoke_epochs,
           res->smoke_first, res->smoke_last);
}

static void progress(const MlprtRun *r, int64_t job, int64_t epoch, int64_t epochs, double loss,
                     const Scores *v, bool classify) {
  if (r->cli.quiet) return;
  char metric[64] = "";
  if (classify)
    snprintf(metric, sizeof metric, " val_accuracy %.4f", v->accuracy);
  else
    snprintf(metric, sizeof metric, " val_r2 %.4f", v->r2);
  if (r->tty) {
    int width = 24, done = (int)(width * (epoch + 1) / epochs);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < done ? '#' : '.';
    bar[width] = 0;
    printf("\rjob %lld [%s] epoch %lld/%lld loss %.4f val_loss %.4f%s ", (long long)job, bar,
           (long long)epoch + 1, (long long)epochs, loss, v->loss, metric);
    fflush(stdout);
  } else {
    printf("job %lld epoch %lld/%lld loss %.4f val_loss %.4f%s\n", (long long)job, (long long)epoch + 1,
           (long long)epochs, loss, v->loss, metric);
  }
}

void mlprt_run_fit(MlprtRun *r, int64_t job) {
  const MlprtJob *j = &r->jobs[job];
  const MlprtModel *m = model_of(r, job);
  JobResult *res = &r->res[job];
  MlprtArena *a = &r->arenas[j->model];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  int vsplit = r->data.n[MLPRT_VALID] > 0 ? MLPRT_VALID : MLPRT_TRAIN;
  float *params = (float *)(a->base + m->params_off), *best = (float *)(a->base + m->best_off);
  size_t pbytes = (size_t)m->n_params * sizeof(float);
  const char *ckpt = r->ckpt_path;
  double t_start = now();

  MlprtSched sched;
  if (j->sched == MLPRT_SCHED_KIND_COSINE)
    mlprt_sched_cosine(&sched, j->lr, (int)j->warmup,
                       (int)(j->epochs > j->warmup ? j->epochs : j->warmup + 1), 0);
  else if (j->sched == MLPRT_SCHED_KIND_STEP)
    mlprt_sched_step(&sched, j->lr, (int)(j->sched_step > 0 ? j->sched_step : 1), j->sched_factor);
  else if (j->sched == MLPRT_SCHED_KIND_PLATEAU) {
    mlprt_sched_plateau(&sched, j->lr);
    if (j->sched_step > 0) sched.patience = (int)j->sched_step;
    if (j->sched_factor > 0 && j->sched_factor < 1) sched.factor = j->sched_factor;
  } else
    mlprt_sched_constant(&sched, j->lr);

  MlprtCkptHeader h = {.job = job, .best_metric = NAN, .arena_bytes = m->arena_bytes};
  reset_model(r, job);
  if (r->cli.resume) {
    MlprtCkptHeader saved = h;
    if (mlprt_ckpt_load(ckpt, &saved, a->base) == 0 && saved.job == job) {
      h = saved;
      if (j->sched == MLPRT_SCHED_KIND_PLATEAU) sched.lr = h.lr;
      res->resumed = true;
      if (!r->cli.quiet) printf("resuming job %lld at epoch %lld\n", (long long)job, (long long)h.epoch + 1);
    } else {
      reset_model(r, job);
    }
  }
  int64_t epoch = h.epoch;
  for (; epoch < j->epochs; epoch++) {
    double lr = mlprt_sched_lr(&sched, (int)epoch);
    double t_ep = now();
    double loss = train_epoch(r, job, r->data.n[MLPRT_TRAIN], epoch, &h.step, lr);
    if (!isfinite(loss))
      die(r, "epoch %lld: the training loss is %g; lower the learning rate", (long long)epoch + 1, loss);
    Scores v = evaluate(r, job, vsplit);
    double metric = j->monitor_acc ? v.accuracy : v.loss;
    bool better = isnan(h.best_metric) || (j->monitor_acc ? metric > h.best_metric : metric < h.best_metric);
    if (better) {
      h.best_metric = metric;
      h.best_epoch = epoch;
      h.bad_epochs = 0;
      memcpy(best, params, pbytes);
    } else {
      h.bad_epochs++;
    }
    mlprt_sched_observe(&sched, v.loss);
    char line[512];
    if (classify)
      snprintf(line, sizeof line,
               "{\"job\":%lld,\"epoch\":%lld,\"lr\":%.6g,\"train_loss\":%.6g,\"val_loss\":%.6g,"
               "\"val_accuracy\":%.6g,\"seconds\":%.4f}\n",
               (long long)job, (long long)epoch + 1, lr, loss, v.loss, v.accuracy, now() - t_ep);
    else
      snprintf(line, sizeof line,
               "{\"job\":%lld,\"epoch\":%lld,\"lr\":%.6g,\"train_loss\":%.6g,\"val_loss\":%.6g,"
               "\"val_r2\":%.6g,\"val_mse\":%.6g,\"seconds\":%.4f}\n",
               (long long)job, (long long)epoch + 1, lr, loss, v.loss, v.r2, v.mse, now() - t_ep);
    metrics_append(r, line);
    write_path(r, r->metrics_path, r->metrics, r->mlen);
    progress(r, job, epoch, j->epochs, loss, &v, classify);
    h.epoch = epoch + 1;
    h.lr = sched.lr;
    if (mlprt_ckpt_save(ckpt, &h, a->base) != 0) die(r, "cannot write '%s': %s", ckpt, strerror(errno));
    if (j->early_stop && h.bad_epochs >= j->patience) {
      res->stopped_early = true;
      epoch++;
      break;
    }
  }
  if (r->tty) putchar('\n');
  if (j->restore_best && !isnan(h.best_metric)) memcpy(params, best, pbytes);
  res->epochs_run = epoch;
  res->best_epoch = h.best_epoch + 1;
  res->steps = h.step;
  res->fit_seconds = now() - t_start;
  res->val = evaluate(r, job, vsplit);
  res->fit_done = true;
}

void mlprt_run_test(MlprtRun *r, int64_t job) {
  const MlprtModel *m = model_of(r, job);
  JobResult *res = &r->res[job];
  MlprtArena *a = &r->arenas[r->jobs[job].model];
  res->test = evaluate(r, job, r->data.n[MLPRT_TEST] > 0 ? MLPRT_TEST : MLPRT_VALID);
  res->test_done = true;
  char name[64];
  if (r->p->njobs == 1)
    snprintf(name, sizeof name, "weights.bin");
  else
    snprintf(name, sizeof name, "weights-%lld.bin", (long long)job);
  write_file(r, name, a->base + m->params_off, (size_t)m->n_params * sizeof(float));
  if (!r->cli.quiet) {
    if (m->task == MLPRT_TASK_REGRESSION)
      printf("test: r2 %.4f mse %.4f mae %.4f\n", res->test.r2, res->test.mse, res->test.mae);
    else
      printf("test: accuracy %.4f loss %.4f\n", res->test.accuracy, res->test.loss);
  }
}

/* ---- the manifest ------------------------------------------------------ */

static cJSON *scores_json(const Scores *s, bool classify) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "loss", s->loss);
  if (classify) {
    cJSON_AddNumberToObject(o, "accuracy", s->accuracy);
  } else {
    cJSON_AddNumberToObject(o, "r2", s->r2);
    cJSON_AddNumberToObject(o, "mse", s->mse);
    cJSON_AddNumberToObject(o, "mae", s->mae);
  }
  return o;
}

static cJSON *job_json(const MlprtRun *r, int64_t job) {
  const MlprtJob *j = &r->jobs[job];
  const MlprtModel *m = &r->p->models[j->model];
  const JobResult *res = &r->res[job];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  static const char *const scheds[] = {"constant", "cosine", "step", "plateau"};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "model", (double)j->model);
  cJSON *hp = cJSON_AddObjectToObject(o, "hyperparameters");
  cJSON_AddNumberToObject(hp, "lr", j->lr);
  cJSON_AddNumberToObject(hp, "batch", (double)m->batch);
  cJSON_AddNumberToObject(hp, "epochs", (double)j->epochs);
  cJSON_AddNumberToObject(hp, "seed", (double)j->seed);
  cJSON_AddStringToObject(hp, "schedule", scheds[j->sched]);
  cJSON_AddNumberToObject(hp, "params", (double)m->n_params);
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
  cJSON *mj = cJSON_AddObjectToObject(o, "metrics");
  cJSON_AddItemToObject(mj, "validation", scores_json(&res->val, classify));
  cJSON_AddItemToObject(mj, "test", scores_json(&res->test, classify));
  return o;
}

static void add_artifact(const MlprtRun *r, cJSON *arts, const char *name) {
  char *p = path_in(r, name), hex[65];
  if (mlprt_sha256_file(p, hex) == 0) cJSON_AddStringToObject(arts, name, hex);
  free(p);
}

int mlprt_run_close(MlprtRun *r) {
  const MlprtProgram *p = r->p;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "pipeline", p->name);
  cJSON *spec = cJSON_AddObjectToObject(root, "spec");
  cJSON_AddStringToObject(spec, "path", p->spec_path);
  cJSON_AddStringToObject(spec, "sha256", p->spec_sha256);
  cJSON *data = cJSON_AddObjectToObject(root, "data");
  cJSON_AddStringToObject(data, "path", r->data_path);
  cJSON_AddStringToObject(data, "sha256", r->data.sha256);
  cJSON_AddNumberToObject(data, "train", (double)r->data.n[MLPRT_TRAIN]);
  cJSON_AddNumberToObject(data, "validation", (double)r->data.n[MLPRT_VALID]);
  cJSON_AddNumberToObject(data, "test", (double)r->data.n[MLPRT_TEST]);
  cJSON_AddNumberToObject(data, "features", (double)r->data.F);
  cJSON *env = cJSON_AddObjectToObject(root, "environment");
  cJSON_AddNumberToObject(env, "threads", r->threads);
  cJSON_AddBoolToObject(env, "deterministic", mlprt_deterministic());
  cJSON *jobs = cJSON_AddArrayToObject(root, "jobs");
  for (int64_t j = 0; j < p->njobs; j++) cJSON_AddItemToArray(jobs, job_json(r, j));
  /* The pipeline's metrics are its first job's (the plain split). */
  bool classify = p->models[r->jobs[0].model].task != MLPRT_TASK_REGRESSION;
  cJSON *metrics = cJSON_AddObjectToObject(root, "metrics");
  cJSON_AddItemToObject(metrics, "validation", scores_json(&r->res[0].val, classify));
  cJSON_AddItemToObject(metrics, "test", scores_json(&r->res[0].test, classify));
  int64_t rss;
  double cpu;
  mlprt_resources(&rss, &cpu);
  cJSON *res = cJSON_AddObjectToObject(root, "resources");
  cJSON_AddNumberToObject(res, "peak_rss_kib", (double)rss);
  cJSON_AddNumberToObject(res, "cpu_seconds", cpu);
  cJSON_AddNumberToObject(res, "wall_seconds", now() - r->t0);
  write_file(r, "spec.mlp", p->spec_text, strlen(p->spec_text));
  cJSON *arts = cJSON_AddObjectToObject(root, "artifacts");
  add_artifact(r, arts, "spec.mlp");
  add_artifact(r, arts, "cleaning.json");
  add_artifact(r, arts, "metrics.jsonl");
  if (p->njobs == 1) {
    add_artifact(r, arts, "weights.bin");
  } else {
    for (int64_t j = 0; j < p->njobs; j++) {
      char name[64];
      snprintf(name, sizeof name, "weights-%lld.bin", (long long)j);
      add_artifact(r, arts, name);
    }
  }
  write_json(r, "manifest.json", root);
  cJSON_Delete(root);
  if (!r->cli.quiet) printf("run directory: %s\n", r->out);
  for (int64_t m = 0; m < p->nmodels; m++) mlprt_arena_free(&r->arenas[m]);
  mlprt_prep_free(&r->data);
  free(r->arenas);
  free(r->perm);
  free(r->metrics);
  free(r->jobs);
  free(r->res);
  free(r->out);
  free(r->ckpt_path);
  free(r->metrics_path);
  free(r);
  return 0;
}
