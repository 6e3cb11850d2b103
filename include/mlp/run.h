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
 * the best job's weights and metrics are the run's; trials.jsonl records
 * every trial. With successive halving (rung >= 0) the trials are rungs
 * x trials: a job of rung k > 0 trains only when its trial was in the best
 * 1/eta (at least one) of the trials that trained at rung k - 1, and the
 * best job is the best of the highest rung trained (job 0, the spec's own
 * settings, is on the last rung). Hyperband's jobs are brackets of such
 * rungs (bracket >= 0): promotion compares the trials of one bracket, and
 * the rungs of all brackets count from the lowest budget, so the last rung
 * of each is the highest. With
 * cross-validation (nfolds > 0) the trials are trials x folds: job
 * 1 + t*k + f trains trial t on the training and validation rows outside fold f and
 * scores it on fold f; then
 *
 *   mlprt_run_best(ctx);                           refit the best trial, test it
 *
 * retrains the trial with the best mean objective on every training and
 * validation row for the mean of its folds' best epoch counts (no early
 * stopping: nothing is held out) and tests it; it does nothing when nfolds
 * is 0. With data.folds (cross_validate) the one trial's folds and the
 * refit run without --tune, and job 0 is not trained (the first fold
 * makes the smoke run).
 *
 * Consumes the program descriptor below (a constant the compiler emits) and
 * the command line; produces a run directory: manifest.json (sealed by
 * manifest.sha256), metrics.jsonl, weights.bin, checkpoint.bin,
 * cleaning.json. The run is assembled in OUT.staging-PID beside OUT under
 * the lock OUT.lock and replaces OUT as a whole when it is complete: a
 * failed or killed run leaves the previous one as it was, and --resume
 * continues a killed run's staging directory (or the finished run's
 * checkpoint). Every file is written atomically (temp file + rename).
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

#include "mlp/comm.h"
#include "mlp/desc.h"
#include "mlp/files.h"
#include "mlp/metrics.h"

/* ---- the program descriptor -------------------------------------------- */

enum { MLPRT_TASK_MULTICLASS = 0, MLPRT_TASK_BINARY = 1, MLPRT_TASK_REGRESSION = 2 };

/* How a model's weights are found. A network trains by epochs of the
 * generated functions; every other fit is a linear model, one dense layer
 * W [n_out, n_in] then b [n_out] under the output activation, solved on
 * the training rows at once (fit.c). A baseline is the linear model with
 * W = 0 whose outputs are the training rows' class frequencies (majority:
 * all on the most frequent class), mean or median. ORDER FIT (mlprt_fit_name) */
enum {
  MLPRT_FIT_NETWORK, /* as a program's baseline: none */
  MLPRT_FIT_MAJORITY,
  MLPRT_FIT_PRIOR,
  MLPRT_FIT_MEAN,
  MLPRT_FIT_MEDIAN,
  MLPRT_FIT_LINEAR, /* least squares, or logistic / softmax regression, with l1 and l2 penalties */
  MLPRT_FIT_HINGE,  /* a linear support vector machine per class (one against the rest), l2 penalty */
  MLPRT_FIT_SQUARED_HINGE,
  MLPRT_FIT_FOREST, /* a random forest (forest.c): not a dense layer but the trees' node arrays, see
                       mlprt_forest_forward */
  MLPRT_FIT_SVM,    /* a kernel support vector machine (svm.c), one class against one: the support
                       vectors and coefficients mlprt_svm_forward reads */
  MLPRT_FIT_BOOST,  /* gradient-boosted trees (boost.c): the trees' node arrays, then the base scores
                       (mlprt_boost_forward) */
  MLPRT_NFITS
};
#define MLPRT_FIT_NAMES                                                                                    \
  {"network", "majority", "prior", "mean", "median", "linear", "hinge", "squared_hinge", "random_forest", \
   "svm", "gradient_boosting"}

/* A network's training loss (MlprtModel.loss), the spec's `loss` op; the
 * first three are the defaults of the tasks of the same codes. The
 * validation and test losses are the same function of the outputs; a
 * regression's is taken on the standardized target, as training sees it.
 * hinge is the multiclass hinge of a softmax output's logits
 * (torch.nn.MultiMarginLoss, Weston and Watkins), read from the
 * probabilities as log p, whose differences are the logits'. ORDER LOSS
 * (MLPRT_LOSS_NAMES) */
