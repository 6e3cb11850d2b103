/* check_parity.c — training parity with PyTorch. The C side of the harness:
 * it draws initial weights (mlp/init.h) and batches from the counter RNG,
 * writes them as raw float32/int32 files, trains with the runtime's kernels
 * (layers, softmax cross-entropy, optimizers) and runs tests/parity/parity.py,
 * which trains the same model in PyTorch from the same files. The loss at
 * every one of 100 steps must agree to 1e-4 relative, and the final weights
 * closely. Architectures: (a) an MLP 20-32-16-3 with ReLU; (b) a CNN, conv
 * 1->4 3x3 pad 1, ReLU, max-pool 2, flatten, dense 64->3; both with softmax
 * cross-entropy. Runs: (a) with Adam; (b) with SGD + momentum; and, to hold
 * the rest of the update path to PyTorch too, (a) with AdamW (biases
 * exempt), cosine annealing and clipping by norm, and (a) with centered
 * RMSprop + momentum, L2 on the weights only, a step schedule and clipping by
 * value; and (a) with a layer norm after its first ReLU, with Adam; (c) an
 * LSTM and (d) a GRU, 8 units over 6 steps of 5 features, their last state
 * into dense 8->3, with Adam; (e) a post-norm and (f) a pre-norm transformer
 * encoder of two blocks (mlprt_encoder_forward), pooled into dense 8->3, with
 * Adam, against PyTorch's nn.TransformerEncoder; with padding masks (texts
 * padded in front, some rows all padding but their last step): (h) run (e)
 * masked by its codes, against pack_padded_sequence, and (i) encoder (f)
 * masked, against src_key_padding_mask and a mean over the real steps.
 * Without python3-torch the test is skipped (test_skip). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/init.h"
#include "mlp/layers.h"
#include "mlp/loss.h"
#include "mlp/optim.h"
#include "mlp/sched.h"
#include "mlp/tensor.h"
#include "tests/unit/testutil.h"

#define PYTHON "/usr/bin/python3"
#define STEPS 100
#define SEED 20240611u
#define MAX_TENSORS 11
#define ENC_D 8  /* (f), (g): the encoders' width */
#define ENC_FF 16

/* One training run: the architecture and update rule (parity.py keys the
 * same settings by name), the parameter tensors in slab order (weight, bias
 * pairs) and everything both sides need. */
typedef struct {
  const char *name;             /* file prefix and parity.py's key */
  bool cnn;                     /* architecture (b), else (a) */
  bool ln;                      /* (a) with a layer norm after the first ReLU */
  int cell;                     /* (c), (d): 1 + the MlprtCell of the recurrent layer; 0: none */
  int vocab;                    /* (e): the embedding's codes (its table first); 0: none */
  int32_t enc[MLPRT_ENC_NCFG];  /* (f), (g): the encoder's configuration, its slab tensor 0; T 0: none */
  MlprtOptConfig opt;
  MlprtSched sched;             /* the lr at step t is mlprt_sched_lr(&sched, t) */
  float clip_norm, clip_value;  /* 0: no clipping */
  bool exempt_biases;           /* biases take no L2 and no weight decay */
  int ntensors;
  int ndim[MAX_TENSORS];
  int64_t shape[MAX_TENSORS][4];
  int batch, in_size, classes; /* in_size: floats per example */
  float *params, *grads;       /* [np] the slab and its gradients */
  uint8_t *decay;              /* [np] 1 for weights, 0 for biases */
  size_t np;
  float *x;                    /* [STEPS, batch, in_size] */
  bool masked;                 /* (h), (i): padding in front of each row, 0 in mask */
  float *mask;                 /* [STEPS, batch, steps] 1 for a real step, 0 for padding */
  int32_t *y;                  /* [STEPS, batch] */
  float loss[STEPS];
} Model;

static size_t tensor_numel(const Model *m, int t) {
  size_t n = 1;
  for (int d = 0; d < m->ndim[t]; d++) n *= (size_t)m->shape[t][d];
  return n;
}

/* PyTorch's default initialization of Linear and Conv2d, drawn from our RNG:
 * weights Kaiming-uniform with a = sqrt(5) (bound 1/sqrt(fan_in)), biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the fan of the weight before them.
 * Tensors come in (weight, bias) pairs; each draws from its own stream. A
 * pair of vectors is a layer norm's: weight U(0.5, 1.5), bias U(-0.1, 0.1)
 * (PyTorch starts them at 1 and 0; spread values test the gradients more). */
