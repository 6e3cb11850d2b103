/* sema.h — checking a syntax tree against the builtin registry.
 *
 * Consumes the MlpAst of a spec (and the stdlib modules it uses); reports
 * unknown names with suggestions, wrong types, out-of-range values, missing
 * required parts and duplicates; warns about suspicious but legal settings;
 * produces the checked pipeline with every default filled in. */
#ifndef MLP_SEMA_H
#define MLP_SEMA_H

#include "ast.h"

typedef struct MlpSpec MlpSpec; /* the checked pipeline (defined in sema.c) */

/* NULL when the spec has errors (all of them reported to d). */
MlpSpec *mlp_sema_check(MlpArena *a, const MlpAst *ast, MlpDiag *d);

#endif
