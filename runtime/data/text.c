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

/* Each unit of s as read: a word, or a character (a UTF-8 sequence) with a
 * run of white space read as one space. */
static inline void units_each(const char *s, size_t len, bool word, void (*fn)(const char *, size_t, void *),
                              void *ctx) {
  size_t i = 0;
  if (word) {
    while (i < len) {
      while (i < len && !word_byte((unsigned char)s[i])) i++;
      size_t j = i;
      while (j < len && word_byte((unsigned char)s[j])) j++;
      if (j > i) fn(s + i, j - i, ctx);
      i = j;
    }
    return;
  }
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (isspace(c)) {
      while (i < len && isspace((unsigned char)s[i])) i++;
      fn(" ", 1, ctx);
      continue;
    }
    size_t j = i + 1;
    while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
    fn(s + i, j - i, ctx);
    i = j;
  }
}

static void unit_terms(const char *unit, size_t len, void *ctx) {
  ngrams_ending(ctx, unit, len);
}

/* The n-gram range of o, clamped as the readers use it. */
static MlprtTerms terms_clamped(const MlprtTerms *o) {
  MlprtTerms def = *o;
  if (def.ngram_lo < 1) def.ngram_lo = 1;
  if (def.ngram_hi < def.ngram_lo) def.ngram_hi = def.ngram_lo;
  if (def.ngram_hi > MLPRT_NGRAM_MAX) def.ngram_hi = MLPRT_NGRAM_MAX;
  return def;
}

void mlprt_terms_each(const char *s, size_t len, const MlprtTerms *o,
                      void (*fn)(const char *, size_t, void *), void *ctx) {
  MlprtTerms def = terms_clamped(o);
  Units u = {.o = &def, .fn = fn, .ctx = ctx};
  units_each(s, len, def.analyzer == MLPRT_ANALYZER_WORD, unit_terms, &u);
}

/* ---- n-grams by unit ids ----
 * Fitting and applying a vocabulary read each unit once into a dictionary
 * of units and key an n-gram by the ids of its units, so no term string is
 * built or hashed per n-gram; the strings are built for the vocabulary
 * alone. The terms are those mlprt_terms_each passes. */

/* An n-gram's key: 1 + the ids of its units, the newest last, 0 before the first. */
typedef struct {
  uint32_t id[MLPRT_NGRAM_MAX];
  int32_t val; /* the dense index of the n-gram */
} Gram;

/* Keys to dense indices 0..n-1 in first-seen order: a single unit's by a
 * table indexed by its id, longer ones by open addressing (a slot with a 0
 * newest id is empty). */
typedef struct {
  int32_t *uni;    /* [nuni] the index of unit id + 1's unigram, or -1 */
  uint32_t nuni;
  Gram *slots;
  uint32_t nslots; /* power of two */
  int32_t nhashed, n;
} Grams;

static inline uint32_t gram_hash(const uint32_t *id) {
  uint64_t h = 0;
  for (int j = 0; j < MLPRT_NGRAM_MAX; j++) h = (h ^ id[j]) * UINT64_C(0x9e3779b97f4a7c15);
  return (uint32_t)(h >> 32);
}

static inline bool same_key(const uint32_t *a, const uint32_t *b) {
  for (int j = 0; j < MLPRT_NGRAM_MAX; j++)
    if (a[j] != b[j]) return false;
  return true;
}

static inline bool unigram(const uint32_t *id) {
  return !id[MLPRT_NGRAM_MAX - 2];
}

/* The slot holding key, or the empty one where it would go. */
static inline Gram *grams_slot(const Grams *g, const uint32_t *id) {
  for (uint32_t i = gram_hash(id) & (g->nslots - 1);; i = (i + 1) & (g->nslots - 1)) {
    Gram *e = &g->slots[i];
    if (!e->id[MLPRT_NGRAM_MAX - 1] || same_key(e->id, id)) return e;
  }
}

static int32_t grams_find(const Grams *g, const uint32_t *id) {
  if (unigram(id)) return id[MLPRT_NGRAM_MAX - 1] <= g->nuni ? g->uni[id[MLPRT_NGRAM_MAX - 1] - 1] : -1;
  if (!g->nslots) return -1;
  Gram *e = grams_slot(g, id);
  return e->id[MLPRT_NGRAM_MAX - 1] ? e->val : -1;
}

