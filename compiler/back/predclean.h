/* predclean.h — the predictor's row cleaning compiled (predclean.c).
 *
 * predgen.c puts the function this returns in the plan's clean slot
 * (include/mlp/predict.h): the row program's steps and the features' read
 * over the row's float slots, or a null pointer when a step is not float
 * arithmetic (texts, dates, encodings, series), which the runtime then
 * interprets. */
#ifndef MLP_PREDCLEAN_H
#define MLP_PREDCLEAN_H

#include "cgutil.h"
#include "mlp/predict.h"

/* The plan's MlprtPredCleanFn in c's module, or a null pointer constant. */
LLVMValueRef mlp_predclean_emit(Cg *c, const MlprtPredPlan *pl);

#endif
