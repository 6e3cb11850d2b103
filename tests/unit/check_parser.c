/* check_parser.c — grammar/mlp.y through mlp_parse: the tree of every
 * construct, spans, the wording and place of syntax errors, several errors
 * in one run without cascades, and hostile input (deep nesting, NULs). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "parseutil.h"

/* The sketch of the language from the design notes, verbatim. */
static const char sketch[] =
    "pipeline iris {\n"
    "  data {\n"
    "    source = csv(\"data/iris.csv\")          # columns and types inferred at compile time\n"
    "    target = species\n"
    "    clean {\n"
    "      drop_duplicates()\n"
    "      impute(numeric, strategy = median)\n"
    "      clip_outliers(numeric, zscore = 3.0)\n"
    "      standardize(numeric)\n"
    "      onehot(categorical)\n"
    "    }\n"
    "    split(validation = 0.15, test = 0.15, stratify = true, seed = 42)\n"
    "  }\n"
    "  model {\n"
    "    dense(16, activation = relu)\n"
    "    dropout(0.2)\n"
    "    dense(16, activation = relu)\n"
    "    output(activation = softmax)           # width from the target's classes\n"
    "  }\n"
    "  hyperparameters {\n"
    "    optimizer = adam(lr = 0.001)\n"
    "    batch = 32\n"
    "    epochs = 100\n"
    "    schedule = cosine(warmup = 5)\n"
    "  }\n"
    "  validation { smoke(subset = 0.1, epochs = 3)  early_stopping(monitor = val_loss, patience = 10) }\n"
    "  tuning     { search = random(trials = 20)  lr in logrange(1e-4, 1e-1)  folds = 5 }\n"
    "  analysis   { metrics = [accuracy, f1, confusion]  report = \"report.html\" }\n"
    "  deploy     { version = \"1.0.0\"  onnx = \"iris.onnx\"  quantize = int8  "
    "predictor = \"iris_predict\" }\n"
    "}\n";

static const MlpNode *kid(const MlpNode *n, int i) {
  ck_assert_int_lt(i, n->kids.len);
  return n->kids.items[i];
}

START_TEST(parse_design_sketch) {
  ParseRun r;
  parse_run(&r, sketch);
  ck_assert_str_eq(r.diag, "");
  ck_assert_int_eq(r.nerr, 0);
  const MlpNode *file = r.ast->file;
  ck_assert_int_eq(file->kids.len, 1);
  const MlpNode *def = kid(file, 0);
  ck_assert_int_eq(def->kind, MLP_ND_DEF);
  ck_assert_str_eq(def->keyword, "pipeline");
  ck_assert_str_eq(def->name, "iris");
  static const char *sections[] = {"data",   "model",    "hyperparameters", "validation",
                                   "tuning", "analysis", "deploy"};
  ck_assert_int_eq(def->kids.len, 7);
  for (int i = 0; i < 7; i++) {
    ck_assert_int_eq(kid(def, i)->kind, MLP_ND_BLOCK);
    ck_assert_str_eq(kid(def, i)->name, sections[i]);
  }
  /* two calls on one line, each with its named arguments */
  const MlpNode *val = kid(def, 3);
  ck_assert_int_eq(val->kids.len, 2);
  ck_assert_str_eq(kid(val, 1)->name, "early_stopping");
  ck_assert_int_eq(kid(val, 1)->kind, MLP_ND_CALL);
  ck_assert_str_eq(kid(kid(val, 1), 1)->name, "patience");
  ck_assert_str_eq(kid(kid(val, 1), 1)->value->text, "10");
  /* a search space: name in call */
  const MlpNode *lr = kid(kid(def, 4), 1);
  ck_assert_int_eq(lr->kind, MLP_ND_IN);
  ck_assert_str_eq(lr->name, "lr");
  ck_assert_int_eq(lr->value->kind, MLP_ND_CALL);
  ck_assert_double_eq(kid(lr->value, 0)->value->num, 1e-4);
  /* the clean block nested in data */
  const MlpNode *clean = kid(kid(def, 0), 2);
  ck_assert_str_eq(clean->name, "clean");
  ck_assert_int_eq(clean->kids.len, 5);
  ck_assert_int_eq(r.ast->comments.len, 2);
  parse_run_free(&r);
}
END_TEST

