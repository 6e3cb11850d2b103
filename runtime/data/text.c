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
 * alone. The terms are those mlprt_terms_each passes. A text is read in
 * passes: its units, then their ids, then its n-grams of each length; each
 * pass hashes its keys first and loads the slots a few keys ahead of the
 * lookups, whose cache misses would otherwise follow one another. */

/* A pair or triple of units by open addressing: its key and its dense
 * index. The key of units (a, b) is (a + 1) << 32 | (b + 1); that of
 * (a, b, c) is (GRAM_TRIPLE | the pair (a, b)'s index) << 32 | (c + 1)
 * (unit ids and indices are int32_t: a + 1 stays below GRAM_TRIPLE);
 * 0 is an empty slot. */
typedef struct {
  int32_t val;
  uint32_t at; /* fitting: its place in the text's distinct n-grams, if that place holds it */
} GramRef;

typedef struct {
  uint64_t key;
  GramRef ref;
} GramSlot;

#define GRAM_TRIPLE UINT64_C(0x80000000)
_Static_assert(MLPRT_NGRAM_MAX == 3, "the n-gram reader keys single units, pairs and triples");
#define GRAM_AHEAD 8 /* keys hashed and loaded ahead of the lookup */

/* N-grams to dense indices 0..n-1 in first-seen order: a single unit's by
 * a table indexed by its id, longer ones by their keys. */
typedef struct {
  GramRef *uni;    /* [nuni] unit id's unigram; val -1: none */
  uint32_t nuni;
  GramSlot *slots;
  uint32_t nslots; /* power of two */
  int32_t nhashed, n, cap;
  uint64_t *keys;  /* [n] each n-gram's key; a unigram's: unit id + 1 */
} Grams;

static inline uint64_t pair_key(uint32_t a, uint32_t b) {
  return ((uint64_t)a + 1) << 32 | ((uint64_t)b + 1);
}

/* pair: the index of the triple's first two units as a pair */
static inline uint64_t triple_key(int32_t pair, uint32_t c) {
  return (GRAM_TRIPLE | (uint64_t)pair) << 32 | ((uint64_t)c + 1);
}

static inline uint64_t gram_hash(uint64_t key) {
  return mlprt_mix64(key);
}

/* The slot holding key, or the empty one where it would go. */
static inline GramSlot *grams_slot(const Grams *g, uint64_t key, uint64_t h) {
  for (uint32_t i = (uint32_t)h & (g->nslots - 1);; i = (i + 1) & (g->nslots - 1)) {
    GramSlot *e = &g->slots[i];
    if (e->key == key || !e->key) return e;
  }
}

static inline void grams_prefetch(const Grams *g, uint64_t key) {
  if (g->nslots) __builtin_prefetch(&g->slots[(uint32_t)gram_hash(key) & (g->nslots - 1)]);
}

static int32_t grams_new(Grams *g, uint64_t key) {
  if (g->n == g->cap) {
    g->cap = g->cap ? 2 * g->cap : 1024;
    g->keys = mlprt_xrealloc(g->keys, (size_t)g->cap * sizeof *g->keys);
  }
  g->keys[g->n] = key;
  return g->n++;
}

/* Unit u's unigram; absent: NULL, or (add) a new one. */
static GramRef *grams_unigram(Grams *g, uint32_t u, bool add) {
  if (u < g->nuni && g->uni[u].val >= 0) return &g->uni[u];
  if (!add) return NULL;
  if (u >= g->nuni) {
    uint32_t old = g->nuni;
    g->nuni = u + 1 > 2 * old ? u + 1 : 2 * old;
    g->uni = mlprt_xrealloc(g->uni, (size_t)g->nuni * sizeof *g->uni);
    for (uint32_t k = old; k < g->nuni; k++) g->uni[k] = (GramRef){-1, UINT32_MAX};
  }
  g->uni[u].val = grams_new(g, (uint64_t)u + 1);
  return &g->uni[u];
}

