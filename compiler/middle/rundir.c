/* rundir.c — load and verify a trained run directory (see rundir.h).
 * Consumes manifest.json, spec.mlp, cleaning.json, weights.bin and the
 * optional reference.json and MODEL_CARD.md; produces an MlpRunDir whose IR
 * was lowered with the data's shape recorded by the run. */
#include "rundir.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "lower.h"
#include "mlp/data.h"
#include "mlp/run.h"
#include "parse.h"

const char *mlp_rundir_path(MlpArena *a, const MlpRunDir *rd, const char *file) {
  return mlp_arena_printf(a, "%s/%s", rd->dir, file);
}

/* The whole file in a (NUL-terminated), its length in *len; NULL when it
 * cannot be read. */
static char *slurp(MlpArena *a, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *text = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
      text = mlp_arena_alloc(a, (size_t)size + 1);
      if (fread(text, 1, (size_t)size, f) != (size_t)size) text = NULL;
      else *len = (size_t)size;
    }
  }
  fclose(f);
  return text;
}

/* A JSON file, parsed; NULL with a message when absent or malformed. */
static cJSON *read_json(MlpArena *a, const char *path, const char *file, char *err, size_t n) {
  size_t len;
  char *text = slurp(a, path, &len);
  if (!text) {
    mlp_failf(err, n, "cannot read %s: %s", file, strerror(errno));
    return NULL;
  }
  cJSON *j = cJSON_ParseWithLength(text, len);
  if (!j) mlp_failf(err, n, "%s is not valid JSON", file);
  return j;
}

static const char *jstr(MlpArena *a, const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? mlp_arena_strdup(a, v->valuestring) : NULL;
}

static double jnum(const cJSON *o, const char *key, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Every artifact the manifest lists must exist and hash to its digest; the
 * ones the exporters read must be listed at all, so that dropping an entry
 * does not hide a change. */
static int verify_artifacts(MlpArena *a, MlpRunDir *rd, const cJSON *man, char *err, size_t n) {
  const cJSON *arts = cJSON_GetObjectItemCaseSensitive(man, "artifacts");
  if (!cJSON_IsObject(arts)) return mlp_failf(err, n, "manifest.json of '%s' lists no artifacts", rd->dir);
  static const char *const needed[] = {"spec.mlp", "cleaning.json", "weights.bin"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(arts, needed[i])))
      return mlp_failf(err, n, "manifest.json of '%s' does not list %s", rd->dir, needed[i]);
  const cJSON *art;
  cJSON_ArrayForEach(art, arts) {
    const char *file = art->string;
    if (!cJSON_IsString(art) || strchr(file, '/'))
      return mlp_failf(err, n, "manifest.json of '%s': bad artifact entry '%s'", rd->dir, file);
    char hex[65];
    if (mlprt_sha256_file(mlp_rundir_path(a, rd, file), hex) != 0)
      return mlp_failf(err, n, "%s/%s is listed in the manifest but cannot be read: %s", rd->dir, file,
                   strerror(errno));
    if (strcmp(hex, art->valuestring) != 0)
      return mlp_failf(err, n,
                       "%s/%s does not match its sha256 in the manifest: the run directory was changed",
                   rd->dir, file);
    if (strcmp(file, "weights.bin") == 0) rd->weights_sha256 = mlp_arena_strdup(a, hex);
  }
  /* The optional files are read only when present, so present ones must
   * be listed (and so checked) too. */
  static const char *const optional[] = {"reference.json", "MODEL_CARD.md"};
  for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
    if (!cJSON_HasObjectItem(arts, optional[i]) && access(mlp_rundir_path(a, rd, optional[i]), F_OK) == 0)
      return mlp_failf(err, n, "%s/%s is not listed in the manifest's artifacts", rd->dir, optional[i]);
  return 0;
}

