/* check_codegen.c — the back end without the front end: a hand-built IR for
 * an iris classifier goes through codegen, the O2 pipeline, object emission
 * and linking with the runtime, and the program trains on the real data;
 * the generated update loop is vectorised; the optimized LLVM IR of a spec
 * addresses the memory plan by constant offsets and runs the fused
 * epilogue on vectors; and the generated backward
 * passes of every layer kind and loss, run in LLVM's JIT, agree with finite
 * differences of the generated forward pass and loss. */
#include <check.h>
#include <cjson/cJSON.h>
#include <llvm-c/Core.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "codegen.h"
#include "emit.h"
#include "lower.h"
#include "mlp/init.h"
#include "mlp/layers.h"
#include "mlp/loss.h"
#include "mlp/optim.h"
#include "mlp/run.h"
#include "mlp/tensor.h"
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
                         .val_frac = 0.2,
                         .test_frac = 0.2,
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
  ir->jobs[0] =
      (MlpIrJob){.model = 0,
                 .optim = {.kind = MLP_OPTIM_ADAM, .lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f},
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

static const MlpCodegenInfo info = {"0000", "pipeline iris {}\n", "examples/data/iris.csv", NULL, "mlpc test",
                                    "generic"};

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
  ck_assert_msg(mlp_emit_link(obj, lib, exe, false, err, sizeof err) == 0, "%s", err);
  /* a training program's GEMM is OpenBLAS's, which the kernels reference weakly */
  const char *rd[] = {"readelf", "-d", exe, NULL};
  TestRun r = test_run(rd, NULL);
  ck_assert_msg(r.status != 0 || strstr(r.out, "[libopenblas"), "the program does not load OpenBLAS:\n%s",
                r.out);
  test_run_free(&r);
  free(obj);
  return exe;
}

/* The text of `define ... @name(...) { ... }` in a .ll text (malloc'd). */
static char *function_body(const char *ll, const char *name) {
  char head[128];
  snprintf(head, sizeof head, "@%s(", name);
  const char *def = strstr(ll, head);
  ck_assert_msg(def != NULL, "no %s in the module", name);
  const char *end = strstr(def, "\n}\n");
  ck_assert_ptr_nonnull(end);
  return strndup(def, (size_t)(end - def + 2));
}

/* Whether the body of `define ... @name(` in a .ll text uses float vectors. */
static bool function_has_vectors(const char *ll, const char *name) {
  char *body = function_body(ll, name);
  bool found = strstr(body, "x float>") != NULL;
  free(body);
  return found;
}

/* FileCheck's CHECK lines: each pattern occurs in body after the one
 * before it. */
static void check_in_order(const char *body, const char *what, const char *const *patterns) {
  const char *at = body;
  for (int i = 0; patterns[i]; i++) {
    const char *hit = strstr(at, patterns[i]);
    ck_assert_msg(hit != NULL, "%s: no '%s' after '%s'", what, patterns[i],
                  i ? patterns[i - 1] : "the start");
    at = hit + strlen(patterns[i]);
  }
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
  const char *test = strstr(man, "\"metrics\":\t{\n\t\t\"evaluated_on\":\t\"test\"");
  ck_assert_ptr_nonnull(test);
  double acc = json_number_after(strstr(test, "\"test\""), "\"accuracy\"");
  ck_assert_msg(acc >= 0.9, "test accuracy %g", acc);
  char *text = test_read_file(ll, NULL);
  /* The fused bias + activation loops and the optimizer loop over the 131
   * parameters run on vectors. */
  ck_assert(function_has_vectors(text, "mlp_model0_forward"));
  ck_assert(function_has_vectors(text, "mlp_model0_update"));
  free(text);
  free(man);
  test_run_free(&r);
  free(exe);
  free(dir);
  mlp_arena_free(&a);
}
END_TEST

/* Properties of the optimized LLVM IR of a spec (`mlpc build --emit-llvm`,
 * for a fixed target and CPU so that the vector width is known): the
 * static memory plan is compiled in, every arena buffer addressed at its
 * planned offset as a constant, and the fused bias + activation epilogue of
 * a dense layer runs on 8-float vectors at -O2. */
