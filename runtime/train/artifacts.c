/* artifacts.c — what a trained run leaves for its predictor (step 8):
 * test_rows.csv (the tested rows as the source had them), predictions.csv
 * (the kept job's answer for each of them), reference.json (raw input
 * ranges, decile bins of every model feature and of the predictions over
 * the training rows, the schema) and MODEL_CARD.md. Consumes the prepared
 * data set, the kept job's outputs and the manifest under construction;
 * produces the four files, written atomically, and their SHA-256 in the
 * manifest's "artifacts". */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train_int.h"

#define NBINS 10

/* Write a memstream's text to DIR/NAME and add its digest to arts. */
static int finish(const MlprtArtifacts *a, cJSON *arts, const char *name, FILE *f, char **text, size_t *len,
                  char *err, size_t n) {
  bool bad = ferror(f) != 0;
  fclose(f);
  size_t plen = strlen(a->dir) + strlen(name) + 2;
  char *path = malloc(plen);
  snprintf(path, plen, "%s/%s", a->dir, name);
  int rc = 0;
  if (bad || mlprt_write_atomic(path, *text, *len, true) != 0) {
    snprintf(err, n, "cannot write '%s': %s", path, strerror(errno));
    rc = -1;
  } else {
    char hex[65];
    mlprt_sha256_hex(*text, *len, hex);
    cJSON_AddStringToObject(arts, name, hex);
  }
  free(path);
  free(*text);
  *text = NULL;
  return rc;
}

/* The class the outputs o (d->K of them) predict. */
static int predicted_class(const MlprtDataset *d, const float *o) {
  if (d->K == 1) return o[0] >= 0.5f;
  int best = 0;
  for (int64_t k = 1; k < d->K; k++)
    if (o[k] > o[best]) best = (int)k;
  return best;
}

/* Probability of class k from the outputs: a sigmoid's single output is
 * the second class's probability. */
static float class_prob(const MlprtDataset *d, const float *o, int k) {
  return d->K == 1 ? (k ? o[0] : 1 - o[0]) : o[k];
}

/* ---- test_rows.csv and predictions.csv ---------------------------------------- */

/* IDX images: one column per pixel (raw bytes) and the label. */
static void idx_rows(const MlprtArtifacts *a, FILE *f) {
  const MlprtDataset *d = a->d;
  int s = d->raw_split;
  for (int64_t k = 0; k < d->F; k++) fprintf(f, "pixel%lld,", (long long)k);
  mlprt_csv_put(f, a->p->target);
  fputc('\n', f);
  for (int64_t i = 0; i < d->n[s]; i++) {
    const uint8_t *px = d->pixels + d->pixel_row[s][i] * d->F;
    for (int64_t k = 0; k < d->F; k++) fprintf(f, "%u,", px[k]);
    mlprt_csv_put(f, d->class_names[d->label[s][i]]);
    fputc('\n', f);
  }
}

/* The 1-based source row of tested row i. */
static int64_t source_row(const MlprtDataset *d, int64_t i) {
  return d->pixels ? d->pixel_row[d->raw_split][i] + 1 : d->raw.rowid[i];
}

static int write_rows(const MlprtArtifacts *a, cJSON *arts, char *err, size_t n) {
  const MlprtDataset *d = a->d;
  char *text = NULL;
  size_t len = 0;
  if (!d->pixels) {
    /* The data step's own CSV export, so values read back as loaded. */
    size_t plen = strlen(a->dir) + 16;
    char *path = malloc(plen);
    snprintf(path, plen, "%s/test_rows.csv", a->dir);
    MlprtError e;
    int rc = mlprt_table_write_csv(&d->raw, path, -1, &e);
    char hex[65];
    if (rc == 0 && mlprt_sha256_file(path, hex) == 0)
      cJSON_AddStringToObject(arts, "test_rows.csv", hex);
    else if (rc != 0)
      mlprt_error_format(&e, err, n);
    free(path);
    if (rc != 0) return -1;
  } else {
    FILE *f = open_memstream(&text, &len);
    idx_rows(a, f);
    if (finish(a, arts, "test_rows.csv", f, &text, &len, err, n) != 0) return -1;
  }
  FILE *f = open_memstream(&text, &len);
  bool classify = a->task != MLPRT_TASK_REGRESSION;
  fputs(classify ? "row,label" : "row,value", f);
  char name[512];
  for (int k = 0; classify && k < d->nclasses; k++) {
    snprintf(name, sizeof name, "p_%s", d->class_names[k]);
    fputc(',', f);
    mlprt_csv_put(f, name);
  }
  fputc('\n', f);
  for (int64_t i = 0; i < d->n[d->raw_split]; i++) {
    const float *o = a->test_out + i * d->K;
    fprintf(f, "%lld,", (long long)source_row(d, i));
    if (!classify) {
      fprintf(f, "%.9g\n", o[0] * d->y_std + d->y_mean);
      continue;
    }
    mlprt_csv_put(f, d->class_names[predicted_class(d, o)]);
    for (int k = 0; k < d->nclasses; k++) fprintf(f, ",%.9g", class_prob(d, o, k));
    fputc('\n', f);
  }
  return finish(a, arts, "predictions.csv", f, &text, &len, err, n);
}

