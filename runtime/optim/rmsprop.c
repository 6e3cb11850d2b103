/* rmsprop.c — RMSprop (Hinton's lecture 6e; Graves 2013 for the centered
 * form), PyTorch's formulation with optional momentum. Consumes param[n] and
 * grad[n]; updates param and the running averages in one flat loop. */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"
#include "reg.h"

/* With g = grad + penalties:
 *   s = alpha * s + (1 - alpha) * g^2
 *   centered: a = alpha * a + (1 - alpha) * g, r = sqrt(s - a^2) + eps
 *   otherwise: r = sqrt(s) + eps
 *   momentum: b = momentum * b + g / r, p -= lr * b;  else p -= lr * g / r
 * eps is added outside the square root, as in PyTorch (TensorFlow adds it
 * inside, which matters when s is tiny). */
void mlprt_rmsprop_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  const MlprtOptConfig *c = &o->cfg;
  MLPRT_CHECK(param && grad, "parameter and gradient slabs must not be NULL");
  MLPRT_CHECK(o->sq || o->n == 0, "RMSprop state missing");
  MLPRT_CHECK(c->momentum == 0.0 || o->buf || o->n == 0, "RMSprop momentum state missing");
  MLPRT_CHECK(!c->centered || o->gavg || o->n == 0, "centered RMSprop state missing");
  const float alpha = (float)c->alpha, a1 = (float)(1.0 - c->alpha);
  const float mom = (float)c->momentum, eps = (float)c->eps;
  const float shrink = (float)(1.0 - lr * c->weight_decay);
  const float neg_lr = (float)-lr;
  const float l1 = (float)c->l1, l2 = (float)c->l2;
  for (size_t i = 0; i < o->n; i++) {
    float p = param[i];
    bool dec = mlprt_reg_decays(decay, i);
    float g = dec ? mlprt_reg_grad(grad[i], p, l1, l2) : grad[i];
    float s = o->sq[i] * alpha + a1 * g * g;
    o->sq[i] = s;
    float r;
    if (c->centered) {
      float a = o->gavg[i] * alpha + a1 * g;
      o->gavg[i] = a;
      r = sqrtf(s + -1.0f * a * a) + eps;
    } else {
      r = sqrtf(s) + eps;
    }
    if (dec && c->weight_decay != 0.0) p *= shrink;
    if (c->momentum != 0.0) {
      float b = o->buf[i] * mom + g / r;
      o->buf[i] = b;
      param[i] = p + neg_lr * b;
    } else {
      param[i] = p + neg_lr * (g / r);
    }
  }
  o->step++;
}
