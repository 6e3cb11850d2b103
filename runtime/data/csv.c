/* csv.c — the RFC 4180 CSV loader: quoted fields, doubled quotes, embedded
 * newlines, CRLF, a UTF-8 BOM and any one-byte delimiter.
 *
 * Consumes a file path; produces a schema (mlprt_csv_infer) or a typed
 * table (mlprt_csv_load). The file streams through one buffer (8 MiB per
 * thread, grown only for a record longer than that, up to max_record), or,
 * when it is a regular file larger than that, through a window of the same
 * size over a private mapping of it; either way it is never in memory twice.
 * Each buffer or window is cut at newlines into a few segments per
 * thread, and the threads take segments as they come free, parsing each
 * into a private table. A cut may fall inside a quoted field; thread k knows it did
 * when thread k-1's last record ends somewhere other than the cut, and then
 * the work past thread k-1 is discarded and parsed again in the next round,
 * so speculation never changes results. Completely empty lines are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_int.h"

#define BLOCK ((size_t)8 << 20)
#define MIN_SEGMENT ((size_t)1 << 20) /* smaller buffers are parsed by one thread */
/* Segments per thread and round: enough to even out a core that another
 * process holds up, few enough that each segment's columns (a few hundred
 * kilobytes) are mapped apart from the heap and go back when the load ends */
#define SEGMENTS_PER_THREAD 2
#define INFER_BLOCK ((size_t)1 << 20) /* inference reads a prefix: a small buffer that grows if it must */
#define PAD 16 /* bytes allocated past a buffer's capacity: the sentinel, and 8-byte reads */
#define CACHE 256 /* category cache entries per column */

/* A recent category value of at most 8 bytes and its code in a segment's
 * table: most cells then cost one 8-byte compare instead of a hash lookup. */
typedef struct {
  uint64_t w; /* the bytes, zero-padded */
  int32_t code;
  uint8_t len; /* 0: empty entry */
} CatCache;

typedef struct {
  const char *s;
  uint32_t len;
  bool esc; /* holds doubled quotes that must be unescaped */
} Field;

typedef struct {
  Field *f;
  int n, cap;
} Fields;

static void fields_push(Fields *fs, const char *s, size_t len, bool esc) {
  if (fs->n == fs->cap) {
    fs->cap = fs->cap ? fs->cap * 2 : 16;
    fs->f = mlprt_xrealloc(fs->f, (size_t)fs->cap * sizeof *fs->f);
  }
  fs->f[fs->n++] = (Field){s, (uint32_t)len, esc};
}

enum { REC_OK, REC_INCOMPLETE, REC_ERROR };
#define NUL_IN_FIELD "a NUL byte in the field"

typedef struct {
  int status;
  const char *next; /* REC_OK: start of the next record */
  int nl;           /* newlines in the record, terminator included */
  int err_field;    /* REC_ERROR: 0-based field */
  const char *err;
} RecResult;

/* Tokenize the record at p; buf[end] is readable (a sentinel). Fields point
 * into the buffer. At EOF a record never is incomplete. */
static RecResult tokenize(const char *p, const char *end, bool eof, char delim, const uint8_t *stop,
                          Fields *fs) {
  RecResult r = {REC_OK, NULL, 0, 0, NULL};
  fs->n = 0;
  for (;;) {
    if (p < end && *p == '"') {
      const char *q = p + 1;
      bool esc = false;
      for (;;) {
        const char *hit = memchr(q, '"', (size_t)(end - q));
        if (!hit) {
          r.status = eof ? REC_ERROR : REC_INCOMPLETE;
          r.err = "unterminated quoted field";
          r.err_field = fs->n;
          return r;
        }
        if (hit + 1 < end && hit[1] == '"') {
          esc = true;
          q = hit + 2;
          continue;
        }
        if (hit + 1 == end && !eof) {
          r.status = REC_INCOMPLETE;
          return r;
        }
        q = hit;
        break;
      }
      for (const char *n = p + 1; (n = memchr(n, '\n', (size_t)(q - n))); n++) r.nl++;
      if (memchr(p + 1, 0, (size_t)(q - p - 1))) {
        r.status = REC_ERROR;
        r.err = NUL_IN_FIELD;
        r.err_field = fs->n;
        return r;
      }
      fields_push(fs, p + 1, (size_t)(q - p - 1), esc);
      p = q + 1;
      if (p < end && *p != delim && *p != '\n' && *p != '\r') {
        r.status = REC_ERROR;
        r.err = "unexpected character after a closing quote";
        r.err_field = fs->n - 1;
        return r;
      }
    } else {
      const char *s = p;
      while (!stop[(uint8_t)*p]) p++; /* the sentinel at *end stops it */
      if (!*p && p < end) { /* a NUL byte: never a silently shortened value */
        r.status = REC_ERROR;
        r.err = NUL_IN_FIELD;
        r.err_field = fs->n;
        return r;
      }
      fields_push(fs, s, (size_t)(p - s), false);
    }
    if (p >= end) {
      if (!eof) {
        r.status = REC_INCOMPLETE;
        return r;
      }
      r.next = end;
      return r;
    }
    if (*p == delim) {
      p++;
      continue;
    }
    if (*p == '\r') {
      if (p + 1 == end && !eof) {
        r.status = REC_INCOMPLETE;
        return r;
      }
      p += p + 1 < end && p[1] == '\n' ? 2 : 1;
    } else {
      p++;
    }
    r.nl++;
    r.next = p;
    return r;
  }
}

