/* text.c — text cleaning (case, punctuation, accents, digits, white space,
 * stop words) and vectorizing (term counts, TF-IDF over a vocabulary fitted
 * on training rows, the hashing trick) with word or character n-grams.
 * Consumes TEXT or CATEGORY columns; produces cleaned text, or float
 * feature columns. The term reader and the row weighting are shared with
 * the predictor (runtime/predict/row.c), so both compute the same floats.
 * Only ASCII is case-folded; other UTF-8 bytes count as letters. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

/* Sorted for bsearch: the stdlib's English list. */
static const char *const stop_words[] = {
#define MLP_STOPWORD(w) w,
#include "stdlib/stopwords/english.def"
#undef MLP_STOPWORD
};

static int cmp_key(const void *key, const void *elem) {
  return strcmp((const char *)key, *(char *const *)elem);
}

bool mlprt_is_stop_word(const char *w, size_t len) {
  char buf[32];
  if (len >= sizeof buf) return false;
  memcpy(buf, w, len);
  buf[len] = 0;
  return bsearch(buf, stop_words, sizeof stop_words / sizeof *stop_words, sizeof *stop_words, cmp_key) !=
         NULL;
}

/* Letters and digits form words; bytes >= 0x80 (UTF-8) count as letters. */
static inline bool word_byte(unsigned char c) {
  return c >= 0x80 || isalnum(c);
}

/* The base letter of U+00C0 .. U+017F when its canonical decomposition is
 * one ASCII letter and combining marks (as Unicode NFKD, marks dropped);
 * '.' where there is none. */
static const char accent_base[] = "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y"
                                  "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl."
                                  "...NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZzs";

/* ---- cleaning ---- */

int mlprt_text_clean_fit(const MlprtTable *t, const MlprtTextCleanParams *p, MlprtFit *f, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_STRINGS, "text_clean", &idx, err);
  if (n < 0) return -1;
  mlprt_fit_init(f, MLPRT_STEP_TEXT_CLEAN, 0, t, idx, n);
  f->method = p->opts; /* nothing is learnt; the options travel as bits */
  free(idx);
  return 0;
}

size_t mlprt_text_clean_one(const char *s, size_t len, int opts, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((opts & MLPRT_TEXT_ACCENTS) && (c == 0xC3 || c == 0xC4 || c == 0xC5) && i + 1 < len &&
        ((unsigned char)s[i + 1] & 0xC0) == 0x80) {
      unsigned cp = (unsigned)(c & 0x1F) << 6 | ((unsigned char)s[i + 1] & 0x3F);
      if (cp >= 0xC0 && accent_base[cp - 0xC0] != '.') {
        c = (unsigned char)accent_base[cp - 0xC0];
        i++;
      }
    }
    if ((opts & MLPRT_TEXT_LOWER) && c < 0x80) c = (unsigned char)tolower(c);
    if ((opts & MLPRT_TEXT_PUNCT) && c < 0x80 && !isalnum(c) && !isspace(c)) c = ' ';
    if ((opts & MLPRT_TEXT_DIGITS) && isdigit(c)) c = ' ';
    if ((opts & MLPRT_TEXT_SPACE) && isspace(c)) {
      if (k == 0 || out[k - 1] == ' ') continue;
      c = ' ';
    }
    out[k++] = (char)c;
  }
  if ((opts & MLPRT_TEXT_SPACE) && k && out[k - 1] == ' ') k--;
  if (opts & MLPRT_TEXT_STOP) { /* drop stop words, keeping the separators of what stays */
    size_t w = 0, i = 0;
    while (i < k) {
      size_t j = i;
      while (j < k && word_byte((unsigned char)out[j])) j++;
      if (j > i) {
        char low[32];
        size_t wl = j - i < sizeof low ? j - i : 0;
        for (size_t q = 0; q < wl; q++) low[q] = (char)tolower((unsigned char)out[i + q]);
        if (wl && mlprt_is_stop_word(low, wl)) {
          i = j;
          while (i < k && out[i] == ' ') i++; /* and the space after it */
          continue;
        }
        memmove(out + w, out + i, j - i);
        w += j - i, i = j;
      } else {
        out[w++] = out[i++];
      }
    }
    while (w && out[w - 1] == ' ') w--;
    k = w;
  }
  out[k] = 0;
  return k;
}

