/* check_text.c — the text ops against scikit-learn: bag_of_words,
 * tfidf and hash_vectorize give CountVectorizer's, TfidfVectorizer's and
 * HashingVectorizer's vocabulary and values (within 1e-6) on a small
 * corpus with matched settings, fitted on the training rows only and
 * applied to every row, as columns and as sparse rows (the same floats);
 * text_clean's accents as strip_accents_unicode strips them. Without
 * /usr/bin/python3 and its sklearn (Debian's python3-sklearn) the
 * comparison is skipped (test_skip). */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datautil.h"
#include "mlp/clean.h"
#include "testutil.h"

#define PYTHON "/usr/bin/python3"

/* Nine training documents, then three test ones ("zebra" only in these). */
static const char corpus[] =
    "doc\n"
    "the cat sat on the mat\n"
    "the dog sat on the log\n"
    "cats and dogs and birds\n"
    "a cat and a dog met on a mat\n"
    "\"birds sing; dogs bark, cats purr\"\n"
    "the mat is red and the log is brown\n"
    "dog 42 ate 7 bones\n"
    "\"red birds, brown dogs and one cat\"\n"
    "sat sat sat on the red mat\n"
    "a zebra and a cat\n"
    "the log the dog the bird\n"
    "nothing here matches zebra\n";
enum { NTRAIN = 9, NROWS = 12 };

/* The oracle: each case's vocabulary (none for hashing) and its values on
 * every row, as JSON; max_vocab picked where term counts do not tie, so
 * which terms it keeps is not a tie-break. */
static const char oracle[] =
    "import csv, json, sys\n"
    "from sklearn.feature_extraction.text import (CountVectorizer, TfidfVectorizer,\n"
    "    HashingVectorizer, strip_accents_unicode)\n"
    "docs = [r['doc'] for r in csv.DictReader(open(sys.argv[1]))]\n"
    "train = docs[:9]\n"
    "tok = r'(?u)[^\\W_]+'\n"
    "def cap(**kw):\n"
    "    c = CountVectorizer(**kw).fit(train)\n"
    "    n = sorted(c.transform(train).sum(axis=0).A1, reverse=True)\n"
    "    return next(k for k in range(5, len(n)) if n[k - 1] > n[k])\n"
    "k = cap(token_pattern=tok, ngram_range=(1, 2))\n"
    "cases = {\n"
    " 'count_word_12_df': CountVectorizer(token_pattern=tok, ngram_range=(1, 2), min_df=2, max_df=0.5),\n"
    " 'count_char_23_bin': CountVectorizer(analyzer='char', ngram_range=(2, 3), binary=True),\n"
    " 'tfidf_word_12_cap': TfidfVectorizer(token_pattern=tok, ngram_range=(1, 2), max_features=k,\n"
    "                                      sublinear_tf=True),\n"
    " 'tfidf_char_13_raw': TfidfVectorizer(analyzer='char', ngram_range=(1, 3), norm=None),\n"
    " 'tfidf_word_3': TfidfVectorizer(token_pattern=tok, ngram_range=(1, 3)),\n"
    " 'hash_word_12': HashingVectorizer(token_pattern=tok, ngram_range=(1, 2), n_features=32,\n"
    "                                  alternate_sign=False, norm=None),\n"
    " 'hash_char_2': HashingVectorizer(analyzer='char', ngram_range=(2, 2), n_features=16,\n"
    "                                 alternate_sign=False, norm=None),\n"
    "}\n"
    "out = {'max_vocab': k, 'accents': strip_accents_unicode(sys.argv[2])}\n"
    "for name, v in cases.items():\n"
    "    v = v.fit(train)\n"
    "    vocab = list(v.get_feature_names_out()) if hasattr(v, 'vocabulary_') else None\n"
    "    out[name] = {'vocab': vocab, 'x': v.transform(docs).toarray().tolist()}\n"
    "json.dump(out, sys.stdout)\n";

typedef struct {
  const char *name;
  MlprtTerms terms;
  int max_vocab; /* -1: the oracle's */
  int buckets, min_df;
  double max_df;
} Case;

/* Fit c on the training rows of the corpus, apply it to every row, and
 * compare with the oracle's vocabulary and values. */
