/* run.h — the orchestration of a generated training program.
 *
 * The compiler emits, for each model, shape-specialised functions (init,
 * forward, loss + backward, optimizer update) and a `main` that calls the
 * steps below in order:
 *
 *   ctx = mlprt_run_open(argc, argv, &program);   CLI, run directory, threads
 *   mlprt_run_load(ctx);                           data: load, split, clean
 *   for each job: mlprt_run_smoke(ctx, j);         a few epochs on a subset
 *                 mlprt_run_fit(ctx, j);           epochs, validation, early stop
 *                 mlprt_run_test(ctx, j);          test metrics; weights.bin of the best job
 *   return mlprt_run_close(ctx);                   metrics, manifest.json
 *
 * Job 0 trains the spec's own settings. Further jobs are tuning trials,
 * run only with --tune: each is ranked by its validation objective, and
 * the best job's weights and metrics are the run's. With
 * cross-validation (nfolds > 0) the trials are trials x folds: job
 * 1 + t*k + f trains trial t on the training and validation rows outside fold f and
 * scores it on fold f; then
 *
 *   mlprt_run_best(ctx);                           refit the best trial, test it
 *
 * retrains the trial with the best mean objective on every training and
 * validation row for the mean of its folds' best epoch counts (no early
 * stopping: nothing is held out) and tests it; it does nothing when nfolds
 * is 0.
 *
 * Consumes the program descriptor below (a constant the compiler emits) and
 * the command line; produces a run directory: manifest.json, metrics.jsonl,
 * weights.bin, checkpoint.bin, cleaning.json. Every file is written
 * atomically (temp file + rename).
 *
 * Every field of the descriptors is 8 bytes wide (int64_t, double or a
 * pointer) so that the generated constant's layout matches this header
 * without padding rules. */
#ifndef MLP_RUN_H
#define MLP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the program descriptor -------------------------------------------- */

enum { MLPRT_TASK_MULTICLASS = 0, MLPRT_TASK_BINARY = 1, MLPRT_TASK_REGRESSION = 2 };

/* One model's generated code and memory plan. Offsets are bytes into the
 * arena of arena_bytes; the functions take the arena's base. */
typedef struct {
  void (*init)(void *base, uint64_t seed); /* weights from seed, biases 0 */
  void (*forward)(void *base, int64_t n, int64_t train, uint64_t step, uint64_t seed);
  double (*backward)(void *base, int64_t n);        /* zero grads, loss, grads; mean loss */
  void (*update)(void *base, double lr, int64_t t); /* one optimizer step, t from 1 */
  int64_t task;                                     /* MLPRT_TASK_* */
  int64_t n_in, n_out;                              /* features per sample; output units */
  int64_t batch;                                    /* rows the functions accept at most */
  int64_t n_params;
  int64_t arena_bytes;
  int64_t params_off, grads_off, m_off, v_off, best_off; /* each [n_params] floats */
  int64_t x_off;                                         /* [batch, n_in] inputs */
  int64_t y_off;                                         /* [batch, n_out] targets: one-hot, 0/1 or values */
  int64_t out_off;                                       /* [batch, n_out] predictions after forward */
  int64_t flops;                                         /* forward FLOPs per sample */
  int64_t n_state;                   /* floats of non-trained state (batch norm's running statistics) */
  int64_t state_off, best_state_off; /* each [n_state]; unused when n_state is 0 */
} MlprtModel;

enum { MLPRT_FOLD_NONE = -1, MLPRT_FOLD_ALL = -2 };

enum { MLPRT_SCHED_KIND_CONSTANT, MLPRT_SCHED_KIND_COSINE, MLPRT_SCHED_KIND_STEP, MLPRT_SCHED_KIND_PLATEAU };

/* One training job. */
typedef struct {
  int64_t model; /* index into MlprtProgram.models */
  int64_t epochs;
  int64_t seed;
  double lr;
  int64_t sched;      /* MLPRT_SCHED_KIND_* */
  int64_t warmup;     /* cosine */
  int64_t sched_step; /* step: epochs per decay; plateau: patience */
  double sched_factor;
  double smoke_subset; /* 0: no smoke run */
  int64_t smoke_epochs;
  int64_t early_stop;  /* bool */
  int64_t monitor_acc; /* bool: monitor val_accuracy (else val_loss) */
  int64_t patience;
  int64_t restore_best;  /* bool */
  double min_delta;      /* early stopping: smaller improvements do not count */
  int64_t fold;          /* cross-validation fold this job holds out; MLPRT_FOLD_NONE: the plain split;
                            MLPRT_FOLD_ALL: every training and validation row (a refit) */
  int64_t trial;         /* tuning trial, or -1 */
  const char *optimizer; /* for the manifest: sgd, adam or adamw (the update is compiled in) */
  double l1, l2, weight_decay, clip_norm, clip_value; /* likewise */
  int64_t stop_on_divergence; /* bool: the smoke run stops on an exploding or flat loss */
} MlprtJob;

