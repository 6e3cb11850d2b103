/* ir.c — the pipeline plan: enum names, the static memory planner and the
 * JSON dump (see ir.h). Consumes an MlpIr built by lowering; produces buffer
 * offsets and the --emit-ir text. */
#include "ir.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "mlp/clean.h"
#include "mlp/tensor.h"

const char *mlp_ir_act_name(MlpAct a) {
  static const char *const names[] = {"linear", "relu",    "sigmoid",
                                      "tanh",   "softmax", "leaky_relu"}; /* ORDER ACT */
  return names[a];
}

const char *mlp_ir_op_name(MlpOpKind k) {
  static const char *const names[] = {"dense",     "dropout",   "flatten",  "conv2d",
                                      "maxpool2d", "avgpool2d", "batchnorm"};
  return names[k];
}

const char *mlp_ir_task_name(MlpTask t) {
  static const char *const names[] = {"multiclass", "binary", "regression"};
  return names[t];
}

static const char *model_kind_name(MlpModelKind k) {
  return k == MLP_MODEL_CNN ? "cnn" : "mlp";
}

static const char *optim_name(MlpOptimKind k) {
  static const char *const names[] = {"sgd", "adam", "adamw"};
  return names[k];
}

static const char *sched_name(MlpSchedKind k) {
  static const char *const names[] = {"constant", "cosine", "step", "plateau"};
  return names[k];
}

static const char *init_name(MlpInit i) {
  static const char *const names[] = {"he_uniform", "he_normal", "glorot_uniform", "glorot_normal"};
  return names[i];
}

/* ---- the memory plan --------------------------------------------------- */

int mlp_ir_add_buffer(MlpArena *a, MlpIrModel *m, const char *name, int64_t bytes, int first, int last) {
  if (m->nbufs == m->capbufs) {
    int cap = m->capbufs ? 2 * m->capbufs : 16;
    MlpIrBuffer *nb = mlp_arena_alloc(a, (size_t)cap * sizeof *nb);
    if (m->nbufs) memcpy(nb, m->bufs, (size_t)m->nbufs * sizeof *nb);
    m->bufs = nb;
    m->capbufs = cap;
  }
  MlpIrBuffer *b = &m->bufs[m->nbufs];
  b->name = name;
  b->bytes = bytes;
  b->first = first;
  b->last = last;
  b->offset = -1;
  return m->nbufs++;
}

static bool lives_overlap(const MlpIrBuffer *x, const MlpIrBuffer *y) {
  return x->first <= y->last && y->first <= x->last;
}

static bool bytes_overlap(const MlpIrBuffer *x, const MlpIrBuffer *y) {
  int64_t xe = x->offset + (int64_t)mlprt_align_up((size_t)x->bytes);
  int64_t ye = y->offset + (int64_t)mlprt_align_up((size_t)y->bytes);
  return x->offset < ye && y->offset < xe;
}

void mlp_ir_plan_memory(MlpIrModel *m) {
  int n = m->nbufs;
  int *order = mlp_xmalloc((size_t)(n ? n : 1) * sizeof *order);
  /* Largest first, ties by index: a stable order keeps the plan reproducible. */
  for (int i = 0; i < n; i++) order[i] = i;
  for (int i = 1; i < n; i++) {
    int k = order[i], j = i;
    while (j > 0 && m->bufs[order[j - 1]].bytes < m->bufs[k].bytes) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = k;
  }
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    MlpIrBuffer *b = &m->bufs[order[i]];
    b->offset = 0;
    /* Bump past every conflicting placed buffer until none conflicts; each
     * bump moves to the end of a conflict, so this ends after <= i moves. */
    for (bool moved = true; moved;) {
      moved = false;
      for (int j = 0; j < i; j++) {
        const MlpIrBuffer *p = &m->bufs[order[j]];
        if (lives_overlap(b, p) && bytes_overlap(b, p)) {
          b->offset = p->offset + (int64_t)mlprt_align_up((size_t)p->bytes);
          moved = true;
        }
      }
    }
    int64_t end = b->offset + (int64_t)mlprt_align_up((size_t)b->bytes);
    if (end > total) total = end;
  }
  m->arena_bytes = total;
  free(order);
}

