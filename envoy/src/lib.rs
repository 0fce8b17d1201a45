//! # jwtgate-envoy
//!
//! jwtgate as an Envoy HTTP filter (proxy-wasm ABI 0.2.1, built for `wasm32-wasip1`):
//! a replacement for `envoy.filters.http.jwt_authn` with the core's strict verdicts,
//! JWKS fetched once and shared by every worker, refetch on unknown `kid`, OIDC
//! discovery and `Cache-Control`-driven refresh. See `envoy/README.md` for the
//! configuration reference.
//!
//! The modules below `glue` are plain Rust with no host calls, unit-tested natively;
//! `glue` (wasm only) translates between them and the proxy-wasm host.

pub mod config;
pub mod extract;
pub mod gate;
pub mod keys;
#[cfg(feature = "migrate")]
pub mod migrate;
pub mod native;
pub mod respond;
pub mod rules;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod glue;
#[cfg(target_arch = "wasm32")]
mod host;
