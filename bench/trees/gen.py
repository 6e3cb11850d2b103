"""The random-forest benchmark's table: ROWS rows of scikit-learn's
make_classification (FEATURES features, 10 of them informative, three
classes named a, b, c; random_state 0) as CSV on standard output.

    gen.py ROWS FEATURES"""
import sys

import numpy as np
from sklearn.datasets import make_classification

rows, features = int(sys.argv[1]), int(sys.argv[2])
x, y = make_classification(n_samples=rows, n_features=features, n_informative=10, n_classes=3,
                           random_state=0)
out = sys.stdout
out.write(",".join(f"f{i}" for i in range(features)) + ",y\n")
names = np.array(["a", "b", "c"])
for r, c in zip(x.astype(np.float32), names[y]):
    out.write(",".join(f"{v:.7g}" for v in r) + "," + c + "\n")
