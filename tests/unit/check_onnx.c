/* check_onnx.c — ONNX export (compiler/back/onnx.c).
 *
 * Models built here by hand (an MLP over numeric columns, a CNN with batch
 * normalization over image bytes, a regression and a binary classifier)
 * are exported, validated by python3-onnx's checker (full_check: shapes
 * inferred through the whole graph) and evaluated by python3-onnx's
 * reference evaluator (tests/onnx/run_ref.py; before onnx 1.13, the numpy
 * interpreter tests/onnx/onnx_numpy.py) and by ONNX Runtime
 * (tests/onnx/run_ort.js, onnxruntime-node from build/npm); the
 * outputs must equal the runtime's own kernels on the same rows within
 * 1e-5. Every step of the feature program is checked against the native
 * predictor's row transform, and trained runs (iris, diabetes, a generated
 * table with categories) are exported through `mlpc export --onnx` and
 * must answer what the native predictor and the run's predictions.csv say.
 * A checker or evaluator that is not installed is skipped (test_skip). */
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lower.h"
#include "mlp/data.h"
#include "mlp/layers.h"
#include "onnx.h"
#include "tests/unit/datautil.h"
#include "testutil.h"

#define ORT_DIR "build/npm/node_modules"

/* ---- helpers ------------------------------------------------------------------- */

/* python3-onnx's checker with full shape inference; fails the test with
 * its message (exit status 2: python3-onnx is missing, a skip). */
static void onnx_check(const char *path) {
  const char *argv[] = {"/usr/bin/python3", "-c",
                        "import sys\n"
                        "try:\n  import onnx\n"
                        "except ImportError as e:\n  print(e, file=sys.stderr)\n  sys.exit(2)\n"
                        "onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
                        path, NULL};
  TestRun r = test_run(argv, NULL);
  if (r.status == 2) {
    char what[512];
    snprintf(what, sizeof what, "the ONNX checker on %s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
    test_skip(what, "python3-onnx", r.err);
    test_run_free(&r);
    return;
  }
  ck_assert_msg(r.status == 0, "onnx checker rejects %s: %s", path, r.err);
  test_run_free(&r);
}

/* An evaluator's answers for rows (a CSV with a header, drop: the column
 * left out), one line per row, "label,p..." or "value"; NULL, after a
 * skip, when the evaluator is not installed (its exit status 2). */
static char *evaluate(const char *evaluator, const char *model, const char *rows, const char *drop,
                      const char *text) {
  bool ort = strcmp(evaluator, "ort") == 0;
  char what[512];
  snprintf(what, sizeof what, "%s on %s", ort ? "ONNX Runtime" : "the ONNX reference evaluator",
           strrchr(model, '/') ? strrchr(model, '/') + 1 : model);
  if (ort && access(ORT_DIR "/onnxruntime-node", F_OK) != 0) {
    test_skip(what, "onnxruntime-node", "not installed in " ORT_DIR " (make deps installs it)");
    return NULL;
  }
  setenv("NODE_PATH", ORT_DIR, 1);
  const char *argv[] = {ort ? "node" : "/usr/bin/python3",
                        ort ? "tests/onnx/run_ort.js" : "tests/onnx/run_ref.py",
                        model,
                        rows,
                        "--text",
                        text ? text : "",
                        drop ? "--drop" : NULL,
                        drop,
                        NULL};
  TestRun r = test_run(argv, NULL);
  if (r.status == 2) {
    test_skip(what, ort ? "onnxruntime-node" : "python3-onnx", r.err);
    test_run_free(&r);
    return NULL;
  }
  ck_assert_msg(r.status == 0, "%s fails on %s (status %d): %s", evaluator, model, r.status, r.err);
  free(r.err);
  return r.out;
}

/* Compare an evaluator's lines with expected [rows, k] values (k = 1 for
 * a value; for classes: the label index, then k probabilities). */
static void expect_lines(const char *evaluator, const char *out, const float *want, int rows, int k,
                         bool classes) {
  const char *p = out;
  for (int r = 0; r < rows; r++) {
    ck_assert_msg(*p, "%s answered %d rows, want %d", evaluator, r, rows);
    char *end;
    if (classes) {
      long label = strtol(p, &end, 10);
      int best = 0;
      for (int j = 1; j < k; j++)
        if (want[r * k + j] > want[r * k + best]) best = j;
      ck_assert_msg(label == best, "%s row %d: label %ld, want %d", evaluator, r, label, best);
      p = end + 1;
    }
    for (int j = 0; j < k; j++) {
      double v = strtod(p, &end), w = want[r * k + j];
      ck_assert_msg(fabs(v - w) <= 1e-5 * fmax(1.0, fabs(w)), "%s row %d output %d: %.9g, want %.9g",
                    evaluator, r, j, v, w);
      p = end + 1;
    }
  }
}

/* The model's answers on rows (drop: the column left out; text: the
 * category columns, comma-separated, or NULL) under every installed
 * evaluator equal want. */
static void expect_outputs(const char *model, const char *rows, const char *drop, const char *text,
                           const float *want, int nrows, int k, bool classes) {
  static const char *const evaluators[] = {"reference", "ort"};
  for (int e = 0; e < 2; e++) {
    char *out = evaluate(evaluators[e], model, rows, drop, text);
    if (out) expect_lines(evaluators[e], out, want, nrows, k, classes);
    free(out);
  }
}

static MlpIrModel *lowered(MlpArena *a, MlpTask task, int64_t c, int64_t h, int64_t w, const MlpIrLayer *ls,
                           int n) {
  MlpIrModel *m = mlp_arena_alloc(a, sizeof *m);
  m->name = "m";
  m->task = task;
  m->in_c = c;
  m->in_h = h;
  m->in_w = w;
  m->batch = 8;
  m->nlayers = n;
  m->layers = mlp_arena_alloc(a, (size_t)n * sizeof *ls);
  memcpy(m->layers, ls, (size_t)n * sizeof *ls);
  ck_assert_int_eq(mlp_lower_model(a, m), -1);
  m->out_size = m->layers[n - 1].out_size;
  return m;
}

/* Deterministic weights in [-0.5, 0.5). */
static float *weights(int64_t n, unsigned seed) {
  float *w = malloc((size_t)n * sizeof *w);
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    w[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
  return w;
}

static char *export_to(const char *dir, const char *name, const MlpOnnxModel *mo) {
  char *path = malloc(strlen(dir) + strlen(name) + 2), err[256];
  sprintf(path, "%s/%s", dir, name);
  ck_assert_msg(mlp_onnx_write(mo, path, err, sizeof err) == 0, "%s", err);
  return path;
}

/* ---- hand-built models -------------------------------------------------------------- */

/* Three numeric columns straight into dense(4, relu) -> dense(3, softmax);
 * a missing value is 0 for the model. */
START_TEST(onnx_mlp_equals_runtime_kernels) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_RELU, .out_size = 4},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  MlpIrModel *m = lowered(&a, MLP_TASK_MULTICLASS, 3, 1, 1, ls, 2);
  float *w = weights(m->n_params, 7);
  MlprtPredInput in[3] = {{"a", MLPRT_COL_FLOAT, 0, 1, NULL, 0},
                          {"b", MLPRT_COL_FLOAT, 0, 1, NULL, 0},
                          {"c", MLPRT_COL_INT, 0, 1, NULL, 0}};
  int64_t fslot[3] = {0, 1, 2};
  MlprtPredPlan plan = {.inputs = in, .ninputs = 3, .nslots = 3, .feature_slot = fslot, .nfeatures = 3};
  MlpOnnxModel mo = {"hand", "1.2.3", m, w, NULL, &plan, "x\ny\nz\n", 0, 1};
  char *dir = test_tmpdir(), *model = export_to(dir, "mlp.onnx", &mo);
  onnx_check(model);

  float x[4][3] = {{0.5f, -1.0f, 2.0f}, {3.0f, 0.25f, -0.75f}, {NAN, 1.5f, 1.0f}, {-2.0f, -2.0f, 4.0f}};
  char *rows = dt_write(dir, "rows.csv", "a,b,c\n0.5,-1,2\n3,0.25,-0.75\n,1.5,1\n-2,-2,4\n", 0);
  float want[4][3], h[4][4];
  x[2][0] = 0; /* what the model sees */
  mlprt_dense_forward_ref(&h[0][0], &x[0][0], w + m->layers[0].w_off, w + m->layers[0].b_off, 4, 3, 4);
  mlprt_relu_forward(&h[0][0], &h[0][0], 16);
  float z[4][3];
  mlprt_dense_forward_ref(&z[0][0], &h[0][0], w + m->layers[1].w_off, w + m->layers[1].b_off, 4, 4, 3);
  mlprt_softmax_forward(&want[0][0], &z[0][0], 4, 3);
  expect_outputs(model, rows, NULL, NULL, &want[0][0], 4, 3, true);
  free(rows);
  free(model);
  free(dir);
  free(w);
  mlp_arena_free(&a);
}
END_TEST

