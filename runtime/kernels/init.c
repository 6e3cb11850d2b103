/* init.c — weight initialization (see mlp/init.h). Consumes a shape, an
 * initializer and an RNG stream; produces the initial weights through the
 * counter RNG's uniform and normal fills. */
#include "mlp/init.h"

#include <math.h>
#include <string.h>

#include "mlp/tensor.h"

double mlprt_init_gain(MlprtGain nonlinearity, double slope) {
  switch (nonlinearity) {
  case MLPRT_GAIN_LINEAR:
  case MLPRT_GAIN_SIGMOID:
    return 1.0;
  case MLPRT_GAIN_TANH:
    return 5.0 / 3.0;
  case MLPRT_GAIN_RELU:
    return sqrt(2.0);
  case MLPRT_GAIN_LEAKY_RELU:
    return sqrt(2.0 / (1.0 + slope * slope));
  case MLPRT_GAIN_SELU:
    return 0.75;
  }
  MLPRT_FATAL("unknown nonlinearity %d", (int)nonlinearity);
}

static size_t shape_numel(const int64_t *shape, int ndim) {
  MLPRT_CHECK(shape && ndim >= 1 && ndim <= MLPRT_MAX_DIMS, "bad tensor rank %d", ndim);
  size_t n = 1;
  for (int d = 0; d < ndim; d++) {
    MLPRT_CHECK(shape[d] > 0, "dimension %d has size %lld", d, (long long)shape[d]);
    n *= (size_t)shape[d];
  }
  return n;
}

void mlprt_init_fans(const int64_t *shape, int ndim, int64_t *fan_in, int64_t *fan_out) {
  (void)shape_numel(shape, ndim); /* validates the shape */
  MLPRT_CHECK(ndim >= 2, "fans need a weight of rank >= 2, got rank %d", ndim);
  int64_t receptive = 1;
  for (int d = 2; d < ndim; d++) receptive *= shape[d];
  *fan_in = shape[1] * receptive;
  *fan_out = shape[0] * receptive;
}

/* The standard deviation of the scaled kinds (before the uniform's sqrt(3)). */
static double scaled_std(const MlprtInit *init, const int64_t *shape, int ndim) {
  int64_t fan_in, fan_out;
  mlprt_init_fans(shape, ndim, &fan_in, &fan_out);
  if (init->kind == MLPRT_INIT_XAVIER_UNIFORM || init->kind == MLPRT_INIT_XAVIER_NORMAL)
    return init->gain * sqrt(2.0 / (double)(fan_in + fan_out));
  return init->gain / sqrt((double)(init->fan_out ? fan_out : fan_in));
}

double mlprt_init_std(const MlprtInit *init, const int64_t *shape, int ndim) {
  switch (init->kind) {
  case MLPRT_INIT_ZEROS:
    return 0.0;
  case MLPRT_INIT_UNIFORM:
    return (init->b - init->a) / sqrt(12.0);
  case MLPRT_INIT_NORMAL:
    return init->b;
  case MLPRT_INIT_XAVIER_UNIFORM:
  case MLPRT_INIT_XAVIER_NORMAL:
  case MLPRT_INIT_KAIMING_UNIFORM:
  case MLPRT_INIT_KAIMING_NORMAL:
    return scaled_std(init, shape, ndim);
  }
  MLPRT_FATAL("unknown initializer %d", (int)init->kind);
}

void mlprt_init_fill(float *w, const int64_t *shape, int ndim, const MlprtInit *init, uint64_t seed,
                     uint64_t stream) {
  MLPRT_CHECK(w && init, "weights and initializer must not be NULL");
  size_t n = shape_numel(shape, ndim);
  switch (init->kind) {
  case MLPRT_INIT_ZEROS:
    memset(w, 0, n * sizeof *w);
    return;
  case MLPRT_INIT_UNIFORM:
    mlprt_fill_uniform(w, n, (float)init->a, (float)init->b, seed, stream);
    return;
  case MLPRT_INIT_NORMAL:
    mlprt_fill_normal(w, n, (float)init->a, (float)init->b, seed, stream);
    return;
  case MLPRT_INIT_XAVIER_UNIFORM:
  case MLPRT_INIT_KAIMING_UNIFORM: {
    /* U[-r, r) has standard deviation r / sqrt(3). */
    float r = (float)(sqrt(3.0) * scaled_std(init, shape, ndim));
    mlprt_fill_uniform(w, n, -r, r, seed, stream);
    return;
  }
  case MLPRT_INIT_XAVIER_NORMAL:
  case MLPRT_INIT_KAIMING_NORMAL:
    mlprt_fill_normal(w, n, 0.0f, (float)scaled_std(init, shape, ndim), seed, stream);
    return;
  }
  MLPRT_FATAL("unknown initializer %d", (int)init->kind);
}
