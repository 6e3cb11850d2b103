/* ir.c — the pipeline plan: enum names, the static memory planner and the
 * JSON dump (see ir.h). Consumes an MlpIr built by lowering; produces buffer
 * offsets and the --emit-ir text. */
#include "ir.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp/clean.h"
#include "mlp/layers.h"
#include "mlp/predict.h"
#include "mlp/run.h"
#include "mlp/tensor.h"

/* ORDER MlprtSelect (MLPRT_SELECT_NAMES first) and MLPRT_FAILSAFE_*. */
static const char *const select_words[] = {NULL, "numeric", "categorical", "text", "all"};
static const char *const failsafe_words[] = {"reject", "impute", "fallback", "clip"};
_Static_assert(MLPRT_SELECT_NAMES == 0 && MLPRT_SELECT_ALL == 4, "select_words follows MlprtSelect");
_Static_assert(MLPRT_FAILSAFE_REJECT == 0 && MLPRT_FAILSAFE_CLIP == 3,
               "failsafe_words follows MLPRT_FAILSAFE_*");

static int word_code(const char *const *words, int n, const char *word) {
  for (int i = 0; word && i < n; i++)
    if (words[i] && strcmp(words[i], word) == 0) return i;
  return -1;
}

const char *mlp_ir_select_name(int select) {
  return select >= 0 && select < 5 ? select_words[select] : NULL;
}

const char *mlp_ir_failsafe_name(int policy) {
  return policy >= 0 && policy < 4 ? failsafe_words[policy] : "?";
}

int mlp_ir_select_code(const char *word) {
  return word_code(select_words, 5, word);
}

int mlp_ir_failsafe_code(const char *word) {
  return word_code(failsafe_words, 4, word);
}

const char *mlp_ir_act_name(MlpAct a) {
  static const char *const names[] = {"linear",  "relu",       "sigmoid", "tanh",
                                      "softmax", "leaky_relu", "gelu"}; /* ORDER ACT */
  return names[a];
}

const char *mlp_ir_op_name(MlpOpKind k) {
  static const char *const names[] = {
      "dense",     "dropout",   "flatten", "conv2d",    "maxpool2d", "avgpool2d",           "batchnorm",
      "layernorm", "recurrent", "forest",  "embedding", "svm",       "transformer_encoder", "boost",
      "pool_steps"};
  return names[k];
}

int64_t mlp_ir_recurrent_dir_floats(const MlpIrLayer *l) {
  return mlprt_recurrent_gates(l->cell) * l->units * (l->features + l->units + 2);
}

const char *mlp_ir_layer_name(const MlpIrLayer *l) {
  /* by bidirectional, then MlprtCell */
  static const char *const cells[2][3] = {{"rnn", "lstm", "gru"}, {"birnn", "bilstm", "bigru"}};
  if (l->op == MLP_OP_FLATTEN && l->steps > 0) return "reshape";
  return l->op == MLP_OP_RECURRENT ? cells[l->bidirectional][l->cell] : mlp_ir_op_name(l->op);
}

const char *mlp_ir_task_name(MlpTask t) {
  static const char *const names[] = {"multiclass", "binary", "regression"};
  return names[t];
}

static const char *model_kind_name(MlpModelKind k) {
  static const char *const names[] = {"mlp", "cnn", "linear", "forest", "svm", "boost"};
  return names[k];
}

static const char *const fit_names[] = MLPRT_FIT_NAMES;

const char *mlp_ir_optim_name(MlpOptimKind k) {
  static const char *const names[] = {"sgd", "adam", "adamw", "rmsprop"};
  return names[k];
}

static const char *sched_name(MlpSchedKind k) {
  static const char *const names[] = {"constant", "cosine", "step", "plateau"};
  return names[k];
}

static const char *init_name(MlpInit i) {
  static const char *const names[] = {"he_uniform", "he_normal", "glorot_uniform", "glorot_normal",
                                      "zeros",      "uniform",   "normal"};
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
  if (!mlp_ir_plan_valid(m)) {
    fprintf(stderr, "mlpc: internal error: the memory plan of %s overlaps live buffers\n", m->name);
    abort();
  }
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

static void add_str(cJSON *o, const char *key, const char *v) {
  cJSON_AddItemToObject(o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

/* Text holding items that each end in '\n' (column names, missing-value
 * texts, several source paths), as a JSON list of its items. */
static cJSON *lines_json(const char *text) {
  cJSON *a = cJSON_CreateArray();
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    char *item = strndup(p, n);
    cJSON_AddItemToArray(a, cJSON_CreateString(item));
    free(item);
    p += n + (p[n] == '\n');
  }
  return a;
}

/* A columns value: a selector word as is, names as a list. */
static cJSON *columns_json(const char *columns) {
  return strchr(columns, '\n') ? lines_json(columns) : cJSON_CreateString(columns);
}

/* Column indices as a list. */
static cJSON *idx_json(const int64_t *idx, int64_t n) {
  cJSON *arr = cJSON_CreateArray();
  for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)idx[i]));
  return arr;
}

