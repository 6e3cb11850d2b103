/* lower.c — from a checked spec to the IR (see lower.h). Consumes layer
 * lists and training settings; produces shapes, parameter offsets, FLOPs and
 * the static memory plan of each model. */
#include "lower.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "contract.h"
#include "mlp/clean.h"
#include "mlp/data.h"
#include "mlp/layers.h"
#include "mlp/predict.h"
#include "mlp/run.h"
#include "mlp/tensor.h"
#include "mlp/tpe.h"
#include "rundir.h"

/* Output extent of a window of k moved by stride over in + 2 pad (PyTorch's
 * rounding down); <= 0 when the window does not fit. */
static int64_t window_out(int64_t in, int k, int stride, int pad) {
  int64_t span = in + 2 * pad - k;
  return span < 0 ? 0 : span / stride + 1;
}

/* Floats of im2col scratch for one image, as mlprt_conv2d_col_size counts
 * them: none for a 1x1, stride-1, unpadded convolution. */
static int64_t col_floats(const MlpIrLayer *l) {
  if (l->kernel == 1 && l->stride == 1 && l->pad == 0) return 0;
  return l->in_c * l->kernel * l->kernel * l->out_h * l->out_w;
}

/* One training step is a schedule of numbered steps: forward of layer i is
 * step i, the loss is step L, backward of layer i is step 2L - i, the
 * optimizer update is step 2L + 1. Buffer lifetimes are ranges of these. */
int mlp_lower_model(MlpArena *a, MlpIrModel *m) {
  int L = m->nlayers, end = 2 * L + 1, bad = -1;
  int64_t fbytes = (int64_t)sizeof(float);
  m->n_params = 0;
  m->n_state = 0;
  m->flops = 0;
  m->nbufs = 0;
  if (m->in_c == 0) {
    m->in_c = m->in_size;
    m->in_h = m->in_w = 1;
  }
  m->in_size = m->in_c * m->in_h * m->in_w;
  int64_t xbytes = m->sparse_in ? (int64_t)sizeof(MlprtSparseBatch) : m->batch * m->in_size * fbytes;
  m->x_buf = mlp_ir_add_buffer(a, m, "x", xbytes, 0, 2 * L);
  int64_t c = m->in_c, h = m->in_h, w = m->in_w;
  int prev_out = m->x_buf;
  bool masking = false; /* the layer's input steps are a masked embedding's */
  for (int i = 0; i < L; i++) {
    MlpIrLayer *l = &m->layers[i];
    if (l->op == MLP_OP_EMBEDDING) masking = l->masked;
    if (l->op == MLP_OP_RECURRENT || l->op == MLP_OP_ENCODER || l->op == MLP_OP_POOL_STEPS)
      l->masked = masking;
    bool keeps_steps = l->op == MLP_OP_DROPOUT || l->op == MLP_OP_EMBEDDING ||
                       (l->op == MLP_OP_RECURRENT && l->return_sequences) ||
                       (l->op == MLP_OP_ENCODER && l->enc[MLPRT_ENC_POOL] == MLPRT_POOL_NONE);
    masking &= keeps_steps;
    l->in_c = c;
    l->in_h = h;
    l->in_w = w;
    l->in_size = c * h * w;
    l->mask_buf = l->col_buf = l->argmax_buf = l->stats_buf = l->seq_buf = l->work_buf = l->pre_buf = -1;
    l->n_params = 0;
    l->flops = 0;
    switch (l->op) {
    case MLP_OP_DENSE:
      l->out_c = l->out_size;
      l->out_h = l->out_w = 1;
      l->w_off = m->n_params;
      l->b_off = m->n_params + l->out_size * l->in_size;
      l->n_params = l->out_size * l->in_size + (l->no_bias ? 0 : l->out_size);
      /* GEMM, then bias and activation */
      l->flops = 2 * l->in_size * l->out_size + (l->no_bias ? 1 : 2) * l->out_size;
      break;
    case MLP_OP_CONV2D:
      l->out_h = window_out(h, l->kernel, l->stride, l->pad);
      l->out_w = window_out(w, l->kernel, l->stride, l->pad);
      l->w_off = m->n_params;
      l->b_off = m->n_params + l->out_c * c * l->kernel * l->kernel;
      l->n_params = l->out_c * c * l->kernel * l->kernel + l->out_c;
      l->flops = (2 * c * l->kernel * l->kernel + 2) * l->out_c * l->out_h * l->out_w;
      break;
    case MLP_OP_MAXPOOL2D:
    case MLP_OP_AVGPOOL2D:
      l->out_c = c;
      l->out_h = window_out(h, l->kernel, l->stride, 0);
      l->out_w = window_out(w, l->kernel, l->stride, 0);
      l->flops = c * l->out_h * l->out_w * l->kernel * l->kernel;
      break;
    case MLP_OP_FLATTEN:
      /* reshape: steps rows of the features that divide the row evenly, else no output */
      l->features = l->steps > 0 && l->in_size % l->steps == 0 ? l->in_size / l->steps : 0;
      l->out_c = l->steps > 0 ? 1 : l->in_size;
      l->out_h = l->steps > 0 ? l->steps : 1;
      l->out_w = l->steps > 0 ? l->features : 1;
      break;
    case MLP_OP_BATCHNORM:
      /* Statistics per channel over the batch and the image plane. */
      l->out_c = c;
      l->out_h = h;
      l->out_w = w;
      l->w_off = m->n_params;     /* gamma [C] */
      l->b_off = m->n_params + c; /* beta [C] */
      l->n_params = 2 * c;
      l->state_off = m->n_state;
      m->n_state += 2 * c;
      l->flops = 8 * l->in_size;
      break;
    case MLP_OP_LAYERNORM:
      /* Statistics per sample over all its features, an affine pair per feature. */
      l->out_c = c;
      l->out_h = h;
      l->out_w = w;
      l->w_off = m->n_params;                /* weight [in_size] */
      l->b_off = m->n_params + l->in_size;   /* bias [in_size] */
      l->n_params = 2 * l->in_size;
      l->flops = 8 * l->in_size;
      break;
    case MLP_OP_DROPOUT:
      l->out_c = c;
      l->out_h = h;
      l->out_w = w;
      l->flops = l->in_size;
      break;
    case MLP_OP_RECURRENT: {
      /* Steps x features, row-major: the rows of a one-channel image, or one step of a vector;
       * another shape leaves no output (an error at the layer). */
      int64_t g = mlprt_recurrent_gates(l->cell), u = l->units, dirs = l->bidirectional ? 2 : 1;
      bool rows = c == 1 || (h == 1 && w == 1);
      l->steps = c == 1 ? h : 1;
      l->features = c == 1 ? w : c;
      l->out_c = rows ? (l->return_sequences ? 1 : dirs * u) : 0;
      l->out_h = l->return_sequences ? l->steps : 1;
      l->out_w = l->return_sequences ? dirs * u : 1;
      l->w_off = m->n_params;
      l->b_off = m->n_params + g * u * (l->features + u);
      l->n_params = dirs * mlp_ir_recurrent_dir_floats(l);
      l->flops = dirs * l->steps * (2 * g * u * (l->features + u) + 12 * g * u);
      break;
    }
    case MLP_OP_EMBEDDING:
      /* a vector of codes (n, 1, 1) is n steps of the table's width */
      l->steps = h == 1 && w == 1 ? c : 0;
      l->out_c = 1;
      l->out_h = l->steps;
      l->out_w = l->units;
      l->w_off = l->b_off = m->n_params;
      l->n_params = l->vocab * l->units;
      l->flops = l->steps * l->units;
      break;
    case MLP_OP_POOL_STEPS: {
      /* steps x features as a recurrent layer reads them, to the features */
      bool rows = c == 1 || (h == 1 && w == 1);
      l->steps = c == 1 ? h : 1;
      l->features = c == 1 ? w : c;
      l->out_c = rows ? l->features : 0;
      l->out_h = l->out_w = 1;
      l->flops = l->steps * l->features;
      break;
    }
    case MLP_OP_ENCODER: {
      /* steps x features as a recurrent layer reads them */
      bool rows = c == 1 || (h == 1 && w == 1);
      int64_t D = l->enc[MLPRT_ENC_D], T = c == 1 ? h : 1, F = c == 1 ? w : c, FF = l->enc[MLPRT_ENC_FF];
      bool seq = l->enc[MLPRT_ENC_POOL] == MLPRT_POOL_NONE;
      l->enc[MLPRT_ENC_T] = (int32_t)T;
      l->enc[MLPRT_ENC_F] = (int32_t)F;
      l->steps = T;
      l->features = F;
      l->out_c = rows ? (seq ? 1 : D) : 0;
      l->out_h = seq ? T : 1;
      l->out_w = seq ? D : 1;
      l->w_off = m->n_params;
      l->n_params = rows ? mlprt_encoder_params(l->enc) : 0;
      l->b_off = m->n_params + l->n_params; /* one slab, no separate bias */
      /* per block: the projections, the scores and weighted values, the feed-forward */
      l->flops = (F != D ? 2 * T * F * D : 0) +
                 l->enc[MLPRT_ENC_LAYERS] * (8 * T * D * D + 4 * T * T * D + 4 * T * D * FF + 20 * T * D);
      break;
    }
    case MLP_OP_FOREST: {
      /* per tree: 2^depth - 1 (feature, threshold) pairs, then 2^depth leaves of out_size values */
      int64_t inner = ((int64_t)1 << m->depth) - 1;
      l->out_c = l->out_size;
      l->out_h = l->out_w = 1;
      l->w_off = l->b_off = m->n_params;
      l->n_params = m->trees * (2 * inner + (inner + 1) * l->out_size);
      l->flops = m->trees * (2 * m->depth + l->out_size);
      break;
    }
    case MLP_OP_SVM: {
      /* the header, a count per class, an intercept per pair, then room for svm_rows vectors each with
       * its K - 1 coefficients (a regression: one intercept and one coefficient) */
      int64_t K = m->svm_classes;
      l->out_c = l->out_size;
      l->out_h = l->out_w = 1;
      l->w_off = l->b_off = m->n_params;
      l->n_params =
          MLPRT_SVM_HEADER + K + MLPRT_SVM_PAIRS(K) + m->svm_rows * (l->in_size + MLPRT_SVM_COEFS(K));
      l->flops = m->svm_rows * (4 * l->in_size + 2 * MLPRT_SVM_COEFS(K));
      break;
    }
    case MLP_OP_BOOST: {
      /* per tree: 2^depth - 1 (feature, threshold) pairs, then 2^depth leaves of one value; the
       * out_size base scores after the trees */
      int64_t inner = ((int64_t)1 << m->depth) - 1, trees = m->trees * l->out_size;
      l->out_c = l->out_size;
      l->out_h = l->out_w = 1;
      l->w_off = m->n_params;
      l->b_off = m->n_params + trees * (3 * inner + 1);
      l->n_params = trees * (3 * inner + 1) + l->out_size;
      l->flops = trees * (2 * m->depth + 1);
      break;
    }
    }
    l->out_size = l->out_c * l->out_h * l->out_w;
    if (l->out_size <= 0 && bad < 0) bad = i;
    m->n_params += l->n_params;
    m->flops += l->flops;
    if (l->op == MLP_OP_FLATTEN) {
      /* Flattening a row-major batch moves no data: the output is the input. */
      l->out_buf = prev_out;
      MlpIrBuffer *b = &m->bufs[prev_out];
      if (b->last < 2 * L - i) b->last = 2 * L - i;
    } else {
      int64_t bytes = m->batch * l->out_size * fbytes;
      /* Read by the next layer, by this layer's backward (activation
       * derivative) and by the next layer's backward (weight gradient). */
      l->out_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "act%d", i), bytes, i, 2 * L - i);
      if (l->op == MLP_OP_BATCHNORM || l->op == MLP_OP_LAYERNORM) {
        int64_t n = l->op == MLP_OP_BATCHNORM ? l->out_c : m->batch; /* per channel, or per row */
        l->stats_buf =
            mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "stats%d", i), 2 * n * fbytes, i, 2 * L - i);
      }
      if (l->op == MLP_OP_RECURRENT && l->out_size > 0) {
        int64_t seq, work;
        mlprt_recurrent_sizes(l->cell, m->batch, l->steps, l->units, &seq, &work);
        seq *= l->bidirectional ? 2 : 1;
        l->seq_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "seq%d", i), seq * fbytes, i, 2 * L - i);
        l->work_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "work%d", i), work * fbytes, i, 2 * L - i);
      }
      if ((l->op == MLP_OP_DENSE || l->op == MLP_OP_CONV2D) && l->act == MLP_ACT_GELU)
        l->pre_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "pre%d", i), bytes, i, 2 * L - i);
      if (l->op == MLP_OP_ENCODER && l->out_size > 0) {
        int64_t rec, work;
        mlprt_encoder_sizes(l->enc, m->batch, &rec, &work);
        l->seq_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "record%d", i), rec * fbytes, i, 2 * L - i);
        l->work_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "work%d", i), work * fbytes, i, 2 * L - i);
      }
      if (l->op == MLP_OP_DROPOUT)
        l->mask_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "mask%d", i), bytes, i, 2 * L - i);
      if (l->op == MLP_OP_MAXPOOL2D)
        l->argmax_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "argmax%d", i),
                                          m->batch * l->out_size * 4, i, 2 * L - i);
      if (l->op == MLP_OP_CONV2D && col_floats(l) > 0)
        l->col_buf =
            mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "col%d", i), col_floats(l) * fbytes, i, 2 * L - i);
    }
    prev_out = l->out_buf;
    c = l->out_c;
    h = l->out_h;
    w = l->out_w;
  }
  m->out_size = c * h * w;
  /* Gradients flow backwards: dout of layer i is written by the backward of
   * layer i + 1 (or by the loss) and consumed by layer i's own backward.
   * Layers before the first one with weights get none: nothing reads the
   * gradient of the input, so a flatten or pool in front of the first dense
   * layer must not cost that layer a third GEMM. The loss always writes the
   * output layer's. */
  int first_weighted = L - 1;
  for (int i = L - 2; i >= 0; i--)
    if (m->layers[i].n_params > 0) first_weighted = i;
  for (int i = L - 1; i >= 0; i--) {
    MlpIrLayer *l = &m->layers[i];
    if (i < first_weighted) {
      l->dout_buf = -1;
      continue;
    }
    if (i + 1 < L && m->layers[i + 1].op == MLP_OP_FLATTEN) {
      /* Through a flatten the gradient, like the activation, is one buffer. */
      l->dout_buf = m->layers[i + 1].dout_buf;
      MlpIrBuffer *b = &m->bufs[l->dout_buf];
      if (b->last < 2 * L - i) b->last = 2 * L - i;
      continue;
    }
    int64_t bytes = m->batch * l->out_size * fbytes;
    l->dout_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "dact%d", i), bytes, 2 * L - i - 1, 2 * L - i);
  }
  int64_t pbytes = m->n_params * fbytes;
  m->y_buf = mlp_ir_add_buffer(a, m, "y", m->batch * m->out_size * fbytes, 0, L);
  m->params_buf = mlp_ir_add_buffer(a, m, "params", pbytes, 0, end);
  /* Trees and support vector machines are never stepped by the optimizer
   * (their backward and update functions are not called): no room for
   * gradients or moments. */
  bool fitted = m->kind == MLP_MODEL_FOREST || m->kind == MLP_MODEL_SVM || m->kind == MLP_MODEL_BOOST;
  int64_t obytes = fitted ? 0 : pbytes;
  m->grads_buf = mlp_ir_add_buffer(a, m, "grads", obytes, 0, end);
  m->m_buf = mlp_ir_add_buffer(a, m, "adam_m", obytes, 0, end);
  m->v_buf = mlp_ir_add_buffer(a, m, "adam_v", obytes, 0, end);
  m->best_buf = mlp_ir_add_buffer(a, m, "best_params", pbytes, 0, end);
  m->state_buf = m->best_state_buf = -1;
  if (m->n_state > 0) {
    m->state_buf = mlp_ir_add_buffer(a, m, "state", m->n_state * fbytes, 0, end);
    m->best_state_buf = mlp_ir_add_buffer(a, m, "best_state", m->n_state * fbytes, 0, end);
  }
  mlp_ir_plan_memory(m);
  return bad;
}

/* ---- from the checked spec ------------------------------------------------ */

typedef struct {
  MlpArena *a;
  const MlpSpec *s;
  MlpDiag *d;
  int target_type;           /* the target column's MlprtColType */
  const MlpDataShape *shape; /* the data's shape when known without reading it, else NULL */
  const MlpSpecCall **step_call; /* [the IR's cleaning steps] the spec op each comes of; NULL: the schema */
  bool fitted;               /* the model is fitted at once: tuning searches its penalties */
  double l1, l2;             /* and these are they, for its jobs */
  const char *searchless;    /* the model tuning searches nothing of yet ("a random forest"), or NULL */
  int64_t source_rows;       /* the rows the schema probe read; 0: not known */
  const MlpSpecSpace *family; /* tuning's `model in [...]`, or NULL */
  bool loop_read;            /* a network of the family reads the training loop's settings */
  const char *spec_path;     /* where the spec is: a trial's data plan is lowered again from it */
} Lower;

static double num_or(const MlpSpecValue *v, double dflt) {
  double x = mlp_spec_num(v);
  return isnan(x) ? dflt : x;
}

static bool bool_or(const MlpSpecValue *v, bool dflt) {
  return v && v->node && v->node->kind == MLP_ND_BOOL ? v->node->num != 0 : dflt;
}

static const char *str_or(const MlpSpecValue *v, const char *dflt) {
  const char *s = mlp_spec_str(v);
  return s ? s : dflt;
}

/* The not-yet-supported construct at loc, as an error. */
static void unsupported(Lower *L, MlpLoc at, const char *what) {
  mlp_diag_error(L->d, at, "%s is not supported by code generation yet", what);
}

/* A transformer_encoder's settings into its configuration (sema has checked
 * that dim is a multiple of heads); the steps and features come with its
 * input's shape (mlp_lower_model). */
static void lower_encoder(const MlpSpecCall *c, MlpIrLayer *l) {
  static const char *const pos[] = {"none", "learned", "sinusoidal"};         /* by MlprtEncPos */
  static const char *const pool[] = {"mean", "first", "last", "max", "none"}; /* by MlprtEncPool */
  l->op = MLP_OP_ENCODER;
  int32_t *e = l->enc;
  e[MLPRT_ENC_D] = (int32_t)num_or(mlp_spec_arg(c, "dim"), 1);
  e[MLPRT_ENC_HEADS] = (int32_t)num_or(mlp_spec_arg(c, "heads"), 1);
  e[MLPRT_ENC_LAYERS] = (int32_t)num_or(mlp_spec_arg(c, "layers"), 1);
  e[MLPRT_ENC_FF] = (int32_t)num_or(mlp_spec_arg(c, "ff"), 4.0 * e[MLPRT_ENC_D]);
  e[MLPRT_ENC_NORM_FIRST] = bool_or(mlp_spec_arg(c, "norm_first"), false);
  e[MLPRT_ENC_CAUSAL] = bool_or(mlp_spec_arg(c, "causal"), false);
  e[MLPRT_ENC_ACT] = strcmp(str_or(mlp_spec_arg(c, "activation"), "relu"), "gelu") == 0 ? MLPRT_ENC_GELU
                                                                                         : MLPRT_ENC_RELU;
  const char *p = str_or(mlp_spec_arg(c, "positions"), "learned");
  const char *q = str_or(mlp_spec_arg(c, "pool"), "mean");
  for (int k = 0; k < 3; k++)
    if (strcmp(p, pos[k]) == 0) e[MLPRT_ENC_POS] = k;
  for (int k = 0; k < 5; k++)
    if (strcmp(q, pool[k]) == 0) e[MLPRT_ENC_POOL] = k;
  l->rate = (float)num_or(mlp_spec_arg(c, "dropout"), 0.1);
}