static void model_init(Model *m) {
  m->np = 0;
  for (int t = 0; t < m->ntensors; t++) m->np += tensor_numel(m, t);
  m->params = mlprt_alloc_aligned(m->np * sizeof(float));
  m->grads = mlprt_alloc_aligned(m->np * sizeof(float));
  m->decay = mlprt_alloc_aligned(m->np);
  float *p = m->params;
  int t0 = 0, nrec = m->vocab ? 9 : 4;
  if (m->vocab) {
    /* the embedding table: PyTorch's N(0, 1) */
    MlprtInit e = {.kind = MLPRT_INIT_NORMAL, .a = 0, .b = 1};
    mlprt_init_fill(p, m->shape[0], 2, &e, SEED, 0);
    p += tensor_numel(m, t0++);
  }
  if (m->cell) {
    /* a recurrent layer's W_ih, W_hh, b_ih, b_hh (each direction's): PyTorch's U(-1/sqrt(H), 1/sqrt(H)),
     * H the units */
    double k = 1.0 / sqrt((double)m->shape[t0 + 1][1]);
    MlprtInit u = {.kind = MLPRT_INIT_UNIFORM, .a = -k, .b = k};
    for (; t0 < nrec; t0++) {
      if (t0 < 2) memset(m->decay + (p - m->params), 1, tensor_numel(m, t0));
      mlprt_init_fill(p, m->shape[t0], m->ndim[t0], &u, SEED, (uint64_t)t0);
      p += tensor_numel(m, t0);
    }
  }
  if (m->enc[MLPRT_ENC_T]) {
    /* the encoder's slab U(-1/sqrt(D), 1/sqrt(D)), its layer norms' weights 1 + that */
    int64_t n = (int64_t)tensor_numel(m, 0), D = ENC_D, blk = 4 * D * D + 2 * D * ENC_FF + 9 * D + ENC_FF;
    mlprt_fill_uniform(p, (size_t)n, -1.0f / sqrtf(ENC_D), 1.0f / sqrtf(ENC_D), SEED, 0);
    for (int64_t b = n - m->enc[MLPRT_ENC_LAYERS] * blk; b < n; b += blk)
      for (int64_t j = 0; j < D; j++) p[b + blk - 4 * D + j] += 1, p[b + blk - 2 * D + j] += 1;
    p += n;
    t0 = 1;
  }
  for (int t = t0; t < m->ntensors; t += 2) {
    memset(m->decay + (p - m->params), 1, tensor_numel(m, t));
    if (m->ndim[t] == 1) {
      MlprtInit w = {.kind = MLPRT_INIT_UNIFORM, .a = 0.5, .b = 1.5},
                b = {.kind = MLPRT_INIT_UNIFORM, .a = -0.1, .b = 0.1};
      mlprt_init_fill(p, m->shape[t], 1, &w, SEED, (uint64_t)t);
      p += tensor_numel(m, t);
      mlprt_init_fill(p, m->shape[t + 1], 1, &b, SEED, (uint64_t)t + 1);
      p += tensor_numel(m, t + 1);
      continue;
    }
    int64_t fan_in, fan_out;
    mlprt_init_fans(m->shape[t], m->ndim[t], &fan_in, &fan_out);
    MlprtInit w = {.kind = MLPRT_INIT_KAIMING_UNIFORM,
                   .gain = mlprt_init_gain(MLPRT_GAIN_LEAKY_RELU, sqrt(5.0))};
    mlprt_init_fill(p, m->shape[t], m->ndim[t], &w, SEED, (uint64_t)t);
    p += tensor_numel(m, t);
    double bound = 1.0 / sqrt((double)fan_in);
    MlprtInit b = {.kind = MLPRT_INIT_UNIFORM, .a = -bound, .b = bound};
    mlprt_init_fill(p, m->shape[t + 1], m->ndim[t + 1], &b, SEED, (uint64_t)t + 1);
    p += tensor_numel(m, t + 1);
  }
  size_t nx = (size_t)STEPS * m->batch * m->in_size;
  m->x = mlprt_alloc_aligned(nx * sizeof(float));
  m->y = mlprt_alloc_aligned((size_t)STEPS * m->batch * sizeof(int32_t));
  mlprt_fill_normal(m->x, nx, 0.0f, 1.0f, SEED, 100);
  for (size_t i = 0; m->vocab && i < nx; i++) m->x[i] = (float)((int)(fabsf(m->x[i]) * 1000) % m->vocab);
  if (!m->masked) return;
  /* each row's first 0 .. T - 1 steps are padding (code 0 for an embedding, whose other codes are
   * then 1 .. vocab - 1) */
  int T = m->vocab ? m->in_size : m->enc[MLPRT_ENC_T];
  m->mask = mlprt_alloc_aligned((size_t)STEPS * m->batch * T * sizeof(float));
  for (int i = 0; i < STEPS * m->batch; i++) {
    int pad = (int)(fabsf(m->x[(size_t)i * m->in_size]) * 7919) % T;
    for (int t = 0; t < T; t++) {
      float *x = m->x + (size_t)i * m->in_size + t;
      m->mask[(size_t)i * T + t] = t >= pad;
      if (m->vocab) *x = t < pad ? 0.0f : 1 + (float)((int)*x % (m->vocab - 1));
    }
  }
}

