/* predgen.c — the predictor's module (see predgen.h). Consumes a loaded run
 * directory (its model's IR, weights, fitted plan and drift reference);
 * produces an LLVM module: the weights as one constant blob, the inference
 * forward pass specialised to the model's shapes, the MlprtPredictor
 * constant, and main or the embedding entry points. */
#include "predgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgutil.h"
#include "predclean.h"
#include "mlp/layers.h"
#include "mlp/quant.h"
#include "mlp/run.h"

/* Every descriptor field is 8 bytes: the constant built below lists them in
 * predict.h's order, and this catches a field added there and not here. */
_Static_assert(sizeof(MlprtPredictor) == 36 * 8, "MlprtPredictor changed: update predictor_desc");
_Static_assert(sizeof(MlprtPredPlan) == 10 * 8, "MlprtPredPlan changed: update plan_desc");
_Static_assert(sizeof(MlprtPredStep) == 7 * 8, "MlprtPredStep changed: update plan_desc");
_Static_assert(sizeof(MlprtPredInput) == 6 * 8, "MlprtPredInput changed: update plan_desc");

/* Rows the generated forward takes per call: as many as keep its two
 * activation buffers within a few MiB, at most 64. An embedded predictor
 * answers one row per call from a scratch every thread keeps: one row. */
enum { MAX_BATCH = 64, ACT_BUDGET = 4 << 20 };

/* Where a layer's compiled-in values sit in the weight blob, in bytes. */
typedef struct {
  int64_t w, b;   /* weights (float, or int8 when quantized); bias (dense, conv) or beta (batch norm) */
  int64_t scale;  /* int8: the per-output scales [out] */
  int64_t mean, var; /* batch norm: running statistics [C] each */
  bool int8;
} LayerAt;

/* The weights exactly as compiled in, and the forward's scratch plan. */
typedef struct {
  unsigned char *blob;
  int64_t bytes, cap;
  LayerAt *at; /* [nlayers] */
  int64_t batch;
  /* scratch offsets and total */
  int64_t act_a, act_b, col, argmax, qscratch, stats, rnn, nonzero, scratch_bytes;
} Plan;

/* The scratch and blob offsets round as the runtime's buffers do. */
static int64_t align_up(int64_t n) {
  return (int64_t)mlprt_align_up((size_t)n);
}

/* Append n bytes to the blob at an aligned offset; returns the offset. */
static int64_t blob_put(Plan *p, const void *data, int64_t n) {
  int64_t off = align_up(p->bytes);
  if (off + n > p->cap) {
    p->cap = 2 * (off + n) + 4096;
    p->blob = mlp_xrealloc(p->blob, (size_t)p->cap);
  }
  memset(p->blob + p->bytes, 0, (size_t)(off - p->bytes));
  memcpy(p->blob + off, data, (size_t)n);
  p->bytes = off + n;
  return off;
}

/* The blob: uncompressed, weights.bin itself (pruned if asked), so that
 * its digest is the run's, but for a support vector machine's room for
 * vectors it did not keep and for trees, which are compiled in in their
 * walk layout (mlprt_trees_pack) with a boosted model's base scores after
 * them; int8, each dense layer's weights replaced by int8 rows and their
 * scales. */
