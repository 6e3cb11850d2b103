/* predict_int.h — private interfaces between the predictor's parts in
 * runtime/predict/: the per-row transform and failsafes (row.c), the
 * answers (row.c), the program's input and output (main.c) and the
 * monitoring (monitor.c). Not installed. */
#ifndef MLPRT_PREDICT_INT_H
#define MLPRT_PREDICT_INT_H

#include "mlp/predict.h"
#include "runtime/data/data_int.h"

/* What became of a row's fields. */
enum { MLPRT_ROW_OK, MLPRT_ROW_FALLBACK, MLPRT_ROW_REJECT };

/* Bytes of the per-row state of p's plan (slots, made texts), a multiple
 * of 64. */
size_t mlprt_pred_row_bytes(const MlprtPredPlan *pl);
/* Ready a row state (the missing-value tokens) before its first row. */
void mlprt_pred_row_init(void *state, const MlprtPredPlan *pl);
/* Check fields (fields[i]: input i's text, NUL-terminated; NULL: the
 * column is absent) against the failsafe policies and run the feature
 * program: x [n_in] receives the model features. Returns MLPRT_ROW_*;
 * reason (n bytes) says why a row falls back or is rejected; for an
 * answered row whose input a policy changed, "impute: why" or "clip: why";
 * else "". */
int mlprt_pred_row(const MlprtPredictor *p, const char *const *fields, float *x, void *state, char *reason,
                   size_t n);

/* ---- resample: raw rows put on the time grid (resample.c) ---- */

/* What the grid rows go to: a row's fields (the plan's inputs), its time
 * and series key as text (key NULL without a group key), or the reason a
 * raw row cannot join the grid (error not NULL; fields are then the raw
 * row's). */
typedef void (*MlprtResampleEmit)(void *ctx, const char *const *fields, const char *time, const char *key,
                                  const char *error);
typedef struct MlprtResampler MlprtResampler;
/* The resampler of a plan whose program starts with a RESAMPLE step, else
 * NULL. It lives for one input. */
MlprtResampler *mlprt_resampler_open(const MlprtPredPlan *pl);
/* One raw row: the grid rows it completes (its series' open bucket and
 * the gaps after it) go to emit, in time order. */
void mlprt_resampler_row(MlprtResampler *rs, const char *const *fields, MlprtResampleEmit emit, void *ctx);
/* The end of the input: every series' open bucket goes to emit. */
void mlprt_resampler_end(MlprtResampler *rs, MlprtResampleEmit emit, void *ctx);
void mlprt_resampler_free(MlprtResampler *rs);

/* Classes of a classifier (lines of p->classes); 0 for regression. */
int64_t mlprt_pred_nclasses(const MlprtPredictor *p);
/* Class k's name into buf (without its '\n'). */
const char *mlprt_pred_class(const MlprtPredictor *p, int64_t k, char *buf, size_t n);
/* The index of the fallback class, or -1 when none was declared (or the
 * declared one is not a class). */
int64_t mlprt_pred_fallback_class(const MlprtPredictor *p);
/* One row's answer from the model's outputs o [n_out]: the class (0 for
 * regression) and probs [nclasses] (regression: probs[0] is the value in
 * the target's units, as a double). */
int64_t mlprt_pred_answer(const MlprtPredictor *p, const float *o, double *probs);

/* Seconds on the monotonic clock (main.c). */
double mlprt_pred_now(void);

/* What answering an input came to. feature_sum, when not NULL on entry,
 * is [n_in] sums to which the features of every row the model answered
 * are added (answered counts those rows). */
typedef struct {
  int64_t rows, rejected, fallbacks, imputed, clipped, answered;
  double *feature_sum;
} MlprtPredTally;

/* The records of text (len bytes: CSV with its header, or JSON lines) answered
 * on out as the command line answers them, messages on err: 0, 1 some rows
 * rejected, 2 the input could not be read (main.c). t->feature_sum is read
 * on entry (see MlprtPredTally). */