/* The target's classes from a JSON array of names, when it is one. */
static void set_classes(MlpArena *a, MlpRunDir *rd, MlpDataShape *shape, const cJSON *classes) {
  if (!cJSON_IsArray(classes)) return;
  int k = cJSON_GetArraySize(classes);
  const char **names = mlp_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *names);
  const char *text = "";
  for (int i = 0; i < k; i++) {
    const cJSON *c = cJSON_GetArrayItem(classes, i);
    names[i] = mlp_arena_strdup(a, cJSON_IsString(c) ? c->valuestring : "");
    text = mlp_arena_printf(a, "%s%s\n", text, names[i]);
  }
  rd->classes = names;
  rd->nclasses = k;
  rd->classes_text = text;
  shape->n_classes = k;
  shape->target_type = MLPRT_COL_CATEGORY;
}

/* cleaning.json: the fitted steps, and the target's classes or scaling. */
static int read_cleaning(MlpArena *a, MlpRunDir *rd, MlpDataShape *shape, char *err, size_t n) {
  const char *path = mlp_rundir_path(a, rd, "cleaning.json");
  cJSON *j = read_json(a, path, "cleaning.json", err, n);
  if (!j) return -1;
  /* IDX runs record only their pixel scaling here: the manifest has the
   * features, reference.json the classes and the spec the target. */
  shape->n_features = (int64_t)jnum(j, "features", (double)shape->n_features);
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "target");
  rd->target = jstr(a, t, "column");
  set_classes(a, rd, shape, cJSON_GetObjectItemCaseSensitive(t, "classes"));
  if (!rd->classes) {
    rd->y_mean = jnum(t, "mean", 0);
    rd->y_std = jnum(t, "std", 1);
  }
  bool fitted = cJSON_HasObjectItem(j, "cleaning") || cJSON_HasObjectItem(j, "steps");
  cJSON_Delete(j);
  if (!fitted) return 0; /* IDX pixels are scaled, not fitted */
  MlprtError e;
  if (mlprt_fits_read(path, &rd->fits, &rd->nfits, &e) != 0) {
    char msg[512];
    mlprt_error_format(&e, msg, sizeof msg);
    return mlp_failf(err, n, "cleaning.json of '%s': %s", rd->dir, msg);
  }
  return 0;
}

/* A JSON array of numbers into out[0..count), NaN for anything else. */
static int numbers(const cJSON *arr, double *out, int64_t count) {
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != count) return -1;
  int64_t i = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) out[i++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  return 0;
}

/* An array of nf arrays of k numbers each, flattened; NULL when the shape
 * differs. */
static const double *matrix(MlpArena *a, const cJSON *arr, int64_t nf, int64_t k) {
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != nf || k <= 0) return NULL;
  double *m = mlp_arena_alloc(a, (size_t)(nf * k) * sizeof *m);
  int64_t i = 0;
  const cJSON *row;
  cJSON_ArrayForEach(row, arr) {
    if (numbers(row, m + i * k, k) != 0) return NULL;
    i++;
  }
  return m;
}

/* reference.json, when the run wrote one: the raw inputs, the compiled
 * schema and the drift reference of features and predictions. */
