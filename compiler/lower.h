/* lower.h — checked spec + compile-time schema → IR.
 *
 * mlp_lower_model completes one model's plan once its layer list is known:
 * per-sample shapes, parameter offsets in the flat slab, FLOPs, the buffers
 * of one training step with their lifetimes, and the static memory plan. */
#ifndef MLP_LOWER_H
#define MLP_LOWER_H

#include "ir.h"

/* m has kind, task, in_size, batch and its layers' op, act, rate and (for
 * dense) out_size set; everything else is filled in here. */
void mlp_lower_model(MlpArena *a, MlpIrModel *m);

#endif
