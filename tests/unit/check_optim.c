/* check_optim.c — the optimizers, L1/L2 regularization and gradient
 * clipping: one and two steps against values worked out by hand from the
 * formulas in mlp/optim.h (they agree with torch.optim to float rounding),
 * convergence on a quadratic, the decay mask, and determinism. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "mlp/optim.h"

/* Run a one-parameter optimizer from p0 through the gradients g[k] at a
 * constant learning rate; out[k] is the parameter after step k. */
static void run1(const MlprtOptConfig *c, float p0, const float *g, int steps, float *out) {
  MlprtOptim o;
  mlprt_optim_init(&o, c, 1);
  float p = p0;
  for (int k = 0; k < steps; k++) {
    mlprt_optim_step(&o, &p, &g[k], NULL, c->lr);
    out[k] = p;
  }
  ck_assert_int_eq(o.step, steps);
  mlprt_optim_free(&o);
}

#define TOL 2e-6

START_TEST(optim_1_defaults) {
  MlprtOptConfig a = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  ck_assert_double_eq(a.lr, 0.001);
  ck_assert_double_eq(a.beta1, 0.9);
  ck_assert_double_eq(a.beta2, 0.999);
  ck_assert_double_eq(a.eps, 1e-8);
  ck_assert_double_eq(a.weight_decay, 0.0);
  ck_assert_double_eq(mlprt_optim_defaults(MLPRT_OPT_ADAMW).weight_decay, 0.01);
  MlprtOptConfig r = mlprt_optim_defaults(MLPRT_OPT_RMSPROP);
  ck_assert_double_eq(r.lr, 0.01);
  ck_assert_double_eq(r.alpha, 0.99);
  ck_assert_double_eq(mlprt_optim_defaults(MLPRT_OPT_SGD).lr, 0.01);
}
END_TEST

START_TEST(optim_2_sgd_plain) {
  /* p = 1 - 0.1 * 0.5 = 0.95, then 0.95 - 0.1 * (-2) = 1.15 */
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 0.1;
  float g[2] = {0.5f, -2.0f}, p[2];
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.95f, TOL);
  ck_assert_float_eq_tol(p[1], 1.15f, TOL);
}
END_TEST

START_TEST(optim_3_sgd_momentum) {
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 0.1;
  c.momentum = 0.9;
  float g[2] = {0.5f, 0.5f}, p[2];
  /* b1 = 0.5 (copied, not damped), p = 0.95; b2 = 0.9 * 0.5 + 0.5 = 0.95, p = 0.95 - 0.095 */
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.95f, TOL);
  ck_assert_float_eq_tol(p[1], 0.855f, TOL);
  /* dampening 0.5: b2 = 0.45 + 0.5 * 0.5 = 0.7, p = 0.95 - 0.07 */
  c.dampening = 0.5;
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.95f, TOL);
  ck_assert_float_eq_tol(p[1], 0.88f, TOL);
}
END_TEST

START_TEST(optim_4_sgd_nesterov) {
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 0.1;
  c.momentum = 0.9;
  c.nesterov = true;
  float g[2] = {0.5f, 0.5f}, p[2];
  /* b1 = 0.5, d = 0.5 + 0.45 = 0.95, p = 0.905;
   * b2 = 0.95, d = 0.5 + 0.855 = 1.355, p = 0.905 - 0.1355 = 0.7695 */
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.905f, TOL);
  ck_assert_float_eq_tol(p[1], 0.7695f, TOL);
}
END_TEST

START_TEST(optim_5_adam) {
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  c.lr = 0.1;
  float g[2] = {0.5f, -0.25f}, p[2];
  /* step 1: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25: p = 1 - 0.1 * 0.5 / 0.5 = 0.9.
   * step 2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
   * m^ = 0.02 / 0.19 = 0.1052632, v^ = 0.00031225 / 0.001999 = 0.1562031,
   * p = 0.9 - 0.1 * 0.1052632 / 0.3952254 = 0.8733664 */
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.9f, TOL);
  ck_assert_float_eq_tol(p[1], 0.8733664f, TOL);
}
END_TEST

