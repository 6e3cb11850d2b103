/* ir.h — the resolved pipeline plan that code generation consumes.
 *
 * Lowering (lower.c) turns a checked MlpSpec and the compile-time schema of
 * its data into an MlpIr: one data plan, a list of models (a layer graph with
 * every per-sample shape, parameter offsets in one flat slab, FLOPs and a
 * static memory plan), and a list of training jobs that each train one model
 * over the data plan (several jobs serve folds and tuning trials). Codegen
 * reads it; `mlpc build --emit-ir` dumps it as JSON, which tests assert on. */
#ifndef MLP_IR_H
#define MLP_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "mlp/layers.h"

/* A network is trained by epochs of its generated functions; a linear model
 * (baselines included) is one dense output layer whose weights the runtime
 * solves for at once (MlpIrModel.fit); a forest is one forest layer whose
 * trees the runtime grows at once; boosted trees likewise one boost layer; a
 * support vector machine is one svm layer whose support vectors the runtime
 * solves for at once. */
typedef enum {
  MLP_MODEL_MLP,
  MLP_MODEL_CNN,
  MLP_MODEL_LINEAR,
  MLP_MODEL_FOREST,
  MLP_MODEL_SVM,
  MLP_MODEL_BOOST
} MlpModelKind;

/* The most floats a forest's or boosting's trees may take (64 MiB): each is stored complete to its depth. */
#define MLP_FOREST_MAX_FLOATS (64 * 262144)

/* The most training rows a support vector machine takes: its parameters
 * have room for every one as a support vector. */
#define MLP_SVM_MAX_ROWS 20000

typedef enum {
  MLP_TASK_MULTICLASS, /* softmax output over n classes, cross-entropy */
  MLP_TASK_BINARY,     /* one sigmoid output, binary cross-entropy */
  MLP_TASK_REGRESSION, /* linear outputs, mean squared error */
} MlpTask;

typedef enum {
  MLP_OP_DENSE,
  MLP_OP_DROPOUT,
  MLP_OP_FLATTEN,
  MLP_OP_CONV2D,
  MLP_OP_MAXPOOL2D,
  MLP_OP_AVGPOOL2D,
  MLP_OP_BATCHNORM,
  MLP_OP_LAYERNORM,
  MLP_OP_RECURRENT, /* rnn, lstm, gru: MlpIrLayer.cell */
  MLP_OP_FOREST, /* the model's trees (MlpIrModel.trees, .depth), mlprt_forest_forward's layout */
  MLP_OP_EMBEDDING, /* codes to vectors: MlpIrLayer.vocab, .units */
  MLP_OP_SVM,    /* the model's support vectors (room for MlpIrModel.svm_rows), mlprt_svm_forward's layout */
  MLP_OP_ENCODER, /* transformer_encoder: MlpIrLayer.enc */
  MLP_OP_BOOST,   /* boosted trees (trees rounds of K trees), mlprt_boost_forward's layout, then K base
                     scores (the bias) under the output activation */
  MLP_OP_POOL_STEPS /* pool_steps: steps x features to features, MlpIrLayer.pool */
} MlpOpKind;

/* ORDER ACT: the values are part of the generated-code contract (ir.c names). */
typedef enum {
  MLP_ACT_LINEAR,
  MLP_ACT_RELU,
  MLP_ACT_SIGMOID,
  MLP_ACT_TANH,
  MLP_ACT_SOFTMAX,
  MLP_ACT_LEAKY_RELU, /* slope 0.01 below zero */
  MLP_ACT_GELU,       /* exact, x/2 (1 + erf(x / sqrt 2)); its backward reads MlpIrLayer.pre_buf */
  MLP_NACTS
} MlpAct;

typedef enum {
  MLP_INIT_HE_UNIFORM,
  MLP_INIT_HE_NORMAL,
  MLP_INIT_GLOROT_UNIFORM,
  MLP_INIT_GLOROT_NORMAL,
  MLP_INIT_ZEROS,
  MLP_INIT_UNIFORM, /* U[-0.05, 0.05] */
  MLP_INIT_NORMAL   /* N(0, 0.05) */
} MlpInit;

typedef enum { MLP_OPTIM_SGD, MLP_OPTIM_ADAM, MLP_OPTIM_ADAMW, MLP_OPTIM_RMSPROP } MlpOptimKind;

