/* transformer.c — a stack of transformer encoder blocks over a sequence,
 * forward and backward side by side. Consumes inputs (B, T, F), the layer's
 * slice of the parameter slab and its configuration (mlp/layers.h, MLPRT_ENC_*);
 * produces the pooled output, the record backward reads, and accumulated
 * gradients.
 *
 * A block is PyTorch's nn.TransformerEncoderLayer: multi-head self-attention
 * (queries, keys and values of every step as one GEMM, each head's scores
 * and weighted values as two GEMMs over the strided head columns), its output
 * projection, a residual and a layer norm, then a feed-forward pair of dense
 * layers (relu or the exact gelu) with a residual and a layer norm; post-norm
 * by default, or norm_first (each sublayer reads the normalized input and the
 * residual adds the raw one). Dropout, when training, acts where PyTorch's
 * does: on the attention weights, on each sublayer's output and on the
 * feed-forward's hidden units. The record keeps every intermediate of every
 * block; the attention weights take B * heads * T^2 floats per block, the
 * memory plan's bound on the sequence length.
 *
 * A mask (B, T), when given, leaves out the steps whose value is 0 (an
 * embedding's padding): no query attends to them (PyTorch's
 * src_key_padding_mask) and the pooling reads the counted steps only; a row
 * with none counted attends to nothing and pools to zeros. A causal encoder
 * lets each step attend to itself and the steps before it only. */
#include "mlp/layers.h"

#include "gemm.h"
#include <math.h>
#include <string.h>

#include "mlp/tensor.h"

#define ENC_EPS 1e-5f /* PyTorch's layer_norm_eps */

/* One block's slices of a slab (the parameters, or their gradients), in
 * PyTorch's named_parameters order. */
typedef struct {
  float *w_qkv, *b_qkv, *w_o, *b_o, *w_1, *b_1, *w_2, *b_2, *g_1, *be_1, *g_2, *be_2;
} Weights;

/* One block's record, N = B*T rows:
 * x    (N, D)  the block's input
 * qkv  (N, 3D) queries | keys | values
 * p, pd, pm (B, heads, T, T) attention weights, after dropout, dropout mask
 * o    (N, D)  the heads' weighted values, side by side
 * m1   (N, D)  dropout mask of the attention output
 * s1   (N, D)  x + attention (post-norm: layer norm 1's input; pre-norm: y1)
 * n1   (N, D)  layer norm 1's output (post: y1; pre: the attention's input)
 * st1  (2N)    its mean and rstd
 * hp, ha, mf (N, FF) the hidden pre-activation, activated after dropout, its mask
 * m2   (N, D)  dropout mask of the feed-forward output
 * s2   (N, D)  y1 + feed-forward (post: layer norm 2's input; pre: the block's output)
 * n2   (N, D)  layer norm 2's output (post: the block's output; pre: the feed-forward's input)
 * st2  (2N)    its mean and rstd */
typedef struct {
  float *x, *qkv, *p, *pd, *pm, *o, *m1, *s1, *n1, *st1, *hp, *ha, *mf, *m2, *s2, *n2, *st2;
} Record;

typedef struct {
  int B, T, F, D, NH, FF, NL, norm_first, act, pos, pool, causal;
  const float *mask; /* (B, T) or NULL */
} Enc;

static Enc enc_of(const int32_t *cfg, int B) {
  Enc e = {B,
           cfg[MLPRT_ENC_T],
           cfg[MLPRT_ENC_F],
           cfg[MLPRT_ENC_D],
           cfg[MLPRT_ENC_HEADS],
           cfg[MLPRT_ENC_FF],
           cfg[MLPRT_ENC_LAYERS],
           cfg[MLPRT_ENC_NORM_FIRST],
           cfg[MLPRT_ENC_ACT],
           cfg[MLPRT_ENC_POS],
           cfg[MLPRT_ENC_POOL],
           cfg[MLPRT_ENC_CAUSAL],
           NULL};
  MLPRT_CHECK(e.B > 0 && e.T > 0 && e.F > 0 && e.D > 0 && e.FF > 0 && e.NL > 0,
              "encoder dims B=%d T=%d F=%d D=%d FF=%d layers=%d", e.B, e.T, e.F, e.D, e.FF, e.NL);
  MLPRT_CHECK(e.NH > 0 && e.D % e.NH == 0, "encoder width %d is not a multiple of %d heads", e.D, e.NH);
  MLPRT_CHECK(e.pos >= MLPRT_POS_NONE && e.pos <= MLPRT_POS_SINUSOIDAL, "encoder positions %d", e.pos);
  MLPRT_CHECK(e.pool >= MLPRT_POOL_MEAN && e.pool <= MLPRT_POOL_NONE, "encoder pooling %d", e.pool);
  MLPRT_CHECK(e.causal == 0 || e.causal == 1, "encoder causal %d", e.causal);
  return e;
}

