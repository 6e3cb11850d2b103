/* cgutil.h — the small LLVM-C builders the code generators share.
 *
 * codegen.c (training programs) and predgen.c (predictors) both build
 * functions of counted loops over float buffers and call the runtime's
 * kernels; these helpers hold the context of one module being built
 * (types, the builder, the function under construction) and the idioms:
 * constants, strings, calls by name, loops, stack slots, the activations
 * and a dense layer's bias + activation epilogue. Static inline: each
 * generator compiles its own copy of what it uses. */
#ifndef MLP_CGUTIL_H
#define MLP_CGUTIL_H

#include <llvm-c/Core.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "abi.h"
#include "ir.h"
#include "mlp/layers.h"
#include "mlp/tensor.h"

typedef struct {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef ptr, i8, i32, i64, f32, f64, voidt;
  LLVMValueRef fn;   /* the function being built */
  LLVMValueRef base; /* its arena base argument */
} Cg;

/* A context for a new module named name, with the types the generators use. */
static inline Cg cg_open(LLVMContextRef ctx, const char *name) {
  Cg c = {.ctx = ctx};
  c.mod = LLVMModuleCreateWithNameInContext(name, ctx);
  c.b = LLVMCreateBuilderInContext(ctx);
  c.ptr = LLVMPointerTypeInContext(ctx, 0);
  c.i8 = LLVMInt8TypeInContext(ctx);
  c.i32 = LLVMInt32TypeInContext(ctx);
  c.i64 = LLVMInt64TypeInContext(ctx);
  c.f32 = LLVMFloatTypeInContext(ctx);
  c.f64 = LLVMDoubleTypeInContext(ctx);
  c.voidt = LLVMVoidTypeInContext(ctx);
  return c;
}

/* ---- small builders ---------------------------------------------------- */

static inline LLVMValueRef ci64(Cg *c, int64_t v) {
  return LLVMConstInt(c->i64, (unsigned long long)v, 1);
}

static inline LLVMValueRef cf32(Cg *c, double v) {
  return LLVMConstReal(c->f32, v);
}

static inline LLVMValueRef cf64(Cg *c, double v) {
  return LLVMConstReal(c->f64, v);
}

/* A private constant NUL-terminated string; NULL gives a null pointer. */
static inline LLVMValueRef cstr(Cg *c, const char *s) {
  if (!s) return LLVMConstNull(c->ptr);
  LLVMValueRef init = LLVMConstStringInContext(c->ctx, s, (unsigned)strlen(s), 0);
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), ".str");
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return g;
}

static inline LLVMValueRef const_struct(Cg *c, LLVMValueRef *v, unsigned n) {
  return LLVMConstStructInContext(c->ctx, v, n, 0);
}

static inline LLVMValueRef const_global(Cg *c, const char *name, LLVMValueRef init) {
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMInternalLinkage);
  return g;
}

/* The function name, declared on first use with the given type. */
static inline LLVMValueRef extern_fn(Cg *c, const char *name, LLVMTypeRef ty) {
  LLVMValueRef f = LLVMGetNamedFunction(c->mod, name);
  return f ? f : LLVMAddFunction(c->mod, name, ty);
}

static inline LLVMValueRef call(Cg *c, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, unsigned np,
                                LLVMValueRef *args) {
  LLVMTypeRef ty = LLVMFunctionType(ret, params, np, 0);
  return LLVMBuildCall2(c->b, ty, extern_fn(c, name, ty), args, np, "");
}

/* A call of a runtime function of include/mlp/abi.def, declared on first
 * use with the table's type; n must be its parameter count. */
static inline LLVMValueRef abi_call(Cg *c, MlpAbiFn f, LLVMValueRef *args, unsigned n) {
  if (n != mlp_abi_nparams(f)) {
    fprintf(stderr, "mlpc: internal error: %s called with %u arguments, abi.def lists %u\n", mlp_abi_name(f),
            n, mlp_abi_nparams(f));
    abort();
  }
  LLVMTypeRef ty = mlp_abi_type(c->ctx, f);
  return LLVMBuildCall2(c->b, ty, extern_fn(c, mlp_abi_name(f), ty), args, n, "");
}

