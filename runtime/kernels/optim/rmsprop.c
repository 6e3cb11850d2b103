/* rmsprop.c — RMSprop (Hinton's lecture 6e; Graves 2013 for the centered
 * form), PyTorch's formulation with optional momentum. Consumes param[n] and
 * grad[n]; updates param and the running averages in one flat loop. */
#include <math.h>

#include "mlp/optim.h"
#include "mlp/tensor.h"
#include "reg.h"

/* Per-step scalars, rounded to float once. */
typedef struct {
  float alpha, a1; /* decay rate of the averages and its complement */
  float mom, eps, l1, l2, shrink, neg_lr;
} RmsStep;

/* With g = grad + penalties:
 *   s = alpha * s + (1 - alpha) * g^2
 *   centered: a = alpha * a + (1 - alpha) * g, r = sqrt(s - a^2) + eps
 *   otherwise: r = sqrt(s) + eps
 *   momentum: b = momentum * b + g / r, p -= lr * b;  else p -= lr * g / r
 * eps is added outside the square root, as in PyTorch (TensorFlow adds it
 * inside, which matters when s is tiny). masked, centered and momentum are
 * constants in each call. */
MLPRT_INLINE void rms_loop(const RmsStep *k, float *restrict param, const float *restrict grad,
                           float *restrict sq, float *restrict gavg, float *restrict buf,
                           const uint8_t *restrict decay, size_t n, bool masked, bool centered,
                           bool momentum) {
  for (size_t i = 0; i < n; i++) {
    float p = param[i];
    float dec = mlprt_reg_weight(decay, i, masked);
    float g = mlprt_reg_grad(grad[i], p, dec, k->l1, k->l2);
    float s = sq[i] * k->alpha + k->a1 * g * g;
    sq[i] = s;
    float r;
    if (centered) {
      float a = gavg[i] * k->alpha + k->a1 * g;
      gavg[i] = a;
      r = sqrtf(s + -1.0f * a * a) + k->eps;
    } else {
      r = sqrtf(s) + k->eps;
    }
    p *= mlprt_reg_shrink(dec, k->shrink);
    if (momentum) {
      float b = buf[i] * k->mom + g / r;
      buf[i] = b;
      param[i] = p + k->neg_lr * b;
    } else {
      param[i] = p + k->neg_lr * (g / r);
    }
  }
}

void mlprt_rmsprop_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  const MlprtOptConfig *c = &o->cfg;
  MLPRT_CHECK(param && grad, "parameter and gradient slabs must not be NULL");
  MLPRT_CHECK(o->sq || o->n == 0, "RMSprop state missing");
  MLPRT_CHECK(c->momentum == 0.0 || o->buf || o->n == 0, "RMSprop momentum state missing");
  MLPRT_CHECK(!c->centered || o->gavg || o->n == 0, "centered RMSprop state missing");
  RmsStep k = {
      .alpha = (float)c->alpha,
      .a1 = (float)(1.0 - c->alpha),
      .mom = (float)c->momentum,
      .eps = (float)c->eps,
      .l1 = (float)c->l1,
      .l2 = (float)c->l2,
      .shrink = (float)(1.0 - lr * c->weight_decay),
      .neg_lr = (float)-lr,
  };
  /* one straight loop per combination of the three switches */
  switch ((decay != NULL) * 4 + c->centered * 2 + (c->momentum != 0.0)) {
  case 0: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, false, false, false); break;
  case 1: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, false, false, true); break;
  case 2: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, false, true, false); break;
  case 3: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, false, true, true); break;
  case 4: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, true, false, false); break;
  case 5: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, true, false, true); break;
  case 6: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, true, true, false); break;
  default: rms_loop(&k, param, grad, o->sq, o->gavg, o->buf, decay, o->n, true, true, true); break;
  }
  o->step++;
}
