#!/bin/sh
# Random forests: mlpc's training against scikit-learn's
# RandomForestClassifier on the same rows with the same settings, and the
# single-row latency of the compiled predictor against ONNX Runtime on the
# ONNX file exported from the same run.
#
#   sh bench/trees/run.sh [REPS] [ROWS] [FEATURES] [TREES] [DEPTH]
#
# Training: a generated table (gen.py: make_classification, three classes),
# cleaned and split by the program (test 0.2), whose --export-features
# rows scikit-learn reads, so both fit the very same training rows. Each of
# REPS rounds fits mlpc on 1 and 2 threads (the manifest's fit seconds: the
# trees and the out-of-bag score, data loading left out) and scikit-learn
# with n_jobs 1 and 2 (its fit alone), alternating; prints the median,
# fastest and slowest of each, the ratios at the medians and between the
# extremes, and each side's test accuracy.
#
# Prediction: a forest of TREES trees of depth 6 on the same table, the
# predictor's library (--emit-obj) called on one raw row at a time
# (bench/predict/latency.c: parsing, cleaning and the trees; and the trees
# alone; each also by the thread CPU clock, and whole rows in single calls
# timed alone), and ONNX Runtime's session.run on a [1, features] tensor
# (bench/predict/ort_predict.js: single calls timed alone), one thread
# each.
#
# Run from the repository root after make. Needs python3-sklearn under
# /usr/bin/python3, and onnxruntime-node (make deps) for the latency peer.
set -eu
REPS=${1:-5}
ROWS=${2:-50000}
FEATURES=${3:-20}
TREES=${4:-100}
DEPTH=${5:-10}
MLPC=${MLPC:-build/mlpc}
PY=/usr/bin/python3
DIR=${BENCH_DIR:-/tmp/mlpc-bench-trees}
mkdir -p "$DIR"
. bench/datalib.sh
. bench/trees/report.sh

"$PY" bench/trees/gen.py "$ROWS" "$FEATURES" > "$DIR/table.csv"
spec() { # NAME TREES DEPTH
  cat > "$DIR/$1.mlp" <<SPEC
pipeline $1 {
  data {
    source = csv("$DIR/table.csv")
    target = y
    split(validation = 0.1, test = 0.2, stratify = true, seed = 1)
  }
  model {
    random_forest(trees = $2, max_depth = $3)
  }
  analysis { baseline = false }
}
SPEC
  "$MLPC" build "$DIR/$1.mlp" -o "$DIR/$1.exe"
}
spec fit "$TREES" "$DEPTH"
"$DIR/fit.exe" --export-features "$DIR/features" --quiet

: > "$DIR/mlpc1.txt"; : > "$DIR/mlpc2.txt"; : > "$DIR/sk1.txt"; : > "$DIR/sk2.txt"
i=0
while [ $i -lt "$REPS" ]; do
  for t in 1 2; do
    mlpc_fit $t
    "$PY" bench/trees/forest_sklearn.py "$DIR/features" y "$TREES" "$DEPTH" $t >> "$DIR/sk$t.txt"
  done
  i=$((i + 1))
done
cmp -s "$DIR/run1/weights.bin" "$DIR/run2/weights.bin" && same=yes || same=NO
echo "$ROWS rows x $FEATURES features, 3 classes; $TREES trees of depth $DEPTH, sqrt features;" \
  "$REPS runs each"
fit_report sk scikit-learn "sklearn, 1 job" "sklearn, 2 jobs"
echo "mlpc's trees on 1 and 2 threads are the same bits: $same"

# ---- single-row prediction ----
spec lat "$TREES" 6
"$DIR/lat.exe" --out "$DIR/latrun" --quiet
"$MLPC" export "$DIR/latrun" --onnx "$DIR/lat.onnx" --force
mlpc_one=$(predictor_latency "$DIR/latrun")
echo "mlpc predictor, $TREES trees of depth 6, one row: $mlpc_one"
if [ -d build/npm/node_modules/onnxruntime-node ]; then
  ort=$(NODE_PATH=build/npm/node_modules node bench/predict/ort_predict.js "$DIR/lat.onnx" "$DIR/rows.csv" \
    10000)
  echo "onnxruntime-node TreeEnsembleClassifier, one row: $ort"
  "$PY" -c 'import json, sys
m, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("single-row speed-up vs ONNX Runtime: %.1fx (whole row), %.1fx (the trees alone)" % (
    o["ns_per_row"] / m["ns_per_row"], o["ns_per_row"] / m["forward_ns_per_row"]))
print("single calls timed alone (medians): mlpc %.0f ns, ONNX Runtime %.0f ns: %.1fx (whole row)" % (
    m["call_ns_per_row"], o["ns_per_row"], o["ns_per_row"] / m["call_ns_per_row"]))
print("mlpc by the thread CPU clock: %.0f ns the whole row, %.0f ns the trees alone" % (
    m["cpu_ns_per_row"], m["forward_cpu_ns_per_row"]))' "$mlpc_one" "$ort"
else
  echo "onnxruntime-node missing (make deps): no ONNX Runtime peer"
fi
