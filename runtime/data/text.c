/* text.c — text cleaning (lowercase, punctuation, whitespace, English stop
 * words) and vectorizing (word counts, TF-IDF with a capped vocabulary, the
 * hashing trick). Consumes TEXT or CATEGORY columns; produces cleaned text,
 * or float feature columns with the vocabulary and idf fitted on training
 * rows. Only ASCII is case-folded; other UTF-8 bytes are kept as letters. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_int.h"

/* Sorted for bsearch: common English function words. */
static const char *const stop_words[] = {
    "a",      "about", "above", "after", "again", "against", "all",   "am",    "an",     "and",   "any",
    "are",    "as",    "at",    "be",    "because", "been",  "before", "being", "below",  "between", "both",
    "but",    "by",    "can",   "could", "did",   "do",      "does",  "doing", "down",   "during", "each",
    "few",    "for",   "from",  "further", "had", "has",     "have",  "having", "he",    "her",   "here",
    "hers",   "herself", "him", "himself", "his", "how",     "i",     "if",    "in",     "into",  "is",
    "it",     "its",   "itself", "just", "me",    "more",    "most",  "my",    "myself", "no",    "nor",
    "not",    "now",   "of",    "off",   "on",    "once",    "only",  "or",    "other",  "our",   "ours",
    "ourselves", "out", "over", "own",   "same",  "she",     "should", "so",   "some",   "such",  "than",
    "that",   "the",   "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this",
    "those",  "through", "to",  "too",   "under", "until",   "up",    "very",  "was",    "we",    "were",
    "what",   "when",  "where", "which", "while", "who",     "whom",  "why",   "will",   "with",  "would",
    "you",    "your",  "yours", "yourself", "yourselves"};

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

/* ---- cleaning ---- */

int mlprt_text_clean_fit(const MlprtTable *t, const MlprtTextCleanParams *p, MlprtFit *f, MlprtError *err) {
  int *idx;
  int n = mlprt_select_columns(t, p->cols, MLPRT_TM_STRINGS, "text_clean", &idx, err);
  if (n < 0) return -1;
  mlprt_fit_init(f, MLPRT_STEP_TEXT_CLEAN, 0, t, idx, n);
  /* nothing is learnt; the options travel in method as bits */
  f->method = p->lowercase | p->strip_punct << 1 | p->collapse_ws << 2 | p->stop_words << 3;
  free(idx);
  return 0;
}

/* Clean s into out (at least len + 1 bytes); returns the new length. */
static size_t clean_one(const char *s, size_t len, int opts, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((opts & 1) && c < 0x80) c = (unsigned char)tolower(c);
    if ((opts & 2) && c < 0x80 && !isalnum(c) && !isspace(c)) c = ' ';
    if ((opts & 4) && isspace(c)) {
      if (k == 0 || out[k - 1] == ' ') continue;
      c = ' ';
    }
    out[k++] = (char)c;
  }
  if ((opts & 4) && k && out[k - 1] == ' ') k--;
  if (opts & 8) { /* drop stop words, keeping the separators of what stays */
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
    int c = mlprt_table_find(t, cf->column);
    if (c < 0 || !(MLPRT_TM_STRINGS & MLPRT_TM(t->cols[c].type))) {
      mlprt_error_set(err, NULL, 0, 0, 0, cf->column, "text_clean: no text or category column of this name");
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
        size_t k = clean_one(col->levels.names[l], len, f->method, buf);
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
        size_t k = clean_one(s, len, f->method, buf);
        if (k != len || memcmp(buf, s, len)) cf->changed++;
        memcpy(s, buf, k + 1);
      }
    }
  }
  free(buf);
  return 0;
}

/* ---- vectorizing ---- */

/* Calls fn(word, len, ctx) for each word of s, lowercased into a scratch. */
static void for_words(const char *s, void (*fn)(const char *, size_t, void *), void *ctx) {
  char w[256];
  while (*s) {
    while (*s && !word_byte((unsigned char)*s)) s++;
    size_t k = 0;
    while (*s && word_byte((unsigned char)*s)) {
      if (k < sizeof w) w[k++] = (char)tolower((unsigned char)*s);
      s++;
    }
    if (k) fn(w, k, ctx);
  }
}

typedef struct {
  MlprtLevels words;
  int64_t *df;        /* [words.n] documents containing the word */
  int32_t *last_doc;  /* [words.n] last document counted, so df counts each once */
  int32_t cap;
  int32_t doc;
} DfCount;

static void df_word(const char *w, size_t len, void *ctx) {
  DfCount *d = ctx;
  int32_t k = mlprt_levels_intern(&d->words, w, len);
  if (k >= d->cap) {
    int32_t old = d->cap;
    d->cap = d->cap ? d->cap * 2 : 256;
    d->df = mlprt_xrealloc(d->df, (size_t)d->cap * sizeof *d->df);
    d->last_doc = mlprt_xrealloc(d->last_doc, (size_t)d->cap * sizeof *d->last_doc);
    for (int32_t i = old; i < d->cap; i++) d->df[i] = 0, d->last_doc[i] = -1;
  }
  if (d->last_doc[k] != d->doc) d->df[k]++, d->last_doc[k] = d->doc;
}

typedef struct {
  const char *name;
  int64_t df;
} WordDf;