/* ---- the streaming reader ---- */

typedef struct {
  const char *path;
  int fd;
  char *buf;           /* [cap + PAD]: a sentinel byte after the data, and room for 8-byte reads */
  size_t cap, len, pos;
  size_t map_span;     /* 0, or bytes mapped when buf is a private mapping of the whole file */
  bool eof;
  size_t max_record;
  char delim;
  uint8_t stop[256];   /* bytes that end an unquoted field */
  int64_t row;         /* data rows consumed so far */
  int64_t line;        /* physical line of the next record (1-based) */
  int64_t consumed;    /* bytes of the records returned so far */
  Fields fields;
} Reader;

static int reader_fill(Reader *rd, MlprtError *err) {
  if (rd->pos) {
    memmove(rd->buf, rd->buf + rd->pos, rd->len - rd->pos);
    rd->len -= rd->pos;
    rd->pos = 0;
  }
  while (!rd->eof && rd->len < rd->cap) {
    ssize_t k = read(rd->fd, rd->buf + rd->len, rd->cap - rd->len);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      mlprt_error_set(err, rd->path, 0, 0, 0, NULL, "read failed: %s", strerror(errno));
      return -1;
    }
    if (k == 0) rd->eof = true;
    rd->len += (size_t)k;
  }
  rd->buf[rd->len] = '\n'; /* sentinel for the unquoted-field scan */
  return 0;
}

/* Move the unread data into a new buffer of cap bytes (more than before). */
static void reader_grow(Reader *rd, size_t cap) {
  char *buf = mlprt_scratch_alloc(cap + PAD);
  memcpy(buf, rd->buf + rd->pos, rd->len - rd->pos);
  mlprt_scratch_free(rd->buf, rd->cap + PAD);
  rd->len -= rd->pos;
  rd->pos = 0;
  rd->buf = buf;
  rd->cap = cap;
}

/* Make room for a record that does not fit: compact, else grow up to the
 * record limit. */
static int reader_more(Reader *rd, MlprtError *err) {
  if (rd->len - rd->pos > rd->max_record) {
    mlprt_error_set(err, rd->path, rd->row + 1, rd->line, 0, NULL,
                    "record longer than the limit of %zu bytes (max_record)", rd->max_record);
    return -1;
  }
  if (rd->pos == 0 && rd->len == rd->cap) {
    size_t cap = rd->cap * 2;
    if (cap > rd->max_record + 1) cap = rd->max_record + 1;
    if (cap <= rd->cap) cap = rd->cap + 1;
    reader_grow(rd, cap);
  }
  return reader_fill(rd, err);
}

/* A mapped file that shrinks while it is parsed (another process truncates
 * it) faults on its lost pages with SIGBUS. While a mapping is parsed, that
 * signal ends the program with an error naming the file instead of a
 * crash. The handler only calls async-signal-safe functions. */
static const char *volatile mapped_path;
static struct sigaction saved_sigbus;

static void on_sigbus(int sig) {
  static const char head[] = "mlprt: error: ", tail[] = ": the file shrank while it was being read\n";
  const char *path = mapped_path;
  (void)sig;
  if (write(2, head, sizeof head - 1) >= 0 && (!path || write(2, path, strlen(path)) >= 0))
    (void)!write(2, tail, sizeof tail - 1);
  _exit(1);
}

static void reader_close(Reader *rd) {
  if (rd->fd >= 0) close(rd->fd);
  if (rd->map_span) {
    sigaction(SIGBUS, &saved_sigbus, NULL);
    mapped_path = NULL;
  }
  if (rd->map_span) munmap(rd->buf, rd->map_span);
  else mlprt_scratch_free(rd->buf, rd->cap + PAD);
  free(rd->fields.f);
}

/* The next record's fields (into rd->fields), skipping empty lines. Returns
 * 1, 0 at end of file, or -1. */
static int reader_next(Reader *rd, MlprtError *err) {
  for (;;) {
    if (rd->pos == rd->len && rd->eof) return 0;
    RecResult r = tokenize(rd->buf + rd->pos, rd->buf + rd->len, rd->eof, rd->delim, rd->stop, &rd->fields);
    if (r.status == REC_INCOMPLETE) {
      if (reader_more(rd, err)) return -1;
      continue;
    }
    if (r.status == REC_ERROR) {
      mlprt_error_set(err, rd->path, rd->row + 1, rd->line, r.err_field + 1, NULL, "%s", r.err);
      return -1;
    }
    size_t used = (size_t)(r.next - (rd->buf + rd->pos));
    if (used > rd->max_record) {
      mlprt_error_set(err, rd->path, rd->row + 1, rd->line, 0, NULL,
                      "record longer than the limit of %zu bytes (max_record)", rd->max_record);
      return -1;
    }
    bool blank = rd->fields.n == 1 && rd->fields.f[0].len == 0 && !rd->fields.f[0].esc &&
                 rd->buf[rd->pos] != '"';
    rd->pos += used;
    rd->consumed += (int64_t)used;
    rd->line += r.nl;
    if (blank) continue;
    rd->row++;
    return 1;
  }
}

