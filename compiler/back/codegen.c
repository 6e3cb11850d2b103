/* codegen.c — IR → LLVM module (see codegen.h). Consumes an MlpIr whose
 * memory plans are final; produces an LLVM module holding the generated
 * training functions, the program descriptor and main. */
#include "codegen.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgutil.h"
#include "mlp/init.h"
#include "mlp/layers.h"
#include "mlp/run.h"
#include "mlp/tensor.h"

/* The address base + offset bytes (a planned buffer). */
static LLVMValueRef at(Cg *c, int64_t offset) {
  LLVMValueRef idx = ci64(c, offset);
  return LLVMBuildInBoundsGEP2(c->b, c->i8, c->base, &idx, 1, "");
}

static LLVMValueRef buf(Cg *c, const MlpIrModel *m, int b) {
  return at(c, m->bufs[b].offset);
}

/* ---- the model's functions --------------------------------------------- */

/* Floats of one direction's record of recurrent layer l over the model's batch. */
static int64_t recurrent_seq(const MlpIrModel *m, const MlpIrLayer *l) {
  int64_t seq, work;
  mlprt_recurrent_sizes(l->cell, m->batch, l->steps, l->units, &seq, &work);
  return seq;
}

/* The input buffer of layer i (the previous output, or x). */
static int in_buf(const MlpIrModel *m, int i) {
  return i == 0 ? m->x_buf : m->layers[i - 1].out_buf;
}

/* The padding mask of a sequence layer (the model's input, its codes), or a null pointer. */
static LLVMValueRef mask_ptr(Cg *c, const MlpIrModel *m, const MlpIrLayer *l) {
  return l->masked ? buf(c, m, m->x_buf) : LLVMConstNull(c->ptr);
}

/* The scratch of a conv layer, or a null pointer when it needs none. */
static LLVMValueRef col_ptr(Cg *c, const MlpIrModel *m, const MlpIrLayer *l) {
  return l->col_buf >= 0 ? buf(c, m, l->col_buf) : LLVMConstNull(c->ptr);
}

/* A gelu layer keeps its pre-activation out for backward, then out = gelu(out). */
static void emit_saved_act(Cg *c, const MlpIrModel *m, const MlpIrLayer *l, LLVMValueRef out,
                           LLVMValueRef count) {
  if (l->pre_buf < 0) return;
  LLVMValueRef bytes = LLVMBuildNSWMul(c->b, count, ci64(c, 4), "");
  LLVMBuildMemCpy(c->b, buf(c, m, l->pre_buf), MLPRT_ALIGN, out, MLPRT_ALIGN, bytes);
  emit_act(c, out, count, l->act);
}

/* The three arrays of a sparse input's MlprtSparseBatch at x. */
typedef struct {
  LLVMValueRef ptr, col, val;
} SparseIn;

static SparseIn sparse_in(Cg *c, const MlpIrModel *m) {
  int64_t x = m->bufs[m->x_buf].offset;
  return (SparseIn){LLVMBuildLoad2(c->b, c->ptr, at(c, x + offsetof(MlprtSparseBatch, ptr)), "sp_ptr"),
                    LLVMBuildLoad2(c->b, c->ptr, at(c, x + offsetof(MlprtSparseBatch, col)), "sp_col"),
                    LLVMBuildLoad2(c->b, c->ptr, at(c, x + offsetof(MlprtSparseBatch, val)), "sp_val")};
}

static LLVMValueRef emit_forward(Cg *c, const MlpIrModel *m, const char *name) {
  LLVMTypeRef ps[] = {c->ptr, c->i64, c->i64, c->i64, c->i64};
  begin_fn(c, name, c->voidt, ps, 5);
  LLVMValueRef n = LLVMGetParam(c->fn, 1), train = LLVMGetParam(c->fn, 2);
  LLVMValueRef step = LLVMGetParam(c->fn, 3), seed = LLVMGetParam(c->fn, 4);
  LLVMValueRef n32 = LLVMBuildTrunc(c->b, n, c->i32, "");
  LLVMValueRef params = buf(c, m, m->params_buf);
  uint32_t site = 0;
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    LLVMValueRef in = buf(c, m, in_buf(m, i)), out = buf(c, m, l->out_buf);
    LLVMValueRef count = LLVMBuildNSWMul(c->b, n, ci64(c, l->out_size), "");
    if (l->op == MLP_OP_FOREST) {
      LLVMValueRef fa[] = {out, in, felem(c, params, ci64(c, l->w_off)), n32, ci32(c, l->in_size),
                           ci32(c, m->trees), ci32(c, m->depth), ci32(c, l->out_size)};
      abi_call(c, MLP_ABI_mlprt_forest_forward, fa, 8);
    } else if (l->op == MLP_OP_SVM) {
      LLVMValueRef sa[] = {out, in, felem(c, params, ci64(c, l->w_off)), n32, ci32(c, l->in_size),
                           ci32(c, m->svm_classes)};
      abi_call(c, MLP_ABI_mlprt_svm_forward, sa, 6);
    } else if (l->op == MLP_OP_BOOST) {
      /* the trees' sums, then the base scores and the link in a dense layer's epilogue */
      LLVMValueRef ba[] = {out, in, felem(c, params, ci64(c, l->w_off)), n32, ci32(c, l->in_size),
                           ci32(c, m->trees * l->out_size), ci32(c, m->depth), ci32(c, l->out_size)};
      abi_call(c, MLP_ABI_mlprt_boost_forward, ba, 8);
      emit_bias_act(c, out, felem(c, params, ci64(c, l->b_off)), n, l->out_size, l->act);
    } else if (l->op == MLP_OP_DENSE && i == 0 && m->sparse_in) {
      /* Over the rows' nonzeros; the bias rides in the fused epilogue. */
      LLVMValueRef w = felem(c, params, ci64(c, l->w_off));
      LLVMValueRef bias = l->no_bias ? NULL : felem(c, params, ci64(c, l->b_off));
      SparseIn x = sparse_in(c, m);
      LLVMValueRef sa[] = {out, x.ptr, x.col, x.val, w, LLVMConstNull(c->ptr), n32, ci32(c, l->in_size),
                           ci32(c, l->out_size)};
      abi_call(c, MLP_ABI_mlprt_sparse_dense_forward, sa, 9);
      emit_bias_act(c, out, bias, n, l->out_size, l->pre_buf >= 0 ? MLP_ACT_LINEAR : l->act);
      emit_saved_act(c, m, l, out, count);
    } else if (l->op == MLP_OP_DENSE) {
      /* The GEMM without bias; the bias rides in the fused epilogue. */
      LLVMValueRef w = felem(c, params, ci64(c, l->w_off));
      LLVMValueRef bias = l->no_bias ? NULL : felem(c, params, ci64(c, l->b_off));
      LLVMValueRef da[] = {out,
                           in,
                           w,
                           LLVMConstNull(c->ptr),
                           n32,
                           LLVMConstInt(c->i32, (unsigned)l->in_size, 0),
                           LLVMConstInt(c->i32, (unsigned)l->out_size, 0)};
      abi_call(c, MLP_ABI_mlprt_dense_forward, da, 7);
      emit_bias_act(c, out, bias, n, l->out_size, l->pre_buf >= 0 ? MLP_ACT_LINEAR : l->act);
      emit_saved_act(c, m, l, out, count);
    } else if (l->op == MLP_OP_CONV2D) {
      LLVMValueRef w = felem(c, params, ci64(c, l->w_off)), bias = felem(c, params, ci64(c, l->b_off));
      LLVMValueRef p[] = {out, col_ptr(c, m, l), in, w, bias};
      call_conv(c, MLP_ABI_mlprt_conv2d_forward, l, n32, p, 5);
      if (l->pre_buf < 0) emit_act(c, out, count, l->act);
      emit_saved_act(c, m, l, out, count);
    } else if (l->op == MLP_OP_MAXPOOL2D) {
      LLVMValueRef p[] = {out, buf(c, m, l->argmax_buf), in};
      call_pool(c, MLP_ABI_mlprt_maxpool2d_forward, l, n32, p, 3);
    } else if (l->op == MLP_OP_AVGPOOL2D) {
      LLVMValueRef p[] = {out, in};
      call_pool(c, MLP_ABI_mlprt_avgpool2d_forward, l, n32, p, 2);
    } else if (l->op == MLP_OP_BATCHNORM) {
      /* Training normalises by the batch and moves the running statistics;
       * inference normalises by the running statistics. */
      LLVMValueRef gamma = felem(c, params, ci64(c, l->w_off)), beta = felem(c, params, ci64(c, l->b_off));
      LLVMValueRef state = buf(c, m, m->state_buf), stats = buf(c, m, l->stats_buf);
      LLVMValueRef rmean = felem(c, state, ci64(c, l->state_off));
      LLVMValueRef rvar = felem(c, state, ci64(c, l->state_off + l->in_c));
      LLVMValueRef nc = ci32(c, l->in_c), ns = ci32(c, l->in_h * l->in_w);
      LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "bn_train");
      LLVMBasicBlockRef no = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "bn_infer");
      LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "bn_join");
      LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntNE, train, ci64(c, 0), ""), yes, no);
      LLVMPositionBuilderAtEnd(c->b, yes);
      LLVMValueRef ta[] = {out,
                           stats,
                           felem(c, stats, ci64(c, l->in_c)),
                           rmean,
                           rvar,
                           in,
                           gamma,
                           beta,
                           n32,
                           nc,
                           ns,
                           cf32(c, l->momentum),
                           cf32(c, l->eps)};
      abi_call(c, MLP_ABI_mlprt_batchnorm_forward_train, ta, 13);
      LLVMBuildBr(c->b, join);
      LLVMPositionBuilderAtEnd(c->b, no);
      LLVMValueRef ia[] = {out, in, gamma, beta, rmean, rvar, n32, nc, ns, cf32(c, l->eps)};
      abi_call(c, MLP_ABI_mlprt_batchnorm_forward_infer, ia, 10);
      LLVMBuildBr(c->b, join);
      LLVMPositionBuilderAtEnd(c->b, join);
    } else if (l->op == MLP_OP_LAYERNORM) {
      /* Each row by its own statistics, in training and inference alike. */
      LLVMValueRef stats = buf(c, m, l->stats_buf);
      LLVMValueRef la[] = {out,
                           stats,
                           felem(c, stats, ci64(c, m->batch)),
                           in,
                           felem(c, params, ci64(c, l->w_off)),
                           felem(c, params, ci64(c, l->b_off)),
                           n32,
                           ci32(c, l->in_size),
                           cf32(c, l->eps)};
      abi_call(c, MLP_ABI_mlprt_layernorm_forward, la, 9);
    } else if (l->op == MLP_OP_RECURRENT) {
      for (int d = 0; d < (l->bidirectional ? 2 : 1); d++) {
        LLVMValueRef p[9] = {out, felem(c, buf(c, m, l->seq_buf), ci64(c, d * recurrent_seq(m, l))),
                             buf(c, m, l->work_buf), in, mask_ptr(c, m, l)};
        recurrent_slices(c, l, d, felem(c, params, ci64(c, l->w_off)), p + 5);
        call_recurrent(c, MLP_ABI_mlprt_recurrent_forward, l, d, n32, p, 9);
      }
    } else if (l->op == MLP_OP_POOL_STEPS) {
      LLVMValueRef pa[] = {
          out, in, mask_ptr(c, m, l), n32, ci32(c, l->steps), ci32(c, l->features), ci32(c, l->pool)};
      abi_call(c, MLP_ABI_mlprt_steps_pool_forward, pa, 7);
    } else if (l->op == MLP_OP_EMBEDDING) {
      LLVMValueRef ea[] = {out,
                           in,
                           felem(c, params, ci64(c, l->w_off)),
                           LLVMBuildNSWMul(c->b, n32, ci32(c, l->steps), ""),
                           ci32(c, l->vocab),
                           ci32(c, l->units)};
      abi_call(c, MLP_ABI_mlprt_embedding_forward, ea, 6);
    } else if (l->op == MLP_OP_ENCODER) {
      /* dropout while training only, at four sites a block */
      LLVMValueRef p = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntNE, train, ci64(c, 0), ""),
                                       cf32(c, l->rate), cf32(c, 0), "");
      LLVMValueRef ea[] = {out,
                           buf(c, m, l->seq_buf),
                           in,
                           mask_ptr(c, m, l),
                           felem(c, params, ci64(c, l->w_off)),
                           encoder_cfg(c, l),
                           n32,
                           p,
                           seed,
                           LLVMConstInt(c->i32, site, 0),
                           step};
      site += 4 * (uint32_t)l->enc[MLPRT_ENC_LAYERS];
      abi_call(c, MLP_ABI_mlprt_encoder_forward, ea, 11);
    } else if (l->op == MLP_OP_DROPOUT) {
      /* Training draws the mask; inference is the identity (a copy, so the
       * next layer's input buffer is the same either way). */
      LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "drop");
      LLVMBasicBlockRef no = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "keep");
      LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "join");
      LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntNE, train, ci64(c, 0), ""), yes, no);
      LLVMPositionBuilderAtEnd(c->b, yes);
      LLVMValueRef da[] = {out,  buf(c, m, l->mask_buf),          in,  count, cf32(c, l->rate),
                           seed, LLVMConstInt(c->i32, site++, 0), step};
      abi_call(c, MLP_ABI_mlprt_dropout_forward, da, 8);
      LLVMBuildBr(c->b, join);
      LLVMPositionBuilderAtEnd(c->b, no);
      LLVMBuildMemCpy(c->b, out, MLPRT_ALIGN, in, MLPRT_ALIGN, LLVMBuildNSWMul(c->b, count, ci64(c, 4), ""));
      LLVMBuildBr(c->b, join);
      LLVMPositionBuilderAtEnd(c->b, join);
    }
  }
  LLVMBuildRetVoid(c->b);
  return c->fn;
}

