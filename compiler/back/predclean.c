/* predclean.c — the predictor's row cleaning as straight-line code (see
 * predclean.h). Consumes the row feature program (MlprtPredPlan); produces
 * an LLVM function over the row's float slots: each step's float
 * arithmetic with its fitted numbers folded in as constants, consecutive
 * steps of one op over consecutive slots as one loop over arrays of
 * constants (a splatted constant when they agree), which LLVM vectorizes,
 * then the features read off their slots. Every operation is the one
 * runtime/predict/row.c interprets, in the same order and without
 * fast-math flags, so the features are the interpreter's bit for bit. */
#include "predclean.h"

#include <stdlib.h>

#include "mlp/clean.h"

/* A step the generated code performs: float arithmetic on float slots. */
static bool compiled_op(const MlprtPredStep *st) {
  bool numeric = st->n != MLPRT_COL_CATEGORY && st->n != MLPRT_COL_TEXT && st->n != MLPRT_COL_DATETIME;
  switch (st->op) {
  case MLPRT_PSTEP_FILL: return numeric && st->src == st->dst;
  case MLPRT_PSTEP_INDICATOR: return numeric;
  case MLPRT_PSTEP_CLIP: return st->src == st->dst;
  case MLPRT_PSTEP_SCALE:
  case MLPRT_PSTEP_LOG1P:
  case MLPRT_PSTEP_DIV: return true;
  default: return false;
  }
}

/* The step's two constants as the interpreter makes them floats. */
static void step_consts(const MlprtPredStep *st, double *k0, double *k1) {
  *k0 = (float)st->a;
  *k1 = st->op == MLPRT_PSTEP_SCALE ? (float)(1.0 / st->b) : (float)st->b;
}

/* Steps i .. i + m - 1: one op on consecutive sources and destinations. */
static int64_t run_length(const MlprtPredPlan *pl, int64_t i) {
  const MlprtPredStep *s0 = &pl->steps[i];
  int64_t m = 1;
  while (i + m < pl->nsteps) {
    const MlprtPredStep *st = &pl->steps[i + m];
    if (st->op != s0->op || st->src != s0->src + m || st->dst != s0->dst + m) break;
    m++;
  }
  return m;
}

/* Constant k (0 or 1) of steps i .. i + m - 1 at index j: a float constant
 * when they all agree, else a load from a constant array of them. */
static LLVMValueRef run_const(Cg *c, const MlprtPredStep *steps, int64_t m, int k, LLVMValueRef j) {
  double first, v0, v1;
  step_consts(&steps[0], &v0, &v1);
  first = k ? v1 : v0;
  bool same = true;
  for (int64_t t = 1; t < m && same; t++) {
    step_consts(&steps[t], &v0, &v1);
    same = (k ? v1 : v0) == first || (isnan(first) && isnan(k ? v1 : v0));
  }
  if (same) return cf32(c, first);
  LLVMValueRef *e = malloc((size_t)m * sizeof *e);
  for (int64_t t = 0; t < m; t++) {
    step_consts(&steps[t], &v0, &v1);
    e[t] = cf32(c, k ? v1 : v0);
  }
  LLVMValueRef g = const_global(c, "mlp_clean_k", LLVMConstArray2(c->f32, e, (uint64_t)m));
  free(e);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return fload(c, g, j);
}

/* One step's arithmetic on slot value v (num[src]); returns the value for
 * num[dst]. */
