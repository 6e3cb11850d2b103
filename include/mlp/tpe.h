/* tpe.h — the Tree-structured Parzen Estimator of `search = tpe` (Bergstra,
 * Bardenet, Bengio and Kégl, "Algorithms for Hyper-Parameter
 * Optimization", NIPS 2011), one space at a time as hyperopt runs it.
 *
 * A program carries its spaces as text, one line each:
 * "PATH\tKIND\tLOW\tHIGH\tV1,V2,...\n", KIND one of MlprtTpeKind (a list's
 * values after the last tab; a range's LOW and HIGH). */
#ifndef MLP_TPE_H
#define MLP_TPE_H

#include <stdint.h>

typedef enum { MLPRT_TPE_LIST, MLPRT_TPE_RANGE, MLPRT_TPE_INT_RANGE, MLPRT_TPE_LOG_RANGE } MlprtTpeKind;

enum { MLPRT_TPE_MAX_VALUES = 64, MLPRT_TPE_MAX_SPACES = 16 };

typedef struct {
  char path[64];
  MlprtTpeKind kind;
  double lo, hi;
  double vals[MLPRT_TPE_MAX_VALUES];
  int nvals;
} MlprtTpeSpace;

/* The spaces of text into out (at most max); their count, or -1 when a
 * line is malformed. */
int mlprt_tpe_parse(const char *text, MlprtTpeSpace *out, int max);

/* The value space s takes in the next trial, given the n finished trials'
 * values x and losses y (lower is better): of 24 candidates drawn from the
 * density l of the best quarter's values, the one of the largest l / g, g
 * the density of the others' (deterministic for seed, stream and trial). */
double mlprt_tpe_suggest(const MlprtTpeSpace *s, const double *x, const double *y, int n, uint64_t seed,
                         uint64_t stream, uint64_t trial);

#endif
