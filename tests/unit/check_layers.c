/* check_layers.c — the layer kernels: central-difference gradient checks of
 * every backward (inputs and weights) at several shapes, including batch 1,
 * odd sizes, padded and strided convolutions and pooling whose stride differs
 * from its window; BLAS paths against the reference loops; dropout masks;
 * batch norm's running statistics; recurrent layers through time, with and
 * without a padding mask; argument checks. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/layers.h"
#include "mlp/tensor.h"
#include "runtime/kernels/layers/fastmath.h"
#include "tests/unit/gradcheck.h"

/* Zeroed floats of exactly the size asked for (not rounded up to the
 * runtime's alignment), so AddressSanitizer and valgrind see any access one
 * past the end. */
static float *fbuf(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  ck_assert_ptr_nonnull(p);
  return p;
}

/* max |a - b| over n floats */
static double max_diff(const float *a, const float *b, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

/* ---- gradcheck sanity ---------------------------------------------------- */

typedef struct {
  float *out, *x;
  size_t n;
} SquareCtx;

static void square_forward(void *p) {
  SquareCtx *k = p;
  for (size_t i = 0; i < k->n; i++) k->out[i] = k->x[i] * k->x[i];
}

/* The checker must reject a gradient that is slightly wrong, or passing
 * gradchecks would prove nothing. */
START_TEST(gradcheck_detects_wrong_gradient) {
  float x[5] = {0.3f, -1.2f, 0.7f, 2.0f, -0.4f}, out[5], g[5];
  SquareCtx k = {out, x, 5};
  GcObjective o = {square_forward, &k, out, NULL, 5};
  for (int i = 0; i < 5; i++) g[i] = 2.0f * x[i];
  ck_assert_int_eq(gc_mismatches(&o, x, g, 5, "square"), 0);
  g[3] *= 1.01f; /* 1% off in one element */
  ck_assert_int_eq(gc_mismatches(&o, x, g, 5, "square (deliberately wrong)"), 1);
}
END_TEST

/* ---- dense --------------------------------------------------------------- */

static const int dense_shapes[][3] = {{1, 1, 1}, {1, 7, 3}, {5, 3, 4}, {4, 17, 9}, {33, 10, 6}};
#define N_DENSE_SHAPES (int)(sizeof dense_shapes / sizeof dense_shapes[0])

typedef struct {
  float *out, *inp, *w, *b;
  int B, C, OC;
} DenseCtx;

static void dense_fwd(void *p) {
  DenseCtx *k = p;
  mlprt_dense_forward(k->out, k->inp, k->w, k->b, k->B, k->C, k->OC);
}

START_TEST(dense_gradcheck) {
  int B = dense_shapes[_i][0], C = dense_shapes[_i][1], OC = dense_shapes[_i][2];
  DenseCtx k = {fbuf((size_t)B * OC), fbuf((size_t)B * C), fbuf((size_t)OC * C), fbuf(OC), B, C, OC};
  float *r = fbuf((size_t)B * OC), *dinp = fbuf((size_t)B * C), *dw = fbuf((size_t)OC * C), *db = fbuf(OC);
  gc_fill(k.inp, (size_t)B * C, -1, 1, 1);
  gc_fill(k.w, (size_t)OC * C, -1, 1, 2);
  gc_fill(k.b, OC, -1, 1, 3);
  gc_fill(r, (size_t)B * OC, -1, 1, 4);
  dense_fwd(&k);
  mlprt_dense_backward(dinp, dw, db, r, k.inp, k.w, B, C, OC);
  GcObjective o = {dense_fwd, &k, k.out, r, (size_t)B * OC};
  GC_ASSERT(&o, k.inp, dinp, (size_t)B * C, "dense input");
  GC_ASSERT(&o, k.w, dw, (size_t)OC * C, "dense weight");
  GC_ASSERT(&o, k.b, db, OC, "dense bias");
  float *bufs[] = {k.out, k.inp, k.w, k.b, r, dinp, dw, db};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}
END_TEST

/* The BLAS path agrees with the reference loops, both accumulate into grads
 * that already hold values, and a NULL bias means no bias. */
START_TEST(dense_blas_matches_ref) {
  static const int shapes[][3] = {{1, 5, 3}, {1, 300, 37}, {7, 13, 11}, {64, 100, 37}, {128, 256, 64}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int B = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
    size_t ni = (size_t)B * C, nw = (size_t)OC * C, no = (size_t)B * OC;
    float *inp = fbuf(ni), *w = fbuf(nw), *b = fbuf(OC), *dout = fbuf(no);
    float *o1 = fbuf(no), *o2 = fbuf(no), *di1 = fbuf(ni), *di2 = fbuf(ni), *dw1 = fbuf(nw), *dw2 = fbuf(nw);
    float *db1 = fbuf(OC), *db2 = fbuf(OC);
    gc_fill(inp, ni, -1, 1, 10);
    gc_fill(w, nw, -1, 1, 11);
    gc_fill(b, OC, -1, 1, 12);
    gc_fill(dout, no, -1, 1, 13);
    gc_fill(di1, ni, -1, 1, 14);
    memcpy(di2, di1, ni * sizeof(float));
    gc_fill(dw1, nw, -1, 1, 15);
    memcpy(dw2, dw1, nw * sizeof(float));
    gc_fill(db1, OC, -1, 1, 16);
    memcpy(db2, db1, OC * sizeof(float));
    double tol = 1e-5 * sqrt((double)(C > B ? C : B)) * 4;
    mlprt_dense_forward(o1, inp, w, b, B, C, OC);
    mlprt_dense_forward_ref(o2, inp, w, b, B, C, OC);
    ck_assert_double_lt(max_diff(o1, o2, no), tol);
    mlprt_dense_forward(o1, inp, w, NULL, B, C, OC);
    mlprt_dense_forward_ref(o2, inp, w, NULL, B, C, OC);
    ck_assert_double_lt(max_diff(o1, o2, no), tol);
    mlprt_dense_backward(di1, dw1, db1, dout, inp, w, B, C, OC);
    mlprt_dense_backward_ref(di2, dw2, db2, dout, inp, w, B, C, OC);
    ck_assert_double_lt(max_diff(di1, di2, ni), tol);
    ck_assert_double_lt(max_diff(dw1, dw2, nw), tol);
    ck_assert_double_lt(max_diff(db1, db2, OC), tol);
    /* the reference itself: out[0][0] by hand */
    double by_hand = b[0];
    for (int c = 0; c < C; c++) by_hand += (double)inp[c] * w[c];
    mlprt_dense_forward_ref(o2, inp, w, b, B, C, OC);
    ck_assert_double_lt(fabs(o2[0] - by_hand), 1e-5);
    float *bufs[] = {inp, w, b, dout, o1, o2, di1, di2, dw1, dw2, db1, db2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  }
}
END_TEST

START_TEST(dense_backward_accumulates_and_skips_null) {
  float inp[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 2, 1, 0}, dout[4] = {1, -1, 2, 0.5f};
  float dw[6] = {0}, db[2] = {0}, dw2[6] = {0}, db2[2] = {0};
  mlprt_dense_backward(NULL, dw, db, dout, inp, w, 2, 3, 2);
  mlprt_dense_backward(NULL, dw2, db2, dout, inp, w, 2, 3, 2);
  mlprt_dense_backward(NULL, dw2, db2, dout, inp, w, 2, 3, 2);
  for (int i = 0; i < 6; i++) ck_assert_float_eq_tol(dw2[i], 2 * dw[i], 1e-6f);
  /* dbias = column sums of dout (2, 2): 1 + 2, -1 + 0.5 */
  ck_assert_float_eq_tol(db[0], 3.0f, 1e-6f);
  ck_assert_float_eq_tol(db[1], -0.5f, 1e-6f);
  ck_assert_float_eq_tol(db2[0], 6.0f, 1e-6f);
}
END_TEST

/* ---- dense over sparse rows ---------------------------------------------- */

/* Rows (B, C) with about a third of their entries nonzero (every row of
 * at least 2 columns keeps one), as dense floats and as sparse rows. */
typedef struct {
  float *dense;
  MlprtCsr m;
} SparseRows;

static SparseRows sparse_rows(int B, int C, uint64_t stream) {
  SparseRows s = {fbuf((size_t)B * C), {B, C, calloc((size_t)B + 1, sizeof(int64_t)), NULL, NULL}};
  gc_fill(s.dense, (size_t)B * C, -1, 1, stream);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      if ((b * 7 + c * 5) % 3 && C > 1) s.dense[(size_t)b * C + c] = 0;
  s.m.col = malloc((size_t)B * C * sizeof *s.m.col);
  s.m.val = malloc((size_t)B * C * sizeof *s.m.val);
  int64_t n = 0;
  for (int b = 0; b < B; b++) {
    for (int c = 0; c < C; c++)
      if (s.dense[(size_t)b * C + c] != 0) s.m.col[n] = c, s.m.val[n++] = s.dense[(size_t)b * C + c];
    s.m.ptr[b + 1] = n;
  }
  return s;
}

typedef struct {
  float *out, *w, *b;
  SparseRows *x;
  int B, C, OC;
} SparseDenseCtx;

static void sparse_dense_fwd(void *p) {
  SparseDenseCtx *k = p;
  mlprt_sparse_dense_forward(k->out, k->x->m.ptr, k->x->m.col, k->x->m.val, k->w, k->b, k->B, k->C, k->OC);
}

/* The sparse backward's weight and bias gradients against central
 * differences of the sparse forward, at the dense layer's shapes. */
START_TEST(sparse_dense_gradcheck) {
  int B = dense_shapes[_i][0], C = dense_shapes[_i][1], OC = dense_shapes[_i][2];
  SparseRows x = sparse_rows(B, C, 21);
  SparseDenseCtx k = {fbuf((size_t)B * OC), fbuf((size_t)OC * C), fbuf(OC), &x, B, C, OC};
  float *r = fbuf((size_t)B * OC), *dw = fbuf((size_t)OC * C), *db = fbuf(OC);
  gc_fill(k.w, (size_t)OC * C, -1, 1, 22);
  gc_fill(k.b, OC, -1, 1, 23);
  gc_fill(r, (size_t)B * OC, -1, 1, 24);
  sparse_dense_fwd(&k);
  mlprt_sparse_dense_backward(dw, db, r, x.m.ptr, x.m.col, x.m.val, B, C, OC);
  GcObjective o = {sparse_dense_fwd, &k, k.out, r, (size_t)B * OC};
  GC_ASSERT(&o, k.w, dw, (size_t)OC * C, "sparse dense weight");
  GC_ASSERT(&o, k.b, db, OC, "sparse dense bias");
  float *bufs[] = {k.out, k.w, k.b, r, dw, db, x.dense};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  mlprt_csr_free(&x.m);
}
END_TEST

/* Over the nonzeros, the dense layer's outputs and gradients (accumulated
 * into values already there) within float rounding; a weight column no
 * row holds keeps its gradient exactly. */
START_TEST(sparse_dense_matches_dense) {
  static const int shapes[][3] = {{1, 5, 3}, {7, 13, 11}, {64, 100, 37}, {32, 2000, 16}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int B = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
    size_t nw = (size_t)OC * C, no = (size_t)B * OC;
    SparseRows x = sparse_rows(B, C, 30);
    float *w = fbuf(nw), *b = fbuf(OC), *dout = fbuf(no), *o1 = fbuf(no), *o2 = fbuf(no);
    float *dw1 = fbuf(nw), *dw2 = fbuf(nw), *db1 = fbuf(OC), *db2 = fbuf(OC);
    gc_fill(w, nw, -1, 1, 31);
    gc_fill(b, OC, -1, 1, 32);
    gc_fill(dout, no, -1, 1, 33);
    gc_fill(dw1, nw, -1, 1, 34);
    memcpy(dw2, dw1, nw * sizeof(float));
    gc_fill(db1, OC, -1, 1, 35);
    memcpy(db2, db1, OC * sizeof(float));
    double tol = 1e-5 * sqrt((double)(C > B ? C : B)) * 4;
    mlprt_dense_forward(o1, x.dense, w, b, B, C, OC);
    mlprt_sparse_dense_forward(o2, x.m.ptr, x.m.col, x.m.val, w, b, B, C, OC);
    ck_assert_double_lt(max_diff(o1, o2, no), tol);
    mlprt_dense_forward(o1, x.dense, w, NULL, B, C, OC);
    mlprt_sparse_dense_forward(o2, x.m.ptr, x.m.col, x.m.val, w, NULL, B, C, OC);
    ck_assert_double_lt(max_diff(o1, o2, no), tol);
    mlprt_dense_backward(NULL, dw1, db1, dout, x.dense, w, B, C, OC);
    mlprt_sparse_dense_backward(dw2, db2, dout, x.m.ptr, x.m.col, x.m.val, B, C, OC);
    ck_assert_double_lt(max_diff(dw1, dw2, nw), tol);
    ck_assert_double_lt(max_diff(db1, db2, OC), tol);
    float *bufs[] = {w, b, dout, o1, o2, dw1, dw2, db1, db2, x.dense};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    mlprt_csr_free(&x.m);
  }
  /* one row holding column 1 alone: column 0's and 2's gradients untouched */
  int64_t ptr[2] = {0, 1};
  int32_t col[1] = {1};
  float val[1] = {2}, w[3] = {1, 3, 5}, out[1], dout[1] = {0.5f}, dw[3] = {7, 8, 9};
  mlprt_sparse_dense_forward(out, ptr, col, val, w, NULL, 1, 3, 1);
  ck_assert_float_eq(out[0], 6.0f);
  mlprt_sparse_dense_backward(dw, NULL, dout, ptr, col, val, 1, 3, 1);
  ck_assert_float_eq(dw[0], 7.0f);
  ck_assert_float_eq(dw[1], 9.0f);
  ck_assert_float_eq(dw[2], 9.0f);
}
END_TEST

/* ---- bias ---------------------------------------------------------------- */

typedef struct {
  float *out, *inp, *b;
  int outer, C, inner;
} BiasCtx;

static void bias_fwd(void *p) {
  BiasCtx *k = p;
  mlprt_bias_forward(k->out, k->inp, k->b, k->outer, k->C, k->inner);
}

START_TEST(bias_gradcheck) {
  static const int shapes[][3] = {{1, 1, 1}, {3, 4, 1}, {2, 3, 5}};
  for (size_t s = 0; s < 3; s++) {
    int outer = shapes[s][0], C = shapes[s][1], inner = shapes[s][2];
    size_t n = (size_t)outer * C * inner;
    BiasCtx k = {fbuf(n), fbuf(n), fbuf(C), outer, C, inner};
    float *r = fbuf(n), *dinp = fbuf(n), *db = fbuf(C);
    gc_fill(k.inp, n, -1, 1, 20);
    gc_fill(k.b, C, -1, 1, 21);
    gc_fill(r, n, -1, 1, 22);
    mlprt_bias_backward(dinp, db, r, outer, C, inner);
    GcObjective o = {bias_fwd, &k, k.out, r, n};
    GC_ASSERT(&o, k.inp, dinp, n, "bias input");
    GC_ASSERT(&o, k.b, db, C, "bias vector");
    float *bufs[] = {k.out, k.inp, k.b, r, dinp, db};
    for (size_t i = 0; i < 6; i++) free(bufs[i]);
  }
}
END_TEST

/* ---- activations --------------------------------------------------------- */

enum { ACT_RELU, ACT_LEAKY, ACT_ELU, ACT_GELU, ACT_SIGMOID, ACT_TANH, ACT_COUNT };
static const char *const act_names[] = {"relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh"};

typedef struct {
  int kind;
  float *out, *inp;
  size_t n;
} ActCtx;

static void act_fwd(void *p) {
  ActCtx *k = p;
  switch (k->kind) {
  case ACT_RELU: mlprt_relu_forward(k->out, k->inp, k->n); break;
  case ACT_LEAKY: mlprt_leaky_relu_forward(k->out, k->inp, k->n, 0.1f); break;
  case ACT_ELU: mlprt_elu_forward(k->out, k->inp, k->n, 0.7f); break;
  case ACT_GELU: mlprt_gelu_forward(k->out, k->inp, k->n); break;
  case ACT_SIGMOID: mlprt_sigmoid_forward(k->out, k->inp, k->n); break;
  default: mlprt_tanh_forward(k->out, k->inp, k->n); break;
  }
}

static void act_bwd(int kind, float *dinp, const float *dout, const float *inp, const float *out, size_t n) {
  switch (kind) {
  case ACT_RELU: mlprt_relu_backward(dinp, dout, out, n); break;
  case ACT_LEAKY: mlprt_leaky_relu_backward(dinp, dout, out, n, 0.1f); break;
  case ACT_ELU: mlprt_elu_backward(dinp, dout, out, n, 0.7f); break;
  case ACT_GELU: mlprt_gelu_backward(dinp, dout, inp, n); break;
  case ACT_SIGMOID: mlprt_sigmoid_backward(dinp, dout, out, n); break;
  default: mlprt_tanh_backward(dinp, dout, out, n); break;
  }
}

START_TEST(activation_gradcheck) {
  static const size_t sizes[] = {1, 37};
  for (size_t s = 0; s < 2; s++) {
    size_t n = sizes[s];
    ActCtx k = {_i, fbuf(n), fbuf(n), n};
    float *r = fbuf(n), *dinp = fbuf(n), *inplace = fbuf(n);
    gc_fill_away_from_zero(k.inp, n, -3, 3, 30 + s);
    gc_fill(r, n, -1, 1, 32);
    act_fwd(&k);
    act_bwd(_i, dinp, r, k.inp, k.out, n);
    GcObjective o = {act_fwd, &k, k.out, r, n};
    GC_ASSERT(&o, k.inp, dinp, n, act_names[_i]);
    /* in place gives the same output */
    memcpy(inplace, k.inp, n * sizeof(float));
    ActCtx k2 = {_i, inplace, inplace, n};
    act_fwd(&k2);
    ck_assert_double_eq(max_diff(inplace, k.out, n), 0.0);
    float *bufs[] = {k.out, k.inp, r, dinp, inplace};
    for (size_t i = 0; i < 5; i++) free(bufs[i]);
  }
}
END_TEST

START_TEST(activation_values) {
  float x[6] = {-100.0f, -1.0f, 0.0f, 0.5f, 1.0f, 100.0f}, y[6];
  mlprt_gelu_forward(y, x, 6);
  /* exact GELU: x * Phi(x); 1 * Phi(1) = 0.8413447 (tanh approx: 0.8411920) */
  ck_assert_float_eq_tol(y[4], 0.8413447f, 1e-6f);
  ck_assert_float_eq_tol(y[1], -0.1586553f, 1e-6f);
  ck_assert_float_eq(y[0], 0.0f);
  ck_assert_float_eq(y[5], 100.0f);
  mlprt_sigmoid_forward(y, x, 6);
  ck_assert_float_eq(y[2], 0.5f);
  ck_assert_float_eq_tol(y[0], 0.0f, 1e-30f); /* no overflow for large |x| */
  ck_assert_float_eq(y[5], 1.0f);
  ck_assert_float_eq_tol(y[4], 0.7310586f, 1e-6f);
  mlprt_elu_forward(y, x, 6, 1.0f);
  ck_assert_float_eq_tol(y[1], expf(-1.0f) - 1.0f, 1e-6f);
  ck_assert_float_eq(y[3], 0.5f);
  mlprt_leaky_relu_forward(y, x, 6, 0.01f);
  ck_assert_float_eq_tol(y[1], -0.01f, 1e-8f);
  mlprt_relu_forward(y, x, 6);
  ck_assert_float_eq(y[1], 0.0f);
  ck_assert_float_eq(y[4], 1.0f);
  float nan_in = NAN, nan_out;
  mlprt_relu_forward(&nan_out, &nan_in, 1);
  ck_assert(isnan(nan_out)); /* divergence is not hidden */
  mlprt_tanh_forward(y, x, 6);
  ck_assert_float_eq_tol(y[3], 0.4621172f, 1e-6f);
}
END_TEST

/* The bounds fastmath.h documents, on 800,001 points of [-20, 20] and on
 * tiny arguments (where tanh x = x), against double exp and tanh. */
START_TEST(fastmath_accuracy) {
  double exp_ulp = 0, tanh_ulp = 0, tanh_abs = 0, sig_abs = 0;
  for (int i = -400000; i <= 400000; i++) {
    float x = i == 0 ? 1e-20f : (float)i * 5e-5f;
    double e = exp((double)x), t = tanh((double)x), sg = 1.0 / (1.0 + exp(-(double)x));
    float ef = (float)e, tf = (float)t;
    exp_ulp = fmax(exp_ulp, fabs(mlprt_expf(x) - e) / (nextafterf(ef, INFINITY) - ef));
    tanh_ulp = fmax(tanh_ulp, fabs(mlprt_tanhf(x) - t) / (nextafterf(fabsf(tf), INFINITY) - fabsf(tf)));
    tanh_abs = fmax(tanh_abs, fabs(mlprt_tanhf(x) - t));
    sig_abs = fmax(sig_abs, fabs(mlprt_sigmoidf(x) - sg));
  }
  ck_assert_double_le(exp_ulp, 1.0);
  ck_assert_double_le(tanh_ulp, 1.4);
  ck_assert_double_le(tanh_abs, 8e-8);
  ck_assert_double_le(sig_abs, 9e-8);
  ck_assert_float_eq(mlprt_tanhf(-30.0f), -1.0f);
  ck_assert_float_eq(mlprt_sigmoidf(200.0f), 1.0f);
  ck_assert_float_eq(mlprt_expf(0.0f), 1.0f);
}
END_TEST

/* ---- softmax ------------------------------------------------------------- */

typedef struct {
  float *out, *inp;
  int B, C;
} SoftmaxCtx;

static void softmax_fwd(void *p) {
  SoftmaxCtx *k = p;
  mlprt_softmax_forward(k->out, k->inp, k->B, k->C);
}

START_TEST(softmax_gradcheck_and_stability) {
  static const int shapes[][2] = {{1, 1}, {1, 5}, {3, 7}};
  for (size_t s = 0; s < 3; s++) {
    int B = shapes[s][0], C = shapes[s][1];
    size_t n = (size_t)B * C;
    SoftmaxCtx k = {fbuf(n), fbuf(n), B, C};
    float *r = fbuf(n), *dinp = fbuf(n);
    gc_fill(k.inp, n, -2, 2, 40);
    gc_fill(r, n, -1, 1, 41);
    softmax_fwd(&k);
    mlprt_softmax_backward(dinp, r, k.out, B, C);
    GcObjective o = {softmax_fwd, &k, k.out, r, n};
    GC_ASSERT(&o, k.inp, dinp, n, "softmax input");
    for (int b = 0; b < B; b++) {
      double sum = 0;
      for (int c = 0; c < C; c++) sum += k.out[b * C + c];
      ck_assert_double_eq_tol(sum, 1.0, 1e-6);
    }
    float *bufs[] = {k.out, k.inp, r, dinp};
    for (size_t i = 0; i < 4; i++) free(bufs[i]);
  }
  float big[3] = {1000.0f, 999.0f, -1000.0f}, p[3];
  mlprt_softmax_forward(p, big, 1, 3);
  ck_assert_float_eq_tol(p[0], 0.7310586f, 1e-6f);
  ck_assert_float_eq_tol(p[1], 0.2689414f, 1e-6f);
  ck_assert_float_eq(p[2], 0.0f);
}
END_TEST

/* ---- dropout ------------------------------------------------------------- */

START_TEST(dropout_masks) {
  enum { N = 20000 };
  float *x = fbuf(N), *y = fbuf(N), *m1 = fbuf(N), *m2 = fbuf(N), *m3 = fbuf(N), *m4 = fbuf(N);
  gc_fill(x, N, 0.5f, 1.5f, 50);
  const float p = 0.3f;
  mlprt_dropout_forward(y, m1, x, N, p, 7, 0, 100);
  mlprt_dropout_forward(y, m2, x, N, p, 7, 0, 100);
  ck_assert_int_eq(memcmp(m1, m2, N * sizeof(float)), 0); /* same seed, site, step: same mask */
  mlprt_dropout_forward(y, m3, x, N, p, 7, 0, 101);
  mlprt_dropout_forward(y, m4, x, N, p, 7, 1, 100);
  int kept = 0, same_step = 0, same_site = 0;
  for (int i = 0; i < N; i++) {
    kept += m1[i] != 0.0f;
    same_step += (m1[i] != 0.0f) == (m3[i] != 0.0f);
    same_site += (m1[i] != 0.0f) == (m4[i] != 0.0f);
    ck_assert(m1[i] == 0.0f || fabsf(m1[i] - 1.0f / 0.7f) < 1e-6f);
  }
  /* keep rate 0.7: standard error sqrt(0.21 / N) = 0.0032 */
  ck_assert_double_eq_tol(kept / (double)N, 1.0 - p, 0.015);
  /* independent masks agree on 0.7^2 + 0.3^2 = 58% of elements */
  ck_assert_double_eq_tol(same_step / (double)N, 0.58, 0.02);
  ck_assert_double_eq_tol(same_site / (double)N, 0.58, 0.02);
  /* inverted scaling keeps the expected sum */
  mlprt_dropout_forward(y, m1, x, N, p, 7, 0, 100);
  double sx = 0, sy = 0;
  for (int i = 0; i < N; i++) sx += x[i], sy += y[i];
  ck_assert_double_eq_tol(sy / sx, 1.0, 0.02);
  /* the mask is the documented function of (seed, site, step, i) */
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(m1[i] != 0.0f, mlprt_rng_uniform(7, mlprt_rng_stream(0, 100), (uint64_t)i) >= p);
  /* p = 0 is the identity */
  mlprt_dropout_forward(y, m2, x, N, 0.0f, 7, 0, 100);
  ck_assert_int_eq(memcmp(x, y, N * sizeof(float)), 0);
  float *bufs[] = {x, y, m1, m2, m3, m4};
  for (size_t i = 0; i < 6; i++) free(bufs[i]);
}
END_TEST

typedef struct {
  float *out, *mask, *inp;
  size_t n;
} DropCtx;

static void drop_fwd(void *p) {
  DropCtx *k = p;
  mlprt_dropout_forward(k->out, k->mask, k->inp, k->n, 0.4f, 3, 2, 9);
}

START_TEST(dropout_gradcheck) {
  size_t n = 29;
  DropCtx k = {fbuf(n), fbuf(n), fbuf(n), n};
  float *r = fbuf(n), *dinp = fbuf(n);
  gc_fill(k.inp, n, -1, 1, 51);
  gc_fill(r, n, -1, 1, 52);
  drop_fwd(&k);
  mlprt_dropout_backward(dinp, r, k.mask, n);
  GcObjective o = {drop_fwd, &k, k.out, r, n};
  GC_ASSERT(&o, k.inp, dinp, n, "dropout input");
  float *bufs[] = {k.out, k.mask, k.inp, r, dinp};
  for (size_t i = 0; i < 5; i++) free(bufs[i]);
}
END_TEST

/* ---- batch norm and layer norm ------------------------------------------- */

typedef struct {
  float *out, *mean, *rstd, *rm, *rv, *inp, *gamma, *beta;
  int N, C, S;
} BnCtx;

static void bn_fwd(void *p) {
  BnCtx *k = p;
  mlprt_batchnorm_forward_train(k->out, k->mean, k->rstd, k->rm, k->rv, k->inp, k->gamma, k->beta, k->N,
                                k->C, k->S, 0.1f, 1e-5f);
}

START_TEST(batchnorm_gradcheck) {
  static const int shapes[][3] = {{1, 2, 7}, {4, 3, 1}, {3, 2, 5}};
  for (size_t s = 0; s < 3; s++) {
    int N = shapes[s][0], C = shapes[s][1], S = shapes[s][2];
    size_t n = (size_t)N * C * S;
    BnCtx k = {fbuf(n), fbuf(C), fbuf(C), fbuf(C), fbuf(C), fbuf(n), fbuf(C), fbuf(C), N, C, S};
    float *r = fbuf(n), *dinp = fbuf(n), *dg = fbuf(C), *db = fbuf(C);
    gc_fill(k.inp, n, -2, 2, 60);
    gc_fill(k.gamma, C, 0.5f, 1.5f, 61);
    gc_fill(k.beta, C, -1, 1, 62);
    gc_fill(r, n, -1, 1, 63);
    bn_fwd(&k);
    mlprt_batchnorm_backward(dinp, dg, db, r, k.inp, k.gamma, k.mean, k.rstd, N, C, S);
    GcObjective o = {bn_fwd, &k, k.out, r, n};
    GC_ASSERT(&o, k.inp, dinp, n, "batchnorm input");
    GC_ASSERT(&o, k.gamma, dg, C, "batchnorm gamma");
    GC_ASSERT(&o, k.beta, db, C, "batchnorm beta");
    float *bufs[] = {k.out, k.mean, k.rstd, k.rm, k.rv, k.inp, k.gamma, k.beta, r, dinp, dg, db};
    for (size_t i = 0; i < 12; i++) free(bufs[i]);
  }
}
END_TEST

START_TEST(batchnorm_running_stats_and_inference) {
  /* one channel, values 1..4: mean 2.5, biased var 1.25, unbiased 5/3 */
  float x[4] = {1, 2, 3, 4}, y[4], mean, rstd, rm = 0.0f, rv = 1.0f, g = 2.0f, b = 0.5f;
  mlprt_batchnorm_forward_train(y, &mean, &rstd, &rm, &rv, x, &g, &b, 4, 1, 1, 0.1f, 1e-5f);
  ck_assert_float_eq_tol(mean, 2.5f, 1e-6f);
  ck_assert_float_eq_tol(rstd, 1.0f / sqrtf(1.25f + 1e-5f), 1e-6f);
  ck_assert_float_eq_tol(rm, 0.25f, 1e-6f);
  ck_assert_float_eq_tol(rv, 0.9f + 0.1f * 5.0f / 3.0f, 1e-6f);
  ck_assert_float_eq_tol(y[0], 2.0f * (1.0f - 2.5f) * rstd + 0.5f, 1e-5f);
  /* inference normalises by the running statistics, not the batch's */
  float yi[4];
  mlprt_batchnorm_forward_infer(yi, x, &g, &b, &rm, &rv, 4, 1, 1, 1e-5f);
  for (int i = 0; i < 4; i++) {
    ck_assert_float_eq_tol(yi[i], 2.0f * (x[i] - rm) / sqrtf(rv + 1e-5f) + 0.5f, 1e-5f);
    ck_assert(fabsf(yi[i] - y[i]) > 0.1f);
  }
  /* a batch of one in inference mode is fine (train mode needs N*S > 1) */
  float one = 3.0f, yo;
  mlprt_batchnorm_forward_infer(&yo, &one, &g, &b, &rm, &rv, 1, 1, 1, 1e-5f);
  ck_assert_float_eq_tol(yo, 2.0f * (3.0f - rm) / sqrtf(rv + 1e-5f) + 0.5f, 1e-5f);
}
END_TEST

typedef struct {
  float *out, *mean, *rstd, *inp, *w, *b;
  int B, C;
} LnCtx;

static void ln_fwd(void *p) {
  LnCtx *k = p;
  mlprt_layernorm_forward(k->out, k->mean, k->rstd, k->inp, k->w, k->b, k->B, k->C, 1e-5f);
}

START_TEST(layernorm_gradcheck) {
  static const int shapes[][2] = {{1, 3}, {4, 8}, {3, 13}};
  for (size_t s = 0; s < 3; s++) {
    int B = shapes[s][0], C = shapes[s][1];
    size_t n = (size_t)B * C;
    LnCtx k = {fbuf(n), fbuf(B), fbuf(B), fbuf(n), fbuf(C), fbuf(C), B, C};
    float *r = fbuf(n), *dinp = fbuf(n), *dw = fbuf(C), *db = fbuf(C);
    gc_fill(k.inp, n, -2, 2, 70);
    gc_fill(k.w, C, 0.5f, 1.5f, 71);
    gc_fill(k.b, C, -1, 1, 72);
    gc_fill(r, n, -1, 1, 73);
    ln_fwd(&k);
    mlprt_layernorm_backward(dinp, dw, db, r, k.inp, k.w, k.mean, k.rstd, B, C);
    GcObjective o = {ln_fwd, &k, k.out, r, n};
    GC_ASSERT(&o, k.inp, dinp, n, "layernorm input");
    GC_ASSERT(&o, k.w, dw, C, "layernorm weight");
    GC_ASSERT(&o, k.b, db, C, "layernorm bias");
    /* each row of the normalised output (weight 1, bias 0 aside) has mean 0 */
    double m = 0;
    for (int c = 0; c < C; c++) m += (k.out[c] - k.b[c]) / k.w[c];
    ck_assert_double_eq_tol(m / C, 0.0, 1e-5);
    float *bufs[] = {k.out, k.mean, k.rstd, k.inp, k.w, k.b, r, dinp, dw, db};
    for (size_t i = 0; i < 10; i++) free(bufs[i]);
  }
}
END_TEST

/* ---- recurrent layers ------------------------------------------------------ */

/* A padding mask (B, T) as tokenize lays texts out, padding in front: row b
 * has b % T padded steps, the last row all but one, and with three rows or
 * more the one before it is all padding. */
static float *pad_mask(int B, int T) {
  float *m = fbuf((size_t)B * T);
  for (int b = 0; b < B; b++) {
    int pad = b == B - 1 ? T - 1 : B >= 3 && b == B - 2 ? T : b % T;
    for (int t = pad; t < T; t++) m[(size_t)b * T + t] = 1.0f;
  }
  return m;
}

/* The padded steps of row b under mask m (B, T). */
static int padded(const float *m, int b, int T) {
  int n = 0;
  while (n < T && m[(size_t)b * T + n] == 0.0f) n++;
  return n;
}

/* cell B T F H return_sequences: length-1 sequences, batch 1, and both outputs */
static const int rnn_shapes[][6] = {
    {MLPRT_CELL_RNN, 2, 1, 3, 4, 0},  {MLPRT_CELL_RNN, 3, 5, 2, 3, 1},  {MLPRT_CELL_LSTM, 1, 1, 4, 3, 1},
    {MLPRT_CELL_LSTM, 2, 4, 3, 5, 0}, {MLPRT_CELL_LSTM, 3, 3, 2, 2, 1}, {MLPRT_CELL_GRU, 2, 1, 3, 2, 0},
    {MLPRT_CELL_GRU, 1, 5, 2, 4, 1},  {MLPRT_CELL_GRU, 3, 4, 3, 3, 0},
};
#define N_RNN_SHAPES (int)(sizeof rnn_shapes / sizeof rnn_shapes[0])

typedef struct {
  float *out, *seq, *work, *inp, *mask, *w_ih, *w_hh, *b_ih, *b_hh;
  int cell, B, T, F, H, ret;
} RnnCtx;

static void rnn_fwd(void *p) {
  RnnCtx *k = p;
  mlprt_recurrent_forward(k->out, k->seq, k->work, k->inp, k->mask, k->w_ih, k->w_hh, k->b_ih, k->b_hh,
                          k->cell, k->B, k->T, k->F, k->H, k->ret);
}

/* Each masked row's output is the layer over its counted steps alone (PyTorch's packed sequence): the
 * last state, or those steps' states after zeros; a row of padding only gives zeros. */
static void check_packed(const RnnCtx *k) {
  int T = k->T, F = k->F, H = k->H;
  int64_t nseq, nwork;
  mlprt_recurrent_sizes(k->cell, 1, T, H, &nseq, &nwork);
  float *seq = fbuf((size_t)nseq), *work = fbuf((size_t)nwork), *o = fbuf((size_t)T * H);
  for (int b = 0; b < k->B; b++) {
    int pad = padded(k->mask, b, T), n = T - pad;
    const float *ob = k->out + (size_t)b * (k->ret ? T : 1) * H;
    if (n > 0)
      mlprt_recurrent_forward(o, seq, work, k->inp + ((size_t)b * T + pad) * F, NULL, k->w_ih, k->w_hh,
                              k->b_ih, k->b_hh, k->cell, 1, n, F, H, k->ret);
    for (int i = 0; i < (k->ret ? T : 1) * H; i++) {
      int t = i / H; /* a step of the output with sequences */
      float want = n == 0 || (k->ret && t < pad) ? 0.0f : o[k->ret ? i - pad * H : i];
      ck_assert_float_eq_tol(ob[i], want, 1e-6f);
    }
  }
  free(seq);
  free(work);
  free(o);
}

/* Shapes 0 .. N_RNN_SHAPES - 1 without a mask, then the same shapes with pad_mask. */
START_TEST(recurrent_gradcheck) {
  const int *sh = rnn_shapes[_i % N_RNN_SHAPES];
  int cell = sh[0], B = sh[1], T = sh[2], F = sh[3], H = sh[4], ret = sh[5];
  int G = mlprt_recurrent_gates(cell);
  int64_t nseq, nwork;
  mlprt_recurrent_sizes(cell, B, T, H, &nseq, &nwork);
  size_t nin = (size_t)B * T * F, nout = (size_t)B * (ret ? T : 1) * H;
  size_t nih = (size_t)G * H * F, nhh = (size_t)G * H * H, nb = (size_t)G * H;
  RnnCtx k = {fbuf(nout),
              fbuf((size_t)nseq),
              fbuf((size_t)nwork),
              fbuf(nin),
              _i < N_RNN_SHAPES ? NULL : pad_mask(B, T),
              fbuf(nih),
              fbuf(nhh),
              fbuf(nb),
              fbuf(nb),
              cell,
              B,
              T,
              F,
              H,
              ret};
  float *r = fbuf(nout), *dinp = fbuf(nin), *dih = fbuf(nih), *dhh = fbuf(nhh);
  float *dbi = fbuf(nb), *dbh = fbuf(nb);
  gc_fill(k.inp, nin, -1.5f, 1.5f, 80);
  gc_fill(k.w_ih, nih, -0.8f, 0.8f, 81);
  gc_fill(k.w_hh, nhh, -0.8f, 0.8f, 82);
  gc_fill(k.b_ih, nb, -0.5f, 0.5f, 83);
  gc_fill(k.b_hh, nb, -0.5f, 0.5f, 84);
  gc_fill(r, nout, -1, 1, 85);
  rnn_fwd(&k);
  mlprt_recurrent_backward(dinp, dih, dhh, dbi, dbh, k.work, r, k.inp, k.mask, k.seq, k.w_ih, k.w_hh, cell, B,
                           T, F, H, ret);
  GcObjective o = {rnn_fwd, &k, k.out, r, nout};
  GC_ASSERT(&o, k.inp, dinp, nin, "recurrent input");
  GC_ASSERT(&o, k.w_ih, dih, nih, "recurrent W_ih");
  GC_ASSERT(&o, k.w_hh, dhh, nhh, "recurrent W_hh");
  GC_ASSERT(&o, k.b_ih, dbi, nb, "recurrent b_ih");
  GC_ASSERT(&o, k.b_hh, dbh, nb, "recurrent b_hh");
  /* the last output step is the last state either way (the last row's last step counts) */
  ck_assert_float_eq(k.out[nout - 1], k.seq[nseq - 1]);
  if (k.mask) check_packed(&k);
  float *bufs[] = {k.out,  k.seq, k.work, k.inp, k.mask, k.w_ih, k.w_hh, k.b_ih,
                   k.b_hh, r,     dinp,   dih,   dhh,    dbi,    dbh};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}
END_TEST

/* A bidirectional layer: the forward direction (weights [0]) and the
 * reverse one ([1]) write the two halves of each output row. */
typedef struct {
  float *out, *seq[2], *work, *inp, *mask, *w_ih[2], *w_hh[2], *b_ih[2], *b_hh[2];
  int cell, B, T, F, H, ret;
} BiCtx;

static void bi_fwd(void *p) {
  BiCtx *k = p;
  for (int d = 0; d < 2; d++)
    mlprt_recurrent_forward(k->out, k->seq[d], k->work, k->inp, k->mask, k->w_ih[d], k->w_hh[d], k->b_ih[d],
                            k->b_hh[d], k->cell, k->B, k->T, k->F, k->H,
                            k->ret | MLPRT_RNN_PAIR | (d ? MLPRT_RNN_REVERSE : 0));
}

START_TEST(bidirectional_gradcheck) {
  const int *sh = rnn_shapes[_i % N_RNN_SHAPES];
  int cell = sh[0], B = sh[1], T = sh[2], F = sh[3], H = sh[4], ret = sh[5];
  int G = mlprt_recurrent_gates(cell);
  int64_t nseq, nwork;
  mlprt_recurrent_sizes(cell, B, T, H, &nseq, &nwork);
  size_t nin = (size_t)B * T * F, nout = (size_t)B * (ret ? T : 1) * 2 * H;
  size_t nih = (size_t)G * H * F, nhh = (size_t)G * H * H, nb = (size_t)G * H;
  BiCtx k = {.out = fbuf(nout),
             .work = fbuf((size_t)nwork),
             .inp = fbuf(nin),
             .cell = cell,
             .B = B,
             .T = T,
             .F = F,
             .H = H,
             .ret = ret,
             .mask = _i < N_RNN_SHAPES ? NULL : pad_mask(B, T)};
  float *r = fbuf(nout), *dinp = fbuf(nin), *g[2][4];
  gc_fill(k.inp, nin, -1.5f, 1.5f, 90);
  gc_fill(r, nout, -1, 1, 91);
  for (int d = 0; d < 2; d++) {
    k.seq[d] = fbuf((size_t)nseq);
    float **w[4] = {&k.w_ih[d], &k.w_hh[d], &k.b_ih[d], &k.b_hh[d]};
    size_t n[4] = {nih, nhh, nb, nb};
    for (int j = 0; j < 4; j++) {
      *w[j] = fbuf(n[j]);
      g[d][j] = fbuf(n[j]);
      gc_fill(*w[j], n[j], -0.8f, 0.8f, (uint64_t)(92 + 4 * d + j));
    }
  }
  bi_fwd(&k);
  for (int d = 0; d < 2; d++)
    mlprt_recurrent_backward(dinp, g[d][0], g[d][1], g[d][2], g[d][3], k.work, r, k.inp, k.mask, k.seq[d],
                             k.w_ih[d], k.w_hh[d], cell, B, T, F, H,
                             ret | MLPRT_RNN_PAIR | (d ? MLPRT_RNN_REVERSE : 0));
  GcObjective o = {bi_fwd, &k, k.out, r, nout};
  GC_ASSERT(&o, k.inp, dinp, nin, "bidirectional input");
  for (int d = 0; d < 2; d++) {
    GC_ASSERT(&o, k.w_ih[d], g[d][0], nih, d ? "reverse W_ih" : "forward W_ih");
    GC_ASSERT(&o, k.w_hh[d], g[d][1], nhh, d ? "reverse W_hh" : "forward W_hh");
    GC_ASSERT(&o, k.b_ih[d], g[d][2], nb, d ? "reverse b_ih" : "forward b_ih");
    GC_ASSERT(&o, k.b_hh[d], g[d][3], nb, d ? "reverse b_hh" : "forward b_hh");
  }
  /* the reverse direction is the forward cell over the steps (and mask) in reverse order */
  float *rin = fbuf(nin), *rout = fbuf((size_t)B * (ret ? T : 1) * H), *rmask = fbuf((size_t)B * T);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      memcpy(rin + ((size_t)b * T + t) * F, k.inp + ((size_t)b * T + T - 1 - t) * F,
             (size_t)F * sizeof(float));
      rmask[(size_t)b * T + t] = k.mask ? k.mask[(size_t)b * T + T - 1 - t] : 1.0f;
    }
  mlprt_recurrent_forward(rout, k.seq[0], k.work, rin, rmask, k.w_ih[1], k.w_hh[1], k.b_ih[1], k.b_hh[1],
                          cell, B, T, F, H, ret);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < (ret ? T : 1); t++)
      for (int j = 0; j < H; j++)
        ck_assert_float_eq_tol(k.out[((size_t)b * (ret ? T : 1) + t) * 2 * H + H + j],
                               rout[((size_t)b * (ret ? T : 1) + (ret ? T - 1 - t : 0)) * H + j], 1e-6f);
  free(rin);
  free(rout);
  free(rmask);
  for (int d = 0; d < 2; d++) {
    float *bufs[] = {k.seq[d], k.w_ih[d], k.w_hh[d], k.b_ih[d], k.b_hh[d],
                     g[d][0],  g[d][1],   g[d][2],   g[d][3]};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  }
  float *bufs[] = {k.out, k.work, k.inp, k.mask, r, dinp};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}
