/* ast.c — syntax tree constructors, dump and comparison (see ast.h). */
#include "ast.h"

#include <string.h>

MlpNode *mlp_ast_new(MlpArena *a, MlpNodeKind kind, MlpLoc loc) {
  MlpNode *n = mlp_arena_alloc(a, sizeof *n);
  n->kind = kind;
  n->loc = loc;
  n->name_loc = loc;
  return n;
}

MlpNode *mlp_ast_named(MlpArena *a, MlpNodeKind kind, MlpLoc loc, MlpLoc name_loc, const char *name) {
  MlpNode *n = mlp_ast_new(a, kind, loc);
  n->name_loc = name_loc;
  n->name = name;
  return n;
}

void mlp_ast_add(MlpArena *a, MlpNode *parent, MlpNode *kid) { mlp_vec_push(a, &parent->kids, kid); }

MlpNode *mlp_ast_negate(MlpArena *a, MlpNode *num, MlpLoc loc) {
  num->loc = loc;
  num->name_loc = loc;
  num->num = -num->num;
  num->text = mlp_arena_printf(a, "-%s", num->text);
  return num;
}

const char *mlp_ast_kind_name(MlpNodeKind k) {
  static const char *names[] = {"file", "use",  "def", "block", "assign", "in",   "call",
                                "arg",  "num",  "str", "ident", "bool",   "list", "range"};
  return k <= MLP_ND_RANGE ? names[k] : "?";
}

static void dump(const MlpNode *n, FILE *out, int depth) {
  fprintf(out, "%*s%s", depth * 2, "", mlp_ast_kind_name(n->kind));
  if (n->keyword) fprintf(out, " %s", n->keyword);
  if (n->name) fprintf(out, " %s", n->name);
  if (n->kind == MLP_ND_NUM) fprintf(out, " %s", n->text);
  if (n->kind == MLP_ND_STR) {
    fputs(" \"", out);
    for (int i = 0; i < n->len; i++) {
      unsigned char c = (unsigned char)n->text[i];
      if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
      else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
      else fputc(c, out);
    }
    fputc('"', out);
  }
  if (n->kind == MLP_ND_BOOL) fputs(n->num ? " true" : " false", out);
  fprintf(out, " @%d:%d\n", n->loc.first_line, n->loc.first_column);
  if (n->value) dump(n->value, out, depth + 1);
  if (n->value2) dump(n->value2, out, depth + 1);
  for (int i = 0; i < n->kids.len; i++) dump(n->kids.items[i], out, depth + 1);
}

void mlp_ast_dump(const MlpNode *n, FILE *out) { dump(n, out, 0); }

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

bool mlp_ast_equal(const MlpNode *a, const MlpNode *b) {
  if (!a || !b) return a == b;
  if (a->kind != b->kind || !str_eq(a->keyword, b->keyword) || !str_eq(a->name, b->name)) return false;
  if (a->kind == MLP_ND_NUM && (a->num != b->num || a->is_int != b->is_int)) return false;
  if (a->kind == MLP_ND_BOOL && a->num != b->num) return false;
  if (a->kind == MLP_ND_STR && (a->len != b->len || memcmp(a->text, b->text, (size_t)a->len) != 0))
    return false;
  if (!mlp_ast_equal(a->value, b->value) || !mlp_ast_equal(a->value2, b->value2)) return false;
  if (a->kids.len != b->kids.len) return false;
  for (int i = 0; i < a->kids.len; i++)
    if (!mlp_ast_equal(a->kids.items[i], b->kids.items[i])) return false;
  return true;
}
