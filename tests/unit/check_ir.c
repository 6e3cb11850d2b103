/* check_ir.c — the IR: the static memory planner, model lowering (shapes,
 * parameter offsets, FLOPs, buffer lifetimes) and the --emit-ir JSON. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "mlp/tensor.h"

static MlpIrModel *model(MlpArena *a, int64_t in, int64_t batch, const MlpIrLayer *layers, int n) {
  MlpIrModel *m = mlp_arena_alloc(a, sizeof *m);
  m->name = "m";
  m->in_size = in;
  m->batch = batch;
  m->nlayers = n;
  m->layers = mlp_arena_alloc(a, (size_t)n * sizeof *m->layers);
  memcpy(m->layers, layers, (size_t)n * sizeof *layers);
  mlp_lower_model(a, m);
  return m;
}

START_TEST(ir_plan_shares_disjoint_lifetimes) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrModel m = {0};
  int x = mlp_ir_add_buffer(&a, &m, "x", 1000, 0, 1);
  int y = mlp_ir_add_buffer(&a, &m, "y", 1000, 2, 3);
  int z = mlp_ir_add_buffer(&a, &m, "z", 100, 1, 2);
  mlp_ir_plan_memory(&m);
  ck_assert(mlp_ir_plan_valid(&m));
  /* x and y never live together, so they share bytes; z overlaps both. */
  ck_assert_int_eq(m.bufs[x].offset, m.bufs[y].offset);
  ck_assert_int_ne(m.bufs[z].offset, m.bufs[x].offset);
  ck_assert_int_eq(m.bufs[z].offset % MLPRT_ALIGN, 0);
  ck_assert_int_eq(m.arena_bytes, (int64_t)(mlprt_align_up(1000) + mlprt_align_up(100)));
  /* A plan where everything overlaps is the sum of the aligned sizes. */
  MlpIrModel all = {0};
  for (int i = 0; i < 5; i++) mlp_ir_add_buffer(&a, &all, "b", 10 * (i + 1), 0, 9);
  mlp_ir_plan_memory(&all);
  ck_assert(mlp_ir_plan_valid(&all));
  ck_assert_int_eq(all.arena_bytes, 5 * MLPRT_ALIGN);
  /* Breaking the plan is detected. */
  all.bufs[1].offset = all.bufs[0].offset;
  ck_assert(!mlp_ir_plan_valid(&all));
  mlp_arena_free(&a);
}
END_TEST

START_TEST(ir_lower_dense_model) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 16},
                     {.op = MLP_OP_DROPOUT, .rate = 0.1f},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 16},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  MlpIrModel *m = model(&a, 4, 16, ls, 4);
  /* 4*16+16, 16*16+16, 16*3+3 */
  ck_assert_int_eq(m->n_params, 80 + 272 + 51);
  ck_assert_int_eq(m->layers[1].n_params, 0);
  ck_assert_int_eq(m->layers[2].w_off, 80);
  ck_assert_int_eq(m->layers[2].b_off, 80 + 256);
  ck_assert_int_eq(m->layers[3].w_off, 352);
  ck_assert_int_eq(m->layers[1].out_size, 16);
  ck_assert_int_eq(m->layers[2].in_size, 16);
  ck_assert_int_eq(m->out_size, 3);
  ck_assert_int_eq(m->layers[0].flops, 2 * 4 * 16 + 2 * 16);
  ck_assert_int_eq(m->flops, m->layers[0].flops + 16 + m->layers[2].flops + m->layers[3].flops);
  ck_assert(mlp_ir_plan_valid(m));
  /* Sharing: the arena is smaller than the sum of all buffers. */
  int64_t sum = 0;
  for (int i = 0; i < m->nbufs; i++) sum += (int64_t)mlprt_align_up((size_t)m->bufs[i].bytes);
  ck_assert_int_lt(m->arena_bytes, sum);
  /* The dropout has a mask as large as its output; activations are [batch, width]. */
  ck_assert_int_ge(m->layers[1].mask_buf, 0);
  ck_assert_int_eq(m->bufs[m->layers[1].mask_buf].bytes, 16 * 16 * 4);
  ck_assert_int_eq(m->bufs[m->layers[3].out_buf].bytes, 16 * 3 * 4);
  /* The first layer's output is read by the second layer's backward. */
  const MlpIrBuffer *act0 = &m->bufs[m->layers[0].out_buf];
  ck_assert_int_eq(act0->first, 0);
  ck_assert_int_eq(act0->last, 8);
  mlp_arena_free(&a);
}
END_TEST