/* Unescape doubled quotes of f into scratch when needed. */
static const char *field_text(const Field *f, char **scratch, size_t *scap, size_t *len) {
  *len = f->len;
  if (!f->esc) return f->s;
  if (*scap < f->len + 1) {
    *scap = f->len + 1;
    *scratch = mlprt_xrealloc(*scratch, *scap);
  }
  size_t k = 0;
  for (size_t i = 0; i < f->len; i++) {
    (*scratch)[k++] = f->s[i];
    if (f->s[i] == '"') i++;
  }
  *len = k;
  return *scratch;
}

/* Open the file with a read buffer of about `block` bytes, skip a BOM and
 * skip_lines lines, and read the header (or name the columns). */
static int reader_open(Reader *rd, const char *path, const MlprtLoadOpts *o, size_t block, char ***names,
                       int *ncols, MlprtError *err) {
  memset(rd, 0, sizeof *rd);
  rd->path = path;
  rd->fd = open(path, O_RDONLY);
  rd->line = 1;
  rd->max_record = o && o->max_record ? o->max_record : MLPRT_MAX_RECORD_DEFAULT;
  size_t plen = strlen(path);
  rd->delim = o && o->delim ? o->delim : plen > 4 && !strcmp(path + plen - 4, ".tsv") ? '\t' : ',';
  rd->stop[(uint8_t)rd->delim] = rd->stop['\n'] = rd->stop['\r'] = rd->stop[0] = 1; /* NUL: an error */
  *names = NULL;
  *ncols = 0;
  if (rd->fd < 0) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "cannot open: %s", strerror(errno));
    return -1;
  }
  rd->cap = block;
  if (rd->cap > rd->max_record + 1) rd->cap = rd->max_record + 1 > block ? rd->max_record + 1 : block;
  rd->buf = mlprt_scratch_alloc(rd->cap + PAD);
  if (reader_fill(rd, err)) return -1;
  if (rd->len >= 3 && memcmp(rd->buf, "\xEF\xBB\xBF", 3) == 0) rd->pos = 3;
  for (int i = 0; o && i < o->skip_lines; i++) {
    char *nl;
    while (!(nl = memchr(rd->buf + rd->pos, '\n', rd->len - rd->pos))) {
      if (rd->eof) {
        rd->pos = rd->len;
        break;
      }
      if (reader_more(rd, err)) return -1;
    }
    if (nl) rd->pos = (size_t)(nl + 1 - rd->buf), rd->line++;
  }
  if (o && o->no_header) {
    int n = o->nnames;
    /* count the first record's fields without consuming it: refills only
     * compact, so the record always starts at rd->pos */
    while (!n && !(rd->pos == rd->len && rd->eof)) {
      RecResult r = tokenize(rd->buf + rd->pos, rd->buf + rd->len, rd->eof, rd->delim, rd->stop, &rd->fields);
      if (r.status == REC_ERROR) {
        mlprt_error_set(err, path, 1, rd->line, r.err_field + 1, NULL, "%s", r.err);
        return -1;
      }
      if (r.status == REC_OK) n = rd->fields.n;
      else if (reader_more(rd, err)) return -1;
    }
    if (!n) {
      mlprt_error_set(err, path, 0, 0, 0, NULL, "empty file: no data");
      return -1;
    }
    *names = mlprt_xmalloc((size_t)n * sizeof **names);
    for (int i = 0; i < n; i++) {
      char tmp[32];
      snprintf(tmp, sizeof tmp, "c%d", i + 1);
      (*names)[i] = i < o->nnames ? mlprt_xstrndup(o->names[i], strlen(o->names[i]))
                                  : mlprt_xstrndup(tmp, strlen(tmp));
    }
    *ncols = n;
    return 0;
  }
  int rc = reader_next(rd, err);
  if (rc <= 0) {
    if (rc == 0) mlprt_error_set(err, path, 0, 0, 0, NULL, "empty file: no header");
    return -1;
  }
  rd->row = 0; /* the header is not a data row */
  rc = 0;
  int n = rd->fields.n;
  char **nm = mlprt_xcalloc((size_t)n, sizeof *nm);
  char *scratch = NULL;
  size_t scap = 0;
  for (int i = 0; i < n; i++) {
    size_t len;
    const char *s = field_text(&rd->fields.f[i], &scratch, &scap, &len);
    if (mlprt_utf8_valid_prefix(s, len) != len) {
      mlprt_error_set(err, path, 0, rd->line - 1, i + 1, NULL, "header: invalid UTF-8 in a column name");
      rc = -1;
    } else if (len == 0) {
      char tmp[32];
      snprintf(tmp, sizeof tmp, "c%d", i + 1);
      nm[i] = mlprt_xstrndup(tmp, strlen(tmp));
    } else {
      nm[i] = mlprt_xstrndup(s, len);
    }
    for (int j = 0; rc == 0 && j < i; j++) {
      if (strcmp(nm[j], nm[i]) == 0) {
        mlprt_error_set(err, path, 0, rd->line - 1, i + 1, nm[i], "header: duplicate column name");
        rc = -1;
      }
    }
    if (rc) break;
  }
  free(scratch);
  if (rc) {
    for (int i = 0; i < n; i++) free(nm[i]);
    free(nm);
    return -1;
  }
  *names = nm;
  *ncols = n;
  return 0;
}