enum {
  MLPRT_LOSS_CROSS_ENTROPY,
  MLPRT_LOSS_BCE,
  MLPRT_LOSS_MSE,
  MLPRT_LOSS_MAE,
  MLPRT_LOSS_HUBER,
  MLPRT_LOSS_HINGE
};
#define MLPRT_LOSS_NAMES {"cross_entropy", "bce", "mse", "mae", "huber", "hinge"}

/* environment.log, the least severe message the program prints: debug
 * is --verbose (every epoch of every trial, with its learning rate), warn
 * is --quiet (no progress or results on stdout; warnings on stderr), error
 * also drops the warnings. --quiet and --verbose on the command line win.
 * ORDER LOG (MLPRT_LOG_NAMES) */
enum { MLPRT_LOG_INFO, MLPRT_LOG_DEBUG, MLPRT_LOG_WARN, MLPRT_LOG_ERROR };
#define MLPRT_LOG_NAMES {"info", "debug", "warn", "error"}

/* validation.monitor, what each metrics.jsonl line records besides job,
 * epoch and seconds (and environment.monitor's resources), in the
 * registry's order of the monitor set; the val_ ones only on validated
 * epochs. Unwritten: lr, loss, val_loss and val_accuracy (categorical) or
 * val_r2 and val_mse (numeric). ORDER MONITOR (MLPRT_MON_NAMES, then the
 * metrics.jsonl keys) */
enum {
  MLPRT_MON_LOSS,
  MLPRT_MON_VAL_LOSS,
  MLPRT_MON_ACCURACY,
  MLPRT_MON_VAL_ACCURACY,
  MLPRT_MON_VAL_F1,
  MLPRT_MON_VAL_AUC,
  MLPRT_MON_VAL_MAE,
  MLPRT_MON_VAL_R2,
  MLPRT_MON_LR,
  MLPRT_NMONS
};
#define MLPRT_MON_NAMES                                                                                \
  {"loss", "val_loss", "accuracy", "val_accuracy", "val_f1", "val_auc", "val_mae", "val_r2", "lr"}
#define MLPRT_MON_KEYS                                                                                 \
  {"train_loss", "val_loss", "train_accuracy", "val_accuracy", "val_f1", "val_auc", "val_mae", "val_r2", "lr"}

/* A random forest's class weights (MlprtModel.class_weight). */
enum { MLPRT_CLASS_WEIGHT_NONE, MLPRT_CLASS_WEIGHT_BALANCED };

/* The input of a model with sparse_in: the batch's rows as sparse rows
 * (MlprtCsr's layout, row 0 first), which the runtime writes at x_off
 * before each forward; the arrays are the runtime's. */
typedef struct {
  const int64_t *ptr;
  const int32_t *col;
  const float *val;
} MlprtSparseBatch;

/* One model's generated code and memory plan. Offsets are bytes into the
 * arena of arena_bytes; the functions take the arena's base. */
typedef void (*MlprtInitFn)(void *base, uint64_t seed); /* weights from seed, biases 0 */
typedef void (*MlprtForwardFn)(void *base, int64_t n, int64_t train, uint64_t step, uint64_t seed);
typedef double (*MlprtBackwardFn)(void *base, int64_t n);        /* zero grads, loss, grads; mean loss */
/* One optimizer step (t from 1) of parameters lo .. hi-1: elementwise, so that ranks may each update a
 * part; with whole_grads set it also reads the whole gradient. */
