/* check_export.c — `mlpc export`: trained runs of the examples (and of a
 * small convolutional model on generated IDX images) compiled into
 * predictors that answer the run's raw test rows exactly as training
 * predicted them; bad rows rejected with reasons while the rows around
 * them are answered; --version; a tampered run refused; and the
 * --emit-obj library linked into a C program, agreeing with the binary. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mlp/run.h"
#include "rundir.h"
#include "testutil.h"

static char *tmp; /* one directory for the whole suite: the runs are trained once */

/* Under make asan the runtime the embedding program links was built with
 * the sanitizers, whose libraries it then needs. */
#ifdef __SANITIZE_ADDRESS__
#define SANITIZE "-fsanitize=address,undefined"
#else
#define SANITIZE NULL
#endif

/* Build spec into TMP/NAME.exe and train it into TMP/NAME.run. */
static void train(const char *spec, const char *name) {
  free(test_train(spec, tmp, name));
}

/* The predictor's answers (CSV with a header) against predictions.csv:
 * the same labels, probabilities within 1e-5; regression values within
 * 1e-5 relative. Rows with a far-out value (far) are only required to be
 * answered: the failsafe clipped them. Most rows must compare. */
static void compare_answers(const char *name, char *answers, const char *run, const bool *far) {
  char *pred_path = test_path(run, "predictions.csv");
  char *want = test_read_file(pred_path, NULL);
  ck_assert_msg(want != NULL, "no %s", pred_path);
  char **al, **wl;
  int na = test_split_lines(answers, &al), nw = test_split_lines(want, &wl);
  while (na > 0 && !al[na - 1][0]) na--;
  while (nw > 0 && !wl[nw - 1][0]) nw--;
  ck_assert_msg(na == nw, "%s: %d answer lines for %d predictions", name, na, nw);
  char *ah[TEST_MAXF], *wh[TEST_MAXF];
  int nah = test_csv_fields(al[0], ah, TEST_MAXF), nwh = test_csv_fields(wl[0], wh, TEST_MAXF);
  int wlabel = test_field_index(wh, nwh, "label"), alabel = test_field_index(ah, nah, "label");
  int error = test_field_index(ah, nah, "error"), exact = 0;
  ck_assert_msg(error >= 0, "%s: no error column in '%s'", name, al[0]);
  for (int r = 1; r < nw; r++) {
    char *a[TEST_MAXF], *w[TEST_MAXF];
    int nar = test_csv_fields(al[r], a, TEST_MAXF), nwr = test_csv_fields(wl[r], w, TEST_MAXF);
    ck_assert_msg(nar == nah && a[error][0] == 0, "%s row %d not answered: %s", name, r, al[r]);
    if (far[r - 1]) {
      test_fields_free(a, nar);
      test_fields_free(w, nwr);
      continue;
    }
    exact++;
    if (wlabel >= 0) {
      ck_assert_msg(alabel >= 0, "%s: no label column in '%s'", name, al[0]);
      ck_assert_msg(strcmp(a[alabel], w[wlabel]) == 0, "%s row %d: label %s, training said %s", name, r,
                    a[alabel], w[wlabel]);
    }
    int compared = 0;
    for (int k = 0; k < nwh; k++) {
      bool prob = strncmp(wh[k], "p_", 2) == 0, value = strcmp(wh[k], "value") == 0;
      if (!prob && !value) continue;
      int j = test_field_index(ah, nah, wh[k]);
      ck_assert_msg(j >= 0 && j < nar, "%s: no column %s in '%s'", name, wh[k], al[0]);
      double x = strtod(a[j], NULL), y = strtod(w[k], NULL);
      double tol = value ? 1e-5 * fmax(1, fabs(y)) : 1e-5;
      ck_assert_msg(fabs(x - y) <= tol, "%s row %d %s: %.9g, training said %.9g", name, r, wh[k], x, y);
      compared++;
    }
    ck_assert_msg(compared > 0, "%s: nothing to compare in '%s'", name, wl[0]);
    test_fields_free(a, nar);
    test_fields_free(w, nwr);
  }
  ck_assert_msg(2 * exact >= nw - 1, "%s: only %d of %d rows within the training ranges", name, exact,
                nw - 1);
  test_fields_free(ah, nah);
  test_fields_free(wh, nwh);
  free(al);
  free(wl);
  free(want);
  free(pred_path);
}

/* mlpc export TMP/NAME.run -o TMP/NAME.pred [extra...]; the predictor's path. */
static char *export_run(const char *name, const char *const *extra) {
  char file[256];
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(tmp, file);
  snprintf(file, sizeof file, "%s.pred", name);
  char *pred = test_path(tmp, file);
  const char *argv[16] = {test_mlpc(), "export", run, "-o", pred};
  int n = 5;
  for (int i = 0; extra && extra[i]; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  test_run_ok(argv);
  free(run);
  return pred;
}

/* Export NAME's run uncompressed (whatever its deploy section asks), answer
 * its test rows, compare with training. */
static void check_equal(const char *name, const char *target) {
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *pred = export_run(name, plain);
  char file[256];
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(tmp, file);
  snprintf(file, sizeof file, "%s.in.csv", name);
  char *in = test_path(tmp, file);
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  ck_assert_msg(mlp_rundir_load(&a, run, &rd, err, sizeof err) == 0, "%s", err);
  bool far[TEST_MAXROWS];
  int rows = test_inputs_without_target(&rd, target, in, far);
  ck_assert_int_gt(rows, 0);
  const char *argv[] = {pred, in, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s: status %d: %s", pred, r.status, r.err);
  compare_answers(name, r.out, run, far);
  test_run_free(&r);
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
  free(in);
  free(run);
  free(pred);
}

/* ---- fixtures --------------------------------------------------------------- */

static const struct {
  const char *name, *target;
} examples[] = {{"iris", "species"},
                {"wine", "cultivar"},
                {"breast_cancer", "diagnosis"},
                {"diabetes", "progression"},
                {"digits", "digit"},
                {"austen", "book"},
                {"austen_lstm", "book"},
                {"austen_transformer", "book"}};
enum { NEXAMPLES = sizeof examples / sizeof examples[0] };

/* A small image set in IDX form: three classes of 8x8 images (a vertical
 * bar, a horizontal bar, a centre dot) over noise, for the convolutional
 * path (conv2d, batchnorm, max and average pooling, layer norm over an
 * image's channels and pixels, flatten, dropout). */
static void write_idx(const char *images, const char *labels, int n) {
  FILE *fi = fopen(images, "wb"), *fl = fopen(labels, "wb");
  ck_assert(fi && fl);
  const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, (unsigned char)(n >> 8), (unsigned char)n,
                                0, 0, 0, 8, 0, 0, 0, 8};
  const unsigned char lh[8] = {0, 0, 8, 1, 0, 0, (unsigned char)(n >> 8), (unsigned char)n};
  fwrite(ih, 1, 16, fi);
  fwrite(lh, 1, 8, fl);
  unsigned seed = 7;
  for (int i = 0; i < n; i++) {
    unsigned char img[64], c = (unsigned char)(i % 3);
    for (int p = 0; p < 64; p++) {
      seed = seed * 1103515245u + 12345u;
      int v = (int)((seed >> 16) % 60), y = p / 8, x = p % 8;
      if ((c == 0 && (x == 2 || x == 3)) || (c == 1 && (y == 2 || y == 3)) ||
          (c == 2 && x >= 3 && x <= 4 && y >= 3 && y <= 4))
        v += 180;
      img[p] = (unsigned char)v;
    }
    fwrite(img, 1, 64, fi);
    fputc(c, fl);
  }
  fclose(fi);
  fclose(fl);
}

/* iris with every failsafe policy rejecting, and drift monitoring. */
static const char strict_spec[] =
    "pipeline iris_strict {\n"
    "  data {\n"
    "    source = csv(\"%s/examples/data/iris.csv\")\n"
    "    target = species\n"
    "    clean {\n"
    "      impute(numeric, strategy = median)\n"
    "      standardize(numeric)\n"
    "    }\n"
    "    split(validation = 0.2, test = 0.2, stratify = true, seed = 42)\n"
    "  }\n"
    "  model {\n"
    "    dense(8, activation = relu)\n"
    "    output(activation = softmax)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    optimizer = adam(lr = 0.01)\n"
    "    epochs = 30\n"
    "  }\n"
    "  deploy {\n"
    "    version = \"2.3.4\"\n"
    "    predictor = \"iris_strict\"\n"
    "    monitor(drift_threshold = 0.2, window = 10)\n"
    "    failsafe {\n"
    "      missing_column = reject\n"
    "      unknown_category = reject\n"
    "      out_of_range = reject\n"
    "      nan = reject\n"
    "    }\n"
    "  }\n"
    "}\n";

/* The IDX images' pipeline: its name, the directory of img.idx and
 * lab.idx (twice), then the model's layers. */
static const char idx_spec[] =
    "pipeline %s {\n"
    "  data {\n"
    "    source = idx(images = \"%s/img.idx\", labels = \"%s/lab.idx\")\n"
    "    target = label\n"
    "    clean {\n"
    "      minmax(all)\n"
    "    }\n"
    "    split(validation = 0.2, test = 0.2, stratify = true)\n"
    "  }\n"
    "  model {\n"
    "%s"
    "    output(activation = softmax)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    optimizer = adam(lr = 0.01)\n"
    "    batch = 16\n"
    "    epochs = 5\n"
    "  }\n"
    "}\n";

static const char cnn_layers[] =
    "    conv2d(4, kernel = 3, padding = 1, activation = relu)\n"
    "    batchnorm()\n"
    "    maxpool2d(2)\n"
    "    conv2d(4, kernel = 3, activation = tanh)\n"
    "    avgpool2d(2)\n"
    "    layernorm()\n"
    "    flatten()\n"
    "    dense(8, activation = leaky_relu)\n"
    "    dropout(0.2)\n";

/* The same images read as sequences, 8 steps (rows) of 8 pixels: a GRU
 * whose every step feeds an LSTM, whose last state is one step of a tanh
 * RNN. */
static const char rnn_layers[] =
    "    gru(8, return_sequences = true)\n"
    "    lstm(6)\n"
    "    rnn(5)\n";

/* And by transformer encoders: every step of a post-norm block with
 * sinusoidal positions into a pre-norm gelu block, its last step; a gelu
 * dense layer. */
static const char tf_layers[] =
    "    transformer_encoder(heads = 2, dim = 8, pool = none, positions = sinusoidal)\n"
    "    transformer_encoder(heads = 4, dim = 8, norm_first = true, activation = gelu, pool = last)\n"
    "    dense(6, activation = gelu)\n";

/* A colour whose level "violet" only the last rows hold: split in time
 * order, they are the test rows (the time, out of the training range
 * there, is no feature). */
static const char late_spec[] =
    "pipeline late {\n"
    "  data {\n"
    "    source = csv(\"%s/late.csv\")\n"
    "    target = y\n"
    "    clean {\n"
    "      drop_columns([t])\n"
    "      onehot([color])\n"
    "      standardize(numeric)\n"
    "    }\n"
    "    split(validation = 0.2, test = 0.2, time_order = t)\n"
    "  }\n"
    "  model {\n"
    "    dense(8)\n"
    "    output(activation = softmax)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    epochs = 5\n"
    "  }\n"
    "}\n";

static void write_late(const char *path) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("t,x,color,y\n", f);
  for (int i = 1; i <= 60; i++) {
    double x = (double)((i * 37) % 60) / 60;
    fprintf(f, "%d,%.4f,%s,%s\n", i, x, i > 56 ? "violet" : i % 2 ? "red" : "green", x > 0.5 ? "hi" : "lo");
  }
  fclose(f);
}

