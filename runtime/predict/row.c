/* row.c — one raw row to model features, and model outputs to answers.
 *
 * Consumes the text of each input column (from CSV, JSON or an embedding
 * program) and the predictor's plan and policies; produces the row's
 * features x [n_in], or the reason the row falls back or is rejected.
 * Fields are parsed into a one-row table column by the loader's own
 * function (mlprt_cell_from_text), so numbers, booleans, dates and the
 * missing-value tokens read exactly as they did in training; the plan's
 * steps then repeat the cleaning ops' float arithmetic. Everything lives in
 * a state the caller sized once (mlprt_pred_row_bytes): nothing is
 * allocated per row. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict_int.h"

#define TEXT_W 64 /* a made text: a number as mlprt_cell_str writes it, or a date */

/* The row state: one value per slot, by the slot's column type. */
typedef struct {
  float *num;       /* [nslots] floats, booleans as 0/1; NaN missing */
  const char **str; /* [nslots] categories and text; NULL missing */
  size_t *len;      /* [nslots] their lengths */
  int64_t *tm;      /* [nslots] dates; MLPRT_TIME_NA missing */
  char *text;       /* [nslots, TEXT_W] texts made by MLPRT_PSTEP_TEXT */
  MlprtNaSet *na;
  uint8_t *live;    /* [nslots] the slot reaches a feature (or decides a rejection) */
  double *lo, *hi;  /* [ninputs] a number below lo or above hi is out of range (out_of_range) */
  char *clean;      /* [text_clean steps, MLPRT_PRED_CLEAN_W] cleaned texts */
  const char **term; /* [term index] each vocabulary's terms (NULL past its end), */
  size_t *term_len;  /* their lengths */
  double *idf;       /* and weights, filled from the steps' text once */
  char *series;      /* each LAG and ROLLING step's table of series (series_bytes), in step order */
  /* while a row runs: the series of the last SERIES step, its history
   * policy, whether a step lacked history under drop, the next table */
  uint64_t group;
  int history;
  bool short_row;
  char *series_at;
} Row;

/* A LAG or ROLLING step's history: the values it keeps of each series. */
static int64_t series_cap(const MlprtPredStep *st) {
  return st->op == MLPRT_PSTEP_LAG ? st->n + 1 : st->n + (int64_t)st->a;
}

/* The entries of the row's term index a step's vocabulary takes (0: none). */
static size_t term_entries(const MlprtPredStep *st) {
  if (st->op == MLPRT_PSTEP_SEQUENCE) return (size_t)st->a;
  return st->op == MLPRT_PSTEP_TERMS && st->text ? (size_t)st->n : 0;
}

/* The text buffers and term index entries the plan's steps use. */
static void text_needs(const MlprtPredPlan *pl, size_t *ncleans, size_t *nterms) {
  *ncleans = *nterms = 0;
  for (int64_t i = 0; i < pl->nsteps; i++) {
    const MlprtPredStep *st = &pl->steps[i];
    if (st->op == MLPRT_PSTEP_TEXT_CLEAN && (size_t)st->b + 1 > *ncleans) *ncleans = (size_t)st->b + 1;
    if (term_entries(st) > 0 && (size_t)st->b + term_entries(st) > *nterms)
      *nterms = (size_t)st->b + term_entries(st);
  }
}

static size_t up8(size_t n) {
  return (n + 7) & ~(size_t)7;
}

/* One series of a step: its key, the values it has seen, the last of them. */
static size_t series_entry(int64_t cap) {
  return 2 * sizeof(uint64_t) + up8((size_t)cap * sizeof(float));
}

/* The bytes of every LAG and ROLLING step's table of MLPRT_PRED_SERIES series. */
static size_t series_bytes(const MlprtPredPlan *pl) {
  size_t n = 0;
  for (int64_t i = 0; i < pl->nsteps; i++) {
    const MlprtPredStep *st = &pl->steps[i];
    if (st->op == MLPRT_PSTEP_LAG || st->op == MLPRT_PSTEP_ROLLING)
      n += MLPRT_PRED_SERIES * series_entry(series_cap(st));
  }
  return n;
}

/* The state opens with the text buffers and term index entries its plan
 * needs and the bytes of its series tables, counted once by
 * mlprt_pred_row_init rather than on every row, and the plan it was
 * readied for (mlprt_predict_fields_kept readies its scratch once). */
typedef struct {
  size_t ncleans, nterms, series, bytes; /* bytes: mlprt_pred_row_bytes */
  double margin; /* the range margin the range bounds were set for; NaN before the first row */
  const MlprtPredPlan *plan;
} Needs;
enum { NEEDS_BYTES = 64 };
_Static_assert(sizeof(Needs) <= NEEDS_BYTES, "Needs fits its place at the start of the row state");