START_TEST(codegen_llvm_ir_properties) {
  char *dir = test_tmpdir();
  char *ll = test_path(dir, "iris.ll");
  const char *emit[] = {test_mlpc(),
                        "build",
                        "examples/iris.mlp",
                        "--emit-llvm",
                        "-O2",
                        "--target",
                        "x86_64-unknown-linux-gnu",
                        "--cpu",
                        "x86-64-v3",
                        "-o",
                        ll,
                        NULL};
  test_run_ok(emit);
  const char *plan[] = {test_mlpc(), "build", "examples/iris.mlp", "--emit-ir", NULL};
  TestRun r = test_run(plan, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *ir = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(ir);
  const cJSON *memory =
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ir, "models"), 0), "memory");
  const cJSON *bufs = cJSON_GetObjectItem(memory, "buffers");
  char *text = test_read_file(ll, NULL);
  ck_assert_ptr_nonnull(text);
  static const char *const fns[] = {"mlp_model0_init", "mlp_model0_forward", "mlp_model0_backward",
                                    "mlp_model0_update"};
  char *fw = function_body(text, "mlp_model0_forward");
  /* Every byte offset added to the arena base is a constant inside a
   * planned buffer ... */
  const char *gep = "getelementptr inbounds i8, ptr %0, i64 ";
  for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
    char *body = function_body(text, fns[f]);
    for (const char *p = strstr(body, gep); p; p = strstr(p + 1, gep)) {
      const char *num = p + strlen(gep);
      ck_assert_msg(*num >= '0' && *num <= '9', "%s: an arena offset that is not a constant: %.60s", fns[f],
                    p);
      long long off = strtoll(num, NULL, 10);
      bool inside = false;
      for (const cJSON *b = bufs->child; b; b = b->next) {
        long long start = (long long)cJSON_GetObjectItem(b, "offset")->valuedouble;
        inside |= off >= start && off < start + (long long)cJSON_GetObjectItem(b, "bytes")->valuedouble;
      }
      ck_assert_msg(inside, "%s: arena offset %lld lies in no planned buffer", fns[f], off);
    }
    free(body);
  }
  /* ... and the forward pass finds the inputs and every activation at
   * their planned offsets. */
  for (const cJSON *b = bufs->child; b; b = b->next) {
    const char *name = cJSON_GetObjectItem(b, "name")->valuestring;
    if (strcmp(name, "x") != 0 && strncmp(name, "act", 3) != 0) continue;
    char want[128];
    snprintf(want, sizeof want, "%s%lld\n", gep, (long long)cJSON_GetObjectItem(b, "offset")->valuedouble);
    ck_assert_msg(strstr(fw, want), "forward does not address %s at its planned offset: no '%s'", name, want);
  }
  /* The first dense layer: GEMM by the runtime, then bias + relu fused in
   * one loop of 8-float vectors. */
  static const char *const epilogue[] = {"call void @mlprt_dense_forward(",
                                         "load <8 x float>",
                                         "fadd contract <8 x float>",
                                         "fcmp ogt <8 x float>",
                                         "select <8 x i1>",
                                         NULL};
  check_in_order(fw, "mlp_model0_forward", epilogue);
  free(fw);
  free(text);
  cJSON_Delete(ir);
  test_run_free(&r);
  remove(ll);
  rmdir(dir);
  free(ll);
  free(dir);
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

/* ---- gradient checks in the JIT ------------------------------------------ */

/* Seven small models that between them use every layer kind, activation
 * and loss code generation knows: a CNN (conv2d tanh, maxpool, conv2d
 * sigmoid, avgpool, batchnorm, flatten, dense relu, dropout, softmax +
 * cross-entropy), a regression MLP (tanh, batchnorm, leaky relu, linear +
 * MSE), a binary MLP (sigmoid, batchnorm, leaky relu, sigmoid + BCE), a
 * softmax MLP with label smoothing, recurrent layers over an image's
 * rows (a GRU's every step into an LSTM, its last state one step of a tanh
 * RNN, softmax), codes embedded and read by a bidirectional LSTM whose
 * every step feeds a bidirectional GRU (softmax), and transformer
 * encoders over a reshaped row with a gelu dense layer. */
