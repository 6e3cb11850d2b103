/* sema.c — checks a syntax tree against the builtin registry (see sema.h).
 *
 * Consumes the MlpAst of a spec and of the stdlib modules its `use` lines
 * load; produces an MlpSpec. The walk is driven by the registry: a block's
 * statements are looked up among its settings, ops and nested blocks, values
 * are checked against their fields' types and ranges, and every unknown name
 * gets a suggestion. Rules that relate several values (split fractions, the
 * shape of a model, search spaces) run after defaults are filled in. */
#include "sema.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/clean.h"
#include "mlp/data.h"
#include "parse.h"

/* A recipe or architecture, from the spec or a module. */
typedef struct {
  const MlpNode *node;
  const MlpRegDef *def;
  const MlpRegBlock *body; /* the block whose rules check the body */
  int state;               /* 0 unchecked, 1 being checked, 2 checked */
  MlpVec calls;            /* MlpSpecCall * of the body */
} Def;

typedef struct {
  MlpArena *a;
  MlpDiag *d;
  const MlpSource *src; /* the spec's */
  MlpVec defs;          /* Def * */
  MlpVec loaded;        /* paths of the modules read so far */
  const char *pipeline; /* the pipeline's name, for "{pipeline}" defaults */
  bool lost_module;     /* a module failed to load: its names are unknown */
  MlpSpecBlock *hyper;  /* the checked hyperparameters section */
  MlpVec paths;         /* the MLP_ND_IN statements searching a path, resolved once the spec is filled */
  MlpSpecBlock *tuning; /* the block they are in */
  MlpSpecSpace *family; /* `model in [...]`, once checked */
} Sema;

static void check_block(Sema *S, const MlpRegBlock *b, const MlpVec *stmts, MlpSpecBlock *sb);

/* ---- small helpers ---------------------------------------------------- */

static char *fmt_num(Sema *S, const MlpNode *n) {
  return n->text ? mlp_arena_strdup(S->a, n->text) : mlp_arena_printf(S->a, "%g", n->num);
}

/* What a value is, for "expects X, got Y". */
static const char *got(Sema *S, const MlpNode *n) {
  switch (n->kind) {
  case MLP_ND_NUM: return fmt_num(S, n);
  case MLP_ND_STR: return "a string";
  case MLP_ND_IDENT: return mlp_arena_printf(S->a, "the name '%s'", n->name);
  case MLP_ND_BOOL: return n->num ? "true" : "false";
  case MLP_ND_LIST: return "a list";
  case MLP_ND_CALL: return mlp_arena_printf(S->a, "a call of '%s'", n->name);
  case MLP_ND_RANGE: return "a range";
  default: return "a statement";
  }
}

/* The span of a definition's kind word, which starts the definition. */
static MlpLoc keyword_loc(const MlpNode *n) {
  MlpLoc l = n->loc;
  l.last_line = l.first_line;
  l.last_column = l.first_column + (int)strlen(n->keyword) - 1;
  return l;
}

/* Names other tools give what the language calls otherwise (PyTorch,
 * Keras, scikit-learn, XGBoost, Ludwig), each pointing at its word here. */
static const char *const foreign_names[][2] = {
    {"learning_rate", "lr"},      {"batch_size", "batch"},       {"num_epochs", "epochs"},
    {"n_epochs", "epochs"},       {"max_iter", "epochs"},        {"max_epochs", "epochs"},
    {"n_estimators", "trees"},    {"num_trees", "trees"},        {"num_round", "trees"},
    {"random_state", "seed"},     {"random_seed", "seed"},       {"n_jobs", "threads"},
    {"num_threads", "threads"},   {"nthread", "threads"},        {"test_size", "test"},
    {"validation_split", "validation"}, {"val_split", "validation"}, {"scheduler", "schedule"},
    {"lr_scheduler", "schedule"}, {"criterion", "loss"},         {"loss_function", "loss"},
    {"optim", "optimizer"},       {"kernel_size", "kernel"},     {"out_channels", "filters"},
    {"hidden_size", "units"},     {"out_features", "units"},     {"num_heads", "heads"},
    {"nhead", "heads"},           {"d_model", "dim"},            {"embedding_dim", "dim"},
    {"num_layers", "layers"},     {"dropout_rate", "rate"},      {"p", "rate"},
    {"early_stopping_rounds", "patience"}, {"reg_lambda", "l2"}, {"reg_alpha", "l1"},
    {"alpha", "l2"},              {"eta", "lr"},                 {"n_folds", "folds"},
    {"cv", "folds"},              {"n_iter", "trials"},          {"n_trials", "trials"},
};

/* "; did you mean 'x'?" for the word other tools use for a candidate, else
 * the closest candidate, or "". */
static const char *did_you_mean(Sema *S, const char *word, const char **cands, int n) {
  for (size_t i = 0; i < sizeof foreign_names / sizeof *foreign_names; i++) {
    if (strcmp(word, foreign_names[i][0]) != 0) continue;
    for (int k = 0; k < n; k++)
      if (strcmp(cands[k], foreign_names[i][1]) == 0)
        return mlp_arena_printf(S->a, "; did you mean '%s'?", cands[k]);
  }
  const char *near = mlp_closest(word, cands, n);
  return near ? mlp_arena_printf(S->a, "; did you mean '%s'?", near) : "";
}

static const char **names_alloc(Sema *S, int n) {
  return mlp_arena_alloc(S->a, sizeof(char *) * (size_t)(n + 1));
}

static MlpSpecBlock *new_block(Sema *S, const MlpRegBlock *b) {
  MlpSpecBlock *sb = mlp_arena_alloc(S->a, sizeof *sb);
  sb->reg = b;
  sb->settings = mlp_arena_alloc(S->a, sizeof *sb->settings * (size_t)(b->nsettings + 1));
  for (int i = 0; i < b->nsettings; i++) sb->settings[i].field = b->settings[i];
  sb->blocks = mlp_arena_alloc(S->a, sizeof *sb->blocks * (size_t)(b->nblocks + 1));
  for (int i = 0; i < b->nblocks; i++) sb->blocks[i] = new_block(S, b->blocks[i]);
  return sb;
}

static MlpSpecCall *new_call(Sema *S, const MlpRegOp *op, MlpLoc loc) {
  MlpSpecCall *c = mlp_arena_alloc(S->a, sizeof *c);
  c->op = op;
  c->loc = loc;
  c->args = mlp_arena_alloc(S->a, sizeof *c->args * (size_t)(op->nparams + 1));
  for (int i = 0; i < op->nparams; i++) c->args[i].field = op->params[i];
  return c;
}

static const MlpNode *arg_node(const MlpSpecCall *c, const char *name) {
  const MlpSpecValue *v = mlp_spec_arg(c, name);
  return v ? v->node : NULL;
}

static bool is_ident(const MlpNode *n, const char *name) {
  return n && n->kind == MLP_ND_IDENT && strcmp(n->name, name) == 0;
}

/* ---- values ------------------------------------------------------------ */

static bool check_call(Sema *S, const MlpRegOp *op, const MlpNode *n, MlpSpecCall **out);

static bool check_number(Sema *S, const MlpRegField *f, const MlpNode *n) {
  char cond[64];
  if (f->type.kind == MLP_TY_INT && !n->is_int) {
    mlp_diag_error(S->d, n->loc, "'%s' expects an integer, got %s", f->name, fmt_num(S, n));
    return false;
  }
  if (!mlp_range_contains(&f->range, n->num)) {
    mlp_diag_error(S->d, n->loc, "'%s' must be %s, got %s", f->name,
                   mlp_range_condition(&f->range, cond, sizeof cond), fmt_num(S, n));
    return false;
  }
  if (!mlp_range_contains(&f->usual, n->num))
    mlp_diag_warning(S->d, n->loc, "'%s' = %s is unusually %s (usually %s)", f->name, fmt_num(S, n),
                     n->num > f->usual.hi ? "large" : "small",
                     mlp_range_condition(&f->usual, cond, sizeof cond));
  return true;
}

static bool check_enum(Sema *S, const MlpRegField *f, const MlpNode *n) {
  const MlpRegEnum *e = mlp_reg_enum(f->type.set);
  if (mlp_reg_enum_find(e, n->name) >= 0) return true;
  const char *hint = did_you_mean(S, n->name, e->values, e->nvalues);
  if (!*hint) {
    char *list = mlp_arena_strdup(S->a, "");
    for (int i = 0; i < e->nvalues; i++)
      list = mlp_arena_printf(S->a, "%s%s%s", list, i ? ", " : "", e->values[i]);
    hint = mlp_arena_printf(S->a, " (expected one of: %s)", list);
  }
  if (strcmp(f->name, "*") == 0) mlp_diag_error(S->d, n->loc, "unknown column type '%s'%s", n->name, hint);
  else mlp_diag_error(S->d, n->loc, "unknown value '%s' for '%s'%s", n->name, f->name, hint);
  return false;
}

/* A call value (or a bare op name meaning the op with its defaults). */
static bool check_call_value(Sema *S, const MlpRegField *f, const MlpNode *n, MlpSpecValue *out) {
  const MlpRegKind *k = mlp_reg_kind(f->type.set);
  const MlpRegOp *op = mlp_reg_kind_op(k, n->name);
  if (!op) {
    const char **names = names_alloc(S, k->nops);
    for (int i = 0; i < k->nops; i++) names[i] = k->ops[i]->name;
    const char *hint = did_you_mean(S, n->name, names, k->nops);
    if (!*hint) {
      char *list = mlp_arena_strdup(S->a, "");
      for (int i = 0; i < k->nops; i++)
        list = mlp_arena_printf(S->a, "%s%s%s", list, i ? ", " : "", names[i]);
      hint = mlp_arena_printf(S->a, " (expected one of: %s)", list);
    }
    const char *what = strcmp(f->name, "*") == 0 ? "column type" : k->name;
    mlp_diag_error(S->d, n->name_loc, "unknown %s '%s'%s", what, n->name, hint);
    return false;
  }
  MlpSpecCall *c;
  bool ok = check_call(S, op, n, &c);
  mlp_vec_push(S->a, &out->calls, c);
  return ok;
}

