/* tfidf_mlpc.c — the text benchmark's mlpc side: TF-IDF (words and word
 * pairs, min_df 2, the 4000 most frequent terms, sublinear tf, L2 rows)
 * fitted and applied over every row of a CSV's `text` column, as
 * tfidf_sklearn.py does with TfidfVectorizer. Loading is not timed.
 * Prints one line: mlpc SECONDS ROWS TERMS SUM (the sum of every value,
 * which both sides must agree on).
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tfidf_mlpc FILE.csv\n");
    return 2;
  }
  MlprtLoadOpts o = {.max_levels = 1}; /* the paragraphs: one text column */
  MlprtTable t;
  MlprtError e = {0};
  if (mlprt_load(argv[1], &o, &t, &e)) die(&e);
  const char *text[] = {"text"};
  MlprtVectorizeParams p = {.cols = {text, 1, NULL},
                            .terms = {.method = MLPRT_VEC_TFIDF, .ngram_lo = 1, .ngram_hi = 2, .sublinear = true,
                                      .l2 = true},
                            .max_vocab = 4000,
                            .min_df = 2};
  MlprtFit f;
  double t0 = bench_now();
  if (mlprt_vectorize_fit(&t, &p, &f, &e) || mlprt_fit_apply(&t, &f, NULL, &e)) die(&e);
  double t1 = bench_now();
  double sum = 0;
  int terms = 0;
  for (int c = 0; c < t.ncols; c++) {
    if (t.cols[c].type != MLPRT_COL_FLOAT) continue;
    terms++;
    for (int64_t r = 0; r < t.nrows; r++) sum += t.cols[c].f[r];
  }
  printf("mlpc %.6f %lld %d %.6f\n", t1 - t0, (long long)t.nrows, terms, sum);
  mlprt_fit_free(&f);
  mlprt_table_free(&t);
  return 0;
}
