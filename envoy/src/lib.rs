//! # jwtgate-envoy
//!
//! jwtgate as an Envoy HTTP filter (proxy-wasm ABI 0.2.1, built for `wasm32-wasip1`):
//! a replacement for `envoy.filters.http.jwt_authn` with the core's strict verdicts,
//! JWKS fetched once and shared by every worker, refetch on unknown `kid`, OIDC
//! discovery and `Cache-Control`-driven refresh. See `envoy/README.md` for the
//! configuration reference.
//!
//! Everything but `glue` and `host` is plain Rust, unit-tested natively: the modules that
//! need the host (`worker`, `fetch`, `apply`, `metrics`) reach it through the
//! [`ports::Host`] trait, mocked in the tests. `glue` (wasm only) forwards proxy-wasm
//! callbacks to a [`worker::Worker`]; `host` implements the trait with the ABI.

pub mod apply;
pub mod config;
pub mod extract;
pub mod fetch;
pub mod gate;
pub mod keys;
pub mod metrics;
#[cfg(feature = "migrate")]
pub mod migrate;
pub mod native;
pub mod ports;
pub mod respond;
pub mod rules;
pub mod waiters;
pub mod wire;
pub mod worker;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod scenarios;

#[cfg(target_arch = "wasm32")]
mod glue;
#[cfg(target_arch = "wasm32")]
mod host;