static void compare_case(const char *csv, const Case *c, const cJSON *want, int oracle_vocab) {
  MlprtLoadOpts o = {.max_levels = 1}; /* every distinct document: a text column */
  MlprtTable t;
  dt_load_ok(csv, &o, &t);
  ck_assert_int_eq(t.nrows, NROWS);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < NTRAIN ? MLPRT_TRAIN : MLPRT_TEST;
  const char *doc[] = {"doc"};
  MlprtVectorizeParams p = {.cols = {doc, 1, NULL},
                            .terms = c->terms,
                            .max_vocab = c->max_vocab < 0 ? oracle_vocab
                                         : c->max_vocab   ? c->max_vocab
                                                          : 100000,
                            .buckets = c->buckets,
                            .min_df = c->min_df,
                            .max_df = c->max_df,
                            .keep_rows = true}; /* the sparse rows' training rows as the fit read them */
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_msg(mlprt_vectorize_fit(&t, &p, &f, &e) == 0, "%s: %s", c->name, dt_err(&e));
  const cJSON *vocab = cJSON_GetObjectItem(want, "vocab"), *x = cJSON_GetObjectItem(want, "x");
  bool hash = c->terms.method == MLPRT_VEC_HASH;
  int n = hash ? c->buckets : cJSON_GetArraySize(vocab);
  if (!hash) {
    ck_assert_msg(f.cols[0].nlevels == n, "%s: %d terms, scikit-learn has %d", c->name, f.cols[0].nlevels, n);
    for (int k = 0; k < n; k++)
      ck_assert_msg(strcmp(f.cols[0].levels[k], cJSON_GetArrayItem(vocab, k)->valuestring) == 0,
                    "%s: term %d is '%s', scikit-learn's '%s'", c->name, k, f.cols[0].levels[k],
                    cJSON_GetArrayItem(vocab, k)->valuestring);
    /* fitted on the training rows only: a word of the test rows alone is no term */
    for (int k = 0; k < n; k++) ck_assert_ptr_null(strstr(f.cols[0].levels[k], "zebra"));
  }
  MlprtCsr sp;
  ck_assert_msg(mlprt_vectorize_rows(&t, &f, 0, &sp, &e) == 0, "%s: %s", c->name, dt_err(&e));
  ck_assert_msg(mlprt_fit_apply(&t, &f, NULL, &e) == 0, "%s: %s", c->name, dt_err(&e));
  ck_assert_int_eq(t.ncols, n);
  /* the sparse rows: the same floats as the columns, the zeros left out */
  ck_assert_int_eq(sp.nrows, NROWS);
  ck_assert_int_eq(sp.ncols, n);
  for (int r = 0; r < NROWS; r++) {
    int64_t j = sp.ptr[r];
    for (int k = 0; k < n; k++) {
      if (t.cols[k].f[r] == 0) continue;
      ck_assert_msg(j < sp.ptr[r + 1] && sp.col[j] == k && sp.val[j] == t.cols[k].f[r],
                    "%s row %d column %d: the sparse row differs", c->name, r, k);
      j++;
    }
    ck_assert_int_eq(j, sp.ptr[r + 1]);
  }
  mlprt_csr_free(&sp);
  double worst = 0;
  for (int r = 0; r < NROWS; r++) {
    const cJSON *row = cJSON_GetArrayItem(x, r);
    for (int k = 0; k < n; k++) {
      double d = fabs((double)t.cols[k].f[r] - cJSON_GetArrayItem(row, k)->valuedouble);
      if (d > worst) worst = d;
      ck_assert_msg(d <= 1e-6, "%s row %d column %s: %.9g, scikit-learn %.9g", c->name, r, t.cols[k].name,
                    (double)t.cols[k].f[r], cJSON_GetArrayItem(row, k)->valuedouble);
    }
  }
  printf("text oracle %s: %d columns, largest difference %.2e\n", c->name, n, worst);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
}