static bool lower_act(Lower *L, const MlpSpecCall *c, const char *name, MlpAct *act) {
  for (int i = 0; i < MLP_NACTS; i++)
    if (strcmp(name, mlp_ir_act_name((MlpAct)i)) == 0) {
      *act = (MlpAct)i;
      return true;
    }
  unsupported(L, c->loc, mlp_arena_printf(L->a, "activation '%s'", name));
  return false;
}

/* The data file named by a path written relative to the spec's directory. */
static const char *resolve(Lower *L, const char *spec_path, const char *rel) {
  if (rel[0] == '/') return rel;
  const char *slash = strrchr(spec_path, '/');
  const char *joined =
      slash ? mlp_arena_printf(L->a, "%.*s/%s", (int)(slash - spec_path), spec_path, rel) : rel;
  char *abs = realpath(joined, NULL);
  if (!abs) return joined;
  const char *r = mlp_arena_strdup(L->a, abs);
  free(abs);
  return r;
}

/* A list of names (or one name) as the runtime reads it: each followed by
 * '\n'; NULL for an empty list. */
static const char *names_text(Lower *L, const MlpNode *n) {
  const char *out = NULL;
  int k = n->kind == MLP_ND_LIST ? n->kids.len : 1;
  for (int i = 0; i < k; i++) {
    const MlpNode *e = n->kind == MLP_ND_LIST ? n->kids.items[i] : n;
    out = mlp_arena_printf(L->a, "%s%s\n", out ? out : "", e->kind == MLP_ND_STR ? e->text : e->name);
  }
  return out;
}

/* A columns value as a selector code, with the listed names in *names. */
static int columns_select(Lower *L, const MlpSpecValue *v, const char **names) {
  const MlpNode *n = v ? v->node : NULL;
  *names = NULL;
  if (!n) return MLPRT_SELECT_ALL;
  int code = n->kind == MLP_ND_IDENT ? mlp_ir_select_code(n->name) : -1;
  if (code >= 0) return code;
  *names = names_text(L, n);
  return MLPRT_SELECT_NAMES;
}

/* The index of an enum value's name among names (the runtime enum's
 * order), 0 when absent. */
static int method_code(const char *m, const char *const *names, int n) {
  for (int i = 0; m && i < n; i++)
    if (strcmp(m, names[i]) == 0) return i;
  return 0;
}

/* text_clean's options as MLPRT_TEXT_* bits. */
static int64_t text_clean_opts(const MlpSpecCall *c) {
  const char *stop = str_or(mlp_spec_arg(c, "stopwords"), "none");
  return (bool_or(mlp_spec_arg(c, "lowercase"), true) ? MLPRT_TEXT_LOWER : 0) |
         (bool_or(mlp_spec_arg(c, "strip_punctuation"), true) ? MLPRT_TEXT_PUNCT : 0) |
         (bool_or(mlp_spec_arg(c, "collapse_whitespace"), true) ? MLPRT_TEXT_SPACE : 0) |
         (strcmp(stop, "english") == 0 ? MLPRT_TEXT_STOP : 0) |
         (bool_or(mlp_spec_arg(c, "strip_accents"), false) ? MLPRT_TEXT_ACCENTS : 0) |
         (bool_or(mlp_spec_arg(c, "strip_digits"), false) ? MLPRT_TEXT_DIGITS : 0);
}

/* A vectorizer's options: the packed MlprtTerms in text, max_vocab or
 * buckets in param, min_df and max_df in low and high. */
static bool lower_terms(Lower *L, const MlpSpecCall *c, MlpIrClean *st) {
  MlprtTerms o = {.method = st->op == MLPRT_CLEAN_TFIDF          ? MLPRT_VEC_TFIDF
                            : st->op == MLPRT_CLEAN_BAG_OF_WORDS ? MLPRT_VEC_COUNT
                                                                 : MLPRT_VEC_HASH,
                  .analyzer = strcmp(str_or(mlp_spec_arg(c, "analyzer"), "word"), "char") == 0
                                  ? MLPRT_ANALYZER_CHAR
                                  : MLPRT_ANALYZER_WORD,
                  .ngram_lo = 1,
                  .ngram_hi = 1,
                  .binary = bool_or(mlp_spec_arg(c, "binary"), false),
                  .sublinear = bool_or(mlp_spec_arg(c, "sublinear_tf"), false),
                  .l2 = st->op == MLPRT_CLEAN_TFIDF &&
                        strcmp(str_or(mlp_spec_arg(c, "norm"), "l2"), "l2") == 0};
  const MlpSpecValue *ng = mlp_spec_arg(c, "ngram");
  const MlpNode *n = ng ? ng->node : NULL;
  if (n) {
    /* [lo, hi], or one n meaning [n, n]; sema checked each is in [1, 3] */
    int k = n->kind == MLP_ND_LIST ? n->kids.len : 1;
    const MlpNode *lo = n->kind == MLP_ND_LIST ? (k ? n->kids.items[0] : NULL) : n;
    const MlpNode *hi = n->kind == MLP_ND_LIST ? (k > 1 ? n->kids.items[k - 1] : lo) : n;
    if (k < 1 || k > 2 || lo->num > hi->num) {
      mlp_diag_error(L->d, n->loc, "`ngram` is [shortest, longest] with shortest <= longest, e.g. [1, 2]");
      return false;
    }
    o.ngram_lo = (int)lo->num, o.ngram_hi = (int)hi->num;
  }
  bool hash = st->op == MLPRT_CLEAN_HASH_VECTORIZE;
  st->text = mlprt_terms_pack(&o);
  st->param = num_or(mlp_spec_arg(c, hash ? "buckets" : "max_vocab"), hash ? 4096 : 10000);
  st->low = hash ? 0 : num_or(mlp_spec_arg(c, "min_df"), 1);
  st->high = hash ? 0 : num_or(mlp_spec_arg(c, "max_df"), 1);
  return true;
}

/* A list value (or one value) as codes: numbers as they are, enum names
 * by their index among names (NULL for numbers). */
static const int64_t *ints_of(Lower *L, const MlpSpecValue *v, const char *const *names, int nnames,
                              int64_t *n) {
  const MlpNode *node = v ? v->node : NULL;
  int k = !node ? 0 : node->kind == MLP_ND_LIST ? node->kids.len : 1;
  int64_t *out = mlp_arena_alloc(L->a, (size_t)(k ? k : 1) * sizeof *out);
  for (int i = 0; i < k; i++) {
    const MlpNode *e = node->kind == MLP_ND_LIST ? node->kids.items[i] : node;
    out[i] = names ? method_code(e->name, names, nnames) : (int64_t)e->num;
  }
  *n = k;
  return out;
}

/* Does a '\n'-terminated list of names hold name? */
static bool names_hold(const char *list, const char *name) {
  size_t len = strlen(name);
  for (const char *s = list, *nl; s && (nl = strchr(s, '\n')); s = nl + 1)
    if ((size_t)(nl - s) == len && memcmp(s, name, len) == 0) return true;
  return false;
}

