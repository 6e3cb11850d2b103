/* dates.c — numeric parts of dates for models: year, month, day of week
 * and the rest, plain or as a sine and cosine of their period. Consumes
 * DATETIME columns (epoch seconds, UTC); produces float columns, one value
 * per row from that row's date alone, so the predictor computes the same
 * from one row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

static const char *const part_names[MLPRT_DATE_NPARTS] = {
    "year", "quarter", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "second", "epoch"};

/* each part's period, and the value its cycle starts from */
static const double part_period[MLPRT_DATE_NPARTS] = {0, 4, 12, 31, 7, 366, 24, 60, 60, 0};
static const double part_first[MLPRT_DATE_NPARTS] = {0, 1, 1, 1, 0, 1, 0, 0, 0, 0};

const char *mlprt_date_part_name(int part) {
  return part >= 0 && part < MLPRT_DATE_NPARTS ? part_names[part] : "?";
}

double mlprt_date_part_period(int part) {
  return part >= 0 && part < MLPRT_DATE_NPARTS ? part_period[part] : 0;
}

double mlprt_date_part(int64_t t, int part, int cyclical) {
  if (t == MLPRT_TIME_NA || part < 0 || part >= MLPRT_DATE_NPARTS) return NAN;
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), secs = t - days * 86400, y;
  int m, d;
  mlprt_civil_from_days(days, &y, &m, &d);
  double v;
  switch (part) {
  case MLPRT_DATE_YEAR: v = (double)y; break;
  case MLPRT_DATE_QUARTER: v = (m - 1) / 3 + 1; break;
  case MLPRT_DATE_MONTH: v = m; break;
  case MLPRT_DATE_DAY: v = d; break;
  case MLPRT_DATE_DAYOFWEEK: v = (double)(((days + 3) % 7 + 7) % 7); break; /* 1970-01-01 was a Thursday */
  case MLPRT_DATE_DAYOFYEAR: v = (double)(days - mlprt_days_from_civil(y, 1, 1) + 1); break;
  case MLPRT_DATE_HOUR: v = (double)(secs / 3600); break;
  case MLPRT_DATE_MINUTE: v = (double)(secs / 60 % 60); break;
  case MLPRT_DATE_SECOND: v = (double)(secs % 60); break;
  default: v = (double)t; break;
  }
  if (!cyclical || part_period[part] == 0) return v;
  double a = 2 * M_PI * (v - part_first[part]) / part_period[part];
  return cyclical == 1 ? sin(a) : cos(a);
}

int mlprt_date_features(MlprtTable *t, MlprtCols cols, const int *parts, int nparts, bool cyclical,
                        MlprtCleanLog *log, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, cols, MLPRT_TM(MLPRT_COL_DATETIME), "date_features", &idx, err);
  if (n < 0) return -1;
  MlprtFit f;
  mlprt_fit_init(&f, MLPRT_STEP_TIME, MLPRT_TIME_DATE_FEATURES, t, idx, n);
  f.rows_before = f.rows_after = t->nrows;
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < nparts; k++) {
      int part = parts[k];
      bool two = cyclical && mlprt_date_part_period(part) > 0;
      for (int form = two ? 1 : 0; form <= (two ? 2 : 0); form++) {
        char name[512];
        mlprt_derived_name(name, sizeof name, MLPRT_CLEAN_DATE_FEATURES, t->cols[idx[i]].name, part, 0, 0,
                           form);
        int out = mlprt_table_add_column(t, name, MLPRT_COL_FLOAT);
        t->cols[out].origin = t->cols[idx[i]].origin;
        const int64_t *tm = t->cols[idx[i]].t;
        float *y = t->cols[out].f;
        for (int64_t r = 0; r < t->nrows; r++) y[r] = (float)mlprt_date_part(tm[r], part, form);
      }
    }
  }
  mlprt_log_fit(log, &f);
  mlprt_fit_free(&f);
  free(idx);
  return 0;
}