/* A onehot step's levels ("NAME\tLEVEL...\n" a column) as {NAME: [LEVEL,
 * ...], ...}; null when not probed. */
static cJSON *levels_json(const char *levels) {
  if (!levels) return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  for (const char *s = levels, *nl; (nl = strchr(s, '\n')); s = nl + 1) {
    size_t len = strcspn(s, "\t\n");
    char *name = strndup(s, len);
    cJSON *arr = cJSON_AddArrayToObject(o, name);
    free(name);
    for (const char *l = s + len; l < nl && *l == '\t';) {
      size_t k = strcspn(l + 1, "\t\n");
      char *lv = strndup(l + 1, k);
      cJSON_AddItemToArray(arr, cJSON_CreateString(lv));
      free(lv);
      l += 1 + k;
    }
  }
  return o;
}

/* The absolute form of path, without resolving links that do not exist. */
static char *absolute(const char *path) {
  char *r = realpath(path, NULL);
  if (r) return r;
  char cwd[PATH_MAX];
  if (path[0] == '/' || !getcwd(cwd, sizeof cwd)) return strdup(path);
  size_t n = strlen(cwd) + strlen(path) + 2;
  r = mlp_xmalloc(n);
  snprintf(r, n, "%s/%s", cwd, path);
  return r;
}

/* path relative to the directory dir (both absolute), with ".." where it
 * lies outside it. */
static char *relative(const char *dir, const char *path) {
  size_t dn = strlen(dir), common = 0; /* path[common..] is below the deepest shared directory */
  if (strncmp(dir, path, dn) == 0 && path[dn] == '/') {
    common = dn + 1;
  } else {
    for (size_t i = 0; dir[i] && dir[i] == path[i]; i++)
      if (dir[i] == '/') common = i + 1;
  }
  int up = 0; /* directories of dir below the shared one */
  if (common <= dn) {
    up = 1;
    for (size_t i = common; i < dn; i++) up += dir[i] == '/';
  }
  size_t n = (size_t)up * 3 + strlen(path + common) + 1;
  char *r = mlp_xmalloc(n), *w = r;
  for (int i = 0; i < up; i++, w += 3) memcpy(w, "../", 3);
  strcpy(w, path + common);
  return r;
}

/* Whether the absolute paths a and b lie in one top-level directory. */
static bool same_top(const char *a, const char *b) {
  size_t n = strcspn(a + 1, "/") + 1;
  return strncmp(a, b, n) == 0 && (b[n] == '/' || b[n] == 0);
}

/* The data paths (one per line) relative to the spec's directory; one that
 * shares no directory with it but the root stays absolute. */
static cJSON *paths_json(const char *spec_path, const char *paths) {
  char *spec = absolute(spec_path);
  char *slash = strrchr(spec, '/');
  if (slash) *slash = 0;
  cJSON *a = lines_json(paths);
  for (cJSON *item = a->child; item; item = item->next) {
    char *abs = absolute(item->valuestring);
    char *rel = same_top(spec, abs) ? relative(spec, abs) : strdup(abs);
    cJSON_SetValuestring(item, rel);
    free(rel);
    free(abs);
  }
  free(spec);
  return a;
}

/* Where a source's rows are: its files (paths_json), or a PostgreSQL
 * connection string as written. */
static cJSON *source_json(const MlpIr *ir, const char *where) {
  if (strcmp(ir->data.format, "postgres") == 0) return cJSON_CreateString(where);
  return paths_json(ir->spec_path, where);
}

/* [batch, features] for vectors, [batch, c, h, w] for images. */
static cJSON *shape_json(int64_t batch, int64_t c, int64_t h, int64_t w, bool image) {
  double dims[4] = {(double)batch, (double)c, (double)h, (double)w};
  return cJSON_CreateDoubleArray(dims, image ? 4 : 2);
}

static cJSON *buffer_json(const MlpIrModel *m, int i) {
  if (i < 0) return cJSON_CreateNull();
  return cJSON_CreateString(m->bufs[i].name);
}

