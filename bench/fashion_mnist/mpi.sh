#!/bin/sh
# Data-parallel scaling on the Fashion-MNIST MLP of mlp.mlp (784-256-128-10,
# Adam, batch 64 or BATCH): the program built with distributed = mpi and
# shards = 2 on 2 ranks of 1 BLAS thread each, against the same program on 1 rank and
# the plain (unsliced) build on 1 thread. Runs alternate, REPS rounds
# (default 3) of EPOCHS epochs (default 2; no smoke run, no early stopping);
# prints the median samples/s of each, the scaling efficiency
#   2 ranks' samples/s / (2 x 1 rank's samples/s)
# and rank 0's split of a step: its slices' forward and backward
# ("compute"), the exchange (MPI_Alltoallv of the gradients' parts and
# MPI_Allgatherv of the stepped weights, waiting for the other rank
# included; none on 1 rank), its part of the optimizer update, and the rest
# (batch bookkeeping, validation, checkpoints); and checks that 1 and 2
# ranks wrote the same weights.bin.
set -eu
MLPC=${MLPC:-build/mlpc}
EPOCHS=${EPOCHS:-2}
REPS=${REPS:-3}
BATCH=${BATCH:-64}
MPIRUN="mpirun --allow-run-as-root --oversubscribe --bind-to none --mca mpi_yield_when_idle 1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# One thread per process, matrix products included (deterministic).
env_block='  environment {\n    threads = 1\n    deterministic = true\n'
env_block="$env_block"'    shards = SHARDS\n    distributed = DIST\n  }'
spec() { # NAME SHARDS DIST
  awk -v blk="$(printf "$env_block" | sed "s/SHARDS/$2/; s/DIST/$3/")" '
    /^  environment \{$/ { print blk; skip = 1; next }
    skip && /^  \}$/ { skip = 0; next }
    !skip { print }' bench/fashion_mnist/mlp.mlp |
    sed "s/^pipeline fashion_mlp/pipeline $1/; s/^    batch = 64$/    batch = $BATCH/" > "$dir/$1.mlp"
  "$MLPC" build "$dir/$1.mlp" -o "$dir/$1"
}
spec plain 1 none
spec ranks 2 mpi
flags="--quiet --set epochs=$EPOCHS --set early_stopping=0 --set smoke_epochs=0"
for i in $(seq "$REPS"); do
  "$dir/plain" --out "$dir/plain-$i" $flags
  $MPIRUN -np 1 "$dir/ranks" --out "$dir/np1-$i" $flags
  $MPIRUN -np 2 "$dir/ranks" --out "$dir/np2-$i" $flags
done
/usr/bin/python3 - "$dir" "$REPS" <<'PY'
import hashlib, json, statistics, sys
d, reps = sys.argv[1], int(sys.argv[2])
def run(name):
    m = json.load(open(f"{d}/{name}/manifest.json"))
    fit = m["jobs"][0]["fit"]
    sps = fit["epochs_run"] * m["data"]["train"] / fit["seconds"]
    dist = m["environment"].get("distributed")
    per = lambda k: 1e3 * dist[k] / fit["steps"] if dist else None
    step = 1e3 * fit["seconds"] / fit["steps"]
    sha = hashlib.sha256(open(f"{d}/{name}/weights.bin", "rb").read()).hexdigest()
    return (sps, per("exchange_seconds"), step, m["metrics"]["test"]["accuracy"], sha,
            per("compute_seconds"), per("update_seconds"))
res = {k: [run(f"{k}-{i}") for i in range(1, reps + 1)] for k in ("plain", "np1", "np2")}
med = lambda k, j: statistics.median(r[j] for r in res[k] if r[j] is not None)
same = all(a[4] == b[4] for a, b in zip(res["np1"], res["np2"]))
for k, label in (("plain", "plain build, shards = 1, 1 process"), ("np1", "shards = 2, 1 rank"),
                 ("np2", "shards = 2, 2 ranks")):
    comm = f", exchange {med(k, 1):.3f} ms/step" if k != "plain" else ""
    print(f"{label:36s} {med(k, 0):9.0f} samples/s, {med(k, 2):.3f} ms/step{comm}, "
          f"test accuracy {med(k, 3):.4f}")
    if k != "plain":
        rest = statistics.median(r[2] - r[1] - r[5] - r[6] for r in res[k])
        print(f"{'':36s} per step: compute {med(k, 5):.3f}, exchange {med(k, 1):.3f}, "
              f"update {med(k, 6):.3f}, rest {rest:.3f} ms")
print(f"scaling efficiency, 2 ranks against 1 rank: {med('np2', 0) / (2 * med('np1', 0)):.3f}")
print(f"against the plain build: {med('np2', 0) / (2 * med('plain', 0)):.3f}")
print(f"weights.bin of 1 and 2 ranks identical: {same}")
PY