static void model_free(Model *m) {
  mlprt_free_aligned(m->params);
  mlprt_free_aligned(m->grads);
  mlprt_free_aligned(m->decay);
  mlprt_free_aligned(m->x);
  mlprt_free_aligned(m->y);
  mlprt_free_aligned(m->mask);
}

/* Index of the largest of v[0..n). */
static int32_t argmax(const double *v, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

/* Labels that depend on the input, so both sides learn something and the
 * losses fall over the run rather than wander: the MLP's label is the
 * largest of the first three features; the CNN's is the brightest of three
 * regions of the image (top half, bottom-left, bottom-right quarters); a
 * recurrent model's the largest of the first three features summed over
 * the (real) steps; an embedded sequence's the commonest third of the
 * (real) codes. */
static void make_labels(Model *m) {
  for (int i = 0; i < STEPS * m->batch; i++) {
    const float *x = m->x + (size_t)i * m->in_size;
    double v[3] = {0, 0, 0};
    if (m->vocab) {
      for (int s = 0; s < m->in_size; s++)
        if (!m->masked || x[s] != 0) v[3 * (int)x[s] / m->vocab] += 1 + 0.01 * s;
    } else if (m->cell || m->enc[MLPRT_ENC_T]) {
      for (int s = 0; s < m->in_size / 5; s++)
        for (int c = 0; c < 3 && (!m->mask || m->mask[(size_t)i * (m->in_size / 5) + s]); c++)
          v[c] += x[s * 5 + c];
    } else if (!m->cnn) {
      for (int c = 0; c < 3; c++) v[c] = x[c];
    } else {
      for (int h = 0; h < 8; h++)
        for (int w = 0; w < 8; w++) v[h < 4 ? 0 : w < 4 ? 1 : 2] += x[h * 8 + w] * (h < 4 ? 0.5 : 1.0);
    }
    m->y[i] = argmax(v, 3);
  }
}

/* Clip, then update with the scheduled rate: PyTorch's order. */
static void update(Model *m, MlprtOptim *opt, int t) {
  if (m->clip_norm > 0.0f) mlprt_clip_grad_norm(m->grads, m->np, m->clip_norm);
  if (m->clip_value > 0.0f) mlprt_clip_grad_value(m->grads, m->np, m->clip_value);
  const uint8_t *decay = m->exempt_biases ? m->decay : NULL;
  mlprt_optim_step(opt, m->params, m->grads, decay, mlprt_sched_lr(&m->sched, t));
}

/* (a) dense 20->32, ReLU, dense 32->16, ReLU, dense 16->3, softmax CE.
 * Slab: w1 (32,20) b1 (32) w2 (16,32) b2 (16) w3 (3,16) b3 (3); with m->ln,
 * a layer norm over the 32 after the first ReLU, its weight (32) and bias
 * (32) after b1. */
static void mlp_train(Model *m) {
  enum { B = 16, D0 = 20, D1 = 32, D2 = 16, K = 3 };
  int ln = m->ln ? 2 * D1 : 0;
  float *w1 = m->params, *b1 = w1 + D1 * D0, *lw = b1 + D1, *lb = lw + D1, *w2 = b1 + D1 + ln,
        *b2 = w2 + D2 * D1, *w3 = b2 + D2, *b3 = w3 + K * D2;
  float *g1 = m->grads, *gb1 = g1 + D1 * D0, *glw = gb1 + D1, *glb = glw + D1, *g2 = gb1 + D1 + ln,
        *gb2 = g2 + D2 * D1, *g3 = gb2 + D2, *gb3 = g3 + K * D2;
  static float h1[B * D1], hn[B * D1], h2[B * D2], logits[B * K], mean[B], rstd[B]; /* activations */
  static float dh1[B * D1], dhn[B * D1], dh2[B * D2], dz1[B * D1], dz2[B * D2], dlogits[B * K];
  const float *in2 = m->ln ? hn : h1; /* what the second dense layer reads */
  MlprtOptim opt;
  mlprt_optim_init(&opt, &m->opt, m->np);
  for (int t = 0; t < STEPS; t++) {
    const float *x = m->x + (size_t)t * B * D0;
    mlprt_dense_forward(h1, x, w1, b1, B, D0, D1);
    mlprt_relu_forward(h1, h1, B * D1);
    if (m->ln) mlprt_layernorm_forward(hn, mean, rstd, h1, lw, lb, B, D1, 1e-5f);
    mlprt_dense_forward(h2, in2, w2, b2, B, D1, D2);
    mlprt_relu_forward(h2, h2, B * D2);
    mlprt_dense_forward(logits, h2, w3, b3, B, D2, K);
    m->loss[t] = mlprt_softmax_xent(dlogits, NULL, logits, m->y + t * B, NULL, 0.0f, B, K);
    /* backward in reverse order; every gradient accumulates, so zero first */
    memset(m->grads, 0, m->np * sizeof(float));
    memset(dh1, 0, sizeof dh1);
    memset(dh2, 0, sizeof dh2);
    memset(dz1, 0, sizeof dz1);
    memset(dz2, 0, sizeof dz2);
    memset(dhn, 0, sizeof dhn);
    mlprt_dense_backward(dh2, g3, gb3, dlogits, h2, w3, B, D2, K);
    mlprt_relu_backward(dz2, dh2, h2, B * D2);
    mlprt_dense_backward(m->ln ? dhn : dh1, g2, gb2, dz2, in2, w2, B, D1, D2);
    if (m->ln) mlprt_layernorm_backward(dh1, glw, glb, dhn, h1, lw, mean, rstd, B, D1);
    mlprt_relu_backward(dz1, dh1, h1, B * D1);
    mlprt_dense_backward(NULL, g1, gb1, dz1, x, w1, B, D0, D1);
    update(m, &opt, t);
  }
  mlprt_optim_free(&opt);
}

/* (b) conv 1->4 3x3 pad 1 on 8x8, ReLU, max-pool 2, flatten, dense 64->3,
 * softmax CE. Slab: cw (4,1,3,3) cb (4) dw (3,64) db (3). */
static void cnn_train(Model *m) {
  enum { B = 8, H = 8, OC = 4, P = 4, F = OC * P * P, K = 3 };
  float *cw = m->params, *cb = cw + OC * 9, *dw = cb + OC, *db = dw + K * F;
  float *gcw = m->grads, *gcb = gcw + OC * 9, *gdw = gcb + OC, *gdb = gdw + K * F;
  static float conv[B * OC * H * H], pool[B * F], logits[B * K];
  static float dconv[B * OC * H * H], dz[B * OC * H * H], dpool[B * F], dlogits[B * K];
  static int32_t arg[B * F];
  float *col = mlprt_alloc_aligned(mlprt_conv2d_col_size(1, H, H, 3, 3, 1, 1) * sizeof(float));
  MlprtOptim opt;
  mlprt_optim_init(&opt, &m->opt, m->np);
  for (int t = 0; t < STEPS; t++) {
    const float *x = m->x + (size_t)t * B * H * H;
    mlprt_conv2d_forward(conv, col, x, cw, cb, B, 1, H, H, OC, 3, 3, 1, 1);
    mlprt_relu_forward(conv, conv, B * OC * H * H);
    mlprt_maxpool2d_forward(pool, arg, conv, B, OC, H, H, 2, 2, 2);
    mlprt_dense_forward(logits, pool, dw, db, B, F, K); /* (B, OC, P, P) read as (B, F) */
    m->loss[t] = mlprt_softmax_xent(dlogits, NULL, logits, m->y + t * B, NULL, 0.0f, B, K);
    memset(m->grads, 0, m->np * sizeof(float));
    memset(dpool, 0, sizeof dpool);
    memset(dconv, 0, sizeof dconv);
    memset(dz, 0, sizeof dz);
    mlprt_dense_backward(dpool, gdw, gdb, dlogits, pool, dw, B, F, K);
    mlprt_maxpool2d_backward(dconv, dpool, arg, B, OC, H, H, 2, 2, 2);
    mlprt_relu_backward(dz, dconv, conv, B * OC * H * H);
    mlprt_conv2d_backward(NULL, gcw, gcb, col, dz, x, cw, B, 1, H, H, OC, 3, 3, 1, 1);
    update(m, &opt, t);
  }
  mlprt_optim_free(&opt);
  mlprt_free_aligned(col);
}

/* The dense head H->3 of a sequence run (c)-(f) at step t, its weights and
 * gradients at off in the slab: the loss of h (batch, H) into m->loss[t],
 * the gradients zeroed, then the head's own and dh (batch, H). */
static void head_step(Model *m, int t, const float *h, float *dh, int H, size_t off) {
  enum { K = 3, MAXB = 8 };
  static float logits[MAXB * K], dlogits[MAXB * K];
  ck_assert_int_le(m->batch, MAXB);
  const float *dw = m->params + off, *db = dw + K * H;
  float *gdw = m->grads + off, *gdb = gdw + K * H;
  mlprt_dense_forward(logits, h, dw, db, m->batch, H, K);
  m->loss[t] = mlprt_softmax_xent(dlogits, NULL, logits, m->y + t * m->batch, NULL, 0.0f, m->batch, K);
  memset(m->grads, 0, m->np * sizeof(float));
  memset(dh, 0, (size_t)m->batch * H * sizeof(float));
  mlprt_dense_backward(dh, gdw, gdb, dlogits, h, dw, m->batch, H, K);
}

/* (c), (d): a recurrent layer of H units over T steps of F features, its
 * last state into dense H->3, softmax CE. Slab: W_ih (G*H, F) W_hh (G*H, H)
 * b_ih (G*H) b_hh (G*H) dw (3, H) db (3). */
static void rnn_train(Model *m) {
  enum { B = 8, T = 6, F = 5, H = 8 };
  int cell = m->cell - 1, GH = mlprt_recurrent_gates(cell) * H;
  float *wih = m->params, *whh = wih + GH * F, *bih = whh + GH * H, *bhh = bih + GH;
  float *gwih = m->grads, *gwhh = gwih + GH * F, *gbih = gwhh + GH * H, *gbhh = gbih + GH;
  int64_t nseq, nwork;
  mlprt_recurrent_sizes(cell, B, T, H, &nseq, &nwork);
  float *seq = mlprt_alloc_aligned((size_t)nseq * sizeof(float));
  float *work = mlprt_alloc_aligned((size_t)nwork * sizeof(float));
  static float h[B * H], dh[B * H];
  MlprtOptim opt;
  mlprt_optim_init(&opt, &m->opt, m->np);
  for (int t = 0; t < STEPS; t++) {
    const float *x = m->x + (size_t)t * B * T * F;
    mlprt_recurrent_forward(h, seq, work, x, NULL, wih, whh, bih, bhh, cell, B, T, F, H, 0);
    head_step(m, t, h, dh, H, (size_t)GH * (F + H + 2));
    mlprt_recurrent_backward(NULL, gwih, gwhh, gbih, gbhh, work, dh, x, NULL, seq, wih, whh, cell, B, T, F, H,
                             0);
    update(m, &opt, t);
  }
  mlprt_optim_free(&opt);
  mlprt_free_aligned(seq);
  mlprt_free_aligned(work);
}

/* (e): an embedding of V codes in D dimensions over T steps, read by a
 * bidirectional LSTM of H units whose two last states (the forward one's at
 * the last step, the reverse one's at the first) go into dense 2H->3; (h)
 * the same with the codes as the LSTM's padding mask.
 * Slab: table (V, D), then W_ih W_hh b_ih b_hh of the forward and of the
 * reverse direction, dw (3, 2H), db (3). */
static void emb_train(Model *m) {
  enum { B = 8, T = 6, D = 5, H = 8, K = 3, G = 4 };
  int V = m->vocab, per = G * H * (D + H + 2);
  float *table = m->params, *dw = table + V * D + 2 * per, *db = dw + K * 2 * H;
  float *gtable = m->grads, *gdw = gtable + V * D + 2 * per, *gdb = gdw + K * 2 * H;
  int64_t nseq, nwork;
  mlprt_recurrent_sizes(MLPRT_CELL_LSTM, B, T, H, &nseq, &nwork);
  float *seq = mlprt_alloc_aligned(2 * (size_t)nseq * sizeof(float));
  float *work = mlprt_alloc_aligned((size_t)nwork * sizeof(float));
  static float e[B * T * D], de[B * T * D], h[B * 2 * H], dh[B * 2 * H], logits[B * K], dlogits[B * K];
  MlprtOptim opt;
  mlprt_optim_init(&opt, &m->opt, m->np);
  for (int t = 0; t < STEPS; t++) {
    const float *x = m->x + (size_t)t * B * T;
    mlprt_embedding_forward(e, x, table, B * T, V, D);
    for (int d = 0; d < 2; d++) {
      float *w = table + V * D + d * per, *g = w + G * H * (D + H);
      mlprt_recurrent_forward(h, seq + d * nseq, work, e, m->masked ? x : NULL, w, w + G * H * D, g,
                              g + G * H, MLPRT_CELL_LSTM, B, T, D, H,
                              MLPRT_RNN_PAIR | (d ? MLPRT_RNN_REVERSE : 0));
    }
    mlprt_dense_forward(logits, h, dw, db, B, 2 * H, K);
    m->loss[t] = mlprt_softmax_xent(dlogits, NULL, logits, m->y + t * B, NULL, 0.0f, B, K);
    memset(m->grads, 0, m->np * sizeof(float));
    memset(dh, 0, sizeof dh);
    memset(de, 0, sizeof de);
    mlprt_dense_backward(dh, gdw, gdb, dlogits, h, dw, B, 2 * H, K);
    for (int d = 0; d < 2; d++) {
      float *w = table + V * D + d * per, *gw = gtable + V * D + d * per, *gb = gw + G * H * (D + H);
      mlprt_recurrent_backward(de, gw, gw + G * H * D, gb, gb + G * H, work, dh, e, m->masked ? x : NULL,
                               seq + d * nseq, w, w + G * H * D, MLPRT_CELL_LSTM, B, T, D, H,
                               MLPRT_RNN_PAIR | (d ? MLPRT_RNN_REVERSE : 0));
    }
    mlprt_embedding_backward(gtable, de, x, B * T, V, D);
    update(m, &opt, t);
  }
  mlprt_optim_free(&opt);
  mlprt_free_aligned(seq);
  mlprt_free_aligned(work);
}

/* (f), (g): a transformer encoder over T steps of F features, pooled, into
 * dense D->3, softmax CE; (i) with the padding mask. Slab: the encoder's (mlprt_encoder_params), dw (3, D),
 * db (3). */
static void enc_train(Model *m) {
  enum { B = 8, D = ENC_D };
  int64_t nrec, nwork;
  mlprt_encoder_sizes(m->enc, B, &nrec, &nwork);
  float *rec = mlprt_alloc_aligned((size_t)nrec * sizeof(float));
  float *work = mlprt_alloc_aligned((size_t)nwork * sizeof(float));
  static float h[B * D], dh[B * D];
  MlprtOptim opt;
  mlprt_optim_init(&opt, &m->opt, m->np);
  for (int t = 0; t < STEPS; t++) {
    const float *x = m->x + (size_t)t * B * m->in_size;
    const float *mask = m->mask ? m->mask + (size_t)t * B * m->enc[MLPRT_ENC_T] : NULL;
    mlprt_encoder_forward(h, rec, x, mask, m->params, m->enc, B, 0.0f, 0, 0, 0);
    head_step(m, t, h, dh, D, tensor_numel(m, 0));
    mlprt_encoder_backward(NULL, m->grads, work, dh, x, mask, rec, m->params, m->enc, B, 0.0f);
    update(m, &opt, t);
  }
  mlprt_optim_free(&opt);
  mlprt_free_aligned(rec);
  mlprt_free_aligned(work);
}

static void write_file(const char *dir, const char *name, const char *suffix, const void *data,
                       size_t bytes) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot write %s", path);
  ck_assert_uint_eq(fwrite(data, 1, bytes, f), bytes);
  fclose(f);
}

