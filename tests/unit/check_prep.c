/* check_prep.c — the training program's data preparation for IDX images:
 * a small image and label file written here are split, and every row of
 * every split must read back as its own image's pixels / 255 with its own
 * label, each image in exactly one split. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/train/train_int.h"
#include "tests/unit/datautil.h"

enum { ROWS = 40, CLASSES = 4, SIDE = 2, F = SIDE * SIDE };

START_TEST(prep_idx_rows_read_back_their_images) {
  char *dir = test_tmpdir();
  /* Image r: its id, its label's mark, full white, and 5 r. */
  unsigned char img[16 + ROWS * F] = {0, 0, 8, 3, 0, 0, 0, ROWS, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
  unsigned char lab[8 + ROWS] = {0, 0, 8, 1, 0, 0, 0, ROWS};
  for (int r = 0; r < ROWS; r++) {
    unsigned char *px = img + 16 + r * F;
    px[0] = (unsigned char)r;
    px[1] = (unsigned char)(r % CLASSES * 60);
    px[2] = 255;
    px[3] = (unsigned char)(5 * r);
    lab[8 + r] = (unsigned char)(r % CLASSES);
  }
  char *images = dt_write(dir, "images.idx", (const char *)img, sizeof img);
  char *labels = dt_write(dir, "labels.idx", (const char *)lab, sizeof lab);
  MlprtModel model = {.task = MLPRT_TASK_MULTICLASS, .n_in = F, .n_out = CLASSES};
  MlprtProgram p = {.name = "idx",
                    .data_format = "idx",
                    .data_path = images,
                    .data_path2 = labels,
                    .target = "label",
                    .n_features = F,
                    .n_classes = CLASSES,
                    .val_frac = 0.25,
                    .test_frac = 0.25,
                    .stratify = 1,
                    .split_seed = 7,
                    .models = &model,
                    .nmodels = 1};
  MlprtDataset d;
  char err[512];
  ck_assert_msg(mlprt_prep_load(&p, images, NULL, &d, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(d.n[MLPRT_TRAIN] + d.n[MLPRT_VALID] + d.n[MLPRT_TEST], ROWS);
  int seen[ROWS] = {0};
  for (int s = 0; s < 3; s++) {
    ck_assert_int_gt(d.n[s], 0);
    for (int64_t i = 0; i < d.n[s]; i++) {
      float x[F];
      mlprt_dataset_row(&d, s, i, x);
      long id = lroundf(x[0] * 255);
      ck_assert_int_ge(id, 0);
      ck_assert_int_lt(id, ROWS);
      seen[id]++;
      ck_assert_float_eq(x[0], (float)id / 255.0f);
      ck_assert_float_eq(x[1], (float)(id % CLASSES * 60) / 255.0f);
      ck_assert_float_eq(x[2], 1.0f);
      ck_assert_float_eq(x[3], (float)(5 * id) / 255.0f);
      ck_assert_int_eq(d.label[s][i], id % CLASSES);
      for (int k = 0; k < CLASSES; k++) ck_assert_float_eq(d.y[s][i * CLASSES + k], k == id % CLASSES);
    }
  }
  for (int r = 0; r < ROWS; r++) ck_assert_msg(seen[r] == 1, "image %d read %d times", r, seen[r]);
  mlprt_prep_free(&d);
  free(images);
  free(labels);
  dt_rmdir(dir);
}
END_TEST

/* impute with indicator columns, then onehot of every categorical column:
 * the indicators (booleans) are converted to categories while the encode
 * step's selection holds the table's column names, which must survive the
 * conversion (they once read freed memory, and the build failed naming a
 * garbage column). */
START_TEST(prep_indicator_then_onehot) {
  char *dir = test_tmpdir();
  char *csv = dt_write(dir, "d.csv", "a,b,c,y\n1,x,2,p\n2,,3,q\n,y,4,p\n4,x,,q\n5,y,6,p\n6,x,7,q\n"
                                     "7,,8,p\n8,y,9,q\n", 0);
  MlprtCleanStep steps[] = {
      {.op = MLPRT_CLEAN_IMPUTE, .select = MLPRT_SELECT_NUMERIC, .method = MLPRT_IMPUTE_MEAN, .flag = 1},
      {.op = MLPRT_CLEAN_ONEHOT, .select = MLPRT_SELECT_CATEGORICAL}};
  /* a, c, b=x, b=y, a_missing=false, a_missing=true, c_missing=false, c_missing=true */
  MlprtModel model = {.task = MLPRT_TASK_MULTICLASS, .n_in = 8, .n_out = 2};
  MlprtProgram p = {.data_format = "csv", .data_path = csv, .target = "y", .clean = steps, .nclean = 2,
                    .n_features = 8, .n_classes = 2, .models = &model, .nmodels = 1};
  MlprtDataset d;
  char err[512];
  ck_assert_msg(mlprt_prep_load(&p, csv, NULL, &d, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(d.F, 8);
  ck_assert_int_eq(d.nclasses, 2);
  mlprt_prep_free(&d);
  /* a program compiled for another width stops, naming both counts */
  p.n_features = 7;
  ck_assert_int_ne(mlprt_prep_load(&p, csv, NULL, &d, err, sizeof err), 0);
  ck_assert_msg(strstr(err, "the data gives 8 features but the program was compiled for 7"), "%s", err);
  mlprt_prep_free(&d); /* what the load had made before it stopped */
  free(csv);
  dt_rmdir(dir);
}
END_TEST

/* Steps whose columns the compiler resolved to indices into the table as
 * each step meets it (MlprtCleanStep.ncols, columns_idx): after an impute
 * indicator is appended and a onehot moves its column's levels to the end,
 * a step naming c selects column 1 and one naming a_missing column 3, and
 * the values show each took its own column. A table of another width than
 * the compiled one stops the step, naming both counts. */
START_TEST(prep_traced_indices_pick_their_columns) {
  char *dir = test_tmpdir();
  char *csv = dt_write(dir, "d.csv", "a,b,c,y\n1,x,1,p\n,y,2,q\n3,x,3,p\n4,y,4,q\n5,x,5,p\n6,y,6,q\n", 0);
  static const int64_t first[] = {0}, second[] = {1}, fourth[] = {3};
  /* a b c y | a b c y a_missing | a c y a_missing b=x b=y | the same | a c y b=x b=y */
  MlprtCleanStep steps[] = {
      {.op = MLPRT_CLEAN_IMPUTE, .select = MLPRT_SELECT_NAMES, .columns = "a\n", .method = MLPRT_IMPUTE_MEAN,
       .flag = 1, .ncols = 4, .columns_idx = first, .ncolumns_idx = 1},
      {.op = MLPRT_CLEAN_ONEHOT, .select = MLPRT_SELECT_NAMES, .columns = "b\n", .levels = "b\tx\ty\n",
       .ncols = 5, .columns_idx = second, .ncolumns_idx = 1},
      {.op = MLPRT_CLEAN_MINMAX, .select = MLPRT_SELECT_NAMES, .columns = "c\n", .low = 0, .high = 1,
       .ncols = 6, .columns_idx = second, .ncolumns_idx = 1},
      {.op = MLPRT_CLEAN_DROP_COLUMNS, .select = MLPRT_SELECT_NAMES, .columns = "a_missing\n", .ncols = 6,
       .columns_idx = fourth, .ncolumns_idx = 1}};
  MlprtModel model = {.task = MLPRT_TASK_BINARY, .n_in = 4, .n_out = 1};
  MlprtProgram p = {.data_format = "csv", .data_path = csv, .target = "y", .clean = steps, .nclean = 4,
                    .n_features = 4, .n_classes = 2, .models = &model, .nmodels = 1};
  MlprtDataset d;
  char err[512];
  ck_assert_msg(mlprt_prep_load(&p, csv, NULL, &d, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(d.F, 4);
  int64_t rows = 0;
  for (int s = 0; s < 3; s++) {
    for (int64_t i = 0; i < d.n[s]; i++, rows++) {
      float x[4]; /* a, c, b=x, b=y */
      mlprt_dataset_row(&d, s, i, x);
      long c = lroundf(x[1] * 5) + 1; /* c scaled over 1..6 */
      ck_assert_float_eq_tol(x[1], (float)(c - 1) / 5, 1e-6);
      ck_assert_float_eq_tol(x[0], c == 2 ? 3.8f : (float)c, 1e-5); /* a = c but the imputed row */
      ck_assert_float_eq(x[2], c % 2 == 1);
      ck_assert_float_eq(x[3], c % 2 == 0);
    }
  }
  ck_assert_int_eq(rows, 6);
  mlprt_prep_free(&d);
  steps[2].ncols = 7;
  ck_assert_int_ne(mlprt_prep_load(&p, csv, NULL, &d, err, sizeof err), 0);
  ck_assert_msg(strstr(err, "cleaning step 3 (minmax)") &&
                    strstr(err, "the table has 6 columns here where the compiled program expects 7"),
                "%s", err);
  mlprt_prep_free(&d);
  free(csv);
  dt_rmdir(dir);
}
END_TEST

/* A given test set (MlprtProgram.test_path): its rows are the test split,
 * all of them and nothing else, and the cleaning chain is fitted on the
 * training rows alone. The test file's x values are a thousand times the
 * training file's: a standardize fit that saw them would centre near 300,
 * not within the training values 1..10. A test file with other columns is
 * an error naming it. */
START_TEST(prep_given_test_set_is_never_fitted) {
  char *dir = test_tmpdir();
  char *train = dt_write(dir, "train.csv", "x,y\n1,p\n2,q\n3,p\n4,q\n5,p\n6,q\n7,p\n8,q\n9,p\n10,q\n", 0);
  char *test = dt_write(dir, "test.csv", "x,y\n1000,p\n1001,q\n,p\n1003,q\n1004,\n", 0);
  MlprtCleanStep steps[] = {{.op = MLPRT_CLEAN_STANDARDIZE, .select = MLPRT_SELECT_NUMERIC}};
  MlprtModel model = {.task = MLPRT_TASK_BINARY, .n_in = 1, .n_out = 1};
  MlprtProgram p = {.data_format = "csv", .data_path = train, .test_path = test, .target = "y",
                    .schema = "x\tint\ny\tcategory\n", .clean = steps, .nclean = 1, .n_features = 1,
                    .n_classes = 2, .val_frac = 0.2, .split_seed = 3, .models = &model, .nmodels = 1};
  MlprtDataset d;
  char err[512];
  ck_assert_msg(mlprt_prep_load(&p, train, NULL, &d, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(d.n[MLPRT_TRAIN], 8);
  ck_assert_int_eq(d.n[MLPRT_VALID], 2);
  ck_assert_int_eq(d.n[MLPRT_TEST], 4); /* the row without a target is left out */
  ck_assert_int_eq(d.raw_split, MLPRT_TEST);
  const cJSON *col = cJSON_GetArrayItem(
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d.cleaning, "cleaning"),
                                                                 "steps"),
                                             0),
                          "columns"),
      0);
  double center = cJSON_GetObjectItem(col, "center")->valuedouble;
  double scale = cJSON_GetObjectItem(col, "scale")->valuedouble;
  ck_assert_msg(center >= 1 && center <= 10, "fitted centre %g: the test rows leaked into the fit", center);
  /* the training split's values, read back, average to the centre */
  double sum = 0;
  for (int64_t i = 0; i < d.n[MLPRT_TRAIN]; i++) {
    float x;
    mlprt_dataset_row(&d, MLPRT_TRAIN, i, &x);
    double v = center + scale * x;
    ck_assert_msg(v > 0.5 && v < 10.5, "training value %g", v);
    sum += v;
  }
  ck_assert_double_eq_tol(sum / (double)d.n[MLPRT_TRAIN], center, 1e-4);
  /* the test rows are the test file's, in its order, with the training fit */
  const double want[] = {1000, 1001, NAN, 1003};
  for (int64_t i = 0; i < 4; i++) {
    float x;
    mlprt_dataset_row(&d, MLPRT_TEST, i, &x);
    if (isnan(want[i])) ck_assert_float_eq(x, 0); /* missing, unfilled: 0 */
    else ck_assert_double_eq_tol(center + scale * x, want[i], 1e-2);
    ck_assert_int_eq(d.label[MLPRT_TEST][i], (int)i % 2);
  }
  ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d.cleaning, "test_source"), "source")->valuestring,
                   test);
  ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d.cleaning, "test_source"),
                                       "rows_dropped_missing_target")->valueint, 1);
  ck_assert_int_eq((int)strlen(d.test_sha256), 64);
  mlprt_prep_free(&d);
  char *other = dt_write(dir, "other.csv", "x,z,y\n1,2,p\n", 0);
  p.test_path = other;
  ck_assert_int_ne(mlprt_prep_load(&p, train, NULL, &d, err, sizeof err), 0);
  ck_assert_msg(strstr(err, other) && strstr(err, "the test source's columns differ"), "%s", err);
  mlprt_prep_free(&d);
  free(other);
  free(train);
  free(test);
  dt_rmdir(dir);
}
END_TEST