/* key's n-gram (valid until the next one is added); absent: NULL, or (add) a new one */
static GramRef *grams_keyed(Grams *g, uint64_t key, bool add) {
  uint64_t h = gram_hash(key);
  if (g->nslots) {
    GramSlot *e = grams_slot(g, key, h);
    if (e->key || !add) return e->key ? &e->ref : NULL;
  } else if (!add) {
    return NULL;
  }
  if ((uint32_t)(g->nhashed + 1) * 2 > g->nslots) {
    uint32_t ns = g->nslots ? g->nslots * 2 : 1024;
    GramSlot *old = g->slots;
    uint32_t nold = g->nslots;
    g->slots = mlprt_xcalloc(ns, sizeof(GramSlot));
    g->nslots = ns;
    for (uint32_t i = 0; i < nold; i++)
      if (old[i].key) *grams_slot(g, old[i].key, gram_hash(old[i].key)) = old[i];
    free(old);
  }
  GramSlot *e = grams_slot(g, key, h);
  *e = (GramSlot){key, {grams_new(g, key), UINT32_MAX}};
  g->nhashed++;
  return &e->ref;
}

/* The unit ids of n-gram k, the first first; returns how many. */
static int gram_units(const Grams *g, int32_t k, uint32_t *u) {
  uint64_t key = g->keys[k], hi = key >> 32;
  uint32_t last = (uint32_t)key - 1;
  if (!hi) {
    u[0] = last;
    return 1;
  }
  int n = 1;
  if (hi & GRAM_TRIPLE) n = gram_units(g, (int32_t)(hi & ~GRAM_TRIPLE), u);
  else u[0] = (uint32_t)hi - 1;
  u[n] = last;
  return n + 1;
}

static void grams_free(Grams *g) {
  free(g->uni);
  free(g->slots);
  free(g->keys);
}

#define UNIT_NONE UINT32_MAX /* a unit in no term: too long, or (applying) in no vocabulary term */

/* Letters and digits lowercased (ASCII), bytes >= 0x80 kept, others 0. */
#define FOLD(c) \
  ((c) >= 0x80 || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ? (c) \
   : (c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : 0)
#define FOLD4(c) FOLD(c), FOLD((c) + 1), FOLD((c) + 2), FOLD((c) + 3)
#define FOLD16(c) FOLD4(c), FOLD4((c) + 4), FOLD4((c) + 8), FOLD4((c) + 12)
#define FOLD64(c) FOLD16(c), FOLD16((c) + 16), FOLD16((c) + 32), FOLD16((c) + 48)
static const unsigned char word_fold[256] = {FOLD64(0), FOLD64(64), FOLD64(128), FOLD64(192)};
#undef FOLD64
#undef FOLD16
#undef FOLD4
#undef FOLD

typedef struct {
  uint32_t gram, count;
} RowGram;

/* The unit dictionaries' hash of a unit of len > 0 bytes at s, with 8
 * readable bytes past its end: 8 bytes at a time, the last ones masked. */
static inline uint32_t unit_hash(const char *s, size_t len) {
  uint64_t h = len, w;
  for (; len > 8; s += 8, len -= 8) {
    memcpy(&w, s, 8);
    h = mlprt_mix64(h ^ w);
  }
  memcpy(&w, s, 8);
  return (uint32_t)mlprt_mix64(h ^ (w & (~UINT64_C(0) >> (64 - 8 * len))));
}

/* Unit s of len > 0 bytes (without bytes to read past it) in a unit dictionary. */
static int32_t unit_intern(MlprtLevels *units, const char *s, size_t len) {
  char *buf = mlprt_xcalloc(len + 8, 1);
  memcpy(buf, s, len);
  int32_t k = mlprt_levels_intern_hashed(units, buf, len, unit_hash(buf, len));
  free(buf);
  return k;
}

/* One text's units and the n-grams over them, by index into a Grams. */
typedef struct {
  MlprtLevels *units;
  bool add;                /* fitting: new units and n-grams join the dictionaries */
  bool word;
  int lo, hi;
  size_t sep;              /* bytes between the units of a term: 1 for words */
  char *low;               /* the units, lowercased, one after another */
  size_t caplow;
  uint32_t *off, *len, *id; /* [n] each unit's place in low, length, id or UNIT_NONE */
  uint32_t *hash;          /* [n] scratch: each unit's hash */
  uint64_t *key;           /* [n] scratch: the keys of the n-grams ending at each unit, 0: none */
  int32_t *pair;           /* [n] the index of the pair ending at each unit, or -1 */
  size_t n, cap;
  int32_t *ev;             /* applying: [nev] the text's n-grams as read, by index */
  RowGram *row;            /* fitting: [nev] the text's distinct n-grams, first seen first, and counts */
  size_t nev, capev;
} GramReader;

static GramReader gram_reader(MlprtLevels *units, bool add, const MlprtTerms *o) {
  MlprtTerms def = terms_clamped(o);
  bool word = def.analyzer == MLPRT_ANALYZER_WORD;
  return (GramReader){.units = units, .add = add, .word = word, .lo = def.ngram_lo, .hi = def.ngram_hi,
                      .sep = word};
}

static void gram_reader_free(GramReader *r) {
  free(r->low), free(r->off), free(r->len), free(r->id), free(r->hash), free(r->key), free(r->pair);
  free(r->ev), free(r->row);
}

static inline void reader_unit(GramReader *r, size_t off, size_t len) {
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 256;
    r->off = mlprt_xrealloc(r->off, r->cap * sizeof *r->off);
    r->len = mlprt_xrealloc(r->len, r->cap * sizeof *r->len);
    r->id = mlprt_xrealloc(r->id, r->cap * sizeof *r->id);
    r->hash = mlprt_xrealloc(r->hash, r->cap * sizeof *r->hash);
    r->key = mlprt_xrealloc(r->key, r->cap * sizeof *r->key);
    r->pair = mlprt_xrealloc(r->pair, r->cap * sizeof *r->pair);
  }
  r->off[r->n] = (uint32_t)off;
  r->len[r->n++] = len > MLPRT_TERM_MAX ? MLPRT_TERM_MAX + 1 : (uint32_t)len;
}