/* Iris from an SQLite database: the rows whose id is not a multiple of 5
 * train and validate, the others are the given test set. */
static const char sqlite_spec[] =
    "pipeline sqlite_iris {\n"
    "  data {\n"
    "    source = sqlite(\"%s/flowers.db\", query = \"SELECT sepal_length, sepal_width, petal_length, "
    "petal_width, species FROM flowers WHERE id %% 5 <> 0 ORDER BY id\")\n"
    "    test_source = sqlite(\"%s/flowers.db\", query = \"SELECT sepal_length, sepal_width, petal_length, "
    "petal_width, species FROM flowers WHERE id %% 5 = 0 ORDER BY id\")\n"
    "    target = species\n"
    "    clean {\n"
    "      impute(numeric)\n"
    "      standardize(numeric)\n"
    "    }\n"
    "    split(validation = 0.2, stratify = true)\n"
    "  }\n"
    "  model {\n"
    "    dense(8, activation = relu)\n"
    "    output(activation = softmax)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    optimizer = adam(lr = 0.01)\n"
    "    epochs = 20\n"
    "  }\n"
    "}\n";

/* examples/data/iris.csv as the table flowers of an SQLite file, each row
 * numbered (id), one petal length NULL. */
static void write_flowers(const char *db_path) {
  sqlite3 *db;
  ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
  const char *create = "CREATE TABLE flowers (id INTEGER PRIMARY KEY, sepal_length REAL, sepal_width REAL, "
                       "petal_length REAL, petal_width REAL, species TEXT)";
  ck_assert_int_eq(sqlite3_exec(db, create, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_stmt *st;
  ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO flowers VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL),
                   SQLITE_OK);
  char *text = test_read_file("examples/data/iris.csv", NULL);
  ck_assert_ptr_nonnull(text);
  char **lines;
  int n = test_split_lines(text, &lines);
  for (int r = 1; r < n; r++) {
    char *f[8];
    if (test_csv_fields(lines[r], f, 8) != 5) continue;
    sqlite3_bind_int(st, 1, r);
    for (int k = 0; k < 4; k++) {
      if (r == 7 && k == 2) sqlite3_bind_null(st, 3);
      else sqlite3_bind_double(st, k + 2, strtod(f[k], NULL));
    }
    sqlite3_bind_text(st, 6, f[4], -1, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
    test_fields_free(f, 5);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(lines);
  free(text);

}

/* Text with accents, digits, punctuation and quotes: one column cleaned
 * (accents, digits, stop words) and hashed as character n-grams, another
 * counted as characters and character pairs over a vocabulary. */
static const char chars_spec[] = "pipeline chars {\n"
                                 "  data {\n"
                                 "    source = csv(\"%s/chars.csv\")\n"
                                 "    target = label\n"
                                 "    schema {\n"
                                 "      doc = text\n"
                                 "      doc2 = text\n"
                                 "    }\n"
                                 "    clean {\n"
                                 "      text_clean([doc], strip_accents = true, strip_digits = true, "
                                 "stopwords = english)\n"
                                 "      hash_vectorize([doc], analyzer = char, ngram = [2, 3], "
                                 "buckets = 64)\n"
                                 "      bag_of_words([doc2], analyzer = char, ngram = [1, 2], "
                                 "max_vocab = 300)\n"
                                 "    }\n"
                                 "    split(validation = 0.2, test = 0.2, seed = 5)\n"
                                 "  }\n"
                                 "  model {\n"
                                 "    dense(8, activation = relu)\n"
                                 "    output()\n"
                                 "  }\n"
                                 "  hyperparameters {\n"
                                 "    epochs = 15\n"
                                 "  }\n"
                                 "}\n";

/* The same texts as word ids: cleaned, 5 ids of the 6 words seen twice or
 * more (shorter texts padded in front, longer ones cut, other words out of
 * the vocabulary), embedded and read by two stacked bidirectional GRUs with
 * dropout between them; or, with the padding masked, by a transformer
 * encoder whose every step a bidirectional LSTM reads, or as a bag of
 * embeddings (the largest of each feature over the real words). */
static const char tokens_spec[] = "pipeline tokens {\n"
                                  "  data {\n"
                                  "    source = csv(\"%s/chars.csv\")\n"
                                  "    target = label\n"
                                  "    schema {\n"
                                  "      doc = text\n"
                                  "    }\n"
                                  "    clean {\n"
                                  "      drop_columns([doc2])\n"
                                  "      text_clean([doc], strip_accents = true)\n"
                                  "      tokenize([doc], max_len = 5, max_vocab = 6, min_count = 2)\n"
                                  "    }\n"
                                  "    split(validation = 0.2, test = 0.2, seed = 5)\n"
                                  "  }\n"
                                  "  model {\n"
                                  "%s"
                                  "    output()\n"
                                  "  }\n"
                                  "  hyperparameters {\n"
                                  "    epochs = 15\n"
                                  "  }\n"
                                  "}\n";

static void write_chars(const char *path) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  static const char *const words[3][5] = {
      {"Caf\xc3\xa9", "cr\xc3\xa8me", "the", "\"sweet\"", "42"},
      {"Stra\xc3\x9f" "e", "and", "road,", "7 lanes", "\xc3\x81vila"},
      {"na\xc3\xafve", "r\xc3\xb4le", "of", "it's", "2024!"}};
  fputs("doc,doc2,label\n", f);
  for (int i = 0; i < 150; i++) {
    int c = i % 3;
    fputc('"', f);
    for (int w = 0; w < 3 + i % 4; w++) {
      const char *word = words[(w + i) % 4 ? c : (c + 1) % 3][(i * 7 + w * 3) % 5];
      if (w) fputc(' ', f);
      for (const char *p = word; *p; p++) {
        if (*p == '"') fputc('"', f); /* quoted as CSV quotes it */
        fputc(*p, f);
      }
    }
    fprintf(f, "\",%s %d,%c\n", i % 4 ? "x-ray" : "Yak", i % 5, "ABC"[c]);
  }
  fclose(f);
}

/* Dates as people write them ("Mar 5 2001" declared with its format in the
 * schema, a UTC offset), amounts with
 * thousands separators and percent signs, booleans spelled yes/no: the
 * chain converts and derives them, and the predictor does the same from
 * the raw fields. The lagged run adds a per-store lag, which a predictor
 * serves from the rows before in the stream. */
static const char dated_spec[] =
    "pipeline dated {\n"
    "  data {\n"
    "    source = csv(\"%s/dated.csv\")\n"
    "    target = sales\n"
    "    schema {\n"
    "      day = date(\"%%b %%d %%Y\")\n"
    "      stamp = text\n"
    "      amount = text\n"
    "      promo = text\n"
    "    }\n"
    "    clean {\n"
    "      parse_dates([stamp], format = \"%%Y-%%m-%%d %%H:%%M %%z\")\n"
    "      coerce([amount], to = float, on_error = null)\n"
    "      coerce([promo], to = bool)\n"
    "      sort_by([store, day])\n"
    "      %s"
    "      date_features([day], parts = [month, dayofweek, dayofyear], cyclical = true)\n"
    "      date_features([stamp], parts = [hour])\n"
    "      impute(numeric, strategy = median)\n"
    "      onehot([store])\n"
    "      standardize(numeric)\n"
    "    }\n"
    "    split(validation = 0.2, test = 0.2, time_order = day)\n"
    "  }\n"
    "  model {\n"
    "    dense(8)\n"
    "    output(activation = linear)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    epochs = 5\n"
    "  }\n"
    "}\n";

/* The same file, the dates and converted columns read by no feature: the
 * ONNX export has nothing to refuse. */
static const char undated_spec[] =
    "pipeline undated {\n"
    "  data {\n"
    "    source = csv(\"%s/dated.csv\")\n"
    "    target = sales\n"
    "    schema {\n"
    "      day = date(\"%%b %%d %%Y\")\n"
    "      amount = text\n"
    "    }\n"
    "    clean {\n"
    "      parse_dates([stamp], format = \"%%Y-%%m-%%d %%H:%%M %%z\")\n"
    "      coerce([amount], to = float, on_error = null)\n"
    "      drop_columns([day, stamp, amount, promo])\n"
    "      onehot([store])\n"
    "    }\n"
    "    split(validation = 0.2, test = 0.2, seed = 3)\n"
    "  }\n"
    "  model {\n"
    "    dense(4)\n"
    "    output(activation = linear)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    epochs = 2\n"
    "  }\n"
    "}\n";

static void write_dated(const char *path) {
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("store,day,stamp,amount,promo,sales\n", f);
  for (int i = 0; i < 90; i++) {
    int m = i % 12, d = 1 + (i * 7) % 28, y = 2000 + i / 12;
    const char *amount = i % 10 == 3 ? "n/a" : i % 3 ? "\"1,2%02d.5\"" : "%d.5%%";
    char am[32];
    snprintf(am, sizeof am, amount, i);
    fprintf(f, "%c,%s %d %d,%d-%02d-%02d %02d:15 %+03d:00,%s,%s,%.2f\n", 'a' + i % 3, months[m], d, y, y,
            m + 1, d, i % 24, i % 5 - 2, am, i % 4 ? "no" : "Yes", 10 + m + (double)((i * 13) % 7));
  }
  fclose(f);
}

/* Two shops' readings at irregular hours, interleaved in time order, some
 * sales and temperatures missing, put on a daily grid per shop: the agg
 * and fill are the run's; lags of the resampled sales and temperature
 * follow. */
static const char shop_spec[] =
    "pipeline shop {\n"
    "  data {\n"
    "    source = csv(\"%s/%s.csv\")\n"
    "    target = sales\n"
    "    clean {\n"
    "      sort_by([store, when])\n"
    "      resample(on = when, freq = \"1d\", by = store, agg = %s, fill = %s)\n"
    "      lag([sales, temp], steps = [1, 2], by = store, history = null)\n"
    "      impute(numeric, strategy = median)\n"
    "      onehot([store, promo])\n"
    "      drop_columns([when])\n"
    "      standardize(numeric)\n"
    "    }\n"
    "    split(validation = 0.15, test = 0.2, seed = 4)\n"
    "  }\n"
    "  model {\n"
    "    dense(8)\n"
    "    output(activation = linear)\n"
    "  }\n"
    "  hyperparameters {\n"
    "    epochs = 10\n"
    "  }\n"
    "}\n";

/* The shops are a and b, or 1 and 2 (a numeric key) when numbered. */
static void write_shop(const char *path, bool numbered) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("store,when,temp,sales,promo,n\n", f);
  static const int steps[] = {3, 5, 7, 11, 30, 60}; /* hours between a shop's readings */
  int64_t at[2] = {0, 2};
  for (int i = 0; i < 600; i++) {
    int k = at[0] <= at[1] ? 0 : 1; /* the earlier shop's next reading: the file is in time order */
    unsigned h = (unsigned)i * 2654435761u;
    int64_t t = 1609459200 + at[k] * 3600; /* from 2021-01-01 */
    char when[32];
    mlprt_format_datetime(t, when, sizeof when);
    double temp = 10 + 5 * (i % 30) / 30.0 + (h >> 8) % 1000 / 1000.0;
    fprintf(f, "%c,%s,", (numbered ? "12" : "ab")[k], when);
    if (i % 23 == 9) fputs(",", f);
    else fprintf(f, "%.3f,", temp);
    if (i % 19 == 4) fputs(",", f);
    else fprintf(f, "%.2f,", 20 + 2 * temp + (h >> 4) % 300 / 100.0);
    fprintf(f, "%s,%u\n", (h >> 12) % 2 ? "yes" : "no", (h >> 16) % 10);
    at[k] += steps[(h >> 20) % 6];
  }
  fclose(f);
}