static cJSON *layer_json(const MlpIrModel *m, const MlpIrLayer *l) {
  cJSON *lj = cJSON_CreateObject();
  cJSON_AddStringToObject(lj, "op", mlp_ir_op_name(l->op));
  cJSON_AddStringToObject(lj, "activation", mlp_ir_act_name(l->act));
  cJSON_AddNumberToObject(lj, "rate", l->rate);
  cJSON_AddNumberToObject(lj, "kernel", l->kernel);
  cJSON_AddNumberToObject(lj, "stride", l->stride);
  cJSON_AddNumberToObject(lj, "padding", l->pad);
  cJSON_AddNumberToObject(lj, "momentum", l->momentum);
  cJSON_AddNumberToObject(lj, "eps", l->eps);
  bool in_img = l->in_h > 1 || l->in_w > 1, out_img = l->out_h > 1 || l->out_w > 1;
  cJSON_AddItemToObject(lj, "in_shape",
                        shape_json(m->batch, in_img ? l->in_c : l->in_size, l->in_h, l->in_w, in_img));
  cJSON_AddItemToObject(lj, "out_shape",
                        shape_json(m->batch, out_img ? l->out_c : l->out_size, l->out_h, l->out_w, out_img));
  cJSON_AddNumberToObject(lj, "params", (double)l->n_params);
  cJSON_AddNumberToObject(lj, "w_offset", (double)l->w_off);
  cJSON_AddNumberToObject(lj, "b_offset", (double)l->b_off);
  cJSON_AddNumberToObject(lj, "state_offset", (double)l->state_off);
  cJSON_AddNumberToObject(lj, "flops_per_sample", (double)l->flops);
  cJSON_AddItemToObject(lj, "out", buffer_json(m, l->out_buf));
  cJSON_AddItemToObject(lj, "dout", buffer_json(m, l->dout_buf));
  cJSON_AddItemToObject(lj, "mask", buffer_json(m, l->mask_buf));
  cJSON_AddItemToObject(lj, "col", buffer_json(m, l->col_buf));
  cJSON_AddItemToObject(lj, "argmax", buffer_json(m, l->argmax_buf));
  cJSON_AddItemToObject(lj, "stats", buffer_json(m, l->stats_buf));
  if (l->pre_buf >= 0) cJSON_AddItemToObject(lj, "pre", buffer_json(m, l->pre_buf));
  if (l->init) cJSON_AddStringToObject(lj, "init", init_name((MlpInit)(l->init - 1)));
  if (l->no_bias) cJSON_AddBoolToObject(lj, "bias", false);
  if (l->op == MLP_OP_RECURRENT) {
    cJSON_AddStringToObject(lj, "cell", mlp_ir_layer_name(l));
    cJSON_AddNumberToObject(lj, "steps", (double)l->steps);
    cJSON_AddNumberToObject(lj, "features", (double)l->features);
    cJSON_AddNumberToObject(lj, "units", (double)l->units);
    cJSON_AddBoolToObject(lj, "return_sequences", l->return_sequences);
    cJSON_AddBoolToObject(lj, "bidirectional", l->bidirectional);
    cJSON_AddBoolToObject(lj, "masked", l->masked);
    cJSON_AddItemToObject(lj, "seq", buffer_json(m, l->seq_buf));
    cJSON_AddItemToObject(lj, "work", buffer_json(m, l->work_buf));
  }
  if (l->op == MLP_OP_EMBEDDING) {
    cJSON_AddNumberToObject(lj, "vocab", (double)l->vocab);
    cJSON_AddNumberToObject(lj, "dim", (double)l->units);
    cJSON_AddBoolToObject(lj, "masked", l->masked);
  }
  if (l->op == MLP_OP_POOL_STEPS) {
    static const char *const kinds[] = {"mean", "first", "last", "max"}; /* by MlprtEncPool */
    cJSON_AddNumberToObject(lj, "steps", (double)l->steps);
    cJSON_AddNumberToObject(lj, "features", (double)l->features);
    cJSON_AddStringToObject(lj, "kind", kinds[l->pool]);
    cJSON_AddBoolToObject(lj, "masked", l->masked);
  }
  if (l->op == MLP_OP_ENCODER) {
    static const char *const keys[] = {"steps",      "features",   "dim",       "heads", "ff",    "blocks",
                                       "norm_first", "activation", "positions", "pool",  "causal"};
    for (int k = 0; k < MLPRT_ENC_NCFG; k++) cJSON_AddNumberToObject(lj, keys[k], l->enc[k]);
    cJSON_AddBoolToObject(lj, "masked", l->masked);
    cJSON_AddNumberToObject(lj, "dropout", l->rate);
    cJSON_AddItemToObject(lj, "record", buffer_json(m, l->seq_buf));
    cJSON_AddItemToObject(lj, "work", buffer_json(m, l->work_buf));
  }
  return lj;
}

