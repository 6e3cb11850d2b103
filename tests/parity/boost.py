"""scikit-learn's counterpart of mlpc's gradient boosting.

    boost.py DIR TARGET classifier|regressor [NAME=VALUE ...]

Fits HistGradientBoostingClassifier or HistGradientBoostingRegressor on
DIR/train.csv (the cleaned training rows a program's --export-features
wrote; TARGET is the column to predict, the others are the features;
booleans are 1 and 0) with the settings given as scikit-learn names them
(max_iter, max_depth, learning_rate, max_bins, l2_regularization), trees
grown depth-wise to max_depth (no leaf limit), a leaf of one row allowed,
no early stopping, and prints one JSON object: "score", the accuracy
(classifier) or R^2 (regressor) on DIR/test.csv, and "train_score", the
same on the training rows. Exit status 2 when scikit-learn is missing (the
caller skips). scikit-learn runs on one thread."""
import json
import os

os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np

from exported import arguments, regression_splits, sklearn

ensemble = sklearn("ensemble")


def main():
    folder, target, kind, opts = arguments()
    xtr, ytr, xte, yte = regression_splits(folder, target, np.float32, kind == "regressor")
    settings = dict(max_iter=int(opts.get("max_iter", 100)),
                    max_depth=int(opts.get("max_depth", 6)),
                    learning_rate=float(opts.get("learning_rate", 0.1)),
                    max_bins=int(opts.get("max_bins", 255)),
                    l2_regularization=float(opts.get("l2_regularization", 0)),
                    max_leaf_nodes=None, min_samples_leaf=1, early_stopping=False)
    cls = (ensemble.HistGradientBoostingClassifier if kind == "classifier"
           else ensemble.HistGradientBoostingRegressor)
    m = cls(random_state=0, **settings)
    m.fit(xtr, ytr)
    print(json.dumps({"score": float(m.score(xte, yte)), "train_score": float(m.score(xtr, ytr))}))


main()