typedef void (*MlprtUpdateFn)(void *base, double lr, int64_t t, int64_t lo, int64_t hi);
#define MLPRT_MODEL_FIELDS(X)                                                                        \
  X(MLPRT_PTR, MlprtInitFn, init)                                                                    \
  X(MLPRT_PTR, MlprtForwardFn, forward)                                                              \
  X(MLPRT_PTR, MlprtBackwardFn, backward)                                                            \
  X(MLPRT_PTR, MlprtUpdateFn, update)                                                                \
  X(MLPRT_I64, int64_t, task)           /* MLPRT_TASK_* */                                           \
  X(MLPRT_I64, int64_t, loss)           /* MLPRT_LOSS_* */                                           \
  X(MLPRT_F64, double, huber_delta)     /* MLPRT_LOSS_HUBER: where the loss turns linear */          \
  X(MLPRT_I64, int64_t, n_in)           /* features per sample */                                    \
  X(MLPRT_I64, int64_t, n_out)          /* output units */                                           \
  X(MLPRT_I64, int64_t, batch)          /* rows the functions accept at most */                      \
  X(MLPRT_I64, int64_t, n_params)                                                                    \
  X(MLPRT_I64, int64_t, arena_bytes)                                                                 \
  X(MLPRT_I64, int64_t, params_off)     /* each of these five: [n_params] floats */                  \
  X(MLPRT_I64, int64_t, grads_off)                                                                   \
  X(MLPRT_I64, int64_t, m_off)                                                                       \
  X(MLPRT_I64, int64_t, v_off)                                                                       \
  X(MLPRT_I64, int64_t, best_off)                                                                    \
  X(MLPRT_I64, int64_t, x_off)          /* [batch, n_in] inputs */                                   \
  X(MLPRT_I64, int64_t, y_off)          /* [batch, n_out] targets: one-hot, 0/1 or values */         \
  X(MLPRT_I64, int64_t, out_off)        /* [batch, n_out] predictions after forward */               \
  X(MLPRT_I64, int64_t, flops)          /* forward FLOPs per sample */                               \
  X(MLPRT_I64, int64_t, n_state)        /* floats of non-trained state (batch norm's statistics) */  \
  X(MLPRT_I64, int64_t, state_off)      /* [n_state]; unused when n_state is 0 */                    \
  X(MLPRT_I64, int64_t, best_state_off) /* likewise */                                              \
  X(MLPRT_I64, int64_t, fit)            /* MLPRT_FIT_*; a linear fit's penalties are its job's l1, l2 */ \
  X(MLPRT_I64, int64_t, l2_per_row)     /* bool: the L2 penalty is the job's l2 / training rows */   \
  X(MLPRT_I64, int64_t, iterations)     /* the solver's most iterations */                          \
  X(MLPRT_I64, int64_t, trees)          /* FOREST: trees; BOOST: rounds; each complete to depth */  \
  X(MLPRT_I64, int64_t, depth)                                                                        \
  X(MLPRT_I64, int64_t, max_features)   /* features tried at each split */                           \
  X(MLPRT_I64, int64_t, min_leaf)       /* fewest training rows in a leaf */                         \
  X(MLPRT_I64, int64_t, bootstrap)      /* bool: each tree reads a bootstrap sample */               \
  X(MLPRT_I64, int64_t, class_weight)   /* MLPRT_CLASS_WEIGHT_* */                                 \
  X(MLPRT_I64, int64_t, svm_kernel)     /* MLPRT_FIT_SVM: MlprtSvmKernel */                          \
  X(MLPRT_F64, double, svm_c)           /* the box constraint C */                                   \
  X(MLPRT_F64, double, svm_gamma)       /* 0: 1 / (features * variance of the training values) */    \
  X(MLPRT_F64, double, svm_coef0)                                                                     \
  X(MLPRT_F64, double, svm_epsilon)     /* svr: the tube's half-width, in the target's units */      \
  X(MLPRT_I64, int64_t, svm_degree)                                                                   \
  X(MLPRT_I64, int64_t, svm_rows)       /* the most training rows (support vectors) params hold */    \
  X(MLPRT_I64, int64_t, max_bins)       /* MLPRT_FIT_BOOST: bins per feature, at most 255 */         \
  X(MLPRT_I64, int64_t, early_stopping) /* rounds without a better validation loss; 0: none */       \
  X(MLPRT_I64, int64_t, max_leaves)     /* 0: trees grow depth-wise; else leaf-wise to this many */  \
  X(MLPRT_F64, double, learning_rate)                                                               \
  X(MLPRT_F64, double, leaf_l2)         /* L2 penalty on the leaf values */                          \
  X(MLPRT_F64, double, min_child_weight) /* fewest hessian per child */                              \
  X(MLPRT_F64, double, subsample)       /* fraction of the rows each round reads */                  \
  X(MLPRT_I64, int64_t, sparse_in)      /* bool: x_off holds an MlprtSparseBatch, the first (dense)    \
                                           layer reading the rows' nonzeros */                       \
  X(MLPRT_PTR, const struct MlprtCleanStep *, clean) /* a searched cleaning chain its data is cleaned \
                                           by (n_in features); NULL: the program's */                \
  X(MLPRT_I64, int64_t, nclean)                                                                     \
  X(MLPRT_I64, int64_t, whole_grads)    /* bool: the update reads every gradient (norm clipping) */
