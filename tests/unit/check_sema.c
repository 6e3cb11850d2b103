/* check_sema.c — the checker: defaults filled in, given values kept,
 * recipes and architectures expanded, modules found along the search path,
 * and each rule that relates values (one spec per rule). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "sema.h"
#include "testutil.h"

typedef struct {
  MlpArena arena;
  MlpSpec *spec;
  int nerr, nwarn;
  char *diag; /* everything reported */
} SemaRun;

static void sema_run_as(SemaRun *r, const char *name, const char *text, int max_errors) {
  memset(r, 0, sizeof *r);
  mlp_arena_init(&r->arena);
  size_t n;
  FILE *f = open_memstream(&r->diag, &n);
  MlpDiag d;
  mlp_diag_init(&d, f);
  d.color = false;
  d.max_errors = max_errors;
  MlpSource *src = mlp_source_from_string(&r->arena, name, text, (int)strlen(text));
  MlpAst *ast = mlp_parse(&r->arena, src, &d);
  if (d.nerr == 0) r->spec = mlp_sema_check(&r->arena, ast, &d);
  r->nerr = d.nerr, r->nwarn = d.nwarn;
  fclose(f);
}

static void sema_run(SemaRun *r, const char *text) {
  setenv("MLP_STDLIB", "stdlib", 1);
  sema_run_as(r, "t.mlp", text, 20);
}

static void sema_run_free(SemaRun *r) {
  free(r->diag);
  mlp_arena_free(&r->arena);
}

#define DATA "data { source = csv(\"d.csv\") target = y }\n"
#define MODEL "model { dense(8) output() }\n"

static const char *op_name(const MlpSpecBlock *b, int i) {
  return ((const MlpSpecCall *)b->ops.items[i])->op->name;
}

START_TEST(sema_defaults_filled) {
  SemaRun r;
  sema_run(&r, "pipeline p {\n" DATA MODEL "}\n");
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  ck_assert_str_eq(r.diag, "");
  ck_assert_str_eq(r.spec->name, "p");
  const MlpSpecBlock *hp = mlp_spec_block(r.spec, "hyperparameters");
  ck_assert(!hp->given);
  const MlpSpecCall *opt = mlp_spec_call(mlp_spec_setting(hp, "optimizer"));
  ck_assert_str_eq(opt->op->name, "adam");
  ck_assert(opt->implied);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(opt, "lr")), 0.001);
  ck_assert(!mlp_spec_arg(opt, "lr")->given);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(opt, "beta2")), 0.999);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_setting(hp, "batch")), 32);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_setting(hp, "epochs")), 100);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_setting(hp, "seed")), 42);
  ck_assert_str_eq(mlp_spec_str(mlp_spec_setting(hp, "init")), "xavier_uniform");
  ck_assert_str_eq(mlp_spec_call(mlp_spec_setting(hp, "schedule"))->op->name, "constant");
  ck_assert_ptr_null(mlp_spec_setting(hp, "loss")->node); /* decided from the output later */
  ck_assert(isnan(mlp_spec_num(mlp_spec_setting(hp, "clip_norm"))));
  /* the implied split takes the hyperparameters' validation fraction and seed */
  const MlpSpecBlock *data = mlp_spec_block(r.spec, "data");
  const MlpSpecCall *split = mlp_spec_op(data, "split");
  ck_assert(split && split->implied);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(split, "validation")), 0.2);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(split, "test")), 0);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(split, "seed")), 42);
  const MlpSpecValue *src = mlp_spec_setting(data, "source");
  ck_assert_int_eq(src->calls.len, 1);
  const MlpSpecCall *csv = src->calls.items[0];
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(csv, "delimiter")), ",");
  ck_assert_int_eq(mlp_spec_arg(csv, "na_values")->node->kids.len, 4);
  /* environment: the run directory is named after the pipeline */
  const MlpSpecBlock *env = mlp_spec_block(r.spec, "environment");
  ck_assert_str_eq(mlp_spec_str(mlp_spec_setting(env, "out")), "runs/p");
  ck_assert_int_eq(mlp_spec_setting(env, "deterministic")->node->num, 1);
  /* validation: a smoke run and early stopping happen unless said otherwise */
  const MlpSpecBlock *val = mlp_spec_block(r.spec, "validation");
  ck_assert_int_eq(val->ops.len, 2);
  const MlpSpecCall *es = mlp_spec_op(val, "early_stopping");
  ck_assert(es && es->implied);
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(es, "monitor")), "val_loss");
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(es, "patience")), 10);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(mlp_spec_op(val, "smoke"), "epochs")), 3);
  /* model: the given width, the default activation, the inherited init */
  const MlpSpecBlock *model = mlp_spec_block(r.spec, "model");
  ck_assert_int_eq(model->ops.len, 2);
  const MlpSpecCall *dense = model->ops.items[0];
  ck_assert(mlp_spec_arg(dense, "units")->given);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(dense, "units")), 8);
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(dense, "activation")), "relu");
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(dense, "init")), "xavier_uniform");
  ck_assert_ptr_null(mlp_spec_arg(model->ops.items[1], "activation")->node);
  /* deploy and its nested failsafe block */
  ck_assert_str_eq(mlp_spec_str(mlp_spec_setting(mlp_spec_block(r.spec, "deploy"), "version")), "1.0.0");
  ck_assert_str_eq(
      mlp_spec_str(mlp_spec_setting(mlp_spec_block(r.spec, "deploy.failsafe"), "missing_column")), "reject");
  ck_assert_ptr_null(mlp_spec_block(r.spec, "deploy.nothing"));
  sema_run_free(&r);
}
END_TEST

