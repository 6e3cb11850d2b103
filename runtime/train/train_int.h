/* train_int.h — internal interfaces of the training orchestration
 * (runtime/train/): the prepared data set the training loop consumes. */
#ifndef MLP_TRAIN_INT_H
#define MLP_TRAIN_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "mlp/data.h"
#include "mlp/run.h"
#include "runtime/report/report_int.h"

/* Train, validation and test rows as dense float matrices, or, for IDX
 * images, as the file's bytes: a byte is a quarter of a float, and the
 * batch gather converts it (pixel / 255) for free next to the GEMMs. */
typedef struct {
  int64_t F, K;          /* features per row; model outputs per row */
  int64_t n[3];          /* rows per split (MLPRT_TRAIN, MLPRT_VALID, MLPRT_TEST) */
  float *x[3];           /* [n, F], or NULL when the rows are pixels */
  uint8_t *pixels;       /* IDX: [rows in the file, F] the images as read; else NULL */
  int64_t *pixel_row[3]; /* IDX: [n] the image behind each row of a split */
  MlprtCsr *sx;          /* a network reading sparse rows (MlprtModel.sparse_in): [3] each split's rows
                            as sparse rows, x[s] NULL; else NULL */
  MlprtCsr *batch;       /* with sx: the rows of the batch being put (mlprt_dataset_put) */
  float *y[3];           /* [n, K] what the model fits: one-hot, 0/1, or the scaled target */
  int32_t *label[3];     /* classification: [n] class index; else NULL */
  float *target[3];      /* regression: [n] the target in its own units; else NULL */
  int32_t *group[3];     /* grouped folds: [n] each row's split(group) value as a number; else NULL */
  double y_mean, y_std;  /* regression: y = (target - y_mean) / y_std */
  int nclasses;
  char **class_names;    /* [nclasses] */
  char sha256[65];       /* of the data file */
  char test_sha256[65];  /* of the test source's file; "" without one */
  cJSON *cleaning;       /* what was fitted, for cleaning.json */
  /* For predictors (artifacts.c); tables only, IDX images keep their bytes. */
  int raw_split;         /* the split the test metrics come from: MLPRT_TEST, or MLPRT_VALID without one */
  MlprtTable raw;        /* that split's rows as loaded, before cleaning, in the split's row order */
  cJSON *inputs;         /* reference.json "inputs": the training rows' raw ranges and levels */
  char *schema;          /* the columns as loaded, "NAME\tTYPE\n" each */
  char **feature_source; /* [F] the loaded column each feature was made from (the cleaning ops carry it);
                            NULL for IDX images */
  /* Out of core: split s's features are in the feature cache, a file on disk, read with pread (x[s] NULL). */
  int *cache_fd;         /* [3] each split's cache file, or NULL in memory */
  int64_t cache_bytes;   /* the cache files' bytes */
  int64_t cache_passes;  /* passes over the source that built the cache */
} MlprtDataset;

/* Row `row` of split s as floats into out (F). */
void mlprt_dataset_row(const MlprtDataset *d, int s, int64_t row, float *out);
/* Row `row` of split s as row i of a model's input x (at its x_off), rows
 * put in order from i = 0: into x's floats (F each), or, with sparse rows,
 * into the batch's rows and x's MlprtSparseBatch. */
void mlprt_dataset_put(const MlprtDataset *d, void *x, int64_t i, int s, int64_t row);
/* Rows [row, row + n) of split s of a table's features (not IDX pixels)
 * into out (n x F floats): out of core, read from the cache file. */
void mlprt_dataset_rows(const MlprtDataset *d, int s, int64_t row, int64_t n, float *out);
/* Feature k of every row of split s into out (n[s] floats), out of core
 * by blocks of rows, so that memory holds the column and one block. */
void mlprt_dataset_column(const MlprtDataset *d, int s, int64_t k, float *out);

/* Whether p reads the data at path out of core: out_of_core = on, or auto
 * with memory_mb given and the data's files larger than it. */
bool mlprt_prep_out_of_core(const MlprtProgram *p, const char *path);
/* Load path, split it as p says (stratified when asked, seeded), fit the
 * preparation on the training rows and apply it to all three splits. Out
 * of core (mlprt_prep_out_of_core), the source streams a chunk of rows at
 * a time and the features go to cache files in dir, already unlinked
 * (SPEC.md, "Out-of-core training"). 0, or -1 with a message. */
int mlprt_prep_load(const MlprtProgram *p, const char *path, const char *dir, MlprtDataset *d, char *err,
                    size_t n);
void mlprt_prep_free(MlprtDataset *d);
/* The same load, split and cleaning, then the cleaned table (features and
 * target) of each split written to dir/train.csv, dir/validation.csv and
 * dir/test.csv through the data step's CSV export. 0, or -1 with a message. */
