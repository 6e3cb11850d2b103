/* optim.c — update throughput of the runtime's optimizers and gradient
 * clipping (include/mlp/optim.h) on one slab of 10M parameters: nanoseconds
 * per parameter, median of RUNS timed steps after one warm-up step. Run by
 * bench/optim_speed.sh next to the same measurement of torch.optim. */
#include <stdio.h>
#include <stdlib.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"
#include "bench.h"

enum { N = 10000000, RUNS = 9 };

int main(void) {
  float *param = mlprt_alloc_aligned((size_t)N * sizeof(float)); /* [N] */
  float *grad = mlprt_alloc_aligned((size_t)N * sizeof(float));  /* [N] */
  mlprt_fill_normal(grad, N, 0.0f, 1.0f, 1, 0);
  const struct {
    const char *name;
    MlprtOptKind kind;
    double momentum;
  } opts[] = {
      {"sgd+momentum", MLPRT_OPT_SGD, 0.9},
      {"adam", MLPRT_OPT_ADAM, 0.0},
      {"adamw", MLPRT_OPT_ADAMW, 0.0},
      {"rmsprop+momentum", MLPRT_OPT_RMSPROP, 0.9},
  };
  double t[RUNS];
  for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
    MlprtOptConfig c = mlprt_optim_defaults(opts[k].kind);
    c.momentum = opts[k].momentum;
    MlprtOptim o;
    mlprt_optim_init(&o, &c, N);
    mlprt_optim_step(&o, param, grad, NULL, c.lr);
    for (int r = 0; r < RUNS; r++) {
      double t0 = bench_now();
      mlprt_optim_step(&o, param, grad, NULL, c.lr);
      t[r] = bench_now() - t0;
    }
    printf("mlprt %-17s %5.2f ns/param\n", opts[k].name, 1e9 * bench_median(t, RUNS) / N);
    mlprt_optim_free(&o);
  }
  for (int r = 0; r < RUNS; r++) {
    double t0 = bench_now();
    mlprt_clip_grad_norm(grad, N, 1e30f); /* measure the norm; never scales */
    t[r] = bench_now() - t0;
  }
  printf("mlprt %-17s %5.2f ns/param\n", "clip_grad_norm", 1e9 * bench_median(t, RUNS) / N);
  mlprt_free_aligned(param);
  mlprt_free_aligned(grad);
  return 0;
}