/* Image bytes -> conv(3x3, pad 1) -> batchnorm -> relu -> maxpool 2 -> flatten -> dense(3, softmax). */
/* The plan of a 4x4 image's 16 pixels p: each pixel / 255. */
typedef struct {
  MlprtPredInput in[16];
  MlprtPredStep steps[16];
  int64_t fslot[16];
  MlprtPredPlan plan;
} PixelPlan;

static void pixel_plan(PixelPlan *pp) {
  for (int i = 0; i < 16; i++) {
    pp->in[i] = (MlprtPredInput){"p", MLPRT_COL_INT, 0, 255, NULL, 0};
    pp->steps[i] = (MlprtPredStep){MLPRT_PSTEP_DIV, i, i, 0, 255, 0, NULL};
    pp->fslot[i] = i;
  }
  pp->plan = (MlprtPredPlan){.inputs = pp->in, .ninputs = 16, .steps = pp->steps, .nsteps = 16, .nslots = 16,
                             .feature_slot = pp->fslot, .nfeatures = 16};
}

/* n rows of 16 pixels p0..p15, pixel i of row r (r * a + i * b) % 256, as
 * DIR/rows.csv (returned), and scaled by 1/255 into x [n * 16]. */
static char *pixel_rows(const char *dir, int n, int a, int b, float *x) {
  char csv[4096];
  int len = 0;
  for (int i = 0; i < 16; i++) len += snprintf(csv + len, sizeof csv - (size_t)len, "%sp%d", i ? "," : "", i);
  for (int r = 0; r < n; r++) {
    len += snprintf(csv + len, sizeof csv - (size_t)len, "\n");
    for (int i = 0; i < 16; i++) {
      int byte = (r * a + i * b) % 256;
      x[r * 16 + i] = (float)byte / 255.0f;
      len += snprintf(csv + len, sizeof csv - (size_t)len, "%s%d", i ? "," : "", byte);
    }
  }
  snprintf(csv + len, sizeof csv - (size_t)len, "\n");
  return dt_write(dir, "rows.csv", csv, 0);
}

START_TEST(onnx_cnn_equals_runtime_kernels) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_CONV2D, .out_c = 2, .kernel = 3, .stride = 1, .pad = 1},
                     {.op = MLP_OP_BATCHNORM, .act = MLP_ACT_RELU, .momentum = 0.1f, .eps = 1e-5f},
                     {.op = MLP_OP_MAXPOOL2D, .act = MLP_ACT_LINEAR, .kernel = 2, .stride = 2},
                     {.op = MLP_OP_FLATTEN},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  MlpIrModel *m = lowered(&a, MLP_TASK_MULTICLASS, 1, 4, 4, ls, 5);
  ck_assert_int_eq(m->n_state, 4);
  float *w = weights(m->n_params, 11);
  float state[4] = {0.1f, -0.2f, 0.5f, 2.0f}; /* running mean [2], then variance [2] */
  PixelPlan pp;
  pixel_plan(&pp);
  MlpOnnxModel mo = {"cnn", NULL, m, w, state, &pp.plan, "a\nb\nc\n", 0, 1};
  char *dir = test_tmpdir(), *model = export_to(dir, "cnn.onnx", &mo);
  onnx_check(model);

  enum { N = 2 };
  float x[N][16];
  char *rows = pixel_rows(dir, N, 97, 37, &x[0][0]);

  float c[N][2][16], b[N][2][16], p[N][2][4], want[N][3];
  int32_t am[N * 2 * 4];
  const MlpIrLayer *cl = &m->layers[0], *bl = &m->layers[1], *dl = &m->layers[4];
  mlprt_conv2d_forward_ref(&c[0][0][0], &x[0][0], w + cl->w_off, w + cl->b_off, N, 1, 4, 4, 2, 3, 3, 1, 1);
  mlprt_batchnorm_forward_infer(&b[0][0][0], &c[0][0][0], w + bl->w_off, w + bl->b_off, state, state + 2, N,
                                2, 16, 1e-5f);
  mlprt_relu_forward(&b[0][0][0], &b[0][0][0], N * 32);
  mlprt_maxpool2d_forward(&p[0][0][0], am, &b[0][0][0], N, 2, 4, 4, 2, 2, 2);
  float z[N][3];
  mlprt_dense_forward_ref(&z[0][0], &p[0][0][0], w + dl->w_off, w + dl->b_off, N, 8, 3);
  mlprt_softmax_forward(&want[0][0], &z[0][0], N, 3);
  expect_outputs(model, rows, NULL, NULL, &want[0][0], N, 3, true);
  free(rows);
  free(model);
  free(dir);
  free(w);
  mlp_arena_free(&a);
}
END_TEST

/* A regression answers in the target's units; a binary classifier's one
 * sigmoid unit becomes two probabilities. */
