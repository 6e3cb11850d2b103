/* clean.h — the cleaning chain and the splits of step 1.
 *
 * Consumes an MlprtTable (data.h) whose `part` array says which rows train;
 * produces the cleaned table, fitted parameters and a cleaning log.
 *
 * No leakage: every op that learns something (means, medians, bounds,
 * levels, vocabularies, scales) has a _fit that reads TRAINING rows only
 * and an apply that changes every row with those fitted values, unchanged.
 * A fit is a plain struct (MlprtFit) that can be applied again to new data,
 * the predictor's included, and is written to cleaning.json in full.
 * Assign the split first (mlprt_split), then fit and apply each step. */
#ifndef MLP_CLEAN_H
#define MLP_CLEAN_H

#include "mlp/data.h"
#include "mlp/tensor.h"

/* ---- the ops of a spec's clean block ------------------------------------ */

/* Every clean op of the language (stdlib/builtins.def's MLP_OP("clean", ...)
 * rows, in their order), as the code a compiled program's cleaning chain
 * carries: X(CODE, name, built), built 1 when the training program runs the
 * op, 0 when lowering refuses it. A test checks the list against the
 * registry. New ops go last: the codes are compiled into programs. */
#define MLPRT_CLEAN_OPS(X)                     \
  X(DROP_DUPLICATES, "drop_duplicates", 1)      \
  X(DROP_COLUMNS, "drop_columns", 1)            \
  X(COERCE, "coerce", 1)                        \
  X(IMPUTE, "impute", 1)                        \
  X(CLIP_OUTLIERS, "clip_outliers", 1)          \
  X(DROP_OUTLIERS, "drop_outliers", 1)          \
  X(STANDARDIZE, "standardize", 1)              \
  X(MINMAX, "minmax", 1)                        \
  X(ROBUST_SCALE, "robust_scale", 1)            \
  X(LOG1P, "log1p", 1)                          \
  X(ONEHOT, "onehot", 1)                        \
  X(ORDINAL, "ordinal", 1)                      \
  X(HASH_ENCODE, "hash_encode", 1)              \
  X(TEXT_CLEAN, "text_clean", 1)                \
  X(BAG_OF_WORDS, "bag_of_words", 1)            \
  X(TFIDF, "tfidf", 1)                          \
  X(HASH_VECTORIZE, "hash_vectorize", 1)        \
  X(PARSE_DATES, "parse_dates", 1)              \
  X(SORT_BY, "sort_by", 1)                      \
  X(RESAMPLE, "resample", 1)                    \
  X(LAG, "lag", 1)                              \
  X(ROLLING, "rolling", 1)                      \
  X(ALIGN, "align", 1)                          \
  X(DATE_FEATURES, "date_features", 1)          \
  X(DIFF, "diff", 1)                            \
  X(WINDOW, "window", 1)                        \
  X(TOKENIZE, "tokenize", 1)

typedef enum {
#define MLPRT_CLEAN_CODE(code, name, built) MLPRT_CLEAN_##code,
  MLPRT_CLEAN_OPS(MLPRT_CLEAN_CODE)
#undef MLPRT_CLEAN_CODE
  MLPRT_CLEAN_NOPS
} MlprtCleanOp;

/* The op's name in the language ("?" for no op), and whether the training
 * program runs it. */
const char *mlprt_clean_op_name(int64_t op);
bool mlprt_clean_op_built(int64_t op);
/* Whether the op is one that learns nothing and may change rows
 * (conversions, dates, sorting, resampling, the time-series steps): at the
 * head of the chain such steps run before the split, so a time-ordered
 * split can order by a parsed date and a lag or rolling value reads every
 * earlier row of its series, whichever part that row goes to (never a
 * later one). */
bool mlprt_clean_op_before_split(int64_t op);
/* Whether a step of op (method: its MlprtImpute for impute) runs out of
 * core, on a table that comes a chunk of rows at a time: it learns nothing,
 * or only running sums over the training rows in row order (a mean, a
 * standard deviation, the extremes), and treats every row on its own:
 * drop_columns, impute mean or constant, standardize, minmax, log1p. */
bool mlprt_clean_step_streams(int64_t op, int64_t method);
/* The code of an op named in a spec, or -1. */
int mlprt_clean_op_find(const char *name);

/* Which columns a step takes: the columns a type selector word picks from
 * the table as the step meets it (the target never picked), or the names
 * the spec lists. */
typedef enum {
  MLPRT_SELECT_NAMES,
  MLPRT_SELECT_NUMERIC,     /* float and int */
  MLPRT_SELECT_CATEGORICAL, /* category and bool */
  MLPRT_SELECT_TEXT,
  MLPRT_SELECT_ALL
} MlprtSelect;

/* ---- the cleaning log (cleaning.json) ----------------------------------- */

typedef struct MlprtCleanLog MlprtCleanLog;