static int read_reference(MlpArena *a, MlpRunDir *rd, MlpDataShape *shape, char *err, size_t n) {
  int64_t nfeat = shape->n_features;
  const char *path = mlp_rundir_path(a, rd, "reference.json");
  FILE *probe = fopen(path, "rb");
  if (!probe) return 0;
  fclose(probe);
  cJSON *j = read_json(a, path, "reference.json", err, n);
  if (!j) return -1;
  rd->schema = jstr(a, j, "schema");
  const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(j, "inputs");
  int k = cJSON_IsArray(inputs) ? cJSON_GetArraySize(inputs) : 0;
  rd->inputs = mlp_arena_alloc(a, (size_t)(k ? k : 1) * sizeof *rd->inputs);
  const cJSON *in;
  cJSON_ArrayForEach(in, inputs) {
    MlprtPredInput *ri = &rd->inputs[rd->ninputs++];
    ri->name = jstr(a, in, "column");
    const char *type = jstr(a, in, "type");
    ri->type = type ? mlprt_col_type_parse(type) : -1;
    ri->lo = jnum(in, "min", NAN);
    ri->hi = jnum(in, "max", NAN);
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(in, "levels"), *l;
    if (cJSON_IsArray(lv)) {
      const char *text = "";
      cJSON_ArrayForEach(l, lv) {
        if (cJSON_IsString(l)) text = mlp_arena_printf(a, "%s%s\n", text, l->valuestring);
        ri->nlevels++;
      }
      ri->levels = text;
    }
  }
  const cJSON *feat = cJSON_GetObjectItemCaseSensitive(j, "features");
  int64_t bins = (int64_t)jnum(feat, "bins", 0);
  const double *edges = matrix(a, cJSON_GetObjectItemCaseSensitive(feat, "edges"), nfeat, bins - 1);
  const double *fr = matrix(a, cJSON_GetObjectItemCaseSensitive(feat, "fractions"), nfeat, bins);
  if (bins > 1 && edges && fr) {
    rd->drift_bins = bins;
    rd->drift_edges = edges;
    rd->drift_ref = fr;
  }
  double *mean = mlp_arena_alloc(a, (size_t)(nfeat ? nfeat : 1) * sizeof *mean);
  double *sd = mlp_arena_alloc(a, (size_t)(nfeat ? nfeat : 1) * sizeof *sd);
  if (numbers(cJSON_GetObjectItemCaseSensitive(feat, "mean"), mean, nfeat) == 0 &&
      numbers(cJSON_GetObjectItemCaseSensitive(feat, "std"), sd, nfeat) == 0) {
    rd->feature_mean = mean;
    rd->feature_std = sd;
  }
  const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "predictions");
  if (!rd->classes) set_classes(a, rd, shape, cJSON_GetObjectItemCaseSensitive(pred, "classes"));
  const cJSON *pf = cJSON_GetObjectItemCaseSensitive(pred, "fractions");
  int64_t npf = cJSON_IsArray(pf) ? cJSON_GetArraySize(pf) : 0;
  if (npf > 0) {
    double *v = mlp_arena_alloc(a, (size_t)npf * sizeof *v);
    numbers(pf, v, npf);
    rd->pred_ref = v;
    rd->npred_ref = npf;
  }
  const cJSON *pe = cJSON_GetObjectItemCaseSensitive(pred, "edges");
  if (cJSON_IsArray(pe) && rd->drift_bins > 1) {
    double *v = mlp_arena_alloc(a, (size_t)(rd->drift_bins - 1) * sizeof *v);
    if (numbers(pe, v, rd->drift_bins - 1) == 0) rd->pred_edges = v;
  }
  cJSON_Delete(j);
  return 0;
}

/* IDX images are square in every source mlpc reads; the run records only
 * their pixel count. */
static int64_t image_side(int64_t pixels) {
  int64_t side = (int64_t)llround(sqrt((double)pixels));
  return side * side == pixels ? side : 0;
}

static bool idx_source(const MlpSpec *spec) {
  const MlpSpecValue *src = mlp_spec_setting(mlp_spec_block(spec, "data"), "source");
  const MlpSpecCall *c = mlp_spec_call(src);
  return c && strcmp(c->op->name, "idx") == 0;
}

/* spec.mlp re-parsed, checked and lowered with the run's data shape;
 * diagnostics are collected and the first error is the message. */