static bool check_one(Sema *S, const MlpRegField *f, const MlpNode *n, MlpSpecValue *out) {
  char words[96];
  const MlpType *t = &f->type;
  MlpNodeKind k = n->kind;
  bool fits;
  switch (t->kind) {
  case MLP_TY_INT:
  case MLP_TY_FLOAT: fits = k == MLP_ND_NUM; break;
  case MLP_TY_BOOL: fits = k == MLP_ND_BOOL; break;
  case MLP_TY_STRING: fits = k == MLP_ND_STR; break;
  case MLP_TY_SCALAR: fits = k == MLP_ND_NUM || k == MLP_ND_STR || k == MLP_ND_BOOL; break;
  case MLP_TY_COLUMN: fits = k == MLP_ND_IDENT || k == MLP_ND_STR; break;
  case MLP_TY_COLUMNS: fits = k == MLP_ND_IDENT || k == MLP_ND_STR || k == MLP_ND_LIST; break;
  case MLP_TY_ENUM: fits = k == MLP_ND_IDENT; break;
  case MLP_TY_CALL: fits = k == MLP_ND_IDENT || k == MLP_ND_CALL; break;
  default: fits = false;
  }
  if (!fits) {
    MlpType one = *t;
    one.list = false;
    mlp_diag_error(S->d, n->loc, "'%s' expects %s, got %s", f->name,
                   mlp_type_words(t->list && k != MLP_ND_LIST ? &one : t, words, sizeof words), got(S, n));
    return false;
  }
  switch (t->kind) {
  case MLP_TY_INT:
  case MLP_TY_FLOAT: return check_number(S, f, n);
  case MLP_TY_ENUM: return check_enum(S, f, n);
  case MLP_TY_CALL: return check_call_value(S, f, n, out);
  case MLP_TY_COLUMN:
    if (k == MLP_ND_IDENT && mlp_reg_enum_find(mlp_reg_enum("selector"), n->name) >= 0) {
      mlp_diag_error(S->d, n->loc, "'%s' selects several columns; '%s' names one column", n->name, f->name);
      return false;
    }
    return true;
  case MLP_TY_COLUMNS:
    for (int i = 0; k == MLP_ND_LIST && i < n->kids.len; i++) {
      const MlpNode *c = n->kids.items[i];
      if (c->kind != MLP_ND_IDENT && c->kind != MLP_ND_STR) {
        mlp_diag_error(S->d, c->loc, "'%s' expects column names, got %s", f->name, got(S, c));
        return false;
      }
    }
    return true;
  default: return true;
  }
}

static bool check_value(Sema *S, const MlpRegField *f, const MlpNode *n, MlpSpecValue *out) {
  out->field = f;
  out->node = n;
  out->given = true;
  if (!f->type.list || n->kind != MLP_ND_LIST) return check_one(S, f, n, out);
  bool ok = true;
  for (int i = 0; i < n->kids.len; i++) ok &= check_one(S, f, n->kids.items[i], out);
  return ok;
}

bool mlp_sema_check_value(MlpArena *a, const MlpRegField *f, const MlpNode *v, MlpDiag *d) {
  Sema S = {.a = a, .d = d};
  MlpSpecValue out = {0};
  int before = d->nerr;
  return check_value(&S, f, v, &out) && d->nerr == before;
}