/* Every construct once, against the --dump=ast form. Uses come first in the
 * file's kids wherever they are written. */
START_TEST(parse_every_construct) {
  ParseRun r;
  parse_run(&r, "pipeline p {\n"
                "  a = -0.5\n"
                "  b in 0.1 .. 0.5\n"
                "  c = [1, \"s\", true, false, [], f(2, k = v),]\n"
                "  d(1, n = 2,);\n"
                "  e { }\n"
                "  f = - 3\n"
                "}\n"
                "use std.nets\n"
                "recipe r { x = 1; y = g() }\n"
                "use a.b.c\n");
  ck_assert_str_eq(r.diag, "");
  ck_assert_str_eq(parse_run_dump(&r), "file @1:1\n"
                                       "  use std.nets @9:1\n"
                                       "  use a.b.c @11:1\n"
                                       "  def pipeline p @1:1\n"
                                       "    assign a @2:3\n"
                                       "      num -0.5 @2:7\n"
                                       "    in b @3:3\n"
                                       "      range @3:8\n"
                                       "        num 0.1 @3:8\n"
                                       "        num 0.5 @3:15\n"
                                       "    assign c @4:3\n"
                                       "      list @4:7\n"
                                       "        num 1 @4:8\n"
                                       "        str \"s\" @4:11\n"
                                       "        bool true @4:16\n"
                                       "        bool false @4:22\n"
                                       "        list @4:29\n"
                                       "        call f @4:33\n"
                                       "          arg @4:35\n"
                                       "            num 2 @4:35\n"
                                       "          arg k @4:38\n"
                                       "            ident v @4:42\n"
                                       "    call d @5:3\n"
                                       "      arg @5:5\n"
                                       "        num 1 @5:5\n"
                                       "      arg n @5:8\n"
                                       "        num 2 @5:12\n"
                                       "    block e @6:3\n"
                                       "    assign f @7:3\n"
                                       "      num -3 @7:7\n"
                                       "  def recipe r @10:1\n"
                                       "    assign x @10:12\n"
                                       "      num 1 @10:16\n"
                                       "    assign y @10:19\n"
                                       "      call g @10:23\n");
  parse_run_free(&r);
}
END_TEST

START_TEST(parse_values_and_spans) {
  ParseRun r;
  parse_run(&r, "architecture a {\n  x = -7\n  s = \"a\\0b\"\n  y = -1e-3 .. 2\n}");
  ck_assert_int_eq(r.nerr, 0);
  const MlpNode *def = kid(r.ast->file, 0);
  /* a definition spans its name to its '}'; its name_loc is the name */
  ck_assert_int_eq(def->loc.first_line, 1);
  ck_assert_int_eq(def->loc.last_line, 5);
  ck_assert_int_eq(def->loc.last_column, 1);
  ck_assert_int_eq(def->name_loc.first_column, 14);
  ck_assert_str_eq(def->keyword, "architecture");
  const MlpNode *x = kid(def, 0)->value;
  ck_assert_int_eq(x->kind, MLP_ND_NUM);
  ck_assert_double_eq(x->num, -7);
  ck_assert(x->is_int);
  ck_assert_str_eq(x->text, "-7");
  ck_assert_int_eq(x->loc.first_column, 7); /* the sign is part of the number */
  const MlpNode *s = kid(def, 1)->value;
  ck_assert_int_eq(s->len, 3);
  ck_assert_mem_eq(s->text, "a\0b", 3);
  const MlpNode *y = kid(def, 2)->value;
  ck_assert_int_eq(y->kind, MLP_ND_RANGE);
  ck_assert_double_eq(y->value->num, -1e-3);
  ck_assert(!y->value->is_int);
  ck_assert_double_eq(y->value2->num, 2);
  ck_assert_int_eq(y->loc.first_column, 7);
  ck_assert_int_eq(y->loc.last_column, 16);
  parse_run_free(&r);
}
END_TEST