/* ---- reference.json ---------------------------------------------------------------- */

/* The value of rank k in v[lo..hi) (0-based over the whole array), with
 * v partly reordered: a quickselect with three-way partitions, so columns
 * of few distinct values (one-hot, flags) stay linear. */
static double select_rank(double *v, int64_t lo, int64_t hi, int64_t k) {
  while (hi - lo > 1) {
    double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];
    double pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    /* [lo, lt) < pivot, [lt, i) == pivot, [gt, hi) > pivot */
    int64_t lt = lo, i = lo, gt = hi;
    while (i < gt) {
      double x = v[i];
      if (x < pivot) {
        v[i++] = v[lt];
        v[lt++] = x;
      } else if (x > pivot) {
        v[i] = v[--gt];
        v[gt] = x;
      } else {
        i++;
      }
    }
    if (k < lt)
      hi = lt;
    else if (k >= gt)
      lo = gt;
    else
      return pivot;
  }
  return v[lo];
}

/* Decile bins of v[0..n) (reordered): inner edge i (1..9) is the value of
 * rank floor(i n / 10) in sorted order, and a value x falls in bin
 * #edges <= x, so bin i holds edges[i-1] <= x < edges[i]. Adds "edges"
 * and "fractions" to o. */
static void decile_bins(cJSON *o, double *v, int64_t n) {
  double edges[NBINS - 1], frac[NBINS];
  int64_t cnt[NBINS] = {0};
  /* Ranks rise, so each selection searches right of the previous one. */
  int64_t from = 0;
  for (int i = 1; i < NBINS; i++) {
    int64_t k = i * n / NBINS;
    edges[i - 1] = n ? select_rank(v, from, n, k) : 0;
    from = k;
  }
  for (int64_t r = 0; r < n; r++) {
    int b = 0;
    for (int j = 0; j < NBINS - 1; j++) b += edges[j] <= v[r]; /* edges rise: a count, not a search */
    cnt[b]++;
  }
  for (int i = 0; i < NBINS; i++) frac[i] = n ? (double)cnt[i] / (double)n : 0;
  cJSON_AddItemToObject(o, "edges", cJSON_CreateDoubleArray(edges, NBINS - 1));
  cJSON_AddItemToObject(o, "fractions", cJSON_CreateDoubleArray(frac, NBINS));
}

/* The same bins from a histogram of byte values (IDX pixels, value b /
 * 255): exact, and without sorting every pixel column. */
static void byte_bins(cJSON *edges_arr, cJSON *frac_arr, const int64_t hist[256], int64_t n) {
  double edges[NBINS - 1], frac[NBINS];
  int64_t cnt[NBINS] = {0};
  for (int i = 1; i < NBINS; i++) {
    int64_t rank = i * n / NBINS, cum = 0;
    int v = 0;
    while (v < 255 && cum + hist[v] <= rank) cum += hist[v++];
    edges[i - 1] = n ? (double)(v / 255.0f) : 0;
  }
  for (int v = 0, b = 0; v < 256; v++) {
    while (b < NBINS - 1 && edges[b] <= (double)(v / 255.0f)) b++;
    cnt[b] += hist[v];
  }
  for (int i = 0; i < NBINS; i++) frac[i] = n ? (double)cnt[i] / (double)n : 0;
  cJSON_AddItemToArray(edges_arr, cJSON_CreateDoubleArray(edges, NBINS - 1));
  cJSON_AddItemToArray(frac_arr, cJSON_CreateDoubleArray(frac, NBINS));
}

