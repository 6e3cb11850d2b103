/* sgd.c — stochastic gradient descent with optional momentum or Nesterov
 * momentum, PyTorch's formulation. Consumes param[n] and grad[n]; updates
 * param and the momentum buffer in one flat loop. */
#include "mlp/optim.h"

#include "mlp/tensor.h"
#include "reg.h"

/* Per-step scalars, rounded to float once. */
typedef struct {
  float mom, keep;   /* b = b * mom + keep * d */
  float nest;        /* Nesterov: d + nest * b */
  bool nesterov;
  float l1, l2, shrink, neg_lr;
} SgdStep;

/* With d = grad + penalties:
 *   b = d on the first step, else momentum * b + (1 - dampening) * d
 *   d = d + momentum * b (Nesterov) or d = b (classic)
 *   p = p * (1 - lr * weight_decay) - lr * d
 * The first step copies d into the buffer undamped, as PyTorch does; the
 * buffer starts at zero, so mom = 0, keep = 1 on that step gives exactly d.
 * masked and momentum are constants in each call, so every instance is a
 * branch-free loop. */
MLPRT_INLINE void sgd_loop(const SgdStep *s, float *restrict param, const float *restrict grad,
                           float *restrict buf, const uint8_t *restrict decay, size_t n, bool masked,
                           bool momentum) {
  for (size_t i = 0; i < n; i++) {
    float p = param[i];
    float dec = mlprt_reg_weight(decay, i, masked);
    float d = mlprt_reg_grad(grad[i], p, dec, s->l1, s->l2);
    if (momentum) {
      float b = buf[i] * s->mom + s->keep * d;
      buf[i] = b;
      d = s->nesterov ? d + s->nest * b : b;
    }
    param[i] = p * mlprt_reg_shrink(dec, s->shrink) + s->neg_lr * d;
  }
}

void mlprt_sgd_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  const MlprtOptConfig *c = &o->cfg;
  MLPRT_CHECK(param && grad, "parameter and gradient slabs must not be NULL");
  MLPRT_CHECK(c->momentum == 0.0 || o->buf || o->n == 0, "SGD momentum state missing");
  const bool first = o->step == 0;
  SgdStep s = {
      .mom = first ? 0.0f : (float)c->momentum,
      .keep = first ? 1.0f : (float)(1.0 - c->dampening),
      .nest = (float)c->momentum,
      .nesterov = c->nesterov,
      .l1 = (float)c->l1,
      .l2 = (float)c->l2,
      .shrink = (float)(1.0 - lr * c->weight_decay),
      .neg_lr = (float)-lr,
  };
  bool momentum = c->momentum != 0.0;
  if (decay && momentum) sgd_loop(&s, param, grad, o->buf, decay, o->n, true, true);
  else if (decay) sgd_loop(&s, param, grad, o->buf, decay, o->n, true, false);
  else if (momentum) sgd_loop(&s, param, grad, o->buf, decay, o->n, false, true);
  else sgd_loop(&s, param, grad, o->buf, decay, o->n, false, false);
  o->step++;
}
