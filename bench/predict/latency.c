/* latency.c — single-row latency of an embedded mlpc predictor (bench/predict).
 *
 * Built by run.sh against the object and header `mlpc export --emit-obj`
 * writes: -DPRED_HEADER='"PATH.h"' -DPRED=NAME (the symbol prefix). Reads
 * a CSV of raw rows (a header naming input columns, any order; the target
 * left out), and calls NAME_predict on one row at a time, cycling through
 * the rows: each sample times REPS consecutive calls, and the median of
 * SAMPLES samples, divided by REPS, is printed as ns per row (one JSON
 * line). Timing calls in groups keeps the clock's own cost out. The same
 * for the model alone: the descriptor's forward pass (NAME_predictor, see
 * mlp/predict.h) on one row of features, without parsing or cleaning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include PRED_HEADER
#include "mlp/predict.h"
#include "../bench.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define SYM(s) CAT(PRED, s)

enum { REPS = 2000, SAMPLES = 51, MAXROWS = 1024 };

extern const MlprtPredictor SYM(_predictor);

/* Split line at commas in place (no quoting: the bench's rows are numeric). */
static int split(char *line, char **f, int max) {
  int n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *p = line; n < max;) {
    f[n++] = p;
    p = strchr(p, ',');
    if (!p) break;
    *p++ = '\0';
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: latency ROWS.csv\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  int64_t k = SYM(_n_inputs);
  static char line[1 << 16], hdr[1 << 16];
  char *names[4096], *cells[4096];
  if (!fgets(hdr, sizeof hdr, f)) return 2;
  int ncols = split(hdr, names, 4096);
  int *col = malloc((size_t)k * sizeof *col); /* input column i is CSV column col[i] */
  for (int64_t i = 0; i < k; i++) {
    col[i] = -1;
    for (int c = 0; c < ncols; c++)
      if (strcmp(names[c], SYM(_input_names)[i]) == 0) col[i] = c;
    if (col[i] < 0) {
      fprintf(stderr, "latency: %s has no column '%s'\n", argv[1], SYM(_input_names)[i]);
      return 2;
    }
  }
  const char **rows = malloc((size_t)MAXROWS * (size_t)k * sizeof *rows);
  int nrows = 0;
  while (nrows < MAXROWS && fgets(line, sizeof line, f)) {
    split(line, cells, 4096);
    for (int64_t i = 0; i < k; i++) rows[nrows * k + i] = *cells[col[i]] ? strdup(cells[col[i]]) : NULL;
    nrows++;
  }
  fclose(f);
  float *out = malloc((size_t)SYM(_n_outputs) * sizeof *out);
  char reason[256];
  long answered = 0;
  for (int w = 0; w < nrows * 10; w++) /* warm-up */
    answered += SYM(_predict)(rows + (w % nrows) * k, out, reason, sizeof reason) >= 0;
  double t[SAMPLES];
  int r = 0;
  for (int s = 0; s < SAMPLES; s++) {
    double t0 = 1e9 * bench_now();
    for (int i = 0; i < REPS; i++, r = r + 1 == nrows ? 0 : r + 1)
      answered += SYM(_predict)(rows + r * k, out, reason, sizeof reason) >= 0;
    t[s] = (1e9 * bench_now() - t0) / REPS;
  }
  double row_ns = bench_median(t, SAMPLES);

  const MlprtPredictor *p = &SYM(_predictor);
  float *x = malloc((size_t)p->n_in * sizeof *x), *o = malloc((size_t)p->n_out * sizeof *o);
  void *scratch = aligned_alloc(64, ((size_t)p->scratch_bytes + 63) / 64 * 64 + 64);
  for (int64_t i = 0; i < p->n_in; i++) x[i] = (float)(i % 7) * 0.25f - 0.75f; /* features of a cleaned row */
  for (int w = 0; w < 1000; w++) p->forward(x, o, 1, scratch);
  for (int s = 0; s < SAMPLES; s++) {
    double t0 = 1e9 * bench_now();
    for (int i = 0; i < REPS; i++) p->forward(x, o, 1, scratch);
    t[s] = (1e9 * bench_now() - t0) / REPS;
  }
  printf("{\"peer\": \"mlpc\", \"ns_per_row\": %.1f, \"forward_ns_per_row\": %.1f, \"answered\": %ld}\n",
         row_ns, bench_median(t, SAMPLES), answered);
  return 0;
}
