/* registry.c — expands stdlib/builtins.def into the lookup tables of
 * registry.h and checks the table for rows that do not fit together. */
#include "registry.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ROW_DEF, ROW_BLOCK, ROW_KIND, ROW_SET, ROW_OP, ROW_PARAM, ROW_ENUM, ROW_VALUE } RowKind;

typedef struct {
  RowKind kind;
  const char *scope, *name, *type, *def, *range, *usual, *flags, *doc;
} Row;

static const Row rows[] = {
#define MLP_DEF(kw, body, doc) {ROW_DEF, body, kw, NULL, NULL, NULL, NULL, "", doc},
#define MLP_BLOCK(parent, name, flags, doc) {ROW_BLOCK, parent, name, NULL, NULL, NULL, NULL, flags, doc},
#define MLP_KIND(name, doc) {ROW_KIND, NULL, name, NULL, NULL, NULL, NULL, "", doc},
#define MLP_SET(scope, name, type, def, range, usual, flags, doc) \
  {ROW_SET, scope, name, type, def, range, usual, flags, doc},
#define MLP_OP(scope, name, flags, doc) {ROW_OP, scope, name, NULL, NULL, NULL, NULL, flags, doc},
#define MLP_PARAM(name, type, def, range, usual, flags, doc) \
  {ROW_PARAM, NULL, name, type, def, range, usual, flags, doc},
#define MLP_ENUM(set, doc) {ROW_ENUM, NULL, set, NULL, NULL, NULL, NULL, "", doc},
#define MLP_VALUE(set, name, doc) {ROW_VALUE, set, name, NULL, NULL, NULL, NULL, "", doc},
#include "stdlib/builtins.def"
#undef MLP_DEF
#undef MLP_BLOCK
#undef MLP_KIND
#undef MLP_SET
#undef MLP_OP
#undef MLP_PARAM
#undef MLP_ENUM
#undef MLP_VALUE
};
enum { NROWS = sizeof rows / sizeof rows[0] };

/* The expanded tables live as long as the process; they are built once. */
static MlpRegistry reg;
static MlpRegBlock block_pool[NROWS + 1];
static MlpRegKind kind_pool[NROWS];
static MlpRegOp op_pool[NROWS];
static MlpRegField field_pool[NROWS];
static MlpRegEnum enum_pool[NROWS];
static MlpRegDef def_pool[NROWS];
static bool built;

/* Problems met while building, reported by mlp_reg_problems. */
enum { MAX_BUILD_PROBLEMS = 64 };
static char build_problems[MAX_BUILD_PROBLEMS][200];
static int nbuild_problems;