/* The arguments a normalization's backward shares (batchnorm, layernorm):
 * dinp, dgamma, dbeta, dout, inp, gamma, then the saved mean and rstd,
 * nstats floats apart in layer i's statistics buffer, into a[0..7]. */
static void norm_grads(Cg *c, const MlpIrModel *m, int i, LLVMValueRef din, LLVMValueRef dout, int64_t nstats,
                       LLVMValueRef *a) {
  const MlpIrLayer *l = &m->layers[i];
  LLVMValueRef params = buf(c, m, m->params_buf), grads = buf(c, m, m->grads_buf);
  LLVMValueRef stats = buf(c, m, l->stats_buf);
  a[0] = din;
  a[1] = felem(c, grads, ci64(c, l->w_off));
  a[2] = felem(c, grads, ci64(c, l->b_off));
  a[3] = dout;
  a[4] = buf(c, m, in_buf(m, i));
  a[5] = felem(c, params, ci64(c, l->w_off));
  a[6] = stats;
  a[7] = felem(c, stats, ci64(c, nstats));
}

/* The multiclass hinge (torch.nn.MultiMarginLoss, margin 1) of the
 * logits z of a softmax output, read from its probabilities p as log p
 * (p clamped away from 0), whose differences are the logits': per row,
 * the sum over classes j other than the label y of max(0, 1 - z_y + z_j),
 * over k classes, and the mean over the n rows. dz_j = 1 / (k n) for each
 * j whose term is positive, dz_y = minus their sum. */
static LLVMValueRef emit_hinge(Cg *c, const MlpIrModel *m, LLVMValueRef n) {
  const MlpIrLayer *last = &m->layers[m->nlayers - 1];
  int64_t k = m->out_size;
  LLVMValueRef p = buf(c, m, last->out_buf), y = buf(c, m, m->y_buf), dz = buf(c, m, last->dout_buf);
  LLVMValueRef inv = xdiv(c, cf32(c, 1), LLVMBuildSIToFP(c->b, LLVMBuildNSWMul(c->b, n, ci64(c, k), ""),
                                                           c->f32, ""));
  LLVMValueRef acc = slot(c, c->f64, cf64(c, 0));
  LLVMValueRef zy = slot(c, c->f32, cf32(c, 0)), active = slot(c, c->f32, cf32(c, 0));
  LLVMValueRef tiny = cf32(c, 1e-30);
  Loop r = loop_begin(c, n);
  LLVMValueRef row = LLVMBuildNSWMul(c->b, r.iv, ci64(c, k), "");
  LLVMValueRef pr = felem(c, p, row), yr = felem(c, y, row), dr = felem(c, dz, row);
  LLVMBuildStore(c->b, cf32(c, 0), zy);
  LLVMBuildStore(c->b, cf32(c, 0), active);
  Loop j = loop_begin(c, ci64(c, k)); /* z_y: the one-hot row picks it */
  LLVMValueRef pj = fload(c, pr, j.iv);
  pj = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, pj, tiny, ""), pj, tiny, "");
  LLVMValueRef lp = intrinsic(c, "llvm.log", c->f32, &pj, 1);
  LLVMBuildStore(c->b, xadd(c, LLVMBuildLoad2(c->b, c->f32, zy, ""), xmul(c, fload(c, yr, j.iv), lp)), zy);
  loop_end(c, &j);
  LLVMValueRef zyv = LLVMBuildLoad2(c->b, c->f32, zy, "");
  j = loop_begin(c, ci64(c, k));
  pj = fload(c, pr, j.iv);
  pj = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, pj, tiny, ""), pj, tiny, "");
  lp = intrinsic(c, "llvm.log", c->f32, &pj, 1);
  LLVMValueRef margin = xadd(c, xsub(c, cf32(c, 1), zyv), lp);
  LLVMValueRef other = LLVMBuildFCmp(c->b, LLVMRealOEQ, fload(c, yr, j.iv), cf32(c, 0), "");
  LLVMValueRef on = LLVMBuildAnd(c->b, other, LLVMBuildFCmp(c->b, LLVMRealOGT, margin, cf32(c, 0), ""), "");
  LLVMValueRef g = LLVMBuildSelect(c->b, on, inv, cf32(c, 0), "");
  fstore(c, g, dr, j.iv);
  LLVMBuildStore(c->b, xadd(c, LLVMBuildLoad2(c->b, c->f32, active, ""), g), active);
  LLVMValueRef term = LLVMBuildSelect(c->b, on, margin, cf32(c, 0), "");
  LLVMBuildStore(c->b, LLVMBuildFAdd(c->b, LLVMBuildLoad2(c->b, c->f64, acc, ""),
                                     LLVMBuildFPExt(c->b, term, c->f64, ""), ""), acc);
  loop_end(c, &j);
  LLVMValueRef sum = LLVMBuildLoad2(c->b, c->f32, active, "");
  j = loop_begin(c, ci64(c, k)); /* the label's logit takes minus the others' sum */
  fstore(c, xsub(c, fload(c, dr, j.iv), xmul(c, fload(c, yr, j.iv), sum)), dr, j.iv);
  loop_end(c, &j);
  loop_end(c, &r);
  LLVMValueRef denom = LLVMBuildSIToFP(c->b, LLVMBuildNSWMul(c->b, n, ci64(c, k), ""), c->f64, "");
  return LLVMBuildFDiv(c->b, LLVMBuildLoad2(c->b, c->f64, acc, ""), denom, "");
}

