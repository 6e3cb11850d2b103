"""A small ONNX interpreter in numpy, for the operators mlpc's export writes.

Used by run_ref.py where the installed onnx has no onnx.reference (before
onnx 1.13), so that the exported graphs are still evaluated by an
implementation independent of mlpc and of ONNX Runtime. It follows the
ONNX operator definitions (opset 13, RNN/LSTM/GRU forward or bidirectional
with their default activations; ai.onnx.ml LabelEncoder 2, LinearClassifier 1,
LinearRegressor 1, SVMClassifier 1, SVMRegressor 1, TreeEnsembleClassifier 1, TreeEnsembleRegressor 1) for
the attributes mlpc uses; anything else raises."""
import re

import math

import numpy as np
from onnx import numpy_helper
from onnx.helper import get_attribute_value

FLOAT, INT64, STRING, BOOL = 1, 7, 8, 9
CAST = {FLOAT: np.float32, INT64: np.int64, BOOL: np.bool_}


def _conv(x, w, b, strides, pads):
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // strides[0] + 1
    ow = (x.shape[3] - kw) // strides[1] + 1
    out = np.zeros((n, oc, oh, ow), dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return (out + b.reshape(1, -1, 1, 1)).astype(np.float32)


def _pool(x, k, strides, reduce):
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // strides[0] + 1, (w - k[1]) // strides[1] + 1
    out = np.zeros((n, c, oh, ow), dtype=np.float32)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(x[:, :, i * strides[0]:i * strides[0] + k[0],
                                       j * strides[1]:j * strides[1] + k[1]], axis=(2, 3))
    return out


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _recurrent(op, x, w, r, b, a):
    """RNN, LSTM and GRU, layout 0, zero initial state, default activations:
    Y [T, D, N, H] and Y_h [D, N, H] (and Y_c), D = 2 when bidirectional
    (the second direction reads the steps from the last; its Y in step
    order). Gates in ONNX's order: LSTM i o f c, GRU z r h."""
    if _str(a.get("direction", b"forward")) == "bidirectional":
        one = {k: v for k, v in a.items() if k != "direction"}
        fwd = _recurrent(op, x, w[:1], r[:1], None if b is None else b[:1], one)
        rev = _recurrent(op, x[::-1], w[1:], r[1:], None if b is None else b[1:], one)
        y = np.concatenate([fwd[0], rev[0][::-1]], axis=1)
        return (y,) + tuple(np.concatenate([f, v]) for f, v in zip(fwd[1:], rev[1:]))
    hs = a["hidden_size"]
    x, w, r = x.astype(np.float64), w[0].astype(np.float64), r[0].astype(np.float64)
    g = w.shape[0] // hs
    wb, rb = (b[0, :g * hs], b[0, g * hs:]) if b is not None else (np.zeros(g * hs), np.zeros(g * hs))
    h = np.zeros((x.shape[1], hs))
    c = np.zeros_like(h)
    ys = []
    for xt in x:
        xp, hp = xt @ w.T + wb, h @ r.T + rb
        part = lambda m, k: m[:, k * hs:(k + 1) * hs]
        if op == "RNN":
            h = np.tanh(xp + hp)
        elif op == "LSTM":
            i, o = _sigmoid(part(xp, 0) + part(hp, 0)), _sigmoid(part(xp, 1) + part(hp, 1))
            f, cc = _sigmoid(part(xp, 2) + part(hp, 2)), np.tanh(part(xp, 3) + part(hp, 3))
            c = f * c + i * cc
            h = o * np.tanh(c)
        else:
            z, rt = _sigmoid(part(xp, 0) + part(hp, 0)), _sigmoid(part(xp, 1) + part(hp, 1))
            if a.get("linear_before_reset", 0):
                n = np.tanh(part(xp, 2) + rt * part(hp, 2))
            else:
                n = np.tanh(part(xp, 2) + (rt * h) @ r[2 * hs:].T + rb[2 * hs:])
            h = (1 - z) * n + z * h
        ys.append(h)
    y = np.stack(ys)[:, None].astype(np.float32)
    out = (y, y[-1])
    return out + (c[None].astype(np.float32),) if op == "LSTM" else out


def _run_node(node, inputs, a):
    op = node.op_type
    x = inputs[0] if inputs else None
    if op == "Gather":
        return np.take(x, inputs[1], axis=a.get("axis", 0))
    if op == "Where":
        return np.where(inputs[0], inputs[1], inputs[2])
    if op == "IsNaN":
        return np.isnan(x)
    simple = {"Greater": np.greater, "Less": np.less, "LessOrEqual": np.less_equal, "Equal": np.equal,
              "And": np.logical_and, "Sub": np.subtract, "Mul": np.multiply, "Add": np.add,
              "Div": np.divide}
    if op in simple:
        with np.errstate(divide="ignore", invalid="ignore"):  # a 0 norm: Where picks the other side
            return simple[op](inputs[0], inputs[1])
    if op == "Not":
        return np.logical_not(x)
    if op == "Sqrt":
        return np.sqrt(x)
    if op == "ReduceMean":
        axes = tuple(a["axes"]) if "axes" in a else None
        return np.mean(x, axis=axes, keepdims=bool(a.get("keepdims", 1)), dtype=np.float64).astype(x.dtype)
    if op == "ReduceMax":
        return np.max(x, axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
    if op == "MatMul":
        return np.matmul(x.astype(np.float64), inputs[1].astype(np.float64)).astype(np.float32)
    if op == "Erf":
        return np.vectorize(math.erf, otypes=[np.float64])(x).astype(np.float32)
    if op == "Log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)
    if op == "Cast":
        return x.astype(CAST[a["to"]])
    if op == "Identity":
        return x
    if op == "Concat":
        return np.concatenate(inputs, axis=a["axis"])
    if op == "Gemm":
        w = inputs[1].T if a.get("transB", 0) else inputs[1]
        c = inputs[2] if len(inputs) > 2 else 0  # C is optional (a layer without bias)
        return (x.astype(np.float64) @ w.astype(np.float64) + c).astype(np.float32)
    if op == "Relu":
        return np.maximum(x, 0).astype(np.float32)
    if op == "LeakyRelu":
        return np.where(x > 0, x, x * np.float32(a.get("alpha", 0.01))).astype(np.float32)
    if op == "MatMul":
        return (x.astype(np.float64) @ inputs[1].astype(np.float64)).astype(np.float32)
    if op == "Abs":
        return np.abs(x)
    if op == "Sigmoid":
        return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    if op == "Tanh":
        return np.tanh(x)
    if op == "Softmax":
        e = np.exp(x - x.max(axis=a.get("axis", -1), keepdims=True))
        return e / e.sum(axis=a.get("axis", -1), keepdims=True)
    if op == "ArgMax":
        r = np.argmax(x, axis=a.get("axis", 0))
        return np.expand_dims(r, a.get("axis", 0)) if a.get("keepdims", 1) else r
    if op == "Reshape":
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(inputs[1])]
        return x.reshape(shape)
    if op == "Transpose":
        return np.transpose(x, a.get("perm"))
    if op == "Slice":
        axes = inputs[3] if len(inputs) > 3 else range(len(inputs[1]))
        index = [slice(None)] * x.ndim
        for ax, lo, hi in zip(axes, inputs[1], inputs[2]):
            index[ax] = slice(lo, hi)
        return x[tuple(index)]
    if op in ("RNN", "LSTM", "GRU"):
        return _recurrent(op, x, inputs[1], inputs[2], inputs[3] if len(inputs) > 3 else None, a)
    if op == "Flatten":
        ax = a.get("axis", 1)
        return x.reshape(int(np.prod(x.shape[:ax])), -1)
    if op == "Conv":
        return _conv(x, inputs[1], inputs[2], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]))
    if op == "MaxPool":
        return _pool(x, a["kernel_shape"], a.get("strides", [1, 1]), np.max)
    if op == "AveragePool":
        return _pool(x, a["kernel_shape"], a.get("strides", [1, 1]), np.mean)
    if op == "BatchNormalization":
        shape = [1, -1] + [1] * (x.ndim - 2)
        g, b, m, v = (t.reshape(shape) for t in inputs[1:5])
        return ((x - m) / np.sqrt(v + np.float32(a.get("epsilon", 1e-5))) * g + b).astype(np.float32)
    if op == "LabelEncoder" and node.domain == "ai.onnx.ml":
        table = {k.decode() if isinstance(k, bytes) else k: v
                 for k, v in zip(a["keys_strings"], a["values_int64s"])}
        def code(s):  # texts arrive as str (inputs) or bytes (initializers)
            return table.get(s.decode() if isinstance(s, bytes) else s, a["default_int64"])
        return np.vectorize(code, otypes=[np.int64])(x)
    if op == "Sqrt":
        return np.sqrt(x)
    if op == "ReduceSum":
        return x.sum(axis=tuple(int(i) for i in inputs[1]), keepdims=bool(a.get("keepdims", 1)))
    if op in ("StringNormalizer", "Tokenizer", "TfIdfVectorizer"):
        return _text(op, x, a)
    if op in ("LinearClassifier", "LinearRegressor") and node.domain == "ai.onnx.ml":
        rows = len(a["intercepts"])
        w = np.array(a["coefficients"], dtype=np.float64).reshape(rows, -1)
        z = x.astype(np.float64) @ w.T + np.array(a["intercepts"], dtype=np.float64)
        post = a.get("post_transform", b"NONE")
        post = post.decode() if isinstance(post, bytes) else post
        if post == "SOFTMAX":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            z = e / e.sum(axis=1, keepdims=True)
        elif post == "LOGISTIC":
            z = 1 / (1 + np.exp(-z))
        elif post != "NONE":
            raise NotImplementedError(f"onnx_numpy: post_transform {post}")
        if op == "LinearRegressor":
            return z.astype(np.float32)
        labels = np.array(a["classlabels_ints"], dtype=np.int64)
        return labels[np.argmax(z, axis=1)], z.astype(np.float32)
    if op in ("TreeEnsembleClassifier", "TreeEnsembleRegressor") and node.domain == "ai.onnx.ml":
        return _trees(op, x, a)
    if op == "SVMClassifier" and node.domain == "ai.onnx.ml":
        return _svm(x, a)
    if op == "SVMRegressor" and node.domain == "ai.onnx.ml":
        return _svr(x, a)
    raise NotImplementedError(f"onnx_numpy: operator {node.domain or 'ai.onnx'}.{op}")