static void ragged_error(MlprtError *err, const char *path, int64_t row, int64_t line, int ncols, int got,
                         char **names) {
  int col = got < ncols ? got + 1 : ncols + 1;
  mlprt_error_set(err, path, row, line, col, col <= ncols ? names[col - 1] : NULL,
                  "expected %d fields, found %d", ncols, got);
}

/* ---- inference ---- */

int mlprt_csv_infer(const char *path, const MlprtLoadOpts *o, MlprtSchema *out, MlprtError *err) {
  Reader rd;
  char **names;
  int ncols;
  if (reader_open(&rd, path, o, INFER_BLOCK, &names, &ncols, err)) {
    reader_close(&rd);
    return -1;
  }
  int64_t limit = o && o->scan_rows ? o->scan_rows : MLPRT_SCAN_ROWS_DEFAULT;
  int max_levels = mlprt_opt_max_levels(o);
  int64_t header_bytes = rd.consumed;
  MlprtNaSet na;
  mlprt_na_init(&na, o);
  MlprtInferCol *ic = mlprt_xcalloc((size_t)ncols, sizeof *ic);
  int *decl = mlprt_xmalloc((size_t)ncols * sizeof *decl);
  for (int i = 0; i < ncols; i++) decl[i] = mlprt_decl_type(o, names[i]);
  char *scratch = NULL;
  size_t scap = 0;
  int rc = 0;
  bool complete = true;
  for (;;) {
    if (limit >= 0 && rd.row >= limit) {
      complete = rd.pos == rd.len && rd.eof;
      break;
    }
    int64_t line = rd.line;
    int k = reader_next(&rd, err);
    if (k <= 0) {
      if (k < 0 && err && err->col >= 1 && err->col <= ncols) /* name the column the reader could not */
        snprintf(err->column, sizeof err->column, "%s", names[err->col - 1]);
      rc = k;
      break;
    }
    if (rd.fields.n != ncols) {
      ragged_error(err, path, rd.row, line, ncols, rd.fields.n, names);
      rc = -1;
      break;
    }
    for (int i = 0; i < ncols && !rc; i++) {
      size_t len;
      const char *s = field_text(&rd.fields.f[i], &scratch, &scap, &len);
      if (mlprt_na_match(&na, s, len)) {
        ic[i].nmissing++;
      } else if (mlprt_utf8_valid_prefix(s, len) != len) {
        mlprt_error_set(err, path, rd.row, line, i + 1, names[i], "invalid UTF-8");
        rc = -1;
      } else if (mlprt_infer_add(&ic[i], s, len, max_levels, decl[i])) {
        mlprt_error_set(err, path, rd.row, line, i + 1, names[i],
                        "value '%.*s' does not fit the declared type %s", len > 40 ? 40 : (int)len, s,
                        mlprt_col_type_name((MlprtColType)decl[i]));
        rc = -1;
      }
    }
    if (rc) break;
  }
  free(scratch);
  free(decl);
  if (!rc && rd.row == 0) {
    for (int i = 0; i < ncols && !rc; i++) {
      if (mlprt_decl_type(o, names[i]) < 0) {
        mlprt_error_set(err, path, 0, 0, i + 1, names[i], "no data rows to infer the column's type from");
        rc = -1;
      }
    }
  }
  if (!rc) {
    mlprt_infer_finish(ic, names, ncols, o, rd.row, complete, out);
    out->bytes = rd.consumed - header_bytes;
  } else {
    for (int i = 0; i < ncols; i++) free(names[i]), mlprt_levels_free(&ic[i].levels);
  }
  free(ic);
  free(names);
  reader_close(&rd);
  return rc ? -1 : 0;
}

/* ---- parallel loading ---- */

/* Replace the read buffer by a private mapping of the whole regular file,
 * positioned where the buffer was: the parser threads then take the bytes
 * straight from the page cache, with no copy into a buffer and no reading
 * between rounds while a core waits. Anonymous pages behind the file's end
 * give the sentinel and the 8-byte reads their room (writing the sentinel
 * copies one page). Returns false, leaving the reader as it was, when the
 * file is not regular, already fully read, or cannot be mapped. */