static int read_spec(MlpArena *a, MlpRunDir *rd, MlpDataShape *shape, char *err, size_t n) {
  const char *path = mlp_rundir_path(a, rd, "spec.mlp");
  MlpSource *src = mlp_source_read(a, path);
  if (!src) return mlp_failf(err, n, "cannot read %s: %s", path, strerror(errno));
  rd->spec_text = src->text;
  char *msgs = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&msgs, &len);
  MlpDiag d;
  mlp_diag_init(&d, mem);
  d.color = false;
  MlpAst *ast = mlp_parse(a, src, &d);
  MlpSpec *spec = d.nerr == 0 ? mlp_sema_check(a, ast, &d) : NULL;
  MlpIr *ir = NULL;
  int rc = 0;
  if (spec && idx_source(spec)) {
    shape->img_h = shape->img_w = image_side(shape->n_features);
    if (shape->img_h == 0)
      rc = mlp_failf(err, n, "%s: %lld pixels per image do not make a square image", rd->dir,
                 (long long)shape->n_features);
  }
  if (spec && rc == 0) ir = mlp_lower_shaped(a, spec, path, shape, &d);
  fclose(mem);
  if (!ir && rc == 0) {
    const char *first = msgs ? strstr(msgs, "error: ") : NULL;
    rc = mlp_failf(err, n, "%s no longer compiles: %.*s", path, first ? (int)strcspn(first, "\n") : 0,
               first ? first : "");
  } else if (ir) {
    rd->spec = spec;
    rd->ir = ir;
    rd->model = &ir->models[0];
    rd->name = ir->name;
    rd->version = ir->version ? ir->version : "1.0.0";
  }
  free(msgs);
  return rc;
}

static int read_weights(MlpArena *a, MlpRunDir *rd, char *err, size_t n) {
  size_t len = 0;
  char *bytes = slurp(a, mlp_rundir_path(a, rd, "weights.bin"), &len);
  rd->n_params = rd->model->n_params;
  rd->n_state = rd->model->n_state;
  size_t want = (size_t)(rd->n_params + rd->n_state) * sizeof(float);
  if (!bytes) return mlp_failf(err, n, "cannot read %s/weights.bin: %s", rd->dir, strerror(errno));
  if (len != want)
    return mlp_failf(err, n, "%s/weights.bin holds %zu bytes; the spec's model needs %zu", rd->dir, len,
                     want);
  rd->weights = (float *)bytes; /* the arena aligns to 16 bytes */
  return 0;
}

int mlp_rundir_load(MlpArena *a, const char *dir, MlpRunDir *rd, char *err, size_t n) {
  memset(rd, 0, sizeof *rd);
  rd->dir = mlp_arena_strdup(a, dir);
  char why[PATH_MAX + 512];
  /* The manifest is trusted only once it matches its seal. */
  if (mlprt_manifest_verify(dir, why, sizeof why) != 0) return mlp_failf(err, n, "%s", why);
  cJSON *man = read_json(a, mlp_rundir_path(a, rd, "manifest.json"), "manifest.json", why, sizeof why);
  if (!man) return mlp_failf(err, n, "'%s' is not a run directory: %s", dir, why);
  int rc = verify_artifacts(a, rd, man, err, n);
  rd->spec_sha256 = jstr(a, cJSON_GetObjectItemCaseSensitive(man, "spec"), "sha256");
  rd->data_sha256 = jstr(a, cJSON_GetObjectItemCaseSensitive(man, "data"), "sha256");
  MlpDataShape shape = {.target_type = MLPRT_COL_FLOAT};
  shape.n_features = (int64_t)jnum(cJSON_GetObjectItemCaseSensitive(man, "data"), "features", 0);
  /* A tuned run keeps the winner's weights: the model its trial lowers to. */
  int64_t kept = (int64_t)jnum(cJSON_GetObjectItemCaseSensitive(man, "tuning"), "best_model", 0);
  cJSON_Delete(man);
  if (rc != 0) return rc;
  if (read_cleaning(a, rd, &shape, err, n) != 0) return -1;
  if (shape.n_features <= 0) return mlp_failf(err, n, "%s records no feature count", rd->dir);
  if (read_reference(a, rd, &shape, err, n) != 0) return -1;
  shape.schema = rd->schema;
  if (read_spec(a, rd, &shape, err, n) != 0) return -1;
  if (kept < 0 || kept >= rd->ir->nmodels)
    return mlp_failf(err, n, "%s: the manifest's tuning.best_model %lld is not a model of the spec", rd->dir,
                     (long long)kept);
  rd->model = &rd->ir->models[kept];
  if (!rd->target) rd->target = rd->ir->data.target;
  if (rd->model->task != MLP_TASK_REGRESSION && !rd->classes)
    return mlp_failf(err, n, "%s records no classes of the target", rd->dir);
  int64_t outs = rd->model->task == MLP_TASK_BINARY ? 2 : rd->model->out_size;
  if (rd->nclasses > 0 && outs != rd->nclasses)
    return mlp_failf(err, n, "%s: the model has %lld outputs for %d classes", rd->dir,
                 (long long)rd->model->out_size, rd->nclasses);
  if (read_weights(a, rd, err, n) != 0) return -1;
  size_t cardlen;
  rd->card = slurp(a, mlp_rundir_path(a, rd, "MODEL_CARD.md"), &cardlen);
  return 0;
}