int mlprt_text_clean_apply(MlprtTable *t, MlprtFit *f, MlprtError *err) {
  char *buf = NULL;
  size_t cap = 0;
  for (int i = 0; i < f->n; i++) {
    MlprtColFit *cf = &f->cols[i];
    int c = mlprt_fit_column(t, f, i, MLPRT_TM_STRINGS, err);
    if (c < 0) {
      free(buf);
      return -1;
    }
    MlprtColumn *col = &t->cols[c];
    if (col->type == MLPRT_COL_CATEGORY) {
      /* clean each level; levels that become equal merge */
      MlprtLevels nl = {0};
      int32_t *map = mlprt_xmalloc((size_t)(col->levels.n ? col->levels.n : 1) * sizeof *map);
      for (int32_t l = 0; l < col->levels.n; l++) {
        size_t len = strlen(col->levels.names[l]);
        if (cap < len + 1) buf = mlprt_xrealloc(buf, cap = len + 1);
        size_t k = mlprt_text_clean_one(col->levels.names[l], len, f->method, buf);
        map[l] = mlprt_levels_intern(&nl, buf, k);
      }
      for (int64_t r = 0; r < t->nrows; r++) {
        if (col->codes[r] < 0) continue;
        int32_t nc = map[col->codes[r]];
        cf->changed += strcmp(nl.names[nc], col->levels.names[col->codes[r]]) != 0;
        col->codes[r] = nc;
      }
      free(map);
      mlprt_levels_free(&col->levels);
      col->levels = nl;
    } else {
      /* cleaning never lengthens a string, so it rewrites the pool in place */
      for (int64_t r = 0; r < t->nrows; r++) {
        if (col->off[r] < 0) continue;
        char *s = col->pool + col->off[r];
        size_t len = strlen(s);
        if (cap < len + 1) buf = mlprt_xrealloc(buf, cap = len + 1);
        size_t k = mlprt_text_clean_one(s, len, f->method, buf);
        if (k != len || memcmp(buf, s, len)) cf->changed++;
        memcpy(s, buf, k + 1);
      }
    }
  }
  free(buf);
  return 0;
}

/* ---- terms ---- */

int64_t mlprt_terms_pack(const MlprtTerms *o) {
  int lo = o->ngram_lo > 0 ? o->ngram_lo : 1, hi = o->ngram_hi > 0 ? o->ngram_hi : lo;
  return (int64_t)o->method | (int64_t)o->analyzer << 2 | (int64_t)lo << 4 | (int64_t)hi << 6 |
         (int64_t)o->binary << 8 | (int64_t)o->sublinear << 9 | (int64_t)o->l2 << 10;
}

MlprtTerms mlprt_terms_unpack(int64_t v) {
  return (MlprtTerms){.method = (MlprtVectorize)(v & 3),
                      .analyzer = (MlprtAnalyzer)(v >> 2 & 1),
                      .ngram_lo = (int)(v >> 4 & 3),
                      .ngram_hi = (int)(v >> 6 & 3),
                      .binary = v >> 8 & 1,
                      .sublinear = v >> 9 & 1,
                      .l2 = v >> 10 & 1};
}

/* The last MLPRT_NGRAM_MAX units (words or characters) read, lowercased,
 * and the n-grams ending at the newest one. */
typedef struct {
  char unit[MLPRT_NGRAM_MAX][MLPRT_TERM_MAX]; /* ring: unit i at i % MLPRT_NGRAM_MAX */
  size_t len[MLPRT_NGRAM_MAX];                /* > MLPRT_TERM_MAX: too long, in no term */
  char term[MLPRT_TERM_MAX];
  size_t nunits;
  const MlprtTerms *o;
  void (*fn)(const char *, size_t, void *);
  void *ctx;
} Units;

/* A unit became the newest: pass each n-gram that ends with it (words
 * joined by one space, characters by none). A term longer than
 * MLPRT_TERM_MAX bytes is left out. */
