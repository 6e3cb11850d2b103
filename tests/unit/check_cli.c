/* check_cli.c — the mlpc command line: help, version, exit statuses,
 * diagnostics format, and fmt -w rewriting files atomically. */
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "testutil.h"

static TestRun mlpc(const char *a1, const char *a2, const char *a3) {
  const char *argv[] = {test_mlpc(), a1, a2, a3, NULL};
  return test_run(argv, NULL);
}

static char *write_tmp(const char *dir, const char *name, const char *text) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  snprintf(path, n, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

START_TEST(cli_help_and_version) {
  TestRun r = mlpc("--help", NULL, NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "usage: mlpc"));
  ck_assert_ptr_nonnull(strstr(r.out, "check FILE"));
  ck_assert_ptr_nonnull(strstr(r.out, "Exit status"));
  test_run_free(&r);
  /* one command's help: its synopsis and only its options */
  r = mlpc("help", "build", NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "usage: mlpc build FILE"));
  ck_assert_ptr_nonnull(strstr(r.out, "--emit-ir"));
  ck_assert_ptr_null(strstr(r.out, "--quantize"));
  test_run_free(&r);
  r = mlpc("init", "--help", NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "usage: mlpc init DATA"));
  ck_assert_ptr_nonnull(strstr(r.out, "--force"));
  test_run_free(&r);
  /* a command that is also a word of the language: both */
  r = mlpc("help", "init", NULL);
  ck_assert_ptr_nonnull(strstr(r.out, "usage: mlpc init"));
  ck_assert_ptr_nonnull(strstr(r.out, "In the language:"));
  ck_assert_ptr_nonnull(strstr(r.out, "xavier_uniform"));
  test_run_free(&r);
  /* --help fits a terminal of 80 columns */
  r = mlpc("--help", NULL, NULL);
  for (const char *l = r.out; *l;) {
    const char *nl = strchr(l, '\n');
    ck_assert_msg(nl && nl - l <= 80, "help line over 80 columns: %.100s", l);
    l = nl + 1;
  }
  test_run_free(&r);
  r = mlpc("--version", NULL, NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(strncmp(r.out, "mlpc ", 5), 0);
  test_run_free(&r);
}
END_TEST

START_TEST(cli_usage_errors_exit_2) {
  TestRun r = mlpc(NULL, NULL, NULL);
  ck_assert_int_eq(r.status, 2);
  test_run_free(&r);
  r = mlpc("chekc", "x.mlp", NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "did you mean 'check'?"));
  test_run_free(&r);
  r = mlpc("check", "--bogus", "x.mlp");
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "unknown option '--bogus'"));
  test_run_free(&r);
  r = mlpc("check", "no/such/file.mlp", NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "cannot read 'no/such/file.mlp'"));
  test_run_free(&r);
  r = mlpc("check", NULL, NULL);
  ck_assert_int_eq(r.status, 2);
  test_run_free(&r);
}
END_TEST

START_TEST(cli_examples_check_clean) {
  const char *argv[] = {test_mlpc(),         "check",           "examples/iris.mlp",
                        "examples/wine.mlp", "examples/breast_cancer.mlp", "examples/diabetes.mlp",
                        "examples/digits.mlp", "examples/fashion_mnist.mlp",
                        "examples/fashion_mnist_lstm.mlp", "examples/austen_lstm.mlp",
                        "examples/austen_transformer.mlp", "examples/fashion_mnist_transformer.mlp", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "examples do not check clean:\n%s", r.err);
  ck_assert_str_eq(r.err, "");
  test_run_free(&r);
}
END_TEST

/* A spec error: status 1, a GNU-style first line, the source line, a caret. */
START_TEST(cli_error_format) {
  char *dir = test_tmpdir();
  char *path = write_tmp(dir, "bad.mlp", "pipeline p {\n  data {\n    source = \n  }\n}\n");
  TestRun r = mlpc("check", path, NULL);
  ck_assert_int_eq(r.status, 1);
  regex_t re;
  ck_assert_int_eq(
      regcomp(&re, "^[^:\n]+:[0-9]+:[0-9]+: error: .+\n +[0-9]+ \\| .*\n +\\| *\\^", REG_EXTENDED), 0);
  ck_assert_msg(regexec(&re, r.err, 0, NULL, 0) == 0, "not a GNU-style diagnostic:\n%s", r.err);
  regfree(&re);
  ck_assert_int_eq(strncmp(r.err, path, strlen(path)), 0);
  test_run_free(&r);
  /* --color=always wraps the message in escape sequences; never does not */
  r = mlpc("--color=always", "check", path);
  ck_assert_ptr_nonnull(strstr(r.err, "\033["));
  test_run_free(&r);
  r = mlpc("--color=never", "check", path);
  ck_assert_ptr_null(strstr(r.err, "\033["));
  test_run_free(&r);
  unlink(path);
  rmdir(dir);
  free(path);
  free(dir);
}
END_TEST

