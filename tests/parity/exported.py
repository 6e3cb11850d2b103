"""The cleaned splits a training program writes with --export-features,
read for the scikit-learn side of the parity tests (linear.py, forest.py)."""
import csv
import importlib
import sys

import numpy as np


def load(path, target, dtype):
    """The features (booleans as 0/1) and the target texts of one split."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    t = head.index(target)
    bools = {"true": 1.0, "false": 0.0}
    x = np.array([[bools[v] if v in bools else float(v) for i, v in enumerate(r) if i != t] for r in body],
                 dtype=dtype)
    return x, [r[t] for r in body]


def regression_splits(folder, target, dtype, regress):
    """The training and test splits (x, y) of FOLDER; y as floats when regress."""
    xtr, ytr = load(folder + "/train.csv", target, dtype)
    xte, yte = load(folder + "/test.csv", target, dtype)
    if regress:
        ytr, yte = np.array(ytr, dtype=np.float64), np.array(yte, dtype=np.float64)
    return xtr, ytr, xte, yte


def sklearn(module):
    """sklearn.MODULE, or exit status 2 when scikit-learn is missing (the caller skips)."""
    try:
        return importlib.import_module("sklearn." + module)
    except ImportError as e:
        print(e, file=sys.stderr)
        sys.exit(2)


def arguments():
    """FOLDER TARGET KIND [KEY=VALUE ...] from the command line."""
    folder, target, kind = sys.argv[1:4]
    return folder, target, kind, dict(a.split("=", 1) for a in sys.argv[4:])
