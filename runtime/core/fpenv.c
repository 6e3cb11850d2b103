/* fpenv.c — subnormal floats flushed to zero (fpenv.h). */
#include "mlp/fpenv.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

void mlprt_fp_flush_subnormals(void) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(_mm_getcsr() | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1ul << 24))); /* FZ */
#endif
}