def _trees(op, x, a):
    """Each row down every tree (BRANCH_LEQ: x <= value is the true branch),
    the weights of the leaves reached added per output (summed, or averaged
    over the trees for a regressor's AVERAGE), then the base values, then
    the post transform (NONE, SOFTMAX or LOGISTIC)."""
    post = _str(a.get("post_transform", b"NONE"))
    if post not in ("NONE", "SOFTMAX", "LOGISTIC"):
        raise NotImplementedError(f"onnx_numpy: a tree ensemble's post_transform {post}")
    key = {(t, n): i for i, (t, n) in enumerate(zip(a["nodes_treeids"], a["nodes_nodeids"]))}
    modes = [_str(m) for m in a["nodes_modes"]]
    if set(modes) - {"BRANCH_LEQ", "LEAF"}:
        raise NotImplementedError(f"onnx_numpy: tree node modes {set(modes)}")
    prefix = "class" if op == "TreeEnsembleClassifier" else "target"
    leaves = {}
    for t, n, k, w in zip(a[prefix + "_treeids"], a[prefix + "_nodeids"], a[prefix + "_ids"],
                          a[prefix + "_weights"]):
        leaves.setdefault((t, n), []).append((k, w))
    trees = sorted(set(a["nodes_treeids"]))
    width = len(a["classlabels_int64s"]) if prefix == "class" else a.get("n_targets", 1)
    out = np.zeros((x.shape[0], width), dtype=np.float64)
    for r in range(x.shape[0]):
        for t in trees:
            i = key[(t, 0)]
            while modes[i] != "LEAF":
                yes = x[r, a["nodes_featureids"][i]] <= np.float32(a["nodes_values"][i])
                i = key[(t, a["nodes_truenodeids"][i] if yes else a["nodes_falsenodeids"][i])]
            for k, w in leaves.get((t, a["nodes_nodeids"][i]), []):
                out[r, k] += w
    if prefix == "target" and _str(a.get("aggregate_function", b"SUM")) == "AVERAGE":
        out /= len(trees)
    if a.get("base_values"):
        out += np.array(a["base_values"], dtype=np.float64)
    if post == "SOFTMAX":
        e = np.exp(out - out.max(axis=1, keepdims=True))
        out = e / e.sum(axis=1, keepdims=True)
    elif post == "LOGISTIC":
        out = 1 / (1 + np.exp(-out))
    if prefix == "target":
        return out.astype(np.float32)
    labels = np.array(a["classlabels_int64s"], dtype=np.int64)
    return labels[np.argmax(out, axis=1)], out.astype(np.float32)