START_TEST(text_matches_scikit_learn) {
  const char *probe[] = {PYTHON, "-c", "import sklearn.feature_extraction.text", NULL};
  TestRun pr = test_run(probe, NULL);
  bool have = pr.status == 0;
  test_run_free(&pr);
  if (!have) {
    test_skip("text_matches_scikit_learn", "python3-sklearn", PYTHON " -c 'import sklearn' failed");
    return;
  }
  char *csv = dt_write(dt_dir, "corpus.csv", corpus, 0), *py = dt_write(dt_dir, "oracle.py", oracle, 0);
  /* Café Ñandú Łódź Ærø Àççēnt Žž ÿ */
  static const char accented[] = "Caf\xc3\xa9 \xc3\x91"
                                 "and\xc3\xba \xc5\x81\xc3\xb3"
                                 "d\xc5\xba \xc3\x86r\xc3\xb8 \xc3\x80\xc3\xa7\xc3\xa7\xc4\x93"
                                 "nt \xc5\xbd\xc5\xbe \xc3\xbf";
  const char *argv[] = {PYTHON, py, csv, accented, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "oracle failed: %s", r.err);
  cJSON *want = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(want);
  int k = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(want, "max_vocab"));
  const MlprtAnalyzer W = MLPRT_ANALYZER_WORD, C = MLPRT_ANALYZER_CHAR;
  const Case cases[] = {
      {"count_word_12_df", {MLPRT_VEC_COUNT, W, 1, 2, false, false, false}, 0, 0, 2, 0.5},
      {"count_char_23_bin", {MLPRT_VEC_COUNT, C, 2, 3, true, false, false}, 0, 0, 0, 0},
      {"tfidf_word_12_cap", {MLPRT_VEC_TFIDF, W, 1, 2, false, true, true}, -1, 0, 0, 0},
      {"tfidf_char_13_raw", {MLPRT_VEC_TFIDF, C, 1, 3, false, false, false}, 0, 0, 0, 0},
      {"tfidf_word_3", {MLPRT_VEC_TFIDF, W, 1, 3, false, false, true}, 0, 0, 0, 0},
      {"hash_word_12", {MLPRT_VEC_HASH, W, 1, 2, false, false, false}, 0, 32, 0, 0},
      {"hash_char_2", {MLPRT_VEC_HASH, C, 2, 2, false, false, false}, 0, 16, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    compare_case(csv, &cases[i], cJSON_GetObjectItem(want, cases[i].name), k);
  /* accents: the base letters of U+00C0 .. U+017F that have one */
  char out[sizeof accented];
  mlprt_text_clean_one(accented, strlen(accented), MLPRT_TEXT_ACCENTS, out);
  ck_assert_str_eq(out, cJSON_GetObjectItem(want, "accents")->valuestring);
  cJSON_Delete(want);
  test_run_free(&r);
  free(csv);
  free(py);
}
END_TEST

/* The sliced fit's oracle: TF-IDF over words, pairs and triples fitted on
 * the first NTRAIN_BIG rows, applied to every row, as sparse rows. */
static const char oracle_big[] =
    "import csv, json, sys\n"
    "from sklearn.feature_extraction.text import TfidfVectorizer\n"
    "docs = [r['doc'] for r in csv.DictReader(open(sys.argv[1]))]\n"
    "v = TfidfVectorizer(token_pattern=r'(?u)[^\\W_]+', ngram_range=(1, 3), min_df=2, max_df=0.5,\n"
    "                    sublinear_tf=True).fit(docs[:int(sys.argv[2])])\n"
    "x = v.transform(docs).tocsr()\n"
    "x.sort_indices()\n"
    "json.dump({'vocab': list(v.get_feature_names_out()), 'ptr': x.indptr.tolist(),\n"
    "           'col': x.indices.tolist(), 'val': x.data.tolist()}, sys.stdout)\n";

enum { NTRAIN_BIG = 9000, NROWS_BIG = 10000 };

/* Sparse rows a and b hold the same columns and floats. */
static void same_rows(const MlprtCsr *a, const MlprtCsr *b) {
  ck_assert_int_eq(a->nrows, b->nrows);
  ck_assert_int_eq(a->ncols, b->ncols);
  for (int64_t r = 0; r <= a->nrows; r++) ck_assert_int_eq(a->ptr[r], b->ptr[r]);
  for (int64_t j = 0; j < a->ptr[a->nrows]; j++) {
    ck_assert_int_eq(a->col[j], b->col[j]);
    ck_assert(a->val[j] == b->val[j]);
  }
}

/* TF-IDF fitted with keep_rows and applied as sparse rows over table t
 * (its training rows the first NTRAIN_BIG), with `threads` threads. */
static void fit_big(MlprtTable *t, int threads, MlprtFit *f, MlprtCsr *sp) {
  mlprt_set_threads(threads, threads);
  const char *doc[] = {"doc"};
  MlprtVectorizeParams p = {.cols = {doc, 1, NULL},
                            .terms = {MLPRT_VEC_TFIDF, MLPRT_ANALYZER_WORD, 1, 3, false, true, true},
                            .max_vocab = 1000000, .min_df = 2, .max_df = 0.5, .keep_rows = true};
  MlprtError e = {0};
  ck_assert_msg(mlprt_vectorize_fit(t, &p, f, &e) == 0, "%s", dt_err(&e));
  ck_assert_msg(mlprt_vectorize_rows(t, f, 0, sp, &e) == 0, "%s", dt_err(&e));
}

/* A fit over enough rows to be counted in slices, one a thread, and the
 * slices joined: scikit-learn's vocabulary and values, and the same
 * vocabulary, idf and floats as one slice gives. The corpus: words of a
 * Zipf-like vocabulary, some capitalized, with digits and punctuation. */
START_TEST(text_sliced_fit_matches_scikit_learn) {
  const char *probe[] = {PYTHON, "-c", "import sklearn.feature_extraction.text", NULL};
  TestRun pr = test_run(probe, NULL);
  bool have = pr.status == 0;
  test_run_free(&pr);
  if (!have) {
    test_skip("text_sliced_fit_matches_scikit_learn", "python3-sklearn",
              PYTHON " -c 'import sklearn' failed");
    return;
  }
  size_t cap = (size_t)NROWS_BIG * 200, len = 0;
  char *text = malloc(cap);
  len += (size_t)snprintf(text, cap, "doc\n");
  uint64_t x = 12345;
  for (int r = 0; r < NROWS_BIG; r++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    int words = 3 + (int)(x >> 60);
    for (int w = 0; w < words; w++) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      unsigned k = (unsigned)((x >> 33) % 600);
      k = k * k / 600; /* small ids most often */
      const char *sep = w == words - 1 ? "" : (x >> 20) % 7 == 0 ? ". " : (x >> 24) % 9 == 0 ? " - " : " ";
      len += (size_t)snprintf(text + len, cap - len, (x >> 28) % 5 == 0 ? "Word%u%s" : "w%u%s", k, sep);
    }
    text[len++] = '\n';
  }
  text[len] = 0;
  char *csv = dt_write(dt_dir, "big.csv", text, len), *py = dt_write(dt_dir, "oracle_big.py", oracle_big, 0);
  free(text);
  char ntrain[16];
  snprintf(ntrain, sizeof ntrain, "%d", NTRAIN_BIG);
  const char *argv[] = {PYTHON, py, csv, ntrain, NULL};
  TestRun run = test_run(argv, NULL);
  ck_assert_msg(run.status == 0, "oracle failed: %s", run.err);
  cJSON *want = cJSON_Parse(run.out);
  ck_assert_ptr_nonnull(want);
  MlprtLoadOpts o = {.max_levels = 1};
  MlprtTable t;
  dt_load_ok(csv, &o, &t);
  ck_assert_int_eq(t.nrows, NROWS_BIG);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < NTRAIN_BIG ? MLPRT_TRAIN : MLPRT_TEST;
  MlprtFit f, f1;
  MlprtCsr sp, sp1;
  fit_big(&t, 4, &f, &sp); /* 10,000 rows: four slices */
  fit_big(&t, 1, &f1, &sp1);
  const cJSON *vocab = cJSON_GetObjectItem(want, "vocab"), *ptr = cJSON_GetObjectItem(want, "ptr"),
              *col = cJSON_GetObjectItem(want, "col"), *val = cJSON_GetObjectItem(want, "val");
  int n = cJSON_GetArraySize(vocab);
  ck_assert_int_gt(n, 1000);
  ck_assert_int_eq(f.cols[0].nlevels, n);
  const cJSON *term = vocab->child;
  for (int k = 0; k < n; k++, term = term->next)
    ck_assert_msg(strcmp(f.cols[0].levels[k], term->valuestring) == 0, "term %d is '%s', scikit-learn's '%s'",
                  k, f.cols[0].levels[k], term->valuestring);
  ck_assert_int_eq(cJSON_GetArraySize(ptr), NROWS_BIG + 1);
  const cJSON *p = ptr->child;
  for (int r = 0; r <= NROWS_BIG; r++, p = p->next) ck_assert_int_eq(sp.ptr[r], (int64_t)p->valuedouble);
  double worst = 0;
  const cJSON *c = col->child, *v = val->child;
  for (int64_t j = 0; j < sp.ptr[NROWS_BIG]; j++, c = c->next, v = v->next) {
    ck_assert_int_eq(sp.col[j], (int)c->valuedouble);
    double d = fabs((double)sp.val[j] - v->valuedouble);
    if (d > worst) worst = d;
    ck_assert_msg(d <= 1e-6, "entry %lld: %.9g, scikit-learn %.9g", (long long)j, (double)sp.val[j],
                  v->valuedouble);
  }
  printf("text oracle sliced tfidf_word_13: %d columns, %lld nonzeros, largest difference %.2e\n", n,
         (long long)sp.ptr[NROWS_BIG], worst);
  /* one slice: the same */
  ck_assert_int_eq(f1.cols[0].nlevels, n);
  for (int k = 0; k < n; k++) {
    ck_assert_str_eq(f1.cols[0].levels[k], f.cols[0].levels[k]);
    ck_assert(f1.cols[0].weights[k] == f.cols[0].weights[k]);
  }
  same_rows(&sp, &sp1);
  mlprt_csr_free(&sp), mlprt_csr_free(&sp1);
  mlprt_fit_free(&f), mlprt_fit_free(&f1);
  mlprt_table_free(&t);
  cJSON_Delete(want);
  test_run_free(&run);
  free(csv);
  free(py);
}
END_TEST

