#!/bin/sh
# Predictor latency and throughput: mlpc's native predictor against ONNX
# Runtime (onnxruntime-node, on the ONNX file mlpc exports from the same
# run) and PyTorch eager (the same weights from weights.bin), on the iris
# MLP and the Fashion-MNIST MLP (bench/fashion_mnist/mlp.mlp, one epoch:
# the network's size is what matters here). One thread everywhere.
#
#   bench/predict/run.sh            # from the repository root, after make
#   BATCH=20000 bench/predict/run.sh
#
# Single row: mlpc's through the --emit-obj library (latency.c calling
# NAME_predict on one raw row at a time: parsing, cleaning and the model),
# ONNX Runtime as one session.run of a [1, inputs] tensor (cleaning and the
# model in the graph), PyTorch as one call of the module on a [1, features]
# tensor (the model only), and mlpc's forward pass alone on one row of
# features (the model only, as PyTorch). Batch: the predictor binary on a
# CSV of BATCH raw rows (process start and CSV parsing included), rows/s;
# ONNX Runtime and PyTorch on one BATCH-row tensor already in memory
# (csv_throughput_vs_ort_tensor: the first over the second). The GEMV floor: OpenBLAS's
# sgemv through the model's dense weights on one row (the products alone), and
# mlpc's single raw row as a multiple of it. Also the predictor binary's size
# minus its weights. Each prints one JSON line, then the ratios.
set -eu
MLPC=${MLPC:-build/mlpc}
BATCH=${BATCH:-10000}
export NODE_PATH=build/npm/node_modules
[ -d "$NODE_PATH/onnxruntime-node" ] || { echo "run.sh: onnxruntime-node missing: make deps" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
LIBS="build/libmlprt.a $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lcjson -lz -lm -lpthread"

median5() { # median seconds of five runs of "$@" (output discarded)
  for i in 1 2 3 4 5; do
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    awk "BEGIN { print $e - $s }"
  done | sort -g | sed -n 3p
}

bench() { # NAME SPEC TARGET [--set K=V...]
  name=$1 spec=$2 target=$3
  shift 3
  d=$dir/$name
  mkdir -p "$d"
  "$MLPC" build "$spec" -o "$d/train"
  "$d/train" --out "$d/run" --quiet "$@"
  "$MLPC" export "$d/run" -o "$d/pred"
  "$MLPC" export "$d/run" --emit-obj -o "$d/lib"
  "$MLPC" export "$d/run" --onnx "$d/model.onnx"
  "$MLPC" build "$spec" --emit-ir > "$d/ir.json"
  # the raw test rows without the target, and BATCH of them for throughput
  /usr/bin/python3 - "$d/run/test_rows.csv" "$target" "$BATCH" "$d" <<'PY'
import csv, sys
src, target, batch, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = list(csv.reader(open(src)))
keep = [i for i, h in enumerate(rows[0]) if h != target]
out = [[r[i] for i in keep] for r in rows]
csv.writer(open(d + "/rows.csv", "w")).writerows(out)
body = out[1:]
csv.writer(open(d + "/batch.csv", "w")).writerows([out[0]] + [body[i % len(body)] for i in range(batch)])
PY
  prefix=$(sed -n 's/^int \(.*\)_predict(const char.*/\1/p' "$d/lib.h")
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -DPRED_HEADER="\"$d/lib.h\"" -DPRED="$prefix" \
    -o "$d/latency" bench/predict/latency.c "$d/lib.o" $LIBS
  # the dense layers' IN:OUT shapes, for the GEMV floor latency prints
  shapes=$(/usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["models"][0]
dense = [l for l in m["layers"] if l["op"] == "dense"]
print(",".join("%d:%d" % (l["in_shape"][-1], l["out_shape"][-1]) for l in dense))' \
    "$d/ir.json")
  mlpc_one=$(OPENBLAS_NUM_THREADS=1 MLP_GEMV_SHAPES=$shapes "$d/latency" "$d/rows.csv")
  secs=$(median5 "$d/pred" "$d/batch.csv")
  size=$(stat -c %s "$d/pred")
  weights=$(stat -c %s "$d/run/weights.bin")
  ort=$(node bench/predict/ort_predict.js "$d/model.onnx" "$d/rows.csv" "$BATCH")
  torch=$(/usr/bin/python3 bench/predict/torch_predict.py "$d/ir.json" "$d/run/weights.bin" "$BATCH")
  /usr/bin/python3 - "$name" "$mlpc_one" "$secs" "$BATCH" "$size" "$weights" "$ort" "$torch" <<'PY'
import json, sys
name, one, secs, batch, size, weights, ort, torch = sys.argv[1:]
one, ort, torch = json.loads(one), json.loads(ort), json.loads(torch)
# the thread's CPU time per row, as the GEMV floor is timed
mlpc = {"peer": "mlpc", "model": name, "ns_per_row": one["cpu_ns_per_row"],
        "forward_ns_per_row": one["forward_cpu_ns_per_row"], "gemv_floor_ns": one["gemv_floor_ns"],
        "rows_per_s": int(batch) / float(secs),
        "binary_bytes": int(size), "weights_bytes": int(weights),
        "binary_minus_weights": int(size) - int(weights)}
for r in (mlpc, ort, torch):
    r["model"] = name
    print(json.dumps(r))
print(json.dumps({"model": name,
                  "single_row_vs_gemv_floor": mlpc["ns_per_row"] / mlpc["gemv_floor_ns"],
                  "single_row_speedup_vs_ort": ort["ns_per_row"] / mlpc["ns_per_row"],
                  "single_row_speedup_vs_torch": torch["ns_per_row"] / mlpc["ns_per_row"],
                  "model_only_speedup_vs_torch": torch["ns_per_row"] / mlpc["forward_ns_per_row"],
                  "csv_throughput_vs_ort_tensor": mlpc["rows_per_s"] / ort["rows_per_s"],
                  "csv_throughput_vs_torch_tensor": mlpc["rows_per_s"] / torch["rows_per_s"]}))
PY
}

bench iris examples/iris.mlp species
bench fashion_mlp bench/fashion_mnist/mlp.mlp label --set epochs=1 --set smoke_epochs=0
