#!/bin/sh
# Optimizer update throughput: the runtime's SGD, Adam, AdamW, RMSprop and
# global-norm clipping (bench/optim.c) against torch.optim (bench/optim_torch.py)
# on the same 10M-parameter float32 slab, both on one thread; prints
# nanoseconds per parameter (medians of 9 steps). Needs build/libmlprt.a
# (make) and, for the comparison, python3-torch.
set -eu
BUILD=${BUILD:-build}
make -s "$BUILD/libmlprt.a"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
BLAS_LIBS=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
# shellcheck disable=SC2086
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Iinclude -o "$dir/optim" bench/optim.c "$BUILD/libmlprt.a" \
  $BLAS_LIBS -lcjson -lz -lm -lpthread
"$dir/optim"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  /usr/bin/python3 bench/optim_torch.py
else
  echo "torch: skipped (python3-torch not installed)"
fi
