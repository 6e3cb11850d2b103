/* conv.c — 2-D convolution over NCHW tensors by im2col + sgemm, backward by
 * sgemm + col2im, and a direct reference loop for tests. Consumes inputs
 * (N, C, H, W), weights (OC, C, KH, KW), bias (OC) and dout; produces outputs
 * (N, OC, OH, OW) and accumulated gradients. The batch is taken a chunk of
 * NB images at a time: the chunk is unfolded into one column matrix
 * (C*KH*KW, NB*OH*OW), image after image along the columns, so that the
 * forward product, the weight gradient and the column gradient are each one
 * sgemm per chunk; the product's (OC, NB*OH*OW) side is moved to and from
 * the NCHW layout beside the columns in the same scratch. */
#include "mlp/layers.h"

#include "gemm.h"
#include <string.h>

#include "mlp/tensor.h"

int mlprt_conv_out_size(int in, int k, int stride, int pad) {
  MLPRT_CHECK(in > 0 && k > 0 && stride > 0 && pad >= 0, "window in=%d k=%d stride=%d pad=%d", in, k,
              stride, pad);
  MLPRT_CHECK(in + 2 * pad >= k, "window %d larger than padded input %d", k, in + 2 * pad);
  return (in + 2 * pad - k) / stride + 1;
}

/* A 1x1, stride-1, unpadded conv reads its input as the column matrix. */
static int is_pointwise(int KH, int KW, int stride, int pad) {
  return KH == 1 && KW == 1 && stride == 1 && pad == 0;
}

/* Floats of scratch per image: its columns (K, P) and its (OC, P) side. */
static size_t per_image(int C, int OC, int KH, int KW, int OH, int OW) {
  return ((size_t)C * KH * KW + OC) * OH * OW;
}

/* Images per chunk: as many as keep the scratch within CHUNK_FLOATS, at
 * least one, at most N. The planner sizes the scratch for the largest N of a
 * run; a smaller N takes a chunk no larger. */
static int chunk_images(int N, size_t one) {
  size_t nb = MLPRT_CONV_CHUNK_FLOATS / one;
  if (nb < 1) nb = 1;
  return nb < (size_t)N ? (int)nb : N;
}

size_t mlprt_conv2d_col_size(int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad) {
  if (is_pointwise(KH, KW, stride, pad)) return 0;
  int OH = mlprt_conv_out_size(H, KH, stride, pad), OW = mlprt_conv_out_size(W, KW, stride, pad);
  size_t one = per_image(C, OC, KH, KW, OH, OW);
  return one * chunk_images(N, one);
}

/* Output columns ow whose input column ow*stride - pad + kw lies in [0, W):
 * [*lo, *hi). Outside that range the unfolded value is padding (zero). */
static void valid_cols(int W, int OW, int kw, int stride, int pad, int *lo, int *hi) {
  int first = pad - kw > 0 ? (pad - kw + stride - 1) / stride : 0;
  int last = (W - 1 + pad - kw) >= 0 ? (W - 1 + pad - kw) / stride + 1 : 0;
  *lo = first < OW ? first : OW;
  *hi = last < OW ? last : OW;
  if (*hi < *lo) *hi = *lo;
}

enum { BLOCK = 4 }; /* floats moved by one fixed-size copy: one vector move */

/* dst[0, OW) = the input row run src[lo, hi) with zeros around it, for a
 * stride-1 window whose padding leaves at most BLOCK zeros at either end
 * (OW >= BLOCK). The rows of small images are a dozen floats: fixed-size
 * copies, which compile to vector moves, beat memcpy/memset calls there
 * (a plain loop would be turned back into such calls). */
static void put_row(float *dst, const float *src, int OW, int lo, int hi) {
  static const float zeros[BLOCK];
  memcpy(dst, zeros, sizeof zeros);
  memcpy(dst + OW - BLOCK, zeros, sizeof zeros);
  int ow = lo;
  for (; ow + BLOCK <= hi; ow += BLOCK) memcpy(dst + ow, src + ow, sizeof zeros);
  for (; ow < hi; ow++) dst[ow] = src[ow];
}

/* col (C*KH*KW, OH*OW), rows ld floats apart, = the input patches of one
 * image img (C, H, W). */
