/* monitor.c — what a running predictor records about its inputs.
 *
 * Consumes each answered row (its features, its answer or the reason it was
 * rejected) and the training reference compiled into the predictor (decile
 * bins of every model feature and the predictions' distribution); produces
 * a prediction log (--log: one JSON line per row with a UTC timestamp) and
 * drift checks (--drift): the population stability index of every feature
 * and of the predictions against training, over each window of
 * drift_window predictions and over the whole input, with a warning on
 * stderr naming the features past drift_threshold and, when asked, a JSON
 * report. Counting is a few increments per feature per row; the PSI sums
 * run once per window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "predict_int.h"

#define PSI_FLOOR 1e-4

double mlprt_psi(const int64_t *cnt, int64_t total, const double *ref, int64_t bins) {
  double psi = 0;
  for (int64_t i = 0; i < bins; i++) {
    double a = total ? (double)cnt[i] / (double)total : 0, e = ref[i];
    if (a < PSI_FLOOR) a = PSI_FLOOR;
    if (e < PSI_FLOOR) e = PSI_FLOOR;
    psi += (a - e) * log(a / e);
  }
  return psi;
}

int64_t mlprt_bin_of(double v, const double *edges, int64_t bins) {
  int64_t b = 0;
  while (b < bins - 1 && edges[b] <= v) b++;
  return b;
}

/* A model feature's name from the plan: an input's own name, or the name
 * the cleaning step that made the slot gave its column. */
static void slot_name(const MlprtPredPlan *pl, int64_t slot, char *buf, size_t n) {
  if (slot < pl->ninputs) {
    snprintf(buf, n, "%s", pl->inputs[slot].name);
    return;
  }
  for (int64_t i = pl->nsteps - 1; i >= 0; i--) {
    const MlprtPredStep *st = &pl->steps[i];
    int64_t width = mlprt_pstep_width(st);
    if (st->src == st->dst || slot < st->dst || slot >= st->dst + width) continue;
    char src[200];
    slot_name(pl, st->src, src, sizeof src);
    int64_t k = slot - st->dst;
    if (st->op == MLPRT_PSTEP_INDICATOR) {
      snprintf(buf, n, "%s_missing", src);
    } else if (st->op == MLPRT_PSTEP_HASH || (st->op == MLPRT_PSTEP_TERMS && !st->text)) {
      snprintf(buf, n, "%s#%lld", src, (long long)k);
    } else if (st->op == MLPRT_PSTEP_SEQUENCE) {
      snprintf(buf, n, "%s@%lld", src, (long long)k);
    } else if (st->op == MLPRT_PSTEP_TERMS) {
      const char *l = st->text;
      for (int64_t j = 0; j < k && l && strchr(l, '\n'); j++) l = strchr(l, '\n') + 1;
      if (l && *l) snprintf(buf, n, "%s:%.*s", src, (int)strcspn(l, "\t"), l);
      else snprintf(buf, n, "%s:<unused %lld>", src, (long long)k);
    } else if (st->op == MLPRT_PSTEP_ONEHOT) {
      const char *l = st->text;
      for (int64_t j = 0; j < k && l && strchr(l, '\n'); j++) l = strchr(l, '\n') + 1;
      if (l && *l) snprintf(buf, n, "%s=%.*s", src, (int)strcspn(l, "\n"), l);
      else snprintf(buf, n, "%s=__unknown__", src);
    } else {
      snprintf(buf, n, "%s", src);
    }
    return;
  }
  snprintf(buf, n, "slot %lld", (long long)slot);
}

void mlprt_pred_feature_name(const MlprtPredictor *p, int64_t k, char *buf, size_t n) {
  slot_name(p->plan, p->plan->feature_slot[k], buf, n);
}

struct MlprtPredMonitor {
  const MlprtPredictor *p;
  FILE *log;
  bool drift;
  const char *drift_path;
  int64_t bins, npred;        /* feature bins; prediction bins (classes or value bins) */
  int64_t *win, *all;         /* [n_in + 1, max(bins, npred)] counts: features, then predictions */
  int64_t width;              /* the row length of win and all */
  int64_t nwin, nall;         /* rows counted */
  int64_t win_first;          /* the window's first input row */
  int64_t last_row;
  FILE *windows;              /* the report's checks so far, as JSON objects separated by commas */
  char *windows_text;
  size_t windows_len;
  int64_t nclasses;
};

