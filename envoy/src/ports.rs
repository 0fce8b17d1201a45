//! What the filter asks of its host, as a trait: the proxy-wasm ABI in the module Envoy
//! loads (`glue`), a mock in the native unit tests. Every call returns the host's status
//! instead of trapping; the modules decide what a failure means.

use crate::config::Url;

/// Why a shared-data write did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetShared {
    /// Another worker wrote the key since it was read: read again and retry.
    CasMismatch,
    /// Any other host status.
    Failed(u32),
}

/// The host calls the filter makes. Stream calls (`send_response`, `set_header`,
/// `set_property`, `property`, `resume`) act on the current (effective) stream.
pub trait Host {
    /// Milliseconds since the epoch (0 if the host cannot say).
    fn now_ms(&self) -> u64;
    /// A shared-data value and its CAS; `Err` (the status) when the host cannot read it.
    fn get_shared(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), u32>;
    /// Writes a shared-data value if its CAS is still `cas` (an absent key is created, and
    /// a concurrent creation by another worker makes this one fail).
    fn set_shared(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SetShared>;
    /// Starts a GET of `url` on `cluster`; the answer comes back with the returned token.
    fn dispatch_get(&self, cluster: &str, url: &Url, timeout_ms: u64) -> Result<u32, u32>;
    /// Makes stream `ctx` the current one (false: it is gone).
    fn set_effective_context(&self, ctx: u32) -> bool;
    /// Resumes the current (paused) request.
    fn resume(&self) -> Result<(), u32>;
    /// Answers the current stream locally.
    fn send_response(&self, status: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<(), u32>;
    /// Sets (`Some`) or removes (`None`) a request header of the current stream.
    fn set_header(&self, name: &str, value: Option<&str>) -> Result<(), u32>;
    /// Sets a filter-state property of the current stream.
    fn set_property(&self, name: &str, value: &[u8]) -> Result<(), u32>;
    /// Reads a property of the current stream (path segments separated by NUL).
    fn property(&self, path: &[u8]) -> Option<Vec<u8>>;
    fn set_tick_ms(&self, ms: u64) -> Result<(), u32>;
    /// Defines (or finds) a counter.
    fn define_counter(&self, name: &str) -> Result<u32, u32>;
    fn increment_counter(&self, id: u32, by: i64) -> Result<(), u32>;
    /// Calls a host foreign function (Envoy's `verify_signature`).
    fn call_foreign(&self, name: &str, args: &[u8]) -> Result<Vec<u8>, u32>;
}

/// A string property; `None` when absent, empty or not UTF-8.
pub fn property_string(host: &impl Host, path: &[u8]) -> Option<String> {
    host.property(path)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty())
}

/// A bool property (Envoy serializes a bool as one byte); false when absent.
pub fn property_bool(host: &impl Host, path: &[u8]) -> bool {
    host.property(path)
        .is_some_and(|b| b.first().is_some_and(|v| *v != 0))
}