static int32_t grams_add(Grams *g, const uint32_t *id) {
  if (unigram(id)) {
    uint32_t u = id[MLPRT_NGRAM_MAX - 1] - 1;
    if (u >= g->nuni) {
      uint32_t old = g->nuni;
      g->nuni = u + 1 > 2 * old ? u + 1 : 2 * old;
      g->uni = mlprt_xrealloc(g->uni, (size_t)g->nuni * sizeof *g->uni);
      memset(g->uni + old, 0xff, (size_t)(g->nuni - old) * sizeof *g->uni); /* -1 */
    }
    if (g->uni[u] < 0) g->uni[u] = g->n++;
    return g->uni[u];
  }
  if ((uint32_t)(g->nhashed + 1) * 2 > g->nslots) {
    uint32_t ns = g->nslots ? g->nslots * 2 : 1024;
    Gram *old = g->slots;
    uint32_t nold = g->nslots;
    g->slots = mlprt_xcalloc(ns, sizeof(Gram));
    g->nslots = ns;
    for (uint32_t i = 0; i < nold; i++)
      if (old[i].id[MLPRT_NGRAM_MAX - 1]) *grams_slot(g, old[i].id) = old[i];
    free(old);
  }
  Gram *e = grams_slot(g, id);
  if (!e->id[MLPRT_NGRAM_MAX - 1]) {
    memcpy(e->id, id, sizeof e->id);
    e->val = g->n++;
    g->nhashed++;
  }
  return e->val;
}

static void grams_free(Grams *g) {
  free(g->uni);
  free(g->slots);
}

#define UNIT_NONE UINT32_MAX /* a unit in no term: too long, or (applying) in no vocabulary term */

/* The last units read, as ids, and the n-grams ending at the newest. */
typedef struct {
  MlprtLevels *units;
  bool intern;                  /* fitting: new units join the dictionary */
  uint32_t id[MLPRT_NGRAM_MAX]; /* 1 + id, or UNIT_NONE; ring: unit i at i % MLPRT_NGRAM_MAX */
  size_t len[MLPRT_NGRAM_MAX];
  size_t nunits, sep;
  int lo, hi;
  char low[MLPRT_TERM_MAX];
  void (*fn)(const uint32_t *key, void *ctx);
  void *ctx;
} UnitIds;

static void unit_ids(const char *unit, size_t len, void *ctx) {
  UnitIds *u = ctx;
  size_t slot = u->nunits++ % MLPRT_NGRAM_MAX;
  u->len[slot] = len;
  u->id[slot] = UNIT_NONE;
  if (len <= MLPRT_TERM_MAX) {
    for (size_t i = 0; i < len; i++) u->low[i] = (char)tolower((unsigned char)unit[i]);
    int32_t k = u->intern ? mlprt_levels_intern(u->units, u->low, len)
                          : mlprt_levels_find(u->units, u->low, len);
    if (k >= 0) u->id[slot] = (uint32_t)k + 1;
  }
  uint32_t key[MLPRT_NGRAM_MAX] = {0};
  size_t k = 0;
  for (int n = 1; n <= u->hi && (size_t)n <= u->nunits; n++) {
    size_t s = (u->nunits - (size_t)n) % MLPRT_NGRAM_MAX;
    if (u->id[s] == UNIT_NONE) return;
    k += u->len[s] + (n > 1 ? u->sep : 0);
    if (k > MLPRT_TERM_MAX) return;
    key[MLPRT_NGRAM_MAX - n] = u->id[s];
    if (n >= u->lo) u->fn(key, u->ctx);
  }
}

/* Every n-gram of s, by key. */
static void grams_each(UnitIds *u, const char *s, size_t len, bool word) {
  u->nunits = 0;
  units_each(s, len, word, unit_ids, u);
}