/* text written as TMP/FILE and trained into TMP/NAME.run. */
static void train_text(const char *file, const char *text, const char *name) {
  char *spec = test_path(tmp, file);
  test_write_text(spec, text);
  train(spec, name);
  free(spec);
}

static void setup(void) {
  tmp = test_tmpdir();
  for (int i = 0; i < NEXAMPLES; i++) {
    char spec[256];
    snprintf(spec, sizeof spec, "examples/%s.mlp", examples[i].name);
    train(spec, examples[i].name);
  }
  train("examples/grunfeld.mlp", "grunfeld");
  train("examples/seattle_window.mlp", "seattle_window");
  train("examples/macro_sunspots.mlp", "macro_sunspots");
  const char *root = getenv("PWD");
  char text[4096];
  snprintf(text, sizeof text, strict_spec, root ? root : ".");
  train_text("strict.mlp", text, "strict");
  char *img = test_path(tmp, "img.idx"), *lab = test_path(tmp, "lab.idx");
  write_idx(img, lab, 240);
  static const char *const idx_names[] = {"cnn", "rnn", "tf"};
  static const char *const idx_layers[] = {cnn_layers, rnn_layers, tf_layers};
  for (int k = 0; k < 3; k++) {
    char name[64], file[64];
    snprintf(name, sizeof name, "tiny_%s", idx_names[k]);
    snprintf(file, sizeof file, "%s.mlp", idx_names[k]);
    snprintf(text, sizeof text, idx_spec, name, tmp, tmp, idx_layers[k]);
    train_text(file, text, idx_names[k]);
  }
  char *chars = test_path(tmp, "chars.csv");
  write_chars(chars);
  snprintf(text, sizeof text, chars_spec, tmp);
  train_text("chars.mlp", text, "chars");
  snprintf(text, sizeof text, tokens_spec, tmp,
           "    embedding(8, 4)\n"
           "    gru(5, bidirectional = true, layers = 2, dropout = 0.2)\n");
  train_text("tokens.mlp", text, "tokens");
  snprintf(text, sizeof text, tokens_spec, tmp,
           "    embedding(8, 4, mask_zero = true)\n"
           "    transformer_encoder(heads = 2, dim = 4, ff = 8, pool = none)\n"
           "    lstm(5, bidirectional = true)\n");
  train_text("masked_tokens.mlp", text, "masked_tokens");
  snprintf(text, sizeof text, tokens_spec, tmp,
           "    embedding(8, 4, mask_zero = true)\n"
           "    pool_steps(max)\n"
           "    dense(6)\n");
  train_text("bag_tokens.mlp", text, "bag_tokens");
  free(chars);
  char *late = test_path(tmp, "late.csv");
  write_late(late);
  snprintf(text, sizeof text, late_spec, tmp);
  train_text("late.mlp", text, "late");
  char *dated = test_path(tmp, "dated.csv");
  write_dated(dated);
  for (int lagged = 0; lagged < 2; lagged++) {
    snprintf(text, sizeof text, dated_spec, tmp,
             lagged ? "lag([amount], steps = [1], by = store, history = null)\n" : "");
    train_text(lagged ? "lagged.mlp" : "dated.mlp", text, lagged ? "lagged" : "dated");
  }
  char *shop = test_path(tmp, "shop.csv"), *shop_num = test_path(tmp, "shop_num.csv");
  write_shop(shop, false);
  write_shop(shop_num, true);
  free(shop);
  free(shop_num);
  snprintf(text, sizeof text, shop_spec, tmp, "shop", "mean", "ffill");
  train_text("shop.mlp", text, "shop");
  snprintf(text, sizeof text, shop_spec, tmp, "shop", "last", "zero");
  train_text("shop_zero.mlp", text, "shop_zero");
  snprintf(text, sizeof text, shop_spec, tmp, "shop_num", "mean", "ffill");
  train_text("shop_num.mlp", text, "shop_num");
  snprintf(text, sizeof text, undated_spec, tmp);
  train_text("undated.mlp", text, "undated");
  free(dated);
  free(late);
  char *db = test_path(tmp, "flowers.db");
  write_flowers(db);
  snprintf(text, sizeof text, sqlite_spec, tmp, tmp);
  train_text("sqlite_iris.mlp", text, "sqlite_iris");
  free(db);
  free(img);
  free(lab);
}