static bool reader_map(Reader *rd) {
  struct stat st;
  if (rd->eof || fstat(rd->fd, &st) || !S_ISREG(st.st_mode)) return false;
  off_t at = lseek(rd->fd, 0, SEEK_CUR);
  size_t size = (size_t)st.st_size, page = (size_t)sysconf(_SC_PAGESIZE);
  if (at < 0 || (size_t)at > size || (size_t)at < rd->len - rd->pos) return false;
  size_t span = (size + PAD + page) / page * page;
  char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return false;
  if (mmap(m, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, rd->fd, 0) == MAP_FAILED) {
    munmap(m, span);
    return false;
  }
  madvise(m, size, MADV_SEQUENTIAL);
  struct sigaction sa = {.sa_handler = on_sigbus};
  sigemptyset(&sa.sa_mask);
  mapped_path = rd->path;
  sigaction(SIGBUS, &sa, &saved_sigbus);
  m[size] = '\n';
  mlprt_scratch_free(rd->buf, rd->cap + PAD);
  rd->pos = (size_t)at - (rd->len - rd->pos);
  rd->buf = m;
  rd->len = size;
  rd->map_span = span;
  rd->eof = true;
  return true;
}

typedef struct {
  /* shared, read-only */
  const char *path;
  const MlprtSchema *schema;
  const MlprtNaSet *na;
  char delim;
  const uint8_t *stop;
  const char *end;   /* end of the buffered data */
  bool eof;
  size_t max_record;
  bool fast;         /* try fast_record first (no numeric missing-value token) */
  bool empty_na;     /* "" is a missing-value token */
  CatCache *cache;   /* [ncols * CACHE] */
  /* this segment */
  const char *start, *lim; /* parse records that start in [start, lim) */
  MlprtTable tab;          /* rows parsed, codes local to tab's levels */
  int64_t lines;           /* physical lines consumed */
  const char *stopped;     /* where the first unparsed record starts */
  Fields fields;
  char *scratch;
  size_t scap;
  int err;                 /* 0, -1, or MLPRT_ERR_RETYPE */
  int64_t err_row, err_line; /* relative to the segment: 1-based row, 0-based line */
  int err_col;
  char err_msg[200];
} Segment;

static void segment_error(Segment *sg, int code, int64_t line, int col, const char *fmt, const char *what,
                          size_t len) {
  sg->err = code;
  sg->err_row = sg->tab.nrows + 1;
  sg->err_line = line;
  sg->err_col = col;
  snprintf(sg->err_msg, sizeof sg->err_msg, fmt, len > 40 ? 40 : (int)len, what);
}

/* True when the four bytes at q are all digits, with their value in *v:
 * fractions usually have a fixed width, and four digits then cost one test
 * and two multiplies instead of four trips round the byte loop. The bytes
 * are read in text order whatever the machine's byte order (the compiler
 * makes it one load). */
static inline bool digits4(const char *q, uint32_t *v) {
  const uint8_t *u = (const uint8_t *)q;
  uint32_t w = (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
  /* every byte 0x30..0x39: high nibble 3, and adding 6 leaves it 3 */
  if ((w & 0xf0f0f0f0u) != 0x30303030u || ((w + 0x06060606u) & 0xf0f0f0f0u) != 0x30303030u) return false;
  w -= 0x30303030u;                          /* bytes d0 d1 d2 d3, d0 the first digit */
  w = (w * 10 + (w >> 8)) & 0x00ff00ffu;     /* 10 d0 + d1 and 10 d2 + d3 */
  *v = (w * 100 + (w >> 16)) & 0xffffu;
  return true;
}

/* The common record in one pass: no quotes, numbers in plain decimal
 * notation, exactly the expected fields. Returns the start of the next
 * record, or NULL when the record needs the general path, which then sets
 * every cell again: a partial attempt only leaves text it appended, and
 * that is taken back here. Numbers come out exactly as mlprt_parse_double
 * makes them (the same exact-double fast path). */
static const char *fast_record(Segment *sg, const char *p, int64_t row) {
  /* locals, since a store through a char pointer could change sg's fields
   * as far as the compiler knows, and they would be read again per field */
  const char *start = p, *end = sg->end, delim = sg->delim;
  const uint8_t *stop = sg->stop;
  MlprtColumn *cols = sg->tab.cols;
  int ncols = sg->schema->ncols, i;
  if (*p == '\n' || *p == '\r') return NULL; /* empty lines are skipped by the general path */
  for (i = 0; i < ncols; i++) {
    MlprtColumn *c = &cols[i];
    if (c->type == MLPRT_COL_FLOAT || c->type == MLPRT_COL_INT) {
      const char *q = p;
      bool neg = *q == '-';
      q += neg;
      uint64_t mant = 0;
      const char *d0 = q;
      while ((unsigned)(*q - '0') < 10) mant = mant * 10 + (uint64_t)(*q++ - '0');
      int nint = (int)(q - d0), nfrac = 0;
      if (*q == '.' && c->type == MLPRT_COL_FLOAT) {
        const char *f0 = ++q;
        uint32_t w;
        while (digits4(q, &w)) mant = mant * 10000 + w, q += 4;
        while ((unsigned)(*q - '0') < 10) mant = mant * 10 + (uint64_t)(*q++ - '0');
        nfrac = (int)(q - f0);
      }
      if (nint + nfrac == 0) {
        if (q != p || !sg->empty_na) break; /* a lone sign, or "" is not missing */
        c->f[row] = NAN;
      } else {
        if (nint + nfrac > 19 || mant >= (UINT64_C(1) << 53)) break; /* so nfrac <= 19 < 23 */
        double v = (double)mant / mlprt_pow10[nfrac];
        c->f[row] = (float)(neg ? -v : v);
      }
      p = q;
    } else {
      if (*p == '"') break;
      const char *f0 = p, *why;
      while (!stop[(uint8_t)*p]) p++;
      size_t len = (size_t)(p - f0);
      CatCache *e = NULL;
      uint64_t w = 0;
      if (c->type == MLPRT_COL_CATEGORY && len >= 1 && len <= 8) {
        memcpy(&w, f0, 8); /* the buffer's padding keeps this in bounds */
        if (len < 8) w &= (UINT64_C(1) << (8 * len)) - 1;
        e = &sg->cache[i * CACHE + (int)(w * UINT64_C(0x9e3779b97f4a7c15) >> 56)];
        if (e->len == len && e->w == w) {
          c->codes[row] = e->code;
          e = NULL;
          goto delimiter;
        }
      }
      if (mlprt_cell_from_text(&sg->tab, i, row, f0, len, sg->na, &why)) {
        i++; /* this cell may have appended text too */
        break;
      }
      /* only real values are cached: missing-value tokens keep code -1 */
      if (e && c->codes[row] >= 0) *e = (CatCache){w, c->codes[row], (uint8_t)len};
    }
  delimiter:
    if (p >= end) break; /* the general path knows about end of data */
    if (i + 1 < ncols) {
      if (*p++ != delim) break;
    } else if (*p == '\n') {
      p++;
    } else if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      p += 2;
    } else {
      break;
    }
  }
  if (i == ncols && (size_t)(p - start) <= sg->max_record) return p;
  for (int k = 0; k < i && k < ncols; k++) { /* take back text appended by this attempt */
    MlprtColumn *c = &sg->tab.cols[k];
    if (c->type == MLPRT_COL_TEXT && c->off[row] >= 0) c->pool_len = c->off[row];
  }
  return NULL;
}

