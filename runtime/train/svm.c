/* svm.c — a kernel support vector machine fitted on the training rows
 * (run.h's MLPRT_FIT_SVM). Consumes the gathered rows (train_int.h's
 * MlprtFitRows); produces the support vectors, their dual coefficients and
 * the intercepts in the layout mlprt_svm_forward reads (abi.def).
 *
 * C-SVC as libsvm solves it: one binary problem per pair of classes (i, j),
 * i < j, on the rows of those two classes, class i labelled +1. Each is
 * the dual  min 1/2 a'Qa - e'a  subject to 0 <= a <= C, y'a = 0,  by
 * sequential minimal optimization with libsvm's second-order working-set
 * selection (WSS2, Fan, Chen and Lin 2005), stopped when the maximal
 * violation falls under 1e-3 (libsvm's and scikit-learn's tol), without
 * shrinking. The intercept is minus the mean of y * gradient over the free
 * coefficients, or minus the middle of its bounds when none is free (one
 * bound when the other is open: a pair with rows of one class only votes
 * for it).
 *
 * epsilon-SVR (a numeric target, in its own units as libsvm reads it) as
 * libsvm solves it: the same solver on 2n coefficients, each row twice,
 * labelled +1 with linear term epsilon - target and -1 with epsilon +
 * target, each in [0, C]; a row's coefficient is the first's minus the
 * second's. The stored coefficients and intercept are divided by the
 * target's standard deviation (and the mean taken from the intercept), so
 * the machine answers the standardised target every regression answers.
 *
 * Kernel rows
 * are computed in double and kept in a cache of fixed size whose slots are
 * reused in turn, so the result depends on nothing but the rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/layers.h"
#include "mlp/tensor.h"
#include "train_int.h"

/* Bytes of kernel rows one pair's solver keeps. */
#define CACHE_BYTES ((size_t)256 << 20)
#define TOLERANCE 1e-3
#define TAU 1e-12

typedef struct {
  const float *x; /* the training rows */
  int64_t F;
  const int32_t *idx; /* [n] the problem's rows among them */
  const int8_t *y;    /* [n] +1 or -1 */
  const double *lin;  /* [n] the linear term, or NULL: -1 each */
  int64_t n, rows;    /* coefficients; distinct rows (coefficient t + rows repeats row t's), or n */
  int kernel, degree;
  double gamma, coef0;
  double *diag;     /* [n] K(t, t) */
  double *slots;    /* [nslots, n] cached rows of Q */
  int64_t *slot_of; /* [n] the row's slot, or -1 */
  int64_t *row_in;  /* [nslots] the row a slot holds, or -1 */
  int64_t nslots, next;
} Problem;

static double kern(const Problem *p, int64_t s, int64_t t) {
  const float *a = p->x + (int64_t)p->idx[s] * p->F, *b = p->x + (int64_t)p->idx[t] * p->F;
  return mlprt_svm_kernel(a, b, p->F, p->kernel, p->gamma, p->coef0, p->degree);
}

/* Row s of Q (Q_st = y_s y_t K(s, t)), from the cache or computed into the next slot. */
static const double *q_row(Problem *p, int64_t s) {
  if (p->slot_of[s] >= 0) return p->slots + p->slot_of[s] * p->n;
  int64_t k = p->next;
  p->next = (p->next + 1) % p->nslots;
  if (p->row_in[k] >= 0) p->slot_of[p->row_in[k]] = -1;
  p->row_in[k] = s;
  p->slot_of[s] = k;
  double *q = p->slots + k * p->n;
  for (int64_t t = 0; t < p->n; t++)
    q[t] = t < p->rows ? p->y[s] * p->y[t] * kern(p, s, t) : p->y[t] * p->y[t - p->rows] * q[t - p->rows];
  return q;
}

/* The dual coefficients a (y a is each row's coefficient) and the
 * intercept b (the decision is sum y a K + b) of one binary problem;
 * returns the solver's iterations. */
