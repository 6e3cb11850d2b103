/* report.c — the run's report.html: one self-contained file (inline SVG,
 * no external reference) in the order of the eight steps: the data and
 * its cleaning, the architecture, the hyperparameters, the environment,
 * training (loss and validation accuracy or R² curves with axes, ticks, a
 * legend beside the plot and the best epoch marked, and a bias / variance
 * reading), tuning, the error
 * analysis (metrics, each class's scores, the confusion matrix, the
 * calibration curve or residuals, slices, worst rows, importance) and
 * deployment (the baseline's margin, the run's artifacts). Consumes an
 * MlprtReport filled by run.c and the manifest so far; produces one HTML
 * file, written atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

void mlprt_html_text(FILE *f, const char *s) {
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

/* A plot's data box in a W x H image: room for tick labels at the left
 * and below, for the legend at the right, outside the data. */
enum { PLOT_W = 720, PLOT_H = 260, PAD_L = 56, PAD_T = 10, PAD_B = 40, LEGEND_W = 220 };
typedef struct {
  double x0, x1, y0, y1;
} Axes;

static double px(const Axes *a, double x) {
  return PAD_L + (a->x1 > a->x0 ? (x - a->x0) / (a->x1 - a->x0) : 0) * (PLOT_W - PAD_L - LEGEND_W);
}
static double py(const Axes *a, double y) {
  return PAD_T + (a->y1 > a->y0 ? 1 - (y - a->y0) / (a->y1 - a->y0) : 1) * (PLOT_H - PAD_T - PAD_B);
}

/* Open the SVG and draw the frame, five ticks on each axis with their
 * values, and the axes' labels. */
static void plot_open(FILE *f, const Axes *a, const char *xlabel, const char *ylabel) {
  fprintf(f, "<svg class=\"plot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
             "font-size=\"11\">\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
  double l = PAD_L, r = PLOT_W - LEGEND_W, t = PAD_T, b = PLOT_H - PAD_B;
  fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#555\"/>\n", l, t,
          r - l, b - t);
  for (int i = 0; i <= 4; i++) {
    double xv = a->x0 + (a->x1 - a->x0) * i / 4, yv = a->y0 + (a->y1 - a->y0) * i / 4;
    double x = px(a, xv), y = py(a, yv);
    fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#555\"/>"
               "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%.3g</text>\n",
            x, b, x, b + 4, x, b + 15, xv);
    fprintf(f, "<line class=\"tick\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#555\"/>"
               "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
            l - 4, y, l, y, l - 6, y + 4, yv);
  }
  fprintf(f, "<text class=\"xlabel\" x=\"%g\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (l + r) / 2,
          PLOT_H - 6, xlabel);
  fprintf(f,
          "<text class=\"ylabel\" x=\"12\" y=\"%g\" text-anchor=\"middle\" "
          "transform=\"rotate(-90 12 %g)\">%s</text>\n",
          (t + b) / 2, (t + b) / 2, ylabel);
}

/* Legend entry i, right of the data box. */
static void legend(FILE *f, int i, const char *color, const char *dash, const char *label) {
  double x = PLOT_W - LEGEND_W + 12, y = PAD_T + 12 + 18 * i;
  fprintf(f, "<g class=\"legend\"><line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
             "stroke-width=\"2\" stroke-dasharray=\"%s\"/><text x=\"%g\" y=\"%g\">",
          x, y - 4, x + 18, y - 4, color, dash, x + 24, y);
  mlprt_html_text(f, label);
  fputs("</text></g>\n", f);
}

static void polyline(FILE *f, const Axes *a, const double *x, const double *y, int64_t n, const char *color,
                     const char *dash) {
  fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\" points=\"",
          color, dash);
  for (int64_t i = 0; i < n; i++)
    if (isfinite(y[i])) fprintf(f, "%.1f,%.1f ", px(a, x[i]), py(a, y[i]));
  fputs("\"/>\n", f);
}

/* The best epoch as a dashed vertical line, legend entry i. */
static void best_marker(FILE *f, const Axes *a, const MlprtReport *r, int i) {
  if (r->best_epoch < 1 || r->best_epoch > r->epochs) return;
  double x = px(a, (double)r->best_epoch);
  fprintf(f, "<line class=\"best\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#2ca02c\" "
             "stroke-dasharray=\"4 3\"/>\n", x, PAD_T, x, PLOT_H - PAD_B);
  char lab[48];
  snprintf(lab, sizeof lab, "best epoch (%lld)", (long long)r->best_epoch);
  legend(f, i, "#2ca02c", "4 3", lab);
}