START_TEST(sema_given_values_win) {
  SemaRun r;
  sema_run(
      &r,
      "pipeline p {\n  data {\n    source = csv(\"d.csv\", \";\", false)\n    target = \"label col\"\n"
      "    split(0.1, 0.1, stratify = true, seed = 7)\n  }\n"
      "  model {\n    conv2d(4)\n    maxpool2d(3)\n    flatten()\n    dropout()\n    dense(8, init = zeros)\n"
      "    output(sigmoid)\n  }\n"
      "  hyperparameters {\n    lr = 0.01\n    init = he_normal\n    dropout = 0.3\n    validation = 0.3\n"
      "    schedule = step(every = 10)\n  }\n"
      "  environment {\n    out = \"elsewhere/{pipeline}-runs\"\n  }\n}\n");
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  const MlpSpecBlock *hp = mlp_spec_block(r.spec, "hyperparameters");
  ck_assert(hp->given);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(mlp_spec_call(mlp_spec_setting(hp, "optimizer")), "lr")),
                      0.01);
  const MlpSpecCall *sched = mlp_spec_call(mlp_spec_setting(hp, "schedule"));
  ck_assert_str_eq(sched->op->name, "step");
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(sched, "gamma")), 0.1);
  const MlpSpecCall *split = mlp_spec_op(mlp_spec_block(r.spec, "data"), "split");
  ck_assert(!split->implied);
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(split, "validation")), 0.1); /* split's own wins */
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(split, "seed")), 7);
  const MlpSpecCall *csv = mlp_spec_setting(mlp_spec_block(r.spec, "data"), "source")->calls.items[0];
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(csv, "delimiter")), ";");
  ck_assert_int_eq(mlp_spec_arg(csv, "header")->node->num, 0);
  const MlpSpecBlock *m = mlp_spec_block(r.spec, "model");
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(m->ops.items[0], "init")), "he_normal");
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(m->ops.items[1], "stride")), 3); /* stride follows size */
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(m->ops.items[3], "rate")), 0.3);
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(m->ops.items[4], "init")), "zeros");
  ck_assert_str_eq(mlp_spec_str(mlp_spec_arg(m->ops.items[5], "activation")), "sigmoid");
  /* {pipeline} in a written string is the pipeline's name, as in a default */
  ck_assert_str_eq(mlp_spec_str(mlp_spec_setting(mlp_spec_block(r.spec, "environment"), "out")),
                   "elsewhere/p-runs");
  sema_run_free(&r);
}
END_TEST