/* The mean and the (population) standard deviation of the m values v,
 * each counted w[i] times (once when w is NULL), into the arrays means
 * and stds. */
static void add_moments(cJSON *means, cJSON *stds, const double *v, const int64_t *w, int64_t m) {
  double sum = 0, ss = 0, n = 0;
  for (int64_t i = 0; i < m; i++) sum += (w ? (double)w[i] : 1) * v[i], n += w ? (double)w[i] : 1;
  double mean = n > 0 ? sum / n : 0;
  for (int64_t i = 0; i < m; i++) ss += (w ? (double)w[i] : 1) * (v[i] - mean) * (v[i] - mean);
  cJSON_AddItemToArray(means, cJSON_CreateNumber(mean));
  cJSON_AddItemToArray(stds, cJSON_CreateNumber(n > 0 ? sqrt(ss / n) : 0));
}

/* "features": decile bins, the mean and the standard deviation of every
 * model feature over the training rows, as the model reads them (after
 * cleaning; pixels / 255). */
static cJSON *feature_bins(const MlprtDataset *d) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "bins", NBINS);
  cJSON *edges = cJSON_AddArrayToObject(o, "edges"), *fracs = cJSON_AddArrayToObject(o, "fractions");
  cJSON *means = cJSON_AddArrayToObject(o, "mean"), *stds = cJSON_AddArrayToObject(o, "std");
  int64_t n = d->n[MLPRT_TRAIN];
  if (d->pixels) {
    int64_t(*hist)[256] = calloc((size_t)d->F, sizeof *hist); /* [F][256] */
    for (int64_t i = 0; i < n; i++) {
      const uint8_t *px = d->pixels + d->pixel_row[MLPRT_TRAIN][i] * d->F;
      for (int64_t k = 0; k < d->F; k++) hist[k][px[k]]++;
    }
    double level[256]; /* a pixel byte's value as the model reads it */
    for (int b = 0; b < 256; b++) level[b] = (double)(b / 255.0f);
    for (int64_t k = 0; k < d->F; k++) {
      byte_bins(edges, fracs, hist[k], n);
      add_moments(means, stds, level, hist[k], 256);
    }
    free(hist);
    return o;
  }
  double *v = malloc((size_t)(n ? n : 1) * sizeof *v); /* [n] one feature's column */
  /* sparse rows: each feature's nonzeros, as the rows of the transpose */
  MlprtCsr byf = {0};
  if (d->sx) mlprt_csr_transpose(&d->sx[MLPRT_TRAIN], &byf);
  float *col = d->sx ? NULL : malloc((size_t)(n ? n : 1) * sizeof *col);
  for (int64_t k = 0; k < d->F; k++) {
    if (d->sx) {
      memset(v, 0, (size_t)n * sizeof *v);
      for (int64_t q = byf.ptr[k]; q < byf.ptr[k + 1]; q++) v[byf.col[q]] = byf.val[q];
    } else {
      mlprt_dataset_column(d, MLPRT_TRAIN, k, col);
      for (int64_t i = 0; i < n; i++) v[i] = col[i];
    }
    add_moments(means, stds, v, NULL, n); /* before decile_bins reorders v */
    cJSON *one = cJSON_CreateObject();
    decile_bins(one, v, n);
    cJSON_AddItemToArray(edges, cJSON_DetachItemFromObject(one, "edges"));
    cJSON_AddItemToArray(fracs, cJSON_DetachItemFromObject(one, "fractions"));
    cJSON_Delete(one);
  }
  mlprt_csr_free(&byf);
  free(v);
  free(col);
  return o;
}

/* "predictions": the fraction of training rows predicted as each class,
 * or decile bins of the predicted value (target units). */