/* Weight compression of a predictor (deploy.quantize, mlpc export --quantize). */
typedef enum { MLP_QUANT_NONE, MLP_QUANT_INT8 } MlpQuant;

/* A raw input value up to this fraction of its training range (max - min)
 * beyond that range is served as it is; only a farther one meets the
 * spec's out_of_range failsafe (MlprtPredictor.range_margin). */
#define MLP_EXPORT_RANGE_MARGIN 0.5

typedef enum { MLP_SCHED_CONSTANT, MLP_SCHED_COSINE, MLP_SCHED_STEP, MLP_SCHED_PLATEAU } MlpSchedKind;

/* A buffer of the static memory plan: bytes at a fixed offset of the one
 * arena, live from step first to step last of the training step's schedule
 * (forward ops count up, backward ops continue after them). Buffers whose
 * lifetimes do not overlap may share bytes. */
typedef struct {
  const char *name; /* "act1", "dact1", "x", ... */
  int64_t bytes;
  int first, last; /* live range, inclusive */
  int64_t offset;  /* assigned by the planner, a multiple of MLPRT_ALIGN */
} MlpIrBuffer;

/* One layer. Shapes are per sample; a batch adds a leading dimension.
 * Images are (channels, height, width), row-major; a feature vector of n
 * is (n, 1, 1). */
typedef struct {
  MlpOpKind op;
  MlpAct act;
  int64_t in_c, in_h, in_w;    /* input shape */
  int64_t out_c, out_h, out_w; /* output shape; dense: out_c is the width */
  int64_t in_size, out_size;   /* elements per sample of each */
  float rate;                  /* dropout probability */
  int init;                    /* dense, conv2d: 1 + the layer's own MlpInit; 0: the model's */
  bool no_bias;                /* dense: no bias (bias = false); b_off is where it would start */
  int kernel, stride, pad;     /* conv2d and maxpool2d windows (square) */
  float momentum, eps;         /* batchnorm: the batch statistics' weight in the running ones (PyTorch's
                                  convention); batchnorm, layernorm: the variance's epsilon */
  int64_t state_off;    /* batchnorm: float offset of running mean [C] then variance [C] in the state */
  int64_t w_off, b_off; /* float offsets in the parameter slab; W is [out_size, in_size] for dense,
                           [out_c, in_c, kernel, kernel] for conv2d */
  int64_t n_params;
  int64_t flops;  /* forward FLOPs per sample (a multiply-add counts 2) */
  int out_buf;    /* MlpIrBuffer index of the output activation [batch, out_size] */
  int dout_buf;   /* index of its gradient [batch, out_size], -1 if none needed */
  int mask_buf;   /* dropout: index of the keep-scale mask [batch, out_size], else -1 */
  int col_buf;    /* conv2d: im2col scratch of one image, else -1 */
  int argmax_buf; /* maxpool2d: int32 [batch, out_size] window maxima, else -1 */
  int pre_buf;    /* a gelu dense or conv2d layer: its pre-activation [batch, out_size], else -1 */
  int stats_buf;  /* batchnorm: the batch's mean [C] then rstd [C]; layernorm: each row's mean [batch]
                     then rstd [batch]; kept for backward, else -1 */
  /* Recurrent layers: the cell (MlprtCell), the input read as steps x features (an image (1, H, W) is
   * H steps of W; a vector (n, 1, 1) one step of n), units, whether every step is output ((1, steps,
   * units), else (units, 1, 1)); W_ih [G*units, features] then W_hh [G*units, units] at w_off, b_ih then
   * b_hh [G*units] at b_off; the per-step record [batch, steps, S] and the scratch (layers.h sizes), both
   * planned buffers; else -1. A bidirectional layer has two directions, each with its own such weights
   * (the reverse one's at w_off and b_off + recurrent_dir_floats) and record (one after the other in
   * seq_buf), sharing the scratch; its rows are the forward then the reverse direction's units. */
  int cell;
  int64_t steps, features, units;
  bool return_sequences, bidirectional;
  int seq_buf, work_buf;
  /* Embedding: its input, a vector of n codes (the data's columns), is n steps; the output (1, n, units)
   * holds each code's row of the table [vocab, units] at w_off. */
  int64_t vocab;
  /* transformer_encoder: its configuration (mlp/layers.h MLPRT_ENC_*: steps x features as a recurrent
   * layer's, then width, heads, ...), its dropout in rate, its parameters (mlprt_encoder_params) from
   * w_off, its record in seq_buf and backward's scratch in work_buf. A flatten written `reshape`: steps
   * > 0, its output (1, steps, features). */
  int32_t enc[MLPRT_ENC_NCFG];
  /* pool_steps: the steps and features it reads (as a recurrent layer does), what it keeps of them (a
   * MlprtEncPool other than none). */
  int pool;
  /* An embedding written with mask_zero (code 0 is padding), and each recurrent, encoder or pool_steps
   * layer that reads its steps (through dropouts and sequence layers that keep every step): these read
   * the model's input, the codes, as their padding mask. */
  bool masked;
} MlpIrLayer;