/* A grid step such as "15min" or "1d" in seconds; 0 when it is not one. */
static int64_t freq_seconds(const char *f) {
  static const struct {
    const char *unit;
    int64_t seconds;
  } units[] = {{"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}};
  char *end;
  long long n = f ? strtoll(f, &end, 10) : 0;
  if (n <= 0 || n > 1000000000 || end == f) return 0;
  for (size_t i = 0; i < sizeof units / sizeof *units; i++)
    if (strcmp(end, units[i].unit) == 0) return n * units[i].seconds;
  return 0;
}

/* MlprtHistory's names, in its order */
static const char *const history[] = {"drop_row", "null"};

/* The time-series and date ops' settings; false (with an error) for a
 * step that would read the value the model predicts. */
static bool lower_time_step(Lower *L, const MlpSpecCall *c, MlpIrClean *st, const char *target) {
  static const char *const on_error[] = {"error", "null", "drop_row"}; /* MlprtOnFail */
  static const char *const stats[] = {"mean", "sum", "min", "max", "std"};
  static const char *const parts[] = {"year",      "quarter", "month",  "day",    "dayofweek",
                                      "dayofyear", "hour",    "minute", "second", "epoch"};
  bool on_target = names_hold(st->columns, target);
  st->by = mlp_spec_str(mlp_spec_arg(c, "by"));
  st->method = method_code(str_or(mlp_spec_arg(c, "history"), "drop_row"), history, 2);
  switch (st->op) {
  case MLPRT_CLEAN_COERCE: {
    const char *to = str_or(mlp_spec_arg(c, "to"), "float");
    st->param = strcmp(to, "date") == 0 ? MLPRT_COL_DATETIME : mlprt_col_type_parse(to);
    st->method = method_code(str_or(mlp_spec_arg(c, "on_error"), "error"), on_error, 3);
    break;
  }
  case MLPRT_CLEAN_PARSE_DATES:
    st->format = mlp_spec_str(mlp_spec_arg(c, "format"));
    st->method = method_code(str_or(mlp_spec_arg(c, "on_error"), "error"), on_error, 3);
    break;
  case MLPRT_CLEAN_SORT_BY: st->flag = bool_or(mlp_spec_arg(c, "descending"), false); break;
  case MLPRT_CLEAN_LAG: st->ints = ints_of(L, mlp_spec_arg(c, "steps"), NULL, 0, &st->nints); break;
  case MLPRT_CLEAN_ROLLING:
    st->param = num_or(mlp_spec_arg(c, "window"), 2);
    st->offset = (int64_t)num_or(mlp_spec_arg(c, "lag"), 0);
    st->ints = ints_of(L, mlp_spec_arg(c, "stat"), stats, 5, &st->nints);
    if (on_target && st->offset == 0) {
      mlp_diag_error(L->d, c->loc,
                     "rolling over the target '%s' with lag = 0 reads the value the model predicts; give "
                     "lag = 1 or more",
                     target);
      return false;
    }
    break;
  case MLPRT_CLEAN_DIFF:
    st->param = num_or(mlp_spec_arg(c, "steps"), 1);
    if (on_target) {
      mlp_diag_error(L->d, c->loc,
                     "diff of the target '%s' reads the value the model predicts; lag it first and diff "
                     "the lag",
                     target);
      return false;
    }
    break;
  case MLPRT_CLEAN_RESAMPLE: {
    static const char *const fills[] = MLPRT_GAP_FILL_NAMES, *const aggs[] = MLPRT_AGG_NAMES;
    st->select = columns_select(L, mlp_spec_arg(c, "on"), &st->columns);
    st->method = method_code(str_or(mlp_spec_arg(c, "fill"), "ffill"), fills, 4);
    st->offset = method_code(str_or(mlp_spec_arg(c, "agg"), "mean"), aggs, 6);
    const MlpSpecValue *freq = mlp_spec_arg(c, "freq");
    st->param = (double)freq_seconds(mlp_spec_str(freq));
    if (st->param <= 0) {
      mlp_diag_error(L->d, freq && freq->node ? freq->node->loc : c->loc,
                     "resample: freq '%s' is not a whole number and a unit (s, min, h, d, w), e.g. \"1d\"; "
                     "months and years have no fixed length",
                     str_or(freq, ""));
      return false;
    }
    break;
  }
  case MLPRT_CLEAN_DATE_FEATURES:
    st->ints = ints_of(L, mlp_spec_arg(c, "parts"), parts, 10, &st->nints);
    st->flag = bool_or(mlp_spec_arg(c, "cyclical"), false);
    break;
  default: break;
  }
  if (on_target && (st->op == MLPRT_CLEAN_COERCE || st->op == MLPRT_CLEAN_PARSE_DATES ||
                    st->op == MLPRT_CLEAN_DATE_FEATURES)) {
    unsupported(L, c->loc, mlp_arena_printf(L->a, "%s of the target column", c->op->name));
    return false;
  }
  return true;
}

/* A schema entry's type name, and its date format (`date("%b %d %Y")`) in
 * *format, else NULL. */
static const char *schema_type(const MlpNode *v, const char **format) {
  *format = NULL;
  if (!v) return "";
  for (int i = 0; v->kind == MLP_ND_CALL && i < v->kids.len; i++) {
    const MlpNode *arg = v->kids.items[i];
    if (arg->value && arg->value->kind == MLP_ND_STR && (!arg->name || strcmp(arg->name, "format") == 0))
      *format = arg->value->text;
  }
  return v->name ? v->name : "";
}

/* window(cols, size, lag): one lag step per step of the sequence, the
 * oldest first, so the columns come step after step, each step's columns
 * in the listed order (a sequence layer reads them as steps x features). */
static void lower_window(Lower *L, const MlpSpecCall *c, MlpIrData *d) {
  int64_t size = (int64_t)num_or(mlp_spec_arg(c, "size"), 1);
  int64_t lag = (int64_t)num_or(mlp_spec_arg(c, "lag"), 1);
  for (int64_t k = size - 1; k >= 0; k--) {
    L->step_call[d->nclean] = c;
    MlpIrClean *st = &d->clean[d->nclean++];
    int64_t *steps = mlp_arena_alloc(L->a, sizeof *steps);
    *steps = lag + k;
    *st = (MlpIrClean){.op = MLPRT_CLEAN_LAG,
                       .by = mlp_spec_str(mlp_spec_arg(c, "by")),
                       .by_idx = -1,
                       .method = method_code(str_or(mlp_spec_arg(c, "history"), "drop_row"), history, 2),
                       .ints = steps,
                       .nints = 1};
    st->select = columns_select(L, mlp_spec_arg(c, "columns"), &st->columns);
  }
}

/* The parameters that say where a source's rows are; the others say how
 * to read them. */
static bool where_param(const char *name) {
  return strcmp(name, "path") == 0 || strcmp(name, "images") == 0 || strcmp(name, "labels") == 0 ||
         strcmp(name, "conninfo") == 0 || strcmp(name, "query") == 0;
}

/* Where the rows of source call c are: *path (a PostgreSQL connection
 * string as written), the labels of IDX images in *path2 and the query of
 * an SQL source in *query (else NULL). */
static void source_where(Lower *L, const char *spec_path, const MlpSpecCall *c, const char **path,
                         const char **path2, const char **query) {
  const char *op = c->op->name;
  bool idx = strcmp(op, "idx") == 0, pg = strcmp(op, "postgres") == 0;
  const char *where = str_or(mlp_spec_arg(c, idx ? "images" : pg ? "conninfo" : "path"), "");
  *path = pg ? where : resolve(L, spec_path, where);
  *path2 = idx ? resolve(L, spec_path, str_or(mlp_spec_arg(c, "labels"), "")) : NULL;
  *query = mlp_spec_str(mlp_spec_arg(c, "query"));
}

/* How the rows of file source c are read: its format ("jsonl" for JSON
 * lines), delimiter, header and missing-value texts (left as they are when
 * it does not say); false after an error at it. */
static bool read_options(Lower *L, const MlpSpecCall *c, const char **format, char *delim, bool *no_header,
                         const char **na_values) {
  if (bool_or(mlp_spec_arg(c, "lines"), false)) *format = "jsonl";
  const char *dl = mlp_spec_str(mlp_spec_arg(c, "delimiter"));
  if (dl && strlen(dl) != 1) {
    mlp_diag_error(L->d, c->loc, "the delimiter must be one character, not '%s'", dl);
    return false;
  }
  *delim = dl ? dl[0] : 0;
  *no_header = !bool_or(mlp_spec_arg(c, "header"), true);
  const MlpSpecValue *na = mlp_spec_arg(c, "na_values");
  if (na && na->node && na->node->kind == MLP_ND_LIST) {
    const char *tokens = names_text(L, na->node);
    *na_values = tokens ? tokens : ""; /* an empty list: no text means missing */
  }
  return true;
}

/* align: the other source (read with its own options), the time key in
 * columns, the group key, the tolerance in param (a duration in seconds,
 * flag set; a number; -1 for none) and the unmatched policy in method. The
 * trace checks the keys against both sources (columns.c). */
static bool lower_align(Lower *L, const char *spec_path, const MlpSpecCall *c, MlpIrClean *st) {
  static const char *const unmatched[] = {"null", "drop_row"}; /* MlprtUnmatched */
  const MlpSpecValue *src = mlp_spec_arg(c, "source");
  const MlpSpecCall *sc = src && src->calls.len > 0 ? src->calls.items[0] : NULL;
  if (!sc) {
    mlp_diag_error(L->d, c->loc, "align needs the source to join, e.g. align(csv(\"rates.csv\"), on = date)");
    return false;
  }
  const char *path2 = NULL;
  source_where(L, spec_path, sc, &st->source, &path2, &st->source_query);
  if (path2) {
    mlp_diag_error(L->d, sc->loc, "align joins a table on a time key; IDX images have none");
    return false;
  }
  st->source_format = sc->op->name;
  if (!st->source_query &&
      !read_options(L, sc, &st->source_format, &st->source_delim, &st->source_no_header, &st->source_na))
    return false;
  /* the keys: on and by name them in both sources, left_ and right_ in each */
  static const char *const keys[][3] = {{"on", "left_on", "right_on"}, {"by", "left_by", "right_by"}};
  const MlpSpecValue *key[2][3];
  for (int k = 0; k < 2; k++) {
    for (int j = 0; j < 3; j++) key[k][j] = mlp_spec_arg(c, keys[k][j]);
    bool both = key[k][0]->given, left = key[k][1]->given, right = key[k][2]->given;
    if ((both && (left || right)) || left != right) {
      mlp_diag_error(L->d, left ? key[k][1]->node->loc : key[k][2]->node->loc,
                     "align: name the %s key once: %s = COL for both sources, or %s = COL and %s = COL",
                     k ? "group" : "time", keys[k][0], keys[k][1], keys[k][2]);
      return false;
    }
    if (!k && !both && !left) {
      mlp_diag_error(L->d, c->loc, "align needs the time key: on = COL, or left_on = COL and right_on = COL");
      return false;
    }
  }
  st->select = columns_select(L, key[0][0]->given ? key[0][0] : key[0][1], &st->columns);
  st->source_on = mlp_spec_str(key[0][2]);
  st->by = mlp_spec_str(key[1][0]->given ? key[1][0] : key[1][1]);
  st->source_by = mlp_spec_str(key[1][2]);
  st->method = method_code(str_or(mlp_spec_arg(c, "unmatched"), "null"), unmatched, 2);
  st->param = -1;
  const MlpSpecValue *tol = mlp_spec_arg(c, "tolerance");
  if (tol && tol->node) {
    const char *text = mlp_spec_str(tol);
    st->flag = text != NULL;
    st->param = text ? (double)freq_seconds(text) : mlp_spec_num(tol);
    if (!(st->param > 0 || (!text && st->param == 0))) {
      mlp_diag_error(L->d, tol->node->loc,
                     "align: tolerance is a duration (a whole number and a unit: s, min, h, d, w, e.g. "
                     "\"7d\") for a date key, or a number >= 0 for a numeric key");
      return false;
    }
  }
  return true;
}

static bool lower_clean(Lower *L, MlpIrData *d, const char *spec_path) {
  /* in the order of MlprtImpute and MlprtOutlierMethod */
  static const char *const strategies[] = {"mean", "median", "mode", "constant", "ffill", "drop_row"};
  static const char *const outliers[] = {"zscore", "iqr"};
  const MlpSpecBlock *clean = mlp_spec_block(L->s, "data.clean");
  const MlpSpecBlock *schema = mlp_spec_block(L->s, "data.schema");
  int n = clean ? clean->ops.len : 0, nschema = schema ? schema->entries.len : 0, nsteps = n + nschema + 1;
  for (int i = 0; i < n; i++) { /* a window is a lag step per step */
    const MlpSpecCall *c = clean->ops.items[i];
    if (strcmp(c->op->name, "window") == 0) nsteps += (int)num_or(mlp_spec_arg(c, "size"), 1);
  }
  d->clean = mlp_arena_alloc(L->a, (size_t)nsteps * sizeof *d->clean);
  L->step_call = mlp_arena_alloc(L->a, (size_t)nsteps * sizeof *L->step_call);
  /* a date declared with a format is loaded as text and parsed first */
  for (int i = 0; i < nschema; i++) {
    const MlpSpecEntry *e = schema->entries.items[i];
    const char *format;
    if (strcmp(schema_type(e->value, &format), "date") != 0 || !format) continue;
    d->clean[d->nclean++] = (MlpIrClean){.op = MLPRT_CLEAN_PARSE_DATES,
                                         .select = MLPRT_SELECT_NAMES,
                                         .columns = mlp_arena_printf(L->a, "%s\n", e->name),
                                         .format = format,
                                         .by_idx = -1,
                                         .method = MLPRT_ONFAIL_ERROR};
    L->step_call[d->nclean - 1] = NULL;
  }
  bool ok = true, head = true;
  for (int i = 0; i < n; i++) {
    const MlpSpecCall *c = clean->ops.items[i];
    int op = mlprt_clean_op_find(c->op->name); /* built: the contract refused planned ones */
    head = head && mlprt_clean_op_before_split(op);
    if (op == MLPRT_CLEAN_RESAMPLE && !head) {
      mlp_diag_error(L->d, c->loc,
                     "resample makes new rows and so runs before the split, with the steps that learn "
                     "nothing; move it above the first step that is fitted");
      ok = false;
    }
    if (op == MLPRT_CLEAN_WINDOW) {
      lower_window(L, c, d);
      continue;
    }
    L->step_call[d->nclean] = c;
    MlpIrClean *st = &d->clean[d->nclean++];
    st->op = op;
    st->by_idx = -1; /* the trace places the group key */
    st->select = columns_select(L, mlp_spec_arg(c, "columns"), &st->columns);
    switch (op) {
    case MLPRT_CLEAN_IMPUTE: {
      st->method = method_code(mlp_spec_str(mlp_spec_arg(c, "strategy")), strategies, 6);
      const MlpSpecValue *value = mlp_spec_arg(c, "value");
      if (value && value->given && isnan(mlp_spec_num(value))) {
        unsupported(L, value->node ? value->node->loc : c->loc, "an impute value that is not a number");
        ok = false;
      }
      st->param = num_or(value, 0);
      st->flag = bool_or(mlp_spec_arg(c, "indicator"), false);
      break;
    }
    case MLPRT_CLEAN_CLIP_OUTLIERS:
    case MLPRT_CLEAN_DROP_OUTLIERS: {
      st->method = method_code(mlp_spec_str(mlp_spec_arg(c, "method")), outliers, 2);
      st->param = num_or(mlp_spec_arg(c, "threshold"), 3);
      const MlpSpecValue *keep = mlp_spec_arg(c, "keep");
      if (keep && keep->node) {
        const char *names = NULL;
        if (columns_select(L, keep, &names) != MLPRT_SELECT_NAMES) {
          mlp_diag_error(L->d, keep->node->loc, "`keep` lists columns by name, not by a type selector");
          ok = false;
        }
        st->keep = names;
      }
      break;
    }
    case MLPRT_CLEAN_MINMAX:
      st->low = num_or(mlp_spec_arg(c, "low"), 0);
      st->high = num_or(mlp_spec_arg(c, "high"), 1); /* sema: high > low */
      break;
    case MLPRT_CLEAN_ONEHOT:
      st->param = num_or(mlp_spec_arg(c, "max_levels"), 50);
      st->flag = strcmp(str_or(mlp_spec_arg(c, "unknown"), "ignore"), "error") == 0;
      break;
    case MLPRT_CLEAN_HASH_ENCODE: st->param = num_or(mlp_spec_arg(c, "buckets"), 1024); break;
    case MLPRT_CLEAN_TEXT_CLEAN: st->text = text_clean_opts(c); break;
    case MLPRT_CLEAN_BAG_OF_WORDS:
    case MLPRT_CLEAN_TFIDF:
    case MLPRT_CLEAN_HASH_VECTORIZE: ok &= lower_terms(L, c, st); break;
    case MLPRT_CLEAN_TOKENIZE: {
      MlprtTerms o = {.method = MLPRT_VEC_SEQUENCE, .ngram_lo = 1, .ngram_hi = 1};
      st->text = mlprt_terms_pack(&o);
      st->param = num_or(mlp_spec_arg(c, "max_len"), 100);
      st->low = num_or(mlp_spec_arg(c, "min_count"), 1);
      st->high = num_or(mlp_spec_arg(c, "max_vocab"), 10000);
      break;
    }
    case MLPRT_CLEAN_ALIGN: ok &= lower_align(L, spec_path, c, st); break;
    default: ok &= lower_time_step(L, c, st, d->target); break;
    }
  }
  return ok;
}

/* IDX images are read as bytes and scaled by the format's range, pixel /
 * 255, as each batch is gathered: minmax with its defaults is that scaling,
 * and no other cleaning step applies to them yet. */
static bool check_idx_clean(Lower *L) {
  const MlpSpecBlock *clean = mlp_spec_block(L->s, "data.clean");
  bool ok = true;
  for (int i = 0; clean && i < clean->ops.len; i++) {
    const MlpSpecCall *c = clean->ops.items[i];
    bool plain_minmax = strcmp(c->op->name, "minmax") == 0 && num_or(mlp_spec_arg(c, "low"), 0) == 0 &&
                        num_or(mlp_spec_arg(c, "high"), 1) == 1;
    if (!plain_minmax) {
      unsupported(L, c->loc,
                  mlp_arena_printf(L->a, "cleaning step '%s' on IDX images (they are scaled to [0, 1])",
                                   c->op->name));
      ok = false;
    }
  }
  return ok;
}

MlprtCleanStep *mlp_lower_clean_steps(MlpArena *a, const MlpIrData *d) {
  MlprtCleanStep *steps = mlp_arena_alloc(a, (size_t)(d->nclean ? d->nclean : 1) * sizeof *steps);
  for (int i = 0; i < d->nclean; i++)
    steps[i] = (MlprtCleanStep){.op = d->clean[i].op,
                                .select = d->clean[i].select,
                                .columns = d->clean[i].columns,
                                .keep = d->clean[i].keep,
                                .method = d->clean[i].method,
                                .param = d->clean[i].param,
                                .low = d->clean[i].low,
                                .high = d->clean[i].high,
                                .flag = d->clean[i].flag,
                                .levels = d->clean[i].levels,
                                .ncols = d->clean[i].ncols,
                                .columns_idx = d->clean[i].columns_idx,
                                .ncolumns_idx = d->clean[i].ncolumns_idx,
                                .keep_idx = d->clean[i].keep_idx,
                                .nkeep_idx = d->clean[i].nkeep_idx,
                                .text = d->clean[i].text,
                                .by = d->clean[i].by,
                                .by_idx = d->clean[i].by_idx,
                                .format = d->clean[i].format,
                                .ints = d->clean[i].ints,
                                .nints = d->clean[i].nints,
                                .offset = d->clean[i].offset,
                                .source = d->clean[i].source,
                                .source_format = d->clean[i].source_format,
                                .source_query = d->clean[i].source_query,
                                .source_schema = d->clean[i].source_schema,
                                .source_na = d->clean[i].source_na,
                                .source_delim = d->clean[i].source_delim,
                                .source_no_header = d->clean[i].source_no_header,
                                .source_on = d->clean[i].source_on,
                                .source_by = d->clean[i].source_by};
  return steps;
}

/* The schema probe of src into *s, or false after an error at call c. */
static bool probe_at(Lower *L, const MlprtSourceDesc *src, const MlpSpecCall *c, MlprtSchema *s) {
  MlprtError e;
  if (mlp_columns_probe(src, s, &e) == 0) return true;
  char err[1024];
  mlprt_error_format(&e, err, sizeof err);
  mlp_diag_error(L->d, c->loc, "%s", err);
  return false;
}

/* The shapes of a table source from the data layer's schema probe (every
 * row's types, missing counts and levels; the data is not loaded, split or
 * cleaned): the schema the program loads with, the target's type and
 * classes, and the feature count the cleaning chain makes, traced over the
 * probe (columns.h), with each onehot step's levels for the program to
 * encode with, so its width is the compiled one whatever the split. */
static bool probe_shape(Lower *L, MlpIrData *d, const MlpSpecCall *sc) {
  MlprtSourceDesc src = mlp_columns_source(d);
  MlprtSchema s;
  char err[1024];
  if (!probe_at(L, &src, sc, &s)) return false;
  int tc = mlprt_schema_find(&s, d->target);
  if (tc < 0) {
    mlp_diag_error(L->d, sc->loc, "%s: no target column '%s'", d->path, d->target);
    mlprt_schema_free(&s);
    return false;
  }
  /* The program loads its data with the types probed now (declared ones
   * included), so data that later disagrees is an error at its row. */
  const char *schema = "";
  for (int i = 0; i < s.ncols; i++)
    schema =
        mlp_arena_printf(L->a, "%s%s\t%s\n", schema, s.cols[i].name, mlprt_col_type_name(s.cols[i].type));
  d->schema = schema;
  L->target_type = s.cols[tc].type;
  /* classes: the target's distinct values; -1 when there are more than the
   * scan keeps (a number: a regression target) */
  d->n_classes = s.cols[tc].levels ? s.cols[tc].nlevels : -1;
  L->source_rows = s.nrows;
  MlpColumns cols;
  MlpStepCols *steps = mlp_arena_alloc(L->a, (size_t)(d->nclean ? d->nclean : 1) * sizeof *steps);
  int step;
  bool ok = mlp_columns_trace(L->a, d, &s, &cols, steps, &step, err, sizeof err) == 0;
  mlprt_schema_free(&s);
  if (!ok) {
    const MlpSpecCall *at = step >= 0 && L->step_call[step] ? L->step_call[step] : sc;
    mlp_diag_error(L->d, at->loc, "%s", err);
    return false;
  }
  d->n_features = cols.features;
  for (int i = 0; i < d->nclean; i++) {
    MlpIrClean *c = &d->clean[i];
    c->levels = steps[i].levels;
    c->ncols = steps[i].ncols;
    c->by_idx = steps[i].by_idx;
    c->columns_idx = steps[i].idx, c->ncolumns_idx = steps[i].nidx;
    c->keep_idx = steps[i].keep, c->nkeep_idx = steps[i].nkeep;
    if (steps[i].schema) c->source_schema = steps[i].schema;
  }
  return true;
}

/* Another source (one more of a list, or the test source) is read with the
 * first source's options: it must be the same op with the same options,
 * else an error at it. */
static bool read_like(Lower *L, const MlpSpecCall *first, const MlpSpecCall *other, const char *what) {
  if (strcmp(other->op->name, first->op->name) != 0) {
    mlp_diag_error(L->d, other->loc, "%s must be a %s source, as the first source is", what, first->op->name);
    return false;
  }
  for (int j = 0; j < first->op->nparams; j++) {
    const MlpSpecValue *a = &first->args[j], *b = &other->args[j];
    if (where_param(first->op->params[j]->name) || (!a->given && !b->given)) continue;
    if (a->node && b->node && mlp_ast_equal(a->node, b->node)) continue;
    mlp_diag_error(L->d, b->given ? b->node->loc : other->loc,
                   "%s is read with the first source's options: `%s` must be the same", what,
                   first->op->params[j]->name);
    return false;
  }
  return true;
}

/* The test source must have the source's columns, by name and in order,
 * and read with the types the source was probed with (d->schema: a value
 * of another type is an error at its row), else an error at its call. */
static bool probe_test(Lower *L, MlpIrData *d, const MlpSpecCall *tc) {
  MlprtSourceDesc src = mlp_columns_source(d);
  src.paths = d->test_path;
  src.query = d->test_query;
  MlprtSchema s;
  if (!probe_at(L, &src, tc, &s)) return false;
  const char *want = d->schema, *at = want;
  int c = 0;
  for (; c < s.ncols && *at; c++) {
    size_t n = strcspn(at, "\t");
    if (strlen(s.cols[c].name) != n || strncmp(s.cols[c].name, at, n) != 0) break;
    at += strcspn(at, "\n") + 1;
  }
  bool same = c == s.ncols && !*at;
  if (!same)
    mlp_diag_error(L->d, tc->loc, "the test source's columns differ from the source's at column %d ('%s')",
                   c + 1, c < s.ncols ? s.cols[c].name : "none");
  mlprt_schema_free(&s);
  return same;
}

static bool lower_data(Lower *L, MlpIr *ir, const char *spec_path) {
  const MlpSpecBlock *data = mlp_spec_block(L->s, "data");
  const MlpSpecValue *src = mlp_spec_setting(data, "source");
  if (!src || src->calls.len < 1) {
    mlp_diag_error(L->d, data->loc, "the data has no source");
    return false;
  }
  const MlpSpecCall *sc = src->calls.items[0];
  MlpIrData *d = &ir->data;
  d->format = sc->op->name;
  d->target = str_or(mlp_spec_setting(data, "target"), "");
  /* as sparse_input decides once the layers are lowered */
  const MlpSpecBlock *model = mlp_spec_block(L->s, "model");
  d->sparse_text = model && model->ops.len > 0 &&
                   strcmp(((const MlpSpecCall *)model->ops.items[0])->op->name, "dense") == 0;
  source_where(L, spec_path, sc, &d->path, &d->path2, &d->query);
  if (d->query && src->calls.len > 1) {
    unsupported(L, ((const MlpSpecCall *)src->calls.items[1])->loc,
                mlp_arena_printf(L->a, "several %s sources (join them in one query)", d->format));
    return false;
  }
  if (!d->path2 && !d->query && !read_options(L, sc, &d->format, &d->delimiter, &d->no_header, &d->na_values))
    return false;
  /* Several sources are consolidated into one table: the program reads
   * their paths one per line, with the first source's options. */
  if (d->path2 && src->calls.len > 1) {
    unsupported(L, data->loc, "several idx sources");
    return false;
  }
  for (int i = 1; i < src->calls.len; i++) {
    const MlpSpecCall *more = src->calls.items[i];
    if (!read_like(L, sc, more, "every source")) return false;
    const char *p, *p2, *q;
    source_where(L, spec_path, more, &p, &p2, &q);
    d->path = mlp_arena_printf(L->a, "%s\n%s", d->path, p);
  }
  /* A given test set: read as the source is, its rows the test split. */
  const MlpSpecValue *test = mlp_spec_setting(data, "test_source");
  const MlpSpecCall *tc = test && test->given && test->calls.len > 0 ? test->calls.items[0] : NULL;
  if (tc) {
    if (!read_like(L, sc, tc, "the test source")) return false;
    source_where(L, spec_path, tc, &d->test_path, &d->test_path2, &d->test_query);
    /* the steps before the split run on the given rows on their own; a
     * resample would number its new rows as the data's */
    const MlpSpecBlock *clean = mlp_spec_block(L->s, "data.clean");
    for (int i = 0; clean && i < clean->ops.len; i++) {
      const MlpSpecCall *c = clean->ops.items[i];
      if (strcmp(c->op->name, "resample") == 0) {
        unsupported(L, c->loc, "`resample` with data.test_source");
        return false;
      }
    }
  }
  const MlpSpecCall *split = mlp_spec_op(data, "split");
  const MlpSpecBlock *hyper = mlp_spec_block(L->s, "hyperparameters");
  d->val_frac = num_or(mlp_spec_arg(split, "validation"), num_or(mlp_spec_setting(hyper, "validation"), 0.2));
  d->test_frac = num_or(mlp_spec_arg(split, "test"), 0);
  d->stratify = bool_or(mlp_spec_arg(split, "stratify"), false);
  d->split_group = mlp_spec_str(mlp_spec_arg(split, "group"));
  d->split_time = mlp_spec_str(mlp_spec_arg(split, "time_order"));
  d->cleaning_report = str_or(mlp_spec_setting(data, "cleaning_report"), "cleaning.json");
  d->split_seed = (uint64_t)num_or(mlp_spec_arg(split, "seed"), num_or(mlp_spec_setting(hyper, "seed"), 42));
  /* The compile-time schema: the shapes every tensor is specialised to. */
  char err[1024];
  if (d->path2) {
    if (!check_idx_clean(L)) return false;
    if (L->shape) {
      d->img_h = L->shape->img_h;
      d->img_w = L->shape->img_w;
      d->n_classes = L->shape->n_classes;
    } else if (mlprt_idx_shape(d->path, d->path2, &d->img_h, &d->img_w, &d->n_classes, err, sizeof err) !=
               0) {
      mlp_diag_error(L->d, sc->loc, "%s", err);
      return false;
    } else if (tc) {
      int64_t h, w, k;
      if (mlprt_idx_shape(d->test_path, d->test_path2, &h, &w, &k, err, sizeof err) != 0) {
        mlp_diag_error(L->d, tc->loc, "%s", err);
        return false;
      }
      if (h != d->img_h || w != d->img_w || k > d->n_classes) {
        mlp_diag_error(L->d, tc->loc,
                       "the test images are %lldx%lld with %lld classes; "
                       "the source's are %lldx%lld with %lld",
                       (long long)h, (long long)w, (long long)k, (long long)d->img_h, (long long)d->img_w,
                       (long long)d->n_classes);
        return false;
      }
    }
    d->n_features = d->img_h * d->img_w;
    L->target_type = MLPRT_COL_CATEGORY; /* labels are classes */
    return true;
  }
  if (!lower_clean(L, d, spec_path)) return false;
  /* Declared types: the registry says "date" where the runtime says
   * "datetime". */
  const MlpSpecBlock *schema = mlp_spec_block(L->s, "data.schema");
  for (int i = 0; schema && i < schema->entries.len; i++) {
    const MlpSpecEntry *e = schema->entries.items[i];
    const char *format, *type = schema_type(e->value, &format);
    if (strcmp(type, "date") == 0) type = format ? "text" : "datetime";
    d->schema = mlp_arena_printf(L->a, "%s%s\t%s\n", d->schema ? d->schema : "", e->name, type);
  }
  if (L->shape) {
    d->n_features = L->shape->n_features;
    d->n_classes = L->shape->n_classes;
    L->target_type = L->shape->target_type;
    if (L->shape->schema) d->schema = L->shape->schema;
    return true;
  }
  return probe_shape(L, d, sc) && (!tc || probe_test(L, d, tc));
}

/* The output activation of each MlpTask. */
static const MlpAct task_acts[] = {MLP_ACT_SOFTMAX, MLP_ACT_SIGMOID, MLP_ACT_LINEAR};

/* The task and output width of a model fitted at once: regression with one
 * output, or the target's classes (one output, P(class 1), for two). */
static bool fitted_task(Lower *L, MlpIr *ir, MlpIrModel *m, MlpIrLayer *l, bool classify, MlpLoc loc,
                        const char *what) {
  if (!classify) {
    m->task = MLP_TASK_REGRESSION;
    l->out_size = 1;
    ir->data.n_classes = 0;
  } else if (ir->data.n_classes < 0) {
    mlp_diag_error(L->d, loc,
                   "%s needs the classes of '%s', which has more distinct values than the type scan keeps "
                   "(%d); declare it `category` in data.schema",
                   what, ir->data.target, MLPRT_MAX_LEVELS_DEFAULT);
    return false;
  } else {
    m->task = ir->data.n_classes == 2 ? MLP_TASK_BINARY : MLP_TASK_MULTICLASS;
    l->out_size = ir->data.n_classes == 2 ? 1 : ir->data.n_classes;
  }
  return true;
}

/* A whole model fitted at once, `baseline(kind)` or `linear_model(...)`:
 * one dense output layer. It classifies when the target is categorical or
 * when its kind or loss classifies (a numeric target's distinct values are
 * its classes then, as for a softmax output); a sigmoid unit for two
 * classes, as a binary logistic regression has. */
static bool lower_linear(Lower *L, MlpIr *ir, MlpIrModel *m, const MlpSpecCall *c, MlpIrLayer *l) {
  bool categorical = L->target_type == MLPRT_COL_CATEGORY || L->target_type == MLPRT_COL_BOOL;
  m->kind = MLP_MODEL_LINEAR;
  m->fit = MLPRT_FIT_LINEAR;
  L->fitted = true;
  m->iterations = 1000;
  const MlpSpecValue *how; /* the kind or the loss */
  const char *what;
  bool classify;
  if (strcmp(c->op->name, "baseline") == 0) {
    how = mlp_spec_arg(c, "kind");
    const char *kind = str_or(how, categorical ? "majority" : "mean");
    static const char *const kinds[] = {"majority", "prior", "mean", "median", "linear", "logistic"};
    static const int fits[] = {MLPRT_FIT_MAJORITY, MLPRT_FIT_PRIOR, MLPRT_FIT_MEAN,
                               MLPRT_FIT_MEDIAN,   MLPRT_FIT_LINEAR, MLPRT_FIT_LINEAR};
    int k = method_code(kind, kinds, 6);
    classify = k == 0 || k == 1 || k == 5;
    m->fit = fits[k];
    /* logistic: scikit-learn's default penalty, C = 1 */
    L->l2 = k == 5;
    m->l2_per_row = k == 5;
    what = mlp_arena_printf(L->a, "the %s baseline", kind);
  } else {
    L->l1 = num_or(mlp_spec_arg(c, "l1"), 0);
    L->l2 = num_or(mlp_spec_arg(c, "l2"), 0);
    m->iterations = (int64_t)num_or(mlp_spec_arg(c, "iterations"), 1000);
    how = mlp_spec_arg(c, "loss");
    const char *loss = str_or(how, categorical ? "logistic" : "squared_error");
    static const char *const losses[] = {"squared_error", "logistic", "hinge", "squared_hinge"};
    int k = method_code(loss, losses, 4);
    classify = k > 0;
    if (k >= 2 && L->l1 > 0) {
      mlp_diag_error(L->d, mlp_spec_arg(c, "l1")->node->loc,
                     "a support vector machine takes an l2 penalty only (scikit-learn's C is "
                     "1 / (l2 * rows))");
      return false;
    }
    m->fit = k == 2 ? MLPRT_FIT_HINGE : k == 3 ? MLPRT_FIT_SQUARED_HINGE : MLPRT_FIT_LINEAR;
    what = mlp_arena_printf(L->a, "loss %s", loss);
  }
  if (categorical && !classify) {
    mlp_diag_error(L->d, how && how->given ? how->node->loc : c->loc,
                   "%s needs a numeric target; '%s' is categorical", what, ir->data.target);
    return false;
  }
  l->op = MLP_OP_DENSE;
  if (!fitted_task(L, ir, m, l, classify, how && how->given ? how->node->loc : c->loc, what)) return false;
  l->act = task_acts[m->task];
  return true;
}

/* Trees stored complete to their depth: refused above MLP_FOREST_MAX_FLOATS. */
static bool trees_fit(Lower *L, const MlpSpecCall *c, int64_t trees, int64_t depth, int64_t outs,
                      double floats) {
  if (floats <= MLP_FOREST_MAX_FLOATS) return true;
  mlp_diag_error(L->d, c->loc,
                 "%lld trees of depth %lld with %lld outputs take %.0f MiB, more than %d MiB; lower "
                 "max_depth or trees",
                 (long long)trees, (long long)depth, (long long)outs, floats * 4 / 1048576.0,
                 MLP_FOREST_MAX_FLOATS / 262144);
  return false;
}

/* The random forest `random_forest(...)`: one forest layer whose outputs
 * are the trees' mean class probabilities (P(class 1) for two classes) or
 * mean standardised target. It classifies when the target is categorical
 * or its criterion is gini (a numeric target's distinct values are its
 * classes then). */
static bool lower_forest(Lower *L, MlpIr *ir, MlpIrModel *m, const MlpSpecCall *c, MlpIrLayer *l) {
  bool categorical = L->target_type == MLPRT_COL_CATEGORY || L->target_type == MLPRT_COL_BOOL;
  const MlpSpecValue *crit = mlp_spec_arg(c, "criterion");
  bool classify = strcmp(str_or(crit, categorical ? "gini" : "squared_error"), "gini") == 0;
  if (categorical && !classify) {
    mlp_diag_error(L->d, crit->node->loc,
                   "criterion squared_error needs a numeric target; '%s' is categorical", ir->data.target);
    return false;
  }
  m->kind = MLP_MODEL_FOREST;
  m->fit = MLPRT_FIT_FOREST;
  L->fitted = true;
  L->searchless = "a random forest";
  m->trees = (int64_t)num_or(mlp_spec_arg(c, "trees"), 100);
  m->depth = (int64_t)num_or(mlp_spec_arg(c, "max_depth"), 10);
  m->min_leaf = (int64_t)num_or(mlp_spec_arg(c, "min_samples_leaf"), 1);
  m->bootstrap = bool_or(mlp_spec_arg(c, "bootstrap"), true);
  static const char *const weights[] = {"none", "balanced"};
  const MlpSpecValue *cw = mlp_spec_arg(c, "class_weight");
  m->class_weight = method_code(str_or(cw, "none"), weights, 2);
  if (!classify && m->class_weight != MLPRT_CLASS_WEIGHT_NONE) {
    mlp_diag_error(L->d, cw->node->loc, "class weights need a categorical target; '%s' is numeric",
                   ir->data.target);
    return false;
  }
  /* scikit-learn's defaults: the square root of the features for a classifier, all for a regressor */
  static const char *const how[] = {"sqrt", "log2", "all"};
  int64_t F = m->in_size;
  int k = method_code(str_or(mlp_spec_arg(c, "max_features"), classify ? "sqrt" : "all"), how, 3);
  m->max_features = k == 0 ? (int64_t)sqrt((double)F) : k == 1 ? (int64_t)log2((double)F) : F;
  if (m->max_features < 1) m->max_features = 1;
  l->op = MLP_OP_FOREST;
  l->act = MLP_ACT_LINEAR;
  if (!fitted_task(L, ir, m, l, classify, c->loc, "a random forest")) return false;
  /* every tree is stored complete to its depth */
  double floats = (double)m->trees * (double)((INT64_C(1) << m->depth) * (l->out_size + 2));
  return trees_fit(L, c, m->trees, m->depth, l->out_size, floats);
}

/* Gradient boosting `gradient_boosting(...)`: one boost layer whose outputs
 * are the base scores plus the trees' leaves under the link of the loss:
 * squared error on the standardised target (a numeric target), logistic
 * (two classes, one output) or softmax (K classes, K trees a round). It
 * classifies when the target is categorical or its loss is log_loss. */
static bool lower_boost(Lower *L, MlpIr *ir, MlpIrModel *m, const MlpSpecCall *c, MlpIrLayer *l) {
  bool categorical = L->target_type == MLPRT_COL_CATEGORY || L->target_type == MLPRT_COL_BOOL;
  const MlpSpecValue *loss = mlp_spec_arg(c, "loss");
  bool classify = strcmp(str_or(loss, categorical ? "log_loss" : "squared_error"), "log_loss") == 0;
  if (categorical && !classify) {
    mlp_diag_error(L->d, loss->node->loc, "loss squared_error needs a numeric target; '%s' is categorical",
                   ir->data.target);
    return false;
  }
  const MlpSpecValue *es = mlp_spec_arg(c, "early_stopping");
  if (es && es->given && ir->data.val_frac <= 0) {
    mlp_diag_error(L->d, es->node->loc, "early stopping needs validation rows; the split's validation is 0");
    return false;
  }
  /* the refit on every training and validation row would have no rows of its own to stop on */
  const MlpSpecValue *folds = mlp_spec_setting(mlp_spec_block(L->s, "data"), "folds");
  if (es && es->given && folds && folds->given) {
    unsupported(L, es->node->loc, "early stopping of gradient boosting with data.folds");
    return false;
  }
  m->kind = MLP_MODEL_BOOST;
  m->fit = MLPRT_FIT_BOOST;
  L->fitted = true;
  L->searchless = "gradient boosting";
  m->trees = (int64_t)num_or(mlp_spec_arg(c, "trees"), 100);
  m->depth = (int64_t)num_or(mlp_spec_arg(c, "max_depth"), 6);
  m->learning_rate = num_or(mlp_spec_arg(c, "learning_rate"), 0.1);
  m->max_bins = (int64_t)num_or(mlp_spec_arg(c, "max_bins"), 255);
  m->leaf_l2 = num_or(mlp_spec_arg(c, "l2"), 0);
  m->min_child_weight = num_or(mlp_spec_arg(c, "min_child_weight"), 1);
  m->subsample = num_or(mlp_spec_arg(c, "subsample"), 1);
  m->early_stopping = (int64_t)num_or(mlp_spec_arg(c, "early_stopping"), 0);
  /* leaf-wise growth: 31 leaves by default, as LightGBM's; a leaf limit of depth-wise growth is refused */
  bool lossguide = strcmp(str_or(mlp_spec_arg(c, "growth"), "depthwise"), "lossguide") == 0;
  const MlpSpecValue *leaves = mlp_spec_arg(c, "max_leaves");
  if (!lossguide && leaves && leaves->given) {
    mlp_diag_error(L->d, leaves->node->loc, "`max_leaves` applies to growth = lossguide");
    return false;
  }
  m->max_leaves = lossguide ? (int64_t)num_or(leaves, 31) : 0;
  l->op = MLP_OP_BOOST;
  if (!fitted_task(L, ir, m, l, classify, c->loc, "gradient boosting")) return false;
  l->act = task_acts[m->task];
  double floats = (double)(m->trees * l->out_size) * (double)(3 * (INT64_C(1) << m->depth));
  return trees_fit(L, c, m->trees * l->out_size, m->depth, 1, floats);
}

/* The support vector machine `svm(...)`: one svm layer whose outputs are
 * P(class 1) for two classes (the logistic function of the negated
 * decision value) or, for more, the softmax of scikit-learn's
 * one-against-rest decision function (abi.def's mlprt_svm_forward). It
 * classifies: a numeric target's distinct values are its classes, as for
 * the hinge loss. `svr(...)`, the same layer of one class, regresses a
 * numeric target (epsilon-SVR). Its parameters have room for every training
 * row as a support vector, at most MLP_SVM_MAX_ROWS of them and fewer when
 * that would take more than MLP_FOREST_MAX_FLOATS floats. */
static bool lower_svm(Lower *L, MlpIr *ir, MlpIrModel *m, const MlpSpecCall *c, MlpIrLayer *l) {
  bool classify = strcmp(c->op->name, "svm") == 0;
  const char *what = classify ? "an svm" : "an svr";
  if (!classify && (L->target_type == MLPRT_COL_CATEGORY || L->target_type == MLPRT_COL_BOOL)) {
    mlp_diag_error(L->d, c->loc, "an svr regresses a numeric target and '%s' is categorical; use svm()",
                   ir->data.target);
    return false;
  }
  m->kind = MLP_MODEL_SVM;
  m->fit = MLPRT_FIT_SVM;
  L->fitted = true;
  L->searchless = "a support vector machine";
  static const char *const kernels[] = MLPRT_SVM_KERNEL_NAMES;
  m->svm_kernel = method_code(str_or(mlp_spec_arg(c, "kernel"), "rbf"), kernels, 3);
  m->svm_c = num_or(mlp_spec_arg(c, "c"), 1);
  m->svm_gamma = num_or(mlp_spec_arg(c, "gamma"), 0);
  m->svm_coef0 = num_or(mlp_spec_arg(c, "coef0"), 0);
  m->svm_degree = (int64_t)num_or(mlp_spec_arg(c, "degree"), 3);
  m->svm_epsilon = classify ? 0 : num_or(mlp_spec_arg(c, "epsilon"), 0.1);
  /* what the kernel does not read is refused rather than ignored (its default written means nothing) */
  static const char *const unread[] = {"degree", "coef0", "gamma"};
  bool set[] = {m->svm_degree != 3, m->svm_coef0 != 0, m->svm_gamma > 0};
  for (int i = 0; i < (m->svm_kernel == MLPRT_SVM_LINEAR ? 3 : m->svm_kernel == MLPRT_SVM_RBF ? 2 : 0); i++) {
    const MlpSpecValue *v = mlp_spec_arg(c, unread[i]);
    if (set[i]) {
      mlp_diag_error(L->d, v->node->loc, "`%s` does not apply to the %s kernel", unread[i],
                     kernels[m->svm_kernel]);
      return false;
    }
  }
  l->op = MLP_OP_SVM;
  l->act = MLP_ACT_LINEAR;
  if (!fitted_task(L, ir, m, l, classify, c->loc, what)) return false;
  m->svm_classes = classify ? ir->data.n_classes : 1;
  int64_t rec = m->in_size + MLPRT_SVM_COEFS(m->svm_classes);
  m->svm_rows = MLP_FOREST_MAX_FLOATS / rec;
  if (m->svm_rows > MLP_SVM_MAX_ROWS) m->svm_rows = MLP_SVM_MAX_ROWS;
  /* the training split the source will give, when the probe read it: known when no cleaning step may drop
   * rows, else an estimate the run checks */
  double train = (double)L->source_rows * (1 - ir->data.val_frac - ir->data.test_frac) - 2;
  if (L->source_rows > 0 && train > (double)m->svm_rows) {
    bool known = ir->data.nclean == 0;
    const char *msg = mlp_arena_printf(
        L->a,
        "%s takes at most %lld training rows (its support vectors are kept in the model) and the split "
        "leaves about %.0f of the source's %lld%s",
        what, (long long)m->svm_rows, train, (long long)L->source_rows,
        !known     ? ": the run stops unless cleaning drops rows"
        : classify ? "; sample the data or use linear_model(loss = hinge)"
                   : "; sample the data or use linear_model()");
    if (known) {
      mlp_diag_error(L->d, c->loc, "%s", msg);
      return false;
    }
    mlp_diag_warning(L->d, c->loc, "%s", msg);
  }
  if (m->svm_rows < 100) {
    mlp_diag_error(L->d, c->loc,
                   "%s over %lld features keeps room for %lld support vectors within %d MiB, fewer than "
                   "100; reduce the features",
                   what, (long long)m->in_size, (long long)m->svm_rows, MLP_FOREST_MAX_FLOATS / 262144);
    return false;
  }
  return true;
}

/* What a model fitted at once does not read: the training loop's settings.
 * Written, they are refused rather than ignored (tuning searches only its
 * penalties, read_space), unless a network of the model family reads them. */
static bool check_linear_settings(Lower *L) {
  if (L->loop_read) return true; /* they are the family's networks' */
  const MlpSpecBlock *hyper = mlp_spec_block(L->s, "hyperparameters");
  const MlpSpecBlock *val = mlp_spec_block(L->s, "validation");
  bool ok = true;
  for (int i = 0; hyper && i < hyper->reg->nsettings; i++) {
    const MlpSpecValue *v = &hyper->settings[i];
    const char *name = v->field->name;
    /* the split's validation fraction and the seed act on the data */
    if (!v->given || strcmp(name, "validation") == 0 || strcmp(name, "seed") == 0) continue;
    mlp_diag_error(L->d, v->node->loc, "`hyperparameters.%s` does not apply to a model fitted at once "
                   "(baseline, linear_model, random_forest, gradient_boosting, svm, svr)", name);
    ok = false;
  }
  for (int i = 0; val && i < val->reg->nsettings; i++) {
    const MlpSpecValue *v = &val->settings[i];
    const char *name = v->field->name;
    if (!v->given || (strcmp(name, "every") != 0 && strcmp(name, "monitor") != 0)) continue;
    mlp_diag_error(L->d, v->node->loc, "`validation.%s` does not apply to a model fitted at once", name);
    ok = false;
  }
  for (int i = 0; val && i < val->ops.len; i++) {
    const MlpSpecCall *c = val->ops.items[i];
    if (c->implied) continue;
    mlp_diag_error(L->d, c->loc, "`validation.%s` does not apply to a model fitted at once", c->op->name);
    ok = false;
  }
  return ok;
}

static bool recurrent_op(const char *op) {
  return strcmp(op, "rnn") == 0 || strcmp(op, "lstm") == 0 || strcmp(op, "gru") == 0;
}

/* IR layers of the model block's ops: a recurrent op of N layers is N of them and the dropouts between,
 * a dense op of repeat N is N. */
static int model_layers(const MlpSpecBlock *model) {
  int n = 0;
  for (int i = 0; i < model->ops.len; i++) {
    const MlpSpecCall *c = model->ops.items[i];
    n += recurrent_op(c->op->name)              ? 2 * (int)num_or(mlp_spec_arg(c, "layers"), 1) - 1
         : strcmp(c->op->name, "dense") == 0 ? (int)num_or(mlp_spec_arg(c, "repeat"), 1)
                                              : 1;
  }
  return n ? n : 1;
}

/* rnn, lstm or gru c as its stacked layers, each but the last returning every step to the next, with
 * dropout between them when its rate is above 0; calls[i] is c for each. */
static void lower_recurrent(MlpIrModel *m, const MlpSpecCall *c, const MlpSpecCall **calls) {
  const char *op = c->op->name;
  int layers = (int)num_or(mlp_spec_arg(c, "layers"), 1);
  float rate = (float)num_or(mlp_spec_arg(c, "dropout"), 0);
  for (int k = 0; k < layers; k++) {
    if (k > 0 && rate > 0) {
      calls[m->nlayers] = c;
      m->layers[m->nlayers++] = (MlpIrLayer){.op = MLP_OP_DROPOUT, .rate = rate};
    }
    MlpIrLayer *l = &m->layers[m->nlayers];
    calls[m->nlayers++] = c;
    *l = (MlpIrLayer){.op = MLP_OP_RECURRENT};
    l->cell = op[0] == 'r' ? MLPRT_CELL_RNN : op[0] == 'l' ? MLPRT_CELL_LSTM : MLPRT_CELL_GRU;
    l->units = (int64_t)num_or(mlp_spec_arg(c, "units"), 1);
    l->bidirectional = bool_or(mlp_spec_arg(c, "bidirectional"), false);
    l->return_sequences = k < layers - 1 || bool_or(mlp_spec_arg(c, "return_sequences"), false);
  }
}

static MlpInit lower_init(const char *name) {
  static const char *const names[] = {"he_uniform", "he_normal", "xavier_uniform", "xavier_normal",
                                      "zeros",      "uniform",   "normal"}; /* by MlpInit */
  int k = 0;
  while (k < MLP_INIT_NORMAL && strcmp(names[k], name) != 0) k++;
  return (MlpInit)k; /* sema admits only the init set's names */
}

/* A layer's own init when the spec writes one (1 + MlpInit), else 0: the model's. */
static int own_init(const MlpSpecCall *c) {
  const MlpSpecValue *v = mlp_spec_arg(c, "init");
  return v && v->given ? 1 + (int)lower_init(str_or(v, "xavier_uniform")) : 0;
}

/* calls[i] receives the spec call of IR layer i, for messages. */
static bool lower_layers(Lower *L, MlpIr *ir, MlpIrModel *m, const MlpSpecCall **loss_call,
                         const MlpSpecCall **calls) {
  const MlpSpecBlock *model = mlp_spec_block(L->s, "model");
  m->layers = mlp_arena_alloc(L->a, (size_t)model_layers(model) * sizeof *m->layers);
  bool ok = true;
  for (int i = 0; i < model->ops.len; i++) {
    const MlpSpecCall *c = model->ops.items[i];
    MlpIrLayer *l = &m->layers[m->nlayers];
    const char *op = c->op->name;
    calls[m->nlayers] = c;
    if (strcmp(op, "dense") == 0) {
      l->op = MLP_OP_DENSE;
      l->out_size = (int64_t)num_or(mlp_spec_arg(c, "units"), 1);
      ok &= lower_act(L, c, str_or(mlp_spec_arg(c, "activation"), "relu"), &l->act);
      l->init = own_init(c);
      l->no_bias = !bool_or(mlp_spec_arg(c, "bias"), true);
      /* repeat = N: N copies, each reading the one before */
      for (int k = 1; k < (int)num_or(mlp_spec_arg(c, "repeat"), 1); k++) {
        m->layers[m->nlayers + 1] = *l;
        calls[++m->nlayers] = c;
        l = &m->layers[m->nlayers];
      }
    } else if (strcmp(op, "dropout") == 0) {
      l->op = MLP_OP_DROPOUT;
      l->rate = (float)num_or(mlp_spec_arg(c, "rate"), 0.2);
    } else if (strcmp(op, "flatten") == 0) {
      l->op = MLP_OP_FLATTEN;
      l->steps = 0;
    } else if (strcmp(op, "reshape") == 0) {
      l->op = MLP_OP_FLATTEN;
      l->steps = (int64_t)num_or(mlp_spec_arg(c, "steps"), 1);
    } else if (strcmp(op, "transformer_encoder") == 0) {
      lower_encoder(c, l);
    } else if (strcmp(op, "pool_steps") == 0) {
      static const char *const kinds[] = {"mean", "first", "last", "max"}; /* by MlprtEncPool */
      const char *kind = str_or(mlp_spec_arg(c, "kind"), "mean");
      l->op = MLP_OP_POOL_STEPS;
      for (int k = 0; k < 4; k++)
        if (strcmp(kind, kinds[k]) == 0) l->pool = k;
    } else if (strcmp(op, "conv2d") == 0) {
      l->op = MLP_OP_CONV2D;
      l->out_c = (int64_t)num_or(mlp_spec_arg(c, "filters"), 1);
      l->kernel = (int)num_or(mlp_spec_arg(c, "kernel"), 3);
      l->stride = (int)num_or(mlp_spec_arg(c, "stride"), 1);
      l->pad = (int)num_or(mlp_spec_arg(c, "padding"), 0);
      l->init = own_init(c);
      ok &= lower_act(L, c, str_or(mlp_spec_arg(c, "activation"), "relu"), &l->act);
      if (l->act == MLP_ACT_SOFTMAX) {
        unsupported(L, c->loc, "a softmax activation of conv2d");
        ok = false;
      }
    } else if (strcmp(op, "batchnorm") == 0) {
      l->op = MLP_OP_BATCHNORM;
      /* The spec weighs the running statistics (0.9); the kernel weighs the batch. */
      l->momentum = 1 - (float)num_or(mlp_spec_arg(c, "momentum"), 0.9);
      l->eps = (float)num_or(mlp_spec_arg(c, "eps"), 1e-5);
    } else if (strcmp(op, "layernorm") == 0) {
      l->op = MLP_OP_LAYERNORM;
      l->eps = (float)num_or(mlp_spec_arg(c, "eps"), 1e-5);
    } else if (recurrent_op(op)) {
      const MlpSpecValue *drop = mlp_spec_arg(c, "dropout");
      if (num_or(drop, 0) > 0 && num_or(mlp_spec_arg(c, "layers"), 1) < 2) {
        mlp_diag_error(L->d, drop->node ? drop->node->loc : c->loc,
                       "`dropout` acts between stacked layers; give layers = 2 or more");
        ok = false;
      }
      lower_recurrent(m, c, calls);
      continue;
    } else if (strcmp(op, "embedding") == 0) {
      l->op = MLP_OP_EMBEDDING;
      l->vocab = (int64_t)num_or(mlp_spec_arg(c, "vocab"), 1);
      l->units = (int64_t)num_or(mlp_spec_arg(c, "dim"), 1);
      l->masked = bool_or(mlp_spec_arg(c, "mask_zero"), false);
      if (m->nlayers > 0) {
        mlp_diag_error(L->d, c->loc, "an embedding reads the codes of the data (a sequence op's columns): "
                       "it must be the model's first layer");
        ok = false;
      }
      /* tokenize's ids run to max_vocab + 1 */
      for (int k = 0; k < ir->data.nclean; k++) {
        const MlpIrClean *st = &ir->data.clean[k];
        if (st->op == MLPRT_CLEAN_TOKENIZE && l->vocab < (int64_t)st->high + MLPRT_SEQ_FIRST) {
          mlp_diag_error(L->d, c->loc,
                         "the embedding has %lld codes, but tokenize(max_vocab = %.0f) writes ids up to "
                         "%.0f; give vocab = %.0f or more",
                         (long long)l->vocab, st->high, st->high + MLPRT_SEQ_FIRST - 1,
                         st->high + MLPRT_SEQ_FIRST);
          ok = false;
        }
      }
    } else if (strcmp(op, "maxpool2d") == 0 || strcmp(op, "avgpool2d") == 0) {
      l->op = strcmp(op, "maxpool2d") == 0 ? MLP_OP_MAXPOOL2D : MLP_OP_AVGPOOL2D;
      l->kernel = (int)num_or(mlp_spec_arg(c, "size"), 2);
      l->stride = (int)num_or(mlp_spec_arg(c, "stride"), l->kernel);
    } else if (strcmp(op, "baseline") == 0 || strcmp(op, "linear_model") == 0) {
      ok &= lower_linear(L, ir, m, c, l) && check_linear_settings(L);
    } else if (strcmp(op, "random_forest") == 0) {
      ok &= lower_forest(L, ir, m, c, l) && check_linear_settings(L);
    } else if (strcmp(op, "svm") == 0 || strcmp(op, "svr") == 0) {
      ok &= lower_svm(L, ir, m, c, l) && check_linear_settings(L);
    } else if (strcmp(op, "gradient_boosting") == 0) {
      ok &= lower_boost(L, ir, m, c, l) && check_linear_settings(L);
    } else if (strcmp(op, "output") == 0) {
      l->op = MLP_OP_DENSE;
      const char *act = mlp_spec_str(mlp_spec_arg(c, "activation"));
      bool categorical = L->target_type == MLPRT_COL_CATEGORY || L->target_type == MLPRT_COL_BOOL;
      if (!act) act = categorical ? "softmax" : "linear";
      ok &= lower_act(L, c, act, &l->act);
      if ((l->act == MLP_ACT_SOFTMAX || l->act == MLP_ACT_SIGMOID) && ir->data.n_classes < 0) {
        mlp_diag_error(L->d, c->loc,
                       "a %s output needs the classes of '%s', which has more distinct values than the type "
                       "scan keeps (%d); declare it `category` in data.schema",
                       mlp_ir_act_name(l->act), ir->data.target, MLPRT_MAX_LEVELS_DEFAULT);
        ok = false;
      } else if (l->act == MLP_ACT_SOFTMAX) {
        m->task = MLP_TASK_MULTICLASS;
        l->out_size = ir->data.n_classes;
      } else if (l->act == MLP_ACT_SIGMOID) {
        m->task = MLP_TASK_BINARY;
        l->out_size = 1;
        if (ir->data.n_classes != 2) {
          mlp_diag_error(L->d, c->loc, "a sigmoid output needs a target with 2 classes; '%s' has %lld",
                         ir->data.target, (long long)ir->data.n_classes);
          ok = false;
        }
      } else if (l->act == MLP_ACT_LINEAR) {
        m->task = MLP_TASK_REGRESSION;
        l->out_size = 1;
        ir->data.n_classes = 0;
      } else {
        unsupported(L, c->loc, "this output activation");
        ok = false;
      }
    } else {
      unsupported(L, c->loc, mlp_arena_printf(L->a, "layer '%s'", op));
      ok = false;
      continue;
    }
    m->nlayers++;
  }
  if (!ok) return false;
  MlpOpKind last = m->nlayers ? m->layers[m->nlayers - 1].op : MLP_OP_DROPOUT;
  if (last != MLP_OP_DENSE && last != MLP_OP_FOREST && last != MLP_OP_SVM && last != MLP_OP_BOOST) {
    mlp_diag_error(L->d, model->loc, "the model must end with an output layer");
    return false;
  }
  /* The loss follows the output unless the spec names one that fits it:
   * a linear output takes mse, mae or huber, a softmax output
   * cross_entropy or hinge, a sigmoid output bce. */
  static const char *const losses[] = MLPRT_LOSS_NAMES;
  m->loss = (int)m->task; /* the task's codes are its default loss's */
  if (!*loss_call) return true;
  const char *name = (*loss_call)->op->name;
  int k = 0;
  while (k < MLPRT_LOSS_HINGE && strcmp(losses[k], name) != 0) k++;
  bool fits = k == (int)m->task ||
              (m->task == MLP_TASK_REGRESSION && (k == MLPRT_LOSS_MAE || k == MLPRT_LOSS_HUBER)) ||
              (m->task == MLP_TASK_MULTICLASS && k == MLPRT_LOSS_HINGE);
  if (!fits) {
    mlp_diag_error(L->d, (*loss_call)->loc, "loss '%s' does not fit a %s output; use %s()", name,
                   mlp_ir_act_name(m->layers[m->nlayers - 1].act), losses[m->task]);
    return false;
  }
  m->loss = k;
  if (k == MLPRT_LOSS_HUBER) m->huber_delta = (float)num_or(mlp_spec_arg(*loss_call, "delta"), 1);
  return true;
}

static bool lower_job(Lower *L, MlpIrJob *j) {
  const MlpSpecBlock *hyper = mlp_spec_block(L->s, "hyperparameters");
  const MlpSpecBlock *val = mlp_spec_block(L->s, "validation");
  const MlpSpecCall *oc = mlp_spec_call(mlp_spec_setting(hyper, "optimizer"));
  double lr = num_or(mlp_spec_setting(hyper, "lr"), 0.001);
  j->optim =
      (MlpIrOptim){.kind = MLP_OPTIM_ADAM, .lr = (float)lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
  if (oc) {
    const char *name = oc->op->name;
    if (strcmp(name, "sgd") == 0)
      j->optim.kind = MLP_OPTIM_SGD;
    else if (strcmp(name, "adamw") == 0)
      j->optim.kind = MLP_OPTIM_ADAMW;
    else if (strcmp(name, "rmsprop") == 0)
      j->optim.kind = MLP_OPTIM_RMSPROP;
    else if (strcmp(name, "adam") != 0) {
      unsupported(L, oc->loc, mlp_arena_printf(L->a, "optimizer '%s'", name));
      return false;
    }
    j->optim.lr = (float)num_or(mlp_spec_arg(oc, "lr"), lr);
    j->optim.beta1 = (float)num_or(mlp_spec_arg(oc, "beta1"), 0.9);
    j->optim.beta2 = (float)num_or(mlp_spec_arg(oc, "beta2"), 0.999);
    j->optim.eps = (float)num_or(mlp_spec_arg(oc, "eps"), 1e-8);
    j->optim.rho = num_or(mlp_spec_arg(oc, "rho"), 0.9);
    j->optim.momentum = (float)num_or(mlp_spec_arg(oc, "momentum"), 0);
    j->optim.weight_decay = (float)num_or(mlp_spec_arg(oc, "weight_decay"), 0);
    /* Without momentum sema warns: the update is plain SGD's. */
    /* Nesterov's look-ahead is plain SGD when there is no momentum (sema
     * warns); the plan records what the spec asks. */
    j->optim.nesterov = bool_or(mlp_spec_arg(oc, "nesterov"), false);
  }
  j->optim.l2 = (float)num_or(mlp_spec_setting(hyper, "l2"), 0);
  j->optim.l1 = (float)num_or(mlp_spec_setting(hyper, "l1"), 0);
  j->optim.clip_norm = (float)num_or(mlp_spec_setting(hyper, "clip_norm"), 0);
  j->optim.clip_value = (float)num_or(mlp_spec_setting(hyper, "clip_value"), 0);
  j->epochs = (int64_t)num_or(mlp_spec_setting(hyper, "epochs"), 100);
  j->seed = (uint64_t)num_or(mlp_spec_setting(hyper, "seed"), 42);
  const MlpSpecCall *sc = mlp_spec_call(mlp_spec_setting(hyper, "schedule"));
  j->sched = MLP_SCHED_CONSTANT;
  if (sc) {
    const char *name = sc->op->name;
    if (strcmp(name, "cosine") == 0) {
      j->sched = MLP_SCHED_COSINE;
      j->warmup = (int64_t)num_or(mlp_spec_arg(sc, "warmup"), 0);
      j->min_lr = (float)num_or(mlp_spec_arg(sc, "min_lr"), 0);
    } else if (strcmp(name, "step") == 0 || strcmp(name, "exponential") == 0) {
      /* exponential is a step schedule that decays every epoch */
      j->sched = MLP_SCHED_STEP;
      j->sched_step = (int64_t)num_or(mlp_spec_arg(sc, "every"), 1);
      j->sched_factor = (float)num_or(mlp_spec_arg(sc, "gamma"), 0.1);
    } else if (strcmp(name, "plateau") == 0) {
      j->sched = MLP_SCHED_PLATEAU;
      j->sched_step = (int64_t)num_or(mlp_spec_arg(sc, "patience"), 10);
      j->sched_factor = (float)num_or(mlp_spec_arg(sc, "factor"), 0.5);
      j->min_lr = (float)num_or(mlp_spec_arg(sc, "min_lr"), 0);
    } else if (strcmp(name, "constant") != 0) {
      unsupported(L, sc->loc, mlp_arena_printf(L->a, "schedule '%s'", name));
      return false;
    }
  }
  const MlpSpecCall *smoke = mlp_spec_op(val, "smoke");
  j->smoke_subset = smoke ? (float)num_or(mlp_spec_arg(smoke, "subset"), 0.1) : 0;
  j->smoke_epochs = smoke ? (int64_t)num_or(mlp_spec_arg(smoke, "epochs"), 3) : 0;
  j->stop_on_divergence = bool_or(mlp_spec_setting(val, "stop_on_divergence"), true);
  j->val_every = (int64_t)num_or(mlp_spec_setting(val, "every"), 1);
  const MlpSpecCall *es = mlp_spec_op(val, "early_stopping");
  j->early_stop = es != NULL;
  j->monitor = es ? str_or(mlp_spec_arg(es, "monitor"), "val_loss") : "val_loss";
  if (strcmp(j->monitor, "val_loss") != 0 && strcmp(j->monitor, "val_accuracy") != 0) {
    unsupported(L, es->loc, mlp_arena_printf(L->a, "early stopping on '%s'", j->monitor));
    return false;
  }
  j->patience = es ? (int64_t)num_or(mlp_spec_arg(es, "patience"), 10) : 0;
  j->min_delta = es ? num_or(mlp_spec_arg(es, "min_delta"), 0) : 0;
  j->restore_best = es ? bool_or(mlp_spec_arg(es, "restore_best"), true) : false;
  j->fold = -1;
  j->trial = -1;
  j->rung = -1;
  j->bracket = -1;
  return true;
}

/* Does network m read its features as sparse rows? When a count, TF-IDF
 * or hashing vectorizer makes features and the first layer is dense: it
 * then reads each row's nonzeros only. Any other first layer reads dense
 * rows. */
static bool sparse_input(const MlpIr *ir, const MlpIrModel *m) {
  if (m->fit != MLPRT_FIT_NETWORK || m->nlayers == 0 || m->layers[0].op != MLP_OP_DENSE) return false;
  for (int i = 0; i < ir->data.nclean; i++) {
    int op = ir->data.clean[i].op;
    if (op == MLPRT_CLEAN_BAG_OF_WORDS || op == MLPRT_CLEAN_TFIDF || op == MLPRT_CLEAN_HASH_VECTORIZE)
      return true;
  }
  return false;
}

/* Model m (its name and batch set) as the spec now stands: its input, init,
 * layers, loss and memory plan. False after an error. */
static bool lower_network(Lower *L, MlpIr *ir, MlpIrModel *m) {
  const MlpSpecBlock *hyper = mlp_spec_block(L->s, "hyperparameters");
  L->fitted = false, L->searchless = NULL, L->l1 = L->l2 = 0;
  m->in_size = ir->data.n_features;
  if (ir->data.img_h > 0) {
    m->kind = MLP_MODEL_CNN;
    m->in_c = 1;
    m->in_h = ir->data.img_h;
    m->in_w = ir->data.img_w;
  }
  const MlpSpecBlock *model = mlp_spec_block(L->s, "model");
  m->init = lower_init(str_or(mlp_spec_setting(hyper, "init"), "xavier_uniform"));
  const MlpSpecCall *loss = mlp_spec_call(mlp_spec_setting(hyper, "loss"));
  const MlpSpecCall **calls = mlp_arena_alloc(L->a, (size_t)(model_layers(model) + 1) * sizeof *calls);
  if (!lower_layers(L, ir, m, &loss, calls)) return false;
  m->sparse_in = sparse_input(ir, m);
  if (loss && m->task == MLP_TASK_MULTICLASS)
    m->label_smoothing = (float)num_or(mlp_spec_arg(loss, "label_smoothing"), 0);
  int bad = mlp_lower_model(L->a, m);
  if (bad >= 0 && m->layers[bad].op == MLP_OP_EMBEDDING) {
    const MlpIrLayer *l = &m->layers[bad];
    mlp_diag_error(L->d, calls[bad]->loc, "an embedding reads a vector of codes; its input is %lldx%lldx%lld",
                   (long long)l->in_c, (long long)l->in_h, (long long)l->in_w);
    return false;
  }
  if (bad >= 0 && (m->layers[bad].op == MLP_OP_RECURRENT || m->layers[bad].op == MLP_OP_ENCODER ||
                   m->layers[bad].op == MLP_OP_POOL_STEPS)) {
    const MlpIrLayer *l = &m->layers[bad];
    mlp_diag_error(L->d, calls[bad]->loc,
                   "a %s layer reads a one-channel image's rows as steps, or a vector as one step; "
                   "its input is %lldx%lldx%lld",
                   l->op == MLP_OP_RECURRENT ? "recurrent" : mlp_ir_op_name(l->op), (long long)l->in_c,
                   (long long)l->in_h, (long long)l->in_w);
    return false;
  }
  if (bad >= 0 && m->layers[bad].op == MLP_OP_FLATTEN) {
    const MlpIrLayer *l = &m->layers[bad];
    mlp_diag_error(L->d, calls[bad]->loc, "%lld steps do not divide the %lld values of each row",
                   (long long)l->steps, (long long)l->in_size);
    return false;
  }
  if (bad >= 0) {
    const MlpIrLayer *l = &m->layers[bad];
    mlp_diag_error(L->d, calls[bad]->loc, "the %lldx%lld window does not fit its %lldx%lld input",
                   (long long)l->kernel, (long long)l->kernel, (long long)l->in_h, (long long)l->in_w);
    return false;
  }
  return true;
}

/* ---- tuning ---------------------------------------------------------------- */

enum { MAX_TRIALS = 1000, MAX_VALUES = 64 };

/* One search space: finite values (lists, and what a grid tries), or a
 * continuous interval for random draws (uniform, or log-uniform). */
typedef struct {
  const MlpSpecSpace *sp;
  double vals[MAX_VALUES];
  const MlpNode *nodes[MAX_VALUES]; /* a list's items (numbers, names, bools) */
  int nvals;
  bool continuous, log, integer;
  bool own;   /* tuning sets it in the job: lr, batch, epochs, l1, l2 */
  bool model; /* the trial's value changes the model: a new one is lowered */
  bool clean; /* a path into the cleaning chain: the trial's data plan is lowered again too */
  double lo, hi;
} Space;

/* Whether space sp applies to the family's member k: a path into `model`
 * where the member has the op; any other space (a hyperparameter) where it
 * is a network. Without a family every space applies. */
static bool applies(const Lower *L, const Space *sp, int k) {
  if (!L->family || sp->sp->members) return true;
  return sp->sp->targets ? sp->sp->targets[k] != NULL : L->family->members[k].network;
}

/* Argument `name` (or the pos-th positional one) of a call node. */
static double call_arg(const MlpNode *call, const char *name, int pos, double dflt) {
  for (int i = 0; i < call->kids.len; i++) {
    const MlpNode *arg = call->kids.items[i];
    if ((arg->name && strcmp(arg->name, name) == 0) || (!arg->name && i == pos))
      return arg->value && arg->value->kind == MLP_ND_NUM ? arg->value->num : dflt;
  }
  return dflt;
}

/* Whether a search path's value shapes the model (or its data) rather than the job. */
static bool shapes_model(const char *path) {
  if (strncmp(path, "hyperparameters.", 16) == 0) path += 16;
  return strncmp(path, "model.", 6) == 0 || strcmp(path, "init") == 0 || strncmp(path, "loss.", 5) == 0 ||
         strncmp(path, "data.clean.", 11) == 0;
}

static bool read_space(Lower *L, const MlpSpecSpace *sp, Space *out) {
  const MlpNode *v = sp->space;
  const char *name = sp->path;
  out->sp = sp;
  if (sp->members) { /* the family: value k is member k */
    if (sp->nmembers > MAX_VALUES) {
      mlp_diag_error(L->d, sp->loc, "a model family of %d architectures; at most %d", sp->nmembers,
                     MAX_VALUES);
      return false;
    }
    out->model = true;
    for (int k = 0; k < sp->nmembers; k++) {
      out->nodes[k] = v->kids.items[k];
      out->vals[out->nvals++] = k;
    }
    return true;
  }
  out->integer = sp->field->type.kind == MLP_TY_INT;
  bool penalty = strcmp(name, "l1") == 0 || strcmp(name, "l2") == 0;
  bool in_model = strncmp(name, "model.", 6) == 0;
  out->clean = strncmp(name, "data.clean.", 11) == 0;
  out->own = penalty || strcmp(name, "lr") == 0 || strcmp(name, "batch") == 0 || strcmp(name, "epochs") == 0;
  out->model = shapes_model(name);
  if (out->clean) {
    /* the trial's data plan: cleaned once per distinct set of its values, in memory */
    const MlpSpecBlock *env = mlp_spec_block(L->s, "environment");
    const char *why = L->family                                                 ? "beside a model family"
                      : mlp_spec_setting(env, "memory_mb")->given               ? "with environment.memory_mb"
                      : strcmp(str_or(mlp_spec_setting(env, "out_of_core"), "auto"), "on") == 0
                          ? "out of core"
                      : strcmp(str_or(mlp_spec_setting(env, "distributed"), "none"), "none") != 0
                          ? "with distributed training"
                          : NULL;
    if (why) {
      unsupported(L, sp->loc, mlp_arena_printf(L->a, "searching the cleaning chain %s", why));
      return false;
    }
  } else if (L->family) {
    /* a space over the family's networks, or a path into its architectures */
    bool nets = false;
    for (int k = 0; k < L->family->nmembers; k++) nets |= L->family->members[k].network;
    if (!in_model && !nets) {
      mlp_diag_error(L->d, sp->loc, "`%s` is a setting of networks, and no architecture of the model family "
                     "is one", name);
      return false;
    }
  } else if (L->searchless && !in_model && !out->clean) {
    unsupported(L, sp->loc, mlp_arena_printf(L->a, "searching '%s' for %s", name, L->searchless));
    return false;
  } else if (L->fitted && !penalty && !in_model && !out->clean) {
    mlp_diag_error(L->d, sp->loc, "`%s` does not apply to a model fitted at once: search l1 or l2, or the "
                   "model's parameters (model.OP.PARAM)", name);
    return false;
  }
  if (sp->field->type.kind == MLP_TY_CALL) {
    unsupported(L, sp->loc, mlp_arena_printf(L->a, "searching the %s itself", name));
    return false;
  }
  /* The data split every trial shares reads these. */
  if (strcmp(name, "validation") == 0 || strcmp(name, "seed") == 0) {
    unsupported(L, sp->loc, mlp_arena_printf(L->a, "searching '%s'", name));
    return false;
  }
  if (strcmp(name, "dropout") == 0) {
    mlp_diag_error(L->d, sp->loc, "'dropout' is only the default rate of dropout layers; search the layer's: "
                   "model.dropout.rate, or model.dropout[i].rate for the i-th");
    return false;
  }
  if (v->kind == MLP_ND_LIST) {
    for (int i = 0; i < v->kids.len && out->nvals < MAX_VALUES; i++) {
      out->nodes[out->nvals] = v->kids.items[i];
      out->vals[out->nvals++] = ((const MlpNode *)v->kids.items[i])->num;
    }
    return true;
  }
  bool logr = v->kind == MLP_ND_CALL;
  out->lo = logr ? call_arg(v, "low", 0, 1e-4) : v->value->num;
  out->hi = logr ? call_arg(v, "high", 1, 1e-1) : v->value2->num;
  out->continuous = true;
  out->log = logr;
  /* What a grid tries: every integer of an int range, else evenly spaced
   * values (on a log scale for logrange). */
  int steps = logr ? (int)call_arg(v, "steps", 2, 5) : out->integer ? (int)(out->hi - out->lo) + 1 : 5;
  if (steps > MAX_VALUES) steps = MAX_VALUES;
  for (int i = 0; i < steps; i++) {
    double f = steps > 1 ? (double)i / (steps - 1) : 0;
    out->vals[out->nvals++] =
        logr ? exp(log(out->lo) + f * (log(out->hi) - log(out->lo))) : out->lo + f * (out->hi - out->lo);
  }
  return true;
}

/* A random draw from a space, u uniform in [0, 1). */
static double draw(const Space *sp, double u) {
  if (!sp->continuous) return sp->vals[(int)(u * sp->nvals)];
  if (sp->log) return exp(log(sp->lo) + u * (log(sp->hi) - log(sp->lo)));
  if (sp->integer) return sp->lo + floor(u * (sp->hi - sp->lo + 1));
  return sp->lo + u * (sp->hi - sp->lo);
}

/* The JSON text of a space's value node. */
static const char *value_text(Lower *L, const Space *s, const MlpNode *node) {
  return node->kind == MLP_ND_IDENT ? mlp_arena_printf(L->a, "\"%s\"", node->name)
         : node->kind == MLP_ND_BOOL
             ? (node->num != 0 ? "true" : "false")
             : mlp_arena_printf(L->a, "%.6g", s->integer ? node->num : (double)(float)node->num);
}

/* Space s takes value v (its pick-th value when pick >= 0) in the trial
 * being made: in the spec, when the trial is lowered again with it (for
 * the family's member), and in the trial's settings, model key and
 * cleaning key. Returns the value as a number. */
static double put_value(Lower *L, const Space *s, int member, int pick, double v, char **settings, char **key,
                        char **clean_key) {
  const MlpNode *node = pick >= 0 ? s->nodes[pick] : NULL;
  if (!node) {
    MlpNode *num = mlp_ast_new(L->a, MLP_ND_NUM, s->sp->loc);
    num->num = s->integer ? (double)(int64_t)v : v;
    num->is_int = s->integer;
    node = num;
  }
  const char *text = value_text(L, s, node), *path = s->sp->path;
  *settings = mlp_arena_printf(L->a, "%s%s\"%s\":%s", *settings, (*settings)[1] ? "," : "", path, text);
  if (s->model) *key = mlp_arena_printf(L->a, "%s%s=%s;", *key, path, text);
  if (s->clean) *clean_key = mlp_arena_printf(L->a, "%s%s=%s;", *clean_key, path, text);
  MlpSpecValue *tg = s->sp->targets ? s->sp->targets[member] : s->sp->target;
  if (!s->own && tg) {
    tg->node = node;
    tg->given = true;
  }
  return node->num;
}

/* successive_halving(eta, min_epochs) and hyperband(eta, min_epochs):
 * the rungs of budgets min_epochs, min_epochs * eta, ... below the spec's
 * epochs, then the spec's epochs. They train by epochs on the plain split:
 * folds, a model fitted at once and a search over epochs are errors. Sets
 * ir->eta, *first (the first rung's epochs) and *rungs. */
static bool halving_rungs(Lower *L, MlpIr *ir, const MlpSpecCall *search, const Space *sp, int ns,
                          int64_t *first, int *rungs) {
  if (ir->nfolds) {
    unsupported(L, search->loc, mlp_arena_printf(L->a, "%s with folds", search->op->name));
    return false;
  }
  if (L->fitted || L->searchless) {
    mlp_diag_error(L->d, search->loc, "%s halves epochs, and a model fitted at once has none",
                   search->op->name);
    return false;
  }
  for (int k = 0; L->family && k < L->family->nmembers; k++)
    if (!L->family->members[k].network) {
      mlp_diag_error(L->d, L->family->members[k].loc,
                     "%s halves epochs, and '%s' is a model fitted at once: search the family with grid "
                     "or random", search->op->name, L->family->members[k].name);
      return false;
    }
  for (int i = 0; i < ns; i++)
    if (sp[i].sp->field && strcmp(sp[i].sp->field->name, "epochs") == 0) {
      mlp_diag_error(L->d, sp[i].sp->loc, "%s sets the epochs of each rung: search other settings",
                     search->op->name);
      return false;
    }
  ir->eta = (int)num_or(mlp_spec_arg(search, "eta"), 3);
  int64_t budget = ir->jobs[0].epochs, e = (int64_t)num_or(mlp_spec_arg(search, "min_epochs"), 1);
  *first = e < budget ? e : budget;
  for (*rungs = 1; e < budget; (*rungs)++) e *= ir->eta;
  return true;
}

/* Whether tpe compiles a model for each value of space s: the program
 * cannot set it as it runs (a network's lr and epochs), but it shapes the
 * model (a path into the model or the cleaning chain, init, loss.PARAM) or
 * its batch. */
static bool tpe_compiled(const Space *s) {
  return strcmp(s->sp->path, "lr") != 0 && strcmp(s->sp->path, "epochs") != 0;
}

/* search = tpe: its trials draw as random search's do, and from the
 * startup-th on the program chooses each trial's values from the trials
 * before it: lr and epochs it sets in the trial's jobs; a space that shapes
 * the model or its batch is a list of categories (a range of whole
 * numbers one per number), and the program takes the model compiled for
 * the chosen values (*combos: how many, at most MAX_VALUES). Any other
 * space is refused. ir->tpe gets the spaces (mlp/tpe.h), ir->tpe_labels
 * each compiled space's values as JSON, a line each (empty for lr and
 * epochs). */
static bool tpe_spaces(Lower *L, MlpIr *ir, const MlpSpecCall *search, const Space *sp, int ns,
                       uint64_t seed, int *combos) {
  char *text = mlp_arena_strdup(L->a, ""), *labels = mlp_arena_strdup(L->a, "");
  *combos = 1;
  bool any = false;
  for (int i = 0; i < ns; i++) {
    const char *path = sp[i].sp->path;
    bool compiled = tpe_compiled(&sp[i]);
    if (compiled && (sp[i].sp->members || !(sp[i].model || strcmp(path, "batch") == 0))) {
      mlp_diag_error(L->d, sp[i].sp->loc,
                     "tpe chooses a trial's values as the program runs, from the trials before it, and "
                     "'%s' is compiled into the job: tpe searches lr, epochs, batch and what shapes the "
                     "model (grid or random the rest)",
                     path);
      return false;
    }
    int n = sp[i].integer && sp[i].continuous ? (int)(sp[i].hi - sp[i].lo) + 1 : sp[i].nvals;
    if (compiled && ((sp[i].continuous && !sp[i].integer) || n > MAX_VALUES)) {
      mlp_diag_error(L->d, sp[i].sp->loc,
                     "tpe compiles a model for each value of '%s': give a list (or a range of at most %d "
                     "whole numbers)",
                     path, MAX_VALUES);
      return false;
    }
    if (compiled) *combos *= n, any = true;
    if (*combos > MAX_VALUES) {
      mlp_diag_error(L->d, sp[i].sp->loc,
                     "tpe compiles a model for each combination of the values of the spaces that shape the "
                     "model; with '%s' there are more than %d: search fewer",
                     path, MAX_VALUES);
      return false;
    }
    MlprtTpeKind kind = compiled || !sp[i].continuous ? MLPRT_TPE_LIST
                        : sp[i].log                   ? MLPRT_TPE_LOG_RANGE
                        : sp[i].integer               ? MLPRT_TPE_INT_RANGE
                                                      : MLPRT_TPE_RANGE;
    bool list = kind == MLPRT_TPE_LIST;
    text = mlp_arena_printf(L->a, "%s%s\t%d\t%.17g\t%.17g\t", text, path, (int)kind, list ? 0 : sp[i].lo,
                            list ? 0 : sp[i].hi);
    /* a compiled space's categories are its values' places; labels give the values */
    for (int k = 0; list && k < sp[i].nvals; k++)
      text = mlp_arena_printf(L->a, "%s%s%.17g", text, k ? "," : "", compiled ? k : sp[i].vals[k]);
    for (int k = 0; compiled && k < sp[i].nvals; k++) {
      const MlpNode *node = sp[i].nodes[k];
      const char *label = node ? value_text(L, &sp[i], node) : mlp_arena_printf(L->a, "%.6g", sp[i].vals[k]);
      labels = mlp_arena_printf(L->a, "%s%s%s", labels, k ? "\t" : "", label);
    }
    text = mlp_arena_printf(L->a, "%s\n", text);
    labels = mlp_arena_printf(L->a, "%s\n", labels);
  }
  ir->tpe = ns ? text : NULL;
  ir->tpe_labels = any ? labels : NULL;
  ir->tpe_startup = (int)num_or(mlp_spec_arg(search, "startup"), 10);
  ir->tpe_seed = seed;
  return true;
}

/* The model of ir specialised to batch b, made from the first when new. */
static int model_for_batch(Lower *L, MlpIr *ir, int64_t b) {
  for (int i = 0; i < ir->nmodels; i++)
    if (ir->models[i].batch == b) return i;
  MlpIrModel *m = &ir->models[ir->nmodels];
  *m = ir->models[0];
  m->name = mlp_arena_printf(L->a, "model%d", ir->nmodels);
  m->batch = b;
  m->layers = mlp_arena_alloc(L->a, (size_t)m->nlayers * sizeof *m->layers);
  memcpy(m->layers, ir->models[0].layers, (size_t)m->nlayers * sizeof *m->layers);
  m->bufs = NULL;
  m->nbufs = m->capbufs = 0;
  mlp_lower_model(L->a, m);
  return ir->nmodels++;
}

/* The data plans of the trials that search the cleaning chain: one per
 * distinct set of its values (key). */
typedef struct {
  const char **keys;
  MlpIrData *data;
  int n;
} Variants;

/* ir->data as the trial's cleaning values (clean_key) make it: lowered
 * again from the spec, once per key. */
static bool trial_data(Lower *L, MlpIr *ir, const char *clean_key, Variants *v) {
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], clean_key) == 0) {
      ir->data = v->data[i];
      return true;
    }
  const MlpSpecCall **calls = L->step_call;
  int target_type = L->target_type;
  int64_t rows = L->source_rows;
  memset(&ir->data, 0, sizeof ir->data);
  bool ok = lower_data(L, ir, L->spec_path);
  L->step_call = calls, L->target_type = target_type, L->source_rows = rows;
  if (ok) v->keys[v->n] = clean_key, v->data[v->n++] = ir->data;
  return ok;
}

