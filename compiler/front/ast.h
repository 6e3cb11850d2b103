/* ast.h — the syntax tree of a .mlp file.
 *
 * The parser (grammar/mlp.y through parse.c) builds it; sema reads it; fmt
 * prints it back. Every node lives in the compilation's arena and carries its
 * span. The grammar is small and regular; meaning comes from the builtin
 * registry, so the tree has few node kinds:
 *
 *   file       = { use } { definition }
 *   use        = "use" NAME { "." NAME }                     MLP_ND_USE
 *   definition = KIND NAME block     (pipeline, recipe, ...) MLP_ND_DEF
 *   statement  = NAME block                                  MLP_ND_BLOCK
 *              | NAME "=" expr                               MLP_ND_ASSIGN
 *              | NAME "in" expr                              MLP_ND_IN
 *              | NAME "(" args ")"                           MLP_ND_CALL
 *   expr       = NUMBER | STRING | NAME | true | false | list | call
 *              | expr ".." expr                              MLP_ND_RANGE
 */
#ifndef MLP_AST_H
#define MLP_AST_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "diag.h"

typedef enum {
  MLP_ND_FILE,   /* kids: uses, then definitions, in source order */
  MLP_ND_USE,    /* name: the dotted module name, "a.b" */
  MLP_ND_DEF,    /* keyword: the kind word; name; kids: statements */
  MLP_ND_BLOCK,  /* name; kids: statements */
  MLP_ND_ASSIGN, /* name = value */
  MLP_ND_IN,     /* name in value (a search space) */
  MLP_ND_CALL,   /* name(kids); kids are MLP_ND_ARG; a statement or an expression */
  MLP_ND_ARG,    /* [name =] value; name is NULL when positional */
  MLP_ND_NUM,    /* num, is_int; text: the lexeme as written */
  MLP_ND_STR,    /* text: the decoded string; len: its length (may hold NUL) */
  MLP_ND_IDENT,  /* name */
  MLP_ND_BOOL,   /* num: 0 or 1 */
  MLP_ND_LIST,   /* kids: elements */
  MLP_ND_RANGE,  /* value .. value2 */
} MlpNodeKind;

typedef struct MlpNode MlpNode;
struct MlpNode {
  MlpNodeKind kind;
  MlpLoc loc;          /* the whole construct */
  MlpLoc name_loc;     /* where name is written (DEF, BLOCK, ASSIGN, IN, CALL, ARG) */
  const char *keyword; /* DEF: its kind word ("pipeline", "recipe", "architecture") */
  const char *name;
  MlpNode *value, *value2;
  MlpVec kids;
  double num;
  bool is_int;         /* NUM: written without '.', exponent or fraction */
  const char *text;
  int len;
};

/* A comment, kept so that fmt can put it back; text includes the '#'. */
typedef struct {
  MlpLoc loc;
  const char *text;
} MlpComment;

typedef struct {
  const MlpSource *src;
  MlpNode *file;
  MlpVec comments; /* MlpComment *, in source order */
} MlpAst;

/* Constructors, one per production; called from the grammar's actions. */
MlpNode *mlp_ast_new(MlpArena *a, MlpNodeKind kind, MlpLoc loc);
MlpNode *mlp_ast_named(MlpArena *a, MlpNodeKind kind, MlpLoc loc, MlpLoc name_loc, const char *name);
void mlp_ast_add(MlpArena *a, MlpNode *parent, MlpNode *kid);
/* "-" NUMBER folds into one negative number whose text keeps the sign. */
MlpNode *mlp_ast_negate(MlpArena *a, MlpNode *num, MlpLoc loc);

const char *mlp_ast_kind_name(MlpNodeKind k);
/* One node per line, indented, with line:col: the --dump=ast format. */
void mlp_ast_dump(const MlpNode *n, FILE *out);
/* Structural equality ignoring locations and number spelling (1e-3 == 0.001). */
bool mlp_ast_equal(const MlpNode *a, const MlpNode *b);

#endif
