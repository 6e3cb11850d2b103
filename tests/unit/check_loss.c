/* check_loss.c — the losses: values and gradients against PyTorch (numbers
 * computed once with torch.nn.functional in float64 and written here),
 * central-difference gradient checks at several shapes (batch 1, odd class
 * counts, smoothing and class weights), numerical stability at extreme
 * logits, and argument checks. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/loss.h"
#include "mlp/tensor.h"
#include "tests/unit/gradcheck.h"

/* The PyTorch example: logits (3, 4), labels, class weights, BCE targets. */
static const float tz[12] = {1.0f, -0.5f, 2.0f, 0.3f, 0.2f, 0.1f, -1.0f, 1.5f, -2.0f, 0.5f, 0.5f, 0.0f};
static const int32_t ty[3] = {2, 0, 3};
static const float tw[4] = {1.0f, 2.0f, 0.5f, 1.5f};
static const float tt[12] = {0.0f, 1.0f, 0.3f, 1.0f, 1.0f, 0.0f, 0.5f, 0.2f, 0.0f, 0.0f, 1.0f, 1.0f};

static void assert_close(const float *got, const double *want, int n, double tol) {
  for (int i = 0; i < n; i++)
    ck_assert_msg(fabs(got[i] - want[i]) <= tol, "element %d: %.9g, want %.9g", i, (double)got[i], want[i]);
}