/* A compiled program's width: the vocabulary padded to max_vocab columns,
 * the pads 0; a term longer than MLPRT_TERM_MAX is left out. */
START_TEST(text_padded_width_and_long_terms) {
  char *long_word = malloc(MLPRT_TERM_MAX + 2);
  memset(long_word, 'x', MLPRT_TERM_MAX + 1);
  long_word[MLPRT_TERM_MAX + 1] = 0;
  char text[MLPRT_TERM_MAX + 64];
  snprintf(text, sizeof text, "doc\nb a b\n%s a\n", long_word);
  char *csv = dt_write(dt_dir, "pad.csv", text, 0);
  MlprtLoadOpts o = {.max_levels = 1};
  MlprtTable t;
  dt_load_ok(csv, &o, &t);
  const char *doc[] = {"doc"};
  MlprtVectorizeParams p = {
      .cols = {doc, 1, NULL}, .terms = {.method = MLPRT_VEC_TFIDF, .l2 = true}, .max_vocab = 5, .pad = true};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_vectorize_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nlevels, 2); /* a, b */
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(t.ncols, 5);
  ck_assert_str_eq(t.cols[2].name, "doc:<unused 2>");
  for (int k = 2; k < 5; k++) ck_assert_float_eq(t.cols[k].f[0], 0.0f);
  ck_assert_float_eq_tol(t.cols[0].f[1], 1.0f, 1e-6); /* "a" alone: the long word is no term */
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  free(csv);
  free(long_word);
}
END_TEST

