/* coerce.c — converting a column to another type through its text, read
 * leniently: numbers written with thousands separators, a decimal comma, a
 * percent or currency sign; booleans in their many spellings; dates in a
 * strftime-style format. Consumes a table column (or one text, for the
 * predictor); produces the converted column and its counts (converted
 * only leniently, failed, rows dropped) in the cleaning log. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data_int.h"

static bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

/* A currency sign at s (UTF-8), its length; 0 when none. */
static size_t currency(const char *s, const char *end) {
  static const char *const signs[] = {"$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5"};
  for (size_t i = 0; i < sizeof signs / sizeof *signs; i++) {
    size_t k = strlen(signs[i]);
    if ((size_t)(end - s) >= k && memcmp(s, signs[i], k) == 0) return k;
  }
  return 0;
}

/* A number as people write it (see mlprt_coerce_value). */
static bool loose_number(const char *s, size_t len, double *out) {
  const char *p = s, *end = s + len;
  char buf[128];
  size_t w = 0;
  if (p < end && (*p == '-' || *p == '+')) buf[w++] = *p++;
  p += currency(p, end);
  while (p < end && is_blank(*p)) p++;
  if (p < end && w == 0 && (*p == '-' || *p == '+')) buf[w++] = *p++;
  double scale = 1;
  if (end > p && end[-1] == '%') {
    scale = 0.01;
    end--;
    while (end > p && is_blank(end[-1])) end--;
  }
  /* the decimal separator: the last of '.' and ',' when both appear; a
   * lone comma unless exactly three digits follow it; repeated, neither */
  int ndot = 0, ncomma = 0;
  const char *last_dot = NULL, *last_comma = NULL;
  for (const char *q = p; q < end; q++) {
    if (*q == '.') ndot++, last_dot = q;
    if (*q == ',') ncomma++, last_comma = q;
  }
  const char *dec = NULL;
  if (ndot && ncomma) dec = last_dot > last_comma ? last_dot : last_comma;
  else if (ndot == 1) dec = last_dot;
  else if (ncomma == 1) {
    int after = 0;
    for (const char *q = last_comma + 1; q < end && *q >= '0' && *q <= '9'; q++) after++;
    if (after != 3 || last_comma + 1 + after != end) dec = last_comma;
  }
  if ((dec == last_dot && ndot > 1) || (dec == last_comma && ncomma > 1)) return false;
  /* digits with thousands separators between groups of exactly three */
  int group = -1; /* digits since the last separator; -1 before the first */
  bool seen_sep = false, in_frac = false;
  for (const char *q = p; q < end; q++) {
    if (w + 2 >= sizeof buf) return false;
    if (*q >= '0' && *q <= '9') {
      buf[w++] = *q;
      if (!in_frac) group = group < 0 ? 1 : group + 1;
    } else if (q == dec) {
      if (seen_sep && group != 3) return false;
      buf[w++] = '.';
      in_frac = true;
    } else if (!in_frac && (*q == ',' || *q == '.' || *q == ' ' || *q == '\'' || *q == '_')) {
      if (group < 1 || (seen_sep && group != 3) || q + 1 >= end || q[1] < '0' || q[1] > '9') return false;
      if (!seen_sep && group > 3) return false;
      seen_sep = true;
      group = 0;
    } else if ((*q == 'e' || *q == 'E') && in_frac == false && !seen_sep) {
      /* an exponent: the rest as it is */
      size_t k = (size_t)(end - q);
      if (w + k >= sizeof buf) return false;
      memcpy(buf + w, q, k);
      w += k;
      break;
    } else {
      return false;
    }
  }
  if (seen_sep && !in_frac && group != 3) return false;
  double v;
  if (!mlprt_parse_double(buf, w, &v)) return false;
  *out = v * scale;
  return true;
}

/* 1, 0, or -1 for a boolean's spellings. */
static int loose_bool(const char *s, size_t len) {
  static const char *const yes[] = {"true", "t", "yes", "y", "on", "1"};
  static const char *const no[] = {"false", "f", "no", "n", "off", "0"};
  for (int i = 0; i < 6; i++) {
    if (strlen(yes[i]) == len && strncasecmp(s, yes[i], len) == 0) return 1;
    if (strlen(no[i]) == len && strncasecmp(s, no[i], len) == 0) return 0;
  }
  return -1;
}