START_TEST(xent_matches_torch) {
  /* F.cross_entropy(z, y, weight=..., label_smoothing=...) and its grad */
  static const struct {
    int weighted;
    float smoothing;
    double loss, grad[12];
  } cases[] = {
      {0, 0.0f, 1.2499971964387904,
       {0.075108954, 0.016759073, -0.129166029, 0.037298003, -0.276598915, 0.051335425, 0.017088078,
        0.208175412, 0.01017686, 0.12397954, 0.12397954, -0.258135941}},
      {0, 0.1f, 1.3016638631054571,
       {0.06677562, 0.00842574, -0.104166029, 0.028964669, -0.251598915, 0.043002091, 0.008754745,
        0.199842079, 0.001843527, 0.115646207, 0.115646207, -0.233135941}},
      {1, 0.0f, 1.4164677333687472,
       {0.037554477, 0.008379536, -0.064583015, 0.018649001, -0.276598915, 0.051335425, 0.017088078,
        0.208175412, 0.015265291, 0.18596931, 0.18596931, -0.387203911}},
      {1, 0.2f, 1.5815068191380288,
       {0.032154153, -0.022439936, -0.008957919, -0.000756298, -0.223762194, 0.020568862, 0.009609149,
        0.193584183, -0.001910219, 0.146437, 0.171437, -0.315963781}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    float g[12], p[12];
    float l = mlprt_softmax_xent(g, p, tz, ty, cases[c].weighted ? tw : NULL, cases[c].smoothing, 3, 4);
    ck_assert_double_eq_tol(l, cases[c].loss, 1e-6);
    assert_close(g, cases[c].grad, 12, 1e-6);
    for (int b = 0; b < 3; b++)
      ck_assert_double_eq_tol(p[4 * b] + p[4 * b + 1] + p[4 * b + 2] + p[4 * b + 3], 1.0, 1e-6);
    /* evaluation only: same loss, no gradient needed */
    const float *w = cases[c].weighted ? tw : NULL;
    ck_assert_float_eq(mlprt_softmax_xent(NULL, NULL, tz, ty, w, cases[c].smoothing, 3, 4), l);
  }
}
END_TEST

START_TEST(other_losses_match_torch) {
  float g[12];
  /* F.binary_cross_entropy_with_logits(z, t) */
  ck_assert_double_eq_tol(mlprt_bce_logits(g, tz, tt, 3, 4), 0.8495051318440915, 1e-6);
  /* torch.nn.HuberLoss(delta=0.5)(z, t) and torch.nn.L1Loss()(z, t), and their grads */
  static const double huber_grad[12] = {0.041666667, -0.041666667, 0.041666667, -0.041666667,
                                        -0.041666667, 0.008333333,  -0.041666667, 0.041666667,
                                        -0.041666667, 0.041666667,  -0.041666667, -0.041666667};
  ck_assert_double_eq_tol(mlprt_huber(g, tz, tt, 3, 4, 0.5f), 0.4066666666666667, 1e-6);
  assert_close(g, huber_grad, 12, 1e-6);
  ck_assert_double_eq_tol(mlprt_mae(g, tz, tt, 3, 4), 1.05, 1e-6);
  for (int i = 0; i < 12; i++) ck_assert_double_eq_tol(g[i], huber_grad[i] > 0 ? 1 / 12.0 : -1 / 12.0, 1e-7);
  /* F.multi_margin_loss(z, y, margin=1) and its grad (row 0 has one margin at
   * exactly zero, where torch's subgradient, like ours, is 0) */
  static const double mm_grad[12] = {0.0, 0.0, 0.0, 0.0, -0.166666667, 0.083333333,
                                     0.0, 0.083333333, 0.0, 0.083333333, 0.083333333, -0.166666667};
  ck_assert_double_eq_tol(mlprt_hinge_multiclass(g, tz, ty, 3, 4, 1.0f), 0.5166666666666666, 1e-6);
  assert_close(g, mm_grad, 12, 1e-6);
  /* MSE and MAE by hand: differences 1, -2 */
  float pred[2] = {1.0f, -1.0f}, target[2] = {0.0f, 1.0f};
  ck_assert_float_eq_tol(mlprt_mse(g, pred, target, 2, 1), 2.5f, 1e-6f);
  ck_assert_float_eq_tol(g[0], 1.0f, 1e-6f); /* 2 * 1 / 2 */
  ck_assert_float_eq_tol(g[1], -2.0f, 1e-6f);
  ck_assert_float_eq_tol(mlprt_mae(g, pred, target, 1, 2), 1.5f, 1e-6f);
  ck_assert_float_eq_tol(g[0], 0.5f, 1e-6f);
  ck_assert_float_eq_tol(g[1], -0.5f, 1e-6f);
  /* binary hinge: labels {0,1} as -1/+1; margins 1 - (-1)(-2) = -1 and 1 - 0.5 */
  float s[2] = {-2.0f, 0.5f};
  int32_t y[2] = {0, 1};
  ck_assert_float_eq_tol(mlprt_hinge_binary(g, s, y, 2), 0.25f, 1e-6f);
  ck_assert_float_eq(g[0], 0.0f);
  ck_assert_float_eq_tol(g[1], -0.5f, 1e-6f);
}
END_TEST

START_TEST(extreme_logits_are_finite) {
  float z[4] = {1000.0f, -1000.0f, -1000.0f, 1000.0f}, g[4];
  int32_t y[2] = {0, 0};
  /* sample 0 is certain and right (loss 0), sample 1 certain and wrong (2000) */
  ck_assert_double_eq_tol(mlprt_softmax_xent(g, NULL, z, y, NULL, 0.0f, 2, 2), 1000.0, 1e-3);
  for (int i = 0; i < 4; i++) ck_assert(isfinite(g[i]));
  ck_assert_float_eq_tol(g[2], -0.5f, 1e-6f);
  /* two elements right with certainty (0), two wrong (1000 each): mean 500 */
  float t[4] = {1.0f, 0.0f, 1.0f, 0.0f};
  ck_assert_double_eq_tol(mlprt_bce_logits(g, z, t, 2, 2), 500.0, 1e-3);
  for (int i = 0; i < 4; i++) ck_assert(isfinite(g[i]));
}
END_TEST

/* ---- gradient checks ----------------------------------------------------- */

enum { L_XENT, L_XENT_SMOOTH, L_XENT_WEIGHTED, L_BCE, L_MSE, L_MAE, L_HUBER, L_HINGE, L_HINGE_BIN, L_COUNT };
static const char *const loss_names[] = {"xent",  "xent smoothed", "xent weighted", "bce",         "mse",
                                         "mae",   "huber",         "hinge",         "binary hinge"};

typedef struct {
  int kind, B, D;
  float *pred, *target, *weight, loss;
  int32_t *labels;
} LossCtx;

static float loss_eval(LossCtx *k, float *grad) {
  switch (k->kind) {
  case L_XENT: return mlprt_softmax_xent(grad, NULL, k->pred, k->labels, NULL, 0.0f, k->B, k->D);
  case L_XENT_SMOOTH: return mlprt_softmax_xent(grad, NULL, k->pred, k->labels, NULL, 0.15f, k->B, k->D);
  case L_XENT_WEIGHTED:
    return mlprt_softmax_xent(grad, NULL, k->pred, k->labels, k->weight, 0.1f, k->B, k->D);
  case L_BCE: return mlprt_bce_logits(grad, k->pred, k->target, k->B, k->D);
  case L_MSE: return mlprt_mse(grad, k->pred, k->target, k->B, k->D);
  case L_MAE: return mlprt_mae(grad, k->pred, k->target, k->B, k->D);
  case L_HUBER: return mlprt_huber(grad, k->pred, k->target, k->B, k->D, 0.7f);
  case L_HINGE: return mlprt_hinge_multiclass(grad, k->pred, k->labels, k->B, k->D, 1.0f);
  default: return mlprt_hinge_binary(grad, k->pred, k->labels, k->B);
  }
}

static void loss_fwd(void *p) {
  LossCtx *k = p;
  k->loss = loss_eval(k, NULL);
}

/* Nudge predictions off the kinks of the piecewise losses: |pred - target|
 * away from 0 (MAE) and from delta (Huber), hinge margins away from 0. */
static void avoid_kinks(LossCtx *k) {
  size_t n = (size_t)k->B * k->D;
  float h5 = 5 * GC_STEP;
  for (size_t i = 0; i < n && (k->kind == L_MAE || k->kind == L_HUBER); i++) {
    float d = k->pred[i] - k->target[i], kink = k->kind == L_MAE ? 0.0f : 0.7f;
    if (fabsf(fabsf(d) - kink) < h5) k->pred[i] += d >= 0 ? 2 * h5 : -2 * h5;
  }
  for (int b = 0; b < k->B && k->kind == L_HINGE; b++) {
    float *z = k->pred + (size_t)b * k->D;
    for (int c = 0; c < k->D; c++) {
      float m = 1.0f - z[k->labels[b]] + z[c];
      if (c != k->labels[b] && fabsf(m) < 3 * h5) z[c] += 6 * h5;
    }
  }
  for (int b = 0; b < k->B && k->kind == L_HINGE_BIN; b++) {
    float y = k->labels[b] ? 1.0f : -1.0f;
    if (fabsf(1.0f - y * k->pred[b]) < h5) k->pred[b] += 2 * h5;
  }
}

START_TEST(loss_gradcheck) {
  static const int shapes[][2] = {{1, 2}, {1, 5}, {6, 3}, {5, 7}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int B = shapes[s][0], D = _i == L_HINGE_BIN ? 1 : shapes[s][1];
    size_t n = (size_t)B * D;
    /* exact sizes, so sanitizers see any access past the end */
    LossCtx k = {_i, B, D, calloc(n, 4), calloc(n, 4), calloc(D, 4), 0.0f, calloc(B, 4)};
    float *g = calloc(n, 4);
    gc_fill(k.pred, n, -2, 2, 200 + s);
    gc_fill(k.target, n, 0, 1, 210 + s);
    gc_fill(k.weight, D, 0.2f, 2, 220 + s);
    uint32_t classes = _i == L_HINGE_BIN ? 2 : (uint32_t)D;
    for (int b = 0; b < B; b++) k.labels[b] = (int32_t)(mlprt_rng_u32(5, s, (uint64_t)b) % classes);
    avoid_kinks(&k);
    k.loss = loss_eval(&k, g);
    GcObjective o = {loss_fwd, &k, &k.loss, NULL, 1};
    GC_ASSERT(&o, k.pred, g, n, loss_names[_i]);
    free(k.pred);
    free(k.target);
    free(k.weight);
    free(k.labels);
    free(g);
  }
}
END_TEST

/* ---- argument checks (forked tests only) --------------------------------- */

START_TEST(xent_rejects_bad_label) {
  float z[2] = {0, 0}, g[2];
  int32_t y = 2;
  mlprt_softmax_xent(g, NULL, z, &y, NULL, 0.0f, 1, 2);
}
END_TEST

START_TEST(bce_rejects_bad_target) {
  float z = 0, t = 1.5f;
  mlprt_bce_logits(NULL, &z, &t, 1, 1);
}
END_TEST

Suite *loss_suite(void); /* the runner finds it by name */
Suite *loss_suite(void) {
  Suite *s = suite_create("loss");
  TCase *tc = tcase_create("losses");
  tcase_add_test(tc, xent_matches_torch);
  tcase_add_test(tc, other_losses_match_torch);
  tcase_add_test(tc, extreme_logits_are_finite);
  tcase_add_loop_test(tc, loss_gradcheck, 0, L_COUNT);
#ifndef NDEBUG
  const char *fork_env = getenv("CK_FORK");
  if (!fork_env || strcmp(fork_env, "no") != 0) {
    tcase_add_test_raise_signal(tc, xent_rejects_bad_label, SIGABRT);
    tcase_add_test_raise_signal(tc, bce_rejects_bad_target, SIGABRT);
  }
#endif
  suite_add_tcase(s, tc);
  return s;
}
