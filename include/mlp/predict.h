/* predict.h — the runtime of a generated predictor.
 *
 * `mlpc export RUN_DIR -o PRED` compiles a trained run into a native
 * program whose main is
 *
 *     return mlprt_predict_main(argc, argv, &predictor);
 *
 * where `predictor` is a constant MlprtPredictor the compiler emits: the
 * training schema, the fitted cleaning chain flattened into a per-row
 * feature program (MlprtPredPlan), the model's forward pass over constant
 * weights (generated code), the failsafe policies, the drift reference and
 * the model card. Raw rows go in (CSV with the source's columns, the target
 * left out, or JSON lines), predictions come out, one per input row, in
 * order (a resampling run's, one per grid row: resample.c). Nothing is
 * allocated on the heap per prediction: buffers are
 * sized from the descriptor once, at start.
 *
 * Every field of the descriptors is 8 bytes wide (int64_t, double or a
 * pointer) so that the generated constants' layout matches this header
 * without padding rules, as in run.h. */
#ifndef MLP_PREDICT_H
#define MLP_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mlp/clean.h"
#include "mlp/run.h"

/* ---- the feature program ----------------------------------------------------- */

/* One raw input column: the training source's columns but the target, in
 * source order, typed as training loaded them. */
#define MLPRT_PRED_INPUT_FIELDS(X)                                                                           \
  X(MLPRT_PTR, const char *, name)                                                                           \
  X(MLPRT_I64, int64_t, type)  /* MlprtColType */                                                            \
  X(MLPRT_F64, double, lo)  /* numeric: the training rows' range as loaded (before cleaning); */             \
  X(MLPRT_F64, double, hi)  /* NaN when unknown */                                                           \
  X(MLPRT_PTR, const char *, levels)  /* category/bool: the training levels, each ending in '\n'; or NULL */ \
  X(MLPRT_I64, int64_t, nlevels)
typedef struct {
  MLPRT_PRED_INPUT_FIELDS(MLPRT_DESC_MEMBER)
} MlprtPredInput;
#define MLPRT_PRED_INPUT_INDEX(kind, type, name) MLPRT_PRED_INPUT_##name,
enum { MLPRT_PRED_INPUT_FIELDS(MLPRT_PRED_INPUT_INDEX) MLPRT_PRED_INPUT_NFIELDS };
MLPRT_PRED_INPUT_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtPredInput) == 8 * MLPRT_PRED_INPUT_NFIELDS, "MlprtPredInput: slots in order");

/* One instruction of the per-row feature program. The program works on
 * slots (one per column of the cleaning chain's table as it evolves: the
 * inputs first, then the columns steps add) and mirrors, value for value,
 * what the training program's cleaning did to a test row. src, dst and n
 * are slot indices and counts, a and b the fitted numbers, text the fitted
 * strings (levels), each ending in '\n'. A slot holds a float (numbers and
 * booleans as 0/1, NaN missing), a text (categories and text, NULL
 * missing) or a date (epoch seconds), by the type of its column. */
#define MLPRT_PRED_STEP_FIELDS(X)                                                                            \
  X(MLPRT_I64, int64_t, op)  /* MLPRT_PSTEP_* */                                                             \
  X(MLPRT_I64, int64_t, src)                                                                                 \
  X(MLPRT_I64, int64_t, dst)                                                                                 \
  X(MLPRT_I64, int64_t, n)                                                                                   \
  X(MLPRT_F64, double, a)                                                                                    \
  X(MLPRT_F64, double, b)                                                                                    \
  X(MLPRT_PTR, const char *, text)
typedef struct {
  MLPRT_PRED_STEP_FIELDS(MLPRT_DESC_MEMBER)
} MlprtPredStep;
#define MLPRT_PRED_STEP_INDEX(kind, type, name) MLPRT_PRED_STEP_##name,
enum { MLPRT_PRED_STEP_FIELDS(MLPRT_PRED_STEP_INDEX) MLPRT_PRED_STEP_NFIELDS };
MLPRT_PRED_STEP_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtPredStep) == 8 * MLPRT_PRED_STEP_NFIELDS, "MlprtPredStep is its slots in order");

/* The operations, with the float arithmetic of the cleaning ops they
 * replay (runtime/data/). Ops that change a column in place have
 * dst == src. The values are compiled into predictors: new ops go last. */
