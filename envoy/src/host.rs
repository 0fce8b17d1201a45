//! Host calls whose SDK wrappers would panic (trap the VM) on a status the host may
//! legitimately return, plus small conveniences. Everything here returns a `Result`.

use proxy_wasm::hostcalls;
use proxy_wasm::types::LogLevel;
use std::time::UNIX_EPOCH;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
}

/// Sets a one-segment property (Envoy stores it as filter state `wasm.<name>`). The SDK's
/// `set_property` panics on any status but `Ok`; Envoy answers `NotFound` outside a
/// stream and `BadArgument` when the value does not fit a declared type.
pub fn set_property(name: &str, value: &[u8]) -> Result<(), u32> {
    // SAFETY: both pointers come from live slices whose lengths are passed with them;
    // the host only reads them during the call.
    let status =
        unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) };
    // A raw u32, not the SDK's enum: a status outside the enum must not be undefined behaviour.
    match status {
        0 => Ok(()),
        other => Err(other),
    }
}

/// Milliseconds since the epoch, by the host's clock (0 if the host cannot say).
pub fn now_ms() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Makes the `log` macros skip formatting below the host's level.
pub fn follow_host_log_level() {
    let level = hostcalls::get_log_level().unwrap_or(LogLevel::Info);
    proxy_wasm::set_log_level(level);
}
