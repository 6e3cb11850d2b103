/* reg.c — the L1/L2 penalty value. Consumes a parameter slab and the decay
 * mask; produces the number added to the reported loss. The matching
 * gradient terms are fused into the update kernels (reg.h). */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"
#include "reg.h"

double mlprt_reg_penalty(const float *param, const uint8_t *decay, size_t n, double l1, double l2) {
  MLPRT_CHECK(param || n == 0, "parameter slab must not be NULL");
  double abs_sum = 0.0, sq_sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (mlprt_reg_weight(decay, i, decay != NULL) == 0.0f) continue;
    double p = param[i];
    abs_sum += fabs(p);
    sq_sum += p * p;
  }
  return l1 * abs_sum + 0.5 * l2 * sq_sum;
}
