//! Shared by the fixture tests: the fixture filter, built once per test binary.

#![allow(dead_code)]

use std::path::PathBuf;

use jwtgate_harness::{guest, Host};

/// The fixture filter's `.wasm`, built for wasm32-wasip1 on first use.
pub fn fixture() -> PathBuf {
    guest::guest("jwtgate-harness-fixture")
}

/// One worker running the fixture with `config`.
pub fn host(config: &str) -> Host {
    Host::new(fixture())
        .configure(config)
        .expect("the fixture starts")
}