static Row row_at(void *state, const MlprtPredPlan *pl) {
  size_t s = (size_t)pl->nslots;
  const Needs *need = state;
  char *p = (char *)state + NEEDS_BYTES;
  Row r;
  r.num = (float *)p;
  p += up8(s * sizeof(float));
  r.str = (const char **)p;
  p += s * sizeof(char *);
  r.len = (size_t *)p;
  p += s * sizeof(size_t);
  r.tm = (int64_t *)p;
  p += s * sizeof(int64_t);
  r.text = p;
  p += up8(s * TEXT_W);
  r.na = (MlprtNaSet *)p;
  p += up8(sizeof(MlprtNaSet));
  r.live = (uint8_t *)p;
  p += up8(s);
  r.lo = (double *)p;
  p += (size_t)pl->ninputs * sizeof(double);
  r.hi = (double *)p;
  p += (size_t)pl->ninputs * sizeof(double);
  r.term = (const char **)p;
  p += need->nterms * sizeof(char *);
  r.term_len = (size_t *)p;
  p += need->nterms * sizeof(size_t);
  r.idf = (double *)p;
  p += need->nterms * sizeof(double);
  r.clean = p;
  p += need->ncleans * MLPRT_PRED_CLEAN_W;
  r.series = r.series_at = p;
  r.group = 0, r.history = MLPRT_HISTORY_NULL, r.short_row = false;
  return r;
}

size_t mlprt_pred_row_bytes(const MlprtPredPlan *pl) {
  size_t s = (size_t)pl->nslots;
  size_t n = NEEDS_BYTES + up8(s * sizeof(float)) + s * (sizeof(char *) + sizeof(size_t) + sizeof(int64_t)) +
             up8(s * TEXT_W) + up8(sizeof(MlprtNaSet)) + up8(s) + 2 * (size_t)pl->ninputs * sizeof(double);
  size_t ncleans, nterms;
  text_needs(pl, &ncleans, &nterms);
  n += nterms * (sizeof(char *) + sizeof(size_t) + sizeof(double)) + ncleans * MLPRT_PRED_CLEAN_W;
  n += series_bytes(pl);
  return (n + 63) & ~(size_t)63;
}

void mlprt_pred_row_init(void *state, const MlprtPredPlan *pl) {
  Needs *need = state;
  text_needs(pl, &need->ncleans, &need->nterms);
  need->series = series_bytes(pl);
  need->bytes = mlprt_pred_row_bytes(pl);
  need->margin = NAN;
  need->plan = pl;
  Row r = row_at(state, pl);
  MlprtLoadOpts o = {.na_tokens = pl->na_tokens, .nna = (int)pl->nna};
  mlprt_na_init(r.na, pl->na_tokens ? &o : NULL);
  mlprt_pred_plan_live(pl, r.live);
  memset(r.series, 0, need->series); /* no series seen */
  /* each vocabulary's terms and idf, read off its lines once */
  for (int64_t i = 0; i < pl->nsteps; i++) {
    const MlprtPredStep *st = &pl->steps[i];
    if (term_entries(st) == 0) continue;
    const char *l = st->text;
    for (size_t k = 0; k < term_entries(st); k++) {
      size_t j = (size_t)st->b + (size_t)k;
      const char *tab = *l ? strchr(l, '\t') : NULL;
      r.term[j] = tab ? l : NULL;
      r.term_len[j] = tab ? (size_t)(tab - l) : 0;
      r.idf[j] = tab ? strtod(tab + 1, NULL) : 0;
      if (tab) l = strchr(tab, '\n') + 1;
    }
  }
}

/* ---- failsafes ---- */

/* The row's worst outcome so far, and the reason for it; an answered row
 * whose input a policy changed (impute, clip) has "POLICY: why" as its
 * reason. */
typedef struct {
  int state;
  char *reason;
  size_t n;
  bool changed;
} Verdict;

/* A policy changed an input of a row that is still answered. */
static void changed(Verdict *v, const char *policy, const char *why) {
  if (v->state != MLPRT_ROW_OK || v->changed) return;
  v->changed = true;
  snprintf(v->reason, v->n, "%s: %s", policy, why);
}

static void note(Verdict *v, int state, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(Verdict *v, int state, const char *fmt, ...) {
  if (state <= v->state) return; /* the first reason of the worst kind stands */
  v->state = state;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->reason, v->n, fmt, ap);
  va_end(ap);
}

static bool has_fallback(const MlprtPredictor *p) {
  return p->task == MLPRT_TASK_REGRESSION ? !isnan(p->fallback_value) : mlprt_pred_fallback_class(p) >= 0;
}

/* What a policy makes of an input it was not trained on: true when the
 * value is to be treated as missing (impute), else the row falls back or
 * is rejected with why. Clipping is for ranges only; elsewhere it rejects. */
static bool apply_policy(const MlprtPredictor *p, int64_t policy, Verdict *v, const char *why) {
  if (policy == MLPRT_FAILSAFE_IMPUTE) {
    changed(v, "impute", why);
    return true;
  }
  if (policy == MLPRT_FAILSAFE_FALLBACK && has_fallback(p)) note(v, MLPRT_ROW_FALLBACK, "%s", why);
  else if (policy == MLPRT_FAILSAFE_FALLBACK)
    note(v, MLPRT_ROW_REJECT, "%s (and no fallback is declared)", why);
  else note(v, MLPRT_ROW_REJECT, "%s", why);
  return false;
}

