/* lower.c — from a checked spec to the IR (see lower.h). Consumes layer
 * lists and training settings; produces shapes, parameter offsets, FLOPs and
 * the static memory plan of each model. */
#include "lower.h"

/* One training step is a schedule of numbered steps: forward of layer i is
 * step i, the loss is step L, backward of layer i is step 2L - i, the
 * optimizer update is step 2L + 1. Buffer lifetimes are ranges of these. */
void mlp_lower_model(MlpArena *a, MlpIrModel *m) {
  int L = m->nlayers, end = 2 * L + 1;
  int64_t fbytes = (int64_t)sizeof(float);
  m->n_params = 0;
  m->flops = 0;
  m->nbufs = 0;
  m->x_buf = mlp_ir_add_buffer(a, m, "x", m->batch * m->in_size * fbytes, 0, 2 * L);
  int64_t in = m->in_size;
  int prev_out = m->x_buf;
  for (int i = 0; i < L; i++) {
    MlpIrLayer *l = &m->layers[i];
    l->in_size = in;
    l->mask_buf = -1;
    l->n_params = 0;
    l->flops = 0;
    if (l->op == MLP_OP_DENSE) {
      l->w_off = m->n_params;
      l->b_off = m->n_params + l->out_size * in;
      l->n_params = l->out_size * in + l->out_size;
      l->flops = 2 * in * l->out_size + 2 * l->out_size; /* GEMM, then bias and activation */
    } else {
      l->out_size = in;
      if (l->op == MLP_OP_DROPOUT) l->flops = in;
    }
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
      if (l->op == MLP_OP_DROPOUT)
        l->mask_buf = mlp_ir_add_buffer(a, m, mlp_arena_printf(a, "mask%d", i), bytes, i, 2 * L - i);
    }
    prev_out = l->out_buf;
    in = l->out_size;
  }
  m->out_size = in;
  /* Gradients flow backwards: dout of layer i is written by the backward of
   * layer i + 1 (or by the loss) and consumed by layer i's own backward. */
  for (int i = L - 1; i >= 0; i--) {
    MlpIrLayer *l = &m->layers[i];
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
  m->grads_buf = mlp_ir_add_buffer(a, m, "grads", pbytes, 0, end);
  m->m_buf = mlp_ir_add_buffer(a, m, "adam_m", pbytes, 0, end);
  m->v_buf = mlp_ir_add_buffer(a, m, "adam_v", pbytes, 0, end);
  m->best_buf = mlp_ir_add_buffer(a, m, "best_params", pbytes, 0, end);
  mlp_ir_plan_memory(m);
}
