# jwtgate: one entry point for set-up, tests, demo and benchmarks.
# Every target installs what it needs, idempotently and fast when already present.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
NO_STD_TARGETS := thumbv7em-none-eabi wasm32-unknown-unknown wasm32-wasip1
# Tools that `cargo install` puts in CARGO_HOME (cargo-deny, cargo-fuzz, wasm-bindgen) are
# found wherever CARGO_HOME points, as on a fresh machine or in CI.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
# The Envoy module's bytes must not depend on where CARGO_HOME is (panic locations in
# dependencies carry their source path), or its sha256 changes from machine to machine and
# an Istio WasmPlugin pin cannot be checked against a rebuild. envoy/scripts/build.sh sets
# the same value when run on its own, so both builds share one fingerprint.
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS := --remap-path-prefix=$(or $(CARGO_HOME),$(HOME)/.cargo)=/cargo

.PHONY: all test check demo bench soak fuzz setup-rust lint check-no-std test-core test-wasm-rsa test-vectors \
        test-harness test-envoy test-idp test-soak test-js test-fuzz vectors deny audit envoy-module

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

# The inner loop (a few minutes): formatting, lints, the core's and the Envoy filter's
# native tests, the corpus. `make test` runs everything.
check: lint test-vectors
	$(CARGO) test -p jwtgate
	$(CARGO) test -p jwtgate-envoy
	@echo "make check: passed"

# The shipped Envoy module, built once: target/envoy/jwtgate_envoy.wasm. The harness,
# real-Envoy, hostile-IdP and soak suites all run this file.
ENVOY_WASM := $(CURDIR)/target/envoy/jwtgate_envoy.wasm
envoy-module: setup-rust
	bash envoy/scripts/build.sh

# Every test; the README and .ci/run call exactly this. The stages run one after another,
# each printing when it started and how long it took, so a CI log that ends early still
# says where the time went. Each stage takes 0-4 minutes on a 2-core machine (lint, which
# builds everything first, the longest); one that runs past STAGE_SECONDS has hung, and
# fails naming itself rather than running into CI's limit.
TEST_STAGES := lint deny check-no-std test-core test-wasm-rsa test-vectors test-harness test-fuzz \
               test-envoy test-idp test-soak test-js package oci-test
STAGE_SECONDS ?= 1500
test:
	@t0=$$SECONDS; for s in $(TEST_STAGES); do \
	  t=$$SECONDS; echo "== make $$s (started $$(date -u +%T), $$((t - t0)) s in)"; \
	  timeout --kill-after=30 $(STAGE_SECONDS) $(MAKE) --no-print-directory $$s || { \
	    rc=$$?; [[ $$rc -eq 124 || $$rc -eq 137 ]] && echo "make test: $$s did not finish within $(STAGE_SECONDS) s" >&2; \
	    echo "make test: $$s failed after $$((SECONDS - t)) s" >&2; exit 1; }; \
	  echo "== make $$s: passed in $$((SECONDS - t)) s"; \
	done; \
	echo "make test: every suite passed in $$((SECONDS - t0)) s"

lint: setup-rust
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy -p jwtgate -p jwtgate-harness -p jwtgate-vectors-gen --all-targets -- -D warnings
	$(CARGO) clippy -p jwtgate --lib --tests --no-default-features --features pss,ecdsa,eddsa,ecdsa-compact -- -D warnings
	$(CARGO) clippy -p jwtgate --features bench-internals --all-targets -- -D warnings
	$(CARGO) clippy -p jwtgate-envoy --target wasm32-wasip1 -- -D warnings
	$(CARGO) clippy -p jwtgate-envoy --features migrate --all-targets -- -D warnings
	$(CARGO) clippy -p jwtgate-js --target wasm32-unknown-unknown -- -D warnings

# The core must build with no std at all, and for both wasm targets.
check-no-std: setup-rust
	for t in $(NO_STD_TARGETS); do $(CARGO) build -p jwtgate --release --target $$t; done

# Unit tests, RSA (Wycheproof + differential), hostile inputs, the shared vectors.
# Also the npm package's feature set (the compact ECDSA verifier) and the RS-only build.
test-core: setup-rust
	$(CARGO) test -p jwtgate
	$(CARGO) test -p jwtgate --lib --no-default-features --features pss,ecdsa,eddsa,ecdsa-compact
	$(CARGO) test -p jwtgate --lib --no-default-features

# The RSA unit tests (Wycheproof, differential) as wasm32-wasip1 with the simd128 engine, in Node's WASI.
test-wasm-rsa: setup-rust
	$(MAKE) -C bench test-wasm

# The committed corpus is exactly what the generator produces.
test-vectors:
	$(CARGO) run -q -p jwtgate-vectors-gen --release -- --check

vectors:
	$(CARGO) run -q -p jwtgate-vectors-gen --release

# The filter in the wasmtime proxy-wasm host (builds the guest itself).
# (The filter's native unit tests run in test-envoy.) The test fixture is built here, into
# the one target directory, so it shares the release wasm32-wasip1 dependencies with the
# Envoy module instead of compiling them again under target/wasm-guests.
test-harness: envoy-module
	$(CARGO) build --release --target wasm32-wasip1 -p jwtgate-harness-fixture
	JWTGATE_ENVOY_WASM=$(ENVOY_WASM) JWTGATE_WASM_DIR=$(CURDIR)/target JWTGATE_HARNESS_NO_BUILD=1 \
	  $(CARGO) test -p jwtgate-harness

