/* forest.c — a random forest fitted on the training rows (run.h's
 * MLPRT_FIT_FOREST). Consumes the gathered rows (train_int.h's
 * MlprtFitRows); produces the trees in the layout mlprt_forest_forward
 * walks, and the out-of-bag score.
 *
 * Each tree is CART as scikit-learn grows it: on a bootstrap sample (each
 * row weighted by how often it was drawn, times its class weight), every
 * node tries up to max_features features drawn without replacement
 * (constant ones do not count), sorts the node's rows by each and takes the
 * split that most lowers the weighted Gini impurity (classification) or
 * squared error (regression), at the midpoint between two neighbouring
 * values, each side keeping at least min_leaf rows. A node becomes a leaf
 * when it is pure, at the depth limit, or when no split is allowed. A leaf
 * holds its rows' weighted class frequencies (P(class 1) for two classes)
 * or their weighted mean of the standardised target.
 *
 * A tree's random numbers are Philox words of (seed, its own streams), so
 * each tree is the same whichever thread grows it and in whatever order:
 * the forest is the same bits for any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/layers.h"
#include "mlp/tensor.h"
#include "runtime/data/data_int.h"
#include "train_int.h"

/* Philox stream sites: a tree's bootstrap draws and its feature draws. */
enum { SITE_BOOTSTRAP = 0x7f0001, SITE_FEATURES = 0x7f0002 };

typedef struct {
  float v;
  int32_t r;
} Pair;

typedef struct {
  const MlprtFitRows *rows;
  const MlprtModel *m;
  uint64_t seed;
  int classes;      /* classes counted in a node (2 for a binary task), 0 for regression */
  int K;            /* values per leaf */
  const double *cw; /* [classes] class weights */
  const double *y;  /* [n] standardised targets (regression) */
  float *params;    /* the forest */
  uint8_t *inbag;   /* [trees, n]: the row was drawn for the tree */
  int64_t inner, stride;
} Forest;

typedef struct {
  const Forest *f;
  uint64_t stream, drawn; /* the feature draws: Philox stream and words used */
  int32_t *idx;
  double *w;
  Pair *pairs, *tmp;
  double *tot, *left; /* [classes] */
  int *feats;
  float *tree;
} Grow;

/* A uniform integer in [0, n) from word i of (seed, stream). */
static int64_t draw(uint64_t seed, uint64_t stream, uint64_t i, int64_t n) {
  return (int64_t)(((uint64_t)mlprt_rng_u32(seed, stream, i) * (uint64_t)n) >> 32);
}

static void swap_pairs(Pair *a, Pair *b) {
  Pair t = *a;
  *a = *b;
  *b = t;
}

/* Ascending by value: quicksort (median of three, Hoare's partition), then
 * insertion sort below 16. */
