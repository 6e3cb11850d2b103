/* data.h — step 1 of a training program: load real data into a columnar
 * table, typed by a schema that is inferred (or declared) from the file.
 *
 * Consumes CSV (RFC 4180), JSON (an array of records, or JSON lines) and
 * gzipped IDX files; produces an MlprtTable, or an MlprtError that names the
 * file, the row and the column. The compiler links the same schema inference
 * (mlprt_probe_described) to learn a data plan's shapes at compile time, so
 * this part of the runtime depends only on the C library, cJSON, zlib and
 * pthreads.
 *
 * Limits: a CSV record (and so a field) may be at most
 * MLPRT_MAX_RECORD_DEFAULT bytes (16 MiB, adjustable in MlprtLoadOpts);
 * longer records are an error, never a memory blow-up. Rows and columns in
 * errors are 1-based: `row` counts data records (the header is not a row),
 * `line` is the physical line where that record starts. */
#ifndef MLP_DATA_H
#define MLP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mlp/tensor.h"

/* ---- errors ------------------------------------------------------------ */

typedef struct {
  char file[256];   /* source path, "" when none */
  int64_t row;      /* 1-based data row (record after the header); 0 = none */
  int64_t line;     /* 1-based physical line where the row starts; 0 = none */
  int col;          /* 1-based column; 0 = none */
  char column[64];  /* that column's name when known */
  int query_at;     /* SQL sources: 1-based byte of the query an error points at; 0 = none */
  char msg[256];
} MlprtError;

/* "FILE: row R (line L), column C 'NAME': MESSAGE", omitting unknown parts. */
void mlprt_error_format(const MlprtError *e, char *buf, size_t n);

/* ---- the columnar table ------------------------------------------------- */

typedef enum {
  MLPRT_COL_FLOAT,    /* f: float, NaN = missing */
  MLPRT_COL_INT,      /* f: whole numbers kept as float (exact to 2^24), NaN = missing */
  MLPRT_COL_BOOL,     /* b: 0 / 1, MLPRT_BOOL_NA = missing */
  MLPRT_COL_CATEGORY, /* codes into levels, -1 = missing */
  MLPRT_COL_TEXT,     /* off into pool (NUL-terminated strings), -1 = missing */
  MLPRT_COL_DATETIME, /* t: seconds since 1970-01-01T00:00:00Z, MLPRT_TIME_NA = missing */
  MLPRT_COL_NTYPES
} MlprtColType;

#define MLPRT_BOOL_NA 255
#define MLPRT_TIME_NA INT64_MIN

const char *mlprt_col_type_name(MlprtColType t); /* "float", "int", ... */
/* The type named s, or -1. */
int mlprt_col_type_parse(const char *s);

/* A level dictionary: strings interned to dense codes 0..n-1, in first-seen
 * order, with a hash index for lookup. */
typedef struct {
  char **names;       /* [n] owned strings */
  uint32_t *len;      /* [n] strlen of each name */
  int32_t n, cap;
  uint64_t *slots;    /* [nslots] the name's hash << 32 | (code + 1), 0 = empty */
  uint32_t nslots;    /* power of two */
} MlprtLevels;

int32_t mlprt_levels_find(const MlprtLevels *lv, const char *s, size_t len); /* -1 when absent */
int32_t mlprt_levels_intern(MlprtLevels *lv, const char *s, size_t len);
void mlprt_levels_free(MlprtLevels *lv);
/* Intern s and count one more of it in (*cnt)[its index]; *cnt (of *cap
 * entries, NULL and 0 at first) grows with the levels, new counts zero. */
void mlprt_levels_count(MlprtLevels *lv, int64_t **cnt, int32_t *cap, const char *s, size_t len);