/* The loss of the output layer against y, and its gradient with respect to
 * the output layer's pre-activation written to dz; returns the mean loss.
 * Softmax + cross-entropy and sigmoid + binary cross-entropy both have the
 * gradient (p - y) / n (y smoothed when asked); over a linear output with
 * n k values, mean squared error has 2 (p - y) / (n k), mean absolute
 * error sign(p - y) / (n k) (0 at 0, as PyTorch's), Huber (p - y) clamped
 * to [-delta, delta] over n k. */
static LLVMValueRef emit_loss(Cg *c, const MlpIrModel *m, LLVMValueRef n) {
  if (m->loss == MLPRT_LOSS_HINGE) return emit_hinge(c, m, n);
  const MlpIrLayer *last = &m->layers[m->nlayers - 1];
  int64_t k = m->out_size;
  bool regression = m->task == MLP_TASK_REGRESSION;
  LLVMValueRef p = buf(c, m, last->out_buf), y = buf(c, m, m->y_buf), dz = buf(c, m, last->dout_buf);
  LLVMValueRef total = LLVMBuildNSWMul(c->b, n, ci64(c, k), "");
  LLVMValueRef nf = LLVMBuildSIToFP(c->b, regression ? total : n, c->f32, "");
  LLVMValueRef scale = xdiv(c, cf32(c, m->loss == MLPRT_LOSS_MSE ? 2 : 1), nf);
  LLVMValueRef acc = slot(c, c->f64, cf64(c, 0));
  Loop i = loop_begin(c, total);
  LLVMValueRef pi = fload(c, p, i.iv), yi = fload(c, y, i.iv);
  /* Label smoothing (PyTorch's): the target is (1 - e) onehot + e / k,
   * which the loss and the gradient p - target both read. */
  float e = m->task == MLP_TASK_MULTICLASS ? m->label_smoothing : 0;
  if (e > 0) yi = xadd(c, xmul(c, yi, cf32(c, 1 - e)), cf32(c, e / (float)k));
  LLVMValueRef diff = xsub(c, pi, yi);
  LLVMValueRef term, grad = diff;
  if (regression) {
    LLVMValueRef mag = intrinsic(c, "llvm.fabs", c->f32, &diff, 1);
    LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, diff, cf32(c, 0), "");
    LLVMValueRef neg = LLVMBuildFCmp(c->b, LLVMRealOLT, diff, cf32(c, 0), "");
    term = xmul(c, diff, diff);
    if (m->loss == MLPRT_LOSS_MAE) {
      term = mag;
      LLVMValueRef below = LLVMBuildSelect(c->b, neg, cf32(c, -1), cf32(c, 0), "");
      grad = LLVMBuildSelect(c->b, pos, cf32(c, 1), below, "");
    } else if (m->loss == MLPRT_LOSS_HUBER) {
      float d = m->huber_delta;
      LLVMValueRef near = LLVMBuildFCmp(c->b, LLVMRealOLT, mag, cf32(c, d), "");
      term = LLVMBuildSelect(c->b, near, xmul(c, cf32(c, 0.5), term),
                             xmul(c, cf32(c, d), xsub(c, mag, cf32(c, 0.5 * d))), "");
      grad = LLVMBuildSelect(c->b, pos, cf32(c, d), cf32(c, -d), "");
      grad = LLVMBuildSelect(c->b, near, diff, grad, "");
    }
  } else {
    /* -y log p (and -(1-y) log(1-p) for binary), with p clamped away from 0
     * so a confident mistake costs a large finite loss, not inf. */
    LLVMValueRef tiny = cf32(c, 1e-12);
    LLVMValueRef big = LLVMBuildFCmp(c->b, LLVMRealOGT, pi, tiny, "");
    LLVMValueRef pc = LLVMBuildSelect(c->b, big, pi, tiny, "");
    term = xmul(c, LLVMBuildFNeg(c->b, yi, ""), intrinsic(c, "llvm.log", c->f32, &pc, 1));
    if (m->task == MLP_TASK_BINARY) {
      LLVMValueRef q = xsub(c, cf32(c, 1), pi);
      LLVMValueRef qbig = LLVMBuildFCmp(c->b, LLVMRealOGT, q, tiny, "");
      LLVMValueRef qc = LLVMBuildSelect(c->b, qbig, q, tiny, "");
      LLVMValueRef lq = intrinsic(c, "llvm.log", c->f32, &qc, 1);
      term = xsub(c, term, xmul(c, xsub(c, cf32(c, 1), yi), lq));
    }
  }
  fstore(c, xmul(c, grad, scale), dz, i.iv);
  LLVMValueRef sum =
      LLVMBuildFAdd(c->b, LLVMBuildLoad2(c->b, c->f64, acc, ""), LLVMBuildFPExt(c->b, term, c->f64, ""), "");
  LLVMBuildStore(c->b, sum, acc);
  loop_end(c, &i);
  LLVMValueRef denom = LLVMBuildSIToFP(c->b, regression ? total : n, c->f64, "");
  return LLVMBuildFDiv(c->b, LLVMBuildLoad2(c->b, c->f64, acc, ""), denom, "");
}

/* dz *= act'(out), in place, from the forward's saved output (gelu: its
 * saved input, d/dx x Phi(x) = Phi(x) + x phi(x)). */
static void emit_act_backward(Cg *c, LLVMValueRef dz, LLVMValueRef out, LLVMValueRef count, MlpAct act) {
  if (act == MLP_ACT_LINEAR) return;
  Loop i = loop_begin(c, count);
  LLVMValueRef g = fload(c, dz, i.iv), o = fload(c, out, i.iv), r;
  if (act == MLP_ACT_GELU) {
    LLVMValueRef s = xmul(c, o, cf32(c, M_SQRT1_2)), nh = xmul(c, xmul(c, o, o), cf32(c, -0.5));
    LLVMValueRef cdf = xmul(c, cf32(c, 0.5), xadd(c, cf32(c, 1), call(c, "erff", c->f32, &c->f32, 1, &s)));
    LLVMValueRef pdf = xmul(c, cf32(c, 0.39894228040143267794), intrinsic(c, "llvm.exp", c->f32, &nh, 1));
    r = xmul(c, g, xadd(c, cdf, xmul(c, o, pdf)));
  } else if (act == MLP_ACT_RELU) {
    LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, o, cf32(c, 0), "");
    r = LLVMBuildSelect(c->b, pos, g, cf32(c, 0), "");
  } else if (act == MLP_ACT_LEAKY_RELU) {
    /* out > 0 exactly where the input was */
    LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, o, cf32(c, 0), "");
    r = LLVMBuildSelect(c->b, pos, g, xmul(c, g, cf32(c, 0.01)), "");
  } else if (act == MLP_ACT_SIGMOID) {
    r = xmul(c, g, xmul(c, o, xsub(c, cf32(c, 1), o)));
  } else {
    r = xmul(c, g, xsub(c, cf32(c, 1), xmul(c, o, o)));
  }
  fstore(c, r, dz, i.iv);
  loop_end(c, &i);
}

/* What layer l's activation backward reads: its output, or a gelu's input. */
static int saved_act(const MlpIrLayer *l) {
  return l->pre_buf >= 0 ? l->pre_buf : l->out_buf;
}