/* A trial whose values are in the spec: its job lowered again, and its
 * model when a value shapes it (key: those values and the batch; one
 * model per key, made at that batch, over the data its cleaning values
 * make when clean_key names some; penalties: each model's l1 and l2 when
 * fitted at once, else NaN). Diagnostics the spec's own lowering gave
 * already are not repeated; an error is reported at the search with the
 * trial's settings. */
static bool lower_trial(Lower *L, MlpIr *ir, MlpIrJob *j, const char *key, const char *clean_key,
                        Variants *variants, int64_t batch, const char **model_keys, double (*penalties)[2],
                        const char *settings) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  MlpDiag quiet = *L->d, *loud = L->d;
  quiet.out = f, quiet.nerr = quiet.nwarn = 0, quiet.color = false;
  L->d = &quiet;
  bool ok = lower_job(L, j);
  int model = -1;
  for (int i = 0; i < ir->nmodels && model < 0; i++)
    if (model_keys[i] && strcmp(model_keys[i], key) == 0) model = i;
  if (ok && model < 0 && strncmp(key, "batch=", 6) == 0) {
    model = model_for_batch(L, ir, batch);
  } else if (ok && model < 0) {
    MlpIrModel *m = &ir->models[ir->nmodels];
    memset(m, 0, sizeof *m);
    m->name = mlp_arena_printf(L->a, "model%d", ir->nmodels);
    m->batch = batch;
    MlpIrData own = ir->data;
    if (*clean_key) ok = trial_data(L, ir, clean_key, variants);
    ok = ok && lower_network(L, ir, m);
    if (ok && *clean_key) m->clean = ir->data.clean, m->nclean = ir->data.nclean;
    ir->data = own;
    if (ok) model = ir->nmodels++;
    if (ok) penalties[model][0] = L->fitted ? L->l1 : NAN, penalties[model][1] = L->l2;
  }
  if (ok) model_keys[model] = key;
  /* a model fitted at once: its own penalties */
  if (ok && !isnan(penalties[model][0]))
    j->optim.l1 = (float)penalties[model][0], j->optim.l2 = (float)penalties[model][1];
  j->model = model;
  L->d = loud;
  fclose(f);
  if (!ok) {
    const MlpSpecBlock *t = mlp_spec_block(L->s, "tuning");
    mlp_diag_error(L->d, t->loc, "the trial %s does not build:\n%s", settings, text ? text : "");
  }
  free(text);
  return ok;
}