static int plan_weights(const MlpRunDir *rd, const MlpPredgenInfo *info, Plan *p, char *err, size_t n) {
  const MlpIrModel *m = rd->model;
  int64_t total = rd->n_params + rd->n_state;
  if (m->kind == MLP_MODEL_SVM) {
    const MlpIrLayer *l = &m->layers[m->nlayers - 1];
    int64_t K = m->svm_classes, kept = (int64_t)rd->weights[l->w_off];
    total = l->w_off + MLPRT_SVM_HEADER + K + MLPRT_SVM_PAIRS(K) + kept * (l->in_size + MLPRT_SVM_COEFS(K));
  }
  float *w = mlp_xmalloc((size_t)(total ? total : 1) * sizeof *w);
  memcpy(w, rd->weights, (size_t)total * sizeof *w);
  p->at = mlp_xmalloc((size_t)m->nlayers * sizeof *p->at);
  memset(p->at, 0, (size_t)m->nlayers * sizeof *p->at);
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    if (info->prune > 0 && (l->op == MLP_OP_DENSE || l->op == MLP_OP_CONV2D))
      mlprt_prune_magnitude(w + l->w_off, l->b_off - l->w_off, info->prune);
  }
  int rc = 0;
  if ((info->quantize != MLP_QUANT_NONE || info->prune > 0) &&
      (m->kind == MLP_MODEL_FOREST || m->kind == MLP_MODEL_SVM || m->kind == MLP_MODEL_BOOST)) {
    free(w);
    snprintf(err, n, "%s of %s is not supported: it has no weights to compress",
             info->prune > 0 ? "pruning" : "int8 quantization",
             m->kind == MLP_MODEL_SVM      ? "a support vector machine"
             : m->kind == MLP_MODEL_FOREST ? "a random forest"
                                           : "gradient boosting");
    return -1;
  }
  if (m->kind == MLP_MODEL_FOREST || m->kind == MLP_MODEL_BOOST) {
    for (int i = 0; i < m->nlayers; i++) {
      const MlpIrLayer *l = &m->layers[i];
      if (l->op != MLP_OP_FOREST && l->op != MLP_OP_BOOST) continue;
      bool forest = l->op == MLP_OP_FOREST;
      int trees = (int)(forest ? m->trees : m->trees * l->out_size), values = forest ? (int)l->out_size : 1;
      int64_t bytes = mlprt_trees_walk_bytes(trees, (int)m->depth, values);
      void *walk = mlp_xmalloc((size_t)bytes);
      mlprt_trees_pack(walk, w + l->w_off, trees, (int)m->depth, values);
      p->at[i].w = blob_put(p, walk, bytes);
      if (!forest) p->at[i].b = blob_put(p, w + l->b_off, 4 * l->out_size);
      free(walk);
    }
  } else if (info->quantize == MLP_QUANT_NONE) {
    blob_put(p, w, total * (int64_t)sizeof *w);
    for (int i = 0; i < m->nlayers; i++) {
      const MlpIrLayer *l = &m->layers[i];
      p->at[i] = (LayerAt){.w = 4 * l->w_off, .b = 4 * l->b_off};
      if (l->op == MLP_OP_BATCHNORM) {
        p->at[i].mean = 4 * (rd->n_params + l->state_off);
        p->at[i].var = p->at[i].mean + 4 * l->in_c;
      }
    }
  } else {
    for (int i = 0; i < m->nlayers && rc == 0; i++) {
      const MlpIrLayer *l = &m->layers[i];
      LayerAt *at = &p->at[i];
      if (l->op == MLP_OP_DENSE) {
        if (l->in_size > MLPRT_QDENSE_MAX_C) {
          rc = -1;
          snprintf(err, n, "layer %d has %lld inputs, more than the int8 kernel takes (%d)", i + 1,
                   (long long)l->in_size, MLPRT_QDENSE_MAX_C);
          break;
        }
        int8_t *q = mlp_xmalloc((size_t)(l->in_size * l->out_size));
        float *scale = mlp_xmalloc((size_t)l->out_size * sizeof *scale);
        mlprt_quantize_rows(w + l->w_off, l->out_size, l->in_size, q, scale);
        at->int8 = true;
        at->w = blob_put(p, q, l->in_size * l->out_size);
        at->scale = blob_put(p, scale, l->out_size * 4);
        if (!l->no_bias) at->b = blob_put(p, w + l->b_off, l->out_size * 4);
        free(q);
        free(scale);
      } else if (l->n_params > 0) {
        /* the layer's floats in one piece, as in the slab */
        at->w = blob_put(p, w + l->w_off, 4 * l->n_params);
        at->b = at->w + 4 * (l->b_off - l->w_off);
      }
      if (l->op == MLP_OP_BATCHNORM) {
        at->mean = blob_put(p, w + rd->n_params + l->state_off, 4 * l->in_c);
        at->var = blob_put(p, w + rd->n_params + l->state_off + l->in_c, 4 * l->in_c);
      }
    }
  }
  free(w);
  return rc;
}

/* Floats of the record and then the forward's scratch of a recurrent or
 * encoder layer l over a batch of b sequences; 0 for another layer. */
static int64_t record_floats(const MlpIrLayer *l, int64_t b) {
  int64_t seq, work;
  if (l->op == MLP_OP_ENCODER) {
    mlprt_encoder_sizes(l->enc, b, &seq, &work);
    return seq;
  }
  if (l->op != MLP_OP_RECURRENT) return 0;
  mlprt_recurrent_sizes(l->cell, b, l->steps, l->units, &seq, &work);
  return (l->bidirectional ? 2 : 1) * seq + b * mlprt_recurrent_gates(l->cell) * l->units;
}

/* The scratch of the forward pass over at most max_batch rows: two
 * activation buffers it alternates between, then the im2col, argmax,
 * int8 row, layer-norm statistics and sequence record scratch. */
