/* abi.h — the runtime functions generated code calls, as the code
 * generators see them.
 *
 * include/mlp/abi.def declares each such function once; the runtime's
 * headers expand it into C declarations and this table expands it into
 * names and parameter lists, from which the LLVM function types are built.
 * A call the generators emit names its function by MlpAbiFn and is checked
 * against the table's parameter count, so a signature changed in abi.def
 * changes both sides or fails the build of every program that calls it. */
#ifndef MLP_ABI_H
#define MLP_ABI_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stddef.h>

#include "mlp/init.h"
#include "mlp/predict.h"
#include "mlp/run.h"

typedef enum {
#define MLP_ABI_ENUM(ret, name, params) MLP_ABI_##name,
#define MLPRT_ABI_LAYERS MLP_ABI_ENUM
#define MLPRT_ABI_INIT MLP_ABI_ENUM
#define MLPRT_ABI_QUANT MLP_ABI_ENUM
#define MLPRT_ABI_PREDICT MLP_ABI_ENUM
#define MLPRT_ABI_RUN MLP_ABI_ENUM
#include "mlp/abi.def"
#undef MLP_ABI_ENUM
  MLP_ABI_NFNS
} MlpAbiFn;

const char *mlp_abi_name(MlpAbiFn f);
/* Parameters of f, as abi.def lists them. */
unsigned mlp_abi_nparams(MlpAbiFn f);
/* f's LLVM function type in ctx. */
LLVMTypeRef mlp_abi_type(LLVMContextRef ctx, MlpAbiFn f);
/* Whether every row's return and parameter types are ones the table maps
 * (a pointer, void, a C integer or float type); else false with the first
 * row that is not in err. */
bool mlp_abi_valid(char *err, size_t n);

/* ---- descriptors, field by field ---------------------------------------- */

/* The descriptors generated code hands the runtime (mlp/desc.h: each is a
 * list of 8-byte slots declared once). A builder takes every field by
 * its name (MLPRT_JOB_epochs, ...) in any order; ending it checks that each
 * field was set once with a value of its slot's kind and returns the
 * constant struct, so a field added to a list and not to the generator fails
 * every build at once instead of shifting the fields after it. */
typedef enum {
  MLP_DESC_INIT,
  MLP_DESC_MODEL,
  MLP_DESC_JOB,
  MLP_DESC_PROGRAM,
  MLP_DESC_CLEAN_STEP,
  MLP_DESC_PREDICTOR,
  MLP_DESC_PRED_INPUT,
  MLP_DESC_PRED_STEP,
  MLP_DESC_PRED_PLAN,
  MLP_NDESCS
} MlpDesc;

enum { MLP_DESC_MAX_FIELDS = 96 };

typedef struct {
  MlpDesc which;
  LLVMValueRef v[MLP_DESC_MAX_FIELDS];
} MlpDescBuild;

void mlp_desc_begin(MlpDescBuild *b, MlpDesc which);
void mlp_desc_set(MlpDescBuild *b, int field, LLVMValueRef v);
LLVMValueRef mlp_desc_end(MlpDescBuild *b, LLVMContextRef ctx);
/* Fields of a descriptor, and the name of one. */
int mlp_desc_nfields(MlpDesc which);
const char *mlp_desc_field_name(MlpDesc which, int field);
/* Its slot kind: MLPRT_I64, MLPRT_F64 or MLPRT_PTR. */
int mlp_desc_field_kind(MlpDesc which, int field);

#endif
