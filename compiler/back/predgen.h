/* predgen.h — a trained run → the LLVM module of its predictor.
 *
 * A second lowering of the model's IR, for inference: the forward pass over
 * the trained weights compiled in as constants (dropout is the identity,
 * batch norm uses the running statistics, the output layer applies its
 * softmax or sigmoid), the MlprtPredictor descriptor of include/mlp/predict.h
 * around it, and either main (an executable) or the embedding entry points
 * NAME_predict, NAME_n_inputs, NAME_input_names, NAME_n_outputs,
 * NAME_n_classes and NAME_classes (an object file). */
#ifndef MLP_PREDGEN_H
#define MLP_PREDGEN_H

#include <llvm-c/Core.h>
#include <stdbool.h>

#include "mlp/predict.h"
#include "rundir.h"

/* Dense layers with at least this many weights (inputs x outputs) call the
 * runtime's GEMM-backed kernel; smaller ones are generated loops with
 * constant trip counts over the constant weights. */
#define MLP_PRED_GEMM_MIN 4096

typedef struct {
  const char *compiler;       /* "mlpc VERSION (LLVM X.Y.Z)" */
  const char *name;           /* the C prefix of the embedding symbols */
  const MlprtPredPlan *plan;  /* the row feature program (mlprt_pred_plan_build) */
  bool embed;                 /* the embedding entry points instead of main */
  MlpQuant quantize;          /* int8: dense weights as int8 with one scale per output */
  double prune;               /* sparsity applied to each weight matrix before emitting */
} MlpPredgenInfo;

/* The predictor module of rd; NULL with a message in err (n bytes) when a
 * layer cannot be compiled as asked (an int8 layer wider than the kernel
 * allows). */
LLVMModuleRef mlp_predgen(LLVMContextRef ctx, const MlpRunDir *rd, const MlpPredgenInfo *info, char *err,
                          size_t n);

#endif
