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
 * at a time, or leaf-wise (max_leaves > 0: the open leaf of largest gain is
 * split next); either way the histogram of the child with fewer rows is
 * built from its rows, its sibling's is the parent's minus it. A split maximises
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
 * A level's work is spread over up to `threads` threads by chunks of
 * features: each chunk fills its features' bins of the histograms the level
 * builds (row by row, each row's gradient pair added to the bin of every
 * feature of the chunk), subtracts them from the parents' for the siblings,
 * and finds each node's best split among its features; the chunks' splits
 * are then taken in feature order. Every bin is summed over the node's rows
 * in the same order whoever fills it, and the rounds' gradients are
 * computed row by row on the threads: the trees are the same bits for any
 * thread count. */
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
  int64_t feature;
  int bin; /* rows of bins <= bin go left */
  double gain;
} Split;

typedef struct {
  const MlprtFitRows *rows;
  const MlprtModel *m;
  int64_t n, F, total; /* rows, features, bins over all features */
  int K;               /* trees a round (outputs) */
  uint8_t *bins;       /* [n, F] each row's bin per feature */
  float *edges;        /* [F, 255]: bin b of feature f holds x <= edges[f * 255 + b] (b < nb[f] - 1) */
  int *nb;             /* [F] bins per feature */
  int64_t *off;        /* [F] the feature's first bin in a histogram */
  /* the round's gradients: the raw scores [n, K] and standardised targets in, the link's outputs
   * [n, K] and each tree's gradient pairs [K][n][2] out */
  const double *raw, *y;
  double *prob, *gh;
  const double *cur;  /* [n][2] the current tree's gradient pairs (a slice of gh) */
  int32_t *idx, *tmp; /* [n] rows of the tree's nodes, in node order */
  float *leaf;        /* [n] the value of the leaf each of the tree's rows reached */
  /* a level: its nodes, those whose histograms are built from their rows, the features' chunks,
   * [nodes][chunks] each chunk's best split of each node, and [nodes] the split each node takes
   * (feature -1: it is a leaf); the next level's nodes, from each split node's slot; the tree */
  Node *level, **todo, *next;
  int nlevel, ntodo, chunks, *slot;
  Split *found, *split;
  float *tree;
  int depth;
  MlprtTeam *team; /* the run's threads, started once for the fit */
  /* histograms of 2 * total doubles no node holds, kept for the next ones */
  double **spare;
  int nspare;
} Boost;

