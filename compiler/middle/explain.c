/* explain.c — `mlpc explain FILE`: the compiled plan in words. Consumes an
 * MlpIr; produces a table of layers with their batch shapes, parameters and
 * FLOPs, the static memory plan and the resolved training settings. */
#include <string.h>

#include "ir.h"
#include "mlp/layers.h"
#include "mlp/run.h"

static const char *human_bytes(int64_t b, char *buf, size_t n) {
  if (b >= 1 << 20)
    snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
  else if (b >= 1 << 10)
    snprintf(buf, n, "%.1f KiB", (double)b / (1 << 10));
  else
    snprintf(buf, n, "%lld B", (long long)b);
  return buf;
}

static void explain_model(const MlpIrModel *m, FILE *out) {
  fprintf(out, "\nmodel %s: %s, batch %lld, %lld -> %lld\n", m->name, mlp_ir_task_name(m->task),
          (long long)m->batch, (long long)m->in_size, (long long)m->out_size);
  if (m->sparse_in)
    fprintf(out, "  input: sparse rows (a vectorizer's features), the first dense layer over their "
                 "nonzeros\n");
  fprintf(out, "  %-3s %-10s %-10s %-18s %10s %12s\n", "#", "layer", "activation", "output shape", "params",
          "FLOPs/sample");
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    char shape[48];
    if (l->out_h > 1 || l->out_w > 1)
      snprintf(shape, sizeof shape, "(%lld, %lld, %lld, %lld)", (long long)m->batch, (long long)l->out_c,
               (long long)l->out_h, (long long)l->out_w);
    else
      snprintf(shape, sizeof shape, "(%lld, %lld)", (long long)m->batch, (long long)l->out_size);
    bool has_act = l->op == MLP_OP_DENSE || l->op == MLP_OP_CONV2D;
    fprintf(out, "  %-3d %-10s %-10s %-18s %10lld %12lld\n", i, mlp_ir_layer_name(l),
            has_act ? mlp_ir_act_name(l->act) : "-", shape, (long long)l->n_params, (long long)l->flops);
  }
  char buf[32];
  fprintf(out, "  total: %lld parameters (%s), %lld FLOPs per sample forward\n", (long long)m->n_params,
          human_bytes(m->n_params * 4, buf, sizeof buf), (long long)m->flops);
  int64_t sum = 0;
  for (int i = 0; i < m->nbufs; i++) sum += m->bufs[i].bytes;
  char b2[32];
  fprintf(out, "  memory: one arena of %s for %d buffers (%s if none shared)\n",
          human_bytes(m->arena_bytes, buf, sizeof buf), m->nbufs, human_bytes(sum, b2, sizeof b2));
  for (int i = 0; i < m->nbufs; i++) {
    const MlpIrBuffer *b = &m->bufs[i];
    fprintf(out, "    %-12s @%-9lld %10s  live %d..%d\n", b->name, (long long)b->offset,
            human_bytes(b->bytes, buf, sizeof buf), b->first, b->last);
  }
}

