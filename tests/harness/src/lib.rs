//! An in-process proxy-wasm ABI v0.2.1 host on wasmtime, for testing Envoy wasm filters built
//! with the proxy-wasm Rust SDK (0.2.x) for wasm32-wasip1.
//!
//! It runs the compiled `.wasm` the way Envoy does — several worker VMs of one module, each
//! with its own root context, sharing shared data, queues and metrics — and lets a test drive
//! every callback and see every host call: requests and their local responses, HTTP callouts
//! (answer, fail, time out), a controllable clock and ticks, logs, metrics, properties.
//! A guest trap comes back as [`Error::Trap`] with the wasm backtrace and the last logs.
//!
//! ```no_run
//! use std::time::Duration;
//! use jwtgate_harness::{guest::guest, Action, Host, StreamState};
//!
//! # fn main() -> Result<(), jwtgate_harness::Error> {
//! let mut host = Host::new(guest("jwtgate-harness-fixture"))
//!     .workers(2)
//!     .configure("tick_ms=1000")?;
//! assert!(host.configured());
//!
//! // A request that makes the filter call out, pause, and resume on the answer.
//! let out = host.worker(0).request(&[(":path", "/"), ("x-op", "callout")])?;
//! assert_eq!(out.action, Action::Pause);
//! let call = host.pending_callouts().remove(0);
//! host.answer_callout(call.id, 200, &[], b"hello")?;
//! assert_eq!(host.stream(out.stream)?.state, StreamState::Flowing);
//! host.finish(out.stream)?;
//!
//! // Time passes: every worker ticks once a second.
//! host.advance(Duration::from_secs(3))?;
//! # Ok(()) }
//! ```
//!
//! See `tests/README.md` in the repository for the whole tour.

#![warn(missing_docs)]

pub mod abi;
mod error;
pub mod fuzz;
pub mod guest;
mod host;
mod imports;
mod state;

pub use abi::{Action, Headers, LogLevel, MetricKind, Status};
pub use error::Error;
pub use host::{Host, HostBuilder, Outcome, WorkerRef};
pub use state::{
    header_value, Callout, LocalResponse, LogEntry, Metric, Stream, StreamId, StreamState,
};