typedef struct {
  MLPRT_MODEL_FIELDS(MLPRT_DESC_MEMBER)
} MlprtModel;
#define MLPRT_MODEL_INDEX(kind, type, name) MLPRT_MODEL_##name,
enum { MLPRT_MODEL_FIELDS(MLPRT_MODEL_INDEX) MLPRT_MODEL_NFIELDS };
MLPRT_MODEL_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtModel) == 8 * MLPRT_MODEL_NFIELDS, "MlprtModel is its slots in list order");

enum { MLPRT_FOLD_NONE = -1, MLPRT_FOLD_ALL = -2 };

enum { MLPRT_SCHED_KIND_CONSTANT, MLPRT_SCHED_KIND_COSINE, MLPRT_SCHED_KIND_STEP, MLPRT_SCHED_KIND_PLATEAU };

/* One training job. */
#define MLPRT_JOB_FIELDS(X)                                                                            \
  X(MLPRT_I64, int64_t, model)              /* index into MlprtProgram.models */                       \
  X(MLPRT_I64, int64_t, epochs)                                                                        \
  X(MLPRT_I64, int64_t, seed)                                                                          \
  X(MLPRT_F64, double, lr)                                                                             \
  X(MLPRT_I64, int64_t, sched)              /* MLPRT_SCHED_KIND_* */                                   \
  X(MLPRT_I64, int64_t, warmup)             /* cosine */                                               \
  X(MLPRT_I64, int64_t, sched_step)         /* step: epochs per decay; plateau: patience */            \
  X(MLPRT_F64, double, sched_factor)                                                                   \
  X(MLPRT_F64, double, smoke_subset)        /* 0: no smoke run */                                      \
  X(MLPRT_I64, int64_t, smoke_epochs)                                                                  \
  X(MLPRT_I64, int64_t, early_stop)         /* bool */                                                 \
  X(MLPRT_I64, int64_t, monitor_acc)        /* bool: monitor val_accuracy (else val_loss) */           \
  X(MLPRT_I64, int64_t, patience)                                                                      \
  X(MLPRT_I64, int64_t, restore_best)       /* bool */                                                 \
  X(MLPRT_F64, double, min_delta)           /* early stopping: smaller improvements do not count */    \
  X(MLPRT_I64, int64_t, fold)               /* the cross-validation fold this job holds out;           \
                                               MLPRT_FOLD_NONE: the plain split; MLPRT_FOLD_ALL:       \
                                               every training and validation row (a refit) */          \
  X(MLPRT_I64, int64_t, trial)              /* tuning trial, or -1 */                                  \
  X(MLPRT_I64, int64_t, rung)               /* successive halving, hyperband: the trial's rung (its    \
                                               epochs are the rung's budget), or -1 */                 \
  X(MLPRT_I64, int64_t, bracket)            /* hyperband: the trial's bracket, or -1 */                \
  X(MLPRT_PTR, const char *, settings)      /* a trial's searched settings as a JSON object, or NULL */ \
  X(MLPRT_PTR, const char *, optimizer)     /* for the manifest: sgd, adam, adamw, rmsprop */           \
  X(MLPRT_F64, double, l1)                  /* likewise the five below; a linear fit's penalties */    \
  X(MLPRT_F64, double, l2)                                                                             \
  X(MLPRT_F64, double, weight_decay)                                                                   \
  X(MLPRT_F64, double, clip_norm)                                                                      \
  X(MLPRT_F64, double, clip_value)                                                                     \
  X(MLPRT_I64, int64_t, stop_on_divergence) /* bool: stop the smoke run on an exploding, rising or    \
                                               flat loss */                                            \
  X(MLPRT_F64, double, min_lr)              /* cosine: the rate annealed to; plateau: the cuts' floor */ \
  X(MLPRT_I64, int64_t, val_every)          /* validate after every this many epochs and the last; early  \
                                               stopping's patience and plateau's count validations */
