/* onnx.h — a trained model and its feature program as an ONNX file.
 *
 * Consumes a lowered model (ir.h), its trained weights, the predictor's row
 * feature program (predict.h's MlprtPredPlan) and what the target is;
 * produces an ONNX ModelProto (IR version 8, opsets ai.onnx 13 and, for
 * categories, ai.onnx.ml 2; producer "mlpc") whose one graph does what the
 * native predictor does to a row: input "input" float [N, columns] holds
 * the raw numeric and boolean (0 / 1) input columns in source order (NaN =
 * missing), "input_text" string [N, columns] the category columns' texts
 * (the loader's missing-value texts = missing), when there are any; the
 * graph cleans them as training did, runs the model and answers
 * "probabilities" float [N, K] and "label" int64 [N] (the class index;
 * the class names are the model's "classes" metadata, comma-separated)
 * or, for regression, "value" float [N, 1] in the target's units. The
 * protobuf wire format is written here directly: varints and
 * length-delimited fields, nothing else is needed.
 *
 * What the graph does not do, unlike the native predictor: parse numbers
 * from text (the caller gives floats, NaN for missing), refuse rows
 * (failsafes, rows training would have dropped for a missing value: the
 * graph answers them, the missing value then 0 for the model), hash
 * encoding and date columns (refused). A number or boolean the chain
 * encodes as a category is compared as the number its level reads as.
 * log1p is computed as Log(1 + x), which can differ from log1pf in the
 * last bits near 0. */
#ifndef MLP_ONNX_H
#define MLP_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "mlp/predict.h"

typedef struct {
  const char *name;          /* the graph's name: the pipeline's */
  const char *version;       /* deploy.version, recorded as metadata; NULL when none */
  const MlpIrModel *model;   /* layers, shapes and parameter offsets */
  const float *params;       /* [model->n_params] the trained parameter slab */
  const float *state;        /* [model->n_state] batch-norm running statistics; NULL when none */
  const MlprtPredPlan *plan; /* raw columns -> model features (mlprt_pred_plan_build) */
  const char *classes;       /* classification: class names, each ending in '\n'; NULL for regression */
  double y_mean, y_std;      /* regression: value = output * y_std + y_mean */
} MlpOnnxModel;

/* The model as ONNX bytes in *buf (malloc'd, *len bytes). 0, or -1 with a
 * message in err (n bytes) naming what ONNX export cannot serve (a date
 * input column, hash encoding). */
int mlp_onnx_encode(const MlpOnnxModel *m, uint8_t **buf, size_t *len, char *err, size_t n);
/* mlp_onnx_encode, then write the bytes to path atomically (temp + rename). */
int mlp_onnx_write(const MlpOnnxModel *m, const char *path, char *err, size_t n);

/* Load and verify the run directory (rundir.h), build its feature program
 * and write its ONNX model to path: `mlpc export RUN_DIR --onnx FILE`.
 * With path NULL, the file the run's spec names in deploy.onnx (nothing
 * when it names none), placed beside the file beside (the predictor `mlpc
 * export` wrote: same directory; NULL: the current one) unless the name is
 * absolute. With announce, "wrote PATH (N bytes)" goes there. 0, or -1
 * with a message in err. */
int mlp_onnx_export(const char *run_dir, const char *path, const char *beside, FILE *announce, char *err,
                    size_t n);

#endif