/* n floats from DIR/NAMESUFFIX, which must hold exactly that many. */
static float *read_floats(const char *dir, const char *name, const char *suffix, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
  size_t len = 0;
  char *data = test_read_file(path, &len);
  ck_assert_msg(data != NULL, "PyTorch side wrote no %s", path);
  ck_assert_uint_eq(len, n * sizeof(float));
  return (float *)data;
}

static void remove_file(const char *dir, const char *name, const char *suffix) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
  unlink(path);
}

/* Whether slab entry i of m is an attention key bias: the softmax over the
 * keys ignores a shift all keys share, so its exact gradient is zero.
 * PyTorch's is float rounding noise, which Adam scales up to steps of its
 * learning rate; the kernel's is exactly zero, so it stays where it began. */
static bool key_bias(const Model *m, size_t i) {
  if (!m->enc[MLPRT_ENC_T]) return false;
  int64_t D = ENC_D, blk = 4 * D * D + 2 * D * ENC_FF + 9 * D + ENC_FF, n = (int64_t)tensor_numel(m, 0);
  int64_t first = n - m->enc[MLPRT_ENC_LAYERS] * blk, at = (int64_t)i - first;
  return at >= 0 && at < n - first && at % blk >= 3 * D * D + D && at % blk < 3 * D * D + 2 * D;
}