typedef struct {
  MLPRT_JOB_FIELDS(MLPRT_DESC_MEMBER)
} MlprtJob;
#define MLPRT_JOB_INDEX(kind, type, name) MLPRT_JOB_##name,
enum { MLPRT_JOB_FIELDS(MLPRT_JOB_INDEX) MLPRT_JOB_NFIELDS };
MLPRT_JOB_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtJob) == 8 * MLPRT_JOB_NFIELDS, "MlprtJob is its slots in list order");

/* One step of the spec's cleaning chain, applied in order after the split
 * (fitted on training rows only, through clean.h). Ops, selectors and
 * methods are codes (clean.h); the columns a step takes are resolved at
 * compile time to indices into the table as the step meets it, and the
 * runtime checks that table's width against the compiler's once per step. */
#define MLPRT_CLEAN_STEP_FIELDS(X)                                                                           \
  X(MLPRT_I64, int64_t, op)             /* MlprtCleanOp */                                                   \
  X(MLPRT_I64, int64_t, select)         /* MlprtSelect: a type selector, or MLPRT_SELECT_NAMES */            \
  X(MLPRT_PTR, const char *, columns)   /* MLPRT_SELECT_NAMES: the names, each ending in '\n'; else NULL */  \
  X(MLPRT_PTR, const char *, keep)      /* outliers: columns never treated, each ending in '\n'; or NULL */  \
  X(MLPRT_I64, int64_t, method)         /* impute: MlprtImpute; outliers: MlprtOutlierMethod; coerce, */     \
                                        /* parse_dates: MlprtOnFail; lag, rolling, diff: MlprtHistory */     \
  X(MLPRT_F64, double, param)           /* outliers: threshold; impute: constant; hash_encode: buckets; */   \
                                        /* onehot: max_levels; coerce: the MlprtColType; rolling: the */     \
                                        /* window; diff: the steps */                                        \
  X(MLPRT_F64, double, low)             /* minmax: the images of each column's minimum */                    \
  X(MLPRT_F64, double, high)            /* and maximum */                                                    \
  X(MLPRT_I64, int64_t, flag)           /* impute: indicator columns; onehot: unseen level errs; */          \
                                        /* sort_by: descending; date_features: cyclical */                   \
  X(MLPRT_PTR, const char *, levels)    /* onehot: each column's levels, fixed at compile time */            \
                                        /* from the whole file; NULL: learnt in training */              \
  X(MLPRT_I64, int64_t, ncols)          /* the table's columns as the step meets it, as the compiler */      \
                                        /* traced them; 0: not traced, columns found by name */              \
  X(MLPRT_PTR, const int64_t *, columns_idx) /* traced: the selected columns' indices (selectors too) */ \
  X(MLPRT_I64, int64_t, ncolumns_idx)                                                                        \
  X(MLPRT_PTR, const int64_t *, keep_idx)    /* traced, outliers: the kept columns' indices */           \
  X(MLPRT_I64, int64_t, nkeep_idx)                                                                           \
  X(MLPRT_I64, int64_t, text)           /* text_clean: MLPRT_TEXT_* bits; vectorizers: their MlprtTerms, */  \
                                        /* packed (mlprt_terms_pack); param: max_vocab or buckets, */        \
                                        /* low and high: min_df and max_df; tokenize: */ \
                                        /* param max_len, low min_count, high max_vocab */ \
  X(MLPRT_PTR, const char *, by)        /* lag, rolling, diff: the group key column, or NULL */              \
  X(MLPRT_I64, int64_t, by_idx)         /* its index in the table the step meets when traced, else -1 */     \
  X(MLPRT_PTR, const char *, format)    /* parse_dates: the strftime format, or NULL (ISO 8601) */           \
  X(MLPRT_PTR, const int64_t *, ints)   /* lag: steps; rolling: MlprtRoll stats; date_features: parts */     \
  X(MLPRT_I64, int64_t, nints)                                                                               \
  X(MLPRT_I64, int64_t, offset)         /* rolling: rows between the window's end and the row */             \
  X(MLPRT_PTR, const char *, source)    /* align: the other source's files, or database (as data_path) */    \
  X(MLPRT_PTR, const char *, source_format) /* its format, as data_format */                                 \
  X(MLPRT_PTR, const char *, source_query)  /* sqlite, postgres: its query, else NULL */                     \
  X(MLPRT_PTR, const char *, source_schema) /* the types it is read with, "NAME\tTYPE\n" each, or NULL */    \
  X(MLPRT_PTR, const char *, source_na)     /* csv: its texts meaning missing, or NULL */                    \
  X(MLPRT_I64, int64_t, source_delim)       /* csv: its field separator; 0: ',' */                           \
  X(MLPRT_I64, int64_t, source_no_header)   /* csv: its first line is data */                                \
  X(MLPRT_PTR, const char *, source_on)     /* align: its time key's name there; NULL: the table's */        \
  X(MLPRT_PTR, const char *, source_by)     /* align: its group key's name there; NULL: the table's */