/* The features of two tables as dense rows and as sparse rows: equal bit
 * for bit, the sparse ones holding no zero. */
static void same_features(const MlprtTable *dense, const MlprtTable *sparse) {
  int64_t rows, srows;
  int F = mlprt_table_features(dense, -1, -1, NULL, &rows);
  ck_assert_int_eq(mlprt_table_features(sparse, -1, -1, NULL, &srows), F);
  ck_assert_int_eq(srows, rows);
  float *x = malloc((size_t)(rows * F) * sizeof *x), *y = malloc((size_t)(rows * F) * sizeof *y);
  mlprt_table_features(dense, -1, -1, x, &rows);
  mlprt_table_features(sparse, -1, -1, y, &rows); /* sparse cells read one by one */
  MlprtCsr m;
  ck_assert_int_eq(mlprt_table_features_csr(sparse, -1, -1, &m), 0);
  ck_assert_int_eq(m.nrows, rows);
  ck_assert_int_eq(m.ncols, F);
  for (int64_t r = 0; r < rows; r++) {
    int64_t j = m.ptr[r];
    for (int k = 0; k < F; k++) {
      float v = x[r * F + k];
      ck_assert_msg(y[r * F + k] == v, "row %lld feature %d", (long long)r, k);
      if (v == 0) continue;
      ck_assert_msg(j < m.ptr[r + 1] && m.col[j] == k && m.val[j] == v, "row %lld feature %d",
                    (long long)r, k);
      j++;
    }
    ck_assert_int_eq(j, m.ptr[r + 1]);
  }
  mlprt_csr_free(&m);
  free(x), free(y);
}

/* A table whose vectorizer keeps its columns as sparse rows (a network
 * reading them so) gives the features, cells and rows of one that does
 * not, through row filters, reordering, a column made ordinary between
 * sparse ones and a dropped column; a numeric column beside the text
 * stays a feature. */