/* One step of the spec's cleaning chain, applied in order after the split
 * (fitted on training rows only, through clean.h). Ops, selectors and
 * methods are codes (clean.h); listed columns are resolved against the
 * table as the step meets it. */
typedef struct {
  int64_t op;          /* MlprtCleanOp */
  int64_t select;      /* MlprtSelect: a type selector, or MLPRT_SELECT_NAMES for `columns` */
  const char *columns; /* MLPRT_SELECT_NAMES: the names, each ending in '\n'; else NULL */
  const char *keep;    /* clip_outliers, drop_outliers: columns never treated, each ending in '\n'; or NULL */
  int64_t method;      /* impute: MlprtImpute; clip_outliers, drop_outliers: MlprtOutlierMethod; else 0 */
  double param;        /* outliers: the threshold; impute: the constant; hash_encode: buckets; onehot:
                          max_levels */
  double low, high;    /* minmax: the images of each column's minimum and maximum */
  int64_t flag;        /* impute: add indicator columns; onehot: an unseen level is an error */
} MlprtCleanStep;

/* The whole program: data plan, models, jobs. */
typedef struct {
  const char *name;      /* the pipeline's name */
  const char *spec_path; /* as given to the compiler */
  const char *spec_sha256;
  const char *out_dir; /* default run directory */
  int64_t threads;
  const char *data_format;
  const char *data_path;  /* resolved against the spec's directory at compile time */
  const char *data_path2; /* idx labels, else NULL */
  const char *target;
  const char *spec_text; /* the spec's source, recorded for cleaning and manifest */
  int64_t n_features, n_classes;
  double val_frac, test_frac;
  int64_t stratify;
  int64_t split_seed;
  const MlprtCleanStep *clean;
  int64_t nclean;
  const MlprtModel *models;
  int64_t nmodels;
  const MlprtJob *jobs;
  int64_t njobs;
  int64_t objective; /* MLPRT_OBJ_*: ranks jobs when there are several (tuning trials) */
  int64_t nfolds;    /* > 0: the jobs are trials x folds over the training and validation rows */
  /* How the source is read (data_format csv, json or jsonl). */
  int64_t delimiter;       /* csv: the field separator; 0: ',' */
  int64_t no_header;       /* csv: the first line is data, columns are c1, c2, ... */
  const char *na_values;   /* texts meaning a missing value, each ending in '\n'; NULL: the loader's */
  const char *schema;      /* declared column types, "NAME\tTYPE\n" each (TYPE: mlprt_col_type_name); NULL */
  const char *split_group; /* rows sharing this column's value stay in one part; NULL */
  const char *split_time;  /* split in this column's order: the latest rows validate and test; NULL */
  const char *cleaning_report; /* the cleaning record's file name in the run directory */
  int64_t deterministic;       /* bit-identical for any thread count: matrix products on one thread */
  const char *report;          /* analysis.report: the HTML report's file name, or NULL for none */
  int64_t learning_curves, bias_variance; /* analysis: what the report shows */
  const char *compiler;   /* "mlpc VERSION (LLVM X.Y.Z)", for the manifest */
  const char *target_cpu; /* the CPU the program was compiled for */
  const char *version;    /* deploy.version, for the model card; NULL when the spec has no deploy section */
  int64_t no_card;        /* deploy.card = false: the run writes no MODEL_CARD.md */
} MlprtProgram;

/* What ranks trials: the validation loss or MAE (lower is better), accuracy
 * or R² (higher is better). ORDER OBJECTIVE */
enum { MLPRT_OBJ_VAL_LOSS, MLPRT_OBJ_VAL_ACCURACY, MLPRT_OBJ_VAL_R2, MLPRT_OBJ_VAL_MAE };

/* ---- the training program's command line -------------------------------- */

#define MLPRT_MAX_SETS 32

/* PROG [--data PATH] [--out DIR] [--set KEY=VALUE ...] [--threads N]
 *      [--seed N] [--quiet] [--resume] [--tune] [--export-features DIR] */
typedef struct {
  const char *data; /* NULL: the compiled path */
  const char *out;  /* NULL: the compiled directory */
  const char *set_key[MLPRT_MAX_SETS], *set_val[MLPRT_MAX_SETS];
  int nsets;
  int threads;  /* 0: the compiled value */
  int64_t seed; /* -1: the compiled seed */
  bool quiet, resume;
  bool tune; /* run the tuning trials too */
  const char *export_features; /* DIR: write the cleaned splits as CSV instead of training; else NULL */
} MlprtCli;