START_TEST(optim_6_adamw_vs_l2) {
  float g[2] = {0.5f, -0.25f}, p[2];
  /* AdamW, weight_decay 0.1: p = 1 * (1 - 0.1 * 0.1) - 0.1 = 0.89 on step 1;
   * step 2: 0.89 * 0.99 - 0.0266336 = 0.8544664 */
  MlprtOptConfig w = mlprt_optim_defaults(MLPRT_OPT_ADAMW);
  w.lr = 0.1;
  w.weight_decay = 0.1;
  run1(&w, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.89f, TOL);
  ck_assert_float_eq_tol(p[1], 0.8544664f, TOL);
  /* Adam with L2 0.1 as a gradient term: step 1 sees g = 0.6 and Adam's
   * normalisation cancels its size, so the decay has no effect at all: 0.9.
   * Step 2 sees g = -0.25 + 0.1 * 0.9 = -0.16: m = 0.054 - 0.016 = 0.038,
   * v = 0.00035964 + 0.0000256 = 0.00038524, m^ = 0.2, v^ = 0.1927164,
   * p = 0.9 - 0.1 * 0.2 / 0.4389947 = 0.8544414. */
  MlprtOptConfig l2 = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  l2.lr = 0.1;
  l2.l2 = 0.1;
  run1(&l2, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.9f, TOL);
  ck_assert_float_eq_tol(p[1], 0.8544414f, TOL);
}
END_TEST

START_TEST(optim_7_rmsprop) {
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_RMSPROP);
  float g[2] = {0.5f, -0.25f}, p[2];
  /* s1 = 0.01 * 0.25 = 0.0025, r = 0.05: p = 1 - 0.01 * 0.5 / 0.05 = 0.9;
   * s2 = 0.002475 + 0.000625 = 0.0031, r = 0.0556776: p = 0.9 + 0.01 * 0.25 / r */
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.9f, TOL);
  ck_assert_float_eq_tol(p[1], 0.9449013f, TOL);
  /* centered: a1 = 0.005, r = sqrt(0.0025 - 0.000025) = 0.0497494: p = 0.8994963;
   * a2 = 0.00495 - 0.0025 = 0.00245, r = sqrt(0.0031 - 0.0000060025) = 0.0556237 */
  c.centered = true;
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.8994963f, TOL);
  ck_assert_float_eq_tol(p[1], 0.9444411f, TOL);
  /* momentum 0.9: b1 = 10, p = 0.9; b2 = 9 - 0.25 / 0.0556776 = 4.5098656, p = 0.9 - 0.0450987 */
  c.centered = false;
  c.momentum = 0.9;
  run1(&c, 1.0f, g, 2, p);
  ck_assert_float_eq_tol(p[0], 0.9f, TOL);
  ck_assert_float_eq_tol(p[1], 0.8549014f, TOL);
}
END_TEST

START_TEST(optim_8_l1_l2_terms) {
  /* With a zero loss gradient and lr 1, one SGD step moves each weight by
   * exactly minus its penalty gradient l1 * sign(p) + l2 * p. */
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 1.0;
  c.l1 = 0.125;
  c.l2 = 0.5;
  float p[4] = {2.0f, -1.0f, 0.0f, 0.25f}, g[4] = {0};
  MlprtOptim o;
  mlprt_optim_init(&o, &c, 4);
  mlprt_optim_step(&o, p, g, NULL, c.lr);
  ck_assert_float_eq_tol(p[0], 2.0f - 0.125f - 1.0f, TOL);
  ck_assert_float_eq_tol(p[1], -1.0f + 0.125f + 0.5f, TOL);
  ck_assert_float_eq(p[2], 0.0f); /* sign(0) = 0: an exact zero stays zero */
  ck_assert_float_eq_tol(p[3], 0.25f - 0.125f - 0.125f, TOL);
  mlprt_optim_free(&o);
}
END_TEST