static MlpIr *grad_ir(MlpArena *a, int which) {
  MlpIr *ir = iris_ir(a);
  MlpIrModel *m = &ir->models[0];
  memset(m, 0, sizeof *m);
  /* 7, 8: model 1 under mean absolute error and Huber's loss; 9: model 3
   * under the multiclass hinge */
  static const int losses[] = {[7] = MLPRT_LOSS_MAE, [8] = MLPRT_LOSS_HUBER, [9] = MLPRT_LOSS_HINGE};
  int loss = which >= 7 ? losses[which] : -1;
  if (which >= 7) which = which == 9 ? 3 : 1;
  m->name = "g";
  m->batch = 4;
  m->init = which == 2 ? MLP_INIT_HE_NORMAL : MLP_INIT_GLOROT_UNIFORM;
  MlpIrLayer *l = m->layers = mlp_arena_alloc(a, 10 * sizeof *m->layers);
  if (which == 5) {
    m->task = MLP_TASK_MULTICLASS;
    m->in_size = 4;
    l[0] = (MlpIrLayer){.op = MLP_OP_EMBEDDING, .vocab = 7, .units = 3};
    l[1] = (MlpIrLayer){.op = MLP_OP_RECURRENT,
                        .cell = MLPRT_CELL_LSTM,
                        .units = 3,
                        .return_sequences = true,
                        .bidirectional = true};
    l[2] = (MlpIrLayer){.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_GRU, .units = 2, .bidirectional = true};
    l[3] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3};
    m->nlayers = 4;
  } else if (which == 6) {
    /* a row read as 4 steps of 5 by two encoders (post-norm gelu blocks with
     * learned positions and dropout, every step; a pre-norm block with
     * sinusoidal positions, mean-pooled), a gelu dense layer, softmax */
    m->task = MLP_TASK_MULTICLASS;
    m->in_size = 20;
    l[0] = (MlpIrLayer){.op = MLP_OP_FLATTEN, .steps = 4};
    l[1] = (MlpIrLayer){.op = MLP_OP_ENCODER,
                        .rate = 0.2f,
                        .enc = {[MLPRT_ENC_D] = 6, [MLPRT_ENC_HEADS] = 2, [MLPRT_ENC_FF] = 8,
                                [MLPRT_ENC_LAYERS] = 2, [MLPRT_ENC_ACT] = MLPRT_ENC_GELU,
                                [MLPRT_ENC_POS] = MLPRT_POS_LEARNED, [MLPRT_ENC_POOL] = MLPRT_POOL_NONE}};
    l[2] = (MlpIrLayer){.op = MLP_OP_ENCODER,
                        .enc = {[MLPRT_ENC_D] = 6, [MLPRT_ENC_HEADS] = 3, [MLPRT_ENC_FF] = 5,
                                [MLPRT_ENC_LAYERS] = 1, [MLPRT_ENC_NORM_FIRST] = 1,
                                [MLPRT_ENC_ACT] = MLPRT_ENC_GELU, [MLPRT_ENC_POS] = MLPRT_POS_SINUSOIDAL,
                                [MLPRT_ENC_POOL] = MLPRT_POOL_MEAN}};
    l[3] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_GELU, .out_size = 5};
    l[4] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3};
    m->nlayers = 5;
  } else if (which == 4) {
    m->task = MLP_TASK_MULTICLASS;
    m->in_c = 1, m->in_h = 4, m->in_w = 5;
    l[0] = (MlpIrLayer){.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_GRU, .units = 3, .return_sequences = true};
    l[1] = (MlpIrLayer){.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_LSTM, .units = 4};
    l[2] = (MlpIrLayer){.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_RNN, .units = 3};
    l[3] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3};
    m->nlayers = 4;
  } else if (which == 0) {
    m->task = MLP_TASK_MULTICLASS;
    m->in_c = 2, m->in_h = 6, m->in_w = 6;
    l[0] = (MlpIrLayer){
        .op = MLP_OP_CONV2D, .act = MLP_ACT_TANH, .out_c = 3, .kernel = 3, .stride = 1, .pad = 1};
    l[1] = (MlpIrLayer){.op = MLP_OP_MAXPOOL2D, .kernel = 2, .stride = 2};
    l[2] = (MlpIrLayer){.op = MLP_OP_CONV2D, .act = MLP_ACT_SIGMOID, .out_c = 2, .kernel = 2, .stride = 1};
    l[3] = (MlpIrLayer){.op = MLP_OP_AVGPOOL2D, .kernel = 2, .stride = 1};
    l[4] = (MlpIrLayer){.op = MLP_OP_BATCHNORM, .momentum = 0.1f, .eps = 1e-5f};
    l[5] = (MlpIrLayer){.op = MLP_OP_FLATTEN};
    l[6] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 7};
    l[7] = (MlpIrLayer){.op = MLP_OP_DROPOUT, .rate = 0.25f};
    l[8] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3};
    m->nlayers = 9;
  } else if (which == 3) {
    /* A softmax MLP trained against smoothed targets. */
    m->task = MLP_TASK_MULTICLASS;
    m->in_size = 5;
    m->label_smoothing = 0.2f;
    l[0] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_TANH, .out_size = 6};
    l[1] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 4};
    m->nlayers = 2;
  } else {
    m->task = which == 1 ? MLP_TASK_REGRESSION : MLP_TASK_BINARY;
    m->in_size = 5;
    l[0] =
        (MlpIrLayer){.op = MLP_OP_DENSE, .act = which == 1 ? MLP_ACT_TANH : MLP_ACT_SIGMOID, .out_size = 6};
    l[1] = (MlpIrLayer){.op = MLP_OP_BATCHNORM, .momentum = 0.1f, .eps = 1e-5f};
    l[2] = (MlpIrLayer){.op = MLP_OP_DENSE, .act = MLP_ACT_LEAKY_RELU, .out_size = 4};
    if (which == 1) {
      /* layers' own inits (dense.init), and a dense layer without bias */
      l[0].init = 1 + MLP_INIT_UNIFORM;
      l[2].init = 1 + MLP_INIT_NORMAL;
      l[2].no_bias = true;
    }
    l[3] = (MlpIrLayer){.op = MLP_OP_DENSE,
                        .act = which == 1 ? MLP_ACT_LINEAR : MLP_ACT_SIGMOID,
                        .out_size = which == 1 ? 2 : 1};
    m->nlayers = 4;
  }
  m->loss = loss >= 0 ? loss : (int)m->task; /* the task's default loss has its code */
  m->huber_delta = 0.3f;
  if (loss == MLPRT_LOSS_HINGE) m->label_smoothing = 0;
  ck_assert_int_eq(mlp_lower_model(a, m), -1);
  return ir;
}

/* A recurrent layer reads a one-channel image's rows or a vector; after a
 * convolution's two channels it has no output, which lowering reports as
 * that layer's. */