static void set_missing(Row *r, int64_t s) {
  r->num[s] = NAN;
  r->str[s] = NULL;
  r->len[s] = 0;
  r->tm[s] = MLPRT_TIME_NA;
}

static bool is_missing(const Row *r, int64_t s, int64_t type) {
  switch (type) {
  case MLPRT_COL_CATEGORY:
  case MLPRT_COL_TEXT: return !r->str[s];
  case MLPRT_COL_DATETIME: return r->tm[s] == MLPRT_TIME_NA;
  default: return isnan(r->num[s]);
  }
}

/* The index of s among levels ("L\n" each), or -1. */
static int64_t level_index(const char *levels, const char *s, size_t len) {
  int64_t k = 0;
  for (const char *l = levels, *nl; l && (nl = strchr(l, '\n')); l = nl + 1, k++)
    if ((size_t)(nl - l) == len && memcmp(l, s, len) == 0) return k;
  return -1;
}

static const char *what_expected(int type) {
  switch (type) {
  case MLPRT_COL_INT: return "is not an integer";
  case MLPRT_COL_BOOL: return "is not true or false";
  case MLPRT_COL_DATETIME: return "is not a date";
  case MLPRT_COL_FLOAT: return "is not a number";
  default: return "is not valid UTF-8";
  }
}

/* A numeric input's value x lies outside its training range widened by
 * the range margin. */
static bool out_of_range(const MlprtPredictor *p, const MlprtPredInput *in, double x) {
  double lo = in->lo, hi = in->hi, m = p->range_margin * (hi - lo);
  return (in->type == MLPRT_COL_FLOAT || in->type == MLPRT_COL_INT) && isfinite(lo) && isfinite(hi) &&
         (x < lo - m || x > hi + m);
}

/* Each input's range bounds for p's margin: out_of_range(p, in, x) is
 * x < lo[i] || x > hi[i]. */
static void set_bounds(const MlprtPredictor *p, Row *r) {
  const MlprtPredPlan *pl = p->plan;
  for (int64_t i = 0; i < pl->ninputs; i++) {
    const MlprtPredInput *in = &pl->inputs[i];
    double lo = in->lo, hi = in->hi, m = p->range_margin * (hi - lo);
    bool ranged = (in->type == MLPRT_COL_FLOAT || in->type == MLPRT_COL_INT) && isfinite(lo) && isfinite(hi);
    r->lo[i] = ranged ? lo - m : -INFINITY;
    r->hi[i] = ranged ? hi + m : INFINITY;
  }
}

/* The common field, a number within its training range, into its slot as
 * read_input puts it there, without the policies' bookkeeping; false
 * (nothing done) leaves the field to read_input. */
static bool read_number(const MlprtPredictor *p, int64_t i, const char *f, Row *r) {
  const MlprtPredInput *in = &p->plan->inputs[i];
  float x, y; /* y: the loader's reading, so that x stays in a register */
  const char *why;
  if (!f || (in->type != MLPRT_COL_FLOAT && in->type != MLPRT_COL_INT)) return false;
  size_t len = 0; /* most fields are short: counted here rather than by a call */
  while (len < 16 && f[len]) len++;
  if (len == 16) len += strlen(f + 16);
  if (r->na->numeric || !mlprt_plain_digits(f, len, &x)) {
    if (mlprt_num_from_text((MlprtColType)in->type, f, len, r->na, &y, &why) != 0 || isnan(y)) return false;
    x = y;
  }
  if (x < r->lo[i] || x > r->hi[i]) return false;
  set_missing(r, i);
  r->num[i] = x;
  return true;
}