bool mlp_ir_plan_valid(const MlpIrModel *m) {
  for (int i = 0; i < m->nbufs; i++) {
    const MlpIrBuffer *x = &m->bufs[i];
    if (x->offset < 0 || x->offset % MLPRT_ALIGN != 0 || x->offset + x->bytes > m->arena_bytes) return false;
    for (int j = i + 1; j < m->nbufs; j++)
      if (lives_overlap(x, &m->bufs[j]) && bytes_overlap(x, &m->bufs[j])) return false;
  }
  return true;
}

/* ---- JSON -------------------------------------------------------------- */

/* [batch, features] for vectors, [batch, c, h, w] for images. */
static cJSON *shape_json(int64_t batch, int64_t c, int64_t h, int64_t w, bool image) {
  double dims[4] = {(double)batch, (double)c, (double)h, (double)w};
  return cJSON_CreateDoubleArray(dims, image ? 4 : 2);
}

static cJSON *buffer_json(const MlpIrModel *m, int i) {
  if (i < 0) return cJSON_CreateNull();
  return cJSON_CreateString(m->bufs[i].name);
}

static cJSON *model_json(const MlpIrModel *m) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", m->name);
  cJSON_AddStringToObject(o, "kind", model_kind_name(m->kind));
  cJSON_AddStringToObject(o, "task", mlp_ir_task_name(m->task));
  cJSON_AddNumberToObject(o, "in_size", (double)m->in_size);
  cJSON_AddNumberToObject(o, "out_size", (double)m->out_size);
  cJSON_AddNumberToObject(o, "batch", (double)m->batch);
  cJSON_AddStringToObject(o, "init", init_name(m->init));
  cJSON_AddNumberToObject(o, "params", (double)m->n_params);
  cJSON_AddNumberToObject(o, "flops_per_sample", (double)m->flops);
  cJSON *layers = cJSON_AddArrayToObject(o, "layers");
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    cJSON *lj = cJSON_CreateObject();
    cJSON_AddStringToObject(lj, "op", mlp_ir_op_name(l->op));
    if (l->op == MLP_OP_DENSE || l->op == MLP_OP_CONV2D)
      cJSON_AddStringToObject(lj, "activation", mlp_ir_act_name(l->act));
    if (l->op == MLP_OP_DROPOUT) cJSON_AddNumberToObject(lj, "rate", l->rate);
    if (l->op == MLP_OP_CONV2D || l->op == MLP_OP_MAXPOOL2D || l->op == MLP_OP_AVGPOOL2D) {
      cJSON_AddNumberToObject(lj, "kernel", l->kernel);
      cJSON_AddNumberToObject(lj, "stride", l->stride);
      cJSON_AddNumberToObject(lj, "padding", l->pad);
    }
    bool in_img = l->in_h > 1 || l->in_w > 1, out_img = l->out_h > 1 || l->out_w > 1;
    cJSON_AddItemToObject(lj, "in_shape",
                          shape_json(m->batch, in_img ? l->in_c : l->in_size, l->in_h, l->in_w, in_img));
    cJSON_AddItemToObject(
        lj, "out_shape", shape_json(m->batch, out_img ? l->out_c : l->out_size, l->out_h, l->out_w, out_img));
    cJSON_AddNumberToObject(lj, "params", (double)l->n_params);
    if (l->n_params) {
      cJSON_AddNumberToObject(lj, "w_offset", (double)l->w_off);
      cJSON_AddNumberToObject(lj, "b_offset", (double)l->b_off);
    }
    cJSON_AddNumberToObject(lj, "flops_per_sample", (double)l->flops);
    cJSON_AddItemToObject(lj, "out", buffer_json(m, l->out_buf));
    cJSON_AddItemToObject(lj, "dout", buffer_json(m, l->dout_buf));
    cJSON_AddItemToArray(layers, lj);
  }
  cJSON *plan = cJSON_AddObjectToObject(o, "memory");
  cJSON_AddNumberToObject(plan, "arena_bytes", (double)m->arena_bytes);
  cJSON *bufs = cJSON_AddArrayToObject(plan, "buffers");
  for (int i = 0; i < m->nbufs; i++) {
    const MlpIrBuffer *b = &m->bufs[i];
    cJSON *bj = cJSON_CreateObject();
    cJSON_AddStringToObject(bj, "name", b->name);
    cJSON_AddNumberToObject(bj, "offset", (double)b->offset);
    cJSON_AddNumberToObject(bj, "bytes", (double)b->bytes);
    int live[2] = {b->first, b->last};
    cJSON_AddItemToObject(bj, "live", cJSON_CreateIntArray(live, 2));
    cJSON_AddItemToArray(bufs, bj);
  }
  return o;
}

