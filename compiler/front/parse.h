/* parse.h — source text to syntax tree.
 *
 * Runs the reentrant flex lexer and the pure bison parser over one source.
 * Syntax errors go to the diagnostics with their span; the parser recovers
 * at statement level, so one run reports several. The returned tree is
 * complete where the source was well formed (check d->nerr). */
#ifndef MLP_PARSE_H
#define MLP_PARSE_H

#include "ast.h"

MlpAst *mlp_parse(MlpArena *a, const MlpSource *src, MlpDiag *d);

#endif