static cJSON *model_json(const MlpIrModel *m) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", m->name);
  cJSON_AddStringToObject(o, "kind", model_kind_name(m->kind));
  cJSON_AddStringToObject(o, "task", mlp_ir_task_name(m->task));
  double in[3] = {(double)m->in_c, (double)m->in_h, (double)m->in_w};
  cJSON_AddItemToObject(o, "in_chw", cJSON_CreateDoubleArray(in, 3));
  cJSON_AddNumberToObject(o, "in_size", (double)m->in_size);
  cJSON_AddNumberToObject(o, "out_size", (double)m->out_size);
  cJSON_AddNumberToObject(o, "batch", (double)m->batch);
  if (m->sparse_in) cJSON_AddBoolToObject(o, "sparse_input", true);
  cJSON_AddStringToObject(o, "init", init_name(m->init));
  cJSON_AddNumberToObject(o, "params", (double)m->n_params);
  cJSON_AddNumberToObject(o, "state", (double)m->n_state);
  cJSON_AddNumberToObject(o, "flops_per_sample", (double)m->flops);
  if (m->task == MLP_TASK_MULTICLASS) cJSON_AddNumberToObject(o, "label_smoothing", m->label_smoothing);
  if (m->kind == MLP_MODEL_MLP || m->kind == MLP_MODEL_CNN) {
    static const char *const losses[] = MLPRT_LOSS_NAMES;
    cJSON_AddStringToObject(o, "loss", losses[m->loss]);
    if (m->loss == MLPRT_LOSS_HUBER) cJSON_AddNumberToObject(o, "huber_delta", m->huber_delta);
  }
  if (m->kind == MLP_MODEL_LINEAR) {
    cJSON *f = cJSON_AddObjectToObject(o, "fit");
    cJSON_AddStringToObject(f, "kind", fit_names[m->fit]);
    cJSON_AddBoolToObject(f, "l2_per_row", m->l2_per_row);
    cJSON_AddNumberToObject(f, "iterations", (double)m->iterations);
  }
  if (m->kind == MLP_MODEL_FOREST) {
    cJSON *f = cJSON_AddObjectToObject(o, "fit");
    cJSON_AddStringToObject(f, "kind", fit_names[m->fit]);
    cJSON_AddNumberToObject(f, "trees", (double)m->trees);
    cJSON_AddNumberToObject(f, "max_depth", (double)m->depth);
    cJSON_AddNumberToObject(f, "max_features", (double)m->max_features);
    cJSON_AddNumberToObject(f, "min_samples_leaf", (double)m->min_leaf);
    cJSON_AddBoolToObject(f, "bootstrap", m->bootstrap);
    cJSON_AddStringToObject(f, "class_weight",
                            m->class_weight == MLPRT_CLASS_WEIGHT_BALANCED ? "balanced" : "none");
  }
  if (m->kind == MLP_MODEL_SVM) {
    static const char *const kernels[] = MLPRT_SVM_KERNEL_NAMES;
    cJSON *f = cJSON_AddObjectToObject(o, "fit");
    cJSON_AddStringToObject(f, "kind", fit_names[m->fit]);
    cJSON_AddStringToObject(f, "kernel", kernels[m->svm_kernel]);
    cJSON_AddNumberToObject(f, "c", m->svm_c);
    if (m->svm_gamma > 0) cJSON_AddNumberToObject(f, "gamma", m->svm_gamma);
    else cJSON_AddStringToObject(f, "gamma", "scale");
    cJSON_AddNumberToObject(f, "coef0", m->svm_coef0);
    cJSON_AddNumberToObject(f, "degree", (double)m->svm_degree);
    if (m->task == MLP_TASK_REGRESSION) cJSON_AddNumberToObject(f, "epsilon", m->svm_epsilon);
    cJSON_AddNumberToObject(f, "max_rows", (double)m->svm_rows);
  }
  if (m->kind == MLP_MODEL_BOOST) {
    cJSON *f = cJSON_AddObjectToObject(o, "fit");
    cJSON_AddStringToObject(f, "kind", fit_names[m->fit]);
    cJSON_AddNumberToObject(f, "trees", (double)m->trees);
    cJSON_AddNumberToObject(f, "max_depth", (double)m->depth);
    cJSON_AddNumberToObject(f, "learning_rate", m->learning_rate);
    cJSON_AddNumberToObject(f, "max_bins", (double)m->max_bins);
    cJSON_AddNumberToObject(f, "l2", m->leaf_l2);
    cJSON_AddNumberToObject(f, "min_child_weight", m->min_child_weight);
    cJSON_AddNumberToObject(f, "subsample", m->subsample);
    cJSON_AddNumberToObject(f, "early_stopping", (double)m->early_stopping);
    cJSON_AddStringToObject(f, "growth", m->max_leaves ? "lossguide" : "depthwise");
    if (m->max_leaves) cJSON_AddNumberToObject(f, "max_leaves", (double)m->max_leaves);
  }
  cJSON *layers = cJSON_AddArrayToObject(o, "layers");
  for (int i = 0; i < m->nlayers; i++) cJSON_AddItemToArray(layers, layer_json(m, &m->layers[i]));
  cJSON *plan = cJSON_AddObjectToObject(o, "memory");
  cJSON_AddNumberToObject(plan, "arena_bytes", (double)m->arena_bytes);
  static const char *const roles[] = {"x", "y", "params", "grads", "m", "v", "best", "state", "best_state"};
  const int idx[] = {m->x_buf, m->y_buf,    m->params_buf, m->grads_buf,     m->m_buf,
                     m->v_buf, m->best_buf, m->state_buf,  m->best_state_buf};
  cJSON *fixed = cJSON_AddObjectToObject(plan, "roles");
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
    cJSON_AddItemToObject(fixed, roles[i], buffer_json(m, idx[i]));
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
  cJSON_AddStringToObject(opt, "kind", mlp_ir_optim_name(j->optim.kind));
  cJSON_AddNumberToObject(opt, "lr", j->optim.lr);
  cJSON_AddNumberToObject(opt, "momentum", j->optim.momentum);
  cJSON_AddNumberToObject(opt, "beta1", j->optim.beta1);
  cJSON_AddNumberToObject(opt, "beta2", j->optim.beta2);
  cJSON_AddNumberToObject(opt, "eps", j->optim.eps);
  cJSON_AddNumberToObject(opt, "rho", j->optim.rho);
  cJSON_AddBoolToObject(opt, "nesterov", j->optim.nesterov);
  cJSON_AddNumberToObject(opt, "weight_decay", j->optim.weight_decay);
  cJSON_AddNumberToObject(opt, "l1", j->optim.l1);
  cJSON_AddNumberToObject(opt, "l2", j->optim.l2);
  cJSON_AddNumberToObject(opt, "clip_norm", j->optim.clip_norm);
  cJSON_AddNumberToObject(opt, "clip_value", j->optim.clip_value);
  cJSON_AddNumberToObject(o, "epochs", (double)j->epochs);
  cJSON_AddNumberToObject(o, "seed", (double)j->seed);
  cJSON *s = cJSON_AddObjectToObject(o, "schedule");
  cJSON_AddStringToObject(s, "kind", sched_name(j->sched));
  cJSON_AddNumberToObject(s, "warmup", (double)j->warmup);
  cJSON_AddNumberToObject(s, "step", (double)j->sched_step);
  cJSON_AddNumberToObject(s, "factor", j->sched_factor);
  cJSON_AddNumberToObject(s, "min_lr", j->min_lr);
  cJSON *smoke = cJSON_AddObjectToObject(o, "smoke");
  cJSON_AddNumberToObject(smoke, "subset", j->smoke_subset);
  cJSON_AddNumberToObject(smoke, "epochs", (double)j->smoke_epochs);
  cJSON_AddBoolToObject(smoke, "stop_on_divergence", j->stop_on_divergence);
  cJSON *es = cJSON_AddObjectToObject(o, "early_stopping");
  cJSON_AddBoolToObject(es, "enabled", j->early_stop);
  cJSON_AddStringToObject(es, "monitor", j->monitor);
  cJSON_AddNumberToObject(es, "patience", (double)j->patience);
  cJSON_AddNumberToObject(o, "validate_every", (double)j->val_every);
  cJSON_AddNumberToObject(es, "min_delta", j->min_delta);
  cJSON_AddBoolToObject(es, "restore_best", j->restore_best);
  cJSON_AddNumberToObject(o, "fold", j->fold);
  cJSON_AddNumberToObject(o, "trial", j->trial);
  if (ir->eta) cJSON_AddNumberToObject(o, "rung", j->rung);
  if (j->bracket >= 0) cJSON_AddNumberToObject(o, "bracket", j->bracket);
  if (j->settings) cJSON_AddItemToObject(o, "settings", cJSON_Parse(j->settings));
  cJSON_AddNumberToObject(o, "batch", (double)ir->models[j->model].batch);
  return o;
}

