/* pool.c — max and average pooling over NCHW tensors, windows without
 * padding and with any stride; and pooling over the steps of sequences
 * (B, T, D), under a padding mask or not. Consumes inputs and dout;
 * produces outputs (N, C, OH, OW) or (B, D), max pooling's argmax cache and
 * accumulated input gradients. */
#include "mlp/layers.h"

#include <string.h>

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

/* ---- pooling over the steps of a sequence ------------------------------------ */

/* Whether step t of row b counts: always without a mask. */
static int counts(const float *mask, int b, int t, int T) {
  return !mask || mask[(size_t)b * T + t] != 0.0f;
}

/* The counted steps of row b: how many, the first and the last (-1 without any). */
static int span(const float *mask, int b, int T, int *first, int *last) {
  int n = 0;
  *first = *last = -1;
  for (int t = 0; t < T; t++)
    if (counts(mask, b, t, T)) {
      if (n++ == 0) *first = t;
      *last = t;
    }
  return n;
}

static void check_steps(const void *a, const void *b, int B, int T, int D, int pool) {
  MLPRT_CHECK(B > 0 && T > 0 && D > 0, "step pooling dims B=%d T=%d D=%d", B, T, D);
  MLPRT_CHECK(pool >= MLPRT_POOL_MEAN && pool <= MLPRT_POOL_MAX, "step pooling %d", pool);
  MLPRT_CHECK(a != NULL && b != NULL, "step pooling buffer is NULL");
}

void mlprt_steps_pool_forward(float *out, const float *inp, const float *mask, int B, int T, int D,
                              int pool) {
  check_steps(out, inp, B, T, D, pool);
  for (int b = 0; b < B; b++) {
    const float *x = inp + (size_t)b * T * D;
    float *o = out + (size_t)b * D;
    int first, last, n = span(mask, b, T, &first, &last);
    if (n == 0) {
      memset(o, 0, (size_t)D * sizeof(float));
      continue;
    }
    if (pool == MLPRT_POOL_FIRST || pool == MLPRT_POOL_LAST) {
      memcpy(o, x + (size_t)(pool == MLPRT_POOL_LAST ? last : first) * D, (size_t)D * sizeof(float));
      continue;
    }
    memcpy(o, x + (size_t)first * D, (size_t)D * sizeof(float));
    for (int t = first + 1; t <= last; t++) {
      if (!counts(mask, b, t, T)) continue;
      for (int j = 0; j < D; j++) {
        float v = x[(size_t)t * D + j];
        o[j] = pool == MLPRT_POOL_MAX ? (v > o[j] ? v : o[j]) : o[j] + v;
      }
    }
    if (pool == MLPRT_POOL_MEAN)
      for (int j = 0; j < D; j++) o[j] /= (float)n;
  }
}

void mlprt_steps_pool_backward(float *dinp, const float *dout, const float *inp, const float *mask, int B,
                               int T, int D, int pool) {
  check_steps(dout, inp, B, T, D, pool);
  if (!dinp) return;
  for (int b = 0; b < B; b++) {
    const float *o = dout + (size_t)b * D, *x = inp + (size_t)b * T * D;
    float *dx = dinp + (size_t)b * T * D;
    int first, last, n = span(mask, b, T, &first, &last);
    for (int j = 0; j < D && n > 0; j++) {
      if (pool == MLPRT_POOL_FIRST || pool == MLPRT_POOL_LAST) {
        dx[(size_t)(pool == MLPRT_POOL_LAST ? last : first) * D + j] += o[j];
      } else if (pool == MLPRT_POOL_MEAN) {
        for (int t = first; t <= last; t++)
          if (counts(mask, b, t, T)) dx[(size_t)t * D + j] += o[j] / (float)n;
      } else {
        int at = first; /* the first maximum, as the forward's strict comparison keeps it */
        for (int t = first + 1; t <= last; t++)
          if (counts(mask, b, t, T) && x[(size_t)t * D + j] > x[(size_t)at * D + j]) at = t;
        dx[(size_t)at * D + j] += o[j];
      }
    }
  }
}
