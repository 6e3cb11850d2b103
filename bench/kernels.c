/* kernels.c — throughput of the runtime's dense and conv2d kernels next to
 * raw cblas_sgemm on exactly the GEMM shapes those kernels issue, in the same
 * run. Consumes nothing (synthetic data from the runtime's RNG); prints one
 * table per BLAS thread count with medians of several timed repetitions and
 * the layer/sgemm ratio. The ratio is what matters: sgemm is the ceiling, and
 * everything a layer adds (bias, activation, im2col) shows as a ratio < 1.
 *
 *   make bench-kernels                    threads 1 and 2, 7 repetitions
 *   build/bench/kernels [REPS [THREADS...]]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlp/layers.h"
#include "mlp/tensor.h"
#include "bench.h"

#define MAX_REPS 31

static float *randbuf(size_t n, uint64_t stream) {
  float *p = mlprt_alloc_aligned(n * sizeof(float));
  mlprt_fill_uniform(p, n, -1.0f, 1.0f, 42, stream);
  return p;
}

/* One benchmark: run(ctx) does one forward+backward step of the layer,
 * raw(ctx) the same GEMMs through cblas_sgemm alone; flops is per step. */
typedef struct {
  const char *name;
  char shape[64];
  void (*run)(void *ctx);
  void (*raw)(void *ctx);
  void *ctx;
  double flops;
} Bench;

/* Seconds per call of f: calls batched so one timed sample lasts >= 20 ms. */
static double time_per_call(void (*f)(void *), void *ctx, int calls) {
  double t0 = bench_now();
  for (int i = 0; i < calls; i++) f(ctx);
  return (bench_now() - t0) / calls;
}

static void measure(const Bench *b, int reps, int threads) {
  double lay[MAX_REPS], raw[MAX_REPS];
  b->run(b->ctx); /* warm up: page in buffers, start BLAS threads */
  b->raw(b->ctx);
  double once = time_per_call(b->run, b->ctx, 1);
  int calls = once > 0.02 ? 1 : (int)(0.02 / (once > 1e-7 ? once : 1e-7)) + 1;
  for (int r = 0; r < reps; r++) { /* interleaved, so drift hits both alike */
    lay[r] = time_per_call(b->run, b->ctx, calls);
    raw[r] = time_per_call(b->raw, b->ctx, calls);
  }
  double tl = bench_median(lay, reps), tr = bench_median(raw, reps);
  printf("%7d  %-22s %-28s %9.1f %9.1f %7.2f %9.3f\n", threads, b->name, b->shape, b->flops / tl * 1e-9,
         b->flops / tr * 1e-9, tr / tl, tl * 1e3);
}

/* ---- dense --------------------------------------------------------------- */

typedef struct {
  int B, C, OC, relu;
  float *inp, *w, *b, *out, *dout, *dact, *dinp, *dw, *db; /* dact: dout through the relu */
} DenseBench;

static void dense_step(void *p) {
  DenseBench *d = p;
  size_t no = (size_t)d->B * d->OC;
  mlprt_dense_forward(d->out, d->inp, d->w, d->b, d->B, d->C, d->OC);
  const float *dout = d->dout;
  if (d->relu) {
    mlprt_relu_forward(d->out, d->out, no);
    mlprt_relu_backward(d->dact, d->dout, d->out, no);
    dout = d->dact;
  }
  mlprt_dense_backward(d->dinp, d->dw, d->db, dout, d->inp, d->w, d->B, d->C, d->OC);
}

static void dense_raw(void *p) {
  DenseBench *d = p;
  int B = d->B, C = d->C, OC = d->OC;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, d->inp, C, d->w, C, 0.0f, d->out, OC);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, d->dout, OC, d->w, C, 1.0f, d->dinp,
              C);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, d->dout, OC, d->inp, C, 1.0f, d->dw,
              C);
}

static DenseBench *dense_new(int B, int C, int OC, int relu) {
  DenseBench *d = calloc(1, sizeof *d);
  *d = (DenseBench){.B = B, .C = C, .OC = OC, .relu = relu};
  d->inp = randbuf((size_t)B * C, 1);
  d->w = randbuf((size_t)OC * C, 2);
  d->b = randbuf(OC, 3);
  d->out = randbuf((size_t)B * OC, 4);
  d->dout = randbuf((size_t)B * OC, 5);
  d->dact = randbuf((size_t)B * OC, 9);
  d->dinp = randbuf((size_t)B * C, 6);
  d->dw = randbuf((size_t)OC * C, 7);
  d->db = randbuf(OC, 8);
  return d;
}

static void dense_free(DenseBench *d) {
  float *bufs[] = {d->inp, d->w, d->b, d->out, d->dout, d->dact, d->dinp, d->dw, d->db};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) mlprt_free_aligned(bufs[i]);
  free(d);
}

/* ---- conv2d -------------------------------------------------------------- */

typedef struct {
  int N, C, H, W, OC, K, stride, pad, first; /* first: an input layer, no dinp */
  int OH, OW;
  float *inp, *w, *b, *out, *col, *dout, *dinp, *dw, *db;
} ConvBench;

static void conv_step(void *p) {
  ConvBench *c = p;
  mlprt_conv2d_forward(c->out, c->col, c->inp, c->w, c->b, c->N, c->C, c->H, c->W, c->OC, c->K, c->K,
                       c->stride, c->pad);
  mlprt_conv2d_backward(c->first ? NULL : c->dinp, c->dw, c->db, c->col, c->dout, c->inp, c->w, c->N, c->C,
                        c->H, c->W, c->OC, c->K, c->K, c->stride, c->pad);
}