/* The trials of the tuning block, one job each; a batch size the spec's
 * model does not have gets a model of its own (shapes are compiled).
 * data.folds cross-validates the spec's own settings (one trial, its folds
 * run without --tune; job 0 then only smoke-tests the model). */
static bool lower_tuning(Lower *L, MlpIr *ir) {
  const MlpSpecBlock *t = mlp_spec_block(L->s, "tuning");
  const MlpSpecValue *data_folds = mlp_spec_setting(mlp_spec_block(L->s, "data"), "folds");
  bool tuned = t && t->given;
  ir->cross_validate = data_folds && data_folds->given;
  if (ir->cross_validate && tuned && (t->spaces.len > 0 || mlp_spec_setting(t, "folds")->given)) {
    mlp_diag_error(L->d, data_folds->node->loc,
                   "'data.folds' cross-validates the spec's own settings; with a search, give the folds "
                   "in 'tuning' (tuning.folds)");
    return false;
  }
  /* repeats repeats the folds of its own block */
  ir->fold_repeats = 1;
  for (int b = 0; b < 2; b++) {
    const MlpSpecBlock *in = b ? t : mlp_spec_block(L->s, "data");
    const MlpSpecValue *rep = in ? mlp_spec_setting(in, "repeats") : NULL;
    if (rep && num_or(rep, 1) > 1 && !mlp_spec_setting(in, "folds")->given) {
      mlp_diag_error(L->d, rep->node->loc, "'repeats' repeats the folds: give '%s.folds' beside it",
                     b ? "tuning" : "data");
      return false;
    }
  }
  /* Folds without spaces cross-validate the spec's own settings: one trial. */
  int k = (int)num_or(ir->cross_validate ? data_folds : tuned ? mlp_spec_setting(t, "folds") : NULL, 0);
  /* tuning.refit: folds always refit their winner; without a search there is none */
  const MlpSpecValue *refit = tuned ? mlp_spec_setting(t, "refit") : NULL;
  if (refit && refit->given && (k > 1 ? !bool_or(refit, false) : t->spaces.len == 0)) {
    mlp_diag_error(L->d, refit->node->loc, "%s",
                   k > 1 ? "with folds the winner is always refitted: each fold's model saw part of the rows"
                         : "'refit' refits the winner of a search, and the tuning block searches no space");
    return false;
  }
  ir->refit = refit && bool_or(refit, false) && k < 2;
  if (!ir->cross_validate && (!tuned || (t->spaces.len == 0 && k < 2))) return true;
  int ns = tuned ? t->spaces.len : 0;
  Space *sp = mlp_arena_alloc(L->a, (size_t)(ns ? ns : 1) * sizeof *sp);
  bool ok = true;
  for (int i = 0; i < ns; i++) ok &= read_space(L, t->spaces.items[i], &sp[i]);
  if (!ok) return false;
  /* With folds each trial is k jobs (k x repeats), scored on the training
   * and validation rows by cross-validation. */
  const MlpSpecBlock *fold_block = ir->cross_validate ? mlp_spec_block(L->s, "data") : t;
  const MlpSpecValue *repeats = mlp_spec_setting(fold_block, "repeats");
  ir->fold_repeats = (int)num_or(repeats, 1);
  if (ir->fold_repeats > 1 && (ir->data.split_time || ir->data.split_group)) {
    mlp_diag_error(L->d, repeats->node->loc,
                   "'repeats' would cut the same folds again: %s folds draw nothing from the seed",
                   ir->data.split_time ? "time-series" : "grouped");
    return false;
  }
  ir->nfolds = k > 1 ? k * ir->fold_repeats : 0;
  for (int i = 0; i < ns; i++)
    if (sp[i].clean && ir->nfolds) {
      unsupported(L, sp[i].sp->loc, "searching the cleaning chain with folds");
      return false;
    }
  int per = ir->nfolds ? ir->nfolds : 1;
  const MlpSpecValue *objective = tuned ? mlp_spec_setting(t, "objective") : NULL;
  ir->objective = str_or(objective, "val_loss");
  static const char *const objectives[] = MLPRT_OBJECTIVE_NAMES;
  int obj = 0;
  while (obj < MLPRT_NOBJECTIVES && strcmp(ir->objective, objectives[obj]) != 0) obj++;
  MlpLoc obj_at = objective && objective->given ? objective->node->loc : t->loc;
  if (obj == MLPRT_NOBJECTIVES) {
    unsupported(L, obj_at, mlp_arena_printf(L->a, "the tuning objective '%s'", ir->objective));
    return false;
  }
  /* The folds are cut as the split is; stratified folds need classes. */
  bool regression = ir->models[0].task == MLP_TASK_REGRESSION;
  if (ir->nfolds && ir->data.stratify && (ir->data.split_group || regression)) {
    const MlpSpecValue *strat = mlp_spec_arg(mlp_spec_op(mlp_spec_block(L->s, "data"), "split"), "stratify");
    mlp_diag_error(L->d, strat->node->loc,
                   ir->data.split_group ? "folds cannot be both stratified and grouped (split(group))"
                                        : "stratified folds need a categorical target");
    return false;
  }
  if ((obj == MLPRT_OBJ_VAL_F1 || obj == MLPRT_OBJ_VAL_AUC) && ir->models[0].task == MLP_TASK_REGRESSION) {
    mlp_diag_error(L->d, obj_at, "the objective '%s' needs a categorical target", ir->objective);
    return false;
  }
  const MlpSpecCall *search = tuned ? mlp_spec_call(mlp_spec_setting(t, "search")) : NULL;
  bool tpe = search && strcmp(search->op->name, "tpe") == 0;
  bool random = search && (strcmp(search->op->name, "random") == 0 || tpe);
  bool hyperband = search && strcmp(search->op->name, "hyperband") == 0;
  int rungs = 1;
  int64_t first = 0;
  if (search && (hyperband || strcmp(search->op->name, "successive_halving") == 0) &&
      !halving_rungs(L, ir, search, sp, ns, &first, &rungs))
    return false;
  /* A family's grid is each member's grid over the spaces that apply to
   * it, member after member; fam is the family's space, nm its members. */
  int fam = -1, nm = L->family ? L->family->nmembers : 1;
  for (int i = 0; i < ns; i++)
    if (sp[i].sp->members) fam = i;
  int trials = 0, member_trials[MAX_VALUES];
  for (int mb = 0; mb < nm; mb++) {
    member_trials[mb] = 1;
    for (int i = 0; i < ns && member_trials[mb] <= MAX_TRIALS; i++)
      if (i != fam && applies(L, &sp[i], mb)) member_trials[mb] *= sp[i].nvals;
    trials += member_trials[mb];
  }
  if (random && ns > 0) trials = (int)num_or(mlp_spec_arg(search, "trials"), 20);
  if (trials > MAX_TRIALS) {
    mlp_diag_error(L->d, t->loc, "the search has more than %d trials", MAX_TRIALS);
    return false;
  }
  /* Hyperband: bracket s (rungs - 1 down to 0) takes n_s points of the
   * grid, n_s = ceil(rungs * eta^s / (s + 1)) (Li et al.'s, at most the
   * grid's size); grid[tr % G] is trial tr's point, a seeded order. */
  int grid = trials, *order = NULL, bracket_trials[MAX_VALUES];
  uint64_t seed = (uint64_t)num_or(random || hyperband ? mlp_spec_arg(search, "seed") : NULL, 42);
  if (hyperband) {
    trials = 0;
    for (int s = rungs - 1; s >= 0; s--) {
      double n = ceil(rungs * pow(ir->eta, s) / (s + 1));
      bracket_trials[s] = n < grid ? (int)n : grid;
      trials += bracket_trials[s];
    }
    order = mlp_arena_alloc(L->a, (size_t)grid * sizeof *order);
    for (int g = 0; g < grid; g++) order[g] = g;
    for (int g = grid - 1; g > 0; g--) { /* Fisher-Yates */
      int at = (int)(mlprt_rng_uniform(seed, (uint64_t)ns, (uint64_t)g) * (g + 1)), x = order[g];
      order[g] = order[at], order[at] = x;
    }
  }
  if (trials * per * rungs > MAX_TRIALS) {
    mlp_diag_error(L->d, t->loc, "the search has more than %d trials", MAX_TRIALS);
    return false;
  }
  int combos = 0;
  if (tpe && !tpe_spaces(L, ir, search, sp, ns, seed, &combos)) return false;
  /* Job 0 keeps the spec's own settings (with successive halving, on the
   * last rung); the trials follow it. */
  MlpIrJob base = ir->jobs[0];
  ir->jobs = mlp_arena_alloc(L->a, (size_t)(1 + trials * per * rungs) * sizeof *ir->jobs);
  ir->jobs[0] = base;
  if (ir->eta) ir->jobs[0].rung = rungs - 1;
  /* The values trials replace, member by member for a path beside a family. */
  MlpSpecValue *saved = mlp_arena_alloc(L->a, (size_t)((ns ? ns : 1) * nm) * sizeof *saved);
  for (int i = 0; i < ns; i++)
    for (int mb = 0; mb < nm && !sp[i].own && !sp[i].sp->members; mb++) {
      MlpSpecValue *tg = sp[i].sp->targets ? sp[i].sp->targets[mb] : mb == 0 ? sp[i].sp->target : NULL;
      if (tg) saved[i * nm + mb] = *tg;
    }
  MlpSpecBlock *model_block = (MlpSpecBlock *)mlp_spec_block(L->s, "model");
  const MlpVec own_ops = model_block->ops;
  /* Models for every batch size and model-shaping value: at most one per
   * trial (and per combination tpe may choose); each one's penalties when
   * fitted at once (lower_trial). */
  int most = trials + (ir->tpe_labels ? combos : 0);
  MlpIrModel *models = mlp_arena_alloc(L->a, (size_t)(most + 1) * sizeof *models);
  double (*penalties)[2] = mlp_arena_alloc(L->a, (size_t)(most + 1) * sizeof *penalties);
  for (int i = 0; i <= most; i++) penalties[i][0] = L->fitted ? L->l1 : NAN, penalties[i][1] = L->l2;
  models[0] = ir->models[0];
  ir->models = models;
  /* The model each distinct set of model-shaping values made. */
  const char **model_keys = mlp_arena_alloc(L->a, (size_t)(most + 1) * sizeof *model_keys);
  Variants variants = {mlp_arena_alloc(L->a, (size_t)(most + 1) * sizeof *variants.keys),
                       mlp_arena_alloc(L->a, (size_t)(most + 1) * sizeof *variants.data), 0};
  bool relower = false;
  for (int i = 0; i < ns; i++) relower |= !sp[i].own;
  for (int tr = 0; tr < trials && ok; tr++) {
    MlpIrJob *j = &ir->jobs[1 + tr * per];
    int64_t batch = ir->models[0].batch;
    char *settings = mlp_arena_printf(L->a, "{"), *key = mlp_arena_strdup(L->a, ""), *clean_key = "";
    double vals[ns ? ns : 1];
    bool set[ns ? ns : 1];
    /* The trial's member of the family (0 without one), and its place in
     * that member's grid. */
    int member = 0, rest = hyperband ? order[tr % grid] : tr;
    if (fam >= 0 && random) {
      member = (int)(mlprt_rng_uniform(seed, (uint64_t)fam, (uint64_t)tr) * nm);
    } else if (fam >= 0) {
      while (rest >= member_trials[member]) rest -= member_trials[member++];
    }
    if (fam >= 0) model_block->ops = L->family->members[member].calls;
    /* A trial's values: the spaces' own, or in the spec for the job and
     * the model to be lowered again. */
    for (int i = 0; i < ns; i++) {
      set[i] = applies(L, &sp[i], member);
      if (!set[i]) continue;
      int pick = -1;
      double v;
      if (i == fam) {
        pick = member;
        v = member;
      } else if (random && sp[i].continuous) {
        v = draw(&sp[i], mlprt_rng_uniform(seed, (uint64_t)i, (uint64_t)tr));
      } else if (random) {
        pick = (int)(mlprt_rng_uniform(seed, (uint64_t)i, (uint64_t)tr) * sp[i].nvals);
        v = sp[i].vals[pick];
      } else {
        pick = rest % sp[i].nvals;
        v = sp[i].vals[pick];
        rest /= sp[i].nvals;
      }
      vals[i] = put_value(L, &sp[i], member, pick, v, &settings, &key, &clean_key);
    }
    for (int i = 0; i < ns; i++)
      if (set[i] && strcmp(sp[i].sp->path, "batch") == 0) batch = (int64_t)vals[i];
    if (relower) {
      ok = lower_trial(L, ir, j, mlp_arena_printf(L->a, "%sbatch=%lld", key, (long long)batch), clean_key,
                       &variants, batch, model_keys, penalties, mlp_arena_printf(L->a, "%s}", settings));
    } else {
      *j = base;
      j->model = model_for_batch(L, ir, batch);
    }
    /* Every model the search compares answers the target alike. */
    const MlpIrModel *m = ok ? &ir->models[j->model] : NULL;
    if (m && L->family && (m->task != ir->models[0].task || m->out_size != ir->models[0].out_size)) {
      static const char *const answers[] = {"softmax outputs", "sigmoid output", "linear output"};
      const MlpIrModel *own = &ir->models[0];
      mlp_diag_error(L->d, L->family->members[member].loc,
                     "'%s' answers %lld %s and the spec's model %lld %s; every model of the search must "
                     "answer alike (for two classes, a network's output(activation = sigmoid) answers as "
                     "a model fitted at once does)",
                     L->family->members[member].name, (long long)m->out_size, answers[m->task],
                     (long long)own->out_size, answers[own->task]);
      ok = false;
    }
    j->trial = tr;
    j->smoke_subset = 0; /* job 0's smoke run covers the model */
    if (ir->eta) j->rung = 0, j->epochs = first;
    j->bracket = -1;
    for (int i = 0; i < ns; i++) {
      const char *name = sp[i].sp->path;
      if (!sp[i].own || !set[i])
        continue;
      else if (strcmp(name, "lr") == 0)
        j->optim.lr = (float)vals[i];
      else if (strcmp(name, "l1") == 0)
        j->optim.l1 = (float)vals[i];
      else if (strcmp(name, "l2") == 0)
        j->optim.l2 = (float)vals[i];
      else if (strcmp(name, "epochs") == 0)
        j->epochs = (int64_t)vals[i];
    }
    j->settings = mlp_arena_printf(L->a, "%s}", settings);
    for (int f = 0; f < per; f++) {
      ir->jobs[1 + tr * per + f] = *j;
      ir->jobs[1 + tr * per + f].fold = ir->nfolds ? f : -1;
    }
  }
  /* tpe: the model of each combination of the compiled spaces' values
   * (the first space's value changing fastest), for the program to take. */
  if (ok && ir->tpe_labels) {
    ir->tpe_models = mlp_arena_alloc(L->a, (size_t)combos * sizeof *ir->tpe_models);
    ir->ntpe_models = combos;
    for (int c = 0; c < combos && ok; c++) {
      char *settings = mlp_arena_printf(L->a, "{"), *key = mlp_arena_strdup(L->a, ""), *clean_key = "";
      int64_t batch = ir->models[0].batch;
      for (int i = 0, rest = c; i < ns; i++) {
        if (!tpe_compiled(&sp[i])) continue;
        int pick = rest % sp[i].nvals;
        rest /= sp[i].nvals;
        double v = put_value(L, &sp[i], 0, pick, sp[i].vals[pick], &settings, &key, &clean_key);
        if (strcmp(sp[i].sp->path, "batch") == 0) batch = (int64_t)v;
      }
      MlpIrJob scratch = base;
      if (relower)
        ok = lower_trial(L, ir, &scratch, mlp_arena_printf(L->a, "%sbatch=%lld", key, (long long)batch),
                         clean_key, &variants, batch, model_keys, penalties,
                         mlp_arena_printf(L->a, "%s}", settings));
      else
        scratch.model = model_for_batch(L, ir, batch);
      ir->tpe_models[c] = scratch.model;
    }
  }
  /* The spec as written again, for what reads it after tuning. */
  model_block->ops = own_ops;
  for (int i = 0; i < ns; i++)
    for (int mb = 0; mb < nm && !sp[i].own && !sp[i].sp->members; mb++) {
      MlpSpecValue *tg = sp[i].sp->targets ? sp[i].sp->targets[mb] : mb == 0 ? sp[i].sp->target : NULL;
      if (tg) *tg = saved[i * nm + mb];
    }
  if (!ok) return false;
  ir->njobs = 1 + trials * per * rungs;
  if (hyperband) {
    /* Bracket s, most halvings first: its trials on rungs rungs - 1 - s
     * (first * eta^(rungs - 1 - s) epochs) up to the last, one rung after
     * the other. */
    MlpIrJob *trial_jobs = mlp_arena_alloc(L->a, (size_t)trials * sizeof *trial_jobs);
    memcpy(trial_jobs, ir->jobs + 1, (size_t)trials * sizeof *trial_jobs);
    int next = 1, tr0 = 0;
    for (int s = rungs - 1; s >= 0; tr0 += bracket_trials[s--])
      for (int rg = rungs - 1 - s; rg < rungs; rg++)
        for (int tr = tr0; tr < tr0 + bracket_trials[s]; tr++) {
          MlpIrJob *j = &ir->jobs[next++];
          *j = trial_jobs[tr];
          j->rung = rg, j->bracket = s;
          j->epochs = first;
          for (int e = 0; e < rg; e++) j->epochs *= ir->eta;
          if (rg == rungs - 1) j->epochs = base.epochs;
        }
    ir->njobs = next;
    return true;
  }
  /* Successive halving: rung k repeats the trials with eta^k times the
   * first rung's epochs, the last rung with the spec's epochs. */
  for (int rg = 1; rg < rungs; rg++)
    for (int tr = 0; tr < trials; tr++) {
      MlpIrJob *j = &ir->jobs[1 + rg * trials + tr];
      *j = ir->jobs[1 + tr];
      j->rung = rg;
      j->epochs = rg == rungs - 1 ? base.epochs : ir->jobs[1 + (rg - 1) * trials + tr].epochs * ir->eta;
    }
  /* the folds are the run: the first fold smoke-tests the model */
  if (ir->cross_validate) ir->jobs[1].smoke_subset = base.smoke_subset;
  return true;
}

