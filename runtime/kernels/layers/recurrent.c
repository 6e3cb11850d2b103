/* recurrent.c — the tanh RNN, LSTM and GRU cells over a whole sequence,
 * forward and backward through time. Consumes inputs (B, T, F), PyTorch's
 * weights W_ih (G*H, F), W_hh (G*H, H) and biases b_ih, b_hh (G*H); produces
 * the output sequence or last state, the per-step record backward reads, and
 * accumulated gradients (see the cell layouts in include/mlp/abi.def).
 *
 * The input projections of every step are one GEMM straight into the
 * record; each step then adds its hidden projection (one GEMM over the batch)
 * and runs the gate arithmetic in one fused loop. Backward keeps the gate
 * gradients of every step so that the input side is again one GEMM each for
 * dinp, dW_ih and db_ih.
 *
 * A mask (B, T), when given, leaves out the steps whose value is 0 (an
 * embedding's padding): such a step carries the state (and an LSTM's cell)
 * over unchanged, passes the gradient back unchanged, and outputs zeros;
 * the last state is the one of the row's last counted step. Over a text
 * padded in front this is PyTorch's packed sequences. */
#include "mlp/layers.h"

#include "fastmath.h"
#include "gemm.h"
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "mlp/tensor.h"

/* Gates per cell (G) and floats of the per-step record (S, in units of H):
 * rnn [h], lstm [i f g o | c | h], gru [r z n | hn | h], where i..o, r..n
 * are the activated gates, hn = W_hn h_prev + b_hn and h is the state. */
int mlprt_recurrent_gates(int cell) {
  return cell == MLPRT_CELL_LSTM ? 4 : cell == MLPRT_CELL_GRU ? 3 : 1;
}

static int cell_record(int cell) {
  return cell == MLPRT_CELL_LSTM ? 6 : cell == MLPRT_CELL_GRU ? 5 : 1;
}

void mlprt_recurrent_sizes(int cell, int64_t B, int64_t T, int64_t H, int64_t *seq, int64_t *work) {
  int64_t G = mlprt_recurrent_gates(cell);
  *seq = B * T * cell_record(cell) * H;
  *work = B * T * G * H + B * G * H + 2 * B * H; /* backward's; forward uses the first B*G*H */
}

static void check_rnn(const float *inp, const float *w_ih, const float *w_hh, int cell, int B, int T, int F,
                      int H) {
  MLPRT_CHECK(cell >= MLPRT_CELL_RNN && cell <= MLPRT_CELL_GRU, "recurrent cell %d", cell);
  MLPRT_CHECK(B > 0 && T > 0 && F > 0 && H > 0, "recurrent dims B=%d T=%d F=%d H=%d", B, T, F, H);
  MLPRT_CHECK(inp && w_ih && w_hh, "recurrent input or weight is NULL");
}

/* Every row of (rows, ld) starts with bias (n), or with zeros without one. */
static void fill_rows(float *m, int rows, int ld, const float *bias, int n) {
  for (int r = 0; r < rows; r++) {
    if (bias)
      memcpy(m + (size_t)r * ld, bias, (size_t)n * sizeof(float));
    else
      memset(m + (size_t)r * ld, 0, (size_t)n * sizeof(float));
  }
}

/* How the flags lay a direction out: the time of its k-th step, the
 * offset between a step's record and its predecessor's, and where its
 * outputs go (row stride and column in a row of out or dout). */
typedef struct {
  bool seqs, rev;
  int ldo, col;
} Dir;

static Dir direction(int flags, int H) {
  bool pair = flags & MLPRT_RNN_PAIR, rev = flags & MLPRT_RNN_REVERSE;
  return (Dir){flags & MLPRT_RNN_SEQUENCES, rev, pair ? 2 * H : H, pair && rev ? H : 0};
}

static int step_time(const Dir *d, int k, int T) {
  return d->rev ? T - 1 - k : k;
}

/* Whether step t of row b counts: always without a mask. */
static bool counts(const float *mask, int b, int t, int T) {
  return !mask || mask[(size_t)b * T + t] != 0.0f;
}