typedef struct {
  const char *name;
  MlpModelKind kind;
  MlpTask task;
  int64_t in_c, in_h, in_w;  /* the input sample's shape */
  int64_t in_size, out_size; /* features in; output units */
  int64_t batch;             /* rows per step: every shape below is specialised to it */
  /* a trial searching the cleaning chain: the chain its data is cleaned by (in_size its features);
   * NULL: the data plan's */
  const struct MlpIrClean *clean;
  int nclean;
  MlpInit init;
  MlpIrLayer *layers;
  int nlayers;
  int64_t n_params; /* floats in the parameter slab */
  int64_t flops;    /* forward FLOPs per sample */
  /* The memory plan: fixed-purpose buffers first, then per-layer ones. */
  MlpIrBuffer *bufs;
  int nbufs, capbufs;
  int params_buf, grads_buf, m_buf, v_buf, best_buf; /* each [n_params] */
  int x_buf, y_buf;              /* [batch, in_size] inputs, [batch, out_size] targets (floats) */
  bool sparse_in;                /* the first layer, dense, reads sparse rows: x holds an MlprtSparseBatch */
  int64_t n_state;               /* floats of state the optimizer does not train (running statistics) */
  int state_buf, best_state_buf; /* each [n_state], or -1 when n_state is 0 */
  int64_t arena_bytes;           /* the planned arena size */
  float label_smoothing;         /* multiclass: the target is (1 - e) onehot + e / classes */
  int loss;                      /* MLPRT_LOSS_*: the task's default or the spec's `loss` */
  float huber_delta;             /* MLPRT_LOSS_HUBER: where the loss turns linear */
  /* MLP_MODEL_LINEAR: how the weights are found (MLPRT_FIT_*; MLPRT_FIT_NETWORK for a network), whether
   * the L2 penalty is divided by the training rows, and the solver's cap; the penalties on W are the
   * job's (optim.l1, optim.l2), so that tuning can search them */
  int fit;
  bool l2_per_row;
  int64_t iterations;
  /* MLP_MODEL_FOREST: trees complete to depth; features tried per split, fewest rows per leaf,
   * bootstrap sampling and MLPRT_CLASS_WEIGHT_* */
  int64_t trees, depth, max_features, min_leaf;
  bool bootstrap;
  int class_weight;
  /* MLP_MODEL_SVM: MlprtSvmKernel, C, gamma (0: scikit-learn's 'scale', found from the training rows),
   * coef0, degree, the classes (2 or more; out_size is 1 for two; 1: `svr`, a regression) and the most
   * training rows */
  int svm_kernel;
  double svm_c, svm_gamma, svm_coef0, svm_epsilon; /* svr: the tube's half-width (svm_classes is 1) */
  int64_t svm_degree, svm_classes, svm_rows;
  /* MLP_MODEL_BOOST (trees: rounds; depth): bins per feature, rounds of patience on the validation
   * loss (0: none), shrinkage, L2 on the leaves, fewest hessian per child and the rows' fraction per
   * round; max_leaves 0 grows depth-wise, else leaf-wise (lossguide) to at most that many leaves */
  int64_t max_bins, early_stopping, max_leaves;
  double learning_rate, leaf_l2, min_child_weight, subsample;
} MlpIrModel;