START_TEST(sema_recipes_and_architectures_expand) {
  SemaRun r;
  sema_run(&r, "use tabular\nuse vision\n"
               "recipe mine {\n  log1p([a, b])\n  numeric_robust()\n}\n"
               "pipeline p {\n  data {\n    source = csv(\"d.csv\")\n    target = y\n"
               "    clean {\n      tabular_standard()\n      mine()\n      minmax()\n    }\n  }\n"
               "  model {\n    small_cnn()\n  }\n}\n");
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  const MlpSpecBlock *clean = mlp_spec_block(r.spec, "data.clean");
  static const char *const want[] = {"drop_duplicates", "impute", "clip_outliers", "standardize",  "impute",
                                     "onehot",          "log1p",  "impute",        "robust_scale", "minmax"};
  ck_assert_int_eq(clean->ops.len, 10);
  for (int i = 0; i < 10; i++) ck_assert_str_eq(op_name(clean, i), want[i]);
  ck_assert_str_eq(((const MlpSpecCall *)clean->ops.items[0])->via, "tabular_standard");
  ck_assert_str_eq(((const MlpSpecCall *)clean->ops.items[1])->via, "numeric_standard");
  ck_assert_str_eq(((const MlpSpecCall *)clean->ops.items[6])->via, "mine");
  ck_assert_ptr_null(((const MlpSpecCall *)clean->ops.items[9])->via);
  /* numeric_standard() and numeric_robust() both begin with an impute: distinct calls */
  ck_assert_ptr_ne(clean->ops.items[1], clean->ops.items[7]);
  const MlpSpecBlock *m = mlp_spec_block(r.spec, "model");
  ck_assert_int_eq(m->ops.len, 8);
  ck_assert_str_eq(op_name(m, 0), "conv2d");
  ck_assert_str_eq(op_name(m, 7), "output");
  ck_assert_str_eq(((const MlpSpecCall *)m->ops.items[7])->via, "small_cnn");
  sema_run_free(&r);
}
END_TEST

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

/* $MLP_STDLIB first, then the spec's directory; a.b names a/b.mlp. */
START_TEST(sema_module_search_path) {
  char *dir = test_tmpdir();
  char lib[512], sub[512], path[600], spec_name[600];
  snprintf(lib, sizeof lib, "%s/lib", dir);
  snprintf(sub, sizeof sub, "%s/lib/extra", dir);
  mkdir(lib, 0755);
  mkdir(sub, 0755);
  snprintf(path, sizeof path, "%s/shared.mlp", lib);
  write_file(path, "recipe scale { standardize() }\n");
  snprintf(path, sizeof path, "%s/deep.mlp", sub);
  write_file(path, "architecture tiny { dense(2) output() }\n");
  snprintf(path, sizeof path, "%s/shared.mlp", dir); /* shadowed by the one in MLP_STDLIB */
  write_file(path, "recipe scale { minmax() }\n");
  snprintf(path, sizeof path, "%s/local.mlp", dir);
  write_file(path, "recipe local_scale { robust_scale() }\n");
  setenv("MLP_STDLIB", lib, 1);
  snprintf(spec_name, sizeof spec_name, "%s/spec.mlp", dir);
  SemaRun r;
  sema_run_as(&r, spec_name,
              "use shared\nuse extra.deep\nuse local\n"
              "pipeline p {\n  data {\n    source = csv(\"d.csv\")\n    target = y\n"
              "    clean {\n      scale()\n      local_scale()\n    }\n  }\n  model {\n    tiny()\n  }\n}\n",
              20);
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  const MlpSpecBlock *clean = mlp_spec_block(r.spec, "data.clean");
  ck_assert_str_eq(op_name(clean, 0), "standardize");
  ck_assert_str_eq(op_name(clean, 1), "robust_scale");
  ck_assert_int_eq(mlp_spec_block(r.spec, "model")->ops.len, 2);
  sema_run_free(&r);
  /* an unknown module is suggested from the modules on the path */
  sema_run_as(&r, spec_name, "use loca\npipeline p {\n" DATA MODEL "}\n", 20);
  ck_assert_ptr_null(r.spec);
  ck_assert_ptr_nonnull(strstr(r.diag, "unknown module 'loca'; did you mean 'local'?"));
  sema_run_free(&r);
  /* a module may not hold a pipeline */
  snprintf(path, sizeof path, "%s/bad.mlp", lib);
  write_file(path, "pipeline inner {\n" DATA MODEL "}\n");
  sema_run_as(&r, spec_name, "use bad\npipeline p {\n" DATA MODEL "}\n", 20);
  ck_assert_ptr_null(r.spec);
  ck_assert_ptr_nonnull(strstr(r.diag, "a module holds recipes and architectures, not a pipeline"));
  sema_run_free(&r);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -r '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  free(dir);
}
END_TEST

