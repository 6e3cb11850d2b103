/* check_lexer.c — the tokens of grammar/mlp.l: kinds, spans, numbers,
 * strings and their escapes, comments, and lexical errors with their place.
 * The lexer is driven directly, one token at a time, as the parser does. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.tab.h"
#include "lex.yy.h"

enum { MAXTOK = 64 };

typedef struct {
  MlpArena arena;
  MlpParser P;
  int n;
  int kind[MAXTOK];
  MLP_YYSTYPE val[MAXTOK];
  MlpLoc loc[MAXTOK];
  char *diag;
  int nerr;
} Lexed;

/* All tokens of text (up to and including the end of input). */
static void lex_len(Lexed *L, const char *text, int len) {
  memset(L, 0, sizeof *L);
  mlp_arena_init(&L->arena);
  size_t sz;
  FILE *f = open_memstream(&L->diag, &sz);
  MlpDiag d;
  mlp_diag_init(&d, f);
  d.color = false;
  mlp_parser_init(&L->P, &L->arena, mlp_source_from_string(&L->arena, "t.mlp", text, len), &d);
  yyscan_t sc;
  ck_assert_int_eq(mlp_yylex_init_extra(&L->P, &sc), 0);
  YY_BUFFER_STATE b = mlp_yy_scan_bytes(text, len, sc);
  do {
    ck_assert_int_lt(L->n, MAXTOK);
    L->kind[L->n] = mlp_yylex(&L->val[L->n], &L->loc[L->n], sc);
  } while (L->kind[L->n++] != MLP_TK_YYEOF);
  mlp_yy_delete_buffer(b, sc);
  mlp_yylex_destroy(sc);
  L->nerr = d.nerr;
  fclose(f);
}

static void lex(Lexed *L, const char *text) { lex_len(L, text, (int)strlen(text)); }

static void lex_free(Lexed *L) {
  free(L->diag);
  mlp_arena_free(&L->arena);
}

static void assert_kinds(const Lexed *L, const int *kinds, int n) {
  ck_assert_int_eq(L->n, n);
  for (int i = 0; i < n; i++)
    ck_assert_msg(L->kind[i] == kinds[i], "token %d: kind %d, want %d", i, L->kind[i], kinds[i]);
}

static void assert_loc(MlpLoc l, int fl, int fc, int ll, int lc) {
  ck_assert_int_eq(l.first_line, fl);
  ck_assert_int_eq(l.first_column, fc);
  ck_assert_int_eq(l.last_line, ll);
  ck_assert_int_eq(l.last_column, lc);
}

START_TEST(lex_punctuation_and_names) {
  Lexed L;
  lex(&L, "pipeline p {\n  a = f(x, [1]); b in 0 .. 1 - c.d\n}");
  int want[] = {MLP_TK_NAME, MLP_TK_NAME, MLP_TK_LBRACE, MLP_TK_NAME, MLP_TK_EQ, MLP_TK_NAME,
                MLP_TK_LPAREN, MLP_TK_NAME, MLP_TK_COMMA, MLP_TK_LBRACK, MLP_TK_NUM, MLP_TK_RBRACK,
                MLP_TK_RPAREN, MLP_TK_SEMI, MLP_TK_NAME, MLP_TK_IN, MLP_TK_NUM, MLP_TK_DOTDOT, MLP_TK_NUM,
                MLP_TK_MINUS, MLP_TK_NAME, MLP_TK_DOT, MLP_TK_NAME, MLP_TK_RBRACE, MLP_TK_YYEOF};
  assert_kinds(&L, want, (int)(sizeof want / sizeof *want));
  ck_assert_str_eq(L.val[0].name, "pipeline");
  ck_assert_str_eq(L.val[5].name, "f");
  assert_loc(L.loc[0], 1, 1, 1, 8);
  assert_loc(L.loc[3], 2, 3, 2, 3);
  assert_loc(L.loc[17], 2, 25, 2, 26); /* the ".." */
  assert_loc(L.loc[23], 3, 1, 3, 1);
  ck_assert_int_eq(L.nerr, 0);
  lex_free(&L);
}
END_TEST

START_TEST(lex_keywords_are_whole_words) {
  Lexed L;
  lex(&L, "use in true false user inx true_ _x9 False");
  int want[] = {MLP_TK_USE, MLP_TK_IN, MLP_TK_TRUE, MLP_TK_FALSE, MLP_TK_NAME, MLP_TK_NAME,
                MLP_TK_NAME, MLP_TK_NAME, MLP_TK_NAME, MLP_TK_YYEOF};
  assert_kinds(&L, want, 10);
  ck_assert_str_eq(L.val[4].name, "user");
  ck_assert_str_eq(L.val[7].name, "_x9");
  lex_free(&L);
}
END_TEST

