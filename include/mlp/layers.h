/* layers.h — forward and backward kernels of every layer a training program
 * runs. Consumes float32 row-major buffers (usually slices of the arena) and
 * dimensions; produces outputs, the caches backward needs, and gradients.
 *
 * Conventions, shared by every kernel here:
 * - Argument order: forward takes outputs, then caches, then inputs, then
 *   weights, then dimensions; backward takes input gradients, then weight
 *   gradients, then dout, then the saved inputs/caches/weights, then
 *   dimensions. Shapes are given in comments as (dims...), row-major.
 * - Backward ACCUMULATES (`+=`) into every gradient buffer, so a tensor used
 *   twice gets both contributions; zeroing grads is a separate step. A NULL
 *   gradient pointer means "not needed" (the first layer's dinp, say) and
 *   that part of the work is skipped.
 * - Elementwise forwards may run in place (out == inp) unless noted;
 *   backward buffers never alias their inputs.
 * - With checks on (no NDEBUG) every kernel verifies its pointers and
 *   dimensions with MLPRT_CHECK; no kernel touches memory outside the
 *   extents its dimensions describe.
 * - Flatten has no kernel: a row-major (N, C, H, W) tensor already is the
 *   (N, C*H*W) matrix a dense layer reads; see mlprt_tensor_flatten. */
#ifndef MLP_LAYERS_H
#define MLP_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* The cells of the recurrent kernels (values part of the generated-code
 * contract). */
typedef enum { MLPRT_CELL_RNN, MLPRT_CELL_LSTM, MLPRT_CELL_GRU } MlprtCell;
/* The recurrent kernels' flags (bits; part of the contract too): every step
 * output, not only the last; the sequence read from its last step to its
 * first; out and dout rows twice H wide, this direction's half the first
 * (forward) or the second (reverse): the two directions of a bidirectional
 * layer write one output. */
enum { MLPRT_RNN_SEQUENCES = 1, MLPRT_RNN_REVERSE = 2, MLPRT_RNN_PAIR = 4 };

/* Support vector machine kernels (values part of the generated-code
 * contract and of the stored model: mlprt_svm_forward), the floats before
 * a stored machine's per-class counts, and, for K classes (K = 1: a
 * regression), its intercepts and each support vector's coefficients. */
typedef enum { MLPRT_SVM_LINEAR, MLPRT_SVM_RBF, MLPRT_SVM_POLY } MlprtSvmKernel;
#define MLPRT_SVM_KERNEL_NAMES {"linear", "rbf", "poly"}
enum { MLPRT_SVM_HEADER = 5 };
#define MLPRT_SVM_PAIRS(K) ((K) > 1 ? (K) * ((K) - 1) / 2 : 1)
#define MLPRT_SVM_COEFS(K) ((K) > 1 ? (K) - 1 : 1)

/* Kernel `kernel` of rows x and y of n values, in double precision: x·y;
 * exp(-gamma |x - y|^2); (gamma x·y + coef0)^degree. */
double mlprt_svm_kernel(const float *x, const float *y, int64_t n, int kernel, double gamma, double coef0,
                        int degree);

/* The configuration of a transformer encoder layer (mlprt_encoder_forward):
 * an int32 array indexed by these (values part of the generated-code
 * contract). T steps of F features in; width D (a multiple of HEADS); FF
 * feed-forward units; LAYERS blocks; NORM_FIRST 0 (post-norm, PyTorch's
 * default) or 1; ACT a MlprtEncAct; POS a MlprtEncPos; POOL a MlprtEncPool;
 * CAUSAL 1 lets each step attend to itself and the steps before it only. */
enum {
  MLPRT_ENC_T,
  MLPRT_ENC_F,
  MLPRT_ENC_D,
  MLPRT_ENC_HEADS,
  MLPRT_ENC_FF,
  MLPRT_ENC_LAYERS,
  MLPRT_ENC_NORM_FIRST,
  MLPRT_ENC_ACT,
  MLPRT_ENC_POS,
  MLPRT_ENC_POOL,
  MLPRT_ENC_CAUSAL,
  MLPRT_ENC_NCFG
};
typedef enum { MLPRT_ENC_RELU, MLPRT_ENC_GELU } MlprtEncAct;
/* Positions added to the (projected) input: none, learned (T, D), or the
 * sinusoids of "Attention is all you need". */
typedef enum { MLPRT_POS_NONE, MLPRT_POS_LEARNED, MLPRT_POS_SINUSOIDAL } MlprtEncPos;
/* The output: the mean, first, last or largest of the steps (B, D), or every step (B, T, D);
 * under a mask, of the counted steps. */
typedef enum {
  MLPRT_POOL_MEAN,
  MLPRT_POOL_FIRST,
  MLPRT_POOL_LAST,
  MLPRT_POOL_MAX,
  MLPRT_POOL_NONE
} MlprtEncPool;

/* ---- the kernels generated code calls ----------------------------------- */

/* Dense, dropout, batch norm, convolution and pooling, forward and backward,
 * with their documentation: mlp/abi.def. */
#define MLPRT_ABI_LAYERS(ret, name, params) ret name params;
#include "mlp/abi.def"

/* ---- tree ensembles ---------------------------------------------------- */

