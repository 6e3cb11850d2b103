/* tfidf_mlpc.c — the text benchmark's mlpc side: TF-IDF (words and word
 * pairs, min_df 2, the 4000 most frequent terms, sublinear tf, L2 rows)
 * fitted and applied over every row of a CSV's `text` column, as
 * tfidf_sklearn.py does with TfidfVectorizer: once into sparse rows (what
 * the first dense layer of a network reads; scikit-learn's output is
 * sparse too), once into the table's dense columns. Loading is not timed.
 * Prints one line: mlpc SPARSE_SECONDS ROWS TERMS SUM DENSE_SECONDS NONZEROS
 * (SUM: the sum of every value, which both sides must agree on).
 *
 *   tfidf_mlpc FILE.csv */
#include <stdio.h>
#include <stdlib.h>

#include "../bench.h"
#include "mlp/clean.h"

static void die(const MlprtError *e) {
  char buf[1024];
  mlprt_error_format(e, buf, sizeof buf);
  fprintf(stderr, "tfidf_mlpc: %s\n", buf);
  exit(1);
}

static const char *text[] = {"text"};

/* keep_rows: applied to t next, as scikit-learn's fit_transform */
static MlprtFit fit(const MlprtTable *t) {
  MlprtTerms terms = {.method = MLPRT_VEC_TFIDF, .ngram_lo = 1, .ngram_hi = 2, .sublinear = true, .l2 = true};
  MlprtVectorizeParams p = {.cols = {text, 1, NULL}, .terms = terms, .max_vocab = 4000, .min_df = 2,
                           .keep_rows = true};
  MlprtFit f;
  MlprtError e = {0};
  if (mlprt_vectorize_fit(t, &p, &f, &e)) die(&e);
  return f;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tfidf_mlpc FILE.csv\n");
    return 2;
  }
  MlprtLoadOpts o = {.max_levels = 1}; /* the paragraphs: one text column */
  MlprtTable t;
  MlprtError e = {0};
  if (mlprt_load(argv[1], &o, &t, &e)) die(&e);
  double t0 = bench_now();
  MlprtFit f = fit(&t);
  MlprtCsr sp;
  if (mlprt_vectorize_rows(&t, &f, 0, &sp, &e)) die(&e);
  double t1 = bench_now();
  double sum = 0;
  for (int64_t k = 0; k < sp.ptr[sp.nrows]; k++) sum += sp.val[k];
  mlprt_fit_free(&f);
  double t2 = bench_now();
  f = fit(&t);
  if (mlprt_fit_apply(&t, &f, NULL, &e)) die(&e);
  double t3 = bench_now();
  printf("mlpc %.6f %lld %lld %.6f %.6f %lld\n", t1 - t0, (long long)sp.nrows, (long long)sp.ncols, sum,
         t3 - t2, (long long)sp.ptr[sp.nrows]);
  mlprt_csr_free(&sp);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  return 0;
}
