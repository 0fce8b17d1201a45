# jwtgate: one entry point for set-up, tests, demo and benchmarks.
# Every target installs what it needs, idempotently and fast when already present.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
NO_STD_TARGETS := thumbv7em-none-eabi wasm32-unknown-unknown wasm32-wasip1

.PHONY: all test demo bench setup-rust test-core check-no-std lint vectors

all: test

## ---- set-up ---------------------------------------------------------------

setup-rust:
	@installed="$$(rustup target list --installed)"; \
	for t in $(NO_STD_TARGETS); do \
	  grep -qx "$$t" <<<"$$installed" || rustup target add "$$t"; \
	done
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy

## ---- tests ----------------------------------------------------------------

# Every test; the README and .ci/run call exactly this.
test: lint check-no-std test-core
	@echo "make test: all suites passed"

lint: setup-rust
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p jwtgate --all-targets -- -D warnings

# The core must build with no std at all, and for both wasm targets.
check-no-std: setup-rust
	for t in $(NO_STD_TARGETS); do $(CARGO) build -p jwtgate --release --target $$t; done

test-core: setup-rust
	$(CARGO) test -p jwtgate

## ---- demo -----------------------------------------------------------------

demo: setup-rust
	$(CARGO) run -p jwtgate --release --example demo
