/* check_split.c — train / validation / test splits and k-fold indices:
 * sizes, seeds, class balance under stratification, whole groups under
 * grouping, time order, the folds against scikit-learn's (StratifiedKFold,
 * GroupKFold, TimeSeriesSplit), and no leakage through a fitted step applied after
 * the split. */
#include <cjson/cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/clean.h"
#include "tests/unit/datautil.h"

/* A table of n rows: id 0..n-1, class id % 4 == 0 ? "rare" : "common",
 * group id / 10 (n / 10 groups of ten rows). */
static void make_table(MlprtTable *t, int64_t n) {
  mlprt_table_init(t);
  int id = mlprt_table_add_column(t, "id", MLPRT_COL_INT);
  int cls = mlprt_table_add_column(t, "class", MLPRT_COL_CATEGORY);
  int grp = mlprt_table_add_column(t, "group", MLPRT_COL_INT);
  mlprt_table_reserve(t, n);
  t->nrows = n;
  for (int64_t r = 0; r < n; r++) {
    t->cols[id].f[r] = (float)r;
    t->cols[cls].codes[r] =
        mlprt_levels_intern(&t->cols[cls].levels, r % 4 == 0 ? "rare" : "common", r % 4 ? 6 : 4);
    t->cols[grp].f[r] = (float)(r / 10);
  }
}

START_TEST(split_random_sizes_and_seeds) {
  MlprtTable a, b, c;
  make_table(&a, 1000);
  make_table(&b, 1000);
  make_table(&c, 1000);
  MlprtSplitParams p = {.train = 0.7, .valid = 0.2, .test = 0.1, .seed = 42};
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_split(&a, &p, &e), 0);
  ck_assert_int_eq(mlprt_split(&b, &p, &e), 0);
  p.seed = 43;
  ck_assert_int_eq(mlprt_split(&c, &p, &e), 0);
  int64_t n[3];
  mlprt_split_counts(&a, n);
  ck_assert_int_eq(n[0], 700);
  ck_assert_int_eq(n[1], 200);
  ck_assert_int_eq(n[2], 100);
  ck_assert_mem_eq(a.part, b.part, 1000);
  ck_assert(memcmp(a.part, c.part, 1000) != 0);
  /* shuffled: the first 700 rows are not simply the training set */
  int first_train = 0;
  for (int r = 0; r < 700; r++) first_train += a.part[r] == MLPRT_TRAIN;
  ck_assert_int_lt(first_train, 600);
  /* fractions are normalised */
  MlprtSplitParams q = {.train = 3, .valid = 1, .seed = 1};
  ck_assert_int_eq(mlprt_split(&a, &q, &e), 0);
  mlprt_split_counts(&a, n);
  ck_assert_int_eq(n[0], 750);
  ck_assert_int_eq(n[2], 0);
  MlprtSplitParams bad = {.train = -1, .valid = 1};
  ck_assert_int_ne(mlprt_split(&a, &bad, &e), 0);
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  mlprt_table_free(&c);
}
END_TEST

START_TEST(split_stratified_grouped_time) {
  MlprtTable t;
  make_table(&t, 1000);
  MlprtSplitParams p = {
      .train = 0.6, .valid = 0.2, .test = 0.2, .mode = MLPRT_SPLIT_STRATIFIED, .by = "class", .seed = 7};
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_split(&t, &p, &e), 0);
  int64_t rare[3] = {0}, all[3] = {0};
  for (int64_t r = 0; r < t.nrows; r++) {
    all[t.part[r]]++;
    if (r % 4 == 0) rare[t.part[r]]++;
  }
  ck_assert_int_eq(rare[0], 150); /* 250 rare rows, split 60/20/20 exactly */
  ck_assert_int_eq(rare[1], 50);
  ck_assert_int_eq(all[0], 600);
  MlprtSplitParams g = {
      .train = 0.5, .valid = 0.25, .test = 0.25, .mode = MLPRT_SPLIT_GROUPED, .by = "group", .seed = 7};
  ck_assert_int_eq(mlprt_split(&t, &g, &e), 0);
  int64_t n[3];
  mlprt_split_counts(&t, n);
  for (int64_t r = 0; r < t.nrows; r++) ck_assert_int_eq(t.part[r], t.part[r - r % 10]); /* whole groups */
  ck_assert_int_eq(n[0] + n[1] + n[2], 1000);
  ck_assert(n[0] >= 450 && n[0] <= 550 && n[1] >= 200 && n[1] <= 300);
  MlprtSplitParams tm = {.train = 0.8, .valid = 0.1, .test = 0.1, .mode = MLPRT_SPLIT_TIME};
  ck_assert_int_eq(mlprt_split(&t, &tm, &e), 0);
  for (int64_t r = 0; r < t.nrows; r++)
    ck_assert_int_eq(t.part[r], r < 800 ? MLPRT_TRAIN : r < 900 ? MLPRT_VALID : MLPRT_TEST);
  MlprtSplitParams nob = {.train = 1, .mode = MLPRT_SPLIT_STRATIFIED, .by = "nope"};
  ck_assert_int_ne(mlprt_split(&t, &nob, &e), 0);
  ck_assert_str_eq(e.column, "nope");
  mlprt_table_free(&t);
}
END_TEST