/* The GEMMs conv2d issues per image: forward (OC, P, K), the weight
 * gradient (OC, K, P) and, unless this is the input layer, the column
 * gradient (K, P, OC); im2col/col2im are what the layer adds. */
static void conv_raw(void *p) {
  ConvBench *c = p;
  int K = c->C * c->K * c->K, P = c->OH * c->OW;
  for (int n = 0; n < c->N; n++) {
    float *o = c->out + (size_t)n * c->OC * P, *d = c->dout + (size_t)n * c->OC * P;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->OC, P, K, 1.0f, c->w, K, c->col, P, 0.0f, o, P);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->OC, K, P, 1.0f, d, P, c->col, P, 1.0f, c->dw, K);
    if (!c->first)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, c->OC, 1.0f, c->w, K, d, P, 0.0f, c->col, P);
  }
}

static ConvBench *conv_new(int N, int C, int H, int W, int OC, int K, int stride, int pad, int first) {
  ConvBench *c = calloc(1, sizeof *c);
  *c = (ConvBench){.N = N, .C = C, .H = H, .W = W, .OC = OC, .K = K, .stride = stride, .pad = pad,
                   .first = first};
  c->OH = mlprt_conv_out_size(H, K, stride, pad);
  c->OW = mlprt_conv_out_size(W, K, stride, pad);
  size_t no = (size_t)N * OC * c->OH * c->OW, ni = (size_t)N * C * H * W, nw = (size_t)OC * C * K * K;
  size_t ncol = (size_t)C * K * K * c->OH * c->OW;
  c->inp = randbuf(ni, 11);
  c->w = randbuf(nw, 12);
  c->b = randbuf(OC, 13);
  c->out = randbuf(no, 14);
  c->col = randbuf(ncol, 15);
  c->dout = randbuf(no, 16);
  c->dinp = randbuf(ni, 17);
  c->dw = randbuf(nw, 18);
  c->db = randbuf(OC, 19);
  return c;
}

static void conv_free(ConvBench *c) {
  float *bufs[] = {c->inp, c->w, c->b, c->out, c->col, c->dout, c->dinp, c->dw, c->db};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) mlprt_free_aligned(bufs[i]);
  free(c);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 7;
  if (reps < 1 || reps > MAX_REPS) {
    fprintf(stderr, "usage: %s [REPS (1..%d) [THREADS...]]\n", argv[0], MAX_REPS);
    return 2;
  }
  int threads[8] = {1, 2}, nthreads = 2;
  if (argc > 2)
    for (nthreads = 0; nthreads < 8 && nthreads + 2 < argc; nthreads++)
      threads[nthreads] = atoi(argv[nthreads + 2]);

  static const int dense_cfg[][3] = {{128, 784, 256}, {256, 784, 256}, {128, 256, 128},
                                     {256, 256, 128}, {128, 1024, 1024}, {256, 1024, 1024}};
  /* N C H W OC K stride pad first */
  static const int conv_cfg[][9] = {
      {64, 1, 28, 28, 32, 3, 1, 1, 1},  /* MNIST first layer */
      {64, 32, 14, 14, 64, 3, 1, 1, 0}, /* after 2x2 pooling */
      {64, 64, 7, 7, 64, 3, 1, 1, 0},
      {32, 64, 16, 16, 128, 3, 2, 1, 0}, /* strided downsampling */
  };
  enum { ND = sizeof dense_cfg / sizeof dense_cfg[0], NC = sizeof conv_cfg / sizeof conv_cfg[0] };
  Bench benches[2 * ND + NC];
  int nb = 0;
  for (int i = 0; i < ND; i++)
    for (int relu = 0; relu < 2; relu++) {
      const int *d = dense_cfg[i];
      Bench *b = &benches[nb++];
      b->name = relu ? "dense+bias+relu f+b" : "dense+bias f+b";
      snprintf(b->shape, sizeof b->shape, "B=%d %d->%d", d[0], d[1], d[2]);
      b->run = dense_step;
      b->raw = dense_raw;
      b->ctx = dense_new(d[0], d[1], d[2], relu);
      b->flops = 6.0 * d[0] * d[1] * d[2];
    }
  for (int i = 0; i < NC; i++) {
    const int *c = conv_cfg[i];
    ConvBench *cb = conv_new(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
    Bench *b = &benches[nb++];
    b->name = c[8] ? "conv2d f+b (no dinp)" : "conv2d f+b";
    snprintf(b->shape, sizeof b->shape, "N=%d %dx%dx%d->%d k%d s%d p%d", c[0], c[1], c[2], c[3], c[4], c[5],
             c[6], c[7]);
    b->run = conv_step;
    b->raw = conv_raw;
    b->ctx = cb;
    b->flops = (c[8] ? 4.0 : 6.0) * c[0] * c[4] * (double)(c[1] * c[5] * c[5]) * cb->OH * cb->OW;
  }

  printf("forward+backward GFLOP/s of each layer and of cblas_sgemm alone on the same GEMM shapes;\n"
         "medians of %d repetitions; ratio = layer / sgemm; ms = one layer step\n\n", reps);
  printf("%7s  %-22s %-28s %9s %9s %7s %9s\n", "threads", "kernel", "shape", "layer", "sgemm", "ratio", "ms");
  for (int t = 0; t < nthreads; t++) {
    mlprt_set_threads(threads[t], 1);
    for (int i = 0; i < nb; i++) measure(&benches[i], reps, threads[t]);
    printf("\n");
  }
  for (int i = 0; i < nb; i++) {
    if (benches[i].run == dense_step)
      dense_free(benches[i].ctx);
    else
      conv_free(benches[i].ctx);
  }
  return 0;
}
