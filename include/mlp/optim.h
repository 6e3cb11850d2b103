/* optim.h — optimizers, L1/L2 regularization and gradient clipping over flat
 * parameter slabs. Consumes a parameter slab float param[n] and a gradient
 * slab float grad[n] of the same layout (the training arena keeps every
 * weight and bias of a model in one slab, llm.c style); produces the updated
 * parameters in place. Every update is one flat loop over n elements in a
 * fixed order, so results are bit-identical for any thread setting.
 *
 * The formulas are PyTorch 1.13's (torch.optim.SGD, Adam, AdamW, RMSprop and
 * torch.nn.utils.clip_grad_norm_ / clip_grad_value_), so a model trained here
 * and in PyTorch from the same weights and batches follows the same path.
 *
 * Regularization, and how the three penalties differ:
 *   l2            classic L2: grad += l2 * p before the optimizer sees the
 *                 gradient (PyTorch's `weight_decay` argument of SGD, Adam and
 *                 RMSprop). With an adaptive optimizer this term is divided by
 *                 the running RMS of the gradient like the rest of it, so
 *                 weights with large gradients are barely decayed.
 *   weight_decay  decoupled decay (Loshchilov & Hutter, AdamW):
 *                 p -= lr * weight_decay * p, applied to the weight itself
 *                 before the update, untouched by Adam's scaling; every weight
 *                 shrinks at the same relative rate. PyTorch's AdamW
 *                 `weight_decay`. Allowed for every optimizer (SGD + decoupled
 *                 decay is SGDW).
 *   l1            grad += l1 * sign(p): the gradient of l1 * sum |p|, which
 *                 drives small weights to exactly zero over time.
 *
 * Parameters that must not be decayed (biases, batch/layer norm scales and
 * shifts) are exempted by a per-element mask: decay[i] != 0 means parameter i
 * takes l1, l2 and weight_decay; decay == NULL decays everything. The
 * compiler builds the mask once from the memory plan. A program may instead
 * keep decayed and exempt parameters in two slabs with one MlprtOptim each
 * (the second with l1 = l2 = weight_decay = 0); both give the same numbers.
 *
 * The order of one training step, as in PyTorch: zero the grads, backward,
 * clip (by norm or value), then mlprt_optim_step. Clipping therefore sees the
 * loss gradient only, not the penalty terms. */
#ifndef MLP_OPTIM_H
#define MLP_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  MLPRT_OPT_SGD,     /* plain, momentum or Nesterov */
  MLPRT_OPT_ADAM,
  MLPRT_OPT_ADAMW,   /* Adam with a non-zero default weight_decay (0.01) */
  MLPRT_OPT_RMSPROP, /* optional momentum and centering */
} MlprtOptKind;

/* Hyperparameters are doubles and every derived per-step scalar (1 - beta1,
 * the bias corrections, 1 - lr * weight_decay) is computed in double and
 * rounded to float once, as PyTorch computes them in Python: 1 - 0.999 in
 * float32 arithmetic is 1.3e-5 off in relative terms, enough to drift. */
typedef struct {
  MlprtOptKind kind;
  double lr;           /* base learning rate (a schedule passes the current one to step) */
  double momentum;     /* SGD, RMSprop; 0 = none */
  double dampening;    /* SGD: scales the gradient entering the momentum buffer by 1 - dampening */
  bool nesterov;       /* SGD: needs momentum > 0 and dampening == 0, as in PyTorch */
  double beta1, beta2; /* Adam(W): decay rates of the first and second moments */
  double alpha;        /* RMSprop: decay rate of the squared-gradient average */
  double eps;          /* Adam(W), RMSprop: added to the denominator */
  bool centered;       /* RMSprop: divide by the gradient's estimated variance, not its RMS */
  double l1;           /* L1 penalty coefficient (gradient term) */
  double l2;           /* L2 penalty coefficient (gradient term) */
  double weight_decay; /* decoupled decay rate */
} MlprtOptConfig;

/* PyTorch's defaults for kind: SGD lr 0.01; Adam lr 0.001, betas 0.9/0.999,
 * eps 1e-8; AdamW the same with weight_decay 0.01; RMSprop lr 0.01,
 * alpha 0.99, eps 1e-8; everything else zero or false. */
MlprtOptConfig mlprt_optim_defaults(MlprtOptKind kind);

/* An optimizer's state for one slab of n parameters. */
typedef struct {
  MlprtOptConfig cfg;
  size_t n;
  int64_t step;   /* updates taken so far (Adam's bias correction, SGD's first step) */
  float *buf;     /* [n] SGD/RMSprop momentum buffer or Adam's first moment; NULL if unused */
  float *sq;      /* [n] Adam's second moment or RMSprop's squared-gradient average */
  float *gavg;    /* [n] centered RMSprop's gradient average */
} MlprtOptim;

/* Check cfg (ranges as PyTorch checks them; aborts with a message when one
 * is out of range) and allocate zeroed state for n parameters. */
void mlprt_optim_init(MlprtOptim *o, const MlprtOptConfig *cfg, size_t n);
void mlprt_optim_free(MlprtOptim *o);

/* One update of param[n] from grad[n] with learning rate lr (the schedule's
 * current value; cfg.lr when there is none). decay is [n] or NULL (see the
 * top of this file). grad is not modified; param, grad, decay and the state
 * must not overlap (the kernels' loops are vectorized on that promise). */
void mlprt_optim_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr);

/* The kernels mlprt_optim_step dispatches to, one per family; generated code
 * may call them directly. Each increments o->step. */
void mlprt_sgd_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr);
void mlprt_adam_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr);
void mlprt_rmsprop_step(MlprtOptim *o, float *param, const float *grad, const uint8_t *decay, double lr);

/* The penalty added to the loss for reporting: l1 * sum |p| + l2/2 * sum p^2
 * over the decayed parameters (decay as above). Its gradient is exactly the
 * term the optimizers add, so a reported "loss + penalty" is what they
 * minimise. Summed in double, in index order. */
double mlprt_reg_penalty(const float *param, const uint8_t *decay, size_t n, double l1, double l2);

/* Scale grad[n] so its L2 norm is at most max_norm: every element is
 * multiplied by max_norm / (norm + 1e-6) when that is below 1. Returns the
 * norm before clipping (summed in double, in index order). A non-finite norm
 * (an inf or NaN gradient) leaves grad untouched and is returned so the
 * caller can stop the run with a clear message. */
float mlprt_clip_grad_norm(float *grad, size_t n, float max_norm);
/* Clamp every element of grad[n] to [-clip, clip]; NaNs stay NaN. */
void mlprt_clip_grad_value(float *grad, size_t n, float clip);

#endif
