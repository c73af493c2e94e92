#!/usr/bin/env bash
# Where the browser library's bytes go: builds the release wasm, runs wasm-bindgen (keeping
# names) and wasm-opt -Oz, prints `twiggy top`, the code bytes of each designated crate (and
# of float formatting, which serde's error messages pulled in before the serde-wasm-bindgen
# patch of vendor/serde-wasm-bindgen: a line for it means it is back), and the production size the
# way scripts/size.sh counts it (stripped wasm + JS glue after scripts/pkg-minify.mjs, each gzip -9).
#
#   scripts/size-report.sh [ROWS] [BUDGET_BYTES]
#
# ROWS 0 prints only the per-crate table and the size (what `make bench` shows).
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
wasm-opt -Oz --converge --low-memory-unused --strip-debug --strip-producers --strip-target-features \
  "${features[@]}" \
  "$out/pwa_billing_bg.wasm" -o "$out/prod.wasm"

if [[ $rows -gt 0 ]]; then
  twiggy top -n "$rows" "$out/named.wasm"
fi

# Every item, attributed to the first crate its name mentions (generic code counts for the
# crate whose impl it is; code inlined into the library's own functions counts for those).
echo
echo "code bytes by crate (raw, before gzip; twiggy, first match wins):"
twiggy top -n 1000000 "$out/named.wasm" | awk -F'┊' '
  NF >= 3 && $1 ~ /[0-9]/ {
    bytes = $1 + 0; item = $3
    if (item ~ /"function names"|"data names"|\.\.\. and|Σ/) next
    if (item ~ /flt2dec|bignum|dragon|grisu|f64 as core.*fmt|f32 as core.*fmt/) group = "float formatting (core::fmt)"
    else if (item ~ /gloo_net|gloo_utils/) group = "gloo-net"
    else if (item ~ /serde_wasm_bindgen/) group = "serde-wasm-bindgen"
    else if (item ~ /web_sys/) group = "web-sys"
    else if (item ~ /serde/) group = "serde (derives, de::Error)"
    else if (item ~ /wasm_bindgen_futures|js_sys::futures/) group = "wasm-bindgen-futures"
    else if (item ~ /js_sys/) group = "js-sys"
    else if (item ~ /wasm_bindgen|externref|__wbindgen/) group = "wasm-bindgen"
    else if (item ~ /pwa_billing/) group = "pwa-billing (with what it inlines)"
    else if (item ~ /talc/) group = "talc (allocator)"
    else if (item ~ /data segment/) group = "data segments (strings, tables)"
    else if (item ~ /core|alloc|std/) group = "core, alloc (fmt, str, panics)"
    else group = "other"
    sum[group] += bytes; total += bytes
  }
  END {
    for (group in sum) printf "%8d B  %5.1f%%  %s\n", sum[group], 100 * sum[group] / total, group | "sort -rn"
    close("sort -rn")
    printf "%8d B          total\n", total
  }'
# The package's post-processing (short import names, minified glue), as `make pkg` does it.
mv "$out/prod.wasm" "$out/pwa_billing_bg.wasm"
node scripts/pkg-minify.mjs "$out" > /dev/null
wasm=$(gzip -9 -c "$out/pwa_billing_bg.wasm" | wc -c)
js=$(gzip -9 -c "$out/pwa_billing.js" | wc -c)
total=$((wasm + js))
echo "production size (gzip -9): wasm $wasm B + js $js B = $total B"
if [[ -n $budget && $total -gt $budget ]]; then
  echo "over the budget of $budget B" >&2
  exit 1
fi
