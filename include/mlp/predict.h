/* predict.h — the runtime of a generated predictor.
 *
 * `mlpc export RUN_DIR -o PRED` compiles a trained run into a native
 * program whose main is
 *
 *     return mlprt_predict_main(argc, argv, &predictor);
 *
 * where `predictor` is a constant MlprtPredictor the compiler emits: the
 * training schema, the fitted cleaning chain flattened into a per-row
 * feature program (MlprtPredPlan), the model's forward pass over constant
 * weights (generated code), the failsafe policies, the drift reference and
 * the model card. Raw rows go in (CSV with the source's columns, the target
 * left out, or JSON lines), predictions come out, one per input row, in
 * order. Nothing is allocated on the heap per prediction: buffers are
 * sized from the descriptor once, at start.
 *
 * Every field of the descriptors is 8 bytes wide (int64_t, double or a
 * pointer) so that the generated constants' layout matches this header
 * without padding rules, as in run.h. */
#ifndef MLP_PREDICT_H
#define MLP_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mlp/clean.h"

/* ---- the feature program ----------------------------------------------------- */

/* One raw input column: the training source's columns but the target, in
 * source order, typed as training loaded them. */
typedef struct {
  const char *name;
  int64_t type;       /* MlprtColType */
  double lo, hi;      /* numeric: the training rows' range as loaded (before cleaning); NaN when unknown */
  const char *levels; /* category/bool: the training levels, each ending in '\n'; NULL otherwise */
  int64_t nlevels;
} MlprtPredInput;

/* One instruction of the per-row feature program. The program works on
 * slots (one per column of the cleaning chain's table as it evolves: the
 * inputs first, then the columns steps add) and mirrors, value for value,
 * what the training program's cleaning did to a test row. The operations
 * (op) are defined by the runtime (runtime/predict/); src, dst and n are
 * slot indices and counts, a and b the fitted numbers, text the fitted
 * strings (levels, vocabulary), each ending in '\n'. */
typedef struct {
  int64_t op;
  int64_t src, dst, n;
  double a, b;
  const char *text;
} MlprtPredStep;

/* The whole row transform: raw input columns -> model features. */
typedef struct {
  const MlprtPredInput *inputs;
  int64_t ninputs;
  const MlprtPredStep *steps;
  int64_t nsteps;
  int64_t nslots;
  const int64_t *feature_slot; /* [nfeatures] the slot each model feature reads */
  int64_t nfeatures;
} MlprtPredPlan;

/* Build the plan of a trained run at export time from the loaded schema
 * ("NAME\tTYPE\n" each, as compiled into the training program), the target
 * column, the fitted steps (mlprt_fits_read of cleaning.json) and the raw
 * ranges and levels the training run recorded. The plan and its strings are
 * malloc'd; free with mlprt_pred_plan_free. 0, or -1 with a message in err
 * naming what cannot be served row by row. */
int mlprt_pred_plan_build(const char *schema, const char *target, const MlprtFit *fits, int nfits,
                          MlprtPredPlan *plan, char *err, size_t n);
void mlprt_pred_plan_free(MlprtPredPlan *plan);

/* ---- failsafes ------------------------------------------------------------------- */

/* What the predictor does with an input it was not trained on (the spec's
 * deploy.failsafe block). */
enum {
  MLPRT_FAILSAFE_REJECT,   /* answer an error for the row, with the reason */
  MLPRT_FAILSAFE_IMPUTE,   /* treat the value as missing: the training chain fills it in */
  MLPRT_FAILSAFE_FALLBACK, /* answer the declared fallback prediction */
  MLPRT_FAILSAFE_CLIP      /* out of range only: clip to the training range */
};

/* ---- the predictor ------------------------------------------------------------------ */

typedef struct {
  const char *name;        /* the pipeline's name */
  const char *version;     /* deploy.version */
  const char *spec_sha256; /* of the spec the run was trained from */
  const char *data_sha256; /* of the training data */
  const char *weights_sha256; /* of weights.bin; the predictor checks its compiled-in weights against it */
  const char *card;           /* MODEL_CARD.md's text */
  const char *compiler;       /* "mlpc VERSION (LLVM X.Y.Z)" */
  int64_t task;               /* MLPRT_TASK_* of run.h */
  int64_t n_in, n_out;        /* model features per row; model outputs per row */
  const char *classes;        /* classification: class names, each ending in '\n'; else NULL */
  double y_mean, y_std;       /* regression: value = output * y_std + y_mean */
  /* The model over constant weights, generated: out [n, n_out] (probabilities
   * or the scaled value) from x [n, n_in], n <= batch; scratch holds
   * scratch_bytes (aligned to 64). */
  void (*forward)(const float *x, float *out, int64_t n, void *scratch);
  int64_t batch, scratch_bytes;
  const void *weights; /* the weights as compiled in, and their size */
  int64_t weights_bytes;
  const MlprtPredPlan *plan;
  /* Failsafe policies (MLPRT_FAILSAFE_*). */
  int64_t on_missing_column, on_unknown_category, on_out_of_range, on_nan;
  double range_margin;          /* out of range: beyond [lo - m w, hi + m w], w = hi - lo */
  double fallback_value;        /* regression fallback */
  const char *fallback_label;   /* classification fallback; NULL when none was declared */
  /* Monitoring: drift of each feature and of the predictions against
   * training, as population stability index over fixed bins. */
  double drift_threshold;
  int64_t drift_window;   /* predictions per drift check */
  int64_t drift_bins;     /* bins per feature (and for a regression's predictions) */
  const double *drift_edges; /* [n_in, drift_bins - 1] inner bin edges of each feature, from training */
  const double *drift_ref;   /* [n_in, drift_bins] training fraction in each bin */
  const double *pred_edges;  /* regression: [drift_bins - 1] edges of the predicted value; else NULL */
  const double *pred_ref;    /* [n_out classes or drift_bins] training fraction of each prediction */
} MlprtPredictor;

/* PRED [FILE...] [--format csv|jsonl] [--output csv|jsonl] [--log FILE]
 *      [--drift] [--version] [--card] [--help]
 * Reads FILE (or stdin), writes predictions to stdout, reasons for rejected
 * rows to stderr (and into their output line). Exit status: 0 every row
 * answered, 1 some rows rejected (the others answered), 2 usage, I/O or
 * integrity errors. */
int mlprt_predict_main(int argc, char **argv, const MlprtPredictor *p);

/* One row for embedding programs: fields[i] is the text of input column i
 * (NULL for missing). out receives n_out outputs (probabilities, or the
 * value in the target's units); returns the class index (0 for
 * regression), or -1 with the reason in reason (n bytes) when the row is
 * rejected. Thread-safe; uses scratch from the caller (scratch_bytes). */
int mlprt_predict_fields(const MlprtPredictor *p, const char *const *fields, float *out, void *scratch,
                         char *reason, size_t n);

#endif
