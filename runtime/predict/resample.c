/* resample.c — a stream of raw rows put on the time grid, as training's
 * resample made its rows.
 *
 * Consumes each raw row's fields (the plan's inputs, in order) and the
 * plan's RESAMPLE step; produces the grid rows as fields of the same
 * inputs, each with its time and series key, for the row program. A
 * series (one per value of the group key, a missing key one of its own) keeps
 * its open bucket: the count and running aggregate of each number, the
 * last (first) text of each other column, and the last value of each
 * column that a gap repeats. A bucket is complete when a row of a later
 * bucket of its series comes: it is given then, with the gap buckets
 * before that row's, filled as training filled them; the open buckets at
 * the end of the input are given last, the series in the order they
 * first came. A row without a time is left out, as training left it out,
 * and so is one whose target is given and missing (training dropped it
 * before resampling); a row earlier than its series' open bucket is an
 * error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict_int.h"

#define TEXT_CAP 256 /* the longest text a resampled column keeps, with its terminator */

typedef struct {
  char key[TEXT_CAP];
  double key_value; /* a numeric key's number (NAN: compared as text) */
  bool key_missing, open;
  int64_t bucket;     /* the open one, when open */
  int64_t *count;     /* [ninputs] the values of each number in it */
  double *acc;        /* [ninputs] their aggregate so far */
  float *good;        /* [ninputs] the last bucket's value of each number that was not missing */
  char *text;         /* [ninputs, TEXT_CAP] each other column's text in it ("" none) */
  char *last;         /* [ninputs, TEXT_CAP] and in the bucket before */
} Series;

struct MlprtResampler {
  const MlprtPredPlan *pl;
  int64_t on, by, step; /* the time and key inputs (by -1: none), the grid step in seconds */
  int64_t target;       /* the target's input, or -1 */
  int fill, agg;
  MlprtNaSet na;
  const char *missing; /* a text read as missing */
  Series *series;
  int64_t nseries;
  const char **fields; /* [ninputs] a grid row's fields */
  char *made;          /* [ninputs, TEXT_CAP] their texts */
};

static bool numeric(const MlprtResampler *rs, int64_t i) {
  int64_t t = rs->pl->inputs[i].type;
  return i != rs->by && (t == MLPRT_COL_FLOAT || t == MLPRT_COL_INT);
}

MlprtResampler *mlprt_resampler_open(const MlprtPredPlan *pl) {
  const MlprtPredStep *st = NULL;
  for (int64_t i = 0; i < pl->nsteps && !st; i++)
    if (pl->steps[i].op == MLPRT_PSTEP_RESAMPLE) st = &pl->steps[i];
  if (!st) return NULL;
  MlprtResampler *rs = mlprt_xcalloc(1, sizeof *rs);
  rs->pl = pl;
  rs->on = st->src, rs->by = (int64_t)st->a, rs->step = st->n, rs->target = st->dst != st->src ? st->dst : -1;
  rs->fill = (int)st->b / 8, rs->agg = (int)st->b % 8;
  MlprtLoadOpts o = {.na_tokens = pl->na_tokens, .nna = (int)pl->nna};
  mlprt_na_init(&rs->na, pl->na_tokens ? &o : NULL);
  rs->missing = rs->na.n > 0 ? rs->na.tok[0] : "";
  rs->series = mlprt_xcalloc(MLPRT_PRED_SERIES, sizeof *rs->series);
  size_t n = (size_t)(pl->ninputs ? pl->ninputs : 1);
  rs->fields = mlprt_xcalloc(n, sizeof *rs->fields);
  rs->made = mlprt_xmalloc(n * TEXT_CAP);
  return rs;
}

void mlprt_resampler_free(MlprtResampler *rs) {
  if (!rs) return;
  for (int64_t k = 0; k < rs->nseries; k++) {
    Series *s = &rs->series[k];
    free(s->count), free(s->acc), free(s->good), free(s->text), free(s->last);
  }
  free(rs->series);
  free(rs->fields);
  free(rs->made);
  free(rs);
}

static void start_bucket(const MlprtResampler *rs, Series *s, int64_t bucket) {
  s->bucket = bucket;
  for (int64_t i = 0; i < rs->pl->ninputs; i++) s->count[i] = 0, s->text[i * TEXT_CAP] = 0;
}

/* The series of a key (NULL: missing), started when new; NULL when there
 * are MLPRT_PRED_SERIES already. */