END_TEST

/* An LSTM step by hand: one unit, one feature, one step, W = 1, biases 0:
 * c = sigmoid(x) tanh(x), h = sigmoid(x) tanh(c). */
START_TEST(lstm_values) {
  float x = 0.7f, w_ih[4] = {1, 1, 1, 1}, w_hh[4] = {1, 1, 1, 1}, out, seq[6], work[12];
  mlprt_recurrent_forward(&out, seq, work, &x, NULL, w_ih, w_hh, NULL, NULL, MLPRT_CELL_LSTM, 1, 1, 1, 1, 0);
  float s = 1.0f / (1.0f + expf(-x)), c = s * tanhf(x);
  ck_assert_float_eq_tol(seq[4], c, 1e-6f);
  ck_assert_float_eq_tol(out, s * tanhf(c), 1e-6f);
}
END_TEST

/* ---- transformer encoder ------------------------------------------------- */

/* B T F D heads FF layers norm_first act pos pool causal, dropout in per mille: length-1 sequences,
 * batch 1, an input projection (F != D), both norms, both activations, every
 * position kind and pooling, two blocks, causal attention, and dropout (its masks are a function
 * of the step, so every forward of a check draws the same) */
static const int enc_shapes[][13] = {
    {2, 1, 4, 4, 2, 6, 1, 0, MLPRT_ENC_RELU, MLPRT_POS_NONE, MLPRT_POOL_MEAN, 0, 0},
    {1, 3, 4, 4, 1, 5, 1, 1, MLPRT_ENC_GELU, MLPRT_POS_LEARNED, MLPRT_POOL_FIRST, 0, 0},
    {2, 4, 3, 4, 2, 3, 2, 0, MLPRT_ENC_GELU, MLPRT_POS_SINUSOIDAL, MLPRT_POOL_LAST, 0, 0},
    {3, 3, 5, 6, 3, 4, 2, 1, MLPRT_ENC_GELU, MLPRT_POS_LEARNED, MLPRT_POOL_MAX, 0, 0},
    {2, 5, 2, 4, 2, 4, 1, 0, MLPRT_ENC_GELU, MLPRT_POS_LEARNED, MLPRT_POOL_NONE, 1, 0},
    {1, 1, 3, 2, 1, 3, 2, 1, MLPRT_ENC_GELU, MLPRT_POS_SINUSOIDAL, MLPRT_POOL_NONE, 1, 0},
    {2, 3, 4, 4, 2, 5, 2, 0, MLPRT_ENC_GELU, MLPRT_POS_LEARNED, MLPRT_POOL_MEAN, 0, 300},
    {2, 4, 4, 4, 2, 5, 1, 1, MLPRT_ENC_GELU, MLPRT_POS_NONE, MLPRT_POOL_MEAN, 1, 250},
    {4, 4, 3, 4, 2, 4, 2, 0, MLPRT_ENC_RELU, MLPRT_POS_LEARNED, MLPRT_POOL_MEAN, 0, 0},
    {3, 5, 4, 4, 2, 3, 1, 1, MLPRT_ENC_GELU, MLPRT_POS_SINUSOIDAL, MLPRT_POOL_MAX, 0, 0},
};
#define N_ENC_SHAPES (int)(sizeof enc_shapes / sizeof enc_shapes[0])

