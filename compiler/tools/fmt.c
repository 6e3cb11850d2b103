/* fmt.c — print a syntax tree in the canonical layout (see fmt.h).
 *
 * Consumes an MlpAst (tree and comments) and writes .mlp text: the uses
 * together first, then definitions, one blank line between the groups and
 * between definitions; two-space indentation, one statement per line (a
 * call wider than 100 columns gets one argument per line), and a single
 * blank line wherever the source had one or more between statements.
 *
 * Comments are tied to the tree before printing. Walking the statements in
 * source order, each comment becomes one of:
 *   LEAD  own-line comment printed before a statement (a comment written
 *         inside a multi-line statement moves up before it too),
 *   TRAIL comment after a statement on its last line,
 *   HEAD  comment after a block's '{' on its header line,
 *   END   comment after a block's last statement, printed before its '}'.
 */
#include "fmt.h"

#include <stdint.h>
#include <stdlib.h>

enum { LEAD, TRAIL, HEAD, END };

typedef struct {
  const MlpNode *anchor; /* the statement, block or file the comment belongs to */
  int role;
  int index;             /* position in the source, to keep order within an anchor */
} Slot;

typedef struct {
  FILE *out;
  const MlpAst *ast;
  Slot *slots;      /* one per comment, sorted by anchor and role once assigned */
  int nslots;
  int next;         /* the first comment not yet assigned */
  int last_line;    /* the last source line printed; 0: the next line never gets a blank line before it */
} Fmt;

static const MlpComment *comment(const Fmt *F, int i) { return F->ast->comments.items[i]; }

/* Whether a starts before (line, col). */
static int starts_before(MlpLoc a, int line, int col) {
  return a.first_line < line || (a.first_line == line && a.first_column < col);
}

static int is_block(const MlpNode *n) { return n->kind == MLP_ND_DEF || n->kind == MLP_ND_BLOCK; }

static void tie(Fmt *F, const MlpNode *anchor, int role) {
  F->slots[F->next] = (Slot){anchor, role, F->next};
  F->next++;
}

/* Tie the comments written inside block, up to its '}' at end_line:end_col
 * (end_line 0: to the end of input), to one of its n kids (in source order)
 * or to the block itself. */
static void tie_block(Fmt *F, const MlpNode *block, MlpNode **kids, int n, int end_line, int end_col) {
  const MlpNode *prev = NULL;
  if (block->kind != MLP_ND_FILE) {
    int line = n ? kids[0]->loc.first_line : end_line, col = n ? kids[0]->loc.first_column : end_col;
    while (F->next < F->nslots && starts_before(comment(F, F->next)->loc, line, col) &&
           comment(F, F->next)->loc.first_line == block->name_loc.last_line)
      tie(F, block, HEAD);
  }
  for (int k = 0; k < n; k++) {
    const MlpNode *kid = kids[k];
    while (F->next < F->nslots && starts_before(comment(F, F->next)->loc, kid->loc.first_line,
                                                 kid->loc.first_column)) {
      int same = prev && comment(F, F->next)->loc.first_line == prev->loc.last_line;
      tie(F, same ? prev : kid, same ? TRAIL : LEAD);
    }
    if (is_block(kid)) {
      tie_block(F, kid, (MlpNode **)kid->kids.items, kid->kids.len, kid->loc.last_line, kid->loc.last_column);
    } else {
      while (F->next < F->nslots &&
             starts_before(comment(F, F->next)->loc, kid->loc.last_line, kid->loc.last_column))
        tie(F, kid, LEAD);
    }
    prev = kid;
  }
  while (F->next < F->nslots && (!end_line || starts_before(comment(F, F->next)->loc, end_line, end_col))) {
    int same = prev && comment(F, F->next)->loc.first_line == prev->loc.last_line;
    tie(F, same ? prev : block, same ? TRAIL : END);
  }
}

static int slot_cmp(const void *pa, const void *pb) {
  const Slot *a = pa, *b = pb;
  if (a->anchor != b->anchor) return (uintptr_t)a->anchor < (uintptr_t)b->anchor ? -1 : 1;
  if (a->role != b->role) return a->role - b->role;
  return a->index - b->index;
}