static Series *series_of(MlprtResampler *rs, const char *key) {
  /* a numeric key is its number, as training reads the column: "1" and "1.0" are one series */
  double v = NAN;
  int64_t t = rs->by >= 0 ? rs->pl->inputs[rs->by].type : -1;
  bool number = t == MLPRT_COL_FLOAT || t == MLPRT_COL_INT;
  if (key && number && !mlprt_parse_double(key, strlen(key), &v)) v = NAN;
  for (int64_t k = 0; k < rs->nseries; k++) {
    Series *s = &rs->series[k];
    if (!key) {
      if (s->key_missing) return s;
    } else if (!s->key_missing) {
      bool same = isnan(v) ? isnan(s->key_value) && strcmp(s->key, key) == 0 : s->key_value == v;
      if (same) return s;
    }
  }
  if (rs->nseries == MLPRT_PRED_SERIES) return NULL;
  Series *s = &rs->series[rs->nseries++];
  size_t n = (size_t)(rs->pl->ninputs ? rs->pl->ninputs : 1);
  snprintf(s->key, sizeof s->key, "%s", key ? key : "");
  s->key_value = v;
  s->key_missing = !key;
  s->count = mlprt_xcalloc(n, sizeof *s->count);
  s->acc = mlprt_xcalloc(n, sizeof *s->acc);
  s->good = mlprt_xmalloc(n * sizeof *s->good);
  s->text = mlprt_xcalloc(n, TEXT_CAP);
  s->last = mlprt_xcalloc(n, TEXT_CAP);
  for (size_t i = 0; i < n; i++) s->good[i] = NAN;
  return s;
}

/* Grid bucket b of series s as fields, given to emit: the open bucket's
 * aggregates (empty false), or a gap filled per the fill (empty true). */
static void give(MlprtResampler *rs, Series *s, int64_t b, bool empty, MlprtResampleEmit emit, void *ctx) {
  char time[64];
  mlprt_format_datetime(b * rs->step, time, sizeof time);
  for (int64_t i = 0; i < rs->pl->ninputs; i++) {
    char *m = rs->made + i * TEXT_CAP, *last = s->last + i * TEXT_CAP;
    const char *f = rs->missing;
    if (i == rs->on) {
      f = time;
    } else if (i == rs->by) {
      f = s->key_missing ? rs->missing : s->key;
    } else if (numeric(rs, i)) {
      float y = NAN;
      if (!empty && s->count[i])
        y = (float)(rs->agg == MLPRT_AGG_MEAN ? s->acc[i] / (double)s->count[i] : s->acc[i]);
      else if (empty && rs->fill == MLPRT_GAP_ZERO) y = 0.0f;
      else if (empty && rs->fill == MLPRT_GAP_FFILL) y = s->good[i];
      if (!empty && !isnan(y)) s->good[i] = y;
      if (!isnan(y)) snprintf(m, TEXT_CAP, "%.9g", y), f = m;
    } else {
      /* a gap repeats the bucket before under ffill, else it is missing */
      if (!empty) memcpy(last, s->text + i * TEXT_CAP, TEXT_CAP);
      else if (rs->fill != MLPRT_GAP_FFILL) last[0] = 0;
      if (last[0]) f = last;
    }
    rs->fields[i] = f;
  }
  emit(ctx, rs->fields, time, rs->by >= 0 ? (s->key_missing ? "" : s->key) : NULL, NULL);
}

/* Why fields cannot join a bucket (a number that is not one, a text
 * longer than kept) into msg; NULL when they can. */
static const char *unfit(const MlprtResampler *rs, const char *const *fields, char *msg, size_t n) {
  const MlprtPredPlan *pl = rs->pl;
  for (int64_t i = 0; i < pl->ninputs; i++) {
    const char *f = fields[i], *why;
    float x;
    if (i == rs->on || !f) continue;
    if (numeric(rs, i) &&
        mlprt_num_from_text((MlprtColType)pl->inputs[i].type, f, strlen(f), &rs->na, &x, &why) != 0) {
      snprintf(msg, n, "column '%s': '%.40s' is not a number", pl->inputs[i].name, f);
      return msg;
    }
    if (!numeric(rs, i) && strlen(f) >= TEXT_CAP) {
      snprintf(msg, n, "column '%s': a text of %zu bytes is longer than resample keeps (%d)",
               pl->inputs[i].name, strlen(f), TEXT_CAP - 1);
      return msg;
    }
  }
  return NULL;
}