/* Input i's field into its slot, through the policies. */
static void read_input(const MlprtPredictor *p, int64_t i, const char *f, Row *r, Verdict *v) {
  const MlprtPredInput *in = &p->plan->inputs[i];
  int type = (int)in->type;
  char why[200];
  set_missing(r, i);
  if (!f) {
    snprintf(why, sizeof why, "column '%s' is missing from the input", in->name);
    apply_policy(p, p->on_missing_column, v, why);
    return;
  }
  size_t len = strlen(f);
  bool bad = false;
  const char *loader_why = NULL;
  if (type == MLPRT_COL_CATEGORY || type == MLPRT_COL_TEXT) {
    if (mlprt_na_match(r->na, f, len)) {
      snprintf(why, sizeof why, "column '%s' has no value", in->name);
      apply_policy(p, p->on_nan, v, why);
      return;
    }
    bad = mlprt_utf8_valid_prefix(f, len) != len;
    if (!bad) {
      if (type == MLPRT_COL_CATEGORY && in->levels && in->nlevels > 0 &&
          level_index(in->levels, f, len) < 0) {
        snprintf(why, sizeof why, "column '%s': '%.40s' is a level training never saw", in->name, f);
        apply_policy(p, p->on_unknown_category, v, why); /* imputed: stays missing */
        return;
      }
      r->str[i] = f, r->len[i] = len;
      return;
    }
  } else {
    /* the loader's own parse: numbers straight into the slot, the other
     * types into a one-row column on the stack */
    float fv = NAN;
    uint8_t bv = MLPRT_BOOL_NA;
    int64_t tv = MLPRT_TIME_NA;
    if (type == MLPRT_COL_FLOAT || type == MLPRT_COL_INT) {
      bad = mlprt_num_from_text((MlprtColType)type, f, len, r->na, &fv, &loader_why) != 0;
    } else {
      MlprtColumn c = {.type = (MlprtColType)type, .f = &fv, .b = &bv, .t = &tv};
      MlprtTable t = {.cols = &c, .ncols = 1, .nrows = 1};
      bad = mlprt_cell_from_text(&t, 0, 0, f, len, r->na, &loader_why) != 0;
    }
    if (!bad) {
      if (type == MLPRT_COL_DATETIME) r->tm[i] = tv;
      else r->num[i] = type == MLPRT_COL_BOOL ? (bv == MLPRT_BOOL_NA ? NAN : (float)bv) : fv;
      if (is_missing(r, i, type)) {
        snprintf(why, sizeof why, "column '%s' has no value", in->name);
        apply_policy(p, p->on_nan, v, why);
        return;
      }
      double lo = in->lo, hi = in->hi, x = r->num[i];
      if (out_of_range(p, in, x)) {
        snprintf(why, sizeof why, "column '%s': %.40s is outside the training range [%.9g, %.9g]", in->name,
                 f, lo, hi);
        if (p->on_out_of_range == MLPRT_FAILSAFE_CLIP) {
          r->num[i] = (float)(x < lo ? lo : hi);
          changed(v, "clip", why);
        } else if (apply_policy(p, p->on_out_of_range, v, why)) r->num[i] = NAN;
      }
      return;
    }
  }
  snprintf(why, sizeof why, "column '%s': '%.40s' %s", in->name, f,
           loader_why == mlprt_why_float_range ? loader_why : what_expected(type));
  apply_policy(p, p->on_nan, v, why);
}

/* ---- the feature program ---- */

static void make_text(Row *r, int64_t src, int64_t dst, int64_t type) {
  if (is_missing(r, src, type)) {
    r->str[dst] = NULL;
    return;
  }
  uint8_t bv = r->num[src] != 0;
  MlprtColumn c = {.type = (MlprtColType)type, .f = &r->num[src], .b = &bv, .t = &r->tm[src]};
  MlprtTable t = {.cols = &c, .ncols = 1, .nrows = 1};
  char *buf = r->text + dst * TEXT_W;
  const char *s = mlprt_cell_str(&t, 0, 0, buf, TEXT_W);
  r->str[dst] = s, r->len[dst] = strlen(s);
}

/* A vocabulary's slots, for counting the terms of one text. */
typedef struct {
  const char *const *term; /* [n] in term order; NULL past the vocabulary's end */
  const size_t *len;
  float *x;
  int64_t n;
} Vocab;

static int cmp_term(const char *a, size_t na, const char *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);
  return c ? c : (na > nb) - (na < nb);
}

