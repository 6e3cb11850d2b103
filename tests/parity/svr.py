"""scikit-learn's counterpart of an mlpc support vector regression.

    svr.py DIR TARGET PREDICTIONS [NAME=VALUE ...]

Fits SVR on DIR/train.csv (the cleaned training rows a program's
--export-features wrote; TARGET is the column to predict, the others are the
features; booleans are 1 and 0) with the settings as scikit-learn names them
(kernel: linear, rbf or poly; C, epsilon; gamma: a number or scale; degree,
coef0), without shrinking, as mlpc's solver works, and predicts DIR/test.csv.
PREDICTIONS is the run's predictions.csv (the test rows in order). Prints one
JSON object: "support_vectors", SVR's; "diff", the largest difference of
the predictions relative to the larger of SVR's |prediction| and the
training target's standard deviation; "rows", the test rows. Exit status 2
when scikit-learn is missing (the caller skips)."""
import csv
import json
import sys

import numpy as np

from exported import regression_splits, sklearn


def main():
    folder, target, predictions = sys.argv[1:4]
    opts = dict(a.split("=", 1) for a in sys.argv[4:])
    svm = sklearn("svm")
    xtr, ytr, xte, _ = regression_splits(folder, target, np.float64, True)
    gamma = opts.get("gamma", "scale")
    m = svm.SVR(kernel=opts.get("kernel", "rbf"), C=float(opts.get("C", 1)),
                epsilon=float(opts.get("epsilon", 0.1)), gamma=gamma if gamma == "scale" else float(gamma),
                degree=int(opts.get("degree", 3)), coef0=float(opts.get("coef0", 0)), shrinking=False)
    m.fit(xtr, ytr)
    want = m.predict(xte)
    with open(predictions, newline="") as f:
        got = np.array([float(r["value"]) for r in csv.DictReader(f)])
    assert got.size == want.size, "the run predicted %d test rows, SVR %d" % (got.size, want.size)
    scale = np.maximum(np.abs(want), ytr.std())
    diff = float((np.abs(got - want) / scale).max())
    print(json.dumps({"support_vectors": int(m.support_.size), "diff": diff, "rows": int(want.size)}))


main()
