#!/usr/bin/env bash
# Where the browser library's bytes go: builds the release wasm, runs wasm-bindgen (keeping
# names) and wasm-opt -Oz, prints `twiggy top`, and the production size the way
# scripts/size.sh counts it (stripped wasm + JS glue, each gzip -9).
#
#   scripts/size-report.sh [ROWS] [BUDGET_BYTES]
#
# With BUDGET_BYTES, exits 1 when the production size is above it (a size regression check).
# Needs the tools `make pkg` installs (wasm-bindgen, wasm-opt, twiggy under $TOOLS_DIR).
set -euo pipefail
rows=${1:-25}
budget=${2:-}
tools=${TOOLS_DIR:-$HOME/.cache/pwa-billing}
export PATH=$tools/node_modules/.bin:$tools/bin:$HOME/.cargo/bin:$PATH
cd "$(dirname "$0")/.."
target=$(cargo metadata --format-version 1 --no-deps | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build --quiet --release --lib --target wasm32-unknown-unknown
wasm-bindgen --target web --keep-debug --out-dir "$out" \
  "$target/wasm32-unknown-unknown/release/pwa_billing.wasm"
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
wasm-opt -Oz -g "${features[@]}" "$out/pwa_billing_bg.wasm" -o "$out/named.wasm"
wasm-opt -Oz --converge --low-memory-unused --strip-debug "${features[@]}" \
  "$out/pwa_billing_bg.wasm" -o "$out/prod.wasm"

twiggy top -n "$rows" "$out/named.wasm"
wasm=$(gzip -9 -c "$out/prod.wasm" | wc -c)
js=$(gzip -9 -c "$out/pwa_billing.js" | wc -c)
total=$((wasm + js))
echo "production size (gzip -9): wasm $wasm B + js $js B = $total B"
if [[ -n $budget && $total -gt $budget ]]; then
  echo "over the budget of $budget B" >&2
  exit 1
fi
