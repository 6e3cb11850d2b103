#!/bin/sh
# The text benchmark: TF-IDF fit + transform by mlpc's runtime against
# scikit-learn's TfidfVectorizer, in the same run, on the text example's
# paragraphs (examples/data/austen.csv) repeated COPIES times; mlpc's output
# once as sparse rows (scikit-learn's is sparse too) and once as dense
# columns. Alternates the sides REPS times and prints each one's median
# seconds, the ratios of the medians and the spread of the per-run ratios.
#
#   sh bench/text/run.sh [REPS] [COPIES]
#
# Run from the repository root. Needs python3-sklearn under /usr/bin/python3.
# Work files go to ${BENCH_DIR:-/tmp/mlpc-bench-text}.
set -eu
REPS=${1:-7}
COPIES=${2:-1}
DIR=${BENCH_DIR:-/tmp/mlpc-bench-text}
PY=/usr/bin/python3
CC=${CC:-cc}
mkdir -p "$DIR"
. bench/datalib.sh
data_driver "$DIR/tfidf_mlpc" bench/text/tfidf_mlpc.c # the data-step sources alone

CSV="$DIR/austen-x$COPIES.csv"
{
  head -1 examples/data/austen.csv
  i=0
  while [ $i -lt "$COPIES" ]; do tail -n +2 examples/data/austen.csv; i=$((i + 1)); done
} > "$CSV"

: > "$DIR/runs.txt"
i=0
while [ $i -lt "$REPS" ]; do
  # the driver calls no BLAS: OpenBLAS's threads, started when it loads, would only compete
  m=$(OPENBLAS_NUM_THREADS=1 "$DIR/tfidf_mlpc" "$CSV")
  s=$("$PY" bench/text/tfidf_sklearn.py "$CSV")
  echo "$m $s" >> "$DIR/runs.txt"
  i=$((i + 1))
done
awk -v reps="$REPS" -v copies="$COPIES" '
  function median(v, n,   i, j, t, w) {
    for (i = 1; i <= n; i++) w[i] = v[i]
    for (i = 2; i <= n; i++)
      for (j = i; j > 1 && w[j - 1] > w[j]; j--) { t = w[j]; w[j] = w[j - 1]; w[j - 1] = t }
    return n % 2 ? w[(n + 1) / 2] : (w[n / 2] + w[n / 2 + 1]) / 2
  }
  function spread(v, n, label,   i, lo, hi) {
    lo = v[1]; hi = v[1]
    for (i = 2; i <= n; i++) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i] }
    printf "per-run ratios, %s: %.2fx to %.2fx\n", label, lo, hi
  }
  { m[NR] = $2; d[NR] = $6; s[NR] = $9; r[NR] = $9 / $2; rd[NR] = $9 / $6
    rows = $3; terms = $4; msum = $5; nnz = $7; ssum = $12; sterms = $11 }
  END {
    printf "corpus: %d rows (austen.csv x %d); terms: mlpc %d, scikit-learn %d; nonzeros %d\n",
      rows, copies, terms, sterms, nnz
    printf "value sums: mlpc %.4f, scikit-learn %.4f\n", msum, ssum
    mm = median(m, NR); md = median(d, NR); sm = median(s, NR)
    printf "medians of %d runs: mlpc sparse rows %.4f s, mlpc dense columns %.4f s, scikit-learn %.4f s\n",
      reps, mm, md, sm
    printf "ratios of the medians (scikit-learn / mlpc): sparse rows %.2fx, dense columns %.2fx\n",
      sm / mm, sm / md
    spread(r, NR, "sparse rows"); spread(rd, NR, "dense columns")
  }' "$DIR/runs.txt"
