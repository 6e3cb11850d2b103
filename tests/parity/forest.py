"""scikit-learn's counterpart of an mlpc random forest.

    forest.py DIR TARGET classifier|regressor [NAME=VALUE ...]

Fits RandomForestClassifier or RandomForestRegressor on DIR/train.csv (the
cleaned training rows a program's --export-features wrote; TARGET is the
column to predict, the others are the features; booleans are 1 and 0) with
the settings given as scikit-learn names them (n_estimators, max_depth,
max_features: sqrt, log2 or all; min_samples_leaf, bootstrap: true or false,
class_weight: none or balanced), once for each of `seeds` random states
(default 5), and prints one JSON object: "score", the mean accuracy
(classifier) or R^2 (regressor) on DIR/test.csv over the seeds, "scores",
each, and "oobs", the out-of-bag scores (with bootstrap). Exit status 2 when scikit-learn
is missing (the caller skips)."""
import json

import numpy as np

from exported import arguments, regression_splits, sklearn

ensemble = sklearn("ensemble")


def main():
    folder, target, kind, opts = arguments()
    xtr, ytr, xte, yte = regression_splits(folder, target, np.float32, kind == "regressor")
    mf = opts.get("max_features", "sqrt" if kind == "classifier" else "all")
    settings = dict(n_estimators=int(opts.get("n_estimators", 100)),
                    max_depth=int(opts.get("max_depth", 10)),
                    max_features=None if mf == "all" else mf,
                    min_samples_leaf=int(opts.get("min_samples_leaf", 1)),
                    bootstrap=opts.get("bootstrap", "true") == "true")
    settings["oob_score"] = settings["bootstrap"]
    if kind == "classifier":
        cw = opts.get("class_weight", "none")
        settings["class_weight"] = None if cw == "none" else cw
    scores, oobs = [], []
    for seed in range(int(opts.get("seeds", 5))):
        cls = ensemble.RandomForestClassifier if kind == "classifier" else ensemble.RandomForestRegressor
        m = cls(random_state=seed, n_jobs=1, **settings)
        m.fit(xtr, ytr)
        scores.append(float(m.score(xte, yte)))
        if settings["oob_score"]:
            oobs.append(float(m.oob_score_))
    print(json.dumps({"score": float(np.mean(scores)), "scores": scores, "oobs": oobs}))


main()