static int64_t block_params(const Enc *e) {
  int64_t D = e->D, FF = e->FF;
  return 3 * D * D + 3 * D + D * D + D + FF * D + FF + D * FF + D + 4 * D;
}

/* Floats before the first block: the input projection (F != D), the learned positions. */
static int64_t head_params(const Enc *e) {
  int64_t D = e->D;
  return (e->F != e->D ? D * e->F + D : 0) + (e->pos == MLPRT_POS_LEARNED ? (int64_t)e->T * D : 0);
}

static int64_t block_record(const Enc *e) {
  int64_t N = (int64_t)e->B * e->T, D = e->D, A = (int64_t)e->B * e->NH * e->T * e->T;
  return 11 * N * D + 3 * A + 3 * N * e->FF + 4 * N;
}

int64_t mlprt_encoder_params(const int32_t *cfg) {
  Enc e = enc_of(cfg, 1);
  return head_params(&e) + e.NL * block_params(&e);
}

void mlprt_encoder_sizes(const int32_t *cfg, int64_t B, int64_t *rec, int64_t *work) {
  Enc e = enc_of(cfg, (int)B);
  int64_t N = B * e.T, D = e.D, T = e.T;
  *rec = e.NL * block_record(&e);
  *work = 12 * N * D + 2 * N * e.FF + 2 * T * T;
}

/* Points slots[i] at consecutive pieces of sizes[i] floats from p. */
static void carve(float *p, float **const *slots, const int64_t *sizes, int n) {
  for (int i = 0; i < n; i++) {
    *slots[i] = p;
    p += sizes[i];
  }
}

static Weights weights_of(const Enc *e, const float *slab, int k) {
  int64_t D = e->D, FF = e->FF;
  Weights w;
  float **const slots[] = {&w.w_qkv, &w.b_qkv, &w.w_o, &w.b_o, &w.w_1, &w.b_1,
                           &w.w_2,   &w.b_2,   &w.g_1, &w.be_1, &w.g_2, &w.be_2};
  const int64_t sizes[] = {3 * D * D, 3 * D, D * D, D, FF * D, FF, D * FF, D, D, D, D, D};
  carve((float *)slab + head_params(e) + k * block_params(e), slots, sizes, 12);
  return w;
}

static Record record_of(const Enc *e, const float *rec, int k) {
  int64_t N = (int64_t)e->B * e->T, ND = N * e->D, A = (int64_t)e->B * e->NH * e->T * e->T, H = N * e->FF;
  Record b;
  float **const slots[] = {&b.x,  &b.qkv, &b.p,  &b.pd, &b.pm, &b.o,  &b.m1, &b.s1, &b.n1,
                           &b.st1, &b.hp, &b.ha, &b.mf, &b.m2, &b.s2, &b.n2, &b.st2};
  const int64_t sizes[] = {ND, 3 * ND, A, A, A, ND, ND, ND, ND, 2 * N, H, H, H, ND, ND, ND, 2 * N};
  carve((float *)rec + k * block_record(e), slots, sizes, 17);
  return b;
}

static const float *block_out(const Enc *e, const Record *r) {
  return e->norm_first ? r->s2 : r->n2;
}

float mlprt_encoder_position(int t, int j, int D) {
  double a = t / pow(10000.0, (double)(j - j % 2) / D);
  return (float)(j % 2 ? cos(a) : sin(a));
}

