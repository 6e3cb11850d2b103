#!/bin/sh
# Regenerate the reference tables of SPEC.md (the region between the
# GENERATED REGISTRY TABLES markers) from the builtin registry.
#
#   scripts/spec-tables.sh [MLPC]      MLPC defaults to build/mlpc
set -eu
mlpc=${1:-build/mlpc}
tables=$(mktemp)
trap 'rm -f "$tables" SPEC.md.tmp' EXIT
"$mlpc" help --spec > "$tables"
awk -v tables="$tables" '
  /<!-- END GENERATED REGISTRY TABLES -->/ { skip = 0 }
  !skip { print }
  /<!-- BEGIN GENERATED REGISTRY TABLES -->/ {
    while ((getline line < tables) > 0) print line
    skip = 1
  }' SPEC.md > SPEC.md.tmp
mv SPEC.md.tmp SPEC.md