static UnitIds unit_ids_init(MlprtLevels *units, bool intern, const MlprtTerms *o,
                             void (*fn)(const uint32_t *, void *), void *ctx) {
  MlprtTerms def = terms_clamped(o);
  return (UnitIds){.units = units, .intern = intern, .sep = def.analyzer == MLPRT_ANALYZER_WORD,
                   .lo = def.ngram_lo, .hi = def.ngram_hi, .fn = fn, .ctx = ctx};
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

/* One n-gram's counts, in one record so counting it touches one line. */
typedef struct {
  uint32_t key[MLPRT_NGRAM_MAX];
  int32_t at;       /* keeping rows: its place in the document's distinct n-grams */
  int64_t df, tf;   /* documents holding the term; its count over all of them */
  int64_t last_doc; /* last document counted, so df counts each once */
} GramDf;

/* What a fit kept of its training rows (MlprtVectorizeParams.keep_rows):
 * table row r's distinct n-grams are stream[at[r] .. at[r + 1]), each as
 * g << 1 | (count > 1), then the count where it is above 1, g numbering
 * the fit's n-grams; n-gram g is vocabulary term col[g], or -1. The other
 * rows hold none. */
struct MlprtKeptRows {
  const void *cells; /* the column's offsets or codes, and the table's split, as the fit read them */
  const uint8_t *part;
  int64_t nrows;
  int64_t *at;       /* [nrows + 1] */
  uint32_t *stream;
  int64_t n, cap;
  int32_t *col;      /* [n-grams] */
};

void mlprt_kept_rows_free(MlprtKeptRows *k) {
  if (!k) return;
  free(k->at), free(k->stream), free(k->col);
  free(k);
}

typedef struct {
  uint32_t gram, count;
} RowGram;

typedef struct {
  MlprtLevels units;
  Grams grams;
  GramDf *g; /* [grams.n] */
  int32_t cap;
  int64_t doc;
  MlprtKeptRows *kept; /* NULL: the rows are not kept */
  RowGram *row;        /* keeping: the document's distinct n-grams, first seen first */
  int32_t nrow, caprow;
} DfCount;

static void df_gram(const uint32_t *key, void *ctx) {
  DfCount *d = ctx;
  int32_t before = d->grams.n, k = grams_add(&d->grams, key);
  if (k >= d->cap) {
    d->cap = d->cap ? d->cap * 2 : 1024;
    d->g = mlprt_xrealloc(d->g, (size_t)d->cap * sizeof *d->g);
  }
  GramDf *e = &d->g[k];
  if (k == before) {
    memcpy(e->key, key, sizeof e->key);
    e->df = e->tf = 0, e->last_doc = -1;
  }
  e->tf++;
  if (e->last_doc != d->doc) {
    e->df++, e->last_doc = d->doc;
    if (d->kept) {
      if (d->nrow == d->caprow) {
        d->caprow = d->caprow ? 2 * d->caprow : 256;
        d->row = mlprt_xrealloc(d->row, (size_t)d->caprow * sizeof *d->row);
      }
      e->at = d->nrow;
      d->row[d->nrow++] = (RowGram){(uint32_t)k, 0};
    }
  }
  if (d->kept) d->row[e->at].count++;
}

/* The document's distinct n-grams appended to the kept stream as table row r's. */
static void keep_row(DfCount *d, int64_t r) {
  MlprtKeptRows *k = d->kept;
  if (k->n + 2 * (int64_t)d->nrow > k->cap) {
    k->cap = k->n + 2 * (int64_t)d->nrow > 2 * k->cap ? k->n + 2 * (int64_t)d->nrow : 2 * k->cap;
    k->stream = mlprt_xrealloc(k->stream, (size_t)k->cap * sizeof *k->stream);
  }
  for (int32_t j = 0; j < d->nrow; j++) {
    k->stream[k->n++] = d->row[j].gram << 1 | (d->row[j].count > 1);
    if (d->row[j].count > 1) k->stream[k->n++] = d->row[j].count;
  }
  d->nrow = 0;
  k->at[r + 1] = k->n;
}

/* The term an n-gram's key names: its units joined by sep bytes of ' '. */
static char *gram_name(const MlprtLevels *units, const uint32_t *key, size_t sep) {
  size_t n = 0;
  for (int j = 0; j < MLPRT_NGRAM_MAX; j++)
    if (key[j]) n += units->len[key[j] - 1] + (n ? sep : 0);
  char *out = mlprt_xmalloc(n + 1), *w = out;
  for (int j = 0; j < MLPRT_NGRAM_MAX; j++) {
    if (!key[j]) continue;
    if (w > out && sep) *w++ = ' ';
    memcpy(w, units->names[key[j] - 1], units->len[key[j] - 1]);
    w += units->len[key[j] - 1];
  }
  *w = 0;
  return out;
}

typedef struct {
  char *name;
  int64_t df, tf;
  int32_t gram;
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

/* What identifies a column's cells while the table is unchanged. */
static const void *kept_cells(const MlprtColumn *c) {
  return c->type == MLPRT_COL_CATEGORY ? (const void *)c->codes : (const void *)c->off;
}

/* The vocabulary and idf of one column over the training rows, into cf. */
static void fit_vocabulary(const MlprtTable *t, const MlprtColumn *c, const MlprtVectorizeParams *p,
                           const MlprtTerms *o, int32_t max_vocab, MlprtColFit *cf) {
  /* every training row is a document, a missing text an empty one */
  DfCount d = {0};
  if (p->keep_rows && o->method != MLPRT_VEC_SEQUENCE) {
    d.kept = mlprt_xcalloc(1, sizeof *d.kept);
    *d.kept = (MlprtKeptRows){.cells = kept_cells(c), .part = t->part, .nrows = t->nrows,
                              .at = mlprt_xcalloc((size_t)t->nrows + 1, sizeof(int64_t))};
  }
  UnitIds u = unit_ids_init(&d.units, true, o, df_gram, &d);
  int64_t ndocs = 0;
  for (int64_t r = 0; r < t->nrows; r++) {
    if (!mlprt_row_trains(t, r)) {
      if (d.kept) d.kept->at[r + 1] = d.kept->n;
      continue;
    }
    d.doc = ndocs++;
    const char *s = text_of(c, r);
    if (s) grams_each(&u, s, strlen(s), o->analyzer == MLPRT_ANALYZER_WORD);
    if (d.kept) keep_row(&d, r);
  }
  TermDf *wd = mlprt_xmalloc((size_t)(d.grams.n ? d.grams.n : 1) * sizeof *wd);
  int32_t n = 0;
  double max_docs = (p->max_df > 0 ? p->max_df : 1.0) * (double)ndocs;
  bool seq = o->method == MLPRT_VEC_SEQUENCE; /* min_df counts occurrences, max_df is unused */
  for (int32_t k = 0; k < d.grams.n; k++) {
    const GramDf *e = &d.g[k];
    if ((seq ? e->tf : e->df) >= (p->min_df > 0 ? p->min_df : 1) && (seq || (double)e->df <= max_docs))
      wd[n++] = (TermDf){NULL, e->df, e->tf, k};
  }
  /* the max_vocab most frequent (count over the corpus), ties by name:
   * those above the max_vocab-th count, then those at it by name (only
   * these are named) */
  if (n > max_vocab) {
    uint32_t *tf = mlprt_xmalloc((size_t)n * sizeof *tf);
    for (int32_t k = 0; k < n; k++) tf[k] = wd[k].tf < UINT32_MAX ? (uint32_t)wd[k].tf : UINT32_MAX;
    mlprt_select_u32(tf, n, n - max_vocab);
    int64_t last = tf[n - max_vocab]; /* UINT32_MAX: that or more, sorted by count below */
    free(tf);
    int32_t above = 0, kept = 0;
    for (int pass = 0; pass < 2; pass++)
      for (int32_t k = kept; k < n; k++)
        if (pass ? wd[k].tf == last : wd[k].tf > last) {
          TermDf x = wd[k];
          wd[k] = wd[kept], wd[kept++] = x;
          above += !pass;
        }
    n = kept;
    for (int32_t k = 0; k < n; k++) wd[k].name = gram_name(&d.units, d.g[wd[k].gram].key, u.sep);
    if (last == UINT32_MAX) qsort(wd, (size_t)n, sizeof *wd, by_tf);
    else qsort(wd + above, (size_t)(n - above), sizeof *wd, by_name);
    for (int32_t k = max_vocab; k < n; k++) free(wd[k].name);
    n = max_vocab;
  } else {
    for (int32_t k = 0; k < n; k++) wd[k].name = gram_name(&d.units, d.g[wd[k].gram].key, u.sep);
  }
  qsort(wd, (size_t)n, sizeof *wd, by_name); /* the columns in term order */
  cf->nlevels = n;
  cf->levels = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->levels);
  if (o->method == MLPRT_VEC_TFIDF) cf->weights = mlprt_xmalloc((size_t)(n ? n : 1) * sizeof *cf->weights);
  for (int32_t k = 0; k < n; k++) {
    cf->levels[k] = wd[k].name;
    /* smoothed idf: as if one extra document held every term */
    if (cf->weights) cf->weights[k] = log((1.0 + (double)ndocs) / (1.0 + (double)wd[k].df)) + 1.0;
  }
  if (d.kept) {
    d.kept->col = mlprt_xmalloc((size_t)(d.grams.n ? d.grams.n : 1) * sizeof *d.kept->col);
    memset(d.kept->col, 0xff, (size_t)d.grams.n * sizeof *d.kept->col); /* -1 */
    for (int32_t k = 0; k < n; k++) d.kept->col[wd[k].gram] = k;
    cf->kept = d.kept;
  }
  free(d.row);
  free(wd);
  free(d.g);
  grams_free(&d.grams);
  mlprt_levels_free(&d.units);
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
  int64_t *touched;   /* [nout] the columns the document counts */
  int64_t ntouched;
  uint64_t *seen;     /* [(nout + 63) / 64] the same as bits */
  const Grams *grams; /* word n-grams: the vocabulary by key */
} RowCount;

static inline void count_at(RowCount *rc, int64_t k) {
  if (k < 0) return;
  if (rc->row[k] == 0) rc->touched[rc->ntouched++] = k, rc->seen[k >> 6] |= UINT64_C(1) << (k & 63);
  rc->row[k] += 1;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* touched in column order, by a scan of the bits where they are few words
 * for the columns touched, else by sorting; the bits are cleared. */
static void touched_in_order(RowCount *rc) {
  int64_t words = (rc->nout + 63) / 64;
  if (words > 4 * rc->ntouched) {
    qsort(rc->touched, (size_t)rc->ntouched, sizeof *rc->touched, cmp_i64);
    for (int64_t j = 0; j < rc->ntouched; j++) rc->seen[rc->touched[j] >> 6] = 0;
    return;
  }
  int64_t n = 0;
  for (int64_t w = 0; w < words; w++) {
    for (uint64_t b = rc->seen[w]; b; b &= b - 1) rc->touched[n++] = w * 64 + __builtin_ctzll(b);
    rc->seen[w] = 0;
  }
}

/* Table row r's counts as the fit kept them. */
static void count_kept(RowCount *rc, const MlprtKeptRows *kr, int64_t r) {
  for (int64_t j = kr->at[r]; j < kr->at[r + 1]; j++) {
    uint32_t e = kr->stream[j];
    float n = e & 1 ? (float)kr->stream[++j] : 1.0f;
    int32_t k = kr->col[e >> 1];
    if (k < 0) continue;
    rc->row[k] = n;
    rc->touched[rc->ntouched++] = k, rc->seen[k >> 6] |= UINT64_C(1) << (k & 63);
  }
}

static void count_term(const char *w, size_t len, void *ctx) {
  RowCount *rc = ctx;
  count_at(rc, rc->vocab ? mlprt_levels_find(rc->vocab, w, len) : mlprt_term_bucket(w, len, rc->nout));
}

static void count_gram(const uint32_t *key, void *ctx) {
  RowCount *rc = ctx;
  count_at(rc, grams_find(rc->grams, key));
}

/* The vocabulary of word terms by key: term k, its words joined by single
 * spaces, as n-gram k over the units of every term. False (g then holds
 * part of it) where a term is not such a join of at most MLPRT_NGRAM_MAX
 * words, as a fit read from elsewhere may hold. */
static bool vocab_grams(const MlprtColFit *cf, MlprtLevels *units, Grams *g) {
  for (int32_t k = 0; k < cf->nlevels; k++) {
    uint32_t key[MLPRT_NGRAM_MAX] = {0}, id[MLPRT_NGRAM_MAX];
    int n = 0;
    for (const char *w = cf->levels[k];;) {
      const char *e = strchr(w, ' ');
      size_t len = e ? (size_t)(e - w) : strlen(w);
      if (!len || n == MLPRT_NGRAM_MAX) return false;
      id[n++] = (uint32_t)mlprt_levels_intern(units, w, len) + 1;
      if (!e) break;
      w = e + 1;
    }
    memcpy(key + (MLPRT_NGRAM_MAX - n), id, (size_t)n * sizeof *id);
    if (grams_add(g, key) != k) return false;
  }
  return true;
}

#define VEC_PARTS_MAX 32
#define VEC_PART_ROWS 256 /* fewer rows are not worth a thread */

/* A slice's sparse rows: each row's columns (ascending) and values, appended. */
typedef struct {
  int32_t *col;
  float *val;
  int64_t n, cap;
} Entries;

typedef struct {
  const MlprtColumn *src;
  const uint8_t *part;       /* the table's split */
  const MlprtKeptRows *kept; /* the training rows as the fit read them, or NULL */
  const MlprtTerms *terms;
  MlprtLevels *vocab;        /* the vocabulary by term (unless by key); NULL: hashing */
  MlprtLevels *units;        /* words: the vocabulary's units */
  const Grams *grams;        /* words: the vocabulary by key; NULL: by term */
  const double *idf;         /* [nout] or NULL */
  float **out;               /* [nout] the new columns; NULL: sparse rows into csr */
  MlprtCsr *csr;             /* csr->ptr[r + 1] receives row r's count; entries[part] its values */
  Entries *entries;          /* [parts] */
  int64_t nout, nrows;
  int parts;
  int64_t *changed;          /* [parts] rows with a text */
} VecRows;

/* A block's values, column by column: its rows' entries bucketed by column. */
typedef struct {
  int32_t *col, *row; /* [n] as the rows give them */
  float *val;
  int32_t *srow;      /* [n] bucketed by column */
  float *sval;
  int64_t n, cap;
  int64_t *start;     /* [nout + 1] */
} Block;

static void block_add(Block *b, int64_t col, int64_t row, float val) {
  if (b->n == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 4096;
    b->col = mlprt_xrealloc(b->col, (size_t)b->cap * sizeof *b->col);
    b->row = mlprt_xrealloc(b->row, (size_t)b->cap * sizeof *b->row);
    b->val = mlprt_xrealloc(b->val, (size_t)b->cap * sizeof *b->val);
    b->srow = mlprt_xrealloc(b->srow, (size_t)b->cap * sizeof *b->srow);
    b->sval = mlprt_xrealloc(b->sval, (size_t)b->cap * sizeof *b->sval);
  }
  b->col[b->n] = (int32_t)col, b->row[b->n] = (int32_t)row, b->val[b->n] = val;
  b->n++;
}

/* The block's values written into the (zeroed) columns, one column at a time. */
static void block_write(Block *b, float **out, int64_t nout) {
  memset(b->start, 0, (size_t)(nout + 1) * sizeof *b->start);
  for (int64_t j = 0; j < b->n; j++) b->start[b->col[j] + 1]++;
  for (int64_t k = 0; k < nout; k++) b->start[k + 1] += b->start[k];
  for (int64_t j = 0; j < b->n; j++) {
    int64_t at = b->start[b->col[j]]++;
    b->srow[at] = b->row[j], b->sval[at] = b->val[j];
  }
  /* start[k] is now the end of column k's entries */
  for (int64_t k = 0, j = 0; k < nout; k++) {
    float *o = out[k];
    for (; j < b->start[k]; j++) o[b->srow[j]] = b->sval[j];
  }
  b->n = 0;
}

static void entries_add(Entries *e, int64_t col, float val) {
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 4096;
    e->col = mlprt_xrealloc(e->col, (size_t)e->cap * sizeof *e->col);
    e->val = mlprt_xrealloc(e->val, (size_t)e->cap * sizeof *e->val);
  }
  e->col[e->n] = (int32_t)col, e->val[e->n++] = val;
}

#define VEC_BLOCK_ROWS 128

/* One slice of rows. Each row's counts touch few columns: those are
 * weighed (in column order, as a whole row would be) and written, as
 * entries of the slice's sparse rows or into the columns in blocks of rows;
 * the others stay 0. */
static void vectorize_rows(void *ctx, int part) {
  VecRows *v = ctx;
  int64_t lo = v->nrows * part / v->parts, hi = v->nrows * (part + 1) / v->parts, nout = v->nout;
  RowCount rc = {v->vocab, mlprt_xcalloc((size_t)(nout ? nout : 1), sizeof(float)), nout,
                 mlprt_xmalloc((size_t)(nout ? nout : 1) * sizeof(int64_t)), 0,
                 mlprt_xcalloc((size_t)(nout + 63) / 64 + 1, sizeof(uint64_t)), v->grams};
  UnitIds u = unit_ids_init(v->units, false, v->terms, count_gram, &rc);
  Block b = {.start = v->out ? mlprt_xmalloc((size_t)(nout + 1) * sizeof(int64_t)) : NULL};
  int64_t changed = 0;
  for (int64_t r0 = lo; r0 < hi; r0 += VEC_BLOCK_ROWS) {
    int64_t r1 = r0 + VEC_BLOCK_ROWS < hi ? r0 + VEC_BLOCK_ROWS : hi;
    for (int64_t r = r0; r < r1; r++) {
      const char *s = text_of(v->src, r);
      rc.ntouched = 0;
      if (v->kept && (!v->part || v->part[r] == MLPRT_TRAIN)) count_kept(&rc, v->kept, r);
      else if (s && v->grams) grams_each(&u, s, strlen(s), true);
      else if (s) mlprt_terms_each(s, strlen(s), v->terms, count_term, &rc);
      touched_in_order(&rc);
      mlprt_terms_weigh(rc.row, rc.touched, rc.ntouched, v->idf, v->terms);
      for (int64_t j = 0; j < rc.ntouched; j++) {
        int64_t k = rc.touched[j];
        if (v->out) block_add(&b, k, r, rc.row[k]);
        else entries_add(&v->entries[part], k, rc.row[k]);
        rc.row[k] = 0;
      }
      if (!v->out) v->csr->ptr[r + 1] = rc.ntouched;
      changed += s != NULL;
    }
    if (v->out) block_write(&b, v->out, nout);
  }
  v->changed[part] = changed;
  free(b.col), free(b.row), free(b.val), free(b.srow), free(b.sval), free(b.start);
  free(rc.seen);
  free(rc.touched);
  free(rc.row);
}

/* The columns the fit's i-th column becomes, or -1 with a message. */
static int64_t vectorize_width(const MlprtFit *f, int i, MlprtError *err) {
  const MlprtColFit *cf = &f->cols[i];
  bool hash = f->terms.method == MLPRT_VEC_HASH;
  int64_t nout = hash || f->flag ? (int64_t)f->param : cf->nlevels;
  if (!hash && cf->nlevels > nout) {
    mlprt_error_set(err, NULL, 0, 0, 0, cf->column, "vectorize: a vocabulary of %d terms in %lld columns",
                    cf->nlevels, (long long)nout);
    return -1;
  }
  return nout;
}

/* The vectors of src's texts (t's column) by the fit's i-th column, nout
 * wide: into the columns out, or (out NULL) as csr's sparse rows. What the
 * fit kept of the training rows is used where it read this same column and
 * freed. */
static void vectorize_texts(const MlprtTable *t, const MlprtColumn *src, MlprtFit *f, int i, int64_t nout,
                            float **out, MlprtCsr *csr) {
  MlprtColFit *cf = &f->cols[i];
  int64_t nrows = t->nrows;
  MlprtKeptRows *kept = cf->kept;
  cf->kept = NULL;
  if (kept && (kept->cells != kept_cells(src) || kept->part != t->part || kept->nrows != nrows)) {
    mlprt_kept_rows_free(kept);
    kept = NULL;
  }
  bool hash = f->terms.method == MLPRT_VEC_HASH;
  /* words: by n-gram keys over the vocabulary's units; characters: by term */
  bool word = f->terms.analyzer == MLPRT_ANALYZER_WORD;
  MlprtLevels vocab = {0}, units = {0};
  Grams grams = {0};
  if (!hash && word && !vocab_grams(cf, &units, &grams)) {
    word = false;
    grams_free(&grams), mlprt_levels_free(&units);
    grams = (Grams){0};
  }
  for (int32_t k = 0; !hash && !word && k < cf->nlevels; k++)
    mlprt_levels_intern(&vocab, cf->levels[k], strlen(cf->levels[k]));
  /* the pad columns' counts are 0 whatever their idf */
  double *idf = cf->weights ? mlprt_xcalloc((size_t)(nout ? nout : 1), sizeof *idf) : NULL;
  if (idf) memcpy(idf, cf->weights, (size_t)cf->nlevels * sizeof *idf);
  int64_t part_changed[VEC_PARTS_MAX] = {0};
  Entries entries[VEC_PARTS_MAX] = {0};
  int parts = mlprt_opt_threads(NULL);
  if (parts > VEC_PARTS_MAX) parts = VEC_PARTS_MAX;
  if (parts > nrows / VEC_PART_ROWS) parts = (int)(nrows / VEC_PART_ROWS);
  if (csr) {
    *csr = (MlprtCsr){.nrows = nrows, .ncols = nout};
    csr->ptr = mlprt_xcalloc((size_t)nrows + 1, sizeof *csr->ptr);
  }
  VecRows v = {.src = src, .part = t->part, .kept = kept, .terms = &f->terms, .vocab = hash ? NULL : &vocab,
               .units = &units, .grams = !hash && word ? &grams : NULL, .idf = idf, .out = out, .csr = csr,
               .entries = entries, .nout = nout, .nrows = nrows, .parts = parts > 1 ? parts : 1,
               .changed = part_changed};
  mlprt_parallel_for(v.parts, v.parts, vectorize_rows, &v);
  for (int k = 0; k < v.parts; k++) cf->changed += part_changed[k];
  if (csr) { /* the slices' entries, in row order */
    for (int64_t r = 0; r < nrows; r++) csr->ptr[r + 1] += csr->ptr[r];
    int64_t nnz = csr->ptr[nrows];
    csr->col = mlprt_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *csr->col);
    csr->val = mlprt_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *csr->val);
    for (int k = 0; k < v.parts; k++) {
      int64_t at = csr->ptr[nrows * k / v.parts];
      if (entries[k].n) {
        memcpy(csr->col + at, entries[k].col, (size_t)entries[k].n * sizeof *csr->col);
        memcpy(csr->val + at, entries[k].val, (size_t)entries[k].n * sizeof *csr->val);
      }
      free(entries[k].col), free(entries[k].val);
    }
  }
  free(idf);
  mlprt_kept_rows_free(kept);
  mlprt_levels_free(&vocab);
  mlprt_levels_free(&units);
  grams_free(&grams);
}

