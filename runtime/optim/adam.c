/* adam.c — Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), PyTorch's
 * formulation. Consumes param[n] and grad[n]; updates param and both moment
 * slabs in one flat loop. AdamW is this kernel with weight_decay > 0. */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"
#include "reg.h"

/* With g = grad + penalties and t the 1-based step:
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p * (1 - lr * weight_decay) - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * The bias corrections are computed once per step in double, as PyTorch does
 * in Python, and the per-element arithmetic keeps PyTorch's order so the
 * same float32 inputs round the same way. */
void mlprt_adam_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  const MlprtOptConfig *c = &o->cfg;
  MLPRT_CHECK(param && grad, "parameter and gradient slabs must not be NULL");
  MLPRT_CHECK((o->buf && o->sq) || o->n == 0, "Adam moment state missing");
  double t = (double)(o->step + 1);
  const float neg_step = (float)-(lr / (1.0 - pow(c->beta1, t)));
  const float bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, t));
  const float b1 = (float)c->beta1, b2 = (float)c->beta2;
  const float a1 = (float)(1.0 - c->beta1), a2 = (float)(1.0 - c->beta2);
  const float eps = (float)c->eps;
  const float shrink = (float)(1.0 - lr * c->weight_decay);
  const float l1 = (float)c->l1, l2 = (float)c->l2;
  float *m = o->buf, *v = o->sq;
  for (size_t i = 0; i < o->n; i++) {
    float p = param[i];
    bool dec = mlprt_reg_decays(decay, i);
    float g = dec ? mlprt_reg_grad(grad[i], p, l1, l2) : grad[i];
    m[i] = m[i] * b1 + a1 * g;
    v[i] = v[i] * b2 + a2 * g * g;
    float denom = sqrtf(v[i]) / bc2_sqrt + eps;
    if (dec && c->weight_decay != 0.0) p *= shrink;
    param[i] = p + neg_step * (m[i] / denom);
  }
  o->step++;
}