int mlprt_prep_export(const MlprtProgram *p, const char *path, const char *dir, char *err, size_t n);

/* The training rows a fit reads (fit.c), gathered: features x [n, F]
 * (NULL for a baseline, which reads only the target) and each row's class
 * index (classification) or target in its own units (regression). */
typedef struct {
  int64_t n, F;
  const float *x;
  const int32_t *label; /* [n], or NULL */
  const float *target;  /* [n], or NULL */
  int nclasses;
} MlprtFitRows;

/* The outputs of baseline `fit` (MLPRT_FIT_MAJORITY...MEDIAN) for a model of
 * task `task`, the same for every row, into out: [classes] probabilities,
 * [1] P(class 1), or [1] the standardised target ((value - y_mean) / y_std). */
void mlprt_fit_baseline(const MlprtFitRows *rows, int64_t fit, int64_t task, double y_mean, double y_std,
                        float *out);
/* The weights of model m (a fit other than MLPRT_FIT_NETWORK) on the rows,
 * with the penalties l1 and l2 (its job's), into params ([n_out, n_in] then
 * [n_out]); regression outputs are standardised as the dataset's y.
 * Returns the solver's iterations (0 for a baseline or an exact solution). */
int64_t mlprt_fit_model(const MlprtFitRows *rows, const MlprtModel *m, double l1, double l2, double y_mean,
                        double y_std, float *params);

/* The trees of random forest m (MLPRT_FIT_FOREST) on the rows into params
 * (mlprt_forest_forward's layout, m->n_params floats), grown on up to
 * `threads` threads with the same result for any count; regression leaves
 * hold the standardised target. Returns the out-of-bag score (accuracy or
 * R²), NaN without bootstrap (forest.c). */
double mlprt_fit_forest(const MlprtFitRows *rows, const MlprtModel *m, uint64_t seed, int threads,
                        double y_mean, double y_std, float *params);

/* The support vector machine m (MLPRT_FIT_SVM) on the rows (at most
 * m->svm_rows of them; a classification, or a regression on the target in
 * its own units answering (value - y_mean) / y_std) into params
 * (mlprt_svm_forward's layout). Returns the solver's iterations, summed
 * over the pairs of classes (svm.c). */
int64_t mlprt_fit_svm(const MlprtFitRows *rows, const MlprtModel *m, double y_mean, double y_std,
                      float *params);
/* The trees and base scores of gradient boosting m (MLPRT_FIT_BOOST) on the
 * rows into params (mlprt_boost_forward's layout, then the K base scores),
 * histograms filled on up to `threads` threads with the same result for any
 * count; early stopping reads the validation rows val (NULL or none: every
 * round is kept). Regression is fitted to the standardised target. Returns
 * the rounds kept (boost.c). */
int64_t mlprt_fit_boost(const MlprtFitRows *rows, const MlprtFitRows *val, const MlprtModel *m, uint64_t seed,
                        int threads, double y_mean, double y_std, float *params);

/* What the predictor's artifacts are made from (artifacts.c). */
typedef struct {
  const MlprtProgram *p;
  const MlprtDataset *d;
  const char *dir;         /* the run directory */
  const char *data_path;   /* the source the run read */
  int64_t task;            /* MLPRT_TASK_* of the kept job's model */
  const MlprtModel *model; /* the kept job's model */
  const float *test_out;   /* [d->n[d->raw_split], d->K] the kept job's outputs on the tested rows */
  const float *train_out;  /* [d->n[MLPRT_TRAIN], d->K] its outputs on the training rows */
  const cJSON *job;        /* the kept job as the manifest lists it (its hyperparameters) */
  const cJSON *manifest;   /* the manifest so far (data, metrics) */
} MlprtArtifacts;

/* Write test_rows.csv, predictions.csv, reference.json and then, unless
 * the spec turned it off (deploy.card = false), MODEL_CARD.md (which lists
 * the digests in arts so far) into a->dir,
 * adding each one's SHA-256 to arts. 0, or -1 with a message. */
int mlprt_artifacts_write(const MlprtArtifacts *a, cJSON *arts, char *err, size_t n);


/* The loss model m trains on, of one row of split s whose outputs are o
 * (K): cross-entropy, the hinge, or a regression loss on the standardized
 * target, as the loss curves count it (run.c). */
double mlprt_row_loss(const MlprtModel *m, const MlprtDataset *d, const float *o, int s, int64_t row);

/* What the error analysis reads (analysis.c). */
typedef struct {
  const MlprtProgram *p;
  const MlprtDataset *d;
  const MlprtModel *model; /* the kept job's */
  const float *out; /* [d->n[d->raw_split], d->K] its outputs on the tested rows, in their order */
  /* The model's outputs for the rows x [n, d->F] into out [n, d->K] (permutation importance). */
  void (*predict)(void *ctx, const float *x, int64_t n, float *out);
  void *ctx;
} MlprtAnalysisIn;

