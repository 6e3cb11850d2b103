/* mlp.y — the grammar of .mlp files (bison 3.8, pure, with locations).
 *
 * Consumes the tokens of grammar/mlp.l and builds the syntax tree of
 * compiler/ast.h through its constructors. Actions only build nodes: names
 * mean nothing here, sema gives them meaning. Syntax errors are worded by
 * yyreport_syntax_error below.
 *
 * Recovery is at statement level: `stmts error RESYNC` and `file error
 * RESYNC`. After an error the lexer (mlp_lex_next in mlp.l) drops the rest
 * of the broken statement and sends RESYNC just before the next place where
 * a statement can start: the first token of a later line or after a ';', a
 * '}' closing the block the parser is in, or the end of input, skipping
 * over brackets opened in between. So one mistake gives one message, and
 * every broken line gets its own.
 */
%require "3.8"
%define api.pure full
%define api.prefix {mlp_yy}
%define api.token.prefix {MLP_TK_}
%define api.location.type {MlpLoc}
%define api.value.type {MlpValue}
%define parse.error custom
%define parse.lac full
%locations
%expect 0

%param {yyscan_t scanner}
%parse-param {MlpParser *P}

%code requires {
#include "ast.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* Brackets may nest this deep; deeper input is an error. The bound keeps
 * the parser stack and every recursive walk of the tree small. */
#define MLP_MAX_NESTING 200

/* A token's or a rule's value. */
typedef union {
  const char *name;
  MlpNode *node;
  MlpVec vec;
} MlpValue;

/* The state shared by the lexer, the parser and parse.c. */
typedef struct {
  MlpArena *arena;
  const MlpSource *src;
  MlpDiag *diag;
  MlpVec uses, defs;       /* file-level nodes, each in source order */
  MlpVec comments;         /* MlpComment * */
  int line, col, off;      /* where the next byte of input is */
  int tok_kind, tok_off, tok_len;    /* the last token lexed (the lookahead at an error) */
  int prev_kind, prev_off, prev_len; /* the token before it */
  MlpLoc tok_loc, prev_loc;
  int end_line, end_col;   /* just after the last token: where the end of input is reported */
  int nopen;               /* brackets open now, innermost last */
  char open_ch[MLP_MAX_NESTING];
  MlpLoc open_loc[MLP_MAX_NESTING];
  int stmt_start;          /* no token yet on this line or since a ';': a statement may start */
  int stop;                /* give up: nesting too deep or too many errors */
  /* error recovery (see mlp_lex_next) */
  int base;                /* brackets open where the parser resumes */
  int last_kind, last_start, last_replayed; /* the last token: kind, could start a statement, sent twice */
  MlpValue last_val;
  MlpLoc last_loc;
  int queued;              /* send the last token again after RESYNC */
  int reported;            /* 1 + the offset of the token the last syntax error was reported at */
} MlpParser;
}

%code provides {
#define YYSTYPE MLP_YYSTYPE
#define YYLTYPE MLP_YYLTYPE

/* The parser's yylex: the flex scanner plus error resynchronisation;
 * recovering is YYRECOVERING(), true while the parser waits for RESYNC. */
int mlp_lex_next(MlpValue *val, MlpLoc *loc, yyscan_t scanner, MlpParser *P, int recovering);

/* The state before the first byte of src (parse.c). */
void mlp_parser_init(MlpParser *P, MlpArena *a, const MlpSource *src, MlpDiag *d);
}

%code {
#include "lex.yy.h"

#undef yylex
#define yylex(val, loc, scanner) mlp_lex_next(val, loc, scanner, P, YYRECOVERING())

/* Spans run from the first symbol's start to the last one's end; an empty
 * rule gets an empty span where the previous symbol ended. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                      \
  do {                                                                   \
    if (N) {                                                             \
      (Cur) = YYRHSLOC(Rhs, 1);                                          \
      (Cur).last_line = YYRHSLOC(Rhs, N).last_line;                      \
      (Cur).last_column = YYRHSLOC(Rhs, N).last_column;                  \
    } else {                                                             \
      (Cur) = YYRHSLOC(Rhs, 0);                                          \
      (Cur).first_line = (Cur).last_line;                                \
      (Cur).first_column = (Cur).last_column + 1;                        \
    }                                                                    \
  } while (0)

static void yyerror(const MlpLoc *loc, yyscan_t scanner, MlpParser *P, const char *msg);

/* Append a node to a list of the tree (kids of a block, call or list). */
static void push(MlpParser *P, MlpVec *v, MlpNode *n) { mlp_vec_push(P->arena, v, n); }
}

%token <name> NAME "identifier"
%token <node> NUM "number" STR "string"
%token USE "'use'" IN "'in'" TRUE "'true'" FALSE "'false'" DOTDOT "'..'"
%token COMMA "','" EQ "'='" LBRACE "'{'" RBRACE "'}'" LPAREN "'('" RPAREN "')'" LBRACK "'['" RBRACK "']'"
%token DOT "'.'" SEMI "';'" MINUS "'-'"
%token RESYNC "the end of a broken statement"