/* The validation score (accuracy, or R²) against the epoch, the best epoch
 * marked; nothing when no epoch recorded one. */
static void score_svg(FILE *f, const MlprtReport *r) {
  Axes a = {1, (double)(r->epochs > 1 ? r->epochs : 2), INFINITY, -INFINITY};
  for (int64_t e = 0; e < r->epochs; e++)
    if (isfinite(r->val_score[e])) a.y0 = fmin(a.y0, r->val_score[e]), a.y1 = fmax(a.y1, r->val_score[e]);
  if (!isfinite(a.y0)) return;
  /* Accuracy in [0, 1] keeps that scale; R² may fall below 0. */
  a.y0 = fmin(a.y0, 0), a.y1 = fmax(a.y1, 1);
  double *ep = malloc((size_t)r->epochs * sizeof *ep);
  for (int64_t e = 0; e < r->epochs; e++) ep[e] = (double)(e + 1);
  plot_open(f, &a, "epoch", r->score_name);
  polyline(f, &a, ep, r->val_score, r->epochs, "#9467bd", "none");
  free(ep);
  legend(f, 0, "#9467bd", "none", r->score_name);
  best_marker(f, &a, r, 1);
  fputs("</svg>\n", f);
}

/* Training and validation loss against the epoch, the best epoch marked. */
static void curves_svg(FILE *f, const MlprtReport *r) {
  Axes a = {1, (double)(r->epochs > 1 ? r->epochs : 2), 0, 0};
  for (int64_t e = 0; e < r->epochs; e++) {
    if (isfinite(r->train_loss[e]) && r->train_loss[e] > a.y1) a.y1 = r->train_loss[e];
    if (isfinite(r->val_loss[e]) && r->val_loss[e] > a.y1) a.y1 = r->val_loss[e];
  }
  if (a.y1 <= 0) a.y1 = 1;
  double *ep = malloc((size_t)r->epochs * sizeof *ep);
  for (int64_t e = 0; e < r->epochs; e++) ep[e] = (double)(e + 1);
  plot_open(f, &a, "epoch", "loss");
  polyline(f, &a, ep, r->train_loss, r->epochs, "#1f77b4", "none");
  polyline(f, &a, ep, r->val_loss, r->epochs, "#d62728", "none");
  free(ep);
  legend(f, 0, "#1f77b4", "none", "training loss");
  legend(f, 1, "#d62728", "none", "validation loss");
  best_marker(f, &a, r, 2);
  fputs("</svg>\n", f);
  if (r->val_score) score_svg(f, r);
}

/* The calibration curve: observed against predicted, the diagonal dashed. */
static void calibration_svg(FILE *f, const cJSON *bins) {
  Axes a = {0, 1, 0, 1};
  int n = cJSON_GetArraySize(bins);
  double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
  for (int i = 0; i < n; i++) {
    const cJSON *b = cJSON_GetArrayItem(bins, i);
    x[i] = cJSON_GetObjectItem(b, "predicted")->valuedouble;
    y[i] = cJSON_GetObjectItem(b, "observed")->valuedouble;
  }
  plot_open(f, &a, "predicted probability", "observed frequency");
  double d[2] = {0, 1};
  polyline(f, &a, d, d, 2, "#999", "4 3");
  polyline(f, &a, x, y, n, "#1f77b4", "none");
  for (int i = 0; i < n; i++)
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>\n", px(&a, x[i]), py(&a, y[i]));
  legend(f, 0, "#1f77b4", "none", "model");
  legend(f, 1, "#999", "4 3", "perfectly calibrated");
  fputs("</svg>\n", f);
  free(x);
  free(y);
}

/* ROC (key "roc") or precision-recall ("pr") curves, one line a class
 * (the first ten), each labelled with its AUC or average precision. */