static LLVMValueRef emit_backward(Cg *c, const MlpIrModel *m, const char *name) {
  LLVMTypeRef ps[] = {c->ptr, c->i64};
  begin_fn(c, name, c->f64, ps, 2);
  LLVMValueRef n = LLVMGetParam(c->fn, 1);
  LLVMValueRef n32 = LLVMBuildTrunc(c->b, n, c->i32, "");
  LLVMValueRef params = buf(c, m, m->params_buf), grads = buf(c, m, m->grads_buf);
  memzero(c, grads, ci64(c, m->n_params * 4));
  LLVMValueRef loss = emit_loss(c, m, n);
  /* Backward runs the layers in reverse forward order; the kernels
   * accumulate, so each input gradient is zeroed just before. */
  for (int i = m->nlayers - 1; i >= 0; i--) {
    const MlpIrLayer *l = &m->layers[i];
    /* Layers before the first weighted one have no gradient (lower.c). */
    if (l->op == MLP_OP_FLATTEN || l->dout_buf < 0) continue;
    LLVMValueRef dout = buf(c, m, l->dout_buf);
    bool feeds = i > 0 && m->layers[i - 1].dout_buf >= 0;
    LLVMValueRef din = feeds ? buf(c, m, m->layers[i - 1].dout_buf) : LLVMConstNull(c->ptr);
    LLVMValueRef count = LLVMBuildNSWMul(c->b, n, ci64(c, l->out_size), "");
    if (feeds) memzero(c, din, LLVMBuildNSWMul(c->b, n, ci64(c, l->in_size * 4), ""));
    if (l->op == MLP_OP_DENSE) {
      /* The loss already gave the output layer's pre-activation gradient. */
      if (i < m->nlayers - 1) emit_act_backward(c, dout, buf(c, m, saved_act(l)), count, l->act);
      LLVMValueRef w = felem(c, params, ci64(c, l->w_off));
      LLVMValueRef dw = felem(c, grads, ci64(c, l->w_off));
      LLVMValueRef db = l->no_bias ? LLVMConstNull(c->ptr) : felem(c, grads, ci64(c, l->b_off));
      if (i == 0 && m->sparse_in) { /* rows of nonzeros: the weights they touch, no input gradient */
        SparseIn x = sparse_in(c, m);
        LLVMValueRef sa[] = {dw, db, dout, x.ptr, x.col, x.val, n32, ci32(c, l->in_size),
                             ci32(c, l->out_size)};
        abi_call(c, MLP_ABI_mlprt_sparse_dense_backward, sa, 9);
        continue;
      }
      LLVMValueRef da[] = {din,
                           dw,
                           db,
                           dout,
                           buf(c, m, in_buf(m, i)),
                           w,
                           n32,
                           LLVMConstInt(c->i32, (unsigned)l->in_size, 0),
                           LLVMConstInt(c->i32, (unsigned)l->out_size, 0)};
      abi_call(c, MLP_ABI_mlprt_dense_backward, da, 9);
    } else if (l->op == MLP_OP_CONV2D) {
      emit_act_backward(c, dout, buf(c, m, saved_act(l)), count, l->act);
      LLVMValueRef w = felem(c, params, ci64(c, l->w_off));
      LLVMValueRef dw = felem(c, grads, ci64(c, l->w_off)), db = felem(c, grads, ci64(c, l->b_off));
      LLVMValueRef p[] = {din, dw, db, col_ptr(c, m, l), dout, buf(c, m, in_buf(m, i)), w};
      call_conv(c, MLP_ABI_mlprt_conv2d_backward, l, n32, p, 7);
    } else if (l->op == MLP_OP_MAXPOOL2D) {
      LLVMValueRef p[] = {din, dout, buf(c, m, l->argmax_buf)};
      call_pool(c, MLP_ABI_mlprt_maxpool2d_backward, l, n32, p, 3);
    } else if (l->op == MLP_OP_BATCHNORM) {
      LLVMValueRef ba[11];
      norm_grads(c, m, i, din, dout, l->in_c, ba); /* statistics per channel */
      ba[8] = n32, ba[9] = ci32(c, l->in_c), ba[10] = ci32(c, l->in_h * l->in_w);
      abi_call(c, MLP_ABI_mlprt_batchnorm_backward, ba, 11);
    } else if (l->op == MLP_OP_LAYERNORM) {
      LLVMValueRef la[10];
      norm_grads(c, m, i, din, dout, m->batch, la); /* statistics per row */
      la[8] = n32, la[9] = ci32(c, l->in_size);
      abi_call(c, MLP_ABI_mlprt_layernorm_backward, la, 10);
    } else if (l->op == MLP_OP_RECURRENT) {
      /* dinp, dW_ih, dW_hh, db_ih, db_hh, work, dout, inp, mask, seq, W_ih, W_hh; both directions add
       * to dinp */
      for (int d = 0; d < (l->bidirectional ? 2 : 1); d++) {
        LLVMValueRef p[14] = {din}, pw[4];
        recurrent_slices(c, l, d, felem(c, grads, ci64(c, l->w_off)), p + 1);
        recurrent_slices(c, l, d, felem(c, params, ci64(c, l->w_off)), pw);
        LLVMValueRef rest[] = {buf(c, m, l->work_buf),
                               dout,
                               buf(c, m, in_buf(m, i)),
                               mask_ptr(c, m, l),
                               felem(c, buf(c, m, l->seq_buf), ci64(c, d * recurrent_seq(m, l))),
                               pw[0],
                               pw[1]};
        memcpy(p + 5, rest, sizeof rest);
        call_recurrent(c, MLP_ABI_mlprt_recurrent_backward, l, d, n32, p, 12);
      }
    } else if (l->op == MLP_OP_POOL_STEPS) {
      LLVMValueRef pa[] = {din,
                           dout,
                           buf(c, m, in_buf(m, i)),
                           mask_ptr(c, m, l),
                           n32,
                           ci32(c, l->steps),
                           ci32(c, l->features),
                           ci32(c, l->pool)};
      abi_call(c, MLP_ABI_mlprt_steps_pool_backward, pa, 8);
    } else if (l->op == MLP_OP_EMBEDDING) {
      /* the table's gradient, in the rows the batch's codes name */
      LLVMValueRef ea[] = {felem(c, grads, ci64(c, l->w_off)), dout, buf(c, m, in_buf(m, i)),
                           LLVMBuildNSWMul(c->b, n32, ci32(c, l->steps), ""), ci32(c, l->vocab),
                           ci32(c, l->units)};
      abi_call(c, MLP_ABI_mlprt_embedding_backward, ea, 6);
    } else if (l->op == MLP_OP_ENCODER) {
      LLVMValueRef ea[] = {din,
                           felem(c, grads, ci64(c, l->w_off)),
                           buf(c, m, l->work_buf),
                           dout,
                           buf(c, m, in_buf(m, i)),
                           mask_ptr(c, m, l),
                           buf(c, m, l->seq_buf),
                           felem(c, params, ci64(c, l->w_off)),
                           encoder_cfg(c, l),
                           n32,
                           cf32(c, l->rate)};
      abi_call(c, MLP_ABI_mlprt_encoder_backward, ea, 11);
    } else if (l->op == MLP_OP_AVGPOOL2D) {
      LLVMValueRef p[] = {din, dout};
      call_pool(c, MLP_ABI_mlprt_avgpool2d_backward, l, n32, p, 2);
    } else if (l->op == MLP_OP_DROPOUT) {
      LLVMValueRef da[] = {din, dout, buf(c, m, l->mask_buf), count};
      abi_call(c, MLP_ABI_mlprt_dropout_backward, da, 4);
    }
  }
  LLVMBuildRet(c->b, loss);
  return c->fn;
}

/* One optimizer step over parameters from .. to-1 of the flat slab (all of
 * them in one process; a rank's part under distributed = mpi): a single
 * loop with PyTorch's formulas (see optim.h). Clipping by the global norm
 * reads the whole gradient. */
