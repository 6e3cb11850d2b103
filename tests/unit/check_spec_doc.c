/* check_spec_doc.c — the docs cannot drift from the registry: SPEC.md's
 * generated region equals mlp_help_spec_tables() byte for byte, and
 * `mlpc help` answers for every name the registry holds. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "help.h"
#include "registry.h"
#include "testutil.h"

#define BEGIN_MARK "<!-- BEGIN GENERATED REGISTRY TABLES -->\n"
#define END_MARK "<!-- END GENERATED REGISTRY TABLES -->"

START_TEST(spec_tables_match_registry) {
  char *spec = test_read_file("SPEC.md", NULL);
  ck_assert_ptr_nonnull(spec);
  char *begin = strstr(spec, BEGIN_MARK), *end = begin ? strstr(begin, END_MARK) : NULL;
  ck_assert_msg(begin && end, "SPEC.md lacks the generated-tables markers");
  begin += strlen(BEGIN_MARK);
  char *tables;
  size_t n;
  FILE *f = open_memstream(&tables, &n);
  mlp_help_spec_tables(f);
  fclose(f);
  size_t have = (size_t)(end - begin);
  size_t same = 0;
  while (same < have && same < n && begin[same] == tables[same]) same++;
  ck_assert_msg(have == n && same == n,
                "SPEC.md's registry tables are stale (first difference at byte %zu of the region); "
                "regenerate them with 'make spec'",
                same);
  free(tables);
  free(spec);
}
END_TEST

static char *help_text(const char *topic, int *status, char **err) {
  char *out;
  size_t n, m;
  FILE *f = open_memstream(&out, &n), *e = open_memstream(err, &m);
  *status = mlp_help(topic, f, e);
  fclose(f);
  fclose(e);
  return out;
}

static void help_has(const char *topic, const char *doc) {
  int status;
  char *err, *out = help_text(topic, &status, &err);
  ck_assert_msg(status == 0, "help %s: %s", topic, err);
  ck_assert_msg(strstr(out, doc), "help %s lacks '%s':\n%s", topic, doc, out);
  free(out);
  free(err);
}

START_TEST(help_every_name) {
  const MlpRegistry *R = mlp_registry();
  for (int i = 1; i < R->nblocks; i++) help_has(R->blocks[i]->name, R->blocks[i]->doc);
  for (int i = 0; i < R->nkinds; i++) help_has(R->kinds[i]->name, R->kinds[i]->doc);
  for (int i = 0; i < R->nops; i++) help_has(R->ops[i]->name, R->ops[i]->doc);
  for (int i = 0; i < R->nfields; i++)
    if (R->fields[i]->block && R->fields[i]->block->any != R->fields[i])
      help_has(R->fields[i]->name, R->fields[i]->doc);
  for (int i = 0; i < R->nenums; i++)
    for (int j = 0; j < R->enums[i]->nvalues; j++) help_has(R->enums[i]->values[j], R->enums[i]->docs[j]);
}
END_TEST

START_TEST(help_op_shows_params) {
  int status;
  char *err, *out = help_text("adam", &status, &err);
  ck_assert_int_eq(status, 0);
  ck_assert_ptr_nonnull(strstr(out, "adam(lr = hyperparameters.lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8)"));
  ck_assert_ptr_nonnull(strstr(out, "[optimizer]"));
  ck_assert_ptr_nonnull(strstr(out, "Decay of the first moment"));
  free(out), free(err);
  /* a name that is several things shows all of them */
  out = help_text("monitor", &status, &err);
  ck_assert_ptr_nonnull(strstr(out, "[setting of 'environment']"));
  ck_assert_ptr_nonnull(strstr(out, "[setting of 'validation']"));
  ck_assert_ptr_nonnull(strstr(out, "[op of 'deploy']"));
  ck_assert_ptr_nonnull(strstr(out, "[enum set]"));
  free(out), free(err);
  /* SCOPE.NAME picks one of them */
  out = help_text("deploy.monitor", &status, &err);
  ck_assert_int_eq(status, 0);
  ck_assert_ptr_nonnull(strstr(out, "monitor(drift_threshold = 0.1, window = 1000)    [op of 'deploy']"));
  ck_assert_ptr_null(strstr(out, "[setting of"));
  free(out), free(err);
  out = help_text("data.clean.impute", &status, &err);
  ck_assert_ptr_nonnull(strstr(out, "strategy"));
  free(out), free(err);
  out = help_text("activation.gelu", &status, &err);
  ck_assert_ptr_nonnull(strstr(out, "[value of 'activation']"));
  free(out), free(err);
  /* an op that was planned and is built no longer says planned */
  out = help_text("align", &status, &err);
  ck_assert_ptr_nonnull(strstr(out, "align(source, on = none, by = none"));
  ck_assert_ptr_null(strstr(out, "planned"));
  free(out), free(err);
  out = help_text("adam", &status, &err);
  ck_assert_ptr_null(strstr(out, "planned"));
  free(out), free(err);
  out = help_text("deploy.nothing", &status, &err);
  ck_assert_int_eq(status, 1);
  free(out), free(err);
  out = help_text(NULL, &status, &err);
  ck_assert_int_eq(status, 0);
  ck_assert_ptr_nonnull(strstr(out, "hyperparameters  Step 3"));
  free(out), free(err);
}
END_TEST

START_TEST(help_unknown_topic) {
  int status;
  char *err, *out = help_text("standardise", &status, &err);
  ck_assert_int_eq(status, 1);
  ck_assert_str_eq(out, "");
  ck_assert_str_eq(err, "mlpc: error: no help for 'standardise'; did you mean 'standardize'?\n");
  free(out), free(err);
  out = help_text("zzzzzzzzzz", &status, &err);
  ck_assert_int_eq(status, 1);
  ck_assert_ptr_nonnull(strstr(err, "run 'mlpc help' for the sections"));
  free(out), free(err);
}
END_TEST

Suite *spec_doc_suite(void); /* the runner finds it by name */
Suite *spec_doc_suite(void) {
  Suite *s = suite_create("spec_doc");
  TCase *tc = tcase_create("docs");
  tcase_add_test(tc, spec_tables_match_registry);
  tcase_add_test(tc, help_every_name);
  tcase_add_test(tc, help_op_shows_params);
  tcase_add_test(tc, help_unknown_topic);
  suite_add_tcase(s, tc);
  return s;
}