/* fmt -w rewrites a messy file into canonical layout; a second run changes
 * nothing; a file with errors is left untouched. */
START_TEST(cli_fmt_write) {
  char *dir = test_tmpdir();
  char *path = write_tmp(dir, "messy.mlp",
                         "pipeline p{data{source=csv(\"d.csv\")   target=y}\n"
                         "model{dense(4,activation=relu) output()}}\n");
  TestRun r = mlpc("fmt", path, "-w");
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  char *once = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(strstr(once, "  data {\n"));
  ck_assert_ptr_nonnull(strstr(once, "source = csv(\"d.csv\")\n"));
  ck_assert_ptr_nonnull(strstr(once, "dense(4, activation = relu)\n"));
  r = mlpc("fmt", path, NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.out, once);
  test_run_free(&r);

  char *bad = write_tmp(dir, "bad.mlp", "pipeline p { data { source = } }\n");
  char *before = test_read_file(bad, NULL);
  r = mlpc("fmt", bad, "-w");
  ck_assert_int_eq(r.status, 1);
  test_run_free(&r);
  char *after = test_read_file(bad, NULL);
  ck_assert_str_eq(before, after);

  /* --check: silent and 0 when canonical; names the file and exits 1 when
   * not, writing nothing */
  char *messy = write_tmp(dir, "messy2.mlp", "pipeline p{data{source=csv(\"d.csv\")   target=y}\n"
                                              "model{dense(4) output()}}\n");
  r = mlpc("fmt", "--check", path);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.err, "");
  test_run_free(&r);
  r = mlpc("fmt", "--check", messy);
  ck_assert_int_eq(r.status, 1);
  ck_assert_ptr_nonnull(strstr(r.err, "not in canonical layout"));
  test_run_free(&r);
  char *still = test_read_file(messy, NULL);
  ck_assert_ptr_nonnull(strstr(still, "target=y"));
  free(still);
  unlink(messy);
  free(messy);
  unlink(path);
  unlink(bad);
  rmdir(dir);
  free(path), free(bad), free(once), free(before), free(after), free(dir);
}
END_TEST

/* GNU long options: "--NAME=VALUE" means "--NAME VALUE", for mlpc and for
 * the training program it builds. */
START_TEST(cli_long_options_with_equals) {
  char *dir = test_tmpdir(), *prog = test_path(dir, "iris"), *run = test_path(dir, "run");
  char out[4200], target[64] = "--target=x86_64-linux-gnu";
  snprintf(out, sizeof out, "--out=%s", run);
  const char *argv[] = {test_mlpc(), "build", "examples/iris.mlp", target, "-o", prog, NULL};
  test_run_ok(argv);
  const char *train[] = {prog, out, "--set=epochs=3", "--seed=5", "--threads=1", "--quiet", NULL};
  test_run_ok(train);
  char *manifest = test_path(run, "manifest.json"), *text = test_read_file(manifest, NULL);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(strstr(text, "\"epochs_run\":\t3"));
  const char *flag[] = {prog, "--quiet=yes", NULL};
  TestRun r = test_run(flag, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "option '--quiet' takes no value"));
  test_run_free(&r);
  free(text), free(manifest), free(run), free(prog), free(dir);
}
END_TEST

/* make install lays out what a system expects: the manual page (which man
 * renders), bash completion (which completes commands, options and the
 * language's words), Vim syntax naming the language's words, and a
 * pkg-config file for the runtime. */