/* The bytes of the walk layout of `trees` trees of `depth` levels with
 * `values` floats a leaf, and that layout made of the stored trees
 * (mlprt_forest_forward's layout) into walk: every tree's nodes in 2^depth
 * slots of (uint32 feature, float threshold), then every tree's 2^depth
 * leaves. The predictor compiles it in; mlprt_trees_forward walks it. */
int64_t mlprt_trees_walk_bytes(int trees, int depth, int values);
void mlprt_trees_pack(void *walk, const float *stored, int trees, int depth, int values);

/* ---- references -------------------------------------------------------- */

/* mlprt_dense_forward and mlprt_dense_backward as plain triple loops (double
 * accumulation), kept as the reference the BLAS path is tested against. */
void mlprt_dense_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                             int B, int C, int OC);
void mlprt_dense_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, int B, int C, int OC);

/* ---- bias add, broadcast over a channel axis ---------------------------- */

/* out (outer, C, inner) = inp + bias (C) broadcast; in place allowed. Dense
 * layers have inner = 1; conv outputs (N, C, H*W) have outer = N. */
void mlprt_bias_forward(float *out, const float *inp, const float *bias, int outer, int C, int inner);
/* dinp (outer, C, inner) += dout; dbias (C) += dout summed over outer, inner. */
void mlprt_bias_backward(float *dinp, float *dbias, const float *dout, int outer, int C, int inner);

/* ---- activations, elementwise over n floats ---------------------------- */

/* Each backward reads the forward's OUTPUT, which lets the forward run in
 * place: relu, leaky relu and elu are positive exactly where their input is,
 * and the derivatives of elu (x <= 0), sigmoid and tanh are functions of the
 * output. GELU is the one exception and reads its input. */
void mlprt_relu_forward(float *out, const float *inp, size_t n);
void mlprt_relu_backward(float *dinp, const float *dout, const float *out, size_t n);
/* out = x if x > 0 else alpha * x, alpha > 0. */
void mlprt_leaky_relu_forward(float *out, const float *inp, size_t n, float alpha);
void mlprt_leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n, float alpha);
/* out = x if x > 0 else alpha * (exp(x) - 1), alpha > 0; for x <= 0 the
 * derivative alpha * exp(x) equals out + alpha. */
void mlprt_elu_forward(float *out, const float *inp, size_t n, float alpha);
void mlprt_elu_backward(float *dinp, const float *dout, const float *out, size_t n, float alpha);
/* The exact GELU, x * Φ(x) = x/2 * (1 + erf(x/√2)) (PyTorch's default
 * nn.GELU and ONNX Gelu without approximation), not the tanh formula. */
void mlprt_gelu_forward(float *out, const float *inp, size_t n);
void mlprt_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);
void mlprt_sigmoid_forward(float *out, const float *inp, size_t n);
void mlprt_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);
void mlprt_tanh_forward(float *out, const float *inp, size_t n);
void mlprt_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
/* Softmax over the last axis of (B, C), max-subtracted so it never
 * overflows; in place allowed. Backward: dinp += out * (dout - <dout, out>).
 * (Classifier heads use the fused softmax cross-entropy in loss.h instead.) */
void mlprt_softmax_forward(float *out, const float *inp, int B, int C);
void mlprt_softmax_backward(float *dinp, const float *dout, const float *out, int B, int C);

/* ---- 2-D convolution, NCHW --------------------------------------------- */

/* Output extent of a convolution or pooling window: (in + 2*pad - k) / stride
 * + 1, rounded down (PyTorch's rule). */
int mlprt_conv_out_size(int in, int k, int stride, int pad);
/* Floats of im2col scratch one conv call needs: C*KH*KW * OH*OW (one image
 * at a time), or 0 for a 1x1, stride-1, unpadded conv, which needs none. */
size_t mlprt_conv2d_col_size(int C, int H, int W, int KH, int KW, int stride, int pad);

/* Direct seven-loop convolution (double accumulation), the reference for
 * tests of the im2col path. */
void mlprt_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                              int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad);

/* ---- recurrent layers --------------------------------------------------- */

/* Floats of the record (*seq) and scratch (*work) mlprt_recurrent_forward
 * and _backward need for cell over a batch of B sequences of T steps with
 * H units. */
/* Gates of a cell: 1 (rnn), 4 (lstm), 3 (gru). */
int mlprt_recurrent_gates(int cell);
void mlprt_recurrent_sizes(int cell, int64_t B, int64_t T, int64_t H, int64_t *seq, int64_t *work);

/* ---- transformer encoder ---------------------------------------------- */

/* Floats of an encoder's parameters: the input projection W (D, F), b (D)
 * when F != D; the learned positions (T, D); then per block PyTorch's
 * nn.TransformerEncoderLayer tensors in order: in_proj W (3D, D), b (3D),
 * out_proj W (D, D), b (D), linear1 W (FF, D), b (FF), linear2 W (D, FF),
 * b (D), norm1 weight, bias (D), norm2 weight, bias (D). */
int64_t mlprt_encoder_params(const int32_t *cfg);
/* Floats of the record (*rec) and backward's scratch (*work) over a batch of B. */
void mlprt_encoder_sizes(const int32_t *cfg, int64_t B, int64_t *rec, int64_t *work);
/* The sinusoidal position of step t, feature j of D: sin (j = 2i) or cos
 * (j = 2i + 1) of t / 10000^(2i/D). */
float mlprt_encoder_position(int t, int j, int D);

#endif