/* Semantic rules of single settings beyond their types. */
static void setting_rules(Sema *S, const MlpRegField *f, const MlpNode *v) {
  if (!f->block || v->kind != MLP_ND_STR) return;
  if (strcmp(f->block->name, "deploy") == 0 && strcmp(f->name, "version") == 0) {
    int parts = 0, digits = 0;
    bool ok = true;
    for (int i = 0; i <= v->len && ok; i++) {
      char c = i < v->len ? v->text[i] : '.';
      if (c >= '0' && c <= '9') digits++;
      else if (c == '.' && digits > 0) parts++, digits = 0;
      else ok = false;
    }
    if (!ok || parts != 3)
      mlp_diag_error(S->d, v->loc, "version \"%s\" is not MAJOR.MINOR.PATCH (like \"1.0.0\")", v->text);
  } else if (strcmp(f->block->name, "deploy") == 0 && strcmp(f->name, "predictor") == 0) {
    bool ok = v->len > 0 && !(v->text[0] >= '0' && v->text[0] <= '9');
    for (int i = 0; i < v->len; i++) {
      char c = v->text[i];
      ok &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (!ok)
      mlp_diag_error(S->d, v->loc, "predictor \"%s\" is not a C identifier (it names the entry point)",
                     v->text);
  }
}

/* Semantic rules of single op calls that relate their arguments. */
static void op_rules(Sema *S, const MlpSpecCall *c) {
  const char *name = c->op->name;
  if (strcmp(name, "impute") == 0) {
    const MlpNode *strategy = arg_node(c, "strategy"), *value = arg_node(c, "value");
    if (is_ident(strategy, "constant") && !value)
      mlp_diag_error(S->d, strategy->loc, "strategy 'constant' needs a 'value'");
    else if (value && !is_ident(strategy, "constant"))
      mlp_diag_warning(S->d, value->loc, "'value' is used only with strategy = constant");
  } else if (strcmp(name, "onehot") == 0) {
    const MlpNode *cols = arg_node(c, "columns");
    if (is_ident(cols, "numeric"))
      mlp_diag_warning(S->d, cols->loc, "onehot of numeric columns makes one column per distinct number");
  } else if (strcmp(name, "logrange") == 0 || strcmp(name, "minmax") == 0) {
    const MlpNode *lo = arg_node(c, "low"), *hi = arg_node(c, "high");
    if (lo && hi && lo->kind == MLP_ND_NUM && hi->kind == MLP_ND_NUM && lo->num >= hi->num)
      mlp_diag_error(S->d, hi->loc, "'high' must be greater than 'low' (%s)", fmt_num(S, lo));
  } else if (strcmp(name, "transformer_encoder") == 0) {
    const MlpNode *heads = arg_node(c, "heads"), *dim = arg_node(c, "dim");
    if (heads && dim && heads->kind == MLP_ND_NUM && dim->kind == MLP_ND_NUM && heads->num >= 1 &&
        fmod(dim->num, heads->num) != 0)
      mlp_diag_error(S->d, dim->loc, "'dim' must be a multiple of 'heads' (%s)", fmt_num(S, heads));
  } else if (strcmp(name, "sgd") == 0) {
    const MlpNode *nesterov = arg_node(c, "nesterov"), *momentum = arg_node(c, "momentum");
    if (nesterov && nesterov->kind == MLP_ND_BOOL && nesterov->num &&
        (!momentum || (momentum->kind == MLP_ND_NUM && momentum->num == 0)))
      mlp_diag_warning(S->d, nesterov->loc, "nesterov has no effect without momentum");
  } else if (strcmp(name, "split") == 0) {
    const MlpNode *strat = arg_node(c, "stratify"), *order = arg_node(c, "time_order");
    if (order && strat && strat->kind == MLP_ND_BOOL && strat->num)
      mlp_diag_error(S->d, strat->loc,
                     "'stratify' shuffles rows, 'time_order' keeps them in order: choose one");
  }
}

/* Arguments in order: positional ones fill the parameters that are not
 * keyword-only, in registry order; named ones follow. */
static bool check_call(Sema *S, const MlpRegOp *op, const MlpNode *n, MlpSpecCall **out) {
  MlpSpecCall *c = new_call(S, op, n->name_loc);
  *out = c;
  int before = S->d->nerr;
  const MlpNode **first = mlp_arena_alloc(S->a, sizeof *first * (size_t)(op->nparams + 1));
  const MlpNode *named = NULL;
  bool lost_positional = false; /* a rejected positional argument may be the missing one */
  int pos = 0, npos = 0;
  for (int i = 0; i < op->nparams; i++) npos += !op->params[i]->keyword_only;
  for (int i = 0; n->kind == MLP_ND_CALL && i < n->kids.len && !mlp_diag_full(S->d); i++) {
    const MlpNode *arg = n->kids.items[i];
    const MlpRegField *p = NULL;
    if (!arg->name) {
      if (named) {
        mlp_diag_error(S->d, arg->loc, "positional argument after the named argument '%s'", named->name);
        lost_positional = true;
        continue;
      }
      if (pos >= npos) {
        mlp_diag_error(S->d, arg->loc, "'%s' takes %d positional argument%s, got %d", op->name, npos,
                       npos == 1 ? "" : "s", pos + 1);
        pos++;
        continue;
      }
      for (int j = 0, seen = 0; j < op->nparams && !p; j++)
        if (!op->params[j]->keyword_only && seen++ == pos) p = op->params[j];
      pos++;
    } else {
      named = arg;
      p = mlp_reg_param(op, arg->name);
      if (!p) {
        const char **names = names_alloc(S, op->nparams);
        for (int j = 0; j < op->nparams; j++) names[j] = op->params[j]->name;
        const char *hint = did_you_mean(S, arg->name, names, op->nparams);
        /* `zscore = 3` for `method = zscore, threshold = 3`: the name is a value */
        for (int j = 0; j < op->nparams && !*hint; j++) {
          const MlpRegField *q = op->params[j];
          if (q->type.kind == MLP_TY_ENUM && mlp_reg_enum_find(mlp_reg_enum(q->type.set), arg->name) >= 0)
            hint = mlp_arena_printf(S->a, "; '%s' is a value of '%s': write '%s = %s'", arg->name, q->name,
                                    q->name, arg->name);
        }
        mlp_diag_error(S->d, arg->name_loc,
                       op->nparams ? "'%s' has no parameter '%s'%s" : "'%s' takes no parameter '%s'%s",
                       op->name, arg->name, hint);
        continue;
      }
    }
    if (first[p->index]) {
      mlp_diag_error(S->d, arg->name ? arg->name_loc : arg->loc, "parameter '%s' of '%s' is given twice",
                     p->name, op->name);
      mlp_diag_note(S->d, first[p->index]->loc, "first given here");
      continue;
    }
    first[p->index] = arg;
    check_value(S, p, arg->value, &c->args[p->index]);
  }
  for (int i = 0; i < op->nparams; i++)
    if (op->params[i]->required && !first[i] && !lost_positional) {
      char words[96];
      mlp_diag_error(S->d, n->name_loc, "'%s' needs the parameter '%s' (%s)", op->name, op->params[i]->name,
                     mlp_type_words(&op->params[i]->type, words, sizeof words));
    }
  if (S->d->nerr == before) op_rules(S, c);
  return S->d->nerr == before;
}

/* ---- search spaces ------------------------------------------------------- */

static bool numeric(const MlpRegField *f) {
  return f->type.kind == MLP_TY_INT || f->type.kind == MLP_TY_FLOAT;
}

static MlpSpecSpace *check_space(Sema *S, const MlpRegField *f, const MlpNode *v, MlpSpecBlock *sb,
                                 MlpLoc loc) {
  MlpSpecValue scratch = {0};
  if (v->kind == MLP_ND_LIST) {
    if (v->kids.len == 0) mlp_diag_error(S->d, v->loc, "an empty search space");
    for (int i = 0; i < v->kids.len; i++) check_one(S, f, v->kids.items[i], &scratch);
  } else if (v->kind == MLP_ND_RANGE) {
    if (!numeric(f)) {
      mlp_diag_error(S->d, v->loc, "a range searches numbers, but '%s' is not a number", f->name);
      return NULL;
    }
    bool ok = check_one(S, f, v->value, &scratch) & check_one(S, f, v->value2, &scratch);
    if (ok && v->value->num >= v->value2->num)
      mlp_diag_error(S->d, v->value2->loc, "the range's end must be greater than its start (%s)",
                     fmt_num(S, v->value));
  } else if (v->kind == MLP_ND_CALL && mlp_reg_kind_op(mlp_reg_kind("space"), v->name)) {
    if (!numeric(f)) {
      mlp_diag_error(S->d, v->loc, "'%s' searches numbers, but '%s' is not a number", v->name, f->name);
      return NULL;
    }
    MlpSpecCall *c;
    if (!check_call(S, mlp_reg_kind_op(mlp_reg_kind("space"), v->name), v, &c)) return NULL;
    for (int i = 0; i < c->op->nparams; i++) {
      const MlpNode *x = c->args[i].node;
      if (x && (strcmp(c->args[i].field->name, "low") == 0 || strcmp(c->args[i].field->name, "high") == 0))
        check_one(S, f, x, &scratch);
    }
  } else {
    mlp_diag_error(S->d, v->loc,
                   "a search space is a list [a, b, ...], a range a .. b or logrange(low, high), "
                   "got %s",
                   got(S, v));
    return NULL;
  }
  MlpSpecSpace *sp = mlp_arena_alloc(S->a, sizeof *sp);
  sp->field = f, sp->space = v, sp->loc = loc;
  mlp_vec_push(S->a, &sb->spaces, sp);
  return sp;
}

/* The value a search path names, or NULL after an error at loc:
 * `model.OP.PARAM` or `model.OP[i].PARAM` (the i-th OP of the model ops,
 * from 0), `data.clean.OP.PARAM` or `data.clean.OP[i].PARAM` (of the
 * cleaning chain's ops, clean), `SETTING.PARAM` of a call-valued
 * hyperparameter (`optimizer.beta1`); `hyperparameters.` may lead either.
 * With missing, ops without that OP are no error: *missing is set. */
static MlpSpecValue *path_target(Sema *S, const MlpVec *ops, const MlpVec *clean, const char *path,
                                 MlpLoc loc, bool *missing) {
  char *segs[5];
  int n = 0;
  char *copy = mlp_arena_strdup(S->a, path);
  for (char *tok = strtok(copy, "."); tok; tok = strtok(NULL, "."))
    if (n < 5) segs[n++] = tok;
    else n = 6;
  const char *chain = "the model", *prefix = "model";
  if (n == 4 && strcmp(segs[0], "data") == 0 && strcmp(segs[1], "clean") == 0) {
    /* OP and PARAM of the cleaning chain, read as those of the model */
    static const MlpVec none = {0};
    ops = clean ? clean : &none, chain = "the cleaning chain", prefix = "data.clean";
    segs[0] = "model", segs[1] = segs[2], segs[2] = segs[3], n = 3;
  }
  int at = n > 0 && strcmp(segs[0], "hyperparameters") == 0;
  if (n - at == 2 && !strchr(segs[at], '[')) {
    const MlpSpecValue *v = mlp_spec_setting(S->hyper, segs[at]);
    const MlpSpecCall *c = mlp_spec_call(v);
    const MlpSpecValue *arg = c ? mlp_spec_arg(c, segs[at + 1]) : NULL;
    if (!arg && c)
      mlp_diag_error(S->d, loc, "'%s' (the %s) has no parameter '%s'", c->op->name, segs[at], segs[at + 1]);
    else if (!arg)
      mlp_diag_error(S->d, loc, "'%s' is not a hyperparameter whose value is a call: SETTING.PARAM reaches "
                     "the parameters of the optimizer, the schedule or the loss", segs[at]);
    if (!arg) return NULL;
    return (MlpSpecValue *)arg;
  }
  if (n != 3 || strcmp(segs[0], "model") != 0) {
    mlp_diag_error(S->d, loc, "a search path is model.OP.PARAM, model.OP[i].PARAM, data.clean.OP.PARAM, "
                   "data.clean.OP[i].PARAM or SETTING.PARAM of a hyperparameter, got '%s'", path);
    return NULL;
  }
  char *br = strchr(segs[1], '[');
  int want = -1;
  if (br) {
    char *end;
    want = (int)strtol(br + 1, &end, 10);
    if (end == br + 1 || strcmp(end, "]") != 0 || want < 0) {
      mlp_diag_error(S->d, loc, "the op index in '%s' must be a whole number from 0", path);
      return NULL;
    }
    *br = '\0';
  }
  const MlpSpecCall *found = NULL;
  int count = 0;
  for (int i = 0; i < ops->len; i++) {
    const MlpSpecCall *c = ops->items[i];
    if (strcmp(c->op->name, segs[1]) != 0) continue;
    if (count == want || (want < 0 && count == 0)) found = c;
    count++;
  }
  if (missing && count == 0) {
    *missing = true;
    return NULL;
  }
  if (!found || (want < 0 && count > 1)) {
    if (count == 0)
      mlp_diag_error(S->d, loc, "%s has no '%s'", chain, segs[1]);
    else if (want >= 0)
      mlp_diag_error(S->d, loc, "%s has %d '%s' (%s.%s[0] to %s.%s[%d])", chain, count, segs[1], prefix,
                     segs[1], prefix, segs[1], count - 1);
    else
      mlp_diag_error(S->d, loc, "%s has %d '%s': say which, %s.%s[0] to %s.%s[%d]", chain, count, segs[1],
                     prefix, segs[1], prefix, segs[1], count - 1);
    return NULL;
  }
  const MlpSpecValue *arg = mlp_spec_arg(found, segs[2]);
  if (!arg) {
    mlp_diag_error(S->d, loc, "'%s' has no parameter '%s'", segs[1], segs[2]);
    return NULL;
  }
  return (MlpSpecValue *)arg;
}

static int by_place(const void *a, const void *b) {
  const MlpLoc *x = &(*(const MlpSpecSpace *const *)a)->loc, *y = &(*(const MlpSpecSpace *const *)b)->loc;
  return x->first_line != y->first_line ? x->first_line - y->first_line : x->first_column - y->first_column;
}

/* The search spaces over paths, once every value of the spec is known;
 * then every space in the order written (the trials' order). */
static void resolve_paths(Sema *S, const MlpSpec *spec) {
  const MlpVec *own = &mlp_spec_block(spec, "model")->ops;
  const MlpSpecBlock *cb = mlp_spec_block(spec, "data.clean");
  const MlpVec *clean = cb ? &cb->ops : NULL;
  for (int i = 0; i < S->paths.len; i++) {
    const MlpNode *st = S->paths.items[i];
    MlpSpecValue *target = NULL, **targets = NULL;
    bool in_family = S->family && strncmp(st->name, "model.", 6) == 0;
    if (in_family) {
      /* beside a family, a path into the model reaches each member that has its op */
      bool missing = false, bad = false;
      targets = mlp_arena_alloc(S->a, (size_t)S->family->nmembers * sizeof *targets);
      for (int k = 0; k < S->family->nmembers && !bad; k++) {
        int before = S->d->nerr;
        targets[k] = path_target(S, &S->family->members[k].calls, clean, st->name, st->name_loc, &missing);
        bad = S->d->nerr > before;
        if (!target) target = targets[k];
      }
      if (!target && !bad)
        mlp_diag_error(S->d, st->name_loc, "no architecture of the model family has '%s'", st->name);
    } else {
      target = path_target(S, own, clean, st->name, st->name_loc, NULL);
    }
    if (!target) continue;
    const MlpType *t = &target->field->type;
    if (t->kind != MLP_TY_INT && t->kind != MLP_TY_FLOAT && t->kind != MLP_TY_BOOL &&
        t->kind != MLP_TY_ENUM) {
      mlp_diag_error(S->d, st->name_loc,
                     "a search space searches numbers, bools or enumerated values; '%s' is "
                     "not one",
                     st->name);
      continue;
    }
    MlpSpecSpace *sp = check_space(S, target->field, st->value, S->tuning, st->name_loc);
    if (sp) sp->path = st->name, sp->target = target, sp->targets = targets;
  }
  if (S->tuning && S->tuning->spaces.len > 1)
    qsort(S->tuning->spaces.items, (size_t)S->tuning->spaces.len, sizeof(void *), by_place);
}

/* ---- recipes and architectures ------------------------------------------- */

static Def *find_def(Sema *S, const char *name) {
  for (int i = 0; i < S->defs.len; i++) {
    Def *df = S->defs.items[i];
    if (strcmp(df->node->name, name) == 0) return df;
  }
  return NULL;
}

/* Check a definition's body once, on first use or at the end. */
static void check_def(Sema *S, Def *df) {
  if (df->state) return;
  df->state = 1;
  MlpSpecBlock *sb = new_block(S, df->body);
  check_block(S, df->body, &df->node->kids, sb);
  for (int i = 0; i < sb->ops.len; i++) {
    MlpSpecCall *c = sb->ops.items[i];
    if (!c->via) c->via = df->node->name;
    mlp_vec_push(S->a, &df->calls, c);
  }
  df->state = 2;
}

static void add_def(Sema *S, const MlpNode *n, bool in_module) {
  const MlpRegDef *def = mlp_reg_def(n->keyword);
  const MlpRegistry *R = mlp_registry();
  if (!def) {
    const char **names = names_alloc(S, R->ndefs);
    for (int i = 0; i < R->ndefs; i++) names[i] = R->defs[i].keyword;
    mlp_diag_error(S->d, keyword_loc(n), "unknown definition kind '%s'%s", n->keyword,
                   did_you_mean(S, n->keyword, names, R->ndefs));
    return;
  }
  if (strcmp(def->keyword, "pipeline") == 0) {
    if (in_module)
      mlp_diag_error(S->d, n->name_loc, "a module holds recipes and architectures, not a pipeline");
    return;
  }
  const MlpRegBlock *body = mlp_reg_block(def->body);
  if (mlp_reg_block_op(body, n->name)) {
    mlp_diag_error(S->d, n->name_loc, "%s '%s' has the name of a builtin op of '%s'", def->keyword, n->name,
                   body->name);
    return;
  }
  Def *prev = find_def(S, n->name);
  if (prev) {
    mlp_diag_error(S->d, n->name_loc, "%s '%s' is defined twice", def->keyword, n->name);
    mlp_diag_note(S->d, prev->node->name_loc, "first defined here");
    return;
  }
  Def *df = mlp_arena_alloc(S->a, sizeof *df);
  df->node = n, df->def = def, df->body = body;
  mlp_vec_push(S->a, &S->defs, df);
}

/* ---- modules ------------------------------------------------------------- */

/* The directories searched for modules, in order: $MLP_STDLIB, then
 * ../share/mlp/stdlib and ../stdlib beside the executable (installed and
 * in-tree layouts), then the spec's own directory. */
static int module_dirs(Sema *S, const char **dirs) {
  int n = 0;
  const char *env = getenv("MLP_STDLIB");
  if (env && *env) dirs[n++] = env;
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) {
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    dirs[n++] = mlp_arena_printf(S->a, "%s/../share/mlp/stdlib", exe);
    dirs[n++] = mlp_arena_printf(S->a, "%s/../stdlib", exe);
  }
  const char *name = S->src->name, *slash = strrchr(name, '/');
  dirs[n++] = slash ? mlp_arena_strndup(S->a, name, (size_t)(slash - name)) : ".";
  return n;
}