enum {
  /* impute: a missing src takes the fill value; n is src's MlprtColType:
   * floats and booleans take (float)a, dates (int64_t)a, texts text
   * (without its '\n') */
  MLPRT_PSTEP_FILL,
  /* impute's indicator column: dst = 1 when src is missing, else 0; n is
   * src's MlprtColType */
  MLPRT_PSTEP_INDICATOR,
  /* impute drop_row: training dropped rows missing src; the predictor
   * rejects them */
  MLPRT_PSTEP_REQUIRE,
  /* clip_outliers: src clipped to [(float)a, (float)b]; NaN stays NaN */
  MLPRT_PSTEP_CLIP,
  /* standardize, minmax, robust_scale: src = (src - (float)a) * (float)(1.0 / b) */
  MLPRT_PSTEP_SCALE,
  /* log1p: src = log1pf(src); src <= -1 becomes NaN */
  MLPRT_PSTEP_LOG1P,
  /* IDX pixels: src = src / (float)a (a = 255) */
  MLPRT_PSTEP_DIV,
  /* a number, boolean or date made a category before encoding: dst = the
   * text of src as mlprt_cell_str writes it; n is src's MlprtColType */
  MLPRT_PSTEP_TEXT,
  /* onehot: slots dst .. dst + n - 1 are 1 for src's level among text's
   * levels, else 0; a level training never saw sets the last of them with
   * a = MLPRT_UNSEEN_LAST (the unknown bucket, or the shared column of
   * merged levels), rejects the row with a = MLPRT_UNSEEN_REJECT, and sets
   * none with a = MLPRT_UNSEEN_NONE; b > 0: only text's first b levels have
   * a slot each, its later ones (rare training levels past max_levels)
   * share the last slot; missing: all 0 */
  MLPRT_PSTEP_ONEHOT,
  /* ordinal: dst = the index of src among text's n levels, NaN when
   * missing or unseen */
  MLPRT_PSTEP_ORDINAL,
  /* hash_encode: slots dst .. dst + n - 1 are 0 but bucket
   * mlprt_hash_bytes64(src) % n (FNV-1a, mixed), which is 1; missing: all 0 */
  MLPRT_PSTEP_HASH,
  /* text_clean: the text src cleaned in place (mlprt_text_clean_one) with
   * the MLPRT_TEXT_* bits a, into the row's b-th text buffer of
   * MLPRT_PRED_CLEAN_W bytes; a longer text rejects the row */
  MLPRT_PSTEP_TEXT_CLEAN,
  /* bag_of_words, tfidf, hash_vectorize: slots dst .. dst + n - 1 are the
   * terms of src (mlprt_terms_each with the MlprtTerms packed in a)
   * counted, then weighed (mlprt_terms_weigh); text: the vocabulary in term
   * order, a line "TERM\tIDF\n" each (fewer than n lines: the last slots
   * stay 0), NULL for hashing (bucket mlprt_term_bucket); b: the offset of
   * its vocabulary in the row's term index; missing: all 0 */
  MLPRT_PSTEP_TERMS,
  /* coerce, parse_dates: src (of MlprtColType b) read as text and converted
   * to type n as mlprt_coerce_value reads it, text the date format (no
   * '\n'; NULL: ISO 8601); a value that does not convert is missing with
   * a = MLPRT_ONFAIL_NULL, else rejects the row (training failed or
   * dropped such rows) */
  MLPRT_PSTEP_COERCE,
  /* date_features: dst = mlprt_date_part(src, n, (int)a), a date's part n,
   * plain (a = 0), its sine (1) or cosine (2) */
  MLPRT_PSTEP_DATE_PART,
  /* lag, rolling, diff: the series the following LAG and ROLLING steps keep
   * (up to the next SERIES step) are those of the values of slot src, of
   * MlprtColType n (a missing key is a series of its own), or one series
   * when n < 0 (src = dst, a slot the steps read); a is the MlprtHistory of a row short of
   * history: MLPRT_HISTORY_NULL leaves the value missing, MLPRT_HISTORY_DROP
   * also marks the row for the SHORT step after the steps */
  MLPRT_PSTEP_SERIES,
  /* lag (b = 0): dst = src n rows earlier in the row's series; diff (b =
   * 1): src minus that. The step keeps the last n + 1 values of src of each
   * series, up to MLPRT_PRED_SERIES series, in the row state, so a stream
   * of rows in time order gets what training computed on its sorted table */
  MLPRT_PSTEP_LAG,
  /* rolling: dst = the MlprtRoll stat b over the n values of src of the
   * row's series ending a rows before this one (mlprt_window_stat; missing
   * when one of them is); keeps the last n + a values of each series */
  MLPRT_PSTEP_ROLLING,
  /* after consecutive lag, rolling and diff steps with history = drop_row:
   * rejects the row when one of them lacked history (training dropped it
   * after the steps); src = dst, the last slot they wrote */
  MLPRT_PSTEP_SHORT,
  /* tokenize: slots dst .. dst + n - 1 are the ids of src's words
   * (mlprt_terms_each of unigram words): MLPRT_SEQ_FIRST + k for the k-th
   * of the a terms of text ("TERM\t1\n" lines, in term order),
   * MLPRT_SEQ_OOV for another, the first n of them placed by
   * mlprt_seq_place (clean.h); b: the offset of the vocabulary in the row's
   * term index; missing: all MLPRT_SEQ_PAD */
  MLPRT_PSTEP_SEQUENCE,
  /* align: slots dst .. dst + n - 1 take the joined columns of the other
   * source's row whose time is the latest at or before src's (a date or a
   * number) among those whose group key is the text of slot a (as
   * mlprt_cell_str writes it; a < 0: one group), within b of it (b < 0:
   * any distance). text is the other source as export read it: a line
   * "STEP\tUNMATCHED\tON_TYPE\tBY_TYPE" (the chain's step, MlprtUnmatched,
   * MlprtColTypes), a line "TYPE\tNAME" per joined column, then a line
   * "GROUP\tKEY\tV1\t...\tVn" per row with a key, sorted by group (bytes),
   * then key (%.17g), rows of equal keys in the source's order; values as
   * text (floats %.9g, dates epoch seconds, booleans 0/1), an empty field
   * missing. A row with no match gets missing values, and is rejected
   * under MLPRT_UNMATCHED_DROP (training dropped it) */
  MLPRT_PSTEP_ASOF,
  /* resample, the program's first step: nothing for a row; the predictor
   * puts the raw rows on the grid before the program runs (resample.c):
   * src the time input, n the grid step in seconds, a the group key's
   * input (-1: one series), b = 8 * MlprtGapFill + MlprtAgg; dst the
   * target's input when a later step reads its history (a raw row whose
   * target is given and missing is left out, as training dropped such rows
   * before resampling), else src */
  MLPRT_PSTEP_RESAMPLE,
  MLPRT_PSTEP_NOPS
};

