/* parse.c — turning one text field into a value: numbers, dates, booleans,
 * UTF-8 validation and missing-value tokens. Consumes byte slices (not
 * NUL-terminated); produces doubles, epoch seconds and field kinds for the
 * schema inference. */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data_int.h"

const double mlprt_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool is_space(char c) {
  return c == ' ' || c == '\t';
}

/* Most fields have at most 19 digits and a small exponent; then the
 * mantissa and 10^e are both exact doubles and one multiply or divide
 * rounds correctly (Clinger's fast path). Everything else goes to strtod. */
static inline bool parse_double(const char *s, size_t len, double *out) {
  if (len && (is_space(*s) || is_space(s[len - 1]))) {
    while (len && is_space(*s)) s++, len--;
    while (len && is_space(s[len - 1])) len--;
  }
  if (!len) return false;
  const char *p = s, *end = s + len;
  bool neg = false;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  uint64_t mant = 0; /* wraps past 19 digits; such numbers take the slow path */
  const char *d0 = p;
  while (p < end && (unsigned)(*p - '0') < 10) mant = mant * 10 + (uint64_t)(*p++ - '0');
  int nint = (int)(p - d0), nfrac = 0;
  if (p < end && *p == '.') {
    const char *f0 = ++p;
    while (p < end && (unsigned)(*p - '0') < 10) mant = mant * 10 + (uint64_t)(*p++ - '0');
    nfrac = (int)(p - f0);
  }
  if (nint + nfrac == 0) return false;
  int exp = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    bool eneg = false;
    if (p < end && (*p == '-' || *p == '+')) eneg = *p++ == '-';
    if (p == end || (unsigned)(*p - '0') >= 10) return false;
    while (p < end && (unsigned)(*p - '0') < 10) {
      if (exp < 100000) exp = exp * 10 + (*p - '0');
      p++;
    }
    if (eneg) exp = -exp;
  }
  if (p != end) return false;
  int e10 = exp - nfrac;
  if (nint + nfrac <= 19 && mant < (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
    double v = (double)mant;
    v = e10 < 0 ? v / mlprt_pow10[-e10] : v * mlprt_pow10[e10];
    *out = neg ? -v : v;
    return true;
  }
  char buf[128];
  if (len >= sizeof buf) return false;
  memcpy(buf, s, len);
  buf[len] = 0;
  *out = strtod(buf, NULL);
  return true;
}

bool mlprt_parse_double(const char *s, size_t len, double *out) {
  return parse_double(s, len, out);
}

/* ---- dates ---- */

/* Howard Hinnant's days-from-civil algorithm, restated: shift the year so it
 * starts in March, then count whole 400-year eras. */
int64_t mlprt_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void mlprt_civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dm[m - 1];
}

/* Exactly n digits at *p (advanced); -1 when not. */
static int take_digits(const char **p, const char *end, int n) {
  int v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (*p >= end || **p < '0' || **p > '9') return -1;
    v = v * 10 + (**p - '0');
  }
  return v;
}

/* [T| ]HH:MM[:SS[.fff]][Z|+HH:MM|+HHMM] after a date; allow_zone only for ISO. */
static bool parse_time(const char *p, const char *end, bool allow_zone, int64_t *secs) {
  *secs = 0;
  if (p == end) return true;
  if (*p != 'T' && *p != ' ') return false;
  p++;
  int hh = take_digits(&p, end, 2);
  if (hh < 0 || hh > 23 || p >= end || *p++ != ':') return false;
  int mm = take_digits(&p, end, 2);
  if (mm < 0 || mm > 59) return false;
  int ss = 0;
  if (p < end && *p == ':') {
    p++;
    ss = take_digits(&p, end, 2);
    if (ss < 0 || ss > 60) return false;
    if (p < end && *p == '.') {
      p++;
      if (p == end || *p < '0' || *p > '9') return false;
      while (p < end && *p >= '0' && *p <= '9') p++; /* whole seconds only */
    }
  }
  int64_t off = 0;
  if (allow_zone && p < end && *p == 'Z') {
    p++;
  } else if (allow_zone && p < end && (*p == '+' || *p == '-')) {
    int sign = *p++ == '-' ? -1 : 1;
    int oh = take_digits(&p, end, 2);
    if (oh < 0 || oh > 23) return false;
    if (p < end && *p == ':') p++;
    int om = take_digits(&p, end, 2);
    if (om < 0 || om > 59) return false;
    off = sign * (oh * 3600 + om * 60);
  }
  if (p != end) return false;
  *secs = hh * 3600 + mm * 60 + ss - off;
  return true;
}

