/* latency.c — single-row latency of an embedded mlpc predictor (bench/predict).
 *
 * Built by run.sh against the object and header `mlpc export --emit-obj`
 * writes: -DPRED_HEADER='"PATH.h"' -DPRED=NAME (the symbol prefix). Reads
 * a CSV of raw rows (a header naming input columns, any order; the target
 * left out), and calls NAME_predict on one row at a time, cycling through
 * the rows: each sample times REPS consecutive calls, and the median of
 * SAMPLES samples, divided by REPS, is printed as ns per row (one JSON
 * line), and the same by the thread's CPU clock ("cpu_ns_per_row": on a
 * loaded machine, without the waits for a core that a group of calls
 * catches), and the median of CALLS calls each timed alone, as
 * bench/predict/ort_predict.js times its peer ("call_ns_per_row", the
 * clock's own cost included). Timing calls in groups keeps the clock's own
 * cost out. The same
 * for the model alone: the descriptor's forward pass (NAME_predictor, see
 * mlp/predict.h) on one row of features, without parsing or cleaning.
 *
 *     latency ROWS.csv [FEATURES.csv TARGET]
 *
 * With FEATURES.csv (cleaned feature rows as --export-features writes them,
 * every column but TARGET a model input, in order) the forward pass is
 * timed on those rows, one at a time as above, and on all of them in calls
 * of the descriptor's batch rows (the median of SAMPLES passes, as rows/s:
 * "forward_rows_per_s").
 *
 * With MLP_GEMV_SHAPES set ("IN:OUT,IN:OUT,...": the model's dense layers),
 * also the GEMV floor: OpenBLAS's sgemv (one thread) on one row through
 * weights of those shapes, timed as above ("gemv_floor_ns"): the products a
 * single row cannot avoid, without cleaning, biases or activations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include PRED_HEADER
#include "mlp/predict.h"
#include "../bench.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define SYM(s) CAT(PRED, s)

enum { REPS = 2000, SAMPLES = 51, CALLS = 20000, MAXROWS = 1024, MAXGEMV = 16 };

/* The median ns of one pass of sgemv through the "IN:OUT,..." shapes of spec. */
static double gemv_floor(const char *spec) {
  int in[MAXGEMV], outs[MAXGEMV], n = 0, len = 0, widest = 1;
  while (n < MAXGEMV && sscanf(spec, "%d:%d%n", &in[n], &outs[n], &len) == 2) {
    widest = in[n] > widest ? in[n] : widest, widest = outs[n] > widest ? outs[n] : widest;
    n++, spec += len;
    if (*spec++ != ',') break;
  }
  float *w[MAXGEMV], *x = malloc((size_t)widest * sizeof *x), *v[2] = {malloc((size_t)widest * sizeof *x),
                                                                       malloc((size_t)widest * sizeof *x)};
  for (int l = 0; l < n; l++) {
    w[l] = malloc((size_t)in[l] * (size_t)outs[l] * sizeof(float));
    for (size_t i = 0; i < (size_t)in[l] * (size_t)outs[l]; i++) w[l][i] = (float)(i % 13) * 0.01f - 0.06f;
  }
  for (int i = 0; i < widest; i++) x[i] = (float)(i % 7) * 0.25f - 0.75f;
  double t[SAMPLES];
  for (int s = -1; s < SAMPLES; s++) { /* s = -1: warm-up */
    double t0 = 1e9 * bench_cpu_now();
    for (int r = 0; r < REPS; r++)
      for (int l = 0; l < n; l++)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, outs[l], in[l], 1.0f, w[l], in[l], l ? v[!(l & 1)] : x, 1,
                    0.0f, v[l & 1], 1);
    if (s >= 0) t[s] = (1e9 * bench_cpu_now() - t0) / REPS;
  }
  return bench_median(t, SAMPLES);
}

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

/* The rows of FEATURES.csv but column TARGET, n_in floats each (*rows of them); NULL when the file
 * cannot be read or its rows are not n_in features wide. */