static void teardown(void) {
  free(tmp);
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(export_examples_answer_as_training) {
  check_equal(examples[_i].name, examples[_i].target);
}
END_TEST

/* Parsed dates, their parts and leniently read numbers and booleans: the
 * predictor answers the raw test rows as training did. */
START_TEST(export_dates_and_coercion_answer_as_training) {
  check_equal("dated", "sales");
}
END_TEST

/* The predictor of a run whose chain has lag, rolling or diff steps,
 * given the whole source as a stream in time order (each series' rows in
 * order, the target's values with them), answers the run's test rows as
 * training did: it kept each series' last rows. Rows training dropped for
 * want of history are rejected; a row whose input the failsafe clipped
 * need only be answered. */
static void check_stream(const char *name, const char *data) {
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *pred = export_run(name, plain), file[256];
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(tmp, file), *pred_path = test_path(run, "predictions.csv");
  const char *argv[] = {pred, data, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0 || r.status == 1, "%s: status %d: %s", pred, r.status, r.err);
  char *want = test_read_file(pred_path, NULL), **al, **wl;
  int na = test_split_lines(r.out, &al), nw = test_split_lines(want, &wl), compared = 0;
  char *ah[TEST_MAXF], *wh[TEST_MAXF];
  int nah = test_csv_fields(al[0], ah, TEST_MAXF), nwh = test_csv_fields(wl[0], wh, TEST_MAXF);
  int value = test_field_index(ah, nah, "value"), error = test_field_index(ah, nah, "error");
  int failsafe = test_field_index(ah, nah, "failsafe"), wrow = test_field_index(wh, nwh, "row");
  int wvalue = test_field_index(wh, nwh, "value");
  ck_assert(value >= 0 && error >= 0 && failsafe >= 0 && wrow >= 0 && wvalue >= 0);
  for (int i = 1; i < nw && wl[i][0]; i++) {
    char *w[TEST_MAXF], *a[TEST_MAXF];
    int nwr = test_csv_fields(wl[i], w, TEST_MAXF), row = atoi(w[wrow]);
    ck_assert_msg(row >= 1 && row < na, "%s: test row %d beyond the %d answers", name, row, na - 1);
    int nar = test_csv_fields(al[row], a, TEST_MAXF);
    ck_assert_msg(nar == nah && !a[error][0], "%s: test row %d not answered: %s", name, row, al[row]);
    double x = strtod(a[value], NULL), y = strtod(w[wvalue], NULL);
    if (!a[failsafe][0]) {
      ck_assert_msg(fabs(x - y) <= 1e-5 * fmax(1, fabs(y)), "%s row %d: %.9g, training said %.9g", name, row,
                    x, y);
      compared++;
    }
    test_fields_free(a, nar);
    test_fields_free(w, nwr);
  }
  ck_assert_msg(2 * compared >= nw - 1, "%s: only %d of %d test rows compared", name, compared, nw - 1);
  test_fields_free(ah, nah);
  test_fields_free(wh, nwh);
  free(al);
  free(wl);
  free(want);
  test_run_free(&r);
  free(pred_path);
  free(run);
  free(pred);
}

/* Grunfeld's firms: lags of the target and of two inputs, a rolling mean
 * and standard deviation of the target whose short rows training dropped,
 * by firm. And a per-store lag of a coerced column (history = null). */
START_TEST(export_series_stream_answers_as_training) {
  check_stream("grunfeld", "examples/data/grunfeld.csv");
  /* a window of 14 days of four values, read by an LSTM */
  check_stream("seattle_window", "/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv");
  char *dated = test_path(tmp, "dated.csv");
  check_stream("lagged", dated);
  free(dated);
  /* the quarters joined to the sunspots of their year (held by the predictor), lagged a year */
  check_stream("macro_sunspots",
               "/usr/lib/python3/dist-packages/statsmodels/datasets/macrodata/macrodata.csv");
}
END_TEST

/* The predictor of a resampling run, given the raw readings as a stream,
 * puts them on the grid as training did and answers the grid rows, each
 * led by its time and shop: the run's test rows (found by shop and time)
 * answer as training answered them. */
static void check_grid(const char *name) {
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *pred = export_run(name, plain), file[256], *data = test_path(tmp, "shop.csv");
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(tmp, file), *rows_path = test_path(run, "test_rows.csv");
  char *pred_path = test_path(run, "predictions.csv");
  const char *argv[] = {pred, data, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s: status %d: %s", pred, r.status, r.err);
  char *want = test_read_file(pred_path, NULL), *rows = test_read_file(rows_path, NULL), **al, **wl, **rl;
  int na = test_split_lines(r.out, &al), nw = test_split_lines(want, &wl), nr = test_split_lines(rows, &rl);
  ck_assert_str_eq(al[0], "when,store,value,error,failsafe");
  ck_assert_int_eq(nw, nr);
  char *rh[TEST_MAXF];
  int nrh = test_csv_fields(rl[0], rh, TEST_MAXF), compared = 0;
  int store = test_field_index(rh, nrh, "store"), when = test_field_index(rh, nrh, "when");
  for (int i = 1; i < nw && wl[i][0]; i++) {
    char *w[TEST_MAXF], *t[TEST_MAXF];
    int nwf = test_csv_fields(wl[i], w, TEST_MAXF), ntf = test_csv_fields(rl[i], t, TEST_MAXF);
    bool found = false;
    for (int j = 1; j < na && al[j][0] && !found; j++) {
      char *a[TEST_MAXF];
      int naf = test_csv_fields(al[j], a, TEST_MAXF);
      if (strcmp(a[0], t[when]) == 0 && strcmp(a[1], t[store]) == 0) {
        found = true;
        ck_assert_msg(!a[3][0], "%s: %s %s not answered: %s", name, t[store], t[when], a[3]);
        double x = strtod(a[2], NULL), y = strtod(w[1], NULL);
        if (!a[4][0]) {
          ck_assert_msg(fabs(x - y) <= 1e-5 * fmax(1, fabs(y)), "%s %s %s: %.9g, training said %.9g", name,
                        t[store], t[when], x, y);
          compared++;
        }
      }
      test_fields_free(a, naf);
    }
    ck_assert_msg(found, "%s: no answer for the grid row %s %s", name, t[store], t[when]);
    test_fields_free(w, nwf);
    test_fields_free(t, ntf);
  }
  ck_assert_msg(2 * compared >= nw - 1, "%s: only %d of %d test rows compared", name, compared, nw - 1);
  cJSON *rec = test_read_json(run, "cleaning.json");
  const cJSON *steps = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "cleaning"), "steps");
  const cJSON *step = cJSON_GetArrayItem(steps, 1);
  ck_assert_int_eq(na - 1, (int)cJSON_GetObjectItem(step, "rows_after")->valuedouble); /* every grid row */
  cJSON_Delete(rec);
  test_fields_free(rh, nrh);
  free(al), free(wl), free(rl);
  free(want), free(rows);
  test_run_free(&r);
  free(pred_path), free(rows_path), free(run), free(data), free(pred);
}

/* A numeric shop number is one series however it is spelled: the stream
 * with every other "1" written "1.0" gets the same answers. */
static void check_numeric_keys(void) {
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *pred = export_run("shop_num", plain), *data = test_path(tmp, "shop_num.csv");
  char *mixed = test_path(tmp, "shop_mixed.csv"), *text = test_read_file(data, NULL);
  ck_assert_ptr_nonnull(text);
  FILE *f = fopen(mixed, "w");
  ck_assert_ptr_nonnull(f);
  int ones = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    bool respell = strncmp(line, "1,", 2) == 0 && ones++ % 2 == 1;
    fprintf(f, "%s%s\n", respell ? "1.0" : "", respell ? line + 1 : line);
  }
  fclose(f);
  free(text);
  ck_assert_int_gt(ones, 10);
  const char *argv[] = {pred, data, NULL}, *argv2[] = {pred, mixed, NULL};
  TestRun a = test_run(argv, NULL), b = test_run(argv2, NULL);
  ck_assert_msg(a.status == 0 && b.status == 0, "status %d, %d: %s%s", a.status, b.status, a.err, b.err);
  char **al, **bl;
  int na = test_split_lines(a.out, &al), nb = test_split_lines(b.out, &bl);
  ck_assert_int_eq(na, nb);
  for (int i = 0; i < na; i++) { /* when,store,value,...: all but the key's spelling */
    const char *x = strchr(al[i], ','), *y = strchr(bl[i], ',');
    ck_assert(x && y);
    ck_assert_msg(strcmp(strchr(x + 1, ','), strchr(y + 1, ',')) == 0, "line %d: %s against %s", i, al[i],
                  bl[i]);
  }
  free(al);
  free(bl);
  test_run_free(&a);
  test_run_free(&b);
  free(mixed);
  free(data);
  free(pred);
}