/* analysis.metrics as bits (1 << MLPRT_METRIC_*); unwritten, the
 * registry's default for the task. A metric the task cannot have is an
 * error at its place in the list. */
static bool lower_metrics(Lower *L, MlpIr *ir) {
  bool classify = ir->models[0].task != MLP_TASK_REGRESSION;
  const MlpSpecValue *v = mlp_spec_setting(mlp_spec_block(L->s, "analysis"), "metrics");
  if (!v || !v->given || !v->node || v->node->kind != MLP_ND_LIST) {
    ir->metrics = classify ? 1u << MLPRT_METRIC_ACCURACY | 1u << MLPRT_METRIC_CONFUSION
                           : 1u << MLPRT_METRIC_MSE | 1u << MLPRT_METRIC_MAE | 1u << MLPRT_METRIC_R2;
    return true;
  }
  bool ok = true;
  for (int i = 0; i < v->node->kids.len; i++) {
    const MlpNode *e = v->node->kids.items[i];
    int k = 0;
    while (k < MLPRT_NMETRICS && strcmp(e->name, mlprt_metric_name(k)) != 0) k++;
    if (k == MLPRT_NMETRICS) {
      unsupported(L, e->loc, mlp_arena_printf(L->a, "the metric '%s'", e->name));
      ok = false;
      continue;
    }
    if (classify != (k < MLPRT_METRIC_MSE)) {
      mlp_diag_error(L->d, e->loc, "the metric '%s' needs a %s target", e->name,
                     classify ? "numeric" : "categorical");
      ok = false;
    }
    ir->metrics |= 1u << k;
  }
  return ok;
}

