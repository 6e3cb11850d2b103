/* report_int.h — internal interfaces of the run's report
 * (runtime/report/): report.html drawn from an MlprtReport (report.c),
 * the MlprtReport read from a run's records (records.c), and two runs
 * compared (diff.c). The layer sits on core and kernels: the training
 * program writes its report through it, and mlpc reads finished runs with
 * it without the trainer. */
#ifndef MLP_REPORT_INT_H
#define MLP_REPORT_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mlp/metrics.h"
#include "mlp/run.h"

/* What report.html shows. */
typedef struct {
  const char *pipeline, *data_path;
  const char *test_path; /* the given test set's source, or NULL */
  int64_t rows[3], features;
  const char *split;               /* the split the metrics are measured on: "test" or "validation" */
  const char *const *metric_names; /* [nmetrics] its metrics */
  const double *metric_values;
  int nmetrics;
  const char *const *classes; /* [nclasses] */
  int nclasses;
  const MlprtClassScores *per_class; /* [nclasses] each class's scores, or NULL */
  const int64_t *confusion; /* [nclasses, nclasses], true class by row; NULL: not shown */
  bool curves, bias_variance;
  const double *train_loss, *val_loss; /* [epochs] of the reported job (NaN where not recorded) */
  const double *val_score;             /* [epochs] its validation accuracy (R² for regression), or NULL */
  const char *score_name;              /* "validation accuracy" or "validation R²" */
  int64_t epochs, best_epoch;          /* best_epoch counts from 1 */
  const char *hyperparameters;         /* JSON text */
  const char *baseline;                /* how the model compares with the baseline (a sentence), or NULL */
  const MlprtModel *model;             /* the reported job's model */
  const cJSON *manifest;               /* the manifest so far: data, environment, jobs, tuning, analysis... */
  const cJSON *cleaning;               /* the cleaning record (cleaning.json) */
  const cJSON *trials;                 /* trials.jsonl's objects in an array, or NULL */
} MlprtReport;

/* Text with HTML's special characters escaped. */
void mlprt_html_text(FILE *f, const char *s);
/* End the page a memory stream f (over *text, *len) holds and write it to
 * path atomically; frees the text. 0, or -1 (errno). */
int mlprt_html_close(FILE *f, char **text, size_t *len, const char *path);

/* Write the report as one HTML file, atomically. 0, or -1 (errno). */
int mlprt_report_write(const char *path, const MlprtReport *r);

/* The report of the manifest (its "report" object names the kept job, its
 * model and what analysis asked to show), the kept job's curves in
 * metrics (metrics.jsonl's text), the trials (trials.jsonl's text, or
 * NULL) and the cleaning record, written to
 * path; the manifest's artifacts are shown without the report itself
 * (records.c). 0, or -1 (errno). */
int mlprt_report_from_manifest(const cJSON *manifest, const char *metrics, const char *trials,
                               const cJSON *cleaning, const char *path);

#endif