typedef struct {
  float *out, *rec, *inp, *mask, *params;
  int32_t cfg[MLPRT_ENC_NCFG];
  int B;
  float p;
} EncCtx;

static void enc_fwd(void *p) {
  EncCtx *k = p;
  mlprt_encoder_forward(k->out, k->rec, k->inp, k->mask, k->params, k->cfg, k->B, k->p, 7, 3, 11);
}

/* Shapes 0 .. N_ENC_SHAPES - 1 without a mask, then the same shapes with pad_mask. */
START_TEST(encoder_gradcheck) {
  const int *sh = enc_shapes[_i % N_ENC_SHAPES];
  EncCtx k = {.B = sh[0], .p = (float)sh[12] / 1000};
  for (int j = 0; j < MLPRT_ENC_NCFG; j++) k.cfg[j] = sh[1 + j];
  int B = sh[0], T = sh[1], F = sh[2], D = sh[3];
  int64_t np = mlprt_encoder_params(k.cfg), nrec, nwork;
  mlprt_encoder_sizes(k.cfg, B, &nrec, &nwork);
  size_t nin = (size_t)B * T * F, nout = (size_t)B * (k.cfg[MLPRT_ENC_POOL] == MLPRT_POOL_NONE ? T : 1) * D;
  k.out = fbuf(nout), k.rec = fbuf((size_t)nrec), k.inp = fbuf(nin), k.params = fbuf((size_t)np);
  k.mask = _i < N_ENC_SHAPES ? NULL : pad_mask(B, T);
  float *r = fbuf(nout), *work = fbuf((size_t)nwork), *dinp = fbuf(nin), *dp = fbuf((size_t)np);
  gc_fill(k.inp, nin, -1.5f, 1.5f, 90);
  gc_fill(k.params, (size_t)np, -0.6f, 0.6f, 91);
  gc_fill(r, nout, -1, 1, 92);
  enc_fwd(&k);
  mlprt_encoder_backward(dinp, dp, work, r, k.inp, k.mask, k.rec, k.params, k.cfg, B, k.p);
  GcObjective o = {enc_fwd, &k, k.out, r, nout};
  GC_ASSERT(&o, k.inp, dinp, nin, "encoder input");
  GC_ASSERT(&o, k.params, dp, (size_t)np, "encoder parameters");
  bool pooled = k.cfg[MLPRT_ENC_POOL] != MLPRT_POOL_NONE;
  for (int b = 0; k.mask && pooled && b < B; b++) {
    /* padding is neither attended to nor pooled: its input gets no gradient, and a row of padding
     * only pools to zeros */
    int pad = padded(k.mask, b, T);
    for (size_t i = (size_t)b * T * F; i < ((size_t)b * T + pad) * F; i++) ck_assert_float_eq(dinp[i], 0.0f);
    for (int j = 0; pad == T && j < D; j++) ck_assert_float_eq(k.out[(size_t)b * D + j], 0.0f);
  }
  float *bufs[] = {k.out, k.rec, k.inp, k.mask, k.params, r, work, dinp, dp};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}