MlprtCleanLog *mlprt_clean_log_new(const char *source);
void mlprt_clean_log_free(MlprtCleanLog *log);
/* Write the log as JSON atomically (temp file + rename). */
int mlprt_clean_log_write(const MlprtCleanLog *log, const char *path, MlprtError *err);
/* One line per step, with its counts, for people. */
void mlprt_clean_log_summary(const MlprtCleanLog *log, FILE *out);
/* The log as one JSON text (caller frees), for tests and reports. */
char *mlprt_clean_log_json(const MlprtCleanLog *log);
/* Steps recorded so far. */
int mlprt_clean_log_steps(const MlprtCleanLog *log);

/* ---- fitted parameters ----------------------------------------------------- */

typedef enum {
  MLPRT_STEP_DEDUP,
  MLPRT_STEP_COERCE,
  MLPRT_STEP_IMPUTE,
  MLPRT_STEP_OUTLIERS,
  MLPRT_STEP_SCALE,
  MLPRT_STEP_ENCODE,
  MLPRT_STEP_TEXT_CLEAN,
  MLPRT_STEP_VECTORIZE,
  MLPRT_STEP_TIME, /* sort_by, lag, rolling, diff, date_features (MlprtTimeStep): nothing fitted */
  MLPRT_STEP_ALIGN, /* the columns joined from another source (type in method), rows unmatched */
  MLPRT_STEP_NKINDS
} MlprtStepKind;

typedef struct MlprtKeptRows MlprtKeptRows; /* opaque: runtime/data/text.c */

/* What one step learnt about one column, and what applying it did. */
typedef struct {
  char *column;
  int32_t index;        /* the column's position in the table the step met; applying the fit works on a
                           table of that layout (mlprt_fit_column), so nothing is looked up by name */
  double a, b;          /* impute: fill value in a; scale: x' = (x - a) / b; outliers: bounds [a, b] */
  char *level;          /* impute: the text/category fill value */
  char **levels;        /* encode: training levels; vectorize: the vocabulary */
  int32_t nlevels;
  int32_t nkept;        /* one-hot: levels [0, nkept) have a column each; the rest of levels (rare training
                           levels past max_levels - 1) and unseen ones share NAME=__other__, the last column;
                           nkept == nlevels: no such column */
  int32_t nunseen;      /* one-hot with given levels: the last nunseen kept levels, [nkept - nunseen, nkept),
                           no training row holds; their columns keep the width and are zero in every split
                           (a value of theirs counts as unseen: an error under unknown = error). The
                           cleaning record lists them with the kept levels; 0 otherwise */
  double *weights;      /* vectorize TF-IDF: idf of each vocabulary term [nlevels] */
  int method;           /* coerce: the target MlprtColType */
  int64_t changed;      /* cells imputed / clipped / coerced / failed ... by the last apply; lag, rolling,
                           diff: rows with too few earlier rows in their group */
  int64_t fixed;        /* coerce: cells that converted only once read leniently (separators, a decimal
                           comma, a percent or currency sign, a boolean's other spellings) */
  int64_t dropped;      /* rows dropped because of this column by the last apply */
  MlprtKeptRows *kept;  /* vectorize with keep_rows: the training rows' terms as the fit read them,
                           for the next apply (which frees them); NULL otherwise */
} MlprtColFit;

/* MLPRT_VEC_SEQUENCE (tokenize): the text's words as ids, MLPRT_SEQ_PAD for
 * the slots before a shorter text's words, MLPRT_SEQ_OOV for a word out of
 * the vocabulary, MLPRT_SEQ_FIRST + k for its k-th term (term order); a
 * longer text keeps its first words. */
typedef enum { MLPRT_VEC_COUNT, MLPRT_VEC_TFIDF, MLPRT_VEC_HASH, MLPRT_VEC_SEQUENCE } MlprtVectorize;
enum { MLPRT_SEQ_PAD = 0, MLPRT_SEQ_OOV = 1, MLPRT_SEQ_FIRST = 2 };
/* How a vectorizer reads text into terms and weighs them (MlprtFit.terms):
 * terms are n-grams of words (maximal runs of ASCII letters, digits and
 * bytes >= 0x80, lowercased, joined by one space) or of characters (UTF-8
 * sequences of the ASCII-lowercased text, each run of white space one
 * space); scikit-learn's CountVectorizer, TfidfVectorizer and
 * HashingVectorizer with token_pattern r"(?u)[^\W_]+" (or analyzer="char")
 * and the same n-gram range read ASCII text alike. */