static const char *const FILES[] = {"_params.f32", "_x.f32",    "_y.i32",
                                    "_mask.f32",   "_loss.f32", "_final.f32"};

/* Compare the C run of m with PyTorch's from dir: the loss at every step to
 * 1e-4 relative; the final weights to 1e-4 of the largest weight, after
 * 100 steps of float32 rounding differences. */
static void compare(const char *dir, const Model *m) {
  float *loss = read_floats(dir, m->name, "_loss.f32", STEPS);
  float *final_t = read_floats(dir, m->name, "_final.f32", m->np);
  float *initial = read_floats(dir, m->name, "_params.f32", m->np);
  double worst = 0.0;
  for (int t = 0; t < STEPS; t++) {
    double rel = fabs((double)m->loss[t] - loss[t]) / fabs((double)loss[t]);
    ck_assert_msg(rel <= 1e-4, "%s step %d: loss %.8g here, %.8g in PyTorch (relative %.3g)", m->name, t,
                  (double)m->loss[t], (double)loss[t], rel);
    worst = fmax(worst, rel);
  }
  double maxw = 0.0, maxd = 0.0;
  for (size_t i = 0; i < m->np; i++) {
    if (key_bias(m, i)) {
      ck_assert_float_eq(m->params[i], initial[i]);
      continue;
    }
    maxw = fmax(maxw, fabs(final_t[i]));
    maxd = fmax(maxd, fabs((double)m->params[i] - final_t[i]));
  }
  ck_assert_msg(maxd <= 1e-4 * maxw, "%s final weights differ by %.3g (largest weight %.3g)", m->name, maxd,
                maxw);
  /* the run learned something: the parity covers real training */
  ck_assert_float_lt(loss[STEPS - 1], 0.8f * loss[0]);
  printf("parity %s: %d steps, loss %.4f -> %.4f, worst relative loss difference %.2e, "
         "final weights within %.2e\n",
         m->name, STEPS, (double)loss[0], (double)loss[STEPS - 1], worst, maxd);
  free(loss);
  free(final_t);
  free(initial);
}