START_TEST(split_kfold) {
  int32_t fold[103];
  ck_assert_int_eq(mlprt_folds(103, 5, MLPRT_FOLDS_PLAIN, NULL, 9, fold), 0);
  int size[5] = {0};
  for (int i = 0; i < 103; i++) {
    ck_assert(fold[i] >= 0 && fold[i] < 5);
    size[fold[i]]++;
  }
  for (int k = 0; k < 5; k++) ck_assert(size[k] == 20 || size[k] == 21);
  int32_t again[103];
  ck_assert_int_eq(mlprt_folds(103, 5, MLPRT_FOLDS_PLAIN, NULL, 9, again), 0);
  ck_assert_mem_eq(fold, again, sizeof fold);
  ck_assert_int_ne(mlprt_folds(4, 5, MLPRT_FOLDS_PLAIN, NULL, 9, fold), 0);
}
END_TEST

/* The keys as folds.py reads them: "k0,k1,..." (malloc'd). */
static char *key_list(const int32_t *key, int n) {
  char *s = malloc((size_t)n * 12 + 1), *p = s;
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%d", i ? "," : "", key[i]);
  return s;
}

/* Stratified folds: each class's rows in each fold as StratifiedKFold
 * allots them, the same for a seed, shuffled differently by another. */
START_TEST(split_folds_stratified) {
  enum { N = 103, K = 5, C = 3 };
  int32_t cls[N], fold[N], again[N], other[N];
  for (int i = 0; i < N; i++) cls[i] = i % 7 == 0 ? 2 : i % 3 == 0 ? 1 : 0;
  ck_assert_int_eq(mlprt_folds(N, K, MLPRT_FOLDS_STRATIFIED, cls, 3, fold), 0);
  ck_assert_int_eq(mlprt_folds(N, K, MLPRT_FOLDS_STRATIFIED, cls, 3, again), 0);
  ck_assert_int_eq(mlprt_folds(N, K, MLPRT_FOLDS_STRATIFIED, cls, 4, other), 0);
  ck_assert_mem_eq(fold, again, sizeof fold);
  ck_assert(memcmp(fold, other, sizeof fold) != 0);
  int held[K][C] = {{0}};
  for (int i = 0; i < N; i++) held[fold[i]][cls[i]]++;
  for (int c = 0; c < C; c++) /* each class spread evenly */
    for (int f = 1; f < K; f++) ck_assert_int_le(abs(held[f][c] - held[0][c]), 1);
  char *keys = key_list(cls, N);
  const char *args[] = {"stratified", "5", keys};
  cJSON *want = test_parity_oracle("stratified folds against StratifiedKFold", "folds.py", args, 3, "");
  free(keys);
  if (!want) return;
  cJSON *alloc = cJSON_GetObjectItem(want, "allocation");
  ck_assert_int_eq(cJSON_GetArraySize(alloc), K);
  for (int f = 0; f < K; f++)
    for (int c = 0; c < C; c++)
      ck_assert_int_eq(held[f][c], cJSON_GetArrayItem(cJSON_GetArrayItem(alloc, f), c)->valueint);
  cJSON_Delete(want);
}
END_TEST

/* Grouped folds: a group never spans two folds, the fold sizes are
 * GroupKFold's, and fewer groups than folds is refused. */