#define MLPRT_NGRAM_MAX 3
#define MLPRT_TERM_MAX 1024 /* bytes; a longer term is left out */
typedef enum { MLPRT_ANALYZER_WORD, MLPRT_ANALYZER_CHAR } MlprtAnalyzer;
typedef struct {
  MlprtVectorize method;
  MlprtAnalyzer analyzer;
  int ngram_lo, ngram_hi; /* 1 .. MLPRT_NGRAM_MAX */
  bool binary;            /* count: 1 for a present term */
  bool sublinear;         /* TF-IDF: tf = 1 + ln(count) */
  bool l2;                /* TF-IDF: each row scaled to Euclidean norm 1 */
} MlprtTerms;
typedef struct {
  MlprtStepKind kind;
  int method;           /* the step's method enum below */
  double param;         /* z or IQR factor; impute constant; hash buckets; max vocabulary; a sequence's
                           length */
  bool flag;            /* impute: indicator columns; encode: unknown bucket; outliers: drop, not clip;
                           vectorize: max_vocab columns whatever the vocabulary's size */
  bool strict;          /* encode: a present level unseen in training is an error naming row and column */
  MlprtTerms terms;     /* vectorize: how terms are read and weighed */
  MlprtColFit *cols;    /* [n] */
  int n;
  int32_t ncols;        /* the width of the table the step met (0: not recorded); cols[i].index are into it */
  int64_t rows_before, rows_after; /* of the last apply */
} MlprtFit;

void mlprt_fit_free(MlprtFit *f);
/* The position of f's i-th column when the step's apply reaches it, in a
 * table of the layout the fit met: its index, less one for every earlier
 * column of the step that an encode's or a vectorizer's apply has taken
 * out before it. */
int mlprt_fit_position(const MlprtFit *f, int i);
/* The fitted steps of a cleaning log written by mlprt_clean_log_write, in
 * order, ready for mlprt_fit_apply on new data (a predictor's input, say).
 * Steps that learn nothing about columns (drop_duplicates, coerce and the
 * time steps) are left out, and so is an outlier step's keep predicate
 * (code, not data); an align step is read back with the columns it joined
 * and their types (a predictor has no value for them). Free with mlprt_fits_free. */
int mlprt_fits_read(const char *path, MlprtFit **fits, int *nfits, MlprtError *err);
void mlprt_fits_free(MlprtFit *fits, int n);
/* Apply any fitted step to a table (all its rows), logging it when log is
 * not NULL. Returns 0, or -1 with *err. */
int mlprt_fit_apply(MlprtTable *t, MlprtFit *f, MlprtCleanLog *log, MlprtError *err);
/* Record an applied step in the log (its counts as f holds them). */
void mlprt_log_fit(MlprtCleanLog *log, const MlprtFit *f);
const char *mlprt_step_name(MlprtStepKind k);
const char *mlprt_method_name(MlprtStepKind k, int method);

/* Column selection shared by the ops: NULL/0 means every column the op
 * applies to (numeric for impute-mean/outliers/scale, category for encode,
 * text for the text ops). */
typedef struct {
  const char *const *names;
  int n;
  const int64_t *idx; /* when not NULL, the columns by position in the table (names[i] is column idx[i]'s
                         name, for messages): selected without looking a name up */
} MlprtCols;

/* ---- rows: duplicates and type coercion ------------------------------------ */

/* Drop rows equal on `on` (all columns when empty) to an earlier row, by
 * hashing; NaN equals NaN. Not fitted. Returns rows removed, or -1. */
int64_t mlprt_drop_duplicates(MlprtTable *t, MlprtCols on, MlprtCleanLog *log, MlprtError *err);

typedef enum { MLPRT_ONFAIL_ERROR, MLPRT_ONFAIL_NULL, MLPRT_ONFAIL_DROP } MlprtOnFail;
/* Convert a column to another type through its text form (in place: the
 * column keeps its position and its name string); a value that does
 * not convert is an error naming the row, becomes missing, or drops its row.
 * Texts are read leniently (mlprt_coerce_value); dates in `format`
 * (strftime) when not NULL, else ISO 8601 and the loader's date forms. */
int mlprt_coerce(MlprtTable *t, int col, MlprtColType to, const char *format, MlprtOnFail on_fail,
                 MlprtCleanLog *log, MlprtError *err);
/* The value the text s[0..len) stands for in a column of type `to`, read
 * as coerce reads it: numbers with thousands separators ("1,234.5",
 * "1.234,5", "1 234", "1'234"), a decimal comma ("3,14"; one comma
 * followed by exactly three digits is a thousands separator), a trailing
 * percent sign (12.5% is 0.125) or a leading currency sign ($ € £ ¥);
 * booleans spelled true/false, yes/no, y/n, t/f, on/off, 1/0 in any case;
 * dates in `format` or, when NULL, as the loader reads them. Numbers and
 * booleans (0/1) go to *num, dates to *tm; categories and text take any
 * text. *fixed tells that the plain loader would not have read s. false
 * when s does not convert. */
bool mlprt_coerce_value(const char *s, size_t len, MlprtColType to, const char *format, double *num,
                        int64_t *tm, bool *fixed);