END_TEST

/* One head over one step attends to itself alone: with identity projections,
 * zero biases and the feed-forward's output weights zero, a post-norm block
 * is layer norm (x + x). */
START_TEST(encoder_values) {
  int32_t cfg[MLPRT_ENC_NCFG] = {1, 2, 2, 1, 1, 1, 0, MLPRT_ENC_RELU, MLPRT_POS_NONE, MLPRT_POOL_LAST, 0};
  int64_t np = mlprt_encoder_params(cfg), nrec, nwork;
  mlprt_encoder_sizes(cfg, 1, &nrec, &nwork);
  ck_assert_int_eq(np, 3 * 4 + 6 + 4 + 2 + 2 + 1 + 2 + 2 + 8);
  float *params = fbuf((size_t)np), *rec = fbuf((size_t)nrec), x[2] = {0.25f, 2.0f}, out[2];
  /* in_proj: three identities; out_proj: identity; norms: weight 1 */
  float *w = params;
  for (int m = 0; m < 4; m++) w[(m < 3 ? m * 4 : 18) + 0] = w[(m < 3 ? m * 4 : 18) + 3] = 1;
  for (int j = 0; j < 2; j++) params[np - 8 + j] = params[np - 4 + j] = 1;
  mlprt_encoder_forward(out, rec, x, NULL, params, cfg, 1, 0, 0, 0, 0);
  /* layer norm of (0.5, 4): (-1, 1) up to eps; twice */
  ck_assert_float_eq_tol(out[0], -1.0f, 1e-4f);
  ck_assert_float_eq_tol(out[1], 1.0f, 1e-4f);
  free(params);
  free(rec);
}
END_TEST