def _svm_kernel(x, a, s):
    """The kernel [rows, s] of the rows x and the s support vectors of an SVM operator."""
    sv = np.array(a["support_vectors"], dtype=np.float64).reshape(s, -1)
    gamma, coef0, degree = (list(a.get("kernel_params", [])) + [0.0, 0.0, 3.0])[:3]
    kind = _str(a.get("kernel_type", b"LINEAR"))
    xv = x.astype(np.float64)
    dot = xv @ sv.T
    if kind == "RBF":
        return np.exp(-gamma * ((xv * xv).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2 * dot))
    if kind == "POLY":
        return (gamma * dot + coef0) ** int(degree)
    if kind == "LINEAR":
        return dot
    raise NotImplementedError(f"onnx_numpy: SVM kernel {kind}")


def _svr(x, a):
    """The sum of coefficient * kernel over the support vectors plus rho, one
    value a row."""
    if _str(a.get("post_transform", b"NONE")) != "NONE" or a.get("one_class", 0):
        raise NotImplementedError("onnx_numpy: SVMRegressor one-class or with a post_transform")
    s = a["n_supports"]
    coef = np.array(a["coefficients"], dtype=np.float64)
    return ((_svm_kernel(x, a, s) @ coef + a["rho"][0])[:, None]).astype(np.float32)


