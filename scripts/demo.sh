#!/bin/sh
# The end-to-end demo: check every example, then compile the iris pipeline
# into a native training program, train it on the real data, show what the
# run left behind, compile the trained run into a predictor (and its ONNX
# file), answer the held-out rows with it, and store it as a version.
set -eu
MLPC=${1:-build/mlpc}
OUT=${OUT:-runs/iris}
echo "== mlpc check examples/*.mlp"
"$MLPC" check examples/*.mlp
echo "all examples check clean"
echo
echo "== mlpc explain examples/iris.mlp"
"$MLPC" explain examples/iris.mlp
echo
echo "== mlpc run examples/iris.mlp --out $OUT"
"$MLPC" run examples/iris.mlp --out "$OUT"
echo
echo "== $OUT"
ls -l "$OUT"
echo
echo "== mlpc export $OUT -o $OUT/iris_predict"
"$MLPC" export "$OUT" -o "$OUT/iris_predict"
ls -l "$OUT/iris_predict"
echo
echo "== $OUT/iris_predict --version"
"$OUT/iris_predict" --version
echo
echo "== the predictor on the run's raw test rows, the first five answers"
"$OUT/iris_predict" "$OUT/test_rows.csv" 2>/dev/null | head -6
echo
echo "== a row it was not trained for: rejected with its reason (exit status 1)"
printf 'sepal_length,sepal_width,petal_length,petal_width\n5.1,abc,1.4,0.2\n' |
  "$OUT/iris_predict" || echo "exit status $?"
echo
REG=${REG:-runs/registry}
echo "== mlpc deploy $OUT --registry $REG"
"$MLPC" deploy "$OUT" --registry "$REG" --predictor "$OUT/iris_predict"
"$MLPC" versions --registry "$REG"
echo
echo "Open $OUT/report.html in a browser for the learning curves and the confusion matrix;"
echo "$OUT/MODEL_CARD.md is the model card."
