/* check_tensor.c — the runtime's arena, tensor views, Philox RNG (against the
 * published known-answer vectors), fill helpers, thread settings and the
 * argument-check macro. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/data.h"
#include "mlp/fpenv.h"
#include "mlp/tensor.h"

START_TEST(philox_known_answers) {
  /* Known-answer vectors of Philox4x32-10 from the Random123 distribution
   * (kat_vectors): counter words c0..c3, key words k0 k1, expected output.
   * Our counter is (block lo, block hi, stream lo, stream hi), key = seed. */
  static const struct {
    uint32_t c[4], k[2], out[4];
  } kat[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
    uint64_t block = kat[t].c[0] | (uint64_t)kat[t].c[1] << 32;
    uint64_t stream = kat[t].c[2] | (uint64_t)kat[t].c[3] << 32;
    uint64_t seed = kat[t].k[0] | (uint64_t)kat[t].k[1] << 32;
    uint32_t w[4];
    mlprt_philox(seed, stream, block, w);
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(w[i], kat[t].out[i]);
  }
}
END_TEST

START_TEST(rng_fill_matches_scalar) {
  enum { N = 37 }; /* not a multiple of 4: the last block is partial */
  float u[N], z[N];
  mlprt_fill_uniform(u, N, -2.0f, 3.0f, 1234, 7);
  mlprt_fill_normal(z, N, 1.0f, 0.5f, 1234, 7);
  for (int i = 0; i < N; i++) {
    ck_assert_float_eq(u[i], -2.0f + 5.0f * mlprt_rng_uniform(1234, 7, (uint64_t)i));
    ck_assert_float_eq_tol(z[i], 1.0f + 0.5f * mlprt_rng_normal(1234, 7, (uint64_t)i), 1e-6f);
    ck_assert(u[i] >= -2.0f && u[i] < 3.0f);
  }
  /* a fill of a prefix is the prefix of a longer fill: no hidden state */
  float v[5];
  mlprt_fill_uniform(v, 5, -2.0f, 3.0f, 1234, 7);
  for (int i = 0; i < 5; i++) ck_assert_float_eq(v[i], u[i]);
}
END_TEST

START_TEST(rng_streams_and_seeds_differ) {
  int same_stream = 0, same_seed = 0;
  for (uint64_t i = 0; i < 64; i++) {
    same_stream += mlprt_rng_u32(1, 0, i) == mlprt_rng_u32(1, 1, i);
    same_seed += mlprt_rng_u32(1, 0, i) == mlprt_rng_u32(2, 0, i);
  }
  ck_assert_int_eq(same_stream, 0);
  ck_assert_int_eq(same_seed, 0);
  ck_assert_uint_ne(mlprt_rng_stream(1, 0), mlprt_rng_stream(0, 1));
}
END_TEST

START_TEST(rng_moments) {
  enum { N = 200000 };
  float *x = mlprt_alloc_aligned(N * sizeof(float));
  double s = 0, s2 = 0;
  mlprt_fill_uniform(x, N, 0.0f, 1.0f, 99, 3);
  for (int i = 0; i < N; i++) s += x[i], s2 += (double)x[i] * x[i];
  /* uniform: mean 1/2, variance 1/12; the standard error of the mean is
   * sqrt(1/12/N) ≈ 6.5e-4, so 5e-3 is far outside chance */
  ck_assert_double_eq_tol(s / N, 0.5, 5e-3);
  ck_assert_double_eq_tol(s2 / N - (s / N) * (s / N), 1.0 / 12, 5e-3);
  mlprt_fill_normal(x, N, 0.0f, 1.0f, 99, 4);
  s = s2 = 0;
  int beyond3 = 0;
  for (int i = 0; i < N; i++) {
    s += x[i], s2 += (double)x[i] * x[i];
    beyond3 += fabsf(x[i]) > 3.0f;
  }
  ck_assert_double_eq_tol(s / N, 0.0, 1e-2);
  ck_assert_double_eq_tol(s2 / N, 1.0, 2e-2);
  /* P(|z| > 3) = 0.0027: about 540 of 200000 */
  ck_assert_int_gt(beyond3, 400);
  ck_assert_int_lt(beyond3, 700);
  mlprt_free_aligned(x);
}
END_TEST

START_TEST(arena_alignment_and_reset) {
  MlprtArena a;
  mlprt_arena_init(&a, 4096);
  ck_assert_uint_eq((uintptr_t)a.base % MLPRT_ALIGN, 0);
  size_t o1 = mlprt_arena_reserve(&a, 3);
  size_t o2 = mlprt_arena_reserve(&a, 100);
  ck_assert_uint_eq(o1, 0);
  ck_assert_uint_eq(o2, 64);
  ck_assert_uint_eq(a.used, 64 + 128);
  float *f = mlprt_arena_floats(&a, 10);
  ck_assert_uint_eq((uintptr_t)f % MLPRT_ALIGN, 0);
  ck_assert_ptr_eq(f, mlprt_arena_at(&a, 192));
  for (int i = 0; i < 10; i++) ck_assert_float_eq(f[i], 0.0f); /* zeroed at init */
  size_t mark = a.used;
  mlprt_arena_floats(&a, 100);
  mlprt_arena_reset(&a, mark);
  ck_assert_uint_eq(a.used, mark);
  ck_assert_uint_eq(mlprt_align_up(0), 0);
  ck_assert_uint_eq(mlprt_align_up(65), 128);
  mlprt_arena_free(&a);
  ck_assert_ptr_null(a.base);
}
END_TEST

