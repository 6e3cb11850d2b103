/* fuzz_parse.c — libFuzzer entry for the front end (make fuzz).
 *
 * Each input is one source file: it is parsed, checked by sema when it
 * parses, and formatted; when it parses, the formatted text must parse to
 * an equal tree and format to itself again. Diagnostics go to a null
 * stream; sanitizers catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "parse.h"
#include "sema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fmt's text of ast (malloc'd) and its length. */
static char *format(const MlpAst *ast, size_t *len) {
  char *text = NULL;
  FILE *f = open_memstream(&text, len);
  mlp_fmt(ast, f);
  fclose(f);
  return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *sink;
  if (!sink) sink = fopen("/dev/null", "w");
  if (size > 1 << 20) return 0;
  MlpArena arena;
  mlp_arena_init(&arena);
  MlpDiag d;
  mlp_diag_init(&d, sink);
  MlpAst *ast = mlp_parse(&arena, mlp_source_from_string(&arena, "fuzz.mlp", (const char *)data, (int)size), &d);
  if (d.nerr == 0) {
    size_t len1, len2;
    char *once = format(ast, &len1);
    MlpDiag d2;
    mlp_diag_init(&d2, sink);
    MlpAst *again = mlp_parse(&arena, mlp_source_from_string(&arena, "fmt.mlp", once, (int)len1), &d2);
    if (d2.nerr != 0 || !mlp_ast_equal(ast->file, again->file)) abort();
    char *twice = format(again, &len2);
    if (len1 != len2 || memcmp(once, twice, len1) != 0) abort();
    free(once);
    free(twice);
    mlp_sema_check(&arena, ast, &d);
  }
  mlp_arena_free(&arena);
  return 0;
}