static void class_curves_svg(FILE *f, const cJSON *curves, const char *key) {
  static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  bool roc = strcmp(key, "roc") == 0;
  Axes a = {0, 1, 0, 1};
  plot_open(f, &a, roc ? "false positive rate" : "recall", roc ? "true positive rate" : "precision");
  if (roc) {
    double d[2] = {0, 1};
    polyline(f, &a, d, d, 2, "#999", "4 3");
  }
  int i = 0;
  for (const cJSON *c = curves ? curves->child : NULL; c && i < 10; c = c->next, i++) {
    const cJSON *pts = cJSON_GetObjectItem(c, key);
    int n = cJSON_GetArraySize(pts);
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    for (int j = 0; j < n; j++) {
      x[j] = cJSON_GetArrayItem(cJSON_GetArrayItem(pts, j), 0)->valuedouble;
      y[j] = cJSON_GetArrayItem(cJSON_GetArrayItem(pts, j), 1)->valuedouble;
    }
    polyline(f, &a, x, y, n, colors[i], "none");
    free(x);
    free(y);
    char lab[96];
    snprintf(lab, sizeof lab, "%.40s (%s %.3f)", cJSON_GetObjectItem(c, "class")->valuestring,
             roc ? "AUC" : "AP",
             cJSON_GetObjectItem(c, roc ? "auc" : "average_precision")->valuedouble);
    legend(f, i, colors[i], "none", lab);
  }
  fputs("</svg>\n", f);
}

/* Residuals against predictions, a point each, the zero line dashed. */
static void residuals_svg(FILE *f, const cJSON *pts) {
  int n = cJSON_GetArraySize(pts);
  Axes a = {INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (int i = 0; i < n; i++) {
    double x = cJSON_GetArrayItem(cJSON_GetArrayItem(pts, i), 0)->valuedouble;
    double y = cJSON_GetArrayItem(cJSON_GetArrayItem(pts, i), 1)->valuedouble;
    a.x0 = fmin(a.x0, x), a.x1 = fmax(a.x1, x), a.y0 = fmin(a.y0, y), a.y1 = fmax(a.y1, y);
  }
  if (n == 0) a = (Axes){0, 1, -1, 1};
  a.y0 = fmin(a.y0, 0), a.y1 = fmax(a.y1, 0);
  if (a.x1 <= a.x0) a.x1 = a.x0 + 1;
  if (a.y1 <= a.y0) a.y1 = a.y0 + 1;
  plot_open(f, &a, "prediction", "residual (truth - prediction)");
  double zx[2] = {a.x0, a.x1}, zy[2] = {0, 0};
  polyline(f, &a, zx, zy, 2, "#999", "4 3");
  for (int i = 0; i < n; i++) {
    const cJSON *p = cJSON_GetArrayItem(pts, i);
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#1f77b4\"/>\n",
            px(&a, cJSON_GetArrayItem(p, 0)->valuedouble), py(&a, cJSON_GetArrayItem(p, 1)->valuedouble));
  }
  legend(f, 0, "#1f77b4", "none", "tested rows");
  legend(f, 1, "#999", "4 3", "zero");
  fputs("</svg>\n", f);
}

/* A JSON value as HTML: an object as a two-column table, an array of
 * objects as a table with a column per key of the first, other arrays
 * and scalars as text. */