START_TEST(cli_install_tree) {
  char *dir = test_tmpdir(), line[8192];
  const char *build = getenv("MLP_BUILD") ? getenv("MLP_BUILD") : "build";
  snprintf(line, sizeof line, "make -s install DESTDIR='%s' PREFIX=/usr BUILD='%s' >/dev/null", dir, build);
  const char *install[] = {"/bin/sh", "-c", line, NULL};
  test_run_ok(install);
  snprintf(line, sizeof line,
           "set -e; cd '%s/usr'; test -x bin/mlpc; test -f lib/libmlprt.a\n"
           "grep -q '^\\.TH MLPC 1' share/man/man1/mlpc.1\n"
           "grep -q '^\\.TH MLPC-SPEC 5' share/man/man5/mlpc-spec.5\n"
           "grep -q 'tfidf' share/man/man5/mlpc-spec.5\n"
           "grep -q '^#compdef mlpc' share/zsh/vendor-completions/_mlpc\n"

           "if command -v man >/dev/null; then\n"
           "  man -l share/man/man1/mlpc.1 2>/dev/null | grep -q 'EXIT STATUS'\n"
           "fi\n"
           ". share/bash-completion/completions/mlpc\n"
           "COMP_WORDS=(mlpc ex); COMP_CWORD=1; _mlpc; test \"${COMPREPLY[*]}\" = 'explain export'\n"
           "COMP_WORDS=(mlpc export --qu); COMP_CWORD=2; _mlpc; test \"${COMPREPLY[*]}\" = '--quantize'\n"
           "COMP_WORDS=(mlpc help tfi); COMP_CWORD=2; _mlpc; test \"${COMPREPLY[*]}\" = 'tfidf'\n"
           "grep -q 'syntax keyword mlpWord .* hyperparameters .* tfidf' share/vim/vimfiles/syntax/mlp.vim\n"
           "grep -q 'setfiletype mlp' share/vim/vimfiles/ftdetect/mlp.vim\n"
           "grep -q '\"scopeName\": \"source.mlp\"' share/mlp/vscode/syntaxes/mlp.tmLanguage.json\n"
           "grep -q '\"path\": \"./syntaxes/mlp.tmLanguage.json\"' share/mlp/vscode/package.json\n"
           "PKG_CONFIG_PATH=lib/pkgconfig pkg-config --libs libmlprt | grep -q -- '-lmlprt'\n",
           dir);
  const char *check[] = {"/bin/bash", "-c", line, NULL};
  TestRun r = test_run(check, NULL);
  ck_assert_msg(r.status == 0, "installed tree: %s%s", r.out, r.err);
  test_run_free(&r);
  snprintf(line, sizeof line, "%s/usr/share/zsh/vendor-completions/_mlpc", dir);
  if (access("/usr/bin/zsh", X_OK) == 0) {
    const char *zsh[] = {"/usr/bin/zsh", "-n", line, NULL};
    test_run_ok(zsh);
  } else {
    test_skip("the zsh completion's syntax", "zsh", "/usr/bin/zsh is not installed");
  }
  snprintf(line, sizeof line, "rm -rf '%s'", dir);
  test_run_ok(install);
  free(dir);
}
END_TEST

/* The alternatives of a grammar pattern "\\b(?:A|B|...)\\b": whether word
 * is one of them. */
static bool alternative(const char *match, const char *word) {
  const char *p = strstr(match, "(?:");
  size_t n = strlen(word);
  for (p = p ? p + 3 : NULL; p && *p; p += strcspn(p, "|)") + 1) {
    if (strncmp(p, word, n) == 0 && (p[n] == '|' || p[n] == ')')) return true;
    if (p[strcspn(p, "|)")] != '|') break;
  }
  return false;
}

/* mlpc help --textmate: JSON that TextMate and VS Code read, with each of
 * the registry's sections, ops, settings and values in exactly one
 * pattern, of the scope its kind takes; the patterns compile (Python's re
 * reads the same syntax where it is installed). */