/* s's units into low, as units_each reads them. */
static void reader_units(GramReader *r, const char *s, size_t len) {
  r->n = 0;
  if (len + 8 > r->caplow) {
    r->caplow = len + 8 > 2 * r->caplow ? len + 8 : 2 * r->caplow;
    free(r->low);
    r->low = mlprt_xmalloc(r->caplow);
  }
  memset(r->low + len, 0, 8);
  const unsigned char *p = (const unsigned char *)s;
  if (r->word) { /* low: the text folded in place; the words' edges found 64 bytes at a time */
    unsigned char *low = (unsigned char *)r->low;
    bool in = false; /* the byte before is in a word that began at start */
    size_t start = 0;
    for (size_t b = 0; b < len; b += 64) {
      size_t nb = len - b < 64 ? len - b : 64;
      uint64_t m = 0; /* bit j: byte b + j is in a word (a word ending the text ends at bit nb < 64) */
      for (size_t j = 0; j < nb; j++) {
        unsigned char c = word_fold[p[b + j]];
        low[b + j] = c;
        m |= (uint64_t)(c != 0) << j;
      }
      for (uint64_t edges = m ^ (m << 1 | in); edges; edges &= edges - 1) {
        size_t at = b + (size_t)__builtin_ctzll(edges);
        if (in) reader_unit(r, start, at - start);
        else start = at;
        in = !in;
      }
    }
    if (in) reader_unit(r, start, len - start);
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < len;) {
    size_t at = k;
    if (isspace(p[i])) {
      while (i < len && isspace(p[i])) i++;
      r->low[k++] = ' ';
    } else {
      r->low[k++] = (char)tolower(p[i++]);
      while (i < len && (p[i] & 0xC0) == 0x80) r->low[k++] = (char)p[i++];
    }
    reader_unit(r, at, k - at);
  }
  memset(r->low + k, 0, 8); /* what the last unit's hash reads past it */
}