/* An overloaded LLVM intrinsic on one type (llvm.exp.f32, llvm.pow.f64...). */
static inline LLVMValueRef intrinsic(Cg *c, const char *name, LLVMTypeRef t, LLVMValueRef *args, unsigned n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(c->mod, id, &t, 1);
  LLVMTypeRef ty = LLVMIntrinsicGetType(c->ctx, id, &t, 1);
  return LLVMBuildCall2(c->b, ty, f, args, n, "");
}

static inline LLVMValueRef felem(Cg *c, LLVMValueRef p, LLVMValueRef i) {
  return LLVMBuildInBoundsGEP2(c->b, c->f32, p, &i, 1, "");
}

static inline LLVMValueRef fload(Cg *c, LLVMValueRef p, LLVMValueRef i) {
  return LLVMBuildLoad2(c->b, c->f32, felem(c, p, i), "");
}

static inline void fstore(Cg *c, LLVMValueRef v, LLVMValueRef p, LLVMValueRef i) {
  LLVMBuildStore(c->b, v, felem(c, p, i));
}

/* Arithmetic tagged for contraction only: a*b+c may become one FMA, but
 * no reassociation, so elementwise results match a plain C build up to
 * FMA rounding. */
static inline LLVMValueRef fm(Cg *c, LLVMValueRef v) {
  LLVMSetFastMathFlags(v, LLVMFastMathAllowContract);
  return v;
}
static inline LLVMValueRef xadd(Cg *c, LLVMValueRef a, LLVMValueRef b) {
  return fm(c, LLVMBuildFAdd(c->b, a, b, ""));
}
static inline LLVMValueRef xsub(Cg *c, LLVMValueRef a, LLVMValueRef b) {
  return fm(c, LLVMBuildFSub(c->b, a, b, ""));
}
static inline LLVMValueRef xmul(Cg *c, LLVMValueRef a, LLVMValueRef b) {
  return fm(c, LLVMBuildFMul(c->b, a, b, ""));
}
static inline LLVMValueRef xdiv(Cg *c, LLVMValueRef a, LLVMValueRef b) {
  return fm(c, LLVMBuildFDiv(c->b, a, b, ""));
}

static inline void memzero(Cg *c, LLVMValueRef p, LLVMValueRef bytes) {
  LLVMBuildMemSet(c->b, p, LLVMConstInt(c->i8, 0, 0), bytes, MLPRT_ALIGN);
}

/* ---- counted loops ----------------------------------------------------- */

typedef struct {
  LLVMBasicBlockRef head, exit;
  LLVMValueRef iv;
} Loop;

/* for (iv = 0; iv < n; iv++): the body is built between begin and end. */
static inline Loop loop_begin(Cg *c, LLVMValueRef n) {
  Loop l;
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  l.head = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "loop");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "body");
  l.exit = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "done");
  LLVMBuildBr(c->b, l.head);
  LLVMPositionBuilderAtEnd(c->b, l.head);
  l.iv = LLVMBuildPhi(c->b, c->i64, "i");
  LLVMValueRef zero = ci64(c, 0);
  LLVMAddIncoming(l.iv, &zero, &pre, 1);
  LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, l.iv, n, ""), body, l.exit);
  LLVMPositionBuilderAtEnd(c->b, body);
  return l;
}

static inline void loop_end(Cg *c, Loop *l) {
  LLVMValueRef next = LLVMBuildNSWAdd(c->b, l->iv, ci64(c, 1), "");
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(l->iv, &next, &latch, 1);
  LLVMBuildBr(c->b, l->head);
  LLVMPositionBuilderAtEnd(c->b, l->exit);
}

/* A stack slot in the entry block (mem2reg turns it into registers). */
static inline LLVMValueRef slot(Cg *c, LLVMTypeRef t, LLVMValueRef init) {
  LLVMBasicBlockRef cur = LLVMGetInsertBlock(c->b);
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(c->fn);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first)
    LLVMPositionBuilderBefore(c->b, first);
  else
    LLVMPositionBuilderAtEnd(c->b, entry);
  LLVMValueRef s = LLVMBuildAlloca(c->b, t, "");
  LLVMPositionBuilderAtEnd(c->b, cur);
  LLVMBuildStore(c->b, init, s);
  return s;
}

static inline LLVMValueRef begin_fn(Cg *c, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                                    unsigned np) {
  /* External linkage: a host that embeds the object, or a test, can call
   * a model's functions by name. */
  c->fn = LLVMAddFunction(c->mod, name, LLVMFunctionType(ret, params, np, 0));
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry"));
  c->base = LLVMGetParam(c->fn, 0);
  return c->fn;
}

