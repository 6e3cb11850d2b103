/* cli.c — the command line of a generated training program and the --set
 * overrides of a job's settings (see include/mlp/run.h). Consumes argv;
 * produces an MlprtCli and adjusted MlprtJob values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/run.h"

static const char cli_usage[] =
    "usage: %s [--data PATH] [--out DIR] [--set KEY=VALUE ...] [--threads N] [--seed N]\n"
    "          [--quiet] [--verbose] [--resume] [--tune] [--export-features DIR]\n"
    "\n"
    "Train the compiled pipeline and write its run directory.\n"
    "  --data PATH        read this data file instead of the compiled one\n"
    "  --out DIR          run directory (default: the spec's environment.out), replaced as a whole\n"
    "                     when the run is complete; one run at a time (DIR.lock)\n"
    "  --set KEY=VALUE    override a setting: epochs, lr, patience, seed, smoke_epochs,\n"
    "                     early_stopping (0 or 1)\n"
    "  --threads N        threads for matrix products\n"
    "  --seed N           seed for initialisation, shuffling and dropout\n"
    "  --quiet            no progress output\n"
    "  --verbose          every epoch of every tuning trial, with its learning rate\n"
    "  --resume           continue a killed run from its last checkpoint (its staging directory\n"
    "                     DIR.staging-PID, else DIR/checkpoint.bin) when it matches\n"
    "  --tune             also run the spec's tuning trials; the best one's weights and metrics win\n"
    "  --export-features DIR\n"
    "                     write the cleaned data (features and target) to DIR/train.csv,\n"
    "                     DIR/validation.csv and DIR/test.csv, and train nothing\n"
    "\n"
    "Exit status: 0 success, 1 the data or the training failed, 2 usage or I/O errors.\n";

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int mlprt_cli_parse(int argc, char **argv, MlprtCli *cli, char *err, size_t n) {
  memset(cli, 0, sizeof *cli);
  cli->seed = -1;
  const char *prog = argc > 0 ? argv[0] : "train";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    /* GNU long options: "--out=DIR" as "--out DIR" */
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    char name[32];
    if (eq && (size_t)(eq - a) < sizeof name) {
      memcpy(name, a, (size_t)(eq - a));
      name[eq - a] = 0;
      a = name;
    }
    const char *val = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
    int64_t v;
    if (eq && (strcmp(a, "--help") == 0 || strcmp(a, "--quiet") == 0 || strcmp(a, "--verbose") == 0 ||
               strcmp(a, "--resume") == 0 || strcmp(a, "--tune") == 0)) {
      snprintf(err, n, "option '%s' takes no value", a);
      return -1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      snprintf(err, n, cli_usage, prog);
      return 1;
    } else if (strcmp(a, "--quiet") == 0) {
      cli->quiet = true;
    } else if (strcmp(a, "--verbose") == 0) {
      cli->verbose = true;
    } else if (strcmp(a, "--resume") == 0) {
      cli->resume = true;
    } else if (strcmp(a, "--tune") == 0) {
      cli->tune = true;
    } else if (strcmp(a, "--data") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--set") == 0 ||
               strcmp(a, "--threads") == 0 || strcmp(a, "--seed") == 0 ||
               strcmp(a, "--export-features") == 0) {
      if (!val) {
        snprintf(err, n, "option '%s' needs a value", a);
        return -1;
      }
      i += !eq;
      if (a[2] == 'd') {
        cli->data = val;
      } else if (a[2] == 'e') {
        cli->export_features = val;
      } else if (a[2] == 'o') {
        cli->out = val;
      } else if (strcmp(a, "--set") == 0) {
        const char *kv = strchr(val, '=');
        if (!kv || kv == val) {
          snprintf(err, n, "--set expects KEY=VALUE, got '%s'", val);
          return -1;
        }
        if (cli->nsets == MLPRT_MAX_SETS) {
          snprintf(err, n, "at most %d --set options", MLPRT_MAX_SETS);
          return -1;
        }
        /* argv outlives the program's run, so the key can point into it. */
        cli->set_key[cli->nsets] = val;
        cli->set_val[cli->nsets++] = kv + 1;
      } else if (strcmp(a, "--threads") == 0) {
        if (parse_i64(val, 1, 1024, &v)) {
          snprintf(err, n, "bad --threads value '%s' (1 to 1024)", val);
          return -1;
        }
        cli->threads = (int)v;
      } else {
        if (parse_i64(val, 0, INT64_MAX, &v)) {
          snprintf(err, n, "bad --seed value '%s' (a non-negative integer)", val);
          return -1;
        }
        cli->seed = v;
      }
    } else {
      snprintf(err, n, "unknown option '%s' (try --help)", a);
      return -1;
    }
  }
  return 0;
}

/* The key of a --set entry ends at its '='. */
static bool key_is(const char *key, const char *name) {
  size_t n = strlen(name);
  return strncmp(key, name, n) == 0 && key[n] == '=';
}

int mlprt_job_set(MlprtJob *job, const char *key, const char *val, char *err, size_t n) {
  int64_t v;
  char *end;
  if (key_is(key, "lr")) {
    errno = 0;
    double d = strtod(val, &end);
    if (errno || end == val || *end || !(d > 0 && d < 10)) {
      snprintf(err, n, "bad value for lr: '%s' (a number in (0, 10))", val);
      return -1;
    }
    job->lr = d;
    return 0;
  }
  int64_t *field = key_is(key, "epochs")           ? &job->epochs
                   : key_is(key, "patience")       ? &job->patience
                   : key_is(key, "seed")           ? &job->seed
                   : key_is(key, "smoke_epochs")   ? &job->smoke_epochs
                   : key_is(key, "early_stopping") ? &job->early_stop
                                                   : NULL;
  if (!field) {
    size_t klen = strcspn(key, "=");
    snprintf(err, n, "unknown --set key '%.*s' (epochs, lr, patience, seed, smoke_epochs, early_stopping)",
             (int)klen, key);
    return -1;
  }
  int64_t hi = field == &job->early_stop ? 1 : field == &job->seed ? INT64_MAX : 1000000;
  int64_t lo = field == &job->epochs ? 1 : 0;
  if (parse_i64(val, lo, hi, &v)) {
    size_t klen = strcspn(key, "=");
    snprintf(err, n, "bad value for %.*s: '%s' (an integer in %lld..%lld)", (int)klen, key, val,
             (long long)lo, (long long)hi);
    return -1;
  }
  *field = v;
  return 0;
}
