#!/bin/sh
# The end-to-end demo: check every example, then compile the iris pipeline
# into a native training program, train it on the real data and show what
# the run left behind.
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
echo "Open $OUT/report.html in a browser for the learning curves and the confusion matrix."