START_TEST(parse_empty_and_blank) {
  static const char *texts[] = {"", "\n\n", "# only a comment\n", "  \r\n\t"};
  for (int i = 0; i < 4; i++) {
    ParseRun r;
    parse_run(&r, texts[i]);
    ck_assert_int_eq(r.nerr, 0);
    ck_assert_ptr_nonnull(r.ast->file);
    ck_assert_int_eq(r.ast->file->kind, MLP_ND_FILE);
    ck_assert_int_eq(r.ast->file->kids.len, 0);
    parse_run_free(&r);
  }
}
END_TEST

/* One error each: the first line of the diagnostics, exactly. */
static const struct {
  const char *text, *first;
} error_cases[] = {
    {"pipeline p {\n  source csv(\"x\")\n}",
     "t.mlp:2:10: error: expected '=', '(' or '{' after 'source', found 'csv'"},
    {"pipeline p {\n  x = \n}", "t.mlp:3:1: error: expected an expression, found '}'"},
    {"pipeline p { x = f(a = ) }", "t.mlp:1:24: error: expected an expression, found ')'"},
    {"}", "t.mlp:1:1: error: unexpected '}'"},
    {"use", "t.mlp:1:4: error: expected a name after 'use', found end of file"},
    {"use a.", "t.mlp:1:7: error: expected a name after '.', found end of file"},
    {"pipeline { }", "t.mlp:1:10: error: expected a name after 'pipeline', found '{'"},
    {"pipeline p x", "t.mlp:1:12: error: expected '{' after 'p', found 'x'"},
    {"pipeline p { dense(16 activation = relu) }",
     "t.mlp:1:23: error: expected ',' or ')', found 'activation'"},
    {"pipeline p { x = [1 2] }", "t.mlp:1:21: error: expected ',' or ']', found '2'"},
    {"pipeline p { x = 1 .. 2 .. 3 }",
     "t.mlp:1:25: error: unexpected '..': a range is two values with one '..' between them"},
    {"pipeline p { x = - y }", "t.mlp:1:20: error: expected a number after '-', found 'y'"},
    {"pipeline p { x = (1) }", "t.mlp:1:18: error: expected an expression, found '('"},
    {"pipeline p { use = 1 }", "t.mlp:1:14: error: expected a statement or '}', found 'use'"},
    {"pipeline p { a = 1 ;; }", "t.mlp:1:21: error: expected a statement or '}', found ';'"},
    {"pipeline p { x = \"a\" \"b\" }", "t.mlp:1:22: error: expected a statement or '}', found a string"},
    {"42", "t.mlp:1:1: error: expected 'use' or a definition like 'pipeline NAME { ... }', found '42'"},
    {"pipeline p { x = f(1, 2", "t.mlp:1:24: error: unterminated argument list: missing ')'"},
    {"pipeline p { x = [1,\n", "t.mlp:1:21: error: unterminated list: missing ']'"},
};

START_TEST(parse_error_messages) {
  ParseRun r;
  parse_run(&r, error_cases[_i].text);
  ck_assert_int_eq(r.nerr, 1);
  size_t n = strlen(error_cases[_i].first);
  ck_assert_msg(strncmp(r.diag, error_cases[_i].first, n) == 0 && r.diag[n] == '\n', "for %s\ngot:\n%s",
                error_cases[_i].text, r.diag);
  parse_run_free(&r);
}
END_TEST