void mlprt_recurrent_forward(float *out, float *seq, float *work, const float *inp, const float *mask,
                             const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                             int cell, int B, int T, int F, int H, int flags) {
  check_rnn(inp, w_ih, w_hh, cell, B, T, F, H);
  MLPRT_CHECK(out && seq && work, "recurrent output or scratch is NULL");
  int G = mlprt_recurrent_gates(cell), GH = G * H, S = cell_record(cell) * H, hoff = S - H;
  int keep = cell == MLPRT_CELL_LSTM ? 4 * H : hoff; /* where the carried state (and cell) starts */
  size_t ld = (size_t)T * S; /* the record's row stride for one step across the batch */
  Dir dir = direction(flags, H);
  ptrdiff_t back = dir.rev ? -S : S; /* from a step's record to its predecessor's */
  /* Input projections of all B*T steps into the gate slots of the record. */
  fill_rows(seq, B * T, S, b_ih, GH);
  mlprt_sgemm(CblasNoTrans, CblasTrans, B * T, GH, F, 1.0f, inp, F, w_ih, F, 1.0f, seq, S);
  for (int k = 0; k < T; k++) {
    int t = step_time(&dir, k, T);
    /* work (B, G*H) = b_hh + h_prev W_hh^T; h_prev = 0 before the first step */
    fill_rows(work, B, GH, b_hh, GH);
    if (k > 0)
      mlprt_sgemm(CblasNoTrans, CblasTrans, B, GH, H, 1.0f, seq + (size_t)t * S - back + hoff,
                  (int)ld, w_hh, H, 1.0f, work, GH);
    for (int b = 0; b < B; b++) {
      float *r = seq + (size_t)b * ld + (size_t)t * S;
      const float *prev = k > 0 ? r - back : NULL;
      const float *hp = work + (size_t)b * GH;
      float *h = r + hoff;
      bool on = counts(mask, b, t, T);
      if (!on) {
        /* a left-out step: the state (and cell) carried over, zeros before the first */
        for (int j = 0; j < S; j++) r[j] = prev && j >= keep ? prev[j] : 0.0f;
      } else if (cell == MLPRT_CELL_RNN) {
        for (int j = 0; j < H; j++) h[j] = mlprt_tanhf(r[j] + hp[j]);
      } else if (cell == MLPRT_CELL_LSTM) {
        float *c = r + 4 * H;
        for (int j = 0; j < H; j++) {
          float i = mlprt_sigmoidf(r[j] + hp[j]), f = mlprt_sigmoidf(r[H + j] + hp[H + j]);
          float g = mlprt_tanhf(r[2 * H + j] + hp[2 * H + j]);
          float o = mlprt_sigmoidf(r[3 * H + j] + hp[3 * H + j]);
          float cj = i * g + (prev ? f * prev[4 * H + j] : 0.0f);
          r[j] = i, r[H + j] = f, r[2 * H + j] = g, r[3 * H + j] = o;
          c[j] = cj;
          h[j] = o * mlprt_tanhf(cj);
        }
      } else {
        float *hn = r + 3 * H;
        for (int j = 0; j < H; j++) {
          float rg = mlprt_sigmoidf(r[j] + hp[j]), z = mlprt_sigmoidf(r[H + j] + hp[H + j]);
          float n = mlprt_tanhf(r[2 * H + j] + rg * hp[2 * H + j]);
          r[j] = rg, r[H + j] = z, r[2 * H + j] = n;
          hn[j] = hp[2 * H + j];
          h[j] = (1.0f - z) * n + (prev ? z * prev[hoff + j] : 0.0f);
        }
      }
      if (dir.seqs && on)
        memcpy(out + ((size_t)b * T + t) * dir.ldo + dir.col, h, (size_t)H * sizeof(float));
      else if (dir.seqs)
        memset(out + ((size_t)b * T + t) * dir.ldo + dir.col, 0, (size_t)H * sizeof(float));
      else if (k == T - 1)
        memcpy(out + (size_t)b * dir.ldo + dir.col, h, (size_t)H * sizeof(float));
    }
  }
}

/* dbias (n) += the first n columns of every row of m (rows, ld). */
static void add_column_sums(float *dbias, const float *m, int rows, int ld, int n) {
  for (int r = 0; r < rows; r++) {
    const float *d = m + (size_t)r * ld;
    for (int c = 0; c < n; c++) dbias[c] += d[c];
  }
}

