#!/bin/sh
# How fast is `mlpc check` on a large spec? Generates a 10,000-line spec
# (a pipeline with thousands of cleaning steps, layers and search spaces),
# runs `mlpc check` on it several times and prints the median wall time.
# Target: under 100 ms.
set -eu
MLPC=${MLPC:-build/mlpc}
RUNS=${RUNS:-11}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
spec="$dir/big.mlp"
{
  echo "# generated: 10,000 lines"
  echo "pipeline big {"
  echo "  data {"
  echo "    source = csv(\"big.csv\")"
  echo "    target = label"
  echo "    clean {"
  i=0
  while [ $i -lt 3300 ]; do
    echo "      impute([c$i], strategy = median)  # column c$i"
    i=$((i + 1))
  done
  echo "    }"
  echo "    split(validation = 0.2, test = 0.1, stratify = true, seed = 42)"
  echo "  }"
  echo "  model {"
  i=0
  while [ $i -lt 3300 ]; do
    echo "    dense($((16 + i % 64)), activation = relu)"
    i=$((i + 1))
  done
  echo "    output(activation = softmax)"
  echo "  }"
  echo "  hyperparameters {"
  i=0
  while [ $i -lt 3385 ]; do
    echo "    # tuning note $i"
    i=$((i + 1))
  done
  echo "    optimizer = adam(lr = 0.001)"
  echo "  }"
  echo "}"
} > "$spec"
lines=$(wc -l < "$spec")
"$MLPC" check "$spec" || { echo "check failed on the generated spec" >&2; exit 1; }
times=""
n=0
while [ $n -lt "$RUNS" ]; do
  t0=$(date +%s%N)
  "$MLPC" check "$spec"
  t1=$(date +%s%N)
  times="$times $(( (t1 - t0) / 1000 ))"
  n=$((n + 1))
done
median=$(echo $times | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "mlpc check: $lines lines, median $(echo "$median" | awk '{printf "%.1f", $1/1000}') ms over $RUNS runs (target < 100 ms)"