START_TEST(ir_flatten_is_an_alias) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_TANH, .out_size = 8},
                     {.op = MLP_OP_FLATTEN},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_LINEAR, .out_size = 1}};
  MlpIrModel *m = model(&a, 5, 4, ls, 3);
  ck_assert_int_eq(m->layers[1].out_buf, m->layers[0].out_buf);
  ck_assert_int_eq(m->layers[0].dout_buf, m->layers[1].dout_buf);
  ck_assert_int_eq(m->layers[1].flops, 0);
  ck_assert(mlp_ir_plan_valid(m));
  mlp_arena_free(&a);
}
END_TEST

START_TEST(ir_no_gradient_before_the_first_weights) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_FLATTEN},
                     {.op = MLP_OP_DROPOUT, .rate = 0.2f},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 8},
                     {.op = MLP_OP_DROPOUT, .rate = 0.2f},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  MlpIrModel *m = model(&a, 6, 4, ls, 5);
  /* Nothing reads the gradient of the input: the flatten and the dropout in
   * front of the first dense layer get none, so that layer skips dinp. */
  ck_assert_int_eq(m->layers[0].dout_buf, -1);
  ck_assert_int_eq(m->layers[1].dout_buf, -1);
  for (int i = 2; i < 5; i++) ck_assert_int_ge(m->layers[i].dout_buf, 0);
  /* The dropout between the dense layers still passes its gradient on. */
  ck_assert_int_ne(m->layers[3].dout_buf, m->layers[2].dout_buf);
  for (int i = 0; i < m->nbufs; i++) {
    ck_assert_str_ne(m->bufs[i].name, "dact0");
    ck_assert_str_ne(m->bufs[i].name, "dact1");
  }
  ck_assert(mlp_ir_plan_valid(m));
  mlp_arena_free(&a);
}
END_TEST

START_TEST(ir_lower_conv_model) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrModel *m = mlp_arena_alloc(&a, sizeof *m);
  m->name = "cnn";
  m->batch = 8;
  m->in_c = 1, m->in_h = 28, m->in_w = 28;
  MlpIrLayer ls[] = {
      {.op = MLP_OP_CONV2D, .act = MLP_ACT_RELU, .out_c = 16, .kernel = 3, .stride = 1, .pad = 1},
      {.op = MLP_OP_MAXPOOL2D, .kernel = 2, .stride = 2},
      {.op = MLP_OP_CONV2D, .act = MLP_ACT_RELU, .out_c = 4, .kernel = 5, .stride = 2},
      {.op = MLP_OP_FLATTEN},
      {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 10}};
  m->nlayers = 5;
  m->layers = mlp_arena_alloc(&a, sizeof ls);
  memcpy(m->layers, ls, sizeof ls);
  ck_assert_int_eq(mlp_lower_model(&a, m), -1);
  const MlpIrLayer *l = m->layers;
  ck_assert_int_eq(l[0].out_h, 28);
  ck_assert_int_eq(l[0].n_params, 16 * 1 * 9 + 16);
  ck_assert_int_eq(l[0].flops, (2 * 1 * 9 + 2) * 16 * 28 * 28);
  ck_assert_int_eq(l[1].out_c, 16);
  ck_assert_int_eq(l[1].out_h, 14);
  ck_assert_int_ge(l[1].argmax_buf, 0);
  /* (14 - 5) / 2 + 1 = 5 */
  ck_assert_int_eq(l[2].out_h, 5);
  ck_assert_int_eq(l[2].out_w, 5);
  ck_assert_int_eq(m->bufs[l[2].col_buf].bytes, 16 * 5 * 5 * 5 * 5 * 4);
  ck_assert_int_eq(l[3].out_size, 4 * 5 * 5);
  ck_assert_int_eq(l[3].out_buf, l[2].out_buf);
  ck_assert_int_eq(l[4].in_size, 100);
  ck_assert_int_eq(l[4].w_off, l[2].b_off + 4);
  ck_assert(mlp_ir_plan_valid(m));
  /* A window larger than its input is reported by layer index. */
  MlpIrModel *bad = mlp_arena_alloc(&a, sizeof *bad);
  *bad = *m;
  bad->bufs = NULL;
  bad->nbufs = bad->capbufs = 0;
  bad->layers = mlp_arena_alloc(&a, sizeof ls);
  memcpy(bad->layers, ls, sizeof ls);
  bad->layers[2].kernel = 15;
  ck_assert_int_eq(mlp_lower_model(&a, bad), 2);
  mlp_arena_free(&a);
}
END_TEST

