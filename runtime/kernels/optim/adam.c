/* adam.c — Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), PyTorch's
 * formulation. Consumes param[n] and grad[n]; updates param and both moment
 * slabs in one flat loop. AdamW is this kernel with weight_decay > 0. */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"
#include "reg.h"

/* Per-step scalars, rounded to float once. */
typedef struct {
  float b1, a1, b2, a2; /* moment decay rates and their complements */
  float neg_step;       /* -lr / (1 - beta1^t) */
  float bc2_sqrt;       /* sqrt(1 - beta2^t) */
  float eps, l1, l2, shrink;
} AdamStep;

/* With g = grad + penalties and t the 1-based step:
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p * (1 - lr * weight_decay) - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * The per-element arithmetic keeps PyTorch's order so the same float32
 * inputs round the same way. masked is a constant in each call. */
MLPRT_INLINE void adam_loop(const AdamStep *s, float *restrict param, const float *restrict grad,
                            float *restrict m, float *restrict v, const uint8_t *restrict decay, size_t n,
                            bool masked) {
  for (size_t i = 0; i < n; i++) {
    float p = param[i];
    float dec = mlprt_reg_weight(decay, i, masked);
    float g = mlprt_reg_grad(grad[i], p, dec, s->l1, s->l2);
    float mi = m[i] * s->b1 + s->a1 * g;
    float vi = v[i] * s->b2 + s->a2 * g * g;
    m[i] = mi;
    v[i] = vi;
    float denom = sqrtf(vi) / s->bc2_sqrt + s->eps;
    param[i] = p * mlprt_reg_shrink(dec, s->shrink) + s->neg_step * (mi / denom);
  }
}

void mlprt_adam_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  const MlprtOptConfig *c = &o->cfg;
  MLPRT_CHECK(param && grad, "parameter and gradient slabs must not be NULL");
  MLPRT_CHECK((o->buf && o->sq) || o->n == 0, "Adam moment state missing");
  /* The bias corrections in double, as PyTorch computes them in Python. */
  double t = (double)(o->step + 1);
  AdamStep s = {
      .b1 = (float)c->beta1,
      .a1 = (float)(1.0 - c->beta1),
      .b2 = (float)c->beta2,
      .a2 = (float)(1.0 - c->beta2),
      .neg_step = (float)-(lr / (1.0 - pow(c->beta1, t))),
      .bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, t)),
      .eps = (float)c->eps,
      .l1 = (float)c->l1,
      .l2 = (float)c->l2,
      .shrink = (float)(1.0 - lr * c->weight_decay),
  };
  if (decay) adam_loop(&s, param, grad, o->buf, o->sq, decay, o->n, true);
  else adam_loop(&s, param, grad, o->buf, o->sq, decay, o->n, false);
  o->step++;
}