typedef struct MlprtCleanStep {
  MLPRT_CLEAN_STEP_FIELDS(MLPRT_DESC_MEMBER)
} MlprtCleanStep;
#define MLPRT_CLEAN_STEP_INDEX(kind, type, name) MLPRT_CLEAN_STEP_##name,
enum { MLPRT_CLEAN_STEP_FIELDS(MLPRT_CLEAN_STEP_INDEX) MLPRT_CLEAN_STEP_NFIELDS };
MLPRT_CLEAN_STEP_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtCleanStep) == 8 * MLPRT_CLEAN_STEP_NFIELDS, "MlprtCleanStep: slots in order");

/* The whole program: data plan, models, jobs. */
#define MLPRT_PROGRAM_FIELDS(X)                                                                            \
  X(MLPRT_PTR, const char *, name)            /* the pipeline's name */                                    \
  X(MLPRT_PTR, const char *, spec_path)       /* as given to the compiler */                               \
  X(MLPRT_PTR, const char *, spec_sha256)                                                                  \
  X(MLPRT_PTR, const char *, out_dir)         /* default run directory */                                  \
  X(MLPRT_I64, int64_t, threads)                                                                           \
  X(MLPRT_PTR, const char *, data_format)                                                                  \
  X(MLPRT_PTR, const char *, data_path)       /* resolved against the spec's directory at compile time */  \
  X(MLPRT_PTR, const char *, data_path2)      /* idx labels, else NULL */                                  \
  X(MLPRT_PTR, const char *, data_query)      /* sqlite, postgres: the query whose rows are the data */    \
  X(MLPRT_PTR, const char *, test_path)       /* data.test_source: read as data_path is; NULL: none */     \
  X(MLPRT_PTR, const char *, test_path2)      /* its idx labels, else NULL */                              \
  X(MLPRT_PTR, const char *, test_query)      /* its query, else NULL */                                   \
  X(MLPRT_PTR, const char *, target)                                                                       \
  X(MLPRT_PTR, const char *, spec_text)       /* the spec's source, recorded for cleaning and manifest */   \
  X(MLPRT_I64, int64_t, n_features)                                                                        \
  X(MLPRT_I64, int64_t, n_classes)                                                                         \
  X(MLPRT_F64, double, val_frac)                                                                           \
  X(MLPRT_F64, double, test_frac)                                                                          \
  X(MLPRT_I64, int64_t, stratify)                                                                          \
  X(MLPRT_I64, int64_t, split_seed)                                                                        \
  X(MLPRT_PTR, const MlprtCleanStep *, clean)                                                              \
  X(MLPRT_I64, int64_t, nclean)                                                                            \
  X(MLPRT_PTR, const MlprtModel *, models)                                                                 \
  X(MLPRT_I64, int64_t, nmodels)                                                                           \
  X(MLPRT_PTR, const MlprtJob *, jobs)                                                                     \
  X(MLPRT_I64, int64_t, njobs)                                                                             \
  X(MLPRT_I64, int64_t, objective)            /* MLPRT_OBJ_*: ranks jobs when there are several */         \
  X(MLPRT_I64, int64_t, nfolds)               /* > 0: the jobs are trials x folds */                       \
  X(MLPRT_I64, int64_t, fold_repeats)         /* folds = repeats x k: fold f is f % k of repeat f / k */   \
  X(MLPRT_I64, int64_t, eta)                  /* successive halving: 1 / the share promoted; 0: none */    \
  X(MLPRT_I64, int64_t, cross_validate)       /* data.folds: the folds and the refit are the run */        \
  X(MLPRT_I64, int64_t, refit)                /* tuning.refit: a winner without folds is refitted */        \
  X(MLPRT_PTR, const char *, tpe)             /* search = tpe: its spaces (mlp/tpe.h); NULL: none */        \
  X(MLPRT_I64, int64_t, tpe_startup)          /* tpe: trials drawn at random first */                       \
  X(MLPRT_PTR, const char *, tpe_labels)      /* tpe: the values of the spaces that shape the model, as    \
                                                 JSON, tab-separated, a line per space (empty: lr, epochs); \
                                                 NULL: none */                                             \
  X(MLPRT_PTR, const int64_t *, tpe_models)   /* the model of each combination of their values, the first  \
                                                 space's changing fastest */                               \
  X(MLPRT_I64, int64_t, tpe_seed)                                                                          \
  X(MLPRT_I64, int64_t, delimiter)            /* csv: the field separator; 0: ',' */                       \
  X(MLPRT_I64, int64_t, no_header)            /* csv: the first line is data, columns c1, c2, ... */       \
  X(MLPRT_PTR, const char *, na_values)       /* texts meaning missing, each ending in '\n'; NULL */        \
  X(MLPRT_PTR, const char *, schema)          /* declared types, "NAME\tTYPE\n" each; NULL */               \
  X(MLPRT_PTR, const char *, split_group)     /* rows sharing this column's value stay in one part */      \
  X(MLPRT_PTR, const char *, split_time)      /* split in this column's order; NULL */                     \
  X(MLPRT_PTR, const char *, cleaning_report) /* the cleaning record's file name */                        \
  X(MLPRT_I64, int64_t, deterministic)        /* bit-identical for any thread count */                     \
  X(MLPRT_PTR, const char *, report)          /* analysis.report's file name, or NULL for none */          \
  X(MLPRT_I64, int64_t, learning_curves)      /* analysis: what the report shows */                        \
  X(MLPRT_I64, int64_t, bias_variance)                                                                     \
  X(MLPRT_PTR, const char *, slices)          /* analysis.slices: column names, each ending in '\n'; NULL */ \
  X(MLPRT_I64, int64_t, worst)                /* analysis.worst: rows of largest loss listed */             \
  X(MLPRT_I64, int64_t, feature_importance)   /* bool: permutation importance per source column */          \
  X(MLPRT_PTR, const char *, compiler)        /* "mlpc VERSION (LLVM X.Y.Z)", for the manifest */          \
  X(MLPRT_PTR, const char *, target_cpu)      /* the CPU the program was compiled for */                   \
  X(MLPRT_PTR, const char *, version)         /* deploy.version; NULL without a deploy section */          \
  X(MLPRT_I64, int64_t, no_card)              /* deploy.card = false: no MODEL_CARD.md */                  \
  X(MLPRT_I64, int64_t, blas_threads)         /* environment.blas_threads; 0: the thread budget */         \
  X(MLPRT_I64, int64_t, monitor)              /* environment.monitor: CPU, memory, throughput per epoch */ \
  X(MLPRT_I64, int64_t, checkpoint_every)     /* epochs between checkpoints (and a job's last one); 0: 1 */ \
  X(MLPRT_I64, int64_t, log_level)            /* environment.log: MLPRT_LOG_* */                           \
  X(MLPRT_I64, int64_t, epoch_monitor)        /* validation.monitor: bits 1 << MLPRT_MON_*; 0: default */  \
  X(MLPRT_I64, int64_t, metrics)              /* analysis.metrics: bits (1 << MLPRT_METRIC_*) */           \
  X(MLPRT_PTR, const char *, pretrained)      /* model.pretrained: the run whose weights.bin starts it */  \
  X(MLPRT_PTR, const char *, pretrained_sha256) /* that weights.bin's digest at compile time */ \
  X(MLPRT_I64, int64_t, baseline)             /* analysis.baseline: the MLPRT_FIT_* fitted beside the \
                                                 model and scored on the same rows; 0: none */      \
  X(MLPRT_I64, int64_t, shards)               /* environment.shards: slices of every batch */        \
  X(MLPRT_I64, int64_t, memory_mb)            /* environment.memory_mb; 0: not given */              \
  X(MLPRT_I64, int64_t, out_of_core)          /* environment.out_of_core: MLPRT_OOC_* */             \
  X(MLPRT_PTR, MlprtCommOpenFn, comm_open)    /* distributed = mpi: mlprt_mpi_open; else NULL */