int mlprt_pred_answer_text(const MlprtPredictor *p, const char *text, size_t len, bool jsonl, FILE *out,
                           FILE *err, MlprtPredTally *t);
/* Serve p over HTTP on addr ("ADDR:PORT", ":PORT" or "PORT": loopback)
 * until SIGTERM or SIGINT, request bodies up to max_request bytes (0: the
 * default); the exit status (serve.c). */
int mlprt_pred_serve(const MlprtPredictor *p, const char *addr, size_t max_request, const char *prog);

/* ---- signatures: checking them (verify.c) for sign.c and --verify ---- */

/* An Ed25519 check of a signature of m (mlen bytes) by pk: 0 when valid
 * (libsodium's crypto_sign_ed25519_verify_detached). */
typedef int (*MlprtSigCheck)(const unsigned char *sig, const unsigned char *m, unsigned long long mlen,
                             const unsigned char *pk);
/* Exactly 2 n hex digits, then only white space, into out: 0, or -1. */
int mlprt_hex_bytes(const char *s, uint8_t *out, size_t n);
/* MLPC_VERIFY_KEY into pk: 0; 1 when unset; -1 with a message. */
int mlprt_public_key(uint8_t pk[32], char *err, size_t n);
/* DIR's manifest against its seal and, by the key state k (mlprt_verify_key's
 * answer) and the key pk, its signature, checked by verify. 0, or -1 with a
 * message naming the file at fault. */
int mlprt_manifest_check_with(const char *dir, int k, const uint8_t pk[32], MlprtSigCheck verify, char *err,
                              size_t n);

/* ---- JSON scanning in place (jscan.c) ---- */

/* A hex digit's value, or -1. */
int mlprt_hex_digit(int c);
/* s past JSON white space. */
const char *mlprt_json_ws(const char *s);
/* A JSON string starting after its opening quote, decoded to UTF-8 at the
 * same place (never past the read position) and NUL-terminated at *out;
 * returns the position after the closing quote, or NULL with why. */
char *mlprt_json_string(char *s, char **out, const char **why);
/* The position after the JSON value at s (nested objects and arrays
 * included; strings are decoded in place), or NULL when it is malformed. */
char *mlprt_json_skip(char *s);

/* s as a JSON string, quoted and escaped (main.c). */
void mlprt_json_put(FILE *f, const char *s);

/* ---- monitoring (monitor.c) ---- */

typedef struct MlprtPredMonitor MlprtPredMonitor;
/* log_path: one JSON line per prediction, or NULL; drift: watch drift,
 * with its report written to drift_path when not NULL. NULL with a
 * message when a file cannot be opened. */
MlprtPredMonitor *mlprt_pred_monitor_open(const MlprtPredictor *p, const char *log_path, bool drift,
                                          const char *drift_path, char *err, size_t n);
/* One input row (1-based): its features x (NULL when rejected), the
 * answer (class and probabilities / value) or the reason. */
void mlprt_pred_monitor_row(MlprtPredMonitor *m, int64_t row, const float *x, int state, int64_t cls,
                            const double *probs, const char *reason);
/* Model feature k's name (an input's own, or the one the cleaning step
 * that made it gave its column) into buf. */
void mlprt_pred_feature_name(const MlprtPredictor *p, int64_t k, char *buf, size_t n);
/* The final drift check and report; frees m. 0, or -1 when a file could
 * not be written. */
int mlprt_pred_monitor_close(MlprtPredMonitor *m);

/* Population stability index of the observed counts cnt [bins] (total
 * rows) against the expected fractions ref [bins], fractions floored at
 * 1e-4: sum (a - e) ln(a / e). */
double mlprt_psi(const int64_t *cnt, int64_t total, const double *ref, int64_t bins);
/* The bin of v among edges [bins - 1]: the number of edges <= v. */
int64_t mlprt_bin_of(double v, const double *edges, int64_t bins);

#endif
