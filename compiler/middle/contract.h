/* contract.h — what code generation accepts of a checked spec.
 *
 * Every op, setting and parameter of the registry is built or planned
 * (registry.h). Sema accepts both; before lowering, this stage walks the
 * checked spec and refuses each planned one the spec writes (given, not
 * defaulted), with an error at the place it is written. `mlpc build`,
 * `mlpc run`, `mlpc explain` and `mlpc export` all pass through it (it is
 * the first step of lowering); `mlpc check` does not. */
#ifndef MLP_CONTRACT_H
#define MLP_CONTRACT_H

#include <stdbool.h>

#include "diag.h"
#include "sema.h"

/* False after reporting every planned op, setting or parameter s writes. */
bool mlp_contract_check(const MlpSpec *s, MlpDiag *d);

#endif