START_TEST(text_sparse_columns_as_dense) {
  char *csv = dt_write(dt_dir, "mixed.csv",
                       "n,doc\n1.5,the cat sat\n0,a dog\n-2,the dog sat on the cat\n4,\n0.25,cat cat dog\n"
                       "3,a bird sang\n", 0);
  MlprtLoadOpts o = {.max_levels = 1};
  MlprtTable a, b;
  dt_load_ok(csv, &o, &a);
  dt_load_ok(csv, &o, &b);
  b.sparse_text = true;
  const char *doc[] = {"doc"};
  MlprtVectorizeParams p = {.cols = {doc, 1, NULL},
                            .terms = {.method = MLPRT_VEC_TFIDF, .ngram_lo = 1, .ngram_hi = 2, .l2 = true},
                            .max_vocab = 12,
                            .pad = true};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_vectorize_fit(&a, &p, &f, &e), 0);
  ck_assert_int_eq(mlprt_fit_apply(&a, &f, NULL, &e), 0);
  mlprt_fit_free(&f);
  p.keep_rows = true; /* b's rows as the fit read them, a's read again */
  ck_assert_int_eq(mlprt_vectorize_fit(&b, &p, &f, &e), 0);
  ck_assert_ptr_nonnull(f.cols[0].kept);
  ck_assert_int_eq(mlprt_fit_apply(&b, &f, NULL, &e), 0);
  ck_assert_ptr_null(f.cols[0].kept);
  ck_assert_int_eq(b.ncols, 13);
  ck_assert(mlprt_table_has_sparse(&b));
  ck_assert_ptr_null(b.cols[1].f);
  same_features(&a, &b);
  char ca[64], cb[64];
  for (int c = 0; c < a.ncols; c++)
    for (int64_t r = 0; r < a.nrows; r++)
      ck_assert_str_eq(mlprt_cell_str(&a, c, r, ca, sizeof ca), mlprt_cell_str(&b, c, r, cb, sizeof cb));
  uint8_t keep[6] = {1, 0, 1, 1, 1, 1};
  ck_assert_int_eq(mlprt_table_filter(&a, keep), 1);
  ck_assert_int_eq(mlprt_table_filter(&b, keep), 1);
  int64_t perm[5] = {4, 2, 0, 3, 1};
  mlprt_table_permute(&a, perm);
  mlprt_table_permute(&b, perm);
  same_features(&a, &b);
  mlprt_column_densify(&b, 5); /* the block's columns now run 1..4 and 6..12 */
  ck_assert_ptr_nonnull(b.cols[5].f);
  for (int64_t r = 0; r < a.nrows; r++) ck_assert(b.cols[5].f[r] == a.cols[5].f[r]);
  same_features(&a, &b);
  mlprt_table_drop_column(&a, 2);
  mlprt_table_drop_column(&b, 2);
  same_features(&a, &b);
  /* sparse rows take no more rows */
  MlprtTable c;
  mlprt_table_like(&c, &b);
  ck_assert_int_eq(mlprt_table_append(&b, &c, &e), -1);
  mlprt_table_free(&c);
  mlprt_fit_free(&f);
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  free(csv);
}
END_TEST

/* A vocabulary term that is no join of at most MLPRT_NGRAM_MAX words (as a
 * fit read from elsewhere may hold) counts nothing; the others count as
 * usual. */
/* A fit that keeps its training rows gives the rows a fit that reads them
 * again gives; what it kept serves the table it read alone, once. */
START_TEST(text_kept_training_rows) {
  char *csv = dt_write(dt_dir, "kept.csv",
                       "doc\nthe cat sat\na dog\nthe dog sat on the cat the cat\n\"\"\ncat cat dog\n"
                       "a bird sang\nthe bird sat on a dog\nzebra cat\n", 0);
  MlprtLoadOpts o = {.max_levels = 1};
  MlprtTable a, b;
  dt_load_ok(csv, &o, &a);
  dt_load_ok(csv, &o, &b);
  ck_assert_int_eq(a.nrows, 8);
  uint8_t part[8] = {MLPRT_TRAIN, MLPRT_TEST, MLPRT_TRAIN, MLPRT_TRAIN, MLPRT_TRAIN, MLPRT_VALID, MLPRT_TRAIN,
                     MLPRT_TEST};
  a.part = malloc((size_t)a.cap_rows);
  b.part = malloc((size_t)b.cap_rows);
  memcpy(a.part, part, sizeof part);
  memcpy(b.part, part, sizeof part);
  const char *doc[] = {"doc"};
  for (int analyzer = 0; analyzer < 2; analyzer++) {
    MlprtVectorizeParams p = {.cols = {doc, 1, NULL},
                              .terms = {.method = MLPRT_VEC_TFIDF, .analyzer = (MlprtAnalyzer)analyzer,
                                        .ngram_lo = 1, .ngram_hi = 2, .sublinear = true, .l2 = true},
                              .max_vocab = 9};
    MlprtFit f;
    MlprtError e = {0};
    MlprtCsr read, kept, other;
    ck_assert_int_eq(mlprt_vectorize_fit(&a, &p, &f, &e), 0);
    ck_assert_ptr_null(f.cols[0].kept);
    ck_assert_int_eq(mlprt_vectorize_rows(&a, &f, 0, &read, &e), 0);
    mlprt_fit_free(&f);
    p.keep_rows = true;
    ck_assert_int_eq(mlprt_vectorize_fit(&a, &p, &f, &e), 0);
    ck_assert_ptr_nonnull(f.cols[0].kept);
    ck_assert_int_eq(mlprt_vectorize_rows(&a, &f, 0, &kept, &e), 0);
    ck_assert_ptr_null(f.cols[0].kept);
    same_rows(&read, &kept);
    mlprt_fit_free(&f);
    ck_assert_int_eq(mlprt_vectorize_fit(&a, &p, &f, &e), 0);
    ck_assert_int_eq(mlprt_vectorize_rows(&b, &f, 0, &other, &e), 0); /* another table: read again */
    ck_assert_ptr_null(f.cols[0].kept);
    same_rows(&read, &other);
    mlprt_fit_free(&f);
    mlprt_csr_free(&read), mlprt_csr_free(&kept), mlprt_csr_free(&other);
  }
  mlprt_table_free(&a);
  mlprt_table_free(&b);
  free(csv);
}
END_TEST

