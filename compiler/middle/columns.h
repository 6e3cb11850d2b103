/* columns.h — column accounting for `mlpc check` and `mlpc explain`: every
 * column of a spec's data source, its type, what the cleaning chain makes
 * of it (features through which ops, the target, dropped, or unused and
 * why) and how many missing values reach the model unfilled.
 *
 * Consumes the lowered data plan (MlpIrData) and the source itself, read
 * by the runtime's loader with the types lowering saw; the chain is traced
 * over column types and level counts, not run. Levels are counted over the
 * whole file: the program counts them on the training rows, so a level
 * only validation or test rows hold has no column there. */
#ifndef MLP_COLUMNS_H
#define MLP_COLUMNS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "ir.h"

typedef struct {
  const char *name;
  int type;                 /* MlprtColType as loaded */
  bool target;
  const char *ops;          /* the ops that touched it, ", " between; "" when none */
  const char *unused;       /* why no feature comes of it (and the fix), or NULL */
  int64_t features;         /* model features made from it */
  int64_t missing;          /* missing cells in the source */
  int64_t missing_to_model; /* of those, the ones that reach the model unfilled (as 0) */
  double lo, hi;            /* numbers: the source's range; NaN when none */
  bool unscaled;            /* a number that reaches the model as it is, no scaling op on the way */
} MlpColumnUse;

typedef struct {
  MlpColumnUse *cols; /* in source order */
  int n;
} MlpColumns;

/* Trace d's cleaning chain over d's source. 0, or -1 with a message in err
 * (the data cannot be read; IDX images have no columns to account for). */
int mlp_columns_account(MlpArena *a, const MlpIrData *d, MlpColumns *out, char *err, size_t n);

/* A heading (naming spec when not NULL), one line per source column, then
 * a warning line for each column no op
 * uses, each column whose missing values reach the model unfilled, and
 * numeric inputs left unscaled whose ranges differ by more than 100x.
 * Returns the number of warnings. */
int mlp_columns_print(const MlpColumns *c, const char *spec, FILE *out);

#endif
