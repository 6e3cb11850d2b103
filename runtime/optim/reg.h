/* reg.h — private to runtime/optim: the per-element L1/L2 gradient term the
 * update kernels fuse into their loops, and the decay-mask lookup. Consumes
 * one parameter and its gradient; produces the regularized gradient. */
#ifndef MLPRT_OPTIM_REG_H
#define MLPRT_OPTIM_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether parameter i takes the penalties (decay == NULL: all do). */
static inline bool mlprt_reg_decays(const uint8_t *decay, size_t i) {
  return decay == NULL || decay[i] != 0;
}

/* g + l2 * p + l1 * sign(p): the gradient of the loss plus the gradient of
 * l1 * |p| + l2/2 * p^2, with sign(0) = 0 so an exact zero stays put.
 * Added in PyTorch's order (the L2 term first), so rounding matches. */
static inline float mlprt_reg_grad(float g, float p, float l1, float l2) {
  if (l2 != 0.0f) g += l2 * p;
  if (l1 != 0.0f) g += p > 0.0f ? l1 : p < 0.0f ? -l1 : 0.0f;
  return g;
}

#endif