/* Whether step t of row b counts: always without a mask. */
static int counts(const Enc *e, int b, int t) {
  return !e->mask || e->mask[(size_t)b * e->T + t] != 0.0f;
}

/* The scores s (T, T) of row b through a softmax over the keys each query
 * may attend (the counted ones; causal: up to itself), as
 * mlprt_softmax_forward computes it; the others, and every key of a query
 * with none, get weight 0, whose softmax gradient is then 0 too. */
static void attend(const Enc *e, float *s, int b) {
  int T = e->T;
  for (int i = 0; i < T; i++) {
    float *y = s + (size_t)i * T, mx = -INFINITY;
    int end = e->causal ? i + 1 : T;
    for (int j = 0; j < end; j++)
      if (counts(e, b, j) && y[j] > mx) mx = y[j];
    double sum = 0.0;
    for (int j = 0; j < T; j++) {
      y[j] = j < end && counts(e, b, j) ? expf(y[j] - mx) : 0.0f;
      sum += y[j];
    }
    float inv = sum > 0.0 ? (float)(1.0 / sum) : 0.0f;
    for (int j = 0; j < T; j++) y[j] *= inv;
  }
}

static void add(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static void mul(float *y, const float *m, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] *= m[i];
}

/* x in place through dropout (mask m) when p > 0. */
static void drop(float *x, float *m, size_t n, float p, uint64_t seed, uint32_t site, uint64_t step) {
  if (p > 0.0f) mlprt_dropout_forward(x, m, x, n, p, seed, site, step);
}

static void block_forward(const Enc *e, const Record *r, const Weights *w, float p, uint64_t seed,
                          uint32_t site, uint64_t step) {
  int N = e->B * e->T, D = e->D, T = e->T, dh = D / e->NH, FF = e->FF;
  size_t A = (size_t)e->B * e->NH * T * T;
  const float *ain = r->x;
  if (e->norm_first) {
    mlprt_layernorm_forward(r->n1, r->st1, r->st1 + N, r->x, w->g_1, w->be_1, N, D, ENC_EPS);
    ain = r->n1;
  }
  mlprt_dense_forward(r->qkv, ain, w->w_qkv, w->b_qkv, N, D, 3 * D);
  float scale = 1.0f / sqrtf((float)dh);
  for (int b = 0; b < e->B; b++)
    for (int h = 0; h < e->NH; h++) {
      const float *q = r->qkv + (size_t)b * T * 3 * D + h * dh;
      float *s = r->p + ((size_t)b * e->NH + h) * T * T;
      mlprt_sgemm(CblasNoTrans, CblasTrans, T, T, dh, scale, q, 3 * D, q + D, 3 * D, 0.0f, s,
                  T);
      attend(e, s, b);
    }
  const float *pd = r->p;
  if (p > 0.0f) {
    mlprt_dropout_forward(r->pd, r->pm, r->p, A, p, seed, site, step);
    pd = r->pd;
  }
  for (int b = 0; b < e->B; b++)
    for (int h = 0; h < e->NH; h++) {
      const float *v = r->qkv + (size_t)b * T * 3 * D + 2 * D + h * dh;
      const float *ph = pd + ((size_t)b * e->NH + h) * T * T;
      mlprt_sgemm(CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, ph, T, v, 3 * D, 0.0f,
                  r->o + (size_t)b * T * D + h * dh, D);
    }
  size_t ND = (size_t)N * D;
  mlprt_dense_forward(r->s1, r->o, w->w_o, w->b_o, N, D, D);
  drop(r->s1, r->m1, ND, p, seed, site + 1, step);
  add(r->s1, r->x, ND);
  const float *y1 = r->s1, *fin;
  if (e->norm_first) {
    mlprt_layernorm_forward(r->n2, r->st2, r->st2 + N, r->s1, w->g_2, w->be_2, N, D, ENC_EPS);
    fin = r->n2;
  } else {
    mlprt_layernorm_forward(r->n1, r->st1, r->st1 + N, r->s1, w->g_1, w->be_1, N, D, ENC_EPS);
    fin = y1 = r->n1;
  }
  size_t NF = (size_t)N * FF;
  mlprt_dense_forward(r->hp, fin, w->w_1, w->b_1, N, D, FF);
  if (e->act == MLPRT_ENC_GELU)
    mlprt_gelu_forward(r->ha, r->hp, NF);
  else
    mlprt_relu_forward(r->ha, r->hp, NF);
  drop(r->ha, r->mf, NF, p, seed, site + 2, step);
  mlprt_dense_forward(r->s2, r->ha, w->w_2, w->b_2, N, FF, D);
  drop(r->s2, r->m2, ND, p, seed, site + 3, step);
  add(r->s2, y1, ND);
  if (!e->norm_first)
    mlprt_layernorm_forward(r->n2, r->st2, r->st2 + N, r->s2, w->g_2, w->be_2, N, D, ENC_EPS);
}

