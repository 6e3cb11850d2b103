/* lower.h — checked spec + compile-time schema → IR.
 *
 * mlp_lower_model completes one model's plan once its layer list is known:
 * per-sample shapes, parameter offsets in the flat slab, FLOPs, the buffers
 * of one training step with their lifetimes, and the static memory plan. */
#ifndef MLP_LOWER_H
#define MLP_LOWER_H

#include "diag.h"
#include "ir.h"
#include "mlp/run.h"
#include "sema.h"

/* m has kind, task, batch, its input shape (in_c, in_h, in_w, or in_size
 * alone for a vector) and its layers' op, act, rate, window (kernel,
 * stride, pad) and width (dense: out_size; conv2d: out_c) set; everything
 * else is filled in here. Returns the index of the first layer whose output
 * would be empty (a window larger than its input), or -1. */
int mlp_lower_model(MlpArena *a, MlpIrModel *m);

/* The plan of a checked spec read at spec_path: the data plan with the
 * compile-time shape of its source (the data layer's schema probe, read
 * now relative to the spec, with the cleaning chain traced over it:
 * columns.h; the data is never split or cleaned here), one model and one
 * training job. NULL after reporting to d what is wrong or
 * not supported yet. */
MlpIr *mlp_lower(MlpArena *a, const MlpSpec *s, const char *spec_path, MlpDiag *d);

/* The plan's cleaning chain as the runtime takes it (run.h), in a. */
MlprtCleanStep *mlp_lower_clean_steps(MlpArena *a, const MlpIrData *d);

/* The compile-time shape of the data when it is known without reading the
 * data: a trained run directory records it (rundir.h). */
typedef struct {
  int64_t n_features;   /* columns after cleaning (images: pixels per image) */
  int64_t img_h, img_w; /* IDX images; 0 for tables */
  int64_t n_classes;    /* classification: levels of the target; 0 for regression */
  int target_type;      /* the target column's MlprtColType */
  const char *schema;   /* the compiled schema, "NAME\tTYPE\n" each; NULL: the spec's declared one */
} MlpDataShape;

/* mlp_lower with the data's shape given instead of read from its source. */
MlpIr *mlp_lower_shaped(MlpArena *a, const MlpSpec *s, const char *spec_path, const MlpDataShape *shape,
                        MlpDiag *d);

#endif