START_TEST(text_vocabulary_of_odd_terms) {
  char *csv = dt_write(dt_dir, "odd.csv", "doc\nb a b\na c\n", 0);
  MlprtLoadOpts o = {.max_levels = 1};
  MlprtTable t;
  dt_load_ok(csv, &o, &t);
  const char *doc[] = {"doc"};
  MlprtVectorizeParams p = {.cols = {doc, 1, NULL}, .terms = {.method = MLPRT_VEC_COUNT}, .max_vocab = 5};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_vectorize_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nlevels, 3); /* a, b, c */
  free(f.cols[0].levels[2]);
  f.cols[0].levels[2] = strdup("c d e f");
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, NULL, &e), 0);
  ck_assert_int_eq(t.ncols, 3);
  ck_assert_float_eq(t.cols[0].f[0], 1.0f);
  ck_assert_float_eq(t.cols[1].f[0], 2.0f);
  ck_assert_float_eq(t.cols[0].f[1], 1.0f);
  ck_assert_float_eq(t.cols[2].f[0], 0.0f);
  ck_assert_float_eq(t.cols[2].f[1], 0.0f);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  free(csv);
}
END_TEST

/* tokenize: the vocabulary from the training rows alone (a word only a
 * validation row holds is unknown), min_count over all training rows,
 * max_vocab the most frequent, ids in word order from 2; a short text
 * padded in front with 0, a long one keeps its first words, a missing one
 * all padding; cleaning.json gives the fit back unchanged. */
START_TEST(text_tokenize_ids_padding_and_training_rows) {
  char *csv = dt_write(dt_dir, "tok.csv",
                       "id,doc\n0,the cat the dog\n1,cat sat\n2,the the bird cat dog cat\n3,\n"
                       "4,zebra the\n",
                       0);
  MlprtLoadOpts o = {.max_levels = 1};
  MlprtTable t;
  dt_load_ok(csv, &o, &t);
  t.part = malloc((size_t)t.cap_rows);
  for (int64_t r = 0; r < t.nrows; r++) t.part[r] = r < 4 ? MLPRT_TRAIN : MLPRT_VALID;
  const char *doc[] = {"doc"};
  /* counts: the 5, cat 4, dog 2, sat 1, bird 1; min_count 2 keeps the, cat, dog; max_vocab 2: the, cat */
  MlprtVectorizeParams p = {.cols = {doc, 1, NULL},
                            .terms = {.method = MLPRT_VEC_SEQUENCE},
                            .max_vocab = 2,
                            .min_df = 2,
                            .max_len = 4};
  MlprtFit f;
  MlprtError e = {0};
  ck_assert_int_eq(mlprt_vectorize_fit(&t, &p, &f, &e), 0);
  ck_assert_int_eq(f.cols[0].nlevels, 2);
  ck_assert_str_eq(f.cols[0].levels[0], "cat");
  ck_assert_str_eq(f.cols[0].levels[1], "the");
  MlprtCleanLog *cl = mlprt_clean_log_new("tok.csv");
  ck_assert_int_eq(mlprt_fit_apply(&t, &f, cl, &e), 0);
  ck_assert_int_eq(t.ncols, 5);
  ck_assert_str_eq(t.cols[1].name, "doc@0");
  static const float want[5][4] = {{3, 2, 3, 1}, {0, 0, 2, 1}, {3, 3, 1, 2}, {0, 0, 0, 0}, {0, 0, 1, 3}};
  for (int r = 0; r < 5; r++)
    for (int k = 0; k < 4; k++)
      ck_assert_msg(t.cols[1 + k].f[r] == want[r][k], "row %d id %d: %g", r, k, (double)t.cols[1 + k].f[r]);
  char *log = dt_write(dt_dir, "tok.json", "", 0);
  ck_assert_int_eq(mlprt_clean_log_write(cl, log, &e), 0);
  MlprtFit *back;
  int nback;
  ck_assert_int_eq(mlprt_fits_read(log, &back, &nback, &e), 0);
  ck_assert_int_eq(nback, 1);
  ck_assert_int_eq(back[0].method, MLPRT_VEC_SEQUENCE);
  ck_assert_double_eq(back[0].param, 4);
  ck_assert_int_eq(back[0].cols[0].nlevels, 2);
  mlprt_fits_free(back, nback);
  mlprt_clean_log_free(cl);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  free(log);
  free(csv);
}
END_TEST