/* A histogram to build (level_chunk zeroes each chunk's bins before filling them). */
static double *hist_get(Boost *b) {
  return b->nspare ? b->spare[--b->nspare] : malloc((size_t)(2 * b->total) * sizeof(double));
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

/* Rows a task of per-row work takes. */
enum { BLOCK_ROWS = 4096 };

/* Binning task f: feature f's bin edges from its sorted training values. */
static void cut_task(void *ctx, int f) {
  Boost *b = ctx;
  int64_t n = b->n, F = b->F;
  float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
  for (int64_t i = 0; i < n; i++) v[i] = b->rows->x[i * F + f];
  qsort(v, (size_t)n, sizeof *v, cmp_float);
  cut_feature(b, f, v);
  free(v);
}

/* Binning task c: the bin of every feature of rows [c * BLOCK_ROWS, (c + 1) * BLOCK_ROWS). */
static void bin_rows(void *ctx, int c) {
  Boost *b = ctx;
  int64_t F = b->F, end = (int64_t)(c + 1) * BLOCK_ROWS < b->n ? (int64_t)(c + 1) * BLOCK_ROWS : b->n;
  for (int64_t i = (int64_t)c * BLOCK_ROWS; i < end; i++)
    for (int64_t f = 0; f < F; f++) {
      const float *e = b->edges + f * 255;
      float x = b->rows->x[i * F + f];
      int lo = 0, hi = b->nb[f] - 1; /* the edges below x */
      while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (e[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      b->bins[i * F + f] = (uint8_t)lo;
    }
}

/* The bins of every feature, and every row's bin, on the team's threads. */
static void make_bins(Boost *b) {
  mlprt_team_for(b->team, (int)b->F, cut_task, b);
  b->total = 0;
  for (int64_t f = 0; f < b->F; f++) {
    b->off[f] = b->total;
    b->total += b->nb[f];
  }
  mlprt_team_for(b->team, (int)((b->n + BLOCK_ROWS - 1) / BLOCK_ROWS), bin_rows, b);
}

/* Node nd's best split among features [f0, f1), or feature -1. An empty
 * bin moves no row, so the split after it is the one before it and cannot
 * gain more: it is passed over. */
static Split best_split(const Boost *b, const Node *nd, int64_t f0, int64_t f1) {
  const MlprtModel *m = b->m;
  double l2 = m->leaf_l2, mcw = m->min_child_weight, parent = nd->G * nd->G / (nd->H + l2);
  Split best = {-1, 0, 0};
  for (int64_t f = f0; f < f1; f++) {
    const double *hist = nd->hist + 2 * b->off[f];
    double GL = 0, HL = 0;
    for (int k = 0; k + 1 < b->nb[f]; k++) {
      if (hist[2 * k] == 0 && hist[2 * k + 1] == 0) continue;
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

/* Level task c, for the chunk's features: the bins of the histograms the
 * level builds, each row's gradient pair added to its bin of every feature;
 * then the siblings' (parent - built sibling); then each node's best split. */
static void level_chunk(void *ctx, int c) {
  Boost *b = ctx;
  int64_t F = b->F, f0 = F * c / b->chunks, f1 = F * (c + 1) / b->chunks;
  const double *gh = b->cur;
  const int64_t *off = b->off;
  int64_t lo = 2 * off[f0], hi = 2 * (off[f1 - 1] + b->nb[f1 - 1]);
  for (int k = 0; k < b->ntodo; k++) {
    const Node *nd = b->todo[k];
    double *hist = nd->hist;
    memset(hist + lo, 0, (size_t)(hi - lo) * sizeof *hist);
    for (int32_t i = nd->lo; i < nd->hi; i++) {
      int32_t r = b->idx[i];
      double gr = gh[2 * r], hr = gh[2 * r + 1];
      const uint8_t *bin = b->bins + (int64_t)r * F;
      for (int64_t f = f0; f < f1; f++) {
        double *at = hist + 2 * (off[f] + bin[f]);
        at[0] += gr;
        at[1] += hr;
      }
    }
  }
  for (int i = 0; i < b->nlevel; i++) {
    Node *nd = &b->level[i];
    if (nd->build || !nd->hist) continue;
    /* the parent's histogram was handed to this node, its sibling is built */
    const double *sib = b->level[i ^ 1].hist;
    for (int64_t k = lo; k < hi; k++) nd->hist[k] -= sib[k];
  }
  for (int i = 0; i < b->nlevel; i++) {
    const Node *nd = &b->level[i];
    b->found[i * b->chunks + c] = nd->hist ? best_split(b, nd, f0, f1) : (Split){-1, 0, 0};
  }
}

/* Node i of the level's best split: the chunks' in feature order, the first of equal gains wins. */
static Split chunks_split(const Boost *b, int i) {
  Split s = {-1, 0, 0};
  for (int c = 0; c < b->chunks; c++)
    if (b->found[i * b->chunks + c].gain > s.gain) s = b->found[i * b->chunks + c];
  return s;
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

/* Rows idx[nd->lo, nd->hi) of bins <= s.bin of s.feature first, each side
 * in its earlier order, into L and R with their sums of gradient pairs (the
 * left side's summed in row order). Without a branch: every row is written
 * to both sides' next places and a right row's pair is masked to +0.0,
 * which changes no sum started at +0.0 (such a sum is never -0.0). */
static void partition(Boost *b, const Node *nd, Split s, Node *L, Node *R) {
  const uint8_t *col = b->bins + s.feature;
  const double *gh = b->cur;
  int64_t F = b->F;
  int32_t lo = nd->lo, n = nd->hi - nd->lo, nl = 0, nr = 0, *idx = b->idx + lo, *tmp = b->tmp + lo;
  uint8_t split = (uint8_t)s.bin;
  double G = 0, H = 0;
  for (int32_t k = 0; k < n; k++) {
    int32_t r = idx[k];
    bool left = col[(int64_t)r * F] <= split;
    idx[nl] = r;
    tmp[nr] = r;
    nl += left;
    nr += !left;
    uint64_t keep = -(uint64_t)left, gb, hb;
    memcpy(&gb, gh + 2 * r, sizeof gb);
    memcpy(&hb, gh + 2 * r + 1, sizeof hb);
    gb &= keep;
    hb &= keep;
    double gv, hv;
    memcpy(&gv, &gb, sizeof gv);
    memcpy(&hv, &hb, sizeof hv);
    G += gv;
    H += hv;
  }
  memcpy(idx + nl, tmp, (size_t)nr * sizeof *idx);
  *L = (Node){lo, lo + nl, 2 * nd->h + 1, G, H, NULL, false};
  *R = (Node){lo + nl, nd->hi, 2 * nd->h + 2, nd->G - G, nd->H - H, NULL, false};
}

/* Node task i of the level at b->depth: node i becomes a leaf, or its split
 * is written and its rows partitioned into its children. */
static void settle_node(void *ctx, int i) {
  Boost *b = ctx;
  const Node *nd = &b->level[i];
  Split s = b->split[i];
  if (s.feature < 0) {
    make_leaf(b, b->tree, nd, b->depth);
    return;
  }
  b->tree[2 * nd->h] = (float)s.feature;
  b->tree[2 * nd->h + 1] = b->edges[s.feature * 255 + s.bin];
  partition(b, nd, s, &b->next[b->slot[i]], &b->next[b->slot[i] + 1]);
}

/* One tree on rows idx[0, used) with the gradient pairs b->cur. */
static void grow_tree(Boost *b, float *tree, int32_t used) {
  const MlprtModel *m = b->m;
  int64_t width = (int64_t)1 << m->depth;
  Node *level = malloc((size_t)width * sizeof *level), *next = malloc((size_t)width * sizeof *next);
  level[0] = (Node){0, used, 0, 0, 0, hist_get(b), true};
  for (int32_t i = 0; i < used; i++) {
    level[0].G += b->cur[2 * b->idx[i]];
    level[0].H += b->cur[2 * b->idx[i] + 1];
  }
  b->todo[0] = &level[0];
  b->ntodo = 1;
  b->tree = tree;
  int nlevel = 1;
  for (int d = 0;; d++) {
    b->level = level;
    b->nlevel = nlevel;
    b->next = next;
    b->depth = d;
    if (d < m->depth) mlprt_team_for(b->team, b->chunks, level_chunk, b);
    int nnext = 0;
    for (int i = 0; i < nlevel; i++) {
      Split s = d < m->depth ? chunks_split(b, i) : (Split){-1, 0, 0};
      b->split[i] = s;
      b->slot[i] = nnext;
      nnext += s.feature < 0 ? 0 : 2;
    }
    mlprt_team_for(b->team, nlevel, settle_node, b);
    b->ntodo = 0;
    for (int i = 0; i < nlevel; i++) {
      Node *nd = &level[i];
      if (b->split[i].feature < 0) {
        hist_put(b, nd->hist);
        continue;
      }
      Node *L = &next[b->slot[i]], *R = L + 1;
      /* the smaller child is built; the larger takes the parent's histogram and subtracts it (at
       * the depth limit the children are leaves, which need only their sums) */
      bool left_small = L->hi - L->lo <= R->hi - R->lo, hists = d + 1 < m->depth;
      L->build = hists && left_small;
      R->build = hists && !left_small;
      L->hist = !hists ? NULL : left_small ? hist_get(b) : nd->hist;
      R->hist = !hists ? NULL : left_small ? nd->hist : hist_get(b);
      if (!hists) hist_put(b, nd->hist);
      if (hists) b->todo[b->ntodo++] = left_small ? L : R;
    }
    if (nnext == 0) break;
    Node *t = level;
    level = next;
    next = t;
    nlevel = nnext;
  }
  free(level);
  free(next);
}

/* The depth of heap node h. */
static int node_depth(int64_t h) {
  int d = 0;
  for (; h > 0; h = (h - 1) / 2) d++;
  return d;
}

/* The best splits of the level's nodes b->level [nlevel] whose histograms
 * are kept (those the level builds, b->todo, from their rows), into split. */
static void level_splits(Boost *b, Node *level, int nlevel, Split *split) {
  b->level = level;
  b->nlevel = nlevel;
  mlprt_team_for(b->team, b->chunks, level_chunk, b);
  for (int i = 0; i < nlevel; i++) split[i] = chunks_split(b, i);
}

/* One tree grown leaf-wise on rows idx[0, used): the open leaf whose split
 * gains most is split next (of equal gains, the leaf made first; a split
 * makes its left child before its right), until the tree has max_leaves
 * leaves or no leaf's split gains. A leaf at max_depth is not split. The
 * children's histograms are the smaller's from its rows and the larger's
 * its parent's minus it, and their splits are found on the team's threads
 * by chunks of features as a level's are. */
static void grow_lossguide(Boost *b, float *tree, int32_t used) {
  const MlprtModel *m = b->m;
  int64_t cap = m->max_leaves;
  Node *open = malloc((size_t)cap * sizeof *open), pair[2];
  Split *split = malloc((size_t)cap * sizeof *split);
  open[0] = (Node){0, used, 0, 0, 0, hist_get(b), true};
  for (int32_t i = 0; i < used; i++) {
    open[0].G += b->cur[2 * b->idx[i]];
    open[0].H += b->cur[2 * b->idx[i] + 1];
  }
  b->todo[0] = &open[0];
  b->ntodo = 1;
  level_splits(b, open, 1, split);
  int64_t nopen = 1;
  while (nopen < cap) {
    int64_t best = -1;
    for (int64_t i = 0; i < nopen; i++)
      if (split[i].feature >= 0 && (best < 0 || split[i].gain > split[best].gain)) best = i;
    if (best < 0) break;
    Node nd = open[best];
    Split s = split[best];
    tree[2 * nd.h] = (float)s.feature;
    tree[2 * nd.h + 1] = b->edges[s.feature * 255 + s.bin];
    partition(b, &nd, s, &pair[0], &pair[1]);
    /* the children are the newest leaves: the others keep their order */
    memmove(open + best, open + best + 1, (size_t)(nopen - best - 1) * sizeof *open);
    memmove(split + best, split + best + 1, (size_t)(nopen - best - 1) * sizeof *split);
    nopen--;
    bool left_small = pair[0].hi - pair[0].lo <= pair[1].hi - pair[1].lo;
    Split ps[2] = {{-1, 0, 0}, {-1, 0, 0}};
    if (node_depth(pair[0].h) < m->depth) {
      Node *small = &pair[left_small ? 0 : 1], *large = &pair[left_small ? 1 : 0];
      small->build = true;
      small->hist = hist_get(b);
      large->hist = nd.hist;
      b->todo[0] = small;
      b->ntodo = 1;
      level_splits(b, pair, 2, ps);
    } else {
      hist_put(b, nd.hist);
    }
    for (int k = 0; k < 2; k++) {
      open[nopen] = pair[k];
      split[nopen++] = ps[k];
    }
  }
  for (int64_t i = 0; i < nopen; i++) {
    make_leaf(b, tree, &open[i], node_depth(open[i].h));
    hist_put(b, open[i].hist);
  }
  free(open);
  free(split);
}

/* Per row of raw scores s [K]: into p [K] the link's outputs (identity,
 * sigmoid or softmax), and for softmax into *lse (when not NULL) the log of
 * its normaliser, log(sum of e^s). */
static void link(const double *s, int K, int task, double *p, double *lse) {
  if (task == MLPRT_TASK_REGRESSION) {
    p[0] = s[0];
    return;
  }
  if (task == MLPRT_TASK_BINARY) {
    p[0] = 1 / (1 + exp(-s[0]));
    return;
  }
  double mx = s[0], sum = 0;
  for (int k = 1; k < K; k++) mx = fmax(mx, s[k]);
  for (int k = 0; k < K; k++) sum += p[k] = exp(s[k] - mx);
  for (int k = 0; k < K; k++) p[k] /= sum;
  if (lse) *lse = log(sum) + mx;
}

/* Per row of raw scores s [K]: the loss, and into p [K] the link's outputs. */
static double link_loss(const double *s, int K, int task, double y, int32_t label, double *p) {
  double lse = 0;
  link(s, K, task, p, &lse);
  if (task == MLPRT_TASK_REGRESSION) return 0.5 * (s[0] - y) * (s[0] - y);
  /* log(1 + e^s) - y s, stable */
  if (task == MLPRT_TASK_BINARY) return fmax(s[0], 0) + log1p(exp(-fabs(s[0]))) - (label == 1 ? s[0] : 0);
  return lse - s[label];
}

/* Gradient task c: rows [c * BLOCK_ROWS, (c + 1) * BLOCK_ROWS)'s link outputs
 * at the round's start and each of the round's trees' gradient pairs. */
static void gradients(void *ctx, int c) {
  Boost *b = ctx;
  const MlprtFitRows *rows = b->rows;
  int K = b->K, task = (int)b->m->task;
  int64_t n = b->n, end = (int64_t)(c + 1) * BLOCK_ROWS < n ? (int64_t)(c + 1) * BLOCK_ROWS : n;
  for (int64_t i = (int64_t)c * BLOCK_ROWS; i < end; i++) {
    double *q = b->prob + i * K;
    link(b->raw + i * K, K, task, q, NULL);
    for (int k = 0; k < K; k++) {
      double *at = b->gh + 2 * (k * n + i);
      if (task == MLPRT_TASK_REGRESSION) {
        at[0] = q[0] - b->y[i];
        at[1] = 1;
      } else {
        double want = task == MLPRT_TASK_BINARY ? rows->label[i] == 1 : rows->label[i] == k;
        double v = q[k] * (1 - q[k]);
        at[0] = q[k] - want;
        at[1] = v > 1e-16 ? v : 1e-16;
      }
    }
  }
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
  b.team = mlprt_team_start(threads);
  make_bins(&b);
  /* a chunk's features go through each row together; on several threads, more chunks than threads
   * let a thread that finishes early take another */
  b.chunks = (int)(F < 1 ? 0 : threads <= 1 ? 1 : F < 2 * (int64_t)threads ? F : 2 * (int64_t)threads);
  int64_t width = (int64_t)1 << m->depth;
  b.spare = malloc((size_t)(2 * width) * sizeof *b.spare); /* more than a level's nodes */
  b.todo = malloc((size_t)width * sizeof *b.todo);
  b.found = malloc((size_t)(width * b.chunks) * sizeof *b.found);
  b.split = malloc((size_t)width * sizeof *b.split);
  b.slot = malloc((size_t)width * sizeof *b.slot);
  size_t nn = (size_t)(n ? n : 1);
  b.gh = malloc(2 * nn * (size_t)K * sizeof *b.gh);
  b.idx = malloc(nn * sizeof *b.idx);
  b.tmp = malloc(nn * sizeof *b.tmp);
  double *y = std_targets(rows, m, y_mean, y_std), *vy = val ? std_targets(val, m, y_mean, y_std) : NULL;
  b.y = y;
  base_scores(rows, m, y, base);
  int64_t vn = val ? val->n : 0;
  double *raw = malloc(nn * (size_t)K * sizeof *raw);
  double *vraw = malloc((size_t)(vn ? vn : 1) * (size_t)K * sizeof *vraw);
  double *prob = malloc(nn * (size_t)K * sizeof *prob), *p = malloc((size_t)K * sizeof *p);
  for (int64_t i = 0; i < n * K; i++) raw[i] = base[i % K];
  b.raw = raw;
  b.prob = prob;
  for (int64_t i = 0; i < vn * K; i++) vraw[i] = base[i % K];
  b.leaf = malloc(nn * sizeof *b.leaf);
  float *leaf = malloc((size_t)(vn ? vn : 1) * sizeof *leaf);
  bool stop_early = m->early_stopping > 0 && vn > 0;
  double best = INFINITY;
  int64_t best_round = m->trees;
  for (int64_t round = 0; round < m->trees; round++) {
    /* every tree of the round fits the gradients at the round's start */
    mlprt_team_for(b.team, (int)((n + BLOCK_ROWS - 1) / BLOCK_ROWS), gradients, &b);
    for (int k = 0; k < K; k++) {
      b.cur = b.gh + 2 * (int64_t)k * n;
      float *tree = params + (round * K + k) * stride;
      /* every tree of a round reads the round's rows */
      int32_t used = 0;
      uint64_t stream = mlprt_rng_stream(SITE_SUBSAMPLE, (uint64_t)round);
      for (int64_t i = 0; i < n; i++)
        if (m->subsample >= 1 || mlprt_rng_uniform(seed, stream, (uint64_t)i) < m->subsample)
          b.idx[used++] = (int32_t)i;
      if (used > 0 && m->max_leaves) grow_lossguide(&b, tree, used);
      else if (used > 0) grow_tree(&b, tree, used);
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
  free(b.bins), free(b.edges), free(b.nb), free(b.off), free(b.gh), free(b.idx), free(b.tmp);
  mlprt_team_stop(b.team);
  free(b.leaf), free(b.todo), free(b.found), free(b.split), free(b.slot);
  for (int i = 0; i < b.nspare; i++) free(b.spare[i]);
  free(b.spare);
  free(y), free(vy), free(raw), free(vraw), free(prob), free(p), free(leaf);
  return best_round;
}
