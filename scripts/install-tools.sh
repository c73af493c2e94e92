#!/usr/bin/env bash
# Installs what building and testing pwa-billing needs, skipping whatever is already there
# at the right version. Usage: scripts/install-tools.sh [wasm] [browser] [postgres] [node]
# [schemathesis] (no argument: everything). Tools go to $TOOLS_DIR (default ~/.cache/pwa-billing), outside
# the checkout so that a fresh clone (CI) reuses them; nothing is downloaded from anywhere
# but the package registries.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
TOOLS_DIR=${TOOLS_DIR:-$HOME/.cache/pwa-billing}
WASM_PACK_VERSION=0.15.1
BINARYEN_VERSION=132
TWIGGY_VERSION=0.8.0
# The wasm-bindgen CLI must match the wasm-bindgen crate exactly (pinned with `=`).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$root/Cargo.toml")
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "install-tools: no wasm-bindgen = \"=X\" pin in Cargo.toml" >&2; exit 1; }

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

cargo_tool() { # crate version binary [--locked]
  local crate=$1 version=$2 bin=$3 locked=${4:-}
  if [ -x "$TOOLS_DIR/bin/$bin" ] && "$TOOLS_DIR/bin/$bin" --version 2>/dev/null | grep -q " $version"; then
    return 0
  fi
  say "cargo install $crate $version (a few minutes, once)"
  cargo install "$crate" --version "=$version" $locked --root "$TOOLS_DIR" --quiet
}

want=${*:-wasm browser postgres node schemathesis}
for w in $want; do
  case $w in
    wasm)
      rustup target list --installed | grep -qx wasm32-unknown-unknown || { say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
      cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack --locked
      # wasm-bindgen-cli's lock file names a crate version this registry lacks: no --locked.
      cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
      if ! "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
        say "npm install binaryen@$BINARYEN_VERSION"
        npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
      fi
      ;;
    twiggy) cargo_tool twiggy "$TWIGGY_VERSION" twiggy ;;
    browser) apt_install chromium chromium-driver ;;
    postgres) apt_install postgresql ;;
    node)
      # npm ci when node_modules is missing or older than the lock file.
      if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
        say "npm ci"
        (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
      fi
      ;;
    schemathesis)
      # The reliability suite's fuzzer: a venv of the exact versions in
      # reliability/requirements.txt, redone only when that file changes.
      venv="$TOOLS_DIR/schemathesis"
      if ! cmp -s "$root/reliability/requirements.txt" "$venv/requirements.txt" || [ ! -x "$venv/bin/schemathesis" ]; then
        python=$(command -v python3.11 || command -v python3) || { echo "install-tools: schemathesis needs python3 (3.10 or later)" >&2; exit 1; }
        say "schemathesis into $venv ($("$python" --version))"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$root/reliability/requirements.txt"
        cp "$root/reliability/requirements.txt" "$venv/requirements.txt"
      fi
      ;;
    *) echo "install-tools: unknown part '$w'" >&2; exit 2 ;;
  esac
done
