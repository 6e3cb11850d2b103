/* check_artifacts.c — what a training run leaves for predictors: row ids
 * that follow every row through filtering, reordering and appending, the
 * run directory's test_rows.csv, predictions.csv, reference.json and
 * MODEL_CARD.md checked against the source file and the manifest, and the
 * version registry those runs are deployed to (mlpc deploy, versions,
 * rollback). */
#define _GNU_SOURCE /* asprintf */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/data.h"
#include "mlp/run.h"
#include "mlp/sign.h"
#include "testutil.h"

/* A one-column table whose value in row r is 10 * id, ids 1..n. */
static void numbered_table(MlprtTable *t, int64_t n, int64_t first_id) {
  mlprt_table_init(t);
  int c = mlprt_table_add_column(t, "v", MLPRT_COL_FLOAT);
  mlprt_table_reserve(t, n);
  t->rowid = malloc((size_t)t->cap_rows * sizeof *t->rowid);
  for (int64_t r = 0; r < n; r++) {
    t->rowid[r] = first_id + r;
    t->cols[c].f[r] = (float)(10 * (first_id + r));
  }
  t->nrows = n;
}

static void assert_aligned(const MlprtTable *t) {
  for (int64_t r = 0; r < t->nrows; r++) ck_assert_float_eq(t->cols[0].f[r], (float)(10 * t->rowid[r]));
}

START_TEST(artifacts_rowids_follow_rows) {
  MlprtTable t, u;
  numbered_table(&t, 200, 1);
  /* Growing past the capacity keeps the ids. */
  mlprt_table_reserve(&t, 1000);
  assert_aligned(&t);
  uint8_t keep[200];
  for (int i = 0; i < 200; i++) keep[i] = i % 3 != 0;
  ck_assert_int_eq(mlprt_table_filter(&t, keep), 67);
  ck_assert_int_eq(t.nrows, 133);
  ck_assert_int_eq(t.rowid[0], 2);
  ck_assert_int_eq(t.rowid[2], 5);
  assert_aligned(&t);
  int64_t perm[133];
  for (int64_t i = 0; i < 133; i++) perm[i] = 132 - i;
  mlprt_table_permute(&t, perm);
  ck_assert_int_eq(t.rowid[0], 200);
  assert_aligned(&t);
  /* A second source keeps counting where the first stopped. */
  numbered_table(&u, 50, 201);
  MlprtError e;
  ck_assert_int_eq(mlprt_table_append(&t, &u, &e), 0);
  ck_assert_int_eq(t.nrows, 183);
  ck_assert_int_eq(t.rowid[133], 201);
  ck_assert_int_eq(t.rowid[182], 250);
  assert_aligned(&t);
  mlprt_table_shrink(&t);
  assert_aligned(&t);
  mlprt_table_free(&u);
  /* Rows from a table without ids are marked untracked (0). */
  MlprtTable plain;
  mlprt_table_like(&plain, &t);
  mlprt_table_reserve(&plain, 2);
  plain.cols[0].f[0] = plain.cols[0].f[1] = 0;
  plain.nrows = 2;
  ck_assert_int_eq(mlprt_table_append(&t, &plain, &e), 0);
  ck_assert_int_eq(t.rowid[183], 0);
  ck_assert_int_eq(t.rowid[184], 0);
  assert_aligned(&t);
  mlprt_table_free(&plain);
  mlprt_table_free(&t);
  ck_assert_ptr_null(t.rowid);
}
END_TEST

/* ---- a trained run's artifacts ------------------------------------------------ */

static char *read_in(const char *dir, const char *name) {
  char *p = test_path(dir, name);
  char *text = test_read_file(p, NULL);
  ck_assert_msg(text != NULL, "%s is missing", p);
  free(p);
  return text;
}

/* The lines of text (modified in place), without their newlines; *n
 * receives the count. The files here quote nothing, so a line is a row. */
