#!/bin/sh
# Install the Debian 12 packages mlpc needs to build, test and benchmark.
# Idempotent: only missing packages are installed. Works as root or via sudo.
#
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --peers  also the peers the benchmarks compare with
#
# Then ONNX Runtime for node (onnxruntime-node, which the ONNX export tests
# and the predictor benchmark run) goes into build/npm, from npm, once.
set -eu

BUILD="build-essential make pkg-config llvm-19-dev libzstd-dev zlib1g-dev \
flex bison libopenblas-dev libcjson-dev check clang-19 libclang-rt-19-dev valgrind libsodium-dev \
libsqlite3-dev libpq-dev libmicrohttpd-dev openmpi-bin libopenmpi-dev"
# The tests' oracles: a check whose oracle is missing is reported as a skip
# in check_all's summary, so a machine set up by this script skips nothing.
# python3-sklearn ships the UCI tables the CSV loader is checked against, and its
# CountVectorizer, TfidfVectorizer and HashingVectorizer are the text ops' oracle;
# python3-pandas is the time-series steps' oracle, and python3-statsmodels ships
# the Grunfeld panel that examples/data/grunfeld.csv copies; postgresql the server
# the SQL sources are checked against; tmux the terminal the training console is
# checked in; chromium renders report.html headless; zsh checks its completion.
TEST="python3-numpy python3-torch python3-onnx nodejs dataset-fashion-mnist python3-vega-datasets \
python3-sklearn python3-pandas python3-statsmodels postgresql tmux chromium zsh"
PEERS="python3-pandas python3-xgboost hyperfine"
# Cross-compiled predictors, run under qemu-user by the tests: the AArch64
# cross compiler and C library (a predictor links nothing else).
CROSS="qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross"

want="$BUILD $TEST"
# npm installs onnxruntime-node (below): Debian's npm, unless the installed
# nodejs brought its own (NodeSource's does, and conflicts with Debian's).
command -v npm >/dev/null 2>&1 || want="$want npm"
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && want="$want $CROSS"
[ "${1:-}" = "--peers" ] && want="$want $PEERS"

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: this script needs a Debian-based system with apt-get." >&2
  echo "install-deps: install these packages by other means: $want" >&2
  exit 2
fi

# Its package's install script downloads GPU libraries, which are not
# needed here: --ignore-scripts. Without npm the tests skip that part.
ort_node() {
  [ -d build/npm/node_modules/onnxruntime-node ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found; the ONNX Runtime checks will be skipped" >&2
    return 0
  fi
  npm install --ignore-scripts --no-audit --no-fund --prefix build/npm onnxruntime-node@1.30.0 >/dev/null 2>&1 ||
    echo "install-deps: npm could not install onnxruntime-node; the ONNX Runtime checks will be skipped" >&2
}

missing=""
for p in $want; do
  st=$(dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | sort -u || true)
  [ "$st" = "installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
  ort_node
  exit 0
fi

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
ort_node