void mlprt_encoder_forward(float *out, float *rec, const float *inp, const float *mask, const float *params,
                           const int32_t *cfg, int B, float p, uint64_t seed, uint32_t site, uint64_t step) {
  MLPRT_CHECK(out && rec && inp && params && cfg, "encoder buffer is NULL");
  MLPRT_CHECK(p >= 0.0f && p < 1.0f, "encoder dropout %g outside [0, 1)", (double)p);
  Enc e = enc_of(cfg, B);
  e.mask = mask;
  int N = B * e.T, D = e.D, T = e.T;
  Record r0 = record_of(&e, rec, 0);
  const float *hp = params;
  if (e.F != D) {
    mlprt_dense_forward(r0.x, inp, hp, hp + (size_t)D * e.F, N, e.F, D);
    hp += (size_t)D * e.F + D;
  } else {
    memcpy(r0.x, inp, (size_t)N * D * sizeof(float));
  }
  if (e.pos != MLPRT_POS_NONE)
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        float *x = r0.x + ((size_t)b * T + t) * D;
        for (int j = 0; j < D; j++)
          x[j] += e.pos == MLPRT_POS_LEARNED ? hp[(size_t)t * D + j] : mlprt_encoder_position(t, j, D);
      }
  Record r = r0;
  for (int k = 0; k < e.NL; k++) {
    r = record_of(&e, rec, k);
    if (k > 0) {
      Record prev = record_of(&e, rec, k - 1);
      memcpy(r.x, block_out(&e, &prev), (size_t)N * D * sizeof(float));
    }
    Weights w = weights_of(&e, params, k);
    block_forward(&e, &r, &w, p, seed, site + 4 * (uint32_t)k, step);
  }
  const float *y = block_out(&e, &r);
  if (e.pool == MLPRT_POOL_NONE) {
    memcpy(out, y, (size_t)N * D * sizeof(float));
    return;
  }
  mlprt_steps_pool_forward(out, y, mask, B, T, D, e.pool);
}

/* dx (N, D) += the gradient of the block's input, given dy (N, D) of its
 * output; w's gradients accumulate into g. work: 10 N D + 2 N FF + 2 T^2
 * floats. */
