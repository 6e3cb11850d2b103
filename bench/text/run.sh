#!/bin/sh
# The text benchmark: TF-IDF fit + transform by mlpc's runtime against
# scikit-learn's TfidfVectorizer, in the same run, on the text example's
# paragraphs (examples/data/austen.csv) repeated COPIES times. Alternates
# the two REPS times and prints each side's median seconds, the ratio of
# the medians and the spread of the per-run ratios.
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
  function median(v, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { m[NR] = $2; s[NR] = $7; r[NR] = $7 / $2; rows = $3; terms = $4; msum = $5; ssum = $10; sterms = $9 }
  END {
    printf "corpus: %d rows (austen.csv x %d); terms: mlpc %d, scikit-learn %d; value sums %.4f / %.4f\n",
      rows, copies, terms, sterms, msum, ssum
    mm = median(m, NR); sm = median(s, NR)
    printf "medians of %d runs: mlpc %.4f s, scikit-learn %.4f s; ratio %.2fx\n", reps, mm, sm, sm / mm
    lo = r[1]; hi = r[1]
    for (i = 2; i <= NR; i++) { if (r[i] < lo) lo = r[i]; if (r[i] > hi) hi = r[i] }
    printf "per-run ratios (scikit-learn s / mlpc s): %.2fx to %.2fx\n", lo, hi
  }' "$DIR/runs.txt"