static char **lines_of(char *text, int *n) {
  int cap = 16;
  char **v = malloc((size_t)cap * sizeof *v);
  *n = 0;
  for (char *s = text; *s;) {
    char *nl = strchr(s, '\n');
    if (nl) *nl = 0;
    if (*n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
    v[(*n)++] = s;
    if (!nl) break;
    s = nl + 1;
  }
  return v;
}

/* Field i of a comma-separated line, into buf. */
static const char *field(const char *line, int i, char *buf, size_t n) {
  for (; i > 0 && line; i--) {
    line = strchr(line, ',');
    if (line) line++;
  }
  ck_assert_ptr_nonnull(line);
  size_t len = strcspn(line, ",");
  ck_assert_uint_lt(len, n);
  memcpy(buf, line, len);
  buf[len] = 0;
  return buf;
}

static const cJSON *get(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  ck_assert_msg(v != NULL, "no '%s'", key);
  return v;
}

/* Train examples/iris.mlp into a fresh directory; returns the run directory. */
static char *train_iris(void) {
  char *dir = test_tmpdir(), *run = test_train("examples/iris.mlp", dir, "iris");
  free(dir);
  return run;
}

START_TEST(artifacts_iris_rows_and_predictions) {
  char *run = train_iris();
  char *mtext = read_in(run, "manifest.json");
  cJSON *man = cJSON_Parse(mtext);
  ck_assert_ptr_nonnull(man);
  int ntest = (int)get(get(man, "data"), "test")->valuedouble;
  double acc = get(get(get(man, "metrics"), "test"), "accuracy")->valuedouble;
  ck_assert_int_gt(ntest, 0);

  /* The source, read here on its own: line r is data row r. */
  char *stext = test_read_file("examples/data/iris.csv", NULL);
  ck_assert_ptr_nonnull(stext);
  int nsrc, nrows, npred;
  char **src = lines_of(stext, &nsrc);
  char *rtext = read_in(run, "test_rows.csv"), *ptext = read_in(run, "predictions.csv");
  char **rows = lines_of(rtext, &nrows), **pred = lines_of(ptext, &npred);
  ck_assert_str_eq(rows[0], src[0]);
  ck_assert_str_eq(pred[0], "row,label,p_setosa,p_versicolor,p_virginica");
  ck_assert_int_eq(nrows - 1, ntest);
  ck_assert_int_eq(npred - 1, ntest);
  char a[64], b[64];
  int correct = 0;
  for (int i = 1; i <= ntest; i++) {
    int id = atoi(field(pred[i], 0, a, sizeof a));
    ck_assert_int_ge(id, 1);
    ck_assert_int_lt(id, nsrc);
    /* The raw row is the source's row with that id: the same floats, the
     * same species. */
    for (int c = 0; c < 4; c++)
      ck_assert_msg(strtof(field(rows[i], c, a, sizeof a), NULL) ==
                        strtof(field(src[id], c, b, sizeof b), NULL),
                    "row %d column %d: %s against %s", id, c, a, b);
    ck_assert_str_eq(field(rows[i], 4, a, sizeof a), field(src[id], 4, b, sizeof b));
    correct += strcmp(field(pred[i], 1, a, sizeof a), b) == 0;
    /* The probabilities are a distribution whose largest is the label. */
    double sum = 0, top = -1;
    int arg = -1;
    for (int k = 0; k < 3; k++) {
      double p = strtod(field(pred[i], 2 + k, a, sizeof a), NULL);
      sum += p;
      if (p > top) top = p, arg = k;
    }
    ck_assert_double_eq_tol(sum, 1, 1e-5);
    static const char *const classes[] = {"setosa", "versicolor", "virginica"};
    ck_assert_str_eq(field(pred[i], 1, a, sizeof a), classes[arg]);
  }
  ck_assert_double_eq_tol((double)correct / ntest, acc, 1e-9);
  free(src);
  free(rows);
  free(pred);
  free(stext);
  free(rtext);
  free(ptext);
  cJSON_Delete(man);
  free(mtext);
  free(run);
}
END_TEST

/* Quoted categories, missing cells, booleans and a spec without a deploy
 * section: test_rows.csv gives back the source's own lines. The source is
 * written in the form the data step prints (shortest round-tripping
 * numbers, quotes only where RFC 4180 needs them), so they compare as text. */
START_TEST(artifacts_raw_rows_round_trip) {
  char *dir = test_tmpdir();
  char *data = test_path(dir, "data.csv"), *spec = test_path(dir, "mixed.mlp");
  static const char *const colors[] = {"\"red, dark\"", "blue", "\"say \"\"hi\"\"\""};
  FILE *f = fopen(data, "w");
  ck_assert_ptr_nonnull(f);
  fputs("id,color,size,flag,label\n", f);
  for (int i = 1; i <= 60; i++) {
    char size[32] = "";
    if (i % 9) snprintf(size, sizeof size, "%g", i * 0.25 + 0.1);
    fprintf(f, "%d,%s,%s,%s,%c\n", i, i % 7 ? colors[i % 3] : "", size, i % 2 ? "true" : "false",
            "abc"[i * 7 % 3]);
  }
  fclose(f);
  f = fopen(spec, "w");
  ck_assert_ptr_nonnull(f);
  fputs("pipeline mixed {\n  data {\n    source = csv(\"data.csv\")\n    target = label\n"
        "    clean {\n      impute(numeric, strategy = median)\n      onehot(color)\n    }\n"
        "    split(validation = 0.2, test = 0.3, seed = 3)\n  }\n"
        "  model {\n    dense(8)\n    output(activation = softmax)\n  }\n"
        "  hyperparameters {\n    optimizer = adam(lr = 0.01)\n    epochs = 3\n  }\n}\n",
        f);
  fclose(f);
  char *run = test_train(spec, dir, "mixed");
  char *stext = test_read_file(data, NULL), *rtext = read_in(run, "test_rows.csv");
  char *ptext = read_in(run, "predictions.csv"), *card = read_in(run, "MODEL_CARD.md");
  int nsrc, nrows, npred;
  char **src = lines_of(stext, &nsrc), **rows = lines_of(rtext, &nrows), **pred = lines_of(ptext, &npred);
  ck_assert_int_eq(nrows, npred);
  ck_assert_int_eq(nrows - 1, 18); /* 30% of 60 */
  ck_assert_str_eq(rows[0], src[0]);
  int missing = 0;
  for (int i = 1; i < nrows; i++) {
    int id = atoi(pred[i]);
    ck_assert_int_eq(id, atoi(rows[i])); /* the id column is the row number */
    ck_assert_str_eq(rows[i], src[id]);
    missing += strstr(rows[i], ",,") != NULL;
  }
  ck_assert_int_gt(missing, 0); /* the comparison covered empty cells */
  ck_assert_ptr_nonnull(strstr(card, "- Version: unversioned\n"));
  free(src);
  free(rows);
  free(pred);
  free(stext);
  free(rtext);
  free(ptext);
  free(card);
  free(data);
  free(spec);
  free(run);
  free(dir);
}
END_TEST

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* reference.json's feature bins against the cleaned training rows as the
 * program exports them (--export-features): edge i is the value of rank
 * floor(i n / 10), bin i counts edges[i-1] <= x < edges[i]. */
static void assert_deciles(const char *run, const cJSON *feat) {
  char *prog = test_path(run, "../iris.exe"), *dir = test_path(run, "../features");
  const char *argv[] = {prog, "--export-features", dir, "--quiet", NULL};
  TestRun t = test_run(argv, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  char *text = read_in(dir, "train.csv");
  int nl;
  char **lines = lines_of(text, &nl);
  while (nl > 1 && !lines[nl - 1][0]) nl--;
  int n = nl - 1;
  float *v = malloc((size_t)n * sizeof *v);
  char buf[64];
  for (int f = 0; f < 4; f++) { /* the four measurements come first, then species */
    for (int i = 0; i < n; i++) v[i] = strtof(field(lines[i + 1], f, buf, sizeof buf), NULL);
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    const cJSON *e = cJSON_GetArrayItem(get(feat, "edges"), f);
    const cJSON *fr = cJSON_GetArrayItem(get(feat, "fractions"), f);
    int below = 0;
    for (int i = 1; i <= 10; i++) {
      float edge = i < 10 ? (float)cJSON_GetArrayItem(e, i - 1)->valuedouble : INFINITY;
      if (i < 10) ck_assert_float_eq(edge, v[i * n / 10]);
      int upto = 0;
      while (upto < n && v[upto] < edge) upto++;
      ck_assert_double_eq_tol(cJSON_GetArrayItem(fr, i - 1)->valuedouble, (double)(upto - below) / n, 1e-12);
      below = upto;
    }
  }
  free(v);
  free(lines);
  free(text);
  free(dir);
  free(prog);
}

static double sum_of(const cJSON *arr);

/* An uncompressed IDX file of unsigned bytes with the given dimensions. */
static void write_idx(const char *path, const int *dims, int ndim, const unsigned char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  unsigned char head[4] = {0, 0, 0x08, (unsigned char)ndim};
  fwrite(head, 1, 4, f);
  for (int i = 0; i < ndim; i++) {
    unsigned char d[4] = {(unsigned char)(dims[i] >> 24), (unsigned char)(dims[i] >> 16),
                          (unsigned char)(dims[i] >> 8), (unsigned char)dims[i]};
    fwrite(d, 1, 4, f);
  }
  ck_assert_uint_eq(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* IDX images: test_rows.csv holds each tested image's raw bytes and label
 * (row = the image's 1-based index), reference.json one input per pixel;
 * with deploy.card = false there is no model card. */
START_TEST(artifacts_idx_rows_are_the_images) {
  enum { N = 80, H = 4, W = 4 };
  unsigned char img[N * H * W], lab[N];
  for (int i = 0; i < N; i++) {
    lab[i] = (unsigned char)(i % 3);
    for (int p = 0; p < H * W; p++)
      img[i * H * W + p] = (unsigned char)((i * 37 + p * 11 + lab[i] * 50) % 256);
  }
  char *dir = test_tmpdir();
  char *images = test_path(dir, "img.idx"), *labels = test_path(dir, "lab.idx");
  char *spec = test_path(dir, "img.mlp");
  write_idx(images, (const int[]){N, H, W}, 3, img, sizeof img);
  write_idx(labels, (const int[]){N}, 1, lab, sizeof lab);
  FILE *f = fopen(spec, "w");
  ck_assert_ptr_nonnull(f);
  fputs("pipeline img {\n  data {\n    source = idx(images = \"img.idx\", labels = \"lab.idx\")\n"
        "    target = label\n    clean {\n      minmax(all)\n    }\n"
        "    split(validation = 0.2, test = 0.25, stratify = true)\n  }\n"
        "  model {\n    flatten()\n    dense(8)\n    output(activation = softmax)\n  }\n"
        "  hyperparameters {\n    epochs = 2\n  }\n  deploy {\n    card = false\n  }\n}\n",
        f);
  fclose(f);
  char *run = test_train(spec, dir, "img");
  char *rtext = read_in(run, "test_rows.csv"), *ptext = read_in(run, "predictions.csv");
  int nrows, npred;
  char **rows = lines_of(rtext, &nrows), **pred = lines_of(ptext, &npred);
  ck_assert_int_eq(nrows, npred);
  char *mtext = read_in(run, "manifest.json");
  cJSON *man = cJSON_Parse(mtext);
  ck_assert_int_eq(nrows - 1, (int)get(get(man, "data"), "test")->valuedouble);
  ck_assert_int_ge(nrows - 1, N / 5);
  /* deploy.card = false: no model card, and none listed. */
  ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(get(man, "artifacts"), "MODEL_CARD.md"));
  ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(get(man, "artifacts"), "reference.json"));
  char *card = test_path(run, "MODEL_CARD.md");
  ck_assert_int_ne(access(card, F_OK), 0);
  free(card);
  cJSON_Delete(man);
  free(mtext);
  ck_assert_int_eq(strncmp(rows[0], "pixel0,pixel1,", 14), 0);
  ck_assert_ptr_nonnull(strstr(rows[0], ",pixel15,label"));
  char buf[16];
  for (int i = 1; i < nrows; i++) {
    int id = atoi(pred[i]);
    ck_assert(id >= 1 && id <= N);
    for (int p = 0; p < H * W; p++)
      ck_assert_int_eq(atoi(field(rows[i], p, buf, sizeof buf)), img[(id - 1) * H * W + p]);
    ck_assert_int_eq(atoi(field(rows[i], H * W, buf, sizeof buf)), lab[id - 1]);
  }
  char *reftext = read_in(run, "reference.json");
  cJSON *ref = cJSON_Parse(reftext);
  ck_assert_int_eq(cJSON_GetArraySize(get(ref, "inputs")), H * W);
  ck_assert_int_eq(cJSON_GetArraySize(get(get(ref, "features"), "edges")), H * W);
  for (int p = 0; p < H * W; p++)
    ck_assert_double_eq_tol(sum_of(cJSON_GetArrayItem(get(get(ref, "features"), "fractions"), p)), 1, 1e-12);
  cJSON_Delete(ref);
  free(reftext);
  free(rows);
  free(pred);
  free(rtext);
  free(ptext);
  free(images);
  free(labels);
  free(spec);
  free(run);
  free(dir);
}
END_TEST

static double sum_of(const cJSON *arr) {
  double s = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) s += v->valuedouble;
  return s;
}

START_TEST(artifacts_iris_reference_card_hashes) {
  char *run = train_iris();
  char *mtext = read_in(run, "manifest.json");
  cJSON *man = cJSON_Parse(mtext);
  int nfeat = (int)get(get(man, "data"), "features")->valuedouble;
  char *reftext = read_in(run, "reference.json");
  cJSON *ref = cJSON_Parse(reftext);
  ck_assert_ptr_nonnull(ref);
  /* Inputs: the four measurements (not the target), raw ranges. */
  const cJSON *inputs = get(ref, "inputs");
  ck_assert_int_eq(cJSON_GetArraySize(inputs), 4);
  const cJSON *in0 = cJSON_GetArrayItem(inputs, 0);
  ck_assert_str_eq(get(in0, "column")->valuestring, "sepal_length");
  ck_assert_double_le(get(in0, "min")->valuedouble, get(in0, "max")->valuedouble);
  ck_assert(get(in0, "min")->valuedouble >= 4.3f && get(in0, "max")->valuedouble <= 7.9f);
  /* Features: 9 rising edges and 10 fractions summing to 1 per feature. */
  const cJSON *feat = get(ref, "features");
  ck_assert_int_eq(get(feat, "bins")->valueint, 10);
  ck_assert_int_eq(cJSON_GetArraySize(get(feat, "edges")), nfeat);
  ck_assert_int_eq(cJSON_GetArraySize(get(feat, "fractions")), nfeat);
  for (int f = 0; f < nfeat; f++) {
    const cJSON *e = cJSON_GetArrayItem(get(feat, "edges"), f);
    const cJSON *fr = cJSON_GetArrayItem(get(feat, "fractions"), f);
    ck_assert_int_eq(cJSON_GetArraySize(e), 9);
    ck_assert_int_eq(cJSON_GetArraySize(fr), 10);
    for (int i = 1; i < 9; i++)
      ck_assert_double_le(cJSON_GetArrayItem(e, i - 1)->valuedouble, cJSON_GetArrayItem(e, i)->valuedouble);
    ck_assert_double_eq_tol(sum_of(fr), 1, 1e-12);
  }
  assert_deciles(run, feat);
  const cJSON *pf = get(get(ref, "predictions"), "fractions");
  ck_assert_int_eq(cJSON_GetArraySize(pf), 3);
  ck_assert_double_eq_tol(sum_of(pf), 1, 1e-12);
  ck_assert_ptr_nonnull(strstr(get(ref, "schema")->valuestring, "species\t"));
  /* The card has every section. */
  char *card = read_in(run, "MODEL_CARD.md");
  static const char *const sections[] = {"## Model\n",           "## Intended use\n", "## Data\n",
                                         "## Architecture\n",    "## Hyperparameters\n", "## Metrics\n",
                                         "## Limitations\n",     "## Files\n",         "- Version: 1.0.0\n"};
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
    ck_assert_msg(strstr(card, sections[i]) != NULL, "no '%s' in the card", sections[i]);
  /* Every artifact's digest matches its file, the new ones included. */
  const cJSON *arts = get(man, "artifacts"), *art;
  static const char *const wanted[] = {"test_rows.csv", "predictions.csv", "reference.json", "MODEL_CARD.md"};
  for (size_t i = 0; i < 4; i++) ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(arts, wanted[i]));
  cJSON_ArrayForEach(art, arts) {
    char *p = test_path(run, art->string), hex[65];
    ck_assert_int_eq(mlprt_sha256_file(p, hex), 0);
    ck_assert_msg(strcmp(hex, art->valuestring) == 0, "%s: digest differs", art->string);
    free(p);
  }
  free(card);
  cJSON_Delete(ref);
  free(reftext);
  cJSON_Delete(man);
  free(mtext);
  free(run);
}
END_TEST

/* ---- the registry -------------------------------------------------------------- */

/* mlpc with up to six arguments (NULL-terminated); the caller frees. */
static TestRun mlpc(const char *a, const char *b, const char *c, const char *d, const char *e,
                    const char *f) {
  const char *argv[] = {test_mlpc(), a, b, c, d, e, f, NULL};
  return test_run(argv, NULL);
}

static void assert_current(const char *reg, const char *want) {
  char *cur = test_path(reg, "iris/CURRENT");
  char *text = test_read_file(cur, NULL);
  ck_assert_ptr_nonnull(text);
  ck_assert_str_eq(text, want);
  free(text);
  free(cur);
}

/* A copy of a file with one more byte at its end. */
static void tamper(const char *dir, const char *name) {
  char *p = test_path(dir, name);
  FILE *f = fopen(p, "ab");
  ck_assert_ptr_nonnull(f);
  fputc('x', f);
  fclose(f);
  free(p);
}

/* deploy.rollback = false: each deploy leaves only the new version, so
 * versions lists one and rollback has nothing before it. */
START_TEST(artifacts_deploy_without_rollback) {
  char *dir = test_tmpdir(), *text = test_read_file("examples/iris.mlp", NULL), cwd[4096];
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  char *at = strstr(text, "csv(\"data/iris.csv\")"), *dep = strstr(text, "    version = \"1.0.0\"\n");
  ck_assert(at && dep && at < dep);
  char *spec = test_path(dir, "iris.mlp"), *out;
  ck_assert_int_ge(asprintf(&out, "%.*scsv(\"%s/examples/data/iris.csv\")%.*s    rollback = false\n%s",
                            (int)(at - text), text, cwd, (int)(dep - at - 20), at + 20, dep),
                   0);
  test_write_text(spec, out);
  char *run = test_train(spec, dir, "iris"), *reg = test_path(dir, "registry");
  for (int k = 0; k < 3; k++) {
    TestRun t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
    ck_assert_msg(t.status == 0, "%s", t.err);
    bool removed = strstr(t.out, "removed 1 older version of iris (deploy.rollback = false)") != NULL;
    ck_assert_int_eq(removed, k > 0);
    test_run_free(&t);
  }
  assert_current(reg, "1.0.2\n");
  static const char *const gone[] = {"iris/1.0.0", "iris/1.0.1"};
  for (int i = 0; i < 2; i++) {
    char *v = test_path(reg, gone[i]);
    ck_assert_int_ne(access(v, F_OK), 0);
    free(v);
  }
  TestRun t = mlpc("versions", "--registry", reg, NULL, NULL, NULL);
  ck_assert_int_eq(t.status, 0);
  ck_assert_ptr_nonnull(strstr(t.out, "* 1.0.2 "));
  ck_assert_ptr_null(strstr(t.out, "1.0.1"));
  test_run_free(&t);
  t = mlpc("rollback", "--registry", reg, "iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2); /* nothing before 1.0.2 */
  test_run_free(&t);
  assert_current(reg, "1.0.2\n");
  free(reg), free(run), free(spec), free(out), free(text), free(dir);
}
END_TEST

START_TEST(artifacts_registry_deploy_versions_rollback) {
  char *run = train_iris();
  char *reg = test_path(run, "../registry"), *extra = test_path(run, "../iris.exe");
  /* A predictor not written yet: refused before the registry is touched. */
  char *none = test_path(run, "../no_predictor");
  TestRun t = mlpc("deploy", run, "--registry", reg, "--predictor", none);
  ck_assert_int_eq(t.status, 2);
  ck_assert_ptr_nonnull(strstr(t.err, "cannot read the predictor"));
  ck_assert_ptr_nonnull(strstr(t.err, "mlpc export"));
  ck_assert_ptr_null(strstr(t.err, ".deploy.tmp"));
  ck_assert_int_ne(access(reg, F_OK), 0);
  test_run_free(&t);
  free(none);
  t = mlpc("deploy", run, "--registry", reg, "--predictor", extra);
  ck_assert_msg(t.status == 0, "%s", t.err);
  ck_assert_ptr_nonnull(strstr(t.out, "iris 1.0.0 deployed"));
  test_run_free(&t);
  assert_current(reg, "1.0.0\n");
  /* The same spec version again is the next patch. */
  t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  ck_assert_ptr_nonnull(strstr(t.out, "iris 1.0.1 deployed"));
  test_run_free(&t);
  assert_current(reg, "1.0.1\n");
  /* The stored manifest covers every copied file, the predictor included,
   * which keeps its execute permission. */
  char *v0 = test_path(reg, "iris/1.0.0");
  char *mtext = read_in(v0, "manifest.json");
  cJSON *m = cJSON_Parse(mtext);
  const cJSON *files = get(m, "files"), *f;
  ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(files, "iris.exe"));
  ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(files, "weights.bin"));
  ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(files, "run_manifest.json"));
  cJSON_ArrayForEach(f, files) {
    char *p = test_path(v0, f->string), hex[65];
    ck_assert_int_eq(mlprt_sha256_file(p, hex), 0);
    ck_assert_str_eq(hex, f->valuestring);
    free(p);
  }
  char *exe = test_path(v0, "iris.exe");
  ck_assert_int_eq(access(exe, X_OK), 0);
  free(exe);
  cJSON_Delete(m);
  free(mtext);
  /* Both versions are listed, the current one marked. */
  t = mlpc("versions", "--registry", reg, NULL, NULL, NULL);
  ck_assert_int_eq(t.status, 0);
  ck_assert_ptr_nonnull(strstr(t.out, "  1.0.0 "));
  ck_assert_ptr_nonnull(strstr(t.out, "* 1.0.1 "));
  ck_assert_ptr_nonnull(strstr(t.out, "test accuracy"));
  test_run_free(&t);
  /* Rollback goes to the version before, or to the one named. */
  t = mlpc("rollback", "--registry", reg, "iris", NULL, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  assert_current(reg, "1.0.0\n");
  t = mlpc("rollback", "--registry", reg, "iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2); /* nothing before 1.0.0 */
  test_run_free(&t);
  t = mlpc("rollback", "--registry", reg, "iris", "1.0.1", NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  assert_current(reg, "1.0.1\n");
  /* A version changed after it was stored is refused, naming the file. */
  tamper(v0, "weights.bin");
  t = mlpc("rollback", "--registry", reg, "iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_ptr_nonnull(strstr(t.err, "weights.bin"));
  test_run_free(&t);
  assert_current(reg, "1.0.1\n");
  t = mlpc("rollback", "--registry", reg, "iris", "9.9.9", NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  /* So is a run whose artifact no longer matches its manifest: nothing is stored. */
  tamper(run, "predictions.csv");
  t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_ptr_nonnull(strstr(t.err, "predictions.csv"));
  test_run_free(&t);
  char *v2 = test_path(reg, "iris/1.0.2");
  ck_assert_int_ne(access(v2, F_OK), 0);
  assert_current(reg, "1.0.1\n");
  t = mlpc("deploy", run, "--registy", reg, NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_ptr_nonnull(strstr(t.err, "did you mean '--registry'"));
  test_run_free(&t);
  free(v2);
  free(v0);
  free(extra);
  free(reg);
  free(run);
}
END_TEST


/* ---- run directories and the registry under faults ---------------------------- */

/* The training program of a run made by train_iris (DIR/iris.exe beside
 * DIR/iris.run) on run, with up to four more arguments. */
static TestRun retrain(const char *run, const char *a, const char *b, const char *c, const char *d) {
  char *exe = test_path(run, "../iris.exe");
  const char *argv[] = {exe, "--out", run, "--quiet", "--threads", "1", a, b, c, d, NULL};
  TestRun t = test_run(argv, NULL);
  free(exe);
  return t;
}

/* The run loads and verifies as export reads it. */
static void assert_loads(const char *run) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  ck_assert_msg(mlp_rundir_load(&a, run, &rd, err, sizeof err) == 0, "%s: %s", run, err);
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
}

/* A retrain that fails after it started leaves the previous run as it was,
 * and exportable, with no staging directory behind. */
START_TEST(artifacts_failed_retrain_keeps_previous_run) {
  char *run = train_iris(), *parent = test_path(run, "..");
  char *before = read_in(run, "manifest.json");
  char *bad = test_path(parent, "late.csv");
  test_write_text(bad, "sepal_length,sepal_width,petal_length,petal_width,species\n");
  TestRun t = retrain(run, "--data", bad, NULL, NULL);
  ck_assert_int_eq(t.status, 1);
  test_run_free(&t);
  char *after = read_in(run, "manifest.json");
  ck_assert_str_eq(before, after);
  assert_loads(run);
  ck_assert_int_eq(test_count_named(parent, ".staging-"), 0);
  free(after);
  free(bad);
  free(before);
  free(parent);
  free(run);
}
END_TEST

/* One writer per run directory and per registry: a second fails at once
 * naming the holder; what killed writers left is swept by the next one. */
START_TEST(artifacts_one_writer_and_stale_temporaries) {
  char *run = train_iris(), *parent = test_path(run, ".."), err[1024];
  char *lock = test_path(parent, "iris.run.lock");
  int fd = mlprt_lock(lock, err, sizeof err);
  ck_assert_msg(fd >= 0, "%s", err);
  char pid[32];
  snprintf(pid, sizeof pid, "process %ld", (long)getpid());
  TestRun t = retrain(run, NULL, NULL, NULL, NULL);
  ck_assert_int_eq(t.status, 1);
  ck_assert_msg(strstr(t.err, pid) != NULL, "%s", t.err);
  test_run_free(&t);
  close(fd);
  char *reg = test_path(parent, "registry"), *reglock = test_path(reg, ".lock");
  ck_assert_int_eq(mlprt_mkdirs(reg), 0);
  fd = mlprt_lock(reglock, err, sizeof err);
  ck_assert_msg(fd >= 0, "%s", err);
  t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, pid) != NULL, "%s", t.err);
  test_run_free(&t);
  close(fd);
  /* Leftovers of a dead process: a staging directory, a temporary in the
   * run, a half-assembled version. */
  char name[128];
  long dead = test_dead_pid();
  snprintf(name, sizeof name, "iris.run.staging-%ld", dead);
  char *staging = test_path(parent, name);
  ck_assert_int_eq(mlprt_mkdirs(staging), 0);
  snprintf(name, sizeof name, "weights.bin.tmp.%ld", dead);
  char *tmpfile = test_path(run, name);
  test_write_text(tmpfile, "x");
  snprintf(name, sizeof name, "iris/.deploy.tmp.%ld", dead);
  char *half = test_path(reg, name);
  ck_assert_int_eq(mlprt_mkdirs(half), 0);
  t = retrain(run, "--set", "epochs=2", NULL, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  ck_assert_int_ne(access(staging, F_OK), 0);
  ck_assert_int_ne(access(tmpfile, F_OK), 0);
  t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  ck_assert_int_ne(access(half, F_OK), 0);
  free(half);
  free(tmpfile);
  free(staging);
  free(reglock);
  free(reg);
  free(lock);
  free(parent);
  free(run);
}
END_TEST

/* A kill between the metrics line and the checkpoint leaves metrics.jsonl
 * an epoch ahead; the resumed run has each epoch once. */
START_TEST(artifacts_resume_has_each_epoch_once) {
  char *run = train_iris();
  TestRun t = retrain(run, "--set", "epochs=3", "--set", "early_stopping=0");
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  char *metrics = test_path(run, "metrics.jsonl"), *text = test_read_file(metrics, NULL);
  char **lines;
  ck_assert_int_eq(test_split_lines(text, &lines), 3);
  /* Epoch 4 recorded, the checkpoint still at epoch 3. */
  const char *rest = strstr(lines[2], ",\"lr\"");
  ck_assert_ptr_nonnull(rest);
  FILE *f = fopen(metrics, "w");
  fprintf(f, "%s\n%s\n%s\n{\"job\":0,\"epoch\":4%s\n", lines[0], lines[1], lines[2], rest);
  fclose(f);
  free(lines);
  free(text);
  char *exe = test_path(run, "../iris.exe");
  const char *argv[] = {exe, "--out", run, "--quiet", "--threads", "1", "--set", "epochs=6", "--set",
                        "early_stopping=0", "--resume", NULL};
  t = test_run(argv, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  text = test_read_file(metrics, NULL);
  int n = test_split_lines(text, &lines);
  ck_assert_int_eq(n, 6);
  for (int i = 0; i < 6; i++) {
    char want[64];
    snprintf(want, sizeof want, "{\"job\":0,\"epoch\":%d,", i + 1);
    ck_assert_msg(strncmp(lines[i], want, strlen(want)) == 0, "line %d: %s", i + 1, lines[i]);
  }
  free(lines);
  free(text);
  free(exe);
  free(metrics);
  free(run);
}
END_TEST

/* manifest.json is sealed: a flipped bit or an edited number is refused by
 * export, deploy, versions and rollback. */
START_TEST(artifacts_manifest_is_sealed) {
  char *run = train_iris(), *parent = test_path(run, "..");
  char *reg = test_path(parent, "registry"), *bad = test_path(parent, "flipped.run");
  const char *cp[] = {"cp", "-r", run, bad, NULL};
  test_run_ok(cp);
  char *man = test_path(bad, "manifest.json");
  char *text = test_read_file(man, NULL);
  long at = (long)(strstr(text, "\"accuracy\"") - text) + 14;
  free(text);
  ck_assert_int_ge(test_flip_bit(man, at, 0), 0);
  char *pred = test_path(parent, "flipped.pred");
  const char *exp[] = {test_mlpc(), "export", bad, "-o", pred, NULL};
  TestRun t = test_run(exp, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "manifest") != NULL, "%s", t.err);
  ck_assert_int_ne(access(pred, F_OK), 0);
  test_run_free(&t);
  t = mlpc("deploy", bad, "--registry", reg, NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "manifest") != NULL, "%s", t.err);
  test_run_free(&t);
  /* In the registry: an edited test accuracy in a stored version. */
  for (int i = 0; i < 2; i++) {
    t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
    ck_assert_msg(t.status == 0, "%s", t.err);
    test_run_free(&t);
  }
  char *v0 = test_path(reg, "iris/1.0.0"), *vman = test_path(v0, "manifest.json");
  text = test_read_file(vman, NULL);
  char *acc = strstr(text, "\"accuracy\":");
  ck_assert_ptr_nonnull(acc);
  acc += strlen("\"accuracy\":");
  while (*acc == ' ' || *acc == '\t') acc++;
  *acc = *acc == '1' ? '0' : '1';
  test_write_text(vman, text);
  free(text);
  t = mlpc("versions", "--registry", reg, "iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "manifest") != NULL, "%s", t.err);
  test_run_free(&t);
  t = mlpc("rollback", "--registry", reg, "iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  assert_current(reg, "1.0.1\n");
  free(vman);
  free(v0);
  free(pred);
  free(man);
  free(bad);
  free(reg);
  free(parent);
  free(run);
}
END_TEST

/* Names from a command line or a spec stay inside their directory. */
START_TEST(artifacts_paths_stay_inside) {
  char *run = train_iris(), *parent = test_path(run, "..");
  char *a = test_path(parent, "A"), *b = test_path(parent, "B");
  ck_assert_int_eq(mlprt_mkdirs(a), 0);
  for (int i = 0; i < 2; i++) {
    TestRun t = mlpc("deploy", run, "--registry", b, NULL, NULL);
    ck_assert_msg(t.status == 0, "%s", t.err);
    test_run_free(&t);
  }
  TestRun t = mlpc("rollback", "--registry", a, "../B/iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "leaves") != NULL, "%s", t.err);
  test_run_free(&t);
  assert_current(b, "1.0.1\n");
  t = mlpc("versions", "--registry", a, "../B/iris", NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  /* analysis.report and data.cleaning_report name files in the run. */
  char cwd[4096];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  static const char *const escapes[] = {"report = \"../../x.html\"", "report = \"/tmp/x.html\""};
  for (int i = 0; i < 2; i++) {
    char *spec = test_path(parent, "escape.mlp"), text[8192];
    snprintf(text, sizeof text,
             "pipeline escape {\n  data {\n    source = csv(\"%s/examples/data/iris.csv\")\n"
             "    target = species\n  }\n  model {\n    dense(4, activation = relu)\n"
             "    output(activation = softmax)\n  }\n  hyperparameters {\n    epochs = 2\n  }\n"
             "  analysis {\n    %s\n  }\n}\n",
             cwd, escapes[i]);
    test_write_text(spec, text);
    char *exe = test_path(parent, "escape.exe"), *out = test_path(parent, "sub/escape.run");
    const char *build[] = {test_mlpc(), "build", spec, "-o", exe, NULL};
    test_run_ok(build);
    const char *fit[] = {exe, "--out", out, "--quiet", NULL};
    t = test_run(fit, NULL);
    ck_assert_int_eq(t.status, 1);
    ck_assert_msg(strstr(t.err, "leaves") != NULL, "%s", t.err);
    test_run_free(&t);
    char *x = test_path(parent, "x.html");
    ck_assert_int_ne(access(x, F_OK), 0);
    ck_assert_int_ne(access(out, F_OK), 0);
    free(x);
    free(out);
    free(exe);
    free(spec);
  }
  free(b);
  free(a);
  free(parent);
  free(run);
}
END_TEST

/* deploy signs each version with the key of MLPC_SIGNING_KEY_FILE;
 * rollback and a deployed predictor's --verify check it against
 * MLPC_VERIFY_KEY: a tampered version or another key is refused. */
START_TEST(artifacts_signed_versions) {
  char *run = train_iris(), *parent = test_path(run, ".."), err[512];
  char *keyfile = test_path(parent, "signing.key"), *other = test_path(parent, "other.key");
  test_write_text(keyfile, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  test_write_text(other, "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n");
  uint8_t pk[32];
  char right[65], wrong[65];
  setenv("MLPC_SIGNING_KEY_FILE", other, 1);
  ck_assert_msg(mlprt_verify_key(pk, err, sizeof err) == 0, "%s", err);
  mlprt_key_hex(pk, wrong);
  setenv("MLPC_SIGNING_KEY_FILE", keyfile, 1);
  ck_assert_msg(mlprt_verify_key(pk, err, sizeof err) == 0, "%s", err);
  mlprt_key_hex(pk, right);
  char *reg = test_path(parent, "registry"), *pred = test_path(parent, "iris_pred");
  const char *exp[] = {test_mlpc(), "export", run, "-o", pred, NULL};
  test_run_ok(exp);
  TestRun t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  ck_assert_ptr_nonnull(strstr(t.out, right));
  test_run_free(&t);
  t = mlpc("deploy", run, "--registry", reg, "--predictor", pred);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  char *v0 = test_path(reg, "iris/1.0.0"), *v1 = test_path(reg, "iris/1.0.1");
  char *sig = test_path(v0, "manifest.sig"), *man = test_path(v0, "manifest.json");
  ck_assert_int_eq(access(sig, F_OK), 0);
  /* The signing key's own public half checks it. */
  t = mlpc("rollback", "--registry", reg, "iris", NULL, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  test_run_free(&t);
  /* A flipped bit in the signature; an edited manifest sealed again. */
  long off = test_flip_bit(sig, 17, 2);
  t = mlpc("rollback", "--registry", reg, "iris", "1.0.0", NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "manifest.sig") != NULL, "%s", t.err);
  test_run_free(&t);
  test_flip_bit(sig, off, 2);
  char *text = test_read_file(man, NULL);
  char *edited = strdup(text), *acc = strstr(edited, "\"accuracy\":");
  ck_assert_ptr_nonnull(acc);
  acc[strlen("\"accuracy\":") + 1] ^= 1;
  test_write_text(man, edited);
  ck_assert_int_eq(mlprt_manifest_seal(v0), 0);
  t = mlpc("rollback", "--registry", reg, "iris", "1.0.0", NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "signature") != NULL, "%s", t.err);
  test_run_free(&t);
  test_write_text(man, text);
  ck_assert_int_eq(mlprt_manifest_seal(v0), 0);
  /* Another key: rollback, deploy and the predictor refuse. */
  setenv("MLPC_VERIFY_KEY", wrong, 1);
  t = mlpc("rollback", "--registry", reg, "iris", "1.0.1", NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  t = mlpc("deploy", run, "--registry", reg, NULL, NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  char *v2 = test_path(reg, "iris/1.0.2");
  ck_assert_int_ne(access(v2, F_OK), 0);
  char *stored = test_path(v1, "iris_pred");
  const char *verify[] = {stored, "--verify", v1, NULL};
  t = test_run(verify, NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  setenv("MLPC_VERIFY_KEY", right, 1);
  t = test_run(verify, NULL);
  ck_assert_msg(t.status == 0, "%s", t.err);
  ck_assert_ptr_nonnull(strstr(t.out, "verified as iris_pred"));
  test_run_free(&t);
  /* A predictor the version does not list is not verified by it. */
  const char *training[] = {pred, "--verify", v0, NULL};
  t = test_run(training, NULL);
  ck_assert_int_eq(t.status, 2);
  test_run_free(&t);
  /* Without any key a signed version cannot be checked: refused. */
  unsetenv("MLPC_VERIFY_KEY");
  unsetenv("MLPC_SIGNING_KEY_FILE");
  t = mlpc("rollback", "--registry", reg, "iris", "1.0.0", NULL);
  ck_assert_int_eq(t.status, 2);
  ck_assert_msg(strstr(t.err, "MLPC_VERIFY_KEY") != NULL, "%s", t.err);
  test_run_free(&t);
  free(stored);
  free(v2);
  free(edited);
  free(text);
  free(man);
  free(sig);
  free(v1);
  free(v0);
  free(pred);
  free(reg);
  free(other);
  free(keyfile);
  free(parent);
  free(run);
}
END_TEST

Suite *artifacts_suite(void); /* the runner finds it by name */
Suite *artifacts_suite(void) {
  Suite *s = suite_create("artifacts");
  TCase *tc = tcase_create("rowid");
  tcase_add_test(tc, artifacts_rowids_follow_rows);
  suite_add_tcase(s, tc);
  TCase *run = tcase_create("run");
  tcase_set_timeout(run, 60);
  tcase_add_test(run, artifacts_iris_rows_and_predictions);
  tcase_add_test(run, artifacts_iris_reference_card_hashes);
  tcase_add_test(run, artifacts_raw_rows_round_trip);
  tcase_add_test(run, artifacts_idx_rows_are_the_images);
  suite_add_tcase(s, run);
  TCase *reg = tcase_create("registry");
  tcase_set_timeout(reg, 60);
  tcase_add_test(reg, artifacts_registry_deploy_versions_rollback);
  tcase_add_test(reg, artifacts_deploy_without_rollback);
  suite_add_tcase(s, reg);
  TCase *faults = tcase_create("faults");
  tcase_set_timeout(faults, 120);
  tcase_add_test(faults, artifacts_failed_retrain_keeps_previous_run);
  tcase_add_test(faults, artifacts_one_writer_and_stale_temporaries);
  tcase_add_test(faults, artifacts_resume_has_each_epoch_once);
  tcase_add_test(faults, artifacts_manifest_is_sealed);
  tcase_add_test(faults, artifacts_paths_stay_inside);
  tcase_add_test(faults, artifacts_signed_versions);
  suite_add_tcase(s, faults);
  return s;
}
