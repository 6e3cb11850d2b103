/* prep.c — from a data file to the matrices the training loop reads.
 *
 * Loads the table (data.h), splits its rows into train / validation / test
 * (stratified by class when asked; a seeded Philox shuffle), and prepares
 * features fitted on the training rows only: numeric and boolean columns
 * have missing values imputed with the training median and are
 * standardised with the training mean and standard deviation; categorical
 * columns become one indicator per level (levels in sorted order, so the
 * compiler and the program agree on the layout). Text and datetime columns
 * are not features. The target gives class indices (sorted levels, or
 * sorted distinct numbers) or, for regression, a standardised value.
 * IDX images become pixel / 255 (every value in [0, 1]), labels classes.
 * Consumes a path and the program descriptor; produces an MlprtDataset. */
#include <math.h>
#include <stdio.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/data.h"
#include "mlp/tensor.h"
#include "train_int.h"

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static bool is_numeric(MlprtColType t) {
  return t == MLPRT_COL_FLOAT || t == MLPRT_COL_INT || t == MLPRT_COL_BOOL;
}

/* Sorted level names of a categorical column (pointers into its levels). */
static char **sorted_levels(const MlprtColumn *c) {
  char **names = malloc((size_t)(c->levels.n ? c->levels.n : 1) * sizeof *names);
  memcpy(names, c->levels.names, (size_t)c->levels.n * sizeof *names);
  qsort(names, (size_t)c->levels.n, sizeof *names, cmp_str);
  return names;
}

/* The value of a numeric cell as float, NaN when missing. */
static float num_at(const MlprtColumn *c, int64_t r) {
  if (c->type == MLPRT_COL_BOOL) return c->b[r] == MLPRT_BOOL_NA ? NAN : (float)c->b[r];
  return c->f[r];
}

/* Class names of the target: sorted levels, or sorted distinct numbers
 * printed as %g. Returns the count; *names receives malloc'd strings. */
static int target_classes(const MlprtTable *t, int col, char ***names) {
  const MlprtColumn *c = &t->cols[col];
  if (c->type == MLPRT_COL_CATEGORY) {
    char **lv = sorted_levels(c);
    *names = malloc((size_t)(c->levels.n ? c->levels.n : 1) * sizeof **names);
    for (int i = 0; i < c->levels.n; i++) (*names)[i] = strdup(lv[i]);
    free(lv);
    return c->levels.n;
  }
  float *v = malloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *v);
  int64_t m = 0;
  for (int64_t r = 0; r < t->nrows; r++)
    if (!isnan(num_at(c, r))) v[m++] = num_at(c, r);
  qsort(v, (size_t)m, sizeof *v, cmp_float);
  int k = 0;
  *names = malloc((size_t)(m ? m : 1) * sizeof **names);
  for (int64_t i = 0; i < m; i++) {
    if (i > 0 && v[i] == v[i - 1]) continue;
    char buf[32];
    snprintf(buf, sizeof buf, "%g", v[i]);
    (*names)[k++] = strdup(buf);
  }
  free(v);
  return k;
}

/* Class index of row r, or -1 when its target is missing. */
static int32_t class_of(const MlprtTable *t, int col, int64_t r, char **names, int k) {
  const MlprtColumn *c = &t->cols[col];
  char buf[32];
  const char *s;
  if (c->type == MLPRT_COL_CATEGORY) {
    if (c->codes[r] < 0) return -1;
    s = c->levels.names[c->codes[r]];
  } else {
    if (isnan(num_at(c, r))) return -1;
    snprintf(buf, sizeof buf, "%g", num_at(c, r));
    s = buf;
  }
  char **hit = bsearch(&s, names, (size_t)k, sizeof *names, cmp_str);
  return hit ? (int32_t)(hit - names) : -1;
}

static int64_t prep_features(const MlprtTable *t, int target) {
  int64_t f = 0;
  for (int c = 0; c < t->ncols; c++) {
    if (c == target) continue;
    if (is_numeric(t->cols[c].type)) f++;
    else if (t->cols[c].type == MLPRT_COL_CATEGORY) f += t->cols[c].levels.n;
  }
  return f;
}