static void plan_scratch(const MlpIrModel *m, int64_t max_batch, Plan *p) {
  int64_t widest = m->in_size, col = 0, pooled = 0, qin = 0, rnn = 0;
  bool norm = false;
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    if (l->out_size > widest) widest = l->out_size;
    /* a sequence layer's record counts as activations of its width */
    if (record_floats(l, 1) > widest) widest = record_floats(l, 1);
    if (l->op == MLP_OP_CONV2D) {
      int64_t f = (int64_t)mlprt_conv2d_col_size((int)l->in_c, (int)l->in_h, (int)l->in_w, l->kernel,
                                                 l->kernel, l->stride, l->pad);
      if (f > col) col = f;
    }
    if (l->op == MLP_OP_MAXPOOL2D && l->out_size > pooled) pooled = l->out_size;
    norm |= l->op == MLP_OP_LAYERNORM;
    if (p->at[i].int8) {
      int64_t q = (int64_t)mlprt_qdense_scratch_bytes(l->in_size);
      if (q > qin) qin = q;
    }
  }
  p->batch = ACT_BUDGET / (2 * 4 * widest);
  if (p->batch > max_batch) p->batch = max_batch;
  if (p->batch < 1) p->batch = 1;
  int64_t act = align_up(p->batch * widest * 4);
  p->act_a = 0;
  p->act_b = act;
  p->col = 2 * act;
  p->argmax = p->col + align_up(col * 4);
  p->qscratch = p->argmax + align_up(p->batch * pooled * 4);
  p->stats = p->qscratch + align_up(qin);
  p->rnn = p->stats + (norm ? align_up(2 * p->batch * 4) : 0);
  for (int i = 0; i < m->nlayers; i++)
    if (record_floats(&m->layers[i], p->batch) > rnn) rnn = record_floats(&m->layers[i], p->batch);
  p->nonzero = p->rnn + align_up(rnn * 4);
  p->scratch_bytes = p->nonzero + (m->sparse_in ? align_up(m->in_size * 8) : 0);
}

/* ---- the forward pass ------------------------------------------------------- */

/* The byte offset off of base (a constant address when base is one). */
static LLVMValueRef byte_at(Cg *c, LLVMValueRef base, int64_t off) {
  LLVMValueRef idx = ci64(c, off);
  return LLVMBuildInBoundsGEP2(c->b, c->i8, base, &idx, 1, "");
}

/* dst [n, out] = cur [n, in] · Wᵀ, W [out, in] constant: loops whose trip
 * counts are the layer's widths, so LLVM unrolls and vectorises them. */
static void emit_small_dense(Cg *c, const MlpIrLayer *l, LLVMValueRef dst, LLVMValueRef cur, LLVMValueRef w,
                             LLVMValueRef n) {
  Loop r = loop_begin(c, n);
  LLVMValueRef x = felem(c, cur, LLVMBuildNSWMul(c->b, r.iv, ci64(c, l->in_size), ""));
  LLVMValueRef y = felem(c, dst, LLVMBuildNSWMul(c->b, r.iv, ci64(c, l->out_size), ""));
  Loop j = loop_begin(c, ci64(c, l->out_size));
  LLVMValueRef wrow = felem(c, w, LLVMBuildNSWMul(c->b, j.iv, ci64(c, l->in_size), ""));
  LLVMValueRef acc = slot(c, c->f32, cf32(c, 0));
  Loop k = loop_begin(c, ci64(c, l->in_size));
  LLVMValueRef prod = xmul(c, fload(c, x, k.iv), fload(c, wrow, k.iv));
  LLVMBuildStore(c->b, xadd(c, LLVMBuildLoad2(c->b, c->f32, acc, ""), prod), acc);
  loop_end(c, &k);
  fstore(c, LLVMBuildLoad2(c->b, c->f32, acc, ""), y, j.iv);
  loop_end(c, &j);
  loop_end(c, &r);
}

/* The last layer that writes values (flatten and, at inference, dropout
 * only pass their input on): it writes straight into out. */
static int last_writer(const MlpIrModel *m) {
  int last = -1;
  for (int i = 0; i < m->nlayers; i++)
    if (m->layers[i].op != MLP_OP_FLATTEN && m->layers[i].op != MLP_OP_DROPOUT) last = i;
  return last;
}

