/* columns.h — column accounting for `mlpc check` and `mlpc explain`: every
 * column of a spec's data source, its type, what the cleaning chain makes
 * of it (features through which ops, the target, dropped, or unused and
 * why) and how many missing values reach the model unfilled.
 *
 * Consumes the data plan (MlpIrData) and the data layer's schema probe of
 * its source (mlprt_probe_described: types, missing counts, ranges and
 * levels over every row); the chain is traced over column types and
 * levels, not run. Lowering takes the plan's shapes from the same trace:
 * the feature count, and each onehot step's levels, which the program
 * encodes with (levels from the whole file, so the width never depends on
 * the split; which levels max_levels keeps the program counts on the
 * training rows). */
#ifndef MLP_COLUMNS_H
#define MLP_COLUMNS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "ir.h"
#include "mlp/data.h"

/* The dense path's bound: a vectorizer (bag_of_words, tfidf,
 * hash_vectorize) whose columns times the source's rows pass this many
 * floats (4 GiB) is refused at its step when its features would be a
 * dense table of that size, that is unless the model's first layer is
 * dense and reads them as sparse rows. */
#define MLP_TEXT_DENSE_MAX (1024.0 * 1024 * 1024)

typedef struct {
  const char *name;
  int type;                 /* MlprtColType as probed (the program loads with it) */
  bool target;
  const char *ops;          /* the ops that touched it, ", " between; "" when none */
  const char *unused;       /* why no feature comes of it (and the fix), or NULL */
  int64_t features;         /* model features made from it */
  int64_t missing;          /* missing cells in the source */
  int64_t missing_to_model; /* of those, the ones that reach the model unfilled (as 0) */
  double lo, hi;            /* numbers: the source's range; NaN when none */
  bool unscaled;            /* a number that reaches the model as it is, no scaling op on the way */
  bool orders;              /* no feature, but it orders the rows (sort_by, split's time_order) */
  bool joins;               /* no feature, but align joins the sources on it (its on or by key) */
  const char *source;       /* NULL: a column of the data's source; else of the source an align step
                               joins, as written (its path or query) */
} MlpColumnUse;

typedef struct {
  MlpColumnUse *cols; /* in source order, the data's first, then those of each align step's source */
  int n;
  int64_t features;   /* the model's inputs: every feature of every column */
} MlpColumns;

/* What the trace learns of one cleaning step (lowering copies it into
 * MlpIrClean). The table as the runtime builds it: source columns in
 * order, impute indicators appended, an encoded column's new columns (one
 * per one-hot level kept, one per hash bucket, the ordinal) in its place
 * at the end. */
typedef struct {
  const char *levels;   /* onehot: the levels it encodes with, a line per column,
                           "NAME\tLEVEL\tLEVEL...\n"; NULL for other steps */
  int64_t ncols;        /* the table's columns as the step meets it; 0 when an earlier list named a
                           column the trace cannot place (then the runtime selects by name) */
  const int64_t *idx;   /* the columns it selects, as indices into that table */
  int nidx;
  const int64_t *keep;  /* outliers: the kept columns' indices */
  int nkeep;
  int64_t by_idx;       /* lag, rolling, diff: the group key's index in that table; -1 when none or not
                           traced (then the runtime finds it by name) */
  const char *schema;   /* align: the types of the source it joins as probed, "NAME\tTYPE\n" each */
} MlpStepCols;

/* Trace d's cleaning chain over the probed schema s of its source (and the
 * probes of the sources align steps join, made here): the
 * accounting in out, and steps[i] (of d->nclean) what step i meets and
 * selects. 0, or -1 with a message in err and *step the step
 * that cannot take a column it selects: a number-only step (impute by
 * mean, median or constant, the outlier and scaling ops) given another
 * column, or a onehot whose levels are not known (a column of text or of
 * more values than the type scan keeps) or hold a tab or a line break; an
 * align whose source cannot be read, or whose keys either source lacks or
 * types differently (the time key a date in both or a number in both). */
int mlp_columns_trace(MlpArena *a, const MlpIrData *d, const MlprtSchema *s, MlpColumns *out,
                      MlpStepCols *steps, int *step, char *err, size_t n);

/* The source d describes, as the data layer reads it. */
MlprtSourceDesc mlp_columns_source(const MlpIrData *d);
/* The data layer's schema probe of the source src describes: its files
 * (mlprt_probe_described) or its query (mlprt_sql_probe). 0 or -1. */
int mlp_columns_probe(const MlprtSourceDesc *src, MlprtSchema *s, MlprtError *e);

/* Probe d's source and trace d's cleaning chain over it. 0, or -1 with a
 * message in err (the data cannot be read; IDX images have no columns to
 * account for). */
int mlp_columns_account(MlpArena *a, const MlpIrData *d, MlpColumns *out, char *err, size_t n);

/* A heading (naming spec when not NULL), one line per source column, then
 * a warning line for each column no op
 * uses, each column whose missing values reach the model unfilled, and
 * numeric inputs left unscaled whose ranges differ by more than 100x.
 * Returns the number of warnings. */
int mlp_columns_print(const MlpColumns *c, const char *spec, FILE *out);

#endif