/* A date and time in a strftime-style format: %Y (4 digits) %y (2, 1969-2068)
 * %m %d %e %H %I %M %S (1 or 2 digits) %j %b/%h %B (English month names,
 * any case) %a %A (day names, skipped) %p (AM/PM) %z (Z, +HH, +HHMM, +HH:MM:
 * the time is converted to UTC) %T (%H:%M:%S) %F (%Y-%m-%d) %%; a space
 * matches any run of white space. The whole text must match. */
bool mlprt_parse_datetime_format(const char *s, size_t len, const char *format, int64_t *epoch_seconds);

/* ---- imputation ----------------------------------------------------------- */

typedef enum {
  MLPRT_IMPUTE_MEAN,
  MLPRT_IMPUTE_MEDIAN,
  MLPRT_IMPUTE_MODE,     /* most frequent; numeric or category/text (ties: smallest / first level) */
  MLPRT_IMPUTE_CONSTANT, /* constant (numeric) or constant_text */
  MLPRT_IMPUTE_FFILL,    /* previous row's value, in row order (sort first for series) */
  MLPRT_IMPUTE_DROP      /* drop rows with a missing value */
} MlprtImpute;

typedef struct {
  MlprtCols cols;
  MlprtImpute strategy;
  double constant;
  const char *constant_text;
  bool indicator;        /* add a bool column NAME_missing per column first */
} MlprtImputeParams;

int mlprt_impute_fit(const MlprtTable *t, const MlprtImputeParams *p, MlprtFit *f, MlprtError *err);

/* ---- outliers ----------------------------------------------------------------- */

typedef enum { MLPRT_OUTLIER_ZSCORE, MLPRT_OUTLIER_IQR } MlprtOutlierMethod;
typedef enum { MLPRT_OUTLIER_CLIP, MLPRT_OUTLIER_DROP } MlprtOutlierAction;

typedef struct {
  MlprtCols cols;
  MlprtOutlierMethod method;
  double threshold;      /* z (default 3) or the IQR factor k (default 1.5) when 0 */
  MlprtOutlierAction action;
  MlprtCols exempt;      /* legitimate heavy-tailed columns: never clipped or dropped */
  /* rows for which keep() is true are legitimate edge cases and left alone */
  bool (*keep)(const MlprtTable *t, int64_t row, void *ctx);
  void *keep_ctx;
} MlprtOutlierParams;

/* Bounds [mean - z sd, mean + z sd] (population sd) or [q1 - k iqr, q3 + k iqr]
 * (linear-interpolated quartiles), from training rows. The keep predicate is
 * not part of the fit: it is applied again with the parameters given here. */
int mlprt_outliers_fit(const MlprtTable *t, const MlprtOutlierParams *p, MlprtFit *f, MlprtError *err);
int mlprt_outliers_apply(MlprtTable *t, MlprtFit *f, const MlprtOutlierParams *p, MlprtCleanLog *log,
                         MlprtError *err);

/* ---- scaling ------------------------------------------------------------------- */

typedef enum { MLPRT_SCALE_STANDARD, MLPRT_SCALE_MINMAX, MLPRT_SCALE_ROBUST, MLPRT_SCALE_LOG1P } MlprtScale;
typedef struct {
  MlprtCols cols;
  MlprtScale method;
  double low, high;      /* min-max: the images of min and max; both 0 (or equal): 0 and 1 */
} MlprtScaleParams;
/* standard: (x - mean) / sd (population); min-max: (x - min) / (max - min),
 * or onto [low, high], fitted as the same (x - a) / b with a and b moved;
 * robust: (x - median) / iqr; log1p: log(1 + x), values <= -1 become missing.
 * A zero spread scales by 1. */
int mlprt_scale_fit(const MlprtTable *t, const MlprtScaleParams *p, MlprtFit *f, MlprtError *err);

/* ---- fits over chunks of rows (out of core) ------------------------------ */

/* A scale or impute step fitted on a table that comes a chunk of rows at a
 * time, in row order, each chunk with its part: open on the first chunk
 * (which chooses the columns, as the fit would), add every chunk, and close
 * into the fit, which equals mlprt_scale_fit's or mlprt_impute_fit's on the
 * whole table bit for bit: the same sums in the same order. Scales:
 * standard, minmax, log1p; impute: mean, constant; another method fails to
 * open. Close frees the stream whatever it returns (0, or -1 with *err: a
 * column without training values). */
typedef struct MlprtFitStream MlprtFitStream;
MlprtFitStream *mlprt_scale_stream(const MlprtTable *t, const MlprtScaleParams *p, MlprtError *err);
MlprtFitStream *mlprt_impute_stream(const MlprtTable *t, const MlprtImputeParams *p, MlprtError *err);
void mlprt_fit_stream_add(MlprtFitStream *fs, const MlprtTable *chunk);
int mlprt_fit_stream_close(MlprtFitStream *fs, MlprtFit *f, MlprtError *err);

