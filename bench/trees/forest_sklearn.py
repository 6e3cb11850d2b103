"""scikit-learn's RandomForestClassifier on the rows an mlpc program's
--export-features wrote (DIR/train.csv, DIR/test.csv; TARGET the label),
with the benchmark's settings, on THREADS threads (n_jobs). Prints one
line: the fit's seconds and the test accuracy.

    forest_sklearn.py DIR TARGET TREES DEPTH THREADS"""
import csv
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def load(path, target):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    t = rows[0].index(target)
    x = np.array([[float(v) for i, v in enumerate(r) if i != t] for r in rows[1:]], dtype=np.float32)
    return x, np.array([r[t] for r in rows[1:]])


def main():
    folder, target, trees, depth, threads = sys.argv[1:6]
    xtr, ytr = load(folder + "/train.csv", target)
    xte, yte = load(folder + "/test.csv", target)
    m = RandomForestClassifier(n_estimators=int(trees), max_depth=int(depth), n_jobs=int(threads),
                               random_state=0)
    t = time.perf_counter()
    m.fit(xtr, ytr)
    print(f"{time.perf_counter() - t:.6f} {m.score(xte, yte):.6f}")


if __name__ == "__main__":
    main()