/* A text op's options by their spec names. */
static cJSON *text_json(const MlpIrClean *c) {
  cJSON *o = cJSON_CreateObject();
  if (c->op == MLPRT_CLEAN_TEXT_CLEAN) {
    cJSON_AddBoolToObject(o, "lowercase", c->text & MLPRT_TEXT_LOWER);
    cJSON_AddBoolToObject(o, "strip_punctuation", c->text & MLPRT_TEXT_PUNCT);
    cJSON_AddBoolToObject(o, "strip_accents", c->text & MLPRT_TEXT_ACCENTS);
    cJSON_AddBoolToObject(o, "strip_digits", c->text & MLPRT_TEXT_DIGITS);
    cJSON_AddBoolToObject(o, "collapse_whitespace", c->text & MLPRT_TEXT_SPACE);
    cJSON_AddStringToObject(o, "stopwords", c->text & MLPRT_TEXT_STOP ? "english" : "none");
    return o;
  }
  MlprtTerms t = mlprt_terms_unpack(c->text);
  cJSON_AddStringToObject(o, "analyzer", t.analyzer == MLPRT_ANALYZER_CHAR ? "char" : "word");
  double ng[2] = {t.ngram_lo, t.ngram_hi};
  cJSON_AddItemToObject(o, "ngram", cJSON_CreateDoubleArray(ng, 2));
  if (c->op == MLPRT_CLEAN_HASH_VECTORIZE) {
    cJSON_AddNumberToObject(o, "buckets", c->param);
    return o;
  }
  if (c->op == MLPRT_CLEAN_TOKENIZE) {
    cJSON_AddNumberToObject(o, "max_len", c->param);
    cJSON_AddNumberToObject(o, "min_count", c->low);
    cJSON_AddNumberToObject(o, "max_vocab", c->high);
    return o;
  }
  cJSON_AddNumberToObject(o, "max_vocab", c->param);
  cJSON_AddNumberToObject(o, "min_df", c->low);
  cJSON_AddNumberToObject(o, "max_df", c->high);
  if (c->op == MLPRT_CLEAN_BAG_OF_WORDS) cJSON_AddBoolToObject(o, "binary", t.binary);
  if (c->op == MLPRT_CLEAN_TFIDF) {
    cJSON_AddBoolToObject(o, "sublinear_tf", t.sublinear);
    cJSON_AddStringToObject(o, "norm", t.l2 ? "l2" : "none");
  }
  return o;
}

