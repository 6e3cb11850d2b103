/* boost.c — gradient-boosted trees fitted on the training rows (run.h's
 * MLPRT_FIT_BOOST). Consumes the gathered training and validation rows
 * (train_int.h's MlprtFitRows); produces the trees and base scores in the
 * layout mlprt_boost_forward walks, and the rounds kept.
 *
 * In the histogram style of LightGBM, XGBoost's `hist` and scikit-learn's
 * HistGradientBoosting: each feature is cut into at most max_bins bins once
 * (between neighbouring distinct values when there are few enough, else at
 * quantiles of the training rows), and a node's best split is a scan of its
 * per-bin sums of gradients and hessians. Trees grow depth-wise, one level
 * at a time: the histogram of the child with fewer rows is built from its
 * rows, its sibling's is the parent's minus it. A split maximises
 *   G_L^2 / (H_L + l2) + G_R^2 / (H_R + l2) - G^2 / (H + l2)
 * with each child's hessian at least min_child_weight, and must gain; a leaf
 * holds -learning_rate G / (H + l2). Losses: squared error on the
 * standardised target, logistic on two classes, softmax on K classes (K
 * trees a round, one per class, from the same round's probabilities). The
 * base scores are the training mean, the log-odds or the classes' log
 * frequencies. With subsample < 1 each round reads each row with that
 * probability, a Philox draw of (seed, round, row). With early stopping the
 * validation loss is measured after every round and the trees after the
 * best round are emptied.
 *
 * A histogram is filled feature by feature on up to `threads` threads, each
 * feature's bins summed over the node's rows in the same order whoever
 * fills it: the trees are the same bits for any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/layers.h"
#include "mlp/tensor.h"
#include "runtime/data/data_int.h"
#include "train_int.h"

/* The Philox stream site of the rows' draws (mlprt_rng_stream's step: the round). */
enum { SITE_SUBSAMPLE = 0x7f0011 };

typedef struct {
  int32_t lo, hi;  /* its rows: idx[lo, hi) */
  int64_t h;       /* heap index in the tree */
  double G, H;     /* sums of gradients and hessians */
  double *hist;    /* [total bins][2]: per-bin sums of g and h */
  bool build;      /* the histogram is built from the rows (else parent - sibling) */
} Node;

typedef struct {
  const MlprtFitRows *rows;
  const MlprtModel *m;
  int64_t n, F, total; /* rows, features, bins over all features */
  int K;               /* trees a round (outputs) */
  uint8_t *bins;       /* [n, F] each row's bin per feature */
  float *edges;        /* [F, 255]: bin b of feature f holds x <= edges[f * 255 + b] (b < nb[f] - 1) */
  int *nb;             /* [F] bins per feature */
  int64_t *off;        /* [F] the feature's first bin in a histogram */
  double *g, *h;       /* [n] the current tree's gradients and hessians */
  int32_t *idx, *tmp;  /* [n] rows of the tree's nodes, in node order */
  float *leaf;         /* [n] the value of the leaf each of the tree's rows reached */
  /* the histograms a level fills: its nodes to build, and the features' chunks */
  Node **todo;
  int ntodo, chunks;
  /* histograms of 2 * total doubles no node holds, kept for the next ones */
  double **spare;
  int nspare;
} Boost;

/* A zeroed histogram. */
static double *hist_get(Boost *b) {
  size_t bytes = (size_t)(2 * b->total) * sizeof(double);
  double *h = b->nspare ? b->spare[--b->nspare] : malloc(bytes);
  memset(h, 0, bytes);
  return h;
}