static void build_problem(const char *fmt, ...) {
  if (nbuild_problems == MAX_BUILD_PROBLEMS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(build_problems[nbuild_problems++], sizeof build_problems[0], fmt, ap);
  va_end(ap);
}

/* Append to one of the tables' growable pointer arrays. */
#define PUSH(arr, n, item)                                                  \
  do {                                                                      \
    (arr) = mlp_xrealloc((void *)(arr), sizeof *(arr) * (size_t)((n) + 1)); \
    (arr)[(n)++] = (item);                                                  \
  } while (0)

static bool has_flag(const char *flags, char f) { return flags && strchr(flags, f); }

static bool parse_type(const char *s, MlpType *t) {
  static const struct {
    const char *name;
    MlpTypeKind kind;
  } base[] = {{"int", MLP_TY_INT},        {"float", MLP_TY_FLOAT},   {"bool", MLP_TY_BOOL},
              {"string", MLP_TY_STRING},  {"scalar", MLP_TY_SCALAR}, {"column", MLP_TY_COLUMN},
              {"columns", MLP_TY_COLUMNS}};
  memset(t, 0, sizeof *t);
  if (!s) return false;
  if (strncmp(s, "list:", 5) == 0) t->list = true, s += 5;
  if (strncmp(s, "enum:", 5) == 0 || strncmp(s, "call:", 5) == 0) {
    t->kind = s[0] == 'e' ? MLP_TY_ENUM : MLP_TY_CALL;
    t->set = s + 5;
    return *t->set != 0;
  }
  for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
    if (strcmp(s, base[i].name) == 0) {
      t->kind = base[i].kind;
      return !(t->list && t->kind == MLP_TY_COLUMNS);
    }
  return false;
}

/* "[lo, hi)" with "(" / ")" for open ends; "inf" and "-inf" allowed. */
static bool parse_range(const char *s, MlpRange *r) {
  memset(r, 0, sizeof *r);
  if (!s) return true;
  char *end;
  if (*s != '[' && *s != '(') return false;
  r->lo_open = *s++ == '(';
  r->lo = strtod(s, &end);
  if (end == s || *end != ',') return false;
  s = end + 1;
  r->hi = strtod(s, &end);
  if (end == s || (*end != ']' && *end != ')') || end[1]) return false;
  r->hi_open = *end == ')';
  r->set = true;
  return r->lo <= r->hi;
}

static MlpRegBlock *find_block(const char *name) {
  for (int i = 0; i < reg.nblocks; i++)
    if (strcmp(reg.blocks[i]->name, name) == 0) return (MlpRegBlock *)reg.blocks[i];
  return NULL;
}

static MlpRegKind *find_kind(const char *name) {
  for (int i = 0; i < reg.nkinds; i++)
    if (strcmp(reg.kinds[i]->name, name) == 0) return (MlpRegKind *)reg.kinds[i];
  return NULL;
}

static MlpRegEnum *find_enum(const char *name) {
  for (int i = 0; i < reg.nenums; i++)
    if (strcmp(reg.enums[i]->name, name) == 0) return (MlpRegEnum *)reg.enums[i];
  return NULL;
}

static void fill_field(MlpRegField *f, const Row *r) {
  f->name = r->name, f->type_text = r->type, f->def = r->def, f->doc = r->doc;
  f->range_text = r->range, f->usual_text = r->usual;
  f->required = has_flag(r->flags, 'r');
  f->keyword_only = has_flag(r->flags, 'k');
  f->planned = has_flag(r->flags, 'p');
  if (!parse_type(r->type, &f->type)) build_problem("'%s': bad type '%s'", r->name, r->type ? r->type : "");
  if (!parse_range(r->range, &f->range)) build_problem("'%s': bad range '%s'", r->name, r->range);
  if (!parse_range(r->usual, &f->usual)) build_problem("'%s': bad usual range '%s'", r->name, r->usual);
}

/* Blocks and kinds first (ops and settings name them before or after their
 * own rows), then everything else in table order. */
static void build(void) {
  built = true;
  MlpRegBlock *root = &block_pool[0];
  root->name = "pipeline";
  PUSH(reg.blocks, reg.nblocks, root);
  reg.pipeline = root;
  static const char *parent_of[NROWS + 1];
  int nb = 1, nk = 0, no = 0, nf = 0, ne = 0;
  for (int i = 0; i < NROWS; i++) {
    const Row *r = &rows[i];
    if (r->kind == ROW_BLOCK) {
      parent_of[nb] = r->scope;
      MlpRegBlock *b = &block_pool[nb++];
      b->name = r->name, b->doc = r->doc;
      b->required = has_flag(r->flags, 'r');
      b->sequence = has_flag(r->flags, 'q');
      b->spaces = has_flag(r->flags, 'n');
      PUSH(reg.blocks, reg.nblocks, b);
    } else if (r->kind == ROW_KIND) {
      MlpRegKind *k = &kind_pool[nk++];
      k->name = r->name, k->doc = r->doc;
      PUSH(reg.kinds, reg.nkinds, k);
    } else if (r->kind == ROW_ENUM) {
      MlpRegEnum *e = &enum_pool[ne++];
      e->name = r->name, e->doc = r->doc;
      PUSH(reg.enums, reg.nenums, e);
    }
  }
  for (int i = 1; i < reg.nblocks; i++) {
    MlpRegBlock *b = (MlpRegBlock *)reg.blocks[i];
    MlpRegBlock *parent = find_block(parent_of[i]);
    if (!parent) {
      build_problem("block '%s': unknown parent '%s'", b->name, parent_of[i]);
      continue;
    }
    b->parent = parent;
    b->index = parent->nblocks;
    PUSH(parent->blocks, parent->nblocks, b);
  }
  MlpRegOp *op = NULL;
  for (int i = 0; i < NROWS; i++) {
    const Row *r = &rows[i];
    if (r->kind == ROW_DEF) {
      MlpRegDef *d = &def_pool[reg.ndefs++];
      d->keyword = r->name, d->body = r->scope, d->doc = r->doc;
      if (strcmp(d->keyword, "pipeline") == 0) root->doc = r->doc;
    } else if (r->kind == ROW_SET) {
      MlpRegBlock *b = find_block(r->scope);
      MlpRegField *f = &field_pool[nf++];
      fill_field(f, r);
      f->block = b;
      PUSH(reg.fields, reg.nfields, f);
      if (!b) build_problem("setting '%s': unknown block '%s'", r->name, r->scope);
      else if (strcmp(r->name, "*") == 0) b->any = f;
      else {
        f->index = b->nsettings;
        PUSH(b->settings, b->nsettings, f);
      }
    } else if (r->kind == ROW_OP) {
      op = &op_pool[no++];
      op->scope = r->scope, op->name = r->name, op->doc = r->doc;
      op->standalone = has_flag(r->flags, 's');
      op->implied = has_flag(r->flags, 'i');
      op->planned = has_flag(r->flags, 'p');
      PUSH(reg.ops, reg.nops, op);
      MlpRegKind *k = find_kind(r->scope);
      MlpRegBlock *b = k ? NULL : find_block(r->scope);
      op->kind = k, op->block = b;
      if (k) PUSH(k->ops, k->nops, op);
      else if (b) PUSH(b->ops, b->nops, op);
      else build_problem("op '%s': unknown scope '%s'", r->name, r->scope);
    } else if (r->kind == ROW_PARAM) {
      if (!op) {
        build_problem("parameter '%s' before any op", r->name);
        continue;
      }
      MlpRegField *f = &field_pool[nf++];
      fill_field(f, r);
      f->op = op;
      f->planned |= op->planned;
      f->index = op->nparams;
      PUSH(op->params, op->nparams, f);
      PUSH(reg.fields, reg.nfields, f);
    } else if (r->kind == ROW_VALUE) {
      MlpRegEnum *e = find_enum(r->scope);
      if (!e) {
        build_problem("value '%s': unknown enum set '%s'", r->name, r->scope);
        continue;
      }
      int ndocs = e->nvalues;
      PUSH(e->docs, ndocs, r->doc);
      PUSH(e->values, e->nvalues, r->name);
    }
  }
  reg.defs = def_pool;
}

const MlpRegistry *mlp_registry(void) {
  if (!built) build();
  return &reg;
}

const MlpRegBlock *mlp_reg_block(const char *name) {
  mlp_registry();
  return find_block(name);
}

const MlpRegBlock *mlp_reg_subblock(const MlpRegBlock *b, const char *name) {
  for (int i = 0; i < b->nblocks; i++)
    if (strcmp(b->blocks[i]->name, name) == 0) return b->blocks[i];
  return NULL;
}

const MlpRegField *mlp_reg_setting(const MlpRegBlock *b, const char *name) {
  for (int i = 0; i < b->nsettings; i++)
    if (strcmp(b->settings[i]->name, name) == 0) return b->settings[i];
  return NULL;
}

const MlpRegOp *mlp_reg_block_op(const MlpRegBlock *b, const char *name) {
  for (int i = 0; i < b->nops; i++)
    if (strcmp(b->ops[i]->name, name) == 0) return b->ops[i];
  return NULL;
}

const MlpRegKind *mlp_reg_kind(const char *name) {
  mlp_registry();
  return find_kind(name);
}

const MlpRegOp *mlp_reg_kind_op(const MlpRegKind *k, const char *name) {
  for (int i = 0; i < k->nops; i++)
    if (strcmp(k->ops[i]->name, name) == 0) return k->ops[i];
  return NULL;
}

const MlpRegField *mlp_reg_param(const MlpRegOp *op, const char *name) {
  for (int i = 0; i < op->nparams; i++)
    if (strcmp(op->params[i]->name, name) == 0) return op->params[i];
  return NULL;
}

const MlpRegEnum *mlp_reg_enum(const char *set) {
  mlp_registry();
  return find_enum(set);
}

int mlp_reg_enum_find(const MlpRegEnum *e, const char *value) {
  for (int i = 0; i < e->nvalues; i++)
    if (strcmp(e->values[i], value) == 0) return i;
  return -1;
}

const MlpRegDef *mlp_reg_def(const char *keyword) {
  mlp_registry();
  for (int i = 0; i < reg.ndefs; i++)
    if (strcmp(reg.defs[i].keyword, keyword) == 0) return &reg.defs[i];
  return NULL;
}

const MlpRegField *mlp_reg_inherited(const MlpRegField *f) {
  if (!f->def || f->def[0] != '@') return NULL;
  const char *name = f->def + 1;
  if (f->op)
    for (int i = 0; i < f->op->nparams; i++)
      if (f->op->params[i] != f && strcmp(f->op->params[i]->name, name) == 0) return f->op->params[i];
  const MlpRegBlock *hp = mlp_reg_block("hyperparameters");
  return hp ? mlp_reg_setting(hp, name) : NULL;
}

/* A small reader for the values the table writes as defaults: numbers,
 * "strings", true/false, identifiers and [lists] of them. */
static MlpNode *read_value(MlpArena *a, const char **p) {
  static const MlpLoc nowhere;
  const char *s = *p;
  while (*s == ' ') s++;
  MlpNode *n = NULL;
  if (*s == '"') {
    const char *end = strchr(s + 1, '"');
    if (!end) return NULL;
    n = mlp_ast_new(a, MLP_ND_STR, nowhere);
    n->text = mlp_arena_strndup(a, s + 1, (size_t)(end - s - 1));
    n->len = (int)(end - s - 1);
    s = end + 1;
  } else if (*s == '[') {
    n = mlp_ast_new(a, MLP_ND_LIST, nowhere);
    s++;
    while (*s == ' ') s++;
    while (*s != ']') {
      MlpNode *item = read_value(a, &s);
      if (!item) return NULL;
      mlp_ast_add(a, n, item);
      while (*s == ' ') s++;
      if (*s == ',') s++;
      else if (*s != ']') return NULL;
    }
    s++;
  } else if (isdigit((unsigned char)*s) || *s == '-' || *s == '.') {
    char *end;
    double v = strtod(s, &end);
    if (end == s) return NULL;
    n = mlp_ast_new(a, MLP_ND_NUM, nowhere);
    n->num = v;
    n->text = mlp_arena_strndup(a, s, (size_t)(end - s));
    n->is_int = !strpbrk(n->text, ".eE");
    s = end;
  } else if (isalpha((unsigned char)*s) || *s == '_') {
    const char *start = s;
    while (isalnum((unsigned char)*s) || *s == '_') s++;
    char *word = mlp_arena_strndup(a, start, (size_t)(s - start));
    if (strcmp(word, "true") == 0 || strcmp(word, "false") == 0) {
      n = mlp_ast_new(a, MLP_ND_BOOL, nowhere);
      n->num = word[0] == 't';
    } else {
      n = mlp_ast_new(a, MLP_ND_IDENT, nowhere);
      n->name = word;
    }
  } else {
    return NULL;
  }
  *p = s;
  return n;
}

MlpNode *mlp_reg_default(MlpArena *a, const MlpRegField *f) {
  if (!f->def || f->def[0] == '@') return NULL;
  const char *p = f->def;
  MlpNode *n = read_value(a, &p);
  return n && *p == 0 ? n : NULL;
}

const char *mlp_reg_status(bool planned) { return planned ? "planned" : "built"; }

bool mlp_range_contains(const MlpRange *r, double x) {
  if (!r->set) return true;
  if (isnan(x)) return false;
  if (r->lo_open ? x <= r->lo : x < r->lo) return false;
  if (r->hi_open ? x >= r->hi : x > r->hi) return false;
  return true;
}

const char *mlp_range_condition(const MlpRange *r, char *buf, size_t n) {
  if (isinf(r->hi)) snprintf(buf, n, "%s %.15g", r->lo_open ? ">" : ">=", r->lo);
  else if (isinf(r->lo)) snprintf(buf, n, "%s %.15g", r->hi_open ? "<" : "<=", r->hi);
  else snprintf(buf, n, "in %c%.15g, %.15g%c", r->lo_open ? '(' : '[', r->lo, r->hi, r->hi_open ? ')' : ']');
  return buf;
}

const char *mlp_type_words(const MlpType *t, char *buf, size_t n) {
  static const char *const one[] = {"an integer",
                                    "a number",
                                    "true or false",
                                    "a string",
                                    "a number, string or bool",
                                    "a column name",
                                    "columns (a name, a selector word or a list)"};
  static const char *const many[] = {"integers",     "numbers",          "bools", "strings", "plain values",
                                     "column names", "column selections"};
  const char *set = t->set ? t->set : "";
  bool vowel = strchr("aeiou", set[0]) != NULL;
  const char *noun = t->kind == MLP_TY_ENUM ? "name" : "call";
  if (t->kind == MLP_TY_ENUM || t->kind == MLP_TY_CALL) {
    if (t->list) snprintf(buf, n, "a list of %s %ss", set, noun);
    else snprintf(buf, n, "%s %s %s", vowel ? "an" : "a", set, noun);
  } else {
    snprintf(buf, n, t->list ? "a list of %s" : "%s", t->list ? many[t->kind] : one[t->kind]);
  }
  return buf;
}

/* ---- consistency of the table --------------------------------------------- */

static int problem(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int problem(FILE *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("registry: ", out);
  vfprintf(out, fmt, ap);
  fputc('\n', out);
  va_end(ap);
  return 1;
}

static int check_doc(FILE *out, const char *what, const char *doc) {
  size_t n = doc ? strlen(doc) : 0;
  if (n == 0) return problem(out, "%s has no doc", what);
  if (doc[n - 1] == '.') return problem(out, "%s: doc ends with a period", what);
  return 0;
}

static int check_flags(FILE *out, const char *what, const char *flags, const char *allowed) {
  for (const char *c = flags ? flags : ""; *c; c++)
    if (!strchr(allowed, *c)) return problem(out, "%s: unknown flag '%c'", what, *c);
  return 0;
}

/* Whether one default element is a member of its set or kind and in range. */
static int check_default_item(FILE *out, const MlpRegField *f, const MlpNode *v) {
  const MlpType *t = &f->type;
  if (t->kind == MLP_TY_ENUM) {
    const MlpRegEnum *e = find_enum(t->set);
    if (v->kind != MLP_ND_IDENT || !e || mlp_reg_enum_find(e, v->name) < 0)
      return problem(out, "'%s': default '%s' is not a '%s' value", f->name, f->def, t->set);
  } else if (t->kind == MLP_TY_CALL) {
    const MlpRegKind *k = find_kind(t->set);
    const MlpRegOp *op = k && v->kind == MLP_ND_IDENT ? mlp_reg_kind_op(k, v->name) : NULL;
    if (!op) return problem(out, "'%s': default '%s' is not a '%s' op", f->name, f->def, t->set);
    for (int i = 0; i < op->nparams; i++)
      if (op->params[i]->required)
        return problem(out, "'%s': default '%s' needs parameter '%s'", f->name, f->def, op->params[i]->name);
  } else if (v->kind == MLP_ND_NUM && !mlp_range_contains(&f->range, v->num)) {
    return problem(out, "'%s': default %s outside its range %s", f->name, f->def, f->range_text);
  }
  return 0;
}

static int check_field(FILE *out, const MlpRegField *f, const char *owner) {
  int n = 0;
  char what[160];
  snprintf(what, sizeof what, "%s.%s", owner, f->name);
  n += check_doc(out, what, f->doc);
  const MlpType *t = &f->type;
  if (t->kind == MLP_TY_ENUM && !find_enum(t->set))
    n += problem(out, "%s: unknown enum set '%s'", what, t->set);
  if (t->kind == MLP_TY_CALL && !find_kind(t->set)) n += problem(out, "%s: unknown kind '%s'", what, t->set);
  if ((f->range.set || f->usual.set) && t->kind != MLP_TY_INT && t->kind != MLP_TY_FLOAT)
    n += problem(out, "%s: a range on a type that is not a number", what);
  if (f->usual.set && f->range.set && (f->usual.lo < f->range.lo || f->usual.hi > f->range.hi))
    n += problem(out, "%s: usual range %s is not inside range %s", what, f->usual_text, f->range_text);
  if (f->required && f->def) n += problem(out, "%s: required, yet has a default", what);
  if (!f->def) return n;
  if (f->def[0] == '@') {
    const MlpRegField *from = mlp_reg_inherited(f);
    if (!from) n += problem(out, "%s: default '%s' names no parameter or hyperparameter", what, f->def);
    else if (strcmp(from->type_text, f->type_text) != 0)
      n += problem(out, "%s: inherits '%s' of another type", what, f->def);
    return n;
  }
  MlpArena a;
  mlp_arena_init(&a);
  MlpNode *v = mlp_reg_default(&a, f);
  if (!v) {
    n += problem(out, "%s: default '%s' does not read as a value", what, f->def);
  } else if (v->kind == MLP_ND_LIST) {
    for (int i = 0; i < v->kids.len; i++) n += check_default_item(out, f, v->kids.items[i]);
  } else {
    n += check_default_item(out, f, v);
  }
  mlp_arena_free(&a);
  return n;
}

/* Names within one scope must differ: an op, a setting and a nested block
 * of one block share the statement namespace. */
static int check_unique(FILE *out, const char *scope, const char *const *names, int count) {
  int n = 0;
  for (int i = 0; i < count; i++)
    for (int j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0) n += problem(out, "'%s' is listed twice in '%s'", names[i], scope);
  return n;
}

int mlp_reg_problems(FILE *out) {
  mlp_registry();
  int n = 0;
  for (int i = 0; i < nbuild_problems; i++) n += problem(out, "%s", build_problems[i]);
  const char **names = mlp_xmalloc(sizeof *names * NROWS);
  int count = 0;
  for (int i = 0; i < NROWS; i++) {
    const Row *r = &rows[i];
    char what[160];
    snprintf(what, sizeof what, "%s%s%s", r->scope ? r->scope : "", r->scope ? "." : "", r->name);
    if (r->kind != ROW_SET && r->kind != ROW_PARAM) n += check_doc(out, what, r->doc);
    const char *allowed = r->kind == ROW_BLOCK ? "rqn"
                          : r->kind == ROW_OP  ? "sip"
                          : r->kind == ROW_SET ? "rp"
                                               : "rkp";
    n += check_flags(out, what, r->flags, allowed);
    /* a spec must write a required one, and build would refuse every spec */
    if (has_flag(r->flags, 'r') && has_flag(r->flags, 'p'))
      n += problem(out, "%s: required, yet planned", what);
  }
  /* blocks and kinds share one namespace: scopes are named by either */
  for (int i = 0; i < reg.nblocks; i++) names[count++] = reg.blocks[i]->name;
  for (int i = 0; i < reg.nkinds; i++) names[count++] = reg.kinds[i]->name;
  n += check_unique(out, "the blocks and kinds", names, count);
  count = 0;
  for (int i = 0; i < reg.nenums; i++) names[count++] = reg.enums[i]->name;
  n += check_unique(out, "the enum sets", names, count);
  count = 0;
  for (int i = 0; i < reg.ndefs; i++) names[count++] = reg.defs[i].keyword;
  n += check_unique(out, "the definition kinds", names, count);
  for (int i = 0; i < reg.ndefs; i++)
    if (!find_block(reg.defs[i].body))
      n += problem(out, "definition '%s': unknown body block '%s'", reg.defs[i].keyword, reg.defs[i].body);
  for (int i = 0; i < reg.nblocks; i++) {
    const MlpRegBlock *b = reg.blocks[i];
    count = 0;
    for (int j = 0; j < b->nsettings; j++) names[count++] = b->settings[j]->name;
    for (int j = 0; j < b->nops; j++) names[count++] = b->ops[j]->name;
    for (int j = 0; j < b->nblocks; j++) names[count++] = b->blocks[j]->name;
    n += check_unique(out, b->name, names, count);
    for (int j = 0; j < b->nsettings; j++) n += check_field(out, b->settings[j], b->name);
    if (b->any) n += check_field(out, b->any, b->name);
  }
  for (int i = 0; i < reg.nkinds; i++) {
    const MlpRegKind *k = reg.kinds[i];
    if (k->nops == 0) n += problem(out, "kind '%s' has no ops", k->name);
    count = 0;
    for (int j = 0; j < k->nops; j++) names[count++] = k->ops[j]->name;
    n += check_unique(out, k->name, names, count);
  }
  for (int i = 0; i < reg.nops; i++) {
    const MlpRegOp *op = reg.ops[i];
    count = 0;
    for (int j = 0; j < op->nparams; j++) {
      names[count++] = op->params[j]->name;
      n += check_field(out, op->params[j], op->name);
    }
    n += check_unique(out, op->name, names, count);
    if (op->standalone && (!op->block || !op->block->sequence))
      n += problem(out, "op '%s' stands alone outside a sequence block", op->name);
  }
  for (int i = 0; i < reg.nenums; i++) {
    const MlpRegEnum *e = reg.enums[i];
    if (e->nvalues == 0) n += problem(out, "enum set '%s' has no values", e->name);
    n += check_unique(out, e->name, e->values, e->nvalues);
  }
  free(names);
  return n;
}