typedef struct {
  MLPRT_PROGRAM_FIELDS(MLPRT_DESC_MEMBER)
} MlprtProgram;
#define MLPRT_PROGRAM_INDEX(kind, type, name) MLPRT_PROGRAM_##name,
enum { MLPRT_PROGRAM_FIELDS(MLPRT_PROGRAM_INDEX) MLPRT_PROGRAM_NFIELDS };
MLPRT_PROGRAM_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtProgram) == 8 * MLPRT_PROGRAM_NFIELDS, "MlprtProgram is its slots in list order");


/* environment.out_of_core: when the data goes through a feature cache on
 * disk (prep.c): AUTO when the data file is larger than memory_mb. */
enum { MLPRT_OOC_AUTO, MLPRT_OOC_ON, MLPRT_OOC_OFF };

/* What ranks trials: the validation loss or MAE (lower is better), accuracy,
 * R², macro F1 or ROC AUC (higher is better), with their spec names. */
enum {
  MLPRT_OBJ_VAL_LOSS,
  MLPRT_OBJ_VAL_ACCURACY,
  MLPRT_OBJ_VAL_R2,
  MLPRT_OBJ_VAL_MAE,
  MLPRT_OBJ_VAL_F1,
  MLPRT_OBJ_VAL_AUC,
  MLPRT_NOBJECTIVES
};
#define MLPRT_OBJECTIVE_NAMES {"val_loss", "val_accuracy", "val_r2", "val_mae", "val_f1", "val_auc"}