static void hist_put(Boost *b, double *h) {
  if (h) b->spare[b->nspare++] = h;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Feature f's bin edges from the sorted values v [n]. */
static void cut_feature(Boost *b, int64_t f, float *v) {
  int64_t n = b->n, maxb = b->m->max_bins, distinct = n > 0;
  float *e = b->edges + f * 255;
  for (int64_t i = 1; i < n; i++) distinct += v[i] > v[i - 1];
  int ne = 0;
  if (distinct <= maxb) {
    /* between neighbouring distinct values: at the midpoint, below the larger */
    for (int64_t i = 1; i < n; i++) {
      if (!(v[i] > v[i - 1])) continue;
      float t = (float)((double)v[i - 1] / 2 + (double)v[i] / 2);
      e[ne++] = t < v[i] ? t : v[i - 1];
    }
  } else {
    /* at quantiles: rows equal to an edge fall in its bin */
    for (int64_t q = 1; q < maxb; q++) {
      float t = v[q * n / maxb];
      if (t < v[n - 1] && (ne == 0 || t > e[ne - 1])) e[ne++] = t;
    }
  }
  b->nb[f] = ne + 1;
}

/* The bins of every feature, and every row's bin. */
static void make_bins(Boost *b) {
  const MlprtFitRows *rows = b->rows;
  int64_t n = b->n, F = b->F;
  float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
  b->total = 0;
  for (int64_t f = 0; f < F; f++) {
    for (int64_t i = 0; i < n; i++) v[i] = rows->x[i * F + f];
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    cut_feature(b, f, v);
    b->off[f] = b->total;
    b->total += b->nb[f];
  }
  free(v);
  for (int64_t i = 0; i < n; i++)
    for (int64_t f = 0; f < F; f++) {
      const float *e = b->edges + f * 255;
      float x = rows->x[i * F + f];
      int lo = 0, hi = b->nb[f] - 1; /* the edges below x */
      while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (e[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      b->bins[i * F + f] = (uint8_t)lo;
    }
}

/* Histogram task c: the chunk's features of every node the level builds. */
static void fill_chunk(void *ctx, int c) {
  Boost *b = ctx;
  int64_t F = b->F, f0 = F * c / b->chunks, f1 = F * (c + 1) / b->chunks;
  for (int k = 0; k < b->ntodo; k++) {
    const Node *nd = b->todo[k];
    double *hist = nd->hist;
    for (int32_t i = nd->lo; i < nd->hi; i++) {
      int32_t r = b->idx[i];
      double gr = b->g[r], hr = b->h[r];
      const uint8_t *bin = b->bins + (int64_t)r * F;
      for (int64_t f = f0; f < f1; f++) {
        double *at = hist + 2 * (b->off[f] + bin[f]);
        at[0] += gr;
        at[1] += hr;
      }
    }
  }
}

typedef struct {
  int64_t feature;
  int bin; /* rows of bins <= bin go left */
  double gain;
} Split;

/* The node's best split, or feature -1. */
static Split best_split(const Boost *b, const Node *nd) {
  const MlprtModel *m = b->m;
  double l2 = m->leaf_l2, mcw = m->min_child_weight, parent = nd->G * nd->G / (nd->H + l2);
  Split best = {-1, 0, 0};
  for (int64_t f = 0; f < b->F; f++) {
    const double *hist = nd->hist + 2 * b->off[f];
    double GL = 0, HL = 0;
    for (int k = 0; k + 1 < b->nb[f]; k++) {
      GL += hist[2 * k];
      HL += hist[2 * k + 1];
      double GR = nd->G - GL, HR = nd->H - HL;
      if (!(HL > 0 && HR > 0 && HL >= mcw && HR >= mcw)) continue;
      double gain = GL * GL / (HL + l2) + GR * GR / (HR + l2) - parent;
      if (gain > best.gain) best = (Split){f, k, gain};
    }
  }
  return best;
}

/* Node h at depth d becomes a leaf: its value goes to its leftmost leaf and
 * the nodes on the way there send every row left. */
static void make_leaf(const Boost *b, float *tree, const Node *nd, int d) {
  const MlprtModel *m = b->m;
  int64_t h = nd->h, inner = ((int64_t)1 << m->depth) - 1;
  for (; d < m->depth; d++) {
    tree[2 * h] = 0;
    tree[2 * h + 1] = INFINITY;
    h = 2 * h + 1;
  }
  double den = nd->H + m->leaf_l2;
  float v = den > 0 ? (float)(-m->learning_rate * nd->G / den) : 0.0f;
  tree[2 * inner + h - inner] = v;
  /* the node's rows are those x <= threshold sends its way: the predictor's walk ends here too */
  for (int32_t i = nd->lo; i < nd->hi; i++) b->leaf[b->idx[i]] = v;
}

/* One tree on rows idx[0, used) with the gradients in b->g, b->h. */
static void grow_tree(Boost *b, float *tree, int32_t used, int threads) {
  const MlprtModel *m = b->m;
  int64_t F = b->F, width = (int64_t)1 << m->depth;
  Node *level = malloc((size_t)width * sizeof *level), *next = malloc((size_t)width * sizeof *next);
  b->todo = malloc((size_t)width * sizeof *b->todo);
  level[0] = (Node){0, used, 0, 0, 0, hist_get(b), true};
  for (int32_t i = 0; i < used; i++) {
    level[0].G += b->g[b->idx[i]];
    level[0].H += b->h[b->idx[i]];
  }
  b->todo[0] = &level[0];
  b->ntodo = 1;
  int nlevel = 1;
  for (int d = 0;; d++) {
    mlprt_parallel_for(b->chunks, threads, fill_chunk, b);
    for (int i = 0; i < nlevel; i++) {
      Node *nd = &level[i];
      if (nd->build || !nd->hist) continue;
      /* parent - sibling: the parent's histogram was handed to this node, its sibling is built */
      const double *sib = level[i ^ 1].hist;
      for (int64_t k = 0; k < 2 * b->total; k++) nd->hist[k] -= sib[k];
    }
    int nnext = 0;
    b->ntodo = 0;
    for (int i = 0; i < nlevel; i++) {
      Node *nd = &level[i];
      Split s = d < m->depth ? best_split(b, nd) : (Split){-1, 0, 0};
      if (s.feature < 0) {
        make_leaf(b, tree, nd, d);
        hist_put(b, nd->hist);
        continue;
      }
      tree[2 * nd->h] = (float)s.feature;
      tree[2 * nd->h + 1] = b->edges[s.feature * 255 + s.bin];
      /* rows of the left bins first, each side in its earlier order */
      int32_t nl = 0, nr = 0;
      Node L = {nd->lo, 0, 2 * nd->h + 1, 0, 0, NULL, false};
      Node R = {0, nd->hi, 2 * nd->h + 2, 0, 0, NULL, false};
      for (int32_t k = nd->lo; k < nd->hi; k++) {
        int32_t r = b->idx[k];
        if (b->bins[(int64_t)r * F + s.feature] <= s.bin) {
          b->idx[nd->lo + nl++] = r;
          L.G += b->g[r];
          L.H += b->h[r];
        } else {
          b->tmp[nr++] = r;
        }
      }
      memcpy(b->idx + nd->lo + nl, b->tmp, (size_t)nr * sizeof *b->idx);
      L.hi = R.lo = nd->lo + nl;
      R.G = nd->G - L.G;
      R.H = nd->H - L.H;
      /* the smaller child is built; the larger takes the parent's histogram and subtracts it (at
       * the depth limit the children are leaves, which need only their sums) */
      bool left_small = nl <= nr, hists = d + 1 < m->depth;
      L.build = hists && left_small;
      R.build = hists && !left_small;
      L.hist = !hists ? NULL : left_small ? hist_get(b) : nd->hist;
      R.hist = !hists ? NULL : left_small ? nd->hist : hist_get(b);
      if (!hists) hist_put(b, nd->hist);
      next[nnext] = L;
      next[nnext + 1] = R;
      if (hists) b->todo[b->ntodo++] = &next[left_small ? nnext : nnext + 1];
      nnext += 2;
    }
    if (nnext == 0) break;
    Node *t = level;
    level = next;
    next = t;
    nlevel = nnext;
  }
  free(level);
  free(next);
  free(b->todo);
}

/* Per row of raw scores s [K]: the loss, and into p [K] the link's outputs. */
static double link_loss(const double *s, int K, int task, double y, int32_t label, double *p) {
  if (task == MLPRT_TASK_REGRESSION) {
    p[0] = s[0];
    return 0.5 * (s[0] - y) * (s[0] - y);
  }
  if (task == MLPRT_TASK_BINARY) {
    p[0] = 1 / (1 + exp(-s[0]));
    /* log(1 + e^s) - y s, stable */
    return fmax(s[0], 0) + log1p(exp(-fabs(s[0]))) - (label == 1 ? s[0] : 0);
  }
  double mx = s[0], sum = 0;
  for (int k = 1; k < K; k++) mx = fmax(mx, s[k]);
  for (int k = 0; k < K; k++) sum += p[k] = exp(s[k] - mx);
  for (int k = 0; k < K; k++) p[k] /= sum;
  return log(sum) + mx - s[label];
}

/* The mean loss of the rows' raw scores s [n, K]. */
static double mean_loss(const MlprtFitRows *rows, const double *s, int K, int task, const double *y,
                        double *p) {
  double loss = 0;
  for (int64_t i = 0; i < rows->n; i++)
    loss += link_loss(s + i * K, K, task, y ? y[i] : 0, rows->label ? rows->label[i] : 0, p);
  return rows->n ? loss / (double)rows->n : 0;
}

/* raw [n, K] += the tree's leaves for output k: those its rows reached
 * (leaf, when every row grew it), else the tree walked by the predictor's
 * kernel into leaf. */
static void add_tree(const MlprtFitRows *rows, const float *tree, int depth, int K, int k, double *raw,
                     float *leaf, bool walk) {
  if (walk) mlprt_boost_forward(leaf, rows->x, tree, (int)rows->n, (int)rows->F, 1, depth, 1);
  for (int64_t i = 0; i < rows->n; i++) raw[i * K + k] += leaf[i];
}

/* The base scores: the mean standardised target, the log-odds of class 1,
 * or the classes' log frequencies (each at least one row in 10^6). */
static void base_scores(const MlprtFitRows *rows, const MlprtModel *m, const double *y, float *base) {
  int64_t n = rows->n;
  if (m->task == MLPRT_TASK_REGRESSION) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += y[i];
    base[0] = n ? (float)(s / (double)n) : 0;
    return;
  }
  int C = rows->nclasses;
  double *count = calloc((size_t)C, sizeof *count);
  for (int64_t i = 0; i < n; i++) count[rows->label[i]]++;
  for (int c = 0; c < C; c++) count[c] = fmin(fmax(count[c] / (double)(n ? n : 1), 1e-6), 1 - 1e-6);
  if (m->task == MLPRT_TASK_BINARY) base[0] = (float)log(count[1] / count[0]);
  else
    for (int c = 0; c < C; c++) base[c] = (float)log(count[c]);
  free(count);
}

/* Standardised targets of regression rows, or NULL. */
static double *std_targets(const MlprtFitRows *rows, const MlprtModel *m, double y_mean, double y_std) {
  if (m->task != MLPRT_TASK_REGRESSION) return NULL;
  double *y = malloc((size_t)(rows->n ? rows->n : 1) * sizeof *y);
  for (int64_t i = 0; i < rows->n; i++) y[i] = ((double)rows->target[i] - y_mean) / y_std;
  return y;
}

int64_t mlprt_fit_boost(const MlprtFitRows *rows, const MlprtFitRows *val, const MlprtModel *m, uint64_t seed,
                        int threads, double y_mean, double y_std, float *params) {
  int64_t n = rows->n, F = rows->F, inner = ((int64_t)1 << m->depth) - 1, stride = 3 * inner + 1;
  int K = (int)m->n_out, task = (int)m->task;
  int64_t T = m->trees * K;
  float *base = params + T * stride;
  memset(params, 0, (size_t)m->n_params * sizeof *params);
  for (int64_t t = 0; t < T; t++)
    for (int64_t h = 0; h < inner; h++) params[t * stride + 2 * h + 1] = INFINITY;
  Boost b = {.rows = rows, .m = m, .n = n, .F = F, .K = K};
  b.bins = malloc((size_t)(n * F + 1));
  b.edges = malloc((size_t)(F * 255) * sizeof *b.edges);
  b.nb = malloc((size_t)F * sizeof *b.nb);
  b.off = malloc((size_t)F * sizeof *b.off);
  make_bins(&b);
  b.chunks = (int)(F < 64 ? F : 64);
  b.spare = malloc(((size_t)2 << m->depth) * sizeof *b.spare); /* more than a level's nodes */
  size_t nn = (size_t)(n ? n : 1);
  b.g = malloc(nn * sizeof *b.g);
  b.h = malloc(nn * sizeof *b.h);
  b.idx = malloc(nn * sizeof *b.idx);
  b.tmp = malloc(nn * sizeof *b.tmp);
  double *y = std_targets(rows, m, y_mean, y_std), *vy = val ? std_targets(val, m, y_mean, y_std) : NULL;
  base_scores(rows, m, y, base);
  int64_t vn = val ? val->n : 0;
  double *raw = malloc(nn * (size_t)K * sizeof *raw);
  double *vraw = malloc((size_t)(vn ? vn : 1) * (size_t)K * sizeof *vraw);
  double *prob = malloc(nn * (size_t)K * sizeof *prob), *p = malloc((size_t)K * sizeof *p);
  for (int64_t i = 0; i < n * K; i++) raw[i] = base[i % K];
  for (int64_t i = 0; i < vn * K; i++) vraw[i] = base[i % K];
  b.leaf = malloc(nn * sizeof *b.leaf);
  float *leaf = malloc((size_t)(vn ? vn : 1) * sizeof *leaf);
  bool stop_early = m->early_stopping > 0 && vn > 0;
  double best = INFINITY;
  int64_t best_round = m->trees;
  for (int64_t round = 0; round < m->trees; round++) {
    /* the link's outputs at the round's start */
    for (int64_t i = 0; i < n; i++)
      link_loss(raw + i * K, K, task, y ? y[i] : 0, rows->label ? rows->label[i] : 0, prob + i * K);
    for (int k = 0; k < K; k++) {
      for (int64_t i = 0; i < n; i++) {
        double q = prob[i * K + k];
        if (task == MLPRT_TASK_REGRESSION) {
          b.g[i] = q - y[i];
          b.h[i] = 1;
        } else {
          double want = task == MLPRT_TASK_BINARY ? rows->label[i] == 1 : rows->label[i] == k;
          b.g[i] = q - want;
          b.h[i] = fmax(q * (1 - q), 1e-16);
        }
      }
      float *tree = params + (round * K + k) * stride;
      /* every tree of a round reads the round's rows */
      int32_t used = 0;
      uint64_t stream = mlprt_rng_stream(SITE_SUBSAMPLE, (uint64_t)round);
      for (int64_t i = 0; i < n; i++)
        if (m->subsample >= 1 || mlprt_rng_uniform(seed, stream, (uint64_t)i) < m->subsample)
          b.idx[used++] = (int32_t)i;
      if (used > 0) grow_tree(&b, tree, used, threads);
      add_tree(rows, tree, (int)m->depth, K, k, raw, b.leaf, used < n);
      if (stop_early) add_tree(val, tree, (int)m->depth, K, k, vraw, leaf, true);
    }
    if (!stop_early) continue;
    double loss = mean_loss(val, vraw, K, task, vy, p);
    if (loss < best) {
      best = loss;
      best_round = round + 1;
    } else if (round + 1 - best_round >= m->early_stopping) {
      break;
    }
  }
  /* the trees after the best round add nothing */
  for (int64_t t = best_round * K; t < T; t++) {
    memset(params + t * stride, 0, (size_t)stride * sizeof *params);
    for (int64_t h = 0; h < inner; h++) params[t * stride + 2 * h + 1] = INFINITY;
  }
  free(b.bins), free(b.edges), free(b.nb), free(b.off), free(b.g), free(b.h), free(b.idx), free(b.tmp);
  free(b.leaf);
  for (int i = 0; i < b.nspare; i++) free(b.spare[i]);
  free(b.spare);
  free(y), free(vy), free(raw), free(vraw), free(prob), free(p), free(leaf);
  return best_round;
}