/* ---- encoding ------------------------------------------------------------------ */

typedef enum { MLPRT_ENCODE_ONEHOT, MLPRT_ENCODE_ORDINAL, MLPRT_ENCODE_HASH } MlprtEncode;
typedef struct {
  MlprtCols cols;
  MlprtEncode method;
  bool unknown_bucket;   /* one-hot: a NAME=__unknown__ column for levels unseen in training */
  bool unknown_error;    /* a present level unseen in training is an error naming row and column */
  int max_levels;        /* one-hot: a column with more training levels keeps a column for each of the
                            max_levels - 1 most frequent, and the others share one NAME=__other__ column
                            (which unseen levels join, unless unknown_error); ordinal: the max_levels most
                            frequent are numbered, the others are missing; 0: every level */
  int buckets;           /* hashing: output columns (default 16) */
  const char *levels;    /* one-hot: the levels of each column, fixed in advance (a compiled program's, from
                            the whole file): a line per column, its name then each level, '\t' before each
                            level. A column listed here gets a column for every one of its levels, so the
                            width never depends on the split: a level no training row holds keeps its column,
                            zero in every split (its values count as unseen, so nothing is learnt from
                            validation or test rows); max_levels still picks the kept ones by training
                            frequency (ties by name); a value not listed is unseen. NULL, or a column not
                            listed: the training rows' levels */
} MlprtEncodeParams;
/* one-hot: bool columns NAME=LEVEL replace NAME (missing: all zero);
 * ordinal: NAME becomes an int column 0..k-1 in sorted level order, unseen
 * -1 -> missing; hashing: float columns NAME#0.. count FNV-1a buckets. */
int mlprt_encode_fit(const MlprtTable *t, const MlprtEncodeParams *p, MlprtFit *f, MlprtError *err);

/* ---- text ---------------------------------------------------------------------- */

/* text_clean's options, as bits (MlprtTextCleanParams.opts). */
enum {
  MLPRT_TEXT_LOWER = 1,    /* ASCII letters to lower case */
  MLPRT_TEXT_PUNCT = 2,    /* ASCII punctuation and symbols to spaces */
  MLPRT_TEXT_SPACE = 4,    /* runs of white space to one space, both ends trimmed */
  MLPRT_TEXT_STOP = 8,     /* the stdlib's English stop words removed */
  MLPRT_TEXT_ACCENTS = 16, /* accented Latin letters (U+00C0 .. U+017F) to their base letter */
  MLPRT_TEXT_DIGITS = 32   /* digits to spaces */
};
typedef struct {
  MlprtCols cols;
  int opts; /* MLPRT_TEXT_* bits */
} MlprtTextCleanParams;
int mlprt_text_clean_fit(const MlprtTable *t, const MlprtTextCleanParams *p, MlprtFit *f, MlprtError *err);
/* Clean s (len bytes) into out (len + 1 bytes: cleaning never lengthens);
 * returns the new length. Accents go first, then case, punctuation and
 * digits, then white space, then stop words. */
size_t mlprt_text_clean_one(const char *s, size_t len, int opts, char *out);
/* Is w (lowercase ASCII) in the built-in English stop-word list? */
bool mlprt_is_stop_word(const char *w, size_t len);

/* The options as one integer (a compiled step's or a predictor step's) and back. */
int64_t mlprt_terms_pack(const MlprtTerms *o);
MlprtTerms mlprt_terms_unpack(int64_t v);
/* fn(term, len, ctx) for every n-gram of s (len bytes), in text order of
 * its last unit; term is only valid during the call. Allocates nothing. */
void mlprt_terms_each(const char *s, size_t len, const MlprtTerms *o,
                      void (*fn)(const char *, size_t, void *), void *ctx);
/* The hashing vectorizer's column of a term: |MurmurHash3_x86_32(term,
 * seed 0)| mod buckets, scikit-learn's HashingVectorizer's index. */
int64_t mlprt_term_bucket(const char *term, size_t len, int64_t buckets);
/* A row of term counts made into the step's values in place: binary
 * counts, or tf (sublinear) * idf[k] (idf NULL: 1), L2-normalised. The
 * row's columns idx[0 .. n) (ascending; the others hold 0), or with idx
 * NULL its columns 0 .. n - 1: the same floats either way. */
void mlprt_terms_weigh(float *row, const int64_t *idx, int64_t n, const double *idf, const MlprtTerms *o);