START_TEST(onnx_regression_and_binary_outputs) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer reg[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_TANH, .out_size = 3},
                      {.op = MLP_OP_DENSE, .act = MLP_ACT_LINEAR, .out_size = 1}};
  MlpIrLayer bin[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_LEAKY_RELU, .out_size = 3},
                      {.op = MLP_OP_DENSE, .act = MLP_ACT_SIGMOID, .out_size = 1}};
  MlpIrModel *mr = lowered(&a, MLP_TASK_REGRESSION, 2, 1, 1, reg, 2);
  MlpIrModel *mb = lowered(&a, MLP_TASK_BINARY, 2, 1, 1, bin, 2);
  float *wr = weights(mr->n_params, 3), *wb = weights(mb->n_params, 5);
  MlprtPredInput in[2] = {{"u", MLPRT_COL_FLOAT, 0, 1, NULL, 0}, {"v", MLPRT_COL_FLOAT, 0, 1, NULL, 0}};
  int64_t fslot[2] = {0, 1};
  MlprtPredPlan plan = {.inputs = in, .ninputs = 2, .nslots = 2, .feature_slot = fslot, .nfeatures = 2};
  MlpOnnxModel mor = {"reg", NULL, mr, wr, NULL, &plan, NULL, 150.0, 40.0};
  MlpOnnxModel mob = {"bin", NULL, mb, wb, NULL, &plan, "no\nyes\n", 0, 1};
  char *dir = test_tmpdir(), *fr = export_to(dir, "reg.onnx", &mor), *fb = export_to(dir, "bin.onnx", &mob);
  onnx_check(fr);
  onnx_check(fb);
  char *rows = dt_write(dir, "rows.csv", "u,v,target\n1,2,9\n-3,0.5,9\n0,-1,9\n", 0);
  float x[3][2] = {{1, 2}, {-3, 0.5f}, {0, -1}}, h[3][3], o[3], want_r[3], want_b[3][2];
  mlprt_dense_forward_ref(&h[0][0], &x[0][0], wr + mr->layers[0].w_off, wr + mr->layers[0].b_off, 3, 2, 3);
  for (int i = 0; i < 9; i++) (&h[0][0])[i] = tanhf((&h[0][0])[i]);
  mlprt_dense_forward_ref(o, &h[0][0], wr + mr->layers[1].w_off, wr + mr->layers[1].b_off, 3, 3, 1);
  for (int r = 0; r < 3; r++) want_r[r] = o[r] * 40.0f + 150.0f;
  mlprt_dense_forward_ref(&h[0][0], &x[0][0], wb + mb->layers[0].w_off, wb + mb->layers[0].b_off, 3, 2, 3);
  mlprt_leaky_relu_forward(&h[0][0], &h[0][0], 9, 0.01f);
  mlprt_dense_forward_ref(o, &h[0][0], wb + mb->layers[1].w_off, wb + mb->layers[1].b_off, 3, 3, 1);
  for (int r = 0; r < 3; r++) {
    want_b[r][1] = 1.0f / (1.0f + expf(-o[r]));
    want_b[r][0] = 1.0f - want_b[r][1];
  }
  expect_outputs(fr, rows, "target", NULL, want_r, 3, 1, false);
  expect_outputs(fb, rows, "target", NULL, &want_b[0][0], 3, 2, true);
  free(rows);
  free(fr);
  free(fb);
  free(dir);
  free(wr);
  free(wb);
  mlp_arena_free(&a);
}
END_TEST

/* A one-layer classifier over the plan's nf features whose inputs are
 * in[0..nin), feature f reading slot fslot[f], encoded into *buf; the
 * encoder's return. */
static int encode_inputs(const MlprtPredInput *in, int64_t nin, int64_t *fslot, int64_t nf, uint8_t **buf,
                         size_t *len, char *err, size_t n) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 2}};
  MlpIrModel *m = lowered(&a, MLP_TASK_MULTICLASS, nf, 1, 1, ls, 1);
  float *w = weights(m->n_params, 1);
  MlprtPredPlan plan = {.inputs = in, .ninputs = nin, .nslots = nin, .feature_slot = fslot, .nfeatures = nf};
  MlpOnnxModel mo = {"cat", NULL, m, w, NULL, &plan, "a\nb\n", 0, 1};
  *buf = NULL;
  *len = 0;
  int rc = mlp_onnx_encode(&mo, buf, len, err, n);
  free(w);
  mlp_arena_free(&a);
  return rc;
}

/* Date input columns are refused with the column's name. */
START_TEST(onnx_refuses_date_inputs) {
  MlprtPredInput in[2] = {{"x", MLPRT_COL_FLOAT, 0, 1, NULL, 0},
                          {"when", MLPRT_COL_DATETIME, NAN, NAN, NULL, 0}};
  int64_t fslot[2] = {0, 1};
  uint8_t *buf;
  size_t len;
  char err[256];
  ck_assert_int_eq(encode_inputs(in, 2, fslot, 2, &buf, &len, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "'when'"));
  ck_assert_ptr_null(buf);
}
END_TEST

/* Where the bytes of s first occur in buf[0..len), or NULL. */
static const uint8_t *find_bytes(const uint8_t *buf, size_t len, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(buf + i, s, n) == 0) return buf + i;
  return NULL;
}

/* Only the columns the model reads are graph inputs: a date column and a
 * number no feature reads are left out (the date is no longer refused),
 * and the input_columns metadata lists the one read column. */
START_TEST(onnx_inputs_are_the_columns_read) {
  MlprtPredInput in[3] = {{"when", MLPRT_COL_DATETIME, NAN, NAN, NULL, 0},
                          {"x", MLPRT_COL_FLOAT, 0, 1, NULL, 0},
                          {"unread", MLPRT_COL_FLOAT, 0, 1, NULL, 0}};
  int64_t fslot[1] = {1};
  uint8_t *buf;
  size_t len;
  char err[256];
  ck_assert_msg(encode_inputs(in, 3, fslot, 1, &buf, &len, err, sizeof err) == 0, "%s", err);
  static const char key[] = "input_columns";
  const uint8_t *at = find_bytes(buf, len, key);
  ck_assert_ptr_nonnull(at);
  /* the value follows the key's field: a tag and a length byte, then "x" */
  ck_assert_int_eq(at[sizeof key - 1 + 2], 'x');
  ck_assert_int_eq(at[sizeof key - 1 + 1], 1);
  ck_assert_ptr_null(find_bytes(buf, len, "unread"));
  ck_assert_ptr_null(find_bytes(buf, len, "when"));
  free(buf);
}
END_TEST

/* Every step ONNX export expresses, on a hand-written program, against the
 * native predictor's own row transform (mlprt_predict_fields): the model
 * is the identity (dense W = I, b = 0, a linear "classifier"), so both
 * answer the features themselves. */
enum { XF = 13 }; /* features of the program below */

static void identity_forward(const float *x, float *out, int64_t n, void *scratch) {
  memcpy(out, x, (size_t)n * XF * sizeof *x);
}