static int64_t solve(Problem *p, double C, double *a, double *b) {
  int64_t n = p->n;
  double *G = malloc((size_t)n * sizeof *G);
  for (int64_t t = 0; t < n; t++) {
    a[t] = 0;
    G[t] = p->lin ? p->lin[t] : -1;
    p->diag[t] = kern(p, t, t);
  }
  int64_t max_iter = 100 * n > 10000000 ? 100 * n : 10000000, iter = 0; /* libsvm's cap */
  for (; iter < max_iter; iter++) {
    /* i: the most violating index going up; j: the second-order best partner */
    double Gmax = -INFINITY, Gmax2 = -INFINITY, best = INFINITY;
    int64_t i = -1, j = -1;
    for (int64_t t = 0; t < n; t++) {
      if (p->y[t] > 0 ? a[t] < C : a[t] > 0) {
        double v = -p->y[t] * G[t];
        if (v >= Gmax) Gmax = v, i = t;
      }
    }
    if (i < 0) break;
    const double *Qi = q_row(p, i);
    for (int64_t t = 0; t < n; t++) {
      double diff, quad;
      if (p->y[t] > 0 ? a[t] > 0 : a[t] < C) {
        double v = p->y[t] * G[t];
        if (v >= Gmax2) Gmax2 = v;
        diff = Gmax + v;
        if (diff > 0) {
          quad = p->diag[i] + p->diag[t] - 2 * p->y[i] * p->y[t] * Qi[t];
          double obj = -(diff * diff) / (quad > 0 ? quad : TAU);
          if (obj <= best) best = obj, j = t;
        }
      }
    }
    if (Gmax + Gmax2 < TOLERANCE || j < 0) break;
    const double *Qj = q_row(p, j);
    Qi = q_row(p, i); /* j's row may have taken i's slot */
    double ai = a[i], aj = a[j];
    if (p->y[i] != p->y[j]) {
      double quad = p->diag[i] + p->diag[j] + 2 * Qi[j];
      double delta = (-G[i] - G[j]) / (quad > 0 ? quad : TAU), diff = a[i] - a[j];
      a[i] += delta;
      a[j] += delta;
      if (diff > 0 && a[j] < 0) a[j] = 0, a[i] = diff;
      else if (diff <= 0 && a[i] < 0) a[i] = 0, a[j] = -diff;
      if (diff > 0 && a[i] > C) a[i] = C, a[j] = C - diff;
      else if (diff <= 0 && a[j] > C) a[j] = C, a[i] = C + diff;
    } else {
      double quad = p->diag[i] + p->diag[j] - 2 * Qi[j];
      double delta = (G[i] - G[j]) / (quad > 0 ? quad : TAU), sum = a[i] + a[j];
      a[i] -= delta;
      a[j] += delta;
      if (sum > C && a[i] > C) a[i] = C, a[j] = sum - C;
      else if (sum <= C && a[j] < 0) a[j] = 0, a[i] = sum;
      if (sum > C && a[j] > C) a[j] = C, a[i] = sum - C;
      else if (sum <= C && a[i] < 0) a[i] = 0, a[j] = sum;
    }
    double di = a[i] - ai, dj = a[j] - aj;
    for (int64_t t = 0; t < n; t++) G[t] += Qi[t] * di + Qj[t] * dj;
  }
  /* libsvm's rho, negated: the mean of -y G over the free coefficients */
  double ub = INFINITY, lb = -INFINITY, sum = 0;
  int64_t free_n = 0;
  for (int64_t t = 0; t < n; t++) {
    double yg = p->y[t] * G[t];
    if (a[t] >= C) {
      if (p->y[t] < 0) ub = fmin(ub, yg);
      else lb = fmax(lb, yg);
    } else if (a[t] <= 0) {
      if (p->y[t] > 0) ub = fmin(ub, yg);
      else lb = fmax(lb, yg);
    } else {
      free_n++;
      sum += yg;
    }
  }
  *b = -(free_n > 0 ? sum / (double)free_n : isinf(lb) ? ub : isinf(ub) ? lb : (ub + lb) / 2);
  free(G);
  return iter;
}

/* The kernel's header floats of params. */
static void header(const MlprtModel *m, int64_t nsv, double gamma, float *params) {
  params[0] = (float)nsv;
  params[1] = (float)m->svm_kernel;
  params[2] = (float)gamma;
  params[3] = (float)m->svm_coef0;
  params[4] = (float)m->svm_degree;
}