/* Column names are checked against a csv header readable at compile time. */
START_TEST(sema_columns_from_header) {
  char *dir = test_tmpdir();
  char csv[512], spec_name[512];
  snprintf(csv, sizeof csv, "%s/t.csv", dir);
  write_file(csv, "\"first name\";age;label\r\nann;3;x\r\n");
  snprintf(spec_name, sizeof spec_name, "%s/spec.mlp", dir);
  SemaRun r;
  setenv("MLP_STDLIB", "stdlib", 1);
  sema_run_as(
      &r, spec_name,
      "pipeline p {\n  data {\n    source = csv(\"t.csv\", delimiter = \";\")\n    target = label\n"
      "    clean {\n      onehot([\"first name\"])\n      standardize([age, numeric])\n    }\n  }\n" MODEL
      "}\n",
      20);
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  sema_run_free(&r);
  sema_run_as(&r, spec_name,
              "pipeline p {\n  data {\n    source = csv(\"t.csv\", delimiter = \";\")\n    target = lable\n  "
              "}\n" MODEL "}\n",
              20);
  ck_assert_ptr_nonnull(strstr(r.diag, "no column 'lable' in t.csv; did you mean 'label'?"));
  sema_run_free(&r);
  /* without a header line, or with several sources, the loader checks later */
  sema_run_as(
      &r, spec_name,
      "pipeline p {\n  data {\n    source = csv(\"t.csv\", header = false)\n    target = lable\n  }\n" MODEL
      "}\n",
      20);
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  sema_run_free(&r);
  sema_run_as(
      &r, spec_name,
      "pipeline p {\n  data {\n    source = [csv(\"t.csv\"), csv(\"u.csv\")]\n    target = lable\n  }\n" MODEL
      "}\n",
      20);
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  sema_run_free(&r);
  unlink(csv);
  rmdir(dir);
  free(dir);
}
END_TEST

START_TEST(sema_schema_and_spaces) {
  SemaRun r;
  sema_run(
      &r,
      "pipeline p {\n  data {\n    source = csv(\"d.csv\")\n    target = y\n"
      "    schema {\n      age = int\n      city = category\n    }\n  }\n" MODEL
      "  tuning {\n    search = random(trials = 5)\n    lr in logrange(1e-4, 0.1)\n    batch in [16, 32]\n"
      "    epochs in 10 .. 50\n    optimizer in [adam, sgd(momentum = 0.9)]\n  }\n}\n");
  ck_assert_msg(r.spec != NULL, "%s", r.diag);
  const MlpSpecBlock *schema = mlp_spec_block(r.spec, "data.schema");
  ck_assert_int_eq(schema->entries.len, 2);
  const MlpSpecEntry *e = schema->entries.items[1];
  ck_assert_str_eq(e->name, "city");
  ck_assert_str_eq(e->value->name, "category");
  const MlpSpecBlock *t = mlp_spec_block(r.spec, "tuning");
  ck_assert_int_eq(t->spaces.len, 4);
  const MlpSpecSpace *sp = t->spaces.items[0];
  ck_assert_str_eq(sp->field->name, "lr");
  ck_assert_int_eq(sp->space->kind, MLP_ND_CALL);
  ck_assert_str_eq(((const MlpSpecSpace *)t->spaces.items[2])->field->name, "epochs");
  ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(mlp_spec_call(mlp_spec_setting(t, "search")), "trials")), 5);
  sema_run_free(&r);
}
END_TEST

/* One rule per case: a pipeline body and what must be reported. */
typedef struct {
  const char *body;    /* sections after data, or a whole file when it starts with "!" */
  const char *message; /* a substring of the diagnostics */
  int errors;          /* expected error count; 0: warnings only (or nothing, for "") */
} RuleCase;