START_TEST(lower_refuses_recurrent_over_channels) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrModel m = {.name = "r", .task = MLP_TASK_MULTICLASS, .in_c = 1, .in_h = 5, .in_w = 5, .batch = 2};
  MlpIrLayer l[] = {{.op = MLP_OP_CONV2D, .act = MLP_ACT_RELU, .out_c = 2, .kernel = 3, .stride = 1},
                    {.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_LSTM, .units = 3},
                    {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  m.layers = l;
  m.nlayers = 3;
  ck_assert_int_eq(mlp_lower_model(&a, &m), 1);
  l[0].out_c = 1; /* one channel: 3 steps of 3 */
  ck_assert_int_eq(mlp_lower_model(&a, &m), -1);
  ck_assert_int_eq(l[1].steps, 3);
  ck_assert_int_eq(l[1].features, 3);
  ck_assert_int_eq(l[1].n_params, 4 * 3 * (3 + 3 + 2));
  mlp_arena_free(&a);
}
END_TEST

/* The generated init leaves exactly what the runtime's initializer gives
 * each weight tensor (PyTorch's shapes and fans, the layer's index as its
 * stream), biases 0; a recurrent layer's weights and biases PyTorch's
 * U(-1/sqrt(units), 1/sqrt(units)), one stream; an embedding's table
 * N(0, 1). */
static void expect_runtime_init(const MlpIrModel *m, const float *params, uint64_t seed) {
  /* the init set's meanings (He for ReLU, Glorot with gain 1, U[-0.05, 0.05), N(0, 0.05)) by MlpInit */
  static const MlprtInit specs[] = {
      [MLP_INIT_HE_NORMAL] = {.kind = MLPRT_INIT_KAIMING_NORMAL, .gain = M_SQRT2},
      [MLP_INIT_GLOROT_UNIFORM] = {.kind = MLPRT_INIT_XAVIER_UNIFORM, .gain = 1},
      [MLP_INIT_ZEROS] = {.kind = MLPRT_INIT_ZEROS},
      [MLP_INIT_UNIFORM] = {.kind = MLPRT_INIT_UNIFORM, .a = -0.05, .b = 0.05, .gain = 1},
      [MLP_INIT_NORMAL] = {.kind = MLPRT_INIT_NORMAL, .a = 0, .b = 0.05, .gain = 1},
  };
  int weighted = 0;
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    if (l->op == MLP_OP_ENCODER) {
      float *want = malloc((size_t)l->n_params * sizeof *want);
      mlprt_encoder_init(want, l->enc, seed, (uint64_t)i);
      ck_assert_mem_eq(params + l->w_off, want, (size_t)l->n_params * sizeof *want);
      free(want);
      weighted++;
      continue;
    }
    if (l->op == MLP_OP_RECURRENT || l->op == MLP_OP_EMBEDDING) {
      double k = 1 / sqrt((double)l->units);
      MlprtInit u = {.kind = MLPRT_INIT_UNIFORM, .a = -k, .b = k};
      if (l->op == MLP_OP_EMBEDDING) u = (MlprtInit){.kind = MLPRT_INIT_NORMAL, .a = 0, .b = 1};
      float *want = malloc((size_t)l->n_params * sizeof *want);
      mlprt_init_fill(want, &l->n_params, 1, &u, seed, (uint64_t)i);
      ck_assert_mem_eq(params + l->w_off, want, (size_t)l->n_params * sizeof *want);
      free(want);
      weighted++;
      continue;
    }
    if (l->op != MLP_OP_DENSE && l->op != MLP_OP_CONV2D) continue;
    bool conv = l->op == MLP_OP_CONV2D;
    int64_t shape[] = {conv ? l->out_c : l->out_size, conv ? l->in_c : l->in_size, l->kernel, l->kernel};
    int64_t nw = l->b_off - l->w_off;
    float *want = malloc((size_t)nw * sizeof *want);
    MlprtInit spec = specs[l->init ? l->init - 1 : (int)m->init];
    mlprt_init_fill(want, shape, conv ? 4 : 2, &spec, seed, (uint64_t)i);
    ck_assert_mem_eq(params + l->w_off, want, (size_t)nw * sizeof *want);
    for (int64_t k = l->b_off; k < l->w_off + l->n_params; k++) ck_assert_float_eq(params[k], 0);
    free(want);
    weighted++;
  }
  ck_assert_int_ge(weighted, 2);
}

typedef void (*InitFn)(void *, uint64_t);
typedef void (*ForwardFn)(void *, int64_t, int64_t, uint64_t, uint64_t);
typedef double (*BackwardFn)(void *, int64_t);

/* The runtime functions generated code calls, for the JIT's symbol table
 * (the test binary links them statically, so the process cannot be
 * searched for them). */
static void define_runtime(LLVMOrcLLJITRef jit, LLVMOrcJITDylibRef jd) {
  static const struct {
    const char *name;
    void (*fn)(void);
  } syms[] = {
#define RT(f) {#f, (void (*)(void))f}
      RT(mlprt_dense_forward),
      RT(mlprt_dense_backward),
      RT(mlprt_conv2d_forward),
      RT(mlprt_conv2d_backward),
      RT(mlprt_maxpool2d_forward),
      RT(mlprt_maxpool2d_backward),
      RT(mlprt_avgpool2d_forward),
      RT(mlprt_avgpool2d_backward),
      RT(mlprt_steps_pool_forward),
      RT(mlprt_steps_pool_backward),
      RT(mlprt_batchnorm_forward_train),
      RT(mlprt_batchnorm_forward_infer),
      RT(mlprt_batchnorm_backward),
      RT(mlprt_dropout_forward),
      RT(mlprt_dropout_backward),
      RT(mlprt_recurrent_forward),
      RT(mlprt_recurrent_backward),
      RT(mlprt_embedding_forward),
      RT(mlprt_embedding_backward),
      RT(mlprt_encoder_forward),
      RT(mlprt_encoder_backward),
      RT(mlprt_encoder_init),
      RT(mlprt_init_fill),
      RT(mlprt_run_open),
      RT(mlprt_run_load),
      RT(mlprt_run_smoke),
      RT(mlprt_run_fit),
      RT(mlprt_run_test),
      RT(mlprt_run_best),
      RT(mlprt_run_close),
#undef RT
  };
  enum { N = sizeof syms / sizeof syms[0] };
  LLVMOrcCSymbolMapPair pairs[N];
  for (int i = 0; i < N; i++) {
    pairs[i].Name = LLVMOrcLLJITMangleAndIntern(jit, syms[i].name);
    pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)syms[i].fn;
    pairs[i].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
    pairs[i].Sym.Flags.TargetFlags = 0;
  }
  ck_assert_ptr_null(LLVMOrcJITDylibDefine(jd, LLVMOrcAbsoluteSymbols(pairs, N)));
  LLVMOrcDefinitionGeneratorRef libc;
  ck_assert_ptr_null(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &libc, LLVMOrcLLJITGetGlobalPrefix(jit), NULL, NULL));
  LLVMOrcJITDylibAddGenerator(jd, libc);
}

