/* abi.c — include/mlp/abi.def as a table of LLVM function types (abi.h). */
#include "abi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name, *ret, *params; /* the row's texts: "void", "(float *out, int B)" */
} Row;

static const Row rows[] = {
#define MLP_ABI_ROW(ret, name, params) {#name, #ret, #params},
#define MLPRT_ABI_LAYERS MLP_ABI_ROW
#define MLPRT_ABI_INIT MLP_ABI_ROW
#define MLPRT_ABI_QUANT MLP_ABI_ROW
#define MLPRT_ABI_PREDICT MLP_ABI_ROW
#define MLPRT_ABI_RUN MLP_ABI_ROW
#include "mlp/abi.def"
#undef MLP_ABI_ROW
};
_Static_assert(sizeof rows / sizeof rows[0] == MLP_ABI_NFNS, "one row per MlpAbiFn");

typedef enum { T_BAD, T_VOID, T_PTR, T_I32, T_I64, T_F32, T_F64 } Kind;

/* The kind of one declared type ("const float *inp", "int64_t job",
 * "MlprtRun *"): any pointer is a pointer; otherwise the first word that is
 * not a qualifier names the type. */
static Kind kind_of(const char *s, size_t len) {
  if (memchr(s, '*', len)) return T_PTR;
  static const struct {
    const char *word;
    Kind kind;
  } words[] = {{"void", T_VOID},    {"int", T_I32},      {"int32_t", T_I32}, {"uint32_t", T_I32},
               {"int64_t", T_I64},  {"uint64_t", T_I64}, {"size_t", T_I64},  {"float", T_F32},
               {"double", T_F64}};
  size_t i = 0;
  while (i < len) {
    while (i < len && isspace((unsigned char)s[i])) i++;
    size_t w = i;
    while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_')) i++;
    if (i == w) return T_BAD;
    if (i - w == 5 && strncmp(s + w, "const", 5) == 0) continue;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
      if (strlen(words[k].word) == i - w && strncmp(s + w, words[k].word, i - w) == 0) return words[k].kind;
    return T_BAD;
  }
  return T_BAD;
}

/* The kinds of a row's parameters, in order; their count, or -1 when one
 * does not map. */
static int param_kinds(const Row *r, Kind *out, int cap) {
  const char *p = r->params + 1; /* past "(" */
  const char *end = r->params + strlen(r->params) - 1;
  int n = 0;
  while (p < end && n < cap) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    Kind k = kind_of(p, (size_t)(stop - p));
    if (k == T_BAD || k == T_VOID) return -1;
    out[n++] = k;
    p = stop + 1;
  }
  return n;
}

enum { MAX_PARAMS = 32 };

const char *mlp_abi_name(MlpAbiFn f) {
  return rows[f].name;
}

unsigned mlp_abi_nparams(MlpAbiFn f) {
  Kind k[MAX_PARAMS];
  int n = param_kinds(&rows[f], k, MAX_PARAMS);
  return n < 0 ? 0 : (unsigned)n;
}

static LLVMTypeRef llvm_type(LLVMContextRef ctx, Kind k) {
  switch (k) {
  case T_VOID:
    return LLVMVoidTypeInContext(ctx);
  case T_PTR:
    return LLVMPointerTypeInContext(ctx, 0);
  case T_I32:
    return LLVMInt32TypeInContext(ctx);
  case T_I64:
    return LLVMInt64TypeInContext(ctx);
  case T_F32:
    return LLVMFloatTypeInContext(ctx);
  case T_F64:
    return LLVMDoubleTypeInContext(ctx);
  case T_BAD:
    break;
  }
  return NULL;
}

LLVMTypeRef mlp_abi_type(LLVMContextRef ctx, MlpAbiFn f) {
  Kind k[MAX_PARAMS];
  int n = param_kinds(&rows[f], k, MAX_PARAMS);
  Kind ret = kind_of(rows[f].ret, strlen(rows[f].ret));
  if (n < 0 || ret == T_BAD) {
    fprintf(stderr, "mlpc: internal error: abi.def row %s has a type the compiler does not map\n",
            rows[f].name);
    abort();
  }
  LLVMTypeRef ps[MAX_PARAMS];
  for (int i = 0; i < n; i++) ps[i] = llvm_type(ctx, k[i]);
  return LLVMFunctionType(llvm_type(ctx, ret), ps, (unsigned)n, 0);
}

bool mlp_abi_valid(char *err, size_t n) {
  for (int f = 0; f < MLP_ABI_NFNS; f++) {
    Kind k[MAX_PARAMS];
    if (param_kinds(&rows[f], k, MAX_PARAMS) < 0 || kind_of(rows[f].ret, strlen(rows[f].ret)) == T_BAD) {
      snprintf(err, n, "%s %s%s", rows[f].ret, rows[f].name, rows[f].params);
      return false;
    }
  }
  return true;
}

/* ---- descriptors ------------------------------------------------------- */

typedef struct {
  const char *name;
  int kind; /* MLPRT_I64, MLPRT_F64 or MLPRT_PTR */
} Field;