/* act(z) for the elementwise activations. */
static inline LLVMValueRef act_value(Cg *c, LLVMValueRef z, MlpAct act) {
  if (act == MLP_ACT_RELU) {
    LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, z, cf32(c, 0), "");
    return LLVMBuildSelect(c->b, pos, z, cf32(c, 0), "");
  }
  if (act == MLP_ACT_SIGMOID) {
    LLVMValueRef nz = LLVMBuildFNeg(c->b, z, "");
    LLVMValueRef e = intrinsic(c, "llvm.exp", c->f32, &nz, 1);
    return xdiv(c, cf32(c, 1), xadd(c, cf32(c, 1), e));
  }
  if (act == MLP_ACT_TANH) return call(c, "tanhf", c->f32, &c->f32, 1, &z);
  if (act == MLP_ACT_LEAKY_RELU) {
    LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, z, cf32(c, 0), "");
    return LLVMBuildSelect(c->b, pos, z, xmul(c, z, cf32(c, 0.01)), "");
  }
  if (act == MLP_ACT_GELU) { /* as mlprt_gelu_forward: 0.5 x (1 + erf(x / sqrt 2)) */
    LLVMValueRef s = xmul(c, z, cf32(c, M_SQRT1_2));
    LLVMValueRef e = call(c, "erff", c->f32, &c->f32, 1, &s);
    return xmul(c, xmul(c, cf32(c, 0.5), z), xadd(c, cf32(c, 1), e));
  }
  return z;
}

/* out = act(out), in place over count elements (conv outputs, whose bias
 * the convolution kernel already added). */
static inline void emit_act(Cg *c, LLVMValueRef out, LLVMValueRef count, MlpAct act) {
  if (act == MLP_ACT_LINEAR) return;
  Loop i = loop_begin(c, count);
  fstore(c, act_value(c, fload(c, out, i.iv), act), out, i.iv);
  loop_end(c, &i);
}

/* out = act(out + bias) over rows x cols, the epilogue of a dense layer:
 * one pass, inner trip count the constant layer width. bias may be NULL
 * (a layer without one). */
static inline void emit_bias_act(Cg *c, LLVMValueRef out, LLVMValueRef bias, LLVMValueRef rows, int64_t cols,
                                 MlpAct act) {
  Loop r = loop_begin(c, rows);
  LLVMValueRef row = felem(c, out, LLVMBuildNSWMul(c->b, r.iv, ci64(c, cols), ""));
  if (act == MLP_ACT_SOFTMAX) {
    /* Max-subtracted, so exp never overflows. */
    LLVMValueRef mx = slot(c, c->f32, cf32(c, -INFINITY));
    Loop j = loop_begin(c, ci64(c, cols));
    LLVMValueRef z = fload(c, row, j.iv);
    if (bias) z = xadd(c, z, fload(c, bias, j.iv));
    fstore(c, z, row, j.iv);
    LLVMValueRef cur = LLVMBuildLoad2(c->b, c->f32, mx, "");
    LLVMValueRef gt = LLVMBuildFCmp(c->b, LLVMRealOGT, z, cur, "");
    LLVMBuildStore(c->b, LLVMBuildSelect(c->b, gt, z, cur, ""), mx);
    loop_end(c, &j);
    LLVMValueRef m = LLVMBuildLoad2(c->b, c->f32, mx, "");
    LLVMValueRef sum = slot(c, c->f32, cf32(c, 0));
    j = loop_begin(c, ci64(c, cols));
    LLVMValueRef d = xsub(c, fload(c, row, j.iv), m);
    LLVMValueRef e = intrinsic(c, "llvm.exp", c->f32, &d, 1);
    fstore(c, e, row, j.iv);
    LLVMBuildStore(c->b, xadd(c, LLVMBuildLoad2(c->b, c->f32, sum, ""), e), sum);
    loop_end(c, &j);
    LLVMValueRef inv = xdiv(c, cf32(c, 1), LLVMBuildLoad2(c->b, c->f32, sum, ""));
    j = loop_begin(c, ci64(c, cols));
    fstore(c, xmul(c, fload(c, row, j.iv), inv), row, j.iv);
    loop_end(c, &j);
  } else {
    Loop j = loop_begin(c, ci64(c, cols));
    LLVMValueRef z = fload(c, row, j.iv);
    if (bias) z = xadd(c, z, fload(c, bias, j.iv));
    fstore(c, act_value(c, z, act), row, j.iv);
    loop_end(c, &j);
  }
  loop_end(c, &r);
}