MlprtPredMonitor *mlprt_pred_monitor_open(const MlprtPredictor *p, const char *log_path, bool drift,
                                          const char *drift_path, char *err, size_t n) {
  if (drift && (!p->drift_edges || !p->drift_ref || !p->pred_ref || p->drift_bins < 2)) {
    snprintf(err, n, "--drift: this predictor was built without a training reference (the spec's "
             "deploy section declares none: add monitor() to it and export again)");
    return NULL;
  }
  MlprtPredMonitor *m = mlprt_xcalloc(1, sizeof *m);
  m->p = p;
  m->drift = drift;
  m->drift_path = drift_path;
  m->nclasses = mlprt_pred_nclasses(p);
  if (log_path && !(m->log = fopen(log_path, "a"))) {
    snprintf(err, n, "cannot open the log %s", log_path);
    free(m);
    return NULL;
  }
  if (drift) {
    m->bins = p->drift_bins;
    m->npred = p->task == MLPRT_TASK_REGRESSION ? p->drift_bins : m->nclasses;
    m->width = m->bins > m->npred ? m->bins : m->npred;
    m->win = mlprt_xcalloc((size_t)((p->n_in + 1) * m->width), sizeof *m->win);
    m->all = mlprt_xcalloc((size_t)((p->n_in + 1) * m->width), sizeof *m->all);
    m->windows = open_memstream(&m->windows_text, &m->windows_len);
    if (!m->windows) {
      snprintf(err, n, "out of memory");
      if (m->log) fclose(m->log);
      free(m);
      return NULL;
    }
  }
  m->win_first = 1;
  return m;
}

/* One line of the prediction log, written as it goes (no allocation). */
static void log_row(MlprtPredMonitor *m, int64_t row, int state, int64_t cls, const double *probs,
                    const char *reason) {
  char ts[32], name[512];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  FILE *f = m->log;
  const MlprtPredictor *p = m->p;
  fprintf(f, "{\"time\":\"%s\",\"row\":%lld", ts, (long long)row);
  if (state == MLPRT_ROW_REJECT) {
    fputs(",\"error\":", f);
    mlprt_json_put(f, reason);
  } else if (p->task == MLPRT_TASK_REGRESSION) {
    fprintf(f, ",\"value\":%.9g", probs[0]);
  } else {
    fputs(",\"label\":", f);
    mlprt_json_put(f, mlprt_pred_class(p, cls, name, sizeof name));
    for (int64_t k = 0; state == MLPRT_ROW_OK && k < m->nclasses; k++) {
      fputs(k ? "," : ",\"probabilities\":{", f);
      mlprt_json_put(f, mlprt_pred_class(p, k, name, sizeof name));
      fprintf(f, ":%.9g", (float)probs[k]);
    }
    if (state == MLPRT_ROW_OK && m->nclasses) fputc('}', f);
  }
  if (state == MLPRT_ROW_FALLBACK) {
    fputs(",\"fallback\":", f);
    mlprt_json_put(f, reason);
  }
  fputs("}\n", f);
}

/* PSI of every feature and of the predictions over counts c (rows rows),
 * written to f as a report object; names the drifted ones on stderr. */
