#!/bin/sh
# The time-series benchmark: mlpc's runtime against pandas on the same
# generated table (ROWS rows, GROUPS interleaved series), the same steps in
# both (per-group lags 1, 2, 3; per-group rolling mean and std over the 7
# rows before each row). Prints the median, fastest and slowest of REPS
# runs of each (the steps alone, not the table's generation), the ratio,
# the peak RSS of each process and how much the steps added to it, and
# both checksums (the sum of every derived value), which must agree.
#
#   sh bench/series/run.sh [REPS] [ROWS] [GROUPS]
#
# Run from the repository root. Needs python3-pandas under /usr/bin/python3.
set -eu
REPS=${1:-5}
ROWS=${2:-1000000}
GROUPS=${3:-1000}
DIR=${BENCH_DIR:-/tmp/mlpc-bench-series}
PY=/usr/bin/python3
mkdir -p "$DIR"
. bench/datalib.sh
data_driver "$DIR/series_mlpc" bench/series/series_mlpc.c

: > "$DIR/mlpc.txt"; : > "$DIR/pandas.txt"
i=0
while [ $i -lt "$REPS" ]; do
  "$DIR/series_mlpc" "$ROWS" "$GROUPS" >> "$DIR/mlpc.txt"
  "$PY" bench/series/series_pandas.py "$ROWS" "$GROUPS" >> "$DIR/pandas.txt"
  i=$((i + 1))
done
for who in mlpc pandas; do
  f="$DIR/$who.txt"
  echo "$who $(awk '{print $2}' "$f" | median) $(awk '{print $2}' "$f" | sort -g | head -1)" \
    "$(awk '{print $2}' "$f" | sort -g | tail -1) $(awk '{print $3}' "$f" | median)" \
    "$(awk '{print $3 - $4}' "$f" | median) $(awk 'NR == 1 {print $5}' "$f")"
done | awk -v rows="$ROWS" -v groups="$GROUPS" -v reps="$REPS" '
  { name[NR] = $1; med[NR] = $2; lo[NR] = $3; hi[NR] = $4; rss[NR] = $5; add[NR] = $6; sum[NR] = $7 }
  END {
    printf "%d rows, %d groups; lags 1 2 3 and rolling mean + std (7 rows, lag 1) by group; %d runs\n",
           rows, groups, reps
    printf "%-7s %9s %9s %9s %12s %12s %14s\n", "", "median s", "min s", "max s", "peak RSS MB", "added MB",
           "checksum"
    for (i = 1; i <= 2; i++)
      printf "%-7s %9.4f %9.4f %9.4f %12.1f %12.1f %14s\n", name[i], med[i], lo[i], hi[i], rss[i] / 1024,
             add[i] / 1024, sum[i]
    printf "speed-up (pandas / mlpc): median %.1fx, range %.1fx to %.1fx\n", med[2] / med[1], lo[2] / hi[1],
           hi[2] / lo[1]
    printf "memory added by the steps (mlpc / pandas): %.2f; peak RSS: %.2f\n", add[1] / add[2],
           rss[1] / rss[2]
  }'