static void block_backward(const Enc *e, float *dx, const float *dy, const Weights *g, float *work,
                           const Record *r, const Weights *w, float p) {
  int N = e->B * e->T, D = e->D, T = e->T, dh = D / e->NH, FF = e->FF;
  size_t ND = (size_t)N * D, NF = (size_t)N * FF;
  float *ds2 = work, *dy1 = ds2 + ND, *dfin = dy1 + ND, *ds1 = dfin + ND, *da = ds1 + ND, *dout = da + ND,
        *dqkv = dout + ND, *dain = dqkv + 3 * ND, *dha = dain + ND, *dhid = dha + NF, *dpd = dhid + NF,
        *dp = dpd + (size_t)T * T;
  memset(work, 0, (10 * ND + 2 * NF) * sizeof(float));
  /* the feed-forward sublayer */
  const float *fin = e->norm_first ? r->n2 : r->n1;
  if (e->norm_first)
    memcpy(ds2, dy, ND * sizeof(float));
  else
    mlprt_layernorm_backward(ds2, g->g_2, g->be_2, dy, r->s2, w->g_2, r->st2, r->st2 + N, N, D);
  memcpy(dy1, ds2, ND * sizeof(float)); /* the residual */
  if (p > 0.0f) mul(ds2, r->m2, ND);
  mlprt_dense_backward(dha, g->w_2, g->b_2, ds2, r->ha, w->w_2, N, FF, D);
  if (p > 0.0f) mul(dha, r->mf, NF);
  if (e->act == MLPRT_ENC_GELU)
    mlprt_gelu_backward(dhid, dha, r->hp, NF);
  else
    mlprt_relu_backward(dhid, dha, r->hp, NF);
  mlprt_dense_backward(dfin, g->w_1, g->b_1, dhid, fin, w->w_1, N, D, FF);
  if (e->norm_first) {
    mlprt_layernorm_backward(dy1, g->g_2, g->be_2, dfin, r->s1, w->g_2, r->st2, r->st2 + N, N, D);
    memcpy(ds1, dy1, ND * sizeof(float));
  } else {
    add(dy1, dfin, ND);
    mlprt_layernorm_backward(ds1, g->g_1, g->be_1, dy1, r->s1, w->g_1, r->st1, r->st1 + N, N, D);
  }
  /* the attention sublayer: s1 = x + dropout(o W_o^T + b_o) */
  add(dx, ds1, ND);
  memcpy(da, ds1, ND * sizeof(float));
  if (p > 0.0f) mul(da, r->m1, ND);
  mlprt_dense_backward(dout, g->w_o, g->b_o, da, r->o, w->w_o, N, D, D);
  const float *pd = p > 0.0f ? r->pd : r->p;
  float scale = 1.0f / sqrtf((float)dh);
  for (int b = 0; b < e->B; b++)
    for (int h = 0; h < e->NH; h++) {
      size_t row = (size_t)b * T * 3 * D, ah = ((size_t)b * e->NH + h) * T * T;
      const float *q = r->qkv + row + h * dh, *k = q + D, *v = q + 2 * D;
      float *dq = dqkv + row + h * dh, *dk = dq + D, *dv = dq + 2 * D;
      const float *doh = dout + (size_t)b * T * D + h * dh;
      /* o = pd v: dv = pd^T do, dpd = do v^T */
      mlprt_sgemm(CblasTrans, CblasNoTrans, T, dh, T, 1.0f, pd + ah, T, doh, D, 0.0f, dv,
                  3 * D);
      mlprt_sgemm(CblasNoTrans, CblasTrans, T, T, dh, 1.0f, doh, D, v, 3 * D, 0.0f, dpd, T);
      if (p > 0.0f) mul(dpd, r->pm + ah, (size_t)T * T);
      memset(dp, 0, (size_t)T * T * sizeof(float));
      mlprt_softmax_backward(dp, dpd, r->p + ah, T, T);
      /* scores = scale q k^T */
      mlprt_sgemm(CblasNoTrans, CblasNoTrans, T, dh, T, scale, dp, T, k, 3 * D, 0.0f, dq,
                  3 * D);
      mlprt_sgemm(CblasTrans, CblasNoTrans, T, dh, T, scale, dp, T, q, 3 * D, 0.0f, dk, 3 * D);
    }
  const float *ain = e->norm_first ? r->n1 : r->x;
  /* The keys' bias shifts every score of a query alike, which the softmax
   * ignores: its gradient stays exactly zero, not the rounding noise of dk's
   * column sums (which Adam would scale up to steps of its learning rate).
   * ds2 is free by now. */
  memcpy(ds2, g->b_qkv + D, (size_t)D * sizeof(float));
  mlprt_dense_backward(dain, g->w_qkv, g->b_qkv, dqkv, ain, w->w_qkv, N, D, 3 * D);
  memcpy(g->b_qkv + D, ds2, (size_t)D * sizeof(float));
  if (e->norm_first)
    mlprt_layernorm_backward(dx, g->g_1, g->be_1, dain, r->x, w->g_1, r->st1, r->st1 + N, N, D);
  else
    add(dx, dain, ND);
}

