/* testutil.h — helpers shared by the Check suites. */
#ifndef MLP_TESTUTIL_H
#define MLP_TESTUTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rundir.h"

/* The result of running a command: exit status (or 128+signal) and its
 * captured standard output and error (NUL-terminated, malloc'd). */
typedef struct {
  int status;
  char *out, *err;
} TestRun;

/* Run argv (argv[0] searched in PATH) with stdin from in_path (NULL: /dev/null). */
TestRun test_run(const char *const *argv, const char *in_path);
/* Start argv with stdin from in_path (NULL: /dev/null) and stdout, stderr
 * on the given descriptors; its pid. */
pid_t test_spawn(const char *const *argv, const char *in_path, int out_fd, int err_fd);
/* Everything in fd from its start, NUL-terminated (malloc'd). */
char *test_slurp_fd(int fd);
void test_run_free(TestRun *r);
/* The compiler under test: $MLPC, or build/mlpc. */
const char *test_mlpc(void);
/* Read a whole file (malloc'd, NUL-terminated); NULL if it cannot be read. */
char *test_read_file(const char *path, size_t *len);
/* A spec of examples/EXAMPLE.mlp's data section (its paths made absolute)
 * with `model` as the model section's body and `extra` (sections, or NULL)
 * after it, written to DIR/NAME.mlp; returns that path (malloc'd). */
char *test_example_spec(const char *dir, const char *example, const char *name, const char *model,
                        const char *extra);
/* A spec of the example's data with model (and extra) that mlpc build must
 * refuse, saying message; the test fails otherwise. */
void test_expect_refused(const char *dir, const char *example, const char *model, const char *extra,
                         const char *message);
/* DIR/NAME parsed as JSON, or the test fails. */
cJSON *test_read_json(const char *dir, const char *name);
/* The number at o.a(.b(.c)), or the test fails. */
double test_json_num(const cJSON *o, const char *a, const char *b, const char *c);
/* A fresh temporary directory (malloc'd path). */
char *test_tmpdir(void);
/* "A/B" (malloc'd). */
char *test_path(const char *a, const char *b);
/* Fail unless file name is byte for byte the same in directories a and b. */
void test_expect_same_file(const char *a, const char *b, const char *name);
/* Run argv; the test fails with its stderr unless it exits 0. */
void test_run_ok(const char *const *argv);
/* mlpc build SPEC -o DIR/NAME.exe, then train it on one thread into
 * DIR/NAME.run (--quiet), or fail the test; the run directory's path
 * (malloc'd). */
char *test_train(const char *spec, const char *dir, const char *name);
/* The scikit-learn oracle tests/parity/SCRIPT run by /usr/bin/python3 with
 * the n arguments args, then the space-separated words of settings: its
 * JSON answer (cJSON_Delete it), or NULL after reporting `what` skipped
 * when scikit-learn is missing (the script's status 2). The test fails
 * when the script does. */
cJSON *test_parity_oracle(const char *what, const char *script, const char *const *args, int n,
                          const char *settings);
/* The cleaned splits of the program test_train built, DIR/NAME.exe,
 * written by its --export-features to DIR/features; that path (malloc'd). */
char *test_export_features(const char *dir, const char *name);
/* mlpc export RUN -o PRED, then PRED on the run's test_rows.csv answering
 * as its predictions.csv did (whose first `skip` fields the predictor does
 * not print); what names the case in messages. */
void test_predictor_as_trained(const char *run, const char *pred, int skip, const char *what);
/* NAME in the staging directory a training process PID writes before its
 * run replaces DIR: "DIR.staging-PID/NAME" (malloc'd). */
char *test_staged(const char *dir, long pid, const char *name);
/* The PID of a process that has ended (a child reaped here). */
long test_dead_pid(void);
/* How many entries of dir have part in their name. */
int test_count_named(const char *dir, const char *part);
/* Flip bit `bit` of byte `at` of the file path (at taken modulo its size);
 * returns the byte offset flipped, or -1 when the file cannot be changed. */
long test_flip_bit(const char *path, long at, int bit);
/* A fresh tmpfs of `bytes` mounted on a new temporary directory (malloc'd
 * path), for disk-full checks; NULL with the reason in why when this
 * process may not mount (not root, no tmpfs). test_small_disk_fill leaves
 * about `left` bytes free in it; test_small_disk_free unmounts and removes
 * it. */
char *test_small_disk(size_t bytes, const char **why);
void test_small_disk_fill(const char *dir, size_t left);
void test_small_disk_free(char *dir);
/* Write text to path, or fail the test. */
void test_write_text(const char *path, const char *text);

/* ---- missing oracles ---- */

/* A check whose oracle (a tool, a Python module, a data file: what the
 * deps script installs) is missing is skipped, never passed in silence:
 * test_skip prints "SKIP: what (oracle): why" on stderr and logs it for
 * check_all's summary ("N passed, N failed, N skipped"), where a test
 * that skipped any check counts as skipped (tests are told apart by the
 * process Check forks for each). The caller then returns. */
void test_skip(const char *what, const char *oracle, const char *why);
/* The environment variable naming the log test_skip appends to. */
#define TEST_SKIP_LOG "MLP_SKIP_LOG"

/* ---- small CSV reading (predictor answers, test rows) ---- */

enum { TEST_MAXF = 1024, TEST_MAXROWS = 4096 };
/* The fields of one CSV line (quotes and doubled quotes undone), at most
 * max; returns their count. Each field is malloc'd. */
int test_csv_fields(const char *line, char **out, int max);
void test_fields_free(char **f, int n);
/* The index of the field equal to name, or -1. */
int test_field_index(char **f, int n, const char *name);
/* The lines of text, each NUL-terminated in place (*lines malloc'd);
 * returns their count. */
int test_split_lines(char *text, char ***lines);
/* The run's test_rows.csv without the target column, as out_path: the same
 * rows, in order, that predictions.csv answers. far[r] says whether row r
 * has a value beyond the predictor's range margin, which its out_of_range
 * failsafe changes (far holds TEST_MAXROWS). Returns the row count. */
int test_inputs_without_target(const MlpRunDir *rd, const char *target, const char *out_path, bool *far);

#endif
