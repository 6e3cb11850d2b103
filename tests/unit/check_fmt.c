/* check_fmt.c — compiler/tools/fmt.c: golden input → output pairs, comments kept
 * in place, and on every spec we have (examples/, tests/diag/, the specs
 * below): fmt(fmt(x)) == fmt(x) and parse(fmt(x)) equals parse(x). */
#include <check.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "parseutil.h"

static void assert_fmt(const char *in, const char *want) {
  ParseRun r;
  parse_run(&r, in);
  ck_assert_msg(r.nerr == 0, "%s", r.diag);
  ck_assert_str_eq(parse_run_fmt(&r), want);
  parse_run_free(&r);
}

START_TEST(fmt_layout) {
  assert_fmt("pipeline p{a=1;b   in 0.1..0.5 c=[1,2,] d(x,y=\"s\",) e{f=g(1)}}",
             "pipeline p {\n"
             "  a = 1\n"
             "  b in 0.1 .. 0.5\n"
             "  c = [1, 2]\n"
             "  d(x, y = \"s\")\n"
             "  e {\n"
             "    f = g(1)\n"
             "  }\n"
             "}\n");
}
END_TEST

START_TEST(fmt_numbers_as_written) {
  assert_fmt("recipe r { a = 1e-4  b = .5  c = - 2.50  d = 007  e = 1E+3 }",
             "recipe r {\n"
             "  a = 1e-4\n"
             "  b = .5\n"
             "  c = -2.50\n"
             "  d = 007\n"
             "  e = 1E+3\n"
             "}\n");
}
END_TEST

START_TEST(fmt_strings_reescaped) {
  assert_fmt("recipe r { s = \"q\\\"b\\\\ \\t\\n\\r\\0 \\x01\\x7f \\u{e9}\\xc3\\xa9 \\xff \xe2\x82\xac\" }",
             "recipe r {\n"
             "  s = \"q\\\"b\\\\ \\t\\n\\r\\0 \\x01\\x7f \xc3\xa9\xc3\xa9 \\xff \xe2\x82\xac\"\n"
             "}\n");
}
END_TEST

/* Past 100 columns a call gets one argument per line, aligned after '('. */
START_TEST(fmt_wraps_wide_calls) {
  assert_fmt("pipeline p { data { source = idx(images = \"a/long/path/to/train-images-idx3-ubyte.gz\", "
             "labels = \"a/long/path/to/train-labels.gz\")  # the data\n"
             "  x = [\"a long list that stays on one line however wide it gets\", "
             "\"because it is no call\"]\n"
             "  short(1, 2) } }",
             "pipeline p {\n"
             "  data {\n"
             "    source = idx(images = \"a/long/path/to/train-images-idx3-ubyte.gz\",\n"
             "                 labels = \"a/long/path/to/train-labels.gz\")  # the data\n"
             "    x = [\"a long list that stays on one line however wide it gets\", "
             "\"because it is no call\"]\n"
             "    short(1, 2)\n"
             "  }\n"
             "}\n");
}
END_TEST

START_TEST(fmt_uses_first_and_blank_lines) {
  assert_fmt("pipeline a { x = 1 }\nuse std.nets\n\n\n\npipeline b {}\nuse c",
             "use std.nets\n"
             "use c\n"
             "\n"
             "pipeline a {\n"
             "  x = 1\n"
             "}\n"
             "\n"
             "pipeline b {}\n");
  /* blank lines between statements shrink to one; none after '{' or before '}' */
  assert_fmt("pipeline p {\n\n\n  a = 1\n\n\n\n  b = 2\n  c = 3\n\n}\n",
             "pipeline p {\n"
             "  a = 1\n"
             "\n"
             "  b = 2\n"
             "  c = 3\n"
             "}\n");
}
END_TEST

START_TEST(fmt_comments_in_place) {
  assert_fmt("# top comment\n"
             "\n"
             "use a.b.c   # why a.b.c\n"
             "# before pipeline\n"
             "pipeline p {   # header\n"
             "  # lead a\n"
             "  a = 1   # trail a\n"
             "\n"
             "\n"
             "  b = [1,   # inside b\n"
             "       2]\n"
             "  data { x = 1 } # after data\n"
             "  empty {\n"
             "    # only end\n"
             "  }\n"
             "  r in 0.1 .. -0.5; s = 2\n"
             "  # end of p\n"
             "}   # after p\n"
             "# tail\n",
             "# top comment\n"
             "\n"
             "use a.b.c  # why a.b.c\n"
             "\n"
             "# before pipeline\n"
             "pipeline p {  # header\n"
             "  # lead a\n"
             "  a = 1  # trail a\n"
             "\n"
             "  # inside b\n"
             "  b = [1, 2]\n"
             "  data {\n"
             "    x = 1\n"
             "  }  # after data\n"
             "  empty {\n"
             "    # only end\n"
             "  }\n"
             "  r in 0.1 .. -0.5\n"
             "  s = 2\n"
             "  # end of p\n"
             "}  # after p\n"
             "# tail\n");
  assert_fmt("# nothing but comments\n\n# two\n", "# nothing but comments\n\n# two\n");
}
END_TEST