/* A cleaning chain, a step each. */
static cJSON *clean_json(const MlpIr *ir, const MlpIrClean *steps, int n) {
  cJSON *clean = cJSON_CreateArray();
  for (int i = 0; i < n; i++) {
    const MlpIrClean *c = &steps[i];
    cJSON *cj = cJSON_CreateObject();
    cJSON_AddStringToObject(cj, "op", mlprt_clean_op_name(c->op));
    if (c->columns)
      cJSON_AddItemToObject(cj, "columns", columns_json(c->columns));
    else
      cJSON_AddStringToObject(cj, "columns", mlp_ir_select_name(c->select));
    cJSON_AddItemToObject(cj, "keep", c->keep ? columns_json(c->keep) : cJSON_CreateArray());
    static const char *const history[] = {"drop_row", "null"}; /* MlprtHistory */
    bool impute = c->op == MLPRT_CLEAN_IMPUTE;
    bool outliers = c->op == MLPRT_CLEAN_CLIP_OUTLIERS || c->op == MLPRT_CLEAN_DROP_OUTLIERS;
    bool convert = c->op == MLPRT_CLEAN_COERCE || c->op == MLPRT_CLEAN_PARSE_DATES;
    bool series = c->op == MLPRT_CLEAN_LAG || c->op == MLPRT_CLEAN_ROLLING || c->op == MLPRT_CLEAN_DIFF;
    bool align = c->op == MLPRT_CLEAN_ALIGN;
    add_str(cj, "method",
            impute     ? mlprt_method_name(MLPRT_STEP_IMPUTE, c->method)
            : outliers ? mlprt_method_name(MLPRT_STEP_OUTLIERS, c->method)
            : convert  ? mlprt_method_name(MLPRT_STEP_COERCE, c->method)
            : series   ? history[c->method & 1]
            : align    ? mlprt_method_name(MLPRT_STEP_ALIGN, c->method)
                       : NULL);
    cJSON_AddNumberToObject(cj, "param", c->param);
    cJSON_AddNumberToObject(cj, "low", c->low);
    cJSON_AddNumberToObject(cj, "high", c->high);
    cJSON_AddBoolToObject(cj, "flag", c->flag);
    if (c->op == MLPRT_CLEAN_ONEHOT) cJSON_AddItemToObject(cj, "levels", levels_json(c->levels));
    if (c->op == MLPRT_CLEAN_TEXT_CLEAN || c->op == MLPRT_CLEAN_BAG_OF_WORDS || c->op == MLPRT_CLEAN_TFIDF ||
        c->op == MLPRT_CLEAN_HASH_VECTORIZE || c->op == MLPRT_CLEAN_TOKENIZE)
      cJSON_AddItemToObject(cj, "text", text_json(c));
    cJSON_AddNumberToObject(cj, "table_columns", (double)c->ncols);
    cJSON_AddItemToObject(cj, "columns_idx", idx_json(c->columns_idx, c->ncolumns_idx));
    if (c->keep) cJSON_AddItemToObject(cj, "keep_idx", idx_json(c->keep_idx, c->nkeep_idx));
    /* the time-series and date ops' own settings, where they have them */
    if (c->by) add_str(cj, "by", c->by);
    if (c->by) cJSON_AddNumberToObject(cj, "by_index", (double)c->by_idx);
    if (c->format) add_str(cj, "format", c->format);
    if (c->nints) cJSON_AddItemToObject(cj, "ints", idx_json(c->ints, c->nints));
    if (c->op == MLPRT_CLEAN_RESAMPLE) {
      static const char *const fills[] = MLPRT_GAP_FILL_NAMES, *const aggs[] = MLPRT_AGG_NAMES;
      add_str(cj, "fill", fills[c->method & 3]);
      add_str(cj, "agg", aggs[c->offset % 6]);
    } else if (c->offset) {
      cJSON_AddNumberToObject(cj, "offset", (double)c->offset);
    }
    if (align) { /* the other source, as the data's own is shown */
      cJSON *src = cJSON_AddObjectToObject(cj, "source");
      add_str(src, "format", c->source_format);
      bool pg = c->source_format && strcmp(c->source_format, "postgres") == 0;
      cJSON_AddItemToObject(src, "path",
                            pg ? cJSON_CreateString(c->source) : paths_json(ir->spec_path, c->source));
      add_str(src, "query", c->source_query);
      char sep[2] = {c->source_delim ? c->source_delim : ',', 0};
      cJSON_AddStringToObject(src, "delimiter", sep);
      cJSON_AddBoolToObject(src, "header", !c->source_no_header);
      cJSON_AddItemToObject(src, "na_values", c->source_na ? lines_json(c->source_na) : cJSON_CreateNull());
      cJSON_AddItemToObject(src, "schema",
                            c->source_schema ? lines_json(c->source_schema) : cJSON_CreateNull());
      if (c->source_on) add_str(src, "on", c->source_on);
      if (c->source_by) add_str(src, "by", c->source_by);
    }
    cJSON_AddItemToArray(clean, cj);
  }
  return clean;
}

