/* fail.c — how the runtime stops on a broken invariant (see the MLPRT_CHECK
 * and MLPRT_FATAL macros of include/mlp/tensor.h): the place and the
 * message on standard error, then abort. Kept apart from the arena and the
 * thread budget so that a predictor's runtime, which has no BLAS, can link
 * it on its own. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mlp/tensor.h"

void mlprt_check_failed(const char *file, int line, const char *cond, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "mlprt: %s:%d: check failed: %s: ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

void mlprt_fatal(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "mlprt: %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}