static void ngrams_ending(Units *u, const char *unit, size_t len) {
  size_t slot = u->nunits++ % MLPRT_NGRAM_MAX;
  u->len[slot] = len;
  for (size_t i = 0; i < len && len <= MLPRT_TERM_MAX; i++)
    u->unit[slot][i] = (char)tolower((unsigned char)unit[i]);
  bool word = u->o->analyzer == MLPRT_ANALYZER_WORD;
  for (int n = u->o->ngram_lo; n <= u->o->ngram_hi && (size_t)n <= u->nunits; n++) {
    size_t k = 0;
    bool fits = true;
    for (int j = n - 1; j >= 0 && fits; j--) {
      size_t s = (u->nunits - 1 - (size_t)j) % MLPRT_NGRAM_MAX, sep = word && j < n - 1;
      fits = u->len[s] <= MLPRT_TERM_MAX && k + sep + u->len[s] <= MLPRT_TERM_MAX;
      if (!fits) break;
      if (sep) u->term[k++] = ' ';
      memcpy(u->term + k, u->unit[s], u->len[s]);
      k += u->len[s];
    }
    if (fits) u->fn(u->term, k, u->ctx);
  }
}

void mlprt_terms_each(const char *s, size_t len, const MlprtTerms *o,
                      void (*fn)(const char *, size_t, void *), void *ctx) {
  MlprtTerms def = *o;
  if (def.ngram_lo < 1) def.ngram_lo = 1;
  if (def.ngram_hi < def.ngram_lo) def.ngram_hi = def.ngram_lo;
  if (def.ngram_hi > MLPRT_NGRAM_MAX) def.ngram_hi = MLPRT_NGRAM_MAX;
  Units u = {.o = &def, .fn = fn, .ctx = ctx};
  size_t i = 0;
  if (def.analyzer == MLPRT_ANALYZER_WORD) {
    while (i < len) {
      while (i < len && !word_byte((unsigned char)s[i])) i++;
      size_t j = i;
      while (j < len && word_byte((unsigned char)s[j])) j++;
      if (j > i) ngrams_ending(&u, s + i, j - i);
      i = j;
    }
    return;
  }
  /* characters (UTF-8 sequences), a run of white space read as one space */
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (isspace(c)) {
      while (i < len && isspace((unsigned char)s[i])) i++;
      ngrams_ending(&u, " ", 1);
      continue;
    }
    size_t j = i + 1;
    while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
    ngrams_ending(&u, s + i, j - i);
    i = j;
  }
}

/* MurmurHash3, x86 32-bit, seed 0, as a signed value. */
static int32_t murmur3_32(const char *key, size_t len) {
  const uint8_t *p = (const uint8_t *)key;
  uint32_t h = 0, c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  size_t nb = len / 4;
  for (size_t b = 0; b < nb; b++) {
    uint32_t k = (uint32_t)p[4 * b] | (uint32_t)p[4 * b + 1] << 8 | (uint32_t)p[4 * b + 2] << 16 |
                 (uint32_t)p[4 * b + 3] << 24;
    k *= c1, k = k << 15 | k >> 17, k *= c2;
    h ^= k, h = h << 13 | h >> 19, h = h * 5 + 0xe6546b64u;
  }
  const uint8_t *tail = p + nb * 4;
  uint32_t k = 0;
  switch (len & 3) {
  case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
  case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
  case 1:
    k ^= tail[0];
    k *= c1, k = k << 15 | k >> 17, k *= c2;
    h ^= k;
  }
  h ^= (uint32_t)len;
  h ^= h >> 16, h *= 0x85ebca6bu, h ^= h >> 13, h *= 0xc2b2ae35u, h ^= h >> 16;
  return (int32_t)h;
}

int64_t mlprt_term_bucket(const char *term, size_t len, int64_t buckets) {
  int32_t h = murmur3_32(term, len);
  if (h == INT32_MIN) return (INT32_MAX - (buckets - 1)) % buckets; /* scikit-learn's |INT32_MIN| */
  return (int64_t)(h < 0 ? -h : h) % buckets;
}