int mlprt_prep_shape(const char *path, const char *target, int64_t *features, int64_t *classes, int *target_type,
                     char *err, size_t n) {
  MlprtTable t;
  MlprtError e;
  MlprtLoadOpts opts = {0};
  if (mlprt_load(path, &opts, &t, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  int col = mlprt_table_find(&t, target);
  if (col < 0) {
    snprintf(err, n, "%s: no column '%s'", path, target);
    mlprt_table_free(&t);
    return -1;
  }
  char **names;
  int k = target_classes(&t, col, &names);
  for (int i = 0; i < k; i++) free(names[i]);
  free(names);
  *features = prep_features(&t, col);
  *classes = k;
  *target_type = t.cols[col].type;
  mlprt_table_free(&t);
  return 0;
}

void mlprt_shuffle(int64_t *idx, int64_t n, uint64_t seed, uint64_t stream) {
  for (int64_t i = n - 1; i > 0; i--) {
    uint64_t r = (uint64_t)mlprt_rng_u32(seed, stream, 2 * (uint64_t)i) << 32 |
                 mlprt_rng_u32(seed, stream, 2 * (uint64_t)i + 1);
    int64_t j = (int64_t)(r % (uint64_t)(i + 1));
    int64_t tmp = idx[i];
    idx[i] = idx[j];
    idx[j] = tmp;
  }
}

/* part[r] for every row: within each stratum (a class, or all rows) the
 * shuffled rows go test first, then validation, then train. */
static void split_rows(uint8_t *part, const int32_t *strata, int nstrata, int64_t nrows, double val, double test,
                       uint64_t seed) {
  int64_t *idx = malloc((size_t)(nrows ? nrows : 1) * sizeof *idx);
  for (int s = 0; s < nstrata; s++) {
    int64_t m = 0;
    for (int64_t r = 0; r < nrows; r++)
      if (!strata || strata[r] == s) idx[m++] = r;
    mlprt_shuffle(idx, m, seed, (uint64_t)s);
    int64_t nt = (int64_t)llround(test * (double)m), nv = (int64_t)llround(val * (double)m);
    for (int64_t i = 0; i < m; i++) part[idx[i]] = i < nt ? MLPRT_TEST : i < nt + nv ? MLPRT_VALID : MLPRT_TRAIN;
  }
  free(idx);
}

static double median_of(float *v, int64_t m) {
  if (m == 0) return 0;
  qsort(v, (size_t)m, sizeof *v, cmp_float);
  return m % 2 ? v[m / 2] : 0.5 * ((double)v[m / 2 - 1] + v[m / 2]);
}

/* The dimensions of an IDX file from its header alone (gzipped or plain:
 * zlib reads both), so the compiler need not inflate every image. */
static int idx_dims(const char *path, int64_t dims[4], int *ndim, char *err, size_t n) {
  gzFile f = gzopen(path, "rb");
  unsigned char h[4 + 16];
  int got = f ? gzread(f, h, 4) : -1;
  if (got == 4 && h[0] == 0 && h[1] == 0 && h[2] == 0x08 && h[3] >= 1 && h[3] <= 4) {
    *ndim = h[3];
    got = gzread(f, h + 4, (unsigned)(4 * *ndim));
    for (int i = 0; got == 4 * *ndim && i < *ndim; i++)
      dims[i] = (int64_t)h[4 + 4 * i] << 24 | h[5 + 4 * i] << 16 | h[6 + 4 * i] << 8 | h[7 + 4 * i];
  }
  if (f) gzclose(f);
  if (got != 4 * *ndim || *ndim < 1) {
    snprintf(err, n, "%s: not a readable IDX file of unsigned bytes", path);
    return -1;
  }
  return 0;
}

int mlprt_prep_idx_shape(const char *images, const char *labels, int64_t *h, int64_t *w, int64_t *classes,
                         char *err, size_t n) {
  int64_t dims[4];
  int nd = 0;
  if (idx_dims(images, dims, &nd, err, n) != 0) return -1;
  if (nd != 3) {
    snprintf(err, n, "%s: expected images (N, H, W), found %d dimensions", images, nd);
    return -1;
  }
  *h = dims[1];
  *w = dims[2];
  MlprtIdx lab;
  MlprtError e;
  if (mlprt_idx_load(labels, &lab, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  int64_t top = -1;
  for (int64_t i = 0; i < lab.dims[0]; i++)
    if (lab.data[i] > top) top = lab.data[i];
  *classes = top + 1;
  bool ok = lab.ndim == 1 && lab.dims[0] == dims[0];
  mlprt_idx_free(&lab);
  if (!ok) {
    snprintf(err, n, "%s: the labels do not match the %lld images", labels, (long long)dims[0]);
    return -1;
  }
  return 0;
}

/* Images and labels from IDX files: classes 0..K-1 from the labels. */
static int prep_load_idx(const MlprtProgram *p, const char *images, const char *labels, MlprtDataset *d,
                         char *err, size_t n) {
  MlprtIdx img, lab;
  MlprtError e;
  if (mlprt_idx_load(images, &img, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  if (mlprt_idx_load(labels, &lab, &e) != 0) {
    mlprt_idx_free(&img);
    mlprt_error_format(&e, err, n);
    return -1;
  }
  int64_t rows = img.dims[0], F = img.ndim == 3 ? img.dims[1] * img.dims[2] : 0;
  if (F != p->n_features || lab.dims[0] != rows) {
    snprintf(err, n, "%s: %lld images of %lld pixels and %lld labels, but the program was compiled for %lld pixels",
             images, (long long)rows, (long long)F, (long long)lab.dims[0], (long long)p->n_features);
    mlprt_idx_free(&img);
    mlprt_idx_free(&lab);
    return -1;
  }
  if (mlprt_sha256_file(images, d->sha256) != 0) snprintf(d->sha256, sizeof d->sha256, "unreadable");
  d->F = F;
  d->K = p->models[0].n_out;
  d->nclasses = (int)p->n_classes;
  d->class_names = malloc((size_t)d->nclasses * sizeof *d->class_names);
  for (int k = 0; k < d->nclasses; k++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", k);
    d->class_names[k] = strdup(buf);
  }
  int32_t *cls = calloc((size_t)(rows ? rows : 1), sizeof *cls);
  for (int64_t r = 0; r < rows; r++) cls[r] = lab.data[r] < d->nclasses ? lab.data[r] : d->nclasses - 1;
  uint8_t *part = malloc((size_t)rows);
  split_rows(part, p->stratify ? cls : NULL, p->stratify ? d->nclasses : 1, rows, p->val_frac, p->test_frac,
             (uint64_t)p->split_seed);
  for (int64_t r = 0; r < rows; r++) d->n[part[r]]++;
  int64_t pos[3] = {0, 0, 0};
  for (int s = 0; s < 3; s++) {
    size_t nr = (size_t)(d->n[s] ? d->n[s] : 1);
    d->x[s] = mlprt_alloc_aligned(nr * (size_t)F * sizeof(float));
    d->y[s] = mlprt_alloc_aligned(nr * (size_t)d->K * sizeof(float));
    d->label[s] = malloc(nr * sizeof(int32_t));
  }
  for (int64_t r = 0; r < rows; r++) {
    int s = part[r];
    int64_t i = pos[s]++;
    const uint8_t *px = img.data + r * F;
    for (int64_t f = 0; f < F; f++) d->x[s][i * F + f] = px[f] / 255.0f;
    d->label[s][i] = cls[r];
    if (d->K == 1) d->y[s][i] = (float)cls[r];
    else d->y[s][i * d->K + cls[r]] = 1;
  }
  cJSON *rec = cJSON_CreateObject();
  cJSON_AddStringToObject(rec, "source", images);
  cJSON_AddStringToObject(rec, "labels", labels);
  cJSON_AddNumberToObject(rec, "rows", (double)rows);
  cJSON *splits = cJSON_AddObjectToObject(rec, "splits");
  cJSON_AddNumberToObject(splits, "train", (double)d->n[MLPRT_TRAIN]);
  cJSON_AddNumberToObject(splits, "validation", (double)d->n[MLPRT_VALID]);
  cJSON_AddNumberToObject(splits, "test", (double)d->n[MLPRT_TEST]);
  cJSON_AddStringToObject(rec, "pixels", "value / 255");
  d->cleaning = rec;
  free(part);
  free(cls);
  mlprt_idx_free(&img);
  mlprt_idx_free(&lab);
  return 0;
}

int mlprt_prep_load(const MlprtProgram *p, const char *path, MlprtDataset *d, char *err, size_t n) {
  memset(d, 0, sizeof *d);
  if (p->data_path2) return prep_load_idx(p, path, p->data_path2, d, err, n);
  MlprtTable t;
  MlprtError e;
  MlprtLoadOpts opts = {0};
  if (mlprt_load(path, &opts, &t, &e) != 0) {
    mlprt_error_format(&e, err, n);
    return -1;
  }
  if (mlprt_sha256_file(path, d->sha256) != 0) snprintf(d->sha256, sizeof d->sha256, "unreadable");
  int tc = mlprt_table_find(&t, p->target);
  if (tc < 0) {
    snprintf(err, n, "%s: no target column '%s'", path, p->target);
    mlprt_table_free(&t);
    return -1;
  }
  const MlprtModel *m = &p->models[0];
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  d->F = prep_features(&t, tc);
  d->K = m->n_out;
  if (d->F != p->n_features) {
    snprintf(err, n, "%s: the data gives %lld features but the program was compiled for %lld", path,
             (long long)d->F, (long long)p->n_features);
    mlprt_table_free(&t);
    return -1;
  }
  /* Rows whose target is missing cannot train or be scored: drop them. */
  int32_t *cls = NULL;
  uint8_t *keep = malloc((size_t)(t.nrows ? t.nrows : 1));
  if (classify) {
    d->nclasses = target_classes(&t, tc, &d->class_names);
    if (d->nclasses != p->n_classes) {
      snprintf(err, n, "%s: target '%s' has %d classes but the program was compiled for %lld", path, p->target,
               d->nclasses, (long long)p->n_classes);
      free(keep);
      mlprt_table_free(&t);
      return -1;
    }
    cls = malloc((size_t)(t.nrows ? t.nrows : 1) * sizeof *cls);
    for (int64_t r = 0; r < t.nrows; r++) {
      cls[r] = class_of(&t, tc, r, d->class_names, d->nclasses);
      keep[r] = cls[r] >= 0;
    }
  } else {
    for (int64_t r = 0; r < t.nrows; r++) keep[r] = !isnan(num_at(&t.cols[tc], r));
  }
  int64_t dropped = 0;
  for (int64_t r = 0, w = 0; r < t.nrows; r++) {
    if (!keep[r]) {
      dropped++;
      continue;
    }
    if (cls) cls[w] = cls[r];
    w++;
  }
  mlprt_table_filter(&t, keep);
  free(keep);

  uint8_t *part = malloc((size_t)(t.nrows ? t.nrows : 1));
  split_rows(part, p->stratify && cls ? cls : NULL, p->stratify && cls ? d->nclasses : 1, t.nrows, p->val_frac,
             p->test_frac, (uint64_t)p->split_seed);
  for (int64_t r = 0; r < t.nrows; r++) d->n[part[r]]++;
  for (int s = 0; s < 3; s++) {
    size_t rows = (size_t)(d->n[s] ? d->n[s] : 1);
    d->x[s] = mlprt_alloc_aligned(rows * (size_t)d->F * sizeof(float));
    d->y[s] = mlprt_alloc_aligned(rows * (size_t)d->K * sizeof(float));
    if (classify) d->label[s] = malloc(rows * sizeof(int32_t));
    else d->target[s] = malloc(rows * sizeof(float));
  }

  cJSON *rec = cJSON_CreateObject();
  cJSON_AddStringToObject(rec, "source", path);
  cJSON_AddNumberToObject(rec, "rows", (double)(t.nrows + dropped));
  cJSON_AddNumberToObject(rec, "rows_dropped_missing_target", (double)dropped);
  cJSON *splits = cJSON_AddObjectToObject(rec, "splits");
  cJSON_AddNumberToObject(splits, "train", (double)d->n[MLPRT_TRAIN]);
  cJSON_AddNumberToObject(splits, "validation", (double)d->n[MLPRT_VALID]);
  cJSON_AddNumberToObject(splits, "test", (double)d->n[MLPRT_TEST]);
  cJSON *feats = cJSON_AddArrayToObject(rec, "features");

  /* Features, column by column; every statistic from training rows only. */
  int64_t *pos = calloc(3, sizeof *pos);
  float *tmp = malloc((size_t)(t.nrows ? t.nrows : 1) * sizeof *tmp);
  int64_t f = 0;
  for (int c = 0; c < t.ncols; c++) {
    const MlprtColumn *col = &t.cols[c];
    if (c == tc) continue;
    if (is_numeric(col->type)) {
      int64_t m2 = 0, nmiss = 0;
      for (int64_t r = 0; r < t.nrows; r++)
        if (part[r] == MLPRT_TRAIN && !isnan(num_at(col, r))) tmp[m2++] = num_at(col, r);
      double med = median_of(tmp, m2), sum = 0, sq = 0;
      for (int64_t i = 0; i < m2; i++) sum += tmp[i];
      int64_t ntrain = d->n[MLPRT_TRAIN];
      for (int64_t r = 0; r < t.nrows; r++) {
        if (part[r] != MLPRT_TRAIN) continue;
        nmiss += isnan(num_at(col, r));
      }
      double mean = ntrain ? (sum + (double)nmiss * med) / (double)ntrain : 0;
      for (int64_t r = 0; r < t.nrows; r++) {
        if (part[r] != MLPRT_TRAIN) continue;
        double v = isnan(num_at(col, r)) ? med : num_at(col, r);
        sq += (v - mean) * (v - mean);
      }
      double sd = ntrain ? sqrt(sq / (double)ntrain) : 0;
      /* A constant column stays constant (zero) rather than dividing by 0. */
      double scale = sd > 1e-12 ? 1 / sd : 1;
      memset(pos, 0, 3 * sizeof *pos);
      for (int64_t r = 0; r < t.nrows; r++) {
        int s = part[r];
        double v = isnan(num_at(col, r)) ? med : num_at(col, r);
        d->x[s][pos[s]++ * d->F + f] = (float)((v - mean) * scale);
      }
      cJSON *fj = cJSON_CreateObject();
      cJSON_AddStringToObject(fj, "column", col->name);
      cJSON_AddStringToObject(fj, "op", "impute_median+standardize");
      cJSON_AddNumberToObject(fj, "median", med);
      cJSON_AddNumberToObject(fj, "mean", mean);
      cJSON_AddNumberToObject(fj, "std", sd);
      cJSON_AddNumberToObject(fj, "missing_in_train", (double)nmiss);
      cJSON_AddItemToArray(feats, fj);
      f++;
    } else if (col->type == MLPRT_COL_CATEGORY) {
      char **lv = sorted_levels(col);
      memset(pos, 0, 3 * sizeof *pos);
      for (int64_t r = 0; r < t.nrows; r++) {
        int s = part[r];
        float *row = d->x[s] + pos[s]++ * d->F + f;
        if (col->codes[r] < 0) continue; /* missing: no indicator set */
        const char *name = col->levels.names[col->codes[r]];
        char **hit = bsearch(&name, lv, (size_t)col->levels.n, sizeof *lv, cmp_str);
        row[hit - lv] = 1;
      }
      cJSON *fj = cJSON_CreateObject();
      cJSON_AddStringToObject(fj, "column", col->name);
      cJSON_AddStringToObject(fj, "op", "onehot");
      cJSON_AddItemToObject(fj, "levels", cJSON_CreateStringArray((const char *const *)lv, col->levels.n));
      cJSON_AddItemToArray(feats, fj);
      f += col->levels.n;
      free(lv);
    }
  }

  /* Targets. */
  memset(pos, 0, 3 * sizeof *pos);
  if (!classify) {
    double sum = 0, sq = 0;
    int64_t ntrain = d->n[MLPRT_TRAIN];
    for (int64_t r = 0; r < t.nrows; r++)
      if (part[r] == MLPRT_TRAIN) sum += num_at(&t.cols[tc], r);
    d->y_mean = ntrain ? sum / (double)ntrain : 0;
    for (int64_t r = 0; r < t.nrows; r++)
      if (part[r] == MLPRT_TRAIN) sq += pow(num_at(&t.cols[tc], r) - d->y_mean, 2);
    d->y_std = ntrain && sq > 0 ? sqrt(sq / (double)ntrain) : 1;
  }
  for (int64_t r = 0; r < t.nrows; r++) {
    int s = part[r];
    int64_t i = pos[s]++;
    if (classify) {
      d->label[s][i] = cls[r];
      if (m->task == MLPRT_TASK_BINARY) d->y[s][i] = (float)cls[r];
      else d->y[s][i * d->K + cls[r]] = 1;
    } else {
      float v = num_at(&t.cols[tc], r);
      d->target[s][i] = v;
      d->y[s][i] = (float)((v - d->y_mean) / d->y_std);
    }
  }
  cJSON *tj = cJSON_AddObjectToObject(rec, "target");
  cJSON_AddStringToObject(tj, "column", p->target);
  if (classify) {
    cJSON_AddItemToObject(tj, "classes",
                          cJSON_CreateStringArray((const char *const *)d->class_names, d->nclasses));
  } else {
    cJSON_AddNumberToObject(tj, "mean", d->y_mean);
    cJSON_AddNumberToObject(tj, "std", d->y_std);
  }
  d->cleaning = rec;
  free(tmp);
  free(pos);
  free(part);
  free(cls);
  mlprt_table_free(&t);
  return 0;
}

void mlprt_prep_free(MlprtDataset *d) {
  for (int s = 0; s < 3; s++) {
    mlprt_free_aligned(d->x[s]);
    mlprt_free_aligned(d->y[s]);
    free(d->label[s]);
    free(d->target[s]);
  }
  for (int i = 0; i < d->nclasses; i++) free(d->class_names[i]);
  free(d->class_names);
  cJSON_Delete(d->cleaning);
  memset(d, 0, sizeof *d);
}