/* An ONNX export of NAME.run is refused (exit 2), saying message. */
static void expect_onnx_refused(const char *name, const char *message) {
  char file[64];
  snprintf(file, sizeof file, "%s.run", name);
  char *run = test_path(tmp, file);
  snprintf(file, sizeof file, "%s.onnx", name);
  char *onnx = test_path(tmp, file);
  const char *argv[] = {test_mlpc(), "export", run, "--onnx", onnx, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 2, "%s: status %d: %s", name, r.status, r.err);
  ck_assert_msg(strstr(r.err, message), "%s: %s", name, r.err);
  test_run_free(&r);
  free(run);
  free(onnx);
}

START_TEST(export_resample_stream_answers_as_training) {
  check_grid("shop");
  check_grid("shop_zero");
  check_numeric_keys();
  /* ONNX answers rows one by one: it refuses the grid */
  expect_onnx_refused("shop", "cannot express the cleaning step resample");
}
END_TEST

/* An ONNX export refuses the date, series and align steps the model reads. */
START_TEST(export_refuses_lags_and_onnx_dates) {
  expect_onnx_refused("grunfeld", "cannot express the cleaning step lag, which reads earlier rows");
  expect_onnx_refused("dated", "cleaning step parse_dates of column 'day', which the model reads");
  /* a column align joined, which the model reads (lagged): refused, naming the step and the column */
  expect_onnx_refused("macro_sunspots",
                      "cleaning step 1 (align), which joins column 'SUNACTIVITY' from another");
  /* dates and conversions no feature reads do not stop an ONNX export */
  char *run2 = test_path(tmp, "undated.run"), *onnx2 = test_path(tmp, "undated.onnx");
  const char *argv3[] = {test_mlpc(), "export", run2, "--onnx", onnx2, NULL};
  test_run_ok(argv3);
  char *graph = test_read_file(onnx2, NULL);
  ck_assert_ptr_nonnull(graph);
  free(graph);
  free(run2);
  free(onnx2);
}
END_TEST

/* The level only test rows hold is in the compiled plan: training gives
 * exactly the compiled width (x and a column per colour, violet's all
 * zero in training), and the predictor answers the violet rows as
 * training did. */
START_TEST(export_level_only_in_test_rows) {
  char *rec = test_path(tmp, "late.run/cleaning.json");
  char *text = test_read_file(rec, NULL);
  ck_assert_msg(text != NULL, "no %s", rec);
  cJSON *j = cJSON_Parse(text);
  ck_assert_int_eq(cJSON_GetObjectItem(j, "features")->valueint, 4);
  ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "splits"), "test")->valueint, 12);
  cJSON_Delete(j);
  free(text);
  free(rec);
  check_equal("late", "y");
}
END_TEST

/* A run trained from SQL queries exports as any other: the predictor takes
 * rows, and answers the given test set's rows as training did. */
START_TEST(export_run_trained_from_sqlite) {
  char *man = test_path(tmp, "sqlite_iris.run/manifest.json");
  char *text = test_read_file(man, NULL);
  ck_assert_msg(text != NULL, "no %s", man);
  cJSON *j = cJSON_Parse(text), *data = cJSON_GetObjectItem(j, "data");
  ck_assert_str_eq(cJSON_GetObjectItem(data, "format")->valuestring, "sqlite");
  ck_assert_int_eq(cJSON_GetObjectItem(data, "test")->valueint, 30);
  const cJSON *ts = cJSON_GetObjectItem(data, "test_source");
  ck_assert_int_eq((int)strlen(cJSON_GetObjectItem(ts, "sha256")->valuestring), 64);
  ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metrics"), "test"));
  cJSON_Delete(j);
  free(text);
  free(man);
  check_equal("sqlite_iris", "species");

}
END_TEST

START_TEST(export_text_characters_and_hashing) {
  check_equal("chars", "label");
}
END_TEST

START_TEST(export_tokens_embedding_bidirectional) {
  check_equal("tokens", "label");
}
END_TEST

START_TEST(export_tokens_masked) {
  check_equal("masked_tokens", "label");
  check_equal("bag_tokens", "label");
}
END_TEST

START_TEST(export_cnn_on_idx_images) {
  check_equal("cnn", "label");
}
END_TEST

START_TEST(export_recurrent_on_idx_rows) {
  check_equal("rnn", "label");
}
END_TEST

START_TEST(export_transformer_on_idx_rows) {
  check_equal("tf", "label");
}
END_TEST

/* Bad rows among good ones: each rejected with its reason, in place; the
 * good ones answered as they are alone; exit status 1. */
START_TEST(export_rejects_bad_rows_in_order) {
  char *pred = export_run("strict", NULL);
  char *in = test_path(tmp, "strict.bad.csv");
  test_write_text(in,
             "sepal_length,sepal_width,petal_length,petal_width\n"
             "5.1,3.5,1.4,0.2\n"
             "5.9,abc,4.2,1.5\n"
             "6.3,2.9,,1.8\n"
             "6.7,3.1,5.6,2.4\n"
             "5.0,3.4,1500,0.2\n"
             "6.0,2.2,5.0,1.5\n");
  const char *argv[] = {pred, in, "--verbose", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);
  char **lines;
  int n = test_split_lines(r.out, &lines);
  while (n > 0 && !lines[n - 1][0]) n--;
  ck_assert_msg(n == 7, "%d lines:\n%s", n, r.out);
  char *h[TEST_MAXF];
  int nh = test_csv_fields(lines[0], h, TEST_MAXF);
  int label = test_field_index(h, nh, "label"), error = test_field_index(h, nh, "error");
  ck_assert_msg(label >= 0 && error >= 0, "header '%s'", lines[0]);
  static const char *const bad[] = {NULL, "sepal_width", "petal_length", NULL, "petal_length", NULL};
  for (int i = 0; i < 6; i++) {
    char *f[TEST_MAXF];
    int nf = test_csv_fields(lines[i + 1], f, TEST_MAXF);
    ck_assert_int_eq(nf, nh);
    if (bad[i]) {
      ck_assert_msg(f[label][0] == 0 && strstr(f[error], bad[i]), "row %d should be rejected for %s: '%s'",
                    i + 1, bad[i], lines[i + 1]);
    } else {
      ck_assert_msg(f[label][0] != 0 && f[error][0] == 0, "row %d should be answered: '%s'", i + 1,
                    lines[i + 1]);
    }
    test_fields_free(f, nf);
  }
  /* --verbose repeats the reasons on stderr. */
  ck_assert_msg(strstr(r.err, "sepal_width") && strstr(r.err, "petal_length"), "stderr: %s", r.err);
  /* Good rows answer the same alone as among bad ones. */
  char *alone = test_path(tmp, "strict.good.csv");
  test_write_text(alone,
                  "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.1,5.6,2.4\n");
  const char *argv2[] = {pred, alone, NULL};
  TestRun g = test_run(argv2, NULL);
  ck_assert_int_eq(g.status, 0);
  char **gl;
  int gn = test_split_lines(g.out, &gl);
  ck_assert_int_ge(gn, 3);
  ck_assert_str_eq(gl[1], lines[1]);
  ck_assert_str_eq(gl[2], lines[4]);
  free(gl);
  test_run_free(&g);
  test_fields_free(h, nh);
  free(lines);
  test_run_free(&r);
  free(alone);
  free(in);
  free(pred);
}
END_TEST

/* The drift reference is compiled in when the spec declares monitor():
 * then --drift reports the population stability index of every feature;
 * without it --drift is refused with the remedy. */
START_TEST(export_drift_needs_monitor) {
  char *pred = export_run("strict", NULL), *report = test_path(tmp, "strict.drift.json");
  char *rows = test_path(tmp, "strict.drift.csv");
  test_write_text(rows, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n"
                        "6.7,3.1,5.6,2.4\n5.9,3.0,4.2,1.5\n6.3,2.9,5.6,1.8\n");
  char drift[600];
  snprintf(drift, sizeof drift, "--drift=%s", report);
  const char *argv[] = {pred, rows, drift, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
  char *text = test_read_file(report, NULL);
  ck_assert_msg(text && strstr(text, "petal_width") && strstr(text, "psi"), "report: %s", text);
  test_run_free(&r);
  free(text);
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *wine = export_run("wine", plain);
  const char *argv2[] = {wine, rows, "--drift", NULL};
  r = test_run(argv2, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "without a training reference") && strstr(r.err, "monitor()"), "%s", r.err);
  test_run_free(&r);
  free(wine);
  free(rows);
  free(report);
  free(pred);
}
END_TEST

/* One answer line from fd within 10 s (malloc'd, newline kept), or NULL. */
static char *answer_within(int fd) {
  char *line = calloc(1, 4096);
  size_t n = 0;
  while (n < 4095 && !strchr(line, '\n')) {
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, 10000) <= 0 || read(fd, line + n, 1) != 1) {
      free(line);
      return NULL;
    }
    n++;
  }
  return line;
}

/* Rows sent down a pipe are answered as they come, each before the next
 * is written, while the input stays open. */