typedef struct {
  MlpOptimKind kind;
  float lr, beta1, beta2, eps, momentum, weight_decay;
  double rho; /* RMSprop: decay of the mean square (PyTorch's alpha); 1 - rho is taken in double */
  float l1;                    /* L1 penalty: grad += l1 * sign(p) */
  float l2;                    /* classic L2 penalty: grad += l2 * p (weight_decay is the decoupled one) */
  float clip_norm, clip_value; /* 0: no clipping */
  bool nesterov;               /* SGD: Nesterov momentum, d = g + momentum * b */
} MlpIrOptim;

/* One training of one model over the data plan. */
typedef struct {
  int model; /* index into MlpIr.models */
  MlpIrOptim optim;
  int64_t epochs;
  uint64_t seed;
  MlpSchedKind sched;
  int64_t warmup;     /* cosine: warm-up epochs */
  int64_t sched_step; /* step: epochs between decays; plateau: patience */
  float sched_factor; /* step and plateau: multiplier */
  float min_lr;       /* cosine: the rate annealed to; plateau: the floor of the cuts */
  float smoke_subset; /* fraction of train for the smoke run; 0 = none */
  int64_t smoke_epochs;
  bool stop_on_divergence; /* the smoke run stops on an exploding or flat loss */
  bool early_stop;
  const char *monitor; /* "val_loss" or "val_accuracy" */
  int64_t patience; /* validations without improvement before stopping */
  int64_t val_every; /* validation.every: epochs between validations (and the last is validated) */
  double min_delta; /* smaller improvements do not count */
  bool restore_best;
  int fold;  /* -1: the plain train/validation split */
  int trial; /* tuning: the trial this job runs; -1 when not tuning */
  int rung;  /* successive halving, hyperband: the rung (epochs is its budget); -1 otherwise */
  int bracket; /* hyperband: the bracket, its number of halvings; -1 otherwise */
  const char *settings; /* a trial's searched settings, a JSON object; NULL when not tuning */
} MlpIrJob;

/* One step of the cleaning chain, as the program's runtime applies it
 * (run.h's MlprtCleanStep, field for field). */
typedef struct MlpIrClean {
  int op;              /* MlprtCleanOp */
  int select;          /* MlprtSelect */
  const char *columns; /* MLPRT_SELECT_NAMES: names each ending in '\n'; else NULL */
  const char *keep;    /* outliers: names never treated, each ending in '\n'; or NULL */
  int method;          /* impute: MlprtImpute; outliers: MlprtOutlierMethod; coerce, parse_dates:
                          MlprtOnFail; lag, rolling, diff: MlprtHistory */
  double param;        /* outlier threshold, impute constant, hash buckets, onehot max_levels, coerce's
                          MlprtColType, rolling window, diff steps */
  double low, high;    /* minmax */
  bool flag;           /* impute: indicator columns; onehot: unknown = error; sort_by: descending;
                          date_features: cyclical */
  const char *levels;  /* onehot: each column's levels from the schema probe, a line per column, "NAME\tLEVEL
                          \tLEVEL...\n" (columns.h); NULL before the data is probed */
  /* the columns resolved by the compile-time trace (columns.h) against the
   * table as the step meets it: the runtime selects by these indices, the
   * names above stay for messages and cleaning.json */
  int64_t ncols;              /* the table's columns then; 0: not traced (selected by name) */
  const int64_t *columns_idx; /* the columns it selects (a selector's too) */
  int64_t ncolumns_idx;
  const int64_t *keep_idx;    /* outliers: the kept ones */
  int64_t nkeep_idx;
  int64_t text;               /* text_clean: MLPRT_TEXT_* bits; vectorizers: mlprt_terms_pack of their
                                 options, with max_vocab or buckets in param, min_df and max_df in low
                                 and high */
  const char *by;             /* lag, rolling, diff: the group key column, or NULL */
  int64_t by_idx;             /* its index in the table the step meets (traced), else -1 */
  const char *format;         /* parse_dates: the strftime format, or NULL (ISO 8601) */
  const int64_t *ints;        /* lag: steps; rolling: MlprtRoll stats; date_features: MlprtDatePart parts */
  int64_t nints;
  int64_t offset;             /* rolling: rows between the window's end and the row */
  /* align: the other source, read as the data plan's source is (MlpIrData's fields of the same
   * meaning); param the tolerance (-1: none), method the MlprtUnmatched, columns its key */
  const char *source, *source_format, *source_query;
  const char *source_schema; /* the types its probe gave, "NAME\tTYPE\n" each; NULL before the probe */
  const char *source_na;
  char source_delim;
  bool source_no_header;
  const char *source_on, *source_by; /* align: the keys' names in the other source; NULL: the table's */
} MlpIrClean;