static void *lookup(LLVMOrcLLJITRef jit, const char *name) {
  LLVMOrcExecutorAddress addr = 0;
  LLVMErrorRef e = LLVMOrcLLJITLookup(jit, &addr, name);
  ck_assert_msg(e == NULL, "lookup of %s failed", name);
  return (void *)(uintptr_t)addr;
}

/* ir's program in a fresh JIT that resolves the runtime's functions. */
static LLVMOrcLLJITRef jit_program(const MlpIr *ir) {
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  LLVMOrcLLJITRef jit;
  ck_assert_ptr_null(LLVMOrcCreateLLJIT(&jit, NULL));
  LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit);
  define_runtime(jit, jd);
  LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
  LLVMModuleRef mod = mlp_codegen(LLVMOrcThreadSafeContextGetContext(tsc), ir, &info);
  ck_assert_ptr_null(LLVMOrcLLJITAddLLVMIRModule(jit, jd, LLVMOrcCreateNewThreadSafeModule(mod, tsc)));
  LLVMOrcDisposeThreadSafeContext(tsc);
  return jit;
}

/* Inputs and targets, then the forward pass (training mode). The memory
 * plan lets later buffers reuse the targets' bytes once the loss has read
 * them, so like the runtime the test fills them before every pass. */
static void step(const MlpIrModel *m, unsigned char *base, ForwardFn forward, int64_t n, float *x, float *y) {
  mlprt_fill_uniform(x, (size_t)(n * m->in_size), -1, 1, 5, 1);
  /* an embedding reads whole codes in [0, vocab) */
  int64_t codes = m->layers[0].op == MLP_OP_EMBEDDING ? m->layers[0].vocab : 0;
  for (int64_t i = 0; codes && i < n * m->in_size; i++) x[i] = (float)((int64_t)((x[i] + 1) * 100) % codes);
  for (int64_t i = 0; i < n; i++) {
    if (m->task == MLP_TASK_MULTICLASS) {
      for (int64_t k = 0; k < m->out_size; k++) y[i * m->out_size + k] = k == i % m->out_size;
    } else if (m->task == MLP_TASK_BINARY) {
      y[i] = (float)(i % 2);
    } else {
      for (int64_t k = 0; k < m->out_size; k++) y[i * m->out_size + k] = (float)(i - k) * 0.5f;
    }
  }
  forward(base, n, 1, 3, 9);
}

START_TEST(codegen_gradients_match_finite_differences) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIr *ir = grad_ir(&a, _i);
  const MlpIrModel *m = &ir->models[0];
  LLVMOrcLLJITRef jit = jit_program(ir);
  InitFn init = (InitFn)lookup(jit, "mlp_g_init");
  ForwardFn forward = (ForwardFn)lookup(jit, "mlp_g_forward");
  BackwardFn backward = (BackwardFn)lookup(jit, "mlp_g_backward");

  unsigned char *base = mlprt_alloc_aligned((size_t)m->arena_bytes);
  init(base, 11);
  float *params = (float *)(base + m->bufs[m->params_buf].offset);
  float *grads = (float *)(base + m->bufs[m->grads_buf].offset);
  expect_runtime_init(m, params, 11);
  float *x = (float *)(base + m->bufs[m->x_buf].offset), *y = (float *)(base + m->bufs[m->y_buf].offset);
  int64_t n = 3; /* fewer rows than the batch: the row count is a run-time argument */
  /* The same step and seed on every call: the same dropout mask. */
  step(m, base, forward, n, x, y);
  double loss = backward(base, n);
  ck_assert(isfinite(loss) && loss > 0);
  float *analytic = malloc((size_t)m->n_params * sizeof *analytic);
  memcpy(analytic, grads, (size_t)m->n_params * sizeof *analytic);
  const float eps = 1e-3f;
  int checked = 0;
  for (int64_t i = 0; i < m->n_params; i += 1 + m->n_params / 60) {
    float keep = params[i];
    params[i] = keep + eps;
    step(m, base, forward, n, x, y);
    double up = backward(base, n);
    params[i] = keep - eps;
    step(m, base, forward, n, x, y);
    double down = backward(base, n);
    params[i] = keep;
    double numeric = (up - down) / (2 * eps);
    ck_assert_msg(fabs(numeric - analytic[i]) <= 2e-3 + 3e-2 * fabs(numeric),
                  "model %d parameter %lld: analytic %g, numeric %g", _i, (long long)i, analytic[i], numeric);
    checked++;
  }
  ck_assert_int_ge(checked, 20);
  if (m->label_smoothing > 0) {
    /* The smoothed loss and its gradient in the logits are the runtime's
     * mlprt_softmax_xent (PyTorch's label_smoothing): log p are logits of
     * the same softmax. */
    step(m, base, forward, n, x, y);
    int64_t k = m->out_size;
    float logits[16], want[16];
    int32_t labels[4];
    const float *p = (const float *)(base + m->bufs[m->layers[m->nlayers - 1].out_buf].offset);
    for (int64_t i = 0; i < n; i++) {
      labels[i] = (int32_t)(i % k);
      for (int64_t c = 0; c < k; c++) logits[i * k + c] = logf(p[i * k + c]);
    }
    double got = backward(base, n);
    float ref = mlprt_softmax_xent(want, NULL, logits, labels, NULL, m->label_smoothing, (int)n, (int)k);
    ck_assert_msg(fabs(got - ref) <= 1e-5 * fabs(ref), "smoothed loss %g, runtime %g", got, ref);
    const float *dz = (const float *)(base + m->bufs[m->layers[m->nlayers - 1].dout_buf].offset);
    for (int64_t i = 0; i < n * k; i++)
      ck_assert_msg(fabsf(dz[i] - want[i]) <= 1e-6f, "dlogit %lld: %g, runtime %g", (long long)i, dz[i],
                    want[i]);
    /* Smoothing changes the loss: without it the same outputs cost less. */
    float plain = mlprt_softmax_xent(NULL, NULL, logits, labels, NULL, 0, (int)n, (int)k);
    ck_assert(fabs(plain - ref) > 1e-3);
  }
  if (m->loss >= MLPRT_LOSS_MAE) {
    /* The loss is the runtime's mlprt_mae, mlprt_huber or
     * mlprt_hinge_multiclass (PyTorch's L1Loss, HuberLoss and
     * MultiMarginLoss, check_loss), the hinge's logits read as log p; its
     * gradients are the finite differences' above. */
    step(m, base, forward, n, x, y);
    int64_t k = m->out_size;
    float out[16], target[16];
    int32_t labels[4];
    const float *p = (const float *)(base + m->bufs[m->layers[m->nlayers - 1].out_buf].offset);
    for (int64_t i = 0; i < n; i++) {
      labels[i] = (int32_t)(i % k);
      for (int64_t c = 0; c < k; c++) {
        out[i * k + c] = m->loss == MLPRT_LOSS_HINGE ? logf(p[i * k + c]) : p[i * k + c];
        target[i * k + c] = (float)(i - c) * 0.5f; /* step's regression targets */
      }
    }
    double got = backward(base, n);
    float ref = m->loss == MLPRT_LOSS_MAE     ? mlprt_mae(NULL, out, target, (int)n, (int)k)
                : m->loss == MLPRT_LOSS_HUBER ? mlprt_huber(NULL, out, target, (int)n, (int)k, m->huber_delta)
                                              : mlprt_hinge_multiclass(NULL, out, labels, (int)n, (int)k, 1);
    ck_assert_msg(fabs(got - ref) <= 1e-5 * fabs(ref), "model %d: loss %g, runtime %g", _i, got, ref);
  }
  free(analytic);
  mlprt_free_aligned(base);
  LLVMOrcDisposeLLJIT(jit);
  mlp_arena_free(&a);
}
END_TEST

