/* rundir.h — a trained run directory, loaded and verified.
 *
 * `PROG --out RUN` leaves a run directory: manifest.json (with the sha256
 * of every artifact), spec.mlp, cleaning.json, weights.bin, and, when the
 * training run records them, reference.json, test_rows.csv,
 * predictions.csv and MODEL_CARD.md. mlp_rundir_load checks every artifact
 * the manifest lists against its digest, re-parses and re-checks the spec,
 * lowers the model to IR with the data's shape taken from the run (the
 * training data is never read), and loads the weights, the fitted cleaning
 * steps, the target's classes or scaling and the drift reference. The
 * exporters (predictor, ONNX, compression) start from it. */
#ifndef MLP_RUNDIR_H
#define MLP_RUNDIR_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ir.h"
#include "mlp/clean.h"
#include "mlp/predict.h"
#include "sema.h"

typedef struct {
  const char *dir;         /* as given */
  const char *name;        /* the pipeline's name */
  const char *version;     /* deploy.version of the spec (default "1.0.0") */
  const char *spec_text;   /* spec.mlp */
  const char *spec_sha256; /* hex digests recorded by the manifest */
  const char *data_sha256;
  const char *weights_sha256;
  const MlpSpec *spec; /* checked */
  MlpIr *ir;           /* lowered without the data; model is ir->models[0] */
  const MlpIrModel *model;
  /* weights.bin: the parameter slab [n_params], then the running statistics
   * [n_state] (batch norm), float32. weights points at the first. */
  float *weights;
  int64_t n_params, n_state;
  MlprtFit *fits; /* cleaning.json's fitted steps, in order (mlprt_fits_read) */
  int nfits;
  const char *target; /* the target column */
  /* Classification: the target's classes in output order; regression: the
   * target's scaling, value = output * y_std + y_mean. */
  const char *const *classes;
  int nclasses;
  const char *classes_text; /* the same, each ending in '\n'; NULL for regression */
  double y_mean, y_std;
  /* reference.json (NULL / 0 when the run has none). */
  const char *schema; /* the compiled schema, "NAME\tTYPE\n" each */
  MlprtPredInput *inputs; /* the raw input columns, with the training range or levels */
  int ninputs;
  int64_t drift_bins;        /* bins per feature */
  const double *drift_edges; /* [n_features, drift_bins - 1] */
  const double *drift_ref;   /* [n_features, drift_bins] */
  const double *feature_mean; /* [n_features] over the training rows; NULL when the run has none */
  const double *feature_std;  /* [n_features] */
  const double *pred_edges;  /* regression: [drift_bins - 1]; else NULL */
  const double *pred_ref;    /* [classes] or [drift_bins] */
  int64_t npred_ref;
  const char *card; /* MODEL_CARD.md's text, or NULL */
} MlpRunDir;

/* Load and verify the run directory dir. Everything lives in a but the
 * fits, which mlp_rundir_free releases (after a failure too). 0, or -1
 * with a message in err (n bytes) naming the file at fault: a missing or
 * tampered artifact, a spec that no longer checks, weights of the wrong
 * size. */
int mlp_rundir_load(MlpArena *a, const char *dir, MlpRunDir *rd, char *err, size_t n);
void mlp_rundir_free(MlpRunDir *rd);

/* The run's row feature program: mlprt_pred_plan_build over its schema,
 * fitted steps, the spec's cleaning chain and the reference's inputs (IDX
 * runs: the pixels). Free with mlprt_pred_plan_free. 0, or -1 with a
 * message (a run without reference.json, a step rows cannot replay). */
int mlp_rundir_plan(MlpArena *a, const MlpRunDir *rd, MlprtPredPlan *plan, char *err, size_t n);

/* The path dir/file in a. */
const char *mlp_rundir_path(MlpArena *a, const MlpRunDir *rd, const char *file);

#endif