bool mlprt_parse_datetime(const char *s, size_t len, int64_t *out) {
  while (len && is_space(*s)) s++, len--;
  while (len && is_space(s[len - 1])) len--;
  if (len < 8) return false;
  const char *p = s, *end = s + len;
  int y, m, d;
  bool iso = false;
  if (len >= 10 && (s[4] == '-' || s[4] == '/')) {
    char sep = s[4];
    iso = sep == '-';
    y = take_digits(&p, end, 4);
    if (y < 0 || *p++ != sep) return false;
    m = take_digits(&p, end, 2);
    if (m < 0 || p >= end || *p++ != sep) return false;
    d = take_digits(&p, end, 2);
  } else if (len >= 10 && s[2] == '.') {
    d = take_digits(&p, end, 2);
    if (d < 0 || *p++ != '.') return false;
    m = take_digits(&p, end, 2);
    if (m < 0 || p >= end || *p++ != '.') return false;
    y = take_digits(&p, end, 4);
  } else {
    return false;
  }
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
  int64_t secs;
  if (!parse_time(p, end, iso, &secs)) return false;
  *out = mlprt_days_from_civil(y, m, d) * 86400 + secs;
  return true;
}

/* Between lo and hi digits at *p (advanced) as a number; -1 when fewer. */
static int take_upto(const char **p, const char *end, int lo, int hi) {
  int v = 0, n = 0;
  while (n < hi && *p < end && **p >= '0' && **p <= '9') v = v * 10 + (*(*p)++ - '0'), n++;
  return n < lo ? -1 : v;
}

/* The index of the English name at *p among names (full names, or their
 * first three letters), advancing *p; -1 when none. */
static int take_name(const char **p, const char *end, const char *const *names, int n) {
  for (int i = 0; i < n; i++) {
    size_t full = strlen(names[i]);
    if ((size_t)(end - *p) >= full && strncasecmp(*p, names[i], full) == 0) {
      *p += full;
      return i;
    }
  }
  for (int i = 0; i < n; i++)
    if (end - *p >= 3 && strncasecmp(*p, names[i], 3) == 0) {
      *p += 3;
      return i;
    }
  return -1;
}

/* A UTC offset at *p: Z, +HH, +HHMM or +HH:MM, in seconds east. */
static bool take_zone(const char **p, const char *end, int64_t *off) {
  if (*p < end && (**p == 'Z' || **p == 'z')) {
    (*p)++;
    *off = 0;
    return true;
  }
  if (*p >= end || (**p != '+' && **p != '-')) return false;
  int sign = *(*p)++ == '-' ? -1 : 1;
  int oh = take_digits(p, end, 2), om = 0;
  if (oh < 0 || oh > 23) return false;
  if (*p < end && **p == ':') (*p)++;
  if (*p < end && **p >= '0' && **p <= '9') om = take_digits(p, end, 2);
  if (om < 0 || om > 59) return false;
  *off = sign * (oh * 3600 + om * 60);
  return true;
}

