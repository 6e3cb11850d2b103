/* tpe.c — the Tree-structured Parzen Estimator of `search = tpe`
 * (mlp/tpe.h): the finished trials split into the best quarter and the
 * rest, a Parzen density of each over a space's values, and the next value
 * the candidate, drawn from the good density, that most favours it. */
#include "mlp/tpe.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/tensor.h"

enum { CANDIDATES = 24, TRIES = 64 };
#define GAMMA 0.25 /* the share of the finished trials that make the good density */

int mlprt_tpe_parse(const char *text, MlprtTpeSpace *out, int max) {
  int n = 0;
  for (const char *p = text; p && *p; n++) {
    const char *end = strchr(p, '\n'), *tab = strchr(p, '\t');
    if (n == max || !end || !tab || tab > end || tab - p >= (long)sizeof out->path) return -1;
    MlprtTpeSpace *s = &out[n];
    memset(s, 0, sizeof *s);
    memcpy(s->path, p, (size_t)(tab - p));
    char *q;
    s->kind = (MlprtTpeKind)strtol(tab + 1, &q, 10);
    if (*q == '\t') s->lo = strtod(q + 1, &q);
    if (*q == '\t') s->hi = strtod(q + 1, &q);
    if (*q != '\t' || s->kind > MLPRT_TPE_LOG_RANGE) return -1;
    for (q++; q < end && s->nvals < MLPRT_TPE_MAX_VALUES; q += *q == ',') s->vals[s->nvals++] = strtod(q, &q);
    if (s->kind == MLPRT_TPE_LIST && s->nvals == 0) return -1;
    p = end + 1;
  }
  return n;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A Parzen density on [a, b] (hyperopt's adaptive Parzen estimator): a
 * normal at each of the m points and a prior normal (mean the middle,
 * sigma the width), each of weight 1, truncated to [a, b]. A point's sigma
 * is the larger gap to its neighbours in sorted order (the domain's ends
 * bounding the first and last), clipped to [(b - a) / min(100, m + 1), b - a]. */
typedef struct {
  double *mu, *sg;
  int k; /* m + 1 components, the prior last */
  double a, b;
} Parzen;

static Parzen parzen(const double *pts, int m, double a, double b) {
  Parzen z = {malloc((size_t)(m + 1) * sizeof *z.mu), malloc((size_t)(m + 1) * sizeof *z.sg), m + 1, a, b};
  memcpy(z.mu, pts, (size_t)m * sizeof *pts);
  qsort(z.mu, (size_t)m, sizeof *z.mu, by_value);
  double lo = (b - a) / (m + 1 < 100 ? m + 1 : 100);
  for (int i = 0; i < m; i++) {
    double left = z.mu[i] - (i ? z.mu[i - 1] : a), right = (i + 1 < m ? z.mu[i + 1] : b) - z.mu[i];
    z.sg[i] = fmin(fmax(fmax(left, right), lo), b - a);
  }
  z.mu[m] = (a + b) / 2;
  z.sg[m] = b - a;
  return z;
}

static double normal_cdf(double t) {
  return 0.5 * erfc(-t / sqrt(2));
}

static double density(const Parzen *z, double x) {
  double sum = 0;
  for (int i = 0; i < z->k; i++) {
    double t = (x - z->mu[i]) / z->sg[i];
    double mass = normal_cdf((z->b - z->mu[i]) / z->sg[i]) - normal_cdf((z->a - z->mu[i]) / z->sg[i]);
    sum += exp(-0.5 * t * t) / (z->sg[i] * sqrt(2 * M_PI)) / (mass > 1e-300 ? mass : 1e-300);
  }
  return sum / z->k;
}

/* Draw c of the density: a component uniformly, then its normal until the
 * value falls in [a, b] (the last try clamped). */
static double sample(const Parzen *z, uint64_t seed, uint64_t stream, uint64_t at) {
  int i = (int)(mlprt_rng_uniform(seed, 2 * stream, at) * (float)z->k);
  if (i >= z->k) i = z->k - 1;
  double x = z->mu[i];
  for (int t = 0; t < TRIES; t++) {
    x = z->mu[i] + z->sg[i] * mlprt_rng_normal(seed, 2 * stream + 1, at * TRIES + (uint64_t)t);
    if (x >= z->a && x <= z->b) return x;
  }
  return fmin(fmax(x, z->a), z->b);
}

/* The n finished trials ordered by loss y, best first (a NaN loss last,
 * ties to the earlier trial), by insertion. */
static int *by_loss(const double *y, int n) {
  int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
  for (int i = 0; i < n; i++) {
    double v = isnan(y[i]) ? INFINITY : y[i];
    int j = i;
    for (; j > 0 && (isnan(y[order[j - 1]]) ? INFINITY : y[order[j - 1]]) > v; j--) order[j] = order[j - 1];
    order[j] = i;
  }
  return order;
}

static int index_of(const MlprtTpeSpace *s, double v) {
  for (int k = 0; k < s->nvals; k++)
    if (s->vals[k] == v) return k;
  return -1;
}

double mlprt_tpe_suggest(const MlprtTpeSpace *s, const double *x, const double *y, int n, uint64_t seed,
                         uint64_t stream, uint64_t trial) {
  int *order = by_loss(y, n);
  int good = (int)ceil(GAMMA * n);
  if (good < 1) good = 1;
  if (good > n) good = n;
  uint64_t at = trial * CANDIDATES;
  double best = 0, pick = s->kind == MLPRT_TPE_LIST ? s->vals[0] : s->lo;
  if (s->kind == MLPRT_TPE_LIST) {
    /* categorical: each value's share of the good and of the other trials, one added to each count */
    int K = s->nvals;
    double *l = calloc((size_t)K, sizeof *l), *g = calloc((size_t)K, sizeof *g);
    for (int r = 0; r < n; r++) {
      int k = index_of(s, x[order[r]]);
      if (k >= 0) (r < good ? l : g)[k] += 1;
    }
    for (int k = 0; k < K; k++) l[k] = (l[k] + 1) / (good + K), g[k] = (g[k] + 1) / (n - good + K);
    for (int c = 0; c < CANDIDATES; c++) {
      double u = mlprt_rng_uniform(seed, 2 * stream, at + (uint64_t)c), cum = 0;
      int k = 0;
      while (k < K - 1 && (cum += l[k]) <= u) k++;
      if (c == 0 || l[k] / g[k] > best) best = l[k] / g[k], pick = s->vals[k];
    }
    free(l);
    free(g);
  } else {
    /* continuous: log values for a log range; an integer range as the
     * reals of [lo - 0.5, hi + 0.5], rounded */
    bool logs = s->kind == MLPRT_TPE_LOG_RANGE, ints = s->kind == MLPRT_TPE_INT_RANGE;
    double a = logs ? log(s->lo) : ints ? s->lo - 0.5 : s->lo;
    double b = logs ? log(s->hi) : ints ? s->hi + 0.5 : s->hi;
    double *pts = malloc((size_t)(n ? n : 1) * sizeof *pts);
    for (int r = 0; r < n; r++) pts[r] = logs ? log(x[order[r]]) : x[order[r]];
    Parzen lz = parzen(pts, good, a, b), gz = parzen(pts + good, n - good, a, b);
    for (int c = 0; c < CANDIDATES; c++) {
      double v = sample(&lz, seed, stream, at + (uint64_t)c);
      double score = log(density(&lz, v)) - log(density(&gz, v));
      if (c == 0 || score > best) best = score, pick = v;
    }
    if (logs) pick = exp(pick);
    if (ints) pick = fmin(fmax(round(pick), s->lo), s->hi);
    free(lz.mu);
    free(lz.sg);
    free(gz.mu);
    free(gz.sg);
    free(pts);
  }
  free(order);
  return pick;
}