/* Each number: its text, value and whether it was written as an integer. */
START_TEST(lex_numbers) {
  static const struct {
    const char *text;
    double value;
    int is_int;
  } cases[] = {{"64", 64, 1},        {"0.2", 0.2, 0},  {".5", 0.5, 0},   {"1e-4", 1e-4, 0},
               {"1E+3", 1000, 0},    {"2.5e3", 2500, 0}, {"007", 7, 1},  {"0", 0, 1},
               {"9007199254740992", 9007199254740992.0, 1}, {"1e308", 1e308, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    Lexed L;
    lex(&L, cases[i].text);
    ck_assert_int_eq(L.n, 2);
    ck_assert_int_eq(L.kind[0], MLP_TK_NUM);
    ck_assert_str_eq(L.val[0].node->text, cases[i].text);
    ck_assert_double_eq(L.val[0].node->num, cases[i].value);
    ck_assert_int_eq(L.val[0].node->is_int, cases[i].is_int);
    ck_assert_int_eq(L.nerr, 0);
    lex_free(&L);
  }
}
END_TEST

START_TEST(lex_number_edges) {
  Lexed L;
  lex(&L, "1..10 1. ..5 1...5");
  int want[] = {MLP_TK_NUM, MLP_TK_DOTDOT, MLP_TK_NUM, MLP_TK_NUM, MLP_TK_DOT, MLP_TK_DOTDOT, MLP_TK_NUM,
                MLP_TK_NUM, MLP_TK_DOTDOT, MLP_TK_NUM, MLP_TK_YYEOF};
  assert_kinds(&L, want, 11);
  ck_assert_str_eq(L.val[0].node->text, "1");
  ck_assert_str_eq(L.val[2].node->text, "10");
  ck_assert_str_eq(L.val[6].node->text, "5");
  ck_assert_str_eq(L.val[9].node->text, ".5");
  ck_assert_int_eq(L.nerr, 0);
  lex_free(&L);
}
END_TEST

START_TEST(lex_number_errors) {
  Lexed L;
  lex(&L, "a 1e999\n  1e-400 9007199254740993\n12abc 0x1F 1e 2.5E-");
  ck_assert_int_eq(L.nerr, 7);
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:1:3: error: number '1e999' is out of range\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:3: error: number '1e-400' is out of range\n"));
  ck_assert_ptr_nonnull(
      strstr(L.diag, "t.mlp:2:10: error: integer '9007199254740993' is too large (the limit is 2^53)\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:3:1: error: invalid number '12abc'\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:3:7: error: invalid number '0x1F'\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:3:12: error: invalid number '1e'\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:3:15: error: invalid number '2.5E-'\n"));
  /* each bad number is still one number token, so parsing goes on */
  int want[] = {MLP_TK_NAME, MLP_TK_NUM, MLP_TK_NUM, MLP_TK_NUM, MLP_TK_NUM, MLP_TK_NUM, MLP_TK_NUM,
                MLP_TK_NUM, MLP_TK_YYEOF};
  assert_kinds(&L, want, 9);
  lex_free(&L);
}
END_TEST

START_TEST(lex_string_escapes) {
  Lexed L;
  lex(&L, "\"a\\n\\t\\r\\\\\\\"\\0\\x41\\u{e9}\\u{1F600}#\" \"\"");
  ck_assert_int_eq(L.nerr, 0);
  ck_assert_int_eq(L.kind[0], MLP_TK_STR);
  const char want[] = "a\n\t\r\\\"\0A\xc3\xa9\xf0\x9f\x98\x80#";
  ck_assert_int_eq(L.val[0].node->len, (int)sizeof want - 1);
  ck_assert_mem_eq(L.val[0].node->text, want, sizeof want - 1);
  ck_assert_int_eq(L.kind[1], MLP_TK_STR);
  ck_assert_int_eq(L.val[1].node->len, 0);
  ck_assert_int_eq(L.kind[2], MLP_TK_YYEOF);
  ck_assert_int_eq(L.P.comments.len, 0); /* '#' inside a string starts no comment */
  lex_free(&L);
}
END_TEST

START_TEST(lex_string_any_bytes) {
  /* raw tabs, NULs and invalid UTF-8 inside a string are kept as they are */
  const char text[] = "\"\t\0\xff\xc3\"";
  Lexed L;
  lex_len(&L, text, (int)sizeof text - 1);
  ck_assert_int_eq(L.nerr, 0);
  ck_assert_int_eq(L.val[0].node->len, 4);
  ck_assert_mem_eq(L.val[0].node->text, "\t\0\xff\xc3", 4);
  lex_free(&L);
}
END_TEST

START_TEST(lex_string_errors) {
  Lexed L;
  lex(&L, "x = \"ab\\qc\"\ny = \"\\x4g\" z = \"\\u{110000}\\u{d800}\\u41\"\nw = \"open\nv = \"end\\");
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:1:8: error: unknown escape sequence"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:6: error: '\\x' must be followed by two hex digits\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:17: error: '\\u' must be followed by a code point"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:27: error: '\\u' must be followed"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:35: error: '\\u' must be followed"));
  /* an unterminated string is reported at its opening quote */
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:3:5: error: unterminated string: missing '\"'"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:4:5: error: unterminated string"));
  ck_assert_int_eq(L.nerr, 7);
  /* the bad escape is left out; the rest of the string is kept */
  ck_assert_str_eq(L.val[2].node->text, "abc");
  /* the unterminated string ends at the line's end; the next line lexes normally */
  ck_assert_str_eq(L.val[11].node->text, "open");
  ck_assert_int_eq(L.kind[12], MLP_TK_NAME);
  ck_assert_str_eq(L.val[12].name, "v");
  lex_free(&L);
}
END_TEST