/* The slots a step writes from dst on. */
int64_t mlprt_pstep_width(const MlprtPredStep *st);
/* An ASOF step rejects the rows it finds no match for (unmatched = drop_row). */
bool mlprt_pstep_asof_drops(const MlprtPredStep *st);
/* The series a lag, rolling or diff step of a predictor keeps at most (a
 * row of another one is rejected). */
#define MLPRT_PRED_SERIES 1024
/* The largest text a predictor cleans, in bytes with its terminator. */
#define MLPRT_PRED_CLEAN_W 65536

/* What a one-hot step does with a level training never saw (its a). */
enum { MLPRT_UNSEEN_NONE, MLPRT_UNSEEN_LAST, MLPRT_UNSEEN_REJECT };

/* The steps and the features' read compiled to straight-line code (the
 * predictor's module, when every step is float arithmetic: FILL and
 * INDICATOR of a number, CLIP, SCALE, LOG1P, DIV): num [nslots] holds the
 * row's slots as the inputs left them, x [nfeatures] receives the
 * features; the same operations in the same order as the interpreted
 * steps, so the same features bit for bit. */
typedef void (*MlprtPredCleanFn)(float *num, float *x);

/* The whole row transform: raw input columns -> model features. */
#define MLPRT_PRED_PLAN_FIELDS(X)                                                                            \
  X(MLPRT_PTR, const MlprtPredInput *, inputs)                                                               \
  X(MLPRT_I64, int64_t, ninputs)                                                                             \
  X(MLPRT_PTR, const MlprtPredStep *, steps)                                                                 \
  X(MLPRT_I64, int64_t, nsteps)                                                                              \
  X(MLPRT_I64, int64_t, nslots)                                                                              \
  X(MLPRT_PTR, const int64_t *, feature_slot)  /* [nfeatures] the slot each model feature reads */           \
  X(MLPRT_I64, int64_t, nfeatures)                                                                           \
  X(MLPRT_PTR, const char *const *, na_tokens)  /* [nna] the texts training read as missing (the plan */     \
  X(MLPRT_I64, int64_t, nna)  /* writes the loader's defaults out too); NULL: those defaults */            \
  X(MLPRT_PTR, MlprtPredCleanFn, clean)  /* the steps compiled (above); NULL: they are interpreted */