/* Module names present in the search path, for suggestions. */
static int module_names(Sema *S, const char **dirs, int ndirs, const char ***out) {
  MlpVec names = {0};
  for (int i = 0; i < ndirs; i++) {
    DIR *dir = opendir(dirs[i]);
    if (!dir) continue;
    for (struct dirent *e; (e = readdir(dir));) {
      size_t len = strlen(e->d_name);
      if (len > 4 && strcmp(e->d_name + len - 4, ".mlp") == 0)
        mlp_vec_push(S->a, &names, mlp_arena_strndup(S->a, e->d_name, len - 4));
    }
    closedir(dir);
  }
  *out = (const char **)names.items;
  return names.len;
}

static void load_module(Sema *S, const MlpNode *use) {
  char *rel = mlp_arena_printf(S->a, "%s.mlp", use->name);
  for (char *p = rel; *p && strcmp(p, ".mlp") != 0; p++)
    if (*p == '.') *p = '/';
  const char *dirs[4];
  int ndirs = module_dirs(S, dirs);
  const char *path = NULL;
  for (int i = 0; i < ndirs && !path; i++) {
    char *cand = mlp_arena_printf(S->a, "%s/%s", dirs[i], rel);
    if (access(cand, R_OK) == 0) path = cand;
  }
  if (!path) {
    const char **names;
    int n = module_names(S, dirs, ndirs, &names);
    mlp_diag_error(S->d, use->name_loc, "unknown module '%s'%s", use->name,
                   did_you_mean(S, use->name, names, n));
    S->lost_module = true;
    return;
  }
  char *real = realpath(path, NULL);
  const char *key = real ? mlp_arena_strdup(S->a, real) : path;
  free(real);
  for (int i = 0; i < S->loaded.len; i++)
    if (strcmp(S->loaded.items[i], key) == 0) return;
  mlp_vec_push(S->a, &S->loaded, (void *)key);
  MlpSource *src = mlp_source_read(S->a, path);
  if (!src) {
    mlp_diag_error(S->d, use->name_loc, "cannot read module '%s'", use->name);
    S->lost_module = true;
    return;
  }
  int before = S->d->nerr;
  MlpAst *ast = mlp_parse(S->a, src, S->d);
  if (S->d->nerr > before) {
    S->lost_module = true;
    return;
  }
  for (int i = 0; i < ast->file->kids.len; i++) {
    const MlpNode *n = ast->file->kids.items[i];
    if (n->kind == MLP_ND_USE) load_module(S, n);
    else add_def(S, n, true);
  }
}

/* ---- blocks -------------------------------------------------------------- */

static const char *statement_noun(const MlpRegBlock *b, const MlpNode *st) {
  switch (st->kind) {
  case MLP_ND_BLOCK: return b->parent ? "block" : "section";
  case MLP_ND_ASSIGN: return "setting";
  default: return "op";
  }
}

/* A name used in the wrong form ("split = ...", "adam(...)"): say how to
 * write it. Returns false when the name is not known in this block. */
static bool wrong_form(Sema *S, const MlpRegBlock *b, const MlpNode *st) {
  const char *name = st->name;
  MlpLoc at = st->name_loc;
  if (mlp_reg_setting(b, name)) {
    mlp_diag_error(S->d, at, "'%s' is a setting; write '%s = ...'", name, name);
  } else if (mlp_reg_block_op(b, name)) {
    mlp_diag_error(S->d, at, "'%s' is an op; write '%s(...)'", name, name);
  } else if (mlp_reg_subblock(b, name)) {
    mlp_diag_error(S->d, at, "'%s' is a block; write '%s { ... }'", name, name);
  } else {
    for (int i = 0; i < b->nsettings; i++) {
      const MlpRegField *f = b->settings[i];
      if (f->type.kind == MLP_TY_CALL && mlp_reg_kind_op(mlp_reg_kind(f->type.set), name)) {
        mlp_diag_error(S->d, at, "'%s' is %s %s; write '%s = %s(...)'", name,
                       strchr("aeiou", f->type.set[0]) ? "an" : "a", f->type.set, f->name, name);
        return true;
      }
    }
    return false;
  }
  return true;
}

/* Where else a statement's name is known, for "belongs in" hints. */
static const char *home_of(const MlpNode *st) {
  const MlpRegistry *R = mlp_registry();
  for (int i = 1; i < R->nblocks; i++) {
    const MlpRegBlock *b = R->blocks[i];
    bool known = st->kind == MLP_ND_ASSIGN ? mlp_reg_setting(b, st->name) != NULL
                 : st->kind == MLP_ND_CALL ? mlp_reg_block_op(b, st->name) != NULL
                                           : mlp_reg_subblock(b, st->name) != NULL;
    if (known) return b->name;
  }
  return NULL;
}

static void unknown_statement(Sema *S, const MlpRegBlock *b, const MlpNode *st) {
  if (wrong_form(S, b, st)) return;
  const char **names = names_alloc(S, b->nsettings + b->nops + b->nblocks + S->defs.len);
  int n = 0;
  if (st->kind == MLP_ND_ASSIGN)
    for (int i = 0; i < b->nsettings; i++) names[n++] = b->settings[i]->name;
  if (st->kind == MLP_ND_CALL) {
    for (int i = 0; i < b->nops; i++) names[n++] = b->ops[i]->name;
    for (int i = 0; i < S->defs.len; i++) {
      const Def *df = S->defs.items[i];
      if (df->body == b) names[n++] = df->node->name;
    }
  }
  if (st->kind == MLP_ND_BLOCK)
    for (int i = 0; i < b->nblocks; i++) names[n++] = b->blocks[i]->name;
  const char *noun = statement_noun(b, st);
  const char *hint = did_you_mean(S, st->name, names, n);
  const char *home = home_of(st);
  if (!*hint && home) hint = mlp_arena_printf(S->a, "; it belongs in '%s'", home);
  /* a recipe or architecture of a module that did not load: already reported */
  if (!*hint && S->lost_module && st->kind == MLP_ND_CALL && b->sequence) return;
  if (!b->parent) mlp_diag_error(S->d, st->name_loc, "unknown %s '%s'%s", noun, st->name, hint);
  else mlp_diag_error(S->d, st->name_loc, "unknown %s '%s' in '%s'%s", noun, st->name, b->name, hint);
}

