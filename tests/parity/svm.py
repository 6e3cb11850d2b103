"""scikit-learn's counterpart of an mlpc support vector machine.

    svm.py DIR TARGET WEIGHTS CLASSES [NAME=VALUE ...]

Fits SVC on DIR/train.csv (the cleaned training rows a program's
--export-features wrote; TARGET is the column to predict, the others are the
features; booleans are 1 and 0) with the settings as scikit-learn names them
(kernel: linear, rbf or poly; C, gamma: a number or scale; degree, coef0),
and evaluates the machine mlpc stored in WEIGHTS (its weights.bin; CLASSES:
its class names, comma-separated, in its order) on DIR/test.csv the way
abi.def's mlprt_svm_forward does. Prints one JSON object: "score", SVC's
accuracy on the test rows; "mlpc_score", the stored machine's (by its
votes); "support_vectors", SVC's and mlpc's; "decision_diff", the largest
difference between the pairs' decision values, and "decision_scale", the
largest of SVC's. Exit status 2 when scikit-learn is missing (the caller
skips)."""
import json
import sys

import numpy as np

from exported import load

try:
    from sklearn import svm
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(2)

HEADER = 5  # floats before the per-class counts (layers.h's MLPRT_SVM_HEADER)


def kernel(kind, gamma, coef0, degree, x, v):
    xy = x @ v.T
    if kind == 1:
        sq = (x * x).sum(1)[:, None] + (v * v).sum(1)[None, :] - 2 * xy
        return np.exp(-gamma * sq)
    if kind == 2:
        return (gamma * xy + coef0) ** degree
    return xy


def stored_decisions(path, x, k):
    """The pairs' decision values [rows, pairs] of the stored machine."""
    w = np.fromfile(path, dtype="<f4").astype(np.float64)
    f = x.shape[1]
    s, kind, gamma, coef0, degree = int(w[0]), int(w[1]), w[2], w[3], int(w[4])
    counts = w[HEADER:HEADER + k].astype(int)
    pairs = k * (k - 1) // 2
    bias = w[HEADER + k:HEADER + k + pairs]
    rec = w[HEADER + k + pairs:HEADER + k + pairs + s * (f + k - 1)].reshape(s, f + k - 1)
    kv = kernel(kind, gamma, coef0, degree, x, rec[:, :f])
    start = np.concatenate([[0], np.cumsum(counts)])
    out, p = np.zeros((x.shape[0], pairs)), 0
    for i in range(k):
        for j in range(i + 1, k):
            si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
            out[:, p] = kv[:, si] @ rec[si, f + j - 1] + kv[:, sj] @ rec[sj, f + i] + bias[p]
            p += 1
    return out, s


def votes(d, k):
    v, p = np.zeros((d.shape[0], k)), 0
    for i in range(k):
        for j in range(i + 1, k):
            v[d[:, p] > 0, i] += 1
            v[d[:, p] <= 0, j] += 1
            p += 1
    return v.argmax(1)


def main():
    folder, target, weights, classes = sys.argv[1:5]
    opts = dict(a.split("=", 1) for a in sys.argv[5:])
    xtr, ytr = load(folder + "/train.csv", target, np.float64)
    xte, yte = load(folder + "/test.csv", target, np.float64)
    names = classes.split(",")
    k = len(names)
    gamma = opts.get("gamma", "scale")
    m = svm.SVC(kernel=opts.get("kernel", "rbf"), C=float(opts.get("C", 1)),
                gamma=gamma if gamma == "scale" else float(gamma), degree=int(opts.get("degree", 3)),
                coef0=float(opts.get("coef0", 0)), decision_function_shape="ovo")
    m.fit(xtr, ytr)
    order = [list(m.classes_).index(c) for c in names]
    assert order == sorted(order), "SVC orders the classes otherwise"
    want = m.decision_function(xte)
    want = -want[:, None] if k == 2 else want  # SVC's binary decision favours its second class
    got, s = stored_decisions(weights, xte, k)
    label = np.array([names.index(y) for y in yte])
    print(json.dumps({"score": float(m.score(xte, yte)), "mlpc_score": float((votes(got, k) == label).mean()),
                      "support_vectors": [int(m.support_.size), s],
                      "decision_diff": float(np.abs(got - want).max()),
                      "decision_scale": float(np.abs(want).max())}))


main()
