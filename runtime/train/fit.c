/* fit.c — the models that are not trained by epochs: baselines and linear
 * models, solved on all the training rows at once (see run.h's
 * MLPRT_FIT_*). Consumes the gathered training rows (train_int.h's
 * MlprtFitRows); produces a baseline's constant outputs, or the weights of
 * the one dense layer a linear model is, in the layout the generated
 * forward reads ([n_out, n_in] weights, then [n_out] biases).
 *
 * The linear model minimises, over W and b,
 *
 *   mean loss + l1 * sum |W| + l2 / 2 * sum W^2        (b is not penalised)
 *
 * where the loss is half the squared error of the target in its own units
 * (regression), the logistic loss of one sigmoid unit (two classes) or the
 * softmax cross-entropy (more). This is scikit-learn's ElasticNet objective
 * (alpha * l1_ratio = l1, alpha * (1 - l1_ratio) = l2); LogisticRegression's
 * C is l2 = 1 / (C * rows), and Ridge's alpha is l2 = alpha / rows. With
 * the hinge or squared hinge loss it is a linear support vector machine per
 * class, solved as liblinear solves LinearSVC (svm_dual below).
 * Least squares without an L1 penalty is solved exactly (the normal
 * equations of the centred rows, by Cholesky); everything else by FISTA,
 * accelerated proximal gradient with a backtracking step and a restart of
 * the momentum whenever the objective rises, for at most `iterations`
 * steps, stopping when no weight moves by more than 1e-9 of the largest.
 * Every sum runs in double precision, in blocks of rows in order: the
 * result is the same whatever the thread count while the run is
 * deterministic (matrix products on one thread). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

/* ---- baselines ------------------------------------------------------------ */

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static double median_of(const float *v, int64_t n) {
  if (n == 0) return 0;
  float *s = malloc((size_t)n * sizeof *s);
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_float);
  double m = n % 2 ? s[n / 2] : 0.5 * ((double)s[n / 2 - 1] + (double)s[n / 2]);
  free(s);
  return m;
}

/* The class frequencies of the rows into p [nclasses]; returns the most
 * frequent class (the first of a tie). */
static int class_freqs(const MlprtFitRows *rows, double *p) {
  int nc = rows->nclasses, best = 0;
  for (int k = 0; k < nc; k++) p[k] = 0;
  for (int64_t i = 0; i < rows->n; i++) p[rows->label[i]] += 1;
  for (int k = 1; k < nc; k++)
    if (p[k] > p[best]) best = k;
  for (int k = 0; k < nc; k++) p[k] = rows->n ? p[k] / (double)rows->n : 0;
  return best;
}

/* A baseline's outputs in double, [K]. */
static void baseline_out(const MlprtFitRows *rows, int64_t fit, int64_t task, double y_mean, double y_std,
                         double *out) {
  if (task == MLPRT_TASK_REGRESSION) {
    double v = 0;
    if (fit == MLPRT_FIT_MEDIAN) {
      v = median_of(rows->target, rows->n);
    } else {
      for (int64_t i = 0; i < rows->n; i++) v += rows->target[i];
      v = rows->n ? v / (double)rows->n : 0;
    }
    out[0] = (v - y_mean) / y_std;
    return;
  }
  double *p = malloc((size_t)rows->nclasses * sizeof *p);
  int best = class_freqs(rows, p);
  if (fit == MLPRT_FIT_MAJORITY)
    for (int k = 0; k < rows->nclasses; k++) p[k] = k == best;
  if (task == MLPRT_TASK_BINARY) out[0] = p[1];
  else memcpy(out, p, (size_t)rows->nclasses * sizeof *p);
  free(p);
}

void mlprt_fit_baseline(const MlprtFitRows *rows, int64_t fit, int64_t task, double y_mean, double y_std,
                        float *out) {
  int64_t k = task == MLPRT_TASK_MULTICLASS ? rows->nclasses : 1;
  double *o = malloc((size_t)k * sizeof *o);
  baseline_out(rows, fit, task, y_mean, y_std, o);
  for (int64_t i = 0; i < k; i++) out[i] = (float)o[i];
  free(o);
}

/* ---- the linear model's objective ----------------------------------------- */

/* Rows the objective takes at a time: their features as doubles, for the
 * two matrix products of a block. */
enum { BLOCK = 256 };

typedef struct {
  const MlprtFitRows *rows;
  int64_t task, K, F;
  double l1, l2;
  double *xb, *zb; /* [BLOCK, F] and [BLOCK, K] scratch: a block's features and outputs */
} Problem;