typedef struct {
  char *name;
  MlprtColType type;
  float *f;           /* FLOAT, INT: [nrows] */
  uint8_t *b;         /* BOOL: [nrows] */
  int32_t *codes;     /* CATEGORY: [nrows] */
  MlprtLevels levels; /* CATEGORY */
  int64_t *t;         /* DATETIME: [nrows] */
  int64_t *off;       /* TEXT: [nrows] byte offsets into pool */
  char *pool;         /* TEXT: [pool_len] */
  int64_t pool_len, pool_cap;
  int32_t origin;     /* 1 + the position at load of the column this one was made from (the cleaning ops
                         carry it to the columns they make); 0: not recorded */
  struct MlprtSlab *slab; /* the block the data lies in, shared with columns made with it; NULL: its own */
  struct MlprtSparseCols *sp; /* FLOAT kept as sparse rows: its values are column sp_col of this block's
                                 rows, and f is NULL (mlprt_column_densify makes it an ordinary column) */
  int32_t sp_col;
} MlprtColumn;

/* Columns made together (a vectorizer's) kept as sparse rows, shared by them. */
typedef struct MlprtSparseCols {
  MlprtCsr rows; /* [table rows, columns made] */
  int64_t refs;  /* the columns referring to it */
} MlprtSparseCols;

/* Which split a row belongs to; cleaning ops fit on MLPRT_TRAIN rows only. */
enum { MLPRT_TRAIN = 0, MLPRT_VALID = 1, MLPRT_TEST = 2 };

typedef struct {
  MlprtColumn *cols;  /* [ncols] */
  int ncols, cap_cols;
  int64_t nrows, cap_rows;
  uint8_t *part;      /* [nrows] MLPRT_TRAIN/VALID/TEST; NULL = every row trains */
  int64_t *rowid;     /* [nrows] 1-based data row in the source (after the header); NULL when not tracked */
  bool sparse_text;   /* count, TF-IDF and hashing vectorizers keep their columns as sparse rows */
} MlprtTable;

void mlprt_table_init(MlprtTable *t);
void mlprt_table_free(MlprtTable *t);
/* Append an empty column (all rows missing); returns its index. */
int mlprt_table_add_column(MlprtTable *t, const char *name, MlprtColType type);
void mlprt_table_drop_column(MlprtTable *t, int col);
int mlprt_table_find(const MlprtTable *t, const char *name); /* -1 when absent */
/* Make sparse column c an ordinary FLOAT column of its values (the block's
 * other columns stay sparse). */
void mlprt_column_densify(MlprtTable *t, int c);
/* Does t hold a sparse column? */
bool mlprt_table_has_sparse(const MlprtTable *t);
/* Make room for at least n rows in every column (and part, rowid). */
void mlprt_table_reserve(MlprtTable *t, int64_t n);
/* Give back capacity beyond nrows (loaders do this when they finish). */
void mlprt_table_shrink(MlprtTable *t);
/* Keep the rows whose keep[i] is nonzero, in order; returns rows removed. */
int64_t mlprt_table_filter(MlprtTable *t, const uint8_t *keep);
/* Reorder rows: row i of the result is old row perm[i] (perm has nrows). */
void mlprt_table_permute(MlprtTable *t, const int64_t *perm);
/* An empty table with t's columns (names and types) and no rows. */
void mlprt_table_like(MlprtTable *out, const MlprtTable *t);
/* Append every row of src; columns must match by name and type. */
int mlprt_table_append(MlprtTable *dst, const MlprtTable *src, MlprtError *err);
bool mlprt_is_missing(const MlprtTable *t, int col, int64_t row);
/* Set a TEXT cell (copies s[0..len)). */
void mlprt_text_set(MlprtColumn *c, int64_t row, const char *s, size_t len);
static inline const char *mlprt_text_at(const MlprtColumn *c, int64_t row) {
  return c->off[row] < 0 ? NULL : c->pool + c->off[row];
}
/* A cell as text ("" when missing); dates as ISO 8601. buf receives it. */
const char *mlprt_cell_str(const MlprtTable *t, int col, int64_t row, char *buf, size_t n);
/* 1 when the row is in the training split. */
static inline bool mlprt_row_trains(const MlprtTable *t, int64_t row) {
  return !t->part || t->part[row] == MLPRT_TRAIN;
}