/* The data plan: where the data is and what the compiled schema says. */
typedef struct {
  const char *format;                   /* "csv", "json", "jsonl", "idx" */
  char delimiter;                       /* csv: 0 for ',' */
  bool no_header;                       /* csv: columns are c1, c2, ... */
  const char *na_values;                /* texts meaning missing, each ending in '\n'; NULL: the loader's */
  const char *schema;                   /* declared types, "NAME\tTYPE\n" each; NULL when none */
  const char *split_group, *split_time; /* split by groups or by time order; NULL */
  const char *cleaning_report;          /* file name of the cleaning record */
  const char *path;                     /* as written in the spec, relative to it */
  const char *path2;                    /* idx labels file, else NULL */
  const char *query;                    /* sqlite, postgres: the query (path: the database), else NULL */
  const char *test_path, *test_path2;   /* data.test_source, read as path and path2 are; NULL: none */
  const char *test_query;               /* its query, else NULL */
  const char *target;
  int64_t n_features;   /* columns after cleaning (images: pixels per image) */
  int64_t img_h, img_w; /* idx: image height and width (one channel); 0 for tables */
  int64_t n_classes;    /* classification: levels of the target; 0 for regression */
  double val_frac, test_frac;
  bool stratify;
  uint64_t split_seed;
  MlpIrClean *clean; /* the cleaning chain, in order */
  int nclean;
  bool sparse_text;  /* the model's first layer is dense: a vectorizer's columns reach it as sparse rows,
                        never as a dense table (MlpIrModel.sparse_in) */
} MlpIrData;

/* The deploy section as `mlpc export` and `mlpc deploy` read it: the
 * training program does not act on it (but for version and card, kept in
 * MlpIr), and it is part of the plan so that --emit-ir shows it. */
typedef struct {
  const char *onnx;         /* deploy.onnx, or NULL */
  const char *quantize;     /* "none" or "int8" */
  double max_accuracy_drop; /* largest test-score fall compression may cost */
  const char *predictor;    /* the predictor's file name and entry point, or NULL */
  const char *cpu;          /* the predictor's CPU */
  double max_latency_ms;    /* real-time budget; 0: none */
  const char *registry;     /* the version registry's directory */
  bool sign;                /* deploy.sign: deploy requires a signing key */
  bool rollback;            /* deploy.rollback: keep the older versions (false: deploy removes them) */
  double prune;             /* prune(sparsity); 0: no pruning */
  bool monitor;             /* monitor(...) written: the drift reference is compiled in */
  double drift_threshold;   /* monitor: PSI that reports drift */
  int64_t drift_window;     /* monitor: predictions per check */
  /* deploy.failsafe, as MLPRT_FAILSAFE_* */
  int on_missing_column, on_unknown_category, on_out_of_range, on_nan;
  const char *fallback;  /* deploy.failsafe.fallback as written (a class), or NULL */
  double fallback_value; /* the same when a number (a regression value), else NaN */
} MlpIrDeploy;