typedef struct {
  MLPRT_PRED_PLAN_FIELDS(MLPRT_DESC_MEMBER)
} MlprtPredPlan;
#define MLPRT_PRED_PLAN_INDEX(kind, type, name) MLPRT_PRED_PLAN_##name,
enum { MLPRT_PRED_PLAN_FIELDS(MLPRT_PRED_PLAN_INDEX) MLPRT_PRED_PLAN_NFIELDS };
MLPRT_PRED_PLAN_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtPredPlan) == 8 * MLPRT_PRED_PLAN_NFIELDS, "MlprtPredPlan is its slots in order");

/* Which slots matter (live[nslots], 1 or 0): the features, and backwards
 * through the steps every slot a live one is computed from. An input no
 * feature reads (a column the chain dropped or left unencoded) is not
 * live: neither required, checked, nor an ONNX input. */
void mlprt_pred_plan_live(const MlprtPredPlan *pl, uint8_t *live);

/* What the plan is built from, at export time. */
typedef struct {
  const char *schema;            /* the loaded columns, "NAME\tTYPE\n" each (reference.json "schema"), the
                                    target among them */
  const char *target;            /* the target column (not an input) */
  const MlprtFit *fits;          /* cleaning.json's fitted steps, in order (mlprt_fits_read) */
  int64_t nfits;
  const MlprtCleanStep *clean;   /* the spec's cleaning chain (run.h), for the steps that fit nothing
                                    (drop_columns) and the encodings' coercions; NULL: the fits alone */
  int64_t nclean;
  const MlprtPredInput *inputs;  /* reference.json "inputs" (training ranges and levels, by name);
                                    NULL: unknown (no range or level checks) */
  int64_t ninputs;
  int64_t image_pixels;          /* > 0: an IDX image source: inputs pixel0 .. pixelN-1, each / 255 */
  const char *na_values;         /* the source's missing-value texts, each ending in '\n' (the spec's
                                    na_values); NULL: the loader's defaults */
  const MlprtTable *const *joined; /* [nclean] each align step's other source as read at export (NULL
                                    elsewhere), compiled in; NULL: none read (its columns unserved) */
} MlprtPredSource;

/* Build the plan of a trained run: replay the cleaning chain on column
 * descriptions (no data), one slot per column, and read the model features
 * off the final table as mlprt_table_features does (numeric and boolean
 * columns but the target, in table order). The plan and its strings are
 * malloc'd; free with mlprt_pred_plan_free. 0, or -1 with a message in err
 * naming what cannot be served row by row (text vectorising, forward fill,
 * a step on the target, a column an align step joined from another source
 * that was not read, or that a key or text of cannot be written in a line). */
int mlprt_pred_plan_build(const MlprtPredSource *src, MlprtPredPlan *plan, char *err, size_t n);
void mlprt_pred_plan_free(MlprtPredPlan *plan);

/* ---- failsafes ------------------------------------------------------------------- */

/* What the predictor does with an input it was not trained on (the spec's
 * deploy.failsafe block). */
enum {
  MLPRT_FAILSAFE_REJECT,   /* answer an error for the row, with the reason */
  MLPRT_FAILSAFE_IMPUTE,   /* treat the value as missing: the training chain fills it in */
  MLPRT_FAILSAFE_FALLBACK, /* answer the declared fallback prediction */
  MLPRT_FAILSAFE_CLIP      /* out of range only: clip to the training range */
};

/* ---- the predictor ------------------------------------------------------------------ */

/* The model over constant weights, generated: out [n, n_out] (probabilities
 * or the scaled value) from x [n, n_in], n <= batch; scratch holds
 * scratch_bytes (aligned to 64). */
typedef void (*MlprtPredForwardFn)(const float *x, float *out, int64_t n, void *scratch);

