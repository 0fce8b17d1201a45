//! Host calls whose SDK wrappers would panic (trap the VM) on a status the host may
//! legitimately return, plus small conveniences. Everything here returns a `Result`.

use crate::config::Url;
use crate::ports::{Host, SetShared};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{LogLevel, MapType, Status};
use std::time::{Duration, UNIX_EPOCH};

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(map_type: u32, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key: *const u8,
        key_size: usize,
        value: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key: *const u8, key_size: usize) -> u32;
    #[allow(clippy::too_many_arguments)]
    fn proxy_send_local_response(
        status_code: u32,
        details: *const u8,
        details_size: usize,
        body: *const u8,
        body_size: usize,
        headers: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name: *const u8,
        name_size: usize,
        id: *mut u32,
    ) -> u32;
    fn proxy_increment_metric(id: u32, offset: i64) -> u32;
    fn proxy_call_foreign_function(
        name: *const u8,
        name_size: usize,
        args: *const u8,
        args_size: usize,
        result: *mut *mut u8,
        result_size: *mut usize,
    ) -> u32;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *mut *mut u8,
        value_size: *mut usize,
    ) -> u32;
}

/// A property (`path` segments separated by NUL), or `None` when the host has none or
/// answers with an error. The SDK's `get_property` panics on statuses it does not expect.
pub fn property(path: &[u8]) -> Option<Vec<u8>> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the path is a live slice read during the call; the host writes a pointer from
    // our exported allocator (a buffer of exactly `size` bytes) and its size.
    let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) };
    if status != 0 || data.is_null() {
        return None;
    }
    // SAFETY: as in `header_map`: the allocation (exactly `size` bytes) is now ours.
    let bytes: Box<[u8]> = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, size)) };
    Some(bytes.into_vec())
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

/// A header map (request headers, or an HTTP call's response headers) as the host
/// serializes it, for `wire::decode_pairs` to read in place. The SDK's `get_map` copies
/// every name and value into a `String` and panics on a value that is not UTF-8, which a
/// client can send. Empty on any host error.
pub fn header_map(map: MapType) -> Box<[u8]> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a pointer it obtained from our exported allocator
    // (`proxy_on_memory_allocate`, a boxed slice of exactly `size` bytes) and its size.
    let status = unsafe { proxy_get_header_map_pairs(map as u32, &mut data, &mut size) };
    if status != 0 || data.is_null() {
        return Box::default();
    }
    // SAFETY: see above; ownership of that allocation passes to us and is freed on drop.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, size)) }
}

/// Calls a host's foreign function. The SDK's `call_foreign_function` panics on statuses it
/// does not list (an older host answers `Unimplemented`); this returns the raw status.
/// `Ok` with an empty result when the host returned nothing.
pub fn call_foreign_function(name: &str, args: &[u8]) -> Result<Vec<u8>, u32> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: pointers and lengths of live slices, read by the host during the call only;
    // the host writes a pointer from our exported allocator (a buffer of `size` bytes).
    let status = unsafe {
        proxy_call_foreign_function(
            name.as_ptr(),
            name.len(),
            args.as_ptr(),
            args.len(),
            &mut data,
            &mut size,
        )
    };
    if status != 0 {
        return Err(status);
    }
    if data.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: as in `header_map`: the allocation (exactly `size` bytes) is now ours.
    let bytes: Box<[u8]> = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, size)) };
    Ok(bytes.into_vec())
}

// The SDK's wrappers for the calls below panic (trap the VM) on any status but the few
// they expect; these return the raw status instead. Status 0 is Ok.

fn result(status: u32) -> Result<(), u32> {
    if status == 0 {
        Ok(())
    } else {
        Err(status)
    }
}