%type <name> dotted path
%type <node> use definition statement call arg expr primary
%type <vec> block stmts args arglist items itemlist

%initial-action { @$ = (MlpLoc){P->src, 1, 1, 1, 1}; }

%%

/* ---- the file: uses and definitions --------------------------------- */
file:
  %empty
| file use                    { push(P, &P->uses, $2); }
| file definition             { push(P, &P->defs, $2); }
| file error RESYNC           { yyerrok; }
;

use:
  USE dotted                  { $$ = mlp_ast_named(P->arena, MLP_ND_USE, @$, @2, $2); }
;

dotted:
  NAME
| dotted DOT NAME             { $$ = mlp_arena_printf(P->arena, "%s.%s", $1, $3); }
;

definition:
  NAME NAME block             { $$ = mlp_ast_named(P->arena, MLP_ND_DEF, @$, @2, $2);
                                $$->keyword = $1;
                                $$->kids = $3; }
;

/* ---- blocks and statements ------------------------------------------ */
block:
  LBRACE stmts RBRACE         { $$ = $2; }
;

stmts:
  %empty                      { $$ = (MlpVec){0}; }
| stmts statement             { $$ = $1; push(P, &$$, $2); }
| stmts statement SEMI        { $$ = $1; push(P, &$$, $2); }
| stmts error RESYNC          { $$ = $1; yyerrok; }
;

statement:
  NAME block                  { $$ = mlp_ast_named(P->arena, MLP_ND_BLOCK, @$, @1, $1); $$->kids = $2; }
| NAME EQ expr                { $$ = mlp_ast_named(P->arena, MLP_ND_ASSIGN, @$, @1, $1); $$->value = $3; }
| path IN expr                { $$ = mlp_ast_named(P->arena, MLP_ND_IN, @$, @1, $1); $$->value = $3; }
| call
;

/* What a search space searches: a hyperparameter, or a setting reached by
 * dots and op indices (model.dense[1].units), kept as written. */
path:
  NAME
| path DOT NAME               { $$ = mlp_arena_printf(P->arena, "%s.%s", $1, $3); }
| path LBRACK NUM RBRACK      { $$ = mlp_arena_printf(P->arena, "%s[%s]", $1, $3->text ? $3->text : "?"); }
;

call:
  NAME LPAREN args RPAREN     { $$ = mlp_ast_named(P->arena, MLP_ND_CALL, @$, @1, $1); $$->kids = $3; }
;

args:
  %empty                      { $$ = (MlpVec){0}; }
| arglist
| arglist COMMA
;

arglist:
  arg                         { $$ = (MlpVec){0}; push(P, &$$, $1); }
| arglist COMMA arg           { $$ = $1; push(P, &$$, $3); }
;

arg:
  expr                        { $$ = mlp_ast_new(P->arena, MLP_ND_ARG, @$); $$->value = $1; }
| NAME EQ expr                { $$ = mlp_ast_named(P->arena, MLP_ND_ARG, @$, @1, $1); $$->value = $3; }
;

/* ---- expressions ---------------------------------------------------- */
expr:
  primary
| primary DOTDOT primary      { $$ = mlp_ast_new(P->arena, MLP_ND_RANGE, @$);
                                $$->value = $1;
                                $$->value2 = $3; }
;

primary:
  NUM
| MINUS NUM                   { $$ = mlp_ast_negate(P->arena, $2, @$); }
| STR
| NAME                        { $$ = mlp_ast_named(P->arena, MLP_ND_IDENT, @$, @1, $1); }
| TRUE                        { $$ = mlp_ast_new(P->arena, MLP_ND_BOOL, @$); $$->num = 1; }
| FALSE                       { $$ = mlp_ast_new(P->arena, MLP_ND_BOOL, @$); }
| LBRACK items RBRACK         { $$ = mlp_ast_new(P->arena, MLP_ND_LIST, @$); $$->kids = $2; }
| call
;

items:
  %empty                      { $$ = (MlpVec){0}; }
| itemlist
| itemlist COMMA
;

itemlist:
  expr                        { $$ = (MlpVec){0}; push(P, &$$, $1); }
| itemlist COMMA expr         { $$ = $1; push(P, &$$, $3); }
;

%%

static void yyerror(const MlpLoc *loc, yyscan_t scanner, MlpParser *P, const char *msg) {
  if (!P->stop) mlp_diag_error(P->diag, *loc, "%s", msg);
  P->stop = 1;
}

/* How a token is named in "expected ..." lists. */
static const char *token_desc(yysymbol_kind_t k) {
  switch (k) {
  case YYSYMBOL_NAME: return "a name";
  case YYSYMBOL_NUM: return "a number";
  case YYSYMBOL_STR: return "a string";
  case YYSYMBOL_YYEOF: return "end of file";
  default: return yysymbol_name(k);
  }
}

/* The lookahead as the user wrote it: "'epochs'", "'}'", "a string". */
/* A token's text as written, cut short when long. */
static const char *lexeme(MlpParser *P, int off, int len) {
  int n = len > 24 ? 24 : len;
  return mlp_arena_printf(P->arena, "%.*s%s", n, P->src->text + off, n < len ? "..." : "");
}