/* ---- pooling over steps --------------------------------------------------- */

/* B T D: length-1 sequences, batch 1, and the mask's rows of padding only (B >= 3) */
static const int steps_shapes[][3] = {{2, 1, 3}, {1, 4, 2}, {3, 5, 4}, {4, 3, 3}};
#define N_STEPS_SHAPES (int)(sizeof steps_shapes / sizeof steps_shapes[0])

typedef struct {
  float *out, *inp, *mask;
  int B, T, D, pool;
} StepsCtx;

static void steps_fwd(void *p) {
  StepsCtx *k = p;
  mlprt_steps_pool_forward(k->out, k->inp, k->mask, k->B, k->T, k->D, k->pool);
}

/* Each shape and pooling without a mask, then with pad_mask: the gradient, and the values against the
 * pooling of each row's real steps by hand. */
START_TEST(steps_pool_gradcheck) {
  int shape = _i % N_STEPS_SHAPES, pool = _i / N_STEPS_SHAPES % 4, masked = _i / (4 * N_STEPS_SHAPES);
  int B = steps_shapes[shape][0], T = steps_shapes[shape][1], D = steps_shapes[shape][2];
  size_t nin = (size_t)B * T * D, nout = (size_t)B * D;
  StepsCtx k = {fbuf(nout), fbuf(nin), masked ? pad_mask(B, T) : NULL, B, T, D, pool};
  float *r = fbuf(nout), *dinp = fbuf(nin);
  /* each feature's steps at least 0.25 apart, so no maximum is within a step of a tie */
  gc_fill(k.inp, nin, 0, 0.05f, 110);
  for (size_t i = 0; i < nin; i++) k.inp[i] += 0.3f * (float)((i / D % T + i % D) % T) - 0.6f;
  gc_fill(r, nout, -1, 1, 111);
  steps_fwd(&k);
  mlprt_steps_pool_backward(dinp, r, k.inp, k.mask, B, T, D, pool);
  GcObjective o = {steps_fwd, &k, k.out, r, nout};
  GC_ASSERT(&o, k.inp, dinp, nin, "steps pooling input");
  for (int b = 0; b < B; b++) {
    int pad = k.mask ? padded(k.mask, b, T) : 0;
    for (int j = 0; j < D; j++) {
      double want = 0;
      for (int t = pad; t < T; t++) {
        float v = k.inp[((size_t)b * T + t) * D + j];
        if (pool == MLPRT_POOL_MEAN) want += (double)v / (T - pad);
        else if (pool == MLPRT_POOL_MAX) want = t == pad || v > want ? v : want;
        else if ((pool == MLPRT_POOL_FIRST && t == pad) || (pool == MLPRT_POOL_LAST && t == T - 1)) want = v;
      }
      ck_assert_double_eq_tol(k.out[(size_t)b * D + j], want, 1e-6);
    }
  }
  float *bufs[] = {k.out, k.inp, k.mask, r, dinp};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}
