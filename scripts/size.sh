#!/usr/bin/env bash
# Prints the npm package's production size: the wasm and its JS glue, each gzip -9, summed.
# With a budget in bytes (second argument), fails when the package is over it.
#   scripts/size.sh pkg [30720]
set -euo pipefail
dir=${1:-pkg}
budget=${2:-}
wasm=$(gzip -9 -c "$dir/pwa_billing_bg.wasm" | wc -c)
js=$(gzip -9 -c "$dir/pwa_billing.js" | wc -c)
raw=$(wc -c < "$dir/pwa_billing_bg.wasm")
total=$((wasm + js))
printf 'pwa-billing production size (gzip -9): wasm %d B (raw %d B) + js %d B = %d B (%s KB)\n' \
  "$wasm" "$raw" "$js" "$total" "$(awk "BEGIN { printf \"%.1f\", $total / 1024 }")"
if [ -n "$budget" ]; then
  if [ "$total" -le "$budget" ]; then
    echo "ok   within the budget of $budget B"
  else
    echo "MISS over the budget of $budget B by $((total - budget)) B"
    exit 1
  fi
fi