/* The fit's i-th column replaced by its vectors (the new columns last),
 * kept as sparse rows when the table asks for them. */
static int vectorize_column(MlprtTable *t, MlprtFit *f, int i, MlprtError *err) {
  MlprtColFit *cf = &f->cols[i];
  int c = mlprt_fit_column(t, f, i, MLPRT_TM_STRINGS, err);
  if (c < 0) return -1;
  int64_t nout = vectorize_width(f, i, err);
  if (nout < 0) return -1;
  bool hash = f->terms.method == MLPRT_VEC_HASH;
  int first = t->ncols;
  char name[512], **names = mlprt_xmalloc((size_t)(nout ? nout : 1) * sizeof *names);
  for (int64_t k = 0; k < nout; k++) {
    if (hash) snprintf(name, sizeof name, "%s#%lld", cf->column, (long long)k);
    else if (k < cf->nlevels) snprintf(name, sizeof name, "%s:%s", cf->column, cf->levels[k]);
    else snprintf(name, sizeof name, "%s:<unused %lld>", cf->column, (long long)k);
    names[k] = mlprt_xstrndup(name, strlen(name));
  }
  if (t->sparse_text) {
    MlprtCsr rows;
    vectorize_texts(t, &t->cols[c], f, i, nout, NULL, &rows);
    mlprt_table_add_sparse_columns(t, names, (int)nout, &rows);
  } else {
    mlprt_table_add_float_columns(t, names, (int)nout);
    float **out = mlprt_xmalloc((size_t)(nout ? nout : 1) * sizeof *out);
    for (int64_t k = 0; k < nout; k++) out[k] = t->cols[first + k].f;
    vectorize_texts(t, &t->cols[c], f, i, nout, out, NULL);
    free(out);
  }
  free(names);
  mlprt_table_drop_column(t, c);
  return 0;
}

int mlprt_vectorize_rows(const MlprtTable *t, MlprtFit *f, int i, MlprtCsr *out, MlprtError *err) {
  int c = mlprt_fit_column(t, f, i, MLPRT_TM_STRINGS, err);
  if (c < 0) return -1;
  int64_t nout = vectorize_width(f, i, err);
  if (nout < 0) return -1;
  vectorize_texts(t, &t->cols[c], f, i, nout, NULL, out);
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
