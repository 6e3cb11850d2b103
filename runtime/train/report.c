/* report.c — the run's report.html (step 7): the metrics of the test split
 * (or, without one, the validation split), each class's scores, the
 * confusion matrix, the learning curves as an inline SVG and a bias /
 * variance reading of them. Consumes an MlprtReport filled by run.c;
 * produces one self-contained HTML file, written atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

/* Text with HTML's special characters escaped. */
static void put_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '<')
      fputs("&lt;", f);
    else if (*s == '>')
      fputs("&gt;", f);
    else if (*s == '&')
      fputs("&amp;", f);
    else if (*s == '"')
      fputs("&quot;", f);
    else
      fputc(*s, f);
  }
}

/* Training and validation loss against the epoch: two polylines in a
 * 600 x 240 box, scaled to the larger of the two maxima. */
static void curves_svg(FILE *f, const MlprtReport *r) {
  double top = 0;
  for (int64_t e = 0; e < r->epochs; e++) {
    if (isfinite(r->train_loss[e]) && r->train_loss[e] > top) top = r->train_loss[e];
    if (isfinite(r->val_loss[e]) && r->val_loss[e] > top) top = r->val_loss[e];
  }
  if (top <= 0) top = 1;
  const double w = 600, h = 240, pad = 30;
  fprintf(f, "<svg width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">\n", w, h, w, h);
  fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#999\"/>\n", pad,
          pad / 2, w - 1.5 * pad, h - 1.5 * pad);
  static const char *const colors[] = {"#1f77b4", "#d62728"};
  for (int k = 0; k < 2; k++) {
    const double *y = k ? r->val_loss : r->train_loss;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[k]);
    for (int64_t e = 0; e < r->epochs; e++) {
      double px = pad + (r->epochs > 1 ? (double)e / (double)(r->epochs - 1) : 0) * (w - 1.5 * pad);
      double py = pad / 2 + (1 - (isfinite(y[e]) ? y[e] : top) / top) * (h - 1.5 * pad);
      fprintf(f, "%.1f,%.1f ", px, py);
    }
    fputs("\"/>\n", f);
  }
  fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"12\" fill=\"%s\">training loss</text>\n", pad + 8, pad + 6,
          colors[0]);
  fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"12\" fill=\"%s\">validation loss</text>\n", pad + 8,
          pad + 22, colors[1]);
  fprintf(f, "<text x=\"%g\" y=\"%g\" font-size=\"11\">epoch 1 .. %lld, loss 0 .. %.3g</text>\n", pad, h - 4,
          (long long)r->epochs, top);
  fputs("</svg>\n", f);
}

/* A plain reading of the curves at the best epoch: a validation loss far
 * above the training loss suggests variance (overfitting); a training
 * loss that hardly fell suggests bias (underfitting). */
static void diagnosis(FILE *f, const MlprtReport *r) {
  if (r->epochs < 2 || r->best_epoch < 1 || r->best_epoch > r->epochs) return;
  double tr = r->train_loss[r->best_epoch - 1], va = r->val_loss[r->best_epoch - 1];
  double first = r->train_loss[0], last = r->train_loss[r->epochs - 1];
  fprintf(f, "<p>At the best epoch (%lld) the training loss is %.4g and the validation loss %.4g. ",
          (long long)r->best_epoch, tr, va);
  if (tr > 0 && va > 1.5 * tr)
    fputs(
        "The validation loss is well above the training loss: <b>high variance (overfitting)</b> is likely; "
        "more data, regularization or dropout, or a smaller model may help.",
        f);
  else if (first > 0 && last > 0.9 * first)
    fputs(
        "The training loss hardly fell: <b>high bias (underfitting)</b> is likely; a larger model, a higher "
        "learning rate or more epochs may help.",
        f);
  else
    fputs("Neither a large gap nor a stalled training loss: no strong sign of under- or overfitting.", f);
  fputs("</p>\n", f);
}

int mlprt_report_write(const char *path, const MlprtReport *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -1;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
  put_text(f, r->pipeline);
  fputs(" report</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
        "</style></head><body>\n<h1>",
        f);
  put_text(f, r->pipeline);
  fputs("</h1>\n<h2>Data</h2>\n<p>", f);
  put_text(f, r->data_path);
  fprintf(f, ": %lld training, %lld validation and %lld test rows", (long long)r->rows[0],
          (long long)r->rows[1], (long long)r->rows[2]);
  if (r->test_path) {
    fputs(" (the test rows from ", f);
    put_text(f, r->test_path);
    fputc(')', f);
  }
  fprintf(f, ", %lld features.</p>\n", (long long)r->features);
  fprintf(f, "<h2>%c%s metrics</h2>\n<table>\n", r->split[0] - 'a' + 'A', r->split + 1);
  for (int i = 0; i < r->nmetrics; i++) {
    fputs("<tr><th>", f);
    put_text(f, r->metric_names[i]);
    fprintf(f, "</th><td>%.4f</td></tr>\n", r->metric_values[i]);
  }
  fputs("</table>\n", f);
  if (r->baseline) {
    fputs("<h2>Baseline</h2>\n<p>", f);
    put_text(f, r->baseline);
    fputs(".</p>\n", f);
  }
  if (r->per_class) {
    fputs("<h2>Per class</h2>\n<table><tr><th></th><th>precision</th><th>recall</th><th>f1</th>"
          "<th>support</th></tr>\n",
          f);
    for (int k = 0; k < r->nclasses; k++) {
      const MlprtClassScores *c = &r->per_class[k];
      fputs("<tr><th>", f);
      put_text(f, r->classes[k]);
      fprintf(f, "</th><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%lld</td></tr>\n", c->precision, c->recall,
              c->f1, (long long)c->support);
    }
    fputs("</table>\n", f);
  }
  if (r->confusion) {
    fputs(
        "<h2>Confusion matrix</h2>\n<p>Rows: true class; columns: predicted class.</p>\n<table><tr><th></th>",
        f);
    for (int j = 0; j < r->nclasses; j++) {
      fputs("<th>", f);
      put_text(f, r->classes[j]);
      fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int i = 0; i < r->nclasses; i++) {
      fputs("<tr><th>", f);
      put_text(f, r->classes[i]);
      fputs("</th>", f);
      for (int j = 0; j < r->nclasses; j++)
        fprintf(f, "<td>%lld</td>", (long long)r->confusion[(size_t)i * (size_t)r->nclasses + (size_t)j]);
      fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
  }
  if (r->curves && r->epochs > 0) {
    fputs("<h2>Learning curves</h2>\n", f);
    curves_svg(f, r);
    if (r->bias_variance) diagnosis(f, r);
  }
  fputs("<h2>Hyperparameters</h2>\n<pre>", f);
  put_text(f, r->hyperparameters);
  fputs("</pre>\n</body></html>\n", f);
  if (fclose(f) != 0) {
    free(text);
    return -1;
  }
  int rc = mlprt_write_atomic(path, text, len, true);
  free(text);
  return rc;
}