bool mlprt_coerce_value(const char *s, size_t len, MlprtColType to, const char *format, double *num,
                        int64_t *tm, bool *fixed) {
  while (len && is_blank(*s)) s++, len--;
  while (len && is_blank(s[len - 1])) len--;
  *fixed = false;
  switch (to) {
  case MLPRT_COL_FLOAT:
  case MLPRT_COL_INT: {
    double v;
    if (!mlprt_parse_double(s, len, &v)) {
      if (!loose_number(s, len, &v)) return false;
      *fixed = true;
    }
    if (isinf((float)v) || isnan(v) || (to == MLPRT_COL_INT && v != floor(v))) return false;
    *num = v;
    return true;
  }
  case MLPRT_COL_BOOL: {
    int b = loose_bool(s, len);
    if (b < 0) return false;
    /* the loader reads true, false, 1 and 0 */
    *fixed = !((len == 1 && (*s == '0' || *s == '1')) || (len == 4 && strncasecmp(s, "true", 4) == 0) ||
               (len == 5 && strncasecmp(s, "false", 5) == 0));
    *num = b;
    return true;
  }
  case MLPRT_COL_DATETIME:
    return format ? mlprt_parse_datetime_format(s, len, format, tm) : mlprt_parse_datetime(s, len, tm);
  default: return mlprt_utf8_valid_prefix(s, len) == len;
  }
}

int mlprt_coerce(MlprtTable *t, int c, MlprtColType to, const char *format, MlprtOnFail on_fail,
                 MlprtCleanLog *log, MlprtError *err) {
  if (c < 0 || c >= t->ncols) {
    mlprt_error_set(err, NULL, 0, 0, 0, NULL, "coerce: the table has no column %d", c + 1);
    return -1;
  }
  const char *column = t->cols[c].name;
  MlprtFit f;
  mlprt_fit_init(&f, MLPRT_STEP_COERCE, (int)on_fail, t, &c, 1);
  f.cols[0].method = (int)to;
  f.rows_before = t->nrows;
  /* convert through text into a scratch one-column table */
  MlprtTable tmp;
  mlprt_table_init(&tmp);
  tmp.cap_rows = t->cap_rows; /* the column moves into t: exactly t's capacity, as its release assumes */
  mlprt_table_add_column(&tmp, column, to);
  tmp.nrows = t->nrows;
  MlprtColumn *out = &tmp.cols[0];
  MlprtNaSet na;
  mlprt_na_init(&na, NULL);
  uint8_t *keep = mlprt_xmalloc((size_t)(t->nrows ? t->nrows : 1));
  char buf[64];
  int rc = 0;
  for (int64_t r = 0; r < t->nrows && !rc; r++) {
    keep[r] = 1;
    if (mlprt_is_missing(t, c, r)) {
      mlprt_row_set_missing(&tmp, r);
      continue;
    }
    const char *s = mlprt_cell_str(t, c, r, buf, sizeof buf), *why = "not valid UTF-8";
    double v = NAN;
    bool fixed = false, ok;
    if (to == MLPRT_COL_CATEGORY || to == MLPRT_COL_TEXT) {
      ok = mlprt_cell_from_text(&tmp, 0, r, s, strlen(s), &na, &why) == 0;
    } else {
      ok = mlprt_coerce_value(s, strlen(s), to, format, &v, &out->t[r], &fixed);
      if (ok && to == MLPRT_COL_BOOL) out->b[r] = (uint8_t)v;
      else if (ok && to != MLPRT_COL_DATETIME) out->f[r] = (float)v;
      why = to == MLPRT_COL_DATETIME ? (format ? "not a date in the given format" : "not a date")
            : to == MLPRT_COL_BOOL   ? "not a boolean"
            : to == MLPRT_COL_INT    ? "not an integer"
                                     : "not a number";
    }
    if (ok) {
      f.cols[0].fixed += fixed;
      continue;
    }
    f.cols[0].changed++;
    if (on_fail == MLPRT_ONFAIL_ERROR) {
      mlprt_error_set(err, NULL, r + 1, 0, c + 1, column, "coerce to %s: %s: '%.40s'",
                      mlprt_col_type_name(to), why, s);
      rc = -1;
    } else {
      mlprt_row_set_missing(&tmp, r);
      if (on_fail == MLPRT_ONFAIL_DROP) keep[r] = 0, f.cols[0].dropped++;
    }
  }
  if (!rc) {
    /* swap the converted column in, keeping its position, its origin and
     * its name string: callers may hold t's name pointers (a selection
     * resolved before this call), and those must outlive the conversion */
    MlprtColumn old = t->cols[c];
    t->cols[c] = tmp.cols[0];
    tmp.cols[0] = old;
    char *name = t->cols[c].name;
    t->cols[c].name = old.name;
    tmp.cols[0].name = name;
    t->cols[c].origin = old.origin;
    mlprt_table_filter(t, keep);
    f.rows_after = t->nrows;
    mlprt_log_fit(log, &f);
  }
  mlprt_table_free(&tmp);
  mlprt_fit_free(&f);
  free(keep);
  return rc;
}