static void quicksort_pairs(Pair *a, int64_t n) {
  while (n > 16) {
    float x = a[0].v, y = a[n / 2].v, z = a[n - 1].v;
    float p = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    int64_t i = -1, j = n;
    for (;;) {
      do i++;
      while (a[i].v < p);
      do j--;
      while (a[j].v > p);
      if (i >= j) break;
      swap_pairs(&a[i], &a[j]);
    }
    /* [0, j] <= p <= [j + 1, n): recurse on the smaller part */
    if (j + 1 < n - j - 1) {
      quicksort_pairs(a, j + 1);
      a += j + 1;
      n -= j + 1;
    } else {
      quicksort_pairs(a + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  for (int64_t i = 1; i < n; i++) {
    Pair t = a[i];
    int64_t j = i;
    for (; j > 0 && a[j - 1].v > t.v; j--) a[j] = a[j - 1];
    a[j] = t;
  }
}

/* A float's bits as an unsigned key in the same order (no NaN here). */
static uint32_t order_key(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u ^ (uint32_t)(-(int32_t)(u >> 31) | (int32_t)0x80000000);
}

/* Ascending by value: many rows by a radix sort of the values' keys (three
 * passes of 11 bits through tmp [n]), few by quicksort. Either way rows of
 * equal value stay together, which is all a split scan needs. */
static void sort_pairs(Pair *a, Pair *tmp, int64_t n) {
  if (n < 1024) {
    quicksort_pairs(a, n);
    return;
  }
  Pair *from = a, *to = tmp;
  for (int shift = 0; shift < 32; shift += 11) {
    int64_t count[2049] = {0};
    for (int64_t i = 0; i < n; i++) count[(order_key(from[i].v) >> shift & 2047) + 1]++;
    for (int k = 0; k < 2048; k++) count[k + 1] += count[k];
    for (int64_t i = 0; i < n; i++) to[count[order_key(from[i].v) >> shift & 2047]++] = from[i];
    Pair *t = from;
    from = to;
    to = t;
  }
  /* three passes end in tmp */
  memcpy(a, from, (size_t)n * sizeof *a);
}

/* The weight of each class among rows idx[lo, hi) into g->tot; their
 * total weight. */
static double class_totals(Grow *g, int32_t lo, int32_t hi) {
  const Forest *f = g->f;
  double W = 0;
  memset(g->tot, 0, (size_t)f->classes * sizeof *g->tot);
  for (int32_t i = lo; i < hi; i++) {
    int32_t r = g->idx[i];
    g->tot[f->rows->label[r]] += g->w[r];
    W += g->w[r];
  }
  return W;
}

/* Node h at depth d becomes a leaf: its values go to its leftmost leaf and
 * the nodes on the way there send every row left. */
static void make_leaf(Grow *g, int64_t h, int d, int32_t lo, int32_t hi) {
  const Forest *f = g->f;
  int depth = (int)f->m->depth;
  for (; d < depth; d++) {
    g->tree[2 * h] = 0;
    g->tree[2 * h + 1] = INFINITY;
    h = 2 * h + 1;
  }
  float *v = g->tree + 2 * f->inner + (h - f->inner) * f->K;
  if (f->classes) {
    double W = class_totals(g, lo, hi);
    if (f->K == 1)
      v[0] = (float)(g->tot[1] / W);
    else
      for (int k = 0; k < f->K; k++) v[k] = (float)(g->tot[k] / W);
  } else {
    double s = 0, W = 0;
    for (int32_t i = lo; i < hi; i++) {
      int32_t r = g->idx[i];
      s += g->w[r] * f->y[r];
      W += g->w[r];
    }
    v[0] = (float)(s / W);
  }
}

typedef struct {
  int feature;
  float threshold;
  double proxy;
} Split;

/* The best split of feature ft over the node's rows into s (when it beats
 * s->proxy); false when the feature is constant there. */
static bool try_feature(Grow *g, int ft, int32_t lo, int32_t hi, double W, Split *s) {
  const Forest *f = g->f;
  const MlprtFitRows *rows = f->rows;
  int32_t n = hi - lo;
  float lowest = INFINITY, highest = -INFINITY;
  for (int32_t i = 0; i < n; i++) {
    int32_t r = g->idx[lo + i];
    float v = rows->x[(int64_t)r * rows->F + ft];
    g->pairs[i] = (Pair){v, r};
    lowest = fminf(lowest, v);
    highest = fmaxf(highest, v);
  }
  if (!(lowest < highest)) return false;
  sort_pairs(g->pairs, g->tmp, n);
  int64_t min_leaf = f->m->min_leaf;
  int C = f->classes;
  double WL = 0, SL = 0, ST = 0;
  if (C)
    memset(g->left, 0, (size_t)C * sizeof *g->left);
  else
    for (int32_t i = 0; i < n; i++) ST += g->w[g->pairs[i].r] * f->y[g->pairs[i].r];
  for (int32_t i = 0; i + 1 < n; i++) {
    int32_t r = g->pairs[i].r;
    WL += g->w[r];
    if (C)
      g->left[rows->label[r]] += g->w[r];
    else
      SL += g->w[r] * f->y[r];
    if (!(g->pairs[i].v < g->pairs[i + 1].v) || i + 1 < min_leaf || n - i - 1 < min_leaf) continue;
    double WR = W - WL, proxy;
    if (C) {
      double l2 = 0, r2 = 0;
      for (int c = 0; c < C; c++) {
        double rc = g->tot[c] - g->left[c];
        l2 += g->left[c] * g->left[c];
        r2 += rc * rc;
      }
      proxy = l2 / WL + r2 / WR;
    } else {
      proxy = SL * SL / WL + (ST - SL) * (ST - SL) / WR;
    }
    if (proxy > s->proxy) {
      float a = g->pairs[i].v, b = g->pairs[i + 1].v;
      float t = (float)((double)a / 2 + (double)b / 2);
      *s = (Split){ft, t < b ? t : a, proxy};
    }
  }
  return true;
}

static void grow_node(Grow *g, int64_t h, int d, int32_t lo, int32_t hi) {
  const Forest *f = g->f;
  const MlprtModel *m = f->m;
  int32_t n = hi - lo;
  bool pure = true;
  double W = 0;
  if (f->classes) {
    W = class_totals(g, lo, hi);
    for (int32_t i = lo; i < hi; i++) pure &= f->rows->label[g->idx[i]] == f->rows->label[g->idx[lo]];
  } else {
    for (int32_t i = lo; i < hi; i++) {
      W += g->w[g->idx[i]];
      pure &= f->y[g->idx[i]] == f->y[g->idx[lo]];
    }
  }
  if (d >= m->depth || pure || n < 2 || n < 2 * m->min_leaf) {
    make_leaf(g, h, d, lo, hi);
    return;
  }
  /* Features in a fresh random order, drawn as they are needed. */
  int F = (int)f->rows->F;
  for (int j = 0; j < F; j++) g->feats[j] = j;
  Split best = {-1, 0, -INFINITY};
  int64_t tried = 0;
  for (int j = 0; j < F && tried < m->max_features; j++) {
    int k = j + (int)draw(f->seed, g->stream, g->drawn++, F - j), t = g->feats[k];
    g->feats[k] = g->feats[j];
    g->feats[j] = t;
    tried += try_feature(g, t, lo, hi, W, &best);
  }
  if (best.feature < 0) {
    make_leaf(g, h, d, lo, hi);
    return;
  }
  g->tree[2 * h] = (float)best.feature;
  g->tree[2 * h + 1] = best.threshold;
  /* Rows with x <= threshold first, each side in its earlier order. */
  int32_t nl = 0, nr = 0;
  for (int32_t i = lo; i < hi; i++) {
    int32_t r = g->idx[i];
    if (f->rows->x[(int64_t)r * F + best.feature] <= best.threshold)
      g->idx[lo + nl++] = r;
    else
      g->pairs[nr++].r = r;
  }
  for (int32_t i = 0; i < nr; i++) g->idx[lo + nl + i] = g->pairs[i].r;
  grow_node(g, 2 * h + 1, d + 1, lo, lo + nl);
  grow_node(g, 2 * h + 2, d + 1, lo + nl, hi);
}

static void grow_tree(void *ctx, int t) {
  const Forest *f = ctx;
  const MlprtFitRows *rows = f->rows;
  int64_t n = rows->n;
  int C = f->classes ? f->classes : 1;
  Grow g = {.f = f, .stream = mlprt_rng_stream(SITE_FEATURES, (uint64_t)t)};
  g.idx = malloc((size_t)n * sizeof *g.idx);
  g.w = calloc((size_t)n, sizeof *g.w);
  g.pairs = malloc((size_t)n * sizeof *g.pairs);
  g.tmp = malloc((size_t)n * sizeof *g.tmp);
  g.tot = malloc((size_t)C * sizeof *g.tot);
  g.left = malloc((size_t)C * sizeof *g.left);
  g.feats = malloc((size_t)rows->F * sizeof *g.feats);
  g.tree = f->params + (int64_t)t * f->stride;
  uint8_t *inbag = f->inbag + (int64_t)t * n;
  if (f->m->bootstrap) {
    uint64_t stream = mlprt_rng_stream(SITE_BOOTSTRAP, (uint64_t)t);
    for (int64_t i = 0; i < n; i++) g.w[draw(f->seed, stream, (uint64_t)i, n)] += 1;
  } else {
    for (int64_t i = 0; i < n; i++) g.w[i] = 1;
  }
  int32_t used = 0;
  for (int64_t i = 0; i < n; i++) {
    inbag[i] = g.w[i] > 0;
    if (!inbag[i]) continue;
    if (f->classes) g.w[i] *= f->cw[rows->label[i]];
    g.idx[used++] = (int32_t)i;
  }
  grow_node(&g, 0, 0, 0, used);
  free(g.idx);
  free(g.w);
  free(g.pairs);
  free(g.tmp);
  free(g.tot);
  free(g.left);
  free(g.feats);
}

/* The out-of-bag score: each training row predicted by the trees that did
 * not draw it, the trees in order; accuracy or R² over the rows that some
 * tree left out. NaN without bootstrap or when every tree drew every row. */
static double oob_score(const Forest *f) {
  const MlprtFitRows *rows = f->rows;
  const MlprtModel *m = f->m;
  int64_t n = rows->n, K = f->K, scored = 0, right = 0;
  double *sum = calloc((size_t)K, sizeof *sum), sy = 0, syy = 0, sse = 0;
  float *leaf = malloc((size_t)K * sizeof *leaf);
  for (int64_t i = 0; i < n && m->bootstrap; i++) {
    int64_t votes = 0;
    memset(sum, 0, (size_t)K * sizeof *sum);
    for (int64_t t = 0; t < m->trees; t++) {
      if (f->inbag[t * n + i]) continue;
      mlprt_forest_forward(leaf, rows->x + i * rows->F, f->params + t * f->stride, 1, (int)rows->F, 1,
                           (int)m->depth, (int)K);
      for (int64_t k = 0; k < K; k++) sum[k] += leaf[k];
      votes++;
    }
    if (votes == 0) continue;
    scored++;
    if (!f->classes) {
      double p = sum[0] / (double)votes, y = f->y[i];
      sse += (p - y) * (p - y);
      sy += y;
      syy += y * y;
      continue;
    }
    int32_t guess = 0;
    if (K == 1)
      guess = sum[0] > 0.5 * (double)votes;
    else
      for (int64_t k = 1; k < K; k++)
        if (sum[k] > sum[guess]) guess = (int32_t)k;
    right += guess == rows->label[i];
  }
  free(sum);
  free(leaf);
  if (scored == 0) return NAN;
  if (f->classes) return (double)right / (double)scored;
  double ss = syy - sy * sy / (double)scored;
  return ss > 0 ? 1 - sse / ss : NAN;
}

double mlprt_fit_forest(const MlprtFitRows *rows, const MlprtModel *m, uint64_t seed, int threads,
                        double y_mean, double y_std, float *params) {
  bool classify = m->task != MLPRT_TASK_REGRESSION;
  int64_t n = rows->n, inner = ((int64_t)1 << m->depth) - 1;
  Forest f = {
      .rows = rows, .m = m, .seed = seed, .classes = classify ? rows->nclasses : 0, .K = (int)m->n_out};
  f.params = params;
  f.inner = inner;
  f.stride = 2 * inner + (inner + 1) * f.K;
  memset(params, 0, (size_t)(m->trees * f.stride) * sizeof *params);
  double *cw = NULL, *y = NULL;
  if (classify) {
    cw = malloc((size_t)f.classes * sizeof *cw);
    int64_t *count = calloc((size_t)f.classes, sizeof *count);
    for (int64_t i = 0; i < n; i++) count[rows->label[i]]++;
    for (int c = 0; c < f.classes; c++)
      cw[c] = m->class_weight == MLPRT_CLASS_WEIGHT_BALANCED && count[c]
                  ? (double)n / ((double)f.classes * (double)count[c])
                  : 1;
    free(count);
  } else {
    y = malloc((size_t)(n ? n : 1) * sizeof *y);
    for (int64_t i = 0; i < n; i++) y[i] = ((double)rows->target[i] - y_mean) / y_std;
  }
  f.cw = cw;
  f.y = y;
  f.inbag = malloc((size_t)(m->trees * n + 1));
  if (n > 0) mlprt_parallel_for((int)m->trees, threads, grow_tree, &f);
  double oob = n > 0 ? oob_score(&f) : NAN;
  free(f.inbag);
  free(cw);
  free(y);
  return oob;
}
