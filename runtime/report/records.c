/* records.c — what report.html shows, read from a run's records: the
 * manifest (data, environment, jobs, tuning, metrics, the kept job's model,
 * analysis, artifacts), the learning curves of the kept job from
 * metrics.jsonl, and the cleaning record. The training program writes its
 * report through here from the manifest it is about to seal, and
 * `mlpc report RUN` writes it again from the sealed files, so both are the
 * same file. Consumes cJSON documents and JSON-lines text; produces one
 * HTML file through report.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_int.h"

static double num(const cJSON *o, const char *key, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The kept job's curves from metrics.jsonl: one line per epoch. */
typedef struct {
  double *train, *val, *score;
  int64_t epochs;
} Curves;

/* The next line of *rest (its length in *len), or NULL at the end. */
static const char *next_line(const char **rest, size_t *len) {
  const char *line = *rest;
  if (!line || !*line) return NULL;
  const char *nl = strchr(line, '\n');
  *len = nl ? (size_t)(nl - line) : strlen(line);
  *rest = nl ? nl + 1 : NULL;
  return line;
}

/* The numbers of a line of metrics.jsonl (flat objects of numbers, as
 * run.c writes them) read in place, allocating nothing: the report costs
 * no heap per epoch. */
typedef struct {
  char text[1024];
} Line;

static void line_set(Line *l, const char *line, size_t len) {
  len = len < sizeof l->text - 1 ? len : sizeof l->text - 1;
  memcpy(l->text, line, len);
  l->text[len] = '\0';
}

/* The number after "KEY": in l, or NaN. */
static double field(const Line *l, const char *key) {
  char pat[48];
  int n = snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *at = strstr(l->text, pat);
  return at ? strtod(at + n, NULL) : NAN;
}

static Curves read_curves(const char *metrics, int64_t job, bool classify) {
  Curves c = {0};
  Line l;
  size_t len;
  const char *rest = metrics;
  for (const char *line; (line = next_line(&rest, &len));) {
    line_set(&l, line, len);
    double e = field(&l, "epoch");
    if (field(&l, "job") == (double)job && e >= 1 && e <= 1e7 && e > (double)c.epochs) c.epochs = (int64_t)e;
  }
  size_t n = (size_t)(c.epochs ? c.epochs : 1);
  c.train = malloc(n * sizeof *c.train);
  c.val = malloc(n * sizeof *c.val);
  c.score = malloc(n * sizeof *c.score);
  for (int64_t e = 0; e < c.epochs; e++) c.train[e] = c.val[e] = c.score[e] = NAN;
  rest = metrics;
  for (const char *line; (line = next_line(&rest, &len));) {
    line_set(&l, line, len);
    double e = field(&l, "epoch");
    if (field(&l, "job") != (double)job || !(e >= 1 && e <= (double)c.epochs)) continue;
    c.train[(int64_t)e - 1] = field(&l, "train_loss");
    c.val[(int64_t)e - 1] = field(&l, "val_loss");
    c.score[(int64_t)e - 1] = field(&l, classify ? "val_accuracy" : "val_r2");
  }
  return c;
}

/* The manifest's job object of job index job, or NULL. */
static const cJSON *job_of(const cJSON *manifest, int64_t job) {
  const cJSON *j;
  cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(manifest, "jobs"))
    if ((int64_t)num(j, "job", -1) == job) return j;
  return NULL;
}

/* JSON lines as one array. */
static cJSON *lines_array(const char *text) {
  cJSON *all = cJSON_CreateArray();
  size_t len;
  for (const char *line; (line = next_line(&text, &len));) {
    cJSON *o = cJSON_ParseWithLength(line, len);
    if (o) cJSON_AddItemToArray(all, o);
  }
  return all;
}