static LLVMValueRef emit_forward(Cg *c, const MlpIrModel *m, const Plan *p, LLVMValueRef blob) {
  LLVMTypeRef ps[] = {c->ptr, c->ptr, c->i64, c->ptr};
  c->fn = LLVMAddFunction(c->mod, "mlp_predict_forward", LLVMFunctionType(c->voidt, ps, 4, 0));
  LLVMSetLinkage(c->fn, LLVMInternalLinkage);
  /* x, out and scratch are distinct buffers (the runtime's): without
   * noalias every loop would first test whether a store hits the weights. */
  unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
  static const unsigned pointers[] = {1, 2, 4}; /* attribute indices: parameter + 1 */
  for (int i = 0; i < 3; i++)
    LLVMAddAttributeAtIndex(c->fn, pointers[i], LLVMCreateEnumAttribute(c->ctx, noalias, 0));
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
  LLVMValueRef cur = LLVMGetParam(c->fn, 0), out = LLVMGetParam(c->fn, 1);
  LLVMValueRef codes = cur; /* the padding mask of masked sequence layers */
  LLVMValueRef n = LLVMGetParam(c->fn, 2), scratch = LLVMGetParam(c->fn, 3);
  LLVMValueRef n32 = LLVMBuildTrunc(c->b, n, c->i32, "");
  LLVMValueRef bufs[2] = {byte_at(c, scratch, p->act_a), byte_at(c, scratch, p->act_b)};
  int last = last_writer(m), flip = 0;
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    const LayerAt *at = &p->at[i];
    if (l->op == MLP_OP_FLATTEN || l->op == MLP_OP_DROPOUT) continue;
    LLVMValueRef dst = i == last ? out : bufs[flip];
    flip ^= 1;
    LLVMValueRef w = byte_at(c, blob, at->w), bias = l->no_bias ? NULL : byte_at(c, blob, at->b);
    if (l->op == MLP_OP_FOREST) {
      /* training's walk and sums, over the trees' walk layout in the blob */
      LLVMValueRef fa[] = {dst, cur, w, n32, ci32(c, l->in_size), ci32(c, m->trees), ci32(c, m->depth),
                           ci32(c, l->out_size), ci32(c, 1)};
      abi_call(c, MLP_ABI_mlprt_trees_forward, fa, 9);
    } else if (l->op == MLP_OP_SVM) {
      /* the same kernel as training's, over the support vectors kept in the blob */
      LLVMValueRef sa[] = {dst, cur, w, n32, ci32(c, l->in_size), ci32(c, m->svm_classes)};
      abi_call(c, MLP_ABI_mlprt_svm_forward, sa, 6);
    } else if (l->op == MLP_OP_BOOST) {
      /* training's walk, sums and epilogue: the trees' sums (their walk layout), the base scores, the link */
      LLVMValueRef ba[] = {dst, cur, w, n32, ci32(c, l->in_size), ci32(c, m->trees * l->out_size),
                           ci32(c, m->depth), ci32(c, l->out_size), ci32(c, 0)};
      abi_call(c, MLP_ABI_mlprt_trees_forward, ba, 9);
      emit_bias_act(c, dst, bias, n, l->out_size, l->act);
    } else if (l->op == MLP_OP_DENSE) {
      /* The bias and activation ride in the same epilogue as in training. */
      if (at->int8) {
        LLVMValueRef qa[] = {dst, cur, w, byte_at(c, blob, at->scale), LLVMConstNull(c->ptr), n,
                             ci64(c, l->in_size), ci64(c, l->out_size), byte_at(c, scratch, p->qscratch)};
        abi_call(c, MLP_ABI_mlprt_qdense, qa, 9);
      } else if (i == 0 && m->sparse_in && l->in_size * l->out_size >= MLP_PRED_GEMM_MIN) {
        /* as training reads it: over each row's nonzeros, the same sums (smaller layers' loops add the
         * zeros' exact zero products, which change no sum) */
        LLVMValueRef na[] = {dst, cur, w, LLVMConstNull(c->ptr), byte_at(c, scratch, p->nonzero), n32,
                             ci32(c, l->in_size), ci32(c, l->out_size)};
        abi_call(c, MLP_ABI_mlprt_dense_forward_nonzero, na, 8);
      } else if (m->kind != MLP_MODEL_LINEAR && l->in_size * l->out_size >= MLP_PRED_GEMM_MIN) {
        /* a linear model is always straight code: one dot product per output */
        LLVMValueRef da[] = {dst, cur, w, LLVMConstNull(c->ptr), n32, ci32(c, l->in_size),
                             ci32(c, l->out_size)};
        abi_call(c, MLP_ABI_mlprt_dense_forward, da, 7);
      } else {
        emit_small_dense(c, l, dst, cur, w, n);
      }
      emit_bias_act(c, dst, bias, n, l->out_size, l->act);
    } else if (l->op == MLP_OP_CONV2D) {
      LLVMValueRef cp[] = {dst, byte_at(c, scratch, p->col), cur, w, bias};
      call_conv(c, MLP_ABI_mlprt_conv2d_forward, l, n32, cp, 5);
      emit_act(c, dst, LLVMBuildNSWMul(c->b, n, ci64(c, l->out_size), ""), l->act);
    } else if (l->op == MLP_OP_MAXPOOL2D) {
      LLVMValueRef pp[] = {dst, byte_at(c, scratch, p->argmax), cur};
      call_pool(c, MLP_ABI_mlprt_maxpool2d_forward, l, n32, pp, 3);
    } else if (l->op == MLP_OP_AVGPOOL2D) {
      LLVMValueRef pp[] = {dst, cur};
      call_pool(c, MLP_ABI_mlprt_avgpool2d_forward, l, n32, pp, 2);
    } else if (l->op == MLP_OP_BATCHNORM) {
      /* Inference normalises by the running statistics training kept. */
      LLVMValueRef ia[] = {dst, cur, w, bias, byte_at(c, blob, at->mean), byte_at(c, blob, at->var), n32,
                           ci32(c, l->in_c), ci32(c, l->in_h * l->in_w), cf32(c, l->eps)};
      abi_call(c, MLP_ABI_mlprt_batchnorm_forward_infer, ia, 10);
    } else if (l->op == MLP_OP_LAYERNORM) {
      LLVMValueRef la[] = {dst, byte_at(c, scratch, p->stats), byte_at(c, scratch, p->stats + 4 * p->batch),
                           cur, w, bias, n32, ci32(c, l->in_size), cf32(c, l->eps)};
      abi_call(c, MLP_ABI_mlprt_layernorm_forward, la, 9);
    } else if (l->op == MLP_OP_RECURRENT) {
      /* the records of both directions, then the scratch they share */
      int64_t seq, work, dirs = l->bidirectional ? 2 : 1;
      mlprt_recurrent_sizes(l->cell, p->batch, l->steps, l->units, &seq, &work);
      for (int d = 0; d < dirs; d++) {
        LLVMValueRef ra[9] = {dst, byte_at(c, scratch, p->rnn + 4 * d * seq),
                              byte_at(c, scratch, p->rnn + 4 * dirs * seq), cur,
                              l->masked ? codes : LLVMConstNull(c->ptr)};
        recurrent_slices(c, l, d, w, ra + 5);
        call_recurrent(c, MLP_ABI_mlprt_recurrent_forward, l, d, n32, ra, 9);
      }
    } else if (l->op == MLP_OP_POOL_STEPS) {
      LLVMValueRef pa[] = {dst,
                           cur,
                           l->masked ? codes : LLVMConstNull(c->ptr),
                           n32,
                           ci32(c, l->steps),
                           ci32(c, l->features),
                           ci32(c, l->pool)};
      abi_call(c, MLP_ABI_mlprt_steps_pool_forward, pa, 7);
    } else if (l->op == MLP_OP_EMBEDDING) {
      LLVMValueRef ea[] = {dst, cur, w, LLVMBuildNSWMul(c->b, n32, ci32(c, l->steps), ""), ci32(c, l->vocab),
                           ci32(c, l->units)};
      abi_call(c, MLP_ABI_mlprt_embedding_forward, ea, 6);
    } else if (l->op == MLP_OP_ENCODER) {
      /* inference: no dropout */
      LLVMValueRef mask = l->masked ? codes : LLVMConstNull(c->ptr);
      LLVMValueRef ea[] = {dst, byte_at(c, scratch, p->rnn), cur, mask, w, encoder_cfg(c, l), n32, cf32(c, 0),
                           ci64(c, 0), ci32(c, 0), ci64(c, 0)};
      abi_call(c, MLP_ABI_mlprt_encoder_forward, ea, 11);
    }
    cur = dst;
  }
  LLVMBuildRetVoid(c->b);
  return c->fn;
}

