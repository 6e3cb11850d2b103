/* parse.c — source text to syntax tree (see parse.h).
 *
 * Runs the reentrant lexer (grammar/mlp.l) over the source bytes, NULs
 * included, and the pure parser (grammar/mlp.y) over its tokens. The file
 * node is assembled here from the uses and definitions the parser kept, so
 * even a parse that gave up returns what it had read.
 */
#include "parse.h"

#include "mlp.tab.h"
#include "lex.yy.h"

void mlp_parser_init(MlpParser *P, MlpArena *a, const MlpSource *src, MlpDiag *d) {
  *P = (MlpParser){.arena = a, .src = src, .diag = d, .line = 1, .col = 1, .stmt_start = 1,
                   .end_line = 1, .end_col = 1};
}

MlpAst *mlp_parse(MlpArena *a, const MlpSource *src, MlpDiag *d) {
  MlpParser P;
  mlp_parser_init(&P, a, src, d);
  yyscan_t scanner;
  if (mlp_yylex_init_extra(&P, &scanner) != 0) {
    mlp_diag_plain(d, MLP_DIAG_ERROR, "out of memory starting the lexer");
  } else {
    YY_BUFFER_STATE buf = mlp_yy_scan_bytes(src->text, src->len, scanner);
    mlp_yyparse(scanner, &P);
    mlp_yy_delete_buffer(buf, scanner);
    mlp_yylex_destroy(scanner);
  }
  MlpAst *ast = mlp_arena_alloc(a, sizeof *ast);
  ast->src = src;
  ast->file = mlp_ast_new(a, MLP_ND_FILE, mlp_source_loc(src, 0, src->len));
  for (int i = 0; i < P.uses.len; i++) mlp_ast_add(a, ast->file, P.uses.items[i]);
  for (int i = 0; i < P.defs.len; i++) mlp_ast_add(a, ast->file, P.defs.items[i]);
  ast->comments = P.comments;
  return ast;
}
