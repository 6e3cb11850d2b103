/* diag.c — sources, locations and diagnostics (see diag.h). */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void index_lines(MlpArena *a, MlpSource *s) {
  int n = 1;
  for (int i = 0; i < s->len; i++)
    if (s->text[i] == '\n') n++;
  s->line_off = mlp_arena_alloc(a, sizeof(int) * (size_t)(n + 1));
  s->nlines = 0;
  s->line_off[s->nlines++] = 0;
  for (int i = 0; i < s->len; i++)
    if (s->text[i] == '\n') s->line_off[s->nlines++] = i + 1;
  s->line_off[s->nlines] = s->len + 1; /* sentinel: one past the last line */
}

MlpSource *mlp_source_from_string(MlpArena *a, const char *name, const char *text, int len) {
  MlpSource *s = mlp_arena_alloc(a, sizeof *s);
  s->name = mlp_arena_strdup(a, name);
  s->text = mlp_arena_strndup(a, text, (size_t)len);
  s->len = len;
  index_lines(a, s);
  return s;
}

MlpSource *mlp_source_read(MlpArena *a, const char *path) {
  int is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *buf = mlp_xmalloc(cap);
  for (;;) {
    if (len == cap) buf = mlp_xrealloc(buf, cap *= 2);
    size_t n = fread(buf + len, 1, cap - len, f);
    if (n == 0) break;
    len += n;
  }
  int err = ferror(f) ? errno : 0;
  if (!is_stdin) fclose(f);
  if (err || len > (size_t)1 << 30) {
    free(buf);
    errno = err ? err : EFBIG;
    return NULL;
  }
  MlpSource *s = mlp_source_from_string(a, is_stdin ? "<stdin>" : path, buf, (int)len);
  free(buf);
  return s;
}

const char *mlp_source_line(const MlpSource *s, int n, int *len) {
  if (n < 1 || n > s->nlines) {
    *len = 0;
    return "";
  }
  int start = s->line_off[n - 1], end = s->line_off[n] - 1;
  if (end > s->len) end = s->len;
  if (end > start && s->text[end - 1] == '\r') end--;
  *len = end - start;
  return s->text + start;
}

static int line_of(const MlpSource *s, int off) {
  int lo = 0, hi = s->nlines - 1; /* last line start <= off */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (s->line_off[mid] <= off) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

MlpLoc mlp_source_loc(const MlpSource *s, int off, int len) {
  MlpLoc l = {s, 0, 0, 0, 0};
  int end = off + (len > 0 ? len - 1 : 0);
  l.first_line = line_of(s, off);
  l.first_column = off - s->line_off[l.first_line - 1] + 1;
  l.last_line = line_of(s, end);
  l.last_column = end - s->line_off[l.last_line - 1] + 1;
  return l;
}

void mlp_diag_init(MlpDiag *d, FILE *out) {
  memset(d, 0, sizeof *d);
  d->out = out;
  d->max_errors = 20;
  d->color = isatty(fileno(out)) && !getenv("NO_COLOR");
}

bool mlp_diag_full(const MlpDiag *d) { return d->nerr >= d->max_errors; }

static const char *kind_name[] = {"error", "warning", "note"};
static const char *kind_color[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};

/* The source line, then a caret under the first column and tildes under the
 * rest of the span (to the end of the line when it spans several). Tabs in
 * the source are copied into the caret line so the caret stays aligned. */
static void show_span(MlpDiag *d, MlpLoc at) {
  int len;
  const char *line = mlp_source_line(at.src, at.first_line, &len);
  fprintf(d->out, "%5d | %.*s\n      | ", at.first_line, len, line);
  int first = at.first_column < 1 ? 1 : at.first_column;
  int last = at.last_line == at.first_line ? at.last_column : len;
  if (last < first) last = first;
  for (int c = 1; c < first; c++) fputc(c <= len && line[c - 1] == '\t' ? '\t' : ' ', d->out);
  if (d->color) fputs("\033[1;32m", d->out);
  fputc('^', d->out);
  for (int c = first + 1; c <= last && c <= len; c++) fputc('~', d->out);
  if (d->color) fputs("\033[0m", d->out);
  fputc('\n', d->out);
}

static void report(MlpDiag *d, MlpDiagKind kind, const MlpLoc *at, const char *fmt, va_list ap) {
  if (kind == MLP_DIAG_ERROR) d->nerr++;
  if (kind == MLP_DIAG_WARNING) d->nwarn++;
  if (d->suppressed) return;
  if (d->color) fputs("\033[1m", d->out);
  if (at && at->src) fprintf(d->out, "%s:%d:%d: ", at->src->name, at->first_line, at->first_column);
  else fputs("mlpc: ", d->out);
  if (d->color) fputs(kind_color[kind], d->out);
  fprintf(d->out, "%s: ", kind_name[kind]);
  if (d->color) fputs("\033[0;1m", d->out);
  vfprintf(d->out, fmt, ap);
  if (d->color) fputs("\033[0m", d->out);
  fputc('\n', d->out);
  if (at && at->src && at->first_line >= 1) show_span(d, *at);
  if (kind == MLP_DIAG_ERROR && d->nerr == d->max_errors) {
    d->suppressed = true;
    fprintf(d->out, "mlpc: note: stopping after %d errors (--max-errors=N to change)\n", d->max_errors);
  }
}

#define DIAG_FN(fn, kind)                                        \
  void fn(MlpDiag *d, MlpLoc at, const char *fmt, ...) {         \
    va_list ap;                                                  \
    va_start(ap, fmt);                                           \
    report(d, kind, &at, fmt, ap);                               \
    va_end(ap);                                                  \
  }
DIAG_FN(mlp_diag_error, MLP_DIAG_ERROR)
DIAG_FN(mlp_diag_warning, MLP_DIAG_WARNING)
DIAG_FN(mlp_diag_note, MLP_DIAG_NOTE)

void mlp_diag_plain(MlpDiag *d, MlpDiagKind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(d, kind, NULL, fmt, ap);
  va_end(ap);
}

int mlp_edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 64 || lb > 64) return 1 << 20;
  int row[65];
  for (int j = 0; j <= lb; j++) row[j] = j;
  for (int i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= lb; j++) {
      int up = row[j];
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int best = diag + cost;
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *mlp_closest(const char *word, const char *const *cands, int n) {
  const char *best = NULL;
  int best_d = 1 << 20;
  int bound = (int)strlen(word) / 3 + 1; /* allow about one typo per three letters */
  for (int i = 0; i < n; i++) {
    int dist = mlp_edit_distance(word, cands[i]);
    if (dist < best_d) best_d = dist, best = cands[i];
  }
  return best_d <= bound ? best : NULL;
}

int mlp_failf(char *err, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
  return -1;
}