/* The manifest's "analysis" object, from the settings of analysis in a->p:
 * Brier score and calibration curve, or residuals and error by target
 * range; the worst rows; slices; permutation importance. NULL with a
 * message in err when a slice column is not in the data as loaded, or
 * the data has no columns (IDX images) for slices or importance. */
cJSON *mlprt_analysis_json(const MlprtAnalysisIn *a, char *err, size_t n);


/* ---- sharded gradients (shard.c) ---- */

/* How a batch's gradient is summed: environment.shards slices, split over
 * the ranks of comm (NULL: one process). Its buffers are made once, for
 * models of up to max_params parameters: a step allocates nothing. */
typedef struct {
  int64_t shards, own;  /* slices of a batch; slices each rank computes */
  MlprtComm *comm;      /* NULL: one process computes every slice */
  size_t n;             /* floats of one gradient (max_params) */
  float *levels;        /* [log2(shards) + 1, n] the pending sums of the pairwise tree */
  double *loss;         /* [own] this rank's slices' losses times their rows */
  float *send, *recv;   /* the all-to-all's: each other rank's part of the gradient with the losses */
  int *count, *displ;   /* [3 * ranks]: what goes to, comes from, and is gathered from each rank */
  float **part;         /* [ranks] the parts this rank adds, in rank order */
  double compute;       /* seconds in the slices' forward and backward so far */
  double update;        /* seconds in the optimizer's steps so far */
} MlprtShards;

/* Fills the batch's rows lo..hi-1 into the model's input and target
 * buffers, from their first row on. */
typedef void (*MlprtFillFn)(void *ctx, int64_t lo, int64_t hi);

/* -1 with a message when comm's ranks cannot split `shards` slices. */
int mlprt_shards_init(MlprtShards *s, int64_t shards, MlprtComm *comm, int64_t max_params, char *err,
                      size_t n);
void mlprt_shards_free(MlprtShards *s);
/* The gradient of a batch of nb rows into m's grads (base is its arena):
 * slice k holds rows nb*k/shards .. nb*(k+1)/shards - 1; each rank fills,
 * runs forward (at dropout step step * shards + k) and backward on its
 * slices, weighs each gradient by its share of the rows, and adds them in
 * a fixed pairwise tree whose upper levels combine the ranks' subtrees
 * (rank j adding part j of the parameters), so the sum is the same bits
 * for any rank count that divides shards. With more than one rank only
 * this rank's part of grads holds the sum (all of it when m->whole_grads:
 * the update clips by the global norm). *loss receives the batch's summed
 * loss (each slice's mean loss times its rows, added in slice order), the
 * same on every rank. 0, or -1 when the exchange failed. */
int mlprt_shard_step(MlprtShards *s, const MlprtModel *m, unsigned char *base, int64_t nb, uint64_t step,
                     uint64_t seed, MlprtFillFn fill, void *ctx, double *loss);
/* The optimizer's step t after mlprt_shard_step: each rank steps its part
 * of the parameters (and of the optimizer's moments), then all gather the
 * stepped parameters. 0, or -1 when the exchange failed. */
int mlprt_shard_update(MlprtShards *s, const MlprtModel *m, unsigned char *base, double lr, int64_t t);
/* Every rank's part of the optimizer's moments into every rank, so that a
 * checkpoint holds them whole. 0, or -1 when the exchange failed. */
int mlprt_shard_state(MlprtShards *s, const MlprtModel *m, unsigned char *base);

/* ---- the console (console.c) ---- */

typedef struct {
  bool quiet, verbose, tty; /* tty: stdout is a terminal and a bar is drawn */
  bool drawn;               /* a bar is on the screen's last line */
  int64_t job, first, epochs, rows; /* the job; its first epoch this run (0-based), its epochs, rows each */
  double t_job, t_draw;     /* when the job started; when the bar was last drawn */
} MlprtConsole;

/* Seconds on the monotonic clock. */
double mlprt_now(void);

void mlprt_console_init(MlprtConsole *c, bool quiet, bool verbose);
/* A network job starts (or resumes) at epoch first of epochs, each of rows
 * training rows. */
void mlprt_console_job(MlprtConsole *c, int64_t job, int64_t first, int64_t epochs, int64_t rows);
/* done rows of epoch (0-based) trained, their mean loss so far: the bar,
 * on a terminal. */
void mlprt_console_batch(MlprtConsole *c, int64_t epoch, int64_t done, double loss);
/* Erase the bar, if one is drawn, so that other output can follow. */
void mlprt_console_clear(MlprtConsole *c);
/* A line kept (printf-style, with its newline), erasing the bar; nothing
 * when quiet. */
void mlprt_console_line(MlprtConsole *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
