#!/bin/sh
# Build DIR/libdata.a: the data-step sources (runtime/data, runtime/core)
# alone, for the benchmark drivers that call them, so a benchmark does not
# depend on the rest of the runtime building; as with libmlprt.a, only the
# objects a driver calls are linked (OpenBLAS, which the data steps do not
# use, would otherwise start its spinning threads).
#
#   sh bench/libdata.sh DIR        (from the repository root; CC as set)
set -eu
DIR=$1
CC=${CC:-cc}
mkdir -p "$DIR/obj"
rm -f "$DIR/obj/"*.o "$DIR/libdata.a"
for src in runtime/data/*.c runtime/core/*.c; do
  $CC -std=c11 -O3 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -I. \
    $(pkg-config --cflags openblas 2>/dev/null) -c -o "$DIR/obj/$(basename "$src" .c).o" "$src"
done
ar rcs "$DIR/libdata.a" "$DIR/obj/"*.o