START_TEST(parity_1_pytorch) {
  const char *probe[] = {PYTHON, "-c", "import torch", NULL};
  TestRun r = test_run(probe, NULL);
  bool have_torch = r.status == 0;
  test_run_free(&r);
  if (!have_torch) {
    test_skip("parity_1_pytorch", "python3-torch", PYTHON " -c 'import torch' failed");
    return;
  }
  enum { NRUNS = 12 };
  Model runs[NRUNS];
  for (int k = 0; k < NRUNS; k++) {
    bool cnn = k == 1;
    Model mlp = {.ntensors = 6, .ndim = {2, 1, 2, 1, 2, 1},
                 .shape = {{32, 20}, {32}, {16, 32}, {16}, {3, 16}, {3}}, .batch = 16, .in_size = 20};
    Model conv = {.cnn = true, .ntensors = 4, .ndim = {4, 1, 2, 1},
                  .shape = {{4, 1, 3, 3}, {4}, {3, 64}, {3}}, .batch = 8, .in_size = 64};
    Model ln = {.ln = true,
                .ntensors = 8,
                .ndim = {2, 1, 1, 1, 2, 1, 2, 1},
                .shape = {{32, 20}, {32}, {32}, {32}, {16, 32}, {16}, {3, 16}, {3}},
                .batch = 16,
                .in_size = 20};
    /* (c) LSTM, (d) GRU: 8 units over 6 steps of 5 features */
    int g = k == 5 ? 4 : 3;
    Model rec = {.cell = 1 + (k == 5 ? MLPRT_CELL_LSTM : MLPRT_CELL_GRU),
                 .ntensors = 6,
                 .ndim = {2, 2, 1, 1, 2, 1},
                 .shape = {{g * 8, 5}, {g * 8, 8}, {g * 8}, {g * 8}, {3, 8}, {3}},
                 .batch = 8,
                 .in_size = 30};
    /* (e) an embedding of 12 codes in 5 dimensions over 6 steps, a bidirectional LSTM of 8 units */
    Model emb = {.cell = 1 + MLPRT_CELL_LSTM,
                 .vocab = 12,
                 .ntensors = 11,
                 .ndim = {2, 2, 2, 1, 1, 2, 2, 1, 1, 2, 1},
                 .shape = {{12, 5}, {32, 5}, {32, 8}, {32}, {32}, {32, 5}, {32, 8}, {32}, {32}, {3, 16}, {3}},
                 .batch = 8,
                 .in_size = 6};
    /* (f) two post-norm blocks, gelu, learned positions, mean pooling; (g) two pre-norm blocks, relu,
     * sinusoidal positions, max pooling: width 8, 2 heads, 16 hidden units, over 6 steps of 5 features */
    Model enc = {.enc = {6, 5, ENC_D, 2, ENC_FF, 2, k == 9, k == 9 ? MLPRT_ENC_RELU : MLPRT_ENC_GELU,
                         k == 9 ? MLPRT_POS_SINUSOIDAL : MLPRT_POS_LEARNED,
                         k == 9 ? MLPRT_POOL_MAX : MLPRT_POOL_MEAN, 0},
                 .ntensors = 3,
                 .ndim = {1, 2, 1},
                 .shape = {{0}, {3, ENC_D}, {3}},
                 .batch = 8,
                 .in_size = 30};
    enc.shape[0][0] = mlprt_encoder_params(enc.enc);
    runs[k] = cnn ? conv : k == 4 ? ln : k == 7 || k == 10 ? emb : k >= 8 ? enc : k >= 5 ? rec : mlp;
    runs[k].masked = k >= 10; /* (h) masked (e), (i) masked (f) */
  }
  /* the two required runs: Adam on (a), SGD with momentum on (b) */
  runs[0].name = "mlp_adam";
  runs[0].opt = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  runs[0].opt.lr = 0.01;
  mlprt_sched_constant(&runs[0].sched, 0.01);
  runs[1].name = "cnn_sgd";
  runs[1].opt = mlprt_optim_defaults(MLPRT_OPT_SGD);
  runs[1].opt.momentum = 0.9;
  mlprt_sched_constant(&runs[1].sched, 0.05);
  /* AdamW, weight decay on weights only, cosine annealing over the run,
   * global-norm clipping that bites on most steps (94 of 100) */
  runs[2].name = "mlp_adamw";
  runs[2].opt = mlprt_optim_defaults(MLPRT_OPT_ADAMW);
  runs[2].opt.weight_decay = 0.05;
  runs[2].exempt_biases = true;
  mlprt_sched_cosine(&runs[2].sched, 0.01, 0, STEPS, 0.001);
  runs[2].clip_norm = 0.5f;
  /* centered RMSprop with momentum, L2 on weights only, lr halved every 30
   * steps, gradients clamped elementwise (on about a third of the steps) */
  runs[3].name = "mlp_rmsprop";
  runs[3].opt = mlprt_optim_defaults(MLPRT_OPT_RMSPROP);
  runs[3].opt.centered = true;
  runs[3].opt.momentum = 0.5;
  runs[3].opt.l2 = 1e-3;
  runs[3].exempt_biases = true;
  mlprt_sched_step(&runs[3].sched, 0.003, 30, 0.5);
  runs[3].clip_value = 0.2f;
  /* the layer norm's backward held to PyTorch's through Adam */
  runs[4].name = "mlp_ln_adam";
  runs[4].opt = mlprt_optim_defaults(MLPRT_OPT_ADAM);
  runs[4].opt.lr = 0.01;
  mlprt_sched_constant(&runs[4].sched, 0.01);
  /* the recurrent layers' backward through time, through Adam */
  runs[5].name = "lstm_adam";
  runs[6].name = "gru_adam";
  /* the embedding's sparse gradient and both directions' backward; the
   * encoders' attention, layer norms and feed-forward: through Adam */
  runs[7].name = "emb_bilstm_adam";
  runs[8].name = "enc_post_adam";
  runs[9].name = "enc_pre_adam";
  /* the padding masks, through Adam */
  runs[10].name = "emb_bilstm_masked_adam";
  runs[11].name = "enc_post_masked_adam";
  for (int k = 5; k < NRUNS; k++) {
    runs[k].opt = mlprt_optim_defaults(MLPRT_OPT_ADAM);
    runs[k].opt.lr = 0.01;
    mlprt_sched_constant(&runs[k].sched, 0.01);
  }
  char *dir = test_tmpdir();
  ck_assert_ptr_nonnull(dir);
  for (int k = 0; k < NRUNS; k++) {
    Model *m = &runs[k];
    model_init(m);
    make_labels(m);
    write_file(dir, m->name, "_params.f32", m->params, m->np * sizeof(float));
    write_file(dir, m->name, "_x.f32", m->x, (size_t)STEPS * m->batch * m->in_size * sizeof(float));
    write_file(dir, m->name, "_y.i32", m->y, (size_t)STEPS * m->batch * sizeof(int32_t));
    if (m->mask)
      write_file(dir, m->name, "_mask.f32", m->mask,
                 (size_t)STEPS * m->batch * (m->vocab ? m->in_size : m->enc[MLPRT_ENC_T]) * sizeof(float));
    if (m->cnn) cnn_train(m);
    else if (m->vocab) emb_train(m);
    else if (m->cell) rnn_train(m);
    else if (m->enc[MLPRT_ENC_T]) enc_train(m);
    else mlp_train(m);
  }
  const char *argv[] = {PYTHON, "tests/parity/parity.py", dir, NULL};
  r = test_run(argv, NULL);
  ck_assert_msg(r.status == 0, "parity.py failed (status %d):\n%s", r.status, r.err);
  test_run_free(&r);
  for (int k = 0; k < NRUNS; k++) {
    compare(dir, &runs[k]);
    for (size_t f = 0; f < sizeof FILES / sizeof FILES[0]; f++) remove_file(dir, runs[k].name, FILES[f]);
    model_free(&runs[k]);
  }
  rmdir(dir);
  free(dir);
}
END_TEST

Suite *parity_suite(void); /* the runner finds it by name */
Suite *parity_suite(void) {
  Suite *s = suite_create("parity");
  TCase *tc = tcase_create("parity");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, parity_1_pytorch);
  suite_add_tcase(s, tc);
  return s;
}