static cJSON *prediction_bins(const MlprtArtifacts *a) {
  const MlprtDataset *d = a->d;
  int64_t n = d->n[MLPRT_TRAIN];
  cJSON *o = cJSON_CreateObject();
  if (a->task == MLPRT_TASK_REGRESSION) {
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = a->train_out[i * d->K] * d->y_std + d->y_mean;
    cJSON_AddNumberToObject(o, "bins", NBINS);
    decile_bins(o, v, n);
    free(v);
    return o;
  }
  double *frac = calloc((size_t)d->nclasses, sizeof *frac);
  int64_t *cnt = calloc((size_t)d->nclasses, sizeof *cnt);
  for (int64_t i = 0; i < n; i++) cnt[predicted_class(d, a->train_out + i * d->K)]++;
  for (int k = 0; k < d->nclasses; k++) frac[k] = n ? (double)cnt[k] / (double)n : 0;
  free(cnt);
  const char *const *names = (const char *const *)d->class_names;
  cJSON_AddItemToObject(o, "classes", cJSON_CreateStringArray(names, d->nclasses));
  cJSON_AddItemToObject(o, "fractions", cJSON_CreateDoubleArray(frac, d->nclasses));
  free(frac);
  return o;
}

/* IDX inputs: every pixel a byte 0..255. */
static cJSON *idx_inputs(const MlprtDataset *d) {
  cJSON *arr = cJSON_CreateArray();
  char name[32];
  for (int64_t k = 0; k < d->F; k++) {
    cJSON *o = cJSON_CreateObject();
    snprintf(name, sizeof name, "pixel%lld", (long long)k);
    cJSON_AddStringToObject(o, "column", name);
    cJSON_AddStringToObject(o, "type", "int");
    cJSON_AddNumberToObject(o, "min", 0);
    cJSON_AddNumberToObject(o, "max", 255);
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

static int write_reference(const MlprtArtifacts *a, cJSON *arts, char *err, size_t n) {
  const MlprtDataset *d = a->d;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddItemToObject(root, "inputs", d->pixels ? idx_inputs(d) : cJSON_Duplicate(d->inputs, true));
  cJSON_AddItemToObject(root, "features", feature_bins(d));
  cJSON_AddItemToObject(root, "predictions", prediction_bins(a));
  const char *schema = a->p->schema ? a->p->schema : d->schema;
  char *idx_schema = NULL;
  if (d->pixels) {
    size_t len = 0;
    FILE *f = open_memstream(&idx_schema, &len);
    for (int64_t k = 0; k < d->F; k++) fprintf(f, "pixel%lld\tint\n", (long long)k);
    fprintf(f, "%s\tint\n", a->p->target);
    fclose(f);
    schema = idx_schema;
  }
  cJSON_AddStringToObject(root, "schema", schema ? schema : "");
  free(idx_schema);
  char *json = cJSON_Print(root);
  cJSON_Delete(root);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  fprintf(f, "%s\n", json);
  free(json);
  return finish(a, arts, "reference.json", f, &text, &len, err, n);
}

/* ---- MODEL_CARD.md --------------------------------------------------------------- */

static double num(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The spec's leading comment lines, without their '#': what its author
 * says the pipeline is for. */
static void spec_comment(FILE *f, const char *spec) {
  bool any = false;
  for (const char *s = spec; s && *s;) {
    const char *nl = strchr(s, '\n'), *end = nl ? nl : s + strlen(s);
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    if (s < end && *s != '#') break;
    if (s < end) {
      s++;
      while (s < end && *s == ' ') s++;
      fprintf(f, "%s%.*s", any ? " " : "> ", (int)(end - s), s);
      any = true;
    }
    s = nl ? nl + 1 : end;
  }
  if (any) fputs("\n\n", f);
}

/* The spec's model block as written: the layers. */
static void model_block(FILE *f, const char *spec) {
  const char *s = spec ? strstr(spec, "model {") : NULL;
  if (!s) return;
  const char *line = s;
  while (line > spec && line[-1] != '\n') line--;
  int depth = 0;
  const char *e = s;
  for (; *e; e++) {
    if (*e == '{') depth++;
    if (*e == '}' && --depth == 0) break;
  }
  if (*e) e++;
  fprintf(f, "\n```\n%.*s\n```\n", (int)(e - line), line);
}

static void cleaning_steps(FILE *f, const cJSON *cleaning) {
  const cJSON *log = cJSON_GetObjectItemCaseSensitive(cleaning, "cleaning");
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(log, "steps");
  if (!cJSON_GetArraySize(steps)) {
    fputs("- Cleaning: none\n", f);
    return;
  }
  fputs("- Cleaning, in order, each step fitted on the training rows only:\n", f);
  int i = 0;
  const cJSON *st;
  cJSON_ArrayForEach(st, steps) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "step");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(st, "method");
    fprintf(f, "  %d. %s", ++i, cJSON_IsString(name) ? name->valuestring : "?");
    if (cJSON_IsString(method)) fprintf(f, " (%s)", method->valuestring);
    double before = num(st, "rows_before"), after = num(st, "rows_after");
    if (!isnan(before)) fprintf(f, ": %.0f -> %.0f rows", before, after);
    /* Cells each column's fit changed, summed over the step's columns. */
    static const char *const counts[] = {"imputed", "clipped", "unknown", "capped"};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
      double total = 0;
      bool seen = false;
      const cJSON *col;
      cJSON_ArrayForEach(col, cJSON_GetObjectItemCaseSensitive(st, "columns")) {
        double v = num(col, counts[c]);
        if (!isnan(v)) total += v, seen = true;
      }
      if (seen) fprintf(f, ", %.0f cells %s", total, counts[c]);
    }
    fputc('\n', f);
  }
}