static void duplicate(Sema *S, const MlpNode *st, const MlpNode *first, const char *what) {
  mlp_diag_error(S->d, st->name_loc, "%s '%s' is given twice", what, st->name);
  mlp_diag_note(S->d, first->name_loc, "first given here");
}

/* `model in [a, b, ...]`: a search over whole models, each an
 * architecture definition whose body is checked as a `model` section. */
static void check_family(Sema *S, const MlpNode *st, MlpSpecBlock *sb) {
  const MlpNode *v = st->value;
  if (v->kind != MLP_ND_LIST || v->kids.len == 0) {
    mlp_diag_error(S->d, v->loc, "a model family is a list of architectures, [net, forest, ...], got %s",
                   v->kind == MLP_ND_LIST ? "an empty list" : got(S, v));
    return;
  }
  const MlpRegBlock *model = mlp_reg_block("model");
  MlpSpecMember *members = mlp_arena_alloc(S->a, (size_t)v->kids.len * sizeof *members);
  int n = 0;
  bool ok = true;
  for (int i = 0; i < v->kids.len; i++) {
    const MlpNode *e = v->kids.items[i];
    Def *df = e->kind == MLP_ND_IDENT ? find_def(S, e->name) : NULL;
    if (e->kind != MLP_ND_IDENT) {
      mlp_diag_error(S->d, e->loc, "a model family lists architectures by name, got %s", got(S, e));
    } else if (!df && mlp_reg_block_op(model, e->name)) {
      mlp_diag_error(S->d, e->loc, "'%s' is an op; a model family lists architectures: define "
                     "'architecture NAME { %s(...) }' and list NAME", e->name, e->name);
    } else if (!df) {
      const char **names = names_alloc(S, S->defs.len);
      int nn = 0;
      for (int k = 0; k < S->defs.len; k++) {
        const Def *d = S->defs.items[k];
        if (d->body == model) names[nn++] = d->node->name;
      }
      mlp_diag_error(S->d, e->loc, "unknown architecture '%s'%s", e->name,
                     did_you_mean(S, e->name, names, nn));
    } else if (df->body != model) {
      mlp_diag_error(S->d, e->loc, "'%s' is %s %s, not an architecture", e->name,
                     df->def->keyword[0] == 'a' ? "an" : "a", df->def->keyword);
    } else {
      int prev = 0;
      while (prev < n && strcmp(members[prev].name, e->name) != 0) prev++;
      if (prev < n) {
        mlp_diag_error(S->d, e->loc, "the model family lists '%s' twice", e->name);
        mlp_diag_note(S->d, members[prev].loc, "first listed here");
        ok = false;
        continue;
      }
      check_def(S, df);
      const MlpSpecCall *first = df->calls.len ? df->calls.items[0] : NULL;
      members[n++] = (MlpSpecMember){e->name, e->loc, df->calls, first && !first->op->standalone};
      continue;
    }
    ok = false;
  }
  if (!ok) return;
  MlpSpecSpace *sp = mlp_arena_alloc(S->a, sizeof *sp);
  sp->path = st->name, sp->space = v, sp->loc = st->name_loc;
  sp->members = members, sp->nmembers = n;
  mlp_vec_push(S->a, &sb->spaces, sp);
  S->family = sp;
}

static void check_call_statement(Sema *S, const MlpRegBlock *b, const MlpNode *st, MlpSpecBlock *sb,
                                 const MlpNode **first_op) {
  const MlpRegOp *op = mlp_reg_block_op(b, st->name);
  if (op) {
    int idx = 0;
    while (b->ops[idx] != op) idx++;
    if (!b->sequence && first_op[idx]) {
      duplicate(S, st, first_op[idx], "op");
      return;
    }
    first_op[idx] = st;
    MlpSpecCall *c;
    check_call(S, op, st, &c);
    mlp_vec_push(S->a, &sb->ops, c);
    return;
  }
  Def *df = find_def(S, st->name);
  if (df && df->body == b) {
    if (st->kids.len > 0) {
      const MlpNode *arg = st->kids.items[0];
      mlp_diag_error(S->d, arg->loc, "%s '%s' takes no arguments", df->def->keyword, st->name);
      return;
    }
    if (df->state == 1) {
      mlp_diag_error(S->d, st->name_loc, "%s '%s' uses itself", df->def->keyword, st->name);
      return;
    }
    check_def(S, df);
    /* each use gets its own calls, so later stages can tell the uses apart */
    for (int i = 0; i < df->calls.len; i++) {
      MlpSpecCall *copy = mlp_arena_alloc(S->a, sizeof *copy);
      *copy = *(const MlpSpecCall *)df->calls.items[i];
      mlp_vec_push(S->a, &sb->ops, copy);
    }
    return;
  }
  if (df) {
    mlp_diag_error(S->d, st->name_loc, "'%s' is %s %s; use it in '%s'", st->name,
                   df->def->keyword[0] == 'a' ? "an" : "a", df->def->keyword, df->body->name);
    return;
  }
  unknown_statement(S, b, st);
}

static void check_block(Sema *S, const MlpRegBlock *b, const MlpVec *stmts, MlpSpecBlock *sb) {
  const MlpNode **first_set = mlp_arena_alloc(S->a, sizeof(MlpNode *) * (size_t)(b->nsettings + 1));
  const MlpNode **first_op = mlp_arena_alloc(S->a, sizeof(MlpNode *) * (size_t)(b->nops + 1));
  const MlpNode **first_block = mlp_arena_alloc(S->a, sizeof(MlpNode *) * (size_t)(b->nblocks + 1));
  MlpVec first_entry = {0}, first_space = {0};
  for (int i = 0; i < stmts->len && !mlp_diag_full(S->d); i++) {
    const MlpNode *st = stmts->items[i];
    if (st->kind == MLP_ND_BLOCK) {
      const MlpRegBlock *sub = mlp_reg_subblock(b, st->name);
      if (!sub) {
        unknown_statement(S, b, st);
      } else if (first_block[sub->index]) {
        duplicate(S, st, first_block[sub->index], b->parent ? "block" : "section");
      } else {
        first_block[sub->index] = st;
        MlpSpecBlock *child = sb->blocks[sub->index];
        child->given = true;
        child->loc = st->name_loc;
        check_block(S, sub, &st->kids, child);
      }
    } else if (st->kind == MLP_ND_ASSIGN) {
      const MlpRegField *f = mlp_reg_setting(b, st->name);
      if (f) {
        if (first_set[f->index]) {
          duplicate(S, st, first_set[f->index], "setting");
          continue;
        }
        first_set[f->index] = st;
        if (check_value(S, f, st->value, &sb->settings[f->index])) setting_rules(S, f, st->value);
      } else if (b->any && !mlp_reg_block_op(b, st->name) && !mlp_reg_subblock(b, st->name)) {
        const MlpNode *prev = NULL;
        for (int j = 0; j < first_entry.len && !prev; j++)
          if (strcmp(((const MlpNode *)first_entry.items[j])->name, st->name) == 0)
            prev = first_entry.items[j];
        if (prev) {
          duplicate(S, st, prev, "entry");
          continue;
        }
        mlp_vec_push(S->a, &first_entry, (void *)st);
        MlpSpecValue scratch = {0};
        if (check_value(S, b->any, st->value, &scratch)) {
          MlpSpecEntry *e = mlp_arena_alloc(S->a, sizeof *e);
          e->name = st->name, e->loc = st->name_loc, e->value = st->value;
          mlp_vec_push(S->a, &sb->entries, e);
        }
      } else {
        unknown_statement(S, b, st);
      }
    } else if (st->kind == MLP_ND_IN) {
      const MlpRegBlock *hp = mlp_reg_block("hyperparameters");
      const MlpRegField *f = mlp_reg_setting(hp, st->name);
      bool path = strpbrk(st->name, ".[") != NULL, family = strcmp(st->name, "model") == 0;
      if (!b->spaces) {
        mlp_diag_error(S->d, st->name_loc, "search spaces ('%s in ...') belong in 'tuning'", st->name);
      } else if (!f && !path && !family) {
        const char **names = names_alloc(S, hp->nsettings);
        for (int j = 0; j < hp->nsettings; j++) names[j] = hp->settings[j]->name;
        mlp_diag_error(S->d, st->name_loc, "'%s' is not a hyperparameter%s", st->name,
                       did_you_mean(S, st->name, names, hp->nsettings));
      } else {
        const MlpNode *prev = NULL;
        for (int j = 0; j < first_space.len && !prev; j++)
          if (strcmp(((const MlpNode *)first_space.items[j])->name, st->name) == 0)
            prev = first_space.items[j];
        if (prev) {
          duplicate(S, st, prev, "search space");
          continue;
        }
        mlp_vec_push(S->a, &first_space, (void *)st);
        if (family) {
          check_family(S, st, sb);
          continue;
        }
        if (path) {
          mlp_vec_push(S->a, &S->paths, (void *)st);
          S->tuning = sb;
          continue;
        }
        MlpSpecSpace *sp = check_space(S, f, st->value, sb, st->name_loc);
        if (sp) sp->path = st->name, sp->target = (MlpSpecValue *)mlp_spec_setting(S->hyper, st->name);
      }
    } else if (st->kind == MLP_ND_CALL) {
      check_call_statement(S, b, st, sb, first_op);
    }
  }
  if (!sb->given) return;
  for (int i = 0; i < b->nsettings; i++)
    if (b->settings[i]->required && !first_set[i])
      mlp_diag_error(S->d, sb->loc, "'%s' needs a '%s' setting", b->name, b->settings[i]->name);
  for (int i = 0; i < b->nblocks; i++)
    if (b->blocks[i]->required && !first_block[i]) {
      if (b->parent) mlp_diag_error(S->d, sb->loc, "'%s' needs a '%s' block", b->name, b->blocks[i]->name);
      else
        mlp_diag_error(S->d, sb->loc, "pipeline '%s' has no '%s' section", S->pipeline, b->blocks[i]->name);
    }
}