/* No leakage in a compiled program: trained with a time-ordered split, the
 * vocabulary and idf in cleaning.json come from the training rows alone
 * (a word of the test rows only is no term; a term's idf counts the
 * training rows), and the program's width is max_vocab whatever the
 * vocabulary's size. */
START_TEST(text_program_fits_on_training_rows) {
  char *dir = test_tmpdir(), data[512], spec[512];
  snprintf(data, sizeof data, "%s/notes.csv", dir);
  snprintf(spec, sizeof spec, "%s/notes.mlp", dir);
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  fputs("t,note,y\n", f);
  /* 60 training rows ("alpha" in every third), then 20 validation and 20
   * test rows, where "zebra" first appears */
  for (int i = 0; i < 100; i++)
    fprintf(f, "%d,%s common %s,%d\n", i, i % 3 ? "beta" : "alpha", i >= 80 ? "zebra" : "word", i % 2);
  fclose(f);
  char text[1024];
  snprintf(text, sizeof text,
           "pipeline notes {\n  data {\n    source = csv(\"%s\")\n    target = y\n"
           "    schema {\n      note = text\n      y = category\n    }\n"
           "    clean {\n      drop_columns([t])\n      tfidf([note], max_vocab = 50)\n    }\n"
           "    split(validation = 0.2, test = 0.2, time_order = t)\n  }\n"
           "  model {\n    output()\n  }\n  hyperparameters {\n    epochs = 2\n  }\n}\n",
           data);
  test_write_text(spec, text);
  char *run = test_train(spec, dir, "notes"), *path = test_path(run, "cleaning.json");
  char *json = test_read_file(path, NULL);
  ck_assert_ptr_nonnull(json);
  cJSON *root = cJSON_Parse(json);
  const cJSON *steps = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "cleaning"), "steps"), *vec = NULL;
  for (const cJSON *s = steps ? steps->child : NULL; s; s = s->next)
    if (strcmp(cJSON_GetObjectItem(s, "step")->valuestring, "vectorize") == 0) vec = s;
  ck_assert_ptr_nonnull(vec);
  ck_assert_double_eq(cJSON_GetObjectItem(vec, "max_vocab")->valuedouble, 50);
  const cJSON *col = cJSON_GetArrayItem(cJSON_GetObjectItem(vec, "columns"), 0);
  const cJSON *vocab = cJSON_GetObjectItem(col, "vocabulary"), *idf = cJSON_GetObjectItem(col, "idf");
  ck_assert_int_eq(cJSON_GetArraySize(vocab), 4); /* alpha beta common word: no zebra */
  static const char *const want[] = {"alpha", "beta", "common", "word"};
  for (int k = 0; k < 4; k++) ck_assert_str_eq(cJSON_GetArrayItem(vocab, k)->valuestring, want[k]);
  /* alpha: 20 of the 60 training rows */
  ck_assert_double_eq_tol(cJSON_GetArrayItem(idf, 0)->valuedouble, log(61.0 / 21.0) + 1, 1e-12);
  ck_assert_double_eq_tol(cJSON_GetArrayItem(idf, 2)->valuedouble, 1.0, 1e-12); /* common: every row */
  cJSON_Delete(root);
  free(json);
  free(path);
  free(run);
  free(dir);
}
END_TEST

Suite *text_suite(void); /* the runner finds it by name */
Suite *text_suite(void) {
  Suite *s = suite_create("text");
  TCase *tc = tcase_create("oracle");
  tcase_add_checked_fixture(tc, dt_setup, dt_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, text_matches_scikit_learn);
  tcase_add_test(tc, text_sliced_fit_matches_scikit_learn);
  tcase_add_test(tc, text_padded_width_and_long_terms);
  tcase_add_test(tc, text_sparse_columns_as_dense);
  tcase_add_test(tc, text_kept_training_rows);
  tcase_add_test(tc, text_vocabulary_of_odd_terms);
  tcase_add_test(tc, text_tokenize_ids_padding_and_training_rows);
  tcase_add_test(tc, text_program_fits_on_training_rows);
  suite_add_tcase(s, tc);
  return s;
}
