/* pool.c — max and average pooling over NCHW tensors, windows without
 * padding and with any stride. Consumes inputs (N, C, H, W) and dout;
 * produces outputs (N, C, OH, OW), max pooling's argmax cache and accumulated
 * input gradients. */
#include "mlp/layers.h"

#include "mlp/tensor.h"

static void check_pool(const void *a, const void *b, int N, int C, int H, int W, int KH, int KW,
                       int stride) {
  MLPRT_CHECK(N > 0 && C > 0 && H > 0 && W > 0, "pool dims N=%d C=%d H=%d W=%d", N, C, H, W);
  MLPRT_CHECK(KH > 0 && KW > 0 && KH <= H && KW <= W && stride > 0, "pool window %dx%d stride %d on %dx%d",
              KH, KW, stride, H, W);
  MLPRT_CHECK(a != NULL && b != NULL, "pool buffer is NULL");
}

/* The 2x2 stride-2 window of most CNNs, unrolled: the same comparisons in
 * the same order as the general loop (the first maximum in row-major
 * window order wins), on one input row pair per output row. */
static void maxpool_2x2s2(float *out, int32_t *argmax, const float *inp, size_t planes, int H, int W, int OH,
                          int OW) {
  for (size_t plane = 0; plane < planes; plane++) {
    const float *x = inp + plane * H * W;
    float *y = out + plane * OH * OW;
    int32_t *am = argmax + plane * OH * OW;
    for (int oh = 0; oh < OH; oh++) {
      const float *r0 = x + (size_t)2 * oh * W, *r1 = r0 + W;
      float *yr = y + (size_t)oh * OW;
      int32_t *ar = am + (size_t)oh * OW;
      for (int ow = 0; ow < OW; ow++) {
        float m = r0[2 * ow];
        int at = 0;
        if (r0[2 * ow + 1] > m) m = r0[2 * ow + 1], at = 1;
        if (r1[2 * ow] > m) m = r1[2 * ow], at = W;
        if (r1[2 * ow + 1] > m) m = r1[2 * ow + 1], at = W + 1;
        yr[ow] = m;
        ar[ow] = 2 * oh * W + 2 * ow + at;
      }
    }
  }
}

void mlprt_maxpool2d_forward(float *out, int32_t *argmax, const float *inp, int N, int C, int H, int W,
                             int KH, int KW, int stride) {
  check_pool(out, inp, N, C, H, W, KH, KW, stride);
  MLPRT_CHECK(argmax != NULL, "maxpool argmax is NULL");
  int OH = mlprt_conv_out_size(H, KH, stride, 0), OW = mlprt_conv_out_size(W, KW, stride, 0);
  if (KH == 2 && KW == 2 && stride == 2) {
    maxpool_2x2s2(out, argmax, inp, (size_t)N * C, H, W, OH, OW);
    return;
  }
  for (size_t plane = 0; plane < (size_t)N * C; plane++) {
    const float *x = inp + plane * H * W;
    float *y = out + plane * OH * OW;
    int32_t *am = argmax + plane * OH * OW;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int best = oh * stride * W + ow * stride;
        for (int kh = 0; kh < KH; kh++)
          for (int kw = 0; kw < KW; kw++) {
            int i = (oh * stride + kh) * W + ow * stride + kw;
            if (x[i] > x[best]) best = i;
          }
        y[oh * OW + ow] = x[best];
        am[oh * OW + ow] = best;
      }
  }
}

void mlprt_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax, int N, int C, int H,
                              int W, int KH, int KW, int stride) {
  check_pool(dinp, dout, N, C, H, W, KH, KW, stride);
  MLPRT_CHECK(argmax != NULL, "maxpool argmax is NULL");
  int OH = mlprt_conv_out_size(H, KH, stride, 0), OW = mlprt_conv_out_size(W, KW, stride, 0);
  for (size_t plane = 0; plane < (size_t)N * C; plane++) {
    float *dx = dinp + plane * H * W;
    const float *dy = dout + plane * OH * OW;
    const int32_t *am = argmax + plane * OH * OW;
    for (int o = 0; o < OH * OW; o++) {
      MLPRT_CHECK(am[o] >= 0 && am[o] < H * W, "argmax %d outside a %dx%d plane", am[o], H, W);
      dx[am[o]] += dy[o];
    }
  }
}

void mlprt_avgpool2d_forward(float *out, const float *inp, int N, int C, int H, int W, int KH, int KW,
                             int stride) {
  check_pool(out, inp, N, C, H, W, KH, KW, stride);
  int OH = mlprt_conv_out_size(H, KH, stride, 0), OW = mlprt_conv_out_size(W, KW, stride, 0);
  float inv = 1.0f / (float)(KH * KW);
  for (size_t plane = 0; plane < (size_t)N * C; plane++) {
    const float *x = inp + plane * H * W;
    float *y = out + plane * OH * OW;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        float s = 0.0f;
        for (int kh = 0; kh < KH; kh++)
          for (int kw = 0; kw < KW; kw++) s += x[(oh * stride + kh) * W + ow * stride + kw];
        y[oh * OW + ow] = s * inv;
      }
  }
}

void mlprt_avgpool2d_backward(float *dinp, const float *dout, int N, int C, int H, int W, int KH, int KW,
                              int stride) {
  check_pool(dinp, dout, N, C, H, W, KH, KW, stride);
  int OH = mlprt_conv_out_size(H, KH, stride, 0), OW = mlprt_conv_out_size(W, KW, stride, 0);
  float inv = 1.0f / (float)(KH * KW);
  for (size_t plane = 0; plane < (size_t)N * C; plane++) {
    float *dx = dinp + plane * H * W;
    const float *dy = dout + plane * OH * OW;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        float g = dy[oh * OW + ow] * inv;
        for (int kh = 0; kh < KH; kh++)
          for (int kw = 0; kw < KW; kw++) dx[(oh * stride + kh) * W + ow * stride + kw] += g;
      }
  }
}
