/* codegen.h — IR → LLVM module (LLVM-C, opaque pointers).
 *
 * For each model the module defines four functions specialised to its
 * shapes and memory plan (mlp_MODEL_init, _forward, _backward and _update,
 * with external linkage: the MlprtModel contract of include/mlp/run.h), a constant
 * MlprtProgram describing data, models and jobs, and `main`, which runs the
 * steps of run.h in order. Matrix products call the runtime's GEMM-backed
 * kernels; bias + activation, the loss and its gradient, and the optimizer
 * update are generated loops with constant inner trip counts. */
#ifndef MLP_CODEGEN_H
#define MLP_CODEGEN_H

#include <llvm-c/Core.h>

#include "ir.h"

/* Facts about the build that the program records in its manifest. */
typedef struct {
  const char *spec_sha256; /* hex digest of the spec's text */
  const char *spec_text;
  const char *data_path; /* the data file as the program should open it */
  const char *data_path2;
  const char *compiler;   /* "mlpc VERSION (LLVM X.Y.Z)" */
  const char *target_cpu; /* the CPU the code is generated for */
} MlpCodegenInfo;

LLVMModuleRef mlp_codegen(LLVMContextRef ctx, const MlpIr *ir, const MlpCodegenInfo *info);

#endif
