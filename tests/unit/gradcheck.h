/* gradcheck.h — finite-difference gradient checking shared by the layer and
 * loss suites (header-only so the test build needs no extra object).
 *
 * A kernel under test is reduced to a scalar objective L = sum_i r_i out_i,
 * with fixed random weights r, summed in double (for a loss, L is the loss
 * itself). The numerical gradient of L with respect to each element of an
 * input or parameter buffer is the central difference (L(x+h) - L(x-h)) / 2h
 * of float forwards; with h = 1e-2 and the sum in double, float rounding
 * contributes ~1e-5 and the truncation error ~h^2 f''' ~ 1e-4, while a wrong
 * backward is off by O(1) of the gradient's size. Inputs are kept a few h
 * away from kinks (relu at 0, ties in max pooling, hinge margins), where a
 * central difference would straddle two slopes. */
#ifndef MLP_GRADCHECK_H
#define MLP_GRADCHECK_H

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "mlp/tensor.h"

typedef struct {
  void (*forward)(void *ctx); /* recompute out from the current buffers */
  void *ctx;
  const float *out; /* (nout) what the objective reads after forward */
  const float *r;   /* (nout) objective weights; NULL: all ones */
  size_t nout;
} GcObjective;

#define GC_STEP 1e-2f

static inline double gc_eval(const GcObjective *o) {
  o->forward(o->ctx);
  double s = 0.0;
  for (size_t i = 0; i < o->nout; i++) s += (o->r ? (double)o->r[i] : 1.0) * o->out[i];
  return s;
}

/* How many elements of the analytic gradient g (n) of the objective with
 * respect to x (n) disagree with central differences, where agreement is
 * |g - num| <= atol + rtol |num| with atol = 4e-4 max|num| + 1e-6 and
 * rtol = 2e-3 (the kernels here stay below a quarter of that; a gradient
 * 1% off in one element fails). x is restored; the first disagreements are printed with
 * their label. */
static inline int gc_mismatches(const GcObjective *o, float *x, const float *g, size_t n,
                                const char *label) {
  double num_max = 0.0;
  double *num = mlprt_alloc_aligned(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    float keep = x[i];
    x[i] = keep + GC_STEP;
    double up = gc_eval(o);
    x[i] = keep - GC_STEP;
    double down = gc_eval(o);
    x[i] = keep;
    /* divide by the step actually taken, which float rounds */
    num[i] = (up - down) / ((double)(keep + GC_STEP) - (double)(keep - GC_STEP));
    if (fabs(num[i]) > num_max) num_max = fabs(num[i]);
  }
  gc_eval(o); /* leave out consistent with the restored x */
  int bad = 0;
  double atol = 4e-4 * num_max + 1e-6;
  for (size_t i = 0; i < n; i++) {
    if (fabs(g[i] - num[i]) <= atol + 2e-3 * fabs(num[i])) continue;
    if (bad++ < 3)
      fprintf(stderr, "gradcheck %s[%zu]: analytic %.7g numerical %.7g\n", label, i, (double)g[i], num[i]);
  }
  mlprt_free_aligned(num);
  return bad;
}

#define GC_ASSERT(o, x, g, n, label) \
  ck_assert_msg(gc_mismatches((o), (x), (g), (n), (label)) == 0, "gradient of %s is wrong", (label))

/* Objective weights and test inputs from the runtime's own RNG, so every run
 * sees the same numbers. */
static inline void gc_fill(float *x, size_t n, float lo, float hi, uint64_t stream) {
  mlprt_fill_uniform(x, n, lo, hi, 20240607, stream);
}

/* Values in [lo, hi) whose magnitude is at least 5 h: nothing sits on a kink
 * at zero. */
static inline void gc_fill_away_from_zero(float *x, size_t n, float lo, float hi, uint64_t stream) {
  gc_fill(x, n, lo, hi, stream);
  for (size_t i = 0; i < n; i++)
    if (fabsf(x[i]) < 5 * GC_STEP) x[i] = x[i] < 0.0f ? -5 * GC_STEP - 0.01f : 5 * GC_STEP + 0.01f;
}

#endif
