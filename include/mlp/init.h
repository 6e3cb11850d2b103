/* init.h — weight initialization. Consumes a parameter tensor's shape, an
 * initializer and an RNG (seed, stream); produces the tensor's initial
 * values. Draws come from the counter-based RNG of mlp/tensor.h, so a
 * tensor's values depend only on (seed, stream, shape), never on threads or
 * on what was initialized before it: the compiler gives every parameter
 * tensor its own stream, and adding a layer leaves the others' weights as
 * they were.
 *
 * The scaled initializers follow torch.nn.init: Xavier/Glorot (Glorot &
 * Bengio 2010) and He/Kaiming (He et al. 2015), with PyTorch's fans: for a
 * weight of shape [out, in, k1, k2, ...] (dense [out, in], conv
 * [out, in, kh, kw]) the receptive field is k1 * k2 * ..., fan_in is
 * in * receptive and fan_out is out * receptive. */
#ifndef MLP_INIT_H
#define MLP_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlp/desc.h"

typedef enum {
  MLPRT_INIT_ZEROS,
  MLPRT_INIT_UNIFORM,        /* U[a, b) */
  MLPRT_INIT_NORMAL,         /* N(mean a, std b) */
  MLPRT_INIT_XAVIER_UNIFORM, /* U[-r, r), r = gain * sqrt(6 / (fan_in + fan_out)) */
  MLPRT_INIT_XAVIER_NORMAL,  /* N(0, gain * sqrt(2 / (fan_in + fan_out))) */
  MLPRT_INIT_KAIMING_UNIFORM, /* U[-r, r), r = gain * sqrt(3 / fan) */
  MLPRT_INIT_KAIMING_NORMAL,  /* N(0, gain / sqrt(fan)) */
} MlprtInitKind;

/* An initializer, a slot list as run.h describes them (generated code
 * passes one to mlprt_init_fill). */
#define MLPRT_INIT_FIELDS(X)                                                                                 \
  X(MLPRT_I64, int64_t, kind)    /* MlprtInitKind */                                                         \
  X(MLPRT_F64, double, a)        /* UNIFORM: the lower bound; NORMAL: the mean */                            \
  X(MLPRT_F64, double, b)        /* UNIFORM: the upper bound; NORMAL: the standard deviation */              \
  X(MLPRT_F64, double, gain)     /* XAVIER_*, KAIMING_*: from mlprt_init_gain; Kaiming for ReLU: sqrt(2) */  \
  X(MLPRT_I64, int64_t, fan_out) /* KAIMING_*: scale by fan_out (keeps backward magnitudes), not fan_in */
typedef struct {
  MLPRT_INIT_FIELDS(MLPRT_DESC_MEMBER)
} MlprtInit;
#define MLPRT_INIT_INDEX(kind, type, name) MLPRT_INIT_##name,
enum { MLPRT_INIT_FIELDS(MLPRT_INIT_INDEX) MLPRT_INIT_NFIELDS };
MLPRT_INIT_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtInit) == 8 * MLPRT_INIT_NFIELDS, "MlprtInit: slots in order");

/* The nonlinearity that follows a layer, for the recommended gain. */
typedef enum {
  MLPRT_GAIN_LINEAR,     /* also conv without activation: 1 */
  MLPRT_GAIN_SIGMOID,    /* 1 */
  MLPRT_GAIN_TANH,       /* 5/3 */
  MLPRT_GAIN_RELU,       /* sqrt(2) */
  MLPRT_GAIN_LEAKY_RELU, /* sqrt(2 / (1 + slope^2)) */
  MLPRT_GAIN_SELU,       /* 3/4 */
} MlprtGain;

/* torch.nn.init.calculate_gain; slope is leaky ReLU's negative slope (PyTorch
 * uses 0.01 when none is given) and is ignored by the others. */
double mlprt_init_gain(MlprtGain nonlinearity, double slope);

/* fan_in and fan_out of a weight of shape[ndim], ndim >= 2 (a 1-d tensor such
 * as a bias has no fans, as in PyTorch: size its init from its weight's). */
void mlprt_init_fans(const int64_t *shape, int ndim, int64_t *fan_in, int64_t *fan_out);

/* The standard deviation init gives a tensor of that shape (for a uniform
 * U[-r, r) that is r / sqrt(3)); what the tests check moments against. */
double mlprt_init_std(const MlprtInit *init, const int64_t *shape, int ndim);

/* The functions of this header that generated code calls (mlp/abi.def). */
#define MLPRT_ABI_INIT(ret, name, params) ret name params;
#include "mlp/abi.def"

#endif
