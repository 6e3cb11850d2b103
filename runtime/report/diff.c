/* diff.c — two finished runs compared: their settings (the kept job's
 * hyperparameters, the tuning winner's settings, the model's size, the
 * spec and data digests), their final metrics, and each class's scores,
 * as a text table and optionally one self-contained HTML file. Consumes
 * the two sealed manifests; produces text on a stream and the HTML file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* One compared value: its part, name, the two sides as text ("-" where a
 * run has none) and their difference when both are numbers. */
typedef struct {
  const char *part;
  char *name, *a, *b;
  double delta; /* NaN: not two numbers */
} Row;

typedef struct {
  Row *rows;
  int n, cap;
} Rows;

static char *value_text(const cJSON *v) {
  if (!v) return strdup("-");
  if (cJSON_IsString(v)) return strdup(v->valuestring);
  if (cJSON_IsNumber(v)) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.6g", v->valuedouble);
    return strdup(buf);
  }
  if (cJSON_IsBool(v)) return strdup(cJSON_IsTrue(v) ? "true" : "false");
  return cJSON_PrintUnformatted(v);
}

static void add(Rows *t, const char *part, const char *name, const cJSON *a, const cJSON *b) {
  if (t->n == t->cap)
    t->rows = realloc(t->rows, (size_t)(t->cap = t->cap ? 2 * t->cap : 64) * sizeof *t->rows);
  Row *r = &t->rows[t->n++];
  r->part = part;
  r->name = strdup(name);
  r->a = value_text(a);
  r->b = value_text(b);
  r->delta = cJSON_IsNumber(a) && cJSON_IsNumber(b) ? b->valuedouble - a->valuedouble : NAN;
}

/* Every leaf of two objects under prefix, A's keys first then B's own,
 * only where they differ when changed_only. */
static void leaves(Rows *t, const char *part, const char *prefix, const cJSON *a, const cJSON *b,
                   bool changed_only) {
  for (int side = 0; side < 2; side++) {
    const cJSON *c, *from = side ? b : a;
    cJSON_ArrayForEach(c, from) {
      const cJSON *other = cJSON_GetObjectItemCaseSensitive(side ? a : b, c->string);
      if (side && other) continue; /* met from A already */
      const cJSON *va = side ? NULL : c, *vb = side ? c : other;
      char name[256];
      snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", c->string);
      if (cJSON_IsObject(va ? va : vb) && (!va || !vb || cJSON_IsObject(va) == cJSON_IsObject(vb))) {
        leaves(t, part, name, va, vb, changed_only);
        continue;
      }
      if (changed_only && va && vb && cJSON_Compare(va, vb, true)) continue;
      add(t, part, name, va, vb);
    }
  }
}