START_TEST(export_predictor_answers_a_stream_row_by_row) {
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *pred = export_run("iris", plain), *fifo = test_path(tmp, "rows.fifo");
  unlink(fifo);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  int out[2];
  ck_assert_int_eq(pipe(out), 0);
  const char *argv[] = {pred, NULL};
  pid_t pid = test_spawn(argv, fifo, out[1], 2);
  close(out[1]);
  FILE *in = fopen(fifo, "w");
  ck_assert_ptr_nonnull(in);
  fputs("sepal_length,sepal_width,petal_length,petal_width\n", in);
  static const char *const rows[] = {"5.1,3.5,1.4,0.2\n", "6.7,3.0,5.2,2.3\n", "5.9,3.0,4.2,1.5\n"};
  char *header = NULL;
  for (int i = 0; i < 3; i++) {
    fputs(rows[i], in);
    fflush(in);
    if (i == 0) {
      header = answer_within(out[0]);
      ck_assert_msg(header != NULL, "no header line while the input stays open");
    }
    char *answer = answer_within(out[0]);
    ck_assert_msg(answer != NULL, "row %d: no answer while the input stays open", i + 1);
    ck_assert_ptr_nonnull(strchr(answer, ','));
    free(answer);
  }
  fclose(in);
  int st;
  waitpid(pid, &st, 0);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char rest[16];
  ck_assert_int_eq(read(out[0], rest, sizeof rest), 0); /* nothing after the three answers */
  close(out[0]);
  free(header);
  free(fifo);
  free(pred);
}
END_TEST

/* Export says what it wrote; a file at the default name is not replaced
 * unless --force says so (-o naming it always replaces it). */
START_TEST(export_announces_and_keeps_unnamed_files) {
  char *dir = test_path(tmp, "default_name"), *run = test_path(tmp, "iris.run"), line[8192];
  char *mlpc = realpath(test_mlpc(), NULL);
  ck_assert_ptr_nonnull(mlpc);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  snprintf(line, sizeof line, "cd '%s' && '%s' export '%s' --quantize none --prune 0", dir, mlpc, run);
  free(mlpc);
  const char *argv[] = {"/bin/sh", "-c", line, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "wrote iris_predict (") && strstr(r.out, " bytes)"), "%s", r.out);
  test_run_free(&r);
  char *pred = test_path(dir, "iris_predict");
  test_write_text(pred, "the user's file\n");
  r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "exists; name it with -o to replace it, or pass --force"));
  test_run_free(&r);
  char *kept = test_read_file(pred, NULL);
  ck_assert_str_eq(kept, "the user's file\n");
  free(kept);
  strncat(line, " --force", sizeof line - strlen(line) - 1);
  r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  test_run_free(&r);
  ck_assert_int_eq(access(pred, X_OK), 0);
  free(pred);
  free(run);
  free(dir);
}
END_TEST

START_TEST(export_version_names_hashes) {
  char *pred = export_run("strict", NULL);
  const char *argv[] = {pred, "--version", NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  char *run = test_path(tmp, "strict.run");
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  ck_assert_msg(mlp_rundir_load(&a, run, &rd, err, sizeof err) == 0, "%s", err);
  ck_assert_msg(strstr(r.out, "2.3.4") != NULL, "no version in: %s", r.out);
  ck_assert_msg(strstr(r.out, rd.spec_sha256) != NULL, "no spec hash in: %s", r.out);
  ck_assert_msg(strstr(r.out, rd.data_sha256) != NULL, "no data hash in: %s", r.out);
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
  test_run_free(&r);
  free(run);
  free(pred);
}
END_TEST

/* One flipped byte of weights.bin, or a missing artifact: export refuses,
 * naming the file. */
START_TEST(export_refuses_tampered_run) {
  char *run = test_path(tmp, "iris.run"), *bad = test_path(tmp, "tampered.run");
  const char *cp[] = {"cp", "-r", run, bad, NULL};
  test_run_ok(cp);
  char *w = test_path(bad, "weights.bin");
  FILE *f = fopen(w, "r+b");
  ck_assert_ptr_nonnull(f);
  fseek(f, 100, SEEK_SET);
  int c = fgetc(f);
  fseek(f, 100, SEEK_SET);
  fputc(c ^ 0x10, f);
  fclose(f);
  char *out = test_path(tmp, "tampered.pred");
  const char *argv[] = {test_mlpc(), "export", bad, "-o", out, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "weights.bin") != NULL, "%s", r.err);
  struct stat st;
  ck_assert_int_ne(stat(out, &st), 0);
  test_run_free(&r);
  /* The API says the same, and a missing artifact is named too. */
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  ck_assert_int_eq(mlp_rundir_load(&a, bad, &rd, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "weights.bin") != NULL, "%s", err);
  f = fopen(w, "r+b");
  fseek(f, 100, SEEK_SET);
  fputc(c, f);
  fclose(f);
  ck_assert_msg(mlp_rundir_load(&a, bad, &rd, err, sizeof err) == 0, "restored: %s", err);
  mlp_rundir_free(&rd);
  char *ref = test_path(bad, "reference.json");
  ck_assert_int_eq(remove(ref), 0);
  ck_assert_int_eq(mlp_rundir_load(&a, bad, &rd, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "reference.json") != NULL, "%s", err);
  /* A file the manifest does not list is not read unchecked. */
  char *unlisted = test_path(tmp, "unlisted.run");
  const char *cp2[] = {"cp", "-r", run, unlisted, NULL};
  test_run_ok(cp2);
  char *man_path = test_path(unlisted, "manifest.json");
  char *text = test_read_file(man_path, NULL);
  cJSON *man = cJSON_Parse(text);
  ck_assert_ptr_nonnull(man);
  cJSON_DeleteItemFromObject(cJSON_GetObjectItem(man, "artifacts"), "MODEL_CARD.md");
  char *edited = cJSON_Print(man);
  test_write_text(man_path, edited);
  /* The edit breaks the manifest's seal; sealed again, the listing is
   * what refuses. */
  ck_assert_int_eq(mlp_rundir_load(&a, unlisted, &rd, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "manifest.sha256") != NULL, "%s", err);
  ck_assert_int_eq(mlprt_manifest_seal(unlisted), 0);
  ck_assert_int_eq(mlp_rundir_load(&a, unlisted, &rd, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "MODEL_CARD.md") != NULL, "%s", err);
  free(edited);
  cJSON_Delete(man);
  free(text);
  free(man_path);
  free(unlisted);
  mlp_arena_free(&a);
  free(ref);
  free(out);
  free(w);
  free(bad);
  free(run);
}
END_TEST

/* The weights are compiled in byte for byte: change one in the binary and
 * the predictor refuses to answer. */
START_TEST(export_predictor_checks_its_weights) {
  static const char *const plain[] = {"--quantize", "none", "--prune", "0", NULL};
  char *pred = export_run("iris", plain);
  char *run = test_path(tmp, "iris.run"), *wpath = test_path(run, "weights.bin");
  size_t wlen, blen;
  char *w = test_read_file(wpath, &wlen), *bin = test_read_file(pred, &blen);
  ck_assert(w && bin && wlen >= 64);
  size_t at = 0;
  while (at + wlen <= blen && memcmp(bin + at, w, wlen) != 0) at++;
  ck_assert_msg(at + wlen <= blen, "weights.bin is not in the predictor byte for byte");
  bin[at + wlen / 2] ^= 0x01;
  char *bad = test_path(tmp, "iris.tampered.pred");
  FILE *f = fopen(bad, "wb");
  ck_assert_ptr_nonnull(f);
  fwrite(bin, 1, blen, f);
  fclose(f);
  ck_assert_int_eq(chmod(bad, 0755), 0);
  char *in = test_path(tmp, "iris.one.csv");
  test_write_text(in, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n");
  const char *argv[] = {bad, in, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "weights") != NULL && r.out[0] == 0, "out: %s\nerr: %s", r.out, r.err);
  test_run_free(&r);
  free(in);
  free(bad);
  free(bin);
  free(w);
  free(wpath);
  free(run);
  free(pred);
}
END_TEST