static void hyperparameters(FILE *f, const cJSON *job) {
  const cJSON *hp = cJSON_GetObjectItemCaseSensitive(job, "hyperparameters"), *v;
  cJSON_ArrayForEach(v, hp) {
    if (cJSON_IsString(v))
      fprintf(f, "- %s: %s\n", v->string, v->valuestring);
    else if (cJSON_IsNumber(v))
      fprintf(f, "- %s: %.10g\n", v->string, v->valuedouble);
  }
}

/* Validation and test columns; without a test split, validation alone. */
static void metrics_table(FILE *f, const cJSON *manifest) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(manifest, "metrics");
  const cJSON *val = cJSON_GetObjectItemCaseSensitive(m, "validation");
  const cJSON *test = cJSON_GetObjectItemCaseSensitive(m, "test"), *v;
  fputs(test ? "| metric | validation | test |\n|---|---|---|\n" : "| metric | validation |\n|---|---|\n", f);
  const cJSON *shown = test ? test : val;
  cJSON_ArrayForEach(v, shown) {
    if (!cJSON_IsNumber(v)) continue;
    if (test)
      fprintf(f, "| %s | %.4f | %.4f |\n", v->string, num(val, v->string), v->valuedouble);
    else
      fprintf(f, "| %s | %.4f |\n", v->string, v->valuedouble);
  }
}

static void input_ranges(FILE *f, const cJSON *inputs) {
  const cJSON *in;
  cJSON_ArrayForEach(in, inputs) {
    const cJSON *col = cJSON_GetObjectItemCaseSensitive(in, "column");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "type");
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(in, "levels");
    fprintf(f, "  - `%s` (%s): ", col->valuestring, type->valuestring);
    if (levels) {
      const cJSON *l;
      int i = 0;
      cJSON_ArrayForEach(l, levels) fprintf(f, "%s%s", i++ ? ", " : "", l->valuestring);
      if (!i) fputs("no values", f);
    } else if (!isnan(num(in, "min"))) {
      fprintf(f, "%.7g to %.7g", num(in, "min"), num(in, "max")); /* as loaded: floats */
    } else {
      fputs("free text", f);
    }
    fputc('\n', f);
  }
}