/* ---- the descriptor --------------------------------------------------------- */

static LLVMValueRef cdbl_array(Cg *c, const char *name, const double *v, int64_t count) {
  if (!v || count <= 0) return LLVMConstNull(c->ptr);
  LLVMValueRef *e = mlp_xmalloc((size_t)count * sizeof *e);
  for (int64_t i = 0; i < count; i++) e[i] = cf64(c, v[i]);
  LLVMValueRef g = const_global(c, name, LLVMConstArray2(c->f64, e, (uint64_t)count));
  free(e);
  return g;
}

/* The row feature program as constants. */
static LLVMValueRef plan_desc(Cg *c, const MlprtPredPlan *pl) {
  int64_t ni = pl->ninputs, ns = pl->nsteps, nf = pl->nfeatures;
  LLVMValueRef *in = mlp_xmalloc((size_t)(ni + ns + nf + pl->nna + 1) * sizeof *in);
  LLVMValueRef inputs = LLVMConstNull(c->ptr), steps = LLVMConstNull(c->ptr), slots = LLVMConstNull(c->ptr);
  LLVMValueRef na = LLVMConstNull(c->ptr);
  for (int64_t i = 0; i < ni; i++) {
    const MlprtPredInput *x = &pl->inputs[i];
    MlpDescBuild d;
    mlp_desc_begin(&d, MLP_DESC_PRED_INPUT);
    mlp_desc_set(&d, MLPRT_PRED_INPUT_name, cstr(c, x->name));
    mlp_desc_set(&d, MLPRT_PRED_INPUT_type, ci64(c, x->type));
    mlp_desc_set(&d, MLPRT_PRED_INPUT_lo, cf64(c, x->lo));
    mlp_desc_set(&d, MLPRT_PRED_INPUT_hi, cf64(c, x->hi));
    mlp_desc_set(&d, MLPRT_PRED_INPUT_levels, cstr(c, x->levels));
    mlp_desc_set(&d, MLPRT_PRED_INPUT_nlevels, ci64(c, x->nlevels));
    in[i] = mlp_desc_end(&d, c->ctx);
  }
  if (ni > 0)
    inputs = const_global(c, "mlp_pred_inputs", LLVMConstArray2(LLVMTypeOf(in[0]), in, (uint64_t)ni));
  for (int64_t i = 0; i < ns; i++) {
    const MlprtPredStep *s = &pl->steps[i];
    MlpDescBuild d;
    mlp_desc_begin(&d, MLP_DESC_PRED_STEP);
    mlp_desc_set(&d, MLPRT_PRED_STEP_op, ci64(c, s->op));
    mlp_desc_set(&d, MLPRT_PRED_STEP_src, ci64(c, s->src));
    mlp_desc_set(&d, MLPRT_PRED_STEP_dst, ci64(c, s->dst));
    mlp_desc_set(&d, MLPRT_PRED_STEP_n, ci64(c, s->n));
    mlp_desc_set(&d, MLPRT_PRED_STEP_a, cf64(c, s->a));
    mlp_desc_set(&d, MLPRT_PRED_STEP_b, cf64(c, s->b));
    mlp_desc_set(&d, MLPRT_PRED_STEP_text, cstr(c, s->text));
    in[i] = mlp_desc_end(&d, c->ctx);
  }
  if (ns > 0) steps = const_global(c, "mlp_pred_steps", LLVMConstArray2(LLVMTypeOf(in[0]), in, (uint64_t)ns));
  for (int64_t i = 0; i < nf; i++) in[i] = ci64(c, pl->feature_slot[i]);
  if (nf > 0) slots = const_global(c, "mlp_pred_feature_slot", LLVMConstArray2(c->i64, in, (uint64_t)nf));
  for (int64_t i = 0; i < pl->nna; i++) in[i] = cstr(c, pl->na_tokens[i]);
  if (pl->na_tokens) na = const_global(c, "mlp_pred_na", LLVMConstArray2(c->ptr, in, (uint64_t)pl->nna));
  free(in);
  MlpDescBuild d;
  mlp_desc_begin(&d, MLP_DESC_PRED_PLAN);
  mlp_desc_set(&d, MLPRT_PRED_PLAN_inputs, inputs);
  mlp_desc_set(&d, MLPRT_PRED_PLAN_ninputs, ci64(c, ni));
  mlp_desc_set(&d, MLPRT_PRED_PLAN_steps, steps);
  mlp_desc_set(&d, MLPRT_PRED_PLAN_nsteps, ci64(c, ns));
  mlp_desc_set(&d, MLPRT_PRED_PLAN_nslots, ci64(c, pl->nslots));
  mlp_desc_set(&d, MLPRT_PRED_PLAN_feature_slot, slots);
  mlp_desc_set(&d, MLPRT_PRED_PLAN_nfeatures, ci64(c, nf));
  mlp_desc_set(&d, MLPRT_PRED_PLAN_na_tokens, na);
  mlp_desc_set(&d, MLPRT_PRED_PLAN_nna, ci64(c, pl->nna));
  mlp_desc_set(&d, MLPRT_PRED_PLAN_clean, mlp_predclean_emit(c, pl));
  return const_global(c, "mlp_pred_plan", mlp_desc_end(&d, c->ctx));
}