/* ---- defaults ------------------------------------------------------------ */

static void fill_call(Sema *S, MlpSpecCall *c);

/* "{pipeline}" in a string setting, written or default, becomes the
 * pipeline's name. */
static const MlpNode *expand_pipeline(Sema *S, const MlpNode *v) {
  const char *at = v && v->kind == MLP_ND_STR ? strstr(v->text, "{pipeline}") : NULL;
  if (!at) return v;
  MlpNode *e = mlp_arena_alloc(S->a, sizeof *e); /* a copy: the parsed tree stays as written */
  *e = *v;
  e->text = mlp_arena_printf(S->a, "%.*s%s%s", (int)(at - v->text), v->text, S->pipeline, at + 10);
  e->len = (int)strlen(e->text);
  return e;
}

static void fill_value(Sema *S, MlpSpecValue *v, const MlpSpecCall *owner) {
  const MlpRegField *f = v->field;
  if (!v->node) {
    const MlpRegField *from = mlp_reg_inherited(f);
    if (from) {
      const MlpSpecValue *src =
          from->op && owner ? &owner->args[from->index] : &S->hyper->settings[from->index];
      v->node = src->node;
      v->calls = src->calls;
      return;
    }
    v->node = expand_pipeline(S, mlp_reg_default(S->a, f));
    if (v->node && f->type.kind == MLP_TY_CALL) {
      const MlpRegOp *op = mlp_reg_kind_op(mlp_reg_kind(f->type.set), v->node->name);
      MlpSpecCall *c = new_call(S, op, v->node->loc);
      c->implied = true;
      mlp_vec_push(S->a, &v->calls, c);
    }
  } else if (f->type.kind == MLP_TY_STRING && !f->type.list) {
    v->node = expand_pipeline(S, v->node);
  }
  for (int i = 0; i < v->calls.len; i++) fill_call(S, v->calls.items[i]);
}

static void fill_call(Sema *S, MlpSpecCall *c) {
  for (int i = 0; i < c->op->nparams; i++) fill_value(S, &c->args[i], c);
}

static void fill_block(Sema *S, MlpSpecBlock *sb) {
  const MlpRegBlock *b = sb->reg;
  for (int i = 0; i < b->nsettings; i++) fill_value(S, &sb->settings[i], NULL);
  for (int i = 0; i < b->nops; i++) {
    if (!b->ops[i]->implied || mlp_spec_op(sb, b->ops[i]->name)) continue;
    MlpSpecCall *c = new_call(S, b->ops[i], sb->loc);
    c->implied = true;
    mlp_vec_push(S->a, &sb->ops, c);
  }
  for (int i = 0; i < sb->ops.len; i++) fill_call(S, sb->ops.items[i]);
  for (int i = 0; i < b->nblocks; i++) fill_block(S, sb->blocks[i]);
}

/* ---- rules across values --------------------------------------------------- */

/* The shape of a model: a standalone model alone; otherwise layers that end
 * in exactly one output layer, image layers before the flattening ones. */
static void model_rules(Sema *S, const MlpSpecBlock *m) {
  int n = m->ops.len;
  if (!m->given) return;
  if (n == 0) {
    mlp_diag_error(S->d, m->loc, "'model' has no layers; add layers and output(), or a baseline()");
    return;
  }
  for (int i = 0; i < n; i++) {
    const MlpSpecCall *c = m->ops.items[i];
    if (!c->op->standalone || n == 1) continue;
    const MlpSpecCall *other = m->ops.items[i == 0 ? 1 : 0];
    mlp_diag_error(S->d, c->loc, "'%s' is a whole model; it cannot be combined with '%s'", c->op->name,
                   other->op->name);
    mlp_diag_note(S->d, other->loc, "'%s' is here", other->op->name);
    return;
  }
  if (((const MlpSpecCall *)m->ops.items[0])->op->standalone) return;
  const MlpSpecCall *output = NULL, *vector = NULL;
  for (int i = 0; i < n; i++) {
    const MlpSpecCall *c = m->ops.items[i];
    const char *name = c->op->name;
    if (output) {
      mlp_diag_error(S->d, c->loc, "'%s' after the output layer; output() must come last", name);
      mlp_diag_note(S->d, output->loc, "the output layer is here");
      return;
    }
    if (strcmp(name, "output") == 0) output = c;
    bool image =
        strcmp(name, "conv2d") == 0 || strcmp(name, "maxpool2d") == 0 || strcmp(name, "avgpool2d") == 0;
    if (image && vector) {
      mlp_diag_error(S->d, c->loc, "'%s' needs image input, but '%s' before it makes a flat vector", name,
                     vector->op->name);
      return;
    }
    if (strcmp(name, "dense") == 0 || strcmp(name, "flatten") == 0) vector = vector ? vector : c;
  }
  if (!output) mlp_diag_error(S->d, m->loc, "'model' has no output layer; end it with output()");
}

/* A family's members take their defaults and the shape rules of a model. */
static void family_rules(Sema *S) {
  for (int k = 0; S->family && k < S->family->nmembers; k++) {
    MlpSpecMember *m = &S->family->members[k];
    MlpSpecBlock body = {.reg = mlp_reg_block("model"), .given = true, .loc = m->loc, .ops = m->calls};
    for (int i = 0; i < m->calls.len; i++) fill_call(S, m->calls.items[i]);
    model_rules(S, &body);
  }
}

static void split_rules(Sema *S, const MlpSpecBlock *data) {
  const MlpSpecCall *split = mlp_spec_op(data, "split");
  if (!split) return;
  double val = mlp_spec_num(mlp_spec_arg(split, "validation")),
         test = mlp_spec_num(mlp_spec_arg(split, "test"));
  const MlpSpecValue *given = mlp_spec_setting(data, "test_source");
  if (given && given->given && test > 0)
    mlp_diag_error(S->d, mlp_spec_arg(split, "test")->node->loc,
                   "the test rows are the test source's; split's 'test' fraction must be 0 with "
                   "'test_source'");
  MlpLoc at = split->implied ? data->loc : split->loc;
  if (val + test >= 1)
    mlp_diag_error(S->d, at,
                   "validation (%g) and test (%g) fractions sum to %g; no rows are left for training", val,
                   test, val + test);
  else if (val + test > 0.5)
    mlp_diag_warning(S->d, at, "validation and test take %g%% of the rows; only %g%% are left for training",
                     (val + test) * 100, (1 - val - test) * 100);
}

static void training_rules(Sema *S, const MlpSpec *spec) {
  const MlpSpecBlock *hp = mlp_spec_block(spec, "hyperparameters");
  const MlpSpecValue *lr = mlp_spec_setting(hp, "lr");
  const MlpSpecCall *opt = mlp_spec_call(mlp_spec_setting(hp, "optimizer"));
  const MlpSpecValue *opt_lr = opt ? mlp_spec_arg(opt, "lr") : NULL;
  if (lr->given && opt_lr && opt_lr->given && opt_lr->node != lr->node)
    mlp_diag_warning(S->d, lr->node->loc, "'lr' is also given to '%s'; the optimizer's lr = %s wins",
                     opt->op->name, fmt_num(S, opt_lr->node));
  const MlpSpecCall *es = mlp_spec_op(mlp_spec_block(spec, "validation"), "early_stopping");
  const MlpSpecValue *patience = es ? mlp_spec_arg(es, "patience") : NULL;
  double epochs = mlp_spec_num(mlp_spec_setting(hp, "epochs"));
  if (patience && patience->given && mlp_spec_num(patience) >= epochs)
    mlp_diag_warning(S->d, patience->node->loc,
                     "patience %s is not below epochs (%g): early stopping never triggers",
                     fmt_num(S, patience->node), epochs);
  /* the loss must read the output the way the output layer makes it */
  static const char *const pairs[][2] = {{"cross_entropy", "softmax"}, {"bce", "sigmoid"}};
  const MlpSpecCall *loss = mlp_spec_call(mlp_spec_setting(hp, "loss"));
  const MlpSpecCall *out = mlp_spec_op(mlp_spec_block(spec, "model"), "output");
  const char *act = out ? mlp_spec_str(mlp_spec_arg(out, "activation")) : NULL;
  for (size_t i = 0; loss && act && i < sizeof pairs / sizeof pairs[0]; i++)
    if (strcmp(loss->op->name, pairs[i][0]) == 0 && strcmp(act, pairs[i][1]) != 0)
      mlp_diag_warning(S->d, loss->loc, "'%s' expects a %s output, but output() uses %s", pairs[i][0],
                       pairs[i][1], act);
}

