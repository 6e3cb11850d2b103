/* onnx.c — ONNX export: protobuf encoding, the feature graph, the model graph.
 *
 * Consumes an MlpOnnxModel (onnx.h); produces the bytes of an ONNX
 * ModelProto. Three layers, bottom up: a protobuf writer (varints, tags,
 * length-delimited fields: each nested message is built in its own buffer,
 * then appended with its length); a graph builder that hands out tensor
 * names and appends NodeProto, TensorProto (initializers, float32 and int64
 * as raw little-endian data) and ValueInfoProto messages to the graph; and
 * the translation of the predictor's feature program and of the model's
 * layers into ONNX operators, each chosen so that float32 results equal the
 * native predictor's (a subtract then a multiply by the float reciprocal
 * for scaling, comparisons and Where for clipping so NaN passes through). */
#include "onnx.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "diag.h"
#include "mlp/data.h"
#include "mlp/layers.h"
#include "mlp/run.h"
#include "rundir.h"

/* ---- the protobuf writer ------------------------------------------------------ */

typedef struct {
  uint8_t *p;
  size_t len, cap;
} Pb;

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_I32 = 5 };

static void pb_put(Pb *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    b->p = mlp_xrealloc(b->p, cap);
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void pb_varint(Pb *b, uint64_t v) {
  uint8_t t[10];
  size_t n = 0;
  do {
    t[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) t[n] |= 0x80;
    n++;
  } while (v);
  pb_put(b, t, n);
}

static void pb_tag(Pb *b, int field, int wire) {
  pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

/* int64 and int32 fields: negative numbers are ten-byte two's complement varints. */
static void pb_int(Pb *b, int field, int64_t v) {
  pb_tag(b, field, WIRE_VARINT);
  pb_varint(b, (uint64_t)v);
}

static void pb_bytes(Pb *b, int field, const void *data, size_t n) {
  pb_tag(b, field, WIRE_LEN);
  pb_varint(b, n);
  pb_put(b, data, n);
}

static void pb_str(Pb *b, int field, const char *s) {
  pb_bytes(b, field, s, strlen(s));
}

static void pb_float(Pb *b, int field, float f) {
  uint8_t t[4];
  memcpy(t, &f, 4); /* protobuf's fixed32 is little-endian, as the hosts mlpc runs on */
  pb_tag(b, field, WIRE_I32);
  pb_put(b, t, 4);
}

/* Append child as a nested message and release it. */
static void pb_msg(Pb *b, int field, Pb *child) {
  pb_bytes(b, field, child->p, child->len);
  free(child->p);
  *child = (Pb){0};
}

/* ---- onnx.proto field numbers (only those written) ---------------------------- */

enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOC = 6, MODEL_GRAPH = 7,
       MODEL_OPSET = 8, MODEL_METADATA = 14 };
enum { OPSET_DOMAIN = 1, OPSET_VERSION = 2 };
enum { ENTRY_KEY = 1, ENTRY_VALUE = 2 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INIT = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
       GRAPH_VALUE_INFO = 13 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP = 4, NODE_ATTR = 5, NODE_DOMAIN = 7 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_FLOATS = 7, ATTR_INTS = 8, ATTR_STRINGS = 9,
       ATTR_TYPE = 20 };
enum { ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_FLOATS_TYPE = 6, ATTR_INTS_TYPE = 7,
       ATTR_STRINGS_TYPE = 8 };
enum { TENSOR_DIMS = 1, TENSOR_TYPE = 2, TENSOR_STRINGS = 6, TENSOR_NAME = 8, TENSOR_RAW = 9 };
enum { VALUE_NAME = 1, VALUE_TYPE = 2 };
enum { TYPE_TENSOR = 1, TTENSOR_ELEM = 1, TTENSOR_SHAPE = 2, SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2 };
enum { ELEM_FLOAT = 1, ELEM_INT64 = 7, ELEM_STRING = 8, ELEM_BOOL = 9 };

/* ai.onnx.ml's LabelEncoder (version 2) maps category texts to numbers;
 * com.microsoft's Tokenizer (ONNX Runtime's, version 1) splits texts. */
enum { ONNX_IR_VERSION = 8, ONNX_OPSET = 13, ONNX_ML_OPSET = 2, ONNX_MS_OPSET = 1 };

/* ---- the graph builder ----------------------------------------------------------- */

typedef struct {
  Pb g;         /* the GraphProto's fields, appended as they come */
  MlpArena *a;  /* tensor names */
  int ntensors; /* names handed out */
  bool ml;      /* an ai.onnx.ml operator is used: the model imports that domain */
  bool ms;      /* and com.microsoft's */
  /* text slots: the text_clean options applied to them (MLPRT_TEXT_*, 0: none); number slots a
   * vectorizer wrote: the [N, width] tensor holding them (NULL: none) and their column in it */
  int64_t *clean_opts;
  const char **blk;
  int64_t *blk_col;
  const char *missing; /* the texts that mean missing, each ending in '\n' */
  int nmissing;
} Graph;

static const char *fresh(Graph *g, const char *hint) {
  return mlp_arena_printf(g->a, "%s_%d", hint, g->ntensors++);
}

/* Attributes of a node: built by the attr_* helpers, then given to a node. */
typedef struct {
  Pb p;
} Attrs;

static void attr_int(Attrs *at, const char *name, int64_t v) {
  Pb a = {0};
  pb_str(&a, ATTR_NAME, name);
  pb_int(&a, ATTR_TYPE, ATTR_INT);
  pb_int(&a, ATTR_I, v);
  pb_msg(&at->p, NODE_ATTR, &a);
}

static void attr_float(Attrs *at, const char *name, float v) {
  Pb a = {0};
  pb_str(&a, ATTR_NAME, name);
  pb_int(&a, ATTR_TYPE, ATTR_FLOAT);
  pb_float(&a, ATTR_F, v);
  pb_msg(&at->p, NODE_ATTR, &a);
}

static void attr_str(Attrs *at, const char *name, const char *v) {
  Pb a = {0};
  pb_str(&a, ATTR_NAME, name);
  pb_int(&a, ATTR_TYPE, ATTR_STRING);
  pb_str(&a, ATTR_S, v);
  pb_msg(&at->p, NODE_ATTR, &a);
}

static void attr_ints(Attrs *at, const char *name, const int64_t *v, int n) {
  Pb a = {0};
  pb_str(&a, ATTR_NAME, name);
  pb_int(&a, ATTR_TYPE, ATTR_INTS_TYPE);
  for (int i = 0; i < n; i++) pb_int(&a, ATTR_INTS, v[i]);
  pb_msg(&at->p, NODE_ATTR, &a);
}

static void attr_floats(Attrs *at, const char *name, const float *v, int64_t n) {
  Pb a = {0};
  pb_str(&a, ATTR_NAME, name);
  pb_int(&a, ATTR_TYPE, ATTR_FLOATS_TYPE);
  for (int64_t i = 0; i < n; i++) pb_float(&a, ATTR_FLOATS, v[i]);
  pb_msg(&at->p, NODE_ATTR, &a);
}

/* Strings given as lines, each ending in '\n'. */
static void attr_lines(Attrs *at, const char *name, const char *lines) {
  Pb a = {0};
  pb_str(&a, ATTR_NAME, name);
  pb_int(&a, ATTR_TYPE, ATTR_STRINGS_TYPE);
  for (const char *p = lines; *p; p = strchr(p, '\n') + 1)
    pb_bytes(&a, ATTR_STRINGS, p, (size_t)(strchr(p, '\n') - p));
  pb_msg(&at->p, NODE_ATTR, &a);
}

/* One node: op of domain (NULL: ai.onnx) over nin inputs, with the nout
 * outputs named outs. at (may be NULL) is consumed. */
static void node_outs(Graph *g, const char *domain, const char *op, const char *const *outs, int nout,
                      Attrs *at, const char *const *in, int64_t nin) {
  Pb nd = {0};
  for (int64_t i = 0; i < nin; i++) pb_str(&nd, NODE_INPUT, in[i]);
  for (int i = 0; i < nout; i++) pb_str(&nd, NODE_OUTPUT, outs[i]);
  pb_str(&nd, NODE_NAME, outs[0]);
  pb_str(&nd, NODE_OP, op);
  if (domain) pb_str(&nd, NODE_DOMAIN, domain);
  if (at) {
    pb_put(&nd, at->p.p, at->p.len);
    free(at->p.p);
    at->p = (Pb){0};
  }
  pb_msg(&g->g, GRAPH_NODE, &nd);
}

/* node_outs with one output named out (NULL: a fresh name), which it returns. */
static const char *node_of(Graph *g, const char *domain, const char *op, const char *out, Attrs *at,
                           const char *const *in, int64_t nin) {
  if (!out) out = fresh(g, op);
  node_outs(g, domain, op, &out, 1, at, in, nin);
  return out;
}

/* node_of for an ai.onnx op of up to five inputs, given as arguments. */
static const char *node_named(Graph *g, const char *op, const char *out, Attrs *at, int nin, ...) {
  const char *in[5];
  va_list ap;
  va_start(ap, nin);
  for (int i = 0; i < nin; i++) in[i] = va_arg(ap, const char *);
  va_end(ap);
  return node_of(g, NULL, op, out, at, in, nin);
}

#define node1(g, op, a) node_named(g, op, NULL, NULL, 1, a)
#define node2(g, op, a, b) node_named(g, op, NULL, NULL, 2, a, b)

/* A concatenation of n tensors along axis 1. */
static const char *concat(Graph *g, const char *const *in, int64_t n, const char *out) {
  Attrs at = {0};
  attr_int(&at, "axis", 1);
  return node_of(g, NULL, "Concat", out, &at, in, n);
}

/* An initializer of the given element type and shape from raw little-endian data. */
static const char *initializer(Graph *g, const char *hint, int elem, const int64_t *dims, int ndims,
                               const void *data, size_t bytes) {
  const char *name = fresh(g, hint);
  Pb t = {0};
  for (int i = 0; i < ndims; i++) pb_int(&t, TENSOR_DIMS, dims[i]);
  pb_int(&t, TENSOR_TYPE, elem);
  pb_str(&t, TENSOR_NAME, name);
  pb_bytes(&t, TENSOR_RAW, data, bytes);
  pb_msg(&g->g, GRAPH_INIT, &t);
  return name;
}

static const char *const_floats(Graph *g, const char *hint, const int64_t *dims, int ndims, const float *v) {
  int64_t count = 1;
  for (int i = 0; i < ndims; i++) count *= dims[i];
  return initializer(g, hint, ELEM_FLOAT, dims, ndims, v, (size_t)count * sizeof *v);
}

/* A float scalar (rank 0: it broadcasts against any shape). */
static const char *const_scalar(Graph *g, float v) {
  return initializer(g, "c", ELEM_FLOAT, NULL, 0, &v, sizeof v);
}

static const char *const_i64(Graph *g, const char *hint, const int64_t *v, int64_t n) {
  return initializer(g, hint, ELEM_INT64, &n, 1, v, (size_t)n * sizeof *v);
}

/* A graph input or output: element type and shape; a negative dimension
 * is the batch, named "N". */
static void value_info(Graph *g, int field, const char *name, int elem, const int64_t *dims, int ndims) {
  Pb shape = {0}, tt = {0}, type = {0}, vi = {0};
  for (int i = 0; i < ndims; i++) {
    Pb d = {0};
    if (dims[i] < 0) pb_str(&d, DIM_PARAM, "N");
    else pb_int(&d, DIM_VALUE, dims[i]);
    pb_msg(&shape, SHAPE_DIM, &d);
  }
  pb_int(&tt, TTENSOR_ELEM, elem);
  pb_msg(&tt, TTENSOR_SHAPE, &shape);
  pb_msg(&type, TYPE_TENSOR, &tt);
  pb_str(&vi, VALUE_NAME, name);
  pb_msg(&vi, VALUE_TYPE, &type);
  pb_msg(&g->g, field, &vi);
}

/* ---- the feature program ---------------------------------------------------------- */

static const char *to_float(Graph *g, const char *b) {
  Attrs at = {0};
  attr_int(&at, "to", ELEM_FLOAT);
  return node_named(g, "Cast", NULL, &at, 1, b);
}

/* A category made from a number or a boolean (MLPRT_PSTEP_TEXT) stays a
 * number in the graph: the text the cleaning chain gives a float is the
 * shortest one that reads back as the same float, so two values have the
 * same text exactly when they are equal, and a level's text stands for
 * the number it reads as (true / false for booleans: 1 / 0). */
typedef enum {
  SLOT_NUMBER,
  SLOT_NUMBER_TEXT,
  SLOT_BOOL_TEXT,
  SLOT_STRING /* a category column's texts */
} SlotKind;

/* The number level (len bytes of text) stands for in a slot of kind k; -1
 * when the text is not one a number or boolean is written as. */
static int level_value(SlotKind k, const char *text, size_t len, float *v) {
  char buf[64];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  if (k == SLOT_BOOL_TEXT) {
    if (strcmp(buf, "true") && strcmp(buf, "false")) return -1;
    *v = buf[0] == 't';
    return 0;
  }
  char *end;
  *v = strtof(buf, &end);
  return *end ? -1 : 0;
}

static int64_t count_lines(const char *text) {
  int64_t n = 0;
  for (const char *p = text; *p; p = strchr(p, '\n') + 1) n++;
  return n;
}

/* The levels of a step (each ending in '\n') as numbers, in order, into v
 * (arena); their count in *nv. */
static int level_values(Graph *g, SlotKind k, const char *text, float **v, int64_t *nv) {
  int64_t cnt = count_lines(text);
  *v = mlp_arena_alloc(g->a, (size_t)(cnt ? cnt : 1) * sizeof **v);
  *nv = 0;
  for (const char *p = text; *p; p = strchr(p, '\n') + 1)
    if (level_value(k, p, (size_t)(strchr(p, '\n') - p), &(*v)[(*nv)++])) return -1;
  return 0;
}

/* One in-place op over x with its constants a and b (tensors: scalars, or
 * [1, columns] rows): fill a; clip to [a, b]; scale (x - a) * b (b the
 * reciprocal); divide by a; log1p where mask (NULL: everywhere). */
static const char *in_place(Graph *g, int64_t op, const char *x, const char *a, const char *b,
                            const char *mask) {
  switch (op) {
  case MLPRT_PSTEP_FILL: return node_named(g, "Where", NULL, NULL, 3, node1(g, "IsNaN", x), a, x);
  case MLPRT_PSTEP_CLIP: {
    /* comparisons, so that NaN passes through as the runtime's clip lets it */
    const char *upper = node_named(g, "Where", NULL, NULL, 3, node2(g, "Greater", x, b), b, x);
    return node_named(g, "Where", NULL, NULL, 3, node2(g, "Less", x, a), a, upper);
  }
  case MLPRT_PSTEP_SCALE: return node2(g, "Mul", node2(g, "Sub", x, a), b);
  case MLPRT_PSTEP_DIV: return node2(g, "Div", x, a);
  default: { /* log1p, NaN at or below -1 */
    /* log(1 + x) in float: may differ from log1pf in the last bits near 0 */
    const char *y = node1(g, "Log", node2(g, "Add", x, const_scalar(g, 1.0f)));
    const char *domain = node2(g, "LessOrEqual", x, const_scalar(g, -1.0f));
    if (mask) domain = node2(g, "And", mask, domain);
    y = node_named(g, "Where", NULL, NULL, 3, domain, const_scalar(g, NAN), y);
    return mask ? node_named(g, "Where", NULL, NULL, 3, mask, y, x) : y;
  }
  }
}

/* Steps that change input columns in place, one number per column, are
 * applied to the whole input matrix at once: a run of consecutive steps of
 * one such op becomes one node over [N, inputs] with a [1, inputs] vector
 * of per-column constants, the op's identity (fill NaN, bounds -inf and
 * +inf, scale (x - 0) * 1, divide by 1) for columns it leaves alone.
 * Iris's chain is then a dozen nodes, not one per column and step. */
static bool in_place_op(int64_t op) {
  return op == MLPRT_PSTEP_FILL || op == MLPRT_PSTEP_CLIP || op == MLPRT_PSTEP_SCALE ||
         op == MLPRT_PSTEP_LOG1P || op == MLPRT_PSTEP_DIV;
}

/* How many steps from si on form one run over the matrix (0: step si is
 * not such a step). in_mat[s]: input slot s still lives in the matrix. */
static int64_t matrix_run(const MlprtPredPlan *p, int64_t si, const bool *in_mat, const bool *numeric) {
  int64_t k = 0;
  for (; si + k < p->nsteps; k++) {
    const MlprtPredStep *st = &p->steps[si + k];
    if (st->op != p->steps[si].op || !in_place_op(st->op) || st->src != st->dst || st->src < 0 ||
        st->src >= p->ninputs || !in_mat[st->src] || !numeric[st->src])
      break;
    for (int64_t j = 0; j < k; j++) /* each column once per run */
      if (p->steps[si + j].src == st->src) return k;
  }
  return k;
}

static const char *const_row(Graph *g, const float *v, int64_t k) {
  int64_t d[2] = {1, k};
  return const_floats(g, "v", d, 2, v);
}

/* Steps si .. si + k - 1 (one op) over the matrix m [N, w]; input slot s
 * is its column col[s]. */
static const char *matrix_step(Graph *g, const MlprtPredPlan *p, int64_t si, int64_t k, const char *m,
                               const int64_t *col, int64_t w) {
  int64_t op = p->steps[si].op;
  float *a = mlp_arena_alloc(g->a, (size_t)w * sizeof *a), *b = mlp_arena_alloc(g->a, (size_t)w * sizeof *b);
  uint8_t *mask = mlp_arena_alloc(g->a, (size_t)w);
  for (int64_t c = 0; c < w; c++) {
    a[c] = op == MLPRT_PSTEP_FILL ? NAN : op == MLPRT_PSTEP_CLIP ? -INFINITY : op == MLPRT_PSTEP_DIV ? 1 : 0;
    b[c] = op == MLPRT_PSTEP_CLIP ? INFINITY : 1;
  }
  for (int64_t j = si; j < si + k; j++) {
    const MlprtPredStep *st = &p->steps[j];
    int64_t c = col[st->src];
    a[c] = (float)st->a; /* log1p has no constant */
    if (op == MLPRT_PSTEP_CLIP) b[c] = (float)st->b;
    if (op == MLPRT_PSTEP_SCALE) b[c] = (float)(1.0 / st->b);
    mask[c] = 1;
  }
  const char *ra = op == MLPRT_PSTEP_LOG1P ? NULL : const_row(g, a, w);
  const char *rb = op == MLPRT_PSTEP_CLIP || op == MLPRT_PSTEP_SCALE ? const_row(g, b, w) : NULL;
  int64_t d[2] = {1, w};
  const char *on = op == MLPRT_PSTEP_LOG1P ? initializer(g, "mask", ELEM_BOOL, d, 2, mask, (size_t)w) : NULL;
  return in_place(g, op, m, ra, rb, on);
}

/* Columns cols[0..k-1] of the matrix m, as [N, k]. */
static const char *gather(Graph *g, const char *m, const int64_t *cols, int64_t k) {
  Attrs at = {0};
  attr_int(&at, "axis", 1);
  return node_named(g, "Gather", NULL, &at, 2, m, const_i64(g, "cols", cols, k));
}

/* A text scalar. */
static const char *const_text(Graph *g, const char *s, size_t len) {
  const char *name = fresh(g, "s");
  Pb t = {0};
  pb_int(&t, TENSOR_TYPE, ELEM_STRING);
  pb_bytes(&t, TENSOR_STRINGS, s, len);
  pb_str(&t, TENSOR_NAME, name);
  pb_msg(&g->g, GRAPH_INIT, &t);
  return name;
}

/* ai.onnx.ml's LabelEncoder: each text of x that is the i-th of keys
 * (lines) becomes values[i], any other dflt (int64, x's shape). */
static const char *label_encoder(Graph *g, const char *x, const char *keys, const int64_t *values, int nkeys,
                                 int64_t dflt) {
  Attrs at = {0};
  attr_lines(&at, "keys_strings", keys);
  attr_ints(&at, "values_int64s", values, nkeys);
  attr_int(&at, "default_int64", dflt);
  g->ml = true;
  return node_of(g, "ai.onnx.ml", "LabelEncoder", NULL, &at, &x, 1);
}

/* The texts the predictor reads as missing: the plan's (the spec's
 * na_values, or the data loader's defaults, which the plan builder writes
 * out), so the two cannot disagree. */
static void missing_texts(Graph *g, const MlprtPredPlan *plan) {
  g->missing = "";
  g->nmissing = (int)plan->nna;
  for (int64_t i = 0; i < plan->nna; i++)
    g->missing = mlp_arena_printf(g->a, "%s%s\n", g->missing, plan->na_tokens[i]);
}

/* True where the text x is missing (nowhere when no text means missing:
 * every text, the empty one included, then maps to false). */
static const char *text_missing(Graph *g, const char *x) {
  int n = g->nmissing ? g->nmissing : 1;
  int64_t *mark = mlp_arena_alloc(g->a, (size_t)n * sizeof *mark);
  for (int i = 0; i < g->nmissing; i++) mark[i] = 1;
  Attrs at = {0};
  attr_int(&at, "to", ELEM_BOOL);
  const char *keys = g->nmissing ? g->missing : "\n";
  return node_named(g, "Cast", NULL, &at, 1, label_encoder(g, x, keys, mark, n, 0));
}

/* The index of the text x among the step's levels (lines), -1 when it is
 * none of them; levels at or past `cap` all give cap (a one-hot step's
 * merged rare levels, which share one column). */
static const char *level_index(Graph *g, const char *x, const char *levels, int64_t cap, int64_t *nl) {
  int64_t cnt = count_lines(levels);
  int64_t *v = mlp_arena_alloc(g->a, (size_t)(cnt ? cnt : 1) * sizeof *v);
  for (int64_t i = 0; i < cnt; i++) v[i] = i < cap ? i : cap;
  *nl = cnt;
  return label_encoder(g, x, levels, v, (int)cnt, -1);
}

/* Why a vectorizer cannot be written in ONNX (after text_clean with opts),
 * or NULL. */
static const char *terms_unsupported(const MlprtPredStep *st, const MlprtTerms *o, int64_t opts) {
  if (!st->text) return "ONNX has no hashing of texts";
  if (o->analyzer == MLPRT_ANALYZER_CHAR)
    return "character n-grams: ONNX Runtime's Tokenizer does not read white space as the vectorizer does";
  if (opts & MLPRT_TEXT_ACCENTS) return "text_clean's strip_accents: ONNX has no such text operator";
  if ((opts & MLPRT_TEXT_STOP) && o->ngram_hi > 1)
    return "stop words removed before n-grams of several words: ONNX has no such text operator";
  return NULL;
}

/* A vectorizer (MLPRT_PSTEP_TERMS, words) on the text x [N, 1]: a missing
 * text made empty, lowercased (StringNormalizer), split into words by
 * Tokenizer with the word bytes' expression (digits not among them after
 * text_clean's strip_digits), the n-grams of the vocabulary counted by
 * TfIdfVectorizer (a vocabulary narrower than the step pads with a unigram
 * no text has), then weighed as mlprt_terms_weigh does. Its [N, width]
 * tensor holds the slots dst ... dst + width - 1. */
static void terms_step(Graph *g, const MlprtPredStep *st, const char *x) {
  MlprtTerms o = mlprt_terms_unpack((int64_t)st->a);
  const char *t = node_named(g, "Where", NULL, NULL, 3, text_missing(g, x), const_text(g, "", 0), x);
  int64_t flat = -1;
  t = node2(g, "Reshape", t, const_i64(g, "shape", &flat, 1));
  Attrs sn = {0};
  attr_str(&sn, "case_change_action", "LOWER");
  attr_str(&sn, "locale", "C.UTF-8");
  t = node_of(g, NULL, "StringNormalizer", NULL, &sn, &t, 1);
  Attrs tk = {0};
  attr_int(&tk, "mark", 0);
  attr_int(&tk, "mincharnum", 1);
  attr_str(&tk, "pad_value", " ");
  /* ASCII letters and digits, and every other character (UTF-8 bytes >= 0x80) */
  bool digits = g->clean_opts[st->src] & MLPRT_TEXT_DIGITS; /* made spaces: no part of a word */
  attr_str(&tk, "tokenexp",
           digits ? "[^\\x00-\\x40\\x5B-\\x60\\x7B-\\x7F]+"
                  : "[^\\x00-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7F]+");
  g->ms = true;
  t = node_of(g, "com.microsoft", "Tokenizer", NULL, &tk, &t, 1);
  /* the pool: the vocabulary's n-grams grouped by n, a word a string, each
   * group's first string in starts; index: each n-gram's column */
  int64_t nv = count_lines(st->text), starts[MLPRT_NGRAM_MAX], nwords = 0, ni = 0;
  int64_t *index = mlp_arena_alloc(g->a, (size_t)(nv + 2) * sizeof *index);
  char *pool;
  size_t pool_len;
  FILE *pf = open_memstream(&pool, &pool_len);
  for (int want = 1; want <= o.ngram_hi; want++) {
    starts[want - 1] = nwords;
    int64_t col = 0;
    for (const char *l = st->text; *l; l = strchr(l, '\n') + 1, col++) {
      size_t len = strcspn(l, "\t");
      int words = 1;
      for (size_t i = 0; i < len; i++) words += l[i] == ' ';
      if (words != want) continue;
      index[ni++] = col;
      nwords += words;
      for (size_t i = 0; i < len; i++) fputc(l[i] == ' ' ? '\n' : l[i], pf);
      fputc('\n', pf);
    }
    if (want == 1 && st->n > nv) { /* the pad: a unigram that is no word */
      fputs("\t\n", pf);
      index[ni++] = st->n - 1;
      nwords++;
    }
  }
  Attrs tf = {0};
  attr_str(&tf, "mode", "TF");
  attr_int(&tf, "min_gram_length", o.ngram_lo);
  attr_int(&tf, "max_gram_length", o.ngram_hi);
  attr_int(&tf, "max_skip_count", 0);
  attr_ints(&tf, "ngram_counts", starts, o.ngram_hi);
  attr_ints(&tf, "ngram_indexes", index, (int)ni);
  fclose(pf);
  attr_lines(&tf, "pool_strings", pool);
  free(pool);
  const char *c = node_of(g, NULL, "TfIdfVectorizer", NULL, &tf, &t, 1);
  if (o.method == MLPRT_VEC_COUNT && o.binary) c = to_float(g, node2(g, "Greater", c, const_scalar(g, 0)));
  if (o.method == MLPRT_VEC_TFIDF) {
    if (o.sublinear)
      c = node_named(g, "Where", NULL, NULL, 3, node2(g, "Greater", c, const_scalar(g, 0)),
                     node2(g, "Add", const_scalar(g, 1), node1(g, "Log", c)), c);
    float *idf = mlp_arena_alloc(g->a, (size_t)(st->n ? st->n : 1) * sizeof *idf);
    int64_t k = 0;
    for (const char *l = st->text; *l && k < st->n; l = strchr(l, '\n') + 1)
      idf[k++] = (float)strtod(l + strcspn(l, "\t") + 1, NULL);
    c = node2(g, "Mul", c, const_floats(g, "idf", &st->n, 1, idf));
    if (o.l2) {
      int64_t axis = 1;
      const char *ss =
          node_named(g, "ReduceSum", NULL, NULL, 2, node2(g, "Mul", c, c), const_i64(g, "axes", &axis, 1));
      const char *norm = node1(g, "Sqrt", ss);
      c = node_named(g, "Where", NULL, NULL, 3, node2(g, "Greater", norm, const_scalar(g, 0)),
                     node2(g, "Div", c, norm), c);
    }
  }
  for (int64_t k = 0; k < st->n; k++) g->blk[st->dst + k] = c, g->blk_col[st->dst + k] = k;
}

/* Steps on a category (a text slot), each giving numbers but FILL. */
static int text_step(Graph *g, const MlprtPredStep *st, const char *x, const char **slot, char *err,
                     size_t n) {
  int64_t nl;
  if (st->op == MLPRT_PSTEP_TEXT_CLEAN) {
    slot[st->dst] = x; /* acted on by the vectorizer that reads it */
    g->clean_opts[st->dst] |= (int64_t)st->a | MLPRT_TEXT_LOWER;
    return 0;
  }
  if (st->op == MLPRT_PSTEP_TERMS) {
    MlprtTerms o = mlprt_terms_unpack((int64_t)st->a);
    const char *why = terms_unsupported(st, &o, g->clean_opts[st->src]);
    static const char *const ops[] = {"bag_of_words", "tfidf", "hash_vectorize"};
    if (why)
      return mlp_failf(err, n, "ONNX export cannot express %s of a text column (%s); export without it, or "
                       "use the compiled predictor", ops[o.method], why);
    terms_step(g, st, x);
    return 0;
  }
  if (st->op == MLPRT_PSTEP_SEQUENCE)
    return mlp_failf(err, n, "ONNX export cannot express tokenize of a text column (word ids by a fitted "
                     "vocabulary, padded in front); export without it, or use the compiled predictor");
  if (g->clean_opts[st->src])
    return mlp_failf(err, n, "ONNX export cannot express text_clean before a step other than a vectorizer");
  switch (st->op) {
  case MLPRT_PSTEP_FILL:
    if (!st->text) return mlp_failf(err, n, "ONNX export: a category's fill value has no text");
    slot[st->dst] = node_named(g, "Where", NULL, NULL, 3, text_missing(g, x),
                               const_text(g, st->text, strcspn(st->text, "\n")), x);
    return 0;
  case MLPRT_PSTEP_INDICATOR: slot[st->dst] = to_float(g, text_missing(g, x)); return 0;
  case MLPRT_PSTEP_ORDINAL: {
    /* the level's index, NaN when missing or unseen */
    const char *idx = level_index(g, x, st->text, INT64_MAX, &nl);
    int64_t none = -1;
    slot[st->dst] = node_named(g, "Where", NULL, NULL, 3, node2(g, "Equal", idx, const_i64(g, "i", &none, 1)),
                               const_scalar(g, NAN), to_float(g, idx));
    return 0;
  }
  case MLPRT_PSTEP_ONEHOT: {
    int64_t own = st->b > 0 ? (int64_t)st->b : count_lines(st->text);
    const char *idx = level_index(g, x, st->text, own, &nl);
    for (int64_t l = 0; l < own; l++)
      slot[st->dst + l] = to_float(g, node2(g, "Equal", idx, const_i64(g, "i", &l, 1)));
    if (st->n > own) {
      /* the shared last column: merged rare levels, and unseen ones (the
       * unknown bucket: present, yet none of the levels) */
      const char *last = st->b > 0 ? node2(g, "Equal", idx, const_i64(g, "i", &own, 1)) : NULL;
      if (st->a == MLPRT_UNSEEN_LAST) {
        int64_t none = -1;
        const char *unseen = node2(g, "And", node2(g, "Equal", idx, const_i64(g, "i", &none, 1)),
                                   node1(g, "Not", text_missing(g, x)));
        last = last ? node2(g, "Or", last, unseen) : unseen;
      }
      slot[st->dst + own] = to_float(g, last);
    }
    return 0;
  }
  default:
    return mlp_failf(err, n, "ONNX export cannot express %s on a category",
                st->op == MLPRT_PSTEP_HASH ? "hash encoding" : "a numeric step");
  }
}

/* The graph's inputs -> model features [N, nfeatures], as the plan's
 * steps compute them, in *out. Numeric and boolean columns come in
 * "input" [N, numeric columns], categories as texts in "input_text" [N,
 * category columns], each in source order; only the columns the model
 * reads (live) are inputs, and steps whose results no feature reads are
 * left out. */
/* An align step whose joined columns the model reads: refused, naming
 * the step and the first such column (its text's "TYPE\tNAME" lines). */
static int refuse_asof(const MlprtPredPlan *plan, const uint8_t *live, char *err, size_t n) {
  for (int64_t si = 0; si < plan->nsteps; si++) {
    const MlprtPredStep *st = &plan->steps[si];
    int64_t k = 0;
    while (st->op == MLPRT_PSTEP_ASOF && k < st->n && !live[st->dst + k]) k++;
    if (st->op != MLPRT_PSTEP_ASOF || k == st->n) continue;
    const char *l = strchr(st->text, '\n') + 1;
    for (int64_t j = 0; j < k; j++) l = strchr(l, '\n') + 1;
    const char *name = strchr(l, '\t') + 1;
    return mlp_failf(err, n,
                     "ONNX export cannot express cleaning step %lld (align), which joins column '%.*s' from "
                     "another source as of each row's time, and the model reads it; export the compiled "
                     "predictor instead",
                     strtoll(st->text, NULL, 10), (int)strcspn(name, "\n"), name);
  }
  return 0;
}

static int features(Graph *g, const MlprtPredPlan *plan, const char **out, char *err, size_t n) {
  size_t ns = (size_t)(plan->nslots ? plan->nslots : 1);
  int64_t *col = mlp_arena_alloc(g->a, ns * sizeof *col), nnum = 0, ntext = 0;
  bool *in_mat = mlp_arena_alloc(g->a, ns), *numeric = mlp_arena_alloc(g->a, ns);
  uint8_t *live = mlp_arena_alloc(g->a, ns);
  mlprt_pred_plan_live(plan, live);
  if (refuse_asof(plan, live, err, n) != 0) return -1;
  for (int64_t si = 0; si < plan->nsteps; si++)
    if (plan->steps[si].op == MLPRT_PSTEP_RESAMPLE)
      return mlp_failf(err, n, "ONNX export cannot express the cleaning step resample, which makes the rows "
                               "anew on a time grid from a stream of rows; export the compiled predictor "
                               "instead");
  for (int64_t i = 0; i < plan->ninputs; i++) {
    int64_t t = plan->inputs[i].type;
    if (!live[i]) {
      col[i] = -1;
      continue;
    }
    if (t == MLPRT_COL_DATETIME)
      return mlp_failf(err, n,
                       "ONNX export takes no date columns, and the model reads the date column '%s' "
                       "(through date_features); export the compiled predictor instead",
                       plan->inputs[i].name);
    bool text = t == MLPRT_COL_CATEGORY || t == MLPRT_COL_TEXT;
    col[i] = text ? ntext++ : nnum++;
    in_mat[i] = numeric[i] = !text;
  }
  missing_texts(g, plan);
  int64_t dims[2] = {-1, nnum};
  if (nnum) value_info(g, GRAPH_INPUT, "input", ELEM_FLOAT, dims, 2);
  dims[1] = ntext;
  if (ntext) value_info(g, GRAPH_INPUT, "input_text", ELEM_STRING, dims, 2);

  /* The numeric input slots live in the matrix m [N, nnum] while in-place
   * steps change them; any other slot is one [N, 1] tensor, and a matrix
   * slot that another step reads is gathered from m as m is at that point. */
  const char *m = "input";
  const char **slot = mlp_arena_alloc(g->a, ns * sizeof *slot);
  SlotKind *kind = mlp_arena_alloc(g->a, ns * sizeof *kind);
  g->clean_opts = mlp_arena_alloc(g->a, ns * sizeof *g->clean_opts);
  g->blk = mlp_arena_alloc(g->a, ns * sizeof *g->blk);
  g->blk_col = mlp_arena_alloc(g->a, ns * sizeof *g->blk_col);
  for (int64_t i = 0; i < plan->ninputs; i++) {
    if (in_mat[i] || !live[i]) continue;
    slot[i] = gather(g, "input_text", &col[i], 1);
    kind[i] = SLOT_STRING;
  }
  for (int64_t si = 0; si < plan->nsteps; si++) {
    const MlprtPredStep *st = &plan->steps[si];
    int64_t width = mlprt_pstep_width(st);
    bool used = false;
    for (int64_t d = st->dst; d >= 0 && d < st->dst + width && d < plan->nslots && !used; d++) used = live[d];
    if (!used) continue; /* no feature reads what it writes */
    int64_t run = matrix_run(plan, si, in_mat, numeric);
    if (run > 0) {
      m = matrix_step(g, plan, si, run, m, col, nnum);
      si += run - 1;
      continue;
    }
    if (st->src >= 0 && st->src < plan->nslots && !slot[st->src] && g->blk[st->src])
      slot[st->src] = gather(g, g->blk[st->src], &g->blk_col[st->src], 1);
    if (st->src < 0 || st->src >= plan->nslots || !(slot[st->src] || in_mat[st->src]) || st->dst < 0 ||
        st->dst + width > plan->nslots)
      return mlp_failf(err, n, "step %lld of the feature program reads or writes a slot it should not",
                  (long long)si);
    if (st->op == MLPRT_PSTEP_REQUIRE) continue; /* a graph answers every row: see onnx.h */
    if (st->op == MLPRT_PSTEP_SERIES) continue; /* the key of the steps after it, which say more */
    if (st->op == MLPRT_PSTEP_LAG || st->op == MLPRT_PSTEP_ROLLING || st->op == MLPRT_PSTEP_SHORT) {
      const char *step = st->op == MLPRT_PSTEP_ROLLING ? "rolling"
                         : st->op == MLPRT_PSTEP_LAG   ? (st->b ? "diff" : "lag")
                                                       : "lag, rolling or diff (history = drop_row)";
      return mlp_failf(err, n,
                       "ONNX export cannot express the cleaning step %s, which reads earlier rows of each "
                       "series for a feature the model reads; export the compiled predictor instead",
                       step);
    }
    if (st->op == MLPRT_PSTEP_COERCE || st->op == MLPRT_PSTEP_DATE_PART) {
      const char *what = st->src < plan->ninputs ? plan->inputs[st->src].name : "a column made by the chain";
      const char *step = st->op == MLPRT_PSTEP_DATE_PART ? "date_features"
                         : st->n == MLPRT_COL_DATETIME   ? "parse_dates"
                                                         : "coerce";
      return mlp_failf(err, n,
                       "ONNX export cannot express the cleaning step %s of column '%s', which the model "
                       "reads; export the compiled predictor instead",
                       step, what);
    }
    if (st->op == MLPRT_PSTEP_ONEHOT && st->a == MLPRT_UNSEEN_REJECT)
      return mlp_failf(err, n,
                       "ONNX export cannot reject a row (step %lld: onehot with unknown = error); "
                       "export with unknown = ignore, or use the compiled predictor",
                       (long long)si);
    const char *x = in_mat[st->src] ? gather(g, m, &col[st->src], 1) : slot[st->src];
    SlotKind k = kind[st->src];
    float *lv;
    int64_t nl;
    if (k == SLOT_STRING) {
      if (text_step(g, st, x, slot, err, n)) return -1;
    } else {
      switch (st->op) {
      case MLPRT_PSTEP_FILL: {
        float v = (float)st->a;
        if (k != SLOT_NUMBER && (!st->text || level_value(k, st->text, strcspn(st->text, "\n"), &v)))
          return mlp_failf(err, n, "ONNX export: the fill value of step %lld is no number", (long long)si);
        slot[st->dst] = in_place(g, st->op, x, const_scalar(g, v), NULL, NULL);
        break;
      }
      case MLPRT_PSTEP_INDICATOR: slot[st->dst] = to_float(g, node1(g, "IsNaN", x)); break;
      case MLPRT_PSTEP_CLIP:
      case MLPRT_PSTEP_SCALE:
      case MLPRT_PSTEP_LOG1P:
      case MLPRT_PSTEP_DIV: {
        bool two = st->op == MLPRT_PSTEP_CLIP || st->op == MLPRT_PSTEP_SCALE;
        const char *a = st->op == MLPRT_PSTEP_LOG1P ? NULL : const_scalar(g, (float)st->a);
        double bv = st->op == MLPRT_PSTEP_SCALE ? 1.0 / st->b : st->b;
        const char *b = two ? const_scalar(g, (float)bv) : NULL;
        slot[st->dst] = in_place(g, st->op, x, a, b, NULL);
        break;
      }
      case MLPRT_PSTEP_TEXT:
        if (st->n != MLPRT_COL_FLOAT && st->n != MLPRT_COL_INT && st->n != MLPRT_COL_BOOL)
          return mlp_failf(err, n, "ONNX export: step %lld makes a category of a date", (long long)si);
        slot[st->dst] = x;
        kind[st->dst] = st->n == MLPRT_COL_BOOL ? SLOT_BOOL_TEXT : SLOT_NUMBER_TEXT;
        break;
      case MLPRT_PSTEP_ONEHOT:
      case MLPRT_PSTEP_ORDINAL: {
        if (k == SLOT_NUMBER || !st->text || level_values(g, k, st->text, &lv, &nl))
          return mlp_failf(err, n, "ONNX export: step %lld encodes levels that are not numbers",
                           (long long)si);
        if (st->op == MLPRT_PSTEP_ORDINAL) {
          /* the level's index, NaN when missing or unseen */
          const char *idx = const_scalar(g, NAN);
          for (int64_t l = nl - 1; l >= 0; l--)
            idx = node_named(g, "Where", NULL, NULL, 3, node2(g, "Equal", x, const_scalar(g, lv[l])),
                             const_scalar(g, (float)l), idx);
          slot[st->dst] = idx;
          break;
        }
        /* 1 where x is one of the levels; levels past own (merged rare
         * ones) share the last column */
        int64_t own = st->b > 0 ? (int64_t)st->b : nl;
        const char *seen = NULL, *merged = NULL;
        for (int64_t l = 0; l < nl; l++) {
          const char *hit = to_float(g, node2(g, "Equal", x, const_scalar(g, lv[l])));
          if (l < own) slot[st->dst + l] = hit;
          else merged = merged ? node2(g, "Add", merged, hit) : hit;
          seen = seen ? node2(g, "Add", seen, hit) : hit;
        }
        if (st->n > own) {
          const char *last = merged;
          if (st->a == MLPRT_UNSEEN_LAST) {
            /* the unknown bucket: present, yet none of the levels */
            const char *present = to_float(g, node1(g, "Not", node1(g, "IsNaN", x)));
            const char *unseen = seen ? node2(g, "Sub", const_scalar(g, 1.0f), seen) : const_scalar(g, 1.0f);
            unseen = node2(g, "Mul", present, unseen);
            last = last ? node2(g, "Add", last, unseen) : unseen;
          }
          slot[st->dst + own] = last ? last : const_scalar(g, 0.0f);
        }
        break;
      }
      default:
        return mlp_failf(err, n, "ONNX export cannot express step %lld of the feature program (%s)",
                         (long long)si,
                    st->op == MLPRT_PSTEP_HASH ? "hash encoding" : "an unknown operation");
      }
    }
    /* a filled category keeps its kind; what other steps write is a number */
    if (st->op == MLPRT_PSTEP_FILL || st->op == MLPRT_PSTEP_TEXT_CLEAN) kind[st->dst] = k;
    else if (st->op != MLPRT_PSTEP_TEXT)
      for (int64_t d = st->dst; d < st->dst + width; d++) kind[d] = SLOT_NUMBER;
    for (int64_t d = st->dst; d < st->dst + width; d++) {
      if (d < plan->ninputs) in_mat[d] = false; /* written: the slot leaves the matrix */
      numeric[d] = kind[d] == SLOT_NUMBER;
    }
  }
  /* The features: runs of consecutive matrix slots are gathered at once
   * (all of them in order: the matrix itself), the others are slots. */
  const char **feat = mlp_arena_alloc(g->a, (size_t)(plan->nfeatures ? plan->nfeatures : 1) * sizeof *feat);
  int64_t *cols = mlp_arena_alloc(g->a, (size_t)(plan->nfeatures ? plan->nfeatures : 1) * sizeof *cols);
  int64_t nfeat = 0;
  for (int64_t f = 0; f < plan->nfeatures;) {
    int64_t s = plan->feature_slot[f];
    if (s < 0 || s >= plan->nslots || !(slot[s] || in_mat[s] || g->blk[s]) || kind[s] == SLOT_STRING)
      return mlp_failf(err, n, "feature %lld reads slot %lld, which holds no number", (long long)f,
                       (long long)s);
    if (!slot[s] && g->blk[s]) {
      /* a vectorizer's columns in a run: its whole tensor, or the run gathered */
      int64_t k = 0;
      for (; f + k < plan->nfeatures; k++) {
        int64_t t = plan->feature_slot[f + k];
        if (t < 0 || t >= plan->nslots || slot[t] || g->blk[t] != g->blk[s]) break;
        cols[k] = g->blk_col[t];
      }
      bool whole = cols[0] == 0;
      for (int64_t j = 1; j < k && whole; j++) whole = cols[j] == j;
      int64_t width = 0;
      for (int64_t t = 0; t < plan->nslots; t++) width += g->blk[t] == g->blk[s];
      feat[nfeat++] = whole && k == width ? g->blk[s] : gather(g, g->blk[s], cols, k);
      f += k;
      continue;
    }
    if (!in_mat[s]) {
      feat[nfeat++] = slot[s];
      f++;
      continue;
    }
    int64_t k = 0;
    bool whole = true;
    for (; f + k < plan->nfeatures; k++) {
      int64_t t = plan->feature_slot[f + k];
      if (t < 0 || t >= plan->ninputs || !in_mat[t]) break;
      cols[k] = col[t];
      whole = whole && cols[k] == k;
    }
    feat[nfeat++] = whole && k == nnum ? m : gather(g, m, cols, k);
    f += k;
  }
  /* Missing features are 0 for the model, as in training. */
  const char *all = nfeat == 1 ? feat[0] : concat(g, feat, nfeat, NULL);
  *out = in_place(g, MLPRT_PSTEP_FILL, all, const_scalar(g, 0), NULL, NULL);
  return 0;
}

/* ---- the model ----------------------------------------------------------------------- */

static const char *activation(Graph *g, const char *x, MlpAct act) {
  switch (act) {
  case MLP_ACT_LINEAR: return x;
  case MLP_ACT_RELU: return node1(g, "Relu", x);
  case MLP_ACT_SIGMOID: return node1(g, "Sigmoid", x);
  case MLP_ACT_TANH: return node1(g, "Tanh", x);
  case MLP_ACT_LEAKY_RELU: {
    Attrs at = {0};
    attr_float(&at, "alpha", 0.01f);
    return node_named(g, "LeakyRelu", NULL, &at, 1, x);
  }
  case MLP_ACT_GELU: { /* exact, opset 13 has no Gelu: x/2 (1 + erf(x / sqrt 2)) */
    const char *erf = node1(g, "Erf", node2(g, "Mul", x, const_scalar(g, (float)M_SQRT1_2)));
    const char *half = node2(g, "Mul", x, const_scalar(g, 0.5f));
    return node2(g, "Mul", half, node2(g, "Add", const_scalar(g, 1.0f), erf));
  }
  case MLP_ACT_SOFTMAX: {
    Attrs at = {0};
    attr_int(&at, "axis", 1);
    return node_named(g, "Softmax", NULL, &at, 1, x);
  }
  case MLP_NACTS: break;
  }
  return x;
}

/* A recurrent layer as opset 13's RNN, LSTM or GRU over x (any shape with
 * steps x features per row, row-major), returning [N, out_size]. ONNX
 * orders the gates i o f c (LSTM) and z r h (GRU) where PyTorch's slab has
 * i f g o and r z n; PyTorch's GRU applies the reset gate after the hidden
 * projection (linear_before_reset = 1). A bidirectional layer is one
 * operator of direction "bidirectional", the reverse direction's weights
 * second. */
static const char *recurrent(Graph *g, const MlpOnnxModel *mo, const MlpIrLayer *l, const char *x) {
  static const int order[3][4] = {{0}, {0, 3, 1, 2}, {1, 0, 2}}; /* ONNX gate k is slab block order[k] */
  static const char *const ops[] = {"RNN", "LSTM", "GRU"};      /* by MlprtCell */
  int64_t G = mlprt_recurrent_gates(l->cell), H = l->units, F = l->features, T = l->steps, GH = G * H;
  int64_t D = l->bidirectional ? 2 : 1;
  float *w = mlp_xmalloc((size_t)(D * GH * F) * sizeof *w);
  float *r = mlp_xmalloc((size_t)(D * GH * H) * sizeof *r);
  float *b = mlp_xmalloc((size_t)(D * 2 * GH) * sizeof *b);
  for (int64_t d = 0; d < D; d++) {
    const float *wih = mo->params + l->w_off + d * mlp_ir_recurrent_dir_floats(l), *whh = wih + GH * F;
    const float *bih = mo->params + l->b_off + d * mlp_ir_recurrent_dir_floats(l), *bhh = bih + GH;
    float *wd = w + d * GH * F, *rd = r + d * GH * H, *bd = b + d * 2 * GH;
    for (int64_t k = 0; k < G; k++) {
      int64_t src = order[l->cell][k];
      memcpy(wd + k * H * F, wih + src * H * F, (size_t)(H * F) * sizeof *w);
      memcpy(rd + k * H * H, whh + src * H * H, (size_t)(H * H) * sizeof *r);
      memcpy(bd + k * H, bih + src * H, (size_t)H * sizeof *b);
      memcpy(bd + GH + k * H, bhh + src * H, (size_t)H * sizeof *b);
    }
  }
  int64_t wd[3] = {D, GH, F}, rd[3] = {D, GH, H}, bd[2] = {D, 2 * GH};
  const char *wn = const_floats(g, "W", wd, 3, w), *rn = const_floats(g, "R", rd, 3, r);
  const char *bn = const_floats(g, "B", bd, 2, b);
  free(w);
  free(r);
  free(b);
  /* [N, T, F] -> [T, N, F], the operator's layout 0 */
  int64_t seq_shape[3] = {-1, T, F}, tnf[3] = {1, 0, 2};
  Attrs tp = {0};
  attr_ints(&tp, "perm", tnf, 3);
  const char *xr = node2(g, "Reshape", x, const_i64(g, "shape", seq_shape, 3));
  const char *xs = node_named(g, "Transpose", NULL, &tp, 1, xr);
  Attrs at = {0};
  attr_int(&at, "hidden_size", H);
  if (D == 2) attr_str(&at, "direction", "bidirectional");
  if (l->cell == MLPRT_CELL_GRU) attr_int(&at, "linear_before_reset", 1);
  const char *y = node_named(g, ops[l->cell], NULL, &at, 4, xs, wn, rn, bn); /* Y [T, D, N, H] */
  if (l->return_sequences) {
    /* [N, T, D, H]: each step's forward then reverse state */
    int64_t perm[4] = {2, 0, 1, 3}, flat[2] = {-1, T * D * H};
    Attrs yp = {0};
    attr_ints(&yp, "perm", perm, 4);
    return node2(g, "Reshape", node_named(g, "Transpose", NULL, &yp, 1, y), const_i64(g, "shape", flat, 2));
  }
  /* each direction's last step: the forward one's at T - 1, the reverse one's at 0 */
  const char *last[2];
  for (int64_t d = 0; d < D; d++) {
    int64_t start[2] = {d ? 0 : T - 1, d}, end[2] = {d ? 1 : T, d + 1}, axes[2] = {0, 1}, nh[2] = {-1, H};
    const char *step = node_named(g, "Slice", NULL, NULL, 4, y, const_i64(g, "starts", start, 2),
                                  const_i64(g, "ends", end, 2), const_i64(g, "axes", axes, 2));
    last[d] = node2(g, "Reshape", step, const_i64(g, "shape", nh, 2));
  }
  if (D == 1) return last[0];
  Attrs ca = {0};
  attr_int(&ca, "axis", 1);
  return node_named(g, "Concat", NULL, &ca, 2, last[0], last[1]);
}

/* An embedding as Gather of the table's rows at x [N, T] (the codes, cast
 * to integers): [N, T * dim]. */
static const char *embedding(Graph *g, const MlpOnnxModel *mo, const MlpIrLayer *l, const char *x) {
  int64_t td[2] = {l->vocab, l->units}, flat[2] = {-1, l->steps * l->units};
  const char *table = const_floats(g, "table", td, 2, mo->params + l->w_off);
  Attrs at = {0};
  attr_int(&at, "to", ELEM_INT64);
  const char *ids = node_named(g, "Cast", NULL, &at, 1, x);
  return node2(g, "Reshape", node2(g, "Gather", table, ids), const_i64(g, "shape", flat, 2));
}

/* x [rows, in] times W [out, in] transposed plus b [out], as a Gemm. */
/* x Wᵀ + b; b may be NULL (a layer without bias: Gemm's optional C left out). */
static const char *gemm(Graph *g, const char *x, int64_t out, int64_t in, const float *w, const float *b) {
  int64_t wd[2] = {out, in}, bd[1] = {out};
  Attrs at = {0};
  attr_int(&at, "transB", 1);
  const char *wn = const_floats(g, "W", wd, 2, w);
  if (!b) return node_named(g, "Gemm", NULL, &at, 2, x, wn);
  return node_named(g, "Gemm", NULL, &at, 3, x, wn, const_floats(g, "B", bd, 1, b));
}

/* Layer norm over the last axis (width) of x: opset 13 has no
 * LayerNormalization, so (x - mean) / sqrt(var + eps) with the biased
 * variance, then weight w and bias b. */
static const char *layer_norm(Graph *g, const char *x, int64_t width, float eps, const float *w,
                              const float *b) {
  int64_t fd[1] = {width}, axis[1] = {-1};
  Attrs at = {0};
  attr_ints(&at, "axes", axis, 1);
  const char *d = node2(g, "Sub", x, node_named(g, "ReduceMean", NULL, &at, 1, x));
  Attrs at2 = {0};
  attr_ints(&at2, "axes", axis, 1);
  const char *var = node_named(g, "ReduceMean", NULL, &at2, 1, node2(g, "Mul", d, d));
  const char *sd = node1(g, "Sqrt", node2(g, "Add", var, const_scalar(g, eps)));
  const char *wn = const_floats(g, "weight", fd, 1, w), *bn = const_floats(g, "bias", fd, 1, b);
  return node2(g, "Add", node2(g, "Mul", node2(g, "Div", d, sd), wn), bn);
}

static const char *transpose(Graph *g, const char *x, const int64_t *perm, int n) {
  Attrs at = {0};
  attr_ints(&at, "perm", perm, n);
  return node_named(g, "Transpose", NULL, &at, 1, x);
}

static const char *reshape(Graph *g, const char *x, const int64_t *shape, int n) {
  return node2(g, "Reshape", x, const_i64(g, "shape", shape, n));
}

/* x[lo:hi] along axis. */
static const char *slice(Graph *g, const char *x, int64_t lo, int64_t hi, int64_t axis) {
  const char *starts = const_i64(g, "starts", &lo, 1), *ends = const_i64(g, "ends", &hi, 1);
  return node_named(g, "Slice", NULL, NULL, 4, x, starts, ends, const_i64(g, "axes", &axis, 1));
}

/* Multi-head self-attention of one encoder block over x [N*T, D], its
 * weights at w (mlprt_encoder_params's block layout); returns the output
 * projection's [N*T, D]. The heads are one batched MatMul each for the
 * scores and the weighted values: [1, N, heads, T, T] at most. */
static const char *attention(Graph *g, const int32_t *e, const char *x, const float *w) {
  int64_t T = e[MLPRT_ENC_T], D = e[MLPRT_ENC_D], H = e[MLPRT_ENC_HEADS], dh = D / H;
  const char *qkv = gemm(g, x, 3 * D, D, w, w + 3 * D * D);
  int64_t split[5] = {-1, T, 3, H, dh}, to_heads[5] = {2, 0, 3, 1, 4}, kt[5] = {0, 1, 2, 4, 3};
  const char *h5 = transpose(g, reshape(g, qkv, split, 5), to_heads, 5); /* [3, N, H, T, dh] */
  const char *q = slice(g, h5, 0, 1, 0), *k = slice(g, h5, 1, 2, 0), *v = slice(g, h5, 2, 3, 0);
  const char *scores = node2(g, "Mul", node2(g, "MatMul", q, transpose(g, k, kt, 5)),
                             const_scalar(g, 1.0f / sqrtf((float)dh)));
  if (e[MLPRT_ENC_CAUSAL]) {
    /* -inf above the diagonal: no step attends to a later one */
    float *above = mlp_xmalloc((size_t)(T * T) * sizeof *above);
    for (int64_t i = 0; i < T * T; i++) above[i] = i % T > i / T ? -INFINITY : 0.0f;
    int64_t td[2] = {T, T};
    scores = node2(g, "Add", scores, const_floats(g, "causal", td, 2, above));
    free(above);
  }
  Attrs at = {0};
  attr_int(&at, "axis", -1);
  const char *o = node2(g, "MatMul", node_named(g, "Softmax", NULL, &at, 1, scores), v);
  int64_t back[5] = {1, 3, 0, 2, 4}, rows[2] = {-1, D};
  o = reshape(g, transpose(g, o, back, 5), rows, 2); /* [N, T, 1, H, dh] -> [N*T, D] */
  return gemm(g, o, D, D, w + 3 * D * D + 3 * D, w + 4 * D * D + 3 * D);
}

/* The mean, first, last or largest (pool, a MlprtEncPool other than none) of the T steps of D features of
 * x (steps x features per row, row-major): [N, D]. */
static const char *pool_steps(Graph *g, int pool, int64_t T, int64_t D, const char *x) {
  int64_t seq[3] = {-1, T, D}, rows_d[2] = {-1, D};
  const char *x3 = reshape(g, x, seq, 3);
  if (pool == MLPRT_POOL_FIRST || pool == MLPRT_POOL_LAST) {
    int64_t at = pool == MLPRT_POOL_LAST ? T - 1 : 0;
    return reshape(g, slice(g, x3, at, at + 1, 1), rows_d, 2);
  }
  int64_t axis[1] = {1};
  Attrs at = {0};
  attr_ints(&at, "axes", axis, 1);
  attr_int(&at, "keepdims", 0);
  return node_named(g, pool == MLPRT_POOL_MAX ? "ReduceMax" : "ReduceMean", NULL, &at, 1, x3);
}

/* A transformer encoder layer as MatMul, Softmax, Gemm and reductions over x
 * (steps x features per row, row-major), returning [N, out_size]: the
 * runtime's mlprt_encoder_forward at inference (no dropout). */
static const char *encoder(Graph *g, const MlpOnnxModel *mo, const MlpIrLayer *l, const char *x) {
  const int32_t *e = l->enc;
  int64_t T = e[MLPRT_ENC_T], F = e[MLPRT_ENC_F], D = e[MLPRT_ENC_D], FF = e[MLPRT_ENC_FF];
  bool pre = e[MLPRT_ENC_NORM_FIRST];
  const float *p = mo->params + l->w_off;
  int64_t rows_f[2] = {-1, F}, rows_d[2] = {-1, D}, seq[3] = {-1, T, D};
  x = reshape(g, x, rows_f, 2); /* [N*T, F] */
  if (F != D) {
    x = gemm(g, x, D, F, p, p + D * F);
    p += D * F + D;
  }
  if (e[MLPRT_ENC_POS] != MLPRT_POS_NONE) {
    float *pe = mlp_xmalloc((size_t)(T * D) * sizeof *pe);
    for (int t = 0; t < T; t++)
      for (int j = 0; j < D; j++)
        pe[t * D + j] =
            e[MLPRT_ENC_POS] == MLPRT_POS_LEARNED ? p[t * D + j] : mlprt_encoder_position(t, j, D);
    if (e[MLPRT_ENC_POS] == MLPRT_POS_LEARNED) p += T * D;
    int64_t td[2] = {T, D};
    const char *pos = const_floats(g, "positions", td, 2, pe);
    x = reshape(g, node2(g, "Add", reshape(g, x, seq, 3), pos), rows_d, 2);
    free(pe);
  }
  for (int k = 0; k < e[MLPRT_ENC_LAYERS]; k++) {
    const float *w1 = p + 4 * D * D + 4 * D, *b1 = w1 + FF * D, *w2 = b1 + FF, *b2 = w2 + D * FF;
    const float *g1 = b2 + D, *be1 = g1 + D, *g2 = be1 + D, *be2 = g2 + D;
    const char *s1 = node2(g, "Add", x, attention(g, e, pre ? layer_norm(g, x, D, 1e-5f, g1, be1) : x, p));
    const char *y1 = pre ? s1 : layer_norm(g, s1, D, 1e-5f, g1, be1);
    const char *h = gemm(g, pre ? layer_norm(g, y1, D, 1e-5f, g2, be2) : y1, FF, D, w1, b1);
    h = activation(g, h, e[MLPRT_ENC_ACT] == MLPRT_ENC_GELU ? MLP_ACT_GELU : MLP_ACT_RELU);
    const char *s2 = node2(g, "Add", y1, gemm(g, h, D, FF, w2, b2));
    x = pre ? s2 : layer_norm(g, s2, D, 1e-5f, g2, be2);
    p = be2 + D;
  }
  int32_t pool = e[MLPRT_ENC_POOL];
  if (pool == MLPRT_POOL_NONE) {
    int64_t flat[2] = {-1, T * D};
    return reshape(g, x, flat, 2);
  }
  return pool_steps(g, pool, T, D, x);
}

/* The layers over x [N, in_size]; the model's outputs [N, out_size] in *out. */
static int layers(Graph *g, const MlpOnnxModel *mo, const char *x, const char **out, char *err, size_t n) {
  const MlpIrModel *m = mo->model;
  bool image = false; /* x is [N, C, H, W] rather than [N, features] */
  for (int i = 0; i < m->nlayers; i++) {
    const MlpIrLayer *l = &m->layers[i];
    bool spatial = l->op == MLP_OP_CONV2D || l->op == MLP_OP_MAXPOOL2D || l->op == MLP_OP_AVGPOOL2D ||
                   (l->op == MLP_OP_BATCHNORM && (l->in_h > 1 || l->in_w > 1));
    if (spatial && !image) {
      int64_t shape[4] = {-1, l->in_c, l->in_h, l->in_w};
      x = node2(g, "Reshape", x, const_i64(g, "shape", shape, 4));
      image = true;
    }
    if ((l->op == MLP_OP_DENSE || l->op == MLP_OP_FLATTEN || l->op == MLP_OP_LAYERNORM) && image) {
      Attrs at = {0};
      attr_int(&at, "axis", 1);
      x = node_named(g, "Flatten", NULL, &at, 1, x);
      image = false;
    }
    if (l->masked && l->op != MLP_OP_EMBEDDING)
      return mlp_failf(err, n, "layer %d reads an embedding's padding mask (mask_zero), which ONNX export "
                       "does not write", i + 1);
    switch (l->op) {
    case MLP_OP_DENSE:
      x = gemm(g, x, l->out_size, l->in_size, mo->params + l->w_off,
               l->no_bias ? NULL : mo->params + l->b_off);
      break;
    case MLP_OP_CONV2D: {
      int64_t wd[4] = {l->out_c, l->in_c, l->kernel, l->kernel}, bd[1] = {l->out_c};
      const char *w = const_floats(g, "W", wd, 4, mo->params + l->w_off);
      const char *b = const_floats(g, "B", bd, 1, mo->params + l->b_off);
      int64_t k[2] = {l->kernel, l->kernel}, s[2] = {l->stride, l->stride};
      int64_t p[4] = {l->pad, l->pad, l->pad, l->pad};
      Attrs at = {0};
      attr_ints(&at, "kernel_shape", k, 2);
      attr_ints(&at, "strides", s, 2);
      attr_ints(&at, "pads", p, 4);
      x = node_named(g, "Conv", NULL, &at, 3, x, w, b);
      break;
    }
    case MLP_OP_MAXPOOL2D:
    case MLP_OP_AVGPOOL2D: {
      /* the runtime's pooling windows lie inside the input: no padding */
      int64_t k[2] = {l->kernel, l->kernel}, s[2] = {l->stride, l->stride};
      Attrs at = {0};
      attr_ints(&at, "kernel_shape", k, 2);
      attr_ints(&at, "strides", s, 2);
      x = node_named(g, l->op == MLP_OP_MAXPOOL2D ? "MaxPool" : "AveragePool", NULL, &at, 1, x);
      break;
    }
    case MLP_OP_BATCHNORM: {
      if (!mo->state)
        return mlp_failf(err, n, "layer %d is a batch normalization but has no running statistics", i + 1);
      int64_t c = l->in_c, cd[1] = {c}; /* a feature vector of n is n channels */
      const char *gamma = const_floats(g, "gamma", cd, 1, mo->params + l->w_off);
      const char *beta = const_floats(g, "beta", cd, 1, mo->params + l->b_off);
      const char *mean = const_floats(g, "mean", cd, 1, mo->state + l->state_off);
      const char *var = const_floats(g, "var", cd, 1, mo->state + l->state_off + c);
      Attrs at = {0};
      attr_float(&at, "epsilon", l->eps);
      x = node_named(g, "BatchNormalization", NULL, &at, 5, x, gamma, beta, mean, var);
      break;
    }
    case MLP_OP_LAYERNORM:
      x = layer_norm(g, x, l->in_size, l->eps, mo->params + l->w_off, mo->params + l->b_off);
      break;
    case MLP_OP_ENCODER:
      x = encoder(g, mo, l, x);
      image = false;
      break;
    case MLP_OP_RECURRENT:
      x = recurrent(g, mo, l, x);
      image = false;
      break;
    case MLP_OP_EMBEDDING: x = embedding(g, mo, l, x); break;
    case MLP_OP_POOL_STEPS:
      x = pool_steps(g, l->pool, l->steps, l->features, x);
      image = false;
      break;
    case MLP_OP_FOREST: /* forest_model */
    case MLP_OP_SVM:    /* svm_model */
    case MLP_OP_BOOST:  /* boost_model */
    case MLP_OP_FLATTEN:
    case MLP_OP_DROPOUT: break; /* inference: dropout is the identity; flattening happened above */
    }
    x = activation(g, x, l->act);
  }
  if (image) {
    Attrs at = {0};
    attr_int(&at, "axis", 1);
    x = node_named(g, "Flatten", NULL, &at, 1, x);
  }
  *out = x;
  return 0;
}

/* A linear model (baselines included) as one ai.onnx.ml operator over x:
 * LinearClassifier gives the graph's label and probabilities itself
 * (softmax over the classes; one sigmoid unit becomes the rows -w and w
 * under the logistic function, so the scores are [1 - p, p]), and NULL is
 * returned; LinearRegressor gives the standardised value, returned for
 * outputs() to scale. */
static const char *linear_model(Graph *g, const MlpOnnxModel *mo, const char *x) {
  const MlpIrModel *m = mo->model;
  const MlpIrLayer *l = &m->layers[m->nlayers - 1];
  int64_t F = l->in_size, K = l->out_size;
  const float *w = mo->params + l->w_off, *b = mo->params + l->b_off;
  Attrs at = {0};
  g->ml = true;
  if (m->task == MLP_TASK_REGRESSION) {
    attr_floats(&at, "coefficients", w, F);
    attr_floats(&at, "intercepts", b, 1);
    attr_int(&at, "targets", 1);
    const char *y = node_of(g, "ai.onnx.ml", "LinearRegressor", NULL, &at, &x, 1);
    /* its type, for shape inference that does not know the operator's */
    int64_t yd[2] = {-1, 1};
    value_info(g, GRAPH_VALUE_INFO, y, ELEM_FLOAT, yd, 2);
    return y;
  }
  bool binary = m->task == MLP_TASK_BINARY;
  int64_t rows = binary ? 2 : K;
  float *cw = mlp_xmalloc((size_t)(rows * F) * sizeof *cw), *cb = mlp_xmalloc((size_t)rows * sizeof *cb);
  int64_t *labels = mlp_xmalloc((size_t)rows * sizeof *labels);
  for (int64_t k = 0; k < rows; k++) {
    float sign = binary && k == 0 ? -1.0f : 1.0f;
    int64_t src = binary ? 0 : k;
    for (int64_t f = 0; f < F; f++) cw[k * F + f] = sign * w[src * F + f];
    cb[k] = sign * b[src];
    labels[k] = k;
  }
  attr_floats(&at, "coefficients", cw, rows * F);
  attr_floats(&at, "intercepts", cb, rows);
  attr_ints(&at, "classlabels_ints", labels, (int)rows);
  attr_str(&at, "post_transform", binary ? "LOGISTIC" : "SOFTMAX");
  static const char *const outs[] = {"label", "probabilities"};
  node_outs(g, "ai.onnx.ml", "LinearClassifier", outs, 2, &at, &x, 1);
  int64_t pd[2] = {-1, rows}, ld[1] = {-1};
  value_info(g, GRAPH_OUTPUT, "probabilities", ELEM_FLOAT, pd, 2);
  value_info(g, GRAPH_OUTPUT, "label", ELEM_INT64, ld, 1);
  free(cw);
  free(cb);
  free(labels);
  return NULL;
}

/* A random forest's or boosting's trees as ai.onnx.ml's TreeEnsemble
 * arrays, each tree without the pass-through chains its complete layout has
 * (a node with threshold +inf sends every row left, so it is its left
 * child). */
typedef struct {
  int64_t depth, values, cls; /* the trees' depth; values per leaf, for classes cls, cls + 1... */
  float scale;                /* the leaves' weights are their values times scale */
  int64_t n, cap, base;       /* base: the current tree's first node */
  int64_t *tree, *id, *feature, *yes, *no;
  float *value;
  char *modes; /* "BRANCH_LEQ\n" or "LEAF\n" each */
  size_t mlen;
  int64_t nleaf, leafcap;
  int64_t *ltree, *lid, *lclass;
  float *lweight;
} Ensemble;

#define GROW(p, cap) ((p) = mlp_xrealloc((p), (size_t)(cap) * sizeof *(p)))

/* Node h of tree t (at depth d) and what lies under it; returns its id. */
static int64_t ensemble_node(Ensemble *e, const float *tree, int64_t t, int64_t h, int64_t d) {
  int64_t inner = ((int64_t)1 << e->depth) - 1, K = e->values;
  while (d < e->depth && isinf(tree[2 * h + 1])) {
    h = 2 * h + 1;
    d++;
  }
  if (e->n == e->cap) {
    e->cap = 2 * e->cap + 64;
    GROW(e->tree, e->cap), GROW(e->id, e->cap), GROW(e->feature, e->cap), GROW(e->yes, e->cap);
    GROW(e->no, e->cap), GROW(e->value, e->cap);
    e->modes = mlp_xrealloc(e->modes, (size_t)e->cap * 12);
  }
  int64_t at = e->n++, id = at - e->base; /* preorder, from 0 in each tree */
  e->tree[at] = t;
  e->id[at] = id;
  bool leaf = d == e->depth;
  const char *mode = leaf ? "LEAF\n" : "BRANCH_LEQ\n";
  memcpy(e->modes + e->mlen, mode, strlen(mode));
  e->mlen += strlen(mode);
  e->feature[at] = leaf ? 0 : (int64_t)tree[2 * h];
  e->value[at] = leaf ? 0 : tree[2 * h + 1];
  e->yes[at] = e->no[at] = 0;
  if (!leaf) {
    int64_t yes = ensemble_node(e, tree, t, 2 * h + 1, d + 1);
    int64_t no = ensemble_node(e, tree, t, 2 * h + 2, d + 1);
    e->yes[at] = yes;
    e->no[at] = no;
    return id;
  }
  /* a forest classifier's leaf adds its probabilities / trees to the classes' scores */
  const float *v = tree + 2 * inner + (h - inner) * K;
  for (int64_t k = 0; k < K; k++) {
    if (e->nleaf == e->leafcap) {
      e->leafcap = 2 * e->leafcap + 64;
      GROW(e->ltree, e->leafcap), GROW(e->lid, e->leafcap), GROW(e->lclass, e->leafcap);
      GROW(e->lweight, e->leafcap);
    }
    e->ltree[e->nleaf] = t;
    e->lid[e->nleaf] = id;
    e->lclass[e->nleaf] = e->cls + k;
    e->lweight[e->nleaf++] = v[k] * e->scale;
  }
  return id;
}

/* The ensemble's arrays as a TreeEnsemble operator's attributes (the leaves' named with prefix). */
static void ensemble_attrs(Graph *g, Ensemble *e, Attrs *at, const char *prefix) {
  e->modes = mlp_xrealloc(e->modes, e->mlen + 1);
  e->modes[e->mlen] = '\0';
  g->ml = true;
  attr_ints(at, "nodes_treeids", e->tree, (int)e->n);
  attr_ints(at, "nodes_nodeids", e->id, (int)e->n);
  attr_ints(at, "nodes_featureids", e->feature, (int)e->n);
  attr_floats(at, "nodes_values", e->value, e->n);
  attr_lines(at, "nodes_modes", e->modes);
  attr_ints(at, "nodes_truenodeids", e->yes, (int)e->n);
  attr_ints(at, "nodes_falsenodeids", e->no, (int)e->n);
  attr_ints(at, mlp_arena_printf(g->a, "%s_treeids", prefix), e->ltree, (int)e->nleaf);
  attr_ints(at, mlp_arena_printf(g->a, "%s_nodeids", prefix), e->lid, (int)e->nleaf);
  attr_ints(at, mlp_arena_printf(g->a, "%s_ids", prefix), e->lclass, (int)e->nleaf);
  attr_floats(at, mlp_arena_printf(g->a, "%s_weights", prefix), e->lweight, e->nleaf);
  free(e->tree), free(e->id), free(e->feature), free(e->yes), free(e->no), free(e->value), free(e->modes);
  free(e->ltree), free(e->lid), free(e->lclass), free(e->lweight);
}

/* A TreeEnsembleClassifier over K classes: the graph's label and probabilities. */
static void ensemble_classifier(Graph *g, Attrs *at, const char *x, int64_t K) {
  int64_t *labels = mlp_xmalloc((size_t)K * sizeof *labels);
  for (int64_t k = 0; k < K; k++) labels[k] = k;
  attr_ints(at, "classlabels_int64s", labels, (int)K);
  free(labels);
  static const char *const outs[] = {"label", "probabilities"};
  node_outs(g, "ai.onnx.ml", "TreeEnsembleClassifier", outs, 2, at, &x, 1);
  int64_t pd[2] = {-1, K}, ld[1] = {-1};
  value_info(g, GRAPH_OUTPUT, "probabilities", ELEM_FLOAT, pd, 2);
  value_info(g, GRAPH_OUTPUT, "label", ELEM_INT64, ld, 1);
}

/* A TreeEnsembleRegressor of one target aggregated by `how`, with base value base (NULL: none). */
static const char *ensemble_regressor(Graph *g, Attrs *at, const char *x, const char *how,
                                      const float *base) {
  attr_int(at, "n_targets", 1);
  attr_str(at, "aggregate_function", how);
  if (base) attr_floats(at, "base_values", base, 1);
  const char *y = node_of(g, "ai.onnx.ml", "TreeEnsembleRegressor", NULL, at, &x, 1);
  int64_t yd[2] = {-1, 1};
  value_info(g, GRAPH_VALUE_INFO, y, ELEM_FLOAT, yd, 2);
  return y;
}

/* A random forest as one ai.onnx.ml operator over x: TreeEnsembleClassifier
 * over three classes or more gives the graph's label and probabilities (the
 * sums of the leaves' probabilities / trees) and NULL is returned;
 * TreeEnsembleRegressor averages P(class 1) of two classes, or the
 * standardised value, returned for outputs() to finish as a sigmoid unit's
 * or a regression's. */
static const char *forest_model(Graph *g, const MlpOnnxModel *mo, const char *x) {
  const MlpIrModel *m = mo->model;
  const MlpIrLayer *l = &m->layers[m->nlayers - 1];
  int64_t inner = ((int64_t)1 << m->depth) - 1, stride = 2 * inner + (inner + 1) * l->out_size;
  bool classify = m->task == MLP_TASK_MULTICLASS;
  Ensemble e = {.depth = m->depth, .values = l->out_size, .scale = classify ? 1.0f / (float)m->trees : 1.0f};
  for (int64_t t = 0; t < m->trees; t++) {
    e.base = e.n;
    ensemble_node(&e, mo->params + l->w_off + t * stride, t, 0, 0);
  }
  Attrs at = {0};
  ensemble_attrs(g, &e, &at, classify ? "class" : "target");
  attr_str(&at, "post_transform", "NONE");
  if (!classify) return ensemble_regressor(g, &at, x, "AVERAGE", NULL);
  ensemble_classifier(g, &at, x, l->out_size);
  return NULL;
}

/* Boosted trees as one ai.onnx.ml operator over x, the trees after early
 * stopping's best round left out: TreeEnsembleClassifier over three classes
 * or more (the base scores and a softmax) gives the graph's label and
 * probabilities and NULL is returned; TreeEnsembleRegressor sums the
 * log-odds of two classes, finished here by a sigmoid, or the standardised
 * value, returned for outputs() to finish as a sigmoid unit's or a
 * regression's. */
static const char *boost_model(Graph *g, const MlpOnnxModel *mo, const char *x) {
  const MlpIrModel *m = mo->model;
  const MlpIrLayer *l = &m->layers[m->nlayers - 1];
  int64_t inner = ((int64_t)1 << m->depth) - 1, stride = 3 * inner + 1, K = l->out_size, kept = 0;
  const float *trees = mo->params + l->w_off, *base = mo->params + l->b_off;
  Ensemble e = {.depth = m->depth, .values = 1, .scale = 1.0f};
  for (int64_t t = 0; t < m->trees * K; t++) {
    const float *tree = trees + t * stride;
    bool empty = isinf(tree[1]) && tree[2 * inner] == 0; /* a root chain to a leaf of 0 */
    for (int64_t d = 1, h = 1; empty && d < m->depth; d++, h = 2 * h + 1) empty = isinf(tree[2 * h + 1]);
    if (empty) continue;
    e.base = e.n;
    e.cls = t % K;
    ensemble_node(&e, tree, kept++, 0, 0);
  }
  Attrs at = {0};
  bool multi = m->task == MLP_TASK_MULTICLASS;
  ensemble_attrs(g, &e, &at, multi ? "class" : "target");
  attr_str(&at, "post_transform", multi ? "SOFTMAX" : "NONE");
  if (multi) {
    attr_floats(&at, "base_values", base, K);
    ensemble_classifier(g, &at, x, K);
    return NULL;
  }
  const char *y = ensemble_regressor(g, &at, x, "SUM", base);
  return m->task == MLP_TASK_BINARY ? node_named(g, "Sigmoid", NULL, NULL, 1, y) : y;
}

/* A support vector regression (svr, one class) as ai.onnx.ml's
 * SVMRegressor over x: the sum of coefficient * kernel plus the intercept,
 * the standardised value, returned for outputs() to scale. Without support
 * vectors (every row inside the tube), which SVMRegressor does not take,
 * the intercept alone, as a LinearRegressor of zero coefficients. */
static const char *svr_model(Graph *g, const MlpOnnxModel *mo, const char *x) {
  const MlpIrModel *m = mo->model;
  const MlpIrLayer *l = &m->layers[m->nlayers - 1];
  const float *p = mo->params + l->w_off;
  int64_t F = l->in_size, S = (int64_t)p[0], rec = F + 1;
  const float *bias = p + MLPRT_SVM_HEADER + 1, *sv = bias + 1;
  float *vectors = mlp_xmalloc((size_t)(S * F + 1) * sizeof *vectors);
  float *coef = mlp_xmalloc((size_t)(S + 1) * sizeof *coef);
  for (int64_t s = 0; s < S; s++) {
    memcpy(vectors + s * F, sv + s * rec, (size_t)F * sizeof *vectors);
    coef[s] = sv[s * rec + F];
  }
  static const char *const kinds[] = {"LINEAR", "RBF", "POLY"}; /* by MlprtSvmKernel */
  float kp[3] = {p[2], p[3], p[4]};
  Attrs at = {0};
  g->ml = true;
  const char *y;
  if (S == 0) {
    float *zero = mlp_xmalloc((size_t)F * sizeof *zero);
    memset(zero, 0, (size_t)F * sizeof *zero);
    attr_floats(&at, "coefficients", zero, F);
    attr_floats(&at, "intercepts", bias, 1);
    attr_int(&at, "targets", 1);
    y = node_of(g, "ai.onnx.ml", "LinearRegressor", NULL, &at, &x, 1);
    free(zero);
  } else {
    attr_str(&at, "kernel_type", kinds[(int)p[1]]);
    attr_floats(&at, "kernel_params", kp, 3);
    attr_int(&at, "n_supports", S);
    attr_floats(&at, "support_vectors", vectors, S * F);
    attr_floats(&at, "coefficients", coef, S);
    attr_floats(&at, "rho", bias, 1);
    attr_str(&at, "post_transform", "NONE");
    y = node_of(g, "ai.onnx.ml", "SVMRegressor", NULL, &at, &x, 1);
  }
  free(vectors), free(coef);
  int64_t yd[2] = {-1, 1};
  value_info(g, GRAPH_VALUE_INFO, y, ELEM_FLOAT, yd, 2);
  return y;
}

/* A support vector machine as ai.onnx.ml's SVMClassifier over x (libsvm's
 * layout, which the stored machine keeps; the intercepts are its rho),
 * whose scores are the pairs' decision values d (two classes: -d and d),
 * finished as mlprt_svm_forward finishes them: two classes, P(class 1) =
 * the logistic function of -d; more, the softmax of the votes plus the
 * transformed confidences, both sums over the pairs through one matrix D
 * (D[p][i] = 1, D[p][j] = -1 for pair p = (i, j)): votes = [d > 0] D +
 * (0, 1, ..., K - 1) and c = d D. Returns the output for outputs(). */
static const char *svm_model(Graph *g, const MlpOnnxModel *mo, const char *x) {
  const MlpIrModel *m = mo->model;
  const MlpIrLayer *l = &m->layers[m->nlayers - 1];
  const float *p = mo->params + l->w_off;
  int64_t K = m->svm_classes, P = K * (K - 1) / 2, F = l->in_size, S = (int64_t)p[0], rec = F + K - 1;
  const float *counts = p + MLPRT_SVM_HEADER, *bias = counts + K, *sv = bias + P;
  float *vectors = mlp_xmalloc((size_t)(S * F + 1) * sizeof *vectors);
  float *coef = mlp_xmalloc((size_t)((K - 1) * S + 1) * sizeof *coef);
  int64_t *per = mlp_xmalloc((size_t)K * sizeof *per), *labels = mlp_xmalloc((size_t)K * sizeof *labels);
  for (int64_t s = 0; s < S; s++) {
    memcpy(vectors + s * F, sv + s * rec, (size_t)F * sizeof *vectors);
    for (int64_t c = 0; c < K - 1; c++) coef[c * S + s] = sv[s * rec + F + c];
  }
  for (int64_t k = 0; k < K; k++) per[k] = (int64_t)counts[k], labels[k] = k;
  static const char *const kinds[] = {"LINEAR", "RBF", "POLY"}; /* by MlprtSvmKernel */
  float kp[3] = {p[2], p[3], p[4]};
  Attrs at = {0};
  g->ml = true;
  attr_str(&at, "kernel_type", kinds[(int)p[1]]);
  attr_floats(&at, "kernel_params", kp, 3);
  attr_ints(&at, "vectors_per_class", per, (int)K);
  attr_floats(&at, "support_vectors", vectors, S * F);
  attr_floats(&at, "coefficients", coef, (K - 1) * S);
  attr_floats(&at, "rho", bias, P);
  attr_ints(&at, "classlabels_ints", labels, (int)K);
  attr_str(&at, "post_transform", "NONE");
  const char *outs[] = {fresh(g, "svm_label"), fresh(g, "svm_scores")};
  node_outs(g, "ai.onnx.ml", "SVMClassifier", outs, 2, &at, &x, 1);
  free(vectors), free(coef), free(per), free(labels);
  const char *d = outs[1], *y;
  if (K == 2) {
    int64_t col = 0; /* -d */
    y = node1(g, "Sigmoid", gather(g, d, &col, 1));
  } else {
    float *D = mlp_xmalloc((size_t)(P * K) * sizeof *D), *base = mlp_xmalloc((size_t)K * sizeof *base);
    memset(D, 0, (size_t)(P * K) * sizeof *D);
    int64_t q = 0;
    for (int64_t i = 0; i < K; i++) {
      base[i] = (float)i;
      for (int64_t j = i + 1; j < K; j++, q++) D[q * K + i] = 1, D[q * K + j] = -1;
    }
    int64_t dd[2] = {P, K}, bd[1] = {K};
    const char *Dm = const_floats(g, "pairs", dd, 2, D);
    Attrs to = {0};
    attr_int(&to, "to", ELEM_FLOAT);
    const char *won = node_named(g, "Cast", NULL, &to, 1, node2(g, "Greater", d, const_scalar(g, 0.0f)));
    const char *votes = node2(g, "Add", node2(g, "MatMul", won, Dm), const_floats(g, "base", bd, 1, base));
    const char *c = node2(g, "MatMul", d, Dm);
    const char *den = node2(g, "Add", node1(g, "Abs", c), const_scalar(g, 1.0f));
    den = node2(g, "Mul", const_scalar(g, 3.0f), den);
    y = activation(g, node2(g, "Add", votes, node2(g, "Div", c, den)), MLP_ACT_SOFTMAX);
    free(D), free(base);
  }
  int64_t yd[2] = {-1, l->out_size};
  value_info(g, GRAPH_VALUE_INFO, y, ELEM_FLOAT, yd, 2);
  return y;
}

/* ---- the model file --------------------------------------------------------------- */

static void metadata(Pb *model, const char *key, const char *value) {
  Pb e = {0};
  pb_str(&e, ENTRY_KEY, key);
  pb_str(&e, ENTRY_VALUE, value);
  pb_msg(model, MODEL_METADATA, &e);
}

/* The graph's outputs from the model's [N, out_size]: probabilities and
 * label, or the value in the target's units. */
static void outputs(Graph *g, const MlpOnnxModel *mo, const char *y) {
  const MlpIrModel *m = mo->model;
  if (m->task == MLP_TASK_REGRESSION) {
    const char *v = node2(g, "Mul", y, const_scalar(g, (float)mo->y_std));
    node_named(g, "Add", "value", NULL, 2, v, const_scalar(g, (float)mo->y_mean));
    int64_t d[2] = {-1, m->out_size};
    value_info(g, GRAPH_OUTPUT, "value", ELEM_FLOAT, d, 2);
    return;
  }
  int64_t k = m->out_size;
  if (m->task == MLP_TASK_BINARY) {
    /* one sigmoid unit gives P(class 1); class 0 gets the rest */
    const char *q = node2(g, "Sub", const_scalar(g, 1.0f), y);
    const char *pair[2] = {q, y};
    concat(g, pair, 2, "probabilities");
    k = 2;
  } else {
    node_named(g, "Identity", "probabilities", NULL, 1, y);
  }
  Attrs at = {0};
  attr_int(&at, "axis", 1);
  attr_int(&at, "keepdims", 0);
  node_named(g, "ArgMax", "label", &at, 1, "probabilities");
  int64_t pd[2] = {-1, k}, ld[1] = {-1};
  value_info(g, GRAPH_OUTPUT, "probabilities", ELEM_FLOAT, pd, 2);
  value_info(g, GRAPH_OUTPUT, "label", ELEM_INT64, ld, 1);
}

int mlp_onnx_encode(const MlpOnnxModel *mo, uint8_t **buf, size_t *len, char *err, size_t n) {
  MlpArena a;
  mlp_arena_init(&a);
  Graph g = {.a = &a};
  const MlpIrModel *m = mo->model;
  pb_str(&g.g, GRAPH_NAME, mo->name ? mo->name : "model");
  const char *x = NULL, *y = NULL;
  int rc = 0;
  if (mo->plan->nfeatures != m->in_size)
    rc = mlp_failf(err, n, "the feature program makes %lld features but the model takes %lld",
              (long long)mo->plan->nfeatures, (long long)m->in_size);
  else rc = features(&g, mo->plan, &x, err, n);
  if (rc == 0 && m->kind == MLP_MODEL_LINEAR) y = linear_model(&g, mo, x);
  else if (rc == 0 && m->kind == MLP_MODEL_FOREST) y = forest_model(&g, mo, x);
  else if (rc == 0 && m->kind == MLP_MODEL_SVM)
    y = m->task == MLP_TASK_REGRESSION ? svr_model(&g, mo, x) : svm_model(&g, mo, x);
  else if (rc == 0 && m->kind == MLP_MODEL_BOOST) y = boost_model(&g, mo, x);
  else if (rc == 0) rc = layers(&g, mo, x, &y, err, n);
  if (rc == 0 && y) outputs(&g, mo, y);
  if (rc) {
    free(g.g.p);
    mlp_arena_free(&a);
    return -1;
  }

  Pb model = {0}, opset = {0};
  pb_int(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
  pb_str(&model, MODEL_PRODUCER, "mlpc");
  pb_str(&model, MODEL_PRODUCER_VERSION, MLP_VERSION);
  pb_str(&opset, OPSET_DOMAIN, "");
  pb_int(&opset, OPSET_VERSION, ONNX_OPSET);
  pb_msg(&model, MODEL_OPSET, &opset);
  if (g.ml) {
    pb_str(&opset, OPSET_DOMAIN, "ai.onnx.ml");
    pb_int(&opset, OPSET_VERSION, ONNX_ML_OPSET);
    pb_msg(&model, MODEL_OPSET, &opset);
  }
  if (g.ms) {
    pb_str(&opset, OPSET_DOMAIN, "com.microsoft");
    pb_int(&opset, OPSET_VERSION, ONNX_MS_OPSET);
    pb_msg(&model, MODEL_OPSET, &opset);
  }
  pb_str(&model, MODEL_DOC, "input: the raw numeric and boolean columns the model reads, in source order "
                            "(NaN for missing); input_text: the category columns' texts");
  pb_msg(&model, MODEL_GRAPH, &g.g);
  if (mo->version) metadata(&model, "version", mo->version);
  if (mo->classes) {
    /* "a\nb\n" -> "a,b" */
    char *c = mlp_arena_strdup(&a, mo->classes);
    size_t cl = strlen(c);
    if (cl && c[cl - 1] == '\n') c[--cl] = '\0';
    for (char *p = c; *p; p++)
      if (*p == '\n') *p = ',';
    metadata(&model, "classes", c);
  }
  /* the columns of each input, comma-separated: those the model reads */
  const char *cols[2] = {"", ""};
  uint8_t *live = mlp_arena_alloc(&a, (size_t)(mo->plan->nslots ? mo->plan->nslots : 1));
  mlprt_pred_plan_live(mo->plan, live);
  for (int64_t i = 0; i < mo->plan->ninputs; i++) {
    if (!live[i]) continue;
    int64_t t = mo->plan->inputs[i].type;
    int k = t == MLPRT_COL_CATEGORY || t == MLPRT_COL_TEXT;
    cols[k] = mlp_arena_printf(&a, "%s%s%s", cols[k], *cols[k] ? "," : "", mo->plan->inputs[i].name);
  }
  if (*cols[0]) metadata(&model, "input_columns", cols[0]);
  if (*cols[1]) metadata(&model, "input_text_columns", cols[1]);
  mlp_arena_free(&a);
  *buf = model.p;
  *len = model.len;
  return 0;
}

int mlp_onnx_write(const MlpOnnxModel *m, const char *path, char *err, size_t n) {
  uint8_t *buf;
  size_t len;
  if (mlp_onnx_encode(m, &buf, &len, err, n)) return -1;
  int rc = mlprt_write_atomic(path, buf, len, false) == 0
               ? 0
               : mlp_failf(err, n, "cannot write %s: %s", path, strerror(errno));
  free(buf);
  return rc;
}

/* The ONNX model of a loaded run at path. */
static int export_loaded(MlpArena *a, const MlpRunDir *rd, const char *path, char *err, size_t n) {
  MlprtPredPlan plan;
  if (mlp_rundir_plan(a, rd, &plan, err, n)) return -1;
  const float *state = rd->n_state ? rd->weights + rd->n_params : NULL;
  MlpOnnxModel mo = {rd->name, rd->version, rd->model,        rd->weights,
                     state,    &plan,       rd->classes_text, rd->y_mean, rd->y_std};
  int rc = mlp_onnx_write(&mo, path, err, n);
  mlprt_pred_plan_free(&plan);
  return rc;
}

int mlp_onnx_export(const char *run_dir, const char *path, const char *beside, FILE *announce, char *err,
                    size_t n) {
  MlpArena a;
  mlp_arena_init(&a);
  MlpRunDir rd;
  int rc = mlp_rundir_load(&a, run_dir, &rd, err, n);
  if (rc == 0) {
    if (!path) {
      path = rd.ir->deploy.onnx;
      const char *slash = beside ? strrchr(beside, '/') : NULL;
      if (path && path[0] != '/' && slash)
        path = mlp_arena_printf(&a, "%.*s/%s", (int)(slash - beside), beside, path);
    }
    if (path) rc = export_loaded(&a, &rd, path, err, n);
    struct stat st;
    if (path && rc == 0 && announce)
      fprintf(announce, "wrote %s (%ld bytes)\n", path, stat(path, &st) == 0 ? (long)st.st_size : -1L);
    mlp_rundir_free(&rd);
  }
  mlp_arena_free(&a);
  return rc;
}