/* The units' ids. */
static void reader_ids(GramReader *r) {
  for (size_t i = 0; i < r->n; i++)
    r->hash[i] = r->len[i] <= MLPRT_TERM_MAX ? unit_hash(r->low + r->off[i], r->len[i]) : 0;
  for (size_t i = 0; i < r->n && i < GRAM_AHEAD; i++) mlprt_levels_prefetch(r->units, r->hash[i]);
  for (size_t i = 0; i < r->n; i++) {
    if (i + GRAM_AHEAD < r->n) mlprt_levels_prefetch(r->units, r->hash[i + GRAM_AHEAD]);
    int32_t k = -1;
    if (r->len[i] <= MLPRT_TERM_MAX)
      k = r->add ? mlprt_levels_intern_hashed(r->units, r->low + r->off[i], r->len[i], r->hash[i])
                 : mlprt_levels_find_hashed(r->units, r->low + r->off[i], r->len[i], r->hash[i]);
    r->id[i] = k >= 0 ? (uint32_t)k : UNIT_NONE;
  }
}

/* An n-gram read: an event, or (fitting) one more of a distinct n-gram. */
static inline void reader_event(GramReader *r, GramRef *e) {
  if (!e) return;
  if (!r->add) {
    r->ev[r->nev++] = e->val;
  } else if (e->at < r->nev && r->row[e->at].gram == (uint32_t)e->val) {
    r->row[e->at].count++;
  } else {
    e->at = (uint32_t)r->nev;
    r->row[r->nev++] = (RowGram){(uint32_t)e->val, 1};
  }
}

/* The keyed n-grams of n units ending at each unit (their keys in r->key):
 * the pairs' indices into r->pair, and into the events where n is read. */
static void reader_keyed(GramReader *r, Grams *g, int n) {
  for (size_t i = 0; i < r->n && i < GRAM_AHEAD; i++)
    if (r->key[i]) grams_prefetch(g, r->key[i]);
  for (size_t i = 0; i < r->n; i++) {
    if (i + GRAM_AHEAD < r->n && r->key[i + GRAM_AHEAD]) grams_prefetch(g, r->key[i + GRAM_AHEAD]);
    GramRef *e = r->key[i] ? grams_keyed(g, r->key[i], r->add) : NULL;
    if (n == 2) r->pair[i] = e ? e->val : -1;
    if (n >= r->lo) reader_event(r, e);
  }
}

/* Every n-gram of s, by index into g: into r->ev, or (fitting) the distinct
 * ones and their counts into r->row. */