/* The loaded run: shapes from the run, not the data. */
START_TEST(export_rundir_loads_without_data) {
  char *run = test_path(tmp, "cnn.run");
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  ck_assert_msg(mlp_rundir_load(&a, run, &rd, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(rd.model->in_size, 64);
  ck_assert_int_eq(rd.ir->data.img_h, 8);
  ck_assert_int_eq(rd.nclasses, 3);
  ck_assert_int_eq(rd.n_state, 8); /* batch norm over 4 channels: mean and variance */
  ck_assert_ptr_nonnull(rd.card);
  ck_assert_int_eq(rd.drift_bins, 10);
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
  free(run);
}
END_TEST

/* --emit-obj: PRED.o and PRED.h linked into a C program answer like the
 * executable. */
START_TEST(export_object_links_and_agrees) {
  char *base = test_path(tmp, "strict_lib");
  const char *argv[] = {test_mlpc(), "export", NULL, "--emit-obj", "-o", base, NULL};
  char *run = test_path(tmp, "strict.run");
  argv[2] = run;
  test_run_ok(argv);
  char *prog = test_path(tmp, "embed.c"), *exe = test_path(tmp, "embed");
  test_write_text(prog,
             "#include <stdio.h>\n"
             "#include \"strict_lib.h\"\n"
             "int main(void) {\n"
             "  const char *rows[2][4] = {{\"5.1\", \"3.5\", \"1.4\", \"0.2\"}, {\"6.7\", \"3.1\", \"5.6\", "
             "\"2.4\"}};\n"
             "  float out[8];\n"
             "  char reason[256];\n"
             "  if (iris_strict_n_inputs != 4 || iris_strict_n_classes != 3) return 3;\n"
             "  for (int r = 0; r < 2; r++) {\n"
             "    int k = iris_strict_predict(rows[r], out, reason, sizeof reason);\n"
             "    if (k < 0) return 4;\n"
             "    printf(\"%s\", iris_strict_classes[k]);\n"
             "    for (int j = 0; j < iris_strict_n_outputs; j++) printf(\",%.9g\", out[j]);\n"
             "    printf(\"\\n\");\n"
             "  }\n"
             "  const char *bad[4] = {\"5.1\", \"oops\", \"1.4\", \"0.2\"};\n"
             "  return iris_strict_predict(bad, out, reason, sizeof reason) == -1 && reason[0] ? 0 : 5;\n"
             "}\n");
  char *obj = test_path(tmp, "strict_lib.o"), *inc = malloc(strlen(tmp) + 3);
  sprintf(inc, "-I%s", tmp);
  const char *build_dir = getenv("MLP_BUILD");
  char lib[512];
  snprintf(lib, sizeof lib, "%s/libmlprt.a", build_dir ? build_dir : "build");
  /* as the header says: the runtime and libm, nothing else */
  const char *cc[] = {"cc", "-o", exe, prog, obj, inc, lib, "-lm", "-Wl,--gc-sections", SANITIZE, NULL};
  test_run_ok(cc);
  const char *go[] = {exe, NULL};
  TestRun r = test_run(go, NULL);
  ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
  /* The executable on the same rows. */
  char *pred = export_run("strict", NULL), *in = test_path(tmp, "strict.two.csv");
  test_write_text(in,
                  "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.1,5.6,2.4\n");
  const char *p[] = {pred, in, NULL};
  TestRun e = test_run(p, NULL);
  ck_assert_int_eq(e.status, 0);
  char **el, **ol;
  int ne = test_split_lines(e.out, &el), no = test_split_lines(r.out, &ol);
  ck_assert_int_ge(ne, 3);
  ck_assert_int_ge(no, 2);
  for (int i = 0; i < 2; i++) {
    char *a[TEST_MAXF], *b[TEST_MAXF];
    int na = test_csv_fields(el[i + 1], a, TEST_MAXF), nb = test_csv_fields(ol[i], b, TEST_MAXF);
    ck_assert_str_eq(a[0], b[0]);
    for (int j = 1; j < nb; j++) ck_assert_double_eq_tol(strtod(a[j], NULL), strtod(b[j], NULL), 1e-6);
    test_fields_free(a, na);
    test_fields_free(b, nb);
  }
  free(el);
  free(ol);
  test_run_free(&e);
  test_run_free(&r);
  free(in);
  free(pred);
  free(inc);
  free(obj);
  free(exe);
  free(prog);
  free(run);
  free(base);
}
END_TEST

/* The row cleaning compiled into the predictor (the plan's clean
 * function) gives the interpreted steps' answers bit for bit: each run's
 * object answers random raw rows (in and out of the training ranges, a
 * quarter of them with one field missing) once through its descriptor and
 * once through a copy whose plan has no compiled steps. iris: impute,
 * clip, standardize; wine: impute, log1p, standardize; the image model:
 * pixels / 255. */
START_TEST(export_compiled_cleaning_matches_interpreter) {
  static const char *const runs[] = {"iris", "wine", "cnn"};
  const char *build_dir = getenv("MLP_BUILD");
  char lib[512], name[128], hdr_arg[600], pre_arg[200];
  snprintf(lib, sizeof lib, "%s/libmlprt.a", build_dir ? build_dir : "build");
  char *prog = test_path(tmp, "clean_twice.c");
  test_write_text(prog,
                  "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                  "#include \"mlp/predict.h\"\n#include PRED_HEADER\n"
                  "#define CAT2(a, b) a##b\n#define CAT(a, b) CAT2(a, b)\n#define SYM(s) CAT(PRED, s)\n"
                  "extern const MlprtPredictor SYM(_predictor);\n"
                  "int main(void) {\n"
                  "  const MlprtPredictor *p = &SYM(_predictor);\n"
                  "  if (!p->plan->clean) return 3;\n"
                  "  MlprtPredPlan pl = *p->plan;\n"
                  "  pl.clean = NULL;\n"
                  "  MlprtPredictor q = *p;\n"
                  "  q.plan = &pl;\n"
                  "  size_t nb = (mlprt_predict_scratch_bytes(p) + 63) / 64 * 64;\n"
                  "  void *s1 = aligned_alloc(64, nb), *s2 = aligned_alloc(64, nb);\n"
                  "  int64_t k = pl.ninputs, answered = 0;\n"
                  "  char (*text)[32] = malloc((size_t)k * 32);\n"
                  "  const char **f = malloc((size_t)k * sizeof *f);\n"
                  "  srand(7);\n"
                  "  for (int r = 0; r < 3000; r++) {\n"
                  "    for (int64_t i = 0; i < k; i++) {\n"
                  "      const MlprtPredInput *in = &pl.inputs[i];\n"
                  "      double lo = isfinite(in->lo) ? in->lo : 0, hi = isfinite(in->hi) ? in->hi : 1;\n"
                  "      double u = rand() / (double)RAND_MAX;\n"
                  "      snprintf(text[i], 32, \"%.7g\", lo + (hi - lo) * (1.2 * u - 0.1));\n"
                  "      f[i] = text[i];\n"
                  "    }\n"
                  "    if (rand() % 4 == 0) f[rand() % k] = \"\";\n"
                  "    float o1[64], o2[64];\n"
                  "    char r1[256], r2[256];\n"
                  "    int a = mlprt_predict_fields(p, f, o1, s1, r1, sizeof r1);\n"
                  "    int b = mlprt_predict_fields(&q, f, o2, s2, r2, sizeof r2);\n"
                  "    if (a != b || strcmp(r1, r2) != 0 ||\n"
                  "        (a >= 0 && memcmp(o1, o2, (size_t)p->n_out * sizeof *o1) != 0)) {\n"
                  "      printf(\"row %d: %d '%s' / %d '%s'\\n\", r, a, r1, b, r2);\n"
                  "      answered = -1;\n"
                  "      break;\n"
                  "    }\n"
                  "    answered += a >= 0;\n"
                  "  }\n"
                  "  free(f), free(text), free(s2), free(s1);\n"
                  "  if (answered < 0) return 4;\n"
                  "  printf(\"%lld\\n\", (long long)answered);\n"
                  "  return 0;\n"
                  "}\n");
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
    snprintf(name, sizeof name, "%s.run", runs[i]);
    char *run = test_path(tmp, name);
    snprintf(name, sizeof name, "%s_twice", runs[i]);
    char *base = test_path(tmp, name), *exe = test_path(tmp, "clean_twice");
    const char *argv[] = {test_mlpc(), "export", run, "--emit-obj", "-o", base, NULL};
    test_run_ok(argv);
    snprintf(name, sizeof name, "%s_twice.h", runs[i]);
    char *h = test_path(tmp, name), *text = test_read_file(h, NULL);
    char *sym = strstr(text, "_predict(const char");
    ck_assert_ptr_nonnull(sym);
    char *start = sym;
    while (start > text && start[-1] != ' ') start--;
    snprintf(pre_arg, sizeof pre_arg, "-DPRED=%.*s", (int)(sym - start), start);
    snprintf(hdr_arg, sizeof hdr_arg, "-DPRED_HEADER=\"%s\"", h);
    snprintf(name, sizeof name, "%s_twice.o", runs[i]);
    char *obj = test_path(tmp, name);
    const char *cc[] = {"cc",   "-std=c11", "-Iinclude", pre_arg, hdr_arg, "-o", exe, prog, obj, lib, "-lm",
                        "-Wl,--gc-sections", SANITIZE, NULL};
    test_run_ok(cc);
    const char *go[] = {exe, NULL};
    TestRun r = test_run(go, NULL);
    ck_assert_msg(r.status == 0, "%s: status %d: %s%s", runs[i], r.status, r.out, r.err);
    ck_assert_msg(atol(r.out) > 1000, "%s: only %s rows answered", runs[i], r.out);
    test_run_free(&r);
    free(obj);
    free(text);
    free(h);
    free(exe);
    free(base);
    free(run);
  }
  free(prog);
}
END_TEST

/* --emit-llvm writes the module: the forward pass and the descriptor. */
START_TEST(export_emit_llvm_and_size) {
  char *run = test_path(tmp, "digits.run"), *ll = test_path(tmp, "digits.ll");
  const char *argv[] = {test_mlpc(), "export", run, "--emit-llvm", "-o", ll, NULL};
  test_run_ok(argv);
  char *text = test_read_file(ll, NULL);
  ck_assert_ptr_nonnull(text);
  ck_assert(strstr(text, "mlp_predict_forward") && strstr(text, "mlp_predictor") && strstr(text, "@main"));
  ck_assert_msg(strstr(text, "mlprt_dense_forward") != NULL, "the 64x64 layer should call the GEMM kernel");
  free(text);
  /* Stripped, with only what it reaches: small beside its weights. */
  char *pred = export_run("digits", NULL);
  struct stat st, w;
  char *weights = test_path(run, "weights.bin");
  ck_assert_int_eq(stat(pred, &st), 0);
  ck_assert_int_eq(stat(weights, &w), 0);
#ifndef __SANITIZE_ADDRESS__ /* instrumented code says nothing about size */
  ck_assert_msg(st.st_size <= 200 * 1024 + w.st_size, "%lld bytes", (long long)st.st_size);
#endif
  free(weights);
  free(pred);
  free(ll);
  free(run);
}
END_TEST

/* A predictor needs nothing but libc and libm where it runs: ldd lists
 * those and the loader (and the kernel's vDSO), whatever its layers (the
 * digits model's dense layers take the GEMM kernel). */
START_TEST(export_needs_only_libc_and_libm) {
#ifdef __SANITIZE_ADDRESS__
  test_skip("ldd of a predictor", "a build without sanitizers", "sanitized predictors link their runtime");
#else
  char *pred = export_run("digits", NULL);
  const char *argv[] = {"ldd", pred, NULL};
  TestRun r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "ldd: %s%s", r.out, r.err);
  char **lines;
  int n = test_split_lines(r.out, &lines), libc = 0, libm = 0;
  for (int i = 0; i < n; i++) {
    char name[256] = "";
    if (sscanf(lines[i], " %255s", name) != 1) continue;
    libc += strcmp(name, "libc.so.6") == 0;
    libm += strcmp(name, "libm.so.6") == 0;
    ck_assert_msg(strcmp(name, "libc.so.6") == 0 || strcmp(name, "libm.so.6") == 0 ||
                      strncmp(name, "linux-vdso.so", 13) == 0 || strstr(name, "/ld-linux") != NULL,
                  "the predictor needs '%s':\n%s", name, r.out);
  }
  ck_assert_msg(libc == 1, "%s", r.out);
  ck_assert_int_le(libm, 1);
  free(lines);
  test_run_free(&r);
  free(pred);
#endif
}
END_TEST

