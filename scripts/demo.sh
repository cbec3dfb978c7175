#!/usr/bin/env bash
# The README's first command: set up, fetch the vocabularies, and show tokenmill's main job on a built-in
# sample: ids, a decode round trip, token counts, and speed on a few megabytes of generated text.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
TM=build/tokenmill
$TM fetch cl100k_base o200k_base 2>&1 | sed 's/^/  /'

SAMPLE=$'tokenmill encodes text exactly as tiktoken does — only faster.\nIt\'s 2026: naïve café, 東京, emoji 👋🏽, and   spaces.\n'
echo
echo "sample: $SAMPLE"
for enc in cl100k_base o200k_base; do
  ids=$(printf '%s' "$SAMPLE" | $TM encode -e "$enc")
  n=$(printf '%s' "$SAMPLE" | $TM count -e "$enc")
  back=$(printf '%s' "$ids" | $TM decode -e "$enc")
  [ "$back" == "${SAMPLE%$'\n'}" ] && rt="round trip ok" || rt="ROUND TRIP FAILED"
  echo "$enc: $n tokens, $rt"
  echo "  ids: $ids"
done

# Speed: ~20 MB of text made by repeating this repository's own sources and docs.
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
while [ "$(stat -c %s "$tmp")" -lt 20000000 ]; do cat README.md include/tokenmill/*.h src/*/*.cc >> "$tmp"; done
echo
for enc in cl100k_base o200k_base; do $TM count -e "$enc" --speed "$tmp" >/dev/null; done 2>&1 | sed "s|$tmp|sample.txt|"