/* The generated optimizer update against the runtime's reference
 * optimizers (optim.h, PyTorch's formulas), with penalties and clipping:
 * Adam with L1, L2 and value clipping; AdamW with decoupled decay and norm
 * clipping; SGD with momentum and L2, classic and Nesterov. Three steps on
 * the same gradient. */
START_TEST(codegen_update_matches_runtime_optimizers) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIr *ir = grad_ir(&a, 1);
  const MlpIrModel *m = &ir->models[0];
  MlpIrOptim *o = &ir->jobs[0].optim;
  MlprtOptConfig cfg;
  if (_i == 0) {
    *o = (MlpIrOptim){.kind = MLP_OPTIM_ADAM,
                      .lr = 0.01f,
                      .beta1 = 0.9f,
                      .beta2 = 0.999f,
                      .eps = 1e-8f,
                      .l1 = 0.05f,
                      .l2 = 0.1f,
                      .clip_value = 0.15f};
    cfg = mlprt_optim_defaults(MLPRT_OPT_ADAM);
    cfg.l1 = o->l1, cfg.l2 = o->l2;
  } else if (_i == 1) {
    *o = (MlpIrOptim){.kind = MLP_OPTIM_ADAMW,
                      .lr = 0.02f,
                      .beta1 = 0.8f,
                      .beta2 = 0.99f,
                      .eps = 1e-7f,
                      .weight_decay = 0.05f,
                      .clip_norm = 0.5f};
    cfg = mlprt_optim_defaults(MLPRT_OPT_ADAMW);
    cfg.beta1 = o->beta1, cfg.beta2 = o->beta2, cfg.eps = o->eps, cfg.weight_decay = o->weight_decay;
  } else {
    /* SGD with momentum and L2; the fourth with Nesterov's look-ahead. */
    *o = (MlpIrOptim){.kind = MLP_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f, .l2 = 0.1f, .nesterov = _i == 3};
    cfg = mlprt_optim_defaults(MLPRT_OPT_SGD);
    cfg.momentum = o->momentum, cfg.l2 = o->l2, cfg.nesterov = o->nesterov;
  }
  cfg.lr = o->lr;
  LLVMOrcLLJITRef jit = jit_program(ir);
  void (*update)(void *, double, int64_t, int64_t, int64_t) =
      (void (*)(void *, double, int64_t, int64_t, int64_t))lookup(jit, "mlp_g_update");

  size_t n = (size_t)m->n_params;
  unsigned char *base = mlprt_alloc_aligned((size_t)m->arena_bytes);
  float *params = (float *)(base + m->bufs[m->params_buf].offset);
  float *grads = (float *)(base + m->bufs[m->grads_buf].offset);
  float *ref = malloc(n * sizeof *ref), *g = malloc(n * sizeof *g);
  mlprt_fill_uniform(params, n, -1, 1, 3, 0);
  /* Small gradients, so that the penalty terms move the result. */
  mlprt_fill_uniform(grads, n, -0.2f, 0.2f, 3, 1);
  grads[0] = 0; /* sign(0) is 0 for L1 */
  params[1] = 0;
  memcpy(ref, params, n * sizeof *ref);
  MlprtOptim opt;
  mlprt_optim_init(&opt, &cfg, n);
  /* In two parts, as two ranks update theirs: each element alone. */
  int64_t half = (int64_t)n / 2 + 1;
  for (int64_t t = 1; t <= 3; t++) {
    update(base, o->lr, t, 0, half);
    update(base, o->lr, t, half, (int64_t)n);
    memcpy(g, grads, n * sizeof *g);
    if (o->clip_norm > 0) mlprt_clip_grad_norm(g, n, o->clip_norm);
    if (o->clip_value > 0) mlprt_clip_grad_value(g, n, o->clip_value);
    mlprt_optim_step(&opt, ref, g, NULL, o->lr);
  }
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fabsf(params[i] - ref[i]) <= 1e-5f + 1e-5f * fabsf(ref[i]),
                  "optimizer %d parameter %zu: generated %.9g, runtime %.9g", _i, i, params[i], ref[i]);
  mlprt_optim_free(&opt);
  free(ref);
  free(g);
  mlprt_free_aligned(base);
  LLVMOrcDisposeLLJIT(jit);
  mlp_arena_free(&a);
}
END_TEST

