"""scikit-learn's counterpart of an mlpc linear model or baseline.

    linear.py DIR TARGET MODEL [NAME=VALUE ...]

Fits MODEL on DIR/train.csv (the cleaned training rows a program's
--export-features wrote; TARGET is the column to predict, the others are the
features; booleans are 1 and 0) and prints one JSON object: "score", the accuracy (classifiers) or
R^2 (regressors) on DIR/test.csv, and the fitted "coef" (rows of classes, or
one row) and "intercept". MODEL and its settings, named as scikit-learn names
them:
  logistic C=...                 LogisticRegression (lbfgs; softmax for 3 classes or more)
  ridge alpha=...                Ridge; alpha=0: LinearRegression
  elasticnet alpha=... l1_ratio  ElasticNet (Lasso at l1_ratio=1)
  svc C=... loss=...             LinearSVC (hinge, squared_hinge; one class against the rest)
  dummy_classifier strategy=...  DummyClassifier (most_frequent, prior)
  dummy_regressor strategy=...   DummyRegressor (mean, median)
Exit status 2 when scikit-learn is missing (the caller skips)."""
import json
import sys

import numpy as np

from exported import arguments, regression_splits, sklearn

dummy, linear_model, svm = sklearn("dummy"), sklearn("linear_model"), sklearn("svm")


def main():
    folder, target, kind, opts = arguments()
    classify = kind in ("logistic", "svc", "dummy_classifier")
    xtr, ytr, xte, yte = regression_splits(folder, target, np.float64, not classify)
    if kind == "logistic":
        m = linear_model.LogisticRegression(C=float(opts["C"]), tol=1e-10, max_iter=100000,
                                            multi_class="auto")
    elif kind == "ridge":
        alpha = float(opts["alpha"])
        m = linear_model.Ridge(alpha=alpha) if alpha > 0 else linear_model.LinearRegression()
    elif kind == "elasticnet":
        m = linear_model.ElasticNet(alpha=float(opts["alpha"]), l1_ratio=float(opts["l1_ratio"]), tol=1e-12,
                                    max_iter=1000000)
    elif kind == "svc":
        m = svm.LinearSVC(C=float(opts["C"]), loss=opts["loss"], tol=1e-10, max_iter=1000000)
    elif kind == "dummy_classifier":
        m = dummy.DummyClassifier(strategy=opts["strategy"])
    elif kind == "dummy_regressor":
        m = dummy.DummyRegressor(strategy=opts["strategy"])
    else:
        sys.exit(f"linear.py: unknown model {kind}")
    m.fit(xtr, ytr)
    coef = np.atleast_2d(getattr(m, "coef_", np.zeros((1, xtr.shape[1]))))
    intercept = np.atleast_1d(getattr(m, "intercept_", 0.0))
    print(json.dumps({"score": float(m.score(xte, yte)), "coef": coef.tolist(),
                      "intercept": intercept.tolist()}))


main()
