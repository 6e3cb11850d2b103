/* check_registry.c — the builtin table fits together: rows parse, names are
 * unique, docs exist, every default has its field's type and lies in its
 * range (and in the usual range, so defaults never warn), every enum default
 * is a member, and the vocabulary of the 8-step model is all there. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "sema.h"

START_TEST(reg_no_problems) {
  char *out;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  int problems = mlp_reg_problems(f);
  fclose(f);
  ck_assert_msg(problems == 0, "%d problems in stdlib/builtins.def:\n%s", problems, out);
  free(out);
}
END_TEST

/* Each default goes through the same check as a value written in a spec. */
START_TEST(reg_defaults_check_as_values) {
  const MlpRegistry *R = mlp_registry();
  int checked = 0;
  for (int i = 0; i < R->nfields; i++) {
    const MlpRegField *f = R->fields[i];
    if (!f->def || f->def[0] == '@') continue;
    MlpArena a;
    mlp_arena_init(&a);
    char *out;
    size_t n;
    FILE *mem = open_memstream(&out, &n);
    MlpDiag d;
    mlp_diag_init(&d, mem);
    d.color = false;
    MlpNode *v = mlp_reg_default(&a, f);
    ck_assert_msg(v != NULL, "%s: default '%s' does not read", f->name, f->def);
    bool ok = mlp_sema_check_value(&a, f, v, &d);
    fclose(mem);
    ck_assert_msg(ok && d.nwarn == 0, "%s: default '%s':\n%s", f->name, f->def, out);
    free(out);
    mlp_arena_free(&a);
    checked++;
  }
  ck_assert_int_gt(checked, 100);
}
END_TEST

START_TEST(reg_enum_defaults_are_members) {
  const MlpRegistry *R = mlp_registry();
  for (int i = 0; i < R->nfields; i++) {
    const MlpRegField *f = R->fields[i];
    if (f->type.kind != MLP_TY_ENUM || f->type.list || !f->def || f->def[0] == '@') continue;
    const MlpRegEnum *e = mlp_reg_enum(f->type.set);
    ck_assert_msg(e && mlp_reg_enum_find(e, f->def) >= 0, "%s: '%s' not in '%s'", f->name, f->def,
                  f->type.set);
  }
}
END_TEST

START_TEST(reg_docs_present) {
  const MlpRegistry *R = mlp_registry();
  for (int i = 1; i < R->nblocks; i++) ck_assert(R->blocks[i]->doc && *R->blocks[i]->doc);
  for (int i = 0; i < R->nops; i++) ck_assert_msg(R->ops[i]->doc && *R->ops[i]->doc, "%s", R->ops[i]->name);
  for (int i = 0; i < R->nfields; i++) ck_assert_msg(*R->fields[i]->doc, "%s", R->fields[i]->name);
  for (int i = 0; i < R->nenums; i++)
    for (int j = 0; j < R->enums[i]->nvalues; j++) ck_assert(*R->enums[i]->docs[j]);
}
END_TEST

START_TEST(reg_sections_in_step_order) {
  static const char *const steps[] = {"data",       "model",  "hyperparameters", "environment",
                                      "validation", "tuning", "analysis",        "deploy"};
  const MlpRegBlock *p = mlp_registry()->pipeline;
  ck_assert_int_eq(p->nblocks, 8);
  for (int i = 0; i < 8; i++) {
    ck_assert_str_eq(p->blocks[i]->name, steps[i]);
    ck_assert_int_eq(p->blocks[i]->required, i < 2);
    ck_assert_int_eq(p->blocks[i]->index, i);
  }
  ck_assert(mlp_reg_block("clean")->sequence && mlp_reg_block("model")->sequence);
  ck_assert(!mlp_reg_block("data")->sequence);
  ck_assert_ptr_eq(mlp_reg_block("failsafe")->parent, mlp_reg_block("deploy"));
}
END_TEST

/* The defaults the 8-step model prescribes. */
START_TEST(reg_seed_defaults) {
  const MlpRegBlock *hp = mlp_reg_block("hyperparameters");
  ck_assert_str_eq(mlp_reg_setting(hp, "optimizer")->def, "adam");
  ck_assert_str_eq(mlp_reg_setting(hp, "lr")->def, "0.001");
  ck_assert_str_eq(mlp_reg_setting(hp, "batch")->def, "32");
  ck_assert_str_eq(mlp_reg_setting(hp, "epochs")->def, "100");
  ck_assert_str_eq(mlp_reg_setting(hp, "validation")->def, "0.2");
  ck_assert_str_eq(mlp_reg_setting(hp, "seed")->def, "42");
  const MlpRegBlock *val = mlp_reg_block("validation");
  ck_assert(mlp_reg_block_op(val, "early_stopping")->implied);
  const MlpRegOp *smoke = mlp_reg_block_op(val, "smoke");
  ck_assert(smoke->implied);
  const MlpRegField *epochs = mlp_reg_param(smoke, "epochs");
  ck_assert_str_eq(epochs->def, "3");
  const MlpRegField *rate = mlp_reg_param(mlp_reg_block_op(mlp_reg_block("model"), "dropout"), "rate");
  ck_assert_ptr_eq(mlp_reg_inherited(rate), mlp_reg_setting(hp, "dropout"));
  ck_assert(mlp_range_contains(&mlp_reg_setting(hp, "dropout")->usual, 0.5));
  ck_assert(!mlp_range_contains(&mlp_reg_setting(hp, "dropout")->usual, 0.9));
}
END_TEST

