/* sched.h — learning-rate schedules. Consumes a schedule's settings and the
 * current epoch or step (and, for reduce-on-plateau, the monitored metric
 * after each epoch); produces the learning rate to pass to
 * mlprt_optim_step. Every value is computed in double from closed forms, so
 * the rate at step t never depends on how many steps were taken before it
 * (resuming from a checkpoint gives the same rates) — except plateau, whose
 * state is the history of the metric.
 *
 * The formulas follow PyTorch's schedulers (StepLR, ExponentialLR,
 * CosineAnnealingLR, ReduceLROnPlateau); t counts from 0. */
#ifndef MLP_SCHED_H
#define MLP_SCHED_H

#include <stdbool.h>

typedef enum {
  MLPRT_SCHED_CONSTANT,    /* lr = base */
  MLPRT_SCHED_STEP,        /* lr = base * gamma^floor(t / step_size) */
  MLPRT_SCHED_EXPONENTIAL, /* lr = base * gamma^t */
  MLPRT_SCHED_COSINE,      /* linear warmup, then cosine from base down to min_lr */
  MLPRT_SCHED_PLATEAU,     /* multiply by factor when the metric stops improving */
} MlprtSchedKind;

typedef struct {
  MlprtSchedKind kind;
  double base_lr;
  /* step, exponential */
  double gamma;       /* multiplicative decay */
  int step_size;      /* step: epochs between decays (>= 1) */
  /* cosine */
  int warmup;         /* t < warmup: lr = base * (t + 1) / warmup */
  int total;          /* t >= total: lr = min_lr; cosine over [warmup, total) */
  double min_lr;      /* cosine and plateau: the floor */
  /* plateau settings */
  bool maximize;      /* the metric improves upward (accuracy) rather than down (loss) */
  double factor;      /* in (0, 1) */
  int patience;       /* epochs without improvement tolerated before a cut */
  double threshold;   /* an improvement must beat best by this much ... */
  bool threshold_abs; /* ... absolutely, or (false) relatively: best * (1 -/+ threshold) */
  int cooldown;       /* epochs after a cut during which bad epochs are not counted */
  /* plateau state */
  double lr;          /* the current rate */
  int epochs;         /* metrics observed so far */
  double best;        /* best metric so far */
  int bad_epochs;     /* epochs since best improved */
  int cooldown_left;
  int cuts;           /* how many times lr was reduced, for logs and tests */
} MlprtSched;

void mlprt_sched_constant(MlprtSched *s, double lr);
void mlprt_sched_step(MlprtSched *s, double lr, int step_size, double gamma);
void mlprt_sched_exponential(MlprtSched *s, double lr, double gamma);
/* warmup may be 0; total > warmup. With warmup 0 this is PyTorch's
 * CosineAnnealingLR with T_max = total and eta_min = min_lr. */
void mlprt_sched_cosine(MlprtSched *s, double lr, int warmup, int total, double min_lr);
/* PyTorch's ReduceLROnPlateau defaults: factor 0.1, patience 10,
 * threshold 1e-4 relative, cooldown 0, min_lr 0, minimizing. Set the fields
 * afterwards to change them. */
void mlprt_sched_plateau(MlprtSched *s, double lr);

/* The learning rate at epoch or step t >= 0 (plateau: the current rate,
 * whatever t is). */
double mlprt_sched_lr(const MlprtSched *s, int t);

/* Reduce-on-plateau: report the monitored metric at the end of an epoch.
 * Returns true when this call cut the learning rate. A NaN metric counts as
 * no improvement. Other kinds ignore the call and return false. */
bool mlprt_sched_observe(MlprtSched *s, double metric);

#endif