START_TEST(parse_unterminated_block_points_at_brace) {
  ParseRun r;
  parse_run(&r, "pipeline p {\n  data {\n    x = 1\n  model { }\n");
  ck_assert_int_eq(r.nerr, 1);
  ck_assert_str_eq(r.diag, "t.mlp:4:12: error: unterminated block: missing '}'\n"
                           "    4 |   model { }\n"
                           "      |            ^\n"
                           "t.mlp:2:8: note: the '{' opened here is never closed\n"
                           "    2 |   data {\n"
                           "      |        ^\n");
  parse_run_free(&r);
}
END_TEST

/* Each broken line gets one message, and nothing else does. */
/* A block that lost its '{' is one error where it happened, plus a pointer
 * at the first section that ends up outside the pipeline; no more. */
START_TEST(parse_missing_brace_is_two_errors) {
  ParseRun r;
  parse_run(&r, "pipeline p {\n"
                "  data\n"
                "    source = csv(\"d.csv\")\n"
                "    target = y\n"
                "  }\n"
                "  model {\n"
                "    dense(8)\n"
                "  }\n"
                "  hyperparameters { batch = 4 }\n"
                "}\n"
                "recipe r { x() }\n");
  ck_assert_msg(r.nerr == 2, "%s", r.diag);
  ck_assert_ptr_nonnull(strstr(r.diag, "t.mlp:3:5: error: expected '=', '(' or '{' after 'data', "
                                       "found 'source'\n"));
  ck_assert_ptr_nonnull(strstr(r.diag, "t.mlp:6:3: error: 'model' is outside any block; is a '{' missing "
                                       "before it, or a '}' extra?\n"));
  /* parsing resumed at the next unindented line */
  ck_assert_str_eq(kid(r.ast->file, 1)->name, "r");
  parse_run_free(&r);
}
END_TEST

START_TEST(parse_several_errors_no_cascade) {
  ParseRun r;
  parse_run(&r, "pipeline p {\n"
                "  a = = 1\n"
                "  b = 2\n"
                "  c d\n"
                "  e = [1 2]\n"
                "  model {\n"
                "    dense(16 activation = relu)\n"
                "    g = f(1,\n"
                "  }\n"
                "  y = [\n"
                "  z = 3\n"
                "  ]\n"
                "  w = 1 @ 2; v = 3 $ 4\n"
                "  f = 3\n"
                "}\n"
                "pipeline q { g = ) }\n"
                "pipeline s { h = 1 }\n");
  static const char *want[] = {
      "t.mlp:2:7: error: expected an expression, found '='",
      "t.mlp:4:5: error: expected '=', '(' or '{' after 'c', found 'd'",
      "t.mlp:5:10: error: expected ',' or ']', found '2'",
      "t.mlp:7:14: error: expected ',' or ')', found 'activation'",
      "t.mlp:9:3: error: expected an expression, found '}'",
      "t.mlp:11:5: error: expected ',', '(' or ']', found '='",
      "t.mlp:13:9: error: unexpected character '@'",
      "t.mlp:13:20: error: unexpected character '$'",
      "t.mlp:16:18: error: expected an expression, found ')'",
  };
  int nwant = (int)(sizeof want / sizeof *want);
  ck_assert_msg(r.nerr == nwant, "%d errors:\n%s", r.nerr, r.diag);
  const char *p = r.diag;
  for (int i = 0; i < nwant; i++) {
    p = strstr(p, want[i]);
    ck_assert_msg(p != NULL, "missing (or out of order): %s\nin:\n%s", want[i], r.diag);
  }
  /* the parser went on: the statements after each error are in the tree */
  const MlpNode *pdef = kid(r.ast->file, 0), *s = kid(r.ast->file, 2);
  ck_assert_str_eq(s->name, "s");
  ck_assert_str_eq(kid(s, 0)->name, "h");
  const char *names[] = {"b", "model", "f"}; /* v = 3 goes with the rest of its line */
  ck_assert_int_eq(pdef->kids.len, 3);
  for (int i = 0; i < 3; i++) ck_assert_str_eq(kid(pdef, i)->name, names[i]);
  parse_run_free(&r);
}
END_TEST