static void check(MlprtPredMonitor *m, FILE *f, const int64_t *c, int64_t rows, int64_t first, int64_t last) {
  const MlprtPredictor *p = m->p;
  fprintf(f, "{\"first_row\":%lld,\"last_row\":%lld,\"rows\":%lld,\"features\":[", (long long)first,
          (long long)last, (long long)rows);
  char name[256], warn[1024] = "";
  /* the drifted names, after the features */
  char *drifted = NULL;
  size_t dlen = 0;
  FILE *d = open_memstream(&drifted, &dlen);
  int nd = 0;
  for (int64_t k = 0; k < p->n_in; k++) {
    double psi = mlprt_psi(c + k * m->width, rows, p->drift_ref + k * m->bins, m->bins);
    mlprt_pred_feature_name(p, k, name, sizeof name);
    fputs(k ? ",{\"feature\":" : "{\"feature\":", f);
    mlprt_json_put(f, name);
    fprintf(f, ",\"psi\":%.17g}", psi);
    if (psi > p->drift_threshold) {
      if (d) {
        fputs(nd++ ? "," : "", d);
        mlprt_json_put(d, name);
      }
      size_t w = strlen(warn);
      if (w < sizeof warn - 64)
        snprintf(warn + w, sizeof warn - w, "%s%s (PSI %.3f)", w ? ", " : "", name, psi);
    }
  }
  double psi = mlprt_psi(c + p->n_in * m->width, rows, p->pred_ref, m->npred);
  if (psi > p->drift_threshold) {
    if (d) {
      fputs(nd++ ? "," : "", d);
      mlprt_json_put(d, "predictions");
    }
    size_t w = strlen(warn);
    snprintf(warn + w, sizeof warn - w, "%spredictions (PSI %.3f)", w ? ", " : "", psi);
  }
  if (d) fclose(d);
  fprintf(f, "],\"drifted\":[%s],\"predictions\":%.17g}", drifted ? drifted : "", psi);
  free(drifted);
  if (*warn)
    fprintf(stderr, "drift in rows %lld-%lld beyond PSI %g: %s\n", (long long)first, (long long)last,
            p->drift_threshold, warn);
}

void mlprt_pred_monitor_row(MlprtPredMonitor *m, int64_t row, const float *x, int state, int64_t cls,
                            const double *probs, const char *reason) {
  if (m->log) log_row(m, row, state, cls, probs, reason);
  m->last_row = row;
  if (!m->drift || !x || state != MLPRT_ROW_OK) return;
  const MlprtPredictor *p = m->p;
  for (int64_t f = 0; f < p->n_in; f++) {
    int64_t b = f * m->width + mlprt_bin_of(x[f], p->drift_edges + f * (m->bins - 1), m->bins);
    m->win[b]++, m->all[b]++;
  }
  int64_t pb = p->n_in * m->width +
               (p->task == MLPRT_TASK_REGRESSION ? mlprt_bin_of(probs[0], p->pred_edges, m->bins) : cls);
  m->win[pb]++, m->all[pb]++;
  m->nwin++, m->nall++;
  if (p->drift_window > 0 && m->nwin == p->drift_window) {
    if (ftell(m->windows) > 0) fputc(',', m->windows);
    check(m, m->windows, m->win, m->nwin, m->win_first, row);
    memset(m->win, 0, (size_t)((p->n_in + 1) * m->width) * sizeof *m->win);
    m->nwin = 0;
    m->win_first = row + 1;
  }
}

int mlprt_pred_monitor_close(MlprtPredMonitor *m) {
  int rc = 0;
  if (m->log && fclose(m->log) != 0) rc = -1;
  if (m->drift) {
    fclose(m->windows);
    /* the whole input's check warns on stderr, with or without a report */
    char *total = NULL;
    size_t tlen = 0;
    FILE *t = open_memstream(&total, &tlen);
    if (t && m->nall) check(m, t, m->all, m->nall, 1, m->last_row);
    if (t) fclose(t);
    if (m->drift_path) {
      FILE *f = fopen(m->drift_path, "w");
      bool ok = f && fprintf(f, "{\"threshold\":%.17g,\"window\":%lld,\"windows\":[%s],\"total\":%s}\n",
                             m->p->drift_threshold, (long long)m->p->drift_window,
                             m->windows_text ? m->windows_text : "", m->nall && total ? total : "null") >= 0;
      if (f && fclose(f) != 0) ok = false;
      if (!ok) {
        fprintf(stderr, "cannot write the drift report %s\n", m->drift_path);
        rc = -1;
      }
    }
    free(total);
    free(m->windows_text);
  }
  free(m->win);
  free(m->all);
  free(m);
  return rc;
}