static void im2col(float *col, size_t ld, const float *img, int C, int H, int W, int KH, int KW, int stride,
                   int pad, int OH, int OW) {
  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < KH; kh++)
      for (int kw = 0; kw < KW; kw++) {
        float *row = col + (((size_t)c * KH + kh) * KW + kw) * ld;
        int lo, hi;
        valid_cols(W, OW, kw, stride, pad, &lo, &hi);
        for (int oh = 0; oh < OH; oh++) {
          float *dst = row + (size_t)oh * OW;
          int ih = oh * stride - pad + kh;
          if (ih < 0 || ih >= H) {
            for (int ow = 0; ow < OW; ow++) dst[ow] = 0.0f;
            continue;
          }
          const float *src = img + ((size_t)c * H + ih) * W; /* input row ih */
          if (stride == 1 && OW >= BLOCK && lo <= BLOCK && OW - hi <= BLOCK) {
            put_row(dst, src - pad + kw, OW, lo, hi);
            continue;
          }
          for (int ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
          if (stride == 1) /* a contiguous run of the input row */
            memcpy(dst + lo, src + lo - pad + kw, (size_t)(hi - lo) * sizeof(float));
          else
            for (int ow = lo; ow < hi; ow++) dst[ow] = src[ow * stride - pad + kw];
          for (int ow = hi; ow < OW; ow++) dst[ow] = 0.0f;
        }
      }
}

/* img (C, H, W) += the patches in col (rows ld floats apart) folded back
 * (the adjoint of im2col: overlapping windows add up, padding is dropped). */
static void col2im(float *img, const float *col, size_t ld, int C, int H, int W, int KH, int KW, int stride,
                   int pad, int OH, int OW) {
  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < KH; kh++)
      for (int kw = 0; kw < KW; kw++) {
        const float *row = col + (((size_t)c * KH + kh) * KW + kw) * ld;
        int lo, hi;
        valid_cols(W, OW, kw, stride, pad, &lo, &hi);
        for (int oh = 0; oh < OH; oh++) {
          int ih = oh * stride - pad + kh;
          if (ih < 0 || ih >= H) continue;
          const float *s = row + (size_t)oh * OW;
          float *dst = img + ((size_t)c * H + ih) * W; /* input row ih */
          if (stride == 1) { /* contiguous: vectorizes */
            float *d = dst + lo - pad + kw;
            for (int j = 0; j < hi - lo; j++) d[j] += s[lo + j];
          } else {
            for (int ow = lo; ow < hi; ow++) dst[ow * stride - pad + kw] += s[ow];
          }
        }
      }
}

static void check_conv(const float *inp, const float *weight, int N, int C, int H, int W, int OC, int KH,
                       int KW, int stride, int pad) {
  MLPRT_CHECK(N > 0 && C > 0 && H > 0 && W > 0 && OC > 0 && KH > 0 && KW > 0,
              "conv dims N=%d C=%d H=%d W=%d OC=%d K=%dx%d", N, C, H, W, OC, KH, KW);
  MLPRT_CHECK(stride > 0 && pad >= 0, "conv stride %d pad %d", stride, pad);
  MLPRT_CHECK(H + 2 * pad >= KH && W + 2 * pad >= KW, "conv kernel %dx%d larger than padded %dx%d", KH, KW,
              H + 2 * pad, W + 2 * pad);
  MLPRT_CHECK(inp != NULL && weight != NULL, "conv input or weight is NULL");
}

/* A 1x1, stride-1, unpadded conv: each image's input is its column matrix,
 * one product per image and no scratch. */
static void pointwise_forward(float *out, const float *inp, const float *weight, const float *bias, int N,
                              int C, int OC, int P) {
  for (int n = 0; n < N; n++) {
    float *o = out + (size_t)n * OC * P;
    for (int oc = 0; bias && oc < OC; oc++)
      for (int p = 0; p < P; p++) o[(size_t)oc * P + p] = bias[oc];
    mlprt_sgemm(CblasNoTrans, CblasNoTrans, OC, P, C, 1.0f, weight, C, inp + (size_t)n * C * P, P,
                bias ? 1.0f : 0.0f, o, P);
  }
}

static void pointwise_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                               const float *weight, int N, int C, int OC, int P) {
  for (int n = 0; n < N; n++) {
    const float *img = inp + (size_t)n * C * P, *d = dout + (size_t)n * OC * P;
    if (dweight) mlprt_sgemm(CblasNoTrans, CblasTrans, OC, C, P, 1.0f, d, P, img, P, 1.0f, dweight, C);
    if (dinp)
      mlprt_sgemm(CblasTrans, CblasNoTrans, C, P, OC, 1.0f, weight, C, d, P, 1.0f, dinp + (size_t)n * C * P,
                  P);
  }
}

/* Between NB images of (OC, P) floats each (NCHW) and the matrix (OC, NB*P):
 * to_batch copies the images src into the matrix dst, else the matrix src
 * into the images dst. */
static void regroup(float *dst, const float *src, int NB, int OC, int P, int to_batch) {
  size_t ld = (size_t)NB * P, bytes = (size_t)P * sizeof(float);
  for (int b = 0; b < NB; b++)
    for (int oc = 0; oc < OC; oc++) {
      size_t m = oc * ld + (size_t)b * P, im = ((size_t)b * OC + oc) * P;
      memcpy(dst + (to_batch ? m : im), src + (to_batch ? im : m), bytes);
    }
}

