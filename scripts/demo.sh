#!/bin/sh
# The end-to-end demo: check every example and show one in canonical layout.
set -eu
MLPC=${1:-build/mlpc}
echo "== mlpc check examples/*.mlp"
"$MLPC" check examples/*.mlp
echo "all examples check clean"
echo
echo "== mlpc fmt examples/iris.mlp"
"$MLPC" fmt examples/iris.mlp
echo
echo "== mlpc help adam"
"$MLPC" help adam
