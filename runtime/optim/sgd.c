/* sgd.c — stochastic gradient descent with optional momentum or Nesterov
 * momentum, PyTorch's formulation. Consumes param[n] and grad[n]; updates
 * param and the momentum buffer in one flat loop. */
#include "mlp/optim.h"

#include "mlp/tensor.h"
#include "reg.h"

/* With d = grad + penalties:
 *   b = d on the first step, else momentum * b + (1 - dampening) * d
 *   d = d + momentum * b (Nesterov) or d = b (classic)
 *   p = p * (1 - lr * weight_decay) - lr * d
 * The first step copies d into the buffer undamped, as PyTorch does, rather
 * than starting from a zero buffer. */
void mlprt_sgd_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  const MlprtOptConfig *c = &o->cfg;
  MLPRT_CHECK(param && grad, "parameter and gradient slabs must not be NULL");
  MLPRT_CHECK(c->momentum == 0.0 || o->buf || o->n == 0, "SGD momentum state missing");
  const float mom = (float)c->momentum;
  const float keep = (float)(1.0 - c->dampening); /* share of d entering the buffer */
  const float shrink = (float)(1.0 - lr * c->weight_decay);
  const float neg_lr = (float)-lr;
  const float l1 = (float)c->l1, l2 = (float)c->l2;
  const bool first = o->step == 0;
  for (size_t i = 0; i < o->n; i++) {
    float p = param[i];
    bool dec = mlprt_reg_decays(decay, i);
    float d = dec ? mlprt_reg_grad(grad[i], p, l1, l2) : grad[i];
    if (c->momentum != 0.0) {
      float b = first ? d : o->buf[i] * mom + keep * d;
      o->buf[i] = b;
      d = c->nesterov ? d + mom * b : b;
    }
    if (dec && c->weight_decay != 0.0) p *= shrink;
    param[i] = p + neg_lr * d;
  }
  o->step++;
}
