/* registry.h — the builtin registry, expanded from stdlib/builtins.def.
 *
 * Consumes the X-macro rows of builtins.def and produces linked lookup
 * tables: blocks (the pipeline's sections and their nested blocks) with
 * their settings and ops, call kinds (optimizer, loss, ...) with their ops,
 * op parameters, and enum sets. Sema checks specs against these tables,
 * help and SPEC.md print them. Types, defaults and ranges are written as
 * text in the table; they are parsed once, when the registry is first used.
 *
 * Every op, setting and parameter has a status: built, or planned (checked
 * and documented, refused by `mlpc build` and `mlpc export` where a spec
 * writes it; see contract.h). There is no third state. */
#ifndef MLP_REGISTRY_H
#define MLP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ast.h"

typedef enum {
  MLP_TY_INT,
  MLP_TY_FLOAT,
  MLP_TY_BOOL,
  MLP_TY_STRING,
  MLP_TY_SCALAR,  /* a number, a string or a bool */
  MLP_TY_COLUMN,  /* one column name (identifier or string) */
  MLP_TY_COLUMNS, /* a column, a selector word, or a list of columns */
  MLP_TY_ENUM,    /* an identifier from the enum set `set` */
  MLP_TY_CALL,    /* a call (or bare name) of an op of the kind `set` */
} MlpTypeKind;

typedef struct {
  MlpTypeKind kind;
  bool list;       /* a list of the above, or a single one */
  const char *set; /* ENUM: the enum set; CALL: the kind */
} MlpType;

/* An interval of numbers; `set` false means unconstrained. */
typedef struct {
  bool set;
  double lo, hi;
  bool lo_open, hi_open;
} MlpRange;

typedef struct MlpRegOp MlpRegOp;
typedef struct MlpRegBlock MlpRegBlock;
typedef struct MlpRegKind MlpRegKind;

/* A setting of a block or a parameter of an op. */
typedef struct {
  const char *name, *type_text, *def, *range_text, *usual_text, *doc;
  MlpType type;
  MlpRange range, usual; /* outside range: error; outside usual: warning */
  bool required, keyword_only;
  bool planned;             /* its own flag, or its op's: code generation does not act on it yet */
  const MlpRegBlock *block; /* settings: the owning block */
  const MlpRegOp *op;       /* parameters: the owning op */
  int index;                /* position among the block's settings or the op's parameters */
} MlpRegField;

struct MlpRegOp {
  const char *scope, *name, *doc;
  bool standalone, implied;
  bool planned;             /* code generation does not lower it yet (its parameters are planned too) */
  const MlpRegBlock *block; /* the block it is a statement of, or NULL */
  const MlpRegKind *kind;   /* the kind of value it makes, or NULL */
  const MlpRegField **params;
  int nparams;
};

struct MlpRegKind {
  const char *name, *doc;
  const MlpRegOp **ops;
  int nops;
};

struct MlpRegBlock {
  const char *name, *doc;
  const MlpRegBlock *parent; /* NULL for the pipeline itself */
  bool required, sequence;
  bool spaces;                  /* admits `name in values` over the hyperparameters */
  const MlpRegField **settings; /* without the "*" setting */
  int nsettings;
  const MlpRegField *any; /* the "*" setting (any name admitted), or NULL */
  const MlpRegOp **ops;
  int nops;
  const MlpRegBlock **blocks;
  int nblocks;
  int index; /* position among the parent's blocks */
};

typedef struct {
  const char *name, *doc;
  const char **values, **docs;
  int nvalues;
} MlpRegEnum;

typedef struct {
  const char *keyword, *body, *doc; /* body: the block whose rules check the definition's body */
} MlpRegDef;

typedef struct {
  const MlpRegBlock *pipeline; /* the root: its blocks are the sections */
  const MlpRegBlock **blocks;  /* every block, root first, in table order */
  int nblocks;
  const MlpRegKind **kinds;
  int nkinds;
  const MlpRegOp **ops;
  int nops;
  const MlpRegField **fields; /* every setting and parameter */
  int nfields;
  const MlpRegEnum **enums;
  int nenums;
  const MlpRegDef *defs;
  int ndefs;
} MlpRegistry;

const MlpRegistry *mlp_registry(void);

const MlpRegBlock *mlp_reg_block(const char *name); /* any block, by its unique name */
const MlpRegBlock *mlp_reg_subblock(const MlpRegBlock *b, const char *name);
const MlpRegField *mlp_reg_setting(const MlpRegBlock *b, const char *name); /* never the "*" one */
const MlpRegOp *mlp_reg_block_op(const MlpRegBlock *b, const char *name);
const MlpRegKind *mlp_reg_kind(const char *name);
const MlpRegOp *mlp_reg_kind_op(const MlpRegKind *k, const char *name);
const MlpRegField *mlp_reg_param(const MlpRegOp *op, const char *name);
const MlpRegEnum *mlp_reg_enum(const char *set);
int mlp_reg_enum_find(const MlpRegEnum *e, const char *value); /* index, or -1 */
const MlpRegDef *mlp_reg_def(const char *keyword);

/* A "@name" default: the other parameter of the same op, else the
 * hyperparameter, it inherits; NULL for any other default. */
const MlpRegField *mlp_reg_inherited(const MlpRegField *f);
/* The default of f as an expression (src-less locations), or NULL when it
 * has none or inherits one ("@name"). */
MlpNode *mlp_reg_default(MlpArena *a, const MlpRegField *f);

/* "built" or "planned", the status as docs print it. */
const char *mlp_reg_status(bool planned);

bool mlp_range_contains(const MlpRange *r, double x);
/* The condition a range states, for messages: "> 0", ">= 1", "in [0, 1)". */
const char *mlp_range_condition(const MlpRange *r, char *buf, size_t n);
/* The type in words: "a number", "a list of metric names", "an optimizer call". */
const char *mlp_type_words(const MlpType *t, char *buf, size_t n);

/* Report rows of the table that do not parse or do not fit together (bad
 * types or ranges, unknown scopes, sets or references, duplicate names,
 * empty docs). Returns how many were found. */
int mlp_reg_problems(FILE *out);

#endif