/* With a given test set, the steps before the split run on its rows on
 * their own: a lag of a test row reads the earlier test rows of its
 * series (test values are 100 and up, training values below 20), so the
 * first test row of each series has no history and is dropped; the test
 * rows keep the test file's numbering. */
START_TEST(prep_given_test_set_runs_head_steps_alone) {
  char *dir = test_tmpdir();
  char *train = dt_write(dir, "train.csv",
                         "key,x,y\na,1,p\nb,11,q\na,2,p\nb,12,q\na,3,q\nb,13,p\na,4,p\nb,14,q\n"
                         "a,5,q\nb,15,p\na,6,p\nb,16,q\n",
                         0);
  char *test =
      dt_write(dir, "test.csv", "key,x,y\na,100,p\nb,200,q\na,101,q\nb,201,p\na,102,p\nb,202,q\n", 0);
  static const int64_t one[] = {1};
  MlprtCleanStep steps[] = {{.op = MLPRT_CLEAN_LAG,
                             .select = MLPRT_SELECT_NAMES,
                             .columns = "x\n",
                             .by = "key",
                             .by_idx = -1,
                             .method = MLPRT_HISTORY_DROP,
                             .ints = one,
                             .nints = 1}};
  MlprtModel model = {.task = MLPRT_TASK_BINARY, .n_in = 2, .n_out = 1};
  MlprtProgram p = {.data_format = "csv", .data_path = train, .test_path = test, .target = "y",
                    .schema = "key\tcategory\nx\tint\ny\tcategory\n", .clean = steps, .nclean = 1,
                    .n_features = 2, .n_classes = 2, .val_frac = 0.2, .split_seed = 3, .models = &model,
                    .nmodels = 1};
  MlprtDataset d;
  char err[512];
  ck_assert_msg(mlprt_prep_load(&p, train, NULL, &d, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(d.n[MLPRT_TRAIN] + d.n[MLPRT_VALID], 10); /* each series' first row has no history */
  ck_assert_int_eq(d.n[MLPRT_TEST], 4);
  ck_assert_int_eq(d.raw.nrows, 4);
  const int64_t rows[] = {3, 4, 5, 6};
  const float lags[] = {100, 200, 101, 201};
  for (int64_t i = 0; i < 4; i++) {
    float x[2];
    mlprt_dataset_row(&d, MLPRT_TEST, i, x);
    ck_assert_float_eq(x[1], lags[i]);
    ck_assert_int_eq(d.raw.rowid[i], rows[i]);
  }
  for (int64_t i = 0; i < d.n[MLPRT_TRAIN]; i++) {
    float x[2];
    mlprt_dataset_row(&d, MLPRT_TRAIN, i, x);
    ck_assert_msg(x[1] < 20 && x[0] - x[1] == 1, "training row %lld: lag %g of %g", (long long)i, x[1], x[0]);
  }
  mlprt_prep_free(&d);
  free(train);
  free(test);
  dt_rmdir(dir);
}
END_TEST

/* IDX images with a given test set: the test split is every image of the
 * test files, in order, with its own label; the data's images make the
 * training and validation splits alone. */
START_TEST(prep_idx_given_test_images) {
  char *dir = test_tmpdir();
  enum { TROWS = 6 };
  unsigned char img[16 + ROWS * F] = {0, 0, 8, 3, 0, 0, 0, ROWS, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
  unsigned char lab[8 + ROWS] = {0, 0, 8, 1, 0, 0, 0, ROWS};
  unsigned char timg[16 + TROWS * F] = {0, 0, 8, 3, 0, 0, 0, TROWS, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
  unsigned char tlab[8 + TROWS] = {0, 0, 8, 1, 0, 0, 0, TROWS};
  for (int r = 0; r < ROWS; r++)
    img[16 + r * F] = (unsigned char)r, lab[8 + r] = (unsigned char)(r % CLASSES);
  for (int r = 0; r < TROWS; r++)
    timg[16 + r * F] = (unsigned char)(200 + r), tlab[8 + r] = (unsigned char)((r + 1) % CLASSES);
  char *images = dt_write(dir, "images.idx", (const char *)img, sizeof img);
  char *labels = dt_write(dir, "labels.idx", (const char *)lab, sizeof lab);
  char *timages = dt_write(dir, "timages.idx", (const char *)timg, sizeof timg);
  char *tlabels = dt_write(dir, "tlabels.idx", (const char *)tlab, sizeof tlab);
  MlprtModel model = {.task = MLPRT_TASK_MULTICLASS, .n_in = F, .n_out = CLASSES};
  MlprtProgram p = {.data_format = "idx", .data_path = images, .data_path2 = labels, .test_path = timages,
                    .test_path2 = tlabels, .target = "label", .n_features = F, .n_classes = CLASSES,
                    .val_frac = 0.25, .stratify = 1, .split_seed = 7, .models = &model, .nmodels = 1};
  MlprtDataset d;
  char err[512];
  ck_assert_msg(mlprt_prep_load(&p, images, NULL, &d, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(d.n[MLPRT_TRAIN] + d.n[MLPRT_VALID], ROWS);
  ck_assert_int_eq(d.n[MLPRT_TEST], TROWS);
  for (int64_t i = 0; i < TROWS; i++) {
    float x[F];
    mlprt_dataset_row(&d, MLPRT_TEST, i, x);
    ck_assert_float_eq(x[0], (float)(200 + i) / 255.0f);
    ck_assert_int_eq(d.label[MLPRT_TEST][i], (i + 1) % CLASSES);
  }
  for (int s = MLPRT_TRAIN; s <= MLPRT_VALID; s++)
    for (int64_t i = 0; i < d.n[s]; i++) {
      float x[F];
      mlprt_dataset_row(&d, s, i, x);
      ck_assert_float_lt(x[0], 200.0f / 255.0f);
    }
  mlprt_prep_free(&d);
  free(images);
  free(labels);
  free(timages);
  free(tlabels);
  dt_rmdir(dir);
}
END_TEST

Suite *prep_suite(void);
Suite *prep_suite(void) {
  Suite *s = suite_create("prep");
  TCase *tc = tcase_create("idx");
  tcase_add_test(tc, prep_idx_rows_read_back_their_images);
  tcase_add_test(tc, prep_indicator_then_onehot);
  tcase_add_test(tc, prep_traced_indices_pick_their_columns);
  tcase_add_test(tc, prep_given_test_set_is_never_fitted);
  tcase_add_test(tc, prep_given_test_set_runs_head_steps_alone);
  tcase_add_test(tc, prep_idx_given_test_images);
  suite_add_tcase(s, tc);
  return s;
}