/* The predictor's descriptor, a slot list as run.h describes them. */
#define MLPRT_PREDICTOR_FIELDS(X)                                                                            \
  X(MLPRT_PTR, const char *, name)           /* the pipeline's name */                                       \
  X(MLPRT_PTR, const char *, version)        /* deploy.version */                                            \
  X(MLPRT_PTR, const char *, spec_sha256)    /* of the spec the run was trained from */                      \
  X(MLPRT_PTR, const char *, data_sha256)    /* of the training data */                                      \
  X(MLPRT_PTR, const char *, weights_sha256) /* of weights.bin, checked against the weights compiled in */   \
  X(MLPRT_PTR, const char *, card)           /* MODEL_CARD.md's text */                                      \
  X(MLPRT_PTR, const char *, compiler)       /* "mlpc VERSION (LLVM X.Y.Z)" */                               \
  X(MLPRT_I64, int64_t, task)                /* MLPRT_TASK_* of run.h */                                     \
  X(MLPRT_I64, int64_t, n_in)                /* model features per row */                                    \
  X(MLPRT_I64, int64_t, n_out)               /* model outputs per row */                                     \
  X(MLPRT_PTR, const char *, classes)        /* classification: names each ending in '\n'; else NULL */      \
  X(MLPRT_F64, double, y_mean)               /* regression: value = output * y_std + y_mean */               \
  X(MLPRT_F64, double, y_std)                                                                                \
  X(MLPRT_PTR, MlprtPredForwardFn, forward)                                                                  \
  X(MLPRT_I64, int64_t, batch)                                                                               \
  X(MLPRT_I64, int64_t, scratch_bytes)                                                                       \
  X(MLPRT_PTR, const void *, weights)        /* the weights as compiled in, and their size */                \
  X(MLPRT_I64, int64_t, weights_bytes)                                                                       \
  X(MLPRT_PTR, const MlprtPredPlan *, plan)                                                                  \
  X(MLPRT_I64, int64_t, on_missing_column)   /* failsafe policies (MLPRT_FAILSAFE_*) */                      \
  X(MLPRT_I64, int64_t, on_unknown_category)                                                                 \
  X(MLPRT_I64, int64_t, on_out_of_range)                                                                     \
  X(MLPRT_I64, int64_t, on_nan)                                                                              \
  X(MLPRT_F64, double, range_margin)         /* out of range: beyond [lo - m w, hi + m w], w = hi - lo */    \
  X(MLPRT_F64, double, fallback_value)       /* regression fallback */                                       \
  X(MLPRT_PTR, const char *, fallback_label) /* classification fallback; NULL when none was declared */      \
  X(MLPRT_F64, double, drift_threshold)      /* monitoring: PSI of features and predictions over bins */     \
  X(MLPRT_I64, int64_t, drift_window)        /* predictions per drift check */                               \
  X(MLPRT_I64, int64_t, drift_bins)          /* bins per feature (and for a regression's predictions) */     \
  X(MLPRT_PTR, const double *, drift_edges)  /* [n_in, drift_bins - 1] inner bin edges, from training */     \
  X(MLPRT_PTR, const double *, drift_ref)    /* [n_in, drift_bins] training fraction in each bin */          \
  X(MLPRT_PTR, const double *, pred_edges)   /* regression: [drift_bins - 1] value edges; else NULL */       \
  X(MLPRT_PTR, const double *, pred_ref)     /* [n_out classes or drift_bins] fraction of each prediction */ \
  X(MLPRT_F64, double, max_latency_ms)       /* deploy.max_latency_ms: warn when a batch's rows took longer \
                                                each on average; 0: no budget */                             \
  X(MLPRT_PTR, const double *, feature_mean) /* [n_in] each feature's mean over the training rows; NULL  */  \
  X(MLPRT_PTR, const double *, feature_std)  /* [n_in] and its standard deviation (--serve's drift) */
typedef struct {
  MLPRT_PREDICTOR_FIELDS(MLPRT_DESC_MEMBER)
} MlprtPredictor;
#define MLPRT_PREDICTOR_INDEX(kind, type, name) MLPRT_PREDICTOR_##name,
enum { MLPRT_PREDICTOR_FIELDS(MLPRT_PREDICTOR_INDEX) MLPRT_PREDICTOR_NFIELDS };
MLPRT_PREDICTOR_FIELDS(MLPRT_DESC_SLOT)
_Static_assert(sizeof(MlprtPredictor) == 8 * MLPRT_PREDICTOR_NFIELDS, "MlprtPredictor is its slots in order");

/* The functions of this header that generated code calls (mlp/abi.def). */
#define MLPRT_ABI_PREDICT(ret, name, params) ret name params;
#include "mlp/abi.def"

/* Bytes of scratch mlprt_predict_fields needs for p (abi.def). */
size_t mlprt_predict_scratch_bytes(const MlprtPredictor *p);

#endif