static cJSON *data_json(const MlpIr *ir) {
  const MlpIrData *data = &ir->data;
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "format", data->format);
  cJSON_AddItemToObject(d, "path", source_json(ir, data->path));
  cJSON_AddItemToObject(d, "labels",
                        data->path2 ? paths_json(ir->spec_path, data->path2) : cJSON_CreateNull());
  add_str(d, "query", data->query);
  cJSON *test = data->test_path ? cJSON_AddObjectToObject(d, "test_source") : NULL;
  if (!test) cJSON_AddNullToObject(d, "test_source");
  if (test) {
    cJSON_AddItemToObject(test, "path", source_json(ir, data->test_path));
    const char *labels = data->test_path2;
    cJSON_AddItemToObject(test, "labels", labels ? paths_json(ir->spec_path, labels) : cJSON_CreateNull());
    add_str(test, "query", data->test_query);
  }
  char delim[2] = {data->delimiter ? data->delimiter : ',', 0};
  cJSON_AddStringToObject(d, "delimiter", delim);
  cJSON_AddBoolToObject(d, "header", !data->no_header);
  cJSON_AddItemToObject(d, "na_values", data->na_values ? lines_json(data->na_values) : cJSON_CreateNull());
  cJSON *schema = cJSON_AddObjectToObject(d, "schema");
  for (const char *p = data->schema ? data->schema : ""; *p;) {
    size_t n = strcspn(p, "\t"), m = strcspn(p + n, "\n");
    char *name = strndup(p, n), *type = strndup(p + n + (p[n] == '\t'), m ? m - 1 : 0);
    cJSON_AddStringToObject(schema, name, type);
    free(name);
    free(type);
    p += n + m + (p[n + m] == '\n');
  }
  cJSON_AddStringToObject(d, "target", data->target);
  cJSON_AddNumberToObject(d, "features", (double)data->n_features);
  cJSON_AddNumberToObject(d, "classes", (double)data->n_classes);
  double img[2] = {(double)data->img_h, (double)data->img_w};
  cJSON_AddItemToObject(d, "image_hw", cJSON_CreateDoubleArray(img, 2));
  cJSON *split = cJSON_AddObjectToObject(d, "split");
  cJSON_AddNumberToObject(split, "validation", data->val_frac);
  cJSON_AddNumberToObject(split, "test", data->test_frac);
  cJSON_AddBoolToObject(split, "stratify", data->stratify);
  add_str(split, "group", data->split_group);
  add_str(split, "time_order", data->split_time);
  cJSON_AddNumberToObject(split, "seed", (double)data->split_seed);
  add_str(d, "cleaning_report", data->cleaning_report);
  cJSON_AddItemToObject(d, "clean", clean_json(ir, data->clean, data->nclean));
  return d;
}

static cJSON *deploy_json(const MlpIr *ir) {
  const MlpIrDeploy *dp = &ir->deploy;
  cJSON *o = cJSON_CreateObject();
  add_str(o, "version", ir->version);
  cJSON_AddBoolToObject(o, "card", !ir->no_card);
  add_str(o, "onnx", dp->onnx);
  add_str(o, "quantize", dp->quantize);
  cJSON_AddNumberToObject(o, "max_accuracy_drop", dp->max_accuracy_drop);
  add_str(o, "predictor", dp->predictor);
  add_str(o, "cpu", dp->cpu);
  cJSON_AddNumberToObject(o, "max_latency_ms", dp->max_latency_ms);
  add_str(o, "registry", dp->registry);
  cJSON_AddBoolToObject(o, "sign", dp->sign);
  cJSON_AddBoolToObject(o, "rollback", dp->rollback);
  cJSON_AddNumberToObject(o, "prune", dp->prune);
  cJSON *mon = cJSON_AddObjectToObject(o, "monitor");
  cJSON_AddBoolToObject(mon, "enabled", dp->monitor);
  cJSON_AddNumberToObject(mon, "drift_threshold", dp->drift_threshold);
  cJSON_AddNumberToObject(mon, "window", (double)dp->drift_window);
  cJSON *fs = cJSON_AddObjectToObject(o, "failsafe");
  add_str(fs, "missing_column", mlp_ir_failsafe_name(dp->on_missing_column));
  add_str(fs, "unknown_category", mlp_ir_failsafe_name(dp->on_unknown_category));
  add_str(fs, "out_of_range", mlp_ir_failsafe_name(dp->on_out_of_range));
  add_str(fs, "nan", mlp_ir_failsafe_name(dp->on_nan));
  add_str(fs, "fallback", dp->fallback);
  return o;
}