START_TEST(onnx_feature_program_equals_predictor) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_DENSE, .act = MLP_ACT_LINEAR, .out_size = XF}};
  MlpIrModel *m = lowered(&a, MLP_TASK_MULTICLASS, XF, 1, 1, ls, 1);
  float w[XF * XF + XF] = {0};
  for (int i = 0; i < XF; i++) w[i * XF + i] = 1;
  /* categories without training levels: the predictor lets unseen ones through, as the graph does */
  MlprtPredInput in[7] = {{"a", MLPRT_COL_FLOAT, NAN, NAN, NULL, 0},
                          {"b", MLPRT_COL_FLOAT, NAN, NAN, NULL, 0},
                          {"c", MLPRT_COL_INT, NAN, NAN, NULL, 0},
                          {"d", MLPRT_COL_BOOL, NAN, NAN, "false\ntrue\n", 2},
                          {"e", MLPRT_COL_FLOAT, NAN, NAN, NULL, 0},
                          {"f", MLPRT_COL_CATEGORY, NAN, NAN, NULL, 0},
                          {"g", MLPRT_COL_CATEGORY, NAN, NAN, NULL, 0}};
  MlprtPredStep steps[] = {
      {MLPRT_PSTEP_INDICATOR, 0, 7, MLPRT_COL_FLOAT, 0, 0, NULL},
      {MLPRT_PSTEP_FILL, 0, 0, MLPRT_COL_FLOAT, 2.5, 0, NULL},
      {MLPRT_PSTEP_CLIP, 0, 0, 0, -1, 3, NULL},
      {MLPRT_PSTEP_SCALE, 0, 0, 0, 0.5, 3, NULL},
      {MLPRT_PSTEP_LOG1P, 1, 1, 0, 0, 0, NULL},
      {MLPRT_PSTEP_TEXT, 2, 2, MLPRT_COL_INT, 0, 0, NULL},
      {MLPRT_PSTEP_FILL, 2, 2, MLPRT_COL_CATEGORY, 0, 0, "2\n"},
      {MLPRT_PSTEP_ONEHOT, 2, 8, 3, 1, 0, "1\n2\n"}, /* two levels and the unknown bucket */
      {MLPRT_PSTEP_TEXT, 3, 3, MLPRT_COL_BOOL, 0, 0, NULL},
      {MLPRT_PSTEP_ORDINAL, 3, 11, 2, 0, 0, "false\ntrue\n"},
      {MLPRT_PSTEP_TEXT, 4, 4, MLPRT_COL_FLOAT, 0, 0, NULL},
      {MLPRT_PSTEP_ORDINAL, 4, 12, 2, 0, 0, "0.5\n1.25\n"},
      /* the same ops on slots outside the input matrix */
      {MLPRT_PSTEP_SCALE, 11, 11, 0, 0.5, 4, NULL},
      {MLPRT_PSTEP_LOG1P, 11, 11, 0, 0, 0, NULL},
      {MLPRT_PSTEP_CLIP, 12, 12, 0, 0, 0.5, NULL},
      {MLPRT_PSTEP_DIV, 7, 7, 0, 4, 0, NULL},
      /* categories as texts */
      {MLPRT_PSTEP_INDICATOR, 5, 13, MLPRT_COL_CATEGORY, 0, 0, NULL},
      {MLPRT_PSTEP_FILL, 5, 5, MLPRT_COL_CATEGORY, 0, 0, "red\n"},
      {MLPRT_PSTEP_ONEHOT, 5, 14, 3, 1, 0, "blue\nred\n"},
      {MLPRT_PSTEP_ORDINAL, 6, 17, 2, 0, 0, "hi\nlo\n"},
  };
  int64_t fslot[XF] = {0, 1, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  MlprtPredPlan plan = {.inputs = in, .ninputs = 7, .steps = steps, .nsteps = sizeof steps / sizeof *steps,
                        .nslots = 18, .feature_slot = fslot, .nfeatures = XF};
  static const char *const missing[] = {"", "NA", "none"}; /* the spec's na_values */
  plan.na_tokens = missing;
  plan.nna = 3;
  MlpOnnxModel mo = {"steps", NULL, m, w, NULL, &plan, NULL, 0, 1};
  char *dir = test_tmpdir(), *model = export_to(dir, "steps.onnx", &mo);
  onnx_check(model);

  /* the same rows as the predictor's text fields and as ONNX input (booleans 0/1) */
  enum { R = 5 };
  const char *fields[R][7] = {{"1.5", "0.25", "1", "true", "0.5", "red", "lo"},
                              {"", "-1", "2", "false", "1.25", "", "hi"},
                              {"-4", "3", "5", "true", "9", "green", "mid"},
                              {"7", "", "", "", "", "NA", ""},
                              {"0.5", "-0.5", "1", "false", "0.25", "none", "lo"}};
  char *rows = dt_write(dir, "rows.csv",
                          "a,b,c,d,e,f,g\n1.5,0.25,1,1,0.5,red,lo\n,-1,2,0,1.25,,hi\n-4,3,5,1,9,green,mid\n"
                          "7,,,,,NA,\n0.5,-0.5,1,0,0.25,none,lo\n", 0);
  MlprtPredictor p = {.name = "steps",
                      .task = MLPRT_TASK_MULTICLASS,
                      .n_in = XF,
                      .n_out = XF,
                      .forward = identity_forward,
                      .batch = 1,
                      .plan = &plan,
                      .on_missing_column = MLPRT_FAILSAFE_IMPUTE,
                      .on_unknown_category = MLPRT_FAILSAFE_IMPUTE,
                      .on_out_of_range = MLPRT_FAILSAFE_IMPUTE,
                      .on_nan = MLPRT_FAILSAFE_IMPUTE};
  void *scratch = aligned_alloc(64, 1 << 16);
  float want[R][XF];
  char reason[256];
  for (int r = 0; r < R; r++)
    ck_assert_msg(mlprt_predict_fields(&p, fields[r], want[r], scratch, reason, sizeof reason) >= 0,
                  "row %d: %s", r, reason);
  ck_assert_float_eq(want[2][5], 1.0f);  /* 5 is an unseen level */
  ck_assert_float_eq(want[3][4], 1.0f);  /* a missing c is filled with level 2 */
  ck_assert_float_eq(want[2][11], 1.0f); /* green: f's unknown bucket */
  ck_assert_float_eq(want[3][8], 1.0f);  /* NA: f is missing (its indicator) */
  ck_assert_float_eq(want[3][10], 1.0f); /* and filled with red */
  ck_assert_float_eq(want[4][8], 1.0f);  /* so is none, a missing text of this spec */
  expect_outputs(model, rows, NULL, "f,g", &want[0][0], R, XF, true);
  free(scratch);
  free(rows);
  free(model);
  free(dir);
  mlp_arena_free(&a);
}
END_TEST

/* ---- trained runs ----------------------------------------------------------------------- */

/* Train examples/NAME.mlp (or the spec at path, when given) into
 * dir/NAME.run; returns the run directory's path. */
static char *train_spec(const char *dir, const char *name, const char *path) {
  char spec[512];
  snprintf(spec, sizeof spec, "examples/%s.mlp", name);
  return test_train(path ? path : spec, dir, name);
}

static char *train(const char *dir, const char *name) {
  return train_spec(dir, name, NULL);
}

/* Numbers of a CSV text with a header: after the first skip fields of
 * each row, the next k; *rows receives the row count. */