# A short run of every fuzz target: a fixed seed and a fixed number of inputs, so the work
# does not depend on the machine's speed; `make fuzz` is the long, random one.
test-fuzz:
	fuzz/run.sh --fixed

fuzz:
	fuzz/run.sh 600

# The filter in real Envoy 1.40 (V8) with a local IdP on loopback.
test-envoy: envoy-module
	envoy/scripts/test.sh

# Hostile IdP scenarios against real Envoy: outages, stalls, garbage, redirects, rotation.
test-idp: envoy-module
	tests/idp_hostile/run.sh

# A short soak (20,000 requests through real Envoy); `make soak` sends a million.
test-soak: envoy-module
	tests/soak/soak.sh --quick

soak: setup-rust
	tests/soak/soak.sh

# The npm package in Node, Deno, Bun, workerd and headless Chromium.
test-js: setup-rust
	wasm-js/scripts/test.sh

# The published crates: the key files jwtgate's tests carry (filter/tests/data) equal the
# shared ones; both crates ship LICENSE and README.md; cargo's publish dry-run of both (needs
# the crates.io index, fails without it); then the packed jwtgate crate's own tests, built
# from the .crate alone with the workspace's Cargo.lock (and toolchain) so the versions are
# the tested ones. --allow-dirty: this checks what would be packed, uncommitted edits
# included, not the git state. The --config lines repeat the workspace's profile for the
# test-only RSA reference, which a packed crate does not carry (and so the shared target
# dir's builds are reused).
PACKAGE_TARGET_DIR = $(abspath $(or $(CARGO_TARGET_DIR),$(CURDIR)/target))
package: setup-rust
	@for f in filter/tests/data/*; do \
	  k="tests/vectors/keys/$${f##*/}"; \
	  [[ ! -f "$$k" ]] || cmp -s "$$f" "$$k" || { echo "$$f differs from $$k (copy it)" >&2; exit 1; }; \
	done
	@for p in jwtgate jwtgate-envoy; do \
	  files="$$($(CARGO) package --list --allow-dirty -p $$p)"; \
	  for f in LICENSE README.md; do \
	    grep -qx "$$f" <<<"$$files" || { echo "the $$p crate does not ship $$f" >&2; exit 1; }; \
	  done; \
	done
# cargo verifies jwtgate-envoy against the packed jwtgate through a local registry, which it
# extracts under $CARGO_HOME/registry/src/-<hash>/ and reuses on the next run as if a version
# never changed (a stale jwtgate there broke CI). Only file registries' directories start
# with "-"; crates.io's are untouched.
	rm -rf "$${CARGO_HOME:-$$HOME/.cargo}"/registry/src/-*/jwtgate-[0-9]* \
	  "$${CARGO_HOME:-$$HOME/.cargo}"/registry/src/-*/jwtgate-envoy-[0-9]*
	$(CARGO) publish --dry-run --allow-dirty -p jwtgate -p jwtgate-envoy
	$(CARGO) package -p jwtgate --allow-dirty --no-verify
	@ver="$$(sed -n 's/^version = "\(.*\)"$$/\1/p' filter/Cargo.toml | head -n1)"; \
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	tar -xzf "$(PACKAGE_TARGET_DIR)/package/jwtgate-$$ver.crate" -C "$$tmp"; \
	cp Cargo.lock "$$tmp/jwtgate-$$ver/"; \
	if [[ -f rust-toolchain.toml ]]; then cp rust-toolchain.toml "$$tmp/jwtgate-$$ver/"; fi; \
	cd "$$tmp/jwtgate-$$ver"; \
	$(CARGO) fetch; \
	echo "testing the unpacked crate jwtgate-$$ver in $$tmp"; \
	CARGO_TARGET_DIR="$(PACKAGE_TARGET_DIR)" $(CARGO) test --offline \
	  --config 'profile.dev.package.rsa.opt-level=3' \
	  --config 'profile.dev.package.num-bigint-dig.opt-level=3'

# The Envoy module as an OCI image layout Istio's WasmPlugin accepts (no Docker, no registry).
oci: envoy-module
	python3 envoy/scripts/oci.py --wasm $(ENVOY_WASM)

# Reads the layout `make oci` wrote the way Istio's image fetcher does, and rebuilds it twice
# to check it is reproducible.
oci-test: oci
	python3 examples/istio/test_image.py target/oci/jwtgate-envoy $(ENVOY_WASM)

.PHONY: package oci oci-test

# Licenses, banned crates and sources (offline). Advisories need the RustSec database: `make audit`.
# `cargo fetch` first: with no --target it downloads the crates of every platform (wasi,
# mach2, ...), which the offline check reads but no build on this machine needs.
deny:
	@command -v cargo-deny >/dev/null || $(CARGO) install cargo-deny --locked
	$(CARGO) fetch --locked
	$(CARGO) deny --offline check licenses bans sources

audit:
	@command -v cargo-deny >/dev/null || $(CARGO) install cargo-deny --locked
	$(CARGO) deny check advisories

## ---- demo and benchmarks --------------------------------------------------

demo: setup-rust
	envoy/scripts/demo.sh

# First the per-runtime table (jwtgate against jose, fast-jwt, hono, @tsndr/cloudflare-worker-jwt
# and bare crypto.subtle.verify in Node, Bun, Deno, workerd and Chromium, a few minutes; writes
# bench/runtimes/RESULTS.md), then the core, Node and Envoy benchmarks.
bench: setup-rust
	bench/runtimes/run.sh
	$(MAKE) -C bench all
	wasm-js/scripts/bench.sh
	envoy/scripts/bench.sh