static void put_json(FILE *f, const cJSON *j) {
  char num[32];
  if (cJSON_IsObject(j)) {
    fputs("<table>", f);
    for (const cJSON *c = j->child; c; c = c->next) {
      fputs("<tr><th>", f);
      mlprt_html_text(f, c->string);
      fputs("</th><td>", f);
      put_json(f, c);
      fputs("</td></tr>", f);
    }
    fputs("</table>\n", f);
  } else if (cJSON_IsArray(j) && cJSON_IsObject(j->child)) {
    fputs("<table><tr>", f);
    for (const cJSON *k = j->child->child; k; k = k->next) {
      fputs("<th>", f);
      mlprt_html_text(f, k->string);
      fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (const cJSON *row = j->child; row; row = row->next) {
      fputs("<tr>", f);
      for (const cJSON *k = j->child->child; k; k = k->next) {
        fputs("<td>", f);
        const cJSON *v = cJSON_GetObjectItem(row, k->string);
        if (v) put_json(f, v);
        fputs("</td>", f);
      }
      fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
  } else if (cJSON_IsArray(j)) {
    for (const cJSON *c = j->child; c; c = c->next) {
      put_json(f, c);
      if (c->next) fputs(", ", f);
    }
  } else if (cJSON_IsString(j)) {
    mlprt_html_text(f, j->valuestring);
  } else if (cJSON_IsNumber(j)) {
    snprintf(num, sizeof num, "%.6g", j->valuedouble);
    fputs(num, f);
  } else if (cJSON_IsBool(j)) {
    fputs(cJSON_IsTrue(j) ? "true" : "false", f);
  } else {
    fputs("&mdash;", f);
  }
}

/* A reading of the whole curves and of the baseline, with the next step:
 * a model no better than its baseline, or whose training loss hardly fell,
 * underfits (high bias: more capacity, a higher learning rate, more
 * epochs); a validation loss that rose again while the training loss kept
 * falling, or one far above the training loss, means overfitting (high
 * variance: more data, more regularisation, an earlier stop). */
static void diagnosis(FILE *f, const MlprtReport *r) {
  if (r->epochs < 2 || r->best_epoch < 1 || r->best_epoch > r->epochs) return;
  int64_t best = r->best_epoch - 1, end = r->epochs - 1;
  double tr = r->train_loss[best], va = r->val_loss[best];
  double first = r->train_loss[0], last = r->train_loss[end], va_end = r->val_loss[end];
  if (!isfinite(tr) || !isfinite(va) || !isfinite(first) || !isfinite(va_end)) return; /* not monitored */
  const cJSON *base = cJSON_GetObjectItem(r->manifest, "baseline");
  const cJSON *margin = cJSON_GetObjectItem(base, "margin");
  fprintf(f,
          "<p class=\"diagnosis\">At the best epoch (%lld of %lld) the training loss is %.4g and the "
          "validation loss %.4g; the training loss went from %.4g to %.4g, the validation loss ended at "
          "%.4g. ",
          (long long)r->best_epoch, (long long)r->epochs, tr, va, first, last, va_end);
  if (margin && margin->valuedouble <= 0)
    fprintf(f, "The model does not beat the %s baseline (%s margin %.4f): <b>high bias (underfitting)</b>; "
               "next: more capacity (wider or more layers), a higher learning rate or more epochs.",
            cJSON_GetObjectItem(base, "kind")->valuestring, cJSON_GetObjectItem(base, "metric")->valuestring,
            margin->valuedouble);
  else if (end > best && va_end > 1.05 * va && last < 0.9 * tr)
    fputs("The validation loss rose again after the best epoch while the training loss kept falling: "
          "<b>high variance (overfitting)</b>; next: more data, more regularisation (dropout, l2) or an "
          "earlier stop.",
          f);
  else if (tr > 0 && va > 1.5 * tr)
    fputs("The validation loss is well above the training loss: <b>high variance (overfitting)</b>; next: "
          "more data, more regularisation (dropout, l2) or a smaller model.",
          f);
  else if (first > 0 && last > 0.9 * first)
    fputs("The training loss hardly fell: <b>high bias (underfitting)</b>; next: more capacity, a higher "
          "learning rate or more epochs.",
          f);
  else
    fputs("Neither a large gap, a rising validation loss nor a stalled training loss: no strong sign of "
          "under- or overfitting; next: more data or a wider search may still help.",
          f);
  fputs("</p>\n", f);
}

/* A section's heading: its step's number and name, with an id to find it by. */
static void section(FILE *f, int step, const char *id, const char *title) {
  if (step > 1) fputs("</section>\n", f);
  fprintf(f, "<section id=\"%s\">\n<h2>%d. %s</h2>\n", id, step, title);
}

/* Step 1: the sources, their digests, the rows of each split, the
 * cleaning steps with their counts and fitted values. */
static void data_section(FILE *f, const MlprtReport *r) {
  section(f, 1, "data", "Data");
  fputs("<p>", f);
  mlprt_html_text(f, r->data_path);
  fprintf(f, ": %lld training, %lld validation and %lld test rows", (long long)r->rows[0],
          (long long)r->rows[1], (long long)r->rows[2]);
  if (r->test_path) {
    fputs(" (the test rows from ", f);
    mlprt_html_text(f, r->test_path);
    fputc(')', f);
  }
  fprintf(f, ", %lld features.</p>\n", (long long)r->features);
  const cJSON *data = cJSON_GetObjectItem(r->manifest, "data");
  if (data) put_json(f, data);
  const cJSON *steps = cJSON_GetObjectItem(r->cleaning, "cleaning");
  fputs("<h3>Cleaning</h3>\n", f);
  if (cJSON_GetArraySize(steps) > 0)
    put_json(f, steps);
  else
    fputs("<p>No cleaning steps: the columns are used as loaded.</p>\n", f);
  const cJSON *target = cJSON_GetObjectItem(r->cleaning, "target");
  if (target) {
    fputs("<h3>Target</h3>\n", f);
    put_json(f, target);
  }
}

/* Step 2: what the model is and what it costs. */
static void architecture_section(FILE *f, const MlprtReport *r) {
  static const char *const fits[] = MLPRT_FIT_NAMES;
  static const char *const tasks[] = {"multi-class classification", "binary classification", "regression"};
  const MlprtModel *m = r->model;
  section(f, 2, "architecture", "Architecture");
  fprintf(f, "<table><tr><th>fit</th><td>%s</td></tr><tr><th>task</th><td>%s</td></tr>"
             "<tr><th>inputs</th><td>%lld</td></tr><tr><th>outputs</th><td>%lld</td></tr>"
             "<tr><th>parameters</th><td>%lld</td></tr><tr><th>forward FLOPs per row</th><td>%lld</td></tr>"
             "<tr><th>memory plan (arena bytes)</th><td>%lld</td></tr><tr><th>batch</th><td>%lld</td></tr>"
             "</table>\n",
          m->fit >= 0 && m->fit < MLPRT_NFITS ? fits[m->fit] : "?",
          m->task >= 0 && m->task <= 2 ? tasks[m->task] : "?", (long long)m->n_in, (long long)m->n_out,
          (long long)m->n_params, (long long)m->flops, (long long)m->arena_bytes, (long long)m->batch);
}

/* Step 7's plots and tables from the manifest's analysis object. */
static void analysis_details(FILE *f, const cJSON *an) {
  const cJSON *v;
  if ((v = cJSON_GetObjectItem(an, "brier"))) fprintf(f, "<p>Brier score: %.6f</p>\n", v->valuedouble);
  if ((v = cJSON_GetObjectItem(an, "calibration"))) {
    fputs("<h3>Calibration</h3>\n<p>", f);
    mlprt_html_text(f, cJSON_GetObjectItem(v, "of")->valuestring);
    fputs(".</p>\n", f);
    calibration_svg(f, cJSON_GetObjectItem(v, "bins"));
    put_json(f, cJSON_GetObjectItem(v, "bins"));
  }
  if ((v = cJSON_GetObjectItem(an, "curves")) && cJSON_GetArraySize(v) > 0) {
    fputs("<h3>ROC curves</h3>\n", f);
    class_curves_svg(f, v, "roc");
    fputs("<h3>Precision-recall curves</h3>\n", f);
    class_curves_svg(f, v, "pr");
  }
  if ((v = cJSON_GetObjectItem(an, "residuals"))) {
    fprintf(f, "<h3>Residuals</h3>\n<p>Mean %.6g, standard deviation %.6g.</p>\n",
            cJSON_GetObjectItem(v, "mean")->valuedouble, cJSON_GetObjectItem(v, "std")->valuedouble);
    residuals_svg(f, cJSON_GetObjectItem(v, "points"));
  }
  if ((v = cJSON_GetObjectItem(an, "error_by_target_range"))) {
    fputs("<h3>Error by target range</h3>\n", f);
    put_json(f, v);
  }
  if ((v = cJSON_GetObjectItem(an, "slices"))) {
    fprintf(f, "<h3>Slices</h3>\n<p>%d of them significantly worse than the other rows (",
            cJSON_GetObjectItem(v, "flagged")->valueint);
    mlprt_html_text(f, cJSON_GetObjectItem(v, "test")->valuestring);
    fprintf(f, "; alpha %g; slices of at least %d rows tested).</p>\n",
            cJSON_GetObjectItem(v, "alpha")->valuedouble, cJSON_GetObjectItem(v, "min_rows")->valueint);
    put_json(f, cJSON_GetObjectItem(v, "slices"));
  }
  if ((v = cJSON_GetObjectItem(an, "feature_importance"))) {
    fputs("<h3>Permutation importance</h3>\n<p>How much worse the ", f);
    mlprt_html_text(f, cJSON_GetObjectItem(v, "score")->valuestring);
    fprintf(f,
            " gets when a source column's features are shuffled together: mean and standard deviation "
            "of %d seeded repeats.</p>\n",
            cJSON_GetObjectItem(v, "repeats")->valueint);
    put_json(f, cJSON_GetObjectItem(v, "columns"));
  }
  if ((v = cJSON_GetObjectItem(an, "worst"))) {
    fputs("<h3>Worst rows</h3>\n", f);
    put_json(f, v);
  }
}

/* Step 7: the metrics of the tested split and the error analysis. */
static void errors_section(FILE *f, const MlprtReport *r) {
  section(f, 7, "analysis", "Error analysis");
  fprintf(f, "<h3>%c%s metrics</h3>\n<table>\n", r->split[0] - 'a' + 'A', r->split + 1);
  for (int i = 0; i < r->nmetrics; i++) {
    fputs("<tr><th>", f);
    mlprt_html_text(f, r->metric_names[i]);
    fprintf(f, "</th><td>%.4f</td></tr>\n", r->metric_values[i]);
  }
  fputs("</table>\n", f);
  if (r->per_class) {
    fputs("<h3>Per class</h3>\n<table><tr><th></th><th>precision</th><th>recall</th><th>f1</th>"
          "<th>support</th></tr>\n",
          f);
    for (int k = 0; k < r->nclasses; k++) {
      const MlprtClassScores *c = &r->per_class[k];
      fputs("<tr><th>", f);
      mlprt_html_text(f, r->classes[k]);
      fprintf(f, "</th><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%lld</td></tr>\n", c->precision, c->recall,
              c->f1, (long long)c->support);
    }
    fputs("</table>\n", f);
  }
  if (r->confusion) {
    fputs("<h3>Confusion matrix</h3>\n<p>Rows: true class; columns: predicted class.</p>\n"
          "<table><tr><th></th>",
          f);
    for (int j = 0; j < r->nclasses; j++) {
      fputs("<th>", f);
      mlprt_html_text(f, r->classes[j]);
      fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int i = 0; i < r->nclasses; i++) {
      fputs("<tr><th>", f);
      mlprt_html_text(f, r->classes[i]);
      fputs("</th>", f);
      for (int j = 0; j < r->nclasses; j++)
        fprintf(f, "<td>%lld</td>", (long long)r->confusion[(size_t)i * (size_t)r->nclasses + (size_t)j]);
      fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
  }
  const cJSON *an = cJSON_GetObjectItem(r->manifest, "analysis");
  if (an) analysis_details(f, an);
}

/* Step 6: every trained trial (and fold or rung), its searched settings,
 * epochs, objective and seconds, the winner's rows marked. */
static void trials_table(FILE *f, const cJSON *trials, const cJSON *tune) {
  const cJSON *objective = cJSON_GetObjectItem(tune, "objective"), *t, *c;
  const char *obj = cJSON_IsString(objective) ? objective->valuestring : "val_loss";
  const cJSON *best = cJSON_GetObjectItem(tune, "best_trial");
  /* the settings any trial searched (a family's architectures search different ones), in order met */
  cJSON *keys = cJSON_CreateObject();
  cJSON_ArrayForEach(t, trials) {
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(t, "settings")) {
      if (!cJSON_GetObjectItemCaseSensitive(keys, c->string)) cJSON_AddNullToObject(keys, c->string);
    }
  }
  fputs("<table class=\"trials\"><tr><th>trial</th><th>fold</th><th>rung</th>", f);
  cJSON_ArrayForEach(c, keys) {
    fputs("<th>", f);
    mlprt_html_text(f, c->string);
    fputs("</th>", f);
  }
  fputs("<th>epochs</th><th>", f);
  mlprt_html_text(f, obj);
  fputs("</th><th>seconds</th></tr>\n", f);
  cJSON_ArrayForEach(t, trials) {
    const cJSON *trial = cJSON_GetObjectItem(t, "trial"), *fold = cJSON_GetObjectItem(t, "fold");
    const cJSON *rung = cJSON_GetObjectItem(t, "rung");
    bool won = cJSON_IsNumber(best) && cJSON_IsNumber(trial) && best->valueint == trial->valueint;
    fprintf(f, "<tr%s><td>%d</td><td>", won ? " class=\"winner\" style=\"font-weight:bold\"" : "",
            cJSON_IsNumber(trial) ? trial->valueint : -1);
    if (cJSON_IsNumber(fold)) fprintf(f, "%d", fold->valueint);
    fputs("</td><td>", f);
    if (cJSON_IsNumber(rung)) fprintf(f, "%d", rung->valueint);
    fputs("</td>", f);
    cJSON_ArrayForEach(c, keys) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(t, "settings"), c->string);
      char *text = !v || cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
      fputs("<td>", f);
      mlprt_html_text(f, !v ? "-" : cJSON_IsString(v) ? v->valuestring : text);
      fputs("</td>", f);
      free(text);
    }
    fprintf(f, "<td>%.0f</td><td>%.4f</td><td>%.2f</td></tr>\n",
            cJSON_GetNumberValue(cJSON_GetObjectItem(t, "epochs")),
            cJSON_GetNumberValue(cJSON_GetObjectItem(t, obj)),
            cJSON_GetNumberValue(cJSON_GetObjectItem(t, "seconds")));
  }
  fputs("</table>\n", f);
  cJSON_Delete(keys);
}