/* validation.monitor as bits (1 << MLPRT_MON_*), 0 unwritten; accuracy,
 * F1 and AUC need a categorical target, MAE and R2 a numeric one. */
static bool lower_epoch_monitor(Lower *L, MlpIr *ir) {
  const MlpSpecValue *v = mlp_spec_setting(mlp_spec_block(L->s, "validation"), "monitor");
  if (!v || !v->given || !v->node) return true;
  bool classify = ir->models[0].task != MLP_TASK_REGRESSION, ok = true;
  static const char *const names[] = MLPRT_MON_NAMES;
  bool list = v->node->kind == MLP_ND_LIST;
  for (int i = 0; i < (list ? v->node->kids.len : 1); i++) {
    const MlpNode *e = list ? v->node->kids.items[i] : v->node;
    int k = 0;
    while (k < MLPRT_NMONS - 1 && strcmp(e->name, names[k]) != 0) k++; /* sema admits only the set */
    bool for_classes = k == MLPRT_MON_ACCURACY || k == MLPRT_MON_VAL_ACCURACY || k == MLPRT_MON_VAL_F1 ||
                       k == MLPRT_MON_VAL_AUC;
    if ((for_classes && !classify) || ((k == MLPRT_MON_VAL_MAE || k == MLPRT_MON_VAL_R2) && classify)) {
      mlp_diag_error(L->d, e->loc, "'%s' needs a %s target", e->name, classify ? "numeric" : "categorical");
      ok = false;
    }
    ir->epoch_monitor |= 1u << k;
  }
  return ok;
}

