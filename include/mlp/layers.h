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

/* ---- dense (fully connected) ------------------------------------------- */

/* out (B, OC) = inp (B, C) · weight (OC, C)ᵀ + bias (OC). The weight layout
 * is PyTorch's and ONNX Gemm's (transB = 1). bias may be NULL. The bias is
 * fused into the GEMM: out is first filled with the bias rows and sgemm adds
 * the product with beta = 1, so the bias costs one pass of stores. */
void mlprt_dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                         int B, int C, int OC);
/* dinp (B, C) += dout · weight; dweight (OC, C) += doutᵀ · inp;
 * dbias (OC) += column sums of dout (B, OC). */
void mlprt_dense_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int B, int C, int OC);
/* The same two kernels as plain triple loops (double accumulation), kept as
 * the reference the BLAS path is tested against. */
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

/* ---- dropout ----------------------------------------------------------- */

/* Inverted dropout in training: element i is kept when
 * mlprt_rng_uniform(seed, mlprt_rng_stream(site, step), i) >= p, and kept
 * elements are scaled by 1 / (1 - p), so inference is the identity (the
 * program simply skips the layer). The mask therefore depends on (seed, site,
 * step, i) only: reproducible, thread-count independent, different every
 * step. site tells apart the program's dropout layers. mask (n) receives
 * 0 or 1 / (1 - p) for backward. 0 <= p < 1; in place allowed. */
void mlprt_dropout_forward(float *out, float *mask, const float *inp, size_t n, float p,
                           uint64_t seed, uint32_t site, uint64_t step);
/* dinp (n) += dout * mask. */
void mlprt_dropout_backward(float *dinp, const float *dout, const float *mask, size_t n);

/* ---- normalization ----------------------------------------------------- */

/* Batch norm over (N, C, S): statistics per channel c over N and S (S = H*W
 * for conv feature maps, 1 after a dense layer). Training mode normalises by
 * the batch's mean and biased variance, saves mean (C) and rstd (C) =
 * 1/sqrt(var + eps) for backward, and updates the running statistics as
 * PyTorch does: running = (1 - momentum) * running + momentum * batch, with
 * the unbiased variance (N*S > 1 required). */
void mlprt_batchnorm_forward_train(float *out, float *mean, float *rstd, float *running_mean,
                                   float *running_var, const float *inp, const float *gamma,
                                   const float *beta, int N, int C, int S, float momentum, float eps);
/* Inference mode: normalises by the running statistics only. */
void mlprt_batchnorm_forward_infer(float *out, const float *inp, const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, int N, int C,
                                   int S, float eps);
/* Backward of training mode (the batch statistics depend on inp). */
void mlprt_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                              const float *inp, const float *gamma, const float *mean,
                              const float *rstd, int N, int C, int S);

/* Layer norm over the last axis of (B, C) with weight (C) and bias (C);
 * saves mean (B) and rstd (B). */
void mlprt_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                             const float *weight, const float *bias, int B, int C, float eps);
void mlprt_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, const float *mean,
                              const float *rstd, int B, int C);

/* ---- 2-D convolution, NCHW --------------------------------------------- */

/* Output extent of a convolution or pooling window: (in + 2*pad - k) / stride
 * + 1, rounded down (PyTorch's rule). */
int mlprt_conv_out_size(int in, int k, int stride, int pad);
/* Floats of im2col scratch one conv call needs: C*KH*KW * OH*OW (one image
 * at a time), or 0 for a 1x1, stride-1, unpadded conv, which needs none. */
size_t mlprt_conv2d_col_size(int C, int H, int W, int KH, int KW, int stride, int pad);

/* out (N, OC, OH, OW) = conv(inp (N, C, H, W), weight (OC, C, KH, KW)) +
 * bias (OC), the same stride and zero padding on both axes. Each image is
 * unfolded into col (C*KH*KW, OH*OW) and multiplied by the weight viewed as
 * (OC, C*KH*KW) in one sgemm, bias fused as in dense. bias may be NULL. */
void mlprt_conv2d_forward(float *out, float *col, const float *inp, const float *weight, const float *bias,
                          int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad);
/* dweight += dout_n · col_nᵀ, dbias += dout summed over N, OH, OW, and
 * dinp += col2im(weightᵀ · dout_n); col is scratch as in forward (the
 * unfolded input is recomputed rather than kept for every image). */
void mlprt_conv2d_backward(float *dinp, float *dweight, float *dbias, float *col, const float *dout,
                           const float *inp, const float *weight, int N, int C, int H, int W, int OC,
                           int KH, int KW, int stride, int pad);
/* Direct seven-loop convolution (double accumulation), the reference for
 * tests of the im2col path. */
void mlprt_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                              int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad);

/* ---- pooling, NCHW, no padding ----------------------------------------- */

/* out (N, C, OH, OW), window KH x KW moved by stride (which may differ from
 * the window: overlapping or gapped windows), OH = (H - KH) / stride + 1.
 * Max pooling saves argmax (N, C, OH, OW): the index in the input plane
 * (h * W + w) of each window's first maximum; backward routes dout there. */
void mlprt_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, int N, int C, int H, int W,
                             int KH, int KW, int stride);
void mlprt_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, int N, int C, int H,
                              int W, int KH, int KW, int stride);
/* Average pooling divides by KH*KW (every window lies inside the input). */
void mlprt_avgpool2d_forward(float *out, const float *inp, int N, int C, int H, int W, int KH, int KW,
                             int stride);
void mlprt_avgpool2d_backward(float *dinp, const float *dout, int N, int C, int H, int W, int KH, int KW,
                              int stride);

/* ---- embedding --------------------------------------------------------- */

/* out (B, D) = rows ids (B) of table (V, D); every id must lie in [0, V). */
void mlprt_embedding_forward(float *out, const int32_t *ids, const float *table, int B, int V, int D);
/* dtable rows ids[b] += dout row b (scatter-add: repeated ids add up). */
void mlprt_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int B, int V, int D);

#endif
