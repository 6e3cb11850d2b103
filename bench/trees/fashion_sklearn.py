"""scikit-learn's LogisticRegression, RandomForestClassifier and
HistGradientBoostingClassifier on Fashion-MNIST's official split (the 60,000
training images, the 10,000 t10k test images), each pixel min-max scaled
on the training rows as mlpc's minmax(all) scales it, with the settings
fashion.sh gives mlpc. Prints one line per model: its name, the fit's
seconds and the test accuracy.

    fashion_sklearn.py IDX_DIR TREES DEPTH ROUNDS BOOST_DEPTH THREADS"""
import gzip
import os
import sys
import time

THREADS = sys.argv[6]
os.environ["OMP_NUM_THREADS"] = THREADS

import numpy as np  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402


def idx(folder, name, offset):
    with gzip.open(f"{folder}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    folder, trees, depth, rounds, boost_depth = sys.argv[1:6]
    xtr = idx(folder, "train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32)
    ytr = idx(folder, "train-labels-idx1-ubyte.gz", 8)
    xte = idx(folder, "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32)
    yte = idx(folder, "t10k-labels-idx1-ubyte.gz", 8)
    scale = MinMaxScaler().fit(xtr)
    xtr, xte = scale.transform(xtr), scale.transform(xte)
    models = [
        ("logistic", LogisticRegression(C=1.0, max_iter=300)),
        ("random_forest", RandomForestClassifier(n_estimators=int(trees), max_depth=int(depth),
                                                 n_jobs=int(THREADS), random_state=0)),
        ("gradient_boosting", HistGradientBoostingClassifier(
            max_iter=int(rounds), max_depth=int(boost_depth), learning_rate=0.1, max_bins=255,
            l2_regularization=0, max_leaf_nodes=None, min_samples_leaf=1, early_stopping=False,
            random_state=0)),
    ]
    for name, m in models:
        t = time.perf_counter()
        m.fit(xtr, ytr)
        secs = time.perf_counter() - t
        print(f"{name} {secs:.3f} {m.score(xte, yte):.4f}", flush=True)


if __name__ == "__main__":
    main()
