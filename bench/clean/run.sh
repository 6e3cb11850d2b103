#!/bin/sh
# The cleaning benchmark: mlpc's runtime against pandas on one seeded CSV of
# 2,000,000 rows (bench/clean/gen.c), the same chain in both
# (drop_duplicates, median imputation, z = 3 clipping, standardising,
# one-hot encoding). Prints medians of REPS runs: seconds, MB/s, rows/s, peak
# RSS, the ratios, and mlpc's fraction of the I/O floor (cat FILE > /dev/null
# on the cached file).
#
#   sh bench/clean/run.sh [REPS] [ROWS] [THREADS]
#
# Run from the repository root. Needs python3-pandas under /usr/bin/python3.
# The input goes to ${BENCH_DIR:-/tmp/mlpc-bench-clean} and is kept for reruns.
set -eu
REPS=${1:-5}
ROWS=${2:-2000000}
THREADS=${3:-2}
DIR=${BENCH_DIR:-/tmp/mlpc-bench-clean}
PY=/usr/bin/python3
CC=${CC:-cc}
mkdir -p "$DIR"

. bench/datalib.sh
$CC -O2 -o "$DIR/gen" bench/clean/gen.c -lm
data_driver "$DIR/clean_mlpc" bench/clean/clean_mlpc.c

CSV="$DIR/bench-$ROWS.csv"
[ -s "$CSV" ] || "$DIR/gen" "$CSV" "$ROWS" 1
BYTES=$(wc -c < "$CSV")
cat "$CSV" > /dev/null # warm the page cache

now() { date +%s.%N; }

: > "$DIR/cat.txt"; : > "$DIR/mlpc.txt"; : > "$DIR/pandas.txt"
i=0
while [ $i -lt "$REPS" ]; do
  t0=$(now); cat "$CSV" > /dev/null; t1=$(now)
  echo "$t0 $t1" | awk '{print $2 - $1}' >> "$DIR/cat.txt"
  "$DIR/clean_mlpc" "$CSV" "$THREADS" "$DIR/cleaning.json" >> "$DIR/mlpc.txt"
  "$PY" bench/clean/clean_pandas.py "$CSV" >> "$DIR/pandas.txt"
  i=$((i + 1))
done

# both chains must produce the same table shape
m_shape=$(awk 'NR == 1 {print $4, $5}' "$DIR/mlpc.txt")
p_shape=$(awk 'NR == 1 {print $4, $5}' "$DIR/pandas.txt")
[ "$m_shape" = "$p_shape" ] || echo "WARNING: output shapes differ: mlpc $m_shape, pandas $p_shape"

cat_s=$(median < "$DIR/cat.txt")
m_s=$(awk '{print $2}' "$DIR/mlpc.txt" | median)
m_rss=$(awk '{print $3}' "$DIR/mlpc.txt" | median)
p_s=$(awk '{print $2}' "$DIR/pandas.txt" | median)
p_rss=$(awk '{print $3}' "$DIR/pandas.txt" | median)
m_min=$(awk '{print $2}' "$DIR/mlpc.txt" | sort -g | head -1)
p_min=$(awk '{print $2}' "$DIR/pandas.txt" | sort -g | head -1)
awk -v b="$BYTES" -v r="$ROWS" -v c="$cat_s" -v ms="$m_s" -v mr="$m_rss" -v ps="$p_s" -v pr="$p_rss" \
    -v reps="$REPS" -v th="$THREADS" -v shape="$m_shape" -v mmin="$m_min" -v pmin="$p_min" 'BEGIN {
  mb = b / 1e6
  printf "input: %d rows, %.1f MB; output %s (rows cols)\n", r, mb, shape
  printf "medians of %d runs; mlpc threads %d\n", reps, th
  printf "%-8s %9s %10s %12s %12s\n", "", "seconds", "MB/s", "rows/s", "peak RSS MB"
  printf "%-8s %9.3f %10.1f %12.0f %12.1f\n", "mlpc", ms, mb / ms, r / ms, mr / 1024
  printf "%-8s %9.3f %10.1f %12.0f %12.1f\n", "pandas", ps, mb / ps, r / ps, pr / 1024
  printf "%-8s %9.3f %10.1f\n", "cat", c, mb / c
  printf "speed-up (pandas s / mlpc s): %.1fx   memory (mlpc / pandas peak RSS): %.2f\n", ps / ms, mr / pr
  printf "fastest runs: mlpc %.3f s, pandas %.3f s (%.1fx)\n", mmin, pmin, pmin / mmin
  printf "mlpc at %.1f%% of the I/O floor (cat throughput)\n", 100 * c / ms
}'
