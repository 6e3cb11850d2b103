#!/bin/sh
# Classical models on Fashion-MNIST (70,000 rows): mlpc's logistic
# regression, random forest and gradient boosting against scikit-learn's
# LogisticRegression, RandomForestClassifier and
# HistGradientBoostingClassifier, fitted on the official 60,000 training
# images and scored on the 10,000 t10k test images, the same rows on both
# sides, each pixel min-max scaled on the training rows.
#
#   sh bench/trees/fashion.sh [TREES] [DEPTH] [ROUNDS] [BOOST_DEPTH] [THREADS]   # defaults: 100 12 20 6 2
#
# Settings: linear_model(l2 = 1 / 60000, iterations = 300) is
# LogisticRegression(C = 1, max_iter = 300); random_forest(trees = TREES, max_depth =
# DEPTH) is RandomForestClassifier(n_estimators = TREES, max_depth =
# DEPTH) (sqrt features each); gradient_boosting(trees = ROUNDS, max_depth
# = BOOST_DEPTH, min_child_weight = 0.001) is
# HistGradientBoostingClassifier(max_iter = ROUNDS, max_depth =
# BOOST_DEPTH, max_leaf_nodes = None, min_samples_leaf = 1, no early
# stopping): learning rate 0.1, 255 bins, no L2, ten trees a round. One fit
# each on THREADS threads, one after the other; prints each model's fit
# seconds (mlpc: the manifest's; scikit-learn: fit alone) and test accuracy
# side by side. Then an svm on the same rows, which the program refuses
# before solving (its solver's row limit).
#
# Run from the repository root after make; needs python3-sklearn under
# /usr/bin/python3 and Debian's dataset-fashion-mnist. Not a test: about
# ten minutes on two cores.
set -eu
TREES=${1:-100}
DEPTH=${2:-12}
ROUNDS=${3:-20}
BOOST_DEPTH=${4:-6}
THREADS=${5:-2}
MLPC=${MLPC:-build/mlpc}
IDX=${FASHION_IDX:-/usr/share/datasets/fashion-mnist}
DIR=${BENCH_DIR:-/tmp/mlpc-bench-fashion}
mkdir -p "$DIR"

spec() { # NAME MODEL CLEAN (a clean block, or nothing)
  cat > "$DIR/$1.mlp" <<SPEC
pipeline $1 {
  data {
    source = idx(images = "$IDX/train-images-idx3-ubyte.gz", labels = "$IDX/train-labels-idx1-ubyte.gz")
    test_source = idx(images = "$IDX/t10k-images-idx3-ubyte.gz", labels = "$IDX/t10k-labels-idx1-ubyte.gz")
    target = label
    $3
    split(validation = 0)
  }
  model { $2 }
  analysis { baseline = false }
}
SPEC
}
fit() { # NAME MODEL: one fit, "NAME SECONDS ACCURACY"
  spec "$1" "$2" "clean { minmax(all) }"
  "$MLPC" build "$DIR/$1.mlp" -o "$DIR/$1.exe" 2> /dev/null
  rm -rf "$DIR/run-$1"
  "$DIR/$1.exe" --out "$DIR/run-$1" --quiet --threads "$THREADS"
  /usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[2]))
print(sys.argv[1], "%.3f" % m["jobs"][0]["fit"]["seconds"], "%.4f" % m["metrics"]["test"]["accuracy"])' \
    "$1" "$DIR/run-$1/manifest.json"
}

: > "$DIR/mlpc.txt"
fit logistic "linear_model(l2 = 0.0000166667, iterations = 300)" >> "$DIR/mlpc.txt"
fit random_forest "random_forest(trees = $TREES, max_depth = $DEPTH)" >> "$DIR/mlpc.txt"
fit gradient_boosting \
  "gradient_boosting(trees = $ROUNDS, max_depth = $BOOST_DEPTH, min_child_weight = 0.001)" >> "$DIR/mlpc.txt"
/usr/bin/python3 bench/trees/fashion_sklearn.py "$IDX" "$TREES" "$DEPTH" "$ROUNDS" "$BOOST_DEPTH" "$THREADS" \
  > "$DIR/sklearn.txt"

echo "Fashion-MNIST, 60000 training rows, 10000 test rows, 784 features, 10 classes; $THREADS threads"
printf "%-18s %12s %12s %14s %14s\n" model "mlpc s" "sklearn s" "mlpc accuracy" "sklearn acc."
join "$DIR/mlpc.txt" "$DIR/sklearn.txt" | while read -r name ms ma ss sa; do
  printf "%-18s %12s %12s %14s %14s\n" "$name" "$ms" "$ss" "$ma" "$sa"
done

# the svm's solver keeps room for every training row: the program stops before solving (the build
# cannot count an IDX source's rows)
spec svm "svm()" ""
echo "svm on the same rows:"
"$MLPC" build "$DIR/svm.mlp" -o "$DIR/svm.exe" 2> /dev/null
if "$DIR/svm.exe" --out "$DIR/run-svm" --quiet 2> "$DIR/svm.err"; then
  echo "NOT refused"
else
  cat "$DIR/svm.err"
fi