static LLVMValueRef predictor_desc(Cg *c, const MlpRunDir *rd, const MlpPredgenInfo *info, const Plan *p,
                                   LLVMValueRef forward, LLVMValueRef blob, const char *weights_hex) {
  const MlpIrModel *m = rd->model;
  const MlpIrDeploy *dp = &rd->ir->deploy;
  /* The drift reference (bins of every feature, of the predictions) is
   * compiled in when the spec asks for monitoring: for an image model it
   * is larger than the predictor's code. */
  int64_t bins = dp->monitor ? rd->drift_bins : 0;
  const double *edges = dp->monitor ? rd->drift_edges : NULL, *ref = dp->monitor ? rd->drift_ref : NULL;
  const double *pred_edges = dp->monitor ? rd->pred_edges : NULL;
  const double *pred_ref = dp->monitor ? rd->pred_ref : NULL;
  MlpDescBuild d;
  mlp_desc_begin(&d, MLP_DESC_PREDICTOR);
  mlp_desc_set(&d, MLPRT_PREDICTOR_name, cstr(c, rd->name));
  mlp_desc_set(&d, MLPRT_PREDICTOR_version, cstr(c, rd->version));
  mlp_desc_set(&d, MLPRT_PREDICTOR_spec_sha256, cstr(c, rd->spec_sha256));
  mlp_desc_set(&d, MLPRT_PREDICTOR_data_sha256, cstr(c, rd->data_sha256));
  mlp_desc_set(&d, MLPRT_PREDICTOR_weights_sha256, cstr(c, weights_hex));
  mlp_desc_set(&d, MLPRT_PREDICTOR_card, cstr(c, rd->card));
  mlp_desc_set(&d, MLPRT_PREDICTOR_compiler, cstr(c, info->compiler));
  mlp_desc_set(&d, MLPRT_PREDICTOR_task, ci64(c, m->task));
  mlp_desc_set(&d, MLPRT_PREDICTOR_n_in, ci64(c, m->in_size));
  mlp_desc_set(&d, MLPRT_PREDICTOR_n_out, ci64(c, m->out_size));
  mlp_desc_set(&d, MLPRT_PREDICTOR_classes, cstr(c, rd->classes_text));
  mlp_desc_set(&d, MLPRT_PREDICTOR_y_mean, cf64(c, rd->y_mean));
  mlp_desc_set(&d, MLPRT_PREDICTOR_y_std, cf64(c, rd->y_std));
  mlp_desc_set(&d, MLPRT_PREDICTOR_forward, forward);
  mlp_desc_set(&d, MLPRT_PREDICTOR_batch, ci64(c, p->batch));
  mlp_desc_set(&d, MLPRT_PREDICTOR_scratch_bytes, ci64(c, p->scratch_bytes));
  mlp_desc_set(&d, MLPRT_PREDICTOR_weights, blob);
  mlp_desc_set(&d, MLPRT_PREDICTOR_weights_bytes, ci64(c, p->bytes));
  mlp_desc_set(&d, MLPRT_PREDICTOR_plan, info->plan ? plan_desc(c, info->plan) : LLVMConstNull(c->ptr));
  mlp_desc_set(&d, MLPRT_PREDICTOR_on_missing_column, ci64(c, dp->on_missing_column));
  mlp_desc_set(&d, MLPRT_PREDICTOR_on_unknown_category, ci64(c, dp->on_unknown_category));
  mlp_desc_set(&d, MLPRT_PREDICTOR_on_out_of_range, ci64(c, dp->on_out_of_range));
  mlp_desc_set(&d, MLPRT_PREDICTOR_on_nan, ci64(c, dp->on_nan));
  mlp_desc_set(&d, MLPRT_PREDICTOR_range_margin, cf64(c, MLP_EXPORT_RANGE_MARGIN));
  mlp_desc_set(&d, MLPRT_PREDICTOR_fallback_value, cf64(c, dp->fallback_value));
  mlp_desc_set(&d, MLPRT_PREDICTOR_fallback_label,
               cstr(c, m->task == MLP_TASK_REGRESSION ? NULL : dp->fallback));
  mlp_desc_set(&d, MLPRT_PREDICTOR_drift_threshold, cf64(c, dp->drift_threshold));
  mlp_desc_set(&d, MLPRT_PREDICTOR_drift_window, ci64(c, dp->drift_window));
  mlp_desc_set(&d, MLPRT_PREDICTOR_drift_bins, ci64(c, bins));
  mlp_desc_set(&d, MLPRT_PREDICTOR_drift_edges,
               cdbl_array(c, "mlp_drift_edges", edges, m->in_size * (bins - 1)));
  mlp_desc_set(&d, MLPRT_PREDICTOR_drift_ref, cdbl_array(c, "mlp_drift_ref", ref, m->in_size * bins));
  mlp_desc_set(&d, MLPRT_PREDICTOR_pred_edges, cdbl_array(c, "mlp_pred_edges", pred_edges, bins - 1));
  mlp_desc_set(&d, MLPRT_PREDICTOR_pred_ref, cdbl_array(c, "mlp_pred_ref", pred_ref, rd->npred_ref));
  mlp_desc_set(&d, MLPRT_PREDICTOR_max_latency_ms, cf64(c, dp->max_latency_ms));
  /* a few numbers per feature, always: /metrics reports their shift */
  mlp_desc_set(&d, MLPRT_PREDICTOR_feature_mean,
               cdbl_array(c, "mlp_feature_mean", rd->feature_mean, m->in_size));
  mlp_desc_set(&d, MLPRT_PREDICTOR_feature_std,
               cdbl_array(c, "mlp_feature_std", rd->feature_std, m->in_size));
  return mlp_desc_end(&d, c->ctx);
}