/* The generated RMSprop update against torch.optim.RMSprop itself
 * (tests/parity/optim.py): 100 steps, each on a fresh gradient, from the
 * same parameters; plain, and with momentum and L2 (PyTorch's
 * weight_decay). Skipped without PyTorch. */
START_TEST(codegen_rmsprop_matches_torch) {
  enum { STEPS = 100 };
  MlpArena a;
  mlp_arena_init(&a);
  MlpIr *ir = grad_ir(&a, 1);
  const MlpIrModel *m = &ir->models[0];
  MlpIrOptim *o = &ir->jobs[0].optim;
  if (_i == 0)
    *o = (MlpIrOptim){.kind = MLP_OPTIM_RMSPROP, .lr = 0.01f, .rho = 0.9, .eps = 1e-8f};
  else
    *o = (MlpIrOptim){.kind = MLP_OPTIM_RMSPROP, .lr = 0.003f, .rho = 0.99, .eps = 1e-6f, .momentum = 0.9f,
                      .l2 = 0.01f};
  LLVMOrcLLJITRef jit = jit_program(ir);
  void (*update)(void *, double, int64_t, int64_t, int64_t) =
      (void (*)(void *, double, int64_t, int64_t, int64_t))lookup(jit, "mlp_g_update");
  size_t n = (size_t)m->n_params;
  unsigned char *base = mlprt_alloc_aligned((size_t)m->arena_bytes);
  memset(base, 0, (size_t)m->arena_bytes); /* the moments start at zero, as reset_model leaves them */
  float *params = (float *)(base + m->bufs[m->params_buf].offset);
  float *grads = (float *)(base + m->bufs[m->grads_buf].offset);
  float *all = malloc(STEPS * n * sizeof *all);
  mlprt_fill_uniform(params, n, -1, 1, 3, 0);
  char *dir = test_tmpdir(), *p0 = test_path(dir, "params.f32"), *gp = test_path(dir, "grads.f32");
  FILE *f = fopen(p0, "wb");
  ck_assert_uint_eq(fwrite(params, sizeof *params, n, f), n);
  fclose(f);
  for (int64_t t = 1; t <= STEPS; t++) {
    mlprt_fill_uniform(grads, n, -0.5f, 0.5f, 7, (uint64_t)t);
    memcpy(all + (size_t)(t - 1) * n, grads, n * sizeof *grads);
    update(base, o->lr, t, 0, (int64_t)n);
  }
  f = fopen(gp, "wb");
  ck_assert_uint_eq(fwrite(all, sizeof *all, STEPS * n, f), STEPS * n);
  fclose(f);
  char settings[160];
  snprintf(settings, sizeof settings, "lr=%.9g rho=%.17g eps=%.9g momentum=%.9g l2=%.9g", o->lr, o->rho,
           o->eps, o->momentum, o->l2);
  const char *probe[] = {"/usr/bin/python3", "-c", "import torch", NULL};
  TestRun r = test_run(probe, NULL);
  bool have_torch = r.status == 0;
  test_run_free(&r);
  if (!have_torch) {
    test_skip("codegen_rmsprop_matches_torch", "python3-torch", "/usr/bin/python3 -c 'import torch' failed");
  } else {
    const char *args[] = {dir, "rmsprop"};
    cJSON *answer = test_parity_oracle("codegen_rmsprop_matches_torch", "optim.py", args, 2, settings);
    ck_assert_ptr_nonnull(answer);
    cJSON_Delete(answer);
    char *fp = test_path(dir, "final.f32");
    size_t len = 0;
    float *want = (float *)test_read_file(fp, &len);
    ck_assert_uint_eq(len, n * sizeof *want);
    float worst = 0;
    for (size_t i = 0; i < n; i++) {
      float d = fabsf(params[i] - want[i]);
      ck_assert_msg(d <= 1e-5f + 1e-5f * fabsf(want[i]), "case %d parameter %zu: generated %.9g, torch %.9g",
                    _i, i, params[i], want[i]);
      worst = d > worst ? d : worst;
    }
    printf("rmsprop case %d: %d steps, %zu parameters, largest difference from torch %.3g\n", _i, STEPS, n,
           (double)worst);
    free(want);
    free(fp);
  }
  free(p0);
  free(gp);
  free(dir);
  free(all);
  mlprt_free_aligned(base);
  LLVMOrcDisposeLLJIT(jit);
  mlp_arena_free(&a);
}
END_TEST

/* abi.def is the one description of what generated code calls: every row
 * maps to LLVM types, and the types built from it are the C declaration's
 * (spot checks of each kind of parameter). */