START_TEST(cli_textmate_grammar) {
  const char *argv[] = {test_mlpc(), "help", "--textmate", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *g = cJSON_Parse(r.out);
  ck_assert_msg(g != NULL, "not JSON:\n%s", r.out);
  ck_assert_str_eq(cJSON_GetObjectItem(g, "scopeName")->valuestring, "source.mlp");
  const cJSON *repo = cJSON_GetObjectItem(g, "repository"), *pat;
  cJSON_ArrayForEach(pat, cJSON_GetObjectItem(g, "patterns")) {
    const char *inc = cJSON_GetObjectItem(pat, "include")->valuestring;
    ck_assert_msg(inc[0] == '#' && cJSON_GetObjectItem(repo, inc + 1), "%s", inc);
  }
  const MlpRegistry *R = mlp_registry();
  struct {
    const char *key, *scope, *word;
  } kinds[] = {{"keywords", "keyword.other.mlp", R->blocks[1]->name},
               {"ops", "support.function.mlp", "tfidf"},
               {"settings", "variable.parameter.mlp", "lr"},
               {"values", "constant.language.mlp", "ffill"}};
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    const cJSON *k = cJSON_GetObjectItem(repo, kinds[i].key);
    ck_assert_msg(k != NULL, "no pattern %s", kinds[i].key);
    ck_assert_str_eq(cJSON_GetObjectItem(k, "name")->valuestring, kinds[i].scope);
    ck_assert_msg(alternative(cJSON_GetObjectItem(k, "match")->valuestring, kinds[i].word), "%s lacks %s",
                  kinds[i].key, kinds[i].word);
  }
  /* every op, once */
  for (int i = 0; i < R->nops; i++) {
    int found = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, repo) {
      const cJSON *m = cJSON_GetObjectItem(k, "match");
      found += m && alternative(m->valuestring, R->ops[i]->name);
    }
    ck_assert_msg(found == 1, "op %s is in %d patterns", R->ops[i]->name, found);
  }
  cJSON_Delete(g);
  if (access("/usr/bin/python3", X_OK) == 0) {
    const char *py[] = {"/usr/bin/python3", "-c",
                        "import json, re, sys\n"
                        "for k in json.load(sys.stdin)['repository'].values():\n"
                        "    [re.compile(k[f]) for f in ('match', 'begin', 'end') if f in k]\n",
                        NULL};
    char *dir = test_tmpdir(), *path = test_path(dir, "mlp.tmLanguage.json");
    test_write_text(path, r.out);
    TestRun c = test_run(py, path);
    ck_assert_msg(c.status == 0, "a pattern does not compile: %s", c.err);
    test_run_free(&c);
    free(path);
    free(dir);
  } else {
    test_skip("the grammar's patterns compile", "python3", "/usr/bin/python3 is not installed");
  }
  test_run_free(&r);
}
END_TEST

/* mlpc build links through an object of its own process: a file the user
 * keeps beside the output under OUT.o is neither overwritten nor removed,
 * and nothing is left behind; --keep-temps keeps the object as OUT.o. */
START_TEST(cli_build_intermediate_is_private) {
  char *dir = test_tmpdir(), *prog = test_path(dir, "iris"), *obj = test_path(dir, "iris.o");
  test_write_text(obj, "the user's file\n");
  const char *argv[] = {test_mlpc(), "build", "examples/iris.mlp", "-o", prog, NULL};
  test_run_ok(argv);
  char *kept = test_read_file(obj, NULL);
  ck_assert_str_eq(kept, "the user's file\n");
  free(kept);
  ck_assert_int_eq(access(prog, X_OK), 0);
  DIR *d = opendir(dir);
  int entries = 0;
  for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
  closedir(d);
  ck_assert_int_eq(entries, 2); /* iris and iris.o: no temporary left */
  unlink(obj);
  const char *keep[] = {test_mlpc(), "build", "examples/iris.mlp", "-o", prog, "--keep-temps", NULL};
  test_run_ok(keep);
  ck_assert_int_eq(access(obj, R_OK), 0);
  unlink(obj);
  unlink(prog);
  rmdir(dir);
  free(prog), free(obj), free(dir);
}
END_TEST

START_TEST(cli_help_topics) {
  TestRun r = mlpc("help", NULL, NULL);
  ck_assert_int_eq(r.status, 0);
  static const char *const sections[] = {"data",       "model",      "hyperparameters", "environment",
                                         "validation", "tuning",     "analysis",        "deploy"};
  for (int i = 0; i < 8; i++) ck_assert_msg(strstr(r.out, sections[i]), "help lacks %s", sections[i]);
  test_run_free(&r);
  r = mlpc("help", "adam", NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "lr"));
  test_run_free(&r);
  r = mlpc("help", "adamm", NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "adam"));
  test_run_free(&r);
}
END_TEST

Suite *cli_suite(void); /* the runner finds it by name */
Suite *cli_suite(void) {
  Suite *s = suite_create("cli");
  TCase *tc = tcase_create("cli");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, cli_help_and_version);
  tcase_add_test(tc, cli_usage_errors_exit_2);
  tcase_add_test(tc, cli_examples_check_clean);
  tcase_add_test(tc, cli_error_format);
  tcase_add_test(tc, cli_fmt_write);
  tcase_add_test(tc, cli_long_options_with_equals);
  tcase_add_test(tc, cli_install_tree);
  tcase_add_test(tc, cli_textmate_grammar);
  tcase_add_test(tc, cli_help_topics);
  tcase_add_test(tc, cli_build_intermediate_is_private);
  suite_add_tcase(s, tc);
  return s;
}