void mlp_rundir_free(MlpRunDir *rd) {
  if (rd->fits) mlprt_fits_free(rd->fits, rd->nfits);
  rd->fits = NULL;
  rd->nfits = 0;
}

int mlp_rundir_plan(MlpArena *a, const MlpRunDir *rd, MlprtPredPlan *plan, char *err, size_t n) {
  if (!rd->schema)
    return mlp_failf(err, n, "%s has no reference.json (schema, ranges, drift reference): retrain it with "
                 "this mlpc", rd->dir);
  /* the kept model's data: cleaned by its chain when a search gave it one */
  MlpIrData kept = rd->ir->data;
  if (rd->model->clean) kept.clean = (MlpIrClean *)rd->model->clean, kept.nclean = rd->model->nclean;
  const MlpIrData *d = &kept;
  MlprtPredSource src = {.schema = rd->schema,
                         .target = rd->target,
                         .fits = rd->fits,
                         .nfits = rd->nfits,
                         .clean = mlp_lower_clean_steps(a, d),
                         .nclean = d->nclean,
                         .inputs = rd->inputs,
                         .ninputs = rd->ninputs,
                         .image_pixels = d->img_h > 0 ? d->img_h * d->img_w : 0,
                         .na_values = d->na_values};
  /* each align step's other source, read now: the predictor holds its rows */
  MlprtTable *other = calloc((size_t)d->nclean + 1, sizeof *other);
  const MlprtTable **joined = calloc((size_t)d->nclean + 1, sizeof *joined);
  int rc = 0;
  for (int i = 0; i < d->nclean && rc == 0; i++) {
    const MlprtCleanStep *st = &src.clean[i];
    if (st->op != MLPRT_CLEAN_ALIGN) continue;
    MlprtSourceDesc sd = {.paths = st->source, .format = st->source_format, .query = st->source_query,
                          .delim = (char)st->source_delim, .no_header = st->source_no_header != 0,
                          .na_values = st->source_na, .schema = st->source_schema};
    MlprtError e;
    mlprt_table_init(&other[i]);
    if (mlprt_source_load(&sd, &other[i], &e) != 0) {
      char why[1024];
      mlprt_error_format(&e, why, sizeof why);
      rc = mlp_failf(err, n, "cleaning step %d (align): the predictor holds the other source's rows, read "
                             "at export: %s", i + 1, why);
    }
    joined[i] = &other[i];
  }
  src.joined = joined;
  if (rc == 0) rc = mlprt_pred_plan_build(&src, plan, err, n);
  for (int i = 0; i < d->nclean; i++)
    if (joined[i]) mlprt_table_free(&other[i]);
  free(joined);
  free(other);
  return rc;
}