START_TEST(split_folds_grouped) {
  enum { G = 40, K = 4 };
  int32_t gid[400], fold[400], again[400];
  int n = 0;
  for (int g = 0; g < G; g++)
    for (int j = 0; j <= (g * 7) % 11; j++) gid[n++] = (g * 13) % G;
  ck_assert_int_eq(mlprt_folds(n, K, MLPRT_FOLDS_GROUPED, gid, 5, fold), 0);
  ck_assert_int_eq(mlprt_folds(n, K, MLPRT_FOLDS_GROUPED, gid, 5, again), 0);
  ck_assert_mem_eq(fold, again, (size_t)n * sizeof *fold);
  int32_t fold_of_group[G];
  for (int g = 0; g < G; g++) fold_of_group[g] = -1;
  int size[K] = {0};
  for (int i = 0; i < n; i++) {
    ck_assert(fold_of_group[gid[i]] < 0 || fold_of_group[gid[i]] == fold[i]);
    fold_of_group[gid[i]] = fold[i];
    size[fold[i]]++;
  }
  int32_t three[] = {0, 0, 1, 2, 2};
  ck_assert_int_ne(mlprt_folds(5, 4, MLPRT_FOLDS_GROUPED, three, 5, fold), 0);
  char *keys = key_list(gid, n);
  const char *args[] = {"grouped", "4", keys};
  cJSON *want = test_parity_oracle("grouped folds against GroupKFold", "folds.py", args, 3, "");
  free(keys);
  if (!want) return;
  cJSON *sizes = cJSON_GetObjectItem(want, "sizes");
  for (int f = 0; f < K; f++) ck_assert_int_eq(size[f], cJSON_GetArrayItem(sizes, f)->valueint);
  cJSON_Delete(want);
}
END_TEST

/* Time folds: fold f trains on the rows of lower folds only (never a
 * later row) and holds out the f-th block, as TimeSeriesSplit does. */
START_TEST(split_folds_time) {
  enum { N = 53, K = 4 };
  int32_t fold[N];
  ck_assert_int_eq(mlprt_folds(N, K, MLPRT_FOLDS_TIME, NULL, 0, fold), 0);
  for (int f = 0; f < K; f++) {
    int last_train = -1, first_test = N;
    for (int i = 0; i < N; i++) {
      if (fold[i] < f) last_train = i;
      if (fold[i] == f && i < first_test) first_test = i;
    }
    ck_assert_int_lt(last_train, first_test); /* no look-ahead */
  }
  ck_assert_int_ne(mlprt_folds(3, 4, MLPRT_FOLDS_TIME, NULL, 0, fold), 0);
  const char *args[] = {"time", "4", "53"};
  cJSON *want = test_parity_oracle("time folds against TimeSeriesSplit", "folds.py", args, 3, "");
  if (!want) return;
  cJSON *train = cJSON_GetObjectItem(want, "train"), *test = cJSON_GetObjectItem(want, "test");
  for (int f = 0; f < K; f++) {
    cJSON *tr = cJSON_GetArrayItem(train, f), *te = cJSON_GetArrayItem(test, f);
    int ntr = 0, nte = 0;
    for (int i = 0; i < N; i++) {
      if (fold[i] < f) ck_assert_int_eq(cJSON_GetArrayItem(tr, ntr++)->valueint, i);
      if (fold[i] == f) ck_assert_int_eq(cJSON_GetArrayItem(te, nte++)->valueint, i);
    }
    ck_assert_int_eq(ntr, cJSON_GetArraySize(tr));
    ck_assert_int_eq(nte, cJSON_GetArraySize(te));
  }
  cJSON_Delete(want);
}
END_TEST