START_TEST(lex_stray_characters) {
  const char text[] = "a @ b\n $% c \x01\n\xff\xfe\0 d";
  Lexed L;
  lex_len(&L, text, (int)sizeof text - 1);
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:1:3: error: unexpected character '@'\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:2: error: unexpected characters '$%'\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:2:7: error: unexpected character '\\x01'\n"));
  ck_assert_ptr_nonnull(strstr(L.diag, "t.mlp:3:1: error: unexpected characters '\\xff\\xfe\\x00'\n"));
  ck_assert_int_eq(L.nerr, 4);
  /* each run is one error token and lexing goes on after it */
  int want[] = {MLP_TK_NAME, MLP_TK_MLP_YYerror, MLP_TK_NAME, MLP_TK_MLP_YYerror, MLP_TK_NAME,
                MLP_TK_MLP_YYerror, MLP_TK_MLP_YYerror, MLP_TK_NAME, MLP_TK_YYEOF};
  assert_kinds(&L, want, 9);
  ck_assert_str_eq(L.val[7].name, "d");
  lex_free(&L);
}
END_TEST

START_TEST(lex_comments_and_crlf) {
  Lexed L;
  lex(&L, "# first\r\na = 1  # trailing \"x\"\r\n\r\n#\r\nb");
  ck_assert_int_eq(L.nerr, 0);
  int want[] = {MLP_TK_NAME, MLP_TK_EQ, MLP_TK_NUM, MLP_TK_NAME, MLP_TK_YYEOF};
  assert_kinds(&L, want, 5);
  assert_loc(L.loc[0], 2, 1, 2, 1);
  assert_loc(L.loc[3], 5, 1, 5, 1);
  ck_assert_int_eq(L.P.comments.len, 3);
  const MlpComment *c0 = L.P.comments.items[0], *c1 = L.P.comments.items[1], *c2 = L.P.comments.items[2];
  ck_assert_str_eq(c0->text, "# first");
  ck_assert_str_eq(c1->text, "# trailing \"x\"");
  ck_assert_str_eq(c2->text, "#");
  assert_loc(c1->loc, 2, 8, 2, 22);
  assert_loc(c2->loc, 4, 1, 4, 2);
  lex_free(&L);
}
END_TEST

START_TEST(lex_end_of_input_location) {
  Lexed L;
  lex(&L, "ab  \n\n");
  /* the end is reported just after the last token, not on a blank line */
  assert_loc(L.loc[1], 1, 3, 1, 3);
  lex_free(&L);
  lex(&L, "");
  ck_assert_int_eq(L.n, 1);
  assert_loc(L.loc[0], 1, 1, 1, 1);
  lex_free(&L);
}
END_TEST

Suite *lexer_suite(void);
Suite *lexer_suite(void) {
  Suite *s = suite_create("lexer");
  TCase *tc = tcase_create("tokens");
  tcase_add_test(tc, lex_punctuation_and_names);
  tcase_add_test(tc, lex_keywords_are_whole_words);
  tcase_add_test(tc, lex_numbers);
  tcase_add_test(tc, lex_number_edges);
  tcase_add_test(tc, lex_number_errors);
  tcase_add_test(tc, lex_string_escapes);
  tcase_add_test(tc, lex_string_any_bytes);
  tcase_add_test(tc, lex_string_errors);
  tcase_add_test(tc, lex_stray_characters);
  tcase_add_test(tc, lex_comments_and_crlf);
  tcase_add_test(tc, lex_end_of_input_location);
  suite_add_tcase(s, tc);
  return s;
}