static void has_op(const char *scope, const char *const *names) {
  const MlpRegBlock *b = mlp_reg_block(scope);
  const MlpRegKind *k = mlp_reg_kind(scope);
  ck_assert_msg(b || k, "no scope '%s'", scope);
  for (; *names; names++)
    ck_assert_msg(b ? mlp_reg_block_op(b, *names) != NULL : mlp_reg_kind_op(k, *names) != NULL,
                  "'%s' lacks op '%s'", scope, *names);
}

static void has_setting(const char *block, const char *const *names) {
  for (; *names; names++)
    ck_assert_msg(mlp_reg_setting(mlp_reg_block(block), *names), "'%s' lacks setting '%s'", block, *names);
}

static void has_values(const char *set, const char *const *names) {
  for (; *names; names++)
    ck_assert_msg(mlp_reg_enum_find(mlp_reg_enum(set), *names) >= 0, "%s: %s", set, *names);
}

/* Every point of the 8-step model has a home in the language. */
START_TEST(reg_vocabulary) {
  has_setting("data", (const char *const[]){"source", "target", "folds", "cleaning_report", NULL});
  has_op("source", (const char *const[]){"csv", "json", "idx", NULL});
  has_op("clean", (const char *const[]){"drop_duplicates", "coerce",       "impute",   "clip_outliers",
                                        "drop_outliers",   "standardize",  "minmax",   "robust_scale",
                                        "log1p",           "onehot",       "ordinal",  "hash_encode",
                                        "text_clean",      "bag_of_words", "tfidf",    "hash_vectorize",
                                        "parse_dates",     "sort_by",      "resample", "lag",
                                        "rolling",         "align",        NULL});
  has_op("data", (const char *const[]){"split", NULL});
  has_values("selector", (const char *const[]){"numeric", "categorical", "text", "all", NULL});
  has_values("impute",
             (const char *const[]){"mean", "median", "mode", "constant", "ffill", "drop_row", NULL});
  has_op("model", (const char *const[]){"baseline", "dense", "dropout", "batchnorm", "layernorm", "conv2d",
                                        "maxpool2d", "avgpool2d", "flatten", "embedding", "output", "rnn",
                                        "lstm", "gru", "transformer_encoder", "random_forest", "svm", NULL});
  has_setting("model", (const char *const[]){"pretrained", NULL});
  has_setting("hyperparameters",
              (const char *const[]){"optimizer", "lr", "batch", "epochs", "validation", "seed", "dropout",
                                    "init", "schedule", "l1", "l2", "clip_norm", "clip_value", "loss", NULL});
  has_op("optimizer", (const char *const[]){"sgd", "adam", "adamw", "rmsprop", NULL});
  has_op("schedule", (const char *const[]){"constant", "step", "exponential", "cosine", "plateau", NULL});
  has_op("loss", (const char *const[]){"cross_entropy", "bce", "mse", "mae", "huber", "hinge", NULL});
  has_values("init", (const char *const[]){"zeros", "uniform", "normal", "xavier_uniform", "xavier_normal",
                                           "he_uniform", "he_normal", NULL});
  has_setting("environment", (const char *const[]){"device", "threads", "blas_threads", "deterministic",
                                                   "out", "log", "monitor", "distributed", NULL});
  has_op("validation", (const char *const[]){"smoke", "early_stopping", NULL});
  has_setting("validation", (const char *const[]){"monitor", NULL});
  has_setting("tuning", (const char *const[]){"search", "objective", "folds", NULL});
  has_op("search", (const char *const[]){"grid", "random", NULL});
  has_setting("analysis",
              (const char *const[]){"metrics", "learning_curves", "slices", "bias_variance", "report", NULL});
  has_values("metric", (const char *const[]){"accuracy", "precision", "recall", "f1", "auc", "confusion",
                                             "mse", "mae", "r2", NULL});
  has_setting("deploy", (const char *const[]){"version", "onnx", "quantize", "predictor", "rollback",
                                              "registry", "card", "sign", NULL});
  has_op("deploy", (const char *const[]){"prune", "monitor", NULL});
  has_setting("failsafe",
              (const char *const[]){"missing_column", "unknown_category", "out_of_range", "nan", NULL});
  has_values("quantize", (const char *const[]){"none", "int8", NULL});
}
END_TEST