void mlprt_encoder_backward(float *dinp, float *dparams, float *work, const float *dout, const float *inp,
                            const float *mask, const float *rec, const float *params, const int32_t *cfg,
                            int B, float p) {
  MLPRT_CHECK(dparams && work && dout && inp && rec && params && cfg, "encoder buffer is NULL");
  Enc e = enc_of(cfg, B);
  e.mask = mask;
  int N = B * e.T, D = e.D, T = e.T;
  size_t ND = (size_t)N * D;
  float *dy = work, *dx = dy + ND, *bw = dx + ND;
  Record top = record_of(&e, rec, e.NL - 1);
  const float *y = block_out(&e, &top);
  if (e.pool == MLPRT_POOL_NONE) {
    memcpy(dy, dout, ND * sizeof(float));
  } else {
    memset(dy, 0, ND * sizeof(float));
    mlprt_steps_pool_backward(dy, dout, y, mask, B, T, D, e.pool);
  }
  for (int k = e.NL - 1; k >= 0; k--) {
    Record r = record_of(&e, rec, k);
    Weights w = weights_of(&e, params, k);
    Weights g = weights_of(&e, dparams, k);
    memset(dx, 0, ND * sizeof(float));
    block_backward(&e, dx, dy, &g, bw, &r, &w, p);
    memcpy(dy, dx, ND * sizeof(float));
  }
  /* dy is the gradient of x0 = proj(inp) + positions */
  float *dhead = dparams;
  if (e.F != D) {
    mlprt_dense_backward(dinp, dhead, dhead + (size_t)D * e.F, dy, inp, params, N, e.F, D);
    dhead += (size_t)D * e.F + D;
  } else if (dinp) {
    add(dinp, dy, ND);
  }
  if (e.pos == MLPRT_POS_LEARNED)
    for (int b = 0; b < B; b++) add(dhead, dy + (size_t)b * T * D, (size_t)T * D);
}

/* n floats at *p from U(-r, r) (r > 0) or all v (r = 0); *p moves past them. */
static void init_part(float **p, int64_t n, double r, float v, uint64_t seed, uint64_t stream) {
  if (r > 0)
    mlprt_fill_uniform(*p, (size_t)n, (float)-r, (float)r, seed, stream);
  else
    for (int64_t i = 0; i < n; i++) (*p)[i] = v;
  *p += n;
}

void mlprt_encoder_init(float *params, const int32_t *cfg, uint64_t seed, uint64_t stream) {
  MLPRT_CHECK(params && cfg, "encoder buffer is NULL");
  Enc e = enc_of(cfg, 1);
  int64_t D = e.D, FF = e.FF;
  uint64_t s = stream * 64; /* a stream per tensor */
  float *p = params;
  if (e.F != D) {
    init_part(&p, D * e.F, 1 / sqrt(e.F), 0, seed, s++);
    init_part(&p, D, 1 / sqrt(e.F), 0, seed, s++);
  }
  if (e.pos == MLPRT_POS_LEARNED) {
    mlprt_fill_normal(p, (size_t)e.T * D, 0.0f, 0.02f, seed, s++);
    p += (int64_t)e.T * D;
  }
  for (int k = 0; k < e.NL; k++) {
    init_part(&p, 3 * D * D, sqrt(6.0 / (4 * D)), 0, seed, s++); /* xavier_uniform of (3D, D) */
    init_part(&p, 3 * D, 0, 0, seed, s++);
    init_part(&p, D * D, 1 / sqrt(D), 0, seed, s++);
    init_part(&p, D, 0, 0, seed, s++);
    init_part(&p, FF * D, 1 / sqrt(D), 0, seed, s++);
    init_part(&p, FF, 1 / sqrt(D), 0, seed, s++);
    init_part(&p, D * FF, 1 / sqrt(FF), 0, seed, s++);
    init_part(&p, D, 1 / sqrt(FF), 0, seed, s++);
    for (int n = 0; n < 2; n++) {
      init_part(&p, D, 0, 1, seed, s++);
      init_part(&p, D, 0, 0, seed, s++);
    }
  }
}
