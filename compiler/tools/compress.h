/* compress.h — the compression step of `mlpc export`.
 *
 * Consumes the export options (with --quantize int8 and/or --prune
 * SPARSITY) and the run directory's test rows (test_rows.csv); produces the
 * compressed predictor only when it scores within the tolerance of the float
 * one. Both predictors are built (export.h), run on the test rows with the
 * target column removed and scored against the true targets (accuracy, or
 * R2 for regression); the report gives the metric, the weight and binary
 * sizes and the median latency per row, before -> after. A drop beyond the
 * tolerance refuses the compression: nothing is written. */
#ifndef MLP_COMPRESS_H
#define MLP_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "export.h"

/* `mlpc export RUN` with the compression step. Settings the command line
 * did not give (quantize_given, prune_given; max_drop < 0) come from the
 * run's spec: deploy.quantize, deploy.prune(sparsity = ...),
 * deploy.max_accuracy_drop. Without compression this is mlp_export_build.
 * With it, the report goes to stdout and a refusal, with its numbers, to
 * stderr. Returns the exit status: 0 written, 1 refused (nothing written),
 * 2 an error (its message on stderr). */
int mlp_compress_command(MlpExportOpts *o, bool quantize_given, bool prune_given, double max_drop);

#endif