static void segment_parse(void *ctx, int k) {
  Segment *sg = (Segment *)ctx + k;
  const MlprtSchema *s = sg->schema;
  int ncols = s->ncols;
  const char *p = sg->start;
  sg->tab.nrows = 0;
  for (int i = 0; i < ncols; i++) sg->tab.cols[i].pool_len = 0;
  sg->lines = 0;
  sg->err = 0;
  while (p < sg->lim) {
    if (sg->fast) {
      if (sg->tab.nrows == sg->tab.cap_rows) mlprt_table_reserve(&sg->tab, sg->tab.nrows + 1);
      const char *next = fast_record(sg, p, sg->tab.nrows);
      if (next) {
        sg->tab.nrows++;
        sg->lines++;
        p = next;
        continue;
      }
    }
    RecResult r = tokenize(p, sg->end, sg->eof, sg->delim, sg->stop, &sg->fields);
    if (r.status == REC_INCOMPLETE) break;
    if (r.status == REC_ERROR) {
      segment_error(sg, -1, sg->lines, r.err_field + 1, "%.*s", r.err, strlen(r.err));
      break;
    }
    if ((size_t)(r.next - p) > sg->max_record) {
      sg->err = -1;
      sg->err_row = sg->tab.nrows + 1;
      sg->err_line = sg->lines;
      sg->err_col = 0;
      snprintf(sg->err_msg, sizeof sg->err_msg, "record longer than the limit of %zu bytes (max_record)",
               sg->max_record);
      break;
    }
    if (sg->fields.n == 1 && sg->fields.f[0].len == 0 && *p != '"') { /* empty line */
      sg->lines += r.nl;
      p = r.next;
      continue;
    }
    if (sg->fields.n != ncols) {
      sg->err = -1;
      sg->err_row = sg->tab.nrows + 1;
      sg->err_line = sg->lines;
      sg->err_col = sg->fields.n < ncols ? sg->fields.n + 1 : ncols + 1;
      snprintf(sg->err_msg, sizeof sg->err_msg, "expected %d fields, found %d", ncols, sg->fields.n);
      break;
    }
    int64_t row = sg->tab.nrows;
    mlprt_table_reserve(&sg->tab, row + 1);
    for (int i = 0; i < ncols; i++) {
      size_t len;
      const char *v = field_text(&sg->fields.f[i], &sg->scratch, &sg->scap, &len);
      const char *why;
      if (mlprt_cell_from_text(&sg->tab, i, row, v, len, sg->na, &why)) {
        bool retype = !s->cols[i].declared && !mlprt_why_final(why);
        char fmt[160];
        snprintf(fmt, sizeof fmt, "%s: '%%.*s' (column type %s%s)", why, mlprt_col_type_name(s->cols[i].type),
                 s->cols[i].declared ? ", declared" : "");
        segment_error(sg, retype ? MLPRT_ERR_RETYPE : -1, sg->lines, i + 1, fmt, v, len);
        break;
      }
    }
    if (sg->err) break;
    sg->tab.nrows++;
    sg->lines += r.nl;
    p = r.next;
  }
  sg->stopped = p;
}