START_TEST(reg_lookups_and_words) {
  const MlpRegOp *adam = mlp_reg_kind_op(mlp_reg_kind("optimizer"), "adam");
  ck_assert_ptr_nonnull(adam);
  ck_assert_ptr_eq(adam->kind, mlp_reg_kind("optimizer"));
  ck_assert_str_eq(mlp_reg_param(adam, "beta1")->def, "0.9");
  ck_assert_ptr_null(mlp_reg_param(adam, "beta3"));
  ck_assert_ptr_eq(mlp_reg_inherited(mlp_reg_param(adam, "lr")),
                   mlp_reg_setting(mlp_reg_block("hyperparameters"), "lr"));
  const MlpRegOp *pool = mlp_reg_block_op(mlp_reg_block("model"), "maxpool2d");
  ck_assert_ptr_eq(mlp_reg_inherited(mlp_reg_param(pool, "stride")), mlp_reg_param(pool, "size"));
  ck_assert_ptr_nonnull(mlp_reg_block("schema")->any);
  ck_assert_ptr_null(mlp_reg_setting(mlp_reg_block("schema"), "*"));
  ck_assert_ptr_nonnull(mlp_reg_def("recipe"));
  ck_assert_ptr_null(mlp_reg_def("pipline"));
  char buf[96];
  MlpType t = {MLP_TY_ENUM, true, "metric"};
  ck_assert_str_eq(mlp_type_words(&t, buf, sizeof buf), "a list of metric names");
  t = (MlpType){MLP_TY_CALL, false, "optimizer"};
  ck_assert_str_eq(mlp_type_words(&t, buf, sizeof buf), "an optimizer call");
  t = (MlpType){MLP_TY_INT, false, NULL};
  ck_assert_str_eq(mlp_type_words(&t, buf, sizeof buf), "an integer");
  const MlpRegField *lr = mlp_reg_setting(mlp_reg_block("hyperparameters"), "lr");
  ck_assert_str_eq(mlp_range_condition(&lr->range, buf, sizeof buf), "> 0");
  ck_assert_str_eq(mlp_range_condition(&lr->usual, buf, sizeof buf), "in (0, 1]");
  ck_assert(!mlp_range_contains(&lr->range, 0));
  ck_assert(mlp_range_contains(&lr->range, 1e-9));
}
END_TEST

/* Every op, setting and parameter is built or planned; a planned op's
 * parameters are planned with it. */
START_TEST(reg_statuses) {
  const MlpRegistry *R = mlp_registry();
  for (int i = 0; i < R->nops; i++) {
    for (int j = 0; j < R->ops[i]->nparams; j++)
      if (R->ops[i]->planned) ck_assert_msg(R->ops[i]->params[j]->planned, "%s.%s", R->ops[i]->name,
                                            R->ops[i]->params[j]->name);
  }
  const MlpRegOp *align = mlp_reg_block_op(mlp_reg_block("clean"), "align");
  ck_assert(!align->planned && !mlp_reg_param(align, "on")->planned);
  ck_assert(!mlp_reg_kind_op(mlp_reg_kind("optimizer"), "rmsprop")->planned);
  ck_assert(!mlp_reg_kind_op(mlp_reg_kind("optimizer"), "adam")->planned);
  ck_assert(!mlp_reg_setting(mlp_reg_block("deploy"), "rollback")->planned);
  ck_assert(!mlp_reg_setting(mlp_reg_block("environment"), "threads")->planned);
  ck_assert(!mlp_reg_param(mlp_reg_block_op(mlp_reg_block("model"), "dense"), "init")->planned);
  ck_assert(!mlp_reg_param(mlp_reg_block_op(mlp_reg_block("model"), "dense"), "units")->planned);
  /* a required item cannot be planned: every spec would be refused */
  for (int i = 0; i < R->nfields; i++)
    if (R->fields[i]->required && R->fields[i]->planned)
      ck_assert_msg(R->fields[i]->op && R->fields[i]->op->planned, "%s is required, yet planned",
                    R->fields[i]->name);
  ck_assert_str_eq(mlp_reg_status(true), "planned");
  ck_assert_str_eq(mlp_reg_status(false), "built");
}
END_TEST

Suite *registry_suite(void); /* the runner finds it by name */
Suite *registry_suite(void) {
  Suite *s = suite_create("registry");
  TCase *tc = tcase_create("registry");
  tcase_add_test(tc, reg_no_problems);
  tcase_add_test(tc, reg_defaults_check_as_values);
  tcase_add_test(tc, reg_enum_defaults_are_members);
  tcase_add_test(tc, reg_docs_present);
  tcase_add_test(tc, reg_sections_in_step_order);
  tcase_add_test(tc, reg_seed_defaults);
  tcase_add_test(tc, reg_vocabulary);
  tcase_add_test(tc, reg_lookups_and_words);
  tcase_add_test(tc, reg_statuses);
  suite_add_tcase(s, tc);
  return s;
}