static const RuleCase rules[] = {
    {"model { transformer_encoder(heads = 3, dim = 16) output() }", "'dim' must be a multiple of 'heads' (3)",
     1},
    {"model { dense(4) output() } hyperparameters { optimizer = sgd(nesterov = true) }",
     "nesterov has no effect without momentum", 0},
    {"model { dense(4) output() } tuning { search = random() lr in logrange(0.1, 0.01) }",
     "'high' must be greater than 'low' (0.1)", 1},
    {"model { dense(4) output() } tuning { search = random() epochs in 50 .. 10 }",
     "the range's end must be greater than its start (50)", 1},
    {"model { dense(4) output() } tuning { search = random() init in 1 .. 3 }",
     "a range searches numbers, but 'init' is not a number", 1},
    {"model { dense(4) output() } tuning { search = random() lr in 0.1 }", "a search space is a list", 1},
    {"model { dense(4) output() } tuning { search = random() batch in [16, 0] }", "'batch' must be in [1,",
     1},
    {"model { dense(4) output() } tuning { lr in logrange(1e-4, 1e-1) }", "",
     0}, /* grid of a logrange is finite */
    {"model { dense(4) output() } tuning { search = tpe() lr in 0.001 .. 0.1 }", "", 0}, /* tpe draws */
    {"model { dense(4) output() } tuning { search = hyperband() lr in 0.001 .. 0.1 }",
     "hyperband search cannot enumerate the continuous range of 'lr'", 1},
    {"model { dense(4) output() } hyperparameters { lr = 0.1 optimizer = adam(lr = 0.01) }",
     "'lr' is also given to 'adam'; the optimizer's lr = 0.01 wins", 0},
    {"model { dense(4) output() } hyperparameters { loss = cross_entropy }", "", 0},
    {"model { dense(4) output(activation = sigmoid) } hyperparameters { loss = cross_entropy(0.1) }",
     "'cross_entropy' expects a softmax output, but output() uses sigmoid", 0},
    {"model { random_forest(trees = 50) }", "", 0},
    {"model { svm() dense(3) }", "'svm' is a whole model; it cannot be combined with 'dense'", 1},
    {"model { }", "'model' has no layers", 1},
    {"model { dense(4) output() output() }", "'output' after the output layer", 1},
    {"model { flatten() maxpool2d() output() }", "'maxpool2d' needs image input, but 'flatten' before it", 1},
    {"model { dense(4) output() } hyperparameters { optimizer = adam(lr = 0.01, bogus = 1) }",
     "'adam' has no parameter 'bogus'", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y\n clean { clip_outliers(zscore = 3.0) } "
     "}\n" MODEL "}\n",
     "'clip_outliers' has no parameter 'zscore'; 'zscore' is a value of 'method': write 'method = zscore'",
     1},
    {"model { flatten(1) output() }", "'flatten' takes 0 positional arguments, got 1", 1},
    {"model { flatten(size = 1) output() }", "'flatten' takes no parameter 'size'", 1},
    {"model { dense(4, init = xavier) output() }",
     "unknown value 'xavier' for 'init' (expected one of: zeros,", 1},
    {"model { dense(4) output() } hyperparameters { optimizer = \"adam\" }",
     "'optimizer' expects an optimizer call, got a string", 1},
    {"model { dense(4) output() } analysis { metrics = accuracy slices = [city, 3] }",
     "'slices' expects column names, got 3", 1},
    {"model { dense(4) output() } environment { threads = 2.5 }", "'threads' expects an integer, got 2.5", 1},
    {"model { dense(4) output() } deploy { failsafe { nan = drop } }", "unknown value 'drop' for 'nan'", 1},
    {"model { dense(4) output() } deploy { failsafe { nan = impute } prune(0.5) monitor() }", "", 0},
    {"model { dense(4) output() } deploy { failsafe { nan = fallback out_of_range = fallback } }",
     "'nan = fallback' needs the prediction to fall back to: 'fallback = ...'", 2},
    {"model { dense(4) output() } deploy { failsafe { nan = fallback fallback = \"unknown\" } }", "", 0},
    {"model { dense(4) output() } validation { smoke(subset = 0) }", "'subset' must be in (0, 1], got 0", 1},
    {"model { dense(4) output() } validation { monitor = [val_loss, val_acc] }",
     "unknown value 'val_acc' for 'monitor'; did you mean 'val_auc'?", 1},
    {"!recipe standardize { minmax() }\npipeline p {\n" DATA MODEL "}\n",
     "recipe 'standardize' has the name of a builtin op of 'clean'", 1},
    {"!recipe r { minmax() }\nrecipe r { standardize() }\npipeline p {\n" DATA MODEL "}\n",
     "recipe 'r' is defined twice", 1},
    {"!recipe r { minmax() }\npipeline p {\n  data { source = csv(\"d.csv\") target = y clean { r(1) } "
     "}\n" MODEL "}\n",
     "recipe 'r' takes no arguments", 1},
    {"!recipe r { dense(3) }\npipeline p {\n" DATA MODEL "}\n",
     "unknown op 'dense' in 'clean'; it belongs in 'model'", 1},
    {"!pipeline p {\n  data { source = csv(\"d.csv\") target = y\n clean { impute(value = 0) } }\n" MODEL
     "}\n",
     "'value' is used only with strategy = constant", 0},
    {"!pipeline p {\n  data { source = [csv(\"a.csv\"), idx(\"i.gz\", \"l.gz\")] target = y\n"
     " split(stratify = true, time_order = t) }\n" MODEL "}\n",
     "'stratify' shuffles rows, 'time_order' keeps them in order: choose one", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y\n clean { minmax(low = 1, high = 1) } "
     "}\n" MODEL "}\n",
     "'high' must be greater than 'low' (1)", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = [y] }\n" MODEL "}\n",
     "'target' expects a column name, got a list", 1},
    /* paths into the cleaning chain */
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y clean { impute() } }\n" MODEL
     "  tuning { data.clean.impute.strategy in [mean, median]\n"
     "    data.clean.impute.indicator in [true, false] }\n}\n",
     "", 0},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y clean { impute() } }\n" MODEL
     "  tuning { data.clean.clip_outliers.threshold in [2, 3] }\n}\n",
     "the cleaning chain has no 'clip_outliers'", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y clean { impute() impute() } }\n" MODEL
     "  tuning { data.clean.impute.strategy in [mean, median] }\n}\n",
     "the cleaning chain has 2 'impute': say which, data.clean.impute[0] to data.clean.impute[1]", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y clean { impute() } }\n" MODEL
     "  tuning { data.clean.impute.strategy in [mean, sideways] }\n}\n",
     "sideways", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y  folds = 1 }\n" MODEL "}\n",
     "'folds' must be in [2, 1000], got 1", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y clean = 3 }\n" MODEL "}\n",
     "'clean' is a block; write 'clean { ... }'", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y target { } }\n" MODEL "}\n",
     "'target' is a setting; write 'target = ...'", 1},
    {"!pipeline p {\n  data { source = csv(\"a.csv\") target = y schema { age = int age = float } }\n" MODEL
     "}\n",
     "entry 'age' is given twice", 1},
};