bool mlprt_parse_datetime_format(const char *s, size_t len, const char *fmt, int64_t *out) {
  static const char *const months[12] = {"january", "february", "march",     "april",   "may",
                                         "june",    "july",     "august",    "september", "october",
                                         "november", "december"};
  static const char *const days[7] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                      "sunday"};
  while (len && is_space(*s)) s++, len--;
  while (len && is_space(s[len - 1])) len--;
  const char *p = s, *end = s + len;
  int64_t y = 1970, off = 0;
  int m = 1, d = 1, hh = 0, mi = 0, ss = 0, yday = -1, pm = 0;
  bool twelve = false;
  for (const char *f = fmt; *f; f++) {
    if (*f == ' ') {
      while (p < end && is_space(*p)) p++;
      continue;
    }
    if (*f != '%') {
      if (p >= end || *p++ != *f) return false;
      continue;
    }
    int v = 0;
    switch (*++f) {
    case 'Y': {
      bool neg = p < end && *p == '-';
      p += neg;
      v = take_upto(&p, end, 4, 4);
      y = neg ? -v : v;
      break;
    }
    case 'y':
      v = take_upto(&p, end, 2, 2);
      y = v < 69 ? 2000 + v : 1900 + v; /* POSIX: 69-99 are 1969-1999 */
      break;
    case 'm': v = m = take_upto(&p, end, 1, 2); break;
    case 'd':
    case 'e':
      if (*f == 'e' && p < end && *p == ' ') p++;
      v = d = take_upto(&p, end, 1, 2);
      break;
    case 'H': v = hh = take_upto(&p, end, 1, 2); break;
    case 'I': v = hh = take_upto(&p, end, 1, 2), twelve = true; break;
    case 'M': v = mi = take_upto(&p, end, 1, 2); break;
    case 'S': v = ss = take_upto(&p, end, 1, 2); break;
    case 'j': v = yday = take_upto(&p, end, 1, 3); break;
    case 'b':
    case 'h':
    case 'B':
      v = take_name(&p, end, months, 12);
      m = v + 1;
      break;
    case 'a':
    case 'A': v = take_name(&p, end, days, 7); break;
    case 'p':
      if (end - p < 2 || toupper((unsigned char)p[1]) != 'M') return false;
      pm = toupper((unsigned char)*p) == 'P';
      if (!pm && toupper((unsigned char)*p) != 'A') return false;
      p += 2;
      break;
    case 'z': v = take_zone(&p, end, &off) ? 0 : -1; break;
    case 'T':
      hh = take_upto(&p, end, 1, 2);
      if (hh < 0 || p >= end || *p++ != ':') return false;
      mi = take_upto(&p, end, 1, 2);
      if (mi < 0 || p >= end || *p++ != ':') return false;
      v = ss = take_upto(&p, end, 1, 2);
      break;
    case 'F':
      y = take_upto(&p, end, 4, 4);
      if (y < 0 || p >= end || *p++ != '-') return false;
      m = take_upto(&p, end, 1, 2);
      if (m < 0 || p >= end || *p++ != '-') return false;
      v = d = take_upto(&p, end, 1, 2);
      break;
    case '%': v = p < end && *p == '%' ? (p++, 0) : -1; break;
    default: return false;
    }
    if (v < 0) return false;
  }
  if (p != end) return false;
  if (twelve) { /* %I with %p: 12 AM is 0, 12 PM is 12 */
    if (hh < 1 || hh > 12) return false;
    hh = hh % 12 + (pm ? 12 : 0);
  }
  if (hh > 23 || mi > 59 || ss > 60) return false;
  int64_t day;
  if (yday >= 0) {
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (yday < 1 || yday > 365 + leap) return false;
    day = mlprt_days_from_civil(y, 1, 1) + yday - 1;
  } else {
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
    day = mlprt_days_from_civil(y, m, d);
  }
  *out = day * 86400 + hh * 3600 + mi * 60 + ss - off;
  return true;
}

void mlprt_format_datetime(int64_t t, char *buf, size_t n) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t secs = t - days * 86400, y;
  int m, d;
  mlprt_civil_from_days(days, &y, &m, &d);
  if (secs == 0) snprintf(buf, n, "%04lld-%02d-%02d", (long long)y, m, d);
  else
    snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
}

/* ---- UTF-8 ---- */

size_t mlprt_utf8_valid_prefix(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  /* ASCII runs eight bytes at a time */
  while (i + 8 <= len) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (w & UINT64_C(0x8080808080808080)) break;
    i += 8;
  }
  while (i < len) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n;
    unsigned min;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000, c &= 0x07;
    else return i;
    if (i + n > len) return i;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    /* overlong forms, surrogates and values past U+10FFFF are invalid */
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
    i += n;
  }
  return len;
}

/* ---- missing values and field kinds ---- */

static const char *const default_na[] = {"", "NA", "N/A", "null", "?", "NaN"};

void mlprt_na_init(MlprtNaSet *na, const MlprtLoadOpts *o) {
  const char *const *toks = o && o->na_tokens ? o->na_tokens : default_na;
  int n = o && o->na_tokens ? o->nna : (int)(sizeof default_na / sizeof *default_na);
  if (n > MLPRT_MAX_NA) n = MLPRT_MAX_NA;
  na->n = n;
  na->numeric = false;
  na->lens = 0;
  for (int i = 0; i < n; i++) {
    double v;
    na->tok[i] = toks[i], na->len[i] = strlen(toks[i]);
    na->numeric |= mlprt_parse_double(toks[i], na->len[i], &v);
    na->lens |= UINT64_C(1) << (na->len[i] < 63 ? na->len[i] : 63);
  }
}

bool mlprt_na_match(const MlprtNaSet *na, const char *s, size_t len) {
  if (!(na->lens >> (len < 63 ? len : 63) & 1)) return false;
  for (int i = 0; i < na->n; i++)
    if (na->len[i] == len && memcmp(na->tok[i], s, len) == 0) return true;
  return false;
}

