/* conv.c — 2-D convolution over NCHW tensors by im2col + sgemm, backward by
 * sgemm + col2im, and a direct reference loop for tests. Consumes inputs
 * (N, C, H, W), weights (OC, C, KH, KW), bias (OC) and dout; produces outputs
 * (N, OC, OH, OW) and accumulated gradients, one image at a time through an
 * im2col scratch of (C*KH*KW, OH*OW) floats. */
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

size_t mlprt_conv2d_col_size(int C, int H, int W, int KH, int KW, int stride, int pad) {
  if (is_pointwise(KH, KW, stride, pad)) return 0;
  size_t ohw = (size_t)mlprt_conv_out_size(H, KH, stride, pad) * mlprt_conv_out_size(W, KW, stride, pad);
  return (size_t)C * KH * KW * ohw;
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

/* col (C*KH*KW, OH*OW) = the input patches of one image img (C, H, W). */
static void im2col(float *col, const float *img, int C, int H, int W, int KH, int KW, int stride, int pad,
                   int OH, int OW) {
  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < KH; kh++)
      for (int kw = 0; kw < KW; kw++) {
        float *row = col + (((size_t)c * KH + kh) * KW + kw) * OH * OW;
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

/* img (C, H, W) += the patches in col folded back (the adjoint of im2col:
 * overlapping windows add up, padding is dropped). */
static void col2im(float *img, const float *col, int C, int H, int W, int KH, int KW, int stride, int pad,
                   int OH, int OW) {
  for (int c = 0; c < C; c++)
    for (int kh = 0; kh < KH; kh++)
      for (int kw = 0; kw < KW; kw++) {
        const float *row = col + (((size_t)c * KH + kh) * KW + kw) * OH * OW;
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

void mlprt_conv2d_forward(float *out, float *col, const float *inp, const float *weight, const float *bias,
                          int N, int C, int H, int W, int OC, int KH, int KW, int stride, int pad) {
  check_conv(inp, weight, N, C, H, W, OC, KH, KW, stride, pad);
  int pointwise = is_pointwise(KH, KW, stride, pad);
  MLPRT_CHECK(out != NULL && (col != NULL || pointwise), "conv output or im2col scratch is NULL");
  int OH = mlprt_conv_out_size(H, KH, stride, pad), OW = mlprt_conv_out_size(W, KW, stride, pad);
  int K = C * KH * KW, P = OH * OW;
  for (int n = 0; n < N; n++) {
    const float *img = inp + (size_t)n * C * H * W;
    float *o = out + (size_t)n * OC * P;
    const float *cols = img;
    if (!pointwise) {
      im2col(col, img, C, H, W, KH, KW, stride, pad, OH, OW);
      cols = col;
    }
    for (int oc = 0; bias && oc < OC; oc++)
      for (int p = 0; p < P; p++) o[(size_t)oc * P + p] = bias[oc];
    mlprt_sgemm(CblasNoTrans, CblasNoTrans, OC, P, K, 1.0f, weight, K, cols, P,
                bias ? 1.0f : 0.0f, o, P);
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
  for (int n = 0; n < N; n++) {
    const float *img = inp + (size_t)n * C * H * W, *d = dout + (size_t)n * OC * P;
    if (dweight) {
      const float *cols = img;
      if (!pointwise) {
        im2col(col, img, C, H, W, KH, KW, stride, pad, OH, OW);
        cols = col;
      }
      mlprt_sgemm(CblasNoTrans, CblasTrans, OC, K, P, 1.0f, d, P, cols, P, 1.0f, dweight, K);
    }
    if (!dinp) continue;
    float *di = dinp + (size_t)n * C * H * W;
    if (pointwise) {
      mlprt_sgemm(CblasTrans, CblasNoTrans, K, P, OC, 1.0f, weight, K, d, P, 1.0f, di, P);
    } else {
      mlprt_sgemm(CblasTrans, CblasNoTrans, K, P, OC, 1.0f, weight, K, d, P, 0.0f, col, P);
      col2im(di, col, C, H, W, KH, KW, stride, pad, OH, OW);
    }
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
