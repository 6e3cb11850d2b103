#!/bin/sh
# Sparse rows at a large vocabulary: TF-IDF over max_vocab = 50000 terms
# feeding a dense(64) layer, on a generated corpus of ROWS documents (60
# words each from a Zipf-like vocabulary of 120,000 words; three labels).
# The spec sets environment.memory_mb = 64: the static plan with sparse
# rows (a 24-byte input header instead of batch x 50000 floats) fits it.
# Prints the compiled memory plan (mlpc explain), the training program's
# peak RSS and seconds for one epoch, and what the same features would
# take as dense rows x columns floats.
#
#   sh bench/text/memory.sh [ROWS]
#
# Run from the repository root after make. Work files go to
# ${BENCH_DIR:-/tmp/mlpc-bench-text-memory}.
set -eu
ROWS=${1:-20000}
DIR=${BENCH_DIR:-/tmp/mlpc-bench-text-memory}
MLPC=${MLPC:-build/mlpc}
mkdir -p "$DIR"
/usr/bin/python3 - "$DIR/corpus.csv" "$ROWS" <<'PY'
import random, sys
rng = random.Random(7)
words = 120000
weights = [1.0 / (k + 10) for k in range(words)]
with open(sys.argv[1], "w") as f:
    f.write("text,label\n")
    for r in range(int(sys.argv[2])):
        label = rng.randrange(3)
        ks = rng.choices(range(words), weights, k=60)
        f.write(" ".join("w%d" % (k + label * 7 if k < 50 else k) for k in ks) + ",%c\n" % "abc"[label])
PY
cat > "$DIR/big.mlp" <<SPEC
pipeline big_vocab {
  data {
    source = csv("$DIR/corpus.csv")
    target = label
    schema {
      text = text
    }
    clean {
      tfidf(text, max_vocab = 50000, sublinear_tf = true)
    }
    split(validation = 0.1, test = 0.1, seed = 1)
  }
  model {
    dense(64, activation = relu)
    output(activation = softmax)
  }
  hyperparameters {
    optimizer = adam(lr = 0.002)
    batch = 64
    epochs = 1
    seed = 1
  }
  environment {
    memory_mb = 64
  }
}
SPEC
"$MLPC" explain "$DIR/big.mlp" | sed -n '/^model/,/memory:/p'
"$MLPC" build "$DIR/big.mlp" -o "$DIR/big.exe" 2>/dev/null
/usr/bin/time -f "%M %e" -o "$DIR/time.txt" "$DIR/big.exe" --out "$DIR/run" --quiet
read -r rss secs < "$DIR/time.txt"
/usr/bin/python3 - "$DIR/run/cleaning.json" "$rss" "$secs" "$ROWS" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
rss, secs, rows = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
feats = c["features"]
print(f"{rows} rows, {feats} features; one epoch: {secs:.1f} s, peak RSS {rss / 1024:.0f} MiB")
print(f"as dense rows x columns floats the features alone would take {rows * feats * 4 / 2**20:.0f} MiB "
      f"(and the cleaned table as much again)")
PY