def _svm(x, a):
    """One against one without probabilities, as ONNX Runtime scores it:
    the decision of pair (i, j), i < j, is the sum of coefficient * kernel
    over the support vectors of classes i and j (a vector of class k holds
    its coefficient against class j in row j - (j > k)) plus rho, and votes
    for i when above 0; the scores are the decisions ([-d, d] for two
    classes) and the label the first class with the most votes."""
    if _str(a.get("post_transform", b"NONE")) != "NONE" or "prob_a" in a:
        raise NotImplementedError("onnx_numpy: SVMClassifier with probabilities or a post_transform")
    per = list(a["vectors_per_class"])
    k, s = len(per), sum(per)
    coef = np.array(a["coefficients"], dtype=np.float64).reshape(k - 1, s)
    kern = _svm_kernel(x, a, s)
    start = np.concatenate([[0], np.cumsum(per)]).astype(int)
    d, votes, p = [], np.zeros((x.shape[0], k), dtype=np.int64), 0
    for i in range(k):
        for j in range(i + 1, k):
            si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
            v = kern[:, si] @ coef[j - 1, si] + kern[:, sj] @ coef[i, sj] + a["rho"][p]
            votes[v > 0, i] += 1
            votes[v <= 0, j] += 1
            d.append(v)
            p += 1
    d = np.stack(d, axis=1)
    scores = np.concatenate([-d, d], axis=1) if k == 2 else d
    labels = np.array(a["classlabels_ints"], dtype=np.int64)
    return labels[np.argmax(votes, axis=1)], scores.astype(np.float32)


def _str(s):
    return s.decode() if isinstance(s, bytes) else s


def _text(op, x, a):
    """The text operators mlpc writes for a word vectorizer: StringNormalizer
    (lowercase), com.microsoft's Tokenizer (tokens matching tokenexp, padded
    with pad_value), TfIdfVectorizer (TF mode: counts of the pool's n-grams)."""
    if op == "StringNormalizer":
        assert _str(a["case_change_action"]) == "LOWER" and not a.get("stopwords")
        return np.array([_str(s).lower() for s in x.ravel()], dtype=object).reshape(x.shape)
    if op == "Tokenizer":
        expr, pad = re.compile(_str(a["tokenexp"])), _str(a["pad_value"])
        rows = [[t for t in expr.findall(_str(s)) if len(t) >= a.get("mincharnum", 1)] for s in x.ravel()]
        width = max([len(r) for r in rows] + [1])
        return np.array([r + [pad] * (width - len(r)) for r in rows], dtype=object)
    assert _str(a["mode"]) == "TF" and a.get("max_skip_count", 0) == 0
    pool, starts, index = [_str(s) for s in a["pool_strings"]], list(a["ngram_counts"]), a["ngram_indexes"]
    grams, k = {}, 0
    for n in range(1, len(starts) + 1):
        end = starts[n] if n < len(starts) else len(pool)
        for i in range(starts[n - 1], end, n):
            grams[tuple(pool[i:i + n])] = index[k]
            k += 1
    out = np.zeros((x.shape[0], max(index) + 1), dtype=np.float32)
    for r, row in enumerate(x):
        row = [_str(t) for t in row]
        for n in range(a["min_gram_length"], a["max_gram_length"] + 1):
            for i in range(len(row) - n + 1):
                col = grams.get(tuple(row[i:i + n]))
                if col is not None:
                    out[r, col] += 1
    return out


def run(model, feeds):
    """The graph's outputs, in order, for the inputs feeds (name -> array)."""
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        attrs = {at.name: get_attribute_value(at) for at in node.attribute}
        out = _run_node(node, [env[i] for i in node.input], attrs)
        for name, value in zip(node.output, out if isinstance(out, tuple) else (out,)):
            env[name] = value
    return [env[o.name] for o in model.graph.output]