static LLVMValueRef emit_update(Cg *c, const MlpIrModel *m, const MlpIrOptim *o, const char *name) {
  LLVMTypeRef ps[] = {c->ptr, c->f64, c->i64, c->i64, c->i64};
  begin_fn(c, name, c->voidt, ps, 5);
  LLVMValueRef lr64 = LLVMGetParam(c->fn, 1), t = LLVMGetParam(c->fn, 2);
  LLVMValueRef from = LLVMGetParam(c->fn, 3), to = LLVMGetParam(c->fn, 4);
  LLVMValueRef lr = LLVMBuildFPTrunc(c->b, lr64, c->f32, "");
  LLVMValueRef g = buf(c, m, m->grads_buf);
  LLVMValueRef step_size = lr, inv_c2 = NULL, decay = NULL;
  bool adam = o->kind == MLP_OPTIM_ADAM || o->kind == MLP_OPTIM_ADAMW;
  if (adam) {
    /* Bias corrections in double: lr / (1 - b1^t) and 1 / sqrt(1 - b2^t). */
    LLVMValueRef tf = LLVMBuildSIToFP(c->b, t, c->f64, "");
    LLVMValueRef a1[] = {cf64(c, o->beta1), tf}, a2[] = {cf64(c, o->beta2), tf};
    LLVMValueRef c1 = LLVMBuildFSub(c->b, cf64(c, 1), intrinsic(c, "llvm.pow", c->f64, a1, 2), "");
    LLVMValueRef c2 = LLVMBuildFSub(c->b, cf64(c, 1), intrinsic(c, "llvm.pow", c->f64, a2, 2), "");
    step_size = LLVMBuildFPTrunc(c->b, LLVMBuildFDiv(c->b, lr64, c1, ""), c->f32, "");
    LLVMValueRef s2 = intrinsic(c, "llvm.sqrt", c->f64, &c2, 1);
    inv_c2 = LLVMBuildFPTrunc(c->b, LLVMBuildFDiv(c->b, cf64(c, 1), s2, ""), c->f32, "");
  }
  if (o->weight_decay > 0) /* decoupled: the weight shrinks before the update */
    decay = LLVMBuildFSub(c->b, cf32(c, 1), xmul(c, lr, cf32(c, o->weight_decay)), "");
  /* Clipping by the global norm needs the norm first: one reduction pass
   * (in double, in index order), then the scale PyTorch's
   * clip_grad_norm_ uses, max_norm / (norm + 1e-6) when below 1. */
  LLVMValueRef clip_scale = NULL;
  if (o->clip_norm > 0) {
    LLVMValueRef acc = slot(c, c->f64, cf64(c, 0));
    Loop r = loop_begin(c, ci64(c, m->n_params));
    LLVMValueRef gd = LLVMBuildFPExt(c->b, fload(c, g, r.iv), c->f64, "");
    LLVMBuildStore(
        c->b, LLVMBuildFAdd(c->b, LLVMBuildLoad2(c->b, c->f64, acc, ""), LLVMBuildFMul(c->b, gd, gd, ""), ""),
        acc);
    loop_end(c, &r);
    LLVMValueRef sq = LLVMBuildLoad2(c->b, c->f64, acc, "");
    LLVMValueRef norm = intrinsic(c, "llvm.sqrt", c->f64, &sq, 1);
    LLVMValueRef coef =
        LLVMBuildFDiv(c->b, cf64(c, o->clip_norm), LLVMBuildFAdd(c->b, norm, cf64(c, 1e-6), ""), "");
    LLVMValueRef below = LLVMBuildFCmp(c->b, LLVMRealOLT, coef, cf64(c, 1), "");
    clip_scale = LLVMBuildFPTrunc(c->b, LLVMBuildSelect(c->b, below, coef, cf64(c, 1), ""), c->f32, "");
  }
  /* The elements from .. to-1: each from its own gradient and state alone. */
  LLVMValueRef p = felem(c, buf(c, m, m->params_buf), from), gs = felem(c, g, from);
  LLVMValueRef mb = felem(c, buf(c, m, m->m_buf), from), vb = felem(c, buf(c, m, m->v_buf), from);
  Loop i = loop_begin(c, LLVMBuildSub(c->b, to, from, ""));
  LLVMValueRef gi = fload(c, gs, i.iv), pi = fload(c, p, i.iv);
  /* The order of optim.h: clip, then the penalty terms, then the update. */
  if (clip_scale) gi = xmul(c, gi, clip_scale);
  if (o->clip_value > 0) {
    LLVMValueRef hi = cf32(c, o->clip_value), lo = cf32(c, -o->clip_value);
    gi = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, gi, hi, ""), hi, gi, "");
    gi = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLT, gi, lo, ""), lo, gi, "");
  }
  if (o->l2 > 0) /* classic L2 through the gradient, from the weight before decay */
    gi = xadd(c, gi, xmul(c, cf32(c, o->l2), pi));
  if (o->l1 > 0) {
    /* sign(p), 0 at 0 */
    LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, pi, cf32(c, 0), "");
    LLVMValueRef neg = LLVMBuildFCmp(c->b, LLVMRealOLT, pi, cf32(c, 0), "");
    LLVMValueRef sign =
        LLVMBuildSelect(c->b, pos, cf32(c, 1), LLVMBuildSelect(c->b, neg, cf32(c, -1), cf32(c, 0), ""), "");
    gi = xadd(c, gi, xmul(c, cf32(c, o->l1), sign));
  }
  if (decay) pi = xmul(c, pi, decay);
  LLVMValueRef np;
  if (o->kind == MLP_OPTIM_SGD) {
    LLVMValueRef d = gi;
    if (o->momentum > 0) {
      LLVMValueRef b = xadd(c, xmul(c, cf32(c, o->momentum), fload(c, mb, i.iv)), gi);
      fstore(c, b, mb, i.iv);
      /* Nesterov looks ahead along the new velocity: d = g + momentum b. */
      d = o->nesterov ? xadd(c, gi, xmul(c, cf32(c, o->momentum), b)) : b;
    }
    np = xsub(c, pi, xmul(c, lr, d));
  } else if (o->kind == MLP_OPTIM_RMSPROP) {
    /* s = rho s + (1 - rho) g^2 (v), then g / (sqrt(s) + eps), through
     * the momentum buffer (m) when there is one. */
    LLVMValueRef si = xadd(c, xmul(c, cf32(c, o->rho), fload(c, vb, i.iv)),
                           xmul(c, cf32(c, 1 - o->rho), xmul(c, gi, gi)));
    fstore(c, si, vb, i.iv);
    LLVMValueRef d = xdiv(c, gi, xadd(c, intrinsic(c, "llvm.sqrt", c->f32, &si, 1), cf32(c, o->eps)));
    if (o->momentum > 0) {
      d = xadd(c, xmul(c, cf32(c, o->momentum), fload(c, mb, i.iv)), d);
      fstore(c, d, mb, i.iv);
    }
    np = xsub(c, pi, xmul(c, lr, d));
  } else {
    LLVMValueRef mi =
        xadd(c, xmul(c, cf32(c, o->beta1), fload(c, mb, i.iv)), xmul(c, cf32(c, 1 - o->beta1), gi));
    LLVMValueRef vi = xadd(c, xmul(c, cf32(c, o->beta2), fload(c, vb, i.iv)),
                           xmul(c, cf32(c, 1 - o->beta2), xmul(c, gi, gi)));
    fstore(c, mi, mb, i.iv);
    fstore(c, vi, vb, i.iv);
    LLVMValueRef den = xadd(c, xmul(c, intrinsic(c, "llvm.sqrt", c->f32, &vi, 1), inv_c2), cf32(c, o->eps));
    np = xsub(c, pi, xdiv(c, xmul(c, step_size, mi), den));
  }
  fstore(c, np, p, i.iv);
  loop_end(c, &i);
  LLVMBuildRetVoid(c->b);
  return c->fn;
}

/* The runtime's initializer descriptor (mlp/init.h) of init: He's scale
 * is derived for ReLU, Glorot's has gain 1; uniform is U[-0.05, 0.05),
 * normal N(0, 0.05), as the init set says. */
static LLVMValueRef init_desc(Cg *c, MlpInit init) {
  static const MlprtInitKind kinds[] = {MLPRT_INIT_KAIMING_UNIFORM, MLPRT_INIT_KAIMING_NORMAL,
                                        MLPRT_INIT_XAVIER_UNIFORM,  MLPRT_INIT_XAVIER_NORMAL,
                                        MLPRT_INIT_ZEROS,           MLPRT_INIT_UNIFORM,
                                        MLPRT_INIT_NORMAL}; /* by MlpInit */
  bool he = init == MLP_INIT_HE_UNIFORM || init == MLP_INIT_HE_NORMAL;
  MlpDescBuild d;
  mlp_desc_begin(&d, MLP_DESC_INIT);
  mlp_desc_set(&d, MLPRT_INIT_kind, ci64(c, kinds[init]));
  mlp_desc_set(&d, MLPRT_INIT_a, cf64(c, init == MLP_INIT_UNIFORM ? -0.05 : 0));
  mlp_desc_set(&d, MLPRT_INIT_b, cf64(c, init == MLP_INIT_UNIFORM || init == MLP_INIT_NORMAL ? 0.05 : 0));
  mlp_desc_set(&d, MLPRT_INIT_gain, cf64(c, mlprt_init_gain(he ? MLPRT_GAIN_RELU : MLPRT_GAIN_LINEAR, 0)));
  mlp_desc_set(&d, MLPRT_INIT_fan_out, ci64(c, 0));
  return const_global(c, "mlp_init", mlp_desc_end(&d, c->ctx));
}

/* Fresh weights through the runtime's initializer (mlp/init.h), so that
 * PyTorch's fan and gain rules have one definition: every weight tensor
 * gets a constant shape and MlprtInit and its own RNG stream (its layer's
 * index); biases stay 0 from the zeroed slab. */
