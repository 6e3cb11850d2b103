/* sched.c — learning-rate schedules (see mlp/sched.h). Consumes schedule
 * settings, a step or epoch count and, for plateau, the monitored metric;
 * produces the learning rate. */
#include "mlp/sched.h"

#include <math.h>

#include "mlp/tensor.h"

static void sched_base(MlprtSched *s, MlprtSchedKind kind, double lr) {
  MLPRT_CHECK(s, "schedule must not be NULL");
  MLPRT_CHECK(lr >= 0.0, "learning rate %g < 0", lr);
  *s = (MlprtSched){.kind = kind, .base_lr = lr, .lr = lr};
}

void mlprt_sched_constant(MlprtSched *s, double lr) {
  sched_base(s, MLPRT_SCHED_CONSTANT, lr);
}

void mlprt_sched_step(MlprtSched *s, double lr, int step_size, double gamma) {
  sched_base(s, MLPRT_SCHED_STEP, lr);
  MLPRT_CHECK(step_size >= 1, "step_size %d < 1", step_size);
  MLPRT_CHECK(gamma > 0.0, "gamma %g <= 0", gamma);
  s->step_size = step_size;
  s->gamma = gamma;
}

void mlprt_sched_exponential(MlprtSched *s, double lr, double gamma) {
  sched_base(s, MLPRT_SCHED_EXPONENTIAL, lr);
  MLPRT_CHECK(gamma > 0.0, "gamma %g <= 0", gamma);
  s->gamma = gamma;
}

void mlprt_sched_cosine(MlprtSched *s, double lr, int warmup, int total, double min_lr) {
  sched_base(s, MLPRT_SCHED_COSINE, lr);
  MLPRT_CHECK(warmup >= 0 && total > warmup, "cosine needs 0 <= warmup (%d) < total (%d)", warmup, total);
  MLPRT_CHECK(min_lr >= 0.0 && min_lr <= lr, "min_lr %g not in [0, lr %g]", min_lr, lr);
  s->warmup = warmup;
  s->total = total;
  s->min_lr = min_lr;
}

void mlprt_sched_plateau(MlprtSched *s, double lr) {
  sched_base(s, MLPRT_SCHED_PLATEAU, lr);
  s->factor = 0.1;
  s->patience = 10;
  s->threshold = 1e-4;
}

double mlprt_sched_lr(const MlprtSched *s, int t) {
  MLPRT_CHECK(t >= 0, "schedule step %d < 0", t);
  switch (s->kind) {
  case MLPRT_SCHED_CONSTANT:
    return s->base_lr;
  case MLPRT_SCHED_STEP:
    return s->base_lr * pow(s->gamma, t / s->step_size);
  case MLPRT_SCHED_EXPONENTIAL:
    return s->base_lr * pow(s->gamma, t);
  case MLPRT_SCHED_COSINE:
    /* Warmup starts at base / warmup rather than 0, so the first step
     * already learns. */
    if (t < s->warmup) return s->base_lr * (t + 1) / s->warmup;
    if (t >= s->total) return s->min_lr;
    {
      double progress = (double)(t - s->warmup) / (s->total - s->warmup);
      return s->min_lr + (s->base_lr - s->min_lr) * (1.0 + cos(M_PI * progress)) / 2.0;
    }
  case MLPRT_SCHED_PLATEAU:
    return s->lr;
  }
  MLPRT_FATAL("unknown schedule kind %d", (int)s->kind);
}

/* Whether metric beats best by the threshold; comparisons with NaN are
 * false, so a NaN metric never counts as progress. */
static bool plateau_better(const MlprtSched *s, double metric) {
  if (s->maximize)
    return s->threshold_abs ? metric > s->best + s->threshold : metric > s->best * (1.0 + s->threshold);
  return s->threshold_abs ? metric < s->best - s->threshold : metric < s->best * (1.0 - s->threshold);
}

bool mlprt_sched_observe(MlprtSched *s, double metric) {
  if (s->kind != MLPRT_SCHED_PLATEAU) return false;
  MLPRT_CHECK(s->factor > 0.0 && s->factor < 1.0, "plateau factor %g not in (0, 1)", s->factor);
  /* best starts at the worst value on the first observation, not at init:
   * maximize may be set after mlprt_sched_plateau. */
  if (s->epochs++ == 0) s->best = s->maximize ? -INFINITY : INFINITY;
  if (plateau_better(s, metric)) {
    s->best = metric;
    s->bad_epochs = 0;
  } else {
    s->bad_epochs++;
  }
  if (s->cooldown_left > 0) {
    s->cooldown_left--;
    s->bad_epochs = 0;
  }
  if (s->bad_epochs <= s->patience) return false;
  s->cooldown_left = s->cooldown;
  s->bad_epochs = 0;
  double next = fmax(s->lr * s->factor, s->min_lr);
  /* PyTorch skips cuts smaller than 1e-8 (the rate already sits at min_lr). */
  if (s->lr - next <= 1e-8) return false;
  s->lr = next;
  s->cuts++;
  return true;
}