/* fmt is stable and keeps the tree and every comment's text. */
static void check_round_trip(const char *name, const char *text, int len) {
  ParseRun a, b, c;
  parse_run_len(&a, text, len);
  if (a.nerr) { /* not a valid spec (tests/diag holds broken ones on purpose) */
    parse_run_free(&a);
    return;
  }
  const char *once = parse_run_fmt(&a);
  parse_run(&b, once);
  ck_assert_msg(b.nerr == 0, "%s: fmt output does not parse:\n%s\n%s", name, b.diag, once);
  ck_assert_msg(mlp_ast_equal(a.ast->file, b.ast->file), "%s: fmt changed the tree:\n%s", name, once);
  ck_assert_int_eq(a.ast->comments.len, b.ast->comments.len);
  for (int i = 0; i < a.ast->comments.len; i++) {
    const MlpComment *ca = a.ast->comments.items[i], *cb = b.ast->comments.items[i];
    ck_assert_str_eq(ca->text, cb->text);
  }
  parse_run(&c, parse_run_fmt(&b));
  ck_assert_msg(strcmp(parse_run_fmt(&c), once) == 0, "%s: fmt is not idempotent:\n%s\n---\n%s", name, once,
                c.fmt);
  parse_run_free(&a);
  parse_run_free(&b);
  parse_run_free(&c);
}

START_TEST(fmt_round_trip_spec_files) {
  static const char *patterns[] = {"examples/*.mlp", "tests/diag/*.mlp", "stdlib/*.mlp"};
  int files = 0;
  for (int p = 0; p < 3; p++) {
    glob_t g;
    if (glob(patterns[p], 0, NULL, &g) != 0) continue;
    for (size_t i = 0; i < g.gl_pathc; i++, files++) {
      size_t len;
      FILE *f = fopen(g.gl_pathv[i], "rb");
      ck_assert_ptr_nonnull(f);
      char buf[1 << 16];
      len = fread(buf, 1, sizeof buf, f);
      fclose(f);
      check_round_trip(g.gl_pathv[i], buf, (int)len);
    }
    globfree(&g);
  }
  ck_assert_int_gt(files, 0);
}
END_TEST

START_TEST(fmt_round_trip_awkward_specs) {
  static const char *specs[] = {
      "pipeline p{a=1;b in[1,[2,[3]],f(g(h(1)),k=[],),]c=\"\\u{1F600}\\0\"}recipe r{}",
      "# a\n# b\n\n\nuse x # c\n# d\npipeline p { # e\n  # f\n} # g\n# h",
      "pipeline p {\r\n  a = 1\r\n\r\n  # c\r\n  b { c { d { e = -1 .. -2 } } }\r\n}\r\n",
      "pipeline p {\n  x = f(1,  # one\n        2,  # two\n        3)  # three\n}\n",
      "pipeline p { a = 1 b = 2 # only b's\n c = 3 }",
      "use a\n\n# lonely\n\nuse b\npipeline p {}\n# end\n\n\n# really\n",
  };
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
    check_round_trip(specs[i], specs[i], (int)strlen(specs[i]));
  /* a comment ends at a NUL and loses the CRs before its newline */
  static const char nul[] = "# a\r\0b\r\n# c\r\r\npipeline p {}\r\n";
  check_round_trip("comment with NUL", nul, (int)sizeof nul - 1);
}
END_TEST

Suite *fmt_suite(void);
Suite *fmt_suite(void) {
  Suite *s = suite_create("fmt");
  TCase *tc = tcase_create("layout");
  tcase_add_test(tc, fmt_layout);
  tcase_add_test(tc, fmt_numbers_as_written);
  tcase_add_test(tc, fmt_strings_reescaped);
  tcase_add_test(tc, fmt_wraps_wide_calls);
  tcase_add_test(tc, fmt_uses_first_and_blank_lines);
  tcase_add_test(tc, fmt_comments_in_place);
  suite_add_tcase(s, tc);
  tc = tcase_create("round_trip");
  tcase_add_test(tc, fmt_round_trip_spec_files);
  tcase_add_test(tc, fmt_round_trip_awkward_specs);
  suite_add_tcase(s, tc);
  return s;
}