/* A failsafe action `fallback` returns the fallback prediction: it must exist. */
static void failsafe_rules(Sema *S, const MlpSpecBlock *fs) {
  const MlpSpecValue *fallback = mlp_spec_setting(fs, "fallback");
  for (int i = 0; i < fs->reg->nsettings && !fallback->node; i++) {
    const MlpSpecValue *v = &fs->settings[i];
    if (v->given && is_ident(v->node, "fallback"))
      mlp_diag_error(S->d, v->node->loc,
                     "'%s = fallback' needs the prediction to fall back to: 'fallback = ...'",
                     v->field->name);
  }
}

static void tuning_rules(Sema *S, const MlpSpecBlock *t) {
  const MlpSpecValue *search = mlp_spec_setting(t, "search");
  const MlpSpecCall *how = mlp_spec_call(search);
  if (search->given && t->spaces.len == 0)
    mlp_diag_warning(S->d, search->node->loc,
                     "'search' has no search spaces; add one like 'lr in logrange(1e-4, 0.1)'");
  /* random and tpe draw from a range */
  if (!how || strcmp(how->op->name, "random") == 0 || strcmp(how->op->name, "tpe") == 0) return;
  for (int i = 0; i < t->spaces.len; i++) {
    const MlpSpecSpace *sp = t->spaces.items[i];
    if (sp->space->kind == MLP_ND_RANGE && sp->field && sp->field->type.kind == MLP_TY_FLOAT)
      mlp_diag_error(S->d, sp->space->loc,
                     "%s search cannot enumerate the continuous range of '%s'; give a list or logrange(), "
                     "or use search = random(...)",
                     how->op->name, sp->field->name);
  }
}

/* ---- columns ---------------------------------------------------------------- */

/* The header of a csv source, when its file can be read now: the names a
 * spec may use as columns, and the number of lines after it (the rows, but
 * for quoted line breaks). False when the header cannot be known yet: the
 * file is absent, or a pipe that only the training program may read, or
 * is no data file at all or has a header line too long (an error). The
 * header is read up to the loaders' record limit, never further. */
static bool csv_header(Sema *S, const MlpSpecCall *src, MlpVec *cols, long *rows) {
  if (strcmp(src->op->name, "csv") != 0) return false;
  const MlpSpecValue *pv = mlp_spec_arg(src, "path");
  const char *path = mlp_spec_str(pv);
  const char *delim = mlp_spec_str(mlp_spec_arg(src, "delimiter"));
  const MlpNode *header = mlp_spec_arg(src, "header")->node;
  if (!path || !header->num || !delim || strlen(delim) != 1) return false;
  const char *name = S->src->name, *slash = strrchr(name, '/');
  const char *full =
      path[0] == '/' || !slash ? path : mlp_arena_printf(S->a, "%.*s/%s", (int)(slash - name), name, path);
  const char *what;
  MlprtSourceKind kind = mlprt_source_kind(full, &what);
  if (kind == MLPRT_SRC_OTHER)
    mlp_diag_error(S->d, pv->node->loc, "the data source '%s' is %s, not a file or a pipe", path, what);
  if (kind != MLPRT_SRC_FILE) return false;
  FILE *f = fopen(full, "r");
  if (!f) return false;
  char *line = NULL;
  size_t len = 0, cap = 0;
  int c;
  while ((c = getc(f)) != EOF && c != '\n' && len <= MLPRT_MAX_RECORD_DEFAULT) {
    if (len + 1 >= cap) line = realloc(line, cap = cap ? 2 * cap : 256);
    line[len++] = (char)c;
  }
  if (len > MLPRT_MAX_RECORD_DEFAULT) {
    mlp_diag_error(S->d, pv->node->loc, "the header line of '%s' is longer than %zu bytes", path,
                   MLPRT_MAX_RECORD_DEFAULT);
    free(line);
    fclose(f);
    return false;
  }
  char buf[1 << 16];
  size_t got_bytes;
  int last = '\n';
  *rows = 0;
  while ((got_bytes = fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < got_bytes; i++) *rows += buf[i] == '\n';
    last = buf[got_bytes - 1];
  }
  *rows += last != '\n'; /* a last line without its newline */
  fclose(f);
  for (size_t i = 0, start = 0; len > 0 && i <= len; i++) {
    char ch = i < len ? line[i] : '\n';
    if (ch != delim[0] && ch != '\n' && ch != '\r') continue;
    const char *b = line + start, *e = line + i;
    while (b < e && (*b == ' ' || *b == '"')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '"')) e--;
    mlp_vec_push(S->a, cols, mlp_arena_strndup(S->a, b, (size_t)(e - b)));
    start = i + 1;
    if (ch != delim[0]) break;
  }
  free(line);
  return len > 0;
}

/* The result columns of an SQL source's query, when its database can be
 * reached now: the names a spec may use as columns. A query the database
 * rejects is an error at the query, its caret at the byte the database
 * names when the string is written without escapes on one line. False
 * when the columns cannot be known (the database cannot be opened or
 * reached: left to `mlpc build`, which must read it) or on an error. */
static bool sql_columns(Sema *S, const MlpSpecCall *src, MlpVec *cols) {
  bool pg = strcmp(src->op->name, "postgres") == 0;
  if (!pg && strcmp(src->op->name, "sqlite") != 0) return false;
  const MlpSpecValue *qv = mlp_spec_arg(src, "query");
  const char *where = mlp_spec_str(mlp_spec_arg(src, pg ? "conninfo" : "path")), *query = mlp_spec_str(qv);
  if (!where || !query) return false;
  const char *name = S->src->name, *slash = strrchr(name, '/');
  if (!pg && where[0] != '/' && slash)
    where = mlp_arena_printf(S->a, "%.*s/%s", (int)(slash - name), name, where);
  MlprtSourceDesc d = {.paths = where, .format = src->op->name, .query = query};
  char **names;
  int n;
  MlprtError e;
  int rc = mlprt_sql_columns(&d, &names, &n, &e);
  if (rc == -1) {
    MlpLoc at = qv->node->loc;
    bool plain = at.first_line == at.last_line && at.last_column - at.first_column + 1 == qv->node->len + 2;
    if (plain && e.query_at > 0 && e.query_at <= qv->node->len)
      at.first_column = at.last_column = at.first_column + e.query_at;
    mlp_diag_error(S->d, at, "%s", e.msg);
  }
  if (rc != 0) return false;
  for (int i = 0; i < n; i++) {
    mlp_vec_push(S->a, cols, mlp_arena_strdup(S->a, names[i]));
    free(names[i]);
  }
  free(names);
  return true;
}

typedef struct {
  const char **names;
  int n;
  const char *file; /* for messages: the source's path as written */
  bool open;        /* an align joined a source whose columns are not known yet: any name may be one */
} Columns;

static void check_column(Sema *S, const Columns *C, const char *name, MlpLoc at) {
  if (C->open) return;
  for (int i = 0; i < C->n; i++)
    if (strcmp(C->names[i], name) == 0) return;
  mlp_diag_error(S->d, at, "no column '%s' in %s%s", name, C->file, did_you_mean(S, name, C->names, C->n));
}

static void check_column_value(Sema *S, const Columns *C, const MlpSpecValue *v) {
  MlpTypeKind k = v->field ? v->field->type.kind : MLP_TY_INT;
  if (!v->given || (k != MLP_TY_COLUMN && k != MLP_TY_COLUMNS)) return;
  const MlpNode *n = v->node;
  int count = n->kind == MLP_ND_LIST ? n->kids.len : 1;
  for (int i = 0; i < count && !mlp_diag_full(S->d); i++) {
    const MlpNode *c = n->kind == MLP_ND_LIST ? n->kids.items[i] : n;
    if (c->kind == MLP_ND_STR) check_column(S, C, c->text, c->loc);
    else if (mlp_reg_enum_find(mlp_reg_enum("selector"), c->name) < 0) check_column(S, C, c->name, c->loc);
  }
}

/* The elements of a list value (or the one value). */
static int list_len(const MlpNode *n) {
  return !n ? 0 : n->kind == MLP_ND_LIST ? n->kids.len : 1;
}
static const MlpNode *list_at(const MlpNode *n, int i) {
  return n->kind == MLP_ND_LIST ? n->kids.items[i] : n;
}

/* The columns a time-series or date op of the cleaning chain adds for the
 * columns it names (mlprt_derived_name), so that later ops may name them. */
static void add_derived(Sema *S, Columns *C, const MlpSpecCall *c) {
  int op = mlprt_clean_op_find(c->op->name);
  if (op != MLPRT_CLEAN_LAG && op != MLPRT_CLEAN_ROLLING && op != MLPRT_CLEAN_DIFF &&
      op != MLPRT_CLEAN_DATE_FEATURES)
    return;
  const MlpNode *cols = mlp_spec_arg(c, "columns")->node;
  const MlpNode *ks = op == MLPRT_CLEAN_LAG       ? mlp_spec_arg(c, "steps")->node
                      : op == MLPRT_CLEAN_ROLLING ? mlp_spec_arg(c, "stat")->node
                      : op == MLPRT_CLEAN_DIFF    ? mlp_spec_arg(c, "steps")->node
                                                  : mlp_spec_arg(c, "parts")->node;
  const MlpSpecValue *window = mlp_spec_arg(c, "window"), *lag = mlp_spec_arg(c, "lag");
  const MlpSpecValue *cyc = mlp_spec_arg(c, "cyclical");
  bool cyclical = cyc && cyc->node && cyc->node->kind == MLP_ND_BOOL && cyc->node->num != 0;
  const MlpRegEnum *set = mlp_reg_enum(op == MLPRT_CLEAN_ROLLING ? "stat" : "date_part");
  int ncols = list_len(cols), nk = list_len(ks);
  const char **names = mlp_arena_alloc(S->a, (size_t)(C->n + 2 * ncols * nk + 1) * sizeof *names);
  memcpy(names, C->names, (size_t)C->n * sizeof *names);
  int n = C->n;
  for (int i = 0; i < ncols; i++) {
    const MlpNode *col = list_at(cols, i);
    const char *name = col->kind == MLP_ND_STR ? col->text : col->name;
    if (col->kind != MLP_ND_STR && mlp_reg_enum_find(mlp_reg_enum("selector"), name) >= 0) continue;
    for (int k = 0; k < nk; k++) {
      const MlpNode *kv = list_at(ks, k);
      int64_t v = kv->kind == MLP_ND_IDENT ? mlp_reg_enum_find(set, kv->name) : (int64_t)kv->num;
      bool two = op == MLPRT_CLEAN_DATE_FEATURES && cyclical && mlprt_date_part_period((int)v) > 0;
      for (int form = two ? 1 : 0; form <= (two ? 2 : 0); form++) {
        char buf[512];
        mlprt_derived_name(buf, sizeof buf, op, name, v, window ? (int64_t)mlp_spec_num(window) : 0,
                           lag && !isnan(mlp_spec_num(lag)) ? (int64_t)mlp_spec_num(lag) : 0, form);
        names[n++] = mlp_arena_strdup(S->a, buf);
      }
    }
  }
  C->names = names;
  C->n = n;
}