START_TEST(optim_9_penalty_matches_gradient) {
  /* The reported penalty l1 * sum|p| + l2/2 * sum p^2 and the term the
   * optimizers add are one function and its derivative: check by central
   * differences at each weight. */
  const double l1 = 0.03, l2 = 0.2;
  float p[5] = {1.5f, -0.75f, 0.3f, -2.0f, 0.6f};
  uint8_t mask[5] = {1, 1, 0, 1, 1};
  ck_assert_double_eq_tol(mlprt_reg_penalty(p, NULL, 5, l1, 0.0), l1 * 5.15, 1e-6);
  ck_assert_double_eq_tol(mlprt_reg_penalty(p, mask, 5, 0.0, l2), 0.1 * (2.25 + 0.5625 + 4 + 0.36), 1e-6);
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 1.0;
  c.l1 = l1;
  c.l2 = l2;
  float q[5], zero[5] = {0};
  memcpy(q, p, sizeof p);
  MlprtOptim o;
  mlprt_optim_init(&o, &c, 5);
  mlprt_optim_step(&o, q, zero, mask, 1.0);
  mlprt_optim_free(&o);
  for (int i = 0; i < 5; i++) {
    const float h = 1e-2f;
    float save = p[i];
    p[i] = save + h;
    double up = mlprt_reg_penalty(p, mask, 5, l1, l2);
    p[i] = save - h;
    double down = mlprt_reg_penalty(p, mask, 5, l1, l2);
    p[i] = save;
    double fd = (up - down) / (2.0 * h);
    ck_assert_double_eq_tol(save - q[i], fd, 1e-5);
  }
}
END_TEST

START_TEST(optim_10_decay_mask) {
  /* Masked-out parameters (biases) take neither L1/L2 nor decoupled decay;
   * their update equals the undecayed optimizer's. */
  float g[3] = {0.5f, -0.3f, 0.2f};
  uint8_t mask[3] = {1, 0, 1};
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_ADAMW);
  c.lr = 0.05;
  c.weight_decay = 0.5;
  c.l1 = 0.01;
  c.l2 = 0.02;
  MlprtOptConfig plain = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  plain.lr = 0.05;
  MlprtOptim a, b;
  mlprt_optim_init(&a, &c, 3);
  mlprt_optim_init(&b, &plain, 3);
  float pa[3] = {1.0f, 1.0f, 1.0f}, pb[3] = {1.0f, 1.0f, 1.0f};
  for (int k = 0; k < 3; k++) {
    mlprt_optim_step(&a, pa, g, mask, c.lr);
    mlprt_optim_step(&b, pb, g, NULL, plain.lr);
  }
  ck_assert_float_eq(pa[1], pb[1]);
  ck_assert_float_lt(pa[0], pb[0] - 0.05f); /* decayed: visibly smaller */
  ck_assert_float_lt(pa[2], pb[2] - 0.05f);
  mlprt_optim_free(&a);
  mlprt_optim_free(&b);
}
END_TEST

/* f(x) = sum_i a_i / 2 * (x_i - c_i)^2, an ill-conditioned bowl (a from 0.5
 * to 8); returns the largest |x_i - c_i| after steps updates from x = 0. */
static double quadratic_error(const MlprtOptConfig *c, int steps) {
  enum { N = 16 };
  float x[N] = {0}, g[N], a[N], ctr[N];
  for (int i = 0; i < N; i++) {
    a[i] = 0.5f + 7.5f * (float)i / (N - 1);
    ctr[i] = (float)((i % 5) - 2) * 0.75f;
  }
  MlprtOptim o;
  mlprt_optim_init(&o, c, N);
  for (int k = 0; k < steps; k++) {
    for (int i = 0; i < N; i++) g[i] = a[i] * (x[i] - ctr[i]);
    mlprt_optim_step(&o, x, g, NULL, c->lr);
  }
  mlprt_optim_free(&o);
  double err = 0.0;
  for (int i = 0; i < N; i++) err = fmax(err, fabs(x[i] - ctr[i]));
  return err;
}

