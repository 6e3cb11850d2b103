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
#include <stdint.h>
#include <stdio.h>

#include "export.h"
#include "sema.h"

/* The default tolerance: deploy.max_accuracy_drop's default. */
#define MLP_COMPRESS_MAX_DROP 0.01

/* The spec's deploy.quantize, deploy.prune(sparsity = ...) and
 * deploy.max_accuracy_drop; each output is left alone when the spec does not
 * set it (and has no default), so callers initialise them first. */
void mlp_compress_spec_defaults(const MlpSpec *spec, MlpQuant *quantize, double *prune, double *max_drop);

/* What the check measured; "before" is the float predictor, "after" the
 * compressed one. */
typedef struct {
  bool regression;                 /* the metric is R2, else accuracy */
  double before, after;            /* the metric on the test rows */
  int64_t rows;                    /* test rows scored */
  int64_t weights_before, weights_after; /* bytes of the compiled-in weights */
  int64_t binary_before, binary_after;   /* bytes of the executables */
  double us_before, us_after;      /* median microseconds per row over the timed runs */
  int64_t timed_rows;              /* rows in each timed run */
  int runs;                        /* timed runs of each predictor */
  double max_drop;                 /* the tolerance */
  bool accepted;                   /* after >= before - max_drop */
} MlpCompressReport;

/* Build o's compressed predictor and its float twin in a scratch directory,
 * score and time both, and write o's output (the artifact o asks for) only
 * when the metric drops by at most max_drop. 0 with r filled (r->accepted
 * false: nothing was written), or -1 with a message in err (n bytes): a run
 * without test rows, a failing build, a predictor that fails. */
int mlp_compress_export(const MlpExportOpts *o, double max_drop, MlpCompressReport *r, char *err, size_t n);

/* The report, a few aligned lines. */
void mlp_compress_print(const MlpCompressReport *r, const MlpExportOpts *o, FILE *f);

#endif