void mlprt_terms_weigh(float *row, const int64_t *idx, int64_t n, const double *idf, const MlprtTerms *o) {
  if (o->method == MLPRT_VEC_HASH) return;
  if (o->method == MLPRT_VEC_COUNT) {
    for (int64_t j = 0; o->binary && j < n; j++) {
      int64_t k = idx ? idx[j] : j;
      row[k] = row[k] > 0 ? 1.0f : 0.0f;
    }
    return;
  }
  double norm = 0;
  for (int64_t j = 0; j < n; j++) {
    int64_t k = idx ? idx[j] : j;
    double tf = row[k];
    if (o->sublinear && tf > 0) tf = 1.0 + log(tf);
    double w = tf * (idf ? idf[k] : 1.0);
    row[k] = (float)w;
    norm += w * w;
  }
  if (!o->l2 || !(norm > 0)) return;
  double inv = 1.0 / sqrt(norm);
  for (int64_t j = 0; j < n; j++) {
    int64_t k = idx ? idx[j] : j;
    row[k] = (float)(row[k] * inv);
  }
}

/* ---- vectorizing ---- */

typedef struct {
  MlprtLevels terms;
  int64_t *df, *tf;  /* [terms.n] documents holding the term; its count over all of them */
  int64_t *last_doc; /* [terms.n] last document counted, so df counts each once */
  int32_t cap;
  int64_t doc;
} DfCount;

static void df_term(const char *w, size_t len, void *ctx) {
  DfCount *d = ctx;
  int32_t k = mlprt_levels_intern(&d->terms, w, len);
  if (k >= d->cap) {
    int32_t old = d->cap;
    d->cap = d->cap ? d->cap * 2 : 256;
    d->df = mlprt_xrealloc(d->df, (size_t)d->cap * sizeof *d->df);
    d->tf = mlprt_xrealloc(d->tf, (size_t)d->cap * sizeof *d->tf);
    d->last_doc = mlprt_xrealloc(d->last_doc, (size_t)d->cap * sizeof *d->last_doc);
    for (int32_t i = old; i < d->cap; i++) d->df[i] = d->tf[i] = 0, d->last_doc[i] = -1;
  }
  d->tf[k]++;
  if (d->last_doc[k] != d->doc) d->df[k]++, d->last_doc[k] = d->doc;
}

typedef struct {
  const char *name;
  int64_t df, tf;
} TermDf;

/* most frequent first (count over the corpus), ties by name */
static int by_tf(const void *a, const void *b) {
  const TermDf *x = a, *y = b;
  if (x->tf != y->tf) return x->tf > y->tf ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const TermDf *)a)->name, ((const TermDf *)b)->name);
}

static const char *text_of(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_CATEGORY) return c->codes[r] < 0 ? NULL : c->levels.names[c->codes[r]];
  return mlprt_text_at(c, r);
}

/* The vocabulary and idf of one column over the training rows, into cf. */
static void fit_vocabulary(const MlprtTable *t, const MlprtColumn *c, const MlprtVectorizeParams *p,
                           const MlprtTerms *o, int32_t max_vocab, MlprtColFit *cf) {
  /* every training row is a document, a missing text an empty one */
  DfCount d = {0};
  int64_t ndocs = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (!mlprt_row_trains(t, r)) continue;
    d.doc = ndocs++;
    const char *s = text_of(c, r);
    if (s) mlprt_terms_each(s, strlen(s), o, df_term, &d);
  }
  TermDf *wd = mlprt_xmalloc((size_t)(d.terms.n ? d.terms.n : 1) * sizeof *wd);
  int32_t n = 0;
  double max_docs = (p->max_df > 0 ? p->max_df : 1.0) * (double)ndocs;
  bool seq = o->method == MLPRT_VEC_SEQUENCE; /* min_df counts occurrences, max_df is unused */
  for (int32_t k = 0; k < d.terms.n; k++)
    if ((seq ? d.tf[k] : d.df[k]) >= (p->min_df > 0 ? p->min_df : 1) && (seq || (double)d.df[k] <= max_docs))
      wd[n++] = (TermDf){d.terms.names[k], d.df[k], d.tf[k]};
  qsort(wd, (size_t)n, sizeof *wd, by_tf);
  if (n > max_vocab) n = max_vocab;
  qsort(wd, (size_t)n, sizeof *wd, by_name); /* the columns in term order */
  cf->nlevels = n;
  cf->levels = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->levels);
  if (o->method == MLPRT_VEC_TFIDF) cf->weights = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->weights);
  for (int32_t k = 0; k < n; k++) {
    cf->levels[k] = mlprt_xstrndup(wd[k].name, strlen(wd[k].name));
    /* smoothed idf: as if one extra document held every term */
    if (cf->weights) cf->weights[k] = log((1.0 + (double)ndocs) / (1.0 + (double)wd[k].df)) + 1.0;
  }
  free(wd);
  free(d.df);
  free(d.tf);
  free(d.last_doc);
  mlprt_levels_free(&d.terms);
}