static const char *found_desc(MlpParser *P, yysymbol_kind_t k) {
  if (k == YYSYMBOL_YYEOF) return "end of file";
  if (k == YYSYMBOL_STR) return "a string";
  return mlp_arena_printf(P->arena, "'%s'", lexeme(P, P->tok_off, P->tok_len));
}

static int has(const yysymbol_kind_t *exp, int n, yysymbol_kind_t k) {
  for (int i = 0; i < n; i++)
    if (exp[i] == k) return 1;
  return 0;
}

/* At the end of input with a bracket still open, say which one. */
static void report_unterminated(MlpParser *P, const MlpLoc *at) {
  char c = P->open_ch[P->nopen - 1];
  const char *what = c == '{' ? "block" : c == '(' ? "argument list" : "list";
  char close = c == '{' ? '}' : c == '(' ? ')' : ']';
  mlp_diag_error(P->diag, *at, "unterminated %s: missing '%c'", what, close);
  mlp_diag_note(P->diag, P->open_loc[P->nopen - 1], "the '%c' opened here is never closed", c);
}

/* Syntax errors in the user's terms. The expected set (exact, thanks to
 * LAC) tells where the parser was: in an expression, after a statement's
 * name, at the start of a statement or definition, or inside a list. */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, MlpParser *P) {
  yysymbol_kind_t tok = yypcontext_token(ctx);
  const MlpLoc *at = yypcontext_location(ctx);
  if (P->stop || mlp_diag_full(P->diag)) return 0;
  if (P->last_replayed && P->reported == P->tok_off + 1) return 0; /* this token was reported already */
  P->reported = P->tok_off + 1;
  if (tok == YYSYMBOL_YYEOF && P->nopen > 0) {
    report_unterminated(P, at);
    return 0;
  }
  yysymbol_kind_t exp[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
  if (n < 0) n = 0; /* LAC ran out of memory: say only what was found */
  const char *found = found_desc(P, tok);
  const char *prev = lexeme(P, P->prev_off, P->prev_len);
  MlpDiag *d = P->diag;
  if (n == 1 && exp[0] == YYSYMBOL_NUM) {
    mlp_diag_error(d, *at, "expected a number after '-', found %s", found);
  } else if (has(exp, n, YYSYMBOL_NUM)) {
    mlp_diag_error(d, *at, "expected an expression, found %s", found);
  } else if (has(exp, n, YYSYMBOL_EQ) && has(exp, n, YYSYMBOL_LBRACE)) {
    mlp_diag_error(d, *at, "expected '=', '(' or '{' after '%s', found %s", prev, found);
  } else if (n == 1 && exp[0] == YYSYMBOL_NAME && P->prev_kind == MLP_TK_NAME &&
             P->prev_loc.first_column > 1 &&
             (tok == YYSYMBOL_LBRACE || tok == YYSYMBOL_EQ || tok == YYSYMBOL_LPAREN)) {
    /* an indented statement at file level: the block it belongs to was closed */
    mlp_diag_error(d, P->prev_loc, "'%s' is outside any block; is a '{' missing before it, or a '}' extra?",
                   prev);
  } else if (n == 1 && exp[0] == YYSYMBOL_NAME) {
    mlp_diag_error(d, *at, "expected a name after '%s', found %s", prev, found);
  } else if (n == 1 && exp[0] == YYSYMBOL_LBRACE) {
    mlp_diag_error(d, *at, "expected '{' after '%s', found %s", prev, found);
  } else if (has(exp, n, YYSYMBOL_USE)) {
    if (tok == YYSYMBOL_RBRACE || tok == YYSYMBOL_RPAREN || tok == YYSYMBOL_RBRACK)
      mlp_diag_error(d, *at, "unexpected %s", found);
    else
      mlp_diag_error(d, *at, "expected 'use' or a definition like 'pipeline NAME { ... }', found %s", found);
  } else if (tok == YYSYMBOL_DOTDOT) {
    mlp_diag_error(d, *at, "unexpected '..': a range is two values with one '..' between them");
  } else if (has(exp, n, YYSYMBOL_NAME) && has(exp, n, YYSYMBOL_RBRACE)) {
    mlp_diag_error(d, *at, "expected a statement or '}', found %s", found);
  } else {
    /* A plain list, leaving out the optional '..' and ';' unless alone. */
    const char *list = "";
    int m = 0;
    for (int i = 0; i < n; i++)
      if (n == 1 || (exp[i] != YYSYMBOL_DOTDOT && exp[i] != YYSYMBOL_SEMI)) exp[m++] = exp[i];
    for (int i = 0; i < m; i++)
      list = mlp_arena_printf(P->arena, "%s%s%s", list, i == 0 ? "" : i == m - 1 ? " or " : ", ",
                              token_desc(exp[i]));
    if (m) mlp_diag_error(d, *at, "expected %s, found %s", list, found);
    else mlp_diag_error(d, *at, "unexpected %s", found);
  }
  return 0;
}
