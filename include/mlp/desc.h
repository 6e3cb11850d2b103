/* desc.h — how the runtime's descriptors are declared. */
#ifndef MLP_DESC_H
#define MLP_DESC_H

/* Each descriptor the compiler emits as a constant is described once, by a
 * field list of rows X(KIND, TYPE, NAME) (in run.h, predict.h and init.h):
 * the C struct is expanded from it with MLPRT_DESC_MEMBER, and the
 * compiler's field-by-name builder (compiler/back/abi.h) from the same
 * list. Every field is one 8-byte slot, KIND saying which: MLPRT_I64
 * (int64_t), MLPRT_F64 (double) or MLPRT_PTR (a string, generated data or
 * a function), so a descriptor is an array of slots in list order;
 * MLPRT_DESC_SLOT and a size assertion after each struct check that. */
enum { MLPRT_I64 = 1, MLPRT_F64, MLPRT_PTR };
#define MLPRT_DESC_MEMBER(kind, type, name) type name;
#define MLPRT_DESC_SLOT(kind, type, name) _Static_assert(sizeof(type) == 8, #name " is not one 8-byte slot");

#endif