START_TEST(abi_table_maps_every_row) {
  char err[256] = "";
  ck_assert_msg(mlp_abi_valid(err, sizeof err), "abi.def row with an unmapped type: %s", err);
  ck_assert_int_eq(MLP_ABI_NFNS, 44);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMTypeRef t = mlp_abi_type(ctx, MLP_ABI_mlprt_dropout_forward);
  ck_assert_uint_eq(LLVMCountParamTypes(t), 8);
  ck_assert_uint_eq(mlp_abi_nparams(MLP_ABI_mlprt_dropout_forward), 8);
  LLVMTypeRef ps[8];
  LLVMGetParamTypes(t, ps);
  ck_assert(ps[0] == LLVMPointerTypeInContext(ctx, 0));
  ck_assert(ps[3] == LLVMInt64TypeInContext(ctx)); /* size_t n */
  ck_assert(ps[4] == LLVMFloatTypeInContext(ctx)); /* float p */
  ck_assert(ps[6] == LLVMInt32TypeInContext(ctx)); /* uint32_t site */
  ck_assert(LLVMGetReturnType(t) == LLVMVoidTypeInContext(ctx));
  t = mlp_abi_type(ctx, MLP_ABI_mlprt_run_open);
  ck_assert(LLVMGetReturnType(t) == LLVMPointerTypeInContext(ctx, 0));
  t = mlp_abi_type(ctx, MLP_ABI_mlprt_run_close);
  ck_assert(LLVMGetReturnType(t) == LLVMInt32TypeInContext(ctx));
  ck_assert_str_eq(mlp_abi_name(MLP_ABI_mlprt_qdense), "mlprt_qdense");
  ck_assert_uint_eq(mlp_abi_nparams(MLP_ABI_mlprt_conv2d_backward), 16);
  LLVMContextDispose(ctx);
}
END_TEST

/* A descriptor is built field by field: every field once, of its slot's
 * kind, or the compiler stops with an internal error naming the field. */
static void set_all_job_fields_but(MlpDescBuild *b, LLVMContextRef ctx, int skip) {
  mlp_desc_begin(b, MLP_DESC_JOB);
  LLVMTypeRef i64 = LLVMInt64TypeInContext(ctx), f64 = LLVMDoubleTypeInContext(ctx);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  for (int f = 0; f < MLPRT_JOB_NFIELDS; f++) {
    if (f == skip) continue;
    int kind = mlp_desc_field_kind(MLP_DESC_JOB, f);
    LLVMValueRef v = kind == MLPRT_PTR   ? LLVMConstNull(ptr)
                     : kind == MLPRT_F64 ? LLVMConstReal(f64, 0)
                                         : LLVMConstInt(i64, 0, 0);
    mlp_desc_set(b, f, v);
  }
}

START_TEST(desc_builds_by_name) {
  LLVMContextRef ctx = LLVMContextCreate();
  MlpDescBuild b;
  set_all_job_fields_but(&b, ctx, -1);
  LLVMValueRef v = mlp_desc_end(&b, ctx);
  ck_assert_uint_eq(LLVMCountStructElementTypes(LLVMTypeOf(v)), MLPRT_JOB_NFIELDS);
  ck_assert_int_eq(mlp_desc_nfields(MLP_DESC_JOB), MLPRT_JOB_NFIELDS);
  ck_assert_str_eq(mlp_desc_field_name(MLP_DESC_JOB, MLPRT_JOB_patience), "patience");
  ck_assert_str_eq(mlp_desc_field_name(MLP_DESC_PROGRAM, MLPRT_PROGRAM_no_card), "no_card");
  LLVMContextDispose(ctx);
}
END_TEST

START_TEST(desc_refuses_a_missing_field) {
  LLVMContextRef ctx = LLVMContextCreate();
  MlpDescBuild b;
  set_all_job_fields_but(&b, ctx, MLPRT_JOB_patience);
  mlp_desc_end(&b, ctx); /* aborts */
}
END_TEST

START_TEST(desc_refuses_a_value_of_another_kind) {
  LLVMContextRef ctx = LLVMContextCreate();
  MlpDescBuild b;
  mlp_desc_begin(&b, MLP_DESC_JOB);
  /* aborts: lr is a double */
  mlp_desc_set(&b, MLPRT_JOB_lr, LLVMConstInt(LLVMInt64TypeInContext(ctx), 1, 0));
}
END_TEST

Suite *codegen_suite(void); /* the runner finds it by name */
Suite *codegen_suite(void) {
  Suite *s = suite_create("codegen");
  TCase *tc = tcase_create("codegen");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, abi_table_maps_every_row);
  tcase_add_test(tc, desc_builds_by_name);
  tcase_add_test_raise_signal(tc, desc_refuses_a_missing_field, SIGABRT);
  tcase_add_test_raise_signal(tc, desc_refuses_a_value_of_another_kind, SIGABRT);
  tcase_add_test(tc, codegen_iris_trains);
  tcase_add_test(tc, codegen_rejects_bad_cli);
  tcase_add_test(tc, codegen_llvm_ir_properties);
  tcase_add_loop_test(tc, codegen_gradients_match_finite_differences, 0, 10);
  tcase_add_test(tc, lower_refuses_recurrent_over_channels);
  tcase_add_loop_test(tc, codegen_update_matches_runtime_optimizers, 0, 4);
  tcase_add_loop_test(tc, codegen_rmsprop_matches_torch, 0, 2);
  suite_add_tcase(s, tc);
  return s;
}