/* The threads the data step uses for parsing (when MlprtLoadOpts.nthreads
 * is 0) and for the cleaning ops' column-parallel loops: the thread budget's
 * larger pool (mlprt_pool_threads), so a program that also runs BLAS never
 * oversubscribes the machine, or the online CPUs up to 8 before any setting. */
int mlprt_data_threads(void);

/* ---- schema --------------------------------------------------------------- */

typedef struct {
  char *name;
  MlprtColType type;
  bool declared;      /* type given by the user, not inferred */
  int64_t nmissing;   /* in the rows scanned */
  int32_t nlevels;    /* distinct values seen */
  char **levels;      /* [nlevels] sorted bytewise, each as the loaded table prints it (mlprt_cell_str:
                         "true"/"false", numbers in their shortest form): every level of a CATEGORY, and the
                         values of any other column with at most max_levels of them; NULL (and nlevels 0)
                         for TEXT and for columns with more values */
  double lo, hi;      /* the smallest and largest number in the column; NaN when it holds none */
} MlprtSchemaCol;

typedef struct {
  MlprtSchemaCol *cols; /* [ncols] in file order */
  int ncols;
  int64_t nrows;        /* data rows scanned */
  int64_t bytes;        /* bytes those rows took, so a loader can size its table up front */
  bool complete;        /* every row was scanned */
} MlprtSchema;

void mlprt_schema_free(MlprtSchema *s);
int mlprt_schema_find(const MlprtSchema *s, const char *name);

/* A declared column type; the data must agree (else an error naming the row
 * and column). */
typedef struct {
  const char *name;
  MlprtColType type;
} MlprtDecl;

typedef enum { MLPRT_FMT_AUTO, MLPRT_FMT_CSV, MLPRT_FMT_JSON, MLPRT_FMT_JSONL } MlprtFormat;

#define MLPRT_MAX_RECORD_DEFAULT ((size_t)16 << 20)
/* Rows a load scans to type columns. A later value that breaks an inferred
 * type makes mlprt_load rescan every row, so a short scan costs nothing in
 * correctness; a compiler fixing shapes asks for all rows (scan_rows = -1). */
#define MLPRT_SCAN_ROWS_DEFAULT 20000
#define MLPRT_MAX_LEVELS_DEFAULT 64

/* Options; all-zero means the defaults written beside each field. */
typedef struct {
  MlprtFormat format;           /* AUTO: by extension (.json, .jsonl/.ndjson, else CSV) */
  char delim;                   /* 0: ',' ('\t' for .tsv) */
  bool no_header;               /* columns named by names[] or "c1", "c2", ... */
  const char *const *names;     /* [nnames] column names instead of the header */
  int nnames;
  int skip_lines;               /* physical lines to skip before the header */
  const char *const *na_tokens; /* [nna] missing-value tokens; NULL: "", NA, N/A, null, ?, NaN */
  int nna;
  int64_t scan_rows;            /* rows read to infer types; 0: MLPRT_SCAN_ROWS_DEFAULT; -1: all */
  int max_levels;               /* text with more distinct values is TEXT, else CATEGORY; 0: 64 */
  size_t max_record;            /* 0: MLPRT_MAX_RECORD_DEFAULT bytes */
  int nthreads;                 /* parser threads; 0: mlprt_data_threads() */
  const MlprtDecl *decl;        /* [ndecl] declared types, by column name */
  int ndecl;
} MlprtLoadOpts;

/* Infer every column's type (float, int, bool, category with its levels,
 * text, datetime) from the header and a scan of opts->scan_rows rows,
 * honouring declared types. The compiler calls this. Returns 0, or -1 with
 * *err filled. */
int mlprt_schema_infer(const char *path, const MlprtLoadOpts *opts, MlprtSchema *out, MlprtError *err);

/* Load a file into *t (initialised here) typed by schema; a value the schema
 * contradicts is an error naming its row and column. */
int mlprt_load_schema(const char *path, const MlprtLoadOpts *opts, const MlprtSchema *schema,
                      MlprtTable *t, MlprtError *err);
