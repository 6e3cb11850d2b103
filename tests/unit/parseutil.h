/* parseutil.h — parsing text in memory for the front-end suites.
 *
 * A ParseRun parses one text named "t.mlp" with its diagnostics captured in
 * memory (no colour), and can render the tree (mlp_ast_dump) and the
 * formatted text (mlp_fmt) as strings. Everything is freed by
 * parse_run_free. */
#ifndef MLP_PARSEUTIL_H
#define MLP_PARSEUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "parse.h"

typedef struct {
  MlpArena arena;
  MlpAst *ast;
  int nerr;
  char *diag; /* everything reported, NUL-terminated */
  char *dump; /* the tree dump, filled by parse_run_dump */
  char *fmt;  /* the formatted text, filled by parse_run_fmt */
} ParseRun;

static inline void parse_run_len(ParseRun *r, const char *text, int len) {
  memset(r, 0, sizeof *r);
  mlp_arena_init(&r->arena);
  size_t n;
  FILE *f = open_memstream(&r->diag, &n);
  MlpDiag d;
  mlp_diag_init(&d, f);
  d.color = false;
  r->ast = mlp_parse(&r->arena, mlp_source_from_string(&r->arena, "t.mlp", text, len), &d);
  r->nerr = d.nerr;
  fclose(f);
}

static inline void parse_run(ParseRun *r, const char *text) { parse_run_len(r, text, (int)strlen(text)); }

static inline const char *parse_run_dump(ParseRun *r) {
  size_t n;
  FILE *f = open_memstream(&r->dump, &n);
  mlp_ast_dump(r->ast->file, f);
  fclose(f);
  return r->dump;
}

static inline const char *parse_run_fmt(ParseRun *r) {
  size_t n;
  FILE *f = open_memstream(&r->fmt, &n);
  mlp_fmt(r->ast, f);
  fclose(f);
  return r->fmt;
}

static inline void parse_run_free(ParseRun *r) {
  free(r->diag);
  free(r->dump);
  free(r->fmt);
  mlp_arena_free(&r->arena);
}

#endif