static LLVMValueRef emit_init(Cg *c, const MlpIrModel *m, const char *name) {
  LLVMTypeRef ps[] = {c->ptr, c->i64};
  begin_fn(c, name, c->voidt, ps, 2);
  LLVMValueRef seed = LLVMGetParam(c->fn, 1), params = buf(c, m, m->params_buf);
  memzero(c, params, ci64(c, m->n_params * 4));
  LLVMValueRef inits[MLP_INIT_NORMAL + 1] = {0}; /* the descriptors made so far, by MlpInit */
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    if (l->op == MLP_OP_BATCHNORM) {
      /* gamma = 1, beta = 0; running mean 0, running variance 1 */
      LLVMValueRef state = buf(c, m, m->state_buf);
      memzero(c, felem(c, state, ci64(c, l->state_off)), ci64(c, l->in_c * 4));
      Loop k = loop_begin(c, ci64(c, l->in_c));
      fstore(c, cf32(c, 1), felem(c, params, ci64(c, l->w_off)), k.iv);
      fstore(c, cf32(c, 1), felem(c, state, ci64(c, l->state_off + l->in_c)), k.iv);
      loop_end(c, &k);
      continue;
    }
    if (l->op == MLP_OP_LAYERNORM) {
      /* weight = 1, bias = 0 (the slab is zeroed above) */
      Loop k = loop_begin(c, ci64(c, l->in_size));
      fstore(c, cf32(c, 1), felem(c, params, ci64(c, l->w_off)), k.iv);
      loop_end(c, &k);
      continue;
    }
    if (l->op == MLP_OP_EMBEDDING) {
      /* PyTorch's: every row N(0, 1) */
      MlpDescBuild u;
      mlp_desc_begin(&u, MLP_DESC_INIT);
      mlp_desc_set(&u, MLPRT_INIT_kind, ci64(c, MLPRT_INIT_NORMAL));
      mlp_desc_set(&u, MLPRT_INIT_a, cf64(c, 0));
      mlp_desc_set(&u, MLPRT_INIT_b, cf64(c, 1));
      mlp_desc_set(&u, MLPRT_INIT_gain, cf64(c, 1));
      mlp_desc_set(&u, MLPRT_INIT_fan_out, ci64(c, 0));
      LLVMValueRef ninit = const_global(c, "mlp_init_embedding", mlp_desc_end(&u, c->ctx));
      LLVMValueRef dim = ci64(c, l->n_params);
      LLVMValueRef shape = const_global(c, "mlp_shape", LLVMConstArray2(c->i64, &dim, 1));
      LLVMValueRef fa[] = {felem(c, params, ci64(c, l->w_off)), shape, ci32(c, 1), ninit, seed, ci64(c, i)};
      abi_call(c, MLP_ABI_mlprt_init_fill, fa, 6);
      continue;
    }
    if (l->op == MLP_OP_ENCODER) {
      LLVMValueRef ea[] = {felem(c, params, ci64(c, l->w_off)), encoder_cfg(c, l), seed, ci64(c, i)};
      abi_call(c, MLP_ABI_mlprt_encoder_init, ea, 4);
      continue;
    }
    if (l->op == MLP_OP_RECURRENT) {
      /* PyTorch's: every weight and bias U(-1/sqrt(units), 1/sqrt(units)), one stream per layer */
      double k = 1 / sqrt((double)l->units);
      MlpDescBuild u;
      mlp_desc_begin(&u, MLP_DESC_INIT);
      mlp_desc_set(&u, MLPRT_INIT_kind, ci64(c, MLPRT_INIT_UNIFORM));
      mlp_desc_set(&u, MLPRT_INIT_a, cf64(c, -k));
      mlp_desc_set(&u, MLPRT_INIT_b, cf64(c, k));
      mlp_desc_set(&u, MLPRT_INIT_gain, cf64(c, 1));
      mlp_desc_set(&u, MLPRT_INIT_fan_out, ci64(c, 0));
      LLVMValueRef uinit = const_global(c, "mlp_init_rnn", mlp_desc_end(&u, c->ctx));
      LLVMValueRef dim = ci64(c, l->n_params);
      LLVMValueRef shape = const_global(c, "mlp_shape", LLVMConstArray2(c->i64, &dim, 1));
      LLVMValueRef fa[] = {felem(c, params, ci64(c, l->w_off)), shape, ci32(c, 1), uinit, seed, ci64(c, i)};
      abi_call(c, MLP_ABI_mlprt_init_fill, fa, 6);
      continue;
    }
    if (l->op != MLP_OP_DENSE && l->op != MLP_OP_CONV2D) continue;
    /* PyTorch's weight shapes: dense [out, in], conv [out, in, k, k]. */
    bool conv = l->op == MLP_OP_CONV2D;
    LLVMValueRef dims[] = {ci64(c, conv ? l->out_c : l->out_size), ci64(c, conv ? l->in_c : l->in_size),
                           ci64(c, l->kernel), ci64(c, l->kernel)};
    int ndim = conv ? 4 : 2;
    LLVMValueRef shape = const_global(c, "mlp_shape", LLVMConstArray2(c->i64, dims, (uint64_t)ndim));
    MlpInit kind = l->init ? (MlpInit)(l->init - 1) : m->init;
    if (!inits[kind]) inits[kind] = init_desc(c, kind);
    LLVMValueRef fa[] = {felem(c, params, ci64(c, l->w_off)), shape, LLVMConstInt(c->i32, (unsigned)ndim, 0),
                         inits[kind], seed, ci64(c, i)};
    abi_call(c, MLP_ABI_mlprt_init_fill, fa, 6);
  }
  LLVMBuildRetVoid(c->b);
  return c->fn;
}

/* ---- descriptors and main ---------------------------------------------- */

/* A constant array of n indices, or a null pointer when there are none. */
static LLVMValueRef i64_list(Cg *c, const int64_t *v, int64_t n) {
  if (n <= 0) return LLVMConstNull(c->ptr);
  LLVMValueRef *e = mlp_xmalloc((size_t)n * sizeof *e);
  for (int64_t i = 0; i < n; i++) e[i] = ci64(c, v[i]);
  LLVMValueRef g = const_global(c, "mlp_clean_idx", LLVMConstArray2(c->i64, e, (uint64_t)n));
  free(e);
  return g;
}

/* A cleaning chain as a constant array of MlprtCleanStep, or a null pointer when empty. */
static LLVMValueRef clean_steps(Cg *c, const MlpIrClean *clean, int n) {
  if (n <= 0) return LLVMConstNull(c->ptr);
  LLVMValueRef *steps = mlp_xmalloc((size_t)n * sizeof *steps);
  for (int i = 0; i < n; i++) {
    const MlpIrClean *st = &clean[i];
    MlpDescBuild sd;
    mlp_desc_begin(&sd, MLP_DESC_CLEAN_STEP);
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_op, ci64(c, st->op));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_select, ci64(c, st->select));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_columns, cstr(c, st->columns));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_keep, cstr(c, st->keep));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_method, ci64(c, st->method));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_param, cf64(c, st->param));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_low, cf64(c, st->low));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_high, cf64(c, st->high));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_flag, ci64(c, st->flag));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_levels, cstr(c, st->levels));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_ncols, ci64(c, st->ncols));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_columns_idx, i64_list(c, st->columns_idx, st->ncolumns_idx));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_ncolumns_idx, ci64(c, st->ncolumns_idx));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_keep_idx, i64_list(c, st->keep_idx, st->nkeep_idx));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_nkeep_idx, ci64(c, st->nkeep_idx));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_text, ci64(c, st->text));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_by, cstr(c, st->by));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_by_idx, ci64(c, st->by_idx));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_format, cstr(c, st->format));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_ints, i64_list(c, st->ints, st->nints));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_nints, ci64(c, st->nints));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_offset, ci64(c, st->offset));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source, cstr(c, st->source));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_format, cstr(c, st->source_format));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_query, cstr(c, st->source_query));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_schema, cstr(c, st->source_schema));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_na, cstr(c, st->source_na));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_delim, ci64(c, st->source_delim));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_no_header, ci64(c, st->source_no_header));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_on, cstr(c, st->source_on));
    mlp_desc_set(&sd, MLPRT_CLEAN_STEP_source_by, cstr(c, st->source_by));
    steps[i] = mlp_desc_end(&sd, c->ctx);
  }
  LLVMValueRef g = const_global(c, "mlp_clean", LLVMConstArray2(LLVMTypeOf(steps[0]), steps, (uint64_t)n));
  free(steps);
  return g;
}

