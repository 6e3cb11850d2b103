/* reg.h — private to runtime/optim: the per-element L1/L2 gradient term and
 * the decay-mask lookup the update kernels fuse into their loops. Consumes
 * one parameter and its gradient; produces the regularized gradient. Both
 * helpers are branch-free so the loops around them vectorize. */
#ifndef MLPRT_OPTIM_REG_H
#define MLPRT_OPTIM_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Force inlining where a kernel instantiates its loop once per setting of a
 * few loop-invariant flags: each copy is then a straight loop. */
#define MLPRT_INLINE static inline __attribute__((always_inline))

/* 1 when parameter i takes the penalties, else 0; masked == false means
 * every parameter does (no mask given). */
MLPRT_INLINE float mlprt_reg_weight(const uint8_t *decay, size_t i, bool masked) {
  return masked ? (decay[i] ? 1.0f : 0.0f) : 1.0f;
}

/* g + dec * (l2 * p + l1 * sign(p)): the gradient of the loss plus that of
 * l1 * |p| + l2/2 * p^2, with sign(0) = 0 so an exact zero stays put. With
 * l1 = 0 (or l2 = 0) the missing term adds an exact zero, so the result
 * rounds as PyTorch's grad + weight_decay * p does. */
MLPRT_INLINE float mlprt_reg_grad(float g, float p, float dec, float l1, float l2) {
  float sign = (float)(p > 0.0f) - (float)(p < 0.0f);
  return g + dec * (l2 * p + l1 * sign);
}

/* The decoupled-decay factor of one parameter: shrink = 1 - lr * weight_decay
 * where it decays (dec = 1), 1 where it does not (dec = 0). Written as
 * arithmetic because GCC will not vectorize the select; shrink - 1 is exact
 * for shrink in [0.5, 1] (any sane lr * weight_decay), so the factor is
 * exactly shrink or exactly 1. */
MLPRT_INLINE float mlprt_reg_shrink(float dec, float shrink) {
  return 1.0f + dec * (shrink - 1.0f);
}

#endif
