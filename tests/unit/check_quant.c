/* check_quant.c — the compression kernels of predictors: per-row int8
 * quantization within half a step of every weight, the int8 dense kernel
 * against the float reference within the analytical error bound (and exact
 * on values the grid holds), zero rows and zero inputs, magnitude pruning's
 * exact counts and its tie order, argument checks. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/layers.h"
#include "mlp/quant.h"
#include "mlp/tensor.h"

/* Zeroed memory of exactly the size asked for, so AddressSanitizer and
 * valgrind see any access one past the end. */
static void *zbuf(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  ck_assert_ptr_nonnull(p);
  return p;
}

/* n uniform values in [-amp, amp], reproducible per stream. */
static void fill(float *x, size_t n, float amp, uint64_t stream) {
  mlprt_fill_uniform(x, n, -amp, amp, 42, stream);
}

/* ---- quantization ------------------------------------------------------- */

/* Rows of very different magnitudes (each row has its own scale), widths on
 * and off the vector lengths. */
START_TEST(quantize_within_half_step) {
  const int64_t rows = 6, cols = 37;
  float *w = zbuf((size_t)(rows * cols), sizeof *w);
  int8_t *q = zbuf((size_t)(rows * cols), sizeof *q);
  float *scale = zbuf((size_t)rows, sizeof *scale);
  for (int64_t r = 0; r < rows; r++) fill(w + r * cols, (size_t)cols, powf(10.0f, (float)r - 3.0f), 1 + r);
  mlprt_quantize_rows(w, rows, cols, q, scale);
  for (int64_t r = 0; r < rows; r++) {
    float m = 0.0f;
    int top = 0;
    for (int64_t c = 0; c < cols; c++) m = fmaxf(m, fabsf(w[r * cols + c]));
    ck_assert_float_eq_tol(scale[r], m / 127.0f, m * 1e-6f);
    for (int64_t c = 0; c < cols; c++) {
      int v = q[r * cols + c];
      ck_assert_int_ge(v, -127);
      ck_assert_int_le(v, 127);
      if (abs(v) == 127) top = 1;
      double err = fabs((double)w[r * cols + c] - (double)v * scale[r]);
      ck_assert_msg(err <= scale[r] * (0.5 + 1e-5), "row %lld col %lld: |w - q s| = %g > s/2 = %g",
                    (long long)r, (long long)c, err, scale[r] / 2.0);
    }
    ck_assert_msg(top, "row %lld: the largest weight maps to +-127", (long long)r);
  }
  free(w);
  free(q);
  free(scale);
}
END_TEST

START_TEST(quantize_zero_row) {
  float w[2 * 3] = {0, 0, 0, 1.0f, -2.0f, 0.5f};
  int8_t q[6];
  float scale[2];
  memset(q, 99, sizeof q);
  mlprt_quantize_rows(w, 2, 3, q, scale);
  ck_assert_float_eq(scale[0], 0.0f);
  for (int i = 0; i < 3; i++) ck_assert_int_eq(q[i], 0);
  ck_assert_int_eq(q[4], -127);
  ck_assert_int_eq(q[3], 64); /* 1 / (2 / 127) = 63.5 rounds away from zero */
  ck_assert_int_eq(q[5], 32); /* 31.75 */
}
END_TEST

/* ---- the int8 dense kernel ---------------------------------------------- */

static const struct {
  int64_t B, C, OC;
} qshapes[] = {{1, 1, 1}, {3, 7, 5}, {4, 16, 3}, {2, 33, 17}, {5, 100, 10}, {1, 784, 64}};
#define N_QSHAPES ((int)(sizeof qshapes / sizeof qshapes[0]))

/* Against the float reference on the dequantized problem's inputs: with
 * x = xq sx + ex and w = wq sw + ew (|ex| <= sx/2, |ew| <= sw/2),
 * x w - xq sx wq sw = x ew + ex wq sw, so each output is off by at most
 * sum_c |x_c| sw/2 + sx/2 (|w_c| + sw/2), plus float rounding. */