/* ---- entry points ----------------------------------------------------------- */

static void emit_main(Cg *c, LLVMValueRef desc) {
  LLVMTypeRef ps[] = {c->i32, c->ptr};
  c->fn = LLVMAddFunction(c->mod, "main", LLVMFunctionType(c->i32, ps, 2, 0));
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
  LLVMValueRef a[] = {LLVMGetParam(c->fn, 0), LLVMGetParam(c->fn, 1), desc};
  LLVMBuildRet(c->b, abi_call(c, MLP_ABI_mlprt_predict_main, a, 3));
}

static LLVMValueRef exported(Cg *c, const char *prefix, const char *what, LLVMValueRef init) {
  char name[256];
  snprintf(name, sizeof name, "%s_%s", prefix, what);
  LLVMValueRef g = const_global(c, name, init);
  LLVMSetLinkage(g, LLVMExternalLinkage);
  return g;
}

/* NAME_predict(fields, out, reason, n): one row through
 * mlprt_predict_fields_kept with this thread's scratch (zero at first, and
 * this predictor's alone, so readied once), so that callers need
 * not know its size. The runtime sizes that scratch from the descriptor's
 * shapes; the same numbers, here, size it at compile time. */
static void emit_embedding(Cg *c, const MlpRunDir *rd, const MlpPredgenInfo *info, const Plan *p,
                           LLVMValueRef desc) {
  const char *pre = info->name;
  MlprtPredictor shape = {.name = rd->name,
                          .task = rd->model->task,
                          .n_in = rd->model->in_size,
                          .n_out = rd->model->out_size,
                          .classes = rd->classes_text,
                          .batch = p->batch,
                          .scratch_bytes = p->scratch_bytes,
                          .plan = info->plan};
  LLVMTypeRef st = LLVMArrayType2(c->i8, (uint64_t)mlprt_predict_scratch_bytes(&shape));
  LLVMValueRef scratch = LLVMAddGlobal(c->mod, st, "mlp_predict_scratch");
  LLVMSetInitializer(scratch, LLVMConstNull(st));
  LLVMSetLinkage(scratch, LLVMInternalLinkage);
  LLVMSetThreadLocal(scratch, 1);
  LLVMSetAlignment(scratch, MLPRT_ALIGN);
  char name[256];
  snprintf(name, sizeof name, "%s_predict", pre);
  LLVMTypeRef ps[] = {c->ptr, c->ptr, c->ptr, c->i64};
  c->fn = LLVMAddFunction(c->mod, name, LLVMFunctionType(c->i32, ps, 4, 0));
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
  LLVMValueRef a[] = {desc, LLVMGetParam(c->fn, 0), LLVMGetParam(c->fn, 1), scratch, LLVMGetParam(c->fn, 2),
                      LLVMGetParam(c->fn, 3)};
  LLVMBuildRet(c->b, abi_call(c, MLP_ABI_mlprt_predict_fields_kept, a, 6));
  const MlprtPredPlan *pl = info->plan;
  int64_t ni = pl ? pl->ninputs : 0;
  LLVMValueRef *names = mlp_xmalloc((size_t)(ni + rd->nclasses + 1) * sizeof *names);
  for (int64_t i = 0; i < ni; i++) names[i] = cstr(c, pl->inputs[i].name);
  names[ni] = LLVMConstNull(c->ptr);
  exported(c, pre, "input_names", LLVMConstArray2(c->ptr, names, (uint64_t)ni + 1));
  for (int i = 0; i < rd->nclasses; i++) names[i] = cstr(c, rd->classes[i]);
  names[rd->nclasses] = LLVMConstNull(c->ptr);
  exported(c, pre, "classes", LLVMConstArray2(c->ptr, names, (uint64_t)rd->nclasses + 1));
  free(names);
  exported(c, pre, "n_inputs", ci64(c, ni));
  exported(c, pre, "n_outputs", ci64(c, rd->model->out_size));
  exported(c, pre, "n_classes", ci64(c, rd->nclasses));
}

