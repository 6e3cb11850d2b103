#!/bin/sh
# Fashion-MNIST: the program mlpc builds from examples/fashion_mnist.mlp
# against PyTorch training the same network on the same data with the same
# optimizer, batch and thread budget. Prints the median seconds per epoch
# and the test accuracy of each. EPOCHS (default 2) and THREADS (default 2)
# override; early stopping is off so both run every epoch.
set -eu
MLPC=${MLPC:-build/mlpc}
EPOCHS=${EPOCHS:-2}
THREADS=${THREADS:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The example keeps the default deterministic = true, which holds matrix
# products to one thread; the comparison gives both sides THREADS.
sed 's/^  environment {$/  environment {\n    deterministic = false/' examples/fashion_mnist.mlp > "$dir/fashion.mlp"
"$MLPC" build "$dir/fashion.mlp" -o "$dir/fashion"
"$dir/fashion" --out "$dir/run" --quiet --threads "$THREADS" --set epochs="$EPOCHS" --set early_stopping=0 \
  --set smoke_epochs=0
/usr/bin/python3 - "$dir/run" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
secs = sorted(json.loads(l)["seconds"] for l in open(d + "/metrics.jsonl"))
job = m["jobs"][0]
print(json.dumps({"peer": "mlpc", "threads": m["environment"]["threads"], "epochs": job["fit"]["epochs_run"],
                  "seconds_per_epoch": secs[len(secs) // 2],
                  "gflops_per_second": job["fit"].get("gflops_per_second"),
                  "test_accuracy": m["metrics"]["test"]["accuracy"]}))
PY
/usr/bin/python3 bench/fashion_mnist/torch_fashion.py "$EPOCHS" "$THREADS"