START_TEST(qdense_within_bound) {
  int64_t B = qshapes[_i].B, C = qshapes[_i].C, OC = qshapes[_i].OC;
  float *x = zbuf((size_t)(B * C), sizeof *x), *w = zbuf((size_t)(OC * C), sizeof *w);
  float *bias = zbuf((size_t)OC, sizeof *bias), *sw = zbuf((size_t)OC, sizeof *sw);
  float *ref = zbuf((size_t)(B * OC), sizeof *ref), *got = zbuf((size_t)(B * OC), sizeof *got);
  int8_t *q = zbuf((size_t)(OC * C), sizeof *q);
  void *scratch = zbuf(mlprt_qdense_scratch_bytes(C), 1);
  fill(x, (size_t)(B * C), 3.0f, 10 + _i);
  fill(w, (size_t)(OC * C), 0.5f, 20 + _i);
  fill(bias, (size_t)OC, 1.0f, 30 + _i);
  mlprt_quantize_rows(w, OC, C, q, sw);
  mlprt_dense_forward_ref(ref, x, w, bias, (int)B, (int)C, (int)OC);
  mlprt_qdense(got, x, q, sw, bias, B, C, OC, scratch);
  double worst = 0.0;
  for (int64_t b = 0; b < B; b++) {
    double sx = 0.0;
    for (int64_t c = 0; c < C; c++) sx = fmax(sx, fabs(x[b * C + c]));
    sx /= 127.0;
    for (int64_t o = 0; o < OC; o++) {
      double bound = 0.0, mag = fabs(bias[o]);
      for (int64_t c = 0; c < C; c++) {
        double xv = fabs(x[b * C + c]), wv = fabs(w[o * C + c]);
        bound += xv * sw[o] / 2.0 + sx / 2.0 * (wv + sw[o] / 2.0);
        mag += xv * wv;
      }
      bound += 1e-5 * mag;
      double err = fabs((double)got[b * OC + o] - ref[b * OC + o]);
      ck_assert_msg(err <= bound, "B=%lld C=%lld OC=%lld out[%lld,%lld]: error %g > bound %g", (long long)B,
                    (long long)C, (long long)OC, (long long)b, (long long)o, err, bound);
      worst = fmax(worst, err / bound);
    }
  }
  /* The bound is worst-case; random data sits well inside it, and an error
   * of the order of the bound everywhere would mean a systematic fault. */
  ck_assert_msg(C < 16 || worst < 0.25, "error reaches %.2f of the bound", worst);
  free(x), free(w), free(bias), free(sw), free(ref), free(got), free(q), free(scratch);
}
END_TEST

/* Inputs and weights that lie on the int8 grid with scale 1 (each row's
 * largest magnitude is 127) quantize without error, so the kernel must
 * reproduce the exact integer products: a check of every index. Six rows
 * and seven outputs take the blocked paths (four rows, pairs and quads of
 * outputs) and their remainders. */
START_TEST(qdense_exact_on_grid) {
  enum { B = 6, C = 21, OC = 7 };
  float x[B * C], w[OC * C], bias[OC] = {0.5f, -1.0f, 0.0f, 2.0f, 3.0f, -0.25f, 1.0f}, sw[OC], got[B * OC];
  int8_t q[OC * C];
  void *scratch = zbuf(mlprt_qdense_scratch_bytes(C), 1);
  for (int i = 0; i < B * C; i++) x[i] = (float)((i * 37) % 255 - 127);
  for (int i = 0; i < OC * C; i++) w[i] = (float)((i * 53 + 11) % 201 - 100);
  for (int b = 0; b < B; b++) x[b * C + b] = b % 2 ? -127.0f : 127.0f;
  for (int o = 0; o < OC; o++) w[o * C + (o + 5) % C] = o % 2 ? 127.0f : -127.0f;
  mlprt_quantize_rows(w, OC, C, q, sw);
  for (int o = 0; o < OC; o++) ck_assert_float_eq(sw[o], 1.0f);
  mlprt_qdense(got, x, q, sw, bias, B, C, OC, scratch);
  for (int b = 0; b < B; b++)
    for (int o = 0; o < OC; o++) {
      double s = bias[o];
      for (int c = 0; c < C; c++) s += (double)x[b * C + c] * w[o * C + c];
      ck_assert_float_eq(got[b * OC + o], (float)s);
    }
  free(scratch);
}
END_TEST

/* A zero input row, a zero weight row, no bias: exactly the bias or 0. */
START_TEST(qdense_zero_rows_and_inputs) {
  enum { C = 9, OC = 3 };
  float x[2 * C] = {0}, w[OC * C] = {0}, sw[OC], bias[OC] = {1.5f, -2.0f, 0.25f}, got[2 * OC];
  int8_t q[OC * C];
  void *scratch = zbuf(mlprt_qdense_scratch_bytes(C), 1);
  for (int c = 0; c < C; c++) x[C + c] = (float)c - 4.0f; /* row 1 nonzero */
  for (int c = 0; c < C; c++) w[C + c] = 0.1f * (float)c; /* only weight row 1 nonzero */
  mlprt_quantize_rows(w, OC, C, q, sw);
  mlprt_qdense(got, x, q, sw, bias, 2, C, OC, scratch);
  for (int o = 0; o < OC; o++) ck_assert_float_eq(got[o], bias[o]); /* zero input */
  ck_assert_float_eq(got[OC + 0], bias[0]);                          /* zero weights */
  ck_assert_float_eq(got[OC + 2], bias[2]);
  double want = bias[1];
  for (int c = 0; c < C; c++) want += (double)x[C + c] * w[C + c];
  ck_assert_float_eq_tol(got[OC + 1], want, 0.05);
  mlprt_qdense(got, x, q, sw, NULL, 2, C, OC, scratch);
  for (int o = 0; o < OC; o++) ck_assert_float_eq(got[o], 0.0f);
  /* no rows: nothing is written */
  got[0] = 7.0f;
  mlprt_qdense(got, x, q, sw, bias, 0, C, OC, scratch);
  ck_assert_float_eq(got[0], 7.0f);
  free(scratch);
}
END_TEST

