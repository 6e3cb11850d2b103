"""scikit-learn's cross-validation folds, for mlpc's mlprt_folds.

    folds.py MODE K KEYS

MODE is stratified (KEYS: each row's class, comma-separated), grouped
(KEYS: each row's group) or time (KEYS: the number of rows). Prints one
JSON object: for stratified, "allocation", the rows of each class in each
fold as StratifiedKFold holds them out ([fold][class]); for grouped,
"sizes", the rows GroupKFold holds out in each fold; for time, "train" and
"test", the row numbers TimeSeriesSplit gives each fold. Exit status 2 when
scikit-learn is missing (the caller skips)."""
import json
import sys

import numpy as np

try:
    from sklearn.model_selection import GroupKFold, StratifiedKFold, TimeSeriesSplit
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(2)

mode, k = sys.argv[1], int(sys.argv[2])
if mode == "time":
    n = int(sys.argv[3])
    splits = list(TimeSeriesSplit(n_splits=k).split(np.zeros((n, 1))))
    print(json.dumps({"train": [s[0].tolist() for s in splits], "test": [s[1].tolist() for s in splits]}))
    sys.exit(0)
keys = np.array([int(v) for v in sys.argv[3].split(",")])
x = np.zeros((len(keys), 1))
if mode == "stratified":
    classes = int(keys.max()) + 1
    held = [np.bincount(keys[test], minlength=classes).tolist()
            for _, test in StratifiedKFold(n_splits=k, shuffle=True, random_state=0).split(x, keys)]
    print(json.dumps({"allocation": held}))
else:
    print(json.dumps({"sizes": [len(test) for _, test in GroupKFold(n_splits=k).split(x, groups=keys)]}))