void mlprt_recurrent_backward(float *dinp, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh,
                              float *work, const float *dout, const float *inp, const float *mask,
                              const float *seq, const float *w_ih, const float *w_hh, int cell, int B, int T,
                              int F, int H, int flags) {
  check_rnn(inp, w_ih, w_hh, cell, B, T, F, H);
  MLPRT_CHECK(dout && seq && work, "recurrent dout, record or scratch is NULL");
  int G = mlprt_recurrent_gates(cell), GH = G * H, S = cell_record(cell) * H, hoff = S - H;
  size_t ld = (size_t)T * S;
  /* work: dxp (B, T, G*H) the gate gradients of every step (input side),
   * dhp (B, G*H) one step's on the hidden side, dh and dc (B, H) */
  float *dxp = work, *dhp = dxp + (size_t)B * T * GH, *dh = dhp + (size_t)B * GH, *dc = dh + (size_t)B * H;
  memset(dh, 0, (size_t)B * H * sizeof(float));
  memset(dc, 0, (size_t)B * H * sizeof(float));
  Dir dir = direction(flags, H);
  ptrdiff_t back = dir.rev ? -S : S;
  for (int k = T - 1; k >= 0; k--) {
    int t = step_time(&dir, k, T);
    for (int b = 0; b < B; b++) {
      const float *r = seq + (size_t)b * ld + (size_t)t * S;
      const float *prev = k > 0 ? r - back : NULL;
      float *gx = dxp + ((size_t)b * T + t) * GH, *gh = dhp + (size_t)b * GH;
      float *dhb = dh + (size_t)b * H, *dcb = dc + (size_t)b * H;
      bool on = counts(mask, b, t, T);
      if (dir.seqs && on) {
        const float *d = dout + ((size_t)b * T + t) * dir.ldo + dir.col;
        for (int j = 0; j < H; j++) dhb[j] += d[j];
      } else if (!dir.seqs && k == T - 1) {
        const float *d = dout + (size_t)b * dir.ldo + dir.col;
        for (int j = 0; j < H; j++) dhb[j] += d[j];
      }
      if (!on) {
        /* the state passes through: dh and dc carry on, the gates get nothing */
        memset(gx, 0, (size_t)GH * sizeof(float));
        memset(gh, 0, (size_t)GH * sizeof(float));
        continue;
      }
      if (cell == MLPRT_CELL_RNN) {
        for (int j = 0; j < H; j++) {
          float a = dhb[j] * (1.0f - r[j] * r[j]);
          gx[j] = gh[j] = a;
          dhb[j] = 0.0f;
        }
      } else if (cell == MLPRT_CELL_LSTM) {
        for (int j = 0; j < H; j++) {
          float i = r[j], f = r[H + j], g = r[2 * H + j], o = r[3 * H + j];
          float tc = mlprt_tanhf(r[4 * H + j]);
          float cprev = prev ? prev[4 * H + j] : 0.0f;
          float dct = dcb[j] + dhb[j] * o * (1.0f - tc * tc);
          gx[j] = dct * g * i * (1.0f - i);
          gx[H + j] = dct * cprev * f * (1.0f - f);
          gx[2 * H + j] = dct * i * (1.0f - g * g);
          gx[3 * H + j] = dhb[j] * tc * o * (1.0f - o);
          dcb[j] = dct * f;
          dhb[j] = 0.0f;
        }
        memcpy(gh, gx, (size_t)GH * sizeof(float));
      } else {
        for (int j = 0; j < H; j++) {
          float rg = r[j], z = r[H + j], n = r[2 * H + j], hn = r[3 * H + j];
          float hprev = prev ? prev[hoff + j] : 0.0f;
          float dn = dhb[j] * (1.0f - z) * (1.0f - n * n);
          gx[j] = gh[j] = dn * hn * rg * (1.0f - rg);
          gx[H + j] = gh[H + j] = dhb[j] * (hprev - n) * z * (1.0f - z);
          gx[2 * H + j] = dn;
          gh[2 * H + j] = dn * rg;
          dhb[j] *= z; /* the direct path h = ... + z h_prev */
        }
      }
    }
    if (db_hh) add_column_sums(db_hh, dhp, B, GH, GH);
    if (k == 0) break;
    const float *hprev = seq + (size_t)t * S - back + hoff;
    if (dw_hh)
      mlprt_sgemm(CblasTrans, CblasNoTrans, GH, H, B, 1.0f, dhp, GH, hprev, (int)ld, 1.0f,
                  dw_hh, H);
    mlprt_sgemm(CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dhp, GH, w_hh, H, 1.0f, dh, H);
  }
  if (dinp)
    mlprt_sgemm(CblasNoTrans, CblasNoTrans, B * T, F, GH, 1.0f, dxp, GH, w_ih, F, 1.0f, dinp,
                F);
  if (dw_ih)
    mlprt_sgemm(CblasTrans, CblasNoTrans, GH, F, B * T, 1.0f, dxp, GH, inp, F, 1.0f, dw_ih, F);
  if (db_ih) add_column_sums(db_ih, dxp, B * T, GH, GH);
}