LLVMModuleRef mlp_predgen(LLVMContextRef ctx, const MlpRunDir *rd, const MlpPredgenInfo *info, char *err,
                          size_t n) {
  Plan p = {0};
  if (plan_weights(rd, info, &p, err, n) != 0) {
    free(p.blob);
    free(p.at);
    return NULL;
  }
  plan_scratch(rd->model, info->embed ? 1 : MAX_BATCH, &p);
  char hex[65];
  mlprt_sha256_hex(p.blob, (size_t)p.bytes, hex);
  Cg c = cg_open(ctx, rd->name);
  /* The weights as bytes: one constant LLVM folds loads from when it
   * unrolls the small layers, and which the predictor hashes at start. */
  LLVMValueRef blob = const_global(&c, "mlp_weights",
                                   LLVMConstStringInContext(ctx, (const char *)p.blob, (unsigned)p.bytes, 1));
  LLVMSetAlignment(blob, MLPRT_ALIGN);
  LLVMValueRef fwd = emit_forward(&c, rd->model, &p, blob);
  LLVMValueRef desc = const_global(&c, "mlp_predictor", predictor_desc(&c, rd, info, &p, fwd, blob, hex));
  if (info->embed) {
    LLVMSetLinkage(desc, LLVMExternalLinkage);
    char name[256];
    snprintf(name, sizeof name, "%s_predictor", info->name);
    LLVMSetValueName2(desc, name, strlen(name));
    emit_embedding(&c, rd, info, &p, desc);
  } else {
    emit_main(&c, desc);
  }
  LLVMDisposeBuilder(c.b);
  free(p.blob);
  free(p.at);
  return c.mod;
}