/* The columns an align step joins: those of its source (its keys, which the
 * table has already, repeat harmlessly), when its csv header or query's
 * columns can be read now; else later names are not checked, as the
 * program reads them. */
static void add_joined(Sema *S, Columns *C, const MlpSpecCall *c) {
  if (strcmp(c->op->name, "align") != 0) return;
  const MlpSpecValue *src = mlp_spec_arg(c, "source");
  const MlpSpecCall *sc = src && src->calls.len > 0 ? src->calls.items[0] : NULL;
  MlpVec cols = {0};
  long rows;
  if (!sc || !(sql_columns(S, sc, &cols) || csv_header(S, sc, &cols, &rows))) {
    C->open = true;
    return;
  }
  const char **names = mlp_arena_alloc(S->a, (size_t)(C->n + cols.len + 1) * sizeof *names);
  memcpy(names, C->names, (size_t)C->n * sizeof *names);
  memcpy(names + C->n, cols.items, (size_t)cols.len * sizeof *names);
  C->names = names;
  C->n += cols.len;
}

static void check_columns_in(Sema *S, Columns *C, const MlpSpecBlock *b) {
  for (int i = 0; i < b->reg->nsettings; i++) check_column_value(S, C, &b->settings[i]);
  for (int i = 0; i < b->entries.len; i++) {
    const MlpSpecEntry *e = b->entries.items[i];
    check_column(S, C, e->name, e->loc);
  }
  for (int i = 0; i < b->ops.len; i++) {
    const MlpSpecCall *c = b->ops.items[i];
    /* align's right_on and right_by name the other source's columns: checked once it joins */
    for (int j = 0; j < c->op->nparams; j++)
      if (strncmp(c->op->params[j]->name, "right_", 6) != 0) check_column_value(S, C, &c->args[j]);
    add_derived(S, C, c);
    add_joined(S, C, c);
    for (int j = 0; j < c->op->nparams; j++)
      if (strncmp(c->op->params[j]->name, "right_", 6) == 0) check_column_value(S, C, &c->args[j]);
  }
  for (int i = 0; i < b->reg->nblocks; i++) check_columns_in(S, C, b->blocks[i]);
}

/* Columns named in the spec must exist in the data. The check runs when
 * the source is one csv file whose header can be read at compile time, or
 * one SQL query whose database can be reached; otherwise it is left to the
 * program that reads the data. */
static void column_rules(Sema *S, const MlpSpec *spec) {
  const MlpSpecValue *src = mlp_spec_setting(mlp_spec_block(spec, "data"), "source");
  MlpVec cols = {0};
  long rows;
  if (src->calls.len == 1 && sql_columns(S, src->calls.items[0], &cols)) {
    Columns Q = {(const char **)cols.items, cols.len, "the query's result", false};
    check_columns_in(S, &Q, spec->root);
    return;
  }
  if (src->calls.len != 1 || !csv_header(S, src->calls.items[0], &cols, &rows)) return;
  Columns C = {(const char **)cols.items, cols.len, mlp_spec_str(mlp_spec_arg(src->calls.items[0], "path")),
               false};
  check_columns_in(S, &C, spec->root);
  /* with the rows counted, a batch bigger than the training part is visible */
  const MlpSpecValue *batch = mlp_spec_setting(mlp_spec_block(spec, "hyperparameters"), "batch");
  const MlpSpecCall *split = mlp_spec_op(mlp_spec_block(spec, "data"), "split");
  double held = mlp_spec_num(mlp_spec_arg(split, "validation")) + mlp_spec_num(mlp_spec_arg(split, "test"));
  long train = (long)floor((double)rows * (1 - held));
  if (batch->given && mlp_spec_num(batch) > (double)train)
    mlp_diag_warning(S->d, batch->node->loc, "'batch' = %s is more than the %ld training rows of %s",
                     fmt_num(S, batch->node), train, C.file);
}

/* ---- the whole spec -------------------------------------------------------- */

MlpSpec *mlp_sema_check(MlpArena *a, const MlpAst *ast, MlpDiag *d) {
  Sema S = {.a = a, .d = d, .src = ast->src};
  int before = d->nerr;
  bool bad_kind = false; /* an unknown definition kind may be the misspelled pipeline */
  MlpVec pipelines = {0};
  for (int i = 0; i < ast->file->kids.len; i++) {
    const MlpNode *n = ast->file->kids.items[i];
    if (n->kind == MLP_ND_USE) {
      load_module(&S, n);
    } else {
      add_def(&S, n, false);
      bad_kind |= !mlp_reg_def(n->keyword);
      if (strcmp(n->keyword, "pipeline") == 0) mlp_vec_push(a, &pipelines, (void *)n);
    }
  }
  if (pipelines.len == 0) {
    if (!bad_kind)
      mlp_diag_error(d, mlp_source_loc(ast->src, 0, 0),
                     "no pipeline in this file; a spec needs 'pipeline NAME { ... }'");
    return NULL;
  }
  for (int i = 1; i < pipelines.len; i++) {
    const MlpNode *n = pipelines.items[i];
    mlp_diag_error(d, n->name_loc, "a spec holds one pipeline; '%s' is a second one", n->name);
    mlp_diag_note(d, ((const MlpNode *)pipelines.items[0])->name_loc, "the first is here");
  }
  const MlpNode *p = pipelines.items[0];
  const MlpRegistry *R = mlp_registry();
  MlpSpec *spec = mlp_arena_alloc(a, sizeof *spec);
  spec->name = p->name;
  spec->loc = p->name_loc;
  spec->root = new_block(&S, R->pipeline);
  spec->root->given = true;
  spec->root->loc = p->name_loc;
  S.pipeline = p->name;
  S.hyper = spec->root->blocks[mlp_reg_block("hyperparameters")->index];
  check_block(&S, R->pipeline, &p->kids, spec->root);
  for (int i = 0; i < S.defs.len; i++) check_def(&S, S.defs.items[i]);
  if (d->nerr > before) return NULL;
  fill_block(&S, S.hyper);
  fill_block(&S, spec->root);
  family_rules(&S);
  resolve_paths(&S, spec);
  model_rules(&S, mlp_spec_block(spec, "model"));
  split_rules(&S, mlp_spec_block(spec, "data"));
  training_rules(&S, spec);
  tuning_rules(&S, mlp_spec_block(spec, "tuning"));
  failsafe_rules(&S, mlp_spec_block(spec, "deploy.failsafe"));
  column_rules(&S, spec);
  return d->nerr > before ? NULL : spec;
}

/* ---- lookups ------------------------------------------------------------- */

const MlpSpecBlock *mlp_spec_block(const MlpSpec *s, const char *path) {
  const MlpSpecBlock *b = s->root;
  while (b && *path) {
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    const MlpSpecBlock *next = NULL;
    for (int i = 0; i < b->reg->nblocks && !next; i++)
      if (strlen(b->reg->blocks[i]->name) == len && strncmp(b->reg->blocks[i]->name, path, len) == 0)
        next = b->blocks[i];
    b = next;
    path += len + (dot != NULL);
  }
  return b;
}

const MlpSpecValue *mlp_spec_setting(const MlpSpecBlock *b, const char *name) {
  const MlpRegField *f = b ? mlp_reg_setting(b->reg, name) : NULL;
  return f ? &b->settings[f->index] : NULL;
}

const MlpSpecCall *mlp_spec_op(const MlpSpecBlock *b, const char *name) {
  for (int i = 0; b && i < b->ops.len; i++) {
    const MlpSpecCall *c = b->ops.items[i];
    if (strcmp(c->op->name, name) == 0) return c;
  }
  return NULL;
}

const MlpSpecValue *mlp_spec_arg(const MlpSpecCall *c, const char *name) {
  const MlpRegField *f = c ? mlp_reg_param(c->op, name) : NULL;
  return f ? &c->args[f->index] : NULL;
}

const MlpSpecCall *mlp_spec_call(const MlpSpecValue *v) {
  return v && v->calls.len == 1 ? v->calls.items[0] : NULL;
}

double mlp_spec_num(const MlpSpecValue *v) {
  return v && v->node && v->node->kind == MLP_ND_NUM ? v->node->num : NAN;
}

const char *mlp_spec_str(const MlpSpecValue *v) {
  if (!v || !v->node) return NULL;
  if (v->node->kind == MLP_ND_IDENT) return v->node->name;
  if (v->node->kind == MLP_ND_STR) return v->node->text;
  return NULL;
}