int mlprt_csv_load(const char *path, const MlprtLoadOpts *o, const MlprtSchema *s, MlprtTable *t,
                   MlprtError *err) {
  Reader rd;
  char **names;
  int ncols;
  mlprt_table_from_schema(t, s);
  /* a small first read for the header: a regular file is then mapped, and
   * only a stream needs the full buffer (grown below) */
  if (reader_open(&rd, path, o, INFER_BLOCK, &names, &ncols, err)) {
    reader_close(&rd);
    mlprt_table_free(t);
    return -1;
  }
  int rc = 0;
  if (ncols != s->ncols) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "the file has %d columns, the schema %d", ncols, s->ncols);
    rc = -1;
  }
  for (int i = 0; i < ncols && !rc; i++) {
    if (strcmp(names[i], s->cols[i].name)) {
      mlprt_error_set(err, path, 0, 0, i + 1, names[i], "column is named '%s' in the schema",
                      s->cols[i].name);
      rc = -1;
    }
  }
  for (int i = 0; i < ncols; i++) free(names[i]);
  free(names);
  /* size the table once from the scan: growing columns of millions of rows
   * by realloc costs copies and, through the allocator, peak memory */
  struct stat st;
  if (!rc && s->nrows > 0 && s->bytes > 0 && fstat(rd.fd, &st) == 0) {
    double est =
        s->complete ? (double)s->nrows : (double)s->nrows * (double)st.st_size / (double)s->bytes * 1.02;
    if (est < 1e10) mlprt_table_reserve(t, (int64_t)est + 16);
  }
  MlprtNaSet na;
  mlprt_na_init(&na, o);
  /* a few segments per thread, handed out as threads come free, so a core
   * that another process holds up does not leave the other waiting */
  int nth = mlprt_opt_threads(o), nseg = SEGMENTS_PER_THREAD * nth;
  Segment *sg = mlprt_xcalloc((size_t)nseg, sizeof *sg);
  for (int k = 0; k < nseg; k++) {
    sg[k] = (Segment){.path = path,
                      .schema = s,
                      .na = &na,
                      .delim = rd.delim,
                      .stop = rd.stop,
                      .max_record = rd.max_record,
                      .fast = !na.numeric,
                      .empty_na = mlprt_na_match(&na, "", 0)};
    mlprt_table_from_schema(&sg[k].tab, s);
    sg[k].cache = mlprt_xcalloc((size_t)(s->ncols ? s->ncols : 1) * CACHE, sizeof *sg[k].cache);
  }
  /* mapped, each round parses a window of the read buffer's size, and pages
   * behind it are dropped, so resident memory stays as with the buffer */
  size_t win = BLOCK * (size_t)nth, dropped = 0, page = (size_t)sysconf(_SC_PAGESIZE);
  bool mapped = !rc && reader_map(&rd);
  if (!rc && !mapped && !rd.eof && rd.cap < win) {
    reader_grow(&rd, win);
    rc = reader_fill(&rd, err);
  }
  while (!rc && !(rd.pos == rd.len && rd.eof)) {
    const char *base = rd.buf + rd.pos, *end = rd.buf + rd.len;
    if (mapped && rd.len - rd.pos > win) end = base + win;
    bool eof = rd.eof && end == rd.buf + rd.len;
    size_t avail = (size_t)(end - base);
    int n = avail / MIN_SEGMENT < (size_t)nseg ? (int)(avail / MIN_SEGMENT) : nseg;
    if (n < 1) n = 1;
    /* cut at newlines; a cut inside a quoted field is caught below */
    const char *cut = base;
    int used = 0;
    for (int k = 0; k < n; k++) {
      const char *next = end;
      if (k + 1 < n) {
        const char *nl = memchr(base + avail * (size_t)(k + 1) / (size_t)n, '\n',
                                (size_t)(end - (base + avail * (size_t)(k + 1) / (size_t)n)));
        next = nl ? nl + 1 : end;
      }
      if (next <= cut) continue;
      sg[used].end = end, sg[used].eof = eof;
      sg[used].start = cut, sg[used].lim = next;
      cut = next;
      used++;
    }
    mlprt_parallel_for(used, nth, segment_parse, sg);
    const char *consumed = base;
    for (int k = 0; k < used && !rc; k++) {
      if (k > 0 && sg[k - 1].stopped != sg[k].start) break; /* a cut fell inside a record */
      Segment *g = &sg[k];
      if (g->err) {
        mlprt_error_set(err, path, rd.row + g->err_row, rd.line + g->err_line, g->err_col,
                        g->err_col <= s->ncols ? s->cols[g->err_col - 1].name : NULL, "%s", g->err_msg);
        rc = g->err;
        break;
      }
      if (mlprt_table_append(t, &g->tab, err)) rc = -1;
      rd.row += g->tab.nrows;
      rd.line += g->lines;
      consumed = g->stopped;
      if (g->stopped < g->lim) break;
    }
    if (rc) break;
    rd.pos = (size_t)(consumed - rd.buf);
    if (consumed == base && eof) { /* at EOF every record completes or fails */
      mlprt_error_set(err, path, rd.row + 1, rd.line, 0, NULL, "no progress parsing the record");
      rc = -1;
    } else if (consumed == base && mapped) { /* a record longer than the window */
      if (avail > rd.max_record) {
        mlprt_error_set(err, path, rd.row + 1, rd.line, 0, NULL,
                        "record longer than the limit of %zu bytes (max_record)", rd.max_record);
        rc = -1;
      }
      win = win * 2 < rd.max_record + 1 ? win * 2 : rd.max_record + 1;
    } else if (consumed == base) {
      rc = reader_more(&rd, err);
    } else if (mapped && rd.pos / page * page > dropped) {
      madvise(rd.buf + dropped, rd.pos / page * page - dropped, MADV_DONTNEED);
      dropped = rd.pos / page * page;
    } else if (!rd.eof) {
      rc = reader_fill(&rd, err);
    }
  }
  for (int k = 0; k < nseg; k++) {
    mlprt_table_free(&sg[k].tab);
    free(sg[k].cache);
    free(sg[k].fields.f);
    free(sg[k].scratch);
  }
  free(sg);
  reader_close(&rd);
  if (rc) mlprt_table_free(t);
  else mlprt_table_shrink(t);
  return rc;
}