/* The smooth part (mean loss + l2 / 2 |W|^2) at theta = W [K, F] then
 * b [K]; its gradient into g when g is not NULL. Blocks of rows in order:
 * Z = X W' + b and the gradient's dZ' X are double-precision GEMMs (one
 * BLAS thread while the run is deterministic). */
static double smooth(const Problem *pr, const double *theta, double *g) {
  const MlprtFitRows *r = pr->rows;
  int64_t K = pr->K, F = pr->F, P = K * F + K;
  const double *W = theta, *b = theta + K * F;
  double *xb = pr->xb, loss = 0;
  if (g) memset(g, 0, (size_t)P * sizeof *g);
  for (int64_t start = 0; start < r->n; start += BLOCK) {
    int64_t nb = r->n - start < BLOCK ? r->n - start : BLOCK;
    for (int64_t j = 0; j < nb * F; j++) xb[j] = r->x[start * F + j];
    for (int64_t i = 0; i < nb; i++) memcpy(pr->zb + i * K, b, (size_t)K * sizeof *b);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)K, (int)F, 1.0, xb, (int)F, W, (int)F,
                1.0, pr->zb, (int)K);
    for (int64_t i = 0; i < nb; i++) {
      /* z becomes d loss / d z */
      double *z = pr->zb + i * K;
      int64_t row = start + i;
      if (pr->task == MLPRT_TASK_REGRESSION) {
        double e = z[0] - r->target[row];
        loss += 0.5 * e * e;
        z[0] = e;
      } else if (pr->task == MLPRT_TASK_BINARY) {
        double y = r->label[row] == 1, v = z[0];
        /* log(1 + e^v) - y v, without overflow */
        loss += (v > 0 ? v + log1p(exp(-v)) : log1p(exp(v))) - y * v;
        z[0] = 1 / (1 + exp(-v)) - y;
      } else {
        double mx = z[0], sum = 0;
        for (int64_t k = 1; k < K; k++) mx = fmax(mx, z[k]);
        for (int64_t k = 0; k < K; k++) sum += exp(z[k] - mx);
        loss += mx + log(sum) - z[r->label[row]];
        for (int64_t k = 0; k < K; k++) z[k] = exp(z[k] - mx) / sum - (k == r->label[row]);
      }
      if (g)
        for (int64_t k = 0; k < K; k++) g[K * F + k] += z[k];
    }
    if (g)
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)F, (int)nb, 1.0, pr->zb, (int)K, xb,
                  (int)F, 1.0, g, (int)F);
  }
  double inv = r->n ? 1.0 / (double)r->n : 0, sq = 0;
  for (int64_t j = 0; j < K * F; j++) sq += W[j] * W[j];
  if (g)
    for (int64_t j = 0; j < P; j++) g[j] = g[j] * inv + (j < K * F ? pr->l2 * theta[j] : 0);
  return loss * inv + 0.5 * pr->l2 * sq;
}

static double l1_term(const Problem *pr, const double *theta) {
  double s = 0;
  for (int64_t j = 0; j < pr->K * pr->F; j++) s += fabs(theta[j]);
  return pr->l1 * s;
}

/* FISTA from theta = 0; the solution into theta. Returns the iterations. */
static int64_t fista(const Problem *pr, double *theta, int64_t iters) {
  int64_t P = pr->K * pr->F + pr->K, nw = pr->K * pr->F, it = 0;
  double *x = theta, *y = calloc((size_t)P, sizeof *y), *g = malloc((size_t)P * sizeof *g);
  double *zn = malloc((size_t)P * sizeof *zn);
  memset(x, 0, (size_t)P * sizeof *x);
  double L = 1, t = 1, fx = smooth(pr, x, NULL) + l1_term(pr, x);
  while (it < iters) {
    it++;
    double fy = smooth(pr, y, g), fz = 0;
    for (int tries = 0; tries < 100; tries++, L *= 2) {
      double quad = 0, lin = 0;
      for (int64_t j = 0; j < P; j++) {
        double v = y[j] - g[j] / L;
        if (j < nw) v = v > pr->l1 / L ? v - pr->l1 / L : v < -pr->l1 / L ? v + pr->l1 / L : 0;
        zn[j] = v;
        lin += g[j] * (v - y[j]);
        quad += (v - y[j]) * (v - y[j]);
      }
      fz = smooth(pr, zn, NULL);
      if (fz <= fy + lin + 0.5 * L * quad + 1e-15 * fabs(fy)) break;
    }
    double Fz = fz + l1_term(pr, zn), move = 0, big = 1;
    if (Fz > fx && t > 1) {
      /* The momentum overshot: restart it from the last iterate. */
      t = 1;
      memcpy(y, x, (size_t)P * sizeof *y);
      continue;
    }
    double t1 = (1 + sqrt(1 + 4 * t * t)) / 2;
    for (int64_t j = 0; j < P; j++) {
      move = fmax(move, fabs(zn[j] - x[j]));
      big = fmax(big, fabs(zn[j]));
      y[j] = zn[j] + (t - 1) / t1 * (zn[j] - x[j]);
      x[j] = zn[j];
    }
    t = t1;
    fx = Fz;
    if (move <= 1e-9 * big) break;
  }
  free(y);
  free(g);
  free(zn);
  return it;
}