static const cJSON *get(const cJSON *o, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The kept job of a manifest (report.job, else the first). */
static const cJSON *kept_job(const cJSON *man) {
  const cJSON *j, *want = get(get(man, "report"), "job");
  cJSON_ArrayForEach(j, get(man, "jobs")) if (!cJSON_IsNumber(want) ||
                                              cJSON_Compare(get(j, "job"), want, true)) return j;
  return NULL;
}

/* The scores of the split a run's metrics are measured on. */
static const cJSON *final_scores(const cJSON *man) {
  const cJSON *m = get(man, "metrics"), *on = get(m, "evaluated_on");
  return get(m, cJSON_IsString(on) ? on->valuestring : "validation");
}

static cJSON *load(const char *dir, char *err, size_t n) {
  if (mlprt_manifest_verify(dir, err, n) != 0) return NULL;
  size_t size;
  char *path = mlprt_path_join(dir, "manifest.json");
  char *text = mlprt_read_whole(path, &size);
  cJSON *man = text ? cJSON_ParseWithLength(text, size) : NULL;
  if (!man) snprintf(err, n, "cannot read '%s'", path);
  free(text);
  free(path);
  return man;
}

static void compare(Rows *t, const cJSON *a, const cJSON *b) {
  /* Settings: what differs. */
  leaves(t, "settings", "", get(kept_job(a), "hyperparameters"), get(kept_job(b), "hyperparameters"), true);
  leaves(t, "settings", "tuning", get(get(a, "tuning"), "best_settings"),
         get(get(b, "tuning"), "best_settings"), true);
  leaves(t, "settings", "model", get(get(a, "report"), "model"), get(get(b, "report"), "model"), true);
  const char *const digests[] = {"spec", "data"};
  for (int i = 0; i < 2; i++) {
    const cJSON *da = get(get(a, digests[i]), "sha256"), *db = get(get(b, digests[i]), "sha256");
    char name[32];
    snprintf(name, sizeof name, "%s.sha256", digests[i]);
    if (!cJSON_Compare(da, db, true)) add(t, "settings", name, da, db);
  }
  /* Metrics: every one, changed or not. */
  const cJSON *sa = final_scores(a), *sb = final_scores(b), *c;
  cJSON_ArrayForEach(c, sa) if (cJSON_IsNumber(c)) add(t, "metrics", c->string, c, get(sb, c->string));
  cJSON_ArrayForEach(c, sb) if (cJSON_IsNumber(c) && !get(sa, c->string))
      add(t, "metrics", c->string, NULL, c);
  /* Each class's scores, by name. */
  const cJSON *pa = get(sa, "per_class"), *pb = get(sb, "per_class"), *ka, *kb;
  const char *const scores[] = {"precision", "recall", "f1", "support"};
  cJSON_ArrayForEach(ka, pa) {
    const cJSON *match = NULL;
    cJSON_ArrayForEach(kb, pb) if (cJSON_Compare(get(kb, "class"), get(ka, "class"), true)) match = kb;
    for (int i = 0; i < 4; i++) {
      char name[256];
      snprintf(name, sizeof name, "%s.%s", cJSON_GetStringValue(get(ka, "class")), scores[i]);
      add(t, "per class", name, get(ka, scores[i]), get(match, scores[i]));
    }
  }
}

static void text_table(FILE *out, const Rows *t, const char *dir_a, const char *dir_b) {
  fprintf(out, "A: %s\nB: %s\n", dir_a, dir_b);
  const char *part = NULL;
  for (int i = 0; i < t->n; i++) {
    const Row *r = &t->rows[i];
    if (!part || strcmp(part, r->part) != 0) {
      part = r->part;
      fprintf(out, "\n%s\n  %-36s %-16s %-16s %s\n", part, "", "A", "B", "B - A");
    }
    char delta[32] = "";
    if (!isnan(r->delta)) snprintf(delta, sizeof delta, "%+.6g", r->delta);
    fprintf(out, "  %-36s %-16s %-16s %s\n", r->name, r->a, r->b, delta);
  }
  if (!t->n) fputs("\nno settings or metrics to compare\n", out);
  bool any_setting = false;
  for (int i = 0; i < t->n; i++) any_setting |= strcmp(t->rows[i].part, "settings") == 0;
  if (!any_setting) fputs("\nsettings: the same\n", out);
}

static int html_table(const char *path, const Rows *t, const char *dir_a, const char *dir_b) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -1;
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mlpc diff</title>\n<style>"
        "body{font-family:sans-serif;max-width:64em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}.up{color:#2ca02c}.down{color:#d62728}"
        "</style></head><body>\n<h1>Two runs compared</h1>\n<p>A: <code>",
        f);
  mlprt_html_text(f, dir_a);
  fputs("</code><br>B: <code>", f);
  mlprt_html_text(f, dir_b);
  fputs("</code></p>\n", f);
  const char *part = NULL;
  for (int i = 0; i < t->n; i++) {
    const Row *r = &t->rows[i];
    if (!part || strcmp(part, r->part) != 0) {
      if (part) fputs("</table>\n", f);
      part = r->part;
      fprintf(f, "<h2 id=\"%s\">%s</h2>\n<table><tr><th></th><th>A</th><th>B</th><th>B - A</th></tr>\n",
              strcmp(part, "per class") == 0 ? "per_class" : part, part);
    }
    fputs("<tr><td>", f);
    mlprt_html_text(f, r->name);
    fputs("</td><td>", f);
    mlprt_html_text(f, r->a);
    fputs("</td><td>", f);
    mlprt_html_text(f, r->b);
    if (isnan(r->delta)) fputs("</td><td>", f);
    else
      fprintf(f, "</td><td class=\"%s\">%+.6g",
              r->delta > 0   ? "up"
              : r->delta < 0 ? "down"
                             : "same",
              r->delta);
    fputs("</td></tr>\n", f);
  }
  if (part) fputs("</table>\n", f);
  return mlprt_html_close(f, &text, &len, path);
}

int mlprt_run_diff(const char *dir_a, const char *dir_b, FILE *out, const char *html, char *err, size_t n) {
  cJSON *a = load(dir_a, err, n);
  cJSON *b = a ? load(dir_b, err, n) : NULL;
  if (!a || !b) {
    cJSON_Delete(a);
    return -1;
  }
  Rows t = {0};
  compare(&t, a, b);
  text_table(out, &t, dir_a, dir_b);
  int rc = 0;
  if (html && html_table(html, &t, dir_a, dir_b) != 0) {
    snprintf(err, n, "cannot write '%s': %s", html, strerror(errno));
    rc = -1;
  }
  for (int i = 0; i < t.n; i++) free(t.rows[i].name), free(t.rows[i].a), free(t.rows[i].b);
  free(t.rows);
  cJSON_Delete(a);
  cJSON_Delete(b);
  return rc;
}