static LLVMValueRef model_desc(Cg *c, const MlpIr *ir, int mi, LLVMValueRef clean) {
  const MlpIrModel *m = &ir->models[mi];
  /* The optimizer of the first job that trains this model fixes its update. */
  const MlpIrOptim *opt = &ir->jobs[0].optim;
  for (int j = 0; j < ir->njobs; j++)
    if (ir->jobs[j].model == mi) {
      opt = &ir->jobs[j].optim;
      break;
    }
  char name[96];
  snprintf(name, sizeof name, "mlp_%s_init", m->name);
  LLVMValueRef init = emit_init(c, m, name);
  snprintf(name, sizeof name, "mlp_%s_forward", m->name);
  LLVMValueRef fwd = emit_forward(c, m, name);
  snprintf(name, sizeof name, "mlp_%s_backward", m->name);
  LLVMValueRef bwd = emit_backward(c, m, name);
  snprintf(name, sizeof name, "mlp_%s_update", m->name);
  LLVMValueRef upd = emit_update(c, m, opt, name);
  MlpDescBuild d;
  mlp_desc_begin(&d, MLP_DESC_MODEL);
  mlp_desc_set(&d, MLPRT_MODEL_init, init);
  mlp_desc_set(&d, MLPRT_MODEL_forward, fwd);
  mlp_desc_set(&d, MLPRT_MODEL_backward, bwd);
  mlp_desc_set(&d, MLPRT_MODEL_update, upd);
  mlp_desc_set(&d, MLPRT_MODEL_task, ci64(c, m->task));
  mlp_desc_set(&d, MLPRT_MODEL_loss, ci64(c, m->loss));
  mlp_desc_set(&d, MLPRT_MODEL_huber_delta, cf64(c, m->huber_delta));
  mlp_desc_set(&d, MLPRT_MODEL_n_in, ci64(c, m->in_size));
  mlp_desc_set(&d, MLPRT_MODEL_n_out, ci64(c, m->out_size));
  mlp_desc_set(&d, MLPRT_MODEL_batch, ci64(c, m->batch));
  mlp_desc_set(&d, MLPRT_MODEL_n_params, ci64(c, m->n_params));
  mlp_desc_set(&d, MLPRT_MODEL_arena_bytes, ci64(c, m->arena_bytes));
  mlp_desc_set(&d, MLPRT_MODEL_params_off, ci64(c, m->bufs[m->params_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_grads_off, ci64(c, m->bufs[m->grads_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_m_off, ci64(c, m->bufs[m->m_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_v_off, ci64(c, m->bufs[m->v_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_best_off, ci64(c, m->bufs[m->best_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_x_off, ci64(c, m->bufs[m->x_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_y_off, ci64(c, m->bufs[m->y_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_out_off, ci64(c, m->bufs[m->layers[m->nlayers - 1].out_buf].offset));
  mlp_desc_set(&d, MLPRT_MODEL_flops, ci64(c, m->flops));
  mlp_desc_set(&d, MLPRT_MODEL_n_state, ci64(c, m->n_state));
  mlp_desc_set(&d, MLPRT_MODEL_state_off, ci64(c, m->state_buf >= 0 ? m->bufs[m->state_buf].offset : 0));
  mlp_desc_set(&d, MLPRT_MODEL_best_state_off,
               ci64(c, m->best_state_buf >= 0 ? m->bufs[m->best_state_buf].offset : 0));
  mlp_desc_set(&d, MLPRT_MODEL_fit, ci64(c, m->fit));
  mlp_desc_set(&d, MLPRT_MODEL_clean, clean);
  mlp_desc_set(&d, MLPRT_MODEL_nclean, ci64(c, m->nclean));
  mlp_desc_set(&d, MLPRT_MODEL_l2_per_row, ci64(c, m->l2_per_row));
  mlp_desc_set(&d, MLPRT_MODEL_iterations, ci64(c, m->iterations));
  mlp_desc_set(&d, MLPRT_MODEL_trees, ci64(c, m->trees));
  mlp_desc_set(&d, MLPRT_MODEL_depth, ci64(c, m->depth));
  mlp_desc_set(&d, MLPRT_MODEL_max_features, ci64(c, m->max_features));
  mlp_desc_set(&d, MLPRT_MODEL_min_leaf, ci64(c, m->min_leaf));
  mlp_desc_set(&d, MLPRT_MODEL_bootstrap, ci64(c, m->bootstrap));
  mlp_desc_set(&d, MLPRT_MODEL_class_weight, ci64(c, m->class_weight));
  mlp_desc_set(&d, MLPRT_MODEL_svm_kernel, ci64(c, m->svm_kernel));
  mlp_desc_set(&d, MLPRT_MODEL_svm_c, cf64(c, m->svm_c));
  mlp_desc_set(&d, MLPRT_MODEL_svm_gamma, cf64(c, m->svm_gamma));
  mlp_desc_set(&d, MLPRT_MODEL_svm_coef0, cf64(c, m->svm_coef0));
  mlp_desc_set(&d, MLPRT_MODEL_svm_epsilon, cf64(c, m->svm_epsilon));
  mlp_desc_set(&d, MLPRT_MODEL_svm_degree, ci64(c, m->svm_degree));
  mlp_desc_set(&d, MLPRT_MODEL_svm_rows, ci64(c, m->svm_rows));
  mlp_desc_set(&d, MLPRT_MODEL_max_bins, ci64(c, m->max_bins));
  mlp_desc_set(&d, MLPRT_MODEL_early_stopping, ci64(c, m->early_stopping));
  mlp_desc_set(&d, MLPRT_MODEL_max_leaves, ci64(c, m->max_leaves));
  mlp_desc_set(&d, MLPRT_MODEL_learning_rate, cf64(c, m->learning_rate));
  mlp_desc_set(&d, MLPRT_MODEL_leaf_l2, cf64(c, m->leaf_l2));
  mlp_desc_set(&d, MLPRT_MODEL_min_child_weight, cf64(c, m->min_child_weight));
  mlp_desc_set(&d, MLPRT_MODEL_subsample, cf64(c, m->subsample));
  mlp_desc_set(&d, MLPRT_MODEL_sparse_in, ci64(c, m->sparse_in));
  mlp_desc_set(&d, MLPRT_MODEL_whole_grads, ci64(c, opt->clip_norm > 0));
  return mlp_desc_end(&d, c->ctx);
}

/* The decimal a user wrote for a float setting (0.001, not the float's
 * exact 0.0010000000474975): seven significant digits give it back. */
static double decimal(float f) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.7g", f);
  return strtod(buf, NULL);
}

static LLVMValueRef job_desc(Cg *c, const MlpIrJob *j) {
  static const int64_t sched[] = {MLPRT_SCHED_KIND_CONSTANT, MLPRT_SCHED_KIND_COSINE, MLPRT_SCHED_KIND_STEP,
                                  MLPRT_SCHED_KIND_PLATEAU};
  MlpDescBuild d;
  mlp_desc_begin(&d, MLP_DESC_JOB);
  mlp_desc_set(&d, MLPRT_JOB_model, ci64(c, j->model));
  mlp_desc_set(&d, MLPRT_JOB_epochs, ci64(c, j->epochs));
  mlp_desc_set(&d, MLPRT_JOB_seed, ci64(c, (int64_t)j->seed));
  mlp_desc_set(&d, MLPRT_JOB_lr, cf64(c, decimal(j->optim.lr)));
  mlp_desc_set(&d, MLPRT_JOB_sched, ci64(c, sched[j->sched]));
  mlp_desc_set(&d, MLPRT_JOB_warmup, ci64(c, j->warmup));
  mlp_desc_set(&d, MLPRT_JOB_sched_step, ci64(c, j->sched_step));
  mlp_desc_set(&d, MLPRT_JOB_sched_factor, cf64(c, decimal(j->sched_factor)));
  mlp_desc_set(&d, MLPRT_JOB_smoke_subset, cf64(c, decimal(j->smoke_subset)));
  mlp_desc_set(&d, MLPRT_JOB_smoke_epochs, ci64(c, j->smoke_epochs));
  mlp_desc_set(&d, MLPRT_JOB_early_stop, ci64(c, j->early_stop));
  mlp_desc_set(&d, MLPRT_JOB_monitor_acc, ci64(c, j->monitor && strcmp(j->monitor, "val_accuracy") == 0));
  mlp_desc_set(&d, MLPRT_JOB_patience, ci64(c, j->patience));
  mlp_desc_set(&d, MLPRT_JOB_restore_best, ci64(c, j->restore_best));
  mlp_desc_set(&d, MLPRT_JOB_min_delta, cf64(c, j->min_delta));
  mlp_desc_set(&d, MLPRT_JOB_fold, ci64(c, j->fold));
  mlp_desc_set(&d, MLPRT_JOB_trial, ci64(c, j->trial));
  mlp_desc_set(&d, MLPRT_JOB_rung, ci64(c, j->rung));
  mlp_desc_set(&d, MLPRT_JOB_bracket, ci64(c, j->bracket));
  mlp_desc_set(&d, MLPRT_JOB_settings, cstr(c, j->settings));
  mlp_desc_set(&d, MLPRT_JOB_optimizer, cstr(c, mlp_ir_optim_name(j->optim.kind)));
  mlp_desc_set(&d, MLPRT_JOB_l1, cf64(c, decimal(j->optim.l1)));
  mlp_desc_set(&d, MLPRT_JOB_l2, cf64(c, decimal(j->optim.l2)));
  mlp_desc_set(&d, MLPRT_JOB_weight_decay, cf64(c, decimal(j->optim.weight_decay)));
  mlp_desc_set(&d, MLPRT_JOB_clip_norm, cf64(c, decimal(j->optim.clip_norm)));
  mlp_desc_set(&d, MLPRT_JOB_clip_value, cf64(c, decimal(j->optim.clip_value)));
  mlp_desc_set(&d, MLPRT_JOB_stop_on_divergence, ci64(c, j->stop_on_divergence));
  mlp_desc_set(&d, MLPRT_JOB_min_lr, cf64(c, decimal(j->min_lr)));
  mlp_desc_set(&d, MLPRT_JOB_val_every, ci64(c, j->val_every));
  return mlp_desc_end(&d, c->ctx);
}

/* MLPRT_OBJ_* of an objective name. */
static int64_t objective_index(const char *objective) {
  static const char *const names[] = MLPRT_OBJECTIVE_NAMES;
  for (int i = 0; objective && i < MLPRT_NOBJECTIVES; i++)
    if (strcmp(objective, names[i]) == 0) return i;
  return MLPRT_OBJ_VAL_LOSS;
}

static void emit_main(Cg *c, const MlpIr *ir, LLVMValueRef program) {
  LLVMTypeRef ps[] = {c->i32, c->ptr};
  c->fn = LLVMAddFunction(c->mod, "main", LLVMFunctionType(c->i32, ps, 2, 0));
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
  LLVMValueRef oa[] = {LLVMGetParam(c->fn, 0), LLVMGetParam(c->fn, 1), program};
  LLVMValueRef run = abi_call(c, MLP_ABI_mlprt_run_open, oa, 3);
  abi_call(c, MLP_ABI_mlprt_run_load, &run, 1);
  /* The steps of every job, in order, unrolled: the job list is constant. */
  static const MlpAbiFn steps[] = {MLP_ABI_mlprt_run_smoke, MLP_ABI_mlprt_run_fit, MLP_ABI_mlprt_run_test};
  for (int j = 0; j < ir->njobs; j++)
    for (int s = 0; s < 3; s++) {
      LLVMValueRef sa[] = {run, ci64(c, j)};
      abi_call(c, steps[s], sa, 2);
    }
  if (ir->nfolds > 0 || ir->refit) abi_call(c, MLP_ABI_mlprt_run_best, &run, 1);
  LLVMBuildRet(c->b, abi_call(c, MLP_ABI_mlprt_run_close, &run, 1));
}

LLVMModuleRef mlp_codegen(LLVMContextRef ctx, const MlpIr *ir, const MlpCodegenInfo *info) {
  Cg c = cg_open(ctx, ir->name);

  LLVMValueRef *models = mlp_xmalloc((size_t)ir->nmodels * sizeof *models);
  /* a searched cleaning chain once, however many models read its data */
  LLVMValueRef *chains = mlp_xmalloc((size_t)ir->nmodels * sizeof *chains);
  for (int i = 0; i < ir->nmodels; i++) {
    const MlpIrModel *m = &ir->models[i];
    int same = 0;
    while (same < i && ir->models[same].clean != m->clean) same++;
    chains[i] = same < i ? chains[same] : clean_steps(&c, m->clean, m->nclean);
    models[i] = model_desc(&c, ir, i, chains[i]);
  }
  free(chains);
  LLVMValueRef *jobs = mlp_xmalloc((size_t)ir->njobs * sizeof *jobs);
  for (int i = 0; i < ir->njobs; i++) jobs[i] = job_desc(&c, &ir->jobs[i]);
  LLVMValueRef marr = LLVMConstArray2(LLVMTypeOf(models[0]), models, (uint64_t)ir->nmodels);
  LLVMValueRef jarr = LLVMConstArray2(LLVMTypeOf(jobs[0]), jobs, (uint64_t)ir->njobs);
  const MlpIrData *d = &ir->data;
  LLVMValueRef clean = clean_steps(&c, d->clean, d->nclean);
  MlpDescBuild pd;
  mlp_desc_begin(&pd, MLP_DESC_PROGRAM);
  mlp_desc_set(&pd, MLPRT_PROGRAM_name, cstr(&c, ir->name));
  mlp_desc_set(&pd, MLPRT_PROGRAM_spec_path, cstr(&c, ir->spec_path));
  mlp_desc_set(&pd, MLPRT_PROGRAM_spec_sha256, cstr(&c, info->spec_sha256));
  mlp_desc_set(&pd, MLPRT_PROGRAM_out_dir, cstr(&c, ir->out_dir));
  mlp_desc_set(&pd, MLPRT_PROGRAM_threads, ci64(&c, ir->threads));
  mlp_desc_set(&pd, MLPRT_PROGRAM_data_format, cstr(&c, d->format));
  mlp_desc_set(&pd, MLPRT_PROGRAM_data_path, cstr(&c, info->data_path));
  mlp_desc_set(&pd, MLPRT_PROGRAM_data_path2, cstr(&c, info->data_path2));
  mlp_desc_set(&pd, MLPRT_PROGRAM_data_query, cstr(&c, d->query));
  mlp_desc_set(&pd, MLPRT_PROGRAM_test_path, cstr(&c, d->test_path));
  mlp_desc_set(&pd, MLPRT_PROGRAM_test_path2, cstr(&c, d->test_path2));
  mlp_desc_set(&pd, MLPRT_PROGRAM_test_query, cstr(&c, d->test_query));
  mlp_desc_set(&pd, MLPRT_PROGRAM_target, cstr(&c, d->target));
  mlp_desc_set(&pd, MLPRT_PROGRAM_spec_text, cstr(&c, info->spec_text));
  mlp_desc_set(&pd, MLPRT_PROGRAM_n_features, ci64(&c, d->n_features));
  mlp_desc_set(&pd, MLPRT_PROGRAM_n_classes, ci64(&c, d->n_classes));
  mlp_desc_set(&pd, MLPRT_PROGRAM_val_frac, cf64(&c, d->val_frac));
  mlp_desc_set(&pd, MLPRT_PROGRAM_test_frac, cf64(&c, d->test_frac));
  mlp_desc_set(&pd, MLPRT_PROGRAM_stratify, ci64(&c, d->stratify));
  mlp_desc_set(&pd, MLPRT_PROGRAM_split_seed, ci64(&c, (int64_t)d->split_seed));
  mlp_desc_set(&pd, MLPRT_PROGRAM_clean, clean);
  mlp_desc_set(&pd, MLPRT_PROGRAM_nclean, ci64(&c, d->nclean));
  mlp_desc_set(&pd, MLPRT_PROGRAM_models, const_global(&c, "mlp_models", marr));
  mlp_desc_set(&pd, MLPRT_PROGRAM_nmodels, ci64(&c, ir->nmodels));
  mlp_desc_set(&pd, MLPRT_PROGRAM_jobs, const_global(&c, "mlp_jobs", jarr));
  mlp_desc_set(&pd, MLPRT_PROGRAM_njobs, ci64(&c, ir->njobs));
  mlp_desc_set(&pd, MLPRT_PROGRAM_objective, ci64(&c, objective_index(ir->objective)));
  mlp_desc_set(&pd, MLPRT_PROGRAM_nfolds, ci64(&c, ir->nfolds));
  mlp_desc_set(&pd, MLPRT_PROGRAM_fold_repeats, ci64(&c, ir->fold_repeats));
  mlp_desc_set(&pd, MLPRT_PROGRAM_eta, ci64(&c, ir->eta));
  mlp_desc_set(&pd, MLPRT_PROGRAM_cross_validate, ci64(&c, ir->cross_validate));
  mlp_desc_set(&pd, MLPRT_PROGRAM_refit, ci64(&c, ir->refit));
  mlp_desc_set(&pd, MLPRT_PROGRAM_tpe, cstr(&c, ir->tpe));
  mlp_desc_set(&pd, MLPRT_PROGRAM_tpe_startup, ci64(&c, ir->tpe_startup));
  mlp_desc_set(&pd, MLPRT_PROGRAM_tpe_seed, ci64(&c, (int64_t)ir->tpe_seed));
  mlp_desc_set(&pd, MLPRT_PROGRAM_tpe_labels, cstr(&c, ir->tpe_labels));
  mlp_desc_set(&pd, MLPRT_PROGRAM_tpe_models, i64_list(&c, ir->tpe_models, ir->ntpe_models));
  mlp_desc_set(&pd, MLPRT_PROGRAM_delimiter, ci64(&c, d->delimiter));
  mlp_desc_set(&pd, MLPRT_PROGRAM_no_header, ci64(&c, d->no_header));
  mlp_desc_set(&pd, MLPRT_PROGRAM_na_values, cstr(&c, d->na_values));
  mlp_desc_set(&pd, MLPRT_PROGRAM_schema, cstr(&c, d->schema));
  mlp_desc_set(&pd, MLPRT_PROGRAM_split_group, cstr(&c, d->split_group));
  mlp_desc_set(&pd, MLPRT_PROGRAM_split_time, cstr(&c, d->split_time));
  mlp_desc_set(&pd, MLPRT_PROGRAM_cleaning_report, cstr(&c, d->cleaning_report));
  mlp_desc_set(&pd, MLPRT_PROGRAM_deterministic, ci64(&c, ir->deterministic));
  mlp_desc_set(&pd, MLPRT_PROGRAM_baseline, ci64(&c, ir->baseline));
  mlp_desc_set(&pd, MLPRT_PROGRAM_report, cstr(&c, ir->report));
  mlp_desc_set(&pd, MLPRT_PROGRAM_learning_curves, ci64(&c, ir->learning_curves));
  mlp_desc_set(&pd, MLPRT_PROGRAM_bias_variance, ci64(&c, ir->bias_variance));
  mlp_desc_set(&pd, MLPRT_PROGRAM_slices, cstr(&c, ir->slices));
  mlp_desc_set(&pd, MLPRT_PROGRAM_worst, ci64(&c, ir->worst));
  mlp_desc_set(&pd, MLPRT_PROGRAM_feature_importance, ci64(&c, ir->feature_importance));
  mlp_desc_set(&pd, MLPRT_PROGRAM_compiler, cstr(&c, info->compiler));
  mlp_desc_set(&pd, MLPRT_PROGRAM_target_cpu, cstr(&c, info->target_cpu));
  mlp_desc_set(&pd, MLPRT_PROGRAM_version, cstr(&c, ir->version));
  mlp_desc_set(&pd, MLPRT_PROGRAM_no_card, ci64(&c, ir->no_card));
  mlp_desc_set(&pd, MLPRT_PROGRAM_blas_threads, ci64(&c, ir->blas_threads));
  mlp_desc_set(&pd, MLPRT_PROGRAM_monitor, ci64(&c, ir->monitor));
  mlp_desc_set(&pd, MLPRT_PROGRAM_checkpoint_every, ci64(&c, ir->checkpoint_every));
  mlp_desc_set(&pd, MLPRT_PROGRAM_log_level, ci64(&c, ir->log_level));
  mlp_desc_set(&pd, MLPRT_PROGRAM_epoch_monitor, ci64(&c, ir->epoch_monitor));
  mlp_desc_set(&pd, MLPRT_PROGRAM_metrics, ci64(&c, ir->metrics));
  mlp_desc_set(&pd, MLPRT_PROGRAM_pretrained, cstr(&c, ir->pretrained));
  mlp_desc_set(&pd, MLPRT_PROGRAM_pretrained_sha256, cstr(&c, ir->pretrained_sha256));
  mlp_desc_set(&pd, MLPRT_PROGRAM_shards, ci64(&c, ir->shards));
  mlp_desc_set(&pd, MLPRT_PROGRAM_memory_mb, ci64(&c, ir->memory_mb));
  mlp_desc_set(&pd, MLPRT_PROGRAM_out_of_core, ci64(&c, ir->out_of_core));
  LLVMTypeRef open_ty = mlp_abi_type(c.ctx, MLP_ABI_mlprt_mpi_open);
  mlp_desc_set(&pd, MLPRT_PROGRAM_comm_open,
               ir->mpi ? extern_fn(&c, mlp_abi_name(MLP_ABI_mlprt_mpi_open), open_ty) : LLVMConstNull(c.ptr));
  LLVMValueRef program = const_global(&c, "mlp_program", mlp_desc_end(&pd, c.ctx));
  emit_main(&c, ir, program);
  free(models);
  free(jobs);
  LLVMDisposeBuilder(c.b);
  return c.mod;
}