int mlprt_vectorize_fit(const MlprtTable *t, const MlprtVectorizeParams *p, MlprtFit *f, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_STRINGS, "vectorize", &idx, err);
  if (n < 0) return -1;
  mlprt_fit_init(f, MLPRT_STEP_VECTORIZE, (int)p->terms.method, t, idx, n);
  f->terms = p->terms;
  MlprtTerms *o = &f->terms;
  if (o->ngram_lo < 1) o->ngram_lo = 1;
  if (o->ngram_hi < o->ngram_lo) o->ngram_hi = o->ngram_lo;
  f->flag = p->pad;
  int32_t max_vocab = p->max_vocab > 0 ? p->max_vocab : 1000;
  if (o->method == MLPRT_VEC_HASH) f->param = p->buckets > 0 ? p->buckets : 64;
  else if (o->method == MLPRT_VEC_SEQUENCE) f->param = p->max_len > 0 ? p->max_len : 100;
  else f->param = max_vocab;
  if (o->method == MLPRT_VEC_SEQUENCE) /* words, one at a time */
    *o = (MlprtTerms){.method = MLPRT_VEC_SEQUENCE, .ngram_lo = 1, .ngram_hi = 1};
  for (int i = 0; i < n && o->method != MLPRT_VEC_HASH; i++)
    fit_vocabulary(t, &t->cols[idx[i]], p, o, max_vocab, &f->cols[i]);
  free(idx);
  return 0;
}

typedef struct {
  MlprtLevels *vocab; /* NULL: hashing */
  float *row;         /* [nout] counts of the current document, 0 but at touched */
  int64_t nout;
  int64_t *touched;   /* [nout] the columns the document counts, first seen first */
  int64_t ntouched;
} RowCount;