static cJSON *job_json(const MlpIr *ir, const MlpIrJob *j) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "model", ir->models[j->model].name);
  cJSON *opt = cJSON_AddObjectToObject(o, "optimizer");
  cJSON_AddStringToObject(opt, "kind", optim_name(j->optim.kind));
  cJSON_AddNumberToObject(opt, "lr", j->optim.lr);
  if (j->optim.kind == MLP_OPTIM_SGD) {
    cJSON_AddNumberToObject(opt, "momentum", j->optim.momentum);
  } else {
    cJSON_AddNumberToObject(opt, "beta1", j->optim.beta1);
    cJSON_AddNumberToObject(opt, "beta2", j->optim.beta2);
    cJSON_AddNumberToObject(opt, "eps", j->optim.eps);
  }
  cJSON_AddNumberToObject(opt, "weight_decay", j->optim.weight_decay);
  cJSON_AddNumberToObject(opt, "l1", j->optim.l1);
  cJSON_AddNumberToObject(opt, "l2", j->optim.l2);
  if (j->optim.clip_norm > 0) cJSON_AddNumberToObject(opt, "clip_norm", j->optim.clip_norm);
  if (j->optim.clip_value > 0) cJSON_AddNumberToObject(opt, "clip_value", j->optim.clip_value);
  cJSON_AddNumberToObject(o, "epochs", (double)j->epochs);
  cJSON_AddNumberToObject(o, "seed", (double)j->seed);
  cJSON *s = cJSON_AddObjectToObject(o, "schedule");
  cJSON_AddStringToObject(s, "kind", sched_name(j->sched));
  if (j->sched == MLP_SCHED_COSINE) cJSON_AddNumberToObject(s, "warmup", (double)j->warmup);
  if (j->sched == MLP_SCHED_STEP || j->sched == MLP_SCHED_PLATEAU) {
    cJSON_AddNumberToObject(s, j->sched == MLP_SCHED_STEP ? "every" : "patience", (double)j->sched_step);
    cJSON_AddNumberToObject(s, "factor", j->sched_factor);
  }
  cJSON *smoke = cJSON_AddObjectToObject(o, "smoke");
  cJSON_AddNumberToObject(smoke, "subset", j->smoke_subset);
  cJSON_AddNumberToObject(smoke, "epochs", (double)j->smoke_epochs);
  cJSON_AddBoolToObject(smoke, "stop_on_divergence", j->stop_on_divergence);
  cJSON *es = cJSON_AddObjectToObject(o, "early_stopping");
  cJSON_AddBoolToObject(es, "enabled", j->early_stop);
  cJSON_AddStringToObject(es, "monitor", j->monitor);
  cJSON_AddNumberToObject(es, "patience", (double)j->patience);
  cJSON_AddNumberToObject(es, "min_delta", j->min_delta);
  cJSON_AddBoolToObject(es, "restore_best", j->restore_best);
  cJSON_AddNumberToObject(o, "fold", j->fold);
  cJSON_AddNumberToObject(o, "trial", j->trial);
  cJSON_AddNumberToObject(o, "batch", (double)ir->models[j->model].batch);
  return o;
}