/* Infer, then load. A later row that contradicts an inferred (not declared)
 * type makes the loader infer again from every row and reload. */
int mlprt_load(const char *path, const MlprtLoadOpts *opts, MlprtTable *t, MlprtError *err);
/* Several files with the same columns consolidated into one table, typed by
 * one schema inferred from all of them; different columns are an error
 * naming the file. */
int mlprt_load_many(const char *const *paths, int n, const MlprtLoadOpts *opts, MlprtTable *t,
                    MlprtError *err);

/* A source as a compiled program describes it, in text. */
typedef struct {
  const char *paths;     /* one path per line: several sources become one table (mlprt_load_many);
                            sqlite: the database file; postgres: the libpq connection string */
  const char *format;    /* "csv", "json" or "jsonl" (NULL: by extension); "sqlite" or "postgres"
                            for the SQL sources' calls (mlprt_sql_load, mlprt_sql_probe) */
  const char *query;     /* sqlite, postgres: the query whose result rows are the data */
  char delim;            /* csv: 0 for ',' */
  bool no_header;
  const char *na_values; /* texts meaning missing, each ending in '\n'; NULL: the loader's */
  const char *schema;    /* declared types, "NAME\tTYPE\n" each; NULL: none */
} MlprtSourceDesc;
/* Load the file source d describes: the training program reads its files
 * through this one call. */
int mlprt_load_described(const MlprtSourceDesc *d, MlprtTable *t, MlprtError *err);
/* The schema probe: the schema of the source d describes, from its header
 * and a type scan of every row (of every source, typed as
 * mlprt_load_many types them, their missing counts, ranges and levels
 * merged), without building the table. What the compiler learns a data
 * plan's shapes from; a program loading with the probed types (declared)
 * gets the same columns. Returns 0, or -1 with *err filled. */
int mlprt_probe_described(const MlprtSourceDesc *d, MlprtSchema *out, MlprtError *err);

/* ---- a file a chunk of rows at a time (out of core) --------------------- */

/* A CSV file read `rows` rows at a time, each chunk a table with the
 * columns and types of the whole file and the values mlprt_load_described
 * gives its rows (a chunk interns its own category levels). d must name
 * one CSV file and declare every column's type (a compiled program's
 * schema does): a value that does not fit is an error naming its row and
 * column. NULL with *err on failure. */
typedef struct MlprtChunks MlprtChunks;
MlprtChunks *mlprt_chunks_open(const MlprtSourceDesc *d, int64_t rows, MlprtError *err);
/* The next chunk into *t (initialised here; the caller frees it on 1):
 * 1, 0 at the end of the file, or -1 with *err. */
int mlprt_chunks_next(MlprtChunks *c, MlprtTable *t, MlprtError *err);
void mlprt_chunks_close(MlprtChunks *c);

/* ---- SQL sources ---------------------------------------------------------- */

/* The rows of a query as a table. SQLite through libsqlite3 (the database
 * file opened read-only), PostgreSQL through libpq (the query run in a
 * read-only transaction behind a cursor, fetched MLPRT_SQL_BATCH rows at a
 * time). The result columns' SQL types fix their column types: integers
 * int, reals and numerics float, booleans bool, dates and timestamps
 * datetime; text is a category or text by its distinct values, as in a
 * file; a column without a declared type (an SQLite expression) is typed
 * from its values. Declared types (d->schema) come first. NULL is the
 * only missing value. Errors name the source, and for a query the
 * PostgreSQL or SQLite server rejects, the byte it points at
 * (MlprtError.query_at). */
#define MLPRT_SQL_BATCH 10000

/* Is format one of the SQL sources? */
bool mlprt_format_sql(const char *format);
/* Load the rows; sha256, when not NULL, receives the digest of the values
 * as read (each as text, NULL apart, in row order). 0 or -1. The
 * training program reads an SQL source through this call. */
int mlprt_sql_load(const MlprtSourceDesc *d, MlprtTable *t, char sha256[65], MlprtError *err);
/* The rows of a file or SQL source, by its format (mlprt_load_described or
 * mlprt_sql_load): how the training program and export read the other
 * source of an align step. 0 or -1. */
