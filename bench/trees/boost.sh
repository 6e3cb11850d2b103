#!/bin/sh
# Gradient boosting: mlpc's training against XGBoost's `hist` on the same
# rows with the same settings.
#
#   sh bench/trees/boost.sh [REPS] [ROWS] [FEATURES] [TREES] [DEPTH]
#
# The table is run.sh's (gen.py: make_classification, three classes),
# cleaned and split by the program (test 0.2), whose --export-features rows
# XGBoost reads, so both fit the very same training rows: TREES rounds of
# depth DEPTH (three trees a round, softmax), learning rate 0.1, 255 bins,
# L2 1 on the leaves, min child weight 1, no subsampling, no early
# stopping. Each of REPS rounds fits mlpc on 1 and 2 threads (the
# manifest's fit seconds: binning and the trees, data loading left out) and
# XGBoost with n_jobs 1 and 2 (its fit alone), alternating; prints the
# median, fastest and slowest of each, the ratios at the medians, and each
# side's test accuracy. XGBoost runs with OMP_WAIT_POLICY=passive: on a
# shared machine its threads spinning at each barrier otherwise wait on
# one another, and a two-thread fit can take several times as long.
# XGB_SAME_TREES=1 gives XGBoost the learning rate, L2 and min child weight
# that grow mlpc's trees under its softmax hessian of 2p(1 - p)
# (boost_xgboost.py: 0.2, 2 and 2), so that both fit the same model and
# the times compare at equal accuracy.
#
# Prediction, one thread each: the one-thread run's trees exported as a
# predictor library (report.sh's predictor_latency: one raw row at a time,
# the forward pass on one feature row at a time and on every test row in
# batches) against XGBoost's inplace_predict of its own fit on every test
# row at once and on one row at a time (boost_xgboost.py's predict).
#
# Run from the repository root after make. Needs python3-sklearn (the
# table) and python3-xgboost under /usr/bin/python3 (the deps script's
# --peers).
set -eu
REPS=${1:-3}
ROWS=${2:-100000}
FEATURES=${3:-20}
TREES=${4:-100}
DEPTH=${5:-6}
MLPC=${MLPC:-build/mlpc}
PY=/usr/bin/python3
DIR=${BENCH_DIR:-/tmp/mlpc-bench-boost}
mkdir -p "$DIR"
. bench/datalib.sh
. bench/trees/report.sh

"$PY" bench/trees/gen.py "$ROWS" "$FEATURES" > "$DIR/table.csv"
cat > "$DIR/fit.mlp" <<SPEC
pipeline fit {
  data {
    source = csv("$DIR/table.csv")
    target = y
    split(validation = 0.1, test = 0.2, stratify = true, seed = 1)
  }
  model {
    gradient_boosting(trees = $TREES, max_depth = $DEPTH, l2 = 1)
  }
  analysis { baseline = false }
}
SPEC
"$MLPC" build "$DIR/fit.mlp" -o "$DIR/fit.exe"
"$DIR/fit.exe" --export-features "$DIR/features" --quiet

: > "$DIR/mlpc1.txt"; : > "$DIR/mlpc2.txt"; : > "$DIR/xgb1.txt"; : > "$DIR/xgb2.txt"
i=0
while [ $i -lt "$REPS" ]; do
  for t in 1 2; do
    mlpc_fit $t
    OMP_WAIT_POLICY=passive PYTHONPATH=bench/trees "$PY" bench/trees/boost_xgboost.py "$DIR/features" y \
      "$TREES" "$DEPTH" $t >> "$DIR/xgb$t.txt"
  done
  i=$((i + 1))
done
cmp -s "$DIR/run1/weights.bin" "$DIR/run2/weights.bin" && same=yes || same=NO
echo "$ROWS rows x $FEATURES features, 3 classes; $TREES rounds of depth $DEPTH, 255 bins; $REPS runs each;" \
  "XGBoost at $([ "${XGB_SAME_TREES:-}" = 1 ] && echo "the same trees (0.2, 2, 2)" || echo "mlpc's settings")"
fit_report xgb "XGBoost hist" "xgboost, 1 job" "xgboost, 2 jobs"
echo "mlpc's trees on 1 and 2 threads are the same bits: $same"

# ---- prediction, one thread each ----
mlpc_pred=$(predictor_latency "$DIR/run1")
xgb_pred=$(PYTHONPATH=bench/trees "$PY" bench/trees/boost_xgboost.py "$DIR/features" y "$TREES" "$DEPTH" 1 predict \
  | tail -1)
echo "mlpc predictor: $mlpc_pred"
echo "XGBoost inplace_predict: $xgb_pred"
"$PY" -c 'import json, sys
m, x = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("batch of %d rows: mlpc %.0f rows/s, XGBoost %.0f rows/s: %.2fx" % (
    x["batch_rows"], m["forward_rows_per_s"], x["rows_per_s"], m["forward_rows_per_s"] / x["rows_per_s"]))
print("one row: mlpc %.0f ns (the trees alone %.0f ns), XGBoost %.0f ns: %.0fx" % (
    m["ns_per_row"], m["forward_ns_per_row"], x["ns_per_row"], x["ns_per_row"] / m["ns_per_row"]))' \
  "$mlpc_pred" "$xgb_pred"
