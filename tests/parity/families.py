"""scikit-learn's model families on the rows an mlpc tuned run used.

    families.py DIR TARGET classifier|regressor [rows=RUN/test_rows.csv]

Fits LogisticRegression (Ridge for a regressor), RandomForest and
HistGradientBoosting, each with scikit-learn's defaults (random_state 0), on
DIR/train.csv and DIR/validation.csv together (the cleaned rows a program's
--export-features wrote, which a cross-validated search refits its winner
on) and prints one JSON object: each model's accuracy (classifier) or R^2
(regressor) on DIR/test.csv, and "best", the highest of them. With rows=,
the run's tested rows must be DIR/test.csv's, target for target (exit
status 1 otherwise). Exit status 2 when scikit-learn is missing (the caller
skips)."""
import csv
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread, as the mlpc run it is compared with
import numpy as np  # noqa: E402

from exported import arguments, load, sklearn  # noqa: E402

ensemble, linear = sklearn("ensemble"), sklearn("linear_model")


def main():
    folder, target, kind, opts = arguments()
    regress = kind == "regressor"
    if "rows" in opts:
        with open(opts["rows"], newline="") as f:
            tested = [r[target] for r in csv.DictReader(f)]
        if tested != load(folder + "/test.csv", target, np.float64)[1]:
            sys.exit("the run's test rows are not " + folder + "/test.csv's")
    parts = [load(folder + "/" + name + ".csv", target, np.float64) for name in ("train", "validation")]
    xtr, ytr = np.vstack([p[0] for p in parts]), parts[0][1] + parts[1][1]
    xte, yte = load(folder + "/test.csv", target, np.float64)
    if regress:
        ytr, yte = np.array(ytr, dtype=np.float64), np.array(yte, dtype=np.float64)
        models = {"ridge": linear.Ridge(),
                  "random_forest": ensemble.RandomForestRegressor(random_state=0, n_jobs=1),
                  "hist_gradient_boosting": ensemble.HistGradientBoostingRegressor(random_state=0)}
    else:
        models = {"logistic_regression": linear.LogisticRegression(max_iter=5000),
                  "random_forest": ensemble.RandomForestClassifier(random_state=0, n_jobs=1),
                  "hist_gradient_boosting": ensemble.HistGradientBoostingClassifier(random_state=0)}
    scores = {name: float(m.fit(xtr, ytr).score(xte, yte)) for name, m in models.items()}
    scores["best"] = max(scores.values())
    print(json.dumps(scores))


main()
