#!/usr/bin/env bash
# Prints the npm package's production size: the wasm and its JS glue, each gzip -9, summed.
set -euo pipefail
dir=${1:-pkg}
wasm=$(gzip -9 -c "$dir/pwa_billing_bg.wasm" | wc -c)
js=$(gzip -9 -c "$dir/pwa_billing.js" | wc -c)
raw=$(wc -c < "$dir/pwa_billing_bg.wasm")
printf 'pwa-billing production size (gzip -9): wasm %d B (raw %d B) + js %d B = %d B (%.1f KB)\n' \
  "$wasm" "$raw" "$js" "$((wasm + js))" "$(echo "($wasm + $js) / 1024" | bc -l)"
