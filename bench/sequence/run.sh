#!/bin/sh
# Sequence models: training throughput and peak RSS of the programs mlpc
# builds from examples/austen_lstm.mlp and examples/austen_transformer.mlp
# against PyTorch training the same networks (bench/sequence/torch_seq.py)
# on the same cleaned rows with the same batch and optimizer, at 1 and 2
# threads each; then a predictor's single-sequence latency against ONNX
# Runtime on the Fashion-MNIST sequence models (28 steps of 28 pixels: an
# LSTM, a transformer encoder), whose ONNX files mlpc exports (a tokenized
# text's graph is refused: `tokenize` has no ONNX form).
#
#   bench/sequence/run.sh               # from the repository root, after make
#   EPOCHS=5 bench/sequence/run.sh
#
# Each training run does EPOCHS epochs (default 3; no smoke run, no early
# stopping); an epoch's seconds are its training pass plus the validation
# loss, as the mlpc program reports them in metrics.jsonl, and PyTorch's are
# timed the same way. samples/s = training rows / epoch seconds: the median
# over the epochs, with the slowest and fastest epoch as the spread. Peak
# RSS: the mlpc program's whole run (/usr/bin/time), the PyTorch process's
# (ru_maxrss, torch's import included). Ratios use each side's best thread
# setting. Each line is one JSON object.
set -eu
MLPC=${MLPC:-build/mlpc}
EPOCHS=${EPOCHS:-3}
export NODE_PATH=build/npm/node_modules
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
LIBS="build/libmlprt.a $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lcjson -lz -lm -lpthread"

for kind in lstm transformer; do
  d=$dir/$kind
  mkdir -p "$d"
  # Both sides get THREADS threads for matrix products (the example's
  # deterministic default would hold them to one).
  sed 's/^  environment {$/  environment {\n    deterministic = false/' "examples/austen_$kind.mlp" \
    > "$d/spec.mlp"
  sed -i "s|\"data/|\"$PWD/examples/data/|" "$d/spec.mlp"
  "$MLPC" build "$d/spec.mlp" -o "$d/train"
  "$d/train" --out "$d/features_run" --quiet --export-features "$d/features" >/dev/null
  for threads in 1 2; do
    /usr/bin/time -f %M -o "$d/rss$threads" "$d/train" --out "$d/run$threads" --quiet --threads "$threads" \
      --set epochs="$EPOCHS" --set early_stopping=0 --set smoke_epochs=0 >/dev/null
    /usr/bin/python3 - "$kind" "$threads" "$d/run$threads" "$d/features/train.csv" "$d/rss$threads" <<'PY'
import json, sys
kind, threads, run, train, rss = sys.argv[1:]
rows = sum(1 for _ in open(train)) - 1
secs = [json.loads(l)["seconds"] for l in open(run + "/metrics.jsonl")]
rate = sorted(rows / s for s in secs)
print(json.dumps({"peer": "mlpc", "model": kind, "threads": int(threads), "rows": rows, "epoch_seconds": secs,
                  "samples_per_s": rate[len(rate) // 2], "spread": [rate[0], rate[-1]],
                  "peak_rss_bytes": int(open(rss).read().split()[-1]) * 1024}))
PY
    /usr/bin/python3 bench/sequence/torch_seq.py "$kind" "$d/features/train.csv" \
      "$d/features/validation.csv" "$EPOCHS" "$threads"
  done
done > "$dir/train.jsonl"
cat "$dir/train.jsonl"
/usr/bin/python3 - "$dir/train.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for kind in ("lstm", "transformer"):
    best = {}
    for r in rows:
        if r["model"] != kind:
            continue
        if "spread" not in r:  # PyTorch: the spread over its epochs
            rate = sorted(r["rows"] / s for s in r["epoch_seconds"])
            r["spread"] = [rate[0], rate[-1]]
        peer = "mlpc" if r["peer"] == "mlpc" else "pytorch"
        if peer not in best or r["samples_per_s"] > best[peer]["samples_per_s"]:
            best[peer] = r
    m, t = best["mlpc"], best["pytorch"]
    print(json.dumps({"model": kind, "mlpc_threads": m["threads"], "pytorch_threads": t["threads"],
                      "samples_per_s_ratio": m["samples_per_s"] / t["samples_per_s"],
                      "ratio_range": [m["spread"][0] / t["spread"][1], m["spread"][1] / t["spread"][0]],
                      "rss_ratio": m["peak_rss_bytes"] / t["peak_rss_bytes"],
                      "target": ">= 1.5 samples/s ratio at <= 0.25 RSS ratio"}))
PY

# Single-sequence latency: 1 epoch on the 10,000 t10k images (the weights'
# quality does not matter here), one thread on both sides.
for kind in lstm transformer; do
  d=$dir/fashion_$kind
  mkdir -p "$d"
  sed 's/train-\(images\|labels\)/t10k-\1/; s/^    epochs = .*/    epochs = 1/' \
    "examples/fashion_mnist_$kind.mlp" > "$d/spec.mlp"
  "$MLPC" build "$d/spec.mlp" -o "$d/train"
  "$d/train" --out "$d/run" --quiet --threads 1 --set smoke_epochs=0 >/dev/null
  "$MLPC" export "$d/run" --emit-obj -o "$d/lib"
  "$MLPC" export "$d/run" --onnx "$d/model.onnx"
  /usr/bin/python3 - "$d/run/test_rows.csv" label "$d" <<'PY'
import csv, sys
src, target, d = sys.argv[1:]
rows = list(csv.reader(open(src)))
keep = [i for i, h in enumerate(rows[0]) if h != target]
csv.writer(open(d + "/rows.csv", "w")).writerows([[r[i] for i in keep] for r in rows[:1001]])
PY
  prefix=$(sed -n 's/^int \(.*\)_predict(const char.*/\1/p' "$d/lib.h")
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -DPRED_HEADER="\"$d/lib.h\"" -DPRED="$prefix" \
    -o "$d/latency" bench/predict/latency.c "$d/lib.o" $LIBS
  one=$(OPENBLAS_NUM_THREADS=1 "$d/latency" "$d/rows.csv")
  ort=$(node bench/predict/ort_predict.js "$d/model.onnx" "$d/rows.csv" 1000)
  /usr/bin/python3 - "fashion_$kind" "$one" "$ort" <<'PY'
import json, sys
name, one, ort = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for r in (one, ort):
    r["model"] = name
    print(json.dumps(r))
print(json.dumps({"model": name, "single_sequence_speedup_vs_ort": ort["ns_per_row"] / one["ns_per_row"]}))
PY
done