void mlprt_conv2d_forward(float *out, float *col, const float *inp, const float *weight, const float *bias,
                          int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad) {
  check_conv(inp, weight, N, C, H, W, OC, KH, KW, stride, pad);
  int pointwise = is_pointwise(KH, KW, stride, pad);
  MLPRT_CHECK(out != NULL && (col != NULL || pointwise), "conv output or im2col scratch is NULL");
  int OH = mlprt_conv_out_size(H, KH, stride, pad), OW = mlprt_conv_out_size(W, KW, stride, pad);
  int K = C * KH * KW, P = OH * OW;
  if (pointwise) {
    pointwise_forward(out, inp, weight, bias, N, C, OC, P);
    return;
  }
  int NB = chunk_images(N, per_image(C, OC, KH, KW, OH, OW));
  for (int n0 = 0; n0 < N; n0 += NB) {
    int nb = N - n0 < NB ? N - n0 : NB;
    size_t ld = (size_t)nb * P;
    float *prod = col + (size_t)K * ld; /* (OC, nb*P) */
    for (int b = 0; b < nb; b++)
      im2col(col + (size_t)b * P, ld, inp + (size_t)(n0 + b) * C * H * W, C, H, W, KH, KW, stride, pad, OH,
             OW);
    for (int oc = 0; bias && oc < OC; oc++)
      for (size_t j = 0; j < ld; j++) prod[oc * ld + j] = bias[oc];
    mlprt_sgemm(CblasNoTrans, CblasNoTrans, OC, (int)ld, K, 1.0f, weight, K, col, (int)ld, bias ? 1.0f : 0.0f,
                prod, (int)ld);
    regroup(out + (size_t)n0 * OC * P, prod, nb, OC, P, 0);
  }
}

void mlprt_conv2d_backward(float *dinp, float *dweight, float *dbias, float *col, const float *dout,
                           const float *inp, const float *weight, int N, int C, int H, int W, int OC,
                           int KH, int KW, int stride, int pad) {
  check_conv(inp, weight, N, C, H, W, OC, KH, KW, stride, pad);
  int pointwise = is_pointwise(KH, KW, stride, pad);
  MLPRT_CHECK(dout != NULL && (col != NULL || pointwise), "conv dout or im2col scratch is NULL");
  int OH = mlprt_conv_out_size(H, KH, stride, pad), OW = mlprt_conv_out_size(W, KW, stride, pad);
  int K = C * KH * KW, P = OH * OW;
  if (dbias) mlprt_bias_backward(NULL, dbias, dout, N, OC, P);
  if (pointwise) {
    pointwise_backward(dinp, dweight, dout, inp, weight, N, C, OC, P);
    return;
  }
  if (!dweight && !dinp) return;
  int NB = chunk_images(N, per_image(C, OC, KH, KW, OH, OW));
  for (int n0 = 0; n0 < N; n0 += NB) {
    int nb = N - n0 < NB ? N - n0 : NB;
    size_t ld = (size_t)nb * P;
    float *d = col + (size_t)K * ld; /* dout of the chunk as (OC, nb*P) */
    regroup(d, dout + (size_t)n0 * OC * P, nb, OC, P, 1);
    if (dweight) {
      for (int b = 0; b < nb; b++)
        im2col(col + (size_t)b * P, ld, inp + (size_t)(n0 + b) * C * H * W, C, H, W, KH, KW, stride, pad,
               OH, OW);
      mlprt_sgemm(CblasNoTrans, CblasTrans, OC, K, (int)ld, 1.0f, d, (int)ld, col, (int)ld, 1.0f, dweight, K);
    }
    if (!dinp) continue;
    /* the columns are spent: their gradient takes their place */
    mlprt_sgemm(CblasTrans, CblasNoTrans, K, (int)ld, OC, 1.0f, weight, K, d, (int)ld, 0.0f, col, (int)ld);
    for (int b = 0; b < nb; b++)
      col2im(dinp + (size_t)(n0 + b) * C * H * W, col + (size_t)b * P, ld, C, H, W, KH, KW, stride, pad, OH,
             OW);
  }
}

void mlprt_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                              int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad) {
  check_conv(inp, weight, N, C, H, W, OC, KH, KW, stride, pad);
  MLPRT_CHECK(out != NULL, "conv output is NULL");
  int OH = mlprt_conv_out_size(H, KH, stride, pad), OW = mlprt_conv_out_size(W, KW, stride, pad);
  for (int n = 0; n < N; n++)
    for (int oc = 0; oc < OC; oc++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double s = bias ? bias[oc] : 0.0;
          for (int c = 0; c < C; c++)
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++) {
                int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += (double)inp[(((size_t)n * C + c) * H + ih) * W + iw] *
                     weight[(((size_t)oc * C + c) * KH + kh) * KW + kw];
              }
          out[(((size_t)n * OC + oc) * OH + oh) * OW + ow] = (float)s;
        }
}