/* ---- chunks of rows (out of core) ---- */

struct MlprtChunks {
  Reader rd;
  char *path;
  MlprtSchema schema;
  MlprtNaSet na;
  char *na_tok[MLPRT_MAX_NA]; /* the tokens na points at, owned */
  int64_t rows;               /* per chunk */
  char *scratch;
  size_t scap;
};

MlprtChunks *mlprt_csv_chunks(const char *path, const MlprtLoadOpts *o, MlprtSchema *s, int64_t rows,
                              MlprtError *err) {
  MlprtChunks *c = mlprt_xcalloc(1, sizeof *c);
  c->path = mlprt_xstrndup(path, strlen(path));
  c->schema = *s;
  memset(s, 0, sizeof *s);
  c->rows = rows > 0 ? rows : 1;
  mlprt_na_init(&c->na, o);
  for (int i = 0; i < c->na.n; i++) c->na.tok[i] = c->na_tok[i] = mlprt_xstrndup(c->na.tok[i], c->na.len[i]);
  char **names;
  int ncols;
  int rc = reader_open(&c->rd, c->path, o, INFER_BLOCK, &names, &ncols, err);
  if (!rc && ncols != c->schema.ncols) {
    mlprt_error_set(err, path, 0, 0, 0, NULL, "the file has %d columns, the schema %d", ncols,
                    c->schema.ncols);
    rc = -1;
  }
  for (int i = 0; i < ncols; i++) free(names[i]);
  free(names);
  if (rc) {
    mlprt_chunks_close(c);
    return NULL;
  }
  return c;
}

int mlprt_chunks_next(MlprtChunks *c, MlprtTable *t, MlprtError *err) {
  const MlprtSchema *s = &c->schema;
  mlprt_table_from_schema(t, s);
  mlprt_table_reserve(t, c->rows);
  int rc = 0;
  while (t->nrows < c->rows) {
    int64_t line = c->rd.line;
    int k = reader_next(&c->rd, err);
    if (k <= 0) {
      if (k < 0 && err && err->col >= 1 && err->col <= s->ncols)
        snprintf(err->column, sizeof err->column, "%s", s->cols[err->col - 1].name);
      rc = k;
      break;
    }
    if (c->rd.fields.n != s->ncols) {
      int got = c->rd.fields.n, col = got < s->ncols ? got + 1 : s->ncols + 1;
      mlprt_error_set(err, c->path, c->rd.row, line, col, col <= s->ncols ? s->cols[col - 1].name : NULL,
                      "expected %d fields, found %d", s->ncols, got);
      rc = -1;
      break;
    }
    for (int i = 0; i < s->ncols && !rc; i++) {
      size_t len;
      const char *v = field_text(&c->rd.fields.f[i], &c->scratch, &c->scap, &len);
      const char *why;
      if (mlprt_cell_from_text(t, i, t->nrows, v, len, &c->na, &why)) {
        mlprt_error_set(err, c->path, c->rd.row, line, i + 1, s->cols[i].name, "%s: '%.*s' (column type %s)",
                        why, len > 40 ? 40 : (int)len, v, mlprt_col_type_name(s->cols[i].type));
        rc = -1;
      }
    }
    if (rc) break;
    t->nrows++;
  }
  if (rc < 0 || t->nrows == 0) { /* the caller frees only a chunk it was given */
    mlprt_table_free(t);
    return rc < 0 ? -1 : 0;
  }
  return 1;
}

void mlprt_chunks_close(MlprtChunks *c) {
  if (!c) return;
  reader_close(&c->rd);
  for (int i = 0; i < c->na.n; i++) free(c->na_tok[i]);
  mlprt_schema_free(&c->schema);
  free(c->scratch);
  free(c->path);
  free(c);
}