typedef struct {
  MlprtCols cols;
  MlprtTerms terms;
  int max_vocab;         /* count/TF-IDF: the terms most frequent over the training rows (default 1000) */
  int buckets;           /* hashing: output columns (default 64) */
  int min_df;            /* terms in fewer training rows are left out (default 1) */
  double max_df;         /* and those in a larger fraction of them (0: 1) */
  bool pad;              /* the output is max_vocab columns whatever the vocabulary's size, the last ones
                            zero (a compiled program's width); else one per vocabulary term */
  int max_len;           /* sequence: the output columns (default 100); min_df is then the fewest
                            occurrences over the training rows, max_df unused */
  bool keep_rows;        /* count/TF-IDF: the next apply (or mlprt_vectorize_rows) is on the same table,
                            unchanged: the fit keeps what it read of each training row for it, so a
                            training row is read once */
} MlprtVectorizeParams;
/* Replace each text column by float columns NAME:TERM, in term order (counts,
 * or TF-IDF with the smoothed idf = ln((1 + n) / (1 + df)) + 1 over the n
 * training rows, a missing text an empty one), padded by NAME:<unused K>,
 * or by NAME#i hashed counts, or (MLPRT_VEC_SEQUENCE) by the columns NAME@K
 * of its words' ids (a missing text all padding). */
int mlprt_vectorize_fit(const MlprtTable *t, const MlprtVectorizeParams *p, MlprtFit *f, MlprtError *err);
/* The vectors of the fit's i-th column (a count, TF-IDF or hashing fit) for
 * every row of t as sparse rows into *out, t unchanged: the columns, values
 * and order mlprt_fit_apply would give, the zeros left out, in memory that
 * grows with the values kept, not with rows x columns. 0, or -1 with a
 * message. */
int mlprt_vectorize_rows(const MlprtTable *t, MlprtFit *f, int i, MlprtCsr *out, MlprtError *err);
/* A sequence's first len ids, at ids[0 .. len), moved to its last len of n
 * slots, the slots before them MLPRT_SEQ_PAD. */
void mlprt_seq_place(float *ids, int64_t len, int64_t n);

/* ---- time series and dates -------------------------------------------------- */

/* The ops logged as MLPRT_STEP_TIME steps, their fit's method. */
typedef enum {
  MLPRT_TIME_SORT_BY,
  MLPRT_TIME_LAG,
  MLPRT_TIME_ROLLING,
  MLPRT_TIME_DIFF,
  MLPRT_TIME_DATE_FEATURES,
  MLPRT_TIME_RESAMPLE
} MlprtTimeStep;

/* Stable sort of all rows by a DATETIME (or numeric) column, missing last. */
int mlprt_ts_sort(MlprtTable *t, const char *time_col, MlprtError *err);
/* Stable sort of all rows by several columns, the first most significant:
 * numbers, dates and booleans by value, categories and text bytewise;
 * missing values last either way. Logged when log is not NULL. */
int mlprt_ts_sort_by(MlprtTable *t, MlprtCols keys, bool descending, MlprtCleanLog *log, MlprtError *err);

/* How resample fills a bucket no row fell in (registry enum fill), and
 * how it sums up the numbers of the rows in one bucket (enum agg); the
 * names in the codes' order. */
typedef enum { MLPRT_GAP_FFILL, MLPRT_GAP_LINEAR, MLPRT_GAP_ZERO, MLPRT_GAP_NULL } MlprtGapFill;
#define MLPRT_GAP_FILL_NAMES {"ffill", "linear", "zero", "null"}
typedef enum {
  MLPRT_AGG_MEAN,
  MLPRT_AGG_SUM,
  MLPRT_AGG_FIRST,
  MLPRT_AGG_LAST,
  MLPRT_AGG_MIN,
  MLPRT_AGG_MAX
} MlprtAgg;
#define MLPRT_AGG_NAMES {"mean", "sum", "first", "last", "min", "max"}
typedef struct {
  MlprtCols on;      /* the time column (a datetime, one) */
  int64_t step;      /* the grid step, in seconds */
  MlprtGapFill fill;
  MlprtAgg agg;
  const char *by;    /* the group key, or NULL; by_pos as in MlprtSeriesParams */
  int by_pos;
} MlprtResampleParams;
/* Rebuild t on a grid of `step` seconds (multiples of step since the
 * epoch), one series per value of `by`, the groups one after another in
 * the key's level order: each group runs from the bucket of its first time
 * to the bucket of its last. Numeric columns take the agg of the bucket's
 * values (a mean, or a linear fill, makes an int column float); others
 * the last value (the first under agg = first). A bucket no row fell in
 * is filled: ffill repeats the previous bucket, linear interpolates the
 * numbers between the buckets around it (it reads the next observation:
 * for data known in full), zero gives numbers 0, null leaves them missing
 * (the others repeat under ffill and linear, else are missing); the key
 * and the time are always set. Rows must be in time order within each
 * group (sort_by first). A kept row's rowid is that of the bucket's last
 * row, an inserted one's 0. Logged (rows before and after, rows inserted)
 * when log is not NULL. */
