/* qdense.c — time of the int8 dense kernel (mlprt_qdense) next to the float
 * one (mlprt_dense_forward, sgemm) on the shapes a predictor runs: one row
 * at a time, and a batch of 64. Consumes nothing (synthetic weights and
 * inputs from the runtime's RNG); prints the median time per row of several
 * samples of each, alternating, and the float/int8 ratio, together with the
 * largest output difference (the quantization error on this data).
 *
 *   cc -O2 -D_POSIX_C_SOURCE=200809L -Iinclude bench/quant/qdense.c build/libmlprt.a \
 *     -lopenblas -lcjson -lz -lm -lpthread -o build/bench/qdense && build/bench/qdense [REPS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlp/layers.h"
#include "mlp/quant.h"
#include "mlp/tensor.h"
#include "../bench.h"

#define MAX_REPS 31

typedef struct {
  int B, C, OC;
  const float *x, *w, *bias, *scale;
  const int8_t *q;
  float *out;
  void *scratch;
} Case;

/* Seconds per row of one kernel, over as many calls as fill 20 ms. */
static double sample(const Case *k, int int8) {
  long calls = 0;
  double t0 = bench_now(), t;
  do {
    for (int i = 0; i < 16; i++) {
      if (int8) mlprt_qdense(k->out, k->x, k->q, k->scale, k->bias, k->B, k->C, k->OC, k->scratch);
      else mlprt_dense_forward(k->out, k->x, k->w, k->bias, k->B, k->C, k->OC);
    }
    calls += 16;
    t = bench_now() - t0;
  } while (t < 0.02);
  return t / (double)calls / k->B;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 9;
  if (reps < 1 || reps > MAX_REPS) reps = 9;
  mlprt_set_threads(1, 1);
  static const int shapes[][2] = {{4, 16}, {64, 64}, {64, 10}, {784, 256}, {256, 10}};
  static const int batches[] = {1, 64};
  printf("%-6s %-10s %12s %12s %7s %10s\n", "batch", "C->OC", "float ns/row", "int8 ns/row", "ratio",
         "max |diff|");
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
      Case k = {.B = batches[b], .C = shapes[s][0], .OC = shapes[s][1]};
      float *x = mlprt_alloc_aligned((size_t)k.B * k.C * 4);
      float *w = mlprt_alloc_aligned((size_t)k.OC * k.C * 4);
      float *bias = mlprt_alloc_aligned((size_t)k.OC * 4), *scale = mlprt_alloc_aligned((size_t)k.OC * 4);
      float *ref = mlprt_alloc_aligned((size_t)k.B * k.OC * 4);
      float *out = mlprt_alloc_aligned((size_t)k.B * k.OC * 4);
      int8_t *q = mlprt_alloc_aligned((size_t)k.OC * k.C);
      void *scratch = mlprt_alloc_aligned(mlprt_qdense_scratch_bytes(k.C));
      mlprt_fill_uniform(x, (size_t)k.B * k.C, -1, 1, 1, 1);
      mlprt_fill_normal(w, (size_t)k.OC * k.C, 0, 1.0f / sqrtf((float)k.C), 1, 2);
      mlprt_fill_uniform(bias, (size_t)k.OC, -0.1f, 0.1f, 1, 3);
      mlprt_quantize_rows(w, k.OC, k.C, q, scale);
      k.x = x, k.w = w, k.bias = bias, k.scale = scale, k.q = q, k.scratch = scratch;
      k.out = ref;
      mlprt_dense_forward(ref, x, w, bias, k.B, k.C, k.OC);
      k.out = out;
      mlprt_qdense(out, x, q, scale, bias, k.B, k.C, k.OC, scratch);
      double diff = 0;
      for (int i = 0; i < k.B * k.OC; i++) diff = fmax(diff, fabs((double)out[i] - ref[i]));
      double tf[MAX_REPS], tq[MAX_REPS];
      for (int r = 0; r < reps; r++) {
        tf[r] = sample(&k, 0);
        tq[r] = sample(&k, 1);
      }
      double mf = bench_median(tf, reps), mq = bench_median(tq, reps);
      char shape[32];
      snprintf(shape, sizeof shape, "%d->%d", k.C, k.OC);
      printf("%-6d %-10s %12.1f %12.1f %7.2f %10.2e\n", k.B, shape, mf * 1e9, mq * 1e9, mf / mq, diff);
      mlprt_free_aligned(x), mlprt_free_aligned(w), mlprt_free_aligned(bias), mlprt_free_aligned(scale);
      mlprt_free_aligned(ref), mlprt_free_aligned(out), mlprt_free_aligned(q), mlprt_free_aligned(scratch);
    }
  return 0;
}
