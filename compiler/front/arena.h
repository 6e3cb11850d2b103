/* arena.h — bump allocation for one compilation.
 *
 * Tokens, AST nodes, interned strings and symbol tables live in an MlpArena
 * and are freed together with mlp_arena_free(); no node is freed alone.
 * Allocation failure aborts with a message (callers never test for NULL). */
#ifndef MLP_ARENA_H
#define MLP_ARENA_H

#include <stddef.h>

typedef struct MlpArenaBlock MlpArenaBlock;
typedef struct {
  MlpArenaBlock *head; /* newest block first */
  size_t total;        /* bytes handed out, for --stats and tests */
} MlpArena;

void mlp_arena_init(MlpArena *a);
void mlp_arena_free(MlpArena *a);
void *mlp_arena_alloc(MlpArena *a, size_t n);        /* zeroed, 16-byte aligned */
char *mlp_arena_strndup(MlpArena *a, const char *s, size_t n);
char *mlp_arena_strdup(MlpArena *a, const char *s);
char *mlp_arena_printf(MlpArena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A growable array of pointers kept in the arena (old storage is abandoned
 * to the arena when it grows). */
typedef struct {
  void **items;
  int len, cap;
} MlpVec;
void mlp_vec_push(MlpArena *a, MlpVec *v, void *item);

/* malloc/realloc that abort with a message instead of returning NULL. */
void *mlp_xmalloc(size_t n);
void *mlp_xrealloc(void *p, size_t n);

#endif
