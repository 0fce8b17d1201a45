//! Errors of the harness. A guest trap is data here, never a panic in the test.

use std::fmt;

use crate::LogEntry;

/// What went wrong while driving a guest.
#[derive(Debug, Clone)]
pub enum Error {
    /// The module could not be read, compiled or instantiated, or lacks a required export.
    Load(String),
    /// The guest trapped (a panic in a Rust filter aborts and traps) or ran out of fuel.
    Trap {
        /// Worker (VM instance) that trapped.
        worker: usize,
        /// Which guest entry point the host was calling, e.g. `proxy_on_request_headers`.
        call: String,
        /// The trap's message (`wasm trap: wasm 'unreachable' instruction executed`, ...).
        message: String,
        /// The wasm backtrace, one frame a line, innermost first.
        backtrace: String,
        /// The last log lines of that worker before the trap (the SDK's panic hook logs the
        /// panic message at `Critical` just before aborting).
        last_logs: Vec<LogEntry>,
    },
    /// The worker trapped earlier; Envoy would have failed this VM, so it takes no more calls.
    WorkerFailed(usize),
    /// The test used the harness wrongly (unknown stream, callout already answered, ...).
    Usage(String),
}

impl Error {
    /// Whether this is a guest trap (as opposed to a misuse of the harness).
    pub fn is_trap(&self) -> bool {
        matches!(self, Error::Trap { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(m) => write!(f, "cannot load the guest: {m}"),
            Error::Trap {
                worker,
                call,
                message,
                backtrace,
                last_logs,
            } => {
                writeln!(f, "guest trapped on worker {worker} in {call}: {message}")?;
                writeln!(f, "wasm backtrace:\n{backtrace}")?;
                writeln!(f, "last logs:")?;
                for l in last_logs {
                    writeln!(f, "  [{:?}] {}", l.level, l.message)?;
                }
                Ok(())
            }
            Error::WorkerFailed(w) => write!(f, "worker {w} trapped earlier and is failed"),
            Error::Usage(m) => write!(f, "harness misuse: {m}"),
        }
    }
}

impl std::error::Error for Error {}