int mlprt_report_from_manifest(const cJSON *manifest, const char *metrics, const char *trials,
                               const cJSON *cleaning, const char *path) {
  const cJSON *rep = cJSON_GetObjectItemCaseSensitive(manifest, "report");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(manifest, "data");
  const cJSON *all = cJSON_GetObjectItemCaseSensitive(manifest, "metrics");
  const char *split = str(all, "evaluated_on");
  const cJSON *scores = cJSON_GetObjectItemCaseSensitive(all, split ? split : "validation");
  const cJSON *mod = cJSON_GetObjectItemCaseSensitive(rep, "model");
  MlprtModel model = {.fit = (int64_t)num(mod, "fit", 0),
                      .task = (int64_t)num(mod, "task", 0),
                      .n_in = (int64_t)num(mod, "inputs", 0),
                      .n_out = (int64_t)num(mod, "outputs", 0),
                      .n_params = (int64_t)num(mod, "parameters", 0),
                      .flops = (int64_t)num(mod, "flops", 0),
                      .arena_bytes = (int64_t)num(mod, "arena_bytes", 0),
                      .batch = (int64_t)num(mod, "batch", 0)};
  bool classify = model.task != MLPRT_TASK_REGRESSION;
  /* The metrics asked for, in the order asked, the loss first. */
  const cJSON *asked = cJSON_GetObjectItemCaseSensitive(rep, "metrics"), *m;
  int nm = 0;
  const char *names[MLPRT_NMETRICS + 1];
  double vals[MLPRT_NMETRICS + 1];
  cJSON_ArrayForEach(m, asked) if (cJSON_IsString(m) && nm <= MLPRT_NMETRICS) {
    names[nm] = m->valuestring;
    vals[nm++] = num(scores, m->valuestring, NAN);
  }
  /* Classes, each one's scores and the counts they come from. */
  const cJSON *cls = cJSON_GetObjectItemCaseSensitive(scores, "classes");
  const cJSON *conf = cJSON_GetObjectItemCaseSensitive(scores, "confusion");
  int nc = cJSON_GetArraySize(cls);
  const char **classes = calloc((size_t)nc + 1, sizeof *classes);
  int64_t *counts = calloc((size_t)nc * (size_t)nc + 1, sizeof *counts);
  for (int i = 0; i < nc; i++) {
    classes[i] = cJSON_GetStringValue(cJSON_GetArrayItem(cls, i));
    for (int k = 0; k < nc; k++)
      counts[i * nc + k] = (int64_t)cJSON_GetNumberValue(cJSON_GetArrayItem(cJSON_GetArrayItem(conf, i), k));
  }
  MlprtClassScores *per = NULL;
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "per_class")) && nc > 0) {
    per = malloc((size_t)nc * sizeof *per);
    for (int k = 0; k < nc; k++) per[k] = mlprt_class_scores(counts, nc, k);
  }
  /* Several sources are one path per line. */
  char *sources = NULL;
  size_t slen = 0;
  FILE *sf = open_memstream(&sources, &slen);
  const cJSON *p;
  if (str(data, "path")) fputs(str(data, "path"), sf);
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(data, "paths"))
    fprintf(sf, "%s%s", p == cJSON_GetObjectItemCaseSensitive(data, "paths")->child ? "" : "\n",
            cJSON_GetStringValue(p));
  fclose(sf);
  int64_t job = (int64_t)num(rep, "job", 0);
  const cJSON *kept = job_of(manifest, job);
  Curves c = read_curves(metrics, job, classify);
  char *hp = kept ? cJSON_Print(cJSON_GetObjectItemCaseSensitive(kept, "hyperparameters")) : NULL;
  /* The artifacts beside the report, not the report itself. */
  cJSON *shown = cJSON_Duplicate(manifest, true);
  cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(shown, "artifacts"),
                                          str(rep, "file"));
  MlprtReport r = {
      .pipeline = str(manifest, "pipeline"),
      .data_path = sources,
      .test_path = str(cJSON_GetObjectItemCaseSensitive(data, "test_source"), "path"),
      .rows = {(int64_t)num(data, "train", 0), (int64_t)num(data, "validation", 0),
               (int64_t)num(data, "test", 0)},
      .features = (int64_t)num(data, "features", 0),
      .split = split ? split : "validation",
      .metric_names = names,
      .metric_values = vals,
      .nmetrics = nm,
      .classes = classes,
      .nclasses = nc,
      .per_class = per,
      .confusion = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "confusion")) && nc > 0 ? counts : NULL,
      .curves = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "learning_curves")),
      .bias_variance = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "bias_variance")),
      .train_loss = c.train,
      .val_loss = c.val,
      .val_score = c.score,
      .score_name = classify ? "validation accuracy" : "validation R\u00b2",
      .epochs = c.epochs,
      .best_epoch = (int64_t)num(cJSON_GetObjectItemCaseSensitive(kept, "fit"), "best_epoch", 0),
      .hyperparameters = hp ? hp : "",
      .baseline = str(cJSON_GetObjectItemCaseSensitive(manifest, "baseline"), "verdict"),
      .model = &model,
      .manifest = shown,
      .cleaning = cleaning,
      .trials = trials ? lines_array(trials) : NULL};
  int rc = mlprt_report_write(path, &r);
  int saved = errno;
  cJSON_Delete((cJSON *)r.trials);
  cJSON_Delete(shown);
  free(hp);
  free(c.train);
  free(c.val);
  free(c.score);
  free(sources);
  free(per);
  free(counts);
  free(classes);
  errno = saved;
  return rc;
}

