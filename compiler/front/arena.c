/* arena.c — bump allocation for one compilation (see arena.h). */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct MlpArenaBlock {
  MlpArenaBlock *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

void *mlp_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "mlpc: out of memory allocating %zu bytes\n", n);
    abort();
  }
  return p;
}

void *mlp_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "mlpc: out of memory allocating %zu bytes\n", n);
    abort();
  }
  return q;
}

void mlp_arena_init(MlpArena *a) { a->head = NULL, a->total = 0; }

void mlp_arena_free(MlpArena *a) {
  for (MlpArenaBlock *b = a->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  a->head = NULL, a->total = 0;
}

void *mlp_arena_alloc(MlpArena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  MlpArenaBlock *b = a->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 64 * 1024 ? n : 64 * 1024;
    b = mlp_xmalloc(sizeof *b + cap);
    b->used = 0, b->cap = cap, b->next = a->head;
    a->head = b;
  }
  void *p = b->data + b->used;
  b->used += n;
  a->total += n;
  memset(p, 0, n);
  return p;
}

char *mlp_arena_strndup(MlpArena *a, const char *s, size_t n) {
  char *p = mlp_arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *mlp_arena_strdup(MlpArena *a, const char *s) { return mlp_arena_strndup(a, s, strlen(s)); }

char *mlp_arena_printf(MlpArena *a, const char *fmt, ...) {
  va_list ap, aq;
  va_start(ap, fmt);
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = mlp_arena_alloc(a, (size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, aq);
  va_end(aq);
  return p;
}

void mlp_vec_push(MlpArena *a, MlpVec *v, void *item) {
  if (v->len == v->cap) {
    int cap = v->cap ? v->cap * 2 : 8;
    void **items = mlp_arena_alloc(a, sizeof(void *) * (size_t)cap);
    if (v->len) memcpy(items, v->items, sizeof(void *) * (size_t)v->len);
    v->items = items, v->cap = cap;
  }
  v->items[v->len++] = item;
}