START_TEST(sema_rules) {
  const RuleCase *c = &rules[_i];
  char text[2048];
  if (c->body[0] == '!') snprintf(text, sizeof text, "%s", c->body + 1);
  else snprintf(text, sizeof text, "pipeline p {\n" DATA "%s\n}\n", c->body);
  SemaRun r;
  sema_run(&r, text);
  ck_assert_msg(r.nerr == c->errors, "case %d: %d errors, want %d:\n%s", _i, r.nerr, c->errors, r.diag);
  ck_assert_msg(strstr(r.diag, c->message), "case %d: no '%s' in:\n%s", _i, c->message, r.diag);
  ck_assert(c->errors ? r.spec == NULL : r.spec != NULL);
  if (!*c->message) ck_assert_msg(r.nwarn == 0, "case %d: unexpected warnings:\n%s", _i, r.diag);
  else if (!c->errors) ck_assert_int_ge(r.nwarn, 1);
  sema_run_free(&r);
}
END_TEST

/* After max_errors the checker stops: later statements are not looked at. */
START_TEST(sema_stops_after_max_errors) {
  char text[4096] = "pipeline p {\n" DATA "  model {\n";
  for (int i = 0; i < 30; i++) strcat(text, "    dense(0)\n");
  strcat(text, "    output()\n  }\n}\n");
  SemaRun r;
  setenv("MLP_STDLIB", "stdlib", 1);
  sema_run_as(&r, "t.mlp", text, 5);
  ck_assert_ptr_null(r.spec);
  ck_assert_int_eq(r.nerr, 5);
  int shown = 0;
  for (const char *p = r.diag; (p = strstr(p, ": error: ")); p++) shown++;
  ck_assert_int_eq(shown, 5);
  ck_assert_ptr_nonnull(strstr(r.diag, "note: stopping after 5 errors"));
  sema_run_free(&r);
}
END_TEST

