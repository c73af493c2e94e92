# pwa-billing: every task a contributor needs. Each target installs what it needs first
# (scripts/install-tools.sh skips what is already there at the right version).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
TOOLS_DIR ?= $(HOME)/.cache/pwa-billing
export TOOLS_DIR
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(TOOLS_DIR)/bin:$(HOME)/.cargo/bin:$(PATH)
PORT ?= 8080
DATA_DIR ?= .demo-data
WASM_PACK := wasm-pack
INSTALL := scripts/install-tools.sh

.PHONY: demo test pkg fmt lint bench size-report install clean reliability \
        test-rust test-wasm test-postgres test-e2e test-reliability tools-wasm tools-browser tools-postgres tools-node \
        tools-schemathesis

## The two commands ---------------------------------------------------------------------

# The sandbox: demo PWA + verification API + embedded Play emulator on http://127.0.0.1:$(PORT)
demo: pkg
	cargo run --profile server -p pwa-billing-server --bin pwa-billing -- sandbox --port $(PORT) --data-dir $(DATA_DIR)

# Every test suite.
test: test-rust test-wasm test-postgres test-e2e test-reliability
	@echo "make test: every suite passed"

## Parts -------------------------------------------------------------------------------

# The npm package in pkg/ (target web), pkg.json merged in, import names and glue minified
# (scripts/pkg-minify.mjs), production size printed.
pkg: tools-wasm tools-node
	$(WASM_PACK) build --mode no-install --release --target web --out-dir pkg --out-name pwa_billing
	node scripts/pkg-minify.mjs pkg
	node scripts/package-json.mjs pkg.json pkg/package.json
	scripts/size.sh pkg

# Native tests of the whole workspace (library logic, emulator, server on SQLite).
test-rust: tools-node
	cargo test --workspace --locked

# The browser library in headless Chromium (wasm-bindgen-test through ChromeDriver).
test-wasm: tools-wasm tools-browser
	$(WASM_PACK) test --mode no-install --headless --chrome

# The server's integration suite again, on a throwaway local PostgreSQL cluster.
test-postgres: tools-postgres tools-node
	scripts/with-postgres.sh cargo test --locked -p pwa-billing-server

# The demo in headless Chromium against `pwa-billing sandbox`, the sandbox script against
# `play-emulator`, the npm consumer check (Vite + tsc --strict) and the Bubblewrap check.
test-e2e: pkg tools-browser tools-node
	cargo build --locked -p pwa-billing-server -p play-emulator --features play-emulator/contract
	npm run --silent test:e2e

# The reliability and security suite: pwa-billing and play-emulator as processes under
# SIGKILLs, forged pushes, replayed tokens and log inspection (SQLite, then PostgreSQL with
# two replicas); prints one table, fails on any miss. test-reliability is its short form
# (part of `make test`: same checks, fewer iterations, no timing asserted).
RELIABILITY := cargo build --locked -p pwa-billing-server -p play-emulator -p pwa-billing-reliability && \
	scripts/with-postgres.sh target/debug/pwa-billing-reliability --bin-dir target/debug \
	--schemathesis $(TOOLS_DIR)/schemathesis/bin/schemathesis
reliability: tools-postgres tools-schemathesis tools-node
	$(RELIABILITY)
test-reliability: tools-postgres tools-schemathesis tools-node
	$(RELIABILITY) --short

# Speed, size and memory targets: the npm package's gzip budget and what each crate costs in
# it, then the server under load on SQLite and on PostgreSQL (pwa-billing-bench prints each
# figure, its target and its ratio to the /healthz floor of the same run, against pwa-billing serve
# and play-emulator as two processes so that the server's RSS and CPU are its own, and fails on a
# miss), the quota burst and the operator console on 1,000,000 purchases (both databases), then the import of a 100,000-row sales report (rows per second against its target),
# then a 5,000-payment external transactions backlog at Google's 1,200 a minute (about 4.5 min),
# then `pwa-billing catalog apply` of 10,000 products (calls against the minimum, and time).
# The quota burst (docs/quota.md, about 4.5 min) runs after the SQLite figures.
# The package's wasm compile + instantiate time (median of 20, Chromium with the CPU 4x
# throttled) is printed after its size.
SIZE_BUDGET ?= 46080
bench: pkg tools-postgres tools-browser tools-node
	@$(INSTALL) twiggy
	status=0; \
	scripts/size.sh pkg $(SIZE_BUDGET) || status=1; \
	scripts/size-report.sh 0 || status=1; \
	node scripts/wasm-startup.mjs pkg 20 || status=1; \
	cargo build --profile server --locked -p pwa-billing-server -p play-emulator -p pwa-billing-bench; \
	target/server/pwa-billing-bench target/server/pwa-billing || status=1; \
	target/server/pwa-billing-bench --quota-burst target/server/pwa-billing || status=1; \
	scripts/with-postgres.sh sh -c 'target/server/pwa-billing-bench target/server/pwa-billing --database-url "$$PWA_BILLING_TEST_DATABASE_URL"' || status=1; \
	target/server/pwa-billing-bench target/server/pwa-billing --console || status=1; \
	scripts/with-postgres.sh sh -c 'target/server/pwa-billing-bench target/server/pwa-billing --console --database-url "$$PWA_BILLING_TEST_DATABASE_URL"' || status=1; \
	cargo test --profile server --locked -p pwa-billing-server --test it -- --ignored --nocapture reports::bench_ || status=1; \
	cargo test --locked -p pwa-billing-server --test it -- --ignored --nocapture external_transactions::bench_ || status=1; \
	cargo test --profile server --locked -p pwa-billing-server --test it catalog::ten_thousand -- --nocapture 2>&1 \
		| grep -E '^catalog apply|test result: ok' || status=1; \
	exit $$status

# Where the wasm's bytes go (twiggy top over a names-kept build).
size-report: tools-wasm tools-node
	@$(INSTALL) twiggy
	scripts/size-report.sh

fmt:
	cargo fmt --all

lint: tools-wasm
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy --lib --tests --target wasm32-unknown-unknown --locked -- -D warnings

## Installation ------------------------------------------------------------------------

install: tools-wasm tools-browser tools-postgres tools-node tools-schemathesis
tools-wasm: ; @$(INSTALL) wasm
tools-browser: ; @$(INSTALL) browser
tools-postgres: ; @$(INSTALL) postgres
tools-node: ; @$(INSTALL) node
tools-schemathesis: ; @$(INSTALL) schemathesis

clean:
	cargo clean
	rm -rf pkg node_modules test-results $(DATA_DIR)
