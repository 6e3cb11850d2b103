/* check_sched.c — learning-rate schedules: values at chosen epochs worked
 * out from the closed forms, the warmup ramp, and reduce-on-plateau's
 * patience, threshold, cooldown, floor and both modes. */
#include <check.h>
#include <math.h>

#include "mlp/sched.h"

#define TOL 1e-12

START_TEST(sched_1_constant) {
  MlprtSched s;
  mlprt_sched_constant(&s, 0.003);
  ck_assert_double_eq(mlprt_sched_lr(&s, 0), 0.003);
  ck_assert_double_eq(mlprt_sched_lr(&s, 12345), 0.003);
  ck_assert(!mlprt_sched_observe(&s, 1.0)); /* only plateau reacts to metrics */
  ck_assert_double_eq(mlprt_sched_lr(&s, 1), 0.003);
}
END_TEST

START_TEST(sched_2_step) {
  MlprtSched s;
  mlprt_sched_step(&s, 0.1, 3, 0.5);
  const int t[] = {0, 2, 3, 5, 6, 8, 9, 30};
  const double want[] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.1 / 1024};
  for (int i = 0; i < 8; i++) ck_assert_double_eq_tol(mlprt_sched_lr(&s, t[i]), want[i], TOL);
}
END_TEST

START_TEST(sched_3_exponential) {
  MlprtSched s;
  mlprt_sched_exponential(&s, 0.1, 0.9);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 0), 0.1, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 1), 0.09, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 2), 0.081, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 10), 0.034867844010, 1e-12);
}
END_TEST

START_TEST(sched_4_cosine) {
  /* No warmup: PyTorch's CosineAnnealingLR, (1 + cos(pi t / 10)) / 2 from 1 to 0. */
  MlprtSched s;
  mlprt_sched_cosine(&s, 1.0, 0, 10, 0.0);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 0), 1.0, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 3), 0.7938926261462366, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 5), 0.5, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 9), 0.024471741852423234, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 10), 0.0, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 50), 0.0, TOL); /* stays at the floor */
}
END_TEST

START_TEST(sched_5_cosine_warmup) {
  /* base 0.1, 4 warmup steps, cosine over steps 4..13 down to 0.01 */
  MlprtSched s;
  mlprt_sched_cosine(&s, 0.1, 4, 14, 0.01);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 0), 0.025, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 1), 0.05, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 3), 0.1, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 4), 0.1, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 9), 0.055, TOL); /* halfway: 0.01 + 0.09 / 2 */
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 14), 0.01, TOL);
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 1000), 0.01, TOL);
  /* rises through the warmup, never rises after it */
  for (int t = 1; t < 20; t++) {
    double prev = mlprt_sched_lr(&s, t - 1), cur = mlprt_sched_lr(&s, t);
    if (t < 4) ck_assert_double_gt(cur, prev);
    else ck_assert_double_le(cur, prev);
  }
}
END_TEST

START_TEST(sched_6_plateau_patience_cooldown_floor) {
  MlprtSched s;
  mlprt_sched_plateau(&s, 1.0);
  s.patience = 1;
  s.factor = 0.5;
  s.cooldown = 1;
  s.min_lr = 0.2;
  /* A flat metric: the first value sets best; each further epoch is bad.
   * Cuts come when bad epochs exceed patience (2 in a row); the epoch after
   * a cut is cooldown and not counted; the floor stops the third halving at
   * 0.2 and then no cut happens at all. */
  const bool cut[] = {false, false, true, false, false, true, false, false, true, false, false, false};
  const double lr[] = {1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2};
  for (int e = 0; e < 12; e++) {
    ck_assert_int_eq(mlprt_sched_observe(&s, 1.0), cut[e]);
    ck_assert_double_eq_tol(mlprt_sched_lr(&s, e), lr[e], TOL);
  }
  ck_assert_int_eq(s.cuts, 3);
}
END_TEST

START_TEST(sched_7_plateau_threshold) {
  MlprtSched s;
  mlprt_sched_plateau(&s, 0.01);
  s.patience = 0;
  /* relative threshold 1e-4: 0.99995 is not an improvement on 1.0 ... */
  ck_assert(!mlprt_sched_observe(&s, 1.0));
  ck_assert(mlprt_sched_observe(&s, 0.99995));
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 0), 0.001, TOL);
  /* ... but 0.9998 is, and resets the count */
  ck_assert(!mlprt_sched_observe(&s, 0.9998));
  ck_assert_double_eq(s.best, 0.9998);
  /* absolute threshold 0.1: 0.95 is not enough, 0.85 is */
  mlprt_sched_plateau(&s, 0.01);
  s.patience = 0;
  s.threshold = 0.1;
  s.threshold_abs = true;
  mlprt_sched_observe(&s, 1.0);
  ck_assert(mlprt_sched_observe(&s, 0.95));
  ck_assert(!mlprt_sched_observe(&s, 0.85));
  /* a NaN metric is never progress */
  ck_assert(mlprt_sched_observe(&s, NAN));
}
END_TEST

START_TEST(sched_8_plateau_maximize) {
  MlprtSched s;
  mlprt_sched_plateau(&s, 0.1);
  s.maximize = true;
  s.patience = 2;
  /* rising accuracy: no cut */
  const double acc[] = {0.5, 0.6, 0.7, 0.8, 0.9};
  for (int e = 0; e < 5; e++) ck_assert(!mlprt_sched_observe(&s, acc[e]));
  ck_assert_double_eq(mlprt_sched_lr(&s, 5), 0.1);
  /* falling accuracy counts as bad: the third bad epoch cuts */
  ck_assert(!mlprt_sched_observe(&s, 0.85));
  ck_assert(!mlprt_sched_observe(&s, 0.8));
  ck_assert(mlprt_sched_observe(&s, 0.7));
  ck_assert_double_eq_tol(mlprt_sched_lr(&s, 8), 0.01, TOL);
}
END_TEST

Suite *sched_suite(void); /* the runner finds it by name */
Suite *sched_suite(void) {
  Suite *s = suite_create("sched");
  TCase *tc = tcase_create("sched");
  tcase_add_test(tc, sched_1_constant);
  tcase_add_test(tc, sched_2_step);
  tcase_add_test(tc, sched_3_exponential);
  tcase_add_test(tc, sched_4_cosine);
  tcase_add_test(tc, sched_5_cosine_warmup);
  tcase_add_test(tc, sched_6_plateau_patience_cooldown_floor);
  tcase_add_test(tc, sched_7_plateau_threshold);
  tcase_add_test(tc, sched_8_plateau_maximize);
  suite_add_tcase(s, tc);
  return s;
}