static int by_df(const void *a, const void *b) {
  const WordDf *x = a, *y = b;
  if (x->df != y->df) return x->df > y->df ? -1 : 1;
  return strcmp(x->name, y->name);
}

static const char *text_of(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_CATEGORY) return c->codes[r] < 0 ? NULL : c->levels.names[c->codes[r]];
  return mlprt_text_at(c, r);
}

int mlprt_vectorize_fit(const MlprtTable *t, const MlprtVectorizeParams *p, MlprtFit *f, MlprtError *err) {
  const char *names[] = {p->column};
  int *idx;
  if (mlprt_select_columns(t, (MlprtCols){names, 1, NULL}, MLPRT_TM_STRINGS, "vectorize", &idx, err) < 0)
    return -1;
  mlprt_fit_init(f, MLPRT_STEP_VECTORIZE, (int)p->method, t, idx, 1);
  const MlprtColumn *c = &t->cols[idx[0]];
  free(idx);
  if (p->method == MLPRT_VEC_HASH) {
    f->param = p->buckets > 0 ? p->buckets : 64;
    return 0;
  }
  f->param = p->max_vocab > 0 ? p->max_vocab : 1000;
  DfCount d = {0};
  int64_t ndocs = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    const char *s = mlprt_row_trains(t, r) ? text_of(c, r) : NULL;
    if (!s) continue;
    d.doc = (int32_t)ndocs++;
    for_words(s, df_word, &d);
  }
  WordDf *wd = mlprt_xmalloc((size_t)(d.words.n ? d.words.n : 1) * sizeof *wd);
  for (int32_t k = 0; k < d.words.n; k++) wd[k] = (WordDf){d.words.names[k], d.df[k]};
  qsort(wd, (size_t)d.words.n, sizeof *wd, by_df);
  int32_t n = d.words.n < (int32_t)f->param ? d.words.n : (int32_t)f->param;
  MlprtColFit *cf = &f->cols[0];
  cf->nlevels = n;
  cf->levels = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->levels);
  if (p->method == MLPRT_VEC_TFIDF) cf->weights = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->weights);
  for (int32_t k = 0; k < n; k++) {
    cf->levels[k] = mlprt_xstrndup(wd[k].name, strlen(wd[k].name));
    /* smoothed idf: as if one extra document held every word */
    if (cf->weights) cf->weights[k] = log((1.0 + (double)ndocs) / (1.0 + (double)wd[k].df)) + 1.0;
  }
  free(wd);
  free(d.df);
  free(d.last_doc);
  mlprt_levels_free(&d.words);
  return 0;
}

typedef struct {
  MlprtLevels *vocab; /* NULL: hashing */
  float *row;         /* [nout] counts of the current document */
  int nout;
} RowCount;

static void count_word(const char *w, size_t len, void *ctx) {
  RowCount *rc = ctx;
  if (!rc->vocab) {
    rc->row[mlprt_hash_bytes64(w, len) % (uint64_t)rc->nout] += 1;
    return;
  }
  int32_t k = mlprt_levels_find(rc->vocab, w, len);
  if (k >= 0) rc->row[k] += 1;
}

int mlprt_vectorize_apply(MlprtTable *t, MlprtFit *f, MlprtError *err) {
  MlprtColFit *cf = &f->cols[0];
  int c = mlprt_table_find(t, cf->column);
  if (c < 0 || !(MLPRT_TM_STRINGS & MLPRT_TM(t->cols[c].type))) {
    mlprt_error_set(err, NULL, 0, 0, 0, cf->column, "vectorize: no text or category column of this name");
    return -1;
  }
  bool hash = f->method == MLPRT_VEC_HASH;
  int nout = hash ? (int)f->param : cf->nlevels;
  MlprtLevels vocab = {0};
  for (int32_t k = 0; !hash && k < cf->nlevels; k++)
    mlprt_levels_intern(&vocab, cf->levels[k], strlen(cf->levels[k]));
  int first = t->ncols;
  char name[512];
  for (int k = 0; k < nout; k++) {
    if (hash) snprintf(name, sizeof name, "%s#%d", cf->column, k);
    else snprintf(name, sizeof name, "%s:%s", cf->column, cf->levels[k]);
    mlprt_table_add_column(t, name, MLPRT_COL_FLOAT);
  }
  RowCount rc = {hash ? NULL : &vocab, mlprt_xmalloc((size_t)(nout ? nout : 1) * sizeof(float)), nout};
  const MlprtColumn *src = &t->cols[c];
  for (int64_t r = 0; r < t->nrows; r++) {
    memset(rc.row, 0, (size_t)nout * sizeof(float));
    const char *s = text_of(src, r);
    if (s) for_words(s, count_word, &rc);
    if (cf->weights) {
      double norm = 0;
      for (int k = 0; k < nout; k++) {
        rc.row[k] *= (float)cf->weights[k];
        norm += (double)rc.row[k] * rc.row[k];
      }
      float inv = norm > 0 ? (float)(1.0 / sqrt(norm)) : 0;
      for (int k = 0; k < nout; k++) rc.row[k] *= inv;
    }
    for (int k = 0; k < nout; k++) t->cols[first + k].f[r] = rc.row[k];
    cf->changed += s != NULL;
  }
  free(rc.row);
  mlprt_levels_free(&vocab);
  mlprt_table_drop_column(t, c);
  return 0;
}