static float *csv_numbers(char *text, int skip, int k, int *rows) {
  float *v = malloc(4096 * sizeof *v);
  *rows = 0;
  strtok(text, "\n");
  for (char *line; (line = strtok(NULL, "\n")) != NULL; (*rows)++) {
    char *p = line;
    for (int i = 0; i < skip; i++) p = strchr(p, ',') + 1;
    for (int j = 0; j < k; j++) {
      ck_assert_int_lt(*rows * k + j, 4096);
      v[*rows * k + j] = strtof(p, &p);
      p++;
    }
  }
  return v;
}

/* Export a trained example as ONNX and as a native predictor, and
 * evaluate the ONNX model on the run's test rows (the raw rows as loaded,
 * target left out): its answers must be the predictor's on the same rows
 * and the training run's own (predictions.csv). k: classes, or 1. */
static void export_equals_run(const char *dir, const char *run, const char *name, const char *target,
                              const char *text, int k, bool classes) {
  char model[512], rows[512], pred[512], path[512];
  snprintf(model, sizeof model, "%s/%s-cli.onnx", dir, name);
  snprintf(rows, sizeof rows, "%s/test_rows.csv", run);
  snprintf(pred, sizeof pred, "%s/pred", dir);
  const char *x[] = {test_mlpc(), "export", run, "--onnx", model, NULL};
  TestRun r = test_run(x, NULL);
  ck_assert_msg(r.status == 0, "mlpc export --onnx: %s", r.err);
  test_run_free(&r);
  onnx_check(model);
  const char *xp[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  r = test_run(xp, NULL);
  ck_assert_msg(r.status == 0, "mlpc export: %s", r.err);
  test_run_free(&r);

  int n, m;
  snprintf(path, sizeof path, "%s/predictions.csv", run);
  char *csv = test_read_file(path, NULL);
  ck_assert_msg(csv != NULL, "no %s", path);
  float *trained = csv_numbers(csv, classes ? 2 : 1, k, &n);
  free(csv);
  ck_assert_int_gt(n, 10);
  expect_outputs(model, rows, target, text, trained, n, k, classes);
  const char *run_pred[] = {pred, rows, NULL};
  r = test_run(run_pred, NULL);
  ck_assert_msg(r.status == 0, "%s: %s", pred, r.err);
  float *served = csv_numbers(r.out, classes ? 1 : 0, k, &m);
  test_run_free(&r);
  ck_assert_int_eq(m, n);
  expect_outputs(model, rows, target, text, served, n, k, classes);
  free(served);
  free(trained);
}

START_TEST(onnx_iris_answers_as_trained) {
  char *dir = test_tmpdir(), *run = train(dir, "iris");
  export_equals_run(dir, run, "iris", "species", NULL, 3, true);
  free(run);
  free(dir);
}
END_TEST

/* Category columns with missing texts, imputed (mode), one-hot and
 * ordinal encoded, next to numbers with missing values and indicators. */
START_TEST(onnx_categories_answer_as_trained) {
  char *dir = test_tmpdir(), data[512], spec[512];
  snprintf(data, sizeof data, "%s/shapes.csv", dir);
  snprintf(spec, sizeof spec, "%s/shapes.mlp", dir);
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  static const char *const colours[] = {"red", "green", "blue", "", "NA"};
  static const char *const shapes[] = {"round", "square"};
  fputs("size,colour,shape,weight,label\n", f);
  unsigned seed = 5;
  for (int i = 0; i < 300; i++) {
    seed = seed * 1103515245u + 12345u;
    int c = (int)(seed >> 16) % 5, sh = (int)(seed >> 20) % 2;
    double size = (double)((seed >> 8) % 1000) / 100.0;
    const char *label = c == 0 || (c == 1 && size > 5) ? "A" : sh ? "B" : "C";
    if (i % 17 == 3) fprintf(f, ",%s,%s,%d,%s\n", colours[c], shapes[sh], i % 7, label);
    else fprintf(f, "%.2f,%s,%s,%d,%s\n", size, colours[c], shapes[sh], i % 7, label);
  }
  fclose(f);
  char *text = malloc(2048);
  snprintf(text, 2048,
           "pipeline shapes {\n  data {\n    source = csv(\"%s\")\n    target = label\n    clean {\n"
           "      impute(numeric, strategy = median, indicator = true)\n"
           "      impute([colour], strategy = mode)\n      onehot([colour])\n      ordinal([shape])\n"
           "      standardize(numeric)\n    }\n    split(validation = 0.2, test = 0.2, seed = 3)\n  }\n"
           "  model {\n    dense(8, activation = relu)\n    output()\n  }\n"
           "  hyperparameters {\n    epochs = 20\n  }\n}\n",
           data);
  free(dt_write(dir, "shapes.mlp", text, 0));
  free(text);
  char *run = train_spec(dir, "shapes", spec);
  export_equals_run(dir, run, "shapes", "label", "colour,shape", 3, true);
  free(run);
  free(dir);
}
END_TEST

/* A 4x4 image read as 4 steps of 4 pixels: a GRU whose every step feeds an
 * LSTM, whose last state is one step of a tanh RNN, then softmax. ONNX's
 * RNN, LSTM and GRU operators (gates reordered, the reset gate after the
 * hidden projection) must answer as the runtime's kernels. */
START_TEST(onnx_recurrent_equals_runtime_kernels) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_GRU, .units = 3, .return_sequences = true},
                     {.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_LSTM, .units = 5},
                     {.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_RNN, .units = 2},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  MlpIrModel *m = lowered(&a, MLP_TASK_MULTICLASS, 1, 4, 4, ls, 4);
  ck_assert_int_eq(m->layers[0].out_size, 12);
  ck_assert_int_eq(m->layers[1].steps, 4);
  ck_assert_int_eq(m->layers[1].features, 3);
  ck_assert_int_eq(m->layers[2].steps, 1);
  float *w = weights(m->n_params, 12);
  PixelPlan pp;
  pixel_plan(&pp);
  MlpOnnxModel mo = {"rnn", NULL, m, w, NULL, &pp.plan, "a\nb\nc\n", 0, 1};
  char *dir = test_tmpdir(), *model = export_to(dir, "rnn.onnx", &mo);
  onnx_check(model);

  enum { N = 3 };
  float x[N * 16];
  char *rows = pixel_rows(dir, N, 89, 41, x);

  /* the runtime's forward, layer by layer */
  float act[3][N * 12], z[N * 3], want[N * 3];
  float seq[N * 4 * 6 * 5], work[N * 4 * 4 * 5 + N * 4 * 5 + 2 * N * 5]; /* the LSTM's, the largest */
  const float *cur = x;
  for (int i = 0; i < 3; i++) {
    const MlpIrLayer *l = &m->layers[i];
    int64_t gu = mlprt_recurrent_gates(l->cell) * l->units;
    const float *wl = w + l->w_off, *bl = w + l->b_off;
    mlprt_recurrent_forward(act[i], seq, work, cur, NULL, wl, wl + gu * l->features, bl, bl + gu, l->cell, N,
                            (int)l->steps, (int)l->features, (int)l->units, l->return_sequences);
    cur = act[i];
  }
  const MlpIrLayer *dl = &m->layers[3];
  mlprt_dense_forward_ref(z, cur, w + dl->w_off, w + dl->b_off, N, 2, 3);
  mlprt_softmax_forward(want, z, N, 3);
  expect_outputs(model, rows, NULL, NULL, want, N, 3, true);
  free(rows);
  free(model);
  free(dir);
  free(w);
  mlp_arena_free(&a);
}
END_TEST