#define MLP_FIELD_ROW(kind, type, name) {#name, kind},
static const Field init_fields[] = {MLPRT_INIT_FIELDS(MLP_FIELD_ROW)};
static const Field model_fields[] = {MLPRT_MODEL_FIELDS(MLP_FIELD_ROW)};
static const Field job_fields[] = {MLPRT_JOB_FIELDS(MLP_FIELD_ROW)};
static const Field program_fields[] = {MLPRT_PROGRAM_FIELDS(MLP_FIELD_ROW)};
static const Field clean_step_fields[] = {MLPRT_CLEAN_STEP_FIELDS(MLP_FIELD_ROW)};
static const Field predictor_fields[] = {MLPRT_PREDICTOR_FIELDS(MLP_FIELD_ROW)};
static const Field pred_input_fields[] = {MLPRT_PRED_INPUT_FIELDS(MLP_FIELD_ROW)};
static const Field pred_step_fields[] = {MLPRT_PRED_STEP_FIELDS(MLP_FIELD_ROW)};
static const Field pred_plan_fields[] = {MLPRT_PRED_PLAN_FIELDS(MLP_FIELD_ROW)};
#undef MLP_FIELD_ROW

static const struct {
  const char *name;
  const Field *fields;
  int n;
} descs[MLP_NDESCS] = {
    [MLP_DESC_INIT] = {"MlprtInit", init_fields, MLPRT_INIT_NFIELDS},
    [MLP_DESC_MODEL] = {"MlprtModel", model_fields, MLPRT_MODEL_NFIELDS},
    [MLP_DESC_JOB] = {"MlprtJob", job_fields, MLPRT_JOB_NFIELDS},
    [MLP_DESC_PROGRAM] = {"MlprtProgram", program_fields, MLPRT_PROGRAM_NFIELDS},
    [MLP_DESC_CLEAN_STEP] = {"MlprtCleanStep", clean_step_fields, MLPRT_CLEAN_STEP_NFIELDS},
    [MLP_DESC_PREDICTOR] = {"MlprtPredictor", predictor_fields, MLPRT_PREDICTOR_NFIELDS},
    [MLP_DESC_PRED_INPUT] = {"MlprtPredInput", pred_input_fields, MLPRT_PRED_INPUT_NFIELDS},
    [MLP_DESC_PRED_STEP] = {"MlprtPredStep", pred_step_fields, MLPRT_PRED_STEP_NFIELDS},
    [MLP_DESC_PRED_PLAN] = {"MlprtPredPlan", pred_plan_fields, MLPRT_PRED_PLAN_NFIELDS},
};
_Static_assert((int)MLPRT_PROGRAM_NFIELDS <= (int)MLP_DESC_MAX_FIELDS, "MlpDescBuild holds every field");
_Static_assert((int)MLPRT_JOB_NFIELDS <= (int)MLP_DESC_MAX_FIELDS, "MlpDescBuild holds every field");
_Static_assert((int)MLPRT_MODEL_NFIELDS <= (int)MLP_DESC_MAX_FIELDS, "MlpDescBuild holds every field");
_Static_assert((int)MLPRT_PREDICTOR_NFIELDS <= (int)MLP_DESC_MAX_FIELDS, "MlpDescBuild holds every field");

static void desc_fail(const MlpDescBuild *b, int field, const char *what) {
  const char *f = field >= 0 && field < descs[b->which].n ? descs[b->which].fields[field].name : "?";
  fprintf(stderr, "mlpc: internal error: %s.%s %s\n", descs[b->which].name, f, what);
  abort();
}

void mlp_desc_begin(MlpDescBuild *b, MlpDesc which) {
  memset(b, 0, sizeof *b);
  b->which = which;
}

void mlp_desc_set(MlpDescBuild *b, int field, LLVMValueRef v) {
  if (field < 0 || field >= descs[b->which].n) desc_fail(b, field, "is not a field");
  if (b->v[field]) desc_fail(b, field, "is set twice");
  LLVMTypeRef t = LLVMTypeOf(v);
  LLVMTypeKind k = LLVMGetTypeKind(t);
  int want = descs[b->which].fields[field].kind;
  bool ok = want == MLPRT_PTR   ? k == LLVMPointerTypeKind
            : want == MLPRT_F64 ? k == LLVMDoubleTypeKind
                                : k == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(t) == 64;
  if (!ok) desc_fail(b, field, "is set with a value of another kind");
  b->v[field] = v;
}

LLVMValueRef mlp_desc_end(MlpDescBuild *b, LLVMContextRef ctx) {
  int n = descs[b->which].n;
  for (int i = 0; i < n; i++)
    if (!b->v[i]) desc_fail(b, i, "is not set");
  return LLVMConstStructInContext(ctx, b->v, (unsigned)n, 0);
}

int mlp_desc_nfields(MlpDesc which) {
  return descs[which].n;
}

const char *mlp_desc_field_name(MlpDesc which, int field) {
  return descs[which].fields[field].name;
}

int mlp_desc_field_kind(MlpDesc which, int field) {
  return descs[which].fields[field].kind;
}
