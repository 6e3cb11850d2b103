"""XGBoost's counterpart of mlpc's gradient boosting grown leaf-wise.

    xgb_boost.py DIR TARGET classifier|regressor [NAME=VALUE ...]

Fits xgboost.XGBClassifier (binary:logistic) or XGBRegressor
(reg:squarederror) with tree_method hist and grow_policy lossguide on
DIR/train.csv (the cleaned training rows a program's --export-features
wrote; TARGET is the column to predict, the others are the features;
booleans are 1 and 0) with the settings given as XGBoost names them
(n_estimators, max_depth, max_leaves, learning_rate, max_bin, reg_lambda,
min_child_weight), no other penalty (gamma and reg_alpha 0), the base score
the training rows' mean (regression) or frequency of class 1, as mlpc's,
on the bins mlpc cuts: each feature is replaced by its bin number (mlpc's
edges, SPEC's "Gradient boosting", at most max_bin bins), which XGBoost then
cuts between every two distinct numbers, so both grow their trees over the
same bins; and prints one JSON object: "score", the accuracy (classifier) or R^2
(regressor) on DIR/test.csv, "train_score", the same on the training
rows, and "leaves", the first tree's leaf values in increasing order.
Classes are the target's texts in sorted order. Exit status 2 when
XGBoost or scikit-learn is missing (the caller skips). XGBoost runs on one
thread."""
import json
import os
import sys

os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np

from exported import arguments, regression_splits, sklearn

metrics = sklearn("metrics")
try:
    import xgboost
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(2)


def edges(v, max_bins):
    """mlpc's bin edges of one feature's training values v (boost.c's cut_feature)."""
    v = np.sort(v.astype(np.float32))
    distinct = np.unique(v)
    if len(distinct) <= max_bins:
        mid = (distinct[:-1].astype(np.float64) / 2 + distinct[1:].astype(np.float64) / 2).astype(np.float32)
        return np.where(mid < distinct[1:], mid, distinct[:-1])
    n, e = len(v), []
    for q in range(1, max_bins):
        t = v[q * n // max_bins]
        if t < v[-1] and (not e or t > e[-1]):
            e.append(t)
    return np.array(e, dtype=np.float32)


def binned(xtr, xte, max_bins):
    """Both splits' features as their bin numbers: x falls in the bin of the first edge >= x."""
    btr, bte = np.empty_like(xtr), np.empty_like(xte)
    for f in range(xtr.shape[1]):
        e = edges(xtr[:, f], max_bins)
        btr[:, f] = np.searchsorted(e, xtr[:, f], side="left")
        bte[:, f] = np.searchsorted(e, xte[:, f], side="left")
    return btr, bte


def main():
    folder, target, kind, opts = arguments()
    classify = kind == "classifier"
    xtr, ytr, xte, yte = regression_splits(folder, target, np.float32, not classify)
    if classify:
        classes = sorted(set(ytr) | set(yte))
        ytr = np.array([classes.index(v) for v in ytr])
        yte = np.array([classes.index(v) for v in yte])
        if len(classes) != 2:
            print("xgb_boost.py compares two classes", file=sys.stderr)
            sys.exit(1)
    max_bins = int(opts.get("max_bin", 255))
    xtr, xte = binned(xtr, xte, max_bins)
    settings = dict(n_estimators=int(opts.get("n_estimators", 100)),
                    max_depth=int(opts.get("max_depth", 6)),
                    max_leaves=int(opts.get("max_leaves", 31)),
                    learning_rate=float(opts.get("learning_rate", 0.1)),
                    max_bin=256,
                    reg_lambda=float(opts.get("reg_lambda", 0)),
                    min_child_weight=float(opts.get("min_child_weight", 1)),
                    tree_method="hist", grow_policy="lossguide", gamma=0, reg_alpha=0,
                    base_score=float(np.mean(ytr)), n_jobs=1, random_state=0)
    if classify:
        m = xgboost.XGBClassifier(objective="binary:logistic", **settings)
        m.fit(xtr, ytr)
        score = lambda x, y: metrics.accuracy_score(y, m.predict(x))
    else:
        m = xgboost.XGBRegressor(objective="reg:squarederror", **settings)
        m.fit(xtr, ytr)
        score = lambda x, y: metrics.r2_score(y, m.predict(x))
    tree = m.get_booster().trees_to_dataframe()
    leaves = sorted(float(v) for v in tree[(tree.Tree == 0) & (tree.Feature == "Leaf")].Gain)
    print(json.dumps({"score": float(score(xte, yte)), "train_score": float(score(xtr, ytr)),
                      "leaves": leaves}))


main()