int mlprt_ts_resample(MlprtTable *t, const MlprtResampleParams *p, MlprtCleanLog *log, MlprtError *err);

/* What a lag, rolling or diff value gets at a row with too few earlier
 * rows in its group. */
typedef enum { MLPRT_HISTORY_DROP, MLPRT_HISTORY_NULL } MlprtHistory;

/* The series a lag, rolling or diff step works on: the selected numeric
 * columns, one series per value of `by` (NULL: the whole table; a missing
 * key is a group of its own), each in table order (sort first). A value at
 * a row reads that row and earlier rows of its group only. */
typedef struct {
  MlprtCols cols;
  const char *by;  /* the key's name, for messages (and to find it when by_pos is 0) */
  int by_pos;      /* 1 + the key's column in the table, as the compiler traced it; 0: find `by` */
  MlprtHistory history;
  /* when not NULL ([nrows] flags): a drop_row step marks its rows here
   * instead of dropping them, and the step with drop_pending set drops
   * every row marked so far, so that consecutive steps all read whole
   * series and the rows go once */
  uint8_t *pending;
  bool drop_pending;
} MlprtSeriesParams;

/* Add NAME_lagK columns (the value K rows earlier in the group), for each
 * column and each K in turn, as pandas' groupby(by)[NAME].shift(K). */
int mlprt_ts_lag(MlprtTable *t, const MlprtSeriesParams *p, const int *steps, int nsteps, MlprtCleanLog *log,
                 MlprtError *err);

typedef enum { MLPRT_ROLL_MEAN, MLPRT_ROLL_SUM, MLPRT_ROLL_MIN, MLPRT_ROLL_MAX, MLPRT_ROLL_STD } MlprtRoll;
/* Add NAME_roll_STAT_W (NAME_roll_STAT_W_lagL when lag > 0) for each column
 * and stat: STAT over the window of the w rows of the group ending `lag`
 * rows before this one, as pandas' groupby(by)[NAME].shift(lag).rolling(w)
 * .STAT() (min_periods = w: a window with a missing value is missing; std
 * is the sample one). */
int mlprt_ts_rolling(MlprtTable *t, const MlprtSeriesParams *p, int window, int lag, const MlprtRoll *stats,
                     int nstats, MlprtCleanLog *log, MlprtError *err);
/* STAT over the w values x[(first + i) % cap], i = 0 .. w - 1, oldest
 * first, none missing (std: the sample one, two passes): what a rolling
 * window computes, in training and in a predictor. */
double mlprt_window_stat(const float *x, int64_t first, int64_t cap, int w, MlprtRoll stat);
/* Add NAME_diffK = NAME - (NAME K rows earlier in the group), as pandas'
 * groupby(by)[NAME].diff(K). */
int mlprt_ts_diff(MlprtTable *t, const MlprtSeriesParams *p, int steps, MlprtCleanLog *log, MlprtError *err);

/* The parts date_features derives, in the registry's order (date_part). */
typedef enum {
  MLPRT_DATE_YEAR,
  MLPRT_DATE_QUARTER,
  MLPRT_DATE_MONTH,
  MLPRT_DATE_DAY,
  MLPRT_DATE_DAYOFWEEK, /* 0 Monday .. 6 Sunday */
  MLPRT_DATE_DAYOFYEAR,
  MLPRT_DATE_HOUR,
  MLPRT_DATE_MINUTE,
  MLPRT_DATE_SECOND,
  MLPRT_DATE_EPOCH,
  MLPRT_DATE_NPARTS
} MlprtDatePart;
/* The part's name ("year" ...) and its period for cyclical encoding (0:
 * not periodic: year, epoch). */
const char *mlprt_date_part_name(int part);
double mlprt_date_part_period(int part);
/* Part `part` of a time (UTC), NaN when missing; cyclical 1 or 2: the sine or
 * cosine of 2 pi (value - first) / period (first: 1 for month, day,
 * dayofyear and quarter, else 0). */
double mlprt_date_part(int64_t t, int part, int cyclical);
/* Add NAME_PART columns (floats), or NAME_PART_sin and NAME_PART_cos for
 * periodic parts when cyclical, for each date column and part in turn. */
int mlprt_date_features(MlprtTable *t, MlprtCols cols, const int *parts, int nparts, bool cyclical,
                        MlprtCleanLog *log, MlprtError *err);

/* The name of a column a step adds to column `column`: lag (k: the step)
 * NAME_lagK; rolling (k: the MlprtRoll stat) NAME_roll_STAT_W, with _lagL
 * when lag > 0; diff (k: the steps) NAME_diffK; date_features (k: the
 * MlprtDatePart, form 0 plain, 1 sine, 2 cosine) NAME_PART, NAME_PART_sin,
 * NAME_PART_cos. op is an MlprtCleanOp. */
