# report.sh — sourced by run.sh and boost.sh (after bench/datalib.sh):
#
# mlpc_fit T: one run of $DIR/fit.exe on T threads into $DIR/runT, its fit
# seconds (the manifest's) and test accuracy appended to $DIR/mlpcT.txt.
#
# fit_report PEER NAME ONE TWO: the table of $DIR/mlpc1.txt, $DIR/PEER1.txt,
# $DIR/mlpc2.txt and $DIR/PEER2.txt (one fit a line: seconds, test
# accuracy) with the median, fastest and slowest fit and the median
# accuracy, the peer's rows labelled ONE and TWO; then the speed-ups (the
# peer NAME's seconds / mlpc's) on 1 and 2 threads at the medians and
# between the extreme runs.
#
# predictor_latency RUN: the run directory RUN exported as a predictor
# library (--emit-obj) and bench/predict/latency.c built against it, timing
# one raw row of RUN's test rows at a time (parsing, cleaning, the model),
# the forward pass alone on one row of $DIR/features/test.csv at a time, and
# on all its rows in batches: latency.c's JSON line.
mlpc_fit() {
  rm -rf "$DIR/run$1"
  "$DIR/fit.exe" --out "$DIR/run$1" --quiet --threads "$1"
  /usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(m["jobs"][0]["fit"]["seconds"], m["metrics"]["test"]["accuracy"])' "$DIR/run$1/manifest.json" \
    >> "$DIR/mlpc$1.txt"
}

fit_report() {
  printf "%-16s %9s %9s %9s %9s\n" "" "median s" "min s" "max s" "accuracy"
  for f in mlpc1 "${1}1" mlpc2 "${1}2"; do
    case $f in
      mlpc1) who="mlpc, 1 thread" ;; mlpc2) who="mlpc, 2 threads" ;;
      "${1}1") who=$3 ;; *) who=$4 ;;
    esac
    secs() { awk '{print $1}' "$DIR/$f.txt" | sort -g; }
    printf "%-16s %9.4f %9.4f %9.4f %9.4f\n" "$who" "$(secs | median)" "$(secs | head -1)" \
      "$(secs | tail -1)" "$(awk '{print $2}' "$DIR/$f.txt" | median)"
  done
  for t in 1 2; do
    /usr/bin/python3 -c 'import statistics as st, sys
m, s = ([float(l.split()[0]) for l in open(f)] for f in sys.argv[3:5])
print("speed-up on %s thread(s) (%s / mlpc): median %.2fx, range %.2fx to %.2fx" % (
    sys.argv[1], sys.argv[2], st.median(s) / st.median(m), min(s) / max(m), max(s) / min(m)))' \
      $t "$2" "$DIR/mlpc$t.txt" "$DIR/$1$t.txt"
  done
}

predictor_latency() {
  "$MLPC" export "$1" --emit-obj -o "$DIR/lib" --force > /dev/null
  /usr/bin/python3 - "$1/test_rows.csv" y "$DIR/rows.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = [i for i, h in enumerate(rows[0]) if h != sys.argv[2]]
csv.writer(open(sys.argv[3], "w")).writerows([[r[i] for i in keep] for r in rows][:1025])
PY
  prefix=$(sed -n 's/^int \(.*\)_predict(const char.*/\1/p' "$DIR/lib.h")
  libs="build/libmlprt.a $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lcjson -lz -lm -lpthread"
  # shellcheck disable=SC2086
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -DPRED_HEADER="\"$DIR/lib.h\"" -DPRED="$prefix" \
    -o "$DIR/latency" bench/predict/latency.c "$DIR/lib.o" $libs
  "$DIR/latency" "$DIR/rows.csv" "$DIR/features/test.csv" y
}