/* Class k against the rest (for one sigmoid unit, class 1 against 0) as a
 * linear support vector machine, min 1/2 |w|^2 + C sum loss(y w.x), with
 * C = 1 / (l2 * rows) (infinite for l2 = 0: the hard margin) and the intercept a feature of value 1 penalised
 * like the weights (liblinear's, so scikit-learn's LinearSVC), by dual
 * coordinate descent (Hsieh et al., 2008) over the rows in order; the
 * weights then the intercept into w [F + 1]. Returns the passes made. */
static int64_t svm_dual(const Problem *pr, int64_t k, bool squared, int64_t iters, double *w) {
  const MlprtFitRows *r = pr->rows;
  int64_t n = r->n, F = pr->F, it = 0;
  double C = pr->l2 > 0 ? 1 / (pr->l2 * (double)(n ? n : 1)) : INFINITY; /* l2 = 0: the hard margin */
  double upper = squared ? INFINITY : C, diag = squared ? 1 / (2 * C) : 0;
  double *alpha = calloc((size_t)(n ? n : 1), sizeof *alpha), *q = malloc((size_t)(n ? n : 1) * sizeof *q);
  for (int64_t i = 0; i < n; i++) {
    q[i] = diag + 1;
    for (int64_t f = 0; f < F; f++) q[i] += (double)r->x[i * F + f] * r->x[i * F + f];
  }
  memset(w, 0, (size_t)(F + 1) * sizeof *w);
  while (it < iters) {
    it++;
    double hi = -INFINITY, lo = INFINITY;
    for (int64_t i = 0; i < n; i++) {
      const float *x = r->x + i * F;
      double y = r->label[i] == k ? 1 : -1, g = w[F];
      for (int64_t f = 0; f < F; f++) g += w[f] * x[f];
      g = y * g - 1 + diag * alpha[i];
      /* the gradient projected on the box [0, upper] */
      double pg = alpha[i] <= 0 ? fmin(g, 0) : alpha[i] >= upper ? fmax(g, 0) : g;
      hi = fmax(hi, pg);
      lo = fmin(lo, pg);
      if (pg == 0) continue;
      double old = alpha[i];
      alpha[i] = fmin(fmax(old - g / q[i], 0), upper);
      double d = (alpha[i] - old) * y;
      for (int64_t f = 0; f < F; f++) w[f] += d * x[f];
      w[F] += d;
    }
    if (hi - lo <= 1e-6) break;
  }
  free(alpha);
  free(q);
  return it;
}

/* In-place Cholesky of the SPD matrix a [n, n] (lower triangle); false when
 * it is not positive definite. */