void mlp_ir_dump(const MlpIr *ir, FILE *out) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "pipeline", ir->name);
  cJSON_AddStringToObject(root, "out", ir->out_dir);
  cJSON_AddNumberToObject(root, "threads", ir->threads);
  cJSON_AddBoolToObject(root, "deterministic", ir->deterministic);
  cJSON *an = cJSON_AddObjectToObject(root, "analysis");
  add_str(an, "report", ir->report);
  cJSON_AddBoolToObject(an, "learning_curves", ir->learning_curves);
  cJSON_AddBoolToObject(an, "bias_variance", ir->bias_variance);
  add_str(an, "slices", ir->slices);
  cJSON_AddNumberToObject(an, "worst", ir->worst);
  cJSON_AddBoolToObject(an, "feature_importance", ir->feature_importance);
  add_str(an, "baseline", ir->baseline ? fit_names[ir->baseline] : NULL);
  cJSON *metrics = cJSON_AddArrayToObject(an, "metrics");
  for (int k = 0; k < MLPRT_NMETRICS; k++)
    if (ir->metrics >> k & 1) cJSON_AddItemToArray(metrics, cJSON_CreateString(mlprt_metric_name(k)));
  cJSON *mon = cJSON_AddArrayToObject(root, "epoch_monitor"); /* empty: the default */
  static const char *const mons[] = MLPRT_MON_NAMES;
  for (int k = 0; k < MLPRT_NMONS; k++)
    if (ir->epoch_monitor >> k & 1) cJSON_AddItemToArray(mon, cJSON_CreateString(mons[k]));
  cJSON *env = cJSON_AddObjectToObject(root, "environment");
  cJSON_AddNumberToObject(env, "blas_threads", ir->blas_threads);
  cJSON_AddBoolToObject(env, "monitor", ir->monitor);
  cJSON_AddNumberToObject(env, "checkpoint_every", ir->checkpoint_every);
  static const char *const logs[] = MLPRT_LOG_NAMES;
  cJSON_AddStringToObject(env, "log", logs[ir->log_level]);
  cJSON_AddStringToObject(env, "distributed", ir->mpi ? "mpi" : "none");
  cJSON_AddNumberToObject(env, "shards", ir->shards);
  static const char *const ooc[] = {"auto", "on", "off"}; /* by MLPRT_OOC_* */
  cJSON_AddStringToObject(env, "out_of_core", ooc[ir->out_of_core]);
  cJSON_AddNumberToObject(env, "memory_mb", (double)ir->memory_mb);
  cJSON *pre = cJSON_AddObjectToObject(root, "pretrained");
  add_str(pre, "run", ir->pretrained);
  add_str(pre, "weights_sha256", ir->pretrained_sha256);
  cJSON_AddItemToObject(root, "data", data_json(ir));
  cJSON *models = cJSON_AddArrayToObject(root, "models");
  for (int i = 0; i < ir->nmodels; i++) {
    const MlpIrModel *m = &ir->models[i];
    cJSON *mj = model_json(m);
    if (m->clean) cJSON_AddItemToObject(mj, "clean", clean_json(ir, m->clean, m->nclean));
    cJSON_AddItemToArray(models, mj);
  }
  add_str(root, "objective", ir->objective);
  cJSON_AddNumberToObject(root, "folds", ir->nfolds);
  if (ir->fold_repeats > 1) cJSON_AddNumberToObject(root, "fold_repeats", ir->fold_repeats);
  if (ir->eta) cJSON_AddNumberToObject(root, "eta", ir->eta);
  cJSON_AddBoolToObject(root, "cross_validate", ir->cross_validate);
  if (ir->refit) cJSON_AddBoolToObject(root, "refit", true);
  if (ir->tpe) {
    cJSON *t = cJSON_AddObjectToObject(root, "tpe");
    cJSON_AddStringToObject(t, "spaces", ir->tpe);
    cJSON_AddNumberToObject(t, "startup", ir->tpe_startup);
    cJSON_AddNumberToObject(t, "seed", (double)ir->tpe_seed);
    if (ir->tpe_labels) {
      cJSON_AddStringToObject(t, "labels", ir->tpe_labels);
      cJSON *chosen = cJSON_AddArrayToObject(t, "models");
      for (int i = 0; i < ir->ntpe_models; i++)
        cJSON_AddItemToArray(chosen, cJSON_CreateString(ir->models[ir->tpe_models[i]].name));
    }
  }
  cJSON *jobs = cJSON_AddArrayToObject(root, "jobs");
  for (int i = 0; i < ir->njobs; i++) cJSON_AddItemToArray(jobs, job_json(ir, &ir->jobs[i]));
  cJSON_AddItemToObject(root, "deploy", deploy_json(ir));
  char *text = cJSON_Print(root);
  fputs(text, out);
  fputc('\n', out);
  free(text);
  cJSON_Delete(root);
}