START_TEST(optim_11_quadratic_convergence) {
  MlprtOptConfig c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 0.1;
  ck_assert_double_lt(quadratic_error(&c, 300), 1e-4);
  c.momentum = 0.9;
  ck_assert_double_lt(quadratic_error(&c, 300), 1e-4);
  c.nesterov = true;
  ck_assert_double_lt(quadratic_error(&c, 300), 1e-4);
  /* Adam and RMSprop at a fixed lr hover within about lr of the minimum,
   * so they get a smaller step and a looser bound. */
  MlprtOptConfig a = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  a.lr = 0.05;
  ck_assert_double_lt(quadratic_error(&a, 1000), 1e-2);
  MlprtOptConfig r = mlprt_optim_defaults(MLPRT_OPT_RMSPROP);
  r.lr = 0.003;
  ck_assert_double_lt(quadratic_error(&r, 2000), 2e-2);
  r.centered = true;
  r.momentum = 0.5;
  ck_assert_double_lt(quadratic_error(&r, 2000), 2e-2);
  /* and a diverging setting is caught by the same measure: plain SGD with
   * lr above 2 / max(a) = 0.25 blows up */
  c = mlprt_optim_defaults(MLPRT_OPT_SGD);
  c.lr = 0.3;
  ck_assert_double_gt(quadratic_error(&c, 100), 1.0);
}
END_TEST

START_TEST(optim_12_clip_norm) {
  float g[2] = {3.0f, 4.0f};
  ck_assert_float_eq_tol(mlprt_clip_grad_norm(g, 2, 1.0f), 5.0f, 1e-6);
  ck_assert_float_eq_tol(g[0], 0.6f, 1e-6);
  ck_assert_float_eq_tol(g[1], 0.8f, 1e-6);
  /* under the limit: untouched, bit for bit */
  float h[3] = {0.1f, -0.2f, 0.3f}, h0[3];
  memcpy(h0, h, sizeof h);
  ck_assert_float_eq_tol(mlprt_clip_grad_norm(h, 3, 1.0f), sqrtf(0.14f), 1e-6);
  ck_assert_mem_eq(h, h0, sizeof h);
  /* all zero: no division by zero */
  float z[2] = {0};
  ck_assert_float_eq(mlprt_clip_grad_norm(z, 2, 1.0f), 0.0f);
  ck_assert_float_eq(z[0], 0.0f);
  /* 21 elements: two blocks of the eight-lane sum plus a tail of five;
   * 1^2 + ... + 21^2 = 3311 */
  float r[21];
  for (int i = 0; i < 21; i++) r[i] = (float)(i + 1);
  ck_assert_float_eq_tol(mlprt_clip_grad_norm(r, 21, 2.0f), sqrtf(3311.0f), 1e-4);
  double after = 0.0;
  for (int i = 0; i < 21; i++) after += (double)r[i] * r[i];
  ck_assert_double_eq_tol(sqrt(after), 2.0, 1e-5);
  ck_assert_float_eq_tol(r[20] / r[0], 21.0f, 1e-5); /* direction kept */
  /* an infinite gradient: reported, grads left for the caller to inspect */
  float bad[2] = {INFINITY, 1.0f};
  ck_assert(isinf(mlprt_clip_grad_norm(bad, 2, 1.0f)));
  ck_assert_float_eq(bad[1], 1.0f);
}
END_TEST

START_TEST(optim_13_clip_value) {
  float g[6] = {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, NAN};
  mlprt_clip_grad_value(g, 6, 1.0f);
  const float want[5] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f};
  for (int i = 0; i < 5; i++) ck_assert_float_eq(g[i], want[i]);
  ck_assert(isnan(g[5])); /* a NaN is not hidden by clamping */
}
END_TEST