static bool cholesky(double *a, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    double d = a[j * n + j];
    for (int64_t k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = sqrt(d);
    a[j * n + j] = d;
    for (int64_t i = j + 1; i < n; i++) {
      double s = a[i * n + j];
      for (int64_t k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  return true;
}

/* Least squares with an L2 penalty, exactly: (Xc'Xc / n + l2 I) w = Xc'tc / n
 * over the centred rows, b = mean(t) - mean(x) w. A singular system (a
 * constant or duplicated column without a penalty) gets the smallest ridge
 * that makes it solvable, which leaves the predictions as they were. */
static void least_squares(const Problem *pr, double *theta) {
  const MlprtFitRows *r = pr->rows;
  int64_t F = pr->F, n = r->n;
  double *mu = calloc((size_t)F + 1, sizeof *mu), tm = 0;
  for (int64_t i = 0; i < n; i++) {
    for (int64_t f = 0; f < F; f++) mu[f] += r->x[i * F + f];
    tm += r->target[i];
  }
  for (int64_t f = 0; f < F; f++) mu[f] /= n ? (double)n : 1;
  tm /= n ? (double)n : 1;
  double *A = calloc((size_t)(F * F) + 1, sizeof *A), *rhs = calloc((size_t)F + 1, sizeof *rhs);
  double *xc = malloc(((size_t)F + 1) * sizeof *xc);
  for (int64_t i = 0; i < n; i++) {
    for (int64_t f = 0; f < F; f++) xc[f] = r->x[i * F + f] - mu[f];
    double tc = r->target[i] - tm;
    for (int64_t a = 0; a < F; a++) {
      rhs[a] += xc[a] * tc;
      for (int64_t b = 0; b <= a; b++) A[a * F + b] += xc[a] * xc[b];
    }
  }
  double trace = 0;
  for (int64_t a = 0; a < F; a++) {
    rhs[a] /= n ? (double)n : 1;
    for (int64_t b = 0; b <= a; b++) A[a * F + b] /= n ? (double)n : 1;
    trace += A[a * F + a];
  }
  double *C = malloc((size_t)(F * F + 1) * sizeof *C), ridge = 0;
  for (int tries = 0;; tries++) {
    memcpy(C, A, (size_t)(F * F) * sizeof *C);
    for (int64_t a = 0; a < F; a++) C[a * F + a] += pr->l2 + ridge;
    if (cholesky(C, F) || tries == 30) break;
    ridge = ridge > 0 ? ridge * 10 : 1e-12 * (trace / (double)(F ? F : 1) + 1);
  }
  /* C C' w = rhs: forward, then back substitution. */
  double *w = theta;
  for (int64_t a = 0; a < F; a++) {
    double s = rhs[a];
    for (int64_t k = 0; k < a; k++) s -= C[a * F + k] * w[k];
    w[a] = s / C[a * F + a];
  }
  for (int64_t a = F - 1; a >= 0; a--) {
    double s = w[a];
    for (int64_t k = a + 1; k < F; k++) s -= C[k * F + a] * w[k];
    w[a] = s / C[a * F + a];
  }
  double b = tm;
  for (int64_t f = 0; f < F; f++) b -= mu[f] * w[f];
  theta[F] = b;
  free(mu);
  free(A);
  free(rhs);
  free(xc);
  free(C);
}

int64_t mlprt_fit_model(const MlprtFitRows *rows, const MlprtModel *m, double l1, double l2, double y_mean,
                        double y_std, float *params) {
  int64_t K = m->n_out, F = m->n_in, P = K * F + K, iters = 0;
  double *theta = calloc((size_t)P, sizeof *theta);
  if (m->l2_per_row) l2 = rows->n ? l2 / (double)rows->n : 0;
  if (m->fit == MLPRT_FIT_HINGE || m->fit == MLPRT_FIT_SQUARED_HINGE) {
    Problem pr = {rows, m->task, K, F, 0, l2, NULL, NULL};
    double *w = malloc((size_t)(F + 1) * sizeof *w);
    for (int64_t k = 0; k < K; k++) {
      /* one sigmoid unit scores class 1 */
      int64_t passes = svm_dual(&pr, K == 1 ? 1 : k, m->fit == MLPRT_FIT_SQUARED_HINGE, m->iterations, w);
      if (passes > iters) iters = passes;
      memcpy(theta + k * F, w, (size_t)F * sizeof *w);
      theta[K * F + k] = w[F];
    }
    free(w);
  } else if (m->fit != MLPRT_FIT_LINEAR) {
    /* W = 0; b makes the activation give the baseline's outputs. */
    double *o = malloc((size_t)K * sizeof *o);
    baseline_out(rows, m->fit, m->task, y_mean, y_std, o);
    for (int64_t k = 0; k < K; k++) {
      double p = fmin(fmax(o[k], 1e-13), 1 - 1e-13);
      theta[K * F + k] = m->task == MLPRT_TASK_REGRESSION ? o[k]
                         : m->task == MLPRT_TASK_BINARY   ? log(p / (1 - p))
                                                          : log(p);
    }
    free(o);
  } else {
    Problem pr = {rows, m->task, K, F, l1, l2, malloc((size_t)(BLOCK * F) * sizeof(double)),
                  malloc((size_t)(BLOCK * K) * sizeof(double))};
    if (m->task == MLPRT_TASK_REGRESSION && pr.l1 == 0) least_squares(&pr, theta);
    else iters = fista(&pr, theta, m->iterations);
    free(pr.xb);
    free(pr.zb);
    if (m->task == MLPRT_TASK_REGRESSION) {
      /* From the target's units to the standardised output the model makes. */
      for (int64_t f = 0; f < F; f++) theta[f] /= y_std;
      theta[F] = (theta[F] - y_mean) / y_std;
    }
  }
  for (int64_t j = 0; j < P; j++) params[j] = (float)theta[j];
  free(theta);
  return iters;
}
