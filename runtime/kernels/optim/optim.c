/* optim.c — optimizer configuration, state and dispatch. Consumes an
 * MlprtOptConfig and a slab size; produces zeroed optimizer state and routes
 * each step to the family's kernel (sgd.c, adam.c, rmsprop.c). */
#include "mlp/optim.h"

#include "mlp/tensor.h"

MlprtOptConfig mlprt_optim_defaults(MlprtOptKind kind) {
  MlprtOptConfig c = {.kind = kind};
  switch (kind) {
  case MLPRT_OPT_SGD:
    c.lr = 0.01;
    break;
  case MLPRT_OPT_ADAM:
  case MLPRT_OPT_ADAMW:
    c.lr = 0.001;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = kind == MLPRT_OPT_ADAMW ? 0.01 : 0.0;
    break;
  case MLPRT_OPT_RMSPROP:
    c.lr = 0.01;
    c.alpha = 0.99;
    c.eps = 1e-8;
    break;
  }
  return c;
}

/* Zeroed state for n floats, or NULL for an empty slab. */
static float *state_alloc(size_t n) {
  return n ? mlprt_alloc_aligned(n * sizeof(float)) : NULL;
}

void mlprt_optim_init(MlprtOptim *o, const MlprtOptConfig *cfg, size_t n) {
  MLPRT_CHECK(o && cfg, "optimizer and config must not be NULL");
  MLPRT_CHECK(cfg->lr >= 0.0, "learning rate %g < 0", cfg->lr);
  MLPRT_CHECK(cfg->momentum >= 0.0, "momentum %g < 0", cfg->momentum);
  MLPRT_CHECK(cfg->eps >= 0.0, "eps %g < 0", cfg->eps);
  MLPRT_CHECK(cfg->l1 >= 0.0 && cfg->l2 >= 0.0 && cfg->weight_decay >= 0.0,
              "negative penalty (l1 %g, l2 %g, weight_decay %g)", cfg->l1, cfg->l2, cfg->weight_decay);
  *o = (MlprtOptim){.cfg = *cfg, .n = n};
  switch (cfg->kind) {
  case MLPRT_OPT_SGD:
    MLPRT_CHECK(!cfg->nesterov || (cfg->momentum > 0.0 && cfg->dampening == 0.0),
                "Nesterov momentum needs momentum > 0 and dampening 0");
    if (cfg->momentum != 0.0) o->buf = state_alloc(n);
    break;
  case MLPRT_OPT_ADAM:
  case MLPRT_OPT_ADAMW:
    MLPRT_CHECK(cfg->beta1 >= 0.0 && cfg->beta1 < 1.0f, "beta1 %g not in [0, 1)", cfg->beta1);
    MLPRT_CHECK(cfg->beta2 >= 0.0 && cfg->beta2 < 1.0f, "beta2 %g not in [0, 1)", cfg->beta2);
    o->buf = state_alloc(n);
    o->sq = state_alloc(n);
    break;
  case MLPRT_OPT_RMSPROP:
    MLPRT_CHECK(cfg->alpha >= 0.0, "alpha %g < 0", cfg->alpha);
    o->sq = state_alloc(n);
    if (cfg->momentum != 0.0) o->buf = state_alloc(n);
    if (cfg->centered) o->gavg = state_alloc(n);
    break;
  default:
    MLPRT_FATAL("unknown optimizer kind %d", (int)cfg->kind);
  }
}

void mlprt_optim_free(MlprtOptim *o) {
  mlprt_free_aligned(o->buf);
  mlprt_free_aligned(o->sq);
  mlprt_free_aligned(o->gavg);
  o->buf = o->sq = o->gavg = NULL;
}

void mlprt_optim_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr) {
  switch (o->cfg.kind) {
  case MLPRT_OPT_SGD:
    mlprt_sgd_step(o, param, grad, decay, lr);
    break;
  case MLPRT_OPT_ADAM:
  case MLPRT_OPT_ADAMW:
    mlprt_adam_step(o, param, grad, decay, lr);
    break;
  case MLPRT_OPT_RMSPROP:
    mlprt_rmsprop_step(o, param, grad, decay, lr);
    break;
  }
}