START_TEST(ir_dump_is_json) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 10},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SIGMOID, .out_size = 1}};
  MlpIr ir = {.name = "p", .spec_path = "p.mlp", .out_dir = "runs/p", .threads = 1};
  ir.data = (MlpIrData){.format = "csv", .path = "d.csv", .target = "y", .n_features = 7, .n_classes = 2};
  ir.models = model(&a, 7, 32, ls, 2);
  ir.models->task = MLP_TASK_BINARY;
  ir.nmodels = 1;
  MlpIrJob job = {.optim = {.kind = MLP_OPTIM_ADAMW,
                            .lr = 0.001f,
                            .beta1 = 0.9f,
                            .beta2 = 0.999f,
                            .eps = 1e-8f,
                            .weight_decay = 0.01f},
                  .epochs = 5,
                  .seed = 3,
                  .sched = MLP_SCHED_COSINE,
                  .warmup = 2,
                  .monitor = "val_loss",
                  .fold = -1,
                  .trial = -1};
  ir.jobs = &job;
  ir.njobs = 1;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  mlp_ir_dump(&ir, f);
  fclose(f);
  cJSON *root = cJSON_Parse(text);
  ck_assert_ptr_nonnull(root);
  cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "models"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(m0, "task")->valuestring, "binary");
  ck_assert_int_eq(cJSON_GetObjectItem(m0, "params")->valueint, 7 * 10 + 10 + 10 + 1);
  cJSON *l1 = cJSON_GetArrayItem(cJSON_GetObjectItem(m0, "layers"), 1);
  ck_assert_str_eq(cJSON_GetObjectItem(l1, "activation")->valuestring, "sigmoid");
  cJSON *shape = cJSON_GetObjectItem(l1, "out_shape");
  ck_assert_int_eq(cJSON_GetArrayItem(shape, 0)->valueint, 32);
  ck_assert_int_eq(cJSON_GetArrayItem(shape, 1)->valueint, 1);
  cJSON *mem = cJSON_GetObjectItem(m0, "memory");
  ck_assert_int_eq((int64_t)cJSON_GetObjectItem(mem, "arena_bytes")->valuedouble, ir.models->arena_bytes);
  cJSON *j0 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "jobs"), 0);
  cJSON *opt = cJSON_GetObjectItem(j0, "optimizer");
  ck_assert_str_eq(cJSON_GetObjectItem(opt, "kind")->valuestring, "adamw");
  ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j0, "schedule"), "kind")->valuestring, "cosine");
  cJSON_Delete(root);
  free(text);
  mlp_arena_free(&a);
}
END_TEST

Suite *ir_suite(void); /* the runner finds it by name */
Suite *ir_suite(void) {
  Suite *s = suite_create("ir");
  TCase *tc = tcase_create("ir");
  tcase_add_test(tc, ir_plan_shares_disjoint_lifetimes);
  tcase_add_test(tc, ir_lower_dense_model);
  tcase_add_test(tc, ir_flatten_is_an_alias);
  tcase_add_test(tc, ir_no_gradient_before_the_first_weights);
  tcase_add_test(tc, ir_lower_conv_model);
  tcase_add_test(tc, ir_dump_is_json);
  suite_add_tcase(s, tc);
  return s;
}