/* DIR/NAME read whole, or NULL. */
static char *read_in(const char *dir, const char *name) {
  char *path = mlprt_path_join(dir, name);
  size_t len;
  char *text = mlprt_read_whole(path, &len);
  free(path);
  return text;
}

int mlprt_report_rerun(const char *dir, const char *path, char *err, size_t n) {
  if (mlprt_manifest_verify(dir, err, n) != 0) return -1;
  char *text = read_in(dir, "manifest.json");
  cJSON *man = text ? cJSON_Parse(text) : NULL;
  free(text);
  const cJSON *rep = cJSON_GetObjectItemCaseSensitive(man, "report");
  if (!rep) {
    cJSON_Delete(man);
    snprintf(err, n, "%s records no report (analysis.report was off, or an older mlpc made it)", dir);
    return -1;
  }
  char *metrics = read_in(dir, "metrics.jsonl"), *trials = read_in(dir, "trials.jsonl");
  const char *clean_name = str(rep, "cleaning");
  char *clean_text = read_in(dir, clean_name ? clean_name : "cleaning.json");
  cJSON *cleaning = clean_text ? cJSON_Parse(clean_text) : NULL;
  free(clean_text);
  /* In the run directory the report is sealed with the rest: it is
   * replaced only by the same bytes (one that was lost or damaged). */
  const char *name = str(rep, "file");
  char *own = mlprt_path_join(dir, name), *fresh = malloc(strlen(own) + 7);
  snprintf(fresh, strlen(own) + 7, "%s.fresh", own);
  int rc = mlprt_report_from_manifest(man, metrics ? metrics : "", trials, cleaning, path ? path : fresh);
  if (rc != 0) {
    snprintf(err, n, "cannot write '%s': %s", path ? path : fresh, strerror(errno));
  } else if (!path) {
    char hex[65];
    const char *sealed = str(cJSON_GetObjectItemCaseSensitive(man, "artifacts"), name);
    if (mlprt_sha256_file(fresh, hex) != 0 || !sealed || strcmp(hex, sealed) != 0) {
      snprintf(err, n, "the report made again differs from the one %s/manifest.json seals (another mlpc "
               "made the run); write it elsewhere with -o FILE", dir);
      rc = -1;
    } else if (rename(fresh, own) != 0) {
      snprintf(err, n, "cannot write '%s': %s", own, strerror(errno));
      rc = -1;
    }
    unlink(fresh);
  }
  free(own);
  free(fresh);
  free(metrics);
  free(trials);
  cJSON_Delete(cleaning);
  cJSON_Delete(man);
  return rc;
}