/* The row's values join its series' open bucket, as training aggregated
 * them: numbers by agg over those present, other columns the last (first)
 * present. */
static void join_bucket(const MlprtResampler *rs, Series *s, const char *const *fields) {
  const MlprtPredPlan *pl = rs->pl;
  for (int64_t i = 0; i < pl->ninputs; i++) {
    const char *f = fields[i], *why;
    if (i == rs->on || i == rs->by || !f) continue;
    if (!numeric(rs, i)) {
      char *t = s->text + i * TEXT_CAP;
      if (!mlprt_na_match(&rs->na, f, strlen(f)) && !(rs->agg == MLPRT_AGG_FIRST && t[0]))
        snprintf(t, TEXT_CAP, "%s", f);
      continue;
    }
    float x;
    mlprt_num_from_text((MlprtColType)pl->inputs[i].type, f, strlen(f), &rs->na, &x, &why);
    double v = x, *a = &s->acc[i];
    if (isnan(v)) continue;
    if (s->count[i]++ == 0) {
      *a = v;
      continue;
    }
    switch (rs->agg) {
    case MLPRT_AGG_MEAN:
    case MLPRT_AGG_SUM: *a += v; break;
    case MLPRT_AGG_LAST: *a = v; break;
    case MLPRT_AGG_MIN: *a = v < *a ? v : *a; break;
    case MLPRT_AGG_MAX: *a = v > *a ? v : *a; break;
    default: break; /* first */
    }
  }
}

/* The most gap buckets one row may close. */
#define MAX_GAP 1000000

void mlprt_resampler_row(MlprtResampler *rs, const char *const *fields, MlprtResampleEmit emit, void *ctx) {
  const char *tf = fields[rs->on], *why, *key = rs->by >= 0 ? fields[rs->by] : "";
  char msg[256] = "";
  int64_t tv = MLPRT_TIME_NA;
  if (tf) {
    float fv;
    uint8_t bv;
    MlprtColumn c = {.type = MLPRT_COL_DATETIME, .f = &fv, .b = &bv, .t = &tv};
    MlprtTable t = {.cols = &c, .ncols = 1, .nrows = 1};
    if (mlprt_cell_from_text(&t, 0, 0, tf, strlen(tf), &rs->na, &why) != 0) {
      snprintf(msg, sizeof msg, "resample: the time '%.40s' is not a date", tf);
      emit(ctx, fields, tf, key, msg);
      return;
    }
  }
  if (tv == MLPRT_TIME_NA) return; /* training left rows without a time out */
  const char *y = rs->target >= 0 ? fields[rs->target] : NULL;
  if (y && mlprt_na_match(&rs->na, y, strlen(y))) return; /* and those without a target */
  if (key && mlprt_na_match(&rs->na, key, strlen(key))) key = NULL;
  Series *s = unfit(rs, fields, msg, sizeof msg) ? NULL : series_of(rs, key);
  int64_t b = tv >= 0 ? tv / rs->step : -((-tv + rs->step - 1) / rs->step);
  if (!s && !msg[0])
    snprintf(msg, sizeof msg, "resample: the row starts a series beyond the %d a predictor keeps",
             MLPRT_PRED_SERIES);
  else if (s && s->open && b < s->bucket)
    snprintf(msg, sizeof msg, "resample: the row is earlier than the bucket its series is at; rows come in "
                              "time order within each series");
  else if (s && s->open && b - s->bucket > MAX_GAP)
    snprintf(msg, sizeof msg, "resample: the row is %lld steps after its series' last",
             (long long)(b - s->bucket));
  if (!s || (s->open && (b < s->bucket || b - s->bucket > MAX_GAP))) {
    emit(ctx, fields, tf, key, msg);
    return;
  }
  if (s->open && b > s->bucket) {
    give(rs, s, s->bucket, false, emit, ctx);
    for (int64_t g = s->bucket + 1; g < b; g++) give(rs, s, g, true, emit, ctx);
  }
  if (!s->open || b > s->bucket) start_bucket(rs, s, b);
  s->open = true;
  join_bucket(rs, s, fields);
}

void mlprt_resampler_end(MlprtResampler *rs, MlprtResampleEmit emit, void *ctx) {
  for (int64_t k = 0; k < rs->nseries; k++) {
    Series *s = &rs->series[k];
    if (s->open) give(rs, s, s->bucket, false, emit, ctx);
    s->open = false;
  }
}