START_TEST(parse_stops_after_max_errors) {
  char text[4096] = "pipeline p {\n";
  for (int i = 0; i < 40; i++) strcat(text, "  x = = 1\n");
  strcat(text, "}\n");
  ParseRun r;
  parse_run(&r, text);
  ck_assert_int_eq(r.nerr, 20);
  /* the 20th error is on line 21; nothing after it is reported */
  ck_assert_ptr_nonnull(strstr(r.diag, "t.mlp:21:7: error:"));
  ck_assert_ptr_null(strstr(r.diag, "t.mlp:22:"));
  ck_assert_ptr_nonnull(strstr(r.diag, "note: stopping after 20 errors"));
  parse_run_free(&r);
}
END_TEST

START_TEST(parse_deep_nesting_is_an_error) {
  int n = 100000;
  char *text = malloc((size_t)n * 2 + 64);
  strcpy(text, "pipeline p { x = ");
  size_t len = strlen(text);
  memset(text + len, '[', (size_t)n);
  strcpy(text + len + (size_t)n, " }");
  ParseRun r;
  parse_run(&r, text);
  ck_assert_int_eq(r.nerr, 1);
  ck_assert_ptr_nonnull(strstr(r.diag, "error: brackets nested too deeply (the limit is 200)"));
  parse_run_free(&r);
  /* just under the limit parses, and the tree is that deep */
  len = strlen("pipeline p { x = ");
  memset(text + len, '[', 198);
  memset(text + len + 198, ']', 198);
  strcpy(text + len + 396, " }");
  parse_run(&r, text);
  ck_assert_str_eq(r.diag, "");
  const MlpNode *v = kid(kid(r.ast->file, 0), 0)->value;
  int depth = 0;
  while (v->kids.len) v = kid(v, 0), depth++;
  ck_assert_int_eq(depth, 197);
  parse_run_free(&r);
  free(text);
}
END_TEST

START_TEST(parse_nul_and_invalid_utf8) {
  const char text[] = "pipeline p {\0 x = \xff\xfe 1\n y = \"\0\xc3\"\n z\xc3\xa9 = 2 }";
  ParseRun r;
  parse_run_len(&r, text, (int)sizeof text - 1);
  ck_assert_int_eq(r.nerr, 3);
  ck_assert_ptr_nonnull(strstr(r.diag, "t.mlp:1:13: error: unexpected character '\\x00'"));
  ck_assert_ptr_nonnull(strstr(r.diag, "t.mlp:1:19: error: unexpected characters '\\xff\\xfe'"));
  ck_assert_ptr_nonnull(strstr(r.diag, "t.mlp:3:3: error: unexpected characters '\\xc3\\xa9'"));
  /* the string on line 2 keeps its bytes */
  const MlpNode *y = kid(kid(r.ast->file, 0), 0);
  ck_assert_str_eq(y->name, "y");
  ck_assert_int_eq(y->value->len, 2);
  parse_run_free(&r);
}
END_TEST

Suite *parser_suite(void);
Suite *parser_suite(void) {
  Suite *s = suite_create("parser");
  TCase *tc = tcase_create("trees");
  tcase_add_test(tc, parse_design_sketch);
  tcase_add_test(tc, parse_every_construct);
  tcase_add_test(tc, parse_values_and_spans);
  tcase_add_test(tc, parse_empty_and_blank);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_loop_test(tc, parse_error_messages, 0, (int)(sizeof error_cases / sizeof *error_cases));
  tcase_add_test(tc, parse_unterminated_block_points_at_brace);
  tcase_add_test(tc, parse_missing_brace_is_two_errors);
  tcase_add_test(tc, parse_several_errors_no_cascade);
  tcase_add_test(tc, parse_stops_after_max_errors);
  tcase_add_test(tc, parse_deep_nesting_is_an_error);
  tcase_add_test(tc, parse_nul_and_invalid_utf8);
  suite_add_tcase(s, tc);
  return s;
}