/* --target: an AArch64 object from this machine; linking for a target
 * without a runtime here is refused with the way out (check_cross.c links
 * AArch64 ones). */

/* Temporaries a killed export left beside its output are removed by the
 * next export of it; a live process's are not. */
START_TEST(export_sweeps_stale_temporaries) {
  char *run = test_path(tmp, "iris.run"), *out = test_path(tmp, "swept.ll"), name[128];
  long dead = test_dead_pid();
  snprintf(name, sizeof name, "swept.ll.tmp.%ld", dead);
  char *stale = test_path(tmp, name);
  snprintf(name, sizeof name, "swept.ll.tmp.%ld", (long)getpid());
  char *live = test_path(tmp, name);
  test_write_text(stale, "partial");
  test_write_text(live, "in progress");
  const char *argv[] = {test_mlpc(), "export", run, "--emit-llvm", "-o", out, NULL};
  test_run_ok(argv);
  ck_assert_int_ne(access(stale, F_OK), 0);
  ck_assert_int_eq(access(live, F_OK), 0);
  remove(live);
  free(live);
  free(stale);
  free(out);
  free(run);
}
END_TEST

/* A full disk: a clear error and no partial file, for each kind of output. */
START_TEST(export_full_disk_leaves_nothing) {
  const char *why;
  char *disk = test_small_disk(200 * 1024, &why);
  if (!disk) {
    fprintf(stderr, "check_export: export_full_disk_leaves_nothing skipped: %s\n", why);
    return;
  }
  test_small_disk_fill(disk, 8 * 1024);
  char *run = test_path(tmp, "iris.run"), *out = test_path(disk, "iris_pred");
  static const char *const modes[] = {"--emit-llvm", "-O2", "--emit-obj"};
  for (int i = 0; i < 3; i++) {
    const char *argv[] = {test_mlpc(), "export", run, modes[i], "-o", out, NULL};
    TestRun r = test_run(argv, NULL);
    ck_assert_msg(r.status == 2, "%s: status %d", modes[i], r.status);
    ck_assert_msg(strstr(r.err, "No space left") || strstr(r.err, "failed"), "%s: %s", modes[i], r.err);
    ck_assert_msg(strstr(r.err, "LLVM ERROR") == NULL, "%s", r.err);
    test_run_free(&r);
    /* Only the filler is there. */
    ck_assert_int_eq(test_count_named(disk, ""), 3);
  }
  free(out);
  free(run);
  test_small_disk_free(disk);
}
END_TEST

START_TEST(export_cross_target_object) {
  char *run = test_path(tmp, "iris.run"), *base = test_path(tmp, "iris_arm");
  const char *argv[] = {test_mlpc(), "export", run,  "--target", "aarch64-linux-gnu",
                        "--emit-obj", "-o",     base, NULL};
  test_run_ok(argv);
  char *obj = test_path(tmp, "iris_arm.o");
  size_t len;
  unsigned char *elf = (unsigned char *)test_read_file(obj, &len);
  ck_assert_ptr_nonnull(elf);
  ck_assert_int_gt(len, 20);
  ck_assert_int_eq(memcmp(elf, "\177ELF", 4), 0);
  ck_assert_int_eq(elf[18] | elf[19] << 8, 183); /* EM_AARCH64 */
  const char *link[] = {test_mlpc(), "export", run, "--target", "riscv64-linux-gnu", "-o", base, NULL};
  TestRun r = test_run(link, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "riscv64/libmlprt.a") && strstr(r.err, "--emit-obj"), "%s", r.err);
  struct stat st;
  ck_assert_int_ne(stat(base, &st), 0);
  test_run_free(&r);
  /* another target's runtime has no recurrent kernel: refused by name */
  char *rnn = test_path(tmp, "rnn.run");
  const char *rlink[] = {test_mlpc(), "export", rnn, "--target", "aarch64-linux-gnu", "-o", base, NULL};
  r = test_run(rlink, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "layer 1 is recurrent") && strstr(r.err, "--emit-obj"), "%s", r.err);
  ck_assert_int_ne(stat(base, &st), 0);
  test_run_free(&r);
  char *tf = test_path(tmp, "tf.run");
  const char *tlink[] = {test_mlpc(), "export", tf, "--target", "aarch64-linux-gnu", "-o", base, NULL};
  r = test_run(tlink, NULL);
  ck_assert_int_eq(r.status, 2);
  ck_assert_msg(strstr(r.err, "layer 1 is a transformer encoder") && strstr(r.err, "--emit-obj"), "%s",
                r.err);
  test_run_free(&r);
  free(tf);
  free(rnn);
  free(elf);
  free(obj);
  free(base);
  free(run);
}
END_TEST

Suite *export_suite(void);
Suite *export_suite(void) {
  Suite *s = suite_create("export");
  TCase *tc = tcase_create("export");
  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, export_examples_answer_as_training, 0, NEXAMPLES);
  tcase_add_test(tc, export_dates_and_coercion_answer_as_training);
  tcase_add_test(tc, export_refuses_lags_and_onnx_dates);
  tcase_add_test(tc, export_series_stream_answers_as_training);
  tcase_add_test(tc, export_resample_stream_answers_as_training);
  tcase_add_test(tc, export_cnn_on_idx_images);
  tcase_add_test(tc, export_recurrent_on_idx_rows);
  tcase_add_test(tc, export_transformer_on_idx_rows);
  tcase_add_test(tc, export_run_trained_from_sqlite);
  tcase_add_test(tc, export_level_only_in_test_rows);
  tcase_add_test(tc, export_text_characters_and_hashing);
  tcase_add_test(tc, export_tokens_embedding_bidirectional);
  tcase_add_test(tc, export_tokens_masked);
  tcase_add_test(tc, export_rejects_bad_rows_in_order);
  tcase_add_test(tc, export_version_names_hashes);
  tcase_add_test(tc, export_announces_and_keeps_unnamed_files);
  tcase_add_test(tc, export_predictor_answers_a_stream_row_by_row);
  tcase_add_test(tc, export_drift_needs_monitor);
  tcase_add_test(tc, export_needs_only_libc_and_libm);
  tcase_add_test(tc, export_refuses_tampered_run);
  tcase_add_test(tc, export_predictor_checks_its_weights);
  tcase_add_test(tc, export_rundir_loads_without_data);
  tcase_add_test(tc, export_object_links_and_agrees);
  tcase_add_test(tc, export_compiled_cleaning_matches_interpreter);
  tcase_add_test(tc, export_emit_llvm_and_size);
  tcase_add_test(tc, export_cross_target_object);
  tcase_add_test(tc, export_full_disk_leaves_nothing);
  tcase_add_test(tc, export_sweeps_stale_temporaries);
  suite_add_tcase(s, tc);
  return s;
}