static LLVMValueRef step_value(Cg *c, int64_t op, LLVMValueRef v, LLVMValueRef k0, LLVMValueRef k1) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef nan = LLVMBuildFCmp(b, LLVMRealUNO, v, v, "");
  switch (op) {
  case MLPRT_PSTEP_FILL: return LLVMBuildSelect(b, nan, k0, v, "");
  case MLPRT_PSTEP_INDICATOR: return LLVMBuildSelect(b, nan, cf32(c, 1), cf32(c, 0), "");
  case MLPRT_PSTEP_CLIP: { /* below lo: lo; else above hi: hi; NaN stays */
    LLVMValueRef hi = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, v, k1, ""), k1, v, "");
    return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, v, k0, ""), k0, hi, "");
  }
  case MLPRT_PSTEP_SCALE: return LLVMBuildFMul(b, LLVMBuildFSub(b, v, k0, ""), k1, "");
  case MLPRT_PSTEP_LOG1P: {
    LLVMValueRef l = call(c, "log1pf", c->f32, &c->f32, 1, &v);
    LLVMValueRef low = LLVMBuildFCmp(b, LLVMRealOLE, v, cf32(c, -1), "");
    return LLVMBuildSelect(b, low, cf32(c, NAN), l, "");
  }
  default: return LLVMBuildFDiv(b, v, k0, ""); /* DIV */
  }
}

/* num[dst + j] = the step of steps[j] on num[src + j], for j < m. */
static void emit_run(Cg *c, LLVMValueRef num, const MlprtPredStep *steps, int64_t m) {
  LLVMValueRef src = ci64(c, steps[0].src), dst = ci64(c, steps[0].dst);
  if (m == 1) {
    double k0, k1;
    step_consts(&steps[0], &k0, &k1);
    LLVMValueRef v = step_value(c, steps[0].op, fload(c, num, src), cf32(c, k0), cf32(c, k1));
    fstore(c, v, num, dst);
    return;
  }
  Loop l = loop_begin(c, ci64(c, m));
  LLVMValueRef k0 = run_const(c, steps, m, 0, l.iv), k1 = run_const(c, steps, m, 1, l.iv);
  LLVMValueRef v = fload(c, num, LLVMBuildNSWAdd(c->b, src, l.iv, ""));
  fstore(c, step_value(c, steps[0].op, v, k0, k1), num, LLVMBuildNSWAdd(c->b, dst, l.iv, ""));
  loop_end(c, &l);
}

/* x[f + j] = num[slot + j], 0 for a missing (NaN) one, for j < m. */
static void emit_features(Cg *c, LLVMValueRef num, LLVMValueRef x, int64_t f, int64_t slot, int64_t m) {
  Loop l = loop_begin(c, ci64(c, m));
  LLVMValueRef v = fload(c, num, LLVMBuildNSWAdd(c->b, ci64(c, slot), l.iv, ""));
  LLVMValueRef nan = LLVMBuildFCmp(c->b, LLVMRealUNO, v, v, "");
  fstore(c, LLVMBuildSelect(c->b, nan, cf32(c, 0), v, ""), x, LLVMBuildNSWAdd(c->b, ci64(c, f), l.iv, ""));
  loop_end(c, &l);
}

LLVMValueRef mlp_predclean_emit(Cg *c, const MlprtPredPlan *pl) {
  for (int64_t i = 0; i < pl->nsteps; i++)
    if (!compiled_op(&pl->steps[i])) return LLVMConstNull(c->ptr);
  LLVMTypeRef ps[] = {c->ptr, c->ptr};
  LLVMValueRef fn = LLVMAddFunction(c->mod, "mlp_pred_clean", LLVMFunctionType(c->voidt, ps, 2, 0));
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  LLVMValueRef saved = c->fn;
  c->fn = fn;
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
  LLVMValueRef num = LLVMGetParam(fn, 0), x = LLVMGetParam(fn, 1);
  for (int64_t i = 0, m; i < pl->nsteps; i += m) {
    m = run_length(pl, i);
    emit_run(c, num, &pl->steps[i], m);
  }
  for (int64_t f = 0, m; f < pl->nfeatures; f += m) {
    for (m = 1; f + m < pl->nfeatures && pl->feature_slot[f + m] == pl->feature_slot[f] + m;) m++;
    emit_features(c, num, x, f, pl->feature_slot[f], m);
  }
  LLVMBuildRetVoid(c->b);
  c->fn = saved;
  return fn;
}