static int write_card(const MlprtArtifacts *a, cJSON *arts, char *err, size_t n) {
  const MlprtProgram *p = a->p;
  const MlprtDataset *d = a->d;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  static const char *const tasks[] = {"multiclass classification", "binary classification", "regression"};
  char date[32];
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  fprintf(f, "# Model card: %s\n\n## Model\n\n", p->name);
  fprintf(f, "- Name: %s\n- Version: %s\n- Task: %s\n- Trained: %s\n", p->name,
          p->version ? p->version : "unversioned", tasks[a->task], date);
  if (p->compiler) fprintf(f, "- Built by: %s\n", p->compiler);

  fputs("\n## Intended use\n\n", f);
  spec_comment(f, p->spec_text);
  fprintf(f, "Predicts `%s`", p->target);
  if (a->task != MLPRT_TASK_REGRESSION) {
    fputs(" (one of ", f);
    for (int k = 0; k < d->nclasses; k++) fprintf(f, "%s%s", k ? ", " : "", d->class_names[k]);
    fputc(')', f);
  }
  if (d->pixels) {
    fprintf(f, " from %lld pixel values (0 to 255) of an image", (long long)d->F);
  } else {
    fputs(" from the columns ", f);
    const cJSON *in;
    int i = 0;
    cJSON_ArrayForEach(in, d->inputs) {
      fprintf(f, "%s`%s`", i++ ? ", " : "", cJSON_GetObjectItemCaseSensitive(in, "column")->valuestring);
    }
  }
  fputs(", for rows drawn like the training data described below. It is not meant for data from another "
        "source or population.\n",
        f);

  fputs("\n## Data\n\n", f);
  fprintf(f, "- Source: %s\n- SHA-256: %s\n", a->data_path, d->sha256);
  if (a->p->test_path)
    fprintf(f, "- Test source (a given test set, never fitted on): %s\n- Its SHA-256: %s\n", a->p->test_path,
            d->test_sha256);
  fprintf(f, "- Rows: %lld train, %lld validation, %lld test", (long long)d->n[MLPRT_TRAIN],
          (long long)d->n[MLPRT_VALID], (long long)d->n[MLPRT_TEST]);
  double dropped = num(d->cleaning, "rows_dropped_missing_target");
  if (!isnan(dropped)) fprintf(f, " (%.0f rows without a target left out)", dropped);
  fputc('\n', f);
  if (d->pixels)
    fputs("- Cleaning: none; pixels are read as value / 255\n", f);
  else
    cleaning_steps(f, d->cleaning);

  fputs("\n## Architecture\n\n", f);
  fprintf(f, "- %lld input features after cleaning, %lld outputs\n- Parameters: %lld\n", (long long)d->F,
          (long long)a->model->n_out, (long long)a->model->n_params);
  fprintf(f, "- Forward pass: %lld FLOPs per row\n", (long long)a->model->flops);
  fputs("- Layers, as the spec declares them:\n", f);
  model_block(f, p->spec_text);

  fputs("\n## Hyperparameters\n\n", f);
  hyperparameters(f, a->job);

  fputs("\n## Metrics\n\n", f);
  if (!cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(a->manifest, "metrics"), "test"))
    fputs("There was no test split: the scores are the validation split's, which chose the model.\n\n", f);
  metrics_table(f, a->manifest);
  const cJSON *base = cJSON_GetObjectItemCaseSensitive(a->manifest, "baseline");
  if (base) fprintf(f, "\nBaseline: %s.\n", cJSON_GetObjectItemCaseSensitive(base, "verdict")->valuestring);

  fputs("\n## Limitations\n\n", f);
  if (d->pixels) {
    fprintf(f, "- Inputs: images of %lld pixels like the training set's, each 0 to 255\n", (long long)d->F);
  } else {
    fputs("- Training ranges of the inputs (raw, before cleaning):\n", f);
    input_ranges(f, d->inputs);
  }
  if (a->task != MLPRT_TASK_REGRESSION)
    fprintf(f, "- Only the %d classes seen in training can be predicted.\n", d->nclasses);
  fputs("- Values outside those ranges, unseen categories, missing columns and NaN are handled by the "
        "predictor's failsafe policy (`deploy.failsafe`); the model itself has not seen such rows.\n",
        f);
  if (p->test_path)
    fprintf(f, "- Split: seed %lld, %.0f%% validation%s; the test rows are the test source's.\n",
            (long long)p->split_seed, 100 * p->val_frac, p->stratify ? ", stratified by the target" : "");
  else
    fprintf(f, "- Split: seed %lld, %.0f%% validation, %.0f%% test%s.\n", (long long)p->split_seed,
            100 * p->val_frac, 100 * p->test_frac, p->stratify ? ", stratified by the target" : "");

  fputs("\n## Files\n\n| file | sha256 |\n|---|---|\n", f);
  const cJSON *art;
  cJSON_ArrayForEach(art, arts) fprintf(f, "| %s | %s |\n", art->string, art->valuestring);
  return finish(a, arts, "MODEL_CARD.md", f, &text, &len, err, n);
}

int mlprt_artifacts_write(const MlprtArtifacts *a, cJSON *arts, char *err, size_t n) {
  if (write_rows(a, arts, err, n) != 0) return -1;
  if (write_reference(a, arts, err, n) != 0) return -1;
  return a->p->no_card ? 0 : write_card(a, arts, err, n);
}