START_TEST(split_no_leakage) {
  /* training values are 0..699 (by construction of the split below); held-out
   * rows are huge: mean, scale and bounds must ignore them, and filtering
   * rows keeps each row's part */
  MlprtTable t;
  make_table(&t, 1000);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) {
    t.part[r] = r < 700 ? MLPRT_TRAIN : MLPRT_TEST;
    if (r >= 700) t.cols[0].f[r] = 1e6f;
  }
  const char *id[] = {"id"};
  MlprtScaleParams sp = {.cols = {id, 1}, .method = MLPRT_SCALE_STANDARD};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_scale_fit(&t, &sp, &f, &e), 0);
  ck_assert_double_eq_tol(f.cols[0].a, 349.5, 1e-9);
  ck_assert_double_eq_tol(f.cols[0].b, sqrt((700.0 * 700 - 1) / 12), 1e-6);
  mlprt_fit_free(&f);
  MlprtOutlierParams op = {.cols = {id, 1}, .method = MLPRT_OUTLIER_ZSCORE, .action = MLPRT_OUTLIER_DROP};
  ck_assert_int_eq(mlprt_outliers_fit(&t, &op, &f, &e), 0);
  ck_assert_int_eq(mlprt_outliers_apply(&t, &f, &op, NULL, &e), 0);
  ck_assert_int_eq(t.nrows, 700); /* every held-out row is far outside */
  for (int64_t r = 0; r < t.nrows; r++) ck_assert_int_eq(t.part[r], MLPRT_TRAIN);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
}
END_TEST

START_TEST(split_export_by_part) {
  /* the cleaned features of one split, as CSV and as a matrix */
  MlprtTable t;
  make_table(&t, 200);
  MlprtSplitParams p = {.train = 0.5, .valid = 0.25, .test = 0.25, .seed = 3};
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_split(&t, &p, &e), 0);
  char *dir = test_tmpdir();
  char *path = malloc(strlen(dir) + 16);
  sprintf(path, "%s/valid.csv", dir);
  ck_assert_int_eq(mlprt_table_write_csv(&t, path, MLPRT_VALID, &e), 0);
  MlprtTable v;
  dt_load_ok(path, NULL, &v);
  ck_assert_int_eq(v.nrows, 50);
  int64_t w = 0;
  for (int64_t r = 0; r < t.nrows; r++) /* the same rows, in order */
    if (t.part[r] == MLPRT_VALID) ck_assert_float_eq(v.cols[0].f[w++], t.cols[0].f[r]);
  int64_t n;
  ck_assert_int_eq(mlprt_table_features(&t, MLPRT_TEST, mlprt_table_find(&t, "group"), NULL, &n),
                   1); /* id; class is a category */
  ck_assert_int_eq(n, 50);
  float *m = malloc(50 * sizeof *m);
  mlprt_table_features(&t, MLPRT_TEST, mlprt_table_find(&t, "group"), m, &n);
  w = 0;
  for (int64_t r = 0; r < t.nrows; r++)
    if (t.part[r] == MLPRT_TEST) ck_assert_float_eq(m[w++], t.cols[0].f[r]);
  free(m);
  mlprt_table_free(&v);
  mlprt_table_free(&t);
  free(path);
  dt_rmdir(dir);
}
END_TEST

/* the shared Fisher-Yates: a permutation, a pure function of (seed, stream),
 * and different streams of one seed give different orders */
START_TEST(split_shuffle_is_seeded_permutation) {
  enum { N = 1000 };
  int64_t a[N], b[N], c[N];
  for (int i = 0; i < N; i++) a[i] = b[i] = c[i] = i;
  mlprt_shuffle(a, N, 7, 1);
  mlprt_shuffle(b, N, 7, 1);
  mlprt_shuffle(c, N, 7, 2);
  int seen[N] = {0}, moved = 0, differ = 0;
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(a[i], b[i]);
    ck_assert(a[i] >= 0 && a[i] < N);
    seen[a[i]]++;
    moved += a[i] != i;
    differ += a[i] != c[i];
  }
  for (int i = 0; i < N; i++) ck_assert_int_eq(seen[i], 1);
  ck_assert_int_gt(moved, N / 2);
  ck_assert_int_gt(differ, N / 2);
}
END_TEST

Suite *split_suite(void);
Suite *split_suite(void) {
  Suite *s = suite_create("split");
  TCase *tc = tcase_create("split");
  tcase_add_test(tc, split_random_sizes_and_seeds);
  tcase_add_test(tc, split_stratified_grouped_time);
  tcase_add_test(tc, split_kfold);
  tcase_add_test(tc, split_folds_stratified);
  tcase_add_test(tc, split_folds_grouped);
  tcase_add_test(tc, split_folds_time);
  tcase_add_test(tc, split_no_leakage);
  tcase_add_test(tc, split_export_by_part);
  tcase_add_test(tc, split_shuffle_is_seeded_permutation);
  suite_add_tcase(s, tc);
  return s;
}
