/* check_idx.c — IDX files: small plain and gzipped files written here,
 * malformed headers and truncated data, and Debian's Fashion-MNIST test
 * set against numbers computed with numpy. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mlp/data.h"
#include "tests/unit/datautil.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"


/* A gzipped file holding len bytes. */
static char *write_gz(const char *name, const unsigned char *bytes, size_t len) {
  char *p = malloc(strlen(dt_dir) + strlen(name) + 2);
  sprintf(p, "%s/%s", dt_dir, name);
  gzFile g = gzopen(p, "wb");
  ck_assert_ptr_nonnull(g);
  ck_assert_int_eq(gzwrite(g, bytes, (unsigned)len), (int)len);
  gzclose(g);
  return p;
}

static const unsigned char small[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, /* (2, 2, 3) */
                                      0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};

START_TEST(idx_small_files) {
  char *plain = dt_write(dt_dir, "s.idx", (const char *)small, sizeof small);
  char *gz = write_gz("s.idx.gz", small, sizeof small);
  const char *paths[] = {plain, gz};
  for (int i = 0; i < 2; i++) {
    MlprtIdx x;
    MlprtError e = {0};
    ck_assert_msg(mlprt_idx_load(paths[i], &x, &e) == 0, "%s", dt_err(&e));
    ck_assert_int_eq(x.ndim, 3);
    ck_assert_int_eq(x.dims[0], 2);
    ck_assert_int_eq(x.dims[2], 3);
    ck_assert_int_eq(x.data[6], 250);
    float f[12];
    mlprt_idx_to_float(&x, f);
    ck_assert_float_eq(f[11], 1.0f);
    ck_assert_float_eq(f[0], 0.0f);
    mlprt_idx_free(&x);
  }
  free(plain);
  free(gz);
}
END_TEST

START_TEST(idx_malformed) {
  MlprtIdx x;
  MlprtError e = {0};
  unsigned char bad[sizeof small];
  memcpy(bad, small, sizeof small);
  bad[2] = 0x0D; /* floats: not supported */
  char *p = write_gz("f.gz", bad, sizeof bad);
  ck_assert_int_ne(mlprt_idx_load(p, &x, &e), 0);
  ck_assert_ptr_nonnull(strstr(e.msg, "magic"));
  free(p);
  p = write_gz("t.gz", small, sizeof small - 1);
  ck_assert_int_ne(mlprt_idx_load(p, &x, &e), 0);
  ck_assert_ptr_nonnull(strstr(e.msg, "truncated IDX data"));
  free(p);
  unsigned char longer[sizeof small + 1];
  memcpy(longer, small, sizeof small);
  longer[sizeof small] = 7;
  p = write_gz("l.gz", longer, sizeof longer);
  ck_assert_int_ne(mlprt_idx_load(p, &x, &e), 0);
  ck_assert_ptr_nonnull(strstr(e.msg, "trailing"));
  free(p);
  p = dt_write(dt_dir, "e.idx", "", 0);
  ck_assert_int_ne(mlprt_idx_load(p, &x, &e), 0);
  ck_assert_ptr_nonnull(strstr(e.msg, "empty"));
  ck_assert_str_eq(e.file, p);
  free(p);
  ck_assert_int_ne(mlprt_idx_load("/nonexistent.idx.gz", &x, &e), 0);
  ck_assert_ptr_nonnull(strstr(e.msg, "cannot open"));
}
END_TEST

START_TEST(idx_fashion_mnist) {
  const char *lp = dt_system_file(FMNIST "t10k-labels-idx1-ubyte.gz", "dataset-fashion-mnist");
  const char *ip = dt_system_file(FMNIST "t10k-images-idx3-ubyte.gz", "dataset-fashion-mnist");
  if (!lp || !ip) return;
  MlprtIdx lab, img;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_idx_load(lp, &lab, &e), 0);
  ck_assert_int_eq(mlprt_idx_load(ip, &img, &e), 0);
  ck_assert_int_eq(lab.ndim, 1);
  ck_assert_int_eq(lab.dims[0], 10000);
  ck_assert_int_eq(img.ndim, 3);
  ck_assert_int_eq(img.dims[0], 10000);
  ck_assert_int_eq(img.dims[1], 28);
  ck_assert_int_eq(img.dims[2], 28);
  /* numpy on the gunzipped files: np.bincount(labels) is 1000 for each of
   * the 10 classes, labels[:5] = 9 2 1 1 6, images.sum() = 573469082 and
   * the first image sums to 33456 */
  int count[10] = {0};
  for (int i = 0; i < 10000; i++) count[lab.data[i]]++;
  for (int k = 0; k < 10; k++) ck_assert_int_eq(count[k], 1000);
  const int first[] = {9, 2, 1, 1, 6};
  for (int i = 0; i < 5; i++) ck_assert_int_eq(lab.data[i], first[i]);
  long long total = 0, first_img = 0;
  for (size_t i = 0; i < (size_t)10000 * 784; i++) total += img.data[i];
  for (int i = 0; i < 784; i++) first_img += img.data[i];
  ck_assert_int_eq(total, 573469082LL);
  ck_assert_int_eq(first_img, 33456);
  mlprt_idx_free(&lab);
  mlprt_idx_free(&img);
}
END_TEST

Suite *idx_suite(void);
Suite *idx_suite(void) {
  Suite *s = suite_create("idx");
  TCase *tc = tcase_create("idx");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_add_test(tc, idx_small_files);
  tcase_add_test(tc, idx_malformed);
  tcase_add_test(tc, idx_fashion_mnist);
  suite_add_tcase(s, tc);
  return s;
}