/* 0 on success; -1 with a message in err (n bytes) on a bad command line;
 * 1 when --help was asked (usage in err). */
int mlprt_cli_parse(int argc, char **argv, MlprtCli *cli, char *err, size_t n);

/* Apply the --set overrides to a job: epochs, lr, batch-independent keys
 * (epochs, lr, patience, seed, smoke_epochs, early_stopping=0|1). Returns 0,
 * or -1 with a message naming the unknown key or bad value. */
int mlprt_job_set(MlprtJob *job, const char *key, const char *val, char *err, size_t n);

/* ---- files ------------------------------------------------------------- */

/* Write len bytes to path through path.tmp.PID + rename: readers, and a
 * run resumed after a kill, see the old file or the new one, never a torn
 * one. With sync the data is also on disk before the rename, so a crash of
 * the whole machine cannot leave the new name on unwritten blocks (an fsync
 * costs milliseconds). 0 or -1 (errno). */
int mlprt_write_atomic(const char *path, const void *data, size_t len, bool sync);
/* Make a directory and its parents; 0 or -1 (errno). */
int mlprt_mkdirs(const char *path);

/* SHA-256 (FIPS 180-4). */
typedef struct {
  uint32_t h[8];
  uint64_t len; /* bytes hashed so far */
  uint8_t buf[64];
  size_t nbuf;
} MlprtSha256;
void mlprt_sha256_init(MlprtSha256 *s);
void mlprt_sha256_update(MlprtSha256 *s, const void *data, size_t n);
void mlprt_sha256_final(MlprtSha256 *s, uint8_t out[32]);
/* The same, as the hex digest (65 bytes with NUL). */
void mlprt_sha256_final_hex(MlprtSha256 *s, char hex[65]);
/* The hex digest (65 bytes with NUL) of a buffer, or of a file (-1 when it
 * cannot be read). */
void mlprt_sha256_hex(const void *data, size_t n, char hex[65]);
int mlprt_sha256_file(const char *path, char hex[65]);

/* ---- checkpoints ------------------------------------------------------- */

/* A checkpoint is the model's whole arena plus the loop's position, so a
 * resumed run continues bit-identically. File: magic "MLPCKPT1", then the
 * header fields, then arena_bytes bytes. */
typedef struct {
  int64_t job, epoch; /* the next epoch to run */
  int64_t step;       /* optimizer steps taken */
  double best_metric;
  int64_t best_epoch, bad_epochs;
  double lr; /* plateau schedules carry their current rate */
  int64_t arena_bytes;
} MlprtCkptHeader;

int mlprt_ckpt_save(const char *path, const MlprtCkptHeader *h, const void *arena, bool sync);
/* 0 when path holds a checkpoint whose arena_bytes matches h->arena_bytes
 * (h is overwritten with the saved header and arena with its bytes); -1
 * otherwise. */
int mlprt_ckpt_load(const char *path, MlprtCkptHeader *h, void *arena);
/* The header alone (which job a run directory's checkpoint belongs to). */
int mlprt_ckpt_peek(const char *path, MlprtCkptHeader *h);

/* ---- data ---------------------------------------------------------------- */

/* The shape the program's data preparation gives p's data file (data_path,
 * target, split and clean are read): features per row after the cleaning
 * chain (every numeric and boolean column but the target; categorical
 * columns count once encoded), the number of distinct target values, and
 * the target's MlprtColType, and in *schema (malloc'd) every column's type as
 * loaded, "NAME\tTYPE\n" each. The compiler calls this to fix every tensor
 * shape, and compiles the schema in. 0, or -1 with a message in err. */
int mlprt_prep_shape(const MlprtProgram *p, int64_t *features, int64_t *classes, int *target_type,
                     char **schema, char *err, size_t n);

/* The same for images and labels in IDX files: the image height and width
 * (from the header alone) and the number of classes (largest label + 1). */
int mlprt_prep_idx_shape(const char *images, const char *labels, int64_t *h, int64_t *w, int64_t *classes,
                         char *err, size_t n);

/* ---- resources --------------------------------------------------------- */

/* Peak resident set size in KiB and user + system CPU seconds so far. */
void mlprt_resources(int64_t *peak_rss_kib, double *cpu_s);

/* ---- the steps main calls ---------------------------------------------- */

typedef struct MlprtRun MlprtRun;

MlprtRun *mlprt_run_open(int argc, char **argv, const MlprtProgram *p);
void mlprt_run_load(MlprtRun *r);
void mlprt_run_smoke(MlprtRun *r, int64_t job);
void mlprt_run_fit(MlprtRun *r, int64_t job);
void mlprt_run_test(MlprtRun *r, int64_t job);
void mlprt_run_best(MlprtRun *r);
int mlprt_run_close(MlprtRun *r);

#endif