/* 16 codes (the pixel bytes as they are, no scaling) embedded in 3
 * dimensions, read by a bidirectional LSTM whose every step feeds a
 * bidirectional GRU, then softmax: Gather and the recurrent operators of
 * direction "bidirectional" must answer as the runtime's kernels. */
START_TEST(onnx_embedding_bidirectional_equals_runtime_kernels) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpIrLayer ls[] = {{.op = MLP_OP_EMBEDDING, .vocab = 256, .units = 3},
                     {.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_LSTM, .units = 4, .return_sequences = true,
                      .bidirectional = true},
                     {.op = MLP_OP_RECURRENT, .cell = MLPRT_CELL_GRU, .units = 2, .bidirectional = true},
                     {.op = MLP_OP_DENSE, .act = MLP_ACT_SOFTMAX, .out_size = 3}};
  MlpIrModel *m = lowered(&a, MLP_TASK_MULTICLASS, 16, 1, 1, ls, 4);
  ck_assert_int_eq(m->layers[0].out_size, 48);
  ck_assert_int_eq(m->layers[1].out_size, 16 * 8);
  ck_assert_int_eq(m->layers[2].features, 8);
  ck_assert_int_eq(m->layers[2].out_size, 4);
  float *w = weights(m->n_params, 17);
  PixelPlan pp;
  pixel_plan(&pp);
  pp.plan.nsteps = 0; /* the bytes are the codes */
  MlpOnnxModel mo = {"emb", NULL, m, w, NULL, &pp.plan, "a\nb\nc\n", 0, 1};
  char *dir = test_tmpdir(), *model = export_to(dir, "emb.onnx", &mo);
  onnx_check(model);

  enum { N = 3 };
  float x[N * 16];
  char *rows = pixel_rows(dir, N, 89, 41, x);
  for (int i = 0; i < N * 16; i++) x[i] = roundf(x[i] * 255.0f);

  /* the runtime's forward, layer by layer, both directions of each recurrent layer */
  float e[N * 48], act[2][N * 16 * 8], z[N * 3], want[N * 3];
  float seq[2 * N * 16 * 6 * 4], work[N * 16 * 4 * 4 + N * 4 * 4 + 2 * N * 4]; /* the LSTM's, the largest */
  mlprt_embedding_forward(e, x, w, N * 16, 256, 3);
  const float *cur = e;
  for (int i = 1; i < 3; i++) {
    const MlpIrLayer *l = &m->layers[i];
    int64_t gu = mlprt_recurrent_gates(l->cell) * l->units, per = mlp_ir_recurrent_dir_floats(l);
    int64_t nseq = N * l->steps * (l->cell == MLPRT_CELL_LSTM ? 6 : 5) * l->units;
    for (int d = 0; d < 2; d++) {
      const float *wl = w + l->w_off + d * per, *bl = w + l->b_off + d * per;
      mlprt_recurrent_forward(act[i - 1], seq + d * nseq, work, cur, NULL, wl, wl + gu * l->features, bl,
                              bl + gu, l->cell, N, (int)l->steps, (int)l->features, (int)l->units,
                              (l->return_sequences ? MLPRT_RNN_SEQUENCES : 0) | MLPRT_RNN_PAIR |
                                  (d ? MLPRT_RNN_REVERSE : 0));
    }
    cur = act[i - 1];
  }
  const MlpIrLayer *dl = &m->layers[3];
  mlprt_dense_forward_ref(z, cur, w + dl->w_off, w + dl->b_off, N, 4, 3);
  mlprt_softmax_forward(want, z, N, 3);
  expect_outputs(model, rows, NULL, NULL, want, N, 3, true);
  free(rows);
  free(model);
  free(dir);
  free(w);
  mlp_arena_free(&a);
}
END_TEST

/* The spec format (its %s: the source tree) written as dir/NAME.mlp and
 * trained; its ONNX export and predictor answer as the run did (k classes). */
static void spec_answers_as_trained(const char *name, const char *target, const char *format, int k) {
  char *dir = test_tmpdir(), spec[512], file[128], cwd[4096];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(file, sizeof file, "%s.mlp", name);
  snprintf(spec, sizeof spec, "%s/%s", dir, file);
  char *text = malloc(8192);
  snprintf(text, 8192, format, cwd);
  free(dt_write(dir, file, text, 0));
  free(text);
  char *run = train_spec(dir, name, spec);
  export_equals_run(dir, run, name, target, NULL, k, true);
  free(run);
  free(dir);
}

/* dense(bias = false) and per-layer init: the layer has no bias in the
 * slab (weights.bin holds 13 x 16 floats for it, the manifest counts them),
 * its ONNX Gemm none, and the predictor, ONNX Runtime and training agree. */
START_TEST(onnx_dense_without_bias_answers_as_trained) {
  char *dir = test_tmpdir(), spec[512], cwd[4096], *text = malloc(8192);
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(spec, sizeof spec, "%s/wine_nb.mlp", dir);
  snprintf(text, 8192,
           "pipeline wine_nb {\n  data {\n    source = csv(\"%s/examples/data/wine.csv\")\n"
           "    target = cultivar\n    clean {\n      standardize(numeric)\n    }\n"
           "    split(validation = 0.2, test = 0.2, stratify = true, seed = 3)\n  }\n"
           "  model {\n    dense(16, bias = false, init = he_normal)\n"
           "    dense(8, activation = tanh, init = normal)\n    output()\n  }\n"
           "  hyperparameters {\n    epochs = 30\n    lr = 0.01\n  }\n}\n",
           cwd);
  free(dt_write(dir, "wine_nb.mlp", text, 0));
  free(text);
  char *run = train_spec(dir, "wine_nb", spec);
  const int64_t params = 13 * 16 + (16 * 8 + 8) + (8 * 3 + 3);
  cJSON *man = test_read_json(run, "manifest.json");
  ck_assert_int_eq((int64_t)test_json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(man, "jobs"), 0),
                                          "hyperparameters", "params", NULL),
                   params);
  cJSON_Delete(man);
  char *w = test_path(run, "weights.bin");
  size_t len = 0;
  free(test_read_file(w, &len));
  ck_assert_uint_eq(len, (size_t)params * sizeof(float));
  free(w);
  export_equals_run(dir, run, "wine_nb", "cultivar", NULL, 3, true);
  free(run);
  free(dir);
}
END_TEST

/* A layer norm between dense layers: opset 13 spells it in reductions,
 * which must answer as the runtime's kernel did in training. */