static void count_term(const char *w, size_t len, void *ctx) {
  RowCount *rc = ctx;
  int64_t k = rc->vocab ? mlprt_levels_find(rc->vocab, w, len) : mlprt_term_bucket(w, len, rc->nout);
  if (k < 0) return;
  if (rc->row[k] == 0) rc->touched[rc->ntouched++] = k;
  rc->row[k] += 1;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The fit's i-th column replaced by its vectors (the new columns last). */
static int vectorize_column(MlprtTable *t, MlprtFit *f, int i, MlprtError *err) {
  MlprtColFit *cf = &f->cols[i];
  int c = mlprt_fit_column(t, f, i, MLPRT_TM_STRINGS, err);
  if (c < 0) return -1;
  bool hash = f->terms.method == MLPRT_VEC_HASH;
  int64_t nout = hash || f->flag ? (int64_t)f->param : cf->nlevels;
  if (!hash && cf->nlevels > nout) {
    mlprt_error_set(err, NULL, 0, 0, 0, cf->column, "vectorize: a vocabulary of %d terms in %lld columns",
                    cf->nlevels, (long long)nout);
    return -1;
  }
  MlprtLevels vocab = {0};
  for (int32_t k = 0; !hash && k < cf->nlevels; k++)
    mlprt_levels_intern(&vocab, cf->levels[k], strlen(cf->levels[k]));
  int first = t->ncols;
  char name[512];
  for (int64_t k = 0; k < nout; k++) {
    if (hash) snprintf(name, sizeof name, "%s#%lld", cf->column, (long long)k);
    else if (k < cf->nlevels) snprintf(name, sizeof name, "%s:%s", cf->column, cf->levels[k]);
    else snprintf(name, sizeof name, "%s:<unused %lld>", cf->column, (long long)k);
    int nc = mlprt_table_add_column_raw(t, name, MLPRT_COL_FLOAT);
    memset(t->cols[nc].f, 0, (size_t)t->nrows * sizeof(float));
  }
  /* each row's counts touch few columns: those are weighed (in column
   * order, as a whole row would be) and written, the others stay 0 */
  RowCount rc = {hash ? NULL : &vocab, mlprt_xcalloc((size_t)(nout ? nout : 1), sizeof(float)), nout,
                 mlprt_xmalloc((size_t)(nout ? nout : 1) * sizeof(int64_t)), 0};
  /* the pad columns' counts are 0 whatever their idf */
  double *idf = cf->weights ? mlprt_xcalloc((size_t)(nout ? nout : 1), sizeof *idf) : NULL;
  if (idf) memcpy(idf, cf->weights, (size_t)cf->nlevels * sizeof *idf);
  const MlprtColumn *src = &t->cols[c];
  for (int64_t r = 0; r < t->nrows; r++) {
    const char *s = text_of(src, r);
    rc.ntouched = 0;
    if (s) mlprt_terms_each(s, strlen(s), &f->terms, count_term, &rc);
    qsort(rc.touched, (size_t)rc.ntouched, sizeof *rc.touched, cmp_i64);
    mlprt_terms_weigh(rc.row, rc.touched, rc.ntouched, idf, &f->terms);
    for (int64_t j = 0; j < rc.ntouched; j++) {
      int64_t k = rc.touched[j];
      t->cols[first + k].f[r] = rc.row[k];
      rc.row[k] = 0;
    }
    cf->changed += s != NULL;
  }
  free(idf);
  free(rc.touched);
  free(rc.row);
  mlprt_levels_free(&vocab);
  mlprt_table_drop_column(t, c);
  return 0;
}

/* The words of a text as ids into a row of n slots (mlprt_seq_place). */
typedef struct {
  MlprtLevels *vocab;
  float *ids;
  int64_t n, len;
} SeqIds;

static void seq_term(const char *w, size_t len, void *ctx) {
  SeqIds *q = ctx;
  if (q->len >= q->n) return;
  int32_t k = mlprt_levels_find(q->vocab, w, len);
  q->ids[q->len++] = k < 0 ? MLPRT_SEQ_OOV : (float)(MLPRT_SEQ_FIRST + k);
}

void mlprt_seq_place(float *ids, int64_t len, int64_t n) {
  memmove(ids + (n - len), ids, (size_t)len * sizeof *ids);
  for (int64_t j = 0; j < n - len; j++) ids[j] = MLPRT_SEQ_PAD;
}

/* The fit's i-th column replaced by its sequence of word ids (the new columns last). */
static int sequence_column(MlprtTable *t, MlprtFit *f, int i, MlprtError *err) {
  MlprtColFit *cf = &f->cols[i];
  int c = mlprt_fit_column(t, f, i, MLPRT_TM_STRINGS, err);
  if (c < 0) return -1;
  int64_t n = (int64_t)f->param;
  MlprtLevels vocab = {0};
  for (int32_t k = 0; k < cf->nlevels; k++) mlprt_levels_intern(&vocab, cf->levels[k], strlen(cf->levels[k]));
  int first = t->ncols;
  char name[512];
  for (int64_t k = 0; k < n; k++) {
    snprintf(name, sizeof name, "%s@%lld", cf->column, (long long)k);
    mlprt_table_add_column_raw(t, name, MLPRT_COL_FLOAT);
  }
  SeqIds q = {&vocab, mlprt_xmalloc((size_t)n * sizeof(float)), n, 0};
  const MlprtColumn *src = &t->cols[c];
  for (int64_t r = 0; r < t->nrows; r++) {
    const char *s = text_of(src, r);
    q.len = 0;
    if (s) mlprt_terms_each(s, strlen(s), &f->terms, seq_term, &q);
    mlprt_seq_place(q.ids, q.len, n);
    for (int64_t k = 0; k < n; k++) t->cols[first + k].f[r] = q.ids[k];
    cf->changed += s != NULL;
  }
  free(q.ids);
  mlprt_levels_free(&vocab);
  mlprt_table_drop_column(t, c);
  return 0;
}

int mlprt_vectorize_apply(MlprtTable *t, MlprtFit *f, MlprtError *err) {
  for (int i = 0; i < f->n; i++)
    if ((f->terms.method == MLPRT_VEC_SEQUENCE ? sequence_column : vectorize_column)(t, f, i, err) != 0)
      return -1;
  return 0;
}