END_TEST

/* ---- conv2d -------------------------------------------------------------- */

/* N C H W OC KH KW stride pad */
static const int conv_shapes[][9] = {
    {1, 1, 5, 5, 1, 3, 3, 1, 0}, /* batch 1, single channel */
    {2, 3, 7, 6, 4, 3, 3, 1, 1}, /* "same" padding, odd sizes */
    {2, 2, 7, 7, 3, 3, 3, 2, 1}, /* stride 2 with padding */
    {1, 3, 6, 5, 2, 2, 3, 2, 0}, /* non-square kernel, stride 2 */
    {2, 4, 3, 4, 5, 1, 1, 1, 0}, /* pointwise: no im2col */
    {1, 2, 4, 4, 2, 1, 1, 2, 0}, /* strided 1x1: im2col subsamples */
    {2, 1, 4, 5, 2, 3, 3, 2, 2}, /* padding wider than the kernel's reach */
    {1, 2, 3, 13, 2, 3, 3, 1, 1}, /* rows of several vector blocks */
    {1, 1, 2, 3, 1, 3, 3, 1, 5}, /* stride 1, more zeros per row than a block */
};
#define N_CONV_SHAPES (int)(sizeof conv_shapes / sizeof conv_shapes[0])

typedef struct {
  float *out, *col, *inp, *w, *b;
  int N, C, H, W, OC, KH, KW, stride, pad;
} ConvCtx;