static inline LLVMValueRef ci32(Cg *c, int64_t v) {
  return LLVMConstInt(c->i32, (unsigned long long)v, 1);
}

/* A pooling kernel of layers.h: its leading pointers, then N, C, H, W, the
 * window (square) and the stride. */
static inline void call_pool(Cg *c, MlpAbiFn fn, const MlpIrLayer *l, LLVMValueRef n32, LLVMValueRef *ptrs,
                             unsigned np) {
  const int64_t dims[] = {l->in_c, l->in_h, l->in_w, l->kernel, l->kernel, l->stride};
  LLVMValueRef v[10];
  for (unsigned i = 0; i < np; i++) v[i] = ptrs[i];
  v[np] = n32;
  for (unsigned i = 0; i < 6; i++) v[np + 1 + i] = ci32(c, dims[i]);
  abi_call(c, fn, v, np + 7);
}

/* A convolution kernel of layers.h (forward or backward): its np buffers,
 * then N, C, H, W, the filters, the window (square), stride and padding. */
static inline void call_conv(Cg *c, MlpAbiFn fn, const MlpIrLayer *l, LLVMValueRef n32, LLVMValueRef *ptrs,
                             unsigned np) {
  const int64_t dims[] = {l->in_c, l->in_h, l->in_w, l->out_c, l->kernel, l->kernel, l->stride, l->pad};
  LLVMValueRef v[16];
  for (unsigned i = 0; i < np; i++) v[i] = ptrs[i];
  v[np] = n32;
  for (unsigned i = 0; i < 8; i++) v[np + 1 + i] = ci32(c, dims[i]);
  abi_call(c, fn, v, np + 9);
}

/* A recurrent kernel of layers.h (forward or backward) for direction dir
 * of l (1: the reverse one): its np buffers, then the cell, N, the steps,
 * features, units and the flags. */
static inline void call_recurrent(Cg *c, MlpAbiFn fn, const MlpIrLayer *l, int dir, LLVMValueRef n32,
                                  LLVMValueRef *ptrs, unsigned np) {
  LLVMValueRef v[24];
  for (unsigned i = 0; i < np; i++) v[i] = ptrs[i];
  v[np] = ci32(c, l->cell);
  v[np + 1] = n32;
  int flags = (l->return_sequences ? MLPRT_RNN_SEQUENCES : 0) | (l->bidirectional ? MLPRT_RNN_PAIR : 0) |
              (dir ? MLPRT_RNN_REVERSE : 0);
  const int64_t dims[] = {l->steps, l->features, l->units, flags};
  for (unsigned i = 0; i < 4; i++) v[np + 2 + i] = ci32(c, dims[i]);
  abi_call(c, fn, v, np + 6);
}

/* W_ih, W_hh, b_ih and b_hh of direction dir of recurrent layer l into
 * out[4], from its weights at w (parameters or their gradients, the
 * layer's first float). */
static inline void recurrent_slices(Cg *c, const MlpIrLayer *l, int dir, LLVMValueRef w, LLVMValueRef *out) {
  int64_t gu = mlprt_recurrent_gates(l->cell) * l->units, d = dir * mlp_ir_recurrent_dir_floats(l);
  int64_t b = l->b_off - l->w_off;
  out[0] = felem(c, w, ci64(c, d));
  out[1] = felem(c, w, ci64(c, d + gu * l->features));
  out[2] = felem(c, w, ci64(c, b + d));
  out[3] = felem(c, w, ci64(c, b + d + gu));
}

/* The configuration of encoder layer l (mlp/layers.h MLPRT_ENC_*), a constant int32 array. */
static inline LLVMValueRef encoder_cfg(Cg *c, const MlpIrLayer *l) {
  LLVMValueRef v[MLPRT_ENC_NCFG];
  for (int k = 0; k < MLPRT_ENC_NCFG; k++) v[k] = ci32(c, l->enc[k]);
  return const_global(c, "mlp_encoder", LLVMConstArray2(c->i32, v, MLPRT_ENC_NCFG));
}

#endif