void mlp_ir_dump(const MlpIr *ir, FILE *out) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "pipeline", ir->name);
  cJSON_AddStringToObject(root, "out", ir->out_dir);
  cJSON_AddNumberToObject(root, "threads", ir->threads);
  cJSON_AddBoolToObject(root, "deterministic", ir->deterministic);
  cJSON *d = cJSON_AddObjectToObject(root, "data");
  cJSON_AddStringToObject(d, "format", ir->data.format);
  cJSON_AddStringToObject(d, "path", ir->data.path);
  if (ir->data.path2) cJSON_AddStringToObject(d, "labels", ir->data.path2);
  cJSON_AddStringToObject(d, "target", ir->data.target);
  cJSON_AddNumberToObject(d, "features", (double)ir->data.n_features);
  cJSON_AddNumberToObject(d, "classes", (double)ir->data.n_classes);
  cJSON_AddNumberToObject(d, "validation", ir->data.val_frac);
  cJSON_AddNumberToObject(d, "test", ir->data.test_frac);
  cJSON_AddBoolToObject(d, "stratify", ir->data.stratify);
  cJSON_AddNumberToObject(d, "seed", (double)ir->data.split_seed);
  cJSON *clean = cJSON_AddArrayToObject(d, "clean");
  for (int i = 0; i < ir->data.nclean; i++) {
    const MlpIrClean *c = &ir->data.clean[i];
    cJSON *cj = cJSON_CreateObject();
    static const char *const selectors[] = {NULL, "numeric", "categorical", "text", "all"};
    cJSON_AddStringToObject(cj, "op", mlprt_clean_op_name(c->op));
    cJSON_AddStringToObject(cj, "columns", c->columns ? c->columns : selectors[c->select]);
    if (c->keep) cJSON_AddStringToObject(cj, "keep", c->keep);
    if (c->op == MLPRT_CLEAN_IMPUTE)
      cJSON_AddStringToObject(cj, "method", mlprt_method_name(MLPRT_STEP_IMPUTE, c->method));
    if (c->op == MLPRT_CLEAN_CLIP_OUTLIERS || c->op == MLPRT_CLEAN_DROP_OUTLIERS)
      cJSON_AddStringToObject(cj, "method", mlprt_method_name(MLPRT_STEP_OUTLIERS, c->method));
    cJSON_AddNumberToObject(cj, "param", c->param);
    if (c->op == MLPRT_CLEAN_MINMAX) {
      cJSON_AddNumberToObject(cj, "low", c->low);
      cJSON_AddNumberToObject(cj, "high", c->high);
    }
    cJSON_AddBoolToObject(cj, "flag", c->flag);
    cJSON_AddItemToArray(clean, cj);
  }
  cJSON *models = cJSON_AddArrayToObject(root, "models");
  for (int i = 0; i < ir->nmodels; i++) cJSON_AddItemToArray(models, model_json(&ir->models[i]));
  if (ir->objective) cJSON_AddStringToObject(root, "objective", ir->objective);
  /* what the predictor and the exporters read */
  const MlpIrDeploy *dp = &ir->deploy;
  static const char *const policies[] = {"reject", "impute", "fallback", "clip"};
  cJSON *dj = cJSON_AddObjectToObject(root, "deploy");
  if (dp->predictor) cJSON_AddStringToObject(dj, "predictor", dp->predictor);
  if (dp->cpu) cJSON_AddStringToObject(dj, "cpu", dp->cpu);
  cJSON_AddStringToObject(dj, "missing_column", policies[dp->on_missing_column]);
  cJSON_AddStringToObject(dj, "unknown_category", policies[dp->on_unknown_category]);
  cJSON_AddStringToObject(dj, "out_of_range", policies[dp->on_out_of_range]);
  cJSON_AddStringToObject(dj, "nan", policies[dp->on_nan]);
  if (dp->fallback) cJSON_AddStringToObject(dj, "fallback", dp->fallback);
  if (dp->monitor) {
    cJSON_AddNumberToObject(dj, "drift_threshold", dp->drift_threshold);
    cJSON_AddNumberToObject(dj, "drift_window", (double)dp->drift_window);
  }
  if (dp->max_latency_ms > 0) cJSON_AddNumberToObject(dj, "max_latency_ms", dp->max_latency_ms);
  if (ir->nfolds) cJSON_AddNumberToObject(root, "folds", ir->nfolds);
  cJSON *jobs = cJSON_AddArrayToObject(root, "jobs");
  for (int i = 0; i < ir->njobs; i++) cJSON_AddItemToArray(jobs, job_json(ir, &ir->jobs[i]));
  char *text = cJSON_Print(root);
  fputs(text, out);
  fputc('\n', out);
  free(text);
  cJSON_Delete(root);
}