static void conv_fwd(void *p) {
  ConvCtx *k = p;
  mlprt_conv2d_forward(k->out, k->col, k->inp, k->w, k->b, k->N, k->C, k->H, k->W, k->OC, k->KH, k->KW,
                       k->stride, k->pad);
}

static ConvCtx conv_setup(int i) {
  const int *s = conv_shapes[i];
  ConvCtx k = {.N = s[0], .C = s[1], .H = s[2], .W = s[3], .OC = s[4], .KH = s[5], .KW = s[6],
               .stride = s[7], .pad = s[8]};
  int OH = mlprt_conv_out_size(k.H, k.KH, k.stride, k.pad);
  int OW = mlprt_conv_out_size(k.W, k.KW, k.stride, k.pad);
  k.out = fbuf((size_t)k.N * k.OC * OH * OW);
  k.col = fbuf(mlprt_conv2d_col_size(k.C, k.H, k.W, k.KH, k.KW, k.stride, k.pad));
  k.inp = fbuf((size_t)k.N * k.C * k.H * k.W);
  k.w = fbuf((size_t)k.OC * k.C * k.KH * k.KW);
  k.b = fbuf(k.OC);
  gc_fill(k.inp, (size_t)k.N * k.C * k.H * k.W, -1, 1, 80);
  gc_fill(k.w, (size_t)k.OC * k.C * k.KH * k.KW, -1, 1, 81);
  gc_fill(k.b, k.OC, -1, 1, 82);
  return k;
}

static void conv_free(ConvCtx *k) {
  float *bufs[] = {k->out, k->col, k->inp, k->w, k->b};
  for (size_t i = 0; i < 5; i++) free(bufs[i]);
}

START_TEST(conv2d_matches_direct) {
  ConvCtx k = conv_setup(_i);
  size_t no = (size_t)k.N * k.OC * mlprt_conv_out_size(k.H, k.KH, k.stride, k.pad) *
              mlprt_conv_out_size(k.W, k.KW, k.stride, k.pad);
  float *ref = fbuf(no);
  conv_fwd(&k);
  mlprt_conv2d_forward_ref(ref, k.inp, k.w, k.b, k.N, k.C, k.H, k.W, k.OC, k.KH, k.KW, k.stride, k.pad);
  ck_assert_double_lt(max_diff(k.out, ref, no), 1e-5);
  mlprt_conv2d_forward(k.out, k.col, k.inp, k.w, NULL, k.N, k.C, k.H, k.W, k.OC, k.KH, k.KW, k.stride, k.pad);
  mlprt_conv2d_forward_ref(ref, k.inp, k.w, NULL, k.N, k.C, k.H, k.W, k.OC, k.KH, k.KW, k.stride, k.pad);
  ck_assert_double_lt(max_diff(k.out, ref, no), 1e-5);
  free(ref);
  conv_free(&k);
}
END_TEST

START_TEST(conv2d_gradcheck) {
  ConvCtx k = conv_setup(_i);
  int OH = mlprt_conv_out_size(k.H, k.KH, k.stride, k.pad);
  int OW = mlprt_conv_out_size(k.W, k.KW, k.stride, k.pad);
  size_t no = (size_t)k.N * k.OC * OH * OW, ni = (size_t)k.N * k.C * k.H * k.W;
  size_t nw = (size_t)k.OC * k.C * k.KH * k.KW;
  float *r = fbuf(no), *dinp = fbuf(ni), *dw = fbuf(nw), *db = fbuf(k.OC);
  gc_fill(r, no, -1, 1, 83);
  conv_fwd(&k);
  mlprt_conv2d_backward(dinp, dw, db, k.col, r, k.inp, k.w, k.N, k.C, k.H, k.W, k.OC, k.KH, k.KW, k.stride,
                        k.pad);
  GcObjective o = {conv_fwd, &k, k.out, r, no};
  GC_ASSERT(&o, k.inp, dinp, ni, "conv input");
  GC_ASSERT(&o, k.w, dw, nw, "conv weight");
  GC_ASSERT(&o, k.b, db, k.OC, "conv bias");
  float *bufs[] = {r, dinp, dw, db};
  for (size_t i = 0; i < 4; i++) free(bufs[i]);
  conv_free(&k);
}
END_TEST

START_TEST(conv_sizes) {
  ck_assert_int_eq(mlprt_conv_out_size(28, 3, 1, 1), 28);
  ck_assert_int_eq(mlprt_conv_out_size(7, 3, 2, 1), 4);
  ck_assert_int_eq(mlprt_conv_out_size(6, 3, 2, 0), 2);
  ck_assert_uint_eq(mlprt_conv2d_col_size(3, 8, 8, 1, 1, 1, 0), 0);
  ck_assert_uint_eq(mlprt_conv2d_col_size(3, 8, 8, 3, 3, 1, 1), 3 * 9 * 64);
}
END_TEST

/* ---- pooling ------------------------------------------------------------- */

/* N C H W K stride */
static const int pool_shapes[][6] = {
    {1, 1, 4, 4, 2, 2}, /* window = stride */
    {2, 3, 7, 7, 3, 2}, /* overlapping windows */
    {1, 2, 8, 7, 2, 3}, /* gaps between windows */
    {1, 1, 5, 3, 5, 1}, /* KH = H: one row of output */
};

typedef struct {
  float *out, *inp;
  int32_t *am;
  int max, N, C, H, W, K, stride;
} PoolCtx;

static void pool_fwd(void *p) {
  PoolCtx *k = p;
  if (k->max)
    mlprt_maxpool2d_forward(k->out, k->am, k->inp, k->N, k->C, k->H, k->W, k->K, k->K < k->W ? k->K : k->W,
                            k->stride);
  else
    mlprt_avgpool2d_forward(k->out, k->inp, k->N, k->C, k->H, k->W, k->K, k->K < k->W ? k->K : k->W,
                            k->stride);
}