START_TEST(onnx_layernorm_answers_as_trained) {
  spec_answers_as_trained("wine_ln", "cultivar",
                          "pipeline wine_ln {\n  data {\n    source = csv(\"%s/examples/data/wine.csv\")\n"
                          "    target = cultivar\n    clean {\n      standardize(numeric)\n    }\n"
                          "    split(validation = 0.2, test = 0.2, stratify = true, seed = 3)\n  }\n"
                          "  model {\n    dense(16, activation = relu)\n    layernorm(eps = 1e-3)\n"
                          "    dense(8, activation = tanh)\n    output()\n  }\n"
                          "  hyperparameters {\n    epochs = 30\n    lr = 0.01\n  }\n}\n",
                          3);
}
END_TEST

/* Digits read as 8 steps of 8 pixels by two transformer encoders: causal post-norm
 * blocks with gelu and sinusoidal positions whose every step feeds a
 * pre-norm block with learned positions, max-pooled, then a gelu dense
 * layer. Attention exported as MatMul and Softmax must answer as training
 * did, and as the predictor. */
START_TEST(onnx_transformer_answers_as_trained) {
  spec_answers_as_trained(
      "digits_tf", "digit",
      "pipeline digits_tf {\n  data {\n    source = csv(\"%s/examples/data/digits.csv\")\n"
      "    target = digit\n    clean {\n      minmax(numeric)\n    }\n"
      "    split(validation = 0.2, test = 0.2, stratify = true, seed = 3)\n  }\n"
      "  model {\n    reshape(8)\n"
      "    transformer_encoder(heads = 2, dim = 12, layers = 2, ff = 24, activation = gelu,\n"
      "                        positions = sinusoidal, pool = none, causal = true)\n"
      "    transformer_encoder(heads = 3, dim = 12, norm_first = true, pool = max, dropout = 0.2)\n"
      "    dense(16, activation = gelu)\n    output(activation = softmax)\n  }\n"
      "  hyperparameters {\n    epochs = 4\n    lr = 0.003\n  }\n}\n",
      10);
}
END_TEST

/* The text example: paragraphs (quoted, with commas and quotes) cleaned
 * and weighed by TF-IDF over words and word pairs. */
START_TEST(onnx_austen_answers_as_trained) {
  char *dir = test_tmpdir(), *run = train(dir, "austen");
  export_equals_run(dir, run, "austen", "book", "text", 6, true);
  free(run);
  free(dir);
}
END_TEST

/* Free text: one column cleaned (digits, English stop words) and weighed
 * by TF-IDF, another counted as binary words and word pairs over a
 * vocabulary padded to max_vocab (capitals, punctuation, empty texts);
 * a hashed column is refused, naming the step. */
static void write_notes(const char *path) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  static const char *const words[3][8] = {{"sun", "moon", "star", "sky", "light", "the", "day", "Night"},
                                          {"rain", "cloud", "storm", "wind", "grey", "wet", "and", "Dark"},
                                          {"tree", "leaf", "root", "forest", "green", "grow", "12", "wood"}};
  fputs("doc,doc2,label\n", f);
  unsigned seed = 9;
  for (int i = 0; i < 300; i++) {
    int c = i % 3, n = i % 23 == 5 ? 0 : 3 + i % 7;
    const char *pick[16];
    for (int w = 0; w < n; w++) {
      seed = seed * 1103515245u + 12345u;
      int k = (int)(seed >> 16) % 8, from = (seed >> 12) % 10 < 7 ? c : (int)(seed >> 20) % 3;
      pick[w] = words[from][k];
    }
    /* doc: the words, in capitals in every seventh row; doc2: reversed */
    for (int w = 0; w < n; w++) {
      if (w) fputc(' ', f);
      for (const char *p = pick[w]; *p; p++) fputc(i % 7 == 2 ? toupper((unsigned char)*p) : *p, f);
    }
    fprintf(f, "%s,", i % 5 ? "" : ".");
    for (int w = n - 1; w >= 0; w--) fprintf(f, "%s%s", pick[w], w ? " " : "");
    fprintf(f, "!,%c\n", "ABC"[c]);
  }
  fclose(f);
}

START_TEST(onnx_text_answers_as_trained) {
  char *dir = test_tmpdir(), data[512], spec[512];
  snprintf(data, sizeof data, "%s/notes.csv", dir);
  snprintf(spec, sizeof spec, "%s/notes.mlp", dir);
  write_notes(data);
  char *text = malloc(2048);
  snprintf(text, 2048,
           "pipeline notes {\n  data {\n    source = csv(\"%s\")\n    target = label\n"
           "    schema {\n      doc = text\n      doc2 = text\n    }\n    clean {\n"
           "      text_clean(doc, strip_digits = true, stopwords = english)\n"
           "      tfidf(doc, max_vocab = 40, sublinear_tf = true, min_df = 2)\n"
           "      bag_of_words(doc2, max_vocab = 500, ngram = [1, 2], binary = true)\n    }\n"
           "    split(validation = 0.2, test = 0.2, seed = 3)\n  }\n"
           "  model {\n    dense(8, activation = relu)\n    output()\n  }\n"
           "  hyperparameters {\n    epochs = 20\n  }\n}\n",
           data);
  free(dt_write(dir, "notes.mlp", text, 0));
  char *run = train_spec(dir, "notes", spec);
  export_equals_run(dir, run, "notes", "label", "doc,doc2", 3, true);
  free(run);
  /* hashing has no ONNX operator: refused, naming it */
  char *hashed = strstr(text, "bag_of_words(doc2, max_vocab = 500, ngram = [1, 2], binary = true)");
  ck_assert_ptr_nonnull(hashed);
  memcpy(hashed, "hash_vectorize(doc2, buckets = 64)                                  ", 68);
  free(dt_write(dir, "notes.mlp", text, 0));
  run = train_spec(dir, "hashed", spec);
  char model[600];
  snprintf(model, sizeof model, "%s/hashed.onnx", dir);
  const char *x[] = {test_mlpc(), "export", run, "--onnx", model, NULL};
  TestRun r = test_run(x, NULL);
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(strstr(r.err, "hash_vectorize"), "%s", r.err);
  test_run_free(&r);
  free(run);
  free(text);
  free(dir);
}
END_TEST

/* A predictor export also writes the file the spec names in deploy.onnx
 * (iris: "iris.onnx"), beside the predictor. */