/* epsilon-SVR on the rows' target; params in mlprt_svm_forward's layout for K = 1. */
static int64_t fit_svr(const MlprtFitRows *rows, const MlprtModel *m, double gamma, double y_mean,
                       double y_std, float *params) {
  int64_t n = rows->n, F = rows->F, n2 = 2 * n, sz = n2 ? n2 : 1;
  int32_t *idx = malloc((size_t)sz * sizeof *idx);
  int8_t *y = malloc((size_t)sz);
  double *lin = malloc((size_t)sz * sizeof *lin), *a = malloc((size_t)sz * sizeof *a);
  double *diag = malloc((size_t)sz * sizeof *diag);
  int64_t *slot_of = malloc((size_t)sz * sizeof *slot_of);
  for (int64_t t = 0; t < n; t++) {
    idx[t] = idx[t + n] = (int32_t)t;
    y[t] = 1, y[t + n] = -1;
    lin[t] = m->svm_epsilon - rows->target[t];
    lin[t + n] = m->svm_epsilon + rows->target[t];
  }
  for (int64_t t = 0; t < n2; t++) slot_of[t] = -1;
  int64_t cap = n2 > 0 ? (int64_t)(CACHE_BYTES / ((size_t)n2 * sizeof(double))) : 1;
  if (cap > n2) cap = n2;
  if (cap < 2) cap = 2;
  int64_t *row_in = malloc((size_t)cap * sizeof *row_in);
  for (int64_t k = 0; k < cap; k++) row_in[k] = -1;
  double *slots = malloc((size_t)cap * (size_t)sz * sizeof *slots), b;
  Problem p = {.x = rows->x, .F = F, .idx = idx, .y = y, .lin = lin, .n = n2, .rows = n,
               .kernel = (int)m->svm_kernel, .degree = (int)m->svm_degree, .gamma = gamma,
               .coef0 = m->svm_coef0, .diag = diag, .slots = slots, .slot_of = slot_of, .row_in = row_in,
               .nslots = cap, .next = 0};
  int64_t iterations = solve(&p, m->svm_c, a, &b), nsv = 0;
  float *sv = params + MLPRT_SVM_HEADER + 2;
  for (int64_t r = 0; r < n; r++) {
    double coef = a[r] - a[r + n];
    if (coef == 0) continue;
    float *o = sv + nsv++ * (F + 1);
    memcpy(o, rows->x + r * F, (size_t)F * sizeof *o);
    o[F] = (float)(coef / y_std);
  }
  header(m, nsv, gamma, params);
  params[MLPRT_SVM_HEADER] = (float)nsv;
  params[MLPRT_SVM_HEADER + 1] = (float)((b - y_mean) / y_std);
  free(idx), free(y), free(lin), free(a), free(diag), free(slot_of), free(row_in), free(slots);
  return iterations;
}