/// Sets (`Some`) or removes (`None`) a request header.
pub fn set_request_header(name: &str, value: Option<&str>) -> Result<(), u32> {
    let map = MapType::HttpRequestHeaders as u32;
    // SAFETY: pointers and lengths of live slices, read by the host during the call only.
    result(unsafe {
        match value {
            Some(v) => {
                proxy_replace_header_map_value(map, name.as_ptr(), name.len(), v.as_ptr(), v.len())
            }
            None => proxy_remove_header_map_value(map, name.as_ptr(), name.len()),
        }
    })
}

/// Answers the current stream locally.
pub fn send_local_response(status: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<(), u32> {
    let map = crate::wire::encode_pairs(headers);
    // SAFETY: pointers and lengths of live buffers, read by the host during the call only.
    result(unsafe {
        proxy_send_local_response(
            status,
            std::ptr::null(),
            0,
            body.as_ptr(),
            body.len(),
            map.as_ptr(),
            map.len(),
            -1,
        )
    })
}

/// Resumes the current (paused) request.
pub fn resume_request() -> Result<(), u32> {
    // SAFETY: no pointers.
    result(unsafe { proxy_continue_stream(0) })
}

pub fn set_tick_period_ms(ms: u64) -> Result<(), u32> {
    // SAFETY: no pointers.
    result(unsafe { proxy_set_tick_period_milliseconds(u32::try_from(ms).unwrap_or(u32::MAX)) })
}

/// Defines (or finds) a counter.
pub fn define_counter(name: &str) -> Result<u32, u32> {
    let mut id = 0u32;
    // SAFETY: a live slice and a local the host writes once.
    result(unsafe { proxy_define_metric(0, name.as_ptr(), name.len(), &mut id) }).map(|()| id)
}

pub fn increment_counter(id: u32, by: i64) -> Result<(), u32> {
    // SAFETY: no pointers.
    result(unsafe { proxy_increment_metric(id, by) })
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

/// The proxy-wasm host as the filter's [`Host`].
pub struct WasmHost;

impl Host for WasmHost {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn get_shared(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), u32> {
        hostcalls::get_shared_data(key).map_err(|e| e as u32)
    }

    fn set_shared(&self, key: &str, value: &[u8], cas: u32) -> Result<(), SetShared> {
        match hostcalls::set_shared_data(key, Some(value), Some(cas)) {
            Ok(()) => Ok(()),
            Err(Status::CasMismatch) => Err(SetShared::CasMismatch),
            Err(e) => Err(SetShared::Failed(e as u32)),
        }
    }

    fn dispatch_get(&self, cluster: &str, url: &Url, timeout_ms: u64) -> Result<u32, u32> {
        hostcalls::dispatch_http_call(
            cluster,
            vec![
                (":method", "GET"),
                (":path", &url.path),
                (":authority", &url.authority),
                (":scheme", &url.scheme),
                ("accept", "application/json"),
            ],
            None,
            vec![],
            Duration::from_millis(timeout_ms),
        )
        .map_err(|e| e as u32)
    }

    fn set_effective_context(&self, ctx: u32) -> bool {
        hostcalls::set_effective_context(ctx).is_ok()
    }

    fn resume(&self) -> Result<(), u32> {
        resume_request()
    }

    fn send_response(&self, status: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<(), u32> {
        send_local_response(status, headers, body)
    }

    fn set_header(&self, name: &str, value: Option<&str>) -> Result<(), u32> {
        set_request_header(name, value)
    }

    fn set_property(&self, name: &str, value: &[u8]) -> Result<(), u32> {
        set_property(name, value)
    }

    fn property(&self, path: &[u8]) -> Option<Vec<u8>> {
        property(path)
    }

    fn set_tick_ms(&self, ms: u64) -> Result<(), u32> {
        set_tick_period_ms(ms)
    }

    fn define_counter(&self, name: &str) -> Result<u32, u32> {
        define_counter(name)
    }

    fn increment_counter(&self, id: u32, by: i64) -> Result<(), u32> {
        increment_counter(id, by)
    }

    fn call_foreign(&self, name: &str, args: &[u8]) -> Result<Vec<u8>, u32> {
        call_foreign_function(name, args)
    }
}