void mlp_explain(const MlpIr *ir, FILE *out) {
  const MlpIrData *d = &ir->data;
  fprintf(out, "pipeline %s\n", ir->name);
  fprintf(out, "\ndata: %s %s, target '%s'\n", d->format, d->path, d->target);
  fprintf(out, "  %lld features after preparation", (long long)d->n_features);
  if (d->n_classes) fprintf(out, ", %lld classes", (long long)d->n_classes);
  fprintf(out, "\n  split: validation %.2f, test %.2f%s, seed %llu\n", d->val_frac, d->test_frac,
          d->stratify ? ", stratified" : "", (unsigned long long)d->split_seed);
  explain_model(&ir->models[0], out);
  /* Models for other batch sizes (tuning) share the layers; only their
   * shapes and arenas differ. */
  for (int i = 1; i < ir->nmodels; i++) {
    char buf[32];
    fprintf(out, "model %s: the same layers at batch %lld, one arena of %s\n", ir->models[i].name,
            (long long)ir->models[i].batch, human_bytes(ir->models[i].arena_bytes, buf, sizeof buf));
  }
  static const char *const sched[] = {"constant", "cosine", "step", "plateau"};
  const MlpIrJob *j = &ir->jobs[0];
  const MlpIrModel *m0 = &ir->models[j->model];
  static const char *const fits[] = MLPRT_FIT_NAMES;
  if (m0->kind == MLP_MODEL_LINEAR) {
    fprintf(out, "\nfit: %s at once on the training rows", fits[m0->fit]);
    if (m0->fit >= MLPRT_FIT_LINEAR)
      fprintf(out, " (l1 %g, l2 %g%s, up to %lld iterations)", j->optim.l1, j->optim.l2,
              m0->l2_per_row ? " / rows" : "", (long long)m0->iterations);
    fputc('\n', out);
  } else if (m0->kind == MLP_MODEL_FOREST) {
    fprintf(out,
            "\nfit: a random forest of %lld trees at once on the training rows (depth up to %lld, %lld "
            "features tried per split, at least %lld rows per leaf%s%s, seed %llu)\n",
            (long long)m0->trees, (long long)m0->depth, (long long)m0->max_features, (long long)m0->min_leaf,
            m0->bootstrap ? ", bootstrap samples" : "",
            m0->class_weight == MLPRT_CLASS_WEIGHT_BALANCED ? ", balanced class weights" : "",
            (unsigned long long)j->seed);
  } else if (m0->kind == MLP_MODEL_SVM) {
    static const char *const kernels[] = MLPRT_SVM_KERNEL_NAMES;
    fprintf(out, "\nfit: a support vector machine at once on the training rows (kernel %s, C %g, gamma ",
            kernels[m0->svm_kernel], m0->svm_c);
    if (m0->svm_gamma > 0) fprintf(out, "%g", m0->svm_gamma);
    else fputs("1 / (features * variance)", out);
    if (m0->svm_kernel == MLPRT_SVM_POLY)
      fprintf(out, ", degree %lld, coef0 %g", (long long)m0->svm_degree, m0->svm_coef0);
    if (m0->task == MLP_TASK_REGRESSION)
      fprintf(out, ", epsilon-SVR with epsilon %g, up to %lld training rows)\n", m0->svm_epsilon,
              (long long)m0->svm_rows);
    else fprintf(out, ", one class against one, up to %lld training rows)\n", (long long)m0->svm_rows);
  } else if (m0->kind == MLP_MODEL_BOOST) {
    fprintf(out,
            "\nfit: gradient boosting of %lld rounds at once on the training rows (depth up to %lld, "
            "learning rate %g, %lld bins per feature, l2 %g, min child weight %g, subsample %g",
            (long long)m0->trees, (long long)m0->depth, m0->learning_rate, (long long)m0->max_bins,
            m0->leaf_l2, m0->min_child_weight, m0->subsample);
    if (m0->max_leaves)
      fprintf(out, ", grown leaf-wise to at most %lld leaves", (long long)m0->max_leaves);
    if (m0->early_stopping)
      fprintf(out, ", early stopping after %lld rounds without a better validation loss",
              (long long)m0->early_stopping);
    fprintf(out, ", seed %llu)\n", (unsigned long long)j->seed);
  } else {
    fprintf(out, "\ntraining: %s with %s(lr %g", ir->models[j->model].name, mlp_ir_optim_name(j->optim.kind),
            j->optim.lr);
    if (j->optim.weight_decay > 0) fprintf(out, ", weight decay %g", j->optim.weight_decay);
    fprintf(out, "), up to %lld epochs, %s schedule, seed %llu\n", (long long)j->epochs, sched[j->sched],
            (unsigned long long)j->seed);
    if (j->smoke_subset > 0)
      fprintf(out, "  smoke run: %.0f%% of the training rows for %lld epochs\n", 100 * j->smoke_subset,
              (long long)j->smoke_epochs);
    if (j->early_stop)
      fprintf(out, "  early stopping on %s, patience %lld%s\n", j->monitor, (long long)j->patience,
              j->restore_best ? ", best weights restored" : "");
  }
  if (ir->baseline)
    fprintf(out, "baseline: %s, fitted on the same rows; the report gives the model's margin over it\n",
            fits[ir->baseline]);
  /* Tuning trials: one line each (their folds share the line; with successive halving or hyperband a
   * line per rung). */
  if (ir->njobs > 1) {
    int per = ir->nfolds ? ir->nfolds : 1, trials = (ir->njobs - 1) / per;
    if (ir->eta) trials = ir->jobs[ir->njobs - 1].trial + 1;
    const char *what = ir->cross_validate ? "cross-validation (data.folds)" : "tuning (with --tune)";
    fprintf(out, "\n%s: %d trial%s", what, trials, trials == 1 ? "" : "s");
    if (ir->nfolds && ir->fold_repeats > 1)
      fprintf(out, " x %d folds (%d repeats of %d)", ir->nfolds, ir->fold_repeats,
              ir->nfolds / ir->fold_repeats);
    else if (ir->nfolds)
      fprintf(out, " x %d folds", ir->nfolds);
    fprintf(out, ", ranked by %s%s\n", ir->objective,
            ir->refit ? "; the winner refitted on the training and validation rows" : "");
    for (int k = 1; k < ir->njobs; k += per) {
      const MlpIrJob *tj = &ir->jobs[k];
      int t = tj->trial;
      if (ir->tpe && t >= ir->tpe_startup) {
        fprintf(out, "  trial %d: chosen by tpe as the program runs, from the trials before it\n", t);
        continue;
      }
      char at[64] = "";
      if (tj->bracket >= 0) snprintf(at, sizeof at, " (bracket %d, rung %d)", tj->bracket, tj->rung);
      else if (tj->rung >= 0) snprintf(at, sizeof at, " (rung %d)", tj->rung);
      const MlpIrModel *tm = &ir->models[tj->model];
      if (tm->fit != MLPRT_FIT_NETWORK)
        fprintf(out, "  trial %d%s: %s, %s fitted at once\n", t, at, tj->settings, fits[tm->fit]);
      else
        fprintf(out, "  trial %d%s: %s%slr %g, batch %lld, epochs %lld\n", t, at,
                tj->settings ? tj->settings : "", tj->settings ? ", " : "", tj->optim.lr,
                (long long)tm->batch, (long long)tj->epochs);
    }
  }
  fprintf(out, "\nrun directory: %s (threads: %d)\n", ir->out_dir, ir->threads);
  /* Say what the program will not do, rather than let silence imply it. */
  if (ir->pretrained) fprintf(out, "weights start from the run %s\n", ir->pretrained);
  fprintf(out, "report: %s (metrics of the %s split, learning curves)\n", ir->report,
          ir->data.test_frac > 0 ? "test" : "validation");
  fprintf(out, "deploy: built by `mlpc export` and `mlpc deploy` from the run directory\n");
}