int64_t mlprt_fit_svm(const MlprtFitRows *rows, const MlprtModel *m, double y_mean, double y_std,
                      float *params) {
  int64_t n = rows->n, F = rows->F;
  int K = rows->nclasses, P = K * (K - 1) / 2;
  MLPRT_CHECK((K >= 2 || rows->target) && n <= m->svm_rows, "bad svm problem");
  /* gamma: given, or scikit-learn's 'scale', 1 / (F * the variance of every training value) */
  double gamma = m->svm_gamma;
  if (!(gamma > 0)) {
    double s = 0, ss = 0;
    for (int64_t k = 0; k < n * F; k++) s += rows->x[k];
    double mean = n * F > 0 ? s / (double)(n * F) : 0;
    for (int64_t k = 0; k < n * F; k++) ss += (rows->x[k] - mean) * (rows->x[k] - mean);
    double var = n * F > 0 ? ss / (double)(n * F) : 0;
    gamma = var > 0 ? 1.0 / ((double)F * var) : 1.0;
  }
  if (rows->target) return fit_svr(rows, m, gamma, y_mean, y_std, params);
  /* the rows of each class, in order */
  int64_t *count = calloc((size_t)K, sizeof *count), *start = calloc((size_t)K + 1, sizeof *start);
  for (int64_t r = 0; r < n; r++) count[rows->label[r]]++;
  for (int k = 0; k < K; k++) start[k + 1] = start[k] + count[k];
  int32_t *by_class = malloc((size_t)(n ? n : 1) * sizeof *by_class);
  int32_t *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
  int64_t *fill = calloc((size_t)K, sizeof *fill);
  for (int64_t r = 0; r < n; r++) by_class[start[rows->label[r]] + fill[rows->label[r]]++] = (int32_t)r;
  /* coef[r * (K - 1) + c]: row r's coefficient in its pairs with the other classes (libsvm's layout) */
  double *coef = calloc((size_t)(n ? n : 1) * (size_t)(K - 1), sizeof *coef);
  double *bias = calloc((size_t)(P ? P : 1), sizeof *bias);
  Problem p = {.x = rows->x, .F = F, .idx = idx, .kernel = (int)m->svm_kernel, .degree = (int)m->svm_degree,
               .gamma = gamma, .coef0 = m->svm_coef0};
  int8_t *y = malloc((size_t)(n ? n : 1));
  double *a = malloc((size_t)(n ? n : 1) * sizeof *a);
  double *diag = malloc((size_t)(n ? n : 1) * sizeof *diag);
  int64_t *slot_of = malloc((size_t)(n ? n : 1) * sizeof *slot_of), iterations = 0;
  int64_t cap = n > 0 ? (int64_t)(CACHE_BYTES / ((size_t)n * sizeof(double))) : 1;
  if (cap > n) cap = n;
  if (cap < 2) cap = 2;
  int64_t *row_in = malloc((size_t)cap * sizeof *row_in);
  double *slots = malloc((size_t)cap * (size_t)(n ? n : 1) * sizeof *slots);
  int pair = 0;
  for (int ci = 0; ci < K; ci++)
    for (int cj = ci + 1; cj < K; cj++, pair++) {
      int64_t pn = 0;
      for (int64_t r = start[ci]; r < start[ci + 1]; r++) idx[pn] = by_class[r], y[pn++] = 1;
      for (int64_t r = start[cj]; r < start[cj + 1]; r++) idx[pn] = by_class[r], y[pn++] = -1;
      for (int64_t t = 0; t < pn; t++) slot_of[t] = -1;
      for (int64_t k = 0; k < cap; k++) row_in[k] = -1;
      p.idx = idx, p.y = y, p.n = p.rows = pn, p.diag = diag, p.slots = slots, p.slot_of = slot_of;
      p.row_in = row_in, p.nslots = pn < cap ? (pn > 2 ? pn : 2) : cap, p.next = 0;
      iterations += solve(&p, m->svm_c, a, &bias[pair]);
      /* class i's rows keep their coefficient against j in slot j - 1, class j's against i in slot i */
      for (int64_t t = 0; t < pn; t++)
        coef[(int64_t)idx[t] * (K - 1) + (y[t] > 0 ? cj - 1 : ci)] = y[t] * a[t];
    }
  /* the support vectors: rows with a nonzero coefficient, class by class */
  int64_t H = MLPRT_SVM_HEADER + K + P, rec = F + K - 1, nsv = 0;
  float *sv = params + H;
  for (int k = 0; k < K; k++) {
    int64_t nk = 0;
    for (int64_t s = start[k]; s < start[k + 1]; s++) {
      int64_t r = by_class[s];
      bool support = false;
      for (int c = 0; c < K - 1; c++) support |= coef[r * (K - 1) + c] != 0;
      if (!support) continue;
      float *o = sv + nsv * rec;
      memcpy(o, rows->x + r * F, (size_t)F * sizeof *o);
      for (int c = 0; c < K - 1; c++) o[F + c] = (float)coef[r * (K - 1) + c];
      nsv++, nk++;
    }
    params[MLPRT_SVM_HEADER + k] = (float)nk;
  }
  header(m, nsv, gamma, params);
  for (int q = 0; q < P; q++) params[MLPRT_SVM_HEADER + K + q] = (float)bias[q];
  free(count), free(start), free(by_class), free(idx), free(fill), free(coef), free(bias);
  free(y), free(a), free(diag), free(slot_of), free(row_in), free(slots);
  return iterations;
}
