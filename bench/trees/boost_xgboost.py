"""XGBoost's `hist` gradient boosting on the rows an mlpc program's
--export-features wrote (DIR/train.csv, DIR/test.csv; TARGET the label),
with the benchmark's settings (TREES rounds of depth DEPTH, learning rate
0.1, 255 bins, L2 1 on the leaves, min child weight 1, no subsampling), on
THREADS threads. Prints one line: the fit's seconds and the test accuracy.

    boost_xgboost.py DIR TARGET TREES DEPTH THREADS"""
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
    m = xgboost.XGBClassifier(tree_method="hist", n_estimators=int(trees), max_depth=int(depth),
                              learning_rate=0.1, max_bin=255, reg_lambda=1.0, min_child_weight=1,
                              n_jobs=int(threads), random_state=0)
    t = time.perf_counter()
    m.fit(xtr, ytr_i)
    secs = time.perf_counter() - t
    print(f"{secs:.6f} {float(np.mean(m.predict(xte) == yte_i)):.6f}")


if __name__ == "__main__":
    main()
