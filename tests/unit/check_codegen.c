/* check_codegen.c — the back end without the front end: a hand-built IR for
 * an iris classifier goes through codegen, the O2 pipeline, object emission
 * and linking with the runtime, and the program trains on the real data.
 * Also checks that the generated update loop is vectorised. */
#include <check.h>
#include <llvm-c/Core.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "emit.h"
#include "lower.h"
#include "testutil.h"

/* iris: 4 features, 3 classes; dense(16, relu) dropout(0.1) output(softmax). */
static MlpIr *iris_ir(MlpArena *a) {
  MlpIr *ir = mlp_arena_alloc(a, sizeof *ir);
  ir->name = "iris";
  ir->spec_path = "iris.mlp";
  ir->out_dir = "runs/iris";
  ir->threads = 1;
  ir->data = (MlpIrData){.format = "csv",
                         .path = "examples/data/iris.csv",
                         .target = "species",
                         .n_features = 4,
                         .n_classes = 3,
                         .val_frac = 0.2f,
                         .test_frac = 0.2f,
                         .stratify = true,
                         .split_seed = 42};
  ir->nmodels = 1;
  ir->models = mlp_arena_alloc(a, sizeof *ir->models);
  MlpIrModel *m = &ir->models[0];
  m->name = "model0";
  m->task = MLP_TASK_MULTICLASS;
  m->in_size = 4;
  m->batch = 16;
  m->init = MLP_INIT_HE_UNIFORM;
  m->nlayers = 3;
  m->layers = mlp_arena_alloc(a, 3 * sizeof *m->layers);
  m->layers[0] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 16};
  m->layers[1] = (MlpIrLayer){.op = MLP_OP_DROPOUT, .rate = 0.1f};
  m->layers[2] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3};
  mlp_lower_model(a, m);
  ir->njobs = 1;
  ir->jobs = mlp_arena_alloc(a, sizeof *ir->jobs);
  ir->jobs[0] = (MlpIrJob){.model = 0,
                           .optim = {MLP_OPTIM_ADAM, 0.01f, 0.9f, 0.999f, 1e-8f, 0, 0},
                           .epochs = 60,
                           .seed = 42,
                           .sched = MLP_SCHED_CONSTANT,
                           .smoke_subset = 0.2f,
                           .smoke_epochs = 2,
                           .early_stop = true,
                           .monitor = "val_loss",
                           .patience = 20,
                           .restore_best = true,
                           .fold = -1,
                           .trial = -1};
  return ir;
}

static const MlpCodegenInfo info = {"0000", "pipeline iris {}\n", "examples/data/iris.csv", NULL};

/* Builds the program into dir/prog; returns its path (malloc'd). */
static char *build(const MlpIr *ir, const char *dir, int opt, const char *ll_path) {
  char err[1024], lib[4096];
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = mlp_codegen(ctx, ir, &info);
  MlpEmitOpts o = {.opt = opt};
  ck_assert_msg(mlp_emit_optimize(mod, &o, err, sizeof err) == 0, "%s", err);
  if (ll_path) ck_assert_msg(mlp_emit_ll(mod, ll_path, err, sizeof err) == 0, "%s", err);
  size_t n = strlen(dir) + 16;
  char *obj = malloc(n), *exe = malloc(n);
  snprintf(obj, n, "%s/prog.o", dir);
  snprintf(exe, n, "%s/prog", dir);
  ck_assert_msg(mlp_emit_object(mod, &o, obj, err, sizeof err) == 0, "%s", err);
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  /* The suite runs from the repository root with the runtime built. */
  const char *bdir = getenv("MLP_BUILD") ? getenv("MLP_BUILD") : "build";
  snprintf(lib, sizeof lib, "%s/libmlprt.a", bdir);
  ck_assert_msg(mlp_emit_link(obj, lib, exe, err, sizeof err) == 0, "%s", err);
  free(obj);
  return exe;
}

static double json_number_after(const char *text, const char *key) {
  const char *p = strstr(text, key);
  ck_assert_msg(p != NULL, "no %s in %s", key, text);
  p = strchr(p + strlen(key), ':');
  return strtod(p + 1, NULL);
}

START_TEST(codegen_iris_trains) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIr *ir = iris_ir(&a);
  char *dir = test_tmpdir();
  char ll[4096], out[4096];
  snprintf(ll, sizeof ll, "%s/prog.ll", dir);
  char *exe = build(ir, dir, 2, ll);
  snprintf(out, sizeof out, "%s/run", dir);
  const char *argv[] = {exe, "--out", out, "--quiet", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
  char path[4200];
  snprintf(path, sizeof path, "%s/manifest.json", out);
  char *man = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(man);
  const char *test = strstr(man, "\"metrics\":\t{\n\t\t\"validation\"");
  ck_assert_ptr_nonnull(test);
  double acc = json_number_after(strstr(test, "\"test\""), "\"accuracy\"");
  ck_assert_msg(acc >= 0.9, "test accuracy %g", acc);
  /* The optimizer loop over the 131 parameters runs on vectors. */
  char *text = test_read_file(ll, NULL);
  const char *upd = strstr(text, "@model0_update(");
  ck_assert_ptr_nonnull(upd);
  ck_assert_ptr_nonnull(strstr(upd, "x float>"));
  free(text);
  free(man);
  test_run_free(&r);
  free(exe);
  free(dir);
  mlp_arena_free(&a);
}
END_TEST

START_TEST(codegen_rejects_bad_cli) {
  MlpArena a;
  mlp_arena_init(&a);
  char *dir = test_tmpdir();
  char *exe = build(iris_ir(&a), dir, 0, NULL);
  const char *argv[] = {exe, "--set", "epochz=3", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "unknown --set key 'epochz'"));
  test_run_free(&r);
  const char *argv2[] = {exe, "--help", NULL};
  r = test_run(argv2, NULL);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "--resume"));
  test_run_free(&r);
  free(exe);
  free(dir);
  mlp_arena_free(&a);
}
END_TEST

Suite *codegen_suite(void); /* the runner finds it by name */
Suite *codegen_suite(void) {
  Suite *s = suite_create("codegen");
  TCase *tc = tcase_create("codegen");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, codegen_iris_trains);
  tcase_add_test(tc, codegen_rejects_bad_cli);
  suite_add_tcase(s, tc);
  return s;
}
