#!/bin/sh
# Install the Debian 12 packages mlpc needs to build, test and benchmark.
# Idempotent: only missing packages are installed. Works as root or via sudo.
#
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --peers  also the peers the benchmarks compare with
set -eu

BUILD="build-essential make pkg-config llvm-19-dev libzstd-dev zlib1g-dev \
flex bison libopenblas-dev libcjson-dev check clang-19 libclang-rt-19-dev valgrind"
TEST="python3-numpy python3-torch dataset-fashion-mnist python3-vega-datasets"
PEERS="python3-sklearn python3-pandas python3-onnx hyperfine"

want="$BUILD $TEST"
[ "${1:-}" = "--peers" ] && want="$want $PEERS"

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: this script needs a Debian-based system with apt-get." >&2
  echo "install-deps: install these packages by other means: $want" >&2
  exit 2
fi

missing=""
for p in $want; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: missing packages:$missing" >&2
  echo "install-deps: run as root or install sudo" >&2
  exit 2
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
