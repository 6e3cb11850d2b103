/* malloc_count.c — a preload library for the e2e suite: counts the heap
 * allocations of a process (malloc, calloc, realloc, aligned allocations)
 * and writes the count to the file named by $MLP_MALLOC_COUNT at exit.
 * The suite compiles it with cc when it runs; it is not part of the build. */
#include <stdio.h>
#include <stdlib.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);

static unsigned long count;

void *malloc(size_t n) {
  count++;
  return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
  count++;
  return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
  count++;
  return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n) {
  count++;
  return __libc_memalign(align, n);
}

__attribute__((destructor)) static void report(void) {
  unsigned long c = count; /* before fopen allocates */
  const char *path = getenv("MLP_MALLOC_COUNT");
  FILE *f = path ? fopen(path, "w") : NULL;
  if (f) {
    fprintf(f, "%lu\n", c);
    fclose(f);
  }
}
