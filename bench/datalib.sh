# datalib.sh — sourced by the data-step benchmarks (bench/clean, bench/series,
# bench/text), from the repository root.
#
# data_driver OUT SOURCE: compile the driver SOURCE into OUT against an
# archive of the data-step sources alone (runtime/data, runtime/core), so a
# benchmark does not depend on the rest of the runtime building; as with
# libmlprt.a, only the objects it calls are linked (OpenBLAS, which the
# data steps do not use, would otherwise start its spinning threads). The
# objects go to $DIR/obj.
#
# median: the median of the numbers on standard input, one a line.
data_driver() {
  mkdir -p "$DIR/obj"
  rm -f "$DIR/obj/"*.o "$DIR/libdata.a"
  for src in runtime/data/*.c runtime/core/*.c; do
    ${CC:-cc} -std=c11 -O3 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -I. \
      $(pkg-config --cflags openblas libpq 2>/dev/null) -c -o "$DIR/obj/$(basename "$src" .c).o" "$src"
  done
  ar rcs "$DIR/libdata.a" "$DIR/obj/"*.o
  ${CC:-cc} -std=c11 -O3 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -o "$1" "$2" "$DIR/libdata.a" \
    $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lcjson -lz -lm -lpthread
}

median() {
  sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