/* w's index in the vocabulary, or -1. */
static int64_t find_term(const Vocab *v, const char *w, size_t len) {
  int64_t lo = 0, hi = v->n;
  while (lo < hi) { /* the first entry >= w; entries past the vocabulary are greater than any */
    int64_t mid = lo + (hi - lo) / 2;
    if (v->term[mid] && cmp_term(v->term[mid], v->len[mid], w, len) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < v->n && v->term[lo] && cmp_term(v->term[lo], v->len[lo], w, len) == 0 ? lo : -1;
}

static void count_known(const char *w, size_t len, void *ctx) {
  const Vocab *v = ctx;
  int64_t k = find_term(v, w, len);
  if (k >= 0) v->x[k] += 1;
}

/* A sequence's next word id, in v->x[v->len] while fewer than max_len. */
typedef struct {
  Vocab voc;
  int64_t len, max_len;
} SeqRow;

static void sequence_term(const char *w, size_t len, void *ctx) {
  SeqRow *q = ctx;
  if (q->len >= q->max_len) return;
  int64_t k = find_term(&q->voc, w, len);
  q->voc.x[q->len++] = k < 0 ? MLPRT_SEQ_OOV : (float)(MLPRT_SEQ_FIRST + k);
}

/* tokenize on a text slot. */
static void sequence_step(const MlprtPredStep *st, Row *r) {
  int64_t s = st->src;
  Vocab voc = {r->term + (size_t)st->b, r->term_len + (size_t)st->b, r->num + st->dst, (int64_t)st->a};
  SeqRow q = {voc, 0, st->n};
  MlprtTerms o = {.method = MLPRT_VEC_SEQUENCE, .ngram_lo = 1, .ngram_hi = 1};
  if (r->str[s]) mlprt_terms_each(r->str[s], r->len[s], &o, sequence_term, &q);
  mlprt_seq_place(q.voc.x, q.len, st->n);
}

static void count_hashed(const char *w, size_t len, void *ctx) {
  const Vocab *v = ctx;
  v->x[mlprt_term_bucket(w, len, v->n)] += 1;
}

/* text_clean and the vectorizers on a text slot. */
static void text_step(const MlprtPredStep *st, Row *r, Verdict *v) {
  int64_t s = st->src, d = st->dst;
  if (st->op == MLPRT_PSTEP_TEXT_CLEAN) {
    if (!r->str[s]) return;
    if (r->len[s] >= MLPRT_PRED_CLEAN_W) {
      note(v, MLPRT_ROW_REJECT, "a text of %zu bytes is longer than a predictor cleans (%d)", r->len[s],
           MLPRT_PRED_CLEAN_W - 1);
      return;
    }
    char *buf = r->clean + (size_t)st->b * MLPRT_PRED_CLEAN_W;
    r->len[s] = mlprt_text_clean_one(r->str[s], r->len[s], (int)st->a, buf);
    r->str[s] = buf;
    return;
  }
  MlprtTerms o = mlprt_terms_unpack((int64_t)st->a);
  float *x = r->num + d;
  for (int64_t j = 0; j < st->n; j++) x[j] = 0;
  if (!r->str[s]) return;
  bool hash = !st->text;
  Vocab voc = {hash ? NULL : r->term + (size_t)st->b, hash ? NULL : r->term_len + (size_t)st->b, x, st->n};
  mlprt_terms_each(r->str[s], r->len[s], &o, hash ? count_hashed : count_known, &voc);
  mlprt_terms_weigh(x, NULL, st->n, hash ? NULL : r->idf + (size_t)st->b, &o);
}

/* coerce, parse_dates: src's text converted to type st->n in place. */
static void coerce_slot(const MlprtPredictor *p, const MlprtPredStep *st, Row *r, Verdict *v) {
  int64_t s = st->src, from = (int64_t)st->b, to = st->n;
  if (is_missing(r, s, from)) {
    set_missing(r, s);
    return;
  }
  if (from != MLPRT_COL_CATEGORY && from != MLPRT_COL_TEXT) make_text(r, s, s, from);
  const char *text = r->str[s];
  size_t len = r->len[s];
  double num = NAN;
  int64_t tm = MLPRT_TIME_NA;
  bool fixed;
  bool ok = mlprt_coerce_value(text, len, (MlprtColType)to, st->text, &num, &tm, &fixed);
  if (!ok) {
    if ((int64_t)st->a != MLPRT_ONFAIL_NULL)
      note(v, MLPRT_ROW_REJECT, "column '%s': '%.*s' is not a %s%s%s (training %s such values)",
           s < p->plan->ninputs ? p->plan->inputs[s].name : "(cleaned)", (int)(len < 40 ? len : 40), text,
           mlprt_col_type_name((MlprtColType)to), st->text ? " in the format " : "", st->text ? st->text : "",
           (int64_t)st->a == MLPRT_ONFAIL_DROP ? "dropped" : "stopped at");
    set_missing(r, s);
    return;
  }
  if (to == MLPRT_COL_DATETIME) r->tm[s] = tm;
  else if (to != MLPRT_COL_CATEGORY && to != MLPRT_COL_TEXT) r->num[s] = (float)num;
}

/* SERIES: the row's series among the values of the key slot. Keys 1 (one
 * series) and 2 (a missing key) are reserved; 0 marks a free entry. */
static void series_key(const MlprtPredStep *st, Row *r) {
  int64_t s = st->src;
  uint64_t h;
  r->history = (int)st->a;
  if (st->n < 0) h = 1;
  else if (is_missing(r, s, st->n)) h = 2;
  else if (st->n == MLPRT_COL_CATEGORY || st->n == MLPRT_COL_TEXT)
    h = mlprt_hash_bytes64(r->str[s], r->len[s]);
  else if (st->n == MLPRT_COL_DATETIME) h = mlprt_hash_bytes64((const char *)&r->tm[s], sizeof r->tm[s]);
  else h = mlprt_hash_bytes64((const char *)&r->num[s], sizeof r->num[s]);
  r->group = h < 3 ? h + 3 : h;
}

/* LAG and ROLLING: the row's value joins its series' history, then the
 * step reads the values before it, as training read the rows before it. */
static void series_step(const MlprtPredStep *st, Row *r, Verdict *v) {
  int64_t cap = series_cap(st);
  size_t esz = series_entry(cap);
  char *table = r->series_at, *e = NULL;
  r->series_at += MLPRT_PRED_SERIES * esz;
  for (uint64_t i = 0; i < MLPRT_PRED_SERIES && !e; i++) { /* open addressing */
    char *at = table + ((r->group + i) % MLPRT_PRED_SERIES) * esz;
    uint64_t *key = (uint64_t *)at;
    if (*key == 0) *key = r->group;
    if (*key == r->group) e = at;
  }
  float *x = r->num;
  if (!e) {
    note(v, MLPRT_ROW_REJECT, "the row starts a series beyond the %d a lag, rolling or diff step keeps",
         MLPRT_PRED_SERIES);
    return;
  }
  int64_t *count = (int64_t *)(e + sizeof(uint64_t));
  float *ring = (float *)(e + 2 * sizeof(uint64_t)), cur = x[st->src], y = NAN;
  ring[*count % cap] = cur;
  int64_t c = ++*count; /* the values seen, this row's the last */
  bool have;
  if (st->op == MLPRT_PSTEP_LAG) {
    have = c - 1 - st->n >= 0;
    float back = have ? ring[(c - 1 - st->n) % cap] : NAN;
    y = !have ? NAN : st->b ? (float)((double)cur - back) : back;
  } else {
    int64_t w = st->n, first = c - (int64_t)st->a - w;
    have = first >= 0;
    bool missing = false;
    for (int64_t k = 0; have && k < w; k++) missing |= isnan(ring[(first + k) % cap]);
    if (have && !missing) y = (float)mlprt_window_stat(ring, first % cap, cap, (int)w, (MlprtRoll)st->b);
  }
  x[st->dst] = y;
  if (!have && r->history == MLPRT_HISTORY_DROP) r->short_row = true;
}

/* The line after the one at s. */
static const char *next_line(const char *s) {
  return strchr(s, '\n') + 1;
}

/* An ASOF line's (group, key) against the row's: <0, 0 or >0. */
static int asof_cmp(const char *line, const char *g, size_t glen, double key) {
  size_t n = strcspn(line, "\t");
  int c = cmp_term(line, n, g, glen);
  if (c) return c;
  double k = strtod(line + n + 1, NULL);
  return k < key ? -1 : k > key ? 1 : 0;
}

/* ASOF: the joined columns of the other source's latest row of the row's
 * group at or before its time, found by bisecting the sorted lines. */
static void asof_step(const MlprtPredStep *st, Row *r, Verdict *v) {
  const char *s = st->text;
  char *end;
  (void)strtoll(s, &end, 10); /* the step, for messages */
  int unmatched = (int)strtol(end + 1, &end, 10), on_type = (int)strtol(end + 1, &end, 10);
  int by_type = (int)strtol(end + 1, &end, 10);
  const char *types = next_line(s), *body = types;
  for (int64_t j = 0; j < st->n; j++) body = next_line(body);
  int64_t on = st->src, by = (int64_t)st->a;
  double key = on_type == MLPRT_COL_DATETIME ? (r->tm[on] == MLPRT_TIME_NA ? NAN : (double)r->tm[on])
                                             : r->num[on];
  const char *g = "", *match = NULL;
  size_t glen = 0;
  char buf[TEXT_W];
  bool keyed = !isnan(key);
  if (by >= 0 && is_missing(r, by, by_type)) keyed = false;
  else if (by >= 0 && (by_type == MLPRT_COL_CATEGORY || by_type == MLPRT_COL_TEXT))
    g = r->str[by], glen = r->len[by];
  else if (by >= 0) {
    uint8_t bv = r->num[by] != 0;
    MlprtColumn c = {.type = (MlprtColType)by_type, .f = &r->num[by], .b = &bv, .t = &r->tm[by]};
    MlprtTable t = {.cols = &c, .ncols = 1, .nrows = 1};
    g = mlprt_cell_str(&t, 0, 0, buf, sizeof buf), glen = strlen(g);
  }
  /* the first line after (group, key) in [lo, hi), lines' starts both */
  const char *lo = body, *hi = body + strlen(body);
  while (keyed && lo < hi) {
    const char *mid = lo + (hi - lo) / 2;
    while (mid > lo && mid[-1] != '\n') mid--;
    if (asof_cmp(mid, g, glen, key) <= 0) lo = next_line(mid);
    else hi = mid;
  }
  if (keyed && lo > body) {
    const char *prev = lo - 1;
    while (prev > body && prev[-1] != '\n') prev--;
    size_t n = strcspn(prev, "\t");
    double k = strtod(prev + n + 1, NULL);
    if (cmp_term(prev, n, g, glen) == 0 && !(st->b >= 0 && key - k > st->b)) match = prev + n + 1;
  }
  if (!match) {
    if (unmatched == MLPRT_UNMATCHED_DROP)
      note(v, MLPRT_ROW_REJECT, "align: the other source has no row of its group at or before its time%s, "
                                "and training dropped such rows", st->b >= 0 ? " within the tolerance" : "");
    return;
  }
  const char *f = match + strcspn(match, "\t\n");
  for (int64_t j = 0; j < st->n && *f == '\t'; j++, types = next_line(types)) {
    f++;
    size_t n = strcspn(f, "\t\n");
    int64_t d = st->dst + j, type = strtoll(types, NULL, 10);
    bool text = type == MLPRT_COL_CATEGORY || type == MLPRT_COL_TEXT;
    if (n > 0 && text) r->str[d] = f, r->len[d] = n;
    else if (n > 0 && type == MLPRT_COL_DATETIME) r->tm[d] = strtoll(f, NULL, 10);
    else if (n > 0) r->num[d] = strtof(f, NULL); /* an empty field: missing, as the slot is */
    f += n;
  }
}

static void run_step(const MlprtPredictor *p, const MlprtPredStep *st, Row *r, Verdict *v) {
  int64_t s = st->src, d = st->dst;
  float *x = r->num;
  switch (st->op) {
  case MLPRT_PSTEP_FILL:
    if (!is_missing(r, s, st->n)) break;
    if (st->n == MLPRT_COL_CATEGORY || st->n == MLPRT_COL_TEXT)
      r->str[s] = st->text, r->len[s] = strcspn(st->text, "\n");
    else if (st->n == MLPRT_COL_DATETIME) r->tm[s] = (int64_t)st->a;
    else x[s] = (float)st->a;
    break;
  case MLPRT_PSTEP_INDICATOR: x[d] = is_missing(r, s, st->n) ? 1.0f : 0.0f; break;
  case MLPRT_PSTEP_REQUIRE:
    if (is_missing(r, s, st->n))
      note(v, MLPRT_ROW_REJECT, "column '%s' has no value, and training dropped such rows",
           s < p->plan->ninputs ? p->plan->inputs[s].name : "(cleaned)");
    break;
  case MLPRT_PSTEP_CLIP: {
    float lo = (float)st->a, hi = (float)st->b;
    if (x[s] < lo) x[d] = lo;
    else if (x[s] > hi) x[d] = hi;
    break;
  }
  case MLPRT_PSTEP_SCALE: x[d] = (x[s] - (float)st->a) * (float)(1.0 / st->b); break;
  case MLPRT_PSTEP_LOG1P: x[d] = x[s] <= -1 ? NAN : log1pf(x[s]); break;
  case MLPRT_PSTEP_DIV: x[d] = x[s] / (float)st->a; break;
  case MLPRT_PSTEP_TEXT: make_text(r, s, d, st->n); break;
  case MLPRT_PSTEP_ONEHOT: {
    int64_t k = r->str[s] ? level_index(st->text, r->str[s], r->len[s]) : -2;
    for (int64_t j = 0; j < st->n; j++) x[d + j] = 0;
    if (k >= 0) x[d + (st->b > 0 && k >= (int64_t)st->b ? st->n - 1 : k)] = 1;
    else if (k == -1 && st->a == MLPRT_UNSEEN_LAST) x[d + st->n - 1] = 1;
    else if (k == -1 && st->a == MLPRT_UNSEEN_REJECT)
      note(v, MLPRT_ROW_REJECT, "'%.*s' is a level training never saw (onehot unknown = error)",
           (int)(r->len[s] < 40 ? r->len[s] : 40), r->str[s]);
    break;
  }
  case MLPRT_PSTEP_ORDINAL: {
    int64_t k = r->str[s] ? level_index(st->text, r->str[s], r->len[s]) : -1;
    x[d] = k < 0 ? NAN : (float)k;
    break;
  }
  case MLPRT_PSTEP_HASH:
    for (int64_t j = 0; j < st->n; j++) x[d + j] = 0;
    if (r->str[s]) x[d + (int64_t)(mlprt_hash_bytes64(r->str[s], r->len[s]) % (uint64_t)st->n)] = 1;
    break;
  case MLPRT_PSTEP_TEXT_CLEAN:
  case MLPRT_PSTEP_TERMS: text_step(st, r, v); break;
  case MLPRT_PSTEP_SEQUENCE: sequence_step(st, r); break;
  case MLPRT_PSTEP_COERCE: coerce_slot(p, st, r, v); break;
  case MLPRT_PSTEP_DATE_PART: x[d] = (float)mlprt_date_part(r->tm[s], (int)st->n, (int)st->a); break;
  case MLPRT_PSTEP_SERIES: series_key(st, r); break;
  case MLPRT_PSTEP_LAG:
  case MLPRT_PSTEP_ROLLING: series_step(st, r, v); break;
  case MLPRT_PSTEP_ASOF: asof_step(st, r, v); break;
  case MLPRT_PSTEP_RESAMPLE: break; /* the rows come on the grid already (resample.c) */
  case MLPRT_PSTEP_SHORT:
    if (r->short_row)
      note(v, MLPRT_ROW_REJECT, "its series has fewer earlier rows than a lag, rolling or diff step needs, "
                                "and training dropped such rows");
    r->short_row = false;
    break;
  default: note(v, MLPRT_ROW_REJECT, "the feature program has an unknown operation %lld", (long long)st->op);
  }
}

int mlprt_pred_row(const MlprtPredictor *p, const char *const *fields, float *x, void *state, char *reason,
                   size_t n) {
  const MlprtPredPlan *pl = p->plan;
  Row r = row_at(state, pl);
  Verdict v = {MLPRT_ROW_OK, reason, n, false};
  if (n) reason[0] = 0;
  Needs *need = state;
  if (!(need->margin == p->range_margin)) {
    set_bounds(p, &r);
    need->margin = p->range_margin;
  }
  for (int64_t i = 0; i < pl->ninputs; i++) {
    if (!r.live[i]) set_missing(&r, i);
    else if (!read_number(p, i, fields[i], &r)) read_input(p, i, fields[i], &r, &v);
  }
  if (v.state == MLPRT_ROW_REJECT) return v.state;
  for (int64_t i = pl->ninputs; i < pl->nslots; i++) set_missing(&r, i);
  if (pl->clean) { /* the same steps and read, compiled */
    pl->clean(r.num, x);
    return v.state;
  }
  for (int64_t i = 0; i < pl->nsteps && v.state != MLPRT_ROW_REJECT; i++) run_step(p, &pl->steps[i], &r, &v);
  /* a value no step filled in counts as 0, as in training */
  for (int64_t f = 0; f < pl->nfeatures; f++) {
    float y = r.num[pl->feature_slot[f]];
    x[f] = isnan(y) ? 0.0f : y;
  }
  return v.state;
}

/* ---- answers ---- */

int64_t mlprt_pred_nclasses(const MlprtPredictor *p) {
  int64_t k = 0;
  for (const char *s = p->classes; s && *s; s++) k += *s == '\n';
  return p->task == MLPRT_TASK_REGRESSION ? 0 : k;
}

const char *mlprt_pred_class(const MlprtPredictor *p, int64_t k, char *buf, size_t n) {
  const char *s = p->classes;
  for (int64_t i = 0; i < k && s; i++) s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL;
  snprintf(buf, n, "%.*s", s ? (int)strcspn(s, "\n") : 0, s ? s : "");
  return buf;
}

int64_t mlprt_pred_fallback_class(const MlprtPredictor *p) {
  if (!p->fallback_label || p->task == MLPRT_TASK_REGRESSION) return -1;
  return level_index(p->classes, p->fallback_label, strlen(p->fallback_label));
}

/* The predicted class: the first largest output, or for one sigmoid
 * output the second class from 0.5 up (as the training program scores). */
static int64_t top_class(const MlprtPredictor *p, const float *o) {
  if (p->n_out == 1) return o[0] >= 0.5f;
  int64_t best = 0;
  for (int64_t k = 1; k < p->n_out; k++)
    if (o[k] > o[best]) best = k;
  return best;
}

int64_t mlprt_pred_answer(const MlprtPredictor *p, const float *o, double *probs) {
  if (p->task == MLPRT_TASK_REGRESSION) {
    probs[0] = o[0] * p->y_std + p->y_mean;
    return 0;
  }
  if (p->n_out == 1) { /* one sigmoid: the second class's probability */
    probs[0] = 1 - o[0], probs[1] = o[0];
  } else {
    for (int64_t k = 0; k < p->n_out; k++) probs[k] = o[k];
  }
  return top_class(p, o);
}

/* ---- embedding ---- */

static size_t up64(size_t n) {
  return (n + 63) & ~(size_t)63;
}

size_t mlprt_predict_scratch_bytes(const MlprtPredictor *p) {
  return mlprt_pred_row_bytes(p->plan) + up64((size_t)p->n_in * sizeof(float)) +
         up64((size_t)p->n_out * sizeof(float)) + up64((size_t)p->scratch_bytes);
}

/* One row through a scratch readied before (kept) or not. */
static int predict_fields(const MlprtPredictor *p, const char *const *fields, float *out, void *scratch,
                          char *reason, size_t n, bool kept) {
  char *s = scratch;
  /* a kept scratch holds its tokens, live slots, term index and bounds;
   * each call starts without series, as a fresh one does */
  Needs *need = scratch;
  if (kept && need->plan == p->plan) {
    memset(row_at(s, p->plan).series, 0, need->series);
  } else { /* a scratch is readied only for a plan that answers single rows */
    for (int64_t i = 0; i < p->plan->nsteps; i++)
      if (p->plan->steps[i].op == MLPRT_PSTEP_RESAMPLE) {
        snprintf(reason, n, "resample: the rows a predictor answers come on a time grid made from a stream "
                            "of raw rows, which the predictor program reads; one row alone has no answer");
        return -1;
      }
    mlprt_pred_row_init(s, p->plan);
  }
  size_t rb = need->bytes;
  float *x = (float *)(s + rb), *o = (float *)(s + rb + up64((size_t)p->n_in * sizeof(float)));
  void *fwd = s + rb + up64((size_t)p->n_in * sizeof(float)) + up64((size_t)p->n_out * sizeof(float));
  int state = mlprt_pred_row(p, fields, x, s, reason, n);
  if (state == MLPRT_ROW_REJECT) return -1;
  if (state == MLPRT_ROW_FALLBACK) {
    if (p->task == MLPRT_TASK_REGRESSION) {
      out[0] = (float)p->fallback_value;
      return 0;
    }
    int64_t k = mlprt_pred_fallback_class(p);
    for (int64_t j = 0; j < p->n_out; j++) out[j] = p->n_out == 1 ? (float)k : (j == k ? 1.0f : 0.0f);
    return (int)k;
  }
  p->forward(x, o, 1, fwd);
  if (p->task == MLPRT_TASK_REGRESSION) {
    out[0] = (float)(o[0] * p->y_std + p->y_mean);
    return 0;
  }
  memcpy(out, o, (size_t)p->n_out * sizeof *out);
  return (int)top_class(p, o);
}

int mlprt_predict_fields(const MlprtPredictor *p, const char *const *fields, float *out, void *scratch,
                         char *reason, size_t n) {
  return predict_fields(p, fields, out, scratch, reason, n, false);
}

int mlprt_predict_fields_kept(const MlprtPredictor *p, const char *const *fields, float *out, void *scratch,
                              char *reason, size_t n) {
  return predict_fields(p, fields, out, scratch, reason, n, true);
}
