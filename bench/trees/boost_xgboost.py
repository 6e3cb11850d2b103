"""XGBoost's `hist` gradient boosting on the rows an mlpc program's
--export-features wrote (DIR/train.csv, DIR/test.csv; TARGET the label),
with the benchmark's settings (TREES rounds of depth DEPTH, learning rate
0.1, 255 bins, L2 1 on the leaves, min child weight 1, no subsampling), on
THREADS threads. Prints one line: the fit's seconds and the test accuracy.
With `predict`, then times the fitted booster's `inplace_predict` on one
thread: every test row at once (the median of 21 passes, rows/s) and one
row at a time (the median of 51 samples of 200 calls), as a JSON line.

With XGB_SAME_TREES=1 in the environment, the learning rate, L2 and min
child weight are doubled (0.2, 2, 2): XGBoost's softmax takes the hessian
as 2p(1 - p) where mlpc (and scikit-learn) take p(1 - p), so its sums of
hessians are twice mlpc's, and doubling those three gives the same
split gains up to a factor of 1/2, the same child-weight test and the same
leaf values, i.e. the trees mlpc grows at 0.1, 1 and 1 (up to the bins).

    boost_xgboost.py DIR TARGET TREES DEPTH THREADS [predict]"""
import json
import os
import statistics
import sys
import time

import numpy as np
import xgboost

from forest_sklearn import load


def main():
    folder, target, trees, depth, threads = sys.argv[1:6]
    xtr, ytr = load(folder + "/train.csv", target)
    xte, yte = load(folder + "/test.csv", target)
    classes = sorted(set(ytr))
    code = {c: i for i, c in enumerate(classes)}
    ytr_i, yte_i = np.array([code[c] for c in ytr]), np.array([code[c] for c in yte])
    scale = 2.0 if os.environ.get("XGB_SAME_TREES") == "1" and len(classes) > 2 else 1.0
    m = xgboost.XGBClassifier(tree_method="hist", n_estimators=int(trees), max_depth=int(depth),
                              learning_rate=0.1 * scale, max_bin=255, reg_lambda=1.0 * scale,
                              min_child_weight=1 * scale,
                              n_jobs=int(threads), random_state=0)
    t = time.perf_counter()
    m.fit(xtr, ytr_i)
    secs = time.perf_counter() - t
    print(f"{secs:.6f} {float(np.mean(m.predict(xte) == yte_i)):.6f}")
    if sys.argv[6:7] == ["predict"]:
        print(json.dumps(predict_speed(m.get_booster(), xte)))


def predict_speed(booster, x):
    """inplace_predict's rows/s on all of x and ns per row one row at a time, one thread."""
    booster.set_param({"nthread": 1})
    booster.inplace_predict(x)
    passes = []
    for _ in range(21):
        t = time.perf_counter()
        booster.inplace_predict(x)
        passes.append(len(x) / (time.perf_counter() - t))
    rows = [x[i:i + 1] for i in range(1024)]
    one = []
    for s in range(51):
        t = time.perf_counter()
        for i in range(200):
            booster.inplace_predict(rows[(s * 200 + i) % 1024])
        one.append((time.perf_counter() - t) / 200 * 1e9)
    return {"peer": "xgboost", "version": xgboost.__version__, "rows_per_s": statistics.median(passes),
            "ns_per_row": statistics.median(one), "batch_rows": len(x)}


if __name__ == "__main__":
    main()
