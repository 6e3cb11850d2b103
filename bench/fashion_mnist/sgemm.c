/* sgemm.c — the matrix-product ceiling the Fashion-MNIST MLP benchmark
 * divides by: cblas_sgemm GFLOP/s on this machine, with THREADS OpenBLAS
 * threads, at the 784 -> 256 layer's forward shape (64 x 784 -> 256) and
 * over the whole set of products one training step of the 784-256-128-10
 * network issues at batch 64 (each layer's forward and weight gradient, and
 * the input gradients of the two layers above the first). Consumes nothing;
 * prints one JSON line with the median of REPS timed samples of each.
 *
 *   sgemm THREADS [REPS]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlp/tensor.h"
#include "../bench.h"

enum { B = 64, MAX_REPS = 31 };
static const int widths[] = {784, 256, 128, 10};
enum { LAYERS = 3 };

/* Buffers of one step, each large enough for any layer's use:
 * act [B, 784], w [784, 784], grad [784, 784]. */
static float *act, *dact, *w, *dw, *out;

static float *buffer(size_t n, uint64_t stream) {
  float *p = mlprt_alloc_aligned(n * sizeof(float));
  mlprt_fill_uniform(p, n, -1.0f, 1.0f, 42, stream);
  return p;
}

/* out (B, 256) = act (B, 784) · w (256, 784)ᵀ, as the dense forward. */
static double forward_784(void) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, 256, 784, 1.0f, act, 784, w, 784, 0.0f, out, 256);
  return 2.0 * B * 784 * 256;
}

/* The products of one training step, with the transposes the runtime's
 * dense kernels use (runtime/kernels/layers/dense.c). */
static double step(void) {
  double flops = 0;
  for (int l = 0; l < LAYERS; l++) {
    int C = widths[l], OC = widths[l + 1];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, OC, C, 1.0f, act, C, w, C, 0.0f, out, OC);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, B, 1.0f, dact, OC, act, C, 1.0f, dw, C);
    flops += 4.0 * B * C * OC;
    if (l > 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, C, OC, 1.0f, dact, OC, w, C, 0.0f, out, C);
      flops += 2.0 * B * C * OC;
    }
  }
  return flops;
}

/* Median GFLOP/s of f over reps samples of at least 20 ms each. */
static double gflops(double (*f)(void), int reps) {
  double t0 = bench_now(), flops = f(), once = bench_now() - t0; /* also warms up */
  int calls = (int)(0.02 / (once > 1e-7 ? once : 1e-7)) + 1;
  double rate[MAX_REPS];
  for (int r = 0; r < reps; r++) {
    t0 = bench_now();
    for (int i = 0; i < calls; i++) f();
    rate[r] = flops * calls / (bench_now() - t0) * 1e-9;
  }
  return bench_median(rate, reps);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 11;
  if (threads < 1 || reps < 1 || reps > MAX_REPS) {
    fprintf(stderr, "usage: %s THREADS [REPS (1..%d)]\n", argv[0], MAX_REPS);
    return 2;
  }
  mlprt_set_threads(threads, 1);
  act = buffer((size_t)B * 784, 1);
  dact = buffer((size_t)B * 784, 2);
  w = buffer((size_t)784 * 784, 3);
  dw = buffer((size_t)784 * 784, 4);
  out = buffer((size_t)B * 784, 5);
  double one = gflops(forward_784, reps), all = gflops(step, reps);
  printf("{\"threads\": %d, \"gflops_64x784x256\": %.2f, \"gflops_step\": %.2f}\n", threads, one, all);
  float *bufs[] = {act, dact, w, dw, out};
  for (int i = 0; i < 5; i++) mlprt_free_aligned(bufs[i]);
  return 0;
}
