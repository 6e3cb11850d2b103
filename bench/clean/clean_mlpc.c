/* clean_mlpc.c — the cleaning benchmark's chain over mlpc's runtime, the
 * same steps as clean_pandas.py: load (parallel parse), drop_duplicates,
 * median imputation, z = 3 clipping, standardising, one-hot encoding.
 * Every row trains (no split), as in the pandas chain. Prints one line:
 *   mlpc SECONDS PEAK_RSS_KB ROWS_OUT COLS_OUT
 *
 *   clean_mlpc FILE.csv [THREADS] [cleaning.json] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "mlp/clean.h"
#include "../bench.h"

static void die(const MlprtError *e) {
  char buf[1024];
  mlprt_error_format(e, buf, sizeof buf);
  fprintf(stderr, "clean_mlpc: %s\n", buf);
  exit(1);
}

static void fit_apply(int rc, MlprtTable *t, MlprtFit *f, MlprtCleanLog *log, MlprtError *e) {
  if (rc || mlprt_fit_apply(t, f, log, e)) die(e);
  mlprt_fit_free(f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: clean_mlpc FILE.csv [THREADS] [cleaning.json]\n");
    return 2;
  }
  MlprtLoadOpts o = {.nthreads = argc > 2 ? atoi(argv[2]) : 2};
  MlprtTable t;
  MlprtError e = {0};
  MlprtFit f;
  double t0 = bench_now();
  if (mlprt_load(argv[1], &o, &t, &e)) die(&e);
  double t1 = bench_now();
  MlprtCleanLog *log = mlprt_clean_log_new(argv[1]);
  if (mlprt_drop_duplicates(&t, (MlprtCols){0}, log, &e) < 0) die(&e);
  const char *num[] = {"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"};
  MlprtCols cols = {num, 8};
  MlprtImputeParams ip = {.cols = cols, .strategy = MLPRT_IMPUTE_MEDIAN};
  fit_apply(mlprt_impute_fit(&t, &ip, &f, &e), &t, &f, log, &e);
  MlprtOutlierParams op = {.cols = cols, .method = MLPRT_OUTLIER_ZSCORE, .threshold = 3};
  fit_apply(mlprt_outliers_fit(&t, &op, &f, &e), &t, &f, log, &e);
  MlprtScaleParams sp = {.cols = cols, .method = MLPRT_SCALE_STANDARD};
  fit_apply(mlprt_scale_fit(&t, &sp, &f, &e), &t, &f, log, &e);
  MlprtEncodeParams ep = {.method = MLPRT_ENCODE_ONEHOT};
  fit_apply(mlprt_encode_fit(&t, &ep, &f, &e), &t, &f, log, &e);
  double t2 = bench_now();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("mlpc %.3f %ld %lld %d load=%.3f clean=%.3f\n", t2 - t0, ru.ru_maxrss, (long long)t.nrows, t.ncols,
         t1 - t0, t2 - t1);
  if (argc > 3 && mlprt_clean_log_write(log, argv[3], &e)) die(&e);
  mlprt_clean_log_free(log);
  mlprt_table_free(&t);
  return 0;
}