int mlprt_source_load(const MlprtSourceDesc *d, MlprtTable *t, MlprtError *err);
/* The schema probe of an SQL source (mlprt_probe_described's for files):
 * every row read. 0 or -1. */
int mlprt_sql_probe(const MlprtSourceDesc *d, MlprtSchema *out, MlprtError *err);
/* The names of the query's result columns, without reading its rows:
 * *names[*n] (malloc'd, free each and the array). 0; -1 on an error;
 * -2 when the database itself cannot be opened or reached. */
int mlprt_sql_columns(const MlprtSourceDesc *d, char ***names, int *n, MlprtError *err);

/* ---- sources ----------------------------------------------------------- */

/* What a path names as a data source: a regular file (or a path that cannot
 * be examined: opening it says why), a pipe (a FIFO, or standard input fed
 * by one: its bytes can be read once), or something else, *what saying
 * what ("a directory", "a character device", ...). */
typedef enum { MLPRT_SRC_FILE, MLPRT_SRC_PIPE, MLPRT_SRC_OTHER } MlprtSourceKind;
MlprtSourceKind mlprt_source_kind(const char *path, const char **what);
/* Make path loadable more than once: for a pipe, *copy receives the name
 * of a temporary file holding all its bytes (with path's extension; the
 * caller removes it and frees the name); for a regular file *copy is NULL.
 * Anything else is an error saying what it is. Returns 0 or -1. */
int mlprt_source_spool(const char *path, char **copy, MlprtError *err);

/* Write the table (all columns; rows of split `part`, or all when part < 0)
 * as RFC 4180 CSV with a header, atomically (temp file + rename). */
int mlprt_table_write_csv(const MlprtTable *t, const char *path, int part, MlprtError *err);
/* One CSV field: s as is, or quoted (quotes doubled) when it holds a comma,
 * a quote or a line break. */
void mlprt_csv_put(FILE *f, const char *s);

/* ---- IDX (MNIST-style) tensors ------------------------------------------ */

typedef struct {
  int ndim;
  int64_t dims[4];    /* e.g. (N, 28, 28) images, (N) labels */
  uint8_t *data;      /* [prod(dims)] unsigned bytes, row-major */
} MlprtIdx;

/* Read a (gzipped or plain) IDX file of unsigned bytes, streaming through
 * zlib. */
int mlprt_idx_load(const char *path, MlprtIdx *out, MlprtError *err);
void mlprt_idx_free(MlprtIdx *x);
/* The shape of images and labels in IDX files without loading the images:
 * height and width (from the header alone) and the number of classes
 * (largest label + 1). 0, or -1 with a message in err (n bytes). */
int mlprt_idx_shape(const char *images, const char *labels, int64_t *h, int64_t *w, int64_t *classes,
                    char *err, size_t n);
/* out[i] = data[i] * (1 / 255.f): [prod(dims)] floats in [0, 1]. */
void mlprt_idx_to_float(const MlprtIdx *x, float *out);

/* ---- value parsing shared with the cleaning ops ----------------------------- */

/* Parse a whole field as a number; true on success. */
bool mlprt_parse_double(const char *s, size_t len, double *out);
/* Dates: ISO 8601 date or datetime (YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM]),
 * YYYY/MM/DD and DD.MM.YYYY, each optionally followed by " HH:MM[:SS]". */
bool mlprt_parse_datetime(const char *s, size_t len, int64_t *epoch_seconds);
/* ISO 8601 ("YYYY-MM-DD" when the time is midnight), into buf. */
void mlprt_format_datetime(int64_t t, char *buf, size_t n);
/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t mlprt_days_from_civil(int64_t y, int m, int d);
/* The date of a day number (days since 1970-01-01), its inverse. */
void mlprt_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Length of the valid UTF-8 prefix of s (== len when all valid). */
size_t mlprt_utf8_valid_prefix(const char *s, size_t len);

#endif
