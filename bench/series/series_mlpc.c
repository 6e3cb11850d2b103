/* series_mlpc.c — the time-series benchmark's steps over mlpc's runtime,
 * the same as series_pandas.py: on ROWS rows of GROUPS interleaved series
 * (a category key, one float value, generated here as there), per-group
 * lags 1, 2 and 3, then the mean and standard deviation of the 7 rows
 * before each row, per group. Prints one line:
 *   mlpc SECONDS PEAK_RSS_KB RSS_BEFORE_KB CHECKSUM
 * where CHECKSUM is the sum of every derived value that is not missing.
 *
 *   series_mlpc [ROWS] [GROUPS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "mlp/clean.h"
#include "../bench.h"

static long peak_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int main(int argc, char **argv) {
  int64_t rows = argc > 1 ? atoll(argv[1]) : 1000000;
  int groups = argc > 2 ? atoi(argv[2]) : 1000;
  MlprtTable t;
  mlprt_table_init(&t);
  int kc = mlprt_table_add_column(&t, "key", MLPRT_COL_CATEGORY);
  int vc = mlprt_table_add_column(&t, "v", MLPRT_COL_FLOAT);
  mlprt_table_reserve(&t, rows);
  t.nrows = rows;
  for (int g = 0; g < groups; g++) {
    char name[32];
    int n = snprintf(name, sizeof name, "g%d", g);
    mlprt_levels_intern(&t.cols[kc].levels, name, (size_t)n);
  }
  /* the same sequence as series_pandas.py: key (r * 7919) % groups, value
   * a function of r on a coarse grid (exact in float32 and float64) */
  for (int64_t r = 0; r < rows; r++) {
    t.cols[kc].codes[r] = (int32_t)((r * 7919) % groups);
    t.cols[vc].f[r] = (float)((uint32_t)(r * 2654435761u) % 1000) / 8;
  }
  long before = peak_kb();
  const char *v[] = {"v"};
  MlprtSeriesParams p = {.cols = {v, 1}, .by = "key", .history = MLPRT_HISTORY_NULL};
  int steps[] = {1, 2, 3};
  MlprtRoll stats[] = {MLPRT_ROLL_MEAN, MLPRT_ROLL_STD};
  MlprtError e = {0};
  double t0 = bench_now();
  if (mlprt_ts_lag(&t, &p, steps, 3, NULL, &e) || mlprt_ts_rolling(&t, &p, 7, 1, stats, 2, NULL, &e)) {
    char buf[1024];
    mlprt_error_format(&e, buf, sizeof buf);
    fprintf(stderr, "series_mlpc: %s\n", buf);
    return 1;
  }
  double t1 = bench_now();
  double sum = 0;
  for (int c = vc + 1; c < t.ncols; c++)
    for (int64_t r = 0; r < rows; r++)
      if (!isnan(t.cols[c].f[r])) sum += t.cols[c].f[r];
  printf("mlpc %.4f %ld %ld %.6e\n", t1 - t0, peak_kb(), before, sum);
  mlprt_table_free(&t);
  return 0;
}