/* Every example checks clean, and what it says is what the spec holds. */
START_TEST(sema_examples) {
  static const char *const files[] = {"examples/iris.mlp",          "examples/wine.mlp",
                                      "examples/breast_cancer.mlp", "examples/diabetes.mlp",
                                      "examples/digits.mlp",        "examples/fashion_mnist.mlp",
                                      "examples/fashion_mnist_lstm.mlp", "examples/austen_lstm.mlp",
                                      "examples/austen_transformer.mlp",
                                      "examples/fashion_mnist_transformer.mlp"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char *text = test_read_file(files[i], NULL);
    ck_assert_ptr_nonnull(text);
    SemaRun r;
    setenv("MLP_STDLIB", "stdlib", 1);
    sema_run_as(&r, files[i], text, 20);
    ck_assert_msg(r.spec && r.nwarn == 0, "%s:\n%s", files[i], r.diag);
    if (strstr(files[i], "iris")) {
      const MlpSpecBlock *hp = mlp_spec_block(r.spec, "hyperparameters");
      ck_assert_double_eq(mlp_spec_num(mlp_spec_arg(mlp_spec_call(mlp_spec_setting(hp, "optimizer")), "lr")),
                          0.01);
      ck_assert_int_eq(mlp_spec_block(r.spec, "tuning")->spaces.len, 2);
      ck_assert_int_eq(mlp_spec_block(r.spec, "data.clean")->ops.len, 4);
    }
    sema_run_free(&r);
    free(text);
  }
}
END_TEST

START_TEST(sema_check_value_api) {
  MlpArena a;
  mlp_arena_init(&a);
  char *out;
  size_t n;
  FILE *f = open_memstream(&out, &n);
  MlpDiag d;
  mlp_diag_init(&d, f);
  d.color = false;
  const MlpRegField *batch = mlp_reg_setting(mlp_reg_block("hyperparameters"), "batch");
  MlpLoc nowhere = {0};
  MlpNode *v = mlp_ast_new(&a, MLP_ND_NUM, nowhere);
  v->num = 64, v->is_int = true, v->text = "64";
  ck_assert(mlp_sema_check_value(&a, batch, v, &d));
  v->num = 0, v->text = "0";
  ck_assert(!mlp_sema_check_value(&a, batch, v, &d));
  fclose(f);
  ck_assert_ptr_nonnull(strstr(out, "'batch' must be in [1, 1000000], got 0"));
  free(out);
  mlp_arena_free(&a);
}
END_TEST

Suite *sema_suite(void); /* the runner finds it by name */
Suite *sema_suite(void) {
  Suite *s = suite_create("sema");
  TCase *tc = tcase_create("sema");
  tcase_add_test(tc, sema_defaults_filled);
  tcase_add_test(tc, sema_given_values_win);
  tcase_add_test(tc, sema_recipes_and_architectures_expand);
  tcase_add_test(tc, sema_module_search_path);
  tcase_add_test(tc, sema_columns_from_header);
  tcase_add_test(tc, sema_schema_and_spaces);
  tcase_add_loop_test(tc, sema_rules, 0, (int)(sizeof rules / sizeof rules[0]));
  tcase_add_test(tc, sema_stops_after_max_errors);
  tcase_add_test(tc, sema_examples);
  tcase_add_test(tc, sema_check_value_api);
  suite_add_tcase(s, tc);
  return s;
}