/* ---- pruning ------------------------------------------------------------ */

START_TEST(prune_exact_counts) {
  const int64_t n = 1000;
  const double sparsities[] = {0.0, 0.001, 0.25, 0.29, 0.5, 0.9, 0.999, 1.0};
  const int64_t want[] = {0, 1, 250, 290, 500, 900, 999, 1000};
  float *w = zbuf((size_t)n, sizeof *w), *orig = zbuf((size_t)n, sizeof *orig);
  for (size_t s = 0; s < sizeof sparsities / sizeof sparsities[0]; s++) {
    fill(orig, (size_t)n, 1.0f, 7);
    for (int64_t i = 0; i < n; i++)
      if (orig[i] == 0.0f) orig[i] = 1e-3f; /* every value nonzero, so zeros count the pruned */
    memcpy(w, orig, (size_t)n * sizeof *w);
    ck_assert_int_eq(mlprt_prune_magnitude(w, n, sparsities[s]), want[s]);
    int64_t zeros = 0;
    float max_cut = 0.0f, min_kept = INFINITY;
    for (int64_t i = 0; i < n; i++) {
      if (w[i] == 0.0f) {
        zeros++;
        max_cut = fmaxf(max_cut, fabsf(orig[i]));
      } else {
        ck_assert_float_eq(w[i], orig[i]);
        min_kept = fminf(min_kept, fabsf(orig[i]));
      }
    }
    ck_assert_int_eq(zeros, want[s]);
    ck_assert_msg(max_cut <= min_kept, "sparsity %g: pruned %g but kept %g", sparsities[s], max_cut,
                  min_kept);
  }
  free(w);
  free(orig);
}
END_TEST

/* Equal magnitudes fall in index order, whatever their signs. */
START_TEST(prune_ties_lower_index_first) {
  float w[] = {1.0f, -1.0f, 1.0f, 2.0f, -1.0f, 0.5f, -3.0f};
  const float want[] = {0.0f, 0.0f, 1.0f, 2.0f, -1.0f, 0.0f, -3.0f};
  ck_assert_int_eq(mlprt_prune_magnitude(w, 7, 3.0 / 7.0), 3);
  for (int i = 0; i < 7; i++) ck_assert_float_eq(w[i], want[i]);
  float z[] = {0.0f, 0.0f, 0.0f, 0.0f};
  ck_assert_int_eq(mlprt_prune_magnitude(z, 4, 0.5), 2);
  ck_assert_int_eq(mlprt_prune_magnitude(NULL, 0, 0.5), 0);
}
END_TEST

START_TEST(prune_rejects_sparsity_above_one) {
  float w[2] = {1.0f, 2.0f};
  mlprt_prune_magnitude(w, 2, 1.5);
}
END_TEST

START_TEST(qdense_rejects_too_wide_input) {
  float x[1] = {0}, out[1], sw[1] = {0};
  int8_t q[1] = {0};
  int16_t scratch[1];
  mlprt_qdense(out, x, q, sw, NULL, 1, MLPRT_QDENSE_MAX_C + 1, 1, scratch);
}
END_TEST

Suite *quant_suite(void); /* the runner finds it by name */
Suite *quant_suite(void) {
  Suite *s = suite_create("quant");
  TCase *tc = tcase_create("quant");
  tcase_add_test(tc, quantize_within_half_step);
  tcase_add_test(tc, quantize_zero_row);
  tcase_add_loop_test(tc, qdense_within_bound, 0, N_QSHAPES);
  tcase_add_test(tc, qdense_exact_on_grid);
  tcase_add_test(tc, qdense_zero_rows_and_inputs);
  tcase_add_test(tc, prune_exact_counts);
  tcase_add_test(tc, prune_ties_lower_index_first);
#ifndef NDEBUG
  /* An abort can only be observed from a forked test. */
  const char *fork_env = getenv("CK_FORK");
  if (!fork_env || strcmp(fork_env, "no") != 0) {
    tcase_add_test_raise_signal(tc, prune_rejects_sparsity_above_one, SIGABRT);
    tcase_add_test_raise_signal(tc, qdense_rejects_too_wide_input, SIGABRT);
  }
#endif
  suite_add_tcase(s, tc);
  return s;
}