int mlprt_report_write(const char *path, const MlprtReport *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -1;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
  mlprt_html_text(f, r->pipeline);
  fputs(" report</title>\n<style>body{font-family:sans-serif;max-width:64em;margin:2em auto}"
        "table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
        "text-align:left;vertical-align:top}svg{display:block;margin:.6em 0}"
        "</style></head><body>\n<h1>",
        f);
  mlprt_html_text(f, r->pipeline);
  fputs("</h1>\n", f);
  data_section(f, r);
  architecture_section(f, r);
  section(f, 3, "hyperparameters", "Hyperparameters");
  fputs("<pre>", f);
  mlprt_html_text(f, r->hyperparameters);
  fputs("</pre>\n", f);
  section(f, 4, "environment", "Environment");
  put_json(f, cJSON_GetObjectItem(r->manifest, "environment"));
  section(f, 5, "training", "Training and validation");
  const cJSON *jobs = cJSON_GetObjectItem(r->manifest, "jobs");
  fprintf(f, "<p>%d job(s) trained; the reported one stopped after %lld epoch(s), its best epoch %lld.</p>\n",
          cJSON_GetArraySize(jobs), (long long)r->epochs, (long long)r->best_epoch);
  if (r->curves && r->epochs > 0) {
    curves_svg(f, r);
    if (r->bias_variance) diagnosis(f, r);
  } else if (r->epochs == 0) {
    fputs("<p>Fitted at once, without epochs: no learning curve.</p>\n", f);
  } else {
    fputs("<p>The learning curves are off (analysis.learning_curves = false).</p>\n", f);
  }
  section(f, 6, "tuning", "Tuning");
  const cJSON *tune = cJSON_GetObjectItem(r->manifest, "tuning");
  if (tune) {
    /* a search over a model family names the architecture that won */
    const cJSON *won = cJSON_GetObjectItem(cJSON_GetObjectItem(tune, "best_settings"), "model");
    if (cJSON_IsString(won)) {
      fputs("<p class=\"family\">The winning architecture: <b>", f);
      mlprt_html_text(f, won->valuestring);
      fputs("</b>.</p>\n", f);
    }
    if (cJSON_GetArraySize(r->trials) > 0) trials_table(f, r->trials, tune);
    put_json(f, tune);
  } else {
    fputs("<p>No search: the spec's own settings were trained.</p>\n", f);
  }
  errors_section(f, r);
  section(f, 8, "deployment", "Deployment and baseline");
  fputs("<p>", f);
  mlprt_html_text(f, r->baseline ? r->baseline : "no baseline was fitted (analysis.baseline = false)");
  fputs(".</p>\n<h3>Artifacts</h3>\n", f);
  put_json(f, cJSON_GetObjectItem(r->manifest, "artifacts"));
  fputs("<p>The predictor and its ONNX model are made from this run by <code>mlpc export</code>.</p>\n", f);
  fputs("</section>\n", f);
  return mlprt_html_close(f, &text, &len, path);
}

int mlprt_html_close(FILE *f, char **text, size_t *len, const char *path) {
  fputs("</body></html>\n", f);
  int rc = fclose(f) == 0 ? mlprt_write_atomic(path, *text, *len, true) : -1;
  free(*text);
  return rc;
}
