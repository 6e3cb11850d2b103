/* draft.h — `mlpc init DATA`: a first spec written from a data file.
 *
 * Reads every row of DATA through the data layer, prints what it inferred
 * of each column (type, missing values, levels or range) and what the spec
 * does with it, and writes a commented spec that checks and trains as it
 * stands: the cleaning each column needs, the task the target's type
 * implies, a first model, early stopping and a `tuning` block over model
 * families (an MLP, a linear model, a random forest, boosted trees, each an
 * architecture of the spec) and their main settings. Columns that
 * look like identifiers, that hold one value, that alone predict the target
 * almost perfectly or are filled in for one outcome only (suspected leaks)
 * are left out, each with a comment saying why. */
#ifndef MLP_DRAFT_H
#define MLP_DRAFT_H

#include <stdio.h>

typedef struct {
  const char *data;      /* the data file, as the user named it */
  const char *target;    /* the column to predict; NULL: the last column */
  const char *spec_path; /* where the spec goes (its source path is written relative to it); NULL: stdout */
} MlpDraftOpts;

/* Write the spec to spec and the column report to report. 0, or -1 with a
 * message in err. */
int mlp_draft(const MlpDraftOpts *o, FILE *spec, FILE *report, char *err, size_t n);

#endif