START_TEST(pool_gradcheck) {
  for (int max = 0; max < 2; max++) {
    const int *s = pool_shapes[_i];
    PoolCtx k = {.max = max, .N = s[0], .C = s[1], .H = s[2], .W = s[3], .K = s[4], .stride = s[5]};
    int KW = k.K < k.W ? k.K : k.W;
    int OH = mlprt_conv_out_size(k.H, k.K, k.stride, 0), OW = mlprt_conv_out_size(k.W, KW, k.stride, 0);
    size_t ni = (size_t)k.N * k.C * k.H * k.W, no = (size_t)k.N * k.C * OH * OW;
    k.out = fbuf(no);
    k.inp = fbuf(ni);
    k.am = calloc(no, sizeof(int32_t));
    float *r = fbuf(no), *dinp = fbuf(ni);
    /* distinct values 0.1 apart in a shuffled order: no ties within a
     * window survive a step of h = 0.01 */
    for (size_t i = 0; i < ni; i++) k.inp[i] = 0.1f * (float)((i * 37 + 11) % ni) - 0.05f * (float)ni;
    gc_fill(r, no, -1, 1, 90);
    pool_fwd(&k);
    if (max)
      mlprt_maxpool2d_backward(dinp, r, k.am, k.N, k.C, k.H, k.W, k.K, KW, k.stride);
    else
      mlprt_avgpool2d_backward(dinp, r, k.N, k.C, k.H, k.W, k.K, KW, k.stride);
    GcObjective o = {pool_fwd, &k, k.out, r, no};
    GC_ASSERT(&o, k.inp, dinp, ni, max ? "maxpool input" : "avgpool input");
    free(k.am);
    float *bufs[] = {k.out, k.inp, r, dinp};
    for (size_t i = 0; i < 4; i++) free(bufs[i]);
  }
}
END_TEST

START_TEST(maxpool_2x2_ties) {
  /* The unrolled 2x2 stride-2 window on odd planes (the last row and column
   * dropped) with many ties: the first maximum in row-major order wins, as
   * in the general loop. */
  enum { N = 2, C = 3, H = 7, W = 5, OH = 3, OW = 2 };
  float x[N * C * H * W], y[N * C * OH * OW];
  int32_t am[N * C * OH * OW];
  for (int i = 0; i < N * C * H * W; i++) x[i] = (float)((i * 7 + 3) % 3);
  mlprt_maxpool2d_forward(y, am, x, N, C, H, W, 2, 2, 2);
  for (int p = 0; p < N * C; p++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const float *xp = x + p * H * W;
        int best = 2 * oh * W + 2 * ow;
        for (int kh = 0; kh < 2; kh++)
          for (int kw = 0; kw < 2; kw++)
            if (xp[(2 * oh + kh) * W + 2 * ow + kw] > xp[best]) best = (2 * oh + kh) * W + 2 * ow + kw;
        int o = (p * OH + oh) * OW + ow;
        ck_assert_int_eq(am[o], best);
        ck_assert_float_eq(y[o], xp[best]);
      }
}
END_TEST

START_TEST(pool_values) {
  /* 1x1x4x4 plane 0..15, 2x2 windows, stride 2 */
  float x[16], y[4], dx[16] = {0}, dy[4] = {1, 2, 3, 4};
  int32_t am[4];
  for (int i = 0; i < 16; i++) x[i] = (float)i;
  mlprt_maxpool2d_forward(y, am, x, 1, 1, 4, 4, 2, 2, 2);
  ck_assert_float_eq(y[0], 5.0f);
  ck_assert_float_eq(y[3], 15.0f);
  ck_assert_int_eq(am[1], 7);
  mlprt_maxpool2d_backward(dx, dy, am, 1, 1, 4, 4, 2, 2, 2);
  ck_assert_float_eq(dx[5], 1.0f);
  ck_assert_float_eq(dx[15], 4.0f);
  ck_assert_float_eq(dx[0], 0.0f);
  mlprt_avgpool2d_forward(y, x, 1, 1, 4, 4, 2, 2, 2);
  ck_assert_float_eq(y[0], 2.5f);
  ck_assert_float_eq(y[3], 12.5f);
}
END_TEST

/* ---- embedding ----------------------------------------------------------- */

typedef struct {
  float *out, *table;
  const float *ids;
  int B, V, D;
} EmbCtx;

static void emb_fwd(void *p) {
  EmbCtx *k = p;
  mlprt_embedding_forward(k->out, k->ids, k->table, k->B, k->V, k->D);
}

START_TEST(embedding_lookup_and_scatter) {
  static const float ids[5] = {2, 0, 2, 3, 2}; /* repeats must add up */
  int B = 5, V = 4, D = 3;
  EmbCtx k = {fbuf((size_t)B * D), fbuf((size_t)V * D), ids, B, V, D};
  float *r = fbuf((size_t)B * D), *dt = fbuf((size_t)V * D);
  gc_fill(k.table, (size_t)V * D, -1, 1, 100);
  gc_fill(r, (size_t)B * D, -1, 1, 101);
  emb_fwd(&k);
  for (int d = 0; d < D; d++) ck_assert_float_eq(k.out[3 * D + d], k.table[3 * D + d]);
  mlprt_embedding_backward(dt, r, ids, B, V, D);
  for (int d = 0; d < D; d++) {
    ck_assert_float_eq_tol(dt[2 * D + d], r[0 * D + d] + r[2 * D + d] + r[4 * D + d], 1e-6f);
    ck_assert_float_eq(dt[1 * D + d], 0.0f); /* row 1 never looked up */
  }
  GcObjective o = {emb_fwd, &k, k.out, r, (size_t)B * D};
  GC_ASSERT(&o, k.table, dt, (size_t)V * D, "embedding table");
  float *bufs[] = {k.out, k.table, r, dt};
  for (size_t i = 0; i < 4; i++) free(bufs[i]);
}
END_TEST

/* ---- argument checks (forked tests only) --------------------------------- */

START_TEST(dense_rejects_zero_batch) {
  float x = 1, w = 1, y;
  mlprt_dense_forward(&y, &x, &w, NULL, 0, 1, 1);
}
END_TEST

START_TEST(embedding_rejects_bad_id) {
  float t[4] = {0}, y[2], id = 2;
  mlprt_embedding_forward(y, &id, t, 1, 2, 2);
}
END_TEST

START_TEST(embedding_rejects_fractional_id) {
  float t[4] = {0}, y[2], id = 0.5f;
  mlprt_embedding_forward(y, &id, t, 1, 2, 2);
}
END_TEST

START_TEST(dropout_rejects_p_one) {
  float x = 1, y, m;
  mlprt_dropout_forward(&y, &m, &x, 1, 1.0f, 0, 0, 0);
}
END_TEST

Suite *layers_suite(void); /* the runner finds it by name */
Suite *layers_suite(void) {
  Suite *s = suite_create("layers");
  TCase *tc = tcase_create("kernels");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, gradcheck_detects_wrong_gradient);
  tcase_add_loop_test(tc, dense_gradcheck, 0, N_DENSE_SHAPES);
  tcase_add_test(tc, dense_blas_matches_ref);
  tcase_add_test(tc, dense_backward_accumulates_and_skips_null);
  tcase_add_loop_test(tc, sparse_dense_gradcheck, 0, N_DENSE_SHAPES);
  tcase_add_test(tc, sparse_dense_matches_dense);
  tcase_add_test(tc, bias_gradcheck);
  tcase_add_loop_test(tc, activation_gradcheck, 0, ACT_COUNT);
  tcase_add_test(tc, activation_values);
  tcase_add_test(tc, fastmath_accuracy);
  tcase_add_test(tc, softmax_gradcheck_and_stability);
  tcase_add_test(tc, dropout_masks);
  tcase_add_test(tc, dropout_gradcheck);
  tcase_add_test(tc, batchnorm_gradcheck);
  tcase_add_test(tc, batchnorm_running_stats_and_inference);
  tcase_add_test(tc, layernorm_gradcheck);
  tcase_add_loop_test(tc, recurrent_gradcheck, 0, 2 * N_RNN_SHAPES);
  tcase_add_loop_test(tc, bidirectional_gradcheck, 0, 2 * N_RNN_SHAPES);
  tcase_add_test(tc, lstm_values);
  tcase_add_loop_test(tc, encoder_gradcheck, 0, 2 * N_ENC_SHAPES);
  tcase_add_test(tc, encoder_values);
  tcase_add_loop_test(tc, steps_pool_gradcheck, 0, 8 * N_STEPS_SHAPES);
  tcase_add_loop_test(tc, conv2d_matches_direct, 0, N_CONV_SHAPES);
  tcase_add_loop_test(tc, conv2d_gradcheck, 0, N_CONV_SHAPES);
  tcase_add_test(tc, conv_sizes);
  tcase_add_loop_test(tc, pool_gradcheck, 0, (int)(sizeof pool_shapes / sizeof pool_shapes[0]));
  tcase_add_test(tc, pool_values);
  tcase_add_test(tc, maxpool_2x2_ties);
  tcase_add_test(tc, embedding_lookup_and_scatter);
#ifndef NDEBUG
  /* An abort can only be observed from a forked test. */
  const char *fork_env = getenv("CK_FORK");
  if (!fork_env || strcmp(fork_env, "no") != 0) {
    tcase_add_test_raise_signal(tc, dense_rejects_zero_batch, SIGABRT);
    tcase_add_test_raise_signal(tc, embedding_rejects_bad_id, SIGABRT);
    tcase_add_test_raise_signal(tc, embedding_rejects_fractional_id, SIGABRT);
    tcase_add_test_raise_signal(tc, dropout_rejects_p_one, SIGABRT);
  }
#endif
  suite_add_tcase(s, tc);
  return s;
}
