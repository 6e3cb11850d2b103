/* fmt.h — the canonical layout of a syntax tree.
 *
 * Prints the tree with two-space indentation, one statement per line, spaces
 * around '=' and after ',', comments kept where they were (own-line comments
 * before the statement that follows them, trailing comments after it).
 * fmt(fmt(x)) == fmt(x) and parse(fmt(x)) equals parse(x). */
#ifndef MLP_FMT_H
#define MLP_FMT_H

#include "ast.h"

void mlp_fmt(const MlpAst *ast, FILE *out);

#endif