static void reader_read(GramReader *r, Grams *g, const char *s, size_t len) {
  reader_units(r, s, len);
  reader_ids(r);
  r->nev = 0;
  size_t most = r->n * (size_t)(r->hi - r->lo + 1);
  if (most > r->capev) {
    r->capev = most > 2 * r->capev ? most : 2 * r->capev;
    free(r->ev), free(r->row);
    r->ev = r->add ? NULL : mlprt_xmalloc(r->capev * sizeof *r->ev);
    r->row = r->add ? mlprt_xmalloc(r->capev * sizeof *r->row) : NULL;
  }
  if (r->lo <= 1)
    for (size_t i = 0; i < r->n; i++)
      if (r->id[i] != UNIT_NONE) reader_event(r, grams_unigram(g, r->id[i], r->add));
  if (r->hi < 2) return;
  /* pairs (also read as the prefixes of triples) */
  for (size_t i = 0; i < r->n; i++) {
    bool in = i >= 1 && r->id[i - 1] != UNIT_NONE && r->id[i] != UNIT_NONE &&
              r->len[i - 1] + r->sep + r->len[i] <= MLPRT_TERM_MAX;
    r->key[i] = in ? pair_key(r->id[i - 1], r->id[i]) : 0;
  }
  reader_keyed(r, g, 2);
  if (r->hi < 3) return;
  for (size_t i = 0; i < r->n; i++) {
    bool in = i >= 2 && r->pair[i - 1] >= 0 && r->id[i] != UNIT_NONE &&
              r->len[i - 2] + r->len[i - 1] + 2 * r->sep + r->len[i] <= MLPRT_TERM_MAX;
    r->key[i] = in ? triple_key(r->pair[i - 1], r->id[i]) : 0;
  }
  reader_keyed(r, g, 3);
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
    if (o->sublinear && tf > 1) tf = 1.0 + log(tf); /* 1 stays 1.0, log(1) being 0 */
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

/* One n-gram's counts over the documents. */
typedef struct {
  int64_t df, tf; /* documents holding it; its count over all of them */
} GramCount;

/* The counts of one slice of the training rows, in dictionaries of its own. */
typedef struct {
  MlprtLevels units;
  Grams grams;
  GramCount *g; /* [grams.n] */
  int32_t cap;
  int64_t ndocs;
  MlprtKeptRows *kept; /* NULL: the rows are not kept; else the slice's stream, at shared */
} DfCount;

/* Counts for every n-gram of d, new ones 0. */
static void df_room(DfCount *d) {
  if (d->grams.n <= d->cap) return;
  int32_t old = d->cap;
  d->cap = d->grams.n > 2 * old ? d->grams.n : 2 * old;
  d->g = mlprt_xrealloc(d->g, (size_t)d->cap * sizeof *d->g);
  memset(d->g + old, 0, (size_t)(d->cap - old) * sizeof *d->g);
}

/* A document's distinct n-grams (r->row) counted: each once in df, all in tf. */
static void df_doc(DfCount *d, const GramReader *r) {
  df_room(d);
  for (size_t j = 0; j < r->nev; j++) __builtin_prefetch(&d->g[r->row[j].gram], 1);
  for (size_t j = 0; j < r->nev; j++) {
    GramCount *e = &d->g[r->row[j].gram];
    e->df++, e->tf += r->row[j].count;
  }
}

/* The document's distinct n-grams appended to the kept stream as table row r's
 * (at[r + 1]: the end of its entries in the slice's stream). */
static void keep_row(MlprtKeptRows *k, const GramReader *rd, int64_t r) {
  int64_t most = k->n + 2 * (int64_t)rd->nev;
  if (most > k->cap) {
    k->cap = most > 2 * k->cap ? most : 2 * k->cap;
    k->stream = mlprt_xrealloc(k->stream, (size_t)k->cap * sizeof *k->stream);
  }
  for (size_t j = 0; j < rd->nev; j++) {
    k->stream[k->n++] = rd->row[j].gram << 1 | (rd->row[j].count > 1);
    if (rd->row[j].count > 1) k->stream[k->n++] = rd->row[j].count;
  }
  k->at[r + 1] = k->n;
}

/* The term n-gram k names: its units joined by sep bytes of ' '. */
static char *gram_name(const MlprtLevels *units, const Grams *g, int32_t k, size_t sep) {
  uint32_t u[MLPRT_NGRAM_MAX];
  int nu = gram_units(g, k, u);
  size_t n = 0;
  for (int j = 0; j < nu; j++) n += units->len[u[j]] + (j ? sep : 0);
  char *out = mlprt_xmalloc(n + 1), *w = out;
  for (int j = 0; j < nu; j++) {
    if (j && sep) *w++ = ' ';
    memcpy(w, units->names[u[j]], units->len[u[j]]);
    w += units->len[u[j]];
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

#define FIT_PART_ROWS 2048 /* fewer rows are not worth dictionaries of their own */

typedef struct {
  const MlprtTable *t;
  const MlprtColumn *c;
  const MlprtTerms *o;
  DfCount *d; /* [parts] */
  int parts;
} FitRows;

/* One slice of the table's rows counted; every training row is a
 * document, a missing text an empty one. */
static void fit_rows(void *ctx, int part) {
  FitRows *f = ctx;
  DfCount *d = &f->d[part];
  GramReader rd = gram_reader(&d->units, true, f->o);
  int64_t lo = f->t->nrows * part / f->parts, hi = f->t->nrows * (part + 1) / f->parts;
  for (int64_t r = lo; r < hi; r++) {
    if (!mlprt_row_trains(f->t, r)) {
      if (d->kept) d->kept->at[r + 1] = d->kept->n;
      continue;
    }
    d->ndocs++;
    const char *s = text_of(f->c, r);
    rd.nev = 0;
    if (s) reader_read(&rd, &d->grams, s, strlen(s));
    df_doc(d, &rd);
    if (d->kept) keep_row(d->kept, &rd, r);
  }
  gram_reader_free(&rd);
}

/* Slice p (table rows lo..hi) joined to d, the slices before it: its
 * units and n-grams looked up or added, its counts added, its kept stream
 * appended by d's numbering. */
static void df_join(DfCount *d, const DfCount *p, int64_t lo, int64_t hi) {
  uint32_t *umap = mlprt_xmalloc((size_t)(p->units.n ? p->units.n : 1) * sizeof *umap);
  for (int32_t u = 0; u < p->units.n; u++)
    umap[u] = (uint32_t)unit_intern(&d->units, p->units.names[u], p->units.len[u]);
  int32_t *gmap = mlprt_xmalloc((size_t)(p->grams.n ? p->grams.n : 1) * sizeof *gmap);
  for (int32_t k = 0; k < p->grams.n; k++) { /* a triple's pair comes before it */
    uint64_t key = p->grams.keys[k], hi32 = key >> 32;
    uint32_t last = umap[(uint32_t)key - 1];
    GramRef *e;
    if (!hi32) e = grams_unigram(&d->grams, last, true);
    else if (hi32 & GRAM_TRIPLE) e = grams_keyed(&d->grams, triple_key(gmap[hi32 ^ GRAM_TRIPLE], last), true);
    else e = grams_keyed(&d->grams, pair_key(umap[hi32 - 1], last), true);
    gmap[k] = e->val;
  }
  df_room(d);
  for (int32_t k = 0; k < p->grams.n; k++) d->g[gmap[k]].df += p->g[k].df, d->g[gmap[k]].tf += p->g[k].tf;
  d->ndocs += p->ndocs;
  if (d->kept) {
    MlprtKeptRows *k = d->kept;
    const MlprtKeptRows *pk = p->kept;
    if (k->n + pk->n > k->cap) {
      k->cap = k->n + pk->n;
      k->stream = mlprt_xrealloc(k->stream, (size_t)k->cap * sizeof *k->stream);
    }
    for (int64_t j = 0; j < pk->n; j++) {
      uint32_t e = pk->stream[j];
      k->stream[k->n++] = (uint32_t)gmap[e >> 1] << 1 | (e & 1);
      if (e & 1) k->stream[k->n++] = pk->stream[++j];
    }
    for (int64_t r = lo; r < hi; r++) k->at[r + 1] += k->n - pk->n;
  }
  free(umap);
  free(gmap);
}

/* What a slice holds (its kept stream, but not the shared at). */
static void df_free(DfCount *d) {
  if (d->kept) free(d->kept->stream), free(d->kept);
  free(d->g);
  grams_free(&d->grams);
  mlprt_levels_free(&d->units);
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
  int parts = mlprt_opt_threads(NULL);
  if (parts > t->nrows / FIT_PART_ROWS) parts = (int)(t->nrows / FIT_PART_ROWS);
  if (parts < 1) parts = 1;
  DfCount *dp = mlprt_xcalloc((size_t)parts, sizeof *dp);
  for (int k = 1; k < parts && d.kept; k++) {
    dp[k].kept = mlprt_xcalloc(1, sizeof *dp[k].kept);
    dp[k].kept->at = d.kept->at;
  }
  dp[0] = d;
  FitRows fr = {t, c, o, dp, parts};
  mlprt_parallel_for(parts, parts, fit_rows, &fr);
  d = dp[0];
  for (int k = 1; k < parts; k++) {
    df_join(&d, &dp[k], t->nrows * k / parts, t->nrows * (k + 1) / parts);
    df_free(&dp[k]);
  }
  free(dp);
  int64_t ndocs = d.ndocs;
  size_t sep = o->analyzer == MLPRT_ANALYZER_WORD;
  TermDf *wd = mlprt_xmalloc((size_t)(d.grams.n ? d.grams.n : 1) * sizeof *wd);
  int32_t n = 0;
  double max_docs = (p->max_df > 0 ? p->max_df : 1.0) * (double)ndocs;
  bool seq = o->method == MLPRT_VEC_SEQUENCE; /* min_df counts occurrences, max_df is unused */
  for (int32_t k = 0; k < d.grams.n; k++) {
    const GramCount *e = &d.g[k];
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
    for (int32_t k = 0; k < n; k++) wd[k].name = gram_name(&d.units, &d.grams, wd[k].gram, sep);
    if (last == UINT32_MAX) qsort(wd, (size_t)n, sizeof *wd, by_tf);
    else qsort(wd + above, (size_t)(n - above), sizeof *wd, by_name);
    for (int32_t k = max_vocab; k < n; k++) free(wd[k].name);
    n = max_vocab;
  } else {
    for (int32_t k = 0; k < n; k++) wd[k].name = gram_name(&d.units, &d.grams, wd[k].gram, sep);
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
  free(wd);
  d.kept = NULL;
  df_free(&d);
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

/* Table row r's counts as the fit kept them; an n-gram in no column is
 * written to column nout (row and seen have room for it) and not counted
 * as touched, without a branch that half of them would mispredict. */
static void count_kept(RowCount *rc, const MlprtKeptRows *kr, int64_t r) {
  for (int64_t j = kr->at[r]; j < kr->at[r + 1]; j++) {
    uint32_t e = kr->stream[j];
    float n = e & 1 ? (float)kr->stream[++j] : 1.0f;
    int32_t c = kr->col[e >> 1];
    int64_t k = c >= 0 ? c : rc->nout;
    rc->row[k] = n;
    rc->touched[rc->ntouched] = k, rc->ntouched += c >= 0;
    rc->seen[k >> 6] |= (uint64_t)(c >= 0) << (k & 63);
  }
}

static void count_term(const char *w, size_t len, void *ctx) {
  RowCount *rc = ctx;
  count_at(rc, rc->vocab ? mlprt_levels_find(rc->vocab, w, len) : mlprt_term_bucket(w, len, rc->nout));
}

/* The vocabulary of word terms as n-grams over the units of every term:
 * col[n-gram] is the column of the term that joins its words by single
 * spaces, or -1 (a pair read only as a triple's prefix). False where a
 * term is not such a join of at most MLPRT_NGRAM_MAX words, or repeats
 * one, as a fit read from elsewhere may hold. */
static bool vocab_grams(const MlprtColFit *cf, MlprtLevels *units, Grams *g, int32_t **col) {
  int32_t cap = 0;
  for (int32_t k = 0; k < cf->nlevels; k++) {
    uint32_t id[MLPRT_NGRAM_MAX];
    int n = 0;
    for (const char *w = cf->levels[k];;) {
      const char *e = strchr(w, ' ');
      size_t len = e ? (size_t)(e - w) : strlen(w);
      if (!len || n == MLPRT_NGRAM_MAX) return false;
      id[n++] = (uint32_t)unit_intern(units, w, len);
      if (!e) break;
      w = e + 1;
    }
    int32_t x = (n == 1 ? grams_unigram(g, id[0], true) : grams_keyed(g, pair_key(id[0], id[1]), true))->val;
    if (n == 3) x = grams_keyed(g, triple_key(x, id[2]), true)->val;
    if (g->n > cap) {
      int32_t old = cap;
      cap = g->n > 2 * cap ? g->n : 2 * cap;
      *col = mlprt_xrealloc(*col, (size_t)cap * sizeof **col);
      memset(*col + old, 0xff, (size_t)(cap - old) * sizeof **col); /* -1 */
    }
    if ((*col)[x] >= 0) return false;
    (*col)[x] = k;
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
  Grams *grams;              /* words: the vocabulary's n-grams; NULL: by term */
  const int32_t *gram_col;   /* [grams->n] each n-gram's column, or -1 */
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
  RowCount rc = {v->vocab, mlprt_xcalloc((size_t)nout + 1, sizeof(float)), nout,
                 mlprt_xmalloc(((size_t)nout + 1) * sizeof(int64_t)), 0,
                 mlprt_xcalloc((size_t)(nout + 63) / 64 + 1, sizeof(uint64_t))};
  Entries *e = &v->entries[part];
  if (!v->out && v->kept) { /* room for the kept rows' entries at most */
    e->cap = v->kept->at[hi] - v->kept->at[lo] + 1;
    e->col = mlprt_xmalloc((size_t)e->cap * sizeof *e->col);
    e->val = mlprt_xmalloc((size_t)e->cap * sizeof *e->val);
  }
  GramReader rd = gram_reader(v->units, false, v->terms);
  Block b = {.start = v->out ? mlprt_xmalloc((size_t)(nout + 1) * sizeof(int64_t)) : NULL};
  int64_t changed = 0;
  for (int64_t r0 = lo; r0 < hi; r0 += VEC_BLOCK_ROWS) {
    int64_t r1 = r0 + VEC_BLOCK_ROWS < hi ? r0 + VEC_BLOCK_ROWS : hi;
    for (int64_t r = r0; r < r1; r++) {
      const char *s = text_of(v->src, r);
      rc.ntouched = 0;
      if (v->kept && (!v->part || v->part[r] == MLPRT_TRAIN)) count_kept(&rc, v->kept, r);
      else if (s && v->grams) {
        reader_read(&rd, v->grams, s, strlen(s));
        for (size_t j = 0; j < rd.nev; j++) count_at(&rc, v->gram_col[rd.ev[j]]);
      }
      else if (s) mlprt_terms_each(s, strlen(s), v->terms, count_term, &rc);
      touched_in_order(&rc);
      mlprt_terms_weigh(rc.row, rc.touched, rc.ntouched, v->idf, v->terms);
      for (int64_t j = 0; j < rc.ntouched; j++) {
        int64_t k = rc.touched[j];
        if (v->out) block_add(&b, k, r, rc.row[k]);
        else entries_add(e, k, rc.row[k]);
        rc.row[k] = 0;
      }
      if (!v->out) v->csr->ptr[r + 1] = rc.ntouched;
      changed += s != NULL;
    }
    if (v->out) block_write(&b, v->out, nout);
  }
  v->changed[part] = changed;
  free(b.col), free(b.row), free(b.val), free(b.srow), free(b.sval), free(b.start);
  gram_reader_free(&rd);
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
  int32_t *gram_col = NULL;
  if (!hash && word && !vocab_grams(cf, &units, &grams, &gram_col)) {
    word = false;
    grams_free(&grams), mlprt_levels_free(&units), free(gram_col);
    grams = (Grams){0};
    gram_col = NULL;
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
               .units = &units, .grams = !hash && word ? &grams : NULL,
               .gram_col = gram_col, .idf = idf, .out = out, .csr = csr,
               .entries = entries, .nout = nout, .nrows = nrows, .parts = parts > 1 ? parts : 1,
               .changed = part_changed};
  mlprt_parallel_for(v.parts, v.parts, vectorize_rows, &v);
  for (int k = 0; k < v.parts; k++) cf->changed += part_changed[k];
  if (csr) { /* the slices' entries, in row order */
    for (int64_t r = 0; r < nrows; r++) csr->ptr[r + 1] += csr->ptr[r];
    int64_t nnz = csr->ptr[nrows];
    /* the first slice's entries, at the start, stay where they are */
    csr->col = mlprt_xrealloc(entries[0].col, (size_t)(nnz ? nnz : 1) * sizeof *csr->col);
    csr->val = mlprt_xrealloc(entries[0].val, (size_t)(nnz ? nnz : 1) * sizeof *csr->val);
    for (int k = 1; k < v.parts; k++) {
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
  free(gram_col);
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
