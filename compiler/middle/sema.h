/* sema.h — checking a syntax tree against the builtin registry.
 *
 * Consumes the MlpAst of a spec (and the stdlib modules it uses); reports
 * unknown names with suggestions, wrong types, out-of-range values, missing
 * required parts and duplicates; warns about suspicious but legal settings;
 * produces the checked pipeline, an MlpSpec, with every default filled in.
 *
 * The MlpSpec mirrors the registry: one MlpSpecBlock per registry block
 * (sections and nested blocks, present whether written or not), holding one
 * MlpSpecValue per setting and the block's op calls in order, with recipes
 * and architectures expanded into the ops they stand for. Values are the
 * expressions as written, or the registry's defaults. */
#ifndef MLP_SEMA_H
#define MLP_SEMA_H

#include "ast.h"
#include "registry.h"

typedef struct MlpSpecCall MlpSpecCall;

/* A setting or parameter after checking. */
typedef struct {
  const MlpRegField *field;
  const MlpNode *node; /* the value; NULL when unset and without a default */
  bool given;          /* written in the spec rather than defaulted */
  MlpVec calls;        /* call-typed fields: the MlpSpecCall *s (several for a list) */
} MlpSpecValue;

struct MlpSpecCall {
  const MlpRegOp *op;
  MlpLoc loc;         /* the call's name where written; for implied calls, the block's */
  const char *via;    /* the recipe or architecture it was written in, or NULL */
  bool implied;       /* not written: added with its defaults */
  MlpSpecValue *args; /* one per op->nparams, in registry order */
};

/* A statement of a block that admits any name (`schema { age = int }`). */
typedef struct {
  const char *name;
  MlpLoc loc;
  const MlpNode *value;
} MlpSpecEntry;

/* An architecture a model family searches: its body's ops, checked as a
 * `model` section. */
typedef struct {
  const char *name;
  MlpLoc loc;    /* where the family names it */
  MlpVec calls;  /* MlpSpecCall *, in order */
  bool network;  /* layers ending in output(), not a whole model */
} MlpSpecMember;

/* A search space: `lr in logrange(1e-4, 1e-1)`, `model.dense[1].units in
 * [64, 128]`, `optimizer.beta1 in [0.8, 0.9]`, or the model family
 * `model in [net, forest]`. */
typedef struct {
  const MlpRegField *field; /* the setting or parameter searched; NULL for a family */
  const char *path;         /* as written: a hyperparameter's name, or a path to a setting */
  MlpSpecValue *target;     /* its value in the checked spec, which a trial's value replaces */
  const MlpNode *space;     /* a list, a range or a space call */
  MlpLoc loc;
  MlpSpecMember *members;   /* a family: the architectures searched, in the order listed */
  int nmembers;
  MlpSpecValue **targets;   /* a path into `model` beside a family: its value in each member, NULL
                               in a member without the op (the space does not apply to it) */
} MlpSpecSpace;

typedef struct MlpSpecBlock MlpSpecBlock;
struct MlpSpecBlock {
  const MlpRegBlock *reg;
  bool given;             /* written in the spec */
  MlpLoc loc;             /* the block's name where written */
  MlpSpecValue *settings; /* one per reg->nsettings */
  MlpVec ops;             /* MlpSpecCall *, in order */
  MlpVec entries;         /* MlpSpecEntry * */
  MlpVec spaces;          /* MlpSpecSpace * */
  MlpSpecBlock **blocks;  /* one per reg->nblocks */
};

typedef struct {
  const char *name;   /* the pipeline's */
  MlpLoc loc;         /* its name in the source */
  MlpSpecBlock *root; /* root->blocks[i] is the section reg->pipeline->blocks[i] */
} MlpSpec;

/* NULL when the spec has errors (all of them reported to d). */
MlpSpec *mlp_sema_check(MlpArena *a, const MlpAst *ast, MlpDiag *d);

/* Check one value against a setting or parameter, as sema does for a value
 * written in a spec; false after reporting what is wrong. */
bool mlp_sema_check_value(MlpArena *a, const MlpRegField *f, const MlpNode *v, MlpDiag *d);

/* Lookups in a checked spec. path: "data", "data.clean", "deploy.failsafe". */
const MlpSpecBlock *mlp_spec_block(const MlpSpec *s, const char *path);
const MlpSpecValue *mlp_spec_setting(const MlpSpecBlock *b, const char *name);
const MlpSpecCall *mlp_spec_op(const MlpSpecBlock *b, const char *name); /* its first call */
const MlpSpecValue *mlp_spec_arg(const MlpSpecCall *c, const char *name);
/* The one call of a call-typed value (optimizer, schedule, ...), or NULL. */
const MlpSpecCall *mlp_spec_call(const MlpSpecValue *v);
/* A numeric value, or NAN when unset or not a number. */
double mlp_spec_num(const MlpSpecValue *v);
/* An identifier's or a string's text, or NULL. */
const char *mlp_spec_str(const MlpSpecValue *v);

#endif