static bool is_bool_word(const char *s, size_t len) {
  return (len == 4 && strncasecmp(s, "true", 4) == 0) || (len == 5 && strncasecmp(s, "false", 5) == 0);
}

int mlprt_classify(const char *s, size_t len) {
  double v;
  if (mlprt_parse_double(s, len, &v)) {
    const char *p = s, *end = s + len;
    while (p < end && is_space(*p)) p++;
    if (p < end && (*p == '-' || *p == '+')) p++;
    while (p < end && *p >= '0' && *p <= '9') p++;
    while (p < end && is_space(*p)) p++;
    return p == end ? MLPRT_K_INT : MLPRT_K_FLOAT;
  }
  if (is_bool_word(s, len)) return MLPRT_K_BOOL;
  int64_t t;
  if (mlprt_parse_datetime(s, len, &t)) return MLPRT_K_DATE;
  return MLPRT_K_STRING;
}

const char mlprt_why_utf8[] = "invalid UTF-8";
const char mlprt_why_float_range[] = "does not fit a 32-bit float (beyond 3.4e38 in magnitude)";

bool mlprt_why_final(const char *why) {
  return why == mlprt_why_utf8 || why == mlprt_why_float_range;
}

/* The value of a BOOL field: 1, 0, or -1 when it is not a boolean. "1"/"0"
 * are accepted too, for declared bool columns stored as numbers. */
static int parse_bool(const char *s, size_t len) {
  if ((len == 4 && strncasecmp(s, "true", 4) == 0) || (len == 1 && *s == '1')) return 1;
  if ((len == 5 && strncasecmp(s, "false", 5) == 0) || (len == 1 && *s == '0')) return 0;
  return -1;
}

int mlprt_num_from_text(MlprtColType type, const char *s, size_t len, const MlprtNaSet *na, float *out,
                        const char **why) {
  /* numbers are by far the most common cells: parse first, look for a
   * missing-value token only when that fails */
  bool token = na->numeric && mlprt_na_match(na, s, len);
  if (!token && mlprt_plain_digits(s, len, out)) return 0; /* as parse_double reads them */
  double v;
  bool ok = !token && parse_double(s, len, &v);
  if (!ok && mlprt_na_match(na, s, len)) {
    *out = NAN;
    return 0;
  }
  if (!ok) {
    *why = type == MLPRT_COL_INT ? "expected an integer" : "expected a number";
    return -1;
  }
  float f = (float)v;
  if (isinf(f)) { /* one rule for every source: never a silent infinity */
    *why = mlprt_why_float_range;
    return -1;
  }
  if (type == MLPRT_COL_INT && v != floor(v)) {
    *why = "expected an integer";
    return -1;
  }
  *out = f;
  return 0;
}

int mlprt_cell_from_text(MlprtTable *t, int col, int64_t row, const char *s, size_t len,
                         const MlprtNaSet *na, const char **why) {
  MlprtColumn *c = &t->cols[col];
  if (c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT)
    return mlprt_num_from_text(c->type, s, len, na, &c->f[row], why);
  bool missing = mlprt_na_match(na, s, len);
  switch (c->type) {
  case MLPRT_COL_BOOL: {
    int b = missing ? MLPRT_BOOL_NA : parse_bool(s, len);
    if (b < 0) {
      *why = "expected true or false";
      return -1;
    }
    c->b[row] = (uint8_t)b;
    return 0;
  }
  case MLPRT_COL_DATETIME:
    if (missing) {
      c->t[row] = MLPRT_TIME_NA;
      return 0;
    }
    if (!mlprt_parse_datetime(s, len, &c->t[row])) {
      *why = "expected a date (YYYY-MM-DD[THH:MM:SS], YYYY/MM/DD or DD.MM.YYYY)";
      return -1;
    }
    return 0;
  case MLPRT_COL_CATEGORY:
  case MLPRT_COL_TEXT:
    if (missing) {
      if (c->type == MLPRT_COL_CATEGORY) c->codes[row] = -1;
      else c->off[row] = -1;
      return 0;
    }
    if (mlprt_utf8_valid_prefix(s, len) != len) {
      *why = mlprt_why_utf8;
      return -1;
    }
    if (c->type == MLPRT_COL_CATEGORY) c->codes[row] = mlprt_levels_intern(&c->levels, s, len);
    else mlprt_text_set(c, row, s, len);
    return 0;
  default:
    *why = "unknown column type";
    return -1;
  }
}