START_TEST(onnx_declared_file_beside_predictor) {
  char *dir = test_tmpdir(), *run = train(dir, "iris"), serve[512], pred[600], model[600];
  snprintf(serve, sizeof serve, "%s/serve", dir);
  snprintf(pred, sizeof pred, "%s/iris_predict", serve);
  snprintf(model, sizeof model, "%s/iris.onnx", serve);
  ck_assert_int_eq(mkdir(serve, 0755), 0);
  const char *xp[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  TestRun r = test_run(xp, NULL);
  ck_assert_msg(r.status == 0, "mlpc export: %s", r.err);
  test_run_free(&r);
  ck_assert_msg(access(model, R_OK) == 0, "no %s", model);
  onnx_check(model);
  free(run);
  free(dir);
}
END_TEST

/* diabetes: impute, a number made a category and one-hot encoded, standardize; a regression */
START_TEST(onnx_diabetes_answers_as_trained) {
  char *dir = test_tmpdir(), *run = train(dir, "diabetes");
  export_equals_run(dir, run, "diabetes", "progression", NULL, 1, false);
  free(run);
  free(dir);
}
END_TEST

/* A model fitted at once, trained on an example's data. */
typedef struct {
  const char *example, *target, *model;
  int k; /* classes, or 1 */
} FittedCase;

/* Each case trained, exported as ONNX and as a predictor, both answering
 * its test rows as training did. */
static void fitted_cases_answer_as_trained(const FittedCase *cases, size_t n, const char *prefix) {
  for (size_t i = 0; i < n; i++) {
    char *dir = test_tmpdir(), name[32];
    snprintf(name, sizeof name, "%s%zu", prefix, i);
    char *spec = test_example_spec(dir, cases[i].example, name, cases[i].model, NULL);
    char *run = train_spec(dir, name, spec);
    export_equals_run(dir, run, name, cases[i].target, NULL, cases[i].k, cases[i].k > 1);
    free(run);
    free(spec);
    free(dir);
  }
}

/* Linear models and baselines export as ai.onnx.ml's LinearClassifier and
 * LinearRegressor: softmax over three classes, one sigmoid unit, a value. */
START_TEST(onnx_linear_models_answer_as_trained) {
  static const FittedCase cases[] = {{"iris", "species", "linear_model(l2 = 0.01)", 3},
                                     {"breast_cancer", "diagnosis", "baseline(kind = logistic)", 2},
                                     {"wine", "cultivar", "baseline(kind = prior)", 3},
                                     {"diabetes", "progression", "linear_model(l1 = 0.1, l2 = 0.1)", 1}};
  fitted_cases_answer_as_trained(cases, sizeof cases / sizeof *cases, "linear");
}
END_TEST

/* Random forests export as ai.onnx.ml's TreeEnsembleClassifier (three
 * classes; two, both with their weights) and TreeEnsembleRegressor. */
START_TEST(onnx_forests_answer_as_trained) {
  static const FittedCase cases[] = {
      {"iris", "species", "random_forest(trees = 20, max_depth = 6)", 3},
      {"breast_cancer", "diagnosis", "random_forest(trees = 20, max_depth = 5)", 2},
      {"diabetes", "progression", "random_forest(trees = 20, max_depth = 6)", 1}};
  fitted_cases_answer_as_trained(cases, sizeof cases / sizeof *cases, "forest");
}
END_TEST

/* Support vector machines export as ai.onnx.ml's SVMClassifier, its
 * decision values finished as the svm kernel finishes them: three classes
 * by each kernel, and two; a support vector regression (svr) as
 * SVMRegressor, by each kernel, or its intercept alone. */
START_TEST(onnx_svms_answer_as_trained) {
  static const FittedCase cases[] = {
      {"iris", "species", "svm()", 3},
      {"wine", "cultivar", "svm(kernel = poly, degree = 2, coef0 = 1)", 3},
      {"iris", "species", "svm(kernel = linear, c = 0.5)", 3},
      {"breast_cancer", "diagnosis", "svm(c = 2)", 2},
      {"diabetes", "progression", "svr(c = 100, epsilon = 5)", 1},
      {"diabetes", "progression", "svr(kernel = poly, degree = 2, coef0 = 1, c = 10, epsilon = 2)", 1},
      {"diabetes", "progression", "svr(kernel = linear, c = 5)", 1},
      {"diabetes", "progression", "svr(epsilon = 1000)", 1}}; /* no support vectors: the intercept */
  fitted_cases_answer_as_trained(cases, sizeof cases / sizeof *cases, "svm");
}
END_TEST

/* Gradient boosting exports as ai.onnx.ml's TreeEnsembleClassifier with the
 * base scores and a softmax (three classes), and TreeEnsembleRegressor sums
 * with the base score (two classes' log-odds, finished by a sigmoid; a
 * value), the trees after early stopping's best round left out; trees grown
 * leaf-wise are unbalanced within their depth. */
START_TEST(onnx_boosted_trees_answer_as_trained) {
  static const FittedCase cases[] = {
      {"iris", "species", "gradient_boosting(trees = 20, max_depth = 4)", 3},
      {"breast_cancer", "diagnosis", "gradient_boosting(trees = 60, max_depth = 3, early_stopping = 3)", 2},
      {"diabetes", "progression",
       "gradient_boosting(trees = 30, max_depth = 5, subsample = 0.8, l2 = 1)", 1},
      {"wine", "cultivar",
       "gradient_boosting(trees = 20, max_depth = 5, growth = lossguide, max_leaves = 6)", 3}};
  fitted_cases_answer_as_trained(cases, sizeof cases / sizeof *cases, "boost");
}
END_TEST

/* --onnx writes the ONNX file alone; a directory that is no run is an
 * error naming it. */
START_TEST(onnx_cli_errors) {
  const char *both[] = {test_mlpc(), "export", "runs/none", "--onnx", "m.onnx", "-o", "pred", NULL};
  TestRun r = test_run(both, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "--onnx writes the ONNX file alone"));
  test_run_free(&r);
  char *dir = test_tmpdir(), model[512];
  snprintf(model, sizeof model, "%s/m.onnx", dir);
  const char *none[] = {test_mlpc(), "export", dir, "--onnx", model, NULL};
  r = test_run(none, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, dir));
  ck_assert_int_ne(access(model, F_OK), 0);
  test_run_free(&r);
  free(dir);
}
END_TEST

Suite *onnx_suite(void); /* the runner finds it by name */
Suite *onnx_suite(void) {
  Suite *s = suite_create("onnx");
  TCase *tc = tcase_create("onnx");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, onnx_mlp_equals_runtime_kernels);
  tcase_add_test(tc, onnx_cnn_equals_runtime_kernels);
  tcase_add_test(tc, onnx_layernorm_answers_as_trained);
  tcase_add_test(tc, onnx_dense_without_bias_answers_as_trained);
  tcase_add_test(tc, onnx_recurrent_equals_runtime_kernels);
  tcase_add_test(tc, onnx_embedding_bidirectional_equals_runtime_kernels);
  tcase_add_test(tc, onnx_transformer_answers_as_trained);
  tcase_add_test(tc, onnx_regression_and_binary_outputs);
  tcase_add_test(tc, onnx_refuses_date_inputs);
  tcase_add_test(tc, onnx_inputs_are_the_columns_read);
  tcase_add_test(tc, onnx_feature_program_equals_predictor);
  tcase_add_test(tc, onnx_iris_answers_as_trained);
  tcase_add_test(tc, onnx_diabetes_answers_as_trained);
  tcase_add_test(tc, onnx_linear_models_answer_as_trained);
  tcase_add_test(tc, onnx_forests_answer_as_trained);
  tcase_add_test(tc, onnx_svms_answer_as_trained);
  tcase_add_test(tc, onnx_boosted_trees_answer_as_trained);
  tcase_add_test(tc, onnx_declared_file_beside_predictor);
  tcase_add_test(tc, onnx_categories_answer_as_trained);
  tcase_add_test(tc, onnx_text_answers_as_trained);
  tcase_add_test(tc, onnx_austen_answers_as_trained);
  tcase_add_test(tc, onnx_cli_errors);
  suite_add_tcase(s, tc);
  return s;
}