void mlprt_derived_name(char *buf, size_t n, int64_t op, const char *column, int64_t k, int64_t window,
                        int64_t lag, int form);

/* What align gives a row of the table no row of the other source matches
 * (registry enum unmatched, in its order). */
typedef enum { MLPRT_UNMATCHED_NULL, MLPRT_UNMATCHED_DROP } MlprtUnmatched;
typedef struct {
  const char *on;    /* the time key of both tables: dates, or numbers in both */
  const char *by;    /* a key of both tables (matched by its text), or NULL */
  double tolerance;  /* the largest gap between a row's time and its match's, in the key's units (dates:
                        seconds); < 0: none */
  MlprtUnmatched unmatched;
  const char *right_on; /* the time key's name in other, when it differs (NULL: on) */
  const char *right_by; /* the group key's name in other, when it differs (NULL: by) */
} MlprtAsofParams;
/* The as-of join, pandas' merge_asof(t, other, on, by, direction =
 * "backward", tolerance): every column of other but its keys is added to t
 * (in other's order, with its name and type), each row of t taking the
 * values of the row of other with the same `by` value whose time is the
 * latest at or before its own (of equal times, the last in other's order),
 * never a later one. A row with a missing key, or no such row within the
 * tolerance, gets missing values, or is dropped under MLPRT_UNMATCHED_DROP
 * (counted). t keeps its row order; other need not be sorted. A column of
 * other that t already has is an error. Logged as an MLPRT_STEP_ALIGN step
 * (the joined columns, their types and the unmatched rows). */
int mlprt_ts_asof(MlprtTable *t, const MlprtTable *other, const MlprtAsofParams *p, MlprtCleanLog *log,
                  MlprtError *err);

/* ---- splits ------------------------------------------------------------------- */

typedef enum {
  MLPRT_SPLIT_RANDOM,
  MLPRT_SPLIT_STRATIFIED, /* by `by` (a category, bool or int column): each class split alike */
  MLPRT_SPLIT_GROUPED,    /* rows sharing a `by` value stay in one part */
  MLPRT_SPLIT_TIME        /* by row order (sort first): train, then valid, then test */
} MlprtSplitMode;

typedef struct {
  double train, valid, test; /* fractions; normalised to sum 1 */
  MlprtSplitMode mode;
  const char *by;
  uint64_t seed;
} MlprtSplitParams;

/* Fill t->part. Shuffling draws from tensor.h's counter-based RNG, so the
 * same seed gives the same split on every machine. */
int mlprt_split(MlprtTable *t, const MlprtSplitParams *p, MlprtError *err);
/* Seeded Fisher-Yates over a[n], a pure function of (seed, stream): the
 * split's shuffles and the training loop's epoch order both use it. */
void mlprt_shuffle(int64_t *a, int64_t n, uint64_t seed, uint64_t stream);
/* Group id of every row by the text of column col (missing values are one
 * group), gid [nrows] counting from 0; returns the number of groups. */
int32_t mlprt_row_groups(const MlprtTable *t, int col, int32_t *gid);
/* How cross-validation cuts n pooled rows into k folds. */
typedef enum {
  MLPRT_FOLDS_PLAIN,      /* shuffled; fold sizes differ by at most one */
  MLPRT_FOLDS_STRATIFIED, /* key: each row's class (0..); each class spread over the folds alike */
  MLPRT_FOLDS_GROUPED,    /* key: each row's group (0..); a group stays in one fold */
  MLPRT_FOLDS_TIME        /* rows in time order: fold f is the f-th of k blocks at the end (-1: the
                             rows before them), and trains on the rows of lower folds only */
} MlprtFoldMode;

/* fold[i] for the n rows, drawn with seed (time folds draw nothing); key
 * as mode says, else NULL. 0, or -1 when the rows cannot make k folds
 * (fewer rows, groups, or time blocks of a row). */
int mlprt_folds(int64_t n, int k, MlprtFoldMode mode, const int32_t *key, uint64_t seed, int32_t *fold);
/* Count rows per part: counts[3]. */
void mlprt_split_counts(const MlprtTable *t, int64_t counts[3]);

/* ---- exporting features ---------------------------------------------------------- */

/* The numeric and bool columns of rows in `part` (all rows when part < 0),
 * except column `target` (none when -1), as a row-major matrix: out [rows, ncols_out] where
 * ncols_out is returned and rows = *nrows_out. Missing values are NaN.
 * Pass out = NULL to only count. */
int mlprt_table_features(const MlprtTable *t, int part, int target, float *out, int64_t *nrows_out);
/* The same features of the rows in `part` as sparse rows *out (malloc'd):
 * the zeros left out, and the missing values too (they count as 0).
 * Returns the missing values left out. */
int64_t mlprt_table_features_csr(const MlprtTable *t, int part, int target, MlprtCsr *out);

#endif