START_TEST(optim_14_deterministic) {
  /* Two runs of every optimizer on the same inputs are bit-identical. */
  enum { N = 1000 };
  static float p1[N], p2[N], g[N];
  const MlprtOptKind kinds[] = {MLPRT_OPT_SGD, MLPRT_OPT_ADAM, MLPRT_OPT_ADAMW, MLPRT_OPT_RMSPROP};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    MlprtOptConfig c = mlprt_optim_defaults(kinds[k]);
    c.momentum = kinds[k] == MLPRT_OPT_ADAM || kinds[k] == MLPRT_OPT_ADAMW ? 0.0 : 0.9;
    c.l1 = 1e-4;
    for (int run = 0; run < 2; run++) {
      float *p = run ? p2 : p1;
      MlprtOptim o;
      mlprt_optim_init(&o, &c, N);
      for (int i = 0; i < N; i++) p[i] = sinf((float)i);
      for (int s = 0; s < 5; s++) {
        for (int i = 0; i < N; i++) g[i] = cosf((float)(i * (s + 1)));
        mlprt_optim_step(&o, p, g, NULL, c.lr);
      }
      mlprt_optim_free(&o);
    }
    ck_assert_mem_eq(p1, p2, sizeof p1);
  }
}
END_TEST

START_TEST(optim_15_mask_equals_two_slabs) {
  /* optim.h promises that a decay mask and two slabs (decayed weights with
   * the penalties, exempt biases without) give the same numbers: check it
   * bit for bit over a few AdamW and SGD steps. */
  enum { W = 12, B = 4, N = W + B };
  const MlprtOptKind kinds[] = {MLPRT_OPT_ADAMW, MLPRT_OPT_SGD};
  for (size_t k = 0; k < 2; k++) {
    MlprtOptConfig c = mlprt_optim_defaults(kinds[k]);
    c.lr = 0.05;
    c.momentum = kinds[k] == MLPRT_OPT_SGD ? 0.9 : 0.0;
    c.weight_decay = 0.1;
    c.l1 = 0.01;
    c.l2 = 0.02;
    MlprtOptConfig bare = c;
    bare.weight_decay = bare.l1 = bare.l2 = 0.0;
    float one[N], w[W], b[B], g[N];
    uint8_t mask[N];
    for (int i = 0; i < N; i++) {
      one[i] = sinf(1.0f + (float)i);
      mask[i] = i < W;
    }
    memcpy(w, one, sizeof w);
    memcpy(b, one + W, sizeof b);
    MlprtOptim all, ow, ob;
    mlprt_optim_init(&all, &c, N);
    mlprt_optim_init(&ow, &c, W);
    mlprt_optim_init(&ob, &bare, B);
    for (int s = 0; s < 4; s++) {
      for (int i = 0; i < N; i++) g[i] = cosf((float)(i * (s + 2)));
      mlprt_optim_step(&all, one, g, mask, c.lr);
      mlprt_optim_step(&ow, w, g, NULL, c.lr);
      mlprt_optim_step(&ob, b, g + W, NULL, c.lr);
    }
    ck_assert_mem_eq(one, w, sizeof w);
    ck_assert_mem_eq(one + W, b, sizeof b);
    mlprt_optim_free(&all);
    mlprt_optim_free(&ow);
    mlprt_optim_free(&ob);
  }
}
END_TEST

Suite *optim_suite(void); /* the runner finds it by name */
Suite *optim_suite(void) {
  Suite *s = suite_create("optim");
  TCase *tc = tcase_create("optim");
  tcase_add_test(tc, optim_1_defaults);
  tcase_add_test(tc, optim_2_sgd_plain);
  tcase_add_test(tc, optim_3_sgd_momentum);
  tcase_add_test(tc, optim_4_sgd_nesterov);
  tcase_add_test(tc, optim_5_adam);
  tcase_add_test(tc, optim_6_adamw_vs_l2);
  tcase_add_test(tc, optim_7_rmsprop);
  tcase_add_test(tc, optim_8_l1_l2_terms);
  tcase_add_test(tc, optim_9_penalty_matches_gradient);
  tcase_add_test(tc, optim_10_decay_mask);
  tcase_add_test(tc, optim_11_quadratic_convergence);
  tcase_add_test(tc, optim_12_clip_norm);
  tcase_add_test(tc, optim_13_clip_value);
  tcase_add_test(tc, optim_14_deterministic);
  tcase_add_test(tc, optim_15_mask_equals_two_slabs);
  suite_add_tcase(s, tc);
  return s;
}