/* The comments tied to (anchor, role): *n of them from the returned slot. */
static const Slot *tied(const Fmt *F, const MlpNode *anchor, int role, int *n) {
  int lo = 0, hi = F->nslots;
  Slot key = {anchor, role, -1};
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (slot_cmp(&F->slots[mid], &key) < 0) lo = mid + 1;
    else hi = mid;
  }
  *n = 0;
  while (lo + *n < F->nslots && F->slots[lo + *n].anchor == anchor && F->slots[lo + *n].role == role) (*n)++;
  return F->slots + lo;
}

static int by_position(const void *pa, const void *pb) {
  const MlpNode *a = *(MlpNode *const *)pa, *b = *(MlpNode *const *)pb;
  if (a->loc.first_line != b->loc.first_line) return a->loc.first_line - b->loc.first_line;
  return a->loc.first_column - b->loc.first_column;
}

/* ---- values ---------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static int utf8_len(const unsigned char *s, int n) {
  int len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
  if (s[0] >= 0xf5 || len > n) return 0;
  for (int i = 1; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  unsigned cp = len == 2 ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)
              : len == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)
              : len == 4 ? (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu)
                         : 0;
  if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
  if (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return len;
}

/* A string literal that decodes to the same bytes: valid UTF-8 stays as it
 * is, everything else unprintable becomes an escape. */
static void put_string(FILE *out, const char *text, int len) {
  const unsigned char *s = (const unsigned char *)text;
  fputc('"', out);
  for (int i = 0; i < len; i++) {
    int u = s[i] >= 0x80 ? utf8_len(s + i, len - i) : 0;
    if (u) {
      fwrite(s + i, 1, (size_t)u, out);
      i += u - 1;
    } else if (s[i] == '"' || s[i] == '\\') {
      fprintf(out, "\\%c", s[i]);
    } else if (s[i] == '\n') {
      fputs("\\n", out);
    } else if (s[i] == '\t') {
      fputs("\\t", out);
    } else if (s[i] == '\r') {
      fputs("\\r", out);
    } else if (s[i] == 0) {
      fputs("\\0", out);
    } else if (s[i] < 0x20 || s[i] >= 0x7f) {
      fprintf(out, "\\x%02x", s[i]);
    } else {
      fputc(s[i], out);
    }
  }
  fputc('"', out);
}

static void put_value(FILE *out, const MlpNode *n);

static void put_list(FILE *out, const MlpVec *kids) {
  for (int i = 0; i < kids->len; i++) {
    if (i) fputs(", ", out);
    put_value(out, kids->items[i]);
  }
}

static void put_value(FILE *out, const MlpNode *n) {
  switch (n->kind) {
  case MLP_ND_NUM: fputs(n->text, out); break;
  case MLP_ND_STR: put_string(out, n->text, n->len); break;
  case MLP_ND_IDENT: fputs(n->name, out); break;
  case MLP_ND_BOOL: fputs(n->num ? "true" : "false", out); break;
  case MLP_ND_LIST:
    fputc('[', out);
    put_list(out, &n->kids);
    fputc(']', out);
    break;
  case MLP_ND_RANGE:
    put_value(out, n->value);
    fputs(" .. ", out);
    put_value(out, n->value2);
    break;
  case MLP_ND_CALL:
    fprintf(out, "%s(", n->name);
    put_list(out, &n->kids);
    fputc(')', out);
    break;
  case MLP_ND_ARG:
    if (n->name) fprintf(out, "%s = ", n->name);
    put_value(out, n->value);
    break;
  default: break; /* statements are no values */
  }
}

/* ---- statements and comments ----------------------------------------- */

enum { MAX_WIDTH = 100 };

/* A statement's "name op" (either may be empty) and value on one line; a
 * call too wide for that gets one argument per line, aligned after '('. */
static void put_wide(Fmt *F, const char *name, const char *op, const MlpNode *v, int indent) {
  char *line = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&line, &len);
  fprintf(m, "%s%s", name, op);
  put_value(m, v);
  fclose(m);
  if (indent + (int)len <= MAX_WIDTH || v->kind != MLP_ND_CALL || v->kids.len < 2) {
    fputs(line, F->out);
  } else {
    int col = indent + fprintf(F->out, "%s%s%s(", name, op, v->name);
    for (int i = 0; i < v->kids.len; i++) {
      if (i) fprintf(F->out, ",\n%*s", col, "");
      put_value(F->out, v->kids.items[i]);
    }
    fputc(')', F->out);
  }
  free(line);
}