START_TEST(arena_overflow_aborts) {
  MlprtArena a;
  mlprt_arena_init(&a, 256);
  mlprt_arena_reserve(&a, 200);
  mlprt_arena_reserve(&a, 100); /* 256 + 128 > 256: abort */
}
END_TEST

START_TEST(check_macro_aborts) {
  int64_t shape[2] = {3, 0};
  mlprt_tensor(NULL, 2, shape); /* a zero dimension fails its check */
}
END_TEST

START_TEST(tensor_views) {
  float buf[2 * 3 * 4 * 5];
  int64_t shape[4] = {2, 3, 4, 5};
  MlprtTensor t = mlprt_tensor(buf, 4, shape);
  ck_assert_uint_eq(mlprt_tensor_numel(&t), 120);
  MlprtTensor f = mlprt_tensor_flatten(&t);
  ck_assert_int_eq(f.ndim, 2);
  ck_assert_int_eq(f.shape[0], 2);
  ck_assert_int_eq(f.shape[1], 60);
  ck_assert_ptr_eq(f.data, buf);
}
END_TEST

START_TEST(thread_settings) {
  ck_assert_int_ge(mlprt_blas_threads(), 1); /* OpenBLAS's default before any setting */
  mlprt_set_threads(2, 3);
  ck_assert_int_eq(mlprt_blas_threads(), 2);
  ck_assert_int_eq(mlprt_own_threads(), 3);
  mlprt_set_deterministic(true);
  ck_assert_int_eq(mlprt_blas_threads(), 1);
  mlprt_set_threads(2, 0);
  ck_assert_int_eq(mlprt_blas_threads(), 1); /* stays pinned */
  ck_assert_int_eq(mlprt_own_threads(), 1);
  mlprt_set_deterministic(false);
  ck_assert_int_eq(mlprt_blas_threads(), 2);
  mlprt_set_threads(1, 1);
}
END_TEST

/* the data step runs before BLAS and takes the larger pool of the budget */
START_TEST(thread_budget_reaches_data_step) {
  mlprt_set_threads(3, 1);
  ck_assert_int_eq(mlprt_data_threads(), 3);
  mlprt_set_threads(1, 2);
  ck_assert_int_eq(mlprt_data_threads(), 2);
  mlprt_set_threads(1, 1);
  ck_assert_int_eq(mlprt_data_threads(), 1);
}
END_TEST

/* A subnormal result and a subnormal input, as the calling thread sees them. */
static void *subnormals_seen(void *out) {
  volatile float tiny = 1e-38f, sub = 1e-40f, one = 1.0f;
  float *o = out;
  o[0] = tiny * 0.5f; /* 5e-39: subnormal unless flushed */
  o[1] = sub * one;   /* a subnormal input: zero when read as zero */
  return NULL;
}

/* After mlprt_fp_flush_subnormals the thread, and a thread it starts,
 * flush subnormal results and read subnormal inputs as zero; before, both
 * are kept (IEEE gradual underflow). */
START_TEST(subnormals_flushed) {
  float before[2], after[2], child[2];
  subnormals_seen(before);
  ck_assert(before[0] > 0 && before[1] > 0);
  mlprt_fp_flush_subnormals();
  subnormals_seen(after);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, subnormals_seen, child), 0);
  pthread_join(t, NULL);
#if defined(__x86_64__) || defined(__aarch64__)
  ck_assert(after[0] == 0 && child[0] == 0);
#endif
#if defined(__x86_64__)
  ck_assert(after[1] == 0 && child[1] == 0); /* DAZ: x86 only */
#endif
}
END_TEST

Suite *tensor_suite(void); /* the runner finds it by name */
Suite *tensor_suite(void) {
  Suite *s = suite_create("tensor");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, philox_known_answers);
  tcase_add_test(tc, rng_fill_matches_scalar);
  tcase_add_test(tc, rng_streams_and_seeds_differ);
  tcase_add_test(tc, rng_moments);
  tcase_add_test(tc, arena_alignment_and_reset);
  tcase_add_test(tc, tensor_views);
  tcase_add_test(tc, thread_settings);
  tcase_add_test(tc, thread_budget_reaches_data_step);
  /* An abort can only be observed from a forked test; without fork (as
   * under valgrind with CK_FORK=no) it would end the whole run. */
  const char *fork_env = getenv("CK_FORK");
  if (!fork_env || strcmp(fork_env, "no") != 0) {
    /* the floating-point mode would outlive the test in an unforked run,
     * and valgrind's CPU does not flush */
    tcase_add_test(tc, subnormals_flushed);
    tcase_add_test_raise_signal(tc, arena_overflow_aborts, SIGABRT);
#ifndef NDEBUG
    tcase_add_test_raise_signal(tc, check_macro_aborts, SIGABRT);
#endif
  }
  suite_add_tcase(s, tc);
  return s;
}