/* report.html of the finished run DIR made again from its manifest,
 * metrics.jsonl and cleaning record, written to path; path NULL: into DIR,
 * only when it comes out the same as the report the manifest seals. 0, or
 * -1 with a message in err. */
int mlprt_report_rerun(const char *dir, const char *path, char *err, size_t n);

/* Two finished runs compared (mlpc diff): the settings that differ, every
 * final metric and each class's scores, A then B and B - A, as text on out
 * and, when html is not NULL, as that HTML file. 0, or -1 with a message
 * in err. */
int mlprt_run_diff(const char *dir_a, const char *dir_b, FILE *out, const char *html, char *err, size_t n);

/* ---- the training program's command line -------------------------------- */

#define MLPRT_MAX_SETS 32

/* PROG [--data PATH] [--out DIR] [--set KEY=VALUE ...] [--threads N]
 *      [--seed N] [--quiet] [--verbose] [--resume] [--tune] [--export-features DIR] */
typedef struct {
  const char *data; /* NULL: the compiled path */
  const char *out;  /* NULL: the compiled directory */
  const char *set_key[MLPRT_MAX_SETS], *set_val[MLPRT_MAX_SETS];
  int nsets;
  int threads;  /* 0: the compiled value */
  int64_t seed; /* -1: the compiled seed */
  bool quiet, verbose, resume;
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

/* ---- the steps main calls ---------------------------------------------- */

typedef struct MlprtRun MlprtRun;

/* The functions of this header that generated code calls (mlp/abi.def). */
#define MLPRT_ABI_RUN(ret, name, params) ret name params;
#include "mlp/abi.def"

#endif