static float *read_features(const char *path, const char *target, int64_t n_in, int *rows) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  static char line[1 << 16];
  char *cells[4096];
  int skip = -1, cap = 1024, n = 0;
  float *x = NULL;
  if (fgets(line, sizeof line, f)) {
    int ncols = split(line, cells, 4096);
    for (int c = 0; c < ncols; c++)
      if (strcmp(cells[c], target) == 0) skip = c;
    if (ncols - (skip >= 0) == n_in) x = malloc((size_t)cap * (size_t)n_in * sizeof *x);
  }
  while (x && fgets(line, sizeof line, f)) {
    int ncols = split(line, cells, 4096), k = 0;
    if (n == cap) x = realloc(x, (size_t)(cap *= 2) * (size_t)n_in * sizeof *x);
    for (int c = 0; c < ncols && k < n_in; c++)
      if (c != skip) x[(int64_t)n * n_in + k++] = strtof(cells[c], NULL);
    n++;
  }
  fclose(f);
  *rows = n;
  return n > 0 ? x : (free(x), NULL);
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 4) {
    fprintf(stderr, "usage: latency ROWS.csv [FEATURES.csv TARGET]\n");
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
  double c[SAMPLES]; /* the same samples by the thread's CPU clock */
  for (int s = 0; s < SAMPLES; s++) {
    double t0 = 1e9 * bench_now(), c0 = 1e9 * bench_cpu_now();
    for (int i = 0; i < REPS; i++, r = r + 1 == nrows ? 0 : r + 1)
      answered += SYM(_predict)(rows + r * k, out, reason, sizeof reason) >= 0;
    t[s] = (1e9 * bench_now() - t0) / REPS, c[s] = (1e9 * bench_cpu_now() - c0) / REPS;
  }
  double row_ns = bench_median(t, SAMPLES), row_cpu_ns = bench_median(c, SAMPLES);
  /* one call a sample, as ort_predict.js times session.run: a preempted call is one sample of many */
  double *one = malloc(CALLS * sizeof *one);
  for (int s = 0; s < CALLS; s++, r = r + 1 == nrows ? 0 : r + 1) {
    double t0 = 1e9 * bench_now();
    answered += SYM(_predict)(rows + r * k, out, reason, sizeof reason) >= 0;
    one[s] = 1e9 * bench_now() - t0;
  }
  double call_ns = bench_median(one, CALLS);
  free(one);

  const MlprtPredictor *p = &SYM(_predictor);
  int nx = 1;
  float *x = argc == 4 ? read_features(argv[2], argv[3], p->n_in, &nx) : NULL;
  if (argc == 4 && !x) {
    fprintf(stderr, "latency: %s has no rows of %lld features besides '%s'\n", argv[2], (long long)p->n_in,
            argv[3]);
    return 2;
  }
  if (!x) {
    x = malloc((size_t)p->n_in * sizeof *x);
    for (int64_t i = 0; i < p->n_in; i++) x[i] = (float)(i % 7) * 0.25f - 0.75f; /* features of a cleaned row */
  }
  float *o = malloc((size_t)nx * (size_t)p->n_out * sizeof *o);
  void *scratch = aligned_alloc(64, ((size_t)p->scratch_bytes + 63) / 64 * 64 + 64);
  for (int w = 0; w < 1000; w++) p->forward(x + (w % nx) * p->n_in, o, 1, scratch);
  r = 0;
  for (int s = 0; s < SAMPLES; s++) {
    double t0 = 1e9 * bench_now(), c0 = 1e9 * bench_cpu_now();
    for (int i = 0; i < REPS; i++, r = r + 1 == nx ? 0 : r + 1) p->forward(x + r * p->n_in, o, 1, scratch);
    t[s] = (1e9 * bench_now() - t0) / REPS, c[s] = (1e9 * bench_cpu_now() - c0) / REPS;
  }
  printf("{\"peer\": \"mlpc\", \"ns_per_row\": %.1f, \"forward_ns_per_row\": %.1f, \"answered\": %ld",
         row_ns, bench_median(t, SAMPLES), answered);
  printf(", \"call_ns_per_row\": %.1f, \"cpu_ns_per_row\": %.1f, \"forward_cpu_ns_per_row\": %.1f", call_ns,
         row_cpu_ns, bench_median(c, SAMPLES));
  const char *gemv = getenv("MLP_GEMV_SHAPES");
  if (gemv && *gemv) printf(", \"gemv_floor_ns\": %.1f", gemv_floor(gemv));
  if (argc == 4) {
    /* every row through the forward pass, in calls of the descriptor's batch */
    for (int s = 0; s < SAMPLES; s++) {
      double t0 = bench_cpu_now();
      for (int64_t i = 0; i < nx; i += p->batch)
        p->forward(x + i * p->n_in, o + i * p->n_out, nx - i < p->batch ? nx - i : p->batch, scratch);
      t[s] = (double)nx / (bench_cpu_now() - t0);
    }
    printf(", \"forward_rows_per_s\": %.0f, \"batch_rows\": %d", bench_median(t, SAMPLES), nx);
  }
  printf("}\n");
  return 0;
}
