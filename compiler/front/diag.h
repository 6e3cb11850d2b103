/* diag.h — sources, locations and diagnostics.
 *
 * An MlpSource holds one file's text. An MlpLoc is a span in it (1-based
 * lines and columns, columns counted in bytes, last_column inclusive); it is
 * also the parser's location type. MlpDiag prints GNU-style messages
 *
 *   FILE:LINE:COL: error: MESSAGE
 *      12 |   optimizer = adamw2(lr = 0.001)
 *         |               ^~~~~~
 *
 * counts errors and warnings, and stops reporting after max_errors errors. */
#ifndef MLP_DIAG_H
#define MLP_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"

typedef struct {
  const char *name; /* path as given by the user, "<stdin>" for stdin */
  char *text;       /* NUL-terminated contents (may also contain NULs) */
  int len;
  int *line_off;    /* byte offset of each line start, line_off[0] = line 1 */
  int nlines;
} MlpSource;

typedef struct {
  const MlpSource *src;
  int first_line, first_column, last_line, last_column;
} MlpLoc;

typedef enum { MLP_DIAG_ERROR, MLP_DIAG_WARNING, MLP_DIAG_NOTE } MlpDiagKind;

typedef struct {
  FILE *out;       /* stderr by default */
  int nerr, nwarn;
  int max_errors;  /* stop reporting (and let stages stop) after this many; 20 */
  bool color;      /* ANSI colours; on when out is a terminal */
  bool suppressed; /* max_errors reached: the note is printed, nothing more is */
} MlpDiag;

/* Read a file ("-" for stdin) into the arena. Returns NULL with errno set. */
MlpSource *mlp_source_read(MlpArena *a, const char *path);
/* A source from memory (tests, the fuzzer); the text is copied. */
MlpSource *mlp_source_from_string(MlpArena *a, const char *name, const char *text, int len);
/* The text of line n (1-based) without its newline; *len receives its length. */
const char *mlp_source_line(const MlpSource *s, int n, int *len);
/* Location of byte offset off (start) to off+len-1 (end). */
MlpLoc mlp_source_loc(const MlpSource *s, int off, int len);

void mlp_diag_init(MlpDiag *d, FILE *out);
void mlp_diag_error(MlpDiag *d, MlpLoc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void mlp_diag_warning(MlpDiag *d, MlpLoc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void mlp_diag_note(MlpDiag *d, MlpLoc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An error that belongs to no place in a source (a missing file, say). */
void mlp_diag_plain(MlpDiag *d, MlpDiagKind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* True when no more errors will be reported: stages stop early. */
bool mlp_diag_full(const MlpDiag *d);

/* Levenshtein distance, and the closest of n candidates to word within a
 * length-scaled bound, or NULL: the "did you mean" helper every stage uses. */
int mlp_edit_distance(const char *a, const char *b);
const char *mlp_closest(const char *word, const char *const *cands, int n);

/* For stages that report to a caller's buffer rather than to a MlpDiag:
 * format the message into err (n bytes) and return -1. */
int mlp_failf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