/* Start an output line for something written on source line src_line:
 * one blank line first if the source had blank lines before it. */
static void start_line(Fmt *F, int src_line, int indent) {
  if (F->last_line && src_line > F->last_line + 1) fputc('\n', F->out);
  if (src_line > F->last_line) F->last_line = src_line;
  fprintf(F->out, "%*s", indent, "");
}

static void put_own_line(Fmt *F, const MlpNode *anchor, int role, int indent, int max_line) {
  int n;
  const Slot *s = tied(F, anchor, role, &n);
  for (int i = 0; i < n; i++) {
    const MlpComment *c = comment(F, s[i].index);
    start_line(F, c->loc.first_line < max_line ? c->loc.first_line : max_line, indent);
    fprintf(F->out, "%s\n", c->text);
  }
}

static void put_trailing(Fmt *F, const MlpNode *anchor, int role) {
  int n;
  const Slot *s = tied(F, anchor, role, &n);
  for (int i = 0; i < n; i++) fprintf(F->out, "  %s", comment(F, s[i].index)->text);
}

static void put_statement(Fmt *F, const MlpNode *n, int indent) {
  put_own_line(F, n, LEAD, indent, n->loc.first_line);
  start_line(F, n->loc.first_line, indent);
  switch (n->kind) {
  case MLP_ND_USE: fprintf(F->out, "use %s", n->name); break;
  case MLP_ND_ASSIGN: put_wide(F, n->name, " = ", n->value, indent); break;
  case MLP_ND_IN: put_wide(F, n->name, " in ", n->value, indent); break;
  case MLP_ND_CALL: put_wide(F, "", "", n, indent); break;
  case MLP_ND_DEF:
  case MLP_ND_BLOCK: {
    int nend;
    tied(F, n, END, &nend);
    if (n->kind == MLP_ND_DEF) fprintf(F->out, "%s ", n->keyword);
    fprintf(F->out, "%s {", n->name);
    if (n->kids.len == 0 && nend == 0) {
      fputc('}', F->out);
      put_trailing(F, n, HEAD);
      break;
    }
    put_trailing(F, n, HEAD);
    fputc('\n', F->out);
    F->last_line = 0; /* no blank line right after '{' */
    for (int i = 0; i < n->kids.len; i++) put_statement(F, n->kids.items[i], indent + 2);
    put_own_line(F, n, END, indent + 2, n->loc.last_line);
    fprintf(F->out, "%*s}", indent, "");
    break;
  }
  default: put_value(F->out, n); break;
  }
  put_trailing(F, n, TRAIL);
  fputc('\n', F->out);
  if (n->loc.last_line > F->last_line) F->last_line = n->loc.last_line;
}

void mlp_fmt(const MlpAst *ast, FILE *out) {
  const MlpNode *file = ast->file;
  Fmt F = {.out = out, .ast = ast, .nslots = ast->comments.len};
  F.slots = mlp_xmalloc(sizeof *F.slots * (size_t)(F.nslots + 1));
  /* The file's kids hold uses first; comments are tied in source order. */
  MlpNode **kids = mlp_xmalloc(sizeof *kids * (size_t)(file->kids.len + 1));
  for (int i = 0; i < file->kids.len; i++) kids[i] = file->kids.items[i];
  qsort(kids, (size_t)file->kids.len, sizeof *kids, by_position);
  tie_block(&F, file, kids, file->kids.len, 0, 0);
  free(kids);
  qsort(F.slots, (size_t)F.nslots, sizeof *F.slots, slot_cmp);

  for (int i = 0; i < file->kids.len; i++) {
    const MlpNode *n = file->kids.items[i];
    const MlpNode *prev = i ? file->kids.items[i - 1] : NULL;
    if (prev && (n->kind == MLP_ND_DEF || prev->kind == MLP_ND_DEF))
      fputc('\n', out); /* definitions stand apart from the uses and from each other */
    if (prev) F.last_line = 0; /* and the uses stay together */
    put_statement(&F, n, 0);
  }
  put_own_line(&F, file, END, 0, 1 << 30);
  free(F.slots);
}