/* model.pretrained: the run directory, verified against its manifest's
 * digests, must hold weights of exactly this model's layer shapes. Errors
 * are at the setting. A run directory that is itself being reloaded (shape
 * given) keeps the path without reading it. */
static bool lower_pretrained(Lower *L, MlpIr *ir, const char *spec_path) {
  const MlpSpecValue *v = mlp_spec_setting(mlp_spec_block(L->s, "model"), "pretrained");
  const char *dir = mlp_spec_str(v);
  if (!dir || !v->given) return true;
  if (L->family) {
    mlp_diag_error(L->d, v->node->loc, "model.pretrained starts the spec's own model; a search over a model "
                   "family cannot start its architectures from it");
    return false;
  }
  ir->pretrained = resolve(L, spec_path, dir);
  if (L->shape) return true;
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  char err[1024];
  bool ok = mlp_rundir_load(&a, ir->pretrained, &rd, err, sizeof err) == 0;
  const MlpIrModel *m = &ir->models[0];
  if (!ok) {
    mlp_diag_error(L->d, v->node->loc, "pretrained run: %s", err);
  } else if (rd.model->n_params != m->n_params || rd.model->n_state != m->n_state ||
             rd.model->nlayers != m->nlayers || rd.model->in_size != m->in_size) {
    mlp_diag_error(L->d, v->node->loc,
                   "the pretrained run's model (%lld inputs, %d layers, %lld parameters) is not this model "
                   "(%lld inputs, %d layers, %lld parameters)",
                   (long long)rd.model->in_size, rd.model->nlayers, (long long)rd.model->n_params,
                   (long long)m->in_size, m->nlayers, (long long)m->n_params);
    ok = false;
  } else {
    for (int i = 0; ok && i < m->nlayers; i++) {
      const MlpIrLayer *x = &rd.model->layers[i], *y = &m->layers[i];
      if (x->op != y->op || x->cell != y->cell || x->bidirectional != y->bidirectional ||
          x->in_size != y->in_size || x->out_size != y->out_size || x->n_params != y->n_params) {
        mlp_diag_error(L->d, v->node->loc,
                       "layer %d of the pretrained run is %s %lld -> %lld; this model's is %s %lld -> %lld",
                       i + 1, mlp_ir_layer_name(x), (long long)x->in_size, (long long)x->out_size,
                       mlp_ir_layer_name(y), (long long)y->in_size, (long long)y->out_size);
        ok = false;
      }
    }
  }
  if (ok) ir->pretrained_sha256 = mlp_arena_strdup(L->a, rd.weights_sha256);
  mlp_rundir_free(&rd);
  mlp_arena_free(&a);
  return ok;
}

/* A failsafe setting (deploy.failsafe) as MLPRT_FAILSAFE_*. */
static int failsafe(const MlpSpecBlock *fs, const char *key, const char *dflt) {
  int code = mlp_ir_failsafe_code(str_or(mlp_spec_setting(fs, key), dflt));
  return code >= 0 ? code : MLPRT_FAILSAFE_REJECT;
}

/* The deploy section as the predictor generator and the exporters read it. */
static void lower_deploy(Lower *L, MlpIrDeploy *dp) {
  const MlpSpecBlock *deploy = mlp_spec_block(L->s, "deploy");
  const MlpSpecBlock *fs = mlp_spec_block(L->s, "deploy.failsafe");
  const MlpSpecCall *mon = mlp_spec_op(deploy, "monitor");
  dp->onnx = mlp_spec_str(mlp_spec_setting(deploy, "onnx"));
  dp->quantize = str_or(mlp_spec_setting(deploy, "quantize"), "none");
  dp->max_accuracy_drop = num_or(mlp_spec_setting(deploy, "max_accuracy_drop"), 0.01);
  dp->predictor = mlp_spec_str(mlp_spec_setting(deploy, "predictor"));
  dp->cpu = str_or(mlp_spec_setting(deploy, "cpu"), "x86-64-v2");
  dp->registry = str_or(mlp_spec_setting(deploy, "registry"), "registry");
  dp->sign = bool_or(mlp_spec_setting(deploy, "sign"), false);
  dp->rollback = bool_or(mlp_spec_setting(deploy, "rollback"), true);
  dp->prune = num_or(mlp_spec_arg(mlp_spec_op(deploy, "prune"), "sparsity"), 0);
  dp->on_missing_column = failsafe(fs, "missing_column", "reject");
  dp->on_unknown_category = failsafe(fs, "unknown_category", "impute");
  dp->on_out_of_range = failsafe(fs, "out_of_range", "clip");
  dp->on_nan = failsafe(fs, "nan", "impute");
  /* the fallback: a class name (an identifier, a string or a number) or a
   * regression value */
  const MlpSpecValue *fb = mlp_spec_setting(fs, "fallback");
  const MlpNode *fbn = fb && fb->given ? fb->node : NULL;
  dp->fallback_value = fbn && fbn->kind == MLP_ND_NUM ? fbn->num : NAN;
  if (fbn && fbn->kind == MLP_ND_NUM) dp->fallback = mlp_arena_printf(L->a, "%g", fbn->num);
  else if (fbn) dp->fallback = fbn->kind == MLP_ND_STR ? fbn->text : fbn->name;
  dp->monitor = mon != NULL;
  dp->drift_threshold = num_or(mon ? mlp_spec_arg(mon, "drift_threshold") : NULL, 0.1);
  dp->drift_window = (int64_t)num_or(mon ? mlp_spec_arg(mon, "window") : NULL, 1000);
  dp->max_latency_ms = num_or(mlp_spec_setting(deploy, "max_latency_ms"), 0);
}

MlpIr *mlp_lower(MlpArena *a, const MlpSpec *s, const char *spec_path, MlpDiag *d) {
  return mlp_lower_shaped(a, s, spec_path, NULL, d);
}

/* environment.distributed and shards. A batch's gradient is the pairwise
 * sum of its slices' in a fixed tree, which the ranks split; slices of one
 * batch share no statistics, so batch norm's running ones would differ
 * from rank to rank. */
static bool lower_shards(Lower *L, MlpIr *ir, const MlpSpecBlock *env) {
  const MlpSpecValue *dist = mlp_spec_setting(env, "distributed");
  ir->mpi = strcmp(str_or(dist, "none"), "mpi") == 0;
  const MlpSpecValue *sv = mlp_spec_setting(env, "shards");
  ir->shards = (int)num_or(sv, 1);
  if (ir->shards & (ir->shards - 1)) {
    mlp_diag_error(L->d, sv->node->loc, "shards = %d is not a power of two", ir->shards);
    return false;
  }
  const MlpIrModel *m = &ir->models[0];
  if (ir->shards > 1 && m->n_state > 0) {
    unsupported(L, sv->node->loc, "shards with batch norm (its statistics span the whole batch)");
    return false;
  }
  if (ir->shards > m->batch && m->fit == MLPRT_FIT_NETWORK) {
    mlp_diag_error(L->d, sv->node->loc, "shards = %d is more than the batch of %lld rows", ir->shards,
                   (long long)m->batch);
    return false;
  }
  return true;
}

/* environment.out_of_core. auto is decided by the program from the data
 * file's size; on needs memory_mb and a pipeline whose data can stream:
 * one CSV file, a random or stratified split, cleaning steps fitted from
 * running sums (mlprt_clean_step_streams) and a network trained by
 * batches. Anything else is refused at its span. */
static bool lower_out_of_core(Lower *L, MlpIr *ir, const MlpSpecBlock *env) {
  const MlpSpecValue *v = mlp_spec_setting(env, "out_of_core"), *mem = mlp_spec_setting(env, "memory_mb");
  const char *mode = str_or(v, "auto");
  ir->out_of_core = strcmp(mode, "on") == 0 ? MLPRT_OOC_ON : strcmp(mode, "off") == 0 ? MLPRT_OOC_OFF
                                                                                        : MLPRT_OOC_AUTO;
  ir->memory_mb = mem && mem->node ? (int64_t)num_or(mem, 0) : 0;
  if (ir->out_of_core != MLPRT_OOC_ON) return true;
  const MlpIrData *d = &ir->data;
  const MlpSpecBlock *data = mlp_spec_block(L->s, "data");
  const char *why = !ir->memory_mb                              ? "without environment.memory_mb, its budget"
                    : strcmp(d->format, "csv") != 0             ? "with a source other than one CSV file"
                    : strchr(d->path, '\n')                     ? "with several sources"
                    : d->test_path                              ? "with a test_source"
                    : d->split_group || d->split_time           ? "with a grouped or time-ordered split"
                    : ir->models[0].fit != MLPRT_FIT_NETWORK    ? "with a model fitted on all rows at once"
                                                                : NULL;
  if (why) {
    mlp_diag_error(L->d, v->node ? v->node->loc : data->loc, "out_of_core = on cannot run %s", why);
    return false;
  }
  for (int i = 0; i < d->nclean; i++) {
    const MlpIrClean *st = &d->clean[i];
    if (mlprt_clean_step_streams(st->op, st->method)) continue;
    const MlpSpecCall *c = L->step_call[i];
    mlp_diag_error(L->d, c ? c->loc : data->loc,
                   "%s cannot run out of core (environment.out_of_core = on): it needs every row in memory",
                   mlprt_clean_op_name(st->op));
    return false;
  }
  return true;
}

MlpIr *mlp_lower_shaped(MlpArena *a, const MlpSpec *s, const char *spec_path, const MlpDataShape *shape,
                        MlpDiag *d) {
  Lower L = {a, s, d, -1, shape, 0, false, 0, 0, NULL, 0, NULL, false, spec_path};
  int nerr = d->nerr;
  if (!mlp_contract_check(s, d)) return NULL;
  const MlpSpecBlock *tuning = mlp_spec_block(s, "tuning");
  for (int i = 0; i < tuning->spaces.len; i++) {
    const MlpSpecSpace *sp = tuning->spaces.items[i];
    if (sp->members) L.family = sp;
    for (int k = 0; k < sp->nmembers; k++) L.loop_read |= sp->members[k].network;
  }
  MlpIr *ir = mlp_arena_alloc(a, sizeof *ir);
  ir->name = s->name;
  ir->spec_path = spec_path;
  const MlpSpecBlock *env = mlp_spec_block(s, "environment");
  const MlpSpecBlock *hyper = mlp_spec_block(s, "hyperparameters");
  ir->out_dir = str_or(mlp_spec_setting(env, "out"), mlp_arena_printf(a, "runs/%s", s->name));
  ir->threads = (int)num_or(mlp_spec_setting(env, "threads"), 0);
  ir->deterministic = bool_or(mlp_spec_setting(env, "deterministic"), true);
  ir->blas_threads = (int)num_or(mlp_spec_setting(env, "blas_threads"), 0);
  ir->monitor = bool_or(mlp_spec_setting(env, "monitor"), false);
  ir->checkpoint_every = (int)num_or(mlp_spec_setting(env, "checkpoint_every"), 1);
  static const char *const logs[] = MLPRT_LOG_NAMES;
  const char *log = str_or(mlp_spec_setting(env, "log"), "info");
  while (ir->log_level < MLPRT_LOG_ERROR && strcmp(logs[ir->log_level], log) != 0) ir->log_level++;
  /* environment.device: the host processor is the only back end */
  const MlpSpecValue *device = mlp_spec_setting(env, "device");
  if (strcmp(str_or(device, "cpu"), "cpu") != 0) {
    mlp_diag_error(d, device->node->loc,
                   "device = %s: mlpc has no GPU back end; programs run on the host processor (device = cpu)",
                   str_or(device, "cpu"));
    return NULL;
  }
  const MlpSpecValue *blas = mlp_spec_setting(env, "blas_threads");
  if (ir->deterministic && ir->blas_threads > 1)
    mlp_diag_warning(d, blas->node->loc,
                     "blas_threads = %d has no effect while deterministic = true: matrix products run on one "
                     "thread",
                     ir->blas_threads);
  const MlpSpecBlock *an = mlp_spec_block(s, "analysis");
  ir->report = str_or(mlp_spec_setting(an, "report"), "report.html");
  ir->learning_curves = bool_or(mlp_spec_setting(an, "learning_curves"), true);
  ir->bias_variance = bool_or(mlp_spec_setting(an, "bias_variance"), true);
  ir->worst = (int)num_or(mlp_spec_setting(an, "worst"), 20);
  ir->feature_importance = bool_or(mlp_spec_setting(an, "feature_importance"), false);
  const MlpSpecValue *slices = mlp_spec_setting(an, "slices");
  if (slices && slices->node->kind == MLP_ND_IDENT && mlp_ir_select_code(slices->node->name) >= 0) {
    mlp_diag_error(d, slices->node->loc, "analysis.slices takes column names, not the selector '%s'",
                   slices->node->name);
    return NULL;
  }
  ir->slices = slices ? names_text(&L, slices->node) : NULL;
  const MlpSpecBlock *deploy = mlp_spec_block(s, "deploy");
  ir->version = deploy && deploy->given ? str_or(mlp_spec_setting(deploy, "version"), "1.0.0") : NULL;
  ir->no_card = !bool_or(mlp_spec_setting(deploy, "card"), true);
  lower_deploy(&L, &ir->deploy);
  if (!lower_data(&L, ir, spec_path)) return NULL;
  /* Slices and importance read the columns of a table. */
  const char *const by_column[] = {"slices", "feature_importance"};
  for (int i = 0; i < 2 && strcmp(ir->data.format, "idx") == 0; i++) {
    const MlpSpecValue *v = mlp_spec_setting(an, by_column[i]);
    if (v && (i == 0 ? ir->slices != NULL : ir->feature_importance)) {
      mlp_diag_error(d, v->node->loc, "analysis.%s needs a table source: IDX images have no columns",
                     by_column[i]);
      return NULL;
    }
  }
  ir->nmodels = 1;
  ir->models = mlp_arena_alloc(a, sizeof *ir->models);
  MlpIrModel *m = &ir->models[0];
  m->name = "model0";
  m->batch = (int64_t)num_or(mlp_spec_setting(hyper, "batch"), 32);
  if (!lower_network(&L, ir, m)) return NULL;
  const MlpSpecValue *imp = mlp_spec_setting(an, "feature_importance");
  if (m->sparse_in && ir->feature_importance && imp) {
    mlp_diag_error(d, imp->node->loc,
                   "analysis.feature_importance permutes dense rows; this network reads its %lld features as "
                   "sparse rows (a vectorizer feeds its first dense layer)",
                   (long long)m->in_size);
    return NULL;
  }
  const MlpSpecBlock *model = mlp_spec_block(s, "model");
  ir->njobs = 1;
  ir->jobs = mlp_arena_alloc(a, sizeof *ir->jobs);
  if (!lower_job(&L, &ir->jobs[0])) return NULL;
  if (L.fitted) {
    ir->jobs[0].optim.l1 = (float)L.l1;
    ir->jobs[0].optim.l2 = (float)L.l2;
  }
  if (!lower_tuning(&L, ir)) return NULL;
  if (!lower_metrics(&L, ir) || !lower_epoch_monitor(&L, ir) || !lower_pretrained(&L, ir, spec_path))
    return NULL;
  if (!lower_shards(&L, ir, env) || !lower_out_of_core(&L, ir, env)) return NULL;
  /* The baseline beside the model: majority or mean, unless the model is one. */
  bool is_baseline = m->kind == MLP_MODEL_LINEAR && m->fit < MLPRT_FIT_LINEAR;
  if (bool_or(mlp_spec_setting(an, "baseline"), true) && !is_baseline)
    ir->baseline = m->task == MLP_TASK_REGRESSION ? MLPRT_FIT_MEAN : MLPRT_FIT_MAJORITY;
  const MlpSpecValue *most = mlp_spec_setting(model, "max_params");
  if (most && most->given && (double)m->n_params > num_or(most, 0))
    mlp_diag_error(d, most->node->loc, "the model has %lld parameters, more than max_params = %g",
                   (long long)m->n_params, num_or(most, 0));
  /* The program allocates every model's arena when it starts. */
  const MlpSpecValue *mem = mlp_spec_setting(env, "memory_mb");
  int64_t total = 0;
  for (int i = 0; i < ir->nmodels; i++) total += ir->models[i].arena_bytes;
  if (mem && mem->node && (double)total > num_or(mem, 0) * 1048576.0)
    mlp_diag_error(d, env->loc, "the static memory plan needs %.1f MiB, more than memory_mb = %g",
                   (double)total / 1048576.0, num_or(mem, 0));
  return d->nerr > nerr ? NULL : ir;
}