typedef struct {
  const char *name; /* the pipeline's name */
  const char *spec_path;
  const char *out_dir; /* default run directory */
  int threads;
  bool deterministic; /* environment.deterministic */
  const char *report; /* analysis.report file name */
  bool learning_curves, bias_variance;
  const char *slices;       /* analysis.slices: column names, each ending in '\n'; NULL: none */
  int worst;                /* analysis.worst: rows with the largest loss listed */
  bool feature_importance;  /* analysis.feature_importance: permutation importance per source column */
  MlpIrData data;
  MlpIrModel *models;
  int nmodels;
  MlpIrJob *jobs;
  int njobs;
  const char *objective; /* tuning: the validation value that ranks trials */
  int nfolds;            /* > 0: jobs are trials x folds, job t * nfolds + f holding out fold f */
  int fold_repeats;      /* the folds are repeats x k: fold f is fold f % k of repeat f / k */
  int eta;               /* successive halving, hyperband: each rung keeps the best 1 / eta trials; 0: none */
  bool cross_validate;   /* data.folds: the folds of the spec's settings are the run (no --tune) */
  bool refit;            /* tuning.refit: without folds, the winner is refitted on training + validation */
  const char *tpe;       /* search = tpe: its spaces, one line each (include/mlp/tpe.h); NULL: none */
  int tpe_startup;       /* tpe: the trials drawn at random before the estimator chooses */
  const char *tpe_labels; /* tpe over spaces that shape the model: each space's values as JSON, tab-separated,
                             a line each (empty for lr and epochs); NULL: none */
  int64_t *tpe_models;   /* the model of each combination of those spaces' values, the first fastest */
  int ntpe_models;
  uint64_t tpe_seed;
  const char *version;   /* deploy.version; NULL when the spec has no deploy section */
  bool no_card;          /* deploy.card = false: no MODEL_CARD.md */
  MlpIrDeploy deploy;
  int blas_threads;      /* environment.blas_threads; 0: the thread budget */
  bool monitor;          /* environment.monitor: CPU time, memory and throughput per epoch */
  int checkpoint_every;  /* environment.checkpoint_every: epochs between checkpoints (1 unwritten) */
  int log_level;         /* environment.log: MLPRT_LOG_* */
  unsigned epoch_monitor; /* validation.monitor: bits (1 << MLPRT_MON_*); 0: unwritten, the default */
  bool mpi;              /* environment.distributed = mpi: the program runs under mpirun */
  int shards;            /* environment.shards: slices of every batch, a power of two */
  int64_t memory_mb;     /* environment.memory_mb; 0: not given */
  int out_of_core;       /* environment.out_of_core: MLPRT_OOC_* */
  unsigned metrics;      /* analysis.metrics: bits (1 << MLPRT_METRIC_*) */
  int baseline;          /* analysis.baseline: the MLPRT_FIT_* fitted beside the model;
                            MLPRT_FIT_NETWORK: none */
  const char *pretrained;        /* model.pretrained: the run directory the weights start from, or NULL */
  const char *pretrained_sha256; /* its weights.bin's digest, as its manifest records it */
} MlpIr;

const char *mlp_ir_act_name(MlpAct a);
const char *mlp_ir_op_name(MlpOpKind k);
/* The op's name, a recurrent layer's its cell's (rnn, lstm, gru; birnn, bilstm, bigru when bidirectional). */
const char *mlp_ir_layer_name(const MlpIrLayer *l);
/* The parameters of one direction of recurrent layer l: W_ih, W_hh, b_ih, b_hh. */
int64_t mlp_ir_recurrent_dir_floats(const MlpIrLayer *l);
const char *mlp_ir_task_name(MlpTask t);
/* The spec's name of an optimizer: sgd, adam, adamw, rmsprop. */
const char *mlp_ir_optim_name(MlpOptimKind k);
/* The spec's word for a column selector (MlprtSelect; NULL for
 * MLPRT_SELECT_NAMES) and for a failsafe policy (MLPRT_FAILSAFE_*); the
 * codes of such words, or -1 when none has it. */
const char *mlp_ir_select_name(int select);
const char *mlp_ir_failsafe_name(int policy);
int mlp_ir_select_code(const char *word);
int mlp_ir_failsafe_code(const char *word);

/* Add a buffer to m's plan (unplaced); returns its index. */
int mlp_ir_add_buffer(MlpArena *a, MlpIrModel *m, const char *name, int64_t bytes, int first, int last);
/* Assign offsets: buffers are placed largest first at the lowest aligned
 * offset that overlaps no placed buffer with an overlapping lifetime; sets
 * arena_bytes. Deterministic for a given buffer list. The finished plan is
 * verified (mlp_ir_plan_valid); a plan that fails is an internal error
 * that stops the process. */
void mlp_ir_plan_memory(MlpIrModel *m);
/* True when no two buffers with overlapping lifetimes overlap in memory. */
bool mlp_ir_plan_valid(const MlpIrModel *m);

/* The plan as JSON (pretty-printed), the --emit-ir format: every field of
 * the IR. Data paths are printed relative to the spec's directory, so the
 * text does not depend on where the files are. */
void mlp_ir_dump(const MlpIr *ir, FILE *out);
/* The plan for people (`mlpc explain`): data, layers with shapes,
 * parameters and FLOPs, the memory plan and the training settings. */
void mlp_explain(const MlpIr *ir, FILE *out);

#endif
